/* The floor view (floor.h): counts, response times, escalations and each
 * operator's load, from the incidents and the time given. */
#include "core/floor.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* The timers' index of a priority (core/incident.c does the same: an
 * unknown priority is treated as the most urgent). */
static unsigned timer_index(unsigned priority)
{
    return priority >= VG_PRIORITY_ALERT && priority <= VG_PRIORITY_INFO ? priority
                                                                         : VG_PRIORITY_ALERT;
}

static int cmp_ms(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_escalated(const void *a, const void *b)
{
    const struct vg_floor_escalated *x = a, *y = b;
    int c = vg_incident_queue_cmp(x->inc, y->inc);
    return c ? c : (x->inc->id > y->inc->id) - (x->inc->id < y->inc->id);
}

static int cmp_operator(const void *a, const void *b)
{
    return strcmp(((const struct vg_floor_operator *)a)->name,
                  ((const struct vg_floor_operator *)b)->name);
}

/* Count, median, 90th percentile (nearest rank) and maximum of d[0..n). */
static struct vg_floor_times times_of(int64_t *d, size_t n)
{
    struct vg_floor_times t = {0};
    if (n == 0)
        return t;
    qsort(d, n, sizeof *d, cmp_ms);
    t.count = (uint32_t)n;
    /* the mean of the two middle ones without overflow, rounded down */
    t.median_ms = n % 2 ? d[n / 2] : d[n / 2 - 1] + (d[n / 2] - d[n / 2 - 1]) / 2;
    size_t rank = (n * 9 + 9) / 10; /* ceil(0.9 n), from 1 */
    t.p90_ms = d[rank - 1];
    t.max_ms = d[n - 1];
    return t;
}

/* The operator named `name` in out's list, added if new. */
static struct vg_floor_operator *operator_of(struct vg_floor *out, const char *name)
{
    for (size_t i = 0; i < out->n_operators; i++)
        if (strcmp(out->operators[i].name, name) == 0)
            return &out->operators[i];
    struct vg_floor_operator *o = &out->operators[out->n_operators++];
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < VG_OPERATOR_NAME_MAX && name[i]; i++)
        o->name[i] = name[i]; /* memset left the terminator */
    return o;
}

static bool in_window(const struct vg_floor *f, int64_t t)
{
    return t >= f->from_ms && t <= f->now_ms;
}

/* What the policy's timers say of a live incident now, and how late. */
static enum vg_escalation overdue(const struct vg_incident *inc, const struct vg_incident_policy *p,
                                  int64_t now_ms, int64_t *late_ms)
{
    unsigned i = timer_index(inc->priority);
    enum vg_escalation why =
        inc->state == VG_INCIDENT_OPEN ? VG_ESCALATE_NOT_TAKEN : VG_ESCALATE_NOT_PROGRESSING;
    int64_t due = inc->state == VG_INCIDENT_OPEN ? inc->opened_ms + p->take_within_ms[i]
                                                 : inc->last_step_ms + p->progress_within_ms[i];
    *late_ms = 0;
    if (now_ms < due)
        return VG_ESCALATE_NONE;
    *late_ms = now_ms - due;
    return why;
}

int vg_floor_compute(const struct vg_incident *incidents, const int64_t *first_step_ms, size_t n,
                     int64_t now_ms, int64_t window_ms, const struct vg_incident_policy *p,
                     const struct vg_floor_memory *mem, struct vg_floor *out)
{
    memset(out, 0, sizeof *out);
    if (window_ms <= 0 || !p ||
        (n && (!incidents || !mem || !mem->durations || !mem->escalated || !mem->operators)))
        return VG_EINVAL;
    out->now_ms = now_ms;
    out->from_ms = now_ms - window_ms;
    out->escalated = n ? mem->escalated : NULL;
    out->operators = n ? mem->operators : NULL;

    for (size_t i = 0; i < n; i++) {
        const struct vg_incident *x = &incidents[i];
        unsigned prio =
            x->priority >= VG_PRIORITY_ALERT && x->priority <= VG_PRIORITY_INFO ? x->priority : 0;
        if (x->state == VG_INCIDENT_OPEN) {
            out->open[prio]++;
            out->n_open++;
            if (!out->oldest_open || x->opened_ms < out->oldest_open->opened_ms ||
                (x->opened_ms == out->oldest_open->opened_ms && x->id < out->oldest_open->id))
                out->oldest_open = x;
        } else if (x->state == VG_INCIDENT_TAKEN) {
            out->taken[prio]++;
            out->n_taken++;
            if (x->operator_name[0])
                operator_of(out, x->operator_name)->holding++;
        } else if (x->state == VG_INCIDENT_CLOSED && in_window(out, x->closed_ms)) {
            out->closed++;
            if (x->operator_name[0])
                operator_of(out, x->operator_name)->closed++;
        }
        if (x->state == VG_INCIDENT_OPEN || x->state == VG_INCIDENT_TAKEN) {
            int64_t late;
            enum vg_escalation why = overdue(x, p, now_ms, &late);
            if (why != VG_ESCALATE_NONE || x->escalation != VG_ESCALATE_NONE)
                out->escalated[out->n_escalated++] =
                    (struct vg_floor_escalated){.inc = x,
                                                .escalation = x->escalation,
                                                .overdue = (uint8_t)why,
                                                .late_ms = late};
        }
    }
    if (out->oldest_open)
        out->oldest_open_age_ms =
            now_ms > out->oldest_open->opened_ms ? now_ms - out->oldest_open->opened_ms : 0;

    /* response times: the incidents opened in the window */
    int64_t *d = n ? mem->durations : NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct vg_incident *x = &incidents[i];
        if (in_window(out, x->opened_ms) && x->state != VG_INCIDENT_OPEN && x->taken_ms > 0)
            d[k++] = x->taken_ms > x->opened_ms ? x->taken_ms - x->opened_ms : 0;
    }
    out->to_take = times_of(d, k);
    k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct vg_incident *x = &incidents[i];
        if (!in_window(out, x->opened_ms) || x->n_steps == 0 || x->taken_ms <= 0)
            continue;
        int64_t first = first_step_ms ? first_step_ms[i] : 0;
        if (first <= 0) { /* not known: the last step's time */
            first = x->last_step_ms;
            if (x->n_steps > 1)
                out->first_step_upper_bounds++;
        }
        d[k++] = first > x->taken_ms ? first - x->taken_ms : 0;
    }
    out->to_first_step = times_of(d, k);

    if (out->n_escalated > 1)
        qsort(out->escalated, out->n_escalated, sizeof *out->escalated, cmp_escalated);
    if (out->n_operators > 1)
        qsort(out->operators, out->n_operators, sizeof *out->operators, cmp_operator);
    return VG_OK;
}

int vg_floor_hours_parse(const char *text, int *hours)
{
    if (!text || !text[0] || strlen(text) > 3)
        return VG_EINVAL;
    int h = 0;
    for (const char *c = text; *c; c++) {
        if (*c < '0' || *c > '9')
            return VG_EINVAL;
        h = h * 10 + (*c - '0');
    }
    if (h < 1 || h > VG_FLOOR_MAX_HOURS)
        return VG_EINVAL;
    *hours = h;
    return VG_OK;
}
