/* The store: the durable record (evidence) and the state the centre needs
 * to restart. One interface, backends behind it (SQLite and PostgreSQL),
 * chosen by the location string given to vg_store_open().
 *
 * Writes go in batches to a single writer thread that commits several
 * batches in one transaction (group commit), each batch in its own
 * savepoint so that one failing batch does not undo the others; a batch's
 * done() is called once its transaction is durable (or has failed), on the
 * writer thread. The gateway acknowledges a unit's records only from there.
 *
 * Inserts are idempotent: a record whose (unit, sequence) is already stored,
 * an alarm whose (measure, sequence) is, are skipped without error (a unit
 * resending after a lost acknowledgement is the normal case).
 *
 * Reads (start-up, provisioning answers, tests) are synchronous on a
 * connection of their own; they never wait for the writer. */
#ifndef VG_STORE_STORE_H
#define VG_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/alarm.h"
#include "core/incident.h"
#include "core/proto.h"
#include "util/journal.h"

struct vg_store;

/* Roles of a unit in a measure. */
enum vg_unit_role {
    VG_ROLE_AUTHOR = 1,    /* the author's mobile unit (has a certificate) */
    VG_ROLE_PROTECTED = 2, /* the protected person's unit (has a certificate) */
    VG_ROLE_BRACELET = 3,  /* the ankle bracelet (speaks through the author's unit) */
};

/* A record received from a unit. */
struct vg_store_record {
    int64_t unit_id;
    int64_t received_ms;        /* the centre's clock */
    struct vg_proto_record rec; /* rec.seq is the unit's sequence number */
};

struct vg_store_alarm {
    int64_t measure_id;
    struct vg_alarm alarm; /* (measure_id, alarm.seq) identifies it */
};

/* The engine's state of a measure after the records of this batch: stored
 * with them, in the same transaction, so that a restart resumes exactly
 * from what is durable. The blob is opaque to the store. */
struct vg_store_state {
    int64_t measure_id;
    uint32_t version; /* layout version of the blob */
    uint32_t len;
    const void *blob;
};

/* The highest sequence number up to which every record of a unit is stored
 * (what the unit is told at its next connection). */
struct vg_store_unit_ack {
    int64_t unit_id;
    uint64_t acked_seq;
};

/* A measure declared (its version 1) with its units. Its definition is
 * JSON text the store keeps as is (the daemon parses and checks it). */
struct vg_store_measure_def {
    const char *name;       /* unique, e.g. "M-2026-0001" */
    const char *definition; /* JSON */
    const char *status;     /* core/lifecycle.h's name; NULL: "pending_installation" */
    const char *actor;      /* who declared it (version 1); NULL: "" */
    int64_t id;             /* out: set once the batch is done */
};

/* A change to a measure: a new version when the definition or the status
 * changes (the old ones are kept), or only the installation checklist. */
struct vg_store_measure_change {
    int64_t measure_id;
    int64_t based_on;         /* the version the change was made from; VG_ESTALE if the measure
                                 has moved on since (0: no check) */
    const char *definition;   /* NULL: unchanged */
    const char *status;       /* NULL: unchanged */
    const char *end_reason;   /* NULL: unchanged */
    const char *installation; /* JSON; NULL: unchanged (alone, it makes no version) */
    const char *note;         /* why (a version's comment) */
    const char *actor;
    int64_t version; /* out: the measure's version after the change */
};

struct vg_store_unit_def {
    const char *serial;  /* the certificate's subject CN */
    uint8_t role;        /* enum vg_unit_role */
    const char *measure; /* the measure's name */
    int64_t id;          /* out */
};

/* A user's account (daemon/auth.c, core/roles.h): created, or changed. */
struct vg_store_user_def {
    const char *name;
    const char *role;          /* a role's name; on a change NULL leaves it */
    const char *court;         /* "" for none; on a change NULL leaves it */
    const char *password_hash; /* an Argon2id encoded hash, "" for none yet; NULL leaves it */
    int8_t disabled;           /* 0 or 1; on a change -1 leaves it */
    uint8_t create;            /* 1: a new account (VG_EDUPLICATE if the name is taken);
                                  0: a change (VG_ENOTFOUND if there is no such account) */
    int64_t id;                /* out */
};

