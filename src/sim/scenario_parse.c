/* The scenario parser (docs/SCENARIOS.md): strict JSON, every refusal
 * names the path of the value it refuses. Everything drawn at random here
 * (points in communes, the wander at home) comes from the scenario's own
 * seed, so the movement is fixed by the file. */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/civil.h"
#include "core/err.h"
#include "core/window.h"
#include "sim/sim_internal.h"
#include "util/measure_json.h"
#include "util/tzload.h"

#define MAX_DURATION_S    (366.0 * 86400.0)
#define MAX_PAIRS         100000
#define MAX_TRIPS         10000
#define MAX_VIA           64
#define MAX_EVENTS        1024
#define MAX_AREAS         4096
#define MAX_AREA_VERTICES 4096
#define MIN_WINDOW_S      180.0
#define DEFAULT_WANDER_M  5.0

struct ctx {
    struct vg_sim_scenario *sc;
    const char *geo_dir;
    char *err;
    size_t len;
    double duration_s;
    struct vg__sim_gnss gnss; /* the scenario's defaults */
    struct vg__sim_measure_spec tmpl;
};

static const char *const role_names[2] = {"author", "protected"};

#define FAIL(c, rc, ...) vg__sim_fail((c)->err, (c)->len, (rc), __VA_ARGS__)

/* ---- JSON helpers ---- */

static int only_keys(struct ctx *c, json_t *obj, const char *path, const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        (void)value;
        bool known = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                known = true;
        if (!known)
            return FAIL(c, VG_EINVAL, "%s: unknown key \"%s\"", path, key);
    }
    return VG_OK;
}

static int need_object(struct ctx *c, json_t *v, const char *path)
{
    return json_is_object(v) ? VG_OK : FAIL(c, VG_EINVAL, "%s: must be an object", path);
}

/* A number in [lo, hi] at obj[key]; *found says whether it was there
 * (*out untouched otherwise). */
static int opt_number(struct ctx *c, json_t *obj, const char *path, const char *key, double lo,
                      double hi, double *out, bool *found)
{
    json_t *v = json_object_get(obj, key);
    if (found)
        *found = v != NULL;
    if (!v)
        return VG_OK;
    if (!json_is_number(v))
        return FAIL(c, VG_EINVAL, "%s.%s: must be a number", path, key);
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi)
        return FAIL(c, VG_ERANGE, "%s.%s: %.10g is outside %.10g..%.10g", path, key, x, lo, hi);
    *out = x;
    return VG_OK;
}

static int req_number(struct ctx *c, json_t *obj, const char *path, const char *key, double lo,
                      double hi, double *out)
{
    bool found;
    int rc = opt_number(c, obj, path, key, lo, hi, out, &found);
    if (rc == VG_OK && !found)
        rc = FAIL(c, VG_EINVAL, "%s.%s: is required", path, key);
    return rc;
}

/* A time of the run, seconds from its start, in [0, duration]. */
static int opt_time(struct ctx *c, json_t *obj, const char *path, const char *key, int64_t *ms,
                    bool *found)
{
    double s = 0.0;
    int rc = opt_number(c, obj, path, key, 0.0, c->duration_s, &s, found);
    if (rc == VG_ERANGE)
        return FAIL(c, rc, "%s.%s: %.10g s is outside the run (0..%.10g s)", path, key,
                    json_number_value(json_object_get(obj, key)), c->duration_s);
    if (rc == VG_OK && *found)
        *ms = llround(s * 1000.0);
    return rc;
}

static int parse_point(struct ctx *c, json_t *v, const char *path, struct vg_geo_point *out)
{
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_number(json_array_get(v, 0)) ||
        !json_is_number(json_array_get(v, 1)))
        return FAIL(c, VG_EINVAL, "%s: a point is [latitude, longitude] in degrees", path);
    out->lat_deg = json_number_value(json_array_get(v, 0));
    out->lon_deg = json_number_value(json_array_get(v, 1));
    if (vg_geo_point_check(*out) != VG_OK)
        return FAIL(c, VG_ERANGE,
                    "%s: [%.10g, %.10g] is not a position (latitude -90..90, longitude -180..180)",
                    path, out->lat_deg, out->lon_deg);
    return VG_OK;
}

static int need_communes(struct ctx *c, const char *path)
{
    if (c->sc->communes)
        return VG_OK;
    if (!c->geo_dir)
        return FAIL(c, VG_EINVAL, "%s: communes need the geo directory (data/geo)", path);
    char file[4096];
    snprintf(file, sizeof file, "%s/%s", c->geo_dir, VG__SIM_COMMUNES_FILE);
    char why[512];
    int rc = vg__sim_communes_load(file, &c->sc->communes, why, sizeof why);
    if (rc)
        return FAIL(c, rc, "%s: %s", path, why);
    return VG_OK;
}

static int find_commune(struct ctx *c, json_t *v, const char *path, long *out)
{
    int rc = need_communes(c, path);
    if (rc)
        return rc;
    if (!json_is_string(v))
        return FAIL(c, VG_EINVAL, "%s: a commune is named by its name or INSEE code", path);
    *out = vg__sim_communes_find(c->sc->communes, json_string_value(v));
    if (*out < 0)
        return FAIL(c, VG_ENOTFOUND, "%s: unknown commune \"%s\" (not in %s)", path,
                    json_string_value(v), VG__SIM_COMMUNES_FILE);
    return VG_OK;
}

