/* The engine and the zones: crossings judged with accuracy, dwell and
 * hysteresis, implausible jumps, ageing, late records, windows, who
 * approached whom, and the commands to the units. */
#include "engine_fixture.h"

/* Both parties report at t: she at home, he at p. */
static void both_acc(int64_t t, struct vg_geo_point p, double accuracy)
{
    assert_int_equal(fix_acc(VG_UNIT_PROTECTED, t, W.home, accuracy), VG_OK);
    W.accumulate = true;
    assert_int_equal(fix_acc(VG_UNIT_AUTHOR, t, p, accuracy), VG_OK);
    W.accumulate = false;
}

static void both_at(int64_t t, struct vg_geo_point p)
{
    both_acc(t, p, 5);
}

/* She at `her`, he at `him`, both at t. */
static void pair_at(int64_t t, struct vg_geo_point her, struct vg_geo_point him)
{
    assert_int_equal(protected_at(t, her), VG_OK);
    W.accumulate = true;
    assert_int_equal(author_at(t, him), VG_OK);
    W.accumulate = false;
}

static void test_clear_crossings_raised_on_first_fix(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    both_at(T0, from_home(90, 6000));
    assert_int_equal(W.n_got, 0);
    /* 6 km is within 2R + 2 km: both units are asked to report fast */
    assert_non_null(find_command(VG_CMD_SET_REPORTING, VG_UNIT_AUTHOR));
    assert_non_null(find_command(VG_CMD_SET_REPORTING, VG_UNIT_PROTECTED));
    assert_int_equal(find_command(VG_CMD_SET_REPORTING, VG_UNIT_AUTHOR)->interval_ms,
                     W.params.fast_interval_ms);

    both_at(T0 + 100 * SEC, from_home(90, 3800));
    const struct vg_alarm *a = find_zone(VG_ALARM_PREALERT_ENTERED, VG_ZONE_INDEX_MOBILE);
    assert_non_null(a);
    assert_int_equal(W.n_got, 1);
    assert_int_equal(a->ev.confidence, VG_CONFIDENCE_CLEAR);
    assert_int_equal(a->priority, VG_PRIORITY_PREALERT);
    assert_int_equal(a->level_from, VG_LEVEL_NONE);
    assert_int_equal(a->level_to, VG_LEVEL_PREALERT);
    assert_int_equal(a->at_ms, T0 + 100 * SEC);
    assert_near(a->ev.distance_m, 3800, 0.05);
    assert_near(a->ev.threshold_m, 4000, 1e-9);
    assert_near(a->ev.closing_speed_mps, 22.0, 0.01);
    assert_int_equal(a->ev.approached_by, VG_PARTY_AUTHOR);
    assert_near(a->ev.author_fix.lat_deg, from_home(90, 3800).lat_deg, 1e-6);
    assert_near(a->ev.protected_fix.lon_deg, W.home.lon_deg, 1e-6);
    const struct vg_command *ring = find_command(VG_CMD_RING, VG_UNIT_PROTECTED);
    assert_non_null(ring);
    assert_int_equal(ring->level, VG_LEVEL_PREALERT);
    assert_null(find_command(VG_CMD_RING, VG_UNIT_AUTHOR)); /* never told about her */

    both_at(T0 + 200 * SEC, from_home(90, 1800));
    a = find_zone(VG_ALARM_ALERT_ENTERED, VG_ZONE_INDEX_MOBILE);
    assert_non_null(a);
    assert_int_equal(W.n_got, 1);
    assert_int_equal(a->priority, VG_PRIORITY_ALERT);
    assert_int_equal(a->ev.confidence, VG_CONFIDENCE_CLEAR);
    assert_near(a->ev.threshold_m, 2000, 1e-9);
    assert_int_equal(a->seq, 2);
    ring = find_command(VG_CMD_RING, VG_UNIT_PROTECTED);
    assert_non_null(ring);
    assert_int_equal(ring->level, VG_LEVEL_ALERT);
}

/* Exactly on a ring counts as inside; an ambiguous position needs to
 * persist over the dwell time; beyond the accuracy band nothing happens. */