/* A person's file (util/person_json.h): a new person, or a new version of
 * one. Every version is kept. */
struct vg_store_person_def {
    int64_t id;          /* chosen by the caller (random, > 0) for a new person */
    bool create;         /* 1: a new person (VG_EDUPLICATE if the id is taken) */
    int64_t based_on;    /* a change: the version it was made from; VG_ESTALE if the
                            person has moved on since (0: no check) */
    const char *display; /* "LAST_NAME First names" */
    const char *data;    /* the canonical JSON */
    const char *actor;   /* who */
    int64_t version;     /* out: the version stored */
};

/* An entry for the hash-chained journal (util/journal.h): the store numbers
 * and chains it in the batch's transaction, so that the journal says what
 * was stored, no more and no less. */
struct vg_store_journal_entry {
    int64_t at_ms;
    const char *actor;
    const char *action;
    const char *subject;
    const char *detail; /* JSON text */
    int64_t id;         /* out: its number in the journal once done (0 if failed) */
};

/* A measure brought from another centre (vigie measure import), as it was:
 * every version with its time and author, the persons' files with every
 * version, and the source's journal entries about it (kept apart: they
 * belong to the source's chain, not to this one). Its units are declared
 * in the same batch (units[], naming it). */
struct vg_store_measure_version_row;
struct vg_store_person_row;

struct vg_store_import {
    const char *name;
    const char *definition; /* the current version's */
    const char *status;
    const char *end_reason;
    const char *installation;
    int64_t version;
    int64_t created_ms;
    int64_t ended_ms;                                    /* 0: not ended */
    const struct vg_store_measure_version_row *versions; /* oldest first */
    size_t n_versions;
    const struct vg_store_person_row *persons; /* each version of each file, oldest first */
    size_t n_persons;
    const char *source; /* the source centre, as the document names it */
    const struct vg_journal_entry *journal;
    size_t n_journal;
    int64_t id; /* out */
};

/* A step of the protocol recorded on an incident (core/incident.h), written
 * in the transaction of the incident's change and of its journal entry.
 * One row each, never rewritten. */
struct vg_store_incident_step {
    int64_t incident_id;
    uint32_t n;                /* its number within the incident: 1, 2, ... */
    uint8_t kind;              /* enum vg_step_kind */
    uint8_t outcome;           /* enum vg_step_outcome */
    const char *text;          /* the police's reference, a note ("" if none) */
    const char *operator_name; /* who recorded it */
    int64_t at_ms;
};

/* The report made when an incident is closed, addressed to the recipients
 * its measure names (written in the closing's transaction). The content is
 * kept byte for byte: its SHA-256 is in the journal (report.create). */
struct vg_store_report {
    int64_t incident_id; /* one report per incident */
    int64_t measure_id;
    int64_t created_ms;
    const char *recipients; /* JSON array: [{"role", "name", "contact"}] */
    const char *content;    /* JSON object */
};

/* A console's session (http/auth.c), kept in the database so that it
 * holds at the other site after a take-over. Only its token's SHA-256 is
 * stored: a copy of the database does not log anyone in. */
enum vg_store_session_action {
    VG_STORE_SESSION_OPEN = 1,     /* a new session: token_hash, user, created_ms, last_ms */
    VG_STORE_SESSION_TOUCH = 2,    /* used at last_ms (never set back) */
    VG_STORE_SESSION_END = 3,      /* logged out */
    VG_STORE_SESSION_END_USER = 4, /* every session of `user` (rights changed) */
    /* the sessions unused since before last_ms or opened before
     * created_ms (idle or too old) */
    VG_STORE_SESSION_END_EXPIRED = 5,
};

