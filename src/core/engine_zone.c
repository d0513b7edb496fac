/* The engine's zone logic: fixes in, crossings out.
 *
 * For every zone the state machine has a raised level (none, pre-alert,
 * alert), a suspected higher level awaiting confirmation and a lower level
 * awaiting a confirmed exit. Each fix gives a distance d to the zone's place
 * and an uncertainty u (the 95% radius of the distance: the fix's accuracy,
 * and for the mobile zone the other party's accuracy grown with its age).
 * Against a ring at distance T (R or 2R):
 *   clearly inside     d + clear_k * u <= T         raised on this fix
 *   maybe inside       d - suspect_k * u <= T       raised if it persists
 *   clearly outside    d - exit_k * u >= T + margin  lowered if it persists
 * docs/ENGINE.md explains the choice of each constant. */
#include <math.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/window.h"

#define MS_PER_S 1000.0
#define MIN_MS   60000

/* ---- compact fixes -------------------------------------------------- */

void vg__track_from_fix(struct vg_track_fix *t, const struct vg_fix *f)
{
    t->time_ms = f->time_ms;
    t->lat_e7 = (int32_t)lround(f->lat_deg * 1e7);
    t->lon_e7 = (int32_t)lround(f->lon_deg * 1e7);
    t->accuracy_m = f->accuracy_m < VG_FIX_MIN_ACCURACY_M ? VG_FIX_MIN_ACCURACY_M : f->accuracy_m;
    if (f->speed_mps < 0.0f)
        t->speed_cms = 0xffff;
    else
        t->speed_cms = (uint16_t)fminf(f->speed_mps * 100.0f + 0.5f, 65534.0f);
    t->quality = f->quality;
    t->heading_2deg = f->heading_deg < 0.0f ? 0xff : (uint8_t)(f->heading_deg / 2.0f);
}

void vg__fix_from_track(struct vg_fix *f, const struct vg_track_fix *t)
{
    f->time_ms = t->time_ms;
    f->lat_deg = t->lat_e7 * 1e-7;
    f->lon_deg = t->lon_e7 * 1e-7;
    f->accuracy_m = t->accuracy_m;
    f->speed_mps = t->speed_cms == 0xffff ? -1.0f : (float)t->speed_cms / 100.0f;
    f->heading_deg = t->heading_2deg == 0xff ? -1.0f : (float)t->heading_2deg * 2.0f;
    f->quality = t->quality;
}

static void prepare_track(struct vg_geo_prepared *p, const struct vg_track_fix *t)
{
    struct vg_geo_point g = {t->lat_e7 * 1e-7, t->lon_e7 * 1e-7};
    vg_geo_prepare(p, g);
}

const struct vg_track_fix *vg__latest(const struct vg_party_state *ps)
{
    return ps->n_hist ? &ps->hist[ps->n_hist - 1] : NULL;
}

const struct vg_track_fix *vg__nearest(const struct vg_party_state *ps, int64_t t_ms)
{
    const struct vg_track_fix *best = NULL;
    int64_t best_gap = INT64_MAX;
    for (unsigned i = 0; i < ps->n_hist; i++) {
        int64_t gap = ps->hist[i].time_ms - t_ms;
        if (gap < 0)
            gap = -gap;
        if (gap <= best_gap) { /* on a tie, the later fix */
            best_gap = gap;
            best = &ps->hist[i];
        }
    }
    return best;
}

double vg__aged_accuracy(const struct vg__ctx *c, const struct vg_track_fix *f, int64_t t_ms)
{
    int64_t age = t_ms - f->time_ms;
    if (age < 0)
        age = -age;
    if (age > c->p->age_cap_ms)
        age = c->p->age_cap_ms;
    double drift = c->p->drift_mps;
    if (f->speed_cms != 0xffff && f->speed_cms / 100.0 > drift)
        drift = f->speed_cms / 100.0;
    return (double)f->accuracy_m + drift * ((double)age / MS_PER_S);
}

/* Is the distance from pa to pb at most `allowed`? q is their quick
 * estimate (vg_geo_quick_distance), which settles most cases without the
 * exact distance. */
static bool within(const struct vg_geo_prepared *pa, const struct vg_geo_prepared *pb, double q,
                   double allowed)
{
    if (q * VG_GEO_QUICK_MAX_RATIO <= allowed)
        return true;
    if (q / VG_GEO_QUICK_MAX_RATIO > allowed)
        return false;
    return vg_geo_fast_distance(pa, pb) <= allowed;
}

/* Is b a place one could reach from a in the time between them? The
 * accuracies are given the benefit of the doubt. q: the quick distance
 * between them. */
static bool plausible_prepared(const struct vg__ctx *c, const struct vg_track_fix *a,
                               const struct vg_geo_prepared *pa, const struct vg_track_fix *b,
                               const struct vg_geo_prepared *pb, double q)
{
    double dt = fabs((double)(b->time_ms - a->time_ms)) / MS_PER_S;
    if (dt < 1.0)
        dt = 1.0;
    double allowed = c->p->max_speed_mps * dt + (double)a->accuracy_m + (double)b->accuracy_m;
    return within(pa, pb, q, allowed);
}

static bool plausible(const struct vg__ctx *c, const struct vg_track_fix *a,
                      const struct vg_track_fix *b)
{
    struct vg_geo_prepared pa, pb;
    prepare_track(&pa, a);
    prepare_track(&pb, b);
    return plausible_prepared(c, a, &pa, b, &pb, vg_geo_quick_distance(&pa, &pb));
}

/* ---- levels and the per-zone state machine ------------------------- */

static uint8_t level_within(double x, double radius)
{
    if (x <= radius)
        return VG_LEVEL_ALERT;
    if (x <= 2.0 * radius)
        return VG_LEVEL_PREALERT;
    return VG_LEVEL_NONE;
}

static double exit_margin(const struct vg_engine_params *p, double ring)
{
    double m = p->exit_margin_frac * ring;
    return m > p->exit_margin_min_m ? m : p->exit_margin_min_m;
}

struct levels {
    uint8_t clear; /* surely within */
    uint8_t maybe; /* possibly within */
    uint8_t stay;  /* not yet surely left */
};

static struct levels judge(const struct vg_engine_params *p, double d, double u, double radius)
{
    struct levels l;
    l.clear = level_within(d + p->clear_k * u, radius);
    l.maybe = level_within(d - p->suspect_k * u, radius);
    double x = d - p->exit_k * u;
    if (x < radius + exit_margin(p, radius))
        l.stay = VG_LEVEL_ALERT;
    else if (x < 2.0 * radius + exit_margin(p, 2.0 * radius))
        l.stay = VG_LEVEL_PREALERT;
    else
        l.stay = VG_LEVEL_NONE;
    return l;
}

