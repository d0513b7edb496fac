/* Time zones against glibc: every TZif file of the system's tzdata is
 * parsed and its offsets compared with localtime_r's tm_gmtoff for the same
 * file (TZ=":/usr/share/zoneinfo/NAME"); POSIX rules are compared with
 * glibc reading the same TZ string. glibc is an independent implementation
 * of RFC 8536 and POSIX; where it and tz.c could legitimately differ the
 * test says so and checks RFC 8536's reading instead. */
#define _XOPEN_SOURCE 700 /* nftw() is XSI */

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/civil.h"
#include "core/err.h"
#include "core/prng.h"
#include "core/tz.h"
#include "testing.h"

#define ZONEINFO "/usr/share/zoneinfo"
#define T1900    ((int64_t)-2208988800)
#define T2100    ((int64_t)4102444800)
#define HOUR     3600

/* A struct vg_tz is about 11 KB: keep them off the stack. */
static struct vg_tz tz_a, tz_b;
static uint8_t file_buf[1 << 20];

static int64_t civil(int32_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
    struct vg_local_time t = {{y, (uint8_t)mo, (uint8_t)d}, (uint8_t)h, (uint8_t)mi, (uint8_t)s};
    assert_int_equal(vg_local_time_check(&t), VG_OK);
    return vg_local_time_to_seconds(&t);
}

/* UTC instants are civil seconds read in UTC. */
#define utc civil

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    size_t n = fread(buf, 1, cap, f);
    assert_true(n < cap); /* the whole file */
    fclose(f);
    return n;
}

static void load_zone(struct vg_tz *tz, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, ZONEINFO "/%s", name);
    size_t n = read_file(path, file_buf, sizeof file_buf);
    int rc = vg_tz_from_tzif(tz, file_buf, n);
    if (rc != VG_OK)
        fail_msg("%s: %s", name, vg_strerror(rc));
}

/* ---------------------------------------------------------- glibc side */

/* Point glibc at a TZ value: ":/path" for a file, or a POSIX string. */
static void glibc_use(const char *tz_value)
{
    setenv("TZ", tz_value, 1);
    tzset();
}

/* glibc gets POSIX rules wrong before 1971: its compute_change() starts
 * every year up to 1970 at 1970-01-01 (t = 0). POSIX defines the rules for
 * every year, and the Gregorian calendar repeats every 28 years between
 * 1901 and 2099 (no skipped leap day), so for a rule string glibc is asked
 * about the same wall-clock date 84 years later. Set while comparing
 * POSIX strings; TZif files use their transitions there, not the rule. */
static bool glibc_rule_shift;
#define T1902          ((int64_t)-2145916800)
#define T1971          ((int64_t)31536000)
#define SHIFT_84_YEARS ((int64_t)30681 * 86400)

/* false if glibc cannot represent the instant (year beyond int). */
static bool glibc_offset(int64_t t, long *off)
{
    if (glibc_rule_shift && t < T1971) {
        assert_true(t >= T1902);
        t += SHIFT_84_YEARS;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    if (localtime_r(&tt, &tm) == NULL)
        return false;
    *off = tm.tm_gmtoff;
    return true;
}

static long glibc_offset_must(int64_t t)
{
    long off = 0;
    assert_true(glibc_offset(t, &off));
    return off;
}

struct compare_stats {
    long instants;
    long changes;
};

/* Compare tz with glibc (already pointed at the same zone): at random
 * instants 1900-2100, at every transition of the table +-1 s, and at every
 * offset change found by vg_tz_next_change from 1900 to 2100 (-1, 0). */
static void compare_with_glibc(const char *what, const struct vg_tz *tz, struct vg_prng *rng,
                               int n_random, struct compare_stats *st)
{
    long g;
    int64_t from = glibc_rule_shift ? T1902 : T1900;
    for (int i = 0; i < n_random; i++) {
        int64_t t = from + (int64_t)(vg_prng_next(rng) % (uint64_t)(T2100 - from));
        g = glibc_offset_must(t);
        if (g != vg_tz_offset_at(tz, t))
            fail_msg("%s at %lld: glibc %ld, tz.c %d", what, (long long)t, g,
                     vg_tz_offset_at(tz, t));
        st->instants++;
    }
    for (uint32_t i = 0; i < tz->n_transitions; i++) {
        for (int64_t d = -1; d <= 1; d++) {
            int64_t t = tz->transition_s[i];
            if ((d < 0 && t == INT64_MIN) || (d > 0 && t == INT64_MAX))
                continue;
            t += d;
            if (!glibc_offset(t, &g))
                continue; /* beyond glibc's struct tm (e.g. the -2^59 "big bang") */
            if (g != vg_tz_offset_at(tz, t))
                fail_msg("%s at transition %u%+lld (%lld): glibc %ld, tz.c %d", what, i,
                         (long long)d, (long long)t, g, vg_tz_offset_at(tz, t));
            st->instants++;
        }
    }
    int64_t t = from;
    for (;;) {
        int64_t c = vg_tz_next_change(tz, t);
        assert_true(c > t);
        if (c >= T2100)
            break;
        int32_t before = vg_tz_offset_at(tz, c - 1), after = vg_tz_offset_at(tz, c);
        assert_int_not_equal(before, after);
        if (glibc_offset_must(c - 1) != before || glibc_offset_must(c) != after)
            fail_msg("%s change at %lld: glibc %ld -> %ld, tz.c %d -> %d", what, (long long)c,
                     glibc_offset_must(c - 1), glibc_offset_must(c), before, after);
        st->changes++;
        t = c;
    }
}

/* ------------------------------------------------ every system zone */

static struct {
    long files, tzif, skipped, with_rule;
    struct compare_stats st;
    struct vg_prng rng;
    char skipped_names[1024];
} walk;

static int visit(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_SL) {
        /* A link to a zone (e.g. Europe/Jersey): read through it; links to
         * directories (posix/Europe -> ../Europe) are walked under their real
         * name. */
        struct stat target;
        if (stat(path, &target) != 0 || !S_ISREG(target.st_mode))
            return 0;
    } else if (flag != FTW_F) {
        return 0;
    }
    walk.files++;
    size_t n = read_file(path, file_buf, sizeof file_buf);
    if (n < 4 || memcmp(file_buf, "TZif", 4) != 0) {
        /* zone.tab, iso3166.tab, tzdata.zi, leapseconds, leap-seconds.list */
        walk.skipped++;
        size_t used = strlen(walk.skipped_names);
        snprintf(walk.skipped_names + used, sizeof walk.skipped_names - used, " %s",
                 path + strlen(ZONEINFO) + 1);
        return 0;
    }
    int rc = vg_tz_from_tzif(&tz_a, file_buf, n);
    if (rc != VG_OK)
        fail_msg("%s: %s", path, vg_strerror(rc));
    walk.tzif++;
    walk.with_rule += tz_a.has_rule;
    char env[600];
    snprintf(env, sizeof env, ":%s", path);
    glibc_use(env);
    compare_with_glibc(path, &tz_a, &walk.rng, 400, &walk.st);
    return 0;
}

static void test_every_system_zone_matches_glibc(void **state)
{
    (void)state;
    memset(&walk, 0, sizeof walk);
    vg_prng_seed(&walk.rng, 20260329);
    assert_int_equal(nftw(ZONEINFO, visit, 32, FTW_PHYS), 0);
    print_message("  %ld files, %ld TZif (%ld with a footer rule), %ld skipped:%s\n", walk.files,
                  walk.tzif, walk.with_rule, walk.skipped, walk.skipped_names);
    print_message("  %ld instants and %ld offset changes 1900-2100 equal to glibc\n",
                  walk.st.instants, walk.st.changes);
    /* Debian's tzdata has ~1200 zone files (main, right/); a few hundred is a broken walk. */
    assert_true(walk.tzif > 1000);
    unsetenv("TZ");
}

/* The zones the brief names, each with an oddity, must load and agree. */
static const char *const tricky_zones[] = {
    "Europe/Paris",      "Europe/London",       "Europe/Dublin",   "America/New_York",
    "America/Sao_Paulo", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Tehran",
    "Africa/Casablanca", "America/Santiago",    "Pacific/Apia",    "Indian/Reunion",
    "America/Cayenne",   "Pacific/Noumea",      "America/Nuuk",    "Asia/Gaza",
    "America/Havana",    "Antarctica/Troll",    "Asia/Kolkata",    "Pacific/Kiritimati",
};

