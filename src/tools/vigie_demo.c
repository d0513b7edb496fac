/* vigie-demo: a day in the life of one measure, replayed through the alarm
 * engine, with the alarms and commands it raises printed as they come.
 *
 * The protected person lives in Nantes; the author 14 km to the west; the
 * judge set R = 2 km, her workplace and the children's school as fixed
 * zones, and authorised the hand-over at the school on Wednesdays from
 * 16:00 to 16:30. The day (Wednesday 1 July 2026) has what the service
 * meets every day: GNSS noise at a ring's edge, a tunnel, a deliberate
 * approach, the hand-over that runs late, the protected person coming near
 * him at a barbecue, a strap fault, an SOS, a unit switched off.
 *
 * The units obey the engine's reporting commands. For comparison, the naive
 * rule (an alarm on every raw crossing of R or 2R by a single fix, and on
 * every signal loss over two minutes) is counted on the same fixes.
 *
 *   vigie-demo [--seed N] [--quiet] [--zoneinfo DIR]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/civil.h"
#include "core/engine.h"
#include "core/err.h"
#include "core/geo.h"
#include "core/prng.h"
#include "core/tz.h"
#include "core/window.h"
#include "core/zone.h"
#include "util/tzload.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
/* Wednesday 2026-07-01 00:00 in Paris (CEST, UTC+2): 2026-06-30T22:00:00Z */
#define DAY_START 1782856800000LL

static const struct vg_geo_point her_home = {47.2184, -1.5536};

struct demo {
    struct vg_tz tz;
    struct vg_engine_params params;
    struct vg_zone zones[3];
    struct vg_geo_point school_outline[5];
    struct vg_window windows[1];
    struct vg_engine_config cfg;
    struct vg_engine_state st;
    struct vg_engine_out out;
    struct vg_prng rng;
    int64_t interval_ms[2]; /* reporting interval each unit was told */
    bool quiet;
    /* tallies */
    unsigned alarms_by_priority[6];
    unsigned naive_alarms;
    bool naive_inside[4][2];     /* [zone: mobile, 3 fixed][ring: R, 2R] */
    int64_t naive_last_fix[2];
    bool naive_lost[2];
};

static struct vg_geo_point at(struct vg_geo_point from, double bearing, double m)
{
    struct vg_geo_point p;
    if (vg_geo_destination(from, bearing, m, &p) != VG_OK) {
        fprintf(stderr, "vigie-demo: bad geometry\n");
        exit(1);
    }
    return p;
}

/* Places of the day. */
static struct vg_geo_point his_home(void) { return at(her_home, 275, 14000); }
static struct vg_geo_point her_work(void) { return at(her_home, 70, 6000); }
static struct vg_geo_point school(void) { return at(her_home, 200, 5000); }
static struct vg_geo_point job_site(void) { return at(her_work(), 20, 4030); }
static struct vg_geo_point friends(void) { return at(his_home(), 95, 3400); }

static void local_clock(const struct demo *d, int64_t utc_ms, char *buf, size_t len)
{
    int64_t s = utc_ms / 1000 + vg_tz_offset_at(&d->tz, utc_ms / 1000);
    struct vg_local_time lt;
    vg_local_time_from_seconds(s, &lt);
    snprintf(buf, len, "%02u:%02u:%02u", lt.hour, lt.minute, lt.second);
}

static const char *zone_name(int zone_index)
{
    switch (zone_index) {
    case VG_ZONE_INDEX_MOBILE: return "autour d'elle";
    case 1: return "domicile";
    case 2: return "travail";
    case 3: return "école";
    default: return "";
    }
}

static const char *party_fr(unsigned party)
{
    switch (party) {
    case VG_PARTY_AUTHOR: return "lui";
    case VG_PARTY_PROTECTED: return "elle";
    case VG_PARTY_BOTH: return "les deux";
    default: return "?";
    }
}

