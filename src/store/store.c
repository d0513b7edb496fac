/* The store's common part: the location picks a backend, one writer thread
 * commits what is queued as a group, reads are serialised on their own
 * lock. What a backend provides is in store_backend.h; this file also holds
 * what every backend shares (the migration list, the wire representation
 * of records). */
#include "store/store.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_backend.h"
#include "util/clock.h"

/* The writer takes every batch queued when it wakes, up to this many per
 * transaction: the group's done()s are all called after its commit, so an
 * unbounded group would hold back the first batches of a burst behind the
 * last ones. 1024 batches of 100 records is a transaction of 100,000 rows,
 * a fraction of a second. */
#define GROUP_MAX 1024

struct group_result {
    int rc;
    char err[VG__STORE_ERR_LEN];
    /* the journal's tail before this batch was chained */
    int64_t j_id;
    uint8_t j_hash[VG_JOURNAL_HASH_LEN];
    bool excluded; /* failed: not applied again if the group starts over */
};

struct vg_store {
    const struct vg_store_ops *ops;
    struct vg_store_backend *be;

    /* The journal's tail: the writer's alone (rows: its scratch space for a
     * batch's chained entries). The committed head is mirrored under `lock`
     * for vg_store_journal_head. */
    int64_t j_id;
    uint8_t j_hash[VG_JOURNAL_HASH_LEN];
    struct vg_journal_entry *j_rows;
    size_t j_cap;
    int64_t head_id;
    uint8_t head_hash[VG_JOURNAL_HASH_LEN];

    /* The queue; everything here is under `lock`. */
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the writer waits for work or for closing */
    struct vg_store_batch *head, *tail;
    size_t pending; /* submitted, done() not called yet */
    bool closing;
    pthread_cond_t drained; /* nothing pending, no done() running (vg_store_drain) */
    size_t in_done;         /* done()s running */
    int64_t fence;          /* vg_store_fence: read by the writer before each group */
#define VG__STORE_FENCE_LOST (-2) /* set by the writer: a transaction was lost */
    bool fence_on_loss;     /* vg_store_fence_on_loss */

    pthread_t writer;
    struct group_result *results; /* GROUP_MAX, the writer's alone */

    /* The backend's upkeep (store_backend.h, tidy), the writer's alone:
     * whether to ask again before the next group, not before when after a
     * failure, and the failures (under `lock`, for vg_store_upkeep). */
    bool tidy_more;
    int64_t tidy_after_ns;
    uint64_t tidy_failures;
    char tidy_err[VG__STORE_ERR_LEN];
    /* vg_store_upkeep_all: asked and done (under `lock`, done signalled on
     * `drained`), the last one's outcome */
    uint64_t tidy_all_asked, tidy_all_done;
    int tidy_all_rc;
    char tidy_all_err[VG__STORE_ERR_LEN];

    /* The read connection is one per store: reads take turns, a whole
     * iteration (callbacks included) at a time. Recursive: a callback may
     * read in turn, on the same thread. */
    pthread_mutex_t read_lock;
};

void vg__store_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- migrations ---------------------------------------------------------
 *
 * Append a step to change the schema; never edit a step that has shipped.
 * Types are chosen to mean the same in SQLite and PostgreSQL: BIGINT,
 * INTEGER and SMALLINT are integers of 8, 4 and 2 bytes in PostgreSQL (all
 * one INTEGER class in SQLite), DOUBLE PRECISION is a double in both (PG's
 * REAL would be a float), TEXT is text. Not portable, hence the tokens:
 * the generated keys, the blob type, and WITHOUT ROWID (the composite-key
 * tables are stored in their key's order, a unit's records together and no
 * separate rowid index to maintain; PostgreSQL has no such clause).
 *
 * A NULL in a measurement column means "no value": NaN in the alarm's
 * doubles, unknown in the statuses' sensors and the fixes' speed and
 * heading, no position in a fix of quality NONE. */
static const char MIGRATION_1[] =
    "CREATE TABLE measures ("
    "  id @ID@,"
    "  name TEXT NOT NULL UNIQUE,"
    "  definition TEXT NOT NULL,"
    "  created_ms BIGINT NOT NULL,"
    "  updated_ms BIGINT NOT NULL"
    ");"
    "CREATE TABLE units ("
    "  id @ID@,"
    "  serial TEXT NOT NULL UNIQUE,"
    "  role SMALLINT NOT NULL CHECK (role BETWEEN 1 AND 3),"
    "  measure_id BIGINT REFERENCES measures (id),"
    "  acked_seq BIGINT NOT NULL DEFAULT 0,"
    "  created_ms BIGINT NOT NULL"
    ");"
    "CREATE INDEX units_by_measure ON units (measure_id);"
    /* Records: the protocol's integers (store_backend.h). */
    "CREATE TABLE fixes ("
    "  unit_id BIGINT NOT NULL REFERENCES units (id),"
    "  seq BIGINT NOT NULL,"
    "  t_ms BIGINT NOT NULL,"
    "  quality SMALLINT NOT NULL,"
    "  lat_e7 INTEGER,"
    "  lon_e7 INTEGER,"
    "  accuracy_cm BIGINT," /* u32 on the wire */
    "  speed_cms INTEGER,"
    "  heading_cdeg INTEGER,"
    "  received_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (unit_id, seq@FIXES_KEY@)"
    ")@FIXES_BY@;"
    "CREATE TABLE statuses ("
    "  unit_id BIGINT NOT NULL REFERENCES units (id),"
    "  seq BIGINT NOT NULL,"
    "  t_ms BIGINT NOT NULL,"
    "  subject SMALLINT NOT NULL,"
    "  battery SMALLINT,"
    "  charging SMALLINT,"
    "  strap_closed SMALLINT,"
    "  skin_contact SMALLINT,"
    "  bracelet_link SMALLINT,"
    "  received_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (unit_id, seq)"
    ")@NOROWID@;"
    /* Events and heartbeats (kind 1). */
    "CREATE TABLE events ("
    "  unit_id BIGINT NOT NULL REFERENCES units (id),"
    "  seq BIGINT NOT NULL,"
    "  t_ms BIGINT NOT NULL,"
    "  kind SMALLINT NOT NULL,"
    "  received_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (unit_id, seq)"
    ")@NOROWID@;"
    /* Alarms and their evidence, every field of struct vg_alarm; the fixes
     * the decision used are kept as the engine had them (doubles), not
     * requantised. An ordinary table: its rows (~300 bytes) are too wide
     * for WITHOUT ROWID to pay, and alarms are rare. */
    "CREATE TABLE alarms ("
    "  measure_id BIGINT NOT NULL REFERENCES measures (id),"
    "  seq BIGINT NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  unit SMALLINT NOT NULL,"
    "  priority SMALLINT NOT NULL,"
    "  flags SMALLINT NOT NULL,"
    "  level_from SMALLINT NOT NULL,"
    "  level_to SMALLINT NOT NULL,"
    "  zone_index SMALLINT NOT NULL,"
    "  zone_id BIGINT NOT NULL,"
    "  at_ms BIGINT NOT NULL,"
    "  raised_ms BIGINT NOT NULL,"
    "  distance_m DOUBLE PRECISION,"
    "  uncertainty_m DOUBLE PRECISION,"
    "  threshold_m DOUBLE PRECISION,"
    "  closing_speed_mps DOUBLE PRECISION,"
    "  author_closed_m DOUBLE PRECISION,"
    "  protected_closed_m DOUBLE PRECISION,"
    "  reach_m DOUBLE PRECISION,"
    "  approached_by SMALLINT NOT NULL,"
    "  confidence SMALLINT NOT NULL,"
    "  author_t_ms BIGINT NOT NULL,"
    "  author_lat_deg DOUBLE PRECISION,"
    "  author_lon_deg DOUBLE PRECISION,"
    "  author_accuracy_m DOUBLE PRECISION,"
    "  author_speed_mps DOUBLE PRECISION,"
    "  author_heading_deg DOUBLE PRECISION,"
    "  author_quality SMALLINT NOT NULL,"
    "  protected_t_ms BIGINT NOT NULL,"
    "  protected_lat_deg DOUBLE PRECISION,"
    "  protected_lon_deg DOUBLE PRECISION,"
    "  protected_accuracy_m DOUBLE PRECISION,"
    "  protected_speed_mps DOUBLE PRECISION,"
    "  protected_heading_deg DOUBLE PRECISION,"
    "  protected_quality SMALLINT NOT NULL,"
    "  PRIMARY KEY (measure_id, seq)"
    ");"
    "CREATE TABLE engine_states ("
    "  measure_id @KEY@ REFERENCES measures (id),"
    "  version BIGINT NOT NULL,"
    "  state @BLOB@ NOT NULL,"
    "  updated_ms BIGINT NOT NULL"
    ");";

