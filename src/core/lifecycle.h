/* A measure's life, from the decision to its end:
 *
 *   pending_installation --(units installed and reporting, a period in force)--> active
 *   active <--suspend / resume--> suspended
 *   pending / active / suspended --lift | revoke--> ended (lifted | revoked)
 *   pending / active / suspended --(the last period is over)--> ended (expired)
 *
 * Which alarms a measure raises depends on where it stands
 * (vg_lifecycle_raises): all of them while it is in force (active, a period
 * of its decision covering today); while it is pending installation within
 * a period, the persons' safety alarms only (zones, SOS, call-back, the
 * beacon), not the devices' health, which the installation itself upsets;
 * while suspended or outside its periods, SOS and call-back requests only:
 * a person asking for help is heard whatever the file says; once ended,
 * none. Activation is
 * never a box someone ticks: it follows from what the units themselves
 * reported (a valid fix from each person's unit; for a bracelet, its link
 * with the author's unit and its strap closed), so that "active" always
 * means "both persons' units are installed and reporting". Time alone
 * moves a measure forward (activation on the first day of its period,
 * expiry after the last): vg_lifecycle_step(). People move it with
 * vg_lifecycle_act(). Pure: the caller supplies today's date. */
#ifndef VG_CORE_LIFECYCLE_H
#define VG_CORE_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/alarm.h"
#include "core/civil.h"
#include "core/measure.h"

enum vg_measure_status {
    VG_STATUS_PENDING = 1, /* pending installation */
    VG_STATUS_ACTIVE = 2,
    VG_STATUS_SUSPENDED = 3,
    VG_STATUS_ENDED = 4,
};

enum vg_end_reason {
    VG_END_NONE = 0,
    VG_END_LIFTED = 1,  /* mainlevée: the magistrate lifted it */
    VG_END_EXPIRED = 2, /* its last period is over */
    VG_END_REVOKED = 3, /* révocation (e.g. the author's breach turns into detention) */
};

enum vg_lifecycle_action {
    VG_ACTION_SUSPEND = 1, /* e.g. the author in hospital or detained for another cause */
    VG_ACTION_RESUME = 2,
    VG_ACTION_LIFT = 3,
    VG_ACTION_REVOKE = 4,
    VG_ACTION_AMEND = 5, /* a new version of the decision: renewal, revision of R, zones */
};

/* The probation officer's installation checklist, filled from the units'
 * own reports (times in ms since the epoch; 0: not yet). */
struct vg_installation {
    bool has_bracelet;
    int64_t author_fix_ms;    /* a valid fix from the author's unit */
    int64_t protected_fix_ms; /* a valid fix from the protected person's unit */
    int64_t pairing_ms;       /* the author's unit reports its bracelet linked */
    int64_t strap_ms;         /* the bracelet reports its strap closed */
};

bool vg_installation_complete(const struct vg_installation *i);

/* Stable names: "pending_installation", "active", "suspended", "ended";
 * "", "lifted", "expired", "revoked"; "suspend", "resume", "lift",
 * "revoke", "amend". NULL for an unknown value. */
const char *vg_status_name(enum vg_measure_status s);
const char *vg_end_reason_name(enum vg_end_reason r);
const char *vg_action_name(enum vg_lifecycle_action a);
/* The value of a name, or 0 if unknown. */
enum vg_measure_status vg_status_from_name(const char *name);
enum vg_end_reason vg_end_reason_from_name(const char *name);
enum vg_lifecycle_action vg_action_from_name(const char *name);

/* A person's action on a measure in `status`. VG_OK with the new status and
 * end reason, or VG_ESTATE with a message (English) saying why not: an
 * ended measure changes no more (a new decision is a new measure); only a
 * suspended measure resumes; only an active one is suspended. */
int vg_lifecycle_act(enum vg_measure_status status, enum vg_lifecycle_action action,
                     enum vg_measure_status *new_status, enum vg_end_reason *reason, char *msg,
                     size_t msg_len);

/* What a new version of a decision may not change: the periods already
 * decided stay as they were, in their order (a renewal adds one; a lifting
 * ends the measure instead of cutting a period). VG_OK, or VG_EINVAL with a
 * message naming the period ("decision.periods[N]"). */
int vg_lifecycle_amend_check(const struct vg_measure *decided, const struct vg_measure *amended,
                             char *msg, size_t msg_len);

/* The last day (excluded) of the measure's decision: the latest period end;
 * false when it has no usable period (a measure declared before decisions
 * were recorded: it never expires by date). */
bool vg_lifecycle_last_end(const struct vg_measure *m, struct vg_date *end);

/* What time alone does on `today`: a pending measure whose checklist is
 * complete becomes active on a day a period covers; a measure that is not
 * ended expires once today is at or past its last period's end. Writes the
 * status it should have now (the same when nothing changes). */
void vg_lifecycle_step(enum vg_measure_status status, const struct vg_installation *inst,
                       const struct vg_measure *m, struct vg_date today,
                       enum vg_measure_status *new_status, enum vg_end_reason *reason);

/* In force on `today`: active and (when it has periods) one of them
 * covers today. */
bool vg_lifecycle_in_force(enum vg_measure_status status, const struct vg_measure *m,
                           struct vg_date today);

/* What a measure raises (ordered: each level raises what the one below
 * does, and more). */
enum vg_raise {
    VG_RAISE_NONE = 0,    /* ended */
    VG_RAISE_PERSONS = 1, /* SOS and call-back requests */
    VG_RAISE_SAFETY = 2,  /* and the zones and the beacon (pending installation) */
    VG_RAISE_ALL = 3,     /* in force */
};

enum vg_raise vg_lifecycle_raises(enum vg_measure_status status, const struct vg_measure *m,
                                  struct vg_date today);
/* Whether an alarm of this kind is raised at this level. */
bool vg_lifecycle_alarm_raised(enum vg_raise level, enum vg_alarm_kind kind);
/* "none", "persons", "safety", "all". */
const char *vg_raise_name(enum vg_raise level);

#endif
