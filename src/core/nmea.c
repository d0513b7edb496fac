/* NMEA 0183 sentences to fixes, and fixes to sentences (docs/NMEA.md).
 *
 * A sentence is checked whole (framing, bytes, checksum, every field it
 * uses) into a local `struct sentence` before anything in the parser's
 * state moves: a refusal changes nothing but the counter. */
#include "core/nmea.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/civil.h"
#include "core/err.h"

#define DAY_MS      86400000LL
#define KNOT_MPS    (1852.0 / 3600.0)
#define MAX_FIELDS  64
#define DIGITS_KEPT 15 /* significant digits a number keeps: exact in a double */

/* 95% radius of a 2-D normal error, per 1-sigma principal axis: along one
 * axis alone it is the 1-D two-sided 95% quantile; for a circular error
 * sqrt(2 ln 20) (the Rayleigh distribution). */
#define K95_LINEAR   1.959963985
#define K95_CIRCULAR 2.447746831
/* HDOP x UERE is the root of the summed horizontal variances (DRMS); the
 * 95% radius of an error with that DRMS is between 1.73 DRMS (circular)
 * and 1.96 DRMS (all along one axis). The shape is unknown: the larger. */
#define HDOP_TO_R95_M (K95_LINEAR * VG_NMEA_UERE_M)

enum sentence_type {
    T_OTHER = 0,
    T_GGA = 1,
    T_RMC = 2,
    T_GSA = 4,
    T_GST = 8,
};

struct field {
    const char *s;
    size_t n;
};

/* One sentence, read and checked, not yet applied. */
struct sentence {
    enum sentence_type type;
    bool has_time;
    int32_t tod_ms;
    /* GGA */
    int8_t quality, sats;
    bool has_pos;
    double lat, lon;
    float hdop;
    /* RMC */
    int8_t rmc_valid;
    bool differential;
    float speed_mps, heading_deg;
    int64_t day;
    /* GSA */
    int8_t gsa_mode;
    /* GST */
    float r95_m;
};

