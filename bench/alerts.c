/* bench/alerts: alert quality on a simulated corpus with ground truth.
 *
 * The corpus (bench/alerts_corpus.json, docs/SCENARIOS.md "population.mix"):
 * 1,000 measures for 24 hours in the Nantes area, generated in-process by
 * the simulator's library (src/sim) for several seeds, each seed a new
 * population (population.seed_offset) and new receiver noise (the run's
 * seed). Every unit is played here by a small unit model: a fix record
 * every reporting interval (60 s, or what the engine's SET_REPORTING says),
 * "no fix" records when the receiver has none, a status on every change of
 * its sensors and every 10 minutes, records queued while the network is
 * down and flushed when it is back, POWER_OFF / POWER_ON events, a battery
 * that drains.
 *
 * The same records, in the same order, go to
 *   (a) the naive rule: an alarm on every raw crossing of R or 2R by a
 *       single fix (mobile zone and fixed zones), on every loss of fixes of
 *       a unit longer than 2 minutes, and on every bad device state;
 *   (b) the engine (src/core/engine.h) as vigied uses it: the measure's
 *       configuration, ticks when the deadline falls due, its reporting
 *       commands obeyed by the units, its rings counted.
 * and both are scored against the ground truth (src/sim/truth.c).
 *
 * docs/BENCHMARKS.md ("bench/alerts") says exactly what counts as an
 * operator-facing alert, how an alarm is matched to a true intrusion and
 * what every metric means. Seeds 1, 2, 3 are the tuning corpus; seed 4 is
 * held out and reported apart (metrics suffixed _heldout).
 */
#include <jansson.h>
#include <math.h>
#include <stddef.h>

#include "bench.h"
#include "core/engine.h"
#include "core/err.h"
#include "core/geo.h"
#include "core/tz.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "util/measure_json.h"
#include "util/tzload.h"

#ifndef VG_SOURCE_ROOT
#define VG_SOURCE_ROOT "."
#endif

#define GRACE_MS        60000 /* an alarm this long after a true intrusion ends still counts */
#define SAMPLE_S        5     /* the units read their world every 5 s */
#define STATUS_EVERY_MS 600000
#define LATENCY_MS      500 /* unit to centre, network up */
#define NAIVE_LOSS_MS   120000
#define MAX_QUEUE       20000
#define MAX_DELAYS      100000
/* A graze: an intrusion less than GRAZE_M deep into R lasting under GRAZE_S
 * (the engine may not see it through the fixes' own error; counted all
 * the same, and broken down) */
#define GRAZE_M 25.0
#define GRAZE_S 30

enum { K_PRE, K_ALERT, K_LOSS_URGENT, K_LOSS_NEUTRAL, K_DEVICE, K_BEACON, K_OTHER, K__N };
static const char *const kind_names[K__N] = {"prealert", "alert",  "loss_urgent", "loss_neutral",
                                             "device",   "beacon", "other"};

struct tally {
    double measure_days;
    uint64_t naive[K__N], naive_total;
    uint64_t engine[K__N], engine_total;
    uint64_t technical, info;
    uint64_t loss_urgent, loss_technical, loss_neutral;
    uint64_t rings_pre, rings_alert, nights_disturbed; /* rung aloud */
    uint64_t quiet_notices; /* vibrated or shown only, as her notification policy says */
    uint64_t naive_nights_disturbed;
    uint64_t naive_rings;
    uint64_t intrusions, missed, naive_missed, late_30s;
    uint64_t faults, faults_raised;
    double *delays; /* seconds, engine */
    size_t n_delays;
    double *naive_delays;
    size_t n_naive_delays;
    uint64_t records;
    uint64_t naive_pages[K__N], naive_pages_total; /* incidents opened or raised */
    uint64_t engine_pages[K__N], engine_pages_total;
    uint64_t true_pre, true_alert; /* true intervals within 2R, within R */
    /* the missed or late (over 30 s) intrusions, by what the centre could know */
    uint64_t miss_her_off, miss_graze, miss_her_blind, miss_his_blind, miss_other;
    uint64_t undetectable;           /* missed while her unit was off: left out of `intrusions` */
    uint64_t false_pre, false_alert; /* engine crossings no true interval explains */
};

/* ---- the units ---- */

/* The units send the modem's network estimate in their "no fix" records
 * (docs/PROTOCOL.md 6.1); BENCH_ALERTS_NETWORK=0 plays units without it. */
static bool network_positions = true;

struct queued {
    struct vg_engine_input in;
};

struct unit_model {
    size_t unit;
    int role; /* 0 author, 1 protected */
    int64_t interval_ms;
    int64_t next_fix_ms; /* run-relative */
    int64_t next_status_ms;
    double battery;
    int last_battery;
    int powered;
    int dead;
    int8_t strap, skin, link, beacon;
    struct queued *q;
    size_t nq;
};

struct naive_state {
    int has[2];
    struct vg_geo_prepared pos[2];
    uint8_t level[1 + VG_ENGINE_MAX_FIXED_ZONES];
    int64_t last_fix_rx[2];
    int lost[2];
    int64_t alert_raised_ms[1 + VG_ENGINE_MAX_FIXED_ZONES][64];
    size_t n_alert_raised[1 + VG_ENGINE_MAX_FIXED_ZONES];
    /* for the scoring: when each party had no fix for over 2 minutes
     * ([from, to), centre time, from the last fix on), when her unit was
     * off, and each party's first fix */
    int64_t blind[2][64][2];
    size_t n_blind[2];
    int64_t off[8][2];
    size_t n_off;
    int64_t first_fix[2];
};

struct ealarm {
    int64_t raised_ms;
    uint16_t kind;
    uint8_t priority, flags;
    int16_t zone;
    uint8_t level_to;
    uint8_t unit;
    uint8_t paged; /* opened or raised an operator's incident */
    float reach_m, distance_m;
    int64_t his_fix_ms; /* the evidence's fix of the author */
};

/* BENCH_ALERTS_PAGES=1: one line per engine page on stderr, with what the
 * truth says about it (for the per-page causes of docs/ALERT-QUALITY.md) */
static bool dump_pages = false;

/* The operators' incidents, as core/incident.h keeps them, with the
 * operator closing one INCIDENT_QUIET_MS after its last alarm: an alarm
 * opens an incident if none is open, or raises it if it is more urgent
 * than the incident; both are a page. Alarms that join an open incident
 * at its priority or lower are not. */
#define INCIDENT_QUIET_MS 600000

struct incident_model {
    int64_t last_ms;
    uint8_t prio;
    uint8_t open;
};

static bool page(struct incident_model *m, int64_t t, uint8_t prio)
{
    bool paged = false;
    if (!m->open || t - m->last_ms > INCIDENT_QUIET_MS) {
        m->open = 1;
        m->prio = prio;
        paged = true;
    } else if (prio < m->prio) {
        m->prio = prio;
        paged = true;
    }
    if (t > m->last_ms)
        m->last_ms = t;
    return paged;
}

/* Where each party really was at one sample, and what its unit had. */
struct truepos {
    double lat[2], lon[2];
    uint8_t flags[2]; /* TP_* */
};
enum { TP_NET = 1, TP_GNSS = 2, TP_POWERED = 4, TP_NETFIX = 8 };

struct pair_run {
    const struct vg_engine_config *cfg;
    struct vg_engine_state st;
    struct vg_engine_out out;
    int64_t start_ms;
    struct unit_model u[2];
    struct naive_state nv;
    struct ealarm *alarms;
    size_t n_alarms, cap_alarms;
    struct tally *t;
    const struct vg_tz *tz;
    uint8_t night_rung[2]; /* nights (0: the first, 1: the second) with a ring */
    uint8_t naive_night_rung[2];
    struct incident_model eng_inc, naive_inc;
    struct truepos *trk; /* BENCH_ALERTS_PAGES: both parties every SAMPLE_S */
    size_t n_trk;
};

