/* The GNSS error model (docs/SCENARIOS.md, "The error model"): a
 * first-order Gauss-Markov error per axis, multipath jumps, a reported
 * accuracy that tracks the error level but not the jumps, and no fix
 * without sky. One step per epoch (1 Hz), so that the error at a given
 * second does not depend on when the unit is sampled. */
#include <math.h>

#include "sim/sim_internal.h"

#define PI 3.14159265358979323846
/* For a circular normal error with sigma per axis, the radius holding 95%
 * of the errors is sigma * sqrt(-2 ln 0.05) (Rayleigh distribution). */
#define R95_PER_SIGMA 2.447746830680816
/* A cold start's larger errors fade over this many epochs after the fix. */
#define COLD_FADE_EPOCHS 60.0

void vg__sim_gnss_defaults(struct vg__sim_gnss *g)
{
    g->r95_m = 5.0;
    g->correlation_s = 45.0;
    g->canyon_factor = 2.5;
    g->outlier_rate_per_h = 1.0;
    g->canyon_outlier_rate_per_h = 20.0;
    g->outlier_min_m = 30.0;
    g->outlier_max_m = 300.0;
    g->outlier_min_s = 3.0;
    g->outlier_max_s = 30.0;
    g->outlier_reported_fraction = 0.3;
    g->accuracy_spread = 0.25;
    g->accuracy_correlation_s = 120.0;
    g->reacquire_s = 5.0;
    g->cold_start_after_s = 0.0; /* off unless a scenario asks */
    g->cold_reacquire_s = 30.0;
    g->cold_error_factor = 4.0;
}

void vg__sim_gnss_init(struct vg__sim_gnss_state *st, uint64_t seed)
{
    vg_prng_seed(&st->rng, seed);
    st->epoch = -1;
    st->zx = st->zy = st->za = 0.0;
    st->outlier_left = 0;
    st->outlier_east_m = st->outlier_north_m = st->outlier_m = 0.0f;
    st->outlier_reported = 0;
    st->blocked_until = -1;
    st->blocked_run = 0;
    st->cold_left = 0;
}

/* Two independent standard normal draws (Box-Muller, both twins used). */
static void normal_pair(struct vg_prng *rng, double *a, double *b)
{
    double u1 = 1.0 - vg_prng_uniform(rng); /* (0, 1]: log is finite */
    double u2 = vg_prng_uniform(rng);
    double r = sqrt(-2.0 * log(u1));
    *a = r * cos(2.0 * PI * u2);
    *b = r * sin(2.0 * PI * u2);
}

void vg__sim_gnss_step(const struct vg__sim_gnss *g, struct vg__sim_gnss_state *st, bool canyon,
                       bool blocked, struct vg__sim_gnss_epoch *out)
{
    double n1, n2, n3, n4, n5, n6;
    normal_pair(&st->rng, &n1, &n2);
    normal_pair(&st->rng, &n3, &n4);
    normal_pair(&st->rng, &n5, &n6);
    (void)n6;
    if (st->epoch < 0) {
        /* start in the stationary distribution: no warm-up transient */
        st->zx = n1;
        st->zy = n2;
        st->za = n3;
    } else {
        /* x_k = phi x_{k-1} + sqrt(1 - phi^2) w_k keeps unit variance
         * with autocorrelation phi^|lag| = exp(-|lag| / tau) */
        double phi = exp(-1.0 / g->correlation_s);
        double q = sqrt(1.0 - phi * phi);
        st->zx = phi * st->zx + q * n1;
        st->zy = phi * st->zy + q * n2;
        double phi_a = exp(-1.0 / g->accuracy_correlation_s);
        st->za = phi_a * st->za + sqrt(1.0 - phi_a * phi_a) * n3;
    }
    st->epoch++;

    double scale = canyon ? g->canyon_factor : 1.0;
    /* a cold start's first minute: errors (and the receiver's own estimate
     * of them) larger, fading linearly back to normal */
    if (st->cold_left > 0)
        scale *= 1.0 + (g->cold_error_factor - 1.0) * (double)st->cold_left / COLD_FADE_EPOCHS;
    double sigma = g->r95_m * scale / R95_PER_SIGMA;
    double r95_here = g->r95_m * scale;

    /* multipath: a jump that holds for a few seconds, started at a rate */
    double u = vg_prng_uniform(&st->rng);
    if (st->outlier_left > 0) {
        st->outlier_left--;
    } else {
        double rate = canyon ? g->canyon_outlier_rate_per_h : g->outlier_rate_per_h;
        st->outlier_m = 0.0f;
        if (u < rate / 3600.0) {
            double mag = exp(vg_prng_range(&st->rng, log(g->outlier_min_m), log(g->outlier_max_m)));
            double dir = vg_prng_range(&st->rng, 0.0, 2.0 * PI);
            double dur = floor(vg_prng_range(&st->rng, g->outlier_min_s, g->outlier_max_s + 1.0));
            if (dur < 1.0)
                dur = 1.0;
            st->outlier_reported = vg_prng_uniform(&st->rng) < g->outlier_reported_fraction ? 1 : 0;
            st->outlier_m = (float)mag;
            st->outlier_east_m = (float)(mag * sin(dir));
            st->outlier_north_m = (float)(mag * cos(dir));
            st->outlier_left = (int32_t)dur - 1; /* this epoch is the first */
        }
    }
    out->outlier = st->outlier_m > 0.0f;
    out->east_m = sigma * st->zx + (out->outlier ? (double)st->outlier_east_m : 0.0);
    out->north_m = sigma * st->zy + (out->outlier ? (double)st->outlier_north_m : 0.0);
    /* the receiver's own estimate follows the error level (median r95_here)
     * with a slow log-normal wobble; it sees a jump only sometimes */
    out->accuracy_m = r95_here * exp(g->accuracy_spread * st->za);
    if (out->outlier && st->outlier_reported)
        out->accuracy_m = hypot(out->accuracy_m, (double)st->outlier_m);
    out->speed_noise_mps = 0.15 * n4;
    out->heading_noise_deg = 3.0 * n5;

    if (blocked) {
        st->blocked_until = st->epoch + (int64_t)ceil(g->reacquire_s);
        st->blocked_run++;
        if (g->cold_start_after_s > 0.0 && (double)st->blocked_run >= g->cold_start_after_s) {
            st->blocked_until = st->epoch + (int64_t)ceil(g->cold_reacquire_s);
            st->cold_left = (int32_t)(COLD_FADE_EPOCHS + ceil(g->cold_reacquire_s));
        }
    } else {
        st->blocked_run = 0;
        if (st->cold_left > 0)
            st->cold_left--;
    }
    out->fix = !blocked && st->epoch > st->blocked_until;
}
