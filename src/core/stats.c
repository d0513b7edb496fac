/* The statistician's figures (stats.h): accumulate per court and month,
 * fold the small courts, withhold the small counts. */
#include "core/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/civil.h"
#include "core/err.h"
#include "core/lifecycle.h"

#define DAY_MS 86400000LL

/* ---- months ------------------------------------------------------------------------------ */

int vg_stats_month_parse(const char *text, int32_t *month)
{
    if (!text || !month || strlen(text) != 7 || text[4] != '-')
        return VG_EINVAL;
    int32_t year = 0, mon = 0;
    for (int i = 0; i < 7; i++) {
        if (i == 4)
            continue;
        if (text[i] < '0' || text[i] > '9')
            return VG_EINVAL;
        if (i < 4)
            year = year * 10 + (text[i] - '0');
        else
            mon = mon * 10 + (text[i] - '0');
    }
    if (mon < 1 || mon > 12 || year < VG_CIVIL_MIN_YEAR || year > VG_CIVIL_MAX_YEAR)
        return VG_EINVAL;
    *month = year * 12 + (mon - 1);
    return VG_OK;
}

void vg_stats_month_format(int32_t month, char out[8])
{
    int64_t year = vg_floor_div(month, 12);
    int64_t mon = vg_floor_mod(month, 12) + 1;
    if (year < 0 || year > 9999)
        year = 0; /* outside what parse gives; never printed wider than the buffer */
    snprintf(out, 8, "%04d-%02d", (int)year, (int)mon);
}

int64_t vg_stats_month_start_ms(int32_t month)
{
    struct vg_date d = {(int32_t)vg_floor_div(month, 12), (uint8_t)(vg_floor_mod(month, 12) + 1),
                        1};
    return vg_date_to_days(d) * DAY_MS;
}

int32_t vg_stats_month_of(int64_t utc_ms)
{
    /* clamped to the calendar's years: a wild time cannot overflow the
     * month's number */
    int64_t lo = vg_date_to_days((struct vg_date){VG_CIVIL_MIN_YEAR, 1, 1});
    int64_t hi = vg_date_to_days((struct vg_date){VG_CIVIL_MAX_YEAR, 12, 31});
    int64_t days = vg_floor_div(utc_ms, DAY_MS);
    days = days < lo ? lo : days > hi ? hi : days;
    struct vg_date d = vg_date_from_days(days);
    return d.year * 12 + (d.month - 1);
}

int vg_stats_period(const char *from, const char *to, int64_t now_ms, int32_t *first,
                    uint32_t *n_months, char *msg, size_t msg_len)
{
    int32_t f, t;
    if (to && vg_stats_month_parse(to, &t) != VG_OK) {
        snprintf(msg, msg_len, "to: a month as YYYY-MM");
        return VG_EINVAL;
    }
    if (from && vg_stats_month_parse(from, &f) != VG_OK) {
        snprintf(msg, msg_len, "from: a month as YYYY-MM");
        return VG_EINVAL;
    }
    if (!to)
        t = vg_stats_month_of(now_ms);
    if (!from)
        f = t - (VG_STATS_DEFAULT_MONTHS - 1);
    if (f > t) {
        snprintf(msg, msg_len, "from is after to");
        return VG_EINVAL;
    }
    if (t - f + 1 > VG_STATS_MAX_MONTHS) {
        snprintf(msg, msg_len, "at most %d months at once", VG_STATS_MAX_MONTHS);
        return VG_EINVAL;
    }
    *first = f;
    *n_months = (uint32_t)(t - f + 1);
    return VG_OK;
}

/* ---- accumulating -------------------------------------------------------------------------- */