static void test_tricky_zones(void **state)
{
    (void)state;
    struct vg_prng rng;
    vg_prng_seed(&rng, 7);
    struct compare_stats st = {0};
    for (size_t i = 0; i < ARRAY_LEN(tricky_zones); i++) {
        load_zone(&tz_a, tricky_zones[i]);
        char env[600];
        snprintf(env, sizeof env, ":" ZONEINFO "/%s", tricky_zones[i]);
        glibc_use(env);
        compare_with_glibc(tricky_zones[i], &tz_a, &rng, 20000, &st);
    }
    print_message("  %zu zones: %ld instants, %ld changes equal to glibc\n",
                  ARRAY_LEN(tricky_zones), st.instants, st.changes);
    unsetenv("TZ");
}

/* Known values, written down from zdump, so that a shared glibc bug would
 * still be caught. */
static void test_known_offsets(void **state)
{
    (void)state;
    static const struct {
        const char *zone;
        int64_t t;
        int32_t off;
    } cases[] = {
        {"Europe/Paris", 0, 3600},
        {"Europe/Dublin", 1774745999, 0},           /* 2026-03-29 00:59:59Z, GMT is "DST" */
        {"Europe/Dublin", 1774746000, 3600},        /* IST is standard time */
        {"Australia/Lord_Howe", 1791041399, 37800}, /* 2026-10-03 15:29:59Z */
        {"Australia/Lord_Howe", 1791041400, 39600}, /* 30-minute DST */
        {"Pacific/Apia", 1325239199, -36000},       /* 2011-12-30 09:59:59Z */
        {"Pacific/Apia", 1325239200, 50400},        /* 30 December 2011 never happened */
        {"Pacific/Chatham", 1317045600, 49500},
        {"Asia/Kolkata", 1774746000, 19800},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        load_zone(&tz_a, cases[i].zone);
        assert_int_equal(vg_tz_offset_at(&tz_a, cases[i].t), cases[i].off);
    }
    load_zone(&tz_a, "Europe/Paris");
    assert_int_equal(vg_tz_offset_at(&tz_a, utc(2026, 7, 1, 12, 0, 0)), 7200);
    assert_int_equal(vg_tz_offset_at(&tz_a, utc(2026, 1, 1, 12, 0, 0)), 3600);
    assert_int_equal(vg_tz_offset_at(&tz_a, utc(2026, 3, 29, 0, 59, 59)), 3600);
    assert_int_equal(vg_tz_offset_at(&tz_a, utc(2026, 3, 29, 1, 0, 0)), 7200);
    assert_int_equal(vg_tz_offset_at(&tz_a, utc(2026, 10, 25, 0, 59, 59)), 7200);
    assert_int_equal(vg_tz_offset_at(&tz_a, utc(2026, 10, 25, 1, 0, 0)), 3600);
    /* Paris mean time (+00:09:21) before 1891, LMT before 1878 */
    assert_int_equal(vg_tz_offset_at(&tz_a, -2682374400), 561); /* 1885-01-01 */
    assert_int_equal(vg_tz_next_change(&tz_a, utc(2026, 1, 1, 0, 0, 0)), utc(2026, 3, 29, 1, 0, 0));
    assert_int_equal(vg_tz_next_change(&tz_a, utc(2026, 3, 29, 0, 59, 59)),
                     utc(2026, 3, 29, 1, 0, 0));
    assert_int_equal(vg_tz_next_change(&tz_a, utc(2026, 3, 29, 1, 0, 0)),
                     utc(2026, 10, 25, 1, 0, 0));
    /* A zone that never changes */
    load_zone(&tz_a, "Etc/GMT-14");
    assert_int_equal(vg_tz_offset_at(&tz_a, 0), 14 * HOUR);
    assert_int_equal(vg_tz_next_change(&tz_a, INT64_MIN), INT64_MAX);
}

/* ---------------------------------------------------------- POSIX rules */

/* Every footer rule of the system tzdata, and some written for the corners
 * (J and zero-based days across 29 February, negative and > 24 h times,
 * odd offsets, quoted names). */
static const char *const posix_rules[] = {
    VG_TZ_RULE_EUROPE_PARIS,
    "EST5EDT,M3.2.0,M11.1.0",
    "CST6CDT,M3.2.0,M11.1.0",
    "EET-2EEST,M3.5.0/3,M10.5.0/4",
    "PST8PDT,M3.2.0,M11.1.0",
    "AEST-10AEDT,M10.1.0,M4.1.0/3",
    "WET0WEST,M3.5.0/1,M10.5.0",
    "GMT0BST,M3.5.0/1,M10.5.0",
    "NZST-12NZDT,M9.5.0,M4.1.0/3",
    "IST-2IDT,M3.4.4/26,M10.5.0",
    "ACST-9:30ACDT,M10.1.0,M4.1.0/3",
    "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
    "CST5CDT,M3.2.0/0,M11.1.0/1",
    "IST-1GMT0,M10.5.0,M3.5.0/1",
    "EET-2EEST,M4.5.5/0,M10.5.4/24",
    "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
    "<-06>6<-05>,M9.1.6/22,M4.1.6/22",
    "NST3:30NDT,M3.2.0,M11.1.0",
    "EET-2EEST,M3.4.4/50,M10.4.4/50",
    "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
    "<-04>4<-03>,M9.1.6/24,M4.1.6/24",
    "<-01>1<+00>,M3.5.0/0,M10.5.0/1",
    "<+00>0<+02>-2,M3.5.0/1,M10.5.0/3",
    "AAA3BBB,J60/2,J300/2",
    "AAA3BBB,59/2,299/2",
    "AAA-3BBB,J1/5,J365/20",
    "ABC-5:45:30DEF-6:00:15,M3.1.1/1:30:45,M10.2.3/23:59:59",
    "<+0330>-3:30",
    "UTC0",
    "<-03>3<-02>,M3.5.0/-2:30,M10.5.0/-1:15",
    "AAA-1BBB,M3.5.0/-100,M10.5.0/120",
};

static void test_posix_rules_match_glibc(void **state)
{
    (void)state;
    struct vg_prng rng;
    vg_prng_seed(&rng, 11);
    struct compare_stats st = {0};
    /* No TZif file may stand in for a rule string. */
    setenv("TZDIR", "/nonexistent", 1);
    glibc_rule_shift = true;
    for (size_t i = 0; i < ARRAY_LEN(posix_rules); i++) {
        int rc = vg_tz_from_posix(&tz_a, posix_rules[i]);
        if (rc != VG_OK)
            fail_msg("%s: %s", posix_rules[i], vg_strerror(rc));
        glibc_use(posix_rules[i]);
        compare_with_glibc(posix_rules[i], &tz_a, &rng, 5000, &st);
    }
    glibc_rule_shift = false;
    unsetenv("TZDIR");
    unsetenv("TZ");
    print_message("  %zu rules: %ld instants, %ld changes equal to glibc\n", ARRAY_LEN(posix_rules),
                  st.instants, st.changes);
}

