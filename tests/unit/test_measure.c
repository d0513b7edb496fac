/* The legal rules of a measure. Two valid baselines (a civil protection
 * order and a penal measure: pre- then post-sentencing) are broken one
 * thing at a time, on both sides of every boundary; each case names the
 * rule, severity and index it must trigger and values its messages must
 * state. Then: several violations at once, the cap on the output, refused
 * arguments, garbage input, and the helpers. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "core/civil.h"
#include "core/err.h"
#include "core/measure.h"
#include "core/prng.h"
#include "core/zone.h"
#include "testing.h"

#define D(y, m, d) ((struct vg_date){(y), (m), (d)})

/* (double)NAN and HUGE_VAL are floats: clang's -Wdouble-promotion wants the cast. */
#define NAN_D ((double)NAN)
#define INF_D ((double)HUGE_VAL)

#define CIVIL VG_STAGE_PROTECTION_ORDER
#define PRE   VG_STAGE_PRE_SENTENCING
#define POST  VG_STAGE_POST_SENTENCING

static const struct vg_geo_point protected_home = {48.8566, 2.3522}; /* Paris */
static const struct vg_geo_point author_home = {49.12, 2.35};        /* ~29 km north */
static const struct vg_geo_point near_home = {48.8836, 2.3522};      /* ~3 km north */

/* A measure and the arrays it borrows. Built in place, never copied. */
struct fixture {
    struct vg_measure m;
    struct vg_measure_period periods[VG_MEASURE_MAX_PERIODS + 1];
    struct vg_zone zones[VG_MEASURE_MAX_ZONES + 1];
    struct vg_geo_point school[4];
};

/* ---- Building measures ---------------------------------------------- */

static void add_period(struct fixture *f, uint8_t stage, struct vg_date decision,
                       struct vg_date start, struct vg_date end)
{
    assert_true(f->m.n_periods < ARRAY_LEN(f->periods));
    f->periods[f->m.n_periods++] = (struct vg_measure_period){
        .stage = stage,
        .decision_date = decision,
        .start = start,
        .end = end,
        .protected_consent = {true, decision},
        .author_consent = {stage == CIVIL, stage == CIVIL ? decision : D(0, 0, 0)},
    };
}

/* `count` back-to-back periods of `months` months from `start`, each
 * decided (and consented to) on its first day; returns the last end. */
static struct vg_date add_run(struct fixture *f, uint8_t stage, struct vg_date start, int count,
                              int months)
{
    for (int i = 0; i < count; i++) {
        struct vg_date end = vg_date_add_months(start, months);
        add_period(f, stage, start, start, end);
        start = end;
    }
    return start;
}

static void clear_periods(struct fixture *f)
{
    f->m.n_periods = 0;
}

static void school_square(struct fixture *f, struct vg_geo_point c)
{
    const double d = 0.001;
    f->school[0] = (struct vg_geo_point){c.lat_deg - d, c.lon_deg - d};
    f->school[1] = (struct vg_geo_point){c.lat_deg - d, c.lon_deg + d};
    f->school[2] = (struct vg_geo_point){c.lat_deg + d, c.lon_deg + d};
    f->school[3] = (struct vg_geo_point){c.lat_deg + d, c.lon_deg - d};
    assert_int_equal(
        vg_zone_init_polygon(&f->zones[2], 102, VG_ZONE_SCHOOL, f->school, 4, 1000, NULL), VG_OK);
}

static void common_baseline(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    f->m.alert_radius_m = 2000;
    f->m.prealert_radius_m = 0;
    f->m.protected_birth = D(1990, 5, 12);
    f->m.author_birth = D(1985, 3, 3);
    f->m.protected_home = protected_home;
    f->m.author_home = author_home;
    f->m.periods = f->periods;
    f->m.zones = f->zones;
    f->m.n_zones = 3;
    assert_int_equal(
        vg_zone_init_circle(&f->zones[0], 100, VG_ZONE_PROTECTED_HOME, protected_home, 2000),
        VG_OK);
    assert_int_equal(vg_zone_init_circle(&f->zones[1], 101, VG_ZONE_PROTECTED_WORKPLACE,
                                         (struct vg_geo_point){48.83, 2.28}, 1500),
                     VG_OK);
    school_square(f, (struct vg_geo_point){48.87, 2.36});
}

/* A protection order decided on 1 March 2026, in force 2 March - 2 September. */
static void civil_baseline(struct fixture *f)
{
    common_baseline(f);
    f->m.offence = VG_OFFENCE_NONE;
    f->m.offence_penalty_years = 0;
    add_period(f, CIVIL, D(2026, 3, 1), D(2026, 3, 2), D(2026, 9, 2));
    f->periods[0].protected_consent.date = D(2026, 2, 20);
    f->periods[0].author_consent.date = D(2026, 2, 20);
}

/* Judicial control for 6 months, then 6 months after a misdemeanour
 * judgment; the author's consent is not recorded (not needed). */
static void penal_baseline(struct fixture *f)
{
    common_baseline(f);
    f->m.offence = VG_OFFENCE_MISDEMEANOUR;
    f->m.offence_penalty_years = 5;
    add_period(f, PRE, D(2026, 1, 30), D(2026, 2, 1), D(2026, 8, 1));
    f->periods[0].protected_consent.date = D(2026, 1, 20);
    add_period(f, POST, D(2026, 7, 15), D(2026, 8, 1), D(2027, 2, 1));
    f->periods[1].protected_consent.date = D(2026, 7, 10);
}

static double homes_distance(const struct fixture *f)
{
    double d;
    assert_int_equal(vg_geo_inverse(f->m.protected_home, f->m.author_home, &d, NULL), VG_OK);
    return d;
}

/* ---- Running the validation ----------------------------------------- */

#define RUN_CAP 256

struct run {
    int rc;
    size_t n;
    struct vg_violation v[RUN_CAP];
};

static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t len = *p < 0x80             ? 1
                     : (*p & 0xE0) == 0xC0 ? 2
                     : (*p & 0xF0) == 0xE0 ? 3
                     : (*p & 0xF8) == 0xF0 ? 4
                                           : 0;
        if (len == 0)
            return false;
        for (size_t i = 1; i < len; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += len;
    }
    return true;
}

static void check_text(const char *s)
{
    size_t len = strnlen(s, VG_VIOLATION_MESSAGE_LEN);
    assert_true(len > 0);
    /* the longest message must still fit: one byte short of the buffer
     * would mean it was probably cut */
    if (len >= VG_VIOLATION_MESSAGE_LEN - 1)
        fail_msg("message may be truncated (%zu bytes): %s", len, s);
    assert_true(valid_utf8(s));
}

/* Validate and check what holds for every output: messages present, whole
 * and valid UTF-8, errors before warnings, each in rule order, and the
 * return code telling whether there is an error. */
static void run(const struct vg_measure *m, struct run *r)
{
    memset(r, 0, sizeof *r);
    r->rc = vg_measure_validate(m, r->v, RUN_CAP, &r->n);
    size_t written = r->n < RUN_CAP ? r->n : RUN_CAP;
    for (size_t i = 0; i < written; i++) {
        const struct vg_violation *v = &r->v[i];
        assert_true(v->rule >= 1 && v->rule < VG_RULE__COUNT);
        assert_true(v->severity == VG_SEVERITY_ERROR || v->severity == VG_SEVERITY_WARNING);
        assert_true(v->index >= -1);
        check_text(v->message);
        check_text(v->message_fr);
        assert_string_not_equal(v->message, v->message_fr);
        if (i > 0) {
            const struct vg_violation *u = &r->v[i - 1];
            assert_true(u->severity <= v->severity);
            if (u->severity == v->severity)
                assert_true(u->rule <= v->rule);
        }
    }
    /* errors come first: there is one iff the first violation is one */
    bool any_error = r->n > 0 && r->v[0].severity == VG_SEVERITY_ERROR;
    assert_int_equal(r->rc, any_error ? VG_EINVAL : VG_OK);
}

static void print_run(const struct run *r)
{
    for (size_t i = 0; i < r->n && i < RUN_CAP; i++)
        print_message("  [%zu] %s (severity %u, index %d): %s | %s\n", i,
                      vg_rule_name((enum vg_rule)r->v[i].rule), (unsigned)r->v[i].severity,
                      r->v[i].index, r->v[i].message, r->v[i].message_fr);
}

