/* The world of a run: per unit, the receiver's error state and what the
 * unit experiences when the program samples it. Sampling allocates
 * nothing and reads no file: it runs ~10,000 times a second. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sim/sim_internal.h"
#include "sim/world.h"
#include "util/measure_json.h"

struct unit_state {
    struct vg__sim_gnss_state gnss;        /* advanced on the 1 Hz grid */
    struct vg_prng sample_rng;             /* draws made per sample (the beacon) */
    int64_t last_t_ms;                     /* INT64_MIN before the first sample */
    int64_t last_rel_ms;                   /* for the presses since the previous sample */
    size_t cursor, other_cursor;           /* movement cursors at sample times */
    size_t grid_cursor, grid_other_cursor; /* and on the epoch grid */
    struct vg_fix fix;                     /* the latest epoch's fix */
};

struct vg_sim_world {
    const struct vg_sim_scenario *sc;
    uint64_t seed;
    int64_t start_ms;
    size_t n_units;
    struct unit_state *units;
};

/* Stream tags, so that the grid and the samples draw from unrelated streams. */
#define STREAM_GNSS   1
#define STREAM_SAMPLE 2
#define STREAM_NETWORK 3

/* The network estimate's model (world.h, vg_sim_sample.net_fix). */
#define NET_EPOCH_MS      120000
#define NET_ACC_MIN_M     200.0
#define NET_ACC_MAX_M     2000.0
#define NET_OUTLIER_P     0.03
#define NET_SIGMA_PER_ACC (1.0 / 2.45) /* 95% of a 2-D normal error within the accuracy */

int vg_sim_world_new(const struct vg_sim_scenario *sc, uint64_t seed, int64_t start_utc_ms,
                     struct vg_sim_world **out, char *err, size_t err_len)
{
    *out = NULL;
    if (start_utc_ms < VG_TIME_MIN_MS || start_utc_ms > VG_TIME_MAX_MS - sc->duration_ms)
        return vg__sim_fail(err, err_len, VG_ERANGE,
                            "the run must start and end between 2000 and 2200 (UTC)");
    /* Every relative window must survive being fixed to local minutes, as
     * the daemon's own parser reads them (weekly slots always do). */
    for (size_t i = 0; i < sc->n_pairs; i++) {
        bool relative = false;
        const struct vg__sim_measure *m = &sc->pairs[i].measure;
        for (size_t z = 0; z < m->n_zones; z++)
            for (size_t k = 0; k < m->zones[z].n_windows; k++)
                relative = relative || m->zones[z].windows[k].relative;
        if (!relative)
            continue;
        char *json =
            vg__sim_measure_json(sc, i, start_utc_ms, NULL, "SIM-A", "SIM-P", NULL, err, err_len);
        if (!json)
            return VG_ERANGE;
        struct vg_measure_def def;
        char why[256];
        int rc = vg_measure_def_parse(json, &sc->tz, &def, why, sizeof why);
        free(json);
        if (rc)
            return vg__sim_fail(err, err_len, rc, "%s: the measure is refused: %s",
                                sc->pairs[i].name, why);
        vg_measure_def_cleanup(&def);
    }
    struct vg_sim_world *w = calloc(1, sizeof *w);
    if (!w)
        return vg__sim_fail(err, err_len, VG_ENOSPC, "out of memory");
    w->sc = sc;
    w->seed = seed;
    w->start_ms = start_utc_ms;
    w->n_units = 2 * sc->n_pairs;
    w->units = calloc(w->n_units, sizeof *w->units);
    if (!w->units) {
        free(w);
        return vg__sim_fail(err, err_len, VG_ENOSPC, "out of memory for %zu units",
                            2 * sc->n_pairs);
    }
    for (size_t u = 0; u < w->n_units; u++) {
        struct unit_state *st = &w->units[u];
        vg__sim_gnss_init(&st->gnss, vg__sim_mix(seed, u, STREAM_GNSS, 0));
        vg_prng_seed(&st->sample_rng, vg__sim_mix(seed, u, STREAM_SAMPLE, 0));
        st->last_t_ms = INT64_MIN;
        st->last_rel_ms = -1;
    }
    *out = w;
    return VG_OK;
}