#define VG_STORE_SESSION_HASH_LEN 32

struct vg_store_session_op {
    uint8_t action; /* enum vg_store_session_action */
    uint8_t token_hash[VG_STORE_SESSION_HASH_LEN];
    const char *user;
    int64_t created_ms, last_ms;
};

/* The retention job's steps on an ended measure (core/retention.h). */
enum vg_store_retention_action {
    VG_STORE_ARCHIVE = 1, /* into the intermediate archive (access restricted) */
    /* Delete up to `limit` of the records its units sent while they
     * served it (from its declaration to the next measure they served):
     * repeated until none is left, so that no transaction holds the writer
     * long (alarms never wait behind bulk work). */
    VG_STORE_PURGE_RECORDS = 2,
    /* Then the rest: alarms, incidents with their steps and reports,
     * engine state, versions, the measure, and the persons' files no other
     * measure names. The journal stays. */
    VG_STORE_DELETE_MEASURE = 3,
};

struct vg_store_retention_step {
    int64_t measure_id;
    uint8_t action; /* enum vg_store_retention_action */
    int64_t limit;  /* PURGE_RECORDS: at most this many rows per table */
    int64_t done;   /* out: rows deleted (PURGE_RECORDS), 1 if archived or deleted */
};

struct vg_store_batch {
    /* In: everything is borrowed from the caller until done() is called. */
    const struct vg_store_record *records;
    size_t n_records;
    const struct vg_store_alarm *alarms;
    size_t n_alarms;
    const struct vg_store_state *states;
    size_t n_states;
    const struct vg_store_unit_ack *acks;
    size_t n_acks;
    struct vg_store_measure_def *measures;
    size_t n_measures;
    struct vg_store_unit_def *units;
    size_t n_units;
    struct vg_store_journal_entry *journal;
    size_t n_journal;
    struct vg_store_user_def *user_defs;
    size_t n_user_defs;
    struct vg_store_person_def *person_defs;
    size_t n_person_defs;
    struct vg_store_measure_change *measure_changes;
    size_t n_measure_changes;
    struct vg_store_retention_step *retention;
    size_t n_retention;
    struct vg_store_import *imports;
    size_t n_imports;
    /* incidents created or moved (core/incident.h; ids given by the
     * caller): written whole, after the alarms of the batch */
    const struct vg_incident *incidents;
    size_t n_incidents;
    /* the protocol's steps and the closing reports of incidents (after
     * the incidents: an incident of the batch may be the one they name) */
    const struct vg_store_incident_step *incident_steps;
    size_t n_incident_steps;
    const struct vg_store_report *reports;
    size_t n_reports;
    /* consoles' sessions opened, used, ended (applied after the journal) */
    const struct vg_store_session_op *sessions;
    size_t n_sessions;
    /* An alarm waits on this batch: its transaction ends with it (the
     * batches queued after it go in the next one), so that what it waits
     * for is as small as the order of batches allows. */
    bool urgent;
    /* A batch of plain traffic (records, engine states, acknowledgements,
     * nothing else) may declare every measure its records feed
     * (declares_fed, measures_fed). An urgent batch queued behind such
     * batches, sharing none of their units and measures, is then committed
     * before them in a transaction of its own: an alarm does not wait for
     * the rows of other pairs queued ahead of it. Batches that declare
     * nothing keep their place, and nothing passes them. */
    bool declares_fed;
    const int64_t *measures_fed;
    size_t n_measures_fed;
    /* Called once, on the writer thread, after the commit (rc 0) or the
     * failure (rc < 0, nothing of this batch stored; err says why). */
    void (*done)(struct vg_store_batch *b, int rc, const char *err);
    void *arg;
    /* Out, set by the store before done(): records actually inserted (not
     * already there), and the monotonic times of submission and commit. */
    size_t n_inserted;
    int64_t submitted_ns;
    int64_t committed_ns;
    /* The store's own; do not touch. */
    struct vg_store_batch *next_;
    const struct vg_journal_entry *journal_rows_; /* chained entries, during apply */
};

