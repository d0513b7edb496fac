/* The engine and the receivers' Doppler speeds: a fix less precise than
 * the previous one aged is judged at that one (fuse_past_fix), and a fix
 * that moved further than the Doppler speeds allow is held as a position
 * jump (jump_accel_mps2, jump_hold_ms). Both are judgement: a real
 * approach, whose speeds say it moves, is raised as before. Each test also
 * runs with the rule switched off and checks that the false crossing it
 * prevents is then raised (so that it fails if the rule stops working). */
#include "engine_fixture.h"

/* A fix with a Doppler speed (m/s) and a heading. */
static int fix_v(enum vg_unit unit, int64_t t, struct vg_geo_point p, double accuracy,
                 double speed_mps)
{
    struct vg_engine_input in = {.kind = VG_INPUT_FIX, .unit = (uint8_t)unit};
    in.fix = (struct vg_fix){.time_ms = t,
                             .lat_deg = p.lat_deg,
                             .lon_deg = p.lon_deg,
                             .accuracy_m = (float)accuracy,
                             .speed_mps = (float)speed_mps,
                             .heading_deg = -1,
                             .quality = VG_FIX_3D};
    return feed(&in, t);
}

/* She stays at home in a street canyon (12 m fixes), he stays 4,140 m
 * from her (140 m outside 2R = 4 km, open sky), both still, both units
 * every 5 s; for jump_s her receiver puts her 250 m towards him, with
 * accuracy `acc`; all fixes carry `speed` (-1: no Doppler). The rules as
 * given (fuse, hold_ms). Returns how many pre-alerts were raised. */
static size_t run_her_jump_with(int fuse, int64_t hold_ms, double acc, double speed, int jump_s)
{
    world_init(2000);
    W.params.fuse_past_fix = fuse;
    W.params.jump_hold_ms = hold_ms;
    world_start();
    struct vg_geo_point him = from_home(0, 4140);
    struct vg_geo_point jumped = from_home(0, 250);
    size_t pre = 0;
    int64_t t = T0;
    for (int s = 0; s < 60 + jump_s + 60; s += 5, t += 5 * SEC) {
        bool in_jump = s >= 60 && s < 60 + jump_s;
        assert_int_equal(
            fix_v(VG_UNIT_PROTECTED, t, in_jump ? jumped : W.home, in_jump ? acc : 12.0, speed),
            VG_OK);
        pre += count(VG_ALARM_PREALERT_ENTERED);
        assert_int_equal(fix_v(VG_UNIT_AUTHOR, t, him, 5.0, speed), VG_OK);
        pre += count(VG_ALARM_PREALERT_ENTERED);
    }
    assert_int_equal(tick(t + 2 * MIN), VG_OK);
    pre += count(VG_ALARM_PREALERT_ENTERED);
    return pre;
}

/* Her receiver reports a multipath jump (250 m towards him, accuracy
 * 300 m) for 20 s: judged where her 12 m fix was, aged, nothing is raised.
 * Without the rule, or without Doppler speeds, a pre-alert. */
static void test_blurred_fix_judged_at_the_precise_one(void **state)
{
    (void)state;
    assert_int_equal(run_her_jump_with(1, 0, 300.0, 0.1, 20), 0);
    assert_int_equal(run_her_jump_with(0, 0, 300.0, 0.1, 20), 1);
    assert_int_equal(run_her_jump_with(1, 0, 300.0, -1.0, 20), 1); /* no Doppler */
}

/* Her receiver does not see the jump (accuracy still 12 m): 250 m in 5 s
 * while both Doppler speeds say she is still. Held while it lasts (15 s),
 * dropped when her fixes come back: nothing raised. Without the rule, a
 * pre-alert at once. */
static void test_position_jump_is_held(void **state)
{
    (void)state;
    assert_int_equal(run_her_jump_with(0, 25000, 12.0, 0.1, 15), 0);
    assert_int_equal(run_her_jump_with(0, 0, 12.0, 0.1, 15), 1);
    assert_int_equal(run_her_jump_with(0, 25000, 12.0, -1.0, 15), 1); /* no Doppler */
}

/* A jump that lasts longer than jump_hold_ms is taken (the earlier fix may
 * have been the wrong one): raised then. */
