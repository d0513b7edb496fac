/* Helpers shared by the simulator's tests: scenarios from strings, the
 * data/geo directory (first argument of every test program). */
#ifndef VG_TESTS_SIM_TESTING_H
#define VG_TESTS_SIM_TESTING_H

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/testing.h"
#include "core/err.h"
#include "core/geo.h"
#include "sim/scenario.h"
#include "sim/world.h"

static const char *geo_dir = "data/geo";

/* 2026-03-04T07:00:00Z, a Wednesday in winter time (Paris = UTC+1). */
#define WINTER_START_MS 1772607600000LL
/* 2026-07-01T06:00:00Z, a Wednesday in summer time (Paris = UTC+2). */
#define SUMMER_START_MS 1782885600000LL

static inline struct vg_sim_scenario *must_parse(const char *json)
{
    struct vg_sim_scenario *sc = NULL;
    char err[512] = "";
    int rc = vg_sim_scenario_parse(json, strlen(json), geo_dir, &sc, err, sizeof err);
    if (rc != VG_OK)
        fail_msg("scenario refused (%d): %s\n%s", rc, err, json);
    return sc;
}

/* The scenario must be refused with a message containing `expected`. */
static inline void must_refuse(const char *json, const char *expected)
{
    struct vg_sim_scenario *sc = NULL;
    char err[512] = "";
    int rc = vg_sim_scenario_parse(json, strlen(json), geo_dir, &sc, err, sizeof err);
    if (rc >= 0)
        fail_msg("accepted, but should be refused with \"%s\":\n%s", expected, json);
    assert_null(sc);
    if (!strstr(err, expected))
        fail_msg("refused with \"%s\", expected a message containing \"%s\"", err, expected);
}

static inline struct vg_sim_world *must_world(const struct vg_sim_scenario *sc, uint64_t seed,
                                              int64_t start_ms)
{
    struct vg_sim_world *w = NULL;
    char err[512] = "";
    int rc = vg_sim_world_new(sc, seed, start_ms, &w, err, sizeof err);
    if (rc != VG_OK)
        fail_msg("world refused (%d): %s", rc, err);
    return w;
}

static inline double dist_m(double lat1, double lon1, double lat2, double lon2)
{
    double d = -1.0;
    assert_int_equal(vg_geo_inverse((struct vg_geo_point){lat1, lon1},
                                    (struct vg_geo_point){lat2, lon2}, &d, NULL),
                     VG_OK);
    return d;
}

static inline struct vg_geo_point dest(double lat, double lon, double bearing, double d)
{
    struct vg_geo_point p;
    assert_int_equal(vg_geo_destination((struct vg_geo_point){lat, lon}, bearing, d, &p), VG_OK);
    return p;
}

static inline struct vg_sim_position pos_at(const struct vg_sim_scenario *sc, size_t unit,
                                            double t_s)
{
    struct vg_sim_position p;
    assert_int_equal(vg_sim_scenario_position(sc, unit, t_s, &p), VG_OK);
    return p;
}

/* An independent reading of the communes file: the test's own ray casting
 * over every ring of the commune named `name` (as the file spells it). The
 * file is read once per program and kept (reachable) until exit. */
static inline bool commune_contains_ref(const char *name, double lat, double lon)
{
    static json_t *root;
    if (!root) {
        char path[1024];
        snprintf(path, sizeof path, "%s/communes-44-loire-atlantique.geojson", geo_dir);
        json_error_t je;
        root = json_load_file(path, 0, &je);
        assert_non_null(root);
    }
    json_t *features = json_object_get(root, "features"), *f;
    size_t i;
    bool inside = false, found = false;
    json_array_foreach(features, i, f)
    {
        json_t *props = json_object_get(f, "properties");
        if (strcmp(json_string_value(json_object_get(props, "nom")), name) != 0)
            continue;
        found = true;
        json_t *g = json_object_get(f, "geometry");
        json_t *coords = json_object_get(g, "coordinates");
        bool multi = strcmp(json_string_value(json_object_get(g, "type")), "MultiPolygon") == 0;
        size_t np = multi ? json_array_size(coords) : 1;
        for (size_t k = 0; k < np; k++) {
            json_t *poly = multi ? json_array_get(coords, k) : coords;
            for (size_t r = 0; r < json_array_size(poly); r++) {
                json_t *ring = json_array_get(poly, r);
                size_t n = json_array_size(ring);
                for (size_t a = 0, b = n - 1; a < n; b = a++) {
                    double xa = json_number_value(json_array_get(json_array_get(ring, a), 0));
                    double ya = json_number_value(json_array_get(json_array_get(ring, a), 1));
                    double xb = json_number_value(json_array_get(json_array_get(ring, b), 0));
                    double yb = json_number_value(json_array_get(json_array_get(ring, b), 1));
                    if ((ya > lat) != (yb > lat) && lon < (xb - xa) * (lat - ya) / (yb - ya) + xa)
                        inside = !inside;
                }
            }
        }
    }
    assert_true(found);
    return inside;
}

#define SIM_TEST_MAIN(...)                                                                         \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        if (argc > 1)                                                                              \
            geo_dir = argv[1];                                                                     \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                                           \
        return cmocka_run_group_tests(tests, NULL, NULL);                                          \
    }

#endif
