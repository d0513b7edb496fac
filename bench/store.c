/* bench/store: fix records through the store (queue, writer thread, group
 * commit, savepoint per batch, idempotent inserts, fsync per commit),
 * against the same rows inserted straight into an SQLite file, in the same
 * run, on the same disk.
 *
 * 1,000 units of 10 measures; fixes generated time-major (every unit's fix
 * of a moment, then the next moment) from a fixed seed, in batches of 100.
 *
 * Reports (see docs/BENCHMARKS.md):
 *   records_per_s          through vg_store_submit, many batches in flight
 *                          (up to IN_FLIGHT), from the first submit to the
 *                          last done(); vs the floor: the same rows with one
 *                          prepared INSERT, 10,000 rows per transaction,
 *                          the store's pragmas (WAL, synchronous=FULL,
 *                          foreign keys, cache). Ratio: share of the
 *                          floor's rate.
 *   records_per_s_one_in_flight  the same with one batch in flight (the
 *                          next submitted after the last one's done()):
 *                          a transaction per batch, no grouping; the gap
 *                          to records_per_s is what group commit buys.
 *   commit_latency_p99_ms  submit -> durable commit of each batch, batches
 *                          paced at 10,000 records/s; vs the floor's p99
 *                          time of a 100-row transaction (BEGIN, 100
 *                          inserts, COMMIT), paced the same.
 *
 * The database files go to $BENCH_DIR, else $TMPDIR, else /var/tmp: put it
 * on the disk being judged (a tmpfs makes fsync free and the figures
 * meaningless). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "core/err.h"
#include "core/prng.h"
#include "store/store.h"

#define N_UNITS    1000
#define N_MEASURES 10
#define BATCH      100
#define IN_FLIGHT  256             /* batches submitted and not yet done */
#define FLOOR_TXN  10000           /* rows per transaction of the floor */
#define PACE_RPS   10000           /* records per second for the latency run */
#define T0         1782885600000LL /* 2026-07-01T06:00:00Z */

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench/store: %s: %s\n", what, why);
    exit(1);
}

/* ---- data: wire integers and the records carrying them ---------------------- */

struct row {
    int32_t lat_e7, lon_e7, acc_cm, speed_cms, heading_cdeg;
    int64_t t_ms;
    uint32_t unit; /* 0..N_UNITS-1 */
    uint64_t seq;
};

struct data {
    size_t n;
    struct row *rows;
    struct vg_store_record *recs; /* the same, as the store takes them (unit ids set later) */
};

static void make_data(struct data *d, size_t n, uint64_t seed)
{
    struct vg_prng r;
    vg_prng_seed(&r, seed);
    d->n = n;
    d->rows = calloc(n, sizeof *d->rows);
    d->recs = calloc(n, sizeof *d->recs);
    if (!d->rows || !d->recs)
        die("data", "out of memory");
    int32_t lat[N_UNITS], lon[N_UNITS];
    for (size_t u = 0; u < N_UNITS; u++) {
        lat[u] = (int32_t)vg_prng_range(&r, 43e7, 50e7);
        lon[u] = (int32_t)vg_prng_range(&r, -1e7, 7e7);
    }
    for (size_t i = 0; i < n; i++) {
        size_t u = i % N_UNITS;
        uint64_t step = i / N_UNITS;
        lat[u] += (int32_t)vg_prng_range(&r, -300, 300);
        lon[u] += (int32_t)vg_prng_range(&r, -300, 300);
        struct row *w = &d->rows[i];
        *w = (struct row){
            .lat_e7 = lat[u],
            .lon_e7 = lon[u],
            .acc_cm = (int32_t)vg_prng_range(&r, 300, 5000),
            .speed_cms = (int32_t)vg_prng_range(&r, 0, 3000),
            .heading_cdeg = (int32_t)vg_prng_range(&r, 0, 36000),
            .t_ms = T0 + (int64_t)step * 30000,
            .unit = (uint32_t)u,
            .seq = step + 1,
        };
        struct vg_store_record *rec = &d->recs[i];
        rec->received_ms = w->t_ms + 800;
        rec->rec.seq = w->seq;
        rec->rec.type = VG_REC_FIX;
        rec->rec.fix = (struct vg_fix){
            .time_ms = w->t_ms,
            .lat_deg = (double)w->lat_e7 / 1e7,
            .lon_deg = (double)w->lon_e7 / 1e7,
            .accuracy_m = (float)((double)w->acc_cm / 100.0),
            .speed_mps = (float)((double)w->speed_cms / 100.0),
            .heading_deg = (float)((double)w->heading_cdeg / 100.0),
            .quality = VG_FIX_3D,
        };
    }
}

/* ---- a fresh database per round ------------------------------------------------ */

