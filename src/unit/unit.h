/* The mobile unit's logic, shared by vigie-unit (one real unit) and
 * vigie-sim (thousands of simulated ones): what to record and when, what to
 * send and in which order, how to react to the centre's messages, when to
 * reconnect and where, the battery model and the local proximity detector.
 *
 * It does no I/O and reads no clock ("sans-I/O"): the program around it
 * (the shell) gives it the time with every call, feeds it what the GNSS
 * receiver, the sensors and the connection produce, moves the bytes it
 * wants to send, and opens or closes the connection when it asks. So the
 * same code runs one unit on a serial port and ten thousand on one event
 * loop, and the tests drive it without sockets (tests/device/).
 *
 * Memory is fixed after vg_unit_init(): the output buffer is allocated
 * there, the records live in the ring (src/unit/ring.h, the unit's flash).
 *
 * Typical shell loop:
 *   vg_unit_init(); then whenever something happens (a fix, an input, bytes
 *   received, a timer at vg_unit_next_deadline()):
 *     call the matching vg_unit_*(..., now);
 *     if (vg_unit_want_close(u)) close the connection, vg_unit_disconnected();
 *     if (vg_unit_want_connect(u, now, &server)) start connecting to it;
 *     while the connection's output is not too full and
 *           vg_unit_output(u, now, &p) > 0: write p, vg_unit_output_consumed(). */
#ifndef VG_UNIT_UNIT_H
#define VG_UNIT_UNIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/fix.h"
#include "core/prng.h"
#include "core/proto.h"
#include "unit/ring.h"

#define VG_UNIT_MAX_SERVERS     2
#define VG_UNIT_RECENT_COMMANDS 16

/* Where a ring (an order to show and sound something) comes from. */
enum vg_unit_ring_source {
    VG_UNIT_RING_CENTRE = 0, /* a RING command */
    VG_UNIT_RING_LOCAL = 1,  /* the unit's own proximity detector, without the centre */
};

/* Inputs other than GNSS: the buttons and sensors. */
enum vg_unit_input {
    VG_UNIT_IN_SOS = 1,           /* protected unit: the SOS button */
    VG_UNIT_IN_CALLBACK = 2,      /* protected unit: the call-back button */
    VG_UNIT_IN_STRAP = 3,         /* author's unit: the bracelet's strap, 1 closed 0 opened */
    VG_UNIT_IN_SKIN = 4,          /* author's unit: the bracelet's skin contact, 1 worn 0 not */
    VG_UNIT_IN_BRACELET_LINK = 5, /* author's unit: 1 bracelet in reach, 0 out of reach */
    VG_UNIT_IN_CHARGING = 6,      /* 1 on the charger, 0 off */
    VG_UNIT_IN_BATTERY = 7,       /* a measured battery level in percent (overrides the model) */
    VG_UNIT_IN_POWER = 8,         /* 0 switched off (an orderly shutdown), 1 switched on */
};

struct vg_unit_hooks {
    void *ctx;
    /* Show and sound: level 0 information, 1 pre-alert, 2 alert; sound 0
     * aloud, 1 vibrate only, 2 on the screen only (the centre's RING says,
     * from her notification policy; the unit's own rings are aloud). */
    void (*ring)(void *ctx, unsigned source, unsigned level, const char *message,
                 unsigned vibrate_ms, unsigned sound);
    /* Something worth a line in the unit's log (English, no newline). */
    void (*log)(void *ctx, const char *level, const char *message);
};

struct vg_unit_params {
    uint8_t role;                   /* VG_UNIT_AUTHOR or VG_UNIT_PROTECTED (core/alarm.h) */
    uint8_t n_servers;              /* 1 or 2: the centre's sites */
    uint64_t seed;                  /* the jitter of reconnections */
    uint32_t report_interval_ms;    /* until the centre says otherwise (persisted) */
    uint32_t heartbeat_interval_ms; /* idem */
    uint32_t status_interval_ms;    /* a status at least this often (battery level) */
    uint32_t ack_timeout_ms;        /* records in flight and no acknowledgement: reconnect */
    uint32_t welcome_timeout_ms;    /* HELLO sent and no WELCOME */
    uint32_t backoff_min_ms;        /* reconnection delay: from this, doubling... */
    uint32_t backoff_max_ms;        /* ...up to this, +-20 % */
    uint32_t session_lasted_ms;     /* a session this long resets the delay */
    uint32_t max_in_flight;         /* records sent and not acknowledged (the centre bounds it) */
    uint32_t max_frame_records;     /* records per RECORDS frame */
    uint32_t gnss_fresh_ms;         /* a receiver fix older than this is "no fix" */
    uint32_t beacon_lost_ms;        /* beacon not heard for this long: no longer near */
    uint8_t battery_model;          /* 1: simulate the battery (no gauge on this hardware) */
    float battery_pct;              /* the model's starting level */
    float drain_idle_pct_h;         /* the model: always */
    float drain_gnss_pct_h;         /* receiver on, at a 1 s reporting interval (scaled) */
    float drain_radio_pct_h;        /* while connected */
    float charge_pct_h;             /* on the charger */
    char firmware[65];
};

