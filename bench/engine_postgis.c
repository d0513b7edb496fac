/* bench/engine_postgis: what a database-centred design would cost. The
 * fixes of bench/engine (the same world: seed, measures, zones, tracks)
 * checked by PostGIS instead of the alarm engine: for each fix, as a centre
 * built on the database would do on arrival, one prepared statement that
 * stores the party's position and asks ST_DWithin whether it is within R
 * of the other party's last position and of each of the measure's four
 * fixed zones (three circles, a polygon). The engine does that and much
 * more (accuracies, hysteresis, windows, health, deadlines).
 *
 * Reports (docs/BENCHMARKS.md):
 *   ns_per_fix        the PostGIS check, one statement and its answer per
 *                     fix (a commit per 1,000 fixes, so that the fsync is
 *                     not what is measured), vs the engine's ns per fix in
 *                     the same run (ratio: how many times the engine's cost)
 *   ns_per_fix_bulk   the same zone checks for 1,000 fixes in one
 *                     statement (no round trip per fix, no position
 *                     stored): the database's best case, vs the engine
 *
 * The fixes checked are the first ones of the time-major stream (every
 * measure's first moments); the engine runs over the whole world, as in
 * bench/engine. PostGIS's answers are checked against the core's own zone
 * distances on the same fixes (they must agree but for fixes within a
 * metre of a border). It runs on a throwaway PostgreSQL cluster with
 * postgis (scripts/pg-test-cluster, started around it unless $VIGIE_TEST_PG
 * names one). */
#define VG_BENCH_ENGINE_WORLD_ONLY
#include "engine.c"

#include <libpq-fe.h>
#include <unistd.h>

#include "core/geo.h"

#define BULK 1000

static PGconn *db;

static void pg_die(const char *what, PGresult *r)
{
    fprintf(stderr, "bench/engine_postgis: %s: %s", what,
            r ? PQresultErrorMessage(r) : PQerrorMessage(db));
    exit(1);
}

static void exec_sql(const char *sql)
{
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        pg_die(sql, r);
    PQclear(r);
}

static void connect_db(const char *base)
{
    char conninfo[1024];
    snprintf(conninfo, sizeof conninfo, "%s/postgres", base);
    db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK)
        pg_die("connect", NULL);
    exec_sql("SET client_min_messages = warning");
    exec_sql("DROP DATABASE IF EXISTS engine_postgis");
    exec_sql("CREATE DATABASE engine_postgis");
    PQfinish(db);
    snprintf(conninfo, sizeof conninfo, "%s/engine_postgis", base);
    db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK)
        pg_die("connect", NULL);
    exec_sql("SET client_min_messages = warning");
    exec_sql("CREATE EXTENSION postgis");
}

static void add_point(char *buf, size_t len, double lat, double lon)
{
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "%s%.9f %.9f", n && buf[n - 1] != '(' ? ", " : "", lon, lat);
}

/* Every measure's zones as geographies, and a row for each party's last
 * position, in one COPY each. */