/* PostgreSQL's own part of the first step (store_pg.c says why):
 *   fixes_ahead   the keys of the fixes whose own time was more than a day
 *                 ahead of their reception: a partitioned table has no
 *                 unique index across its partitions, so the backend looks
 *                 for a fix stored before in the partitions from its own
 *                 time less a day on, and here;
 *   vg_fail()     raises an error from a statement (a check that would
 *                 otherwise need a round trip);
 *   vg_json()     a text as JSON, or NULL if it is not (SQLite's json_valid
 *                 and json_extract, without failing the whole statement). */
static const char MIGRATION_1_PG[] =
    "CREATE TABLE fixes_ahead ("
    "  unit_id BIGINT NOT NULL,"
    "  seq BIGINT NOT NULL,"
    "  PRIMARY KEY (unit_id, seq)"
    ");"
    "CREATE FUNCTION vg_fail(message TEXT, code TEXT) RETURNS BIGINT LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION USING MESSAGE = message, ERRCODE = code; END $$;"
    "CREATE FUNCTION vg_json(doc TEXT) RETURNS JSONB LANGUAGE plpgsql IMMUTABLE AS "
    "$$ BEGIN RETURN doc::jsonb; EXCEPTION WHEN others THEN RETURN NULL; END $$;";

/* The local proximity detector (protocol STATUS tags 8 and 9). */
static const char MIGRATION_2[] = "ALTER TABLE statuses ADD COLUMN beacon_heard SMALLINT;"
                                  "ALTER TABLE statuses ADD COLUMN beacon_range_m INTEGER;";

/* The journal (util/journal.h): ids given by the store, in order, without
 * gaps; the hashes as 32 raw bytes. */
static const char MIGRATION_3[] = "CREATE TABLE journal ("
                                  "  id @KEY@,"
                                  "  at_ms BIGINT NOT NULL,"
                                  "  actor TEXT NOT NULL,"
                                  "  action TEXT NOT NULL,"
                                  "  subject TEXT NOT NULL,"
                                  "  detail TEXT NOT NULL,"
                                  "  prev_hash @BLOB@ NOT NULL,"
                                  "  hash @BLOB@ NOT NULL"
                                  ");";

/* Users' accounts: the role and court by name (core/roles.h), the password
 * as an Argon2id encoded hash ('' until one is set). */
static const char MIGRATION_4[] = "CREATE TABLE users ("
                                  "  id @ID@,"
                                  "  name TEXT NOT NULL UNIQUE,"
                                  "  role TEXT NOT NULL,"
                                  "  court TEXT NOT NULL,"
                                  "  password_hash TEXT NOT NULL,"
                                  "  disabled SMALLINT NOT NULL,"
                                  "  created_ms BIGINT NOT NULL,"
                                  "  updated_ms BIGINT NOT NULL"
                                  ");";

/* Persons: the current version's number and display name; every version's
 * content in person_versions (ids chosen by the API: random, 64-bit). */
static const char MIGRATION_5[] = "CREATE TABLE persons ("
                                  "  id @KEY@,"
                                  "  version BIGINT NOT NULL,"
                                  "  display TEXT NOT NULL,"
                                  "  created_ms BIGINT NOT NULL,"
                                  "  updated_ms BIGINT NOT NULL"
                                  ");"
                                  "CREATE TABLE person_versions ("
                                  "  person_id BIGINT NOT NULL REFERENCES persons (id),"
                                  "  version BIGINT NOT NULL,"
                                  "  data TEXT NOT NULL,"
                                  "  actor TEXT NOT NULL,"
                                  "  created_ms BIGINT NOT NULL,"
                                  "  PRIMARY KEY (person_id, version)"
                                  ")@NOROWID@;";

/* Measures as case files: the current version's number, status (core/
 * lifecycle.h) and installation checklist on the measure; every version of
 * the definition and status kept in measure_versions. Measures declared
 * before were running: they are active, their definition version 1. */
static const char MIGRATION_6[] =
    "ALTER TABLE measures ADD COLUMN version BIGINT NOT NULL DEFAULT 1;"
    "ALTER TABLE measures ADD COLUMN status TEXT NOT NULL DEFAULT 'active';"
    "ALTER TABLE measures ADD COLUMN end_reason TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE measures ADD COLUMN installation TEXT NOT NULL DEFAULT '{}';"
    "CREATE TABLE measure_versions ("
    "  measure_id BIGINT NOT NULL REFERENCES measures (id),"
    "  version BIGINT NOT NULL,"
    "  definition TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  end_reason TEXT NOT NULL,"
    "  note TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  created_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (measure_id, version)"
    ")@NOROWID@;"
    "INSERT INTO measure_versions (measure_id, version, definition, status, end_reason, note, "
    "  actor, created_ms) SELECT id, 1, definition, 'active', '', "
    "  'declared before measures had versions', 'migration', created_ms FROM measures;";

/* Retention (core/retention.h): when a measure ended, and whether it is in
 * the intermediate archive. */
static const char MIGRATION_7[] =
    "ALTER TABLE measures ADD COLUMN ended_ms BIGINT;"
    "ALTER TABLE measures ADD COLUMN archived SMALLINT NOT NULL DEFAULT 0;"
    "UPDATE measures SET ended_ms = (SELECT max(v.created_ms) FROM measure_versions v "
    "  WHERE v.measure_id = measures.id AND v.status = 'ended') WHERE status = 'ended';";

/* Measures brought from another centre (vigie measure import): the
 * source's journal entries about them, kept as they were (their hashes
 * still check against their content). */
static const char MIGRATION_8[] = "CREATE TABLE imported_journal ("
                                  "  source TEXT NOT NULL,"
                                  "  measure_name TEXT NOT NULL,"
                                  "  id BIGINT NOT NULL,"
                                  "  at_ms BIGINT NOT NULL,"
                                  "  actor TEXT NOT NULL,"
                                  "  action TEXT NOT NULL,"
                                  "  subject TEXT NOT NULL,"
                                  "  detail TEXT NOT NULL,"
                                  "  prev_hash @BLOB@ NOT NULL,"
                                  "  hash @BLOB@ NOT NULL,"
                                  "  PRIMARY KEY (source, id)"
                                  ");";

/* The operators' incidents (core/incident.h): ids given by the centre;
 * one row each, rewritten as it moves. */