static void test_lasting_jump_is_taken(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    struct vg_geo_point him = from_home(0, 4140);
    struct vg_geo_point jumped = from_home(0, 250);
    int64_t t = T0;
    for (; t < T0 + MIN; t += 5 * SEC) {
        assert_int_equal(fix_v(VG_UNIT_PROTECTED, t, W.home, 12.0, 0.1), VG_OK);
        assert_int_equal(fix_v(VG_UNIT_AUTHOR, t, him, 5.0, 0.1), VG_OK);
    }
    int64_t jump_at = t;
    int64_t raised = -1;
    const struct vg_alarm *a = NULL;
    for (; t < jump_at + MIN && raised < 0; t += 5 * SEC) {
        assert_int_equal(fix_v(VG_UNIT_PROTECTED, t, jumped, 12.0, 0.1), VG_OK);
        a = find(VG_ALARM_PREALERT_ENTERED);
        if (a) {
            raised = t;
            break;
        }
        assert_int_equal(fix_v(VG_UNIT_AUTHOR, t, him, 5.0, 0.1), VG_OK);
        a = find(VG_ALARM_PREALERT_ENTERED);
        if (a)
            raised = t;
    }
    assert_true(raised >= 0);
    /* taken once jump_hold_ms has passed since the last accepted fix (5 s
     * before the jump), not before */
    assert_true(raised >= jump_at - 5 * SEC + W.params.jump_hold_ms);
    assert_true(raised <= jump_at + W.params.jump_hold_ms);
    assert_true(a->at_ms >= jump_at && a->at_ms <= raised);
}

/* He drives towards her at 11 m/s; his fixes are displaced 250 m sideways
 * for 30 s (a jump longer than jump_hold_ms: taken after 25 s), then right
 * again: the true track is taken back at once, not held as a jump. */
static void test_true_track_back_after_a_taken_jump(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    int64_t t = T0;
    double d = 7000;
    for (int s = 0; s <= 90; s += 5, t += 5 * SEC, d -= 55) {
        bool jumped = s >= 30 && s < 60;
        struct vg_geo_point him = from_home(0, d);
        struct vg_geo_point p = him;
        if (jumped)
            assert_int_equal(vg_geo_destination(him, 90, 250, &p), VG_OK);
        assert_int_equal(fix_v(VG_UNIT_PROTECTED, t, W.home, 5.0, 0.1), VG_OK);
        assert_int_equal(fix_v(VG_UNIT_AUTHOR, t, p, 5.0, 11.0), VG_OK);
        const struct vg_track_fix *last = &W.st.party[0].hist[W.st.party[0].n_hist - 1];
        if (s < 30 || s >= 60) /* the true track: taken as it comes */
            assert_int_equal(last->time_ms, t);
        else if (s < 50) /* the jump, held */
            assert_int_equal(last->time_ms, T0 + 25 * SEC);
        else /* held 25 s since the last accepted fix: taken */
            assert_int_equal(last->time_ms, t);
        if (s == 60)
            assert_near((double)last->lat_e7 / 1e7, him.lat_deg, 1e-6);
    }
}

/* He drives towards her at 20 m/s from 5 km, his Doppler saying so, fixes
 * every 5 s (precise, or blurred to 300 m from 4.6 km on); the rules as
 * given. Returns when the pre-alert was raised, after T0 (-1: never). */
static int64_t approach_raised(int fuse, int64_t hold_ms, bool blurred)
{
    world_init(2000);
    W.params.fuse_past_fix = fuse;
    W.params.jump_hold_ms = hold_ms;
    world_start();
    int64_t t = T0;
    for (double d = 5000; d > 2500; d -= 100, t += 5 * SEC) {
        assert_int_equal(fix_v(VG_UNIT_PROTECTED, t, W.home, 12.0, 0.1), VG_OK);
        if (count(VG_ALARM_PREALERT_ENTERED))
            return t - T0;
        double acc = blurred && d < 4600 ? 300.0 : 5.0;
        assert_int_equal(fix_v(VG_UNIT_AUTHOR, t, from_home(0, d), acc, 20.0), VG_OK);
        if (count(VG_ALARM_PREALERT_ENTERED))
            return t - T0;
    }
    return -1;
}

/* A real approach is not a jump: raised on the same fix as without the
 * rules (he crosses 2R 50 s after T0). Blurred fixes: the aged precise fix
 * grows at his speed (20 m/s), so the crossing is raised within two fixes
 * of when it is raised without the rule. */
static void test_real_approach_is_raised_on_time(void **state)
{
    (void)state;
    int64_t plain = approach_raised(0, 0, false);
    assert_true(plain >= 50 * SEC && plain <= 55 * SEC);
    assert_int_equal(approach_raised(1, 25000, false), plain);
    int64_t blurred_before = approach_raised(0, 0, true);
    int64_t blurred = approach_raised(1, 25000, true);
    assert_true(blurred > 0 && blurred_before > 0);
    assert_true(blurred <= blurred_before + 10 * SEC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blurred_fix_judged_at_the_precise_one),
        cmocka_unit_test(test_position_jump_is_held),
        cmocka_unit_test(test_lasting_jump_is_taken),
        cmocka_unit_test(test_true_track_back_after_a_taken_jump),
        cmocka_unit_test(test_real_approach_is_raised_on_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