static void test_ring_boundaries(void **state)
{
    (void)state;
    static const struct {
        double distance;        /* from her, metres */
        double ring_level;      /* expected level after a minute there */
        int raised_on_fix;      /* the fix (1-based, every 10 s) that raises it, 0 = never */
        uint8_t confidence;
    } cases[] = {
        /* u = sqrt(3^2 + 3^2) = 4.24 m: clear within 2u = 8.5 m, suspected up to u/4 = 1.06 m beyond */
        {4000.0 - 10.0, VG_LEVEL_PREALERT, 1, VG_CONFIDENCE_CLEAR},  /* d + 2u <= 2R */
        /* within 2u: the dwell (10 s, two fixes) */
        {4000.0 - 5.0, VG_LEVEL_PREALERT, 2, VG_CONFIDENCE_CONFIRMED},
        {4000.0, VG_LEVEL_PREALERT, 2, VG_CONFIDENCE_CONFIRMED},     /* exactly 2R */
        {4000.0 + 2.0, VG_LEVEL_NONE, 0, 0},                         /* beyond the band */
        {2000.0 - 10.0, VG_LEVEL_ALERT, 1, VG_CONFIDENCE_CLEAR},
        {2000.0, VG_LEVEL_ALERT, 2, VG_CONFIDENCE_CONFIRMED},        /* exactly R */
        {2000.0 + 2.0, VG_LEVEL_PREALERT, 1, VG_CONFIDENCE_CLEAR},   /* just outside R */
        {0.0, VG_LEVEL_ALERT, 1, VG_CONFIDENCE_CLEAR},               /* same point */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        world_init(2000);
        world_start();
        int raised_on = 0;
        uint8_t conf = 0;
        for (int k = 1; k <= 7; k++) {
            int64_t t = T0 + k * 10 * SEC;
            both_acc(t, from_home(45, cases[i].distance), 3);
            for (size_t j = 0; j < W.n_got; j++) {
                const struct vg_alarm *a = &W.got[j];
                if ((a->kind == VG_ALARM_PREALERT_ENTERED || a->kind == VG_ALARM_ALERT_ENTERED) &&
                    a->level_to == cases[i].ring_level && !raised_on) {
                    raised_on = k;
                    conf = a->ev.confidence;
                }
            }
        }
        if (raised_on != cases[i].raised_on_fix || conf != cases[i].confidence)
            fail_msg("case %zu (%.1f m): raised on fix %d with confidence %u, expected %d / %u", i,
                     cases[i].distance, raised_on, conf, cases[i].raised_on_fix,
                     cases[i].confidence);
        assert_int_equal(W.st.zone[0].level, cases[i].ring_level);
    }
}

/* Thirty minutes of fixes scattered around the pre-alert ring: the naive
 * rule would flap dozens of times; the engine raises at most once and does
 * not leave. */
static void test_noise_at_the_edge_does_not_flap(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        world_init(2000);
        world_start();
        struct vg_prng rng;
        vg_prng_seed(&rng, seed);
        int entered = 0, left = 0, naive_crossings = 0;
        bool naive_inside = false;
        for (int k = 0; k < 360; k++) {
            int64_t t = T0 + k * 5 * SEC;
            double d = 4000.0 + 15.0 * vg_prng_normal(&rng);
            assert_int_equal(fix_acc(VG_UNIT_PROTECTED, t, W.home, 10), VG_OK);
            W.accumulate = true;
            assert_int_equal(fix_acc(VG_UNIT_AUTHOR, t, from_home(200, d), 20), VG_OK);
            W.accumulate = false;
            entered += (int)count(VG_ALARM_PREALERT_ENTERED) + (int)count(VG_ALARM_ALERT_ENTERED);
            left += (int)count(VG_ALARM_PREALERT_LEFT) + (int)count(VG_ALARM_ALERT_LEFT);
            if ((d <= 4000.0) != naive_inside) {
                naive_inside = d <= 4000.0;
                naive_crossings++;
            }
        }
        print_message("  seed %d: naive rule %d crossings, engine %d entered / %d left\n",
                      (int)seed, naive_crossings, entered, left);
        assert_true(naive_crossings > 50);
        assert_true(entered <= 1);
        assert_int_equal(left, 0);
    }
}

static void test_exit_needs_margin_and_dwell(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    both_at(T0, from_home(0, 3500));
    assert_non_null(find(VG_ALARM_PREALERT_ENTERED));
    /* 60 m beyond 2R: within the exit margin (max(50 m, 2% of 2R) = 80 m) */
    for (int k = 1; k <= 10; k++) {
        both_at(T0 + k * 10 * SEC, from_home(0, 4060));
        assert_int_equal(W.n_got, 0);
    }
    /* clearly out: the first fix starts the exit, which must hold 60 s */
    int64_t t1 = T0 + 200 * SEC;
    both_at(t1, from_home(0, 4300));
    assert_int_equal(W.n_got, 0);
    both_at(t1 + 30 * SEC, from_home(0, 4350));
    assert_int_equal(W.n_got, 0);
    both_at(t1 + 60 * SEC, from_home(0, 4400));
    const struct vg_alarm *a = find(VG_ALARM_PREALERT_LEFT);
    assert_non_null(a);
    assert_int_equal(a->priority, VG_PRIORITY_INFO);
    assert_int_equal(a->level_from, VG_LEVEL_PREALERT);
    assert_int_equal(a->level_to, VG_LEVEL_NONE);
    assert_null(find_command(VG_CMD_RING, VG_UNIT_PROTECTED)); /* leaving does not ring */
    /* an exit interrupted by a fix back inside the band starts over */
    both_at(t1 + 120 * SEC, from_home(0, 3000));
    assert_non_null(find(VG_ALARM_PREALERT_ENTERED));
    both_at(t1 + 180 * SEC, from_home(0, 4300));
    both_at(t1 + 210 * SEC, from_home(0, 3990)); /* back within the ring */
    both_at(t1 + 240 * SEC, from_home(0, 4300));
    assert_null(find(VG_ALARM_PREALERT_LEFT));
    both_at(t1 + 270 * SEC, from_home(0, 4300));
    assert_null(find(VG_ALARM_PREALERT_LEFT)); /* only 30 s since the exit restarted */
    both_at(t1 + 300 * SEC, from_home(0, 4300));
    assert_non_null(find(VG_ALARM_PREALERT_LEFT));
}

