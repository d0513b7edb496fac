/* Ground truth: from movement alone, second by second, when each pair was
 * within 2R and R of each zone (the mobile zone and the measure's fixed
 * zones, judged as the daemon parses them), whether a window authorised
 * it, and when the bracelet's beacon was in range of her unit. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/window.h"
#include "sim/sim_internal.h"
#include "sim/world.h"
#include "util/measure_json.h"

struct run {
    bool open;
    uint8_t authorised;
    int64_t from_s;
    double min_d;
};

/* The tracks of one pair: [zone][level] with zone 0 the mobile zone and
 * level 0 pre-alert, 1 alert; and the beacon. */
struct judge {
    struct vg_sim_truth *out;
    uint32_t pair;
    struct run zone[1 + VG__SIM_MAX_ZONES][2];
    uint32_t zone_id[1 + VG__SIM_MAX_ZONES];
    struct run beacon;
};

static int push(struct vg_sim_truth *t, const struct vg_sim_interval *iv)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        struct vg_sim_interval *v = realloc(t->intervals, cap * sizeof *v);
        if (!v)
            return VG_ENOSPC;
        t->intervals = v;
        t->cap = cap;
    }
    t->intervals[t->n++] = *iv;
    return VG_OK;
}

static int close_run(struct judge *j, struct run *r, int zone_index, uint8_t kind, int64_t to_s,
                     bool at_end)
{
    if (!r->open)
        return VG_OK;
    r->open = false;
    struct vg_sim_interval iv = {
        .pair = j->pair,
        .zone_index = (int16_t)zone_index,
        .zone_id = zone_index > 0 ? j->zone_id[zone_index] : 0,
        .kind = kind,
        .authorised = r->authorised,
        .open_at_end = at_end ? 1 : 0,
        .from_s = r->from_s,
        .to_s = to_s,
        .min_distance_m = r->min_d,
    };
    return push(j->out, &iv);
}

/* One second of one track. */
static int track(struct judge *j, struct run *r, int zone_index, uint8_t kind, int64_t s,
                 bool inside, bool authorised, double d)
{
    int rc = VG_OK;
    if (r->open && (!inside || r->authorised != authorised))
        rc = close_run(j, r, zone_index, kind, s, false);
    if (inside && !r->open) {
        r->open = true;
        r->authorised = authorised;
        r->from_s = s;
        r->min_d = d;
    }
    if (inside && d < r->min_d)
        r->min_d = d;
    return rc;
}

static int cmp_interval(const void *a, const void *b)
{
    const struct vg_sim_interval *x = a, *y = b;
    if (x->from_s != y->from_s)
        return x->from_s < y->from_s ? -1 : 1;
    if (x->zone_index != y->zone_index)
        return x->zone_index - y->zone_index;
    return (int)x->kind - (int)y->kind;
}

/* The pair's measure as the daemon reads it. */
static int pair_def(const struct vg_sim_world *w, size_t pair, struct vg_measure_def *def,
                    char *err, size_t len)
{
    const struct vg_sim_scenario *sc = vg_sim_world_scenario(w);
    char *json = vg__sim_measure_json(sc, pair, vg_sim_world_start_utc_ms(w), NULL, "SIM-A",
                                      "SIM-P", NULL, err, len);
    if (!json)
        return VG_ERANGE;
    char why[256];
    int rc = vg_measure_def_parse(json, &sc->tz, def, why, sizeof why);
    free(json);
    if (rc)
        return vg__sim_fail(err, len, rc, "%s: the measure is refused: %s", sc->pairs[pair].name,
                            why);
    return VG_OK;
}

/* Judges pair `pair` second by second; writes its position lines to
 * `positions` (if not NULL) every `every_s` seconds. */