/* What a zone judgement knows, for the evidence of an alarm. */
struct observation {
    int zi; /* 0 mobile, 1 + i fixed zone i */
    double d, u, radius;
    int64_t t; /* record time of the observation */
    double closing_mps;
    uint8_t approached_by;
    const struct vg_track_fix *author;
    const struct vg_track_fix *protected_person;
    bool authorised; /* inside an open time window */
    bool trusted;    /* false for a fix held for an implausible jump */
};

static void fill_evidence(struct vg_alarm *a, const struct observation *o, uint8_t confidence,
                          uint8_t level_to)
{
    if (o->author)
        vg__fix_from_track(&a->ev.author_fix, o->author);
    if (o->protected_person)
        vg__fix_from_track(&a->ev.protected_fix, o->protected_person);
    a->ev.distance_m = o->d;
    a->ev.uncertainty_m = o->u;
    a->ev.threshold_m = level_to == VG_LEVEL_ALERT ? o->radius : 2.0 * o->radius;
    a->ev.closing_speed_mps = o->closing_mps;
    a->ev.approached_by = o->approached_by;
    a->ev.confidence = confidence;
}

static void reset_pending(struct vg_zone_state *zs)
{
    zs->suspect_level = zs->level;
    zs->suspect_fixes = 0;
    zs->exit_level = zs->level;
    zs->exit_fixes = 0;
}

/* Night by the measure's policy at UTC time t_ms (local time; UTC when
 * the measure has no time zone). */
static bool at_night(const struct vg__ctx *c, const struct vg_ring_policy *rp, int64_t t_ms)
{
    if (rp->night_from_min == rp->night_to_min)
        return false;
    int64_t s = t_ms / 1000;
    if (c->cfg->tz)
        s += vg_tz_offset_at(c->cfg->tz, s);
    int64_t minute = ((s / 60) % 1440 + 1440) % 1440;
    if (rp->night_from_min < rp->night_to_min)
        return minute >= rp->night_from_min && minute < rp->night_to_min;
    return minute >= rp->night_from_min || minute < rp->night_to_min;
}

/* How her unit tells her of `level` at t: an alert, or a pre-alert while
 * he closes in at ring_closing_mps or more, aloud; another pre-alert as
 * the measure's policy says for the day or the night. */
static uint8_t ring_mode(const struct vg__ctx *c, uint8_t level, int64_t t, double closing_mps)
{
    if (level >= VG_LEVEL_ALERT || closing_mps >= c->p->ring_closing_mps)
        return VG_RING_LOUD;
    struct vg_ring_policy def;
    const struct vg_ring_policy *rp = c->cfg->ring;
    if (!rp) {
        vg_ring_policy_default(&def);
        rp = &def;
    }
    return at_night(c, rp, t) ? rp->prealert_night : rp->prealert_day;
}

/* How loud a mode is: aloud 2, vibrate 1, screen only 0. */
static int loudness(uint8_t mode)
{
    return mode == VG_RING_LOUD ? 2 : mode == VG_RING_VIBRATE ? 1 : 0;
}

bool vg_engine_ring_on_delivery(const struct vg_engine_state *s, const struct vg_engine_config *cfg,
                                const struct vg_command *held, int64_t now_ms,
                                struct vg_command *deliver)
{
    if (!s || !cfg || !held || !deliver || held->kind != VG_CMD_RING ||
        held->unit != VG_UNIT_PROTECTED || held->zone_index < 0 ||
        (size_t)held->zone_index > cfg->n_zones)
        return false;
    const struct vg_zone_state *zs = &s->zone[held->zone_index];
    if (zs->level == VG_LEVEL_NONE)
        return false; /* that episode is over */
    struct vg__ctx c = {.cfg = cfg, .p = cfg->params, .now = now_ms, .record_ms = now_ms};
    double closing = held->zone_index == 0 ? (double)s->approach_rate[VG__AUTHOR] +
                                                 (double)s->approach_rate[VG__PROTECTED]
                                           : (double)s->party[VG__AUTHOR].speed_mps;
    *deliver = *held;
    deliver->level = zs->level;
    deliver->mode = ring_mode(&c, zs->level, now_ms, closing);
    if (zs->level < VG_LEVEL_ALERT && loudness(held->mode) < loudness(deliver->mode) &&
        closing < cfg->params->ring_closing_mps)
        deliver->mode = held->mode; /* never louder than it was held */
    return true;
}

static void ring_if_due(struct vg__ctx *c, struct vg_zone_state *zs, int zi, int64_t t,
                        double closing_mps)
{
    if (zs->rung_level > zs->level)
        zs->rung_level = zs->level;
    /* Ring for the present only: a backlog that ends inside a zone rings
     * once its fixes are fresh; a past episode does not. */
    if (c->now - t > c->p->late_after_ms)
        return;
    if (zs->level > zs->rung_level) {
        uint8_t mode = ring_mode(c, zs->level, t, closing_mps);
        vg__command(c, VG_CMD_RING, VG_UNIT_PROTECTED, zs->level, (int16_t)zi, 0)->mode = mode;
        zs->rung_level = zs->level;
        zs->rung_mode = mode;
    } else if (zs->level != VG_LEVEL_NONE && zs->level == zs->rung_level &&
               zs->rung_mode != VG_RING_LOUD && closing_mps >= c->p->ring_closing_mps) {
        /* told quietly, and he keeps closing in: aloud now */
        vg__command(c, VG_CMD_RING, VG_UNIT_PROTECTED, zs->level, (int16_t)zi, 0)->mode =
            VG_RING_LOUD;
        zs->rung_mode = VG_RING_LOUD;
    }
}

