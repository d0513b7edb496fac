/* The simulator's world, inside: what the scenario parser builds and what
 * the world, the error model and the ground truth read. Not an API: the
 * contract is scenario.h and world.h. */
#ifndef VG_SIM_SIM_INTERNAL_H
#define VG_SIM_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/geo.h"
#include "core/prng.h"
#include "core/tz.h"
#include "core/zone.h"
#include "sim/scenario.h"

#define VG__SIM_PLACE_NAME_MAX 31
#define VG__SIM_MAX_PLACES     16
#define VG__SIM_MAX_ZONES      8 /* VG_ENGINE_MAX_FIXED_ZONES */
#define VG__SIM_MAX_WINDOWS    16
/* "For ever" in scenario milliseconds (an event without an end). */
#define VG__SIM_FOREVER_MS INT64_MAX

/* Printf-like message into err; returns rc. */
__attribute__((format(printf, 4, 5))) int vg__sim_fail(char *err, size_t len, int rc,
                                                       const char *fmt, ...);

/* A seed for a sub-stream: splitmix64 of a mix of the parts, so that
 * (seed, 1, 2) and (seed, 2, 1) are unrelated streams. */
uint64_t vg__sim_mix(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);

/* A point east_m / north_m metres away from (lat, lon), with the WGS84
 * meridian and normal radii at lat: exact to well under a millimetre for
 * the metres to hundreds of metres the simulator offsets points by. */
struct vg_geo_point vg__sim_offset(double lat_deg, double lon_deg, double east_m, double north_m);

/* ---- communes (GeoJSON polygons) ---- */

struct vg__sim_commune {
    char name[96];
    char code[16];
    size_t first_ring, n_rings;
    double min_lat, max_lat, min_lon, max_lon;
};

struct vg__sim_ring {
    size_t first, n; /* into points, [lon, lat] pairs as GeoJSON writes them */
};

struct vg__sim_communes {
    struct vg__sim_commune *communes;
    size_t n;
    struct vg__sim_ring *rings;
    size_t n_rings;
    double *points; /* lon, lat, lon, lat, ... */
    size_t n_points;
};

#define VG__SIM_COMMUNES_FILE "communes-44-loire-atlantique.geojson"

int vg__sim_communes_load(const char *path, struct vg__sim_communes **out, char *err, size_t len);
void vg__sim_communes_free(struct vg__sim_communes *cs);
/* By name ("Rezé") or INSEE code ("44143"); -1 if none. */
long vg__sim_communes_find(const struct vg__sim_communes *cs, const char *name_or_code);
bool vg__sim_commune_contains(const struct vg__sim_communes *cs, size_t commune, double lat_deg,
                              double lon_deg);
/* A point drawn uniformly (in degrees: the communes are small) inside the
 * commune. VG_ENOTFOUND if 100,000 draws all fell outside (a sliver). */
int vg__sim_commune_draw(const struct vg__sim_communes *cs, size_t commune, struct vg_prng *rng,
                         struct vg_geo_point *out);

/* ---- movement ---- */

enum vg__sim_mode {
    VG__SIM_WALK = 1,
    VG__SIM_BIKE,
    VG__SIM_CAR,
    VG__SIM_TRANSIT,
    VG__SIM_METRO,
};

enum vg__sim_seg_kind {
    VG__SIM_SEG_STAY = 0, /* at a place, with the small wander of someone at home */
    VG__SIM_SEG_MOVE = 1, /* from a to b at constant speed */
    VG__SIM_SEG_STOP = 2, /* standing at a transit stop (no wander) */
};

/* One piece of a person's timeline; it lasts from t0_s to the next
 * segment's t0_s (the last one for ever). Moves are at most 2 km long and
 * interpolated linearly in latitude and longitude between two points of
 * the geodesic (the deviation from it is under a centimetre). */
struct vg__sim_seg {
    double t0_s;
    double a_lat, a_lon, b_lat, b_lon;
    float speed_mps;
    float heading_deg;
    uint8_t kind;        /* enum vg__sim_seg_kind */
    uint8_t underground; /* metro: no sky, no fix */
};

struct vg__sim_place {
    char name[VG__SIM_PLACE_NAME_MAX + 1];
    struct vg_geo_point p;
};

