/* The population generator: N pairs with homes and workplaces inside the
 * named communes, deterministic, mostly apart, and the configured fraction
 * of authors going into their protected person's alert ring. */
#include "sim_testing.h"

#define MEASURE                                                                                    \
    "\"measure\": {\"alert_radius_m\": 2000, \"zones\": ["                                         \
    "  {\"category\": \"protected_home\", \"center\": \"protected.home\"},"                        \
    "  {\"category\": \"protected_workplace\", \"center\": \"protected.work\", "                   \
    "   \"alert_radius_m\": 1000}]}"

static char json_buf[4096];

static struct vg_sim_scenario *population(int pairs, int duration_s, const char *extra)
{
    snprintf(json_buf, sizeof json_buf,
             "{\"duration_s\": %d, " MEASURE ", \"population\": {\"pairs\": %d%s}}", duration_s,
             pairs, extra);
    return must_parse(json_buf);
}

static const char *const metro[] = {"Nantes",  "Rezé",   "Saint-Herblain",
                                    "Orvault", "Vertou", "Chapelle-sur-Erdre"};
#define METRO_COMMUNES                                                                             \
    ", \"communes\": [\"Nantes\", \"Rezé\", \"Saint-Herblain\", \"Orvault\", \"Vertou\", "        \
    "\"La Chapelle-sur-Erdre\"]"