static void change_level(struct vg__ctx *c, const struct observation *o, uint8_t to,
                         uint8_t confidence, int64_t at_ms)
{
    struct vg_zone_state *zs = &c->s->zone[o->zi];
    uint8_t from = zs->level;
    enum vg_alarm_kind kind;
    enum vg_alarm_priority prio;
    if (to > from) {
        kind = to == VG_LEVEL_ALERT ? VG_ALARM_ALERT_ENTERED : VG_ALARM_PREALERT_ENTERED;
        prio = to == VG_LEVEL_ALERT ? VG_PRIORITY_ALERT : VG_PRIORITY_PREALERT;
    } else {
        kind = to == VG_LEVEL_NONE ? VG_ALARM_PREALERT_LEFT : VG_ALARM_ALERT_LEFT;
        prio = VG_PRIORITY_INFO;
    }
    struct vg_alarm *a = vg__alarm(c, kind, VG_UNIT_AUTHOR, prio, at_ms);
    a->level_from = from;
    a->level_to = to;
    a->zone_index = (int16_t)o->zi;
    a->zone_id = o->zi ? c->cfg->zones[o->zi - 1].id : 0;
    if (o->authorised)
        a->flags |= VG_ALARM_F_AUTHORISED;
    fill_evidence(a, o, confidence, to > from ? to : from);
    zs->level = to;
    zs->entered_ms = at_ms;
    reset_pending(zs);
}

/* The heart of the engine: one observation of one zone. */
static void zone_observe(struct vg__ctx *c, const struct observation *o)
{
    const struct vg_engine_params *p = c->p;
    struct vg_zone_state *zs = &c->s->zone[o->zi];
    struct levels l = judge(p, o->d, o->u, o->radius);
    if (o->authorised) /* presence is allowed: nothing can be entered */
        l.clear = l.maybe = VG_LEVEL_NONE;

    if (!o->trusted) {
        /* A fix after an impossible jump may only raise a suspicion, which
         * a trusted fix then confirms or clears, or a timeout raises. */
        uint8_t m = l.clear > l.maybe ? l.clear : l.maybe;
        if (m > zs->level) {
            if (zs->suspect_level <= zs->level) {
                zs->suspect_since_ms = o->t;
                zs->suspect_fixes = 1;
            }
            if (m > zs->suspect_level)
                zs->suspect_level = m;
        }
        return;
    }

    if (l.clear > zs->level) {
        change_level(c, o, l.clear, VG_CONFIDENCE_CLEAR, o->t);
        if (l.maybe > zs->level) { /* surely in pre-alert, maybe in alert already */
            zs->suspect_level = l.maybe;
            zs->suspect_since_ms = o->t;
            zs->suspect_fixes = 1;
        }
    } else if (l.maybe > zs->level) {
        if (zs->suspect_level <= zs->level) {
            zs->suspect_since_ms = o->t;
            zs->suspect_fixes = 1;
        } else if (zs->suspect_fixes < 255) {
            zs->suspect_fixes++;
        }
        zs->suspect_level = l.maybe;
        zs->exit_level = zs->level;
        zs->exit_fixes = 0;
        if (zs->suspect_fixes >= 2 && o->t - zs->suspect_since_ms >= p->dwell_ms)
            change_level(c, o, l.maybe, VG_CONFIDENCE_CONFIRMED, zs->suspect_since_ms);
    } else {
        zs->suspect_level = zs->level;
        zs->suspect_fixes = 0;
        if (l.stay < zs->level) {
            if (zs->exit_level >= zs->level) {
                zs->exit_since_ms = o->t;
                zs->exit_fixes = 1;
                zs->exit_level = l.stay;
            } else {
                if (zs->exit_fixes < 255)
                    zs->exit_fixes++;
                if (l.stay > zs->exit_level)
                    zs->exit_level = l.stay;
            }
            if (zs->exit_fixes >= 2 && o->t - zs->exit_since_ms >= p->exit_dwell_ms)
                change_level(c, o, zs->exit_level, VG_CONFIDENCE_CLEAR, o->t);
        } else {
            zs->exit_level = zs->level;
            zs->exit_fixes = 0;
        }
    }
    ring_if_due(c, zs, o->zi, o->t, o->closing_mps);
}

/* A record older than the present state: report an intrusion it shows, as
 * late, once per episode, and leave the present alone. Safety first: what
 * is possibly inside counts. */
static void zone_observe_late(struct vg__ctx *c, const struct observation *o)
{
    struct vg_zone_state *zs = &c->s->zone[o->zi];
    struct levels l = judge(c->p, o->d, o->u, o->radius);
    if (o->authorised)
        l.clear = l.maybe = VG_LEVEL_NONE;
    if (l.maybe > zs->late_level) {
        /* already known: the present episode began before this record */
        bool known = zs->level >= l.maybe && o->t >= zs->entered_ms;
        if (!known) {
            enum vg_alarm_kind kind =
                l.maybe == VG_LEVEL_ALERT ? VG_ALARM_ALERT_ENTERED : VG_ALARM_PREALERT_ENTERED;
            struct vg_alarm *a = vg__alarm(
                c, kind, VG_UNIT_AUTHOR,
                l.maybe == VG_LEVEL_ALERT ? VG_PRIORITY_ALERT : VG_PRIORITY_PREALERT, o->t);
            a->flags |= VG_ALARM_F_LATE;
            a->level_from = zs->late_level;
            a->level_to = l.maybe;
            a->zone_index = (int16_t)o->zi;
            a->zone_id = o->zi ? c->cfg->zones[o->zi - 1].id : 0;
            fill_evidence(a, o,
                          l.clear >= l.maybe ? VG_CONFIDENCE_CLEAR : VG_CONFIDENCE_UNCONFIRMED,
                          l.maybe);
        }
        zs->late_level = l.maybe;
    } else if (l.stay < zs->late_level) {
        zs->late_level = l.stay; /* that past episode is over */
    }
}

/* ---- time windows --------------------------------------------------- */

void vg__windows_refresh(struct vg__ctx *c, int64_t t)
{
    struct vg_engine_state *s = c->s;
    int64_t until = INT64_MAX;
    uint16_t open = 0;
    for (size_t i = 0; i < c->cfg->n_zones; i++) {
        const struct vg_zone *z = &c->cfg->zones[i];
        if (z->n_windows == 0)
            continue;
        int64_t next = INT64_MAX;
        if (vg_windows_open_at(z->windows, z->n_windows, c->cfg->tz, t, &next))
            open |= (uint16_t)(1u << i);
        if (next < until)
            until = next;
    }
    s->windows_open = open;
    s->windows_from_ms = t;
    s->windows_until_ms = until;
}

/* Whether fixed zone i has an open window at t. The answer for the
 * present is cached until the next window boundary; the past (late
 * records) is computed afresh and not cached. */
static bool window_open(struct vg__ctx *c, size_t i, int64_t t)
{
    const struct vg_zone *z = &c->cfg->zones[i];
    if (z->n_windows == 0)
        return false;
    struct vg_engine_state *s = c->s;
    if (t >= s->windows_from_ms && t < s->windows_until_ms)
        return (s->windows_open >> i) & 1u;
    if (t < s->windows_from_ms) {
        int64_t next;
        return vg_windows_open_at(z->windows, z->n_windows, c->cfg->tz, t, &next);
    }
    vg__windows_refresh(c, t);
    return (s->windows_open >> i) & 1u;
}

