/* The store's contract (src/store/store.h), written once for every backend:
 *
 *   test_store sqlite        a fresh SQLite file in a fresh directory per test
 *   test_store postgresql    a fresh database per test in the cluster that
 *                            $VIGIE_TEST_PG names (scripts/pg-test-cluster
 *                            starts a throwaway one around the test)
 *
 * Only struct backend below knows the backend: how to name a fresh store,
 * and a window behind the interface (run SQL, read one integer) for the
 * few tests that must fake or inspect what the interface does not show
 * (a newer schema version, the stored integers of a fix). The rest goes
 * through the interface alone.
 *
 * Grouping: to put two batches in one transaction without a test hook, a
 * batch's done() submits them: done() runs on the writer thread between two
 * groups, so whatever it queues is taken together as the next group (their
 * equal committed_ns shows it). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../unit/testing.h"
#include "core/err.h"
#include "store/store.h"

/* ---- the backend under test -------------------------------------------------------------- */

struct backend {
    const char *name;
    /* the location of a fresh store in the test's directory */
    void (*location)(const char *dir, char *out, size_t len);
    /* run SQL on the store's database behind the interface; 0 on success */
    int (*exec)(const char *location, const char *sql);
    /* one integer from a query; 0 on success */
    int (*query_int)(const char *location, const char *sql, int64_t *out);
    bool is_file; /* the store is a file in the directory (file-level tests apply) */
};

static void sqlite_location(const char *dir, char *out, size_t len)
{
    snprintf(out, len, "sqlite:%s/vigie.db", dir);
}

static const char *sqlite_path(const char *location)
{
    return strncmp(location, "sqlite:", 7) == 0 ? location + 7 : location;
}

