/* The statistician's figures: the measures' activity by court and by UTC
 * month, anonymised (docs/API.md, "Statistics").
 *
 * Per court and month: measures declared, days spent active (summed over
 * the measures), activations and the median delay from declaration to
 * activation, measures ended by reason, alarms by kind and in all, and
 * alarms per pair-day (alarms / active measure-days).
 *
 * Nothing here can name anyone: a measure comes in as its court, its
 * versions' statuses and times, and its alarms counted by month and kind;
 * what goes out are counts and ratios. And so that no one can be singled
 * out from them:
 *   - a count from 1 to VG_STATS_THRESHOLD - 1 is withheld (suppressed);
 *   - so is a sum over 1 to VG_STATS_THRESHOLD - 1 measures (the days
 *     active, an alarm count): small as a count or not, it describes those
 *     few measures;
 *   - the alarms in all are withheld when one of their kinds is (else that
 *     kind would be the total minus the others);
 *   - a ratio or a median is withheld when what it is made of is;
 *   - a court with fewer than VG_STATS_THRESHOLD measures in the period
 *     (and the measures without a court) is folded into "other courts".
 *
 * Pure: the caller gives the clock (now_ms) and all the memory; nothing is
 * allocated here. Use: vg_stats_init, vg_stats_memory, vg_stats_add for
 * each measure (giving more memory on VG_ENOSPC), vg_stats_finish, then
 * vg_stats_rows / vg_stats_row_court / vg_stats_value. */
#ifndef VG_CORE_STATS_H
#define VG_CORE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/alarm.h"

/* The smallest count published (counts from 1 to 4 are withheld), and the
 * fewest measures a court needs in the period to be shown by name. Five is
 * the usual floor of official statistics on persons (a count below it can
 * point at a family someone knows). */
#define VG_STATS_THRESHOLD 5

#define VG_STATS_MAX_MONTHS     36 /* the longest period asked at once */
#define VG_STATS_DEFAULT_MONTHS 12 /* the period when none is given: to the current month */
#define VG_STATS_COURT_MAX      64 /* a court's name (a measure's "court"), bytes */
/* Where small courts are folded; a space, which no court's name has. */
#define VG_STATS_OTHER_COURTS "other courts"

/* ---- months ------------------------------------------------------------------------------ */

/* Months are numbered year * 12 + (month - 1), in UTC. */

/* "YYYY-MM" (a year within core/civil.h's range): 0 and *month, or
 * VG_EINVAL. */
int vg_stats_month_parse(const char *text, int32_t *month);
/* "YYYY-MM". */
void vg_stats_month_format(int32_t month, char out[8]);
/* The first millisecond of a month (UTC). */
int64_t vg_stats_month_start_ms(int32_t month);
/* The month holding an instant (within core/civil.h's years). */
int32_t vg_stats_month_of(int64_t utc_ms);

/* The period asked: from and to as "YYYY-MM" or NULL. Defaults: to is the
 * current month, from the month VG_STATS_DEFAULT_MONTHS - 1 before to.
 * 0 with the first month and the number of months (1 to
 * VG_STATS_MAX_MONTHS), or VG_EINVAL with a message in msg. */
int vg_stats_period(const char *from, const char *to, int64_t now_ms, int32_t *first,
                    uint32_t *n_months, char *msg, size_t msg_len);

/* ---- measures in --------------------------------------------------------------------------- */

struct vg_stats_version {
    uint8_t status;     /* enum vg_measure_status (core/lifecycle.h); 0 if unknown */
    uint8_t end_reason; /* enum vg_end_reason */
    int64_t created_ms; /* when this version was made */
};

/* A measure's alarms of one kind raised in one month. */
struct vg_stats_alarms {
    uint16_t kind;     /* enum vg_alarm_kind; unknown kinds are not counted */
    int64_t raised_ms; /* any instant of that month */
    uint64_t count;
};

/* One of its incidents (core/incident.h): opened, taken (0: never), the
 * police first alerted (0: never), closed (0: not yet). */
struct vg_stats_incident {
    int64_t opened_ms, taken_ms, police_ms, closed_ms;
};

/* A time one of its units had no signal (GNSS or communication lost);
 * to_ms 0: not found again yet. */
struct vg_stats_loss {
    int64_t from_ms, to_ms;
};

struct vg_stats_measure {
    const char *court; /* "" for none; borrowed for the call */
    /* every version in order, version 1 first: a measure is active from a
     * version whose status is active to the next version (or now) */
    const struct vg_stats_version *versions;
    size_t n_versions;
    const struct vg_stats_alarms *alarms;
    size_t n_alarms;
    const struct vg_stats_incident *incidents;
    size_t n_incidents;
    const struct vg_stats_loss *losses;
    size_t n_losses;
    uint8_t n_units; /* its units under supervision (for the uptime; 0: none counted) */
};

/* ---- the caller's memory ------------------------------------------------------------------- */

