/* The SQLite backend: one file, two connections (the writer thread's and
 * the readers'), every statement prepared once at open and reused.
 *
 * Settings, and why:
 *   journal_mode=WAL    readers never wait for the writer nor the writer
 *                       for them, and a commit is one append to the WAL
 *                       (one fsync) instead of a rollback journal's two.
 *   synchronous=FULL    the WAL is fsynced at every commit, so a batch
 *                       whose done() said 0 (and which a unit has been
 *                       told is stored) survives a power cut or a kernel
 *                       crash. NORMAL would fsync only at checkpoints: the
 *                       file would stay consistent, but the last commits
 *                       before a power cut, already acknowledged to the
 *                       units (which then dropped them), would be lost.
 *                       Group commit is what makes FULL affordable: one
 *                       fsync per group, not per batch.
 *   foreign_keys=ON     records of unknown units and alarms of unknown
 *                       measures are refused (the batch fails).
 *   busy_timeout        another process (a tool) holding a lock briefly
 *                       delays a commit instead of failing it.
 *   cache_size (writer) 64 MiB. Records arrive time-major (a fix from every
 *                       unit, then the next), so each transaction touches
 *                       the last leaf page of every active unit: the cache
 *                       must hold them all (4 KiB each, ~16,000 units in
 *                       64 MiB) or pages spill mid-transaction and the
 *                       rate falls to the disk's random writes (bench/store:
 *                       300,000 records/s with 1,000 units, 80,000 with the
 *                       default 2 MiB cache).
 *   temp_store=MEMORY   the savepoint of each batch journals the pages the
 *                       batch changes; in memory rather than in a temporary
 *                       file (bench/store: 300,000 records/s instead of
 *                       160,000; the memory is a batch's pages, freed at
 *                       its release).
 *   application_id      "VGIE" in the file's header: a Vigie database is
 *                       recognisable, another application's is refused. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/sqlite_fixes.h"
#include "store/store_backend.h"
#include "util/clock.h"

#define BUSY_TIMEOUT_MS  5000
#define WRITER_CACHE_KIB -65536     /* negative: KiB (64 MiB), see the top of the file */
#define APP_ID           1447512389 /* 0x56474945, "VGIE" */
#define STR_(x)          #x
#define STR(x)           STR_(x)

/* The writer's statements. */
enum {
    W_BEGIN,
    W_COMMIT,
    W_ROLLBACK,
    W_SAVEPOINT,
    W_RELEASE,
    W_ROLLBACK_TO,
    W_STATUS,
    W_EVENT,
    W_ALARM,
    W_STATE,
    W_ACK,
    W_MEASURE,
    W_FIND_MEASURE,
    W_UNIT,
    W_JOURNAL,
    W_USER_INSERT,
    W_USER_UPDATE,
    W_PERSON_INSERT,
    W_PERSON_UPDATE,
    W_PERSON_VERSION,
    W_PERSON_CURRENT,
    W_MEASURE_CHANGE,
    W_MEASURE_CURRENT,
    W_MEASURE_VERSION,
    W_ARCHIVE,
    W_INCIDENT,
    W_INCIDENT_STEP,
    W_REPORT,
    W_IMPORT_MEASURE,
    W_IMPORT_PERSON,
    W_IMPORT_JOURNAL,
    W_MEASURE_ENDED,
    W_PURGE_FIXES,
    W_PURGE_FIXES_RECENT,
    W_PURGE_STATUSES,
    W_PURGE_EVENTS,
    W_DELETE_PERSON_VERSIONS,
    W_DELETE_PERSONS,
    W_DELETE_ALARMS,
    W_DELETE_STEPS,
    W_DELETE_REPORTS,
    W_DELETE_INCIDENTS,
    W_DELETE_STATE,
    W_DELETE_VERSIONS,
    W_UNASSIGN_UNITS,
    W_DELETE_MEASURE,
    W_SESSION_OPEN,
    W_SESSION_TOUCH,
    W_SESSION_END,
    W_SESSION_END_USER,
    W_SESSION_END_EXPIRED,
    W__COUNT
};

/* The alarm's columns, in the order the statements bind and read them. */
#define ALARM_COLUMNS                                                                              \
    "measure_id, seq, kind, unit, priority, flags, level_from, level_to, zone_index, zone_id, "    \
    "at_ms, raised_ms, distance_m, uncertainty_m, threshold_m, closing_speed_mps, "                \
    "author_closed_m, protected_closed_m, reach_m, approached_by, confidence, "                    \
    "author_t_ms, author_lat_deg, author_lon_deg, author_accuracy_m, author_speed_mps, "           \
    "author_heading_deg, author_quality, "                                                         \
    "protected_t_ms, protected_lat_deg, protected_lon_deg, protected_accuracy_m, "                 \
    "protected_speed_mps, protected_heading_deg, protected_quality"

#define INCIDENT_COLUMNS                                                                           \
    "id, measure_id, previous_id, state, priority, escalation, first_kind, first_alarm_seq, "      \
    "last_alarm_seq, n_alarms, n_steps, opened_ms, taken_ms, last_step_ms, closed_ms, "            \
    "escalated_ms, operator"

/* The records a measure's units sent while they served it: from its
 * declaration to the declaration of the next measure naming the unit. */
#define PURGE(table)                                                                               \
    "WITH me AS (SELECT created_ms, json_extract(definition, '$.units.author') AS a, "             \
    "json_extract(definition, '$.units.protected') AS p FROM measures WHERE id = ?1), "            \
    "mine AS (SELECT u.id AS unit_id, me.created_ms AS since, coalesce((SELECT min(o.created_ms) " \
    "FROM measures o WHERE o.created_ms > me.created_ms AND u.serial IN "                          \
    "(json_extract(o.definition, '$.units.author'), "                                              \
    "json_extract(o.definition, '$.units.protected'))), 9223372036854775807) AS until "            \
    "FROM units u, me WHERE u.serial IN (me.a, me.p)) "                                            \
    "DELETE FROM " table " WHERE (unit_id, seq) IN (SELECT x.unit_id, x.seq FROM " table " x "     \
    "JOIN mine ON mine.unit_id = x.unit_id WHERE x.received_ms >= mine.since "                     \
    "AND x.received_ms < mine.until LIMIT ?2)"
/* The persons' files named by the versions of measure ?1 (op "=") or of any
 * other measure (op "<>"). */
#define PERSONS_OF(op)                                                                             \
    "SELECT json_extract(definition, '$.persons.author') FROM measure_versions "                   \
    "WHERE measure_id " op " ?1 AND json_extract(definition, '$.persons.author') IS NOT NULL "     \
    "UNION SELECT json_extract(definition, '$.persons.protected') FROM measure_versions "          \
    "WHERE measure_id " op " ?1 AND json_extract(definition, '$.persons.protected') IS NOT NULL"

static const char *const write_sql[W__COUNT] = {
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
    [W_SAVEPOINT] = "SAVEPOINT vg_batch",
    [W_RELEASE] = "RELEASE vg_batch",
    [W_ROLLBACK_TO] = "ROLLBACK TO vg_batch",
    [W_STATUS] = "INSERT INTO statuses (unit_id, seq, t_ms, subject, battery, charging, "
                 "strap_closed, skin_contact, bracelet_link, received_ms, beacon_heard, "
                 "beacon_range_m) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
                 "ON CONFLICT DO NOTHING",
    [W_EVENT] = "INSERT INTO events (unit_id, seq, t_ms, kind, received_ms) "
                "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
    [W_ALARM] = "INSERT INTO alarms (" ALARM_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, "
                "?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35) ON CONFLICT DO NOTHING",
    [W_STATE] = "INSERT INTO engine_states (measure_id, version, state, updated_ms) "
                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (measure_id) DO UPDATE SET "
                "version = excluded.version, state = excluded.state, "
                "updated_ms = excluded.updated_ms",
    /* never down: a late batch with an older ack leaves the newer one */
    [W_ACK] = "UPDATE units SET acked_seq = CASE WHEN acked_seq < ?2 THEN ?2 ELSE acked_seq END "
              "WHERE id = ?1",
    [W_MEASURE] = "INSERT INTO measures (name, definition, created_ms, updated_ms, status) "
                  "VALUES (?1, ?2, ?3, ?3, ?4) RETURNING id",
    [W_MEASURE_CHANGE] = "UPDATE measures SET version = version + ?6, "
                         "definition = coalesce(?2, definition), status = coalesce(?3, status), "
                         "end_reason = coalesce(?4, end_reason), "
                         "installation = coalesce(?5, installation), updated_ms = ?7, "
                         "ended_ms = CASE WHEN ?3 = 'ended' THEN ?7 ELSE ended_ms END "
                         "WHERE id = ?1 AND (?8 = 0 OR version = ?8) "
                         "RETURNING version, definition, status, end_reason",
    [W_MEASURE_CURRENT] = "SELECT version FROM measures WHERE id = ?1",
    [W_MEASURE_VERSION] = "INSERT INTO measure_versions (measure_id, version, definition, status, "
                          "end_reason, note, actor, created_ms) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [W_FIND_MEASURE] = "SELECT id FROM measures WHERE name = ?1",
    [W_UNIT] = "INSERT INTO units (serial, role, measure_id, created_ms) VALUES (?1, ?2, ?3, ?4) "
               "ON CONFLICT (serial) DO UPDATE SET role = excluded.role, "
               "measure_id = excluded.measure_id RETURNING id",
    [W_USER_INSERT] = "INSERT INTO users (name, role, court, password_hash, disabled, created_ms, "
                      "updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id",
    /* the consoles' sessions (store.h) */
    [W_SESSION_OPEN] = "INSERT INTO sessions (token_hash, user_name, created_ms, last_ms) "
                       "VALUES (?1, ?2, ?3, ?4)",
    [W_SESSION_TOUCH] = "UPDATE sessions SET last_ms = ?2 WHERE token_hash = ?1 AND last_ms < ?2",
    [W_SESSION_END] = "DELETE FROM sessions WHERE token_hash = ?1",
    [W_SESSION_END_USER] = "DELETE FROM sessions WHERE user_name = ?1",
    [W_SESSION_END_EXPIRED] = "DELETE FROM sessions WHERE last_ms < ?1 OR created_ms < ?2",
    [W_USER_UPDATE] = "UPDATE users SET role = coalesce(?2, role), court = coalesce(?3, court), "
                      "password_hash = coalesce(?4, password_hash), "
                      "disabled = coalesce(?5, disabled), updated_ms = ?6 WHERE name = ?1 "
                      "RETURNING id",
    [W_PERSON_INSERT] = "INSERT INTO persons (id, version, display, created_ms, updated_ms) "
                        "VALUES (?1, 1, ?2, ?3, ?3)",
    [W_PERSON_UPDATE] = "UPDATE persons SET version = version + 1, display = ?2, updated_ms = ?3 "
                        "WHERE id = ?1 AND (?4 = 0 OR version = ?4) RETURNING version",
    [W_PERSON_VERSION] = "INSERT INTO person_versions (person_id, version, data, actor, "
                         "created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    [W_PERSON_CURRENT] = "SELECT version FROM persons WHERE id = ?1",
    [W_ARCHIVE] = "UPDATE measures SET archived = 1 WHERE id = ?1 AND status = 'ended'",
    [W_INCIDENT] = "INSERT INTO incidents (" INCIDENT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                   "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) ON CONFLICT (id) DO UPDATE "
                   "SET state = excluded.state, priority = excluded.priority, "
                   "escalation = excluded.escalation, last_alarm_seq = excluded.last_alarm_seq, "
                   "n_alarms = excluded.n_alarms, n_steps = excluded.n_steps, "
                   "taken_ms = excluded.taken_ms, last_step_ms = excluded.last_step_ms, "
                   "closed_ms = excluded.closed_ms, escalated_ms = excluded.escalated_ms, "
                   "operator = excluded.operator",
    [W_INCIDENT_STEP] = "INSERT INTO incident_steps (incident_id, n, kind, outcome, text, "
                        "operator, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [W_REPORT] = "INSERT INTO reports (incident_id, measure_id, created_ms, recipients, content) "
                 "VALUES (?1, ?2, ?3, ?4, ?5)",
    [W_IMPORT_MEASURE] = "INSERT INTO measures (name, definition, created_ms, updated_ms, status, "
                         "version, end_reason, installation, ended_ms) "
                         "VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
    /* a person's file: created at its first version, moved on at each next */
    [W_IMPORT_PERSON] = "INSERT INTO persons (id, version, display, created_ms, updated_ms) "
                        "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (id) DO UPDATE SET "
                        "version = excluded.version, display = excluded.display, "
                        "updated_ms = excluded.updated_ms",
    [W_IMPORT_JOURNAL] = "INSERT INTO imported_journal (source, measure_name, id, at_ms, actor, "
                         "action, subject, detail, prev_hash, hash) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [W_MEASURE_ENDED] = "SELECT 1 FROM measures WHERE id = ?1 AND status = 'ended'",
    [W_PURGE_FIXES] = PURGE("fixes_sorted"),
    [W_PURGE_FIXES_RECENT] = PURGE("fixes_recent"),
    [W_PURGE_STATUSES] = PURGE("statuses"),
    [W_PURGE_EVENTS] = PURGE("events"),
    /* the persons this measure named, that no other measure names */
    [W_DELETE_PERSON_VERSIONS] = "DELETE FROM person_versions WHERE person_id IN (" PERSONS_OF(
        "=") ") AND person_id NOT IN (" PERSONS_OF("<>") ")",
    [W_DELETE_PERSONS] =
        "DELETE FROM persons WHERE id IN (" PERSONS_OF("=") ") "
                                                            "AND id NOT IN (" PERSONS_OF("<>") ")",
    [W_DELETE_ALARMS] = "DELETE FROM alarms WHERE measure_id = ?1",
    [W_DELETE_STEPS] = "DELETE FROM incident_steps WHERE incident_id IN "
                       "(SELECT id FROM incidents WHERE measure_id = ?1)",
    [W_DELETE_REPORTS] = "DELETE FROM reports WHERE measure_id = ?1",
    [W_DELETE_INCIDENTS] = "DELETE FROM incidents WHERE measure_id = ?1",
    [W_DELETE_STATE] = "DELETE FROM engine_states WHERE measure_id = ?1",
    [W_DELETE_VERSIONS] = "DELETE FROM measure_versions WHERE measure_id = ?1",
    [W_UNASSIGN_UNITS] = "UPDATE units SET measure_id = NULL WHERE measure_id = ?1",
    [W_DELETE_MEASURE] = "DELETE FROM measures WHERE id = ?1 AND status = 'ended'",
    [W_JOURNAL] = "INSERT INTO journal (id, at_ms, actor, action, subject, detail, prev_hash, "
                  "hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
};