static void test_homes_inside_communes(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc = population(200, 3600, METRO_COMMUNES);
    assert_int_equal(vg_sim_scenario_pairs(sc), 200);
    assert_string_equal(vg_sim_scenario_pair_name(sc, 0), "pop-00000");
    assert_string_equal(vg_sim_scenario_pair_name(sc, 199), "pop-00199");
    size_t moved = 0;
    for (size_t u = 0; u < 400; u++) {
        static const char *const names[] = {"home", "work"};
        for (int k = 0; k < 2; k++) {
            struct vg_geo_point p;
            assert_int_equal(vg_sim_scenario_place(sc, u, names[k], &p), VG_OK);
            size_t in = 0;
            for (size_t c = 0; c < ARRAY_LEN(metro); c++)
                in += commune_contains_ref(metro[c], p.lat_deg, p.lon_deg);
            if (in != 1)
                fail_msg("unit %zu's %s [%.6f, %.6f] is in %zu of the communes", u, names[k],
                         p.lat_deg, p.lon_deg, in);
        }
        struct vg_sim_position a = pos_at(sc, u, 0.0), b = pos_at(sc, u, 3600.0);
        moved += dist_m(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg) > 100.0;
    }
    /* stays average 40 minutes: most people go somewhere within the hour */
    print_message("  %zu of 400 people moved in the hour\n", moved);
    assert_true(moved > 160);
    /* the template's zones are this pair's places */
    struct vg_sim_world *w = must_world(sc, 1, WINTER_START_MS);
    char *json = vg_sim_world_measure_json(w, 17, NULL, "A", "P", NULL);
    assert_non_null(json);
    struct vg_geo_point home, work;
    assert_int_equal(vg_sim_scenario_place(sc, 35, "home", &home), VG_OK);
    assert_int_equal(vg_sim_scenario_place(sc, 35, "work", &work), VG_OK);
    char want[128];
    snprintf(want, sizeof want, "\"center\":[%.17g,%.17g]", home.lat_deg, home.lon_deg);
    assert_non_null(strstr(json, want));
    snprintf(want, sizeof want, "\"center\":[%.17g,%.17g]", work.lat_deg, work.lon_deg);
    assert_non_null(strstr(json, want));
    free(json);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

static bool same_world(const struct vg_sim_scenario *a, const struct vg_sim_scenario *b,
                       size_t pairs)
{
    for (size_t u = 0; u < 2 * pairs; u++)
        for (double t = 0.0; t < 3600.0; t += 450.0) {
            struct vg_sim_position p = pos_at(a, u, t), q = pos_at(b, u, t);
            if (p.lat_deg != q.lat_deg || p.lon_deg != q.lon_deg)
                return false;
        }
    return true;
}

static void test_deterministic(void **state)
{
    (void)state;
    struct vg_sim_scenario *a = population(100, 3600, METRO_COMMUNES);
    struct vg_sim_scenario *b = population(100, 3600, METRO_COMMUNES);
    assert_true(same_world(a, b, 100));
    /* pair k is the same whatever the number of pairs */
    struct vg_sim_scenario *c = population(30, 3600, METRO_COMMUNES);
    assert_true(same_world(a, c, 30));
    vg_sim_scenario_free(c);
    /* another seed_offset, another population */
    c = population(100, 3600, METRO_COMMUNES ", \"seed_offset\": 1");
    size_t differ = 0;
    for (size_t u = 0; u < 200; u++) {
        struct vg_geo_point p, q;
        assert_int_equal(vg_sim_scenario_place(a, u, "home", &p), VG_OK);
        assert_int_equal(vg_sim_scenario_place(c, u, "home", &q), VG_OK);
        differ += p.lat_deg != q.lat_deg;
    }
    assert_int_equal(differ, 200);
    vg_sim_scenario_free(a);
    vg_sim_scenario_free(b);
    vg_sim_scenario_free(c);
}

/* Count the pairs whose truth has an unauthorised interval of `kind` in
 * zone `zone_index`. */
static size_t pairs_with(const struct vg_sim_truth *t, size_t pairs, int zone_index, uint8_t kind)
{
    size_t n = 0;
    for (size_t p = 0; p < pairs; p++) {
        bool any = false;
        for (size_t i = 0; i < t->n; i++)
            any = any || (t->intervals[i].pair == p && t->intervals[i].zone_index == zone_index &&
                          t->intervals[i].kind == kind && !t->intervals[i].authorised);
        n += any;
    }
    return n;
}

static void test_apart_and_approaching(void **state)
{
    (void)state;
    char err[256];
    /* over the whole department, with no approaches: apart, homes farther
     * apart than R (a legal condition of the measure) */
    struct vg_sim_scenario *sc = population(100, 3600, ", \"approach_fraction\": 0");
    for (size_t p = 0; p < 100; p++) {
        struct vg_geo_point a, b;
        assert_int_equal(vg_sim_scenario_place(sc, 2 * p, "home", &a), VG_OK);
        assert_int_equal(vg_sim_scenario_place(sc, 2 * p + 1, "home", &b), VG_OK);
        assert_true(dist_m(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg) > 4500.0);
    }
    struct vg_sim_world *w = must_world(sc, 1, WINTER_START_MS);
    struct vg_sim_truth t = {0};
    assert_int_equal(vg_sim_world_truth(w, &t, err, sizeof err), VG_OK);
    size_t near = pairs_with(&t, 100, 0, VG_SIM_TRUTH_PREALERT);
    print_message("  no approaches: %zu of 100 pairs came within 2R\n", near);
    assert_true(near <= 3);
    vg_sim_truth_free(&t);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);

    /* everyone approaches: each author enters the alert ring of her home */
    sc = population(30, 10800, METRO_COMMUNES ", \"approach_fraction\": 1");
    w = must_world(sc, 1, WINTER_START_MS);
    assert_int_equal(vg_sim_world_truth(w, &t, err, sizeof err), VG_OK);
    assert_int_equal(pairs_with(&t, 30, 1, VG_SIM_TRUTH_ALERT), 30);
    vg_sim_truth_free(&t);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

static void test_template_must_fit(void **state)
{
    (void)state;
    must_refuse("{\"duration_s\": 600, \"measure\": {\"alert_radius_m\": 2000, \"zones\": ["
                "{\"category\": \"school\", \"center\": \"protected.school\"}]},"
                "\"population\": {\"pairs\": 2}}",
                "measure.zones[0].center: population pair pop-00000 has no place "
                "\"protected.school\"");
    must_refuse("{\"duration_s\": 600, " MEASURE ", \"population\": {\"pairs\": 2, "
                "\"name_prefix\": \"a b\"}}",
                "population.name_prefix: 1 to 20 of letters");
    must_refuse("{\"duration_s\": 600, " MEASURE ", \"population\": {\"pairs\": 200000}}",
                "population.pairs: 200000 is outside 1..100000");
    /* explicit pairs and a population together, names apart */
    struct vg_sim_scenario *sc = must_parse(
        "{\"duration_s\": 600, " MEASURE ", \"pairs\": [{\"name\": \"solo\", \"author\": "
        "{\"places\": {\"home\": [47.3, -1.4], \"work\": [47.3, -1.41]}}, \"protected\": "
        "{\"places\": {\"home\": [47.1, -1.6], \"work\": [47.1, -1.61]}}}],"
        "\"population\": {\"pairs\": 3, \"name_prefix\": \"crowd\"}}");
    assert_int_equal(vg_sim_scenario_pairs(sc), 4);
    assert_string_equal(vg_sim_scenario_pair_name(sc, 0), "solo");
    assert_string_equal(vg_sim_scenario_pair_name(sc, 3), "crowd-00002");
    vg_sim_scenario_free(sc);
}

/* population.mix: the alert-quality corpus's daily life. */
static struct vg_sim_scenario *mix_population(int pairs, const char *pop_extra, const char *mix)
{
    /* every kind of event and intrusion off, but those the case sets */
    static const char *const off[] = {"close_fraction",         "stalk_fraction",
                                      "walk_in_fraction",       "drive_through_fraction",
                                      "visit_fraction",         "switch_off_fraction",
                                      "battery_fault_fraction", "strap_cut_fraction",
                                      "skin_loss_fraction",     "left_behind_fraction"};
    char base[1024] = "";
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_LEN(off); i++) {
        char key[64];
        snprintf(key, sizeof key, "\"%s\"", off[i]);
        if (!strstr(mix, key))
            n += (size_t)snprintf(base + n, sizeof base - n, "%s%s: 0", n ? ", " : "", key);
    }
    snprintf(json_buf, sizeof json_buf,
             "{\"duration_s\": 86400, \"start_utc\": \"2026-03-03T23:00:00Z\", " MEASURE
             ", \"population\": {\"pairs\": %d%s" METRO_COMMUNES "%s, \"mix\": {%s%s}}}",
             pairs, strstr(pop_extra, "approach_fraction") ? "" : ", \"approach_fraction\": 0",
             pop_extra, base, mix);
    return must_parse(json_buf);
}

