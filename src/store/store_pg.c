/* The PostgreSQL backend (libpq): two connections, the writer thread's and
 * the readers' (under store.c's read lock), every statement prepared once
 * per connection and reused; values always travel as parameters.
 *
 * The location is a libpq connection string, passed as is: a URI
 * (postgresql://user@host1:5432,host2:5432/vigie?target_session_attrs=
 * read-write picks the primary among several hosts) or "postgresql:"
 * followed by the key=value form. The database must exist; an empty one
 * gets the schema (store.c's migrations, the same list as SQLite's).
 *
 * Settings, and why:
 *   synchronous_commit=on   a COMMIT returns once its WAL is flushed to
 *                           disk (and, with synchronous standbys named by
 *                           the server, received by them): done() says 0
 *                           only for what survives a crash. Set on the
 *                           writer's session whatever the server's default.
 *   fsync must be on        checked at open: with fsync=off a commit is
 *                           not durable whatever the session says, and the
 *                           store refuses the server rather than lie.
 *   pipeline mode           the writer queues a group's statements without
 *                           waiting for each one's answer (libpq 14+): one
 *                           round trip per group (plus the commit), not one
 *                           per statement. Queued batches have no savepoint
 *                           (pg_settle says why): a statement that fails
 *                           takes the transaction with it, and store.c
 *                           applies the group again without its batch
 *                           (store_backend.h, settle). Batches that need an
 *                           answer before going on (provisioning, versions,
 *                           retention: the admin path) run one statement at
 *                           a time, each batch in a savepoint.
 *   arrays                  a batch's fixes, statuses and events go in one
 *                           statement per table (unnest of arrays), its
 *                           engine states and acknowledgements too: the
 *                           cost of a statement is paid per batch, not per
 *                           record.
 *
 * Fixes are partitioned by month of reception (received_ms, the centre's
 * clock): the month being written is a small table whose index stays in
 * memory, and old months can be dropped whole once retention has emptied
 * them. The store creates the partitions: at open the current month and
 * the next, before each group the months of now and of ten days ahead (in
 * a transaction of their own), and within a batch any other month it
 * needs (a clock far off, an import).
 *
 * A partitioned table has no unique index across partitions, so (unit,
 * seq) cannot be a key there: the fixes' key is (unit, seq, received_ms),
 * and an insert skips a fix already stored by looking for its (unit, seq)
 * in the partitions received from the fix's own time less a day on (the
 * unit records a fix before it sends it: a resend is received later than
 * the first copy, which was itself received after the fix's time, give or
 * take the unit's clock). A fix whose own time was more than a day ahead
 * of its reception (a unit clock far ahead) would escape that search: its
 * key also goes to fixes_ahead, a small plain table looked up as well. So
 * a resend is skipped wherever its first copy went. Two different fixes
 * claiming the same (unit, seq) with own times more than a day apart (a
 * unit's sequence restarting) are both kept, where SQLite keeps the first.
 *
 * Reads fetch each statement's whole result before calling back (so that
 * a callback may read in turn on the same connection), in pages for what
 * can be long (records, the journal, units, measures, incidents): a page's
 * statement takes up where the previous one stopped, by key. Pages are
 * separate statements: a long iteration does not see one snapshot, but
 * sees each row once and only committed ones. */
#include <libpq-fe.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/civil.h"
#include "store/store_backend.h"

/* A fix is looked for in the partitions from its own time less this on. */
#define PROBE_SLACK_MS 86400000LL
/* Queued statements beyond which a batch settles the pipeline first (the
 * answers to read stay well within the socket's buffers). */
#define SETTLE_AT 256
/* A batch with more row statements than this takes the admin path. */
#define HOT_ROWS_MAX 128
/* Rows per page of the long reads (measures carry their state). */
#define PAGE_ROWS     4096
#define PAGE_MEASURES 512
/* The advisory lock that serialises two processes migrating one database. */
#define MIGRATION_LOCK 1447512389 /* "VGIE" */
#define MS_PER_DAY     86400000LL

/* ---- the writer's statements --------------------------------------------------------------- */

enum {
    W_BEGIN,
    W_COMMIT,
    W_ROLLBACK,
    W_SAVEPOINT,
    W_RELEASE,
    W_ROLLBACK_TO,
    W_FIXES,
    W_STATUSES,
    W_EVENTS,
    W_ALARM,
    W_STATES,
    W_ACK_CHECK,
    W_ACKS,
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
    W_PARTITIONS,
    W_FENCE,
    W_SESSION_OPEN,
    W_SESSION_TOUCH,
    W_SESSION_END,
    W_SESSION_END_USER,
    W_SESSION_END_EXPIRED,
    W__COUNT
};

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

/* The units a measure named, each with the time it served it: from the
 * measure's declaration to the declaration of the next measure naming it. */
#define MINE                                                                                       \
    "WITH me AS (SELECT created_ms, vg_json(definition) #>> '{units,author}' AS a, "               \
    "vg_json(definition) #>> '{units,protected}' AS p FROM measures WHERE id = $1), "              \
    "mine AS (SELECT u.id AS unit_id, me.created_ms AS since, coalesce((SELECT min(o.created_ms) " \
    "FROM measures o WHERE o.created_ms > me.created_ms AND u.serial IN "                          \
    "(vg_json(o.definition) #>> '{units,author}', vg_json(o.definition) #>> '{units,protected}')"  \
    "), 9223372036854775807) AS until FROM units u, me WHERE u.serial IN (me.a, me.p)) "
#define PURGE(table)                                                                               \
    MINE "DELETE FROM " table " WHERE (unit_id, seq) IN (SELECT x.unit_id, x.seq FROM " table      \
         " x JOIN mine ON mine.unit_id = x.unit_id WHERE x.received_ms >= mine.since "             \
         "AND x.received_ms < mine.until LIMIT $2)"
/* The persons' files the versions of measure $1 name (op "=") or those of
 * every other measure (op "<>"), as JSON numbers. */
#define PERSONS_OF(op)                                                                             \
    "SELECT vg_json(definition) #> '{persons,author}' FROM measure_versions "                      \
    "WHERE measure_id " op " $1 AND "                                                              \
    "jsonb_typeof(vg_json(definition) #> '{persons,author}') = 'number' "                          \
    "UNION SELECT vg_json(definition) #> '{persons,protected}' FROM measure_versions "             \
    "WHERE measure_id " op " $1 AND "                                                              \
    "jsonb_typeof(vg_json(definition) #> '{persons,protected}') = 'number'"

// clang-format off
static const char *const write_sql[W__COUNT] = {
    [W_BEGIN] = "BEGIN",
    /* after BEGIN when the lease is held (store.c's migration 11) */
    [W_FENCE] = "SELECT vg_fence($1)",
    /* the consoles' sessions (store.h) */
    [W_SESSION_OPEN] = "INSERT INTO sessions (token_hash, user_name, created_ms, last_ms) "
                       "VALUES ($1, $2, $3, $4)",
    [W_SESSION_TOUCH] = "UPDATE sessions SET last_ms = $2 WHERE token_hash = $1 AND last_ms < $2",
    [W_SESSION_END] = "DELETE FROM sessions WHERE token_hash = $1",
    [W_SESSION_END_USER] = "DELETE FROM sessions WHERE user_name = $1",
    [W_SESSION_END_EXPIRED] = "DELETE FROM sessions WHERE last_ms < $1 OR created_ms < $2",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
    [W_SAVEPOINT] = "SAVEPOINT vg_batch",
    [W_RELEASE] = "RELEASE SAVEPOINT vg_batch",
    [W_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT vg_batch",
    /* A batch's fixes: the first of each (unit, seq) in the batch, unless
     * stored already (see the top of the file); the count inserted. */
    [W_FIXES] =
        "WITH r AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], "
        "$4::smallint[], $5::integer[], $6::integer[], $7::bigint[], $8::integer[], "
        "$9::integer[], $10::bigint[], $11::bigint[], $12::boolean[]) WITH ORDINALITY "
        "AS r(unit_id, seq, t_ms, quality, lat_e7, lon_e7, accuracy_cm, speed_cms, "
        "heading_cdeg, received_ms, probe_from, ahead, ord)), "
        "fresh AS (SELECT DISTINCT ON (r.unit_id, r.seq) r.* FROM r "
        "WHERE NOT EXISTS (SELECT 1 FROM fixes f WHERE f.unit_id = r.unit_id "
        "AND f.seq = r.seq AND f.received_ms >= r.probe_from) "
        "AND NOT EXISTS (SELECT 1 FROM fixes_ahead a WHERE a.unit_id = r.unit_id "
        "AND a.seq = r.seq) ORDER BY r.unit_id, r.seq, r.ord), "
        "ins AS (INSERT INTO fixes (unit_id, seq, t_ms, quality, lat_e7, lon_e7, accuracy_cm, "
        "speed_cms, heading_cdeg, received_ms) SELECT unit_id, seq, t_ms, quality, lat_e7, "
        "lon_e7, accuracy_cm, speed_cms, heading_cdeg, received_ms FROM fresh ORDER BY ord "
        "RETURNING 1), "
        "ahead AS (INSERT INTO fixes_ahead (unit_id, seq) SELECT unit_id, seq FROM fresh "
        "WHERE ahead ON CONFLICT DO NOTHING) "
        "SELECT count(*) FROM ins",
    [W_STATUSES] =
        "INSERT INTO statuses (unit_id, seq, t_ms, subject, battery, charging, strap_closed, "
        "skin_contact, bracelet_link, received_ms, beacon_heard, beacon_range_m) "
        "SELECT u, s, t, sub, bat, chg, strap, skin, link, rcv, bh, br FROM unnest("
        "$1::bigint[], $2::bigint[], $3::bigint[], $4::smallint[], $5::smallint[], "
        "$6::smallint[], $7::smallint[], $8::smallint[], $9::smallint[], $10::bigint[], "
        "$11::smallint[], $12::integer[]) WITH ORDINALITY AS r(u, s, t, sub, bat, chg, strap, "
        "skin, link, rcv, bh, br, ord) ORDER BY ord ON CONFLICT DO NOTHING",
    [W_EVENTS] =
        "INSERT INTO events (unit_id, seq, t_ms, kind, received_ms) "
        "SELECT u, s, t, k, rcv FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], "
        "$4::smallint[], $5::bigint[]) WITH ORDINALITY AS r(u, s, t, k, rcv, ord) "
        "ORDER BY ord ON CONFLICT DO NOTHING",
    [W_ALARM] = "INSERT INTO alarms (" ALARM_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                "$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, "
                "$25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35) ON CONFLICT DO NOTHING",
    /* the last state of each measure in the batch */
    [W_STATES] =
        "INSERT INTO engine_states (measure_id, version, state, updated_ms) "
        "SELECT DISTINCT ON (m) m, v, decode(s, 'hex'), $4::bigint FROM unnest($1::bigint[], "
        "$2::bigint[], $3::text[]) WITH ORDINALITY AS t(m, v, s, ord) ORDER BY m, ord DESC "
        "ON CONFLICT (measure_id) DO UPDATE SET version = excluded.version, "
        "state = excluded.state, updated_ms = excluded.updated_ms",
    [W_ACK_CHECK] =
        "SELECT vg_fail('ack ' || (a.ord - 1) || ': unit ' || a.u || ' is not provisioned', "
        "'P0002') FROM unnest($1::bigint[]) WITH ORDINALITY AS a(u, ord) "
        "WHERE NOT EXISTS (SELECT 1 FROM units x WHERE x.id = a.u)",
    /* never down: a late batch with an older ack leaves the newer one */
    [W_ACKS] =
        "UPDATE units x SET acked_seq = a.s FROM (SELECT u, max(s) AS s FROM "
        "unnest($1::bigint[], $2::bigint[]) AS t(u, s) GROUP BY u) a "
        "WHERE x.id = a.u AND x.acked_seq < a.s",
    [W_MEASURE] = "INSERT INTO measures (name, definition, created_ms, updated_ms, status) "
                  "VALUES ($1, $2, $3, $3, $4) RETURNING id",
    [W_MEASURE_CHANGE] = "UPDATE measures SET version = version + $6::bigint, "
                         "definition = coalesce($2::text, definition), "
                         "status = coalesce($3::text, status), "
                         "end_reason = coalesce($4::text, end_reason), "
                         "installation = coalesce($5::text, installation), updated_ms = $7, "
                         "ended_ms = CASE WHEN $3::text = 'ended' THEN $7 ELSE ended_ms END "
                         "WHERE id = $1 AND ($8::bigint = 0 OR version = $8::bigint) "
                         "RETURNING version, definition, status, end_reason",
    [W_MEASURE_CURRENT] = "SELECT version FROM measures WHERE id = $1",
    [W_MEASURE_VERSION] = "INSERT INTO measure_versions (measure_id, version, definition, status, "
                          "end_reason, note, actor, created_ms) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    [W_FIND_MEASURE] = "SELECT id FROM measures WHERE name = $1",
    [W_UNIT] = "INSERT INTO units (serial, role, measure_id, created_ms) VALUES ($1, $2, $3, $4) "
               "ON CONFLICT (serial) DO UPDATE SET role = excluded.role, "
               "measure_id = excluded.measure_id RETURNING id",
    [W_USER_INSERT] = "INSERT INTO users (name, role, court, password_hash, disabled, created_ms, "
                      "updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    [W_USER_UPDATE] = "UPDATE users SET role = coalesce($2::text, role), "
                      "court = coalesce($3::text, court), "
                      "password_hash = coalesce($4::text, password_hash), "
                      "disabled = coalesce($5::smallint, disabled), updated_ms = $6 "
                      "WHERE name = $1 RETURNING id",
    [W_PERSON_INSERT] = "INSERT INTO persons (id, version, display, created_ms, updated_ms) "
                        "VALUES ($1, 1, $2, $3, $3)",
    [W_PERSON_UPDATE] = "UPDATE persons SET version = version + 1, display = $2, updated_ms = $3 "
                        "WHERE id = $1 AND ($4::bigint = 0 OR version = $4::bigint) "
                        "RETURNING version",
    [W_PERSON_VERSION] = "INSERT INTO person_versions (person_id, version, data, actor, "
                         "created_ms) VALUES ($1, $2, $3, $4, $5)",
    [W_PERSON_CURRENT] = "SELECT version FROM persons WHERE id = $1",
    [W_ARCHIVE] = "UPDATE measures SET archived = 1 WHERE id = $1 AND status = 'ended'",
    [W_INCIDENT] = "INSERT INTO incidents (" INCIDENT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, "
                   "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (id) DO UPDATE "
                   "SET state = excluded.state, priority = excluded.priority, "
                   "escalation = excluded.escalation, last_alarm_seq = excluded.last_alarm_seq, "
                   "n_alarms = excluded.n_alarms, n_steps = excluded.n_steps, "
                   "taken_ms = excluded.taken_ms, last_step_ms = excluded.last_step_ms, "
                   "closed_ms = excluded.closed_ms, escalated_ms = excluded.escalated_ms, "
                   "operator = excluded.operator",
    [W_INCIDENT_STEP] = "INSERT INTO incident_steps (incident_id, n, kind, outcome, text, "
                        "operator, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [W_REPORT] = "INSERT INTO reports (incident_id, measure_id, created_ms, recipients, content) "
                 "VALUES ($1, $2, $3, $4, $5)",
    [W_IMPORT_MEASURE] = "INSERT INTO measures (name, definition, created_ms, updated_ms, status, "
                         "version, end_reason, installation, ended_ms) "
                         "VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8) RETURNING id",
    [W_IMPORT_PERSON] = "INSERT INTO persons (id, version, display, created_ms, updated_ms) "
                        "VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO UPDATE SET "
                        "version = excluded.version, display = excluded.display, "
                        "updated_ms = excluded.updated_ms",
    [W_IMPORT_JOURNAL] = "INSERT INTO imported_journal (source, measure_name, id, at_ms, actor, "
                         "action, subject, detail, prev_hash, hash) "
                         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    [W_MEASURE_ENDED] = "SELECT 1 FROM measures WHERE id = $1 AND status = 'ended'",
    /* fixes: by key with its reception, and their entries in fixes_ahead */
    [W_PURGE_FIXES] =
        MINE ", gone AS (DELETE FROM fixes WHERE (unit_id, seq, received_ms) IN "
        "(SELECT x.unit_id, x.seq, x.received_ms FROM fixes x JOIN mine ON mine.unit_id = "
        "x.unit_id WHERE x.received_ms >= mine.since AND x.received_ms < mine.until LIMIT $2) "
        "RETURNING unit_id, seq), "
        "ahead AS (DELETE FROM fixes_ahead a USING gone WHERE a.unit_id = gone.unit_id "
        "AND a.seq = gone.seq) SELECT count(*) FROM gone",
    [W_PURGE_STATUSES] = PURGE("statuses"),
    [W_PURGE_EVENTS] = PURGE("events"),
    [W_DELETE_PERSON_VERSIONS] = "DELETE FROM person_versions WHERE to_jsonb(person_id) IN ("
                                 PERSONS_OF("=") ") AND to_jsonb(person_id) NOT IN ("
                                 PERSONS_OF("<>") ")",
    [W_DELETE_PERSONS] = "DELETE FROM persons WHERE to_jsonb(id) IN (" PERSONS_OF("=") ") "
                         "AND to_jsonb(id) NOT IN (" PERSONS_OF("<>") ")",
    [W_DELETE_ALARMS] = "DELETE FROM alarms WHERE measure_id = $1",
    [W_DELETE_STEPS] = "DELETE FROM incident_steps WHERE incident_id IN "
                       "(SELECT id FROM incidents WHERE measure_id = $1)",
    [W_DELETE_REPORTS] = "DELETE FROM reports WHERE measure_id = $1",
    [W_DELETE_INCIDENTS] = "DELETE FROM incidents WHERE measure_id = $1",
    [W_DELETE_STATE] = "DELETE FROM engine_states WHERE measure_id = $1",
    [W_DELETE_VERSIONS] = "DELETE FROM measure_versions WHERE measure_id = $1",
    [W_UNASSIGN_UNITS] = "UPDATE units SET measure_id = NULL WHERE measure_id = $1",
    [W_DELETE_MEASURE] = "DELETE FROM measures WHERE id = $1 AND status = 'ended'",
    [W_JOURNAL] = "INSERT INTO journal (id, at_ms, actor, action, subject, detail, prev_hash, "
                  "hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    /* the fixes' partitions: name and bounds (MINVALUE, MAXVALUE or a number) */
    [W_PARTITIONS] = "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                     "JOIN pg_class c ON c.oid = i.inhrelid "
                     "WHERE i.inhparent = 'fixes'::regclass",
};

/* ---- the readers' statements --------------------------------------------------------------- */

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
    R_SESSION,
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
    R__COUNT
};

