/* The floor view (core/floor.c): the queue by priority and state, the
 * oldest incident waiting, escalated and late incidents, response times
 * over the window (count, median, 90th percentile, maximum), closings and
 * each operator's load, all against values computed by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/floor.h"

#define S   1000LL
#define MIN (60 * S)
#define H   (60 * MIN)
#define NOW (48 * H)

static struct vg_incident open_one(int64_t id, uint8_t priority, int64_t opened_ms)
{
    return (struct vg_incident){.id = id,
                                .measure_id = id,
                                .state = VG_INCIDENT_OPEN,
                                .priority = priority,
                                .opened_ms = opened_ms};
}

/* Taken at opened + to_take; steps: how many, the last one at taken +
 * to_step (none: last_step_ms is the taking, as vg_incident_take sets it). */
static struct vg_incident taken_one(int64_t id, uint8_t priority, int64_t opened_ms,
                                    int64_t to_take, uint32_t steps, int64_t to_step,
                                    const char *op)
{
    struct vg_incident x = open_one(id, priority, opened_ms);
    x.state = VG_INCIDENT_TAKEN;
    x.taken_ms = opened_ms + to_take;
    x.n_steps = steps;
    x.last_step_ms = x.taken_ms + (steps ? to_step : 0);
    snprintf(x.operator_name, sizeof x.operator_name, "%s", op);
    return x;
}

static struct vg_incident closed_one(int64_t id, uint8_t priority, int64_t opened_ms,
                                     int64_t to_take, uint32_t steps, int64_t to_step,
                                     const char *op, int64_t closed_ms)
{
    struct vg_incident x = taken_one(id, priority, opened_ms, to_take, steps, to_step, op);
    x.state = VG_INCIDENT_CLOSED;
    x.closed_ms = closed_ms;
    return x;
}

#define N_MAX 16
static int64_t durations[N_MAX];
static struct vg_floor_escalated escalated[N_MAX];
static struct vg_floor_operator operators[N_MAX];
static const struct vg_floor_memory mem = {durations, escalated, operators};

/* A shift's incidents, the default timers (alert and SOS taken within 30 s,
 * a step every 2 minutes; neutralisation 60 s / 5 min; pre-alert 2 min /
 * 10 min; technical 15 min / 1 h), the last 24 hours. */
