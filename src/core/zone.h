/* Fixed protection zones: a place (a point, or a polygon such as a school's
 * grounds) with its alert ring at distance R and its pre-alert ring at 2R,
 * and the time windows during which the author may be there.
 *
 * The distance from a position to a zone is the distance to its place:
 * to the centre of a circular zone; 0 inside a polygon, otherwise the
 * distance to the polygon's boundary. The author is in the alert zone when
 * that distance is at most R and in the pre-alert zone when at most 2R.
 * (The mobile zone around the protected person is the engine's affair.) */
#ifndef VG_CORE_ZONE_H
#define VG_CORE_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "core/geo.h"
#include "core/window.h"

/* The law bounds the alert distance: 1 km <= R <= 10 km; the pre-alert
 * distance is always 2R. */
#define VG_ALERT_RADIUS_MIN_M 1000.0
#define VG_ALERT_RADIUS_MAX_M 10000.0

#define VG_POLYGON_MAX_VERTICES 64
/* A polygon is a place, not a region: every vertex must lie within this
 * distance of the polygon's reference point (which also keeps every
 * distance the engine computes inside the fast method's domain). */
#define VG_POLYGON_MAX_EXTENT_M 5000.0
#define VG_ZONE_MAX_WINDOWS     16

enum vg_zone_shape {
    VG_ZONE_CIRCLE = 1,
    VG_ZONE_POLYGON = 2,
};

enum vg_zone_category {
    VG_ZONE_PROTECTED_HOME = 1,
    VG_ZONE_PROTECTED_WORKPLACE = 2,
    VG_ZONE_SCHOOL = 3,
    VG_ZONE_FREQUENTED_PLACE = 4,
    VG_ZONE_OTHER = 5,
};

struct vg_zone {
    uint32_t id;      /* the caller's identifier, copied into alarms */
    uint8_t shape;    /* enum vg_zone_shape */
    uint8_t category; /* enum vg_zone_category */
    uint16_t n_vertices;
    uint16_t n_windows;
    double alert_radius_m;               /* R of this zone */
    struct vg_geo_prepared centre;       /* circle: the centre; polygon: its reference point */
    double bound_radius_m;               /* polygon: no vertex is farther from centre */
    const struct vg_geo_point *vertices; /* polygon, borrowed (must outlive the zone) */
    const struct vg_window *windows;     /* borrowed (must outlive the zone) */
};

/* A circular zone. VG_EINVAL/VG_ERANGE for a bad centre, category or a
 * radius outside [VG_ALERT_RADIUS_MIN_M, VG_ALERT_RADIUS_MAX_M]. */
int vg_zone_init_circle(struct vg_zone *z, uint32_t id, enum vg_zone_category category,
                        struct vg_geo_point centre, double alert_radius_m);

/* A polygon zone over n vertices (borrowed; a closing vertex equal to the
 * first, as GeoJSON writes rings, is accepted and ignored). Refused with
 * VG_EINVAL: fewer than 3 distinct vertices, an invalid vertex, repeated
 * consecutive vertices, a self-intersecting or zero-area outline; with
 * VG_ERANGE: more than VG_POLYGON_MAX_VERTICES vertices, a vertex beyond
 * VG_POLYGON_MAX_EXTENT_M, a radius out of range. *why, if not NULL, is
 * set to a static English explanation on failure. */
int vg_zone_init_polygon(struct vg_zone *z, uint32_t id, enum vg_zone_category category,
                         const struct vg_geo_point *vertices, size_t n, double alert_radius_m,
                         const char **why);

/* Attach the authorisation windows (borrowed); VG_EINVAL if one is not
 * well-formed, VG_ERANGE beyond VG_ZONE_MAX_WINDOWS. */
int vg_zone_set_windows(struct vg_zone *z, const struct vg_window *windows, size_t n);

/* 0 if z is a zone as built by the init functions (used by the legal
 * validation of a measure). */
int vg_zone_check(const struct vg_zone *z);

/* Distance in metres from p to the zone's place (0 inside a polygon).
 * When the answer is surely greater than `beyond_m`, a cheaper estimate,
 * also greater than beyond_m, may be returned instead: a lower bound of
 * the distance when that is under 100 km (pass HUGE_VAL for the exact
 * value). */
double vg_zone_distance(const struct vg_zone *z, const struct vg_geo_prepared *p, double beyond_m);

#endif