static void naive_alarm(struct pair_run *r, int kind, uint8_t prio, int64_t t)
{
    r->t->naive[kind]++;
    r->t->naive_total++;
    if (page(&r->naive_inc, t, prio)) {
        r->t->naive_pages[kind]++;
        r->t->naive_pages_total++;
    }
}

static void push_alarm(struct pair_run *r, const struct vg_alarm *a)
{
    if (r->n_alarms == r->cap_alarms) {
        r->cap_alarms = r->cap_alarms ? 2 * r->cap_alarms : 256;
        r->alarms = realloc(r->alarms, r->cap_alarms * sizeof *r->alarms);
        if (!r->alarms)
            abort();
    }
    r->alarms[r->n_alarms++] = (struct ealarm){a->raised_ms,
                                               a->kind,
                                               a->priority,
                                               a->flags,
                                               a->zone_index,
                                               a->level_to,
                                               a->unit,
                                               0,
                                               (float)a->ev.reach_m,
                                               (float)a->ev.distance_m,
                                               a->ev.author_fix.time_ms};
}

static int kind_of(const struct vg_alarm *a)
{
    switch (a->kind) {
    case VG_ALARM_PREALERT_ENTERED: return K_PRE;
    case VG_ALARM_ALERT_ENTERED: return K_ALERT;
    case VG_ALARM_GNSS_LOST:
    case VG_ALARM_COMM_LOST:
    case VG_ALARM_UNIT_SWITCHED_OFF:
        if (a->flags & VG_ALARM_F_URGENT)
            return K_LOSS_URGENT;
        return a->kind == VG_ALARM_UNIT_SWITCHED_OFF ? K_LOSS_NEUTRAL : K_OTHER;
    case VG_ALARM_BEACON_DETECTED: return K_BEACON;
    case VG_ALARM_STRAP_OPENED:
    case VG_ALARM_SKIN_CONTACT_LOST:
    case VG_ALARM_BRACELET_SEPARATED:
    case VG_ALARM_BATTERY_LOW:
    case VG_ALARM_BATTERY_CRITICAL: return K_DEVICE;
    default: return K_OTHER;
    }
}

static bool is_device_bad(unsigned kind)
{
    return kind == VG_ALARM_STRAP_OPENED || kind == VG_ALARM_SKIN_CONTACT_LOST ||
           kind == VG_ALARM_BRACELET_SEPARATED || kind == VG_ALARM_BATTERY_LOW ||
           kind == VG_ALARM_BATTERY_CRITICAL || kind == VG_ALARM_UNIT_SWITCHED_OFF;
}

static int local_hour(const struct pair_run *r, int64_t utc_ms)
{
    int64_t s = utc_ms / 1000 + vg_tz_offset_at(r->tz, utc_ms / 1000);
    return (int)((s % 86400 + 86400) % 86400 / 3600);
}

static void engine_out(struct pair_run *r, int64_t now_abs)
{
    struct tally *t = r->t;
    for (size_t i = 0; i < r->out.n_alarms; i++) {
        const struct vg_alarm *a = &r->out.alarms[i];
        push_alarm(r, a);
        if (a->priority <= VG_PRIORITY_PREALERT) {
            int k = kind_of(a);
            if (k == K_OTHER && is_device_bad(a->kind))
                k = K_DEVICE;
            t->engine[k]++;
            t->engine_total++;
            if (page(&r->eng_inc, a->raised_ms, a->priority)) {
                r->alarms[r->n_alarms - 1].paged = 1;
                t->engine_pages[k]++;
                t->engine_pages_total++;
            }
        } else if (a->priority == VG_PRIORITY_TECHNICAL) {
            t->technical++;
        } else {
            t->info++;
        }
        if (a->kind == VG_ALARM_GNSS_LOST || a->kind == VG_ALARM_COMM_LOST ||
            a->kind == VG_ALARM_UNIT_SWITCHED_OFF) {
            if (a->priority == VG_PRIORITY_ALERT && getenv("BENCH_ALERTS_LOSSES"))
                fprintf(stderr,
                        "URGENT %s flags %u reach %.0f dist %.0f since_fix %.0f s speed %.1f "
                        "net age %.0f s acc %.0f m\n",
                        vg_alarm_kind_name(a->kind), a->flags, a->ev.reach_m, a->ev.distance_m,
                        (double)(a->raised_ms - a->ev.author_fix.time_ms) / 1000.0,
                        (double)a->ev.author_fix.speed_mps,
                        r->st.party[0].net.time_ms
                            ? (double)(a->raised_ms - r->st.party[0].net.time_ms) / 1000.0
                            : -1.0,
                        (double)r->st.party[0].net.accuracy_m);
            if (a->priority == VG_PRIORITY_ALERT)
                t->loss_urgent++;
            else if (a->priority == VG_PRIORITY_TECHNICAL)
                t->loss_technical++;
            else
                t->loss_neutral++;
        }
        if (is_device_bad(a->kind)) /* the naive rule raises these as they come */
            naive_alarm(r, a->kind == VG_ALARM_UNIT_SWITCHED_OFF ? K_LOSS_NEUTRAL : K_DEVICE,
                        VG_PRIORITY_NEUTRALISATION, a->raised_ms);
    }
    for (size_t i = 0; i < r->out.n_commands; i++) {
        const struct vg_command *c = &r->out.commands[i];
        if (c->kind == VG_CMD_SET_REPORTING) {
            struct unit_model *u = &r->u[c->unit == VG_UNIT_PROTECTED ? 1 : 0];
            u->interval_ms = c->interval_ms;
            int64_t rel = now_abs - r->start_ms;
            if (u->next_fix_ms > rel + u->interval_ms)
                u->next_fix_ms = rel + u->interval_ms;
        } else if (c->kind == VG_CMD_RING) {
            if (c->mode != VG_RING_LOUD) { /* her policy: a vibration, the screen only */
                t->quiet_notices++;
                continue;
            }
            if (c->level == VG_LEVEL_ALERT)
                t->rings_alert++;
            else
                t->rings_pre++;
            int h = local_hour(r, now_abs);
            if (h >= 22 || h < 7) {
                int night = h >= 22 ? 1 : 0; /* the corpus starts at midnight */
                r->night_rung[night] = 1;
            }
        }
    }
}

/* ---- the naive rule ---- */

static uint8_t level_of(double d, double radius)
{
    return d <= radius ? 2 : d <= 2.0 * radius ? 1 : 0;
}

static void naive_level(struct pair_run *r, int zi, double d, double radius, int64_t now)
{
    struct naive_state *nv = &r->nv;
    uint8_t l = level_of(d, radius);
    if (l > nv->level[zi]) {
        for (uint8_t k = nv->level[zi] + 1; k <= l; k++) {
            naive_alarm(r, k == 2 ? K_ALERT : K_PRE,
                        k == 2 ? VG_PRIORITY_ALERT : VG_PRIORITY_PREALERT, now);
            r->t->naive_rings++;
            int h = local_hour(r, now);
            if (h >= 22 || h < 7)
                r->naive_night_rung[h >= 22 ? 1 : 0] = 1;
        }
        if (l == 2 && nv->n_alert_raised[zi] < 64)
            nv->alert_raised_ms[zi][nv->n_alert_raised[zi]++] = now;
    }
    nv->level[zi] = l;
}

