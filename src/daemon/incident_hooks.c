/* The incidents' side of the HTTP API (http/api.h hooks), run for the HTTP
 * thread on the daemon's loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "core/incident.h"
#include "daemon/daemon_internal.h"
#include "util/measure_json.h"

static json_t *incident_json(const struct vg_incident *x, const char *measure)
{
    return json_pack("{s:I,s:I,s:s,s:I,s:s,s:i,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "id",
                     (json_int_t)x->id, "measure_id", (json_int_t)x->measure_id, "measure", measure,
                     "previous_id", (json_int_t)x->previous_id, "state",
                     vg_incident_state_name(x->state), "priority", (int)x->priority, "first_alarm",
                     vg_alarm_kind_name(x->first_kind), "escalation",
                     vg_escalation_name(x->escalation), "alarms", (json_int_t)x->n_alarms, "steps",
                     (json_int_t)x->n_steps, "opened_ms", (json_int_t)x->opened_ms, "taken_ms",
                     (json_int_t)x->taken_ms, "last_step_ms", (json_int_t)x->last_step_ms,
                     "closed_ms", (json_int_t)x->closed_ms, "operator", x->operator_name);
}

/* One incident in progress and its measure's name, as the queue lists it. */
struct queued {
    struct vg_incident inc;
    char measure[VG_NAME_MAX + 1];
};

struct list_call {
    struct queued *items;
    size_t n, cap;
    int rc;
};

static int add_one(void *arg, const struct vg_incident *inc, const char *measure, const char *court)
{
    (void)court;
    struct list_call *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        struct queued *p = realloc(l->items, cap * sizeof *p);
        if (!p)
            return l->rc = VG_ENOSPC;
        l->items = p;
        l->cap = cap;
    }
    l->items[l->n].inc = *inc;
    snprintf(l->items[l->n].measure, sizeof l->items[0].measure, "%s", measure);
    l->n++;
    return 0;
}

static void do_list(struct daemon *d, void *arg)
{
    vg_center_list_incidents(d->center, add_one, arg);
}

/* The queue's order (core/incident.h): the most urgent first, then the oldest. */
static int queue_order(const void *a, const void *b)
{
    return vg_incident_queue_cmp(&((const struct queued *)a)->inc,
                                 &((const struct queued *)b)->inc);
}

static int hook_list(void *arg, const struct vg_identity *who, json_t **out, char *err,
                     size_t err_len)
{
    struct daemon *d = arg;
    struct list_call l = {0};
    if (vg__daemon_on_loop(d, do_list, &l) != VG_OK || l.rc != VG_OK) {
        free(l.items);
        snprintf(err, err_len, l.rc ? "out of memory" : "stopping");
        return l.rc ? l.rc : VG_ESTATE;
    }
    if (l.n)
        qsort(l.items, l.n, sizeof *l.items, queue_order);
    json_t *a = json_array();
    for (size_t i = 0; a && i < l.n; i++)
        json_array_append_new(a, incident_json(&l.items[i].inc, l.items[i].measure));
    free(l.items);
    char detail[48];
    snprintf(detail, sizeof detail, "{\"count\":%zu}", json_array_size(a));
    int rc = a ? vg_center_journal(d->center, who->name, "incident.list", "*", detail, err, err_len)
               : VG_ENOSPC;
    if (rc != VG_OK) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return VG_OK;
}

struct act_call {
    const struct vg_identity *who;
    int64_t id;
    const char *action, *operator_name, *text;
    bool reassign;
    enum vg_step_kind kind;
    enum vg_step_outcome outcome;
    struct vg_incident after;
    char measure[VG_NAME_MAX + 1];
    char *err;
    size_t err_len;
    int rc;
};

static int name_of(void *arg, const struct vg_incident *inc, const char *measure, const char *court)
{
    (void)court;
    struct act_call *a = arg;
    if (inc->id == a->id)
        snprintf(a->measure, sizeof a->measure, "%s", measure);
    return 0;
}

static void do_act(struct daemon *d, void *arg)
{
    struct act_call *a = arg;
    vg_center_list_incidents(d->center, name_of, a);
    a->rc = vg_center_incident_act(d->center, a->who->name, a->action, a->id, a->operator_name,
                                   a->reassign, a->kind, a->outcome, a->text, &a->after, a->err,
                                   a->err_len);
}

static unsigned by_name(const char *(*name)(unsigned), unsigned n, const char *s)
{
    for (unsigned i = 0; s && i < n; i++)
        if (name(i) && strcmp(name(i), s) == 0)
            return i;
    return n;
}

static int hook_act(void *arg, const struct vg_identity *who, int64_t id, const char *action,
                    const char *operator_name, bool reassign, const char *step, const char *outcome,
                    const char *text, json_t **out, char *err, size_t err_len)
{
    struct act_call a = {.who = who,
                         .id = id,
                         .action = action,
                         .operator_name = operator_name,
                         .text = text,
                         .reassign = reassign,
                         .err = err,
                         .err_len = err_len,
                         .rc = VG_ESTATE};
    if (strcmp(action, "step") == 0) {
        unsigned k = by_name(vg_step_kind_name, VG_STEP__COUNT, step);
        unsigned o =
            outcome ? by_name(vg_step_outcome_name, VG_OUTCOME__COUNT, outcome) : VG_OUTCOME_NONE;
        if (k >= VG_STEP__COUNT || o >= VG_OUTCOME__COUNT) {
            snprintf(err, err_len,
                     "step: author_called, protected_called, police_alerted, "
                     "magistrate_informed or note; outcome: reached, not_reached, "
                     "complied, refused or guided");
            return VG_EINVAL;
        }
        a.kind = (enum vg_step_kind)k;
        a.outcome = (enum vg_step_outcome)o;
    }
    if (vg__daemon_on_loop(arg, do_act, &a) != VG_OK) {
        snprintf(err, err_len, "stopping");
        return VG_ESTATE;
    }
    if (a.rc == VG_OK)
        *out = incident_json(&a.after, a.measure);
    return a.rc;
}

void vg__daemon_incident_hooks(struct vg_http_hooks *h)
{
    h->list_incidents = hook_list;
    h->act_on_incident = hook_act;
}
