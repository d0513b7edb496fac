/* Scenario files: every refusal names its path; communes and relative
 * places resolve where they should, the same way for the same seed. */
#include <fcntl.h>
#include <unistd.h>

#include "sim_testing.h"

#define HEAD     "{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 2000}, "
#define P_HOME   "{\"places\": {\"home\": [47.2184, -1.5536]}}"
#define A_HOME   "{\"places\": {\"home\": [47.25, -1.45]}}"
#define ONE_PAIR "\"pairs\": [{\"author\": " A_HOME ", \"protected\": " P_HOME "}]"
#define PAIR(author, protected)                                                                    \
    "\"pairs\": [{\"author\": " author ", \"protected\": " protected "}]"

static void test_minimal(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc = must_parse(HEAD ONE_PAIR "}");
    assert_int_equal(vg_sim_scenario_pairs(sc), 1);
    assert_int_equal(vg_sim_scenario_duration_ms(sc), 3600000);
    assert_int_equal(vg_sim_scenario_start_utc_ms(sc), -1);
    assert_string_equal(vg_sim_scenario_pair_name(sc, 0), "pair-0");
    assert_null(vg_sim_scenario_pair_name(sc, 1));
    struct vg_geo_point home;
    assert_int_equal(vg_sim_scenario_place(sc, 1, "home", &home), VG_OK);
    assert_near(home.lat_deg, 47.2184, 1e-12);
    assert_near(home.lon_deg, -1.5536, 1e-12);
    assert_int_equal(vg_sim_scenario_place(sc, 0, "work", &home), VG_ENOTFOUND);
    assert_int_equal(vg_sim_scenario_place(sc, 2, "home", &home), VG_EINVAL);
    struct vg_sim_position p;
    assert_int_equal(vg_sim_scenario_position(sc, 2, 0.0, &p), VG_EINVAL);
    assert_int_equal(vg_sim_scenario_position(sc, 0, (double)NAN, &p), VG_EINVAL);
    vg_sim_scenario_free(sc);

    sc = must_parse("{\"duration_s\": 60, \"start_utc\": \"2026-03-04T07:00:00Z\", "
                    "\"measure\": {\"alert_radius_m\": 2000}, " ONE_PAIR "}");
    assert_int_equal(vg_sim_scenario_start_utc_ms(sc), WINTER_START_MS);
    vg_sim_scenario_free(sc);
    vg_sim_scenario_free(NULL);
}

