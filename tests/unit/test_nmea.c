/* The units' NMEA 0183 parser (core/nmea.h): hand-written sentences with
 * known values, every way a sentence is refused (with the state left as it
 * was), epochs (prompt emission, skipped sentences, 2 Hz, midnight, no date
 * yet), the accuracy rules, writer -> parser round trips, and five real
 * receivers' recordings (data/nmea, gpsd's regression logs).
 *
 * Sentences written here get their checksum from the test's own XOR; the
 * sentences copied from the recordings keep the receiver's. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/geo.h"
#include "core/nmea.h"
#include "core/prng.h"
#include "testing.h"

#ifndef VG_DATA_DIR
#define VG_DATA_DIR "data"
#endif

#define DAY_MS    86400000LL
#define KNOT      (1852.0 / 3600.0)
#define MAX_FIXES 512

static const char *nmea_dir = VG_DATA_DIR "/nmea";

/* ---- helpers ------------------------------------------------------------- */

/* "$" body "*hh" with the checksum of body. */
static const char *with_checksum(const char *body)
{
    static char ring[8][256];
    static unsigned next;
    char *out = ring[next++ % 8];
    unsigned sum = 0;
    for (const char *c = body; *c; c++)
        sum ^= (unsigned char)*c;
    snprintf(out, sizeof ring[0], "$%s*%02X", body, sum);
    return out;
}

struct run {
    struct vg_fix fixes[MAX_FIXES];
    size_t n;
};

static int feed(struct vg_nmea *p, const char *line, struct run *r)
{
    struct vg_fix out[VG_NMEA_MAX_OUT];
    size_t n = 99;
    int rc = vg_nmea_feed(p, line, strlen(line), out, &n);
    assert_true(n <= VG_NMEA_MAX_OUT);
    if (rc < 0)
        assert_int_equal(n, 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(vg_fix_check(&out[i]), VG_OK);
        assert_true(r->n < MAX_FIXES);
        r->fixes[r->n++] = out[i];
    }
    return rc;
}

/* Feeds bodies (checksums added), flushes: the fixes of the whole input. */
static size_t run_bodies(const char *const *bodies, size_t n, struct run *r)
{
    struct vg_nmea p;
    vg_nmea_init(&p);
    r->n = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = feed(&p, with_checksum(bodies[i]), r);
        if (rc < 0)
            fail_msg("refused (%d): %s", rc, bodies[i]);
    }
    if (vg_nmea_flush(&p, &r->fixes[r->n]))
        r->n++;
    return r->n;
}

/* The one fix of an epoch given as bodies. */
static struct vg_fix one_fix(const char *const *bodies, size_t n)
{
    static struct run r;
    assert_int_equal(run_bodies(bodies, n, &r), 1);
    return r.fixes[0];
}

#define ONE_FIX(...)                                                                               \
    one_fix((const char *const[]){__VA_ARGS__},                                                    \
            sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* Feeds a line that must be refused with `expected`, and checks that the
 * parser is byte for byte as before but for the refusal counter. */
static void expect_refused(struct vg_nmea *p, const char *line, size_t len, int expected)
{
    struct vg_nmea before;
    memcpy(&before, p, sizeof before);
    struct vg_fix out[VG_NMEA_MAX_OUT];
    size_t n = 99;
    int rc = vg_nmea_feed(p, line, len, out, &n);
    if (rc != expected)
        fail_msg("'%.*s': %d, expected %d", (int)len, line, rc, expected);
    assert_int_equal(n, 0);
    assert_int_equal(p->stats.refused, before.stats.refused + 1);
    before.stats.refused++;
    assert_memory_equal(&before, p, sizeof before);
}

static void expect_refused_str(struct vg_nmea *p, const char *line, int expected)
{
    expect_refused(p, line, strlen(line), expected);
}

/* A parser in the middle of a 1 Hz GGA+RMC stream, an epoch open. */
static void warmed_up(struct vg_nmea *p)
{
    static struct run r;
    vg_nmea_init(p);
    r.n = 0;
    feed(p, with_checksum("GPGGA,120000.00,4807.0380,N,01131.0000,E,1,08,0.9,545.4,M,46.9,M,,"),
         &r);
    feed(p, with_checksum("GPRMC,120000.00,A,4807.0380,N,01131.0000,E,0.0,,230326,,,A"), &r);
    feed(p, with_checksum("GPGGA,120001.00,4807.0381,N,01131.0000,E,1,08,0.9,545.4,M,46.9,M,,"),
         &r);
    assert_int_equal(r.n, 1);
}

/* ---- framing and refusals ------------------------------------------------ */

static void test_real_sentences_and_line_ends(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "$GPRMC,185244.000,A,4854.2575,N,00219.9816,E,0.00,296.61,210706,,,A*6C",
        "$GPRMC,185244.000,A,4854.2575,N,00219.9816,E,0.00,296.61,210706,,,A*6c", /* lower case */
        "$GPRMC,185244.000,A,4854.2575,N,00219.9816,E,0.00,296.61,210706,,,A*6C\r\n",
        "$GPRMC,185244.000,A,4854.2575,N,00219.9816,E,0.00,296.61,210706,,,A*6C\n",
        "$GPRMC,185244.000,A,4854.2575,N,00219.9816,E,0.00,296.61,210706,,,A*6C\r",
    };
    for (size_t i = 0; i < ARRAY_LEN(lines); i++) {
        struct vg_nmea p;
        struct run r = {.n = 0};
        vg_nmea_init(&p);
        assert_int_equal(feed(&p, lines[i], &r), VG_OK);
        assert_int_equal(p.stats.accepted, 1);
        assert_int_equal(vg_nmea_flush(&p, &r.fixes[0]), 1);
        assert_near(r.fixes[0].lat_deg, 48.0 + 54.2575 / 60.0, 1e-9);
        assert_int_equal(r.fixes[0].time_ms, 1153507964000LL); /* 2006-07-21T18:52:44Z */
    }
}

