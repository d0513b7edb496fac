/* Movement: a person's timeline of stays and moves, built once from the
 * scenario's trips, and the position at any time as a pure function of
 * time (so the ground truth never depends on when units were sampled). */
#include <math.h>
#include <stdlib.h>

#include "core/err.h"
#include "sim/sim_internal.h"

#define PI 3.14159265358979323846
/* Moves are cut into pieces of at most this length, each interpolated
 * linearly in degrees between two points of the geodesic: the chord of a
 * 2 km piece strays from the geodesic by well under a centimetre. */
#define MAX_PIECE_M 2000.0
/* The wander of someone staying put fades in and out over this time, so
 * that the position is continuous when a trip begins or ends. */
#define WANDER_RAMP_S 60.0
/* The start of time for the first stay. */
#define BEGINNING_S (-1e18)

void vg__sim_mode_defaults(uint8_t mode, double *speed_mps, double *stop_every_m, double *stop_s)
{
    /* Cruise speeds of town traffic (docs/SCENARIOS.md). Transit and metro
     * stop at regular intervals; the other modes do not. */
    *stop_every_m = 0.0;
    *stop_s = 0.0;
    switch (mode) {
    case VG__SIM_WALK: *speed_mps = 1.4; break;
    case VG__SIM_BIKE: *speed_mps = 4.5; break;
    case VG__SIM_CAR: *speed_mps = 11.0; break;
    case VG__SIM_TRANSIT:
        *speed_mps = 8.0;
        *stop_every_m = 500.0;
        *stop_s = 20.0;
        break;
    case VG__SIM_METRO:
    default:
        *speed_mps = 10.0;
        *stop_every_m = 900.0;
        *stop_s = 25.0;
        break;
    }
}

void vg__sim_wander_draw(struct vg__sim_person *p, struct vg_prng *rng)
{
    for (int k = 0; k < 3; k++) {
        p->wander_period_s[k] = vg_prng_range(rng, 120.0, 1800.0);
        p->wander_phase[0][k] = vg_prng_range(rng, 0.0, 2.0 * PI);
        p->wander_phase[1][k] = vg_prng_range(rng, 0.0, 2.0 * PI);
    }
}

static int push_seg(struct vg__sim_timeline *tl, struct vg__sim_seg seg)
{
    struct vg__sim_person *p = tl->person;
    if (p->n_segs == tl->cap) {
        size_t cap = tl->cap ? 2 * tl->cap : 8;
        struct vg__sim_seg *segs = realloc(p->segs, cap * sizeof *segs);
        if (!segs)
            return VG_ENOSPC;
        p->segs = segs;
        tl->cap = cap;
    }
    p->segs[p->n_segs++] = seg;
    return VG_OK;
}

static struct vg__sim_seg still(uint8_t kind, double t0, struct vg_geo_point at, uint8_t under)
{
    return (struct vg__sim_seg){t0,   at.lat_deg, at.lon_deg, at.lat_deg, at.lon_deg,
                                0.0f, -1.0f,      kind,       under};
}

int vg__sim_timeline_begin(struct vg__sim_timeline *tl, struct vg__sim_person *p,
                           struct vg_geo_point start)
{
    tl->person = p;
    tl->cap = 0;
    tl->at = start;
    tl->free_s = BEGINNING_S;
    p->segs = NULL;
    p->n_segs = 0;
    return push_seg(tl, still(VG__SIM_SEG_STAY, BEGINNING_S, start, 0));
}

/* A breakpoint along a leg: a piece ends there, or a stop (after a piece
 * ending at the same place). */
struct mark {
    double d;
    int stop;
};

static int cmp_mark(const void *a, const void *b)
{
    const struct mark *x = a, *y = b;
    if (x->d != y->d)
        return (x->d > y->d) - (x->d < y->d);
    return x->stop - y->stop;
}

