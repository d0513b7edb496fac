/* Guidance (core/guidance.c): her direction points away from him, a safe
 * place on the far side is proposed and one past him is not; the author's
 * instruction takes him out of every ring without bringing him nearer to her
 * or into a fixed zone, and reveals no more than core/guidance.h promises
 * (measured over random configurations); stale, missing and uncertain
 * positions are said, bad input is refused. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/geo.h"
#include "core/guidance.h"
#include "core/prng.h"
#include "testing.h"

#define NOW 1780000000000LL /* 2026 */
#define PI  3.14159265358979323846

static const struct vg_geo_point nantes = {47.2184, -1.5536};

static struct vg_geo_point offset(struct vg_geo_point from, double bearing, double m)
{
    struct vg_geo_point to;
    assert_int_equal(vg_geo_destination(from, bearing, m, &to), VG_OK);
    return to;
}

static double dist(struct vg_geo_point a, struct vg_geo_point b)
{
    double d;
    assert_int_equal(vg_geo_inverse(a, b, &d, NULL), VG_OK);
    return d;
}

static double bearing(struct vg_geo_point a, struct vg_geo_point b)
{
    double d, br;
    assert_int_equal(vg_geo_inverse(a, b, &d, &br), VG_OK);
    return br;
}

/* a - b in (-180, 180] */
static double angle_diff(double a, double b)
{
    double d = fmod(a - b, 360.0);
    if (d <= -180.0)
        d += 360.0;
    if (d > 180.0)
        d -= 360.0;
    return d;
}

static struct vg_fix fix_at(struct vg_geo_point p, int64_t t, float accuracy)
{
    return (struct vg_fix){.time_ms = t,
                           .lat_deg = p.lat_deg,
                           .lon_deg = p.lon_deg,
                           .accuracy_m = accuracy,
                           .speed_mps = -1.0f,
                           .heading_deg = -1.0f,
                           .quality = VG_FIX_3D};
}

static struct vg_guidance_input input(const struct vg_fix *him, const struct vg_fix *her, double r)
{
    return (struct vg_guidance_input){
        .author = him, .protected_person = her, .now_ms = NOW, .alert_radius_m = r};
}

static struct vg_safe_place place(const char *name, struct vg_geo_point at)
{
    struct vg_safe_place p = {.at = at};
    snprintf(p.name, sizeof p.name, "%s", name);
    return p;
}

/* ---- her ----------------------------------------------------------------------------------- */

static void test_her_direction_points_away_from_him(void **state)
{
    (void)state;
    struct vg_fix her = fix_at(nantes, NOW - 5000, 10);
    for (double b = 1; b < 360; b += 7.5) { /* away from the compass' edges */
        struct vg_geo_point at = offset(nantes, b, 1200);
        struct vg_fix him = fix_at(at, NOW - 5000, 10);
        struct vg_guidance_input in = input(&him, &her, 2000);
        struct vg_guidance g;
        assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
        assert_int_equal(g.flags, 0);
        assert_true(g.protected_person.valid);
        assert_int_equal(g.protected_person.place, -1);
        assert_near(g.distance_m, 1200, 0.01);
        /* straight away: 300 m along it adds 300 m to their distance */
        struct vg_geo_point next = offset(nantes, g.protected_person.bearing_deg, 300);
        assert_near(dist(next, at), 1500, 0.5);
        assert_near(angle_diff(g.protected_person.away_bearing_deg, b + 180), 0, 0.01);
        assert_string_equal(vg_guidance_compass(g.protected_person.bearing_deg),
                            vg_guidance_compass(b + 180));
    }
}