static void test_refusals_leave_the_state_alone(void **state)
{
    (void)state;
    static const char good[] =
        "$GPRMC,185244.000,A,4854.2575,N,00219.9816,E,0.00,296.61,210706,,,A";
    char line[256];
    struct vg_nmea p;
    warmed_up(&p);

    /* checksums */
    expect_refused_str(&p, "$GPRMC,185244.000,A,4854.2575,N,00219.9816,E,0.00,296.61,210706,,,A*6D",
                       VG_EFORMAT);
    expect_refused_str(&p, good, VG_EFORMAT); /* no '*' */
    snprintf(line, sizeof line, "%s*6", good);
    expect_refused_str(&p, line, VG_EFORMAT);
    snprintf(line, sizeof line, "%s*", good);
    expect_refused_str(&p, line, VG_EFORMAT);
    snprintf(line, sizeof line, "%s*6C ", good);
    expect_refused_str(&p, line, VG_EFORMAT);
    snprintf(line, sizeof line, "%s*6G", good);
    expect_refused_str(&p, line, VG_EFORMAT);
    /* one character changed, checksum of the original */
    expect_refused_str(&p, "$GPRMC,185244.000,A,4854.2575,N,00219.9817,E,0.00,296.61,210706,,,A*6C",
                       VG_EFORMAT);

    /* not '$' + talker + type */
    expect_refused_str(&p, "GPRMC,185244.000,A,4854.2575,N,00219.9816,E,0.00,296.61,210706,,,A*6C",
                       VG_EFORMAT);
    expect_refused_str(&p, "", VG_EFORMAT);
    expect_refused_str(&p, "\r\n", VG_EFORMAT);
    expect_refused_str(&p, "$*00", VG_EFORMAT);
    expect_refused(&p, NULL, 0, VG_EFORMAT);
    expect_refused_str(&p, "garbage", VG_EFORMAT);
    {
        char ais[128];
        snprintf(ais, sizeof ais, "!%s", with_checksum("AIVDM,1,1,,A,1,0") + 1);
        expect_refused_str(&p, ais, VG_EFORMAT);
    }
    expect_refused_str(&p, with_checksum("gpgga,120002.00,,,,,0,,,,,,,,"), VG_EFORMAT);
    expect_refused_str(&p, with_checksum("GPGG,120002.00,,,,,0,,,,,,,,"), VG_EFORMAT);
    expect_refused_str(&p, with_checksum("GPGGAA,120002.00,,,,,0,,,,,,,,"), VG_EFORMAT);
    expect_refused_str(&p, with_checksum("GP1GA,120002.00,,,,,0,,,,,,,,"), VG_EFORMAT);
    expect_refused_str(&p, with_checksum("GPGGA"), VG_EFORMAT);
    /* two sentences run together (a lost line end) */
    expect_refused_str(&p, with_checksum("GPGGA,120002.00,48$GPRMC,120002.00,A"), VG_EFORMAT);
    expect_refused_str(&p, with_checksum("GPGGA,120002.00*00,,,,0,,,,,,,,"), VG_EFORMAT);

    /* bytes that are not printable ASCII */
    expect_refused_str(&p, with_checksum("GPGGA,120002.00,4807.038,N,01131.000,E,1,08,\t0.9,,,,,,"),
                       VG_EFORMAT);
    expect_refused_str(&p, with_checksum("GPTXT,01,01,02,45\xb0N"), VG_EFORMAT);
    expect_refused_str(&p, with_checksum("GPTXT,01,01,02,a\rb"), VG_EFORMAT);
    {
        static const char nul[] = "$GPTXT,01,01,02,a\0b*00";
        expect_refused(&p, nul, sizeof nul - 1, VG_EFORMAT);
    }

    /* fields that do not read */
    static const char *const bad_fields[] = {
        "GPGGA,120002.00,4807.038,N",                                          /* too few fields */
        "GPRMC,120002.00,A,4807.038,N,01131.000,E,0.0,0.0",                    /* no date field */
        "GPGGA,120002.00,4807.038,N,01131.000,E,1,08,0.x,545.4,M,,M,,",        /* letter in HDOP */
        "GPGGA,120002.00,9100.000,N,01131.000,E,1,08,0.9,545.4,M,,M,,",        /* 91 degrees */
        "GPGGA,120002.00,9000.001,N,01131.000,E,1,08,0.9,545.4,M,,M,,",        /* beyond the pole */
        "GPGGA,120002.00,4860.000,N,01131.000,E,1,08,0.9,545.4,M,,M,,",        /* 60 minutes */
        "GPGGA,120002.00,4807.038,N,18000.001,E,1,08,0.9,545.4,M,,M,,",        /* beyond 180 */
        "GPGGA,120002.00,4807.038,X,01131.000,E,1,08,0.9,545.4,M,,M,,",        /* hemisphere */
        "GPGGA,120002.00,4807.038,E,01131.000,N,1,08,0.9,545.4,M,,M,,",        /* swapped */
        "GPGGA,120002.00,4807.038,,01131.000,E,1,08,0.9,545.4,M,,M,,",         /* no hemisphere */
        "GPGGA,120002.00,4807.038,N,,,1,08,0.9,545.4,M,,M,,",                  /* half a position */
        "GPGGA,120002.00,07.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,",          /* no degrees */
        "GPGGA,120002.00,48007.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,",       /* 3 degree digits */
        "GPGGA,120002.00,4807.0.38,N,01131.000,E,1,08,0.9,545.4,M,,M,,",       /* two points */
        "GPGGA,120002.00,-4807.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,",       /* a sign */
        "GPGGA,240000.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,",        /* hour 24 */
        "GPGGA,126000.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,",        /* minute 60 */
        "GPGGA,120061.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,",        /* second 61 */
        "GPGGA,12000.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,",         /* 5 digits */
        "GPGGA,120002:00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,",        /* not '.' */
        "GPGGA,120002.00,4807.038,N,01131.000,E,A,08,0.9,545.4,M,,M,,",        /* quality letter */
        "GPGGA,120002.00,4807.038,N,01131.000,E,1,8x,0.9,545.4,M,,M,,",        /* satellites */
        "GPRMC,120002.00,X,4807.038,N,01131.000,E,0.0,0.0,230326,,,A",         /* status */
        "GPRMC,120002.00,A,4807.038,N,01131.000,E,0.0,0.0,310494,,,A",         /* 31 April */
        "GPRMC,120002.00,A,4807.038,N,01131.000,E,0.0,0.0,290223,,,A",         /* 29 Feb 2023 */
        "GPRMC,120002.00,A,4807.038,N,01131.000,E,0.0,0.0,230326,,,AA",        /* mode */
        "GPRMC,120002.00,A,4807.038,N,01131.000,E,0.0,0.0,2303260,,,A",        /* 7-digit date */
        "GPRMC,120002.00,A,4807.038,N,01131.000,E,1.2.3,0.0,230326,,,A",       /* speed */
        "GPRMC,120002.00,A,4807.038,N,01131.000,E,0.0,east,230326,,,A",        /* course */
        "GPGSA,A,4,,,,,,,,,,,,,1.0,0.9,1.0",                                   /* fix type 4 */
        "GPGSA,A,3,,,,,,,,,,,,,1.0,0.x,1.0",                                   /* HDOP */
        "GPGSA,A",                                                             /* too few */
        "GPGST,120002.00,1.0,2.0,1.0,30.0,1.5,x.5,3.0",                        /* sigma */
        "GPGST,120002.00,1.0,2.0,1.0,30.0,1.5",                                /* too few */
        "GPGGA,120002.00,4807.038,N,01131.000,E,1,08,12345678901234567,,,,,,", /* huge */
        "GPGGA,12000,4807.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,",            /* short time */
        "GPGGA,120002.0x,4807.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,",        /* time fraction */
        "GPGGA,120002.00,4807x038,N,01131.000,E,1,08,0.9,545.4,M,,M,,",        /* not '.' */
        "GPGGA,120002.00,4807.038,N,01131.000,E,100,08,0.9,545.4,M,,M,,",      /* quality 100 */
        "GPGGA,120002.00,4807.038,N,01131.000,E,1,1234,0.9,545.4,M,,M,,",      /* satellites */
        "GPRMC,12000x,A,4807.038,N,01131.000,E,0.0,0.0,230326,,,A",            /* RMC time */
        "GPRMC,120002.00,A,4807.038,N,01131.000,E,0.0,0.0,23a326,,,A",         /* date */
        "GPGST,12000x,1.0,2.0,1.0,30.0,1.5,1.5,3.0",                           /* GST time */
        ("GPGGA,120002.00,4807.038,N,01131.000,E,1,08,0.9,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,"
         ",,,,,,,,,,,,,,,,,,,,,,,"), /* 72 fields */
    };
    for (size_t i = 0; i < ARRAY_LEN(bad_fields); i++)
        expect_refused_str(&p, with_checksum(bad_fields[i]), VG_EFORMAT);
    assert_int_equal(p.stats.accepted, 3);
}

static void test_line_length(void **state)
{
    (void)state;
    struct vg_nmea p;
    vg_nmea_init(&p);
    char body[200], line[256];
    struct run r = {.n = 0};
    /* "$" + body + "*hh" = VG_NMEA_MAX_LINE exactly: accepted (ignored: TXT) */
    size_t body_len = VG_NMEA_MAX_LINE - 4;
    snprintf(body, sizeof body, "GPTXT,01,01,02,");
    while (strlen(body) < body_len)
        strcat(body, "A");
    assert_int_equal(strlen(with_checksum(body)), VG_NMEA_MAX_LINE);
    assert_int_equal(feed(&p, with_checksum(body), &r), VG_NMEA_IGNORED);
    snprintf(line, sizeof line, "%s\r\n", with_checksum(body));
    assert_int_equal(feed(&p, line, &r), VG_NMEA_IGNORED);
    /* one more: too long, whatever else it is */
    strcat(body, "A");
    expect_refused_str(&p, with_checksum(body), VG_ERANGE);
    snprintf(line, sizeof line, "$%s*00", body);
    expect_refused_str(&p, line, VG_ERANGE);
    /* beyond the standard's 82 but within the cap: a survey receiver's GGA */
    const char *hp = with_checksum("GNGGA,120000.0000,4404.12379621,N,12118.84724601,W,4,32,0.5,"
                                   "1021.1234,M,-19.1234,M,1.0,0000");
    assert_true(strlen(hp) > 82);
    assert_int_equal(feed(&p, hp, &r), VG_OK);
}