/* Whether pos lies within the alert ring of a fixed zone whose window is
 * open at t: the place and time the judge authorised. While either party
 * is at such a place, the mobile zone raises nothing (the hand-over at the
 * school brings them together by design). */
static bool at_authorised_place(struct vg__ctx *c, const struct vg_geo_prepared *pos, int64_t t)
{
    for (size_t i = 0; i < c->cfg->n_zones; i++) {
        const struct vg_zone *z = &c->cfg->zones[i];
        if (z->n_windows && window_open(c, i, t) &&
            vg_zone_distance(z, pos, z->alert_radius_m) <= z->alert_radius_m)
            return true;
    }
    return false;
}

static bool mobile_authorised(const struct vg_engine_state *s)
{
    return s->authorised != 0;
}

static void set_authorised(struct vg_engine_state *s, int party, bool yes)
{
    if (yes)
        s->authorised |= (uint8_t)(1u << party);
    else
        s->authorised &= (uint8_t) ~(1u << party);
}

/* ---- evaluating a position ------------------------------------------ */

static bool is_near(const struct vg__ctx *c, double d, double u, double radius, double closing)
{
    double gap = d - u - 2.0 * radius;
    if (gap <= c->p->fast_margin_m)
        return true;
    return closing > 0.0 && gap / closing * MS_PER_S <= (double)c->p->fast_horizon_ms;
}

/* Beyond this distance from a zone's place no decision needs the exact
 * distance: every ring is clearly out of reach, and fast reporting too. */
static double far_beyond(const struct vg_engine_params *p, double radius, double u)
{
    return 2.0 * radius + exit_margin(p, 2.0 * radius) + p->exit_k * u + p->fast_margin_m + 1000.0;
}

static uint8_t attribute(const struct vg_engine_state *s, double u)
{
    double a = s->closed_by[VG__AUTHOR] > 0 ? (double)s->closed_by[VG__AUTHOR] : 0;
    double p = s->closed_by[VG__PROTECTED] > 0 ? (double)s->closed_by[VG__PROTECTED] : 0;
    double total = a + p;
    /* too little movement to say, against the noise of the fixes */
    if (total < 50.0 || total < u)
        return VG_PARTY_NONE;
    if (a >= 0.7 * total)
        return VG_PARTY_AUTHOR;
    if (p >= 0.7 * total)
        return VG_PARTY_PROTECTED;
    return VG_PARTY_BOTH;
}

/* The author at `pos` (fix f, judged at record time t_judge; windows read
 * at t_window) against every fixed zone. *authorised_out: whether he is
 * within the alert ring of a zone whose window is open. */
static void fixed_zones_observe(struct vg__ctx *c, const struct vg_geo_prepared *pos,
                                const struct vg_track_fix *f, double u, int64_t t_judge,
                                int64_t t_window, const struct vg_track_fix *prev, bool trusted,
                                bool late, bool *authorised_out)
{
    struct vg_engine_state *s = c->s;
    bool authorised_any = false;
    for (size_t i = 0; i < c->cfg->n_zones; i++) {
        const struct vg_zone *z = &c->cfg->zones[i];
        struct vg_zone_state *zs = &s->zone[1 + i];
        double radius = z->alert_radius_m;
        double d = vg_zone_distance(z, pos, far_beyond(c->p, radius, u));
        bool open = window_open(c, i, t_window);
        if (open && d <= radius)
            authorised_any = true;
        struct observation o = {
            .zi = (int)(1 + i),
            .d = d,
            .u = u,
            .radius = radius,
            .t = t_judge,
            .author = f,
            .protected_person = vg__latest(&s->party[VG__PROTECTED]),
            .authorised = open,
            .trusted = trusted,
        };
        if (late) {
            zone_observe_late(c, &o);
            continue;
        }
        if (trusted && prev && f->time_ms > prev->time_ms) {
            o.closing_mps = ((double)zs->last_distance_m - d) /
                            ((double)(f->time_ms - prev->time_ms) / MS_PER_S);
            o.approached_by = o.closing_mps > 0 ? VG_PARTY_AUTHOR : VG_PARTY_NONE;
        }
        if (trusted)
            zs->last_distance_m = (float)d;
        zone_observe(c, &o);
        if (trusted) {
            if (zs->level >= VG_LEVEL_PREALERT || zs->suspect_level > zs->level ||
                is_near(c, d, u, radius, o.closing_mps))
                s->near_mask |= (uint16_t)(1u << (1 + i));
            else
                s->near_mask &= (uint16_t) ~(1u << (1 + i));
        }
    }
    *authorised_out = authorised_any;
}

/* The mobile zone: the author's fix a against the protected person's fix p
 * (either may be older than the other; the older one's uncertainty grows
 * with the gap). `mover` has just moved from prev / prev_pos (NULL if
 * unknown). */