void vg_sim_world_free(struct vg_sim_world *w)
{
    if (!w)
        return;
    free(w->units);
    free(w);
}

size_t vg_sim_world_units(const struct vg_sim_world *w)
{
    return w->n_units;
}

int64_t vg_sim_world_start_utc_ms(const struct vg_sim_world *w)
{
    return w->start_ms;
}

const struct vg_sim_scenario *vg_sim_world_scenario(const struct vg_sim_world *w)
{
    return w->sc;
}

char *vg_sim_world_measure_json(const struct vg_sim_world *w, size_t pair, const char *name,
                                const char *author_serial, const char *protected_serial,
                                const char *bracelet_serial)
{
    char err[256];
    return vg__sim_measure_json(w->sc, pair, w->start_ms, name, author_serial, protected_serial,
                                bracelet_serial, err, sizeof err);
}

static bool active(const struct vg__sim_event *e, int64_t rel_ms)
{
    return rel_ms >= e->from_ms && rel_ms < e->to_ms;
}

static const struct vg__sim_event *find_active(const struct vg__sim_person *p, uint8_t type,
                                               int64_t rel_ms)
{
    for (size_t i = 0; i < p->n_events; i++)
        if (p->events[i].type == type && active(&p->events[i], rel_ms))
            return &p->events[i];
    return NULL;
}

static double distance_m(double lat1, double lon1, double lat2, double lon2)
{
    struct vg_geo_prepared a, b;
    vg_geo_prepare(&a, (struct vg_geo_point){lat1, lon1});
    vg_geo_prepare(&b, (struct vg_geo_point){lat2, lon2});
    return vg_geo_fast_distance(&a, &b);
}

/* Where the person and the unit are: the same place, unless the author
 * walked off without his unit. */
static void locate(const struct vg__sim_person *p, int role, int64_t rel_ms, size_t *cursor,
                   struct vg__sim_pos *person, struct vg__sim_pos *device)
{
    vg__sim_position(p, (double)rel_ms / 1000.0, cursor, person);
    *device = *person;
    const struct vg__sim_event *left =
        role == 0 ? find_active(p, VG__SIM_EV_LEFT_BEHIND, rel_ms) : NULL;
    if (left) {
        device->lat_deg = left->spot.lat_deg;
        device->lon_deg = left->spot.lon_deg;
        device->speed_mps = 0.0f;
        device->heading_deg = -1.0f;
        device->underground = false;
    }
}

static bool in_area(const struct vg_sim_scenario *sc, uint8_t kind, int64_t rel_ms, double lat,
                    double lon)
{
    for (size_t i = 0; i < sc->n_areas; i++) {
        const struct vg__sim_area *a = &sc->areas[i];
        if (a->kind == kind && rel_ms >= a->from_ms && rel_ms < a->to_ms &&
            vg__sim_area_contains(sc, a, lat, lon))
            return true;
    }
    return false;
}

/* The person's own canyon spots (a narrow street at home, at work). */
static bool in_canyon_spot(const struct vg__sim_person *p, const struct vg__sim_pos *device)
{
    for (size_t i = 0; i < p->n_canyon_spots; i++) {
        double north = (device->lat_deg - p->canyon_spots[i].lat_deg) * 111000.0;
        double east = (device->lon_deg - p->canyon_spots[i].lon_deg) * 111000.0 *
                      cos(device->lat_deg * 0.017453292519943295);
        if (north * north + east * east <= VG__SIM_CANYON_SPOT_M * VG__SIM_CANYON_SPOT_M)
            return true;
    }
    return false;
}

/* A jammer carried by `carrier` (at carrier_pos) reaches the device? A
 * jamming event without a radius jams the carrier's own unit only. */
