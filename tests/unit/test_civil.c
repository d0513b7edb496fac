/* Calendar arithmetic. The reference for day numbers, weekdays and
 * broken-down times is glibc's gmtime_r/timegm (64-bit time_t), which is
 * independent of civil.c; the rest is tables of hand-checked cases. */
#include <time.h>

#include "core/civil.h"
#include "core/err.h"
#include "core/prng.h"
#include "testing.h"

static struct vg_date date(int32_t y, unsigned m, unsigned d)
{
    struct vg_date out = {y, (uint8_t)m, (uint8_t)d};
    return out;
}

#define assert_date_equal(a, b)                                                                    \
    do {                                                                                           \
        struct vg_date a_ = (a), b_ = (b);                                                         \
        if (vg_date_cmp(a_, b_) != 0)                                                              \
            fail_msg("%s = %04d-%02u-%02u, expected %04d-%02u-%02u", #a, (int)a_.year,             \
                     (unsigned)a_.month, (unsigned)a_.day, (int)b_.year, (unsigned)b_.month,       \
                     (unsigned)b_.day);                                                            \
    } while (0)

static void test_day_number_anchors(void **state)
{
    (void)state;
    /* Values from Python's datetime.date ordinals. */
    static const struct {
        int32_t y;
        unsigned m, d;
        int64_t days;
        unsigned weekday; /* 0 = Monday */
    } cases[] = {
        {1970, 1, 1, 0, 3},      {1969, 12, 31, -1, 2},    {1900, 1, 1, -25567, 0},
        {2000, 2, 29, 11016, 1}, {2000, 3, 1, 11017, 2},   {2024, 2, 29, 19782, 3},
        {2026, 3, 29, 20541, 6}, {2200, 12, 31, 84370, 2},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct vg_date d = date(cases[i].y, cases[i].m, cases[i].d);
        assert_int_equal(vg_date_to_days(d), cases[i].days);
        assert_date_equal(vg_date_from_days(cases[i].days), d);
        assert_int_equal(vg_weekday(cases[i].days), cases[i].weekday);
    }
}

/* Every day of the supported range, both ways, against gmtime_r. */
static void test_day_numbers_whole_range(void **state)
{
    (void)state;
    int64_t first = vg_date_to_days(date(VG_CIVIL_MIN_YEAR, 1, 1));
    int64_t last = vg_date_to_days(date(VG_CIVIL_MAX_YEAR, 12, 31));
    struct vg_date prev = vg_date_from_days(first - 1);
    assert_date_equal(prev, date(VG_CIVIL_MIN_YEAR - 1, 12, 31));
    for (int64_t n = first; n <= last; n++) {
        struct vg_date d = vg_date_from_days(n);
        assert_int_equal(vg_date_check(d), VG_OK);
        assert_int_equal(vg_date_to_days(d), n);
        assert_true(vg_date_cmp(prev, d) < 0);
        time_t t = (time_t)(n * 86400);
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        assert_int_equal(d.year, tm.tm_year + 1900);
        assert_int_equal(d.month, tm.tm_mon + 1);
        assert_int_equal(d.day, tm.tm_mday);
        assert_int_equal(vg_weekday(n), (unsigned)(tm.tm_wday + 6) % 7);
        prev = d;
    }
    assert_date_equal(vg_date_from_days(last + 1), date(VG_CIVIL_MAX_YEAR + 1, 1, 1));
    /* Far outside the range the conversion still round-trips (no overflow). */
    for (int64_t n = -1000000000; n <= 1000000000; n += 99999989) {
        struct vg_date d = vg_date_from_days(n);
        assert_int_equal(vg_date_to_days(d), n);
    }
}