static void test_safe_place_on_the_far_side_not_past_him(void **state)
{
    (void)state;
    struct vg_fix her = fix_at(nantes, NOW, 10);
    struct vg_fix him = fix_at(offset(nantes, 0, 1000), NOW, 10); /* 1 km north of her */
    struct vg_safe_place places[] = {
        place("Commissariat central (past him)", offset(nantes, 0, 1300)),
        place("Gendarmerie (toward him, at an angle)", offset(nantes, 45, 1000)),
        place("Commissariat sud (far side)", offset(nantes, 180, 900)),
        place("Hôtel de police (too far)", offset(nantes, 170, 1600)),
        place("Poste de police (far side, nearer)", offset(nantes, 200, 700)),
    };
    struct vg_guidance_input in = input(&him, &her, 2000);
    struct vg_guidance g;
    /* alone, the place past him is refused: the path goes through him */
    in.places = places;
    in.n_places = 2;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_true(g.protected_person.valid);
    assert_int_equal(g.protected_person.place, -1);
    assert_near(g.protected_person.bearing_deg, 180, 0.01); /* away, south */
    /* a place on the far side is proposed, with its bearing and distance */
    in.n_places = 4;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.protected_person.place, 2);
    assert_near(g.protected_person.bearing_deg, 180, 0.01);
    assert_near(g.protected_person.place_distance_m, 900, 0.01);
    assert_near(g.protected_person.place_clearance_m, 1000, 1);
    assert_near(g.protected_person.away_bearing_deg, 180, 0.01);
    /* the nearest of those that qualify */
    in.n_places = 5;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.protected_person.place, 4);
    assert_near(g.protected_person.bearing_deg, 200, 0.01);
    assert_near(g.protected_person.place_distance_m, 700, 0.01);
    /* too unsure of where she is: no place, only the direction */
    her.accuracy_m = 300;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_true(g.protected_person.valid);
    assert_int_equal(g.protected_person.place, -1);
    her.accuracy_m = 10;
    /* farther than R, the path may bring her nearer to him, never within R:
     * him 2 km north, R = 1.5 km */
    him = fix_at(offset(nantes, 0, 2000), NOW, 10);
    in.alert_radius_m = 1500;
    struct vg_safe_place toward[] = {
        place("north, within R of him", offset(nantes, 0, 1000)),
        place("north-east, ends 1.63 km from him", offset(nantes, 45, 600)),
    };
    in.places = toward;
    in.n_places = 1;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.protected_person.place, -1);
    in.n_places = 2;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.protected_person.place, 1);
    assert_near(g.protected_person.bearing_deg, 45, 0.01);
    assert_near(g.protected_person.place_clearance_m, 1632, 2);
    assert_near(dist(toward[1].at, offset(nantes, 0, 2000)), 1632, 2);
}

/* ---- him ----------------------------------------------------------------------------------- */

/* Along the instruction up to tell_m: his distance to her never shrinks,
 * he is out of her pre-alert ring at tell_m, and at leave_m (exactly at its
 * edge when no fixed ring takes longer to leave). */
static void check_leaves_her(struct vg_geo_point him, struct vg_geo_point her, double r,
                             const struct vg_guidance_author *a, bool exact)
{
    double d0 = dist(him, her), last = d0;
    for (int k = 1; k <= 40; k++) {
        double d = dist(offset(him, a->bearing_deg, a->tell_m * k / 40.0), her);
        assert_true(d >= last - 0.5);
        last = d;
    }
    assert_true(last >= 2 * r);
    assert_true(a->leave_m <= a->tell_m);
    if (d0 < 2 * r) {
        assert_true(a->inside);
        double d = dist(offset(him, a->bearing_deg, a->leave_m), her);
        if (exact)
            assert_near(d, 2 * r, 1.0);
        else
            assert_true(d >= 2 * r - 1.0);
    }
}

