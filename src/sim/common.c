/* Small helpers shared by the simulator's files. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "sim/sim_internal.h"

int vg__sim_fail(char *err, size_t len, int rc, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t vg__sim_mix(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
    /* Chained rather than xored, so that the order of the parts matters. */
    return splitmix64(splitmix64(splitmix64(splitmix64(seed) ^ a) ^ b) ^ c);
}

struct vg_geo_point vg__sim_offset(double lat_deg, double lon_deg, double east_m, double north_m)
{
    const double a = VG_GEO_WGS84_A, f = VG_GEO_WGS84_F;
    const double e2 = f * (2.0 - f);
    const double deg = 3.14159265358979323846 / 180.0;
    double s = sin(lat_deg * deg);
    double w = sqrt(1.0 - e2 * s * s);
    double meridian = a * (1.0 - e2) / (w * w * w);
    double normal = a / w;
    struct vg_geo_point p;
    p.lat_deg = lat_deg + north_m / meridian / deg;
    p.lon_deg = lon_deg + east_m / (normal * cos(lat_deg * deg)) / deg;
    if (p.lon_deg > 180.0)
        p.lon_deg -= 360.0;
    else if (p.lon_deg < -180.0)
        p.lon_deg += 360.0;
    if (p.lat_deg > 90.0)
        p.lat_deg = 90.0;
    else if (p.lat_deg < -90.0)
        p.lat_deg = -90.0;
    return p;
}