static void test_posix_fields(void **state)
{
    (void)state;
    assert_int_equal(vg_tz_from_posix(&tz_a, VG_TZ_RULE_EUROPE_PARIS), VG_OK);
    const struct vg_tz_rule *r = &tz_a.rule;
    assert_true(tz_a.has_rule && r->has_dst);
    assert_int_equal(r->std_offset_s, 3600);
    assert_int_equal(r->dst_offset_s, 7200);
    assert_int_equal(r->dst_start.kind, 'M');
    assert_int_equal(r->dst_start.month, 3);
    assert_int_equal(r->dst_start.week, 5);
    assert_int_equal(r->dst_start.day, 0);
    assert_int_equal(r->dst_start.time_s, 2 * HOUR);
    assert_int_equal(r->dst_end.month, 10);
    assert_int_equal(r->dst_end.time_s, 3 * HOUR);

    assert_int_equal(vg_tz_from_posix(&tz_a, "<+0330>-3:30"), VG_OK);
    assert_false(tz_a.rule.has_dst);
    assert_int_equal(vg_tz_offset_at(&tz_a, 0), 3 * HOUR + 1800);
    assert_int_equal(vg_tz_next_change(&tz_a, 0), INT64_MAX);

    assert_int_equal(vg_tz_from_posix(&tz_a, "ABC+5:45:30DEF,J1/-167,300/167:59:59"), VG_OK);
    assert_int_equal(tz_a.rule.std_offset_s, -(5 * HOUR + 45 * 60 + 30));
    assert_int_equal(tz_a.rule.dst_offset_s, tz_a.rule.std_offset_s + HOUR);
    assert_int_equal(tz_a.rule.dst_start.kind, 'J');
    assert_int_equal(tz_a.rule.dst_start.day, 1);
    assert_int_equal(tz_a.rule.dst_start.time_s, -167 * HOUR);
    assert_int_equal(tz_a.rule.dst_end.kind, 'N');
    assert_int_equal(tz_a.rule.dst_end.day, 300);
    assert_int_equal(tz_a.rule.dst_end.time_s, 167 * HOUR + 59 * 60 + 59);

    /* An explicit DST offset; "+" accepted on offsets */
    assert_int_equal(vg_tz_from_posix(&tz_a, "AAA+3BBB+1,M3.5.0,M10.5.0"), VG_OK);
    assert_int_equal(tz_a.rule.std_offset_s, -3 * HOUR);
    assert_int_equal(tz_a.rule.dst_offset_s, -1 * HOUR);
}

/* The built-in Paris rule agrees with the Europe/Paris file from 1996 on. */
static void test_paris_rule_matches_tzif(void **state)
{
    (void)state;
    assert_int_equal(vg_tz_from_posix(&tz_a, VG_TZ_RULE_EUROPE_PARIS), VG_OK);
    load_zone(&tz_b, "Europe/Paris");
    int64_t from = utc(1996, 1, 1, 0, 0, 0);
    int changes = 0;
    for (int64_t t = from; t < T2100; t = vg_tz_next_change(&tz_a, t)) {
        assert_int_equal(vg_tz_next_change(&tz_a, t), vg_tz_next_change(&tz_b, t));
        for (int64_t d = -1; d <= 1; d++)
            assert_int_equal(vg_tz_offset_at(&tz_a, t + d), vg_tz_offset_at(&tz_b, t + d));
        changes++;
    }
    assert_int_equal(changes, 1 + 2 * (2100 - 1996));
    struct vg_prng rng;
    vg_prng_seed(&rng, 3);
    for (int i = 0; i < 100000; i++) {
        int64_t t = from + (int64_t)(vg_prng_next(&rng) % (uint64_t)(T2100 - from));
        assert_int_equal(vg_tz_offset_at(&tz_a, t), vg_tz_offset_at(&tz_b, t));
    }
}

/* RFC 8536 3.3.1: "DST is in effect all year if it starts January 1 at
 * 00:00 and ends December 31 at 24:00 plus the difference". glibc 2.36
 * gets this wrong in the first hours of each UTC year (it only looks at the
 * changes of the current UTC year, and 1 January 05:00Z is before this
 * year's start), so the check is against the RFC, not glibc. */
static void test_permanent_dst(void **state)
{
    (void)state;
    assert_int_equal(vg_tz_from_posix(&tz_a, "EST5EDT,0/0,J365/25"), VG_OK);
    struct vg_prng rng;
    vg_prng_seed(&rng, 5);
    for (int i = 0; i < 20000; i++) {
        int64_t t = T1900 + (int64_t)(vg_prng_next(&rng) % (uint64_t)(T2100 - T1900));
        assert_int_equal(vg_tz_offset_at(&tz_a, t), -4 * HOUR);
    }
    for (int32_t y = 1901; y < 2100; y++) {
        int64_t jan1 = utc(y, 1, 1, 0, 0, 0);
        for (int64_t d = -6 * HOUR; d <= 6 * HOUR; d += 1800)
            assert_int_equal(vg_tz_offset_at(&tz_a, jan1 + d), -4 * HOUR);
    }
    assert_int_equal(vg_tz_next_change(&tz_a, 0), INT64_MAX);
    int64_t e, l;
    assert_int_equal(vg_tz_local_to_utc(&tz_a, civil(2026, 1, 1, 0, 30, 0), &e, &l),
                     VG_TZ_LOCAL_UNIQUE);
    assert_int_equal(e, utc(2026, 1, 1, 4, 30, 0));
}

/* A rule whose DST lasts zero seconds never changes the offset. */
static void test_degenerate_rules(void **state)
{
    (void)state;
    /* Start 02:00 EST = 07:00Z, end 03:00 EDT = 07:00Z: an empty summer. */
    assert_int_equal(vg_tz_from_posix(&tz_a, "EST5EDT,J100/2,J100/3"), VG_OK);
    assert_int_equal(vg_tz_offset_at(&tz_a, utc(2026, 4, 10, 7, 0, 0)), -5 * HOUR);
    assert_int_equal(vg_tz_next_change(&tz_a, 0), INT64_MAX);
    /* Zero-length in common years (J60 and zero-based 59 are both 1 March),
     * a whole year of DST from 1 March of each leap year: the changes are
     * four years apart, eight across 2100. */
    assert_int_equal(vg_tz_from_posix(&tz_a, "AAA3BBB,J60/2,59/3"), VG_OK);
    assert_int_equal(vg_tz_offset_at(&tz_a, utc(2027, 6, 1, 0, 0, 0)), -3 * HOUR);
    assert_int_equal(vg_tz_offset_at(&tz_a, utc(2028, 6, 1, 0, 0, 0)), -2 * HOUR);
    assert_int_equal(vg_tz_offset_at(&tz_a, utc(2029, 2, 1, 0, 0, 0)), -2 * HOUR);
    assert_int_equal(vg_tz_next_change(&tz_a, utc(2025, 6, 1, 0, 0, 0)), utc(2028, 3, 1, 5, 0, 0));
    assert_int_equal(vg_tz_next_change(&tz_a, utc(2028, 3, 1, 5, 0, 0)), utc(2029, 3, 1, 5, 0, 0));
    assert_int_equal(vg_tz_next_change(&tz_a, utc(2097, 6, 1, 0, 0, 0)), utc(2104, 3, 1, 5, 0, 0));
    /* Same offsets in both seasons: nothing ever changes either. */
    assert_int_equal(vg_tz_from_posix(&tz_a, "AAA3BBB3,M3.5.0,M10.5.0"), VG_OK);
    assert_int_equal(vg_tz_next_change(&tz_a, 0), INT64_MAX);
    assert_int_equal(vg_tz_offset_at(&tz_a, 0), -3 * HOUR);
}

