/* Authorisation windows in Europe/Paris (and a few odder zones), across
 * both daylight-saving changes. The brute-force checks take the wall clock
 * from glibc (localtime_r on the same TZif file), not from tz.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/civil.h"
#include "core/err.h"
#include "core/prng.h"
#include "core/tz.h"
#include "core/window.h"
#include "testing.h"

#define ZONEINFO    "/usr/share/zoneinfo"
#define MINUTE_MS   ((int64_t)60000)
#define HOUR_MS     (60 * MINUTE_MS)
#define DAY_MS      (24 * HOUR_MS)
#define MAX_WINDOWS 16 /* a zone holds up to VG_ZONE_MAX_WINDOWS = 16 */

static struct vg_tz paris;
static uint8_t file_buf[1 << 16];

static void load_zone(struct vg_tz *tz, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, ZONEINFO "/%s", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(file_buf, 1, sizeof file_buf, f);
    fclose(f);
    assert_int_equal(vg_tz_from_tzif(tz, file_buf, n), VG_OK);
}

static int setup(void **state)
{
    (void)state;
    load_zone(&paris, "Europe/Paris");
    return 0;
}

/* UTC milliseconds of a UTC date-time. */
static int64_t ms(int32_t y, unsigned mo, unsigned d, unsigned h, unsigned mi)
{
    struct vg_local_time t = {{y, (uint8_t)mo, (uint8_t)d}, (uint8_t)h, (uint8_t)mi, 0};
    return vg_local_time_to_seconds(&t) * 1000;
}

static struct vg_local_time lt(int32_t y, unsigned mo, unsigned d, unsigned h, unsigned mi)
{
    struct vg_local_time t = {{y, (uint8_t)mo, (uint8_t)d}, (uint8_t)h, (uint8_t)mi, 0};
    return t;
}

static struct vg_window weekly(unsigned days, unsigned start, unsigned end)
{
    struct vg_window w;
    assert_int_equal(vg_window_init_weekly(&w, days, start, end), VG_OK);
    return w;
}

#define HM(h, m) ((h)*60 + (m))

static bool open_at(const struct vg_window *w, size_t n, const struct vg_tz *tz, int64_t t)
{
    return vg_windows_open_at(w, n, tz, t, NULL);
}

static int64_t next_change(const struct vg_window *w, size_t n, const struct vg_tz *tz, int64_t t)
{
    int64_t next = -1;
    (void)vg_windows_open_at(w, n, tz, t, &next);
    return next;
}

/* Open exactly on [from, to) within [from - 1 h, to + 1 h] (minute steps,
 * plus the milliseconds either side of each edge). */
static void expect_open_exactly(const struct vg_window *w, size_t n, const struct vg_tz *tz,
                                int64_t from, int64_t to)
{
    for (int64_t t = from - HOUR_MS; t <= to + HOUR_MS; t += MINUTE_MS) {
        bool expect = t >= from && t < to;
        if (open_at(w, n, tz, t) != expect)
            fail_msg("at %lld: open %d, expected %d", (long long)t, !expect, expect);
    }
    assert_false(open_at(w, n, tz, from - 1));
    assert_true(open_at(w, n, tz, from));
    assert_true(open_at(w, n, tz, to - 1));
    assert_false(open_at(w, n, tz, to));
}

/* Open exactly on the union of two intervals, scanning [scan_from, scan_to). */
static void expect_open_twice(const struct vg_window *w, size_t n, const struct vg_tz *tz,
                              int64_t scan_from, int64_t scan_to, int64_t a1, int64_t b1,
                              int64_t a2, int64_t b2)
{
    for (int64_t t = scan_from; t < scan_to; t += MINUTE_MS) {
        bool expect = (t >= a1 && t < b1) || (t >= a2 && t < b2);
        if (open_at(w, n, tz, t) != expect)
            fail_msg("at %lld: open %d, expected %d", (long long)t, !expect, expect);
    }
    int64_t edges[4] = {a1, b1, a2, b2};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(open_at(w, n, tz, edges[i] - 1), i % 2 == 1);
        assert_int_equal(open_at(w, n, tz, edges[i]), i % 2 == 0);
    }
}

