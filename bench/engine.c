/* bench/engine: fixes through the full alarm engine, against the same fixes
 * through a bare distance loop, in the same run.
 *
 * 10,000 measures across metropolitan France, each with R drawn from 1 to
 * 10 km, 4 fixed zones (three circles and a polygon; two of them with time
 * windows) and generated tracks for both parties: the author driving or
 * walking around his home, one measure in ten heading for the protected
 * person's home, the protected person walking around hers; GNSS noise of
 * 5 to 50 m. The fixes arrive time-major (every measure's fixes of a
 * moment, then the next moment), as a centre receives them.
 *
 * Reports (see docs/BENCHMARKS.md):
 *   ns_per_fix         engine, per fix, ticks included, vs the bare loop
 *                      (prepare the fix + its distance to the other party)
 *   fixes_per_s        the same, as a rate on one core
 *   bytes_per_measure  the engine's state for one measure
 *   config_bytes_per_measure  the measure's zones, vertices and windows as
 *                      the engine reads them (immutable, shareable)
 */
#include <math.h>

#include "bench.h"
#include "core/engine.h"
#include "core/err.h"
#include "core/prng.h"
#include "core/tz.h"
#include "core/window.h"
#include "core/zone.h"

#define ZONES_PER_MEASURE 4
#define POLY_VERTICES 6
#define STEP_MS 30000

struct measure {
    struct vg_engine_config cfg;
    struct vg_zone zones[ZONES_PER_MEASURE];
    struct vg_geo_point vertices[POLY_VERTICES];
    struct vg_window windows[2];
};

struct world {
    size_t n_measures;
    size_t n_steps;
    struct measure *measures;
    struct vg_engine_state *states;
    struct vg_engine_input *inputs; /* n_measures * n_steps * 2 */
    uint32_t *input_measure;
    size_t n_inputs;
    struct vg_tz tz;
    struct vg_engine_params params;
};

static struct vg_geo_point move(struct vg_geo_point p, double east_m, double north_m)
{
    /* generation only: a flat step is plenty */
    p.lat_deg += north_m / 111320.0;
    p.lon_deg += east_m / (111320.0 * cos(p.lat_deg * M_PI / 180.0));
    return p;
}

static struct vg_geo_point around(struct vg_prng *r, struct vg_geo_point c, double min_m,
                                  double max_m)
{
    double b = vg_prng_range(r, 0, 2 * M_PI), d = vg_prng_range(r, min_m, max_m);
    return move(c, d * sin(b), d * cos(b));
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench/engine: %s: %s\n", what, vg_strerror(rc));
    exit(1);
}

static void build_measure(struct world *w, struct measure *m, struct vg_prng *r,
                          struct vg_geo_point her_home)
{
    double radius = 1000.0 + 100.0 * floor(vg_prng_range(r, 0, 91));
    int rc;
    struct vg_geo_point work = around(r, her_home, 2000, 15000);
    struct vg_geo_point school = around(r, her_home, 500, 5000);
    struct vg_geo_point friends = around(r, her_home, 1000, 8000);
    if ((rc = vg_zone_init_circle(&m->zones[0], 1, VG_ZONE_PROTECTED_WORKPLACE, work, radius)))
        die("workplace", rc);
    if ((rc = vg_zone_init_circle(&m->zones[1], 2, VG_ZONE_SCHOOL, school, radius)))
        die("school", rc);
    if ((rc = vg_zone_init_circle(&m->zones[2], 3, VG_ZONE_FREQUENTED_PLACE, friends, radius)))
        die("place", rc);
    struct vg_geo_point centre = around(r, her_home, 1000, 10000);
    double size = vg_prng_range(r, 100, 300);
    for (int i = 0; i < POLY_VERTICES; i++) {
        double b = 2 * M_PI * i / POLY_VERTICES, d = size * vg_prng_range(r, 0.6, 1.0);
        m->vertices[i] = move(centre, d * sin(b), d * cos(b));
    }
    if ((rc = vg_zone_init_polygon(&m->zones[3], 4, VG_ZONE_OTHER, m->vertices, POLY_VERTICES,
                                   radius, NULL)))
        die("polygon", rc);
    /* the school hand-over on Wednesdays, and a one-off visit */
    if ((rc = vg_window_init_weekly(&m->windows[0], VG_DAY_WED, 16 * 60, 16 * 60 + 30)))
        die("weekly window", rc);
    struct vg_local_time a = {{2026, 7, 2}, 10, 0, 0}, b = {{2026, 7, 2}, 12, 0, 0};
    if ((rc = vg_window_init_once(&m->windows[1], &w->tz, &a, &b)))
        die("one-off window", rc);
    if ((rc = vg_zone_set_windows(&m->zones[1], &m->windows[0], 1)) ||
        (rc = vg_zone_set_windows(&m->zones[3], &m->windows[1], 1)))
        die("windows", rc);
    m->cfg = (struct vg_engine_config){.alert_radius_m = radius,
                                       .zones = m->zones,
                                       .n_zones = ZONES_PER_MEASURE,
                                       .tz = &w->tz,
                                       .params = &w->params};
}