static void mobile_zone_observe(struct vg__ctx *c, const struct vg_track_fix *a,
                                const struct vg_geo_prepared *a_pos, const struct vg_track_fix *p,
                                const struct vg_geo_prepared *p_pos, int mover,
                                const struct vg_track_fix *prev,
                                const struct vg_geo_prepared *prev_pos, bool trusted, bool late,
                                bool authorised)
{
    struct vg_engine_state *s = c->s;
    double radius = c->cfg->alert_radius_m;
    /* judged as of the mover's fix: the other party's fix ages from there */
    int64_t t = mover == VG__AUTHOR ? a->time_ms : p->time_ms;
    double ua = vg__aged_accuracy(c, a, t);
    double up = vg__aged_accuracy(c, p, t);
    double u = sqrt(ua * ua + up * up);
    /* Far apart (most of the time), the quick estimate decides as well.
     * It is taken from the party that did not move, so that the mover's
     * step below compares like with like. */
    const struct vg_geo_prepared *other_pos = mover == VG__AUTHOR ? p_pos : a_pos;
    const struct vg_geo_prepared *mover_pos = mover == VG__AUTHOR ? a_pos : p_pos;
    double d = vg_geo_quick_distance(other_pos, mover_pos);
    bool near = d / VG_GEO_QUICK_MAX_RATIO <= far_beyond(c->p, radius, u);
    if (near)
        d = vg_geo_fast_distance(a_pos, p_pos);
    struct observation o = {
        .zi = VG_ZONE_INDEX_MOBILE,
        .d = d,
        .u = u,
        .radius = radius,
        .t = t,
        .author = a,
        .protected_person = p,
        .authorised = authorised,
        .trusted = trusted,
    };
    if (late) {
        zone_observe_late(c, &o);
        return;
    }
    if (trusted) {
        /* Who closed the distance, and how fast: each party's own step,
         * measured with the other held still, so that the order in which
         * their fixes arrive does not matter. The speed is kept at any
         * distance (fast reporting looks ahead with it); the tallies only
         * near, where they are exact and where the operator needs them. */
        if (s->mobile_t_ms && t > s->mobile_t_ms) {
            double memory = (double)c->p->approach_memory_ms / MS_PER_S;
            float decay = (float)(memory / (memory + (double)(t - s->mobile_t_ms) / MS_PER_S));
            s->closed_by[VG__AUTHOR] *= decay;
            s->closed_by[VG__PROTECTED] *= decay;
        }
        if (t > s->mobile_t_ms)
            s->mobile_t_ms = t;
        const struct vg_track_fix *moved = mover == VG__AUTHOR ? a : p;
        if (prev && prev_pos && moved->time_ms > prev->time_ms) {
            double before = near ? vg_geo_fast_distance(prev_pos, other_pos)
                                 : vg_geo_quick_distance(other_pos, prev_pos);
            double step = before - d;
            s->approach_rate[mover] =
                (float)(step / ((double)(moved->time_ms - prev->time_ms) / MS_PER_S));
            if (near)
                s->closed_by[mover] += (float)step;
        }
        if (!near)
            s->closed_by[VG__AUTHOR] = s->closed_by[VG__PROTECTED] = 0.0f;
        /* a party whose last fix is old is not moving as far as we know */
        if (t - a->time_ms <= 2 * MIN_MS)
            o.closing_mps += (double)s->approach_rate[VG__AUTHOR];
        if (t - p->time_ms <= 2 * MIN_MS)
            o.closing_mps += (double)s->approach_rate[VG__PROTECTED];
        o.approached_by = attribute(s, u);
        s->mobile_distance_m = (float)d;
    }
    zone_observe(c, &o);
    if (trusted) {
        struct vg_zone_state *zs = &s->zone[0];
        if (zs->level >= VG_LEVEL_PREALERT || zs->suspect_level > zs->level ||
            is_near(c, d, u, radius, o.closing_mps))
            s->near_mask |= 1u;
        else
            s->near_mask &= (uint16_t)~1u;
    }
}

static void update_reporting(struct vg__ctx *c)
{
    struct vg_engine_state *s = c->s;
    bool near = s->near_mask != 0;
    if (near && !s->fast) {
        s->fast = 1;
        s->fast_since_ms = c->now;
        vg__command(c, VG_CMD_SET_REPORTING, VG_UNIT_AUTHOR, 0, VG_ZONE_INDEX_NONE,
                    c->p->fast_interval_ms);
        vg__command(c, VG_CMD_SET_REPORTING, VG_UNIT_PROTECTED, 0, VG_ZONE_INDEX_NONE,
                    c->p->fast_interval_ms);
    } else if (near) {
        s->fast_since_ms = c->now; /* the hold counts from the last time it was near */
    } else if (s->fast && c->now - s->fast_since_ms >= c->p->fast_hold_ms) {
        s->fast = 0;
        vg__command(c, VG_CMD_SET_REPORTING, VG_UNIT_AUTHOR, 0, VG_ZONE_INDEX_NONE,
                    c->p->report_interval_ms);
        vg__command(c, VG_CMD_SET_REPORTING, VG_UNIT_PROTECTED, 0, VG_ZONE_INDEX_NONE,
                    c->p->report_interval_ms);
    }
}

/* Judge a party's position f (prepared as pos), newer than anything before
 * it; prev_pos is where that party was before (NULL if unknown). */
static void observe_present(struct vg__ctx *c, int party, const struct vg_track_fix *f,
                            const struct vg_geo_prepared *pos, const struct vg_track_fix *prev,
                            const struct vg_geo_prepared *prev_pos, bool trusted)
{
    struct vg_engine_state *s = c->s;
    struct vg_party_state *other = &s->party[party == VG__AUTHOR ? VG__PROTECTED : VG__AUTHOR];
    const struct vg_track_fix *of = vg__latest(other);
    bool here_authorised;
    if (party == VG__AUTHOR)
        fixed_zones_observe(c, pos, f, (double)f->accuracy_m, f->time_ms, f->time_ms, prev, trusted,
                            false, &here_authorised);
    else
        here_authorised = at_authorised_place(c, pos, f->time_ms);
    if (trusted)
        set_authorised(s, party, here_authorised);
    bool authorised = here_authorised || (s->authorised & (1u << (1 - party)));
    if (of && party == VG__AUTHOR)
        mobile_zone_observe(c, f, pos, of, &other->pos, VG__AUTHOR, prev, prev_pos, trusted, false,
                            authorised);
    else if (of)
        mobile_zone_observe(c, of, &other->pos, f, pos, VG__PROTECTED, prev, prev_pos, trusted,
                            false, authorised);
    if (trusted)
        update_reporting(c);
}

/* f becomes the party's present position; pos is f prepared, or NULL. */
static void accept_fix(struct vg__ctx *c, int party, const struct vg_track_fix *f,
                       const struct vg_geo_prepared *pos)
{
    struct vg_engine_state *s = c->s;
    struct vg_party_state *ps = &s->party[party];
    struct vg_track_fix prev;
    struct vg_geo_prepared prev_pos = ps->pos;
    bool has_prev = ps->n_hist > 0;
    if (has_prev)
        prev = *vg__latest(ps);
    if (ps->n_hist == VG_ENGINE_HISTORY) {
        memmove(&ps->hist[0], &ps->hist[1], sizeof ps->hist[0] * (VG_ENGINE_HISTORY - 1));
        ps->n_hist--;
    }
    ps->hist[ps->n_hist++] = *f;
    if (pos)
        ps->pos = *pos;
    else
        prepare_track(&ps->pos, f);
    /* A network position stands in for her position; it is no GNSS fix:
     * the loss timers run on and her GNSS stays lost. */
    bool gnss = VG_FIX_IS_GNSS(f->quality);
    if (gnss) {
        ps->last_fix_rx_ms = c->now;
        ps->nofix = 0;
    }
    if (f->speed_cms != 0xffff) {
        ps->speed_mps = (float)f->speed_cms / 100.0f;
    } else if (gnss && has_prev && VG_FIX_IS_GNSS(prev.quality) && f->time_ms > prev.time_ms) {
        ps->speed_mps = (float)(vg_geo_fast_distance(&prev_pos, &ps->pos) /
                                ((double)(f->time_ms - prev.time_ms) / MS_PER_S));
    }
    if (gnss && ps->gnss_lost) {
        ps->gnss_lost = 0;
        struct vg_alarm *a = vg__alarm(c, VG_ALARM_GNSS_RESTORED,
                                       party == VG__AUTHOR ? VG_UNIT_AUTHOR : VG_UNIT_PROTECTED,
                                       VG_PRIORITY_INFO, f->time_ms);
        (void)a;
    }
    /* a fresh episode for the late-record bookkeeping */
    if (party == VG__AUTHOR)
        for (size_t i = 0; i <= c->cfg->n_zones; i++)
            s->zone[i].late_level = VG_LEVEL_NONE;
    else
        s->zone[0].late_level = VG_LEVEL_NONE;
    observe_present(c, party, f, &ps->pos, has_prev ? &prev : NULL, has_prev ? &prev_pos : NULL,
                    true);
}