/* ---- reading fields ---------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool field_is(struct field f, char c)
{
    return f.n == 1 && f.s[0] == c;
}

/* n decimal digits at s as an integer. */
static int digits_value(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* A decimal number "[-]ddd[.ddd]" (at least one digit). Our own reader
 * rather than strtod: strtod follows the locale's decimal point, and the
 * core must read '.' whatever the program around it set. The first
 * DIGITS_KEPT significant digits are kept (further fraction digits are
 * checked and dropped; an integer part longer than that is refused). */
static int read_number(struct field f, double *out)
{
    size_t i = 0;
    bool negative = false;
    if (i < f.n && f.s[i] == '-') {
        negative = true;
        i++;
    }
    int64_t mantissa = 0;
    int kept = 0, scale = 0, digits = 0;
    bool point = false;
    for (; i < f.n; i++) {
        char c = f.s[i];
        if (c == '.' && !point) {
            point = true;
            continue;
        }
        if (!is_digit(c))
            return VG_EFORMAT;
        digits++;
        if (kept == 0 && c == '0') {
            if (point)
                scale++;
            continue; /* leading zeros are not significant */
        }
        if (kept < DIGITS_KEPT) {
            mantissa = mantissa * 10 + (c - '0');
            kept++;
            if (point)
                scale++;
        } else if (!point) {
            return VG_EFORMAT; /* absurdly large */
        }
    }
    if (digits == 0)
        return VG_EFORMAT;
    /* both exact in a double: one correctly rounded division */
    double v = (double)mantissa / pow(10.0, scale);
    *out = negative ? -v : v;
    return VG_OK;
}

/* "hhmmss[.sss...]" to milliseconds of the day (fraction truncated to the
 * millisecond). A leap second (ss = 60) keeps its own key: 86400000 and up. */
static int read_time(struct field f, int32_t *tod_ms)
{
    if (f.n < 6)
        return VG_EFORMAT;
    for (size_t i = 0; i < 6; i++)
        if (!is_digit(f.s[i]))
            return VG_EFORMAT;
    int hh = digits_value(f.s, 2), mm = digits_value(f.s + 2, 2), ss = digits_value(f.s + 4, 2);
    if (hh > 23 || mm > 59 || ss > 60)
        return VG_EFORMAT;
    int ms = 0;
    if (f.n > 6) {
        if (f.s[6] != '.')
            return VG_EFORMAT;
        int scale = 100;
        for (size_t i = 7; i < f.n; i++) {
            if (!is_digit(f.s[i]))
                return VG_EFORMAT;
            ms += (f.s[i] - '0') * scale;
            scale /= 10;
        }
    }
    *tod_ms = ((hh * 60 + mm) * 60 + ss) * 1000 + ms;
    return VG_OK;
}

/* "ddmmyy" to a day number. Two-digit years: 80..99 are 1980..1999 (the
 * GPS epoch is 1980: receivers that do not know the date yet often say
 * 060180) and so unknown to us (*known = false); 00..79 are 2000..2079. */
static int read_date(struct field f, int64_t *day, bool *known)
{
    if (f.n != 6)
        return VG_EFORMAT;
    for (size_t i = 0; i < 6; i++)
        if (!is_digit(f.s[i]))
            return VG_EFORMAT;
    int yy = digits_value(f.s + 4, 2);
    struct vg_date d = {yy < 80 ? 2000 + yy : 1900 + yy, (uint8_t)digits_value(f.s + 2, 2),
                        (uint8_t)digits_value(f.s, 2)};
    if (vg_date_check(d) != VG_OK)
        return VG_EFORMAT; /* 31 April, month 13... */
    *known = d.year >= 2000;
    *day = vg_date_to_days(d);
    return VG_OK;
}

/* "ddmm.mmmm" (latitude, deg_digits 2) or "dddmm.mmmm" (longitude, 3), one
 * fewer degree digit tolerated, with its hemisphere: decimal degrees. The
 * degrees and minutes are joined in integers, so that the one division
 * rounds once: 4854.2575 N is 29342575 / 600000 exactly rounded. */
static int read_angle(struct field f, struct field hemi, size_t deg_digits, char pos, char neg,
                      double max_deg, double *out)
{
    size_t int_len = 0;
    while (int_len < f.n && is_digit(f.s[int_len]))
        int_len++;
    if (int_len < deg_digits + 1 || int_len > deg_digits + 2)
        return VG_EFORMAT;
    if (int_len < f.n && f.s[int_len] != '.')
        return VG_EFORMAT;
    int64_t degrees = digits_value(f.s, int_len - 2);
    int64_t frac = 0, scale = 1;
    for (size_t i = int_len + 1; i < f.n; i++) {
        if (!is_digit(f.s[i]))
            return VG_EFORMAT;
        if (scale < 1000000000LL) { /* 1e-9 minute: 2 micrometres; more is noise */
            frac = frac * 10 + (f.s[i] - '0');
            scale *= 10;
        }
    }
    int64_t minutes = digits_value(f.s + int_len - 2, 2);
    if (minutes >= 60)
        return VG_EFORMAT;
    /* at most 180 * 60 * 1e9 = 1.08e13: exact in a double */
    int64_t num = (degrees * 60 + minutes) * scale + frac;
    double v = (double)num / (60.0 * (double)scale);
    if (v > max_deg)
        return VG_EFORMAT;
    if (field_is(hemi, pos))
        *out = v;
    else if (field_is(hemi, neg))
        *out = -v;
    else
        return VG_EFORMAT;
    return VG_OK;
}

/* A position: both coordinates or neither (*has = false). */
static int read_position(const struct field *fl, bool *has, double *lat, double *lon)
{
    bool none = fl[0].n == 0 && fl[1].n == 0 && fl[2].n == 0 && fl[3].n == 0;
    if (none) {
        *has = false;
        return VG_OK;
    }
    int rc = read_angle(fl[0], fl[1], 2, 'N', 'S', 90.0, lat);
    if (rc == VG_OK)
        rc = read_angle(fl[2], fl[3], 3, 'E', 'W', 180.0, lon);
    *has = rc == VG_OK;
    return rc;
}

/* An optional non-negative quantity: empty, negative or beyond `max` is
 * unknown (-1); what is not a number is refused. */
static int read_optional(struct field f, double max, double *out)
{
    *out = -1.0;
    if (f.n == 0)
        return VG_OK;
    double v;
    if (read_number(f, &v) != VG_OK)
        return VG_EFORMAT;
    if (v >= 0.0 && v <= max)
        *out = v;
    return VG_OK;
}

/* A small non-negative integer field, -1 when empty. */
static int read_small_int(struct field f, int max, int8_t *out)
{
    *out = -1;
    if (f.n == 0)
        return VG_OK;
    if (f.n > 3)
        return VG_EFORMAT;
    for (size_t i = 0; i < f.n; i++)
        if (!is_digit(f.s[i]))
            return VG_EFORMAT;
    int v = digits_value(f.s, f.n);
    if (v > max)
        return VG_EFORMAT;
    *out = (int8_t)v;
    return VG_OK;
}

double vg_nmea_r95(double sigma_a, double sigma_b)
{
    double a = fmax(fabs(sigma_a), fabs(sigma_b)), b = fmin(fabs(sigma_a), fabs(sigma_b));
    if (!(a > 0.0))
        return 0.0;
    /* Exact at both ends (b = 0: 1.96 a; b = a: 2.4477 a) and above the
     * true 95% radius in between, by at most 2.7% (near b = 0.6 a, where
     * it holds 95.65%; tests/unit/test_nmea.c integrates the normal law to
     * check it): too large errs on the side the alarm engine prefers. */
    double r = b / a;
    return a * (K95_LINEAR + (K95_CIRCULAR - K95_LINEAR) * r * r);
}

/* ---- sentences ----------------------------------------------------------- */

/* The time field of a timed sentence: empty means the sentence cannot be
 * placed in an epoch (receivers without a time say so that way). */
static int read_sentence_time(struct field f, struct sentence *s)
{
    if (f.n == 0)
        return VG_OK;
    s->has_time = true;
    return read_time(f, &s->tod_ms);
}

/* GGA: 1 time, 2-5 position, 6 quality, 7 satellites, 8 HDOP, 9.. altitude
 * and geoid (not used). */
static int read_gga(const struct field *fl, size_t nf, struct sentence *s)
{
    if (nf < 7)
        return VG_EFORMAT;
    int rc = read_sentence_time(fl[1], s);
    if (rc == VG_OK)
        rc = read_position(fl + 2, &s->has_pos, &s->lat, &s->lon);
    if (rc == VG_OK)
        rc = read_small_int(fl[6], 99, &s->quality);
    if (rc == VG_OK && nf > 7)
        rc = read_small_int(fl[7], 99, &s->sats);
    double hdop = -1.0;
    if (rc == VG_OK && nf > 8)
        rc = read_optional(fl[8], 1e4, &hdop);
    s->hdop = (float)hdop;
    return rc;
}

/* RMC: 1 time, 2 status, 3-6 position, 7 speed (knots), 8 course, 9 date,
 * 10-11 magnetic variation (not used: some SiRF firmware drop field 11 and
 * shift the mode there, so the mode is read at 12 only), 12 mode (NMEA
 * 2.3), 13 navigational status (NMEA 4.1). */
static int read_rmc(const struct field *fl, size_t nf, struct sentence *s)
{
    if (nf < 10)
        return VG_EFORMAT;
    int rc = read_sentence_time(fl[1], s);
    if (rc != VG_OK)
        return rc;
    if (field_is(fl[2], 'A'))
        s->rmc_valid = 1;
    else if (field_is(fl[2], 'V'))
        s->rmc_valid = 0;
    else if (fl[2].n != 0)
        return VG_EFORMAT;
    if (nf > 12 && fl[12].n != 0) {
        if (fl[12].n != 1)
            return VG_EFORMAT;
        switch (fl[12].s[0]) {
        case 'A': /* autonomous */
        case 'P': /* precise */ break;
        case 'D': /* differential */
        case 'R': /* RTK fixed */
        case 'F': /* RTK float */ s->differential = true; break;
        default:
            /* N not valid, E estimated (dead reckoning), M manual input,
             * S simulator, and letters we do not know: no measurement */
            s->rmc_valid = 0;
            break;
        }
    }
    if (nf > 13 && field_is(fl[13], 'V'))
        s->rmc_valid = 0;
    if ((rc = read_position(fl + 3, &s->has_pos, &s->lat, &s->lon)) != VG_OK)
        return rc;
    double knots, course;
    if ((rc = read_optional(fl[7], (double)VG_FIX_MAX_SPEED_MPS / KNOT_MPS, &knots)) != VG_OK)
        return rc;
    if ((rc = read_optional(fl[8], 360.0, &course)) != VG_OK)
        return rc;
    s->speed_mps = knots < 0 ? -1.0f : (float)(knots * KNOT_MPS);
    /* float rounding must not make a course of 359.999999 read 360 */
    float heading = (float)course;
    s->heading_deg = course >= 0 && heading < 360.0f ? heading : course >= 0 ? 0.0f : -1.0f;
    if (fl[9].n != 0) {
        bool known;
        int64_t day;
        if ((rc = read_date(fl[9], &day, &known)) != VG_OK)
            return rc;
        if (known)
            s->day = day;
    }
    return VG_OK;
}

/* GSA: 1 selection (A/M), 2 fix type (1 none, 2 = 2D, 3 = 3D), 3-14
 * satellites, 15 PDOP, 16 HDOP, 17 VDOP, 18 system (NMEA 4.1). */
static int read_gsa(const struct field *fl, size_t nf, struct sentence *s)
{
    if (nf < 3)
        return VG_EFORMAT;
    if (fl[2].n != 0) {
        if (fl[2].n != 1 || fl[2].s[0] < '1' || fl[2].s[0] > '3')
            return VG_EFORMAT;
        s->gsa_mode = (int8_t)(fl[2].s[0] - '0');
    }
    /* the DOPs are where the standard puts them only with 12 satellite
     * fields; a sentence of another length has no HDOP we can trust */
    double hdop = -1.0;
    if (nf == 18 || nf == 19) {
        int rc = read_optional(fl[16], 1e4, &hdop);
        if (rc != VG_OK)
            return rc;
    }
    s->hdop = (float)hdop;
    return VG_OK;
}

/* GST: 1 time, 2 RMS of the range residuals, 3-4 1-sigma semi-major and
 * semi-minor axes of the error ellipse, 5 its orientation, 6-7 1-sigma
 * latitude and longitude errors, 8 altitude error (metres). */
static int read_gst(const struct field *fl, size_t nf, struct sentence *s)
{
    if (nf < 8)
        return VG_EFORMAT;
    int rc = read_sentence_time(fl[1], s);
    if (rc != VG_OK)
        return rc;
    double v[4];
    static const size_t idx[4] = {3, 4, 6, 7};
    for (size_t i = 0; i < 4; i++)
        if ((rc = read_optional(fl[idx[i]], 1e6, &v[i])) != VG_OK)
            return rc;
    /* The ellipse's axes are the principal axes; the latitude and longitude
     * sigmas ignore their correlation. Both are used when given, and the
     * larger radius kept. */
    double r95 = -1.0;
    if (v[0] >= 0 && v[1] >= 0)
        r95 = vg_nmea_r95(v[0], v[1]);
    if (v[2] >= 0 && v[3] >= 0)
        r95 = fmax(r95, vg_nmea_r95(v[2], v[3]));
    s->r95_m = (float)r95;
    return VG_OK;
}

/* Framing, bytes and checksum; then the fields of the types we read. */
static int read_sentence(const char *line, size_t len, struct sentence *s)
{
    *s = (struct sentence){.quality = -1,
                           .sats = -1,
                           .hdop = -1.0f,
                           .rmc_valid = -1,
                           .speed_mps = -1.0f,
                           .heading_deg = -1.0f,
                           .day = INT64_MIN,
                           .r95_m = -1.0f};
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len > VG_NMEA_MAX_LINE)
        return VG_ERANGE;
    /* '$', an address of at least two characters, '*', two hex digits */
    if (len < 6 || line[0] != '$' || line[len - 3] != '*')
        return VG_EFORMAT;
    size_t star = len - 3;
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c > 0x7e)
            return VG_EFORMAT;
        /* '$' and '*' are reserved: inside a sentence they mean two
         * sentences run together (a lost line end) */
        if (i > 0 && i != star && (c == '$' || c == '*'))
            return VG_EFORMAT;
        if (i > 0 && i < star)
            sum ^= c;
    }
    int hi = hex_value(line[star + 1]), lo = hex_value(line[star + 2]);
    if (hi < 0 || lo < 0 || (unsigned)(hi * 16 + lo) != sum)
        return VG_EFORMAT;

    struct field fl[MAX_FIELDS];
    size_t nf = 0;
    const char *p = line + 1, *end = line + star;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (nf < MAX_FIELDS)
            fl[nf] = (struct field){p, (size_t)(stop - p)};
        nf++;
        if (!comma)
            break;
        p = comma + 1;
    }
    struct field addr = fl[0];
    if (addr.n >= 2 && addr.s[0] == 'P')
        return VG_OK; /* proprietary ($PUBX, $PGRME, $PMTK...): T_OTHER */
    if (addr.n != 5)
        return VG_EFORMAT;
    for (size_t i = 0; i < 5; i++)
        if (addr.s[i] < 'A' || addr.s[i] > 'Z')
            return VG_EFORMAT;
    static const struct {
        char name[4];
        enum sentence_type type;
        int (*read)(const struct field *, size_t, struct sentence *);
    } types[] = {
        {"GGA", T_GGA, read_gga},
        {"RMC", T_RMC, read_rmc},
        {"GSA", T_GSA, read_gsa},
        {"GST", T_GST, read_gst},
    };
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        if (memcmp(addr.s + 2, types[t].name, 3) != 0)
            continue;
        if (nf > MAX_FIELDS)
            return VG_EFORMAT;
        s->type = types[t].type;
        return types[t].read(fl, nf, s);
    }
    return VG_OK; /* GSV, VTG, GLL, ZDA, TXT...: T_OTHER */
}

