/* Time windows during which the author's presence at a fixed zone is
 * authorised by the judge (e.g. child hand-over at school, Wednesday
 * 16:00-16:30), in the measure's local time.
 *
 * Two kinds:
 * - weekly slots: open whenever the local wall clock reads a time inside the
 *   slot on one of its days (what a decision says: "Wednesdays 16:00-16:30"
 *   is 14:00-14:30 UTC in summer and 15:00-15:30 UTC in winter in Paris).
 *   On the night clocks go forward, the skipped part of a slot does not
 *   happen; on the night they go back, a slot inside the repeated hour is
 *   open during both readings.
 * - one-off ranges between two local date-times, fixed to UTC instants when
 *   built. Where a local time is ambiguous the narrower reading is taken
 *   (the later one for the start, the earlier one for the end): an
 *   authorisation never lasts longer than written. A time that does not
 *   exist is the instant the clocks changed. */
#ifndef VG_CORE_WINDOW_H
#define VG_CORE_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/civil.h"
#include "core/tz.h"

enum vg_window_kind {
    VG_WINDOW_WEEKLY = 1,
    VG_WINDOW_ONCE = 2,
};

/* Bits of vg_window.days: bit 0 = Monday ... bit 6 = Sunday. */
#define VG_DAY_MON (1u << 0)
#define VG_DAY_TUE (1u << 1)
#define VG_DAY_WED (1u << 2)
#define VG_DAY_THU (1u << 3)
#define VG_DAY_FRI (1u << 4)
#define VG_DAY_SAT (1u << 5)
#define VG_DAY_SUN (1u << 6)
#define VG_DAY_ALL 0x7fu

struct vg_window {
    uint8_t kind;          /* enum vg_window_kind */
    uint8_t days;          /* weekly: days on which the slot starts */
    uint16_t start_minute; /* weekly: minute of the day, 0..1439 */
    uint16_t end_minute;   /* weekly: 1..1440; <= start_minute: ends the next day */
    int64_t start_ms;      /* once: UTC, inclusive */
    int64_t end_ms;        /* once: UTC, exclusive */
};

/* A weekly slot. VG_EINVAL if days is 0 or has bits beyond Sunday, or a
 * minute is out of range, or start == end (ambiguous: empty or 24 h). */
int vg_window_init_weekly(struct vg_window *w, unsigned days, unsigned start_minute,
                          unsigned end_minute);

/* A one-off range between two local times in tz. VG_ERANGE if a time is
 * not a valid date-time, or if the range is empty once fixed to UTC. */
int vg_window_init_once(struct vg_window *w, const struct vg_tz *tz,
                        const struct vg_local_time *start, const struct vg_local_time *end);

/* 0 if w is a well-formed window (as built by the init functions). */
int vg_window_check(const struct vg_window *w);

/* Whether any of the n windows is open at UTC instant t_ms, and the first
 * instant after t_ms at which that answer may change (INT64_MAX if never),
 * so that callers can cache the answer until then. The instant is exact:
 * the answer does change there (only a zone changing its offset dozens of
 * times within a week could make it come early; never late).
 * next_change_ms may be NULL.
 * Windows that fail vg_window_check are ignored; instants beyond +-2^61 ms
 * (73 million years) are read as that bound. */
bool vg_windows_open_at(const struct vg_window *windows, size_t n, const struct vg_tz *tz,
                        int64_t t_ms, int64_t *next_change_ms);

#endif