static void test_posix_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "CET",
        "CET-",
        "CET-1CEST", /* no change dates: no default is guessed */
        "EST5EDT",
        "CET-1CEST,M3.5.0", /* no end */
        "CET-1CEST,M3.5.0,",
        "CET-1CEST,,M10.5.0",
        "CET-1CEST,M3.5.0,M10.5.0,",
        "CET-1CEST,M3.5.0,M10.5.0/3 ",
        "CET-1CEST;M3.5.0,M10.5.0",
        "CET-1CEST,M0.5.0,M10.5.0",  /* month 0 */
        "CET-1CEST,M13.5.0,M10.5.0", /* month 13 */
        "CET-1CEST,M3.0.0,M10.5.0",  /* week 0 */
        "CET-1CEST,M3.6.0,M10.5.0",  /* week 6 */
        "CET-1CEST,M3.5.7,M10.5.0",  /* day 7 */
        "CET-1CEST,M3.5,M10.5.0",
        "CET-1CEST,M3..0,M10.5.0",
        "CET-1CEST,J0,M10.5.0", /* J is 1..365 */
        "CET-1CEST,J366,M10.5.0",
        "CET-1CEST,366,M10.5.0",        /* n is 0..365 */
        "CET-1CEST,M3.5.0/168,M10.5.0", /* times are -167..167 h */
        "CET-1CEST,M3.5.0/-168,M10.5.0",
        "CET-1CEST,M3.5.0/2:60,M10.5.0",
        "CET-1CEST,M3.5.0/2:5,M10.5.0",
        "CET-1CEST,M3.5.0/,M10.5.0",
        "CET-25", /* offsets are 0..24 h */
        "CET-1:60",
        "CET-1:00:60",
        "CET-1:5",
        "CET-100",
        "CE-1", /* names have three characters or more */
        "CET-1CE,M3.5.0,M10.5.0",
        "<ab>1",
        "<+0330-3:30",
        "<+03:30>-3:30",
        "<>1",
        "1CET",
        "-1",
        "CET-1CEST-,M3.5.0,M10.5.0",
        "CET-1x",
        "UTC0 ",
        "\x01\x02\x03",
        "CET\n-1",
        "C\xc3\xa9T-1",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int rc = vg_tz_from_posix(&tz_a, bad[i]);
        if (rc != VG_EFORMAT)
            fail_msg("\"%s\" gave %d, expected VG_EFORMAT", bad[i], rc);
        /* A refused rule leaves UTC behind, never garbage. */
        assert_int_equal(vg_tz_offset_at(&tz_a, 1000000000), 0);
        assert_int_equal(vg_tz_next_change(&tz_a, 0), INT64_MAX);
    }
    assert_int_equal(vg_tz_from_posix(&tz_a, NULL), VG_EFORMAT);

    /* The length cap: 255 characters pass, 256 do not. */
    char longest[VG_TZ_MAX_RULE_LEN + 2];
    memset(longest, 'A', sizeof longest);
    longest[VG_TZ_MAX_RULE_LEN - 1] = '0';
    longest[VG_TZ_MAX_RULE_LEN] = '\0';
    assert_int_equal(vg_tz_from_posix(&tz_a, longest), VG_OK);
    memset(longest, 'A', sizeof longest);
    longest[VG_TZ_MAX_RULE_LEN] = '0';
    longest[VG_TZ_MAX_RULE_LEN + 1] = '\0';
    assert_int_equal(vg_tz_from_posix(&tz_a, longest), VG_EFORMAT);
}

/* -------------------------------------------------------- next change */

/* vg_tz_next_change against a brute-force scan of vg_tz_offset_at: steps of
 * 10 minutes (no real zone changes twice within 10 minutes), then bisection
 * to the second. */
static int64_t brute_next_change(const struct vg_tz *tz, int64_t t, int64_t horizon)
{
    int32_t cur = vg_tz_offset_at(tz, t);
    int64_t lo = t;
    for (int64_t x = t + 600; x <= horizon; lo = x, x += 600) {
        if (vg_tz_offset_at(tz, x) != cur) {
            int64_t hi = x; /* offset(lo) == cur, offset(hi) != cur */
            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (vg_tz_offset_at(tz, mid) == cur)
                    lo = mid;
                else
                    hi = mid;
            }
            return hi;
        }
    }
    return INT64_MAX;
}

static void check_next_change_brute(const char *what, const struct vg_tz *tz, struct vg_prng *rng,
                                    int n)
{
    for (int i = 0; i < n; i++) {
        int64_t t = T1900 + (int64_t)(vg_prng_next(rng) % (uint64_t)(T2100 - T1900));
        int64_t horizon = t + 2 * 366 * 86400;
        int64_t expect = brute_next_change(tz, t, horizon);
        int64_t got = vg_tz_next_change(tz, t);
        if (expect == INT64_MAX ? got <= horizon : got != expect)
            fail_msg("%s from %lld: next change %lld, brute force %lld", what, (long long)t,
                     (long long)got, (long long)expect);
    }
}

static void test_next_change_brute_force(void **state)
{
    (void)state;
    struct vg_prng rng;
    vg_prng_seed(&rng, 99);
    for (size_t i = 0; i < ARRAY_LEN(tricky_zones); i++) {
        load_zone(&tz_a, tricky_zones[i]);
        check_next_change_brute(tricky_zones[i], &tz_a, &rng, 20);
    }
    for (size_t i = 0; i < ARRAY_LEN(posix_rules); i++) {
        assert_int_equal(vg_tz_from_posix(&tz_a, posix_rules[i]), VG_OK);
        check_next_change_brute(posix_rules[i], &tz_a, &rng, 10);
    }
}

/* Transitions that change only is_dst or the abbreviation are skipped. */
static void test_next_change_skips_non_offset_transitions(void **state)
{
    (void)state;
    /* Europe/London 1968-10-27: BST (+1, DST) became BST (+1, standard). */
    load_zone(&tz_a, "Europe/London");
    int64_t from = utc(1968, 6, 1, 0, 0, 0);
    int64_t c = vg_tz_next_change(&tz_a, from);
    assert_int_equal(c, utc(1971, 10, 31, 2, 0, 0));
    bool saw_flag_only = false;
    for (uint32_t i = 0; i < tz_a.n_transitions; i++) {
        int64_t t = tz_a.transition_s[i];
        if (t > from && t < c) {
            saw_flag_only = true;
            assert_int_equal(vg_tz_offset_at(&tz_a, t - 1), vg_tz_offset_at(&tz_a, t));
        }
    }
    assert_true(saw_flag_only);
}

/* ------------------------------------------------------- local to UTC */

static void expect_local(const struct vg_tz *tz, int64_t local, int kind, int64_t earliest,
                         int64_t latest)
{
    int64_t e = -1, l = -1;
    int got = vg_tz_local_to_utc(tz, local, &e, &l);
    if (got != kind || e != earliest || l != latest)
        fail_msg("local %lld: kind %d [%lld, %lld], expected %d [%lld, %lld]", (long long)local,
                 got, (long long)e, (long long)l, kind, (long long)earliest, (long long)latest);
}

static void check_paris_local(const struct vg_tz *tz)
{
    expect_local(tz, civil(2026, 7, 15, 12, 0, 0), VG_TZ_LOCAL_UNIQUE, utc(2026, 7, 15, 10, 0, 0),
                 utc(2026, 7, 15, 10, 0, 0));
    expect_local(tz, civil(2026, 1, 15, 12, 0, 0), VG_TZ_LOCAL_UNIQUE, utc(2026, 1, 15, 11, 0, 0),
                 utc(2026, 1, 15, 11, 0, 0));
    /* Spring: 02:00 -> 03:00 at 01:00Z. */
    int64_t spring = utc(2026, 3, 29, 1, 0, 0);
    expect_local(tz, civil(2026, 3, 29, 1, 59, 59), VG_TZ_LOCAL_UNIQUE, spring - 1, spring - 1);
    expect_local(tz, civil(2026, 3, 29, 2, 0, 0), VG_TZ_LOCAL_GAP, spring, spring);
    expect_local(tz, civil(2026, 3, 29, 2, 30, 0), VG_TZ_LOCAL_GAP, spring, spring);
    expect_local(tz, civil(2026, 3, 29, 2, 59, 59), VG_TZ_LOCAL_GAP, spring, spring);
    expect_local(tz, civil(2026, 3, 29, 3, 0, 0), VG_TZ_LOCAL_UNIQUE, spring, spring);
    /* Autumn: 03:00 -> 02:00 at 01:00Z; 02:00-02:59:59 happen twice. */
    int64_t autumn = utc(2026, 10, 25, 1, 0, 0);
    expect_local(tz, civil(2026, 10, 25, 1, 59, 59), VG_TZ_LOCAL_UNIQUE, autumn - 3601,
                 autumn - 3601);
    expect_local(tz, civil(2026, 10, 25, 2, 0, 0), VG_TZ_LOCAL_AMBIGUOUS, autumn - 3600, autumn);
    expect_local(tz, civil(2026, 10, 25, 2, 30, 0), VG_TZ_LOCAL_AMBIGUOUS,
                 utc(2026, 10, 25, 0, 30, 0), utc(2026, 10, 25, 1, 30, 0));
    expect_local(tz, civil(2026, 10, 25, 2, 59, 59), VG_TZ_LOCAL_AMBIGUOUS, autumn - 1,
                 autumn + 3599);
    expect_local(tz, civil(2026, 10, 25, 3, 0, 0), VG_TZ_LOCAL_UNIQUE, autumn + 3600,
                 autumn + 3600);
}