static void observe_held(struct vg__ctx *c, int party, const struct vg_track_fix *f,
                         const struct vg_geo_prepared *pos)
{
    observe_present(c, party, f, pos, NULL, NULL, false);
}

/* A record older than the newest from the same party. */
static void late_fix(struct vg__ctx *c, int party, const struct vg_track_fix *f)
{
    struct vg_engine_state *s = c->s;
    struct vg_party_state *ps = &s->party[party];
    const struct vg_track_fix *before = NULL, *after = NULL;
    for (unsigned i = 0; i < ps->n_hist; i++) {
        if (ps->hist[i].time_ms == f->time_ms)
            return; /* a resend: the first copy stands */
        if (ps->hist[i].time_ms < f->time_ms)
            before = &ps->hist[i];
        else if (!after)
            after = &ps->hist[i];
    }
    /* an outlier between two fixes that agree with each other */
    bool ok_before = !before || plausible(c, before, f);
    bool ok_after = !after || plausible(c, f, after);
    if (!ok_before && !ok_after)
        return;

    /* keep it for pairing with the other party's late records */
    unsigned pos = 0;
    while (pos < ps->n_hist && ps->hist[pos].time_ms < f->time_ms)
        pos++;
    if (ps->n_hist < VG_ENGINE_HISTORY) {
        memmove(&ps->hist[pos + 1], &ps->hist[pos], sizeof ps->hist[0] * (ps->n_hist - pos));
        ps->hist[pos] = *f;
        ps->n_hist++;
    } else if (pos > 0) {
        memmove(&ps->hist[0], &ps->hist[1], sizeof ps->hist[0] * (pos - 1));
        ps->hist[pos - 1] = *f;
    }

    struct vg_geo_prepared fpos;
    prepare_track(&fpos, f);
    const struct vg_track_fix *kept = vg__nearest(ps, f->time_ms); /* f itself, if kept */
    const struct vg_track_fix *self = kept && kept->time_ms == f->time_ms ? kept : f;
    bool authorised = false;
    if (party == VG__AUTHOR) {
        fixed_zones_observe(c, &fpos, self, (double)f->accuracy_m, f->time_ms, f->time_ms, NULL,
                            true, true, &authorised);
        const struct vg_track_fix *pf = vg__nearest(&s->party[VG__PROTECTED], f->time_ms);
        if (pf) {
            struct vg_geo_prepared ppos;
            prepare_track(&ppos, pf);
            authorised = authorised || at_authorised_place(c, &ppos, pf->time_ms);
            mobile_zone_observe(c, self, &fpos, pf, &ppos, VG__AUTHOR, NULL, NULL, true, true,
                                authorised);
        }
    } else {
        const struct vg_track_fix *af = vg__nearest(&s->party[VG__AUTHOR], f->time_ms);
        if (af) {
            struct vg_geo_prepared apos;
            prepare_track(&apos, af);
            /* was either at an authorised place then? */
            bool auth_then = at_authorised_place(c, &fpos, f->time_ms) ||
                             at_authorised_place(c, &apos, af->time_ms);
            mobile_zone_observe(c, af, &apos, self, &fpos, VG__PROTECTED, NULL, NULL, true, true,
                                auth_then);
        }
    }
}

/* A network position (the modem's estimate, no GNSS fix). For the author
 * it is kept for grading a loss (engine.c). For the protected person it
 * becomes her position once her last fix is net_after_ms older and
 * contradicted by it (the discs do not meet: she moved further than the
 * ageing allows, in the metro say): the mobile zone is then judged against
 * it, with its large uncertainty, so that an approach of where she really
 * is gets raised. An estimate that agrees with her aged fix tells nothing
 * new and would only widen the uncertainty (she sits indoors, the cells
 * wobble around her): her fix stays. Once she is on estimates, the next
 * ones follow, until a GNSS fix. */
static void feed_network(struct vg__ctx *c, int party, const struct vg_fix *fix)
{
    struct vg_party_state *ps = &c->s->party[party];
    const struct vg_engine_params *p = c->p;
    struct vg_track_fix t;
    vg__track_from_fix(&t, fix);
    if (ps->net.time_ms >= t.time_ms)
        return; /* older than the one kept, or a resend */
    double acc = p->net_k * (double)fix->accuracy_m;
    if (acc < p->net_min_m)
        acc = p->net_min_m;
    t.accuracy_m = (float)acc;
    t.speed_cms = 0xffff;
    t.heading_2deg = 0xff;
    ps->net = t;
    if (party != VG__PROTECTED)
        return;
    const struct vg_track_fix *g = vg__latest(ps);
    if (g && t.time_ms <= g->time_ms)
        return;
    if (g && VG_FIX_IS_GNSS(g->quality)) {
        if (t.time_ms - g->time_ms < p->net_after_ms)
            return;
        struct vg_geo_prepared npos;
        prepare_track(&npos, &t);
        double aged = vg__aged_accuracy(c, g, t.time_ms);
        if (vg_geo_fast_distance(&ps->pos, &npos) <= aged + acc)
            return; /* it agrees with her aged fix: nothing new */
    }
    accept_fix(c, party, &t, NULL);
}

/* Could b follow a in the time between them, given both Doppler speeds
 * (unaffected by multipath, which moves the position only): at most the
 * mean of the two speeds, plus accelerating then braking at
 * jump_accel_mps2 (a*dt^2/4), plus both accuracies. Unknown speeds: yes. */