static int sqlite_exec(const char *location, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(sqlite_path(location), &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            fprintf(stderr, "sqlite_exec: %s: %s\n", sql, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return rc;
}

static int sqlite_query_int(const char *location, const char *sql, int64_t *out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_open_v2(sqlite_path(location), &db, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    if (rc != SQLITE_OK)
        fprintf(stderr, "sqlite_query_int: %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

/* PostgreSQL: a fresh database per location in the cluster of
 * $VIGIE_TEST_PG (a URI without a database), named after the process and
 * a counter (the directory is not used). */
static void pg_location(const char *dir, char *out, size_t len)
{
    (void)dir;
    static atomic_int counter;
    const char *base = getenv("VIGIE_TEST_PG");
    char name[64], admin[PATH_MAX];
    snprintf(name, sizeof name, "t_%ld_%d", (long)getpid(), atomic_fetch_add(&counter, 1));
    snprintf(admin, sizeof admin, "%s/postgres", base);
    PGconn *c = PQconnectdb(admin);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("%s: %s", admin, PQerrorMessage(c));
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(out, len, "%s/%s", base, name);
}

static int pg_exec(const char *location, const char *sql)
{
    PGconn *c = PQconnectdb(location);
    PGresult *r = PQexec(c, sql);
    int rc =
        PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "pg_exec: %s: %s\n", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return rc;
}

static int pg_query_int(const char *location, const char *sql, int64_t *out)
{
    PGconn *c = PQconnectdb(location);
    PGresult *r = PQexec(c, sql);
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? 0 : -1;
    if (rc == 0)
        *out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else
        fprintf(stderr, "pg_query_int: %s: %s\n", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return rc;
}

static const struct backend backends[] = {
    {"sqlite", sqlite_location, sqlite_exec, sqlite_query_int, true},
    {"postgresql", pg_location, pg_exec, pg_query_int, false},
};

/* SQL both dialects read the same way: 1 if a column is NULL, else 0. */
#define IS_NULL(c)     "(CASE WHEN " c " IS NULL THEN 1 ELSE 0 END)"
#define NULLS2(c1, c2) IS_NULL(c1) " + " IS_NULL(c2)

/* Set once in main() before the tests run, read-only afterwards. */
static const struct backend *backend;

/* ---- fixture: a fresh directory and location per test ------------------------------------ */

struct fx {
    char dir[PATH_MAX];
    char loc[PATH_MAX + 64];
    struct vg_store *s;
};

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[PATH_MAX];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                remove_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof fx->dir, "%s/vigie-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    backend->location(fx->dir, fx->loc, sizeof fx->loc);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    vg_store_close(fx->s);
    remove_tree(fx->dir);
    free(fx);
    return 0;
}

static struct vg_store *open_store(struct fx *fx)
{
    char err[256] = "";
    int rc = vg_store_open(fx->loc, &fx->s, err, sizeof err);
    if (rc != 0)
        fail_msg("vg_store_open(%s): %s (%s)", fx->loc, vg_strerror(rc), err);
    return fx->s;
}

static void reopen(struct fx *fx)
{
    vg_store_close(fx->s);
    fx->s = NULL;
    open_store(fx);
}

/* ---- submitting and waiting -------------------------------------------------------------- */

struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    int calls;
    int rc;
    char err[256];
};

static void waiter_done(struct vg_store_batch *b, int rc, const char *err)
{
    struct waiter *w = b->arg;
    pthread_mutex_lock(&w->m);
    w->calls++;
    w->rc = rc;
    snprintf(w->err, sizeof w->err, "%s", err ? err : "");
    pthread_cond_signal(&w->c);
    pthread_mutex_unlock(&w->m);
}

/* Submit and wait for done(); its rc, and its error text into err (if given). */
static int run_batch_err(struct vg_store *s, struct vg_store_batch *b, char *err, size_t err_len)
{
    struct waiter w = {.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER};
    b->done = waiter_done;
    b->arg = &w;
    assert_int_equal(vg_store_submit(s, b), 0);
    pthread_mutex_lock(&w.m);
    while (w.calls == 0)
        pthread_cond_wait(&w.c, &w.m);
    pthread_mutex_unlock(&w.m);
    assert_int_equal(w.calls, 1);
    if (w.rc == 0)
        assert_true(b->committed_ns >= b->submitted_ns && b->submitted_ns > 0);
    else
        assert_true(w.err[0] != '\0'); /* a failure says why */
    if (err)
        snprintf(err, err_len, "%s", w.err);
    return w.rc;
}

static int run_batch(struct vg_store *s, struct vg_store_batch *b)
{
    char err[256];
    int rc = run_batch_err(s, b, err, sizeof err);
    if (rc != 0)
        print_message("batch failed: %s\n", err);
    return rc;
}

/* A measure and n units (roles author, protected, bracelet, author, ...);
 * the units' ids into ids. */
static int64_t provision(struct vg_store *s, const char *name, size_t n, int64_t *ids)
{
    struct vg_store_measure_def m = {.name = name, .definition = "{\"radius_m\":1000}"};
    struct vg_store_unit_def units[64];
    char serials[64][48];
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++) {
        snprintf(serials[i], sizeof serials[i], "%s-U%zu", name, i + 1);
        units[i] = (struct vg_store_unit_def){
            .serial = serials[i], .role = (uint8_t)(1 + i % 3), .measure = name};
    }
    struct vg_store_batch b = {.measures = &m, .n_measures = 1, .units = units, .n_units = n};
    assert_int_equal(run_batch(s, &b), 0);
    assert_true(m.id > 0);
    for (size_t i = 0; i < n; i++) {
        assert_true(units[i].id > 0);
        ids[i] = units[i].id;
    }
    return m.id;
}

/* ---- records as the wire gives them ------------------------------------------------------ */

static struct vg_fix wire_fix(int64_t t, int32_t lat_e7, int32_t lon_e7, uint32_t acc_cm,
                              int32_t speed_cms, int32_t heading_cdeg, uint8_t quality)
{
    return (struct vg_fix){
        .time_ms = t,
        .lat_deg = (double)lat_e7 / 1e7,
        .lon_deg = (double)lon_e7 / 1e7,
        .accuracy_m = (float)((double)acc_cm / 100.0),
        .speed_mps = speed_cms < 0 ? -1.0f : (float)((double)speed_cms / 100.0),
        .heading_deg = heading_cdeg < 0 ? -1.0f : (float)((double)heading_cdeg / 100.0),
        .quality = quality,
    };
}

#define T0 1782885600000LL /* 2026-07-01T06:00:00Z */

static struct vg_store_record fix_record(int64_t unit, uint64_t seq, int64_t received,
                                         struct vg_fix f)
{
    struct vg_store_record r = {.unit_id = unit, .received_ms = received};
    r.rec.seq = seq;
    r.rec.type = VG_REC_FIX;
    r.rec.fix = f;
    return r;
}

static struct vg_store_record simple_fix(int64_t unit, uint64_t seq, int64_t received)
{
    return fix_record(unit, seq, received,
                      wire_fix(T0 + (int64_t)seq * 1000, 488566000 + (int32_t)seq,
                               23522000 - (int32_t)seq, 500 + (int32_t)(seq % 1000), 150, 9000,
                               VG_FIX_3D));
}

static struct vg_store_record status_record(int64_t unit, uint64_t seq, int64_t received,
                                            uint8_t subject, struct vg_unit_status st)
{
    struct vg_store_record r = {.unit_id = unit, .received_ms = received};
    r.rec.seq = seq;
    r.rec.type = VG_REC_STATUS;
    r.rec.subject = subject;
    r.rec.status = st;
    return r;
}

static struct vg_store_record event_record(int64_t unit, uint64_t seq, int64_t received,
                                           uint8_t type, int64_t t, uint8_t kind)
{
    struct vg_store_record r = {.unit_id = unit, .received_ms = received};
    r.rec.seq = seq;
    r.rec.type = type;
    r.rec.event = (struct vg_unit_event){.time_ms = t, .kind = kind};
    return r;
}

static void assert_same_double(double a, double b, const char *what)
{
    if (isnan(a) && isnan(b))
        return;
    if (!(a == b))
        fail_msg("%s: %.17g != %.17g", what, a, b);
}

static void assert_same_fix(const struct vg_fix *a, const struct vg_fix *b)
{
    assert_int_equal(a->time_ms, b->time_ms);
    assert_same_double(a->lat_deg, b->lat_deg, "lat_deg");
    assert_same_double(a->lon_deg, b->lon_deg, "lon_deg");
    assert_same_double((double)a->accuracy_m, (double)b->accuracy_m, "accuracy_m");
    assert_same_double((double)a->speed_mps, (double)b->speed_mps, "speed_mps");
    assert_same_double((double)a->heading_deg, (double)b->heading_deg, "heading_deg");
    assert_int_equal(a->quality, b->quality);
}

static void assert_same_record(const struct vg_store_record *a, const struct vg_store_record *b)
{
    assert_int_equal(a->unit_id, b->unit_id);
    assert_int_equal(a->received_ms, b->received_ms);
    assert_int_equal(a->rec.seq, b->rec.seq);
    assert_int_equal(a->rec.type, b->rec.type);
    switch (a->rec.type) {
    case VG_REC_FIX: assert_same_fix(&a->rec.fix, &b->rec.fix); break;
    case VG_REC_STATUS:
        assert_int_equal(a->rec.subject, b->rec.subject);
        assert_int_equal(a->rec.status.time_ms, b->rec.status.time_ms);
        assert_int_equal(a->rec.status.battery_pct, b->rec.status.battery_pct);
        assert_int_equal(a->rec.status.charging, b->rec.status.charging);
        assert_int_equal(a->rec.status.strap_closed, b->rec.status.strap_closed);
        assert_int_equal(a->rec.status.skin_contact, b->rec.status.skin_contact);
        assert_int_equal(a->rec.status.bracelet_link, b->rec.status.bracelet_link);
        assert_int_equal(a->rec.status.beacon_heard, b->rec.status.beacon_heard);
        assert_int_equal(a->rec.status.beacon_range_m, b->rec.status.beacon_range_m);
        break;
    default:
        assert_int_equal(a->rec.event.time_ms, b->rec.event.time_ms);
        assert_int_equal(a->rec.event.kind, b->rec.event.kind);
        break;
    }
}

struct rec_list {
    struct vg_store_record *v;
    size_t n, cap;
};

static int collect_record(void *arg, const struct vg_store_record *r)
{
    struct rec_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct vg_store_record *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *r;
    return 0;
}

static struct rec_list replay(struct vg_store *s, int64_t measure, int64_t since)
{
    struct rec_list l = {0};
    assert_int_equal(vg_store_replay(s, measure, since, collect_record, &l), 0);
    return l;
}

static int64_t count_records(struct vg_store *s, int64_t unit)
{
    int64_t n = -1;
    assert_int_equal(vg_store_count_records(s, unit, &n), 0);
    return n;
}

static int64_t count_alarms(struct vg_store *s, int64_t measure)
{
    int64_t n = -1;
    assert_int_equal(vg_store_count_alarms(s, measure, &n), 0);
    return n;
}

/* ---- units and measures read back -------------------------------------------------------- */

struct unit_copy {
    int64_t id;
    char serial[48];
    uint8_t role;
    int64_t measure_id;
    uint64_t acked_seq;
};

struct unit_list {
    struct unit_copy v[64];
    size_t n;
};

static int collect_unit(void *arg, const struct vg_store_unit_row *u)
{
    struct unit_list *l = arg;
    if (l->n == 64)
        return -1;
    struct unit_copy *c = &l->v[l->n++];
    c->id = u->id;
    snprintf(c->serial, sizeof c->serial, "%s", u->serial);
    c->role = u->role;
    c->measure_id = u->measure_id;
    c->acked_seq = u->acked_seq;
    return 0;
}

static struct unit_copy unit_by_id(struct vg_store *s, int64_t id)
{
    struct unit_list l = {.n = 0};
    assert_int_equal(vg_store_units(s, collect_unit, &l), 0);
    for (size_t i = 0; i < l.n; i++)
        if (l.v[i].id == id)
            return l.v[i];
    fail_msg("unit %lld not found", (long long)id);
    return l.v[0];
}

struct measure_copy {
    int64_t id;
    char name[48];
    char definition[128];
    bool has_state;
    uint8_t state[64];
    size_t state_len;
    uint32_t state_version;
};

struct measure_list {
    struct measure_copy v[16];
    size_t n;
};

static int collect_measure(void *arg, const struct vg_store_measure_row *m)
{
    struct measure_list *l = arg;
    if (l->n == 16 || m->state_len > 64)
        return -1;
    struct measure_copy *c = &l->v[l->n++];
    c->id = m->id;
    snprintf(c->name, sizeof c->name, "%s", m->name);
    snprintf(c->definition, sizeof c->definition, "%s", m->definition);
    c->has_state = m->state != NULL;
    c->state_len = m->state_len;
    c->state_version = m->state_version;
    if (m->state_len)
        memcpy(c->state, m->state, m->state_len);
    return 0;
}

static struct measure_list measures(struct vg_store *s)
{
    struct measure_list l = {.n = 0};
    assert_int_equal(vg_store_measures(s, collect_measure, &l), 0);
    return l;
}

/* ---- open, reopen, migrations, refusals -------------------------------------------------- */

static void test_open_close_reopen(void **state)
{
    struct fx *fx = *state;
    vg_store_close(NULL); /* accepted */
    struct vg_store *s = open_store(fx);
    int64_t units[3];
    int64_t m = provision(s, "M-1", 3, units);
    struct vg_store_record recs[3] = {simple_fix(units[0], 1, T0), simple_fix(units[0], 2, T0),
                                      simple_fix(units[1], 1, T0 + 1)};
    struct vg_store_batch b = {.records = recs, .n_records = 3};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(b.n_inserted, 3);

    reopen(fx);
    s = fx->s;
    assert_int_equal(count_records(s, units[0]), 2);
    assert_int_equal(count_records(s, units[1]), 1);
    assert_int_equal(count_records(s, units[2]), 0);
    struct measure_list ml = measures(s);
    assert_int_equal(ml.n, 1);
    assert_int_equal(ml.v[0].id, m);
    assert_string_equal(ml.v[0].name, "M-1");
    assert_string_equal(ml.v[0].definition, "{\"radius_m\":1000}");
    assert_false(ml.v[0].has_state);
    struct unit_copy u = unit_by_id(s, units[1]);
    assert_string_equal(u.serial, "M-1-U2");
    assert_int_equal(u.role, VG_ROLE_PROTECTED);
    assert_int_equal(u.measure_id, m);
    assert_int_equal(u.acked_seq, 0);
    assert_int_equal(vg_store_pending(s), 0);
}

static void test_two_stores_in_one_process(void **state)
{
    struct fx *fx = *state;
    struct fx other = {.s = NULL};
    snprintf(other.dir, sizeof other.dir, "%s/other", fx->dir);
    assert_int_equal(mkdir(other.dir, 0700), 0);
    backend->location(other.dir, other.loc, sizeof other.loc);
    struct vg_store *a = open_store(fx), *b = open_store(&other);
    int64_t ua[1], ub[2];
    provision(a, "A", 1, ua);
    provision(b, "B", 2, ub);
    struct vg_store_record r = simple_fix(ua[0], 1, T0);
    struct vg_store_batch batch = {.records = &r, .n_records = 1};
    assert_int_equal(run_batch(a, &batch), 0);
    assert_int_equal(measures(a).n, 1);
    assert_string_equal(measures(b).v[0].name, "B");
    assert_int_equal(count_records(a, ua[0]), 1);
    vg_store_close(b);
}

static void test_creates_missing_directories(void **state)
{
    struct fx *fx = *state;
    if (!backend->is_file)
        skip();
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/a/b", fx->dir);
    backend->location(dir, fx->loc, sizeof fx->loc);
    open_store(fx);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

/* The write-ahead log is folded into the database file as the writer goes
 * (by the checkpointer, off the commit path): it does not grow without end,
 * and what is committed reaches the database file. */
static void test_wal_is_checkpointed(void **state)
{
    struct fx *fx = *state;
    if (!backend->is_file)
        skip();
    struct vg_store *s = open_store(fx);
    int64_t unit;
    provision(s, "W", 1, &unit);
    static struct vg_store_record recs[200];
    for (uint64_t k = 0; k < 100; k++) {
        for (size_t i = 0; i < 200; i++)
            recs[i] = simple_fix(unit, k * 200 + i + 1, T0);
        struct vg_store_batch b = {.records = recs, .n_records = 200};
        assert_int_equal(run_batch(s, &b), 0);
    }
    char db[PATH_MAX + 32], wal[PATH_MAX + 40];
    snprintf(db, sizeof db, "%s", fx->loc + (strncmp(fx->loc, "sqlite:", 7) == 0 ? 7 : 0));
    snprintf(wal, sizeof wal, "%s-wal", db);
    struct stat st_db = {0}, st_wal = {0};
    for (int i = 0; i < 100; i++) { /* the checkpointer runs a few times a second */
        assert_int_equal(stat(db, &st_db), 0);
        if (st_db.st_size > 1000000)
            break;
        usleep(20000);
    }
    assert_int_equal(stat(wal, &st_wal), 0);
    print_message("  20,000 fixes: database %lld bytes, write-ahead log %lld bytes\n",
                  (long long)st_db.st_size, (long long)st_wal.st_size);
    assert_true(st_db.st_size > 1000000); /* the fixes reached the database file */
}

static void test_migrations_once(void **state)
{
    struct fx *fx = *state;
    open_store(fx);
    int64_t n1, max1, sum1, n2, max2, sum2;
    assert_int_equal(backend->query_int(fx->loc, "SELECT count(*) FROM schema_migrations", &n1), 0);
    assert_int_equal(
        backend->query_int(fx->loc, "SELECT max(version) FROM schema_migrations", &max1), 0);
    assert_int_equal(
        backend->query_int(fx->loc, "SELECT sum(applied_ms) FROM schema_migrations", &sum1), 0);
    assert_true(n1 >= 1);
    assert_int_equal(n1, max1); /* versions 1..n, each once */
    assert_true(sum1 > 0);
    for (int i = 0; i < 2; i++) {
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL); /* a re-applied step would record a later time */
        reopen(fx);
        assert_int_equal(backend->query_int(fx->loc, "SELECT count(*) FROM schema_migrations", &n2),
                         0);
        assert_int_equal(
            backend->query_int(fx->loc, "SELECT max(version) FROM schema_migrations", &max2), 0);
        assert_int_equal(
            backend->query_int(fx->loc, "SELECT sum(applied_ms) FROM schema_migrations", &sum2), 0);
        assert_int_equal(n2, n1);
        assert_int_equal(max2, max1);
        assert_int_equal(sum2, sum1);
    }
}

static void test_refuses_newer_schema(void **state)
{
    struct fx *fx = *state;
    open_store(fx);
    vg_store_close(fx->s);
    fx->s = NULL;
    assert_int_equal(backend->exec(fx->loc, "INSERT INTO schema_migrations (version, applied_ms) "
                                            "VALUES (1000000, 0)"),
                     0);
    char err[256] = "";
    struct vg_store *s = NULL;
    int rc = vg_store_open(fx->loc, &s, err, sizeof err);
    assert_int_equal(rc, VG_ERANGE);
    assert_null(s);
    assert_non_null(strstr(err, "1000000"));
    assert_non_null(strstr(err, "newer"));
    /* nothing was changed: without the fake row it opens again */
    assert_int_equal(
        backend->exec(fx->loc, "DELETE FROM schema_migrations WHERE version = 1000000"), 0);
    open_store(fx);
}

static void expect_refused(const char *location, int expect_rc, const char *expect_text)
{
    char err[512] = "";
    struct vg_store *s = NULL;
    int rc = vg_store_open(location, &s, err, sizeof err);
    if (rc == 0)
        vg_store_close(s);
    assert_int_equal(rc, expect_rc);
    assert_null(s);
    if (!strstr(err, expect_text))
        fail_msg("error text '%s' does not mention '%s'", err, expect_text);
}

static void test_refuses_what_is_not_a_vigie_database(void **state)
{
    struct fx *fx = *state;
    if (!backend->is_file)
        skip();
    char path[PATH_MAX + 32], loc[PATH_MAX + 64];

    /* bytes that are not a database */
    snprintf(path, sizeof path, "%s/garbage.db", fx->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database, only text that looks like nothing\n", f);
    fclose(f);
    snprintf(loc, sizeof loc, "sqlite:%s", path);
    expect_refused(loc, VG_EFORMAT, "not a database");
    expect_refused(path, VG_EFORMAT, "garbage.db"); /* a plain path: the same backend */

    /* another application's database */
    snprintf(path, sizeof path, "%s/other.db", fx->dir);
    snprintf(loc, sizeof loc, "sqlite:%s", path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x INTEGER)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_refused(loc, VG_EFORMAT, "not a Vigie database");
    snprintf(path, sizeof path, "%s/app.db", fx->dir);
    snprintf(loc, sizeof loc, "sqlite:%s", path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA application_id = 42", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_refused(loc, VG_EFORMAT, "not a Vigie database");

    /* a file that cannot be opened (a directory; the tests may run as root,
     * for whom permissions are no obstacle) */
    snprintf(loc, sizeof loc, "sqlite:%s", fx->dir);
    expect_refused(loc, VG_ESTATE, "cannot open");

    /* locations */
    expect_refused("sqlite:", VG_EINVAL, "path");
    expect_refused("sqlite::memory:", VG_EINVAL, "memory");
}

/* A PostgreSQL server that does not answer, and a database that is another
 * application's: refused with the reason. */
static void test_refuses_what_postgresql_does_not_give(void **state)
{
    struct fx *fx = *state;
    /* port 1: nothing listens (whichever backend is under test) */
    expect_refused("postgresql://vigie@127.0.0.1:1/vigie?connect_timeout=5", VG_ESTATE,
                   "cannot connect");
    expect_refused("postgresql:host=127.0.0.1 port=1 dbname=vigie connect_timeout=5", VG_ESTATE,
                   "cannot connect");
    if (backend->is_file)
        return;
    /* a database with tables of its own, without schema_migrations */
    assert_int_equal(backend->exec(fx->loc, "CREATE TABLE t (x INTEGER)"), 0);
    expect_refused(fx->loc, VG_EFORMAT, "not a Vigie database");
    /* another application's schema_migrations (Rails names its table so) */
    assert_int_equal(backend->exec(fx->loc, "DROP TABLE t; CREATE TABLE schema_migrations "
                                            "(version VARCHAR PRIMARY KEY)"),
                     0);
    expect_refused(fx->loc, VG_EFORMAT, "another application");
    /* empty again: it becomes a store */
    assert_int_equal(backend->exec(fx->loc, "DROP TABLE schema_migrations"), 0);
    struct vg_store *s = open_store(fx);
    int64_t u[1];
    provision(s, "P", 1, u);
}

static void test_empty_file_becomes_a_store(void **state)
{
    struct fx *fx = *state;
    if (!backend->is_file)
        skip();
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/empty.db", fx->dir);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    snprintf(fx->loc, sizeof fx->loc, "%s", path); /* plain path */
    struct vg_store *s = open_store(fx);
    int64_t u[1];
    provision(s, "E", 1, u);
}

/* ---- records ----------------------------------------------------------------------------- */

/* One stored integer of a record, behind the interface. */
static int64_t stored_int(const struct fx *fx, const char *table, const char *column, int64_t unit,
                          uint64_t seq)
{
    char sql[256];
    int64_t v = INT64_MIN;
    snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE unit_id = %lld AND seq = %llu", column,
             table, (long long)unit, (unsigned long long)seq);
    assert_int_equal(backend->query_int(fx->loc, sql, &v), 0);
    return v;
}

static void test_records_round_trip(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u[3], other[1];
    int64_t m = provision(s, "M-1", 3, u);
    int64_t m2 = provision(s, "M-2", 1, other);
    int64_t a = u[0], p = u[1], br = u[2];

    struct vg_store_record recs[] = {
        /* a full fix, extremes of the wire's integers */
        fix_record(a, 1, T0 + 10, wire_fix(T0, 488566123, 23522456, 350, 1234, 35999, VG_FIX_3D)),
        fix_record(a, 2, T0 + 10, wire_fix(T0 + 1, -900000000, -1800000000, 1, 0, 0, VG_FIX_2D)),
        fix_record(a, 3, T0 + 10,
                   wire_fix(T0 + 2, 900000000, 1800000000, 10000000, 100000, 1, VG_FIX_DGNSS)),
        /* the largest accuracy the wire carries (u32 cm, 42,950 km) */
        fix_record(a, 9, T0 + 10, wire_fix(T0, 1, -1, UINT32_MAX, 65535, 35999, VG_FIX_2D)),
        /* unknown speed and heading */
        fix_record(p, 1, T0 + 5, wire_fix(T0 + 3, 433000000, 53700000, 1500, -1, -1, VG_FIX_2D)),
        /* without position, as the decoder gives it */
        fix_record(p, 2, T0 + 20, wire_fix(T0 + 4, 0, 0, 0, -1, -1, VG_FIX_NONE)),
        /* without position, with leftovers that mean nothing (checked apart) */
        fix_record(p, 3, T0 + 20,
                   (struct vg_fix){.time_ms = T0 + 5,
                                   .lat_deg = 12.5,
                                   .lon_deg = (double)NAN,
                                   .accuracy_m = NAN,
                                   .speed_mps = 3,
                                   .heading_deg = 90,
                                   .quality = VG_FIX_NONE}),
        /* statuses: every sensor known; the bracelet's relayed; unknown sensors */
        status_record(a, 4, T0 + 10, VG_SUBJECT_SELF,
                      (struct vg_unit_status){T0 + 6, 87, 1, -1, -1, 1, -1, -1}),
        status_record(a, 5, T0 + 30, VG_SUBJECT_BRACELET,
                      (struct vg_unit_status){T0 + 7, 12, 0, 0, 1, -1, -1, -1}),
        status_record(p, 4, T0 + 30, VG_SUBJECT_SELF,
                      (struct vg_unit_status){T0 + 8, 100, 0, -1, -1, -1, 1, 35}),
        status_record(br, 1, T0 + 30, VG_SUBJECT_SELF,
                      (struct vg_unit_status){T0 + 9, -1, -1, -1, -1, -1, -1, -1}),
        status_record(br, 2, T0 + 31, VG_SUBJECT_SELF,
                      (struct vg_unit_status){T0 + 10, 0, 1, 1, 0, 0, -1, -1}),
        /* events and heartbeats */
        event_record(p, 5, T0 + 40, VG_REC_EVENT, T0 + 11, VG_EVENT_SOS),
        event_record(p, 6, T0 + 40, VG_REC_EVENT, T0 + 12, VG_EVENT_CALLBACK_REQUEST),
        event_record(a, 6, T0 + 40, VG_REC_EVENT, T0 + 13, VG_EVENT_POWER_OFF),
        event_record(a, 7, T0 + 41, VG_REC_EVENT, T0 + 14, VG_EVENT_POWER_ON),
        event_record(a, 8, T0 + 41, VG_REC_HEARTBEAT, T0 + 15, VG_EVENT_HEARTBEAT),
        event_record(br, 3, T0 + 0, VG_REC_HEARTBEAT, T0 + 16, VG_EVENT_HEARTBEAT),
        /* another measure's unit: not in M-1's replay */
        simple_fix(other[0], 1, T0 + 10),
    };
    size_t n = ARRAY_LEN(recs);
    struct vg_store_batch b = {.records = recs, .n_records = n};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(b.n_inserted, n);
    /* what comes back for the fix with leftovers: the decoder's form */
    recs[6].rec.fix = wire_fix(T0 + 5, 0, 0, 0, -1, -1, VG_FIX_NONE);

    /* expected order: received, then (unit, seq) */
    size_t order[ARRAY_LEN(recs)];
    size_t n_m1 = 0;
    for (size_t i = 0; i < n; i++)
        if (recs[i].unit_id != other[0])
            order[n_m1++] = i;
    for (size_t i = 1; i < n_m1; i++)
        for (size_t j = i; j > 0; j--) {
            const struct vg_store_record *x = &recs[order[j - 1]], *y = &recs[order[j]];
            bool after = x->received_ms > y->received_ms ||
                         (x->received_ms == y->received_ms &&
                          (x->unit_id > y->unit_id ||
                           (x->unit_id == y->unit_id && x->rec.seq > y->rec.seq)));
            if (!after)
                break;
            size_t t = order[j - 1];
            order[j - 1] = order[j];
            order[j] = t;
        }

    for (int pass = 0; pass < 2; pass++) { /* before and after a reopen */
        struct rec_list l = replay(s, m, 0);
        assert_int_equal(l.n, n_m1);
        for (size_t i = 0; i < l.n; i++)
            assert_same_record(&l.v[i], &recs[order[i]]);
        free(l.v);

        /* since: received at or after T0 + 30 */
        l = replay(s, m, T0 + 30);
        size_t k = 0;
        for (size_t i = 0; i < n_m1; i++) {
            if (recs[order[i]].received_ms < T0 + 30)
                continue;
            assert_true(k < l.n);
            assert_same_record(&l.v[k++], &recs[order[i]]);
        }
        assert_int_equal(k, l.n);
        free(l.v);

        l = replay(s, m2, 0);
        assert_int_equal(l.n, 1);
        assert_same_record(&l.v[0], &recs[n - 1]);
        free(l.v);
        l = replay(s, 999999, 0);
        assert_int_equal(l.n, 0);
        free(l.v);

        assert_int_equal(count_records(s, a), 9);
        assert_int_equal(count_records(s, p), 6);
        assert_int_equal(count_records(s, br), 3);
        assert_int_equal(count_records(s, 999999), 0);
        reopen(fx);
        s = fx->s;
    }

    /* the wire's integers, as stored */
    assert_int_equal(stored_int(fx, "fixes", "lat_e7", a, 1), 488566123);
    assert_int_equal(stored_int(fx, "fixes", "lon_e7", a, 1), 23522456);
    assert_int_equal(stored_int(fx, "fixes", "accuracy_cm", a, 1), 350);
    assert_int_equal(stored_int(fx, "fixes", "speed_cms", a, 1), 1234);
    assert_int_equal(stored_int(fx, "fixes", "heading_cdeg", a, 1), 35999);
    assert_int_equal(stored_int(fx, "fixes", "lat_e7", a, 2), -900000000);
    assert_int_equal(stored_int(fx, "fixes", "lon_e7", a, 3), 1800000000);
    assert_int_equal(stored_int(fx, "fixes", "accuracy_cm", a, 3), 10000000);
    char sql[512];
    int64_t v;
    snprintf(sql, sizeof sql,
             "SELECT " NULLS2("speed_cms", "heading_cdeg") " FROM fixes "
             "WHERE unit_id = %lld AND seq = 1",
             (long long)p);
    assert_int_equal(backend->query_int(fx->loc, sql, &v), 0);
    assert_int_equal(v, 2);
    for (int seq = 2; seq <= 3; seq++) { /* no position: nothing but NULLs */
        snprintf(sql, sizeof sql,
                 "SELECT " NULLS2("lat_e7", "lon_e7") " + " NULLS2("accuracy_cm", "speed_cms")
                 " + " IS_NULL("heading_cdeg") " FROM fixes "
                 "WHERE unit_id = %lld AND seq = %d",
                 (long long)p, seq);
        assert_int_equal(backend->query_int(fx->loc, sql, &v), 0);
        assert_int_equal(v, 5);
    }
    snprintf(sql, sizeof sql,
             "SELECT " NULLS2("battery", "charging") " + " NULLS2("strap_closed", "skin_contact")
             " + " NULLS2("bracelet_link", "beacon_heard") " + " IS_NULL("beacon_range_m")
             " FROM statuses WHERE unit_id = %lld AND seq = 1",
             (long long)br);
    assert_int_equal(backend->query_int(fx->loc, sql, &v), 0);
    assert_int_equal(v, 7);
    snprintf(sql, sizeof sql, "SELECT kind FROM events WHERE unit_id = %lld AND seq = 8",
             (long long)a);
    assert_int_equal(backend->query_int(fx->loc, sql, &v), 0);
    assert_int_equal(v, VG_EVENT_HEARTBEAT);
}

static void test_bad_records_fail_their_batch(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u[1];
    provision(s, "M", 1, u);
    char err[256];
    struct vg_store_record good = simple_fix(u[0], 1, T0);

    struct vg_store_record bad[2] = {good, simple_fix(999, 1, T0)}; /* unknown unit */
    struct vg_store_batch b = {.records = bad, .n_records = 2};
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_ENOTFOUND);
    assert_non_null(strstr(err, "999"));
    assert_int_equal(b.n_inserted, 0);

    bad[1] = simple_fix(u[0], 2, T0);
    bad[1].rec.type = 77;
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_EINVAL);
    bad[1] = fix_record(u[0], (uint64_t)INT64_MAX + 1, T0, good.rec.fix);
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_ERANGE);
    bad[1] = simple_fix(u[0], 2, T0);
    bad[1].rec.fix.lat_deg = (double)INFINITY;
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_ERANGE);
    bad[1].rec.fix.lat_deg = (double)NAN; /* a fix with a position needs one */
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_ERANGE);
    bad[1].rec.fix.lat_deg = 48;
    bad[1].rec.fix.accuracy_m = 5e7f; /* 5e9 cm: beyond the wire's u32 */
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_ERANGE);
    bad[1].rec.fix.accuracy_m = -1;
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_ERANGE);
    assert_int_equal(count_records(s, u[0]), 0); /* nothing of the failed batches */

    /* refused at submission: a count without its array */
    struct vg_store_batch hollow = {.n_records = 1};
    assert_int_equal(vg_store_submit(s, &hollow), VG_EINVAL);
    assert_int_equal(vg_store_submit(NULL, &hollow), VG_EINVAL);
    assert_int_equal(vg_store_submit(s, NULL), VG_EINVAL);
    assert_int_equal(vg_store_pending(s), 0);

    bad[1] = fix_record(u[0], (uint64_t)INT64_MAX, T0, good.rec.fix); /* the largest storable */
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(b.n_inserted, 2);
}

static void test_duplicates_stored_once(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u[2];
    int64_t m = provision(s, "M", 2, u);

    struct vg_store_record first[10];
    for (uint64_t i = 0; i < 10; i++)
        first[i] = simple_fix(u[0], i + 1, T0);
    struct vg_store_batch b1 = {.records = first, .n_records = 10};
    assert_int_equal(run_batch(s, &b1), 0);
    assert_int_equal(b1.n_inserted, 10);

    /* seq 5..15 (5..10 known, with other values: the first stored wins),
     * seq 20 twice in the batch, and the same seq of another unit */
    struct vg_store_record second[14];
    size_t n = 0;
    for (uint64_t seq = 5; seq <= 15; seq++) {
        second[n] = simple_fix(u[0], seq, T0 + 99);
        second[n++].rec.fix.lat_deg = 1.0;
    }
    second[n++] = simple_fix(u[0], 20, T0 + 100);
    second[n++] = simple_fix(u[0], 20, T0 + 101);
    second[n++] = simple_fix(u[1], 5, T0 + 100);
    struct vg_store_batch b2 = {.records = second, .n_records = n};
    assert_int_equal(run_batch(s, &b2), 0);
    assert_int_equal(b2.n_inserted, 5 + 1 + 1);
    assert_int_equal(count_records(s, u[0]), 16);
    assert_int_equal(count_records(s, u[1]), 1);

    /* the whole batch again: nothing new */
    assert_int_equal(run_batch(s, &b2), 0);
    assert_int_equal(b2.n_inserted, 0);

    struct rec_list l = replay(s, m, 0);
    assert_int_equal(l.n, 17);
    for (size_t i = 0; i < l.n; i++) {
        if (l.v[i].unit_id == u[0] && l.v[i].rec.seq <= 10)
            assert_same_record(&l.v[i], &first[l.v[i].rec.seq - 1]);
        if (l.v[i].unit_id == u[0] && l.v[i].rec.seq == 20)
            assert_int_equal(l.v[i].received_ms, T0 + 100); /* the first of the two */
    }
    free(l.v);
}

