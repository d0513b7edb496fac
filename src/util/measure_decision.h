/* The judicial decision of a measure as JSON (the "decision" member of a
 * measure's definition, util/measure_json.h), turned into what the legal
 * rules read (core/measure.h). Strict like the rest of the definition:
 * unknown keys, wrong types and malformed dates are refused with a message
 * naming the key; the rules themselves (caps, consents, ages, distances)
 * are the core's, checked by vg_measure_validate() once the persons' facts
 * are known.
 *
 * "decision": {
 *   "magistrate": "Mme J. Durand, JLD",          (who ordered it; 1..128 characters)
 *   "offence": "misdemeanour",                    (penal: "misdemeanour" or "crime")
 *   "offence_penalty_years": 5,                   (penal: the maximum imprisonment incurred)
 *   "author":    {"birth_date": "1980-02-01", "home": [47.30, -1.40]},   (optional: else
 *   "protected": {"birth_date": "1985-05-06", "home": [47.2184, -1.5536]},  from the persons'
 * files) "periods": [                                   (1..64, in time order: decision and
 * renewals)
 *     {"stage": "pre_sentencing", "decision_date": "2026-12-01",
 *      "start": "2026-12-01", "end": "2027-06-01",
 *      "consents": {"protected": "2026-11-30", "author": "2026-11-30"}}
 *   ]
 * }
 * Stages: protection_order (civil), pre_sentencing, post_sentencing (penal).
 * Dates are YYYY-MM-DD, calendar days in the measure's time zone; a period
 * runs from its start (included) to its end (excluded). */
#ifndef VG_UTIL_MEASURE_DECISION_H
#define VG_UTIL_MEASURE_DECISION_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/measure.h"

#define VG_MAGISTRATE_MAX 128

struct vg_measure_decision {
    bool present;
    char magistrate[VG_MAGISTRATE_MAX + 1];
    uint8_t offence; /* enum vg_offence */
    uint8_t offence_penalty_years;
    /* [0] the author, [1] the protected person: given in the decision, or
     * filled from their files before the rules are checked */
    bool has_birth[2], has_home[2];
    struct vg_date birth[2];
    struct vg_geo_point home[2];
    size_t n_periods;
    struct vg_measure_period *periods; /* allocated to size: vg_measure_decision_cleanup() */
};

/* "YYYY-MM-DD" to a checked date: 0, or VG_EFORMAT / VG_ERANGE. */
int vg_date_parse(const char *s, struct vg_date *out);
/* The date as "YYYY-MM-DD" (out: 11 bytes). */
void vg_date_format(struct vg_date d, char out[11]);

/* Parse the "decision" object into a zeroed *d. 0, or a negative vg_err with a message
 * naming the key ("decision.periods[1].end: ..."). */
int vg_measure_decision_parse(json_t *v, struct vg_measure_decision *d, char *err, size_t err_len);

void vg_measure_decision_cleanup(struct vg_measure_decision *d);

/* What the rules read: the decision, R and the zones (borrowed: d and
 * zones must outlive out). */
void vg_measure_decision_legal(const struct vg_measure_decision *d, double alert_radius_m,
                               const struct vg_zone *zones, size_t n_zones, struct vg_measure *out);

/* A lawful decision for a simulated measure (vigie-sim, vigie-loadgen):
 * a judicial control for a misdemeanour punishable by 5 years, from the day
 * before `today_days` (days since 1970-01-01) for 150 days, both consents
 * given, both persons adults, their homes as given. NULL if out of memory. */
json_t *vg_measure_decision_simulated(int64_t today_days, struct vg_geo_point author_home,
                                      struct vg_geo_point protected_home);

/* The violations as the API shows them:
 * [{"rule": "period_too_long", "severity": "error", "index": 0,
 *   "message": "...", "message_fr": "..."}, ...] (NULL when out of memory). */
json_t *vg_violations_json(const struct vg_violation *v, size_t n);

#endif
