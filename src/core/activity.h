/* A measure's activity over a period (issue 11): what its engine raised
 * and rang, replayed from the records both units sent, for the magistrate
 * who weighs a revision of the distance (too many alerts) or a lifting —
 * and the same tracks replayed with another R, to show what that distance
 * would have produced.
 *
 * Replaying rather than counting the stored alarms: the comparison between
 * two radii is only fair if both come from the same method on the same
 * records (the stored alarms depend on the measure's status at the time,
 * and rings are commands, not stored). The stored alarms are the record;
 * this is the analysis.
 *
 * Pure: the caller reads the records and gives the time zone (for the hours
 * of the day and the nights). */
#ifndef VG_CORE_ACTIVITY_H
#define VG_CORE_ACTIVITY_H

#include <stddef.h>
#include <stdint.h>

#include "core/alarm.h"
#include "core/engine.h"
#include "core/tz.h"

/* One record as the centre received it. */
struct vg_activity_input {
    int64_t received_ms;
    struct vg_engine_input in;
};

/* A night is from 22:00 to 07:00, local time: a ring then wakes her. */
#define VG_ACTIVITY_NIGHT_FROM_H 22
#define VG_ACTIVITY_NIGHT_TO_H   7

struct vg_activity {
    int64_t from_ms, to_ms;
    double days;
    uint32_t by_kind[VG_ALARM_KIND__COUNT];
    uint32_t by_priority[6];   /* index: enum vg_alarm_priority */
    uint32_t operator_alerts;  /* priorities 1 to 3: what opens or raises an incident */
    uint32_t by_hour[24];      /* the operator's alerts by local hour of the day */
    uint32_t rings[3];         /* her unit rung aloud, by level (1 pre-alert, 2 alert) */
    uint32_t quiet[3];         /* ...told quietly (vibrate, screen only: her policy), by level */
    uint32_t nights_disturbed; /* distinct nights with a ring aloud on her unit */
    uint32_t battery_incidents;
    int64_t signal_loss_ms[VG_UNIT_COUNT]; /* GNSS or communication lost, by unit, in the period */
    double operator_alerts_per_day, rings_per_day;
    uint32_t records; /* fed to the engine */
};

/* Replay inputs (in the order received) from a fresh engine started at the
 * first one's time, ticking at its deadlines, up to to_ms; count what falls
 * in [from_ms, to_ms) (the records before from_ms only warm it up). No
 * input before to_ms: nothing happened (the units had not spoken). `work`
 * is scratch space for the engine's output (large: on the caller's heap).
 * 0, or VG_EINVAL for a configuration the engine refuses or from >= to. */
int vg_activity_replay(const struct vg_engine_config *cfg, const struct vg_activity_input *in,
                       size_t n, int64_t from_ms, int64_t to_ms, const struct vg_tz *tz,
                       struct vg_engine_out *work, struct vg_activity *out);

#endif
