/* Geodesy on WGS84. The fast method and its error budget are explained in
 * docs/GEODESY.md; the short version is in geo.h. */
#include "core/geo.h"

#include <math.h>

#include "core/err.h"

#define PI  3.14159265358979323846
#define DEG (PI / 180.0)

static const double wgs84_e2 = VG_GEO_WGS84_F * (2.0 - VG_GEO_WGS84_F);

int vg_geo_point_check(struct vg_geo_point p)
{
    if (!isfinite(p.lat_deg) || !isfinite(p.lon_deg))
        return VG_EINVAL;
    if (p.lat_deg < -90.0 || p.lat_deg > 90.0 || p.lon_deg < -180.0 || p.lon_deg > 180.0)
        return VG_ERANGE;
    return VG_OK;
}

void vg_geo_prepare(struct vg_geo_prepared *out, struct vg_geo_point p)
{
    out->lat_rad = p.lat_deg * DEG;
    out->lon_rad = p.lon_deg * DEG;
    out->sin_lat = sin(out->lat_rad);
    out->cos_lat = cos(out->lat_rad);
}

static double wrap_pi(double x)
{
    if (x > PI)
        x -= 2.0 * PI;
    else if (x < -PI)
        x += 2.0 * PI;
    return x;
}

static double normalize_bearing(double deg)
{
    double r = fmod(deg, 360.0);
    if (r < 0.0)
        r += 360.0;
    if (r >= 360.0) /* fmod of a tiny negative value rounds up to 360 */
        r = 0.0;
    return r;
}

/* sin and cos of the mid-latitude. Near a's latitude (the hot path: points
 * a few km apart) a short Taylor series from a's own sin/cos replaces two
 * libm calls; its first omitted term is below 1e-16 for |d| < 0.005 rad. */
static void mid_latitude_trig(const struct vg_geo_prepared *a, double b_lat, double *sin_m,
                              double *cos_m)
{
    double half = 0.5 * (b_lat - a->lat_rad);
    if (fabs(half) < 0.005) {
        double h2 = half * half;
        double cos_h = 1.0 - h2 * (0.5 - h2 * (1.0 / 24.0));
        double sin_h = half * (1.0 - h2 * (1.0 / 6.0 - h2 * (1.0 / 120.0)));
        *sin_m = a->sin_lat * cos_h + a->cos_lat * sin_h;
        *cos_m = a->cos_lat * cos_h - a->sin_lat * sin_h;
    } else {
        double mid = a->lat_rad + half;
        *sin_m = sin(mid);
        *cos_m = cos(mid);
    }
}

/* The local flat-earth components of b - a at the mid-latitude, and the
 * corrected distance. The correction is the cubic term of the series of the
 * (spherical) haversine around the flat estimate:
 *   s = D - E^2 (E^2 t^2 + N^2 (1 + 3 t^2)) / (24 D R^2),  t = tan(lat_m)
 * with E, N the east and north components and R^2 = M * N, the Gaussian
 * curvature radius squared. It removes the error that grows with D^3
 * (e.g. 7 cm at 20 km, 1 m at 50 km at 70 degrees of latitude). */
struct fast_parts {
    double east;  /* metres, along the parallel at the mid-latitude */
    double north; /* metres, along the meridian */
    double flat;  /* hypot(east, north) */
    double dist;  /* corrected distance */
    double dlon;  /* radians, wrapped */
    double dlat;  /* radians */
    double sin_m;
    double cos_m;
};

/* b is given by its latitude and longitude in radians: the method needs
 * a's trigonometry but not b's, which saves two libm calls per polygon
 * vertex. */
static void fast_parts(const struct vg_geo_prepared *a, double b_lat, double b_lon,
                       struct fast_parts *p)
{
    double sin_m, cos_m;
    mid_latitude_trig(a, b_lat, &sin_m, &cos_m);
    double w = 1.0 - wgs84_e2 * sin_m * sin_m;
    double normal = VG_GEO_WGS84_A / sqrt(w);
    double meridian = normal * (1.0 - wgs84_e2) / w;
    double dlon = wrap_pi(b_lon - a->lon_rad);
    double east = normal * cos_m * dlon;
    double north = meridian * (b_lat - a->lat_rad);
    double flat = sqrt(east * east + north * north);
    double dist = flat;
    /* Beyond 80 degrees tan^2 explodes; the uncorrected value stays finite
     * and vg_geo_inverse() uses Vincenty there anyway. */
    if (flat > 0.0 && cos_m > 0.17) {
        double t2 = (sin_m * sin_m) / (cos_m * cos_m);
        double e2 = east * east;
        dist -=
            e2 * (e2 * t2 + north * north * (1.0 + 3.0 * t2)) / (24.0 * flat * meridian * normal);
    }
    p->east = east;
    p->north = north;
    p->flat = flat;
    p->dist = dist;
    p->dlon = dlon;
    p->dlat = b_lat - a->lat_rad;
    p->sin_m = sin_m;
    p->cos_m = cos_m;
}

