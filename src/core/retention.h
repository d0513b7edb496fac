/* How long a measure's data is kept (art. R. 631-11 of the code
 * pénitentiaire): everything stays active for the whole measure; once it has
 * ended, one month more in the active base, then an intermediate archive for
 * 5 years and 11 months (access restricted: an administrator, with a reason,
 * journaled), then deletion. Months are calendar months counted from the
 * day the measure ended (UTC). Pure: the caller gives today. */
#ifndef VG_CORE_RETENTION_H
#define VG_CORE_RETENTION_H

#include <stdbool.h>

#include "core/civil.h"

#define VG_RETENTION_ACTIVE_MONTHS  1
#define VG_RETENTION_ARCHIVE_MONTHS 71 /* 5 years 11 months */

enum vg_retention_phase {
    VG_RETAIN_LIVE = 0,     /* the measure has not ended */
    VG_RETAIN_ACTIVE = 1,   /* ended less than a month ago: still in the active base */
    VG_RETAIN_ARCHIVED = 2, /* in the intermediate archive */
    VG_RETAIN_DELETE = 3,   /* past the archive: to delete */
};

/* Where a measure that ended on `ended_on` (if `ended`) stands on `today`;
 * *next (if not NULL) receives the first day of its next phase (unchanged
 * for a measure to delete or not ended). */
enum vg_retention_phase vg_retention_phase(bool ended, struct vg_date ended_on,
                                           struct vg_date today, struct vg_date *next);

/* "live", "active", "archived", "delete". */
const char *vg_retention_phase_name(enum vg_retention_phase p);

#endif