static void expect_valid(const struct vg_measure *m)
{
    struct run r;
    run(m, &r);
    if (r.n != 0) {
        print_run(&r);
        fail_msg("expected a valid measure, got %zu violations", r.n);
    }
    assert_int_equal(r.rc, VG_OK);
}

/* ---- One thing broken at a time ------------------------------------- */

enum base { BASE_CIVIL, BASE_PENAL };

struct single_case {
    const char *name;
    enum base base;
    void (*mutate)(struct fixture *f);
    uint16_t rule; /* 0: the measure stays fully valid */
    uint8_t severity;
    int index;
    const char *en; /* to be found in the English message */
    const char *fr; /* and in the French one */
};

#define MUTATION(name, ...)                                                                        \
    static void name(struct fixture *f)                                                            \
    {                                                                                              \
        (void)f;                                                                                   \
        __VA_ARGS__;                                                                               \
    }

/* alert distance */
MUTATION(r_999_999, f->m.alert_radius_m = 999.999)
MUTATION(r_1000, f->m.alert_radius_m = 1000)
MUTATION(r_10000, f->m.alert_radius_m = 10000)
MUTATION(r_10000_001, f->m.alert_radius_m = 10000.001)
MUTATION(r_800, f->m.alert_radius_m = 800)
MUTATION(r_nan, f->m.alert_radius_m = NAN_D)
MUTATION(r_inf, f->m.alert_radius_m = INF_D)
MUTATION(r_minus, f->m.alert_radius_m = -1000)
MUTATION(r_zero, f->m.alert_radius_m = 0)
MUTATION(prealert_double, f->m.prealert_radius_m = 4000)
MUTATION(prealert_off, f->m.prealert_radius_m = 4000.001)
MUTATION(prealert_equal_r, f->m.prealert_radius_m = 2000)
MUTATION(prealert_nan, f->m.prealert_radius_m = NAN_D)
MUTATION(prealert_negative, f->m.prealert_radius_m = -4000)

/* homes */
MUTATION(protected_home_nan, f->m.protected_home.lat_deg = NAN_D)
MUTATION(author_home_lon, f->m.author_home.lon_deg = 180.5)
MUTATION(author_home_inf, f->m.author_home.lat_deg = -INF_D)
MUTATION(homes_exactly_r, f->m.author_home = near_home; f->m.alert_radius_m = homes_distance(f))
MUTATION(homes_just_beyond_r, f->m.author_home = near_home;
         f->m.alert_radius_m = nextafter(homes_distance(f), 0))
MUTATION(homes_exactly_2r, f->m.author_home = near_home;
         f->m.alert_radius_m = homes_distance(f) / 2)
MUTATION(homes_just_within_2r, f->m.author_home = near_home;
         f->m.alert_radius_m = nextafter(homes_distance(f) / 2, INF_D))
MUTATION(same_home, f->m.author_home = protected_home; f->m.n_zones = 0)

/* birth dates and age (the civil decision is on 2026-03-01) */
MUTATION(protected_birth_feb29_common, f->m.protected_birth = D(2023, 2, 29))
MUTATION(author_birth_month13, f->m.author_birth = D(1985, 13, 3))
MUTATION(author_birth_1899, f->m.author_birth = D(1899, 12, 31))
MUTATION(protected_18_on_decision, f->m.protected_birth = D(2008, 3, 1))
MUTATION(protected_18_day_after, f->m.protected_birth = D(2008, 3, 2))
MUTATION(author_18_on_decision, f->m.author_birth = D(2008, 3, 1))
MUTATION(author_18_day_after, f->m.author_birth = D(2008, 3, 2))
MUTATION(protected_feb29_adult_mar1, f->m.protected_birth = D(2008, 2, 29))
MUTATION(protected_feb29_minor_feb28, f->m.protected_birth = D(2008, 2, 29);
         f->periods[0].decision_date = D(2026, 2, 28))
MUTATION(author_feb29_minor_feb28, f->m.author_birth = D(2008, 2, 29);
         f->periods[0].decision_date = D(2026, 2, 28))
/* penal: minor on the first decision only -> one violation, period 0 */
MUTATION(author_minor_first_decision, f->m.author_birth = D(2008, 7, 15))
/* minor on both decisions: reported once, at the first */
MUTATION(author_minor_every_decision, f->m.author_birth = D(2010, 1, 1))
/* the second period decided (early) before the author's 18th birthday */
MUTATION(author_minor_second_decision, f->m.author_birth = D(2008, 1, 20);
         f->periods[1].decision_date = D(2026, 1, 15);
         f->periods[1].protected_consent.date = D(2026, 1, 10))

/* period dates and length (civil: 2026-03-02 .. 2026-09-02) */
static void civil_dates(struct fixture *f, struct vg_date start, struct vg_date end)
{
    f->periods[0].decision_date = start;
    f->periods[0].start = start;
    f->periods[0].end = end;
}
MUTATION(six_months_aug31, civil_dates(f, D(2026, 8, 31), D(2027, 2, 28)))
MUTATION(six_months_aug31_plus_day, civil_dates(f, D(2026, 8, 31), D(2027, 3, 1)))
MUTATION(six_months_aug31_leap, civil_dates(f, D(2027, 8, 31), D(2028, 2, 29)))
MUTATION(six_months_aug31_leap_plus_day, civil_dates(f, D(2027, 8, 31), D(2028, 3, 1)))
MUTATION(six_months_plus_day, f->periods[0].end = D(2026, 9, 3))
MUTATION(start_equals_end, f->periods[0].end = D(2026, 3, 2))
MUTATION(end_before_start, f->periods[0].end = D(2026, 3, 1))
MUTATION(decision_after_start, f->periods[0].decision_date = D(2026, 3, 3))
MUTATION(decision_on_start, f->periods[0].decision_date = D(2026, 3, 2))
MUTATION(decision_not_a_date, f->periods[0].decision_date = D(2026, 2, 30))
MUTATION(start_not_a_date, f->periods[0].start = D(2026, 4, 31))
MUTATION(end_not_a_date, f->periods[0].end = D(0, 9, 2))

/* sequence of periods (penal: pre 2026-02-01..08-01, post 08-01..2027-02-01) */
MUTATION(overlap_by_a_day, f->periods[1].start = D(2026, 7, 31); f->periods[1].end = D(2027, 1, 31))
MUTATION(post_then_pre, f->periods[0].stage = POST; f->periods[1].stage = PRE)
/* (consents older than the penal decision: a civil period after a penal
 * one is out of order, but it is not the renewal of a civil measure) */
MUTATION(pre_then_civil, f->periods[1].stage = CIVIL;
         f->periods[1].protected_consent.date = D(2026, 1, 25);
         f->periods[1].author_consent = (struct vg_consent){true, D(2026, 1, 25)})
MUTATION(civil_then_pre, f->m.offence = VG_OFFENCE_MISDEMEANOUR; f->m.offence_penalty_years = 3;
         add_period(f, PRE, D(2026, 9, 2), D(2026, 9, 2), D(2027, 3, 2)))
MUTATION(pre_renewed, f->periods[1].stage = PRE)
MUTATION(stage_0, f->periods[0].stage = 0)
MUTATION(stage_4, f->periods[0].stage = 4)
MUTATION(stage_255, f->periods[0].stage = 255)

/* cumulative caps, each stage on its own */
MUTATION(pre_24_months, clear_periods(f); add_run(f, PRE, D(2026, 1, 1), 4, 6))
MUTATION(pre_24_months_plus_day, clear_periods(f); add_run(f, PRE, D(2026, 1, 1), 4, 6);
         add_period(f, PRE, D(2028, 1, 1), D(2028, 1, 1), D(2028, 1, 2)))
MUTATION(pre_24_months_with_gap, clear_periods(f); add_run(f, PRE, D(2026, 1, 1), 2, 6);
         add_run(f, PRE, D(2027, 2, 1), 2, 6))
MUTATION(post_48_months, clear_periods(f); add_run(f, POST, D(2026, 1, 1), 8, 6))
MUTATION(post_48_months_plus_day, clear_periods(f); add_run(f, POST, D(2026, 1, 1), 8, 6);
         add_period(f, POST, D(2030, 1, 1), D(2030, 1, 1), D(2030, 1, 2)))
MUTATION(crime_72_months, f->m.offence = VG_OFFENCE_CRIME; clear_periods(f);
         add_run(f, POST, D(2026, 1, 1), 12, 6))