double vg_geo_fast_distance(const struct vg_geo_prepared *a, const struct vg_geo_prepared *b)
{
    struct fast_parts p;
    fast_parts(a, b->lat_rad, b->lon_rad, &p);
    return p.dist;
}

/* Unit vector (x east, y north) of the initial bearing at a, from the
 * mid-latitude components. On the sphere, Delambre's analogies give the
 * mean azimuth (a1 + a2) / 2 as atan2(sin(dlon/2) cos(lat_m),
 * sin(dlat/2) cos(dlon/2)) and half the meridian convergence (a2 - a1) / 2
 * as atan(tan(dlon/2) sin(lat_m) / cos(dlat/2)); their series to the third
 * order, applied to the ellipsoidal components, take the bearing error from
 * 1.5 cm to 0.1 mm of lateral offset at 20 km (docs/GEODESY.md). */
static void initial_bearing_vector(const struct fast_parts *p, double *ux, double *uy)
{
    double dl2 = p->dlon * p->dlon, dp2 = p->dlat * p->dlat;
    double ex = p->east * (1.0 - dl2 * (1.0 / 24.0));
    double ny = p->north * (1.0 - dp2 * (1.0 / 24.0) - dl2 * (1.0 / 8.0));
    double h = 0.5 * p->dlon * p->sin_m;
    double half = h * (1.0 + dl2 * (1.0 / 12.0) + dp2 * (1.0 / 8.0)) - h * h * h * (1.0 / 3.0);
    double cos_h, sin_h;
    if (fabs(half) < 0.01) {
        double h2 = half * half;
        cos_h = 1.0 - h2 * (0.5 - h2 * (1.0 / 24.0));
        sin_h = half * (1.0 - h2 * (1.0 / 6.0));
    } else {
        cos_h = cos(half);
        sin_h = sin(half);
    }
    double len = sqrt(ex * ex + ny * ny);
    ex /= len;
    ny /= len;
    /* turn the mean azimuth back by half the convergence */
    *ux = ex * cos_h - ny * sin_h;
    *uy = ny * cos_h + ex * sin_h;
}

void vg_geo_fast_offset(const struct vg_geo_prepared *a, const struct vg_geo_prepared *b,
                        double *x_m, double *y_m)
{
    vg_geo_fast_offset_rad(a, b->lat_rad, b->lon_rad, x_m, y_m);
}

void vg_geo_fast_offset_rad(const struct vg_geo_prepared *a, double b_lat_rad, double b_lon_rad,
                            double *x_m, double *y_m)
{
    struct fast_parts p;
    fast_parts(a, b_lat_rad, b_lon_rad, &p);
    if (p.flat == 0.0) {
        *x_m = 0.0;
        *y_m = 0.0;
        return;
    }
    double ux, uy;
    initial_bearing_vector(&p, &ux, &uy);
    *x_m = p.dist * ux;
    *y_m = p.dist * uy;
}

double vg_geo_quick_distance(const struct vg_geo_prepared *a, const struct vg_geo_prepared *b)
{
    /* The mean meridian radius (M varies by +-0.5% with latitude), the
     * equatorial radius on the parallel of a (N is at most 0.34% larger)
     * and cos(lat_a) for cos(lat_m): together within 5% up to 100 km and
     * 80 degrees, at the cost of a few multiplications and one sqrt. */
    const double mean_meridian_radius = 6367449.146;
    double north = mean_meridian_radius * (b->lat_rad - a->lat_rad);
    double east = VG_GEO_WGS84_A * a->cos_lat * wrap_pi(b->lon_rad - a->lon_rad);
    return sqrt(north * north + east * east);
}

bool vg_geo_fast_valid(const struct vg_geo_prepared *a, const struct vg_geo_prepared *b)
{
    double mid = 0.5 * (a->lat_rad + b->lat_rad);
    if (fabs(mid) > VG_GEO_FAST_MAX_LAT_DEG * DEG)
        return false;
    return vg_geo_fast_distance(a, b) <= VG_GEO_FAST_MAX_DISTANCE_M;
}

