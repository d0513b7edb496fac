/* The legal rules of an anti-approach measure (bracelet anti-rapprochement),
 * checked before a measure or a new version of it is accepted.
 *
 * A measure is a sequence of periods: the initial decision and each renewal
 * (or the next stage: civil, pre-sentencing and post-sentencing measures may
 * follow one another, each stage's duration counted on its own). Rules, each
 * reported with its own code and a clear message (English and French):
 * - 1 km <= R <= 10 km; the pre-alert distance is 2R, always;
 * - the two homes are farther apart than R (a warning when closer than 2R);
 * - a period lasts at most 6 months; periods follow one another in time and
 *   in stage order (civil -> pre-sentencing -> post-sentencing);
 * - penal: at most 2 years in total before judgment; after judgment, at
 *   most 4 years for a misdemeanour, 6 years for a crime; the offence must
 *   be punishable by at least 3 years' imprisonment;
 * - civil: no overall cap, but each renewal needs the consents of both
 *   persons given again for it;
 * - both persons are adults on the date of every decision;
 * - the protected person's express consent, given no later than each
 *   decision; the author's consent too in civil cases (in penal cases his
 *   refusal is a breach of his obligations, not an invalid measure);
 * - every fixed zone is well-formed, with 1 km <= its R <= 10 km; a warning
 *   when the author's home lies inside a zone's alert ring.
 * Dates are calendar days in the measure's time zone; a period runs from
 * its start day (included) to its end day (excluded). docs/MEASURE.md gives
 * the legal source of each rule and the choices made where the law is
 * silent. */
#ifndef VG_CORE_MEASURE_H
#define VG_CORE_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/civil.h"
#include "core/geo.h"
#include "core/zone.h"

#define VG_MEASURE_MAX_PERIODS                     64
#define VG_MEASURE_MAX_ZONES                       8
#define VG_PERIOD_MAX_MONTHS                       6
#define VG_PRE_SENTENCING_MAX_MONTHS               24
#define VG_POST_SENTENCING_MISDEMEANOUR_MAX_MONTHS 48
#define VG_POST_SENTENCING_CRIME_MAX_MONTHS        72
#define VG_PENAL_MIN_PENALTY_YEARS                 3
#define VG_ADULT_AGE_YEARS                         18

enum vg_framework {
    VG_FRAMEWORK_CIVIL = 1, /* family judge, protection order */
    VG_FRAMEWORK_PENAL = 2,
};

enum vg_stage {
    VG_STAGE_PROTECTION_ORDER = 1, /* civil */
    VG_STAGE_PRE_SENTENCING = 2,   /* penal, before judgment (judicial control) */
    VG_STAGE_POST_SENTENCING = 3,  /* penal, sentence or its adjustment */
};

enum vg_offence {
    VG_OFFENCE_NONE = 0,         /* civil measures */
    VG_OFFENCE_MISDEMEANOUR = 1, /* délit */
    VG_OFFENCE_CRIME = 2,
};

struct vg_consent {
    bool given;
    struct vg_date date;
};

/* One decision: the initial order or a renewal. */
struct vg_measure_period {
    uint8_t stage; /* enum vg_stage; the framework follows from it */
    struct vg_date decision_date;
    struct vg_date start; /* first day in force */
    struct vg_date end;   /* first day no longer in force */
    struct vg_consent protected_consent;
    struct vg_consent author_consent;
};

struct vg_measure {
    double alert_radius_m;         /* R */
    double prealert_radius_m;      /* 0: derived; otherwise must be exactly 2R */
    uint8_t offence;               /* enum vg_offence: penal stages need one */
    uint8_t offence_penalty_years; /* maximum imprisonment incurred (penal) */
    struct vg_date protected_birth;
    struct vg_date author_birth;
    struct vg_geo_point protected_home;
    struct vg_geo_point author_home;
    const struct vg_measure_period *periods; /* borrowed, in time order */
    size_t n_periods;
    const struct vg_zone *zones; /* borrowed */
    size_t n_zones;
};

enum vg_severity {
    VG_SEVERITY_ERROR = 1,   /* the measure cannot be accepted */
    VG_SEVERITY_WARNING = 2, /* accepted, but someone should look */
};

/* Stable identifiers of the rules (their names, from vg_rule_name(), are
 * what the API returns). */
