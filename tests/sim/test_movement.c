/* Movement: trips take the time their length and speed say and end where
 * they should; transit stops; people wait between trips; the position is a
 * function of time only. */
#include "sim_testing.h"

#define HOME_LAT 47.2
#define HOME_LON -1.55

static char json_buf[8192];

/* A pair whose author (wander 0 unless said) makes the given trips from
 * home; the protected person lives 20 km away. */
static struct vg_sim_scenario *author_trips(const char *places, const char *trips, double wander)
{
    snprintf(json_buf, sizeof json_buf,
             "{\"duration_s\": 7200, \"measure\": {\"alert_radius_m\": 2000}, \"pairs\": [{"
             "\"author\": {\"wander_m\": %g, \"places\": {\"home\": [%.6f, %.6f]%s}, "
             "\"trips\": [%s]},"
             "\"protected\": {\"places\": {\"home\": [47.38, -1.55]}}}]}",
             wander, HOME_LAT, HOME_LON, places, trips);
    return must_parse(json_buf);
}

static double from_home(const struct vg_sim_scenario *sc, double t)
{
    struct vg_sim_position p = pos_at(sc, 0, t);
    return dist_m(p.lat_deg, p.lon_deg, HOME_LAT, HOME_LON);
}

static double from_point(const struct vg_sim_scenario *sc, double t, struct vg_geo_point q)
{
    struct vg_sim_position p = pos_at(sc, 0, t);
    return dist_m(p.lat_deg, p.lon_deg, q.lat_deg, q.lon_deg);
}

static void test_walk_of_one_kilometre(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc =
        author_trips(", \"dest\": {\"near\": \"home\", \"distance_m\": 1000, \"bearing_deg\": 45}",
                     "{\"at_s\": 100, \"to\": \"dest\", \"mode\": \"walk\"}", 0.0);
    struct vg_geo_point dest;
    assert_int_equal(vg_sim_scenario_place(sc, 0, "dest", &dest), VG_OK);
    const double arrival = 100.0 + 1000.0 / 1.4; /* 814.2857 s: 714 s of walking */
    assert_true(from_home(sc, 0.0) < 1e-6);
    assert_true(from_home(sc, 99.99) < 1e-6);
    assert_near(from_home(sc, 100.0 + 500.0 / 1.4), 500.0, 0.01);
    struct vg_sim_position mid = pos_at(sc, 0, 400.0);
    assert_near(mid.speed_mps, 1.4, 1e-6);
    assert_near(mid.heading_deg, 45.0, 0.05);
    assert_int_equal(mid.underground, 0);
    /* it ends at the destination, at the second the speed says */
    assert_near(from_point(sc, arrival - 1.0, dest), 1.4, 0.01);
    assert_true(from_point(sc, arrival, dest) < 1e-3);
    assert_true(from_point(sc, arrival + 1.0, dest) < 1e-6);
    assert_true(from_point(sc, 7000.0, dest) < 1e-6);
    struct vg_sim_position after = pos_at(sc, 0, 2000.0);
    assert_near(after.speed_mps, 0.0, 0.0);
    assert_near(after.heading_deg, -1.0, 0.0);
    /* the first instant within a millimetre of the destination */
    double t = 800.0;
    while (from_point(sc, t, dest) > 1e-3)
        t += 0.001;
    assert_near(t, arrival, 0.002);
    vg_sim_scenario_free(sc);

    /* a speed of one's own */
    sc = author_trips(", \"dest\": {\"near\": \"home\", \"distance_m\": 1000, \"bearing_deg\": 45}",
                      "{\"at_s\": 100, \"to\": \"dest\", \"mode\": \"walk\", \"speed_mps\": 2}",
                      0.0);
    assert_near(from_point(sc, 599.0, dest), 2.0, 0.01);
    assert_true(from_point(sc, 600.0, dest) < 1e-3);
    vg_sim_scenario_free(sc);
}

/* Stationary stretches (speed 0) in (from, to), found every `step` s. */
struct stops {
    size_t n;
    double start[64], end[64];
    struct vg_sim_position at[64];
};

static void find_stops(const struct vg_sim_scenario *sc, double from, double to, double step,
                       struct stops *out)
{
    memset(out, 0, sizeof *out);
    bool stopped = false;
    for (double t = from + step; t < to; t += step) {
        struct vg_sim_position p = pos_at(sc, 0, t);
        if (p.speed_mps == 0.0 && !stopped) {
            assert_true(out->n < 64);
            out->start[out->n] = t;
            out->at[out->n] = p;
            stopped = true;
        } else if (p.speed_mps != 0.0 && stopped) {
            out->end[out->n++] = t;
            stopped = false;
        }
    }
    if (stopped)
        out->end[out->n++] = to;
}