/* The readers' statements. */
enum {
    R_UNITS,
    R_MEASURES,
    R_REPLAY,
    R_COUNT_RECORDS,
    R_COUNT_ALARMS,
    R_ALARMS,
    R_JOURNAL,
    R_JOURNAL_TAIL,
    R_USERS,
    R_PERSONS,
    R_PERSON,
    R_PERSON_VERSIONS,
    R_MEASURE_VERSIONS,
    R_UNIT_RECORDS,
    R_STATISTICS,
    R_INCIDENTS,
    R_LATEST_INCIDENTS,
    R_INCIDENT,
    R_INCIDENT_STEPS,
    R_REPORT,
    R_SESSION,
    R__COUNT
};

/* Replay: the three record tables as one list of (received, unit, seq,
 * type, time, up to eight values). */
#define RECORDS_ONE(table, type, values, where)                                                    \
    "SELECT x.received_ms AS received_ms, x.unit_id AS unit_id, x.seq AS seq, " type " AS type, "  \
    "x.t_ms AS t_ms, " values " FROM " table " x JOIN units u ON u.id = x.unit_id WHERE " where
#define FIX_VALUES                                                                                 \
    "x.quality, x.lat_e7, x.lon_e7, x.accuracy_cm, x.speed_cms, x.heading_cdeg, NULL, NULL"
/* A fixes_recent row that fixes_sorted holds too is moved: that copy counts
 * (sqlite_fixes.h). */
#define NOT_MOVED                                                                                  \
    "NOT EXISTS (SELECT 1 FROM fixes_sorted s WHERE s.unit_id = x.unit_id AND s.seq = x.seq)"
#define RECORDS_ALL(where)                                                                         \
    RECORDS_ONE("fixes_sorted", "1", FIX_VALUES, where)                                            \
    " UNION ALL " RECORDS_ONE("fixes_recent", "1", FIX_VALUES, where " AND " NOT_MOVED)           \
    " UNION ALL " RECORDS_ONE(                                                                     \
        "statuses", "2",                                                                           \
        "x.subject, x.battery, x.charging, "                                                       \
        "x.strap_closed, x.skin_contact, x.bracelet_link, "                                        \
        "x.beacon_heard, x.beacon_range_m",                                                        \
        where) " UNION ALL " RECORDS_ONE("events", "3",                                            \
                                         "x.kind, NULL, NULL, NULL, NULL, NULL, NULL, NULL",       \
                                         where) " ORDER BY received_ms, unit_id, seq"

// clang-format off
static const char *const read_sql[R__COUNT] = {
    [R_UNITS] = "SELECT id, serial, role, measure_id, acked_seq FROM units ORDER BY id",
    [R_MEASURES] = "SELECT m.id, m.name, m.definition, s.version, s.state, m.version, m.status, "
                   "m.end_reason, m.installation, m.created_ms, m.ended_ms, m.archived "
                   "FROM measures m "
                   "LEFT JOIN engine_states s ON s.measure_id = m.id ORDER BY m.id",
    [R_MEASURE_VERSIONS] = "SELECT measure_id, version, definition, status, end_reason, note, "
                           "actor, created_ms FROM measure_versions WHERE measure_id = ?1 "
                           "ORDER BY version DESC",
    [R_REPLAY] = RECORDS_ALL("u.measure_id = ?1 AND x.received_ms >= ?2"),
    [R_INCIDENTS] = "SELECT " INCIDENT_COLUMNS " FROM incidents ORDER BY id",
    [R_LATEST_INCIDENTS] = "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id IN "
                           "(SELECT max(id) FROM incidents GROUP BY measure_id) ORDER BY id",
    [R_INCIDENT] = "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id = ?1",
    [R_INCIDENT_STEPS] = "SELECT incident_id, n, kind, outcome, text, operator, at_ms "
                         "FROM incident_steps WHERE incident_id = ?1 ORDER BY n",
    [R_REPORT] = "SELECT incident_id, measure_id, created_ms, recipients, content FROM reports "
                 "WHERE incident_id = ?1",
    [R_UNIT_RECORDS] = RECORDS_ALL("x.unit_id = ?1 AND x.received_ms >= ?2 AND x.received_ms < ?3"),
    [R_COUNT_RECORDS] = "SELECT (SELECT count(*) FROM fixes_sorted WHERE unit_id = ?1) + "
                        "(SELECT count(*) FROM fixes_recent x WHERE unit_id = ?1 AND " NOT_MOVED ") + "
                        "(SELECT count(*) FROM statuses WHERE unit_id = ?1) + "
                        "(SELECT count(*) FROM events WHERE unit_id = ?1)",
    [R_COUNT_ALARMS] = "SELECT count(*) FROM alarms WHERE measure_id = ?1",
    [R_ALARMS] = "SELECT " ALARM_COLUMNS " FROM alarms WHERE measure_id = ?1 AND seq > ?2 "
                 "ORDER BY seq",
    [R_JOURNAL] = "SELECT id, at_ms, actor, action, subject, detail, prev_hash, hash "
                  "FROM journal WHERE id > ?1 ORDER BY id",
    [R_JOURNAL_TAIL] = "SELECT id, hash FROM journal ORDER BY id DESC LIMIT 1",
    [R_SESSION] = "SELECT user_name, created_ms, last_ms FROM sessions WHERE token_hash = ?",
    [R_USERS] = "SELECT id, name, role, court, password_hash, disabled FROM users ORDER BY id",
    [R_PERSONS] = "SELECT id, version, display, updated_ms FROM persons ORDER BY id",
    /* ?2 = 0: the current version */
    [R_PERSON] = "SELECT p.id, v.version, p.display, v.data, v.actor, v.created_ms "
                 "FROM persons p JOIN person_versions v ON v.person_id = p.id "
                 "WHERE p.id = ?1 AND v.version = CASE WHEN ?2 = 0 THEN p.version ELSE ?2 END",
    [R_PERSON_VERSIONS] = "SELECT p.id, v.version, p.display, v.data, v.actor, v.created_ms "
                          "FROM persons p JOIN person_versions v ON v.person_id = p.id "
                          "WHERE p.id = ?1 ORDER BY v.version DESC",
    /* (measure, 0 = a version | 1 = alarms, court, version, status, end
     * reason, created, kind, first raised, count). A definition that is not
     * JSON has no court rather than failing every statistic. Alarms are
     * counted here, by UTC month: there are thousands a day. */
    [R_STATISTICS] = "SELECT m.id, 0, coalesce(CASE WHEN json_valid(m.definition) THEN "
                     "json_extract(m.definition, '$.court') END, ''), v.version, v.status, "
                     "v.end_reason, v.created_ms, 0, 0, 0 "
                     "FROM measures m JOIN measure_versions v ON v.measure_id = m.id "
                     "UNION ALL "
                     "SELECT a.measure_id, 1, '', 0, '', '', 0, a.kind, min(a.raised_ms), "
                     "count(*) FROM alarms a WHERE a.raised_ms >= ?1 AND a.raised_ms < ?2 "
                     "GROUP BY a.measure_id, a.kind, "
                     "strftime('%Y-%m', a.raised_ms / 1000, 'unixepoch') "
                     "ORDER BY 1, 2, 4",
};
// clang-format on

struct vg_store_backend {
    char *path;
    sqlite3 *w; /* the writer thread's (migrations at open) */
    sqlite3 *r; /* the readers', under store.c's read lock */
    sqlite3_stmt *ws[W__COUNT];
    sqlite3_stmt *rs[R__COUNT];
    struct vg__sq_fixes fixes; /* the writer's: where its fixes go (sqlite_fixes.h) */
    /* the checkpointer: its own connection and thread (see checkpointer()) */
    sqlite3 *ck;
    pthread_t ck_thread;
    bool ck_running;
    pthread_mutex_t ck_lock;
    pthread_cond_t ck_cond;
    bool ck_stop;
    int wal_frames; /* reported by the writer's WAL hook, under ck_lock */
};

/* WAL frames beyond which the checkpointer is woken at once (else it runs
 * every CHECKPOINT_PERIOD_MS): about 16 MB of pages. */
#define CHECKPOINT_FRAMES    1000
#define CHECKPOINT_PERIOD_MS 200

/* ---- small helpers ----------------------------------------------------------------------- */

/* Step a statement that returns no row, then reset it. */
static int run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* A failed statement as a vg_err; constraint violations are the caller's
 * data, anything else is the database's trouble. */
static int map_rc(int rc)
{
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: return VG_EDUPLICATE;
    case SQLITE_CONSTRAINT_FOREIGNKEY: return VG_ENOTFOUND;
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL: return VG_EINVAL;
    default: return VG__STORE_EDB;
    }
}

static void bind_opt(sqlite3_stmt *st, int i, bool has, int64_t v)
{
    if (has)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* NaN is stored as NULL (SQLite would do it anyway; said here to be read back). */
static void bind_real(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

static double column_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? (double)NAN : sqlite3_column_double(st, i);
}

static bool column_has(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) != SQLITE_NULL;
}

static void bind_status_value(sqlite3_stmt *st, int i, int8_t v)
{
    bind_opt(st, i, v != VG__STORE_STATUS_UNKNOWN, v);
}

static int8_t column_status_value(sqlite3_stmt *st, int i)
{
    return column_has(st, i) ? (int8_t)sqlite3_column_int(st, i) : VG__STORE_STATUS_UNKNOWN;
}

static int prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **st, int n,
                       const char *path, char *err, size_t err_len)
{
    for (int i = 0; i < n; i++) {
        if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st[i], NULL) !=
            SQLITE_OK) {
            vg__store_err(err, err_len, "%s: cannot prepare a statement: %s", path,
                          sqlite3_errmsg(db));
            return VG__STORE_EDB;
        }
    }
    return VG_OK;
}

/* One integer out of a statement returning one row (set-up queries). */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- open -------------------------------------------------------------------------------- */