static void test_local_to_utc_paris(void **state)
{
    (void)state;
    load_zone(&tz_a, "Europe/Paris");
    check_paris_local(&tz_a);
    assert_int_equal(vg_tz_from_posix(&tz_a, VG_TZ_RULE_EUROPE_PARIS), VG_OK);
    check_paris_local(&tz_a);
}

static void test_local_to_utc_elsewhere(void **state)
{
    (void)state;
    /* Lord Howe: 30-minute DST, 02:00 -> 02:30 on 2026-10-04 at 15:30Z. */
    load_zone(&tz_a, "Australia/Lord_Howe");
    int64_t c = utc(2026, 10, 3, 15, 30, 0);
    expect_local(&tz_a, civil(2026, 10, 4, 2, 15, 0), VG_TZ_LOCAL_GAP, c, c);
    expect_local(&tz_a, civil(2026, 10, 4, 2, 30, 0), VG_TZ_LOCAL_UNIQUE, c, c);
    /* ... and 02:00 -> 01:30 on 2026-04-05 at 15:00Z. */
    c = utc(2026, 4, 4, 15, 0, 0);
    expect_local(&tz_a, civil(2026, 4, 5, 1, 45, 0), VG_TZ_LOCAL_AMBIGUOUS, c - 900, c + 900);
    /* Dublin, negative DST: IST (+1, standard) -> GMT (0, "DST") in October. */
    load_zone(&tz_a, "Europe/Dublin");
    c = utc(2026, 10, 25, 1, 0, 0);
    expect_local(&tz_a, civil(2026, 10, 25, 1, 30, 0), VG_TZ_LOCAL_AMBIGUOUS, c - 1800, c + 1800);
    /* Apia skipped 30 December 2011 entirely. */
    load_zone(&tz_a, "Pacific/Apia");
    c = utc(2011, 12, 30, 10, 0, 0);
    expect_local(&tz_a, civil(2011, 12, 30, 12, 0, 0), VG_TZ_LOCAL_GAP, c, c);
    expect_local(&tz_a, civil(2011, 12, 29, 23, 59, 59), VG_TZ_LOCAL_UNIQUE, c - 1, c - 1);
    expect_local(&tz_a, civil(2011, 12, 31, 0, 0, 0), VG_TZ_LOCAL_UNIQUE, c, c);
    /* Absurd civil times are refused, outputs untouched. */
    int64_t e = 7, l = 7;
    assert_int_equal(vg_tz_local_to_utc(&tz_a, INT64_MAX, &e, &l), VG_ERANGE);
    assert_int_equal(vg_tz_local_to_utc(&tz_a, INT64_MIN, &e, &l), VG_ERANGE);
    assert_true(e == 7 && l == 7);
    assert_true(vg_tz_local_to_utc(&tz_a, (int64_t)1 << 62, &e, &l) >= 0);
    assert_true(vg_tz_local_to_utc(&tz_a, -((int64_t)1 << 62), &e, &l) >= 0);
}

/* For every instant t, the wall clock at t read back gives t; and the
 * readings of a random wall-clock time are exactly the instants u at which
 * glibc says the wall clock reads it (u = local - offset for each offset
 * the zone uses). */
static void check_local_round_trip(const char *name, const struct vg_tz *tz, struct vg_prng *rng,
                                   int n)
{
    /* The offsets this zone ever uses. */
    int32_t offs[VG_TZ_MAX_TYPES + 2];
    size_t n_offs = 0;
    for (unsigned i = 0; i < tz->n_types; i++)
        offs[n_offs++] = tz->type_offset_s[i];
    if (tz->has_rule) {
        offs[n_offs++] = tz->rule.std_offset_s;
        offs[n_offs++] = tz->rule.dst_offset_s;
    }
    int64_t from = glibc_rule_shift ? T1902 + 86400 : T1900 + 86400;
    for (int i = 0; i < n; i++) {
        int64_t t = from + (int64_t)(vg_prng_next(rng) % (uint64_t)(T2100 - 86400 - from));
        int64_t local = t + vg_tz_offset_at(tz, t);
        int64_t e, l;
        int kind = vg_tz_local_to_utc(tz, local, &e, &l);
        if (kind == VG_TZ_LOCAL_GAP || (t != e && t != l))
            fail_msg("%s: %lld reads %lld, back: kind %d [%lld, %lld]", name, (long long)t,
                     (long long)local, kind, (long long)e, (long long)l);

        /* Independent readings from glibc, for a wall-clock time near t
         * (near, so that changes are often within reach). */
        local += (int64_t)(vg_prng_next(rng) % (4 * HOUR)) - 2 * HOUR;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        int count = 0;
        for (size_t k = 0; k < n_offs; k++) {
            int64_t u = local - offs[k];
            bool dup = false;
            for (size_t j = 0; j < k; j++)
                dup |= offs[j] == offs[k];
            if (!dup && glibc_offset_must(u) == offs[k]) {
                count++;
                lo = u < lo ? u : lo;
                hi = u > hi ? u : hi;
            }
        }
        kind = vg_tz_local_to_utc(tz, local, &e, &l);
        if (count == 0) {
            assert_int_equal(kind, VG_TZ_LOCAL_GAP);
            assert_int_equal(e, l);
            /* The clocks jumped over `local` at e. */
            assert_true(e - 1 + glibc_offset_must(e - 1) < local);
            assert_true(e + glibc_offset_must(e) > local);
        } else {
            assert_int_equal(kind, count == 1 ? VG_TZ_LOCAL_UNIQUE : VG_TZ_LOCAL_AMBIGUOUS);
            assert_int_equal(e, lo);
            assert_int_equal(l, hi);
        }
    }
}

static void test_local_to_utc_random(void **state)
{
    (void)state;
    struct vg_prng rng;
    vg_prng_seed(&rng, 1234);
    for (size_t i = 0; i < ARRAY_LEN(tricky_zones); i++) {
        load_zone(&tz_a, tricky_zones[i]);
        char env[600];
        snprintf(env, sizeof env, ":" ZONEINFO "/%s", tricky_zones[i]);
        glibc_use(env);
        check_local_round_trip(tricky_zones[i], &tz_a, &rng, 5000);
    }
    setenv("TZDIR", "/nonexistent", 1);
    glibc_rule_shift = true;
    for (size_t i = 0; i < ARRAY_LEN(posix_rules); i++) {
        assert_int_equal(vg_tz_from_posix(&tz_a, posix_rules[i]), VG_OK);
        glibc_use(posix_rules[i]);
        check_local_round_trip(posix_rules[i], &tz_a, &rng, 2000);
    }
    glibc_rule_shift = false;
    unsetenv("TZDIR");
    unsetenv("TZ");
}

/* ------------------------------------------------------------- TZif */

/* A hand-built TZif file, to reach the corners real files do not. */
struct spec {
    char version; /* 0 (version 1), '2', '3', '4' */
    uint32_t timecnt, typecnt, charcnt, leapcnt, isstdcnt, isutcnt;
    const int64_t *times;
    const uint8_t *idx;
    const int32_t *utoff;
    const uint8_t *isdst, *desig, *isstd, *isut;
    const char *chars;
    const char *footer; /* version 2+ */
};

struct out {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct out *o, const void *data, size_t n)
{
    assert_true(o->len + n <= o->cap);
    if (n == 0)
        return; /* data may be NULL then */
    memcpy(o->p + o->len, data, n);
    o->len += n;
}

static void put_be(struct out *o, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        put(o, &b, 1);
    }
}

static void put_header(struct out *o, char version, const uint32_t counts[6])
{
    put(o, "TZif", 4);
    put(o, &version, 1);
    static const uint8_t zeros[15];
    put(o, zeros, 15);
    for (int i = 0; i < 6; i++)
        put_be(o, counts[i], 4);
}