static void test_ignored_sentences(void **state)
{
    (void)state;
    static const char *const ignored[] = {
        "$GPGSV,3,1,11,30,79,308,20,05,54,079,16,06,43,204,29,14,39,247,41*75",
        "$GPVTG,296.61,T,,M,0.00,N,0.0,K,A*07",
        "$GPGLL,5547.82107,N,02334.14132,E,152504.50,A,A*67",
        "$GPZDA,152504.50,09,12,2009,00,00*65",
        "$GPTXT,01,01,02,u-blox ag - www.u-blox.com*50",
        "$GPRMC,,V,,,,,,,,,,N*53",         /* no time: cannot be placed */
        "$GPGGA,,,,,,0,00,99.99,,,,,,*48", /* idem */
    };
    struct vg_nmea p;
    warmed_up(&p);
    for (size_t i = 0; i < ARRAY_LEN(ignored); i++) {
        struct vg_nmea before;
        memcpy(&before, &p, sizeof before);
        struct run r = {.n = 0};
        assert_int_equal(feed(&p, ignored[i], &r), VG_NMEA_IGNORED);
        assert_int_equal(r.n, 0);
        before.stats.ignored++;
        assert_memory_equal(&before, &p, sizeof before);
    }
    /* proprietary sentences, whatever their address length */
    static const char *const proprietary[] = {
        ("PUBX,00,081350.00,4717.113210,N,00833.915187,E,546.589,G3,2.1,2.0,0.007,77.52,0.007,,"
         "0.92,1.19,0.77,9,0,0"),
        "PGRME,15.0,M,45.0,M,25.0,M",
        "PMTK001,604,3",
        "PSRF150,1",
    };
    for (size_t i = 0; i < ARRAY_LEN(proprietary); i++) {
        struct run r = {.n = 0};
        assert_int_equal(feed(&p, with_checksum(proprietary[i]), &r), VG_NMEA_IGNORED);
    }
    /* GSA before any epoch: nothing to attach it to */
    struct vg_nmea fresh;
    vg_nmea_init(&fresh);
    struct run r = {.n = 0};
    assert_int_equal(feed(&fresh, "$GPGSA,A,3,26,32,11,14,,,,,,,,,6.25,2.72,5.62*05", &r),
                     VG_NMEA_IGNORED);
    assert_int_equal(fresh.stats.ignored, 1);
    assert_int_equal(vg_nmea_flush(&fresh, &r.fixes[0]), 0);
}

/* ---- values -------------------------------------------------------------- */

static void test_coordinates(void **state)
{
    (void)state;
    static const struct {
        const char *lat, *ns, *lon, *ew;
        double exp_lat, exp_lon;
    } cases[] = {
        {"4854.2575", "N", "00219.9816", "E", 48 + 54.2575 / 60, 2 + 19.9816 / 60},
        {"2712.6404", "S", "15303.1201", "E", -(27 + 12.6404 / 60), 153 + 3.1201 / 60},
        {"4143.6058", "N", "08338.0778", "W", 41 + 43.6058 / 60, -(83 + 38.0778 / 60)},
        {"3352.1234", "S", "07037.5000", "W", -(33 + 52.1234 / 60), -(70 + 37.5 / 60)},
        {"5547.82113", "N", "02334.14130", "E", 55 + 47.82113 / 60, 23 + 34.14130 / 60},
        {"4404.1237962", "N", "12118.8472460", "W", 44 + 4.1237962 / 60, -(121 + 18.847246 / 60)},
        {"0000.0000", "N", "00000.0000", "E", 0.0, 0.0},
        {"0000.0000", "S", "00000.0000", "W", 0.0, 0.0},
        {"9000.0000", "N", "18000.0000", "E", 90.0, 180.0},
        {"9000.0000", "S", "18000.0000", "W", -90.0, -180.0},
        {"8959.999999", "N", "17959.999999", "W", 89 + 59.999999 / 60, -(179 + 59.999999 / 60)},
        {"0030.5", "N", "00059.99", "E", 30.5 / 60, 59.99 / 60},
        {"503.5", "N", "0503.5", "E", 5 + 3.5 / 60, 5 + 3.5 / 60},  /* leading zero dropped */
        {"4807", "N", "01131", "E", 48 + 7.0 / 60, 11 + 31.0 / 60}, /* no fraction */
        {"4807.", "N", "01131.", "E", 48 + 7.0 / 60, 11 + 31.0 / 60},
        /* beyond 9 fraction digits: dropped (1e-9 minute is 2 micrometres) */
        {"4807.12345678912345", "N", "01131.000000000999", "E", 48 + 7.123456789 / 60,
         11 + 31.0 / 60},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char gga[160], rmc[160];
        snprintf(gga, sizeof gga, "GPGGA,120000.00,%s,%s,%s,%s,1,08,0.9,545.4,M,46.9,M,,",
                 cases[i].lat, cases[i].ns, cases[i].lon, cases[i].ew);
        snprintf(rmc, sizeof rmc, "GPRMC,120000.00,A,%s,%s,%s,%s,0.0,,230326,,,A", cases[i].lat,
                 cases[i].ns, cases[i].lon, cases[i].ew);
        /* from GGA, and from RMC alone */
        struct vg_fix f = ONE_FIX(gga, rmc);
        assert_near(f.lat_deg, cases[i].exp_lat, 1e-10);
        assert_near(f.lon_deg, cases[i].exp_lon, 1e-10);
        f = ONE_FIX(rmc);
        assert_near(f.lat_deg, cases[i].exp_lat, 1e-10);
        assert_near(f.lon_deg, cases[i].exp_lon, 1e-10);
    }
}

static void test_talkers(void **state)
{
    (void)state;
    static const char *const talkers[] = {"GP", "GN", "GL", "GA", "GB", "BD", "GQ", "GI", "IN"};
    for (size_t i = 0; i < ARRAY_LEN(talkers); i++) {
        char gga[160], gsa[160], rmc[160], gst[160];
        snprintf(gga, sizeof gga, "%sGGA,101010.00,4807.0380,N,01131.0000,E,1,12,0.8,545.4,M,,M,,",
                 talkers[i]);
        snprintf(gsa, sizeof gsa, "%sGSA,A,3,01,02,03,04,05,06,07,08,09,10,11,12,1.2,0.8,0.9",
                 talkers[i]);
        snprintf(rmc, sizeof rmc, "%sRMC,101010.00,A,4807.0380,N,01131.0000,E,10.0,84.4,230326,,,A",
                 talkers[i]);
        snprintf(gst, sizeof gst, "%sGST,101010.00,1.1,,,,2.0,2.0,3.0", talkers[i]);
        struct vg_fix f = ONE_FIX(gga, gsa, rmc, gst);
        assert_int_equal(f.quality, VG_FIX_3D);
        assert_near(f.lat_deg, 48 + 7.038 / 60, 1e-10);
        assert_near(f.lon_deg, 11 + 31.0 / 60, 1e-10);
        assert_int_equal(f.time_ms, 1774260610000LL); /* 2026-03-23T10:10:10Z */
    }
}

