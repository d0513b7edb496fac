/* A measure's activity replayed (core/activity.c): what the engine raises
 * and rings on the same tracks, counted by kind, hour and night; the same
 * tracks with another R; losses as durations; the period's edges. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/activity.h"
#include "core/err.h"
#include "core/geo.h"
#include "testing.h"

#define SEC 1000LL
#define MIN (60 * SEC)
/* 2026-07-01T23:00:00Z, and the same day at noon */
#define NIGHT 1782946800000LL
#define NOON  (NIGHT - 11 * 60 * MIN)

static const struct vg_geo_point HOME = {47.2184, -1.5536};

static struct vg_activity_input inputs[2000];
static size_t n_inputs;
static struct vg_engine_out work;

static void fix(int64_t t, uint8_t unit, struct vg_geo_point p)
{
    assert_true(n_inputs < ARRAY_LEN(inputs));
    struct vg_activity_input *x = &inputs[n_inputs++];
    memset(x, 0, sizeof *x);
    x->received_ms = t;
    x->in.kind = VG_INPUT_FIX;
    x->in.unit = unit;
    x->in.fix = (struct vg_fix){.time_ms = t,
                                .lat_deg = p.lat_deg,
                                .lon_deg = p.lon_deg,
                                .accuracy_m = 10,
                                .speed_mps = -1,
                                .heading_deg = -1,
                                .quality = 2};
}

/* He drives north-south towards her home: 5 km to `closest` m over 10
 * minutes, stays 5 minutes, goes back over 10 minutes, stays until the
 * hour's end; a fix every 10 s. She stays home, a fix a minute; she falls silent from minute 30 to
 * 42 when `gap`. */
static void tracks(int64_t t0, double closest, bool gap)
{
    n_inputs = 0;
    for (int64_t s = 0; s < 60 * 60; s += 10) {
        double d;
        if (s < 600)
            d = 5000 - (5000 - closest) * (double)s / 600;
        else if (s < 900)
            d = closest;
        else if (s < 1500)
            d = closest + (5000 - closest) * (double)(s - 900) / 600;
        else
            d = 5000;
        struct vg_geo_point p;
        assert_int_equal(vg_geo_destination(HOME, 0, d, &p), VG_OK);
        fix(t0 + s * SEC + 500, VG_UNIT_AUTHOR, p);
        if (s % 60 == 0 && !(gap && s > 30 * 60 && s < 42 * 60))
            fix(t0 + s * SEC, VG_UNIT_PROTECTED, HOME);
    }
}

static struct vg_engine_params params;

static struct vg_engine_config config(double radius_m)
{
    vg_engine_params_default(&params);
    return (struct vg_engine_config){.alert_radius_m = radius_m, .params = &params};
}

static void test_an_approach_at_night(void **state)
{
    (void)state;
    tracks(NIGHT, 1500, false);
    struct vg_engine_config cfg = config(2000);
    struct vg_activity a;
    assert_int_equal(
        vg_activity_replay(&cfg, inputs, n_inputs, NIGHT, NIGHT + 60 * MIN, NULL, &work, &a),
        VG_OK);
    assert_int_equal(a.records, n_inputs);
    assert_int_equal(a.by_kind[VG_ALARM_PREALERT_ENTERED], 1);
    assert_int_equal(a.by_kind[VG_ALARM_ALERT_ENTERED], 1);
    assert_int_equal(a.by_kind[VG_ALARM_ALERT_LEFT], 1);
    assert_int_equal(a.by_kind[VG_ALARM_PREALERT_LEFT], 1);
    assert_int_equal(a.rings[VG_LEVEL_PREALERT], 1);
    assert_int_equal(a.rings[VG_LEVEL_ALERT], 1);
    assert_int_equal(a.nights_disturbed, 1); /* both rings in the same night */
    /* the operator's alerts: the entries (the departures are information) */
    assert_int_equal(a.operator_alerts, 2);
    assert_int_equal(a.by_hour[23], 2);
    assert_near(a.days, 1.0 / 24, 1e-9);
    assert_near(a.operator_alerts_per_day, 48, 1e-9);
    assert_near(a.rings_per_day, 48, 1e-9);
}

static void test_another_radius_on_the_same_tracks(void **state)
{
    (void)state;
    tracks(NIGHT, 1500, false);
    struct vg_engine_config cfg = config(1000); /* 2R = 2000: he comes within it, not within R */
    struct vg_activity a;
    assert_int_equal(
        vg_activity_replay(&cfg, inputs, n_inputs, NIGHT, NIGHT + 60 * MIN, NULL, &work, &a),
        VG_OK);
    assert_int_equal(a.by_kind[VG_ALARM_PREALERT_ENTERED], 1);
    assert_int_equal(a.by_kind[VG_ALARM_ALERT_ENTERED], 0);
    assert_int_equal(a.rings[VG_LEVEL_PREALERT], 1);
    assert_int_equal(a.rings[VG_LEVEL_ALERT], 0);
    /* R = 10 km: he never leaves the pre-alert ring (2R = 20 km) */
    cfg = config(10000);
    assert_int_equal(
        vg_activity_replay(&cfg, inputs, n_inputs, NIGHT, NIGHT + 60 * MIN, NULL, &work, &a),
        VG_OK);
    assert_int_equal(a.by_kind[VG_ALARM_ALERT_ENTERED], 1); /* within R from the start */
    assert_int_equal(a.by_kind[VG_ALARM_ALERT_LEFT], 0);
    assert_int_equal(a.by_kind[VG_ALARM_PREALERT_LEFT], 0);
}

