/* The communes of data/geo (GeoJSON polygons): find one by name or code,
 * test whether a point is inside, draw a point inside. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sim/sim_internal.h"

void vg__sim_communes_free(struct vg__sim_communes *cs)
{
    if (!cs)
        return;
    free(cs->communes);
    free(cs->rings);
    free(cs->points);
    free(cs);
}

/* Appends one linear ring ([[lon, lat], ...]) to cs. */
static int add_ring(struct vg__sim_communes *cs, json_t *ring, size_t *cap_rings,
                    size_t *cap_points)
{
    if (!json_is_array(ring) || json_array_size(ring) < 4)
        return VG_EFORMAT;
    size_t n = json_array_size(ring);
    if (cs->n_rings == *cap_rings) {
        size_t cap = *cap_rings ? 2 * *cap_rings : 256;
        void *p = realloc(cs->rings, cap * sizeof *cs->rings);
        if (!p)
            return VG_ENOSPC;
        cs->rings = p;
        *cap_rings = cap;
    }
    while (cs->n_points + n > *cap_points) {
        size_t cap = *cap_points ? 2 * *cap_points : 16384;
        void *p = realloc(cs->points, cap * 2 * sizeof *cs->points);
        if (!p)
            return VG_ENOSPC;
        cs->points = p;
        *cap_points = cap;
    }
    struct vg__sim_commune *c = &cs->communes[cs->n];
    for (size_t i = 0; i < n; i++) {
        json_t *pt = json_array_get(ring, i);
        if (!json_is_array(pt) || json_array_size(pt) < 2 ||
            !json_is_number(json_array_get(pt, 0)) || !json_is_number(json_array_get(pt, 1)))
            return VG_EFORMAT;
        double lon = json_number_value(json_array_get(pt, 0));
        double lat = json_number_value(json_array_get(pt, 1));
        if (vg_geo_point_check((struct vg_geo_point){lat, lon}) != VG_OK)
            return VG_EFORMAT;
        cs->points[2 * (cs->n_points + i)] = lon;
        cs->points[2 * (cs->n_points + i) + 1] = lat;
        if (lat < c->min_lat)
            c->min_lat = lat;
        if (lat > c->max_lat)
            c->max_lat = lat;
        if (lon < c->min_lon)
            c->min_lon = lon;
        if (lon > c->max_lon)
            c->max_lon = lon;
    }
    cs->rings[cs->n_rings++] = (struct vg__sim_ring){cs->n_points, n};
    cs->n_points += n;
    c->n_rings++;
    return VG_OK;
}

/* A Polygon's coordinates: rings (the first the outline, the others holes;
 * the even-odd rule over all rings handles both). */
static int add_polygon(struct vg__sim_communes *cs, json_t *rings, size_t *cap_rings,
                       size_t *cap_points)
{
    if (!json_is_array(rings) || json_array_size(rings) == 0)
        return VG_EFORMAT;
    size_t i;
    json_t *ring;
    json_array_foreach(rings, i, ring)
    {
        int rc = add_ring(cs, ring, cap_rings, cap_points);
        if (rc)
            return rc;
    }
    return VG_OK;
}

int vg__sim_communes_load(const char *path, struct vg__sim_communes **out, char *err, size_t len)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return vg__sim_fail(err, len, VG_ENOTFOUND, "cannot read the communes from %s: %s", path,
                            je.text);
    struct vg__sim_communes *cs = calloc(1, sizeof *cs);
    json_t *features = json_object_get(root, "features");
    int rc = VG_EFORMAT;
    size_t cap_rings = 0, cap_points = 0;
    if (!cs) {
        rc = VG_ENOSPC;
        goto fail;
    }
    if (!json_is_array(features) || json_array_size(features) == 0)
        goto fail;
    cs->communes = calloc(json_array_size(features), sizeof *cs->communes);
    if (!cs->communes) {
        rc = VG_ENOSPC;
        goto fail;
    }
    size_t i;
    json_t *f;
    json_array_foreach(features, i, f)
    {
        json_t *props = json_object_get(f, "properties");
        json_t *geom = json_object_get(f, "geometry");
        json_t *name = json_object_get(props, "nom");
        json_t *code = json_object_get(props, "code");
        json_t *type = json_object_get(geom, "type");
        json_t *coords = json_object_get(geom, "coordinates");
        if (!json_is_string(name) || !json_is_string(code) || !json_is_string(type) ||
            strlen(json_string_value(name)) >= sizeof cs->communes[0].name ||
            strlen(json_string_value(code)) >= sizeof cs->communes[0].code)
            goto fail;
        struct vg__sim_commune *c = &cs->communes[cs->n];
        strcpy(c->name, json_string_value(name));
        strcpy(c->code, json_string_value(code));
        c->first_ring = cs->n_rings;
        c->min_lat = c->min_lon = 1e9;
        c->max_lat = c->max_lon = -1e9;
        if (strcmp(json_string_value(type), "Polygon") == 0) {
            if ((rc = add_polygon(cs, coords, &cap_rings, &cap_points)))
                goto fail;
        } else if (strcmp(json_string_value(type), "MultiPolygon") == 0) {
            size_t k;
            json_t *poly;
            if (!json_is_array(coords)) {
                rc = VG_EFORMAT;
                goto fail;
            }
            json_array_foreach(coords, k, poly)
            {
                if ((rc = add_polygon(cs, poly, &cap_rings, &cap_points)))
                    goto fail;
            }
        } else {
            rc = VG_EFORMAT;
            goto fail;
        }
        if (c->n_rings == 0) {
            rc = VG_EFORMAT;
            goto fail;
        }
        cs->n++;
    }
    json_decref(root);
    *out = cs;
    return VG_OK;
