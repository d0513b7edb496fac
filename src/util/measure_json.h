/* A measure's definition as JSON (what `vigie measure create` sends and
 * the store keeps), turned into what the engine reads. Strict: unknown
 * keys, wrong types and out-of-range values are refused with a message
 * naming the offending key.
 *
 * {
 *   "name": "M-2026-0001",
 *   "court": "TJ-Nantes",                           (optional: the ordering court)
 *   "alert_radius_m": 2000,
 *   "timezone": "Europe/Paris",                    (optional, this default)
 *   "units": {"author": "U-A1", "protected": "U-P1", "bracelet": "B-1"},
 *   "persons": {"author": 7293, "protected": 1188},  (optional: their files' ids)
 *   "decision": {...},      (the judicial decision: util/measure_decision.h; required
 *                            through the API, absent only from measures declared before)
 *   "zones": [                                       (optional, at most 8)
 *     {"id": 1, "category": "protected_home", "shape": "circle",
 *      "center": [47.2184, -1.5536], "alert_radius_m": 2000},
 *     {"id": 2, "category": "school", "shape": "polygon",
 *      "vertices": [[47.19, -1.56], [47.19, -1.55], [47.196, -1.55]],
 *      "alert_radius_m": 1000,
 *      "windows": [{"days": ["wed"], "start": "16:00", "end": "16:30"},
 *                  {"from": "2026-07-02T10:00", "to": "2026-07-02T12:00"}]}
 *   ]
 * }
 * Categories: protected_home, protected_workplace, school, frequented_place,
 * other. Days: mon tue wed thu fri sat sun. Times are local to "timezone".
 *
 * "report_to" (optional): who receives the report made when an incident
 * is closed, 1 to 8 recipients
 *   [{"role": "magistrate", "name": "Mme J. Durand, JLD", "contact": "jld@tj-nantes"},
 *    {"role": "victim_support", "name": "France Victimes 44"}]
 * role: magistrate, prosecutor, probation, victim_support; name 1 to 128
 * bytes, contact (optional) up to 256, no control characters. Absent: the
 * report goes to the decision's magistrate alone.
 *
 * "safe_places" (optional): where the operator may send the protected person
 * (core/guidance.h), at most 16
 *   [{"name": "Commissariat central, place Waldeck-Rousseau", "location": [47.2196, -1.5455]}]
 * name 1 to 120 bytes, not blank, no control characters. */
#ifndef VG_UTIL_MEASURE_JSON_H
#define VG_UTIL_MEASURE_JSON_H

#include <stddef.h>

#include "core/engine.h"
#include "core/guidance.h"
#include "core/tz.h"
#include "core/window.h"
#include "core/zone.h"
#include "util/measure_decision.h"

#define VG_NAME_MAX 64

/* The recipients of an incident's report ("report_to"). */
#define VG_REPORT_TO_MAX      8
#define VG_RECIPIENT_NAME_MAX 128
#define VG_CONTACT_MAX        256

enum vg_recipient_role {
    VG_RECIPIENT_MAGISTRATE = 1,
    VG_RECIPIENT_PROSECUTOR = 2,
    VG_RECIPIENT_PROBATION = 3,
    VG_RECIPIENT_VICTIM_SUPPORT = 4,
};

struct vg_report_recipient {
    uint8_t role; /* enum vg_recipient_role */
    char name[VG_RECIPIENT_NAME_MAX + 1];
    char contact[VG_CONTACT_MAX + 1]; /* "" if not given */
};

/* Everything the engine needs of one measure. The zones point into
 * `vertices` and `windows`, allocated to size: free with
 * vg_measure_def_cleanup(). */
struct vg_measure_def {
    char name[VG_NAME_MAX + 1];
    char court[VG_NAME_MAX + 1]; /* the ordering court ("" if not given): a magistrate reads
                                    his court's measures only */
    char timezone[VG_NAME_MAX + 1];
    char author_unit[VG_NAME_MAX + 1];
    char protected_unit[VG_NAME_MAX + 1];
    char bracelet[VG_NAME_MAX + 1]; /* may be empty */
    int64_t author_person;          /* the persons' files (0: not given) */
    int64_t protected_person;
    double alert_radius_m;
    size_t n_zones;
    struct vg_zone zones[VG_ENGINE_MAX_FIXED_ZONES];
    struct vg_geo_point *vertices;
    struct vg_window *windows;
    /* the judicial decision (util/measure_decision.h); decision.present is
     * false for a measure declared before decisions were recorded */
    struct vg_measure_decision decision;
    /* who receives its incidents' reports (none given: the decision's
     * magistrate); allocated to size */
    size_t n_report_to;
    struct vg_report_recipient *report_to;
    /* where the operator may send the protected person (core/guidance.h) */
    size_t n_safe_places;
    struct vg_safe_place safe_places[VG_SAFE_PLACES_MAX];
    /* her unit's notification policy, set with her ("notifications";
     * absent: vg_ring_policy_default) */
    struct vg_ring_policy ring;
};

/* The time zone name in a definition ("Europe/Paris" if absent), for the
 * caller to load it before vg_measure_def_parse(). 0 or a negative vg_err. */
int vg_measure_json_timezone(const char *json, char *out, size_t cap, char *err, size_t err_len);

/* Parse and check a definition; tz is the loaded time zone it names (for
 * the one-off windows). 0, or a negative vg_err with a message in err (and
 * nothing to clean up). */
int vg_measure_def_parse(const char *json, const struct vg_tz *tz, struct vg_measure_def *def,
                         char *err, size_t err_len);

void vg_measure_def_cleanup(struct vg_measure_def *def);

/* "magistrate", "prosecutor", "probation", "victim_support"; NULL otherwise. */
const char *vg_recipient_role_name(unsigned role);

/* A JSON name is 1..64 characters of [A-Za-z0-9._-], not starting with '.'
 * or '-' (units' serials and measures' names). */
int vg_name_check(const char *name);

#endif
