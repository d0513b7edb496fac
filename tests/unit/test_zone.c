/* Fixed zones: construction rules and distances against Karney's geodesics. */
#include <geodesic.h>
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "core/geo.h"
#include "core/prng.h"
#include "core/zone.h"
#include "testing.h"

static struct geod_geodesic wgs84;

static int setup(void **state)
{
    (void)state;
    geod_init(&wgs84, VG_GEO_WGS84_A, VG_GEO_WGS84_F);
    return 0;
}

static const struct vg_geo_point nantes = {47.2184, -1.5536};

static struct vg_geo_point offset(struct vg_geo_point from, double az, double dist)
{
    struct vg_geo_point to;
    geod_direct(&wgs84, from.lat_deg, from.lon_deg, az, dist, &to.lat_deg, &to.lon_deg, NULL);
    return to;
}

static double zone_distance(const struct vg_zone *z, struct vg_geo_point p)
{
    struct vg_geo_prepared pp;
    vg_geo_prepare(&pp, p);
    return vg_zone_distance(z, &pp, HUGE_VAL);
}

static void test_circle_init(void **state)
{
    (void)state;
    static const struct {
        double lat, lon, r;
        int category, expect;
    } cases[] = {
        {47.2, -1.5, 1000, VG_ZONE_PROTECTED_HOME, VG_OK},
        {47.2, -1.5, 10000, VG_ZONE_SCHOOL, VG_OK},
        {47.2, -1.5, 999.999, VG_ZONE_PROTECTED_HOME, VG_ERANGE},
        {47.2, -1.5, 10000.001, VG_ZONE_PROTECTED_HOME, VG_ERANGE},
        {47.2, -1.5, (double)NAN, VG_ZONE_PROTECTED_HOME, VG_EINVAL},
        {47.2, -1.5, HUGE_VAL, VG_ZONE_PROTECTED_HOME, VG_EINVAL},
        {(double)NAN, -1.5, 2000, VG_ZONE_PROTECTED_HOME, VG_EINVAL},
        {95, -1.5, 2000, VG_ZONE_PROTECTED_HOME, VG_ERANGE},
        {47.2, -1.5, 2000, 0, VG_EINVAL},
        {47.2, -1.5, 2000, VG_ZONE_OTHER + 1, VG_EINVAL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct vg_zone z;
        struct vg_geo_point c = {cases[i].lat, cases[i].lon};
        assert_int_equal(
            vg_zone_init_circle(&z, 7, (enum vg_zone_category)cases[i].category, c, cases[i].r),
            cases[i].expect);
        if (cases[i].expect == VG_OK) {
            assert_int_equal(vg_zone_check(&z), VG_OK);
            assert_int_equal(z.id, 7);
            assert_int_equal(z.shape, VG_ZONE_CIRCLE);
        }
    }
}

static void test_circle_distance(void **state)
{
    (void)state;
    struct vg_zone z;
    assert_int_equal(vg_zone_init_circle(&z, 1, VG_ZONE_PROTECTED_HOME, nantes, 2000), VG_OK);
    struct vg_prng rng;
    vg_prng_seed(&rng, 11);
    for (int i = 0; i < 2000; i++) {
        double az = vg_prng_range(&rng, 0, 360), s = vg_prng_range(&rng, 0, 25000);
        struct vg_geo_point p = offset(nantes, az, s);
        assert_near(zone_distance(&z, p), s, 0.001);
    }
    assert_near(zone_distance(&z, nantes), 0, 1e-9);
}

/* A 400 m x 300 m rectangle, as a school's grounds, around Nantes. */
static void rectangle(struct vg_geo_point out[4])
{
    struct vg_geo_point c = nantes;
    struct vg_geo_point n = offset(c, 0, 150), s = offset(c, 180, 150);
    out[0] = offset(s, 270, 200);
    out[1] = offset(s, 90, 200);
    out[2] = offset(n, 90, 200);
    out[3] = offset(n, 270, 200);
}

static void test_polygon_init_refusals(void **state)
{
    (void)state;
    struct vg_geo_point rect[5];
    rectangle(rect);
    rect[4] = rect[0]; /* closed ring, GeoJSON style */
    struct vg_zone z;
    const char *why = NULL;
    assert_int_equal(vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, rect, 5, 1000, &why), VG_OK);
    assert_int_equal(z.n_vertices, 4);
    assert_int_equal(vg_zone_check(&z), VG_OK);
    assert_int_equal(vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, rect, 4, 1000, &why), VG_OK);

    /* too few */
    assert_int_equal(vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, rect, 2, 1000, &why), VG_EINVAL);
    assert_non_null(why);
    struct vg_geo_point tri_closed[4] = {rect[0], rect[1], rect[0], rect[0]};
    assert_int_equal(vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, tri_closed, 3, 1000, &why),
                     VG_EINVAL);
    assert_int_equal(vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, NULL, 4, 1000, &why), VG_EINVAL);

    /* repeated consecutive vertex */
    struct vg_geo_point dup[5] = {rect[0], rect[1], rect[1], rect[2], rect[3]};
    why = NULL;
    assert_int_equal(vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, dup, 5, 1000, &why), VG_EINVAL);
    assert_non_null(strstr(why, "same point"));

    /* aligned vertices: no area */
    struct vg_geo_point line[3] = {nantes, offset(nantes, 45, 100), offset(nantes, 45, 200)};
    assert_int_equal(vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, line, 3, 1000, &why), VG_EINVAL);

    /* bow tie: edges cross */
    struct vg_geo_point bow[4] = {rect[0], rect[2], rect[1], rect[3]};
    why = NULL;
    assert_int_equal(vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, bow, 4, 1000, &why), VG_EINVAL);
    assert_non_null(strstr(why, "crosses"));

    /* a spike going out and back along the same line */
    struct vg_geo_point tip = offset(rect[2], 90, 100);
    struct vg_geo_point spike[5] = {rect[0], rect[1], rect[2], tip, rect[2]};
    assert_int_equal(vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, spike, 5, 1000, &why), VG_EINVAL);

    /* invalid vertex */
    struct vg_geo_point badv[4] = {rect[0], rect[1], {(double)NAN, 0}, rect[3]};
    assert_int_equal(vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, badv, 4, 1000, &why), VG_EINVAL);

    /* too large a place */
    struct vg_geo_point big[3] = {nantes, offset(nantes, 90, 12000), offset(nantes, 0, 12000)};
    why = NULL;
    assert_int_equal(vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, big, 3, 1000, &why), VG_ERANGE);
    assert_non_null(strstr(why, "5 km"));

    /* too many vertices */
    struct vg_geo_point many[VG_POLYGON_MAX_VERTICES + 1];
    for (int i = 0; i <= VG_POLYGON_MAX_VERTICES; i++)
        many[i] = offset(nantes, 360.0 * i / (VG_POLYGON_MAX_VERTICES + 1), 500);
    assert_int_equal(vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, many,
                                          VG_POLYGON_MAX_VERTICES + 1, 1000, &why),
                     VG_ERANGE);
    assert_int_equal(
        vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, many, VG_POLYGON_MAX_VERTICES, 1000, &why),
        VG_OK);

    /* radius and category */
    assert_int_equal(vg_zone_init_polygon(&z, 1, VG_ZONE_SCHOOL, rect, 4, 500, &why), VG_ERANGE);
    assert_int_equal(vg_zone_init_polygon(&z, 1, 0, rect, 4, 1000, &why), VG_EINVAL);
}

