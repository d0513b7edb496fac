/* Private to src/store: what a backend provides to the store's common part
 * (store.c: location dispatch, the queue, the writer thread, group commit,
 * the read lock), and the helpers every backend shares (the migration list,
 * the wire representation of records).
 *
 * A backend owns its connections; store.c calls it from two sides:
 *   - the writer thread alone calls begin / apply / commit / rollback, one
 *     group at a time: begin, apply for each batch (the backend wraps each
 *     in a savepoint of its own), commit;
 *   - the read functions are called with store.c's read lock held, so a
 *     backend needs no locking of its own for its read connection. The
 *     lock is recursive: a read's callback may call another read (of the
 *     same kind too), which the backend must allow. */
#ifndef VG_STORE_STORE_BACKEND_H
#define VG_STORE_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/fix.h"
#include "store/store.h"

/* A database failure (I/O, disk full, corruption, lock time-out) as an
 * error code. enum vg_err has no I/O code yet: this is the one place to
 * change when it gets one. */
#define VG__STORE_EDB VG_ESTATE

/* apply(): settle what is queued first, then call again (see settle). Not
 * an enum vg_err: it never leaves src/store. */
#define VG__STORE_SETTLE (-1000)

/* Error texts handed to done() and to the callers of open. */
#define VG__STORE_ERR_LEN 256

struct vg_store_backend; /* each backend defines its own */

enum vg__store_tidy { VG__TIDY_BUSY, VG__TIDY_IDLE, VG__TIDY_ALL }; /* see tidy below */

struct vg_store_ops {
    const char *name; /* "sqlite", "postgresql" */

    /* target: what follows the location's prefix (a path, a conninfo). */
    int (*open)(const char *target, struct vg_store_backend **out, char *err, size_t err_len);
    /* Finalises statements and closes connections; the writer has stopped. */
    void (*close)(struct vg_store_backend *be);

    /* ---- the writer thread ---- */
    int (*begin)(struct vg_store_backend *be, char *err, size_t err_len);
    /* One batch inside its own savepoint. 0: applied (b->n_inserted and the
     * provisioning ids set). < 0: the batch is rolled back to its savepoint
     * and err says why; if the whole transaction was lost with it (the
     * database aborted it: I/O error, disk full), *txn_lost is set and the
     * caller must fail every batch of the group. now_ms: the centre's UTC
     * clock for created/updated columns. */
    int (*apply)(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                 bool *txn_lost, char *err, size_t err_len);
    /* Durable on return 0; on failure the transaction is rolled back. */
    int (*commit)(struct vg_store_backend *be, char *err, size_t err_len);
    /* Only for a backend that pipelines its statements (PostgreSQL; NULL
     * for one that applies each batch before apply() returns). Its apply()
     * may only queue a batch (return 0, its outcome pending), or, before
     * queueing anything of it, return VG__STORE_SETTLE: the caller then
     * settles and calls apply() for the same batch again. settle() waits
     * for everything queued since begin: 0 if every queued batch applied
     * (outputs set); else the negative error of the first batch that
     * failed, that batch in *failed and err saying why, and nothing of
     * the transaction kept: the caller applies the group's other batches
     * again from its first (the backend begins again by itself). If the
     * failure is not a batch's (*failed NULL) or *txn_lost is set, the
     * group fails. store.c settles before commit. */
    int (*settle)(struct vg_store_backend *be, struct vg_store_batch **failed, bool *txn_lost,
                  char *err, size_t err_len);
    /* After a failed begin or a lost transaction: make sure none is open. */
    void (*rollback)(struct vg_store_backend *be);
    /* The writer thread, before each group: the epoch its transactions
     * check (store.h, vg_store_fence; > 0), or 0 for none. NULL: the
     * backend has no lease. */
    void (*fence)(struct vg_store_backend *be, int64_t epoch);
    /* The writer thread, between groups: upkeep the backend keeps off the
     * commit path, a short transaction of its own per call (SQLite moves
     * its fixes from the arrival-ordered table to the keyed one). BUSY:
     * something is queued, only what cannot wait; IDLE: nothing is; ALL:
     * everything now, in one transaction (vg_store_upkeep_all). > 0: it
     * did some and has more; 0: nothing to do now (store.c asks again at
     * the next group, or after TIDY_PERIOD_MS idle); < 0: it failed
     * (rolled back, nothing lost), err says why, and store.c waits a while
     * before asking again. NULL: no upkeep. */
    int (*tidy)(struct vg_store_backend *be, enum vg__store_tidy mode, char *err, size_t err_len);