/* Small towns: with close_fraction 1 every author lives 1.3R to 2.6R from
 * her home; faults and losses are set as events the world and the truth
 * read; the same file gives the same corpus. */
static void test_mix_places_faults_and_determinism(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc =
        mix_population(50, "",
                       ", \"close_fraction\": 1, \"switch_off_fraction\": 1,"
                       " \"strap_cut_fraction\": 1, \"indoor_loss_per_day\": 3");
    for (size_t p = 0; p < 50; p++) {
        struct vg_geo_point a, b;
        assert_int_equal(vg_sim_scenario_place(sc, 2 * p, "home", &a), VG_OK);
        assert_int_equal(vg_sim_scenario_place(sc, 2 * p + 1, "home", &b), VG_OK);
        double d = dist_m(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg);
        assert_true(d >= 2600.0 - 1.0 && d <= 5200.0 + 1.0);
    }
    struct vg_sim_world *w = must_world(sc, 3, WINTER_START_MS);
    size_t holes = 0;
    for (size_t p = 0; p < 50; p++) {
        struct vg_sim_fault f[64];
        size_t n = vg_sim_world_faults(w, p, f, 64);
        assert_true(n <= 64);
        int off[2] = {0, 0}, strap = 0;
        for (size_t i = 0; i < n; i++) {
            off[f[i].role] += f[i].kind == VG_SIM_EV_SWITCHED_OFF;
            strap += f[i].kind == VG_SIM_EV_STRAP_CUT && f[i].role == 0 && f[i].to_s == -1;
            holes += f[i].kind == VG_SIM_EV_GNSS_HOLE;
        }
        assert_int_equal(off[0], 1);
        assert_int_equal(off[1], 1);
        assert_int_equal(strap, 1);
    }
    /* about 3 a day each, 100 persons, and the tunnels and car parks */
    assert_true(holes > 200);
    vg_sim_world_free(w);
    struct vg_sim_scenario *again =
        mix_population(50, "",
                       ", \"close_fraction\": 1, \"switch_off_fraction\": 1,"
                       " \"strap_cut_fraction\": 1, \"indoor_loss_per_day\": 3");
    for (size_t u = 0; u < 100; u++)
        for (double t = 0.0; t < 86400.0; t += 1800.0) {
            struct vg_sim_position x = pos_at(sc, u, t), y = pos_at(again, u, t);
            assert_true(x.lat_deg == y.lat_deg && x.lon_deg == y.lon_deg);
        }
    vg_sim_scenario_free(again);
    vg_sim_scenario_free(sc);
}