static void test_quality(void **state)
{
    (void)state;
    /* GGA's quality indicator, with an RMC that says valid and a 3D GSA */
    static const int expected_by_gga[] = {
        VG_FIX_NONE,  /* 0 invalid */
        VG_FIX_3D,    /* 1 GPS */
        VG_FIX_DGNSS, /* 2 DGPS */
        VG_FIX_3D,    /* 3 PPS */
        VG_FIX_DGNSS, /* 4 RTK fixed */
        VG_FIX_DGNSS, /* 5 RTK float */
        VG_FIX_NONE,  /* 6 dead reckoning: an estimate, not a measurement */
        VG_FIX_NONE,  /* 7 manual input */
        VG_FIX_NONE,  /* 8 simulator */
        VG_FIX_NONE,  /* 9: not in the standard */
    };
    for (int q = 0; q < (int)ARRAY_LEN(expected_by_gga); q++) {
        char gga[160];
        snprintf(gga, sizeof gga, "GPGGA,120000.00,4807.038,N,01131.000,E,%d,08,0.9,545.4,M,,M,,",
                 q);
        struct vg_fix f = ONE_FIX(gga, "GPGSA,A,3,,,,,,,,,,,,,1.0,0.9,1.0",
                                  "GPRMC,120000.00,A,4807.038,N,01131.000,E,0.0,,230326,,,A");
        if (f.quality != expected_by_gga[q])
            fail_msg("GGA quality %d: %d, expected %d", q, f.quality, expected_by_gga[q]);
    }
    static const struct {
        const char *gga, *gsa, *rmc;
        int expected;
    } cases[] = {
        /* RMC status, mode (2.3) and navigational status (4.1) */
        {"GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,,,,,,", NULL,
         "GPRMC,120000,V,4807.038,N,01131.000,E,0.0,,230326,,,A", VG_FIX_NONE},
        {"GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,,,,,,", NULL,
         "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,,230326,,,N", VG_FIX_NONE},
        {"GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,,,,,,", NULL,
         "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,,230326,,,E", VG_FIX_NONE},
        {"GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,,,,,,", NULL,
         "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,,230326,,,S", VG_FIX_NONE},
        {"GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,,,,,,", NULL,
         "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,,230326,,,A,V", VG_FIX_NONE},
        {"GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,,,,,,", NULL,
         "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,,230326,,,A,S", VG_FIX_3D},
        {"GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,,,,,,", NULL,
         "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,,230326,,,D", VG_FIX_DGNSS},
        {"GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,,,,,,", NULL,
         "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,,230326,,,R", VG_FIX_DGNSS},
        /* pre-2.3 RMC (no mode), a SiRF RMC with the mode in field 11 */
        {NULL, NULL, "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,,230326,,", VG_FIX_2D},
        {NULL, NULL, "GPRMC,212607.891,V,,,,,,,181207,0,N", VG_FIX_NONE},
        {NULL, NULL, "GPRMC,212607.891,A,4807.038,N,01131.000,E,0.56,344.41,181207,0,A", VG_FIX_2D},
        /* dimension: GSA, else the number of satellites, else 2D */
        {"GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,,,,,,", "GPGSA,A,2,,,,,,,,,,,,,1.0,0.9,1.0",
         "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,,230326,,,A", VG_FIX_2D},
        {"GPGGA,120000,4807.038,N,01131.000,E,1,03,0.9,,,,,,", "GPGSA,M,3,,,,,,,,,,,,,1.0,0.9,1.0",
         NULL, VG_FIX_3D},
        {"GPGGA,120000,4807.038,N,01131.000,E,1,04,0.9,,,,,,", NULL, NULL, VG_FIX_3D},
        {"GPGGA,120000,4807.038,N,01131.000,E,1,03,0.9,,,,,,", NULL, NULL, VG_FIX_2D},
        {"GPGGA,120000,4807.038,N,01131.000,E,1,,0.9,,,,,,", NULL, NULL, VG_FIX_2D},
        /* GSA says no fix, GGA and RMC say 3D with 8 satellites: GSA has no
         * time, the timed sentences decide; the dimension falls back */
        {"GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,,,,,,", "GPGSA,A,1,,,,,,,,,,,,,,,",
         "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,,230326,,,A", VG_FIX_3D},
        /* valid, says GGA, but no position */
        {"GPGGA,120000,,,,,1,08,0.9,,,,,,", NULL, NULL, VG_FIX_NONE},
        /* GGA without a quality, RMC valid: RMC decides */
        {"GPGGA,120000,4807.038,N,01131.000,E,,08,0.9,,,,,,", NULL,
         "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,,230326,,,A", VG_FIX_3D},
        /* GGA without a quality, RMC without a status: nobody says valid */
        {"GPGGA,120000,4807.038,N,01131.000,E,,08,0.9,,,,,,", NULL,
         "GPRMC,120000,,4807.038,N,01131.000,E,0.0,,230326,,,", VG_FIX_NONE},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *bodies[4];
        size_t n = 0;
        if (cases[i].gga)
            bodies[n++] = cases[i].gga;
        if (cases[i].gsa)
            bodies[n++] = cases[i].gsa;
        /* an RMC for the date when the case has none of its own */
        bodies[n++] = cases[i].rmc ? cases[i].rmc : "GPRMC,120000,,,,,,,,230326,,,";
        struct vg_fix f = one_fix(bodies, n);
        if (f.quality != cases[i].expected)
            fail_msg("case %zu: quality %d, expected %d", i, f.quality, cases[i].expected);
        if (f.quality == VG_FIX_NONE) {
            assert_true(f.speed_mps < 0 && f.heading_deg < 0);
        } else {
            assert_near(f.lat_deg, 48 + 7.038 / 60, 1e-10);
            assert_near(f.lon_deg, 11 + 31.0 / 60, 1e-10);
        }
    }
}

/* P(|X| <= R) for a 2-D normal error with independent axes sigma a and b:
 * the integral over y = R sin(t) of phi_b(y) * P(|x| <= R cos(t)), smooth in
 * t (no square-root kink at the circle's edge), by Simpson's rule. */
static double probability_within(double radius, double a, double b)
{
    if (b == 0.0)
        return erf(radius / (a * sqrt(2.0)));
    const int n = 20000;
    double h = M_PI / n, sum = 0;
    for (int i = 0; i <= n; i++) {
        double t = -M_PI / 2 + i * h, y = radius * sin(t), c = radius * cos(t);
        double f = exp(-y * y / (2 * b * b)) / (b * sqrt(2 * M_PI)) * erf(c / (a * sqrt(2.0))) * c;
        sum += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
    }
    return sum * h / 3;
}

static void test_r95_holds_95_percent(void **state)
{
    (void)state;
    /* Whatever the shape of the error ellipse, the radius holds at least
     * 95% of the positions, and not much more (at most 2.7% beyond the
     * exact 95% radius: a probability below 96%). */
    for (int i = 0; i <= 40; i++) {
        double ratio = i / 40.0, a = 3.0, b = a * ratio;
        double r = vg_nmea_r95(a, b);
        assert_near(vg_nmea_r95(b, a), r, 1e-12);
        double pr = probability_within(r, a, b);
        if (pr < 0.95 - 1e-6 || pr > 0.96)
            fail_msg("ratio %.3f: radius %.4f holds %.5f", ratio, r, pr);
    }
    /* the two ends exactly: one axis (1.96 sigma), circular (2.4477 sigma) */
    assert_near(vg_nmea_r95(2.0, 0.0), 2.0 * 1.959964, 1e-5);
    assert_near(vg_nmea_r95(2.0, 2.0), 2.0 * sqrt(2.0 * log(20.0)), 1e-5);
    assert_near(vg_nmea_r95(0.0, 0.0), 0.0, 0.0);
}

static void test_accuracy(void **state)
{
    (void)state;
    const char *rmc = "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,,230326,,,A";
    /* HDOP x UERE is the DRMS; 1.96 DRMS covers 95% for any ellipse shape */
    const double hdop_rule = 1.96 * VG_NMEA_UERE_M;
    struct vg_fix f;
    f = ONE_FIX("GPGGA,120000,4807.038,N,01131.000,E,1,08,1.5,,,,,,", rmc);
    assert_near((double)f.accuracy_m, hdop_rule * 1.5, 1e-3);
    assert_near((double)f.accuracy_m, 14.7, 0.01); /* the doc's example */
    /* GGA without HDOP: GSA's */
    f = ONE_FIX("GPGGA,120000,4807.038,N,01131.000,E,1,08,,,,,,,",
                "GPGSA,A,3,01,02,03,04,,,,,,,,,2.5,2.0,1.5", rmc);
    assert_near((double)f.accuracy_m, hdop_rule * 2.0, 1e-3);
    /* no HDOP anywhere, no GST: the pessimistic default */
    f = ONE_FIX(rmc);
    assert_near((double)f.accuracy_m, (double)VG_NMEA_UNKNOWN_ACCURACY_M, 0);
    f = ONE_FIX("GPGGA,120000,4807.038,N,01131.000,E,1,08,0.0,,,,,,", rmc);
    assert_near((double)f.accuracy_m, (double)VG_NMEA_UNKNOWN_ACCURACY_M, 0);
    /* GST wins over HDOP: circular 2 m -> 2.4477 x 2 */
    f = ONE_FIX("GPGGA,120000,4807.038,N,01131.000,E,1,08,1.5,,,,,,", rmc,
                "GPGST,120000,1.0,,,,2.0,2.0,3.0");
    assert_near((double)f.accuracy_m, 2.0 * sqrt(2.0 * log(20.0)), 1e-4);
    /* lat/lon sigmas 3 and 1 (ellipse not given) */
    f = ONE_FIX(rmc, "GPGST,120000,1.0,,,,3.0,1.0,3.0");
    assert_near((double)f.accuracy_m, vg_nmea_r95(3.0, 1.0), 1e-4);
    /* between one axis alone and the worst shape for that total variance */
    assert_true((double)f.accuracy_m > 1.96 * 3.0 && (double)f.accuracy_m < 1.96 * sqrt(10.0));
    /* ellipse 5 x 1 and lat/lon 3.6 x 3.6: the larger radius */
    f = ONE_FIX(rmc, "GPGST,120000,1.0,5.0,1.0,45.0,3.6,3.6,3.0");
    assert_near((double)f.accuracy_m, fmax(vg_nmea_r95(5, 1), vg_nmea_r95(3.6, 3.6)), 1e-4);
    assert_near((double)f.accuracy_m, vg_nmea_r95(5, 1), 1e-4);
    /* the ardusimple-style GST without the ellipse, and one with nothing */
    f = ONE_FIX("GPGGA,120000,4807.038,N,01131.000,E,1,08,1.5,,,,,,", rmc,
                "GPGST,120000,1.8,,,,1.7,1.3,2.2");
    assert_near((double)f.accuracy_m, vg_nmea_r95(1.7, 1.3), 1e-4);
    f = ONE_FIX("GPGGA,120000,4807.038,N,01131.000,E,1,08,1.5,,,,,,", rmc, "GPGST,120000,,,,,,,");
    assert_near((double)f.accuracy_m, hdop_rule * 1.5, 1e-3);
    /* clamped to fix.h's limits */
    f = ONE_FIX("GPGGA,120000,4807.038,N,01131.000,E,1,08,0.2,,,,,,", rmc);
    assert_near((double)f.accuracy_m, (double)VG_FIX_MIN_ACCURACY_M, 0);
    f = ONE_FIX(rmc, "GPGST,120000,0.006,0.023,0.020,273.6,0.023,0.020,0.031");
    assert_near((double)f.accuracy_m, (double)VG_FIX_MIN_ACCURACY_M, 0);
    f = ONE_FIX(rmc, "GPGST,120000,1,,,,900000,900000,1");
    assert_near((double)f.accuracy_m, (double)VG_FIX_MAX_ACCURACY_M, 0);
    f = ONE_FIX("GPGGA,120000,4807.038,N,01131.000,E,1,08,9000,,,,,,", rmc);
    assert_near((double)f.accuracy_m, hdop_rule * 9000, 2);
    /* a GST of another epoch does not count */
    f = ONE_FIX("GPGGA,120000,4807.038,N,01131.000,E,1,08,1.5,,,,,,", rmc,
                "GPGST,115959,1.0,,,,2.0,2.0,3.0");
    assert_true(f.time_ms % DAY_MS == 12 * 3600000LL);
    assert_near((double)f.accuracy_m, hdop_rule * 1.5, 1e-3);
}