    /* ---- the lease (store.h), from one thread, on a connection of its own;
     * NULL for a backend without one ---- */
    int (*lease)(struct vg_store_backend *be, const char *holder, int64_t ttl_ms, int64_t epoch,
                 struct vg_store_lease_answer *out, char *err, size_t err_len);
    int (*lease_release)(struct vg_store_backend *be, const char *holder, int64_t epoch, char *err,
                         size_t err_len);

    /* ---- reads, under the store's read lock (see store.h) ---- */
    int (*units)(struct vg_store_backend *be,
                 int (*cb)(void *arg, const struct vg_store_unit_row *u), void *arg);
    int (*measures)(struct vg_store_backend *be,
                    int (*cb)(void *arg, const struct vg_store_measure_row *m), void *arg);
    int (*replay)(struct vg_store_backend *be, int64_t measure_id, int64_t since_ms,
                  int (*cb)(void *arg, const struct vg_store_record *r), void *arg);
    int (*count_records)(struct vg_store_backend *be, int64_t unit_id, int64_t *n);
    int (*count_alarms)(struct vg_store_backend *be, int64_t measure_id, int64_t *n);
    int (*alarms)(struct vg_store_backend *be, int64_t measure_id, uint32_t after_seq,
                  int (*cb)(void *arg, const struct vg_store_alarm *a), void *arg);
    int (*persons)(struct vg_store_backend *be,
                   int (*cb)(void *arg, const struct vg_store_person_row *p), void *arg);
    int (*person)(struct vg_store_backend *be, int64_t id, int64_t version, bool all,
                  int (*cb)(void *arg, const struct vg_store_person_row *p), void *arg);
    int (*incidents)(struct vg_store_backend *be, bool latest_only,
                     int (*cb)(void *arg, const struct vg_incident *inc), void *arg);
    int (*incident)(struct vg_store_backend *be, int64_t id, struct vg_incident *out);
    int (*incident_steps)(struct vg_store_backend *be, int64_t incident_id,
                          int (*cb)(void *arg, const struct vg_store_incident_step *st),
                          void *arg);
    int (*report)(struct vg_store_backend *be, int64_t incident_id,
                  int (*cb)(void *arg, const struct vg_store_report *r), void *arg);
    int (*unit_records)(struct vg_store_backend *be, int64_t unit_id, int64_t from_ms,
                        int64_t to_ms, int (*cb)(void *arg, const struct vg_store_record *r),
                        void *arg);
    int (*measure_versions)(struct vg_store_backend *be, int64_t id,
                            int (*cb)(void *arg, const struct vg_store_measure_version_row *v),
                            void *arg);
    int (*users)(struct vg_store_backend *be,
                 int (*cb)(void *arg, const struct vg_store_user_row *u), void *arg);
    int (*session)(struct vg_store_backend *be, const uint8_t hash[VG_STORE_SESSION_HASH_LEN],
                   int (*cb)(void *arg, const struct vg_store_session_row *r), void *arg);
    int (*statistics)(struct vg_store_backend *be, int64_t from_ms, int64_t to_ms,
                      int (*cb)(void *arg, const struct vg_store_stats_row *r), void *arg);
    int (*journal)(struct vg_store_backend *be, int64_t after_id,
                   int (*cb)(void *arg, const struct vg_journal_entry *e), void *arg);
    /* The last entry's id (0 if none) and hash. */
    int (*journal_tail)(struct vg_store_backend *be, int64_t *id,
                        uint8_t hash[VG_JOURNAL_HASH_LEN]);
};