int vg__sim_timeline_trip(struct vg__sim_timeline *tl, const struct vg__sim_trip *trip)
{
    if (!(trip->depart_s >= tl->free_s) || !(trip->speed_mps > 0.0) || trip->n_points == 0)
        return VG_ESTATE;
    uint8_t under = trip->mode == VG__SIM_METRO;
    double t = trip->depart_s;
    /* the total length first: no stop in the last half spacing (arrival is one) */
    double total = 0.0;
    struct vg_geo_point from = tl->at;
    for (size_t k = 0; k < trip->n_points; k++) {
        double d;
        if (vg_geo_inverse(from, trip->via[k], &d, NULL) != VG_OK)
            return VG_EINVAL;
        total += d;
        from = trip->via[k];
    }
    double next_stop = trip->stop_every_m > 0.0 ? trip->stop_every_m : HUGE_VAL;
    double done = 0.0; /* metres travelled before the current leg */
    from = tl->at;
    for (size_t k = 0; k < trip->n_points; k++) {
        struct vg_geo_point to = trip->via[k];
        double len, bearing;
        if (vg_geo_inverse(from, to, &len, &bearing) != VG_OK)
            return VG_EINVAL;
        if (len < 0.01) {
            from = to;
            continue;
        }
        /* breakpoints along this leg: the ends of pieces of at most
         * MAX_PIECE_M (the leg's end included), and the stops */
        size_t n_sub = (size_t)ceil(len / MAX_PIECE_M);
        size_t n_stops = 0;
        for (double s = next_stop; s < done + len && s < total - trip->stop_every_m / 2.0;
             s += trip->stop_every_m)
            n_stops++;
        size_t n_marks = n_sub + n_stops;
        struct mark *marks = malloc(n_marks * sizeof *marks);
        if (!marks)
            return VG_ENOSPC;
        size_t m = 0;
        for (size_t j = 1; j <= n_sub; j++)
            marks[m++] = (struct mark){len * (double)j / (double)n_sub, 0};
        for (size_t j = 0; j < n_stops; j++) {
            marks[m++] = (struct mark){next_stop - done, 1};
            next_stop += trip->stop_every_m;
        }
        qsort(marks, n_marks, sizeof *marks, cmp_mark);
        int rc = VG_OK;
        double at_m = 0.0;
        struct vg_geo_point here = from;
        for (size_t j = 0; j < n_marks && rc == VG_OK; j++) {
            double d = marks[j].d;
            if (d > at_m + 1e-6) {
                struct vg_geo_point next = to;
                if (d < len - 1e-6 && vg_geo_destination(from, bearing, d, &next) != VG_OK)
                    rc = VG_EINVAL;
                double piece_bearing = 0.0;
                (void)vg_geo_inverse(here, next, NULL, &piece_bearing);
                struct vg__sim_seg seg = {t,
                                          here.lat_deg,
                                          here.lon_deg,
                                          next.lat_deg,
                                          next.lon_deg,
                                          (float)trip->speed_mps,
                                          (float)piece_bearing,
                                          VG__SIM_SEG_MOVE,
                                          under};
                if (rc == VG_OK)
                    rc = push_seg(tl, seg);
                t += (d - at_m) / trip->speed_mps;
                at_m = d;
                here = next;
            }
            if (marks[j].stop && rc == VG_OK && trip->stop_s > 0.0) {
                rc = push_seg(tl, still(VG__SIM_SEG_STOP, t, here, under));
                t += trip->stop_s;
            }
        }
        free(marks);
        if (rc)
            return rc;
        done += len;
        from = to;
    }
    tl->at = trip->via[trip->n_points - 1];
    tl->free_s = t;
    return push_seg(tl, still(VG__SIM_SEG_STAY, t, tl->at, 0));
}

static size_t find_seg(const struct vg__sim_person *p, double t_s, size_t hint)
{
    size_t n = p->n_segs;
    if (hint < n && p->segs[hint].t0_s <= t_s) {
        /* the usual case: the same segment or one of the next few */
        for (size_t k = 0; k < 4; k++) {
            if (hint + 1 >= n || t_s < p->segs[hint + 1].t0_s)
                return hint;
            hint++;
        }
    }
    size_t lo = 0, hi = n - 1; /* the last segment with t0 <= t (segs[0] starts at the beginning) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (p->segs[mid].t0_s <= t_s)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static double smoothstep(double x)
{
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    return x * x * (3.0 - 2.0 * x);
}

void vg__sim_position(const struct vg__sim_person *p, double t_s, size_t *cursor,
                      struct vg__sim_pos *out)
{
    size_t i = find_seg(p, t_s, *cursor);
    *cursor = i;
    const struct vg__sim_seg *s = &p->segs[i];
    double t1 = i + 1 < p->n_segs ? p->segs[i + 1].t0_s : HUGE_VAL;
    out->underground = s->underground != 0;
    if (s->kind == VG__SIM_SEG_MOVE) {
        double f = (t_s - s->t0_s) / (t1 - s->t0_s);
        if (f < 0.0)
            f = 0.0;
        if (f > 1.0)
            f = 1.0;
        double dlon = s->b_lon - s->a_lon;
        if (dlon > 180.0)
            dlon -= 360.0;
        else if (dlon < -180.0)
            dlon += 360.0;
        out->lat_deg = s->a_lat + f * (s->b_lat - s->a_lat);
        out->lon_deg = s->a_lon + f * dlon;
        if (out->lon_deg > 180.0)
            out->lon_deg -= 360.0;
        else if (out->lon_deg < -180.0)
            out->lon_deg += 360.0;
        out->speed_mps = s->speed_mps;
        out->heading_deg = s->heading_deg;
        return;
    }
    out->lat_deg = s->a_lat;
    out->lon_deg = s->a_lon;
    out->speed_mps = 0.0f;
    out->heading_deg = -1.0f;
    if (s->kind != VG__SIM_SEG_STAY || p->wander_m <= 0.0)
        return;
    /* Someone at home moves about a few metres: a sum of three slow
     * sinusoids per axis, faded in after arriving and out before leaving. */
    double fade = smoothstep(fmin(t_s - s->t0_s, t1 - t_s) / WANDER_RAMP_S);
    if (fade <= 0.0)
        return;
    static const double share[3] = {0.5, 0.3, 0.2};
    double east = 0.0, north = 0.0;
    for (int k = 0; k < 3; k++) {
        double w = 2.0 * PI * t_s / p->wander_period_s[k];
        east += share[k] * sin(w + p->wander_phase[0][k]);
        north += share[k] * sin(w + p->wander_phase[1][k]);
    }
    struct vg_geo_point q =
        vg__sim_offset(s->a_lat, s->a_lon, p->wander_m * fade * east, p->wander_m * fade * north);
    out->lat_deg = q.lat_deg;
    out->lon_deg = q.lon_deg;
}