static const char MIGRATION_9[] =
    "CREATE TABLE incidents ("
    "  id @KEY@,"
    "  measure_id BIGINT NOT NULL REFERENCES measures (id),"
    "  previous_id BIGINT NOT NULL,"
    "  state SMALLINT NOT NULL,"
    "  priority SMALLINT NOT NULL,"
    "  escalation SMALLINT NOT NULL,"
    "  first_kind INTEGER NOT NULL,"
    "  first_alarm_seq BIGINT NOT NULL,"
    "  last_alarm_seq BIGINT NOT NULL,"
    "  n_alarms BIGINT NOT NULL,"
    "  n_steps BIGINT NOT NULL,"
    "  opened_ms BIGINT NOT NULL,"
    "  taken_ms BIGINT NOT NULL,"
    "  last_step_ms BIGINT NOT NULL,"
    "  closed_ms BIGINT NOT NULL,"
    "  escalated_ms BIGINT NOT NULL,"
    "  operator TEXT NOT NULL"
    ");"
    "CREATE INDEX incidents_by_measure ON incidents (measure_id, id);";

/* The incidents' steps (one row each, numbered within the incident) and
 * the report each closing makes (its content kept byte for byte: the
 * journal holds its SHA-256). */
static const char MIGRATION_10[] = "CREATE TABLE incident_steps ("
                                   "  incident_id BIGINT NOT NULL REFERENCES incidents (id),"
                                   "  n BIGINT NOT NULL,"
                                   "  kind SMALLINT NOT NULL,"
                                   "  outcome SMALLINT NOT NULL,"
                                   "  text TEXT NOT NULL,"
                                   "  operator TEXT NOT NULL,"
                                   "  at_ms BIGINT NOT NULL,"
                                   "  PRIMARY KEY (incident_id, n)"
                                   ")@NOROWID@;"
                                   "CREATE TABLE reports ("
                                   "  incident_id @KEY@ REFERENCES incidents (id),"
                                   "  measure_id BIGINT NOT NULL REFERENCES measures (id),"
                                   "  created_ms BIGINT NOT NULL,"
                                   "  recipients TEXT NOT NULL,"
                                   "  content TEXT NOT NULL"
                                   ");"
                                   "CREATE INDEX reports_by_measure ON reports (measure_id);";

/* The two sites' lease (core/lease.h, docs/DEPLOYMENT.md): one row, its
 * holder, its epoch (the fencing token: +1 at each change of holder) and
 * its expiry by the database's clock. vg_fence(epoch), the first statement
 * of every write transaction of a vigied that holds the lease, fails unless
 * the epoch is still the row's, and holds the row in share until the
 * commit: the other site cannot take the lease while a transaction of the
 * old holder is in flight, nor the old holder commit once it is taken.
 * PostgreSQL only: SQLite serves one site. */
static const char MIGRATION_11_PG[] =
    "CREATE TABLE vg_lease ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  holder TEXT NOT NULL,"
    "  epoch BIGINT NOT NULL,"
    "  taken_at TIMESTAMPTZ NOT NULL,"
    "  expires_at TIMESTAMPTZ NOT NULL"
    ");"
    "CREATE FUNCTION vg_fence(e BIGINT) RETURNS BIGINT LANGUAGE plpgsql AS "
    "$$ BEGIN PERFORM 1 FROM vg_lease WHERE id = 1 AND epoch = e FOR SHARE; "
    "IF NOT FOUND THEN RAISE EXCEPTION USING MESSAGE = 'fenced: this vigied no longer holds "
    "the lease (epoch ' || e || ')', ERRCODE = 'VGF01'; END IF; RETURN e; END $$;";

/* The consoles' sessions (http/auth.c): the token's SHA-256 only, so that a
 * session opened at one site holds at the other after a take-over. */
static const char MIGRATION_12[] = "CREATE TABLE sessions ("
                                   "  token_hash @BLOB@ PRIMARY KEY,"
                                   "  user_name TEXT NOT NULL,"
                                   "  created_ms BIGINT NOT NULL,"
                                   "  last_ms BIGINT NOT NULL"
                                   ")@NOROWID@;"
                                   "CREATE INDEX sessions_by_user ON sessions (user_name);";

/* SQLite's fixes in two tables (store_sqlite.c, "Fixes, staged" says why):
 * fixes_sorted, the keyed table the fixes were in, and fixes_recent, the
 * latest in the order they arrived, moved into fixes_sorted in bulk; a row
 * may be in both for a while (moved, not yet deleted), fixes_sorted's
 * copy counting. The view fixes is the two as one table, for whoever reads
 * the file (the store's own reads name the tables). PostgreSQL writes rows,
 * not pages, to its WAL: it keeps its single table. */
static const char MIGRATION_13_SQLITE[] =
    "ALTER TABLE fixes RENAME TO fixes_sorted;"
    "CREATE TABLE fixes_recent ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: a rowid names one row for ever */
    "  unit_id BIGINT NOT NULL REFERENCES units (id),"
    "  seq BIGINT NOT NULL,"
    "  t_ms BIGINT NOT NULL,"
    "  quality SMALLINT NOT NULL,"
    "  lat_e7 INTEGER,"
    "  lon_e7 INTEGER,"
    "  accuracy_cm BIGINT,"
    "  speed_cms INTEGER,"
    "  heading_cdeg INTEGER,"
    "  received_ms BIGINT NOT NULL"
    ");"
    "CREATE VIEW fixes AS "
    "SELECT unit_id, seq, t_ms, quality, lat_e7, lon_e7, accuracy_cm, speed_cms, heading_cdeg, "
    "received_ms FROM fixes_sorted UNION ALL "
    "SELECT r.unit_id, r.seq, r.t_ms, r.quality, r.lat_e7, r.lon_e7, r.accuracy_cm, r.speed_cms, "
    "r.heading_cdeg, r.received_ms FROM fixes_recent r WHERE NOT EXISTS "
    "(SELECT 1 FROM fixes_sorted s WHERE s.unit_id = r.unit_id AND s.seq = r.seq);";

const struct vg__store_migration vg__store_migrations[] = {
    {1, "measures, units, records, alarms, engine states", MIGRATION_1, MIGRATION_1_PG, NULL},
    {2, "statuses: the bracelet's beacon heard by the protected person's unit", MIGRATION_2, NULL,
     NULL},
    {3, "the hash-chained journal", MIGRATION_3, NULL, NULL},
    {4, "users' accounts", MIGRATION_4, NULL, NULL},
    {5, "persons and their versions", MIGRATION_5, NULL, NULL},
    {6, "measures' versions, status and installation", MIGRATION_6, NULL, NULL},
    {7, "measures' end and archive (retention)", MIGRATION_7, NULL, NULL},
    {8, "journal entries of imported measures", MIGRATION_8, NULL, NULL},
    {9, "the operators' incidents", MIGRATION_9, NULL, NULL},
    {10, "the incidents' steps and reports", MIGRATION_10, NULL, NULL},
    {11, "the two sites' lease", "", MIGRATION_11_PG, NULL},
    {12, "the consoles' sessions", MIGRATION_12, NULL, NULL},
    {13, "SQLite's fixes staged in arrival order", "", NULL, MIGRATION_13_SQLITE},
};
const size_t vg__store_n_migrations = sizeof vg__store_migrations / sizeof vg__store_migrations[0];