/* The directories up to the file, created if missing (0700: the database
 * holds personal data); the file itself created 0600 for the same reason
 * (SQLite would create it 0644, and its -wal and -shm files inherit the
 * database file's mode). */
static int make_path(const char *path, char *err, size_t err_len)
{
    char *dir = strdup(path);
    if (!dir) {
        vg__store_err(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            vg__store_err(err, err_len, "%s: cannot create directory %s: %s", path, dir,
                          strerror(errno));
            free(dir);
            return VG__STORE_EDB;
        }
        *p = '/';
    }
    free(dir);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    /* any other failure (exists, a directory, no permission) is for SQLite to report */
    return VG_OK;
}

static int open_connection(const char *path, sqlite3 **db, char *err, size_t err_len)
{
    /* NOMUTEX: each connection is used by one thread at a time (the writer's
     * by the writer thread, the readers' under the read lock), so SQLite's
     * own per-call mutex would be pure cost. */
    int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        vg__store_err(err, err_len, "%s: cannot open: %s", path,
                      *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
        return VG__STORE_EDB;
    }
    sqlite3_extended_result_codes(*db, 1);
    sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
    return VG_OK;
}

/* Recognise the file, then bring its schema up to date, all in one
 * transaction (two processes opening a new file at once: one creates, the
 * other waits on the lock and then finds the schema there). */
static int migrate(struct vg_store_backend *be, char *err, size_t err_len)
{
    sqlite3 *db = be->w;
    const char *path = be->path;
    int64_t app_id = 0, n_objects = 0, has_table = 0, current = 0;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        vg__store_err(err, err_len, "%s: %s", path, sqlite3_errmsg(db));
        return VG__STORE_EDB;
    }
    if ((rc = query_int(db, "PRAGMA application_id", &app_id)) != SQLITE_OK ||
        (rc = query_int(db, "SELECT count(*) FROM sqlite_master", &n_objects)) != SQLITE_OK ||
        (rc = query_int(db,
                        "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                        "AND name = 'schema_migrations'",
                        &has_table)) != SQLITE_OK) {
        vg__store_err(err, err_len, "%s: %s", path, sqlite3_errmsg(db));
        goto fail_db;
    }
    if (app_id != 0 && app_id != APP_ID) {
        vg__store_err(err, err_len,
                      "%s is not a Vigie database (an SQLite file of application 0x%08llx)", path,
                      (unsigned long long)(uint32_t)app_id);
        goto fail_format;
    }
    if (!has_table) {
        if (n_objects > 0) {
            vg__store_err(err, err_len,
                          "%s is not a Vigie database (an SQLite file with tables, "
                          "but no schema_migrations)",
                          path);
            goto fail_format;
        }
        rc = sqlite3_exec(db,
                          "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                          "applied_ms BIGINT NOT NULL);"
                          "PRAGMA application_id = " STR(APP_ID),
                          NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            vg__store_err(err, err_len, "%s: %s", path, sqlite3_errmsg(db));
            goto fail_db;
        }
    } else if ((rc = query_int(db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                               &current)) != SQLITE_OK) {
        vg__store_err(err, err_len, "%s: %s", path, sqlite3_errmsg(db));
        goto fail_db;
    }
    int latest = vg__store_migrations[vg__store_n_migrations - 1].version;
    if (current > latest) {
        vg__store_err(err, err_len,
                      "%s: the schema is at version %lld, newer than this program knows (%d): "
                      "use a newer vigied",
                      path, (long long)current, latest);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return VG_ERANGE;
    }

    sqlite3_stmt *record = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO schema_migrations (version, applied_ms) VALUES (?1, ?2)",
                           -1, &record, NULL) != SQLITE_OK) {
        vg__store_err(err, err_len, "%s: %s", path, sqlite3_errmsg(db));
        goto fail_db;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    for (size_t i = 0; i < vg__store_n_migrations; i++) {
        const struct vg__store_migration *m = &vg__store_migrations[i];
        if (m->version <= current)
            continue;
        char *sql = vg__store_migration_sql(m, VG__STORE_SQLITE);
        if (!sql) {
            vg__store_err(err, err_len, "out of memory");
            sqlite3_finalize(record);
            goto fail_db;
        }
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        free(sql);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int(record, 1, m->version);
            sqlite3_bind_int64(record, 2, now_ms);
            rc = run(record);
        }
        if (rc != SQLITE_OK) {
            vg__store_err(err, err_len, "%s: migration %d (%s): %s", path, m->version, m->name,
                          sqlite3_errmsg(db));
            sqlite3_finalize(record);
            goto fail_db;
        }
    }
    sqlite3_finalize(record);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        vg__store_err(err, err_len, "%s: %s", path, sqlite3_errmsg(db));
        goto fail_db;
    }
    return VG_OK;

fail_format:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return VG_EFORMAT;
fail_db:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return VG__STORE_EDB;
}

/* Checkpoints, off the commit path. SQLite's automatic checkpoint runs in
 * the connection that commits, so one commit in a few hundred would stall
 * for as long as copying the WAL into the database and syncing it takes
 * (tens of milliseconds: the alarm latency's p99). Here the writer never
 * checkpoints (wal_autocheckpoint = 0); this thread runs PASSIVE
 * checkpoints on its own connection, which never block the writer. */
static void *checkpointer(void *arg)
{
    struct vg_store_backend *be = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the daemon's loop's */
    pthread_mutex_lock(&be->ck_lock);
    while (!be->ck_stop) {
        struct timespec until = vg_cond_deadline(CHECKPOINT_PERIOD_MS);
        if (be->wal_frames < CHECKPOINT_FRAMES)
            pthread_cond_timedwait(&be->ck_cond, &be->ck_lock, &until);
        if (be->ck_stop)
            break;
        int frames = be->wal_frames;
        be->wal_frames = 0;
        pthread_mutex_unlock(&be->ck_lock);
        if (frames > 0)
            sqlite3_wal_checkpoint_v2(be->ck, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&be->ck_lock);
    }
    pthread_mutex_unlock(&be->ck_lock);
    return NULL;
}

/* The writer's WAL hook: after each commit, the WAL's size in frames. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    struct vg_store_backend *be = arg;
    pthread_mutex_lock(&be->ck_lock);
    be->wal_frames = frames;
    if (frames >= CHECKPOINT_FRAMES)
        pthread_cond_signal(&be->ck_cond);
    pthread_mutex_unlock(&be->ck_lock);
    return SQLITE_OK;
}

static int start_checkpointer(struct vg_store_backend *be, char *err, size_t err_len)
{
    int rc = open_connection(be->path, &be->ck, err, err_len);
    if (rc < 0)
        return rc;
    /* A connection learns the file is in WAL mode when it first reads it;
     * until then a checkpoint through it does nothing at all. */
    if (sqlite3_exec(be->ck, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        vg__store_err(err, err_len, "%s: %s", be->path, sqlite3_errmsg(be->ck));
        return VG__STORE_EDB;
    }
    if (sqlite3_exec(be->w, "PRAGMA wal_autocheckpoint = 0", NULL, NULL, NULL) != SQLITE_OK) {
        vg__store_err(err, err_len, "%s: %s", be->path, sqlite3_errmsg(be->w));
        return VG__STORE_EDB;
    }
    sqlite3_wal_hook(be->w, on_wal_commit, be);
    if (pthread_create(&be->ck_thread, NULL, checkpointer, be) != 0) {
        vg__store_err(err, err_len, "cannot start the checkpoint thread");
        return VG_ENOSPC;
    }
    be->ck_running = true;
    return VG_OK;
}

static void sq_close(struct vg_store_backend *be)
{
    if (!be)
        return;
    if (be->ck_running) {
        pthread_mutex_lock(&be->ck_lock);
        be->ck_stop = true;
        pthread_cond_signal(&be->ck_cond);
        pthread_mutex_unlock(&be->ck_lock);
        pthread_join(be->ck_thread, NULL);
    }
    sqlite3_close(be->ck);
    pthread_mutex_destroy(&be->ck_lock);
    pthread_cond_destroy(&be->ck_cond);
    for (int i = 0; i < W__COUNT; i++)
        sqlite3_finalize(be->ws[i]);
    vg__sq_fixes_close(&be->fixes);
    for (int i = 0; i < R__COUNT; i++)
        sqlite3_finalize(be->rs[i]);
    sqlite3_close(be->r);
    sqlite3_close(be->w);
    free(be->path);
    free(be);
}

