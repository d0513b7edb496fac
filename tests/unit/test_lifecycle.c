/* A measure's lifecycle (core/lifecycle.c): every action from every status,
 * activation only on a complete checklist and a day in force, expiry on the
 * last period's end day and not the day before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/lifecycle.h"

#define D(y, m, d) ((struct vg_date){(y), (m), (d)})

static const struct vg_installation complete = {.has_bracelet = true,
                                                .author_fix_ms = 1,
                                                .protected_fix_ms = 2,
                                                .pairing_ms = 3,
                                                .strap_ms = 4};

/* Two periods: 2026-03-01..2026-09-01 then 2026-09-01..2027-03-01. */
static struct vg_measure_period periods[2];
static struct vg_measure two_periods(void)
{
    periods[0] = (struct vg_measure_period){.stage = VG_STAGE_PRE_SENTENCING,
                                            .decision_date = D(2026, 3, 1),
                                            .start = D(2026, 3, 1),
                                            .end = D(2026, 9, 1)};
    periods[1] = periods[0];
    periods[1].start = D(2026, 9, 1);
    periods[1].end = D(2027, 3, 1);
    return (struct vg_measure){.alert_radius_m = 2000, .periods = periods, .n_periods = 2};
}

static void test_checklist(void **state)
{
    (void)state;
    assert_true(vg_installation_complete(&complete));
    struct vg_installation i = complete;
    i.strap_ms = 0;
    assert_false(vg_installation_complete(&i)); /* the strap not yet closed */
    i.has_bracelet = false;
    assert_true(vg_installation_complete(&i)); /* no bracelet: no pairing, no strap */
    i.protected_fix_ms = 0;
    assert_false(vg_installation_complete(&i));
    i = complete;
    i.author_fix_ms = 0;
    assert_false(vg_installation_complete(&i));
    assert_false(vg_installation_complete(NULL));
}

