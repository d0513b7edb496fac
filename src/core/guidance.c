/* Guidance for both persons (guidance.h has the rules and what they reveal). */
#include "core/guidance.h"

#include <math.h>
#include <string.h>

#include "core/err.h"

#define DEG_TO_RAD (3.14159265358979323846 / 180.0)
#define N_DIRS     8
/* A distance to a fixed zone he is in may not shrink by more than this
 * from one step of the path to the next (numerical noise only). */
#define NON_DECREASING_TOL_M 0.1

void vg_guidance_params_default(struct vg_guidance_params *p)
{
    *p = (struct vg_guidance_params){
        .max_age_ms = 300000,
        .drift_mps = 2.0,
        .max_uncertainty_ratio = 0.5,
        .place_max_m = 1500.0,
        .place_max_uncertainty_m = 250.0,
        .round_m = 500.0,
        .step_m = 25.0,
    };
}

static bool positive_finite(double x)
{
    return isfinite(x) && x > 0.0;
}

int vg_guidance_params_check(const struct vg_guidance_params *p)
{
    if (!p || p->max_age_ms <= 0 || !positive_finite(p->drift_mps) ||
        !positive_finite(p->max_uncertainty_ratio) || p->max_uncertainty_ratio >= 1.0 ||
        !positive_finite(p->place_max_m) || !positive_finite(p->place_max_uncertainty_m) ||
        !positive_finite(p->round_m) || !positive_finite(p->step_m))
        return VG_EINVAL;
    /* a step so small the paths would take millions of samples */
    if (p->step_m < 1.0)
        return VG_ERANGE;
    return VG_OK;
}

const char *vg_guidance_compass(double bearing_deg)
{
    static const char *const names[N_DIRS] = {"N", "NE", "E", "SE", "S", "SW", "W", "NW"};
    if (!isfinite(bearing_deg))
        return NULL;
    double b = fmod(bearing_deg + 22.5, 360.0);
    if (b < 0.0)
        b += 360.0;
    int i = (int)(b / 45.0);
    return names[i < 0 ? 0 : i % N_DIRS];
}

const char *vg_guidance_flag_name(unsigned flag)
{
    switch (flag) {
    case VG_GUIDANCE_HER_MISSING: return "her_missing";
    case VG_GUIDANCE_HIS_MISSING: return "his_missing";
    case VG_GUIDANCE_HER_STALE: return "her_stale";
    case VG_GUIDANCE_HIS_STALE: return "his_stale";
    case VG_GUIDANCE_UNCERTAIN: return "uncertain";
    case VG_GUIDANCE_NO_WAY_OUT: return "no_way_out";
    default: return NULL;
    }
}

/* ---- input --------------------------------------------------------------------------------- */

static int check_fix(const struct vg_fix *f)
{
    if (!f)
        return VG_OK;
    int rc = vg_fix_check(f);
    if (rc != VG_OK)
        return rc;
    /* a record without a position, or with only a network estimate (km off) */
    return VG_FIX_IS_GNSS(f->quality) ? VG_OK : VG_EINVAL;
}

static int check_input(const struct vg_guidance_input *in, const struct vg_guidance_params *p)
{
    int rc;
    if (vg_guidance_params_check(p) != VG_OK)
        return VG_EINVAL;
    if ((rc = check_fix(in->author)) != VG_OK || (rc = check_fix(in->protected_person)) != VG_OK)
        return rc;
    if (in->now_ms < VG_TIME_MIN_MS || in->now_ms >= VG_TIME_MAX_MS)
        return VG_ERANGE;
    if (!isfinite(in->alert_radius_m))
        return VG_EINVAL;
    if (in->alert_radius_m < VG_ALERT_RADIUS_MIN_M || in->alert_radius_m > VG_ALERT_RADIUS_MAX_M)
        return VG_ERANGE;
    if (in->n_zones > VG_GUIDANCE_MAX_ZONES || in->n_places > VG_SAFE_PLACES_MAX)
        return VG_ERANGE;
    if ((in->n_zones && !in->zones) || (in->n_places && !in->places))
        return VG_EINVAL;
    for (size_t i = 0; i < in->n_zones; i++)
        if ((rc = vg_zone_check(&in->zones[i])) != VG_OK)
            return rc;
    for (size_t i = 0; i < in->n_places; i++) {
        if ((rc = vg_geo_point_check(in->places[i].at)) != VG_OK)
            return rc;
        if (!memchr(in->places[i].name, '\0', sizeof in->places[i].name))
            return VG_EINVAL;
    }
    return VG_OK;
}

