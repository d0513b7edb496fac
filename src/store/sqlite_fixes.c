/* SQLite's fixes, staged in arrival order and moved in bulk (sqlite_fixes.h
 * says why and how). */
#include "store/sqlite_fixes.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "store/store_backend.h"
#include "util/clock.h"

/* When a cycle begins. Idle (nothing queued): once TIDY_ROWS rows wait, or
 * the first of them waited TIDY_AGE_MS (a quiet centre's rows do not wait
 * in fixes_recent for ever). Busy: only once TIDY_FORCE_ROWS wait, so that
 * fixes_recent stays small (every read of a unit's track scans it) even
 * when the writer is never idle; such a cycle then goes on a step after
 * each group. */
#define TIDY_ROWS       32768
#define TIDY_AGE_MS     5000
#define TIDY_FORCE_ROWS 131072

/* A transaction that has staged this many fixes writes its next ones
 * straight into fixes_sorted: a group that large (the writer is behind,
 * flat out) shares each unit's page among many of its rows already, and
 * staging them would only add the move's work to it. */
#define STAGED_PER_TRANSACTION 1024

/* One step: the rows of at most CHUNK_UNITS units, and of no more units
 * than it takes to reach CHUNK_ROWS rows (the last unit's all); a slice of
 * DROP_SLICE rowids dropped. Each about a millisecond on this machine
 * (docs/BENCHMARKS.md, bench/ingest): the longest an alarm waits for one. */
#define CHUNK_ROWS  1024
#define CHUNK_UNITS 16
#define DROP_SLICE  2048

enum {
    F_BEGIN,
    F_COMMIT,
    F_ROLLBACK,
    F_SEEN,
    F_SEEN_STAGED,
    F_INSERT,
    F_INSERT_SORTED,
    F_KEY,
    F_ID_RANGE,
    F_END_BY_ROWS,
    F_END_BY_UNITS,
    F_MOVE,
    F_FORGET,
    F_DROP,
    F_FORGET_DELETED,
    F__COUNT
};
_Static_assert(F__COUNT == VG__SQ_FIXES_STATEMENTS, "sqlite_fixes.h's statement count");

#define COLUMNS                                                                                    \
    "unit_id, seq, t_ms, quality, lat_e7, lon_e7, accuracy_cm, speed_cms, heading_cdeg, "          \
    "received_ms"

static const char *const sql[F__COUNT] = {
    [F_BEGIN] = "BEGIN IMMEDIATE",
    [F_COMMIT] = "COMMIT",
    [F_ROLLBACK] = "ROLLBACK",
    /* Whether a fix is stored already, asked apart from its insert: an
     * INSERT ... SELECT takes a statement journal, which grows with a
     * batch's savepoint and made a batch of 40,000 fixes quadratic. */
    [F_SEEN] = "SELECT EXISTS (SELECT 1 FROM fixes_sorted WHERE unit_id = ?1 AND seq = ?2) "
               "OR EXISTS (SELECT 1 FROM temp.recent_keys WHERE unit_id = ?1 AND seq = ?2)",
    [F_SEEN_STAGED] = "SELECT EXISTS (SELECT 1 FROM temp.recent_keys "
                      "WHERE unit_id = ?1 AND seq = ?2)",
    [F_INSERT] = "INSERT INTO fixes_recent (" COLUMNS ") "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    /* the keyed table refuses a fix it holds by itself */
    [F_INSERT_SORTED] = "INSERT INTO fixes_sorted (" COLUMNS ") "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING",
    [F_KEY] = "INSERT INTO temp.recent_keys (unit_id, seq, id) VALUES (?1, ?2, ?3)",
    [F_ID_RANGE] = "SELECT min(id), max(id) FROM fixes_recent",
    /* the unit of the ?2-th waiting row after unit ?1, in key order */
    [F_END_BY_ROWS] = "SELECT unit_id FROM temp.recent_keys WHERE unit_id > ?1 "
                      "ORDER BY unit_id, seq LIMIT 1 OFFSET ?2",
    /* the ?2-th unit with rows waiting after unit ?1, or the last (NULL: none) */
    [F_END_BY_UNITS] = "SELECT max(unit_id) FROM (SELECT DISTINCT unit_id FROM temp.recent_keys "
                       "WHERE unit_id > ?1 ORDER BY unit_id LIMIT ?2)",
    /* ORDER BY: appended to each unit's end of the keyed table, in order */
    [F_MOVE] = "INSERT INTO fixes_sorted (" COLUMNS ") "
               "SELECT r.unit_id, r.seq, r.t_ms, r.quality, r.lat_e7, r.lon_e7, r.accuracy_cm, "
               "r.speed_cms, r.heading_cdeg, r.received_ms "
               "FROM temp.recent_keys k JOIN fixes_recent r ON r.id = k.id "
               "WHERE k.unit_id > ?1 AND k.unit_id <= ?2 ORDER BY k.unit_id, k.seq "
               "ON CONFLICT DO NOTHING",
    [F_FORGET] = "DELETE FROM temp.recent_keys WHERE unit_id > ?1 AND unit_id <= ?2",
    /* only what fixes_sorted holds: a row another process added meanwhile
     * (none should: vigied is the file's one writer) is never dropped */
    [F_DROP] = "DELETE FROM fixes_recent WHERE id > ?1 AND id <= ?2 AND EXISTS (SELECT 1 FROM "
               "fixes_sorted s WHERE s.unit_id = fixes_recent.unit_id AND s.seq = fixes_recent.seq)",
    [F_FORGET_DELETED] = "DELETE FROM temp.recent_keys WHERE NOT EXISTS "
                         "(SELECT 1 FROM fixes_recent r WHERE r.id = recent_keys.id)",
};