static void test_leap_years(void **state)
{
    (void)state;
    static const struct {
        int32_t year;
        bool leap;
    } cases[] = {
        {1900, false}, {1904, true}, {1996, true},  {1999, false}, {2000, true},
        {2023, false}, {2024, true}, {2100, false}, {2200, false}, {2400, true},
        {0, true},     {-4, true},   {-100, false}, {-400, true},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        assert_int_equal(vg_is_leap_year(cases[i].year), cases[i].leap);
        assert_int_equal(vg_days_in_month(cases[i].year, 2), cases[i].leap ? 29 : 28);
    }
    static const unsigned lengths[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (unsigned m = 1; m <= 12; m++)
        assert_int_equal(vg_days_in_month(2023, m), lengths[m - 1]);
    assert_int_equal(vg_days_in_month(2023, 0), 0);
    assert_int_equal(vg_days_in_month(2023, 13), 0);
}

static void test_date_check(void **state)
{
    (void)state;
    static const struct {
        int32_t y;
        unsigned m, d;
        int expect;
    } cases[] = {
        {2023, 2, 29, VG_ERANGE},  {2024, 2, 29, VG_OK},     {1900, 2, 29, VG_ERANGE},
        {2000, 2, 29, VG_OK},      {2100, 2, 29, VG_ERANGE}, {2026, 4, 31, VG_ERANGE},
        {2026, 4, 30, VG_OK},      {2026, 12, 31, VG_OK},    {2026, 13, 1, VG_ERANGE},
        {2026, 0, 1, VG_ERANGE},   {2026, 1, 0, VG_ERANGE},  {2026, 1, 32, VG_ERANGE},
        {1899, 12, 31, VG_ERANGE}, {1900, 1, 1, VG_OK},      {2200, 12, 31, VG_OK},
        {2201, 1, 1, VG_ERANGE},   {-2026, 1, 1, VG_ERANGE}, {2026, 255, 1, VG_ERANGE},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_int_equal(vg_date_check(date(cases[i].y, cases[i].m, cases[i].d)), cases[i].expect);

    static const struct {
        uint8_t h, mi, s;
        int expect;
    } times[] = {
        {0, 0, 0, VG_OK},       {23, 59, 59, VG_OK},    {24, 0, 0, VG_ERANGE},
        {12, 60, 0, VG_ERANGE}, {12, 0, 60, VG_ERANGE}, {255, 0, 0, VG_ERANGE},
    };
    for (size_t i = 0; i < ARRAY_LEN(times); i++) {
        struct vg_local_time t = {date(2026, 3, 29), times[i].h, times[i].mi, times[i].s};
        assert_int_equal(vg_local_time_check(&t), times[i].expect);
    }
    struct vg_local_time bad_date = {date(2023, 2, 29), 12, 0, 0};
    assert_int_equal(vg_local_time_check(&bad_date), VG_ERANGE);
}

static void test_date_cmp(void **state)
{
    (void)state;
    assert_true(vg_date_cmp(date(2026, 3, 29), date(2026, 3, 29)) == 0);
    assert_true(vg_date_cmp(date(2026, 3, 28), date(2026, 3, 29)) < 0);
    assert_true(vg_date_cmp(date(2026, 4, 1), date(2026, 3, 31)) > 0);
    assert_true(vg_date_cmp(date(2025, 12, 31), date(2026, 1, 1)) < 0);
    assert_true(vg_date_cmp(date(2027, 1, 1), date(2026, 12, 31)) > 0);
}

static void test_add_months(void **state)
{
    (void)state;
    static const struct {
        struct vg_date from;
        int32_t months;
        struct vg_date expect;
    } cases[] = {
        {{2026, 8, 31}, 6, {2027, 2, 28}},    {{2026, 8, 31}, 18, {2028, 2, 29}},
        {{2024, 1, 31}, 1, {2024, 2, 29}},    {{2023, 1, 31}, 1, {2023, 2, 28}},
        {{2026, 1, 31}, 3, {2026, 4, 30}},    {{2026, 3, 31}, -1, {2026, 2, 28}},
        {{2024, 3, 31}, -1, {2024, 2, 29}},   {{2026, 1, 15}, -1, {2025, 12, 15}},
        {{2026, 1, 15}, -13, {2024, 12, 15}}, {{2026, 1, 15}, -12, {2025, 1, 15}},
        {{2026, 12, 15}, 1, {2027, 1, 15}},   {{2024, 2, 29}, 12, {2025, 2, 28}},
        {{2024, 2, 29}, 48, {2028, 2, 29}},   {{2026, 5, 10}, 0, {2026, 5, 10}},
        {{2026, 5, 31}, -120, {2016, 5, 31}}, {{2000, 2, 29}, -1200, {1900, 2, 28}},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_date_equal(vg_date_add_months(cases[i].from, cases[i].months), cases[i].expect);
}

static void test_anniversary(void **state)
{
    (void)state;
    static const struct {
        struct vg_date birth;
        int32_t years;
        struct vg_date expect;
    } cases[] = {
        {{2008, 2, 29}, 18, {2026, 3, 1}},  /* common year: 1 March, never 28 February */
        {{2008, 2, 29}, 16, {2024, 2, 29}}, /* leap year: the day itself */
        {{2000, 2, 29}, 100, {2100, 3, 1}}, /* 2100 is not a leap year */
        {{2000, 2, 29}, 200, {2200, 3, 1}}, {{1996, 2, 29}, 104, {2100, 3, 1}},
        {{1990, 6, 15}, 18, {2008, 6, 15}}, {{2007, 2, 28}, 18, {2025, 2, 28}},
        {{2007, 3, 1}, 17, {2024, 3, 1}},   {{2010, 12, 31}, 0, {2010, 12, 31}},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_date_equal(vg_date_anniversary(cases[i].birth, cases[i].years), cases[i].expect);
}

static void test_floor_div_mod(void **state)
{
    (void)state;
    static const struct {
        int64_t a, b, q, r;
    } cases[] = {
        {7, 2, 3, 1},
        {-7, 2, -4, 1},
        {7, -2, -4, -1},
        {-7, -2, 3, -1},
        {-6, 3, -2, 0},
        {6, 3, 2, 0},
        {0, 5, 0, 0},
        {-1, 86400, -1, 86399},
        {-86400, 86400, -1, 0},
        {-86401, 86400, -2, 86399},
        {86399, 86400, 0, 86399},
        {INT64_MIN, 86400, -106751991167301, 30592},
        {INT64_MAX, 86400, 106751991167300, 55807},
        {INT64_MIN, 1, INT64_MIN, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        assert_int_equal(vg_floor_div(cases[i].a, cases[i].b), cases[i].q);
        assert_int_equal(vg_floor_mod(cases[i].a, cases[i].b), cases[i].r);
    }
}

static void test_local_seconds_round_trip(void **state)
{
    (void)state;
    struct vg_local_time t = {date(2026, 3, 29), 2, 30, 0};
    assert_int_equal(vg_local_time_to_seconds(&t), (int64_t)20541 * 86400 + 9000);
    struct vg_local_time before = {date(1969, 12, 31), 23, 59, 59};
    assert_int_equal(vg_local_time_to_seconds(&before), -1);

    struct vg_prng rng;
    vg_prng_seed(&rng, 42);
    int64_t lo = vg_date_to_days(date(VG_CIVIL_MIN_YEAR, 1, 1)) * 86400;
    int64_t hi = (vg_date_to_days(date(VG_CIVIL_MAX_YEAR, 12, 31)) + 1) * 86400;
    for (int i = 0; i < 200000; i++) {
        int64_t s = lo + (int64_t)(vg_prng_next(&rng) % (uint64_t)(hi - lo));
        struct vg_local_time out;
        vg_local_time_from_seconds(s, &out);
        assert_int_equal(vg_local_time_check(&out), VG_OK);
        assert_int_equal(vg_local_time_to_seconds(&out), s);
        /* Civil seconds read as UTC: gmtime_r breaks them down the same way. */
        time_t tt = (time_t)s;
        struct tm tm;
        assert_non_null(gmtime_r(&tt, &tm));
        assert_int_equal(out.date.year, tm.tm_year + 1900);
        assert_int_equal(out.date.month, tm.tm_mon + 1);
        assert_int_equal(out.date.day, tm.tm_mday);
        assert_int_equal(out.hour, tm.tm_hour);
        assert_int_equal(out.minute, tm.tm_min);
        assert_int_equal(out.second, tm.tm_sec);
        assert_int_equal(timegm(&tm), (time_t)s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_number_anchors),
        cmocka_unit_test(test_day_numbers_whole_range),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_date_check),
        cmocka_unit_test(test_date_cmp),
        cmocka_unit_test(test_add_months),
        cmocka_unit_test(test_anniversary),
        cmocka_unit_test(test_floor_div_mod),
        cmocka_unit_test(test_local_seconds_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