/* Every refusal, with the path it must name. */
static const struct {
    const char *json;
    const char *message;
} refusals[] = {
    {HEAD ONE_PAIR ", \"bogus\": 1}", "scenario: unknown key \"bogus\""},
    {HEAD ONE_PAIR ", \"expect\": []}", "expect: must be an object"},
    {"{\"measure\": {\"alert_radius_m\": 2000}, " ONE_PAIR "}", "duration_s: is required"},
    {"{\"duration_s\": -5, " ONE_PAIR "}", "duration_s: the run's length in seconds, 1..31622400"},
    {"{\"duration_s\": \"1h\", " ONE_PAIR "}", "duration_s: the run's length in seconds"},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45], \"work\": [47.26, -1.46]}, \"trips\": ["
               "{\"at_s\": 10, \"to\": \"work\", \"mode\": \"walk\"},"
               "{\"after_s\": 10, \"to\": \"home\", \"mode\": \"car\"},"
               "{\"after_s\": 10, \"to\": \"work\", \"mode\": \"boat\"}]}",
               P_HOME) "}",
     "pairs[0].author.trips[2].mode: unknown mode \"boat\" (walk, bike, car, transit, metro)"},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45]}, \"trips\": [{\"at_s\": 10, "
               "\"to\": \"protected.home\", \"mode\": 3}]}",
               P_HOME) "}",
     "pairs[0].author.trips[0].mode: a mode is walk, bike, car, transit or metro"},
    {HEAD PAIR("{\"places\": {\"home\": [95, 0]}}", P_HOME) "}",
     "pairs[0].author.places.home: [95, 0] is not a position"},
    {HEAD PAIR("{\"places\": {\"home\": [47.2]}}", P_HOME) "}",
     "pairs[0].author.places.home: a point is [latitude, longitude]"},
    {HEAD PAIR("{\"places\": {\"Home\": [47.25, -1.45]}}", P_HOME) "}",
     "pairs[0].author.places.Home: a place name is 1 to 31 of a-z, 0-9 and _"},
    {HEAD PAIR("{\"places\": {}}", P_HOME) "}", "pairs[0].author.places: an object of 1 to 16"},
    {HEAD PAIR(A_HOME, "{\"places\": {\"home\": {\"commune\": \"Nantess\"}}}") "}",
     "pairs[0].protected.places.home.commune: unknown commune \"Nantess\""},
    {HEAD PAIR(A_HOME, "{\"places\": {\"home\": {\"town\": \"Nantes\"}}}") "}",
     "pairs[0].protected.places.home: unknown key \"town\""},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45], \"cafe\": {\"near\": "
               "\"protected.school\", \"distance_m\": 100, \"bearing_deg\": 0}}}",
               P_HOME) "}",
     "pairs[0].author.places.cafe.near: there is no place \"protected.school\""},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45], \"cafe\": {\"near\": "
               "\"protected.home\", \"bearing_deg\": 0}}}",
               P_HOME) "}",
     "pairs[0].author.places.cafe.distance_m: is required"},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45], \"a\": {\"near\": \"b\", "
               "\"distance_m\": 10, \"bearing_deg\": 0}, \"b\": {\"near\": \"a\", "
               "\"distance_m\": 10, \"bearing_deg\": 0}}}",
               P_HOME) "}",
     "places are defined near each other in a circle"},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45], \"work\": [47.26, -1.45]}, \"trips\": ["
               "{\"at_s\": 100, \"to\": \"work\", \"mode\": \"walk\"},"
               "{\"at_s\": 200, \"to\": \"home\", \"mode\": \"walk\"}]}",
               P_HOME) "}",
     "pairs[0].author.trips[1].at_s: departs at 200 s, before the previous trip arrives"},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45]}, \"trips\": [{\"at_s\": 1, \"after_s\": "
               "1, \"to\": \"protected.home\", \"mode\": \"walk\"}]}",
               P_HOME) "}",
     "pairs[0].author.trips[0]: a trip starts at \"at_s\""},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45]}, \"trips\": [{\"at_s\": 1, "
               "\"mode\": \"walk\"}]}",
               P_HOME) "}",
     "pairs[0].author.trips[0].to: is required"},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45]}, \"trips\": [{\"at_s\": 1, \"to\": "
               "\"gym\", \"mode\": \"walk\"}]}",
               P_HOME) "}",
     "pairs[0].author.trips[0].to: there is no place \"author.gym\""},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45]}, \"trips\": [{\"at_s\": 1, \"to\": "
               "\"protected.home\", \"via\": [[47.3, -1.5], \"x.y\"], \"mode\": \"walk\"}]}",
               P_HOME) "}",
     "pairs[0].author.trips[0].via[1]: a place is named like"},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45]}, \"trips\": [{\"at_s\": 1, \"to\": "
               "\"protected.home\", \"mode\": \"walk\", \"speed_mps\": 0}]}",
               P_HOME) "}",
     "pairs[0].author.trips[0].speed_mps: 0 is outside 0.1..100"},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45]}, \"events\": [{\"type\": \"sos\", "
               "\"at_s\": 5}]}",
               P_HOME) "}",
     "pairs[0].author.events[0].type: \"sos\" is a protected person's event"},
    {HEAD PAIR(A_HOME, "{\"places\": {\"home\": [47.2184, -1.5536]}, \"events\": [{\"type\": "
                       "\"strap_cut\", \"from_s\": 5}]}") "}",
     "pairs[0].protected.events[0].type: \"strap_cut\" is an author's event"},
    {HEAD PAIR(A_HOME, "{\"places\": {\"home\": [47.2184, -1.5536]}, \"events\": [{\"type\": "
                       "\"fire\", \"from_s\": 5}]}") "}",
     "pairs[0].protected.events[0].type: sos, callback"},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45]}, \"events\": [{\"type\": "
               "\"network_outage\", \"from_s\": 500, \"to_s\": 400}]}",
               P_HOME) "}",
     "pairs[0].author.events[0].to_s: ends before it starts"},
    {HEAD PAIR(A_HOME, "{\"places\": {\"home\": [47.2184, -1.5536]}, \"events\": [{\"type\": "
                       "\"sos\", \"at_s\": 5000}]}") "}",
     "pairs[0].protected.events[0].at_s: 5000 s is outside the run (0..3600 s)"},
    {HEAD PAIR(A_HOME, "{\"places\": {\"home\": [47.2184, -1.5536]}, \"events\": [{\"type\": "
                       "\"sos\", \"from_s\": 50}]}") "}",
     "pairs[0].protected.events[0]: unknown key \"from_s\""},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45]}, \"events\": [{\"type\": "
               "\"battery_drain\", \"from_s\": 5}]}",
               P_HOME) "}",
     "pairs[0].author.events[0].rate_pct_per_h: is required"},
    {"{\"duration_s\": 3600, " ONE_PAIR "}", "pairs[0].measure: is required"},
    {"{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 500}, " ONE_PAIR "}",
     "measure.alert_radius_m: 500 is outside 1000..10000"},
    {"{\"duration_s\": 3600, \"pairs\": [{\"author\": " A_HOME ", \"protected\": " P_HOME
     ", \"measure\": {\"alert_radius_m\": 2000, \"zones\": [{\"category\": \"pub\", "
     "\"center\": [47.2, -1.5]}]}}]}",
     "pairs[0].measure.zones[0].category: protected_home, protected_workplace"},
    {"{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 2000, \"zones\": [{\"category\": "
     "\"school\", \"center\": [47.2, -1.5], \"vertices\": [[47.2, -1.5], [47.21, -1.5], "
     "[47.2, -1.51]]}]}, " ONE_PAIR "}",
     "measure.zones[0]: a zone has a \"center\""},
    {"{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 2000, \"zones\": ["
     "{\"id\": 1, \"category\": \"school\", \"center\": [47.2, -1.5]},"
     "{\"id\": 1, \"category\": \"other\", \"center\": [47.3, -1.5]}]}, " ONE_PAIR "}",
     "measure.zones[1].id: zone id 1 is used twice"},
    {"{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 2000, \"zones\": [{\"category\": "
     "\"school\", \"center\": [47.2, -1.5], \"windows\": [{\"from_s\": 100, \"to_s\": "
     "200}]}]}, " ONE_PAIR "}",
     "measure.zones[0].windows[0]: a window lasts at least 180 s"},
    {"{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 2000, \"zones\": [{\"category\": "
     "\"school\", \"center\": [47.2, -1.5], \"windows\": [{\"from_s\": 100, \"to_s\": "
     "9000}]}]}, " ONE_PAIR "}",
     "measure.zones[0].windows[0].to_s: 9000 s is outside the run"},
    {"{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 2000, \"zones\": [{\"category\": "
     "\"school\", \"center\": [47.2, -1.5], \"windows\": [{\"days\": [\"wednesday\"], "
     "\"start\": \"16:00\", \"end\": \"16:30\"}]}]}, " ONE_PAIR "}",
     "measure.zones[0].windows[0].days[0]: days are mon, tue"},
    {"{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 2000, \"zones\": [{\"category\": "
     "\"school\", \"center\": [47.2, -1.5], \"windows\": [{\"days\": [\"wed\"], "
     "\"start\": \"16h00\", \"end\": \"16:30\"}]}]}, " ONE_PAIR "}",
     "measure.zones[0].windows[0].start: a local time \"HH:MM\""},
    {"{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 2000, \"zones\": [{\"category\": "
     "\"school\", \"vertices\": [[47.19, -1.56], [47.196, -1.55], [47.19, -1.55], "
     "[47.196, -1.56]]}]}, " ONE_PAIR "}",
     "measure.zones[0].vertices: "},
    {"{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 2000, \"zones\": [{\"category\": "
     "\"school\", \"center\": \"protected.school\"}]}, " ONE_PAIR "}",
     "measure.zones[0].center: pairs[0] has no place \"protected.school\""},
    {"{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 2000, \"zones\": [{\"category\": "
     "\"school\", \"center\": \"home\"}]}, " ONE_PAIR "}",
     "measure.zones[0].center: a place is named like \"author.home\" or \"protected.home\""},
    {HEAD "\"gnss\": {\"r95_m\": 0}, " ONE_PAIR "}", "gnss.r95_m: 0 is outside 0.5..1000"},
    {HEAD "\"gnss\": {\"outlier_min_m\": 50, \"outlier_max_m\": 20}, " ONE_PAIR "}",
     "gnss.outlier_max_m: 20 m is below outlier_min_m (50 m)"},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45]}, \"gnss\": {\"sigma\": 3}}", P_HOME) "}",
     "pairs[0].author.gnss: unknown key \"sigma\""},
    {HEAD
     "\"areas\": [{\"kind\": \"forest\", \"center\": [47.2, -1.5], \"radius_m\": 100}], " ONE_PAIR
     "}",
     "areas[0].kind: canyon, hole, jamming or no_network"},
    {HEAD "\"areas\": [{\"kind\": \"hole\", \"center\": [47.2, -1.5]}], " ONE_PAIR "}",
     "areas[0].radius_m: is required"},
    {HEAD "\"areas\": [{\"kind\": \"hole\", \"commune\": \"Nantes\", \"radius_m\": 5}], " ONE_PAIR
          "}",
     "areas[0].radius_m: only a circle (\"center\") has a radius"},
    {HEAD "\"areas\": [{\"kind\": \"hole\", \"radius_m\": 5}], " ONE_PAIR "}",
     "areas[0]: an area is a \"center\" with \"radius_m\", \"vertices\", or a \"commune\""},
    {"{\"duration_s\": 3600, \"population\": {\"pairs\": 3}}",
     "population: needs the top-level \"measure\""},
    {HEAD "\"population\": {\"pairs\": 3, \"communes\": [\"Nantes\", \"Atlantis\"]}}",
     "population.communes[1]: unknown commune \"Atlantis\""},
    {HEAD "\"population\": {\"pairs\": 2.5}}", "population.pairs: a whole number"},
    {"{\"duration_s\": 3600,", "not valid JSON"},
    {"{\"duration_s\": 3600, \"duration_s\": 60}", "not valid JSON"},
    {"[1, 2]", "a scenario is a JSON object"},
    {HEAD "\"pairs\": [{\"name\": \"x\", \"author\": " A_HOME ", \"protected\": " P_HOME "},"
          "{\"name\": \"x\", \"author\": " A_HOME ", \"protected\": " P_HOME "}]}",
     "pairs: two pairs are named \"x\""},
    {HEAD "\"pairs\": [{\"name\": \"a b\", \"author\": " A_HOME ", \"protected\": " P_HOME "}]}",
     "pairs[0].name: 1 to 64 of letters"},
    {HEAD "\"pairs\": [{\"author\": " A_HOME "}]}", "pairs[0].protected: is required"},
    {HEAD "\"start_utc\": \"2026-03-04 07:00\", " ONE_PAIR "}",
     "start_utc: a UTC time \"YYYY-MM-DDTHH:MM:SSZ\""},
    {HEAD "\"start_utc\": \"2026-02-30T07:00:00Z\", " ONE_PAIR "}",
     "start_utc: \"2026-02-30T07:00:00Z\" is not a valid time"},
    {HEAD "\"timezone\": \"Mars/Olympus_Mons\", " ONE_PAIR "}", "timezone: "},
    {HEAD "\"seed\": -1, " ONE_PAIR "}", "seed: a non-negative integer"},
    {HEAD "\"devices\": {\"beacon_range_m\": 0}, " ONE_PAIR "}",
     "devices.beacon_range_m: 0 is outside 1..1000"},
    {HEAD "\"pairs\": []}", "scenario: needs \"pairs\" or a \"population\""},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45]}, \"start\": \"work\"}", P_HOME) "}",
     "pairs[0].author.start: must name one of the person's places"},
    {HEAD PAIR("{\"places\": {\"flat\": [47.25, -1.45]}}", P_HOME) "}",
     "pairs[0].author.start: is required when the person has no place \"home\""},
    {HEAD PAIR("{\"places\": {\"home\": [47.25, -1.45]}, \"wander_m\": \"a bit\"}", P_HOME) "}",
     "pairs[0].author.wander_m: must be a number"},
};