static const char *unit_fr(unsigned unit)
{
    switch (unit) {
    case VG_UNIT_BRACELET: return "bracelet";
    case VG_UNIT_AUTHOR: return "boîtier porteur";
    case VG_UNIT_PROTECTED: return "boîtier victime";
    default: return "?";
    }
}

static void print_alarm(struct demo *d, const struct vg_alarm *a)
{
    if (a->priority < 6)
        d->alarms_by_priority[a->priority]++;
    if (d->quiet)
        return;
    char when[16], at_s[16];
    local_clock(d, a->raised_ms, when, sizeof when);
    local_clock(d, a->at_ms, at_s, sizeof at_s);
    static const char *const prio[] = {"", "ALERTE", "NEUTRAL.", "PRÉ-ALERTE", "TECHNIQUE",
                                       "info"};
    printf("%s  #%-3u %-10s %-32s", when, a->seq, prio[a->priority < 6 ? a->priority : 0],
           vg_alarm_kind_label_fr(a->kind));
    if (a->zone_index >= 0)
        printf(" zone %-13s", zone_name(a->zone_index));
    else
        printf(" %-18s", unit_fr(a->unit));
    if (a->ev.distance_m >= 0)
        printf(" d=%.0f±%.0f m", a->ev.distance_m, a->ev.uncertainty_m);
    if (a->kind == VG_ALARM_PREALERT_ENTERED || a->kind == VG_ALARM_ALERT_ENTERED) {
        static const char *const conf[] = {"", "net", "confirmé", "non confirmé"};
        printf(" (%s", conf[a->ev.confidence < 4 ? a->ev.confidence : 0]);
        if (a->ev.approached_by != VG_PARTY_NONE)
            printf(", rapprochement: %s", party_fr(a->ev.approached_by));
        if (a->ev.closing_speed_mps > 0.5)
            printf(", %.0f km/h", a->ev.closing_speed_mps * 3.6);
        printf(")");
    }
    if (a->ev.reach_m > 0)
        printf(" rayon atteignable %.1f km", a->ev.reach_m / 1000);
    if (a->flags & VG_ALARM_F_URGENT)
        printf(" URGENT");
    if (a->flags & VG_ALARM_F_ESCALATION)
        printf(" (aggravation)");
    if (a->flags & VG_ALARM_F_LATE)
        printf(" [en retard, survenu à %s]", at_s);
    printf("\n");
}

static void apply(struct demo *d)
{
    for (size_t i = 0; i < d->out.n_alarms; i++)
        print_alarm(d, &d->out.alarms[i]);
    for (size_t i = 0; i < d->out.n_commands; i++) {
        const struct vg_command *c = &d->out.commands[i];
        if (c->kind == VG_CMD_SET_REPORTING) {
            d->interval_ms[c->unit == VG_UNIT_AUTHOR ? 0 : 1] = c->interval_ms;
            if (!d->quiet)
                printf("          -> %s : une position toutes les %d s\n", unit_fr(c->unit),
                       c->interval_ms / 1000);
        } else if (c->kind == VG_CMD_RING && !d->quiet) {
            printf("          -> %s sonne (%s)\n", unit_fr(c->unit),
                   c->level == VG_LEVEL_ALERT ? "alerte" : "pré-alerte");
        }
    }
}

static void feed(struct demo *d, const struct vg_engine_input *in, int64_t now)
{
    /* let time pass up to now first: deadlines fall between records */
    while (d->st.next_deadline_ms <= now) {
        int64_t when = d->st.next_deadline_ms > d->st.now_ms ? d->st.next_deadline_ms : now;
        if (vg_engine_tick(&d->st, &d->cfg, when, &d->out) != VG_OK) {
            fprintf(stderr, "vigie-demo: tick refused\n");
            exit(1);
        }
        apply(d);
        if (when == now)
            break;
    }
    int rc = vg_engine_feed(&d->st, &d->cfg, in, now, &d->out);
    if (rc != VG_OK) {
        fprintf(stderr, "vigie-demo: record refused: %s\n", vg_strerror(rc));
        exit(1);
    }
    apply(d);
}

