/* The centre: what vigied does with the units' records.
 *
 *   frame in -> records decoded -> duplicates dropped -> engine (per measure)
 *            -> batch: records + alarms + the measures' engine states
 *            -> store (writer thread, group commit)
 *            -> once durable: ACK to the units, commands sent, metrics
 *
 * A unit is acknowledged only for records whose batch has committed; an
 * alarm is pushed or acted upon only once it is durable. The engine state
 * stored with each batch is the state after that batch's records, so a
 * restart resumes exactly from what is durable: units resend what was not
 * acknowledged, and nothing is judged twice or forgotten.
 *
 * Everything here runs on the event loop's thread, but the store's done()
 * callbacks, which only queue completed batches for the loop. */
#ifndef VG_DAEMON_CENTER_H
#define VG_DAEMON_CENTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/engine.h"
#include "core/guidance.h"
#include "core/incident.h"
#include "core/lifecycle.h"
#include "net/gateway.h"
#include "store/store.h"
#include "util/measure_json.h"

struct event_base;
struct vg_center;

struct vg_center_options {
    const char *zoneinfo_dir;   /* NULL: /usr/share/zoneinfo */
    int64_t report_interval_ms; /* told to units at WELCOME */
    int64_t heartbeat_interval_ms;
    size_t max_pending_batches;  /* back-pressure: pause reading beyond */
    size_t max_unacked_per_unit; /* records in flight or out of order per unit */
    int64_t replay_window_ms;    /* how far back to replay when a state cannot be restored */
    /* when an incident not taken, or taken and not progressing, is
     * escalated to the supervisors (core/incident.h) */
    struct vg_incident_policy escalation;
};

void vg_center_options_default(struct vg_center_options *o);

/* Histogram of durations in milliseconds, Prometheus style. */
#define VG_HIST_BUCKETS 16
struct vg_histogram {
    uint64_t counts[VG_HIST_BUCKETS + 1]; /* the last one is +Inf */
    uint64_t count;
    double sum;
};
extern const double vg_histogram_bounds_ms[VG_HIST_BUCKETS];
void vg_histogram_observe(struct vg_histogram *h, double ms);

struct vg_center_metrics {
    uint64_t records[5];        /* by vg_proto_record_type */
    uint64_t records_duplicate; /* already stored or in flight */
    uint64_t records_rejected;  /* stored, but refused by the engine (values out of range) */
    uint64_t batches_committed;
    uint64_t batches_failed;
    /* of which the database's failures (lost connection, fenced): the
     * engine judged records that are not stored, its state is ahead of the
     * store's (daemon/site_lease.c builds the centre again) */
    uint64_t batches_failed_db;
    uint64_t alarms[VG_ALARM_KIND__COUNT];
    uint64_t commands_sent;
    uint64_t commands_queued;      /* for a unit not connected */
    struct vg_histogram commit_ms; /* submission -> durable */
    struct vg_histogram alarm_ms;  /* last byte of the frame in -> alarm durable */
    size_t units_connected;
    size_t measures;
    size_t units;
};

int vg_center_new(struct event_base *base, struct vg_store *store,
                  const struct vg_engine_params *params, const struct vg_center_options *opts,
                  struct vg_center **out, char *err, size_t err_len);

/* Load units and measures from the store and restore each measure's engine
 * state (or rebuild it by replay). */
int vg_center_load(struct vg_center *c, char *err, size_t err_len);

/* The hooks to give the gateway; then tell the centre about the gateway
 * (for back-pressure). */
struct vg_gateway_hooks vg_center_gateway_hooks(struct vg_center *c);
void vg_center_set_gateway(struct vg_center *c, struct vg_gateway *g);

/* Declare a measure and its units from its JSON definition
 * (util/measure_json.h) with its judicial decision, checked against the
 * law (core/measure.h; the persons' birth dates and homes from their files
 * where the decision does not give them), durably. It starts pending
 * installation (core/lifecycle.h). Waits for the commit (provisioning is
 * rare). 0, or a negative vg_err with err set (VG_EDUPLICATE for a name or
 * a unit in use, VG_EINVAL for a bad definition or a broken rule). The
 * rules' violations, errors and warnings, go to *violations (a JSON array
 * to json_decref, NULL if none). */
int vg_center_create_measure(struct vg_center *c, const char *actor, const char *json, int64_t *id,
                             json_t **violations, char *err, size_t err_len);