/* The three record tables as one list of (received, unit, seq, type, time,
 * up to eight values), in pages: the rows after a key (received, unit, seq). */
#define RECORDS_KEY(k1, k2, k3)                                                                    \
    " AND (x.received_ms, x.unit_id, x.seq) > ($" k1 "::bigint, $" k2 "::bigint, $" k3 "::bigint)"
#define RECORDS_FROM(table, type, values, where)                                                   \
    "SELECT x.received_ms AS received_ms, x.unit_id AS unit_id, x.seq AS seq, " type " AS type, "  \
    "x.t_ms AS t_ms, " values " FROM " table " x JOIN units u ON u.id = x.unit_id WHERE " where
#define RECORDS_ALL(where)                                                                         \
    RECORDS_FROM("fixes", "1",                                                                     \
                 "x.quality::integer, x.lat_e7::integer, x.lon_e7::bigint, x.accuracy_cm::bigint, " \
                 "x.speed_cms::integer, x.heading_cdeg::integer, NULL::integer, NULL::integer",    \
                 where)                                                                            \
    " UNION ALL "                                                                                  \
    RECORDS_FROM("statuses", "2",                                                                  \
                 "x.subject::integer, x.battery::integer, x.charging::bigint, "                    \
                 "x.strap_closed::bigint, x.skin_contact::integer, x.bracelet_link::integer, "     \
                 "x.beacon_heard::integer, x.beacon_range_m::integer",                             \
                 where)                                                                            \
    " UNION ALL "                                                                                  \
    RECORDS_FROM("events", "3",                                                                    \
                 "x.kind::integer, NULL::integer, NULL::bigint, NULL::bigint, NULL::integer, "     \
                 "NULL::integer, NULL::integer, NULL::integer",                                    \
                 where)                                                                            \
    " ORDER BY received_ms, unit_id, seq"

static const char *const read_sql[R__COUNT] = {
    [R_UNITS] = "SELECT id, serial, role, measure_id, acked_seq FROM units WHERE id > $1 "
                "ORDER BY id LIMIT $2",
    [R_MEASURES] = "SELECT m.id, m.name, m.definition, s.version, s.state, m.version, m.status, "
                   "m.end_reason, m.installation, m.created_ms, m.ended_ms, m.archived "
                   "FROM measures m LEFT JOIN engine_states s ON s.measure_id = m.id "
                   "WHERE m.id > $1 ORDER BY m.id LIMIT $2",
    [R_MEASURE_VERSIONS] = "SELECT measure_id, version, definition, status, end_reason, note, "
                           "actor, created_ms FROM measure_versions WHERE measure_id = $1 "
                           "ORDER BY version DESC",
    /* $1 measure, $2 since; page after ($3, $4, $5), $6 rows */
    [R_REPLAY] = RECORDS_ALL("u.measure_id = $1 AND x.received_ms >= $2"
                             RECORDS_KEY("3", "4", "5")) " LIMIT $6",
    [R_INCIDENTS] = "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id > $1 ORDER BY id "
                    "LIMIT $2",
    [R_LATEST_INCIDENTS] = "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id IN "
                           "(SELECT max(id) FROM incidents GROUP BY measure_id) AND id > $1 "
                           "ORDER BY id LIMIT $2",
    [R_INCIDENT] = "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id = $1",
    [R_INCIDENT_STEPS] = "SELECT incident_id, n, kind, outcome, text, operator, at_ms "
                         "FROM incident_steps WHERE incident_id = $1 ORDER BY n",
    [R_REPORT] = "SELECT incident_id, measure_id, created_ms, recipients, content FROM reports "
                 "WHERE incident_id = $1",
    /* $1 unit, [$2, $3); page after ($4, $5, $6), $7 rows */
    [R_UNIT_RECORDS] = RECORDS_ALL("x.unit_id = $1 AND x.received_ms >= $2 AND x.received_ms < $3"
                                   RECORDS_KEY("4", "5", "6")) " LIMIT $7",
    [R_COUNT_RECORDS] = "SELECT (SELECT count(*) FROM fixes WHERE unit_id = $1) + "
                        "(SELECT count(*) FROM statuses WHERE unit_id = $1) + "
                        "(SELECT count(*) FROM events WHERE unit_id = $1)",
    [R_COUNT_ALARMS] = "SELECT count(*) FROM alarms WHERE measure_id = $1",
    [R_ALARMS] = "SELECT " ALARM_COLUMNS " FROM alarms WHERE measure_id = $1 AND seq > $2 "
                 "ORDER BY seq",
    [R_JOURNAL] = "SELECT id, at_ms, actor, action, subject, detail, prev_hash, hash "
                  "FROM journal WHERE id > $1 ORDER BY id LIMIT $2",
    [R_JOURNAL_TAIL] = "SELECT id, hash FROM journal ORDER BY id DESC LIMIT 1",
    [R_SESSION] = "SELECT user_name, created_ms, last_ms FROM sessions WHERE token_hash = $1",
    [R_USERS] = "SELECT id, name, role, court, password_hash, disabled FROM users ORDER BY id",
    [R_PERSONS] = "SELECT id, version, display, updated_ms FROM persons ORDER BY id",
    /* $2 = 0: the current version */
    [R_PERSON] = "SELECT p.id, v.version, p.display, v.data, v.actor, v.created_ms "
                 "FROM persons p JOIN person_versions v ON v.person_id = p.id "
                 "WHERE p.id = $1 AND v.version = CASE WHEN $2::bigint = 0 THEN p.version "
                 "ELSE $2::bigint END",
    [R_PERSON_VERSIONS] = "SELECT p.id, v.version, p.display, v.data, v.actor, v.created_ms "
                          "FROM persons p JOIN person_versions v ON v.person_id = p.id "
                          "WHERE p.id = $1 ORDER BY v.version DESC",
    /* as SQLite's: versions, then alarms counted by kind and UTC month */
    [R_STATISTICS] = "SELECT m.id, 0, coalesce(vg_json(m.definition) ->> 'court', ''), "
                     "v.version, v.status, v.end_reason, v.created_ms, 0, 0::bigint, 0::bigint "
                     "FROM measures m JOIN measure_versions v ON v.measure_id = m.id "
                     "UNION ALL "
                     "SELECT a.measure_id, 1, '', 0, '', '', 0, a.kind, min(a.raised_ms), "
                     "count(*) FROM alarms a WHERE a.raised_ms >= $1 AND a.raised_ms < $2 "
                     "GROUP BY a.measure_id, a.kind, "
                     "CASE WHEN a.raised_ms BETWEEN -62135596800000 AND 253402300799999 THEN "
                     "to_char(to_timestamp(div(a.raised_ms, 1000)) AT TIME ZONE 'UTC', "
                     "'YYYY-MM') END "
                     "ORDER BY 1, 2, 4",
};
// clang-format on

/* ---- text and parameters ------------------------------------------------------------------- */

/* A growing text buffer; `oom` once an allocation failed. */
struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void buf_reset(struct buf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->p)
        b->p[0] = '\0';
}

static bool buf_room(struct buf *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (!buf_room(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_free(struct buf *b)
{
    free(b->p);
    *b = (struct buf){0};
}

/* Array literals: "{1,NULL,3}". */
static void arr_sep(struct buf *b)
{
    if (b->len == 0)
        buf_add(b, "{", 1);
    else
        buf_add(b, ",", 1);
}

static void arr_int(struct buf *b, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)v);
    arr_sep(b);
    buf_add(b, num, (size_t)n);
}

static void arr_opt(struct buf *b, bool has, int64_t v)
{
    if (has) {
        arr_int(b, v);
    } else {
        arr_sep(b);
        buf_add(b, "NULL", 4);
    }
}

static void arr_bool(struct buf *b, bool v)
{
    arr_sep(b);
    buf_add(b, v ? "t" : "f", 1);
}

/* bytes as a quoted hex string ("" for none), for decode(x, 'hex') */
static void arr_hex(struct buf *b, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    arr_sep(b);
    if (!buf_room(b, 2 * n + 2))
        return;
    b->p[b->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        b->p[b->len++] = digits[p[i] >> 4];
        b->p[b->len++] = digits[p[i] & 15];
    }
    b->p[b->len++] = '"';
    b->p[b->len] = '\0';
}

static void arr_end(struct buf *b)
{
    if (b->len == 0)
        buf_add(b, "{", 1);
    buf_add(b, "}", 1);
}

/* A statement's parameters: numbers formatted in place, text and bytes
 * borrowed (libpq copies them when the statement is sent). */
#define MAX_ARGS 40

struct args {
    int n;
    const char *v[MAX_ARGS];
    int len[MAX_ARGS];
    int fmt[MAX_ARGS];
    char num[MAX_ARGS][32];
};

static void a_init(struct args *a)
{
    a->n = 0;
}

static int a_next(struct args *a)
{
    if (a->n >= MAX_ARGS)
        abort(); /* a statement with more parameters than declared: a bug */
    int i = a->n++;
    a->len[i] = 0;
    a->fmt[i] = 0;
    return i;
}

static void a_int(struct args *a, int64_t v)
{
    int i = a_next(a);
    snprintf(a->num[i], sizeof a->num[i], "%lld", (long long)v);
    a->v[i] = a->num[i];
}

static void a_null(struct args *a)
{
    a->v[a_next(a)] = NULL;
}

static void a_opt(struct args *a, bool has, int64_t v)
{
    if (has)
        a_int(a, v);
    else
        a_null(a);
}

static void a_text(struct args *a, const char *s)
{
    a->v[a_next(a)] = s; /* NULL: SQL NULL */
}

static void a_bytes(struct args *a, const void *p, size_t len)
{
    int i = a_next(a);
    a->v[i] = p ? (const char *)p : "";
    a->len[i] = (int)len;
    a->fmt[i] = 1;
}

/* NaN is NULL (as SQLite stores it); the rest exactly (17 digits). */
static void a_real(struct args *a, double v)
{
    int i = a_next(a);
    if (isnan(v)) {
        a->v[i] = NULL;
        return;
    }
    if (isinf(v))
        snprintf(a->num[i], sizeof a->num[i], "%s", v > 0 ? "Infinity" : "-Infinity");
    else
        snprintf(a->num[i], sizeof a->num[i], "%.17g", v);
    a->v[i] = a->num[i];
}

static void a_buf(struct args *a, const struct buf *b)
{
    a->v[a_next(a)] = b->p ? b->p : "{}";
}

/* ---- results ------------------------------------------------------------------------------- */

static int64_t col_int(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool col_has(const PGresult *r, int row, int col)
{
    return !PQgetisnull(r, row, col);
}

static double col_real(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? (double)NAN : strtod(PQgetvalue(r, row, col), NULL);
}

static const char *col_str(const PGresult *r, int row, int col)
{
    return PQgetvalue(r, row, col); /* "" for NULL */
}

static int8_t col_status_value(const PGresult *r, int row, int col)
{
    return col_has(r, row, col) ? (int8_t)col_int(r, row, col) : VG__STORE_STATUS_UNKNOWN;
}

/* A bytea column (text format: "\x..."), malloc'd by libpq (PQfreemem);
 * NULL if the value is NULL or cannot be decoded. */
static unsigned char *col_bytes(const PGresult *r, int row, int col, size_t *len)
{
    *len = 0;
    if (PQgetisnull(r, row, col))
        return NULL;
    return PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), len);
}

/* A hash column as stored: 32 bytes, or zeros if it is not. */
static void col_hash(const PGresult *r, int row, int col, uint8_t out[VG_JOURNAL_HASH_LEN])
{
    size_t len;
    unsigned char *p = col_bytes(r, row, col, &len);
    if (p && len == VG_JOURNAL_HASH_LEN)
        memcpy(out, p, VG_JOURNAL_HASH_LEN);
    else
        memset(out, 0, VG_JOURNAL_HASH_LEN);
    PQfreemem(p);
}

static bool result_ok(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* A failed statement as a vg_err; constraint violations are the caller's
 * data, anything else is the database's trouble. */
static int map_state(const char *sqlstate)
{
    if (!sqlstate)
        return VG__STORE_EDB;
    if (strcmp(sqlstate, "23505") == 0)
        return VG_EDUPLICATE;
    if (strcmp(sqlstate, "23503") == 0 || strcmp(sqlstate, "P0002") == 0)
        return VG_ENOTFOUND;
    if (strcmp(sqlstate, "23514") == 0 || strcmp(sqlstate, "23502") == 0)
        return VG_EINVAL;
    if (strncmp(sqlstate, "22", 2) == 0)
        return VG_ERANGE;
    return VG__STORE_EDB;
}

static int result_rc(const PGresult *r)
{
    return map_state(r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL);
}

/* "what: message (detail)" from a failed result or the connection. */
static void result_err(char *err, size_t err_len, PGconn *c, const PGresult *r, const char *what)
{
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
    if (!msg) {
        msg = PQerrorMessage(c);
        if (!msg || !*msg)
            msg = r && PQresultStatus(r) == PGRES_PIPELINE_ABORTED ? "skipped" : "no answer";
    }
    char clean[VG__STORE_ERR_LEN];
    snprintf(clean, sizeof clean, "%s", msg);
    size_t n = strlen(clean);
    while (n > 0 && (clean[n - 1] == '\n' || clean[n - 1] == ' '))
        clean[--n] = '\0';
    if (detail)
        vg__store_err(err, err_len, "%s: %s (%s)", what, clean, detail);
    else
        vg__store_err(err, err_len, "%s: %s", what, clean);
}

/* A statement's prepared name: "w3", "r12". */
static const char *stmt_name(char buf[16], char prefix, int stmt)
{
    snprintf(buf, 16, "%c%d", prefix, stmt);
    return buf;
}

static PGresult *exec_named(PGconn *c, char prefix, int stmt, const struct args *a)
{
    char name[16];
    return PQexecPrepared(c, stmt_name(name, prefix, stmt), a ? a->n : 0, a ? a->v : NULL,
                          a ? a->len : NULL, a ? a->fmt : NULL, 0);
}

/* ---- the backend --------------------------------------------------------------------------- */

/* What a queued statement's answer means. */
enum pending_kind {
    P_PLAIN,    /* ok or failed, nothing to read */
    P_COUNT,    /* one row: rows inserted, added to n_inserted */
    P_INSERTED, /* the command's row count added to n_inserted */
};

struct pending {
    struct vg_store_batch *b; /* NULL: the group's (BEGIN, a partition) */
    uint8_t kind;
    uint8_t stmt;
    uint32_t index;
};

/* struct pending's stmt for fixed SQL (a partition's DDL). */
#define STMT_SQL 0xff

/* A month's partition of fixes: [lo, hi). */
struct part {
    int64_t lo, hi;
};

struct vg_store_backend {
    char *conninfo;
    PGconn *w; /* the writer thread's (migrations at open) */
    PGconn *r; /* the readers', under store.c's read lock */
    PGconn *l; /* the lease's (one thread), connected at its first use */
    bool w_prepared, r_prepared;
    int64_t fence; /* the epoch every write transaction checks (0: none) */

    /* the writer's group */
    bool in_txn;       /* BEGIN sent */
    bool pipeline;     /* in pipeline mode, answers pending */
    bool created_part; /* a partition created in this transaction */
    bool careful;      /* a batch failed in this group: the rest one by one */
    struct pending *q;
    size_t nq, q_cap;
    struct args wa;
    struct buf cols[12]; /* array parameters of the records' statements */
    struct buf sql;      /* DDL text */

    /* the fixes' partitions as last read (or created); reread when stale */
    struct part *parts;
    size_t n_parts, parts_cap;
    bool parts_stale;
    size_t last_part;

    struct args ra;
};

/* ---- connections --------------------------------------------------------------------------- */

static int prepare_all(PGconn *c, char prefix, const char *const *sql, int n, char *err,
                       size_t err_len)
{
    for (int i = 0; i < n; i++) {
        char name[16];
        PGresult *r = PQprepare(c, stmt_name(name, prefix, i), sql[i], 0, NULL);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) {
            char what[64];
            snprintf(what, sizeof what, "cannot prepare statement %s", name);
            result_err(err, err_len, c, r, what);
        }
        PQclear(r);
        if (!ok)
            return VG__STORE_EDB;
    }
    return VG_OK;
}

