/* Authorisation windows.
 *
 * Weekly slots are a function of the local wall clock alone: the union W of
 * the slots is a week-periodic function of local time L, and the answer at
 * UTC instant t is W(L(t)) with L(t) = t + offset(t). Between two offset
 * changes L moves with t, so the answer can change only where L crosses a
 * change of W or where the offset jumps; vg_windows_open_at walks those
 * candidates in order and returns the first one at which the answer really
 * changes (exact, unless a hostile zone makes it give up early -- early is
 * always safe for a cache). One-off ranges are plain UTC intervals. */
#include "core/window.h"

#include <string.h>

#include "core/err.h"

#define MINUTE_MS ((int64_t)60000)
#define DAY_MS    ((int64_t)86400000)

/* Instants are read within +-2^61 ms (about 73 million years, see
 * window.h): local times and sums of a few days then never overflow. */
#define LIMIT_MS ((int64_t)1 << 61)

/* Candidates examined before answering early (see next_change). */
#define MIN_STEPS 64

static bool weekly_ok(unsigned days, unsigned start_minute, unsigned end_minute)
{
    return days != 0 && (days & ~VG_DAY_ALL) == 0 && start_minute <= 1439 && end_minute >= 1 &&
           end_minute <= 1440 && start_minute != end_minute;
}

int vg_window_init_weekly(struct vg_window *w, unsigned days, unsigned start_minute,
                          unsigned end_minute)
{
    if (!weekly_ok(days, start_minute, end_minute))
        return VG_EINVAL;
    memset(w, 0, sizeof(*w));
    w->kind = VG_WINDOW_WEEKLY;
    w->days = (uint8_t)days;
    w->start_minute = (uint16_t)start_minute;
    w->end_minute = (uint16_t)end_minute;
    return VG_OK;
}

int vg_window_init_once(struct vg_window *w, const struct vg_tz *tz,
                        const struct vg_local_time *start, const struct vg_local_time *end)
{
    if (vg_local_time_check(start) != VG_OK || vg_local_time_check(end) != VG_OK)
        return VG_ERANGE;
    int64_t s_early, s_late, e_early, e_late;
    /* Checked dates are within years 1900..2200: never VG_ERANGE here. */
    if (vg_tz_local_to_utc(tz, vg_local_time_to_seconds(start), &s_early, &s_late) < 0 ||
        vg_tz_local_to_utc(tz, vg_local_time_to_seconds(end), &e_early, &e_late) < 0)
        return VG_ERANGE;
    /* The narrower reading: the later start, the earlier end. In a gap
     * both readings are the instant of the change. */
    if (s_late >= e_early)
        return VG_ERANGE;
    memset(w, 0, sizeof(*w));
    w->kind = VG_WINDOW_ONCE;
    w->start_ms = s_late * 1000;
    w->end_ms = e_early * 1000;
    return VG_OK;
}

int vg_window_check(const struct vg_window *w)
{
    switch (w->kind) {
    case VG_WINDOW_WEEKLY:
        return weekly_ok(w->days, w->start_minute, w->end_minute) ? VG_OK : VG_EINVAL;
    case VG_WINDOW_ONCE:
        return w->start_ms < w->end_ms && w->start_ms >= -LIMIT_MS && w->end_ms <= LIMIT_MS
                   ? VG_OK
                   : VG_EINVAL;
    default: return VG_EINVAL;
    }
}

/* ------------------------------------------------------ weekly slots */

/* A local instant split once into its day and time of day. */
struct wall {
    int64_t day_start; /* local ms of the day's midnight */
    int64_t tod;       /* ms into the day */
    unsigned weekday;  /* 0 = Monday, as the day bits */
};

static struct wall wall_at(int64_t local_ms)
{
    int64_t day = vg_floor_div(local_ms, DAY_MS);
    struct wall w = {day * DAY_MS, local_ms - day * DAY_MS, vg_weekday(day)};
    return w;
}

static bool weekly_usable(const struct vg_window *w)
{
    return w->kind == VG_WINDOW_WEEKLY && weekly_ok(w->days, w->start_minute, w->end_minute);
}

static bool weekly_open(const struct vg_window *w, const struct wall *c)
{
    int64_t s = w->start_minute * MINUTE_MS, e = w->end_minute * MINUTE_MS;
    bool today = (w->days >> c->weekday) & 1u;
    if (e > s)
        return today && c->tod >= s && c->tod < e;
    /* Past midnight: the evening part today, the morning part if the slot
     * started yesterday (Sunday's slot ends on Monday: the week wraps). */
    bool yesterday = (w->days >> ((c->weekday + 6) % 7)) & 1u;
    return (today && c->tod >= s) || (yesterday && c->tod < e);
}

static bool weekly_union_open(const struct vg_window *ws, size_t n, const struct wall *c)
{
    for (size_t i = 0; i < n; i++)
        if (weekly_usable(&ws[i]) && weekly_open(&ws[i], c))
            return true;
    return false;
}

/* Days from weekday wd to the first day of `mask` (bit 0 = Monday) at
 * least `from` (0 or 1) days ahead: 7 when only wd itself is set and
 * from == 1. mask != 0. */
static unsigned days_until(unsigned mask, unsigned wd, unsigned from)
{
    unsigned ahead = ((mask >> wd) | (mask << (7 - wd))) & VG_DAY_ALL; /* bit k: wd + k */
    ahead &= ~((1u << from) - 1);
    if (ahead == 0)
        return 7;
    unsigned k = from;
    while (!((ahead >> k) & 1u))
        k++;
    return k;
}

/* The first local instant after the wall clock c at which the slot opens
 * or closes: a start minute on one of its days, or an end minute on a day
 * it ends (the day after its start day for a slot past midnight). */