static void test_author_leaves_and_reveals_one_side(void **state)
{
    (void)state;
    struct vg_prng rng;
    vg_prng_seed(&rng, 6);
    int n = 0, matches_quantised = 0, hist[6] = {0};
    double sum_err = 0, sum_cos = 0;
    for (int i = 0; i < 20000; i++) {
        double r = vg_prng_range(&rng, 1000, 10000);
        struct vg_geo_point him =
            offset(nantes, vg_prng_range(&rng, 0, 360), vg_prng_range(&rng, 0, 20000));
        double to_her = vg_prng_range(&rng, 0, 360);
        struct vg_geo_point her = offset(him, to_her, vg_prng_range(&rng, 300, 2 * r));
        struct vg_fix fh = fix_at(him, NOW - 2000, (float)vg_prng_range(&rng, 3, 25));
        struct vg_fix fp = fix_at(her, NOW - 2000, (float)vg_prng_range(&rng, 3, 25));
        struct vg_guidance_input in = input(&fh, &fp, r);
        struct vg_guidance g;
        assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
        assert_int_equal(g.flags, 0);
        const struct vg_guidance_author *a = &g.author;
        assert_true(a->valid);
        assert_true(a->paired);
        /* no fixed zone in the way: north or south, whatever her bearing */
        assert_true(a->bearing_deg == 0 || a->bearing_deg == 180);
        assert_near(fmod(a->tell_m, 500), 0, 1e-9);
        assert_true(a->tell_m >= 2 * r);
        if (i % 10 == 0)
            check_leaves_her(him, her, r, a, true);
        /* what it says of her: her bearing relative to "straight behind the
         * instruction" */
        double b = bearing(him, her), away = b + 180;
        double err = angle_diff(b, a->bearing_deg + 180);
        assert_true(fabs(err) <= 90.0 + 1e-4);
        assert_true(fabs(angle_diff(a->bearing_deg, away)) > 1e-9); /* never "away from her" */
        sum_err += fabs(err);
        sum_cos += cos(angle_diff(a->bearing_deg, away) * PI / 180);
        matches_quantised +=
            strcmp(vg_guidance_compass(a->bearing_deg), vg_guidance_compass(away)) == 0;
        int bin = (int)((err + 90.0) / 30.0);
        hist[bin < 0 ? 0 : bin > 5 ? 5 : bin]++;
        n++;
    }
    double mean_err = sum_err / n, mean_cos = sum_cos / n, match = (double)matches_quantised / n;
    print_message("author: mean error of 'behind me' %.1f deg (promised 45), mean cos %.3f "
                  "(2/pi = %.3f), matches 'away' on 8 points %.3f (1/4)\n",
                  mean_err, mean_cos, 2 / PI, match);
    assert_near(mean_err, 45, 1.5);
    assert_near(mean_cos, 2 / PI, 0.02);
    assert_near(match, 0.25, 0.02);
    /* her bearing given the instruction: even over the half-circle */
    for (int k = 0; k < 6; k++)
        assert_near((double)hist[k] / n, 1.0 / 6, 0.015);
}

static bool inside_ring(const struct vg_zone *z, struct vg_geo_point p, double *d)
{
    struct vg_geo_prepared pp;
    vg_geo_prepare(&pp, p);
    *d = vg_zone_distance(z, &pp, HUGE_VAL);
    return *d <= 2 * z->alert_radius_m;
}

/* What he can tell of her bearing from the instruction when he knows the
 * rule, his position, R and the zones: the width (degrees) of the bearings
 * at which she could be, at the same distance, for him to be told the same,
 * sampled every 5 degrees. */
static double consistent_width(const struct vg_guidance_input *in, struct vg_geo_point him,
                               double d, double told)
{
    struct vg_guidance_input probe = *in;
    int same = 0;
    for (double b = 2.5; b < 360; b += 5) {
        struct vg_fix her = *in->protected_person;
        struct vg_geo_point at = offset(him, b, d);
        her.lat_deg = at.lat_deg;
        her.lon_deg = at.lon_deg;
        probe.protected_person = &her;
        struct vg_guidance g;
        assert_int_equal(vg_guidance_compute(&probe, &g), VG_OK);
        same += g.author.valid && g.author.bearing_deg == told;
    }
    return 5.0 * same;
}

/* With fixed zones: the instruction never enters a ring he is outside of,
 * never comes nearer to one he is in, leaves them all by tell_m; and when
 * it is paired it still says only a side. */