MUTATION(crime_72_months_plus_day, f->m.offence = VG_OFFENCE_CRIME; clear_periods(f);
         add_run(f, POST, D(2026, 1, 1), 12, 6);
         add_period(f, POST, D(2032, 1, 1), D(2032, 1, 1), D(2032, 1, 2)))
MUTATION(crime_48_months_plus_day, f->m.offence = VG_OFFENCE_CRIME; clear_periods(f);
         add_run(f, POST, D(2026, 1, 1), 8, 6);
         add_period(f, POST, D(2030, 1, 1), D(2030, 1, 1), D(2030, 1, 2)))
MUTATION(civil_3_years, clear_periods(f); add_run(f, CIVIL, D(2026, 1, 1), 6, 6))
MUTATION(every_stage_full, clear_periods(f); f->m.offence = VG_OFFENCE_MISDEMEANOUR;
         f->m.offence_penalty_years = 5; struct vg_date d = add_run(f, CIVIL, D(2024, 1, 1), 4, 6);
         d = add_run(f, PRE, d, 4, 6); add_run(f, POST, d, 8, 6))
MUTATION(periods_64, clear_periods(f); add_run(f, CIVIL, D(2020, 1, 1), 64, 1))
MUTATION(periods_65, clear_periods(f); add_run(f, CIVIL, D(2020, 1, 1), 65, 1))
MUTATION(periods_huge_count, f->m.n_periods = SIZE_MAX)
MUTATION(no_period, f->m.n_periods = 0)
MUTATION(periods_null, f->m.periods = NULL)

/* offence */
MUTATION(offence_none, f->m.offence = VG_OFFENCE_NONE)
MUTATION(offence_garbage, f->m.offence = 3)
MUTATION(offence_garbage_penal, f->m.offence = 9)
MUTATION(penalty_2, f->m.offence_penalty_years = 2)
MUTATION(penalty_3, f->m.offence_penalty_years = 3)

/* consents (civil decision 2026-03-01) */
MUTATION(protected_consent_missing, f->periods[0].protected_consent.given = false)
MUTATION(penal_protected_consent_missing, f->periods[1].protected_consent.given = false)
MUTATION(author_consent_missing, f->periods[0].author_consent.given = false)
MUTATION(penal_author_consent_after,
         f->periods[0].author_consent = (struct vg_consent){true, D(2026, 12, 1)})
MUTATION(protected_consent_on_decision, f->periods[0].protected_consent.date = D(2026, 3, 1))
MUTATION(protected_consent_day_after, f->periods[0].protected_consent.date = D(2026, 3, 2))
MUTATION(author_consent_day_after, f->periods[0].author_consent.date = D(2026, 3, 2))
MUTATION(protected_consent_not_a_date, f->periods[0].protected_consent.date = D(2026, 2, 29))
MUTATION(consent_bool_garbage, unsigned char two = 2;
         memcpy(&f->periods[0].protected_consent.given, &two, 1))

/* civil renewal decided 2026-08-20, after the decision of 2026-03-01 */
static void civil_renewal(struct fixture *f, struct vg_date protected_consent,
                          struct vg_date author_consent)
{
    add_period(f, CIVIL, D(2026, 8, 20), D(2026, 9, 2), D(2027, 3, 2));
    f->periods[1].protected_consent.date = protected_consent;
    f->periods[1].author_consent.date = author_consent;
}
MUTATION(renewal_fresh_consents, civil_renewal(f, D(2026, 3, 2), D(2026, 3, 2)))
MUTATION(renewal_old_protected_consent, civil_renewal(f, D(2026, 3, 1), D(2026, 3, 2)))
MUTATION(renewal_old_author_consent, civil_renewal(f, D(2026, 3, 2), D(2026, 3, 1)))
MUTATION(renewal_missing_author_consent, civil_renewal(f, D(2026, 3, 2), D(2026, 3, 2));
         f->periods[1].author_consent.given = false)
MUTATION(civil_then_pre_old_consent, f->m.offence = VG_OFFENCE_MISDEMEANOUR;
         f->m.offence_penalty_years = 3;
         add_period(f, PRE, D(2026, 9, 2), D(2026, 9, 2), D(2027, 3, 2));
         f->periods[1].protected_consent.date = D(2026, 2, 20))

/* zones: 0 protected home (2 km), 1 workplace (1.5 km), 2 school polygon */
MUTATION(zones_9, f->m.n_zones = 9)
MUTATION(zones_null, f->m.zones = NULL)
MUTATION(zone_shape_garbage, f->zones[1].shape = 7)
MUTATION(zone_polygon_no_vertices, f->zones[2].vertices = NULL)
MUTATION(zone_category_0, f->zones[0].category = 0)
MUTATION(zone_centre_nan, f->zones[1].centre.lat_rad = NAN_D)
MUTATION(zone_r_999_999, f->zones[1].alert_radius_m = 999.999)
MUTATION(zone_r_1000, f->zones[1].alert_radius_m = 1000)
MUTATION(zone_r_10000, f->zones[1].alert_radius_m = 10000)
MUTATION(zone_r_10000_001, f->zones[1].alert_radius_m = 10000.001)
MUTATION(zone_r_nan, f->zones[1].alert_radius_m = NAN_D)

/* a frequented place ~5 km from the author's home, R = that distance */
static double author_to_place(struct fixture *f)
{
    assert_int_equal(vg_zone_init_circle(&f->zones[1], 101, VG_ZONE_FREQUENTED_PLACE,
                                         (struct vg_geo_point){49.075, 2.35}, 1000),
                     VG_OK);
    struct vg_geo_prepared home;
    vg_geo_prepare(&home, f->m.author_home);
    double d = vg_zone_distance(&f->zones[1], &home, INF_D);
    assert_true(d > 1000 && d < 10000);
    return d;
}
MUTATION(author_home_on_zone_ring, f->zones[1].alert_radius_m = author_to_place(f))
MUTATION(author_home_just_outside_zone,
         f->zones[1].alert_radius_m = nextafter(author_to_place(f), 0))
MUTATION(author_home_in_school, school_square(f, author_home))

#define OK_CASE(name, base, mutate)                                                                \
    {                                                                                              \
        name, base, mutate, 0, 0, 0, NULL, NULL                                                    \
    }
#define ERR(name, base, mutate, rule, index, en, fr)                                               \
    {                                                                                              \
        name, base, mutate, VG_RULE_##rule, VG_SEVERITY_ERROR, index, en, fr                       \
    }
#define WARN(name, base, mutate, rule, index, en, fr)                                              \
    {                                                                                              \
        name, base, mutate, VG_RULE_##rule, VG_SEVERITY_WARNING, index, en, fr                     \
    }