static bool place_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > VG__SIM_PLACE_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* A place reference: "home" (the person's own, if self_role >= 0),
 * "author.home" or "protected.home". */
static int parse_ref(struct ctx *c, json_t *v, int self_role, const char *path, int *role,
                     char name[VG__SIM_PLACE_NAME_MAX + 1])
{
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    const char *dot = s ? strchr(s, '.') : NULL;
    if (s && dot) {
        size_t n = (size_t)(dot - s);
        *role = -1;
        for (int r = 0; r < 2; r++)
            if (strlen(role_names[r]) == n && strncmp(s, role_names[r], n) == 0)
                *role = r;
        if (*role >= 0 && place_name_ok(dot + 1)) {
            strcpy(name, dot + 1);
            return VG_OK;
        }
    } else if (s && self_role >= 0 && place_name_ok(s)) {
        *role = self_role;
        strcpy(name, s);
        return VG_OK;
    }
    if (self_role >= 0)
        return FAIL(c, VG_EINVAL,
                    "%s: a place is named like \"home\", \"author.home\" or \"protected.home\"",
                    path);
    return FAIL(c, VG_EINVAL, "%s: a place is named like \"author.home\" or \"protected.home\"",
                path);
}

/* ---- the error model ---- */

static int parse_gnss(struct ctx *c, json_t *g, const char *path, struct vg__sim_gnss *out)
{
    static const char *const keys[] = {"r95_m",
                                       "correlation_s",
                                       "canyon_factor",
                                       "outlier_rate_per_h",
                                       "canyon_outlier_rate_per_h",
                                       "outlier_min_m",
                                       "outlier_max_m",
                                       "outlier_min_s",
                                       "outlier_max_s",
                                       "outlier_reported_fraction",
                                       "accuracy_spread",
                                       "accuracy_correlation_s",
                                       "reacquire_s",
                                       "cold_start_after_s",
                                       "cold_reacquire_s",
                                       "cold_error_factor",
                                       NULL};
    int rc;
    if ((rc = need_object(c, g, path)) || (rc = only_keys(c, g, path, keys)) ||
        (rc = opt_number(c, g, path, "r95_m", 0.5, 1000.0, &out->r95_m, NULL)) ||
        (rc = opt_number(c, g, path, "correlation_s", 1.0, 3600.0, &out->correlation_s, NULL)) ||
        (rc = opt_number(c, g, path, "canyon_factor", 1.0, 100.0, &out->canyon_factor, NULL)) ||
        (rc = opt_number(c, g, path, "outlier_rate_per_h", 0.0, 3600.0, &out->outlier_rate_per_h,
                         NULL)) ||
        (rc = opt_number(c, g, path, "canyon_outlier_rate_per_h", 0.0, 3600.0,
                         &out->canyon_outlier_rate_per_h, NULL)) ||
        (rc = opt_number(c, g, path, "outlier_min_m", 1.0, 100000.0, &out->outlier_min_m, NULL)) ||
        (rc = opt_number(c, g, path, "outlier_max_m", 1.0, 100000.0, &out->outlier_max_m, NULL)) ||
        (rc = opt_number(c, g, path, "outlier_min_s", 1.0, 3600.0, &out->outlier_min_s, NULL)) ||
        (rc = opt_number(c, g, path, "outlier_max_s", 1.0, 3600.0, &out->outlier_max_s, NULL)) ||
        (rc = opt_number(c, g, path, "outlier_reported_fraction", 0.0, 1.0,
                         &out->outlier_reported_fraction, NULL)) ||
        (rc = opt_number(c, g, path, "accuracy_spread", 0.0, 2.0, &out->accuracy_spread, NULL)) ||
        (rc = opt_number(c, g, path, "accuracy_correlation_s", 1.0, 36000.0,
                         &out->accuracy_correlation_s, NULL)) ||
        (rc = opt_number(c, g, path, "reacquire_s", 0.0, 600.0, &out->reacquire_s, NULL)) ||
        (rc = opt_number(c, g, path, "cold_start_after_s", 0.0, 86400.0, &out->cold_start_after_s,
                         NULL)) ||
        (rc = opt_number(c, g, path, "cold_reacquire_s", 0.0, 600.0, &out->cold_reacquire_s,
                         NULL)) ||
        (rc = opt_number(c, g, path, "cold_error_factor", 1.0, 100.0, &out->cold_error_factor,
                         NULL)))
        return rc;
    if (out->outlier_max_m < out->outlier_min_m)
        return FAIL(c, VG_ERANGE, "%s.outlier_max_m: %.10g m is below outlier_min_m (%.10g m)",
                    path, out->outlier_max_m, out->outlier_min_m);
    if (out->outlier_max_s < out->outlier_min_s)
        return FAIL(c, VG_ERANGE, "%s.outlier_max_s: %.10g s is below outlier_min_s (%.10g s)",
                    path, out->outlier_max_s, out->outlier_min_s);
    return VG_OK;
}

/* ---- measures ---- */

static const struct {
    const char *name;
    enum vg_zone_category category;
} categories[] = {
    {"protected_home", VG_ZONE_PROTECTED_HOME},
    {"protected_workplace", VG_ZONE_PROTECTED_WORKPLACE},
    {"school", VG_ZONE_SCHOOL},
    {"frequented_place", VG_ZONE_FREQUENTED_PLACE},
    {"other", VG_ZONE_OTHER},
};

static int parse_hhmm(const char *s, unsigned *minutes)
{
    unsigned h, m;
    char tail;
    if (strlen(s) != 5 || s[2] != ':' || sscanf(s, "%2u:%2u%c", &h, &m, &tail) != 2)
        return VG_EINVAL;
    if (h > 24 || m > 59 || (h == 24 && m != 0))
        return VG_ERANGE;
    *minutes = h * 60 + m;
    return VG_OK;
}

static int parse_window(struct ctx *c, json_t *w, const char *path, struct vg__sim_window *out)
{
    int rc;
    memset(out, 0, sizeof *out);
    if ((rc = need_object(c, w, path)))
        return rc;
    if (json_object_get(w, "days")) {
        static const char *const keys[] = {"days", "start", "end", NULL};
        static const char *const names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
        if ((rc = only_keys(c, w, path, keys)))
            return rc;
        json_t *days = json_object_get(w, "days"), *d;
        size_t i;
        unsigned mask = 0;
        if (!json_is_array(days) || json_array_size(days) == 0)
            return FAIL(c, VG_EINVAL, "%s.days: a non-empty list like [\"wed\"]", path);
        json_array_foreach(days, i, d)
        {
            unsigned bit = 0;
            for (unsigned k = 0; k < 7; k++)
                if (json_is_string(d) && strcmp(json_string_value(d), names[k]) == 0)
                    bit = 1u << k;
            if (!bit)
                return FAIL(c, VG_EINVAL,
                            "%s.days[%zu]: days are mon, tue, wed, thu, fri, sat, sun", path, i);
            mask |= bit;
        }
        json_t *start = json_object_get(w, "start"), *end = json_object_get(w, "end");
        unsigned s, e;
        if (!json_is_string(start) || parse_hhmm(json_string_value(start), &s) != VG_OK ||
            s >= 1440)
            return FAIL(c, VG_EINVAL, "%s.start: a local time \"HH:MM\" (00:00..23:59)", path);
        if (!json_is_string(end) || parse_hhmm(json_string_value(end), &e) != VG_OK || e == 0)
            return FAIL(c, VG_EINVAL, "%s.end: a local time \"HH:MM\" (00:01..24:00)", path);
        struct vg_window check;
        if (vg_window_init_weekly(&check, mask, s, e) != VG_OK)
            return FAIL(c, VG_EINVAL, "%s: a slot cannot start and end at the same time", path);
        out->relative = 0;
        out->days = (uint8_t)mask;
        out->start_minute = (uint16_t)s;
        out->end_minute = (uint16_t)e;
        return VG_OK;
    }
    static const char *const keys[] = {"from_s", "to_s", NULL};
    bool found_from, found_to;
    if ((rc = only_keys(c, w, path, keys)))
        return FAIL(c, rc,
                    "%s: a window is {\"from_s\", \"to_s\"} (seconds of the run) or "
                    "{\"days\", \"start\", \"end\"} (weekly)",
                    path);
    if ((rc = opt_time(c, w, path, "from_s", &out->from_ms, &found_from)) ||
        (rc = opt_time(c, w, path, "to_s", &out->to_ms, &found_to)))
        return rc;
    if (!found_from || !found_to)
        return FAIL(c, VG_EINVAL, "%s: a window needs \"from_s\" and \"to_s\"", path);
    if ((double)(out->to_ms - out->from_ms) < MIN_WINDOW_S * 1000.0)
        return FAIL(c, VG_ERANGE,
                    "%s: a window lasts at least %.10g s (it is rounded inward to whole minutes)",
                    path, MIN_WINDOW_S);
    out->relative = 1;
    return VG_OK;
}

static int parse_zone(struct ctx *c, json_t *z, const char *path, double measure_r, size_t index,
                      struct vg__sim_measure_spec *spec)
{
    static const char *const keys[] = {
        "id", "category", "center", "vertices", "alert_radius_m", "windows", NULL};
    struct vg__sim_zone *zone = &spec->m.zones[index];
    int rc;
    if ((rc = need_object(c, z, path)) || (rc = only_keys(c, z, path, keys)))
        return rc;
    json_t *id = json_object_get(z, "id");
    if (id) {
        if (!json_is_integer(id) || json_integer_value(id) < 1 ||
            json_integer_value(id) > UINT32_MAX)
            return FAIL(c, VG_EINVAL, "%s.id: a positive integer", path);
        zone->id = (uint32_t)json_integer_value(id);
    } else {
        zone->id = (uint32_t)index + 1;
    }
    for (size_t k = 0; k < index; k++)
        if (spec->m.zones[k].id == zone->id)
            return FAIL(c, VG_EDUPLICATE, "%s.id: zone id %u is used twice", path, zone->id);
    json_t *cat = json_object_get(z, "category");
    int category = -1;
    for (size_t k = 0; k < sizeof categories / sizeof categories[0]; k++)
        if (json_is_string(cat) && strcmp(json_string_value(cat), categories[k].name) == 0)
            category = (int)categories[k].category;
    if (category < 0)
        return FAIL(c, VG_EINVAL,
                    "%s.category: protected_home, protected_workplace, school, frequented_place "
                    "or other",
                    path);
    zone->category = (uint8_t)category;
    zone->alert_radius_m = measure_r;
    if ((rc = opt_number(c, z, path, "alert_radius_m", VG_ALERT_RADIUS_MIN_M, VG_ALERT_RADIUS_MAX_M,
                         &zone->alert_radius_m, NULL)))
        return rc;
    json_t *center = json_object_get(z, "center"), *vertices = json_object_get(z, "vertices");
    char sub[256];
    spec->center_role[index] = -1;
    if ((center != NULL) == (vertices != NULL))
        return FAIL(c, VG_EINVAL,
                    "%s: a zone has a \"center\" (a circle) or \"vertices\" (a "
                    "polygon), one of them",
                    path);
    if (center) {
        snprintf(sub, sizeof sub, "%s.center", path);
        zone->shape = VG_ZONE_CIRCLE;
        if (json_is_string(center)) {
            int role;
            if ((rc = parse_ref(c, center, -1, sub, &role, spec->center_name[index])))
                return rc;
            spec->center_role[index] = (int8_t)role;
        } else if ((rc = parse_point(c, center, sub, &zone->center))) {
            return rc;
        }
    } else {
        snprintf(sub, sizeof sub, "%s.vertices", path);
        size_t n = json_is_array(vertices) ? json_array_size(vertices) : 0;
        if (n < 3 || n > VG_POLYGON_MAX_VERTICES + 1)
            return FAIL(c, VG_EINVAL, "%s: a list of 3 to %d points", sub, VG_POLYGON_MAX_VERTICES);
        zone->shape = VG_ZONE_POLYGON;
        zone->vertices = calloc(n, sizeof *zone->vertices);
        if (!zone->vertices)
            return FAIL(c, VG_ENOSPC, "out of memory");
        zone->n_vertices = n;
        for (size_t k = 0; k < n; k++) {
            char vp[300];
            snprintf(vp, sizeof vp, "%s[%zu]", sub, k);
            if ((rc = parse_point(c, json_array_get(vertices, k), vp, &zone->vertices[k])))
                return rc;
        }
        struct vg_zone check;
        const char *why = "invalid";
        if ((rc = vg_zone_init_polygon(&check, zone->id, (enum vg_zone_category)category,
                                       zone->vertices, n, zone->alert_radius_m, &why)))
            return FAIL(c, rc, "%s: %s", sub, why);
        zone->center = zone->vertices[0];
    }
    json_t *windows = json_object_get(z, "windows");
    if (windows) {
        snprintf(sub, sizeof sub, "%s.windows", path);
        if (!json_is_array(windows) || json_array_size(windows) > VG__SIM_MAX_WINDOWS)
            return FAIL(c, VG_EINVAL, "%s: a list of at most %d windows", sub, VG__SIM_MAX_WINDOWS);
        size_t n = json_array_size(windows);
        zone->windows = calloc(n ? n : 1, sizeof *zone->windows);
        if (!zone->windows)
            return FAIL(c, VG_ENOSPC, "out of memory");
        zone->n_windows = n;
        for (size_t k = 0; k < n; k++) {
            char wp[300];
            snprintf(wp, sizeof wp, "%s[%zu]", sub, k);
            if ((rc = parse_window(c, json_array_get(windows, k), wp, &zone->windows[k])))
                return rc;
        }
    }
    return VG_OK;
}

static int parse_measure(struct ctx *c, json_t *m, const char *path,
                         struct vg__sim_measure_spec *spec)
{
    static const char *const keys[] = {"alert_radius_m", "zones", NULL};
    int rc;
    memset(spec, 0, sizeof *spec);
    snprintf(spec->path, sizeof spec->path, "%s", path);
    spec->present = true;
    if ((rc = need_object(c, m, path)) || (rc = only_keys(c, m, path, keys)) ||
        (rc = req_number(c, m, path, "alert_radius_m", VG_ALERT_RADIUS_MIN_M, VG_ALERT_RADIUS_MAX_M,
                         &spec->m.alert_radius_m)))
        return rc;
    json_t *zones = json_object_get(m, "zones");
    if (!zones)
        return VG_OK;
    if (!json_is_array(zones) || json_array_size(zones) > VG__SIM_MAX_ZONES)
        return FAIL(c, VG_EINVAL, "%s.zones: a list of at most %d zones", path, VG__SIM_MAX_ZONES);
    for (size_t i = 0; i < json_array_size(zones); i++) {
        char zp[128];
        snprintf(zp, sizeof zp, "%s.zones[%zu]", path, i);
        spec->m.n_zones = i + 1; /* owned from here on, even if half-parsed */
        if ((rc = parse_zone(c, json_array_get(zones, i), zp, spec->m.alert_radius_m, i, spec)))
            return rc;
    }
    return VG_OK;
}

/* ---- areas ---- */

static const char *const area_kinds[] = {NULL, "canyon", "hole", "jamming", "no_network"};

static void area_bbox_circle(struct vg__sim_area *a, struct vg_geo_point c)
{
    double r = a->radius_m * 1.01 + 1.0;
    struct vg_geo_point ne = vg__sim_offset(c.lat_deg, c.lon_deg, r, r);
    struct vg_geo_point sw = vg__sim_offset(c.lat_deg, c.lon_deg, -r, -r);
    /* the longitude span widens toward the pole: take the wider latitude's */
    struct vg_geo_point e2 = vg__sim_offset(
        fabs(ne.lat_deg) > fabs(sw.lat_deg) ? ne.lat_deg : sw.lat_deg, c.lon_deg, r, 0.0);
    double dlon = e2.lon_deg - c.lon_deg;
    a->min_lat = sw.lat_deg;
    a->max_lat = ne.lat_deg;
    a->min_lon = c.lon_deg - dlon;
    a->max_lon = c.lon_deg + dlon;
}

static int parse_area(struct ctx *c, json_t *v, const char *path, struct vg__sim_area *a)
{
    static const char *const keys[] = {"kind",    "name",   "center", "radius_m", "vertices",
                                       "commune", "from_s", "to_s",   NULL};
    int rc;
    memset(a, 0, sizeof *a);
    a->commune = -1;
    a->from_ms = 0;
    a->to_ms = VG__SIM_FOREVER_MS;
    if ((rc = need_object(c, v, path)) || (rc = only_keys(c, v, path, keys)))
        return rc;
    json_t *kind = json_object_get(v, "kind");
    for (uint8_t k = 1; k < sizeof area_kinds / sizeof area_kinds[0]; k++)
        if (json_is_string(kind) && strcmp(json_string_value(kind), area_kinds[k]) == 0)
            a->kind = k;
    if (!a->kind)
        return FAIL(c, VG_EINVAL, "%s.kind: canyon, hole, jamming or no_network", path);
    json_t *name = json_object_get(v, "name");
    if (name && !json_is_string(name))
        return FAIL(c, VG_EINVAL, "%s.name: must be a string", path);
    json_t *center = json_object_get(v, "center"), *vertices = json_object_get(v, "vertices");
    json_t *commune = json_object_get(v, "commune");
    char sub[300];
    if ((center != NULL) + (vertices != NULL) + (commune != NULL) != 1)
        return FAIL(c, VG_EINVAL,
                    "%s: an area is a \"center\" with \"radius_m\", \"vertices\", or a "
                    "\"commune\", one of them",
                    path);
    if (!center && json_object_get(v, "radius_m"))
        return FAIL(c, VG_EINVAL, "%s.radius_m: only a circle (\"center\") has a radius", path);
    if (center) {
        struct vg_geo_point p;
        snprintf(sub, sizeof sub, "%s.center", path);
        if ((rc = parse_point(c, center, sub, &p)) ||
            (rc = req_number(c, v, path, "radius_m", 1.0, 100000.0, &a->radius_m)))
            return rc;
        vg_geo_prepare(&a->center, p);
        area_bbox_circle(a, p);
    } else if (vertices) {
        snprintf(sub, sizeof sub, "%s.vertices", path);
        size_t n = json_is_array(vertices) ? json_array_size(vertices) : 0;
        if (n < 3 || n > MAX_AREA_VERTICES)
            return FAIL(c, VG_EINVAL, "%s: a list of 3 to %d points", sub, MAX_AREA_VERTICES);
        a->vertices = calloc(n, sizeof *a->vertices);
        if (!a->vertices)
            return FAIL(c, VG_ENOSPC, "out of memory");
        a->n_vertices = n;
        a->min_lat = a->min_lon = 1e9;
        a->max_lat = a->max_lon = -1e9;
        for (size_t k = 0; k < n; k++) {
            char vp[320];
            snprintf(vp, sizeof vp, "%s[%zu]", sub, k);
            if ((rc = parse_point(c, json_array_get(vertices, k), vp, &a->vertices[k])))
                return rc;
            a->min_lat = fmin(a->min_lat, a->vertices[k].lat_deg);
            a->max_lat = fmax(a->max_lat, a->vertices[k].lat_deg);
            a->min_lon = fmin(a->min_lon, a->vertices[k].lon_deg);
            a->max_lon = fmax(a->max_lon, a->vertices[k].lon_deg);
        }
    } else {
        snprintf(sub, sizeof sub, "%s.commune", path);
        if ((rc = find_commune(c, commune, sub, &a->commune)))
            return rc;
        const struct vg__sim_commune *cm = &c->sc->communes->communes[a->commune];
        a->min_lat = cm->min_lat;
        a->max_lat = cm->max_lat;
        a->min_lon = cm->min_lon;
        a->max_lon = cm->max_lon;
    }
    bool found;
    if ((rc = opt_time(c, v, path, "from_s", &a->from_ms, &found)) ||
        (rc = opt_time(c, v, path, "to_s", &a->to_ms, &found)))
        return rc;
    if (a->to_ms <= a->from_ms)
        return FAIL(c, VG_ERANGE, "%s.to_s: the area's time range ends before it starts", path);
    return VG_OK;
}

/* ---- people ---- */

enum { PLACE_POINT, PLACE_COMMUNE, PLACE_NEAR };

struct place_spec {
    int kind;
    long commune;
    int near_role;
    char near_name[VG__SIM_PLACE_NAME_MAX + 1];
    double distance_m, bearing_deg;
    bool resolved;
    char path[192];
};

struct person_specs {
    struct place_spec places[VG__SIM_MAX_PLACES];
};

static int parse_place(struct ctx *c, json_t *v, int role, const char *path,
                       struct vg__sim_place *pl, struct place_spec *ps)
{
    int rc;
    snprintf(ps->path, sizeof ps->path, "%s", path);
    if (json_is_array(v)) {
        ps->kind = PLACE_POINT;
        ps->resolved = true;
        return parse_point(c, v, path, &pl->p);
    }
    if (!json_is_object(v))
        return FAIL(c, VG_EINVAL,
                    "%s: a place is [lat, lon], {\"commune\": ...} or {\"near\": ..., "
                    "\"distance_m\": ..., \"bearing_deg\": ...}",
                    path);
    char sub[256];
    if (json_object_get(v, "commune")) {
        static const char *const keys[] = {"commune", NULL};
        snprintf(sub, sizeof sub, "%s.commune", path);
        if ((rc = only_keys(c, v, path, keys)) ||
            (rc = find_commune(c, json_object_get(v, "commune"), sub, &ps->commune)))
            return rc;
        ps->kind = PLACE_COMMUNE;
        return VG_OK;
    }
    static const char *const keys[] = {"near", "distance_m", "bearing_deg", NULL};
    if ((rc = only_keys(c, v, path, keys)))
        return rc;
    if (!json_object_get(v, "near"))
        return FAIL(c, VG_EINVAL, "%s: a place object has \"commune\" or \"near\"", path);
    snprintf(sub, sizeof sub, "%s.near", path);
    if ((rc = parse_ref(c, json_object_get(v, "near"), role, sub, &ps->near_role, ps->near_name)) ||
        (rc = req_number(c, v, path, "distance_m", 0.0, 1000000.0, &ps->distance_m)) ||
        (rc = req_number(c, v, path, "bearing_deg", -360.0, 360.0, &ps->bearing_deg)))
        return rc;
    ps->kind = PLACE_NEAR;
    return VG_OK;
}

static int parse_places(struct ctx *c, json_t *places, int role, const char *path,
                        struct vg__sim_person *p, struct person_specs *ps)
{
    char sub[160];
    snprintf(sub, sizeof sub, "%s.places", path);
    if (!json_is_object(places) || json_object_size(places) == 0 ||
        json_object_size(places) > VG__SIM_MAX_PLACES)
        return FAIL(c, VG_EINVAL, "%s: an object of 1 to %d named places", sub, VG__SIM_MAX_PLACES);
    const char *key;
    json_t *v;
    json_object_foreach(places, key, v)
    {
        char pp[192];
        snprintf(pp, sizeof pp, "%s.%s", sub, key);
        if (!place_name_ok(key))
            return FAIL(c, VG_EINVAL, "%s: a place name is 1 to %d of a-z, 0-9 and _", pp,
                        VG__SIM_PLACE_NAME_MAX);
        struct vg__sim_place *pl = &p->places[p->n_places];
        strcpy(pl->name, key);
        int rc = parse_place(c, v, role, pp, pl, &ps->places[p->n_places]);
        if (rc)
            return rc;
        p->n_places++;
    }
    return VG_OK;
}

/* Resolves the places of both persons of a pair: points drawn inside
 * communes, places near others (in any order, cycles refused). */
static int resolve_places(struct ctx *c, struct vg__sim_pair *pair, size_t pair_index,
                          struct person_specs ps[2])
{
    for (int r = 0; r < 2; r++)
        for (size_t i = 0; i < pair->person[r].n_places; i++) {
            struct place_spec *s = &ps[r].places[i];
            if (s->kind == PLACE_NEAR &&
                !vg__sim_place_find(&pair->person[s->near_role], s->near_name))
                return FAIL(c, VG_ENOTFOUND, "%s.near: there is no place \"%s.%s\"", s->path,
                            role_names[s->near_role], s->near_name);
            if (s->kind == PLACE_COMMUNE) {
                struct vg_prng rng;
                vg_prng_seed(&rng, vg__sim_mix(c->sc->seed, pair_index, (uint64_t)r, i));
                if (vg__sim_commune_draw(c->sc->communes, (size_t)s->commune, &rng,
                                         &pair->person[r].places[i].p) != VG_OK)
                    return FAIL(c, VG_ENOTFOUND, "%s.commune: no point could be drawn inside it",
                                s->path);
                s->resolved = true;
            }
        }
    for (;;) {
        bool progress = false, pending = false;
        for (int r = 0; r < 2; r++)
            for (size_t i = 0; i < pair->person[r].n_places; i++) {
                struct place_spec *s = &ps[r].places[i];
                if (s->resolved)
                    continue;
                const struct vg__sim_place *target =
                    vg__sim_place_find(&pair->person[s->near_role], s->near_name);
                const struct place_spec *ts =
                    &ps[s->near_role].places[target - pair->person[s->near_role].places];
                if (!ts->resolved) {
                    pending = true;
                    continue;
                }
                double bearing = fmod(s->bearing_deg + 360.0, 360.0);
                if (vg_geo_destination(target->p, bearing, s->distance_m,
                                       &pair->person[r].places[i].p) != VG_OK)
                    return FAIL(c, VG_ERANGE, "%s: no such point", s->path);
                s->resolved = true;
                progress = true;
            }
        if (!pending)
            return VG_OK;
        if (!progress)
            for (int r = 0; r < 2; r++)
                for (size_t i = 0; i < pair->person[r].n_places; i++)
                    if (!ps[r].places[i].resolved)
                        return FAIL(c, VG_EINVAL,
                                    "%s.near: places are defined near each other in a circle",
                                    ps[r].places[i].path);
    }
}

static const char *const mode_names[] = {NULL, "walk", "bike", "car", "transit", "metro"};

static int resolve_stop(struct ctx *c, struct vg__sim_pair *pair, int role, json_t *v,
                        const char *path, struct vg_geo_point *out)
{
    if (json_is_array(v))
        return parse_point(c, v, path, out);
    int r;
    char name[VG__SIM_PLACE_NAME_MAX + 1];
    int rc = parse_ref(c, v, role, path, &r, name);
    if (rc)
        return rc;
    const struct vg__sim_place *pl = vg__sim_place_find(&pair->person[r], name);
    if (!pl)
        return FAIL(c, VG_ENOTFOUND, "%s: there is no place \"%s.%s\"", path, role_names[r], name);
    *out = pl->p;
    return VG_OK;
}

static int parse_trips(struct ctx *c, json_t *trips, struct vg__sim_pair *pair, int role,
                       const char *path, struct vg__sim_timeline *tl)
{
    static const char *const keys[] = {"at_s",      "after_s",      "to",     "via", "mode",
                                       "speed_mps", "stop_every_m", "stop_s", NULL};
    char tp[192];
    snprintf(tp, sizeof tp, "%s.trips", path);
    if (!json_is_array(trips) || json_array_size(trips) > MAX_TRIPS)
        return FAIL(c, VG_EINVAL, "%s: a list of at most %d trips", tp, MAX_TRIPS);
    struct vg_geo_point points[MAX_VIA + 1];
    for (size_t i = 0; i < json_array_size(trips); i++) {
        json_t *t = json_array_get(trips, i);
        char p[224], sub[256];
        snprintf(p, sizeof p, "%s[%zu]", tp, i);
        int rc;
        if ((rc = need_object(c, t, p)) || (rc = only_keys(c, t, p, keys)))
            return rc;
        struct vg__sim_trip trip = {0};
        json_t *mode = json_object_get(t, "mode");
        snprintf(sub, sizeof sub, "%s.mode", p);
        if (!mode)
            return FAIL(c, VG_EINVAL, "%s: is required (walk, bike, car, transit, metro)", sub);
        for (uint8_t m = 1; m < sizeof mode_names / sizeof mode_names[0]; m++)
            if (json_is_string(mode) && strcmp(json_string_value(mode), mode_names[m]) == 0)
                trip.mode = m;
        if (!trip.mode) {
            if (json_is_string(mode))
                return FAIL(c, VG_EINVAL,
                            "%s: unknown mode \"%s\" (walk, bike, car, transit, metro)", sub,
                            json_string_value(mode));
            return FAIL(c, VG_EINVAL, "%s: a mode is walk, bike, car, transit or metro", sub);
        }
        vg__sim_mode_defaults(trip.mode, &trip.speed_mps, &trip.stop_every_m, &trip.stop_s);
        if ((rc = opt_number(c, t, p, "speed_mps", 0.1, 100.0, &trip.speed_mps, NULL)) ||
            (rc = opt_number(c, t, p, "stop_every_m", 0.0, 100000.0, &trip.stop_every_m, NULL)) ||
            (rc = opt_number(c, t, p, "stop_s", 0.0, 3600.0, &trip.stop_s, NULL)))
            return rc;
        json_t *via = json_object_get(t, "via");
        size_t n_via = 0;
        if (via) {
            snprintf(sub, sizeof sub, "%s.via", p);
            if (!json_is_array(via) || json_array_size(via) > MAX_VIA)
                return FAIL(c, VG_EINVAL, "%s: a list of at most %d places or points", sub,
                            MAX_VIA);
            n_via = json_array_size(via);
            for (size_t k = 0; k < n_via; k++) {
                char vp[288];
                snprintf(vp, sizeof vp, "%s[%zu]", sub, k);
                if ((rc = resolve_stop(c, pair, role, json_array_get(via, k), vp, &points[k])))
                    return rc;
            }
        }
        snprintf(sub, sizeof sub, "%s.to", p);
        if (!json_object_get(t, "to"))
            return FAIL(c, VG_EINVAL, "%s: is required", sub);
        if ((rc = resolve_stop(c, pair, role, json_object_get(t, "to"), sub, &points[n_via])))
            return rc;
        trip.via = points;
        trip.n_points = n_via + 1;
        int64_t at_ms = 0;
        double after_s = 0.0;
        bool has_at, has_after;
        if ((rc = opt_time(c, t, p, "at_s", &at_ms, &has_at)) ||
            (rc = opt_number(c, t, p, "after_s", 0.0, c->duration_s, &after_s, &has_after)))
            return rc;
        if (has_at == has_after)
            return FAIL(c, VG_EINVAL,
                        "%s: a trip starts at \"at_s\" (from the start of the run) or "
                        "\"after_s\" (after the previous arrival), one of them",
                        p);
        double free_s = tl->free_s < 0.0 ? 0.0 : tl->free_s;
        trip.depart_s = has_at ? (double)at_ms / 1000.0 : free_s + after_s;
        rc = vg__sim_timeline_trip(tl, &trip);
        if (rc == VG_ESTATE)
            return FAIL(c, VG_ERANGE,
                        "%s.at_s: departs at %.10g s, before the previous trip arrives (at %.1f s)",
                        p, trip.depart_s, tl->free_s);
        if (rc)
            return FAIL(c, rc, "%s: %s", p, rc == VG_ENOSPC ? "out of memory" : "invalid route");
    }
    return VG_OK;
}

static const struct {
    const char *name;
    uint8_t type;
    uint8_t roles; /* bit 0: author, bit 1: protected person */
    uint8_t shape; /* 0: a press (at_s), 1: a time range, 2: + rate, 3: + radius */
} event_kinds[] = {
    {"sos", VG__SIM_EV_SOS, 2, 0},
    {"callback", VG__SIM_EV_CALLBACK, 2, 0},
    {"strap_cut", VG__SIM_EV_STRAP_CUT, 1, 1},
    {"skin_contact_lost", VG__SIM_EV_SKIN_LOST, 1, 1},
    {"switched_off", VG__SIM_EV_SWITCHED_OFF, 3, 1},
    {"network_outage", VG__SIM_EV_NETWORK_OUTAGE, 3, 1},
    {"unit_left_behind", VG__SIM_EV_LEFT_BEHIND, 1, 1},
    {"gnss_hole", VG__SIM_EV_GNSS_HOLE, 3, 1},
    {"battery_drain", VG__SIM_EV_BATTERY_DRAIN, 3, 2},
    {"jamming", VG__SIM_EV_JAMMING, 3, 3},
};

static int parse_event(struct ctx *c, json_t *v, int role, const char *path,
                       struct vg__sim_person *person, struct vg__sim_event *ev)
{
    int rc;
    memset(ev, 0, sizeof *ev);
    if ((rc = need_object(c, v, path)))
        return rc;
    json_t *type = json_object_get(v, "type");
    int k = -1;
    for (size_t i = 0; i < sizeof event_kinds / sizeof event_kinds[0]; i++)
        if (json_is_string(type) && strcmp(json_string_value(type), event_kinds[i].name) == 0)
            k = (int)i;
    if (k < 0)
        return FAIL(c, VG_EINVAL,
                    "%s.type: sos, callback, strap_cut, skin_contact_lost, switched_off, "
                    "network_outage, unit_left_behind, gnss_hole, battery_drain or jamming",
                    path);
    if (!(event_kinds[k].roles & (1u << role)))
        return FAIL(c, VG_EINVAL, "%s.type: \"%s\" is %s event", path, event_kinds[k].name,
                    role == 0 ? "a protected person's" : "an author's");
    static const char *const press_keys[] = {"type", "at_s", NULL};
    static const char *const range_keys[] = {"type", "from_s", "to_s", NULL};
    static const char *const rate_keys[] = {"type", "from_s", "to_s", "rate_pct_per_h", NULL};
    static const char *const radius_keys[] = {"type", "from_s", "to_s", "radius_m", NULL};
    static const char *const *const keys[] = {press_keys, range_keys, rate_keys, radius_keys};
    if ((rc = only_keys(c, v, path, keys[event_kinds[k].shape])))
        return rc;
    ev->type = event_kinds[k].type;
    bool found;
    if (event_kinds[k].shape == 0) {
        if ((rc = opt_time(c, v, path, "at_s", &ev->from_ms, &found)))
            return rc;
        if (!found)
            return FAIL(c, VG_EINVAL, "%s.at_s: is required", path);
        ev->to_ms = ev->from_ms;
        return VG_OK;
    }
    if ((rc = opt_time(c, v, path, "from_s", &ev->from_ms, &found)))
        return rc;
    if (!found)
        return FAIL(c, VG_EINVAL, "%s.from_s: is required", path);
    ev->to_ms = VG__SIM_FOREVER_MS;
    if ((rc = opt_time(c, v, path, "to_s", &ev->to_ms, &found)))
        return rc;
    if (ev->to_ms <= ev->from_ms)
        return FAIL(c, VG_ERANGE, "%s.to_s: ends before it starts", path);
    if (event_kinds[k].shape == 2 &&
        (rc = req_number(c, v, path, "rate_pct_per_h", 0.001, 10000.0, &ev->value)))
        return rc;
    if (event_kinds[k].shape == 3 &&
        (rc = opt_number(c, v, path, "radius_m", 0.0, 100000.0, &ev->value, NULL)))
        return rc;
    if (ev->type == VG__SIM_EV_LEFT_BEHIND) {
        /* the unit stays where he was when he walked off without it */
        size_t cursor = 0;
        struct vg__sim_pos pos;
        vg__sim_position(person, (double)ev->from_ms / 1000.0, &cursor, &pos);
        ev->spot = (struct vg_geo_point){pos.lat_deg, pos.lon_deg};
    }
    return VG_OK;
}

static int parse_person_rest(struct ctx *c, json_t *v, struct vg__sim_pair *pair, size_t pair_index,
                             int role, const char *path)
{
    struct vg__sim_person *p = &pair->person[role];
    int rc;
    char sub[192];
    p->gnss = c->gnss;
    p->wander_m = DEFAULT_WANDER_M;
    if ((rc = opt_number(c, v, path, "wander_m", 0.0, 100.0, &p->wander_m, NULL)))
        return rc;
    json_t *g = json_object_get(v, "gnss");
    if (g) {
        snprintf(sub, sizeof sub, "%s.gnss", path);
        if ((rc = parse_gnss(c, g, sub, &p->gnss)))
            return rc;
    }
    struct vg_prng rng;
    vg_prng_seed(&rng, vg__sim_mix(c->sc->seed, pair_index, (uint64_t)role, 1000));
    vg__sim_wander_draw(p, &rng);

    json_t *start = json_object_get(v, "start");
    const struct vg__sim_place *from;
    snprintf(sub, sizeof sub, "%s.start", path);
    if (start) {
        if (!json_is_string(start) || !(from = vg__sim_place_find(p, json_string_value(start))))
            return FAIL(c, VG_ENOTFOUND, "%s: must name one of the person's places", sub);
    } else if (!(from = vg__sim_place_find(p, "home"))) {
        return FAIL(c, VG_EINVAL, "%s: is required when the person has no place \"home\"", sub);
    }
    struct vg__sim_timeline tl;
    if (vg__sim_timeline_begin(&tl, p, from->p) != VG_OK)
        return FAIL(c, VG_ENOSPC, "out of memory");
    json_t *trips = json_object_get(v, "trips");
    if (trips && (rc = parse_trips(c, trips, pair, role, path, &tl)))
        return rc;

    json_t *events = json_object_get(v, "events");
    if (events) {
        snprintf(sub, sizeof sub, "%s.events", path);
        if (!json_is_array(events) || json_array_size(events) > MAX_EVENTS)
            return FAIL(c, VG_EINVAL, "%s: a list of at most %d events", sub, MAX_EVENTS);
        size_t n = json_array_size(events);
        p->events = calloc(n ? n : 1, sizeof *p->events);
        if (!p->events)
            return FAIL(c, VG_ENOSPC, "out of memory");
        for (size_t i = 0; i < n; i++) {
            char ep[224];
            snprintf(ep, sizeof ep, "%s[%zu]", sub, i);
            if ((rc = parse_event(c, json_array_get(events, i), role, ep, p, &p->events[i])))
                return rc;
            p->n_events++;
        }
    }
    return VG_OK;
}

static int parse_pair(struct ctx *c, json_t *v, size_t index, struct vg__sim_pair *pair)
{
    static const char *const keys[] = {"name", "measure", "author", "protected", NULL};
    static const char *const person_keys[] = {"places", "start",  "wander_m", "gnss",
                                              "trips",  "events", NULL};
    char path[64];
    snprintf(path, sizeof path, "pairs[%zu]", index);
    int rc;
    if ((rc = need_object(c, v, path)) || (rc = only_keys(c, v, path, keys)))
        return rc;
    json_t *name = json_object_get(v, "name");
    if (name) {
        if (!json_is_string(name) || vg_name_check(json_string_value(name)) != VG_OK)
            return FAIL(c, VG_EINVAL,
                        "%s.name: 1 to 64 of letters, digits, '.', '_' or '-' (it names the "
                        "measure)",
                        path);
        snprintf(pair->name, sizeof pair->name, "%s", json_string_value(name));
    } else {
        snprintf(pair->name, sizeof pair->name, "pair-%zu", index);
    }
    json_t *persons[2];
    char pp[2][96];
    struct person_specs specs[2];
    memset(specs, 0, sizeof specs);
    for (int r = 0; r < 2; r++) {
        snprintf(pp[r], sizeof pp[r], "%s.%s", path, role_names[r]);
        persons[r] = json_object_get(v, role_names[r]);
        if (!persons[r])
            return FAIL(c, VG_EINVAL, "%s: is required", pp[r]);
        if ((rc = need_object(c, persons[r], pp[r])) ||
            (rc = only_keys(c, persons[r], pp[r], person_keys)) ||
            (rc = parse_places(c, json_object_get(persons[r], "places"), r, pp[r], &pair->person[r],
                               &specs[r])))
            return rc;
    }
    if ((rc = resolve_places(c, pair, index, specs)))
        return rc;
    for (int r = 0; r < 2; r++)
        if ((rc = parse_person_rest(c, persons[r], pair, index, r, pp[r])))
            return rc;

    struct vg__sim_measure_spec own;
    const struct vg__sim_measure_spec *spec = &c->tmpl;
    json_t *m = json_object_get(v, "measure");
    char mp[96];
    snprintf(mp, sizeof mp, "%s.measure", path);
    if (m) {
        rc = parse_measure(c, m, mp, &own);
        if (rc) {
            vg__sim_measure_cleanup(&own.m);
            return rc;
        }
        spec = &own;
    } else if (!c->tmpl.present) {
        return FAIL(c, VG_EINVAL, "%s: is required (or a top-level \"measure\" for every pair)",
                    mp);
    }
    rc = vg__sim_measure_resolve(spec, pair, path, &pair->measure, c->err, c->len);
    if (m)
        vg__sim_measure_cleanup(&own.m);
    return rc;
}

/* ---- the population ---- */

/* population.mix: the daily life of the alert-quality corpus. */
static int parse_mix(struct ctx *c, json_t *v, struct vg__sim_mix *m)
{
    static const struct {
        const char *key;
        size_t off;
        double max, def;
    } fields[] = {
#define F(name, max, def) {#name, offsetof(struct vg__sim_mix, name), max, def}
        F(start_hour, 24.0, 0.0),
        F(close_fraction, 1.0, 0.1),
        F(driver_fraction, 1.0, 0.05),
        F(non_worker_fraction, 1.0, 0.2),
        F(errands_per_day, 20.0, 1.5),
        F(metro_fraction, 1.0, 0.15),
        F(canyon_fraction, 1.0, 0.2),
        F(indoor_loss_per_day, 50.0, 1.0),
        F(car_park_fraction, 1.0, 0.3),
        F(tunnel_probability, 1.0, 0.15),
        F(no_network_per_day, 50.0, 0.2),
        F(switch_off_fraction, 1.0, 0.02),
        F(battery_fault_fraction, 1.0, 0.01),
        F(strap_cut_fraction, 1.0, 0.003),
        F(skin_loss_fraction, 1.0, 0.005),
        F(left_behind_fraction, 1.0, 0.005),
        F(walk_in_fraction, 1.0, 0.01),
        F(stalk_fraction, 1.0, 0.01),
        F(drive_through_fraction, 1.0, 0.01),
        F(visit_fraction, 1.0, 0.01),
        F(keep_away_fraction, 1.0, 0.0),
#undef F
    };
    const char *path = "population.mix";
    const char *keys[sizeof fields / sizeof fields[0] + 1];
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        keys[i] = fields[i].key;
    keys[sizeof fields / sizeof fields[0]] = NULL;
    int rc;
    if ((rc = need_object(c, v, path)) || (rc = only_keys(c, v, path, keys)))
        return rc;
    memset(m, 0, sizeof *m);
    m->present = true;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        double *dst = (double *)((char *)m + fields[i].off);
        *dst = fields[i].def;
        if ((rc = opt_number(c, v, path, fields[i].key, 0.0, fields[i].max, dst, NULL)))
            return rc;
    }
    return VG_OK;
}