static void test_author_with_fixed_zones(void **state)
{
    (void)state;
    struct vg_prng rng;
    vg_prng_seed(&rng, 66);
    int n = 0, n_valid = 0, n_paired = 0, n_inzone = 0, n_none = 0;
    double sum_err = 0, sum_err_single = 0, sum_width_single = 0, min_width_single = 360;
    int n_single = 0, n_width_single = 0;
    for (int i = 0; i < 300; i++) {
        double r = vg_prng_range(&rng, 1000, 2500);
        struct vg_zone zones[2];
        size_t nz = 1 + (i % 2);
        for (size_t z = 0; z < nz; z++)
            assert_int_equal(vg_zone_init_circle(&zones[z], (uint32_t)z + 1, VG_ZONE_PROTECTED_HOME,
                                                 offset(nantes, vg_prng_range(&rng, 0, 360),
                                                        vg_prng_range(&rng, 0, 8000)),
                                                 vg_prng_range(&rng, 1000, 2000)),
                             VG_OK);
        struct vg_geo_point him =
            offset(nantes, vg_prng_range(&rng, 0, 360), vg_prng_range(&rng, 0, 6000));
        struct vg_geo_point her =
            offset(him, vg_prng_range(&rng, 0, 360), vg_prng_range(&rng, 100, 2 * r));
        struct vg_fix fh = fix_at(him, NOW, 10), fp = fix_at(her, NOW, 10);
        struct vg_guidance_input in = input(&fh, &fp, r);
        in.zones = zones;
        in.n_zones = nz;
        struct vg_guidance g;
        assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
        n++;
        bool was_in[2] = {false, false};
        double d0[2] = {0, 0};
        for (size_t z = 0; z < nz; z++)
            was_in[z] = inside_ring(&zones[z], him, &d0[z]);
        n_inzone += was_in[0] || was_in[1];
        if (!g.author.valid) {
            assert_true(g.flags & VG_GUIDANCE_NO_WAY_OUT);
            n_none++;
            continue;
        }
        n_valid++;
        const struct vg_guidance_author *a = &g.author;
        check_leaves_her(him, her, r, a, !was_in[0] && !was_in[1]);
        double last[2] = {d0[0], d0[1]};
        for (double t = 25; t <= a->tell_m + 1e-9; t += 25) {
            struct vg_geo_point q = offset(him, a->bearing_deg, t);
            for (size_t z = 0; z < nz; z++) {
                double d;
                bool in_ring = inside_ring(&zones[z], q, &d);
                if (was_in[z])
                    assert_true(d >= last[z] - 0.5);
                else
                    assert_false(in_ring);
                last[z] = d;
            }
        }
        for (size_t z = 0; z < nz; z++)
            assert_true(last[z] > 2 * zones[z].alert_radius_m);
        double err = fabs(angle_diff(bearing(him, her), a->bearing_deg + 180));
        assert_true(err <= 90.0 + 1e-4);
        double width =
            n_valid % 3 == 0 ? consistent_width(&in, him, dist(him, her), a->bearing_deg) : -1;
        if (a->paired) {
            n_paired++;
            sum_err += err;
            if (width >= 0) /* one side of a line through him, no more */
                assert_near(width, 180, 0);
        } else {
            n_single++;
            sum_err_single += err;
            if (width >= 0) {
                n_width_single++;
                sum_width_single += width;
                min_width_single = width < min_width_single ? width : min_width_single;
            }
        }
    }
    print_message("with zones: %d cases, %d in a fixed ring, %d guided (%d paired, mean error "
                  "%.1f deg; %d single, mean error %.1f deg, her possible bearings %.0f deg "
                  "wide on average, %.0f at least), %d without a way out\n",
                  n, n_inzone, n_valid, n_paired, n_paired ? sum_err / n_paired : 0.0, n_single,
                  n_single ? sum_err_single / n_single : 0.0,
                  n_width_single ? sum_width_single / n_width_single : 0.0, min_width_single,
                  n_none);
    assert_true(n_inzone >= 50); /* the cases that matter are there */
    assert_true(n_paired >= 100 && n_single >= 20);
    /* paired: still one side of a line */
    assert_near(sum_err / n_paired, 45, 6);
    /* single: documented as revealing more, never less than a 45-degree sector */
    assert_true(sum_err_single / n_single >= 20);
    assert_true(n_width_single >= 10);
    assert_true(min_width_single >= 45);
}

static void test_author_in_her_home_zone(void **state)
{
    (void)state;
    /* her home 1.5 km north-east of him (ring 2 km): he must leave it; she
     * is elsewhere, 1 km to his south-west: only the NW/SE axis leaves the
     * home's ring both ways, and SE does not bring him nearer to her */
    struct vg_zone home;
    struct vg_geo_point him = nantes;
    assert_int_equal(
        vg_zone_init_circle(&home, 1, VG_ZONE_PROTECTED_HOME, offset(him, 45, 1500), 1000), VG_OK);
    struct vg_fix fh = fix_at(him, NOW, 10), fp = fix_at(offset(him, 230, 1000), NOW, 10);
    struct vg_guidance_input in = input(&fh, &fp, 1000);
    in.zones = &home;
    in.n_zones = 1;
    struct vg_guidance g;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_true(g.author.valid);
    assert_true(g.author.inside);
    assert_near(g.author.bearing_deg, 135, 0);
    assert_true(g.author.paired); /* the perpendicular pair leaves the home's ring both ways */
    /* her home at 290 degrees, she at 120: leaving the home means nearing her */
    assert_int_equal(
        vg_zone_init_circle(&home, 1, VG_ZONE_PROTECTED_HOME, offset(him, 290, 1500), 1000), VG_OK);
    fp = fix_at(offset(him, 120, 1000), NOW, 10);
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_false(g.author.valid);
    assert_int_equal(g.flags, VG_GUIDANCE_NO_WAY_OUT);
    assert_true(g.protected_person.valid); /* she is still guided */
    /* she at 300: a single direction leaves the home without nearing her */
    fp = fix_at(offset(him, 300, 3000), NOW, 10);
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_true(g.author.valid);
    assert_false(g.author.paired);
    assert_false(g.author.inside && g.author.leave_m == 0);
    struct vg_geo_point out = offset(him, g.author.bearing_deg, g.author.tell_m);
    struct vg_geo_prepared op;
    vg_geo_prepare(&op, out);
    assert_true(vg_zone_distance(&home, &op, HUGE_VAL) > 2000);
    /* outside every ring: still a direction, nothing to leave */
    fh = fix_at(offset(him, 110, 8000), NOW, 10);
    fp = fix_at(offset(him, 110, 8000 + 5000), NOW, 10);
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_true(g.author.valid);
    assert_false(g.author.inside);
    assert_near(g.author.leave_m, 0, 0);
}

