/* Fixed zones. Polygon distances are computed in an azimuthal equidistant
 * frame centred on the position being judged (vg_geo_fast_offset): there,
 * distances from the position are exact to the fast method's accuracy, and
 * the short polygon edges (a place, at most VG_POLYGON_MAX_EXTENT_M across)
 * stay straight to well under a millimetre, so the planar point-to-segment
 * distance is the geodesic one. */
#include "core/zone.h"

#include <math.h>

#include "core/err.h"

#define DEG_TO_RAD (3.14159265358979323846 / 180.0)

/* Two vertices closer than this are the same point. */
#define VERTEX_MIN_SEPARATION_M 0.01
/* A polygon smaller than this (square metres) has no inside worth the name. */
#define POLYGON_MIN_AREA_M2 1.0

static int check_category(unsigned category)
{
    return category >= VG_ZONE_PROTECTED_HOME && category <= VG_ZONE_OTHER ? VG_OK : VG_EINVAL;
}

static int check_radius(double r)
{
    if (!isfinite(r))
        return VG_EINVAL;
    if (r < VG_ALERT_RADIUS_MIN_M || r > VG_ALERT_RADIUS_MAX_M)
        return VG_ERANGE;
    return VG_OK;
}

int vg_zone_init_circle(struct vg_zone *z, uint32_t id, enum vg_zone_category category,
                        struct vg_geo_point centre, double alert_radius_m)
{
    int rc;
    if ((rc = check_category(category)) != VG_OK || (rc = vg_geo_point_check(centre)) != VG_OK ||
        (rc = check_radius(alert_radius_m)) != VG_OK)
        return rc;
    *z = (struct vg_zone){
        .id = id,
        .shape = VG_ZONE_CIRCLE,
        .category = (uint8_t)category,
        .alert_radius_m = alert_radius_m,
    };
    vg_geo_prepare(&z->centre, centre);
    return VG_OK;
}

struct planar {
    double x, y;
};

static double cross(struct planar o, struct planar a, struct planar b)
{
    return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

static bool on_segment(struct planar a, struct planar b, struct planar p)
{
    return fmin(a.x, b.x) <= p.x && p.x <= fmax(a.x, b.x) && fmin(a.y, b.y) <= p.y &&
           p.y <= fmax(a.y, b.y);
}

/* Whether segments ab and cd share a point (touching counts). */
static bool segments_meet(struct planar a, struct planar b, struct planar c, struct planar d)
{
    double d1 = cross(c, d, a), d2 = cross(c, d, b), d3 = cross(a, b, c), d4 = cross(a, b, d);
    if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)))
        return true;
    return (d1 == 0 && on_segment(c, d, a)) || (d2 == 0 && on_segment(c, d, b)) ||
           (d3 == 0 && on_segment(a, b, c)) || (d4 == 0 && on_segment(a, b, d));
}

/* Distance from the origin to segment ab. */
static double origin_to_segment(struct planar a, struct planar b)
{
    double dx = b.x - a.x, dy = b.y - a.y;
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0.0 ? -(a.x * dx + a.y * dy) / len2 : 0.0;
    if (t < 0.0)
        t = 0.0;
    else if (t > 1.0)
        t = 1.0;
    double px = a.x + t * dx, py = a.y + t * dy;
    return sqrt(px * px + py * py);
}

static void vertex_offset(const struct vg_geo_prepared *from, struct vg_geo_point v,
                          struct planar *out)
{
    vg_geo_fast_offset_rad(from, v.lat_deg * DEG_TO_RAD, v.lon_deg * DEG_TO_RAD, &out->x, &out->y);
}

static int fail_with(const char **why, const char *text, int rc)
{
    if (why)
        *why = text;
    return rc;
}

