/* What the units report: GNSS fixes, statuses and events, each stamped with
 * the UTC time at which it was true on the unit. */
#ifndef VG_CORE_FIX_H
#define VG_CORE_FIX_H

#include <stdint.h>

enum vg_fix_quality {
    VG_FIX_NONE = 0, /* the receiver has no fix: the record says so, and nothing else */
    VG_FIX_2D = 1,
    VG_FIX_3D = 2,
    VG_FIX_DGNSS = 3, /* differential / SBAS corrected */
    /* No GNSS fix, but a coarse position from the unit's modem (serving
     * cells, Wi-Fi access points): 200 m to several km off. Never a GNSS
     * fix: the engine uses it as evidence for judgement (how far a lost
     * author can be, where the protected person is when her sky is lost),
     * not to raise or clear a crossing on its own. On the wire it is a
     * quality-0 record with the position and the "network" source field
     * (docs/PROTOCOL.md 6.1), so that an older reader sees "no fix". */
    VG_FIX_NETWORK = 4,
};

/* A position from the GNSS receiver (not "none", not a network estimate). */
#define VG_FIX_IS_GNSS(q) ((q) >= VG_FIX_2D && (q) <= VG_FIX_DGNSS)

/* Records older than 2000 or beyond 2200 are refused as garbage. */
#define VG_TIME_MIN_MS 946684800000LL  /* 2000-01-01T00:00:00Z */
#define VG_TIME_MAX_MS 7258118400000LL /* 2200-01-01T00:00:00Z */
/* A reported accuracy beyond this is refused; below VG_FIX_MIN_ACCURACY_M
 * it is raised to it (no receiver knows its position better than that). */
#define VG_FIX_MAX_ACCURACY_M 100000.0f
#define VG_FIX_MIN_ACCURACY_M 3.0f
#define VG_FIX_MAX_SPEED_MPS  1000.0f

struct vg_fix {
    int64_t time_ms; /* UTC milliseconds since 1970 */
    double lat_deg;
    double lon_deg;
    float accuracy_m;  /* horizontal radius at about 95% confidence */
    float speed_mps;   /* ground speed, < 0 if unknown */
    float heading_deg; /* course over ground [0, 360), < 0 if unknown */
    uint8_t quality;   /* enum vg_fix_quality */
};

/* 0 if the fix is usable: time in range, and for a fix with a position,
 * finite coordinates in range, 0 <= accuracy <= VG_FIX_MAX_ACCURACY_M,
 * speed and heading finite and in range (or negative for unknown).
 * VG_EINVAL / VG_ERANGE otherwise. */
int vg_fix_check(const struct vg_fix *fix);

/* A unit's status. Fields that a unit does not have are -1 (unknown): the
 * strap and skin sensors are the bracelet's, the bracelet link the author's
 * unit's; battery and charging belong to every device. */
struct vg_unit_status {
    int64_t time_ms;
    int8_t battery_pct;   /* 0..100, -1 unknown */
    int8_t charging;      /* 0/1, -1 unknown */
    int8_t strap_closed;  /* bracelet: 1 closed, 0 opened (fibre loop broken), -1 unknown */
    int8_t skin_contact;  /* bracelet: 1 worn, 0 not in contact, -1 unknown */
    int8_t bracelet_link; /* author's unit: 1 bracelet in reach, 0 out of reach, -1 unknown */
    /* Protected person's unit: the bracelet's short-range beacon (Bluetooth
     * Low Energy on real hardware) heard by her unit — the local proximity
     * detector that keeps working without the network or the centre.
     * 1 heard, 0 no longer heard, -1 unknown; the range is the unit's
     * estimate in metres when heard (-1 unknown). */
    int8_t beacon_heard;
    int16_t beacon_range_m;
};

/* 0 if the status is well-formed for that unit (enum vg_unit); VG_EINVAL
 * for a value out of range or a sensor the unit does not have. */
int vg_unit_status_check(unsigned unit, const struct vg_unit_status *st);

enum vg_event_kind {
    VG_EVENT_HEARTBEAT = 1,        /* "I am alive" at the supervision interval */
    VG_EVENT_SOS = 2,              /* protected person's unit only */
    VG_EVENT_CALLBACK_REQUEST = 3, /* protected person's unit only */
    VG_EVENT_POWER_OFF = 4,        /* the unit is being switched off */
    VG_EVENT_POWER_ON = 5,
    VG_EVENT_RECORD_LOST = 6, /* sent with a number whose record the unit's flash lost: the
                                 loss on the record, and the number acknowledged */
};

struct vg_unit_event {
    int64_t time_ms;
    uint8_t kind; /* enum vg_event_kind */
};

/* 0 if the event is well-formed and may come from that unit. */
int vg_unit_event_check(unsigned unit, const struct vg_unit_event *ev);

#endif