static int sq_open(const char *target, struct vg_store_backend **out, char *err, size_t err_len)
{
    if (!*target) {
        vg__store_err(err, err_len, "no database path");
        return VG_EINVAL;
    }
    if (strcmp(target, ":memory:") == 0) {
        vg__store_err(err, err_len,
                      ":memory: cannot be shared by the writer and the readers: give a path");
        return VG_EINVAL;
    }
    struct vg_store_backend *be = calloc(1, sizeof *be);
    if (!be || !(be->path = strdup(target))) {
        free(be);
        vg__store_err(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    pthread_mutex_init(&be->ck_lock, NULL);
    pthread_cond_init(&be->ck_cond, NULL);
    int rc = make_path(be->path, err, err_len);
    if (rc < 0)
        goto fail;
    if ((rc = open_connection(be->path, &be->w, err, err_len)) < 0)
        goto fail;
    if (sqlite3_db_readonly(be->w, "main") == 1) {
        vg__store_err(err, err_len, "%s: the file is read-only", be->path);
        rc = VG__STORE_EDB;
        goto fail;
    }

    /* The first statement reads the file: a file that is not a database
     * fails here. journal_mode answers the mode it ended in. */
    sqlite3_stmt *st = NULL;
    const char *mode = NULL;
    int src = sqlite3_prepare_v2(be->w, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (src == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        mode = (const char *)sqlite3_column_text(st, 0);
    if (!mode || strcmp(mode, "wal") != 0) {
        if (mode)
            vg__store_err(err, err_len, "%s: cannot use WAL mode (journal mode is %s)", be->path,
                          mode);
        else
            vg__store_err(err, err_len, "%s: %s", be->path, sqlite3_errmsg(be->w));
        sqlite3_finalize(st);
        rc = sqlite3_extended_errcode(be->w) == SQLITE_NOTADB ? VG_EFORMAT : VG__STORE_EDB;
        goto fail;
    }
    sqlite3_finalize(st);
    if (sqlite3_exec(be->w,
                     "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                     "PRAGMA temp_store = MEMORY; PRAGMA cache_size = " STR(WRITER_CACHE_KIB),
                     NULL, NULL, NULL) != SQLITE_OK) {
        vg__store_err(err, err_len, "%s: %s", be->path, sqlite3_errmsg(be->w));
        rc = VG__STORE_EDB;
        goto fail;
    }
    if ((rc = migrate(be, err, err_len)) < 0 ||
        (rc = prepare_all(be->w, write_sql, be->ws, W__COUNT, be->path, err, err_len)) < 0 ||
        (rc = vg__sq_fixes_open(&be->fixes, be->w, err, err_len)) < 0)
        goto fail;

    /* The readers' connection: WAL gives each read a snapshot of the last
     * commit, so reads never wait for the writer. query_only: a bug cannot
     * write through it. */
    if ((rc = open_connection(be->path, &be->r, err, err_len)) < 0)
        goto fail;
    if (sqlite3_exec(be->r, "PRAGMA query_only = ON", NULL, NULL, NULL) != SQLITE_OK) {
        vg__store_err(err, err_len, "%s: %s", be->path, sqlite3_errmsg(be->r));
        rc = VG__STORE_EDB;
        goto fail;
    }
    if ((rc = prepare_all(be->r, read_sql, be->rs, R__COUNT, be->path, err, err_len)) < 0)
        goto fail;
    if ((rc = start_checkpointer(be, err, err_len)) < 0)
        goto fail;
    *out = be;
    return VG_OK;

fail:
    sq_close(be);
    return rc;
}

/* ---- the writer -------------------------------------------------------------------------- */

static int sq_begin(struct vg_store_backend *be, char *err, size_t err_len)
{
    if (vg__sq_fixes_synced(&be->fixes, err, err_len) < 0)
        return VG__STORE_EDB; /* never a group's commit without its fsync */
    int rc = run(be->ws[W_BEGIN]);
    if (rc != SQLITE_OK) {
        vg__store_err(err, err_len, "cannot begin a transaction: %s", sqlite3_errmsg(be->w));
        return VG__STORE_EDB;
    }
    vg__sq_fixes_begin(&be->fixes);
    return VG_OK;
}

static int sq_commit(struct vg_store_backend *be, char *err, size_t err_len)
{
    int rc = run(be->ws[W_COMMIT]);
    if (rc != SQLITE_OK) {
        vg__store_err(err, err_len, "commit failed: %s", sqlite3_errmsg(be->w));
        return VG__STORE_EDB;
    }
    return VG_OK;
}

static void sq_rollback(struct vg_store_backend *be)
{
    if (!sqlite3_get_autocommit(be->w))
        run(be->ws[W_ROLLBACK]);
}

static int sq_tidy(struct vg_store_backend *be, enum vg__store_tidy mode, char *err,
                   size_t err_len)
{
    if (mode == VG__TIDY_ALL)
        return vg__sq_fixes_move_all(&be->fixes, err, err_len);
    return vg__sq_fixes_tidy(&be->fixes, mode == VG__TIDY_IDLE, err, err_len);
}

/* Step an insert/update; on failure the error as a vg_err with the
 * database's message after `what`. */
static int step_write(struct vg_store_backend *be, sqlite3_stmt *st, char *err, size_t err_len,
                      const char *what, size_t index)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return VG_OK;
    }
    int code = sqlite3_extended_errcode(be->w);
    vg__store_err(err, err_len, "%s %zu: %s", what, index, sqlite3_errmsg(be->w));
    sqlite3_reset(st);
    return map_rc(code);
}

static int put_measures(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                        char *err, size_t err_len)
{
    sqlite3_stmt *st = be->ws[W_MEASURE];
    for (size_t i = 0; i < b->n_measures; i++) {
        struct vg_store_measure_def *m = &b->measures[i];
        if (!m->name || !*m->name || !m->definition) {
            vg__store_err(err, err_len, "measure %zu: a name and a definition are needed", i);
            return VG_EINVAL;
        }
        const char *status = m->status ? m->status : "pending_installation";
        sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->definition, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now_ms);
        sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            m->id = sqlite3_column_int64(st, 0);
            rc = sqlite3_step(st);
        }
        if (rc != SQLITE_DONE) {
            int code = sqlite3_extended_errcode(be->w);
            int vrc = map_rc(code);
            if (vrc == VG_EDUPLICATE)
                vg__store_err(err, err_len, "a measure named '%s' exists already", m->name);
            else
                vg__store_err(err, err_len, "measure '%s': %s", m->name, sqlite3_errmsg(be->w));
            sqlite3_reset(st);
            return vrc;
        }
        sqlite3_reset(st);
        sqlite3_stmt *v = be->ws[W_MEASURE_VERSION];
        sqlite3_bind_int64(v, 1, m->id);
        sqlite3_bind_int64(v, 2, 1);
        sqlite3_bind_text(v, 3, m->definition, -1, SQLITE_STATIC);
        sqlite3_bind_text(v, 4, status, -1, SQLITE_STATIC);
        sqlite3_bind_text(v, 5, "", -1, SQLITE_STATIC);
        sqlite3_bind_text(v, 6, "declared", -1, SQLITE_STATIC);
        sqlite3_bind_text(v, 7, m->actor ? m->actor : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(v, 8, now_ms);
        if ((rc = step_write(be, v, err, err_len, "measure version", i)) < 0)
            return rc;
    }
    return VG_OK;
}

static const char *column_str(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *text)
{
    if (text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Measures changed: a new version (definition or status), or only their
 * installation checklist. */
static int put_measure_changes(struct vg_store_backend *be, struct vg_store_batch *b,
                               int64_t now_ms, char *err, size_t err_len)
{
    for (size_t i = 0; i < b->n_measure_changes; i++) {
        struct vg_store_measure_change *c = &b->measure_changes[i];
        bool versioned = c->definition || c->status;
        if (c->measure_id <= 0 || !c->actor || (!versioned && !c->installation)) {
            vg__store_err(err, err_len, "measure change %zu: a measure, an actor and a change", i);
            return VG_EINVAL;
        }
        sqlite3_stmt *st = be->ws[W_MEASURE_CHANGE];
        sqlite3_bind_int64(st, 1, c->measure_id);
        bind_text_or_null(st, 2, c->definition);
        bind_text_or_null(st, 3, c->status);
        bind_text_or_null(st, 4, c->end_reason);
        bind_text_or_null(st, 5, c->installation);
        sqlite3_bind_int64(st, 6, versioned ? 1 : 0);
        sqlite3_bind_int64(st, 7, now_ms);
        sqlite3_bind_int64(st, 8, c->based_on);
        int s = sqlite3_step(st);
        if (s != SQLITE_ROW) {
            sqlite3_reset(st);
            if (s != SQLITE_DONE) {
                vg__store_err(err, err_len, "measure change %zu: %s", i, sqlite3_errmsg(be->w));
                return VG__STORE_EDB;
            }
            sqlite3_stmt *cur = be->ws[W_MEASURE_CURRENT];
            sqlite3_bind_int64(cur, 1, c->measure_id);
            bool exists = sqlite3_step(cur) == SQLITE_ROW;
            int64_t now_version = exists ? sqlite3_column_int64(cur, 0) : 0;
            sqlite3_reset(cur);
            if (!exists) {
                vg__store_err(err, err_len, "no measure %lld", (long long)c->measure_id);
                return VG_ENOTFOUND;
            }
            vg__store_err(err, err_len,
                          "measure %lld is at version %lld, the change was made from version "
                          "%lld: read it again",
                          (long long)c->measure_id, (long long)now_version, (long long)c->based_on);
            return VG_ESTALE;
        }
        c->version = sqlite3_column_int64(st, 0);
        if (!versioned) {
            sqlite3_reset(st);
            continue;
        }
        sqlite3_stmt *v = be->ws[W_MEASURE_VERSION];
        sqlite3_bind_int64(v, 1, c->measure_id);
        sqlite3_bind_int64(v, 2, c->version);
        for (int k = 1; k <= 3; k++) /* what the row holds now */
            sqlite3_bind_text(v, 2 + k, column_str(st, k), -1, SQLITE_TRANSIENT);
        sqlite3_reset(st);
        sqlite3_bind_text(v, 6, c->note ? c->note : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(v, 7, c->actor, -1, SQLITE_STATIC);
        sqlite3_bind_int64(v, 8, now_ms);
        int rc = step_write(be, v, err, err_len, "measure version", i);
        if (rc < 0)
            return rc;
    }
    return VG_OK;
}

static int put_units(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                     char *err, size_t err_len)
{
    sqlite3_stmt *find = be->ws[W_FIND_MEASURE], *st = be->ws[W_UNIT];
    for (size_t i = 0; i < b->n_units; i++) {
        struct vg_store_unit_def *u = &b->units[i];
        if (!u->serial || !*u->serial) {
            vg__store_err(err, err_len, "unit %zu: no serial", i);
            return VG_EINVAL;
        }
        if (u->role < VG_ROLE_AUTHOR || u->role > VG_ROLE_BRACELET) {
            vg__store_err(err, err_len,
                          "unit '%s': role %u is none of 1 (author), "
                          "2 (protected), 3 (bracelet)",
                          u->serial, u->role);
            return VG_EINVAL;
        }
        bool has_measure = false;
        int64_t measure_id = 0;
        if (u->measure) {
            sqlite3_bind_text(find, 1, u->measure, -1, SQLITE_STATIC);
            int rc = sqlite3_step(find);
            if (rc == SQLITE_ROW) {
                has_measure = true;
                measure_id = sqlite3_column_int64(find, 0);
            } else if (rc != SQLITE_DONE) {
                vg__store_err(err, err_len, "unit '%s': %s", u->serial, sqlite3_errmsg(be->w));
                sqlite3_reset(find);
                return VG__STORE_EDB;
            }
            sqlite3_reset(find);
            if (!has_measure) {
                vg__store_err(err, err_len, "unit '%s': no measure named '%s'", u->serial,
                              u->measure);
                return VG_ENOTFOUND;
            }
        }
        sqlite3_bind_text(st, 1, u->serial, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, u->role);
        bind_opt(st, 3, has_measure, measure_id);
        sqlite3_bind_int64(st, 4, now_ms);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            u->id = sqlite3_column_int64(st, 0);
            rc = sqlite3_step(st);
        }
        if (rc != SQLITE_DONE) {
            int code = sqlite3_extended_errcode(be->w);
            vg__store_err(err, err_len, "unit '%s': %s", u->serial, sqlite3_errmsg(be->w));
            sqlite3_reset(st);
            return map_rc(code);
        }
        sqlite3_reset(st);
    }
    return VG_OK;
}

static int put_records(struct vg_store_backend *be, struct vg_store_batch *b, char *err,
                       size_t err_len)
{
    for (size_t i = 0; i < b->n_records; i++) {
        const struct vg_store_record *r = &b->records[i];
        const struct vg_proto_record *p = &r->rec;
        bool staged = false;
        if (p->seq > VG__STORE_MAX_SEQ) {
            vg__store_err(err, err_len, "record %zu: sequence number %llu beyond 2^63", i,
                          (unsigned long long)p->seq);
            return VG_ERANGE;
        }
        sqlite3_stmt *st;
        switch (p->type) {
        case VG_REC_FIX: {
            struct vg__store_fix_row row;
            if (vg__store_fix_encode(&p->fix, &row) != VG_OK) {
                vg__store_err(err, err_len,
                              "record %zu: a fix value that the wire cannot carry (NaN, "
                              "infinite, beyond 32 bits)",
                              i);
                return VG_ERANGE;
            }
            int seen = vg__sq_fixes_seen(&be->fixes, r->unit_id, (int64_t)p->seq, &staged, err,
                                         err_len);
            if (seen < 0)
                return seen;
            if (seen)
                continue; /* stored already: the first stored wins */
            st = vg__sq_fixes_insert(&be->fixes, staged);
            sqlite3_bind_int64(st, 3, row.t_ms);
            sqlite3_bind_int(st, 4, row.quality);
            bind_opt(st, 5, row.has_position, row.lat_e7);
            bind_opt(st, 6, row.has_position, row.lon_e7);
            bind_opt(st, 7, row.has_position, row.accuracy_cm);
            bind_opt(st, 8, row.has_speed, row.speed_cms);
            bind_opt(st, 9, row.has_heading, row.heading_cdeg);
            sqlite3_bind_int64(st, 10, r->received_ms);
            break;
        }
        case VG_REC_STATUS:
            st = be->ws[W_STATUS];
            sqlite3_bind_int64(st, 3, p->status.time_ms);
            sqlite3_bind_int(st, 4, p->subject);
            bind_status_value(st, 5, p->status.battery_pct);
            bind_status_value(st, 6, p->status.charging);
            bind_status_value(st, 7, p->status.strap_closed);
            bind_status_value(st, 8, p->status.skin_contact);
            bind_status_value(st, 9, p->status.bracelet_link);
            sqlite3_bind_int64(st, 10, r->received_ms);
            bind_status_value(st, 11, p->status.beacon_heard);
            bind_opt(st, 12, p->status.beacon_range_m >= 0, p->status.beacon_range_m);
            break;
        case VG_REC_EVENT:
        case VG_REC_HEARTBEAT:
            st = be->ws[W_EVENT];
            sqlite3_bind_int64(st, 3, p->event.time_ms);
            sqlite3_bind_int(st, 4,
                             p->type == VG_REC_HEARTBEAT ? VG_EVENT_HEARTBEAT : p->event.kind);
            sqlite3_bind_int64(st, 5, r->received_ms);
            break;
        default:
            vg__store_err(err, err_len, "record %zu: unknown record type %u", i, p->type);
            return VG_EINVAL;
        }
        sqlite3_bind_int64(st, 1, r->unit_id);
        sqlite3_bind_int64(st, 2, (int64_t)p->seq);
        int rc = step_write(be, st, err, err_len, "record", i);
        if (rc == VG_ENOTFOUND)
            vg__store_err(err, err_len, "record %zu: unit %lld is not provisioned", i,
                          (long long)r->unit_id);
        if (rc < 0)
            return rc;
        int added = sqlite3_changes(be->w); /* 0 if it was there already */
        if (added && p->type == VG_REC_FIX && staged &&
            (rc = vg__sq_fixes_added(&be->fixes, r->unit_id, (int64_t)p->seq, err, err_len)) < 0)
            return rc;
        b->n_inserted += (size_t)added;
    }
    return VG_OK;
}

static void bind_alarm_fix(sqlite3_stmt *st, int first, const struct vg_fix *f)
{
    sqlite3_bind_int64(st, first, f->time_ms);
    bind_real(st, first + 1, f->lat_deg);
    bind_real(st, first + 2, f->lon_deg);
    bind_real(st, first + 3, (double)f->accuracy_m);
    bind_real(st, first + 4, (double)f->speed_mps);
    bind_real(st, first + 5, (double)f->heading_deg);
    sqlite3_bind_int(st, first + 6, f->quality);
}

static int put_alarms(struct vg_store_backend *be, const struct vg_store_batch *b, char *err,
                      size_t err_len)
{
    sqlite3_stmt *st = be->ws[W_ALARM];
    for (size_t i = 0; i < b->n_alarms; i++) {
        const struct vg_alarm *a = &b->alarms[i].alarm;
        const struct vg_alarm_evidence *ev = &a->ev;
        sqlite3_bind_int64(st, 1, b->alarms[i].measure_id);
        sqlite3_bind_int64(st, 2, a->seq);
        sqlite3_bind_int(st, 3, a->kind);
        sqlite3_bind_int(st, 4, a->unit);
        sqlite3_bind_int(st, 5, a->priority);
        sqlite3_bind_int(st, 6, a->flags);
        sqlite3_bind_int(st, 7, a->level_from);
        sqlite3_bind_int(st, 8, a->level_to);
        sqlite3_bind_int(st, 9, a->zone_index);
        sqlite3_bind_int64(st, 10, a->zone_id);
        sqlite3_bind_int64(st, 11, a->at_ms);
        sqlite3_bind_int64(st, 12, a->raised_ms);
        bind_real(st, 13, ev->distance_m);
        bind_real(st, 14, ev->uncertainty_m);
        bind_real(st, 15, ev->threshold_m);
        bind_real(st, 16, ev->closing_speed_mps);
        bind_real(st, 17, ev->author_closed_m);
        bind_real(st, 18, ev->protected_closed_m);
        bind_real(st, 19, ev->reach_m);
        sqlite3_bind_int(st, 20, ev->approached_by);
        sqlite3_bind_int(st, 21, ev->confidence);
        bind_alarm_fix(st, 22, &ev->author_fix);
        bind_alarm_fix(st, 29, &ev->protected_fix);
        int rc = step_write(be, st, err, err_len, "alarm", i);
        if (rc == VG_ENOTFOUND)
            vg__store_err(err, err_len, "alarm %zu: measure %lld does not exist", i,
                          (long long)b->alarms[i].measure_id);
        if (rc < 0)
            return rc;
    }
    return VG_OK;
}

static int put_states(struct vg_store_backend *be, const struct vg_store_batch *b, int64_t now_ms,
                      char *err, size_t err_len)
{
    static const uint8_t empty[1];
    sqlite3_stmt *st = be->ws[W_STATE];
    for (size_t i = 0; i < b->n_states; i++) {
        const struct vg_store_state *s = &b->states[i];
        if (!s->blob && s->len > 0) {
            vg__store_err(err, err_len, "state %zu: %u bytes at NULL", i, s->len);
            return VG_EINVAL;
        }
        sqlite3_bind_int64(st, 1, s->measure_id);
        sqlite3_bind_int64(st, 2, s->version);
        /* a NULL pointer would bind NULL, not an empty blob */
        sqlite3_bind_blob(st, 3, s->blob ? s->blob : empty, (int)s->len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now_ms);
        int rc = step_write(be, st, err, err_len, "state", i);
        if (rc == VG_ENOTFOUND)
            vg__store_err(err, err_len, "state %zu: measure %lld does not exist", i,
                          (long long)s->measure_id);
        if (rc < 0)
            return rc;
    }
    return VG_OK;
}

static int put_acks(struct vg_store_backend *be, const struct vg_store_batch *b, char *err,
                    size_t err_len)
{
    sqlite3_stmt *st = be->ws[W_ACK];
    for (size_t i = 0; i < b->n_acks; i++) {
        const struct vg_store_unit_ack *a = &b->acks[i];
        if (a->acked_seq > VG__STORE_MAX_SEQ) {
            vg__store_err(err, err_len, "ack %zu: sequence number beyond 2^63", i);
            return VG_ERANGE;
        }
        sqlite3_bind_int64(st, 1, a->unit_id);
        sqlite3_bind_int64(st, 2, (int64_t)a->acked_seq);
        int rc = step_write(be, st, err, err_len, "ack", i);
        if (rc < 0)
            return rc;
        if (sqlite3_changes(be->w) == 0) {
            vg__store_err(err, err_len, "ack %zu: unit %lld is not provisioned", i,
                          (long long)a->unit_id);
            return VG_ENOTFOUND;
        }
    }
    return VG_OK;
}

static void bind_text_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Accounts created or changed. */
static int put_users(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                     char *err, size_t err_len)
{
    for (size_t i = 0; i < b->n_user_defs; i++) {
        struct vg_store_user_def *u = &b->user_defs[i];
        if (!u->name || (u->create && (!u->role || !u->court || !u->password_hash))) {
            vg__store_err(err, err_len,
                          "user %zu: a new account needs a name, role, court and "
                          "password hash",
                          i);
            return VG_EINVAL;
        }
        sqlite3_stmt *st = be->ws[u->create ? W_USER_INSERT : W_USER_UPDATE];
        sqlite3_bind_text(st, 1, u->name, -1, SQLITE_STATIC);
        bind_text_opt(st, 2, u->role);
        bind_text_opt(st, 3, u->court);
        bind_text_opt(st, 4, u->password_hash);
        if (u->disabled >= 0)
            sqlite3_bind_int(st, 5, u->disabled ? 1 : 0);
        else if (u->create)
            sqlite3_bind_int(st, 5, 0);
        else
            sqlite3_bind_null(st, 5);
        sqlite3_bind_int64(st, 6, now_ms);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            u->id = sqlite3_column_int64(st, 0);
        int ext =
            rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(be->w);
        sqlite3_reset(st);
        if (ext != SQLITE_OK) {
            int code = map_rc(ext);
            vg__store_err(err, err_len,
                          code == VG_EDUPLICATE ? "user %s exists already" : "user %s: %s", u->name,
                          sqlite3_errmsg(be->w));
            return code;
        }
        if (rc != SQLITE_ROW) {
            vg__store_err(err, err_len, "no user named %s", u->name);
            return VG_ENOTFOUND;
        }
    }
    return VG_OK;
}

/* Consoles' sessions opened, used, ended. */
static int put_sessions(struct vg_store_backend *be, struct vg_store_batch *b, char *err,
                        size_t err_len)
{
    for (size_t i = 0; i < b->n_sessions; i++) {
        const struct vg_store_session_op *o = &b->sessions[i];
        sqlite3_stmt *st;
        switch (o->action) {
        case VG_STORE_SESSION_OPEN:
            if (!o->user) {
                vg__store_err(err, err_len, "session %zu: a new session needs its user", i);
                return VG_EINVAL;
            }
            st = be->ws[W_SESSION_OPEN];
            sqlite3_bind_blob(st, 1, o->token_hash, VG_STORE_SESSION_HASH_LEN, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, o->user, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, o->created_ms);
            sqlite3_bind_int64(st, 4, o->last_ms);
            break;
        case VG_STORE_SESSION_TOUCH:
            st = be->ws[W_SESSION_TOUCH];
            sqlite3_bind_blob(st, 1, o->token_hash, VG_STORE_SESSION_HASH_LEN, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, o->last_ms);
            break;
        case VG_STORE_SESSION_END:
            st = be->ws[W_SESSION_END];
            sqlite3_bind_blob(st, 1, o->token_hash, VG_STORE_SESSION_HASH_LEN, SQLITE_STATIC);
            break;
        case VG_STORE_SESSION_END_USER:
            if (!o->user) {
                vg__store_err(err, err_len, "session %zu: whose sessions?", i);
                return VG_EINVAL;
            }
            st = be->ws[W_SESSION_END_USER];
            sqlite3_bind_text(st, 1, o->user, -1, SQLITE_STATIC);
            break;
        case VG_STORE_SESSION_END_EXPIRED:
            st = be->ws[W_SESSION_END_EXPIRED];
            sqlite3_bind_int64(st, 1, o->last_ms);
            sqlite3_bind_int64(st, 2, o->created_ms);
            break;
        default:
            vg__store_err(err, err_len, "session %zu: unknown action %u", i, o->action);
            return VG_EINVAL;
        }
        int rc = sqlite3_step(st);
        int ext = rc == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(be->w);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (ext != SQLITE_OK) {
            int code = map_rc(ext);
            vg__store_err(err, err_len, "session %zu: %s", i, sqlite3_errmsg(be->w));
            return code;
        }
    }
    return VG_OK;
}

/* Persons created, or given a new version. */
static int put_persons(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                       char *err, size_t err_len)
{
    for (size_t i = 0; i < b->n_person_defs; i++) {
        struct vg_store_person_def *p = &b->person_defs[i];
        if (p->id <= 0 || !p->display || !p->data || !p->actor) {
            vg__store_err(err, err_len, "person %zu: an id, a display name, data and an actor", i);
            return VG_EINVAL;
        }
        int rc;
        if (p->create) {
            sqlite3_stmt *st = be->ws[W_PERSON_INSERT];
            sqlite3_bind_int64(st, 1, p->id);
            sqlite3_bind_text(st, 2, p->display, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, now_ms);
            if ((rc = step_write(be, st, err, err_len, "person", i)) < 0)
                return rc;
            p->version = 1;
        } else {
            sqlite3_stmt *st = be->ws[W_PERSON_UPDATE];
            sqlite3_bind_int64(st, 1, p->id);
            sqlite3_bind_text(st, 2, p->display, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, now_ms);
            sqlite3_bind_int64(st, 4, p->based_on);
            int s = sqlite3_step(st);
            p->version = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
            sqlite3_reset(st);
            if (s != SQLITE_ROW && s != SQLITE_DONE) {
                vg__store_err(err, err_len, "person %zu: %s", i, sqlite3_errmsg(be->w));
                return VG__STORE_EDB;
            }
            if (p->version == 0) { /* none, or moved on since the change was made */
                sqlite3_stmt *cur = be->ws[W_PERSON_CURRENT];
                sqlite3_bind_int64(cur, 1, p->id);
                bool exists = sqlite3_step(cur) == SQLITE_ROW;
                int64_t now_version = exists ? sqlite3_column_int64(cur, 0) : 0;
                sqlite3_reset(cur);
                if (!exists) {
                    vg__store_err(err, err_len, "no person %lld", (long long)p->id);
                    return VG_ENOTFOUND;
                }
                vg__store_err(err, err_len,
                              "person %lld is at version %lld, the change was made from version "
                              "%lld: read it again",
                              (long long)p->id, (long long)now_version, (long long)p->based_on);
                return VG_ESTALE;
            }
        }
        sqlite3_stmt *st = be->ws[W_PERSON_VERSION];
        sqlite3_bind_int64(st, 1, p->id);
        sqlite3_bind_int64(st, 2, p->version);
        sqlite3_bind_text(st, 3, p->data, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, p->actor, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, now_ms);
        if ((rc = step_write(be, st, err, err_len, "person version", i)) < 0)
            return rc;
    }
    return VG_OK;
}

/* Incidents created or moved, written whole. */
static int put_incidents(struct vg_store_backend *be, const struct vg_store_batch *b, char *err,
                         size_t err_len)
{
    sqlite3_stmt *st = be->ws[W_INCIDENT];
    for (size_t i = 0; i < b->n_incidents; i++) {
        const struct vg_incident *x = &b->incidents[i];
        if (x->id <= 0 || x->measure_id <= 0) {
            vg__store_err(err, err_len, "incident %zu: an id and a measure are needed", i);
            return VG_EINVAL;
        }
        const int64_t v[16] = {
            x->id,          x->measure_id, x->previous_id,     x->state,          x->priority,
            x->escalation,  x->first_kind, x->first_alarm_seq, x->last_alarm_seq, x->n_alarms,
            x->n_steps,     x->opened_ms,  x->taken_ms,        x->last_step_ms,   x->closed_ms,
            x->escalated_ms};
        for (int k = 0; k < 16; k++)
            sqlite3_bind_int64(st, k + 1, v[k]);
        sqlite3_bind_text(st, 17, x->operator_name, -1, SQLITE_STATIC);
        int rc = step_write(be, st, err, err_len, "incident", i);
        if (rc < 0)
            return rc;
    }
    return VG_OK;
}

/* The incidents' steps and reports, inserted once (a second row for the
 * same step or incident fails its batch). */
static int put_steps_and_reports(struct vg_store_backend *be, const struct vg_store_batch *b,
                                 char *err, size_t err_len)
{
    sqlite3_stmt *st = be->ws[W_INCIDENT_STEP];
    for (size_t i = 0; i < b->n_incident_steps; i++) {
        const struct vg_store_incident_step *x = &b->incident_steps[i];
        if (x->incident_id <= 0 || x->n < 1 || x->kind < VG_STEP_AUTHOR_CALLED ||
            x->kind >= VG_STEP__COUNT || x->outcome >= VG_OUTCOME__COUNT || !x->operator_name) {
            vg__store_err(err, err_len,
                          "incident step %zu: an incident, a number, a step, an outcome and an "
                          "operator are needed",
                          i);
            return VG_EINVAL;
        }
        sqlite3_bind_int64(st, 1, x->incident_id);
        sqlite3_bind_int64(st, 2, x->n);
        sqlite3_bind_int(st, 3, x->kind);
        sqlite3_bind_int(st, 4, x->outcome);
        sqlite3_bind_text(st, 5, x->text ? x->text : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, x->operator_name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, x->at_ms);
        int rc = step_write(be, st, err, err_len, "incident step", i);
        if (rc < 0)
            return rc;
    }
    st = be->ws[W_REPORT];
    for (size_t i = 0; i < b->n_reports; i++) {
        const struct vg_store_report *r = &b->reports[i];
        if (r->incident_id <= 0 || r->measure_id <= 0 || !r->recipients || !r->content) {
            vg__store_err(err, err_len,
                          "report %zu: an incident, a measure, recipients and a content are "
                          "needed",
                          i);
            return VG_EINVAL;
        }
        sqlite3_bind_int64(st, 1, r->incident_id);
        sqlite3_bind_int64(st, 2, r->measure_id);
        sqlite3_bind_int64(st, 3, r->created_ms);
        sqlite3_bind_text(st, 4, r->recipients, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->content, -1, SQLITE_STATIC);
        int rc = step_write(be, st, err, err_len, "report", i);
        if (rc < 0)
            return rc;
    }
    return VG_OK;
}

/* Measures brought from another centre, as they were. */
static int put_imports(struct vg_store_backend *be, struct vg_store_batch *b, char *err,
                       size_t err_len)
{
    for (size_t i = 0; i < b->n_imports; i++) {
        struct vg_store_import *m = &b->imports[i];
        if (!m->name || !m->definition || !m->status || !m->source || m->n_versions == 0) {
            vg__store_err(err, err_len,
                          "import %zu: a name, a definition, a status, a source "
                          "and versions are needed",
                          i);
            return VG_EINVAL;
        }
        sqlite3_stmt *st = be->ws[W_IMPORT_MEASURE];
        sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->definition, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, m->created_ms);
        sqlite3_bind_text(st, 4, m->status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, m->version);
        sqlite3_bind_text(st, 6, m->end_reason ? m->end_reason : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, m->installation ? m->installation : "{}", -1, SQLITE_STATIC);
        bind_opt(st, 8, m->ended_ms > 0, m->ended_ms);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            m->id = sqlite3_column_int64(st, 0);
            rc = sqlite3_step(st);
        }
        if (rc != SQLITE_DONE) {
            int vrc = map_rc(sqlite3_extended_errcode(be->w));
            vg__store_err(err, err_len, "import of measure '%s': %s", m->name,
                          vrc == VG_EDUPLICATE ? "a measure of that name exists here"
                                               : sqlite3_errmsg(be->w));
            sqlite3_reset(st);
            return vrc;
        }
        sqlite3_reset(st);
        for (size_t k = 0; k < m->n_versions; k++) {
            const struct vg_store_measure_version_row *v = &m->versions[k];
            sqlite3_stmt *vs = be->ws[W_MEASURE_VERSION];
            sqlite3_bind_int64(vs, 1, m->id);
            sqlite3_bind_int64(vs, 2, v->version);
            sqlite3_bind_text(vs, 3, v->definition, -1, SQLITE_STATIC);
            sqlite3_bind_text(vs, 4, v->status, -1, SQLITE_STATIC);
            sqlite3_bind_text(vs, 5, v->end_reason ? v->end_reason : "", -1, SQLITE_STATIC);
            sqlite3_bind_text(vs, 6, v->note ? v->note : "", -1, SQLITE_STATIC);
            sqlite3_bind_text(vs, 7, v->actor ? v->actor : "", -1, SQLITE_STATIC);
            sqlite3_bind_int64(vs, 8, v->created_ms);
            if ((rc = step_write(be, vs, err, err_len, "imported version", k)) < 0)
                return rc;
        }
        for (size_t k = 0; k < m->n_persons; k++) {
            const struct vg_store_person_row *p = &m->persons[k];
            sqlite3_stmt *ps = be->ws[W_IMPORT_PERSON];
            sqlite3_bind_int64(ps, 1, p->id);
            sqlite3_bind_int64(ps, 2, p->version);
            sqlite3_bind_text(ps, 3, p->display, -1, SQLITE_STATIC);
            sqlite3_bind_int64(ps, 4, p->created_ms);
            if ((rc = step_write(be, ps, err, err_len, "imported person", k)) < 0)
                return rc;
            ps = be->ws[W_PERSON_VERSION];
            sqlite3_bind_int64(ps, 1, p->id);
            sqlite3_bind_int64(ps, 2, p->version);
            sqlite3_bind_text(ps, 3, p->data, -1, SQLITE_STATIC);
            sqlite3_bind_text(ps, 4, p->actor ? p->actor : "", -1, SQLITE_STATIC);
            sqlite3_bind_int64(ps, 5, p->created_ms);
            if ((rc = step_write(be, ps, err, err_len, "imported person version", k)) < 0)
                return rc; /* the file exists here already: refused, not merged */
        }
        for (size_t k = 0; k < m->n_journal; k++) {
            const struct vg_journal_entry *e = &m->journal[k];
            sqlite3_stmt *js = be->ws[W_IMPORT_JOURNAL];
            sqlite3_bind_text(js, 1, m->source, -1, SQLITE_STATIC);
            sqlite3_bind_text(js, 2, m->name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(js, 3, e->id);
            sqlite3_bind_int64(js, 4, e->at_ms);
            sqlite3_bind_text(js, 5, e->actor, -1, SQLITE_STATIC);
            sqlite3_bind_text(js, 6, e->action, -1, SQLITE_STATIC);
            sqlite3_bind_text(js, 7, e->subject, -1, SQLITE_STATIC);
            sqlite3_bind_text(js, 8, e->detail, -1, SQLITE_STATIC);
            sqlite3_bind_blob(js, 9, e->prev, VG_JOURNAL_HASH_LEN, SQLITE_STATIC);
            sqlite3_bind_blob(js, 10, e->hash, VG_JOURNAL_HASH_LEN, SQLITE_STATIC);
            if ((rc = step_write(be, js, err, err_len, "imported journal entry", k)) < 0)
                return rc;
        }
    }
    return VG_OK;
}

/* One statement on measure ?1 (and ?2 = limit when it takes one); the rows it changed. */
static int run_on_measure(struct vg_store_backend *be, int which, int64_t id, int64_t limit,
                          int64_t *changed, char *err, size_t err_len, size_t index)
{
    sqlite3_stmt *st = be->ws[which];
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_bind_parameter_count(st) >= 2)
        sqlite3_bind_int64(st, 2, limit);
    int rc = step_write(be, st, err, err_len, "retention step", index);
    if (rc < 0)
        return rc;
    *changed += sqlite3_changes(be->w);
    return VG_OK;
}

/* The retention job's steps (core/retention.h). */
static int put_retention(struct vg_store_backend *be, struct vg_store_batch *b, char *err,
                         size_t err_len)
{
    static const int purge[] = {W_PURGE_FIXES, W_PURGE_FIXES_RECENT, W_PURGE_STATUSES,
                                W_PURGE_EVENTS};
    static const int erase[] = {W_DELETE_PERSON_VERSIONS, W_DELETE_PERSONS, W_DELETE_ALARMS,
                                W_DELETE_STEPS,           W_DELETE_REPORTS, W_DELETE_INCIDENTS,
                                W_DELETE_STATE,           W_DELETE_VERSIONS, W_UNASSIGN_UNITS};
    for (size_t i = 0; i < b->n_retention; i++) {
        struct vg_store_retention_step *r = &b->retention[i];
        r->done = 0;
        /* only an ended measure: a mistaken step never touches a live one */
        sqlite3_stmt *ended = be->ws[W_MEASURE_ENDED];
        sqlite3_bind_int64(ended, 1, r->measure_id);
        bool is_ended = sqlite3_step(ended) == SQLITE_ROW;
        sqlite3_reset(ended);
        if (!is_ended) {
            vg__store_err(err, err_len, "retention step %zu: measure %lld has not ended", i,
                          (long long)r->measure_id);
            return VG_ESTATE;
        }
        int rc = VG_OK;
        int64_t ignored = 0;
        switch (r->action) {
        case VG_STORE_ARCHIVE:
            rc = run_on_measure(be, W_ARCHIVE, r->measure_id, 0, &r->done, err, err_len, i);
            break;
        case VG_STORE_PURGE_RECORDS:
            for (size_t k = 0; k < sizeof purge / sizeof purge[0] && rc == VG_OK; k++)
                rc = run_on_measure(be, purge[k], r->measure_id, r->limit > 0 ? r->limit : 1,
                                    &r->done, err, err_len, i);
            if (rc == VG_OK)
                rc = vg__sq_fixes_forget_deleted(&be->fixes, err, err_len);
            break;
        case VG_STORE_DELETE_MEASURE:
            for (size_t k = 0; k < sizeof erase / sizeof erase[0] && rc == VG_OK; k++)
                rc = run_on_measure(be, erase[k], r->measure_id, 0, &ignored, err, err_len, i);
            if (rc == VG_OK)
                rc = run_on_measure(be, W_DELETE_MEASURE, r->measure_id, 0, &r->done, err, err_len,
                                    i);
            break;
        default:
            vg__store_err(err, err_len, "retention step %zu: unknown action %u", i, r->action);
            return VG_EINVAL;
        }
        if (rc < 0)
            return rc;
    }
    return VG_OK;
}

/* The batch's journal entries, numbered and chained by store.c. */
static int put_journal(struct vg_store_backend *be, const struct vg_store_batch *b, char *err,
                       size_t err_len)
{
    sqlite3_stmt *st = be->ws[W_JOURNAL];
    for (size_t i = 0; i < b->n_journal && b->journal_rows_; i++) {
        const struct vg_journal_entry *e = &b->journal_rows_[i];
        sqlite3_bind_int64(st, 1, e->id);
        sqlite3_bind_int64(st, 2, e->at_ms);
        sqlite3_bind_text(st, 3, e->actor, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, e->action, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, e->subject, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, e->detail, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 7, e->prev, VG_JOURNAL_HASH_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(st, 8, e->hash, VG_JOURNAL_HASH_LEN, SQLITE_STATIC);
        int rc = step_write(be, st, err, err_len, "journal entry", i);
        if (rc < 0)
            return rc;
    }
    return VG_OK;
}

/* Provisioning first (a batch may declare a measure, its units, and their
 * first records), then what refers to it. */
static int put_batch(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                     char *err, size_t err_len)
{
    int rc;
    if ((rc = put_measures(be, b, now_ms, err, err_len)) < 0 ||
        (rc = put_imports(be, b, err, err_len)) < 0 ||
        (rc = put_units(be, b, now_ms, err, err_len)) < 0 ||
        (rc = put_records(be, b, err, err_len)) < 0 || (rc = put_alarms(be, b, err, err_len)) < 0 ||
        (rc = put_states(be, b, now_ms, err, err_len)) < 0 ||
        (rc = put_acks(be, b, err, err_len)) < 0 ||
        (rc = put_users(be, b, now_ms, err, err_len)) < 0 ||
        (rc = put_persons(be, b, now_ms, err, err_len)) < 0 ||
        (rc = put_measure_changes(be, b, now_ms, err, err_len)) < 0 ||
        (rc = put_retention(be, b, err, err_len)) < 0 ||
        (rc = put_incidents(be, b, err, err_len)) < 0 ||
        (rc = put_steps_and_reports(be, b, err, err_len)) < 0 ||
        (rc = put_journal(be, b, err, err_len)) < 0 ||
        (rc = put_sessions(be, b, err, err_len)) < 0)
        return rc;
    return VG_OK;
}

static int sq_apply(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                    bool *txn_lost, char *err, size_t err_len)
{
    b->n_inserted = 0;
    if (run(be->ws[W_SAVEPOINT]) != SQLITE_OK) {
        vg__store_err(err, err_len, "savepoint: %s", sqlite3_errmsg(be->w));
        *txn_lost = true;
        return VG__STORE_EDB;
    }
    int rc = put_batch(be, b, now_ms, err, err_len);
    if (rc == VG_OK) {
        if (run(be->ws[W_RELEASE]) == SQLITE_OK)
            return VG_OK;
        vg__store_err(err, err_len, "release: %s", sqlite3_errmsg(be->w));
        rc = VG__STORE_EDB;
    }
    /* Some errors (I/O, disk full) make SQLite roll back the whole
     * transaction: then every batch of the group is lost with it. */
    if (sqlite3_get_autocommit(be->w) || run(be->ws[W_ROLLBACK_TO]) != SQLITE_OK ||
        run(be->ws[W_RELEASE]) != SQLITE_OK)
        *txn_lost = true;
    return rc;
}

/* ---- reads ------------------------------------------------------------------------------- */

/* A read's statement. A callback may read in turn (the daemon replays a
 * measure's records from inside the measures' iteration), even the same
 * kind of read: the prepared statement is then running, and a one-off
 * copy serves. Nested reads share the outer one's snapshot. */
static sqlite3_stmt *read_begin(struct vg_store_backend *be, int which, bool *one_off)
{
    sqlite3_stmt *st = be->rs[which];
    *one_off = false;
    if (!sqlite3_stmt_busy(st))
        return st;
    if (sqlite3_prepare_v2(be->r, read_sql[which], -1, &st, NULL) != SQLITE_OK)
        return NULL;
    *one_off = true;
    return st;
}

/* Finish a read: reset the statement (which ends its snapshot, so that
 * checkpoints can proceed) and turn the last step's code into a result. */
static int read_end(sqlite3_stmt *st, bool one_off, int step_rc, int cb_rc)
{
    if (one_off)
        sqlite3_finalize(st);
    else
        sqlite3_reset(st);
    if (cb_rc != 0)
        return cb_rc;
    return step_rc == SQLITE_DONE ? VG_OK : VG__STORE_EDB;
}

static int sq_units(struct vg_store_backend *be,
                    int (*cb)(void *arg, const struct vg_store_unit_row *u), void *arg)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, R_UNITS, &one_off);
    if (!st)
        return VG__STORE_EDB;
    int rc = SQLITE_DONE, cb_rc = 0;
    while (cb_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_store_unit_row u = {
            .id = sqlite3_column_int64(st, 0),
            .serial = (const char *)sqlite3_column_text(st, 1),
            .role = (uint8_t)sqlite3_column_int(st, 2),
            .measure_id = sqlite3_column_int64(st, 3), /* NULL reads 0 */
            .acked_seq = (uint64_t)sqlite3_column_int64(st, 4),
        };
        cb_rc = cb(arg, &u);
    }
    return read_end(st, one_off, rc, cb_rc);
}