/* The naive rule, on the same fixes: every raw crossing, every loss > 2 min. */
static void naive_fix(struct demo *d, int party, struct vg_geo_point p, int64_t t,
                      struct vg_geo_point other, bool other_known)
{
    if (d->naive_lost[party])
        d->naive_lost[party] = false;
    d->naive_last_fix[party] = t;
    struct vg_geo_prepared pp;
    vg_geo_prepare(&pp, p);
    for (int z = 0; z < 4; z++) {
        double dist, radius;
        if (z == 0) {
            if (!other_known)
                continue;
            vg_geo_inverse(p, other, &dist, NULL);
            radius = d->cfg.alert_radius_m;
        } else {
            if (party != 0)
                continue;
            const struct vg_zone *zone = &d->zones[z - 1];
            int64_t next;
            if (zone->n_windows &&
                vg_windows_open_at(zone->windows, zone->n_windows, &d->tz, t, &next))
                continue;
            dist = vg_zone_distance(zone, &pp, HUGE_VAL);
            radius = zone->alert_radius_m;
        }
        for (int ring = 0; ring < 2; ring++) {
            bool inside = dist <= radius * (ring + 1);
            if (inside && !d->naive_inside[z][ring])
                d->naive_alarms++;
            d->naive_inside[z][ring] = inside;
        }
    }
}

static void naive_tick(struct demo *d, int64_t now)
{
    for (int party = 0; party < 2; party++)
        if (!d->naive_lost[party] && d->naive_last_fix[party] &&
            now - d->naive_last_fix[party] > 2 * MIN) {
            d->naive_lost[party] = true;
            d->naive_alarms++;
        }
}

/* Where each party is through the day: keyframes (local time, place, GNSS
 * noise, sky in view on the way to the next keyframe), moving along the
 * geodesic between one keyframe and the next. */
enum place {
    HER_HOME,
    HER_WORK,
    NEAR_HER_WORK, /* 600 m west of it: his lunch break */
    SCHOOL_GATE,
    SCHOOL_YARD,
    HIS_HOME,
    RING_ROAD,     /* the northern ring road, well away from her */
    JOB_SITE,      /* 4.03 km from her workplace, between tall buildings */
    FRIENDS,       /* a barbecue 3.4 km from his home */
};

static struct vg_geo_point place_point(enum place p)
{
    switch (p) {
    case HER_HOME: return her_home;
    case HER_WORK: return her_work();
    case NEAR_HER_WORK: return at(her_work(), 270, 600);
    case SCHOOL_GATE: return at(school(), 0, 150);
    case SCHOOL_YARD: return at(school(), 90, 60);
    case HIS_HOME: return his_home();
    case RING_ROAD: return at(her_home, 340, 16000);
    case JOB_SITE: return job_site();
    case FRIENDS: return friends();
    }
    return her_home;
}

struct keyframe {
    int hour, minute;
    enum place place;
    double noise_m; /* 1-sigma GNSS error */
    bool gnss;      /* sky in view until the next keyframe */
};

static const struct keyframe his_day[] = {
    {6, 0, HIS_HOME, 4, true},
    {7, 30, HIS_HOME, 8, true},
    {7, 40, RING_ROAD, 8, false}, /* a tunnel under the river: 4 minutes without sky */
    {7, 44, RING_ROAD, 8, true},
    {8, 10, JOB_SITE, 25, true},
    {12, 20, JOB_SITE, 6, true},  /* lunch break: straight to her workplace */
    {12, 30, NEAR_HER_WORK, 5, true},
    {12, 40, NEAR_HER_WORK, 6, true}, /* the operator calls him: he leaves */
    {12, 55, JOB_SITE, 25, true},
    {15, 0, JOB_SITE, 8, true},
    {15, 25, RING_ROAD, 8, true},
    {15, 40, HIS_HOME, 5, true},
    {15, 50, HIS_HOME, 5, true},
    {16, 10, SCHOOL_GATE, 5, true}, /* the hand-over... */
    {16, 40, SCHOOL_GATE, 5, true}, /* ...that he stretches past 16:30 */
    {17, 10, HIS_HOME, 4, true},
    {24, 0, HIS_HOME, 4, true},
};