/* "Wednesdays 16:00-16:30" is 14:00-14:30Z in summer, 15:00-15:30Z in winter. */
static void test_weekly_follows_the_wall_clock(void **state)
{
    (void)state;
    struct vg_window w = weekly(VG_DAY_WED, HM(16, 0), HM(16, 30));
    expect_open_exactly(&w, 1, &paris, ms(2026, 7, 15, 14, 0), ms(2026, 7, 15, 14, 30));
    expect_open_exactly(&w, 1, &paris, ms(2026, 1, 14, 15, 0), ms(2026, 1, 14, 15, 30));
    assert_int_equal(next_change(&w, 1, &paris, ms(2026, 7, 15, 12, 0)), ms(2026, 7, 15, 14, 0));
    assert_int_equal(next_change(&w, 1, &paris, ms(2026, 7, 15, 14, 10)), ms(2026, 7, 15, 14, 30));
    assert_int_equal(next_change(&w, 1, &paris, ms(2026, 7, 15, 14, 30)), ms(2026, 7, 22, 14, 0));
    /* The week of the autumn change: next opening one hour later in UTC. */
    assert_int_equal(next_change(&w, 1, &paris, ms(2026, 10, 21, 15, 0)), ms(2026, 10, 28, 15, 0));
    assert_int_equal(next_change(&w, 1, &paris, ms(2026, 3, 25, 16, 0)), ms(2026, 4, 1, 14, 0));
    /* The POSIX rule gives the same answers. */
    static struct vg_tz rule;
    assert_int_equal(vg_tz_from_posix(&rule, VG_TZ_RULE_EUROPE_PARIS), VG_OK);
    expect_open_exactly(&w, 1, &rule, ms(2026, 7, 15, 14, 0), ms(2026, 7, 15, 14, 30));
    expect_open_exactly(&w, 1, &rule, ms(2026, 1, 14, 15, 0), ms(2026, 1, 14, 15, 30));
}

/* 2026-03-29: 02:00 -> 03:00 at 01:00Z. */
static void test_weekly_spring_gap(void **state)
{
    (void)state;
    /* Entirely inside the gap: does not happen that Sunday. */
    struct vg_window w = weekly(VG_DAY_SUN, HM(2, 10), HM(2, 40));
    for (int64_t t = ms(2026, 3, 28, 12, 0); t < ms(2026, 3, 30, 0, 0); t += MINUTE_MS)
        assert_false(open_at(&w, 1, &paris, t));
    assert_int_equal(next_change(&w, 1, &paris, ms(2026, 3, 28, 12, 0)), ms(2026, 4, 5, 0, 10));
    expect_open_exactly(&w, 1, &paris, ms(2026, 3, 22, 1, 10), ms(2026, 3, 22, 1, 40));

    /* Across the gap: open 01:30-02:00 local, then the clock reads 03:00. */
    w = weekly(VG_DAY_SUN, HM(1, 30), HM(2, 30));
    expect_open_exactly(&w, 1, &paris, ms(2026, 3, 29, 0, 30), ms(2026, 3, 29, 1, 0));
    assert_int_equal(next_change(&w, 1, &paris, ms(2026, 3, 29, 0, 40)), ms(2026, 3, 29, 1, 0));

    /* Starting in the gap: open from the change (03:00 local) on. */
    w = weekly(VG_DAY_SUN, HM(2, 30), HM(4, 0));
    expect_open_exactly(&w, 1, &paris, ms(2026, 3, 29, 1, 0), ms(2026, 3, 29, 2, 0));
    assert_int_equal(next_change(&w, 1, &paris, ms(2026, 3, 29, 0, 0)), ms(2026, 3, 29, 1, 0));

    /* Overnight Saturday 23:00 -> 03:30: 3.5 hours that night, not 4.5. */
    w = weekly(VG_DAY_SAT, HM(23, 0), HM(3, 30));
    expect_open_exactly(&w, 1, &paris, ms(2026, 3, 28, 22, 0), ms(2026, 3, 29, 1, 30));
    expect_open_exactly(&w, 1, &paris, ms(2026, 4, 4, 21, 0), ms(2026, 4, 5, 1, 30));
}

