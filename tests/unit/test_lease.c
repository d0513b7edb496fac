/* The lease's decisions (core/lease.c): when a site becomes active, when
 * it must step down, and that it never believes it holds the lease after
 * the moment the database could give it to the other site. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/lease.h"

static struct vg_lease fresh(int64_t now)
{
    struct vg_lease_params p;
    vg_lease_params_default(&p, 3000);
    struct vg_lease l;
    vg_lease_init(&l, &p, now);
    return l;
}

static void test_defaults_and_check(void **state)
{
    (void)state;
    struct vg_lease_params p;
    vg_lease_params_default(&p, 3000);
    assert_int_equal(p.ttl_ms, 3000);
    assert_int_equal(p.renew_ms, 1000);
    assert_int_equal(p.poll_ms, 300);
    assert_int_equal(p.margin_ms, 500);
    assert_int_equal(vg_lease_params_check(&p), VG_OK);
    p.renew_ms = 2500; /* a renewal could not come back before the deadline */
    assert_int_equal(vg_lease_params_check(&p), VG_EINVAL);
    p.renew_ms = 0;
    assert_int_equal(vg_lease_params_check(&p), VG_EINVAL);
    vg_lease_params_default(&p, 10); /* raised to the floor */
    assert_int_equal(p.ttl_ms, 300);
    assert_int_equal(vg_lease_params_check(&p), VG_OK);
    assert_int_equal(vg_lease_params_check(NULL), VG_EINVAL);
}

static void test_standby_polls_until_it_gets_the_lease(void **state)
{
    (void)state;
    struct vg_lease l = fresh(1000);
    assert_false(l.active);
    assert_int_equal(l.next_try_ms, 1000); /* asks at once */
    assert_int_equal(vg_lease_answer(&l, 1000, 1010, 0), VG_LEASE_NONE);
    assert_false(l.active);
    assert_int_equal(l.next_try_ms, 1310); /* a standby polls */
    assert_int_equal(vg_lease_answer(&l, 1310, 1320, -1), VG_LEASE_NONE); /* no answer */
    assert_int_equal(l.next_try_ms, 1620);
    assert_int_equal(vg_lease_check(&l, 100000), VG_LEASE_NONE); /* nothing to lose */
    assert_int_equal(vg_lease_answer(&l, 1620, 1630, 7), VG_LEASE_ACQUIRED);
    assert_true(l.active);
    assert_int_equal(l.epoch, 7);
    assert_int_equal(l.term, 1);
    /* deadline counted from the request, not the answer */
    assert_int_equal(l.valid_until_ms, 1620 + 3000 - 500);
    assert_int_equal(l.next_try_ms, 1620 + 1000);
}

static void test_holder_renews_and_stays(void **state)
{
    (void)state;
    struct vg_lease l = fresh(0);
    assert_int_equal(vg_lease_answer(&l, 0, 5, 3), VG_LEASE_ACQUIRED);
    for (int64_t t = 1000; t < 20000; t += 1000) {
        assert_int_equal(l.next_try_ms, t);
        assert_int_equal(vg_lease_check(&l, t), VG_LEASE_NONE);
        assert_int_equal(vg_lease_answer(&l, t, t + 20, 3), VG_LEASE_NONE);
        assert_true(l.active);
        assert_int_equal(l.valid_until_ms, t + 2500);
    }
    assert_int_equal(l.term, 1);
}

static void test_holder_steps_down_at_its_own_deadline(void **state)
{
    (void)state;
    struct vg_lease l = fresh(0);
    assert_int_equal(vg_lease_answer(&l, 0, 5, 3), VG_LEASE_ACQUIRED);
    /* renewals fail (the database is away): it keeps acting until the deadline */
    assert_int_equal(vg_lease_answer(&l, 1000, 1100, -1), VG_LEASE_NONE);
    assert_true(l.active);
    assert_int_equal(l.next_try_ms, 1400);
    assert_int_equal(vg_lease_check(&l, 2499), VG_LEASE_NONE);
    assert_int_equal(vg_lease_check(&l, 2500), VG_LEASE_LOST);
    assert_false(l.active);
    assert_int_equal(vg_lease_check(&l, 2600), VG_LEASE_NONE); /* once */
    /* the database was only slow and nobody took it: the same epoch, a
     * new term (the caller stepped down and builds its state again) */
    assert_int_equal(vg_lease_answer(&l, 2700, 2710, 3), VG_LEASE_ACQUIRED);
    assert_int_equal(l.term, 2);
}

static void test_a_late_answer_grants_nothing_yet(void **state)
{
    (void)state;
    struct vg_lease l = fresh(0);
    /* sent at 0, answered after 2.5 s: the lease may lapse any moment */
    assert_int_equal(vg_lease_answer(&l, 0, 2500, 4), VG_LEASE_NONE);
    assert_false(l.active);
    assert_int_equal(l.next_try_ms, 2500); /* confirm at once */
    assert_int_equal(vg_lease_answer(&l, 2500, 2510, 4), VG_LEASE_ACQUIRED);
    /* a holder's late renewal: it has passed its deadline, it steps down */
    assert_int_equal(vg_lease_answer(&l, 3500, 6100, 4), VG_LEASE_LOST);
    assert_false(l.active);
}

static void test_another_holder_means_step_down(void **state)
{
    (void)state;
    struct vg_lease l = fresh(0);
    assert_int_equal(vg_lease_answer(&l, 0, 5, 3), VG_LEASE_ACQUIRED);
    /* the database says another holds it: at once, whatever the deadline */
    assert_int_equal(vg_lease_answer(&l, 1000, 1005, 0), VG_LEASE_LOST);
    assert_false(l.active);
    assert_int_equal(vg_lease_answer(&l, 1300, 1305, 0), VG_LEASE_NONE);
}

static void test_epoch_moved_on_means_stale_state(void **state)
{
    (void)state;
    struct vg_lease l = fresh(0);
    assert_int_equal(vg_lease_answer(&l, 0, 5, 3), VG_LEASE_ACQUIRED);
    /* paused; the other site took epoch 4 and let it go; this one takes 5 */
    assert_int_equal(vg_lease_answer(&l, 1000, 1010, 5), VG_LEASE_LOST);
    assert_false(l.active);
    assert_int_equal(l.epoch, 5);
    assert_int_equal(l.next_try_ms, 1010);
    assert_int_equal(vg_lease_answer(&l, 1020, 1030, 5), VG_LEASE_ACQUIRED);
    assert_int_equal(l.term, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_check),
        cmocka_unit_test(test_standby_polls_until_it_gets_the_lease),
        cmocka_unit_test(test_holder_renews_and_stays),
        cmocka_unit_test(test_holder_steps_down_at_its_own_deadline),
        cmocka_unit_test(test_a_late_answer_grants_nothing_yet),
        cmocka_unit_test(test_another_holder_means_step_down),
        cmocka_unit_test(test_epoch_moved_on_means_stale_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