static void put_block(struct out *o, const struct spec *s, int time_size)
{
    for (uint32_t i = 0; i < s->timecnt; i++)
        put_be(o, (uint64_t)s->times[i], time_size);
    put(o, s->idx, s->timecnt);
    for (uint32_t i = 0; i < s->typecnt; i++) {
        put_be(o, (uint32_t)s->utoff[i], 4);
        put(o, &s->isdst[i], 1);
        put(o, &s->desig[i], 1);
    }
    put(o, s->chars, s->charcnt);
    for (uint32_t i = 0; i < s->leapcnt; i++) {
        put_be(o, (uint64_t)(78796800 + 15778800 * (int64_t)i), time_size);
        put_be(o, i + 1, 4);
    }
    put(o, s->isstd, s->isstdcnt);
    put(o, s->isut, s->isutcnt);
}

static size_t build(const struct spec *s, uint8_t *buf, size_t cap)
{
    struct out o = {buf, 0, cap};
    uint32_t counts[6] = {s->isutcnt, s->isstdcnt, s->leapcnt, s->timecnt, s->typecnt, s->charcnt};
    if (s->version == 0) {
        put_header(&o, 0, counts);
        put_block(&o, s, 4);
        return o.len;
    }
    /* A slim-style version 1 block, as zic -b slim writes: one type, "". */
    static const uint32_t v1[6] = {0, 0, 0, 0, 1, 1};
    put_header(&o, s->version, v1);
    static const uint8_t v1_block[7] = {0, 0, 0, 0, 0, 0, 0};
    put(&o, v1_block, sizeof v1_block);
    put_header(&o, s->version, counts);
    put_block(&o, s, 8);
    put(&o, "\n", 1);
    put(&o, s->footer, strlen(s->footer));
    put(&o, "\n", 1);
    return o.len;
}

/* A small valid zone: LMT, then CET/CEST with the Paris rule. */
static const int64_t good_times[] = {-1000000000, 1000000000, 1100000000};
static const uint8_t good_idx[] = {1, 2, 1};
static const int32_t good_utoff[] = {561, 3600, 7200};
static const uint8_t good_isdst[] = {0, 0, 1};
static const uint8_t good_desig[] = {0, 4, 8};
static const char good_chars[] = "LMT\0CET\0CEST"; /* 13 bytes with the final NUL */
static const uint8_t ones[3] = {1, 1, 1}, zeros3[3] = {0, 0, 0};

static struct spec good_spec(char version)
{
    struct spec s = {version,  3,          3,          13,
                     0,        3,          3,          good_times,
                     good_idx, good_utoff, good_isdst, good_desig,
                     zeros3,   zeros3,     good_chars, VG_TZ_RULE_EUROPE_PARIS};
    return s;
}

static uint8_t built[1 << 16];

static int build_and_parse(const struct spec *s)
{
    size_t n = build(s, built, sizeof built);
    return vg_tz_from_tzif(&tz_a, built, n);
}

static void test_tzif_versions(void **state)
{
    (void)state;
    static const char versions[] = {0, '2', '3', '4'};
    for (size_t v = 0; v < ARRAY_LEN(versions); v++) {
        struct spec s = good_spec(versions[v]);
        assert_int_equal(build_and_parse(&s), VG_OK);
        assert_int_equal(tz_a.n_transitions, 3);
        assert_int_equal(tz_a.n_types, 3);
        assert_int_equal(tz_a.initial_offset_s, 561);
        assert_int_equal(tz_a.has_rule, versions[v] != 0);
        assert_int_equal(vg_tz_offset_at(&tz_a, -1000000001), 561);
        assert_int_equal(vg_tz_offset_at(&tz_a, -1000000000), 3600);
        assert_int_equal(vg_tz_offset_at(&tz_a, 1000000000), 7200);
        assert_int_equal(vg_tz_next_change(&tz_a, 0), 1000000000);
        /* After the last transition: the footer rule (2026-07-01 is CEST), or
         * in version 1 the last type (CET) for ever. */
        assert_int_equal(vg_tz_offset_at(&tz_a, utc(2026, 7, 1, 0, 0, 0)),
                         versions[v] ? 7200 : 3600);
        assert_int_equal(vg_tz_next_change(&tz_a, 1100000000),
                         versions[v] ? utc(2005, 3, 27, 1, 0, 0) : INT64_MAX);
    }
    /* Leap-second records and the indicators are read over. */
    struct spec s = good_spec('2');
    s.leapcnt = 5;
    s.isstd = ones;
    s.isut = ones;
    assert_int_equal(build_and_parse(&s), VG_OK);
    s.version = 0;
    assert_int_equal(build_and_parse(&s), VG_OK);
    s.isstdcnt = s.isutcnt = 0;
    assert_int_equal(build_and_parse(&s), VG_OK);
    /* An empty footer: no rule, the last type stays. */
    s = good_spec('3');
    s.footer = "";
    assert_int_equal(build_and_parse(&s), VG_OK);
    assert_false(tz_a.has_rule);
    assert_int_equal(vg_tz_offset_at(&tz_a, utc(2026, 7, 1, 0, 0, 0)), 3600);
    /* No transitions: the footer covers all time (tzfile(5)). */
    s = good_spec('2');
    s.timecnt = 0;
    assert_int_equal(build_and_parse(&s), VG_OK);
    assert_int_equal(vg_tz_offset_at(&tz_a, utc(1950, 7, 1, 0, 0, 0)), 7200);
    assert_int_equal(vg_tz_offset_at(&tz_a, utc(1950, 1, 1, 0, 0, 0)), 3600);
}