static int judge_pair(const struct vg_sim_world *w, size_t pair, struct vg_sim_truth *out,
                      FILE *positions, int every_s, char *err, size_t len)
{
    const struct vg_sim_scenario *sc = vg_sim_world_scenario(w);
    int64_t start_ms = vg_sim_world_start_utc_ms(w);
    const struct vg__sim_pair *p = &sc->pairs[pair];
    struct vg_measure_def def;
    int rc = pair_def(w, pair, &def, err, len);
    if (rc)
        return rc;
    struct judge j;
    memset(&j, 0, sizeof j);
    j.out = out;
    j.pair = (uint32_t)pair;
    for (size_t z = 0; z < def.n_zones; z++)
        j.zone_id[z + 1] = def.zones[z].id;
    size_t first = out->n;
    bool open_now[VG__SIM_MAX_ZONES] = {false};
    int64_t valid_until[VG__SIM_MAX_ZONES];
    for (size_t z = 0; z < VG__SIM_MAX_ZONES; z++)
        valid_until[z] = INT64_MIN;
    int64_t seconds = (sc->duration_ms + 999) / 1000;
    size_t ca = 0, cp = 0;
    const double r_mobile = def.alert_radius_m;
    for (int64_t s = 0; s < seconds && rc == VG_OK; s++) {
        int64_t t_ms = start_ms + s * 1000;
        struct vg__sim_pos a, b;
        vg__sim_position(&p->person[0], (double)s, &ca, &a);
        vg__sim_position(&p->person[1], (double)s, &cp, &b);
        struct vg_geo_prepared pa, pb;
        vg_geo_prepare(&pa, (struct vg_geo_point){a.lat_deg, a.lon_deg});
        vg_geo_prepare(&pb, (struct vg_geo_point){b.lat_deg, b.lon_deg});
        double d = vg_geo_fast_distance(&pa, &pb);
        if (positions && every_s > 0 && s % every_s == 0)
            fprintf(positions,
                    "{\"type\":\"position\",\"pair\":%zu,\"t_s\":%lld,\"utc_ms\":%lld,"
                    "\"author\":[%.7f,%.7f],\"protected\":[%.7f,%.7f],\"distance_m\":%.1f}\n",
                    pair, (long long)s, (long long)t_ms, a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg,
                    d);
        /* fixed zones; their windows cached until they may change */
        bool mobile_authorised = false;
        for (size_t z = 0; z < def.n_zones && rc == VG_OK; z++) {
            const struct vg_zone *zone = &def.zones[z];
            if (t_ms >= valid_until[z])
                open_now[z] = vg_windows_open_at(zone->windows, zone->n_windows, &sc->tz, t_ms,
                                                 &valid_until[z]);
            double r = zone->alert_radius_m;
            double dz = vg_zone_distance(zone, &pa, 2.0 * r);
            /* ENGINE.md: while either party is within the alert ring of a
             * zone whose window is open, the mobile zone raises no entry */
            if (open_now[z] && (dz <= r || vg_zone_distance(zone, &pb, 2.0 * r) <= r))
                mobile_authorised = true;
            if ((rc = track(&j, &j.zone[z + 1][0], (int)z + 1, VG_SIM_TRUTH_PREALERT, s,
                            dz <= 2.0 * r, open_now[z], dz)) == VG_OK)
                rc = track(&j, &j.zone[z + 1][1], (int)z + 1, VG_SIM_TRUTH_ALERT, s, dz <= r,
                           open_now[z], dz);
        }
        if (rc == VG_OK)
            rc = track(&j, &j.zone[0][0], 0, VG_SIM_TRUTH_PREALERT, s, d <= 2.0 * r_mobile,
                       mobile_authorised, d);
        if (rc == VG_OK)
            rc = track(&j, &j.zone[0][1], 0, VG_SIM_TRUTH_ALERT, s, d <= r_mobile,
                       mobile_authorised, d);
        if (rc == VG_OK)
            rc =
                track(&j, &j.beacon, -1, VG_SIM_TRUTH_BEACON, s, d <= sc->beacon_range_m, false, d);
    }
    for (size_t z = 0; z <= def.n_zones && rc == VG_OK; z++)
        for (int level = 0; level < 2 && rc == VG_OK; level++)
            rc = close_run(&j, &j.zone[z][level], (int)z,
                           level ? VG_SIM_TRUTH_ALERT : VG_SIM_TRUTH_PREALERT, seconds, true);
    if (rc == VG_OK)
        rc = close_run(&j, &j.beacon, -1, VG_SIM_TRUTH_BEACON, seconds, true);
    vg_measure_def_cleanup(&def);
    if (rc)
        return vg__sim_fail(err, len, rc, "out of memory");
    if (out->n - first > 1) /* (an empty truth has no array at all) */
        qsort(out->intervals + first, out->n - first, sizeof *out->intervals, cmp_interval);
    return VG_OK;
}

int vg_sim_world_truth_pair(const struct vg_sim_world *w, size_t pair, struct vg_sim_truth *out,
                            char *err, size_t err_len)
{
    if (pair >= vg_sim_scenario_pairs(vg_sim_world_scenario(w)))
        return vg__sim_fail(err, err_len, VG_EINVAL, "no pair %zu", pair);
    return judge_pair(w, pair, out, NULL, 0, err, err_len);
}