/* Open a store: "sqlite:PATH" or a plain path (SQLite, created with its
 * schema if missing), or PostgreSQL: a libpq URI "postgresql://..." (or
 * "postgres://...", several hosts with target_session_attrs=read-write
 * for a primary among them) or "postgresql:" then libpq's key=value form;
 * the database must exist, its schema is created if it is empty.
 * Migrations applied. On failure returns a negative vg_err and writes the
 * reason to err. */
int vg_store_open(const char *location, struct vg_store **out, char *err, size_t err_len);

/* The location as it may be logged: a password in it (a URI's user:PASSWORD@
 * or a password=... setting) written *** (out always terminated). */
void vg_store_location_public(const char *location, char *out, size_t out_len);

/* Commit what is queued, stop the writer, close. Accepts NULL. */
void vg_store_close(struct vg_store *s);

/* Queue a batch for the writer. VG_ESTATE if the store is closing. The
 * batch and what it points to must stay valid until done() is called. */
int vg_store_submit(struct vg_store *s, struct vg_store_batch *b);

/* Submit and wait until done (from a thread that may block: never an event
 * loop's). b->done and b->arg are the store's to set. 0, or the batch's
 * error with its message in err. */
int vg_store_run(struct vg_store *s, struct vg_store_batch *b, char *err, size_t err_len);

/* Batches queued and not yet done (for back-pressure). */
size_t vg_store_pending(struct vg_store *s);

/* Wait until every batch submitted so far is done (from a thread that may
 * block). */
void vg_store_drain(struct vg_store *s);

/* The backend's upkeep off the commit path (SQLite: its latest fixes moved
 * in bulk into their keyed table): how many of its steps failed since open,
 * and the last failure's reason in err (empty if none). A failed step loses
 * nothing and is tried again a second later; while it keeps failing the
 * fixes wait in arrival order, where reads of them are slower. */
uint64_t vg_store_upkeep_failures(struct vg_store *s, char *err, size_t err_len);

/* The backend's upkeep done whole now (SQLite: every waiting fix moved, in
 * one transaction), before reads that would be slow otherwise (the centre
 * built again: each measure's latest records read). From a thread that may
 * block; 0, or < 0 with err set (nothing lost: the upkeep goes on later). */
int vg_store_upkeep_all(struct vg_store *s, char *err, size_t err_len);

/* ---- the two sites' lease (PostgreSQL; core/lease.h) -------------------- */

/* Whether the backend keeps a lease (PostgreSQL); SQLite serves one site. */
bool vg_store_has_lease(struct vg_store *s);

struct vg_store_lease_answer {
    int64_t epoch;        /* > 0: the lease is the caller's at this epoch; 0: another's */
    char holder[128];     /* who holds it ("" if nobody ever did) */
    int64_t remaining_ms; /* until it lapses, by the database's clock (0: lapsed) */
};

/* Take the lease if nobody holds it or its holder let it lapse (by the
 * database's clock), or renew it if `holder` holds it at `epoch`; it then
 * runs ttl_ms from the database's now. A holder that took it over gets the
 * epoch + 1. On a connection of its own, with short time-outs (a request
 * never hangs longer than about ttl_ms): call it from one thread only,
 * never an event loop's. VG_ESTATE without a lease (SQLite), or the
 * database's failure with err set. */
int vg_store_lease(struct vg_store *s, const char *holder, int64_t ttl_ms, int64_t epoch,
                   struct vg_store_lease_answer *out, char *err, size_t err_len);

/* Let the lease go at once (a clean stop: the other site need not wait
 * for it to lapse). Only if `holder` still holds it at `epoch`. */
int vg_store_lease_release(struct vg_store *s, const char *holder, int64_t epoch, char *err,
                           size_t err_len);