/* Batches queued from a done() are committed together in the next group
 * (see the top of the file). */
struct group_probe {
    struct vg_store *s;
    struct vg_store_batch *to_submit[4];
    size_t n;
    int rc[4];
};

struct probe_waiter {
    struct group_probe g;
    struct waiter w;
};

static void probe_done(struct vg_store_batch *b, int rc, const char *err)
{
    struct probe_waiter *pw = b->arg;
    for (size_t i = 0; i < pw->g.n; i++)
        pw->g.rc[i] = vg_store_submit(pw->g.s, pw->g.to_submit[i]);
    b->arg = &pw->w;
    waiter_done(b, rc, err);
}

static void wait_for(struct waiter *w)
{
    pthread_mutex_lock(&w->m);
    while (w->calls == 0)
        pthread_cond_wait(&w->c, &w->m);
    pthread_mutex_unlock(&w->m);
    assert_int_equal(w->calls, 1);
}

/* Submit b1..bn while the writer is busy with a trigger batch, so that they
 * are queued together (see the top of the file); wait for all. */
static void queue_together(struct vg_store *s, struct vg_store_batch **bs, struct waiter *ws,
                           size_t n)
{
    struct probe_waiter pw = {
        .g = {.s = s, .n = n},
        .w = {.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER},
    };
    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++) {
        ws[i] = (struct waiter){.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER};
        bs[i]->done = waiter_done;
        bs[i]->arg = &ws[i];
        pw.g.to_submit[i] = bs[i];
    }
    struct vg_store_batch trigger = {.done = probe_done, .arg = &pw};
    assert_int_equal(vg_store_submit(s, &trigger), 0);
    wait_for(&pw.w);
    assert_int_equal(pw.w.rc, 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pw.g.rc[i], 0);
        wait_for(&ws[i]);
    }
}

/* Submit b1..bn as one group; wait for all; one commit. */
static void run_group(struct vg_store *s, struct vg_store_batch **bs, struct waiter *ws, size_t n)
{
    queue_together(s, bs, ws, n);
    for (size_t i = 1; i < n; i++) /* one commit */
        assert_int_equal(bs[i]->committed_ns, bs[0]->committed_ns);
}

static void test_duplicates_within_one_group(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u[1];
    provision(s, "M", 1, u);
    struct vg_store_record r1[3] = {simple_fix(u[0], 1, T0), simple_fix(u[0], 2, T0),
                                    simple_fix(u[0], 3, T0)};
    struct vg_store_record r2[3] = {simple_fix(u[0], 3, T0), simple_fix(u[0], 4, T0),
                                    simple_fix(u[0], 1, T0)};
    struct vg_store_batch b1 = {.records = r1, .n_records = 3};
    struct vg_store_batch b2 = {.records = r2, .n_records = 3};
    struct vg_store_batch *bs[2] = {&b1, &b2};
    struct waiter ws[2];
    run_group(s, bs, ws, 2);
    assert_int_equal(ws[0].rc, 0);
    assert_int_equal(ws[1].rc, 0);
    assert_int_equal(b1.n_inserted, 3);
    assert_int_equal(b2.n_inserted, 1);
    assert_int_equal(count_records(s, u[0]), 4);
}

/* ---- alarms ------------------------------------------------------------------------------ */

static struct vg_store_alarm make_alarm(int64_t measure, uint32_t seq)
{
    struct vg_store_alarm sa = {.measure_id = measure};
    struct vg_alarm *a = &sa.alarm;
    a->seq = seq;
    a->kind = (uint16_t)(VG_ALARM_ALERT_ENTERED + seq % 3);
    a->unit = VG_UNIT_AUTHOR;
    a->priority = VG_PRIORITY_ALERT;
    a->flags = VG_ALARM_F_URGENT | VG_ALARM_F_LATE | VG_ALARM_F_AUTHORISED;
    a->level_from = VG_LEVEL_PREALERT;
    a->level_to = VG_LEVEL_ALERT;
    a->zone_index = (int16_t)(seq % 5);
    a->zone_id = 4000000000u + seq;
    a->at_ms = T0 + seq * 1000;
    a->raised_ms = T0 + seq * 1000 + 17;
    a->ev.author_fix =
        (struct vg_fix){T0 - 3, 48.856612345678901, 2.3522219, 12.5f, 1.25f, 271.5f, VG_FIX_3D};
    a->ev.protected_fix = (struct vg_fix){T0 - 4, 48.8606, 2.3376, 4.75f, -1, -1, VG_FIX_DGNSS};
    a->ev.distance_m = 987.654321 + seq;
    a->ev.uncertainty_m = 15.000000000000002;
    a->ev.threshold_m = 1000;
    a->ev.closing_speed_mps = -0.3333333333333333;
    a->ev.author_closed_m = 1e-300;
    a->ev.protected_closed_m = 123456789.123;
    a->ev.reach_m = 0.1;
    a->ev.approached_by = VG_PARTY_AUTHOR;
    a->ev.confidence = VG_CONFIDENCE_CONFIRMED;
    return sa;
}

static void assert_same_alarm(const struct vg_store_alarm *x, const struct vg_store_alarm *y)
{
    const struct vg_alarm *a = &x->alarm, *b = &y->alarm;
    assert_int_equal(x->measure_id, y->measure_id);
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->unit, b->unit);
    assert_int_equal(a->priority, b->priority);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->level_from, b->level_from);
    assert_int_equal(a->level_to, b->level_to);
    assert_int_equal(a->zone_index, b->zone_index);
    assert_int_equal(a->zone_id, b->zone_id);
    assert_int_equal(a->at_ms, b->at_ms);
    assert_int_equal(a->raised_ms, b->raised_ms);
    assert_same_fix(&a->ev.author_fix, &b->ev.author_fix);
    assert_same_fix(&a->ev.protected_fix, &b->ev.protected_fix);
    assert_same_double(a->ev.distance_m, b->ev.distance_m, "distance_m");
    assert_same_double(a->ev.uncertainty_m, b->ev.uncertainty_m, "uncertainty_m");
    assert_same_double(a->ev.threshold_m, b->ev.threshold_m, "threshold_m");
    assert_same_double(a->ev.closing_speed_mps, b->ev.closing_speed_mps, "closing_speed_mps");
    assert_same_double(a->ev.author_closed_m, b->ev.author_closed_m, "author_closed_m");
    assert_same_double(a->ev.protected_closed_m, b->ev.protected_closed_m, "protected_closed_m");
    assert_same_double(a->ev.reach_m, b->ev.reach_m, "reach_m");
    assert_int_equal(a->ev.approached_by, b->ev.approached_by);
    assert_int_equal(a->ev.confidence, b->ev.confidence);
}

struct alarm_list {
    struct vg_store_alarm v[16];
    size_t n;
};

static int collect_alarm(void *arg, const struct vg_store_alarm *a)
{
    struct alarm_list *l = arg;
    if (l->n == 16)
        return -1;
    l->v[l->n++] = *a;
    return 0;
}

static void test_alarms_round_trip(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u[2];
    int64_t m = provision(s, "M", 2, u);
    int64_t m2 = provision(s, "M2", 0, u);

    struct vg_store_alarm alarms[6];
    for (uint32_t i = 0; i < 5; i++)
        alarms[i] = make_alarm(m, i + 1);
    /* the unusual: no zone, no fixes (quality NONE, NaN), unknowns, extremes */
    struct vg_alarm *odd = &alarms[4].alarm;
    odd->seq = UINT32_MAX;
    odd->kind = VG_ALARM_COMM_LOST;
    odd->unit = VG_UNIT_BRACELET;
    odd->flags = 0xFF;
    odd->zone_index = VG_ZONE_INDEX_NONE;
    odd->zone_id = UINT32_MAX;
    odd->at_ms = INT64_MIN + 1;
    odd->raised_ms = INT64_MAX;
    odd->ev.author_fix = (struct vg_fix){0, (double)NAN, (double)NAN, NAN, -1, -1, VG_FIX_NONE};
    odd->ev.protected_fix = (struct vg_fix){0};
    odd->ev.distance_m = -1;
    odd->ev.uncertainty_m = (double)NAN;
    odd->ev.threshold_m = 0;
    odd->ev.closing_speed_mps = (double)INFINITY;
    odd->ev.reach_m = -(double)INFINITY;
    odd->ev.approached_by = VG_PARTY_NONE;
    odd->ev.confidence = 0;
    alarms[5] = make_alarm(m2, 1); /* the same seq in another measure */

    struct vg_store_batch b = {.alarms = alarms, .n_alarms = 6};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(b.n_inserted, 0);     /* records only */
    assert_int_equal(run_batch(s, &b), 0); /* again: stored once */

    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(count_alarms(s, m), 5);
        assert_int_equal(count_alarms(s, m2), 1);
        assert_int_equal(count_alarms(s, 424242), 0);
        struct alarm_list l = {.n = 0};
        assert_int_equal(vg_store_alarms(s, m, 0, collect_alarm, &l), 0);
        assert_int_equal(l.n, 5);
        for (size_t i = 0; i < 5; i++)
            assert_same_alarm(&l.v[i], &alarms[i]); /* in seq order */
        l.n = 0;
        assert_int_equal(vg_store_alarms(s, m, 3, collect_alarm, &l), 0);
        assert_int_equal(l.n, 2);
        assert_int_equal(l.v[0].alarm.seq, 4);
        assert_same_alarm(&l.v[1], &alarms[4]);
        l.n = 0;
        assert_int_equal(vg_store_alarms(s, m2, 0, collect_alarm, &l), 0);
        assert_int_equal(l.n, 1);
        assert_same_alarm(&l.v[0], &alarms[5]);
        reopen(fx);
        s = fx->s;
    }

    /* an alarm of an unknown measure fails its batch */
    struct vg_store_alarm stray = make_alarm(777, 1);
    struct vg_store_batch bad = {.alarms = &stray, .n_alarms = 1};
    char err[256];
    assert_int_equal(run_batch_err(s, &bad, err, sizeof err), VG_ENOTFOUND);
    assert_non_null(strstr(err, "777"));
}

/* A callback stops the iteration with its own value. */
static int stop_at_two(void *arg, const struct vg_store_alarm *a)
{
    (void)a;
    return ++*(int *)arg == 2 ? 42 : 0;
}

/* Reads from inside a read's callback (the daemon replays a measure from
 * inside the measures' iteration), of the same kind too. */
struct nest {
    struct vg_store *s;
    int64_t measure;
    int rc;
    int depth;
    size_t inner_records, inner_alarms, inner_units;
    int64_t counted;
};

static int count_in_unit(void *arg, const struct vg_store_unit_row *u)
{
    struct nest *x = arg;
    int64_t n = 0;
    x->rc |= vg_store_count_records(x->s, u->id, &n);
    x->counted += n;
    x->inner_units++;
    return 0;
}

static int read_in_measure(void *arg, const struct vg_store_measure_row *m)
{
    struct nest *x = arg;
    struct rec_list l = {0};
    x->rc |= vg_store_replay(x->s, m->id, 0, collect_record, &l);
    x->inner_records += l.n;
    free(l.v);
    struct alarm_list al = {.n = 0};
    x->rc |= vg_store_alarms(x->s, m->id, 0, collect_alarm, &al);
    x->inner_alarms += al.n;
    x->rc |= vg_store_units(x->s, count_in_unit, x);
    return 0;
}

static int replay_in_replay(void *arg, const struct vg_store_record *r)
{
    (void)r;
    struct nest *x = arg;
    if (x->depth++ == 0) {
        struct rec_list l = {0};
        x->rc |= vg_store_replay(x->s, x->measure, 0, collect_record, &l);
        x->inner_records = l.n;
        free(l.v);
    }
    return 0;
}

static void test_read_callbacks(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u[2];
    int64_t m = provision(s, "M", 2, u);
    struct vg_store_alarm alarms[3] = {make_alarm(m, 1), make_alarm(m, 2), make_alarm(m, 3)};
    struct vg_store_record recs[3] = {simple_fix(u[0], 1, T0), simple_fix(u[0], 2, T0),
                                      simple_fix(u[1], 1, T0)};
    struct vg_store_batch b = {.alarms = alarms, .n_alarms = 3, .records = recs, .n_records = 3};
    assert_int_equal(run_batch(s, &b), 0);
    int calls = 0;
    assert_int_equal(vg_store_alarms(s, m, 0, stop_at_two, &calls), 42);
    assert_int_equal(calls, 2);

    struct nest x = {.s = s, .measure = m};
    assert_int_equal(vg_store_measures(s, read_in_measure, &x), 0);
    assert_int_equal(x.rc, 0);
    assert_int_equal(x.inner_records, 3);
    assert_int_equal(x.inner_alarms, 3);
    assert_int_equal(x.inner_units, 2);
    assert_int_equal(x.counted, 3);
    x = (struct nest){.s = s, .measure = m};
    assert_int_equal(vg_store_replay(s, m, 0, replay_in_replay, &x), 0);
    assert_int_equal(x.rc, 0);
    assert_int_equal(x.depth, 3);
    assert_int_equal(x.inner_records, 3);
    assert_int_equal(count_alarms(s, m), 3); /* everything was released */
}

/* ---- states, acks, provisioning ---------------------------------------------------------- */

static void test_states_upsert(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u[1];
    int64_t m1 = provision(s, "M1", 1, u);
    int64_t m2 = provision(s, "M2", 0, u);
    int64_t m3 = provision(s, "M3", 0, u);
    const uint8_t v1[] = {1, 2, 3, 0, 255}, v2[] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
    struct vg_store_state st[2] = {{m1, 1, sizeof v1, v1}, {m2, 7, 0, NULL}};
    struct vg_store_batch b = {.states = st, .n_states = 2};
    assert_int_equal(run_batch(s, &b), 0);
    struct measure_list l = measures(s);
    assert_int_equal(l.n, 3);
    assert_true(l.v[0].has_state);
    assert_int_equal(l.v[0].state_version, 1);
    assert_int_equal(l.v[0].state_len, sizeof v1);
    assert_memory_equal(l.v[0].state, v1, sizeof v1);
    assert_true(l.v[1].has_state); /* empty, but stored */
    assert_int_equal(l.v[1].state_len, 0);
    assert_int_equal(l.v[1].state_version, 7);
    assert_false(l.v[2].has_state);
    assert_int_equal(l.v[2].id, m3);

    /* a newer state replaces it, in the same batch as records */
    struct vg_store_record r = simple_fix(u[0], 1, T0);
    st[0] = (struct vg_store_state){m1, 2, sizeof v2, v2};
    b = (struct vg_store_batch){.states = st, .n_states = 1, .records = &r, .n_records = 1};
    assert_int_equal(run_batch(s, &b), 0);
    reopen(fx);
    s = fx->s;
    l = measures(s);
    assert_int_equal(l.v[0].state_version, 2);
    assert_int_equal(l.v[0].state_len, sizeof v2);
    assert_memory_equal(l.v[0].state, v2, sizeof v2);
    assert_int_equal(l.v[1].state_version, 7);

    /* a state of an unknown measure fails its batch, records with it */
    r = simple_fix(u[0], 2, T0);
    st[0].measure_id = 31337;
    char err[256];
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_ENOTFOUND);
    assert_int_equal(count_records(s, u[0]), 1);
}

static void test_acks_never_go_down(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u[2];
    provision(s, "M", 2, u);
    struct vg_store_unit_ack acks[3];
    struct vg_store_batch b = {.acks = acks};

    acks[0] = (struct vg_store_unit_ack){u[0], 100};
    b.n_acks = 1;
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(unit_by_id(s, u[0]).acked_seq, 100);
    acks[0].acked_seq = 50;
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(unit_by_id(s, u[0]).acked_seq, 100);
    /* in one batch: up then down */
    acks[0] = (struct vg_store_unit_ack){u[0], 200};
    acks[1] = (struct vg_store_unit_ack){u[0], 150};
    acks[2] = (struct vg_store_unit_ack){u[1], (uint64_t)INT64_MAX};
    b.n_acks = 3;
    assert_int_equal(run_batch(s, &b), 0);
    reopen(fx);
    s = fx->s;
    assert_int_equal(unit_by_id(s, u[0]).acked_seq, 200);
    assert_int_equal(unit_by_id(s, u[1]).acked_seq, (uint64_t)INT64_MAX);

    /* re-provisioning a unit keeps its ack */
    struct vg_store_unit_def again = {.serial = "M-U1", .role = VG_ROLE_AUTHOR, .measure = "M"};
    struct vg_store_batch p = {.units = &again, .n_units = 1};
    assert_int_equal(run_batch(s, &p), 0);
    assert_int_equal(again.id, u[0]);
    assert_int_equal(unit_by_id(s, u[0]).acked_seq, 200);

    char err[256];
    acks[0] = (struct vg_store_unit_ack){4242, 1};
    b.n_acks = 1;
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_ENOTFOUND);
    assert_non_null(strstr(err, "4242"));
}