/* 2026-10-25: 03:00 -> 02:00 at 01:00Z; 02:00-02:59 happen twice. */
static void test_weekly_autumn_repeat(void **state)
{
    (void)state;
    int64_t night = ms(2026, 10, 24, 20, 0), morning = ms(2026, 10, 25, 8, 0);
    struct vg_window w = weekly(VG_DAY_SUN, HM(2, 10), HM(2, 40));
    expect_open_twice(&w, 1, &paris, night, morning, ms(2026, 10, 25, 0, 10),
                      ms(2026, 10, 25, 0, 40), ms(2026, 10, 25, 1, 10), ms(2026, 10, 25, 1, 40));
    int64_t t = ms(2026, 10, 24, 22, 0);
    static const int64_t chain[][5] = {{2026, 10, 25, 0, 10},
                                       {2026, 10, 25, 0, 40},
                                       {2026, 10, 25, 1, 10},
                                       {2026, 10, 25, 1, 40},
                                       {2026, 11, 1, 1, 10}};
    for (size_t i = 0; i < ARRAY_LEN(chain); i++) {
        int64_t expect = ms((int32_t)chain[i][0], (unsigned)chain[i][1], (unsigned)chain[i][2],
                            (unsigned)chain[i][3], (unsigned)chain[i][4]);
        t = next_change(&w, 1, &paris, t);
        assert_int_equal(t, expect);
    }

    /* 02:30-03:30: open at the first 02:30, closed when the clock goes back
     * to 02:00, open again at the second 02:30 until 03:30. */
    w = weekly(VG_DAY_SUN, HM(2, 30), HM(3, 30));
    expect_open_twice(&w, 1, &paris, night, morning, ms(2026, 10, 25, 0, 30),
                      ms(2026, 10, 25, 1, 0), ms(2026, 10, 25, 1, 30), ms(2026, 10, 25, 2, 30));
    assert_int_equal(next_change(&w, 1, &paris, ms(2026, 10, 25, 0, 40)), ms(2026, 10, 25, 1, 0));

    /* Overnight Saturday 23:00 -> 03:00: five hours that night. */
    w = weekly(VG_DAY_SAT, HM(23, 0), HM(3, 0));
    expect_open_exactly(&w, 1, &paris, ms(2026, 10, 24, 21, 0), ms(2026, 10, 25, 2, 0));
}

static void test_weekly_overnight_and_wrap(void **state)
{
    (void)state;
    /* Friday 22:00 -> Saturday 06:00 (winter: -1 h). */
    struct vg_window w = weekly(VG_DAY_FRI, HM(22, 0), HM(6, 0));
    expect_open_exactly(&w, 1, &paris, ms(2026, 1, 16, 21, 0), ms(2026, 1, 17, 5, 0));
    assert_false(open_at(&w, 1, &paris, ms(2026, 1, 17, 21, 30))); /* Saturday night: no */
    assert_false(open_at(&w, 1, &paris, ms(2026, 1, 16, 4, 30)));  /* Friday morning: no */

    /* Sunday 22:00 -> Monday 06:00 wraps the week. */
    w = weekly(VG_DAY_SUN, HM(22, 0), HM(6, 0));
    expect_open_exactly(&w, 1, &paris, ms(2026, 1, 18, 21, 0), ms(2026, 1, 19, 5, 0));
    assert_false(open_at(&w, 1, &paris, ms(2026, 1, 19, 21, 30)));
    assert_int_equal(next_change(&w, 1, &paris, ms(2026, 1, 19, 5, 0)), ms(2026, 1, 25, 21, 0));

    /* Every night: closed only 06:00-22:00 each day. */
    w = weekly(VG_DAY_ALL, HM(22, 0), HM(6, 0));
    for (unsigned d = 12; d < 19; d++) {
        assert_true(open_at(&w, 1, &paris, ms(2026, 1, d, 5, 0) - 1));
        assert_false(open_at(&w, 1, &paris, ms(2026, 1, d, 5, 0)));
        assert_false(open_at(&w, 1, &paris, ms(2026, 1, d, 21, 0) - 1));
        assert_true(open_at(&w, 1, &paris, ms(2026, 1, d, 21, 0)));
        assert_int_equal(next_change(&w, 1, &paris, ms(2026, 1, d, 5, 0)), ms(2026, 1, d, 21, 0));
    }

    /* Until midnight exactly (end 1440) is not overnight. */
    w = weekly(VG_DAY_MON, HM(23, 0), 1440);
    expect_open_exactly(&w, 1, &paris, ms(2026, 1, 19, 22, 0), ms(2026, 1, 19, 23, 0));
    /* One minute past midnight. */
    w = weekly(VG_DAY_MON, HM(23, 59), 1);
    expect_open_exactly(&w, 1, &paris, ms(2026, 1, 19, 22, 59), ms(2026, 1, 19, 23, 1));
    /* All day, every day: always open, never changes (DST or not). */
    w = weekly(VG_DAY_ALL, 0, 1440);
    assert_true(open_at(&w, 1, &paris, ms(2026, 3, 29, 1, 30)));
    assert_int_equal(next_change(&w, 1, &paris, ms(2026, 3, 20, 0, 0)), INT64_MAX);
}