int vg_zone_init_polygon(struct vg_zone *z, uint32_t id, enum vg_zone_category category,
                         const struct vg_geo_point *vertices, size_t n, double alert_radius_m,
                         const char **why)
{
    int rc;
    if ((rc = check_category(category)) != VG_OK)
        return fail_with(why, "unknown zone category", rc);
    if ((rc = check_radius(alert_radius_m)) != VG_OK)
        return fail_with(why, "alert distance must be between 1 km and 10 km", rc);
    if (vertices == NULL || n < 3)
        return fail_with(why, "a polygon needs at least 3 vertices", VG_EINVAL);
    for (size_t i = 0; i < n; i++)
        if ((rc = vg_geo_point_check(vertices[i])) != VG_OK)
            return fail_with(why, "a vertex is not a valid latitude/longitude", rc);
    /* GeoJSON repeats the first vertex at the end of a ring. */
    if (vertices[n - 1].lat_deg == vertices[0].lat_deg &&
        vertices[n - 1].lon_deg == vertices[0].lon_deg)
        n--;
    if (n < 3)
        return fail_with(why, "a polygon needs at least 3 distinct vertices", VG_EINVAL);
    if (n > VG_POLYGON_MAX_VERTICES)
        return fail_with(why, "too many vertices (at most 64)", VG_ERANGE);

    /* Reference point: the vertices' mean, longitudes taken relative to the
     * first vertex so that a polygon across the antimeridian averages right. */
    double lat_sum = 0, dlon_sum = 0;
    for (size_t i = 0; i < n; i++) {
        double dlon = vertices[i].lon_deg - vertices[0].lon_deg;
        if (dlon > 180)
            dlon -= 360;
        else if (dlon < -180)
            dlon += 360;
        lat_sum += vertices[i].lat_deg;
        dlon_sum += dlon;
    }
    struct vg_geo_point ref = {lat_sum / (double)n, vertices[0].lon_deg + dlon_sum / (double)n};
    if (ref.lon_deg > 180)
        ref.lon_deg -= 360;
    else if (ref.lon_deg < -180)
        ref.lon_deg += 360;
    if (vg_geo_point_check(ref) != VG_OK) /* a ring around a pole */
        return fail_with(why, "the polygon is not a small place", VG_ERANGE);

    struct vg_geo_prepared centre;
    vg_geo_prepare(&centre, ref);
    struct planar pts[VG_POLYGON_MAX_VERTICES];
    double bound = 0;
    for (size_t i = 0; i < n; i++) {
        vertex_offset(&centre, vertices[i], &pts[i]);
        double r = hypot(pts[i].x, pts[i].y);
        if (r > bound)
            bound = r;
    }
    if (bound > VG_POLYGON_MAX_EXTENT_M)
        return fail_with(why, "a vertex lies more than 5 km from the polygon's centre", VG_ERANGE);

    double area2 = 0;
    for (size_t i = 0; i < n; i++) {
        struct planar a = pts[i], b = pts[(i + 1) % n];
        if (hypot(b.x - a.x, b.y - a.y) < VERTEX_MIN_SEPARATION_M)
            return fail_with(why, "two consecutive vertices are the same point", VG_EINVAL);
        area2 += a.x * b.y - b.x * a.y;
    }

    for (size_t i = 0; i < n; i++) {
        struct planar a = pts[i], b = pts[(i + 1) % n], c = pts[(i + 2) % n];
        /* an edge that doubles back on the previous one (a spike) */
        if (fabs(cross(a, b, c)) <= 1e-9 * (1 + fabs(a.x) + fabs(a.y)) &&
            (b.x - a.x) * (c.x - b.x) + (b.y - a.y) * (c.y - b.y) < 0)
            return fail_with(why, "the outline doubles back on itself", VG_EINVAL);
        for (size_t j = i + 2; j < n; j++) {
            if (i == 0 && j == n - 1)
                continue; /* adjacent through the closing edge */
            if (segments_meet(a, b, pts[j], pts[(j + 1) % n]))
                return fail_with(why, "the outline crosses itself", VG_EINVAL);
        }
    }
    /* after the crossing test: a bow tie's two halves cancel out in the area */
    if (fabs(area2) / 2 < POLYGON_MIN_AREA_M2)
        return fail_with(why, "the polygon has no area (its vertices are aligned)", VG_EINVAL);

    *z = (struct vg_zone){
        .id = id,
        .shape = VG_ZONE_POLYGON,
        .category = (uint8_t)category,
        .n_vertices = (uint16_t)n,
        .alert_radius_m = alert_radius_m,
        .centre = centre,
        .bound_radius_m = bound,
        .vertices = vertices,
    };
    return VG_OK;
}

