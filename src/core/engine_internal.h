/* Shared between the engine's source files; not part of the API. */
#ifndef VG_CORE_ENGINE_INTERNAL_H
#define VG_CORE_ENGINE_INTERNAL_H

#include "core/engine.h"

#define VG__AUTHOR    0
#define VG__PROTECTED 1

/* What one call to feed or tick works with. */
struct vg__ctx {
    struct vg_engine_state *s;
    const struct vg_engine_config *cfg;
    const struct vg_engine_params *p;
    struct vg_engine_out *out;
    int64_t now;         /* the centre's time, never going back */
    int64_t record_ms;   /* time of the record being judged (now for a tick) */
    uint8_t extra_flags; /* added to every alarm of this call (VG_ALARM_F_CLOCK) */
};

/* A new alarm in ctx->out, numbered, with both parties' latest fixes as
 * evidence. Never fails: the output is sized for the worst input. */
struct vg_alarm *vg__alarm(struct vg__ctx *c, enum vg_alarm_kind kind, enum vg_unit unit,
                           enum vg_alarm_priority priority, int64_t at_ms);
struct vg_command *vg__command(struct vg__ctx *c, enum vg_command_kind kind, enum vg_unit unit,
                               uint8_t level, int16_t zone_index, int32_t interval_ms);

/* Compact fixes. */
void vg__track_from_fix(struct vg_track_fix *t, const struct vg_fix *f);
void vg__fix_from_track(struct vg_fix *f, const struct vg_track_fix *t);
const struct vg_track_fix *vg__latest(const struct vg_party_state *ps);
/* The party's fix nearest in time to t_ms, or NULL. */
const struct vg_track_fix *vg__nearest(const struct vg_party_state *ps, int64_t t_ms);
/* Uncertainty (95% radius) of a party's fix when used at time t_ms. */
double vg__aged_accuracy(const struct vg__ctx *c, const struct vg_track_fix *f, int64_t t_ms);

/* Fixes and zones (engine_zone.c). */
void vg__feed_fix(struct vg__ctx *c, int party, const struct vg_fix *fix);
void vg__zones_tick(struct vg__ctx *c);
/* Cache which fixed zones have an open window at t, and until when. */
void vg__windows_refresh(struct vg__ctx *c, int64_t t);
int64_t vg__zones_deadline(const struct vg__ctx *c);
/* Whether the author's last known position could reach an alert ring by
 * now (losses, engine.c). */
bool vg__author_reachable(struct vg__ctx *c, double *reach_m, int64_t *when_ms);

#endif