struct db {
    char dir[512];
    char path[600];
    int64_t unit_ids[N_UNITS];
};

static void remove_db(struct db *db)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[700];
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        snprintf(p, sizeof p, "%s%s", db->path, suffix[i]);
        unlink(p);
    }
    rmdir(db->dir);
}

struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    size_t done, failed;
    int64_t *latency_ns; /* per batch, if set */
    struct vg_store_batch *first;
};

static void count_done(struct vg_store_batch *b, int rc, const char *err)
{
    struct waiter *w = b->arg;
    if (rc != 0)
        fprintf(stderr, "bench/store: batch failed: %s\n", err);
    pthread_mutex_lock(&w->m);
    if (w->latency_ns)
        w->latency_ns[b - w->first] = b->committed_ns - b->submitted_ns;
    w->done++;
    w->failed += rc != 0;
    pthread_cond_signal(&w->c);
    pthread_mutex_unlock(&w->m);
}

/* Wait until at most `left` of `submitted` batches are not done. */
static void wait_until(struct waiter *w, size_t submitted, size_t left)
{
    pthread_mutex_lock(&w->m);
    while (submitted - w->done > left)
        pthread_cond_wait(&w->c, &w->m);
    pthread_mutex_unlock(&w->m);
}

/* A new store with the 1,000 units provisioned (through the store: the
 * floor gets the same schema and rows to refer to). */
static struct vg_store *new_store(struct db *db)
{
    const char *base = getenv("BENCH_DIR");
    if (!base || !*base)
        base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/var/tmp";
    snprintf(db->dir, sizeof db->dir, "%s/vigie-bench-store-XXXXXX", base);
    if (!mkdtemp(db->dir))
        die(db->dir, strerror(errno));
    snprintf(db->path, sizeof db->path, "%s/vigie.db", db->dir);
    struct vg_store *s;
    char err[256];
    if (vg_store_open(db->path, &s, err, sizeof err) != 0)
        die("open", err);

    static char names[N_MEASURES][16], serials[N_UNITS][16];
    struct vg_store_measure_def ms[N_MEASURES];
    struct vg_store_unit_def *us = calloc(N_UNITS, sizeof *us);
    if (!us)
        die("provision", "out of memory");
    for (size_t i = 0; i < N_MEASURES; i++) {
        snprintf(names[i], sizeof names[i], "B-%zu", i);
        ms[i] = (struct vg_store_measure_def){.name = names[i], .definition = "{}"};
    }
    for (size_t i = 0; i < N_UNITS; i++) {
        snprintf(serials[i], sizeof serials[i], "U-%zu", i);
        us[i] = (struct vg_store_unit_def){
            .serial = serials[i], .role = (uint8_t)(1 + i % 2), .measure = names[i % N_MEASURES]};
    }
    struct waiter w = {.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER};
    struct vg_store_batch b = {.measures = ms,
                               .n_measures = N_MEASURES,
                               .units = us,
                               .n_units = N_UNITS,
                               .done = count_done,
                               .arg = &w};
    if (vg_store_submit(s, &b) != 0)
        die("provision", "submit refused");
    wait_until(&w, 1, 0);
    if (w.failed)
        die("provision", "failed");
    for (size_t i = 0; i < N_UNITS; i++)
        db->unit_ids[i] = us[i].id;
    free(us);
    return s;
}

/* ---- the store --------------------------------------------------------------------- */

static void set_units(struct data *d, const struct db *db)
{
    for (size_t i = 0; i < d->n; i++)
        d->recs[i].unit_id = db->unit_ids[d->rows[i].unit];
}

/* Records per second through the store. */
static double store_rate(struct data *d, size_t in_flight)
{
    struct db db;
    struct vg_store *s = new_store(&db);
    set_units(d, &db);
    size_t n_batches = d->n / BATCH;
    struct vg_store_batch *bs = calloc(n_batches, sizeof *bs);
    if (!bs)
        die("store", "out of memory");
    struct waiter w = {.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER};
    double t0 = bench_now_ns();
    for (size_t i = 0; i < n_batches; i++) {
        wait_until(&w, i, in_flight - 1);
        bs[i] = (struct vg_store_batch){
            .records = &d->recs[i * BATCH], .n_records = BATCH, .done = count_done, .arg = &w};
        if (vg_store_submit(s, &bs[i]) != 0)
            die("store", "submit refused");
    }
    wait_until(&w, n_batches, 0);
    double t1 = bench_now_ns();
    if (w.failed)
        die("store", "a batch failed");
    size_t commits = 1; /* a group's batches share their commit time */
    for (size_t i = 1; i < n_batches; i++)
        commits += bs[i].committed_ns != bs[i - 1].committed_ns;
    fprintf(stderr,
            "bench/store: %zu in flight: %zu batches in %zu commits (%.1f a commit), "
            "%.0f records/s\n",
            in_flight, n_batches, commits, (double)n_batches / (double)commits,
            (double)(n_batches * BATCH) / ((t1 - t0) / 1e9));
    vg_store_close(s);
    remove_db(&db);
    free(bs);
    return (double)(n_batches * BATCH) / ((t1 - t0) / 1e9);
}