static int sq_measures(struct vg_store_backend *be,
                       int (*cb)(void *arg, const struct vg_store_measure_row *m), void *arg)
{
    static const uint8_t empty[1];
    bool one_off;
    sqlite3_stmt *st = read_begin(be, R_MEASURES, &one_off);
    if (!st)
        return VG__STORE_EDB;
    int rc = SQLITE_DONE, cb_rc = 0;
    while (cb_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_store_measure_row m = {
            .id = sqlite3_column_int64(st, 0),
            .name = (const char *)sqlite3_column_text(st, 1),
            .definition = (const char *)sqlite3_column_text(st, 2),
            .version = sqlite3_column_int64(st, 5),
            .status = column_str(st, 6),
            .end_reason = column_str(st, 7),
            .installation = column_str(st, 8),
            .created_ms = sqlite3_column_int64(st, 9),
            .ended_ms = sqlite3_column_int64(st, 10), /* NULL reads 0 */
            .archived = sqlite3_column_int64(st, 11) != 0,
        };
        if (column_has(st, 4)) {
            m.state_version = (uint32_t)sqlite3_column_int64(st, 3);
            m.state = sqlite3_column_blob(st, 4);
            m.state_len = (size_t)sqlite3_column_bytes(st, 4);
            if (!m.state)
                m.state = empty; /* a stored empty state is not "no state" */
        }
        cb_rc = cb(arg, &m);
    }
    return read_end(st, one_off, rc, cb_rc);
}