static int parse_population(struct ctx *c, json_t *v, struct vg__sim_population *pop)
{
    static const char *const keys[] = {
        "pairs",       "communes",    "seed_offset", "approach_fraction",
        "mean_stay_s", "name_prefix", "mix",         NULL};
    const char *path = "population";
    int rc;
    double pairs = 0.0;
    memset(pop, 0, sizeof *pop);
    pop->approach_fraction = 0.02;
    pop->mean_stay_s = 2400.0;
    snprintf(pop->prefix, sizeof pop->prefix, "pop");
    if ((rc = need_object(c, v, path)) || (rc = only_keys(c, v, path, keys)) ||
        (rc = req_number(c, v, path, "pairs", 1.0, MAX_PAIRS, &pairs)) ||
        (rc = opt_number(c, v, path, "approach_fraction", 0.0, 1.0, &pop->approach_fraction,
                         NULL)) ||
        (rc = opt_number(c, v, path, "mean_stay_s", 60.0, 1e7, &pop->mean_stay_s, NULL)))
        return rc;
    if (pairs != floor(pairs))
        return FAIL(c, VG_EINVAL, "population.pairs: a whole number");
    pop->pairs = (size_t)pairs;
    json_t *off = json_object_get(v, "seed_offset");
    if (off) {
        if (!json_is_integer(off) || json_integer_value(off) < 0)
            return FAIL(c, VG_EINVAL, "population.seed_offset: a non-negative integer");
        pop->seed_offset = (uint64_t)json_integer_value(off);
    }
    json_t *prefix = json_object_get(v, "name_prefix");
    if (prefix) {
        if (!json_is_string(prefix) || strlen(json_string_value(prefix)) > 20 ||
            vg_name_check(json_string_value(prefix)) != VG_OK)
            return FAIL(c, VG_EINVAL,
                        "population.name_prefix: 1 to 20 of letters, digits, '.', '_' or '-'");
        snprintf(pop->prefix, sizeof pop->prefix, "%s", json_string_value(prefix));
    }
    if ((rc = need_communes(c, path)))
        return rc;
    json_t *communes = json_object_get(v, "communes");
    if (communes) {
        if (!json_is_array(communes) || json_array_size(communes) == 0 ||
            json_array_size(communes) > sizeof pop->communes / sizeof pop->communes[0])
            return FAIL(c, VG_EINVAL, "population.communes: a list of 1 to %zu communes",
                        sizeof pop->communes / sizeof pop->communes[0]);
        for (size_t i = 0; i < json_array_size(communes); i++) {
            char p[64];
            snprintf(p, sizeof p, "population.communes[%zu]", i);
            if ((rc = find_commune(c, json_array_get(communes, i), p, &pop->communes[i])))
                return rc;
            pop->n_communes++;
        }
    }
    if (!c->tmpl.present)
        return FAIL(c, VG_EINVAL, "population: needs the top-level \"measure\" for its pairs");
    json_t *mix = json_object_get(v, "mix");
    if (mix && (rc = parse_mix(c, mix, &pop->mix)))
        return rc;
    return VG_OK;
}