void vg_stats_init(struct vg_stats *st, int32_t first_month, uint32_t n_months, int64_t now_ms,
                   const char *only_court)
{
    if (n_months < 1)
        n_months = 1;
    if (n_months > VG_STATS_MAX_MONTHS)
        n_months = VG_STATS_MAX_MONTHS;
    *st = (struct vg_stats){
        .first_month = first_month,
        .n_months = n_months,
        .from_ms = vg_stats_month_start_ms(first_month),
        .to_ms = vg_stats_month_start_ms(first_month + (int32_t)n_months),
        .now_ms = now_ms,
        .only_court = only_court,
    };
}

void vg_stats_memory(struct vg_stats *st, struct vg_stats_court *courts,
                     struct vg_stats_cell *cells, size_t cap_courts, struct vg_stats_delay *delays,
                     size_t cap_delays)
{
    st->courts = courts;
    st->cells = cells;
    st->cap_courts = cap_courts;
    st->delays = delays;
    st->cap_delays = cap_delays;
}

static struct vg_stats_cell *cell(const struct vg_stats *st, size_t court, uint32_t month)
{
    return &st->cells[court * st->n_months + month];
}

/* The month of the period holding t, or -1. */
static int month_index(const struct vg_stats *st, int64_t t)
{
    if (t < st->from_ms || t >= st->to_ms)
        return -1;
    return vg_stats_month_of(t) - st->first_month;
}

/* A court's name as kept: "" when there is none or when it is too long to
 * be one (it is then folded, like the measures without a court). */
static const char *court_name(const char *court)
{
    return court && strlen(court) <= VG_STATS_COURT_MAX ? court : "";
}