static void test_jump_straight_to_alert_and_back(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    both_at(T0, from_home(120, 7000));
    both_at(T0 + 300 * SEC, from_home(120, 1000)); /* 20 m/s */
    assert_int_equal(W.n_got, 1);
    const struct vg_alarm *a = find(VG_ALARM_ALERT_ENTERED);
    assert_non_null(a);
    assert_int_equal(a->level_from, VG_LEVEL_NONE);
    both_at(T0 + 600 * SEC, from_home(120, 7000));
    both_at(T0 + 700 * SEC, from_home(120, 7100));
    assert_int_equal(W.n_got, 1);
    a = find(VG_ALARM_PREALERT_LEFT);
    assert_non_null(a);
    assert_int_equal(a->level_from, VG_LEVEL_ALERT);
    assert_int_equal(a->level_to, VG_LEVEL_NONE);
}

static void test_alert_left_back_to_prealert(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    both_at(T0, from_home(10, 1500));
    assert_non_null(find(VG_ALARM_ALERT_ENTERED));
    both_at(T0 + 60 * SEC, from_home(10, 3000));
    both_at(T0 + 120 * SEC, from_home(10, 3000));
    const struct vg_alarm *a = find(VG_ALARM_ALERT_LEFT);
    assert_non_null(a);
    assert_int_equal(a->level_to, VG_LEVEL_PREALERT);
    assert_int_equal(W.st.zone[0].level, VG_LEVEL_PREALERT);
}

/* A fix 9.5 km from the last one 5 s earlier is not trusted on its own. */
static void test_impossible_jump_is_held(void **state)
{
    (void)state;
    /* an outlier followed by a fix that agrees with the past: nothing */
    world_init(2000);
    world_start();
    both_at(T0, from_home(300, 10000));
    both_at(T0 + 5 * SEC, from_home(300, 500));
    assert_int_equal(W.n_got, 0);
    assert_null(find_command(VG_CMD_RING, VG_UNIT_PROTECTED));
    both_at(T0 + 10 * SEC, from_home(300, 10000));
    assert_int_equal(W.n_got, 0);
    assert_int_equal(run_until(T0 + 10 * MIN, VG_ALARM_ALERT_ENTERED), 0);
    assert_int_equal(W.st.zone[0].level, VG_LEVEL_NONE);

    /* a second fix that agrees with the jump confirms it at once */
    world_init(2000);
    world_start();
    both_at(T0, from_home(300, 10000));
    both_at(T0 + 5 * SEC, from_home(300, 500));
    assert_int_equal(W.n_got, 0);
    both_at(T0 + 10 * SEC, from_home(300, 520));
    assert_int_equal(count(VG_ALARM_ALERT_ENTERED), 1);
    assert_int_equal(find(VG_ALARM_ALERT_ENTERED)->at_ms, T0 + 5 * SEC);

    /* a jump followed by silence: raised, unconfirmed, once the timeout passes */
    world_init(2000);
    world_start();
    both_at(T0, from_home(300, 10000));
    both_at(T0 + 5 * SEC, from_home(300, 500));
    assert_int_equal(W.n_got, 0);
    assert_true(W.st.next_deadline_ms <= T0 + W.params.confirm_timeout_ms);
    assert_int_equal(tick(T0 + W.params.confirm_timeout_ms - 1), VG_OK);
    assert_int_equal(count(VG_ALARM_ALERT_ENTERED), 0);
    assert_int_equal(tick(T0 + W.params.confirm_timeout_ms), VG_OK);
    const struct vg_alarm *a = find(VG_ALARM_ALERT_ENTERED);
    assert_non_null(a);
    assert_int_equal(a->ev.confidence, VG_CONFIDENCE_UNCONFIRMED);
    assert_int_equal(a->at_ms, T0 + 5 * SEC);
    assert_non_null(find_command(VG_CMD_RING, VG_UNIT_PROTECTED));
}