/* The error model of one unit's receiver (docs/SCENARIOS.md). */
struct vg__sim_gnss {
    double r95_m;                        /* open sky: 95% of horizontal errors within this */
    double correlation_s;                /* Gauss-Markov correlation time */
    double canyon_factor;                /* the errors' scale in an urban canyon */
    double outlier_rate_per_h;           /* multipath jumps, open sky */
    double canyon_outlier_rate_per_h;    /* in an urban canyon */
    double outlier_min_m, outlier_max_m; /* jump size, log-uniform */
    double outlier_min_s, outlier_max_s; /* jump duration, uniform */
    double outlier_reported_fraction;    /* share of jumps the reported accuracy covers */
    double accuracy_spread;              /* sigma of ln(reported / modelled 95% radius) */
    double accuracy_correlation_s;
    double reacquire_s; /* no fix for this long after the sky comes back */
    /* cold starts: after the sky has been gone this long (0: never), the
     * receiver needs cold_reacquire_s instead, and its first minute of
     * fixes err cold_error_factor times more (fading linearly) */
    double cold_start_after_s;
    double cold_reacquire_s;
    double cold_error_factor;
};

enum vg__sim_event_type {
    VG__SIM_EV_SOS = 1,
    VG__SIM_EV_CALLBACK,
    VG__SIM_EV_STRAP_CUT,
    VG__SIM_EV_SKIN_LOST,
    VG__SIM_EV_SWITCHED_OFF,
    VG__SIM_EV_NETWORK_OUTAGE,
    VG__SIM_EV_LEFT_BEHIND,
    VG__SIM_EV_GNSS_HOLE,
    VG__SIM_EV_BATTERY_DRAIN,
    VG__SIM_EV_JAMMING,
};

struct vg__sim_event {
    uint8_t type;             /* enum vg__sim_event_type */
    int64_t from_ms;          /* scenario time; presses: the press */
    int64_t to_ms;            /* exclusive; VG__SIM_FOREVER_MS if open */
    double value;             /* battery: % per hour; jamming: radius (0: own unit only) */
    struct vg_geo_point spot; /* unit left behind: where it lies */
};

/* Places where a person's receiver sees an urban canyon (a narrow street
 * at home or at work): within VG__SIM_CANYON_SPOT_M of them. Generated by
 * the population's mix; scenario areas do the same for everyone. */
#define VG__SIM_MAX_CANYON_SPOTS 2
#define VG__SIM_CANYON_SPOT_M    250.0

struct vg__sim_person {
    struct vg__sim_place places[VG__SIM_MAX_PLACES];
    struct vg_geo_point canyon_spots[VG__SIM_MAX_CANYON_SPOTS];
    size_t n_canyon_spots;
    size_t n_places;
    struct vg__sim_seg *segs;
    size_t n_segs;
    double wander_m;
    double wander_period_s[3];
    double wander_phase[2][3];
    struct vg__sim_gnss gnss;
    struct vg__sim_event *events;
    size_t n_events;
};

struct vg__sim_pos {
    double lat_deg, lon_deg;
    float speed_mps, heading_deg; /* heading < 0 when not moving */
    bool underground;
};

/* Where the person is at t_s (seconds from the start, any real value);
 * *cursor is a hint (any value is fine; keep it between calls with
 * increasing t for O(1)). */
void vg__sim_position(const struct vg__sim_person *p, double t_s, size_t *cursor,
                      struct vg__sim_pos *out);

/* Timeline construction: the person starts at `start` and stays. */
struct vg__sim_timeline {
    struct vg__sim_person *person;
    size_t cap;
    struct vg_geo_point at; /* where the person is once the last trip ends */
    double free_s;          /* when the last trip ends */
};
int vg__sim_timeline_begin(struct vg__sim_timeline *tl, struct vg__sim_person *p,
                           struct vg_geo_point start);
struct vg__sim_trip {
    double depart_s;
    const struct vg_geo_point *via; /* waypoints, then the destination last */
    size_t n_points;
    uint8_t mode;
    double speed_mps;    /* cruise speed */
    double stop_every_m; /* 0: no stops */
    double stop_s;
};
/* Appends a trip; VG_ESTATE if it departs before the previous one ends. */
int vg__sim_timeline_trip(struct vg__sim_timeline *tl, const struct vg__sim_trip *trip);
/* Defaults of a mode. */
void vg__sim_mode_defaults(uint8_t mode, double *speed_mps, double *stop_every_m, double *stop_s);
void vg__sim_wander_draw(struct vg__sim_person *p, struct vg_prng *rng);