/* Bit 0 is Monday ... bit 6 Sunday: 2026-03-30 is a Monday. */
static void test_day_mask(void **state)
{
    (void)state;
    for (unsigned bit = 0; bit < 7; bit++) {
        struct vg_window w = weekly(1u << bit, HM(12, 0), HM(13, 0));
        for (unsigned d = 0; d < 7; d++) {
            int64_t noon_local = ms(2026, 3, 30 + d, 10, 30); /* 12:30 CEST */
            assert_int_equal(open_at(&w, 1, &paris, noon_local), d == bit);
        }
    }
    /* Weekdays only */
    struct vg_window w =
        weekly(VG_DAY_MON | VG_DAY_TUE | VG_DAY_WED | VG_DAY_THU | VG_DAY_FRI, HM(8, 0), HM(18, 0));
    for (unsigned d = 0; d < 7; d++)
        assert_int_equal(open_at(&w, 1, &paris, ms(2026, 3, 30 + d, 10, 0)), d < 5);
    /* Several windows: open if any is. */
    struct vg_window two[2] = {weekly(VG_DAY_MON, HM(8, 0), HM(9, 0)),
                               weekly(VG_DAY_MON, HM(8, 30), HM(10, 0))};
    expect_open_exactly(two, 2, &paris, ms(2026, 3, 30, 6, 0), ms(2026, 3, 30, 8, 0));
    assert_int_equal(next_change(two, 2, &paris, ms(2026, 3, 30, 6, 0)), ms(2026, 3, 30, 8, 0));
}

static void test_weekly_init_refused(void **state)
{
    (void)state;
    static const struct {
        unsigned days, start, end;
        int expect;
    } cases[] = {
        {0, 600, 660, VG_EINVAL},           {0x80, 600, 660, VG_EINVAL},
        {0xff, 600, 660, VG_EINVAL},        {0x100 | VG_DAY_MON, 600, 660, VG_EINVAL},
        {VG_DAY_MON, 1440, 60, VG_EINVAL},  {VG_DAY_MON, 600, 0, VG_EINVAL},
        {VG_DAY_MON, 600, 1441, VG_EINVAL}, {VG_DAY_MON, 600, 600, VG_EINVAL},
        {VG_DAY_MON, 5000, 60, VG_EINVAL},  {VG_DAY_MON, 0, 1440, VG_OK},
        {VG_DAY_ALL, 1439, 1440, VG_OK},    {VG_DAY_SUN, 1439, 1, VG_OK},
        {VG_DAY_ALL, 0, 1, VG_OK},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct vg_window w;
        memset(&w, 0xab, sizeof w);
        assert_int_equal(vg_window_init_weekly(&w, cases[i].days, cases[i].start, cases[i].end),
                         cases[i].expect);
        if (cases[i].expect == VG_OK)
            assert_int_equal(vg_window_check(&w), VG_OK);
    }
    /* check() refuses what init would have; open_at ignores such windows. */
    struct vg_window w = weekly(VG_DAY_ALL, 0, 1440);
    w.days = 0;
    assert_int_equal(vg_window_check(&w), VG_EINVAL);
    assert_false(open_at(&w, 1, &paris, ms(2026, 1, 1, 12, 0)));
    assert_int_equal(next_change(&w, 1, &paris, ms(2026, 1, 1, 12, 0)), INT64_MAX);
    w = weekly(VG_DAY_ALL, 0, 1440);
    w.end_minute = 0;
    assert_int_equal(vg_window_check(&w), VG_EINVAL);
    w.kind = 0;
    assert_int_equal(vg_window_check(&w), VG_EINVAL);
    w.kind = 3;
    assert_int_equal(vg_window_check(&w), VG_EINVAL);
    assert_false(vg_windows_open_at(NULL, 0, &paris, 0, NULL));
    int64_t next = 0;
    assert_false(vg_windows_open_at(NULL, 0, &paris, 0, &next));
    assert_int_equal(next, INT64_MAX);
}

