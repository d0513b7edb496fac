/* Time zones from TZif files (RFC 8536) and POSIX TZ rules.
 *
 * The offset is a step function of the UTC instant: explicit transitions
 * from the file, then (after the last one, or everywhere when there are
 * none) the yearly changes of the POSIX rule. Every question this module
 * answers -- offset_at, next_change, local_to_utc -- is derived from that
 * one function, so the three always agree with each other, even for odd or
 * hostile input (the fuzzers check exactly that).
 *
 * Arithmetic stays in int64 seconds without overflow because every offset
 * is held to (-25 h, +26 h) and the rule is only evaluated within
 * +-RULE_LIMIT_S (beyond it the offset is frozen at its value at the bound). */
#include "core/tz.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

#include "core/civil.h"
#include "core/err.h"

/* RFC 8536 section 3.2 recommends UT offsets in [-89999, 93599] (more than
 * -25 h, less than 26 h); we require it, and POSIX offsets (at most
 * 24:59:59) fall inside it. */
#define MIN_OFFSET_S (-89999)
#define MAX_OFFSET_S 93599

/* The rule is evaluated within +-2^55 s (about 1.1 billion years): years
 * then fit vg_date's int32 and day counts times 86400 stay far from
 * overflow. Outside, the rule's offset is that at the bound. */
#define RULE_LIMIT_S ((int64_t)1 << 55)

/* vg_tz_local_to_utc refuses civil times beyond this (see tz.h). */
#define LOCAL_LIMIT_S ((int64_t)1 << 62)

/* ---------------------------------------------------------------- reset */

/* An unusable tz must still answer something defined: UTC. */
static void tz_reset(struct vg_tz *tz)
{
    memset(tz, 0, sizeof(*tz));
    tz->n_types = 1;
}

/* ---------------------------------------------------------- POSIX rules */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A zone name: three or more letters, or <...> with three or more letters,
 * digits, '+' or '-' (POSIX, and what zic writes for "<+0330>"). */