/* ---- epochs -------------------------------------------------------------- */

static void epoch_init(struct vg__nmea_epoch *e, int32_t tod_ms)
{
    *e = (struct vg__nmea_epoch){
        .tod_ms = tod_ms,
        .gga_quality = -1,
        .gga_sats = -1,
        .gga_hdop = -1.0f,
        .rmc_valid = -1,
        .rmc_speed_mps = -1.0f,
        .rmc_heading_deg = -1.0f,
        .rmc_day = INT64_MIN,
        .gsa_hdop = -1.0f,
        .gst_r95_m = -1.0f,
    };
}

static void epoch_merge(struct vg__nmea_epoch *e, const struct sentence *s)
{
    e->seen |= (uint8_t)s->type;
    switch (s->type) {
    case T_GGA:
        e->gga_quality = s->quality;
        e->gga_sats = s->sats;
        e->gga_has_pos = s->has_pos;
        e->gga_lat = s->lat;
        e->gga_lon = s->lon;
        e->gga_hdop = s->hdop;
        break;
    case T_RMC:
        e->rmc_valid = s->rmc_valid;
        e->rmc_differential = s->differential;
        e->rmc_has_pos = s->has_pos;
        e->rmc_lat = s->lat;
        e->rmc_lon = s->lon;
        e->rmc_speed_mps = s->speed_mps;
        e->rmc_heading_deg = s->heading_deg;
        e->rmc_day = s->day;
        break;
    case T_GSA:
        /* multi-constellation receivers send one GSA per system, with the
         * same fix type and DOPs: keep the best type and the first HDOP */
        if (s->gsa_mode > e->gsa_mode)
            e->gsa_mode = s->gsa_mode;
        if (!(e->gsa_hdop > 0.0f))
            e->gsa_hdop = s->hdop;
        break;
    case T_GST: e->gst_r95_m = s->r95_m; break;
    case T_OTHER: break;
    }
}