static int64_t age_of(const struct vg_fix *f, int64_t now_ms)
{
    return f->time_ms < now_ms ? now_ms - f->time_ms : 0;
}

/* Its accuracy, grown with its age at the speed it went (or drift_mps). */
static double uncertainty(const struct vg_fix *f, int64_t age_ms,
                          const struct vg_guidance_params *p)
{
    double acc = (double)f->accuracy_m;
    if (acc < (double)VG_FIX_MIN_ACCURACY_M)
        acc = (double)VG_FIX_MIN_ACCURACY_M;
    double v = (double)f->speed_mps > p->drift_mps ? (double)f->speed_mps : p->drift_mps;
    return acc + v * (double)age_ms / 1000.0;
}

static struct vg_geo_point point_of(const struct vg_fix *f)
{
    return (struct vg_geo_point){f->lat_deg, f->lon_deg};
}

static double wrap360(double b)
{
    b = fmod(b, 360.0);
    return b < 0.0 ? b + 360.0 : b;
}

/* ---- her ----------------------------------------------------------------------------------- */

/* The closest approach of the segment (0,0)-(px,py) to (hx,hy), planar. */
static double segment_clearance(double px, double py, double hx, double hy)
{
    double len2 = px * px + py * py;
    double s = len2 > 0.0 ? (hx * px + hy * py) / len2 : 0.0;
    s = s < 0.0 ? 0.0 : s > 1.0 ? 1.0 : s;
    return hypot(hx - s * px, hy - s * py);
}

/* to_him: his bearing seen from her. */
static void guide_her(const struct vg_guidance_input *in, const struct vg_guidance_params *p,
                      double u_her, double to_him, struct vg_guidance_protected *out)
{
    struct vg_geo_point her = point_of(in->protected_person), him = point_of(in->author);
    out->valid = true;
    out->away_bearing_deg = wrap360(to_him + 180.0);
    out->bearing_deg = out->away_bearing_deg;
    out->place = -1;
    if (u_her > p->place_max_uncertainty_m || !in->n_places)
        return;
    struct vg_geo_prepared hp, ap;
    vg_geo_prepare(&hp, her);
    vg_geo_prepare(&ap, him);
    double hx, hy;
    vg_geo_fast_offset(&hp, &ap, &hx, &hy);
    double margin = hypot(hx, hy);
    if (margin > in->alert_radius_m)
        margin = in->alert_radius_m;
    double best = HUGE_VAL;
    for (size_t i = 0; i < in->n_places; i++) {
        double pd, pb;
        if (vg_geo_inverse(her, in->places[i].at, &pd, &pb) != VG_OK || pd > p->place_max_m ||
            pd >= best)
            continue;
        struct vg_geo_prepared pp;
        vg_geo_prepare(&pp, in->places[i].at);
        double px, py;
        vg_geo_fast_offset(&hp, &pp, &px, &py);
        double clearance = segment_clearance(px, py, hx, hy);
        if (clearance < margin)
            continue;
        best = pd;
        out->place = (int)i;
        out->bearing_deg = pb;
        out->place_distance_m = pd;
        out->place_clearance_m = clearance;
    }
}

/* ---- him ----------------------------------------------------------------------------------- */

/* One compass direction as the public rule sees it. */
struct dir_eval {
    bool ok;       /* clear of the fixed zones up to tell_m */
    double exit_m; /* out of every fixed zone's ring he is in (0: none) */
    double tell_m; /* rounded up */
};

static double ceil_to(double x, double step)
{
    return ceil(x / step) * step;
}

/* The path from `from` along bearing, sampled every step up to length:
 * zones he is in (in[z]) must not come nearer; the pre-alert rings of the
 * others must not be entered (when check_out; otherwise the walk stops
 * once every ring he is in is left). exits[z] gets where each ring he is
 * in is left (the first sample beyond it; HUGE_VAL if not within length).
 * false if the path breaks a rule. */