/* Her last fix ages: a position 5 minutes old is not where she is now. */
static void test_other_party_fix_ages(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0 + 240 * SEC, from_home(250, 3000)), VG_OK);
    assert_int_equal(author_at(T0 + 300 * SEC, from_home(250, 1800)), VG_OK);
    /* u = sqrt(5^2 + (5 + 2 m/s * 300 s)^2): 1800 + 605 > R, so not a clear alert */
    const struct vg_alarm *a = find(VG_ALARM_ALERT_ENTERED);
    assert_null(a);
    assert_int_equal(W.st.zone[0].level, VG_LEVEL_PREALERT);
    assert_int_equal(W.st.zone[0].suspect_level, VG_LEVEL_ALERT);
    assert_int_equal(author_at(T0 + 305 * SEC, from_home(250, 1800)), VG_OK);
    assert_null(find(VG_ALARM_ALERT_ENTERED)); /* two fixes, but 5 s: not yet the dwell */
    assert_int_equal(author_at(T0 + 310 * SEC, from_home(250, 1800)), VG_OK);
    a = find(VG_ALARM_ALERT_ENTERED);
    assert_non_null(a);
    assert_int_equal(a->ev.confidence, VG_CONFIDENCE_CONFIRMED);
    double up = 5 + 2.0 * 310;
    assert_near(a->ev.uncertainty_m, sqrt(25 + up * up), 0.01);

    /* the same approach with her fix fresh is a clear alert at once */
    world_init(2000);
    world_start();
    both_at(T0 + 240 * SEC, from_home(250, 3000));
    both_at(T0 + 300 * SEC, from_home(250, 1800));
    a = find(VG_ALARM_ALERT_ENTERED);
    assert_non_null(a);
    assert_int_equal(a->ev.confidence, VG_CONFIDENCE_CLEAR);

    /* the growth stops at age_cap_ms */
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0 + 3600 * SEC, from_home(250, 1500)), VG_OK);
    a = find(VG_ALARM_PREALERT_ENTERED); /* 1500 + 2 * 1205 <= 2R: clear */
    assert_non_null(a);
    double capped = 5 + 2.0 * (double)W.params.age_cap_ms / 1000.0;
    assert_near(a->ev.uncertainty_m, sqrt(25 + capped * capped), 0.01);
}

/* A record older than the present: reported late, present untouched. */
static void test_late_record_reported_not_replayed(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    both_at(T0, from_home(30, 20000));
    both_at(T0 + 3600 * SEC, from_home(30, 20000));
    assert_int_equal(W.n_got, 0);
    /* from the backlog: half an hour ago he was 1 km from her (10.5 m/s: plausible) */
    assert_int_equal(author_at(T0 + 1800 * SEC, from_home(30, 1000)), VG_OK);
    const struct vg_alarm *a = find(VG_ALARM_ALERT_ENTERED);
    assert_non_null(a);
    assert_true(a->flags & VG_ALARM_F_LATE);
    assert_int_equal(a->at_ms, T0 + 1800 * SEC);
    assert_int_equal(a->zone_index, VG_ZONE_INDEX_MOBILE);
    assert_near(a->ev.distance_m, 1000, 0.05);
    assert_int_equal(W.st.zone[0].level, VG_LEVEL_NONE); /* the present is unchanged */
    assert_null(find_command(VG_CMD_RING, VG_UNIT_PROTECTED)); /* no ring for the past */
    /* the same episode is reported once */
    assert_int_equal(author_at(T0 + 1810 * SEC, from_home(30, 1100)), VG_OK);
    assert_int_equal(W.n_got, 0);
    /* a resend of a known fix is ignored */
    assert_int_equal(author_at(T0 + 3600 * SEC, from_home(30, 20000)), VG_OK);
    assert_int_equal(W.n_got, 0);
    /* a later fix of the present carries on from the present */
    both_at(T0 + 3660 * SEC, from_home(30, 20000));
    assert_int_equal(W.n_got, 0);
}

/* After an outage the unit flushes its backlog oldest first: the crossings
 * in it are raised (late), the present ends where the last fix says, and
 * only a fresh position makes the protected unit ring. */