/* Reference distance from p to the geodesic edge a-b: ternary search along
 * the edge with Karney's direct and inverse problems. */
static double edge_distance_ref(struct vg_geo_point p, struct vg_geo_point a, struct vg_geo_point b)
{
    double s12, azi1;
    geod_inverse(&wgs84, a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg, &s12, &azi1, NULL);
    double lo = 0, hi = 1;
    double dlo = 0, dhi = 0;
    for (int i = 0; i < 200; i++) {
        double m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3;
        struct vg_geo_point q1 = offset(a, azi1, m1 * s12), q2 = offset(a, azi1, m2 * s12);
        geod_inverse(&wgs84, p.lat_deg, p.lon_deg, q1.lat_deg, q1.lon_deg, &dlo, NULL, NULL);
        geod_inverse(&wgs84, p.lat_deg, p.lon_deg, q2.lat_deg, q2.lon_deg, &dhi, NULL, NULL);
        if (dlo < dhi)
            hi = m2;
        else
            lo = m1;
    }
    return fmin(dlo, dhi);
}

static double polygon_distance_ref(struct vg_geo_point p, const struct vg_geo_point *v, size_t n)
{
    double best = HUGE_VAL;
    for (size_t i = 0; i < n; i++)
        best = fmin(best, edge_distance_ref(p, v[i], v[(i + 1) % n]));
    return best;
}

