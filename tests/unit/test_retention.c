/* The retention schedule (core/retention.c): one month active after the
 * end, then 5 years 11 months archived, then deletion; each boundary on
 * its day, not the day before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/retention.h"

#define D(y, m, d) ((struct vg_date){(y), (m), (d)})

static void test_schedule_boundaries(void **state)
{
    (void)state;
    struct vg_date end = D(2026, 3, 15), next = {0};
    assert_int_equal(vg_retention_phase(false, end, D(2040, 1, 1), &next), VG_RETAIN_LIVE);
    assert_int_equal(vg_retention_phase(true, end, D(2026, 3, 15), &next), VG_RETAIN_ACTIVE);
    assert_int_equal(vg_date_cmp(next, D(2026, 4, 15)), 0);
    assert_int_equal(vg_retention_phase(true, end, D(2026, 4, 14), NULL), VG_RETAIN_ACTIVE);
    assert_int_equal(vg_retention_phase(true, end, D(2026, 4, 15), &next), VG_RETAIN_ARCHIVED);
    /* 1 month + 5 years 11 months = 6 years after the end */
    assert_int_equal(vg_date_cmp(next, D(2032, 3, 15)), 0);
    assert_int_equal(vg_retention_phase(true, end, D(2032, 3, 14), NULL), VG_RETAIN_ARCHIVED);
    assert_int_equal(vg_retention_phase(true, end, D(2032, 3, 15), NULL), VG_RETAIN_DELETE);
    assert_int_equal(vg_retention_phase(true, end, D(2100, 1, 1), NULL), VG_RETAIN_DELETE);
}

static void test_month_ends(void **state)
{
    (void)state;
    struct vg_date next;
    /* ended on 31 January: archived from the last day of February */
    assert_int_equal(vg_retention_phase(true, D(2027, 1, 31), D(2027, 2, 27), &next),
                     VG_RETAIN_ACTIVE);
    assert_int_equal(vg_date_cmp(next, D(2027, 2, 28)), 0);
    assert_int_equal(vg_retention_phase(true, D(2027, 1, 31), D(2027, 2, 28), NULL),
                     VG_RETAIN_ARCHIVED);
}

static void test_unusable_end_keeps_everything(void **state)
{
    (void)state;
    assert_int_equal(vg_retention_phase(true, D(2026, 2, 30), D(2099, 1, 1), NULL), VG_RETAIN_LIVE);
    assert_string_equal(vg_retention_phase_name(VG_RETAIN_ARCHIVED), "archived");
    assert_null(vg_retention_phase_name(9));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule_boundaries),
        cmocka_unit_test(test_month_ends),
        cmocka_unit_test(test_unusable_end_keeps_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