/* Run fixed SQL (settings, DDL) outside pipeline mode; 0 or the error. */
static int exec_simple(PGconn *c, const char *sql, char *err, size_t err_len, const char *what)
{
    PGresult *r = PQexec(c, sql);
    int rc = VG_OK;
    if (!result_ok(r)) {
        rc = r ? result_rc(r) : VG__STORE_EDB;
        if (rc != VG_EFORMAT && rc != VG_ERANGE)
            rc = VG__STORE_EDB;
        result_err(err, err_len, c, r, what);
    }
    PQclear(r);
    return rc;
}

static void notice_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* notices (a partition that exists already) are not errors */
}

/* Defaults the location's own settings override (they come after): a host
 * that does not answer is given up after 10 s (libpq would wait for TCP's
 * own time-out, minutes), and the next host tried. */
static int connect_one(const char *conninfo, PGconn **out, char *err, size_t err_len)
{
    const char *keys[] = {"connect_timeout", "dbname", "fallback_application_name", NULL};
    const char *values[] = {"10", conninfo, "vigied", NULL};
    PGconn *c = PQconnectdbParams(keys, values, 1);
    *out = c;
    if (!c) {
        vg__store_err(err, err_len, "cannot connect to PostgreSQL: out of memory");
        return VG_ENOSPC;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        result_err(err, err_len, c, NULL, "cannot connect to PostgreSQL");
        return VG__STORE_EDB;
    }
    PQsetNoticeProcessor(c, notice_quiet, NULL);
    if (PQserverVersion(c) < 120000) {
        vg__store_err(err, err_len, "PostgreSQL %d.%d is too old: 12 or later is needed",
                      PQserverVersion(c) / 10000, PQserverVersion(c) / 100 % 100);
        return VG__STORE_EDB;
    }
    return VG_OK;
}

/* The writer's session: durable commits, and a server that can keep them. */
static int setup_writer(struct vg_store_backend *be, char *err, size_t err_len)
{
    /* A writer that stops half-way through a transaction (a paused
     * process, a frozen host) is cut off by the server after 2 s: its
     * transaction would hold the lease's row (vg_fence) and its locks, and
     * the other site could not take over. Its next group connects again. */
    int rc = exec_simple(be->w,
                         "SET synchronous_commit = on; SET client_min_messages = warning; "
                         "SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 2000",
                         err, err_len, "writer's session");
    if (rc < 0)
        return rc;
    PGresult *r = PQexec(be->w, "SHOW fsync");
    bool fsync_on = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                    strcmp(PQgetvalue(r, 0, 0), "on") == 0;
    PQclear(r);
    if (!fsync_on) {
        vg__store_err(err, err_len,
                      "the PostgreSQL server runs with fsync off: a commit would not survive a "
                      "crash, and units would be told their records are stored");
        return VG_EINVAL; /* a server to set up, not one to wait for (vigied.c) */
    }
    return VG_OK;
}

static int prepare_writer(struct vg_store_backend *be, char *err, size_t err_len)
{
    int rc = prepare_all(be->w, 'w', write_sql, W__COUNT, err, err_len);
    be->w_prepared = rc == VG_OK;
    return rc;
}

static int setup_reader(struct vg_store_backend *be, char *err, size_t err_len)
{
    int rc = exec_simple(be->r,
                         "SET default_transaction_read_only = on; "
                         "SET client_min_messages = warning",
                         err, err_len, "readers' session");
    if (rc == VG_OK)
        rc = prepare_all(be->r, 'r', read_sql, R__COUNT, err, err_len);
    be->r_prepared = rc == VG_OK;
    return rc;
}

/* After a lost connection: connect again (libpq tries the hosts again, so
 * target_session_attrs finds the new primary after a fail-over). */
static int reconnect_writer(struct vg_store_backend *be, char *err, size_t err_len)
{
    if (PQstatus(be->w) == CONNECTION_OK && be->w_prepared)
        return VG_OK;
    be->w_prepared = false;
    be->pipeline = false;
    be->nq = 0;
    be->in_txn = false;
    be->parts_stale = true;
    PQreset(be->w);
    if (PQstatus(be->w) != CONNECTION_OK) {
        result_err(err, err_len, be->w, NULL, "cannot connect to PostgreSQL again");
        return VG__STORE_EDB;
    }
    PQsetNoticeProcessor(be->w, notice_quiet, NULL);
    int rc = setup_writer(be, err, err_len);
    return rc < 0 ? rc : prepare_writer(be, err, err_len);
}

/* ---- migrations ---------------------------------------------------------------------------- */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One integer (or text) from a set-up query; false on failure. */
static bool query_one(PGconn *c, const char *sql, char *out, size_t out_len, bool *is_null)
{
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok) {
        *is_null = PQgetisnull(r, 0, 0);
        snprintf(out, out_len, "%s", PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    return ok;
}

/* Recognise the database, then bring its schema up to date, in one
 * transaction under an advisory lock (two processes opening a new database
 * at once: one creates, the other waits and then finds the schema there).
 * The schema is that of the connection's search path. */
static int migrate(struct vg_store_backend *be, char *err, size_t err_len)
{
    PGconn *c = be->w;
    char text[256];
    bool is_null = false;
    int rc = exec_simple(c, "BEGIN", err, err_len, "migrations");
    if (rc < 0)
        return rc;
    char lock[96];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%d)", MIGRATION_LOCK);
    if ((rc = exec_simple(c, lock, err, err_len, "migrations")) < 0)
        goto fail;
    if (!query_one(c, "SELECT to_regclass('schema_migrations') IS NOT NULL", text, sizeof text,
                   &is_null)) {
        result_err(err, err_len, c, NULL, "cannot read the schema");
        rc = VG__STORE_EDB;
        goto fail;
    }
    int64_t current = 0;
    if (strcmp(text, "t") != 0) {
        if (!query_one(c,
                       "SELECT count(*) FROM pg_class k JOIN pg_namespace n ON n.oid = "
                       "k.relnamespace WHERE n.nspname = current_schema() AND k.relkind IN "
                       "('r', 'p', 'v', 'm', 'f')",
                       text, sizeof text, &is_null)) {
            result_err(err, err_len, c, NULL, "cannot read the schema");
            rc = VG__STORE_EDB;
            goto fail;
        }
        if (strtoll(text, NULL, 10) > 0) {
            vg__store_err(err, err_len,
                          "PostgreSQL database %s is not a Vigie database (it has tables, but "
                          "no schema_migrations): give an empty database",
                          PQdb(c));
            rc = VG_EFORMAT;
            goto fail;
        }
        if ((rc = exec_simple(c,
                              "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                              "applied_ms BIGINT NOT NULL); "
                              "COMMENT ON TABLE schema_migrations IS 'Vigie'",
                              err, err_len, "migrations")) < 0)
            goto fail;
    } else {
        if (!query_one(c, "SELECT obj_description('schema_migrations'::regclass, 'pg_class')", text,
                       sizeof text, &is_null)) {
            result_err(err, err_len, c, NULL, "cannot read the schema");
            rc = VG__STORE_EDB;
            goto fail;
        }
        if (is_null || strcmp(text, "Vigie") != 0) {
            vg__store_err(err, err_len,
                          "PostgreSQL database %s is not a Vigie database (its "
                          "schema_migrations is another application's)",
                          PQdb(c));
            rc = VG_EFORMAT;
            goto fail;
        }
        if (!query_one(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", text,
                       sizeof text, &is_null)) {
            result_err(err, err_len, c, NULL, "cannot read the schema's version");
            rc = VG__STORE_EDB;
            goto fail;
        }
        current = strtoll(text, NULL, 10);
    }
    int latest = vg__store_migrations[vg__store_n_migrations - 1].version;
    if (current > latest) {
        vg__store_err(err, err_len,
                      "PostgreSQL database %s: the schema is at version %lld, newer than this "
                      "program knows (%d): use a newer vigied",
                      PQdb(c), (long long)current, latest);
        rc = VG_ERANGE;
        goto fail;
    }
    int64_t now_ms = wall_ms();
    for (size_t i = 0; i < vg__store_n_migrations; i++) {
        const struct vg__store_migration *m = &vg__store_migrations[i];
        if (m->version <= current)
            continue;
        char *sql = vg__store_migration_sql(m, VG__STORE_POSTGRESQL);
        if (!sql) {
            vg__store_err(err, err_len, "out of memory");
            rc = VG_ENOSPC;
            goto fail;
        }
        char what[160];
        snprintf(what, sizeof what, "migration %d (%s)", m->version, m->name);
        rc = *sql ? exec_simple(c, sql, err, err_len, what) : VG_OK; /* another backend's step */
        free(sql);
        if (rc < 0) {
            rc = VG__STORE_EDB;
            goto fail;
        }
        struct args a;
        a_init(&a);
        a_int(&a, m->version);
        a_int(&a, now_ms);
        PGresult *r =
            PQexecParams(c, "INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)",
                         a.n, NULL, a.v, a.len, a.fmt, 0);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            result_err(err, err_len, c, r, what);
        PQclear(r);
        if (!ok) {
            rc = VG__STORE_EDB;
            goto fail;
        }
    }
    PGresult *r = PQexec(c, "COMMIT");
    bool committed = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
    if (!committed)
        result_err(err, err_len, c, r, "migrations: commit");
    PQclear(r);
    return committed ? VG_OK : VG__STORE_EDB;

fail:
    PQclear(PQexec(c, "ROLLBACK"));
    return rc;
}

/* ---- the fixes' partitions ----------------------------------------------------------------- */

/* A bound of pg_get_expr's "FOR VALUES FROM ('1') TO ('2')" after `word`. */
static bool parse_bound(const char *text, const char *word, int64_t *out)
{
    const char *p = strstr(text, word);
    if (!p)
        return false;
    p += strlen(word);
    while (*p == ' ' || *p == '(' || *p == '\'')
        p++;
    if (strncmp(p, "MINVALUE", 8) == 0) {
        *out = INT64_MIN;
        return true;
    }
    if (strncmp(p, "MAXVALUE", 8) == 0) {
        *out = INT64_MAX;
        return true;
    }
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p)
        return false;
    *out = v;
    return true;
}

static int load_parts(struct vg_store_backend *be, char *err, size_t err_len)
{
    PGresult *r = exec_named(be->w, 'w', W_PARTITIONS, NULL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        result_err(err, err_len, be->w, r, "the fixes' partitions");
        PQclear(r);
        return VG__STORE_EDB;
    }
    size_t n = (size_t)PQntuples(r);
    if (n > be->parts_cap) {
        struct part *p = realloc(be->parts, n * sizeof *p);
        if (!p) {
            PQclear(r);
            vg__store_err(err, err_len, "out of memory");
            return VG_ENOSPC;
        }
        be->parts = p;
        be->parts_cap = n;
    }
    be->n_parts = 0;
    for (size_t i = 0; i < n; i++) {
        const char *bound = PQgetvalue(r, (int)i, 1);
        struct part p;
        if (parse_bound(bound, "FROM", &p.lo) && parse_bound(bound, " TO", &p.hi))
            be->parts[be->n_parts++] = p;
        /* a DEFAULT partition (made by hand) takes what no other one does:
         * not listed, so that months get their own */
    }
    PQclear(r);
    be->parts_stale = false;
    be->last_part = 0;
    return VG_OK;
}

static bool has_part(struct vg_store_backend *be, int64_t ms)
{
    if (be->last_part < be->n_parts && ms >= be->parts[be->last_part].lo &&
        ms < be->parts[be->last_part].hi)
        return true;
    for (size_t i = 0; i < be->n_parts; i++)
        if (ms >= be->parts[i].lo && ms < be->parts[i].hi) {
            be->last_part = i;
            return true;
        }
    return false;
}

/* The UTC month of ms: its bounds [lo, hi) (clamped to the 64-bit range:
 * MINVALUE and MAXVALUE) and its name. */
static void month_of(int64_t ms, int64_t *lo, int64_t *hi, char *name, size_t name_len)
{
    struct vg_date d = vg_date_from_days(vg_floor_div(ms, MS_PER_DAY));
    struct vg_date first = {d.year, d.month, 1};
    struct vg_date next = d.month == 12 ? (struct vg_date){d.year + 1, 1, 1}
                                        : (struct vg_date){d.year, d.month + 1, 1};
    int64_t lo_days = vg_date_to_days(first), hi_days = vg_date_to_days(next);
    if (__builtin_mul_overflow(lo_days, MS_PER_DAY, lo))
        *lo = INT64_MIN;
    if (__builtin_mul_overflow(hi_days, MS_PER_DAY, hi))
        *hi = INT64_MAX;
    snprintf(name, name_len, "fixes_%lld_%02u", (long long)d.year, (unsigned)d.month);
}

/* The DDL creating the partition of ms's month (into be->sql). */
static bool partition_sql(struct vg_store_backend *be, int64_t ms, struct part *p)
{
    char name[64], bounds[96];
    month_of(ms, &p->lo, &p->hi, name, sizeof name);
    char lo[24], hi[24];
    if (p->lo == INT64_MIN)
        snprintf(lo, sizeof lo, "MINVALUE");
    else
        snprintf(lo, sizeof lo, "%lld", (long long)p->lo);
    if (p->hi == INT64_MAX)
        snprintf(hi, sizeof hi, "MAXVALUE");
    else
        snprintf(hi, sizeof hi, "%lld", (long long)p->hi);
    snprintf(bounds, sizeof bounds, "FROM (%s) TO (%s)", lo, hi);
    buf_reset(&be->sql);
    buf_str(&be->sql, "CREATE TABLE IF NOT EXISTS \"");
    buf_str(&be->sql, name);
    buf_str(&be->sql, "\" PARTITION OF fixes FOR VALUES ");
    buf_str(&be->sql, bounds);
    return !be->sql.oom;
}

static int add_part(struct vg_store_backend *be, struct part p, char *err, size_t err_len)
{
    if (be->n_parts == be->parts_cap) {
        size_t cap = be->parts_cap ? 2 * be->parts_cap : 16;
        struct part *x = realloc(be->parts, cap * sizeof *x);
        if (!x) {
            vg__store_err(err, err_len, "out of memory");
            return VG_ENOSPC;
        }
        be->parts = x;
        be->parts_cap = cap;
    }
    be->parts[be->n_parts++] = p;
    return VG_OK;
}

/* The partition of ms's month, created now in a transaction of its own if
 * it is missing (outside any group: nothing pending on the writer). */