static void test_provisioning(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    struct vg_store_measure_def ms[2] = {{.name = "M-A", .definition = "{\"a\":1}"},
                                         {.name = "M-B", .definition = "{\"b\":2}"}};
    struct vg_store_unit_def us[3] = {{"AUTH-1", VG_ROLE_AUTHOR, "M-A", 0},
                                      {"PROT-1", VG_ROLE_PROTECTED, "M-A", 0},
                                      {"SPARE-1", VG_ROLE_BRACELET, NULL, 0}};
    struct vg_store_batch b = {.measures = ms, .n_measures = 2, .units = us, .n_units = 3};
    assert_int_equal(run_batch(s, &b), 0);
    assert_true(ms[0].id > 0 && ms[1].id > 0 && ms[0].id != ms[1].id);
    assert_true(us[0].id > 0 && us[1].id > 0 && us[2].id > 0);

    struct unit_copy c = unit_by_id(s, us[0].id);
    assert_string_equal(c.serial, "AUTH-1");
    assert_int_equal(c.role, VG_ROLE_AUTHOR);
    assert_int_equal(c.measure_id, ms[0].id);
    c = unit_by_id(s, us[2].id);
    assert_int_equal(c.measure_id, 0); /* not assigned */
    assert_int_equal(c.role, VG_ROLE_BRACELET);

    /* upsert by serial: the same unit moves to M-B with another role */
    struct vg_store_unit_def move = {"SPARE-1", VG_ROLE_AUTHOR, "M-B", 0};
    b = (struct vg_store_batch){.units = &move, .n_units = 1};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(move.id, us[2].id);
    c = unit_by_id(s, us[2].id);
    assert_int_equal(c.measure_id, ms[1].id);
    assert_int_equal(c.role, VG_ROLE_AUTHOR);

    /* refused: an unknown measure name (nothing of the batch stays), a bad role */
    struct vg_store_measure_def extra = {.name = "M-C", .definition = "{}"};
    struct vg_store_unit_def lost[2] = {{"NEW-1", VG_ROLE_AUTHOR, "M-C", 0},
                                        {"NEW-2", VG_ROLE_AUTHOR, "no such measure", 0}};
    b = (struct vg_store_batch){.measures = &extra, .n_measures = 1, .units = lost, .n_units = 2};
    char err[256];
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_ENOTFOUND);
    assert_non_null(strstr(err, "no such measure"));
    assert_int_equal(extra.id, 0);
    assert_int_equal(lost[0].id, 0);
    assert_int_equal(measures(s).n, 2);
    struct vg_store_unit_def bad_role = {"NEW-3", 9, "M-A", 0};
    b = (struct vg_store_batch){.units = &bad_role, .n_units = 1};
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_EINVAL);
    struct vg_store_measure_def unnamed = {.name = "", .definition = "{}"};
    b = (struct vg_store_batch){.measures = &unnamed, .n_measures = 1};
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_EINVAL);

    struct unit_list ul = {.n = 0};
    assert_int_equal(vg_store_units(s, collect_unit, &ul), 0);
    assert_int_equal(ul.n, 3);
}

static void test_duplicate_measure_fails_alone(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u[2];
    int64_t m = provision(s, "M-1", 2, u);

    /* batch A: a new measure and a duplicate; batch B: records, an alarm,
     * a state, an ack; batch C: a good new measure — one group */
    struct vg_store_measure_def a_defs[2] = {{.name = "M-NEW", .definition = "{}"},
                                             {.name = "M-1", .definition = "{}"}};
    struct vg_store_batch a = {.measures = a_defs, .n_measures = 2};
    struct vg_store_record recs[4] = {simple_fix(u[0], 1, T0), simple_fix(u[0], 2, T0),
                                      simple_fix(u[1], 1, T0), simple_fix(u[1], 2, T0)};
    struct vg_store_alarm al = make_alarm(m, 1);
    const uint8_t blob[3] = {1, 2, 3};
    struct vg_store_state st = {m, 3, 3, blob};
    struct vg_store_unit_ack ack = {u[0], 2};
    struct vg_store_batch b = {.records = recs,
                               .n_records = 4,
                               .alarms = &al,
                               .n_alarms = 1,
                               .states = &st,
                               .n_states = 1,
                               .acks = &ack,
                               .n_acks = 1};
    struct vg_store_measure_def c_def = {.name = "M-2", .definition = "{}"};
    struct vg_store_batch c = {.measures = &c_def, .n_measures = 1};
    struct vg_store_batch *bs[3] = {&a, &b, &c};
    struct waiter ws[3];
    run_group(s, bs, ws, 3);

    assert_int_equal(ws[0].rc, VG_EDUPLICATE);
    assert_non_null(strstr(ws[0].err, "M-1"));
    assert_int_equal(a_defs[0].id, 0);
    assert_int_equal(ws[1].rc, 0);
    assert_int_equal(b.n_inserted, 4);
    assert_int_equal(ws[2].rc, 0);
    assert_true(c_def.id > 0);

    struct measure_list l = measures(s);
    assert_int_equal(l.n, 2); /* M-1 and M-2: M-NEW rolled back with its batch */
    assert_string_equal(l.v[0].name, "M-1");
    assert_string_equal(l.v[1].name, "M-2");
    assert_int_equal(l.v[0].state_version, 3);
    assert_int_equal(count_records(s, u[0]), 2);
    assert_int_equal(count_records(s, u[1]), 2);
    assert_int_equal(count_alarms(s, m), 1);
    assert_int_equal(unit_by_id(s, u[0]).acked_seq, 2);
}

/* ---- the writer: order, close, back-pressure --------------------------------------------- */

struct order_log {
    pthread_mutex_t m;
    size_t n;
    size_t *seen; /* index of each done() call, in call order */
    int *calls;   /* per batch */
    int failures;
};

struct order_item {
    struct order_log *log;
    size_t index;
};

static void order_done(struct vg_store_batch *b, int rc, const char *err)
{
    (void)err;
    struct order_item *it = b->arg;
    struct order_log *log = it->log;
    pthread_mutex_lock(&log->m);
    log->seen[log->n++] = it->index;
    log->calls[it->index]++;
    if (rc != 0)
        log->failures++;
    pthread_mutex_unlock(&log->m);
}

static void test_done_once_in_order(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u[1];
    provision(s, "M", 1, u);
    enum { N = 3000 };
    struct vg_store_batch *bs = calloc(N, sizeof *bs);
    struct vg_store_record *recs = calloc(N, sizeof *recs);
    struct order_item *items = calloc(N, sizeof *items);
    struct order_log log = {.m = PTHREAD_MUTEX_INITIALIZER,
                            .seen = calloc(N, sizeof(size_t)),
                            .calls = calloc(N, sizeof(int))};
    assert_true(bs && recs && items && log.seen && log.calls);
    size_t max_pending = 0;
    for (size_t i = 0; i < N; i++) {
        /* every tenth batch fails (a record of an unknown unit) */
        recs[i] = simple_fix(i % 10 == 9 ? 99999 : u[0], i + 1, T0);
        items[i] = (struct order_item){&log, i};
        bs[i] = (struct vg_store_batch){
            .records = &recs[i], .n_records = 1, .done = order_done, .arg = &items[i]};
        assert_int_equal(vg_store_submit(s, &bs[i]), 0);
        size_t p = vg_store_pending(s);
        if (p > max_pending)
            max_pending = p;
    }
    /* wait for the last one */
    for (;;) {
        pthread_mutex_lock(&log.m);
        size_t n = log.n;
        pthread_mutex_unlock(&log.m);
        if (n == N)
            break;
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
    assert_int_equal(vg_store_pending(s), 0);
    assert_true(max_pending >= 1);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(log.seen[i], i);
        assert_int_equal(log.calls[i], 1);
        assert_int_equal(bs[i].n_inserted, i % 10 == 9 ? 0 : 1);
        assert_true(bs[i].committed_ns >= bs[i].submitted_ns);
        if (i > 0)
            assert_true(bs[i].committed_ns >= bs[i - 1].committed_ns);
    }
    assert_int_equal(log.failures, N / 10);
    assert_int_equal(count_records(s, u[0]), N - N / 10);
    free(bs);
    free(recs);
    free(items);
    free(log.seen);
    free(log.calls);
}

/* The first batch's done() waits for the main thread to start closing,
 * then submits until the store refuses (VG_ESTATE). */
struct close_probe {
    pthread_mutex_t m;
    pthread_cond_t c;
    bool closing_soon;
    struct vg_store *s;
    struct vg_store_batch extra[10000];
    size_t n_extra_accepted;
    int refused_rc;
    int extra_done;
};

static void extra_done(struct vg_store_batch *b, int rc, const char *err)
{
    (void)err;
    struct close_probe *cp = b->arg;
    if (rc == 0)
        cp->extra_done++; /* the writer thread alone */
}

static void first_done(struct vg_store_batch *b, int rc, const char *err)
{
    (void)rc;
    (void)err;
    struct close_probe *cp = b->arg;
    pthread_mutex_lock(&cp->m);
    while (!cp->closing_soon)
        pthread_cond_wait(&cp->c, &cp->m);
    pthread_mutex_unlock(&cp->m);
    for (size_t i = 0; i < ARRAY_LEN(cp->extra); i++) {
        cp->extra[i] = (struct vg_store_batch){.done = extra_done, .arg = cp};
        int r = vg_store_submit(cp->s, &cp->extra[i]);
        if (r != 0) {
            cp->refused_rc = r;
            return;
        }
        cp->n_extra_accepted++;
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
}

static void test_close_drains_the_queue(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u[1];
    provision(s, "M", 1, u);
    enum { N = 1000 };
    struct vg_store_batch *bs = calloc(N, sizeof *bs);
    struct vg_store_record *recs = calloc(N * 5, sizeof *recs);
    struct order_item *items = calloc(N, sizeof *items);
    struct order_log log = {.m = PTHREAD_MUTEX_INITIALIZER,
                            .seen = calloc(N, sizeof(size_t)),
                            .calls = calloc(N, sizeof(int))};
    struct close_probe *cp = calloc(1, sizeof *cp);
    assert_true(bs && recs && items && log.seen && log.calls && cp);
    pthread_mutex_init(&cp->m, NULL);
    pthread_cond_init(&cp->c, NULL);
    cp->s = s;

    struct vg_store_batch first = {.done = first_done, .arg = cp};
    assert_int_equal(vg_store_submit(s, &first), 0);
    for (size_t i = 0; i < N; i++) {
        for (size_t k = 0; k < 5; k++)
            recs[i * 5 + k] = simple_fix(u[0], i * 5 + k + 1, T0);
        items[i] = (struct order_item){&log, i};
        bs[i] = (struct vg_store_batch){
            .records = &recs[i * 5], .n_records = 5, .done = order_done, .arg = &items[i]};
        assert_int_equal(vg_store_submit(s, &bs[i]), 0);
    }
    pthread_mutex_lock(&cp->m);
    cp->closing_soon = true;
    pthread_cond_signal(&cp->c);
    pthread_mutex_unlock(&cp->m);
    vg_store_close(s); /* everything queued is committed, every done() called */
    fx->s = NULL;

    assert_int_equal(log.n, N);
    assert_int_equal(log.failures, 0);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(log.seen[i], i);
        assert_int_equal(log.calls[i], 1);
    }
    assert_int_equal(cp->refused_rc, VG_ESTATE);
    assert_int_equal((size_t)cp->extra_done, cp->n_extra_accepted);

    s = open_store(fx);
    assert_int_equal(count_records(s, u[0]), N * 5);
    pthread_mutex_destroy(&cp->m);
    pthread_cond_destroy(&cp->c);
    free(cp);
    free(bs);
    free(recs);
    free(items);
    free(log.seen);
    free(log.calls);
}

/* ---- concurrency: 4 submitters, a reader ------------------------------------------------- */

enum {
    SUBMITTERS = 4,
    BATCHES_PER_SUBMITTER = 10000,
    RECORDS_PER_BATCH = 10,
    UNITS_PER_SUBMITTER = RECORDS_PER_BATCH,
};

struct submitter {
    struct vg_store *s;
    int64_t units[UNITS_PER_SUBMITTER];
    struct vg_store_batch *batches;
    struct vg_store_record *records;
    atomic_size_t done_ok, done_failed, inserted;
    atomic_int calls_out_of_order;
    atomic_size_t next_expected;
    int submit_failures;
};

static void submitter_done(struct vg_store_batch *b, int rc, const char *err)
{
    (void)err;
    struct submitter *sub = b->arg;
    size_t index = (size_t)(b - sub->batches);
    /* one submitter's batches complete in its submission order */
    if (atomic_fetch_add(&sub->next_expected, 1) != index)
        atomic_fetch_add(&sub->calls_out_of_order, 1);
    if (rc == 0) {
        atomic_fetch_add(&sub->done_ok, 1);
        atomic_fetch_add(&sub->inserted, b->n_inserted);
    } else {
        atomic_fetch_add(&sub->done_failed, 1);
    }
}

static void *submitter_main(void *arg)
{
    struct submitter *sub = arg;
    for (size_t i = 0; i < BATCHES_PER_SUBMITTER; i++) {
        for (size_t k = 0; k < RECORDS_PER_BATCH; k++)
            sub->records[i * RECORDS_PER_BATCH + k] =
                simple_fix(sub->units[k], i + 1, T0 + (int64_t)i);
        sub->batches[i] = (struct vg_store_batch){.records = &sub->records[i * RECORDS_PER_BATCH],
                                                  .n_records = RECORDS_PER_BATCH,
                                                  .done = submitter_done,
                                                  .arg = sub};
        if (vg_store_submit(sub->s, &sub->batches[i]) != 0)
            sub->submit_failures++;
    }
    return NULL;
}

struct reader {
    struct vg_store *s;
    const int64_t *units;
    size_t n_units;
    atomic_bool stop;
    int64_t last[SUBMITTERS * UNITS_PER_SUBMITTER];
    size_t reads;
    int errors;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    while (!atomic_load(&r->stop)) {
        for (size_t i = 0; i < r->n_units; i++) {
            int64_t n;
            if (vg_store_count_records(r->s, r->units[i], &n) != 0 || n < r->last[i] ||
                n > BATCHES_PER_SUBMITTER)
                r->errors++; /* counts only grow, up to the total */
            else
                r->last[i] = n;
            r->reads++;
        }
    }
    return NULL;
}

static void test_concurrent_submitters_and_reader(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t all_units[SUBMITTERS * UNITS_PER_SUBMITTER];
    struct submitter *subs = calloc(SUBMITTERS, sizeof *subs);
    assert_non_null(subs);
    for (size_t t = 0; t < SUBMITTERS; t++) {
        char name[16];
        snprintf(name, sizeof name, "C%zu", t);
        provision(s, name, UNITS_PER_SUBMITTER, subs[t].units);
        memcpy(&all_units[t * UNITS_PER_SUBMITTER], subs[t].units, sizeof subs[t].units);
        subs[t].s = s;
        subs[t].batches = calloc(BATCHES_PER_SUBMITTER, sizeof *subs[t].batches);
        subs[t].records =
            calloc((size_t)BATCHES_PER_SUBMITTER * RECORDS_PER_BATCH, sizeof *subs[t].records);
        assert_true(subs[t].batches && subs[t].records);
    }
    struct reader *rd = calloc(1, sizeof *rd);
    assert_non_null(rd);
    rd->s = s;
    rd->units = all_units;
    rd->n_units = ARRAY_LEN(all_units);

    pthread_t reader_thread, threads[SUBMITTERS];
    assert_int_equal(pthread_create(&reader_thread, NULL, reader_main, rd), 0);
    for (size_t t = 0; t < SUBMITTERS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, submitter_main, &subs[t]), 0);
    for (size_t t = 0; t < SUBMITTERS; t++)
        pthread_join(threads[t], NULL);
    /* wait for every done() */
    for (;;) {
        size_t finished = 0;
        for (size_t t = 0; t < SUBMITTERS; t++)
            finished += atomic_load(&subs[t].done_ok) + atomic_load(&subs[t].done_failed);
        if (finished == SUBMITTERS * BATCHES_PER_SUBMITTER)
            break;
        struct timespec pause = {0, 2000000};
        nanosleep(&pause, NULL);
    }
    atomic_store(&rd->stop, true);
    pthread_join(reader_thread, NULL);

    assert_int_equal(vg_store_pending(s), 0);
    assert_int_equal(rd->errors, 0);
    assert_true(rd->reads > 0);
    for (size_t t = 0; t < SUBMITTERS; t++) {
        assert_int_equal(subs[t].submit_failures, 0);
        assert_int_equal(atomic_load(&subs[t].done_failed), 0);
        assert_int_equal(atomic_load(&subs[t].done_ok), BATCHES_PER_SUBMITTER);
        assert_int_equal(atomic_load(&subs[t].inserted), BATCHES_PER_SUBMITTER * RECORDS_PER_BATCH);
        assert_int_equal(atomic_load(&subs[t].calls_out_of_order), 0);
    }
    for (size_t i = 0; i < ARRAY_LEN(all_units); i++)
        assert_int_equal(count_records(s, all_units[i]), BATCHES_PER_SUBMITTER);
    for (size_t t = 0; t < SUBMITTERS; t++) {
        free(subs[t].batches);
        free(subs[t].records);
    }
    free(subs);
    free(rd);
}

/* ---- durability: kill -9 a writer, every acknowledged record is there -------------------- */

enum { DURABLE_BATCH = 10 };

struct child_batch {
    struct vg_store_batch b;
    struct vg_store_record recs[DURABLE_BATCH];
    int fd;
};

static void child_done(struct vg_store_batch *b, int rc, const char *err)
{
    (void)err;
    struct child_batch *cb = b->arg;
    char line[64];
    int n = rc == 0 ? snprintf(line, sizeof line, "%llu\n",
                               (unsigned long long)cb->recs[DURABLE_BATCH - 1].rec.seq)
                    : snprintf(line, sizeof line, "FAIL %d\n", rc);
    /* one write below PIPE_BUF: whole lines only */
    if (write(cb->fd, line, (size_t)n) != n)
        _exit(3);
    free(cb);
}

/* The child: provision, then submit batches forever (32 in flight at
 * most), printing each batch's last sequence number once it is durable. */
static void durability_child(const char *loc, int fd)
{
    struct vg_store *s = NULL;
    char err[256];
    if (vg_store_open(loc, &s, err, sizeof err) != 0)
        _exit(2);
    struct vg_store_measure_def m = {.name = "D", .definition = "{}"};
    struct vg_store_unit_def u = {"D-U1", VG_ROLE_AUTHOR, "D", 0};
    struct waiter w = {.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER};
    struct vg_store_batch p = {
        .measures = &m, .n_measures = 1, .units = &u, .n_units = 1, .done = waiter_done, .arg = &w};
    if (vg_store_submit(s, &p) != 0)
        _exit(2);
    pthread_mutex_lock(&w.m);
    while (w.calls == 0)
        pthread_cond_wait(&w.c, &w.m);
    pthread_mutex_unlock(&w.m);
    if (w.rc != 0)
        _exit(2);
    for (uint64_t seq = 1;; seq += DURABLE_BATCH) {
        while (vg_store_pending(s) >= 32) {
            struct timespec pause = {0, 100000};
            nanosleep(&pause, NULL);
        }
        struct child_batch *cb = calloc(1, sizeof *cb);
        if (!cb)
            _exit(2);
        for (size_t k = 0; k < DURABLE_BATCH; k++)
            cb->recs[k] = simple_fix(u.id, seq + k, T0 + (int64_t)seq);
        cb->fd = fd;
        cb->b = (struct vg_store_batch){
            .records = cb->recs, .n_records = DURABLE_BATCH, .done = child_done, .arg = cb};
        if (vg_store_submit(s, &cb->b) != 0)
            _exit(2);
    }
}