static bool jammed_by(const struct vg__sim_person *carrier, int64_t rel_ms, bool own,
                      const struct vg__sim_pos *carrier_pos, const struct vg__sim_pos *device)
{
    for (size_t i = 0; i < carrier->n_events; i++) {
        const struct vg__sim_event *e = &carrier->events[i];
        if (e->type != VG__SIM_EV_JAMMING || !active(e, rel_ms))
            continue;
        if (e->value <= 0.0) {
            if (own)
                return true;
            continue;
        }
        if (distance_m(carrier_pos->lat_deg, carrier_pos->lon_deg, device->lat_deg,
                       device->lon_deg) <= e->value)
            return true;
    }
    return false;
}

static bool has_radius_jammer(const struct vg__sim_person *p, int64_t rel_ms)
{
    for (size_t i = 0; i < p->n_events; i++)
        if (p->events[i].type == VG__SIM_EV_JAMMING && p->events[i].value > 0.0 &&
            active(&p->events[i], rel_ms))
            return true;
    return false;
}

/* Computes the next epoch of unit u's receiver and its fix. */
static void advance_epoch(struct vg_sim_world *w, size_t u)
{
    const struct vg_sim_scenario *sc = w->sc;
    struct unit_state *st = &w->units[u];
    const struct vg__sim_pair *pair = &sc->pairs[u / 2];
    int role = (int)(u % 2);
    const struct vg__sim_person *self = &pair->person[role], *other = &pair->person[1 - role];
    int64_t epoch = st->gnss.epoch + 1;
    int64_t rel_ms = epoch * 1000;
    struct vg__sim_pos person, device;
    locate(self, role, rel_ms, &st->grid_cursor, &person, &device);

    bool blocked = device.underground || find_active(self, VG__SIM_EV_SWITCHED_OFF, rel_ms) ||
                   find_active(self, VG__SIM_EV_GNSS_HOLE, rel_ms) ||
                   jammed_by(self, rel_ms, true, &person, &device) ||
                   in_area(sc, VG__SIM_AREA_HOLE, rel_ms, device.lat_deg, device.lon_deg) ||
                   in_area(sc, VG__SIM_AREA_JAMMING, rel_ms, device.lat_deg, device.lon_deg);
    if (!blocked && has_radius_jammer(other, rel_ms)) {
        struct vg__sim_pos other_pos;
        vg__sim_position(other, (double)epoch, &st->grid_other_cursor, &other_pos);
        blocked = jammed_by(other, rel_ms, false, &other_pos, &device);
    }
    bool canyon = in_canyon_spot(self, &device) ||
                  in_area(sc, VG__SIM_AREA_CANYON, rel_ms, device.lat_deg, device.lon_deg);

    struct vg__sim_gnss_epoch e;
    vg__sim_gnss_step(&self->gnss, &st->gnss, canyon, blocked, &e);

    struct vg_fix *fix = &st->fix;
    memset(fix, 0, sizeof *fix);
    fix->time_ms = w->start_ms + rel_ms;
    if (!e.fix) {
        fix->quality = VG_FIX_NONE;
        fix->speed_mps = -1.0f;
        fix->heading_deg = -1.0f;
        return;
    }
    struct vg_geo_point p = vg__sim_offset(device.lat_deg, device.lon_deg, e.east_m, e.north_m);
    fix->lat_deg = p.lat_deg;
    fix->lon_deg = p.lon_deg;
    double acc = e.accuracy_m;
    if (acc < (double)VG_FIX_MIN_ACCURACY_M)
        acc = (double)VG_FIX_MIN_ACCURACY_M;
    if (acc > (double)VG_FIX_MAX_ACCURACY_M)
        acc = (double)VG_FIX_MAX_ACCURACY_M;
    fix->accuracy_m = (float)acc;
    double speed = fabs((double)device.speed_mps + e.speed_noise_mps);
    fix->speed_mps = (float)fmin(speed, (double)VG_FIX_MAX_SPEED_MPS);
    if (device.speed_mps >= 0.5f) {
        double h = fmod((double)device.heading_deg + e.heading_noise_deg + 720.0, 360.0);
        fix->heading_deg = (float)h;
        if (fix->heading_deg >= 360.0f) /* 359.99999999 rounds up as a float */
            fix->heading_deg = 0.0f;
    } else {
        fix->heading_deg = -1.0f;
    }
    fix->quality = VG_FIX_3D;
}

