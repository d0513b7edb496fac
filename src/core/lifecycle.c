#include "core/lifecycle.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

bool vg_installation_complete(const struct vg_installation *i)
{
    if (!i || !i->author_fix_ms || !i->protected_fix_ms)
        return false;
    return !i->has_bracelet || (i->pairing_ms && i->strap_ms);
}

static const char *const status_names[] = {NULL, "pending_installation", "active", "suspended",
                                           "ended"};
static const char *const reason_names[] = {"", "lifted", "expired", "revoked"};
static const char *const action_names[] = {NULL, "suspend", "resume", "lift", "revoke", "amend"};

#define COUNT(a) (sizeof(a) / sizeof(a)[0])

const char *vg_status_name(enum vg_measure_status s)
{
    return (unsigned)s < COUNT(status_names) ? status_names[s] : NULL;
}

const char *vg_end_reason_name(enum vg_end_reason r)
{
    return (unsigned)r < COUNT(reason_names) ? reason_names[r] : NULL;
}

const char *vg_action_name(enum vg_lifecycle_action a)
{
    return (unsigned)a < COUNT(action_names) ? action_names[a] : NULL;
}

static unsigned index_of(const char *const *names, size_t n, const char *name, unsigned first)
{
    for (unsigned i = first; name && i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return i;
    return 0;
}

enum vg_measure_status vg_status_from_name(const char *name)
{
    return (enum vg_measure_status)index_of(status_names, COUNT(status_names), name, 1);
}

enum vg_end_reason vg_end_reason_from_name(const char *name)
{
    return (enum vg_end_reason)index_of(reason_names, COUNT(reason_names), name, 1);
}

enum vg_lifecycle_action vg_action_from_name(const char *name)
{
    return (enum vg_lifecycle_action)index_of(action_names, COUNT(action_names), name, 1);
}

int vg_lifecycle_act(enum vg_measure_status status, enum vg_lifecycle_action action,
                     enum vg_measure_status *new_status, enum vg_end_reason *reason, char *msg,
                     size_t msg_len)
{
    const char *name = vg_status_name(status);
    if (!name || !vg_action_name(action)) {
        snprintf(msg, msg_len, "unknown status or action");
        return VG_EINVAL;
    }
    if (status == VG_STATUS_ENDED) {
        snprintf(msg, msg_len,
                 "the measure has ended: it changes no more (a new decision is a new measure)");
        return VG_ESTATE;
    }
    *reason = VG_END_NONE;
    switch (action) {
    case VG_ACTION_SUSPEND:
        if (status != VG_STATUS_ACTIVE) {
            snprintf(msg, msg_len, "only an active measure can be suspended (this one is %s)",
                     name);
            return VG_ESTATE;
        }
        *new_status = VG_STATUS_SUSPENDED;
        return VG_OK;
    case VG_ACTION_RESUME:
        if (status != VG_STATUS_SUSPENDED) {
            snprintf(msg, msg_len, "only a suspended measure can be resumed (this one is %s)",
                     name);
            return VG_ESTATE;
        }
        *new_status = VG_STATUS_ACTIVE;
        return VG_OK;
    case VG_ACTION_LIFT:
    case VG_ACTION_REVOKE:
        *new_status = VG_STATUS_ENDED;
        *reason = action == VG_ACTION_LIFT ? VG_END_LIFTED : VG_END_REVOKED;
        return VG_OK;
    case VG_ACTION_AMEND:
        *new_status = status; /* a new version of the decision; time decides the rest */
        return VG_OK;
    }
    snprintf(msg, msg_len, "unknown action");
    return VG_EINVAL;
}

static bool same_consent(struct vg_consent a, struct vg_consent b)
{
    return a.given == b.given && (!a.given || vg_date_cmp(a.date, b.date) == 0);
}

static bool same_period(const struct vg_measure_period *a, const struct vg_measure_period *b)
{
    return a->stage == b->stage && vg_date_cmp(a->decision_date, b->decision_date) == 0 &&
           vg_date_cmp(a->start, b->start) == 0 && vg_date_cmp(a->end, b->end) == 0 &&
           same_consent(a->protected_consent, b->protected_consent) &&
           same_consent(a->author_consent, b->author_consent);
}

int vg_lifecycle_amend_check(const struct vg_measure *decided, const struct vg_measure *amended,
                             char *msg, size_t msg_len)
{
    if (amended->n_periods < decided->n_periods) {
        snprintf(msg, msg_len,
                 "decision.periods: the %zu periods already decided stay (a renewal adds one; "
                 "lifting ends the measure)",
                 decided->n_periods);
        return VG_EINVAL;
    }
    for (size_t i = 0; i < decided->n_periods; i++)
        if (!same_period(&decided->periods[i], &amended->periods[i])) {
            snprintf(msg, msg_len,
                     "decision.periods[%zu]: a period already decided cannot be changed (a "
                     "renewal adds one)",
                     i);
            return VG_EINVAL;
        }
    return VG_OK;
}

bool vg_lifecycle_last_end(const struct vg_measure *m, struct vg_date *end)
{
    if (!m || !m->periods || m->n_periods == 0 || m->n_periods > VG_MEASURE_MAX_PERIODS)
        return false;
    bool found = false;
    for (size_t i = 0; i < m->n_periods; i++) {
        struct vg_date e = m->periods[i].end;
        if (vg_date_check(e) != VG_OK)
            continue;
        if (!found || vg_date_cmp(e, *end) > 0)
            *end = e;
        found = true;
    }
    return found;
}

static bool covered(const struct vg_measure *m, struct vg_date today)
{
    if (!m || m->n_periods == 0)
        return true; /* no decision recorded: no dates to keep to */
    return vg_measure_period_at(m, today) >= 0;
}

void vg_lifecycle_step(enum vg_measure_status status, const struct vg_installation *inst,
                       const struct vg_measure *m, struct vg_date today,
                       enum vg_measure_status *new_status, enum vg_end_reason *reason)
{
    *new_status = status;
    *reason = VG_END_NONE;
    if (status == VG_STATUS_ENDED)
        return;
    struct vg_date last;
    if (vg_lifecycle_last_end(m, &last) && vg_date_cmp(today, last) >= 0) {
        *new_status = VG_STATUS_ENDED;
        *reason = VG_END_EXPIRED;
        return;
    }
    if (status == VG_STATUS_PENDING && vg_installation_complete(inst) && covered(m, today))
        *new_status = VG_STATUS_ACTIVE;
}

bool vg_lifecycle_in_force(enum vg_measure_status status, const struct vg_measure *m,
                           struct vg_date today)
{
    return status == VG_STATUS_ACTIVE && covered(m, today);
}

enum vg_raise vg_lifecycle_raises(enum vg_measure_status status, const struct vg_measure *m,
                                  struct vg_date today)
{
    if (status == VG_STATUS_ENDED || !vg_status_name(status))
        return VG_RAISE_NONE;
    if (!covered(m, today) || status == VG_STATUS_SUSPENDED)
        return VG_RAISE_PERSONS;
    return status == VG_STATUS_ACTIVE ? VG_RAISE_ALL : VG_RAISE_SAFETY;
}

bool vg_lifecycle_alarm_raised(enum vg_raise level, enum vg_alarm_kind kind)
{
    switch (kind) {
    case VG_ALARM_SOS:
    case VG_ALARM_CALLBACK_REQUEST: return level >= VG_RAISE_PERSONS;
    case VG_ALARM_PREALERT_ENTERED:
    case VG_ALARM_PREALERT_LEFT:
    case VG_ALARM_ALERT_ENTERED:
    case VG_ALARM_ALERT_LEFT:
    case VG_ALARM_BEACON_DETECTED:
    case VG_ALARM_BEACON_LOST: return level >= VG_RAISE_SAFETY;
    default: return level >= VG_RAISE_ALL;
    }
}

const char *vg_raise_name(enum vg_raise level)
{
    static const char *const names[] = {"none", "persons", "safety", "all"};
    return (unsigned)level < 4 ? names[level] : NULL;
}