static void test_refusals_name_their_path(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(refusals); i++)
        must_refuse(refusals[i].json, refusals[i].message);
}

static void test_communes_need_the_geo_directory(void **state)
{
    (void)state;
    const char *json = HEAD PAIR(A_HOME, "{\"places\": {\"home\": {\"commune\": \"Nantes\"}}}") "}";
    struct vg_sim_scenario *sc = NULL;
    char err[256] = "";
    assert_true(vg_sim_scenario_parse(json, strlen(json), NULL, &sc, err, sizeof err) < 0);
    assert_non_null(strstr(err, "pairs[0].protected.places.home.commune: communes need the geo"));
    assert_true(vg_sim_scenario_parse(json, strlen(json), "/nonexistent", &sc, err, sizeof err) <
                0);
    assert_non_null(strstr(err, "pairs[0].protected.places.home.commune: cannot read"));
    assert_null(sc);
}

static void test_places_in_communes(void **state)
{
    (void)state;
    const char *json =
        "{\"duration_s\": 600, \"measure\": {\"alert_radius_m\": 2000}, \"pairs\": ["
        "{\"author\": {\"places\": {\"home\": {\"commune\": \"44143\"}, \"work\": {\"commune\": "
        "\"La Chapelle-sur-Erdre\"}}}, \"protected\": {\"places\": {\"home\": {\"commune\": "
        "\"Nantes\"}, \"work\": {\"commune\": \"Saint-Nazaire\"}}}}]}";
    struct vg_sim_scenario *sc = must_parse(json);
    struct vg_geo_point p;
    assert_int_equal(vg_sim_scenario_place(sc, 0, "home", &p), VG_OK);
    assert_true(commune_contains_ref("Rezé", p.lat_deg, p.lon_deg));
    assert_false(commune_contains_ref("Nantes", p.lat_deg, p.lon_deg));
    assert_int_equal(vg_sim_scenario_place(sc, 0, "work", &p), VG_OK);
    assert_true(commune_contains_ref("Chapelle-sur-Erdre", p.lat_deg, p.lon_deg));
    struct vg_geo_point home;
    assert_int_equal(vg_sim_scenario_place(sc, 1, "home", &home), VG_OK);
    assert_true(commune_contains_ref("Nantes", home.lat_deg, home.lon_deg));
    assert_int_equal(vg_sim_scenario_place(sc, 1, "work", &p), VG_OK);
    assert_true(commune_contains_ref("Saint-Nazaire", p.lat_deg, p.lon_deg));
    /* a person starts at home and stays there */
    struct vg_sim_position at = pos_at(sc, 1, 300.0);
    assert_true(dist_m(at.lat_deg, at.lon_deg, home.lat_deg, home.lon_deg) < 10.0);

    /* the same file draws the same points; another seed other points */
    struct vg_sim_scenario *again = must_parse(json);
    struct vg_geo_point q;
    assert_int_equal(vg_sim_scenario_place(again, 1, "home", &q), VG_OK);
    assert_true(q.lat_deg == home.lat_deg && q.lon_deg == home.lon_deg);
    vg_sim_scenario_free(again);
    char seeded[1024];
    snprintf(seeded, sizeof seeded, "{\"seed\": 7, %s", json + 1);
    again = must_parse(seeded);
    assert_int_equal(vg_sim_scenario_place(again, 1, "home", &q), VG_OK);
    assert_true(q.lat_deg != home.lat_deg || q.lon_deg != home.lon_deg);
    assert_true(commune_contains_ref("Nantes", q.lat_deg, q.lon_deg));
    vg_sim_scenario_free(again);
    vg_sim_scenario_free(sc);
}

