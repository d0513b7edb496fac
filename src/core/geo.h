/* Geodesy on the WGS84 ellipsoid: distance, initial bearing, destination.
 *
 * Two methods, one answer:
 * - the fast local method (the engine's hot path): an ellipsoidal flat-earth
 *   approximation using the meridian and normal radii at the mid-latitude of
 *   the two points, plus the cubic correction term of its series expansion.
 *   Against Karney's geodesics it is within 0.2 mm up to 20 km and 3 mm up to
 *   50 km for |latitude| <= 80 degrees (see docs/GEODESY.md and test_geo.c);
 * - Vincenty's iterative formulae, used where the fast method is not valid
 *   (beyond 50 km or near the poles) and for the destination point.
 * Coordinates are degrees; NaN, infinities and out-of-range values are
 * refused with VG_EINVAL / VG_ERANGE and never propagated. */
#ifndef VG_CORE_GEO_H
#define VG_CORE_GEO_H

#include <stdbool.h>

#define VG_GEO_WGS84_A 6378137.0
#define VG_GEO_WGS84_F (1.0 / 298.257223563)

/* The fast method is used up to this distance, and while the mid-latitude
 * stays within VG_GEO_FAST_MAX_LAT_DEG. */
#define VG_GEO_FAST_MAX_DISTANCE_M 50000.0
#define VG_GEO_FAST_MAX_LAT_DEG    80.0

struct vg_geo_point {
    double lat_deg; /* [-90, 90] */
    double lon_deg; /* [-180, 180] */
};

/* A point prepared for repeated distance computations. Only build it with
 * vg_geo_prepare() from a point that passed vg_geo_point_check(). */
struct vg_geo_prepared {
    double lat_rad;
    double lon_rad;
    double sin_lat;
    double cos_lat;
};

/* 0 if lat/lon form a valid position; VG_EINVAL for NaN or infinities,
 * VG_ERANGE for finite values outside [-90, 90] x [-180, 180]. */
int vg_geo_point_check(struct vg_geo_point p);

/* Prepare a checked point. */
void vg_geo_prepare(struct vg_geo_prepared *out, struct vg_geo_point p);

/* Distance (metres) and initial bearing (degrees clockwise from north, in
 * [0, 360)) from a to b. Either output may be NULL. Identical points give
 * distance 0 and bearing 0. Uses the fast method where it is valid and
 * Vincenty's inverse formula elsewhere. */
int vg_geo_inverse(struct vg_geo_point a, struct vg_geo_point b, double *distance_m,
                   double *bearing_deg);

/* The point reached from `from` along the geodesic that leaves at
 * bearing_deg, after distance_m metres (0 <= distance_m <= 20,000 km). */
int vg_geo_destination(struct vg_geo_point from, double bearing_deg, double distance_m,
                       struct vg_geo_point *to);

/* Hot path: distance in metres between two prepared points with the fast
 * method. Accurate where vg_geo_fast_valid() holds; beyond, its error grows
 * (about 0.1% at 500 km) but the result stays finite and monotonic enough
 * to say "far", which is all the engine asks of it there. */
double vg_geo_fast_distance(const struct vg_geo_prepared *a, const struct vg_geo_prepared *b);

/* Hot path: b seen from a in an azimuthal equidistant frame centred on a
 * (x east, y north, metres): hypot(x, y) is the fast distance and atan2(x, y)
 * the initial bearing at a. Polygon distances are computed in this frame. */
void vg_geo_fast_offset(const struct vg_geo_prepared *a, const struct vg_geo_prepared *b,
                        double *x_m, double *y_m);

/* The same with b given in radians (no need to prepare it): for polygon
 * vertices, whose trigonometry the method does not use. */
void vg_geo_fast_offset_rad(const struct vg_geo_prepared *a, double b_lat_rad, double b_lon_rad,
                            double *x_m, double *y_m);

/* A quick estimate of the distance (metres) for deciding that two points
 * are surely far apart, or surely near, without the exact method: within a
 * factor VG_GEO_QUICK_MAX_RATIO of the true distance for any two points
 * less than 100 km apart with |latitude| <= 80 degrees (test_geo.c checks
 * it). Beyond, it is only a rough order of magnitude. */
#define VG_GEO_QUICK_MAX_RATIO 1.05
double vg_geo_quick_distance(const struct vg_geo_prepared *a, const struct vg_geo_prepared *b);

/* Whether the fast method holds its documented accuracy for a and b. */
bool vg_geo_fast_valid(const struct vg_geo_prepared *a, const struct vg_geo_prepared *b);

/* Vincenty's inverse formula, exposed for tests and tools; returns
 * VG_ERANGE for nearly antipodal points where it does not converge. */
int vg_geo_inverse_vincenty(struct vg_geo_point a, struct vg_geo_point b, double *distance_m,
                            double *bearing_deg);

#endif