static void pace_until(double t0_ns, size_t i, double interval_ns)
{
    double at = t0_ns + (double)i * interval_ns;
    struct timespec ts = {(time_t)(at / 1e9), (long)fmod(at, 1e9)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

/* The p99 of n latencies (the median goes to stderr, for the record). */
static double p99_ms(const char *who, int64_t *ns, size_t n)
{
    double *v = malloc(n * sizeof *v);
    if (!v)
        die("p99", "out of memory");
    for (size_t i = 0; i < n; i++)
        v[i] = (double)ns[i] / 1e6;
    qsort(v, n, sizeof *v, bench_cmp_double);
    size_t k = (size_t)ceil(0.99 * (double)n) - 1;
    double p = v[k];
    fprintf(stderr, "bench/store: %s: median %.2f ms, p99 %.2f ms, max %.2f ms\n", who, v[n / 2], p,
            v[n - 1]);
    free(v);
    return p;
}

/* p99 of submit -> commit, batches paced at PACE_RPS records/s. */
static double store_latency(struct data *d, size_t n_batches)
{
    struct db db;
    struct vg_store *s = new_store(&db);
    set_units(d, &db);
    struct vg_store_batch *bs = calloc(n_batches, sizeof *bs);
    int64_t *lat = calloc(n_batches, sizeof *lat);
    if (!bs || !lat)
        die("latency", "out of memory");
    struct waiter w = {.m = PTHREAD_MUTEX_INITIALIZER,
                       .c = PTHREAD_COND_INITIALIZER,
                       .latency_ns = lat,
                       .first = bs};
    double interval = 1e9 * BATCH / PACE_RPS;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < n_batches; i++) {
        pace_until(t0, i, interval);
        bs[i] = (struct vg_store_batch){
            .records = &d->recs[i * BATCH], .n_records = BATCH, .done = count_done, .arg = &w};
        if (vg_store_submit(s, &bs[i]) != 0)
            die("latency", "submit refused");
    }
    wait_until(&w, n_batches, 0);
    if (w.failed)
        die("latency", "a batch failed");
    vg_store_close(s);
    remove_db(&db);
    double p = p99_ms("store, submit to commit", lat, n_batches);
    free(bs);
    free(lat);
    return p;
}

/* ---- the floor: straight into SQLite ------------------------------------------------- */

static sqlite3 *floor_open(struct db *db, sqlite3_stmt **ins)
{
    struct vg_store *s = new_store(db); /* the schema and the units */
    vg_store_close(s);
    sqlite3 *h;
    if (sqlite3_open_v2(db->path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die("floor", "open");
    sqlite3_busy_timeout(h, 5000);
    if (sqlite3_exec(h,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                     "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; "
                     "PRAGMA cache_size = -65536",
                     NULL, NULL, NULL) != SQLITE_OK ||
        /* the keyed table the store moves its fixes into (fixes is a view
         * of it and of the arrival-ordered table, store/sqlite_fixes.h) */
        sqlite3_prepare_v2(h,
                           "INSERT INTO fixes_sorted (unit_id, seq, t_ms, quality, lat_e7, lon_e7, "
                           "accuracy_cm, speed_cms, heading_cdeg, received_ms) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                           -1, ins, NULL) != SQLITE_OK)
        die("floor", sqlite3_errmsg(h));
    return h;
}

static void floor_insert(sqlite3 *h, sqlite3_stmt *ins, const struct db *db, const struct row *w)
{
    sqlite3_bind_int64(ins, 1, db->unit_ids[w->unit]);
    sqlite3_bind_int64(ins, 2, (int64_t)w->seq);
    sqlite3_bind_int64(ins, 3, w->t_ms);
    sqlite3_bind_int(ins, 4, VG_FIX_3D);
    sqlite3_bind_int(ins, 5, w->lat_e7);
    sqlite3_bind_int(ins, 6, w->lon_e7);
    sqlite3_bind_int(ins, 7, w->acc_cm);
    sqlite3_bind_int(ins, 8, w->speed_cms);
    sqlite3_bind_int(ins, 9, w->heading_cdeg);
    sqlite3_bind_int64(ins, 10, w->t_ms + 800);
    if (sqlite3_step(ins) != SQLITE_DONE)
        die("floor insert", sqlite3_errmsg(h));
    sqlite3_reset(ins);
}

static void floor_exec(sqlite3 *h, const char *sql)
{
    if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(sql, sqlite3_errmsg(h));
}

static void floor_close(sqlite3 *h, sqlite3_stmt *ins, struct db *db)
{
    sqlite3_finalize(ins);
    sqlite3_close(h);
    remove_db(db);
}

static double floor_rate(const struct data *d)
{
    struct db db;
    sqlite3_stmt *ins;
    sqlite3 *h = floor_open(&db, &ins);
    size_t n = d->n / BATCH * BATCH;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < n; i += FLOOR_TXN) {
        floor_exec(h, "BEGIN");
        for (size_t k = i; k < n && k < i + FLOOR_TXN; k++)
            floor_insert(h, ins, &db, &d->rows[k]);
        floor_exec(h, "COMMIT");
    }
    double t1 = bench_now_ns();
    floor_close(h, ins, &db);
    fprintf(stderr, "bench/store: floor %.0f records/s\n", (double)n / ((t1 - t0) / 1e9));
    return (double)n / ((t1 - t0) / 1e9);
}

static double floor_latency(const struct data *d, size_t n_batches)
{
    struct db db;
    sqlite3_stmt *ins;
    sqlite3 *h = floor_open(&db, &ins);
    int64_t *lat = calloc(n_batches, sizeof *lat);
    if (!lat)
        die("floor latency", "out of memory");
    double interval = 1e9 * BATCH / PACE_RPS;
    double start = bench_now_ns();
    for (size_t i = 0; i < n_batches; i++) {
        pace_until(start, i, interval);
        double t0 = bench_now_ns();
        floor_exec(h, "BEGIN");
        for (size_t k = i * BATCH; k < (i + 1) * BATCH; k++)
            floor_insert(h, ins, &db, &d->rows[k]);
        floor_exec(h, "COMMIT");
        lat[i] = (int64_t)(bench_now_ns() - t0);
    }
    floor_close(h, ins, &db);
    double p = p99_ms("floor, 100-row transaction", lat, n_batches);
    free(lat);
    return p;
}

int main(void)
{
    bool quick = bench_quick();
    size_t n_records = quick ? 20000 : 300000;
    size_t n_paced = quick ? 20 : 400;       /* batches: 0.2 s, 4 s */
    size_t n_serial = quick ? 5000 : 100000; /* one batch in flight: no grouping */
    int rounds = quick ? 1 : 5, latency_rounds = quick ? 1 : 3, serial_rounds = quick ? 1 : 3;

    struct data d;
    make_data(&d, n_records > n_paced * BATCH ? n_records : n_paced * BATCH, 20261124);
    fprintf(stderr,
            "bench/store: %zu records a round in batches of %d, %d rounds; latency: %zu batches "
            "at %d records/s, %d rounds\n",
            n_records, BATCH, rounds, n_paced, PACE_RPS, latency_rounds);

    /* warm-up: a short run of each */
    struct data warm = d;
    warm.n = n_records / 10 / BATCH * BATCH;
    store_rate(&warm, IN_FLIGHT);
    floor_rate(&warm);

    struct data run = d, serial = d;
    run.n = n_records;
    serial.n = n_serial;
    double store_r[8], floor_r[8], serial_r[8], store_l[8], floor_l[8];
    for (int i = 0; i < rounds; i++) {
        store_r[i] = store_rate(&run, IN_FLIGHT);
        floor_r[i] = floor_rate(&run);
        if (i < serial_rounds)
            serial_r[i] = store_rate(&serial, 1);
    }
    for (int i = 0; i < latency_rounds; i++) {
        store_l[i] = store_latency(&d, n_paced);
        floor_l[i] = floor_latency(&d, n_paced);
    }
    struct bench_stats sr = bench_stats_of(store_r, (size_t)rounds);
    struct bench_stats fr = bench_stats_of(floor_r, (size_t)rounds);
    struct bench_stats ser = bench_stats_of(serial_r, (size_t)serial_rounds);
    struct bench_stats sl = bench_stats_of(store_l, (size_t)latency_rounds);
    struct bench_stats fl = bench_stats_of(floor_l, (size_t)latency_rounds);
    const char *floor_name = "direct SQLite insert, 10k rows per txn";
    bench_report("store", "records_per_s", sr, "1/s", floor_name, fr.median,
                 (uint64_t)n_records * (uint64_t)rounds);
    bench_report("store", "records_per_s_one_in_flight", ser, "1/s", floor_name, fr.median,
                 (uint64_t)n_serial * (uint64_t)serial_rounds);
    bench_report("store", "commit_latency_p99_ms", sl, "ms", "direct 100-row txn p99", fl.median,
                 (uint64_t)n_paced * (uint64_t)latency_rounds);
    free(d.rows);
    free(d.recs);
    return 0;
}