static void test_relative_places(void **state)
{
    (void)state;
    /* defined before what they refer to, and across persons */
    const char *json =
        "{\"duration_s\": 600, \"measure\": {\"alert_radius_m\": 2000}, \"pairs\": ["
        "{\"author\": {\"places\": {"
        "  \"cafe\": {\"near\": \"work\", \"distance_m\": 250, \"bearing_deg\": -90},"
        "  \"work\": {\"near\": \"protected.home\", \"distance_m\": 800, \"bearing_deg\": 90},"
        "  \"home\": {\"near\": \"protected.work\", \"distance_m\": 6000, \"bearing_deg\": 180}}},"
        " \"protected\": {\"places\": {\"home\": [47.2184, -1.5536],"
        "  \"work\": {\"near\": \"home\", \"distance_m\": 3000, \"bearing_deg\": 0}}}}]}";
    struct vg_sim_scenario *sc = must_parse(json);
    struct vg_geo_point ph, pw, aw, ac, ah;
    assert_int_equal(vg_sim_scenario_place(sc, 1, "home", &ph), VG_OK);
    assert_int_equal(vg_sim_scenario_place(sc, 1, "work", &pw), VG_OK);
    assert_int_equal(vg_sim_scenario_place(sc, 0, "work", &aw), VG_OK);
    assert_int_equal(vg_sim_scenario_place(sc, 0, "cafe", &ac), VG_OK);
    assert_int_equal(vg_sim_scenario_place(sc, 0, "home", &ah), VG_OK);
    double d, b;
    assert_int_equal(vg_geo_inverse(ph, pw, &d, &b), VG_OK);
    assert_near(d, 3000.0, 1e-3);
    assert_true(b < 1e-6 || b > 360.0 - 1e-6);
    assert_int_equal(vg_geo_inverse(ph, aw, &d, &b), VG_OK);
    assert_near(d, 800.0, 1e-3);
    assert_near(b, 90.0, 1e-6);
    assert_int_equal(vg_geo_inverse(aw, ac, &d, &b), VG_OK);
    assert_near(d, 250.0, 1e-3);
    assert_near(b, 270.0, 1e-6);
    assert_int_equal(vg_geo_inverse(pw, ah, &d, &b), VG_OK);
    assert_near(d, 6000.0, 1e-3);
    assert_near(b, 180.0, 1e-6);
    vg_sim_scenario_free(sc);
}

