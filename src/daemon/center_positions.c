/* Whose tracks a reader may have (center.h): a measure's units and whether
 * an incident is in progress on it, read on the loop for the HTTP thread. */
#include <stdio.h>

#include "core/err.h"
#include "daemon/center_internal.h"

int vg_center_track_subject(struct vg_center *c, int64_t measure_id,
                            struct vg_center_track_subject *out)
{
    for (struct measure *m = c->measures; m; m = m->next) {
        if (m->id != measure_id)
            continue;
        *out = (struct vg_center_track_subject){
            .author_unit_id = m->author ? m->author->id : 0,
            .protected_unit_id = m->protected_person ? m->protected_person->id : 0,
            .incident_id =
                m->has_incident && m->incident.state != VG_INCIDENT_CLOSED ? m->incident.id : 0};
        snprintf(out->measure, sizeof out->measure, "%s", m->def.name);
        return VG_OK;
    }
    return VG_ENOTFOUND;
}