static void test_transit_stops(void **state)
{
    (void)state;
    /* 5 km by transit: 8 m/s between stops every 500 m, 20 s at each; no
     * stop in the last 250 m (the arrival is one): stops at 500..4500 m */
    struct vg_sim_scenario *sc =
        author_trips(", \"dest\": {\"near\": \"home\", \"distance_m\": 5000, \"bearing_deg\": 0}",
                     "{\"at_s\": 100, \"to\": \"dest\", \"mode\": \"transit\"}", 0.0);
    struct vg_geo_point dest;
    assert_int_equal(vg_sim_scenario_place(sc, 0, "dest", &dest), VG_OK);
    const double arrival = 100.0 + 5000.0 / 8.0 + 9 * 20.0; /* 905 s */
    assert_true(from_point(sc, arrival, dest) < 1e-3);
    assert_near(from_point(sc, arrival - 1.0, dest), 8.0, 0.01);
    struct stops s;
    find_stops(sc, 100.0, arrival, 0.25, &s);
    assert_int_equal(s.n, 9);
    for (size_t k = 0; k < s.n; k++) {
        double at_m = 500.0 * (double)(k + 1);
        /* the stop's place, and its time: k+1 legs of 62.5 s and k stops before it */
        assert_near(dist_m(s.at[k].lat_deg, s.at[k].lon_deg, HOME_LAT, HOME_LON), at_m, 0.01);
        assert_near(s.start[k], 100.0 + at_m / 8.0 + 20.0 * (double)k, 0.25);
        assert_near(s.end[k] - s.start[k], 20.0, 0.25);
    }
    vg_sim_scenario_free(sc);

    /* stops can be switched off, or spaced otherwise */
    sc = author_trips(", \"dest\": {\"near\": \"home\", \"distance_m\": 5000, \"bearing_deg\": 0}",
                      "{\"at_s\": 100, \"to\": \"dest\", \"mode\": \"transit\", "
                      "\"stop_every_m\": 0}",
                      0.0);
    assert_true(from_point(sc, 100.0 + 625.0, dest) < 1e-3);
    vg_sim_scenario_free(sc);
    sc = author_trips(", \"dest\": {\"near\": \"home\", \"distance_m\": 5000, \"bearing_deg\": 0}",
                      "{\"at_s\": 100, \"to\": \"dest\", \"mode\": \"bike\", "
                      "\"stop_every_m\": 1500, \"stop_s\": 30}",
                      0.0);
    find_stops(sc, 100.0, 2000.0, 0.25, &s);
    assert_int_equal(s.n, 3); /* at 1500 m, 3000 m (4500 is within the last 750 m), arrival */
    assert_near(s.start[0], 100.0 + 1500.0 / 4.5, 0.25);
    assert_near(s.start[1], 100.0 + 3000.0 / 4.5 + 30.0, 0.25);
    assert_near(s.start[2], 100.0 + 5000.0 / 4.5 + 60.0, 0.25);
    vg_sim_scenario_free(sc);
}

static void test_metro_is_underground(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc =
        author_trips(", \"dest\": {\"near\": \"home\", \"distance_m\": 3000, \"bearing_deg\": 180}",
                     "{\"at_s\": 100, \"to\": \"dest\", \"mode\": \"metro\"}", 0.0);
    /* 10 m/s, stops at 900, 1800 m (2700 is within the last 450 m), 25 s */
    const double arrival = 100.0 + 300.0 + 2 * 25.0;
    assert_int_equal(pos_at(sc, 0, 99.0).underground, 0);
    assert_int_equal(pos_at(sc, 0, 101.0).underground, 1);
    assert_int_equal(pos_at(sc, 0, 100.0 + 90.0 + 5.0).underground, 1); /* at the first stop */
    assert_int_equal(pos_at(sc, 0, arrival - 1.0).underground, 1);
    assert_int_equal(pos_at(sc, 0, arrival + 1.0).underground, 0);
    vg_sim_scenario_free(sc);
}

