/* The engine's entry points, the units' health and the grading of losses.
 * Zone crossings are in engine_zone.c. */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/err.h"
#include "core/window.h"

/* Changing the state's layout? Bump VG_ENGINE_STATE_VERSION, then this. */
_Static_assert(sizeof(struct vg_engine_state) == 1008, "engine state layout changed");

void vg_engine_params_default(struct vg_engine_params *p)
{
    *p = (struct vg_engine_params){
        .clear_k = 2.0,
        .suspect_k = 0.25,
        .exit_k = 1.0,
        .exit_margin_frac = 0.02,
        .exit_margin_min_m = 50.0,
        .dwell_ms = 10000,
        .confirm_timeout_ms = 60000,
        .exit_dwell_ms = 60000,
        .max_speed_mps = 90.0, /* 324 km/h: a high-speed train */
        .drift_mps = 2.0,
        .age_cap_ms = 600000,
        .fuse_past_fix = 1,
        .jump_accel_mps2 = 10.0, /* 1 g: a car's emergency braking */
        .jump_hold_ms = 25000,
        .clock_skew_ms = 30000,
        .late_after_ms = 120000,
        .reach_speed_mps = 25.0, /* 90 km/h, door to door */
        .settled_walk_mps = 2.0,
        .settled_start_ms = 600000,
        .settled_min_ms = 150000,
        .settled_radius_m = 100.0,
        .near_nofix_records = 2,
        .near_silence_ms = 20000,
        .net_k = 1.5,
        .net_min_m = 300.0,
        .net_after_ms = 120000,
        .gnss_loss_after_ms = 180000,
        .comm_loss_after_ms = 300000,
        .battery_low_pct = 20,
        .battery_critical_pct = 5,
        .battery_recovered_pct = 25,
        .report_interval_ms = 60000,
        .fast_interval_ms = 5000,
        .fast_margin_m = 2000.0,
        .fast_horizon_ms = 180000,
        .fast_hold_ms = 300000,
        .approach_memory_ms = 600000,
        .ring_closing_mps = 1.0,
    };
}

void vg_ring_policy_default(struct vg_ring_policy *rp)
{
    *rp = (struct vg_ring_policy){.prealert_day = VG_RING_LOUD,
                                  .prealert_night = VG_RING_VIBRATE,
                                  .night_from_min = 22 * 60,
                                  .night_to_min = 7 * 60};
}

int vg_ring_policy_check(const struct vg_ring_policy *rp)
{
    if (!rp || rp->prealert_day > VG_RING_SILENT || rp->prealert_night > VG_RING_SILENT ||
        rp->night_from_min < 0 || rp->night_from_min >= 1440 || rp->night_to_min < 0 ||
        rp->night_to_min >= 1440)
        return VG_EINVAL;
    return VG_OK;
}

static bool positive_finite(double x)
{
    return isfinite(x) && x > 0.0;
}

int vg_engine_params_check(const struct vg_engine_params *p)
{
    if (!p)
        return VG_EINVAL;
    if (!positive_finite(p->clear_k) || !isfinite(p->suspect_k) || p->suspect_k < 0.0 ||
        p->suspect_k > p->clear_k || !positive_finite(p->exit_k) ||
        !isfinite(p->exit_margin_frac) || p->exit_margin_frac < 0.0 ||
        !isfinite(p->exit_margin_min_m) || p->exit_margin_min_m < 0.0 ||
        !positive_finite(p->max_speed_mps) || !positive_finite(p->drift_mps) ||
        !positive_finite(p->reach_speed_mps) || !positive_finite(p->fast_margin_m) ||
        !positive_finite(p->settled_walk_mps) || p->settled_walk_mps > p->reach_speed_mps ||
        !isfinite(p->settled_radius_m) || p->settled_radius_m < 0.0 || p->near_nofix_records < 1 ||
        p->near_nofix_records > 255 || !isfinite(p->net_k) || p->net_k < 1.0 ||
        !isfinite(p->net_min_m) || p->net_min_m < 0.0 || p->net_after_ms < 0 ||
        !positive_finite(p->ring_closing_mps) || !positive_finite(p->jump_accel_mps2))
        return VG_EINVAL;
    if (p->dwell_ms < 0 || p->confirm_timeout_ms <= 0 || p->exit_dwell_ms < 0 ||
        p->age_cap_ms < 0 || p->clock_skew_ms < 0 || p->late_after_ms < 0 ||
        p->gnss_loss_after_ms <= 0 || p->comm_loss_after_ms <= 0 || p->fast_horizon_ms < 0 ||
        p->fast_hold_ms < 0 || p->approach_memory_ms <= 0 || p->report_interval_ms <= 0 ||
        p->settled_start_ms < 0 || p->settled_min_ms < 0 || p->near_silence_ms <= 0 ||
        p->fast_interval_ms <= 0 || p->jump_hold_ms < 0 ||
        (p->fuse_past_fix != 0 && p->fuse_past_fix != 1))
        return VG_EINVAL;
    /* a day bounds every duration, so that no sum of times can overflow */
    const int64_t day = 86400000;
    if (p->dwell_ms > day || p->confirm_timeout_ms > day || p->exit_dwell_ms > day ||
        p->age_cap_ms > day || p->clock_skew_ms > day || p->late_after_ms > day ||
        p->gnss_loss_after_ms > day || p->comm_loss_after_ms > day || p->fast_horizon_ms > day ||
        p->fast_hold_ms > day || p->approach_memory_ms > day || p->settled_start_ms > day ||
        p->settled_min_ms > day || p->near_silence_ms > day || p->net_after_ms > day ||
        p->jump_hold_ms > day)
        return VG_ERANGE;
    if (p->battery_critical_pct < 0 || p->battery_critical_pct >= p->battery_low_pct ||
        p->battery_low_pct >= p->battery_recovered_pct || p->battery_recovered_pct > 100)
        return VG_EINVAL;
    return VG_OK;
}