static const struct {
    const char *token;
    const char *sqlite;
    const char *postgresql;
} dialect_words[] = {
    {"@ID@", "INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
    {"@KEY@", "INTEGER PRIMARY KEY", "BIGINT PRIMARY KEY"},
    {"@BLOB@", "BLOB", "BYTEA"},
    {"@NOROWID@", " WITHOUT ROWID", ""},
    {"@FIXES_KEY@", "", ", received_ms"},
    {"@FIXES_BY@", " WITHOUT ROWID", " PARTITION BY RANGE (received_ms)"},
};
#define N_DIALECT_WORDS (sizeof dialect_words / sizeof dialect_words[0])

/* src with its tokens replaced, written at out + n if out is not NULL;
 * returns n plus the length written. */
static size_t expand_tokens(const char *src, enum vg__store_dialect d, char *out, size_t n)
{
    for (const char *p = src; *p;) {
        const char *word = NULL;
        size_t skip = 1;
        if (*p == '@') {
            for (size_t i = 0; i < N_DIALECT_WORDS; i++) {
                size_t tl = strlen(dialect_words[i].token);
                if (strncmp(p, dialect_words[i].token, tl) == 0) {
                    word = d == VG__STORE_SQLITE ? dialect_words[i].sqlite
                                                 : dialect_words[i].postgresql;
                    skip = tl;
                    break;
                }
            }
        }
        size_t wl = word ? strlen(word) : 1;
        if (out)
            memcpy(out + n, word ? word : p, wl);
        n += wl;
        p += skip;
    }
    return n;
}

char *vg__store_migration_sql(const struct vg__store_migration *m, enum vg__store_dialect d)
{
    /* The backend's own part after the rest; measured, then written. */
    const char *own = d == VG__STORE_POSTGRESQL && m->postgresql_only ? m->postgresql_only
                      : d == VG__STORE_SQLITE && m->sqlite_only   ? m->sqlite_only
                                                                  : "";
    size_t len = expand_tokens(own, d, NULL, expand_tokens(m->sql, d, NULL, 0));
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    expand_tokens(own, d, out, expand_tokens(m->sql, d, out, 0));
    out[len] = '\0';
    return out;
}

/* ---- the wire representation of records ---------------------------------- */

/* round(v * scale) if within [lo, hi] (NaN is not). */
static bool scaled(double v, double scale, double lo, double hi, int64_t *out)
{
    double x = round(v * scale);
    if (!(x >= lo && x <= hi))
        return false;
    *out = (int64_t)x;
    return true;
}

int vg__store_fix_encode(const struct vg_fix *f, struct vg__store_fix_row *row)
{
    *row = (struct vg__store_fix_row){.t_ms = f->time_ms, .quality = f->quality};
    if (f->quality == VG_FIX_NONE)
        return VG_OK; /* no position: whatever else came means nothing */
    row->has_position = true;
    /* the wire's types: i32 degrees e7, u32 cm; speed and heading are u16
     * there, the columns take up to i32 */
    const double i32_min = (double)INT32_MIN, i32_max = (double)INT32_MAX;
    if (!scaled(f->lat_deg, 1e7, i32_min, i32_max, &row->lat_e7) ||
        !scaled(f->lon_deg, 1e7, i32_min, i32_max, &row->lon_e7) ||
        !scaled((double)f->accuracy_m, 100.0, 0, (double)UINT32_MAX, &row->accuracy_cm))
        return VG_ERANGE;
    /* unknown is any negative value (fix.h); NaN counts as unknown too */
    if ((row->has_speed = f->speed_mps >= 0) &&
        !scaled((double)f->speed_mps, 100.0, 0, i32_max, &row->speed_cms))
        return VG_ERANGE;
    if ((row->has_heading = f->heading_deg >= 0) &&
        !scaled((double)f->heading_deg, 100.0, 0, i32_max, &row->heading_cdeg))
        return VG_ERANGE;
    return VG_OK;
}

void vg__store_fix_decode(const struct vg__store_fix_row *row, struct vg_fix *f)
{
    *f = (struct vg_fix){
        .time_ms = row->t_ms,
        .speed_mps = row->has_speed ? (float)((double)row->speed_cms / 100.0) : -1.0f,
        .heading_deg = row->has_heading ? (float)((double)row->heading_cdeg / 100.0) : -1.0f,
        .quality = row->quality,
    };
    if (row->has_position) {
        f->lat_deg = (double)row->lat_e7 / 1e7;
        f->lon_deg = (double)row->lon_e7 / 1e7;
        f->accuracy_m = (float)((double)row->accuracy_cm / 100.0);
    }
}

/* ---- open, close --------------------------------------------------------- */

static const struct {
    const char *prefix;
    const struct vg_store_ops *ops;
    bool whole; /* the backend takes the whole location (a libpq URI) */
} backends[] = {
    {"sqlite:", &vg__store_sqlite_ops, false},
    {"postgresql://", &vg__store_pg_ops, true},
    {"postgres://", &vg__store_pg_ops, true},
    {"postgresql:", &vg__store_pg_ops, false}, /* then libpq's key=value form */
};

static void *writer_main(void *arg);

int vg_store_open(const char *location, struct vg_store **out, char *err, size_t err_len)
{
    vg__store_err(err, err_len, "%s", "");
    if (!location || !out) {
        vg__store_err(err, err_len, "no store location");
        return VG_EINVAL;
    }
    *out = NULL;
    const struct vg_store_ops *ops = &vg__store_sqlite_ops; /* a plain path */
    const char *target = location;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        size_t pl = strlen(backends[i].prefix);
        if (strncmp(location, backends[i].prefix, pl) == 0) {
            ops = backends[i].ops;
            target = backends[i].whole ? location : location + pl;
            break;
        }
    }

    struct vg_store *s = calloc(1, sizeof *s);
    if (!s) {
        vg__store_err(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    s->ops = ops;
    s->results = calloc(GROUP_MAX, sizeof *s->results);
    if (!s->results) {
        free(s);
        vg__store_err(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    int rc = ops->open(target, &s->be, err, err_len);
    if (rc < 0) {
        free(s->results);
        free(s);
        return rc;
    }
    rc = ops->journal_tail(s->be, &s->j_id, s->j_hash);
    if (rc < 0) {
        vg__store_err(err, err_len, "cannot read the journal's last entry");
        ops->close(s->be);
        free(s->results);
        free(s);
        return rc;
    }
    s->head_id = s->j_id;
    memcpy(s->head_hash, s->j_hash, sizeof s->head_hash);

    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->read_lock, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->drained, NULL);
    /* The writer takes no signals: they go to the threads that expect them
     * (the daemon's event loop). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&s->writer, NULL, writer_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        vg__store_err(err, err_len, "cannot start the writer thread: %s", strerror(e));
        ops->close(s->be);
        pthread_cond_destroy(&s->wake);
        pthread_cond_destroy(&s->drained);
        pthread_mutex_destroy(&s->lock);
        pthread_mutex_destroy(&s->read_lock);
        free(s->results);
        free(s);
        return VG_ENOSPC;
    }
    *out = s;
    return VG_OK;
}

void vg_store_location_public(const char *location, char *out, size_t out_len)
{
    if (!out || out_len == 0)
        return;
    size_t n = 0;
    const char *p = location ? location : "";
    const char *scheme = strstr(p, "://");
    /* a URI's authority: the user's password between ':' and '@' */
    const char *at = NULL, *colon = NULL;
    if (scheme) {
        const char *auth = scheme + 3;
        size_t auth_len = strcspn(auth, "/?");
        for (size_t i = 0; i < auth_len; i++)
            if (auth[i] == '@')
                at = auth + i;
        if (at) {
            colon = memchr(auth, ':', (size_t)(at - auth));
        }
    }
    while (*p && n + 1 < out_len) {
        if (colon && p == colon + 1) {
            for (const char *m = "***"; *m && n + 1 < out_len; m++)
                out[n++] = *m;
            p = at;
            continue;
        }
        bool at_key = p == location || (p[-1] && strchr(" ?&:", p[-1]));
        if (at_key && strncmp(p, "password=", 9) == 0) {
            for (const char *m = "password=***"; *m && n + 1 < out_len; m++)
                out[n++] = *m;
            p += 9;
            if (*p == '\'') { /* key='quoted value' */
                for (p++; *p && *p != '\''; p++)
                    if (*p == '\\' && p[1])
                        p++;
                if (*p)
                    p++;
            } else {
                p += strcspn(p, " &");
            }
            continue;
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
}

void vg_store_close(struct vg_store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->closing = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    /* The writer drains the queue (done() called for every batch) before it
     * returns. */
    pthread_join(s->writer, NULL);
    s->ops->close(s->be);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->drained);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->read_lock);
    free(s->results);
    free(s->j_rows);
    free(s);
}

int vg_store_journal_head(struct vg_store *s, int64_t *id, uint8_t hash[VG_JOURNAL_HASH_LEN])
{
    if (!s || !id || !hash)
        return VG_EINVAL;
    pthread_mutex_lock(&s->lock);
    *id = s->head_id;
    memcpy(hash, s->head_hash, VG_JOURNAL_HASH_LEN);
    pthread_mutex_unlock(&s->lock);
    return VG_OK;
}

/* ---- the queue and the writer -------------------------------------------- */

int vg_store_submit(struct vg_store *s, struct vg_store_batch *b)
{
    if (!s || !b || (b->n_records && !b->records) || (b->n_alarms && !b->alarms) ||
        (b->n_states && !b->states) || (b->n_acks && !b->acks) || (b->n_measures && !b->measures) ||
        (b->n_units && !b->units) || (b->n_incident_steps && !b->incident_steps) ||
        (b->n_reports && !b->reports) || (b->n_sessions && !b->sessions))
        return VG_EINVAL;
    b->next_ = NULL;
    b->n_inserted = 0;
    b->committed_ns = 0;
    b->submitted_ns = vg_mono_ns();
    pthread_mutex_lock(&s->lock);
    if (s->closing) {
        pthread_mutex_unlock(&s->lock);
        return VG_ESTATE;
    }
    if (s->tail)
        s->tail->next_ = b;
    else
        s->head = b;
    s->tail = b;
    s->pending++;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    return VG_OK;
}

size_t vg_store_pending(struct vg_store *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    size_t n = s->pending;
    pthread_mutex_unlock(&s->lock);
    return n;
}

int vg_store_upkeep_all(struct vg_store *s, char *err, size_t err_len)
{
    vg__store_err(err, err_len, "%s", "");
    if (!s->ops->tidy)
        return VG_OK;
    pthread_mutex_lock(&s->lock);
    uint64_t ticket = ++s->tidy_all_asked;
    pthread_cond_signal(&s->wake);
    while (s->tidy_all_done < ticket)
        pthread_cond_wait(&s->drained, &s->lock);
    int rc = s->tidy_all_rc;
    if (rc < 0)
        vg__store_err(err, err_len, "%s", s->tidy_all_err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

uint64_t vg_store_upkeep_failures(struct vg_store *s, char *err, size_t err_len)
{
    pthread_mutex_lock(&s->lock);
    uint64_t n = s->tidy_failures;
    if (err && err_len)
        snprintf(err, err_len, "%s", s->tidy_err);
    pthread_mutex_unlock(&s->lock);
    return n;
}

void vg_store_drain(struct vg_store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    while (s->pending > 0 || s->in_done > 0)
        pthread_cond_wait(&s->drained, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

/* ---- the lease ------------------------------------------------------------ */

bool vg_store_has_lease(struct vg_store *s)
{
    return s && s->ops->lease != NULL;
}

int vg_store_lease(struct vg_store *s, const char *holder, int64_t ttl_ms, int64_t epoch,
                   struct vg_store_lease_answer *out, char *err, size_t err_len)
{
    if (!s || !holder || !*holder || !out || ttl_ms <= 0 || epoch < 0) {
        vg__store_err(err, err_len, "lease: invalid arguments");
        return VG_EINVAL;
    }
    if (!s->ops->lease) {
        vg__store_err(err, err_len, "the %s store has no lease (one site)", s->ops->name);
        return VG_ESTATE;
    }
    *out = (struct vg_store_lease_answer){0};
    return s->ops->lease(s->be, holder, ttl_ms, epoch, out, err, err_len);
}

int vg_store_lease_release(struct vg_store *s, const char *holder, int64_t epoch, char *err,
                           size_t err_len)
{
    if (!s || !holder || epoch <= 0) {
        vg__store_err(err, err_len, "lease: invalid arguments");
        return VG_EINVAL;
    }
    if (!s->ops->lease_release) {
        vg__store_err(err, err_len, "the %s store has no lease (one site)", s->ops->name);
        return VG_ESTATE;
    }
    return s->ops->lease_release(s->be, holder, epoch, err, err_len);
}

void vg_store_fence_on_loss(struct vg_store *s, bool on)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->fence_on_loss = on;
    pthread_mutex_unlock(&s->lock);
}

bool vg_store_lost(struct vg_store *s)
{
    if (!s)
        return false;
    pthread_mutex_lock(&s->lock);
    bool lost = s->fence == VG__STORE_FENCE_LOST;
    pthread_mutex_unlock(&s->lock);
    return lost;
}

void vg_store_fence(struct vg_store *s, int64_t epoch)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->fence = epoch;
    pthread_mutex_unlock(&s->lock);
}

int vg_store_resync(struct vg_store *s, char *err, size_t err_len)
{
    if (!s)
        return VG_EINVAL;
    pthread_mutex_lock(&s->lock);
    bool idle = s->pending == 0 && s->in_done == 0;
    pthread_mutex_unlock(&s->lock);
    if (!idle) {
        vg__store_err(err, err_len, "resync with batches pending");
        return VG_ESTATE;
    }
    int64_t id = 0;
    uint8_t hash[VG_JOURNAL_HASH_LEN];
    pthread_mutex_lock(&s->read_lock);
    int rc = s->ops->journal_tail(s->be, &id, hash);
    pthread_mutex_unlock(&s->read_lock);
    if (rc < 0) {
        vg__store_err(err, err_len, "cannot read the journal's last entry");
        return rc;
    }
    /* the writer is idle (nothing pending) and reads these only in a
     * group, which starts under `lock` after this */
    pthread_mutex_lock(&s->lock);
    s->j_id = id;
    memcpy(s->j_hash, hash, sizeof s->j_hash);
    s->head_id = id;
    memcpy(s->head_hash, hash, sizeof s->head_hash);
    pthread_mutex_unlock(&s->lock);
    return VG_OK;
}

static void clear_outputs(struct vg_store_batch *b)
{
    b->n_inserted = 0;
    for (size_t i = 0; i < b->n_journal; i++)
        b->journal[i].id = 0;
    for (size_t i = 0; i < b->n_measures; i++)
        b->measures[i].id = 0;
    for (size_t i = 0; i < b->n_units; i++)
        b->units[i].id = 0;
}

/* Number and chain a batch's journal entries after the tail, into the
 * writer's scratch rows the backend inserts in apply(). Their ids are
 * given to the caller's entries now and cleared if the batch fails. */
static int chain_journal(struct vg_store *s, struct vg_store_batch *b, int64_t now_ms, char *err,
                         size_t err_len)
{
    if (b->n_journal == 0)
        return VG_OK;
    if (!b->journal) {
        vg__store_err(err, err_len, "journal entries announced but not given");
        return VG_EINVAL;
    }
    if (b->n_journal > s->j_cap) {
        struct vg_journal_entry *rows = realloc(s->j_rows, b->n_journal * sizeof *rows);
        if (!rows) {
            vg__store_err(err, err_len, "out of memory chaining the journal");
            return VG_ENOSPC;
        }
        s->j_rows = rows;
        s->j_cap = b->n_journal;
    }
    for (size_t k = 0; k < b->n_journal; k++) {
        const struct vg_store_journal_entry *in = &b->journal[k];
        struct vg_journal_entry *e = &s->j_rows[k];
        *e = (struct vg_journal_entry){.at_ms = in->at_ms > 0 ? in->at_ms : now_ms,
                                       .actor = in->actor,
                                       .action = in->action,
                                       .subject = in->subject,
                                       .detail = in->detail ? in->detail : "{}"};
        if (!e->actor || !e->action || !e->subject || !e->actor[0] || !e->action[0]) {
            vg__store_err(err, err_len, "journal entry %zu: actor, action and subject needed",
                          k + 1);
            return VG_EINVAL;
        }
        if (vg_journal_chain(e, s->j_id, s->j_hash) != VG_OK) {
            vg__store_err(err, err_len, "journal entry %zu: cannot hash it", k + 1);
            return VG_ESTATE;
        }
        s->j_id = e->id;
        memcpy(s->j_hash, e->hash, sizeof s->j_hash);
        b->journal[k].id = e->id;
    }
    b->journal_rows_ = s->j_rows;
    return VG_OK;
}

/* The journal's tail back to what it was before batch i was chained. */
static void journal_back_to(struct vg_store *s, const struct group_result *r)
{
    s->j_id = r->j_id;
    memcpy(s->j_hash, r->j_hash, sizeof s->j_hash);
}

/* One transaction for the n batches from `first`, then their done()s in
 * order. The batches are the writer's alone from the moment they leave the
 * queue until their done().
 *
 * A backend that applies each batch in apply() (SQLite) says there whether
 * it failed, and rolls it back alone. One that pipelines (PostgreSQL) may
 * learn of a failure only at settle(), with the transaction gone: the
 * failed batch is set aside and the group starts over without it (its
 * journal entries chained again from the group's start). Failures are
 * rare: a batch that does not fit the schema, which the centre does not
 * send. */
static void run_group(struct vg_store *s, struct vg_store_batch *first, size_t n)
{
    const struct vg_store_ops *ops = s->ops;
    struct group_result *res = s->results;
    char group_err[VG__STORE_ERR_LEN] = "";
    int64_t now_ms = wall_ms();
    pthread_mutex_lock(&s->lock);
    int64_t fence = s->fence;
    pthread_mutex_unlock(&s->lock);

    /* the journal's tail before the group, restored if it is lost */
    int64_t group_j_id = s->j_id;
    uint8_t group_j_hash[VG_JOURNAL_HASH_LEN];
    memcpy(group_j_hash, s->j_hash, sizeof group_j_hash);
    for (size_t j = 0; j < n; j++)
        res[j].excluded = false;

    int group_rc;
    if (fence == VG__STORE_FENCE_LOST) {
        group_rc = VG_ESTATE;
        vg__store_err(group_err, sizeof group_err,
                      "a transaction before this one was lost: nothing is stored until the "
                      "centre starts over from the store");
    } else if (fence < 0) { /* standing by: not a row reaches the database */
        group_rc = VG_ESTATE;
        vg__store_err(group_err, sizeof group_err,
                      "this vigied is standing by: the other site holds the lease");
    } else {
        if (ops->fence)
            ops->fence(s->be, fence);
        group_rc = ops->begin(s->be, group_err, sizeof group_err);
    }
    size_t i = 0;
    struct vg_store_batch *b = first;
    while (group_rc == 0) {
        bool lost = false, settle_first = false;
        if (i < n) {
            if (!res[i].excluded) {
                res[i].err[0] = '\0';
                res[i].j_id = s->j_id;
                memcpy(res[i].j_hash, s->j_hash, sizeof res[i].j_hash);
                int rc = chain_journal(s, b, now_ms, res[i].err, sizeof res[i].err);
                if (rc == 0)
                    rc = ops->apply(s->be, b, now_ms, &lost, res[i].err, sizeof res[i].err);
                b->journal_rows_ = NULL;
                if (rc == VG__STORE_SETTLE) {
                    journal_back_to(s, &res[i]); /* chained again when applied */
                    settle_first = true;
                } else {
                    res[i].rc = rc;
                    if (rc < 0) { /* this batch's entries are not in the journal */
                        journal_back_to(s, &res[i]);
                        res[i].excluded = true;
                    }
                    if (lost) {
                        group_rc = rc < 0 ? rc : VG__STORE_EDB;
                        vg__store_err(group_err, sizeof group_err,
                                      "transaction lost with batch %zu of %zu: %s", i + 1, n,
                                      res[i].err);
                        break;
                    }
                }
            }
            if (!settle_first) {
                i++;
                b = b->next_;
                continue;
            }
        }
        if (!ops->settle)
            break; /* every batch applied */
        /* settle: asked for by apply(), or before the commit */
        struct vg_store_batch *failed = NULL;
        char err[VG__STORE_ERR_LEN] = "";
        int rc = ops->settle(s->be, &failed, &lost, err, sizeof err);
        if (rc == 0) {
            if (i == n)
                break;
            continue; /* batch i, now that nothing is pending */
        }
        size_t k = 0;
        for (struct vg_store_batch *x = first; x != failed && k < n; x = x->next_)
            k++;
        if (lost || !failed || k == n) {
            group_rc = rc;
            vg__store_err(group_err, sizeof group_err, "transaction lost: %s", err);
            break;
        }
        /* batch k failed, and the transaction with it: the group again without it */
        res[k].rc = rc;
        res[k].excluded = true;
        snprintf(res[k].err, sizeof res[k].err, "%s", err);
        s->j_id = group_j_id;
        memcpy(s->j_hash, group_j_hash, sizeof s->j_hash);
        struct vg_store_batch *y = first;
        for (size_t j = 0; j < n; j++, y = y->next_)
            clear_outputs(y);
        i = 0;
        b = first;
    }
    if (group_rc == 0)
        group_rc = ops->commit(s->be, group_err, sizeof group_err);
    if (group_rc < 0) {
        if (fence >= 0) {
            ops->rollback(s->be);
            /* the transaction is lost: the batches queued behind it were
             * made by a centre that had judged what it held (engine states
             * ahead of the store); they fail too, until the centre has
             * started over from the store (vg_store_fence) */
            pthread_mutex_lock(&s->lock);
            if (s->fence_on_loss && s->fence == fence)
                s->fence = VG__STORE_FENCE_LOST;
            pthread_mutex_unlock(&s->lock);
        }
        s->j_id = group_j_id;
        memcpy(s->j_hash, group_j_hash, sizeof group_j_hash);
    } else if (s->j_id != group_j_id) {
        pthread_mutex_lock(&s->lock);
        s->head_id = s->j_id;
        memcpy(s->head_hash, s->j_hash, sizeof s->head_hash);
        pthread_mutex_unlock(&s->lock);
    }
    int64_t committed_ns = vg_mono_ns();

    struct vg_store_batch *d = first;
    for (size_t j = 0; j < n; j++) {
        struct vg_store_batch *next = d->next_; /* d is the caller's again once done() runs */
        int rc = group_rc < 0 ? group_rc : res[j].rc;
        const char *err = group_rc < 0 ? group_err : res[j].err;
        if (rc < 0)
            clear_outputs(d);
        d->committed_ns = committed_ns;
        d->next_ = NULL;
        pthread_mutex_lock(&s->lock);
        s->pending--;
        s->in_done++;
        pthread_mutex_unlock(&s->lock);
        if (d->done)
            d->done(d, rc, rc < 0 ? err : NULL);
        pthread_mutex_lock(&s->lock);
        if (--s->in_done == 0 && s->pending == 0)
            pthread_cond_broadcast(&s->drained);
        pthread_mutex_unlock(&s->lock);
        d = next;
    }
}

/* ---- urgent batches first ---------------------------------------------------- */

/* How far into the queue the writer looks for an urgent batch that may go
 * first: the checks cost a scan of the batches it would pass. */
#define JUMP_WINDOW 256

/* Plain traffic that said which measures it feeds (store.h): the only kind
 * an urgent batch may pass. */
static bool passable(const struct vg_store_batch *b)
{
    return b->declares_fed && !b->urgent && b->n_alarms == 0 && b->n_measures == 0 &&
           b->n_units == 0 && b->n_journal == 0 && b->n_user_defs == 0 && b->n_person_defs == 0 &&
           b->n_measure_changes == 0 && b->n_retention == 0 && b->n_imports == 0 &&
           b->n_incidents == 0 && b->n_incident_steps == 0 && b->n_reports == 0;
}

static bool touches_unit(const struct vg_store_batch *b, int64_t unit_id)
{
    for (size_t i = 0; i < b->n_records; i++)
        if (b->records[i].unit_id == unit_id)
            return true;
    for (size_t i = 0; i < b->n_acks; i++)
        if (b->acks[i].unit_id == unit_id)
            return true;
    return false;
}

static bool touches_measure(const struct vg_store_batch *b, int64_t measure_id)
{
    for (size_t i = 0; i < b->n_states; i++)
        if (b->states[i].measure_id == measure_id)
            return true;
    for (size_t i = 0; i < b->n_measures_fed; i++)
        if (b->measures_fed[i] == measure_id)
            return true;
    for (size_t i = 0; i < b->n_alarms; i++)
        if (b->alarms[i].measure_id == measure_id)
            return true;
    for (size_t i = 0; i < b->n_incidents; i++)
        if (b->incidents[i].measure_id == measure_id)
            return true;
    for (size_t i = 0; i < b->n_reports; i++)
        if (b->reports[i].measure_id == measure_id)
            return true;
    return false;
}

/* Whether the urgent batch u may be committed before the passable batch p
 * queued ahead of it: they share no unit and no measure. The units and
 * measures of a batch of p's kind are all in its records, acknowledgements,
 * states and measures_fed; u is looked through for each of them, whatever
 * it carries. Measures u changes without a state or an alarm (a case file,
 * an account) are not plain traffic of anyone's: those batches never pass
 * nor are passed except as u, and u's own measures are in its alarms,
 * incidents, reports or states. */
static bool independent(const struct vg_store_batch *u, const struct vg_store_batch *p)
{
    for (size_t i = 0; i < p->n_records; i++)
        if (touches_unit(u, p->records[i].unit_id))
            return false;
    for (size_t i = 0; i < p->n_acks; i++)
        if (touches_unit(u, p->acks[i].unit_id))
            return false;
    for (size_t i = 0; i < p->n_states; i++)
        if (touches_measure(u, p->states[i].measure_id))
            return false;
    for (size_t i = 0; i < p->n_measures_fed; i++)
        if (touches_measure(u, p->measures_fed[i]))
            return false;
    return true;
}

/* Under s->lock: the urgent batches near the head of the queue that may be
 * committed before the batches ahead of them (each passes only passable
 * batches it is independent of), taken out of the queue in their order
 * and chained; their number, 0 if none. The walk stops at the first batch
 * that is neither passable nor able to pass: nothing goes past it. */
static size_t take_urgent(struct vg_store *s, struct vg_store_batch **first)
{
    struct vg_store_batch *taken = NULL, *taken_tail = NULL, *prev = NULL, *x = s->head;
    size_t n = 0, seen = 0;
    while (x && seen++ < JUMP_WINDOW && n < GROUP_MAX) {
        struct vg_store_batch *next = x->next_;
        if (x->urgent) {
            bool may = true;
            for (struct vg_store_batch *p = s->head; p != x && may; p = p->next_)
                may = independent(x, p); /* the batches left ahead are passable */
            if (!may)
                break;
            if (prev)
                prev->next_ = next;
            else
                s->head = next;
            if (s->tail == x)
                s->tail = prev;
            x->next_ = NULL;
            if (taken_tail)
                taken_tail->next_ = x;
            else
                taken = x;
            taken_tail = x;
            n++;
        } else if (passable(x)) {
            prev = x;
        } else {
            break;
        }
        x = next;
    }
    *first = taken;
    return n;
}

/* ---- the backend's upkeep ------------------------------------------------- */

/* How long the writer, idle, waits before asking the backend again whether
 * it has upkeep to do, and how long after a failed upkeep. */
#define TIDY_PERIOD_MS  500
#define TIDY_BACKOFF_MS 1000

/* Called with s->lock held, released meanwhile: everything, for
 * vg_store_upkeep_all (whatever the back-off: its caller waits). */
static void tidy_all(struct vg_store *s)
{
    uint64_t asked = s->tidy_all_asked;
    pthread_mutex_unlock(&s->lock);
    char err[VG__STORE_ERR_LEN] = "";
    int rc = s->ops->tidy(s->be, VG__TIDY_ALL, err, sizeof err);
    pthread_mutex_lock(&s->lock);
    s->tidy_all_rc = rc < 0 ? rc : VG_OK;
    snprintf(s->tidy_all_err, sizeof s->tidy_all_err, "%s", err);
    if (rc < 0) {
        s->tidy_failures++;
        snprintf(s->tidy_err, sizeof s->tidy_err, "%s", err);
    }
    s->tidy_all_done = asked;
    pthread_cond_broadcast(&s->drained);
}

/* Called with s->lock held, released meanwhile: one step of the backend's
 * upkeep, if it has any and is not backing off. */
static void tidy_step(struct vg_store *s, bool idle)
{
    if (s->tidy_all_asked > s->tidy_all_done) {
        tidy_all(s);
        return;
    }
    if (vg_mono_ns() < s->tidy_after_ns)
        return;
    pthread_mutex_unlock(&s->lock);
    char err[VG__STORE_ERR_LEN] = "";
    int rc = s->ops->tidy(s->be, idle ? VG__TIDY_IDLE : VG__TIDY_BUSY, err, sizeof err);
    pthread_mutex_lock(&s->lock);
    s->tidy_more = rc > 0;
    if (rc < 0) {
        s->tidy_failures++;
        snprintf(s->tidy_err, sizeof s->tidy_err, "%s", err);
        s->tidy_after_ns = vg_mono_ns() + (int64_t)TIDY_BACKOFF_MS * 1000000;
    }
}

/* Under s->lock: wait for work; meanwhile, the backend's upkeep, a step at
 * a time, each followed by a look at the queue (an alarm arriving waits
 * for one step at most). */
static void wait_for_work(struct vg_store *s)
{
    while (!s->head && !s->closing) {
        if (!s->ops->tidy) {
            pthread_cond_wait(&s->wake, &s->lock);
            continue;
        }
        if ((s->tidy_more && vg_mono_ns() >= s->tidy_after_ns) ||
            s->tidy_all_asked > s->tidy_all_done) {
            tidy_step(s, true);
            continue;
        }
        struct timespec until = vg_cond_deadline(TIDY_PERIOD_MS);
        if (pthread_cond_timedwait(&s->wake, &s->lock, &until) != 0)
            s->tidy_more = true; /* a while idle: is anything due now? */
    }
}

static void *writer_main(void *arg)
{
    struct vg_store *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (s->ops->tidy) /* after each group: what cannot wait, or what is due if idle */
            tidy_step(s, !s->head);
        wait_for_work(s);
        if (!s->head)
            break; /* closing, and nothing left */
        struct vg_store_batch *urgent;
        size_t n_urgent = take_urgent(s, &urgent);
        if (n_urgent) {
            pthread_mutex_unlock(&s->lock);
            run_group(s, urgent, n_urgent);
            pthread_mutex_lock(&s->lock);
            continue;
        }
        /* everything queued, in order, up to GROUP_MAX; but a group stops
         * at its last urgent batch: the alarm's commit does not wait for
         * the rows queued behind it (they go in the next group, order kept) */
        struct vg_store_batch *first = s->head, *last = first, *cut = first->urgent ? first : NULL;
        size_t n = 1, n_cut = 1;
        while (last->next_ && n < GROUP_MAX) {
            last = last->next_;
            n++;
            if (last->urgent) {
                cut = last;
                n_cut = n;
            }
        }
        if (cut) {
            last = cut;
            n = n_cut;
        }
        s->head = last->next_;
        if (!s->head)
            s->tail = NULL;
        pthread_mutex_unlock(&s->lock);
        run_group(s, first, n);
        pthread_mutex_lock(&s->lock);
    }
    /* closing: nobody waits for an upkeep that will not come */
    s->tidy_all_rc = VG_ESTATE;
    snprintf(s->tidy_all_err, sizeof s->tidy_all_err, "the store is closing");
    s->tidy_all_done = s->tidy_all_asked;
    pthread_cond_broadcast(&s->drained);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- reads ---------------------------------------------------------------- */

static int read_begin(struct vg_store *s)
{
    return pthread_mutex_lock(&s->read_lock) == 0 ? VG_OK : VG_ESTATE;
}

static void read_end(struct vg_store *s)
{
    pthread_mutex_unlock(&s->read_lock);
}

int vg_store_units(struct vg_store *s, int (*cb)(void *arg, const struct vg_store_unit_row *u),
                   void *arg)
{
    if (!s || !cb)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->units(s->be, cb, arg);
        read_end(s);
    }
    return rc;
}

int vg_store_measures(struct vg_store *s,
                      int (*cb)(void *arg, const struct vg_store_measure_row *m), void *arg)
{
    if (!s || !cb)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->measures(s->be, cb, arg);
        read_end(s);
    }
    return rc;
}

int vg_store_replay(struct vg_store *s, int64_t measure_id, int64_t since_ms,
                    int (*cb)(void *arg, const struct vg_store_record *r), void *arg)
{
    if (!s || !cb)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->replay(s->be, measure_id, since_ms, cb, arg);
        read_end(s);
    }
    return rc;
}

int vg_store_unit_records(struct vg_store *s, int64_t unit_id, int64_t from_ms, int64_t to_ms,
                          int (*cb)(void *arg, const struct vg_store_record *r), void *arg)
{
    if (!s || !cb)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->unit_records(s->be, unit_id, from_ms, to_ms, cb, arg);
        read_end(s);
    }
    return rc;
}

int vg_store_count_records(struct vg_store *s, int64_t unit_id, int64_t *n)
{
    if (!s || !n)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->count_records(s->be, unit_id, n);
        read_end(s);
    }
    return rc;
}