static void test_backlog_after_outage(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    both_at(T0, from_home(60, 30000));
    /* she keeps reporting; he goes silent (tunnel, no network) */
    int comm_lost = 0, urgent = 0, escalations = 0;
    int64_t escalated_at = 0;
    for (int64_t t = T0 + MIN; t <= T0 + 20 * MIN; t += MIN) {
        W.n_got = 0;
        W.accumulate = true;
        run_until(t, 0);
        W.accumulate = false;
        for (size_t i = 0; i < W.n_got; i++) {
            const struct vg_alarm *a = &W.got[i];
            if (a->kind == VG_ALARM_COMM_LOST && a->unit == VG_UNIT_AUTHOR) {
                comm_lost++;
                urgent += (a->flags & VG_ALARM_F_URGENT) != 0;
                if (a->flags & VG_ALARM_F_ESCALATION) {
                    escalations++;
                    escalated_at = a->raised_ms;
                }
            }
        }
        assert_int_equal(protected_at(t, W.home), VG_OK);
    }
    /* raised once technical (30 km away), then urgent once he could have
     * covered the 28 km to her alert ring at the reach speed: 28 km / 25 m/s
     * = 1120 s */
    assert_int_equal(comm_lost, 2);
    assert_int_equal(escalations, 1);
    assert_int_equal(urgent, 1);
    assert_true(escalated_at >= T0 + 1110 * SEC && escalated_at <= T0 + 1120 * SEC);
    /* the backlog: approach to 1.5 km at minute 12, away again by minute 19 */
    static const double track_km[] = {30, 27, 24, 21, 18, 15, 12, 9, 6, 4, 2.5, 1.5,
                                      1.5, 3, 5, 7, 9, 10, 10};
    int entered_alert = 0, rings = 0, late_flags = 0;
    for (int m = 1; m <= 19; m++) {
        assert_int_equal(author_at(T0 + m * MIN, from_home(60, track_km[m - 1] * 1000)), VG_OK);
        if (m == 1)
            assert_non_null(find(VG_ALARM_COMM_RESTORED));
        for (size_t i = 0; i < W.n_got; i++) {
            if (W.got[i].kind == VG_ALARM_ALERT_ENTERED) {
                entered_alert++;
                late_flags += (W.got[i].flags & VG_ALARM_F_LATE) != 0;
            }
        }
        rings += find_command(VG_CMD_RING, VG_UNIT_PROTECTED) != NULL;
    }
    assert_int_equal(entered_alert, 1);
    assert_int_equal(late_flags, 1);
    assert_int_equal(rings, 0);
    assert_int_equal(W.st.zone[0].level, VG_LEVEL_NONE);
}

static void test_who_approached_whom(void **state)
{
    (void)state;
    /* she walks toward him while he sits still: she approached */
    world_init(2000);
    world_start();
    struct vg_geo_point him = from_home(0, 5200);
    const struct vg_alarm *a = NULL;
    for (int k = 0; k < 120 && !a; k++) {
        int64_t t = T0 + k * 10 * SEC;
        struct vg_geo_point her;
        assert_int_equal(vg_geo_destination(W.home, 0, 15.0 * k, &her), VG_OK); /* 1.5 m/s */
        pair_at(t, her, him);
        a = find(VG_ALARM_PREALERT_ENTERED);
    }
    assert_non_null(a);
    assert_int_equal(a->ev.approached_by, VG_PARTY_PROTECTED);
    assert_true(a->ev.protected_closed_m > 500);
    assert_true(fabs(a->ev.author_closed_m) < 20);

    /* he drives toward her at home: he approached */
    world_init(2000);
    world_start();
    a = NULL;
    for (int k = 0; k < 120 && !a; k++)
        both_at(T0 + k * 10 * SEC, from_home(180, 6000 - 150.0 * k)), a = find(VG_ALARM_PREALERT_ENTERED);
    assert_non_null(a);
    assert_int_equal(a->ev.approached_by, VG_PARTY_AUTHOR);

    /* both move toward each other: both */
    world_init(2000);
    world_start();
    a = NULL;
    for (int k = 0; k < 200 && !a; k++) {
        int64_t t = T0 + k * 10 * SEC;
        struct vg_geo_point her, me;
        assert_int_equal(vg_geo_destination(W.home, 0, 12.0 * k, &her), VG_OK);
        assert_int_equal(vg_geo_destination(W.home, 0, 5200 - 12.0 * k, &me), VG_OK);
        pair_at(t, her, me);
        a = find(VG_ALARM_PREALERT_ENTERED);
    }
    assert_non_null(a);
    assert_int_equal(a->ev.approached_by, VG_PARTY_BOTH);
}

static void test_fast_reporting_on_and_off(void **state)
{
    (void)state;
    world_init(1000);
    world_start();
    both_at(T0, from_home(90, 10000));
    assert_int_equal(W.n_got_cmd, 0); /* 10 km is far for R = 1 km */
    both_at(T0 + 60 * SEC, from_home(90, 9000));
    assert_int_equal(W.n_got_cmd, 0); /* 17 m/s, 7 km from 2R: 7 minutes away */
    /* closing at 42 m/s, 4.5 km from the pre-alert ring: under the 3-minute horizon */
    both_at(T0 + 120 * SEC, from_home(90, 6500));
    const struct vg_command *c = find_command(VG_CMD_SET_REPORTING, VG_UNIT_PROTECTED);
    assert_non_null(c);
    assert_int_equal(c->interval_ms, W.params.fast_interval_ms);
    assert_non_null(find_command(VG_CMD_SET_REPORTING, VG_UNIT_AUTHOR));
    /* gone far again: fast reporting holds for fast_hold_ms, then stops */
    both_at(T0 + 400 * SEC, from_home(90, 15000));
    assert_int_equal(W.n_got_cmd, 0);
    both_at(T0 + 120 * SEC + W.params.fast_hold_ms + 10 * SEC, from_home(90, 15000));
    c = find_command(VG_CMD_SET_REPORTING, VG_UNIT_AUTHOR);
    assert_non_null(c);
    assert_int_equal(c->interval_ms, W.params.report_interval_ms);
    assert_non_null(find_command(VG_CMD_SET_REPORTING, VG_UNIT_PROTECTED));
}

