/* A small world for the engine tests: a protected person at home in Nantes,
 * an author somewhere around, the centre's clock, and helpers to feed
 * records and look at what came out. Header-only (static functions) so
 * each engine test program includes its own copy. */
#ifndef VG_TESTS_ENGINE_FIXTURE_H
#define VG_TESTS_ENGINE_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/engine.h"
#include "core/err.h"
#include "core/geo.h"
#include "core/prng.h"
#include "core/tz.h"
#include "core/window.h"
#include "core/zone.h"
#include "testing.h"

/* 2026-07-01T08:00:00Z, a Wednesday */
#define T0 1782892800000LL
#define SEC 1000LL
#define MIN (60 * SEC)

struct world {
    struct vg_engine_params params;
    struct vg_zone zones[VG_ENGINE_MAX_FIXED_ZONES];
    struct vg_window windows[4];
    struct vg_geo_point vertices[8];
    struct vg_tz tz;
    struct vg_engine_config cfg;
    struct vg_engine_state st;
    struct vg_engine_out out;
    int64_t now;
    struct vg_geo_point home; /* the protected person's home */
    /* what the last helper call produced (several feeds for both_at()) */
    struct vg_alarm got[256];
    size_t n_got;
    struct vg_command got_cmd[64];
    size_t n_got_cmd;
    bool accumulate;
};

static struct world W; /* large (the time zone tables): not on the stack */

static const struct vg_geo_point NANTES = {47.2184, -1.5536};

static inline struct vg_geo_point from_home(double bearing, double distance_m)
{
    struct vg_geo_point p;
    assert_int_equal(vg_geo_destination(W.home, bearing, distance_m, &p), VG_OK);
    return p;
}

/* A world with R = radius_m, no fixed zone; the engine is started at T0. */
static inline void world_init(double radius_m)
{
    memset(&W, 0, sizeof W);
    vg_engine_params_default(&W.params);
    assert_int_equal(vg_tz_from_posix(&W.tz, VG_TZ_RULE_EUROPE_PARIS), VG_OK);
    W.home = NANTES;
    W.cfg.alert_radius_m = radius_m;
    W.cfg.zones = W.zones;
    W.cfg.n_zones = 0;
    W.cfg.tz = &W.tz;
    W.cfg.params = &W.params;
    W.now = T0;
}

static inline void world_start(void)
{
    assert_int_equal(vg_engine_init(&W.st, &W.cfg, W.now), VG_OK);
}

static inline void advance_to(int64_t t)
{
    if (t > W.now)
        W.now = t;
}

/* Copy W.out into W.got (after clearing it, unless accumulating). */
static inline void collect(void)
{
    if (!W.accumulate) {
        W.n_got = 0;
        W.n_got_cmd = 0;
    }
    for (size_t i = 0; i < W.out.n_alarms; i++) {
        assert_true(W.n_got < ARRAY_LEN(W.got));
        W.got[W.n_got++] = W.out.alarms[i];
    }
    for (size_t i = 0; i < W.out.n_commands; i++) {
        assert_true(W.n_got_cmd < ARRAY_LEN(W.got_cmd));
        W.got_cmd[W.n_got_cmd++] = W.out.commands[i];
    }
}

/* Feed a record received at W.now (moved forward to the record's time). */
static inline int feed(const struct vg_engine_input *in, int64_t record_ms)
{
    advance_to(record_ms);
    int rc = vg_engine_feed(&W.st, &W.cfg, in, W.now, &W.out);
    collect();
    return rc;
}

static inline int fix_acc(enum vg_unit unit, int64_t t, struct vg_geo_point p, double accuracy)
{
    struct vg_engine_input in = {.kind = VG_INPUT_FIX, .unit = (uint8_t)unit};
    in.fix = (struct vg_fix){.time_ms = t,
                             .lat_deg = p.lat_deg,
                             .lon_deg = p.lon_deg,
                             .accuracy_m = (float)accuracy,
                             .speed_mps = -1,
                             .heading_deg = -1,
                             .quality = VG_FIX_3D};
    return feed(&in, t);
}