/* The types this receiver sends every epoch, learnt from the last closed
 * epochs: after one epoch, its types; after three, the types present in at
 * least two of the last three. A sentence sent now and then (GSA every
 * fifth second) is not waited for, and one skipped sentence does not make
 * the parser stop waiting for its type. 0 while nothing is learnt. */
static uint8_t expected_types(const struct vg_nmea *p)
{
    if (p->n_history < VG__NMEA_HISTORY)
        return p->n_history ? p->history[0] : 0;
    uint8_t expected = 0;
    for (uint8_t bit = 1; bit <= T_GST; bit = (uint8_t)(bit << 1)) {
        int n = 0;
        for (size_t i = 0; i < VG__NMEA_HISTORY; i++)
            n += (p->history[i] & bit) != 0;
        if (2 * n > VG__NMEA_HISTORY)
            expected |= bit;
    }
    return expected;
}

/* UTC of the epoch: its own RMC's date, or else the date that puts it
 * nearest (within 12 hours) the last dated epoch: a GGA at 00:00:00 after
 * an RMC of 23:59:59 is on the next day. false while no date is known. */
static bool epoch_time(const struct vg_nmea *p, const struct vg__nmea_epoch *e, int64_t *t_ms)
{
    /* UTC milliseconds have no room for a leap second: 23:59:60.x is put
     * at 23:59:59.999, after the second before it and before midnight */
    int64_t tod = e->tod_ms < DAY_MS ? e->tod_ms : DAY_MS - 1;
    int64_t t;
    if (e->rmc_day != INT64_MIN) {
        t = e->rmc_day * DAY_MS + tod;
    } else if (p->ref_time_ms >= 0) {
        t = vg_floor_div(p->ref_time_ms, DAY_MS) * DAY_MS + tod;
        if (t - p->ref_time_ms > DAY_MS / 2)
            t -= DAY_MS;
        else if (p->ref_time_ms - t > DAY_MS / 2)
            t += DAY_MS;
    } else {
        return false;
    }
    if (t < VG_TIME_MIN_MS || t >= VG_TIME_MAX_MS)
        return false;
    *t_ms = t;
    return true;
}

