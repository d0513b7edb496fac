/* Lock-out after repeated failures and the per-address token bucket
 * (core/lockout.c): boundaries on both sides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/lockout.h"

#define MIN (60 * 1000LL)

static void test_locks_after_max_failures_and_doubles(void **state)
{
    (void)state;
    struct vg_lockout_policy p;
    vg_lockout_policy_default(&p);
    struct vg_lockout l = {0};
    int64_t now = 1000000, retry = -1;
    for (uint32_t i = 1; i < p.max_failures; i++) {
        assert_true(vg_lockout_allowed(&l, now, &retry));
        assert_false(vg_lockout_failed(&l, &p, now));
    }
    assert_true(vg_lockout_failed(&l, &p, now)); /* the 5th */
    assert_false(vg_lockout_allowed(&l, now, &retry));
    assert_int_equal(retry, 5 * MIN);
    assert_false(vg_lockout_allowed(&l, now + 5 * MIN - 1, &retry));
    assert_int_equal(retry, 1);
    assert_true(vg_lockout_allowed(&l, now + 5 * MIN, &retry));
    /* five more failures: locked twice as long */
    now += 5 * MIN;
    for (uint32_t i = 1; i < p.max_failures; i++)
        assert_false(vg_lockout_failed(&l, &p, now));
    assert_true(vg_lockout_failed(&l, &p, now));
    assert_false(vg_lockout_allowed(&l, now + 10 * MIN - 1, NULL));
    assert_true(vg_lockout_allowed(&l, now + 10 * MIN, NULL));
    /* a success starts everything again */
    vg_lockout_succeeded(&l);
    assert_int_equal(l.failures, 0);
    assert_int_equal(l.locks, 0);
    for (uint32_t i = 1; i < p.max_failures; i++)
        assert_false(vg_lockout_failed(&l, &p, now));
    assert_true(vg_lockout_failed(&l, &p, now));
    assert_int_equal(l.locked_until_ms, now + 5 * MIN);
}

static void test_lock_capped(void **state)
{
    (void)state;
    struct vg_lockout_policy p;
    vg_lockout_policy_default(&p);
    struct vg_lockout l = {0};
    int64_t now = 0;
    for (int lock = 0; lock < 40; lock++) {
        for (uint32_t i = 0; i < p.max_failures; i++)
            vg_lockout_failed(&l, &p, now);
        assert_true(l.locked_until_ms - now <= p.max_lock_ms);
        now = l.locked_until_ms;
    }
    assert_int_equal(l.locked_until_ms - (now - p.max_lock_ms), p.max_lock_ms);
}

static void test_rate_bucket(void **state)
{
    (void)state;
    struct vg_rate r = {0};
    int64_t now = 5000, retry = -1;
    for (int i = 0; i < 10; i++)
        assert_true(vg_rate_take(&r, 10, 6000, now, &retry));
    assert_false(vg_rate_take(&r, 10, 6000, now, &retry));
    assert_in_range(retry, 5999, 6001);
    assert_false(vg_rate_take(&r, 10, 6000, now + 5999, NULL));
    assert_true(vg_rate_take(&r, 10, 6000, now + 6000, NULL));
    assert_false(vg_rate_take(&r, 10, 6000, now + 6000, NULL));
    /* a long quiet time refills to the burst, no more */
    now += 24 * 3600 * 1000LL;
    for (int i = 0; i < 10; i++)
        assert_true(vg_rate_take(&r, 10, 6000, now, NULL));
    assert_false(vg_rate_take(&r, 10, 6000, now, NULL));
    /* time going back takes nothing and gives nothing */
    assert_false(vg_rate_take(&r, 10, 6000, now - 60000, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locks_after_max_failures_and_doubles),
        cmocka_unit_test(test_lock_capped),
        cmocka_unit_test(test_rate_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