static void test_speed_and_heading(void **state)
{
    (void)state;
    static const struct {
        const char *speed, *course;
        double exp_speed, exp_heading;
    } cases[] = {
        {"30.324", "221.16", 30.324 * KNOT, 221.16},
        {"0.00", "0.00", 0.0, 0.0},
        {"", "", -1, -1},
        {"1.5", "360.0", 1.5 * KNOT, 0.0}, /* 360 is north */
        {"1.5", "359.99", 1.5 * KNOT, 359.99},
        {"1.5", "360.01", 1.5 * KNOT, -1}, /* nonsense: unknown */
        {"1.5", "-5.0", 1.5 * KNOT, -1},
        {"-1.5", "12.0", -1, 12.0},
        {"1943.8", "12.0", 1943.8 * KNOT, 12.0}, /* 1000 m/s */
        {"1944.0", "12.0", -1, 12.0},            /* beyond fix.h's limit */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char rmc[160];
        snprintf(rmc, sizeof rmc, "GPRMC,120000,A,4807.038,N,01131.000,E,%s,%s,230326,,,A",
                 cases[i].speed, cases[i].course);
        struct vg_fix f = ONE_FIX(rmc);
        assert_near((double)f.speed_mps, cases[i].exp_speed, 1e-4);
        assert_near((double)f.heading_deg, cases[i].exp_heading, 1e-4);
    }
    /* speed and course of an RMC that says "no fix" are not used */
    struct vg_fix f = ONE_FIX("GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,,,,,,",
                              "GPRMC,120000,V,4807.038,N,01131.000,E,5.0,90.0,230326,,,N");
    assert_int_equal(f.quality, VG_FIX_NONE);
    assert_true(f.speed_mps < 0 && f.heading_deg < 0);
    /* no RMC: speed and heading unknown */
    struct run r;
    static const char *const gga_only[] = {
        "GPRMC,115959,A,4807.038,N,01131.000,E,5.0,90.0,230326,,,A",
        "GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,,,,,,",
    };
    assert_int_equal(run_bodies(gga_only, 2, &r), 2);
    assert_true(r.fixes[1].speed_mps < 0 && r.fixes[1].heading_deg < 0);
}