static void test_durability_after_kill(void **state)
{
    struct fx *fx = *state;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    for (int round = 0; round < 3; round++) {
        char dir[PATH_MAX + 16];
        snprintf(dir, sizeof dir, "%s/kill%d", fx->dir, round);
        backend->location(dir, fx->loc, sizeof fx->loc);
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            durability_child(fx->loc, fds[1]);
            _exit(1);
        }
        close(fds[1]);
        FILE *in = fdopen(fds[0], "r");
        assert_non_null(in);

        /* kill at a random moment: after a random number of acks, plus a
         * random pause (so that it lands anywhere in a transaction) */
        long kill_after = 20 + rand() % 300;
        long acks = 0;
        uint64_t last = 0;
        char line[64];
        bool killed = false, failed = false;
        while (fgets(line, sizeof line, in)) {
            if (strncmp(line, "FAIL", 4) == 0) {
                failed = true;
                break;
            }
            uint64_t seq = strtoull(line, NULL, 10);
            if (seq != last + DURABLE_BATCH)
                fail_msg("seed %u: acks out of order (%llu after %llu)", seed,
                         (unsigned long long)seq, (unsigned long long)last);
            last = seq;
            if (!killed && ++acks == kill_after) {
                struct timespec pause = {0, (long)(rand() % 5000) * 1000};
                nanosleep(&pause, NULL);
                kill(pid, SIGKILL);
                killed = true; /* and read the acks already written */
            }
        }
        fclose(in);
        if (!killed)
            kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (failed || !killed || !WIFSIGNALED(status))
            fail_msg("seed %u: the child stopped on its own (status %d, last ack %llu)", seed,
                     status, (unsigned long long)last);

        /* every acknowledged record is there: 1..last, with nothing missing */
        struct vg_store *s = open_store(fx);
        struct unit_list ul = {.n = 0};
        assert_int_equal(vg_store_units(s, collect_unit, &ul), 0);
        assert_int_equal(ul.n, 1);
        struct rec_list l = replay(s, ul.v[0].measure_id, 0);
        assert_true(l.n >= last);
        uint8_t *seen = calloc(l.n + 1, 1);
        assert_non_null(seen);
        for (size_t i = 0; i < l.n; i++)
            if (l.v[i].rec.seq <= l.n)
                seen[l.v[i].rec.seq] = 1;
        for (uint64_t seq = 1; seq <= last; seq++)
            if (!seen[seq])
                fail_msg("seed %u: acknowledged record %llu lost", seed, (unsigned long long)seq);
        print_message("kill %d: %llu records acknowledged, %zu stored\n", round,
                      (unsigned long long)last, l.n);
        free(seen);
        free(l.v);
        vg_store_close(s);
        fx->s = NULL;
    }
}

/* A group ends with its last urgent batch (an alarm's): what is queued
 * behind it goes in the next transaction, in order. */
static void test_urgent_batch_ends_its_group(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u[1];
    provision(s, "M-1", 1, u);
    struct vg_store_record ra = simple_fix(u[0], 1, T0), rb = simple_fix(u[0], 2, T0),
                           rc = simple_fix(u[0], 3, T0);
    struct vg_store_batch a = {.records = &ra, .n_records = 1};
    struct vg_store_batch b = {.records = &rb, .n_records = 1, .urgent = true};
    struct vg_store_batch c = {.records = &rc, .n_records = 1};
    struct vg_store_batch *bs[3] = {&a, &b, &c};
    struct waiter ws[3];
    queue_together(s, bs, ws, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(ws[i].rc, 0);
    assert_int_equal(a.committed_ns, b.committed_ns); /* together, up to the urgent one */
    assert_true(c.committed_ns > b.committed_ns);     /* the next transaction */
    assert_int_equal(count_records(s, u[0]), 3);
}

/* An urgent batch queued behind plain traffic of other pairs (batches that
 * declare the measures they feed) goes first, in a transaction of its own;
 * behind traffic of its own pair, or behind a batch that declares nothing,
 * it keeps its place (and ends its group, as above). */
static void test_urgent_batch_passes_other_pairs_only(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u1[1], u2[1];
    int64_t m1 = provision(s, "M-1", 1, u1), m2 = provision(s, "M-2", 1, u2);
    struct vg_store_record r[8];
    for (uint64_t i = 0; i < 4; i++) {
        r[i] = simple_fix(u1[0], i + 1, T0 + (int64_t)i);
        r[4 + i] = simple_fix(u2[0], i + 1, T0 + (int64_t)i);
    }
    struct waiter ws[4];

    /* another pair's traffic ahead: passed */
    struct vg_store_batch a = {.records = &r[0], .n_records = 1, .declares_fed = true,
                               .measures_fed = &m1, .n_measures_fed = 1};
    struct vg_store_batch b = {.records = &r[1], .n_records = 1, .declares_fed = true,
                               .measures_fed = &m1, .n_measures_fed = 1};
    struct vg_store_batch u = {.records = &r[4], .n_records = 1, .urgent = true};
    struct vg_store_batch *bs[3] = {&a, &b, &u};
    queue_together(s, bs, ws, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(ws[i].rc, 0);
    assert_true(u.committed_ns < a.committed_ns); /* first, alone */
    assert_int_equal(a.committed_ns, b.committed_ns);

    /* its own pair's traffic ahead (the measure it feeds): in order, together */
    struct vg_store_batch c = {.records = &r[5], .n_records = 1, .declares_fed = true,
                               .measures_fed = &m2, .n_measures_fed = 1};
    struct vg_store_batch d = {.records = &r[2], .n_records = 1, .declares_fed = true,
                               .measures_fed = &m1, .n_measures_fed = 1};
    struct vg_store_alarm alarm = {.measure_id = m2, .alarm = {.seq = 1, .kind = VG_ALARM_SOS}};
    struct vg_store_batch v = {.alarms = &alarm, .n_alarms = 1, .urgent = true};
    struct vg_store_batch *cs[3] = {&d, &c, &v};
    queue_together(s, cs, ws, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(ws[i].rc, 0);
    assert_int_equal(v.committed_ns, c.committed_ns);
    assert_int_equal(v.committed_ns, d.committed_ns);

    /* a batch that declares nothing ahead: nothing passes it */
    struct vg_store_batch e = {.records = &r[3], .n_records = 1};
    struct vg_store_batch w = {.records = &r[6], .n_records = 1, .urgent = true};
    struct vg_store_batch *es[2] = {&e, &w};
    queue_together(s, es, ws, 2);
    assert_int_equal(ws[0].rc, 0);
    assert_int_equal(ws[1].rc, 0);
    assert_int_equal(e.committed_ns, w.committed_ns);

    assert_int_equal(count_records(s, u1[0]), 4);
    assert_int_equal(count_records(s, u2[0]), 3);
    int64_t n = 0;
    assert_int_equal(vg_store_count_alarms(s, m2, &n), 0);
    assert_int_equal(n, 1);
}

/* ---- the journal -------------------------------------------------------------------------- */

struct journal_read {
    struct vg_journal_check check;
    int64_t ids[16];
    char details[16][64];
    size_t n;
};

static int journal_cb(void *arg, const struct vg_journal_entry *e)
{
    struct journal_read *r = arg;
    if (r->n < 16) {
        r->ids[r->n] = e->id;
        snprintf(r->details[r->n], sizeof r->details[r->n], "%s", e->detail);
    }
    r->n++;
    vg_journal_check_next(&r->check, e);
    return 0;
}

static struct journal_read read_journal(struct vg_store *s)
{
    struct journal_read r;
    memset(&r, 0, sizeof r);
    vg_journal_check_init(&r.check);
    assert_int_equal(vg_store_journal(s, 0, journal_cb, &r), 0);
    return r;
}

static struct vg_store_journal_entry jentry(const char *action, const char *detail)
{
    return (struct vg_store_journal_entry){
        .at_ms = T0, .actor = "test", .action = action, .subject = "M-1", .detail = detail};
}

/* Entries numbered and chained with their batch: a failed batch's entries
 * are not in the journal and use no number; the chain goes on after a
 * reopen; the head is the last committed entry. */
static void test_journal_chained_with_its_batch(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t u[2];
    provision(s, "M-1", 2, u);
    int64_t head = -1;
    uint8_t hash[VG_JOURNAL_HASH_LEN];
    assert_int_equal(vg_store_journal_head(s, &head, hash), 0);
    assert_int_equal(head, 0);

    struct vg_store_journal_entry ja[2] = {jentry("measure.create", "{\"n\":1}"),
                                           jentry("measure.read", "{\"n\":2}")};
    struct vg_store_measure_def a_def = {.name = "M-A", .definition = "{}"};
    struct vg_store_batch a = {.measures = &a_def, .n_measures = 1, .journal = ja, .n_journal = 2};
    struct vg_store_journal_entry jb = jentry("measure.create", "{\"n\":\"failed\"}");
    struct vg_store_measure_def b_def = {.name = "M-1",
                                         .definition = "{}"}; /* a duplicate: the batch fails */
    struct vg_store_batch b = {.measures = &b_def, .n_measures = 1, .journal = &jb, .n_journal = 1};
    struct vg_store_journal_entry jc = jentry("alarm.raised", "{\"n\":3}");
    struct vg_store_batch c = {.journal = &jc, .n_journal = 1};
    struct vg_store_batch *bs[3] = {&a, &b, &c};
    struct waiter ws[3];
    run_group(s, bs, ws, 3);
    assert_int_equal(ws[0].rc, 0);
    assert_int_equal(ws[1].rc, VG_EDUPLICATE);
    assert_int_equal(ws[2].rc, 0);
    assert_int_equal(ja[0].id, 1);
    assert_int_equal(ja[1].id, 2);
    assert_int_equal(jb.id, 0);
    assert_int_equal(jc.id, 3);

    struct journal_read r = read_journal(s);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.check.bad_id, 0);
    assert_int_equal(r.check.n, 3);
    assert_string_equal(r.details[2], "{\"n\":3}");
    assert_int_equal(vg_store_journal_head(s, &head, hash), 0);
    assert_int_equal(head, 3);
    assert_memory_equal(hash, r.check.last_hash, VG_JOURNAL_HASH_LEN);

    /* an entry without an actor fails its batch, with a message */
    struct vg_store_journal_entry bad = jentry("x", "{}");
    bad.actor = NULL;
    struct vg_store_batch d = {.journal = &bad, .n_journal = 1};
    char err[256];
    assert_int_equal(run_batch_err(s, &d, err, sizeof err), VG_EINVAL);
    assert_non_null(strstr(err, "actor"));

    reopen(fx);
    s = fx->s;
    struct vg_store_journal_entry je = jentry("measure.read", "{\"n\":4}");
    struct vg_store_batch e = {.journal = &je, .n_journal = 1};
    assert_int_equal(run_batch(s, &e), 0);
    assert_int_equal(je.id, 4);
    r = read_journal(s);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.check.bad_id, 0);
}

/* Editing the database behind the store's back: the verification names
 * the first entry that breaks the chain. */
static void test_journal_tampering_detected(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    struct vg_store_journal_entry j[5];
    char details[5][32];
    for (int i = 0; i < 5; i++) {
        snprintf(details[i], sizeof details[i], "{\"i\":%d}", i + 1);
        j[i] = jentry("measure.read", details[i]);
    }
    struct vg_store_batch b = {.journal = j, .n_journal = 5};
    assert_int_equal(run_batch(s, &b), 0);
    vg_store_close(s);
    fx->s = NULL;

    static const struct {
        const char *sql, *undo;
        int64_t bad;
        const char *why;
    } cases[] = {
        {"UPDATE journal SET detail = '{\"i\":9}' WHERE id = 3",
         "UPDATE journal SET detail = '{\"i\":3}' WHERE id = 3", 3, "modified"},
        {"UPDATE journal SET at_ms = at_ms + 1 WHERE id = 2",
         "UPDATE journal SET at_ms = at_ms - 1 WHERE id = 2", 2, "modified"},
        {"CREATE TABLE keep AS SELECT * FROM journal WHERE id = 2; DELETE FROM journal WHERE id = "
         "2",
         "INSERT INTO journal SELECT * FROM keep; DROP TABLE keep", 3, "missing"},
        /* 2 and 3 swap places (their ids exchanged) */
        {"UPDATE journal SET id = -2 WHERE id = 2; UPDATE journal SET id = 2 WHERE id = 3; "
         "UPDATE journal SET id = 3 WHERE id = -2",
         "UPDATE journal SET id = -2 WHERE id = 2; UPDATE journal SET id = 2 WHERE id = 3; "
         "UPDATE journal SET id = 3 WHERE id = -2",
         2, "modified"},
        /* entry 4 rewritten with a recomputed hash would still break at 5;
         * here its hash column is simply replaced */
        {"CREATE TABLE keep AS SELECT hash FROM journal WHERE id = 4; "
         "UPDATE journal SET hash = prev_hash WHERE id = 4",
         "UPDATE journal SET hash = (SELECT hash FROM keep) WHERE id = 4; DROP TABLE keep", 4,
         "modified"},
    };
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
        assert_int_equal(backend->exec(fx->loc, cases[k].sql), 0);
        s = open_store(fx);
        struct journal_read r = read_journal(s);
        if (r.check.bad_id != cases[k].bad || !strstr(r.check.why, cases[k].why))
            fail_msg("case %zu: bad entry %lld (%s), expected %lld (%s)", k,
                     (long long)r.check.bad_id, r.check.why, (long long)cases[k].bad, cases[k].why);
        vg_store_close(s);
        fx->s = NULL;
        assert_int_equal(backend->exec(fx->loc, cases[k].undo), 0);
        s = open_store(fx);
        r = read_journal(s);
        if (r.check.bad_id != 0) /* the undo restores the chain */
            fail_msg("case %zu undone: bad entry %lld (%s)", k, (long long)r.check.bad_id,
                     r.check.why);
        assert_int_equal(r.check.n, 5);
        vg_store_close(s);
        fx->s = NULL;
    }
}

/* ---- measures' versions and status ------------------------------------------------------ */

struct version_list {
    int64_t versions[8];
    char status[8][32];
    char note[8][32];
    size_t n;
};

static int collect_version(void *arg, const struct vg_store_measure_version_row *v)
{
    struct version_list *l = arg;
    if (l->n < 8) {
        l->versions[l->n] = v->version;
        snprintf(l->status[l->n], sizeof l->status[0], "%s", v->status);
        snprintf(l->note[l->n], sizeof l->note[0], "%s", v->note);
        l->n++;
    }
    return 0;
}

struct measure_seen {
    int64_t version;
    char status[32], end_reason[16], installation[128], definition[64];
};

static int seen_measure(void *arg, const struct vg_store_measure_row *m)
{
    struct measure_seen *x = arg;
    x->version = m->version;
    snprintf(x->status, sizeof x->status, "%s", m->status);
    snprintf(x->end_reason, sizeof x->end_reason, "%s", m->end_reason);
    snprintf(x->installation, sizeof x->installation, "%s", m->installation);
    snprintf(x->definition, sizeof x->definition, "%s", m->definition);
    return 0;
}

static int count_person(void *arg, const struct vg_store_person_row *p)
{
    (void)arg;
    (void)p;
    return 0;
}

static void test_measure_versions_and_status(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    struct vg_store_measure_def m = {.name = "V", .definition = "{\"r\":1}", .actor = "u-inst"};
    struct vg_store_batch b = {.measures = &m, .n_measures = 1};
    assert_int_equal(run_batch(s, &b), 0);
    /* the checklist alone makes no version */
    struct vg_store_measure_change inst = {
        .measure_id = m.id, .installation = "{\"author_fix_ms\":5}", .actor = "centre"};
    b = (struct vg_store_batch){.measure_changes = &inst, .n_measure_changes = 1};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(inst.version, 1);
    /* a new definition from version 1, then a status */
    struct vg_store_measure_change amend = {.measure_id = m.id,
                                            .based_on = 1,
                                            .definition = "{\"r\":2}",
                                            .note = "revision",
                                            .actor = "u-inst"};
    struct vg_store_measure_change lift = {.measure_id = m.id,
                                           .status = "ended",
                                           .end_reason = "lifted",
                                           .note = "order",
                                           .actor = "u-m"};
    b = (struct vg_store_batch){.measure_changes = &amend, .n_measure_changes = 1};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(amend.version, 2);
    /* made from version 1 again: stale, nothing changed */
    struct vg_store_measure_change old = amend;
    old.definition = "{\"r\":9}";
    b = (struct vg_store_batch){.measure_changes = &old, .n_measure_changes = 1};
    char err[256];
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_ESTALE);
    assert_non_null(strstr(err, "version 2"));
    struct vg_store_measure_change none = {.measure_id = 999, .status = "active", .actor = "x"};
    b = (struct vg_store_batch){.measure_changes = &none, .n_measure_changes = 1};
    assert_int_equal(run_batch(s, &b), VG_ENOTFOUND);
    b = (struct vg_store_batch){.measure_changes = &lift, .n_measure_changes = 1};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(lift.version, 3);
    struct measure_seen seen = {0};
    assert_int_equal(vg_store_measures(s, seen_measure, &seen), 0);
    assert_int_equal(seen.version, 3);
    assert_string_equal(seen.status, "ended");
    assert_string_equal(seen.end_reason, "lifted");
    assert_string_equal(seen.definition, "{\"r\":2}");
    assert_string_equal(seen.installation, "{\"author_fix_ms\":5}");
    struct version_list l = {0};
    assert_int_equal(vg_store_measure_versions(s, m.id, collect_version, &l), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.versions[0], 3);
    assert_string_equal(l.status[0], "ended");
    assert_string_equal(l.note[1], "revision");
    assert_string_equal(l.status[2], "pending_installation");
    assert_int_equal(vg_store_measure_versions(s, 999, collect_version, &l), VG_ENOTFOUND);
}

/* ---- retention: the records of a measure's time, then the measure -------------------------- */

struct created_at {
    const char *name;
    int64_t created_ms;
};

static int find_created(void *arg, const struct vg_store_measure_row *m)
{
    struct created_at *c = arg;
    if (strcmp(m->name, c->name) == 0)
        c->created_ms = m->created_ms;
    return 0;
}