static int find_court(const struct vg_stats *st, const char *name)
{
    for (size_t i = 0; i < st->n_courts; i++)
        if (strcmp(st->courts[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* The part of [a, b) inside [c, d). */
static int64_t overlap_ms(int64_t a, int64_t b, int64_t c, int64_t d)
{
    int64_t lo = a > c ? a : c, hi = b < d ? b : d;
    return hi > lo ? hi - lo : 0;
}

int vg_stats_add(struct vg_stats *st, const struct vg_stats_measure *m)
{
    if (!st || !m || st->finished || m->n_versions == 0 || !m->versions ||
        (m->n_alarms && !m->alarms) || (m->n_incidents && !m->incidents) ||
        (m->n_losses && !m->losses))
        return VG_EINVAL;
    const char *name = court_name(m->court);
    if (st->only_court && (!st->only_court[0] || strcmp(name, st->only_court) != 0))
        return VG_OK; /* not the reader's court ("" is no court: nobody's) */

    const struct vg_stats_version *v = m->versions;
    size_t n = m->n_versions;
    int64_t declared_ms = v[0].created_ms;
    /* its first activation and its end */
    size_t activated = n, ended = n;
    for (size_t i = 0; i < n; i++) {
        if (activated == n && v[i].status == VG_STATUS_ACTIVE)
            activated = i;
        if (ended == n && v[i].status == VG_STATUS_ENDED)
            ended = i;
    }
    int64_t end_ms = ended < n ? v[ended].created_ms : INT64_MAX;
    bool in_period = declared_ms < st->to_ms && end_ms > st->from_ms && declared_ms < st->now_ms;
    for (size_t i = 0; i < m->n_alarms && !in_period; i++)
        in_period = month_index(st, m->alarms[i].raised_ms) >= 0 && m->alarms[i].count > 0;
    if (!in_period)
        return VG_OK;
    int activation_month = activated < n ? month_index(st, v[activated].created_ms) : -1;

    /* room first, so that VG_ENOSPC changes nothing: a new court takes its
     * slot and keeps one free for "other courts" */
    size_t delays = activation_month >= 0;
    for (size_t i = 0; i < m->n_incidents; i++)
        if (month_index(st, m->incidents[i].opened_ms) >= 0)
            delays += (m->incidents[i].taken_ms > 0) + (m->incidents[i].police_ms > 0);
    int c = find_court(st, name);
    if ((c < 0 && st->n_courts + 2 > st->cap_courts) || st->n_delays + delays > st->cap_delays)
        return VG_ENOSPC;
    if (c < 0) {
        c = (int)st->n_courts++;
        struct vg_stats_court *court = &st->courts[c];
        *court = (struct vg_stats_court){0};
        memcpy(court->name, name, strlen(name) + 1);
        memset(cell(st, (size_t)c, 0), 0, st->n_months * sizeof *st->cells);
    }
    st->courts[c].measures++;

    int k = month_index(st, declared_ms);
    if (k >= 0)
        cell(st, (size_t)c, (uint32_t)k)->declared++;
    if (activation_month >= 0) {
        cell(st, (size_t)c, (uint32_t)activation_month)->activations++;
        int64_t delay = v[activated].created_ms - declared_ms;
        st->delays[st->n_delays++] = (struct vg_stats_delay){
            (uint32_t)c, (uint32_t)activation_month, 0, delay > 0 ? delay : 0};
    }
    k = ended < n ? month_index(st, v[ended].created_ms) : -1;
    if (k >= 0 && v[ended].end_reason >= VG_END_LIFTED && v[ended].end_reason <= VG_END_REVOKED)
        cell(st, (size_t)c, (uint32_t)k)->ended[v[ended].end_reason]++;

    /* the time active: each active version to the next one (or now), cut
     * to the months of the period and to now */
    bool active_in[VG_STATS_MAX_MONTHS] = {false};
    int64_t until = min64(st->to_ms, st->now_ms);
    for (size_t i = 0; i < n && i <= ended; i++) {
        if (v[i].status != VG_STATUS_ACTIVE)
            continue;
        int64_t a = max64(v[i].created_ms, st->from_ms);
        int64_t b = min64(i + 1 < n ? v[i + 1].created_ms : INT64_MAX, until);
        for (uint32_t j = 0; j < st->n_months && a < b; j++) {
            int64_t m0 = vg_stats_month_start_ms(st->first_month + (int32_t)j);
            int64_t m1 = vg_stats_month_start_ms(st->first_month + (int32_t)j + 1);
            int64_t overlap = min64(b, m1) - max64(a, m0);
            if (overlap > 0) {
                struct vg_stats_cell *x = cell(st, (size_t)c, j);
                x->active_ms += overlap;
                x->unit_ms += overlap * m->n_units;
                active_in[j] = true;
                /* its units' losses within this active time of the month */
                for (size_t l = 0; m->n_units && l < m->n_losses; l++) {
                    int64_t lt = m->losses[l].to_ms > 0 ? m->losses[l].to_ms : st->now_ms;
                    x->loss_ms += overlap_ms(m->losses[l].from_ms, lt, max64(a, m0), min64(b, m1));
                }
            }
        }
    }

    /* incidents, in the month they were opened */
    bool incident_in[VG_STATS_MAX_MONTHS] = {false};
    for (size_t i = 0; i < m->n_incidents; i++) {
        const struct vg_stats_incident *inc = &m->incidents[i];
        k = month_index(st, inc->opened_ms);
        if (k < 0)
            continue;
        struct vg_stats_cell *x = cell(st, (size_t)c, (uint32_t)k);
        x->incidents++;
        incident_in[k] = true;
        if (inc->closed_ms > 0) {
            x->closed++;
            x->closed_without_police += inc->police_ms <= 0;
        }
        if (inc->taken_ms > 0) {
            x->taken++;
            st->delays[st->n_delays++] = (struct vg_stats_delay){
                (uint32_t)c, (uint32_t)k, 1, max64(0, inc->taken_ms - inc->opened_ms)};
        }
        if (inc->police_ms > 0) {
            x->police++;
            st->delays[st->n_delays++] = (struct vg_stats_delay){
                (uint32_t)c, (uint32_t)k, 2, max64(0, inc->police_ms - inc->opened_ms)};
        }
    }

    /* alarms; a measure counts once per month and kind however its rows
     * come */
    bool kind_in[VG_STATS_MAX_MONTHS][VG_ALARM_KIND__COUNT];
    bool alarm_in[VG_STATS_MAX_MONTHS] = {false};
    memset(kind_in, 0, sizeof kind_in);
    for (size_t i = 0; i < m->n_alarms; i++) {
        const struct vg_stats_alarms *a = &m->alarms[i];
        k = month_index(st, a->raised_ms);
        if (k < 0 || a->kind == 0 || a->kind >= VG_ALARM_KIND__COUNT || a->count == 0)
            continue;
        struct vg_stats_cell *x = cell(st, (size_t)c, (uint32_t)k);
        x->alarms[a->kind] += a->count;
        x->alarms_total += a->count;
        if (!kind_in[k][a->kind]) {
            kind_in[k][a->kind] = true;
            x->alarm_measures[a->kind]++;
        }
        alarm_in[k] = true;
    }
    for (uint32_t j = 0; j < st->n_months; j++) {
        if (active_in[j])
            cell(st, (size_t)c, j)->active_measures++;
        if (alarm_in[j])
            cell(st, (size_t)c, j)->alarms_total_measures++;
        if (incident_in[j])
            cell(st, (size_t)c, j)->incident_measures++;
    }
    return VG_OK;
}

/* ---- finishing ----------------------------------------------------------------------------- */

static void add_cell(struct vg_stats_cell *to, const struct vg_stats_cell *from)
{
    to->declared += from->declared;
    to->activations += from->activations;
    for (size_t i = 0; i < 4; i++)
        to->ended[i] += from->ended[i];
    /* a measure belongs to one court: the measures of two courts add up */
    to->active_measures += from->active_measures;
    to->active_ms += from->active_ms;
    for (size_t i = 0; i < VG_ALARM_KIND__COUNT; i++) {
        to->alarms[i] += from->alarms[i];
        to->alarm_measures[i] += from->alarm_measures[i];
    }
    to->alarms_total += from->alarms_total;
    to->alarms_total_measures += from->alarms_total_measures;
    to->incidents += from->incidents;
    to->incident_measures += from->incident_measures;
    to->closed += from->closed;
    to->closed_without_police += from->closed_without_police;
    to->taken += from->taken;
    to->police += from->police;
    to->unit_ms += from->unit_ms;
    to->loss_ms += from->loss_ms;
}

static int by_cell_then_delay(const void *pa, const void *pb)
{
    const struct vg_stats_delay *a = pa, *b = pb;
    if (a->court != b->court)
        return a->court < b->court ? -1 : 1;
    if (a->month != b->month)
        return a->month < b->month ? -1 : 1;
    if (a->what != b->what)
        return a->what < b->what ? -1 : 1;
    return (a->ms > b->ms) - (a->ms < b->ms);
}

void vg_stats_finish(struct vg_stats *st)
{
    if (!st || st->finished)
        return;
    st->finished = true;
    /* "other courts" takes the slot vg_stats_add kept free */
    size_t other = st->n_courts;
    bool folding = false;
    if (other < st->cap_courts) {
        st->courts[other] = (struct vg_stats_court){.name = VG_STATS_OTHER_COURTS};
        memset(cell(st, other, 0), 0, st->n_months * sizeof *st->cells);
    }
    for (size_t c = 0; c < st->n_courts; c++) {
        struct vg_stats_court *court = &st->courts[c];
        court->folded = !court->name[0] || court->measures < VG_STATS_THRESHOLD;
        if (!court->folded)
            continue;
        folding = true;
        st->courts[other].measures += court->measures;
        for (uint32_t j = 0; j < st->n_months; j++)
            add_cell(cell(st, other, j), cell(st, c, j));
    }

    /* the medians, once the delays of folded courts are with "other courts" */
    for (size_t i = 0; i < st->n_delays; i++)
        if (st->courts[st->delays[i].court].folded)
            st->delays[i].court = (uint32_t)other;
    qsort(st->delays, st->n_delays, sizeof *st->delays, by_cell_then_delay);
    for (size_t i = 0; i < st->n_delays;) {
        size_t g = i;
        while (g < st->n_delays && st->delays[g].court == st->delays[i].court &&
               st->delays[g].month == st->delays[i].month &&
               st->delays[g].what == st->delays[i].what)
            g++;
        size_t len = g - i, mid = i + len / 2;
        double median = len % 2 ? (double)st->delays[mid].ms
                                : ((double)st->delays[mid - 1].ms + (double)st->delays[mid].ms) / 2;
        struct vg_stats_cell *x = cell(st, st->delays[i].court, st->delays[i].month);
        if (st->delays[i].what == 0)
            x->median_delay_ms = median;
        else if (st->delays[i].what == 1)
            x->median_take_ms = median;
        else
            x->median_police_ms = median;
        i = g;
    }

    /* the rows: the courts shown by name in name order, then the others;
     * slot r's at_row says which court row r shows */
    size_t rows = 0;
    for (size_t c = 0; c < st->n_courts; c++) {
        if (st->courts[c].folded)
            continue;
        size_t rank = 0;
        for (size_t o = 0; o < st->n_courts; o++)
            if (!st->courts[o].folded && strcmp(st->courts[o].name, st->courts[c].name) < 0)
                rank++;
        st->courts[rank].at_row = (uint32_t)c;
        rows++;
    }
    if (folding)
        st->courts[rows++].at_row = (uint32_t)other;
    st->n_rows = rows;
}

/* ---- figures out --------------------------------------------------------------------------- */

size_t vg_stats_rows(const struct vg_stats *st)
{
    return st && st->finished ? st->n_rows : 0;
}

const char *vg_stats_row_court(const struct vg_stats *st, size_t row)
{
    if (row >= vg_stats_rows(st))
        return "";
    return st->courts[st->courts[row].at_row].name;
}

enum {
    M_DECLARED,
    M_ACTIVE_DAYS,
    M_ACTIVATIONS,
    M_DELAY,
    M_ENDED,                /* lifted, expired, revoked */
    M_ALARMS = M_ENDED + 3, /* in all */
    M_KINDS,                /* kind 1 ... */
    M_PER_PAIR_DAY = M_KINDS + VG_ALARM_KIND__COUNT - 1,
    M_INCIDENTS,
    M_FALSE_SHARE,
    M_TAKE,
    M_POLICE,
    M_UPTIME,
    M__COUNT
};

size_t vg_stats_n_metrics(void)
{
    return M__COUNT;
}

struct vg_stats_metric vg_stats_metric(size_t i)
{
    static const struct vg_stats_metric fixed[] = {
        [M_DECLARED] = {NULL, "measures_declared", 0},
        [M_ACTIVE_DAYS] = {NULL, "measures_active_days", 2},
        [M_ACTIVATIONS] = {NULL, "activations", 0},
        [M_DELAY] = {NULL, "activation_delay_median_hours", 1},
        [M_ENDED] = {"measures_ended", "lifted", 0},
        [M_ENDED + 1] = {"measures_ended", "expired", 0},
        [M_ENDED + 2] = {"measures_ended", "revoked", 0},
        [M_ALARMS] = {NULL, "alarms", 0},
    };
    if (i < M_KINDS)
        return fixed[i];
    if (i < M_PER_PAIR_DAY)
        return (struct vg_stats_metric){"alarms_by_kind",
                                        vg_alarm_kind_name((unsigned)(i - M_KINDS + 1)), 0};
    static const struct vg_stats_metric tail[] = {
        {NULL, "alarms_per_pair_day", 4},    {NULL, "incidents", 0},
        {NULL, "false_alarm_share", 4},      {NULL, "time_to_take_median_s", 1},
        {NULL, "time_to_police_median_s", 1}, {NULL, "device_uptime_share", 4},
    };
    if (i < M__COUNT)
        return tail[i - M_PER_PAIR_DAY];
    return (struct vg_stats_metric){NULL, "", 0};
}

/* A count someone could be singled out by. */
static bool small(uint64_t n)
{
    return n >= 1 && n < VG_STATS_THRESHOLD;
}

static struct vg_stats_value count(uint64_t n, bool withheld)
{
    if (withheld)
        return (struct vg_stats_value){.defined = true, .suppressed = true};
    return (struct vg_stats_value){.defined = true, .value = (double)n};
}

static bool kind_withheld(const struct vg_stats_cell *x, size_t kind)
{
    return small(x->alarms[kind]) || small(x->alarm_measures[kind]);
}

static bool total_withheld(const struct vg_stats_cell *x)
{
    if (small(x->alarms_total) || small(x->alarms_total_measures))
        return true;
    for (size_t k = 1; k < VG_ALARM_KIND__COUNT; k++)
        if (kind_withheld(x, k))
            return true;
    return false;
}

struct vg_stats_value vg_stats_value(const struct vg_stats *st, size_t row, uint32_t month,
                                     size_t metric)
{
    struct vg_stats_value none = {0};
    if (row >= vg_stats_rows(st) || month >= st->n_months || metric >= M__COUNT)
        return none;
    const struct vg_stats_cell *x = cell(st, st->courts[row].at_row, month);
    double days = (double)x->active_ms / (double)DAY_MS;
    bool days_withheld = small(x->active_measures);
    switch (metric) {
    case M_DECLARED: return count(x->declared, small(x->declared));
    case M_ACTIVATIONS: return count(x->activations, small(x->activations));
    case M_ACTIVE_DAYS:
        return days_withheld ? count(0, true)
                             : (struct vg_stats_value){.defined = true, .value = days};
    case M_DELAY:
        if (x->activations == 0)
            return none;
        if (small(x->activations))
            return count(0, true);
        return (struct vg_stats_value){.defined = true, .value = x->median_delay_ms / 3600000.0};
    case M_ALARMS: return count(x->alarms_total, total_withheld(x));
    case M_PER_PAIR_DAY:
        if (x->active_ms <= 0)
            return none;
        if (days_withheld || total_withheld(x))
            return count(0, true);
        return (struct vg_stats_value){.defined = true, .value = (double)x->alarms_total / days};
    case M_INCIDENTS:
        return count(x->incidents, small(x->incidents) || small(x->incident_measures));
    case M_FALSE_SHARE:
        if (x->closed == 0)
            return none;
        if (small(x->closed) || small(x->incident_measures) || small(x->closed_without_police) ||
            small(x->closed - x->closed_without_police))
            return count(0, true);
        return (struct vg_stats_value){
            .defined = true, .value = (double)x->closed_without_police / (double)x->closed};
    case M_TAKE:
    case M_POLICE: {
        uint32_t n = metric == M_TAKE ? x->taken : x->police;
        if (n == 0)
            return none;
        if (small(n) || small(x->incident_measures))
            return count(0, true);
        double ms = metric == M_TAKE ? x->median_take_ms : x->median_police_ms;
        return (struct vg_stats_value){.defined = true, .value = ms / 1000.0};
    }
    case M_UPTIME:
        if (x->unit_ms <= 0)
            return none;
        if (days_withheld)
            return count(0, true);
        return (struct vg_stats_value){
            .defined = true,
            .value = 1.0 - (double)min64(x->loss_ms, x->unit_ms) / (double)x->unit_ms};
    default: break;
    }
    if (metric >= M_ENDED && metric < M_ALARMS) {
        uint32_t n = x->ended[VG_END_LIFTED + (metric - M_ENDED)];
        return count(n, small(n));
    }
    size_t kind = metric - M_KINDS + 1;
    return count(x->alarms[kind], kind_withheld(x, kind));
}
