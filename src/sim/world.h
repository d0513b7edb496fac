/* The simulated world of vigie-sim: what each unit experiences over a run
 * (its receiver's fixes, its power, its network, the bracelet's sensors,
 * the buttons pressed) and the ground truth the alarms are judged against.
 *
 * Units: two per pair. Unit 2*i is pair i's author's unit (his bracelet is
 * on him), unit 2*i+1 the protected person's unit.
 *
 * Determinism: the world is a function of the scenario, the run's seed and
 * the start time. Movement comes from the scenario alone (scenario.h).
 * The receiver's error is drawn on a 1 Hz grid of epochs (a GNSS receiver
 * computes one position per second), so a unit's fix at a given second is
 * the same whenever and however often it is sampled; only the per-sample
 * draws (the beacon's range estimate) depend on the sampling.
 *
 * Cost: vg_sim_world_sample() allocates nothing and does no I/O; the world
 * holds about 300 bytes per unit besides the scenario. */
#ifndef VG_SIM_WORLD_H
#define VG_SIM_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "core/fix.h"
#include "sim/scenario.h"

struct vg_sim_world;

/* A world for a run of the scenario (borrowed: it must outlive the world)
 * with the run's seed, starting at start_utc_ms (UTC milliseconds, between
 * 2000 and 2200 with the run inside). Checks that every authorisation
 * window of every measure survives being fixed to local minutes.
 * 0, or a negative vg_err with a message in err. */
int vg_sim_world_new(const struct vg_sim_scenario *sc, uint64_t seed, int64_t start_utc_ms,
                     struct vg_sim_world **out, char *err, size_t err_len);
void vg_sim_world_free(struct vg_sim_world *w);

size_t vg_sim_world_units(const struct vg_sim_world *w);
int64_t vg_sim_world_start_utc_ms(const struct vg_sim_world *w);
const struct vg_sim_scenario *vg_sim_world_scenario(const struct vg_sim_world *w);

/* The measure definition of pair i (JSON text for POST /api/v1/measures,
 * docs/API.md; malloc'd, the caller frees it), with the serials the
 * program chose. `name` is the measure's name (NULL: the pair's name);
 * bracelet_serial may be NULL. Relative windows become one-off local
 * windows in the measure's time zone, rounded inward to the minute.
 * NULL for a bad pair index, an invalid name or serial, or no memory. */
char *vg_sim_world_measure_json(const struct vg_sim_world *w, size_t pair, const char *name,
                                const char *author_serial, const char *protected_serial,
                                const char *bracelet_serial);

/* Bits of vg_sim_sample.presses. */
#define VG_SIM_PRESS_SOS      0x1u
#define VG_SIM_PRESS_CALLBACK 0x2u

struct vg_sim_sample {
    double true_lat_deg, true_lon_deg;     /* where the person really is */
    double device_lat_deg, device_lon_deg; /* where the unit is: the person's position,
                                              except when the author left it behind */
    struct vg_fix fix;          /* the receiver's latest epoch (time <= t, whole seconds from the
                                   start); quality VG_FIX_NONE in a hole, jammed, underground, while
                                   reacquiring, or switched off */
    int network_up;             /* 0 during an outage or in a no-network area */
    int powered;                /* 0 while switched off */
    int8_t strap_closed;        /* author's unit (its bracelet): 1/0; -1 for the protected unit */
    int8_t skin_contact;        /* idem */
    int8_t bracelet_in_reach;   /* author's unit: 1 if the bracelet is within link range; -1 else */
    double battery_drain_per_h; /* extra drain the scenario imposes, % per hour (0 normally) */
    unsigned presses;           /* VG_SIM_PRESS_*: pressed since the previous sample */
    double beacon_range_m;      /* protected unit: the bracelet's beacon heard at this estimated
                                   range (-1: not heard; always -1 for the author's unit) */
    /* The modem's network estimate (serving cells, Wi-Fi), quality
     * VG_FIX_NETWORK, while the unit is on, its receiver has no fix and
     * the network is up; quality VG_FIX_NONE otherwise. Its stated
     * accuracy is 200 m to 2 km (log-uniform); the true error is drawn
     * within it 95% of the time, and 3% of estimates are outliers 1.5 to
     * 3 times their stated accuracy off (a far cell, a roaming one). A new
     * estimate every 2 minutes (a function of the seed, the unit and the
     * time, not of the sampling). */
    struct vg_fix net_fix;
};