/* The records a statement of RECORDS_ALL selects (?1, ?2 and ?3 bound). */
static int read_records(struct vg_store_backend *be, int which, int64_t a, int64_t b, int64_t c,
                        int (*cb)(void *arg, const struct vg_store_record *r), void *arg);

static int sq_replay(struct vg_store_backend *be, int64_t measure_id, int64_t since_ms,
                     int (*cb)(void *arg, const struct vg_store_record *r), void *arg)
{
    return read_records(be, R_REPLAY, measure_id, since_ms, 0, cb, arg);
}

/* A row of INCIDENT_COLUMNS. */
static void column_incident(sqlite3_stmt *st, struct vg_incident *out)
{
    *out = (struct vg_incident){
        .id = sqlite3_column_int64(st, 0),
        .measure_id = sqlite3_column_int64(st, 1),
        .previous_id = sqlite3_column_int64(st, 2),
        .state = (uint8_t)sqlite3_column_int(st, 3),
        .priority = (uint8_t)sqlite3_column_int(st, 4),
        .escalation = (uint8_t)sqlite3_column_int(st, 5),
        .first_kind = (uint16_t)sqlite3_column_int(st, 6),
        .first_alarm_seq = (uint32_t)sqlite3_column_int64(st, 7),
        .last_alarm_seq = (uint32_t)sqlite3_column_int64(st, 8),
        .n_alarms = (uint32_t)sqlite3_column_int64(st, 9),
        .n_steps = (uint32_t)sqlite3_column_int64(st, 10),
        .opened_ms = sqlite3_column_int64(st, 11),
        .taken_ms = sqlite3_column_int64(st, 12),
        .last_step_ms = sqlite3_column_int64(st, 13),
        .closed_ms = sqlite3_column_int64(st, 14),
        .escalated_ms = sqlite3_column_int64(st, 15),
    };
    snprintf(out->operator_name, sizeof out->operator_name, "%s", column_str(st, 16));
}