/* Each kind of intrusion, alone, puts every pair's truth where it says:
 * a walk in, a drive into her home's ring and a fast drive-through inside
 * R of the mobile zone; stalking at the edge of 2R and never inside R; her
 * afternoon near his home inside R. */
static void test_mix_intrusions(void **state)
{
    (void)state;
    static const struct {
        const char *pop, *mix;
        int alert; /* 1: every pair inside R; 0: none */
    } cases[] = {
        {", \"approach_fraction\": 1", "", 1},      {"", ", \"walk_in_fraction\": 1", 1},
        {"", ", \"drive_through_fraction\": 1", 1}, {"", ", \"visit_fraction\": 1", 1},
        {"", ", \"stalk_fraction\": 1", 0},
    };
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
        struct vg_sim_scenario *sc = mix_population(4, cases[k].pop, cases[k].mix);
        struct vg_sim_world *w = must_world(sc, 1, WINTER_START_MS);
        struct vg_sim_truth t = {0};
        char err[256];
        assert_int_equal(vg_sim_world_truth(w, &t, err, sizeof err), VG_OK);
        size_t pre = pairs_with(&t, 4, 0, VG_SIM_TRUTH_PREALERT);
        size_t alert = pairs_with(&t, 4, 0, VG_SIM_TRUTH_ALERT);
        print_message("  case %zu: %zu of 4 pairs within 2R, %zu within R\n", k, pre, alert);
        assert_int_equal(pre, 4);
        assert_int_equal(alert, cases[k].alert ? 4 : 0);
        vg_sim_truth_free(&t);
        vg_sim_world_free(w);
        vg_sim_scenario_free(sc);
    }
}

/* keep_away_fraction: authors whose errands and delivery rounds keep clear
 * of her home's and workplace's pre-alert rings cross them far less often;
 * 0, written or not, draws the very same day as a mix without the key
 * (older corpora stay what they were). */
static size_t pairs_near_her_places(struct vg_sim_scenario *sc, size_t pairs)
{
    struct vg_sim_world *w = must_world(sc, 1, WINTER_START_MS);
    struct vg_sim_truth t = {0};
    char err[256];
    assert_int_equal(vg_sim_world_truth(w, &t, err, sizeof err), VG_OK);
    size_t n = 0;
    for (size_t p = 0; p < pairs; p++) {
        bool any = false;
        for (size_t i = 0; i < t.n; i++)
            any = any || (t.intervals[i].pair == p && t.intervals[i].zone_index >= 1 &&
                          t.intervals[i].kind == VG_SIM_TRUTH_PREALERT);
        n += any;
    }
    vg_sim_truth_free(&t);
    vg_sim_world_free(w);
    return n;
}

static void test_mix_keep_away(void **state)
{
    (void)state;
    const char *busy = ", \"driver_fraction\": 0.5, \"errands_per_day\": 4";
    char mix[256];
    struct vg_sim_scenario *plain = mix_population(120, "", busy);
    snprintf(mix, sizeof mix, "%s, \"keep_away_fraction\": 0", busy);
    struct vg_sim_scenario *zero = mix_population(120, "", mix);
    for (size_t u = 0; u < 240; u++)
        for (double t = 0.0; t < 86400.0; t += 900.0) {
            struct vg_sim_position x = pos_at(plain, u, t), y = pos_at(zero, u, t);
            assert_true(x.lat_deg == y.lat_deg && x.lon_deg == y.lon_deg);
        }
    snprintf(mix, sizeof mix, "%s, \"keep_away_fraction\": 1", busy);
    struct vg_sim_scenario *away = mix_population(120, "", mix);
    size_t before = pairs_near_her_places(plain, 120), after = pairs_near_her_places(away, 120);
    print_message("  pairs within 2R of her home or workplace: %zu, keeping away: %zu\n", before,
                  after);
    assert_true(before >= 10);
    assert_true(after * 2 <= before);
    vg_sim_scenario_free(plain);
    vg_sim_scenario_free(zero);
    vg_sim_scenario_free(away);
}

SIM_TEST_MAIN(cmocka_unit_test(test_homes_inside_communes), cmocka_unit_test(test_deterministic),
              cmocka_unit_test(test_apart_and_approaching),
              cmocka_unit_test(test_template_must_fit),
              cmocka_unit_test(test_mix_places_faults_and_determinism),
              cmocka_unit_test(test_mix_intrusions), cmocka_unit_test(test_mix_keep_away))
