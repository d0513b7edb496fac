/* A measure's activity, replayed (activity.h). */
#include "core/activity.h"

#include <stdbool.h>
#include <string.h>

#include "core/err.h"

#define DAY_S  86400
#define HOUR_S 3600

static int64_t local_s(const struct vg_tz *tz, int64_t utc_ms)
{
    int64_t s = utc_ms >= 0 ? utc_ms / 1000 : -((-utc_ms + 999) / 1000);
    return s + (tz ? vg_tz_offset_at(tz, s) : 0);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

struct run {
    const struct vg_tz *tz;
    int64_t from_ms, to_ms;
    bool lost[VG_UNIT_COUNT][2];       /* [unit][0 gnss, 1 comm] */
    int64_t lost_since[VG_UNIT_COUNT]; /* since either was lost (0: neither) */
    int64_t last_night;
    struct vg_activity *a;
};

static bool inside(const struct run *r, int64_t t)
{
    return t >= r->from_ms && t < r->to_ms;
}

/* The part of [start, end) inside the period. */
static int64_t overlap(const struct run *r, int64_t start, int64_t end)
{
    int64_t s = start > r->from_ms ? start : r->from_ms;
    int64_t e = end < r->to_ms ? end : r->to_ms;
    return e > s ? e - s : 0;
}

/* A unit's signal is lost while its GNSS or its communication is: the
 * union of both, so an outage that takes both is counted once. */
static void loss(struct run *r, const struct vg_alarm *al, int which, bool lost)
{
    if (al->unit >= VG_UNIT_COUNT)
        return;
    bool *l = r->lost[al->unit];
    bool before = l[0] || l[1];
    l[which] = lost;
    bool after = l[0] || l[1];
    if (!before && after)
        r->lost_since[al->unit] = al->raised_ms;
    else if (before && !after)
        r->a->signal_loss_ms[al->unit] += overlap(r, r->lost_since[al->unit], al->raised_ms);
}

static void count(struct run *r, const struct vg_engine_out *out, int64_t now)
{
    struct vg_activity *a = r->a;
    for (size_t i = 0; i < out->n_alarms; i++) {
        const struct vg_alarm *al = &out->alarms[i];
        switch (al->kind) { /* the losses' durations, whenever they began */
        case VG_ALARM_GNSS_LOST: loss(r, al, 0, true); break;
        case VG_ALARM_GNSS_RESTORED: loss(r, al, 0, false); break;
        case VG_ALARM_COMM_LOST: loss(r, al, 1, true); break;
        case VG_ALARM_COMM_RESTORED: loss(r, al, 1, false); break;
        default: break;
        }
        if (!inside(r, al->raised_ms))
            continue;
        if (al->kind < VG_ALARM_KIND__COUNT)
            a->by_kind[al->kind]++;
        if (al->priority < 6)
            a->by_priority[al->priority]++;
        if (al->priority >= VG_PRIORITY_ALERT && al->priority <= VG_PRIORITY_PREALERT) {
            a->operator_alerts++;
            int64_t l = local_s(r->tz, al->raised_ms);
            a->by_hour[(l % DAY_S + DAY_S) % DAY_S / HOUR_S]++;
        }
        if (al->kind == VG_ALARM_BATTERY_LOW || al->kind == VG_ALARM_BATTERY_CRITICAL)
            a->battery_incidents++;
    }
    for (size_t i = 0; i < out->n_commands; i++) {
        const struct vg_command *c = &out->commands[i];
        if (c->kind != VG_CMD_RING || c->unit != VG_UNIT_PROTECTED || !inside(r, now))
            continue;
        if (c->mode != VG_RING_LOUD) { /* her policy: a vibration, the screen: nobody woken */
            if (c->level < 3)
                a->quiet[c->level]++;
            continue;
        }
        if (c->level < 3)
            a->rings[c->level]++;
        int64_t l = local_s(r->tz, now);
        int64_t hour = (l % DAY_S + DAY_S) % DAY_S / HOUR_S;
        if (hour >= VG_ACTIVITY_NIGHT_FROM_H || hour < VG_ACTIVITY_NIGHT_TO_H) {
            /* the night of the evening it began: 22:00 to 07:00 the next day */
            int64_t night = floor_div(l - VG_ACTIVITY_NIGHT_TO_H * HOUR_S, DAY_S);
            if (night != r->last_night) {
                a->nights_disturbed++;
                r->last_night = night;
            }
        }
    }
}

/* Tick the engine through every deadline up to `until`. */
static int ticks(struct vg_engine_state *st, const struct vg_engine_config *cfg, int64_t until,
                 struct vg_engine_out *work, struct run *r)
{
    while (st->next_deadline_ms > 0 && st->next_deadline_ms <= until) {
        int64_t t = st->next_deadline_ms;
        int rc = vg_engine_tick(st, cfg, t, work);
        if (rc != VG_OK)
            return rc;
        count(r, work, t);
        if (st->next_deadline_ms <= t) /* no progress: stop rather than spin */
            break;
    }
    return VG_OK;
}

int vg_activity_replay(const struct vg_engine_config *cfg, const struct vg_activity_input *in,
                       size_t n, int64_t from_ms, int64_t to_ms, const struct vg_tz *tz,
                       struct vg_engine_out *work, struct vg_activity *out)
{
    memset(out, 0, sizeof *out);
    if (from_ms >= to_ms || vg_engine_config_check(cfg) != VG_OK)
        return VG_EINVAL;
    out->from_ms = from_ms;
    out->to_ms = to_ms;
    out->days = (double)(to_ms - from_ms) / 86400000.0;
    struct run r = {
        .tz = tz, .from_ms = from_ms, .to_ms = to_ms, .last_night = INT64_MIN, .a = out};
    /* the engine starts with the first record: before it, the units had
     * not spoken (a period before the measure, or before its installation,
     * is not a period of losses) */
    if (n == 0 || in[0].received_ms >= to_ms)
        return VG_OK;
    struct vg_engine_state st;
    int rc = vg_engine_init(&st, cfg, in[0].received_ms);
    for (size_t i = 0; rc == VG_OK && i < n && in[i].received_ms < to_ms; i++) {
        rc = ticks(&st, cfg, in[i].received_ms, work, &r);
        if (rc != VG_OK)
            break;
        /* a malformed record changes nothing (the centre stored it and
         * logged the refusal the first time) */
        if (vg_engine_feed(&st, cfg, &in[i].in, in[i].received_ms, work) == VG_OK) {
            count(&r, work, in[i].received_ms);
            out->records++;
        }
    }
    if (rc == VG_OK)
        rc = ticks(&st, cfg, to_ms - 1, work, &r);
    /* losses still running at the end of the period */
    for (int u = 0; u < VG_UNIT_COUNT; u++)
        if (r.lost[u][0] || r.lost[u][1])
            out->signal_loss_ms[u] += overlap(&r, r.lost_since[u], to_ms);
    out->operator_alerts_per_day = out->days > 0 ? out->operator_alerts / out->days : 0;
    out->rings_per_day = out->days > 0 ? (out->rings[1] + out->rings[2]) / out->days : 0;
    return rc;
}