/* ---- the whole ---- */

static int parse_start(struct ctx *c, json_t *v)
{
    unsigned y, mo, d, h, mi, s;
    char tail;
    const char *str = json_is_string(v) ? json_string_value(v) : "";
    struct vg_local_time t;
    if (strlen(str) != 20 || str[19] != 'Z' ||
        sscanf(str, "%4u-%2u-%2uT%2u:%2u:%2u%c", &y, &mo, &d, &h, &mi, &s, &tail) != 7 ||
        tail != 'Z')
        return FAIL(c, VG_EINVAL, "start_utc: a UTC time \"YYYY-MM-DDTHH:MM:SSZ\"");
    t = (struct vg_local_time){
        {(int32_t)y, (uint8_t)mo, (uint8_t)d}, (uint8_t)h, (uint8_t)mi, (uint8_t)s};
    if (vg_local_time_check(&t) != VG_OK)
        return FAIL(c, VG_ERANGE, "start_utc: \"%s\" is not a valid time", str);
    c->sc->start_utc_ms = vg_local_time_to_seconds(&t) * 1000;
    if (c->sc->start_utc_ms < VG_TIME_MIN_MS ||
        c->sc->start_utc_ms + c->sc->duration_ms > VG_TIME_MAX_MS)
        return FAIL(c, VG_ERANGE, "start_utc: the run must lie between 2000 and 2200");
    return VG_OK;
}