static const struct keyframe her_day[] = {
    {6, 0, HER_HOME, 4, true},
    {7, 30, HER_HOME, 5, true},
    {8, 0, HER_WORK, 5, true},
    {15, 30, HER_WORK, 5, true},
    {16, 0, SCHOOL_YARD, 5, true},
    {16, 15, SCHOOL_YARD, 5, true},
    {16, 35, HER_HOME, 4, true},
    {18, 30, HER_HOME, 5, true},
    {19, 15, FRIENDS, 5, true}, /* she does not know he lives nearby */
    {21, 0, FRIENDS, 5, true},
    {21, 30, HER_HOME, 4, true},
    {24, 0, HER_HOME, 4, true},
};

struct where {
    struct vg_geo_point pos;
    double noise_m;
    bool gnss;
    bool powered;
};

static struct where where_at(const struct keyframe *day, size_t n, int64_t t)
{
    int64_t since = t - DAY_START;
    size_t i = 0;
    while (i + 1 < n && (int64_t)(day[i + 1].hour * HOUR + day[i + 1].minute * MIN) <= since)
        i++;
    struct where w = {place_point(day[i].place), day[i].noise_m, day[i].gnss, true};
    if (i + 1 < n && day[i + 1].place != day[i].place) {
        int64_t t0 = day[i].hour * HOUR + day[i].minute * MIN;
        int64_t t1 = day[i + 1].hour * HOUR + day[i + 1].minute * MIN;
        struct vg_geo_point b = place_point(day[i + 1].place);
        double dist, bearing;
        vg_geo_inverse(w.pos, b, &dist, &bearing);
        w.pos = at(w.pos, bearing, dist * (double)(since - t0) / (double)(t1 - t0));
    }
    return w;
}

static struct where author_at(int64_t t)
{
    struct where w = where_at(his_day, sizeof his_day / sizeof his_day[0], t);
    int64_t since = t - DAY_START;
    w.powered = !(since >= 23 * HOUR && since < 23 * HOUR + 40 * MIN); /* switched off */
    return w;
}

static struct where protected_at(int64_t t)
{
    return where_at(her_day, sizeof her_day / sizeof her_day[0], t);
}

static void build(struct demo *d, const char *zoneinfo)
{
    char err[256];
    int rc = vg_tz_load(&d->tz, zoneinfo, VG_TZ_DEFAULT_NAME, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "vigie-demo: %s\n", err);
        exit(1);
    }
    if (rc > 0)
        fprintf(stderr, "vigie-demo: %s\n", err);
    vg_engine_params_default(&d->params);
    if (vg_zone_init_circle(&d->zones[0], 1, VG_ZONE_PROTECTED_HOME, her_home, 2000) ||
        vg_zone_init_circle(&d->zones[1], 2, VG_ZONE_PROTECTED_WORKPLACE, her_work(), 1000))
        exit(1);
    for (int i = 0; i < 4; i++)
        d->school_outline[i] = at(school(), 45 + 90 * i, 120);
    d->school_outline[4] = d->school_outline[0];
    const char *why = NULL;
    if (vg_zone_init_polygon(&d->zones[2], 3, VG_ZONE_SCHOOL, d->school_outline, 5, 1000, &why)) {
        fprintf(stderr, "vigie-demo: school: %s\n", why);
        exit(1);
    }
    if (vg_window_init_weekly(&d->windows[0], VG_DAY_WED, 16 * 60, 16 * 60 + 30) ||
        vg_zone_set_windows(&d->zones[2], d->windows, 1))
        exit(1);
    d->cfg = (struct vg_engine_config){
        .alert_radius_m = 2000, .zones = d->zones, .n_zones = 3, .tz = &d->tz,
        .params = &d->params};
    if (vg_engine_init(&d->st, &d->cfg, DAY_START + 6 * HOUR) != VG_OK)
        exit(1);
    d->interval_ms[0] = d->interval_ms[1] = d->params.report_interval_ms;
}

