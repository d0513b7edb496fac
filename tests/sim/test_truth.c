/* Ground truth: a scripted approach across 2R and R gives its crossings at
 * the seconds the geometry says, split where a window authorises presence;
 * the beacon's range; the truth file is the same byte for byte for the same
 * scenario, whatever the run's seed, and every line of it is JSON. */
#include <jansson.h>
#include <unistd.h>

#include "sim_testing.h"

/* She stays at home; he lives 5 km east of her home and walks at 1.3 m/s,
 * from 100 s, to a corner 500 m east of it, waits, and from 4000 s walks
 * back. R = 1 km; her home is also a fixed zone, authorised from 3600 s to
 * 4200 s of the run (09:00-09:10 local on 4 March 2026). */
static const char approach[] =
    "{\"name\": \"scripted \\\"approach\\\"\", \"duration_s\": 7200,"
    " \"measure\": {\"alert_radius_m\": 1000, \"zones\": [{\"id\": 7, \"category\": "
    "  \"protected_home\", \"center\": \"protected.home\", \"windows\": [{\"from_s\": 3600, "
    "  \"to_s\": 4200}]}]},"
    " \"pairs\": [{\"name\": \"scripted\","
    "  \"protected\": {\"wander_m\": 0, \"places\": {\"home\": [47.2184, -1.5536]}},"
    "  \"author\": {\"wander_m\": 0, \"places\": {"
    "    \"home\": {\"near\": \"protected.home\", \"distance_m\": 5000, \"bearing_deg\": 90},"
    "    \"corner\": {\"near\": \"protected.home\", \"distance_m\": 500, \"bearing_deg\": 90}},"
    "   \"trips\": [{\"at_s\": 100, \"to\": \"corner\", \"mode\": \"walk\", \"speed_mps\": 1.3},"
    "              {\"at_s\": 4000, \"to\": \"home\", \"mode\": \"walk\", \"speed_mps\": 1.3}]}}]}";

struct expected {
    int16_t zone_index;
    uint8_t kind;
    int64_t from_s, to_s;
    uint8_t authorised;
};

