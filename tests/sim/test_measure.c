/* The measure the simulator posts: the daemon's own parser
 * (util/measure_json.h) accepts it, its zones are where the scenario put
 * them, and its windows open at the right local times, in winter and in
 * summer, rounded inward to the minute. */
#include "core/window.h"
#include "core/zone.h"
#include "sim_testing.h"
#include "util/measure_json.h"
#include "util/tzload.h"

#define MINUTE_MS 60000LL
#define HOUR_MS   3600000LL

static const char scenario[] =
    "{\"duration_s\": 7200,"
    " \"measure\": {\"alert_radius_m\": 2000, \"zones\": ["
    "   {\"category\": \"protected_home\", \"center\": \"protected.home\","
    "    \"windows\": [{\"from_s\": 600, \"to_s\": 1800},"
    "                  {\"days\": [\"wed\", \"sat\"], \"start\": \"16:00\", \"end\": \"16:30\"}]},"
    "   {\"id\": 9, \"category\": \"school\", \"alert_radius_m\": 1000, \"vertices\": ["
    "     [47.19, -1.56], [47.19, -1.55], [47.196, -1.55], [47.196, -1.56]]},"
    "   {\"category\": \"frequented_place\", \"center\": [47.3, -1.4], \"alert_radius_m\": 3000,"
    "    \"windows\": [{\"days\": [\"sun\"], \"start\": \"22:00\", \"end\": \"24:00\"}]}]},"
    " \"pairs\": [{\"name\": \"M-2026-0042\","
    "   \"author\": {\"places\": {\"home\": [47.3, -1.45]}},"
    "   \"protected\": {\"places\": {\"home\": [47.2184, -1.5536]}}}]}";

static struct vg_tz paris;

static int setup(void **state)
{
    (void)state;
    char err[256];
    return vg_tz_load(&paris, NULL, "Europe/Paris", err, sizeof err) < 0 ? -1 : 0;
}

/* The definition for a run starting at start_ms, parsed as the daemon does. */
static char *definition(const struct vg_sim_scenario *sc, int64_t start_ms,
                        struct vg_measure_def *def)
{
    struct vg_sim_world *w = must_world(sc, 1, start_ms);
    char *json = vg_sim_world_measure_json(w, 0, NULL, "U-A1", "U-P1", "B-1");
    assert_non_null(json);
    char tz[VG_NAME_MAX + 1], err[256];
    assert_int_equal(vg_measure_json_timezone(json, tz, sizeof tz, err, sizeof err), VG_OK);
    assert_string_equal(tz, "Europe/Paris");
    if (vg_measure_def_parse(json, &paris, def, err, sizeof err) != VG_OK)
        fail_msg("the daemon refuses it: %s\n%s", err, json);
    vg_sim_world_free(w);
    return json;
}