fail:
    json_decref(root);
    vg__sim_communes_free(cs);
    if (rc == VG_ENOSPC)
        return vg__sim_fail(err, len, rc, "out of memory reading %s", path);
    return vg__sim_fail(err, len, VG_EFORMAT,
                        "%s is not a GeoJSON FeatureCollection of communes (Polygon or "
                        "MultiPolygon features with \"nom\" and \"code\")",
                        path);
}

long vg__sim_communes_find(const struct vg__sim_communes *cs, const char *name_or_code)
{
    for (size_t i = 0; i < cs->n; i++)
        if (strcmp(cs->communes[i].name, name_or_code) == 0 ||
            strcmp(cs->communes[i].code, name_or_code) == 0)
            return (long)i;
    /* The file drops the leading article ("Chapelle-sur-Erdre" for La
     * Chapelle-sur-Erdre): accept the official name too. */
    static const char *const articles[] = {"La ", "Le ", "Les ", "L'"};
    for (size_t a = 0; a < sizeof articles / sizeof articles[0]; a++) {
        size_t n = strlen(articles[a]);
        if (strncmp(name_or_code, articles[a], n) == 0 && name_or_code[n])
            for (size_t i = 0; i < cs->n; i++)
                if (strcmp(cs->communes[i].name, name_or_code + n) == 0)
                    return (long)i;
    }
    return -1;
}

/* Even-odd rule over every ring of the commune, in the (lon, lat) plane:
 * communes are a few kilometres across, where that plane's distortion
 * does not move a boundary. */
bool vg__sim_commune_contains(const struct vg__sim_communes *cs, size_t commune, double lat_deg,
                              double lon_deg)
{
    const struct vg__sim_commune *c = &cs->communes[commune];
    if (lat_deg < c->min_lat || lat_deg > c->max_lat || lon_deg < c->min_lon ||
        lon_deg > c->max_lon)
        return false;
    bool inside = false;
    for (size_t r = c->first_ring; r < c->first_ring + c->n_rings; r++) {
        const double *p = cs->points + 2 * cs->rings[r].first;
        size_t n = cs->rings[r].n;
        for (size_t i = 0, j = n - 1; i < n; j = i++) {
            double xi = p[2 * i], yi = p[2 * i + 1], xj = p[2 * j], yj = p[2 * j + 1];
            if ((yi > lat_deg) != (yj > lat_deg) &&
                lon_deg < (xj - xi) * (lat_deg - yi) / (yj - yi) + xi)
                inside = !inside;
        }
    }
    return inside;
}

int vg__sim_commune_draw(const struct vg__sim_communes *cs, size_t commune, struct vg_prng *rng,
                         struct vg_geo_point *out)
{
    const struct vg__sim_commune *c = &cs->communes[commune];
    for (int attempt = 0; attempt < 100000; attempt++) {
        double lat = vg_prng_range(rng, c->min_lat, c->max_lat);
        double lon = vg_prng_range(rng, c->min_lon, c->max_lon);
        if (vg__sim_commune_contains(cs, commune, lat, lon)) {
            *out = (struct vg_geo_point){lat, lon};
            return VG_OK;
        }
    }
    return VG_ENOTFOUND;
}