static void test_once(void **state)
{
    (void)state;
    struct vg_window w;
    struct vg_local_time a, b;
    /* An ordinary afternoon. */
    a = lt(2026, 5, 20, 14, 0), b = lt(2026, 5, 20, 17, 30);
    assert_int_equal(vg_window_init_once(&w, &paris, &a, &b), VG_OK);
    assert_int_equal(vg_window_check(&w), VG_OK);
    assert_int_equal(w.start_ms, ms(2026, 5, 20, 12, 0));
    assert_int_equal(w.end_ms, ms(2026, 5, 20, 15, 30));
    expect_open_exactly(&w, 1, &paris, w.start_ms, w.end_ms);
    assert_int_equal(next_change(&w, 1, &paris, ms(2026, 5, 1, 0, 0)), w.start_ms);
    assert_int_equal(next_change(&w, 1, &paris, w.start_ms), w.end_ms);
    assert_int_equal(next_change(&w, 1, &paris, w.end_ms), INT64_MAX);

    /* Start in the spring gap: from the change. */
    a = lt(2026, 3, 29, 2, 30), b = lt(2026, 3, 29, 5, 0);
    assert_int_equal(vg_window_init_once(&w, &paris, &a, &b), VG_OK);
    assert_int_equal(w.start_ms, ms(2026, 3, 29, 1, 0));
    assert_int_equal(w.end_ms, ms(2026, 3, 29, 3, 0));
    /* End in the gap: until the change. */
    a = lt(2026, 3, 29, 0, 30), b = lt(2026, 3, 29, 2, 15);
    assert_int_equal(vg_window_init_once(&w, &paris, &a, &b), VG_OK);
    assert_int_equal(w.start_ms, ms(2026, 3, 28, 23, 30));
    assert_int_equal(w.end_ms, ms(2026, 3, 29, 1, 0));
    /* Both in the gap: nothing left. */
    a = lt(2026, 3, 29, 2, 10), b = lt(2026, 3, 29, 2, 50);
    assert_int_equal(vg_window_init_once(&w, &paris, &a, &b), VG_ERANGE);

    /* Autumn, ambiguous start: the later reading. */
    a = lt(2026, 10, 25, 2, 15), b = lt(2026, 10, 25, 4, 0);
    assert_int_equal(vg_window_init_once(&w, &paris, &a, &b), VG_OK);
    assert_int_equal(w.start_ms, ms(2026, 10, 25, 1, 15));
    assert_int_equal(w.end_ms, ms(2026, 10, 25, 3, 0));
    /* Ambiguous end: the earlier reading. */
    a = lt(2026, 10, 25, 1, 0), b = lt(2026, 10, 25, 2, 30);
    assert_int_equal(vg_window_init_once(&w, &paris, &a, &b), VG_OK);
    assert_int_equal(w.start_ms, ms(2026, 10, 24, 23, 0));
    assert_int_equal(w.end_ms, ms(2026, 10, 25, 0, 30));
    /* Both ambiguous, 02:15-02:45: later start 01:15Z, earlier end 00:45Z: empty. */
    a = lt(2026, 10, 25, 2, 15), b = lt(2026, 10, 25, 2, 45);
    assert_int_equal(vg_window_init_once(&w, &paris, &a, &b), VG_ERANGE);

    /* Empty, reversed, invalid. */
    a = lt(2026, 5, 20, 14, 0), b = lt(2026, 5, 20, 14, 0);
    assert_int_equal(vg_window_init_once(&w, &paris, &a, &b), VG_ERANGE);
    b = lt(2026, 5, 20, 13, 59);
    assert_int_equal(vg_window_init_once(&w, &paris, &a, &b), VG_ERANGE);
    b = lt(2026, 2, 29, 12, 0);
    a = lt(2026, 2, 28, 12, 0);
    assert_int_equal(vg_window_init_once(&w, &paris, &a, &b), VG_ERANGE);
    b = lt(2026, 3, 1, 24, 0);
    assert_int_equal(vg_window_init_once(&w, &paris, &a, &b), VG_ERANGE);
    b = lt(2201, 3, 1, 12, 0);
    assert_int_equal(vg_window_init_once(&w, &paris, &a, &b), VG_ERANGE);

    /* check(): start must come before end. */
    a = lt(2026, 5, 20, 14, 0), b = lt(2026, 5, 20, 17, 30);
    assert_int_equal(vg_window_init_once(&w, &paris, &a, &b), VG_OK);
    w.end_ms = w.start_ms;
    assert_int_equal(vg_window_check(&w), VG_EINVAL);
    assert_false(open_at(&w, 1, &paris, w.start_ms));

    /* A week-long range over sixteen daily slots: the answer stays "open"
     * to the end of the range, and next_change says so in one go. */
    struct vg_window many[MAX_WINDOWS];
    a = lt(2026, 3, 23, 9, 0), b = lt(2026, 4, 2, 9, 45);
    assert_int_equal(vg_window_init_once(&many[0], &paris, &a, &b), VG_OK);
    for (unsigned i = 1; i < MAX_WINDOWS; i++)
        many[i] = weekly(VG_DAY_ALL, i * 60, i * 60 + 30);
    assert_int_equal(next_change(many, MAX_WINDOWS, &paris, ms(2026, 3, 24, 0, 0)),
                     ms(2026, 4, 2, 7, 45));
    /* then the 10:00 slot (08:00Z) */
    assert_int_equal(next_change(many, MAX_WINDOWS, &paris, ms(2026, 4, 2, 7, 45)),
                     ms(2026, 4, 2, 8, 0));

    /* A one-off range and a weekly slot together. */
    struct vg_window both[2];
    both[0] = weekly(VG_DAY_WED, HM(16, 0), HM(16, 30));
    a = lt(2026, 5, 20, 16, 15), b = lt(2026, 5, 20, 17, 0);
    assert_int_equal(vg_window_init_once(&both[1], &paris, &a, &b), VG_OK);
    expect_open_exactly(both, 2, &paris, ms(2026, 5, 20, 14, 0), ms(2026, 5, 20, 15, 0));
    assert_int_equal(next_change(both, 2, &paris, ms(2026, 5, 20, 14, 5)), ms(2026, 5, 20, 15, 0));
}

