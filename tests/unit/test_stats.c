/* The statistician's figures (core/stats.c): months and periods, what is
 * counted where, the medians, and above all what is withheld: small
 * counts, sums over few measures, totals that would give a withheld kind
 * away, ratios made of withheld figures, small courts folded. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/testing.h"
#include "core/err.h"
#include "core/lifecycle.h"
#include "core/stats.h"

#define HOUR_MS 3600000LL
#define DAY_MS  86400000LL

/* 2026-03 as a month number, and its first instant. */
static int32_t mar2026;
static int64_t MAR; /* 2026-03-01T00:00:00Z */

static int group_setup(void **state)
{
    (void)state;
    if (vg_stats_month_parse("2026-03", &mar2026) != VG_OK)
        return -1;
    MAR = vg_stats_month_start_ms(mar2026);
    return 0;
}

/* ---- a query with room for a few courts -------------------------------------------------- */

#define COURTS 8
#define DELAYS 64

struct fx {
    struct vg_stats st;
    struct vg_stats_court courts[COURTS];
    struct vg_stats_cell cells[COURTS * VG_STATS_MAX_MONTHS];
    struct vg_stats_delay delays[DELAYS];
};

static struct fx *query(int32_t first, uint32_t n, int64_t now, const char *only)
{
    struct fx *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    vg_stats_init(&fx->st, first, n, now, only);
    vg_stats_memory(&fx->st, fx->courts, fx->cells, COURTS, fx->delays, DELAYS);
    return fx;
}

/* A measure declared at t0, active from t0 + delay (0: never), ended at
 * end (0: not) for reason, with `sos` SOS alarms raised at t_alarm. */
struct spec {
    const char *court;
    int64_t t0, delay, end;
    uint8_t reason;
    uint64_t sos;
    int64_t t_alarm;
};

static void add(struct fx *fx, struct spec s)
{
    struct vg_stats_version v[3] = {{VG_STATUS_PENDING, 0, s.t0}};
    size_t n = 1;
    if (s.delay)
        v[n++] = (struct vg_stats_version){VG_STATUS_ACTIVE, 0, s.t0 + s.delay};
    if (s.end)
        v[n++] = (struct vg_stats_version){VG_STATUS_ENDED, s.reason, s.end};
    struct vg_stats_alarms a = {VG_ALARM_SOS, s.t_alarm ? s.t_alarm : s.t0 + s.delay + 1, s.sos};
    struct vg_stats_measure m = {
        .court = s.court, .versions = v, .n_versions = n, .alarms = &a, .n_alarms = s.sos ? 1 : 0};
    assert_int_equal(vg_stats_add(&fx->st, &m), VG_OK);
}

static size_t metric(const char *group, const char *name)
{
    for (size_t i = 0; i < vg_stats_n_metrics(); i++) {
        struct vg_stats_metric m = vg_stats_metric(i);
        if (strcmp(m.name, name) == 0 &&
            (group ? m.group && strcmp(m.group, group) == 0 : !m.group))
            return i;
    }
    fail_msg("no metric %s.%s", group ? group : "", name);
    return 0;
}

static size_t row_of(const struct fx *fx, const char *court)
{
    for (size_t r = 0; r < vg_stats_rows(&fx->st); r++)
        if (strcmp(vg_stats_row_court(&fx->st, r), court) == 0)
            return r;
    fail_msg("no row for %s", court);
    return 0;
}

static struct vg_stats_value value(const struct fx *fx, const char *court, uint32_t month,
                                   const char *group, const char *name)
{
    return vg_stats_value(&fx->st, row_of(fx, court), month, metric(group, name));
}

#define assert_shown(v, x)                                                                         \
    do {                                                                                           \
        struct vg_stats_value v_ = (v);                                                            \
        assert_true(v_.defined);                                                                   \
        assert_false(v_.suppressed);                                                               \
        assert_near(v_.value, (x), 1e-9);                                                          \
    } while (0)

#define assert_withheld(v)                                                                         \
    do {                                                                                           \
        struct vg_stats_value v_ = (v);                                                            \
        assert_true(v_.suppressed);                                                                \
        assert_true(v_.value == 0);                                                                \
    } while (0)

#define assert_undefined(v)                                                                        \
    do {                                                                                           \
        struct vg_stats_value v_ = (v);                                                            \
        assert_false(v_.defined);                                                                  \
        assert_false(v_.suppressed);                                                               \
    } while (0)

/* ---- months and periods ------------------------------------------------------------------- */

