/* A small deterministic pseudo-random generator (xoshiro256**, seeded with
 * splitmix64) for simulations, benchmarks and tests: the same seed gives the
 * same sequence on every machine. Not for anything secret. */
#ifndef VG_CORE_PRNG_H
#define VG_CORE_PRNG_H

#include <stdint.h>

struct vg_prng {
    uint64_t s[4];
};

void vg_prng_seed(struct vg_prng *p, uint64_t seed);
uint64_t vg_prng_next(struct vg_prng *p);
/* Uniform in [0, 1). */
double vg_prng_uniform(struct vg_prng *p);
/* Uniform in [lo, hi). */
double vg_prng_range(struct vg_prng *p, double lo, double hi);
/* Standard normal (Box-Muller; one draw per call, the pair's twin dropped). */
double vg_prng_normal(struct vg_prng *p);

#endif