/* Far instants are read as the +-2^61 ms bound: defined, never overflowing. */
static void test_extreme_instants(void **state)
{
    (void)state;
    struct vg_window w[2];
    w[0] = weekly(VG_DAY_WED, HM(16, 0), HM(16, 30));
    struct vg_local_time a = lt(2026, 5, 20, 14, 0), b = lt(2026, 5, 20, 17, 30);
    assert_int_equal(vg_window_init_once(&w[1], &paris, &a, &b), VG_OK);
    static const int64_t probes[] = {INT64_MIN,
                                     INT64_MIN + 1,
                                     -((int64_t)1 << 61) - 1,
                                     -((int64_t)1 << 61),
                                     ((int64_t)1 << 61) - 1,
                                     (int64_t)1 << 61,
                                     INT64_MAX - 1,
                                     INT64_MAX};
    for (size_t i = 0; i < ARRAY_LEN(probes); i++) {
        int64_t next;
        (void)vg_windows_open_at(w, 2, &paris, probes[i], &next);
        assert_true(next > probes[i] || next == INT64_MAX);
    }
    int64_t next;
    (void)vg_windows_open_at(w, 2, &paris, INT64_MAX, &next);
    assert_int_equal(next, INT64_MAX);
}

/* ------------------------------------------------------- brute force */