static int failed(struct vg__sq_fixes *f, sqlite3_stmt *st, const char *what, char *err,
                  size_t err_len)
{
    vg__store_err(err, err_len, "moving the latest fixes: %s: %s", what, sqlite3_errmsg(f->db));
    if (st)
        sqlite3_reset(st);
    if (!sqlite3_get_autocommit(f->db)) {
        sqlite3_step(f->st[F_ROLLBACK]);
        sqlite3_reset(f->st[F_ROLLBACK]);
    }
    return VG__STORE_EDB;
}

/* Step a statement that returns no row. */
static int exec(struct vg__sq_fixes *f, int which, const char *what, char *err, size_t err_len)
{
    sqlite3_stmt *st = f->st[which];
    if (sqlite3_step(st) != SQLITE_DONE)
        return failed(f, st, what, err, err_len);
    sqlite3_reset(st);
    return VG_OK;
}

/* A statement returning one integer row: 1 and *out, 0 if no row or NULL. */
static int one_int(struct vg__sq_fixes *f, int which, int64_t *out, char *err, size_t err_len)
{
    sqlite3_stmt *st = f->st[which];
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return failed(f, st, "finding the next units", err, err_len);
    bool got = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    if (got)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return got ? 1 : 0;
}

void vg__sq_fixes_begin(struct vg__sq_fixes *f)
{
    f->staged_in_txn = 0;
}

