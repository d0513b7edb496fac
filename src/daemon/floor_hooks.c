/* GET /api/v1/floor's hook (http/api.h): the incidents in progress from the
 * centre (on its loop: what the queue shows, with their measures' names),
 * the closed ones and the first steps' times from the store (read on the
 * calling thread: the store's reads are thread-safe), then core/floor.h,
 * journaled (floor.read) before it is answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/err.h"
#include "core/floor.h"
#include "core/incident.h"
#include "core/roles.h"
#include "daemon/daemon_internal.h"
#include "util/measure_json.h"

struct gather {
    struct vg_incident *incs;
    char (*names)[VG_NAME_MAX + 1]; /* the measures' names of the first n_live */
    size_t n, cap, n_live;
    int64_t *live_ids; /* the first n_live's ids, sorted */
    int64_t from_ms;
    int rc;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* the centre's clock (center.c) */
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int room(struct gather *g)
{
    if (g->n < g->cap)
        return VG_OK;
    size_t cap = g->cap ? 2 * g->cap : 64;
    struct vg_incident *p = realloc(g->incs, cap * sizeof *p);
    if (p)
        g->incs = p;
    char(*q)[VG_NAME_MAX + 1] = p ? realloc(g->names, cap * sizeof *q) : NULL;
    if (q)
        g->names = q;
    if (!p || !q)
        return g->rc = VG_ENOSPC;
    g->cap = cap;
    return VG_OK;
}

static int add_live(void *arg, const struct vg_incident *inc, const char *measure,
                    const char *court)
{
    (void)court;
    struct gather *g = arg;
    if (room(g) != VG_OK)
        return g->rc;
    g->incs[g->n] = *inc;
    snprintf(g->names[g->n], sizeof g->names[0], "%s", measure);
    g->n++;
    return 0;
}

static void do_live(struct daemon *d, void *arg)
{
    vg_center_list_incidents(d->center, add_live, arg);
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A closed incident the window may count (the centre's list has the rest). */
static int add_closed(void *arg, const struct vg_incident *inc)
{
    struct gather *g = arg;
    if (inc->state != VG_INCIDENT_CLOSED ||
        (inc->closed_ms < g->from_ms && inc->opened_ms < g->from_ms))
        return 0;
    /* closed since the centre was read: the centre's view stands */
    if (g->n_live && bsearch(&inc->id, g->live_ids, g->n_live, sizeof inc->id, cmp_id))
        return 0;
    if (room(g) != VG_OK)
        return g->rc;
    g->incs[g->n++] = *inc;
    return 0;
}

/* The first step's time (the store's steps are in order). */
static int first_step(void *arg, const struct vg_store_incident_step *st)
{
    *(int64_t *)arg = st->at_ms;
    return 1; /* the first is enough */
}

/* Each incident's first step, where the window times it and the store has
 * its steps (0 elsewhere: recorded before the store kept them). */
static int first_steps(struct daemon *d, const struct gather *g, int64_t *first)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct vg_incident *x = &g->incs[i];
        first[i] = 0;
        if (x->opened_ms < g->from_ms || x->n_steps == 0 || x->taken_ms <= 0)
            continue;
        int rc = vg_store_incident_steps(d->store, x->id, first_step, &first[i]);
        if (rc < 0)
            return rc;
    }
    return VG_OK;
}

static json_t *times_json(const struct vg_floor_times *t)
{
    return json_pack("{s:I,s:I,s:I,s:I}", "count", (json_int_t)t->count, "median_ms",
                     (json_int_t)t->median_ms, "p90_ms", (json_int_t)t->p90_ms, "max_ms",
                     (json_int_t)t->max_ms);
}

/* The measure's name of a live incident ("" for another). */
static const char *name_of(const struct gather *g, const struct vg_incident *inc)
{
    size_t i = (size_t)(inc - g->incs);
    return i < g->n_live ? g->names[i] : "";
}