/* The reference: the wall clock from glibc, the slot rule written out
 * again from the header. One entry per minute. */
struct minute_ref {
    uint8_t weekday; /* 0 = Monday */
    uint16_t minute; /* of the local day */
};

static bool ref_weekly(const struct vg_window *w, struct minute_ref m)
{
    bool today = w->days & (1u << m.weekday);
    bool yesterday = w->days & (1u << ((m.weekday + 6) % 7));
    if (w->end_minute > w->start_minute)
        return today && m.minute >= w->start_minute && m.minute < w->end_minute;
    return (today && m.minute >= w->start_minute) || (yesterday && m.minute < w->end_minute);
}

static bool ref_open(const struct vg_window *w, size_t n, struct minute_ref m, int64_t t)
{
    for (size_t i = 0; i < n; i++) {
        if (w[i].kind == VG_WINDOW_WEEKLY ? ref_weekly(&w[i], m)
                                          : (t >= w[i].start_ms && t < w[i].end_ms))
            return true;
    }
    return false;
}

static unsigned random_minute(struct vg_prng *rng)
{
    /* Half the slots start or end around the night's changes (00:00-04:00). */
    if (vg_prng_next(rng) % 2)
        return (unsigned)(vg_prng_next(rng) % 240);
    return (unsigned)(vg_prng_next(rng) % 1440);
}

struct brute_stats {
    long minutes, calls, exact, early, changes;
};

/* Over [from, from + days): open_at against the reference at every minute,
 * and next_change against the first minute at which the reference answer
 * differs (all edges fall on whole minutes here). */
