/* The engine and the devices: losses graded by reachability, neutralisation,
 * batteries, SOS, late statuses, bad input, clocks, deadlines, determinism. */
#include "engine_fixture.h"

static void heartbeat(enum vg_unit unit, int64_t t)
{
    assert_int_equal(event(unit, VG_EVENT_HEARTBEAT, t), VG_OK);
}

/* Run to t with both units sending heartbeats every 30 s but no fixes. */
static size_t run_with_heartbeats(int64_t t, unsigned kind, unsigned flags_all)
{
    size_t n = 0;
    while (W.now < t) {
        int64_t step = W.now + 30 * SEC;
        if (W.st.next_deadline_ms > W.now && W.st.next_deadline_ms < step)
            step = W.st.next_deadline_ms;
        if (step > t)
            step = t;
        assert_int_equal(tick(step), VG_OK);
        for (size_t i = 0; i < W.n_got; i++)
            if (W.got[i].kind == kind && (W.got[i].flags & flags_all) == flags_all)
                n++;
        if ((step - T0) % (30 * SEC) == 0) {
            heartbeat(VG_UNIT_AUTHOR, step);
            heartbeat(VG_UNIT_PROTECTED, step);
        }
    }
    return n;
}

/* GNSS lost far from her: technical; it turns urgent exactly when he could
 * have reached her alert ring at the reach speed. */
static void test_gnss_loss_graded_by_reachability(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0, from_home(0, 50000)), VG_OK);
    /* she keeps fixes coming; he only heartbeats (in a car park) */
    int64_t lost_at = T0 + W.params.gnss_loss_after_ms;
    size_t technical = 0, urgent = 0;
    int64_t urgent_at = 0;
    for (int64_t t = T0 + 30 * SEC; t <= T0 + 40 * MIN; t += 30 * SEC) {
        W.n_got = 0;
        W.accumulate = true;
        while (W.st.next_deadline_ms <= t) {
            int64_t d = W.st.next_deadline_ms;
            assert_int_equal(tick(d), VG_OK);
        }
        assert_int_equal(protected_at(t, W.home), VG_OK);
        heartbeat(VG_UNIT_AUTHOR, t);
        W.accumulate = false;
        for (size_t i = 0; i < W.n_got; i++) {
            const struct vg_alarm *a = &W.got[i];
            if (a->kind != VG_ALARM_GNSS_LOST || a->unit != VG_UNIT_AUTHOR)
                continue;
            if (a->flags & VG_ALARM_F_URGENT) {
                urgent++;
                urgent_at = a->raised_ms;
                assert_true(a->flags & VG_ALARM_F_ESCALATION);
                assert_int_equal(a->priority, VG_PRIORITY_ALERT);
                /* 50 km - R, less her fix's accuracy grown over up to 30 s */
                assert_true(a->ev.reach_m >= 48000 - (5 + 2 * 30) - 1);
            } else {
                technical++;
                assert_int_equal(a->priority, VG_PRIORITY_TECHNICAL);
                assert_int_equal(a->raised_ms, lost_at);
                assert_int_equal(a->at_ms, T0); /* the last fix */
            }
        }
    }
    assert_int_equal(technical, 1);
    assert_int_equal(urgent, 1);
    /* 50 km - R - his accuracy - hers (5 m, growing 2 m/s between her fixes
     * every 30 s) at the reach speed (25 m/s: he was not settled, a single
     * fix): between 1916 and 1920 s after his last fix */
    assert_true(W.params.reach_speed_mps == 25.0);
    assert_true(urgent_at >= T0 + 1916 * SEC && urgent_at <= T0 + 1920 * SEC);
    assert_null(find(VG_ALARM_COMM_LOST)); /* he was heard all along */

    /* GNSS restored */
    assert_int_equal(author_at(T0 + 41 * MIN, from_home(0, 50000)), VG_OK);
    assert_non_null(find(VG_ALARM_GNSS_RESTORED));

    /* lost near her: urgent at once */
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0, from_home(0, 6000)), VG_OK);
    W.n_got = 0;
    W.accumulate = true;
    run_with_heartbeats(T0 + W.params.gnss_loss_after_ms, 0, 0);
    W.accumulate = false;
    const struct vg_alarm *a = find(VG_ALARM_GNSS_LOST);
    assert_non_null(a);
    /* 6 km - 2 km - 5 m at 25 m/s: 160 s, gone by the time the loss is declared */
    assert_true(a->flags & VG_ALARM_F_URGENT);
    assert_false(a->flags & VG_ALARM_F_ESCALATION);
    assert_int_equal(a->priority, VG_PRIORITY_ALERT);
}

/* A fix with a reported speed (the fixture's fixes have none). */
static int author_moving(int64_t t, struct vg_geo_point p, double speed_mps)
{
    struct vg_engine_input in = {.kind = VG_INPUT_FIX, .unit = VG_UNIT_AUTHOR};
    in.fix = (struct vg_fix){.time_ms = t,
                             .lat_deg = p.lat_deg,
                             .lon_deg = p.lon_deg,
                             .accuracy_m = 5,
                             .speed_mps = (float)speed_mps,
                             .heading_deg = -1,
                             .quality = VG_FIX_3D};
    return feed(&in, t);
}

static int author_nofix(int64_t t)
{
    struct vg_engine_input in = {.kind = VG_INPUT_FIX, .unit = VG_UNIT_AUTHOR};
    in.fix =
        (struct vg_fix){.time_ms = t, .speed_mps = -1, .heading_deg = -1, .quality = VG_FIX_NONE};
    return feed(&in, t);
}

/* When the loss of the author's position turns urgent: the time of the
 * escalation (or of the urgent declaration), with her fixes coming. */
static int64_t urgent_time(int64_t until)
{
    for (int64_t t = W.now + 30 * SEC; t <= until; t += 30 * SEC) {
        W.n_got = 0;
        W.accumulate = true;
        while (W.st.next_deadline_ms <= t)
            assert_int_equal(tick(W.st.next_deadline_ms), VG_OK);
        assert_int_equal(protected_at(t, W.home), VG_OK);
        heartbeat(VG_UNIT_AUTHOR, t);
        W.accumulate = false;
        for (size_t i = 0; i < W.n_got; i++)
            if (W.got[i].unit == VG_UNIT_AUTHOR && (W.got[i].flags & VG_ALARM_F_URGENT))
                return W.got[i].raised_ms;
    }
    return -1;
}

/* Settled at one place (his fixes still for minutes) and then lost: most
 * likely indoors, so his reach grows at a walking pace for
 * settled_start_ms, then at the reach speed. 8 km from her (R = 2 km): the
 * disc covers 1.2 km in the first 10 minutes, then the remaining ~4.8 km
 * at 25 m/s: urgent about 791 s after his last fix, where an author seen
 * moving at the same place is urgent after about 240 s. */