void vg__sim_gnss_defaults(struct vg__sim_gnss *g);

/* The receiver's error state, advanced one epoch (one second) at a time. */
struct vg__sim_gnss_state {
    struct vg_prng rng;
    int64_t epoch;        /* the last epoch computed, -1 before the first */
    double zx, zy;        /* the Gauss-Markov error, in units of its sigma */
    double za;            /* the reported accuracy's own slow wobble */
    int32_t outlier_left; /* epochs left in the current multipath jump */
    float outlier_east_m, outlier_north_m, outlier_m;
    uint8_t outlier_reported; /* the reported accuracy covers this jump */
    int64_t blocked_until;    /* no fix up to this epoch: reacquiring the sky */
    int64_t blocked_run;      /* consecutive epochs without sky */
    int32_t cold_left;        /* epochs left of a cold start's larger errors */
};

/* What the receiver computes at one epoch. */
struct vg__sim_gnss_epoch {
    bool fix;               /* false: no fix */
    double east_m, north_m; /* the error of the position */
    double accuracy_m;      /* the reported 95% radius */
    double speed_noise_mps, heading_noise_deg;
    bool outlier; /* a multipath jump is under way */
};

void vg__sim_gnss_init(struct vg__sim_gnss_state *st, uint64_t seed);
/* The next epoch; `canyon`: in an urban canyon; `blocked`: no sky (hole,
 * jamming, underground) or the receiver is off. */
void vg__sim_gnss_step(const struct vg__sim_gnss *g, struct vg__sim_gnss_state *st, bool canyon,
                       bool blocked, struct vg__sim_gnss_epoch *out);

/* ---- the measure as the scenario describes it ---- */

struct vg__sim_window {
    uint8_t relative; /* 1: from_ms..to_ms of the run; 0: weekly */
    int64_t from_ms, to_ms;
    uint8_t days; /* VG_DAY_* bits */
    uint16_t start_minute, end_minute;
};

struct vg__sim_zone {
    uint32_t id;
    uint8_t category; /* enum vg_zone_category */
    uint8_t shape;    /* enum vg_zone_shape */
    double alert_radius_m;
    struct vg_geo_point center;
    struct vg_geo_point *vertices; /* polygon, owned */
    size_t n_vertices;
    struct vg__sim_window *windows; /* owned */
    size_t n_windows;
};

struct vg__sim_measure {
    double alert_radius_m;
    struct vg__sim_zone zones[VG__SIM_MAX_ZONES];
    size_t n_zones;
};

struct vg__sim_pair {
    char name[65];
    struct vg__sim_person person[2]; /* [0] author, [1] protected */
    struct vg__sim_measure measure;
};

/* ---- areas ---- */

enum vg__sim_area_kind {
    VG__SIM_AREA_CANYON = 1,
    VG__SIM_AREA_HOLE,
    VG__SIM_AREA_JAMMING,
    VG__SIM_AREA_NO_NETWORK,
};

struct vg__sim_area {
    uint8_t kind;
    int64_t from_ms, to_ms;
    double min_lat, max_lat, min_lon, max_lon; /* bounding box */
    /* a circle (radius > 0), a polygon (vertices) or a commune (>= 0) */
    struct vg_geo_prepared center;
    double radius_m;
    struct vg_geo_point *vertices;
    size_t n_vertices;
    long commune;
};

bool vg__sim_area_contains(const struct vg_sim_scenario *sc, const struct vg__sim_area *a,
                           double lat_deg, double lon_deg);

struct vg_sim_scenario {
    char name[65];
    uint64_t seed;
    int64_t duration_ms;
    int64_t start_utc_ms; /* -1 if the scenario names none */
    char timezone[65];
    struct vg_tz tz;
    double beacon_range_m, beacon_sigma, beacon_miss, link_range_m;
    struct vg__sim_pair *pairs;
    size_t n_pairs;
    struct vg__sim_area *areas;
    size_t n_areas;
    struct vg__sim_communes *communes; /* loaded on first use, NULL otherwise */
};