static void naive_fix(struct pair_run *r, int party, const struct vg_fix *f, int64_t now)
{
    struct naive_state *nv = &r->nv;
    if (nv->lost[party] && nv->n_blind[party] && nv->n_blind[party] <= 64)
        nv->blind[party][nv->n_blind[party] - 1][1] = now;
    if (!nv->first_fix[party])
        nv->first_fix[party] = now;
    nv->last_fix_rx[party] = now;
    nv->lost[party] = 0;
    vg_geo_prepare(&nv->pos[party], (struct vg_geo_point){f->lat_deg, f->lon_deg});
    nv->has[party] = 1;
    if (nv->has[0] && nv->has[1])
        naive_level(r, 0, vg_geo_fast_distance(&nv->pos[0], &nv->pos[1]), r->cfg->alert_radius_m,
                    now);
    if (party == 0)
        for (size_t i = 0; i < r->cfg->n_zones; i++)
            naive_level(r, (int)(1 + i), vg_zone_distance(&r->cfg->zones[i], &nv->pos[0], HUGE_VAL),
                        r->cfg->zones[i].alert_radius_m, now);
}

static void naive_tick(struct pair_run *r, int64_t now)
{
    for (int p = 0; p < 2; p++)
        if (!r->nv.lost[p] && now - r->nv.last_fix_rx[p] > NAIVE_LOSS_MS) {
            r->nv.lost[p] = 1;
            if (r->nv.n_blind[p] < 64) {
                r->nv.blind[p][r->nv.n_blind[p]][0] = r->nv.last_fix_rx[p];
                r->nv.blind[p][r->nv.n_blind[p]][1] = INT64_MAX;
                r->nv.n_blind[p]++;
            }
            /* every loss is an alarm for the naive rule, ungraded */
            naive_alarm(r, K_LOSS_URGENT, VG_PRIORITY_ALERT, now);
        }
}

/* ---- feeding ---- */

static void feed(struct pair_run *r, const struct vg_engine_input *in, int64_t now)
{
    r->t->records++;
    if (vg_engine_feed(&r->st, r->cfg, in, now, &r->out) != VG_OK) {
        fprintf(stderr, "bench_alerts: a record was refused\n");
        exit(1);
    }
    engine_out(r, now);
    /* the naive rule knows GNSS fixes only (a network estimate is no fix) */
    if (in->kind == VG_INPUT_FIX && VG_FIX_IS_GNSS(in->fix.quality))
        naive_fix(r, in->unit == VG_UNIT_PROTECTED ? 1 : 0, &in->fix, now);
}

static void emit(struct pair_run *r, struct unit_model *u, const struct vg_engine_input *in,
                 bool network_up, int64_t now)
{
    if (!network_up) {
        if (u->nq < MAX_QUEUE)
            u->q[u->nq++].in = *in;
        return;
    }
    feed(r, in, now);
}

static void flush(struct pair_run *r, struct unit_model *u, int64_t now)
{
    for (size_t i = 0; i < u->nq; i++)
        feed(r, &u->q[i].in, now);
    u->nq = 0;
}

static void status_input(struct vg_engine_input *in, unsigned unit, int64_t t)
{
    memset(in, 0, sizeof *in);
    in->kind = VG_INPUT_STATUS;
    in->unit = (uint8_t)unit;
    in->status = (struct vg_unit_status){.time_ms = t,
                                         .battery_pct = -1,
                                         .charging = -1,
                                         .strap_closed = -1,
                                         .skin_contact = -1,
                                         .bracelet_link = -1,
                                         .beacon_heard = -1,
                                         .beacon_range_m = -1};
}

static void event_input(struct vg_engine_input *in, unsigned unit, int64_t t, uint8_t kind)
{
    memset(in, 0, sizeof *in);
    in->kind = VG_INPUT_EVENT;
    in->unit = (uint8_t)unit;
    in->event = (struct vg_unit_event){.time_ms = t, .kind = kind};
}

static void unit_step(struct pair_run *r, struct vg_sim_world *w, struct unit_model *u,
                      int64_t rel_ms)
{
    int64_t t = r->start_ms + rel_ms;
    int64_t now = t + LATENCY_MS;
    struct vg_sim_sample s;
    if (vg_sim_world_sample(w, u->unit, t, &s) != VG_OK) {
        fprintf(stderr, "bench_alerts: sampling failed\n");
        exit(1);
    }
    unsigned eunit = u->role ? VG_UNIT_PROTECTED : VG_UNIT_AUTHOR;
    bool net = s.network_up;
    if (r->trk && (size_t)(rel_ms / (SAMPLE_S * 1000)) < r->n_trk) {
        struct truepos *tp = &r->trk[rel_ms / (SAMPLE_S * 1000)];
        tp->lat[u->role] = s.true_lat_deg;
        tp->lon[u->role] = s.true_lon_deg;
        tp->flags[u->role] =
            (uint8_t)((net ? TP_NET : 0) | (s.fix.quality != VG_FIX_NONE ? TP_GNSS : 0) |
                      (s.powered ? TP_POWERED : 0) |
                      (s.net_fix.quality == VG_FIX_NETWORK ? TP_NETFIX : 0));
    }
    struct vg_engine_input in;
    /* the battery: 1 %/h of its own, plus what the scenario drains */
    if (!u->dead) {
        u->battery -= (1.0 + s.battery_drain_per_h) * SAMPLE_S / 3600.0;
        if (u->battery <= 0.0) {
            u->battery = 0.0;
            u->dead = 1;
        }
    }
    int powered = s.powered && !u->dead;
    struct naive_state *nv = &r->nv;
    if (u->role == 1 && u->powered != powered) { /* her unit's off periods */
        if (!powered && nv->n_off < 8) {
            nv->off[nv->n_off][0] = t;
            nv->off[nv->n_off][1] = INT64_MAX;
            nv->n_off++;
        } else if (powered && nv->n_off && nv->n_off <= 8) {
            nv->off[nv->n_off - 1][1] = t;
        }
    }
    if (u->powered && !powered) {
        event_input(&in, eunit, t, VG_EVENT_POWER_OFF);
        emit(r, u, &in, net, now);
        u->powered = 0;
    }
    if (!powered)
        return;
    if (!u->powered) {
        u->powered = 1;
        event_input(&in, eunit, t, VG_EVENT_POWER_ON);
        emit(r, u, &in, net, now);
    }
    if (net && u->nq)
        flush(r, u, now);
    /* statuses: on any change, and every 10 minutes */
    int batt = (int)ceil(u->battery);
    bool due = rel_ms >= u->next_status_ms || batt != u->last_battery;
    if (u->role == 0) {
        int8_t link = s.bracelet_in_reach;
        if (due || s.strap_closed != u->strap || s.skin_contact != u->skin) {
            status_input(&in, VG_UNIT_BRACELET, t);
            in.status.strap_closed = s.strap_closed;
            in.status.skin_contact = s.skin_contact;
            in.status.battery_pct = 80;
            emit(r, u, &in, net, now);
            u->strap = s.strap_closed;
            u->skin = s.skin_contact;
        }
        if (due || link != u->link) {
            status_input(&in, VG_UNIT_AUTHOR, t);
            in.status.bracelet_link = link;
            in.status.battery_pct = (int8_t)batt;
            emit(r, u, &in, net, now);
            u->link = link;
        }
    } else {
        int8_t heard = s.beacon_range_m >= 0.0 ? 1 : 0;
        if (due || heard != u->beacon) {
            status_input(&in, VG_UNIT_PROTECTED, t);
            in.status.battery_pct = (int8_t)batt;
            in.status.beacon_heard = heard;
            if (heard)
                in.status.beacon_range_m = (int16_t)fmin(s.beacon_range_m, 30000.0);
            emit(r, u, &in, net, now);
            u->beacon = heard;
        }
    }
    if (due) {
        u->last_battery = batt;
        u->next_status_ms = rel_ms + STATUS_EVERY_MS;
    }
    if (rel_ms >= u->next_fix_ms) {
        memset(&in, 0, sizeof in);
        in.kind = VG_INPUT_FIX;
        in.unit = (uint8_t)eunit;
        in.fix = s.fix;
        if (in.fix.quality == VG_FIX_NONE) {
            in.fix.time_ms = t;
            in.fix.speed_mps = -1.0f;
            in.fix.heading_deg = -1.0f;
            /* no GNSS fix: the modem's network estimate when it has one */
            if (network_positions && s.net_fix.quality == VG_FIX_NETWORK)
                in.fix = s.net_fix;
        }
        emit(r, u, &in, net, now);
        u->next_fix_ms = rel_ms + u->interval_ms;
    }
}

