/* Device events as the units experience them: the bracelet's strap and
 * skin sensors, battery drain, SOS and call-back presses, switching off,
 * network outages, and the author leaving his unit behind. */
#include "core/fix.h"
#include "sim_testing.h"

static const char scenario[] =
    "{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 2000},"
    " \"gnss\": {\"outlier_rate_per_h\": 0},"
    " \"areas\": [{\"kind\": \"no_network\", \"center\": [47.25, -1.45], \"radius_m\": 100,"
    "   \"from_s\": 2000}],"
    " \"pairs\": [{"
    "  \"author\": {\"wander_m\": 0, \"places\": {\"home\": [47.2, -1.45],"
    "     \"shop\": {\"near\": \"home\", \"distance_m\": 200, \"bearing_deg\": 0},"
    "     \"field\": [47.25, -1.45]},"
    "   \"trips\": [{\"at_s\": 1600, \"to\": \"shop\", \"mode\": \"walk\"},"
    "              {\"at_s\": 2400, \"to\": \"home\", \"mode\": \"walk\"},"
    "              {\"at_s\": 2800, \"to\": \"field\", \"mode\": \"car\"}],"
    "   \"events\": ["
    "     {\"type\": \"strap_cut\", \"from_s\": 600, \"to_s\": 900},"
    "     {\"type\": \"skin_contact_lost\", \"from_s\": 1000},"
    "     {\"type\": \"battery_drain\", \"from_s\": 300, \"to_s\": 600, \"rate_pct_per_h\": 20},"
    "     {\"type\": \"battery_drain\", \"from_s\": 500, \"rate_pct_per_h\": 10},"
    "     {\"type\": \"unit_left_behind\", \"from_s\": 1500, \"to_s\": 2500},"
    "     {\"type\": \"network_outage\", \"from_s\": 1000, \"to_s\": 1200}]},"
    "  \"protected\": {\"places\": {\"home\": [47.4, -1.45]},"
    "   \"events\": ["
    "     {\"type\": \"sos\", \"at_s\": 900}, {\"type\": \"callback\", \"at_s\": 905},"
    "     {\"type\": \"sos\", \"at_s\": 0},"
    "     {\"type\": \"switched_off\", \"from_s\": 3000, \"to_s\": 3100}]}}]}";

