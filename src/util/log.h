/* Structured logs: one line per event, logfmt (key=value), to stderr:
 *   ts=2026-11-24T12:00:00.123Z level=warn msg="frame refused" unit=U-1 reason=oversize
 * Values with spaces or quotes are quoted and escaped. The sink and level
 * are the process's only logging globals (set once at start). */
#ifndef VG_UTIL_LOG_H
#define VG_UTIL_LOG_H

#include <stdio.h>

enum vg_log_level {
    VG_LOG_DEBUG = 0,
    VG_LOG_INFO = 1,
    VG_LOG_WARN = 2,
    VG_LOG_ERROR = 3,
};

void vg_log_set_level(enum vg_log_level level);
/* "debug", "info", "warn" or "error"; returns -1 if unknown. */
int vg_log_level_parse(const char *name);
/* Redirect the log (default stderr); the stream is borrowed. */
void vg_log_set_stream(FILE *f);

/* msg, then pairs of key and value strings, ended by NULL:
 *   vg_log(VG_LOG_INFO, "unit connected", "unit", serial, "peer", addr, NULL); */
void vg_log(enum vg_log_level level, const char *msg, ...);

#endif