/* A new version of a measure's definition (a revision of R or of the
 * zones, a renewal adding a period), checked like a declaration; its name,
 * units and decided periods stay. based_on: the version it was made from
 * (VG_ESTALE if the measure has moved on; 0: no check). *version: the new
 * version. VG_ENOTFOUND, VG_ESTATE (ended), VG_EINVAL. */
int vg_center_amend_measure(struct vg_center *c, const char *actor, int64_t id, int64_t based_on,
                            const char *json, const char *note, int64_t *version,
                            json_t **violations, char *err, size_t err_len);

/* Suspend, resume, lift or revoke (core/lifecycle.h), with a note saying
 * why; a new version. VG_ESTATE with the reason when the status does not
 * allow it. */
int vg_center_act_on_measure(struct vg_center *c, const char *actor, int64_t id, int64_t based_on,
                             enum vg_lifecycle_action action, const char *note, int64_t *version,
                             char *err, size_t err_len);

struct vg_center_measure_info {
    int64_t id;
    const char *name;
    const char *court;                       /* "" if not given */
    int64_t author_person, protected_person; /* their files (0: none) */
    const char *author_unit;
    const char *protected_unit;
    double alert_radius_m;
    size_t n_zones;
    bool author_connected;
    bool protected_connected;
    const struct vg_engine_state *state; /* zone levels, last fixes */
    /* the case file (core/lifecycle.h) */
    uint8_t status;     /* enum vg_measure_status */
    uint8_t end_reason; /* enum vg_end_reason */
    bool in_force;      /* active and within a period: every alarm raised */
    uint8_t raise;      /* enum vg_raise: which alarms are raised now */
    int64_t version;
    const char *definition; /* the current version's JSON */
    const struct vg_installation *installation;
    const char *magistrate; /* "" for a measure declared without its decision */
};

/* What the live stream (http/stream.c) listens to. */
struct vg_center_position {
    int64_t measure_id;
    const char *measure; /* its name */
    const char *court;   /* "" if not given */
    uint8_t role;        /* enum vg_unit_role: VG_ROLE_AUTHOR or VG_ROLE_PROTECTED */
    const struct vg_fix *fix;
    int64_t received_ms;
    /* the measure's incident in progress (0: none): the protected person's
     * position may be shown only while there is one (docs/API.md "Stream") */
    int64_t incident_id;
};

struct vg_center_listener {
    void *arg;
    /* On the store's writer thread, after each commit that wrote journal
     * entries (committed_ns: CLOCK_MONOTONIC). Must only signal. */
    void (*journal_committed)(void *arg, int64_t committed_ns);
    /* On the loop: whether anyone listens to positions now (cheap), and
     * each fix once it is durable. */
    bool (*wants_positions)(void *arg);
    void (*position)(void *arg, const struct vg_center_position *p);
};

/* Set before the loop runs (NULL: none). */
void vg_center_set_listener(struct vg_center *c, const struct vg_center_listener *l);

/* What a read of a measure's tracks needs: its units (0: none) and its
 * incident in progress (0: none; the protected person's track is shown
 * only then). VG_ENOTFOUND if there is no such measure. */
struct vg_center_track_subject {
    int64_t author_unit_id, protected_unit_id;
    int64_t incident_id;
    char measure[VG_NAME_MAX + 1];
};
int vg_center_track_subject(struct vg_center *c, int64_t measure_id,
                            struct vg_center_track_subject *out);

/* Append one entry to the journal (util/journal.h) and wait until it is
 * durable: a read of personal data is answered only once it is journaled.
 * 0, or a negative vg_err with err set. */
int vg_center_journal(struct vg_center *c, const char *actor, const char *action,
                      const char *subject, const char *detail, char *err, size_t err_len);

/* The incidents not closed, each with its measure's id, name and court
 * (core/incident.h). */
int vg_center_list_incidents(struct vg_center *c,
                             int (*cb)(void *arg, const struct vg_incident *inc,
                                       const char *measure, const char *court),
                             void *arg);

/* What a closing's report is made of that the centre does not hold: the
 * incident's alarms and steps as the store has them, read off the loop
 * (center_report.h) after the incident was seen with these counts. */
