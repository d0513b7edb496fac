/* Incidents (core/incident.c): one per situation, taken by one operator at
 * a time, the protocol's steps and their outcomes, closing with a summary,
 * escalation timers on both sides of their deadlines, the queue's order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/incident.h"

#define S 1000LL

static struct vg_alarm alarm(uint32_t seq, uint16_t kind, uint8_t priority)
{
    return (struct vg_alarm){.seq = seq, .kind = kind, .priority = priority};
}

static void test_one_incident_per_situation(void **state)
{
    (void)state;
    struct vg_incident inc, next;
    struct vg_alarm pre = alarm(1, VG_ALARM_PREALERT_ENTERED, VG_PRIORITY_PREALERT);
    assert_int_equal(vg_incident_on_alarm(NULL, 7, &pre, 1000, &inc), VG_INCIDENT_OPENED);
    assert_int_equal(inc.state, VG_INCIDENT_OPEN);
    assert_int_equal(inc.priority, VG_PRIORITY_PREALERT);
    assert_int_equal(inc.measure_id, 7);
    inc.id = 41;
    /* the pre-alert becomes an alert: the same incident, moved up */
    struct vg_alarm alert = alarm(2, VG_ALARM_ALERT_ENTERED, VG_PRIORITY_ALERT);
    assert_int_equal(vg_incident_on_alarm(&inc, 7, &alert, 2000, &next), VG_INCIDENT_JOINED);
    assert_int_equal(next.id, 41);
    assert_int_equal(next.priority, VG_PRIORITY_ALERT);
    assert_int_equal(next.n_alarms, 2);
    assert_int_equal(next.last_alarm_seq, 2);
    /* the end of the situation joins it too, and does not lower it */
    struct vg_alarm left = alarm(3, VG_ALARM_ALERT_LEFT, VG_PRIORITY_INFO);
    assert_int_equal(vg_incident_on_alarm(&next, 7, &left, 3000, &inc), VG_INCIDENT_JOINED);
    assert_int_equal(inc.priority, VG_PRIORITY_ALERT);
    /* closed: the end of a situation opens nothing, a new alarm opens a new
     * incident linked to the previous one */
    char msg[160];
    assert_int_equal(vg_incident_take(&inc, "op1", false, 4000, msg, sizeof msg), VG_OK);
    assert_int_equal(vg_incident_close(&inc, "op1", "author moved away", 5000, msg, sizeof msg),
                     VG_OK);
    assert_int_equal(vg_incident_on_alarm(&inc, 7, &left, 6000, &next), VG_INCIDENT_IGNORED);
    struct vg_alarm sos = alarm(4, VG_ALARM_SOS, VG_PRIORITY_ALERT);
    assert_int_equal(vg_incident_on_alarm(&inc, 7, &sos, 7000, &next), VG_INCIDENT_OPENED);
    assert_int_equal(next.previous_id, 41);
    assert_int_equal(next.id, 0);
    assert_int_equal(next.first_kind, VG_ALARM_SOS);
    assert_int_equal(next.opened_ms, 7000);
    /* information alone opens nothing */
    assert_int_equal(vg_incident_on_alarm(NULL, 7, &left, 1, &next), VG_INCIDENT_IGNORED);
}

static void test_one_operator_at_a_time(void **state)
{
    (void)state;
    struct vg_incident inc;
    struct vg_alarm a = alarm(1, VG_ALARM_SOS, VG_PRIORITY_ALERT);
    vg_incident_on_alarm(NULL, 1, &a, 0, &inc);
    inc.id = 5;
    char msg[160];
    assert_int_equal(vg_incident_take(&inc, "op1", false, 10 * S, msg, sizeof msg), VG_OK);
    assert_int_equal(inc.taken_ms, 10 * S);
    assert_int_equal(vg_incident_take(&inc, "op1", false, 11 * S, msg, sizeof msg), VG_OK);
    assert_int_equal(vg_incident_take(&inc, "op2", false, 12 * S, msg, sizeof msg), VG_ESTATE);
    assert_non_null(strstr(msg, "op1"));
    assert_string_equal(inc.operator_name, "op1");
    /* a supervisor reassigns it; it keeps when it was first taken */
    assert_int_equal(vg_incident_take(&inc, "op2", true, 13 * S, msg, sizeof msg), VG_OK);
    assert_string_equal(inc.operator_name, "op2");
    assert_int_equal(inc.taken_ms, 10 * S);
    assert_int_equal(vg_incident_take(&inc, "", false, 0, msg, sizeof msg), VG_EINVAL);
    char long_name[VG_OPERATOR_NAME_MAX + 2];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(vg_incident_take(&inc, long_name, true, 0, msg, sizeof msg), VG_EINVAL);
}