static const struct single_case single_cases[] = {
    OK_CASE("civil baseline", BASE_CIVIL, NULL),
    OK_CASE("penal baseline", BASE_PENAL, NULL),

    ERR("R = 999.999 m", BASE_CIVIL, r_999_999, ALERT_RADIUS_RANGE, -1, "R = 999.999 m",
        "R = 999,999 m"),
    OK_CASE("R = 1000 m", BASE_CIVIL, r_1000),
    OK_CASE("R = 10000 m", BASE_CIVIL, r_10000),
    ERR("R = 10000.001 m", BASE_CIVIL, r_10000_001, ALERT_RADIUS_RANGE, -1, "R = 10000.001 m",
        "R = 10000,001 m"),
    ERR("R = 800 m", BASE_PENAL, r_800, ALERT_RADIUS_RANGE, -1, "minimum of 1 km", "minimum légal"),
    ERR("R = NaN", BASE_CIVIL, r_nan, ALERT_RADIUS_RANGE, -1, "R = NaN", "R = NaN"),
    ERR("R = inf", BASE_CIVIL, r_inf, ALERT_RADIUS_RANGE, -1, "R = inf", "R = inf"),
    ERR("R = -1000 m", BASE_CIVIL, r_minus, ALERT_RADIUS_RANGE, -1, "R = -1000 m", "R = -1000 m"),
    ERR("R = 0", BASE_CIVIL, r_zero, ALERT_RADIUS_RANGE, -1, "R = 0 m", "R = 0 m"),
    OK_CASE("pre-alert exactly 2R", BASE_CIVIL, prealert_double),
    ERR("pre-alert 2R + 1 mm", BASE_CIVIL, prealert_off, PREALERT_NOT_DOUBLE, -1, "4000.001 m",
        "4000,001 m"),
    ERR("pre-alert = R", BASE_CIVIL, prealert_equal_r, PREALERT_NOT_DOUBLE, -1, "2R = 4000 m",
        "2R = 4000 m"),
    ERR("pre-alert NaN", BASE_CIVIL, prealert_nan, PREALERT_NOT_DOUBLE, -1, "NaN", "NaN"),
    ERR("pre-alert negative", BASE_CIVIL, prealert_negative, PREALERT_NOT_DOUBLE, -1, "-4000",
        "-4000"),

    ERR("protected home NaN", BASE_CIVIL, protected_home_nan, HOME_INVALID, -1,
        "protected person (NaN, 2.3522)", "personne protégée (NaN ; 2,3522)"),
    ERR("author home longitude 180.5", BASE_CIVIL, author_home_lon, HOME_INVALID, -1,
        "author (49.12, 180.5)", "l'auteur (49,12 ; 180,5)"),
    ERR("author home latitude -inf", BASE_PENAL, author_home_inf, HOME_INVALID, -1, "-inf", "-inf"),
    ERR("homes exactly R apart", BASE_CIVIL, homes_exactly_r, HOMES_WITHIN_ALERT, -1,
        "not farther than the alert distance", "pas au-delà de la distance d'alerte"),
    WARN("homes just beyond R (within 2R)", BASE_CIVIL, homes_just_beyond_r, HOMES_WITHIN_PREALERT,
         -1, "within the pre-alert distance", "pré-alerte"),
    OK_CASE("homes exactly 2R apart", BASE_CIVIL, homes_exactly_2r),
    WARN("homes just within 2R", BASE_PENAL, homes_just_within_2r, HOMES_WITHIN_PREALERT, -1,
         "2R = ", "2R = "),
    ERR("same home", BASE_CIVIL, same_home, HOMES_WITHIN_ALERT, -1, "0 m apart", "à 0 m"),

    ERR("protected birth 2023-02-29", BASE_CIVIL, protected_birth_feb29_common, BIRTH_DATE_INVALID,
        -1, "2023-02-29", "2023-02-29"),
    ERR("author birth month 13", BASE_CIVIL, author_birth_month13, BIRTH_DATE_INVALID, -1,
        "1985-13-03", "naissance de l'auteur"),
    ERR("author birth 1899", BASE_PENAL, author_birth_1899, BIRTH_DATE_INVALID, -1, "1899-12-31",
        "1899-12-31"),
    OK_CASE("protected 18 on the decision day", BASE_CIVIL, protected_18_on_decision),
    ERR("protected 18 the day after the decision", BASE_CIVIL, protected_18_day_after,
        PROTECTED_NOT_ADULT, 0, "born 2008-03-02", "2026-03-01"),
    OK_CASE("author 18 on the decision day", BASE_CIVIL, author_18_on_decision),
    ERR("author 18 the day after the decision", BASE_CIVIL, author_18_day_after, AUTHOR_NOT_ADULT,
        0, "only from 2026-03-02", "seulement le 2026-03-02"),
    OK_CASE("born 29 Feb, decision 1 March of the 18th year", BASE_CIVIL,
            protected_feb29_adult_mar1),
    ERR("born 29 Feb, decision 28 Feb of the 18th year", BASE_CIVIL, protected_feb29_minor_feb28,
        PROTECTED_NOT_ADULT, 0, "only from 2026-03-01", "2008-02-29"),
    ERR("author born 29 Feb, decision 28 Feb", BASE_CIVIL, author_feb29_minor_feb28,
        AUTHOR_NOT_ADULT, 0, "2026-02-28", "2026-02-28"),
    ERR("author minor on the first decision only", BASE_PENAL, author_minor_first_decision,
        AUTHOR_NOT_ADULT, 0, "2026-01-30", "2026-01-30"),
    ERR("author minor on every decision: reported once", BASE_PENAL, author_minor_every_decision,
        AUTHOR_NOT_ADULT, 0, "2026-01-30", "2010-01-01"),
    ERR("author minor on the second decision", BASE_PENAL, author_minor_second_decision,
        AUTHOR_NOT_ADULT, 1, "(period 2)", "(période 2)"),

    OK_CASE("31 Aug + 6 months = 28 Feb", BASE_CIVIL, six_months_aug31),
    ERR("31 Aug to 1 March", BASE_CIVIL, six_months_aug31_plus_day, PERIOD_TOO_LONG, 0,
        "end on 2027-02-28 at the latest", "le 2027-02-28 au plus tard"),
    OK_CASE("31 Aug + 6 months = 29 Feb (leap)", BASE_CIVIL, six_months_aug31_leap),
    ERR("31 Aug to 1 March (leap)", BASE_CIVIL, six_months_aug31_leap_plus_day, PERIOD_TOO_LONG, 0,
        "2028-02-29", "2028-03-01"),
    ERR("6 months + 1 day", BASE_CIVIL, six_months_plus_day, PERIOD_TOO_LONG, 0,
        "from 2026-03-02 to 2026-09-03", "du 2026-03-02 au 2026-09-03"),
    ERR("start = end", BASE_CIVIL, start_equals_end, PERIOD_DATES_INVALID, 0, "ends on 2026-03-02",
        "finit le 2026-03-02"),
    ERR("end before start", BASE_CIVIL, end_before_start, PERIOD_DATES_INVALID, 0,
        "starts on 2026-03-02", "commence le 2026-03-02"),
    ERR("decision after start", BASE_CIVIL, decision_after_start, PERIOD_DATES_INVALID, 0,
        "decided on 2026-03-03", "décidée le 2026-03-03"),
    OK_CASE("decision on the start day", BASE_CIVIL, decision_on_start),
    ERR("decision 30 Feb", BASE_CIVIL, decision_not_a_date, PERIOD_DATES_INVALID, 0,
        "decision date 2026-02-30", "date de décision 2026-02-30"),
    ERR("start 31 April", BASE_CIVIL, start_not_a_date, PERIOD_DATES_INVALID, 0,
        "start date 2026-04-31", "date de début 2026-04-31"),
    ERR("end in year 0", BASE_CIVIL, end_not_a_date, PERIOD_DATES_INVALID, 0, "0000-09-02",
        "date de fin 0000-09-02"),

    ERR("overlap by a day", BASE_PENAL, overlap_by_a_day, PERIODS_OVERLAP, 1,
        "period 2 starts on 2026-07-31, before period 1 ends on 2026-08-01",
        "la période 2 commence le 2026-07-31"),
    ERR("post- then pre-sentencing", BASE_PENAL, post_then_pre, STAGE_ORDER, 1,
        "period 2 (pre-sentencing) follows period 1 (post-sentencing)",
        "(pré-sentenciel) suit la période 1 (post-sentenciel)"),
    ERR("pre-sentencing then civil", BASE_PENAL, pre_then_civil, STAGE_ORDER, 1,
        "(protection order)", "(ordonnance de protection)"),
    OK_CASE("civil then pre-sentencing", BASE_CIVIL, civil_then_pre),
    OK_CASE("pre-sentencing renewed", BASE_PENAL, pre_renewed),
    ERR("stage 0", BASE_CIVIL, stage_0, STAGE_INVALID, 0, "stage 0", "étape 0"),
    ERR("stage 4", BASE_PENAL, stage_4, STAGE_INVALID, 0, "stage 4", "étape 4"),
    ERR("stage 255", BASE_CIVIL, stage_255, STAGE_INVALID, 0, "stage 255", "étape 255"),

    OK_CASE("pre-sentencing: exactly 2 years", BASE_PENAL, pre_24_months),
    ERR("pre-sentencing: 2 years + 1 day", BASE_PENAL, pre_24_months_plus_day, PRE_SENTENCING_CAP,
        4, "total 731 days, over the 2-year cap of 730 days from 2026-01-01",
        "totalisent 731 jours"),
    OK_CASE("pre-sentencing: 2 years in force with a gap", BASE_PENAL, pre_24_months_with_gap),
    OK_CASE("misdemeanour: exactly 4 years", BASE_PENAL, post_48_months),
    ERR("misdemeanour: 4 years + 1 day", BASE_PENAL, post_48_months_plus_day, POST_SENTENCING_CAP,
        8, "1462 days, over the 4-year cap for a misdemeanour of 1461 days", "pour un délit"),
    OK_CASE("crime: exactly 6 years", BASE_PENAL, crime_72_months),
    ERR("crime: 6 years + 1 day", BASE_PENAL, crime_72_months_plus_day, POST_SENTENCING_CAP, 12,
        "2192 days, over the 6-year cap for a crime of 2191 days", "6 ans pour un crime"),
    OK_CASE("crime: 4 years + 1 day", BASE_PENAL, crime_48_months_plus_day),
    OK_CASE("civil: 3 years of renewals, no cap", BASE_CIVIL, civil_3_years),
    OK_CASE("civil 2 y + pre 2 y + post 4 y, each on its own", BASE_CIVIL, every_stage_full),
    OK_CASE("64 periods", BASE_CIVIL, periods_64),
    ERR("65 periods", BASE_CIVIL, periods_65, TOO_MANY_PERIODS, -1, "65 periods", "65 périodes"),
    ERR("SIZE_MAX periods", BASE_PENAL, periods_huge_count, TOO_MANY_PERIODS, -1,
        "none was checked", "aucune n'a été vérifiée"),
    ERR("no period", BASE_CIVIL, no_period, NO_PERIOD, -1, "no period", "aucune période"),
    ERR("periods NULL", BASE_PENAL, periods_null, NO_PERIOD, -1, "2 periods", "2 périodes"),

    ERR("penal without offence", BASE_PENAL, offence_none, OFFENCE_MISSING, 0,
        "period 1 is penal (pre-sentencing)", "aucune infraction"),
    ERR("offence 3 (civil)", BASE_CIVIL, offence_garbage, OFFENCE_MISSING, -1, "offence 3",
        "infraction 3"),
    ERR("offence 9 (penal)", BASE_PENAL, offence_garbage_penal, OFFENCE_MISSING, 0, "offence 9",
        "infraction 9"),
    ERR("penalty 2 years", BASE_PENAL, penalty_2, OFFENCE_PENALTY, 0, "by 2 years",
        "punie de 2 ans"),
    OK_CASE("penalty 3 years", BASE_PENAL, penalty_3),

    ERR("civil: protected consent missing", BASE_CIVIL, protected_consent_missing,
        PROTECTED_CONSENT_MISSING, 0, "protected person's express consent", "consentement exprès"),
    ERR("penal: protected consent missing", BASE_PENAL, penal_protected_consent_missing,
        PROTECTED_CONSENT_MISSING, 1, "period 2", "période 2"),
    ERR("civil: author consent missing", BASE_CIVIL, author_consent_missing, AUTHOR_CONSENT_MISSING,
        0, "author's consent", "consentement de l'auteur"),
    OK_CASE("penal: author consent after the decision is ignored", BASE_PENAL,
            penal_author_consent_after),
    OK_CASE("protected consent on the decision day", BASE_CIVIL, protected_consent_on_decision),
    ERR("protected consent the day after", BASE_CIVIL, protected_consent_day_after,
        CONSENT_DATE_INVALID, 0, "dated 2026-03-02, after the decision of 2026-03-01",
        "daté du 2026-03-02"),
    ERR("author consent the day after", BASE_CIVIL, author_consent_day_after, CONSENT_DATE_INVALID,
        0, "consent of the author", "consentement de l'auteur"),
    ERR("protected consent 29 Feb 2026", BASE_CIVIL, protected_consent_not_a_date,
        CONSENT_DATE_INVALID, 0, "2026-02-29, is not a valid date", "2026-02-29"),
    ERR("consent flag neither true nor false", BASE_CIVIL, consent_bool_garbage,
        PROTECTED_CONSENT_MISSING, 0, "not recorded", "pas recueilli"),

    OK_CASE("civil renewal, consents the day after the previous decision", BASE_CIVIL,
            renewal_fresh_consents),
    ERR("civil renewal, protected consent on the previous decision day", BASE_CIVIL,
        renewal_old_protected_consent, CONSENT_NOT_RENEWED, 1,
        "consent of the protected person (2026-03-01) is not after the previous decision "
        "(2026-03-01)",
        "doit être réitéré"),
    ERR("civil renewal, author consent on the previous decision day", BASE_CIVIL,
        renewal_old_author_consent, CONSENT_NOT_RENEWED, 1, "consent of the author",
        "consentement de l'auteur (2026-03-01)"),
    ERR("civil renewal, author consent missing", BASE_CIVIL, renewal_missing_author_consent,
        AUTHOR_CONSENT_MISSING, 1, "period 2 (civil)", "période 2 (civile)"),
    OK_CASE("civil then penal on the first consent", BASE_CIVIL, civil_then_pre_old_consent),

    ERR("9 zones", BASE_CIVIL, zones_9, TOO_MANY_ZONES, -1, "9 fixed zones", "9 zones fixes"),
    ERR("zones NULL", BASE_PENAL, zones_null, ZONE_INVALID, -1, "3 fixed zones", "3 zones fixes"),
    ERR("zone shape 7", BASE_CIVIL, zone_shape_garbage, ZONE_INVALID, 1, "zone 2 (id 101)",
        "zone fixe 2 (id 101)"),
    ERR("polygon without vertices", BASE_CIVIL, zone_polygon_no_vertices, ZONE_INVALID, 2,
        "zone 3 (id 102)", "mal formée"),
    ERR("zone category 0", BASE_PENAL, zone_category_0, ZONE_INVALID, 0, "id 100", "id 100"),
    ERR("zone centre NaN", BASE_CIVIL, zone_centre_nan, ZONE_INVALID, 1, "not well-formed",
        "mal formée"),
    ERR("zone R = 999.999 m", BASE_CIVIL, zone_r_999_999, ZONE_RADIUS_RANGE, 1, "R = 999.999 m",
        "R = 999,999 m"),
    OK_CASE("zone R = 1000 m", BASE_CIVIL, zone_r_1000),
    OK_CASE("zone R = 10000 m", BASE_CIVIL, zone_r_10000),
    ERR("zone R = 10000.001 m", BASE_PENAL, zone_r_10000_001, ZONE_RADIUS_RANGE, 1,
        "R = 10000.001 m", "R = 10000,001 m"),
    ERR("zone R = NaN", BASE_CIVIL, zone_r_nan, ZONE_RADIUS_RANGE, 1, "R = NaN", "R = NaN"),
    WARN("author's home on a zone's alert ring", BASE_CIVIL, author_home_on_zone_ring,
         AUTHOR_HOME_IN_ZONE, 1, "from fixed zone 2 (id 101)", "dans sa distance d'alerte"),
    OK_CASE("author's home just outside a zone's alert ring", BASE_CIVIL,
            author_home_just_outside_zone),
    WARN("author's home inside a school polygon", BASE_PENAL, author_home_in_school,
         AUTHOR_HOME_IN_ZONE, 2, "is 0 m from fixed zone 3", "à 0 m de la zone fixe 3"),
};