struct vg_center_report_input {
    uint32_t last_alarm_seq; /* the incident as it was when they were read: */
    uint32_t n_steps;        /* if it has moved on since, the close is VG_ESTALE */
    json_t *alarms;          /* [{"seq", "kind", "at_ms", "raised_ms"}] (borrowed) */
    json_t *steps;           /* [{"n", "step", "outcome", "text", "operator", "at_ms"}] */
};

/* An operator's action on an incident: "take" (reassign: a supervisor
 * gives it to `operator_name`), "step" (kind, outcome), "close" (text: the
 * summary; report: its alarms and steps, required). Durable, with its
 * journal entry (text, the police's reference or a note, goes there), and
 * for a step its row, for a close its report and the report's entry
 * (report.create, with the SHA-256 of its content), before it returns.
 * VG_ENOTFOUND (no such incident open), VG_ESTATE (not its operator, taken
 * by another, closed), VG_EINVAL (a step that does not fit, no summary),
 * VG_ESTALE (the incident moved on since the report's input was read). */
int vg_center_incident_act(struct vg_center *c, const char *actor, const char *action,
                           int64_t incident_id, const char *operator_name, bool reassign,
                           enum vg_step_kind kind, enum vg_step_outcome outcome, const char *text,
                           const struct vg_center_report_input *report, struct vg_incident *out,
                           char *err, size_t err_len);

/* One incident (open, or closed and still its measure's latest) and what
 * its guidance (core/guidance.h) is computed from, copied out of the centre
 * so that the computation runs off the loop. Its zones point into its own
 * `vertices` (and have no windows: guidance does not read them): fill it in
 * place, do not copy it. */
struct vg_center_incident_view {
    struct vg_incident inc;
    char measure[VG_NAME_MAX + 1];
    int64_t now_ms;
    double alert_radius_m;
    bool has_fix[2]; /* [0] the author's unit, [1] the protected person's */
    struct vg_fix fix[2];
    size_t n_zones;
    struct vg_zone zones[VG_ENGINE_MAX_FIXED_ZONES];
    struct vg_geo_point vertices[VG_ENGINE_MAX_FIXED_ZONES][VG_POLYGON_MAX_VERTICES];
    size_t n_places;
    struct vg_safe_place places[VG_SAFE_PLACES_MAX];
};

/* VG_ENOTFOUND if the centre holds no such incident. */
int vg_center_incident_view(struct vg_center *c, int64_t incident_id,
                            struct vg_center_incident_view *out);

/* Let go of an ended measure (archived or deleted by the retention job):
 * it is no longer listed nor judged; its units serve nothing. VG_ENOTFOUND
 * if the centre does not hold it, VG_ESTATE if it has not ended or still
 * has a state on its way to the store (try later). */
int vg_center_forget_measure(struct vg_center *c, int64_t id);

/* Call cb for each measure; a non-zero return stops and is returned. */
int vg_center_list_measures(struct vg_center *c,
                            int (*cb)(void *arg, const struct vg_center_measure_info *info),
                            void *arg);

struct vg_center_unit_info {
    const char *serial;
    uint8_t role; /* enum vg_unit_role (store/store.h) */
    bool connected;
    uint64_t acked_seq; /* every record up to it is durable */
    /* the measure it serves, or served last if that one has ended (0 and
     * NULLs: none) */
    int64_t measure_id;
    const char *measure_name;
    const char *court;      /* "" if not given */
    uint8_t measure_status; /* enum vg_measure_status */
    /* its supervision in that measure's engine (last heard, battery,
     * sensors, losses); NULL without a measure */
    const struct vg_unit_state *state;
};

/* Call cb for each unit the centre knows (declared by a measure), in no
 * particular order; a non-zero return stops and is returned. The info and
 * its strings are valid during the call only. */
int vg_center_list_units(struct vg_center *c,
                         int (*cb)(void *arg, const struct vg_center_unit_info *info), void *arg);

const struct vg_center_metrics *vg_center_metrics(struct vg_center *c);

/* Submit what is being gathered now (shutdown). */
void vg_center_flush(struct vg_center *c);

/* Stop judging (a site stepping down): no timer fires any more, nothing
 * gathered is submitted, no unit is served; only the completions of the
 * batches already in the store are still taken on the loop (their units
 * are gone: nothing is sent), until vg_center_free once they are done. */
void vg_center_quiesce(struct vg_center *c);

/* After the store is closed (every batch done): finish the completions and
 * free everything. Accepts NULL. */
void vg_center_free(struct vg_center *c);

#endif
