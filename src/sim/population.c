/* The population generator: N pairs for load tests and benchmarks, with
 * homes and workplaces drawn inside communes, commutes between them, and a
 * fraction of authors who go and approach the protected person's home
 * (docs/SCENARIOS.md, "population"). Deterministic: pair k is drawn from
 * its own stream of the scenario's seed and the population's seed_offset,
 * whatever the number of pairs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sim/sim_internal.h"

#define PLACEMENT_ATTEMPTS 200
/* Beyond 2R, this much more between the author's and the protected
 * person's routes, so that the via-points' detours rarely bring them
 * within 2R by accident. */
#define CLEARANCE_MARGIN_M 500.0
#define MIN_STAY_S         120.0
#define POPULATION_TAG     0x706f70756c6174ULL /* "populat" */

/* A local plane (metres) around a reference latitude: fine for placing
 * people tens of kilometres apart, which is all it is used for. */
struct plane {
    double lat0, lon0, kx, ky;
};

static void plane_init(struct plane *pl, struct vg_geo_point ref)
{
    pl->lat0 = ref.lat_deg;
    pl->lon0 = ref.lon_deg;
    pl->ky = 110540.0;
    pl->kx = 111320.0 * cos(ref.lat_deg * 3.14159265358979323846 / 180.0);
}

static void to_plane(const struct plane *pl, struct vg_geo_point p, double *x, double *y)
{
    *x = (p.lon_deg - pl->lon0) * pl->kx;
    *y = (p.lat_deg - pl->lat0) * pl->ky;
}

static double point_segment(double px, double py, double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay;
    double l2 = dx * dx + dy * dy;
    double t = l2 > 0.0 ? ((px - ax) * dx + (py - ay) * dy) / l2 : 0.0;
    t = t < 0.0 ? 0.0 : (t > 1.0 ? 1.0 : t);
    return hypot(px - (ax + t * dx), py - (ay + t * dy));
}