static void test_one_thing_broken(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(single_cases); i++) {
        const struct single_case *c = &single_cases[i];
        struct fixture f;
        if (c->base == BASE_CIVIL)
            civil_baseline(&f);
        else
            penal_baseline(&f);
        if (c->mutate)
            c->mutate(&f);
        struct run r;
        run(&f.m, &r);
        bool ok;
        if (c->rule == 0)
            ok = r.n == 0 && r.rc == VG_OK;
        else
            ok = r.n == 1 && r.v[0].rule == c->rule && r.v[0].severity == c->severity &&
                 r.v[0].index == c->index && strstr(r.v[0].message, c->en) != NULL &&
                 strstr(r.v[0].message_fr, c->fr) != NULL;
        if (!ok) {
            print_run(&r);
            fail_msg("case \"%s\": expected %s (index %d), got %zu violations", c->name,
                     c->rule ? vg_rule_name((enum vg_rule)c->rule) : "nothing", c->index, r.n);
        }
    }
}

/* Every rule is exercised by at least one case above, and every error
 * case has a valid neighbour of the same base (the other side of its
 * boundary is the baseline itself or an OK case). */
static void test_every_rule_has_a_case(void **state)
{
    (void)state;
    bool seen[VG_RULE__COUNT] = {false};
    for (size_t i = 0; i < ARRAY_LEN(single_cases); i++)
        seen[single_cases[i].rule] = true;
    for (int rule = 1; rule < VG_RULE__COUNT; rule++)
        if (!seen[rule])
            fail_msg("no test case for rule %s", vg_rule_name((enum vg_rule)rule));
}

