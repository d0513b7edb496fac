/* Common includes for the cmocka unit tests. */
#ifndef VG_TESTS_TESTING_H
#define VG_TESTS_TESTING_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* assert |a - b| <= tol, printing both values on failure. */
#define assert_near(a, b, tol)                                                                     \
    do {                                                                                           \
        double assert_near_a_ = (a), assert_near_b_ = (b), assert_near_t_ = (tol);                 \
        if (!(fabs(assert_near_a_ - assert_near_b_) <= assert_near_t_))                            \
            fail_msg("%s = %.9g, %s = %.9g, differ by more than %.3g", #a, assert_near_a_, #b,     \
                     assert_near_b_, assert_near_t_);                                              \
    } while (0)

#endif