/* Fencing: from the next transaction on, every write checks in the
 * database that the lease is still at `epoch` (> 0), and fails with
 * nothing stored if not; -1: this process is standing by, every write
 * fails before reaching the database; 0: no check (SQLite, the tools).
 * With vg_store_fence_on_loss (a centre: vigied), a transaction the
 * database loses (VG_ESTATE: begin or commit failed, the connection gone,
 * the lease refused) fences the store by itself: every later write fails,
 * the batches already queued too (their engine states judged what was
 * lost), until vg_store_fence is called again (the centre built again from
 * the store); vg_store_lost says so meanwhile. Without it (the tools), the
 * next transaction connects again and goes on. */
void vg_store_fence(struct vg_store *s, int64_t epoch);
void vg_store_fence_on_loss(struct vg_store *s, bool on);
bool vg_store_lost(struct vg_store *s);

/* Read the journal's tail from the database again (a standby about to
 * write: the other site wrote since this store opened). Only with nothing
 * pending (vg_store_drain first). */
int vg_store_resync(struct vg_store *s, char *err, size_t err_len);

/* ---- synchronous reads ------------------------------------------------- */

struct vg_store_unit_row {
    int64_t id;
    const char *serial;
    uint8_t role;
    int64_t measure_id; /* 0 if not assigned */
    uint64_t acked_seq;
};

struct vg_store_measure_row {
    int64_t id;
    const char *name;
    const char *definition;
    const void *state; /* NULL if no state stored yet */
    size_t state_len;
    uint32_t state_version;
    int64_t version;          /* the definition's and status's current version */
    const char *status;       /* core/lifecycle.h's name */
    const char *end_reason;   /* "" unless ended */
    const char *installation; /* JSON */
    int64_t created_ms;
    int64_t ended_ms; /* 0 unless ended */
    bool archived;
};

struct vg_store_measure_version_row {
    int64_t measure_id;
    int64_t version;
    const char *definition;
    const char *status;
    const char *end_reason;
    const char *note;
    const char *actor;
    int64_t created_ms;
};

struct vg_store_user_row {
    int64_t id;
    const char *name;
    const char *role;
    const char *court;
    const char *password_hash; /* "" if none set yet */
    bool disabled;
};

struct vg_store_person_row {
    int64_t id;
    int64_t version;
    const char *display;
    const char *data;   /* NULL in vg_store_persons' list */
    const char *actor;  /* who made this version (NULL in the list) */
    int64_t created_ms; /* this version's time (the list: the last change's) */
};

/* Every person, current versions, in id order (no data). */
int vg_store_persons(struct vg_store *s, int (*cb)(void *arg, const struct vg_store_person_row *p),
                     void *arg);
/* One person: version 0 the current one, or every version (all = true),
 * newest first. VG_ENOTFOUND if none. */
int vg_store_person(struct vg_store *s, int64_t id, int64_t version, bool all,
                    int (*cb)(void *arg, const struct vg_store_person_row *p), void *arg);

/* The incidents, in id order: every one, or each measure's latest only
 * (what the centre resumes from). */
int vg_store_incidents(struct vg_store *s, bool latest_only,
                       int (*cb)(void *arg, const struct vg_incident *inc), void *arg);

/* One incident by its id, whichever its measure. VG_ENOTFOUND if none. */
int vg_store_incident(struct vg_store *s, int64_t id, struct vg_incident *out);

/* An incident's steps, in their order (none: 0 without a call). Strings
 * valid during the call. */
int vg_store_incident_steps(struct vg_store *s, int64_t incident_id,
                            int (*cb)(void *arg, const struct vg_store_incident_step *st),
                            void *arg);

/* An incident's report (strings valid during the call). VG_ENOTFOUND if
 * it has none (not closed, closed before reports were made, no such
 * incident). */
int vg_store_report(struct vg_store *s, int64_t incident_id,
                    int (*cb)(void *arg, const struct vg_store_report *r), void *arg);

/* Every version of a measure, newest first. VG_ENOTFOUND if none. */
int vg_store_measure_versions(struct vg_store *s, int64_t id,
                              int (*cb)(void *arg, const struct vg_store_measure_version_row *v),
                              void *arg);