static void test_settled_loss_grows_at_walking_pace(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    struct vg_geo_point at = from_home(0, 8000);
    for (int k = 0; k <= 3; k++) /* four fixes a minute apart, still */
        assert_int_equal(author_at(T0 + k * MIN, at), VG_OK);
    int64_t last = T0 + 3 * MIN;
    int64_t t = urgent_time(last + 30 * MIN);
    assert_true(t >= last + 785 * SEC && t <= last + 797 * SEC);
    /* the loss was declared as technical first, at the usual time */
    const struct vg_alarm *a = find(VG_ALARM_GNSS_LOST);
    assert_non_null(a);
    assert_true(a->flags & VG_ALARM_F_ESCALATION);

    /* the same place, but seen moving (fixes along a road): no allowance */
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    for (int k = 0; k <= 3; k++)
        assert_int_equal(author_at(T0 + k * MIN, from_home(0, 8000 + 600.0 * (3 - k))), VG_OK);
    t = urgent_time(last + 30 * MIN);
    assert_true(t >= last + 235 * SEC && t <= last + 245 * SEC);
}

/* A man last seen faster than the reach speed (a car at 40 m/s on the
 * motorway) reaches at 1.25 times his own speed: 20 km from her, urgent
 * after (20 - 2 km) / 50 m/s = 360 s instead of 720 s. */
static void test_fast_car_reach_uses_his_speed(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_moving(T0, from_home(0, 20000), 40.0), VG_OK);
    int64_t t = urgent_time(T0 + 20 * MIN);
    assert_true(t >= T0 + 355 * SEC && t <= T0 + 365 * SEC);

    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_moving(T0, from_home(0, 20000), 12.0), VG_OK);
    t = urgent_time(T0 + 20 * MIN);
    assert_true(t >= T0 + 715 * SEC && t <= T0 + 725 * SEC);
}

/* A network position (the modem's cell / Wi-Fi estimate) from a unit. */
static int network_at(enum vg_unit unit, int64_t t, struct vg_geo_point p, double accuracy)
{
    struct vg_engine_input in = {.kind = VG_INPUT_FIX, .unit = (uint8_t)unit};
    in.fix = (struct vg_fix){.time_ms = t,
                             .lat_deg = p.lat_deg,
                             .lon_deg = p.lon_deg,
                             .accuracy_m = (float)accuracy,
                             .speed_mps = -1,
                             .heading_deg = -1,
                             .quality = VG_FIX_NETWORK};
    return feed(&in, t);
}

/* As urgent_time, his unit sending a network position every minute until
 * net_until (at `at`, the modem's accuracy `acc`). */
static int64_t urgent_time_net(int64_t until, int64_t net_until, struct vg_geo_point at, double acc)
{
    for (int64_t t = W.now + 30 * SEC; t <= until; t += 30 * SEC) {
        W.n_got = 0;
        W.accumulate = true;
        while (W.st.next_deadline_ms <= t)
            assert_int_equal(tick(W.st.next_deadline_ms), VG_OK);
        assert_int_equal(protected_at(t, W.home), VG_OK);
        if (t <= net_until && (t - T0) % MIN == 0)
            assert_int_equal(network_at(VG_UNIT_AUTHOR, t, at, acc), VG_OK);
        else
            heartbeat(VG_UNIT_AUTHOR, t);
        W.accumulate = false;
        for (size_t i = 0; i < W.n_got; i++)
            if (W.got[i].unit == VG_UNIT_AUTHOR && (W.got[i].flags & VG_ALARM_F_URGENT))
                return W.got[i].raised_ms;
    }
    return -1;
}

/* His GNSS lost 8 km from her (R = 2 km), seen moving: urgent after about
 * 240 s on the GNSS disc alone. Network positions every minute that put
 * him where he was (accuracy 500 m, judged 750 m) keep a second disc that
 * never reaches her ring while they come: the loss stays technical. When
 * they stop (his modem off the network), that disc grows at the reach
 * speed from the last one: (8000 - 2000 - 750 - 5) / 25 = 210 s later it
 * is urgent. A network position that contradicts his last fix (40 km
 * off, 2 minutes after a fix 8 km from her) is ignored. */
static void test_network_position_grades_a_loss(void **state)
{
    (void)state;
    struct vg_geo_point at = from_home(0, 8000);
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    for (int k = 0; k <= 3; k++)
        assert_int_equal(author_at(T0 + k * MIN, from_home(0, 8000 + 600.0 * (3 - k))), VG_OK);
    int64_t last = T0 + 3 * MIN;
    int64_t net_until = last + 20 * MIN;
    int64_t t = urgent_time_net(last + 40 * MIN, net_until, at, 500);
    assert_true(t >= net_until + 200 * SEC && t <= net_until + 240 * SEC);
    const struct vg_alarm *a = find(VG_ALARM_GNSS_LOST);
    assert_non_null(a);
    assert_true(a->flags & VG_ALARM_F_ESCALATION);

    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    for (int k = 0; k <= 3; k++)
        assert_int_equal(author_at(T0 + k * MIN, from_home(0, 8000 + 600.0 * (3 - k))), VG_OK);
    t = urgent_time_net(last + 30 * MIN, last + 30 * MIN, from_home(0, 48000), 500);
    assert_true(t >= last + 235 * SEC && t <= last + 245 * SEC);

    /* his unit says the bracelet is out of its reach (left behind): its
     * estimates place the unit, not him, and are not used */
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    for (int k = 0; k <= 3; k++)
        assert_int_equal(author_at(T0 + k * MIN, from_home(0, 8000 + 600.0 * (3 - k))), VG_OK);
    struct vg_unit_status st = status_none(last);
    st.bracelet_link = 0;
    assert_int_equal(status(VG_UNIT_AUTHOR, st), VG_OK);
    t = urgent_time_net(last + 30 * MIN, last + 30 * MIN, at, 500);
    assert_true(t >= last + 235 * SEC && t <= last + 245 * SEC);
}

/* Her GNSS lost (the metro) while she travels 9 km to where he is: her
 * last fix, aged at 2 m/s, keeps her at home and nothing is raised. Her
 * network positions put her 1 km from him (accuracy 400 m, judged 600 m):
 * once her last fix is 2 minutes older than them they become her position,
 * and the approach is raised (suspected, then confirmed two fixes and 20 s
 * later). Before those 2 minutes, her fix stands. */