int vg_store_count_alarms(struct vg_store *s, int64_t measure_id, int64_t *n)
{
    if (!s || !n)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->count_alarms(s->be, measure_id, n);
        read_end(s);
    }
    return rc;
}

int vg_store_alarms(struct vg_store *s, int64_t measure_id, uint32_t after_seq,
                    int (*cb)(void *arg, const struct vg_store_alarm *a), void *arg)
{
    if (!s || !cb)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->alarms(s->be, measure_id, after_seq, cb, arg);
        read_end(s);
    }
    return rc;
}

int vg_store_journal(struct vg_store *s, int64_t after_id,
                     int (*cb)(void *arg, const struct vg_journal_entry *e), void *arg)
{
    if (!s || !cb)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->journal(s->be, after_id, cb, arg);
        read_end(s);
    }
    return rc;
}

int vg_store_statistics(struct vg_store *s, int64_t from_ms, int64_t to_ms,
                        int (*cb)(void *arg, const struct vg_store_stats_row *r), void *arg)
{
    if (!s || !cb)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->statistics(s->be, from_ms, to_ms, cb, arg);
        read_end(s);
    }
    return rc;
}

int vg_store_users(struct vg_store *s, int (*cb)(void *arg, const struct vg_store_user_row *u),
                   void *arg)
{
    if (!s || !cb)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->users(s->be, cb, arg);
        read_end(s);
    }
    return rc;
}