static json_t *floor_json(const struct vg_floor *f, const struct gather *g, int hours,
                          const struct vg_identity *who)
{
    json_t *prio = json_array();
    for (unsigned p = VG_PRIORITY_ALERT; prio && p <= VG_PRIORITY_TECHNICAL; p++)
        json_array_append_new(prio,
                              json_pack("{s:i,s:I,s:I}", "priority", (int)p, "open",
                                        (json_int_t)f->open[p], "taken", (json_int_t)f->taken[p]));
    json_t *oldest = json_null();
    if (f->oldest_open)
        oldest = json_pack("{s:I,s:I,s:s,s:i,s:I,s:I}", "id", (json_int_t)f->oldest_open->id,
                           "measure_id", (json_int_t)f->oldest_open->measure_id, "measure",
                           name_of(g, f->oldest_open), "priority", (int)f->oldest_open->priority,
                           "opened_ms", (json_int_t)f->oldest_open->opened_ms, "age_ms",
                           (json_int_t)f->oldest_open_age_ms);
    json_t *esc = json_array();
    for (size_t i = 0; esc && i < f->n_escalated; i++) {
        const struct vg_floor_escalated *e = &f->escalated[i];
        json_array_append_new(
            esc,
            json_pack("{s:I,s:I,s:s,s:s,s:i,s:s,s:s,s:s,s:I,s:I}", "id", (json_int_t)e->inc->id,
                      "measure_id", (json_int_t)e->inc->measure_id, "measure", name_of(g, e->inc),
                      "state", vg_incident_state_name(e->inc->state), "priority",
                      (int)e->inc->priority, "operator", e->inc->operator_name, "escalation",
                      vg_escalation_name(e->escalation), "overdue", vg_escalation_name(e->overdue),
                      "late_ms", (json_int_t)e->late_ms, "opened_ms",
                      (json_int_t)e->inc->opened_ms));
    }
    /* every operator's line to whoever runs the shift (may reassign); an
     * operator sees his own */
    bool all = vg_role_may(who->role, VG_PERM_INCIDENT_REASSIGN);
    json_t *ops = json_array();
    for (size_t i = 0; ops && i < f->n_operators; i++)
        if (all || strcmp(f->operators[i].name, who->name) == 0)
            json_array_append_new(ops, json_pack("{s:s,s:I,s:I}", "name", f->operators[i].name,
                                                 "holding", (json_int_t)f->operators[i].holding,
                                                 "closed", (json_int_t)f->operators[i].closed));
    json_t *step = times_json(&f->to_first_step);
    if (step)
        json_object_set_new(step, "upper_bounds", json_integer(f->first_step_upper_bounds));
    return json_pack("{s:I,s:i,s:I,s:{s:I,s:I,s:o*},s:o*,s:o*,s:{s:o*,s:o*},s:I,s:o*}", "now_ms",
                     (json_int_t)f->now_ms, "hours", hours, "from_ms", (json_int_t)f->from_ms,
                     "queue", "open", (json_int_t)f->n_open, "taken", (json_int_t)f->n_taken,
                     "by_priority", prio, "oldest_open", oldest, "escalated", esc, "response",
                     "to_take", times_json(&f->to_take), "to_first_step", step, "closed",
                     (json_int_t)f->closed, "operators", ops);
}

static int hook_floor(void *arg, const struct vg_identity *who, int hours, json_t **out, char *err,
                      size_t err_len)
{
    struct daemon *d = arg;
    int64_t now = wall_ms();
    struct gather g = {.from_ms = now - (int64_t)hours * 3600000};
    if (vg__daemon_on_loop(d, do_live, &g) != VG_OK) {
        snprintf(err, err_len, "stopping");
        free(g.incs);
        free(g.names);
        return VG_ESTATE;
    }
    g.n_live = g.n;
    int rc = g.rc;
    g.live_ids = malloc((g.n_live ? g.n_live : 1) * sizeof *g.live_ids);
    if (rc == VG_OK && !g.live_ids)
        rc = VG_ENOSPC;
    for (size_t i = 0; rc == VG_OK && i < g.n_live; i++)
        g.live_ids[i] = g.incs[i].id;
    if (rc == VG_OK && g.n_live > 1)
        qsort(g.live_ids, g.n_live, sizeof *g.live_ids, cmp_id);
    if (rc == VG_OK)
        rc = vg_store_incidents(d->store, false, add_closed, &g);
    if (rc == VG_OK)
        rc = g.rc;
    int64_t *first = calloc(g.n ? g.n : 1, sizeof *first);
    if (rc == VG_OK)
        rc = first ? first_steps(d, &g, first) : VG_ENOSPC;
    struct vg_floor_memory mem = {.durations = calloc(g.n ? g.n : 1, sizeof *mem.durations),
                                  .escalated = calloc(g.n ? g.n : 1, sizeof *mem.escalated),
                                  .operators = calloc(g.n ? g.n : 1, sizeof *mem.operators)};
    if (rc == VG_OK && (!mem.durations || !mem.escalated || !mem.operators))
        rc = VG_ENOSPC;
    /* late by the timers the centre escalates with (escalate_take_ms, ...) */
    struct vg_floor f;
    if (rc == VG_OK)
        rc = vg_floor_compute(g.incs, first, g.n, now, (int64_t)hours * 3600000,
                              &d->cfg.center.escalation, &mem, &f);
    json_t *doc = rc == VG_OK ? floor_json(&f, &g, hours, who) : NULL;
    free(first);
    free(mem.durations);
    free(mem.escalated);
    free(mem.operators);
    free(g.incs);
    free(g.names);
    free(g.live_ids);
    if (rc == VG_OK && !doc)
        rc = VG_ENOSPC;
    if (rc != VG_OK) {
        snprintf(err, err_len, "the incidents cannot be read: %s", vg_strerror(rc));
        return rc == VG_ENOSPC ? rc : VG_ESTATE;
    }
    char detail[48];
    snprintf(detail, sizeof detail, "{\"hours\":%d}", hours);
    rc = vg_center_journal(d->center, who->name, "floor.read", "*", detail, err, err_len);
    if (rc != VG_OK) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return VG_OK;
}

void vg__daemon_floor_hooks(struct vg_http_hooks *h)
{
    h->floor = hook_floor;
}
