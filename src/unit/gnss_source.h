/* Where a unit's positions come from, on a libevent loop:
 * - gpsd, through libgps (the daemon that owns the receiver on a real
 *   unit, and `gpsfake` in the tests);
 * - raw NMEA 0183 from a serial device (our parser, core/nmea.h);
 * - raw NMEA 0183 from a file, replayed at the pace of its own clock
 *   (one epoch per second of recording, or faster with a speed factor).
 * Each fix goes to a callback as a struct vg_fix (quality NONE: the
 * receiver says it has no fix). */
#ifndef VG_UNIT_GNSS_SOURCE_H
#define VG_UNIT_GNSS_SOURCE_H

#include <stdint.h>

#include <event2/event.h>

#include "core/fix.h"
#include "core/nmea.h"

enum vg_gnss_kind {
    VG_GNSS_GPSD = 1,
    VG_GNSS_NMEA_DEVICE = 2,
    VG_GNSS_NMEA_FILE = 3,
};

typedef void (*vg_gnss_fix_cb)(void *ctx, const struct vg_fix *fix);
/* The source has ended (file done, gpsd gone, device error): why. */
typedef void (*vg_gnss_end_cb)(void *ctx, const char *why);

struct vg_gnss_source {
    int kind;
    struct event_base *base;
    vg_gnss_fix_cb on_fix;
    vg_gnss_end_cb on_end;
    void *ctx;
    int fd;
    struct event *ev;
    struct event *pace; /* file replay: the next epoch's timer */
    void *gps;          /* struct gps_data_t *, gpsd only */
    struct vg_nmea nmea;
    char line[VG_NMEA_MAX_LINE + 2];
    size_t line_len;
    int line_too_long;
    /* file replay */
    double speed;       /* 1: real time */
    struct vg_fix held; /* a fix read ahead, waiting for its time */
    int has_held;
    int64_t first_fix_ms;  /* recording time of the first fix */
    int64_t start_mono_ms; /* when the replay started */
    uint64_t fixes, refused_lines;
};

/* spec: "gpsd" or "gpsd:HOST:PORT" (default 127.0.0.1:2947), or a path to
 * an NMEA device (a character device: read raw at `baud`) or file.
 * speed: file replay speed (1 = as recorded). VG_OK, or an error with err. */
int vg_gnss_open(struct vg_gnss_source *s, struct event_base *base, const char *spec, int baud,
                 double speed, vg_gnss_fix_cb on_fix, vg_gnss_end_cb on_end, void *ctx, char *err,
                 size_t errlen);
void vg_gnss_close(struct vg_gnss_source *s);

#endif