static void test_her_network_position_raises_an_approach(void **state)
{
    (void)state;
    struct vg_geo_point him = from_home(90, 9000), her_there = from_home(90, 8000);
    for (int with_network = 0; with_network <= 1; with_network++) {
        world_init(2000);
        world_start();
        assert_int_equal(protected_at(T0, W.home), VG_OK);
        W.accumulate = true;
        W.n_got = 0;
        for (int64_t t = T0 + 30 * SEC; t <= T0 + 6 * MIN; t += 30 * SEC) {
            assert_int_equal(author_at(t, him), VG_OK);
            if (with_network)
                assert_int_equal(network_at(VG_UNIT_PROTECTED, t, her_there, 400), VG_OK);
            else
                heartbeat(VG_UNIT_PROTECTED, t);
            if (t < T0 + 2 * MIN)
                assert_null(find_zone(VG_ALARM_ALERT_ENTERED, 0));
        }
        W.accumulate = false;
        const struct vg_alarm *a = find_zone(VG_ALARM_ALERT_ENTERED, 0);
        if (!with_network) {
            assert_null(a);
            continue;
        }
        assert_non_null(a);
        assert_true(a->raised_ms >= T0 + 2 * MIN && a->raised_ms <= T0 + 3 * MIN);
        assert_int_equal(a->ev.protected_fix.quality, VG_FIX_NETWORK);
        assert_true(a->ev.uncertainty_m >= 599.0);
        /* her GNSS is still lost: a network position restores nothing */
        assert_null(find(VG_ALARM_GNSS_RESTORED));
    }
}

/* Near her (fast reporting on), two "no fix" records in a row declare the
 * loss at once when he could already be inside R: a car entering a tunnel
 * 2.1 km from her, R = 2 km. Far away, they change nothing: the usual
 * timer (3 minutes) declares it, technical. */
static void test_near_nofix_declares_loss_early(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_moving(T0, from_home(0, 2200), 12.0), VG_OK);
    assert_int_equal(author_moving(T0 + 5 * SEC, from_home(0, 2140), 12.0), VG_OK);
    assert_true(W.st.fast);
    assert_int_equal(author_nofix(T0 + 10 * SEC), VG_OK);
    assert_null(find(VG_ALARM_GNSS_LOST)); /* one is not enough */
    assert_int_equal(author_nofix(T0 + 15 * SEC), VG_OK);
    const struct vg_alarm *a = find(VG_ALARM_GNSS_LOST);
    assert_non_null(a);
    assert_true(a->flags & VG_ALARM_F_URGENT);
    assert_int_equal(a->priority, VG_PRIORITY_ALERT);
    assert_int_equal(a->at_ms, T0 + 5 * SEC); /* his last fix */
    assert_int_equal(a->raised_ms, T0 + 15 * SEC);
    /* a fix again: restored, and the next loss is judged afresh */
    assert_int_equal(author_moving(T0 + 20 * SEC, from_home(0, 2100), 12.0), VG_OK);
    assert_non_null(find(VG_ALARM_GNSS_RESTORED));

    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_moving(T0, from_home(0, 30000), 12.0), VG_OK);
    assert_false(W.st.fast);
    for (int k = 1; k <= 6; k++)
        assert_int_equal(author_nofix(T0 + k * 5 * SEC), VG_OK);
    assert_null(find(VG_ALARM_GNSS_LOST));
}

/* Near her, his unit at the fast cadence, then silent (an underground car
 * park 2.1 km from her, R = 2 km): the communication loss is declared
 * near_silence_ms (20 s) after the last record, urgent, not after 5
 * minutes. A unit not yet at the fast cadence is not judged silent early. */
static void test_near_silence_declares_loss_early(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_moving(T0, from_home(0, 2200), 12.0), VG_OK);
    assert_int_equal(author_moving(T0 + 5 * SEC, from_home(0, 2140), 12.0), VG_OK);
    assert_true(W.st.fast);
    assert_true(W.st.next_deadline_ms <= T0 + 25 * SEC);
    assert_int_equal(tick(T0 + 25 * SEC), VG_OK);
    const struct vg_alarm *a = find(VG_ALARM_COMM_LOST);
    assert_non_null(a);
    assert_true(a->flags & VG_ALARM_F_URGENT);
    assert_int_equal(a->at_ms, T0 + 5 * SEC); /* last heard */

    /* fixes a minute apart (the unit not yet switched): the usual timers */
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_moving(T0, from_home(0, 2300), 1.0), VG_OK);
    assert_int_equal(author_moving(T0 + MIN, from_home(0, 2240), 1.0), VG_OK);
    assert_true(W.st.fast);
    assert_int_equal(tick(T0 + MIN + 30 * SEC), VG_OK);
    assert_null(find(VG_ALARM_COMM_LOST));
}

/* A fixed zone counts for reachability too, and an open window excludes it. */
static void test_loss_reachability_counts_fixed_zones(void **state)
{
    (void)state;
    world_init(2000);
    struct vg_geo_point school = from_home(90, 40000);
    assert_int_equal(vg_zone_init_circle(&W.zones[0], 7, VG_ZONE_SCHOOL, school, 1000), VG_OK);
    W.cfg.n_zones = 1;
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    struct vg_geo_point p;
    assert_int_equal(vg_geo_destination(school, 0, 5000, &p), VG_OK); /* 5 km from the school */
    assert_int_equal(author_at(T0, p), VG_OK);
    W.n_got = 0;
    W.accumulate = true;
    run_with_heartbeats(T0 + W.params.gnss_loss_after_ms, 0, 0);
    W.accumulate = false;
    const struct vg_alarm *a = find(VG_ALARM_GNSS_LOST);
    assert_non_null(a);
    assert_true(a->flags & VG_ALARM_F_URGENT); /* 4 km to the school's ring: 100 s */
}

static void test_comm_loss_and_restoration(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0, from_home(0, 30000)), VG_OK);
    /* the protected unit stays silent too: both are lost at comm_loss_after */
    assert_int_equal(W.st.next_deadline_ms, T0 + W.params.gnss_loss_after_ms);
    assert_int_equal(tick(T0 + W.params.gnss_loss_after_ms), VG_OK);
    assert_int_equal(count(VG_ALARM_GNSS_LOST), 2);
    assert_int_equal(tick(T0 + W.params.comm_loss_after_ms - 1), VG_OK);
    assert_int_equal(count(VG_ALARM_COMM_LOST), 0);
    assert_int_equal(tick(T0 + W.params.comm_loss_after_ms), VG_OK);
    assert_int_equal(count(VG_ALARM_COMM_LOST), 2);
    const struct vg_alarm *a = find(VG_ALARM_COMM_LOST);
    assert_int_equal(a->at_ms, T0); /* last heard */
    /* nothing is raised twice */
    assert_int_equal(tick(T0 + 2 * W.params.comm_loss_after_ms), VG_OK);
    assert_int_equal(count(VG_ALARM_COMM_LOST), 0);
    /* back */
    heartbeat(VG_UNIT_PROTECTED, T0 + 11 * MIN);
    a = find(VG_ALARM_COMM_RESTORED);
    assert_non_null(a);
    assert_int_equal(a->unit, VG_UNIT_PROTECTED);
    assert_int_equal(a->priority, VG_PRIORITY_INFO);
    assert_int_equal(protected_at(T0 + 11 * MIN + SEC, W.home), VG_OK);
    assert_non_null(find(VG_ALARM_GNSS_RESTORED));
}

