/* The GNSS error model, measured: the 95% radius of the errors is the
 * configured one, errors are correlated in time, the reported accuracy
 * tracks them, multipath jumps come at the configured rate, canyons
 * degrade, and there is no fix in holes, under jamming, underground,
 * switched off, nor for a few seconds after. */
#include "core/fix.h"
#include "sim_testing.h"

#define N_PAIRS 10
#define HOURS   4
#define EPOCHS  (HOURS * 3600)

static char json_buf[1 << 16];

/* N_PAIRS pairs staying at home (no wander), 20 km between the persons of
 * a pair, homes 1.1 km apart along a meridian; `gnss` and `areas` are
 * inserted as given. */
static struct vg_sim_scenario *still_people(const char *gnss, const char *areas)
{
    size_t n = (size_t)snprintf(json_buf, sizeof json_buf,
                                "{\"duration_s\": %d, \"gnss\": %s, \"areas\": [%s], "
                                "\"measure\": {\"alert_radius_m\": 2000}, \"pairs\": [",
                                EPOCHS + 10, gnss, areas);
    for (int i = 0; i < N_PAIRS; i++)
        n += (size_t)snprintf(
            json_buf + n, sizeof json_buf - n,
            "%s{\"author\": {\"wander_m\": 0, \"places\": {\"home\": [%.5f, -1.35]}},"
            "\"protected\": {\"wander_m\": 0, \"places\": {\"home\": [%.5f, -1.61]}}}",
            i ? "," : "", 47.1 + 0.01 * i, 47.1 + 0.01 * i);
    snprintf(json_buf + n, sizeof json_buf - n, "]}");
    return must_parse(json_buf);
}

/* The error of a fix: east and north components (metres) from where the
 * unit really is. */