static int64_t retention_step(struct vg_store *s, int64_t id, uint8_t action, int64_t limit,
                              int want_rc)
{
    struct vg_store_retention_step st = {.measure_id = id, .action = action, .limit = limit};
    struct vg_store_batch b = {.retention = &st, .n_retention = 1};
    assert_int_equal(run_batch(s, &b), want_rc);
    return st.done;
}

static void test_retention_purges_a_measures_time_only(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    struct vg_store_person_def persons[2] = {
        {.id = 11, .create = true, .display = "B", .data = "{}", .actor = "t"},
        {.id = 12, .create = true, .display = "M", .data = "{}", .actor = "t"}};
    struct vg_store_measure_def ma = {.name = "RA",
                                      .definition =
                                          "{\"units\":{\"author\":\"RA-A\",\"protected\":\"RA-P\"},"
                                          "\"persons\":{\"author\":11,\"protected\":12}}"};
    struct vg_store_unit_def ua[2] = {
        {.serial = "RA-A", .role = VG_ROLE_AUTHOR, .measure = "RA"},
        {.serial = "RA-P", .role = VG_ROLE_PROTECTED, .measure = "RA"}};
    struct vg_store_batch b = {.person_defs = persons,
                               .n_person_defs = 2,
                               .measures = &ma,
                               .n_measures = 1,
                               .units = ua,
                               .n_units = 2};
    assert_int_equal(run_batch(s, &b), 0);
    struct created_at ca = {"RA", 0};
    assert_int_equal(vg_store_measures(s, find_created, &ca), 0);
    struct vg_store_record recs[5];
    for (uint64_t i = 0; i < 5; i++)
        recs[i] = simple_fix(ua[0].id, i + 1, ca.created_ms + 1 + (int64_t)i);
    b = (struct vg_store_batch){.records = recs, .n_records = 5};
    assert_int_equal(run_batch(s, &b), 0);
    /* a live measure is never touched */
    retention_step(s, ma.id, VG_STORE_PURGE_RECORDS, 100, VG_ESTATE);
    retention_step(s, ma.id, VG_STORE_DELETE_MEASURE, 0, VG_ESTATE);
    struct vg_store_measure_change end = {
        .measure_id = ma.id, .status = "ended", .end_reason = "lifted", .actor = "t"};
    b = (struct vg_store_batch){.measure_changes = &end, .n_measure_changes = 1};
    assert_int_equal(run_batch(s, &b), 0);
    /* the same units serve a later measure, with records of their own */
    usleep(20000); /* RB declared after RA's records came */
    struct vg_store_measure_def mb = {.name = "RB",
                                      .definition =
                                          "{\"units\":{\"author\":\"RA-A\",\"protected\":\"RA-P\"},"
                                          "\"persons\":{\"protected\":12}}"};
    struct vg_store_unit_def ub[2] = {
        {.serial = "RA-A", .role = VG_ROLE_AUTHOR, .measure = "RB"},
        {.serial = "RA-P", .role = VG_ROLE_PROTECTED, .measure = "RB"}};
    b = (struct vg_store_batch){.measures = &mb, .n_measures = 1, .units = ub, .n_units = 2};
    assert_int_equal(run_batch(s, &b), 0);
    struct created_at cb = {"RB", 0};
    assert_int_equal(vg_store_measures(s, find_created, &cb), 0);
    assert_true(cb.created_ms > ca.created_ms);
    struct vg_store_record later[3];
    for (uint64_t i = 0; i < 3; i++)
        later[i] = simple_fix(ua[0].id, 10 + i, cb.created_ms + 1000 + (int64_t)i);
    b = (struct vg_store_batch){.records = later, .n_records = 3};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(count_records(s, ua[0].id), 8);

    assert_int_equal(retention_step(s, ma.id, VG_STORE_ARCHIVE, 0, 0), 1);
    /* two rows per table and step: 2, 2, 1, then nothing */
    int64_t steps[4];
    for (int i = 0; i < 4; i++)
        steps[i] = retention_step(s, ma.id, VG_STORE_PURGE_RECORDS, 2, 0);
    assert_int_equal(steps[0], 2);
    assert_int_equal(steps[1], 2);
    assert_int_equal(steps[2], 1);
    assert_int_equal(steps[3], 0);
    assert_int_equal(count_records(s, ua[0].id), 3); /* RB's */
    assert_int_equal(retention_step(s, ma.id, VG_STORE_DELETE_MEASURE, 0, 0), 1);
    struct created_at gone = {"RA", 0};
    assert_int_equal(vg_store_measures(s, find_created, &gone), 0);
    assert_int_equal(gone.created_ms, 0);
    struct version_list l = {0};
    assert_int_equal(vg_store_measure_versions(s, ma.id, collect_version, &l), VG_ENOTFOUND);
    /* his file went with the measure; hers stays: RB names it */
    assert_int_equal(vg_store_person(s, 11, 0, false, count_person, NULL), VG_ENOTFOUND);
    assert_int_equal(vg_store_person(s, 12, 0, false, count_person, NULL), 0);
}

/* ---- statistics: versions, and alarms by month and kind ---------------------------------- */

struct stats_copy {
    int64_t measure;
    bool alarms;
    char court[80];
    int64_t version;
    char status[32];
    char end_reason[16];
    int64_t created_ms;
    uint16_t kind;
    int64_t raised_ms;
    int64_t count;
};

struct stats_list {
    struct stats_copy v[32];
    size_t n;
};

static int collect_stats(void *arg, const struct vg_store_stats_row *r)
{
    struct stats_list *l = arg;
    if (l->n == 32)
        return -1;
    struct stats_copy *c = &l->v[l->n++];
    *c = (struct stats_copy){.measure = r->measure_id,
                             .alarms = r->alarms,
                             .version = r->version,
                             .created_ms = r->created_ms,
                             .kind = r->kind,
                             .raised_ms = r->raised_ms,
                             .count = r->count};
    snprintf(c->court, sizeof c->court, "%s", r->court);
    snprintf(c->status, sizeof c->status, "%s", r->status);
    snprintf(c->end_reason, sizeof c->end_reason, "%s", r->end_reason);
    return 0;
}

static int stop_at_first(void *arg, const struct vg_store_stats_row *r)
{
    (void)r;
    ++*(int *)arg;
    return 7;
}

/* The alarm count of a measure for a kind in the month holding `in`. */
static const struct stats_copy *stats_alarms(const struct stats_list *l, int64_t measure,
                                             uint16_t kind, int64_t month_from, int64_t month_to)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].alarms && l->v[i].measure == measure && l->v[i].kind == kind &&
            l->v[i].raised_ms >= month_from && l->v[i].raised_ms < month_to)
            return &l->v[i];
    return NULL;
}

/* ---- consoles' sessions (http/auth.c): by their token's hash ---------------------------- */

struct session_seen {
    int calls;
    char user[64];
    int64_t created_ms, last_ms;
};

static int on_session(void *arg, const struct vg_store_session_row *r)
{
    struct session_seen *x = arg;
    x->calls++;
    snprintf(x->user, sizeof x->user, "%s", r->user);
    x->created_ms = r->created_ms;
    x->last_ms = r->last_ms;
    return 0;
}

static int session_op(struct vg_store *s, uint8_t action, uint8_t key, const char *user,
                      int64_t created_ms, int64_t last_ms)
{
    struct vg_store_session_op o = {
        .action = action, .user = user, .created_ms = created_ms, .last_ms = last_ms};
    memset(o.token_hash, key, sizeof o.token_hash);
    struct vg_store_batch b = {.sessions = &o, .n_sessions = 1};
    return run_batch(s, &b);
}

static int session_get(struct vg_store *s, uint8_t key, struct session_seen *x)
{
    uint8_t h[VG_STORE_SESSION_HASH_LEN];
    memset(h, key, sizeof h);
    memset(x, 0, sizeof *x);
    return vg_store_session(s, h, on_session, x);
}

static void test_sessions(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    struct session_seen x;
    assert_int_equal(session_get(s, 1, &x), VG_ENOTFOUND);
    assert_int_equal(x.calls, 0);
    assert_int_equal(session_op(s, VG_STORE_SESSION_OPEN, 1, "alice", T0, T0), 0);
    assert_int_equal(session_op(s, VG_STORE_SESSION_OPEN, 2, "alice", T0 + 5, T0 + 5), 0);
    assert_int_equal(session_op(s, VG_STORE_SESSION_OPEN, 3, "bob", T0, T0), 0);
    assert_int_equal(session_get(s, 1, &x), 0);
    assert_int_equal(x.calls, 1);
    assert_string_equal(x.user, "alice");
    assert_int_equal(x.created_ms, T0);
    /* the same token twice is refused, nothing stored of it */
    struct vg_store_session_op dup = {.action = VG_STORE_SESSION_OPEN, .user = "mallory"};
    memset(dup.token_hash, 1, sizeof dup.token_hash);
    struct vg_store_batch b = {.sessions = &dup, .n_sessions = 1};
    char err[256];
    assert_int_equal(run_batch_err(s, &b, err, sizeof err), VG_EDUPLICATE);
    assert_int_equal(session_get(s, 1, &x), 0);
    assert_string_equal(x.user, "alice");
    /* used: last_ms moves forward, never back */
    assert_int_equal(session_op(s, VG_STORE_SESSION_TOUCH, 1, NULL, 0, T0 + 60000), 0);
    assert_int_equal(session_op(s, VG_STORE_SESSION_TOUCH, 1, NULL, 0, T0 + 1000), 0);
    assert_int_equal(session_get(s, 1, &x), 0);
    assert_int_equal(x.last_ms, T0 + 60000);
    /* logged out */
    assert_int_equal(session_op(s, VG_STORE_SESSION_END, 1, NULL, 0, 0), 0);
    assert_int_equal(session_get(s, 1, &x), VG_ENOTFOUND);
    assert_int_equal(session_get(s, 2, &x), 0);
    /* a user's rights changed: all of his end, not another's */
    assert_int_equal(session_op(s, VG_STORE_SESSION_END_USER, 0, "alice", 0, 0), 0);
    assert_int_equal(session_get(s, 2, &x), VG_ENOTFOUND);
    assert_int_equal(session_get(s, 3, &x), 0);
    /* expired: unused since before last_ms, or opened before created_ms */
    assert_int_equal(session_op(s, VG_STORE_SESSION_OPEN, 4, "carol", T0 + 100, T0 + 100), 0);
    assert_int_equal(session_op(s, VG_STORE_SESSION_END_EXPIRED, 0, NULL, T0 - 1, T0 + 1), 0);
    assert_int_equal(session_get(s, 3, &x), VG_ENOTFOUND); /* unused since T0 */
    assert_int_equal(session_get(s, 4, &x), 0);
    assert_int_equal(session_op(s, VG_STORE_SESSION_END_EXPIRED, 0, NULL, T0 + 100, T0 + 100), 0);
    assert_int_equal(session_get(s, 4, &x), 0); /* neither: the bounds are strict */
    assert_int_equal(session_op(s, VG_STORE_SESSION_END_EXPIRED, 0, NULL, 0, T0 + 101), 0);
    assert_int_equal(session_get(s, 4, &x), VG_ENOTFOUND); /* too old */
    /* only the hash is stored: no column holds the token */
    int64_t n = -1;
    assert_int_equal(backend->query_int(fx->loc, "SELECT count(*) FROM sessions", &n), 0);
    assert_int_equal(n, 0);
    /* an unknown action is refused */
    assert_int_equal(session_op(s, 99, 5, "x", 0, 0) < 0, 1);
}

static void test_statistics_rows(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    const int64_t jul = 1782864000000LL; /* 2026-07-01T00:00Z = T0 - 6 h */
    const int64_t aug = jul + 31 * 86400000LL, sep = aug + 31 * 86400000LL;
    struct vg_store_measure_def m[3] = {
        {.name = "SA", .definition = "{\"court\":\"TJ-A\",\"units\":{\"author\":\"SA-A\"}}"},
        {.name = "SB", .definition = "{\"units\":{\"author\":\"SB-A\"}}"}, /* no court */
        {.name = "SC", .definition = "not JSON"},
    };
    struct vg_store_batch b = {.measures = m, .n_measures = 3};
    assert_int_equal(run_batch(s, &b), 0);
    struct vg_store_measure_change active = {
        .measure_id = m[0].id, .status = "active", .actor = "centre"};
    struct vg_store_measure_change lift = {
        .measure_id = m[0].id, .status = "ended", .end_reason = "lifted", .actor = "u"};
    b = (struct vg_store_batch){.measure_changes = &active, .n_measure_changes = 1};
    assert_int_equal(run_batch(s, &b), 0);
    b = (struct vg_store_batch){.measure_changes = &lift, .n_measure_changes = 1};
    assert_int_equal(run_batch(s, &b), 0);
    /* the versions' times, behind the interface: the writer's clock gives now */
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE measure_versions SET created_ms = %lld + version * 1000 "
             "WHERE measure_id = %lld",
             (long long)T0, (long long)m[0].id);
    assert_int_equal(backend->exec(fx->loc, sql), 0);

    /* SA: 2 SOS and a call-back request in July, an SOS in August, one long
     * before; SB: an SOS in July, one on the period's end (excluded) */
    struct vg_store_alarm a[7];
    int64_t when[7] = {T0 + 5000, T0, T0 + 2000, aug + 1, jul - 400 * 86400000LL, T0, sep};
    int64_t of[7] = {m[0].id, m[0].id, m[0].id, m[0].id, m[0].id, m[1].id, m[1].id};
    for (uint32_t i = 0; i < 7; i++) {
        a[i] = make_alarm(of[i], i + 1);
        a[i].alarm.kind = i == 2 ? VG_ALARM_CALLBACK_REQUEST : VG_ALARM_SOS;
        a[i].alarm.raised_ms = when[i];
    }
    b = (struct vg_store_batch){.alarms = a, .n_alarms = 7};
    assert_int_equal(run_batch(s, &b), 0);

    struct stats_list l = {.n = 0};
    assert_int_equal(vg_store_statistics(s, jul, sep, collect_stats, &l), 0);
    /* SA: three versions, three counts; SB: one and one; SC: one */
    assert_int_equal(l.n, 9);
    const char *status[3] = {"pending_installation", "active", "ended"};
    for (int64_t v = 0; v < 3; v++) {
        const struct stats_copy *c = &l.v[v];
        assert_int_equal(c->measure, m[0].id);
        assert_false(c->alarms);
        assert_string_equal(c->court, "TJ-A");
        assert_int_equal(c->version, v + 1);
        assert_string_equal(c->status, status[v]);
        assert_string_equal(c->end_reason, v == 2 ? "lifted" : "");
        assert_int_equal(c->created_ms, T0 + (v + 1) * 1000);
    }
    for (size_t i = 3; i < 6; i++) { /* then its alarms */
        assert_int_equal(l.v[i].measure, m[0].id);
        assert_true(l.v[i].alarms);
    }
    const struct stats_copy *c = stats_alarms(&l, m[0].id, VG_ALARM_SOS, jul, aug);
    assert_non_null(c);
    assert_int_equal(c->count, 2);
    assert_int_equal(c->raised_ms, T0); /* the first */
    c = stats_alarms(&l, m[0].id, VG_ALARM_CALLBACK_REQUEST, jul, aug);
    assert_non_null(c);
    assert_int_equal(c->count, 1);
    c = stats_alarms(&l, m[0].id, VG_ALARM_SOS, aug, sep);
    assert_non_null(c);
    assert_int_equal(c->count, 1);
    assert_int_equal(l.v[6].measure, m[1].id);
    assert_false(l.v[6].alarms);
    assert_string_equal(l.v[6].court, ""); /* none */
    assert_string_equal(l.v[6].status, "pending_installation");
    c = stats_alarms(&l, m[1].id, VG_ALARM_SOS, jul, aug);
    assert_non_null(c);
    assert_int_equal(c->count, 1);
    assert_int_equal(l.v[8].measure, m[2].id);
    assert_string_equal(l.v[8].court, ""); /* not JSON: no court, and no failure */

    /* another period: the versions all the same, the alarms of that period */
    l.n = 0;
    assert_int_equal(vg_store_statistics(s, aug, sep + 1, collect_stats, &l), 0);
    assert_int_equal(l.n, 5 + 2);
    assert_non_null(stats_alarms(&l, m[0].id, VG_ALARM_SOS, aug, sep));
    assert_non_null(stats_alarms(&l, m[1].id, VG_ALARM_SOS, sep, sep + 1));
    /* a callback stops the read with its value */
    int calls = 0;
    assert_int_equal(vg_store_statistics(s, jul, sep, stop_at_first, &calls), 7);
    assert_int_equal(calls, 1);
}

/* ---- incidents: written whole, each measure's latest read back ---------------------------- */

struct incident_list {
    struct vg_incident items[8];
    size_t n;
};

static int collect_incident(void *arg, const struct vg_incident *inc)
{
    struct incident_list *l = arg;
    if (l->n < 8)
        l->items[l->n++] = *inc;
    return 0;
}

static void test_incidents_upsert_and_latest(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t ids[2];
    int64_t m1 = provision(s, "IA", 2, ids), m2 = provision(s, "IB", 2, ids);
    struct vg_incident inc[3] = {
        {.id = 1, .measure_id = m1, .state = VG_INCIDENT_OPEN, .priority = 3, .n_alarms = 1},
        {.id = 2, .measure_id = m2, .state = VG_INCIDENT_OPEN, .priority = 1, .n_alarms = 1},
        {.id = 3, .measure_id = m1, .previous_id = 1, .state = VG_INCIDENT_OPEN, .n_alarms = 1}};
    struct vg_store_batch b = {.incidents = inc, .n_incidents = 2};
    assert_int_equal(run_batch(s, &b), 0);
    /* moved on: taken, then closed, then a new one for the same measure */
    inc[0].state = VG_INCIDENT_CLOSED;
    inc[0].n_alarms = 4;
    snprintf(inc[0].operator_name, sizeof inc[0].operator_name, "op1");
    b = (struct vg_store_batch){.incidents = inc, .n_incidents = 1};
    assert_int_equal(run_batch(s, &b), 0);
    b = (struct vg_store_batch){.incidents = &inc[2], .n_incidents = 1};
    assert_int_equal(run_batch(s, &b), 0);
    struct incident_list all = {0}, latest = {0};
    assert_int_equal(vg_store_incidents(s, false, collect_incident, &all), 0);
    assert_int_equal(all.n, 3);
    assert_int_equal(all.items[0].state, VG_INCIDENT_CLOSED);
    assert_int_equal(all.items[0].n_alarms, 4);
    assert_string_equal(all.items[0].operator_name, "op1");
    assert_int_equal(vg_store_incidents(s, true, collect_incident, &latest), 0);
    assert_int_equal(latest.n, 2);
    assert_int_equal(latest.items[0].id, 2);
    assert_int_equal(latest.items[1].id, 3);
    assert_int_equal(latest.items[1].previous_id, 1);
    /* an incident of no measure, or without an id, fails its batch */
    struct vg_incident bad = {.id = 9, .measure_id = 999, .state = VG_INCIDENT_OPEN};
    b = (struct vg_store_batch){.incidents = &bad, .n_incidents = 1};
    assert_int_not_equal(run_batch(s, &b), 0);
    bad = (struct vg_incident){.measure_id = m1};
    assert_int_equal(run_batch(s, &b), VG_EINVAL);
}