static void test_actions_from_every_status(void **state)
{
    (void)state;
    /* expected: the new status, or 0 when refused */
    static const struct {
        enum vg_measure_status from;
        enum vg_lifecycle_action action;
        enum vg_measure_status to;
        enum vg_end_reason reason;
    } cases[] = {
        {VG_STATUS_PENDING, VG_ACTION_SUSPEND, 0, 0},
        {VG_STATUS_PENDING, VG_ACTION_RESUME, 0, 0},
        {VG_STATUS_PENDING, VG_ACTION_LIFT, VG_STATUS_ENDED, VG_END_LIFTED},
        {VG_STATUS_PENDING, VG_ACTION_REVOKE, VG_STATUS_ENDED, VG_END_REVOKED},
        {VG_STATUS_PENDING, VG_ACTION_AMEND, VG_STATUS_PENDING, 0},
        {VG_STATUS_ACTIVE, VG_ACTION_SUSPEND, VG_STATUS_SUSPENDED, 0},
        {VG_STATUS_ACTIVE, VG_ACTION_RESUME, 0, 0},
        {VG_STATUS_ACTIVE, VG_ACTION_LIFT, VG_STATUS_ENDED, VG_END_LIFTED},
        {VG_STATUS_ACTIVE, VG_ACTION_REVOKE, VG_STATUS_ENDED, VG_END_REVOKED},
        {VG_STATUS_ACTIVE, VG_ACTION_AMEND, VG_STATUS_ACTIVE, 0},
        {VG_STATUS_SUSPENDED, VG_ACTION_SUSPEND, 0, 0},
        {VG_STATUS_SUSPENDED, VG_ACTION_RESUME, VG_STATUS_ACTIVE, 0},
        {VG_STATUS_SUSPENDED, VG_ACTION_LIFT, VG_STATUS_ENDED, VG_END_LIFTED},
        {VG_STATUS_SUSPENDED, VG_ACTION_REVOKE, VG_STATUS_ENDED, VG_END_REVOKED},
        {VG_STATUS_SUSPENDED, VG_ACTION_AMEND, VG_STATUS_SUSPENDED, 0},
        {VG_STATUS_ENDED, VG_ACTION_SUSPEND, 0, 0},
        {VG_STATUS_ENDED, VG_ACTION_RESUME, 0, 0},
        {VG_STATUS_ENDED, VG_ACTION_LIFT, 0, 0},
        {VG_STATUS_ENDED, VG_ACTION_REVOKE, 0, 0},
        {VG_STATUS_ENDED, VG_ACTION_AMEND, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum vg_measure_status to = 0;
        enum vg_end_reason reason = 99;
        char msg[200] = "";
        int rc = vg_lifecycle_act(cases[i].from, cases[i].action, &to, &reason, msg, sizeof msg);
        if (cases[i].to == 0) {
            assert_int_equal(rc, VG_ESTATE);
            assert_true(strlen(msg) > 10);
        } else {
            assert_int_equal(rc, VG_OK);
            assert_int_equal(to, cases[i].to);
            assert_int_equal(reason, cases[i].reason);
        }
    }
    enum vg_measure_status to;
    enum vg_end_reason reason;
    char msg[64];
    assert_int_equal(vg_lifecycle_act(0, VG_ACTION_LIFT, &to, &reason, msg, sizeof msg), VG_EINVAL);
    assert_int_equal(vg_lifecycle_act(VG_STATUS_ACTIVE, 9, &to, &reason, msg, sizeof msg),
                     VG_EINVAL);
}

static void test_activation_needs_checklist_and_a_day_in_force(void **state)
{
    (void)state;
    struct vg_measure m = two_periods();
    enum vg_measure_status s;
    enum vg_end_reason r;
    struct vg_installation partial = complete;
    partial.pairing_ms = 0;
    vg_lifecycle_step(VG_STATUS_PENDING, &partial, &m, D(2026, 4, 1), &s, &r);
    assert_int_equal(s, VG_STATUS_PENDING);
    /* complete, but the decision starts tomorrow */
    vg_lifecycle_step(VG_STATUS_PENDING, &complete, &m, D(2026, 2, 28), &s, &r);
    assert_int_equal(s, VG_STATUS_PENDING);
    vg_lifecycle_step(VG_STATUS_PENDING, &complete, &m, D(2026, 3, 1), &s, &r);
    assert_int_equal(s, VG_STATUS_ACTIVE);
    assert_int_equal(r, VG_END_NONE);
    assert_false(vg_lifecycle_in_force(VG_STATUS_PENDING, &m, D(2026, 3, 1)));
    assert_true(vg_lifecycle_in_force(VG_STATUS_ACTIVE, &m, D(2026, 3, 1)));
    assert_true(vg_lifecycle_in_force(VG_STATUS_ACTIVE, &m, D(2027, 2, 28)));
    assert_false(vg_lifecycle_in_force(VG_STATUS_ACTIVE, &m, D(2026, 2, 28)));
    assert_false(vg_lifecycle_in_force(VG_STATUS_SUSPENDED, &m, D(2026, 4, 1)));
    /* a suspended measure is not resumed by time */
    vg_lifecycle_step(VG_STATUS_SUSPENDED, &complete, &m, D(2026, 4, 1), &s, &r);
    assert_int_equal(s, VG_STATUS_SUSPENDED);
}

static void test_expiry_on_the_last_end_day(void **state)
{
    (void)state;
    struct vg_measure m = two_periods();
    struct vg_date last;
    assert_true(vg_lifecycle_last_end(&m, &last));
    assert_int_equal(vg_date_cmp(last, D(2027, 3, 1)), 0);
    enum vg_measure_status s;
    enum vg_end_reason r;
    static const enum vg_measure_status live[] = {VG_STATUS_PENDING, VG_STATUS_ACTIVE,
                                                  VG_STATUS_SUSPENDED};
    for (size_t i = 0; i < 3; i++) {
        vg_lifecycle_step(live[i], &complete, &m, D(2027, 2, 28), &s, &r);
        assert_int_not_equal(s, VG_STATUS_ENDED);
        vg_lifecycle_step(live[i], &complete, &m, D(2027, 3, 1), &s, &r);
        assert_int_equal(s, VG_STATUS_ENDED);
        assert_int_equal(r, VG_END_EXPIRED);
        vg_lifecycle_step(live[i], NULL, &m, D(2030, 1, 1), &s, &r);
        assert_int_equal(s, VG_STATUS_ENDED);
    }
    assert_false(vg_lifecycle_in_force(VG_STATUS_ACTIVE, &m, D(2027, 3, 1)));
    /* ended stays ended, with no new reason */
    vg_lifecycle_step(VG_STATUS_ENDED, &complete, &m, D(2030, 1, 1), &s, &r);
    assert_int_equal(s, VG_STATUS_ENDED);
    assert_int_equal(r, VG_END_NONE);
}

static void test_no_decision_never_expires(void **state)
{
    (void)state;
    struct vg_measure m = {.alert_radius_m = 2000};
    struct vg_date last;
    assert_false(vg_lifecycle_last_end(&m, &last));
    enum vg_measure_status s;
    enum vg_end_reason r;
    vg_lifecycle_step(VG_STATUS_ACTIVE, &complete, &m, D(2199, 1, 1), &s, &r);
    assert_int_equal(s, VG_STATUS_ACTIVE);
    assert_true(vg_lifecycle_in_force(VG_STATUS_ACTIVE, &m, D(2199, 1, 1)));
    vg_lifecycle_step(VG_STATUS_PENDING, &complete, NULL, D(2026, 1, 1), &s, &r);
    assert_int_equal(s, VG_STATUS_ACTIVE);
}

static void test_a_new_version_keeps_the_decided_periods(void **state)
{
    (void)state;
    struct vg_measure decided = two_periods();
    struct vg_measure_period more[3];
    memcpy(more, periods, sizeof periods);
    more[2] = periods[1];
    more[2].start = D(2027, 3, 1);
    more[2].end = D(2027, 9, 1);
    struct vg_measure renewed = decided;
    renewed.periods = more;
    renewed.n_periods = 3;
    char msg[200];
    assert_int_equal(vg_lifecycle_amend_check(&decided, &decided, msg, sizeof msg), VG_OK);
    assert_int_equal(vg_lifecycle_amend_check(&decided, &renewed, msg, sizeof msg), VG_OK);
    /* one fewer: refused */
    assert_int_equal(vg_lifecycle_amend_check(&renewed, &decided, msg, sizeof msg), VG_EINVAL);
    assert_non_null(strstr(msg, "3 periods already decided"));
    /* each field of a decided period, changed: refused, the period named */
    for (int field = 0; field < 5; field++) {
        memcpy(more, periods, sizeof periods);
        struct vg_measure_period *p = &more[1];
        if (field == 0)
            p->end = D(2027, 2, 1);
        else if (field == 1)
            p->stage = VG_STAGE_POST_SENTENCING;
        else if (field == 2)
            p->decision_date = D(2026, 8, 30);
        else if (field == 3)
            p->protected_consent = (struct vg_consent){true, D(2026, 8, 1)};
        else
            p->author_consent.given = !p->author_consent.given;
        assert_int_equal(vg_lifecycle_amend_check(&decided, &renewed, msg, sizeof msg), VG_EINVAL);
        assert_non_null(strstr(msg, "decision.periods[1]"));
    }
}

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int s = VG_STATUS_PENDING; s <= VG_STATUS_ENDED; s++)
        assert_int_equal(vg_status_from_name(vg_status_name((enum vg_measure_status)s)), s);
    for (int r = VG_END_LIFTED; r <= VG_END_REVOKED; r++)
        assert_int_equal(vg_end_reason_from_name(vg_end_reason_name((enum vg_end_reason)r)), r);
    for (int a = VG_ACTION_SUSPEND; a <= VG_ACTION_AMEND; a++)
        assert_int_equal(vg_action_from_name(vg_action_name((enum vg_lifecycle_action)a)), a);
    assert_string_equal(vg_status_name(VG_STATUS_PENDING), "pending_installation");
    assert_null(vg_status_name(5));
    assert_int_equal(vg_status_from_name("paused"), 0);
    assert_int_equal(vg_action_from_name(NULL), 0);
    assert_int_equal(vg_end_reason_from_name(""), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checklist),
        cmocka_unit_test(test_actions_from_every_status),
        cmocka_unit_test(test_activation_needs_checklist_and_a_day_in_force),
        cmocka_unit_test(test_expiry_on_the_last_end_day),
        cmocka_unit_test(test_no_decision_never_expires),
        cmocka_unit_test(test_a_new_version_keeps_the_decided_periods),
        cmocka_unit_test(test_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
