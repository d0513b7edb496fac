/* libFuzzer harness for the alarm engine: arbitrary sequences of records
 * (any field, NaN and garbage included) and ticks, at arbitrary times,
 * against a measure with a circle, a polygon and time windows. The engine
 * must refuse what is malformed without changing its state, never crash,
 * never overflow its output, keep its clock monotonic, and never put a
 * non-finite number in an alarm. */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/engine.h"
#include "core/err.h"
#include "core/tz.h"
#include "core/window.h"
#include "core/zone.h"

#define T0 1782892800000LL /* 2026-07-01T08:00:00Z */

struct reader {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct reader *r, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; i++) {
        v = v << 8 | (r->n ? *r->p : 0);
        if (r->n) {
            r->p++;
            r->n--;
        }
    }
    return v;
}

/* A coordinate: mostly near Nantes, sometimes raw bits (NaN, huge...). */
static double coord(struct reader *r, double centre, double span)
{
    uint8_t mode = (uint8_t)take(r, 1);
    if (mode < 8) {
        uint64_t bits = take(r, 8);
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    return centre + span * ((double)(int16_t)take(r, 2) / 32768.0);
}

static void check_out(const struct vg_engine_out *out)
{
    assert(out->n_alarms <= VG_ENGINE_OUT_MAX_ALARMS);
    assert(out->n_commands <= VG_ENGINE_OUT_MAX_COMMANDS);
    for (size_t i = 0; i < out->n_alarms; i++) {
        const struct vg_alarm *a = &out->alarms[i];
        assert(a->kind > 0 && a->kind < VG_ALARM_KIND__COUNT);
        assert(a->priority >= VG_PRIORITY_ALERT && a->priority <= VG_PRIORITY_INFO);
        assert(!isnan(a->ev.distance_m) && !isnan(a->ev.uncertainty_m));
        assert(isfinite(a->ev.closing_speed_mps));
        assert(isfinite(a->ev.author_fix.lat_deg) && isfinite(a->ev.protected_fix.lon_deg));
    }
    for (size_t i = 0; i < out->n_commands; i++) {
        const struct vg_command *c = &out->commands[i];
        assert(c->kind != VG_CMD_RING || c->mode <= VG_RING_SILENT);
        /* an alert is never told quietly, whatever the policy */
        assert(c->kind != VG_CMD_RING || c->level != VG_LEVEL_ALERT || c->mode == VG_RING_LOUD);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vg_tz tz;
    static struct vg_engine_params params;
    static struct vg_zone zones[2];
    static struct vg_geo_point outline[4] = {
        {47.190, -1.560}, {47.190, -1.550}, {47.196, -1.550}, {47.196, -1.560}};
    static struct vg_window windows[2];
    static struct vg_engine_config cfg;
    static int ready;
    if (!ready) {
        vg_tz_from_posix(&tz, VG_TZ_RULE_EUROPE_PARIS);
        vg_engine_params_default(&params);
        vg_zone_init_circle(&zones[0], 1, VG_ZONE_PROTECTED_WORKPLACE,
                            (struct vg_geo_point){47.25, -1.50}, 1500);
        vg_zone_init_polygon(&zones[1], 2, VG_ZONE_SCHOOL, outline, 4, 1000, NULL);
        vg_window_init_weekly(&windows[0], VG_DAY_WED, 16 * 60, 16 * 60 + 30);
        vg_window_init_weekly(&windows[1], VG_DAY_ALL, 23 * 60, 60);
        vg_zone_set_windows(&zones[1], windows, 2);
        /* a policy with a night, quiet, so that the rings' modes get exercised */
        static const struct vg_ring_policy policy = {VG_RING_VIBRATE, VG_RING_SILENT, 21 * 60,
                                                     8 * 60};
        cfg = (struct vg_engine_config){2000, zones, 2, &tz, &params, &policy};
        ready = 1;
    }
    static struct vg_engine_state st;
    static struct vg_engine_out out;
    struct reader r = {data, size};
    int64_t now = T0;
    if (vg_engine_init(&st, &cfg, now) != VG_OK)
        __builtin_trap();
    while (r.n > 0) {
        uint8_t op = (uint8_t)take(&r, 1);
        /* time moves mostly forward, a little back now and then */
        int64_t step = (int64_t)(int16_t)take(&r, 2) * 250;
        now += step;
        if (now < T0 - 86400000LL)
            now = T0 - 86400000LL;
        int64_t record = now - (int64_t)(take(&r, 1) % 8 == 0 ? take(&r, 3) * 100 : 0);
        int64_t before_now = st.now_ms;
        struct vg_engine_input in;
        memset(&in, 0, sizeof in);
        in.unit = (uint8_t)(op >> 4) % 4; /* 3 is not a unit */
        int rc;
        switch (op & 3) {
        case 0:
            in.kind = (op & 8) ? VG_INPUT_FIX : (uint8_t)take(&r, 1);
            in.fix = (struct vg_fix){record,
                                     coord(&r, 47.2184, 0.2),
                                     coord(&r, -1.5536, 0.3),
                                     (float)take(&r, 2) / 10.0f,
                                     (float)(int8_t)take(&r, 1),
                                     (float)take(&r, 2) / 100.0f,
                                     (uint8_t)(take(&r, 1) % 6)}; /* NETWORK, and beyond */
            break;
        case 1:
            in.kind = VG_INPUT_STATUS;
            in.status = (struct vg_unit_status){record,
                                                (int8_t)take(&r, 1),
                                                (int8_t)take(&r, 1),
                                                (int8_t)take(&r, 1),
                                                (int8_t)take(&r, 1),
                                                (int8_t)take(&r, 1),
                                                (int8_t)take(&r, 1),
                                                (int16_t)take(&r, 2)};
            break;
        case 2:
            in.kind = VG_INPUT_EVENT;
            in.event = (struct vg_unit_event){record, (uint8_t)(take(&r, 1) % 7)};
            break;
        default:
            rc = vg_engine_tick(&st, &cfg, now, &out);
            assert(rc == VG_OK || rc == VG_ERANGE);
            check_out(&out);
            assert(st.now_ms >= before_now);
            continue;
        }
        static struct vg_engine_state copy;
        copy = st;
        rc = vg_engine_feed(&st, &cfg, &in, now, &out);
        if (rc != VG_OK) {
            assert(rc == VG_EINVAL || rc == VG_ERANGE);
            assert(memcmp(&copy, &st, sizeof st) == 0); /* refused: nothing changed */
            assert(out.n_alarms == 0);
        }
        check_out(&out);
        assert(st.now_ms >= before_now);
    }
    return 0;
}