static void test_waiting_between_trips(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc =
        author_trips(", \"work\": {\"near\": \"home\", \"distance_m\": 700, \"bearing_deg\": 270}",
                     "{\"at_s\": 100, \"to\": \"work\", \"mode\": \"walk\"},"
                     "{\"after_s\": 600, \"to\": \"home\", \"mode\": \"walk\"}",
                     5.0);
    struct vg_geo_point work;
    assert_int_equal(vg_sim_scenario_place(sc, 0, "work", &work), VG_OK);
    /* arrives at 600 s, leaves at 1200 s, home at 1700 s; the wander has
     * faded out at both ends of the stay */
    assert_true(from_point(sc, 600.0, work) < 1e-3);
    assert_true(from_point(sc, 1200.0, work) < 1e-3);
    assert_true(from_home(sc, 1700.0) < 1e-3);
    assert_near(from_point(sc, 1201.0, work), 1.4, 0.01);
    double widest = 0.0;
    for (double t = 600.0; t < 1200.0; t += 1.0) {
        double d = from_point(sc, t, work);
        struct vg_sim_position p = pos_at(sc, 0, t);
        assert_near(p.speed_mps, 0.0, 0.0);
        assert_true(d <= 5.0 * sqrt(2.0) + 1e-6);
        widest = fmax(widest, d);
    }
    assert_true(widest > 0.5); /* someone at work moves about a little */
    /* continuous everywhere: no jump at a departure or an arrival */
    struct vg_sim_position prev = pos_at(sc, 0, 0.0);
    for (double t = 0.1; t < 2000.0; t += 0.1) {
        struct vg_sim_position p = pos_at(sc, 0, t);
        assert_true(dist_m(prev.lat_deg, prev.lon_deg, p.lat_deg, p.lon_deg) < 0.2);
        prev = p;
    }
    vg_sim_scenario_free(sc);
}

static void test_waypoints(void **state)
{
    (void)state;
    struct vg_geo_point wp = dest(HOME_LAT, HOME_LON, 0.0, 3000.0);
    char places[512], trips[512];
    snprintf(places, sizeof places,
             ", \"dest\": {\"near\": \"home\", \"distance_m\": 4000, \"bearing_deg\": 90}");
    snprintf(trips, sizeof trips,
             "{\"at_s\": 100, \"via\": [[%.9f, %.9f]], \"to\": \"dest\", \"mode\": \"car\"}",
             wp.lat_deg, wp.lon_deg);
    struct vg_sim_scenario *sc = author_trips(places, trips, 0.0);
    struct vg_geo_point d;
    assert_int_equal(vg_sim_scenario_place(sc, 0, "dest", &d), VG_OK);
    double leg2 = dist_m(wp.lat_deg, wp.lon_deg, d.lat_deg, d.lon_deg);
    assert_true(from_point(sc, 100.0 + 3000.0 / 11.0, wp) < 1e-3);
    assert_true(from_point(sc, 100.0 + (3000.0 + leg2) / 11.0, d) < 1e-3);
    /* on the first leg it heads north, on the second south-east */
    assert_true(pos_at(sc, 0, 150.0).heading_deg < 1.0 || pos_at(sc, 0, 150.0).heading_deg > 359.0);
    assert_near(pos_at(sc, 0, 100.0 + 3000.0 / 11.0 + 100.0).heading_deg, 126.9, 1.0);
    vg_sim_scenario_free(sc);
}

/* The world's sampling (a cursor per unit, increasing times) and the
 * scenario's position (a fresh search each time, any order) agree bit for
 * bit: movement is a function of time alone. */
static void test_position_is_a_function_of_time(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc =
        author_trips(", \"work\": {\"near\": \"home\", \"distance_m\": 6000, \"bearing_deg\": 30}",
                     "{\"at_s\": 100, \"to\": \"work\", \"mode\": \"transit\"},"
                     "{\"after_s\": 300, \"to\": \"home\", \"mode\": \"bike\"}",
                     4.0);
    struct vg_sim_world *w = must_world(sc, 1, WINTER_START_MS);
    for (int64_t t = 0; t < 4000000; t += 1700) {
        struct vg_sim_sample s;
        assert_int_equal(vg_sim_world_sample(w, 0, WINTER_START_MS + t, &s), VG_OK);
        struct vg_sim_position p = pos_at(sc, 0, (double)t / 1000.0);
        assert_true(s.true_lat_deg == p.lat_deg && s.true_lon_deg == p.lon_deg);
    }
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

SIM_TEST_MAIN(cmocka_unit_test(test_walk_of_one_kilometre), cmocka_unit_test(test_transit_stops),
              cmocka_unit_test(test_metro_is_underground),
              cmocka_unit_test(test_waiting_between_trips), cmocka_unit_test(test_waypoints),
              cmocka_unit_test(test_position_is_a_function_of_time))