int vg_geo_inverse_vincenty(struct vg_geo_point pa, struct vg_geo_point pb, double *distance_m,
                            double *bearing_deg)
{
    int rc = vg_geo_point_check(pa);
    if (rc == VG_OK)
        rc = vg_geo_point_check(pb);
    if (rc != VG_OK)
        return rc;

    const double a = VG_GEO_WGS84_A, f = VG_GEO_WGS84_F, b = a * (1.0 - f);
    double lat1 = pa.lat_deg * DEG, lat2 = pb.lat_deg * DEG;
    double L = wrap_pi((pb.lon_deg - pa.lon_deg) * DEG);
    double u1 = atan2((1.0 - f) * sin(lat1), cos(lat1));
    double u2 = atan2((1.0 - f) * sin(lat2), cos(lat2));
    double sin_u1 = sin(u1), cos_u1 = cos(u1), sin_u2 = sin(u2), cos_u2 = cos(u2);

    double lambda = L, sin_sigma = 0, cos_sigma = 0, sigma = 0, cos2_alpha = 0, cos_2sm = 0;
    double sin_lambda = 0, cos_lambda = 0;
    int iter;
    for (iter = 0; iter < 200; iter++) {
        sin_lambda = sin(lambda);
        cos_lambda = cos(lambda);
        double t1 = cos_u2 * sin_lambda;
        double t2 = cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lambda;
        sin_sigma = sqrt(t1 * t1 + t2 * t2);
        if (sin_sigma == 0.0) { /* coincident points */
            if (distance_m)
                *distance_m = 0.0;
            if (bearing_deg)
                *bearing_deg = 0.0;
            return VG_OK;
        }
        cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lambda;
        sigma = atan2(sin_sigma, cos_sigma);
        double sin_alpha = cos_u1 * cos_u2 * sin_lambda / sin_sigma;
        cos2_alpha = 1.0 - sin_alpha * sin_alpha;
        cos_2sm = cos2_alpha != 0.0 ? cos_sigma - 2.0 * sin_u1 * sin_u2 / cos2_alpha : 0.0;
        double C = f / 16.0 * cos2_alpha * (4.0 + f * (4.0 - 3.0 * cos2_alpha));
        double prev = lambda;
        lambda = L + (1.0 - C) * f * sin_alpha *
                         (sigma + C * sin_sigma *
                                      (cos_2sm + C * cos_sigma * (-1.0 + 2.0 * cos_2sm * cos_2sm)));
        if (fabs(lambda - prev) < 1e-13)
            break;
    }
    if (iter == 200 || fabs(lambda) > PI)
        return VG_ERANGE; /* nearly antipodal: Vincenty does not converge */

    double u_sq = cos2_alpha * (a * a - b * b) / (b * b);
    double A = 1.0 + u_sq / 16384.0 * (4096.0 + u_sq * (-768.0 + u_sq * (320.0 - 175.0 * u_sq)));
    double B = u_sq / 1024.0 * (256.0 + u_sq * (-128.0 + u_sq * (74.0 - 47.0 * u_sq)));
    double delta_sigma = B * sin_sigma *
                         (cos_2sm + B / 4.0 *
                                        (cos_sigma * (-1.0 + 2.0 * cos_2sm * cos_2sm) -
                                         B / 6.0 * cos_2sm * (-3.0 + 4.0 * sin_sigma * sin_sigma) *
                                             (-3.0 + 4.0 * cos_2sm * cos_2sm)));
    if (distance_m)
        *distance_m = b * A * (sigma - delta_sigma);
    if (bearing_deg) {
        double az = atan2(cos_u2 * sin_lambda, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lambda);
        *bearing_deg = normalize_bearing(az / DEG);
    }
    return VG_OK;
}

int vg_geo_inverse(struct vg_geo_point pa, struct vg_geo_point pb, double *distance_m,
                   double *bearing_deg)
{
    int rc = vg_geo_point_check(pa);
    if (rc == VG_OK)
        rc = vg_geo_point_check(pb);
    if (rc != VG_OK)
        return rc;

    struct vg_geo_prepared a, b;
    vg_geo_prepare(&a, pa);
    vg_geo_prepare(&b, pb);
    double mid = 0.5 * (a.lat_rad + b.lat_rad);
    if (fabs(mid) <= VG_GEO_FAST_MAX_LAT_DEG * DEG) {
        struct fast_parts p;
        fast_parts(&a, b.lat_rad, b.lon_rad, &p);
        if (p.dist <= VG_GEO_FAST_MAX_DISTANCE_M) {
            if (distance_m)
                *distance_m = p.dist;
            if (bearing_deg) {
                double ux = 0.0, uy = 1.0;
                if (p.flat > 0.0)
                    initial_bearing_vector(&p, &ux, &uy);
                *bearing_deg = normalize_bearing(atan2(ux, uy) / DEG);
            }
            return VG_OK;
        }
    }
    return vg_geo_inverse_vincenty(pa, pb, distance_m, bearing_deg);
}