/* Documented defaults: reporting every 30 s, heartbeat 60 s, status every
 * 10 min, ack timeout 60 s, back-off 1 s..5 min, 4096 in flight, 256
 * records a frame, a battery that lasts about 48 h at 30 s. */
void vg_unit_params_default(struct vg_unit_params *p, uint8_t role);

enum vg_unit_link_state {
    VG_LINK_DOWN = 0,   /* not connected; waiting for retry_at_ms */
    VG_LINK_CONNECTING, /* the shell is connecting (TCP + TLS) */
    VG_LINK_HELLO,      /* connected, HELLO sent, waiting for WELCOME */
    VG_LINK_UP,         /* in session */
};

struct vg_unit_counters {
    uint64_t records;         /* appended to the ring */
    uint64_t fixes;           /* of which position records (with or without a fix) */
    uint64_t records_refused; /* the ring was full */
    uint64_t records_sent;    /* in RECORDS frames (resends included) */
    uint64_t acked;           /* records the centre acknowledged */
    uint64_t sessions;        /* WELCOMEs received */
    uint64_t connect_attempts;
    uint64_t disconnects;
    uint64_t commands;        /* executed (repeats not counted) */
    uint64_t errors_received; /* ERROR frames */
};

struct vg_mobile_unit {
    struct vg_unit_params p;
    struct vg_unit_hooks hooks;
    struct vg_ring *ring;
    struct vg_prng prng;
    int powered;
    uint8_t draining;  /* vg_unit_drain(): sends what it kept, records nothing new */
    uint8_t off_flat;  /* switched off by a flat battery (a charger restarts it) */
    int64_t off_at_ms; /* switched off: the connection lasts until the last records
                          are acknowledged, or until this */
    uint32_t boot_count;

    /* the connection */
    uint8_t link;   /* enum vg_unit_link_state */
    uint8_t server; /* which of the centre's addresses */
    uint8_t want_close;
    uint8_t failures; /* consecutive attempts that did not give a session */
    int64_t retry_at_ms;
    uint32_t backoff_ms;
    int64_t link_since_ms; /* when the present state began */
    int64_t last_ack_ms;   /* last acknowledgement progress (or session start) */
    uint64_t in_flight;    /* sent this session, not acknowledged */
    uint16_t last_error;   /* the last ERROR code received (0: none) */

    /* recording */
    uint32_t report_interval_ms;
    uint32_t heartbeat_interval_ms;
    int64_t next_fix_ms;
    int64_t last_record_ms; /* time of the latest record appended */
    int64_t next_status_ms;
    uint8_t position_requested;
    struct vg_fix gnss; /* the receiver's latest fix */
    int64_t gnss_rx_ms; /* when it came */
    struct vg_fix net;  /* the modem's latest network estimate (quality NETWORK, or NONE) */
    int64_t net_rx_ms;  /* when it came */

    /* sensors, as last reported (-1 unknown) */
    int8_t strap_closed, skin_contact, bracelet_link, charging;
    int8_t reported_battery; /* the level in the latest status */
    int8_t reported_strap, reported_skin, reported_link, reported_charging;
    float battery_pct; /* the model's level, or the last measured one */
    int64_t battery_t_ms;
    float extra_drain_pct_h; /* imposed by a simulation (a faulty battery) */

    /* the local proximity detector (protected unit) */
    int8_t beacon_heard;
    int64_t beacon_last_ms;
    float beacon_range_m;

    /* commands */
    uint32_t recent_cmds[VG_UNIT_RECENT_COMMANDS]; /* executed; 0 is never a valid id here */
    uint8_t recent_next;
    uint32_t pending_acks[VG_UNIT_RECENT_COMMANDS]; /* COMMAND_ACKs to send (id, status) */
    uint8_t pending_ack_status[VG_UNIT_RECENT_COMMANDS];
    uint8_t n_pending_acks;

