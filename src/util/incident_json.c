#include "util/incident_json.h"

json_t *vg_incident_to_json(const struct vg_incident *x, const char *measure)
{
    return json_pack("{s:I,s:I,s:s,s:I,s:s,s:i,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "id",
                     (json_int_t)x->id, "measure_id", (json_int_t)x->measure_id, "measure",
                     measure ? measure : "", "previous_id", (json_int_t)x->previous_id, "state",
                     vg_incident_state_name(x->state), "priority", (int)x->priority, "first_alarm",
                     vg_alarm_kind_name(x->first_kind), "escalation",
                     vg_escalation_name(x->escalation), "alarms", (json_int_t)x->n_alarms, "steps",
                     (json_int_t)x->n_steps, "opened_ms", (json_int_t)x->opened_ms, "taken_ms",
                     (json_int_t)x->taken_ms, "last_step_ms", (json_int_t)x->last_step_ms,
                     "escalated_ms", (json_int_t)x->escalated_ms, "closed_ms",
                     (json_int_t)x->closed_ms, "operator", x->operator_name);
}