/* After an outage the unit flushes its backlog, oldest first: the first
 * record was made just after the connection was lost, but the unit is
 * heard again now, and that is when (and how late) comm_restored is. */
static void test_comm_restored_by_a_backlog(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0, from_home(0, 30000)), VG_OK);
    assert_int_equal(tick(T0 + W.params.comm_loss_after_ms), VG_OK);
    assert_int_equal(count(VG_ALARM_COMM_LOST), 2);
    assert_int_equal(tick(T0 + 20 * MIN), VG_OK);
    /* the backlog's first record, made at T0 + 30 s, arrives at T0 + 20 min */
    assert_int_equal(author_at(T0 + 30 * SEC, from_home(0, 30000)), VG_OK);
    const struct vg_alarm *a = find(VG_ALARM_COMM_RESTORED);
    assert_non_null(a);
    assert_int_equal(a->unit, VG_UNIT_AUTHOR);
    assert_int_equal(a->at_ms, T0 + 20 * MIN);
    assert_int_equal(a->raised_ms, T0 + 20 * MIN);
    assert_false(a->flags & VG_ALARM_F_LATE);
}

static void test_unit_switched_off_and_on(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0, from_home(0, 2200)), VG_OK);
    assert_int_equal(event(VG_UNIT_AUTHOR, VG_EVENT_POWER_OFF, T0 + 10 * SEC), VG_OK);
    const struct vg_alarm *a = find(VG_ALARM_UNIT_SWITCHED_OFF);
    assert_non_null(a);
    /* 200 m from her alert ring: in 10 s he could be in it */
    assert_true(a->flags & VG_ALARM_F_URGENT);
    assert_int_equal(a->priority, VG_PRIORITY_ALERT);
    /* no loss alarms on top of it */
    W.n_got = 0;
    W.accumulate = true;
    run_until(T0 + 20 * MIN, 0);
    W.accumulate = false;
    for (size_t i = 0; i < W.n_got; i++)
        assert_false(W.got[i].unit == VG_UNIT_AUTHOR &&
                     (W.got[i].kind == VG_ALARM_COMM_LOST || W.got[i].kind == VG_ALARM_GNSS_LOST));
    assert_int_equal(event(VG_UNIT_AUTHOR, VG_EVENT_POWER_ON, T0 + 21 * MIN), VG_OK);
    assert_non_null(find(VG_ALARM_UNIT_SWITCHED_ON));

    /* far away, switching off is a neutralisation, not yet urgent */
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0, from_home(0, 60000)), VG_OK);
    assert_int_equal(event(VG_UNIT_AUTHOR, VG_EVENT_POWER_OFF, T0 + 10 * SEC), VG_OK);
    a = find(VG_ALARM_UNIT_SWITCHED_OFF);
    assert_non_null(a);
    assert_false(a->flags & VG_ALARM_F_URGENT);
    assert_int_equal(a->priority, VG_PRIORITY_NEUTRALISATION);
    /* ...until he could have driven the 58 km (at 25 m/s, 38 minutes): then
     * escalated, as switched off */
    W.n_got = 0;
    W.accumulate = true;
    run_until(T0 + 45 * MIN, 0);
    W.accumulate = false;
    a = find(VG_ALARM_UNIT_SWITCHED_OFF);
    assert_non_null(a);
    assert_true(a->flags & VG_ALARM_F_ESCALATION);
    /* a record from after the switching off means it is on again */
    assert_int_equal(author_at(T0 + 46 * MIN, from_home(0, 60000)), VG_OK);
    assert_non_null(find(VG_ALARM_UNIT_SWITCHED_ON));

    /* 3 km from her, in pre-alert: not urgent when switched off, but urgent as
     * soon as he could have covered the ~1 km to her alert ring (about 40 s) */
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0, from_home(0, 3000)), VG_OK);
    assert_int_equal(event(VG_UNIT_AUTHOR, VG_EVENT_POWER_OFF, T0 + 10 * SEC), VG_OK);
    assert_false(find(VG_ALARM_UNIT_SWITCHED_OFF)->flags & VG_ALARM_F_URGENT);
    assert_true(W.st.next_deadline_ms > T0 + 35 * SEC && W.st.next_deadline_ms < T0 + 45 * SEC);
    assert_int_equal(tick(W.st.next_deadline_ms), VG_OK);
    a = find(VG_ALARM_UNIT_SWITCHED_OFF);
    assert_non_null(a);
    assert_true(a->flags & VG_ALARM_F_ESCALATION);

    /* the protected person's unit switched off: technical */
    world_init(2000);
    world_start();
    assert_int_equal(event(VG_UNIT_PROTECTED, VG_EVENT_POWER_OFF, T0 + 10 * SEC), VG_OK);
    a = find(VG_ALARM_UNIT_SWITCHED_OFF);
    assert_non_null(a);
    assert_int_equal(a->unit, VG_UNIT_PROTECTED);
    assert_int_equal(a->priority, VG_PRIORITY_TECHNICAL);
}

/* Every sensor: an alarm on each change, none for a repeat or an unknown. */
static void test_neutralisation_sensors(void **state)
{
    (void)state;
    static const struct {
        enum vg_unit unit;
        int field; /* 0 strap, 1 skin, 2 link */
        unsigned bad, good;
    } cases[] = {
        {VG_UNIT_BRACELET, 0, VG_ALARM_STRAP_OPENED, VG_ALARM_STRAP_CLOSED},
        {VG_UNIT_BRACELET, 1, VG_ALARM_SKIN_CONTACT_LOST, VG_ALARM_SKIN_CONTACT_RESTORED},
        {VG_UNIT_AUTHOR, 2, VG_ALARM_BRACELET_SEPARATED, VG_ALARM_BRACELET_RECONNECTED},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        world_init(2000);
        world_start();
        static const int8_t sequence[] = {1, 1, 0, 0, -1, 0, 1, 1, -1, 0};
        static const int expect[] = {0, 0, 1, 0, 0, 0, 2, 0, 0, 1}; /* 1 bad, 2 good */
        for (size_t k = 0; k < ARRAY_LEN(sequence); k++) {
            struct vg_unit_status st = status_none(T0 + (int64_t)k * 10 * SEC);
            int8_t *f = cases[i].field == 0   ? &st.strap_closed
                        : cases[i].field == 1 ? &st.skin_contact
                                              : &st.bracelet_link;
            *f = sequence[k];
            assert_int_equal(status(cases[i].unit, st), VG_OK);
            size_t bad = count(cases[i].bad), good = count(cases[i].good);
            if (bad != (expect[k] == 1) || good != (expect[k] == 2))
                fail_msg("case %zu step %zu: %zu bad, %zu good", i, k, bad, good);
            if (bad) {
                const struct vg_alarm *a = find(cases[i].bad);
                assert_int_equal(a->priority, VG_PRIORITY_NEUTRALISATION);
                assert_int_equal(a->unit, cases[i].unit);
                assert_int_equal(a->at_ms, st.time_ms);
            }
        }
        /* the bracelet's statuses come through the author's unit: it is heard */
        assert_int_equal(W.st.unit[VG_UNIT_AUTHOR].last_heard_ms, W.now);
    }
}