/* What unit u experiences at UTC time t_ms. Per unit, t_ms must not
 * decrease (VG_ESTALE otherwise) and must not be before the start
 * (VG_ERANGE); a run may go on past the scenario's duration (people stay
 * where their last trip left them). VG_EINVAL for a bad unit. */
int vg_sim_world_sample(struct vg_sim_world *w, size_t unit, int64_t t_ms,
                        struct vg_sim_sample *out);

/* ---- what happens to the devices (the scenario's events) ---- */

enum vg_sim_fault_kind {
    VG_SIM_EV_SOS = 1,
    VG_SIM_EV_CALLBACK,
    VG_SIM_EV_STRAP_CUT,
    VG_SIM_EV_SKIN_LOST,
    VG_SIM_EV_SWITCHED_OFF,
    VG_SIM_EV_NETWORK_OUTAGE,
    VG_SIM_EV_LEFT_BEHIND,
    VG_SIM_EV_GNSS_HOLE,
    VG_SIM_EV_BATTERY_DRAIN,
    VG_SIM_EV_JAMMING,
};

/* One event of a pair's persons, as the scenario (or the population's mix)
 * set it: the true device faults (strap cut, bracelet off, unit switched
 * off, left behind, battery drained) and the true losses of sky or network. */
struct vg_sim_fault {
    uint8_t kind;         /* enum vg_sim_fault_kind */
    uint8_t role;         /* 0 the author (his unit, his bracelet), 1 the protected person */
    int64_t from_s, to_s; /* seconds of the run; to_s -1: for ever */
    double value;         /* battery: % per hour; jamming: radius (m) */
};

/* Pair i's events, both persons: fills out[0..max) and returns how many
 * there are (0 for a bad pair). */
size_t vg_sim_world_faults(const struct vg_sim_world *w, size_t pair, struct vg_sim_fault *out,
                           size_t max);

/* ---- ground truth (movement alone, 1 s resolution) ---- */

enum vg_sim_truth_kind {
    VG_SIM_TRUTH_PREALERT = 1, /* the zone's distance <= 2R */
    VG_SIM_TRUTH_ALERT = 2,    /* <= R */
    VG_SIM_TRUTH_BEACON = 3,   /* author and protected person within the beacon's range */
};

/* A maximal run of whole seconds [from_s, to_s) (from the start) during
 * which the condition held at every second, with the same authorisation.
 * zone_index follows the engine's alarms: 0 the mobile zone (author to
 * protected person), i+1 the measure's fixed zone i; -1 for the beacon. */
struct vg_sim_interval {
    uint32_t pair;
    int16_t zone_index;
    uint32_t zone_id;    /* the fixed zone's id, 0 for the mobile zone and the beacon */
    uint8_t kind;        /* enum vg_sim_truth_kind */
    uint8_t authorised;  /* a time window authorised presence (docs/ENGINE.md rules) */
    uint8_t open_at_end; /* still true at the end of the run */
    int64_t from_s, to_s;
    double min_distance_m; /* the closest the author came during it */
};

struct vg_sim_truth {
    struct vg_sim_interval *intervals;
    size_t n, cap;
};

/* Appends pair i's intervals (ordered by from_s, zone, kind) to *out
 * (zero-initialise it first; free with vg_sim_truth_free). */
int vg_sim_world_truth_pair(const struct vg_sim_world *w, size_t pair, struct vg_sim_truth *out,
                            char *err, size_t err_len);
/* Every pair's, pair by pair. */
int vg_sim_world_truth(const struct vg_sim_world *w, struct vg_sim_truth *out, char *err,
                       size_t err_len);
void vg_sim_truth_free(struct vg_sim_truth *t);

/* Writes the ground truth as JSON lines (format in docs/SCENARIOS.md): a
 * "run" line, then per pair a "pair" line, its "position" lines every
 * positions_every_s seconds (none if <= 0) and its intervals. The same
 * scenario and start give the same file, byte for byte. */
int vg_sim_world_write_truth(const struct vg_sim_world *w, const char *path, int positions_every_s,
                             char *err, size_t err_len);

#endif
