/* A parsed scenario: accessors, clean-up, loading from a file, and the
 * pieces the parser and the population share (measures, areas). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sim/sim_internal.h"

#define MAX_FILE_BYTES (64L << 20)

void vg__sim_measure_cleanup(struct vg__sim_measure *m)
{
    for (size_t i = 0; i < m->n_zones; i++) {
        free(m->zones[i].vertices);
        free(m->zones[i].windows);
        m->zones[i].vertices = NULL;
        m->zones[i].windows = NULL;
    }
    m->n_zones = 0;
}

void vg_sim_scenario_free(struct vg_sim_scenario *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->n_pairs; i++) {
        for (int r = 0; r < 2; r++) {
            free(sc->pairs[i].person[r].segs);
            free(sc->pairs[i].person[r].events);
        }
        vg__sim_measure_cleanup(&sc->pairs[i].measure);
    }
    free(sc->pairs);
    for (size_t i = 0; i < sc->n_areas; i++)
        free(sc->areas[i].vertices);
    free(sc->areas);
    vg__sim_communes_free(sc->communes);
    free(sc);
}

int vg_sim_scenario_load(const char *path, const char *geo_dir, struct vg_sim_scenario **out,
                         char *err, size_t err_len)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return vg__sim_fail(err, err_len, VG_ENOTFOUND, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || size > MAX_FILE_BYTES || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return vg__sim_fail(err, err_len, VG_ERANGE, "%s: not a readable file of at most 64 MiB",
                            path);
    }
    buf = malloc((size_t)size + 1);
    if (!buf) {
        fclose(f);
        return vg__sim_fail(err, err_len, VG_ENOSPC, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, (size_t)size, f);
    int read_error = ferror(f);
    fclose(f);
    if (read_error || n != (size_t)size) {
        free(buf);
        return vg__sim_fail(err, err_len, VG_EFORMAT, "%s: read error", path);
    }
    buf[n] = '\0';
    char inner[512];
    int rc = vg_sim_scenario_parse(buf, n, geo_dir, out, inner, sizeof inner);
    free(buf);
    if (rc)
        vg__sim_fail(err, err_len, rc, "%s: %s", path, inner);
    return rc;
}

size_t vg_sim_scenario_pairs(const struct vg_sim_scenario *sc)
{
    return sc->n_pairs;
}

int64_t vg_sim_scenario_duration_ms(const struct vg_sim_scenario *sc)
{
    return sc->duration_ms;
}

int64_t vg_sim_scenario_start_utc_ms(const struct vg_sim_scenario *sc)
{
    return sc->start_utc_ms;
}

const char *vg_sim_scenario_pair_name(const struct vg_sim_scenario *sc, size_t pair)
{
    return pair < sc->n_pairs ? sc->pairs[pair].name : NULL;
}

int vg_sim_scenario_position(const struct vg_sim_scenario *sc, size_t unit, double t_s,
                             struct vg_sim_position *out)
{
    if (unit / 2 >= sc->n_pairs || !isfinite(t_s))
        return VG_EINVAL;
    size_t cursor = 0;
    struct vg__sim_pos pos;
    vg__sim_position(&sc->pairs[unit / 2].person[unit % 2], t_s, &cursor, &pos);
    out->lat_deg = pos.lat_deg;
    out->lon_deg = pos.lon_deg;
    out->speed_mps = (double)pos.speed_mps;
    out->heading_deg = (double)pos.heading_deg;
    out->underground = pos.underground;
    return VG_OK;
}

const struct vg__sim_place *vg__sim_place_find(const struct vg__sim_person *p, const char *name)
{
    for (size_t i = 0; i < p->n_places; i++)
        if (strcmp(p->places[i].name, name) == 0)
            return &p->places[i];
    return NULL;
}

int vg_sim_scenario_place(const struct vg_sim_scenario *sc, size_t unit, const char *name,
                          struct vg_geo_point *out)
{
    if (unit / 2 >= sc->n_pairs || !name)
        return VG_EINVAL;
    const struct vg__sim_place *pl =
        vg__sim_place_find(&sc->pairs[unit / 2].person[unit % 2], name);
    if (!pl)
        return VG_ENOTFOUND;
    *out = pl->p;
    return VG_OK;
}

static const char *const role_names[2] = {"author", "protected"};

int vg__sim_measure_resolve(const struct vg__sim_measure_spec *spec,
                            const struct vg__sim_pair *pair, const char *pair_path,
                            struct vg__sim_measure *out, char *err, size_t len)
{
    memset(out, 0, sizeof *out);
    out->alert_radius_m = spec->m.alert_radius_m;
    for (size_t i = 0; i < spec->m.n_zones; i++) {
        const struct vg__sim_zone *src = &spec->m.zones[i];
        struct vg__sim_zone *z = &out->zones[i];
        *z = *src;
        z->vertices = NULL;
        z->windows = NULL;
        out->n_zones = i + 1;
        if (src->n_vertices) {
            z->vertices = malloc(src->n_vertices * sizeof *z->vertices);
            if (!z->vertices)
                goto nomem;
            memcpy(z->vertices, src->vertices, src->n_vertices * sizeof *z->vertices);
        }
        if (src->n_windows) {
            z->windows = malloc(src->n_windows * sizeof *z->windows);
            if (!z->windows)
                goto nomem;
            memcpy(z->windows, src->windows, src->n_windows * sizeof *z->windows);
        }
        if (spec->center_role[i] >= 0) {
            const struct vg__sim_place *pl =
                vg__sim_place_find(&pair->person[spec->center_role[i]], spec->center_name[i]);
            if (!pl) {
                vg__sim_measure_cleanup(out);
                return vg__sim_fail(err, len, VG_ENOTFOUND,
                                    "%s.zones[%zu].center: %s has no place \"%s.%s\"", spec->path,
                                    i, pair_path, role_names[spec->center_role[i]],
                                    spec->center_name[i]);
            }
            z->center = pl->p;
        }
    }
    return VG_OK;
nomem:
    vg__sim_measure_cleanup(out);
    return vg__sim_fail(err, len, VG_ENOSPC, "out of memory");
}

bool vg__sim_area_contains(const struct vg_sim_scenario *sc, const struct vg__sim_area *a,
                           double lat_deg, double lon_deg)
{
    if (lat_deg < a->min_lat || lat_deg > a->max_lat || lon_deg < a->min_lon ||
        lon_deg > a->max_lon)
        return false;
    if (a->commune >= 0)
        return vg__sim_commune_contains(sc->communes, (size_t)a->commune, lat_deg, lon_deg);
    if (a->n_vertices) {
        bool inside = false;
        const struct vg_geo_point *v = a->vertices;
        for (size_t i = 0, j = a->n_vertices - 1; i < a->n_vertices; j = i++)
            if ((v[i].lat_deg > lat_deg) != (v[j].lat_deg > lat_deg) &&
                lon_deg < (v[j].lon_deg - v[i].lon_deg) * (lat_deg - v[i].lat_deg) /
                                  (v[j].lat_deg - v[i].lat_deg) +
                              v[i].lon_deg)
                inside = !inside;
        return inside;
    }
    struct vg_geo_prepared p;
    vg_geo_prepare(&p, (struct vg_geo_point){lat_deg, lon_deg});
    return vg_geo_fast_distance(&a->center, &p) <= a->radius_m;
}