enum vg_rule {
    VG_RULE_ALERT_RADIUS_RANGE = 1,
    VG_RULE_PREALERT_NOT_DOUBLE,
    VG_RULE_HOME_INVALID,
    VG_RULE_HOMES_WITHIN_ALERT,
    VG_RULE_HOMES_WITHIN_PREALERT, /* warning */
    VG_RULE_BIRTH_DATE_INVALID,
    VG_RULE_PROTECTED_NOT_ADULT,
    VG_RULE_AUTHOR_NOT_ADULT,
    VG_RULE_NO_PERIOD,        /* none, or n_periods > 0 with a NULL list */
    VG_RULE_TOO_MANY_PERIODS, /* then no period is read at all */
    VG_RULE_STAGE_INVALID,
    VG_RULE_PERIOD_DATES_INVALID, /* bad date, start >= end, decision after start */
    VG_RULE_PERIOD_TOO_LONG,      /* more than 6 months */
    VG_RULE_PERIODS_OVERLAP,
    VG_RULE_STAGE_ORDER,         /* a stage goes back (e.g. post- then pre-sentencing) */
    VG_RULE_PRE_SENTENCING_CAP,  /* over 2 years */
    VG_RULE_POST_SENTENCING_CAP, /* over 4 / 6 years */
    VG_RULE_OFFENCE_MISSING,     /* penal stage without misdemeanour/crime */
    VG_RULE_OFFENCE_PENALTY,     /* punishable by less than 3 years */
    VG_RULE_PROTECTED_CONSENT_MISSING,
    VG_RULE_AUTHOR_CONSENT_MISSING, /* civil */
    VG_RULE_CONSENT_DATE_INVALID,   /* not a date, or after the decision */
    VG_RULE_CONSENT_NOT_RENEWED,    /* civil renewal on an old consent */
    VG_RULE_TOO_MANY_ZONES,         /* then no zone is read at all */
    VG_RULE_ZONE_INVALID,           /* not as vg_zone_init_* builds it (radius aside),
                                       or n_zones > 0 with a NULL list (index -1) */
    VG_RULE_ZONE_RADIUS_RANGE,
    VG_RULE_AUTHOR_HOME_IN_ZONE, /* warning */
    VG_RULE__COUNT
};

#define VG_VIOLATION_MESSAGE_LEN 200

struct vg_violation {
    uint16_t rule;    /* enum vg_rule */
    uint8_t severity; /* enum vg_severity */
    int16_t index;    /* the period or zone concerned (from 0), -1 if none */
    /* NUL-terminated UTF-8 stating the values and the rule; messages count
     * periods and zones from 1 ("period 1" is index 0). */
    char message[VG_VIOLATION_MESSAGE_LEN];    /* English */
    char message_fr[VG_VIOLATION_MESSAGE_LEN]; /* French */
};

/* Check every rule. Writes up to `cap` violations to `out` (errors first,
 * then warnings, each in rule order, then in period or zone order) and the
 * total number found to *n_found (which may exceed cap; `out` may be NULL
 * to count only). Returns VG_OK when there is no error (warnings allowed),
 * VG_EINVAL when there is at least one. A NULL m or n_found is refused with
 * VG_EINVAL and nothing is written. */
int vg_measure_validate(const struct vg_measure *m, struct vg_violation *out, size_t cap,
                        size_t *n_found);

/* The stable snake_case name of a rule ("alert_radius_range"), or NULL. */
const char *vg_rule_name(enum vg_rule rule);

/* The framework of a stage; 0 (no framework) for an unknown stage. */
enum vg_framework vg_stage_framework(enum vg_stage stage);

/* The pre-alert distance of an alert distance: 2R. */
double vg_prealert_radius(double alert_radius_m);

/* The latest end day (excluded) allowed for a period of `stage` starting on
 * `start`, given the periods already decided (for the cumulative caps):
 * the earlier of start + 6 months and the end that uses up the days left
 * under the stage's cap. Helps the API offer the longest renewal the law
 * allows. VG_EINVAL if the stage, the start or (post-sentencing) the
 * offence is unusable, or if a period of m has an unknown stage or unusable
 * dates (the days already used must all be known); VG_ERANGE if no day is
 * left, or if the end would fall beyond VG_CIVIL_MAX_YEAR. *max_end is
 * written only on success. */
int vg_measure_max_end(const struct vg_measure *m, enum vg_stage stage, struct vg_date start,
                       struct vg_date *max_end);

/* The index of the period in force on `day` (start <= day < end), or -1 if
 * none, if day is not a valid date or if the list is unusable (NULL, more
 * than VG_MEASURE_MAX_PERIODS). Periods with unusable dates are skipped. */
int vg_measure_period_at(const struct vg_measure *m, struct vg_date day);

#endif