/* Fixed zones: a circle (her workplace) and a polygon (the school). */
/* Her unit's notification policy: a pre-alert by day rings aloud; the same
 * crossing at night (23:00 local) only vibrates, as the default policy
 * says, or stays on the screen with a policy that says so; while he keeps
 * closing in (1 m/s or more) it rings aloud after all, and an alert always
 * does. A policy out of range is refused. */
static const struct vg_command *ring_for(unsigned level)
{
    for (size_t i = 0; i < W.n_got_cmd; i++)
        if (W.got_cmd[i].kind == VG_CMD_RING && W.got_cmd[i].level == level)
            return &W.got_cmd[i];
    return NULL;
}

static void test_notification_policy(void **state)
{
    (void)state;
    static const int64_t NIGHT = T0 + 13 * 60 * MIN; /* 21:00Z, 23:00 in Paris in July */
    struct vg_ring_policy quiet_nights = {VG_RING_LOUD, VG_RING_SILENT, 21 * 60, 8 * 60};
    for (int k = 0; k < 3; k++) {
        int64_t t = k == 0 ? T0 : NIGHT;
        world_init(2000);
        W.cfg.ring = k == 2 ? &quiet_nights : NULL;
        W.now = t;
        world_start();
        /* he stands 3.5 km away (inside 2R), still */
        both_at(t, from_home(0, 3500));
        const struct vg_command *r = ring_for(VG_LEVEL_PREALERT);
        assert_non_null(r);
        assert_int_equal(r->mode, k == 0 ? VG_RING_LOUD : k == 1 ? VG_RING_VIBRATE : VG_RING_SILENT);
        /* standing there, or drifting: told once, quietly */
        t += 15 * SEC;
        for (int i = 0; i < 6; i++, t += 5 * SEC) {
            both_at(t, from_home(0, 3500 - 2.0 * i));
            assert_null(ring_for(VG_LEVEL_PREALERT));
        }
        /* then he walks towards her at 1.5 m/s: aloud, once */
        size_t loud = 0;
        for (int i = 1; i <= 6; i++, t += 5 * SEC) {
            both_at(t, from_home(0, 3490 - 7.5 * i));
            r = ring_for(VG_LEVEL_PREALERT);
            if (r) {
                assert_int_equal(r->mode, VG_RING_LOUD);
                loud++;
            }
        }
        assert_int_equal(loud, k == 0 ? 0 : 1);
        /* inside R: an alert rings aloud whatever the policy */
        both_at(t + 5 * MIN, from_home(0, 1000));
        r = ring_for(VG_LEVEL_ALERT);
        assert_non_null(r);
        assert_int_equal(r->mode, VG_RING_LOUD);
    }
    world_init(2000);
    struct vg_ring_policy bad = {VG_RING_SILENT + 1, VG_RING_LOUD, 0, 0};
    W.cfg.ring = &bad;
    assert_int_equal(vg_engine_config_check(&W.cfg), VG_EINVAL);
    bad = (struct vg_ring_policy){VG_RING_LOUD, VG_RING_LOUD, 1440, 0};
    assert_int_equal(vg_engine_config_check(&W.cfg), VG_EINVAL);
    bad.night_from_min = 0;
    assert_int_equal(vg_engine_config_check(&W.cfg), VG_OK);
}

/* A ring held for her unit while it was offline, judged again when it can
 * be delivered: at the zone's present level, an alert aloud, a pre-alert
 * as her policy says then (never louder than held, unless he closes in),
 * nothing once the episode is over, nothing for what is not a ring. */