/* The modem's estimate of where the device is, for the 2-minute epoch of
 * rel_ms: drawn from its own stream, so the same whatever the sampling. */
static void network_estimate(const struct vg_sim_world *w, size_t unit, int64_t rel_ms,
                             const struct vg__sim_pos *device, struct vg_fix *out)
{
    struct vg_prng r;
    vg_prng_seed(&r, vg__sim_mix(w->seed, unit, STREAM_NETWORK, (uint64_t)(rel_ms / NET_EPOCH_MS)));
    double acc = NET_ACC_MIN_M * exp(vg_prng_uniform(&r) * log(NET_ACC_MAX_M / NET_ACC_MIN_M));
    double east, north;
    if (vg_prng_uniform(&r) < NET_OUTLIER_P) {
        double off = acc * vg_prng_range(&r, 1.5, 3.0), bearing = vg_prng_range(&r, 0.0, 2.0 * M_PI);
        east = off * sin(bearing);
        north = off * cos(bearing);
    } else {
        east = acc * NET_SIGMA_PER_ACC * vg_prng_normal(&r);
        north = acc * NET_SIGMA_PER_ACC * vg_prng_normal(&r);
    }
    struct vg_geo_point p = vg__sim_offset(device->lat_deg, device->lon_deg, east, north);
    *out = (struct vg_fix){.time_ms = w->start_ms + rel_ms / 1000 * 1000,
                           .lat_deg = p.lat_deg,
                           .lon_deg = p.lon_deg,
                           .accuracy_m = (float)acc,
                           .speed_mps = -1.0f,
                           .heading_deg = -1.0f,
                           .quality = VG_FIX_NETWORK};
}

int vg_sim_world_sample(struct vg_sim_world *w, size_t unit, int64_t t_ms,
                        struct vg_sim_sample *out)
{
    if (!w || !out || unit >= w->n_units)
        return VG_EINVAL;
    if (t_ms < w->start_ms || t_ms > VG_TIME_MAX_MS)
        return VG_ERANGE;
    struct unit_state *st = &w->units[unit];
    if (t_ms < st->last_t_ms)
        return VG_ESTALE;
    const struct vg_sim_scenario *sc = w->sc;
    const struct vg__sim_pair *pair = &sc->pairs[unit / 2];
    int role = (int)(unit % 2);
    const struct vg__sim_person *self = &pair->person[role], *other = &pair->person[1 - role];
    int64_t rel_ms = t_ms - w->start_ms;

    /* the receiver's epochs up to now (a GNSS receiver computes one per
     * second; the unit reads the latest) */
    int64_t epoch = rel_ms / 1000;
    while (st->gnss.epoch < epoch)
        advance_epoch(w, unit);

