#include "core/incident.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

#define S  1000LL
#define MN (60 * S)

void vg_incident_policy_default(struct vg_incident_policy *p)
{
    *p = (struct vg_incident_policy){
        .take_within_ms = {0, 30 * S, 60 * S, 2 * MN, 15 * MN, 60 * MN},
        .progress_within_ms = {0, 2 * MN, 5 * MN, 10 * MN, 60 * MN, 240 * MN},
    };
}

static unsigned prio_index(unsigned priority)
{
    return priority >= VG_PRIORITY_ALERT && priority <= VG_PRIORITY_INFO ? priority
                                                                         : VG_PRIORITY_ALERT;
}

enum vg_incident_effect vg_incident_on_alarm(const struct vg_incident *current, int64_t measure_id,
                                             const struct vg_alarm *alarm, int64_t now_ms,
                                             struct vg_incident *out)
{
    bool open = current && current->state != VG_INCIDENT_CLOSED;
    if (open) {
        *out = *current;
        /* the most urgent alarm sets its place in the queue: a pre-alert
         * that turns into an alert moves up */
        if (alarm->priority < out->priority)
            out->priority = alarm->priority;
        out->last_alarm_seq = alarm->seq;
        out->n_alarms++;
        return VG_INCIDENT_JOINED;
    }
    if (alarm->priority >= VG_PRIORITY_INFO)
        return VG_INCIDENT_IGNORED; /* the end of a situation no one is handling */
    *out = (struct vg_incident){
        .measure_id = measure_id,
        .previous_id = current ? current->id : 0,
        .state = VG_INCIDENT_OPEN,
        .priority = (uint8_t)prio_index(alarm->priority),
        .first_kind = alarm->kind,
        .first_alarm_seq = alarm->seq,
        .last_alarm_seq = alarm->seq,
        .n_alarms = 1,
        .opened_ms = now_ms,
    };
    return VG_INCIDENT_OPENED;
}

static bool name_ok(const char *name)
{
    return name && name[0] && strlen(name) <= VG_OPERATOR_NAME_MAX;
}

int vg_incident_take(struct vg_incident *inc, const char *operator_name, bool reassign,
                     int64_t now_ms, char *msg, size_t msg_len)
{
    if (!name_ok(operator_name)) {
        snprintf(msg, msg_len, "an operator's name, 1 to %d characters", VG_OPERATOR_NAME_MAX);
        return VG_EINVAL;
    }
    if (inc->state == VG_INCIDENT_CLOSED) {
        snprintf(msg, msg_len, "incident %lld is closed", (long long)inc->id);
        return VG_ESTATE;
    }
    if (inc->state == VG_INCIDENT_TAKEN) {
        if (strcmp(inc->operator_name, operator_name) == 0)
            return VG_OK;
        if (!reassign) {
            snprintf(msg, msg_len, "incident %lld is handled by %s", (long long)inc->id,
                     inc->operator_name);
            return VG_ESTATE;
        }
    }
    if (inc->state == VG_INCIDENT_OPEN)
        inc->taken_ms = now_ms;
    inc->state = VG_INCIDENT_TAKEN;
    /* a new hand: the progress timer starts again from now */
    inc->last_step_ms = now_ms;
    inc->escalation = VG_ESCALATE_NONE;
    snprintf(inc->operator_name, sizeof inc->operator_name, "%s", operator_name);
    return VG_OK;
}

static int held_by(const struct vg_incident *inc, const char *operator_name, char *msg,
                   size_t msg_len)
{
    if (inc->state == VG_INCIDENT_CLOSED) {
        snprintf(msg, msg_len, "incident %lld is closed", (long long)inc->id);
        return VG_ESTATE;
    }
    if (inc->state != VG_INCIDENT_TAKEN || !operator_name ||
        strcmp(inc->operator_name, operator_name) != 0) {
        snprintf(msg, msg_len, "incident %lld is not handled by %s: take it first",
                 (long long)inc->id, operator_name ? operator_name : "(nobody)");
        return VG_ESTATE;
    }
    return VG_OK;
}