static void fix_error(const struct vg_sim_sample *s, double *east, double *north)
{
    double d, b;
    assert_int_equal(vg_geo_inverse((struct vg_geo_point){s->device_lat_deg, s->device_lon_deg},
                                    (struct vg_geo_point){s->fix.lat_deg, s->fix.lon_deg}, &d, &b),
                     VG_OK);
    *east = d * sin(b * 3.14159265358979323846 / 180.0);
    *north = d * cos(b * 3.14159265358979323846 / 180.0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[(size_t)(q * (double)(n - 1))];
}

/* Samples every unit once a second (at whole seconds: the sample is the
 * epoch) and keeps the east errors, radial errors and reported accuracies. */
struct series {
    size_t n_units;
    double *east;   /* [unit][epoch] */
    double *radial; /* [unit][epoch] */
    double *accuracy;
};

static void sample_series(struct vg_sim_world *w, struct series *out)
{
    out->n_units = vg_sim_world_units(w);
    out->east = calloc(out->n_units * EPOCHS, sizeof(double));
    out->radial = calloc(out->n_units * EPOCHS, sizeof(double));
    out->accuracy = calloc(out->n_units * EPOCHS, sizeof(double));
    assert_non_null(out->east);
    assert_non_null(out->radial);
    assert_non_null(out->accuracy);
    for (size_t u = 0; u < out->n_units; u++)
        for (int k = 0; k < EPOCHS; k++) {
            struct vg_sim_sample s;
            assert_int_equal(vg_sim_world_sample(w, u, WINTER_START_MS + (int64_t)k * 1000, &s),
                             VG_OK);
            assert_int_equal(s.fix.quality, VG_FIX_3D);
            assert_int_equal(vg_fix_check(&s.fix), VG_OK);
            double e, n;
            fix_error(&s, &e, &n);
            size_t i = u * EPOCHS + (size_t)k;
            out->east[i] = e;
            out->radial[i] = hypot(e, n);
            out->accuracy[i] = (double)s.fix.accuracy_m;
        }
}

static void free_series(struct series *s)
{
    free(s->east);
    free(s->radial);
    free(s->accuracy);
}

/* The mean over units of the east error's autocorrelation at `lag`. */
static double autocorrelation(const struct series *s, int lag)
{
    double sum = 0.0;
    for (size_t u = 0; u < s->n_units; u++) {
        const double *e = s->east + u * EPOCHS;
        double num = 0.0, den = 0.0;
        for (int k = 0; k + lag < EPOCHS; k++)
            num += e[k] * e[k + lag];
        for (int k = 0; k < EPOCHS; k++)
            den += e[k] * e[k];
        sum += num / den;
    }
    return sum / (double)s->n_units;
}

static void test_noise_radius_correlation_and_accuracy(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc =
        still_people("{\"r95_m\": 6, \"correlation_s\": 30, \"outlier_rate_per_h\": 0}", "");
    struct vg_sim_world *w = must_world(sc, 42, WINTER_START_MS);
    struct series s;
    sample_series(w, &s);
    size_t n = s.n_units * EPOCHS;
    /* the reported accuracy holds the error about 95% of the time */
    size_t covered = 0;
    for (size_t i = 0; i < n; i++)
        covered += s.radial[i] <= s.accuracy[i];
    double coverage = (double)covered / (double)n;
    print_message("  coverage of the reported accuracy: %.3f\n", coverage);
    assert_true(coverage > 0.88 && coverage < 0.98);
    /* correlated errors: phi = exp(-1/30) = 0.967 at 1 s, exp(-1) at 30 s */
    double r1 = autocorrelation(&s, 1), r30 = autocorrelation(&s, 30);
    print_message("  autocorrelation: lag 1 s %.3f, lag 30 s %.3f\n", r1, r30);
    assert_near(r1, exp(-1.0 / 30.0), 0.01);
    assert_near(r30, exp(-1.0), 0.08);
    /* the 95% radius of the errors is the configured one */
    double r95 = percentile(s.radial, n, 0.95);
    double median_acc = percentile(s.accuracy, n, 0.5);
    print_message("  95%% radius %.2f m (configured 6), median accuracy %.2f m\n", r95, median_acc);
    assert_near(r95, 6.0, 0.6);
    assert_near(median_acc, 6.0, 0.6);
    free_series(&s);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

static void test_multipath_outliers(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc = still_people(
        "{\"r95_m\": 3, \"outlier_rate_per_h\": 30, \"outlier_min_m\": 50, \"outlier_max_m\": "
        "200, \"outlier_min_s\": 5, \"outlier_max_s\": 15, \"outlier_reported_fraction\": 0.3}",
        "");
    struct vg_sim_world *w = must_world(sc, 7, WINTER_START_MS);
    struct series s;
    sample_series(w, &s);
    /* an episode: a run of epochs more than 25 m off (8 sigma of the noise) */
    size_t episodes = 0, busy = 0, reported = 0;
    double *sizes = calloc(s.n_units * EPOCHS, sizeof(double));
    assert_non_null(sizes);
    for (size_t u = 0; u < s.n_units; u++)
        for (int k = 0; k < EPOCHS; k++) {
            size_t i = u * EPOCHS + (size_t)k;
            if (s.radial[i] <= 25.0)
                continue;
            busy++;
            if (k == 0 || s.radial[i - 1] <= 25.0) {
                sizes[episodes++] = s.radial[i];
                reported += s.accuracy[i] >= 0.8 * s.radial[i];
            }
        }
    double hours_free = (double)(s.n_units * EPOCHS - busy) / 3600.0;
    double expected = 30.0 * hours_free;
    double mean_length = (double)busy / (double)episodes;
    double median_size = percentile(sizes, episodes, 0.5);
    print_message("  %zu jumps (expected %.0f), %.1f s long on average, median %.0f m, %.2f "
                  "reported\n",
                  episodes, expected, mean_length, median_size,
                  (double)reported / (double)episodes);
    assert_near((double)episodes, expected, 0.1 * expected);
    assert_near(mean_length, 10.0, 0.6);                /* 5..15 s, uniform */
    assert_near(median_size, sqrt(50.0 * 200.0), 12.0); /* log-uniform 50..200 m */
    assert_true(percentile(sizes, episodes, 0.0) > 40.0);
    assert_true(percentile(sizes, episodes, 1.0) < 215.0);
    assert_near((double)reported / (double)episodes, 0.3, 0.06);
    free(sizes);
    free_series(&s);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

static void test_urban_canyon(void **state)
{
    (void)state;
    /* a canyon over the authors' homes (longitude -1.35), not the protected persons' */
    struct vg_sim_scenario *sc = still_people(
        "{\"r95_m\": 4, \"canyon_factor\": 2.5, \"outlier_rate_per_h\": 0, "
        "\"canyon_outlier_rate_per_h\": 20}",
        "{\"kind\": \"canyon\", \"vertices\": [[47.0, -1.4], [47.3, -1.4], [47.3, -1.3], "
        "[47.0, -1.3]]}");
    struct vg_sim_world *w = must_world(sc, 3, WINTER_START_MS);
    struct series s;
    sample_series(w, &s);
    double *open = calloc(s.n_units * EPOCHS / 2, sizeof(double));
    double *canyon = calloc(s.n_units * EPOCHS / 2, sizeof(double));
    size_t n_open = 0, n_canyon = 0, jumps = 0;
    for (size_t u = 0; u < s.n_units; u++)
        for (int k = 0; k < EPOCHS; k++) {
            double r = s.radial[u * EPOCHS + (size_t)k];
            if (u % 2 == 0) {
                canyon[n_canyon++] = r;
                jumps += r > 25.0 && (k == 0 || s.radial[u * EPOCHS + (size_t)k - 1] <= 25.0);
            } else {
                open[n_open++] = r;
                assert_true(r < 25.0);
            }
        }
    double r_open = percentile(open, n_open, 0.95);
    /* the jumps inflate the canyon's tail: judge its noise on the median */
    double m_open = percentile(open, n_open, 0.5), m_canyon = percentile(canyon, n_canyon, 0.5);
    print_message("  open sky: 95%% %.2f m; medians open %.2f m, canyon %.2f m; %zu jumps\n",
                  r_open, m_open, m_canyon, jumps);
    assert_near(r_open, 4.0, 0.4);
    assert_near(m_canyon / m_open, 2.5, 0.25);
    double expected = 20.0 * (double)(N_PAIRS * HOURS);
    assert_near((double)jumps, expected, 0.2 * expected);
    free(open);
    free(canyon);
    free_series(&s);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

/* Samples unit u every second over [0, until) and checks each epoch's
 * fix against `expect_fix(t)`. */
static void expect_fixes(struct vg_sim_world *w, size_t u, int until,
                         bool (*expect_fix)(int t, const struct vg_sim_sample *s))
{
    for (int t = 0; t < until; t++) {
        struct vg_sim_sample s;
        assert_int_equal(vg_sim_world_sample(w, u, WINTER_START_MS + (int64_t)t * 1000, &s), VG_OK);
        bool want = expect_fix(t, &s);
        if (want != (s.fix.quality != VG_FIX_NONE))
            fail_msg("unit %zu at %d s: expected %s, got quality %u", u, t,
                     want ? "a fix" : "no fix", s.fix.quality);
        if (!want) {
            assert_near((double)s.fix.speed_mps, -1.0, 0.0);
        }
    }
}

/* The hole: a circle of 200 m, 1 km east of the walker's home; he walks
 * east at 1.4 m/s from 100 s, so he is inside from 800 m to 1200 m. */
static struct vg_geo_point hole_centre;
static int last_inside = -1000;

static bool hole_walk(int t, const struct vg_sim_sample *s)
{
    bool inside = dist_m(s->device_lat_deg, s->device_lon_deg, hole_centre.lat_deg,
                         hole_centre.lon_deg) <= 200.0;
    if (inside)
        last_inside = t;
    /* no fix inside, nor for the 5 s the receiver takes to reacquire */
    return !inside && t > last_inside + 5;
}

static bool metro_ride(int t, const struct vg_sim_sample *s)
{
    (void)s;
    /* 2 km by metro from 100 s: 200 s of travel and one stop of 25 s (at
     * 900 m; 1800 m is within the last half spacing), then 5 s to reacquire */
    return t < 100 || t > 325 + 5;
}

static bool switched_off(int t, const struct vg_sim_sample *s)
{
    assert_int_equal(s->powered, !(t >= 400 && t < 500));
    /* off, then a gnss_hole event, then a jamming event on his own unit;
     * each time 5 s more to reacquire */
    return !(t >= 400 && t < 505) && !(t >= 600 && t < 705) && !(t >= 800 && t < 905);
}

static void test_no_fix_without_sky(void **state)
{
    (void)state;
    hole_centre = dest(47.2, -1.55, 90.0, 1000.0);
    snprintf(json_buf, sizeof json_buf,
             "{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 2000},"
             "\"areas\": [{\"kind\": \"hole\", \"center\": [%.9f, %.9f], \"radius_m\": 200}],"
             "\"pairs\": [{\"author\": {\"wander_m\": 0, \"places\": {\"home\": [47.2, -1.55],"
             "  \"east\": {\"near\": \"home\", \"distance_m\": 2000, \"bearing_deg\": 90}},"
             "  \"trips\": [{\"at_s\": 100, \"to\": \"east\", \"mode\": \"walk\"}]},"
             " \"protected\": {\"wander_m\": 0, \"places\": {\"home\": [47.3, -1.55],"
             "  \"south\": {\"near\": \"home\", \"distance_m\": 2000, \"bearing_deg\": 180}},"
             "  \"trips\": [{\"at_s\": 100, \"to\": \"south\", \"mode\": \"metro\"}]}},"
             " {\"author\": {\"places\": {\"home\": [47.2, -1.45]}, \"events\": ["
             "   {\"type\": \"switched_off\", \"from_s\": 400, \"to_s\": 500},"
             "   {\"type\": \"gnss_hole\", \"from_s\": 600, \"to_s\": 700},"
             "   {\"type\": \"jamming\", \"from_s\": 800, \"to_s\": 900}]},"
             "  \"protected\": {\"places\": {\"home\": [47.4, -1.45]}}}]}",
             hole_centre.lat_deg, hole_centre.lon_deg);
    struct vg_sim_scenario *sc = must_parse(json_buf);
    struct vg_sim_world *w = must_world(sc, 5, WINTER_START_MS);
    last_inside = -1000;
    expect_fixes(w, 0, 2000, hole_walk);
    assert_true(last_inside > 900 && last_inside < 960); /* he did cross it */
    expect_fixes(w, 1, 1000, metro_ride);
    expect_fixes(w, 2, 1000, switched_off);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

/* A jammer carried by the author (300 m) silences her unit when he walks by
 * within 300 m; a jamming area does the same to anyone inside it for its
 * time range. */
static void test_jamming(void **state)
{
    (void)state;
    struct vg_geo_point her = dest(47.2, -1.55, 0.0, 150.0);
    snprintf(json_buf, sizeof json_buf,
             "{\"duration_s\": 3600, \"measure\": {\"alert_radius_m\": 2000},"
             "\"areas\": [{\"kind\": \"jamming\", \"center\": [47.5, -1.5], \"radius_m\": 1000,"
             "  \"from_s\": 1000, \"to_s\": 1100}],"
             "\"pairs\": [{\"author\": {\"wander_m\": 0, \"places\": {\"home\": [47.2, -1.57],"
             "  \"east\": [47.2, -1.53]}, \"trips\": [{\"at_s\": 100, \"to\": \"east\", "
             "  \"mode\": \"walk\"}], \"events\": [{\"type\": \"jamming\", \"from_s\": 0, "
             "  \"radius_m\": 300}]},"
             " \"protected\": {\"wander_m\": 0, \"places\": {\"home\": [%.9f, %.9f]}}},"
             " {\"author\": {\"places\": {\"home\": [47.5, -1.5]}},"
             "  \"protected\": {\"places\": {\"home\": [47.7, -1.5]}}}]}",
             her.lat_deg, her.lon_deg);
    struct vg_sim_scenario *sc = must_parse(json_buf);
    struct vg_sim_world *w = must_world(sc, 9, WINTER_START_MS);
    size_t jammed = 0, near = 0;
    int last_near = -1000;
    for (int t = 0; t < 3000; t++) {
        struct vg_sim_sample a, p;
        int64_t at = WINTER_START_MS + (int64_t)t * 1000;
        assert_int_equal(vg_sim_world_sample(w, 0, at, &a), VG_OK);
        assert_int_equal(vg_sim_world_sample(w, 1, at, &p), VG_OK);
        /* his own unit is always jammed */
        assert_int_equal(a.fix.quality, VG_FIX_NONE);
        double jammer_to_victim =
            dist_m(a.true_lat_deg, a.true_lon_deg, p.device_lat_deg, p.device_lon_deg);
        if (jammer_to_victim <= 300.0) {
            near++;
            last_near = t;
        }
        bool want = jammer_to_victim > 300.0 && t > last_near + 5;
        assert_int_equal(p.fix.quality != VG_FIX_NONE, want);
        jammed += p.fix.quality == VG_FIX_NONE;
        /* the other pair: jammed by the area from 1000 s to 1100 s (+5) */
        struct vg_sim_sample o;
        assert_int_equal(vg_sim_world_sample(w, 2, at, &o), VG_OK);
        assert_int_equal(o.fix.quality == VG_FIX_NONE, t >= 1000 && t < 1105);
    }
    assert_true(near > 300); /* he did pass within 300 m of her for minutes */
    assert_true(jammed >= near);
    vg_sim_world_free(w);
    vg_sim_scenario_free(sc);
}

/* The fix at a given second does not depend on when or how often the unit
 * is sampled; another run seed gives other errors, never other movement. */
/* Cold starts: a receiver without sky for cold_start_after_s needs
 * cold_reacquire_s (not reacquire_s) to fix again, and errs about
 * cold_error_factor times more at first, back to normal a minute later; a
 * short hole is a warm start. */
static void test_cold_start(void **state)
{
    (void)state;
    snprintf(json_buf, sizeof json_buf,
             "{\"duration_s\": 7200, \"measure\": {\"alert_radius_m\": 2000},"
             "\"gnss\": {\"r95_m\": 10, \"outlier_rate_per_h\": 0, \"cold_start_after_s\": 600,"
             "  \"cold_reacquire_s\": 40, \"cold_error_factor\": 6},"
             "\"pairs\": [{\"author\": {\"wander_m\": 0, \"places\": {\"home\": [47.2, -1.55]},"
             "  \"events\": [{\"type\": \"gnss_hole\", \"from_s\": 100, \"to_s\": 160},"
             "              {\"type\": \"gnss_hole\", \"from_s\": 1000, \"to_s\": 2000}]},"
             " \"protected\": {\"places\": {\"home\": [47.4, -1.45]}}}]}");
    struct vg_sim_scenario *sc = must_parse(json_buf);
    double warm_first = -1, cold_first = -1, cold_err = 0, later_err = 0;
    int n_cold = 0, n_later = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct vg_sim_world *w = must_world(sc, seed, WINTER_START_MS);
        bool seen_warm = false, seen_cold = false;
        for (int t = 0; t < 2200; t++) {
            struct vg_sim_sample s;
            assert_int_equal(vg_sim_world_sample(w, 0, WINTER_START_MS + t * 1000LL, &s), VG_OK);
            if (s.fix.quality == VG_FIX_NONE)
                continue;
            double e, n;
            fix_error(&s, &e, &n);
            if (t >= 160 && !seen_warm) {
                seen_warm = true;
                warm_first = fmax(warm_first, t - 160);
            }
            if (t >= 2000 && !seen_cold) {
                seen_cold = true;
                cold_first = fmax(cold_first, t - 2000);
            }
            if (t >= 2000 && t < 2050) {
                cold_err += hypot(e, n);
                n_cold++;
            } else if (t >= 2120) {
                later_err += hypot(e, n);
                n_later++;
            }
        }
        vg_sim_world_free(w);
    }
    /* warm: reacquire_s (5 s); cold: 40 s */
    assert_true(warm_first >= 5 && warm_first <= 7);
    assert_true(cold_first >= 40 && cold_first <= 42);
    cold_err /= n_cold;
    later_err /= n_later;
    print_message("  mean error just after a cold start %.1f m, a minute later %.1f m\n", cold_err,
                  later_err);
    assert_true(cold_err > 3.0 * later_err);
    vg_sim_scenario_free(sc);
}

static void test_determinism(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc = still_people("{\"outlier_rate_per_h\": 60}", "");
    struct vg_sim_world *a = must_world(sc, 11, WINTER_START_MS);
    struct vg_sim_world *b = must_world(sc, 11, WINTER_START_MS);
    struct vg_sim_world *c = must_world(sc, 12, WINTER_START_MS);
    size_t differ = 0;
    for (int64_t t = 0; t < 3600000; t += 1000) {
        struct vg_sim_sample sa, sb, sc2;
        assert_int_equal(vg_sim_world_sample(a, 3, WINTER_START_MS + t, &sa), VG_OK);
        assert_int_equal(vg_sim_world_sample(c, 3, WINTER_START_MS + t, &sc2), VG_OK);
        if (t % 7000 == 0) {
            /* b samples only every 7 s, and a little after the epoch */
            assert_int_equal(vg_sim_world_sample(b, 3, WINTER_START_MS + t + 300, &sb), VG_OK);
            assert_memory_equal(&sa.fix, &sb.fix, sizeof sa.fix);
            assert_int_equal(sb.fix.time_ms, WINTER_START_MS + t);
        }
        assert_true(sa.true_lat_deg == sc2.true_lat_deg && sa.true_lon_deg == sc2.true_lon_deg);
        differ += sa.fix.lat_deg != sc2.fix.lat_deg;
    }
    assert_true(differ > 3500);
    vg_sim_world_free(a);
    vg_sim_world_free(b);
    vg_sim_world_free(c);
    vg_sim_scenario_free(sc);
}

static void test_sampling_rules(void **state)
{
    (void)state;
    struct vg_sim_scenario *sc = still_people("{}", "");
    struct vg_sim_world *w = NULL;
    char err[256];
    assert_int_equal(vg_sim_world_new(sc, 1, 0, &w, err, sizeof err), VG_ERANGE);
    assert_null(w);
    assert_int_equal(vg_sim_world_new(sc, 1, VG_TIME_MAX_MS - 1000, &w, err, sizeof err),
                     VG_ERANGE);
    w = must_world(sc, 1, WINTER_START_MS);
    assert_int_equal(vg_sim_world_units(w), 2 * N_PAIRS);
    struct vg_sim_sample s;
    assert_int_equal(vg_sim_world_sample(w, 2 * N_PAIRS, WINTER_START_MS, &s), VG_EINVAL);
    assert_int_equal(vg_sim_world_sample(w, 0, WINTER_START_MS - 1, &s), VG_ERANGE);
    assert_int_equal(vg_sim_world_sample(w, 0, WINTER_START_MS + 12345, &s), VG_OK);
    assert_int_equal(s.fix.time_ms, WINTER_START_MS + 12000);
    assert_int_equal(vg_sim_world_sample(w, 0, WINTER_START_MS + 12345, &s), VG_OK);
    assert_int_equal(vg_sim_world_sample(w, 0, WINTER_START_MS + 12344, &s), VG_ESTALE);
    /* the run may go on past the scenario's end */
    assert_int_equal(vg_sim_world_sample(w, 0, WINTER_START_MS + 30 * 3600000LL, &s), VG_OK);
    assert_int_equal(s.fix.quality, VG_FIX_3D);
    vg_sim_world_free(w);
    vg_sim_world_free(NULL);
    vg_sim_scenario_free(sc);
}

SIM_TEST_MAIN(cmocka_unit_test(test_noise_radius_correlation_and_accuracy),
              cmocka_unit_test(test_multipath_outliers), cmocka_unit_test(test_urban_canyon),
              cmocka_unit_test(test_no_fix_without_sky), cmocka_unit_test(test_jamming),
              cmocka_unit_test(test_cold_start), cmocka_unit_test(test_determinism),
              cmocka_unit_test(test_sampling_rules))