static void test_steps_and_closing(void **state)
{
    (void)state;
    struct vg_incident inc;
    struct vg_alarm a = alarm(1, VG_ALARM_ALERT_ENTERED, VG_PRIORITY_ALERT);
    vg_incident_on_alarm(NULL, 1, &a, 0, &inc);
    char msg[160];
    /* nothing before it is taken */
    assert_int_equal(vg_incident_step(&inc, "op1", VG_STEP_AUTHOR_CALLED, VG_OUTCOME_REACHED, 1,
                                      msg, sizeof msg),
                     VG_ESTATE);
    assert_int_equal(vg_incident_close(&inc, "op1", "x", 1, msg, sizeof msg), VG_ESTATE);
    vg_incident_take(&inc, "op1", false, 2, msg, sizeof msg);
    /* each step takes the outcomes that fit it */
    static const struct {
        enum vg_step_kind kind;
        enum vg_step_outcome outcome;
        int rc;
    } cases[] = {
        {VG_STEP_AUTHOR_CALLED, VG_OUTCOME_REACHED, VG_OK},
        {VG_STEP_AUTHOR_CALLED, VG_OUTCOME_NOT_REACHED, VG_OK},
        {VG_STEP_AUTHOR_CALLED, VG_OUTCOME_COMPLIED, VG_OK},
        {VG_STEP_AUTHOR_CALLED, VG_OUTCOME_REFUSED, VG_OK},
        {VG_STEP_AUTHOR_CALLED, VG_OUTCOME_GUIDED, VG_EINVAL},
        {VG_STEP_AUTHOR_CALLED, VG_OUTCOME_NONE, VG_EINVAL},
        {VG_STEP_PROTECTED_CALLED, VG_OUTCOME_GUIDED, VG_OK},
        {VG_STEP_PROTECTED_CALLED, VG_OUTCOME_REFUSED, VG_EINVAL},
        {VG_STEP_POLICE_ALERTED, VG_OUTCOME_NONE, VG_OK},
        {VG_STEP_POLICE_ALERTED, VG_OUTCOME_REACHED, VG_EINVAL},
        {VG_STEP_MAGISTRATE_INFORMED, VG_OUTCOME_NONE, VG_OK},
        {VG_STEP_NOTE, VG_OUTCOME_NONE, VG_OK},
        {0, VG_OUTCOME_NONE, VG_EINVAL},
        {VG_STEP__COUNT, VG_OUTCOME_NONE, VG_EINVAL},
        {VG_STEP_NOTE, VG_OUTCOME__COUNT, VG_EINVAL},
    };
    uint32_t steps = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = vg_incident_step(&inc, "op1", cases[i].kind, cases[i].outcome, 100 + (int64_t)i,
                                  msg, sizeof msg);
        assert_int_equal(rc, cases[i].rc);
        steps += rc == VG_OK;
    }
    assert_int_equal(inc.n_steps, steps);
    /* only its operator acts on it */
    assert_int_equal(
        vg_incident_step(&inc, "op2", VG_STEP_NOTE, VG_OUTCOME_NONE, 200, msg, sizeof msg),
        VG_ESTATE);
    assert_int_equal(vg_incident_close(&inc, "op2", "done", 200, msg, sizeof msg), VG_ESTATE);
    /* a summary is required */
    assert_int_equal(vg_incident_close(&inc, "op1", "  \n", 200, msg, sizeof msg), VG_EINVAL);
    assert_int_equal(vg_incident_close(&inc, "op1", NULL, 200, msg, sizeof msg), VG_EINVAL);
    assert_int_equal(inc.state, VG_INCIDENT_TAKEN);
    assert_int_equal(vg_incident_close(&inc, "op1", "police came; he left", 300, msg, sizeof msg),
                     VG_OK);
    assert_int_equal(inc.state, VG_INCIDENT_CLOSED);
    assert_int_equal(inc.closed_ms, 300);
    /* closed: nothing more */
    assert_int_equal(
        vg_incident_step(&inc, "op1", VG_STEP_NOTE, VG_OUTCOME_NONE, 400, msg, sizeof msg),
        VG_ESTATE);
    assert_int_equal(vg_incident_take(&inc, "op1", true, 400, msg, sizeof msg), VG_ESTATE);
}