/* "expect" belongs to the scenario's end-to-end test: the simulator takes
 * any object there and runs the scenario exactly as without it. */
static void test_expectations_are_ignored(void **state)
{
    (void)state;
    struct vg_sim_scenario *plain = must_parse(HEAD ONE_PAIR "}");
    struct vg_sim_scenario *sc =
        must_parse(HEAD ONE_PAIR ", \"expect\": {\"alarms\": [{\"pair\": \"pair-0\", "
                                 "\"kinds\": [\"sos\"]}], \"anything\": {\"else\": 1}}}");
    assert_int_equal(vg_sim_scenario_pairs(sc), 1);
    assert_int_equal(vg_sim_scenario_duration_ms(sc), vg_sim_scenario_duration_ms(plain));
    for (size_t unit = 0; unit < 2; unit++)
        for (double t = 0.0; t < 3600.0; t += 600.0) {
            struct vg_sim_position a, b;
            assert_int_equal(vg_sim_scenario_position(plain, unit, t, &a), VG_OK);
            assert_int_equal(vg_sim_scenario_position(sc, unit, t, &b), VG_OK);
            assert_true(a.lat_deg == b.lat_deg && a.lon_deg == b.lon_deg);
        }
    vg_sim_scenario_free(sc);
    sc = must_parse(HEAD ONE_PAIR ", \"expect\": {}}");
    vg_sim_scenario_free(sc);
    vg_sim_scenario_free(plain);
}