int vg_store_persons(struct vg_store *s, int (*cb)(void *arg, const struct vg_store_person_row *p),
                     void *arg)
{
    if (!s || !cb)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->persons(s->be, cb, arg);
        read_end(s);
    }
    return rc;
}

int vg_store_person(struct vg_store *s, int64_t id, int64_t version, bool all,
                    int (*cb)(void *arg, const struct vg_store_person_row *p), void *arg)
{
    if (!s || !cb || version < 0)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->person(s->be, id, version, all, cb, arg);
        read_end(s);
    }
    return rc;
}

int vg_store_incidents(struct vg_store *s, bool latest_only,
                       int (*cb)(void *arg, const struct vg_incident *inc), void *arg)
{
    if (!s || !cb)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->incidents(s->be, latest_only, cb, arg);
        read_end(s);
    }
    return rc;
}

int vg_store_incident(struct vg_store *s, int64_t id, struct vg_incident *out)
{
    if (!s || !out || id <= 0)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->incident(s->be, id, out);
        read_end(s);
    }
    return rc;
}

int vg_store_incident_steps(struct vg_store *s, int64_t incident_id,
                            int (*cb)(void *arg, const struct vg_store_incident_step *st),
                            void *arg)
{
    if (!s || !cb)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->incident_steps(s->be, incident_id, cb, arg);
        read_end(s);
    }
    return rc;
}

