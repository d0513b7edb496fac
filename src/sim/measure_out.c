/* A pair's measure as the daemon's definition JSON (docs/API.md): what the
 * simulator posts, and what its ground truth parses back with the daemon's
 * own parser so that both judge exactly the same zones and windows. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/civil.h"
#include "core/err.h"
#include "core/window.h"
#include "sim/sim_internal.h"
#include "util/measure_decision.h"
#include "util/measure_json.h"

#define MINUTE_MS 60000

static void local_string(const struct vg_tz *tz, int64_t utc_ms, char out[17])
{
    int64_t utc_s = vg_floor_div(utc_ms, 1000);
    struct vg_local_time lt;
    vg_local_time_from_seconds(utc_s + vg_tz_offset_at(tz, utc_s), &lt);
    snprintf(out, 17, "%04d-%02u-%02uT%02u:%02u", (int)lt.date.year, (unsigned)lt.date.month,
             (unsigned)lt.date.day, (unsigned)lt.hour, (unsigned)lt.minute);
}

static int parse_local(const char *s, struct vg_local_time *t)
{
    unsigned y, mo, d, h, mi;
    if (sscanf(s, "%4u-%2u-%2uT%2u:%2u", &y, &mo, &d, &h, &mi) != 5)
        return VG_EINVAL;
    *t = (struct vg_local_time){{(int32_t)y, (uint8_t)mo, (uint8_t)d}, (uint8_t)h, (uint8_t)mi, 0};
    return vg_local_time_check(t);
}

int vg__sim_window_local(const struct vg_sim_scenario *sc, const struct vg__sim_window *w,
                         int64_t start_utc_ms, char from[17], char to[17])
{
    /* The daemon takes local minutes: the start is rounded up and the end
     * down, so that the authorisation never lasts longer than written. */
    int64_t a = vg_floor_div(start_utc_ms + w->from_ms + MINUTE_MS - 1, MINUTE_MS) * MINUTE_MS;
    int64_t b = vg_floor_div(start_utc_ms + w->to_ms, MINUTE_MS) * MINUTE_MS;
    if (a >= b)
        return VG_ERANGE;
    local_string(&sc->tz, a, from);
    local_string(&sc->tz, b, to);
    /* the daemon's reading of those local times (an hour that occurs twice
     * is read narrowly) must still leave a window */
    struct vg_local_time la, lb;
    struct vg_window check;
    if (parse_local(from, &la) || parse_local(to, &lb) ||
        vg_window_init_once(&check, &sc->tz, &la, &lb) != VG_OK)
        return VG_ERANGE;
    return VG_OK;
}

static const char *category_name(uint8_t c)
{
    switch (c) {
    case VG_ZONE_PROTECTED_HOME: return "protected_home";
    case VG_ZONE_PROTECTED_WORKPLACE: return "protected_workplace";
    case VG_ZONE_SCHOOL: return "school";
    case VG_ZONE_FREQUENTED_PLACE: return "frequented_place";
    default: return "other";
    }
}

static json_t *point_json(struct vg_geo_point p)
{
    return json_pack("[ff]", p.lat_deg, p.lon_deg);
}

static json_t *window_json(const struct vg_sim_scenario *sc, const struct vg__sim_window *w,
                           int64_t start_utc_ms)
{
    if (w->relative) {
        char from[17], to[17];
        if (vg__sim_window_local(sc, w, start_utc_ms, from, to) != VG_OK)
            return NULL;
        return json_pack("{ssss}", "from", from, "to", to);
    }
    static const char *const names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    json_t *days = json_array();
    for (unsigned k = 0; k < 7; k++)
        if (w->days & (1u << k))
            json_array_append_new(days, json_string(names[k]));
    char start[6], end[6];
    snprintf(start, sizeof start, "%02u:%02u", w->start_minute / 60u, w->start_minute % 60u);
    snprintf(end, sizeof end, "%02u:%02u", w->end_minute / 60u, w->end_minute % 60u);
    return json_pack("{sossss}", "days", days, "start", start, "end", end);
}