    memset(out, 0, sizeof *out);
    struct vg__sim_pos person, device;
    locate(self, role, rel_ms, &st->cursor, &person, &device);
    out->true_lat_deg = person.lat_deg;
    out->true_lon_deg = person.lon_deg;
    out->device_lat_deg = device.lat_deg;
    out->device_lon_deg = device.lon_deg;
    out->fix = st->fix;
    out->powered = !find_active(self, VG__SIM_EV_SWITCHED_OFF, rel_ms);
    out->network_up = !find_active(self, VG__SIM_EV_NETWORK_OUTAGE, rel_ms) &&
                      !in_area(sc, VG__SIM_AREA_NO_NETWORK, rel_ms, device.lat_deg, device.lon_deg);
    out->net_fix = (struct vg_fix){.time_ms = t_ms, .speed_mps = -1.0f, .heading_deg = -1.0f};
    if (out->powered && out->network_up && out->fix.quality == VG_FIX_NONE)
        network_estimate(w, unit, rel_ms, &device, &out->net_fix);
    for (size_t i = 0; i < self->n_events; i++) {
        const struct vg__sim_event *e = &self->events[i];
        if (e->type == VG__SIM_EV_BATTERY_DRAIN && active(e, rel_ms))
            out->battery_drain_per_h += e->value;
        /* a press between the previous sample (excluded) and now (included) */
        if ((e->type == VG__SIM_EV_SOS || e->type == VG__SIM_EV_CALLBACK) &&
            e->from_ms > st->last_rel_ms && e->from_ms <= rel_ms)
            out->presses |= e->type == VG__SIM_EV_SOS ? VG_SIM_PRESS_SOS : VG_SIM_PRESS_CALLBACK;
    }
    out->beacon_range_m = -1.0;
    if (role == 0) {
        out->strap_closed = find_active(self, VG__SIM_EV_STRAP_CUT, rel_ms) ? 0 : 1;
        out->skin_contact = find_active(self, VG__SIM_EV_SKIN_LOST, rel_ms) ? 0 : 1;
        const struct vg__sim_event *left = find_active(self, VG__SIM_EV_LEFT_BEHIND, rel_ms);
        out->bracelet_in_reach = 1;
        if (left && distance_m(person.lat_deg, person.lon_deg, device.lat_deg, device.lon_deg) >
                        sc->link_range_m)
            out->bracelet_in_reach = 0;
    } else {
        out->strap_closed = out->skin_contact = out->bracelet_in_reach = -1;
        if (out->powered) {
            /* the bracelet (on the author) heard by her unit: a log-normal
             * range estimate from the signal strength; heard while that
             * estimate is within range, but for occasional misses */
            struct vg__sim_pos author;
            vg__sim_position(other, (double)rel_ms / 1000.0, &st->other_cursor, &author);
            double d = distance_m(author.lat_deg, author.lon_deg, device.lat_deg, device.lon_deg);
            if (d <= 4.0 * sc->beacon_range_m) {
                double estimate =
                    fmax(d, 1.0) * exp(sc->beacon_sigma * vg_prng_normal(&st->sample_rng));
                bool missed = vg_prng_uniform(&st->sample_rng) < sc->beacon_miss;
                if (estimate <= sc->beacon_range_m && !missed)
                    out->beacon_range_m = estimate;
            }
        }
    }
    st->last_t_ms = t_ms;
    st->last_rel_ms = rel_ms;
    return VG_OK;
}

_Static_assert((int)VG_SIM_EV_SOS == (int)VG__SIM_EV_SOS &&
                   (int)VG_SIM_EV_JAMMING == (int)VG__SIM_EV_JAMMING &&
                   (int)VG_SIM_EV_BATTERY_DRAIN == (int)VG__SIM_EV_BATTERY_DRAIN &&
                   (int)VG_SIM_EV_SWITCHED_OFF == (int)VG__SIM_EV_SWITCHED_OFF,
               "world.h's event kinds follow the scenario's, in the same order");

size_t vg_sim_world_faults(const struct vg_sim_world *w, size_t pair, struct vg_sim_fault *out,
                           size_t max)
{
    const struct vg_sim_scenario *sc = w->sc;
    if (pair >= sc->n_pairs)
        return 0;
    size_t n = 0;
    for (int role = 0; role < 2; role++) {
        const struct vg__sim_person *p = &sc->pairs[pair].person[role];
        for (size_t i = 0; i < p->n_events; i++) {
            const struct vg__sim_event *e = &p->events[i];
            if (n < max) {
                out[n] = (struct vg_sim_fault){
                    .kind = e->type,
                    .role = (uint8_t)role,
                    .from_s = e->from_ms / 1000,
                    .to_s = e->to_ms == VG__SIM_FOREVER_MS ? -1 : e->to_ms / 1000,
                    .value = e->value,
                };
            }
            n++;
        }
    }
    return n;
}