static float clamp_accuracy(double r95)
{
    if (r95 < (double)VG_FIX_MIN_ACCURACY_M)
        return VG_FIX_MIN_ACCURACY_M;
    if (r95 > (double)VG_FIX_MAX_ACCURACY_M)
        return VG_FIX_MAX_ACCURACY_M;
    return (float)r95;
}

/* What the epoch says, as a fix. false if it says nothing (no GGA, no RMC). */
static bool epoch_fix(const struct vg__nmea_epoch *e, int64_t t_ms, struct vg_fix *fix)
{
    if (!(e->seen & (T_GGA | T_RMC)))
        return false;
    *fix = (struct vg_fix){
        .time_ms = t_ms, .speed_mps = -1.0f, .heading_deg = -1.0f, .quality = VG_FIX_NONE};
    /* GGA quality: 1 GPS, 2 DGPS, 3 PPS, 4 RTK fixed, 5 RTK float are
     * measurements. 6 is dead reckoning: the receiver extrapolating its last
     * position with no satellite behind it, an estimate that drifts without
     * bound while claiming the confidence of a fix; the centre must see
     * "no fix" then, not a position nobody measured. 7 manual input and 8
     * simulator are not measurements either; 0 and values beyond the
     * standard mean no fix. */
    int gga = e->gga_quality < 0 ? -1 : (e->gga_quality >= 1 && e->gga_quality <= 5);
    int rmc = e->rmc_valid;
    /* one source saying "no fix" is enough: the position is not trusted */
    if (gga == 0 || rmc == 0 || (gga != 1 && rmc != 1))
        return true;
    if (gga == 1 && e->gga_has_pos) {
        fix->lat_deg = e->gga_lat;
        fix->lon_deg = e->gga_lon;
    } else if (rmc == 1 && e->rmc_has_pos) {
        fix->lat_deg = e->rmc_lat;
        fix->lon_deg = e->rmc_lon;
    } else {
        return true; /* valid, says the receiver, but where? no fix */
    }
    if (e->gga_quality == 2 || e->gga_quality == 4 || e->gga_quality == 5 || e->rmc_differential)
        fix->quality = VG_FIX_DGNSS;
    else if (e->gsa_mode == 3 || (e->gsa_mode != 2 && e->gga_sats >= 4))
        fix->quality = VG_FIX_3D;
    else
        fix->quality = VG_FIX_2D; /* nothing says it solved the height */
    double r95;
    if (e->gst_r95_m >= 0.0f)
        r95 = (double)e->gst_r95_m;
    else if (e->gga_hdop > 0.0f)
        r95 = HDOP_TO_R95_M * (double)e->gga_hdop;
    else if (e->gsa_hdop > 0.0f)
        r95 = HDOP_TO_R95_M * (double)e->gsa_hdop;
    else
        r95 = (double)VG_NMEA_UNKNOWN_ACCURACY_M;
    fix->accuracy_m = clamp_accuracy(r95);
    if (rmc == 1) {
        fix->speed_mps = e->rmc_speed_mps;
        fix->heading_deg = e->rmc_heading_deg;
    }
    return true;
}