int vg_engine_config_check(const struct vg_engine_config *cfg)
{
    if (!cfg || vg_engine_params_check(cfg->params) != VG_OK)
        return VG_EINVAL;
    if (!isfinite(cfg->alert_radius_m))
        return VG_EINVAL;
    if (cfg->alert_radius_m < VG_ALERT_RADIUS_MIN_M || cfg->alert_radius_m > VG_ALERT_RADIUS_MAX_M)
        return VG_ERANGE;
    if (cfg->n_zones > VG_ENGINE_MAX_FIXED_ZONES)
        return VG_ERANGE;
    if (cfg->n_zones > 0 && !cfg->zones)
        return VG_EINVAL;
    for (size_t i = 0; i < cfg->n_zones; i++) {
        if (vg_zone_check(&cfg->zones[i]) != VG_OK)
            return VG_EINVAL;
        if (cfg->zones[i].n_windows > 0 && !cfg->tz)
            return VG_EINVAL; /* windows are in local time */
    }
    if (cfg->ring && vg_ring_policy_check(cfg->ring) != VG_OK)
        return VG_EINVAL;
    return VG_OK;
}

/* ---- output ------------------------------------------------------------ */

struct vg_alarm *vg__alarm(struct vg__ctx *c, enum vg_alarm_kind kind, enum vg_unit unit,
                           enum vg_alarm_priority priority, int64_t at_ms)
{
    struct vg_engine_out *out = c->out;
    /* VG_ENGINE_OUT_MAX_ALARMS is the worst case of one input: more is a bug. */
    assert(out->n_alarms < VG_ENGINE_OUT_MAX_ALARMS);
    struct vg_alarm *a = &out->alarms[out->n_alarms++];
    memset(a, 0, sizeof *a);
    a->seq = ++c->s->alarm_seq;
    a->kind = (uint16_t)kind;
    a->unit = (uint8_t)unit;
    a->priority = (uint8_t)priority;
    a->flags = c->extra_flags;
    /* Late: the record that revealed it reached us long after it was made
     * (a backlog). An alarm of time passing (a loss, a timeout) is not. */
    if (c->now - c->record_ms > c->p->late_after_ms)
        a->flags |= VG_ALARM_F_LATE;
    a->zone_index = VG_ZONE_INDEX_NONE;
    a->at_ms = at_ms;
    a->raised_ms = c->now;
    a->ev.distance_m = -1.0;
    a->ev.author_closed_m = (double)c->s->closed_by[VG__AUTHOR];
    a->ev.protected_closed_m = (double)c->s->closed_by[VG__PROTECTED];
    const struct vg_track_fix *af = vg__latest(&c->s->party[VG__AUTHOR]);
    const struct vg_track_fix *pf = vg__latest(&c->s->party[VG__PROTECTED]);
    if (af)
        vg__fix_from_track(&a->ev.author_fix, af);
    if (pf)
        vg__fix_from_track(&a->ev.protected_fix, pf);
    if (af && pf) {
        a->ev.distance_m =
            vg_geo_fast_distance(&c->s->party[VG__AUTHOR].pos, &c->s->party[VG__PROTECTED].pos);
        int64_t t = af->time_ms > pf->time_ms ? af->time_ms : pf->time_ms;
        double ua = vg__aged_accuracy(c, af, t);
        double up = vg__aged_accuracy(c, pf, t);
        a->ev.uncertainty_m = sqrt(ua * ua + up * up);
    }
    return a;
}

struct vg_command *vg__command(struct vg__ctx *c, enum vg_command_kind kind, enum vg_unit unit,
                               uint8_t level, int16_t zone_index, int32_t interval_ms)
{
    struct vg_engine_out *out = c->out;
    assert(out->n_commands < VG_ENGINE_OUT_MAX_COMMANDS);
    struct vg_command *cmd = &out->commands[out->n_commands++];
    memset(cmd, 0, sizeof *cmd);
    cmd->kind = (uint8_t)kind;
    cmd->unit = (uint8_t)unit;
    cmd->level = level;
    cmd->zone_index = zone_index;
    cmd->interval_ms = interval_ms;
    return cmd;
}

static int party_of_unit(unsigned unit)
{
    return unit == VG_UNIT_PROTECTED ? VG__PROTECTED : VG__AUTHOR;
}

/* ---- losses of the author's position ------------------------------------ */

static bool author_position_lost(const struct vg_engine_state *s)
{
    const struct vg_unit_state *u = &s->unit[VG_UNIT_AUTHOR];
    return s->party[VG__AUTHOR].gnss_lost || u->comm_lost || u->powered_off;
}

/* Whether the author was settled at his last fix: his last fixes, spanning
 * at least settled_min_ms, all within settled_radius_m (plus the latest's
 * accuracy) of the latest, and the latest not moving. A position lost then
 * is most likely lost indoors. */