static struct vg_engine_input fix_input(enum vg_unit unit, int64_t t, struct vg_geo_point p,
                                        double acc, double speed)
{
    struct vg_engine_input in = {.kind = VG_INPUT_FIX, .unit = (uint8_t)unit};
    in.fix = (struct vg_fix){.time_ms = t,
                             .lat_deg = p.lat_deg,
                             .lon_deg = p.lon_deg,
                             .accuracy_m = (float)acc,
                             .speed_mps = (float)speed,
                             .heading_deg = -1,
                             .quality = VG_FIX_3D};
    return in;
}

/* 2026-07-01T06:00:00Z */
#define START_MS 1782885600000LL

static void build_world(struct world *w, size_t n_measures, size_t n_steps, uint64_t seed)
{
    int rc;
    if ((rc = vg_tz_from_posix(&w->tz, VG_TZ_RULE_EUROPE_PARIS)))
        die("tz", rc);
    vg_engine_params_default(&w->params);
    w->n_measures = n_measures;
    w->n_steps = n_steps;
    w->measures = calloc(n_measures, sizeof *w->measures);
    w->states = calloc(n_measures, sizeof *w->states);
    w->n_inputs = n_measures * n_steps * 2;
    w->inputs = calloc(w->n_inputs, sizeof *w->inputs);
    w->input_measure = calloc(w->n_inputs, sizeof *w->input_measure);
    if (!w->measures || !w->states || !w->inputs || !w->input_measure) {
        fprintf(stderr, "bench/engine: out of memory\n");
        exit(1);
    }
    struct vg_prng r;
    vg_prng_seed(&r, seed);

    /* per measure: positions and velocities of both parties */
    struct party {
        struct vg_geo_point pos, target;
        double speed;
    } *auth = calloc(n_measures, sizeof *auth), *prot = calloc(n_measures, sizeof *prot);
    struct vg_geo_point *her_home = calloc(n_measures, sizeof *her_home);
    if (!auth || !prot || !her_home)
        exit(1);
    for (size_t i = 0; i < n_measures; i++) {
        her_home[i] = (struct vg_geo_point){vg_prng_range(&r, 43.5, 50.5),
                                            vg_prng_range(&r, -1.0, 7.0)};
        build_measure(w, &w->measures[i], &r, her_home[i]);
        double radius = w->measures[i].cfg.alert_radius_m;
        prot[i].pos = her_home[i];
        prot[i].target = around(&r, her_home[i], 0, 2000);
        prot[i].speed = vg_prng_range(&r, 0.5, 1.5);
        auth[i].pos = around(&r, her_home[i], 2 * radius + 3000, 40000);
        /* one in ten drives toward her; the others go about their day */
        bool approach = vg_prng_uniform(&r) < 0.1;
        auth[i].target = approach ? her_home[i] : around(&r, auth[i].pos, 1000, 20000);
        auth[i].speed = approach ? vg_prng_range(&r, 8, 25) : vg_prng_range(&r, 1, 30);
    }
    size_t k = 0;
    for (size_t step = 0; step < n_steps; step++) {
        int64_t t = START_MS + (int64_t)step * STEP_MS;
        for (size_t i = 0; i < n_measures; i++) {
            struct party *ps[2] = {&auth[i], &prot[i]};
            for (int who = 0; who < 2; who++) {
                struct party *p = ps[who];
                double dlat = (p->target.lat_deg - p->pos.lat_deg) * 111320.0;
                double dlon = (p->target.lon_deg - p->pos.lon_deg) * 111320.0 *
                              cos(p->pos.lat_deg * M_PI / 180.0);
                double dist = hypot(dlat, dlon), step_m = p->speed * STEP_MS / 1000.0;
                if (dist <= step_m) {
                    p->pos = p->target;
                    p->target = around(&r, who == 0 ? p->pos : her_home[i], 500,
                                       who == 0 ? 15000 : 2000);
                } else {
                    p->pos = move(p->pos, dlon / dist * step_m, dlat / dist * step_m);
                }
                double acc = vg_prng_range(&r, 5, 50);
                struct vg_geo_point seen = move(p->pos, acc / 2 * vg_prng_normal(&r),
                                                acc / 2 * vg_prng_normal(&r));
                w->inputs[k] = fix_input(who == 0 ? VG_UNIT_AUTHOR : VG_UNIT_PROTECTED,
                                         t + who * 500, seen, acc, p->speed);
                w->input_measure[k] = (uint32_t)i;
                k++;
            }
        }
    }
    free(auth);
    free(prot);
    free(her_home);
}

static void init_states(struct world *w)
{
    for (size_t i = 0; i < w->n_measures; i++) {
        int rc = vg_engine_init(&w->states[i], &w->measures[i].cfg, START_MS);
        if (rc)
            die("engine init", rc);
    }
}

