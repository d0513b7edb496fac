/* Alarms: what the engine raises, with the evidence an operator (and later
 * a magistrate) needs to judge it. */
#ifndef VG_CORE_ALARM_H
#define VG_CORE_ALARM_H

#include <stdint.h>

#include "core/fix.h"

enum vg_party {
    VG_PARTY_NONE = 0, /* nobody, or cannot tell */
    VG_PARTY_AUTHOR = 1,
    VG_PARTY_PROTECTED = 2,
    VG_PARTY_BOTH = 3,
};

/* The three devices of a measure. The bracelet has no GNSS and no network:
 * its state reaches the centre through the author's unit. */
enum vg_unit {
    VG_UNIT_BRACELET = 0,
    VG_UNIT_AUTHOR = 1,    /* the author's mobile unit, paired with the bracelet */
    VG_UNIT_PROTECTED = 2, /* the protected person's mobile unit */
};
#define VG_UNIT_COUNT 3

enum vg_alarm_kind {
    VG_ALARM_PREALERT_ENTERED = 1,
    VG_ALARM_PREALERT_LEFT, /* back outside every ring of the zone */
    VG_ALARM_ALERT_ENTERED,
    VG_ALARM_ALERT_LEFT, /* back in the pre-alert ring only */
    VG_ALARM_GNSS_LOST,
    VG_ALARM_GNSS_RESTORED,
    VG_ALARM_COMM_LOST,
    VG_ALARM_COMM_RESTORED,
    VG_ALARM_BATTERY_LOW,
    VG_ALARM_BATTERY_CRITICAL,
    VG_ALARM_BATTERY_RECOVERED,
    VG_ALARM_STRAP_OPENED,
    VG_ALARM_STRAP_CLOSED,
    VG_ALARM_SKIN_CONTACT_LOST,
    VG_ALARM_SKIN_CONTACT_RESTORED,
    VG_ALARM_BRACELET_SEPARATED, /* the bracelet is out of reach of the author's unit */
    VG_ALARM_BRACELET_RECONNECTED,
    VG_ALARM_UNIT_SWITCHED_OFF,
    VG_ALARM_UNIT_SWITCHED_ON,
    VG_ALARM_SOS,
    VG_ALARM_CALLBACK_REQUEST,
    VG_ALARM_BEACON_DETECTED, /* the protected person's unit hears the bracelet's beacon: he is
                                 metres away */
    VG_ALARM_BEACON_LOST,     /* no longer heard */
    VG_ALARM_KIND__COUNT
};

/* Queue order for the operators (lower is more urgent). */
enum vg_alarm_priority {
    VG_PRIORITY_ALERT = 1,          /* alert, SOS, a loss that could hide an intrusion */
    VG_PRIORITY_NEUTRALISATION = 2, /* strap, skin, separation, author's unit off or flat */
    VG_PRIORITY_PREALERT = 3,       /* pre-alert, call-back request */
    VG_PRIORITY_TECHNICAL = 4,      /* a loss far from any zone, low battery */
    VG_PRIORITY_INFO = 5,           /* the end of a situation: left, restored, closed */
};

/* Zone levels. */
enum vg_level {
    VG_LEVEL_NONE = 0,
    VG_LEVEL_PREALERT = 1, /* within 2R */
    VG_LEVEL_ALERT = 2,    /* within R */
};

/* How sure the engine is of a zone crossing. */
enum vg_confidence {
    VG_CONFIDENCE_CLEAR = 1,       /* beyond the ring by more than the fix's accuracy */
    VG_CONFIDENCE_CONFIRMED = 2,   /* ambiguous at first, persisted over the dwell time */
    VG_CONFIDENCE_UNCONFIRMED = 3, /* ambiguous, and no later fix came to settle it */
};

/* Alarm flags. */
#define VG_ALARM_F_LATE 0x01 /* about a record older than the present state or than late_after_ms  \
                              */
#define VG_ALARM_F_URGENT     0x02 /* a loss graded urgent: the author could be in an alert zone */
#define VG_ALARM_F_ESCALATION 0x04 /* a loss already raised has just become urgent */
#define VG_ALARM_F_CLOCK      0x08 /* the record's time was in the future and was clamped to now */
#define VG_ALARM_F_AUTHORISED 0x10 /* inside a zone whose time window is open */

/* Zone index of an alarm: none, the mobile zone, or fixed zone i as i+1. */
#define VG_ZONE_INDEX_NONE   (-1)
#define VG_ZONE_INDEX_MOBILE 0

struct vg_alarm_evidence {
    struct vg_fix author_fix; /* the fixes the decision used (quality NONE if absent) */
    struct vg_fix protected_fix;
    double distance_m;    /* author to the zone's place or to the protected person; -1 if unknown */
    double uncertainty_m; /* of that distance: accuracies combined, and the older fix's age */
    double threshold_m;   /* the ring judged: R or 2R (0 if none) */
    double closing_speed_mps;  /* how fast the distance shrinks (>0 closing), 0 if unknown */
    double author_closed_m;    /* the recent closing of the distance due to each party's own */
    double protected_closed_m; /* movement (mobile zone), decaying over ~10 minutes */
    double reach_m;            /* losses: how far from his last fix the author may be by now */
    uint8_t approached_by;     /* enum vg_party: whose movement closed the distance */
    uint8_t confidence;        /* enum vg_confidence, zone crossings only */
};

struct vg_alarm {
    uint32_t seq;     /* per measure, increasing from 1: the alarm's identity with the measure's */
    uint16_t kind;    /* enum vg_alarm_kind */
    uint8_t unit;     /* enum vg_unit concerned (the author's unit for zone crossings) */
    uint8_t priority; /* enum vg_alarm_priority */
    uint8_t flags;    /* VG_ALARM_F_* */
    uint8_t level_from; /* zone crossings: enum vg_level before and after */
    uint8_t level_to;
    int16_t zone_index; /* VG_ZONE_INDEX_* or fixed zone index + 1 */
    uint32_t zone_id;   /* the fixed zone's id (0 for the mobile zone and non-zone alarms) */
    int64_t at_ms;      /* when it happened (the record's UTC time) */
    int64_t raised_ms;  /* when the engine raised it (the `now` it was given) */
    struct vg_alarm_evidence ev;
};

/* Stable snake_case name of a kind ("alert_entered"), or "unknown". */
const char *vg_alarm_kind_name(unsigned kind);
/* Short French label for operators ("Entrée en zone d'alerte"). */
const char *vg_alarm_kind_label_fr(unsigned kind);
const char *vg_party_name(unsigned party);
const char *vg_unit_name(unsigned unit);
const char *vg_level_name(unsigned level);

#endif