/* ---- scoring against the truth ---- */

static void add_delay(double **v, size_t *n, double x)
{
    if (*n % 1024 == 0) {
        *v = realloc(*v, (*n + 1024) * sizeof **v);
        if (!*v)
            abort();
    }
    (*v)[(*n)++] = x;
}

static bool detects(const struct ealarm *a)
{
    if (a->priority != VG_PRIORITY_ALERT)
        return false;
    return a->kind == VG_ALARM_ALERT_ENTERED || a->kind == VG_ALARM_BEACON_DETECTED ||
           a->kind == VG_ALARM_GNSS_LOST || a->kind == VG_ALARM_COMM_LOST ||
           a->kind == VG_ALARM_UNIT_SWITCHED_OFF;
}

/* A crossing the truth explains: a true interval of that zone, at that
 * level or deeper, within 2 minutes of it. */
static bool explained(const struct pair_run *r, const struct vg_sim_truth *truth,
                      const struct ealarm *a, uint8_t kind)
{
    for (size_t i = 0; i < truth->n; i++) {
        const struct vg_sim_interval *iv = &truth->intervals[i];
        if (iv->kind != kind || iv->zone_index != a->zone)
            continue;
        int64_t from = r->start_ms + iv->from_s * 1000 - 120000;
        int64_t to = r->start_ms + iv->to_s * 1000 + 120000;
        if (a->raised_ms >= from && a->raised_ms <= to)
            return true;
    }
    return false;
}

/* His true margin to the nearest alert ring (negative: inside R) at one
 * sample, over the mobile zone and every fixed zone. */
static double true_margin(const struct pair_run *r, const struct truepos *tp, double *to_her)
{
    struct vg_geo_prepared a, b;
    vg_geo_prepare(&a, (struct vg_geo_point){tp->lat[0], tp->lon[0]});
    vg_geo_prepare(&b, (struct vg_geo_point){tp->lat[1], tp->lon[1]});
    double d = vg_geo_fast_distance(&a, &b);
    *to_her = d;
    double m = d - r->cfg->alert_radius_m;
    for (size_t i = 0; i < r->cfg->n_zones; i++) {
        double z =
            vg_zone_distance(&r->cfg->zones[i], &a, HUGE_VAL) - r->cfg->zones[i].alert_radius_m;
        if (z < m)
            m = z;
    }
    return m;
}

static bool ends_loss(const struct ealarm *a, const struct ealarm *loss)
{
    if (a->unit != loss->unit)
        return false;
    if (loss->kind == VG_ALARM_GNSS_LOST)
        return a->kind == VG_ALARM_GNSS_RESTORED || a->kind == VG_ALARM_COMM_LOST ||
               a->kind == VG_ALARM_UNIT_SWITCHED_OFF;
    if (loss->kind == VG_ALARM_COMM_LOST)
        return a->kind == VG_ALARM_COMM_RESTORED || a->kind == VG_ALARM_UNIT_SWITCHED_OFF;
    return a->kind == VG_ALARM_UNIT_SWITCHED_ON;
}

static void dump_pair_pages(const struct pair_run *r, const struct vg_sim_truth *truth, int seed,
                            size_t pair)
{
    int64_t prev_page = -1, prev_op = -1;
    for (size_t k = 0; k < r->n_alarms; k++) {
        const struct ealarm *a = &r->alarms[k];
        if (a->priority > VG_PRIORITY_PREALERT)
            continue;
        int64_t rel = (a->raised_ms - r->start_ms) / 1000;
        if (!a->paged) {
            prev_op = rel;
            continue;
        }
        size_t i0 = (size_t)(rel / SAMPLE_S);
        if (i0 >= r->n_trk)
            i0 = r->n_trk - 1;
        double her = 0.0;
        double m0 = true_margin(r, &r->trk[i0], &her);
        fprintf(stderr,
                "PAGE seed=%d pair=%zu t=%lld kind=%s unit=%u prio=%u flags=%u zone=%d "
                "reach=%.0f dist=%.0f since_fix=%.0f true_margin=%.0f true_her=%.0f "
                "his=%u her=%u gap_page=%lld gap_op=%lld",
                seed, pair, (long long)rel, vg_alarm_kind_name(a->kind), a->unit, a->priority,
                a->flags, a->zone, (double)a->reach_m, (double)a->distance_m,
                a->his_fix_ms ? (double)(a->raised_ms - a->his_fix_ms) / 1000.0 : -1.0, m0, her,
                r->trk[i0].flags[0], r->trk[i0].flags[1],
                prev_page < 0 ? -1LL : (long long)(rel - prev_page),
                prev_op < 0 ? -1LL : (long long)(rel - prev_op));
        if (a->kind == VG_ALARM_GNSS_LOST || a->kind == VG_ALARM_COMM_LOST ||
            a->kind == VG_ALARM_UNIT_SWITCHED_OFF) {
            int64_t end = (int64_t)r->n_trk * SAMPLE_S;
            for (size_t j = k + 1; j < r->n_alarms; j++)
                if (ends_loss(&r->alarms[j], a)) {
                    end = (r->alarms[j].raised_ms - r->start_ms) / 1000;
                    break;
                }
            double minm = HUGE_VAL;
            for (size_t i = i0; i < r->n_trk && (int64_t)i * SAMPLE_S <= end; i++) {
                double h;
                double m = true_margin(r, &r->trk[i], &h);
                if (m < minm)
                    minm = m;
            }
            fprintf(stderr, " loss_len=%lld loss_min_margin=%.0f", (long long)(end - rel), minm);
        }
        if (a->kind == VG_ALARM_PREALERT_ENTERED || a->kind == VG_ALARM_ALERT_ENTERED)
            fprintf(stderr, " explained=%d",
                    explained(r, truth, a,
                              a->kind == VG_ALARM_ALERT_ENTERED ? VG_SIM_TRUTH_ALERT
                                                                : VG_SIM_TRUTH_PREALERT));
        fputc('\n', stderr);
        prev_page = prev_op = rel;
    }
}