int vg_store_report(struct vg_store *s, int64_t incident_id,
                    int (*cb)(void *arg, const struct vg_store_report *r), void *arg)
{
    if (!s || !cb)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->report(s->be, incident_id, cb, arg);
        read_end(s);
    }
    return rc;
}

int vg_store_session(struct vg_store *s, const uint8_t token_hash[VG_STORE_SESSION_HASH_LEN],
                     int (*cb)(void *arg, const struct vg_store_session_row *r), void *arg)
{
    if (!s || !token_hash || !cb)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc != VG_OK)
        return rc;
    rc = s->ops->session(s->be, token_hash, cb, arg);
    read_end(s);
    return rc;
}

int vg_store_measure_versions(struct vg_store *s, int64_t id,
                              int (*cb)(void *arg, const struct vg_store_measure_version_row *v),
                              void *arg)
{
    if (!s || !cb || id <= 0)
        return VG_EINVAL;
    int rc = read_begin(s);
    if (rc == 0) {
        rc = s->ops->measure_versions(s->be, id, cb, arg);
        read_end(s);
    }
    return rc;
}

struct run_wait {
    pthread_mutex_t m;
    pthread_cond_t c;
    bool done;
    int rc;
    char err[VG__STORE_ERR_LEN];
};

static void run_done(struct vg_store_batch *b, int rc, const char *err)
{
    struct run_wait *w = b->arg;
    pthread_mutex_lock(&w->m);
    w->rc = rc;
    snprintf(w->err, sizeof w->err, "%s", err ? err : "");
    w->done = true;
    pthread_cond_signal(&w->c);
    pthread_mutex_unlock(&w->m);
}

int vg_store_run(struct vg_store *s, struct vg_store_batch *b, char *err, size_t err_len)
{
    struct run_wait w = {.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER};
    b->done = run_done;
    b->arg = &w;
    if (vg_store_submit(s, b) != VG_OK) {
        vg__store_err(err, err_len, "the store is closing");
        return VG_ESTATE;
    }
    pthread_mutex_lock(&w.m);
    while (!w.done)
        pthread_cond_wait(&w.c, &w.m);
    pthread_mutex_unlock(&w.m);
    vg__store_err(err, err_len, "%s", w.err);
    return w.rc;
}
