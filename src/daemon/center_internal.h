/* Private to the centre (center.c, center_case.c): its state and the
 * helpers both use. Everything here belongs to the event loop's thread. */
#ifndef VG_DAEMON_CENTER_INTERNAL_H
#define VG_DAEMON_CENTER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "core/lifecycle.h"
#include "daemon/center.h"
#include "util/measure_json.h"

/* The texts of a case change in a batch (its journal entry's subject and
 * detail, the checklist's JSON). */
struct case_text {
    char installation[256];
    char subject[VG_NAME_MAX + 1];
    char detail[256];
    const char *action;
};

struct measure;

/* A record of a unit known above its acknowledged sequence number. */
struct seq_mark {
    uint64_t seq;
    bool committed;
    const struct cbatch *batch; /* the batch carrying it while in flight */
};

struct unit {
    int64_t id;
    char serial[VG_NAME_MAX + 1];
    uint8_t role;
    struct measure *m;
    uint64_t acked_seq;       /* every record up to it is durable */
    uint64_t persisted_acked; /* the acked_seq the store knows */
    struct seq_mark *marks;   /* sorted: in flight or committed out of order */
    size_t n_marks, cap_marks;
    struct vg_conn *conn;
    uint32_t next_command_id;
    /* what to tell the unit when it next connects */
    int32_t pending_interval_ms;
    struct vg_command pending_ring; /* kind 0: none; judged again when delivered */
    int64_t pending_ring_until_ms;
    bool in_ack_list;
    struct unit *next_ack; /* units to acknowledge after a completion */
    struct unit *hash_next;
};

struct measure {
    struct vg_center *c;
    int64_t id;
    struct vg_measure_def def;
    struct vg_engine_config cfg;
    struct vg_engine_state st;
    struct unit *author, *protected_person;
    struct event *timer;
    int64_t timer_at_ms;
    bool dirty; /* its state changed since it was last stored */
    struct measure *next_dirty;
    uint64_t fed_by; /* the last batch listed as feeding it (cbatch.serial) */
    /* Changed only in what does not decide alarms (positions, clocks): off
     * the dirty list, stored at the next refresh (not hashed again at every
     * flush: with thousands of measures moving each second, that was half
     * of the loop; bench/sim in docs/BENCHMARKS.md). */
    bool stale;
    struct measure *next_stale;
    uint64_t stored_digest; /* of the significant part of the state last stored */
    int64_t stored_ms;      /* when it was last stored */
    struct measure *next;
    /* the case file (center_case.c): its lifecycle (core/lifecycle.h), the
     * current version of its definition, the installation checklist */
    uint8_t status;     /* enum vg_measure_status */
    uint8_t end_reason; /* enum vg_end_reason */
    uint8_t raise;      /* enum vg_raise: which of its engine's alarms are raised */
    int64_t version;
    char *definition; /* the current version's JSON */
    struct vg_installation inst;
    struct vg_measure legal; /* the decision as the rules read it (borrows def.decision) */
    /* each person's unit's last fix and when it came: given to a fresh
     * engine (activation, resumption, a new version) so that it starts from
     * where both persons are, not from nothing */
    struct vg_proto_record last_fix[2];
    int64_t last_fix_rx_ms[2];
    /* its latest incident (core/incident.h), open or closed */
    struct vg_incident incident;
    bool has_incident;
};

struct tz_entry {
    char name[VG_NAME_MAX + 1];
    struct vg_tz tz;
    struct tz_entry *next;
};

struct command {
    struct unit *u;
    struct vg_command cmd;
};

/* A batch as the centre builds it; the store's batch is its first member. */
/* Where an alarm of a batch came from: when its record arrived (0: raised
 * by time passing) and its measure, for the latency histogram and the log. */
struct alarm_origin {
    int64_t t_in_ns;
    const struct measure *m;
    int64_t incident_id; /* the incident it opened or joined (0: none) */
};

struct cbatch {
    struct vg_store_batch sb;
    struct vg_center *c;
    struct vg_store_record *records;
    struct unit **record_units;
    size_t n_records, cap_records, cap_record_units;
    struct vg_store_alarm *alarms;
    struct alarm_origin *alarm_from; /* parallel to alarms */
    size_t n_alarms, cap_alarms, cap_alarm_from;
    struct vg_store_state *states;
    struct vg_engine_state *state_copies;
    size_t n_states, cap_states, cap_state_copies;
    struct vg_store_unit_ack *acks;
    size_t n_acks, cap_acks;
    int64_t *fed; /* the measures its records feed (store.h: measures_fed) */
    size_t n_fed, cap_fed;
    uint64_t serial; /* numbers the center's batches, from 1 */
    struct command *commands;
    size_t n_commands, cap_commands;
    /* the alarms' journal entries and their texts (subject, detail) */
    struct vg_store_journal_entry *journal;
    char (*journal_text)[2][256];
    /* the incidents' journal entries (incident.alarm): subject, detail */
    char (*incident_subject)[32];
    char **incident_detail;
    /* the case files' changes this batch carries (checklist, automatic
     * activation or expiry) and their journal entries */
    struct vg_store_measure_change *changes;
    struct case_text *change_text; /* parallel to changes */
    size_t n_changes, cap_changes, cap_change_text;
    /* incidents opened or joined by this batch's alarms, as they stand after it */
    struct vg_incident *incidents;
    size_t n_incidents, cap_incidents;
    int rc;
    char err[256];
    /* synchronous provisioning */
    bool sync;
    bool finished;
    struct cbatch *next_done;
};