static void test_held_ring_judged_on_delivery(void **state)
{
    (void)state;
    static const int64_t NIGHT = T0 + 13 * 60 * MIN; /* 23:00 in Paris in July */
    world_init(2000);
    world_start();
    both_at(T0, from_home(0, 3500)); /* still, inside 2R: a pre-alert, aloud by day */
    const struct vg_command *r = ring_for(VG_LEVEL_PREALERT);
    assert_non_null(r);
    struct vg_command held = *r, out;
    assert_int_equal(held.mode, VG_RING_LOUD);
    /* delivered by day: as held */
    assert_true(vg_engine_ring_on_delivery(&W.st, &W.cfg, &held, T0 + MIN, &out));
    assert_int_equal(out.level, VG_LEVEL_PREALERT);
    assert_int_equal(out.mode, VG_RING_LOUD);
    assert_int_equal(out.unit, VG_UNIT_PROTECTED);
    /* delivered at night: her night policy (vibrate), not aloud */
    assert_true(vg_engine_ring_on_delivery(&W.st, &W.cfg, &held, NIGHT, &out));
    assert_int_equal(out.mode, VG_RING_VIBRATE);
    /* held quiet, delivered by day: never louder than held */
    held.mode = VG_RING_SILENT;
    assert_true(vg_engine_ring_on_delivery(&W.st, &W.cfg, &held, T0 + MIN, &out));
    assert_int_equal(out.mode, VG_RING_SILENT);
    /* he closes in meanwhile at 20 m/s: aloud, whatever was held */
    both_at(T0 + 10 * SEC, from_home(0, 3300));
    assert_true(vg_engine_ring_on_delivery(&W.st, &W.cfg, &held, NIGHT, &out));
    assert_int_equal(out.mode, VG_RING_LOUD);
    /* inside R by then: the alert, aloud */
    both_at(T0 + 2 * MIN, from_home(0, 1500));
    assert_int_equal(W.st.zone[0].level, VG_LEVEL_ALERT);
    assert_true(vg_engine_ring_on_delivery(&W.st, &W.cfg, &held, NIGHT, &out));
    assert_int_equal(out.level, VG_LEVEL_ALERT);
    assert_int_equal(out.mode, VG_RING_LOUD);
    /* he has left both rings: nothing to deliver */
    for (int64_t t = T0 + 10 * MIN; t <= T0 + 12 * MIN; t += 30 * SEC)
        both_at(t, from_home(0, 9000));
    assert_int_equal(W.st.zone[0].level, VG_LEVEL_NONE);
    assert_false(vg_engine_ring_on_delivery(&W.st, &W.cfg, &held, T0 + 13 * MIN, &out));
    /* not a ring, or a zone that does not exist */
    both_at(T0 + 20 * MIN, from_home(0, 3500));
    struct vg_command bad = held;
    bad.kind = VG_CMD_SET_REPORTING;
    assert_false(vg_engine_ring_on_delivery(&W.st, &W.cfg, &bad, T0 + 21 * MIN, &out));
    bad = held;
    bad.zone_index = 3; /* no fixed zone in this world */
    assert_false(vg_engine_ring_on_delivery(&W.st, &W.cfg, &bad, T0 + 21 * MIN, &out));
    assert_true(vg_engine_ring_on_delivery(&W.st, &W.cfg, &held, T0 + 21 * MIN, &out));
}

static void add_fixed_zones(void)
{
    struct vg_geo_point work = from_home(270, 15000);
    assert_int_equal(vg_zone_init_circle(&W.zones[0], 101, VG_ZONE_PROTECTED_WORKPLACE, work, 1500),
                     VG_OK);
    struct vg_geo_point school = from_home(180, 12000);
    for (int i = 0; i < 4; i++)
        assert_int_equal(vg_geo_destination(school, 45 + 90 * i, 150, &W.vertices[i]), VG_OK);
    assert_int_equal(
        vg_zone_init_polygon(&W.zones[1], 102, VG_ZONE_SCHOOL, W.vertices, 4, 1000, NULL), VG_OK);
    W.cfg.n_zones = 2;
}

static void test_fixed_zones(void **state)
{
    (void)state;
    world_init(2000);
    add_fixed_zones();
    world_start();
    struct vg_geo_point work = from_home(270, 15000);
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    struct vg_geo_point p;
    assert_int_equal(vg_geo_destination(work, 0, 5000, &p), VG_OK);
    assert_int_equal(author_at(T0, p), VG_OK);
    assert_int_equal(W.n_got, 0);
    assert_int_equal(vg_geo_destination(work, 0, 2900, &p), VG_OK);
    assert_int_equal(author_at(T0 + 120 * SEC, p), VG_OK);
    const struct vg_alarm *a = find(VG_ALARM_PREALERT_ENTERED);
    assert_non_null(a);
    assert_int_equal(a->zone_index, 1);
    assert_int_equal(a->zone_id, 101);
    assert_near(a->ev.distance_m, 2900, 0.05);
    assert_near(a->ev.threshold_m, 3000, 1e-9);
    assert_int_equal(a->ev.approached_by, VG_PARTY_AUTHOR);
    assert_non_null(find_command(VG_CMD_RING, VG_UNIT_PROTECTED));
    /* 1 km north of the school's centre: within R = 1 km of its polygon */
    struct vg_geo_point near_school = from_home(180, 11000);
    assert_int_equal(author_at(T0 + 1140 * SEC, near_school), VG_OK);
    a = find_zone(VG_ALARM_ALERT_ENTERED, 2);
    assert_non_null(a);
    assert_int_equal(a->zone_id, 102);
    assert_true(a->ev.distance_m > 850 && a->ev.distance_m < 900); /* to the polygon's edge */
    assert_near(a->ev.threshold_m, 1000, 1e-9);
    /* a minute later, still far from the workplace: that zone is left */
    assert_int_equal(author_at(T0 + 1200 * SEC, near_school), VG_OK);
    assert_non_null(find_zone(VG_ALARM_PREALERT_LEFT, 1));
    /* inside the school's polygon: distance 0, nothing new */
    assert_int_equal(author_at(T0 + 1300 * SEC, from_home(180, 12000)), VG_OK);
    assert_int_equal(W.n_got, 0);
    assert_near((double)W.st.zone[2].last_distance_m, 0, 1e-9);
    assert_int_equal(W.st.zone[2].level, VG_LEVEL_ALERT);
}