extern const struct vg_store_ops vg__store_sqlite_ops;
extern const struct vg_store_ops vg__store_pg_ops;

/* ---- migrations (store.c), shared by every backend ----------------------
 *
 * An ordered list of steps, each applied once, in one transaction with the
 * others at open, and recorded in schema_migrations(version, applied_ms).
 * The SQL is written once for every backend; the few words where SQL
 * dialects differ are tokens that vg__store_migration_sql() replaces:
 *
 *   @ID@        a generated 64-bit key:  INTEGER PRIMARY KEY (SQLite's rowid)
 *                                        | BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY
 *   @KEY@       a 64-bit key given by the caller: INTEGER PRIMARY KEY | BIGINT PRIMARY KEY
 *   @BLOB@      bytes: BLOB | BYTEA
 *   @NOROWID@   after a table with a composite key: WITHOUT ROWID | nothing
 *   @FIXES_KEY@ what the fixes' key adds: nothing | , received_ms (PostgreSQL
 *               partitions fixes by month of reception, and a partitioned
 *               table's keys must hold its partition key)
 *   @FIXES_BY@  after the fixes table: WITHOUT ROWID
 *                                      | PARTITION BY RANGE (received_ms)
 *
 * A step may also hold statements for PostgreSQL alone (functions, the
 * tables its partitioning needs) or for SQLite alone (its fixes' staging,
 * store_sqlite.c); on the other backend it is then recorded, and nothing
 * else done. */
enum vg__store_dialect {
    VG__STORE_SQLITE,
    VG__STORE_POSTGRESQL,
};

struct vg__store_migration {
    int version; /* 1, 2, ... in order, never reused */
    const char *name;
    const char *sql; /* one or more statements, with the tokens above */
    const char *postgresql_only; /* run after sql on PostgreSQL; NULL: none */
    const char *sqlite_only;     /* run after sql on SQLite; NULL: none */
};

extern const struct vg__store_migration vg__store_migrations[];
extern const size_t vg__store_n_migrations;

/* The step's SQL for a dialect (malloc'd, the caller frees), NULL if out of
 * memory. */
char *vg__store_migration_sql(const struct vg__store_migration *m, enum vg__store_dialect d);

/* ---- the wire representation of records (store.c) ----------------------
 *
 * Fixes are stored as the protocol carries them (docs/PROTOCOL.md): degrees
 * as 1e-7 integers, accuracy, speed and heading in hundredths (cm, cm/s,
 * centidegrees), decoded back with the protocol decoder's arithmetic
 * ((double)e7 / 1e7, (float)(n / 100.0)), so that a record read back is
 * bit for bit the record decoded from the wire. A fix without position
 * (quality NONE) stores no position, speed nor heading (NULL; read back as
 * the decoder gives them: 0, 0, 0, -1, -1); an unknown speed or heading
 * (< 0) is NULL, read back as -1. */
struct vg__store_fix_row {
    int64_t t_ms;
    int64_t lat_e7, lon_e7, accuracy_cm, speed_cms, heading_cdeg;
    bool has_position, has_speed, has_heading;
    uint8_t quality;
};

/* VG_ERANGE if a value does not fit the wire's integers once scaled (NaN,
 * infinite, a negative accuracy, beyond 32 bits). */
int vg__store_fix_encode(const struct vg_fix *f, struct vg__store_fix_row *row);
void vg__store_fix_decode(const struct vg__store_fix_row *row, struct vg_fix *f);

/* Statuses: -1 (unknown) is stored as NULL. */
#define VG__STORE_STATUS_UNKNOWN (-1)

/* The record with this sequence number cannot be stored (columns are
 * signed 64-bit). */
#define VG__STORE_MAX_SEQ ((uint64_t)INT64_MAX)

/* snprintf into err (which may be NULL or empty). */
void vg__store_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