static void test_load_from_file(void **state)
{
    (void)state;
    char path[] = "/tmp/vigie-sim-scenario-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *json = HEAD ONE_PAIR "}";
    assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    close(fd);
    struct vg_sim_scenario *sc = NULL;
    char err[512];
    assert_int_equal(vg_sim_scenario_load(path, geo_dir, &sc, err, sizeof err), VG_OK);
    assert_int_equal(vg_sim_scenario_pairs(sc), 1);
    vg_sim_scenario_free(sc);
    /* a refusal names the file, then the path */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    const char *bad = HEAD ONE_PAIR ", \"bogus\": 1}";
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    assert_true(vg_sim_scenario_load(path, geo_dir, &sc, err, sizeof err) < 0);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "scenario: unknown key \"bogus\""));
    unlink(path);
    assert_int_equal(vg_sim_scenario_load(path, geo_dir, &sc, err, sizeof err), VG_ENOTFOUND);
    assert_null(sc);
}

/* Every scenario of the library in tests/scenarios parses (the end-to-end
 * test runs them; a refusal here is clearer than a failed run there). */
static void test_examples_parse(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        size_t pairs;
    } library[] = {
        {"approach_on_foot.json", 1},
        {"car_past_home.json", 1},
        {"protected_approaches.json", 1},
        {"handover_window.json", 2},
        {"tunnel_far_away.json", 1},
        {"jamming_near_her.json", 1},
        {"strap_cut.json", 1},
        {"battery_run_down.json", 1},
        {"sos.json", 1},
        {"network_outage.json", 1},
        {"demo_nantes.json", 7},
    };
    char path[1024];
    char err[512];
    struct vg_sim_scenario *sc = NULL;
    for (size_t i = 0; i < ARRAY_LEN(library); i++) {
        snprintf(path, sizeof path, "%s/../../tests/scenarios/%s", geo_dir, library[i].file);
        int rc = vg_sim_scenario_load(path, geo_dir, &sc, err, sizeof err);
        if (rc)
            fail_msg("%s", err);
        assert_int_equal(vg_sim_scenario_pairs(sc), library[i].pairs);
        /* short enough to run in real time in `make test` */
        if (strcmp(library[i].file, "demo_nantes.json") != 0)
            assert_true(vg_sim_scenario_duration_ms(sc) <= 360000);
        vg_sim_scenario_free(sc);
    }
    snprintf(path, sizeof path, "%s/../../tests/scenarios/population_10k.json", geo_dir);
    int rc = vg_sim_scenario_load(path, geo_dir, &sc, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(vg_sim_scenario_pairs(sc), 5000);
    assert_int_equal(vg_sim_scenario_duration_ms(sc), 3600000);
    assert_string_equal(vg_sim_scenario_pair_name(sc, 4999), "load-04999");
    vg_sim_scenario_free(sc);
}

SIM_TEST_MAIN(cmocka_unit_test(test_minimal), cmocka_unit_test(test_refusals_name_their_path),
              cmocka_unit_test(test_communes_need_the_geo_directory),
              cmocka_unit_test(test_places_in_communes), cmocka_unit_test(test_relative_places),
              cmocka_unit_test(test_expectations_are_ignored),
              cmocka_unit_test(test_load_from_file), cmocka_unit_test(test_examples_parse))
