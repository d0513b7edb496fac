/* The report an incident's closing makes (center_report.c), private to the
 * daemon: after every intervention the operator sends a report to the
 * magistrate and/or the prosecutor, the probation service and victim
 * support (../shared/design/domain.md). It is addressed to the recipients
 * the measure names ("report_to", util/measure_json.h; none named: the
 * decision's magistrate alone) and made of the measure (name, court,
 * magistrate), the incident's times, its alarms, its steps with their
 * times, outcomes and operators, and the summary. It is written with the
 * close, in its transaction, its content kept byte for byte; the journal
 * entry `report.create` that goes with it holds the content's SHA-256, so
 * that the report can be checked against the journal.
 *
 * The alarms and steps are read from the store off the loop (a read may
 * wait behind a long one, and the loop must not): the HTTP thread looks at
 * the incident on the loop (vg_center_incident_peek), reads them, and the
 * close checks that the incident has not moved on since (VG_ESTALE: read
 * again). */
#ifndef VG_DAEMON_CENTER_REPORT_H
#define VG_DAEMON_CENTER_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/center.h"
#include "store/store.h"
#include "util/measure_json.h"

/* On the loop: the incident `id` as the centre holds it (its measure's
 * latest incident, whatever its state), after submitting what is being
 * gathered so that the alarms it counts are on their way to the store.
 * VG_ENOTFOUND if no measure holds it. */
int vg_center_incident_peek(struct vg_center *c, int64_t id, struct vg_incident *out);

/* A close's report, ready for its batch (what the row and the entry point
 * to is owned here: vg__center_report_free). */
struct vg__report {
    struct vg_store_report row;
    struct vg_store_journal_entry journal; /* report.create */
    char *recipients, *content, *detail;
    char subject[48];
    char sha256[65]; /* of the content, in hex */
};

struct measure;

/* The report of `closed` (the incident once closed by `actor`, not yet
 * stored) of measure m, from `in`. VG_ESTALE if the incident has moved on
 * since `in` was read (an alarm joined, a step was recorded), VG_EINVAL
 * without `in`, VG_ENOSPC. Nothing to free on failure. */
int vg__center_report_build(const struct measure *m, const struct vg_incident *closed,
                            const char *actor, const char *summary,
                            const struct vg_center_report_input *in, struct vg__report *out,
                            char *err, size_t err_len);

/* Accepts a zeroed report. */
void vg__center_report_free(struct vg__report *r);

/* The recipients of a measure's reports as JSON: its report_to, or the
 * decision's magistrate (NULL when out of memory). */
json_t *vg__center_report_recipients(const struct vg_measure_def *def);

#endif