static int parse_devices(struct ctx *c, json_t *v)
{
    static const char *const keys[] = {"beacon_range_m", "beacon_range_sigma",
                                       "beacon_miss_probability", "bracelet_link_range_m", NULL};
    int rc;
    if ((rc = need_object(c, v, "devices")) || (rc = only_keys(c, v, "devices", keys)) ||
        (rc = opt_number(c, v, "devices", "beacon_range_m", 1.0, 1000.0, &c->sc->beacon_range_m,
                         NULL)) ||
        (rc = opt_number(c, v, "devices", "beacon_range_sigma", 0.0, 3.0, &c->sc->beacon_sigma,
                         NULL)) ||
        (rc = opt_number(c, v, "devices", "beacon_miss_probability", 0.0, 1.0, &c->sc->beacon_miss,
                         NULL)) ||
        (rc = opt_number(c, v, "devices", "bracelet_link_range_m", 1.0, 1000.0,
                         &c->sc->link_range_m, NULL)))
        return rc;
    return VG_OK;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int check_names_unique(struct ctx *c)
{
    const char **names = malloc(c->sc->n_pairs * sizeof *names);
    if (!names)
        return FAIL(c, VG_ENOSPC, "out of memory");
    for (size_t i = 0; i < c->sc->n_pairs; i++)
        names[i] = c->sc->pairs[i].name;
    qsort(names, c->sc->n_pairs, sizeof *names, cmp_name);
    int rc = VG_OK;
    for (size_t i = 1; i < c->sc->n_pairs && rc == VG_OK; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            rc = FAIL(c, VG_EDUPLICATE, "pairs: two pairs are named \"%s\" (names name measures)",
                      names[i]);
    free(names);
    return rc;
}

static int parse_root(struct ctx *c, json_t *root)
{
    static const char *const keys[] = {
        "name",    "description", "seed",    "duration_s", "start_utc",  "timezone", "gnss",
        "devices", "areas",       "measure", "pairs",      "population", "expect",   NULL};
    struct vg_sim_scenario *sc = c->sc;
    int rc;
    if (!json_is_object(root))
        return FAIL(c, VG_EFORMAT, "a scenario is a JSON object");
    if ((rc = only_keys(c, root, "scenario", keys)))
        return rc;
    json_t *name = json_object_get(root, "name"), *desc = json_object_get(root, "description");
    if (name && (!json_is_string(name) || strlen(json_string_value(name)) > 64))
        return FAIL(c, VG_EINVAL, "name: a string of at most 64 bytes");
    if (name)
        snprintf(sc->name, sizeof sc->name, "%s", json_string_value(name));
    if (desc && !json_is_string(desc))
        return FAIL(c, VG_EINVAL, "description: must be a string");
    /* What the centre should raise for this scenario: read by its
     * end-to-end test (tests/integ/test_scenarios.py, docs/SCENARIOS.md),
     * not by the simulator, which only checks that it is an object so that
     * a typo like "expect": [] is caught here rather than ignored. */
    json_t *expect = json_object_get(root, "expect");
    if (expect && !json_is_object(expect))
        return FAIL(c, VG_EINVAL, "expect: must be an object (the expectations of its test)");
    json_t *seed = json_object_get(root, "seed");
    if (seed) {
        if (!json_is_integer(seed) || json_integer_value(seed) < 0)
            return FAIL(c, VG_EINVAL, "seed: a non-negative integer");
        sc->seed = (uint64_t)json_integer_value(seed);
    }
    json_t *duration = json_object_get(root, "duration_s");
    if (!duration)
        return FAIL(c, VG_EINVAL, "duration_s: is required (the run's length in seconds)");
    c->duration_s = json_is_number(duration) ? json_number_value(duration) : -1.0;
    if (!(c->duration_s >= 1.0 && c->duration_s <= MAX_DURATION_S))
        return FAIL(c, VG_ERANGE, "duration_s: the run's length in seconds, 1..%.10g",
                    MAX_DURATION_S);
    sc->duration_ms = llround(c->duration_s * 1000.0);
    json_t *start = json_object_get(root, "start_utc");
    if (start && (rc = parse_start(c, start)))
        return rc;
    json_t *tz = json_object_get(root, "timezone");
    snprintf(sc->timezone, sizeof sc->timezone, "%s", VG_TZ_DEFAULT_NAME);
    if (tz) {
        if (!json_is_string(tz) || strlen(json_string_value(tz)) == 0 ||
            strlen(json_string_value(tz)) > 64)
            return FAIL(c, VG_EINVAL, "timezone: an IANA name like \"Europe/Paris\"");
        snprintf(sc->timezone, sizeof sc->timezone, "%s", json_string_value(tz));
    }
    char why[256];
    if (vg_tz_load(&sc->tz, NULL, sc->timezone, why, sizeof why) < 0)
        return FAIL(c, VG_EINVAL, "timezone: %s", why);

    vg__sim_gnss_defaults(&c->gnss);
    json_t *g = json_object_get(root, "gnss");
    if (g && (rc = parse_gnss(c, g, "gnss", &c->gnss)))
        return rc;
    json_t *dev = json_object_get(root, "devices");
    if (dev && (rc = parse_devices(c, dev)))
        return rc;

    json_t *areas = json_object_get(root, "areas");
    if (areas) {
        if (!json_is_array(areas) || json_array_size(areas) > MAX_AREAS)
            return FAIL(c, VG_EINVAL, "areas: a list of at most %d areas", MAX_AREAS);
        size_t n = json_array_size(areas);
        sc->areas = calloc(n ? n : 1, sizeof *sc->areas);
        if (!sc->areas)
            return FAIL(c, VG_ENOSPC, "out of memory");
        for (size_t i = 0; i < n; i++) {
            char p[32];
            snprintf(p, sizeof p, "areas[%zu]", i);
            sc->n_areas = i + 1; /* owned from here on */
            if ((rc = parse_area(c, json_array_get(areas, i), p, &sc->areas[i])))
                return rc;
        }
    }

    json_t *m = json_object_get(root, "measure");
    if (m && (rc = parse_measure(c, m, "measure", &c->tmpl)))
        return rc;

    json_t *pairs = json_object_get(root, "pairs"), *pop_json = json_object_get(root, "population");
    struct vg__sim_population pop = {0};
    if (pop_json && (rc = parse_population(c, pop_json, &pop)))
        return rc;
    if (pairs && (!json_is_array(pairs) || json_array_size(pairs) > MAX_PAIRS))
        return FAIL(c, VG_EINVAL, "pairs: a list of at most %d pairs", MAX_PAIRS);
    size_t n_explicit = pairs ? json_array_size(pairs) : 0;
    if (n_explicit + pop.pairs == 0)
        return FAIL(c, VG_EINVAL, "scenario: needs \"pairs\" or a \"population\"");
    if (n_explicit + pop.pairs > MAX_PAIRS)
        return FAIL(c, VG_ERANGE, "scenario: at most %d pairs in all", MAX_PAIRS);
    sc->pairs = calloc(n_explicit + pop.pairs, sizeof *sc->pairs);
    if (!sc->pairs)
        return FAIL(c, VG_ENOSPC, "out of memory for %zu pairs", n_explicit + pop.pairs);
    for (size_t i = 0; i < n_explicit; i++) {
        sc->n_pairs = i + 1; /* owned from here on */
        if ((rc = parse_pair(c, json_array_get(pairs, i), i, &sc->pairs[i])))
            return rc;
    }
    if (pop.pairs &&
        (rc = vg__sim_population_generate(sc, &pop, &c->tmpl, &c->gnss, c->err, c->len)))
        return rc;
    return check_names_unique(c);
}

int vg_sim_scenario_parse(const char *json, size_t json_len, const char *geo_dir,
                          struct vg_sim_scenario **out, char *err, size_t err_len)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return vg__sim_fail(err, err_len, VG_EFORMAT, "not valid JSON: %s (line %d, column %d)",
                            je.text, je.line, je.column);
    struct vg_sim_scenario *sc = calloc(1, sizeof *sc);
    if (!sc) {
        json_decref(root);
        return vg__sim_fail(err, err_len, VG_ENOSPC, "out of memory");
    }
    sc->start_utc_ms = -1;
    sc->beacon_range_m = 50.0;
    sc->beacon_sigma = 0.35;
    sc->beacon_miss = 0.05;
    sc->link_range_m = 15.0;
    struct ctx c = {.sc = sc, .geo_dir = geo_dir, .err = err, .len = err_len};
    int rc = parse_root(&c, root);
    json_decref(root);
    vg__sim_measure_cleanup(&c.tmpl.m);
    if (rc) {
        vg_sim_scenario_free(sc);
        return rc;
    }
    *out = sc;
    return VG_OK;
}