/* One court, one month. */
struct vg_stats_cell {
    uint32_t declared;
    uint32_t activations;                  /* first activations */
    uint32_t ended[4];                     /* by enum vg_end_reason (0 unused) */
    uint32_t active_measures;              /* measures active some time of the month */
    int64_t active_ms;                     /* the time they were active in the month, summed */
    uint64_t alarms[VG_ALARM_KIND__COUNT]; /* by kind (0 unused) */
    uint32_t alarm_measures[VG_ALARM_KIND__COUNT]; /* measures with alarms of that kind */
    uint64_t alarms_total;
    uint32_t alarms_total_measures;
    double median_delay_ms; /* after vg_stats_finish, if activations */
    /* incidents opened in the month */
    uint32_t incidents, incident_measures;
    uint32_t closed, closed_without_police; /* of them, closed; closed with no police alert */
    uint32_t taken, police;                 /* taken; with the police alerted */
    double median_take_ms, median_police_ms; /* after vg_stats_finish */
    /* the units' supervised time while active, and of it without signal */
    int64_t unit_ms, loss_ms;
};

struct vg_stats_court {
    char name[VG_STATS_COURT_MAX + 1]; /* "" for the measures without a (valid) court */
    uint32_t measures;                 /* in the period */
    bool folded;                       /* after vg_stats_finish: into "other courts" */
    uint32_t at_row; /* after vg_stats_finish, slot r: the court published at row r */
};

/* A delay, for the medians: an activation's (from the declaration), an
 * incident's time to take, or to the police. */
struct vg_stats_delay {
    uint32_t court;
    uint32_t month; /* from the period's first */
    uint8_t what;   /* 0 activation, 1 take, 2 police */
    int64_t ms;
};

struct vg_stats {
    /* the query */
    int32_t first_month;
    uint32_t n_months;
    int64_t from_ms, to_ms; /* the period: [from, to) */
    int64_t now_ms;
    const char *only_court; /* NULL: every court; else this one only ("": none) */
    /* the caller's memory (vg_stats_memory) */
    struct vg_stats_court *courts;
    struct vg_stats_cell *cells; /* cap_courts * n_months, court by court */
    size_t cap_courts;
    struct vg_stats_delay *delays;
    size_t cap_delays;
    /* what is in it */
    size_t n_courts, n_delays, n_rows;
    bool finished;
};

/* A query over n_months (1 to VG_STATS_MAX_MONTHS) from first_month;
 * only_court (borrowed) limits it to one court (a magistrate's). */
void vg_stats_init(struct vg_stats *st, int32_t first_month, uint32_t n_months, int64_t now_ms,
                   const char *only_court);

/* The memory to work in: cap_courts courts and their cells (cap_courts *
 * n_months), cap_delays delays (one per activation, and up to two per
 * incident, in the period). Given
 * again, larger, after VG_ENOSPC: the first n_courts courts, their cells
 * and the first n_delays delays must hold what they held (realloc keeps
 * them). */
void vg_stats_memory(struct vg_stats *st, struct vg_stats_court *courts,
                     struct vg_stats_cell *cells, size_t cap_courts, struct vg_stats_delay *delays,
                     size_t cap_delays);

/* One measure (each once). 0; VG_ENOSPC with nothing changed (give more
 * memory and add it again); VG_EINVAL (no versions, or after finish). A
 * measure of another court than only_court is left out. */
int vg_stats_add(struct vg_stats *st, const struct vg_stats_measure *m);

/* Fold the small courts, compute the medians, order the rows (courts by
 * name, "other courts" last). */
void vg_stats_finish(struct vg_stats *st);

/* ---- figures out --------------------------------------------------------------------------- */

size_t vg_stats_rows(const struct vg_stats *st);
/* The court's name at a row, or VG_STATS_OTHER_COURTS. */
const char *vg_stats_row_court(const struct vg_stats *st, size_t row);

/* The figures of a cell, in a fixed order: measures_declared,
 * measures_active_days, activations, activation_delay_median_hours,
 * measures_ended.{lifted,expired,revoked}, alarms, alarms_by_kind.<each
 * kind of core/alarm.h>, alarms_per_pair_day, incidents, false_alarm_share
 * (of the incidents closed, the share closed with no police alert),
 * time_to_take_median_s, time_to_police_median_s, device_uptime_share (of
 * the units' time while their measures were active, the share with a
 * signal). */
struct vg_stats_metric {
    const char *group; /* NULL, "measures_ended" or "alarms_by_kind" */
    const char *name;  /* within the group */
    unsigned decimals; /* 0: a count */
};

size_t vg_stats_n_metrics(void);
/* Metric i (below vg_stats_n_metrics()). */
struct vg_stats_metric vg_stats_metric(size_t i);

struct vg_stats_value {
    bool defined;    /* false: nothing to say (no activation for a median, no active day
                        for a ratio): null, not withheld */
    bool suppressed; /* withheld so that no one is singled out: null */
    double value;    /* when defined and not suppressed */
};

struct vg_stats_value vg_stats_value(const struct vg_stats *st, size_t row, uint32_t month,
                                     size_t metric);

#endif