    /* bytes received but not yet a whole frame, and bytes to send */
    uint8_t in[VG_PROTO_HEADER_LEN + 1024];
    size_t in_len;
    uint8_t *out;
    size_t out_cap, out_len, out_off;

    struct vg_unit_counters n;
};

/* Start a unit on its ring: its persisted settings (intervals, boot count,
 * recent commands) are read back, the boot count goes up, and a POWER_ON
 * event is recorded. The ring stays the caller's. */
int vg_unit_init(struct vg_mobile_unit *u, const struct vg_unit_params *p,
                 const struct vg_unit_hooks *h, struct vg_ring *ring, int64_t now_ms);
void vg_unit_free(struct vg_mobile_unit *u);

/* ---- inputs ---------------------------------------------------------- */

/* The receiver's latest fix (quality NONE when it has none), ~1 Hz. */
void vg_unit_gnss(struct vg_mobile_unit *u, const struct vg_fix *fix, int64_t now_ms);
/* The modem's network estimate (serving cells, Wi-Fi: quality
 * VG_FIX_NETWORK), or NULL when it has none. While the receiver has no
 * fix, the unit's position records carry the latest estimate not older
 * than VG_UNIT_NET_FRESH_MS (docs/PROTOCOL.md 6.1, docs/UNIT.md). */
#define VG_UNIT_NET_FRESH_MS 300000
void vg_unit_network(struct vg_mobile_unit *u, const struct vg_fix *net, int64_t now_ms);
/* A button or a sensor (enum vg_unit_input). VG_EINVAL for an input this
 * role does not have or a value out of range. */
int vg_unit_input(struct vg_mobile_unit *u, unsigned input, int value, int64_t now_ms);
/* The bracelet's beacon heard at an estimated range (metres), or not heard
 * in this scan (range < 0). Protected unit only. */
void vg_unit_beacon(struct vg_mobile_unit *u, double range_m, int64_t now_ms);
/* A simulation's extra battery drain (percent per hour, 0 normally). */
void vg_unit_set_extra_drain(struct vg_mobile_unit *u, double pct_per_h);
/* Let time pass: fixes due, heartbeats, statuses, battery, the beacon's
 * timeout, acknowledgement and WELCOME timeouts. */
void vg_unit_tick(struct vg_mobile_unit *u, int64_t now_ms);
/* When vg_unit_tick() has something to do next. */
int64_t vg_unit_next_deadline(const struct vg_mobile_unit *u);

/* ---- the connection ---------------------------------------------------- */

/* 1 (and *server) when the shell should start connecting now. */
int vg_unit_want_connect(struct vg_mobile_unit *u, int64_t now_ms, unsigned *server);
/* The TLS session is up: HELLO is queued. */
void vg_unit_connected(struct vg_mobile_unit *u, int64_t now_ms);
/* The attempt failed, or the connection ended (whoever closed it). */
void vg_unit_disconnected(struct vg_mobile_unit *u, int64_t now_ms);
/* 1 when the unit wants the connection closed (a malformed frame, an
 * ERROR, an overdue acknowledgement); the shell closes it and calls
 * vg_unit_disconnected(). */
int vg_unit_want_close(const struct vg_mobile_unit *u);
/* Bytes from the centre (any amount). VG_OK, or VG_EFORMAT when the stream
 * is malformed (the unit then wants the connection closed). */
int vg_unit_received(struct vg_mobile_unit *u, const uint8_t *buf, size_t len, int64_t now_ms);
/* Bytes to send now (0: nothing); frames are produced on demand, so call
 * it only while the connection can take more. */
size_t vg_unit_output(struct vg_mobile_unit *u, int64_t now_ms, const uint8_t **bytes);
void vg_unit_output_consumed(struct vg_mobile_unit *u, size_t n);

/* Intervals set locally (the command line of a unit on a test bench): kept
 * across reboots, until the centre says otherwise. 0 keeps one as it is. */
void vg_unit_params_override(struct vg_mobile_unit *u, uint32_t report_ms, uint32_t heartbeat_ms,
                             int64_t now_ms);

/* The end of a simulated run: the unit stops recording anything new
 * (fixes, heartbeats, events) and, switched on if it was off, connects to
 * hand over what it kept, so that "pending" can reach 0. */
void vg_unit_drain(struct vg_mobile_unit *u, int64_t now_ms);

/* Records kept and not acknowledged. */
uint64_t vg_unit_pending(const struct vg_mobile_unit *u);

#endif