static int ensure_part_now(struct vg_store_backend *be, int64_t ms, char *err, size_t err_len)
{
    int rc;
    if (be->parts_stale && (rc = load_parts(be, err, err_len)) < 0)
        return rc;
    if (has_part(be, ms))
        return VG_OK;
    struct part p;
    if (!partition_sql(be, ms, &p)) {
        vg__store_err(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    if ((rc = exec_simple(be->w, be->sql.p, err, err_len, "a partition of fixes")) < 0)
        return rc;
    /* its bounds as the catalog has them (a partition made by hand may
     * have taken the month's name or part of it) */
    return load_parts(be, err, err_len);
}

/* ---- the writer: queueing ------------------------------------------------------------------ */

static int push_pending(struct vg_store_backend *be, struct vg_store_batch *b, uint8_t kind,
                        int stmt, size_t index)
{
    if (be->nq == be->q_cap) {
        size_t cap = be->q_cap ? 2 * be->q_cap : 256;
        struct pending *q = realloc(be->q, cap * sizeof *q);
        if (!q)
            return VG_ENOSPC;
        be->q = q;
        be->q_cap = cap;
    }
    be->q[be->nq++] =
        (struct pending){.b = b, .kind = kind, .stmt = (uint8_t)stmt, .index = (uint32_t)index};
    return VG_OK;
}

/* Queue a prepared statement (pipeline mode). On failure nothing more can
 * be sent: the transaction is lost. */
static int send_w(struct vg_store_backend *be, int stmt, const struct args *a,
                  struct vg_store_batch *b, uint8_t kind, size_t index, char *err, size_t err_len)
{
    char name[16];
    if (!PQsendQueryPrepared(be->w, stmt_name(name, 'w', stmt), a ? a->n : 0, a ? a->v : NULL,
                             a ? a->len : NULL, a ? a->fmt : NULL, 0)) {
        result_err(err, err_len, be->w, NULL, "cannot send a statement");
        return VG__STORE_EDB;
    }
    if (push_pending(be, b, kind, stmt, index) < 0) {
        vg__store_err(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    return VG_OK;
}

/* Queue fixed SQL (a partition's DDL) in the pipeline. */
static int send_sql(struct vg_store_backend *be, const char *sql, char *err, size_t err_len)
{
    if (!PQsendQueryParams(be->w, sql, 0, NULL, NULL, NULL, NULL, 0)) {
        result_err(err, err_len, be->w, NULL, "cannot send a statement");
        return VG__STORE_EDB;
    }
    if (push_pending(be, NULL, P_PLAIN, STMT_SQL, 0) < 0) {
        vg__store_err(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    return VG_OK;
}

static int pipeline_on(struct vg_store_backend *be, char *err, size_t err_len)
{
    if (be->pipeline)
        return VG_OK;
    if (!PQenterPipelineMode(be->w)) {
        result_err(err, err_len, be->w, NULL, "cannot enter pipeline mode");
        return VG__STORE_EDB;
    }
    be->pipeline = true;
    return VG_OK;
}

/* The lease's check after a pipelined BEGIN (none without a lease). Its
 * failure is the group's: no batch is to blame. */
static int send_fence(struct vg_store_backend *be, char *err, size_t err_len)
{
    if (be->fence <= 0)
        return VG_OK;
    struct args a;
    a_init(&a);
    a_int(&a, be->fence);
    return send_w(be, W_FENCE, &a, NULL, P_PLAIN, 0, err, err_len);
}

/* ---- the writer: executing one statement (the admin path) ---------------------------------- */

/* Run a prepared statement and wait for it (out of pipeline mode). The
 * result for the caller to read and clear, or NULL with rc and err set. */
static PGresult *exec_w(struct vg_store_backend *be, int stmt, const struct args *a, int *rc,
                        char *err, size_t err_len, const char *what)
{
    PGresult *r = exec_named(be->w, 'w', stmt, a);
    if (result_ok(r)) {
        *rc = VG_OK;
        return r;
    }
    *rc = r ? result_rc(r) : VG__STORE_EDB;
    result_err(err, err_len, be->w, r, what);
    PQclear(r);
    return NULL;
}

/* The same, for a statement whose answer is only ok or not. */
static int run_w(struct vg_store_backend *be, int stmt, const struct args *a, char *err,
                 size_t err_len, const char *what)
{
    int rc;
    PQclear(exec_w(be, stmt, a, &rc, err, err_len, what));
    return rc;
}

/* ---- the records of a batch as arrays ------------------------------------------------------ */

/* The batch's records into be->cols, then queued or run: fixes, statuses,
 * events, one statement each. Checked first, so that a refused batch
 * sends nothing. */
static int check_records(const struct vg_store_batch *b, char *err, size_t err_len)
{
    for (size_t i = 0; i < b->n_records; i++) {
        const struct vg_proto_record *p = &b->records[i].rec;
        if (p->seq > VG__STORE_MAX_SEQ) {
            vg__store_err(err, err_len, "record %zu: sequence number %llu beyond 2^63", i,
                          (unsigned long long)p->seq);
            return VG_ERANGE;
        }
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
            break;
        }
        case VG_REC_STATUS:
        case VG_REC_EVENT:
        case VG_REC_HEARTBEAT: break;
        default:
            vg__store_err(err, err_len, "record %zu: unknown record type %u", i, p->type);
            return VG_EINVAL;
        }
    }
    return VG_OK;
}

/* Build the arrays of one record type; false if there is none of it, or
 * memory ran out (be->cols[0].oom then). */
static bool build_fixes(struct vg_store_backend *be, const struct vg_store_batch *b)
{
    for (int k = 0; k < 12; k++)
        buf_reset(&be->cols[k]);
    bool any = false;
    for (size_t i = 0; i < b->n_records; i++) {
        const struct vg_store_record *r = &b->records[i];
        if (r->rec.type != VG_REC_FIX)
            continue;
        any = true;
        struct vg__store_fix_row row;
        vg__store_fix_encode(&r->rec.fix, &row); /* checked before */
        int64_t probe_from =
            row.t_ms > INT64_MIN + PROBE_SLACK_MS ? row.t_ms - PROBE_SLACK_MS : INT64_MIN;
        bool ahead = probe_from > r->received_ms;
        struct buf *c = be->cols;
        arr_int(&c[0], r->unit_id);
        arr_int(&c[1], (int64_t)r->rec.seq);
        arr_int(&c[2], row.t_ms);
        arr_int(&c[3], row.quality);
        arr_opt(&c[4], row.has_position, row.lat_e7);
        arr_opt(&c[5], row.has_position, row.lon_e7);
        arr_opt(&c[6], row.has_position, row.accuracy_cm);
        arr_opt(&c[7], row.has_speed, row.speed_cms);
        arr_opt(&c[8], row.has_heading, row.heading_cdeg);
        arr_int(&c[9], r->received_ms);
        arr_int(&c[10], probe_from);
        arr_bool(&c[11], ahead);
    }
    for (int k = 0; k < 12 && any; k++)
        arr_end(&be->cols[k]);
    return any;
}

static bool build_statuses(struct vg_store_backend *be, const struct vg_store_batch *b)
{
    for (int k = 0; k < 12; k++)
        buf_reset(&be->cols[k]);
    bool any = false;
    for (size_t i = 0; i < b->n_records; i++) {
        const struct vg_store_record *r = &b->records[i];
        if (r->rec.type != VG_REC_STATUS)
            continue;
        any = true;
        const struct vg_unit_status *s = &r->rec.status;
        struct buf *c = be->cols;
        arr_int(&c[0], r->unit_id);
        arr_int(&c[1], (int64_t)r->rec.seq);
        arr_int(&c[2], s->time_ms);
        arr_int(&c[3], r->rec.subject);
        arr_opt(&c[4], s->battery_pct != VG__STORE_STATUS_UNKNOWN, s->battery_pct);
        arr_opt(&c[5], s->charging != VG__STORE_STATUS_UNKNOWN, s->charging);
        arr_opt(&c[6], s->strap_closed != VG__STORE_STATUS_UNKNOWN, s->strap_closed);
        arr_opt(&c[7], s->skin_contact != VG__STORE_STATUS_UNKNOWN, s->skin_contact);
        arr_opt(&c[8], s->bracelet_link != VG__STORE_STATUS_UNKNOWN, s->bracelet_link);
        arr_int(&c[9], r->received_ms);
        arr_opt(&c[10], s->beacon_heard != VG__STORE_STATUS_UNKNOWN, s->beacon_heard);
        arr_opt(&c[11], s->beacon_range_m >= 0, s->beacon_range_m);
    }
    for (int k = 0; k < 12 && any; k++)
        arr_end(&be->cols[k]);
    return any;
}

static bool build_events(struct vg_store_backend *be, const struct vg_store_batch *b)
{
    for (int k = 0; k < 5; k++)
        buf_reset(&be->cols[k]);
    bool any = false;
    for (size_t i = 0; i < b->n_records; i++) {
        const struct vg_store_record *r = &b->records[i];
        if (r->rec.type != VG_REC_EVENT && r->rec.type != VG_REC_HEARTBEAT)
            continue;
        any = true;
        struct buf *c = be->cols;
        arr_int(&c[0], r->unit_id);
        arr_int(&c[1], (int64_t)r->rec.seq);
        arr_int(&c[2], r->rec.event.time_ms);
        arr_int(&c[3], r->rec.type == VG_REC_HEARTBEAT ? VG_EVENT_HEARTBEAT : r->rec.event.kind);
        arr_int(&c[4], r->received_ms);
    }
    for (int k = 0; k < 5 && any; k++)
        arr_end(&be->cols[k]);
    return any;
}

static bool cols_oom(const struct vg_store_backend *be)
{
    for (int k = 0; k < 12; k++)
        if (be->cols[k].oom)
            return true;
    return false;
}

/* How a part of a batch goes to the server: queued in the pipeline (its
 * answer read at settle) or run and waited for. */
struct sender {
    struct vg_store_backend *be;
    struct vg_store_batch *b;
    bool pipelined;
    char *err;
    size_t err_len;
};

/* One statement of the batch: queued, or run with its count of records
 * inserted taken at once. index: the row's in its array (SIZE_MAX: the
 * statement takes the whole array). */
static int put(struct sender *s, int stmt, const struct args *a, uint8_t kind, size_t index,
               const char *what)
{
    if (s->pipelined)
        return send_w(s->be, stmt, a, s->b, kind, index, s->err, s->err_len);
    int rc;
    char label[96];
    if (index == SIZE_MAX)
        snprintf(label, sizeof label, "%s", what);
    else
        snprintf(label, sizeof label, "%s %zu", what, index);
    PGresult *r = exec_w(s->be, stmt, a, &rc, s->err, s->err_len, label);
    if (!r)
        return rc;
    if (kind == P_COUNT && PQntuples(r) == 1)
        s->b->n_inserted += (size_t)col_int(r, 0, 0);
    else if (kind == P_INSERTED)
        s->b->n_inserted += (size_t)strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return VG_OK;
}

static int put_records(struct sender *s)
{
    struct vg_store_backend *be = s->be;
    const struct vg_store_batch *b = s->b;
    if (b->n_records == 0)
        return VG_OK;
    struct args *a = &be->wa;
    int rc;
    if (build_fixes(be, b)) {
        if (cols_oom(be))
            goto oom;
        a_init(a);
        for (int k = 0; k < 12; k++)
            a_buf(a, &be->cols[k]);
        if ((rc = put(s, W_FIXES, a, P_COUNT, SIZE_MAX, "fixes")) < 0)
            return rc;
    }
    if (build_statuses(be, b)) {
        if (cols_oom(be))
            goto oom;
        a_init(a);
        for (int k = 0; k < 12; k++)
            a_buf(a, &be->cols[k]);
        if ((rc = put(s, W_STATUSES, a, P_INSERTED, SIZE_MAX, "statuses")) < 0)
            return rc;
    }
    if (build_events(be, b)) {
        if (cols_oom(be))
            goto oom;
        a_init(a);
        for (int k = 0; k < 5; k++)
            a_buf(a, &be->cols[k]);
        if ((rc = put(s, W_EVENTS, a, P_INSERTED, SIZE_MAX, "events")) < 0)
            return rc;
    }
    return VG_OK;
oom:
    vg__store_err(s->err, s->err_len, "out of memory");
    return VG_ENOSPC;
}

static void a_alarm_fix(struct args *a, const struct vg_fix *f)
{
    a_int(a, f->time_ms);
    a_real(a, f->lat_deg);
    a_real(a, f->lon_deg);
    a_real(a, (double)f->accuracy_m);
    a_real(a, (double)f->speed_mps);
    a_real(a, (double)f->heading_deg);
    a_int(a, f->quality);
}

static int put_alarms(struct sender *s)
{
    struct args *a = &s->be->wa;
    for (size_t i = 0; i < s->b->n_alarms; i++) {
        const struct vg_alarm *x = &s->b->alarms[i].alarm;
        const struct vg_alarm_evidence *ev = &x->ev;
        a_init(a);
        a_int(a, s->b->alarms[i].measure_id);
        a_int(a, x->seq);
        a_int(a, x->kind);
        a_int(a, x->unit);
        a_int(a, x->priority);
        a_int(a, x->flags);
        a_int(a, x->level_from);
        a_int(a, x->level_to);
        a_int(a, x->zone_index);
        a_int(a, x->zone_id);
        a_int(a, x->at_ms);
        a_int(a, x->raised_ms);
        a_real(a, ev->distance_m);
        a_real(a, ev->uncertainty_m);
        a_real(a, ev->threshold_m);
        a_real(a, ev->closing_speed_mps);
        a_real(a, ev->author_closed_m);
        a_real(a, ev->protected_closed_m);
        a_real(a, ev->reach_m);
        a_int(a, ev->approached_by);
        a_int(a, ev->confidence);
        a_alarm_fix(a, &ev->author_fix);
        a_alarm_fix(a, &ev->protected_fix);
        int rc = put(s, W_ALARM, a, P_PLAIN, i, "alarm");
        if (rc < 0)
            return rc;
    }
    return VG_OK;
}

static int check_states(const struct vg_store_batch *b, char *err, size_t err_len)
{
    for (size_t i = 0; i < b->n_states; i++)
        if (!b->states[i].blob && b->states[i].len > 0) {
            vg__store_err(err, err_len, "state %zu: %u bytes at NULL", i, b->states[i].len);
            return VG_EINVAL;
        }
    return VG_OK;
}

static int put_states(struct sender *s, int64_t now_ms)
{
    struct vg_store_backend *be = s->be;
    const struct vg_store_batch *b = s->b;
    if (b->n_states == 0)
        return VG_OK;
    for (int k = 0; k < 3; k++)
        buf_reset(&be->cols[k]);
    for (size_t i = 0; i < b->n_states; i++) {
        const struct vg_store_state *st = &b->states[i];
        arr_int(&be->cols[0], st->measure_id);
        arr_int(&be->cols[1], st->version);
        arr_hex(&be->cols[2], st->blob, st->len);
    }
    for (int k = 0; k < 3; k++)
        arr_end(&be->cols[k]);
    if (cols_oom(be)) {
        vg__store_err(s->err, s->err_len, "out of memory");
        return VG_ENOSPC;
    }
    struct args *a = &be->wa;
    a_init(a);
    a_buf(a, &be->cols[0]);
    a_buf(a, &be->cols[1]);
    a_buf(a, &be->cols[2]);
    a_int(a, now_ms);
    return put(s, W_STATES, a, P_PLAIN, SIZE_MAX, "states");
}

static int check_acks(const struct vg_store_batch *b, char *err, size_t err_len)
{
    for (size_t i = 0; i < b->n_acks; i++)
        if (b->acks[i].acked_seq > VG__STORE_MAX_SEQ) {
            vg__store_err(err, err_len, "ack %zu: sequence number beyond 2^63", i);
            return VG_ERANGE;
        }
    return VG_OK;
}

static int put_acks(struct sender *s)
{
    struct vg_store_backend *be = s->be;
    const struct vg_store_batch *b = s->b;
    if (b->n_acks == 0)
        return VG_OK;
    buf_reset(&be->cols[0]);
    buf_reset(&be->cols[1]);
    for (size_t i = 0; i < b->n_acks; i++) {
        arr_int(&be->cols[0], b->acks[i].unit_id);
        arr_int(&be->cols[1], (int64_t)b->acks[i].acked_seq);
    }
    arr_end(&be->cols[0]);
    arr_end(&be->cols[1]);
    if (cols_oom(be)) {
        vg__store_err(s->err, s->err_len, "out of memory");
        return VG_ENOSPC;
    }
    struct args *a = &be->wa;
    a_init(a);
    a_buf(a, &be->cols[0]);
    int rc = put(s, W_ACK_CHECK, a, P_PLAIN, SIZE_MAX, "acks");
    if (rc < 0)
        return rc;
    a_buf(a, &be->cols[1]);
    return put(s, W_ACKS, a, P_PLAIN, SIZE_MAX, "acks");
}

static int check_incidents(const struct vg_store_batch *b, char *err, size_t err_len)
{
    for (size_t i = 0; i < b->n_incidents; i++)
        if (b->incidents[i].id <= 0 || b->incidents[i].measure_id <= 0) {
            vg__store_err(err, err_len, "incident %zu: an id and a measure are needed", i);
            return VG_EINVAL;
        }
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
    }
    for (size_t i = 0; i < b->n_reports; i++) {
        const struct vg_store_report *r = &b->reports[i];
        if (r->incident_id <= 0 || r->measure_id <= 0 || !r->recipients || !r->content) {
            vg__store_err(err, err_len,
                          "report %zu: an incident, a measure, recipients and a content are "
                          "needed",
                          i);
            return VG_EINVAL;
        }
    }
    return VG_OK;
}

static int put_incidents(struct sender *s)
{
    struct args *a = &s->be->wa;
    const struct vg_store_batch *b = s->b;
    for (size_t i = 0; i < b->n_incidents; i++) {
        const struct vg_incident *x = &b->incidents[i];
        const int64_t v[16] = {
            x->id,          x->measure_id, x->previous_id,     x->state,          x->priority,
            x->escalation,  x->first_kind, x->first_alarm_seq, x->last_alarm_seq, x->n_alarms,
            x->n_steps,     x->opened_ms,  x->taken_ms,        x->last_step_ms,   x->closed_ms,
            x->escalated_ms};
        a_init(a);
        for (int k = 0; k < 16; k++)
            a_int(a, v[k]);
        a_text(a, x->operator_name);
        int rc = put(s, W_INCIDENT, a, P_PLAIN, i, "incident");
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < b->n_incident_steps; i++) {
        const struct vg_store_incident_step *x = &b->incident_steps[i];
        a_init(a);
        a_int(a, x->incident_id);
        a_int(a, x->n);
        a_int(a, x->kind);
        a_int(a, x->outcome);
        a_text(a, x->text ? x->text : "");
        a_text(a, x->operator_name);
        a_int(a, x->at_ms);
        int rc = put(s, W_INCIDENT_STEP, a, P_PLAIN, i, "incident step");
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < b->n_reports; i++) {
        const struct vg_store_report *r = &b->reports[i];
        a_init(a);
        a_int(a, r->incident_id);
        a_int(a, r->measure_id);
        a_int(a, r->created_ms);
        a_text(a, r->recipients);
        a_text(a, r->content);
        int rc = put(s, W_REPORT, a, P_PLAIN, i, "report");
        if (rc < 0)
            return rc;
    }
    return VG_OK;
}

/* The batch's journal entries, numbered and chained by store.c. */
static int put_journal(struct sender *s)
{
    struct args *a = &s->be->wa;
    const struct vg_store_batch *b = s->b;
    for (size_t i = 0; i < b->n_journal && b->journal_rows_; i++) {
        const struct vg_journal_entry *e = &b->journal_rows_[i];
        a_init(a);
        a_int(a, e->id);
        a_int(a, e->at_ms);
        a_text(a, e->actor);
        a_text(a, e->action);
        a_text(a, e->subject);
        a_text(a, e->detail);
        a_bytes(a, e->prev, VG_JOURNAL_HASH_LEN);
        a_bytes(a, e->hash, VG_JOURNAL_HASH_LEN);
        int rc = put(s, W_JOURNAL, a, P_PLAIN, i, "journal entry");
        if (rc < 0)
            return rc;
    }
    return VG_OK;
}

/* The months of the batch's fixes without a partition: their DDL, queued
 * or run before the batch's savepoint (a partition is not the batch's to
 * undo: if the group is lost, the list is read again). */
static int put_partitions(struct vg_store_backend *be, const struct vg_store_batch *b,
                          bool pipelined, char *err, size_t err_len)
{
    int rc;
    for (size_t i = 0; i < b->n_records; i++) {
        const struct vg_store_record *r = &b->records[i];
        if (r->rec.type != VG_REC_FIX)
            continue;
        /* pipelined, pg_apply has read the list again already */
        if (be->parts_stale && (rc = load_parts(be, err, err_len)) < 0)
            return rc;
        if (has_part(be, r->received_ms))
            continue;
        struct part p;
        if (!partition_sql(be, r->received_ms, &p)) {
            vg__store_err(err, err_len, "out of memory");
            return VG_ENOSPC;
        }
        if (pipelined)
            rc = send_sql(be, be->sql.p, err, err_len);
        else
            rc = exec_simple(be->w, be->sql.p, err, err_len, "a partition of fixes");
        if (rc < 0)
            return rc;
        if ((rc = add_part(be, p, err, err_len)) < 0)
            return rc;
        be->created_part = true;
    }
    return VG_OK;
}

/* ---- the writer: the admin path ------------------------------------------------------------ */

static int put_measures(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                        char *err, size_t err_len)
{
    struct args *a = &be->wa;
    for (size_t i = 0; i < b->n_measures; i++) {
        struct vg_store_measure_def *m = &b->measures[i];
        if (!m->name || !*m->name || !m->definition) {
            vg__store_err(err, err_len, "measure %zu: a name and a definition are needed", i);
            return VG_EINVAL;
        }
        const char *status = m->status ? m->status : "pending_installation";
        a_init(a);
        a_text(a, m->name);
        a_text(a, m->definition);
        a_int(a, now_ms);
        a_text(a, status);
        int rc;
        PGresult *r = exec_w(be, W_MEASURE, a, &rc, err, err_len, "measure");
        if (!r) {
            if (rc == VG_EDUPLICATE)
                vg__store_err(err, err_len, "a measure named '%s' exists already", m->name);
            return rc;
        }
        m->id = col_int(r, 0, 0);
        PQclear(r);
        a_init(a);
        a_int(a, m->id);
        a_int(a, 1);
        a_text(a, m->definition);
        a_text(a, status);
        a_text(a, "");
        a_text(a, "declared");
        a_text(a, m->actor ? m->actor : "");
        a_int(a, now_ms);
        if ((rc = run_w(be, W_MEASURE_VERSION, a, err, err_len, "measure version")) < 0)
            return rc;
    }
    return VG_OK;
}

static int put_measure_changes(struct vg_store_backend *be, struct vg_store_batch *b,
                               int64_t now_ms, char *err, size_t err_len)
{
    struct args *a = &be->wa;
    for (size_t i = 0; i < b->n_measure_changes; i++) {
        struct vg_store_measure_change *c = &b->measure_changes[i];
        bool versioned = c->definition || c->status;
        if (c->measure_id <= 0 || !c->actor || (!versioned && !c->installation)) {
            vg__store_err(err, err_len, "measure change %zu: a measure, an actor and a change", i);
            return VG_EINVAL;
        }
        a_init(a);
        a_int(a, c->measure_id);
        a_text(a, c->definition);
        a_text(a, c->status);
        a_text(a, c->end_reason);
        a_text(a, c->installation);
        a_int(a, versioned ? 1 : 0);
        a_int(a, now_ms);
        a_int(a, c->based_on);
        int rc;
        PGresult *r = exec_w(be, W_MEASURE_CHANGE, a, &rc, err, err_len, "measure change");
        if (!r)
            return rc;
        if (PQntuples(r) == 0) {
            PQclear(r);
            a_init(a);
            a_int(a, c->measure_id);
            r = exec_w(be, W_MEASURE_CURRENT, a, &rc, err, err_len, "measure change");
            if (!r)
                return rc;
            bool exists = PQntuples(r) == 1;
            int64_t now_version = exists ? col_int(r, 0, 0) : 0;
            PQclear(r);
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
        c->version = col_int(r, 0, 0);
        if (!versioned) {
            PQclear(r);
            continue;
        }
        struct args v;
        a_init(&v);
        a_int(&v, c->measure_id);
        a_int(&v, c->version);
        for (int k = 1; k <= 3; k++) /* what the row holds now */
            a_text(&v, col_str(r, 0, k));
        a_text(&v, c->note ? c->note : "");
        a_text(&v, c->actor);
        a_int(&v, now_ms);
        rc = run_w(be, W_MEASURE_VERSION, &v, err, err_len, "measure version");
        PQclear(r);
        if (rc < 0)
            return rc;
    }
    return VG_OK;
}

static int put_units(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                     char *err, size_t err_len)
{
    struct args *a = &be->wa;
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
        int rc;
        bool has_measure = false;
        int64_t measure_id = 0;
        if (u->measure) {
            a_init(a);
            a_text(a, u->measure);
            PGresult *r = exec_w(be, W_FIND_MEASURE, a, &rc, err, err_len, "unit");
            if (!r)
                return rc;
            has_measure = PQntuples(r) == 1;
            measure_id = has_measure ? col_int(r, 0, 0) : 0;
            PQclear(r);
            if (!has_measure) {
                vg__store_err(err, err_len, "unit '%s': no measure named '%s'", u->serial,
                              u->measure);
                return VG_ENOTFOUND;
            }
        }
        a_init(a);
        a_text(a, u->serial);
        a_int(a, u->role);
        a_opt(a, has_measure, measure_id);
        a_int(a, now_ms);
        char what[96];
        snprintf(what, sizeof what, "unit '%s'", u->serial);
        PGresult *r = exec_w(be, W_UNIT, a, &rc, err, err_len, what);
        if (!r)
            return rc;
        u->id = col_int(r, 0, 0);
        PQclear(r);
    }
    return VG_OK;
}

static int put_users(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                     char *err, size_t err_len)
{
    struct args *a = &be->wa;
    for (size_t i = 0; i < b->n_user_defs; i++) {
        struct vg_store_user_def *u = &b->user_defs[i];
        if (!u->name || (u->create && (!u->role || !u->court || !u->password_hash))) {
            vg__store_err(err, err_len,
                          "user %zu: a new account needs a name, role, court and "
                          "password hash",
                          i);
            return VG_EINVAL;
        }
        a_init(a);
        a_text(a, u->name);
        a_text(a, u->role);
        a_text(a, u->court);
        a_text(a, u->password_hash);
        if (u->disabled >= 0)
            a_int(a, u->disabled ? 1 : 0);
        else if (u->create)
            a_int(a, 0);
        else
            a_null(a);
        a_int(a, now_ms);
        int rc;
        char what[96];
        snprintf(what, sizeof what, "user %s", u->name);
        PGresult *r =
            exec_w(be, u->create ? W_USER_INSERT : W_USER_UPDATE, a, &rc, err, err_len, what);
        if (!r) {
            if (rc == VG_EDUPLICATE)
                vg__store_err(err, err_len, "user %s exists already", u->name);
            return rc;
        }
        bool found = PQntuples(r) == 1;
        if (found)
            u->id = col_int(r, 0, 0);
        PQclear(r);
        if (!found) {
            vg__store_err(err, err_len, "no user named %s", u->name);
            return VG_ENOTFOUND;
        }
    }
    return VG_OK;
}

static int put_persons(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                       char *err, size_t err_len)
{
    struct args *a = &be->wa;
    for (size_t i = 0; i < b->n_person_defs; i++) {
        struct vg_store_person_def *p = &b->person_defs[i];
        if (p->id <= 0 || !p->display || !p->data || !p->actor) {
            vg__store_err(err, err_len, "person %zu: an id, a display name, data and an actor", i);
            return VG_EINVAL;
        }
        int rc;
        if (p->create) {
            a_init(a);
            a_int(a, p->id);
            a_text(a, p->display);
            a_int(a, now_ms);
            if ((rc = run_w(be, W_PERSON_INSERT, a, err, err_len, "person")) < 0)
                return rc;
            p->version = 1;
        } else {
            a_init(a);
            a_int(a, p->id);
            a_text(a, p->display);
            a_int(a, now_ms);
            a_int(a, p->based_on);
            PGresult *r = exec_w(be, W_PERSON_UPDATE, a, &rc, err, err_len, "person");
            if (!r)
                return rc;
            p->version = PQntuples(r) == 1 ? col_int(r, 0, 0) : 0;
            PQclear(r);
            if (p->version == 0) { /* none, or moved on since the change was made */
                a_init(a);
                a_int(a, p->id);
                r = exec_w(be, W_PERSON_CURRENT, a, &rc, err, err_len, "person");
                if (!r)
                    return rc;
                bool exists = PQntuples(r) == 1;
                int64_t now_version = exists ? col_int(r, 0, 0) : 0;
                PQclear(r);
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
        a_init(a);
        a_int(a, p->id);
        a_int(a, p->version);
        a_text(a, p->data);
        a_text(a, p->actor);
        a_int(a, now_ms);
        if ((rc = run_w(be, W_PERSON_VERSION, a, err, err_len, "person version")) < 0)
            return rc;
    }
    return VG_OK;
}

static int put_imports(struct vg_store_backend *be, struct vg_store_batch *b, char *err,
                       size_t err_len)
{
    struct args *a = &be->wa;
    for (size_t i = 0; i < b->n_imports; i++) {
        struct vg_store_import *m = &b->imports[i];
        if (!m->name || !m->definition || !m->status || !m->source || m->n_versions == 0) {
            vg__store_err(err, err_len,
                          "import %zu: a name, a definition, a status, a source "
                          "and versions are needed",
                          i);
            return VG_EINVAL;
        }
        a_init(a);
        a_text(a, m->name);
        a_text(a, m->definition);
        a_int(a, m->created_ms);
        a_text(a, m->status);
        a_int(a, m->version);
        a_text(a, m->end_reason ? m->end_reason : "");
        a_text(a, m->installation ? m->installation : "{}");
        a_opt(a, m->ended_ms > 0, m->ended_ms);
        int rc;
        char what[160];
        snprintf(what, sizeof what, "import of measure '%s'", m->name);
        PGresult *r = exec_w(be, W_IMPORT_MEASURE, a, &rc, err, err_len, what);
        if (!r) {
            if (rc == VG_EDUPLICATE)
                vg__store_err(err, err_len,
                              "import of measure '%s': a measure of that name exists here",
                              m->name);
            return rc;
        }
        m->id = col_int(r, 0, 0);
        PQclear(r);
        for (size_t k = 0; k < m->n_versions; k++) {
            const struct vg_store_measure_version_row *v = &m->versions[k];
            a_init(a);
            a_int(a, m->id);
            a_int(a, v->version);
            a_text(a, v->definition);
            a_text(a, v->status);
            a_text(a, v->end_reason ? v->end_reason : "");
            a_text(a, v->note ? v->note : "");
            a_text(a, v->actor ? v->actor : "");
            a_int(a, v->created_ms);
            if ((rc = run_w(be, W_MEASURE_VERSION, a, err, err_len, "imported version")) < 0)
                return rc;
        }
        for (size_t k = 0; k < m->n_persons; k++) {
            const struct vg_store_person_row *p = &m->persons[k];
            a_init(a);
            a_int(a, p->id);
            a_int(a, p->version);
            a_text(a, p->display);
            a_int(a, p->created_ms);
            if ((rc = run_w(be, W_IMPORT_PERSON, a, err, err_len, "imported person")) < 0)
                return rc;
            a_init(a);
            a_int(a, p->id);
            a_int(a, p->version);
            a_text(a, p->data);
            a_text(a, p->actor ? p->actor : "");
            a_int(a, p->created_ms);
            if ((rc = run_w(be, W_PERSON_VERSION, a, err, err_len, "imported person version")) < 0)
                return rc; /* the file exists here already: refused, not merged */
        }
        for (size_t k = 0; k < m->n_journal; k++) {
            const struct vg_journal_entry *e = &m->journal[k];
            a_init(a);
            a_text(a, m->source);
            a_text(a, m->name);
            a_int(a, e->id);
            a_int(a, e->at_ms);
            a_text(a, e->actor);
            a_text(a, e->action);
            a_text(a, e->subject);
            a_text(a, e->detail);
            a_bytes(a, e->prev, VG_JOURNAL_HASH_LEN);
            a_bytes(a, e->hash, VG_JOURNAL_HASH_LEN);
            if ((rc = run_w(be, W_IMPORT_JOURNAL, a, err, err_len, "imported journal entry")) < 0)
                return rc;
        }
    }
    return VG_OK;
}

/* One statement on measure $1 (and $2 = limit when it takes one); the rows
 * it changed (or counted, for the fixes' purge). */
static int run_on_measure(struct vg_store_backend *be, int stmt, int64_t id, int64_t limit,
                          bool with_limit, int64_t *changed, char *err, size_t err_len)
{
    struct args *a = &be->wa;
    a_init(a);
    a_int(a, id);
    if (with_limit)
        a_int(a, limit);
    int rc;
    PGresult *r = exec_w(be, stmt, a, &rc, err, err_len, "retention step");
    if (!r)
        return rc;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && stmt == W_PURGE_FIXES)
        *changed += col_int(r, 0, 0);
    else
        *changed += strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return VG_OK;
}

/* The fixes' partitions of months before the current one that hold no row
 * any more (retention has deleted their last measure's records): dropped,
 * which gives their space back at once (a DELETE leaves it to VACUUM). */
static int drop_empty_partitions(struct vg_store_backend *be, int64_t now_ms, char *err,
                                 size_t err_len)
{
    int64_t month_lo, month_hi;
    char unused[64];
    month_of(now_ms, &month_lo, &month_hi, unused, sizeof unused);
    PGresult *parts = exec_named(be->w, 'w', W_PARTITIONS, NULL);
    if (PQresultStatus(parts) != PGRES_TUPLES_OK) {
        result_err(err, err_len, be->w, parts, "the fixes' partitions");
        PQclear(parts);
        return VG__STORE_EDB;
    }
    int rc = VG_OK;
    for (int i = 0; i < PQntuples(parts) && rc == VG_OK; i++) {
        int64_t lo, hi;
        const char *bound = PQgetvalue(parts, i, 1);
        if (!parse_bound(bound, "FROM", &lo) || !parse_bound(bound, " TO", &hi) || hi > month_lo)
            continue;
        const char *relname = PQgetvalue(parts, i, 0);
        char *name = PQescapeIdentifier(be->w, relname, strlen(relname));
        if (!name) {
            rc = VG_ENOSPC;
            break;
        }
        buf_reset(&be->sql);
        buf_str(&be->sql, "SELECT EXISTS (SELECT 1 FROM ONLY ");
        buf_str(&be->sql, name);
        buf_str(&be->sql, ")");
        char text[8];
        bool is_null;
        if (be->sql.oom || !query_one(be->w, be->sql.p, text, sizeof text, &is_null)) {
            result_err(err, err_len, be->w, NULL, "a partition of fixes");
            rc = VG__STORE_EDB;
        } else if (strcmp(text, "f") == 0) {
            buf_reset(&be->sql);
            buf_str(&be->sql, "DROP TABLE ");
            buf_str(&be->sql, name);
            rc = be->sql.oom ? VG_ENOSPC
                             : exec_simple(be->w, be->sql.p, err, err_len, "a partition of fixes");
            be->parts_stale = true;
        }
        PQfreemem(name);
    }
    PQclear(parts);
    return rc;
}

static int put_retention(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                         char *err, size_t err_len)
{
    static const int purge[] = {W_PURGE_FIXES, W_PURGE_STATUSES, W_PURGE_EVENTS};
    static const int erase[] = {W_DELETE_PERSON_VERSIONS, W_DELETE_PERSONS,  W_DELETE_ALARMS,
                                W_DELETE_STEPS,           W_DELETE_REPORTS,  W_DELETE_INCIDENTS,
                                W_DELETE_STATE,           W_DELETE_VERSIONS, W_UNASSIGN_UNITS};
    struct args *a = &be->wa;
    for (size_t i = 0; i < b->n_retention; i++) {
        struct vg_store_retention_step *r = &b->retention[i];
        r->done = 0;
        /* only an ended measure: a mistaken step never touches a live one */
        a_init(a);
        a_int(a, r->measure_id);
        int rc;
        PGresult *res = exec_w(be, W_MEASURE_ENDED, a, &rc, err, err_len, "retention step");
        if (!res)
            return rc;
        bool is_ended = PQntuples(res) == 1;
        PQclear(res);
        if (!is_ended) {
            vg__store_err(err, err_len, "retention step %zu: measure %lld has not ended", i,
                          (long long)r->measure_id);
            return VG_ESTATE;
        }
        int64_t ignored = 0;
        switch (r->action) {
        case VG_STORE_ARCHIVE:
            rc = run_on_measure(be, W_ARCHIVE, r->measure_id, 0, false, &r->done, err, err_len);
            break;
        case VG_STORE_PURGE_RECORDS:
            for (size_t k = 0; k < 3 && rc == VG_OK; k++)
                rc = run_on_measure(be, purge[k], r->measure_id, r->limit > 0 ? r->limit : 1, true,
                                    &r->done, err, err_len);
            break;
        case VG_STORE_DELETE_MEASURE:
            for (size_t k = 0; k < sizeof erase / sizeof erase[0] && rc == VG_OK; k++)
                rc = run_on_measure(be, erase[k], r->measure_id, 0, false, &ignored, err, err_len);
            if (rc == VG_OK)
                rc = run_on_measure(be, W_DELETE_MEASURE, r->measure_id, 0, false, &r->done, err,
                                    err_len);
            if (rc == VG_OK)
                rc = drop_empty_partitions(be, now_ms, err, err_len);
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

/* ---- the writer: begin, apply, settle, commit ---------------------------------------------- */

static int pg_begin(struct vg_store_backend *be, char *err, size_t err_len)
{
    be->created_part = false;
    be->careful = false;
    int rc = reconnect_writer(be, err, err_len);
    if (rc < 0)
        return rc;
    /* this month's partition and the next's, ten days ahead, in their own
     * transaction: the groups seldom need to create one themselves */
    int64_t now_ms = wall_ms();
    if ((rc = ensure_part_now(be, now_ms, err, err_len)) < 0 ||
        (rc = ensure_part_now(be, now_ms + 10 * MS_PER_DAY, err, err_len)) < 0)
        return rc;
    /* BEGIN goes with the first batch (pipelined) */
    be->in_txn = false;
    return VG_OK;
}

/* A batch the pipeline takes: nothing that needs an answer before going on
 * (ids, versions, counts of changed rows), and not too many statements. */
static bool is_hot(const struct vg_store_batch *b)
{
    return b->n_measures == 0 && b->n_units == 0 && b->n_user_defs == 0 && b->n_person_defs == 0 &&
           b->n_sessions == 0 &&
           b->n_measure_changes == 0 && b->n_retention == 0 && b->n_imports == 0 &&
           b->n_alarms + b->n_journal + b->n_incidents + b->n_incident_steps + b->n_reports <=
               HOT_ROWS_MAX;
}

/* Read every queued answer (pipeline mode, after a sync): 0, or the first
 * failure with its batch. The transaction is then in the failed state. */
static int read_pending(struct vg_store_backend *be, struct vg_store_batch **failed, bool *lost,
                        char *err, size_t err_len)
{
    int first_rc = VG_OK;
    for (size_t i = 0; i < be->nq; i++) {
        struct pending *p = &be->q[i];
        PGresult *r = PQgetResult(be->w);
        if (!r) { /* the connection went */
            if (first_rc == VG_OK) {
                result_err(err, err_len, be->w, NULL, "PostgreSQL");
                first_rc = VG__STORE_EDB;
            }
            *lost = true;
            break;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            if (first_rc == VG_OK && p->b) {
                if (p->kind == P_COUNT && PQntuples(r) == 1)
                    p->b->n_inserted += (size_t)col_int(r, 0, 0);
                else if (p->kind == P_INSERTED)
                    p->b->n_inserted += (size_t)strtoull(PQcmdTuples(r), NULL, 10);
            }
        } else if (st != PGRES_PIPELINE_ABORTED && first_rc == VG_OK) {
            first_rc = result_rc(r);
            char what[64];
            if (p->stmt == W_ALARM)
                snprintf(what, sizeof what, "alarm %u", p->index);
            else if (p->stmt == W_JOURNAL)
                snprintf(what, sizeof what, "journal entry %u", p->index);
            else if (p->stmt == W_INCIDENT)
                snprintf(what, sizeof what, "incident %u", p->index);
            else if (p->stmt == W_INCIDENT_STEP)
                snprintf(what, sizeof what, "incident step %u", p->index);
            else if (p->stmt == W_REPORT)
                snprintf(what, sizeof what, "report %u", p->index);
            else if (p->stmt == W_FIXES || p->stmt == W_STATUSES || p->stmt == W_EVENTS)
                snprintf(what, sizeof what, "records");
            else if (p->stmt == W_STATES)
                snprintf(what, sizeof what, "states");
            else if (p->stmt == W_ACK_CHECK || p->stmt == W_ACKS)
                snprintf(what, sizeof what, "acks");
            else
                snprintf(what, sizeof what, "%s", p->b ? "batch" : "transaction");
            result_err(err, err_len, be->w, r, what);
            *failed = p->b;
            /* the group's own statements (BEGIN, a partition), a savepoint
             * or its release: no savepoint to go back to */
            if (!p->b || p->stmt == W_SAVEPOINT || p->stmt == W_RELEASE)
                *lost = true;
        }
        PQclear(r);
        PGresult *end = PQgetResult(be->w); /* NULL after each statement's answer */
        if (end) {
            PQclear(end);
            *lost = true;
            if (first_rc == VG_OK) {
                vg__store_err(err, err_len, "PostgreSQL: unexpected answer");
                first_rc = VG__STORE_EDB;
            }
            break;
        }
    }
    if (!*lost) {
        PGresult *sync = PQgetResult(be->w);
        if (!sync || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
            *lost = true;
            if (first_rc == VG_OK) {
                result_err(err, err_len, be->w, sync, "PostgreSQL: no sync");
                first_rc = VG__STORE_EDB;
            }
        }
        PQclear(sync);
    }
    be->nq = 0;
    return first_rc;
}

/* The queued batches carry no savepoint of their own: each would be a
 * subtransaction, and past 64 of them in one transaction PostgreSQL's
 * snapshots must look subtransactions up on disk (bench/ingest_pg: a third
 * of the rate). So a batch that fails takes the transaction with it; it is
 * rolled back, and store.c applies the group again without that batch. */
static int pg_settle(struct vg_store_backend *be, struct vg_store_batch **failed, bool *txn_lost,
                     char *err, size_t err_len)
{
    *failed = NULL;
    if (!be->pipeline)
        return VG_OK;
    int rc = VG_OK;
    if (!PQpipelineSync(be->w)) {
        result_err(err, err_len, be->w, NULL, "PostgreSQL: cannot sync");
        *txn_lost = true;
        rc = VG__STORE_EDB;
    } else {
        rc = read_pending(be, failed, txn_lost, err, err_len);
    }
    if (*txn_lost || !PQexitPipelineMode(be->w)) {
        *txn_lost = true;
        be->pipeline = false;
        if (rc == VG_OK) {
            result_err(err, err_len, be->w, NULL, "PostgreSQL: cannot leave pipeline mode");
            rc = VG__STORE_EDB;
        }
        return rc;
    }
    be->pipeline = false;
    if (rc == VG_OK)
        return VG_OK;
    char ignored[VG__STORE_ERR_LEN];
    if (run_w(be, W_ROLLBACK, NULL, ignored, sizeof ignored, "rollback") < 0)
        *txn_lost = true;
    be->in_txn = false; /* the next batch begins again */
    be->parts_stale = be->parts_stale || be->created_part;
    be->created_part = false;
    /* the group starts over: its batches one at a time, each in its own
     * savepoint, so that another failure costs no other start */
    be->careful = true;
    return rc;
}

/* Consoles' sessions opened, used, ended (the admin path). */
static int put_sessions(struct vg_store_backend *be, struct vg_store_batch *b, char *err,
                        size_t err_len)
{
    for (size_t i = 0; i < b->n_sessions; i++) {
        const struct vg_store_session_op *o = &b->sessions[i];
        struct args a;
        a_init(&a);
        int stmt;
        switch (o->action) {
        case VG_STORE_SESSION_OPEN:
            if (!o->user) {
                vg__store_err(err, err_len, "session %zu: a new session needs its user", i);
                return VG_EINVAL;
            }
            stmt = W_SESSION_OPEN;
            a_bytes(&a, o->token_hash, VG_STORE_SESSION_HASH_LEN);
            a_text(&a, o->user);
            a_int(&a, o->created_ms);
            a_int(&a, o->last_ms);
            break;
        case VG_STORE_SESSION_TOUCH:
            stmt = W_SESSION_TOUCH;
            a_bytes(&a, o->token_hash, VG_STORE_SESSION_HASH_LEN);
            a_int(&a, o->last_ms);
            break;
        case VG_STORE_SESSION_END:
            stmt = W_SESSION_END;
            a_bytes(&a, o->token_hash, VG_STORE_SESSION_HASH_LEN);
            break;
        case VG_STORE_SESSION_END_USER:
            if (!o->user) {
                vg__store_err(err, err_len, "session %zu: whose sessions?", i);
                return VG_EINVAL;
            }
            stmt = W_SESSION_END_USER;
            a_text(&a, o->user);
            break;
        case VG_STORE_SESSION_END_EXPIRED:
            stmt = W_SESSION_END_EXPIRED;
            a_int(&a, o->last_ms);
            a_int(&a, o->created_ms);
            break;
        default:
            vg__store_err(err, err_len, "session %zu: unknown action %u", i, o->action);
            return VG_EINVAL;
        }
        int rc = run_w(be, stmt, &a, err, err_len, "session");
        if (rc < 0)
            return rc;
    }
    return VG_OK;
}

/* The admin path: the batch's statements one at a time, in its savepoint. */
static int apply_admin(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                       bool *txn_lost, char *err, size_t err_len)
{
    int rc;
    char ignored[VG__STORE_ERR_LEN];
    if (!be->in_txn) {
        if ((rc = run_w(be, W_BEGIN, NULL, err, err_len, "begin")) < 0) {
            *txn_lost = true;
            return rc;
        }
        be->in_txn = true;
        if (be->fence > 0) {
            struct args a;
            a_init(&a);
            a_int(&a, be->fence);
            if ((rc = run_w(be, W_FENCE, &a, err, err_len, "lease")) < 0) {
                *txn_lost = true;
                return rc;
            }
        }
    }
    if ((rc = put_partitions(be, b, false, err, err_len)) < 0) {
        *txn_lost = true;
        return rc;
    }
    if ((rc = run_w(be, W_SAVEPOINT, NULL, err, err_len, "savepoint")) < 0) {
        *txn_lost = true;
        return rc;
    }
    struct sender s = {be, b, false, err, err_len};
    if ((rc = put_measures(be, b, now_ms, err, err_len)) < 0 ||
        (rc = put_imports(be, b, err, err_len)) < 0 ||
        (rc = put_units(be, b, now_ms, err, err_len)) < 0 || (rc = put_records(&s)) < 0 ||
        (rc = put_alarms(&s)) < 0 || (rc = put_states(&s, now_ms)) < 0 || (rc = put_acks(&s)) < 0 ||
        (rc = put_users(be, b, now_ms, err, err_len)) < 0 ||
        (rc = put_persons(be, b, now_ms, err, err_len)) < 0 ||
        (rc = put_measure_changes(be, b, now_ms, err, err_len)) < 0 ||
        (rc = put_retention(be, b, now_ms, err, err_len)) < 0 || (rc = put_incidents(&s)) < 0 ||
        (rc = put_journal(&s)) < 0 || (rc = put_sessions(be, b, err, err_len)) < 0) {
        if (PQstatus(be->w) != CONNECTION_OK ||
            run_w(be, W_ROLLBACK_TO, NULL, ignored, sizeof ignored, "rollback to") < 0 ||
            run_w(be, W_RELEASE, NULL, ignored, sizeof ignored, "release") < 0)
            *txn_lost = true;
        be->parts_stale = true; /* a partition dropped by a failed step came back */
        return rc;
    }
    if ((rc = run_w(be, W_RELEASE, NULL, err, err_len, "release")) < 0)
        *txn_lost = true;
    return rc;
}

static int pg_apply(struct vg_store_backend *be, struct vg_store_batch *b, int64_t now_ms,
                    bool *txn_lost, char *err, size_t err_len)
{
    b->n_inserted = 0;
    int rc;
    if ((rc = check_records(b, err, err_len)) < 0 || (rc = check_states(b, err, err_len)) < 0 ||
        (rc = check_acks(b, err, err_len)) < 0 || (rc = check_incidents(b, err, err_len)) < 0)
        return rc; /* nothing sent */
    if (!is_hot(b) || be->careful) {
        if (be->pipeline)
            return VG__STORE_SETTLE;
        return apply_admin(be, b, now_ms, txn_lost, err, err_len);
    }
    if (be->nq >= SETTLE_AT)
        return VG__STORE_SETTLE;
    if (be->parts_stale && b->n_records > 0) { /* read the list again, out of the pipeline */
        if (be->pipeline)
            return VG__STORE_SETTLE;
        if ((rc = load_parts(be, err, err_len)) < 0) {
            *txn_lost = true;
            return rc;
        }
    }
    if ((rc = pipeline_on(be, err, err_len)) < 0) {
        *txn_lost = true;
        return rc;
    }
    struct sender s = {be, b, true, err, err_len};
    if (!be->in_txn) {
        if ((rc = send_w(be, W_BEGIN, NULL, NULL, P_PLAIN, 0, err, err_len)) < 0 ||
            (rc = send_fence(be, err, err_len)) < 0) {
            *txn_lost = true;
            return rc;
        }
        be->in_txn = true;
    }
    /* no savepoint: see pg_settle */
    if ((rc = put_partitions(be, b, true, err, err_len)) < 0 || (rc = put_records(&s)) < 0 ||
        (rc = put_alarms(&s)) < 0 || (rc = put_states(&s, now_ms)) < 0 || (rc = put_acks(&s)) < 0 ||
        (rc = put_incidents(&s)) < 0 || (rc = put_journal(&s)) < 0) {
        *txn_lost = true; /* part of the batch is queued: the pipeline cannot go on */
        return rc;
    }
    return VG_OK;
}

static int pg_commit(struct vg_store_backend *be, char *err, size_t err_len)
{
    if (be->pipeline) { /* store.c settles first: a bug */
        vg__store_err(err, err_len, "commit with statements pending");
        return VG__STORE_EDB;
    }
    if (!be->in_txn)
        return VG_OK; /* nothing was sent (every batch refused before) */
    PGresult *r = exec_named(be->w, 'w', W_COMMIT, NULL);
    /* COMMIT of a failed transaction answers ROLLBACK, without an error */
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
    if (!ok)
        result_err(err, err_len, be->w, r, "commit failed");
    PQclear(r);
    be->in_txn = false;
    if (!ok)
        be->parts_stale = true;
    return ok ? VG_OK : VG__STORE_EDB;
}

static void pg_rollback(struct vg_store_backend *be)
{
    be->parts_stale = true;
    if (be->pipeline) {
        struct vg_store_batch *failed;
        bool lost = false;
        char ignored[VG__STORE_ERR_LEN];
        if (PQpipelineSync(be->w))
            read_pending(be, &failed, &lost, ignored, sizeof ignored);
        be->nq = 0;
        PQexitPipelineMode(be->w);
        be->pipeline = false;
    }
    if (PQstatus(be->w) == CONNECTION_OK && PQtransactionStatus(be->w) != PQTRANS_IDLE)
        PQclear(exec_named(be->w, 'w', W_ROLLBACK, NULL));
    be->in_txn = false;
}

/* ---- the lease (store.h; the table and vg_fence: store.c's migration 11) ---------------------- */

static void pg_fence(struct vg_store_backend *be, int64_t epoch)
{
    be->fence = epoch;
    /* another site may have written since: its partitions too */
    be->parts_stale = true;
}

/* Take it if free or lapsed, renew it if ours at $3; the epoch held after. */
static const char LEASE_SQL[] =
    "INSERT INTO vg_lease AS l (id, holder, epoch, taken_at, expires_at) "
    "VALUES (1, $1::text, 1, clock_timestamp(), "
    "clock_timestamp() + $2::bigint * interval '1 millisecond') "
    "ON CONFLICT (id) DO UPDATE SET "
    "epoch = CASE WHEN l.holder = excluded.holder AND l.epoch = $3::bigint THEN l.epoch "
    "ELSE l.epoch + 1 END, "
    "taken_at = CASE WHEN l.holder = excluded.holder AND l.epoch = $3::bigint THEN l.taken_at "
    "ELSE excluded.taken_at END, "
    "holder = excluded.holder, expires_at = excluded.expires_at "
    "WHERE (l.holder = excluded.holder AND l.epoch = $3::bigint) "
    "OR l.expires_at <= clock_timestamp() "
    "RETURNING epoch";
static const char LEASE_WHO_SQL[] =
    "SELECT holder, greatest(0, ceil(extract(epoch FROM expires_at - clock_timestamp()) * 1000))"
    "::bigint FROM vg_lease WHERE id = 1";
static const char LEASE_RELEASE_SQL[] =
    "UPDATE vg_lease SET expires_at = '-infinity' WHERE id = 1 AND holder = $1::text "
    "AND epoch = $2::bigint";

/* The lease's connection: its requests must come back within about the
 * lease's time, or fail (the holder's own deadline then decides): short
 * connect, statement and lock time-outs (a lock: the holder's writer has
 * the row in share during a transaction), TCP given up after that long. */
static int lease_conn(struct vg_store_backend *be, int64_t ttl_ms, char *err, size_t err_len)
{
    if (be->l && PQstatus(be->l) == CONNECTION_OK)
        return VG_OK;
    PQfinish(be->l);
    char timeout_s[24], tcp_ms[24];
    snprintf(timeout_s, sizeof timeout_s, "%lld", (long long)(ttl_ms + 999) / 1000);
    snprintf(tcp_ms, sizeof tcp_ms, "%lld", (long long)ttl_ms);
    const char *keys[] = {"connect_timeout", "tcp_user_timeout", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "dbname",
                          "fallback_application_name", NULL};
    const char *values[] = {timeout_s, tcp_ms, "1", "1", "3", be->conninfo, "vigied-lease", NULL};
    be->l = PQconnectdbParams(keys, values, 1);
    if (!be->l || PQstatus(be->l) != CONNECTION_OK) {
        result_err(err, err_len, be->l, NULL, "lease: cannot connect to PostgreSQL");
        PQfinish(be->l);
        be->l = NULL;
        return VG__STORE_EDB;
    }
    PQsetNoticeProcessor(be->l, notice_quiet, NULL);
    char set[160];
    snprintf(set, sizeof set,
             "SET synchronous_commit = on; SET statement_timeout = %lld; SET lock_timeout = %lld",
             (long long)ttl_ms, (long long)(ttl_ms / 3 > 0 ? ttl_ms / 3 : 1));
    int rc = exec_simple(be->l, set, err, err_len, "lease's session");
    if (rc < 0) {
        PQfinish(be->l);
        be->l = NULL;
    }
    return rc;
}

static int pg_lease(struct vg_store_backend *be, const char *holder, int64_t ttl_ms,
                    int64_t epoch, struct vg_store_lease_answer *out, char *err, size_t err_len)
{
    int rc = lease_conn(be, ttl_ms, err, err_len);
    if (rc < 0)
        return rc;
    struct args a;
    a_init(&a);
    a_text(&a, holder);
    a_int(&a, ttl_ms);
    a_int(&a, epoch);
    PGresult *r = PQexecParams(be->l, LEASE_SQL, a.n, NULL, a.v, a.len, a.fmt, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        result_err(err, err_len, be->l, r, "lease");
        PQclear(r);
        return VG__STORE_EDB;
    }
    if (PQntuples(r) == 1) {
        out->epoch = col_int(r, 0, 0);
        snprintf(out->holder, sizeof out->holder, "%s", holder);
        out->remaining_ms = ttl_ms;
        PQclear(r);
        return VG_OK;
    }
    PQclear(r);
    out->epoch = 0; /* another's: who, for the health page */
    r = PQexec(be->l, LEASE_WHO_SQL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        result_err(err, err_len, be->l, r, "lease");
        PQclear(r);
        return VG__STORE_EDB;
    }
    if (PQntuples(r) == 1) {
        snprintf(out->holder, sizeof out->holder, "%s", col_str(r, 0, 0));
        out->remaining_ms = col_int(r, 0, 1);
    }
    PQclear(r);
    return VG_OK;
}

static int pg_lease_release(struct vg_store_backend *be, const char *holder, int64_t epoch,
                            char *err, size_t err_len)
{
    int rc = lease_conn(be, 3000, err, err_len);
    if (rc < 0)
        return rc;
    struct args a;
    a_init(&a);
    a_text(&a, holder);
    a_int(&a, epoch);
    PGresult *r = PQexecParams(be->l, LEASE_RELEASE_SQL, a.n, NULL, a.v, a.len, a.fmt, 0);
    rc = PQresultStatus(r) == PGRES_COMMAND_OK ? VG_OK : VG__STORE_EDB;
    if (rc < 0)
        result_err(err, err_len, be->l, r, "lease release");
    PQclear(r);
    return rc;
}

/* ---- open, close --------------------------------------------------------------------------- */

static void pg_close(struct vg_store_backend *be)
{
    if (!be)
        return;
    PQfinish(be->w);
    PQfinish(be->r);
    PQfinish(be->l);
    for (int k = 0; k < 12; k++)
        buf_free(&be->cols[k]);
    buf_free(&be->sql);
    free(be->q);
    free(be->parts);
    free(be->conninfo);
    free(be);
}

static int pg_open(const char *target, struct vg_store_backend **out, char *err, size_t err_len)
{
    if (!*target) {
        vg__store_err(err, err_len, "no PostgreSQL connection string");
        return VG_EINVAL;
    }
    struct vg_store_backend *be = calloc(1, sizeof *be);
    if (!be || !(be->conninfo = strdup(target))) {
        free(be);
        vg__store_err(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    int rc;
    if ((rc = connect_one(be->conninfo, &be->w, err, err_len)) < 0 ||
        (rc = setup_writer(be, err, err_len)) < 0 || (rc = migrate(be, err, err_len)) < 0 ||
        (rc = prepare_writer(be, err, err_len)) < 0 || (rc = load_parts(be, err, err_len)) < 0)
        goto fail;
    /* this month and the next */
    int64_t lo, hi;
    char unused[64];
    month_of(wall_ms(), &lo, &hi, unused, sizeof unused);
    if ((rc = ensure_part_now(be, lo, err, err_len)) < 0 ||
        (hi != INT64_MAX && (rc = ensure_part_now(be, hi, err, err_len)) < 0))
        goto fail;
    if ((rc = connect_one(be->conninfo, &be->r, err, err_len)) < 0 ||
        (rc = setup_reader(be, err, err_len)) < 0)
        goto fail;
    *out = be;
    return VG_OK;
fail:
    pg_close(be);
    return rc;
}

/* ---- reads --------------------------------------------------------------------------------- */

/* Run a read statement; on a lost connection, connect again and retry once
 * (a restarted server, a fail-over). NULL on failure. */
static PGresult *read_exec(struct vg_store_backend *be, int stmt, const struct args *a)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!be->r_prepared || PQstatus(be->r) != CONNECTION_OK) {
            PQreset(be->r);
            if (PQstatus(be->r) != CONNECTION_OK)
                return NULL;
            PQsetNoticeProcessor(be->r, notice_quiet, NULL);
            char ignored[VG__STORE_ERR_LEN];
            if (setup_reader(be, ignored, sizeof ignored) < 0)
                return NULL;
        }
        PGresult *r = exec_named(be->r, 'r', stmt, a);
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            return r;
        PQclear(r);
        if (PQstatus(be->r) == CONNECTION_OK)
            return NULL; /* the statement failed, not the connection */
    }
    return NULL;
}

/* Each read builds its parameters on the stack: a callback may read in
 * turn (the readers' connection is free during callbacks, the result
 * being fetched whole). */

static int pg_units(struct vg_store_backend *be,
                    int (*cb)(void *arg, const struct vg_store_unit_row *u), void *arg)
{
    int64_t after = INT64_MIN;
    for (;;) {
        struct args a;
        a_init(&a);
        a_int(&a, after);
        a_int(&a, PAGE_ROWS);
        PGresult *r = read_exec(be, R_UNITS, &a);
        if (!r)
            return VG__STORE_EDB;
        int n = PQntuples(r), cb_rc = 0;
        for (int i = 0; i < n && cb_rc == 0; i++) {
            struct vg_store_unit_row u = {
                .id = col_int(r, i, 0),
                .serial = col_str(r, i, 1),
                .role = (uint8_t)col_int(r, i, 2),
                .measure_id = col_int(r, i, 3), /* NULL reads 0 */
                .acked_seq = (uint64_t)col_int(r, i, 4),
            };
            after = u.id;
            cb_rc = cb(arg, &u);
        }
        PQclear(r);
        if (cb_rc != 0)
            return cb_rc;
        if (n < PAGE_ROWS)
            return VG_OK;
    }
}

static int pg_measures(struct vg_store_backend *be,
                       int (*cb)(void *arg, const struct vg_store_measure_row *m), void *arg)
{
    static const uint8_t empty[1];
    int64_t after = INT64_MIN;
    for (;;) {
        struct args a;
        a_init(&a);
        a_int(&a, after);
        a_int(&a, PAGE_MEASURES);
        PGresult *r = read_exec(be, R_MEASURES, &a);
        if (!r)
            return VG__STORE_EDB;
        int n = PQntuples(r), cb_rc = 0;
        for (int i = 0; i < n && cb_rc == 0; i++) {
            struct vg_store_measure_row m = {
                .id = col_int(r, i, 0),
                .name = col_str(r, i, 1),
                .definition = col_str(r, i, 2),
                .version = col_int(r, i, 5),
                .status = col_str(r, i, 6),
                .end_reason = col_str(r, i, 7),
                .installation = col_str(r, i, 8),
                .created_ms = col_int(r, i, 9),
                .ended_ms = col_int(r, i, 10), /* NULL reads 0 */
                .archived = col_int(r, i, 11) != 0,
            };
            unsigned char *state = NULL;
            if (col_has(r, i, 4)) {
                m.state_version = (uint32_t)col_int(r, i, 3);
                state = col_bytes(r, i, 4, &m.state_len);
                if (!state) {
                    PQclear(r);
                    return VG_ENOSPC;
                }
                m.state = m.state_len ? state : empty; /* a stored empty state is not "none" */
            }
            after = m.id;
            cb_rc = cb(arg, &m);
            PQfreemem(state);
        }
        PQclear(r);
        if (cb_rc != 0)
            return cb_rc;
        if (n < PAGE_MEASURES)
            return VG_OK;
    }
}

/* A row of RECORDS_ALL as a record. */
static void row_record(const PGresult *r, int i, struct vg_store_record *out)
{
    *out = (struct vg_store_record){.received_ms = col_int(r, i, 0), .unit_id = col_int(r, i, 1)};
    out->rec.seq = (uint64_t)col_int(r, i, 2);
    int64_t t_ms = col_int(r, i, 4);
    switch (col_int(r, i, 3)) {
    case 1: {
        struct vg__store_fix_row row = {
            .t_ms = t_ms,
            .quality = (uint8_t)col_int(r, i, 5),
            .has_position = col_has(r, i, 6),
            .lat_e7 = col_int(r, i, 6),
            .lon_e7 = col_int(r, i, 7),
            .accuracy_cm = col_int(r, i, 8),
            .has_speed = col_has(r, i, 9),
            .speed_cms = col_int(r, i, 9),
            .has_heading = col_has(r, i, 10),
            .heading_cdeg = col_int(r, i, 10),
        };
        out->rec.type = VG_REC_FIX;
        vg__store_fix_decode(&row, &out->rec.fix);
        break;
    }
    case 2:
        out->rec.type = VG_REC_STATUS;
        out->rec.subject = (uint8_t)col_int(r, i, 5);
        out->rec.status = (struct vg_unit_status){
            .time_ms = t_ms,
            .battery_pct = col_status_value(r, i, 6),
            .charging = col_status_value(r, i, 7),
            .strap_closed = col_status_value(r, i, 8),
            .skin_contact = col_status_value(r, i, 9),
            .bracelet_link = col_status_value(r, i, 10),
            .beacon_heard = col_status_value(r, i, 11),
            .beacon_range_m = col_has(r, i, 12) ? (int16_t)col_int(r, i, 12) : (int16_t)-1,
        };
        break;
    default: {
        uint8_t kind = (uint8_t)col_int(r, i, 5);
        out->rec.type = kind == VG_EVENT_HEARTBEAT ? VG_REC_HEARTBEAT : VG_REC_EVENT;
        out->rec.event = (struct vg_unit_event){.time_ms = t_ms, .kind = kind};
        break;
    }
    }
}

/* The pages of a RECORDS_ALL statement: its own parameters (n_own), then
 * the key after which a page starts, then the page's size. */
static int read_records(struct vg_store_backend *be, int stmt, const int64_t *own, int n_own,
                        int (*cb)(void *arg, const struct vg_store_record *r), void *arg)
{
    int64_t key[3] = {INT64_MIN, INT64_MIN, INT64_MIN};
    for (;;) {
        struct args a;
        a_init(&a);
        for (int k = 0; k < n_own; k++)
            a_int(&a, own[k]);
        for (int k = 0; k < 3; k++)
            a_int(&a, key[k]);
        a_int(&a, PAGE_ROWS);
        PGresult *r = read_exec(be, stmt, &a);
        if (!r)
            return VG__STORE_EDB;
        int n = PQntuples(r), cb_rc = 0;
        for (int i = 0; i < n && cb_rc == 0; i++) {
            struct vg_store_record rec;
            row_record(r, i, &rec);
            key[0] = rec.received_ms;
            key[1] = rec.unit_id;
            key[2] = (int64_t)rec.rec.seq;
            cb_rc = cb(arg, &rec);
        }
        PQclear(r);
        if (cb_rc != 0)
            return cb_rc;
        if (n < PAGE_ROWS)
            return VG_OK;
    }
}

static int pg_replay(struct vg_store_backend *be, int64_t measure_id, int64_t since_ms,
                     int (*cb)(void *arg, const struct vg_store_record *r), void *arg)
{
    const int64_t own[2] = {measure_id, since_ms};
    return read_records(be, R_REPLAY, own, 2, cb, arg);
}

static int pg_unit_records(struct vg_store_backend *be, int64_t unit_id, int64_t from_ms,
                           int64_t to_ms, int (*cb)(void *arg, const struct vg_store_record *r),
                           void *arg)
{
    const int64_t own[3] = {unit_id, from_ms, to_ms};
    return read_records(be, R_UNIT_RECORDS, own, 3, cb, arg);
}

static int count_one(struct vg_store_backend *be, int stmt, int64_t id, int64_t *n)
{
    struct args a;
    a_init(&a);
    a_int(&a, id);
    PGresult *r = read_exec(be, stmt, &a);
    if (!r)
        return VG__STORE_EDB;
    *n = PQntuples(r) == 1 ? col_int(r, 0, 0) : 0;
    PQclear(r);
    return VG_OK;
}

static int pg_count_records(struct vg_store_backend *be, int64_t unit_id, int64_t *n)
{
    return count_one(be, R_COUNT_RECORDS, unit_id, n);
}

static int pg_count_alarms(struct vg_store_backend *be, int64_t measure_id, int64_t *n)
{
    return count_one(be, R_COUNT_ALARMS, measure_id, n);
}

static void row_alarm_fix(const PGresult *r, int i, int first, struct vg_fix *f)
{
    *f = (struct vg_fix){
        .time_ms = col_int(r, i, first),
        .lat_deg = col_real(r, i, first + 1),
        .lon_deg = col_real(r, i, first + 2),
        .accuracy_m = (float)col_real(r, i, first + 3),
        .speed_mps = (float)col_real(r, i, first + 4),
        .heading_deg = (float)col_real(r, i, first + 5),
        .quality = (uint8_t)col_int(r, i, first + 6),
    };
}

static int pg_alarms(struct vg_store_backend *be, int64_t measure_id, uint32_t after_seq,
                     int (*cb)(void *arg, const struct vg_store_alarm *a), void *arg)
{
    struct args a;
    a_init(&a);
    a_int(&a, measure_id);
    a_int(&a, after_seq);
    PGresult *r = read_exec(be, R_ALARMS, &a);
    if (!r)
        return VG__STORE_EDB;
    int cb_rc = 0;
    for (int i = 0; i < PQntuples(r) && cb_rc == 0; i++) {
        struct vg_store_alarm sa = {.measure_id = col_int(r, i, 0)};
        struct vg_alarm *x = &sa.alarm;
        x->seq = (uint32_t)col_int(r, i, 1);
        x->kind = (uint16_t)col_int(r, i, 2);
        x->unit = (uint8_t)col_int(r, i, 3);
        x->priority = (uint8_t)col_int(r, i, 4);
        x->flags = (uint8_t)col_int(r, i, 5);
        x->level_from = (uint8_t)col_int(r, i, 6);
        x->level_to = (uint8_t)col_int(r, i, 7);
        x->zone_index = (int16_t)col_int(r, i, 8);
        x->zone_id = (uint32_t)col_int(r, i, 9);
        x->at_ms = col_int(r, i, 10);
        x->raised_ms = col_int(r, i, 11);
        x->ev.distance_m = col_real(r, i, 12);
        x->ev.uncertainty_m = col_real(r, i, 13);
        x->ev.threshold_m = col_real(r, i, 14);
        x->ev.closing_speed_mps = col_real(r, i, 15);
        x->ev.author_closed_m = col_real(r, i, 16);
        x->ev.protected_closed_m = col_real(r, i, 17);
        x->ev.reach_m = col_real(r, i, 18);
        x->ev.approached_by = (uint8_t)col_int(r, i, 19);
        x->ev.confidence = (uint8_t)col_int(r, i, 20);
        row_alarm_fix(r, i, 21, &x->ev.author_fix);
        row_alarm_fix(r, i, 28, &x->ev.protected_fix);
        cb_rc = cb(arg, &sa);
    }
    PQclear(r);
    return cb_rc;
}

static void row_incident(const PGresult *r, int i, struct vg_incident *out)
{
    *out = (struct vg_incident){
        .id = col_int(r, i, 0),
        .measure_id = col_int(r, i, 1),
        .previous_id = col_int(r, i, 2),
        .state = (uint8_t)col_int(r, i, 3),
        .priority = (uint8_t)col_int(r, i, 4),
        .escalation = (uint8_t)col_int(r, i, 5),
        .first_kind = (uint16_t)col_int(r, i, 6),
        .first_alarm_seq = (uint32_t)col_int(r, i, 7),
        .last_alarm_seq = (uint32_t)col_int(r, i, 8),
        .n_alarms = (uint32_t)col_int(r, i, 9),
        .n_steps = (uint32_t)col_int(r, i, 10),
        .opened_ms = col_int(r, i, 11),
        .taken_ms = col_int(r, i, 12),
        .last_step_ms = col_int(r, i, 13),
        .closed_ms = col_int(r, i, 14),
        .escalated_ms = col_int(r, i, 15),
    };
    snprintf(out->operator_name, sizeof out->operator_name, "%s", col_str(r, i, 16));
}

static int pg_incidents(struct vg_store_backend *be, bool latest_only,
                        int (*cb)(void *arg, const struct vg_incident *inc), void *arg)
{
    int64_t after = INT64_MIN;
    for (;;) {
        struct args a;
        a_init(&a);
        a_int(&a, after);
        a_int(&a, PAGE_ROWS);
        PGresult *r = read_exec(be, latest_only ? R_LATEST_INCIDENTS : R_INCIDENTS, &a);
        if (!r)
            return VG__STORE_EDB;
        int n = PQntuples(r), cb_rc = 0;
        for (int i = 0; i < n && cb_rc == 0; i++) {
            struct vg_incident x;
            row_incident(r, i, &x);
            after = x.id;
            cb_rc = cb(arg, &x);
        }
        PQclear(r);
        if (cb_rc != 0)
            return cb_rc;
        if (n < PAGE_ROWS)
            return VG_OK;
    }
}

static int pg_incident(struct vg_store_backend *be, int64_t id, struct vg_incident *out)
{
    struct args a;
    a_init(&a);
    a_int(&a, id);
    PGresult *r = read_exec(be, R_INCIDENT, &a);
    if (!r)
        return VG__STORE_EDB;
    bool found = PQntuples(r) == 1;
    if (found)
        row_incident(r, 0, out);
    PQclear(r);
    return found ? VG_OK : VG_ENOTFOUND;
}

static int pg_incident_steps(struct vg_store_backend *be, int64_t incident_id,
                             int (*cb)(void *arg, const struct vg_store_incident_step *x),
                             void *arg)
{
    struct args a;
    a_init(&a);
    a_int(&a, incident_id);
    PGresult *r = read_exec(be, R_INCIDENT_STEPS, &a);
    if (!r)
        return VG__STORE_EDB;
    int cb_rc = 0;
    for (int i = 0; i < PQntuples(r) && cb_rc == 0; i++) {
        struct vg_store_incident_step x = {
            .incident_id = col_int(r, i, 0),
            .n = (uint32_t)col_int(r, i, 1),
            .kind = (uint8_t)col_int(r, i, 2),
            .outcome = (uint8_t)col_int(r, i, 3),
            .text = col_str(r, i, 4),
            .operator_name = col_str(r, i, 5),
            .at_ms = col_int(r, i, 6),
        };
        cb_rc = cb(arg, &x);
    }
    PQclear(r);
    return cb_rc;
}

static int pg_report(struct vg_store_backend *be, int64_t incident_id,
                     int (*cb)(void *arg, const struct vg_store_report *r), void *arg)
{
    struct args a;
    a_init(&a);
    a_int(&a, incident_id);
    PGresult *r = read_exec(be, R_REPORT, &a);
    if (!r)
        return VG__STORE_EDB;
    int n = PQntuples(r), cb_rc = 0;
    for (int i = 0; i < n && cb_rc == 0; i++) {
        struct vg_store_report x = {
            .incident_id = col_int(r, i, 0),
            .measure_id = col_int(r, i, 1),
            .created_ms = col_int(r, i, 2),
            .recipients = col_str(r, i, 3),
            .content = col_str(r, i, 4),
        };
        cb_rc = cb(arg, &x);
    }
    PQclear(r);
    return cb_rc != 0 ? cb_rc : n == 0 ? VG_ENOTFOUND : VG_OK;
}

static int pg_persons(struct vg_store_backend *be,
                      int (*cb)(void *arg, const struct vg_store_person_row *p), void *arg)
{
    PGresult *r = read_exec(be, R_PERSONS, NULL);
    if (!r)
        return VG__STORE_EDB;
    int cb_rc = 0;
    for (int i = 0; i < PQntuples(r) && cb_rc == 0; i++) {
        struct vg_store_person_row p = {
            .id = col_int(r, i, 0),
            .version = col_int(r, i, 1),
            .display = col_str(r, i, 2),
            .created_ms = col_int(r, i, 3),
        };
        cb_rc = cb(arg, &p);
    }
    PQclear(r);
    return cb_rc;
}

static int pg_person(struct vg_store_backend *be, int64_t id, int64_t version, bool all,
                     int (*cb)(void *arg, const struct vg_store_person_row *p), void *arg)
{
    struct args a;
    a_init(&a);
    a_int(&a, id);
    if (!all)
        a_int(&a, version);
    PGresult *r = read_exec(be, all ? R_PERSON_VERSIONS : R_PERSON, &a);
    if (!r)
        return VG__STORE_EDB;
    int n = PQntuples(r), cb_rc = 0;
    for (int i = 0; i < n && cb_rc == 0; i++) {
        struct vg_store_person_row p = {
            .id = col_int(r, i, 0),
            .version = col_int(r, i, 1),
            .display = col_str(r, i, 2),
            .data = col_str(r, i, 3),
            .actor = col_str(r, i, 4),
            .created_ms = col_int(r, i, 5),
        };
        cb_rc = cb(arg, &p);
    }
    PQclear(r);
    return cb_rc != 0 ? cb_rc : n == 0 ? VG_ENOTFOUND : VG_OK;
}

static int pg_measure_versions(struct vg_store_backend *be, int64_t id,
                               int (*cb)(void *arg, const struct vg_store_measure_version_row *v),
                               void *arg)
{
    struct args a;
    a_init(&a);
    a_int(&a, id);
    PGresult *r = read_exec(be, R_MEASURE_VERSIONS, &a);
    if (!r)
        return VG__STORE_EDB;
    int n = PQntuples(r), cb_rc = 0;
    for (int i = 0; i < n && cb_rc == 0; i++) {
        struct vg_store_measure_version_row v = {
            .measure_id = col_int(r, i, 0),
            .version = col_int(r, i, 1),
            .definition = col_str(r, i, 2),
            .status = col_str(r, i, 3),
            .end_reason = col_str(r, i, 4),
            .note = col_str(r, i, 5),
            .actor = col_str(r, i, 6),
            .created_ms = col_int(r, i, 7),
        };
        cb_rc = cb(arg, &v);
    }
    PQclear(r);
    return cb_rc != 0 ? cb_rc : n == 0 ? VG_ENOTFOUND : VG_OK;
}

static int pg_statistics(struct vg_store_backend *be, int64_t from_ms, int64_t to_ms,
                         int (*cb)(void *arg, const struct vg_store_stats_row *r), void *arg)
{
    struct args a;
    a_init(&a);
    a_int(&a, from_ms);
    a_int(&a, to_ms);
    PGresult *r = read_exec(be, R_STATISTICS, &a);
    if (!r)
        return VG__STORE_EDB;
    int cb_rc = 0;
    for (int i = 0; i < PQntuples(r) && cb_rc == 0; i++) {
        struct vg_store_stats_row x = {
            .measure_id = col_int(r, i, 0),
            .alarms = col_int(r, i, 1) != 0,
            .court = col_str(r, i, 2),
            .version = col_int(r, i, 3),
            .status = col_str(r, i, 4),
            .end_reason = col_str(r, i, 5),
            .created_ms = col_int(r, i, 6),
            .kind = (uint16_t)col_int(r, i, 7),
            .raised_ms = col_int(r, i, 8),
            .count = col_int(r, i, 9),
        };
        cb_rc = cb(arg, &x);
    }
    PQclear(r);
    return cb_rc;
}

static int pg_session(struct vg_store_backend *be, const uint8_t hash[VG_STORE_SESSION_HASH_LEN],
                      int (*cb)(void *arg, const struct vg_store_session_row *r), void *arg)
{
    struct args a;
    a_init(&a);
    a_bytes(&a, hash, VG_STORE_SESSION_HASH_LEN);
    PGresult *r = read_exec(be, R_SESSION, &a);
    if (!r)
        return VG__STORE_EDB;
    int rc = VG_ENOTFOUND;
    if (PQntuples(r) == 1) {
        struct vg_store_session_row row = {.user = col_str(r, 0, 0),
                                           .created_ms = col_int(r, 0, 1),
                                           .last_ms = col_int(r, 0, 2)};
        rc = cb(arg, &row);
    }
    PQclear(r);
    return rc;
}

static int pg_users(struct vg_store_backend *be,
                    int (*cb)(void *arg, const struct vg_store_user_row *u), void *arg)
{
    PGresult *r = read_exec(be, R_USERS, NULL);
    if (!r)
        return VG__STORE_EDB;
    int cb_rc = 0;
    for (int i = 0; i < PQntuples(r) && cb_rc == 0; i++) {
        struct vg_store_user_row u = {
            .id = col_int(r, i, 0),
            .name = col_str(r, i, 1),
            .role = col_str(r, i, 2),
            .court = col_str(r, i, 3),
            .password_hash = col_str(r, i, 4),
            .disabled = col_int(r, i, 5) != 0,
        };
        cb_rc = cb(arg, &u);
    }
    PQclear(r);
    return cb_rc;
}

static int pg_journal(struct vg_store_backend *be, int64_t after_id,
                      int (*cb)(void *arg, const struct vg_journal_entry *e), void *arg)
{
    for (;;) {
        struct args a;
        a_init(&a);
        a_int(&a, after_id);
        a_int(&a, PAGE_ROWS);
        PGresult *r = read_exec(be, R_JOURNAL, &a);
        if (!r)
            return VG__STORE_EDB;
        int n = PQntuples(r), cb_rc = 0;
        for (int i = 0; i < n && cb_rc == 0; i++) {
            struct vg_journal_entry e = {
                .id = col_int(r, i, 0),
                .at_ms = col_int(r, i, 1),
                .actor = col_str(r, i, 2),
                .action = col_str(r, i, 3),
                .subject = col_str(r, i, 4),
                .detail = col_str(r, i, 5),
            };
            col_hash(r, i, 6, e.prev);
            col_hash(r, i, 7, e.hash);
            after_id = e.id;
            cb_rc = cb(arg, &e);
        }
        PQclear(r);
        if (cb_rc != 0)
            return cb_rc;
        if (n < PAGE_ROWS)
            return VG_OK;
    }
}

static int pg_journal_tail(struct vg_store_backend *be, int64_t *id,
                           uint8_t hash[VG_JOURNAL_HASH_LEN])
{
    *id = 0;
    memset(hash, 0, VG_JOURNAL_HASH_LEN);
    PGresult *r = read_exec(be, R_JOURNAL_TAIL, NULL);
    if (!r)
        return VG__STORE_EDB;
    if (PQntuples(r) == 1) {
        *id = col_int(r, 0, 0);
        col_hash(r, 0, 1, hash);
    }
    PQclear(r);
    return VG_OK;
}

const struct vg_store_ops vg__store_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .apply = pg_apply,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .settle = pg_settle,
    .fence = pg_fence,
    .lease = pg_lease,
    .lease_release = pg_lease_release,
    .units = pg_units,
    .measures = pg_measures,
    .replay = pg_replay,
    .count_records = pg_count_records,
    .count_alarms = pg_count_alarms,
    .alarms = pg_alarms,
    .persons = pg_persons,
    .person = pg_person,
    .measure_versions = pg_measure_versions,
    .unit_records = pg_unit_records,
    .incidents = pg_incidents,
    .incident = pg_incident,
    .incident_steps = pg_incident_steps,
    .report = pg_report,
    .users = pg_users,
    .session = pg_session,
    .statistics = pg_statistics,
    .journal = pg_journal,
    .journal_tail = pg_journal_tail,
};