static bool author_settled(const struct vg__ctx *c)
{
    const struct vg_party_state *ps = &c->s->party[VG__AUTHOR];
    const struct vg_engine_params *p = c->p;
    if (ps->n_hist < 2)
        return false;
    const struct vg_track_fix *a = &ps->hist[ps->n_hist - 1];
    if (a->time_ms - ps->hist[0].time_ms < p->settled_min_ms)
        return false;
    if (a->speed_cms != 0xffff && (double)a->speed_cms / 100.0 > p->settled_walk_mps)
        return false;
    double limit = p->settled_radius_m + (double)a->accuracy_m;
    for (unsigned i = 0; i + 1 < ps->n_hist; i++) {
        struct vg_geo_prepared q;
        vg_geo_prepare(&q,
                       (struct vg_geo_point){ps->hist[i].lat_e7 * 1e-7, ps->hist[i].lon_e7 * 1e-7});
        if (vg_geo_fast_distance(&q, &ps->pos) > limit)
            return false;
    }
    return true;
}

/* How the author's reach grows while he is unseen: at `early` m/s for the
 * first early_s seconds after his last fix, at `late` m/s after. */
struct reach_model {
    double early, early_s, late;
};

static struct reach_model reach_model_of(const struct vg__ctx *c, const struct vg_track_fix *a)
{
    const struct vg_engine_params *p = c->p;
    /* moving faster than the reach speed (a fast car): his own speed */
    double v = p->reach_speed_mps;
    if (a->speed_cms != 0xffff && 1.25 * (double)a->speed_cms / 100.0 > v)
        v = 1.25 * (double)a->speed_cms / 100.0;
    struct reach_model m = {v, 0.0, v};
    if (author_settled(c)) {
        m.early = p->settled_walk_mps;
        m.early_s = (double)p->settled_start_ms / 1000.0;
    }
    return m;
}

static double reach_after(const struct reach_model *m, double t)
{
    if (t <= m->early_s)
        return m->early * t;
    return m->early * m->early_s + m->late * (t - m->early_s);
}

/* Seconds from elapsed_s on until a gap of gap_m closes, the reach growing
 * by the model and the target's own uncertainty at extra m/s. */
static double seconds_to_close(const struct reach_model *m, double elapsed_s, double gap_m,
                               double extra)
{
    double t = 0.0;
    if (elapsed_s < m->early_s) {
        double span = m->early_s - elapsed_s;
        double rate = m->early + extra;
        if (gap_m <= rate * span)
            return gap_m / rate;
        gap_m -= rate * span;
        t = span;
    }
    return t + gap_m / (m->late + extra);
}

/* Seconds until a disc of `reach` metres around `from`, growing by the
 * model from elapsed_s on, first touches an alert ring not covered by an
 * open window now (<= 0: it already does; HUGE_VAL: never). */
static double seconds_to_ring(struct vg__ctx *c, const struct vg_geo_prepared *from, double reach,
                              const struct reach_model *model, double elapsed_s)
{
    struct vg_engine_state *s = c->s;
    const struct vg_engine_params *p = c->p;
    double soonest = HUGE_VAL;
    for (size_t i = 0; i < c->cfg->n_zones; i++) {
        const struct vg_zone *z = &c->cfg->zones[i];
        if (z->n_windows) {
            int64_t next;
            if (vg_windows_open_at(z->windows, z->n_windows, c->cfg->tz, c->now, &next))
                continue; /* authorised now; the window's end is a deadline of its own */
        }
        double gap = vg_zone_distance(z, from, HUGE_VAL) - z->alert_radius_m - reach;
        double seconds = gap <= 0.0 ? gap : seconds_to_close(model, elapsed_s, gap, 0.0);
        if (seconds < soonest)
            soonest = seconds;
    }
    const struct vg_track_fix *pf = vg__latest(&s->party[VG__PROTECTED]);
    if (pf) {
        double gap = vg_geo_fast_distance(from, &s->party[VG__PROTECTED].pos) -
                     vg__aged_accuracy(c, pf, c->now) - c->cfg->alert_radius_m - reach;
        /* her own uncertainty keeps growing until its age cap */
        double extra = 0.0;
        if (c->now - pf->time_ms < p->age_cap_ms)
            extra = p->drift_mps > (double)pf->speed_cms / 100.0 || pf->speed_cms == 0xffff
                        ? p->drift_mps
                        : (double)pf->speed_cms / 100.0;
        double seconds = gap <= 0.0 ? gap : seconds_to_close(model, elapsed_s, gap, extra);
        if (seconds < soonest)
            soonest = seconds;
    }
    return soonest;
}

/* The disc the author may have covered since his last fix, against every
 * alert ring not covered by an open window now. Also says when, at the
 * reach speed, the disc will first touch one (INT64_MAX if never): the
 * engine's deadline for escalating the loss.
 *
 * A network position newer than his last fix is a second disc he is in
 * (its judged accuracy, growing at the reach speed from its time: no
 * settled allowance, it is the cruder evidence): a ring is reachable only
 * when both discs touch it. Two discs that do not meet contradict each
 * other (a wrong cell, or faster than the reach speed): the network
 * position is then ignored, and the GNSS disc alone decides, as without
 * it. Each disc's soonest ring is taken apart (the later of the two
 * decides): never later than ring by ring, so on the side of raising. */