static void test_message_wording(void **state)
{
    (void)state;
    struct fixture f;
    penal_baseline(&f);
    f.m.alert_radius_m = 800;
    struct run r;
    run(&f.m, &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.v[0].message,
                        "alert distance R = 800 m is below the legal minimum of 1 km "
                        "(1 km <= R <= 10 km)");
    assert_string_equal(r.v[0].message_fr,
                        "la distance d'alerte R = 800 m est inférieure au minimum légal de 1 km "
                        "(1 km <= R <= 10 km)");

    f.m.alert_radius_m = 12500.5;
    run(&f.m, &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.v[0].message,
                        "alert distance R = 12500.5 m is above the legal maximum of 10 km "
                        "(1 km <= R <= 10 km)");
    assert_string_equal(r.v[0].message_fr,
                        "la distance d'alerte R = 12500,5 m est supérieure au maximum légal de "
                        "10 km (1 km <= R <= 10 km)");

    /* a value the caller gave is echoed exactly, never rounded onto a bound */
    f.m.alert_radius_m = 999.9996;
    run(&f.m, &r);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.v[0].message, "R = 999.9996 m is below"));
    assert_non_null(strstr(r.v[0].message_fr, "R = 999,9996 m est inférieure"));
    f.m.alert_radius_m = 10000.0000001;
    run(&f.m, &r);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.v[0].message, "R = 10000.0000001 m is above"));

    /* absurd values stay short and readable */
    f.m.alert_radius_m = -1e300;
    f.m.prealert_radius_m = 1e300;
    run(&f.m, &r);
    assert_int_equal(r.n, 2);
    assert_non_null(strstr(r.v[0].message, "R = -1e+300 m"));
    assert_non_null(strstr(r.v[1].message, "1e+300"));
}

/* A measure with many faults: all are reported, errors first. */
static void several_faults(struct fixture *f)
{
    civil_baseline(f);
    f->m.alert_radius_m = 800;                                 /* error */
    f->m.author_home = (struct vg_geo_point){48.8458, 2.3522}; /* ~1.2 km: within 2R, warning;
                                                          within zone 0 (2 km), warning */
    f->m.author_birth = D(2010, 1, 1);                         /* error */
    f->periods[0].protected_consent.given = false;             /* error */
    f->zones[1].alert_radius_m = 500;                          /* error */
}

static void test_several_violations(void **state)
{
    (void)state;
    struct fixture f;
    several_faults(&f);
    struct run r;
    run(&f.m, &r);
    static const struct {
        uint16_t rule;
        uint8_t severity;
        int index;
    } expected[] = {
        {VG_RULE_ALERT_RADIUS_RANGE, VG_SEVERITY_ERROR, -1},
        {VG_RULE_AUTHOR_NOT_ADULT, VG_SEVERITY_ERROR, 0},
        {VG_RULE_PROTECTED_CONSENT_MISSING, VG_SEVERITY_ERROR, 0},
        {VG_RULE_ZONE_RADIUS_RANGE, VG_SEVERITY_ERROR, 1},
        {VG_RULE_HOMES_WITHIN_PREALERT, VG_SEVERITY_WARNING, -1},
        {VG_RULE_AUTHOR_HOME_IN_ZONE, VG_SEVERITY_WARNING, 0},
    };
    if (r.n != ARRAY_LEN(expected))
        print_run(&r);
    assert_int_equal(r.n, ARRAY_LEN(expected));
    assert_int_equal(r.rc, VG_EINVAL);
    for (size_t i = 0; i < ARRAY_LEN(expected); i++) {
        assert_int_equal(r.v[i].rule, expected[i].rule);
        assert_int_equal(r.v[i].severity, expected[i].severity);
        assert_int_equal(r.v[i].index, expected[i].index);
    }

    /* warnings alone do not refuse the measure */
    civil_baseline(&f);
    f.m.author_home = near_home;      /* ~3 km: beyond R = 2 km, within 2R */
    f.zones[0].alert_radius_m = 4000; /* and within the ring of the protected home */
    run(&f.m, &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.rc, VG_OK);
    assert_int_equal(r.v[0].rule, VG_RULE_HOMES_WITHIN_PREALERT);
    assert_int_equal(r.v[1].rule, VG_RULE_AUTHOR_HOME_IN_ZONE);

    /* the same rule on several periods: one violation each, in order */
    civil_baseline(&f);
    clear_periods(&f);
    add_run(&f, CIVIL, D(2026, 1, 1), 3, 6);
    for (size_t i = 0; i < 3; i++)
        f.periods[i].author_consent.given = false;
    f.periods[1].protected_consent.given = false;
    run(&f.m, &r);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.v[0].rule, VG_RULE_PROTECTED_CONSENT_MISSING);
    assert_int_equal(r.v[0].index, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r.v[1 + i].rule, VG_RULE_AUTHOR_CONSENT_MISSING);
        assert_int_equal(r.v[1 + i].index, i);
    }

    /* a period with every date wrong: each fault on its own line */
    civil_baseline(&f);
    f.periods[0].decision_date = D(2026, 2, 30);
    f.periods[0].start = D(2026, 13, 1);
    f.periods[0].end = D(2026, 0, 1);
    run(&f.m, &r);
    assert_int_equal(r.n, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(r.v[i].rule, VG_RULE_PERIOD_DATES_INVALID);

    /* both persons minors: one violation each; both homes invalid: two */
    civil_baseline(&f);
    f.m.protected_birth = D(2010, 1, 1);
    f.m.author_birth = D(2011, 1, 1);
    f.m.protected_home.lon_deg = NAN_D;
    f.m.author_home.lat_deg = 95;
    run(&f.m, &r);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.v[0].rule, VG_RULE_HOME_INVALID);
    assert_non_null(strstr(r.v[0].message, "protected person"));
    assert_int_equal(r.v[1].rule, VG_RULE_HOME_INVALID);
    assert_non_null(strstr(r.v[1].message, "author (95,"));
    assert_int_equal(r.v[2].rule, VG_RULE_PROTECTED_NOT_ADULT);
    assert_int_equal(r.v[3].rule, VG_RULE_AUTHOR_NOT_ADULT);
}

static void test_cap_keeps_the_count(void **state)
{
    (void)state;
    struct fixture f;
    several_faults(&f);
    struct run full;
    run(&f.m, &full);
    assert_int_equal(full.n, 6);

    struct vg_violation out[6], sentinel;
    memset(&sentinel, 0x5A, sizeof sentinel);
    for (size_t cap = 0; cap <= 6; cap++) {
        for (size_t i = 0; i < 6; i++)
            out[i] = sentinel;
        size_t n = 0;
        assert_int_equal(vg_measure_validate(&f.m, out, cap, &n), VG_EINVAL);
        assert_int_equal(n, 6);
        for (size_t i = 0; i < cap; i++) {
            assert_int_equal(out[i].rule, full.v[i].rule);
            assert_int_equal(out[i].index, full.v[i].index);
            assert_string_equal(out[i].message, full.v[i].message);
            assert_string_equal(out[i].message_fr, full.v[i].message_fr);
        }
        for (size_t i = cap; i < 6; i++)
            assert_memory_equal(&out[i], &sentinel, sizeof sentinel);
    }
    /* no output array at all: still counted */
    size_t n = 0;
    assert_int_equal(vg_measure_validate(&f.m, NULL, 10, &n), VG_EINVAL);
    assert_int_equal(n, 6);
    /* a warning-only measure with cap 0 is still accepted */
    civil_baseline(&f);
    f.m.author_home = near_home;      /* ~3 km: beyond R = 2 km, within 2R */
    f.zones[0].alert_radius_m = 4000; /* and within the ring of the protected home */
    assert_int_equal(vg_measure_validate(&f.m, NULL, 0, &n), VG_OK);
    assert_int_equal(n, 2);
}

static void test_null_arguments(void **state)
{
    (void)state;
    struct fixture f;
    civil_baseline(&f);
    struct vg_violation out[2], sentinel;
    memset(&sentinel, 0x5A, sizeof sentinel);
    out[0] = out[1] = sentinel;
    size_t n = 12345;
    assert_int_equal(vg_measure_validate(NULL, out, 2, &n), VG_EINVAL);
    assert_int_equal(n, 12345);
    f.m.alert_radius_m = 1; /* a violation that would be written */
    assert_int_equal(vg_measure_validate(&f.m, out, 2, NULL), VG_EINVAL);
    assert_memory_equal(&out[0], &sentinel, sizeof sentinel);
    assert_memory_equal(&out[1], &sentinel, sizeof sentinel);
}