static int64_t weekly_next_edge(const struct vg_window *w, const struct wall *c)
{
    int64_t s = w->start_minute * MINUTE_MS, e = w->end_minute * MINUTE_MS;
    unsigned end_days = e > s ? w->days : ((w->days << 1) | (w->days >> 6)) & VG_DAY_ALL;
    int64_t next_s =
        c->day_start + s + (int64_t)days_until(w->days, c->weekday, c->tod < s ? 0 : 1) * DAY_MS;
    int64_t next_e =
        c->day_start + e + (int64_t)days_until(end_days, c->weekday, c->tod < e ? 0 : 1) * DAY_MS;
    return next_s < next_e ? next_s : next_e;
}

/* The first local instant after local_ms at which the union of the weekly
 * slots opens or closes, or INT64_MAX if it never does: the first edge of
 * a slot at which the union's answer differs. The union repeats every
 * week, so no change within 8 days means none ever. */
static int64_t weekly_union_next_change(const struct vg_window *ws, size_t n, int64_t local_ms)
{
    struct wall c = wall_at(local_ms);
    bool open = weekly_union_open(ws, n, &c);
    int64_t limit = local_ms + 8 * DAY_MS;
    for (;;) {
        int64_t edge = INT64_MAX;
        for (size_t i = 0; i < n; i++) {
            if (!weekly_usable(&ws[i]))
                continue;
            int64_t e = weekly_next_edge(&ws[i], &c);
            if (e < edge)
                edge = e;
        }
        if (edge == INT64_MAX || edge > limit)
            return INT64_MAX;
        c = wall_at(edge);
        if (weekly_union_open(ws, n, &c) != open)
            return edge;
    }
}

static bool once_usable(const struct vg_window *w)
{
    return w->kind == VG_WINDOW_ONCE && vg_window_check(w) == VG_OK;
}

/* ------------------------------------------------------------ queries */

static int64_t local_ms_at(const struct vg_tz *tz, int64_t t_ms)
{
    return t_ms + (int64_t)vg_tz_offset_at(tz, vg_floor_div(t_ms, 1000)) * 1000;
}

static bool open_at(const struct vg_window *ws, size_t n, const struct vg_tz *tz, int64_t t_ms)
{
    for (size_t i = 0; i < n; i++) {
        if (once_usable(&ws[i]) && ws[i].start_ms <= t_ms && t_ms < ws[i].end_ms)
            return true;
    }
    struct wall c = wall_at(local_ms_at(tz, t_ms));
    return weekly_union_open(ws, n, &c);
}

/* The end of the run of one-off ranges that covers t (overlapping or
 * touching ranges chained), or t if none does. */
static int64_t once_cover_end(const struct vg_window *ws, size_t n, int64_t t)
{
    int64_t end = t;
    bool grew = true;
    while (grew) {
        grew = false;
        for (size_t i = 0; i < n; i++) {
            if (once_usable(&ws[i]) && ws[i].start_ms <= end && ws[i].end_ms > end) {
                end = ws[i].end_ms;
                grew = true;
            }
        }
    }
    return end;
}

/* The candidates, in order: the end of a covering one-off run; otherwise
 * the next change of the weekly union seen through the current offset, the
 * next offset change, the next one-off edge. Between two candidates the
 * answer cannot change, so the first candidate at which it differs is the
 * exact answer. Each step is an offset change or a real change of one of
 * the parts, so the bound is only reached by a zone changing its offset
 * dozens of times in a week; then the last candidate, still before any
 * change, is returned. */
static int64_t next_change(const struct vg_window *ws, size_t n, const struct vg_tz *tz,
                           int64_t t_ms, bool open)
{
    int64_t cur = t_ms;
    size_t max_steps = MIN_STEPS + 4 * n;
    for (size_t step = 0; step < max_steps; step++) {
        int64_t c = once_cover_end(ws, n, cur);
        if (c > cur) {
            /* Open whatever the weekly slots and the clock do until then. */
            if (c > LIMIT_MS)
                return INT64_MAX;
            if (open_at(ws, n, tz, c) != open)
                return c;
            cur = c;
            continue;
        }
        int64_t local = local_ms_at(tz, cur);
        c = INT64_MAX;
        int64_t w = weekly_union_next_change(ws, n, local);
        if (w != INT64_MAX) {
            c = cur + (w - local);
            /* An offset change moves the wall clock; it matters only if
             * the weekly answer is not constant. */
            int64_t z = vg_tz_next_change(tz, vg_floor_div(cur, 1000));
            if (z <= LIMIT_MS / 1000 && z * 1000 < c)
                c = z * 1000;
        }
        for (size_t i = 0; i < n; i++) {
            if (!once_usable(&ws[i]))
                continue;
            if (ws[i].start_ms > cur && ws[i].start_ms < c)
                c = ws[i].start_ms;
            if (ws[i].end_ms > cur && ws[i].end_ms < c)
                c = ws[i].end_ms;
        }
        if (c > LIMIT_MS)
            return INT64_MAX; /* instants beyond the limit read as the limit */
        if (open_at(ws, n, tz, c) != open)
            return c;
        cur = c;
    }
    /* The answer held at every candidate up to cur: early, never late. */
    return cur;
}

bool vg_windows_open_at(const struct vg_window *windows, size_t n, const struct vg_tz *tz,
                        int64_t t_ms, int64_t *next_change_ms)
{
    int64_t t = t_ms < -LIMIT_MS ? -LIMIT_MS : t_ms > LIMIT_MS ? LIMIT_MS : t_ms;
    bool open = open_at(windows, n, tz, t);
    if (next_change_ms != NULL)
        *next_change_ms = next_change(windows, n, tz, t, open);
    return open;
}