static void test_a_shift(void **state)
{
    (void)state;
    struct vg_incident inc[] = {
        /* waiting: an SOS 45 s old (late by 15 s), a pre-alert 60 s old (not
         * late: 2 min), a technical loss 5 min old the centre has escalated */
        open_one(1, VG_PRIORITY_ALERT, NOW - 45 * S),
        open_one(2, VG_PRIORITY_PREALERT, NOW - 60 * S),
        open_one(8, VG_PRIORITY_TECHNICAL, NOW - 5 * MIN),
        /* in hand: an alert taken in 20 s, first step 30 s later, nothing
         * since (the step was 9 min 10 s ago: 7 min 10 s past its 2 min) */
        taken_one(3, VG_PRIORITY_ALERT, NOW - 10 * MIN, 20 * S, 1, 30 * S, "op1"),
        /* a strap cut taken in 40 s, no step yet (5 min allowed: not late) */
        taken_one(4, VG_PRIORITY_NEUTRALISATION, NOW - 3 * MIN, 40 * S, 0, 0, "op2"),
        /* closed in the window: taken in 10 s, three steps (the last 290 s
         * after the taking: an upper bound of the first) */
        closed_one(5, VG_PRIORITY_ALERT, NOW - 2 * H, 10 * S, 3, 290 * S, "op1", NOW - H),
        /* taken in 120 s, its one step 60 s later */
        closed_one(9, VG_PRIORITY_PREALERT, NOW - 20 * H, 120 * S, 1, 60 * S, "op1", NOW - 19 * H),
        /* opened before the window, closed in it: a closing, not a time */
        closed_one(6, VG_PRIORITY_TECHNICAL, NOW - 30 * H, 60 * S, 1, 5 * S, "op2", NOW - 23 * H),
        /* wholly before the window: nothing, op3 not listed */
        closed_one(7, VG_PRIORITY_ALERT, NOW - 40 * H, 5 * S, 1, 5 * S, "op3", NOW - 30 * H),
    };
    inc[2].escalation = VG_ESCALATE_NOT_TAKEN;
    struct vg_incident_policy p;
    vg_incident_policy_default(&p);
    struct vg_floor f;
    assert_int_equal(
        vg_floor_compute(inc, NULL, sizeof inc / sizeof inc[0], NOW, 24 * H, &p, &mem, &f), VG_OK);
    assert_int_equal(f.now_ms, NOW);
    assert_int_equal(f.from_ms, 24 * H);

    /* the queue */
    assert_int_equal(f.n_open, 3);
    assert_int_equal(f.n_taken, 2);
    const uint32_t open[6] = {0, 1, 0, 1, 1, 0}, taken[6] = {0, 1, 1, 0, 0, 0};
    assert_memory_equal(f.open, open, sizeof open);
    assert_memory_equal(f.taken, taken, sizeof taken);
    assert_non_null(f.oldest_open);
    assert_int_equal(f.oldest_open->id, 8);
    assert_int_equal(f.oldest_open_age_ms, 300 * S);

    /* opened in the window and taken: 10, 20, 40, 120 s */
    assert_int_equal(f.to_take.count, 4);
    assert_int_equal(f.to_take.median_ms, 30 * S); /* (20 + 40) / 2 */
    assert_int_equal(f.to_take.p90_ms, 120 * S);   /* rank ceil(3.6) = 4 */
    assert_int_equal(f.to_take.max_ms, 120 * S);
    /* with a step: 30, 60, 290 s (290 an upper bound) */
    assert_int_equal(f.to_first_step.count, 3);
    assert_int_equal(f.to_first_step.median_ms, 60 * S);
    assert_int_equal(f.to_first_step.p90_ms, 290 * S); /* rank ceil(2.7) = 3 */
    assert_int_equal(f.to_first_step.max_ms, 290 * S);
    assert_int_equal(f.first_step_upper_bounds, 1);
    assert_int_equal(f.closed, 3); /* 5, 9, 6 */

    /* escalated or late, in the queue's order: the alert in hand (opened
     * first), the SOS waiting, the technical loss */
    assert_int_equal(f.n_escalated, 3);
    assert_int_equal(f.escalated[0].inc->id, 3);
    assert_int_equal(f.escalated[0].overdue, VG_ESCALATE_NOT_PROGRESSING);
    assert_int_equal(f.escalated[0].escalation, VG_ESCALATE_NONE);
    assert_int_equal(f.escalated[0].late_ms, 430 * S);
    assert_int_equal(f.escalated[1].inc->id, 1);
    assert_int_equal(f.escalated[1].overdue, VG_ESCALATE_NOT_TAKEN);
    assert_int_equal(f.escalated[1].late_ms, 15 * S);
    assert_int_equal(f.escalated[2].inc->id, 8);
    assert_int_equal(f.escalated[2].escalation, VG_ESCALATE_NOT_TAKEN);
    assert_int_equal(f.escalated[2].overdue, VG_ESCALATE_NONE);
    assert_int_equal(f.escalated[2].late_ms, 0);

    /* the operators, by name */
    assert_int_equal(f.n_operators, 2);
    assert_string_equal(f.operators[0].name, "op1");
    assert_int_equal(f.operators[0].holding, 1);
    assert_int_equal(f.operators[0].closed, 2);
    assert_string_equal(f.operators[1].name, "op2");
    assert_int_equal(f.operators[1].holding, 1);
    assert_int_equal(f.operators[1].closed, 1);

    /* the store knows incident 5's first step, 20 s after its taking: 30,
     * 60, 20 s, none an upper bound now */
    int64_t first[sizeof inc / sizeof inc[0]] = {0};
    first[5] = inc[5].taken_ms + 20 * S;
    assert_int_equal(
        vg_floor_compute(inc, first, sizeof inc / sizeof inc[0], NOW, 24 * H, &p, &mem, &f), VG_OK);
    assert_int_equal(f.to_first_step.count, 3);
    assert_int_equal(f.to_first_step.median_ms, 30 * S);
    assert_int_equal(f.to_first_step.p90_ms, 60 * S);
    assert_int_equal(f.to_first_step.max_ms, 60 * S);
    assert_int_equal(f.first_step_upper_bounds, 0);
    assert_int_equal(f.to_take.count, 4); /* the rest unchanged */

    /* a shorter window: the last hour keeps incidents 3, 4 and the
     * closing of 5 (opened 2 h ago: no time) */
    assert_int_equal(vg_floor_compute(inc, NULL, sizeof inc / sizeof inc[0], NOW, H, &p, &mem, &f),
                     VG_OK);
    assert_int_equal(f.to_take.count, 2); /* 20, 40 s */
    assert_int_equal(f.to_take.median_ms, 30 * S);
    assert_int_equal(f.to_take.p90_ms, 40 * S);
    assert_int_equal(f.to_first_step.count, 1);
    assert_int_equal(f.to_first_step.median_ms, 30 * S);
    assert_int_equal(f.first_step_upper_bounds, 0);
    assert_int_equal(f.closed, 1);
    assert_int_equal(f.operators[0].closed, 1);
    assert_int_equal(f.operators[1].closed, 0);
    assert_int_equal(f.n_open, 3); /* the queue does not depend on the window */
}

