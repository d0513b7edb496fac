/* The alarm engine: one state per measure, fed with the units' records and
 * with ticks, answering with alarms (and their evidence) and with commands
 * for the units. Pure: it reads no clock (every call carries `now_ms`, the
 * centre's UTC time), allocates nothing, and the same inputs always give the
 * same outputs.
 *
 * The rules, in short (docs/ENGINE.md has them in full, with the reasons):
 * - zones: the mobile zone around the protected person's latest position and
 *   every fixed zone, each with an alert ring at R and a pre-alert ring at
 *   2R. A crossing is judged with the fixes' accuracy: one that is clear
 *   beyond the accuracy is raised on its first fix; an ambiguous one must
 *   persist over a dwell time (or go uncontradicted: then it is raised as
 *   unconfirmed, for when unsure the engine raises); leaving needs a clear
 *   margin held over a dwell time, so noise at a ring's edge does not flap;
 * - a fix implying an impossible speed is held until another fix confirms
 *   it; meanwhile it can only make a crossing suspected, never raise alone;
 * - the other party's last fix ages: its uncertainty grows with its age;
 * - records are judged in their own time order; one older than the present
 *   state (a backlog flushed after an outage) is judged against the past,
 *   reported as late if it shows an intrusion, and never rewrites the present;
 * - inside an open time window no violation is raised at that zone, nor in
 *   the mobile zone while the author is within that zone's alert ring;
 * - a loss of the author's position (GNSS, network, unit switched off) is
 *   graded by reachability: urgent when the disc he may have covered since
 *   his last fix (at the reach speed) touches an alert zone, technical
 *   otherwise, and it turns urgent at the moment it could;
 * - commands: fast reporting for both units when the author nears a
 *   pre-alert ring; the protected person's unit rings at pre-alert and alert.
 *
 * Usage: vg_engine_init() once; vg_engine_feed() for every record, in the
 * order they arrive; vg_engine_tick() whenever now reaches
 * state->next_deadline_ms (calling it more often is harmless). */
#ifndef VG_CORE_ENGINE_H
#define VG_CORE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/alarm.h"
#include "core/fix.h"
#include "core/geo.h"
#include "core/tz.h"
#include "core/zone.h"

#define VG_ENGINE_MAX_FIXED_ZONES 8
#define VG_ENGINE_HISTORY         4 /* fixes kept per party to judge late records */

/* Tunable thresholds; vg_engine_params_default() gives the documented
 * defaults. One instance is shared by every measure. */