static void test_time_and_date(void **state)
{
    (void)state;
    static const struct {
        const char *time, *date;
        long long expected_ms;
    } cases[] = {
        {"235959.999", "311224", 1735689599999LL}, /* 2024-12-31T23:59:59.999Z */
        {"000000", "010125", 1735689600000LL},
        {"120000", "010126", 1767268800000LL},
        {"120000.5", "010126", 1767268800500LL},
        {"120000.05", "010126", 1767268800050LL},
        {"120000.123456", "010126", 1767268800123LL}, /* truncated to the ms */
        {"120000.", "010126", 1767268800000LL},
        {"000000", "290224", 1709164800000LL}, /* 29 February 2024 */
        {"000000", "010100", 946684800000LL},  /* the first day we accept */
        {"235959", "311279", 3471292799000LL}, /* 79 is 2079 */
        /* a leap second: 23:59:60.5 is put at 23:59:59.999 */
        {"235960.500", "311216", 1483228799999LL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char rmc[160];
        snprintf(rmc, sizeof rmc, "GPRMC,%s,A,4807.038,N,01131.000,E,0.0,,%s,,,A", cases[i].time,
                 cases[i].date);
        struct vg_fix f = ONE_FIX(rmc);
        if (f.time_ms != cases[i].expected_ms)
            fail_msg("%s %s: %lld, expected %lld", cases[i].time, cases[i].date,
                     (long long)f.time_ms, cases[i].expected_ms);
    }
    /* 80..99 are 1980..1999 (060180 is the GPS epoch that receivers without
     * a date report): no date, no fix */
    /* a date inferred from the first day we accept must not fall before it */
    static const char *const before_2000[] = {
        "GPRMC,000000.5,A,4807.038,N,01131.000,E,0.0,,010100,,,A",
        "GPGGA,235959,4807.038,N,01131.000,E,1,08,0.9,,,,,,",
    };
    struct vg_nmea p;
    vg_nmea_init(&p);
    struct run r2 = {.n = 0};
    for (size_t i = 0; i < ARRAY_LEN(before_2000); i++)
        assert_int_equal(feed(&p, with_checksum(before_2000[i]), &r2), VG_OK);
    if (vg_nmea_flush(&p, &r2.fixes[r2.n]))
        r2.n++;
    assert_int_equal(r2.n, 1);
    assert_int_equal(r2.fixes[0].time_ms, 946684800500LL);
    assert_int_equal(p.stats.dropped_undated, 1);
    static const char *const old_dates[] = {"060180", "311299"};
    for (size_t i = 0; i < ARRAY_LEN(old_dates); i++) {
        char rmc[160];
        snprintf(rmc, sizeof rmc, "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,,%s,,,A",
                 old_dates[i]);
        struct run r;
        const char *bodies[] = {rmc};
        assert_int_equal(run_bodies(bodies, 1, &r), 0);
    }
}

static void test_no_fix_before_a_date(void **state)
{
    (void)state;
    struct vg_nmea p;
    vg_nmea_init(&p);
    struct run r = {.n = 0};
    char body[160];
    for (int s = 0; s < 4; s++) {
        snprintf(body, sizeof body, "GPGGA,1200%02d,4807.038,N,01131.000,E,1,08,0.9,,,,,,", s);
        assert_int_equal(feed(&p, with_checksum(body), &r), VG_OK);
    }
    assert_int_equal(r.n, 0);
    assert_int_equal(p.stats.dropped_undated, 3);
    /* an RMC without a date does not help */
    assert_int_equal(feed(&p, with_checksum("GPRMC,120003,A,4807.038,N,01131.000,E,0.0,,,,,A"), &r),
                     VG_OK);
    assert_int_equal(r.n, 0);
    /* the first RMC with a date: fixes from then on, GGA-only epochs too */
    assert_int_equal(
        feed(&p, with_checksum("GPRMC,120004,A,4807.038,N,01131.000,E,0.0,,230326,,,A"), &r),
        VG_OK);
    for (int s = 5; s < 8; s++) {
        snprintf(body, sizeof body, "GPGGA,1200%02d,4807.038,N,01131.000,E,1,08,0.9,,,,,,", s);
        assert_int_equal(feed(&p, with_checksum(body), &r), VG_OK);
    }
    if (vg_nmea_flush(&p, &r.fixes[r.n]))
        r.n++;
    assert_int_equal(p.stats.dropped_undated, 4);
    assert_int_equal(r.n, 4);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(r.fixes[i].time_ms, 1774267200000LL + (long long)(4 + i) * 1000);
}

static void test_midnight(void **state)
{
    (void)state;
    /* RMC on 31 December, then an epoch at 00:00:00 without RMC (skipped),
     * then GGA-only epochs, then an RMC of 1 January */
    static const char *const bodies[] = {
        "GPGGA,235958,4807.038,N,01131.000,E,1,08,0.9,,,,,,",
        "GPRMC,235958,A,4807.038,N,01131.000,E,0.0,,311224,,,A",
        "GPGGA,235959,4807.038,N,01131.000,E,1,08,0.9,,,,,,",
        "GPRMC,235959,A,4807.038,N,01131.000,E,0.0,,311224,,,A",
        "GPGGA,000000,4807.038,N,01131.000,E,1,08,0.9,,,,,,",
        "GPGGA,000001,4807.038,N,01131.000,E,1,08,0.9,,,,,,",
        "GPGGA,000002,4807.038,N,01131.000,E,1,08,0.9,,,,,,",
        "GPRMC,000002,A,4807.038,N,01131.000,E,0.0,,010125,,,A",
        "GPGGA,000003,4807.038,N,01131.000,E,1,08,0.9,,,,,,",
        "GPRMC,000003,A,4807.038,N,01131.000,E,0.0,,010125,,,A",
    };
    struct run r;
    assert_int_equal(run_bodies(bodies, ARRAY_LEN(bodies), &r), 6);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(r.fixes[i].time_ms, 1735689598000LL + (long long)i * 1000);

    /* 2 Hz across midnight, GGA only after the last RMC of the day */
    struct vg_nmea p;
    vg_nmea_init(&p);
    r.n = 0;
    feed(&p, with_checksum("GPRMC,235959.00,A,4807.038,N,01131.000,E,0.0,,311224,,,A"), &r);
    static const char *const ticks[] = {"235959.50", "000000.00", "000000.50", "000001.00"};
    for (size_t i = 0; i < ARRAY_LEN(ticks); i++) {
        char body[160];
        snprintf(body, sizeof body, "GPGGA,%s,4807.038,N,01131.000,E,1,08,0.9,,,,,,", ticks[i]);
        feed(&p, with_checksum(body), &r);
    }
    if (vg_nmea_flush(&p, &r.fixes[r.n]))
        r.n++;
    assert_int_equal(r.n, 5);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(r.fixes[i].time_ms, 1735689599000LL + (long long)i * 500);

    /* the clock steps back over midnight: the nearest day, not 24 h ahead */
    static const char *const back[] = {
        "GPRMC,000001,A,4807.038,N,01131.000,E,0.0,,010125,,,A",
        "GPGGA,235958,4807.038,N,01131.000,E,1,08,0.9,,,,,,",
    };
    assert_int_equal(run_bodies(back, 2, &r), 2);
    assert_int_equal(r.fixes[0].time_ms, 1735689601000LL);
    assert_int_equal(r.fixes[1].time_ms, 1735689598000LL);
}

/* ---- epochs, with the writers as the receiver ----------------------------- */

#define T0 1782892800000LL /* 2026-07-01T08:00:00Z */

static struct vg_fix sample_fix(int64_t t_ms, int k)
{
    return (struct vg_fix){t_ms,  47.2184 + 1e-5 * k,    -1.5536 - 2e-5 * k, 6.5f,
                           1.25f, (float)(10 * k % 360), VG_FIX_3D};
}

enum { S_GGA = 1, S_GSA = 2, S_RMC = 4, S_GST = 8 };

/* Feeds the sentences of one epoch in the order u-blox sends them (RMC,
 * GGA, GSA, GST), those in `which`; returns how many fixes came out of each
 * feed, in counts[] (RMC, GGA, GSA, GST order). */
static void feed_epoch(struct vg_nmea *p, const struct vg_fix *fix, unsigned which, struct run *r,
                       size_t counts[4])
{
    char buf[128];
    size_t (*const writers[4])(const struct vg_fix *, char *, size_t) = {
        vg_nmea_format_rmc, vg_nmea_format_gga, vg_nmea_format_gsa, vg_nmea_format_gst};
    static const unsigned bits[4] = {S_RMC, S_GGA, S_GSA, S_GST};
    for (size_t i = 0; i < 4; i++) {
        size_t before = r->n;
        if (which & bits[i]) {
            assert_true(writers[i](fix, buf, sizeof buf) > 0);
            assert_int_equal(feed(p, buf, r), VG_OK);
        }
        if (counts)
            counts[i] = r->n - before;
    }
}

static void test_emits_as_soon_as_the_epoch_is_complete(void **state)
{
    (void)state;
    struct vg_nmea p;
    vg_nmea_init(&p);
    struct run r = {.n = 0};
    unsigned all = S_RMC | S_GGA | S_GSA | S_GST;
    for (int k = 0; k < 10; k++) {
        struct vg_fix fx = sample_fix(T0 + k * 1000, k);
        size_t counts[4];
        feed_epoch(&p, &fx, all, &r, counts);
        if (k == 0) {
            /* nothing learnt yet: the first epoch waits for the second */
            assert_int_equal(r.n, 0);
        } else if (k == 1) {
            /* the first epoch comes out when the second begins, the second
             * with its last sentence */
            assert_int_equal(counts[0], 1);
            assert_int_equal(counts[3], 1);
            assert_int_equal(counts[1] + counts[2], 0);
        } else {
            /* from then on, with the epoch's last sentence, not a second later */
            assert_int_equal(counts[0] + counts[1] + counts[2], 0);
            assert_int_equal(counts[3], 1);
        }
        if (k > 0)
            assert_int_equal(r.fixes[r.n - 1].time_ms, fx.time_ms);
    }
    assert_int_equal(r.n, 10);
    assert_int_equal(vg_nmea_flush(&p, &r.fixes[0]), 0); /* nothing pending */
    assert_int_equal(vg_nmea_flush(&p, &r.fixes[0]), 0);
    assert_int_equal(p.stats.fixes, 10);
    /* a straggler of the epoch whose fix is out: ignored, no second fix */
    char buf[128];
    struct vg_fix last = sample_fix(T0 + 9000, 9);
    vg_nmea_format_gga(&last, buf, sizeof buf);
    assert_int_equal(feed(&p, buf, &r), VG_NMEA_IGNORED);
    assert_int_equal(r.n, 10);
}

static void test_a_receiver_that_skips_sentences(void **state)
{
    (void)state;
    struct vg_nmea p;
    vg_nmea_init(&p);
    struct run r = {.n = 0};
    unsigned usual = S_GGA | S_GSA | S_RMC;
    for (int k = 0; k < 12; k++) {
        struct vg_fix fx = sample_fix(T0 + k * 1000, k);
        unsigned which = usual;
        if (k == 4)
            which &= ~(unsigned)S_RMC; /* RMC lost: the epoch ends with GSA */
        if (k == 6)
            which &= ~(unsigned)S_GGA; /* GGA lost */
        if (k == 8)
            which &= ~(unsigned)S_GSA;
        size_t counts[4];
        size_t before = r.n;
        feed_epoch(&p, &fx, which, &r, counts);
        if (k == 5 || k == 7 || k == 9) {
            /* the incomplete epoch comes out as soon as the next begins
             * (with RMC, first of this receiver's order), this one at its end */
            assert_int_equal(counts[0], 1);
            assert_int_equal(r.fixes[before].time_ms, fx.time_ms - 1000);
            assert_int_equal(r.n - before, 2);
        } else if (k >= 2 && k != 4 && k != 6 && k != 8) {
            assert_int_equal(r.n - before, 1);
        }
    }
    assert_int_equal(r.n, 12);
    for (int k = 0; k < 12; k++) {
        const struct vg_fix *f = &r.fixes[k];
        struct vg_fix fx = sample_fix(T0 + k * 1000, k);
        assert_int_equal(f->time_ms, fx.time_ms);
        assert_near(f->lat_deg, fx.lat_deg, 1e-7);
        assert_near(f->lon_deg, fx.lon_deg, 1e-7);
        if (k == 4) { /* from GGA alone: no speed */
            assert_true(f->speed_mps < 0);
            assert_int_equal(f->quality, VG_FIX_3D);
        } else if (k == 6) { /* from RMC alone: no HDOP from GGA, but GSA's */
            assert_near((double)f->speed_mps, 1.25, 1e-3);
            assert_near((double)f->accuracy_m, 6.5, 0.05);
        } else {
            assert_near((double)f->speed_mps, 1.25, 1e-3);
        }
    }
}

static void test_2hz(void **state)
{
    (void)state;
    struct vg_nmea p;
    vg_nmea_init(&p);
    struct run r = {.n = 0};
    for (int k = 0; k < 20; k++) {
        struct vg_fix fx = sample_fix(T0 + k * 500, k);
        size_t before = r.n;
        feed_epoch(&p, &fx, S_RMC | S_GGA | S_GSA, &r, NULL);
        if (k >= 2) {
            assert_int_equal(r.n - before, 1);
            assert_int_equal(r.fixes[r.n - 1].time_ms, fx.time_ms);
        }
    }
    assert_int_equal(r.n, 20);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(r.fixes[i].time_ms, T0 + (int64_t)i * 500);
}

static void test_irregular_gsa_is_not_waited_for(void **state)
{
    (void)state;
    /* a SiRF that sends GSA every fifth second (gpslim236.log): after the
     * learning, the epochs without GSA are not held back waiting for it */
    struct vg_nmea p;
    vg_nmea_init(&p);
    struct run r = {.n = 0};
    int late = 0;
    for (int k = 0; k < 30; k++) {
        struct vg_fix fx = sample_fix(T0 + k * 1000, k);
        unsigned which = S_GGA | S_RMC | (k % 5 == 0 ? S_GSA : 0);
        size_t before = r.n;
        feed_epoch(&p, &fx, which, &r, NULL);
        bool on_time = r.n > before && r.fixes[r.n - 1].time_ms == fx.time_ms;
        if (k >= 5 && !on_time)
            late++;
    }
    assert_int_equal(late, 0);
}

/* ---- the writers ---------------------------------------------------------- */

static void test_round_trip(void **state)
{
    (void)state;
    struct vg_prng rng;
    vg_prng_seed(&rng, 20260701);
    for (int with_gst = 0; with_gst < 2; with_gst++) {
        struct vg_nmea p;
        vg_nmea_init(&p);
        static struct run r;
        static struct vg_fix sent[300];
        r.n = 0;
        int64_t t = VG_TIME_MIN_MS + 1000 +
                    (int64_t)(vg_prng_uniform(&rng) * 70.0 * 365 * DAY_MS) / 1000 * 1000;
        for (size_t k = 0; k < ARRAY_LEN(sent); k++) {
            struct vg_fix *fx = &sent[k];
            t += 1 + (int64_t)(vg_prng_uniform(&rng) * 3 * DAY_MS / 1000); /* ms, any gap */
            fx->time_ms = t;
            fx->quality = (uint8_t)(vg_prng_uniform(&rng) * 4);
            fx->lat_deg = vg_prng_range(&rng, -90, 90);
            fx->lon_deg = vg_prng_range(&rng, -180, 180);
            if (k % 17 == 0) { /* the extremes */
                fx->lat_deg = k % 2 ? 90.0 : -90.0;
                fx->lon_deg = k % 3 ? 180.0 : -180.0;
            }
            fx->accuracy_m = (float)exp(vg_prng_range(&rng, log(3.0), log(90000.0)));
            fx->speed_mps = k % 5 == 0 ? -1.0f : (float)vg_prng_range(&rng, 0, 1000);
            fx->heading_deg = k % 7 == 0 ? -1.0f : (float)vg_prng_range(&rng, 0, 360);
            if (fx->quality == VG_FIX_NONE)
                *fx = (struct vg_fix){t, 0, 0, 0, -1, -1, VG_FIX_NONE};
            unsigned which = S_RMC | S_GGA | S_GSA | (with_gst ? S_GST : 0);
            char buf[128];
            size_t (*const writers[4])(const struct vg_fix *, char *, size_t) = {
                vg_nmea_format_rmc, vg_nmea_format_gga, vg_nmea_format_gsa, vg_nmea_format_gst};
            for (int w = 0; w < 4; w++) {
                if (!(which & (1u << w)))
                    continue;
                size_t len = writers[w](fx, buf, sizeof buf);
                assert_true(len > 0 && len <= 82);
                assert_int_equal(len, strlen(buf));
                assert_true(buf[len - 2] == '\r' && buf[len - 1] == '\n');
            }
            feed_epoch(&p, fx, which, &r, NULL);
        }
        if (vg_nmea_flush(&p, &r.fixes[r.n]))
            r.n++;
        assert_int_equal(r.n, ARRAY_LEN(sent));
        for (size_t k = 0; k < r.n; k++) {
            const struct vg_fix *a = &sent[k], *b = &r.fixes[k];
            assert_int_equal(b->time_ms, a->time_ms);
            assert_int_equal(b->quality, a->quality);
            if (a->quality == VG_FIX_NONE)
                continue;
            /* 1e-6 minute of arc: 1.7e-8 degree */
            assert_near(b->lat_deg, a->lat_deg, 1e-8);
            assert_near(b->lon_deg, a->lon_deg, 1e-8);
            assert_near((double)b->accuracy_m, (double)a->accuracy_m,
                        0.05 + 1e-6 * (double)a->accuracy_m);
            if (a->speed_mps < 0)
                assert_true(b->speed_mps < 0);
            else
                assert_near((double)b->speed_mps, (double)a->speed_mps, 0.001 * KNOT);
            if (a->heading_deg < 0) {
                assert_true(b->heading_deg < 0);
            } else {
                double d = fabs((double)(b->heading_deg - a->heading_deg));
                assert_true(fmin(d, 360 - d) <= 0.0051);
            }
        }
    }
}

static void test_writers_refuse(void **state)
{
    (void)state;
    struct vg_fix ok = {T0, 47.2, -1.55, 5.0f, 1.0f, 90.0f, VG_FIX_3D};
    char buf[128];
    size_t len = vg_nmea_format_gga(&ok, buf, sizeof buf);
    assert_true(len > 0);
    /* exactly enough room, one byte short */
    char small[128];
    assert_int_equal(vg_nmea_format_gga(&ok, small, len + 1), len);
    assert_string_equal(small, buf);
    memset(small, 'x', sizeof small);
    assert_int_equal(vg_nmea_format_gga(&ok, small, len), 0);
    assert_int_equal(small[0], '\0');
    assert_int_equal(vg_nmea_format_rmc(&ok, small, 10), 0);
    assert_int_equal(vg_nmea_format_gsa(&ok, small, 0), 0);
    assert_int_equal(small[0], '\0');
    /* fixes that do not pass vg_fix_check */
    struct vg_fix bad = ok;
    bad.lat_deg = 91;
    assert_int_equal(vg_nmea_format_gga(&bad, buf, sizeof buf), 0);
    bad = ok;
    bad.accuracy_m = NAN;
    assert_int_equal(vg_nmea_format_gst(&bad, buf, sizeof buf), 0);
    bad = ok;
    bad.time_ms = 0;
    assert_int_equal(vg_nmea_format_rmc(&bad, buf, sizeof buf), 0);
    assert_int_equal(vg_nmea_format_gga(NULL, buf, sizeof buf), 0);
    /* RMC's two-digit year cannot say 2080 */
    bad = ok;
    bad.time_ms = 3471292800000LL; /* 2080-01-01 */
    assert_int_equal(vg_nmea_format_rmc(&bad, buf, sizeof buf), 0);
    assert_true(vg_nmea_format_gga(&bad, buf, sizeof buf) > 0);
    /* what they write, to the character */
    struct vg_fix known = {
        1153507964000LL, 48.0 + 54.2575 / 60, 2.0 + 19.9816 / 60, 16.66f, 0.0f, 296.61f, VG_FIX_3D};
    vg_nmea_format_rmc(&known, buf, sizeof buf);
    assert_string_equal(buf, "$GPRMC,185244.000,A,4854.257500,N,00219.981600,E,0.000,296.61,"
                             "210706,,,A*5C\r\n");
    vg_nmea_format_gga(&known, buf, sizeof buf);
    assert_string_equal(buf,
                        "$GPGGA,185244.000,4854.257500,N,00219.981600,E,1,,1.70,,M,,M,,*50\r\n");
}

/* ---- real recordings ------------------------------------------------------ */

/* What a recording's GGA and RMC sentences say, read here independently of
 * the parser (fields split by hand, checksum by the test's own XOR). */
struct epoch_said {
    int32_t tod_ms;
    bool no_fix; /* GGA quality 0 or 6, or RMC 'V' */
};

struct recording {
    const char *file;
    double lat, lon, box_deg; /* the area the README names */
    int fixes, with_position;
};

static int32_t tod_of(const char *f)
{
    int hh, mm;
    double ss;
    if (sscanf(f, "%2d%2d%lf", &hh, &mm, &ss) != 3)
        fail_msg("time %s", f);
    return (int32_t)((hh * 60 + mm) * 60000 + (int)floor(ss * 1000 + 1e-6));
}

static size_t replay(const char *file, struct run *r, struct epoch_said *said, size_t *n_said,
                     struct vg_nmea *p)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", nmea_dir, file);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    vg_nmea_init(p);
    r->n = 0;
    *n_said = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') /* gpsd's comments */
            continue;
        int rc = feed(p, line, r);
        if (rc < 0)
            fail_msg("%s: refused (%d): %s", file, rc, line);
        char copy[512], *fields[32];
        snprintf(copy, sizeof copy, "%s", line);
        copy[strcspn(copy, "*")] = '\0';
        int nf = 0;
        for (char *s = copy; s && nf < 32; nf++) {
            fields[nf] = s;
            s = strchr(s, ',');
            if (s)
                *s++ = '\0';
        }
        bool gga = strcmp(fields[0] + 3, "GGA") == 0, rmc = strcmp(fields[0] + 3, "RMC") == 0;
        if ((!gga && !rmc) || !*fields[1])
            continue;
        int32_t tod = tod_of(fields[1]);
        if (*n_said == 0 || said[*n_said - 1].tod_ms != tod)
            said[(*n_said)++] = (struct epoch_said){tod, false};
        if ((gga && (atoi(fields[6]) == 0 || atoi(fields[6]) == 6)) ||
            (rmc && strcmp(fields[2], "V") == 0))
            said[*n_said - 1].no_fix = true;
    }
    fclose(f);
    if (vg_nmea_flush(p, &r->fixes[r->n]))
        r->n++;
    return r->n;
}