static bool walk(struct vg_geo_point from, double bearing, double length, double step,
                 const struct vg_zone *zones, size_t n_zones, const bool *in, const double *d0,
                 bool check_out, double *exits)
{
    double last[VG_GUIDANCE_MAX_ZONES];
    for (size_t z = 0; z < n_zones; z++) {
        last[z] = d0[z];
        exits[z] = in[z] ? HUGE_VAL : 0.0;
    }
    size_t n_steps = (size_t)ceil(length / step);
    for (size_t k = 1; k <= n_steps; k++) {
        double t = (double)k * step;
        if (t > length)
            t = length;
        struct vg_geo_point q;
        if (vg_geo_destination(from, bearing, t, &q) != VG_OK)
            return false;
        struct vg_geo_prepared qp;
        vg_geo_prepare(&qp, q);
        bool all_out = true;
        for (size_t z = 0; z < n_zones; z++) {
            double ring = 2.0 * zones[z].alert_radius_m;
            if (in[z]) {
                double dz = vg_zone_distance(&zones[z], &qp, HUGE_VAL);
                if (dz < last[z] - NON_DECREASING_TOL_M)
                    return false;
                last[z] = dz;
                if (dz > ring && exits[z] == HUGE_VAL)
                    exits[z] = t;
                all_out = all_out && exits[z] != HUGE_VAL;
            } else if (check_out && vg_zone_distance(&zones[z], &qp, ring) <= ring) {
                return false;
            }
        }
        if (!check_out && all_out)
            return true;
    }
    return true;
}

static void evaluate(const struct vg_guidance_input *in, const struct vg_guidance_params *p,
                     double u_sum, const bool *inz, const double *d0, size_t n_in, int k,
                     struct dir_eval *e)
{
    struct vg_geo_point him = point_of(in->author);
    double bearing = 45.0 * k;
    double base = 2.0 * in->alert_radius_m + 2.0 * u_sum;
    double exits[VG_GUIDANCE_MAX_ZONES];
    *e = (struct dir_eval){.ok = true};
    if (n_in) {
        /* where he is out of the fixed rings he is in, along this way */
        double cap = 4.0 * VG_ALERT_RADIUS_MAX_M + 2.0 * VG_POLYGON_MAX_EXTENT_M;
        if (!walk(him, bearing, cap, p->step_m, in->zones, in->n_zones, inz, d0, false, exits)) {
            e->ok = false;
            return;
        }
        for (size_t z = 0; z < in->n_zones; z++) {
            if (exits[z] == HUGE_VAL) {
                e->ok = false;
                return;
            }
            if (exits[z] > e->exit_m)
                e->exit_m = exits[z];
        }
    }
    double need = e->exit_m > 0.0 ? e->exit_m + p->step_m : 0.0;
    e->tell_m = ceil_to(need > base ? need : base, p->round_m);
    if (in->n_zones &&
        !walk(him, bearing, e->tell_m, p->step_m, in->zones, in->n_zones, inz, d0, true, exits))
        e->ok = false;
}