static void load_zones(const struct world *w)
{
    exec_sql("CREATE TABLE zones (measure_id INTEGER NOT NULL, zone INTEGER NOT NULL, "
             "geog GEOGRAPHY NOT NULL, radius DOUBLE PRECISION NOT NULL)");
    exec_sql("CREATE TABLE last_fix (measure_id INTEGER NOT NULL, who INTEGER NOT NULL, "
             "geog GEOGRAPHY, PRIMARY KEY (measure_id, who))");
    PGresult *r = PQexec(db, "COPY zones FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN)
        pg_die("COPY zones", r);
    PQclear(r);
    char line[2048];
    for (size_t m = 0; m < w->n_measures; m++) {
        const struct measure *x = &w->measures[m];
        for (int z = 0; z < ZONES_PER_MEASURE; z++) {
            const struct vg_zone *zone = &x->zones[z];
            char wkt[1536] = "";
            if (zone->shape == VG_ZONE_CIRCLE) {
                snprintf(wkt, sizeof wkt, "POINT(");
                add_point(wkt, sizeof wkt, zone->centre.lat_rad * 180 / M_PI,
                          zone->centre.lon_rad * 180 / M_PI);
            } else {
                snprintf(wkt, sizeof wkt, "POLYGON((");
                for (int v = 0; v <= POLY_VERTICES; v++)
                    add_point(wkt, sizeof wkt, x->vertices[v % POLY_VERTICES].lat_deg,
                              x->vertices[v % POLY_VERTICES].lon_deg);
                strncat(wkt, ")", sizeof wkt - strlen(wkt) - 1);
            }
            strncat(wkt, ")", sizeof wkt - strlen(wkt) - 1);
            int n = snprintf(line, sizeof line, "%zu\t%d\tSRID=4326;%s\t%.3f\n", m, z, wkt,
                             zone->alert_radius_m);
            if (PQputCopyData(db, line, n) != 1)
                pg_die("COPY zones", NULL);
        }
    }
    if (PQputCopyEnd(db, NULL) != 1)
        pg_die("COPY zones", NULL);
    r = PQgetResult(db);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        pg_die("COPY zones", r);
    PQclear(r);
    exec_sql("INSERT INTO last_fix SELECT m, who, NULL FROM generate_series(0, "
             "(SELECT max(measure_id) FROM zones)) m, generate_series(0, 1) who");
    exec_sql("CREATE INDEX zones_by_measure ON zones (measure_id)");
    exec_sql("CREATE INDEX zones_geog ON zones USING gist (geog)");
    exec_sql("ANALYZE");
}

/* The check of one fix: its position stored, then how many of its
 * measure's fixed zones it is within R of, and whether it is within R of
 * the other party's last position. */
static const char CHECK_SQL[] =
    "WITH p AS (SELECT ST_SetSRID(ST_MakePoint($3, $2), 4326)::geography AS g), "
    "u AS (UPDATE last_fix SET geog = (SELECT g FROM p) WHERE measure_id = $1 AND who = $4) "
    "SELECT (SELECT count(*) FROM zones z, p WHERE z.measure_id = $1 "
    "AND ST_DWithin(z.geog, p.g, z.radius)), "
    "(SELECT coalesce(ST_DWithin(l.geog, p.g, $5), false) FROM last_fix l, p "
    "WHERE l.measure_id = $1 AND l.who = 1 - $4)";

static const char BULK_SQL[] =
    "SELECT count(*) FROM unnest($1::integer[], $2::float8[], $3::float8[]) AS f(m, lat, lon) "
    "JOIN zones z ON z.measure_id = f.m "
    "WHERE ST_DWithin(z.geog, ST_SetSRID(ST_MakePoint(f.lon, f.lat), 4326)::geography, z.radius)";

/* Fixes [0, n) through the per-fix statement: ns per fix; *inside: how
 * many (fix, zone) pairs PostGIS found within R. */
static double run_postgis(const struct world *w, size_t n, uint64_t *inside)
{
    char a[5][32];
    const char *v[5] = {a[0], a[1], a[2], a[3], a[4]};
    uint64_t hits = 0;
    double t0 = bench_now_ns();
    for (size_t k = 0; k < n; k++) {
        if (k % BULK == 0) /* a commit per 1,000 fixes, not per fix */
            exec_sql(k == 0 ? "BEGIN" : "COMMIT; BEGIN");
        uint32_t m = w->input_measure[k];
        const struct vg_engine_input *in = &w->inputs[k];
        snprintf(a[0], sizeof a[0], "%u", m);
        snprintf(a[1], sizeof a[1], "%.9f", in->fix.lat_deg);
        snprintf(a[2], sizeof a[2], "%.9f", in->fix.lon_deg);
        snprintf(a[3], sizeof a[3], "%d", in->unit == VG_UNIT_AUTHOR ? 0 : 1);
        snprintf(a[4], sizeof a[4], "%.3f", w->measures[m].cfg.alert_radius_m);
        PGresult *r = PQexecPrepared(db, "check", 5, v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            pg_die("check", r);
        hits += strtoull(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    exec_sql("COMMIT");
    double t1 = bench_now_ns();
    *inside = hits;
    return (t1 - t0) / (double)n;
}

static double run_bulk(const struct world *w, size_t n, uint64_t *inside)
{
    size_t cap = BULK * 24 + 16;
    char *ms = malloc(cap), *lats = malloc(cap), *lons = malloc(cap);
    if (!ms || !lats || !lons)
        exit(1);
    uint64_t hits = 0;
    double t0 = bench_now_ns();
    for (size_t start = 0; start < n; start += BULK) {
        size_t lm = 0, la = 0, lo = 0;
        for (size_t k = start; k < n && k < start + BULK; k++) {
            const char *sep = k == start ? "{" : ",";
            lm += (size_t)snprintf(ms + lm, cap - lm, "%s%u", sep, w->input_measure[k]);
            la += (size_t)snprintf(lats + la, cap - la, "%s%.9f", sep, w->inputs[k].fix.lat_deg);
            lo += (size_t)snprintf(lons + lo, cap - lo, "%s%.9f", sep, w->inputs[k].fix.lon_deg);
        }
        snprintf(ms + lm, cap - lm, "}");
        snprintf(lats + la, cap - la, "}");
        snprintf(lons + lo, cap - lo, "}");
        const char *v[3] = {ms, lats, lons};
        PGresult *r = PQexecPrepared(db, "bulk", 3, v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            pg_die("bulk", r);
        hits += strtoull(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    double t1 = bench_now_ns();
    free(ms);
    free(lats);
    free(lons);
    *inside = hits;
    return (t1 - t0) / (double)n;
}

/* The same question asked of the core's zones: (fix, zone) pairs within R,
 * and those within a metre of R (where two geodesic methods may differ). */
static uint64_t core_inside(const struct world *w, size_t n, uint64_t *borderline)
{
    uint64_t hits = 0, close = 0;
    for (size_t k = 0; k < n; k++) {
        const struct measure *m = &w->measures[w->input_measure[k]];
        struct vg_geo_prepared p;
        vg_geo_prepare(&p,
                       (struct vg_geo_point){w->inputs[k].fix.lat_deg, w->inputs[k].fix.lon_deg});
        for (int z = 0; z < ZONES_PER_MEASURE; z++) {
            double d = vg_zone_distance(&m->zones[z], &p, HUGE_VAL);
            hits += d <= m->zones[z].alert_radius_m;
            close += fabs(d - m->zones[z].alert_radius_m) < 1.0;
        }
    }
    *borderline = close;
    return hits;
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *base = getenv("VIGIE_TEST_PG");
    if (!base || !*base) { /* a cluster of our own around this program */
        static const char cluster[] = VG_SOURCE_ROOT "/scripts/pg-test-cluster";
        setenv("VIGIE_PG_OPTIONS", "-c shared_buffers=256MB", 0);
        execl(cluster, cluster, argv[0], (char *)NULL);
        perror(cluster);
        return 1;
    }
    bool quick = bench_quick();
    size_t n_measures = quick ? 500 : 10000;
    size_t n_steps = quick ? 4 : 60;
    int rounds = quick ? 1 : 5;
    struct world w;
    memset(&w, 0, sizeof w);
    build_world(&w, n_measures, n_steps, 20261124);
    size_t n_checked = quick ? 2000 : 20000;
    if (n_checked > w.n_inputs)
        n_checked = w.n_inputs;

    connect_db(base);
    load_zones(&w);
    PGresult *r = PQprepare(db, "check", CHECK_SQL, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        pg_die("prepare", r);
    PQclear(r);
    r = PQprepare(db, "bulk", BULK_SQL, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        pg_die("prepare", r);
    PQclear(r);
    fprintf(stderr,
            "bench/engine_postgis: %zu measures, %zu zones in PostGIS; %zu fixes checked a "
            "round, %d rounds; the engine: %zu fixes a round\n",
            n_measures, n_measures * ZONES_PER_MEASURE, n_checked, rounds, w.n_inputs);

    /* the answers first: PostGIS and the core agree on the same fixes */
    uint64_t borderline = 0, core = core_inside(&w, n_checked, &borderline), pg = 0, bulk_hits = 0;
    run_postgis(&w, n_checked < 2000 ? n_checked : 2000, &pg); /* warm-up */
    run_bulk(&w, n_checked, &bulk_hits);
    uint64_t diff = bulk_hits > core ? bulk_hits - core : core - bulk_hits;
    fprintf(stderr,
            "bench/engine_postgis: (fix, zone) pairs within R: %llu by PostGIS, %llu by the core "
            "(%llu within a metre of R)\n",
            (unsigned long long)bulk_hits, (unsigned long long)core,
            (unsigned long long)borderline);
    if (diff > borderline) {
        fprintf(stderr, "bench/engine_postgis: PostGIS and the core disagree\n");
        return 1;
    }

    double pg_ns[8], bulk_ns[8], engine_ns[8];
    uint64_t alarms = 0;
    run_engine(&w, &alarms); /* warm-up */
    for (int i = 0; i < rounds; i++) {
        pg_ns[i] = run_postgis(&w, n_checked, &pg);
        bulk_ns[i] = run_bulk(&w, n_checked, &bulk_hits);
        engine_ns[i] = run_engine(&w, &alarms);
    }
    struct bench_stats eng = bench_stats_of(engine_ns, (size_t)rounds);
    bench_report("engine_postgis", "ns_per_fix", bench_stats_of(pg_ns, (size_t)rounds), "ns",
                 "alarm engine", eng.median, (uint64_t)n_checked * (uint64_t)rounds);
    bench_report("engine_postgis", "ns_per_fix_bulk", bench_stats_of(bulk_ns, (size_t)rounds), "ns",
                 "alarm engine", eng.median, (uint64_t)n_checked * (uint64_t)rounds);
    PQfinish(db);
    free(w.measures);
    free(w.states);
    free(w.inputs);
    free(w.input_measure);
    return 0;
}