bool vg__author_reachable(struct vg__ctx *c, double *reach_m, int64_t *when_ms)
{
    struct vg_engine_state *s = c->s;
    const struct vg_party_state *ps = &s->party[VG__AUTHOR];
    const struct vg_track_fix *a = vg__latest(ps);
    *when_ms = INT64_MAX;
    if (!a) { /* never seen: he could be anywhere */
        *reach_m = HUGE_VAL;
        *when_ms = c->now;
        return true;
    }
    int64_t elapsed = c->now - a->time_ms;
    if (elapsed < 0)
        elapsed = 0;
    struct reach_model model = reach_model_of(c, a);
    double elapsed_s = (double)elapsed / 1000.0;
    double reach = (double)a->accuracy_m + reach_after(&model, elapsed_s);
    *reach_m = reach;
    double soonest = seconds_to_ring(c, &ps->pos, reach, &model, elapsed_s);

    /* the estimate places his unit: with the bracelet out of its reach
     * (the unit left behind) it says nothing of where he is */
    if (ps->net.time_ms > a->time_ms && s->unit[VG_UNIT_AUTHOR].bracelet_link != 0) {
        struct vg_geo_prepared npos;
        vg_geo_prepare(&npos, (struct vg_geo_point){ps->net.lat_e7 * 1e-7, ps->net.lon_e7 * 1e-7});
        int64_t nel = c->now - ps->net.time_ms;
        double nel_s = (double)(nel > 0 ? nel : 0) / 1000.0;
        struct reach_model plain = {model.late, 0.0, model.late};
        double nreach = (double)ps->net.accuracy_m + reach_after(&plain, nel_s);
        if (vg_geo_fast_distance(&ps->pos, &npos) <= reach + nreach) {
            double nsoonest = seconds_to_ring(c, &npos, nreach, &plain, nel_s);
            if (nsoonest > soonest)
                soonest = nsoonest;
        }
    }
    if (soonest <= 0.0) {
        *when_ms = c->now;
        return true;
    }
    if (isfinite(soonest)) {
        *when_ms = c->now + (int64_t)ceil(soonest * 1000.0);
    }
    return false;
}

/* Raise a loss (GNSS, network, power) of a unit; a loss of the author's
 * position is graded by reachability. */
static void raise_loss(struct vg__ctx *c, enum vg_alarm_kind kind, enum vg_unit unit,
                       enum vg_alarm_priority usual, int64_t at_ms)
{
    struct vg_engine_state *s = c->s;
    struct vg_alarm *a = vg__alarm(c, kind, unit, usual, at_ms);
    if (unit == VG_UNIT_AUTHOR) {
        double reach;
        int64_t when;
        bool urgent = vg__author_reachable(c, &reach, &when);
        a->ev.reach_m = isfinite(reach) ? reach : -1.0;
        if (urgent) {
            a->flags |= VG_ALARM_F_URGENT;
            a->priority = VG_PRIORITY_ALERT;
            s->party[VG__AUTHOR].loss_urgent = 1;
        }
    }
}

/* Near a zone, fixes come every few seconds: consecutive "no fix" records
 * from the author's unit are a loss of his position already, urgent when
 * he could be inside an alert ring by now (a man who drives into a tunnel
 * or switches a jammer on at the edge of her pre-alert ring). Far from
 * every zone, the usual timer decides. */
static void near_nofix(struct vg__ctx *c, int64_t at_ms)
{
    struct vg_engine_state *s = c->s;
    struct vg_party_state *ps = &s->party[VG__AUTHOR];
    const struct vg_unit_state *u = &s->unit[VG_UNIT_AUTHOR];
    if (ps->gnss_lost || u->comm_lost || u->powered_off || !s->fast ||
        ps->nofix < c->p->near_nofix_records || !vg__latest(ps))
        return;
    double reach;
    int64_t when;
    if (!vg__author_reachable(c, &reach, &when))
        return;
    ps->gnss_lost = 1;
    (void)at_ms;
    raise_loss(c, VG_ALARM_GNSS_LOST, VG_UNIT_AUTHOR, VG_PRIORITY_TECHNICAL,
               vg__latest(ps)->time_ms);
}

/* Whether the author's unit reports at the fast cadence: fast reporting
 * is on and his last two fixes came at most two fast intervals apart (a
 * unit not yet switched to it must not look silent). */
static bool author_fast_cadence(const struct vg__ctx *c)
{
    const struct vg_party_state *ps = &c->s->party[VG__AUTHOR];
    if (!c->s->fast || ps->n_hist < 2)
        return false;
    return ps->hist[ps->n_hist - 1].time_ms - ps->hist[ps->n_hist - 2].time_ms <=
           2 * (int64_t)c->p->fast_interval_ms;
}

static void escalate_loss(struct vg__ctx *c)
{
    struct vg_engine_state *s = c->s;
    if (!author_position_lost(s) || s->party[VG__AUTHOR].loss_urgent)
        return;
    double reach;
    int64_t when;
    if (!vg__author_reachable(c, &reach, &when))
        return;
    const struct vg_unit_state *u = &s->unit[VG_UNIT_AUTHOR];
    enum vg_alarm_kind kind = u->powered_off ? VG_ALARM_UNIT_SWITCHED_OFF
                              : u->comm_lost ? VG_ALARM_COMM_LOST
                                             : VG_ALARM_GNSS_LOST;
    struct vg_alarm *a = vg__alarm(c, kind, VG_UNIT_AUTHOR, VG_PRIORITY_ALERT, c->now);
    a->flags |= VG_ALARM_F_URGENT | VG_ALARM_F_ESCALATION;
    a->ev.reach_m = isfinite(reach) ? reach : -1.0;
    s->party[VG__AUTHOR].loss_urgent = 1;
}