/* An L-shaped (concave) place: 800 m x 800 m with the north-east quarter cut out. */
static void l_shape(struct vg_geo_point c, struct vg_geo_point out[6])
{
    struct vg_geo_point sw = offset(offset(c, 180, 400), 270, 400);
    out[0] = sw;
    out[1] = offset(sw, 90, 800);
    out[2] = offset(out[1], 0, 400);
    out[3] = offset(out[2], 270, 400);
    out[4] = offset(out[3], 0, 400);
    out[5] = offset(sw, 0, 800);
}

static void test_polygon_inside(void **state)
{
    (void)state;
    struct vg_geo_point l[6];
    l_shape(nantes, l);
    struct vg_zone z;
    assert_int_equal(vg_zone_init_polygon(&z, 2, VG_ZONE_SCHOOL, l, 6, 1000, NULL), VG_OK);
    /* the south-west quarter is inside, the cut-out north-east quarter is not */
    struct vg_geo_point sw_q = offset(offset(nantes, 180, 200), 270, 200);
    struct vg_geo_point ne_q = offset(offset(nantes, 0, 200), 90, 200);
    assert_true(zone_distance(&z, sw_q) == 0.0);
    assert_near(zone_distance(&z, ne_q), polygon_distance_ref(ne_q, l, 6), 0.001);
    assert_near(zone_distance(&z, ne_q), 200, 0.1); /* about 200 m from the notch's corner */
    /* vertices and edge points are inside (distance 0 within float noise) */
    for (int i = 0; i < 6; i++)
        assert_near(zone_distance(&z, l[i]), 0, 1e-6);
    /* 10 m inside and outside the southern edge */
    struct vg_geo_point south_mid = offset(l[0], 90, 400);
    assert_true(zone_distance(&z, offset(south_mid, 0, 10)) == 0.0);
    assert_near(zone_distance(&z, offset(south_mid, 180, 10)), 10, 0.001);
}

static void test_polygon_distance_against_karney(void **state)
{
    (void)state;
    struct vg_prng rng;
    vg_prng_seed(&rng, 12);
    struct vg_geo_point centres[] = {nantes, {48.8566, 2.3522}, {-21.1151, 55.5364} /* Réunion */,
                                     {4.9224, -52.3135} /* Cayenne */, {64.1466, -21.9426}};
    for (size_t c = 0; c < ARRAY_LEN(centres); c++) {
        struct vg_geo_point l[6];
        l_shape(centres[c], l);
        struct vg_zone z;
        assert_int_equal(vg_zone_init_polygon(&z, 2, VG_ZONE_SCHOOL, l, 6, 2000, NULL), VG_OK);
        for (int i = 0; i < 150; i++) {
            /* points from the boundary out to 25 km, in every direction */
            double az = vg_prng_range(&rng, 0, 360);
            double s = 400 + 25000 * pow(vg_prng_uniform(&rng), 2);
            struct vg_geo_point p = offset(centres[c], az, s);
            double ref = polygon_distance_ref(p, l, 6);
            double got = zone_distance(&z, p);
            if (s > 1200) /* surely outside the 800 m place */
                assert_near(got, ref, 0.005);
            else
                assert_true(got == 0.0 || fabs(got - ref) < 0.005);
        }
    }
}

