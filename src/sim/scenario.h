/* Scenarios of the simulator: who lives where, who goes where and when, how
 * the receivers err, what happens to the devices (docs/SCENARIOS.md).
 *
 * A scenario is a strict JSON file: unknown keys and bad values are
 * refused with a message naming the path of the offending value, e.g.
 *   pairs[0].author.trips[2].mode: unknown mode "boat" (walk, bike, car, transit, metro)
 *
 * Parsing resolves everything that is drawn (points inside communes, the
 * population, the wander of people at home) from the scenario's own
 * "seed", so the movement of every person is fixed by the file alone: the
 * run's seed (world.h) changes the receivers' noise, never where people
 * are. The scenario is immutable once parsed and may be shared. */
#ifndef VG_SIM_SCENARIO_H
#define VG_SIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "core/geo.h"

struct vg_sim_scenario;

/* Parse a scenario. geo_dir is the directory of
 * communes-44-loire-atlantique.geojson (data/geo); it may be NULL when
 * the scenario names no commune. On success *out is the scenario (free it
 * with vg_sim_scenario_free); on failure a negative vg_err and a message
 * in err (nothing to free). */
int vg_sim_scenario_parse(const char *json, size_t json_len, const char *geo_dir,
                          struct vg_sim_scenario **out, char *err, size_t err_len);
/* The same from a file (at most 64 MiB). */
int vg_sim_scenario_load(const char *path, const char *geo_dir, struct vg_sim_scenario **out,
                         char *err, size_t err_len);
void vg_sim_scenario_free(struct vg_sim_scenario *sc);

size_t vg_sim_scenario_pairs(const struct vg_sim_scenario *sc);
int64_t vg_sim_scenario_duration_ms(const struct vg_sim_scenario *sc);
/* The start the scenario suggests ("start_utc"), or -1 if it names none. */
int64_t vg_sim_scenario_start_utc_ms(const struct vg_sim_scenario *sc);
/* The pair's name (the scenario's, or generated); NULL if out of range. */
const char *vg_sim_scenario_pair_name(const struct vg_sim_scenario *sc, size_t pair);

/* Units are numbered as the world numbers them: 2*i is pair i's author
 * (and his bracelet), 2*i+1 the protected person. */
struct vg_sim_position {
    double lat_deg, lon_deg;
    double speed_mps;   /* 0 when staying */
    double heading_deg; /* course over ground, -1 when not moving */
    int underground;    /* on a metro trip */
};
/* Where the person of `unit` truly is at t_s seconds from the start
 * (movement alone: a pure function of time). VG_EINVAL for a bad unit or
 * a non-finite time. */
int vg_sim_scenario_position(const struct vg_sim_scenario *sc, size_t unit, double t_s,
                             struct vg_sim_position *out);
/* A place of that unit's person by name ("home"); VG_ENOTFOUND if none. */
int vg_sim_scenario_place(const struct vg_sim_scenario *sc, size_t unit, const char *name,
                          struct vg_geo_point *out);

#endif