/* ---- units -------------------------------------------------------------- */

/* A unit coming back (on again, or reachable again) gets its GNSS
 * supervision afresh: its receiver needs a moment for a fix, and the loss
 * while it was away has been raised as what it was (off, unreachable). */
static void unit_back(struct vg__ctx *c, enum vg_unit unit)
{
    if (unit == VG_UNIT_BRACELET)
        return;
    struct vg_party_state *ps = &c->s->party[party_of_unit(unit)];
    if (ps->last_fix_rx_ms < c->now)
        ps->last_fix_rx_ms = c->now;
}

/* Anything from a unit: it is reachable, and on if the record is newer
 * than its last switching off. */
static void heard(struct vg__ctx *c, enum vg_unit unit, int64_t record_ms)
{
    struct vg_unit_state *u = &c->s->unit[unit];
    u->last_heard_ms = c->now;
    bool back = false;
    if (u->comm_lost) {
        u->comm_lost = 0;
        back = true;
        /* The event is hearing the unit again, now: not the time of the
         * record that revealed it, which after an outage is the oldest of a
         * backlog, made just after the unit was cut off (stamped with it, an
         * outage of minutes would look like one of seconds). Centre time,
         * like comm_lost's (when it was last heard), and never late. */
        struct vg_alarm *a = vg__alarm(c, VG_ALARM_COMM_RESTORED, unit, VG_PRIORITY_INFO, c->now);
        a->flags &= (uint8_t)~VG_ALARM_F_LATE;
    }
    if (u->powered_off && record_ms > u->power_ms) {
        u->powered_off = 0;
        u->power_ms = record_ms;
        back = true;
        vg__alarm(c, VG_ALARM_UNIT_SWITCHED_ON, unit, VG_PRIORITY_INFO, record_ms);
    }
    if (back)
        unit_back(c, unit);
}

#define LATE_STRAP            0x01
#define LATE_SKIN             0x02
#define LATE_LINK             0x04
#define LATE_BATTERY_LOW      0x08
#define LATE_BATTERY_CRITICAL 0x10
#define LATE_POWER            0x20
#define LATE_BEACON           0x40

/* The protected person's unit heard the bracelet's short-range beacon: the
 * author is within tens of metres of her, whatever the positions say (his
 * GNSS may be jammed, or hers lost indoors). Her unit has already rung on
 * its own; the centre treats it as an alert. The evidence carries the
 * unit's range estimate as the distance, with an uncertainty as large as
 * the estimate (signal-strength ranging is good to a factor of about two);
 * the positions, when known, are in the fixes as for any alarm. */
static void beacon_alarm(struct vg__ctx *c, const struct vg_unit_status *st, bool late)
{
    struct vg_alarm *a =
        vg__alarm(c, VG_ALARM_BEACON_DETECTED, VG_UNIT_PROTECTED, VG_PRIORITY_ALERT, st->time_ms);
    if (late)
        a->flags |= VG_ALARM_F_LATE;
    if (st->beacon_range_m >= 0) {
        a->ev.distance_m = st->beacon_range_m;
        a->ev.uncertainty_m = st->beacon_range_m;
    }
}

/* Neutralisation for the author's devices; the protected person's unit
 * going flat or off is a technical matter (her protection weakens, but
 * nobody is defeating it). */
static enum vg_alarm_priority device_priority(enum vg_unit unit)
{
    return unit == VG_UNIT_PROTECTED ? VG_PRIORITY_TECHNICAL : VG_PRIORITY_NEUTRALISATION;
}

static uint8_t battery_level_of(const struct vg_engine_params *p, int pct, uint8_t current)
{
    if (pct <= p->battery_critical_pct)
        return 2;
    if (pct <= p->battery_low_pct)
        return current == 2 ? 2 : 1; /* stays critical until recovered */
    if (pct < p->battery_recovered_pct)
        return current; /* the hysteresis band: no change either way */
    return 0;
}

/* A status older than the one applied: report what it shows that is bad
 * and not the present state, once, as late. */
