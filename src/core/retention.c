#include "core/retention.h"

#include <stddef.h>

enum vg_retention_phase vg_retention_phase(bool ended, struct vg_date ended_on,
                                           struct vg_date today, struct vg_date *next)
{
    if (!ended || vg_date_check(ended_on) != 0)
        return VG_RETAIN_LIVE; /* an unusable end keeps everything: nothing lost by mistake */
    struct vg_date archive = vg_date_add_months(ended_on, VG_RETENTION_ACTIVE_MONTHS);
    struct vg_date purge = vg_date_add_months(archive, VG_RETENTION_ARCHIVE_MONTHS);
    if (vg_date_cmp(today, archive) < 0) {
        if (next)
            *next = archive;
        return VG_RETAIN_ACTIVE;
    }
    if (vg_date_cmp(today, purge) < 0) {
        if (next)
            *next = purge;
        return VG_RETAIN_ARCHIVED;
    }
    return VG_RETAIN_DELETE;
}

const char *vg_retention_phase_name(enum vg_retention_phase p)
{
    static const char *const names[] = {"live", "active", "archived", "delete"};
    return (unsigned)p < 4 ? names[p] : NULL;
}