/* Garbage everywhere the caller's data goes: never a crash, never a read
 * out of bounds (ASan), never undefined behaviour (UBSan), always
 * messages that are whole and valid UTF-8 (checked by run()). */
static void test_garbage_input(void **state)
{
    (void)state;
    struct vg_prng rng;
    vg_prng_seed(&rng, 20260301);
    static const double specials[] = {NAN_D,  INF_D,   -INF_D, 0.0,   -0.0,   1e308,
                                      -1e308, 999.999, 1000,   10000, 4e-320, 2000};
    struct vg_window windows[VG_ZONE_MAX_WINDOWS];
    struct vg_geo_point vertices[VG_POLYGON_MAX_VERTICES];
    size_t most = 0;
    for (int iter = 0; iter < 3000; iter++) {
        struct fixture f;
        iter % 2 ? civil_baseline(&f) : penal_baseline(&f);
        unsigned char *bytes = (unsigned char *)f.periods;
        size_t n_bytes = sizeof f.periods;
        /* flip a few bytes, or randomise everything */
        if (iter % 5 == 0)
            for (size_t k = 0; k < n_bytes; k++)
                bytes[k] = (unsigned char)vg_prng_next(&rng);
        else
            for (uint64_t k = vg_prng_next(&rng) % 8; k > 0; k--)
                bytes[vg_prng_next(&rng) % n_bytes] = (unsigned char)vg_prng_next(&rng);
        f.m.n_periods = (size_t)(vg_prng_next(&rng) % (VG_MEASURE_MAX_PERIODS + 3));
        f.m.alert_radius_m = specials[vg_prng_next(&rng) % ARRAY_LEN(specials)];
        f.m.prealert_radius_m = specials[vg_prng_next(&rng) % ARRAY_LEN(specials)];
        f.m.offence = (uint8_t)vg_prng_next(&rng);
        f.m.offence_penalty_years = (uint8_t)vg_prng_next(&rng);
        f.m.protected_home.lat_deg = vg_prng_range(&rng, -100, 100);
        f.m.author_home.lon_deg = specials[vg_prng_next(&rng) % ARRAY_LEN(specials)];
        f.m.author_birth.month = (uint8_t)vg_prng_next(&rng);
        /* zones: every scalar random, pointers only to real arrays */
        for (size_t k = 0; k < sizeof windows; k++)
            ((unsigned char *)windows)[k] = (unsigned char)vg_prng_next(&rng);
        for (size_t k = 0; k < ARRAY_LEN(vertices); k++)
            vertices[k] =
                (struct vg_geo_point){vg_prng_range(&rng, -95, 95), vg_prng_range(&rng, -185, 185)};
        f.m.n_zones = (size_t)(vg_prng_next(&rng) % (VG_MEASURE_MAX_ZONES + 2));
        for (size_t z = 0; z < VG_MEASURE_MAX_ZONES + 1; z++) {
            if (vg_prng_next(&rng) % 2)
                continue;
            unsigned char *zb = (unsigned char *)&f.zones[z];
            for (size_t k = 0; k < sizeof f.zones[z]; k++)
                zb[k] = (unsigned char)vg_prng_next(&rng);
            f.zones[z].vertices = vg_prng_next(&rng) % 4 ? vertices : NULL;
            f.zones[z].windows = vg_prng_next(&rng) % 4 ? windows : NULL;
            f.zones[z].alert_radius_m = specials[vg_prng_next(&rng) % ARRAY_LEN(specials)];
        }
        struct run r;
        run(&f.m, &r);
        if (r.n > most)
            most = r.n;
        struct vg_date end;
        (void)vg_measure_max_end(&f.m, (enum vg_stage)(vg_prng_next(&rng) % 5), f.periods[0].start,
                                 &end);
        (void)vg_measure_period_at(&f.m, f.periods[1].end);
    }
    print_message("  garbage: at most %zu violations in one measure\n", most);
    assert_true(most > RUN_CAP); /* the truncated output was exercised too */
}

/* ---- Names and small helpers ---------------------------------------- */

static void test_rule_names(void **state)
{
    (void)state;
    /* what the API returns: stable, never renamed */
    static const char *const names[VG_RULE__COUNT] = {
        NULL,
        "alert_radius_range",
        "prealert_not_double",
        "home_invalid",
        "homes_within_alert",
        "homes_within_prealert",
        "birth_date_invalid",
        "protected_not_adult",
        "author_not_adult",
        "no_period",
        "too_many_periods",
        "stage_invalid",
        "period_dates_invalid",
        "period_too_long",
        "periods_overlap",
        "stage_order",
        "pre_sentencing_cap",
        "post_sentencing_cap",
        "offence_missing",
        "offence_penalty",
        "protected_consent_missing",
        "author_consent_missing",
        "consent_date_invalid",
        "consent_not_renewed",
        "too_many_zones",
        "zone_invalid",
        "zone_radius_range",
        "author_home_in_zone",
    };
    assert_null(vg_rule_name((enum vg_rule)0));
    assert_null(vg_rule_name(VG_RULE__COUNT));
    assert_null(vg_rule_name((enum vg_rule) - 1));
    assert_null(vg_rule_name((enum vg_rule)1000));
    for (int rule = 1; rule < VG_RULE__COUNT; rule++)
        assert_string_equal(vg_rule_name((enum vg_rule)rule), names[rule]);
}

static void test_stage_framework_and_prealert(void **state)
{
    (void)state;
    assert_int_equal(vg_stage_framework(VG_STAGE_PROTECTION_ORDER), VG_FRAMEWORK_CIVIL);
    assert_int_equal(vg_stage_framework(VG_STAGE_PRE_SENTENCING), VG_FRAMEWORK_PENAL);
    assert_int_equal(vg_stage_framework(VG_STAGE_POST_SENTENCING), VG_FRAMEWORK_PENAL);
    assert_int_equal(vg_stage_framework((enum vg_stage)0), 0);
    assert_int_equal(vg_stage_framework((enum vg_stage)4), 0);
    assert_true(vg_prealert_radius(1000) == 2000);
    assert_true(vg_prealert_radius(2345.678) == 4691.356);
    assert_true(vg_prealert_radius(10000) == 20000);
}

/* ---- vg_measure_max_end --------------------------------------------- */

static void expect_max_end(const struct vg_measure *m, enum vg_stage stage, struct vg_date start,
                           struct vg_date expected)
{
    struct vg_date end = {0, 0, 0};
    assert_int_equal(vg_measure_max_end(m, stage, start, &end), VG_OK);
    if (vg_date_cmp(end, expected) != 0)
        fail_msg("max end %04d-%02u-%02u, expected %04d-%02u-%02u", (int)end.year,
                 (unsigned)end.month, (unsigned)end.day, (int)expected.year,
                 (unsigned)expected.month, (unsigned)expected.day);
}