static void guide_him(const struct vg_guidance_input *in, const struct vg_guidance_params *p,
                      double u_sum, struct vg_guidance *g)
{
    struct vg_guidance_author *out = &g->author;
    struct vg_geo_point him = point_of(in->author), her = point_of(in->protected_person);
    struct vg_geo_prepared ap, hp;
    vg_geo_prepare(&ap, him);
    vg_geo_prepare(&hp, her);
    /* what the public rule reads: his position and the fixed zones */
    bool inz[VG_GUIDANCE_MAX_ZONES];
    double d0[VG_GUIDANCE_MAX_ZONES];
    size_t n_in = 0;
    for (size_t z = 0; z < in->n_zones; z++) {
        d0[z] = vg_zone_distance(&in->zones[z], &ap, HUGE_VAL);
        inz[z] = d0[z] <= 2.0 * in->zones[z].alert_radius_m;
        n_in += inz[z];
    }
    struct dir_eval ev[N_DIRS];
    for (int k = 0; k < N_DIRS; k++)
        evaluate(in, p, u_sum, inz, d0, n_in, k, &ev[k]);
    /* the public order: opposite pairs both clear, N/S first; then the
     * single directions, shortest way out first */
    int order[N_DIRS];
    bool paired[N_DIRS];
    int n = 0;
    for (int a = 0; a < N_DIRS / 2; a++)
        if (ev[a].ok && ev[a + 4].ok) {
            paired[n] = paired[n + 1] = true;
            order[n++] = a;
            order[n++] = a + 4;
        }
    int first_single = n;
    for (int k = 0; k < N_DIRS; k++)
        if (ev[k].ok && !ev[(k + 4) % N_DIRS].ok) {
            int i = n++;
            /* insertion by (exit_m, k): the shortest way out first */
            while (i > first_single && ev[order[i - 1]].exit_m > ev[k].exit_m) {
                order[i] = order[i - 1];
                i--;
            }
            order[i] = k;
        }
    for (int i = first_single; i < n; i++)
        paired[i] = false;
    /* only now her position: the first of the order that does not bring
     * him nearer to her */
    double ex, ey;
    vg_geo_fast_offset(&ap, &hp, &ex, &ey);
    double dist = hypot(ex, ey), ring = 2.0 * in->alert_radius_m;
    bool in_mobile = dist < ring;
    out->inside = in_mobile || n_in > 0;
    for (int i = 0; i < n; i++) {
        int k = order[i];
        double b = 45.0 * k * DEG_TO_RAD;
        double ux = sin(b), uy = cos(b);
        double dot = ux * ex + uy * ey; /* > 0: she is ahead */
        if (dot > 0.0)
            continue;
        out->valid = true;
        out->paired = paired[i];
        out->bearing_deg = 45.0 * k;
        out->tell_m = ev[k].tell_m;
        double leave = ev[k].exit_m;
        if (in_mobile) {
            double mobile = dot + sqrt(dot * dot - dist * dist + ring * ring);
            if (mobile > leave)
                leave = mobile;
        }
        out->leave_m = leave;
        return;
    }
    g->flags |= VG_GUIDANCE_NO_WAY_OUT;
}

/* ---- both ---------------------------------------------------------------------------------- */

int vg_guidance_compute(const struct vg_guidance_input *in, struct vg_guidance *out)
{
    struct vg_guidance_params defaults;
    vg_guidance_params_default(&defaults);
    if (!in || !out)
        return VG_EINVAL;
    const struct vg_guidance_params *p = in->params ? in->params : &defaults;
    int rc = check_input(in, p);
    if (rc != VG_OK)
        return rc;
    struct vg_guidance g = {.her_age_ms = -1, .his_age_ms = -1};
    g.protected_person.place = -1;
    double u_her = 0.0, u_his = 0.0;
    if (!in->protected_person) {
        g.flags |= VG_GUIDANCE_HER_MISSING;
    } else {
        g.her_age_ms = age_of(in->protected_person, in->now_ms);
        u_her = uncertainty(in->protected_person, g.her_age_ms, p);
        if (g.her_age_ms > p->max_age_ms)
            g.flags |= VG_GUIDANCE_HER_STALE;
    }
    if (!in->author) {
        g.flags |= VG_GUIDANCE_HIS_MISSING;
    } else {
        g.his_age_ms = age_of(in->author, in->now_ms);
        u_his = uncertainty(in->author, g.his_age_ms, p);
        if (g.his_age_ms > p->max_age_ms)
            g.flags |= VG_GUIDANCE_HIS_STALE;
    }
    g.uncertainty_m = u_her + u_his;
    double to_him = 0.0;
    if (in->author && in->protected_person) {
        /* nearly antipodal (Vincenty does not converge): no direction either */
        if (vg_geo_inverse(point_of(in->protected_person), point_of(in->author), &g.distance_m,
                           &to_him) != VG_OK)
            g.flags |= VG_GUIDANCE_UNCERTAIN;
        else if (g.uncertainty_m > p->max_uncertainty_ratio * g.distance_m)
            g.flags |= VG_GUIDANCE_UNCERTAIN;
    }
    if (g.flags == 0) {
        guide_her(in, p, u_her, to_him, &g.protected_person);
        guide_him(in, p, g.uncertainty_m, &g);
    }
    *out = g;
    return VG_OK;
}