static bool doppler_consistent(const struct vg__ctx *c, const struct vg_track_fix *a,
                               const struct vg_geo_prepared *pa, const struct vg_track_fix *b,
                               const struct vg_geo_prepared *pb, double q)
{
    if (a->speed_cms == 0xffff || b->speed_cms == 0xffff || !VG_FIX_IS_GNSS(a->quality) ||
        !VG_FIX_IS_GNSS(b->quality))
        return true;
    double dt = fabs((double)(b->time_ms - a->time_ms)) / MS_PER_S;
    double allowed = (a->speed_cms + b->speed_cms) / 200.0 * dt +
                     c->p->jump_accel_mps2 * dt * dt / 4.0 + (double)a->accuracy_m +
                     (double)b->accuracy_m;
    return within(pa, pb, q, allowed);
}

/* What doppler_hold() decided. */
enum { JUMP_NONE, JUMP_HELD, JUMP_TAKEN, JUMP_ON_TAKEN };

/* A position jump: f is further from the last accepted fix than the Doppler
 * speeds allow (a multipath jump the receiver did not report: the sky's
 * reflections move the position by tens to hundreds of metres for a few
 * seconds, not the speed). It is held, and judged untrusted (it may only
 * raise a suspicion), while the fixes stay with the jump, until one comes
 * back nearer the last accepted fix than the jump (accepted: the jump is
 * over), one jumps away from the held one too (accepted: speeds that
 * disagree with every step are not to be believed, a unit's bad Doppler
 * must not hold a moving man back), or the jump has lasted jump_hold_ms
 * from the last accepted fix (JUMP_TAKEN: the earlier fix may have been
 * the wrong one, and a real crossing it hid is raised then, within the
 * 30 s the detection delay allows). A track taken that way may itself be
 * the jump: while it goes on (ps->held_jump 2, taken at ps->held.time_ms),
 * for up to jump_hold_ms more, the next jump away from it is believed at
 * once, never held (the true position coming back); after that, the taken
 * track is the track (JUMP_ON_TAKEN: still on it). */
static int doppler_hold(struct vg__ctx *c, int party, const struct vg_track_fix *latest,
                        const struct vg_track_fix *f, const struct vg_geo_prepared *fpos, double q)
{
    struct vg_party_state *ps = &c->s->party[party];
    if (c->p->jump_hold_ms <= 0)
        return JUMP_NONE;
    if (ps->held_jump == 2) { /* on a track taken from a jump */
        if (f->time_ms - ps->held.time_ms < c->p->jump_hold_ms)
            return doppler_consistent(c, latest, &ps->pos, f, fpos, q) ? JUMP_ON_TAKEN : JUMP_NONE;
        ps->held_jump = 0;
    }
    bool holding = ps->has_held && ps->held_jump == 1 && ps->held.time_ms < f->time_ms;
    if (holding) {
        struct vg_geo_prepared hpos;
        prepare_track(&hpos, &ps->held);
        if (vg_geo_fast_distance(fpos, &ps->pos) < vg_geo_fast_distance(fpos, &hpos))
            return JUMP_NONE; /* back: the jump is over */
        if (!doppler_consistent(c, &ps->held, &hpos, f, fpos, vg_geo_quick_distance(&hpos, fpos)))
            return JUMP_NONE; /* moving away from the jump too: the speeds are not to be believed */
    } else if (doppler_consistent(c, latest, &ps->pos, f, fpos, q)) {
        return JUMP_NONE;
    }
    if (f->time_ms - latest->time_ms >= c->p->jump_hold_ms)
        return holding ? JUMP_TAKEN : JUMP_NONE;
    ps->held = *f;
    ps->has_held = 1;
    ps->held_jump = 1;
    observe_held(c, party, f, fpos);
    return JUMP_HELD;
}

/* A fix less precise than the party's previous fix aged to its time says
 * less than that one: the party is in both discs (each a 95% radius), so
 * within the smaller. The receiver that reports a multipath jump or a cold
 * start with a 300 m accuracy, 5 s after a 12 m fix of a person standing
 * still, is judged where the 12 m fix was, 22 m uncertain (aged as the
 * other party's fix is, at max(drift_mps, both Doppler speeds)), not 300 m
 * uncertain 250 m away; the uncertainty keeps growing fix after fix until a
 * precise fix comes or the new one is the better. Only with both Doppler
 * speeds known (without them a moving person could outrun the ageing) and
 * discs that meet (if they do not, the past is what was wrong). The fix
 * stays the present one (its time, speed, quality: timers, losses, speed). */
static void fuse_with_past(const struct vg__ctx *c, const struct vg_track_fix *past,
                           const struct vg_geo_prepared *past_pos, struct vg_track_fix *f,
                           struct vg_geo_prepared *fpos)
{
    if (!VG_FIX_IS_GNSS(past->quality) || !VG_FIX_IS_GNSS(f->quality) ||
        past->speed_cms == 0xffff || f->speed_cms == 0xffff || f->time_ms <= past->time_ms)
        return;
    double v = c->p->drift_mps;
    if (past->speed_cms / 100.0 > v)
        v = past->speed_cms / 100.0;
    if (f->speed_cms / 100.0 > v)
        v = f->speed_cms / 100.0;
    double aged = (double)past->accuracy_m + v * ((double)(f->time_ms - past->time_ms) / MS_PER_S);
    if (aged >= (double)f->accuracy_m)
        return;
    if (vg_geo_fast_distance(past_pos, fpos) > aged + (double)f->accuracy_m)
        return;
    f->lat_e7 = past->lat_e7;
    f->lon_e7 = past->lon_e7;
    f->accuracy_m = (float)aged;
    *fpos = *past_pos;
}

