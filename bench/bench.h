/* Shared by the benchmarks: timing, repeated rounds, and the one-line JSON
 * results described in ../shared/design/benchmarks.md (docs/BENCHMARKS.md). */
#ifndef VG_BENCH_H
#define VG_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* BENCH_QUICK=1: a run of seconds, to check that the benchmark still works. */
static inline bool bench_quick(void)
{
    const char *q = getenv("BENCH_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct bench_stats {
    double median, min, max;
};

static inline struct bench_stats bench_stats_of(double *values, size_t n)
{
    qsort(values, n, sizeof values[0], bench_cmp_double);
    struct bench_stats s = {values[n / 2], values[0], values[n - 1]};
    if (n % 2 == 0)
        s.median = (values[n / 2 - 1] + values[n / 2]) / 2;
    return s;
}

/* One result line. vs may be NULL when there is no floor to compare with. */
static inline void bench_report(const char *bench, const char *metric, struct bench_stats s,
                                const char *unit, const char *vs, double vs_value, uint64_t n)
{
    printf("{\"bench\":\"%s\",\"metric\":\"%s\",\"value\":%.6g,\"min\":%.6g,\"max\":%.6g,"
           "\"unit\":\"%s\"",
           bench, metric, s.median, s.min, s.max, unit);
    if (vs)
        printf(",\"vs\":\"%s\",\"vs_value\":%.6g,\"ratio\":%.6g", vs, vs_value,
               vs_value != 0 ? s.median / vs_value : 0.0);
    printf(",\"n\":%llu}\n", (unsigned long long)n);
    fflush(stdout);
}

#endif