/* ---- saying so ----------------------------------------------------------------------------- */

static void test_stale_missing_uncertain(void **state)
{
    (void)state;
    struct vg_fix her = fix_at(nantes, NOW - 10000, 10);
    struct vg_fix him = fix_at(offset(nantes, 90, 1500), NOW - 10000, 10);
    struct vg_guidance_input in = input(&him, &her, 2000);
    struct vg_guidance g;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.flags, 0);
    assert_int_equal(g.her_age_ms, 10000);
    /* too old */
    her.time_ms = NOW - 300001;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.flags, VG_GUIDANCE_HER_STALE);
    assert_false(g.protected_person.valid);
    assert_false(g.author.valid);
    her.time_ms = NOW - 300000;
    him.time_ms = NOW - 400000;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_true(g.flags & VG_GUIDANCE_HIS_STALE);
    assert_false(g.flags & VG_GUIDANCE_HER_STALE);
    /* a fix from the future is not older than now */
    him.time_ms = NOW + 5000;
    her.time_ms = NOW;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.flags, 0);
    assert_int_equal(g.his_age_ms, 0);
    /* missing */
    in.author = NULL;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.flags, VG_GUIDANCE_HIS_MISSING);
    assert_int_equal(g.his_age_ms, -1);
    assert_false(g.protected_person.valid);
    in.author = &him;
    in.protected_person = NULL;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.flags, VG_GUIDANCE_HER_MISSING);
    in.protected_person = &her;
    /* uncertain: 400 m each at 1.5 km */
    him.time_ms = her.time_ms = NOW;
    him.accuracy_m = her.accuracy_m = 400;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.flags, VG_GUIDANCE_UNCERTAIN);
    assert_near(g.uncertainty_m, 800, 1e-9);
    him.accuracy_m = her.accuracy_m = 300; /* 600 < 750: fine */
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.flags, 0);
    /* an old fix of someone driving grows with his speed */
    him.accuracy_m = her.accuracy_m = 10;
    him.time_ms = NOW - 60000;
    him.speed_mps = 15; /* 900 m in a minute */
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.flags, VG_GUIDANCE_UNCERTAIN);
    him.speed_mps = -1; /* unknown: 2 m/s */
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.flags, 0);
    assert_near(g.uncertainty_m, 10 + 10 + 120, 1e-9);
    /* on top of each other: no direction at all */
    him = fix_at(nantes, NOW, 5);
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.flags, VG_GUIDANCE_UNCERTAIN);
    /* nearly antipodal (no geodesic converges): no direction, not an error */
    her = fix_at((struct vg_geo_point){0, 0}, NOW, 10);
    him = fix_at((struct vg_geo_point){0.5, 179.7}, NOW, 10);
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.flags, VG_GUIDANCE_UNCERTAIN);
    assert_false(g.author.valid);
    assert_string_equal(vg_guidance_flag_name(VG_GUIDANCE_HER_STALE), "her_stale");
    assert_string_equal(vg_guidance_flag_name(VG_GUIDANCE_NO_WAY_OUT), "no_way_out");
    assert_null(vg_guidance_flag_name(3));
}