static void test_max_end(void **state)
{
    (void)state;
    struct fixture f;
    penal_baseline(&f);
    clear_periods(&f);

    /* 6 months, with end-of-month clamping */
    expect_max_end(&f.m, CIVIL, D(2026, 8, 31), D(2027, 2, 28));
    expect_max_end(&f.m, PRE, D(2026, 1, 1), D(2026, 7, 1));
    expect_max_end(&f.m, POST, D(2027, 8, 31), D(2028, 2, 29));

    /* pre-sentencing: 3 periods used, the 4th may be full */
    add_run(&f, PRE, D(2026, 1, 1), 3, 6);
    expect_max_end(&f.m, PRE, D(2027, 7, 1), D(2028, 1, 1));
    /* a short 4th period: what remains is less than 6 months */
    add_period(&f, PRE, D(2027, 7, 1), D(2027, 7, 1), D(2027, 10, 1));
    expect_max_end(&f.m, PRE, D(2027, 10, 1), D(2028, 1, 1));
    /* the days left are days in force: after a gap, they still fit */
    expect_max_end(&f.m, PRE, D(2028, 3, 1), D(2028, 6, 1));
    /* other stages are not charged */
    expect_max_end(&f.m, POST, D(2027, 10, 1), D(2028, 4, 1));
    expect_max_end(&f.m, CIVIL, D(2027, 10, 1), D(2028, 4, 1));
    /* used up */
    add_period(&f, PRE, D(2027, 10, 1), D(2027, 10, 1), D(2028, 1, 1));
    struct vg_date end = D(1999, 1, 1);
    assert_int_equal(vg_measure_max_end(&f.m, PRE, D(2028, 1, 1), &end), VG_ERANGE);
    assert_int_equal(vg_date_cmp(end, D(1999, 1, 1)), 0);

    /* post-sentencing: the cap follows the offence */
    clear_periods(&f);
    add_run(&f, POST, D(2026, 1, 1), 7, 6);
    expect_max_end(&f.m, POST, D(2029, 7, 1), D(2030, 1, 1));
    add_period(&f, POST, D(2029, 7, 1), D(2029, 7, 1), D(2030, 1, 1));
    assert_int_equal(vg_measure_max_end(&f.m, POST, D(2030, 1, 1), &end), VG_ERANGE);
    f.m.offence = VG_OFFENCE_CRIME;
    expect_max_end(&f.m, POST, D(2030, 1, 1), D(2030, 7, 1));

    /* refused */
    f.m.offence = VG_OFFENCE_NONE;
    assert_int_equal(vg_measure_max_end(&f.m, POST, D(2030, 1, 1), &end), VG_EINVAL);
    f.m.offence = 7;
    assert_int_equal(vg_measure_max_end(&f.m, POST, D(2030, 1, 1), &end), VG_EINVAL);
    f.m.offence = VG_OFFENCE_MISDEMEANOUR;
    assert_int_equal(vg_measure_max_end(&f.m, (enum vg_stage)0, D(2030, 1, 1), &end), VG_EINVAL);
    assert_int_equal(vg_measure_max_end(&f.m, (enum vg_stage)4, D(2030, 1, 1), &end), VG_EINVAL);
    assert_int_equal(vg_measure_max_end(&f.m, (enum vg_stage)258, D(2030, 1, 1), &end), VG_EINVAL);
    assert_int_equal(vg_measure_max_end(&f.m, PRE, D(2030, 2, 30), &end), VG_EINVAL);
    assert_int_equal(vg_measure_max_end(NULL, PRE, D(2030, 1, 1), &end), VG_EINVAL);
    assert_int_equal(vg_measure_max_end(&f.m, PRE, D(2030, 1, 1), NULL), VG_EINVAL);
    f.m.periods = NULL;
    assert_int_equal(vg_measure_max_end(&f.m, PRE, D(2030, 1, 1), &end), VG_EINVAL);
    f.m.periods = f.periods;
    f.m.n_periods = SIZE_MAX;
    assert_int_equal(vg_measure_max_end(&f.m, PRE, D(2030, 1, 1), &end), VG_EINVAL);
    f.m.n_periods = 2;
    f.periods[1].stage = 9; /* days already used are not all known */
    assert_int_equal(vg_measure_max_end(&f.m, PRE, D(2030, 1, 1), &end), VG_EINVAL);
    f.periods[1].stage = POST;
    f.periods[1].end = f.periods[1].start;
    assert_int_equal(vg_measure_max_end(&f.m, PRE, D(2030, 1, 1), &end), VG_EINVAL);
    /* beyond the calendar this system accepts */
    clear_periods(&f);
    assert_int_equal(vg_measure_max_end(&f.m, CIVIL, D(2200, 12, 1), &end), VG_ERANGE);
    expect_max_end(&f.m, CIVIL, D(2200, 6, 30), D(2200, 12, 30));
}

/* Renewing with max_end each time, from an end of month, fills a stage
 * exactly: every renewal validates, and one more day never does. */
static void fill_stage(uint8_t stage, uint8_t offence, int expected_periods)
{
    struct fixture f;
    penal_baseline(&f);
    clear_periods(&f);
    f.m.offence = offence;
    struct vg_date start = D(2026, 8, 31), end;
    int count = 0;
    while (vg_measure_max_end(&f.m, (enum vg_stage)stage, start, &end) == VG_OK) {
        /* one day more is refused */
        add_period(&f, stage, start, start, vg_date_from_days(vg_date_to_days(end) + 1));
        struct run r;
        run(&f.m, &r);
        assert_int_equal(r.rc, VG_EINVAL);
        assert_int_equal(r.n, 1);
        assert_true(r.v[0].rule == VG_RULE_PERIOD_TOO_LONG ||
                    r.v[0].rule == VG_RULE_PRE_SENTENCING_CAP ||
                    r.v[0].rule == VG_RULE_POST_SENTENCING_CAP);
        /* the offered end is accepted */
        f.periods[f.m.n_periods - 1].end = end;
        expect_valid(&f.m);
        start = end;
        count++;
        assert_true(count <= 20);
    }
    assert_int_equal(count, expected_periods);
    /* the last period was cut by the cap, not by the 6 months */
    struct stage_days {
        int64_t used, cap;
    } s = {0, 0};
    for (size_t i = 0; i < f.m.n_periods; i++)
        s.used += vg_date_to_days(f.periods[i].end) - vg_date_to_days(f.periods[i].start);
    int months = stage == PRE ? 24 : offence == VG_OFFENCE_CRIME ? 72 : 48;
    s.cap = vg_date_to_days(vg_date_add_months(D(2026, 8, 31), months)) -
            vg_date_to_days(D(2026, 8, 31));
    assert_int_equal(s.used, s.cap);
}

static void test_max_end_fills_each_cap(void **state)
{
    (void)state;
    /* from 31 August, 6-month steps clamp to the 28th/29th and drift: the
     * last step is then cut short by the cap */
    fill_stage(PRE, VG_OFFENCE_MISDEMEANOUR, 5);
    fill_stage(POST, VG_OFFENCE_MISDEMEANOUR, 9);
    fill_stage(POST, VG_OFFENCE_CRIME, 13);
}

/* ---- vg_measure_period_at ------------------------------------------- */

static void test_period_at(void **state)
{
    (void)state;
    struct fixture f;
    penal_baseline(&f); /* [2026-02-01, 2026-08-01), [2026-08-01, 2027-02-01) */
    assert_int_equal(vg_measure_period_at(&f.m, D(2026, 1, 31)), -1);
    assert_int_equal(vg_measure_period_at(&f.m, D(2026, 2, 1)), 0);
    assert_int_equal(vg_measure_period_at(&f.m, D(2026, 7, 31)), 0);
    assert_int_equal(vg_measure_period_at(&f.m, D(2026, 8, 1)), 1);
    assert_int_equal(vg_measure_period_at(&f.m, D(2027, 1, 31)), 1);
    assert_int_equal(vg_measure_period_at(&f.m, D(2027, 2, 1)), -1);
    assert_int_equal(vg_measure_period_at(&f.m, D(2026, 2, 30)), -1);
    assert_int_equal(vg_measure_period_at(NULL, D(2026, 3, 1)), -1);
    /* a gap between periods */
    f.periods[1].start = D(2026, 9, 1);
    assert_int_equal(vg_measure_period_at(&f.m, D(2026, 8, 15)), -1);
    assert_int_equal(vg_measure_period_at(&f.m, D(2026, 9, 1)), 1);
    /* unusable periods are skipped, unusable lists refused */
    f.periods[0].end = D(2026, 2, 30);
    assert_int_equal(vg_measure_period_at(&f.m, D(2026, 3, 1)), -1);
    f.m.periods = NULL;
    assert_int_equal(vg_measure_period_at(&f.m, D(2026, 9, 1)), -1);
    f.m.periods = f.periods;
    f.m.n_periods = VG_MEASURE_MAX_PERIODS + 1;
    assert_int_equal(vg_measure_period_at(&f.m, D(2026, 9, 1)), -1);
    f.m.n_periods = 0;
    assert_int_equal(vg_measure_period_at(&f.m, D(2026, 9, 1)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_thing_broken),
        cmocka_unit_test(test_every_rule_has_a_case),
        cmocka_unit_test(test_message_wording),
        cmocka_unit_test(test_several_violations),
        cmocka_unit_test(test_cap_keeps_the_count),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_garbage_input),
        cmocka_unit_test(test_rule_names),
        cmocka_unit_test(test_stage_framework_and_prealert),
        cmocka_unit_test(test_max_end),
        cmocka_unit_test(test_max_end_fills_each_cap),
        cmocka_unit_test(test_period_at),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