struct vg_engine_params {
    /* crossings */
    double clear_k;          /* clear inside when d + clear_k * u <= ring (u: 95% radius) */
    double suspect_k;        /* suspected inside when d - suspect_k * u <= ring */
    double exit_k;           /* clear outside when d - exit_k * u >= ring + margin */
    double exit_margin_frac; /* margin = max(exit_margin_min_m, frac * ring) */
    double exit_margin_min_m;
    int64_t dwell_ms; /* a suspected crossing is confirmed after this (two fixes at least) */
    int64_t confirm_timeout_ms; /* ...or raised unconfirmed when no fix came for this long */
    int64_t exit_dwell_ms;      /* a clear exit must hold this long (two fixes at least) */
    /* fixes */
    double max_speed_mps; /* beyond, a fix is not trusted on its own */
    double drift_mps;     /* least speed at which an old fix's uncertainty grows */
    int64_t age_cap_ms;   /* the growth stops after this age */
    /* 1: a fix less precise than the party's previous one aged to its time
     * (both with a Doppler speed, their discs meeting) is judged at that
     * previous position with the aged accuracy (docs/ENGINE.md, "A fix
     * less precise than the last one"); 0: every fix as it comes */
    int fuse_past_fix;
    /* A fix further from the previous one than both Doppler speeds allow
     * with at most jump_accel_mps2 of acceleration and braking between
     * them is a position jump (multipath): held, untrusted, for up to
     * jump_hold_ms while it persists (docs/ENGINE.md, "Fixes that cannot
     * be true"); 0 ms: no such check */
    double jump_accel_mps2;
    int64_t jump_hold_ms;
    int64_t clock_skew_ms; /* records this far in the future are clamped to now */
    int64_t late_after_ms; /* alarms about older records are marked late */
    /* losses */
    double reach_speed_mps; /* how fast the author may move while unseen */
    /* A settled author (his last fixes still, at one place) whose position
     * is lost is most likely indoors: his reach grows at settled_walk_mps
     * for settled_start_ms (he has to go out and get going; outdoors the
     * sky comes back), then at the reach speed. */
    double settled_walk_mps;
    int64_t settled_start_ms;
    int64_t settled_min_ms;  /* settled: last fixes spanning at least this long... */
    double settled_radius_m; /* ...all within this of the latest (plus its accuracy) */
    /* Near a zone (fast reporting on), this many consecutive "no fix"
     * records from his unit declare the GNSS loss at once if he could
     * already be inside an alert ring, without waiting gnss_loss_after_ms. */
    int near_nofix_records;
    /* ...and, while his unit reports at the fast cadence (its last two
     * fixes at most two fast intervals apart), nothing at all from it for
     * this long declares the communication loss the same way. */
    int64_t near_silence_ms;
    /* Network positions (VG_FIX_NETWORK: the modem's cell / Wi-Fi
     * estimate when the receiver has none). Their stated accuracy is
     * taken times net_k, and at least net_min_m (modems understate it,
     * and a cell can be far from its antenna). They bound a lost author's
     * reach (he is in both his GNSS disc and the network's), and become
     * the protected person's position once her last GNSS fix is
     * net_after_ms older than them and no better. */
    double net_k;
    double net_min_m;
    int64_t net_after_ms;
    int64_t gnss_loss_after_ms; /* no fix from a communicating unit for this long */
    int64_t comm_loss_after_ms; /* nothing at all from a unit for this long */
    /* batteries, percent */
    int battery_low_pct;
    int battery_critical_pct;
    int battery_recovered_pct;
    /* reporting commands */
    int32_t report_interval_ms; /* normal */
    int32_t fast_interval_ms;   /* near a zone */
    double fast_margin_m;       /* fast reporting within 2R + this... */
    int64_t fast_horizon_ms;    /* ...or when the pre-alert ring could be reached within this */
    int64_t fast_hold_ms;       /* fast reporting lasts at least this long */
    int64_t approach_memory_ms; /* decay time of the who-approached-whom tallies */
    /* her unit's notifications: a pre-alert the measure's policy keeps
     * quiet (vibrate, silent) rings aloud all the same when he closes in
     * on her at this speed or more (an approach that keeps closing) */
    double ring_closing_mps;
};

void vg_engine_params_default(struct vg_engine_params *p);
int vg_engine_params_check(const struct vg_engine_params *p);

/* How her unit tells her (VG_CMD_RING's mode). */
enum vg_ring_mode {
    VG_RING_LOUD = 0,    /* ring and vibrate */
    VG_RING_VIBRATE = 1, /* vibrate, no sound */
    VG_RING_SILENT = 2,  /* on the screen only */
};

/* Her unit's notification policy, set with her for each measure: how a
 * pre-alert tells her by day and at night (local time, the measure's time
 * zone). An alert always rings aloud, and so does a pre-alert while he
 * keeps closing in (params.ring_closing_mps): no policy silences those. */
struct vg_ring_policy {
    uint8_t prealert_day;   /* enum vg_ring_mode */
    uint8_t prealert_night; /* enum vg_ring_mode */
    int16_t night_from_min; /* local minutes after midnight, [0, 1440); */
    int16_t night_to_min;   /* from == to: no night */
};

/* The default: a pre-alert rings by day and vibrates from 22:00 to 07:00. */
void vg_ring_policy_default(struct vg_ring_policy *rp);
int vg_ring_policy_check(const struct vg_ring_policy *rp);

/* What the engine needs of a measure; every pointer is borrowed and must
 * outlive the state (zones, their vertices and windows, tz, params). */