static void late_status(struct vg__ctx *c, enum vg_unit unit, const struct vg_unit_status *st)
{
    struct vg_unit_state *u = &c->s->unit[unit];
    struct {
        int8_t value, current;
        uint8_t bit;
        enum vg_alarm_kind kind;
    } sensors[] = {
        {st->strap_closed, u->strap_closed, LATE_STRAP, VG_ALARM_STRAP_OPENED},
        {st->skin_contact, u->skin_contact, LATE_SKIN, VG_ALARM_SKIN_CONTACT_LOST},
        {st->bracelet_link, u->bracelet_link, LATE_LINK, VG_ALARM_BRACELET_SEPARATED},
    };
    for (size_t i = 0; i < sizeof sensors / sizeof sensors[0]; i++) {
        if (sensors[i].value == 0 && sensors[i].current != 0 &&
            !(u->late_reported & sensors[i].bit)) {
            struct vg_alarm *a =
                vg__alarm(c, sensors[i].kind, unit, VG_PRIORITY_NEUTRALISATION, st->time_ms);
            a->flags |= VG_ALARM_F_LATE;
            u->late_reported |= sensors[i].bit;
        }
    }
    if (st->beacon_heard == 1 && u->beacon_heard != 1 && !(u->late_reported & LATE_BEACON)) {
        beacon_alarm(c, st, true);
        u->late_reported |= LATE_BEACON;
    }
    if (st->battery_pct >= 0) {
        uint8_t then = battery_level_of(c->p, st->battery_pct, 0);
        if (then == 2 && u->battery_level < 2 && !(u->late_reported & LATE_BATTERY_CRITICAL)) {
            struct vg_alarm *a =
                vg__alarm(c, VG_ALARM_BATTERY_CRITICAL, unit, device_priority(unit), st->time_ms);
            a->flags |= VG_ALARM_F_LATE;
            u->late_reported |= LATE_BATTERY_CRITICAL | LATE_BATTERY_LOW;
        } else if (then == 1 && u->battery_level < 1 && !(u->late_reported & LATE_BATTERY_LOW)) {
            struct vg_alarm *a =
                vg__alarm(c, VG_ALARM_BATTERY_LOW, unit, VG_PRIORITY_TECHNICAL, st->time_ms);
            a->flags |= VG_ALARM_F_LATE;
            u->late_reported |= LATE_BATTERY_LOW;
        }
    }
}

/* One on/off sensor: an alarm on each change; unknown (-1) changes nothing. */
static void sensor(struct vg__ctx *c, enum vg_unit unit, int8_t value, int8_t *current,
                   enum vg_alarm_kind bad, enum vg_alarm_kind good, int64_t at_ms)
{
    if (value < 0 || value == *current)
        return;
    if (value == 0)
        vg__alarm(c, bad, unit, VG_PRIORITY_NEUTRALISATION, at_ms);
    else if (*current == 0) /* from unknown to good is not news */
        vg__alarm(c, good, unit, VG_PRIORITY_INFO, at_ms);
    *current = value;
}

static void feed_status(struct vg__ctx *c, enum vg_unit unit, const struct vg_unit_status *st)
{
    struct vg_engine_state *s = c->s;
    struct vg_unit_state *u = &s->unit[unit];
    heard(c, unit == VG_UNIT_BRACELET ? VG_UNIT_AUTHOR : unit, st->time_ms);
    if (st->time_ms < u->status_ms) {
        late_status(c, unit, st);
        return;
    }
    u->status_ms = st->time_ms;
    u->late_reported &= (uint8_t) ~(LATE_STRAP | LATE_SKIN | LATE_LINK | LATE_BATTERY_LOW |
                                    LATE_BATTERY_CRITICAL | LATE_BEACON);

    sensor(c, unit, st->strap_closed, &u->strap_closed, VG_ALARM_STRAP_OPENED,
           VG_ALARM_STRAP_CLOSED, st->time_ms);
    sensor(c, unit, st->skin_contact, &u->skin_contact, VG_ALARM_SKIN_CONTACT_LOST,
           VG_ALARM_SKIN_CONTACT_RESTORED, st->time_ms);
    sensor(c, unit, st->bracelet_link, &u->bracelet_link, VG_ALARM_BRACELET_SEPARATED,
           VG_ALARM_BRACELET_RECONNECTED, st->time_ms);
    if (st->beacon_heard == 1 && u->beacon_heard != 1)
        beacon_alarm(c, st, false);
    else if (st->beacon_heard == 0 && u->beacon_heard == 1)
        vg__alarm(c, VG_ALARM_BEACON_LOST, VG_UNIT_PROTECTED, VG_PRIORITY_INFO, st->time_ms);
    if (st->beacon_heard >= 0)
        u->beacon_heard = st->beacon_heard;
    if (st->charging >= 0)
        u->charging = st->charging;
    if (st->battery_pct >= 0) {
        u->battery_pct = st->battery_pct;
        uint8_t level = battery_level_of(c->p, st->battery_pct, u->battery_level);
        if (level > u->battery_level)
            vg__alarm(c, level == 2 ? VG_ALARM_BATTERY_CRITICAL : VG_ALARM_BATTERY_LOW, unit,
                      level == 2 ? device_priority(unit) : VG_PRIORITY_TECHNICAL, st->time_ms);
        else if (level == 0 && u->battery_level > 0)
            vg__alarm(c, VG_ALARM_BATTERY_RECOVERED, unit, VG_PRIORITY_INFO, st->time_ms);
        u->battery_level = level;
    }
}

