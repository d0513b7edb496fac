/* Incidents: what an operator handles. Alarms open an incident, or join
 * the open one of the same measure (one incident per situation, not one
 * per fix); an operator takes it (never two at once); the protocol's steps
 * are recorded with their outcomes, times and operators; timers escalate to
 * a supervisor what is not taken or not progressing; closing needs a
 * summary. A new alarm once the situation is closed opens a new incident,
 * linked to the previous one.
 *
 * The operator's protocol (../shared/design/domain.md): pre-alert → remove
 * the doubt, call the author and ask him to change direction; alert that
 * persists or goes unanswered → call the protected person and stay on the
 * line, guide her, alert the police; neutralisation → intervention; SOS →
 * call her back at once; after every intervention → a report to the
 * magistrate, the prosecutor, the probation service and victim support.
 *
 * Pure: the caller gives the time; the store keeps what these functions
 * decide. */
#ifndef VG_CORE_INCIDENT_H
#define VG_CORE_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/alarm.h"

#define VG_OPERATOR_NAME_MAX 64

enum vg_incident_state {
    VG_INCIDENT_OPEN = 1,   /* waiting for an operator */
    VG_INCIDENT_TAKEN = 2,  /* an operator handles it */
    VG_INCIDENT_CLOSED = 3, /* summary written; the report goes to the recipients */
};

/* The protocol's steps. */
enum vg_step_kind {
    VG_STEP_AUTHOR_CALLED = 1,    /* outcome: reached, not_reached, complied, refused */
    VG_STEP_PROTECTED_CALLED = 2, /* outcome: reached, not_reached, guided */
    VG_STEP_POLICE_ALERTED = 3,   /* with the police's reference */
    VG_STEP_MAGISTRATE_INFORMED = 4,
    VG_STEP_NOTE = 5, /* anything else worth keeping */
    VG_STEP__COUNT
};

enum vg_step_outcome {
    VG_OUTCOME_NONE = 0, /* police, magistrate, note */
    VG_OUTCOME_REACHED = 1,
    VG_OUTCOME_NOT_REACHED = 2,
    VG_OUTCOME_COMPLIED = 3, /* the author agreed to move away */
    VG_OUTCOME_REFUSED = 4,  /* the author refused */
    VG_OUTCOME_GUIDED = 5,   /* the protected person was guided to safety */
    VG_OUTCOME__COUNT
};

/* Why an incident is escalated to a supervisor. */
enum vg_escalation {
    VG_ESCALATE_NONE = 0,
    VG_ESCALATE_NOT_TAKEN = 1,       /* nobody took it in time */
    VG_ESCALATE_NOT_PROGRESSING = 2, /* taken, but no step in time */
};

/* The timers, by priority (enum vg_alarm_priority, 1..5; index 0 unused):
 * how long an incident may wait to be taken, and how long a taken one may
 * go without a step, before a supervisor is called in. */
struct vg_incident_policy {
    int64_t take_within_ms[6];
    int64_t progress_within_ms[6];
};

/* Defaults: alert and SOS taken within 30 s and a step every 2 minutes;
 * neutralisation 60 s / 5 min; pre-alert 2 min / 10 min; technical 15 min /
 * 1 h; information (which opens nothing) 1 h / 4 h. */
void vg_incident_policy_default(struct vg_incident_policy *p);

struct vg_incident {
    int64_t id;
    int64_t measure_id;
    int64_t previous_id; /* the closed incident of the same measure before it (0: none) */
    uint8_t state;       /* enum vg_incident_state */
    uint8_t priority;    /* the most urgent of its alarms (enum vg_alarm_priority) */
    uint8_t escalation;  /* enum vg_escalation: the last raised (0: none) */
    uint16_t first_kind; /* the alarm that opened it */
    uint32_t first_alarm_seq, last_alarm_seq;
    uint32_t n_alarms, n_steps;
    int64_t opened_ms, taken_ms, last_step_ms, closed_ms, escalated_ms;
    char operator_name[VG_OPERATOR_NAME_MAX + 1]; /* who has it ("" when open) */
};

/* What an alarm does to a measure's incident. */
enum vg_incident_effect {
    VG_INCIDENT_IGNORED = 0, /* information with no open incident: nothing to handle */
    VG_INCIDENT_OPENED = 1,  /* a new incident (linked to the previous one, if any) */
    VG_INCIDENT_JOINED = 2,  /* added to the open one */
};

/* An alarm of the measure whose incident is `current` (NULL: the measure
 * has none, open or closed; or its last one, closed). Writes the incident
 * to `out`: the current one updated, or a new one (id 0: the store gives
 * it), and returns what happened. An alarm joins an incident that is not
 * closed; information alarms (the end of a situation) never open one. */
enum vg_incident_effect vg_incident_on_alarm(const struct vg_incident *current, int64_t measure_id,
                                             const struct vg_alarm *alarm, int64_t now_ms,
                                             struct vg_incident *out);

/* An operator takes it. VG_ESTATE with the reason if it is closed or
 * another operator has it (unless `reassign`: a supervisor gives it to
 * `operator_name`); VG_EINVAL for an empty or oversized name. Taking it
 * again oneself is allowed (a no-op). */
int vg_incident_take(struct vg_incident *inc, const char *operator_name, bool reassign,
                     int64_t now_ms, char *msg, size_t msg_len);

/* A step of the protocol, by the operator who has it. VG_EINVAL for an
 * outcome that does not fit the step (an author "guided"); VG_ESTATE if the
 * incident is not taken by this operator or is closed. */
int vg_incident_step(struct vg_incident *inc, const char *operator_name, enum vg_step_kind kind,
                     enum vg_step_outcome outcome, int64_t now_ms, char *msg, size_t msg_len);

/* Close it, by the operator who has it, with a summary (not empty). */
int vg_incident_close(struct vg_incident *inc, const char *operator_name, const char *summary,
                      int64_t now_ms, char *msg, size_t msg_len);

/* Whether a supervisor must be called in now, and when to look again
 * (*next_ms: INT64_MAX when never). An escalation is raised once per
 * reason and state: inc->escalation says the last one. */
enum vg_escalation vg_incident_escalation(const struct vg_incident *inc,
                                          const struct vg_incident_policy *p, int64_t now_ms,
                                          int64_t *next_ms);

/* The queue's order: the most urgent first, then the oldest. <0, 0, >0. */
int vg_incident_queue_cmp(const struct vg_incident *a, const struct vg_incident *b);

/* Stable names ("open", "author_called", "not_reached", "not_taken"), or NULL. */
const char *vg_incident_state_name(unsigned s);
const char *vg_step_kind_name(unsigned k);
const char *vg_step_outcome_name(unsigned o);
const char *vg_escalation_name(unsigned e);

#endif