static void test_months(void **state)
{
    (void)state;
    int32_t m;
    assert_int_equal(vg_stats_month_parse("2026-01", &m), VG_OK);
    assert_int_equal(m, 2026 * 12);
    char out[8];
    vg_stats_month_format(m + 11, out);
    assert_string_equal(out, "2026-12");
    vg_stats_month_format(m + 12, out);
    assert_string_equal(out, "2027-01");
    assert_int_equal(vg_stats_month_start_ms(m), 1767225600000LL); /* 2026-01-01T00:00Z */
    assert_int_equal(vg_stats_month_of(1767225600000LL), m);
    assert_int_equal(vg_stats_month_of(1767225600000LL - 1), m - 1);
    assert_int_equal(vg_stats_month_of(MAR + 31 * DAY_MS - 1), mar2026);
    assert_int_equal(vg_stats_month_of(MAR + 31 * DAY_MS), mar2026 + 1);
    assert_int_equal(vg_stats_month_of(INT64_MAX), VG_CIVIL_MAX_YEAR * 12 + 11); /* clamped */
    static const char *const bad[] = {"2026-13", "2026-00",    "2026-1",   "26-01",
                                      "2026/01", "2026-01-01", "",         "abcd-ef",
                                      "1899-12", "2201-01",    " 2026-01", "2026-1a"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        assert_int_equal(vg_stats_month_parse(bad[i], &m), VG_EINVAL);
    assert_int_equal(vg_stats_month_parse(NULL, &m), VG_EINVAL);
}

static void test_period(void **state)
{
    (void)state;
    int64_t now = MAR + 10 * DAY_MS;
    int32_t first;
    uint32_t n;
    char msg[64];
    /* by default: the last 12 months to the current one */
    assert_int_equal(vg_stats_period(NULL, NULL, now, &first, &n, msg, sizeof msg), VG_OK);
    assert_int_equal(first, mar2026 - 11);
    assert_int_equal(n, 12);
    assert_int_equal(vg_stats_period("2025-01", NULL, now, &first, &n, msg, sizeof msg), VG_OK);
    assert_int_equal(n, 15);
    assert_int_equal(vg_stats_period(NULL, "2025-06", now, &first, &n, msg, sizeof msg), VG_OK);
    assert_int_equal(n, 12);
    assert_int_equal(first + 11, mar2026 - 9);
    assert_int_equal(vg_stats_period("2026-03", "2026-03", now, &first, &n, msg, sizeof msg),
                     VG_OK);
    assert_int_equal(n, 1);
    assert_int_equal(vg_stats_period("2023-04", "2026-03", now, &first, &n, msg, sizeof msg),
                     VG_OK);
    assert_int_equal(n, 36);
    assert_int_equal(vg_stats_period("2023-03", "2026-03", now, &first, &n, msg, sizeof msg),
                     VG_EINVAL);
    assert_non_null(strstr(msg, "36"));
    assert_int_equal(vg_stats_period("2026-04", "2026-03", now, &first, &n, msg, sizeof msg),
                     VG_EINVAL);
    assert_non_null(strstr(msg, "after"));
    assert_int_equal(vg_stats_period("2026-13", NULL, now, &first, &n, msg, sizeof msg), VG_EINVAL);
    assert_non_null(strstr(msg, "from"));
    assert_int_equal(vg_stats_period(NULL, "x", now, &first, &n, msg, sizeof msg), VG_EINVAL);
    assert_non_null(strstr(msg, "to"));
}

/* ---- what is counted where ---------------------------------------------------------------- */

static void test_a_court_month_by_month(void **state)
{
    (void)state;
    /* March and April; now: 10 April */
    int64_t now = MAR + 40 * DAY_MS;
    struct fx *fx = query(mar2026, 2, now, NULL);
    /* six measures declared on 2 March, active 1, 2, ... 6 hours later, one
     * SOS each; two of them lifted on 1 April, one revoked on 2 April */
    for (int i = 0; i < 6; i++) {
        int64_t end = i < 2 ? MAR + 31 * DAY_MS : i == 2 ? MAR + 32 * DAY_MS : 0;
        uint8_t reason = i < 2 ? VG_END_LIFTED : VG_END_REVOKED;
        add(fx, (struct spec){.court = "TJ-A",
                              .t0 = MAR + DAY_MS,
                              .delay = (i + 1) * HOUR_MS,
                              .end = end,
                              .reason = reason,
                              .sos = 1,
                              .t_alarm = 0});
    }
    vg_stats_finish(&fx->st);
    assert_int_equal(vg_stats_rows(&fx->st), 1);
    assert_string_equal(vg_stats_row_court(&fx->st, 0), "TJ-A");
    assert_shown(value(fx, "TJ-A", 0, NULL, "measures_declared"), 6);
    assert_shown(value(fx, "TJ-A", 1, NULL, "measures_declared"), 0);
    assert_shown(value(fx, "TJ-A", 0, NULL, "activations"), 6);
    assert_shown(value(fx, "TJ-A", 0, NULL, "activation_delay_median_hours"), 3.5);
    assert_undefined(value(fx, "TJ-A", 1, NULL, "activation_delay_median_hours"));
    /* active in March: from 2 March + i hours to the end of March, each */
    double march = 0;
    for (int i = 0; i < 6; i++)
        march += (double)(30 * DAY_MS - (i + 1) * HOUR_MS) / (double)DAY_MS;
    assert_shown(value(fx, "TJ-A", 0, NULL, "measures_active_days"), march);
    /* April: two ended at once, one a day in, three until now (9 days): but
     * only four active measures, too few to show their days */
    assert_withheld(value(fx, "TJ-A", 1, NULL, "measures_active_days"));
    assert_withheld(value(fx, "TJ-A", 1, "measures_ended", "lifted"));  /* 2 */
    assert_withheld(value(fx, "TJ-A", 1, "measures_ended", "revoked")); /* 1 */
    assert_shown(value(fx, "TJ-A", 1, "measures_ended", "expired"), 0);
    assert_shown(value(fx, "TJ-A", 0, "alarms_by_kind", "sos"), 6);
    assert_shown(value(fx, "TJ-A", 0, "alarms_by_kind", "callback_request"), 0);
    assert_shown(value(fx, "TJ-A", 0, NULL, "alarms"), 6);
    assert_shown(value(fx, "TJ-A", 0, NULL, "alarms_per_pair_day"), 6 / march);
    assert_shown(value(fx, "TJ-A", 1, NULL, "alarms"), 0);
    assert_withheld(value(fx, "TJ-A", 1, NULL, "alarms_per_pair_day")); /* its days are */
    free(fx);
}

static void test_active_time_follows_the_versions(void **state)
{
    (void)state;
    /* one measure: pending on 1 March, active on the 3rd, suspended on the
     * 10th, active again on the 20th (an amended version on the 25th, still
     * active), ended on the 28th; four more for the figure to be shown */
    int64_t d = DAY_MS;
    struct vg_stats_version v[] = {
        {VG_STATUS_PENDING, 0, MAR},           {VG_STATUS_ACTIVE, 0, MAR + 2 * d},
        {VG_STATUS_SUSPENDED, 0, MAR + 9 * d}, {VG_STATUS_ACTIVE, 0, MAR + 19 * d},
        {VG_STATUS_ACTIVE, 0, MAR + 24 * d},   {VG_STATUS_ENDED, VG_END_EXPIRED, MAR + 27 * d},
    };
    struct fx *fx = query(mar2026, 1, MAR + 60 * d, NULL);
    for (int i = 0; i < 5; i++) {
        struct vg_stats_measure m = {.court = "TJ-A",
                                     .versions = v,
                                     .n_versions = ARRAY_LEN(v),
                                     .alarms = NULL,
                                     .n_alarms = 0};
        assert_int_equal(vg_stats_add(&fx->st, &m), VG_OK);
    }
    vg_stats_finish(&fx->st);
    assert_shown(value(fx, "TJ-A", 0, NULL, "measures_active_days"), 5 * (7 + 8));
    assert_shown(value(fx, "TJ-A", 0, NULL, "activations"), 5); /* the first only */
    assert_shown(value(fx, "TJ-A", 0, NULL, "activation_delay_median_hours"), 48);
    assert_shown(value(fx, "TJ-A", 0, "measures_ended", "expired"), 5);
    free(fx);

    /* still active: until now, not beyond */
    fx = query(mar2026, 2, MAR + 5 * d, NULL);
    struct vg_stats_version w[] = {{VG_STATUS_ACTIVE, 0, MAR + d}};
    for (int i = 0; i < 5; i++) {
        struct vg_stats_measure m = {
            .court = "TJ-A", .versions = w, .n_versions = 1, .alarms = NULL, .n_alarms = 0};
        assert_int_equal(vg_stats_add(&fx->st, &m), VG_OK);
    }
    vg_stats_finish(&fx->st);
    assert_shown(value(fx, "TJ-A", 0, NULL, "measures_active_days"), 5 * 4);
    assert_shown(value(fx, "TJ-A", 1, NULL, "measures_active_days"), 0);
    /* declared active (a measure from before the versions): no delay */
    assert_shown(value(fx, "TJ-A", 0, NULL, "activation_delay_median_hours"), 0);
    free(fx);
}

static void test_active_time_across_months(void **state)
{
    (void)state;
    /* active from 31 January noon to 1 March noon, five such measures */
    int32_t jan = mar2026 - 2;
    int64_t jan31 = vg_stats_month_start_ms(jan) + 30 * DAY_MS + 12 * HOUR_MS;
    struct vg_stats_version v[] = {{VG_STATUS_PENDING, 0, jan31 - DAY_MS},
                                   {VG_STATUS_ACTIVE, 0, jan31},
                                   {VG_STATUS_SUSPENDED, 0, MAR + 12 * HOUR_MS}};
    struct fx *fx = query(jan, 3, MAR + 100 * DAY_MS, NULL);
    for (int i = 0; i < 5; i++) {
        struct vg_stats_measure m = {
            .court = "TJ-A", .versions = v, .n_versions = 3, .alarms = NULL, .n_alarms = 0};
        assert_int_equal(vg_stats_add(&fx->st, &m), VG_OK);
    }
    vg_stats_finish(&fx->st);
    assert_shown(value(fx, "TJ-A", 0, NULL, "measures_active_days"), 5 * 0.5);
    assert_shown(value(fx, "TJ-A", 1, NULL, "measures_active_days"), 5 * 28);
    assert_shown(value(fx, "TJ-A", 2, NULL, "measures_active_days"), 5 * 0.5);
    free(fx);
}

static void test_medians(void **state)
{
    (void)state;
    struct fx *fx = query(mar2026, 2, MAR + 90 * DAY_MS, NULL);
    /* March: 5 activations (1, 2, 3, 10, 100 hours): 3; April: 6 (even) */
    int64_t hours[] = {10, 1, 100, 3, 2};
    for (size_t i = 0; i < ARRAY_LEN(hours); i++)
        add(fx, (struct spec){.court = "TJ-A", .t0 = MAR, .delay = hours[i] * HOUR_MS});
    int64_t apr = MAR + 31 * DAY_MS;
    int64_t april[] = {4, 8, 1, 2, 30, 6};
    for (size_t i = 0; i < ARRAY_LEN(april); i++)
        add(fx, (struct spec){.court = "TJ-A", .t0 = apr, .delay = april[i] * HOUR_MS});
    vg_stats_finish(&fx->st);
    assert_shown(value(fx, "TJ-A", 0, NULL, "activation_delay_median_hours"), 3);
    assert_shown(value(fx, "TJ-A", 1, NULL, "activation_delay_median_hours"), 5);
    free(fx);
}

/* ---- what is withheld -------------------------------------------------------------------- */

static void test_counts_from_one_to_four_are_withheld(void **state)
{
    (void)state;
    for (int n = 0; n <= 6; n++) {
        struct fx *fx = query(mar2026, 1, MAR + 60 * DAY_MS, NULL);
        /* n declared in March; the court has 5 more from before (never active) */
        for (int i = 0; i < n; i++)
            add(fx, (struct spec){.court = "TJ-A", .t0 = MAR + DAY_MS});
        for (int i = 0; i < 5; i++)
            add(fx, (struct spec){.court = "TJ-A", .t0 = MAR - DAY_MS});
        vg_stats_finish(&fx->st);
        struct vg_stats_value v = value(fx, "TJ-A", 0, NULL, "measures_declared");
        if (n >= 1 && n <= 4)
            assert_withheld(v);
        else
            assert_shown(v, n);
        free(fx);
    }
}

static void test_sums_over_few_measures_are_withheld(void **state)
{
    (void)state;
    struct fx *fx = query(mar2026, 1, MAR + 60 * DAY_MS, NULL);
    /* six measures active all March; one of them raises 12 SOS, another
     * 3 call-back requests: 12 is not small, but it is one person's */
    for (int i = 0; i < 6; i++)
        add(fx, (struct spec){.court = "TJ-A",
                              .t0 = MAR - DAY_MS,
                              .delay = HOUR_MS,
                              .end = 0,
                              .reason = 0,
                              .sos = i == 0 ? 12 : 0,
                              .t_alarm = MAR + DAY_MS});
    vg_stats_finish(&fx->st);
    assert_withheld(value(fx, "TJ-A", 0, "alarms_by_kind", "sos"));
    assert_withheld(value(fx, "TJ-A", 0, NULL, "alarms"));
    assert_withheld(value(fx, "TJ-A", 0, NULL, "alarms_per_pair_day"));
    assert_shown(value(fx, "TJ-A", 0, NULL, "measures_active_days"), 6 * 31);
    free(fx);

    /* the same 12 SOS from five measures are shown */
    fx = query(mar2026, 1, MAR + 60 * DAY_MS, NULL);
    for (int i = 0; i < 6; i++)
        add(fx, (struct spec){.court = "TJ-A",
                              .t0 = MAR - DAY_MS,
                              .delay = HOUR_MS,
                              .end = 0,
                              .reason = 0,
                              .sos = i < 5 ? (i ? 2 : 4) : 0,
                              .t_alarm = MAR + DAY_MS});
    vg_stats_finish(&fx->st);
    assert_shown(value(fx, "TJ-A", 0, "alarms_by_kind", "sos"), 12);
    assert_shown(value(fx, "TJ-A", 0, NULL, "alarms"), 12);
    assert_shown(value(fx, "TJ-A", 0, NULL, "alarms_per_pair_day"), 12.0 / (6 * 31));
    free(fx);
}

static void test_a_total_does_not_give_a_withheld_kind_away(void **state)
{
    (void)state;
    struct fx *fx = query(mar2026, 1, MAR + 60 * DAY_MS, NULL);
    /* six measures: one SOS each; one of them also 2 call-back requests */
    for (int i = 0; i < 6; i++) {
        struct vg_stats_version v[] = {{VG_STATUS_ACTIVE, 0, MAR - DAY_MS}};
        struct vg_stats_alarms a[] = {{VG_ALARM_SOS, MAR + DAY_MS, 1},
                                      {VG_ALARM_CALLBACK_REQUEST, MAR + 2 * DAY_MS, 2}};
        struct vg_stats_measure m = {.court = "TJ-A",
                                     .versions = v,
                                     .n_versions = 1,
                                     .alarms = a,
                                     .n_alarms = i == 0 ? 2 : 1};
        assert_int_equal(vg_stats_add(&fx->st, &m), VG_OK);
    }
    vg_stats_finish(&fx->st);
    assert_shown(value(fx, "TJ-A", 0, "alarms_by_kind", "sos"), 6);
    assert_withheld(value(fx, "TJ-A", 0, "alarms_by_kind", "callback_request"));
    /* 8 would tell 8 - 6 = 2 call-back requests */
    assert_withheld(value(fx, "TJ-A", 0, NULL, "alarms"));
    assert_withheld(value(fx, "TJ-A", 0, NULL, "alarms_per_pair_day"));
    free(fx);
}

static void test_a_measure_counts_once_per_kind_and_month(void **state)
{
    (void)state;
    /* five measures, each with its SOS in two rows of the same month: five
     * measures, not ten */
    struct fx *fx = query(mar2026, 1, MAR + 60 * DAY_MS, NULL);
    for (int i = 0; i < 5; i++) {
        struct vg_stats_version v[] = {{VG_STATUS_ACTIVE, 0, MAR - DAY_MS}};
        struct vg_stats_alarms a[] = {{VG_ALARM_SOS, MAR + DAY_MS, 1},
                                      {VG_ALARM_SOS, MAR + 2 * DAY_MS, 1}};
        struct vg_stats_measure m = {
            .court = "TJ-A", .versions = v, .n_versions = 1, .alarms = a, .n_alarms = 2};
        assert_int_equal(vg_stats_add(&fx->st, &m), VG_OK);
    }
    vg_stats_finish(&fx->st);
    assert_shown(value(fx, "TJ-A", 0, "alarms_by_kind", "sos"), 10);
    assert_int_equal(fx->cells[0].alarm_measures[VG_ALARM_SOS], 5);
    assert_int_equal(fx->cells[0].alarms_total_measures, 5);
    free(fx);
}

/* ---- courts ------------------------------------------------------------------------------ */

static void test_small_courts_are_folded(void **state)
{
    (void)state;
    struct fx *fx = query(mar2026, 1, MAR + 60 * DAY_MS, NULL);
    for (int i = 0; i < 6; i++)
        add(fx, (struct spec){.court = "TJ-B", .t0 = MAR + DAY_MS, .delay = HOUR_MS});
    for (int i = 0; i < 5; i++)
        add(fx, (struct spec){.court = "TJ-A", .t0 = MAR + DAY_MS, .delay = HOUR_MS});
    for (int i = 0; i < 2; i++)
        add(fx, (struct spec){.court = "TJ-C", .t0 = MAR + DAY_MS, .delay = HOUR_MS});
    for (int i = 0; i < 2; i++)
        add(fx, (struct spec){.court = "", .t0 = MAR + DAY_MS, .delay = HOUR_MS}); /* no court */
    char long_name[VG_STATS_COURT_MAX + 2];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    add(fx, (struct spec){
                .court = long_name, .t0 = MAR + DAY_MS, .delay = HOUR_MS}); /* not a court's name */
    add(fx, (struct spec){.court = NULL, .t0 = MAR + DAY_MS, .delay = HOUR_MS});
    /* a court of old measures, ended before the period: not in it */
    for (int i = 0; i < 9; i++)
        add(fx, (struct spec){.court = "TJ-D",
                              .t0 = MAR - 60 * DAY_MS,
                              .delay = HOUR_MS,
                              .end = MAR - DAY_MS,
                              .reason = VG_END_LIFTED});
    vg_stats_finish(&fx->st);
    assert_int_equal(vg_stats_rows(&fx->st), 3);
    assert_string_equal(vg_stats_row_court(&fx->st, 0), "TJ-A");
    assert_string_equal(vg_stats_row_court(&fx->st, 1), "TJ-B");
    assert_string_equal(vg_stats_row_court(&fx->st, 2), VG_STATS_OTHER_COURTS);
    assert_string_equal(vg_stats_row_court(&fx->st, 3), "");
    assert_shown(value(fx, "TJ-A", 0, NULL, "measures_declared"), 5);
    assert_shown(value(fx, "TJ-B", 0, NULL, "measures_declared"), 6);
    /* two of TJ-C, two without a court, two with a bad one: six together */
    assert_shown(value(fx, VG_STATS_OTHER_COURTS, 0, NULL, "measures_declared"), 6);
    assert_shown(value(fx, VG_STATS_OTHER_COURTS, 0, NULL, "activations"), 6);
    assert_shown(value(fx, VG_STATS_OTHER_COURTS, 0, NULL, "activation_delay_median_hours"), 1);
    free(fx);

    /* a single small court: "other courts", its figures withheld */
    fx = query(mar2026, 1, MAR + 60 * DAY_MS, NULL);
    for (int i = 0; i < 4; i++)
        add(fx, (struct spec){.court = "TJ-C", .t0 = MAR + DAY_MS, .delay = HOUR_MS});
    vg_stats_finish(&fx->st);
    assert_int_equal(vg_stats_rows(&fx->st), 1);
    assert_string_equal(vg_stats_row_court(&fx->st, 0), VG_STATS_OTHER_COURTS);
    assert_withheld(value(fx, VG_STATS_OTHER_COURTS, 0, NULL, "measures_declared"));
    assert_withheld(value(fx, VG_STATS_OTHER_COURTS, 0, NULL, "activation_delay_median_hours"));
    free(fx);

    /* nothing at all: no row */
    fx = query(mar2026, 1, MAR + 60 * DAY_MS, NULL);
    vg_stats_finish(&fx->st);
    assert_int_equal(vg_stats_rows(&fx->st), 0);
    free(fx);
}

static void test_one_court_only(void **state)
{
    (void)state;
    struct fx *fx = query(mar2026, 1, MAR + 60 * DAY_MS, "TJ-A");
    for (int i = 0; i < 5; i++)
        add(fx, (struct spec){.court = "TJ-A", .t0 = MAR + DAY_MS, .delay = HOUR_MS});
    for (int i = 0; i < 7; i++)
        add(fx, (struct spec){.court = "TJ-B", .t0 = MAR + DAY_MS, .delay = HOUR_MS});
    add(fx, (struct spec){.court = "", .t0 = MAR + DAY_MS, .delay = HOUR_MS});
    vg_stats_finish(&fx->st);
    assert_int_equal(vg_stats_rows(&fx->st), 1);
    assert_shown(value(fx, "TJ-A", 0, NULL, "measures_declared"), 5);
    free(fx);
    /* "" is nobody's court: it reads nothing, not the measures without one */
    fx = query(mar2026, 1, MAR + 60 * DAY_MS, "");
    for (int i = 0; i < 6; i++)
        add(fx, (struct spec){.court = "", .t0 = MAR + DAY_MS, .delay = HOUR_MS});
    vg_stats_finish(&fx->st);
    assert_int_equal(vg_stats_rows(&fx->st), 0);
    free(fx);
}

/* ---- memory ------------------------------------------------------------------------------ */

static void test_more_memory_on_enospc(void **state)
{
    (void)state;
    struct vg_stats st;
    vg_stats_init(&st, mar2026, 2, MAR + 60 * DAY_MS, NULL);
    size_t cap_courts = 1, cap_delays = 1;
    struct vg_stats_court *courts = malloc(cap_courts * sizeof *courts);
    struct vg_stats_cell *cells = malloc(cap_courts * 2 * sizeof *cells);
    struct vg_stats_delay *delays = malloc(cap_delays * sizeof *delays);
    assert_true(courts && cells && delays);
    vg_stats_memory(&st, courts, cells, cap_courts, delays, cap_delays);
    char name[16];
    int grown = 0;
    for (int i = 0; i < 60; i++) {
        snprintf(name, sizeof name, "TJ-%02d", i % 12);
        struct vg_stats_version v[] = {{VG_STATUS_PENDING, 0, MAR},
                                       {VG_STATUS_ACTIVE, 0, MAR + (i + 1) * HOUR_MS}};
        struct vg_stats_measure m = {
            .court = name, .versions = v, .n_versions = 2, .alarms = NULL, .n_alarms = 0};
        int rc;
        while ((rc = vg_stats_add(&st, &m)) == VG_ENOSPC) {
            grown++;
            cap_courts *= 2;
            cap_delays *= 2;
            courts = realloc(courts, cap_courts * sizeof *courts);
            cells = realloc(cells, cap_courts * 2 * sizeof *cells);
            delays = realloc(delays, cap_delays * sizeof *delays);
            assert_true(courts && cells && delays);
            vg_stats_memory(&st, courts, cells, cap_courts, delays, cap_delays);
        }
        assert_int_equal(rc, VG_OK);
    }
    assert_true(grown > 0);
    vg_stats_finish(&st);
    assert_int_equal(vg_stats_rows(&st), 12);
    for (size_t r = 0; r < 12; r++) {
        snprintf(name, sizeof name, "TJ-%02zu", r);
        assert_string_equal(vg_stats_row_court(&st, r), name);
        struct vg_stats_value v = vg_stats_value(&st, r, 0, metric(NULL, "activations"));
        assert_shown(v, 5);
    }
    assert_int_equal(vg_stats_add(&st, &(struct vg_stats_measure){.court = "x"}), VG_EINVAL);
    free(courts);
    free(cells);
    free(delays);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct fx *fx = query(mar2026, 1, MAR + 60 * DAY_MS, NULL);
    struct vg_stats_measure none = {
        .court = "TJ-A", .versions = NULL, .n_versions = 0, .alarms = NULL, .n_alarms = 0};
    assert_int_equal(vg_stats_add(&fx->st, &none), VG_EINVAL);
    /* unknown kinds and statuses are not counted, nor are they an error */
    struct vg_stats_version v[] = {{0, 0, MAR + DAY_MS}, {99, 99, MAR + 2 * DAY_MS}};
    struct vg_stats_alarms a[] = {{0, MAR + DAY_MS, 7}, {999, MAR + DAY_MS, 7}};
    struct vg_stats_measure odd = {
        .court = "TJ-A", .versions = v, .n_versions = 2, .alarms = a, .n_alarms = 2};
    for (int i = 0; i < 5; i++)
        assert_int_equal(vg_stats_add(&fx->st, &odd), VG_OK);
    vg_stats_finish(&fx->st);
    assert_shown(value(fx, "TJ-A", 0, NULL, "alarms"), 0);
    assert_shown(value(fx, "TJ-A", 0, NULL, "measures_declared"), 5);
    assert_shown(value(fx, "TJ-A", 0, NULL, "activations"), 0);
    assert_undefined(value(fx, "TJ-A", 0, NULL, "alarms_per_pair_day"));
    /* out of range: nothing */
    assert_undefined(vg_stats_value(&fx->st, 1, 0, 0));
    assert_undefined(vg_stats_value(&fx->st, 0, 1, 0));
    assert_undefined(vg_stats_value(&fx->st, 0, 0, vg_stats_n_metrics()));
    free(fx);
}

/* Incidents and the units' signal, against hand-computed figures: six
 * measures of one court active all March (31 days), two units each. */
static void test_incidents_and_uptime(void **state)
{
    (void)state;
    struct fx *fx = query(mar2026, 1, MAR + 40 * DAY_MS, NULL);
    const int64_t S = 1000, H = 3600 * S;
    for (int i = 0; i < 6; i++) {
        struct vg_stats_version v[2] = {{VG_STATUS_PENDING, 0, MAR - 2 * DAY_MS},
                                        {VG_STATUS_ACTIVE, 0, MAR - DAY_MS}};
        /* measure i: one incident opened on day i+1, taken after 10*(i+1) s;
         * the police alerted after 60*(i+1) s for the first four; all closed
         * but the last */
        struct vg_stats_incident inc = {
            .opened_ms = MAR + (i + 1) * DAY_MS,
            .taken_ms = MAR + (i + 1) * DAY_MS + 10 * (i + 1) * S,
            .police_ms = i < 4 ? MAR + (i + 1) * DAY_MS + 60 * (i + 1) * S : 0,
            .closed_ms = i < 5 ? MAR + (i + 1) * DAY_MS + H : 0};
        /* a loss of 3 h on each measure's units, one starting in February */
        struct vg_stats_loss loss[2] = {{MAR + 10 * DAY_MS, MAR + 10 * DAY_MS + 3 * H},
                                        {MAR - H, MAR + H}};
        struct vg_stats_measure m = {.court = "TJ-A",
                                     .versions = v,
                                     .n_versions = 2,
                                     .incidents = &inc,
                                     .n_incidents = 1,
                                     .losses = loss,
                                     .n_losses = 2,
                                     .n_units = 2};
        assert_int_equal(vg_stats_add(&fx->st, &m), VG_OK);
    }
    vg_stats_finish(&fx->st);
    assert_shown(value(fx, "TJ-A", 0, NULL, "incidents"), 6);
    /* closed: 5, of which without police: the fifth only -> 1 of 5: withheld
     * (a count of one could point at that case) */
    assert_withheld(value(fx, "TJ-A", 0, NULL, "false_alarm_share"));
    /* taken: 6 delays 10..60 s -> median (30 + 40) / 2 = 35 s */
    assert_shown(value(fx, "TJ-A", 0, NULL, "time_to_take_median_s"), 35);
    /* police: 4 incidents -> withheld */
    assert_withheld(value(fx, "TJ-A", 0, NULL, "time_to_police_median_s"));
    /* unit time: 6 measures x 2 units x 31 days; lost: 6 x (3 h + the 1 h
     * of March of the second loss) */
    double unit_h = 6 * 2 * 31 * 24.0, lost_h = 6 * 4.0;
    assert_shown(value(fx, "TJ-A", 0, NULL, "device_uptime_share"), 1 - lost_h / unit_h);
    free(fx);

    /* ten measures: the police figures are published */
    fx = query(mar2026, 1, MAR + 40 * DAY_MS, NULL);
    for (int i = 0; i < 10; i++) {
        struct vg_stats_version v[2] = {{VG_STATUS_PENDING, 0, MAR - 2 * DAY_MS},
                                        {VG_STATUS_ACTIVE, 0, MAR - DAY_MS}};
        struct vg_stats_incident inc = {
            .opened_ms = MAR + DAY_MS,
            .taken_ms = MAR + DAY_MS + 20 * S,
            .police_ms = i < 5 ? MAR + DAY_MS + 100 * (i + 1) * S : 0,
            .closed_ms = MAR + DAY_MS + H};
        struct vg_stats_measure m = {.court = "TJ-A",
                                     .versions = v,
                                     .n_versions = 2,
                                     .incidents = &inc,
                                     .n_incidents = 1,
                                     .n_units = 3};
        assert_int_equal(vg_stats_add(&fx->st, &m), VG_OK);
    }
    vg_stats_finish(&fx->st);
    assert_shown(value(fx, "TJ-A", 0, NULL, "false_alarm_share"), 0.5);
    assert_shown(value(fx, "TJ-A", 0, NULL, "time_to_take_median_s"), 20);
    assert_shown(value(fx, "TJ-A", 0, NULL, "time_to_police_median_s"), 300);
    assert_shown(value(fx, "TJ-A", 0, NULL, "device_uptime_share"), 1);
    free(fx);

    /* no incident: nothing to say, not withheld */
    fx = query(mar2026, 1, MAR + 40 * DAY_MS, NULL);
    for (int i = 0; i < 5; i++)
        add(fx, (struct spec){"TJ-A", MAR - 2 * DAY_MS, DAY_MS, 0, 0, 0, 0});
    vg_stats_finish(&fx->st);
    assert_shown(value(fx, "TJ-A", 0, NULL, "incidents"), 0);
    assert_undefined(value(fx, "TJ-A", 0, NULL, "false_alarm_share"));
    assert_undefined(value(fx, "TJ-A", 0, NULL, "time_to_take_median_s"));
    assert_undefined(value(fx, "TJ-A", 0, NULL, "device_uptime_share")); /* no unit counted */
    free(fx);
}

static void test_metric_names(void **state)
{
    (void)state;
    size_t n = vg_stats_n_metrics();
    assert_int_equal(n, 8 + (VG_ALARM_KIND__COUNT - 1) + 1 + 5);
    assert_string_equal(vg_stats_metric(0).name, "measures_declared");
    assert_string_equal(vg_stats_metric(n - 6).name, "alarms_per_pair_day");
    assert_string_equal(vg_stats_metric(n - 1).name, "device_uptime_share");
    assert_int_equal(metric("alarms_by_kind", "prealert_entered"), 8);
    for (size_t i = 0; i < n; i++) /* every name known, every one once */
        for (size_t j = i + 1; j < n; j++) {
            struct vg_stats_metric a = vg_stats_metric(i), b = vg_stats_metric(j);
            assert_true(strcmp(a.name, "unknown") != 0);
            assert_false(strcmp(a.name, b.name) == 0 &&
                         (a.group == b.group || (a.group && b.group && !strcmp(a.group, b.group))));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_months),
        cmocka_unit_test(test_period),
        cmocka_unit_test(test_a_court_month_by_month),
        cmocka_unit_test(test_active_time_follows_the_versions),
        cmocka_unit_test(test_active_time_across_months),
        cmocka_unit_test(test_medians),
        cmocka_unit_test(test_counts_from_one_to_four_are_withheld),
        cmocka_unit_test(test_sums_over_few_measures_are_withheld),
        cmocka_unit_test(test_a_total_does_not_give_a_withheld_kind_away),
        cmocka_unit_test(test_a_measure_counts_once_per_kind_and_month),
        cmocka_unit_test(test_small_courts_are_folded),
        cmocka_unit_test(test_one_court_only),
        cmocka_unit_test(test_more_memory_on_enospc),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_incidents_and_uptime),
        cmocka_unit_test(test_metric_names),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