static void feed_event(struct vg__ctx *c, enum vg_unit unit, const struct vg_unit_event *ev)
{
    struct vg_engine_state *s = c->s;
    struct vg_unit_state *u = &s->unit[unit];
    switch (ev->kind) {
    case VG_EVENT_HEARTBEAT: heard(c, unit, ev->time_ms); break;
    case VG_EVENT_SOS:
    case VG_EVENT_CALLBACK_REQUEST: {
        heard(c, unit, ev->time_ms);
        bool sos = ev->kind == VG_EVENT_SOS;
        int64_t *last = sos ? &u->last_sos_ms : &u->last_callback_ms;
        if (ev->time_ms == *last)
            break; /* the same press, sent again */
        if (ev->time_ms > *last)
            *last = ev->time_ms;
        vg__alarm(c, sos ? VG_ALARM_SOS : VG_ALARM_CALLBACK_REQUEST, unit,
                  sos ? VG_PRIORITY_ALERT : VG_PRIORITY_PREALERT, ev->time_ms);
        break;
    }
    case VG_EVENT_POWER_OFF:
        if (ev->time_ms < u->power_ms) { /* a switching off from the past */
            if (!u->powered_off && !(u->late_reported & LATE_POWER)) {
                struct vg_alarm *a = vg__alarm(c, VG_ALARM_UNIT_SWITCHED_OFF, unit,
                                               device_priority(unit), ev->time_ms);
                a->flags |= VG_ALARM_F_LATE;
                u->late_reported |= LATE_POWER;
            }
            heard(c, unit, ev->time_ms);
            break;
        }
        u->power_ms = ev->time_ms;
        heard(c, unit, ev->time_ms);
        if (!u->powered_off) {
            u->powered_off = 1;
            u->late_reported &= (uint8_t)~LATE_POWER;
            raise_loss(c, VG_ALARM_UNIT_SWITCHED_OFF, unit, device_priority(unit), ev->time_ms);
        }
        break;
    case VG_EVENT_POWER_ON:
        if (ev->time_ms >= u->power_ms && u->powered_off) {
            u->powered_off = 0;
            u->power_ms = ev->time_ms;
            vg__alarm(c, VG_ALARM_UNIT_SWITCHED_ON, unit, VG_PRIORITY_INFO, ev->time_ms);
            unit_back(c, unit);
        }
        heard(c, unit, ev->time_ms);
        break;
    case VG_EVENT_RECORD_LOST:
        /* evidence of a failing flash, kept by the store; what the lost
         * record said is unknown, so it decides nothing, but the notice
         * proves the unit alive when it was sent */
        heard(c, unit, ev->time_ms);
        break;
    default: break; /* refused by vg_unit_event_check() */
    }
}

/* ---- time ------------------------------------------------------------------ */

static void health_tick(struct vg__ctx *c)
{
    struct vg_engine_state *s = c->s;
    const struct vg_engine_params *p = c->p;
    static const enum vg_unit mobile_units[] = {VG_UNIT_AUTHOR, VG_UNIT_PROTECTED};
    for (size_t i = 0; i < 2; i++) {
        enum vg_unit unit = mobile_units[i];
        struct vg_unit_state *u = &s->unit[unit];
        if (!u->comm_lost && !u->powered_off &&
            c->now - u->last_heard_ms >= p->comm_loss_after_ms) {
            u->comm_lost = 1;
            raise_loss(c, VG_ALARM_COMM_LOST, unit, VG_PRIORITY_TECHNICAL, u->last_heard_ms);
        } else if (unit == VG_UNIT_AUTHOR && !u->comm_lost && !u->powered_off &&
                   c->now - u->last_heard_ms >= p->near_silence_ms && author_fast_cadence(c)) {
            /* near a zone and silent: lost already, if he could be inside */
            double reach;
            int64_t when;
            if (vg__author_reachable(c, &reach, &when)) {
                u->comm_lost = 1;
                raise_loss(c, VG_ALARM_COMM_LOST, unit, VG_PRIORITY_TECHNICAL, u->last_heard_ms);
            }
        }
    }
    for (int party = 0; party < 2; party++) {
        struct vg_party_state *ps = &s->party[party];
        enum vg_unit unit = party == VG__AUTHOR ? VG_UNIT_AUTHOR : VG_UNIT_PROTECTED;
        const struct vg_unit_state *u = &s->unit[unit];
        if (!ps->gnss_lost && !u->comm_lost && !u->powered_off &&
            c->now - ps->last_fix_rx_ms >= p->gnss_loss_after_ms) {
            ps->gnss_lost = 1;
            const struct vg_track_fix *f = vg__latest(ps);
            raise_loss(c, VG_ALARM_GNSS_LOST, unit, VG_PRIORITY_TECHNICAL,
                       f ? f->time_ms : ps->last_fix_rx_ms);
        }
    }
    escalate_loss(c);
}

static void compute_deadline(struct vg__ctx *c)
{
    struct vg_engine_state *s = c->s;
    const struct vg_engine_params *p = c->p;
    if (!author_position_lost(s))
        s->party[VG__AUTHOR].loss_urgent = 0; /* the next loss is graded afresh */
    int64_t d = vg__zones_deadline(c);
    static const enum vg_unit mobile_units[] = {VG_UNIT_AUTHOR, VG_UNIT_PROTECTED};
    for (size_t i = 0; i < 2; i++) {
        const struct vg_unit_state *u = &s->unit[mobile_units[i]];
        const struct vg_party_state *ps = &s->party[i];
        if (u->comm_lost || u->powered_off)
            continue;
        if (u->last_heard_ms + p->comm_loss_after_ms < d)
            d = u->last_heard_ms + p->comm_loss_after_ms;
        if (i == 0 && author_fast_cadence(c)) {
            /* near and silent: the early declaration, when he could by
             * then be inside (checked at the tick; later, the usual timer) */
            int64_t t = u->last_heard_ms + p->near_silence_ms;
            if (t <= c->now) {
                double reach;
                int64_t when;
                vg__author_reachable(c, &reach, &when);
                t = when > c->now ? when : INT64_MAX;
            }
            if (t < d)
                d = t;
        }
        if (!ps->gnss_lost && ps->last_fix_rx_ms + p->gnss_loss_after_ms < d)
            d = ps->last_fix_rx_ms + p->gnss_loss_after_ms;
    }
    if (author_position_lost(s) && !s->party[VG__AUTHOR].loss_urgent) {
        double reach;
        int64_t when;
        vg__author_reachable(c, &reach, &when);
        if (when < d)
            d = when;
    }
    s->next_deadline_ms = d;
}