static int sq_incidents(struct vg_store_backend *be, bool latest_only,
                        int (*cb)(void *arg, const struct vg_incident *inc), void *arg)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, latest_only ? R_LATEST_INCIDENTS : R_INCIDENTS, &one_off);
    if (!st)
        return VG__STORE_EDB;
    int rc = SQLITE_DONE, cb_rc = 0;
    while (cb_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_incident x;
        column_incident(st, &x);
        cb_rc = cb(arg, &x);
    }
    return read_end(st, one_off, rc, cb_rc);
}

static int sq_incident(struct vg_store_backend *be, int64_t id, struct vg_incident *out)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, R_INCIDENT, &one_off);
    if (!st)
        return VG__STORE_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    bool found = rc == SQLITE_ROW;
    if (found) {
        column_incident(st, out);
        rc = SQLITE_DONE;
    }
    rc = read_end(st, one_off, rc, 0);
    return rc == VG_OK && !found ? VG_ENOTFOUND : rc;
}

static int sq_incident_steps(struct vg_store_backend *be, int64_t incident_id,
                             int (*cb)(void *arg, const struct vg_store_incident_step *x),
                             void *arg)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, R_INCIDENT_STEPS, &one_off);
    if (!st)
        return VG__STORE_EDB;
    sqlite3_bind_int64(st, 1, incident_id);
    int rc = SQLITE_DONE, cb_rc = 0;
    while (cb_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_store_incident_step x = {
            .incident_id = sqlite3_column_int64(st, 0),
            .n = (uint32_t)sqlite3_column_int64(st, 1),
            .kind = (uint8_t)sqlite3_column_int(st, 2),
            .outcome = (uint8_t)sqlite3_column_int(st, 3),
            .text = column_str(st, 4),
            .operator_name = column_str(st, 5),
            .at_ms = sqlite3_column_int64(st, 6),
        };
        cb_rc = cb(arg, &x);
    }
    return read_end(st, one_off, rc, cb_rc);
}

static int sq_report(struct vg_store_backend *be, int64_t incident_id,
                     int (*cb)(void *arg, const struct vg_store_report *r), void *arg)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, R_REPORT, &one_off);
    if (!st)
        return VG__STORE_EDB;
    sqlite3_bind_int64(st, 1, incident_id);
    int rc = SQLITE_DONE, cb_rc = 0;
    size_t n = 0;
    while (cb_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_store_report r = {
            .incident_id = sqlite3_column_int64(st, 0),
            .measure_id = sqlite3_column_int64(st, 1),
            .created_ms = sqlite3_column_int64(st, 2),
            .recipients = column_str(st, 3),
            .content = column_str(st, 4),
        };
        n++;
        cb_rc = cb(arg, &r);
    }
    rc = read_end(st, one_off, rc, cb_rc);
    return rc == VG_OK && n == 0 ? VG_ENOTFOUND : rc;
}

static int sq_unit_records(struct vg_store_backend *be, int64_t unit_id, int64_t from_ms,
                           int64_t to_ms, int (*cb)(void *arg, const struct vg_store_record *r),
                           void *arg)
{
    return read_records(be, R_UNIT_RECORDS, unit_id, from_ms, to_ms, cb, arg);
}

static int read_records(struct vg_store_backend *be, int which, int64_t a, int64_t b, int64_t c,
                        int (*cb)(void *arg, const struct vg_store_record *r), void *arg)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, which, &one_off);
    if (!st)
        return VG__STORE_EDB;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    if (sqlite3_bind_parameter_count(st) >= 3)
        sqlite3_bind_int64(st, 3, c);
    int rc = SQLITE_DONE, cb_rc = 0;
    while (cb_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_store_record r = {
            .received_ms = sqlite3_column_int64(st, 0),
            .unit_id = sqlite3_column_int64(st, 1),
        };
        r.rec.seq = (uint64_t)sqlite3_column_int64(st, 2);
        int64_t t_ms = sqlite3_column_int64(st, 4);
        switch (sqlite3_column_int(st, 3)) {
        case 1: {
            struct vg__store_fix_row row = {
                .t_ms = t_ms,
                .quality = (uint8_t)sqlite3_column_int(st, 5),
                .has_position = column_has(st, 6),
                .lat_e7 = sqlite3_column_int64(st, 6),
                .lon_e7 = sqlite3_column_int64(st, 7),
                .accuracy_cm = sqlite3_column_int64(st, 8),
                .has_speed = column_has(st, 9),
                .speed_cms = sqlite3_column_int64(st, 9),
                .has_heading = column_has(st, 10),
                .heading_cdeg = sqlite3_column_int64(st, 10),
            };
            r.rec.type = VG_REC_FIX;
            vg__store_fix_decode(&row, &r.rec.fix);
            break;
        }
        case 2:
            r.rec.type = VG_REC_STATUS;
            r.rec.subject = (uint8_t)sqlite3_column_int(st, 5);
            r.rec.status = (struct vg_unit_status){
                .time_ms = t_ms,
                .battery_pct = column_status_value(st, 6),
                .charging = column_status_value(st, 7),
                .strap_closed = column_status_value(st, 8),
                .skin_contact = column_status_value(st, 9),
                .bracelet_link = column_status_value(st, 10),
                .beacon_heard = column_status_value(st, 11),
                .beacon_range_m =
                    column_has(st, 12) ? (int16_t)sqlite3_column_int(st, 12) : (int16_t)-1,
            };
            break;
        default: {
            uint8_t kind = (uint8_t)sqlite3_column_int(st, 5);
            r.rec.type = kind == VG_EVENT_HEARTBEAT ? VG_REC_HEARTBEAT : VG_REC_EVENT;
            r.rec.event = (struct vg_unit_event){.time_ms = t_ms, .kind = kind};
            break;
        }
        }
        cb_rc = cb(arg, &r);
    }
    return read_end(st, one_off, rc, cb_rc);
}