static void test_battery_levels_with_hysteresis(void **state)
{
    (void)state;
    static const enum vg_unit units[] = {VG_UNIT_BRACELET, VG_UNIT_AUTHOR, VG_UNIT_PROTECTED};
    for (size_t u = 0; u < ARRAY_LEN(units); u++) {
        world_init(2000);
        world_start();
        static const struct {
            int pct;
            unsigned expect; /* alarm kind, 0 = none */
        } steps[] = {
            {80, 0},
            {21, 0},
            {20, VG_ALARM_BATTERY_LOW},
            {19, 0},
            {22, 0}, /* hysteresis band: still low */
            {18, 0},
            {5, VG_ALARM_BATTERY_CRITICAL},
            {3, 0},
            {12, 0}, /* charging back: stays critical until recovered */
            {24, 0},
            {25, VG_ALARM_BATTERY_RECOVERED},
            {90, 0},
            {4, VG_ALARM_BATTERY_CRITICAL}, /* straight from ok to critical */
        };
        for (size_t k = 0; k < ARRAY_LEN(steps); k++) {
            struct vg_unit_status st = status_none(T0 + (int64_t)k * MIN);
            st.battery_pct = (int8_t)steps[k].pct;
            assert_int_equal(status(units[u], st), VG_OK);
            if (steps[k].expect == 0) {
                if (W.n_got != 0)
                    fail_msg("unit %zu step %zu (%d%%): unexpected %s", u, k, steps[k].pct,
                             vg_alarm_kind_name(W.got[0].kind));
            } else {
                assert_int_equal(W.n_got, 1);
                assert_int_equal(W.got[0].kind, steps[k].expect);
                assert_int_equal(W.got[0].unit, units[u]);
                if (steps[k].expect == VG_ALARM_BATTERY_CRITICAL)
                    assert_int_equal(W.got[0].priority, units[u] == VG_UNIT_PROTECTED
                                                            ? VG_PRIORITY_TECHNICAL
                                                            : VG_PRIORITY_NEUTRALISATION);
            }
        }
    }
}

static void test_sos_and_callback(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0, from_home(0, 8000)), VG_OK);
    assert_int_equal(event(VG_UNIT_PROTECTED, VG_EVENT_SOS, T0 + 5 * SEC), VG_OK);
    const struct vg_alarm *a = find(VG_ALARM_SOS);
    assert_non_null(a);
    assert_int_equal(a->priority, VG_PRIORITY_ALERT);
    assert_int_equal(a->unit, VG_UNIT_PROTECTED);
    assert_near(a->ev.distance_m, 8000, 0.05); /* where he is, for the operator */
    /* the same press sent again (a resend): once */
    assert_int_equal(event(VG_UNIT_PROTECTED, VG_EVENT_SOS, T0 + 5 * SEC), VG_OK);
    assert_int_equal(W.n_got, 0);
    /* a new press: again */
    assert_int_equal(event(VG_UNIT_PROTECTED, VG_EVENT_SOS, T0 + 60 * SEC), VG_OK);
    assert_int_equal(count(VG_ALARM_SOS), 1);
    /* an SOS from the backlog, 10 minutes old: raised, marked late */
    advance_to(T0 + 20 * MIN);
    assert_int_equal(event(VG_UNIT_PROTECTED, VG_EVENT_SOS, T0 + 10 * MIN), VG_OK);
    a = find(VG_ALARM_SOS);
    assert_non_null(a);
    assert_true(a->flags & VG_ALARM_F_LATE);
    assert_int_equal(event(VG_UNIT_PROTECTED, VG_EVENT_CALLBACK_REQUEST, T0 + 21 * MIN), VG_OK);
    a = find(VG_ALARM_CALLBACK_REQUEST);
    assert_non_null(a);
    assert_int_equal(a->priority, VG_PRIORITY_PREALERT);
    assert_false(a->flags & VG_ALARM_F_LATE);
}

/* A status from the past: a strap opened during the outage is reported,
 * late, once; the present (closed) is not rewritten. */
static void test_late_status(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    struct vg_unit_status st = status_none(T0 + 10 * MIN);
    st.strap_closed = 1;
    st.skin_contact = 1;
    st.battery_pct = 70;
    assert_int_equal(status(VG_UNIT_BRACELET, st), VG_OK);
    /* the tamper status arrived first; now the backlog from before it */
    st = status_none(T0 + 5 * MIN);
    st.strap_closed = 0;
    st.battery_pct = 4;
    assert_int_equal(status(VG_UNIT_BRACELET, st), VG_OK);
    const struct vg_alarm *a = find(VG_ALARM_STRAP_OPENED);
    assert_non_null(a);
    assert_true(a->flags & VG_ALARM_F_LATE);
    assert_int_equal(a->at_ms, T0 + 5 * MIN);
    a = find(VG_ALARM_BATTERY_CRITICAL);
    assert_non_null(a);
    assert_true(a->flags & VG_ALARM_F_LATE);
    assert_int_equal(W.st.unit[VG_UNIT_BRACELET].strap_closed, 1);
    assert_int_equal(W.st.unit[VG_UNIT_BRACELET].battery_level, 0);
    st.time_ms = T0 + 6 * MIN;
    assert_int_equal(status(VG_UNIT_BRACELET, st), VG_OK);
    assert_int_equal(W.n_got, 0); /* the same episode */
    /* the present goes on: a newer status applies normally */
    st = status_none(T0 + 11 * MIN);
    st.strap_closed = 0;
    assert_int_equal(status(VG_UNIT_BRACELET, st), VG_OK);
    a = find(VG_ALARM_STRAP_OPENED);
    assert_non_null(a);
    assert_false(a->flags & VG_ALARM_F_LATE);
}

/* The local proximity detector: her unit hears the bracelet's beacon. An
 * alert at once (whatever the positions say: his GNSS may be jammed), with
 * the unit's range estimate as evidence; heard again, nothing new; no longer
 * heard, the end of it; heard in a late record, raised late, once. */