/* The statistics themselves: an even and an odd count, the 90th
 * percentile's rank, rounding down, the window's edges (both included). */
static void test_times_and_edges(void **state)
{
    (void)state;
    struct vg_incident_policy p;
    vg_incident_policy_default(&p);
    struct vg_incident inc[12];
    for (int i = 0; i < 10; i++) /* taken in 10, 9, ... 1 s: any order */
        inc[i] = taken_one(i + 1, VG_PRIORITY_TECHNICAL, NOW - H, (10 - i) * S, 0, 0, "op");
    struct vg_floor f;
    assert_int_equal(vg_floor_compute(inc, NULL, 10, NOW, 2 * H, &p, &mem, &f), VG_OK);
    assert_int_equal(f.to_take.count, 10);
    assert_int_equal(f.to_take.median_ms, 5500); /* (5 + 6) / 2 s */
    assert_int_equal(f.to_take.p90_ms, 9 * S);   /* rank 9 of 10 */
    assert_int_equal(f.to_take.max_ms, 10 * S);
    assert_int_equal(f.to_first_step.count, 0);
    assert_int_equal(f.to_first_step.median_ms, 0);
    assert_int_equal(f.operators[0].holding, 10);
    /* an eleventh: rank ceil(9.9) = 10; the median the 6th */
    inc[10] = taken_one(11, VG_PRIORITY_TECHNICAL, NOW - H, 11 * S, 0, 0, "op");
    assert_int_equal(vg_floor_compute(inc, NULL, 11, NOW, 2 * H, &p, &mem, &f), VG_OK);
    assert_int_equal(f.to_take.median_ms, 6 * S);
    assert_int_equal(f.to_take.p90_ms, 10 * S);
    assert_int_equal(f.to_take.max_ms, 11 * S);

    /* 1 ms and 2 ms: the median rounds down to 1 */
    struct vg_incident two[] = {
        closed_one(1, VG_PRIORITY_ALERT, NOW - H, 1, 0, 0, "a", NOW),
        closed_one(2, VG_PRIORITY_ALERT, NOW - H, 2, 0, 0, "b", NOW - H),
    };
    assert_int_equal(vg_floor_compute(two, NULL, 2, NOW, H, &p, &mem, &f), VG_OK);
    assert_int_equal(f.to_take.median_ms, 1);
    assert_int_equal(f.to_take.p90_ms, 2);
    assert_int_equal(f.closed, 2); /* closed at now and at the window's start */
    assert_int_equal(f.n_escalated, 0);
    /* one ms earlier is out */
    two[0].opened_ms = two[1].opened_ms = NOW - H - 1;
    two[1].closed_ms = NOW - H - 1;
    assert_int_equal(vg_floor_compute(two, NULL, 2, NOW, H, &p, &mem, &f), VG_OK);
    assert_int_equal(f.to_take.count, 0);
    assert_int_equal(f.closed, 1);
    assert_int_equal(f.n_operators, 1);
    assert_string_equal(f.operators[0].name, "a");

    /* a taking stamped before the opening (another clock): 0, not negative */
    struct vg_incident skew = taken_one(1, VG_PRIORITY_ALERT, NOW - MIN, -5 * S, 0, 0, "op");
    assert_int_equal(vg_floor_compute(&skew, NULL, 1, NOW, H, &p, &mem, &f), VG_OK);
    assert_int_equal(f.to_take.max_ms, 0);
}