/* Emits the open epoch if it can be dated and says something. */
static bool emit(struct vg_nmea *p, struct vg_fix *out)
{
    int64_t t;
    if (!epoch_time(p, &p->cur, &t) || !epoch_fix(&p->cur, t, out))
        return false;
    assert(vg_fix_check(out) == VG_OK);
    p->cur.emitted = true;
    p->ref_time_ms = t;
    p->stats.fixes++;
    return true;
}

/* Closes the open epoch: its fix goes out now if it has not yet, and its
 * types are learnt. */
static size_t close_epoch(struct vg_nmea *p, struct vg_fix *out)
{
    size_t n = 0;
    if (!p->cur.emitted) {
        if (emit(p, out))
            n = 1;
        else if (p->cur.seen & (T_GGA | T_RMC))
            p->stats.dropped_undated++;
    } else {
        int64_t t; /* an RMC after the fix went out may still date it */
        if (epoch_time(p, &p->cur, &t))
            p->ref_time_ms = t;
    }
    memmove(p->history + 1, p->history, VG__NMEA_HISTORY - 1);
    p->history[0] = p->cur.seen;
    if (p->n_history < VG__NMEA_HISTORY)
        p->n_history++;
    p->last_closed_tod_ms = p->cur.tod_ms;
    p->open = false;
    return n;
}