static void begin(struct vg__ctx *c, struct vg_engine_state *s, const struct vg_engine_config *cfg,
                  int64_t now_ms, struct vg_engine_out *out)
{
    out->n_alarms = 0;
    out->n_commands = 0;
    if (now_ms > s->now_ms)
        s->now_ms = now_ms; /* the centre's clock stepping back does not undo time */
    *c = (struct vg__ctx){
        .s = s, .cfg = cfg, .p = cfg->params, .out = out, .now = s->now_ms, .record_ms = s->now_ms};
}

int vg_engine_init(struct vg_engine_state *s, const struct vg_engine_config *cfg, int64_t now_ms)
{
    if (!s || vg_engine_config_check(cfg) != VG_OK)
        return VG_EINVAL;
    if (now_ms < VG_TIME_MIN_MS || now_ms >= VG_TIME_MAX_MS)
        return VG_ERANGE;
    memset(s, 0, sizeof *s);
    s->now_ms = now_ms;
    for (int i = 0; i < VG_UNIT_COUNT; i++) {
        struct vg_unit_state *u = &s->unit[i];
        u->last_heard_ms = now_ms;
        u->battery_pct = -1;
        u->charging = -1;
        u->strap_closed = -1;
        u->skin_contact = -1;
        u->bracelet_link = -1;
        u->beacon_heard = -1;
    }
    for (int p = 0; p < 2; p++)
        s->party[p].last_fix_rx_ms = now_ms;
    struct vg_engine_out scratch_out; /* nothing can be raised at init */
    struct vg__ctx c;
    begin(&c, s, cfg, now_ms, &scratch_out);
    vg__windows_refresh(&c, now_ms);
    compute_deadline(&c);
    return VG_OK;
}

static int check_input(const struct vg_engine_input *in)
{
    switch (in->kind) {
    case VG_INPUT_FIX:
        if (in->unit != VG_UNIT_AUTHOR && in->unit != VG_UNIT_PROTECTED)
            return VG_EINVAL; /* the bracelet has no GNSS */
        return vg_fix_check(&in->fix);
    case VG_INPUT_STATUS: return vg_unit_status_check(in->unit, &in->status);
    case VG_INPUT_EVENT: return vg_unit_event_check(in->unit, &in->event);
    default: return VG_EINVAL;
    }
}

int vg_engine_feed(struct vg_engine_state *s, const struct vg_engine_config *cfg,
                   const struct vg_engine_input *in, int64_t now_ms, struct vg_engine_out *out)
{
    out->n_alarms = 0;
    out->n_commands = 0;
    if (!s || !cfg || !in)
        return VG_EINVAL;
    int rc = check_input(in);
    if (rc != VG_OK)
        return rc;
    if (now_ms < VG_TIME_MIN_MS || now_ms >= VG_TIME_MAX_MS)
        return VG_ERANGE;
    struct vg__ctx c;
    begin(&c, s, cfg, now_ms, out);

    /* A record from the future: the unit's clock is wrong. Judge it as of
     * now rather than drop it (it may be an intrusion), and say so. */
    struct vg_engine_input copy = *in;
    int64_t *t = in->kind == VG_INPUT_FIX      ? &copy.fix.time_ms
                 : in->kind == VG_INPUT_STATUS ? &copy.status.time_ms
                                               : &copy.event.time_ms;
    if (*t > c.now + c.p->clock_skew_ms) {
        *t = c.now;
        c.extra_flags |= VG_ALARM_F_CLOCK;
    }
    c.record_ms = *t;

    switch (copy.kind) {
    case VG_INPUT_FIX:
        heard(&c, (enum vg_unit)copy.unit, copy.fix.time_ms);
        vg__feed_fix(&c, party_of_unit(copy.unit), &copy.fix);
        if (copy.unit == VG_UNIT_AUTHOR && !VG_FIX_IS_GNSS(copy.fix.quality))
            near_nofix(&c, copy.fix.time_ms);
        break;
    case VG_INPUT_STATUS: feed_status(&c, (enum vg_unit)copy.unit, &copy.status); break;
    case VG_INPUT_EVENT: feed_event(&c, (enum vg_unit)copy.unit, &copy.event); break;
    }
    compute_deadline(&c);
    return VG_OK;
}

int vg_engine_tick(struct vg_engine_state *s, const struct vg_engine_config *cfg, int64_t now_ms,
                   struct vg_engine_out *out)
{
    out->n_alarms = 0;
    out->n_commands = 0;
    if (!s || !cfg)
        return VG_EINVAL;
    if (now_ms < VG_TIME_MIN_MS || now_ms >= VG_TIME_MAX_MS)
        return VG_ERANGE;
    struct vg__ctx c;
    begin(&c, s, cfg, now_ms, out);
    vg__zones_tick(&c);
    health_tick(&c);
    compute_deadline(&c);
    return VG_OK;
}