static void test_bracelet_battery_network(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc = must_parse(scenario);
    struct vg_sim_world *w = must_world(sc, 1, WINTER_START_MS);
    size_t in_area_samples = 0;
    for (int t = 0; t < 3600; t += 10) {
        struct vg_sim_sample a, p;
        int64_t at = WINTER_START_MS + (int64_t)t * 1000;
        assert_int_equal(vg_sim_world_sample(w, 0, at, &a), VG_OK);
        assert_int_equal(vg_sim_world_sample(w, 1, at, &p), VG_OK);
        assert_int_equal(a.strap_closed, !(t >= 600 && t < 900));
        assert_int_equal(a.skin_contact, t < 1000);
        double drain = (t >= 300 && t < 600 ? 20.0 : 0.0) + (t >= 500 ? 10.0 : 0.0);
        assert_near(a.battery_drain_per_h, drain, 1e-9);
        assert_near(p.battery_drain_per_h, 0.0, 0.0);
        /* the outage, then the no-network area from 2000 s (he drives into it) */
        bool in_area = dist_m(a.device_lat_deg, a.device_lon_deg, 47.25, -1.45) <= 100.0;
        assert_int_equal(a.network_up, !(t >= 1000 && t < 1200) && !(t >= 2000 && in_area));
        in_area_samples += in_area;
        assert_int_equal(p.network_up, 1);
        assert_int_equal(a.powered, 1);
        assert_int_equal(p.powered, !(t >= 3000 && t < 3100));
        if (!p.powered)
            assert_int_equal(p.fix.quality, VG_FIX_NONE);
        /* the protected unit has no bracelet sensors */
        assert_int_equal(p.strap_closed, -1);
        assert_int_equal(p.skin_contact, -1);
        assert_int_equal(p.bracelet_in_reach, -1);
        assert_int_equal(a.presses, 0);
    }
    assert_true(in_area_samples > 20); /* he parks in the area at 3305 s */
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

/* A press is reported once, by the first sample at or after it. */
static void test_presses(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc = must_parse(scenario);
    struct vg_sim_world *w = must_world(sc, 1, WINTER_START_MS);
    struct vg_sim_sample p;
    unsigned seen_sos = 0, seen_callback = 0;
    for (int t = 0; t < 1000; t += 10) {
        assert_int_equal(vg_sim_world_sample(w, 1, WINTER_START_MS + (int64_t)t * 1000, &p), VG_OK);
        if (t == 0)
            assert_int_equal(p.presses, VG_SIM_PRESS_SOS); /* the press at 0 s */
        else if (t == 900)
            assert_int_equal(p.presses, VG_SIM_PRESS_SOS);
        else if (t == 910)
            assert_int_equal(p.presses, VG_SIM_PRESS_CALLBACK);
        else
            assert_int_equal(p.presses, 0);
        seen_sos += (p.presses & VG_SIM_PRESS_SOS) != 0;
        seen_callback += (p.presses & VG_SIM_PRESS_CALLBACK) != 0;
    }
    assert_int_equal(seen_sos, 2);
    assert_int_equal(seen_callback, 1);
    vg_sim_world_free(w);
    /* sampled rarely, both presses come in the same sample */
    w = must_world(sc, 1, WINTER_START_MS);
    assert_int_equal(vg_sim_world_sample(w, 1, WINTER_START_MS + 60000, &p), VG_OK);
    assert_int_equal(p.presses, VG_SIM_PRESS_SOS);
    assert_int_equal(vg_sim_world_sample(w, 1, WINTER_START_MS + 960000, &p), VG_OK);
    assert_int_equal(p.presses, VG_SIM_PRESS_SOS | VG_SIM_PRESS_CALLBACK);
    assert_int_equal(vg_sim_world_sample(w, 1, WINTER_START_MS + 960000, &p), VG_OK);
    assert_int_equal(p.presses, 0);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

/* From 1500 s to 2500 s his unit lies at home; at 1600 s he walks 200 m to
 * the shop (arriving at 1742.9 s) and back at 2400 s (home at 2542.9 s). */
static void test_unit_left_behind(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc = must_parse(scenario);
    struct vg_sim_world *w = must_world(sc, 1, WINTER_START_MS);
    struct vg_geo_point home;
    assert_int_equal(vg_sim_scenario_place(sc, 0, "home", &home), VG_OK);
    for (int t = 1400; t < 2700; t++) {
        struct vg_sim_sample a;
        assert_int_equal(vg_sim_world_sample(w, 0, WINTER_START_MS + (int64_t)t * 1000, &a), VG_OK);
        double apart = dist_m(a.true_lat_deg, a.true_lon_deg, a.device_lat_deg, a.device_lon_deg);
        if (t >= 1500 && t < 2500) {
            /* the unit stays at home, its receiver there too */
            assert_true(dist_m(a.device_lat_deg, a.device_lon_deg, home.lat_deg, home.lon_deg) <
                        1e-6);
            assert_true(dist_m(a.fix.lat_deg, a.fix.lon_deg, home.lat_deg, home.lon_deg) < 30.0);
            /* the bracelet (on him) is out of reach beyond 15 m */
            assert_int_equal(a.bracelet_in_reach, apart <= 15.0);
        } else {
            assert_true(apart < 1e-9);
            assert_int_equal(a.bracelet_in_reach, 1);
        }
        if (t == 1700)
            assert_near(apart, 140.0, 0.5);
        if (t == 2000)
            assert_near(apart, 200.0, 0.01);
    }
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

/* The modem's network estimate: there only while the receiver has no fix,
 * the unit is on and the network is up; its stated accuracy 200 m to 2 km;
 * the true error within it about 95% of the time, beyond 1.5 times it for
 * the few outliers; the same whatever the sampling. */
static const char net_scenario[] =
    "{\"duration_s\": 40000, \"measure\": {\"alert_radius_m\": 2000},"
    " \"pairs\": [{"
    "  \"author\": {\"wander_m\": 0, \"places\": {\"home\": [47.2, -1.45]},"
    "   \"events\": [{\"type\": \"gnss_hole\", \"from_s\": 600},"
    "     {\"type\": \"network_outage\", \"from_s\": 20000, \"to_s\": 21000},"
    "     {\"type\": \"switched_off\", \"from_s\": 22000, \"to_s\": 23000}]},"
    "  \"protected\": {\"places\": {\"home\": [47.4, -1.45]}}}]}";

static void test_network_estimate(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc = must_parse(net_scenario);
    struct vg_sim_world *w = must_world(sc, 3, WINTER_START_MS);
    struct vg_sim_world *w2 = must_world(sc, 3, WINTER_START_MS);
    size_t n = 0, within = 0, beyond = 0, same = 0;
    for (int t = 0; t < 40000; t += 30) {
        int64_t at = WINTER_START_MS + (int64_t)t * 1000;
        struct vg_sim_sample a, p, b;
        assert_int_equal(vg_sim_world_sample(w, 0, at, &a), VG_OK);
        assert_int_equal(vg_sim_world_sample(w, 1, at, &p), VG_OK);
        assert_int_equal(p.net_fix.quality, p.fix.quality == VG_FIX_NONE && p.network_up
                                                ? VG_FIX_NETWORK
                                                : VG_FIX_NONE);
        bool expect = a.powered && a.network_up && a.fix.quality == VG_FIX_NONE;
        assert_int_equal(a.net_fix.quality, expect ? VG_FIX_NETWORK : VG_FIX_NONE);
        if (t >= 700 && !(t >= 20000 && t < 21000) && !(t >= 22000 && t < 23000))
            assert_true(expect);
        if (!expect)
            continue;
        assert_int_equal(vg_fix_check(&a.net_fix), VG_OK);
        assert_true(a.net_fix.accuracy_m >= 200.0f && a.net_fix.accuracy_m <= 2000.0f);
        assert_true(a.net_fix.speed_mps < 0.0f && a.net_fix.heading_deg < 0.0f);
        double err = dist_m(a.net_fix.lat_deg, a.net_fix.lon_deg, a.device_lat_deg,
                            a.device_lon_deg);
        n++;
        within += err <= (double)a.net_fix.accuracy_m;
        beyond += err > 1.5 * (double)a.net_fix.accuracy_m;
        /* another world, sampled at other times too, agrees */
        if (t % 90 == 0) {
            assert_int_equal(vg_sim_world_sample(w2, 0, at - 7000, &b), VG_OK);
            assert_int_equal(vg_sim_world_sample(w2, 0, at, &b), VG_OK);
            same += b.net_fix.lat_deg == a.net_fix.lat_deg &&
                    b.net_fix.accuracy_m == a.net_fix.accuracy_m;
            assert_int_equal(b.net_fix.lat_deg == a.net_fix.lat_deg, 1);
        }
    }
    assert_true(n > 1000);
    double fw = (double)within / (double)n, fb = (double)beyond / (double)n;
    print_message("network estimates: %zu, %.3f within the stated accuracy, %.3f beyond 1.5x\n",
                  n, fw, fb);
    assert_true(fw >= 0.88 && fw <= 0.99);
    assert_true(fb >= 0.01 && fb <= 0.07);
    assert_true(same > 100);
    vg_sim_world_free(w);
    vg_sim_world_free(w2);
    vg_sim_scenario_free(sc);
}

SIM_TEST_MAIN(cmocka_unit_test(test_bracelet_battery_network), cmocka_unit_test(test_presses),
              cmocka_unit_test(test_unit_left_behind), cmocka_unit_test(test_network_estimate))