int vg__sq_fixes_synced(struct vg__sq_fixes *f, char *err, size_t err_len)
{
    if (!f->unsynced)
        return VG_OK;
    if (sqlite3_exec(f->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK) {
        vg__store_err(err, err_len, "cannot set synchronous = FULL again: %s",
                      sqlite3_errmsg(f->db));
        return VG__STORE_EDB;
    }
    f->unsynced = false;
    return VG_OK;
}

int vg__sq_fixes_seen(struct vg__sq_fixes *f, int64_t unit_id, int64_t seq, bool *staged,
                      char *err, size_t err_len)
{
    *staged = f->staged_in_txn < STAGED_PER_TRANSACTION;
    sqlite3_stmt *st = f->st[*staged ? F_SEEN : F_SEEN_STAGED];
    sqlite3_bind_int64(st, 1, unit_id);
    sqlite3_bind_int64(st, 2, seq);
    if (sqlite3_step(st) != SQLITE_ROW) {
        vg__store_err(err, err_len, "looking for fix %lld/%lld: %s", (long long)unit_id,
                      (long long)seq, sqlite3_errmsg(f->db));
        sqlite3_reset(st);
        return VG__STORE_EDB;
    }
    int seen = sqlite3_column_int(st, 0) != 0;
    sqlite3_reset(st);
    if (!seen && *staged)
        f->staged_in_txn++;
    return seen;
}

sqlite3_stmt *vg__sq_fixes_insert(struct vg__sq_fixes *f, bool staged)
{
    return f->st[staged ? F_INSERT : F_INSERT_SORTED];
}

int vg__sq_fixes_added(struct vg__sq_fixes *f, int64_t unit_id, int64_t seq, char *err,
                       size_t err_len)
{
    sqlite3_stmt *st = f->st[F_KEY];
    sqlite3_bind_int64(st, 1, unit_id);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int64(st, 3, sqlite3_last_insert_rowid(f->db));
    if (sqlite3_step(st) != SQLITE_DONE) {
        vg__store_err(err, err_len, "remembering fix %lld/%lld: %s", (long long)unit_id,
                      (long long)seq, sqlite3_errmsg(f->db));
        sqlite3_reset(st);
        return VG__STORE_EDB;
    }
    sqlite3_reset(st);
    if (f->new_rows++ == 0)
        f->first_new_ns = vg_mono_ns();
    return VG_OK;
}

int vg__sq_fixes_forget_deleted(struct vg__sq_fixes *f, char *err, size_t err_len)
{
    sqlite3_stmt *st = f->st[F_FORGET_DELETED];
    if (sqlite3_step(st) != SQLITE_DONE) {
        vg__store_err(err, err_len, "forgetting purged fixes: %s", sqlite3_errmsg(f->db));
        sqlite3_reset(st);
        return VG__STORE_EDB;
    }
    sqlite3_reset(st);
    return VG_OK;
}

/* A cycle over what waits now; 0 if nothing does. */
static int begin_cycle(struct vg__sq_fixes *f, char *err, size_t err_len)
{
    sqlite3_stmt *st = f->st[F_ID_RANGE];
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return failed(f, st, "reading the waiting rows' range", err, err_len);
    bool any = sqlite3_column_type(st, 1) != SQLITE_NULL;
    int64_t lo = sqlite3_column_int64(st, 0), hi = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    f->forced = f->new_rows >= TIDY_FORCE_ROWS;
    f->new_rows = 0;
    f->first_new_ns = 0;
    if (!any)
        return 0;
    f->in_cycle = true;
    f->sweeping = true;
    f->cursor = INT64_MIN;
    f->gen_max = hi;
    f->dropped = lo - 1;
    return 1;
}

/* The next units' rows into fixes_sorted, their keys forgotten; at the
 * end of the units, on to dropping. */
static int sweep_step(struct vg__sq_fixes *f, char *err, size_t err_len)
{
    int rc = exec(f, F_BEGIN, "beginning", err, err_len);
    if (rc < 0)
        return rc;
    int64_t by_units = 0, by_rows = 0;
    sqlite3_bind_int64(f->st[F_END_BY_UNITS], 1, f->cursor);
    sqlite3_bind_int(f->st[F_END_BY_UNITS], 2, CHUNK_UNITS);
    int more = one_int(f, F_END_BY_UNITS, &by_units, err, err_len);
    if (more < 0)
        return more;
    if (!more) { /* every unit moved */
        if ((rc = exec(f, F_COMMIT, "committing", err, err_len)) < 0)
            return rc;
        f->sweeping = false;
        return VG_OK;
    }
    sqlite3_bind_int64(f->st[F_END_BY_ROWS], 1, f->cursor);
    sqlite3_bind_int(f->st[F_END_BY_ROWS], 2, CHUNK_ROWS - 1);
    int got = one_int(f, F_END_BY_ROWS, &by_rows, err, err_len);
    if (got < 0)
        return got;
    int64_t end = got && by_rows < by_units ? by_rows : by_units;
    for (int which = F_MOVE; which <= F_FORGET; which++) {
        sqlite3_bind_int64(f->st[which], 1, f->cursor);
        sqlite3_bind_int64(f->st[which], 2, end);
    }
    if ((rc = exec(f, F_MOVE, "copying into the keyed table", err, err_len)) < 0 ||
        (rc = exec(f, F_FORGET, "forgetting the moved keys", err, err_len)) < 0 ||
        (rc = exec(f, F_COMMIT, "committing", err, err_len)) < 0)
        return rc;
    f->cursor = end;
    return VG_OK;
}

/* A slice of the cycle's rows, all moved, deleted from fixes_recent. */
static int drop_step(struct vg__sq_fixes *f, char *err, size_t err_len)
{
    int64_t to = f->gen_max - f->dropped > DROP_SLICE ? f->dropped + DROP_SLICE : f->gen_max;
    sqlite3_bind_int64(f->st[F_DROP], 1, f->dropped);
    sqlite3_bind_int64(f->st[F_DROP], 2, to);
    int rc = exec(f, F_DROP, "dropping the moved rows", err, err_len);
    if (rc < 0)
        return rc;
    f->dropped = to;
    if (f->dropped >= f->gen_max)
        f->in_cycle = false;
    return VG_OK;
}

int vg__sq_fixes_tidy(struct vg__sq_fixes *f, bool idle, char *err, size_t err_len)
{
    if (!f->in_cycle) {
        bool due = f->new_rows >= TIDY_FORCE_ROWS ||
                   (idle && f->new_rows > 0 &&
                    (f->new_rows >= TIDY_ROWS ||
                     vg_mono_ns() - f->first_new_ns >= (int64_t)TIDY_AGE_MS * 1000000));
        if (!due)
            return 0;
        int rc = begin_cycle(f, err, err_len);
        if (rc <= 0)
            return rc;
    } else if (!idle && !f->forced) {
        return 0;
    }
    /* A step's commit is not synced (synchronous=NORMAL for it alone): it
     * adds no data, only moves it, and WAL keeps the file consistent if the
     * commit is lost with a power cut (the rows are still waiting, and
     * moved at the next open). The next group's synced commit makes it
     * durable too, the WAL being written in order. An alarm arriving
     * during a step waits for no fsync of the step's. */
    f->unsynced = true;
    sqlite3_exec(f->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    int rc = f->sweeping ? sweep_step(f, err, err_len) : VG_OK;
    if (rc == VG_OK && !f->sweeping)
        rc = drop_step(f, err, err_len);
    int back = vg__sq_fixes_synced(f, rc == VG_OK ? err : NULL, err_len);
    if (rc == VG_OK)
        rc = back;
    if (rc < 0)
        return rc;
    return f->in_cycle || f->new_rows >= TIDY_ROWS ? 1 : 0;
}

/* Inside a transaction: every waiting row into fixes_sorted, every key
 * forgotten, every moved row dropped; committed. */
static int move_everything(struct vg__sq_fixes *f, char *err, size_t err_len)
{
    for (int which = F_MOVE; which <= F_FORGET; which++) {
        sqlite3_bind_int64(f->st[which], 1, INT64_MIN);
        sqlite3_bind_int64(f->st[which], 2, INT64_MAX);
    }
    sqlite3_bind_int64(f->st[F_DROP], 1, INT64_MIN);
    sqlite3_bind_int64(f->st[F_DROP], 2, INT64_MAX);
    int rc;
    if ((rc = exec(f, F_MOVE, "copying into the keyed table", err, err_len)) < 0 ||
        (rc = exec(f, F_FORGET, "forgetting the moved keys", err, err_len)) < 0 ||
        (rc = exec(f, F_DROP, "dropping the moved rows", err, err_len)) < 0 ||
        (rc = exec(f, F_COMMIT, "committing", err, err_len)) < 0)
        return rc;
    f->in_cycle = false;
    f->new_rows = 0;
    f->first_new_ns = 0;
    return VG_OK;
}

int vg__sq_fixes_move_all(struct vg__sq_fixes *f, char *err, size_t err_len)
{
    int rc = exec(f, F_BEGIN, "beginning", err, err_len);
    return rc < 0 ? rc : move_everything(f, err, err_len);
}

int vg__sq_fixes_open(struct vg__sq_fixes *f, sqlite3 *db, char *err, size_t err_len)
{
    memset(f, 0, sizeof *f);
    f->db = db;
    char *msg = NULL;
    /* One transaction: another process may open the file meanwhile (a
     * reading tool beside vigied does, and moves what waits in its turn);
     * holding the write lock from the keys' reading to the drop, nobody
     * adds a row that this would drop unmoved. */
    if (sqlite3_exec(db,
                     "BEGIN IMMEDIATE;"
                     "CREATE TEMP TABLE recent_keys (unit_id INTEGER NOT NULL, "
                     "seq INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (unit_id, seq)) "
                     "WITHOUT ROWID;"
                     "INSERT OR IGNORE INTO temp.recent_keys (unit_id, seq, id) "
                     "SELECT r.unit_id, r.seq, r.id FROM fixes_recent r WHERE NOT EXISTS "
                     "(SELECT 1 FROM fixes_sorted s WHERE s.unit_id = r.unit_id AND s.seq = r.seq)",
                     NULL, NULL, &msg) != SQLITE_OK) {
        vg__store_err(err, err_len, "the latest fixes' keys: %s", msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return VG__STORE_EDB;
    }
    for (int i = 0; i < F__COUNT; i++) {
        if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &f->st[i], NULL) !=
            SQLITE_OK) {
            vg__store_err(err, err_len, "cannot prepare a statement: %s", sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return VG__STORE_EDB;
        }
    }
    /* whatever waits, moved now, nothing else running yet: the replay at
     * start then reads the keyed table alone */
    return move_everything(f, err, err_len);
}

void vg__sq_fixes_close(struct vg__sq_fixes *f)
{
    for (int i = 0; i < F__COUNT; i++) {
        sqlite3_finalize(f->st[i]);
        f->st[i] = NULL;
    }
}