int vg_sim_world_truth(const struct vg_sim_world *w, struct vg_sim_truth *out, char *err,
                       size_t err_len)
{
    size_t n = vg_sim_scenario_pairs(vg_sim_world_scenario(w));
    for (size_t i = 0; i < n; i++) {
        int rc = judge_pair(w, i, out, NULL, 0, err, err_len);
        if (rc)
            return rc;
    }
    return VG_OK;
}

void vg_sim_truth_free(struct vg_sim_truth *t)
{
    if (!t)
        return;
    free(t->intervals);
    t->intervals = NULL;
    t->n = t->cap = 0;
}

static const char *kind_name(uint8_t kind)
{
    switch (kind) {
    case VG_SIM_TRUTH_PREALERT: return "prealert";
    case VG_SIM_TRUTH_ALERT: return "alert";
    default: return "beacon";
    }
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

static void write_pair_line(FILE *f, const struct vg_sim_scenario *sc, size_t pair)
{
    const struct vg__sim_measure *m = &sc->pairs[pair].measure;
    fprintf(f,
            "{\"type\":\"pair\",\"pair\":%zu,\"name\":\"%s\",\"alert_radius_m\":%.1f,\"zones\":[",
            pair, sc->pairs[pair].name, m->alert_radius_m);
    for (size_t z = 0; z < m->n_zones; z++)
        fprintf(f, "%s{\"zone_index\":%zu,\"id\":%u,\"category\":\"%s\",\"alert_radius_m\":%.1f}",
                z ? "," : "", z + 1, m->zones[z].id, category_name(m->zones[z].category),
                m->zones[z].alert_radius_m);
    fputs("]}\n", f);
}

int vg_sim_world_write_truth(const struct vg_sim_world *w, const char *path, int positions_every_s,
                             char *err, size_t err_len)
{
    const struct vg_sim_scenario *sc = vg_sim_world_scenario(w);
    int64_t start_ms = vg_sim_world_start_utc_ms(w);
    FILE *f = fopen(path, "w");
    if (!f)
        return vg__sim_fail(err, err_len, VG_ENOTFOUND, "%s: cannot create the file", path);
    /* the scenario's name is free text: let jansson quote it */
    json_t *name = json_string(sc->name);
    char *quoted = name ? json_dumps(name, JSON_ENCODE_ANY) : NULL;
    json_decref(name);
    fprintf(f,
            "{\"type\":\"run\",\"scenario\":%s,\"start_utc_ms\":%lld,\"duration_s\":%.3f,"
            "\"pairs\":%zu,\"positions_every_s\":%d,\"timezone\":\"%s\",\"beacon_range_m\":%.1f}\n",
            quoted ? quoted : "\"\"", (long long)start_ms, (double)sc->duration_ms / 1000.0,
            sc->n_pairs, positions_every_s > 0 ? positions_every_s : 0, sc->timezone,
            sc->beacon_range_m);
    free(quoted);
    struct vg_sim_truth t = {0};
    int rc = VG_OK;
    for (size_t i = 0; i < sc->n_pairs && rc == VG_OK; i++) {
        write_pair_line(f, sc, i);
        t.n = 0;
        rc = judge_pair(w, i, &t, f, positions_every_s, err, err_len);
        for (size_t k = 0; k < t.n && rc == VG_OK; k++) {
            const struct vg_sim_interval *iv = &t.intervals[k];
            fprintf(f,
                    "{\"type\":\"interval\",\"pair\":%u,\"kind\":\"%s\",\"zone_index\":%d,"
                    "\"zone_id\":%u,\"from_s\":%lld,\"to_s\":%lld,\"from_utc_ms\":%lld,"
                    "\"to_utc_ms\":%lld,\"authorised\":%s,\"open_at_end\":%s,"
                    "\"min_distance_m\":%.1f}\n",
                    iv->pair, kind_name(iv->kind), iv->zone_index, iv->zone_id,
                    (long long)iv->from_s, (long long)iv->to_s,
                    (long long)(start_ms + iv->from_s * 1000),
                    (long long)(start_ms + iv->to_s * 1000), iv->authorised ? "true" : "false",
                    iv->open_at_end ? "true" : "false", iv->min_distance_m);
        }
    }
    vg_sim_truth_free(&t);
    if (ferror(f) && rc == VG_OK)
        rc = vg__sim_fail(err, err_len, VG_EFORMAT, "%s: write error", path);
    if (fclose(f) != 0 && rc == VG_OK)
        rc = vg__sim_fail(err, err_len, VG_EFORMAT, "%s: write error", path);
    return rc;
}
