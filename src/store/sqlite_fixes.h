/* Private to the SQLite backend: its fixes, written in the order they
 * arrive and moved into their keyed table in bulk, off the commit path.
 *
 * Why. The fixes are kept keyed by (unit, sequence): a unit's track is
 * read in order, and an insert is idempotent on that key. But SQLite's WAL
 * logs whole pages, so a commit holding one frame from each of thirty units
 * writes thirty leaf pages (and their splits) for a few kilobytes of rows:
 * 3.7 pages per frame at 10,000 records/s, 35 MB/s of WAL, and commits (an
 * alarm's among them) as long as writing and syncing it takes. Appended in
 * arrival order, the same rows fill a few pages per commit; moved later,
 * every unit's rows of several seconds share its pages' writes.
 *
 * How (schema: store.c, migration 13):
 *   fixes_recent  the new rows, in arrival order (rowid, AUTOINCREMENT: never
 *                 reused, so a key kept below names one row for ever, even
 *                 after another process opening the file moved and dropped
 *                 what waited: a reading tool beside vigied does, at open).
 *   fixes_sorted  the keyed table; a row moved there stays in fixes_recent
 *                 until its generation is dropped, fixes_sorted's copy
 *                 counting (the store's reads and the view fixes skip the
 *                 fixes_recent rows that fixes_sorted holds).
 *   temp.recent_keys  on the writer's connection, in memory: the key and
 *                 rowid of each fixes_recent row not yet moved. It answers
 *                 "stored already?" for the new rows without an index on
 *                 fixes_recent (whose writes would be random again), and
 *                 walks them by unit for the move. A temporary table, not
 *                 a C structure, so that a rolled-back batch or transaction
 *                 takes its keys back with it. Rebuilt at open.
 *
 * The move goes in cycles: at its start, the highest rowid X; then chunks
 * by ascending unit (a few dozen units, a few thousand rows: a millisecond
 * or two each, so an alarm arriving meanwhile waits that long at most),
 * each copying its units' rows into fixes_sorted and forgetting their keys;
 * then the rows up to X, all moved by then, deleted from fixes_recent a
 * slice at a time. Each step is one short transaction of its own, called
 * by the writer thread between groups (store_backend.h, tidy). */
#ifndef VG_STORE_SQLITE_FIXES_H
#define VG_STORE_SQLITE_FIXES_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VG__SQ_FIXES_STATEMENTS 15

struct vg__sq_fixes {
    sqlite3 *db; /* the writer's connection */
    sqlite3_stmt *st[VG__SQ_FIXES_STATEMENTS];
    /* rows added since the current or last cycle began, and when the first
     * of them came (monotonic ns; 0: none) */
    int64_t new_rows;
    int64_t first_new_ns;
    /* the cycle in progress */
    bool in_cycle;
    bool forced;     /* begun because too many rows waited: goes on while busy */
    bool sweeping;   /* moving by unit; else dropping moved rows */
    int64_t cursor;  /* units up to this one are moved */
    int64_t gen_max; /* the highest rowid when the cycle began */
    int64_t dropped; /* rows up to this rowid are dropped */
    int64_t staged_in_txn; /* fixes staged by the writer's transaction */
    bool unsynced;         /* synchronous=NORMAL for a step, not set back yet */
};

/* At open, on the writer's connection, after the migrations: the keys of
 * the rows waiting in fixes_recent, the statements, and every waiting row
 * moved (a restart begins with an empty fixes_recent: the replay at start
 * reads the keyed table alone). 0, or < 0 with err set. */
int vg__sq_fixes_open(struct vg__sq_fixes *f, sqlite3 *db, char *err, size_t err_len);
void vg__sq_fixes_close(struct vg__sq_fixes *f);

/* The writer began a transaction. */
void vg__sq_fixes_begin(struct vg__sq_fixes *f);

/* The move's steps commit unsynced (synchronous=NORMAL: they add no data);
 * before a group's transaction, synchronous=FULL must be back: 0 if it is
 * (set again now if a step could not), < 0 (err set) if it cannot be, and
 * then the group must not begin. */
int vg__sq_fixes_synced(struct vg__sq_fixes *f, char *err, size_t err_len);

/* A fix about to be added by the writer's transaction: 1 if it is stored
 * already (nothing to do), 0 if not, < 0 on failure (err set); and where it
 * goes: fixes_recent (*staged), or, past a large transaction's first
 * thousand, straight to fixes_sorted. Then the statement that adds it,
 * bound by the caller as fixes' columns in their order (?1 unit_id, ?2 seq,
 * ?3 t_ms ... ?10 received_ms) and stepped; and if it changed a row and
 * was staged, vg__sq_fixes_added() with the same key (inside the same
 * savepoint). */
int vg__sq_fixes_seen(struct vg__sq_fixes *f, int64_t unit_id, int64_t seq, bool *staged,
                      char *err, size_t err_len);
sqlite3_stmt *vg__sq_fixes_insert(struct vg__sq_fixes *f, bool staged);
int vg__sq_fixes_added(struct vg__sq_fixes *f, int64_t unit_id, int64_t seq, char *err,
                       size_t err_len);

/* After rows of fixes_recent were deleted other than by the move (the
 * retention's purge): their keys forgotten too. */
int vg__sq_fixes_forget_deleted(struct vg__sq_fixes *f, char *err, size_t err_len);

/* One step of the move, if one is due (see store_backend.h, tidy): > 0 a
 * step done and more to do, 0 nothing due, < 0 failed (rolled back). */
int vg__sq_fixes_tidy(struct vg__sq_fixes *f, bool idle, char *err, size_t err_len);

/* Everything waiting moved now, in one transaction (a cycle in progress
 * with it): before the centre is built again, whose replay of each
 * measure's latest records would otherwise scan fixes_recent once per
 * measure. 0, or < 0 with err set (rolled back). */
int vg__sq_fixes_move_all(struct vg__sq_fixes *f, char *err, size_t err_len);

#endif