static void test_polygon_beyond_is_a_lower_bound(void **state)
{
    (void)state;
    struct vg_geo_point l[6];
    l_shape(nantes, l);
    struct vg_zone z;
    assert_int_equal(vg_zone_init_polygon(&z, 2, VG_ZONE_SCHOOL, l, 6, 1000, NULL), VG_OK);
    struct vg_geo_point far = offset(nantes, 33, 30000);
    struct vg_geo_prepared p;
    vg_geo_prepare(&p, far);
    double exact = vg_zone_distance(&z, &p, HUGE_VAL);
    double cheap = vg_zone_distance(&z, &p, 5000);
    assert_true(cheap > 5000);
    assert_true(cheap <= exact + 1e-9);
    /* near: the exact value is returned whatever the bound */
    struct vg_geo_point near = offset(nantes, 33, 3000);
    vg_geo_prepare(&p, near);
    assert_true(vg_zone_distance(&z, &p, 5000) == vg_zone_distance(&z, &p, HUGE_VAL));
}

static void test_polygon_across_antimeridian(void **state)
{
    (void)state;
    struct vg_geo_point fiji = {-17.0, 179.999};
    struct vg_geo_point sq[4] = {offset(fiji, 225, 500), offset(fiji, 135, 500),
                                 offset(fiji, 45, 500), offset(fiji, 315, 500)};
    assert_true(sq[1].lon_deg < 0); /* the square does straddle the antimeridian */
    struct vg_zone z;
    assert_int_equal(vg_zone_init_polygon(&z, 3, VG_ZONE_OTHER, sq, 4, 1000, NULL), VG_OK);
    assert_true(zone_distance(&z, fiji) == 0.0);
    struct vg_geo_point out = offset(fiji, 90, 2000);
    assert_near(zone_distance(&z, out), polygon_distance_ref(out, sq, 4), 0.005);
}

static void test_zone_check_refuses_garbage(void **state)
{
    (void)state;
    struct vg_zone z;
    assert_int_equal(vg_zone_init_circle(&z, 1, VG_ZONE_PROTECTED_HOME, nantes, 2000), VG_OK);
    struct vg_zone bad = z;
    bad.shape = 9;
    assert_int_equal(vg_zone_check(&bad), VG_EINVAL);
    bad = z;
    bad.alert_radius_m = 20000;
    assert_int_equal(vg_zone_check(&bad), VG_ERANGE);
    bad = z;
    bad.centre.lat_rad = (double)NAN;
    assert_int_equal(vg_zone_check(&bad), VG_EINVAL);
    bad = z;
    bad.n_windows = 2; /* windows pointer NULL */
    assert_int_equal(vg_zone_check(&bad), VG_EINVAL);
    bad = z;
    bad.shape = VG_ZONE_POLYGON; /* no vertices */
    assert_int_equal(vg_zone_check(&bad), VG_EINVAL);
    assert_int_equal(vg_zone_check(NULL), VG_EINVAL);
}

static void test_zone_windows(void **state)
{
    (void)state;
    struct vg_zone z;
    assert_int_equal(vg_zone_init_circle(&z, 1, VG_ZONE_SCHOOL, nantes, 1000), VG_OK);
    struct vg_window w[VG_ZONE_MAX_WINDOWS + 1];
    for (size_t i = 0; i < ARRAY_LEN(w); i++)
        assert_int_equal(vg_window_init_weekly(&w[i], VG_DAY_WED, 16 * 60, 16 * 60 + 30), VG_OK);
    assert_int_equal(vg_zone_set_windows(&z, w, 1), VG_OK);
    assert_int_equal(z.n_windows, 1);
    assert_int_equal(vg_zone_check(&z), VG_OK);
    assert_int_equal(vg_zone_set_windows(&z, w, ARRAY_LEN(w)), VG_ERANGE);
    assert_int_equal(vg_zone_set_windows(&z, NULL, 2), VG_EINVAL);
    struct vg_window broken = w[0];
    broken.kind = 77;
    assert_int_equal(vg_zone_set_windows(&z, &broken, 1), VG_EINVAL);
    assert_int_equal(z.n_windows, 1); /* unchanged after a refusal */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_circle_init),
        cmocka_unit_test(test_circle_distance),
        cmocka_unit_test(test_polygon_init_refusals),
        cmocka_unit_test(test_polygon_inside),
        cmocka_unit_test(test_polygon_distance_against_karney),
        cmocka_unit_test(test_polygon_beyond_is_a_lower_bound),
        cmocka_unit_test(test_polygon_across_antimeridian),
        cmocka_unit_test(test_zone_check_refuses_garbage),
        cmocka_unit_test(test_zone_windows),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
