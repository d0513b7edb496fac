/* The floor view: what a supervisor running a shift (and an operator) sees
 * of the incidents at a glance (docs/API.md, "GET /api/v1/floor").
 *
 *   - the queue now: incidents open (waiting for an operator) and in
 *     progress (taken), by priority; the oldest incident not taken and its
 *     age;
 *   - the incidents escalated: those the centre marked (their `escalation`)
 *     and those late by the policy's timers now (core/incident.h), so that
 *     a late incident shows even before the centre raises it;
 *   - over a window (the last `window_ms`): the response times of the
 *     incidents opened in it — time to take (opened -> taken) and time to
 *     first step (taken -> first step) — as count, median, 90th percentile
 *     and maximum; the incidents closed in it;
 *   - per operator: what he holds now and how many he closed in the window.
 *
 * The time to first step is the first step's time when the caller knows it
 * (the store's steps, store migration 10). When it does not (steps recorded
 * before), it is read from `last_step_ms`, the only step time an incident
 * keeps: the first step's time when the incident has had one step, and an
 * upper bound when it has had more (then `first_step_upper_bounds` counts
 * it). Taking resets `last_step_ms`, so an incident reassigned after its
 * only step also counts a later time: that figure is never early, sometimes
 * late.
 *
 * Pure: the caller gives the incidents, the time and all the memory. */
#ifndef VG_CORE_FLOOR_H
#define VG_CORE_FLOOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/incident.h"

#define VG_FLOOR_DEFAULT_HOURS 24
#define VG_FLOOR_MAX_HOURS     744 /* 31 days */

/* Durations over the window's samples (ms; all 0 when count is 0). The
 * median is the middle sample (the mean of the two middle ones, rounded
 * down, for an even count); the 90th percentile the nearest rank: the
 * smallest sample that at least 90 % of the samples do not exceed. */
struct vg_floor_times {
    uint32_t count;
    int64_t median_ms, p90_ms, max_ms;
};

struct vg_floor_operator {
    char name[VG_OPERATOR_NAME_MAX + 1];
    uint32_t holding; /* incidents taken by him now */
    uint32_t closed;  /* incidents he closed in the window */
};

/* An incident escalated or late. */
struct vg_floor_escalated {
    const struct vg_incident *inc; /* into the array given */
    uint8_t escalation;            /* its own field: what the centre raised (enum vg_escalation) */
    uint8_t overdue;               /* what the policy's timers say now (enum vg_escalation) */
    int64_t late_ms;               /* how long past its due time (0 when not overdue) */
};

struct vg_floor {
    int64_t now_ms, from_ms; /* the window: opened or closed in [from_ms, now_ms] */
    /* the queue now, by priority (enum vg_alarm_priority 1..5; index 0:
     * any other value) */
    uint32_t open[6], taken[6];
    uint32_t n_open, n_taken;
    const struct vg_incident *oldest_open; /* NULL when nothing waits */
    int64_t oldest_open_age_ms;
    /* the incidents opened in the window */
    struct vg_floor_times to_take, to_first_step;
    uint32_t first_step_upper_bounds; /* samples of to_first_step from last_step_ms of an
                                         incident with more steps */
    uint32_t closed;                  /* incidents closed in the window */
    /* in the queue's order (core/incident.h: the most urgent, then the oldest) */
    struct vg_floor_escalated *escalated;
    size_t n_escalated;
    /* every operator holding or having closed one, by name */
    struct vg_floor_operator *operators;
    size_t n_operators;
};

/* The memory: each array at least as long as the incidents given. */
struct vg_floor_memory {
    int64_t *durations;
    struct vg_floor_escalated *escalated;
    struct vg_floor_operator *operators;
};

/* The floor from n incidents (any states, any order; ids unique) at now_ms,
 * the window being the last window_ms (> 0) and the timers p's.
 * first_step_ms: NULL, or each incident's first step's time (0 where it is
 * not known). out points into `incidents` and `mem`: keep them while it is
 * read. 0, or VG_EINVAL (no window, no memory). */
int vg_floor_compute(const struct vg_incident *incidents, const int64_t *first_step_ms, size_t n,
                     int64_t now_ms, int64_t window_ms, const struct vg_incident_policy *p,
                     const struct vg_floor_memory *mem, struct vg_floor *out);

/* ?hours=N: "1" to "744" (VG_FLOOR_MAX_HOURS), digits only. 0 and *hours,
 * or VG_EINVAL. */
int vg_floor_hours_parse(const char *text, int *hours);

#endif