static void score(struct pair_run *r, const struct vg_sim_truth *truth)
{
    struct tally *t = r->t;
    for (size_t i = 0; i < truth->n; i++) {
        const struct vg_sim_interval *iv = &truth->intervals[i];
        if (iv->authorised)
            continue;
        if (iv->kind == VG_SIM_TRUTH_PREALERT)
            t->true_pre++;
        else if (iv->kind == VG_SIM_TRUTH_ALERT)
            t->true_alert++;
    }
    for (size_t k = 0; k < r->n_alarms; k++) {
        const struct ealarm *a = &r->alarms[k];
        if (a->kind == VG_ALARM_PREALERT_ENTERED && !explained(r, truth, a, VG_SIM_TRUTH_PREALERT))
            t->false_pre++;
        if (a->kind == VG_ALARM_ALERT_ENTERED && !explained(r, truth, a, VG_SIM_TRUTH_ALERT))
            t->false_alert++;
    }
    for (size_t i = 0; i < truth->n; i++) {
        const struct vg_sim_interval *iv = &truth->intervals[i];
        if (iv->kind != VG_SIM_TRUTH_ALERT || iv->authorised)
            continue;
        t->intrusions++;
        int64_t from = r->start_ms + iv->from_s * 1000, to = r->start_ms + iv->to_s * 1000;
        /* nothing can be known before the first fixes the zone needs (an
         * intrusion under way when the run starts) */
        const struct naive_state *nvs = &r->nv;
        int64_t known = nvs->first_fix[0];
        if (iv->zone_index == 0 && nvs->first_fix[1] > known)
            known = nvs->first_fix[1];
        if (known > from)
            from = known < to ? known : to;
        /* engine: raised within [from, to + grace], or an alert already
         * standing for that zone when the intrusion began */
        uint8_t level = 0;
        bool loss_standing = false;
        double delay = -1.0;
        for (size_t k = 0; k < r->n_alarms; k++) {
            const struct ealarm *a = &r->alarms[k];
            if (a->raised_ms > to + GRACE_MS)
                break;
            if (a->raised_ms <= from) {
                /* an urgent loss of his position, not yet over: the operator
                 * is already told he could be inside */
                if (a->unit == VG_UNIT_AUTHOR && a->priority == VG_PRIORITY_ALERT &&
                    (a->kind == VG_ALARM_GNSS_LOST || a->kind == VG_ALARM_COMM_LOST ||
                     a->kind == VG_ALARM_UNIT_SWITCHED_OFF))
                    loss_standing = true;
                if (a->unit == VG_UNIT_AUTHOR &&
                    (a->kind == VG_ALARM_GNSS_RESTORED || a->kind == VG_ALARM_COMM_RESTORED ||
                     a->kind == VG_ALARM_UNIT_SWITCHED_ON))
                    loss_standing = false;
                if (a->zone == iv->zone_index &&
                    (a->kind == VG_ALARM_ALERT_ENTERED || a->kind == VG_ALARM_ALERT_LEFT ||
                     a->kind == VG_ALARM_PREALERT_LEFT || a->kind == VG_ALARM_PREALERT_ENTERED))
                    level = a->kind == VG_ALARM_ALERT_ENTERED ? 2 : a->level_to;
                continue;
            }
            if (detects(a)) {
                delay = (double)(a->raised_ms - from) / 1000.0;
                break;
            }
        }
        if (level == 2 || loss_standing)
            delay = 0.0;
        if (dump_pages)
            fprintf(stderr, "INTR pair=%zu zone=%d from=%lld to=%lld delay=%.1f\n",
                    r->u[0].unit / 2, iv->zone_index, (long long)iv->from_s, (long long)iv->to_s,
                    delay);
        if ((delay < 0.0 || delay > 30.0) && getenv("BENCH_ALERTS_TRACE"))
            fprintf(stderr,
                    "%s pair %zu zone %d [%lld, %lld) s, %lld s long, min %.0f m, delay %.1f\n",
                    delay < 0 ? "MISSED" : "LATE", r->u[0].unit / 2, iv->zone_index,
                    (long long)iv->from_s, (long long)iv->to_s, (long long)(iv->to_s - iv->from_s),
                    iv->min_distance_m, delay);
        /* what the centre could know: her unit off (nothing can judge the
         * mobile zone), a party without fixes, a graze of the ring */
        double ring = iv->zone_index == 0 ? r->cfg->alert_radius_m
                                          : r->cfg->zones[iv->zone_index - 1].alert_radius_m;
        bool graze = ring - iv->min_distance_m < GRAZE_M && iv->to_s - iv->from_s < GRAZE_S;
        bool her_off = false, blind[2] = {false, false};
        for (size_t k = 0; k < nvs->n_off && k < 8; k++)
            her_off =
                her_off || (iv->zone_index == 0 && nvs->off[k][0] < to && nvs->off[k][1] > from);
        for (int q = 0; q < 2; q++)
            for (size_t k = 0; k < nvs->n_blind[q] && k < 64; k++)
                blind[q] = blind[q] || (nvs->blind[q][k][0] < to && nvs->blind[q][k][1] > from);
        if (delay < 0.0 || delay > 30.0) {
            if (her_off)
                t->miss_her_off++;
            else if (graze)
                t->miss_graze++;
            else if (blind[1] && iv->zone_index == 0)
                t->miss_her_blind++;
            else if (blind[0])
                t->miss_his_blind++;
            else
                t->miss_other++;
        }
        if (delay < 0.0 && her_off) {
            t->undetectable++;
            t->intrusions--;
            continue;
        }
        if (delay < 0.0)
            t->missed++;
        else {
            add_delay(&t->delays, &t->n_delays, delay);
            if (delay > 30.0)
                t->late_30s++;
        }
        /* naive: an R crossing of that zone in the window (or standing) */
        double nd = -1.0;
        const struct naive_state *nv = &r->nv;
        for (size_t k = 0; k < nv->n_alert_raised[iv->zone_index]; k++) {
            int64_t x = nv->alert_raised_ms[iv->zone_index][k];
            if (x > from && x <= to + GRACE_MS) {
                nd = (double)(x - from) / 1000.0;
                break;
            }
            if (x <= from)
                nd = 0.0; /* approximate: raised before, maybe still inside */
        }
        if (nd < 0.0)
            t->naive_missed++;
        else
            add_delay(&t->naive_delays, &t->n_naive_delays, nd);
    }
}

/* BENCH_ALERTS_PARAMS="reach_speed_mps=20,dwell_ms=10000": try other
 * parameters by hand (the figures of docs/BENCHMARKS.md use the defaults). */
static void apply_params(struct vg_engine_params *p)
{
    const char *env = getenv("BENCH_ALERTS_PARAMS");
    if (!env)
        return;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", env);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        double v = atof(eq + 1);
        static const struct {
            const char *name;
            size_t off;
            char type; /* d double, l int64_t, i int32_t or int */
        } known[] = {
#define P(n, t) {#n, offsetof(struct vg_engine_params, n), t}
            P(clear_k, 'd'),
            P(suspect_k, 'd'),
            P(exit_k, 'd'),
            P(dwell_ms, 'l'),
            P(confirm_timeout_ms, 'l'),
            P(exit_dwell_ms, 'l'),
            P(max_speed_mps, 'd'),
            P(reach_speed_mps, 'd'),
            P(gnss_loss_after_ms, 'l'),
            P(comm_loss_after_ms, 'l'),
            P(fast_margin_m, 'd'),
            P(fast_interval_ms, 'i'),
            P(drift_mps, 'd'),
            P(fuse_past_fix, 'i'),
            P(jump_accel_mps2, 'd'),
            P(jump_hold_ms, 'l'),
            P(settled_start_ms, 'l'),
            P(settled_walk_mps, 'd'),
            P(settled_min_ms, 'l'),
            P(settled_radius_m, 'd'),
            P(near_nofix_records, 'i'),
            P(near_silence_ms, 'l'),
            P(net_k, 'd'),
            P(net_min_m, 'd'),
            P(net_after_ms, 'l'),
#undef P
        };
        bool found = false;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
            if (strcmp(tok, known[k].name) != 0)
                continue;
            char *field = (char *)p + known[k].off;
            if (known[k].type == 'd')
                *(double *)(void *)field = v;
            else if (known[k].type == 'l')
                *(int64_t *)(void *)field = (int64_t)v;
            else
                *(int32_t *)(void *)field = (int32_t)v;
            found = true;
        }
        if (!found) {
            fprintf(stderr, "bench_alerts: BENCH_ALERTS_PARAMS: unknown %s\n", tok);
            exit(1);
        }
    }
    if (vg_engine_params_check(p) != VG_OK) {
        fprintf(stderr, "bench_alerts: BENCH_ALERTS_PARAMS: invalid parameters\n");
        exit(1);
    }
}