static void test_real_recordings(void **state)
{
    (void)state;
    static const struct recording recs[] = {
        {"gpslim236.log", 48.90, 2.33, 0.01, 20, 20},
        {"motorola-t805.log", 48.67, 2.25, 0.01, 25, 16},
        {"haicom-305N.log", -27.2, 153.0, 0.1, 74, 68},
        {"bt451.log", 55.8, 23.6, 0.1, 14, 14},
        {"garmin-10x.log", 41.7, -83.6, 0.1, 14, 9},
    };
    for (size_t k = 0; k < ARRAY_LEN(recs); k++) {
        static struct run r;
        static struct epoch_said said[MAX_FIXES];
        struct vg_nmea p;
        size_t n_said;
        replay(recs[k].file, &r, said, &n_said, &p);
        int with_position = 0;
        for (size_t i = 0; i < r.n; i++)
            with_position += r.fixes[i].quality != VG_FIX_NONE;
        print_message("  %-18s %3zu fixes (%d with a position), %llu sentences used, %llu "
                      "ignored\n",
                      recs[k].file, r.n, with_position, (unsigned long long)p.stats.accepted,
                      (unsigned long long)p.stats.ignored);
        /* one fix per epoch the receiver sent, in order, none refused */
        assert_int_equal(r.n, n_said);
        assert_int_equal(r.n, recs[k].fixes);
        assert_int_equal(with_position, recs[k].with_position);
        assert_int_equal(p.stats.refused, 0);
        assert_int_equal(p.stats.dropped_undated, 0);
        for (size_t i = 0; i < r.n; i++) {
            const struct vg_fix *f = &r.fixes[i];
            assert_int_equal(vg_fix_check(f), VG_OK);
            assert_int_equal(f->time_ms % DAY_MS, said[i].tod_ms);
            /* no fix while the receiver says no fix, and only then */
            if (said[i].no_fix != (f->quality == VG_FIX_NONE))
                fail_msg("%s, epoch %zu: quality %d, receiver says no fix: %d", recs[k].file, i,
                         f->quality, said[i].no_fix);
            if (f->quality == VG_FIX_NONE)
                continue;
            assert_true(fabs(f->lat_deg - recs[k].lat) <= recs[k].box_deg);
            assert_true(fabs(f->lon_deg - recs[k].lon) <= recs[k].box_deg);
            assert_true(f->accuracy_m >= VG_FIX_MIN_ACCURACY_M && f->accuracy_m < 250.0f);
        }
    }
}