static void test_scripted_approach(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc = must_parse(approach);
    struct vg_sim_world *w = must_world(sc, 1, WINTER_START_MS);
    struct vg_sim_truth t = {0};
    char err[256];
    assert_int_equal(vg_sim_world_truth(w, &t, err, sizeof err), VG_OK);
    /* By hand: on the way in he is 5000 - 1.3 (t - 100) m from her.
     *   2R = 2000 m at t = 100 + 3000 / 1.3 = 2407.7 s: first second inside 2408;
     *   R = 1000 m at t = 100 + 4000 / 1.3 = 3176.9 s: 3177.
     * On the way out, 500 + 1.3 (t - 4000) m:
     *   R at 4000 + 500 / 1.3 = 4384.6 s: last second inside 4384, out at 4385;
     *   2R at 4000 + 1500 / 1.3 = 5153.8 s: out at 5154.
     * The window [3600, 4200) authorises the fixed zone, and the mobile zone
     * too since she is inside the zone's alert ring. Her home is the fixed
     * zone's centre: zone 1 and the mobile zone cross at the same seconds. */
    const struct expected want[] = {
        {0, VG_SIM_TRUTH_PREALERT, 2408, 3600, 0}, {1, VG_SIM_TRUTH_PREALERT, 2408, 3600, 0},
        {0, VG_SIM_TRUTH_ALERT, 3177, 3600, 0},    {1, VG_SIM_TRUTH_ALERT, 3177, 3600, 0},
        {0, VG_SIM_TRUTH_PREALERT, 3600, 4200, 1}, {0, VG_SIM_TRUTH_ALERT, 3600, 4200, 1},
        {1, VG_SIM_TRUTH_PREALERT, 3600, 4200, 1}, {1, VG_SIM_TRUTH_ALERT, 3600, 4200, 1},
        {0, VG_SIM_TRUTH_PREALERT, 4200, 5154, 0}, {0, VG_SIM_TRUTH_ALERT, 4200, 4385, 0},
        {1, VG_SIM_TRUTH_PREALERT, 4200, 5154, 0}, {1, VG_SIM_TRUTH_ALERT, 4200, 4385, 0},
    };
    assert_int_equal(t.n, ARRAY_LEN(want));
    for (size_t i = 0; i < t.n; i++) {
        const struct vg_sim_interval *iv = &t.intervals[i];
        if (iv->zone_index != want[i].zone_index || iv->kind != want[i].kind ||
            iv->from_s != want[i].from_s || iv->to_s != want[i].to_s ||
            iv->authorised != want[i].authorised)
            fail_msg("interval %zu: zone %d kind %u [%lld, %lld) authorised %u; expected zone %d "
                     "kind %u [%lld, %lld) authorised %u",
                     i, iv->zone_index, iv->kind, (long long)iv->from_s, (long long)iv->to_s,
                     iv->authorised, want[i].zone_index, want[i].kind, (long long)want[i].from_s,
                     (long long)want[i].to_s, want[i].authorised);
        assert_int_equal(iv->pair, 0);
        assert_int_equal(iv->zone_id, iv->zone_index == 1 ? 7 : 0);
        assert_int_equal(iv->open_at_end, 0);
        /* the closest: 500 m at the corner; after the window he has been
         * walking away for 200 s: 500 + 1.3 x 200 = 760 m */
        assert_near(iv->min_distance_m, iv->from_s == 4200 ? 760.0 : 500.0, 0.01);
    }
    /* the geometry itself, either side of each crossing */
    struct vg_geo_point her;
    assert_int_equal(vg_sim_scenario_place(sc, 1, "home", &her), VG_OK);
    const struct {
        double t, d;
    } checks[] = {{2407, 2000.9}, {2408, 1999.6}, {3176, 1001.2}, {3177, 999.9},
                  {4384, 999.2},  {4385, 1000.5}, {5153, 1998.9}, {5154, 2000.2}};
    for (size_t i = 0; i < ARRAY_LEN(checks); i++) {
        struct vg_sim_position p = pos_at(sc, 0, checks[i].t);
        assert_near(dist_m(p.lat_deg, p.lon_deg, her.lat_deg, her.lon_deg), checks[i].d, 0.05);
    }
    vg_sim_truth_free(&t);
    vg_sim_truth_free(NULL);
    assert_int_equal(vg_sim_world_truth_pair(w, 1, &t, err, sizeof err), VG_EINVAL);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

/* He walks to 30 m of her, stays, and leaves: the beacon (50 m) is in range
 * from 100 + 950 / 1.4 = 778.6 s (779) until 1200 + 20 / 1.4 = 1214.3 s
 * (out at 1215). Her unit hears it, with a noisy range, mostly then. */
static void test_beacon(void **state)
{
    (void)state;
    const char *json =
        "{\"duration_s\": 2000, \"measure\": {\"alert_radius_m\": 1000},"
        " \"pairs\": [{"
        "  \"protected\": {\"wander_m\": 0, \"places\": {\"home\": [47.2184, -1.5536]}},"
        "  \"author\": {\"wander_m\": 0, \"places\": {"
        "    \"home\": {\"near\": \"protected.home\", \"distance_m\": 1000, \"bearing_deg\": 0},"
        "    \"door\": {\"near\": \"protected.home\", \"distance_m\": 30, \"bearing_deg\": 0}},"
        "   \"trips\": [{\"at_s\": 100, \"to\": \"door\", \"mode\": \"walk\"},"
        "              {\"at_s\": 1200, \"to\": \"home\", \"mode\": \"walk\"}]}}]}";
    struct vg_sim_scenario *sc = must_parse(json);
    struct vg_sim_world *w = must_world(sc, 1, WINTER_START_MS);
    struct vg_sim_truth t = {0};
    char err[256];
    assert_int_equal(vg_sim_world_truth_pair(w, 0, &t, err, sizeof err), VG_OK);
    const struct vg_sim_interval *beacon = NULL;
    for (size_t i = 0; i < t.n; i++)
        if (t.intervals[i].kind == VG_SIM_TRUTH_BEACON) {
            assert_null(beacon);
            beacon = &t.intervals[i];
        }
    assert_non_null(beacon);
    assert_int_equal(beacon->zone_index, -1);
    assert_int_equal(beacon->from_s, 779);
    assert_int_equal(beacon->to_s, 1215);
    assert_near(beacon->min_distance_m, 30.0, 0.01);
    /* he lives 1 km from her: within 2R from the start */
    assert_int_equal(t.intervals[0].kind, VG_SIM_TRUTH_PREALERT);
    assert_int_equal(t.intervals[0].from_s, 0);
    vg_sim_truth_free(&t);

    size_t heard_near = 0, samples_near = 0, heard_far = 0;
    for (int s = 0; s < 2000; s++) {
        struct vg_sim_sample a, p;
        int64_t at = WINTER_START_MS + (int64_t)s * 1000;
        assert_int_equal(vg_sim_world_sample(w, 0, at, &a), VG_OK);
        assert_int_equal(vg_sim_world_sample(w, 1, at, &p), VG_OK);
        assert_near(a.beacon_range_m, -1.0, 0.0);
        double d = dist_m(a.true_lat_deg, a.true_lon_deg, p.true_lat_deg, p.true_lon_deg);
        if (s >= 800 && s < 1200) { /* at the door, 30 m away */
            samples_near++;
            if (p.beacon_range_m >= 0.0) {
                heard_near++;
                assert_true(p.beacon_range_m > 5.0 && p.beacon_range_m <= 50.0);
            }
        } else if (d > 200.0) {
            heard_far += p.beacon_range_m >= 0.0;
        }
    }
    /* P(30 m x exp(0.35 z) <= 50 m) = 0.93, and 5% misses: 0.88 */
    double share = (double)heard_near / (double)samples_near;
    print_message("  beacon heard %.2f of the time at 30 m\n", share);
    assert_near(share, 0.88, 0.06);
    assert_int_equal(heard_far, 0);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

/* Still inside at the end of the run: the interval says so. */
static void test_open_at_end(void **state)
{
    (void)state;
    const char *json =
        "{\"duration_s\": 600.5, \"measure\": {\"alert_radius_m\": 1000},"
        " \"pairs\": [{\"protected\": {\"places\": {\"home\": [47.2184, -1.5536]}},"
        "  \"author\": {\"places\": {\"home\": {\"near\": \"protected.home\", \"distance_m\": "
        "   1500, \"bearing_deg\": 200}}}}]}";
    struct vg_sim_scenario *sc = must_parse(json);
    struct vg_sim_world *w = must_world(sc, 1, WINTER_START_MS);
    struct vg_sim_truth t = {0};
    char err[256];
    assert_int_equal(vg_sim_world_truth(w, &t, err, sizeof err), VG_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.intervals[0].kind, VG_SIM_TRUTH_PREALERT);
    assert_int_equal(t.intervals[0].from_s, 0);
    assert_int_equal(t.intervals[0].to_s, 601); /* seconds 0..600 are in the run */
    assert_int_equal(t.intervals[0].open_at_end, 1);
    vg_sim_truth_free(&t);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void test_truth_file(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc = must_parse(approach);
    char path_a[] = "/tmp/vigie-truth-a-XXXXXX", path_b[] = "/tmp/vigie-truth-b-XXXXXX";
    char path_c[] = "/tmp/vigie-truth-c-XXXXXX";
    close(mkstemp(path_a));
    close(mkstemp(path_b));
    close(mkstemp(path_c));
    char err[256];
    struct vg_sim_world *a = must_world(sc, 1, WINTER_START_MS);
    struct vg_sim_world *b = must_world(sc, 1, WINTER_START_MS);
    struct vg_sim_world *c = must_world(sc, 99, WINTER_START_MS);
    /* b has been sampled: the truth does not depend on sampling */
    struct vg_sim_sample s;
    for (int64_t t = 0; t < 3600000; t += 5000)
        assert_int_equal(vg_sim_world_sample(b, 0, WINTER_START_MS + t, &s), VG_OK);
    assert_int_equal(vg_sim_world_write_truth(a, path_a, 60, err, sizeof err), VG_OK);
    assert_int_equal(vg_sim_world_write_truth(b, path_b, 60, err, sizeof err), VG_OK);
    assert_int_equal(vg_sim_world_write_truth(c, path_c, 60, err, sizeof err), VG_OK);
    size_t la, lb, lc;
    char *fa = slurp(path_a, &la), *fb = slurp(path_b, &lb), *fc = slurp(path_c, &lc);
    assert_int_equal(la, lb);
    assert_memory_equal(fa, fb, la);
    assert_int_equal(la, lc); /* another seed: other noise, the same movement */
    assert_memory_equal(fa, fc, la);

    /* every line is JSON; count them by type and check a few values */
    size_t runs = 0, pairs = 0, positions = 0, intervals = 0;
    struct vg_sim_truth t = {0};
    assert_int_equal(vg_sim_world_truth(a, &t, err, sizeof err), VG_OK);
    for (char *line = strtok(fa, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &je);
        if (!j)
            fail_msg("not JSON: %s (%s)", line, je.text);
        const char *type = json_string_value(json_object_get(j, "type"));
        assert_non_null(type);
        if (strcmp(type, "run") == 0) {
            runs++;
            assert_string_equal(json_string_value(json_object_get(j, "scenario")),
                                "scripted \"approach\"");
            assert_int_equal(json_integer_value(json_object_get(j, "start_utc_ms")),
                             WINTER_START_MS);
            assert_string_equal(json_string_value(json_object_get(j, "timezone")), "Europe/Paris");
        } else if (strcmp(type, "pair") == 0) {
            pairs++;
            assert_string_equal(json_string_value(json_object_get(j, "name")), "scripted");
            json_t *z = json_array_get(json_object_get(j, "zones"), 0);
            assert_int_equal(json_integer_value(json_object_get(z, "id")), 7);
        } else if (strcmp(type, "position") == 0) {
            json_int_t ts = json_integer_value(json_object_get(j, "t_s"));
            assert_int_equal(ts, (json_int_t)positions * 60);
            double d = json_real_value(json_object_get(j, "distance_m"));
            struct vg_sim_position p = pos_at(sc, 0, (double)ts), q = pos_at(sc, 1, (double)ts);
            assert_near(d, dist_m(p.lat_deg, p.lon_deg, q.lat_deg, q.lon_deg), 0.06);
            assert_int_equal(json_integer_value(json_object_get(j, "utc_ms")),
                             WINTER_START_MS + ts * 1000);
            positions++;
        } else {
            assert_string_equal(type, "interval");
            assert_true(intervals < t.n);
            const struct vg_sim_interval *iv = &t.intervals[intervals++];
            assert_int_equal(json_integer_value(json_object_get(j, "from_s")), iv->from_s);
            assert_int_equal(json_integer_value(json_object_get(j, "to_s")), iv->to_s);
            assert_int_equal(json_integer_value(json_object_get(j, "from_utc_ms")),
                             WINTER_START_MS + iv->from_s * 1000);
            assert_int_equal(json_integer_value(json_object_get(j, "zone_index")), iv->zone_index);
            assert_int_equal(json_is_true(json_object_get(j, "authorised")), iv->authorised);
            assert_string_equal(json_string_value(json_object_get(j, "kind")),
                                iv->kind == VG_SIM_TRUTH_ALERT ? "alert" : "prealert");
        }
        json_decref(j);
    }
    assert_int_equal(runs, 1);
    assert_int_equal(pairs, 1);
    assert_int_equal(positions, 7200 / 60);
    assert_int_equal(intervals, t.n);
    vg_sim_truth_free(&t);
    free(fa);
    free(fb);
    free(fc);

    /* without positions, and into a directory that does not exist */
    assert_int_equal(vg_sim_world_write_truth(a, path_a, 0, err, sizeof err), VG_OK);
    fa = slurp(path_a, &la);
    assert_null(strstr(fa, "\"position\""));
    free(fa);
    assert_true(vg_sim_world_write_truth(a, "/nonexistent/truth.jsonl", 60, err, sizeof err) < 0);
    unlink(path_a);
    unlink(path_b);
    unlink(path_c);
    vg_sim_world_free(a);
    vg_sim_world_free(b);
    vg_sim_world_free(c);
    vg_sim_scenario_free(sc);
}

SIM_TEST_MAIN(cmocka_unit_test(test_scripted_approach), cmocka_unit_test(test_beacon),
              cmocka_unit_test(test_open_at_end), cmocka_unit_test(test_truth_file))