void vg_nmea_init(struct vg_nmea *p)
{
    memset(p, 0, sizeof *p);
    p->last_closed_tod_ms = -1;
    p->ref_time_ms = -1;
}

int vg_nmea_feed(struct vg_nmea *p, const char *line, size_t len,
                 struct vg_fix out[VG_NMEA_MAX_OUT], size_t *n_out)
{
    assert(p && out && n_out);
    *n_out = 0;
    struct sentence s;
    int rc = line ? read_sentence(line, len, &s) : VG_EFORMAT;
    if (rc != VG_OK) {
        p->stats.refused++;
        return rc;
    }
    if (s.type == T_OTHER) {
        p->stats.ignored++;
        return VG_NMEA_IGNORED;
    }
    if (s.type == T_GSA) {
        /* no time: it belongs to the epoch open when it arrives (every
         * common receiver sends it after the epoch's GGA or RMC) */
        if (!p->open) {
            p->stats.ignored++;
            return VG_NMEA_IGNORED;
        }
    } else if (!s.has_time) {
        p->stats.ignored++;
        return VG_NMEA_IGNORED;
    } else if (!p->open || s.tod_ms != p->cur.tod_ms) {
        if (s.tod_ms == p->last_closed_tod_ms) {
            /* a straggler of the epoch just closed: its fix is out */
            p->stats.ignored++;
            return VG_NMEA_IGNORED;
        }
        /* a newer epoch (or the receiver's clock stepped back: a new
         * epoch too, never a stall) */
        if (p->open)
            *n_out += close_epoch(p, out);
        epoch_init(&p->cur, s.tod_ms);
        p->open = true;
    }
    epoch_merge(&p->cur, &s);
    p->stats.accepted++;
    uint8_t expected = expected_types(p);
    if (!p->cur.emitted && expected != 0 && (p->cur.seen & expected) == expected &&
        emit(p, &out[*n_out]))
        (*n_out)++;
    return VG_OK;
}

int vg_nmea_flush(struct vg_nmea *p, struct vg_fix *out)
{
    assert(p && out);
    if (!p->open)
        return 0;
    return (int)close_epoch(p, out);
}

/* ---- writers ------------------------------------------------------------- */

struct writer {
    char *buf;
    size_t size, len;
    bool overflow;
};

#if defined(__GNUC__)
#define VG__NMEA_PRINTF __attribute__((format(printf, 2, 3)))
#else
#define VG__NMEA_PRINTF
#endif