static void test_tzif_malformed_built(void **state)
{
    (void)state;
    struct spec s;
    static const int64_t equal_times[] = {1000, 1000, 2000};
    static const int64_t down_times[] = {1000, 3000, 2000};
    static const uint8_t bad_idx[] = {1, 3, 1};
    static const uint8_t bad_isdst[] = {0, 2, 1};
    static const uint8_t bad_desig[] = {0, 4, 13};
    static const int32_t min_utoff[] = {561, INT32_MIN, 7200};
    static const int32_t big_utoff[] = {561, 93600, 7200};
    static const int32_t low_utoff[] = {561, -90000, 7200};
    static const uint8_t ut_only[] = {0, 1, 0};
    static const uint8_t two[] = {0, 2, 0};
    static const char unterminated[] = "LMT\0CET\0CESTX";

#define EXPECT(expr, rc)                                                                           \
    do {                                                                                           \
        s = good_spec('2');                                                                        \
        expr;                                                                                      \
        assert_int_equal(build_and_parse(&s), rc);                                                 \
        s.version = 0;                                                                             \
        if (strcmp(s.footer, VG_TZ_RULE_EUROPE_PARIS) == 0)                                        \
            assert_int_equal(build_and_parse(&s), rc);                                             \
    } while (0)

    EXPECT((void)0, VG_OK);
    EXPECT(s.times = equal_times, VG_EFORMAT);
    EXPECT(s.times = down_times, VG_EFORMAT);
    EXPECT(s.idx = bad_idx, VG_EFORMAT);
    EXPECT(s.isdst = bad_isdst, VG_EFORMAT);
    EXPECT(s.desig = bad_desig, VG_EFORMAT);
    EXPECT(s.chars = unterminated, VG_EFORMAT);
    EXPECT(s.utoff = min_utoff, VG_EFORMAT);
    EXPECT(s.utoff = big_utoff, VG_EFORMAT);
    EXPECT(s.utoff = low_utoff, VG_EFORMAT);
    EXPECT(s.typecnt = 0; s.isstdcnt = s.isutcnt = 0; s.timecnt = 0, VG_EFORMAT);
    EXPECT(s.charcnt = 0, VG_EFORMAT);
    EXPECT(s.isutcnt = 2, VG_EFORMAT);
    EXPECT(s.isstdcnt = 2, VG_EFORMAT);
    EXPECT(s.isut = ut_only, VG_EFORMAT); /* UT without standard */
    EXPECT(s.isstdcnt = 0; s.isut = ut_only, VG_EFORMAT);
    EXPECT(s.isstd = two, VG_EFORMAT);
    EXPECT(s.isut = two; s.isstd = ones, VG_EFORMAT);
    EXPECT(s.footer = "CET", VG_EFORMAT);
    EXPECT(s.footer = "EST5EDT", VG_EFORMAT);
    EXPECT(s.footer = "CET-1CEST,M3.5.0,M10.5.0/3 ", VG_EFORMAT);
#undef EXPECT

    /* Offsets at the limits of RFC 8536's recommended range are fine. */
    static const int32_t edge_utoff[] = {-89999, 93599, 0};
    s = good_spec('2');
    s.utoff = edge_utoff;
    s.footer = "";
    assert_int_equal(build_and_parse(&s), VG_OK);

    /* Version 1 with a byte too many; version 2 with bytes after the
     * footer, a missing footer, a footer without its final newline. */
    s = good_spec(0);
    size_t n = build(&s, built, sizeof built);
    built[n] = 0;
    assert_int_equal(vg_tz_from_tzif(&tz_a, built, n + 1), VG_EFORMAT);
    s = good_spec('2');
    n = build(&s, built, sizeof built);
    built[n] = '\n';
    assert_int_equal(vg_tz_from_tzif(&tz_a, built, n + 1), VG_EFORMAT);
    size_t footer_len = strlen(s.footer) + 2;
    assert_int_equal(vg_tz_from_tzif(&tz_a, built, n - footer_len), VG_EFORMAT);
    assert_int_equal(vg_tz_from_tzif(&tz_a, built, n - 1), VG_EFORMAT);
    built[n - footer_len] = 'x';
    assert_int_equal(vg_tz_from_tzif(&tz_a, built, n), VG_EFORMAT);
    /* A NUL inside the footer rule */
    n = build(&s, built, sizeof built);
    built[n - 3] = 0;
    assert_int_equal(vg_tz_from_tzif(&tz_a, built, n), VG_EFORMAT);
    /* A footer longer than VG_TZ_MAX_RULE_LEN */
    char long_footer[400];
    memset(long_footer, 'A', sizeof long_footer);
    strcpy(long_footer + 300, "0");
    s.footer = long_footer;
    assert_int_equal(build_and_parse(&s), VG_EFORMAT);

    /* Magic, versions, and the two headers' versions must agree. */
    s = good_spec('2');
    n = build(&s, built, sizeof built);
    static const uint8_t bad_versions[] = {'1', '5', 'A', 1, 2};
    for (size_t i = 0; i < sizeof bad_versions; i++) {
        build(&s, built, sizeof built);
        built[4] = bad_versions[i];
        assert_int_equal(vg_tz_from_tzif(&tz_a, built, n), VG_EFORMAT);
    }
    build(&s, built, sizeof built);
    built[44 + 7 + 4] = '3'; /* the second header */
    assert_int_equal(vg_tz_from_tzif(&tz_a, built, n), VG_EFORMAT);
    build(&s, built, sizeof built);
    built[44 + 7] = 'X';
    assert_int_equal(vg_tz_from_tzif(&tz_a, built, n), VG_EFORMAT);
    for (int i = 0; i < 4; i++) {
        build(&s, built, sizeof built);
        built[i] ^= 0x20;
        assert_int_equal(vg_tz_from_tzif(&tz_a, built, n), VG_EFORMAT);
    }
    assert_int_equal(vg_tz_from_tzif(&tz_a, NULL, 0), VG_EFORMAT);
    assert_int_equal(vg_tz_from_tzif(&tz_a, built, 0), VG_EFORMAT);
}

/* Tables full: VG_ENOSPC, never truncation; just under the caps is fine. */
static void test_tzif_capacity(void **state)
{
    (void)state;
    static int64_t times[VG_TZ_MAX_TRANSITIONS + 1];
    static uint8_t idx[VG_TZ_MAX_TRANSITIONS + 1];
    for (size_t i = 0; i < ARRAY_LEN(times); i++) {
        times[i] = -2000000000 + (int64_t)i * 3000000;
        idx[i] = (uint8_t)(1 + i % 2);
    }
    struct spec s = good_spec('2');
    s.times = times;
    s.idx = idx;
    s.timecnt = VG_TZ_MAX_TRANSITIONS;
    assert_int_equal(build_and_parse(&s), VG_OK);
    assert_int_equal(tz_a.n_transitions, VG_TZ_MAX_TRANSITIONS);
    assert_int_equal(vg_tz_offset_at(&tz_a, times[VG_TZ_MAX_TRANSITIONS - 3]), 7200);
    assert_int_equal(vg_tz_offset_at(&tz_a, times[VG_TZ_MAX_TRANSITIONS - 2]), 3600);
    s.timecnt = VG_TZ_MAX_TRANSITIONS + 1;
    assert_int_equal(build_and_parse(&s), VG_ENOSPC);
    assert_int_equal(vg_tz_offset_at(&tz_a, 0), 0); /* left as UTC */
    s.version = 0;
    assert_int_equal(build_and_parse(&s), VG_ENOSPC);

    static int32_t utoff[VG_TZ_MAX_TYPES + 1];
    static uint8_t isdst[VG_TZ_MAX_TYPES + 1], desig[VG_TZ_MAX_TYPES + 1];
    for (int i = 0; i <= VG_TZ_MAX_TYPES; i++)
        utoff[i] = i * 60;
    s = good_spec('2');
    s.utoff = utoff;
    s.isdst = isdst;
    s.desig = desig;
    s.isstdcnt = s.isutcnt = 0;
    s.typecnt = VG_TZ_MAX_TYPES;
    assert_int_equal(build_and_parse(&s), VG_OK);
    s.typecnt = VG_TZ_MAX_TYPES + 1;
    assert_int_equal(build_and_parse(&s), VG_ENOSPC);
    /* Counts far beyond the data are a format error, not a full table. */
    s.typecnt = 3;
    s.utoff = good_utoff;
    size_t n = build(&s, built, sizeof built);
    size_t counts2 = 44 + 7 + 20;
    built[counts2 + 12] = 0x7f; /* timecnt */
    assert_int_equal(vg_tz_from_tzif(&tz_a, built, n), VG_EFORMAT);
}

/* Extreme transition instants: everything stays defined (UBSan watches). */
static void test_tzif_extreme_instants(void **state)
{
    (void)state;
    static const int64_t times[] = {INT64_MIN, -((int64_t)1 << 59), 0, INT64_MAX - 1};
    static const uint8_t idx[] = {1, 2, 1, 2};
    struct spec s = good_spec('2');
    s.times = times;
    s.idx = idx;
    s.timecnt = 4;
    assert_int_equal(build_and_parse(&s), VG_OK);
    int64_t probes[] = {INT64_MIN,        INT64_MIN + 1, -((int64_t)1 << 59), -1,       0, 1,
                        (int64_t)1 << 55, INT64_MAX - 2, INT64_MAX - 1,       INT64_MAX};
    for (size_t i = 0; i < ARRAY_LEN(probes); i++) {
        int32_t off = vg_tz_offset_at(&tz_a, probes[i]);
        assert_true(off >= -89999 && off <= 93599);
        int64_t c = vg_tz_next_change(&tz_a, probes[i]);
        assert_true(c > probes[i] || (probes[i] == INT64_MAX && c == INT64_MAX));
        int64_t e, l;
        int64_t local = probes[i] / 4;
        assert_true(vg_tz_local_to_utc(&tz_a, local, &e, &l) >= 0);
        assert_true(e <= l);
    }
    assert_int_equal(vg_tz_offset_at(&tz_a, INT64_MIN), 3600);
    /* Past 2^55 s the rule is frozen at its value there. */
    assert_int_equal(vg_tz_from_posix(&tz_b, VG_TZ_RULE_EUROPE_PARIS), VG_OK);
    assert_int_equal(vg_tz_offset_at(&tz_a, INT64_MAX), vg_tz_offset_at(&tz_b, (int64_t)1 << 55));
    assert_int_equal(vg_tz_next_change(&tz_a, INT64_MAX - 1), INT64_MAX);
    /* A POSIX rule far away: frozen beyond +-2^55 s, defined everywhere. */
    assert_int_equal(vg_tz_from_posix(&tz_a, VG_TZ_RULE_EUROPE_PARIS), VG_OK);
    int64_t c = vg_tz_next_change(&tz_a, INT64_MIN);
    assert_true(c > -((int64_t)1 << 55) && c < -((int64_t)1 << 55) + 366 * 86400);
    assert_int_equal(vg_tz_next_change(&tz_a, (int64_t)1 << 55), INT64_MAX);
    assert_int_equal(vg_tz_offset_at(&tz_a, INT64_MAX), vg_tz_offset_at(&tz_a, (int64_t)1 << 55));
}