static void test_beacon_heard(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    /* far apart by GNSS: the beacon alone raises it */
    assert_int_equal(author_at(T0 + 1 * MIN, from_home(0, 9000)), VG_OK);
    assert_int_equal(protected_at(T0 + 1 * MIN, from_home(0, 0)), VG_OK);
    collect();
    struct vg_unit_status st = status_none(T0 + 2 * MIN);
    st.beacon_heard = 1;
    st.beacon_range_m = 25;
    assert_int_equal(status(VG_UNIT_PROTECTED, st), VG_OK);
    const struct vg_alarm *a = find(VG_ALARM_BEACON_DETECTED);
    assert_non_null(a);
    assert_int_equal(a->priority, VG_PRIORITY_ALERT);
    assert_int_equal(a->unit, VG_UNIT_PROTECTED);
    assert_int_equal(a->at_ms, T0 + 2 * MIN);
    assert_true(a->ev.distance_m == 25.0);
    assert_false(a->flags & VG_ALARM_F_LATE);
    assert_int_equal(a->ev.author_fix.quality, VG_FIX_3D); /* the positions are evidence too */
    st.time_ms = T0 + 2 * MIN + 10 * SEC;
    st.beacon_range_m = 12;
    assert_int_equal(status(VG_UNIT_PROTECTED, st), VG_OK);
    assert_int_equal(W.n_got, 0); /* the same episode */
    st = status_none(T0 + 4 * MIN);
    st.beacon_heard = 0;
    assert_int_equal(status(VG_UNIT_PROTECTED, st), VG_OK);
    assert_non_null(find(VG_ALARM_BEACON_LOST));
    /* a backlog status from the outage: heard back then, raised late, once */
    st = status_none(T0 + 3 * MIN);
    st.beacon_heard = 1;
    st.beacon_range_m = 40;
    assert_int_equal(status(VG_UNIT_PROTECTED, st), VG_OK);
    a = find(VG_ALARM_BEACON_DETECTED);
    assert_non_null(a);
    assert_true(a->flags & VG_ALARM_F_LATE);
    st.time_ms = T0 + 3 * MIN + 5 * SEC;
    assert_int_equal(status(VG_UNIT_PROTECTED, st), VG_OK);
    assert_int_equal(W.n_got, 0);
    assert_int_equal(W.st.unit[VG_UNIT_PROTECTED].beacon_heard, 0);
}

/* Only her unit has the detector: a beacon field from another device, or a
 * range without "heard", is not what it claims and changes nothing. */
/* A unit's notice that its flash lost a record: accepted from either
 * mobile unit (the store keeps it), decides nothing, proves the unit alive;
 * the bracelet has no events. */
static void test_record_lost_notice(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0, from_home(0, 30000)), VG_OK);
    assert_int_equal(event(VG_UNIT_BRACELET, VG_EVENT_RECORD_LOST, T0 + MIN), VG_EINVAL);
    int64_t late = T0 + W.params.comm_loss_after_ms - MIN;
    assert_int_equal(event(VG_UNIT_AUTHOR, VG_EVENT_RECORD_LOST, late), VG_OK);
    assert_int_equal(W.out.n_alarms, 0);
    assert_int_equal(event(VG_UNIT_PROTECTED, VG_EVENT_RECORD_LOST, late), VG_OK);
    assert_int_equal(W.out.n_alarms, 0);
    /* heard at `late`: no communication loss when it would have come */
    assert_int_equal(tick(T0 + W.params.comm_loss_after_ms), VG_OK);
    assert_int_equal(count(VG_ALARM_COMM_LOST), 0);
}

static void test_beacon_refused_from_other_units(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    struct vg_unit_status st = status_none(T0 + 1 * MIN);
    st.beacon_heard = 1;
    assert_int_equal(status(VG_UNIT_AUTHOR, st), VG_EINVAL);
    assert_int_equal(status(VG_UNIT_BRACELET, st), VG_EINVAL);
    st = status_none(T0 + 1 * MIN);
    st.beacon_range_m = 30; /* a range, but not heard */
    assert_int_equal(status(VG_UNIT_PROTECTED, st), VG_EINVAL);
    st.beacon_heard = 2;
    assert_int_equal(status(VG_UNIT_PROTECTED, st), VG_EINVAL);
    assert_null(find(VG_ALARM_BEACON_DETECTED));
    assert_int_equal(W.st.unit[VG_UNIT_PROTECTED].beacon_heard, -1);
}

static void test_bad_input_refused_state_unchanged(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0, from_home(0, 3000)), VG_OK);
    struct vg_engine_state before = W.st;
    struct vg_engine_input in;
    struct {
        const char *what;
        struct vg_engine_input in;
        int expect;
    } cases[10];
    size_t n = 0;
    memset(cases, 0, sizeof cases);
#define CASE(text, rc) (cases[n].what = (text), cases[n].expect = (rc), &cases[n++].in)
    in = (struct vg_engine_input){.kind = VG_INPUT_FIX, .unit = VG_UNIT_AUTHOR};
    in.fix = (struct vg_fix){T0 + SEC, (double)NAN, 2.0, 5, -1, -1, VG_FIX_3D};
    *CASE("NaN latitude", VG_EINVAL) = in;
    in.fix = (struct vg_fix){T0 + SEC, 47.0, 200.0, 5, -1, -1, VG_FIX_3D};
    *CASE("longitude 200", VG_ERANGE) = in;
    in.fix = (struct vg_fix){T0 + SEC, 47.0, 2.0, -3, -1, -1, VG_FIX_3D};
    *CASE("negative accuracy", VG_ERANGE) = in;
    in.fix = (struct vg_fix){T0 + SEC, 47.0, 2.0, HUGE_VAL, -1, -1, VG_FIX_3D};
    *CASE("infinite accuracy", VG_EINVAL) = in;
    in.fix = (struct vg_fix){100, 47.0, 2.0, 5, -1, -1, VG_FIX_3D};
    *CASE("time in 1970", VG_ERANGE) = in;
    in.fix = (struct vg_fix){T0 + SEC, 47.0, 2.0, 5, -1, -1, 9};
    *CASE("unknown quality", VG_EINVAL) = in;
    in.unit = VG_UNIT_BRACELET;
    in.fix = (struct vg_fix){T0 + SEC, 47.0, 2.0, 5, -1, -1, VG_FIX_3D};
    *CASE("a fix from the bracelet", VG_EINVAL) = in;
    in = (struct vg_engine_input){.kind = VG_INPUT_EVENT, .unit = VG_UNIT_AUTHOR};
    in.event = (struct vg_unit_event){T0 + SEC, VG_EVENT_SOS};
    *CASE("SOS from the author's unit", VG_EINVAL) = in;
    in = (struct vg_engine_input){.kind = VG_INPUT_STATUS, .unit = VG_UNIT_PROTECTED};
    in.status = status_none(T0 + SEC);
    in.status.strap_closed = 0;
    *CASE("strap from the protected unit", VG_EINVAL) = in;
    in = (struct vg_engine_input){.kind = 42, .unit = VG_UNIT_AUTHOR};
    *CASE("unknown input kind", VG_EINVAL) = in;