static VG__NMEA_PRINTF void put(struct writer *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = w->len < w->size ? w->size - w->len : 0;
    int n = vsnprintf(w->buf + w->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        w->overflow = true;
    else
        w->len += (size_t)n;
}

/* Starts "$GPxxx" and the time of day of the fix. */
static void put_head(struct writer *w, const char *type, int64_t time_ms)
{
    int64_t tod = vg_floor_mod(time_ms, DAY_MS);
    put(w, "$GP%s,%02d%02d%02d.%03d", type, (int)(tod / 3600000), (int)(tod / 60000 % 60),
        (int)(tod / 1000 % 60), (int)(tod % 1000));
}

/* ",ddmm.mmmmmm,N,dddmm.mmmmmm,E" (integers only: locale-proof). */
static void put_position(struct writer *w, const struct vg_fix *fix)
{
    const double coords[2] = {fix->lat_deg, fix->lon_deg};
    const char hemis[2][2] = {{'N', 'S'}, {'E', 'W'}};
    for (int i = 0; i < 2; i++) {
        long long micro_min = llround(fabs(coords[i]) * 60e6);
        long long deg = micro_min / 60000000, rest = micro_min % 60000000;
        put(w, i == 0 ? ",%02lld%02lld.%06lld,%c" : ",%03lld%02lld.%06lld,%c", deg, rest / 1000000,
            rest % 1000000, hemis[i][coords[i] < 0 && micro_min != 0]);
    }
}

/* A non-negative value with `decimals` decimals (1..3), integers only. */
static void put_fixed(struct writer *w, double v, int decimals)
{
    long long scale = decimals == 1 ? 10 : decimals == 2 ? 100 : 1000;
    long long n = llround(v * (double)scale);
    put(w, "%lld.%0*lld", n / scale, decimals, n % scale);
}

static size_t finish(struct writer *w)
{
    unsigned sum = 0;
    for (size_t i = 1; i < w->len && !w->overflow; i++)
        sum ^= (unsigned char)w->buf[i];
    put(w, "*%02X\r\n", sum);
    if (w->overflow) {
        if (w->size)
            w->buf[0] = '\0';
        return 0;
    }
    return w->len;
}

static bool writable(const struct vg_fix *fix, char *buf, size_t size)
{
    return fix && buf && size > 0 && vg_fix_check(fix) == VG_OK;
}

/* The HDOP that the parser's rule turns back into this accuracy. */
static double hdop_of(const struct vg_fix *fix)
{
    return fmax(0.01, (double)fix->accuracy_m / HDOP_TO_R95_M);
}

size_t vg_nmea_format_gga(const struct vg_fix *fix, char *buf, size_t size)
{
    if (!writable(fix, buf, size))
        return 0;
    struct writer w = {buf, size, 0, false};
    put_head(&w, "GGA", fix->time_ms);
    if (fix->quality == VG_FIX_NONE) {
        put(&w, ",,,,,0,,,,M,,M,,");
    } else {
        put_position(&w, fix);
        put(&w, ",%d,,", fix->quality == VG_FIX_DGNSS ? 2 : 1);
        put_fixed(&w, hdop_of(fix), 2);
        put(&w, ",,M,,M,,");
    }
    return finish(&w);
}

size_t vg_nmea_format_rmc(const struct vg_fix *fix, char *buf, size_t size)
{
    if (!writable(fix, buf, size))
        return 0;
    struct vg_date d = vg_date_from_days(vg_floor_div(fix->time_ms, DAY_MS));
    if (d.year < 2000 || d.year > 2079)
        return 0;
    struct writer w = {buf, size, 0, false};
    put_head(&w, "RMC", fix->time_ms);
    if (fix->quality == VG_FIX_NONE) {
        put(&w, ",V,,,,,,");
    } else {
        put(&w, ",A");
        put_position(&w, fix);
        put(&w, ",");
        if (fix->speed_mps >= 0.0f)
            put_fixed(&w, (double)fix->speed_mps / KNOT_MPS, 3);
        put(&w, ",");
        if (fix->heading_deg >= 0.0f) {
            long long centi = llround((double)fix->heading_deg * 100.0);
            put_fixed(&w, (double)(centi % 36000) / 100.0, 2);
        }
    }
    char mode = fix->quality == VG_FIX_NONE ? 'N' : fix->quality == VG_FIX_DGNSS ? 'D' : 'A';
    put(&w, ",%02u%02u%02d,,,%c", (unsigned)d.day, (unsigned)d.month, (int)(d.year - 2000), mode);
    return finish(&w);
}

size_t vg_nmea_format_gsa(const struct vg_fix *fix, char *buf, size_t size)
{
    if (!writable(fix, buf, size))
        return 0;
    struct writer w = {buf, size, 0, false};
    int type = fix->quality == VG_FIX_NONE ? 1 : fix->quality == VG_FIX_2D ? 2 : 3;
    put(&w, "$GPGSA,A,%d,,,,,,,,,,,,,,", type);
    if (fix->quality != VG_FIX_NONE)
        put_fixed(&w, hdop_of(fix), 2);
    put(&w, ",");
    return finish(&w);
}

size_t vg_nmea_format_gst(const struct vg_fix *fix, char *buf, size_t size)
{
    if (!writable(fix, buf, size))
        return 0;
    struct writer w = {buf, size, 0, false};
    put_head(&w, "GST", fix->time_ms);
    if (fix->quality == VG_FIX_NONE) {
        put(&w, ",,,,,,,");
    } else {
        /* a circular error: vg_nmea_r95(s, s) = K95_CIRCULAR * s */
        double sigma = (double)fix->accuracy_m / K95_CIRCULAR;
        put(&w, ",,");
        put_fixed(&w, sigma, 3);
        put(&w, ",");
        put_fixed(&w, sigma, 3);
        put(&w, ",,");
        put_fixed(&w, sigma, 3);
        put(&w, ",");
        put_fixed(&w, sigma, 3);
        put(&w, ",");
    }
    return finish(&w);
}
