/* Shared by the time-zone harnesses: given a zone that was accepted, check
 * that its answers agree with each other at many instants. Any
 * disagreement aborts, which libFuzzer reports as a crash. */
#ifndef VG_FUZZ_TZ_CHECK_H
#define VG_FUZZ_TZ_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/tz.h"
#include "core/window.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define LOCAL_LIMIT ((int64_t)1 << 62)

/* The offset is constant on [t, next change), changes there, and the wall
 * clock at t reads back to t. */
static void check_instant(const struct vg_tz *tz, int64_t t)
{
    int32_t off = vg_tz_offset_at(tz, t);
    CHECK(off >= -89999 && off <= 93599);
    int64_t c = vg_tz_next_change(tz, t);
    CHECK(c > t || (t == INT64_MAX && c == INT64_MAX));
    if (c != INT64_MAX) {
        CHECK(vg_tz_offset_at(tz, c - 1) == off);
        /* the midpoint, without overflow when t is near INT64_MIN */
        int64_t mid = t + (int64_t)(((uint64_t)c - (uint64_t)t) / 2);
        CHECK(vg_tz_offset_at(tz, mid) == off);
        CHECK(vg_tz_offset_at(tz, c) != off);
    }
    if (t < -LOCAL_LIMIT + 100000 || t > LOCAL_LIMIT - 100000)
        return;
    int64_t local = t + off;
    int64_t e, l;
    int kind = vg_tz_local_to_utc(tz, local, &e, &l);
    CHECK(kind == VG_TZ_LOCAL_UNIQUE || kind == VG_TZ_LOCAL_AMBIGUOUS);
    CHECK(e <= t && t <= l && (t == e || t == l));
    CHECK((kind == VG_TZ_LOCAL_UNIQUE) == (e == l));
    CHECK(e + vg_tz_offset_at(tz, e) == local && l + vg_tz_offset_at(tz, l) == local);
    /* A nearby wall-clock time: either readings or a jump over it. */
    for (int64_t d = -5400; d <= 5400; d += 1800) {
        int64_t civil = local + d;
        kind = vg_tz_local_to_utc(tz, civil, &e, &l);
        CHECK(kind >= 0 && e <= l);
        if (kind == VG_TZ_LOCAL_GAP) {
            CHECK(e == l);
            CHECK(e - 1 + vg_tz_offset_at(tz, e - 1) < civil);
            CHECK(e + vg_tz_offset_at(tz, e) > civil);
        } else {
            CHECK(e + vg_tz_offset_at(tz, e) == civil && l + vg_tz_offset_at(tz, l) == civil);
        }
    }
}

/* A weekly slot in this zone: the answer holds until the next change. */
static void check_window(const struct vg_tz *tz, const uint8_t *data, size_t size, int64_t t_s)
{
    unsigned days = size > 0 ? 1u + data[0] % 127u : VG_DAY_ALL;
    unsigned start = size > 1 ? (unsigned)(data[size - 1] * 7u) % 1440u : 120;
    unsigned end = (start + 1 + (size > 2 ? data[size / 2] * 11u : 60u)) % 1440u + 1;
    struct vg_window w;
    if (vg_window_init_weekly(&w, days, start, end) != VG_OK)
        return;
    if (t_s < -((int64_t)1 << 50) || t_s > ((int64_t)1 << 50))
        return;
    int64_t t = t_s * 1000, next;
    bool open = vg_windows_open_at(&w, 1, tz, t, &next);
    CHECK(next > t);
    if (next != INT64_MAX && next - t < (int64_t)1 << 50) {
        CHECK(vg_windows_open_at(&w, 1, tz, next - 1, NULL) == open);
        CHECK(vg_windows_open_at(&w, 1, tz, t + (next - t) / 2, NULL) == open);
    }
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ULL;
    return x ^ (x >> 29);
}

static void check_zone(const struct vg_tz *tz, const uint8_t *data, size_t size)
{
    static const int64_t probes[] = {
        INT64_MIN,
        INT64_MIN + 1,
        -((int64_t)1 << 59),
        -((int64_t)1 << 55) - 1,
        -2208988800,
        -1,
        0,
        1,
        1774745999,
        1774746000,
        1792890000,
        4102444800,
        (int64_t)1 << 55,
        INT64_MAX - 1,
        INT64_MAX,
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
        check_instant(tz, probes[i]);
    /* Around the table's transitions (a sample of them). */
    uint32_t n = tz->n_transitions;
    for (uint32_t i = 0; i < n; i += 1 + n / 16) {
        int64_t t = tz->transition_s[i];
        check_instant(tz, t);
        if (t > INT64_MIN)
            check_instant(tz, t - 1);
    }
    /* Instants drawn from the input, within years 1800..2200 mostly. */
    uint64_t h = size;
    for (size_t i = 0; i < size; i++)
        h = mix(h + data[i]);
    for (int i = 0; i < 8; i++) {
        h = mix(h + (uint64_t)i);
        int64_t t = (int64_t)(h % 12623040000ULL) - 5364662400;
        check_instant(tz, t);
        check_window(tz, data, size, t);
    }
}

#endif