/* The engine over every input; returns ns per fix. */
static double run_engine(struct world *w, uint64_t *alarms_out)
{
    static struct vg_engine_out out;
    init_states(w);
    uint64_t alarms = 0;
    double t0 = bench_now_ns();
    for (size_t k = 0; k < w->n_inputs; k++) {
        uint32_t m = w->input_measure[k];
        const struct vg_engine_input *in = &w->inputs[k];
        int64_t now = in->fix.time_ms + 1000;
        struct vg_engine_state *s = &w->states[m];
        if (vg_engine_feed(s, &w->measures[m].cfg, in, now, &out) != VG_OK) {
            fprintf(stderr, "bench/engine: a generated fix was refused\n");
            exit(1);
        }
        alarms += out.n_alarms;
        if (s->next_deadline_ms <= now) {
            vg_engine_tick(s, &w->measures[m].cfg, now, &out);
            alarms += out.n_alarms;
        }
    }
    double t1 = bench_now_ns();
    *alarms_out = alarms;
    return (t1 - t0) / (double)w->n_inputs;
}

/* bench/engine_postgis builds the same world and runs the same engine (it
 * includes this file, up to here). */
#ifndef VG_BENCH_ENGINE_WORLD_ONLY
/* The floor: prepare each fix and take its distance to the other party's
 * last position, nothing else. */
static double run_bare(struct world *w, double *checksum)
{
    struct vg_geo_prepared *last = calloc(w->n_measures * 2, sizeof *last);
    if (!last)
        exit(1);
    double sum = 0;
    double t0 = bench_now_ns();
    for (size_t k = 0; k < w->n_inputs; k++) {
        uint32_t m = w->input_measure[k];
        const struct vg_fix *f = &w->inputs[k].fix;
        int who = w->inputs[k].unit == VG_UNIT_AUTHOR ? 0 : 1;
        struct vg_geo_prepared *mine = &last[2 * m + (size_t)who];
        vg_geo_prepare(mine, (struct vg_geo_point){f->lat_deg, f->lon_deg});
        sum += vg_geo_fast_distance(mine, &last[2 * m + (size_t)(1 - who)]);
    }
    double t1 = bench_now_ns();
    free(last);
    *checksum = sum;
    return (t1 - t0) / (double)w->n_inputs;
}

int main(void)
{
    bool quick = bench_quick();
    size_t n_measures = quick ? 500 : 10000;
    size_t n_steps = quick ? 10 : 60;
    int rounds = quick ? 1 : 7;
    struct world w;
    memset(&w, 0, sizeof w);
    build_world(&w, n_measures, n_steps, 20261124);
    fprintf(stderr, "bench/engine: %zu measures, %zu fixes a round, %d rounds\n", n_measures,
            w.n_inputs, rounds);

    double engine_ns[16], bare_ns[16], rate[16];
    uint64_t alarms = 0;
    double checksum = 0;
    run_engine(&w, &alarms); /* warm-up */
    run_bare(&w, &checksum);
    for (int i = 0; i < rounds; i++) {
        engine_ns[i] = run_engine(&w, &alarms);
        bare_ns[i] = run_bare(&w, &checksum);
        rate[i] = 1e9 / engine_ns[i];
    }
    fprintf(stderr, "bench/engine: %llu alarms a round (%.4f per fix), checksum %.0f\n",
            (unsigned long long)alarms, (double)alarms / (double)w.n_inputs, checksum);
    struct bench_stats bare = bench_stats_of(bare_ns, (size_t)rounds);
    struct bench_stats eng = bench_stats_of(engine_ns, (size_t)rounds);
    struct bench_stats fps = bench_stats_of(rate, (size_t)rounds);
    bench_report("engine", "ns_per_fix", eng, "ns", "bare distance loop", bare.median,
                 (uint64_t)w.n_inputs);
    bench_report("engine", "fixes_per_s", fps, "1/s", "bare distance loop",
                 1e9 / bare.median, (uint64_t)w.n_inputs);
    struct bench_stats state_bytes = {(double)sizeof(struct vg_engine_state),
                                      (double)sizeof(struct vg_engine_state),
                                      (double)sizeof(struct vg_engine_state)};
    bench_report("engine", "bytes_per_measure", state_bytes, "bytes", NULL, 0, 1);
    double cfg = (double)(sizeof(struct vg_engine_config) +
                          ZONES_PER_MEASURE * sizeof(struct vg_zone) +
                          POLY_VERTICES * sizeof(struct vg_geo_point) +
                          2 * sizeof(struct vg_window));
    bench_report("engine", "config_bytes_per_measure", (struct bench_stats){cfg, cfg, cfg},
                 "bytes", NULL, 0, 1);
    free(w.measures);
    free(w.states);
    free(w.inputs);
    free(w.input_measure);
    return 0;
}
#endif