static int count(struct vg_store_backend *be, int which, int64_t id, int64_t *n)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, which, &one_off);
    if (!st)
        return VG__STORE_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *n = sqlite3_column_int64(st, 0);
        rc = SQLITE_DONE;
    }
    return read_end(st, one_off, rc, 0);
}

static int sq_count_records(struct vg_store_backend *be, int64_t unit_id, int64_t *n)
{
    return count(be, R_COUNT_RECORDS, unit_id, n);
}

static int sq_count_alarms(struct vg_store_backend *be, int64_t measure_id, int64_t *n)
{
    return count(be, R_COUNT_ALARMS, measure_id, n);
}

static void column_alarm_fix(sqlite3_stmt *st, int first, struct vg_fix *f)
{
    *f = (struct vg_fix){
        .time_ms = sqlite3_column_int64(st, first),
        .lat_deg = column_real(st, first + 1),
        .lon_deg = column_real(st, first + 2),
        .accuracy_m = (float)column_real(st, first + 3),
        .speed_mps = (float)column_real(st, first + 4),
        .heading_deg = (float)column_real(st, first + 5),
        .quality = (uint8_t)sqlite3_column_int(st, first + 6),
    };
}

static int sq_alarms(struct vg_store_backend *be, int64_t measure_id, uint32_t after_seq,
                     int (*cb)(void *arg, const struct vg_store_alarm *a), void *arg)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, R_ALARMS, &one_off);
    if (!st)
        return VG__STORE_EDB;
    sqlite3_bind_int64(st, 1, measure_id);
    sqlite3_bind_int64(st, 2, after_seq);
    int rc = SQLITE_DONE, cb_rc = 0;
    while (cb_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_store_alarm sa = {.measure_id = sqlite3_column_int64(st, 0)};
        struct vg_alarm *a = &sa.alarm;
        a->seq = (uint32_t)sqlite3_column_int64(st, 1);
        a->kind = (uint16_t)sqlite3_column_int(st, 2);
        a->unit = (uint8_t)sqlite3_column_int(st, 3);
        a->priority = (uint8_t)sqlite3_column_int(st, 4);
        a->flags = (uint8_t)sqlite3_column_int(st, 5);
        a->level_from = (uint8_t)sqlite3_column_int(st, 6);
        a->level_to = (uint8_t)sqlite3_column_int(st, 7);
        a->zone_index = (int16_t)sqlite3_column_int(st, 8);
        a->zone_id = (uint32_t)sqlite3_column_int64(st, 9);
        a->at_ms = sqlite3_column_int64(st, 10);
        a->raised_ms = sqlite3_column_int64(st, 11);
        a->ev.distance_m = column_real(st, 12);
        a->ev.uncertainty_m = column_real(st, 13);
        a->ev.threshold_m = column_real(st, 14);
        a->ev.closing_speed_mps = column_real(st, 15);
        a->ev.author_closed_m = column_real(st, 16);
        a->ev.protected_closed_m = column_real(st, 17);
        a->ev.reach_m = column_real(st, 18);
        a->ev.approached_by = (uint8_t)sqlite3_column_int(st, 19);
        a->ev.confidence = (uint8_t)sqlite3_column_int(st, 20);
        column_alarm_fix(st, 21, &a->ev.author_fix);
        column_alarm_fix(st, 28, &a->ev.protected_fix);
        cb_rc = cb(arg, &sa);
    }
    return read_end(st, one_off, rc, cb_rc);
}

/* A hash column as stored: 32 bytes, or zeros if it is not (a row edited
 * by hand: the verification then fails at it). */
static void column_hash(sqlite3_stmt *st, int i, uint8_t out[VG_JOURNAL_HASH_LEN])
{
    const void *p = sqlite3_column_blob(st, i);
    if (p && sqlite3_column_bytes(st, i) == VG_JOURNAL_HASH_LEN)
        memcpy(out, p, VG_JOURNAL_HASH_LEN);
    else
        memset(out, 0, VG_JOURNAL_HASH_LEN);
}

static int sq_persons(struct vg_store_backend *be,
                      int (*cb)(void *arg, const struct vg_store_person_row *p), void *arg)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, R_PERSONS, &one_off);
    if (!st)
        return VG__STORE_EDB;
    int rc = SQLITE_DONE, cb_rc = 0;
    while (cb_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_store_person_row p = {
            .id = sqlite3_column_int64(st, 0),
            .version = sqlite3_column_int64(st, 1),
            .display = column_str(st, 2),
            .created_ms = sqlite3_column_int64(st, 3),
        };
        cb_rc = cb(arg, &p);
    }
    return read_end(st, one_off, rc, cb_rc);
}

static int sq_person(struct vg_store_backend *be, int64_t id, int64_t version, bool all,
                     int (*cb)(void *arg, const struct vg_store_person_row *p), void *arg)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, all ? R_PERSON_VERSIONS : R_PERSON, &one_off);
    if (!st)
        return VG__STORE_EDB;
    sqlite3_bind_int64(st, 1, id);
    if (!all)
        sqlite3_bind_int64(st, 2, version);
    int rc = SQLITE_DONE, cb_rc = 0;
    size_t n = 0;
    while (cb_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_store_person_row p = {
            .id = sqlite3_column_int64(st, 0),
            .version = sqlite3_column_int64(st, 1),
            .display = column_str(st, 2),
            .data = column_str(st, 3),
            .actor = column_str(st, 4),
            .created_ms = sqlite3_column_int64(st, 5),
        };
        n++;
        cb_rc = cb(arg, &p);
    }
    rc = read_end(st, one_off, rc, cb_rc);
    return rc == VG_OK && n == 0 ? VG_ENOTFOUND : rc;
}

static int sq_measure_versions(struct vg_store_backend *be, int64_t id,
                               int (*cb)(void *arg, const struct vg_store_measure_version_row *v),
                               void *arg)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, R_MEASURE_VERSIONS, &one_off);
    if (!st)
        return VG__STORE_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = SQLITE_DONE, cb_rc = 0;
    size_t n = 0;
    while (cb_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_store_measure_version_row v = {
            .measure_id = sqlite3_column_int64(st, 0),
            .version = sqlite3_column_int64(st, 1),
            .definition = column_str(st, 2),
            .status = column_str(st, 3),
            .end_reason = column_str(st, 4),
            .note = column_str(st, 5),
            .actor = column_str(st, 6),
            .created_ms = sqlite3_column_int64(st, 7),
        };
        n++;
        cb_rc = cb(arg, &v);
    }
    rc = read_end(st, one_off, rc, cb_rc);
    return rc == VG_OK && n == 0 ? VG_ENOTFOUND : rc;
}

static int sq_statistics(struct vg_store_backend *be, int64_t from_ms, int64_t to_ms,
                         int (*cb)(void *arg, const struct vg_store_stats_row *r), void *arg)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, R_STATISTICS, &one_off);
    if (!st)
        return VG__STORE_EDB;
    sqlite3_bind_int64(st, 1, from_ms);
    sqlite3_bind_int64(st, 2, to_ms);
    int rc = SQLITE_DONE, cb_rc = 0;
    while (cb_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_store_stats_row r = {
            .measure_id = sqlite3_column_int64(st, 0),
            .alarms = sqlite3_column_int(st, 1) != 0,
            .court = column_str(st, 2),
            .version = sqlite3_column_int64(st, 3),
            .status = column_str(st, 4),
            .end_reason = column_str(st, 5),
            .created_ms = sqlite3_column_int64(st, 6),
            .kind = (uint16_t)sqlite3_column_int(st, 7),
            .raised_ms = sqlite3_column_int64(st, 8),
            .count = sqlite3_column_int64(st, 9),
        };
        cb_rc = cb(arg, &r);
    }
    return read_end(st, one_off, rc, cb_rc);
}

static int sq_users(struct vg_store_backend *be,
                    int (*cb)(void *arg, const struct vg_store_user_row *u), void *arg)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, R_USERS, &one_off);
    if (!st)
        return VG__STORE_EDB;
    int rc = SQLITE_DONE, cb_rc = 0;
    while (cb_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_store_user_row u = {
            .id = sqlite3_column_int64(st, 0),
            .name = column_str(st, 1),
            .role = column_str(st, 2),
            .court = column_str(st, 3),
            .password_hash = column_str(st, 4),
            .disabled = sqlite3_column_int(st, 5) != 0,
        };
        cb_rc = cb(arg, &u);
    }
    return read_end(st, one_off, rc, cb_rc);
}

static int sq_session(struct vg_store_backend *be, const uint8_t hash[VG_STORE_SESSION_HASH_LEN],
                      int (*cb)(void *arg, const struct vg_store_session_row *r), void *arg)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, R_SESSION, &one_off);
    if (!st)
        return VG__STORE_EDB;
    sqlite3_bind_blob(st, 1, hash, VG_STORE_SESSION_HASH_LEN, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st), cb_rc = 0;
    bool found = rc == SQLITE_ROW;
    if (found) {
        struct vg_store_session_row r = {.user = column_str(st, 0),
                                         .created_ms = sqlite3_column_int64(st, 1),
                                         .last_ms = sqlite3_column_int64(st, 2)};
        cb_rc = cb(arg, &r);
        rc = SQLITE_DONE;
    }
    rc = read_end(st, one_off, rc, cb_rc);
    return rc == VG_OK && !found ? VG_ENOTFOUND : rc;
}

static int sq_journal(struct vg_store_backend *be, int64_t after_id,
                      int (*cb)(void *arg, const struct vg_journal_entry *e), void *arg)
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, R_JOURNAL, &one_off);
    if (!st)
        return VG__STORE_EDB;
    sqlite3_bind_int64(st, 1, after_id);
    int rc = SQLITE_DONE, cb_rc = 0;
    while (cb_rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_journal_entry e = {
            .id = sqlite3_column_int64(st, 0),
            .at_ms = sqlite3_column_int64(st, 1),
            .actor = column_str(st, 2),
            .action = column_str(st, 3),
            .subject = column_str(st, 4),
            .detail = column_str(st, 5),
        };
        column_hash(st, 6, e.prev);
        column_hash(st, 7, e.hash);
        cb_rc = cb(arg, &e);
    }
    return read_end(st, one_off, rc, cb_rc);
}

static int sq_journal_tail(struct vg_store_backend *be, int64_t *id,
                           uint8_t hash[VG_JOURNAL_HASH_LEN])
{
    bool one_off;
    sqlite3_stmt *st = read_begin(be, R_JOURNAL_TAIL, &one_off);
    if (!st)
        return VG__STORE_EDB;
    *id = 0;
    memset(hash, 0, VG_JOURNAL_HASH_LEN);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        column_hash(st, 1, hash);
        rc = SQLITE_DONE;
    }
    return read_end(st, one_off, rc, 0);
}

const struct vg_store_ops vg__store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .apply = sq_apply,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .tidy = sq_tidy,
    .units = sq_units,
    .measures = sq_measures,
    .replay = sq_replay,
    .count_records = sq_count_records,
    .count_alarms = sq_count_alarms,
    .alarms = sq_alarms,
    .persons = sq_persons,
    .person = sq_person,
    .measure_versions = sq_measure_versions,
    .unit_records = sq_unit_records,
    .incidents = sq_incidents,
    .incident = sq_incident,
    .incident_steps = sq_incident_steps,
    .report = sq_report,
    .users = sq_users,
    .session = sq_session,
    .statistics = sq_statistics,
    .journal = sq_journal,
    .journal_tail = sq_journal_tail,
};