/* ---- incidents' steps and reports: with the incident's change, read back, deleted ---------- */

struct step_copy {
    int64_t incident_id;
    uint32_t n;
    uint8_t kind, outcome;
    char text[64], operator_name[16];
    int64_t at_ms;
};

struct step_list {
    struct step_copy v[8];
    size_t n;
};

static int collect_step(void *arg, const struct vg_store_incident_step *x)
{
    struct step_list *l = arg;
    if (l->n == 8)
        return -1;
    struct step_copy *c = &l->v[l->n++];
    *c = (struct step_copy){.incident_id = x->incident_id,
                            .n = x->n,
                            .kind = x->kind,
                            .outcome = x->outcome,
                            .at_ms = x->at_ms};
    snprintf(c->text, sizeof c->text, "%s", x->text);
    snprintf(c->operator_name, sizeof c->operator_name, "%s", x->operator_name);
    return 0;
}

struct report_copy {
    int calls;
    int64_t incident_id, measure_id, created_ms;
    char recipients[128], content[256];
};

static int copy_report(void *arg, const struct vg_store_report *r)
{
    struct report_copy *c = arg;
    c->calls++;
    c->incident_id = r->incident_id;
    c->measure_id = r->measure_id;
    c->created_ms = r->created_ms;
    snprintf(c->recipients, sizeof c->recipients, "%s", r->recipients);
    snprintf(c->content, sizeof c->content, "%s", r->content);
    return 0;
}

static int64_t journal_length(struct vg_store *s)
{
    int64_t id = 0;
    uint8_t hash[VG_JOURNAL_HASH_LEN];
    assert_int_equal(vg_store_journal_head(s, &id, hash), 0);
    return id;
}

static void test_incident_steps_and_reports(void **state)
{
    struct fx *fx = *state;
    struct vg_store *s = open_store(fx);
    int64_t ids[2];
    int64_t m1 = provision(s, "SA", 2, ids), m2 = provision(s, "SB", 2, ids);
    struct vg_incident a = {.id = 7, .measure_id = m1, .state = VG_INCIDENT_OPEN, .n_alarms = 1};
    struct vg_incident other = {.id = 8, .measure_id = m2, .state = VG_INCIDENT_OPEN};
    struct vg_store_batch b = {.incidents = &a, .n_incidents = 1};
    assert_int_equal(run_batch(s, &b), 0);
    b = (struct vg_store_batch){.incidents = &other, .n_incidents = 1};
    assert_int_equal(run_batch(s, &b), 0);
    struct step_list l = {.n = 0};
    assert_int_equal(vg_store_incident_steps(s, 7, collect_step, &l), 0);
    assert_int_equal(l.n, 0); /* none yet: no call */

    /* a step with the incident's change and its journal entry; two more at once */
    a.state = VG_INCIDENT_TAKEN;
    a.n_steps = 1;
    snprintf(a.operator_name, sizeof a.operator_name, "op1");
    struct vg_store_incident_step st[4] = {
        {.incident_id = 7, .n = 1, .kind = VG_STEP_PROTECTED_CALLED,
         .outcome = VG_OUTCOME_REACHED, .text = "she is safe", .operator_name = "op1",
         .at_ms = T0 + 1},
        {.incident_id = 7, .n = 2, .kind = VG_STEP_POLICE_ALERTED, .text = "ref 2026-1234",
         .operator_name = "op1", .at_ms = T0 + 2},
        {.incident_id = 7, .n = 3, .kind = VG_STEP_NOTE, .operator_name = "op2", .at_ms = T0 + 3},
        {.incident_id = 8, .n = 1, .kind = VG_STEP_AUTHOR_CALLED, .outcome = VG_OUTCOME_COMPLIED,
         .text = "", .operator_name = "op3", .at_ms = T0 + 4}};
    struct vg_store_journal_entry je = {
        .actor = "op1", .action = "incident.step", .subject = "incident/7"};
    b = (struct vg_store_batch){.incidents = &a,
                                .n_incidents = 1,
                                .incident_steps = st,
                                .n_incident_steps = 1,
                                .journal = &je,
                                .n_journal = 1};
    assert_int_equal(run_batch(s, &b), 0);
    a.n_steps = 3;
    b = (struct vg_store_batch){
        .incidents = &a, .n_incidents = 1, .incident_steps = st + 1, .n_incident_steps = 3};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(vg_store_incident_steps(s, 7, collect_step, &l), 0);
    assert_int_equal(l.n, 3);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(l.v[i].incident_id, 7);
        assert_int_equal(l.v[i].n, i + 1);
        assert_int_equal(l.v[i].kind, st[i].kind);
        assert_int_equal(l.v[i].outcome, st[i].outcome);
        assert_string_equal(l.v[i].text, st[i].text ? st[i].text : ""); /* NULL: "" */
        assert_string_equal(l.v[i].operator_name, st[i].operator_name);
        assert_int_equal(l.v[i].at_ms, st[i].at_ms);
    }
    l.n = 0;
    assert_int_equal(vg_store_incident_steps(s, 8, collect_step, &l), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].operator_name, "op3");

    /* a step numbered twice fails its batch whole: the incident's change
     * and its journal entry are not stored either */
    int64_t journal_before = journal_length(s);
    struct vg_incident moved = a;
    moved.n_steps = 4;
    struct vg_store_incident_step again = st[2];
    again.text = "a second step 3";
    b = (struct vg_store_batch){.incidents = &moved,
                                .n_incidents = 1,
                                .incident_steps = &again,
                                .n_incident_steps = 1,
                                .journal = &je,
                                .n_journal = 1};
    assert_int_equal(run_batch(s, &b), VG_EDUPLICATE);
    struct vg_incident back;
    assert_int_equal(vg_store_incident(s, 7, &back), 0);
    assert_int_equal(back.n_steps, 3);
    assert_int_equal(journal_length(s), journal_before);
    l.n = 0;
    assert_int_equal(vg_store_incident_steps(s, 7, collect_step, &l), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[2].text, "");
    /* a step of no incident, a step that is none, no operator: refused */
    struct vg_store_incident_step bad = {
        .incident_id = 99, .n = 1, .kind = VG_STEP_NOTE, .operator_name = "op1"};
    b = (struct vg_store_batch){.incident_steps = &bad, .n_incident_steps = 1};
    assert_int_not_equal(run_batch(s, &b), 0);
    bad = (struct vg_store_incident_step){
        .incident_id = 7, .n = 9, .kind = VG_STEP__COUNT, .operator_name = "op1"};
    assert_int_equal(run_batch(s, &b), VG_EINVAL);
    bad = (struct vg_store_incident_step){.incident_id = 7, .n = 9, .kind = VG_STEP_NOTE};
    assert_int_equal(run_batch(s, &b), VG_EINVAL);
    bad = (struct vg_store_incident_step){
        .incident_id = 7, .n = 0, .kind = VG_STEP_NOTE, .operator_name = "op1"};
    assert_int_equal(run_batch(s, &b), VG_EINVAL);

    /* one incident read by its id, whichever its measure */
    assert_int_equal(vg_store_incident(s, 8, &back), 0);
    assert_int_equal(back.measure_id, m2);
    assert_int_equal(vg_store_incident(s, 99, &back), VG_ENOTFOUND);

    /* closing: the incident, its report and the journal entry together */
    struct report_copy got = {0};
    assert_int_equal(vg_store_report(s, 7, copy_report, &got), VG_ENOTFOUND);
    assert_int_equal(got.calls, 0);
    a.state = VG_INCIDENT_CLOSED;
    a.closed_ms = T0 + 10;
    const char *content = "{\"summary\":\"d\\u00e9j\\u00e0 vu\",\"steps\":[1,2,3]}";
    struct vg_store_report rep = {.incident_id = 7,
                                  .measure_id = m1,
                                  .created_ms = T0 + 10,
                                  .recipients = "[{\"role\":\"magistrate\",\"name\":\"J\"}]",
                                  .content = content};
    struct vg_store_journal_entry jr[2] = {
        {.actor = "op1", .action = "incident.close", .subject = "incident/7"},
        {.actor = "op1", .action = "report.create", .subject = "incident/7"}};
    b = (struct vg_store_batch){.incidents = &a,
                                .n_incidents = 1,
                                .reports = &rep,
                                .n_reports = 1,
                                .journal = jr,
                                .n_journal = 2};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(vg_store_report(s, 7, copy_report, &got), 0);
    assert_int_equal(got.calls, 1);
    assert_int_equal(got.incident_id, 7);
    assert_int_equal(got.measure_id, m1);
    assert_int_equal(got.created_ms, T0 + 10);
    assert_string_equal(got.recipients, rep.recipients);
    assert_string_equal(got.content, content); /* byte for byte */
    /* one report per incident; a report of no measure, without content: refused */
    journal_before = journal_length(s);
    b = (struct vg_store_batch){.reports = &rep, .n_reports = 1, .journal = jr + 1, .n_journal = 1};
    assert_int_equal(run_batch(s, &b), VG_EDUPLICATE);
    assert_int_equal(journal_length(s), journal_before);
    struct vg_store_report bad_rep = {.incident_id = 8, .measure_id = 999, .recipients = "[]",
                                      .content = "{}"};
    b = (struct vg_store_batch){.reports = &bad_rep, .n_reports = 1};
    assert_int_not_equal(run_batch(s, &b), 0);
    bad_rep = (struct vg_store_report){.incident_id = 8, .measure_id = m2, .recipients = "[]"};
    assert_int_equal(run_batch(s, &b), VG_EINVAL);
    assert_int_equal(vg_store_report(s, 8, copy_report, &got), VG_ENOTFOUND);

    /* the end of its retention takes the measure's steps and reports with
     * its incidents; another measure's stay */
    struct vg_store_measure_change end = {
        .measure_id = m1, .status = "ended", .end_reason = "lifted", .actor = "t"};
    b = (struct vg_store_batch){.measure_changes = &end, .n_measure_changes = 1};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(retention_step(s, m1, VG_STORE_DELETE_MEASURE, 0, 0), 1);
    assert_int_equal(vg_store_incident(s, 7, &back), VG_ENOTFOUND);
    l.n = 0;
    assert_int_equal(vg_store_incident_steps(s, 7, collect_step, &l), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(vg_store_report(s, 7, copy_report, &got), VG_ENOTFOUND);
    int64_t left = -1;
    assert_int_equal(backend->query_int(fx->loc, "SELECT count(*) FROM incident_steps", &left), 0);
    assert_int_equal(left, 1);
    assert_int_equal(vg_store_incident_steps(s, 8, collect_step, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(vg_store_incident(s, 8, &back), 0);
}

/* What may be logged of a location: never its password. */
static void test_location_public(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"sqlite:/var/lib/vigie/vigie.db", "sqlite:/var/lib/vigie/vigie.db"},
        {"postgresql://vigie:s3cr@t@db1:5432,db2/vigie?target_session_attrs=read-write",
         "postgresql://vigie:***@db1:5432,db2/vigie?target_session_attrs=read-write"},
        {"postgresql://vigie@db1/vigie?password=x&sslmode=verify-full",
         "postgresql://vigie@db1/vigie?password=***&sslmode=verify-full"},
        {"postgresql:host=db1 password='a b\\'c' dbname=vigie",
         "postgresql:host=db1 password=*** dbname=vigie"},
        {"postgresql:password=x", "postgresql:password=***"},
        {"postgres://db1:5433/vigie", "postgres://db1:5433/vigie"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char out[256];
        vg_store_location_public(cases[i].in, out, sizeof out);
        assert_string_equal(out, cases[i].out);
    }
    char tiny[8];
    vg_store_location_public("postgresql://u:p@h/d", tiny, sizeof tiny);
    assert_string_equal(tiny, "postgre");
}

/* ---- PostgreSQL: the server crashes, the fixes' months ------------------------------------ */

enum { CRASH_BATCHES = 1 << 16 };

struct crash_run {
    struct vg_store *s;
    int64_t unit;
    atomic_bool stop;
    atomic_bool crashed;
    atomic_uint acked_before; /* batches acknowledged before the crash */
    atomic_uint ok_after;     /* batches acknowledged after it */
    atomic_uint failed;
    atomic_uchar ok[CRASH_BATCHES]; /* per batch: acknowledged */
};

struct crash_batch {
    struct vg_store_batch b;
    struct vg_store_record recs[DURABLE_BATCH];
    struct crash_run *run;
    size_t index;
};

static void crash_done(struct vg_store_batch *b, int rc, const char *err)
{
    (void)err;
    struct crash_batch *cb = b->arg;
    struct crash_run *run = cb->run;
    if (rc == 0) {
        atomic_store(&run->ok[cb->index], 1);
        atomic_fetch_add(atomic_load(&run->crashed) ? &run->ok_after : &run->acked_before, 1);
    } else {
        atomic_fetch_add(&run->failed, 1);
    }
    free(cb);
}

static void *crash_submitter(void *arg)
{
    struct crash_run *run = arg;
    for (size_t i = 0; i < CRASH_BATCHES && !atomic_load(&run->stop); i++) {
        while (vg_store_pending(run->s) >= 32) {
            struct timespec pause = {0, 200000};
            nanosleep(&pause, NULL);
        }
        struct crash_batch *cb = calloc(1, sizeof *cb);
        if (!cb)
            break;
        uint64_t seq = 1 + i * DURABLE_BATCH;
        for (size_t k = 0; k < DURABLE_BATCH; k++)
            cb->recs[k] = simple_fix(run->unit, seq + k, T0 + (int64_t)seq);
        cb->run = run;
        cb->index = i;
        cb->b = (struct vg_store_batch){
            .records = cb->recs, .n_records = DURABLE_BATCH, .done = crash_done, .arg = cb};
        if (vg_store_submit(run->s, &cb->b) != 0) {
            free(cb);
            break;
        }
        if (atomic_load(&run->failed) > 0) { /* the server is away: no hurry */
            struct timespec pause = {0, 1000000};
            nanosleep(&pause, NULL);
        }
    }
    return NULL;
}

/* The PostgreSQL server crashes under load (immediate stop: no checkpoint,
 * recovery from its WAL): every batch acknowledged is there after it, and
 * the store goes on by itself once the server is back. */
static void test_durability_after_server_crash(void **state)
{
    struct fx *fx = *state;
    const char *crash = getenv("VIGIE_TEST_PG_CRASH");
    if (backend->is_file || !crash)
        skip();
    struct vg_store *s = open_store(fx);
    int64_t unit;
    provision(s, "K", 1, &unit);
    struct crash_run *run = calloc(1, sizeof *run);
    assert_non_null(run);
    run->s = s;
    run->unit = unit;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, crash_submitter, run), 0);
    while (atomic_load(&run->acked_before) < 200)
        usleep(1000);
    atomic_store(&run->crashed, true);
    assert_int_equal(system(crash), 0);
    /* the store reconnects: batches are acknowledged again */
    for (int i = 0; i < 3000 && atomic_load(&run->ok_after) < 50; i++)
        usleep(10000);
    atomic_store(&run->stop, true);
    pthread_join(t, NULL);
    while (vg_store_pending(s) > 0)
        usleep(1000);
    print_message("  %u batches acknowledged before the crash, %u after it; %u failed around "
                  "it\n",
                  atomic_load(&run->acked_before), atomic_load(&run->ok_after),
                  atomic_load(&run->failed));
    assert_true(atomic_load(&run->ok_after) >= 50);
    reopen(fx);
    struct rec_list l = replay(fx->s, measures(fx->s).v[0].id, 0);
    uint8_t *seen = calloc((size_t)CRASH_BATCHES * DURABLE_BATCH + 1, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < l.n; i++)
        if (l.v[i].rec.seq <= (uint64_t)CRASH_BATCHES * DURABLE_BATCH)
            seen[l.v[i].rec.seq] = 1;
    uint64_t lost = 0, first_lost = 0;
    for (size_t i = 0; i < CRASH_BATCHES; i++)
        for (size_t k = 0; k < DURABLE_BATCH && atomic_load(&run->ok[i]); k++)
            if (!seen[1 + i * DURABLE_BATCH + k] && lost++ == 0)
                first_lost = 1 + i * DURABLE_BATCH + k;
    free(seen);
    free(l.v);
    free(run);
    if (lost)
        fail_msg("%llu acknowledged records lost, the first %llu", (unsigned long long)lost,
                 (unsigned long long)first_lost);
}

static int64_t pg_count(const struct fx *fx, const char *sql)
{
    int64_t n = -1;
    assert_int_equal(backend->query_int(fx->loc, sql, &n), 0);
    return n;
}

/* A lost transaction (SQLite: the file held by another process past the
 * busy timeout). With vg_store_fence_on_loss (vigied), every later write
 * fails, even once the file is free, until vg_store_fence: a centre that
 * judged the lost records must not store what it built on them; without
 * it (the tools), the next transaction goes on. */