static void test_escalation_timers(void **state)
{
    (void)state;
    struct vg_incident_policy p;
    vg_incident_policy_default(&p);
    struct vg_incident inc;
    struct vg_alarm a = alarm(1, VG_ALARM_SOS, VG_PRIORITY_ALERT);
    vg_incident_on_alarm(NULL, 1, &a, 1000 * S, &inc);
    int64_t next;
    /* not taken: the day before its deadline nothing, at it a supervisor */
    assert_int_equal(vg_incident_escalation(&inc, &p, 1000 * S + 30 * S - 1, &next),
                     VG_ESCALATE_NONE);
    assert_int_equal(next, 1030 * S);
    assert_int_equal(vg_incident_escalation(&inc, &p, 1030 * S, &next), VG_ESCALATE_NOT_TAKEN);
    inc.escalation = VG_ESCALATE_NOT_TAKEN; /* raised: not again */
    assert_int_equal(vg_incident_escalation(&inc, &p, 2000 * S, &next), VG_ESCALATE_NONE);
    /* taken: the progress timer runs from the taking, then from each step */
    char msg[160];
    vg_incident_take(&inc, "op1", false, 1040 * S, msg, sizeof msg);
    assert_int_equal(inc.escalation, VG_ESCALATE_NONE);
    assert_int_equal(vg_incident_escalation(&inc, &p, 1040 * S + 120 * S - 1, &next),
                     VG_ESCALATE_NONE);
    assert_int_equal(next, 1160 * S);
    vg_incident_step(&inc, "op1", VG_STEP_PROTECTED_CALLED, VG_OUTCOME_REACHED, 1100 * S, msg,
                     sizeof msg);
    assert_int_equal(vg_incident_escalation(&inc, &p, 1160 * S, &next), VG_ESCALATE_NONE);
    assert_int_equal(next, 1220 * S);
    assert_int_equal(vg_incident_escalation(&inc, &p, 1220 * S, &next),
                     VG_ESCALATE_NOT_PROGRESSING);
    inc.escalation = VG_ESCALATE_NOT_PROGRESSING;
    assert_int_equal(vg_incident_escalation(&inc, &p, 1300 * S, &next), VG_ESCALATE_NONE);
    /* a step: it moves again, and may be late again */
    vg_incident_step(&inc, "op1", VG_STEP_POLICE_ALERTED, VG_OUTCOME_NONE, 1300 * S, msg,
                     sizeof msg);
    assert_int_equal(inc.escalation, VG_ESCALATE_NONE);
    assert_int_equal(vg_incident_escalation(&inc, &p, 1420 * S, &next),
                     VG_ESCALATE_NOT_PROGRESSING);
    vg_incident_close(&inc, "op1", "done", 1500 * S, msg, sizeof msg);
    assert_int_equal(vg_incident_escalation(&inc, &p, 9999 * S, &next), VG_ESCALATE_NONE);
    assert_int_equal(next, INT64_MAX);
    /* a technical incident waits longer */
    struct vg_alarm loss = alarm(9, VG_ALARM_GNSS_LOST, VG_PRIORITY_TECHNICAL);
    vg_incident_on_alarm(NULL, 2, &loss, 0, &inc);
    assert_int_equal(vg_incident_escalation(&inc, &p, 14 * 60 * S, &next), VG_ESCALATE_NONE);
    assert_int_equal(next, 15 * 60 * S);
}

static void test_queue_order_and_names(void **state)
{
    (void)state;
    struct vg_incident a = {.id = 1, .priority = VG_PRIORITY_PREALERT, .opened_ms = 10};
    struct vg_incident b = {.id = 2, .priority = VG_PRIORITY_ALERT, .opened_ms = 20};
    struct vg_incident c = {.id = 3, .priority = VG_PRIORITY_ALERT, .opened_ms = 15};
    assert_true(vg_incident_queue_cmp(&b, &a) < 0); /* the alert first, though newer */
    assert_true(vg_incident_queue_cmp(&c, &b) < 0); /* then the oldest */
    assert_int_equal(vg_incident_queue_cmp(&c, &c), 0);
    assert_string_equal(vg_incident_state_name(VG_INCIDENT_TAKEN), "taken");
    assert_string_equal(vg_step_kind_name(VG_STEP_MAGISTRATE_INFORMED), "magistrate_informed");
    assert_string_equal(vg_step_outcome_name(VG_OUTCOME_NOT_REACHED), "not_reached");
    assert_string_equal(vg_escalation_name(VG_ESCALATE_NOT_PROGRESSING), "not_progressing");
    assert_null(vg_incident_state_name(9));
    assert_null(vg_step_kind_name(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_incident_per_situation),
        cmocka_unit_test(test_one_operator_at_a_time),
        cmocka_unit_test(test_steps_and_closing),
        cmocka_unit_test(test_escalation_timers),
        cmocka_unit_test(test_queue_order_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