/* Authorised presence: Wednesdays 16:00-16:30 (Paris time) at the school. */
static void test_time_window_authorises_presence(void **state)
{
    (void)state;
    static const struct {
        int64_t day_t0; /* 08:00Z on a Wednesday */
        int utc_offset_h;
    } seasons[] = {{T0, 2}, {1767772800000LL, 1}}; /* July (CEST), January (CET) */
    for (size_t s = 0; s < ARRAY_LEN(seasons); s++) {
        world_init(2000);
        add_fixed_zones();
        assert_int_equal(vg_window_init_weekly(&W.windows[0], VG_DAY_WED, 16 * 60, 16 * 60 + 30),
                         VG_OK);
        assert_int_equal(vg_zone_set_windows(&W.zones[1], W.windows, 1), VG_OK);
        int64_t day = seasons[s].day_t0 - 8 * 3600 * SEC; /* midnight UTC */
        int64_t local_16h = day + (16 - seasons[s].utc_offset_h) * 3600 * SEC;
        W.now = local_16h - 30 * MIN;
        world_start();
        struct vg_geo_point school = from_home(180, 12000);
        struct vg_geo_point gate;
        assert_int_equal(vg_geo_destination(school, 0, 300, &gate), VG_OK);
        /* she is at the school too, for the hand-over */
        struct vg_geo_point her_spot;
        assert_int_equal(vg_geo_destination(school, 90, 100, &her_spot), VG_OK);
        W.home = her_spot;
        /* 16:05 local: at the gate, within R of the school and of her */
        for (int k = 0; k < 12; k++) {
            int64_t t = local_16h + 5 * MIN + k * MIN;
            pair_at(t, her_spot, gate);
            if (W.n_got)
                dump_out("inside the window");
            assert_int_equal(count(VG_ALARM_ALERT_ENTERED) + count(VG_ALARM_PREALERT_ENTERED), 0);
        }
        /* 16:30: the window closes while they are both still there: the
         * school and the mobile zone raise at once, without waiting for a fix */
        assert_true(W.st.next_deadline_ms <= local_16h + 30 * MIN);
        assert_int_equal(tick(local_16h + 30 * MIN), VG_OK);
        const struct vg_alarm *a = find_zone(VG_ALARM_ALERT_ENTERED, 2);
        assert_non_null(a);
        assert_int_equal(a->zone_id, 102);
        assert_non_null(find_zone(VG_ALARM_ALERT_ENTERED, VG_ZONE_INDEX_MOBILE));
        pair_at(local_16h + 31 * MIN, her_spot, gate); /* nothing new: already raised */
        assert_int_equal(count(VG_ALARM_ALERT_ENTERED) + count(VG_ALARM_PREALERT_ENTERED), 0);
    }
    /* On Thursday at 16:05 the same place raises at once. */
    world_init(2000);
    add_fixed_zones();
    assert_int_equal(vg_window_init_weekly(&W.windows[0], VG_DAY_WED, 16 * 60, 16 * 60 + 30),
                     VG_OK);
    assert_int_equal(vg_zone_set_windows(&W.zones[1], W.windows, 1), VG_OK);
    int64_t thursday_1605 = T0 + 24 * 3600 * SEC + 6 * 3600 * SEC + 5 * MIN; /* 14:05Z */
    W.now = thursday_1605 - MIN;
    world_start();
    struct vg_geo_point gate;
    assert_int_equal(vg_geo_destination(from_home(180, 12000), 0, 300, &gate), VG_OK);
    assert_int_equal(author_at(thursday_1605, gate), VG_OK);
    assert_non_null(find_zone(VG_ALARM_ALERT_ENTERED, 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clear_crossings_raised_on_first_fix),
        cmocka_unit_test(test_ring_boundaries),
        cmocka_unit_test(test_noise_at_the_edge_does_not_flap),
        cmocka_unit_test(test_exit_needs_margin_and_dwell),
        cmocka_unit_test(test_jump_straight_to_alert_and_back),
        cmocka_unit_test(test_alert_left_back_to_prealert),
        cmocka_unit_test(test_impossible_jump_is_held),
        cmocka_unit_test(test_other_party_fix_ages),
        cmocka_unit_test(test_late_record_reported_not_replayed),
        cmocka_unit_test(test_backlog_after_outage),
        cmocka_unit_test(test_who_approached_whom),
        cmocka_unit_test(test_fast_reporting_on_and_off),
        cmocka_unit_test(test_notification_policy),
        cmocka_unit_test(test_held_ring_judged_on_delivery),
        cmocka_unit_test(test_fixed_zones),
        cmocka_unit_test(test_time_window_authorises_presence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