/* ---- one seed ---- */

static char *corpus_json(const char *path, int seed, bool quick)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        fprintf(stderr, "bench_alerts: %s: %s\n", path, jerr.text);
        exit(1);
    }
    json_t *pop = json_object_get(root, "population");
    json_object_set_new(pop, "seed_offset", json_integer(seed));
    const char *pairs = getenv("BENCH_ALERTS_PAIRS"); /* a smaller corpus, for tuning by hand */
    if (pairs)
        json_object_set_new(pop, "pairs", json_integer(atoi(pairs)));
    if (quick) {
        json_object_set_new(pop, "pairs", json_integer(40));
        json_object_set_new(root, "duration_s", json_integer(6 * 3600));
    }
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

static void run_seed(const char *path, const char *geo, int seed, bool quick, struct tally *t)
{
    char err[512];
    char *json = corpus_json(path, seed, quick);
    struct vg_sim_scenario *sc;
    if (vg_sim_scenario_parse(json, strlen(json), geo, &sc, err, sizeof err) != VG_OK) {
        fprintf(stderr, "bench_alerts: corpus: %s\n", err);
        exit(1);
    }
    free(json);
    int64_t start = vg_sim_scenario_start_utc_ms(sc);
    struct vg_sim_world *w;
    if (vg_sim_world_new(sc, (uint64_t)seed, start, &w, err, sizeof err) != VG_OK) {
        fprintf(stderr, "bench_alerts: world: %s\n", err);
        exit(1);
    }
    struct vg_tz tz;
    if (vg_tz_load(&tz, NULL, "Europe/Paris", err, sizeof err) < 0) {
        fprintf(stderr, "bench_alerts: %s\n", err);
        exit(1);
    }
    struct vg_engine_params params;
    vg_engine_params_default(&params);
    apply_params(&params);
    size_t pairs = vg_sim_scenario_pairs(sc);
    int64_t dur_ms = vg_sim_scenario_duration_ms(sc);
    t->measure_days += (double)pairs * (double)dur_ms / 86400000.0;
    struct pair_run *r = calloc(1, sizeof *r);
    struct queued *queues = calloc(2 * MAX_QUEUE, sizeof *queues);
    if (!r || !queues)
        abort();
    for (size_t p = 0; p < pairs; p++) {
        char *mj = vg_sim_world_measure_json(w, p, NULL, "SIM-A", "SIM-P", NULL);
        struct vg_measure_def def;
        if (!mj || vg_measure_def_parse(mj, &tz, &def, err, sizeof err) != VG_OK) {
            fprintf(stderr, "bench_alerts: pair %zu: %s\n", p, err);
            exit(1);
        }
        free(mj);
        struct vg_engine_config cfg = {.alert_radius_m = def.alert_radius_m,
                                       .zones = def.zones,
                                       .n_zones = def.n_zones,
                                       .tz = &tz,
                                       .params = &params,
                                       .ring = &def.ring};
        struct ealarm *keep = r->alarms;
        size_t keep_cap = r->cap_alarms;
        struct truepos *keep_trk = r->trk;
        memset(r, 0, sizeof *r);
        r->alarms = keep;
        r->cap_alarms = keep_cap;
        if (dump_pages) {
            r->n_trk = (size_t)(dur_ms / (SAMPLE_S * 1000)) + 1;
            r->trk = keep_trk ? keep_trk : calloc(r->n_trk, sizeof *r->trk);
            if (!r->trk)
                abort();
        }
        r->cfg = &cfg;
        r->t = t;
        r->tz = &tz;
        r->start_ms = start;
        if (vg_engine_init(&r->st, &cfg, start) != VG_OK) {
            fprintf(stderr, "bench_alerts: engine init\n");
            exit(1);
        }
        for (int role = 0; role < 2; role++) {
            struct unit_model *u = &r->u[role];
            u->unit = 2 * p + (size_t)role;
            u->role = role;
            u->interval_ms = params.report_interval_ms;
            u->next_fix_ms = (int64_t)((p * 7919 + (size_t)role * 31) % 12) * 5000;
            u->next_status_ms = 0;
            u->battery = 60.0 + (double)((p * 37 + (size_t)role * 11) % 41);
            u->last_battery = -1;
            u->powered = 1;
            u->strap = u->skin = u->link = u->beacon = -1;
            u->q = queues + (size_t)role * MAX_QUEUE;
        }
        r->nv.last_fix_rx[0] = r->nv.last_fix_rx[1] = start;
        for (int64_t s = 0; s * 1000 < dur_ms; s++) {
            int64_t now = start + s * 1000;
            if (now >= r->st.next_deadline_ms) {
                vg_engine_tick(&r->st, &cfg, now, &r->out);
                engine_out(r, now);
            }
            naive_tick(r, now);
            if (s % SAMPLE_S == 0)
                for (int role = 0; role < 2; role++)
                    unit_step(r, w, &r->u[role], s * 1000);
        }
        t->nights_disturbed += (uint64_t)r->night_rung[0] + r->night_rung[1];
        t->naive_nights_disturbed += (uint64_t)r->naive_night_rung[0] + r->naive_night_rung[1];
        struct vg_sim_truth truth = {0};
        if (vg_sim_world_truth_pair(w, p, &truth, err, sizeof err) != VG_OK) {
            fprintf(stderr, "bench_alerts: truth: %s\n", err);
            exit(1);
        }
        score(r, &truth);
        if (dump_pages)
            dump_pair_pages(r, &truth, seed, p);
        if (getenv("BENCH_ALERTS_TRACE") && atoi(getenv("BENCH_ALERTS_TRACE")) == (int)p + 1) {
            for (size_t i = 0; i < truth.n; i++)
                if (truth.intervals[i].kind == VG_SIM_TRUTH_ALERT)
                    fprintf(stderr, "truth pair %zu zone %d alert [%lld, %lld) min %.0f m\n", p,
                            truth.intervals[i].zone_index, (long long)truth.intervals[i].from_s,
                            (long long)truth.intervals[i].to_s, truth.intervals[i].min_distance_m);
            for (size_t i = 0; i < r->n_alarms; i++)
                if (r->alarms[i].priority <= VG_PRIORITY_INFO)
                    fprintf(stderr, "alarm pair %zu t %lld %s zone %d prio %u flags %u unit %u\n",
                            p, (long long)((r->alarms[i].raised_ms - start) / 1000),
                            vg_alarm_kind_name(r->alarms[i].kind), r->alarms[i].zone,
                            r->alarms[i].priority, r->alarms[i].flags, r->alarms[i].unit);
        }
        /* true device faults raised */
        struct vg_sim_fault faults[64];
        size_t nf = vg_sim_world_faults(w, p, faults, 64);
        for (size_t i = 0; i < nf && i < 64; i++) {
            uint8_t k = faults[i].kind;
            if (k != VG_SIM_EV_STRAP_CUT && k != VG_SIM_EV_SKIN_LOST &&
                k != VG_SIM_EV_SWITCHED_OFF && k != VG_SIM_EV_BATTERY_DRAIN &&
                k != VG_SIM_EV_LEFT_BEHIND)
                continue;
            if (faults[i].from_s * 1000 >= dur_ms)
                continue;
            t->faults++;
            int64_t from = start + faults[i].from_s * 1000;
            for (size_t a = 0; a < r->n_alarms; a++)
                if (r->alarms[a].raised_ms >= from &&
                    r->alarms[a].priority <= VG_PRIORITY_TECHNICAL &&
                    (is_device_bad(r->alarms[a].kind) || r->alarms[a].kind == VG_ALARM_COMM_LOST ||
                     r->alarms[a].kind == VG_ALARM_GNSS_LOST)) {
                    t->faults_raised++;
                    break;
                }
        }
        vg_sim_truth_free(&truth);
        vg_measure_def_cleanup(&def);
    }
    free(r->alarms);
    free(r->trk);
    free(r);
    free(queues);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

/* ---- reporting ---- */

static double quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof v[0], bench_cmp_double);
    double idx = q * (double)(n - 1);
    size_t lo = (size_t)floor(idx), hi = (size_t)ceil(idx);
    return v[lo] + (v[hi] - v[lo]) * (idx - (double)lo);
}