static void test_the_daemon_accepts_it(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc = must_parse(scenario);
    struct vg_measure_def def;
    char *json = definition(sc, WINTER_START_MS, &def);
    assert_string_equal(def.name, "M-2026-0042");
    assert_string_equal(def.author_unit, "U-A1");
    assert_string_equal(def.protected_unit, "U-P1");
    assert_string_equal(def.bracelet, "B-1");
    assert_near(def.alert_radius_m, 2000.0, 0.0);
    assert_int_equal(def.n_zones, 3);
    /* ids: given, or the zone's rank */
    assert_int_equal(def.zones[0].id, 1);
    assert_int_equal(def.zones[1].id, 9);
    assert_int_equal(def.zones[2].id, 3);
    assert_int_equal(def.zones[0].category, VG_ZONE_PROTECTED_HOME);
    assert_int_equal(def.zones[1].shape, VG_ZONE_POLYGON);
    assert_int_equal(def.zones[1].n_vertices, 4);
    assert_near(def.zones[2].alert_radius_m, 3000.0, 0.0);
    /* the home zone is centred on her home, exactly */
    struct vg_geo_point home;
    assert_int_equal(vg_sim_scenario_place(sc, 1, "home", &home), VG_OK);
    struct vg_geo_prepared p;
    vg_geo_prepare(&p, home);
    assert_true(vg_zone_distance(&def.zones[0], &p, HUGE_VAL) < 1e-6);
    /* inside the school's polygon: distance 0 */
    vg_geo_prepare(&p, (struct vg_geo_point){47.193, -1.555});
    assert_near(vg_zone_distance(&def.zones[1], &p, HUGE_VAL), 0.0, 0.0);
    vg_measure_def_cleanup(&def);
    free(json);

    /* a name of the program's choosing; no bracelet */
    struct vg_sim_world *w = must_world(sc, 1, WINTER_START_MS);
    json = vg_sim_world_measure_json(w, 0, "RUN-7.pair-0", "A", "P", NULL);
    assert_non_null(json);
    char err[256];
    assert_int_equal(vg_measure_def_parse(json, &paris, &def, err, sizeof err), VG_OK);
    assert_string_equal(def.name, "RUN-7.pair-0");
    assert_string_equal(def.bracelet, "");
    vg_measure_def_cleanup(&def);
    free(json);
    /* refusals: a bad serial, a bad pair, the same as the daemon would */
    assert_null(vg_sim_world_measure_json(w, 0, NULL, "U A1", "U-P1", NULL));
    assert_null(vg_sim_world_measure_json(w, 0, NULL, "U-A1", NULL, NULL));
    assert_null(vg_sim_world_measure_json(w, 0, "-bad", "U-A1", "U-P1", NULL));
    assert_null(vg_sim_world_measure_json(w, 1, NULL, "U-A1", "U-P1", NULL));
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

static void test_windows_at_local_times(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc = must_parse(scenario);
    struct vg_measure_def def;
    /* Winter: the run starts at 07:00 UTC = 08:00 in Paris; 600..1800 s of
     * the run is 08:10..08:30 local, 07:10..07:30 UTC. */
    char *json = definition(sc, WINTER_START_MS, &def);
    assert_non_null(strstr(json, "\"from\":\"2026-03-04T08:10\""));
    assert_non_null(strstr(json, "\"to\":\"2026-03-04T08:30\""));
    const struct vg_window *once = &def.zones[0].windows[0];
    assert_int_equal(once->kind, VG_WINDOW_ONCE);
    assert_int_equal(once->start_ms, WINTER_START_MS + 600000);
    assert_int_equal(once->end_ms, WINTER_START_MS + 1800000);
    /* the weekly slot is passed on as it is: Wednesday 16:15 local is
     * 15:15 UTC in winter, and 16:31 is closed */
    const struct vg_window *ws = def.zones[0].windows;
    assert_true(
        vg_windows_open_at(ws, 2, &paris, WINTER_START_MS + 8 * HOUR_MS + 15 * MINUTE_MS, NULL));
    assert_false(
        vg_windows_open_at(ws, 2, &paris, WINTER_START_MS + 8 * HOUR_MS + 31 * MINUTE_MS, NULL));
    /* "24:00" ends a slot at midnight: Sunday 23:30 local (111.5 h after
     * Wednesday 08:00) is open, Monday 00:30 is not */
    assert_int_equal(def.zones[2].windows[0].end_minute, 1440);
    assert_true(vg_windows_open_at(def.zones[2].windows, 1, &paris,
                                   WINTER_START_MS + 111 * HOUR_MS + 30 * MINUTE_MS, NULL));
    assert_false(vg_windows_open_at(def.zones[2].windows, 1, &paris,
                                    WINTER_START_MS + 112 * HOUR_MS + 30 * MINUTE_MS, NULL));
    vg_measure_def_cleanup(&def);
    free(json);

    /* Summer: 06:00 UTC = 08:00 in Paris; the same local times, an hour
     * earlier in UTC than in winter */
    json = definition(sc, SUMMER_START_MS, &def);
    assert_non_null(strstr(json, "\"from\":\"2026-07-01T08:10\""));
    once = &def.zones[0].windows[0];
    assert_int_equal(once->start_ms, SUMMER_START_MS + 600000);
    assert_int_equal(once->end_ms, SUMMER_START_MS + 1800000);
    ws = def.zones[0].windows;
    assert_true(
        vg_windows_open_at(ws, 2, &paris, SUMMER_START_MS + 8 * HOUR_MS + 15 * MINUTE_MS, NULL));
    vg_measure_def_cleanup(&def);
    free(json);

    /* A run starting at 07:00:30 UTC: 07:10:30 rounds up to 07:11, 07:30:30
     * down to 07:30 (an authorisation never lasts longer than written). */
    json = definition(sc, WINTER_START_MS + 30000, &def);
    once = &def.zones[0].windows[0];
    assert_int_equal(once->start_ms, WINTER_START_MS + 11 * MINUTE_MS);
    assert_int_equal(once->end_ms, WINTER_START_MS + 30 * MINUTE_MS);
    vg_measure_def_cleanup(&def);
    free(json);
    vg_sim_scenario_free(sc);
}

/* 25 October 2026: Paris turns its clocks back from 03:00 to 02:00 (01:00
 * UTC). A window over 00:10..00:40 UTC reads 02:10..02:40 local, times that
 * occur twice: the daemon reads them narrowly (the start's later reading,
 * the end's earlier one), which leaves nothing; the world says so rather
 * than post a measure the daemon would refuse. */
static void test_window_lost_in_the_repeated_hour(void **state)
{
    (void)state;
    const char *json =
        "{\"duration_s\": 7200,"
        " \"measure\": {\"alert_radius_m\": 2000, \"zones\": [{\"category\": \"school\","
        "   \"center\": [47.2, -1.5], \"windows\": [{\"from_s\": 600, \"to_s\": 2400}]}]},"
        " \"pairs\": [{\"name\": \"dst\", \"author\": {\"places\": {\"home\": [47.3, -1.45]}},"
        "   \"protected\": {\"places\": {\"home\": [47.2184, -1.5536]}}}]}";
    struct vg_sim_scenario *sc = must_parse(json);
    const int64_t dst_night = 1792886400000LL; /* 2026-10-25T00:00:00Z */
    struct vg_sim_world *w = NULL;
    char err[256] = "";
    assert_true(vg_sim_world_new(sc, 1, dst_night, &w, err, sizeof err) < 0);
    assert_null(w);
    assert_non_null(strstr(err, "dst: zone 1, window 0"));
    /* an hour later the same local times come round again (02:10..02:40
     * CET): still ambiguous, still refused; two hours later (03:10..03:40
     * CET, once only) it is fine */
    assert_true(vg_sim_world_new(sc, 1, dst_night + HOUR_MS, &w, err, sizeof err) < 0);
    w = must_world(sc, 1, dst_night + 2 * HOUR_MS);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

/* Her notification policy in the definition: absent, the default (ring by
 * day, vibrate 22:00 to 07:00); given, as given; refused when malformed,
 * with a message. */
static void test_notifications(void **state)
{
    (void)state;
    static const char base[] = "{\"name\": \"M-1\", \"alert_radius_m\": 2000,"
                               " \"units\": {\"author\": \"A\", \"protected\": \"P\"}%s}";
    char json[1024], err[256];
    struct vg_measure_def def;
    snprintf(json, sizeof json, base, "");
    assert_int_equal(vg_measure_def_parse(json, &paris, &def, err, sizeof err), VG_OK);
    assert_int_equal(def.ring.prealert_day, VG_RING_LOUD);
    assert_int_equal(def.ring.prealert_night, VG_RING_VIBRATE);
    assert_int_equal(def.ring.night_from_min, 22 * 60);
    assert_int_equal(def.ring.night_to_min, 7 * 60);
    vg_measure_def_cleanup(&def);
    snprintf(json, sizeof json, base,
             ", \"notifications\": {\"prealert_day\": \"vibrate\", \"prealert_night\": "
             "\"screen\", \"night\": {\"start\": \"21:30\", \"end\": \"06:45\"}}");
    assert_int_equal(vg_measure_def_parse(json, &paris, &def, err, sizeof err), VG_OK);
    assert_int_equal(def.ring.prealert_day, VG_RING_VIBRATE);
    assert_int_equal(def.ring.prealert_night, VG_RING_SILENT);
    assert_int_equal(def.ring.night_from_min, 21 * 60 + 30);
    assert_int_equal(def.ring.night_to_min, 6 * 60 + 45);
    vg_measure_def_cleanup(&def);
    static const char *const bad[] = {
        ", \"notifications\": {\"prealert_day\": \"loud\"}",
        ", \"notifications\": {\"alert\": \"vibrate\"}", /* an alert always rings */
        ", \"notifications\": {\"night\": {\"start\": \"25:00\", \"end\": \"07:00\"}}",
        ", \"notifications\": {\"night\": {\"start\": \"22:00\"}}",
        ", \"notifications\": [\"ring\"]",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(json, sizeof json, base, bad[k]);
        err[0] = '\0';
        assert_int_not_equal(vg_measure_def_parse(json, &paris, &def, err, sizeof err), VG_OK);
        assert_true(strlen(err) > 0);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        geo_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_daemon_accepts_it),
        cmocka_unit_test(test_windows_at_local_times),
        cmocka_unit_test(test_window_lost_in_the_repeated_hour),
        cmocka_unit_test(test_notifications),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