struct vg_engine_config {
    double alert_radius_m; /* R of the mobile zone */
    const struct vg_zone *zones;
    size_t n_zones;         /* <= VG_ENGINE_MAX_FIXED_ZONES */
    const struct vg_tz *tz; /* for the zones' time windows */
    const struct vg_engine_params *params;
    const struct vg_ring_policy *ring; /* NULL: vg_ring_policy_default() */
};

int vg_engine_config_check(const struct vg_engine_config *cfg);

enum vg_command_kind {
    VG_CMD_SET_REPORTING = 1, /* report a fix every interval_ms */
    VG_CMD_RING = 2,          /* ring / vibrate with the level's message */
};

struct vg_command {
    uint8_t kind;        /* enum vg_command_kind */
    uint8_t unit;        /* enum vg_unit it is for */
    uint8_t level;       /* RING: enum vg_level */
    uint8_t mode;        /* RING: enum vg_ring_mode */
    int16_t zone_index;  /* RING: the zone concerned */
    int32_t interval_ms; /* SET_REPORTING */
};

/* Enough for the worst input: two fixes judged at once (a held fix and the
 * one confirming it) against every zone, plus health and loss alarms. */
#define VG_ENGINE_OUT_MAX_ALARMS   (2 * (1 + VG_ENGINE_MAX_FIXED_ZONES) + 16)
#define VG_ENGINE_OUT_MAX_COMMANDS (2 * (1 + VG_ENGINE_MAX_FIXED_ZONES) + 4)

struct vg_engine_out {
    size_t n_alarms;
    size_t n_commands;
    struct vg_alarm alarms[VG_ENGINE_OUT_MAX_ALARMS];
    struct vg_command commands[VG_ENGINE_OUT_MAX_COMMANDS];
};

enum vg_input_kind {
    VG_INPUT_FIX = 1,
    VG_INPUT_STATUS = 2,
    VG_INPUT_EVENT = 3,
};

struct vg_engine_input {
    uint8_t kind; /* enum vg_input_kind */
    uint8_t unit; /* enum vg_unit: who sent it (fixes: author's or protected unit) */
    union {
        struct vg_fix fix;
        struct vg_unit_status status;
        struct vg_unit_event event;
    };
};

/* ---- the per-measure state (opaque in spirit: read only next_deadline_ms) ----
 * It holds no pointer, so it can be stored as bytes and restored in the same
 * build family: VG_ENGINE_STATE_VERSION changes whenever its layout does
 * (engine.c checks the size at compile time to remind us). */
#define VG_ENGINE_STATE_VERSION 3

/* A fix kept in a party's history, compact (24 bytes): 1e-7 degree is
 * about 1 cm, speed in cm/s, heading in 2-degree steps. */
struct vg_track_fix {
    int64_t time_ms;
    int32_t lat_e7;
    int32_t lon_e7;
    float accuracy_m;
    uint16_t speed_cms; /* 0xffff: unknown */
    uint8_t quality;
    uint8_t heading_2deg; /* 0xff: unknown */
};

struct vg_party_state {
    struct vg_geo_prepared pos;                  /* latest accepted fix, ready for distances */
    struct vg_track_fix hist[VG_ENGINE_HISTORY]; /* accepted fixes, newest at hist[head] */
    struct vg_track_fix held; /* a fix not trusted on its own, awaiting confirmation */
    struct vg_track_fix net;  /* latest network position, accuracy as judged (time 0: none) */
    int64_t last_fix_rx_ms;   /* centre time of the latest accepted fix */
    float speed_mps;          /* estimated from the last fixes */
    uint8_t n_hist;
    uint8_t head;
    uint8_t has_held;
    uint8_t rejects; /* consecutive implausible fixes */
    uint8_t gnss_lost;
    uint8_t loss_urgent; /* a loss of the author's position was graded urgent */
    uint8_t nofix;       /* consecutive "no fix" records since the last accepted fix */
    uint8_t held_jump;   /* 1: the held fix jumped further than its Doppler speeds allow;
                            2: the present track was such a jump, taken (at held.time_ms) */
};

