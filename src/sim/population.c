/* The population generator: N pairs for load tests and benchmarks, with
 * homes and workplaces drawn inside communes, commutes between them, and a
 * fraction of authors who go and approach the protected person's home
 * (docs/SCENARIOS.md, "population"). Deterministic: pair k is drawn from
 * its own stream of the scenario's seed and the population's seed_offset,
 * whatever the number of pairs. */
#include <math.h>
#include <stdio.h>
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
        int rc = generate_pair(sc, pop, k, tmpl->m.alert_radius_m, pair);
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