static void test_a_day_disturbs_no_night(void **state)
{
    (void)state;
    tracks(NOON, 1500, false);
    struct vg_engine_config cfg = config(2000);
    struct vg_activity a;
    assert_int_equal(
        vg_activity_replay(&cfg, inputs, n_inputs, NOON, NOON + 60 * MIN, NULL, &work, &a), VG_OK);
    assert_int_equal(a.rings[VG_LEVEL_ALERT], 1);
    assert_int_equal(a.nights_disturbed, 0);
    assert_int_equal(a.by_hour[12], 2);
}

static void test_the_period_counts_only_its_own(void **state)
{
    (void)state;
    tracks(NIGHT, 1500, false);
    struct vg_engine_config cfg = config(2000);
    struct vg_activity a;
    /* from minute 12: the entries (before minute 10) warm the engine up
     * but are not counted; the departures are */
    assert_int_equal(vg_activity_replay(&cfg, inputs, n_inputs, NIGHT + 12 * MIN, NIGHT + 60 * MIN,
                                        NULL, &work, &a),
                     VG_OK);
    assert_int_equal(a.by_kind[VG_ALARM_PREALERT_ENTERED], 0);
    assert_int_equal(a.by_kind[VG_ALARM_ALERT_ENTERED], 0);
    assert_int_equal(a.by_kind[VG_ALARM_ALERT_LEFT], 1);
    assert_int_equal(a.rings[VG_LEVEL_ALERT], 0);
    assert_int_equal(a.records, n_inputs);
}

static void test_losses_as_durations(void **state)
{
    (void)state;
    tracks(NIGHT, 1500, true);
    struct vg_engine_config cfg = config(2000);
    struct vg_activity a;
    assert_int_equal(
        vg_activity_replay(&cfg, inputs, n_inputs, NIGHT, NIGHT + 60 * MIN, NULL, &work, &a),
        VG_OK);
    /* her unit silent from 30:00 to 42:00: lost once its loss timer ran,
     * found again when it spoke, the GNSS and communication losses counted
     * once */
    int64_t lost = a.signal_loss_ms[VG_UNIT_PROTECTED];
    assert_true(lost >= 5 * MIN && lost <= 9 * MIN);
    assert_int_equal(a.signal_loss_ms[VG_UNIT_AUTHOR], 0);
    /* a loss still running at the end of the period counts up to it */
    assert_int_equal(
        vg_activity_replay(&cfg, inputs, n_inputs, NIGHT, NIGHT + 40 * MIN, NULL, &work, &a),
        VG_OK);
    assert_true(a.signal_loss_ms[VG_UNIT_PROTECTED] > 0);
    assert_true(a.signal_loss_ms[VG_UNIT_PROTECTED] <= 10 * MIN);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct vg_engine_config cfg = config(2000);
    struct vg_activity a;
    assert_int_equal(vg_activity_replay(&cfg, inputs, 0, NIGHT, NIGHT, NULL, &work, &a), VG_EINVAL);
    cfg.alert_radius_m = (double)NAN;
    assert_int_equal(vg_activity_replay(&cfg, inputs, 0, NIGHT, NIGHT + MIN, NULL, &work, &a),
                     VG_EINVAL);
    /* no record: nothing happened (not a period of losses) */
    assert_int_equal(vg_activity_replay(&cfg, inputs, 0, NIGHT, NIGHT + 60 * MIN, NULL, &work, &a),
                     VG_EINVAL); /* (the radius is still NaN here) */
    cfg = config(2000);
    assert_int_equal(vg_activity_replay(&cfg, inputs, 0, NIGHT, NIGHT + 60 * MIN, NULL, &work, &a),
                     VG_OK);
    assert_int_equal(a.operator_alerts + a.by_priority[4] + a.records, 0);
    assert_near(a.days, 1.0 / 24, 1e-9);
    /* a malformed record is skipped, not counted, and changes nothing */
    tracks(NIGHT, 1500, false);
    inputs[3].in.fix.lat_deg = (double)NAN;
    cfg = config(2000);
    assert_int_equal(
        vg_activity_replay(&cfg, inputs, n_inputs, NIGHT, NIGHT + 60 * MIN, NULL, &work, &a),
        VG_OK);
    assert_int_equal(a.records, n_inputs - 1);
    assert_int_equal(a.by_kind[VG_ALARM_ALERT_ENTERED], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_approach_at_night),
        cmocka_unit_test(test_another_radius_on_the_same_tracks),
        cmocka_unit_test(test_a_day_disturbs_no_night),
        cmocka_unit_test(test_the_period_counts_only_its_own),
        cmocka_unit_test(test_losses_as_durations),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