static void status_event(struct demo *d, enum vg_unit unit, int64_t t, int8_t strap)
{
    struct vg_engine_input in = {.kind = VG_INPUT_STATUS, .unit = (uint8_t)unit};
    in.status = (struct vg_unit_status){t, -1, -1, strap, -1, -1, -1, -1};
    feed(d, &in, t);
}

static void unit_event(struct demo *d, enum vg_unit unit, enum vg_event_kind kind, int64_t t)
{
    struct vg_engine_input in = {.kind = VG_INPUT_EVENT, .unit = (uint8_t)unit};
    in.event = (struct vg_unit_event){t, (uint8_t)kind};
    feed(d, &in, t);
}

/* What happens, told as the day goes (the engine does not see this). */
static const struct {
    int hour, minute;
    const char *text;
} story[] = {
    {7, 30, "il part travailler par le périphérique nord ; elle part à son travail"},
    {7, 40, "il passe dans un tunnel (4 min sans GPS), à 16 km d'elle"},
    {8, 10, "il travaille sur un chantier entre des immeubles, à 4,03 km du lieu de travail de la victime"},
    {12, 20, "à la pause, il se rend droit vers le lieu de travail de la victime"},
    {12, 40, "après l'appel de l'opérateur, il repart"},
    {16, 0, "elle arrive à l'école pour la remise de l'enfant"},
    {16, 10, "il arrive à l'école, dans le créneau autorisé (16 h - 16 h 30)"},
    {16, 15, "elle repart avec l'enfant ; lui reste devant l'école"},
    {18, 30, "elle part à un barbecue chez des amis, sans savoir qu'il habite tout près"},
    {21, 40, "défaut de contact sur la sangle du bracelet"},
    {22, 10, "elle entend du bruit dehors et appuie sur SOS"},
    {23, 0, "il éteint son boîtier"},
    {23, 40, "il le rallume"},
};

static void tell(struct demo *d, int64_t t)
{
    static size_t next;
    while (next < sizeof story / sizeof story[0] &&
           t >= DAY_START + story[next].hour * HOUR + story[next].minute * MIN) {
        if (!d->quiet)
            printf("%02d:%02d     · %s\n", story[next].hour, story[next].minute, story[next].text);
        next++;
    }
}