#undef CASE
    for (size_t i = 0; i < n; i++) {
        int rc = vg_engine_feed(&W.st, &W.cfg, &cases[i].in, T0 + SEC, &W.out);
        if (rc != cases[i].expect)
            fail_msg("%s: %d, expected %d", cases[i].what, rc, cases[i].expect);
        assert_int_equal(W.out.n_alarms, 0);
        assert_memory_equal(&before, &W.st, sizeof before);
    }
    assert_int_equal(vg_engine_feed(NULL, &W.cfg, &cases[0].in, T0, &W.out), VG_EINVAL);
    struct vg_engine_input ok = {.kind = VG_INPUT_EVENT, .unit = VG_UNIT_AUTHOR};
    ok.event = (struct vg_unit_event){T0 + SEC, VG_EVENT_HEARTBEAT};
    assert_int_equal(vg_engine_feed(&W.st, &W.cfg, &ok, 12, &W.out), VG_ERANGE);
    assert_int_equal(vg_engine_tick(&W.st, &W.cfg, INT64_MAX, &W.out), VG_ERANGE);
}

static void test_config_refused(void **state)
{
    (void)state;
    world_init(2000);
    struct vg_engine_state st;
    W.cfg.alert_radius_m = 500;
    assert_int_equal(vg_engine_init(&st, &W.cfg, T0), VG_EINVAL);
    W.cfg.alert_radius_m = (double)NAN;
    assert_int_equal(vg_engine_init(&st, &W.cfg, T0), VG_EINVAL);
    W.cfg.alert_radius_m = 2000;
    W.cfg.n_zones = VG_ENGINE_MAX_FIXED_ZONES + 1;
    assert_int_equal(vg_engine_init(&st, &W.cfg, T0), VG_EINVAL);
    W.cfg.n_zones = 0;
    W.params.suspect_k = -1;
    assert_int_equal(vg_engine_init(&st, &W.cfg, T0), VG_EINVAL);
    vg_engine_params_default(&W.params);
    W.params.battery_low_pct = 3; /* below critical */
    assert_int_equal(vg_engine_params_check(&W.params), VG_EINVAL);
    vg_engine_params_default(&W.params);
    assert_int_equal(vg_engine_init(&st, &W.cfg, T0), VG_OK);
    assert_int_equal(vg_engine_init(&st, &W.cfg, 5), VG_ERANGE);
}

/* The centre's clock going back does not undo time; a unit's clock in the
 * future is clamped to now and flagged. */
static void test_clock_jumps(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0, from_home(0, 9000)), VG_OK);
    /* the centre's clock steps back an hour */
    struct vg_engine_out out;
    assert_int_equal(vg_engine_tick(&W.st, &W.cfg, T0 - 3600 * SEC, &out), VG_OK);
    assert_int_equal(W.st.now_ms, T0);
    assert_int_equal(out.n_alarms, 0);
    /* the author's unit believes it is tomorrow */
    struct vg_engine_input in = {.kind = VG_INPUT_FIX, .unit = VG_UNIT_AUTHOR};
    struct vg_geo_point p = from_home(0, 1500);
    in.fix = (struct vg_fix){T0 + 86400 * SEC, p.lat_deg, p.lon_deg, 5, -1, -1, VG_FIX_3D};
    world_init(2000);
    world_start();
    assert_int_equal(protected_at(T0, W.home), VG_OK);
    assert_int_equal(author_at(T0, from_home(0, 9000)), VG_OK);
    assert_int_equal(vg_engine_feed(&W.st, &W.cfg, &in, T0 + 400 * SEC, &W.out), VG_OK);
    /* her fix is 400 s old by then: a clear pre-alert, a suspected alert */
    const struct vg_alarm *a = NULL;
    for (size_t i = 0; i < W.out.n_alarms; i++)
        if (W.out.alarms[i].kind == VG_ALARM_PREALERT_ENTERED)
            a = &W.out.alarms[i];
    assert_non_null(a);
    assert_true(a->flags & VG_ALARM_F_CLOCK);
    assert_int_equal(a->at_ms, T0 + 400 * SEC);
    /* a jump forward of the centre's clock: everyone silent for two hours */
    assert_int_equal(tick(T0 + 400 * SEC + 2 * 3600 * SEC), VG_OK);
    assert_int_equal(count(VG_ALARM_COMM_LOST), 2);
}

static void test_deadlines(void **state)
{
    (void)state;
    world_init(2000);
    world_start();
    /* nothing heard yet: the earliest deadline is the GNSS supervision */
    assert_int_equal(W.st.next_deadline_ms, T0 + W.params.gnss_loss_after_ms);
    assert_int_equal(protected_at(T0 + 10 * SEC, W.home), VG_OK);
    assert_int_equal(author_at(T0 + 20 * SEC, from_home(0, 30000)), VG_OK);
    /* a tick before the deadline raises nothing */
    assert_int_equal(tick(W.st.next_deadline_ms - 1), VG_OK);
    assert_int_equal(W.n_got, 0);
    int64_t d = W.st.next_deadline_ms;
    assert_int_equal(d, T0 + 10 * SEC + W.params.gnss_loss_after_ms);
    assert_int_equal(tick(d), VG_OK);
    assert_int_equal(count(VG_ALARM_GNSS_LOST), 1);
    /* ticking again at the same time is harmless */
    assert_int_equal(tick(d), VG_OK);
    assert_int_equal(W.n_got, 0);
}

/* The same stream of inputs gives the same outputs, twice over: a random
 * day of two parties moving, noise, outliers, losses, late records,
 * statuses, events and ticks. */
