/* A unit's record and an alarm as JSON, both ways, losing nothing: what a
 * measure's export holds (docs/API.md, "Export and import"). Fixes' values
 * are doubles printed to 17 significant digits: read back, they are the
 * same numbers, and the store quantises them to the same integers.
 *
 * record: {"seq": 12, "received_ms": 1764850000123, "type": "fix",
 *          "fix": {"t_ms", "quality", "lat", "lon", "accuracy_m", "speed_mps", "heading_deg"}}
 *         "type": "status", "status": {"t_ms", "subject", "battery_pct", "charging",
 *                  "strap_closed", "skin_contact", "bracelet_link", "beacon_heard",
 *                  "beacon_range_m"}
 *         "type": "event", "event": {"t_ms", "kind"}
 * alarm:  every field of struct vg_alarm (core/alarm.h), the evidence's fixes as above. */
#ifndef VG_STORE_RECORD_JSON_H
#define VG_STORE_RECORD_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "core/alarm.h"
#include "store/store.h"

/* NULL if out of memory (or an unknown record type). */
json_t *vg_record_json(const struct vg_store_record *r);
/* 0, or a negative vg_err with a message naming the key (unit_id is left 0). */
int vg_record_from_json(json_t *o, struct vg_store_record *r, char *err, size_t err_len);

json_t *vg_alarm_json(const struct vg_alarm *a);

/* An incident (core/incident.h): every field, the state by its number. */
json_t *vg_incident_json(const struct vg_incident *inc);
int vg_incident_from_json(json_t *o, struct vg_incident *inc, char *err, size_t err_len);
int vg_alarm_from_json(json_t *o, struct vg_alarm *a, char *err, size_t err_len);

/* An incident's step (store.h) as the API and the export show it:
 * {"n", "step", "outcome", "text", "operator", "at_ms"}, the step and its
 * outcome by name (core/incident.h). From JSON: incident_id is left 0, the
 * strings point into o. */
json_t *vg_incident_step_json(const struct vg_store_incident_step *x);
int vg_incident_step_from_json(json_t *o, struct vg_store_incident_step *x, char *err,
                               size_t err_len);

#endif