static void test_lost_transaction_fences_until_told(void **state)
{
    struct fx *fx = *state;
    if (!backend->is_file)
        skip(); /* holding the file is SQLite's; PostgreSQL's loss: test_ha_db */
    for (int guarded = 0; guarded <= 1; guarded++) {
        struct vg_store *s = open_store(fx);
        int64_t unit;
        provision(s, guarded ? "G" : "U", 1, &unit);
        vg_store_fence_on_loss(s, guarded);
        sqlite3 *other = NULL;
        assert_int_equal(sqlite3_open_v2(sqlite_path(fx->loc), &other, SQLITE_OPEN_READWRITE,
                                         NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
        struct vg_store_record r1 = simple_fix(unit, 1, T0);
        struct vg_store_batch b1 = {.records = &r1, .n_records = 1};
        assert_int_equal(run_batch_err(s, &b1, NULL, 0), VG_ESTATE); /* after the busy timeout */
        assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(other);
        assert_int_equal(vg_store_lost(s), guarded);
        struct vg_store_record r2 = simple_fix(unit, 2, T0 + 1);
        struct vg_store_batch b2 = {.records = &r2, .n_records = 1};
        char err[256] = "";
        assert_int_equal(run_batch_err(s, &b2, err, sizeof err), guarded ? VG_ESTATE : 0);
        assert_int_equal(count_records(s, unit), guarded ? 0 : 1);
        if (guarded) {
            assert_non_null(strstr(err, "was lost"));
            vg_store_fence(s, 0); /* the centre built again from the store */
            assert_false(vg_store_lost(s));
            assert_int_equal(run_batch(s, &b2), 0);
            assert_int_equal(count_records(s, unit), 1);
        }
        vg_store_close(s);
        fx->s = NULL;
    }
}

/* ---- SQLite: the latest fixes in arrival order, moved in bulk ---------------------------- */

static int64_t sqlite_count(const struct fx *fx, const char *sql)
{
    int64_t n = -1;
    assert_int_equal(sqlite_query_int(fx->loc, sql, &n), SQLITE_OK);
    return n;
}

/* Each unit's fixes, read through the store: seq 1..per_unit, once each,
 * in order, with the values sent. */
static void assert_tracks_whole(struct vg_store *s, const int64_t *u, size_t n_units,
                                uint64_t per_unit)
{
    for (size_t k = 0; k < n_units; k++) {
        struct rec_list l = {0};
        assert_int_equal(vg_store_unit_records(s, u[k], 0, INT64_MAX, collect_record, &l), 0);
        assert_int_equal(l.n, per_unit);
        for (size_t i = 0; i < l.n; i++) {
            assert_int_equal(l.v[i].rec.seq, i + 1);
            assert_int_equal(l.v[i].received_ms, T0 + (int64_t)i);
        }
        free(l.v);
        assert_int_equal(count_records(s, u[k]), per_unit);
    }
}

/* SQLite appends new fixes to fixes_recent and moves them into the keyed
 * fixes_sorted when idle (sqlite_fixes.h): every fix is read once whatever
 * table it is in, moving or moved; one sent again is refused wherever the
 * first is; a failed batch takes its fixes' keys back with it; at open,
 * whatever waits is moved. */
static void test_sqlite_fixes_move_keeps_each_once(void **state)
{
    struct fx *fx = *state;
    if (!backend->is_file)
        skip();
    struct vg_store *s = open_store(fx);
    enum { UNITS = 40, ROUNDS = 250 }; /* 10,000 fixes: over the idle writer's threshold */
    int64_t u[UNITS];
    provision(s, "M", UNITS, u);

    /* time-major, a round per batch, as the centre receives them */
    struct vg_store_record recs[UNITS];
    for (uint64_t r = 0; r < ROUNDS; r++) {
        for (size_t k = 0; k < UNITS; k++)
            recs[k] = simple_fix(u[k], r + 1, T0 + (int64_t)r);
        struct vg_store_batch b = {.records = recs, .n_records = UNITS};
        assert_int_equal(run_batch(s, &b), 0);
        assert_int_equal(b.n_inserted, UNITS);
    }
    /* while the writer moves them: each read once, in either table */
    int64_t sorted = 0;
    for (int i = 0; i < 1000 && sqlite_count(fx, "SELECT count(*) FROM fixes_recent") > 0; i++) {
        assert_int_equal(sqlite_count(fx, "SELECT count(*) FROM fixes"), UNITS * ROUNDS);
        assert_int_equal(count_records(s, u[i % UNITS]), ROUNDS);
        usleep(20000);
    }
    sorted = sqlite_count(fx, "SELECT count(*) FROM fixes_sorted");
    print_message("  fixes moved to the keyed table when idle: %lld of %d\n", (long long)sorted,
                  UNITS * ROUNDS);
    assert_int_equal(sqlite_count(fx, "SELECT count(*) FROM fixes_recent"), 0);
    assert_int_equal(sorted, UNITS * ROUNDS);
    assert_tracks_whole(s, u, UNITS, ROUNDS);

    /* sent again, moved: refused; new ones beside them: taken */
    struct vg_store_record again[3] = {simple_fix(u[0], 1, T0), simple_fix(u[1], ROUNDS, T0),
                                       simple_fix(u[2], ROUNDS + 1, T0 + ROUNDS)};
    struct vg_store_batch b2 = {.records = again, .n_records = 3};
    assert_int_equal(run_batch(s, &b2), 0);
    assert_int_equal(b2.n_inserted, 1);
    assert_int_equal(run_batch(s, &b2), 0); /* the new one, waiting in arrival order */
    assert_int_equal(b2.n_inserted, 0);

    /* a batch that fails takes its fixes with it: sent again, they are new */
    struct vg_store_record bad[2] = {simple_fix(u[3], ROUNDS + 1, T0 + ROUNDS),
                                     simple_fix(999999, 1, T0)};
    struct vg_store_batch b3 = {.records = bad, .n_records = 2};
    assert_int_not_equal(run_batch(s, &b3), 0);
    struct vg_store_batch b4 = {.records = bad, .n_records = 1};
    assert_int_equal(run_batch(s, &b4), 0);
    assert_int_equal(b4.n_inserted, 1);

    /* closed with fixes waiting: moved at open, still refused when sent again */
    assert_true(sqlite_count(fx, "SELECT count(*) FROM fixes_recent") >= 2);
    reopen(fx);
    s = fx->s;
    assert_int_equal(sqlite_count(fx, "SELECT count(*) FROM fixes_recent"), 0);
    assert_int_equal(sqlite_count(fx, "SELECT count(*) FROM fixes_sorted"), UNITS * ROUNDS + 2);
    assert_int_equal(run_batch(s, &b2), 0);
    assert_int_equal(b2.n_inserted, 0);
    assert_int_equal(run_batch(s, &b4), 0);
    assert_int_equal(b4.n_inserted, 0);
    assert_int_equal(count_records(s, u[2]), ROUNDS + 1);
    assert_int_equal(count_records(s, u[3]), ROUNDS + 1);
    assert_tracks_whole(s, u + 4, UNITS - 4, ROUNDS);

    /* a transaction past its first 1,024 fixes writes the rest straight
     * into the keyed table: all stored once, and refused when sent again */
    enum { BIG = 50 };
    struct vg_store_record *big = calloc(UNITS * BIG, sizeof *big);
    assert_non_null(big);
    for (uint64_t r = 0; r < BIG; r++)
        for (size_t k = 4; k < UNITS; k++)
            big[r * (UNITS - 4) + (k - 4)] =
                simple_fix(u[k], ROUNDS + r + 1, T0 + ROUNDS + (int64_t)r);
    struct vg_store_batch b5 = {.records = big, .n_records = (UNITS - 4) * BIG};
    int64_t sorted_before = sqlite_count(fx, "SELECT count(*) FROM fixes_sorted");
    assert_int_equal(run_batch(s, &b5), 0);
    assert_int_equal(b5.n_inserted, (UNITS - 4) * BIG);
    assert_int_equal(sqlite_count(fx, "SELECT count(*) FROM fixes_sorted") - sorted_before,
                     (UNITS - 4) * BIG - 1024);
    assert_int_equal(run_batch(s, &b5), 0);
    assert_int_equal(b5.n_inserted, 0);
    free(big);
    assert_tracks_whole(s, u + 4, UNITS - 4, ROUNDS + BIG);
    char err[256] = "";
    assert_int_equal(vg_store_upkeep_failures(s, err, sizeof err), 0);
    assert_string_equal(err, "");
}

/* A second process opening the file (a reading tool beside vigied) moves
 * what waits, at its open; the first goes on: what it had staged is still
 * refused when sent again, what it stages next is stored once. */
static void test_sqlite_fixes_second_opener(void **state)
{
    struct fx *fx = *state;
    if (!backend->is_file)
        skip();
    struct vg_store *s = open_store(fx);
    int64_t u[2];
    provision(s, "M", 2, u);
    struct vg_store_record first[100], next[100];
    for (uint64_t i = 0; i < 100; i++) {
        first[i] = simple_fix(u[i % 2], i / 2 + 1, T0 + (int64_t)(i / 2));
        next[i] = simple_fix(u[i % 2], i / 2 + 51, T0 + (int64_t)(i / 2) + 50);
    }
    struct vg_store_batch b1 = {.records = first, .n_records = 100};
    assert_int_equal(run_batch(s, &b1), 0);
    assert_int_equal(sqlite_count(fx, "SELECT count(*) FROM fixes_recent"), 100);

    struct vg_store *other = NULL;
    char err[256] = "";
    assert_int_equal(vg_store_open(fx->loc, &other, err, sizeof err), 0);
    vg_store_close(other);
    assert_int_equal(sqlite_count(fx, "SELECT count(*) FROM fixes_recent"), 0);
    assert_int_equal(sqlite_count(fx, "SELECT count(*) FROM fixes_sorted"), 100);

    assert_int_equal(run_batch(s, &b1), 0);
    assert_int_equal(b1.n_inserted, 0);
    struct vg_store_batch b2 = {.records = next, .n_records = 100};
    assert_int_equal(run_batch(s, &b2), 0);
    assert_int_equal(b2.n_inserted, 100);
    assert_int_equal(run_batch(s, &b2), 0);
    assert_int_equal(b2.n_inserted, 0);
    assert_int_equal(sqlite_count(fx, "SELECT count(*) FROM fixes"), 200);
    assert_tracks_whole(s, u, 2, 100);

    /* asked for (the centre about to be built again): everything moved now */
    assert_int_equal(sqlite_count(fx, "SELECT count(*) FROM fixes_recent"), 100);
    assert_int_equal(vg_store_upkeep_all(s, err, sizeof err), 0);
    assert_int_equal(sqlite_count(fx, "SELECT count(*) FROM fixes_recent"), 0);
    assert_int_equal(sqlite_count(fx, "SELECT count(*) FROM fixes_sorted"), 200);
    assert_int_equal(run_batch(s, &b2), 0);
    assert_int_equal(b2.n_inserted, 0);
    assert_tracks_whole(s, u, 2, 100);
}

/* PostgreSQL keeps fixes in a partition per month of reception, created
 * as needed; a fix sent again is skipped whatever month it comes back in
 * (by the unit's clock, or in fixes_ahead when that clock ran ahead); the
 * retention drops a past month's partition once it has emptied it. */
static void test_fixes_by_month(void **state)
{
    struct fx *fx = *state;
    if (backend->is_file)
        skip();
    struct vg_store *s = open_store(fx);
    const int64_t day = 86400000LL;
    const int64_t jan2019 = 1546473600000LL; /* 2019-01-03 */
    struct vg_store_measure_def m = {
        .name = "PM", .definition = "{\"units\":{\"author\":\"PM-A\",\"protected\":\"PM-P\"}}"};
    struct vg_store_unit_def u[2] = {{.serial = "PM-A", .role = VG_ROLE_AUTHOR, .measure = "PM"},
                                     {.serial = "PM-P", .role = VG_ROLE_PROTECTED, .measure = "PM"}};
    struct vg_store_batch b = {.measures = &m, .n_measures = 1, .units = u, .n_units = 2};
    assert_int_equal(run_batch(s, &b), 0);
    const char *n_parts = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'fixes'::regclass";
    assert_true(pg_count(fx, n_parts) >= 2); /* this month and the next, from the start */

    struct vg_store_record r[5] = {
        fix_record(u[0].id, 1, T0, wire_fix(T0 - 1000, 1, 2, 3, 4, 5, VG_FIX_3D)),
        fix_record(u[0].id, 2, T0 + 40 * day, wire_fix(T0 + 40 * day, 1, 2, 3, 4, 5, VG_FIX_3D)),
        /* the unit's clock 10 days ahead of the centre's */
        fix_record(u[0].id, 3, T0, wire_fix(T0 + 10 * day, 1, 2, 3, 4, 5, VG_FIX_3D)),
        /* its clock far behind */
        fix_record(u[0].id, 4, T0, wire_fix(jan2019 - 365 * day, 1, 2, 3, 4, 5, VG_FIX_3D)),
        fix_record(u[1].id, 1, jan2019, wire_fix(jan2019, 1, 2, 3, 4, 5, VG_FIX_3D)),
    };
    b = (struct vg_store_batch){.records = r, .n_records = 5};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(b.n_inserted, 5);
    assert_int_equal(pg_count(fx, "SELECT count(*) FROM pg_class WHERE relname IN "
                                  "('fixes_2026_07', 'fixes_2026_08', 'fixes_2019_01')"),
                     3);
    assert_int_equal(pg_count(fx, "SELECT count(*) FROM fixes_ahead"), 1);

    /* every one sent again a month later: none stored twice */
    struct vg_store_record again[5];
    for (size_t i = 0; i < 5; i++) {
        again[i] = r[i];
        again[i].received_ms = r[i].received_ms + 31 * day;
    }
    b = (struct vg_store_batch){.records = again, .n_records = 5};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(b.n_inserted, 0);
    assert_int_equal(count_records(s, u[0].id), 4);
    struct rec_list l = replay(s, m.id, 0);
    assert_int_equal(l.n, 5);
    assert_int_equal(l.v[0].received_ms, jan2019); /* in the order received */
    assert_same_record(&l.v[4], &r[1]);
    free(l.v);
    l = replay(s, m.id, T0 + day); /* from August: the pages skip the earlier months */
    assert_int_equal(l.n, 1);
    free(l.v);

    /* retention: a measure of 2020 (imported), its units' records of January
     * and February 2020; once purged, those months' partitions go */
    const int64_t dec2019 = 1575158400000LL, jan2020 = 1578009600000LL, mar2020 = 1583020800000LL;
    const char *old_def = "{\"units\":{\"author\":\"OLD-A\",\"protected\":\"OLD-P\"}}";
    struct vg_store_measure_version_row v = {
        .version = 1, .definition = old_def, .status = "ended", .created_ms = dec2019};
    struct vg_store_import imp = {.name = "OLD",
                                  .definition = old_def,
                                  .status = "ended",
                                  .end_reason = "expired",
                                  .version = 1,
                                  .created_ms = dec2019,
                                  .ended_ms = mar2020,
                                  .versions = &v,
                                  .n_versions = 1,
                                  .source = "test"};
    struct vg_store_unit_def ou = {.serial = "OLD-A", .role = VG_ROLE_AUTHOR, .measure = "OLD"};
    b = (struct vg_store_batch){.imports = &imp, .n_imports = 1, .units = &ou, .n_units = 1};
    assert_int_equal(run_batch(s, &b), 0);
    struct vg_store_record old[3] = {simple_fix(ou.id, 1, jan2020), simple_fix(ou.id, 2, jan2020),
                                     simple_fix(ou.id, 3, jan2020 + 31 * day)};
    b = (struct vg_store_batch){.records = old, .n_records = 3};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(b.n_inserted, 3);
    const char *old_parts = "SELECT count(*) FROM pg_class WHERE relname IN "
                            "('fixes_2020_01', 'fixes_2020_02')";
    assert_int_equal(pg_count(fx, old_parts), 2);
    assert_int_equal(retention_step(s, imp.id, VG_STORE_PURGE_RECORDS, 2, 0), 2);
    assert_int_equal(retention_step(s, imp.id, VG_STORE_PURGE_RECORDS, 2, 0), 1);
    assert_int_equal(retention_step(s, imp.id, VG_STORE_PURGE_RECORDS, 2, 0), 0);
    assert_int_equal(retention_step(s, imp.id, VG_STORE_DELETE_MEASURE, 0, 0), 1);
    assert_int_equal(pg_count(fx, old_parts), 0);
    /* the months that hold PM's records stay (January 2019 among them) */
    assert_int_equal(pg_count(fx, "SELECT count(*) FROM pg_class WHERE relname IN "
                                  "('fixes_2026_07', 'fixes_2026_08', 'fixes_2019_01')"),
                     3);
    assert_true(pg_count(fx, n_parts) >= 5); /* and this month and the next */
    assert_int_equal(count_records(s, u[1].id), 1);
    /* a record for January 2020 again gets its partition back */
    struct vg_store_record late = simple_fix(u[1].id, 2, jan2020);
    b = (struct vg_store_batch){.records = &late, .n_records = 1};
    assert_int_equal(run_batch(s, &b), 0);
    assert_int_equal(b.n_inserted, 1);
    assert_int_equal(count_records(s, u[1].id), 2);
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "sqlite";
    for (size_t i = 0; i < ARRAY_LEN(backends); i++)
        if (strcmp(backends[i].name, name) == 0)
            backend = &backends[i];
    if (!backend) {
        fprintf(stderr, "test_store: no backend '%s' in this build\n", name);
        return 77; /* skipped */
    }
    if (getenv("VIGIE_TEST_FILTER")) /* one test or a few: "test_journal*" */
        cmocka_set_test_filter(getenv("VIGIE_TEST_FILTER"));
    if (!backend->is_file && !getenv("VIGIE_TEST_PG")) {
        fprintf(stderr, "test_store: VIGIE_TEST_PG is not set: run it through "
                        "scripts/pg-test-cluster (meson test does)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_open_close_reopen),
        T(test_two_stores_in_one_process),
        T(test_creates_missing_directories),
        T(test_wal_is_checkpointed),
        T(test_migrations_once),
        T(test_refuses_newer_schema),
        T(test_refuses_what_is_not_a_vigie_database),
        T(test_refuses_what_postgresql_does_not_give),
        T(test_location_public),
        T(test_empty_file_becomes_a_store),
        T(test_records_round_trip),
        T(test_bad_records_fail_their_batch),
        T(test_duplicates_stored_once),
        T(test_duplicates_within_one_group),
        T(test_alarms_round_trip),
        T(test_read_callbacks),
        T(test_states_upsert),
        T(test_acks_never_go_down),
        T(test_provisioning),
        T(test_duplicate_measure_fails_alone),
        T(test_done_once_in_order),
        T(test_close_drains_the_queue),
        T(test_concurrent_submitters_and_reader),
        T(test_durability_after_kill),
        T(test_durability_after_server_crash),
        T(test_lost_transaction_fences_until_told),
        T(test_fixes_by_month),
        T(test_sqlite_fixes_move_keeps_each_once),
        T(test_sqlite_fixes_second_opener),
        T(test_urgent_batch_ends_its_group),
        T(test_urgent_batch_passes_other_pairs_only),
        T(test_journal_chained_with_its_batch),
        T(test_journal_tampering_detected),
        T(test_measure_versions_and_status),
        T(test_retention_purges_a_measures_time_only),
        T(test_incidents_upsert_and_latest),
        T(test_incident_steps_and_reports),
        T(test_statistics_rows),
        T(test_sessions),
#undef T
    };
    return cmocka_run_group_tests_name(name, tests, NULL, NULL);
}
