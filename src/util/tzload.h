/* Loading a time zone by its IANA name from the system's zoneinfo
 * (Debian's tzdata, /usr/share/zoneinfo), for the core's struct vg_tz. */
#ifndef VG_UTIL_TZLOAD_H
#define VG_UTIL_TZLOAD_H

#include <stddef.h>

#include "core/tz.h"

#define VG_ZONEINFO_DIR "/usr/share/zoneinfo"

/* Load `name` (e.g. "Europe/Paris") from dir (NULL: VG_ZONEINFO_DIR).
 * Names are checked before any file is opened: letters, digits, '_', '-',
 * '+' and '/' only, no "..", no leading '/'. On failure returns a negative
 * vg_err and writes a readable reason to err. If the file cannot be read and
 * name is Europe/Paris, the built-in rule is used instead (returns 1 and
 * says so in err), so that the default zone always works. */
int vg_tz_load(struct vg_tz *tz, const char *dir, const char *name, char *err, size_t err_len);

#endif