/* Hand-built zones where a wall-clock time is read three times, or is
 * jumped over twice: the first and last readings, the first jump. */
static void test_local_to_utc_pathological(void **state)
{
    (void)state;
    static const int32_t utoff[] = {0, -3600, -7200, 7200};
    static const uint8_t isdst[] = {0, 0, 0, 0}, desig[] = {0, 0, 0, 0};
    const int64_t t1 = (int64_t)1000000 * 3600;
    /* 0, then -1 h at t1, then -2 h an hour later: clocks go back twice. */
    int64_t back_twice[] = {t1, t1 + 3600};
    uint8_t idx_back[] = {1, 2};
    struct spec s = {'2',      2,     4,     1,     0,    0,    0,  back_twice,
                     idx_back, utoff, isdst, desig, NULL, NULL, "", ""};
    assert_int_equal(build_and_parse(&s), VG_OK);
    expect_local(&tz_a, t1 - 1800, VG_TZ_LOCAL_AMBIGUOUS, t1 - 1800, t1 + 5400);
    /* 0, +2 h at t1, -2 h ten minutes later, +2 h ten minutes after that:
     * t1 + 1 h on the wall clock is jumped over twice and never read. */
    int64_t jumps[] = {t1, t1 + 600, t1 + 1200};
    uint8_t idx_jumps[] = {3, 2, 3};
    s.timecnt = 3;
    s.times = jumps;
    s.idx = idx_jumps;
    assert_int_equal(build_and_parse(&s), VG_OK);
    expect_local(&tz_a, t1 + 3600, VG_TZ_LOCAL_GAP, t1, t1);
}

/* A rule whose two changes both fall in the first week of the next year
 * ("J364/100" is 3 January 04:00): the change in force on 1 January comes
 * from two years back. DST [3 Jan 04:00Z, 6 Jan 15:00Z) every year. glibc
 * only looks at the current year's changes and misses it. */
static void test_rule_changes_past_new_year(void **state)
{
    (void)state;
    assert_int_equal(vg_tz_from_posix(&tz_a, "AAA0BBB,J364/100,J365/160"), VG_OK);
    for (int32_t y = 1950; y < 2100; y += 7) {
        int64_t start = utc(y, 1, 3, 4, 0, 0), end = utc(y, 1, 6, 15, 0, 0);
        assert_int_equal(vg_tz_offset_at(&tz_a, utc(y, 1, 1, 0, 0, 0)), 0);
        assert_int_equal(vg_tz_offset_at(&tz_a, start - 1), 0);
        assert_int_equal(vg_tz_offset_at(&tz_a, start), 3600);
        assert_int_equal(vg_tz_offset_at(&tz_a, end - 1), 3600);
        assert_int_equal(vg_tz_offset_at(&tz_a, end), 0);
        assert_int_equal(vg_tz_next_change(&tz_a, utc(y - 1, 6, 1, 0, 0, 0)), start);
        assert_int_equal(vg_tz_next_change(&tz_a, start), end);
        expect_local(&tz_a, civil(y, 1, 6, 15, 30, 0), VG_TZ_LOCAL_AMBIGUOUS, end - 1800,
                     end + 1800);
    }
}

/* Every prefix of real files (version 2 and 3) and of a version 1 file,
 * and corrupted counts: an error, never a crash or a read past the end
 * (ASan would see it: each prefix is copied into a buffer of its size). */
static void check_truncations(const uint8_t *file, size_t n)
{
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        assert_non_null(copy);
        memcpy(copy, file, len);
        int rc = vg_tz_from_tzif(&tz_b, copy, len);
        free(copy);
        if (rc != VG_EFORMAT)
            fail_msg("prefix of %zu/%zu bytes gave %d", len, n, rc);
    }
}

static void test_tzif_truncated_and_corrupted(void **state)
{
    (void)state;
    static const char *const zones[] = {"Europe/Paris", "America/Nuuk", "Africa/Casablanca",
                                        "right/Europe/London", "UTC"};
    static uint8_t file[1 << 16];
    for (size_t z = 0; z < ARRAY_LEN(zones); z++) {
        char path[256];
        snprintf(path, sizeof path, ZONEINFO "/%s", zones[z]);
        size_t n = read_file(path, file, sizeof file);
        check_truncations(file, n);

        /* Each count of each header: off by one either way, or huge. */
        uint32_t c[6];
        for (int i = 0; i < 6; i++)
            c[i] = (uint32_t)file[20 + 4 * i] << 24 | (uint32_t)file[21 + 4 * i] << 16 |
                   (uint32_t)file[22 + 4 * i] << 8 | file[23 + 4 * i];
        size_t header2 =
            44 + (size_t)c[3] * 5 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 + c[1] + c[0];
        size_t where[2] = {0, header2};
        for (int h = 0; h < 2; h++) {
            for (int field = 0; field < 6; field++) {
                size_t at = where[h] + 20 + 4 * (size_t)field;
                uint32_t orig = (uint32_t)file[at] << 24 | (uint32_t)file[at + 1] << 16 |
                                (uint32_t)file[at + 2] << 8 | file[at + 3];
                const uint32_t tries[] = {orig + 1, orig - 1, 0xffffffffu, 0x7fffffffu, 0x10000u};
                for (size_t k = 0; k < ARRAY_LEN(tries); k++) {
                    if (tries[k] == orig)
                        continue;
                    memcpy(built, file, n);
                    built[at] = (uint8_t)(tries[k] >> 24);
                    built[at + 1] = (uint8_t)(tries[k] >> 16);
                    built[at + 2] = (uint8_t)(tries[k] >> 8);
                    built[at + 3] = (uint8_t)tries[k];
                    int rc = vg_tz_from_tzif(&tz_b, built, n);
                    if (rc != VG_EFORMAT)
                        fail_msg("%s: header %d count %d = %u gave %d", zones[z], h, field,
                                 tries[k], rc);
                }
            }
        }
        /* A byte flipped anywhere: any outcome but a crash; if accepted, the
         * zone must still be self-consistent. */
        for (size_t at = 0; at < n; at++) {
            memcpy(built, file, n);
            built[at] ^= 0xa5;
            if (vg_tz_from_tzif(&tz_b, built, n) == VG_OK) {
                int64_t next = vg_tz_next_change(&tz_b, 0);
                assert_true(next > 0);
                if (next != INT64_MAX)
                    assert_int_not_equal(vg_tz_offset_at(&tz_b, next - 1),
                                         vg_tz_offset_at(&tz_b, next));
            }
        }
    }
    /* A version 1 file, built, cut everywhere. */
    struct spec s = good_spec(0);
    size_t n = build(&s, file, sizeof file);
    check_truncations(file, n);
    assert_int_equal(vg_tz_from_tzif(&tz_b, file, n), VG_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_system_zone_matches_glibc),
        cmocka_unit_test(test_tricky_zones),
        cmocka_unit_test(test_known_offsets),
        cmocka_unit_test(test_posix_rules_match_glibc),
        cmocka_unit_test(test_posix_fields),
        cmocka_unit_test(test_paris_rule_matches_tzif),
        cmocka_unit_test(test_permanent_dst),
        cmocka_unit_test(test_degenerate_rules),
        cmocka_unit_test(test_posix_refused),
        cmocka_unit_test(test_next_change_brute_force),
        cmocka_unit_test(test_next_change_skips_non_offset_transitions),
        cmocka_unit_test(test_local_to_utc_paris),
        cmocka_unit_test(test_local_to_utc_elsewhere),
        cmocka_unit_test(test_local_to_utc_random),
        cmocka_unit_test(test_tzif_versions),
        cmocka_unit_test(test_tzif_malformed_built),
        cmocka_unit_test(test_tzif_capacity),
        cmocka_unit_test(test_tzif_extreme_instants),
        cmocka_unit_test(test_tzif_truncated_and_corrupted),
        cmocka_unit_test(test_local_to_utc_pathological),
        cmocka_unit_test(test_rule_changes_past_new_year),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