#define MAX_SEEDS 8

struct series {
    double v[MAX_SEEDS];
    size_t n;
};

static void report_series(const char *metric, const char *suffix, struct series *s,
                          const char *unit, const char *vs, double vs_value, uint64_t n)
{
    char name[128];
    snprintf(name, sizeof name, "%s%s", metric, suffix);
    double copy[MAX_SEEDS];
    memcpy(copy, s->v, s->n * sizeof copy[0]);
    struct bench_stats st = bench_stats_of(copy, s->n);
    bench_report("alerts", name, st, unit, vs, vs_value, n);
}

static void report(const char *suffix, struct tally *ts, size_t n_seeds)
{
    struct series eng = {0}, nai = {0}, missed = {0}, p50 = {0}, p99 = {0}, pmax = {0}, rings = {0},
                  rings_alert = {0}, nights = {0}, lu = {0}, lt = {0}, naive_missed = {0},
                  naive_p99 = {0}, tech = {0}, late = {0};
    struct series by_kind[K__N], naive_kind[K__N];
    memset(by_kind, 0, sizeof by_kind);
    memset(naive_kind, 0, sizeof naive_kind);
    uint64_t intrusions = 0, missed_total = 0, md_total = 0, naive_total = 0, eng_total = 0;
    for (size_t i = 0; i < n_seeds; i++) {
        struct tally *t = &ts[i];
        double md = t->measure_days;
        eng.v[eng.n++] = (double)t->engine_total / md;
        nai.v[nai.n++] = (double)t->naive_total / md;
        missed.v[missed.n++] = (double)t->missed;
        naive_missed.v[naive_missed.n++] = (double)t->naive_missed;
        late.v[late.n++] = (double)t->late_30s;
        p50.v[p50.n++] = quantile(t->delays, t->n_delays, 0.5);
        p99.v[p99.n++] = quantile(t->delays, t->n_delays, 0.99);
        pmax.v[pmax.n++] = quantile(t->delays, t->n_delays, 1.0);
        naive_p99.v[naive_p99.n++] = quantile(t->naive_delays, t->n_naive_delays, 0.99);
        rings.v[rings.n++] = (double)t->rings_pre / md;
        rings_alert.v[rings_alert.n++] = (double)t->rings_alert / md;
        nights.v[nights.n++] = (double)t->nights_disturbed / md;
        lu.v[lu.n++] = (double)t->loss_urgent / md;
        lt.v[lt.n++] = (double)t->loss_technical / md;
        tech.v[tech.n++] = (double)t->technical / md;
        for (int k = 0; k < K__N; k++) {
            by_kind[k].v[by_kind[k].n++] = (double)t->engine[k] / md;
            naive_kind[k].v[naive_kind[k].n++] = (double)t->naive[k] / md;
        }
        intrusions += t->intrusions;
        missed_total += t->missed;
        md_total += (uint64_t)llround(md);
        naive_total += t->naive_total;
        eng_total += t->engine_total;
    }
    double naive_rate = (double)naive_total / (double)md_total;
    {
        struct series pe = {0}, pn = {0};
        uint64_t pages_e = 0, pages_n = 0;
        for (size_t i = 0; i < n_seeds; i++) {
            pe.v[pe.n++] = (double)ts[i].engine_pages_total / ts[i].measure_days;
            pn.v[pn.n++] = (double)ts[i].naive_pages_total / ts[i].measure_days;
            pages_e += ts[i].engine_pages_total;
            pages_n += ts[i].naive_pages_total;
        }
        report_series("alerts_per_measure_day", suffix, &pe, "count", "naive rule",
                      (double)pages_n / (double)md_total, pages_e);
        report_series("naive_alerts_per_measure_day", suffix, &pn, "count", NULL, 0, pages_n);
        for (int k = 0; k < K__N; k++) {
            struct series sk = {0};
            uint64_t nk = 0, nn = 0;
            for (size_t i = 0; i < n_seeds; i++) {
                sk.v[sk.n++] = (double)ts[i].engine_pages[k] / ts[i].measure_days;
                nk += ts[i].engine_pages[k];
                nn += ts[i].naive_pages[k];
            }
            char m[64];
            snprintf(m, sizeof m, "alerts_per_measure_day_%s", kind_names[k]);
            report_series(m, suffix, &sk, "count", "naive rule", (double)nn / (double)md_total, nk);
        }
    }
    report_series("alarms_per_measure_day", suffix, &eng, "count", "naive rule", naive_rate,
                  eng_total);
    report_series("naive_alarms_per_measure_day", suffix, &nai, "count", NULL, 0, naive_total);
    for (int k = 0; k < K__N; k++) {
        char m[64];
        snprintf(m, sizeof m, "alarms_per_measure_day_%s", kind_names[k]);
        uint64_t nk = 0, nn = 0;
        for (size_t i = 0; i < n_seeds; i++) {
            nk += ts[i].engine[k];
            nn += ts[i].naive[k];
        }
        report_series(m, suffix, &by_kind[k], "count", "naive rule", (double)nn / (double)md_total,
                      nk);
    }
    report_series("missed_intrusions", suffix, &missed, "count", "naive rule missed", 0,
                  intrusions);
    {
        struct series tot = {.v = {(double)missed_total}, .n = 1};
        report_series("missed_intrusions_total", suffix, &tot, "count", NULL, 0, intrusions);
    }
    report_series("naive_missed_intrusions", suffix, &naive_missed, "count", NULL, 0, intrusions);
    report_series("detect_delay_p50_s", suffix, &p50, "s", NULL, 0, intrusions);
    report_series("detect_delay_p99_s", suffix, &p99, "s", "naive rule p99",
                  quantile(ts[0].naive_delays, ts[0].n_naive_delays, 0.99), intrusions);
    report_series("detect_delay_max_s", suffix, &pmax, "s", NULL, 0, intrusions);
    report_series("intrusions_later_than_30s", suffix, &late, "count", NULL, 0, intrusions);
    uint64_t naive_rings = 0;
    for (size_t i = 0; i < n_seeds; i++)
        naive_rings += ts[i].naive_rings;
    report_series("prealert_rings_per_measure_day", suffix, &rings, "count",
                  "naive rule rings (every raw crossing)", (double)naive_rings / (double)md_total,
                  0);
    report_series("alert_rings_per_measure_day", suffix, &rings_alert, "count", NULL, 0, 0);
    {
        struct series q = {0};
        for (size_t i = 0; i < n_seeds; i++)
            q.v[q.n++] = (double)ts[i].quiet_notices / ts[i].measure_days;
        report_series("quiet_notices_per_measure_day", suffix, &q, "count", NULL, 0, 0);
    }
    {
        uint64_t nn = 0;
        double md_all = 0.0;
        for (size_t i = 0; i < n_seeds; i++) {
            nn += ts[i].naive_nights_disturbed;
            md_all += ts[i].measure_days;
        }
        report_series("nights_disturbed_per_measure_day", suffix, &nights, "count",
                      "naive rule (a ring on every raw crossing)", (double)nn / md_all, 0);
    }
    report_series("loss_pages_urgent_per_measure_day", suffix, &lu, "count", NULL, 0, 0);
    report_series("loss_pages_technical_per_measure_day", suffix, &lt, "count", NULL, 0, 0);
    report_series("technical_per_measure_day", suffix, &tech, "count", NULL, 0, 0);
    struct series tp = {0}, ta = {0}, fp = {0}, fa = {0};
    for (size_t i = 0; i < n_seeds; i++) {
        tp.v[tp.n++] = (double)ts[i].true_pre / ts[i].measure_days;
        ta.v[ta.n++] = (double)ts[i].true_alert / ts[i].measure_days;
        fp.v[fp.n++] = (double)ts[i].false_pre / ts[i].measure_days;
        fa.v[fa.n++] = (double)ts[i].false_alert / ts[i].measure_days;
    }
    {
        struct series b[6];
        memset(b, 0, sizeof b);
        for (size_t i = 0; i < n_seeds; i++) {
            b[0].v[b[0].n++] = (double)ts[i].miss_her_off;
            b[1].v[b[1].n++] = (double)ts[i].miss_graze;
            b[2].v[b[2].n++] = (double)ts[i].miss_her_blind;
            b[3].v[b[3].n++] = (double)ts[i].miss_his_blind;
            b[4].v[b[4].n++] = (double)ts[i].miss_other;
            b[5].v[b[5].n++] = (double)ts[i].undetectable;
        }
        report_series("missed_or_late_her_unit_off", suffix, &b[0], "count", NULL, 0, 0);
        report_series("missed_or_late_grazes", suffix, &b[1], "count", NULL, 0, 0);
        report_series("missed_or_late_her_position_unknown", suffix, &b[2], "count", NULL, 0, 0);
        report_series("missed_or_late_his_position_unknown", suffix, &b[3], "count", NULL, 0, 0);
        report_series("missed_or_late_other", suffix, &b[4], "count", NULL, 0, 0);
        report_series("undetectable_intrusions", suffix, &b[5], "count", NULL, 0, 0);
    }
    report_series("true_prealert_intervals_per_measure_day", suffix, &tp, "count", NULL, 0, 0);
    report_series("true_alert_intervals_per_measure_day", suffix, &ta, "count", NULL, 0, 0);
    report_series("false_prealerts_per_measure_day", suffix, &fp, "count", NULL, 0, 0);
    report_series("false_alerts_per_measure_day", suffix, &fa, "count", NULL, 0, 0);
    (void)naive_p99;
}