struct vg__sim_measure_spec;

/* The population generator: appends `n` generated pairs to sc->pairs
 * (already sized for them). */
struct vg__sim_population {
    size_t pairs;
    long communes[256];
    size_t n_communes; /* 0: all */
    uint64_t seed_offset;
    double approach_fraction;
    double mean_stay_s;
    char prefix[32];
    /* the daily-life mix of the alert-quality corpus (population.mix,
     * docs/SCENARIOS.md); mix.present false keeps the plain commutes */
    struct vg__sim_mix {
        bool present;
        double start_hour;             /* local hour of the run's start (the day plan) */
        double close_fraction;         /* small towns: his home 1.3R to 2.6R from hers */
        double driver_fraction;        /* authors who drive all day (deliveries) */
        double non_worker_fraction;    /* people with no workplace to go to */
        double errands_per_day;        /* short trips, per person */
        double metro_fraction;         /* commuters who take the metro */
        double canyon_fraction;        /* homes / workplaces in an urban canyon */
        double indoor_loss_per_day;    /* no sky indoors (basement, mall), per person */
        double car_park_fraction;      /* car commuters parking underground at work */
        double tunnel_probability;     /* a car trip goes through a tunnel */
        double no_network_per_day;     /* stretches without network, per person */
        double switch_off_fraction;    /* units switched off for a while, per unit */
        double battery_fault_fraction; /* units left to discharge, per unit */
        double strap_cut_fraction;     /* authors who cut the strap */
        double skin_loss_fraction;     /* authors who take the bracelet off for a while */
        double left_behind_fraction;   /* authors who leave their unit behind a while */
        double walk_in_fraction;       /* drive near, walk into her alert ring, walk out */
        double stalk_fraction;         /* linger at the edge of her pre-alert ring */
        double drive_through_fraction; /* a fast drive across her alert ring */
        double visit_fraction;         /* she goes near his home (the barbecue) */
        double keep_away_fraction;     /* authors whose errands and rounds keep clear of her
                                          home's and workplace's pre-alert rings */
    } mix;
};
int vg__sim_population_generate(struct vg_sim_scenario *sc, const struct vg__sim_population *pop,
                                const struct vg__sim_measure_spec *tmpl,
                                const struct vg__sim_gnss *gnss, char *err, size_t len);

/* A measure as written, before its places are known: a zone's centre may
 * name a place ("protected.home"). The population applies the scenario's
 * template to each pair it generates. */
struct vg__sim_measure_spec {
    bool present;
    char path[64]; /* where it was written, for messages */
    struct vg__sim_measure m;
    int8_t center_role[VG__SIM_MAX_ZONES]; /* -1: the centre is coordinates */
    char center_name[VG__SIM_MAX_ZONES][VG__SIM_PLACE_NAME_MAX + 1];
};
/* out = spec with every centre resolved against the pair's places (deep
 * copy: out owns its windows and vertices). */
int vg__sim_measure_resolve(const struct vg__sim_measure_spec *spec,
                            const struct vg__sim_pair *pair, const char *pair_path,
                            struct vg__sim_measure *out, char *err, size_t len);
void vg__sim_measure_cleanup(struct vg__sim_measure *m);
const struct vg__sim_place *vg__sim_place_find(const struct vg__sim_person *p, const char *name);

/* The measure definition JSON of a pair (malloc'd), windows fixed for a
 * run starting at start_utc_ms. NULL and a message on error. */
char *vg__sim_measure_json(const struct vg_sim_scenario *sc, size_t pair, int64_t start_utc_ms,
                           const char *name, const char *author, const char *protected_unit,
                           const char *bracelet, char *err, size_t len);

/* The local wall-clock bounds of a relative window for a run starting at
 * start_utc_ms: its start rounded up and its end rounded down to the
 * minute (an authorisation never lasts longer than written), as
 * "YYYY-MM-DDTHH:MM". VG_ERANGE if nothing is left. */
int vg__sim_window_local(const struct vg_sim_scenario *sc, const struct vg__sim_window *w,
                         int64_t start_utc_ms, char from[17], char to[17]);

#endif