struct replay_digest {
    uint64_t hash;
    size_t alarms, commands;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static struct replay_digest replay(uint64_t seed)
{
    struct replay_digest dg = {0xcbf29ce484222325ULL, 0, 0};
    world_init(2000);
    struct vg_geo_point school = from_home(135, 6000);
    assert_int_equal(vg_zone_init_circle(&W.zones[0], 1, VG_ZONE_SCHOOL, school, 1000), VG_OK);
    assert_int_equal(vg_window_init_weekly(&W.windows[0], VG_DAY_WED | VG_DAY_SAT, 9 * 60, 12 * 60),
                     VG_OK);
    assert_int_equal(vg_zone_set_windows(&W.zones[0], W.windows, 1), VG_OK);
    W.cfg.n_zones = 1;
    world_start();
    struct vg_prng rng;
    vg_prng_seed(&rng, seed);
    double him_d = 15000, him_b = 0, her_d = 0, her_b = 0;
    int64_t t = T0;
    for (int k = 0; k < 6000; k++) {
        t += (int64_t)vg_prng_range(&rng, 1000, 20000);
        double r = vg_prng_uniform(&rng);
        struct vg_engine_input in;
        memset(&in, 0, sizeof in);
        him_d = fmax(0, him_d + vg_prng_range(&rng, -150, 140));
        him_b += vg_prng_range(&rng, -2, 2);
        her_d = fmin(3000, fmax(0, her_d + vg_prng_range(&rng, -20, 20)));
        her_b += vg_prng_range(&rng, -5, 5);
        int64_t rec = t;
        if (vg_prng_uniform(&rng) < 0.05)
            rec -= (int64_t)vg_prng_range(&rng, 1000, 600000); /* late */
        if (r < 0.45 || r >= 0.9) {
            struct vg_geo_point p = from_home(r < 0.45 ? him_b : her_b, r < 0.45 ? him_d : her_d);
            if (vg_prng_uniform(&rng) < 0.03)
                p = from_home(vg_prng_range(&rng, 0, 360), vg_prng_range(&rng, 0, 20000));
            in.kind = VG_INPUT_FIX;
            in.unit = r < 0.45 ? VG_UNIT_AUTHOR : VG_UNIT_PROTECTED;
            in.fix = (struct vg_fix){rec,
                                     p.lat_deg,
                                     p.lon_deg,
                                     (float)vg_prng_range(&rng, 3, 200),
                                     -1,
                                     -1,
                                     vg_prng_uniform(&rng) < 0.05 ? VG_FIX_NONE : VG_FIX_3D};
        } else if (r < 0.8) {
            in.kind = VG_INPUT_STATUS;
            in.unit = (uint8_t)(vg_prng_next(&rng) % 3);
            in.status = status_none(rec);
            in.status.battery_pct = (int8_t)(vg_prng_next(&rng) % 101);
            if (in.unit == VG_UNIT_BRACELET) {
                in.status.strap_closed = (int8_t)(vg_prng_uniform(&rng) < 0.97);
                in.status.skin_contact = (int8_t)(vg_prng_uniform(&rng) < 0.97);
            }
            if (in.unit == VG_UNIT_AUTHOR)
                in.status.bracelet_link = (int8_t)(vg_prng_uniform(&rng) < 0.97);
        } else {
            in.kind = VG_INPUT_EVENT;
            in.unit = vg_prng_uniform(&rng) < 0.5 ? VG_UNIT_AUTHOR : VG_UNIT_PROTECTED;
            static const uint8_t kinds[] = {
                VG_EVENT_HEARTBEAT,        VG_EVENT_HEARTBEAT, VG_EVENT_HEARTBEAT, VG_EVENT_SOS,
                VG_EVENT_CALLBACK_REQUEST, VG_EVENT_POWER_OFF, VG_EVENT_POWER_ON};
            in.event = (struct vg_unit_event){rec, kinds[vg_prng_next(&rng) % 7]};
        }
        int rc = vg_engine_feed(&W.st, &W.cfg, &in, t, &W.out);
        dg.hash = fnv(dg.hash, &rc, sizeof rc);
        dg.hash = fnv(dg.hash, W.out.alarms, W.out.n_alarms * sizeof W.out.alarms[0]);
        dg.hash = fnv(dg.hash, W.out.commands, W.out.n_commands * sizeof W.out.commands[0]);
        dg.alarms += W.out.n_alarms;
        dg.commands += W.out.n_commands;
        if (W.st.next_deadline_ms <= t) {
            assert_int_equal(vg_engine_tick(&W.st, &W.cfg, t, &W.out), VG_OK);
            dg.hash = fnv(dg.hash, W.out.alarms, W.out.n_alarms * sizeof W.out.alarms[0]);
            dg.alarms += W.out.n_alarms;
        }
    }
    dg.hash = fnv(dg.hash, &W.st, sizeof W.st);
    return dg;
}

static void test_determinism(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct replay_digest a = replay(seed), b = replay(seed);
        print_message("  seed %d: %zu alarms, %zu commands, digest %016llx\n", (int)seed, a.alarms,
                      a.commands, (unsigned long long)a.hash);
        assert_true(a.alarms > 50);
        assert_int_equal(a.hash, b.hash);
        assert_int_equal(a.alarms, b.alarms);
        assert_int_equal(a.commands, b.commands);
    }
    /* and a different stream gives a different digest (the digest sees something) */
    assert_true(replay(1).hash != replay(2).hash);
}

static void test_alarm_names(void **state)
{
    (void)state;
    for (unsigned k = 1; k < VG_ALARM_KIND__COUNT; k++) {
        assert_string_not_equal(vg_alarm_kind_name(k), "unknown");
        assert_string_not_equal(vg_alarm_kind_label_fr(k), "inconnu");
    }
    assert_string_equal(vg_alarm_kind_name(0), "unknown");
    assert_string_equal(vg_alarm_kind_name(VG_ALARM_KIND__COUNT), "unknown");
    assert_string_equal(vg_alarm_kind_name(VG_ALARM_ALERT_ENTERED), "alert_entered");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gnss_loss_graded_by_reachability),
        cmocka_unit_test(test_loss_reachability_counts_fixed_zones),
        cmocka_unit_test(test_settled_loss_grows_at_walking_pace),
        cmocka_unit_test(test_fast_car_reach_uses_his_speed),
        cmocka_unit_test(test_network_position_grades_a_loss),
        cmocka_unit_test(test_her_network_position_raises_an_approach),
        cmocka_unit_test(test_near_nofix_declares_loss_early),
        cmocka_unit_test(test_near_silence_declares_loss_early),
        cmocka_unit_test(test_comm_loss_and_restoration),
        cmocka_unit_test(test_comm_restored_by_a_backlog),
        cmocka_unit_test(test_unit_switched_off_and_on),
        cmocka_unit_test(test_neutralisation_sensors),
        cmocka_unit_test(test_battery_levels_with_hysteresis),
        cmocka_unit_test(test_sos_and_callback),
        cmocka_unit_test(test_late_status),
        cmocka_unit_test(test_bad_input_refused_state_unchanged),
        cmocka_unit_test(test_config_refused),
        cmocka_unit_test(test_clock_jumps),
        cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_alarm_names),
        cmocka_unit_test(test_beacon_heard),
        cmocka_unit_test(test_record_lost_notice),
        cmocka_unit_test(test_beacon_refused_from_other_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