static void test_empty_and_invalid(void **state)
{
    (void)state;
    struct vg_incident_policy p;
    vg_incident_policy_default(&p);
    struct vg_floor f;
    assert_int_equal(vg_floor_compute(NULL, NULL, 0, NOW, H, &p, NULL, &f), VG_OK);
    assert_int_equal(f.n_open + f.n_taken + f.closed, 0);
    assert_null(f.oldest_open);
    assert_int_equal(f.oldest_open_age_ms, 0);
    assert_int_equal(f.to_take.count, 0);
    assert_int_equal(f.n_escalated + f.n_operators, 0);
    struct vg_incident one = open_one(1, VG_PRIORITY_ALERT, NOW);
    assert_int_equal(vg_floor_compute(&one, NULL, 1, NOW, 0, &p, &mem, &f), VG_EINVAL);
    assert_int_equal(vg_floor_compute(&one, NULL, 1, NOW, H, &p, NULL, &f), VG_EINVAL);
    assert_int_equal(vg_floor_compute(&one, NULL, 1, NOW, H, NULL, &mem, &f), VG_EINVAL);
    /* just opened: waiting, 0 ms old, not late */
    assert_int_equal(vg_floor_compute(&one, NULL, 1, NOW, H, &p, &mem, &f), VG_OK);
    assert_int_equal(f.oldest_open->id, 1);
    assert_int_equal(f.oldest_open_age_ms, 0);
    assert_int_equal(f.n_escalated, 0);
    /* an unknown priority is counted apart, and timed as the most urgent */
    one.priority = 9;
    assert_int_equal(vg_floor_compute(&one, NULL, 1, NOW + 30 * S, H, &p, &mem, &f), VG_OK);
    assert_int_equal(f.open[0], 1);
    assert_int_equal(f.n_escalated, 1);
    assert_int_equal(f.escalated[0].late_ms, 0); /* due at 30 s exactly: late from then */
}

static void test_hours(void **state)
{
    (void)state;
    int h = 0;
    assert_int_equal(vg_floor_hours_parse("24", &h), VG_OK);
    assert_int_equal(h, 24);
    assert_int_equal(vg_floor_hours_parse("1", &h), VG_OK);
    assert_int_equal(h, 1);
    assert_int_equal(vg_floor_hours_parse("744", &h), VG_OK);
    assert_int_equal(h, 744);
    const char *bad[] = {"0", "745", "", "-1", "+2", "2h", " 2", "1000", "0024", NULL};
    for (const char **b = bad; *b; b++)
        assert_int_equal(vg_floor_hours_parse(*b, &h), VG_EINVAL);
    assert_int_equal(vg_floor_hours_parse(NULL, &h), VG_EINVAL);
    assert_int_equal(h, 744);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_shift),
        cmocka_unit_test(test_times_and_edges),
        cmocka_unit_test(test_empty_and_invalid),
        cmocka_unit_test(test_hours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