static bool parse_name(const char **pp)
{
    const char *p = *pp;
    const char *start;
    if (*p == '<') {
        start = ++p;
        while (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-')
            p++;
        if (*p != '>' || p - start < 3)
            return false;
        p++;
    } else {
        start = p;
        while (is_alpha(*p))
            p++;
        if (p - start < 3)
            return false;
    }
    *pp = p;
    return true;
}

/* 1 to max_digits decimal digits. */
static bool parse_uint(const char **pp, int max_digits, int32_t *out)
{
    const char *p = *pp;
    int32_t v = 0;
    int n = 0;
    while (is_digit(*p)) {
        if (++n > max_digits)
            return false;
        v = v * 10 + (*p - '0');
        p++;
    }
    if (n == 0)
        return false;
    *pp = p;
    *out = v;
    return true;
}

/* [+-]h[h...][:mm[:ss]] with hours <= max_hour; minutes and seconds are two
 * digits each and at most 59. The result carries the sign as written. */
static bool parse_hms(const char **pp, int hour_digits, int32_t max_hour, int32_t *out_s)
{
    const char *p = *pp;
    int32_t sign = 1, h, m = 0, s = 0;
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    if (!parse_uint(&p, hour_digits, &h) || h > max_hour)
        return false;
    if (*p == ':') {
        p++;
        if (!is_digit(p[0]) || !is_digit(p[1]))
            return false;
        m = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        if (m > 59)
            return false;
        if (*p == ':') {
            p++;
            if (!is_digit(p[0]) || !is_digit(p[1]))
                return false;
            s = (p[0] - '0') * 10 + (p[1] - '0');
            p += 2;
            if (s > 59)
                return false;
        }
    }
    *pp = p;
    *out_s = sign * (h * 3600 + m * 60 + s);
    return true;
}

/* A POSIX offset is hours WEST of UTC (hence "CET-1"); we keep seconds east. */
static bool parse_offset(const char **pp, int32_t *east_s)
{
    int32_t west;
    if (!parse_hms(pp, 2, 24, &west))
        return false;
    *east_s = -west;
    return true;
}

/* Jn | n | Mm.w.d, then an optional /time (default 02:00). */
static bool parse_change(const char **pp, struct vg_tz_change_rule *c)
{
    const char *p = *pp;
    int32_t a, b, d;
    memset(c, 0, sizeof(*c));
    if (*p == 'J') {
        p++;
        if (!parse_uint(&p, 3, &a) || a < 1 || a > 365)
            return false;
        c->kind = 'J';
        c->day = (uint16_t)a;
    } else if (*p == 'M') {
        p++;
        if (!parse_uint(&p, 2, &a) || a < 1 || a > 12 || *p++ != '.')
            return false;
        if (!parse_uint(&p, 1, &b) || b < 1 || b > 5 || *p++ != '.')
            return false;
        if (!parse_uint(&p, 1, &d) || d > 6)
            return false;
        c->kind = 'M';
        c->month = (uint8_t)a;
        c->week = (uint8_t)b;
        c->day = (uint16_t)d;
    } else if (is_digit(*p)) {
        if (!parse_uint(&p, 3, &a) || a > 365)
            return false;
        c->kind = 'N';
        c->day = (uint16_t)a;
    } else {
        return false;
    }
    c->time_s = 2 * 3600;
    if (*p == '/') {
        p++;
        if (!parse_hms(&p, 3, 167, &c->time_s))
            return false;
    }
    *pp = p;
    return true;
}

/* std offset [dst [offset] ,start[/time],end[/time]]. A DST name without
 * change dates is refused: POSIX leaves the dates to the implementation
 * (glibc takes the US rules), and guessing them for a court order would be
 * wrong half of the time somewhere. */
static int parse_rule(const char *s, struct vg_tz_rule *r)
{
    const char *p = s;
    memset(r, 0, sizeof(*r));
    if (!parse_name(&p) || !parse_offset(&p, &r->std_offset_s))
        return VG_EFORMAT;
    r->dst_offset_s = r->std_offset_s;
    if (*p == '\0')
        return VG_OK;
    if (!parse_name(&p))
        return VG_EFORMAT;
    r->has_dst = true;
    r->dst_offset_s = r->std_offset_s + 3600;
    if (*p == '+' || *p == '-' || is_digit(*p)) {
        if (!parse_offset(&p, &r->dst_offset_s))
            return VG_EFORMAT;
    }
    if (*p++ != ',' || !parse_change(&p, &r->dst_start))
        return VG_EFORMAT;
    if (*p++ != ',' || !parse_change(&p, &r->dst_end))
        return VG_EFORMAT;
    if (*p != '\0')
        return VG_EFORMAT;
    return VG_OK;
}

int vg_tz_from_posix(struct vg_tz *tz, const char *rule)
{
    tz_reset(tz);
    if (rule == NULL)
        return VG_EFORMAT;
    /* Bounded length check: never read past VG_TZ_MAX_RULE_LEN + 1 bytes. */
    size_t len = 0;
    while (len <= VG_TZ_MAX_RULE_LEN && rule[len] != '\0')
        len++;
    if (len > VG_TZ_MAX_RULE_LEN)
        return VG_EFORMAT;
    struct vg_tz_rule r;
    int rc = parse_rule(rule, &r);
    if (rc != VG_OK)
        return rc;
    tz->rule = r;
    tz->has_rule = true;
    tz->initial_offset_s = r.std_offset_s;
    tz->type_offset_s[0] = r.std_offset_s;
    if (r.has_dst) {
        tz->n_types = 2;
        tz->type_offset_s[1] = r.dst_offset_s;
        tz->type_is_dst[1] = 1;
    }
    return VG_OK;
}

/* ------------------------------------------------------ rule evaluation */

/* One yearly change, as a UTC instant, with what it switches to. */
struct rule_event {
    int64_t at;
    int32_t year;
    uint8_t seq; /* order within the year, for ties at the same instant */
    bool to_dst;
};

static int64_t days_of(int32_t year, unsigned month, unsigned day)
{
    struct vg_date d = {year, (uint8_t)month, (uint8_t)day};
    return vg_date_to_days(d);
}

/* Day number of the change's date in `year`. */
static int64_t change_day(const struct vg_tz_change_rule *c, int32_t year)
{
    switch (c->kind) {
    case 'J': {
        /* 1..365, 29 February never counted: day 60 is 1 March. */
        int64_t n = c->day;
        if (vg_is_leap_year(year) && n >= 60)
            n++;
        return days_of(year, 1, 1) + n - 1;
    }
    case 'N':
        /* 0..365 from 1 January, 29 February counted. */
        return days_of(year, 1, 1) + c->day;
    default: {
        /* Mm.w.d: day d (0 = Sunday) of week w (5 = last) of month m. */
        unsigned month = c->month >= 1 && c->month <= 12 ? c->month : 1;
        int64_t first = days_of(year, month, 1);
        unsigned first_wd = (vg_weekday(first) + 1) % 7; /* vg_weekday: 0 = Monday */
        unsigned mday =
            1 + (c->day % 7 + 7 - first_wd) % 7 + 7 * (unsigned)((c->week ? c->week : 1) - 1);
        unsigned last = vg_days_in_month(year, month);
        while (mday > last)
            mday -= 7;
        return first + mday - 1;
    }
    }
}

/* The two changes of `year`: local wall-clock times converted with the
 * offset in force before each (standard before the start, daylight before
 * the end), as POSIX specifies. */
static void year_events(const struct vg_tz_rule *r, int32_t year, struct rule_event ev[2])
{
    int64_t start_local = change_day(&r->dst_start, year) * 86400 + r->dst_start.time_s;
    int64_t end_local = change_day(&r->dst_end, year) * 86400 + r->dst_end.time_s;
    /* Within a year the change written later in the calendar comes last
     * when both fall on the same instant (a zero-length period). */
    bool start_first = start_local <= end_local;
    ev[0].at = start_local - r->std_offset_s;
    ev[0].year = year;
    ev[0].seq = start_first ? 0 : 1;
    ev[0].to_dst = true;
    ev[1].at = end_local - r->dst_offset_s;
    ev[1].year = year;
    ev[1].seq = start_first ? 1 : 0;
    ev[1].to_dst = false;
}

/* Total order of events: by instant, then year, then order in the year.
 * The year tie-break is what makes "0/0,J365/25" (RFC 8536 3.3.1, DST all
 * year) work: the end of year Y and the start of Y+1 coincide, and the
 * start, coming from the later year, wins. */
static bool event_after(const struct rule_event *a, const struct rule_event *b)
{
    if (a->at != b->at)
        return a->at > b->at;
    if (a->year != b->year)
        return a->year > b->year;
    return a->seq > b->seq;
}

static int64_t clamp_rule_time(int64_t t)
{
    if (t < -RULE_LIMIT_S)
        return -RULE_LIMIT_S;
    if (t > RULE_LIMIT_S)
        return RULE_LIMIT_S;
    return t;
}

static int32_t utc_year(int64_t t)
{
    return vg_date_from_days(vg_floor_div(t, 86400)).year;
}

/* Every change of year X lies within 8 days of year X (dates inside the
 * year, times within +-167 h, offsets within +-26 h). So the last change
 * at or before t (in UTC year Y) is a change of year Y-2 .. Y+1, and the
 * first change after t one of Y-1 .. Y+3. */
static bool rule_is_dst(const struct vg_tz_rule *r, int64_t t)
{
    int32_t y = utc_year(t);
    struct rule_event best = {0}, ev[2];
    bool found = false;
    for (int32_t year = y - 2; year <= y + 1; year++) {
        year_events(r, year, ev);
        for (int k = 0; k < 2; k++) {
            if (ev[k].at <= t && (!found || event_after(&ev[k], &best))) {
                best = ev[k];
                found = true;
            }
        }
    }
    assert(found); /* the changes of year Y-2 are all before 1 January Y */
    return best.to_dst;
}

static int32_t rule_offset_at(const struct vg_tz_rule *r, int64_t t)
{
    if (!r->has_dst || r->std_offset_s == r->dst_offset_s)
        return r->std_offset_s;
    return rule_is_dst(r, clamp_rule_time(t)) ? r->dst_offset_s : r->std_offset_s;
}

/* The first instant after s at which the rule's offset differs from `cur`,
 * its offset at s: a sweep over the changes in order. Only changes of
 * adjacent years can interleave, so holding two years at a time is enough:
 * while a change of year `lo` is pending it precedes every change of year
 * lo+2. The calendar repeats every 400 years (146097 days, a whole number
 * of weeks), so if no change shows up in 401 years the offset never changes
 * (a rule whose DST lasts zero seconds, or all year). */
static int64_t rule_next_change(const struct vg_tz_rule *r, int64_t s, int32_t cur)
{
    if (!r->has_dst || r->std_offset_s == r->dst_offset_s)
        return INT64_MAX;
    s = clamp_rule_time(s);
    /* Changes of year Y-2 are all before 1 January Y <= s. */
    int32_t lo = utc_year(s) - 1, last_year = lo + 402;
    struct rule_event ev[2][2];
    bool done[2][2] = {{false, false}, {false, false}};
    year_events(r, lo, ev[0]);
    year_events(r, lo + 1, ev[1]);
    for (;;) {
        if (done[0][0] && done[0][1]) {
            /* Year lo is swept: slide the window by one year. */
            if (lo + 1 > last_year)
                return INT64_MAX;
            lo++;
            ev[0][0] = ev[1][0];
            ev[0][1] = ev[1][1];
            done[0][0] = done[1][0];
            done[0][1] = done[1][1];
            year_events(r, lo + 1, ev[1]);
            done[1][0] = done[1][1] = false;
            continue;
        }
        /* The earliest pending change (the latest in order at a tie last). */
        const struct rule_event *e = NULL;
        int ey = 0, ek = 0;
        for (int y = 0; y < 2; y++)
            for (int k = 0; k < 2; k++)
                if (!done[y][k] && (e == NULL || event_after(e, &ev[y][k]))) {
                    e = &ev[y][k];
                    ey = y;
                    ek = k;
                }
        done[ey][ek] = true;
        if (e->at <= s)
            continue;
        if (e->at > RULE_LIMIT_S)
            return INT64_MAX;
        /* Changes at the same instant are applied together: compare once
         * the last of them is in. */
        bool more_now = false;
        for (int y = 0; y < 2; y++)
            for (int k = 0; k < 2; k++)
                more_now |= !done[y][k] && ev[y][k].at == e->at;
        if (more_now)
            continue; /* (all of them are in the window: year lo is pending) */
        int32_t off = e->to_dst ? r->dst_offset_s : r->std_offset_s;
        if (off != cur)
            return e->at;
    }
}

/* ------------------------------------------------------------- lookups */

static int32_t type_offset(const struct vg_tz *tz, unsigned type)
{
    /* Built tz values always have type < n_types; this only keeps a
     * hand-made struct from reading outside the table. */
    return tz->type_offset_s[type < VG_TZ_MAX_TYPES ? type : 0];
}

static uint32_t n_transitions(const struct vg_tz *tz)
{
    return tz->n_transitions <= VG_TZ_MAX_TRANSITIONS ? tz->n_transitions : VG_TZ_MAX_TRANSITIONS;
}

/* Number of transitions at or before t. */
static uint32_t transitions_upto(const struct vg_tz *tz, uint32_t n, int64_t t)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (tz->transition_s[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The offset from transition i (0-based) on, evaluated at instant t >= it. */
static int32_t offset_from(const struct vg_tz *tz, uint32_t n, uint32_t i, int64_t t)
{
    /* RFC 8536 3.2: the footer rule governs from the last transition on. */
    if (i == n - 1 && tz->has_rule)
        return rule_offset_at(&tz->rule, t);
    return type_offset(tz, tz->transition_type[i]);
}

int32_t vg_tz_offset_at(const struct vg_tz *tz, int64_t utc_s)
{
    uint32_t n = n_transitions(tz);
    if (n == 0) {
        /* tzfile(5): with no transitions the footer covers every instant. */
        return tz->has_rule ? rule_offset_at(&tz->rule, utc_s) : tz->initial_offset_s;
    }
    uint32_t k = transitions_upto(tz, n, utc_s);
    if (k == 0)
        return tz->initial_offset_s;
    return offset_from(tz, n, k - 1, utc_s);
}

int64_t vg_tz_next_change(const struct vg_tz *tz, int64_t utc_s)
{
    uint32_t n = n_transitions(tz);
    int32_t cur = vg_tz_offset_at(tz, utc_s);
    /* Transitions that only change is_dst or the abbreviation are not
     * changes of the offset: skip them. */
    for (uint32_t i = transitions_upto(tz, n, utc_s); i < n; i++) {
        if (offset_from(tz, n, i, tz->transition_s[i]) != cur)
            return tz->transition_s[i];
    }
    if (!tz->has_rule)
        return INT64_MAX;
    int64_t s = n > 0 && tz->transition_s[n - 1] > utc_s ? tz->transition_s[n - 1] : utc_s;
    return rule_next_change(&tz->rule, s, cur);
}

int vg_tz_local_to_utc(const struct vg_tz *tz, int64_t civil_s, int64_t *earliest, int64_t *latest)
{
    if (civil_s < -LOCAL_LIMIT_S || civil_s > LOCAL_LIMIT_S)
        return VG_ERANGE;
    /* Every reading u satisfies u + offset(u) == civil_s with the offset
     * in [MIN_OFFSET_S, MAX_OFFSET_S], so u lies in [lo, hi]. Walk the
     * pieces of constant offset over that span: each holds at most one
     * reading, and a jump of the wall clock over civil_s is a gap. */
    int64_t lo = civil_s - MAX_OFFSET_S, hi = civil_s - MIN_OFFSET_S;
    int64_t first = 0, last = 0, gap = 0;
    int found = 0;
    bool have_gap = false;
    int64_t s = lo;
    int32_t off = vg_tz_offset_at(tz, s);
    for (;;) {
        int64_t e = vg_tz_next_change(tz, s); /* the piece is [s, e) */
        int64_t u = civil_s - off;
        if (u >= s && u < e) {
            if (found++ == 0)
                first = u;
            last = u;
        }
        if (e > hi)
            break;
        int32_t next_off = vg_tz_offset_at(tz, e);
        /* Clocks jumping forward at e skip local [e + off, e + next_off). */
        if (!have_gap && civil_s >= e + off && civil_s < e + next_off) {
            gap = e;
            have_gap = true;
        }
        s = e;
        off = next_off;
    }
    if (found == 0) {
        assert(have_gap); /* the wall clock passes civil_s somewhere in [lo, hi] */
        *earliest = *latest = gap;
        return VG_TZ_LOCAL_GAP;
    }
    *earliest = first;
    *latest = last;
    return found == 1 ? VG_TZ_LOCAL_UNIQUE : VG_TZ_LOCAL_AMBIGUOUS;
}

/* ---------------------------------------------------------------- TZif */

struct reader {
    const uint8_t *buf;
    size_t len;
    size_t pos;
};

static uint32_t get_u32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t get_i64be(const uint8_t *p)
{
    uint64_t v = (uint64_t)get_u32be(p) << 32 | get_u32be(p + 4);
    /* Two's complement without implementation-defined conversion. */
    return v <= (uint64_t)INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
}

static int32_t get_i32be(const uint8_t *p)
{
    uint32_t v = get_u32be(p);
    return v <= (uint32_t)INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

/* The next n bytes, or NULL if the buffer ends first. */
static const uint8_t *take(struct reader *r, uint64_t n)
{
    if (n > r->len - r->pos)
        return NULL;
    const uint8_t *p = r->buf + r->pos;
    r->pos += (size_t)n;
    return p;
}

struct header {
    uint8_t version; /* 1..4 */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int read_header(struct reader *r, struct header *h)
{
    const uint8_t *p = take(r, 44);
    if (p == NULL || memcmp(p, "TZif", 4) != 0)
        return VG_EFORMAT;
    switch (p[4]) {
    case 0: h->version = 1; break;
    case '2': h->version = 2; break;
    case '3': h->version = 3; break;
    case '4': h->version = 4; break;
    default: return VG_EFORMAT;
    }
    h->isutcnt = get_u32be(p + 20);
    h->isstdcnt = get_u32be(p + 24);
    h->leapcnt = get_u32be(p + 28);
    h->timecnt = get_u32be(p + 32);
    h->typecnt = get_u32be(p + 36);
    h->charcnt = get_u32be(p + 40);
    return VG_OK;
}

static uint64_t block_size(const struct header *h, unsigned time_size)
{
    /* Counts are 32-bit: the sum fits easily in 64 bits. */
    return (uint64_t)h->timecnt * (time_size + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
}

/* Read and check one data block into tz (RFC 8536 section 3.2). */
static int read_block(struct reader *r, const struct header *h, unsigned time_size,
                      struct vg_tz *tz)
{
    if (h->typecnt == 0 || h->charcnt == 0)
        return VG_EFORMAT;
    if ((h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
        (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
        return VG_EFORMAT;
    const uint8_t *times = take(r, (uint64_t)h->timecnt * time_size);
    const uint8_t *idx = take(r, h->timecnt);
    const uint8_t *types = take(r, (uint64_t)h->typecnt * 6);
    const uint8_t *chars = take(r, h->charcnt);
    const uint8_t *leaps = take(r, (uint64_t)h->leapcnt * (time_size + 4));
    const uint8_t *isstd = take(r, h->isstdcnt);
    const uint8_t *isut = take(r, h->isutcnt);
    if (!times || !idx || !types || !chars || !leaps || !isstd || !isut)
        return VG_EFORMAT;
    if (h->timecnt > VG_TZ_MAX_TRANSITIONS || h->typecnt > VG_TZ_MAX_TYPES)
        return VG_ENOSPC;

    for (uint32_t i = 0; i < h->timecnt; i++) {
        int64_t t =
            time_size == 8 ? get_i64be(times + 8 * (size_t)i) : get_i32be(times + 4 * (size_t)i);
        if (i > 0 && t <= tz->transition_s[i - 1])
            return VG_EFORMAT;
        if (idx[i] >= h->typecnt)
            return VG_EFORMAT;
        tz->transition_s[i] = t;
        tz->transition_type[i] = idx[i];
    }
    for (uint32_t i = 0; i < h->typecnt; i++) {
        const uint8_t *ty = types + 6 * (size_t)i;
        int32_t utoff = get_i32be(ty);
        if (utoff < MIN_OFFSET_S || utoff > MAX_OFFSET_S || ty[4] > 1 || ty[5] >= h->charcnt)
            return VG_EFORMAT;
        tz->type_offset_s[i] = utoff;
        tz->type_is_dst[i] = ty[4];
    }
    /* Abbreviations are NUL-terminated strings: the array must end with one. */
    if (chars[h->charcnt - 1] != 0)
        return VG_EFORMAT;
    /* Leap-second records do not change the offset: skipped. */
    (void)leaps;
    for (uint32_t i = 0; i < h->typecnt; i++) {
        uint8_t std = h->isstdcnt ? isstd[i] : 0;
        uint8_t ut = h->isutcnt ? isut[i] : 0;
        /* Booleans, and a UT indicator requires the standard one. */
        if (std > 1 || ut > 1 || (ut && !std))
            return VG_EFORMAT;
    }
    tz->n_transitions = h->timecnt;
    tz->n_types = (uint8_t)h->typecnt;
    /* RFC 8536 3.2: type 0 holds before the first transition. */
    tz->initial_offset_s = tz->type_offset_s[0];
    return VG_OK;
}

/* The footer of version 2+: "\n" TZ-string "\n", ending the file. */
static int read_footer(struct reader *r, struct vg_tz *tz)
{
    const uint8_t *nl = take(r, 1);
    if (nl == NULL || *nl != '\n')
        return VG_EFORMAT;
    size_t start = r->pos, end = start;
    while (end < r->len && r->buf[end] != '\n')
        end++;
    if (end == r->len || end + 1 != r->len)
        return VG_EFORMAT; /* unterminated, or bytes after the footer */
    size_t n = end - start;
    if (n == 0)
        return VG_OK; /* no rule: the last transition's type stays */
    if (n > VG_TZ_MAX_RULE_LEN)
        return VG_EFORMAT;
    char text[VG_TZ_MAX_RULE_LEN + 1];
    memcpy(text, r->buf + start, n);
    text[n] = '\0';
    if (strlen(text) != n)
        return VG_EFORMAT; /* a NUL inside the rule */
    int rc = parse_rule(text, &tz->rule);
    if (rc != VG_OK)
        return rc;
    tz->has_rule = true;
    r->pos = r->len;
    return VG_OK;
}

int vg_tz_from_tzif(struct vg_tz *tz, const uint8_t *buf, size_t len)
{
    tz_reset(tz);
    if (buf == NULL)
        return VG_EFORMAT;
    struct reader r = {buf, len, 0};
    struct header h1, h2;
    int rc = read_header(&r, &h1);
    if (rc != VG_OK)
        goto fail;
    if (h1.version == 1) {
        rc = read_block(&r, &h1, 4, tz);
        if (rc == VG_OK && r.pos != r.len)
            rc = VG_EFORMAT; /* lengths are exact */
        if (rc != VG_OK)
            goto fail;
        return VG_OK;
    }
    /* Version 2+: the 32-bit block is only skipped over (RFC 8536 4). */
    if (take(&r, block_size(&h1, 4)) == NULL) {
        rc = VG_EFORMAT;
        goto fail;
    }
    rc = read_header(&r, &h2);
    if (rc == VG_OK && h2.version != h1.version)
        rc = VG_EFORMAT;
    if (rc == VG_OK)
        rc = read_block(&r, &h2, 8, tz);
    if (rc == VG_OK)
        rc = read_footer(&r, tz);
    if (rc != VG_OK)
        goto fail;
    return VG_OK;
fail:
    tz_reset(tz);
    return rc;
}