struct vg_unit_state {
    int64_t last_heard_ms; /* centre time of the latest record */
    int64_t status_ms;     /* record time of the latest status applied */
    int64_t power_ms;      /* record time of the latest power event */
    int64_t last_sos_ms;
    int64_t last_callback_ms;
    int8_t battery_pct;
    int8_t charging;
    int8_t strap_closed;
    int8_t skin_contact;
    int8_t bracelet_link;
    int8_t
        beacon_heard; /* protected unit: the bracelet's beacon heard (1), not (0), unknown (-1) */
    uint8_t battery_level; /* 0 ok, 1 low, 2 critical */
    uint8_t powered_off;
    uint8_t comm_lost;
    uint8_t late_reported; /* bad states already reported late (bit per sensor) */
};

struct vg_zone_state {
    int64_t entered_ms;       /* record time the present level was reached */
    int64_t suspect_since_ms; /* record time of the first fix of a suspected crossing */
    int64_t exit_since_ms;    /* record time of the first fix of a clear exit */
    float last_distance_m;    /* for the closing speed */
    uint8_t level;            /* enum vg_level raised */
    uint8_t suspect_level;    /* > level while a crossing is suspected */
    uint8_t suspect_fixes;
    uint8_t exit_level; /* < level while an exit is under way */
    uint8_t late_level; /* level last reported from late records */
    uint8_t rung_level; /* level the protected unit was rung for */
    uint8_t exit_fixes;
    uint8_t rung_mode; /* enum vg_ring_mode of the ring for rung_level */
};

struct vg_engine_state {
    struct vg_party_state party[2]; /* [0] author, [1] protected person */
    struct vg_unit_state unit[VG_UNIT_COUNT];
    struct vg_zone_state zone[1 + VG_ENGINE_MAX_FIXED_ZONES]; /* [0] mobile, [1+i] fixed i */
    int64_t now_ms;           /* latest centre time seen (never goes back) */
    int64_t next_deadline_ms; /* call vg_engine_tick() at or after this */
    int64_t windows_until_ms; /* the cached window answer holds before this... */
    int64_t windows_from_ms;  /* ...and from this */
    int64_t fast_since_ms;
    int64_t mobile_t_ms; /* time the tallies were last decayed */
    float mobile_distance_m;
    float closed_by[2];     /* who-approached-whom tallies (metres) */
    float approach_rate[2]; /* each party's own closing speed at its last step (m/s) */
    uint32_t alarm_seq;
    uint16_t windows_open; /* bit i: fixed zone i has an open window */
    uint16_t near_mask;    /* bit zi: the author is near zone zi (fast reporting) */
    uint8_t fast;          /* fast reporting requested */
    uint8_t authorised;    /* bit per party: within an open-window zone's alert ring */
};

/* Start the state of a measure that becomes active at now_ms: the units'
 * supervision starts from then. */
int vg_engine_init(struct vg_engine_state *s, const struct vg_engine_config *cfg, int64_t now_ms);

/* Judge one record. `out` is cleared first. Returns 0, or VG_EINVAL /
 * VG_ERANGE for a malformed record (which then changes nothing). */
int vg_engine_feed(struct vg_engine_state *s, const struct vg_engine_config *cfg,
                   const struct vg_engine_input *in, int64_t now_ms, struct vg_engine_out *out);

/* Let time pass: losses, timeouts of suspected crossings, escalations and
 * time windows opening or closing. `out` is cleared first. */
int vg_engine_tick(struct vg_engine_state *s, const struct vg_engine_config *cfg, int64_t now_ms,
                   struct vg_engine_out *out);

/* A RING (held, as the engine gave it) that could not be delivered when it
 * was given (her unit offline), judged again when it can be, at now_ms:
 * true, with *deliver, when it is still worth telling her: the zone still
 * raised, at its present level; an alert aloud; a pre-alert as her policy
 * says now (aloud while he closes in), never louder than it was held. false
 * when that zone's episode has ended (nothing she must act on now; the
 * operators' incident keeps it) or the command is no ring. Reads the state
 * only. (docs/ENGINE.md, "Her unit's notifications".) */
bool vg_engine_ring_on_delivery(const struct vg_engine_state *s, const struct vg_engine_config *cfg,
                                const struct vg_command *held, int64_t now_ms,
                                struct vg_command *deliver);

#endif