int vg_geo_destination(struct vg_geo_point from, double bearing_deg, double distance_m,
                       struct vg_geo_point *to)
{
    int rc = vg_geo_point_check(from);
    if (rc != VG_OK)
        return rc;
    if (!isfinite(bearing_deg) || !isfinite(distance_m))
        return VG_EINVAL;
    if (distance_m < 0.0 || distance_m > 2.0e7)
        return VG_ERANGE;

    /* Vincenty's direct formula: converges everywhere, to well under a
     * millimetre; not on the hot path. */
    const double a = VG_GEO_WGS84_A, f = VG_GEO_WGS84_F, b = a * (1.0 - f);
    double alpha1 = normalize_bearing(bearing_deg) * DEG;
    double sin_a1 = sin(alpha1), cos_a1 = cos(alpha1);
    double lat1 = from.lat_deg * DEG;
    double u1 = atan2((1.0 - f) * sin(lat1), cos(lat1));
    double sin_u1 = sin(u1), cos_u1 = cos(u1);
    double sigma1 = atan2(sin_u1, cos_u1 * cos_a1);
    double sin_alpha = cos_u1 * sin_a1;
    double cos2_alpha = 1.0 - sin_alpha * sin_alpha;
    double u_sq = cos2_alpha * (a * a - b * b) / (b * b);
    double A = 1.0 + u_sq / 16384.0 * (4096.0 + u_sq * (-768.0 + u_sq * (320.0 - 175.0 * u_sq)));
    double B = u_sq / 1024.0 * (256.0 + u_sq * (-128.0 + u_sq * (74.0 - 47.0 * u_sq)));

    double sigma = distance_m / (b * A), cos_2sm = 0, sin_sigma = 0, cos_sigma = 0;
    for (int iter = 0; iter < 100; iter++) {
        cos_2sm = cos(2.0 * sigma1 + sigma);
        sin_sigma = sin(sigma);
        cos_sigma = cos(sigma);
        double delta_sigma =
            B * sin_sigma *
            (cos_2sm + B / 4.0 *
                           (cos_sigma * (-1.0 + 2.0 * cos_2sm * cos_2sm) -
                            B / 6.0 * cos_2sm * (-3.0 + 4.0 * sin_sigma * sin_sigma) *
                                (-3.0 + 4.0 * cos_2sm * cos_2sm)));
        double prev = sigma;
        sigma = distance_m / (b * A) + delta_sigma;
        if (fabs(sigma - prev) < 1e-13)
            break;
    }
    cos_2sm = cos(2.0 * sigma1 + sigma);
    sin_sigma = sin(sigma);
    cos_sigma = cos(sigma);

    double tmp = sin_u1 * sin_sigma - cos_u1 * cos_sigma * cos_a1;
    double lat2 = atan2(sin_u1 * cos_sigma + cos_u1 * sin_sigma * cos_a1,
                        (1.0 - f) * sqrt(sin_alpha * sin_alpha + tmp * tmp));
    double lambda = atan2(sin_sigma * sin_a1, cos_u1 * cos_sigma - sin_u1 * sin_sigma * cos_a1);
    double C = f / 16.0 * cos2_alpha * (4.0 + f * (4.0 - 3.0 * cos2_alpha));
    double L =
        lambda -
        (1.0 - C) * f * sin_alpha *
            (sigma + C * sin_sigma * (cos_2sm + C * cos_sigma * (-1.0 + 2.0 * cos_2sm * cos_2sm)));
    double lon2 = wrap_pi(from.lon_deg * DEG + L);

    to->lat_deg = lat2 / DEG;
    to->lon_deg = lon2 / DEG;
    if (to->lon_deg > 180.0) /* rounding at the antimeridian */
        to->lon_deg = 180.0;
    if (to->lon_deg < -180.0)
        to->lon_deg = -180.0;
    return VG_OK;
}