static void test_bad_input_refused(void **state)
{
    (void)state;
    struct vg_fix her = fix_at(nantes, NOW, 10);
    struct vg_fix him = fix_at(offset(nantes, 90, 1500), NOW, 10);
    struct vg_guidance_input in = input(&him, &her, 2000);
    struct vg_guidance g = {.flags = 77};
    assert_int_equal(vg_guidance_compute(NULL, &g), VG_EINVAL);
    assert_int_equal(vg_guidance_compute(&in, NULL), VG_EINVAL);
    her.lat_deg = (double)NAN;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_EINVAL);
    her.lat_deg = 91;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_ERANGE);
    her.lat_deg = nantes.lat_deg;
    him.accuracy_m = NAN;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_EINVAL);
    him.accuracy_m = -1;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_ERANGE);
    him.accuracy_m = 10;
    him.speed_mps = INFINITY;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_EINVAL);
    him.speed_mps = -1;
    him.quality = VG_FIX_NONE; /* a record saying there is no position */
    assert_int_equal(vg_guidance_compute(&in, &g), VG_EINVAL);
    him.quality = VG_FIX_3D;
    him.time_ms = 0;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_ERANGE);
    him.time_ms = NOW;
    in.alert_radius_m = (double)NAN;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_EINVAL);
    in.alert_radius_m = 500;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_ERANGE);
    in.alert_radius_m = 2000;
    in.now_ms = -1;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_ERANGE);
    in.now_ms = NOW;
    struct vg_safe_place places[VG_SAFE_PLACES_MAX + 1];
    for (size_t i = 0; i <= VG_SAFE_PLACES_MAX; i++)
        places[i] = place("p", offset(nantes, 180, 500));
    in.places = places;
    in.n_places = VG_SAFE_PLACES_MAX + 1;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_ERANGE);
    in.n_places = 2;
    places[1].at.lon_deg = (double)NAN;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_EINVAL);
    places[1].at.lon_deg = 200;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_ERANGE);
    places[1] = places[0];
    memset(places[1].name, 'x', sizeof places[1].name); /* no terminating NUL */
    assert_int_equal(vg_guidance_compute(&in, &g), VG_EINVAL);
    places[1] = places[0];
    in.places = NULL;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_EINVAL);
    in.places = places;
    struct vg_zone zones[VG_GUIDANCE_MAX_ZONES + 1];
    memset(zones, 0, sizeof zones); /* not zones */
    in.zones = zones;
    in.n_zones = 1;
    assert_true(vg_guidance_compute(&in, &g) < 0);
    for (size_t i = 0; i <= VG_GUIDANCE_MAX_ZONES; i++)
        assert_int_equal(vg_zone_init_circle(&zones[i], (uint32_t)i + 1, VG_ZONE_SCHOOL,
                                             offset(nantes, 0, 20000), 1000),
                         VG_OK);
    in.n_zones = VG_GUIDANCE_MAX_ZONES + 1;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_ERANGE);
    in.n_zones = 1;
    struct vg_guidance_params p;
    vg_guidance_params_default(&p);
    assert_int_equal(vg_guidance_params_check(&p), VG_OK);
    in.params = &p;
    p.max_uncertainty_ratio = 1.5;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_EINVAL);
    p.max_uncertainty_ratio = 0.5;
    p.step_m = (double)NAN;
    assert_int_equal(vg_guidance_compute(&in, &g), VG_EINVAL);
    p.step_m = 25;
    /* nothing written on refusal; all fine again at the end */
    assert_int_equal(g.flags, 77);
    assert_int_equal(vg_guidance_compute(&in, &g), VG_OK);
    assert_int_equal(g.flags, 0);
    assert_true(g.author.valid);
}

static void test_compass(void **state)
{
    (void)state;
    static const struct {
        double b;
        const char *name;
    } cases[] = {{0, "N"},       {22.49, "N"}, {22.5, "NE"}, {45, "NE"},  {90, "E"},
                 {135, "SE"},    {180, "S"},   {225, "SW"},  {270, "W"},  {315, "NW"},
                 {337.49, "NW"}, {337.5, "N"}, {359.9, "N"}, {-45, "NW"}, {720, "N"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(vg_guidance_compass(cases[i].b), cases[i].name);
    assert_null(vg_guidance_compass((double)NAN));
    assert_null(vg_guidance_compass((double)INFINITY));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_her_direction_points_away_from_him),
        cmocka_unit_test(test_safe_place_on_the_far_side_not_past_him),
        cmocka_unit_test(test_author_leaves_and_reveals_one_side),
        cmocka_unit_test(test_author_with_fixed_zones),
        cmocka_unit_test(test_author_in_her_home_zone),
        cmocka_unit_test(test_stale_missing_uncertain),
        cmocka_unit_test(test_bad_input_refused),
        cmocka_unit_test(test_compass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