static void test_real_recordings_details(void **state)
{
    (void)state;
    static struct run r;
    static struct epoch_said said[MAX_FIXES];
    struct vg_nmea p;
    size_t n_said;

    /* garmin: 3D, 3D, 2D (GSA 2, three satellites), dead reckoning (GGA 6,
     * RMC V/E) and four epochs without a fix, then 2D and five 3D */
    replay("garmin-10x.log", &r, said, &n_said, &p);
    static const int garmin[] = {VG_FIX_3D,   VG_FIX_3D,   VG_FIX_2D,   VG_FIX_NONE, VG_FIX_NONE,
                                 VG_FIX_NONE, VG_FIX_NONE, VG_FIX_NONE, VG_FIX_2D,   VG_FIX_3D,
                                 VG_FIX_3D,   VG_FIX_3D,   VG_FIX_3D,   VG_FIX_3D};
    assert_int_equal(r.n, ARRAY_LEN(garmin));
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(r.fixes[i].quality, garmin[i]);
    assert_int_equal(r.fixes[0].time_ms, 1279471807000LL); /* 2010-07-18T16:50:07Z */
    assert_near(r.fixes[0].lat_deg, 41 + 43.6058 / 60, 1e-10);
    assert_near(r.fixes[0].lon_deg, -(83 + 38.0778 / 60), 1e-10);
    assert_near((double)r.fixes[0].accuracy_m, 1.96 * VG_NMEA_UERE_M * 1.5, 1e-3);
    assert_near((double)r.fixes[0].speed_mps, 0.55 * KNOT, 1e-5);
    assert_near((double)r.fixes[0].heading_deg, 36.58, 1e-4);

    /* bt451 at 2 Hz: the stationary block, then the car. Each step of the
     * car agrees with the speed and the course its receiver reports. */
    replay("bt451.log", &r, said, &n_said, &p);
    assert_int_equal(r.n, 14);
    assert_int_equal(r.fixes[0].time_ms, 1260372305000LL); /* 2009-12-09T15:25:05Z */
    for (size_t i = 1; i < 8; i++)
        assert_int_equal(r.fixes[i].time_ms - r.fixes[i - 1].time_ms, 500);
    assert_int_equal(r.fixes[8].time_ms, 1260369186000LL); /* 14:33:06, same day, earlier */
    int steps = 0;
    for (size_t i = 9; i < r.n; i++) {
        const struct vg_fix *a = &r.fixes[i - 1], *b = &r.fixes[i];
        assert_int_equal(b->time_ms - a->time_ms, 500);
        assert_true(b->speed_mps > 15.0f && b->speed_mps < 17.0f); /* 30..32 knots */
        double d, bearing;
        assert_int_equal(vg_geo_inverse((struct vg_geo_point){a->lat_deg, a->lon_deg},
                                        (struct vg_geo_point){b->lat_deg, b->lon_deg}, &d,
                                        &bearing),
                         VG_OK);
        double v = d / 0.5;
        assert_true(fabs(v - (double)b->speed_mps) < 0.1 * (double)b->speed_mps);
        assert_true(fabs(bearing - (double)b->heading_deg) < 3.0);
        steps++;
    }
    assert_int_equal(steps, 5);
    /* still at the window in the stationary block: all within 2 metres */
    for (size_t i = 1; i < 8; i++) {
        double d;
        vg_geo_inverse((struct vg_geo_point){r.fixes[0].lat_deg, r.fixes[0].lon_deg},
                       (struct vg_geo_point){r.fixes[i].lat_deg, r.fixes[i].lon_deg}, &d, NULL);
        assert_true(d < 2.0);
    }

    /* gpslim236: GSA every fifth second; every fix 3D, HDOP 1.7 */
    replay("gpslim236.log", &r, said, &n_said, &p);
    for (size_t i = 0; i < r.n; i++) {
        assert_int_equal(r.fixes[i].quality, VG_FIX_3D);
        assert_near((double)r.fixes[i].accuracy_m, 1.96 * VG_NMEA_UERE_M * 1.7, 1e-3);
        assert_int_equal(r.fixes[i].time_ms, 1153507964000LL + (int64_t)i * 1000);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        nmea_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_sentences_and_line_ends),
        cmocka_unit_test(test_refusals_leave_the_state_alone),
        cmocka_unit_test(test_line_length),
        cmocka_unit_test(test_ignored_sentences),
        cmocka_unit_test(test_coordinates),
        cmocka_unit_test(test_talkers),
        cmocka_unit_test(test_quality),
        cmocka_unit_test(test_r95_holds_95_percent),
        cmocka_unit_test(test_accuracy),
        cmocka_unit_test(test_speed_and_heading),
        cmocka_unit_test(test_time_and_date),
        cmocka_unit_test(test_no_fix_before_a_date),
        cmocka_unit_test(test_midnight),
        cmocka_unit_test(test_emits_as_soon_as_the_epoch_is_complete),
        cmocka_unit_test(test_a_receiver_that_skips_sentences),
        cmocka_unit_test(test_2hz),
        cmocka_unit_test(test_irregular_gsa_is_not_waited_for),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_writers_refuse),
        cmocka_unit_test(test_real_recordings),
        cmocka_unit_test(test_real_recordings_details),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