#define UNIT_BUCKETS 4096

struct vg_center {
    struct event_base *base;
    struct vg_store *store;
    const struct vg_engine_params *params;
    struct vg_center_options opts;
    struct vg_gateway *gateway;
    struct unit *unit_hash[UNIT_BUCKETS];
    struct measure *measures;
    struct tz_entry *tzs;
    struct cbatch *open; /* being filled */
    struct measure *dirty;
    struct measure *stale;    /* see struct measure */
    struct event *flush_ev;   /* low priority: after the loop's reads */
    struct event *refresh_ev; /* stores the states a flush left stale */
    struct event *done_ev;
    pthread_mutex_t done_lock;
    pthread_cond_t done_cond;
    struct cbatch *done_head, *done_tail;
    size_t in_store; /* batches submitted, not yet completed here */
    struct vg_center_metrics metrics;
    struct vg_engine_out out; /* reused for every engine call */
    bool urgent;              /* the open batch holds an alarm */
    struct event *case_ev;    /* the daily work on case files (center_case.c) */
    uint64_t batch_serial; /* the last cbatch.serial given */
    int64_t next_incident_id; /* incidents are numbered here: an alarm in a batch still in
                                 flight joins the incident another batch opened */
    struct vg_center_listener listener; /* the live stream's (center.h) */
    struct event *escalation_ev;        /* center_escalation.c */
};

#define GROW(ptr, n, cap)                                                                          \
    ((n) < (cap) ? 0 : vg__center_grow_array((void **)&(ptr), &(cap), sizeof *(ptr)))

int64_t vg__center_wall_ms(void);
struct unit *vg__center_unit_find(struct vg_center *c, const char *serial);
struct unit *vg__center_unit_add(struct vg_center *c, int64_t id, const char *serial, uint8_t role,
                                 uint64_t acked);
const struct vg_tz *vg__center_tz_get(struct vg_center *c, const char *name, char *err, size_t len);
int vg__center_grow_array(void **ptr, size_t *cap, size_t elem);
struct cbatch *vg__center_open_batch(struct vg_center *c);
void vg__center_mark_dirty(struct vg_center *c, struct measure *m);
/* The engine's outputs of one call (c->out) into the open batch. */
int vg__center_collect(struct vg_center *c, struct measure *m, int64_t t_in_ns);
void vg__center_arm_timer(struct measure *m);
enum vg_unit vg__center_engine_unit(const struct unit *u, const struct vg_proto_record *r);
void vg__center_on_store_done(struct vg_store_batch *sb, int rc, const char *err);
/* A measure from its definition (not attached; its engine not started). */
struct measure *vg__center_measure_build(struct vg_center *c, int64_t id, const char *json,
                                         char *err, size_t len);
void vg__center_measure_attach(struct vg_center *c, struct measure *m);
void vg__center_measure_free(struct measure *m);
/* Drop from c->out what the measure does not raise where it stands
 * (core/lifecycle.h); its commands go too below the safety level. */
void vg__center_filter(struct vg_center *c, const struct measure *m);
/* Submit the open batch now (before a synchronous batch: order kept). */
void vg__center_flush(struct vg_center *c);
/* Submit a batch and wait until it is durable (blocks the loop: provisioning only). */
int vg__center_submit_and_wait(struct vg_center *c, struct cbatch *b);

/* ---- center_escalation.c: the incidents' escalation timers ---- */
int vg__escalation_start(struct vg_center *c);
void vg__escalation_stop(struct vg_center *c);

/* ---- center_case.c ---- */
/* A stored measure's case file (status, version, checklist) onto m. */
void vg__case_load(struct vg_center *c, struct measure *m, const struct vg_store_measure_row *r);
/* A record of one of the measure's units, before the engine sees it: the
 * checklist, the last fixes, activation. */
void vg__case_on_record(struct vg_center *c, struct measure *m, const struct unit *u,
                        const struct vg_proto_record *r, int64_t now_ms);
/* Start the daily work: expiry, activation on a period's first day. */
int vg__case_start(struct vg_center *c);
void vg__case_stop(struct vg_center *c);
/* The case changes of a batch into its store batch and journal (flush). */
int vg__case_flush(struct cbatch *b, struct vg_store_journal_entry *journal, size_t *n_journal);

#endif