int vg_zone_set_windows(struct vg_zone *z, const struct vg_window *windows, size_t n)
{
    if (n > VG_ZONE_MAX_WINDOWS)
        return VG_ERANGE;
    if (n > 0 && windows == NULL)
        return VG_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (vg_window_check(&windows[i]) != VG_OK)
            return VG_EINVAL;
    z->windows = n > 0 ? windows : NULL;
    z->n_windows = (uint16_t)n;
    return VG_OK;
}

int vg_zone_check(const struct vg_zone *z)
{
    if (z == NULL)
        return VG_EINVAL;
    if (check_category(z->category) != VG_OK)
        return VG_EINVAL;
    int rc = check_radius(z->alert_radius_m);
    if (rc != VG_OK)
        return rc;
    struct vg_geo_point c = {z->centre.lat_rad / DEG_TO_RAD, z->centre.lon_rad / DEG_TO_RAD};
    if (vg_geo_point_check(c) != VG_OK || !isfinite(z->centre.sin_lat) ||
        !isfinite(z->centre.cos_lat))
        return VG_EINVAL;
    switch (z->shape) {
    case VG_ZONE_CIRCLE:
        if (z->n_vertices != 0)
            return VG_EINVAL;
        break;
    case VG_ZONE_POLYGON:
        if (z->vertices == NULL || z->n_vertices < 3 || z->n_vertices > VG_POLYGON_MAX_VERTICES ||
            !(z->bound_radius_m >= 0 && z->bound_radius_m <= VG_POLYGON_MAX_EXTENT_M))
            return VG_EINVAL;
        for (size_t i = 0; i < z->n_vertices; i++)
            if (vg_geo_point_check(z->vertices[i]) != VG_OK)
                return VG_EINVAL;
        break;
    default: return VG_EINVAL;
    }
    if (z->n_windows > VG_ZONE_MAX_WINDOWS || (z->n_windows > 0 && z->windows == NULL))
        return VG_EINVAL;
    for (size_t i = 0; i < z->n_windows; i++)
        if (vg_window_check(&z->windows[i]) != VG_OK)
            return VG_EINVAL;
    return VG_OK;
}

static double polygon_distance(const struct vg_zone *z, const struct vg_geo_prepared *p)
{
    struct planar first, prev, cur;
    vertex_offset(p, z->vertices[0], &first);
    prev = first;
    double best = HUGE_VAL;
    bool inside = false;
    for (size_t i = 1; i <= z->n_vertices; i++) {
        if (i < z->n_vertices)
            vertex_offset(p, z->vertices[i], &cur);
        else
            cur = first;
        double d = origin_to_segment(prev, cur);
        if (d < best)
            best = d;
        /* crossing number: does edge prev-cur cross the ray y = 0, x > 0? */
        if ((prev.y > 0) != (cur.y > 0)) {
            double x = prev.x + (0 - prev.y) * (cur.x - prev.x) / (cur.y - prev.y);
            if (x > 0)
                inside = !inside;
        }
        prev = cur;
    }
    return inside ? 0.0 : best;
}

double vg_zone_distance(const struct vg_zone *z, const struct vg_geo_prepared *p, double beyond_m)
{
    /* Most zones are far from most fixes: say so at the price of a few
     * multiplications. q / ratio never exceeds the true distance to the
     * centre (up to 100 km, and beyond_m is far less), so neither does
     * what is returned here. */
    double lower =
        vg_geo_quick_distance(&z->centre, p) / VG_GEO_QUICK_MAX_RATIO - z->bound_radius_m;
    if (lower > beyond_m)
        return lower;
    double to_centre = vg_geo_fast_distance(&z->centre, p);
    if (z->shape != VG_ZONE_POLYGON)
        return to_centre;
    /* No part of the polygon is nearer than this: enough to say "far". */
    lower = to_centre - z->bound_radius_m;
    if (lower > beyond_m)
        return lower;
    return polygon_distance(z, p);
}