void vg__feed_fix(struct vg__ctx *c, int party, const struct vg_fix *fix)
{
    struct vg_party_state *ps = &c->s->party[party];
    if (fix->quality == VG_FIX_NETWORK) {
        /* the receiver has no fix: as a "no fix" record, plus the estimate */
        const struct vg_track_fix *last = vg__latest(ps);
        if ((!last || fix->time_ms > last->time_ms) && ps->nofix < 255)
            ps->nofix++;
        feed_network(c, party, fix);
        return;
    }
    if (fix->quality == VG_FIX_NONE) {
        /* the unit is alive but has no position: the GNSS loss timer runs,
         * and near a zone the "no fix" records count (engine.c) */
        const struct vg_track_fix *last = vg__latest(ps);
        if ((!last || fix->time_ms > last->time_ms) && ps->nofix < 255)
            ps->nofix++;
        return;
    }

    struct vg_track_fix f;
    vg__track_from_fix(&f, fix);
    const struct vg_track_fix *latest = vg__latest(ps);
    if (latest && f.time_ms <= latest->time_ms) {
        late_fix(c, party, &f);
        return;
    }
    struct vg_geo_prepared fpos;
    prepare_track(&fpos, &f);
    double q = latest ? vg_geo_quick_distance(&ps->pos, &fpos) : 0.0; /* latest to f */
    if (latest && !plausible_prepared(c, latest, &ps->pos, &f, &fpos, q)) {
        if (ps->has_held && ps->held.time_ms < f.time_ms && plausible(c, &ps->held, &f)) {
            /* two fixes agree: the jump was real (a train, a long gap) */
            struct vg_track_fix held = ps->held;
            ps->has_held = 0;
            ps->rejects = 0;
            accept_fix(c, party, &held, NULL);
            accept_fix(c, party, &f, &fpos);
            return;
        }
        ps->held = f;
        ps->has_held = 1;
        ps->held_jump = 0;
        if (++ps->rejects >= 3) {
            /* three in a row disagree with the last accepted fix: that one
             * was the outlier, or the unit moved in a way we cannot model */
            ps->has_held = 0;
            ps->rejects = 0;
            accept_fix(c, party, &f, &fpos);
            return;
        }
        observe_held(c, party, &f, &fpos);
        return;
    }
    int jump = latest ? doppler_hold(c, party, latest, &f, &fpos, q) : JUMP_NONE;
    if (jump == JUMP_HELD)
        return;
    ps->has_held = 0;
    if (jump == JUMP_TAKEN) {
        ps->held_jump = 2;
        ps->held.time_ms = f.time_ms; /* when (held is unused while has_held is 0) */
    } else if (jump != JUMP_ON_TAKEN) {
        ps->held_jump = 0;
    }
    ps->rejects = 0;
    if (latest && c->p->fuse_past_fix)
        fuse_with_past(c, latest, &ps->pos, &f, &fpos);
    accept_fix(c, party, &f, &fpos);
}

/* ---- time passing ----------------------------------------------------- */

/* When the fixes that could settle a suspected crossing of zone zi last
 * came: the author's for a fixed zone; for the mobile zone both parties'
 * positions matter, so the staler of the two. */
static int64_t settling_rx(const struct vg_engine_state *s, size_t zi)
{
    int64_t rx = s->party[VG__AUTHOR].last_fix_rx_ms;
    if (zi == 0 && s->party[VG__PROTECTED].last_fix_rx_ms < rx)
        rx = s->party[VG__PROTECTED].last_fix_rx_ms;
    return rx;
}

void vg__zones_tick(struct vg__ctx *c)
{
    struct vg_engine_state *s = c->s;
    const struct vg_engine_params *p = c->p;

    /* A time window opened or closed: judge the last positions again. */
    if (c->now >= s->windows_until_ms) {
        vg__windows_refresh(c, c->now);
        struct vg_party_state *ap = &s->party[VG__AUTHOR];
        struct vg_party_state *pp = &s->party[VG__PROTECTED];
        const struct vg_track_fix *f = vg__latest(ap);
        const struct vg_track_fix *pf = vg__latest(pp);
        set_authorised(s, VG__PROTECTED, pf && at_authorised_place(c, &pp->pos, c->now));
        if (f) {
            double u = vg__aged_accuracy(c, f, c->now);
            bool authorised = false;
            fixed_zones_observe(c, &ap->pos, f, u, c->now, c->now, NULL, true, false, &authorised);
            set_authorised(s, VG__AUTHOR, authorised);
            if (pf && !mobile_authorised(s)) {
                /* the mobile zone, no longer covered by the window */
                double up = vg__aged_accuracy(c, pf, c->now);
                struct observation o = {
                    .zi = VG_ZONE_INDEX_MOBILE,
                    .d = vg_geo_fast_distance(&ap->pos, &pp->pos),
                    .u = sqrt(u * u + up * up),
                    .radius = c->cfg->alert_radius_m,
                    .t = c->now,
                    .author = f,
                    .protected_person = pf,
                    .trusted = true,
                };
                zone_observe(c, &o);
            }
            update_reporting(c);
        }
    }

    /* Suspected crossings that no fix came to settle. */
    for (size_t zi = 0; zi <= c->cfg->n_zones; zi++) {
        struct vg_zone_state *zs = &s->zone[zi];
        if (zs->suspect_level <= zs->level)
            continue;
        int64_t rx = settling_rx(s, zi);
        if (c->now - rx < p->confirm_timeout_ms)
            continue;
        const struct vg_track_fix *a = vg__latest(&s->party[VG__AUTHOR]);
        const struct vg_track_fix *pp = vg__latest(&s->party[VG__PROTECTED]);
        struct observation o = {
            .zi = (int)zi,
            .d = zi == 0 ? (double)s->mobile_distance_m : (double)zs->last_distance_m,
            .radius = zi == 0 ? c->cfg->alert_radius_m : c->cfg->zones[zi - 1].alert_radius_m,
            .t = zs->suspect_since_ms,
            .author = a,
            .protected_person = pp,
            .trusted = true,
        };
        if (a)
            o.u = vg__aged_accuracy(c, a, c->now);
        change_level(c, &o, zs->suspect_level, VG_CONFIDENCE_UNCONFIRMED, zs->suspect_since_ms);
        /* no fix to measure the closing speed: the last one known for the
         * mobile zone, his own speed (an upper bound) for a fixed zone */
        double closing = zi == 0 ? (double)s->approach_rate[VG__AUTHOR] +
                                       (double)s->approach_rate[VG__PROTECTED]
                                 : (double)s->party[VG__AUTHOR].speed_mps;
        ring_if_due(c, zs, (int)zi, c->now, closing);
    }
}

int64_t vg__zones_deadline(const struct vg__ctx *c)
{
    const struct vg_engine_state *s = c->s;
    int64_t d = INT64_MAX;
    for (size_t i = 0; i < c->cfg->n_zones; i++)
        if (c->cfg->zones[i].n_windows) {
            d = s->windows_until_ms;
            break;
        }
    for (size_t zi = 0; zi <= c->cfg->n_zones; zi++) {
        const struct vg_zone_state *zs = &s->zone[zi];
        if (zs->suspect_level <= zs->level)
            continue;
        int64_t t = settling_rx(s, zi) + c->p->confirm_timeout_ms;
        if (t < d)
            d = t;
    }
    return d;
}