static bool outcome_fits(enum vg_step_kind kind, enum vg_step_outcome outcome)
{
    switch (kind) {
    case VG_STEP_AUTHOR_CALLED:
        return outcome == VG_OUTCOME_REACHED || outcome == VG_OUTCOME_NOT_REACHED ||
               outcome == VG_OUTCOME_COMPLIED || outcome == VG_OUTCOME_REFUSED;
    case VG_STEP_PROTECTED_CALLED:
        return outcome == VG_OUTCOME_REACHED || outcome == VG_OUTCOME_NOT_REACHED ||
               outcome == VG_OUTCOME_GUIDED;
    case VG_STEP_POLICE_ALERTED:
    case VG_STEP_MAGISTRATE_INFORMED:
    case VG_STEP_NOTE: return outcome == VG_OUTCOME_NONE;
    default: return false;
    }
}

int vg_incident_step(struct vg_incident *inc, const char *operator_name, enum vg_step_kind kind,
                     enum vg_step_outcome outcome, int64_t now_ms, char *msg, size_t msg_len)
{
    if (!vg_step_kind_name(kind) || !outcome_fits(kind, outcome)) {
        snprintf(msg, msg_len, "%s: not an outcome of %s",
                 vg_step_outcome_name(outcome) ? vg_step_outcome_name(outcome) : "?",
                 vg_step_kind_name(kind) ? vg_step_kind_name(kind) : "an unknown step");
        return VG_EINVAL;
    }
    int rc = held_by(inc, operator_name, msg, msg_len);
    if (rc != VG_OK)
        return rc;
    inc->n_steps++;
    inc->last_step_ms = now_ms;
    if (inc->escalation == VG_ESCALATE_NOT_PROGRESSING)
        inc->escalation = VG_ESCALATE_NONE; /* it moves again: a new delay may escalate again */
    return VG_OK;
}

int vg_incident_close(struct vg_incident *inc, const char *operator_name, const char *summary,
                      int64_t now_ms, char *msg, size_t msg_len)
{
    int rc = held_by(inc, operator_name, msg, msg_len);
    if (rc != VG_OK)
        return rc;
    bool blank = true;
    for (const char *c = summary; c && *c && blank; c++)
        blank = *c == ' ' || *c == '\t' || *c == '\n' || *c == '\r';
    if (blank) {
        snprintf(msg, msg_len, "closing needs a summary: what happened and what was done");
        return VG_EINVAL;
    }
    inc->state = VG_INCIDENT_CLOSED;
    inc->closed_ms = now_ms;
    return VG_OK;
}

enum vg_escalation vg_incident_escalation(const struct vg_incident *inc,
                                          const struct vg_incident_policy *p, int64_t now_ms,
                                          int64_t *next_ms)
{
    *next_ms = INT64_MAX;
    unsigned i = prio_index(inc->priority);
    enum vg_escalation why;
    int64_t due;
    if (inc->state == VG_INCIDENT_OPEN) {
        why = VG_ESCALATE_NOT_TAKEN;
        due = inc->opened_ms + p->take_within_ms[i];
    } else if (inc->state == VG_INCIDENT_TAKEN) {
        why = VG_ESCALATE_NOT_PROGRESSING;
        due = inc->last_step_ms + p->progress_within_ms[i];
    } else {
        return VG_ESCALATE_NONE;
    }
    if (inc->escalation == why)
        return VG_ESCALATE_NONE; /* raised already; a step or a taking resets it */
    if (now_ms < due) {
        *next_ms = due;
        return VG_ESCALATE_NONE;
    }
    return why;
}

int vg_incident_queue_cmp(const struct vg_incident *a, const struct vg_incident *b)
{
    if (a->priority != b->priority)
        return a->priority < b->priority ? -1 : 1;
    if (a->opened_ms != b->opened_ms)
        return a->opened_ms < b->opened_ms ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id ? 1 : 0;
}

#define NAME(table, v) ((unsigned)(v) < sizeof(table) / sizeof(table)[0] ? (table)[v] : NULL)

const char *vg_incident_state_name(unsigned s)
{
    static const char *const names[] = {NULL, "open", "taken", "closed"};
    return NAME(names, s);
}

const char *vg_step_kind_name(unsigned k)
{
    static const char *const names[] = {
        NULL, "author_called", "protected_called", "police_alerted", "magistrate_informed", "note"};
    return NAME(names, k);
}

const char *vg_step_outcome_name(unsigned o)
{
    static const char *const names[] = {"none",     "reached", "not_reached",
                                        "complied", "refused", "guided"};
    return NAME(names, o);
}

const char *vg_escalation_name(unsigned e)
{
    static const char *const names[] = {"none", "not_taken", "not_progressing"};
    return NAME(names, e);
}