static inline int author_at(int64_t t, struct vg_geo_point p)
{
    return fix_acc(VG_UNIT_AUTHOR, t, p, 5);
}

static inline int protected_at(int64_t t, struct vg_geo_point p)
{
    return fix_acc(VG_UNIT_PROTECTED, t, p, 5);
}

static inline int event(enum vg_unit unit, enum vg_event_kind kind, int64_t t)
{
    struct vg_engine_input in = {.kind = VG_INPUT_EVENT, .unit = (uint8_t)unit};
    in.event = (struct vg_unit_event){.time_ms = t, .kind = (uint8_t)kind};
    return feed(&in, t);
}

static inline struct vg_unit_status status_none(int64_t t)
{
    return (struct vg_unit_status){.time_ms = t,
                                   .battery_pct = -1,
                                   .charging = -1,
                                   .strap_closed = -1,
                                   .skin_contact = -1,
                                   .bracelet_link = -1,
                                   .beacon_heard = -1,
                                   .beacon_range_m = -1};
}

static inline int status(enum vg_unit unit, struct vg_unit_status st)
{
    struct vg_engine_input in = {.kind = VG_INPUT_STATUS, .unit = (uint8_t)unit};
    in.status = st;
    return feed(&in, st.time_ms);
}

static inline int tick(int64_t now)
{
    advance_to(now);
    int rc = vg_engine_tick(&W.st, &W.cfg, W.now, &W.out);
    collect();
    return rc;
}

/* Keep both units alive (heartbeats) up to t, ticking at every deadline on
 * the way; returns the number of alarms of the given kind raised (0 = any). */
static inline int run_until(int64_t t, unsigned kind)
{
    int n = 0;
    while (W.now < t) {
        int64_t next = W.st.next_deadline_ms;
        int64_t step = W.now + 30 * SEC;
        if (next < step)
            step = next;
        if (step > t)
            step = t;
        if (step <= W.now)
            step = W.now + 1;
        assert_int_equal(tick(step), VG_OK);
        for (size_t i = 0; i < W.n_got; i++)
            if (kind == 0 || W.got[i].kind == kind)
                n++;
    }
    return n;
}

static inline size_t count(unsigned kind)
{
    size_t n = 0;
    for (size_t i = 0; i < W.n_got; i++)
        if (W.got[i].kind == kind)
            n++;
    return n;
}

static inline const struct vg_alarm *find(unsigned kind)
{
    for (size_t i = 0; i < W.n_got; i++)
        if (W.got[i].kind == kind)
            return &W.got[i];
    return NULL;
}

static inline const struct vg_alarm *find_zone(unsigned kind, int zone_index)
{
    for (size_t i = 0; i < W.n_got; i++)
        if (W.got[i].kind == kind && W.got[i].zone_index == zone_index)
            return &W.got[i];
    return NULL;
}

static inline const struct vg_command *find_command(unsigned kind, unsigned unit)
{
    for (size_t i = 0; i < W.n_got_cmd; i++)
        if (W.got_cmd[i].kind == kind && W.got_cmd[i].unit == unit)
            return &W.got_cmd[i];
    return NULL;
}

static inline void dump_out(const char *what)
{
    print_message("  -- %s: %zu alarm(s), %zu command(s)\n", what, W.n_got, W.n_got_cmd);
    for (size_t i = 0; i < W.n_got; i++) {
        const struct vg_alarm *a = &W.got[i];
        print_message("     #%u %s unit=%s zone=%d flags=0x%x d=%.1f u=%.1f conf=%u by=%s\n",
                      a->seq, vg_alarm_kind_name(a->kind), vg_unit_name(a->unit), a->zone_index,
                      a->flags, a->ev.distance_m, a->ev.uncertainty_m, a->ev.confidence,
                      vg_party_name(a->ev.approached_by));
    }
}

#endif
