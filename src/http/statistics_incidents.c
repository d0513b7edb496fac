/* What the statistics need beyond the store's statistics rows
 * (statistics.c): each measure's incidents (opened, taken, the police
 * first alerted, closed) and its units' signal losses (from its GNSS and
 * communication alarms), read before the rows so that no read happens
 * inside another's callback. Nothing here names anyone either: times and
 * counts, handed to core/stats.c with the measure. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/alarm.h"
#include "core/err.h"
#include "core/incident.h"
#include "http/http_internal.h"

struct measure_extra {
    int64_t id;
    uint8_t n_units;
    struct vg_stats_incident *incidents;
    int64_t *incident_ids; /* parallel to incidents */
    size_t n_incidents, cap_incidents, cap_ids;
    struct vg_stats_loss *losses;
    size_t n_losses, cap_losses;
};

static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return VG_OK;
    size_t c = *cap ? 2 * *cap : 8;
    void *q = realloc(*p, c * elem);
    if (!q)
        return VG_ENOSPC;
    *p = q;
    *cap = c;
    return VG_OK;
}

static struct measure_extra *find(struct vg__stats_extra *x, int64_t id)
{
    size_t lo = 0, hi = x->n; /* measures come in id order */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->m[mid].id == id)
            return &x->m[mid];
        if (x->m[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- the measures and their units ----------------------------------------------------------- */

static int add_measure(void *arg, const struct vg_store_measure_row *r)
{
    struct vg__stats_extra *x = arg;
    if (grow((void **)&x->m, &x->cap, x->n, sizeof *x->m) != VG_OK)
        return VG_ENOSPC;
    json_t *def = json_loads(r->definition ? r->definition : "", 0, NULL);
    json_t *units = json_object_get(def, "units");
    const char *bracelet = json_string_value(json_object_get(units, "bracelet"));
    x->m[x->n++] =
        (struct measure_extra){.id = r->id, .n_units = (uint8_t)(bracelet && *bracelet ? 3 : 2)};
    json_decref(def);
    return 0;
}

/* ---- incidents ----------------------------------------------------------------------------------
 */

struct incident_read {
    struct vg__stats_extra *x;
    int64_t from_ms, to_ms;
    int64_t *with_steps; /* incidents of the period with steps: their police time to read */
    size_t n, cap;
};

static int add_incident(void *arg, const struct vg_incident *inc)
{
    struct incident_read *r = arg;
    if (inc->opened_ms < r->from_ms || inc->opened_ms >= r->to_ms)
        return 0;
    struct measure_extra *m = find(r->x, inc->measure_id);
    if (!m)
        return 0;
    if (grow((void **)&m->incidents, &m->cap_incidents, m->n_incidents, sizeof *m->incidents) !=
            VG_OK ||
        grow((void **)&m->incident_ids, &m->cap_ids, m->n_incidents, sizeof *m->incident_ids) !=
            VG_OK)
        return VG_ENOSPC;
    m->incident_ids[m->n_incidents] = inc->id;
    m->incidents[m->n_incidents++] = (struct vg_stats_incident){
        .opened_ms = inc->opened_ms,
        .taken_ms = inc->taken_ms,
        .closed_ms = inc->state == VG_INCIDENT_CLOSED ? inc->closed_ms : 0};
    if (inc->n_steps > 0) {
        if (grow((void **)&r->with_steps, &r->cap, r->n, 2 * sizeof *r->with_steps) != VG_OK)
            return VG_ENOSPC;
        r->with_steps[2 * r->n] = inc->id;
        r->with_steps[2 * r->n + 1] = inc->measure_id;
        r->n++;
    }
    return 0;
}

static int first_police(void *arg, const struct vg_store_incident_step *s)
{
    int64_t *at = arg;
    if (s->kind == VG_STEP_POLICE_ALERTED) {
        *at = s->at_ms;
        return 1;
    }
    return 0;
}

/* ---- losses ------------------------------------------------------------------------------------
 */

struct loss_read {
    struct measure_extra *m;
    bool lost[VG_UNIT_COUNT][2];
    int64_t since[VG_UNIT_COUNT];
};

/* A unit is without signal while its GNSS or its communication is lost. */
static int add_alarm(void *arg, const struct vg_store_alarm *a)
{
    struct loss_read *r = arg;
    const struct vg_alarm *al = &a->alarm;
    int which = al->kind == VG_ALARM_GNSS_LOST || al->kind == VG_ALARM_GNSS_RESTORED   ? 0
                : al->kind == VG_ALARM_COMM_LOST || al->kind == VG_ALARM_COMM_RESTORED ? 1
                                                                                       : -1;
    if (which < 0 || al->unit >= VG_UNIT_COUNT)
        return 0;
    bool lost = al->kind == VG_ALARM_GNSS_LOST || al->kind == VG_ALARM_COMM_LOST;
    bool *l = r->lost[al->unit];
    bool before = l[0] || l[1];
    l[which] = lost;
    bool after = l[0] || l[1];
    if (!before && after) {
        r->since[al->unit] = al->raised_ms;
    } else if (before && !after) {
        struct measure_extra *m = r->m;
        if (grow((void **)&m->losses, &m->cap_losses, m->n_losses, sizeof *m->losses) != VG_OK)
            return VG_ENOSPC;
        m->losses[m->n_losses++] = (struct vg_stats_loss){r->since[al->unit], al->raised_ms};
    }
    return 0;
}

static int close_losses(struct loss_read *r)
{
    for (int u = 0; u < VG_UNIT_COUNT; u++) {
        if (!r->lost[u][0] && !r->lost[u][1])
            continue;
        struct measure_extra *m = r->m;
        if (grow((void **)&m->losses, &m->cap_losses, m->n_losses, sizeof *m->losses) != VG_OK)
            return VG_ENOSPC;
        m->losses[m->n_losses++] = (struct vg_stats_loss){r->since[u], 0}; /* still lost */
    }
    return VG_OK;
}

/* ---- all of it ----------------------------------------------------------------------------------
 */

int vg__stats_extra_read(struct vg_store *s, int64_t from_ms, int64_t to_ms,
                         struct vg__stats_extra *x)
{
    memset(x, 0, sizeof *x);
    int rc = vg_store_measures(s, add_measure, x);
    struct incident_read ir = {.x = x, .from_ms = from_ms, .to_ms = to_ms};
    if (rc == VG_OK)
        rc = vg_store_incidents(s, false, add_incident, &ir);
    for (size_t i = 0; rc == VG_OK && i < ir.n; i++) {
        int64_t at = 0;
        rc = vg_store_incident_steps(s, ir.with_steps[2 * i], first_police, &at);
        if (rc == 1)
            rc = VG_OK;
        struct measure_extra *m = find(x, ir.with_steps[2 * i + 1]);
        for (size_t k = 0; rc == VG_OK && m && at > 0 && k < m->n_incidents; k++)
            if (m->incident_ids[k] == ir.with_steps[2 * i])
                m->incidents[k].police_ms = at;
    }
    free(ir.with_steps);
    for (size_t i = 0; rc == VG_OK && i < x->n; i++) {
        struct loss_read lr = {.m = &x->m[i]};
        rc = vg_store_alarms(s, x->m[i].id, 0, add_alarm, &lr);
        if (rc == VG_OK)
            rc = close_losses(&lr);
    }
    if (rc != VG_OK)
        vg__stats_extra_free(x);
    return rc;
}

void vg__stats_extra_of(const struct vg__stats_extra *x, int64_t measure_id,
                        struct vg_stats_measure *m)
{
    for (size_t i = 0; i < x->n; i++)
        if (x->m[i].id == measure_id) {
            m->incidents = x->m[i].incidents;
            m->n_incidents = x->m[i].n_incidents;
            m->losses = x->m[i].losses;
            m->n_losses = x->m[i].n_losses;
            m->n_units = x->m[i].n_units;
            return;
        }
}

void vg__stats_extra_free(struct vg__stats_extra *x)
{
    for (size_t i = 0; i < x->n; i++) {
        free(x->m[i].incidents);
        free(x->m[i].incident_ids);
        free(x->m[i].losses);
    }
    free(x->m);
    memset(x, 0, sizeof *x);
}