char *vg__sim_measure_json(const struct vg_sim_scenario *sc, size_t pair, int64_t start_utc_ms,
                           const char *name, const char *author, const char *protected_unit,
                           const char *bracelet, char *err, size_t len)
{
    if (pair >= sc->n_pairs) {
        vg__sim_fail(err, len, VG_EINVAL, "no pair %zu", pair);
        return NULL;
    }
    const struct vg__sim_pair *p = &sc->pairs[pair];
    if (!name)
        name = p->name;
    if (vg_name_check(name) || !author || vg_name_check(author) || !protected_unit ||
        vg_name_check(protected_unit) || (bracelet && vg_name_check(bracelet))) {
        vg__sim_fail(err, len, VG_EINVAL,
                     "names and serials are 1 to 64 of letters, digits, '.', '_' or '-'");
        return NULL;
    }
    json_t *units = json_pack("{ssss}", "author", author, "protected", protected_unit);
    if (units && bracelet)
        json_object_set_new(units, "bracelet", json_string(bracelet));
    json_t *zones = json_array();
    json_t *root = json_pack("{sssfssso}", "name", name, "alert_radius_m",
                             p->measure.alert_radius_m, "timezone", sc->timezone, "units", units);
    /* the decision: lawful, in force from the daemon's today (the wall
     * clock's, whatever the scenario's start), the persons' homes as the
     * scenario places them */
    struct vg_geo_point homes[2];
    for (int k = 0; k < 2; k++) {
        const struct vg__sim_place *h = vg__sim_place_find(&p->person[k], "home");
        homes[k] = h                       ? h->p
                   : p->person[k].n_places ? p->person[k].places[0].p
                                           : (struct vg_geo_point){0, 0};
    }
    if (root)
        json_object_set_new(
            root, "decision",
            vg_measure_decision_simulated((int64_t)(time(NULL) / 86400), homes[0], homes[1]));
    bool ok = root && zones;
    for (size_t i = 0; ok && i < p->measure.n_zones; i++) {
        const struct vg__sim_zone *z = &p->measure.zones[i];
        json_t *zj = json_pack("{sIsssf}", "id", (json_int_t)z->id, "category",
                               category_name(z->category), "alert_radius_m", z->alert_radius_m);
        ok = zj != NULL;
        if (ok && z->shape == VG_ZONE_CIRCLE) {
            json_object_set_new(zj, "shape", json_string("circle"));
            json_object_set_new(zj, "center", point_json(z->center));
        } else if (ok) {
            json_t *vs = json_array();
            for (size_t k = 0; k < z->n_vertices; k++)
                json_array_append_new(vs, point_json(z->vertices[k]));
            json_object_set_new(zj, "shape", json_string("polygon"));
            json_object_set_new(zj, "vertices", vs);
        }
        if (ok && z->n_windows) {
            json_t *ws = json_array();
            for (size_t k = 0; ok && k < z->n_windows; k++) {
                json_t *wj = window_json(sc, &z->windows[k], start_utc_ms);
                if (!wj) {
                    vg__sim_fail(err, len, VG_ERANGE,
                                 "%s: zone %u, window %zu: nothing is left of it once fixed to "
                                 "whole local minutes",
                                 p->name, z->id, k);
                    ok = false;
                } else {
                    json_array_append_new(ws, wj);
                }
            }
            json_object_set_new(zj, "windows", ws);
        }
        if (zj)
            json_array_append_new(zones, zj);
    }
    char *text = NULL;
    if (ok) {
        json_object_set_new(root, "zones", zones);
        zones = NULL;
        text = json_dumps(root, JSON_COMPACT);
        if (!text)
            vg__sim_fail(err, len, VG_ENOSPC, "out of memory");
    } else if (!root) {
        vg__sim_fail(err, len, VG_ENOSPC, "out of memory");
    }
    json_decref(zones);
    json_decref(root);
    return text;
}