/* One corpus: its tuning seeds, then its held-out seed, each reported
 * with the corpus's suffix; the totals go to `all` for the verdict. */
struct verdict {
    uint64_t pages_e, pages_n, missed, intrusions;
    double md, worst_p99;
};

static void run_corpus(const char *path, const char *geo, const char *suffix, bool quick,
                       const char *only, struct verdict *v)
{
    static const int tuning[] = {1, 2, 3};
    static const int heldout[] = {4};
    size_t n_tuning = quick ? 1 : sizeof tuning / sizeof tuning[0];
    size_t n_heldout = quick ? 0 : 1;
    struct tally ts[MAX_SEEDS];
    memset(ts, 0, sizeof ts);
    char name[64];
    size_t n = 0;
    if (only) { /* "1" or "4": a single seed, for tuning */
        double t0 = bench_now_ns();
        run_seed(path, geo, atoi(only), quick, &ts[n++]);
        fprintf(stderr, "%s seed %s: %.1f s\n", path, only, (bench_now_ns() - t0) / 1e9);
        report(suffix, ts, 1);
    } else {
        for (size_t i = 0; i < n_tuning; i++) {
            double t0 = bench_now_ns();
            run_seed(path, geo, tuning[i], quick, &ts[n++]);
            fprintf(stderr, "%s seed %d: %.1f s\n", path, tuning[i], (bench_now_ns() - t0) / 1e9);
        }
        report(suffix, ts, n_tuning);
        if (n_heldout) {
            double t0 = bench_now_ns();
            run_seed(path, geo, heldout[0], quick, &ts[n++]);
            fprintf(stderr, "%s seed %d (held out): %.1f s\n", path, heldout[0],
                    (bench_now_ns() - t0) / 1e9);
            snprintf(name, sizeof name, "%s_heldout", suffix);
            report(name, ts + n_tuning, 1);
        }
    }
    for (size_t i = 0; i < n; i++) {
        v->pages_e += ts[i].engine_pages_total;
        v->pages_n += ts[i].naive_pages_total;
        v->missed += ts[i].missed;
        v->intrusions += ts[i].intrusions;
        v->md += ts[i].measure_days;
        double p99 = quantile(ts[i].delays, ts[i].n_delays, 0.99);
        if (p99 > v->worst_p99)
            v->worst_p99 = p99;
        free(ts[i].delays);
        free(ts[i].naive_delays);
    }
}

int main(void)
{
    bool quick = bench_quick();
    const char *net = getenv("BENCH_ALERTS_NETWORK");
    network_positions = !net || strcmp(net, "0") != 0;
    dump_pages = getenv("BENCH_ALERTS_PAGES") != NULL;
    /* two corpora (docs/ALERT-QUALITY.md): the detection corpus, with ten
     * times the field rate of true approaches, for the misses and the
     * delays; the field corpus, at the rates the services report, for the
     * alerts per measure-day against the naive rule. Both in every run. */
    const char *path = getenv("BENCH_ALERTS_CORPUS");
    if (!path)
        path = VG_SOURCE_ROOT "/bench/alerts_corpus.json";
    const char *field = getenv("BENCH_ALERTS_FIELD_CORPUS");
    if (!field)
        field = VG_SOURCE_ROOT "/bench/alerts_corpus_field.json";
    const char *geo = getenv("BENCH_ALERTS_GEO");
    if (!geo)
        geo = VG_SOURCE_ROOT "/data/geo";
    const char *only = getenv("BENCH_ALERTS_SEEDS");
    const char *which = getenv("BENCH_ALERTS_ONLY"); /* "detection" or "field" */
    struct verdict det = {0}, fld = {0};
    if (!which || strcmp(which, "field") != 0)
        run_corpus(path, geo, "", quick, only, &det);
    if (!which || strcmp(which, "detection") != 0)
        run_corpus(field, geo, "_field", quick, only, &fld);
    /* Issue 9's "done when", on the same run: the field corpus's ratio,
     * the misses of both corpora, the worst p99 of any seed group. */
    if (fld.md > 0.0 && fld.pages_e > 0) {
        double e = (double)fld.pages_e / fld.md, nv = (double)fld.pages_n / fld.md;
        bench_report("alerts", "target_fewer_alerts_x_field",
                     (struct bench_stats){nv / e, nv / e, nv / e}, "ratio", NULL, 0, fld.pages_e);
    }
    double missed = (double)(det.missed + fld.missed);
    bench_report("alerts", "target_missed_intrusions_all",
                 (struct bench_stats){missed, missed, missed}, "count", NULL, 0,
                 det.intrusions + fld.intrusions);
    double worst = det.worst_p99 > fld.worst_p99 ? det.worst_p99 : fld.worst_p99;
    bench_report("alerts", "target_worst_detect_delay_p99_s",
                 (struct bench_stats){worst, worst, worst}, "s", NULL, 0,
                 det.intrusions + fld.intrusions);
    return 0;
}