struct vg_store_session_row {
    const char *user; /* valid during the call */
    int64_t created_ms, last_ms;
};

/* The session whose token has this SHA-256: cb called once; VG_ENOTFOUND
 * if there is none (ended, purged, never opened). */
int vg_store_session(struct vg_store *s, const uint8_t token_hash[VG_STORE_SESSION_HASH_LEN],
                     int (*cb)(void *arg, const struct vg_store_session_row *r), void *arg);

/* Call cb for every user account, in id order (strings valid during the call). */
int vg_store_users(struct vg_store *s, int (*cb)(void *arg, const struct vg_store_user_row *u),
                   void *arg);

/* Call cb for every unit / measure; strings and blobs are valid during the
 * call only. A non-zero return from cb stops and is returned. */
int vg_store_units(struct vg_store *s, int (*cb)(void *arg, const struct vg_store_unit_row *u),
                   void *arg);
int vg_store_measures(struct vg_store *s,
                      int (*cb)(void *arg, const struct vg_store_measure_row *m), void *arg);

/* The records of a measure's units received at or after since_ms, in the
 * order they were received (to rebuild an engine state that could not be
 * restored as stored). */
int vg_store_replay(struct vg_store *s, int64_t measure_id, int64_t since_ms,
                    int (*cb)(void *arg, const struct vg_store_record *r), void *arg);

/* The records one unit sent, received in [from_ms, to_ms), in the order
 * they were received (a measure's export). */
int vg_store_unit_records(struct vg_store *s, int64_t unit_id, int64_t from_ms, int64_t to_ms,
                          int (*cb)(void *arg, const struct vg_store_record *r), void *arg);

/* Counts, for tests and tools: records stored for a unit (all kinds), alarms
 * of a measure. */
int vg_store_count_records(struct vg_store *s, int64_t unit_id, int64_t *n);
int vg_store_count_alarms(struct vg_store *s, int64_t measure_id, int64_t *n);

/* The journal's entries with id > after_id, in id order, as stored (for
 * vg_journal_check_next: whatever the rows hold, a missing value reads as
 * an empty string or a zero hash). */
int vg_store_journal(struct vg_store *s, int64_t after_id,
                     int (*cb)(void *arg, const struct vg_journal_entry *e), void *arg);

/* The journal's last committed entry: its id (0: empty) and hash. */
int vg_store_journal_head(struct vg_store *s, int64_t *id, uint8_t hash[VG_JOURNAL_HASH_LEN]);

/* The alarms of a measure with seq > after_seq, in order (tests, tools,
 * later the API). */
int vg_store_alarms(struct vg_store *s, int64_t measure_id, uint32_t after_seq,
                    int (*cb)(void *arg, const struct vg_store_alarm *a), void *arg);

/* What the statistics are made of (core/stats.h): a row is either one
 * version of a measure or a count of its alarms. Nothing that names or
 * places anyone: no measure name, unit, person, position. */
struct vg_store_stats_row {
    int64_t measure_id; /* to group a measure's rows; not for publishing */
    bool alarms;        /* false: a version; true: a count of alarms */
    /* a version */
    const char *court; /* the current definition's "court", "" if none */
    int64_t version;
    const char *status;     /* core/lifecycle.h's name */
    const char *end_reason; /* "" unless ended */
    int64_t created_ms;
    /* a count: the measure's alarms of `kind` raised in one UTC month */
    uint16_t kind;
    int64_t raised_ms; /* the first of them (an instant of that month) */
    int64_t count;
};

/* Every measure in id order: its versions in version order, then its
 * alarms raised in [from_ms, to_ms) counted by UTC month and kind (in no
 * particular order). Strings valid during the call. */
int vg_store_statistics(struct vg_store *s, int64_t from_ms, int64_t to_ms,
                        int (*cb)(void *arg, const struct vg_store_stats_row *r), void *arg);

#endif