static void brute_force(const char *zone, int64_t from, int days, int sets, uint64_t seed,
                        struct brute_stats *st)
{
    static struct vg_tz tz;
    load_zone(&tz, zone);
    char env[300];
    snprintf(env, sizeof env, ":" ZONEINFO "/%s", zone);
    setenv("TZ", env, 1);
    tzset();
    /* 9 more days to find the next change of the last minutes. */
    size_t n_min = (size_t)(days + 9) * 1440;
    struct minute_ref *ref = calloc(n_min, sizeof *ref);
    bool *open = calloc(n_min, sizeof *open);
    size_t *next_diff = calloc(n_min, sizeof *next_diff);
    assert_true(ref && open && next_diff);
    for (size_t i = 0; i < n_min; i++) {
        time_t t = (time_t)((from + (int64_t)i * MINUTE_MS) / 1000);
        struct tm tm;
        assert_non_null(localtime_r(&t, &tm));
        ref[i].weekday = (uint8_t)((tm.tm_wday + 6) % 7);
        ref[i].minute = (uint16_t)(tm.tm_hour * 60 + tm.tm_min);
    }
    struct vg_prng rng;
    vg_prng_seed(&rng, seed);
    for (int set = 0; set < sets; set++) {
        struct vg_window w[MAX_WINDOWS];
        size_t n = 1 + vg_prng_next(&rng) % (set % 2 ? 4 : MAX_WINDOWS);
        for (size_t k = 0; k < n; k++) {
            if (vg_prng_next(&rng) % 4 == 0) {
                /* A one-off range of up to two days (or a week) in the span. */
                int64_t a_ms = from + (int64_t)(vg_prng_next(&rng) % (uint64_t)days) * DAY_MS +
                               random_minute(&rng) * MINUTE_MS;
                uint64_t max_len = vg_prng_next(&rng) % 3 ? 48 * 60 : 7 * 24 * 60;
                int64_t b_ms = a_ms + (int64_t)(vg_prng_next(&rng) % max_len) * MINUTE_MS;
                struct vg_local_time a, b;
                /* Read as local times: shift by the offset then. */
                vg_local_time_from_seconds(a_ms / 1000 + 3600, &a);
                vg_local_time_from_seconds(b_ms / 1000 + 3600, &b);
                if (vg_window_init_once(&w[k], &tz, &a, &b) == VG_OK)
                    continue;
            }
            unsigned s = random_minute(&rng), e;
            do
                e = 1 + (unsigned)(vg_prng_next(&rng) % 1440);
            while (e == s);
            w[k] = weekly(1 + (unsigned)(vg_prng_next(&rng) % 127), s, e);
        }
        for (size_t i = 0; i < n_min; i++)
            open[i] = ref_open(w, n, ref[i], from + (int64_t)i * MINUTE_MS);
        next_diff[n_min - 1] = SIZE_MAX;
        for (size_t i = n_min - 1; i-- > 0;)
            next_diff[i] = open[i + 1] != open[i] ? i + 1 : next_diff[i + 1];
        for (size_t i = 0; i < (size_t)days * 1440; i++) {
            int64_t t = from + (int64_t)i * MINUTE_MS;
            int64_t next;
            bool got = vg_windows_open_at(w, n, &tz, t, &next);
            if (got != open[i])
                fail_msg("%s set %d at %lld: open %d, reference %d", zone, set, (long long)t, got,
                         open[i]);
            st->minutes++;
            if (open[i] != (i > 0 && open[i - 1]))
                st->changes++;
            /* Every minute for a few sets, every 7th for the rest. */
            if (set >= 8 && i % 7 != 0)
                continue;
            st->calls++;
            if (next_diff[i] == SIZE_MAX) {
                /* No change within the next 9 days: next must be beyond. */
                assert_true(next > from + (int64_t)(n_min - 1) * MINUTE_MS);
                st->exact++;
                continue;
            }
            int64_t truth = from + (int64_t)next_diff[i] * MINUTE_MS;
            if (next > truth)
                fail_msg("%s set %d at %lld: next change %lld is after the real one %lld", zone,
                         set, (long long)t, (long long)next, (long long)truth);
            assert_true(next > t);
            if (next == truth)
                st->exact++;
            else
                st->early++;
        }
    }
    free(ref);
    free(open);
    free(next_diff);
    unsetenv("TZ");
}

static void test_next_change_brute_force(void **state)
{
    (void)state;
    struct brute_stats st = {0};
    /* Three weeks around each change, two years; and odder zones. */
    brute_force("Europe/Paris", ms(2026, 3, 18, 0, 0), 21, 24, 1, &st);
    brute_force("Europe/Paris", ms(2026, 10, 14, 0, 0), 21, 24, 2, &st);
    brute_force("Europe/Paris", ms(2027, 3, 17, 0, 0), 21, 12, 3, &st);
    brute_force("Europe/Paris", ms(2027, 10, 20, 0, 0), 21, 12, 4, &st);
    brute_force("Australia/Lord_Howe", ms(2026, 9, 27, 0, 0), 14, 12, 5, &st);
    brute_force("Europe/Dublin", ms(2026, 10, 18, 0, 0), 14, 12, 6, &st);
    brute_force("Pacific/Apia", ms(2011, 12, 20, 0, 0), 21, 12, 7, &st); /* a Friday skipped */
    print_message("  %ld minutes (%ld changes) equal to the glibc-based reference; "
                  "next change: %ld exact, %ld early, none late\n",
                  st.minutes, st.changes, st.exact, st.early);
    /* The contract promises exact answers for real zones: no slack at all. */
    assert_int_equal(st.early, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weekly_follows_the_wall_clock),
        cmocka_unit_test(test_weekly_spring_gap),
        cmocka_unit_test(test_weekly_autumn_repeat),
        cmocka_unit_test(test_weekly_overnight_and_wrap),
        cmocka_unit_test(test_day_mask),
        cmocka_unit_test(test_weekly_init_refused),
        cmocka_unit_test(test_once),
        cmocka_unit_test(test_extreme_instants),
        cmocka_unit_test(test_next_change_brute_force),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