static double cross(double ax, double ay, double bx, double by, double cx, double cy)
{
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

/* The smallest distance between the segments ab and cd (0 if they cross). */
static double segment_segment(const double a[2], const double b[2], const double c[2],
                              const double d[2])
{
    double d1 = cross(a[0], a[1], b[0], b[1], c[0], c[1]);
    double d2 = cross(a[0], a[1], b[0], b[1], d[0], d[1]);
    double d3 = cross(c[0], c[1], d[0], d[1], a[0], a[1]);
    double d4 = cross(c[0], c[1], d[0], d[1], b[0], b[1]);
    if (((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0)))
        return 0.0;
    double m = point_segment(a[0], a[1], c[0], c[1], d[0], d[1]);
    m = fmin(m, point_segment(b[0], b[1], c[0], c[1], d[0], d[1]));
    m = fmin(m, point_segment(c[0], c[1], a[0], a[1], b[0], b[1]));
    return fmin(m, point_segment(d[0], d[1], a[0], a[1], b[0], b[1]));
}

static int draw_place(const struct vg_sim_scenario *sc, const struct vg__sim_population *pop,
                      struct vg_prng *rng, struct vg_geo_point *out)
{
    size_t n = pop->n_communes ? pop->n_communes : sc->communes->n;
    size_t pick = (size_t)(vg_prng_uniform(rng) * (double)n);
    if (pick >= n)
        pick = n - 1;
    size_t commune = pop->n_communes ? (size_t)pop->communes[pick] : pick;
    return vg__sim_commune_draw(sc->communes, commune, rng, out);
}

static uint8_t choose_mode(double distance_m, struct vg_prng *rng)
{
    double u = vg_prng_uniform(rng);
    if (distance_m < 1200.0)
        return VG__SIM_WALK;
    if (distance_m < 4000.0)
        return u < 0.4 ? VG__SIM_BIKE : VG__SIM_TRANSIT;
    return u < 0.6 ? VG__SIM_CAR : VG__SIM_TRANSIT;
}

/* A trip from tl->at to `to` departing at depart_s, by a mode suited to the
 * distance, through one via-point off the straight line (streets are not
 * straight). */
static int add_trip(struct vg__sim_timeline *tl, struct vg_prng *rng, double depart_s,
                    struct vg_geo_point to)
{
    double d, bearing;
    if (vg_geo_inverse(tl->at, to, &d, &bearing) != VG_OK)
        return VG_EINVAL;
    struct vg_geo_point points[2];
    size_t n = 0;
    double off = vg_prng_normal(rng) * 0.08 * d;
    off = fmax(-0.2 * d, fmin(0.2 * d, off));
    if (d > 1000.0) {
        struct vg_geo_point mid;
        if (vg_geo_destination(tl->at, bearing, d / 2.0, &mid) != VG_OK ||
            vg_geo_destination(mid, fmod(bearing + (off >= 0 ? 90.0 : 270.0), 360.0), fabs(off),
                               &points[0]) != VG_OK)
            return VG_EINVAL;
        n = 1;
    }
    points[n++] = to;
    struct vg__sim_trip trip = {.depart_s = depart_s, .via = points, .n_points = n};
    trip.mode = choose_mode(d, rng);
    vg__sim_mode_defaults(trip.mode, &trip.speed_mps, &trip.stop_every_m, &trip.stop_s);
    /* people do not all walk or drive at the same speed */
    trip.speed_mps *= vg_prng_range(rng, 0.85, 1.15);
    return vg__sim_timeline_trip(tl, &trip);
}

static double stay_s(struct vg_prng *rng, double mean_s)
{
    double u = 1.0 - vg_prng_uniform(rng);
    return fmax(MIN_STAY_S, -mean_s * log(u));
}

/* Commutes between home and work until the end of the run. */
static int commute(struct vg__sim_timeline *tl, struct vg_prng *rng, double from_s, double end_s,
                   struct vg_geo_point home, struct vg_geo_point work, bool at_home,
                   double mean_stay)
{
    double t = from_s;
    for (;;) {
        double depart = t + stay_s(rng, mean_stay);
        if (depart >= end_s)
            return VG_OK;
        int rc = add_trip(tl, rng, depart, at_home ? work : home);
        if (rc)
            return rc;
        t = tl->free_s;
        at_home = !at_home;
    }
}

static void set_place(struct vg__sim_person *p, const char *name, struct vg_geo_point at)
{
    struct vg__sim_place *pl = &p->places[p->n_places++];
    snprintf(pl->name, sizeof pl->name, "%s", name);
    pl->p = at;
}

static int generate_pair(struct vg_sim_scenario *sc, const struct vg__sim_population *pop, size_t k,
                         double radius_m, struct vg__sim_pair *pair)
{
    struct vg_prng rng;
    vg_prng_seed(&rng, vg__sim_mix(sc->seed ^ POPULATION_TAG, pop->seed_offset, k, 0));
    struct vg_geo_point ph, pw, ah = {0, 0}, aw = {0, 0};
    if (draw_place(sc, pop, &rng, &ph) || draw_place(sc, pop, &rng, &pw))
        return VG_ENOTFOUND;
    /* the author's home and work: as far from her routes as the communes
     * allow, at least 2R + a margin when possible */
    struct plane pl;
    plane_init(&pl, ph);
    double p1[2], p2[2];
    to_plane(&pl, ph, &p1[0], &p1[1]);
    to_plane(&pl, pw, &p2[0], &p2[1]);
    double best = -1.0;
    for (int attempt = 0; attempt < PLACEMENT_ATTEMPTS; attempt++) {
        struct vg_geo_point h, w;
        if (draw_place(sc, pop, &rng, &h) || draw_place(sc, pop, &rng, &w))
            return VG_ENOTFOUND;
        double a1[2], a2[2];
        to_plane(&pl, h, &a1[0], &a1[1]);
        to_plane(&pl, w, &a2[0], &a2[1]);
        double clearance = segment_segment(a1, a2, p1, p2);
        if (clearance > best) {
            best = clearance;
            ah = h;
            aw = w;
        }
        if (best >= 2.0 * radius_m + CLEARANCE_MARGIN_M)
            break;
    }
    set_place(&pair->person[0], "home", ah);
    set_place(&pair->person[0], "work", aw);
    set_place(&pair->person[1], "home", ph);
    set_place(&pair->person[1], "work", pw);

    double end_s = (double)sc->duration_ms / 1000.0;
    bool approaches = vg_prng_uniform(&rng) < pop->approach_fraction;
    for (int r = 0; r < 2; r++) {
        struct vg__sim_person *p = &pair->person[r];
        vg__sim_wander_draw(p, &rng);
        struct vg_geo_point home = p->places[0].p, work = p->places[1].p;
        bool at_home = approaches && r == 0 ? true : vg_prng_uniform(&rng) < 0.7;
        struct vg__sim_timeline tl;
        int rc = vg__sim_timeline_begin(&tl, p, at_home ? home : work);
        if (rc)
            return rc;
        double from_s = 0.0;
        if (approaches && r == 0) {
            /* he leaves home for a point inside her home's alert ring,
             * stays a few minutes, and goes back */
            struct vg_geo_point target;
            double t_go = vg_prng_range(&rng, 0.1, 0.6) * end_s;
            if (vg_geo_destination(ph, vg_prng_range(&rng, 0.0, 360.0),
                                   vg_prng_range(&rng, 0.2, 0.8) * radius_m, &target) != VG_OK)
                return VG_EINVAL;
            if ((rc = add_trip(&tl, &rng, t_go, target)) ||
                (rc = add_trip(&tl, &rng, tl.free_s + vg_prng_range(&rng, 300.0, 900.0), home)))
                return rc;
            from_s = tl.free_s;
        }
        if ((rc = commute(&tl, &rng, from_s, end_s, home, work, at_home, pop->mean_stay_s)))
            return rc;
    }
    return VG_OK;
}

/* ---- the daily-life mix of the alert-quality corpus ---------------------- */

#define MIX_MAX_EVENTS 64
#define HOUR_S         3600.0

struct day {
    const struct vg__sim_mix *mix;
    struct vg_prng *rng;
    double end_s;
    double radius_m;
    bool metro;    /* commutes by metro when the distance calls for transit */
    bool car_park; /* parks underground at work */
    /* keep_away: his errands and rounds keep clear of her places */
    bool keep_away;
    struct plane pl;
    double her[2][2]; /* her home and workplace, on pl */
    struct vg__sim_event ev[MIX_MAX_EVENTS];
    size_t n_ev;
};

static void add_event(struct day *d, uint8_t type, double from_s, double to_s, double value)
{
    if (d->n_ev == MIX_MAX_EVENTS || from_s >= d->end_s || to_s <= from_s)
        return;
    struct vg__sim_event *e = &d->ev[d->n_ev++];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->from_ms = (int64_t)(from_s * 1000.0);
    e->to_ms = to_s >= d->end_s + 86400.0 ? VG__SIM_FOREVER_MS : (int64_t)(to_s * 1000.0);
    e->value = value;
}

/* Seconds of the run at local hour h of the first day (0 at the start). */
static double at_hour(const struct day *d, double h)
{
    return fmax(0.0, (h - d->mix->start_hour) * HOUR_S);
}

static unsigned poisson(struct vg_prng *rng, double mean)
{
    double l = exp(-mean), p = 1.0;
    unsigned k = 0;
    do {
        k++;
        p *= vg_prng_uniform(rng);
    } while (p > l && k < 100);
    return k - 1;
}

/* A trip by a given mode (0: chosen by the distance, metro for a metro
 * commuter), through one via-point off the straight line when long; car
 * trips may go through a tunnel (a hole of 20 s to 2.5 min). Returns the
 * mode used, 0 on error. */
static uint8_t mix_trip(struct vg__sim_timeline *tl, struct day *d, double depart_s,
                        struct vg_geo_point to, uint8_t mode, double speed_mps)
{
    double dist, bearing;
    if (vg_geo_inverse(tl->at, to, &dist, &bearing) != VG_OK)
        return 0;
    if (dist < 1.0)
        return VG__SIM_WALK; /* nowhere to go */
    struct vg_geo_point points[2];
    size_t n = 0;
    double off = vg_prng_normal(d->rng) * 0.08 * dist;
    off = fmax(-0.2 * dist, fmin(0.2 * dist, off));
    if (dist > 1000.0 && mode != VG__SIM_METRO && speed_mps <= 0.0) {
        struct vg_geo_point mid;
        if (vg_geo_destination(tl->at, bearing, dist / 2.0, &mid) != VG_OK ||
            vg_geo_destination(mid, fmod(bearing + (off >= 0 ? 90.0 : 270.0), 360.0), fabs(off),
                               &points[0]) != VG_OK)
            return 0;
        n = 1;
    }
    points[n++] = to;
    struct vg__sim_trip trip = {.depart_s = depart_s, .via = points, .n_points = n};
    trip.mode = mode ? mode : choose_mode(dist, d->rng);
    if (!mode && d->metro && trip.mode == VG__SIM_TRANSIT)
        trip.mode = VG__SIM_METRO;
    vg__sim_mode_defaults(trip.mode, &trip.speed_mps, &trip.stop_every_m, &trip.stop_s);
    trip.speed_mps =
        speed_mps > 0.0 ? speed_mps : trip.speed_mps * vg_prng_range(d->rng, 0.85, 1.15);
    if (vg__sim_timeline_trip(tl, &trip) != VG_OK)
        return 0;
    if (trip.mode == VG__SIM_CAR && vg_prng_uniform(d->rng) < d->mix->tunnel_probability) {
        double len = vg_prng_range(d->rng, 20.0, 150.0);
        double from = vg_prng_range(d->rng, depart_s, fmax(depart_s, tl->free_s - len));
        add_event(d, VG__SIM_EV_GNSS_HOLE, from, from + len, 0.0);
    }
    return trip.mode;
}

/* A point at distance_m, bearing_deg from `from`. */
static struct vg_geo_point toward(struct vg_geo_point from, double bearing_deg, double distance_m)
{
    struct vg_geo_point p = from;
    (void)vg_geo_destination(from, fmod(bearing_deg + 720.0, 360.0), distance_m, &p);
    return p;
}

/* Errands: short trips from where the person is, a stay, then on. Ends
 * wherever the last errand was (the caller goes home). */
/* How far a straight trip from `from` to `to` passes from her places (a
 * man who keeps away knows where they are: the court's order names them). */
static double trip_clearance(const struct day *d, struct vg_geo_point from, struct vg_geo_point to)
{
    double a[2], b[2];
    to_plane(&d->pl, from, &a[0], &a[1]);
    to_plane(&d->pl, to, &b[0], &b[1]);
    return fmin(segment_segment(a, b, d->her[0], d->her[0]),
                segment_segment(a, b, d->her[1], d->her[1]));
}

#define KEEP_AWAY_ATTEMPTS 20

static int errands(struct vg__sim_timeline *tl, struct day *d, unsigned n, double not_after_s)
{
    for (unsigned i = 0; i < n; i++) {
        double depart = tl->free_s + vg_prng_range(d->rng, 300.0, 1800.0);
        if (depart >= not_after_s)
            break;
        struct vg_geo_point to = toward(tl->at, vg_prng_range(d->rng, 0.0, 360.0),
                                        exp(vg_prng_range(d->rng, log(300.0), log(5000.0))));
        /* keeping away: another shop, until the way there clears her pre-alert
         * rings (2R and a margin), or the clearest of a few */
        double best = d->keep_away ? trip_clearance(d, tl->at, to) : HUGE_VAL;
        for (int k = 0; k < KEEP_AWAY_ATTEMPTS && best < 2.0 * d->radius_m + CLEARANCE_MARGIN_M;
             k++) {
            struct vg_geo_point alt =
                toward(tl->at, vg_prng_range(d->rng, 0.0, 360.0),
                       exp(vg_prng_range(d->rng, log(300.0), log(5000.0))));
            double c = trip_clearance(d, tl->at, alt);
            if (c > best) {
                best = c;
                to = alt;
            }
        }
        if (!mix_trip(tl, d, depart, to, 0, 0.0))
            return VG_EINVAL;
        tl->free_s += vg_prng_range(d->rng, 600.0, 3600.0); /* shopping */
        if (tl->free_s > d->end_s)
            break;
    }
    return VG_OK;
}

/* An ordinary day: home, maybe work (by the mode the distance calls for,
 * perhaps parking underground), errands, home. `home_by_h`: the evening's
 * latest return (intrusion pairs keep their evening free). */
static int ordinary_day(struct vg__sim_timeline *tl, struct day *d, struct vg_geo_point home,
                        struct vg_geo_point work, bool works, bool evening_free)
{
    unsigned n_errands = poisson(d->rng, d->mix->errands_per_day);
    double evening = at_hour(d, evening_free ? 19.0 : 21.5);
    if (works) {
        double depart = at_hour(d, vg_prng_range(d->rng, 6.5, 9.0));
        uint8_t mode = mix_trip(tl, d, depart, work, 0, 0.0);
        if (!mode)
            return VG_EINVAL;
        if (mode == VG__SIM_CAR && d->car_park) {
            add_event(d, VG__SIM_EV_GNSS_HOLE, tl->free_s,
                      tl->free_s + vg_prng_range(d->rng, 180, 480), 0.0);
            add_event(d, VG__SIM_EV_NETWORK_OUTAGE, tl->free_s,
                      tl->free_s + vg_prng_range(d->rng, 60.0, 300.0), 0.0);
        }
        double leave = fmax(tl->free_s + 1800.0, at_hour(d, vg_prng_range(d->rng, 16.0, 18.5)));
        if (mode == VG__SIM_CAR && d->car_park)
            add_event(d, VG__SIM_EV_GNSS_HOLE, leave - 120.0, leave + 60.0, 0.0);
        tl->free_s = leave; /* the next trip departs from here on */
    } else {
        tl->free_s = fmax(tl->free_s, at_hour(d, vg_prng_range(d->rng, 8.5, 11.0)));
    }
    int rc = errands(tl, d, n_errands, evening - 1800.0);
    if (rc)
        return rc;
    double back = tl->free_s + vg_prng_range(d->rng, 60.0, 600.0);
    if (!mix_trip(tl, d, back, home, 0, 0.0))
        return VG_EINVAL;
    return VG_OK;
}

/* The author's intrusion from home, in the evening, against her home. */
enum intrusion { NO_INTRUSION, APPROACH, WALK_IN, STALK, DRIVE_THROUGH, VISIT };

static int intrude(struct vg__sim_timeline *tl, struct day *d, enum intrusion kind,
                   struct vg_geo_point his_home, struct vg_geo_point her_home)
{
    double r = d->radius_m;
    double dist, b; /* from her home toward his */
    if (vg_geo_inverse(her_home, his_home, &dist, &b) != VG_OK)
        return VG_EINVAL;
    double t = fmax(tl->free_s + 600.0, at_hour(d, vg_prng_range(d->rng, 20.0, 22.5)));
    switch (kind) {
    case APPROACH: {
        struct vg_geo_point target = toward(her_home, vg_prng_range(d->rng, 0.0, 360.0),
                                            vg_prng_range(d->rng, 0.2, 0.8) * r);
        if (!mix_trip(tl, d, t, target, 0, 0.0) ||
            !mix_trip(tl, d, tl->free_s + vg_prng_range(d->rng, 300.0, 900.0), his_home, 0, 0.0))
            return VG_EINVAL;
        return VG_OK;
    }
    case WALK_IN: {
        double bb = b + vg_prng_range(d->rng, -30.0, 30.0);
        struct vg_geo_point car =
            toward(her_home, bb, 2.0 * r + vg_prng_range(d->rng, 300.0, 800.0));
        struct vg_geo_point in = toward(her_home, bb, vg_prng_range(d->rng, 0.4, 0.9) * r);
        double walk = vg_prng_range(d->rng, 1.2, 1.7);
        if (!mix_trip(tl, d, t, car, VG__SIM_CAR, 0.0) ||
            !mix_trip(tl, d, tl->free_s + 60.0, in, VG__SIM_WALK, walk) ||
            !mix_trip(tl, d, tl->free_s + vg_prng_range(d->rng, 120.0, 600.0), car, VG__SIM_WALK,
                      walk) ||
            !mix_trip(tl, d, tl->free_s + 60.0, his_home, VG__SIM_CAR, 0.0))
            return VG_EINVAL;
        return VG_OK;
    }
    case STALK: {
        double bb = b + vg_prng_range(d->rng, -20.0, 20.0);
        struct vg_geo_point car = toward(her_home, bb, 2.0 * r + 400.0);
        if (!mix_trip(tl, d, t, car, VG__SIM_CAR, 0.0))
            return VG_EINVAL;
        unsigned legs = 6 + (unsigned)(vg_prng_uniform(d->rng) * 7.0);
        for (unsigned i = 0; i < legs; i++) {
            double e = fmax(-200.0, fmin(200.0, vg_prng_normal(d->rng) * 80.0));
            if (i == legs / 2) /* at least once just inside */
                e = -vg_prng_range(d->rng, 50.0, 150.0);
            struct vg_geo_point at =
                toward(her_home, bb + vg_prng_range(d->rng, -4.0, 4.0), 2.0 * r + e);
            if (!mix_trip(tl, d, tl->free_s + vg_prng_range(d->rng, 60.0, 240.0), at, VG__SIM_WALK,
                          vg_prng_range(d->rng, 0.8, 1.4)))
                return VG_EINVAL;
        }
        if (!mix_trip(tl, d, tl->free_s + 60.0, car, VG__SIM_WALK, 1.4) ||
            !mix_trip(tl, d, tl->free_s + 60.0, his_home, VG__SIM_CAR, 0.0))
            return VG_EINVAL;
        return VG_OK;
    }
    case DRIVE_THROUGH: {
        double c = vg_prng_range(d->rng, 0.3, 0.7) * r;
        struct vg_geo_point a = toward(toward(her_home, b, 2.0 * r + 2000.0), b + 90.0, c);
        struct vg_geo_point z = toward(toward(her_home, b + 180.0, 2.0 * r + 2000.0), b + 90.0, c);
        if (!mix_trip(tl, d, t, a, VG__SIM_CAR, 0.0) ||
            !mix_trip(tl, d, tl->free_s + 30.0, z, VG__SIM_CAR,
                      vg_prng_range(d->rng, 25.0, 36.0)) ||
            !mix_trip(tl, d, tl->free_s + 300.0, his_home, VG__SIM_CAR, 0.0))
            return VG_EINVAL;
        return VG_OK;
    }
    default: return VG_OK;
    }
}

static int generate_pair_mix(struct vg_sim_scenario *sc, const struct vg__sim_population *pop,
                             size_t k, double radius_m, struct vg__sim_pair *pair)
{
    const struct vg__sim_mix *mix = &pop->mix;
    struct vg_prng rng;
    vg_prng_seed(&rng, vg__sim_mix(sc->seed ^ POPULATION_TAG, pop->seed_offset, k, 1));
    struct vg_geo_point ph, pw, ah = {0, 0}, aw = {0, 0};
    if (draw_place(sc, pop, &rng, &ph) || draw_place(sc, pop, &rng, &pw))
        return VG_ENOTFOUND;
    bool close = vg_prng_uniform(&rng) < mix->close_fraction;
    if (close) {
        /* a small town: he lives between 1.3R and 2.6R from her home */
        ah = toward(ph, vg_prng_range(&rng, 0.0, 360.0), vg_prng_range(&rng, 1.3, 2.6) * radius_m);
        if (draw_place(sc, pop, &rng, &aw))
            return VG_ENOTFOUND;
    } else {
        struct plane pl;
        plane_init(&pl, ph);
        double p1[2], p2[2];
        to_plane(&pl, ph, &p1[0], &p1[1]);
        to_plane(&pl, pw, &p2[0], &p2[1]);
        double best = -1.0;
        for (int attempt = 0; attempt < PLACEMENT_ATTEMPTS; attempt++) {
            struct vg_geo_point h, w;
            if (draw_place(sc, pop, &rng, &h) || draw_place(sc, pop, &rng, &w))
                return VG_ENOTFOUND;
            double a1[2], a2[2];
            to_plane(&pl, h, &a1[0], &a1[1]);
            to_plane(&pl, w, &a2[0], &a2[1]);
            double clearance = segment_segment(a1, a2, p1, p2);
            if (clearance > best) {
                best = clearance;
                ah = h;
                aw = w;
            }
            if (best >= 2.0 * radius_m + CLEARANCE_MARGIN_M)
                break;
        }
    }
    set_place(&pair->person[0], "home", ah);
    set_place(&pair->person[0], "work", aw);
    set_place(&pair->person[1], "home", ph);
    set_place(&pair->person[1], "work", pw);

    /* the pair's intrusion, if any */
    double u = vg_prng_uniform(&rng), acc = 0.0;
    enum intrusion kind = NO_INTRUSION;
    const double fractions[] = {pop->approach_fraction, mix->walk_in_fraction, mix->stalk_fraction,
                                mix->drive_through_fraction, mix->visit_fraction};
    for (int i = 0; i < 5; i++) {
        acc += fractions[i];
        if (u < acc) {
            kind = (enum intrusion)(APPROACH + i);
            break;
        }
    }
    bool driver = vg_prng_uniform(&rng) < mix->driver_fraction;

    double end_s = (double)sc->duration_ms / 1000.0;
    for (int r = 0; r < 2; r++) {
        struct vg__sim_person *p = &pair->person[r];
        vg__sim_wander_draw(p, &rng);
        struct day d = {.mix = mix, .rng = &rng, .end_s = end_s, .radius_m = radius_m};
        /* drawn only when the mix has it, so that older mixes draw as they did */
        d.keep_away = r == 0 && kind == NO_INTRUSION && mix->keep_away_fraction > 0.0 &&
                      vg_prng_uniform(&rng) < mix->keep_away_fraction;
        if (d.keep_away) {
            plane_init(&d.pl, ph);
            to_plane(&d.pl, ph, &d.her[0][0], &d.her[0][1]);
            to_plane(&d.pl, pw, &d.her[1][0], &d.her[1][1]);
        }
        d.metro = vg_prng_uniform(&rng) < mix->metro_fraction;
        d.car_park = vg_prng_uniform(&rng) < mix->car_park_fraction;
        struct vg_geo_point home = p->places[0].p, work = p->places[1].p;
        if (vg_prng_uniform(&rng) < mix->canyon_fraction)
            p->canyon_spots[p->n_canyon_spots++] = home;
        if (vg_prng_uniform(&rng) < mix->canyon_fraction)
            p->canyon_spots[p->n_canyon_spots++] = work;
        struct vg__sim_timeline tl;
        int rc = vg__sim_timeline_begin(&tl, p, home);
        if (rc)
            return rc;
        bool works = vg_prng_uniform(&rng) >= mix->non_worker_fraction;
        if (kind == VISIT) {
            if (r == 1) { /* she spends the afternoon near his home */
                struct vg_geo_point spot = toward(ah, vg_prng_range(&rng, 0.0, 360.0),
                                                  vg_prng_range(&rng, 0.4, 0.9) * radius_m);
                if (!mix_trip(&tl, &d, at_hour(&d, vg_prng_range(&rng, 13.0, 16.0)), spot, 0,
                              0.0) ||
                    !mix_trip(&tl, &d, tl.free_s + vg_prng_range(&rng, 3600.0, 7200.0), home, 0,
                              0.0))
                    return VG_EINVAL;
            }
        } else if (r == 0 && driver && kind == NO_INTRUSION) {
            /* deliveries: a day of car trips across the communes */
            tl.free_s = at_hour(&d, vg_prng_range(&rng, 7.0, 8.5));
            unsigned stops = 8 + (unsigned)(vg_prng_uniform(&rng) * 10.0);
            for (unsigned i = 0; i < stops && tl.free_s < at_hour(&d, 18.0); i++) {
                struct vg_geo_point to;
                if (draw_place(sc, pop, &rng, &to))
                    return VG_ENOTFOUND;
                double best = d.keep_away ? trip_clearance(&d, tl.at, to) : HUGE_VAL;
                for (int attempt = 0;
                     attempt < KEEP_AWAY_ATTEMPTS && best < 2.0 * radius_m + CLEARANCE_MARGIN_M;
                     attempt++) {
                    struct vg_geo_point alt;
                    if (draw_place(sc, pop, &rng, &alt))
                        return VG_ENOTFOUND;
                    double c = trip_clearance(&d, tl.at, alt);
                    if (c > best) {
                        best = c;
                        to = alt;
                    }
                }
                if (!mix_trip(&tl, &d, tl.free_s + vg_prng_range(&rng, 120.0, 900.0), to,
                              VG__SIM_CAR, 0.0))
                    return VG_EINVAL;
            }
            if (!mix_trip(&tl, &d, tl.free_s + 300.0, home, VG__SIM_CAR, 0.0))
                return VG_EINVAL;
        } else {
            if ((rc = ordinary_day(&tl, &d, home, work, works, kind != NO_INTRUSION)))
                return rc;
            if (r == 0 && kind != NO_INTRUSION && (rc = intrude(&tl, &d, kind, ah, ph)))
                return rc;
        }
        /* the environment and the devices */
        unsigned n = poisson(&rng, mix->indoor_loss_per_day * end_s / 86400.0);
        for (unsigned i = 0; i < n; i++) {
            /* indoors: while staying somewhere, not on the road (a moment
             * drawn during a trip moves on to the next stay) */
            double from = vg_prng_range(&rng, 0.0, end_s);
            double len = exp(vg_prng_range(&rng, log(180.0), log(2700.0)));
            size_t cursor = 0;
            struct vg__sim_pos at;
            vg__sim_position(p, from, &cursor, &at);
            while (at.speed_mps > 0.0f && from < end_s) {
                from += 30.0;
                vg__sim_position(p, from, &cursor, &at);
            }
            add_event(&d, VG__SIM_EV_GNSS_HOLE, from, from + len, 0.0);
        }
        n = poisson(&rng, mix->no_network_per_day * end_s / 86400.0);
        for (unsigned i = 0; i < n; i++) {
            double from = vg_prng_range(&rng, 0.0, end_s);
            add_event(&d, VG__SIM_EV_NETWORK_OUTAGE, from,
                      from + vg_prng_range(&rng, 300.0, 2400.0), 0.0);
        }
        if (vg_prng_uniform(&rng) < mix->switch_off_fraction) {
            double from = vg_prng_range(&rng, 0.0, end_s);
            add_event(&d, VG__SIM_EV_SWITCHED_OFF, from, from + vg_prng_range(&rng, 600.0, 5400.0),
                      0.0);
        }
        if (vg_prng_uniform(&rng) < mix->battery_fault_fraction)
            add_event(&d, VG__SIM_EV_BATTERY_DRAIN, vg_prng_range(&rng, 0.0, 0.7 * end_s),
                      end_s + 2.0 * 86400.0, vg_prng_range(&rng, 20.0, 60.0));
        if (r == 0) {
            if (vg_prng_uniform(&rng) < mix->strap_cut_fraction)
                add_event(&d, VG__SIM_EV_STRAP_CUT, vg_prng_range(&rng, 0.0, end_s),
                          end_s + 2.0 * 86400.0, 0.0);
            if (vg_prng_uniform(&rng) < mix->skin_loss_fraction) {
                double from = vg_prng_range(&rng, 0.0, end_s);
                add_event(&d, VG__SIM_EV_SKIN_LOST, from, from + vg_prng_range(&rng, 300.0, 1800.0),
                          0.0);
            }
            if (vg_prng_uniform(&rng) < mix->left_behind_fraction) {
                double from = vg_prng_range(&rng, 0.0, end_s);
                add_event(&d, VG__SIM_EV_LEFT_BEHIND, from,
                          from + vg_prng_range(&rng, 600.0, 2400.0), 0.0);
                struct vg__sim_pos at;
                size_t cursor = 0;
                vg__sim_position(p, from, &cursor, &at);
                d.ev[d.n_ev - 1].spot = (struct vg_geo_point){at.lat_deg, at.lon_deg};
            }
        }
        if (d.n_ev) {
            p->events = malloc(d.n_ev * sizeof *p->events);
            if (!p->events)
                return VG_ENOSPC;
            memcpy(p->events, d.ev, d.n_ev * sizeof *p->events);
            p->n_events = d.n_ev;
        }
    }
    return VG_OK;
}

int vg__sim_population_generate(struct vg_sim_scenario *sc, const struct vg__sim_population *pop,
                                const struct vg__sim_measure_spec *tmpl,
                                const struct vg__sim_gnss *gnss, char *err, size_t len)
{
    size_t base = sc->n_pairs;
    for (size_t k = 0; k < pop->pairs; k++) {
        struct vg__sim_pair *pair = &sc->pairs[base + k];
        sc->n_pairs = base + k + 1; /* owned from here on */
        snprintf(pair->name, sizeof pair->name, "%s-%05zu", pop->prefix, k);
        for (int r = 0; r < 2; r++) {
            pair->person[r].gnss = *gnss;
            pair->person[r].wander_m = 5.0;
        }
        int rc = pop->mix.present ? generate_pair_mix(sc, pop, k, tmpl->m.alert_radius_m, pair)
                                  : generate_pair(sc, pop, k, tmpl->m.alert_radius_m, pair);
        if (rc == VG_ENOTFOUND)
            return vg__sim_fail(
                err, len, rc, "population: no point could be drawn inside a commune (pair %zu)", k);
        if (rc)
            return vg__sim_fail(err, len, rc, "population: pair %zu: %s", k,
                                rc == VG_ENOSPC ? "out of memory" : "invalid route");
        char where[64];
        snprintf(where, sizeof where, "population pair %s", pair->name);
        if ((rc = vg__sim_measure_resolve(tmpl, pair, where, &pair->measure, err, len)))
            return rc;
    }
    return VG_OK;
}