static void run(struct demo *d)
{
    int64_t t = DAY_START + 6 * HOUR;
    int64_t end = DAY_START + 24 * HOUR;
    int64_t next_fix[2] = {t, t + 7 * SEC}, next_beat[2] = {t, t};
    bool was_on[2] = {true, true};
    struct vg_geo_point last_seen[2] = {his_home(), her_home};
    bool seen[2] = {false, false};
    /* scripted events */
    struct {
        int64_t t;
        int what;
        bool done;
    } script[] = {
        {DAY_START + 21 * HOUR + 40 * MIN, 1, false}, /* strap loop broken */
        {DAY_START + 21 * HOUR + 43 * MIN, 2, false}, /* closed again (a faulty contact) */
        {DAY_START + 22 * HOUR + 10 * MIN, 3, false}, /* SOS: she hears someone outside */
    };
    while (t < end) {
        t += SEC;
        tell(d, t);
        naive_tick(d, t);
        for (size_t i = 0; i < sizeof script / sizeof script[0]; i++) {
            if (script[i].done || t < script[i].t)
                continue;
            script[i].done = true;
            if (script[i].what == 1)
                status_event(d, VG_UNIT_BRACELET, t, 0);
            else if (script[i].what == 2)
                status_event(d, VG_UNIT_BRACELET, t, 1);
            else
                unit_event(d, VG_UNIT_PROTECTED, VG_EVENT_SOS, t);
        }
        for (int party = 0; party < 2; party++) {
            struct where w = party == 0 ? author_at(t) : protected_at(t);
            enum vg_unit unit = party == 0 ? VG_UNIT_AUTHOR : VG_UNIT_PROTECTED;
            if (!w.powered) {
                if (was_on[party])
                    unit_event(d, unit, VG_EVENT_POWER_OFF, t);
                was_on[party] = false;
                continue;
            }
            if (!was_on[party]) {
                unit_event(d, unit, VG_EVENT_POWER_ON, t);
                was_on[party] = true;
            }
            if (t >= next_beat[party]) { /* supervision, whatever the sky */
                unit_event(d, unit, VG_EVENT_HEARTBEAT, t);
                next_beat[party] = t + 2 * MIN;
            }
            if (t < next_fix[party])
                continue;
            next_fix[party] = t + d->interval_ms[party];
            if (!w.gnss)
                continue;
            struct vg_geo_point p = at(w.pos, vg_prng_range(&d->rng, 0, 360),
                                       fabs(w.noise_m * vg_prng_normal(&d->rng)));
            double accuracy = 2.0 * w.noise_m * vg_prng_range(&d->rng, 0.8, 1.3);
            struct vg_engine_input in = {.kind = VG_INPUT_FIX, .unit = (uint8_t)unit};
            in.fix = (struct vg_fix){t - 300, p.lat_deg, p.lon_deg, (float)accuracy, -1, -1,
                                     VG_FIX_3D};
            feed(d, &in, t);
            naive_fix(d, party, p, t, last_seen[1 - party], seen[1 - party]);
            last_seen[party] = p;
            seen[party] = true;
        }
    }
}

int main(int argc, char **argv)
{
    static struct demo d;
    const char *zoneinfo = NULL;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0) {
            d.quiet = true;
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            char *end;
            seed = strtoull(argv[++i], &end, 10);
            if (*end) {
                fprintf(stderr, "vigie-demo: --seed wants a number\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--zoneinfo") == 0 && i + 1 < argc) {
            zoneinfo = argv[++i];
        } else {
            fprintf(stderr, "usage: vigie-demo [--seed N] [--quiet] [--zoneinfo DIR]\n");
            return 2;
        }
    }
    vg_prng_seed(&d.rng, seed);
    build(&d, zoneinfo);
    printf("Vigie — démonstration : une journée d'une mesure (mercredi 1er juillet 2026, Nantes)\n"
           "Distance d'alerte R = 2 km, pré-alerte 2R = 4 km ; zones fixes : domicile, travail, "
           "école\n(remise de l'enfant autorisée à l'école le mercredi de 16 h à 16 h 30).\n\n");
    run(&d);
    unsigned engine_total = 0, operator_facing = 0;
    for (int p = 1; p <= 5; p++)
        engine_total += d.alarms_by_priority[p];
    for (int p = 1; p <= 4; p++)
        operator_facing += d.alarms_by_priority[p];
    printf("\nBilan de la journée\n"
           "  moteur Vigie   : %u alarmes à traiter (alerte %u, neutralisation %u, pré-alerte %u,"
           " technique %u) + %u fins de situation\n"
           "  règle naïve    : %u alarmes sur les mêmes positions (chaque franchissement brut de R"
           " ou 2R, chaque perte de signal > 2 min)\n",
           operator_facing, d.alarms_by_priority[1], d.alarms_by_priority[2],
           d.alarms_by_priority[3], d.alarms_by_priority[4], d.alarms_by_priority[5],
           d.naive_alarms);
    (void)engine_total;
    return 0;
}
