/* The two sites' lease in PostgreSQL (store.h, "the lease"): two stores on
 * one database play the two sites. Who gets it, when the other may take
 * it, the epoch as a fencing token (a write of the old holder fails with
 * nothing stored), a transaction in flight holding the take-over back, a
 * standby's writes refused, the journal's tail read again at a take-over.
 * Run through scripts/pg-test-cluster ($VIGIE_TEST_PG); the SQLite case
 * (no lease) needs no server. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "core/err.h"
#include "store/store.h"

#define TTL 400 /* ms: short, so that the tests wait little */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void new_database(char *out, size_t len)
{
    static atomic_int counter;
    const char *base = getenv("VIGIE_TEST_PG");
    char name[64], admin[PATH_MAX];
    snprintf(name, sizeof name, "l_%ld_%d", (long)getpid(), atomic_fetch_add(&counter, 1));
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

static int64_t query_int(const char *loc, const char *sql)
{
    PGconn *c = PQconnectdb(loc);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return v;
}

struct sites {
    char loc[PATH_MAX + 64];
    struct vg_store *a, *b;
};

static int setup(void **state)
{
    struct sites *s = calloc(1, sizeof *s);
    new_database(s->loc, sizeof s->loc);
    char err[256];
    if (vg_store_open(s->loc, &s->a, err, sizeof err) != VG_OK ||
        vg_store_open(s->loc, &s->b, err, sizeof err) != VG_OK) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct sites *s = *state;
    vg_store_close(s->a);
    vg_store_close(s->b);
    free(s);
    return 0;
}

/* One journal entry in a batch of its own: 0 or the batch's error. */
static int write_one(struct vg_store *st, const char *subject, char *err, size_t err_len)
{
    struct vg_store_journal_entry e = {
        .at_ms = 1, .actor = "test", .action = "lease.test", .subject = subject, .detail = "{}"};
    struct vg_store_batch b = {.journal = &e, .n_journal = 1};
    return vg_store_run(st, &b, err, err_len);
}

static int64_t take(struct vg_store *st, const char *holder, int64_t epoch,
                    struct vg_store_lease_answer *ans)
{
    char err[256];
    int rc = vg_store_lease(st, holder, TTL, epoch, ans, err, sizeof err);
    if (rc != VG_OK)
        fail_msg("lease: %s", err);
    return ans->epoch;
}

static void test_one_holder_and_take_over_after_lapse(void **state)
{
    struct sites *s = *state;
    struct vg_store_lease_answer ans;
    assert_true(vg_store_has_lease(s->a));
    assert_int_equal(take(s->a, "site-a", 0, &ans), 1);
    assert_string_equal(ans.holder, "site-a");
    /* the other site is told who holds it, and for how long */
    assert_int_equal(take(s->b, "site-b", 0, &ans), 0);
    assert_string_equal(ans.holder, "site-a");
    assert_true(ans.remaining_ms > 0 && ans.remaining_ms <= TTL);
    /* renewals keep it, at the same epoch, past the ttl */
    for (int i = 0; i < 4; i++) {
        sleep_ms(TTL / 3);
        assert_int_equal(take(s->a, "site-a", 1, &ans), 1);
        assert_int_equal(take(s->b, "site-b", 0, &ans), 0);
    }
    /* a renewal with a wrong epoch is no renewal */
    assert_int_equal(take(s->a, "site-a", 9, &ans), 0);
    /* site A stops renewing: B takes it once it lapses, at the next epoch */
    sleep_ms(TTL + 50);
    assert_int_equal(take(s->b, "site-b", 0, &ans), 2);
    assert_int_equal(take(s->a, "site-a", 1, &ans), 0);
    assert_string_equal(ans.holder, "site-b");
    /* A's later take-over (B lapsed) is a new epoch again */
    sleep_ms(TTL + 50);
    assert_int_equal(take(s->a, "site-a", 1, &ans), 3);
}

static void test_release_lets_the_other_take_at_once(void **state)
{
    struct sites *s = *state;
    struct vg_store_lease_answer ans;
    char err[256];
    assert_int_equal(take(s->a, "site-a", 0, &ans), 1);
    /* only the holder at its epoch may release */
    assert_int_equal(vg_store_lease_release(s->b, "site-b", 1, err, sizeof err), VG_OK);
    assert_int_equal(vg_store_lease_release(s->a, "site-a", 5, err, sizeof err), VG_OK);
    assert_int_equal(take(s->b, "site-b", 0, &ans), 0);
    assert_int_equal(vg_store_lease_release(s->a, "site-a", 1, err, sizeof err), VG_OK);
    assert_int_equal(take(s->b, "site-b", 0, &ans), 2);
}

static void test_fencing_refuses_the_old_holder(void **state)
{
    struct sites *s = *state;
    struct vg_store_lease_answer ans;
    char err[256];
    assert_int_equal(take(s->a, "site-a", 0, &ans), 1);
    vg_store_fence(s->a, 1);
    assert_int_equal(write_one(s->a, "a/1", err, sizeof err), VG_OK);
    /* A pauses past the ttl; B takes over and writes */
    sleep_ms(TTL + 50);
    assert_int_equal(take(s->b, "site-b", 0, &ans), 2);
    vg_store_fence(s->b, 2);
    assert_int_equal(vg_store_resync(s->b, err, sizeof err), VG_OK);
    assert_int_equal(write_one(s->b, "b/1", err, sizeof err), VG_OK);
    /* A comes back and writes as if nothing happened: refused, nothing stored */
    int rc = write_one(s->a, "a/2", err, sizeof err);
    assert_true(rc < 0);
    assert_non_null(strstr(err, "no longer holds the lease"));
    assert_int_equal(query_int(s->loc, "SELECT count(*) FROM journal WHERE subject = 'a/2'"), 0);
    assert_int_equal(query_int(s->loc, "SELECT count(*) FROM journal"), 2);
    /* B's chain follows A's entry: the journal is one chain */
    assert_int_equal(query_int(s->loc, "SELECT count(*) FROM journal j JOIN journal p ON "
                                       "p.id = j.id - 1 AND p.hash = j.prev_hash"),
                     1);
}

static void test_standby_writes_nothing(void **state)
{
    struct sites *s = *state;
    char err[256];
    vg_store_fence(s->b, -1);
    int rc = write_one(s->b, "b/standby", err, sizeof err);
    assert_int_equal(rc, VG_ESTATE);
    assert_non_null(strstr(err, "standing by"));
    assert_int_equal(query_int(s->loc, "SELECT count(*) FROM journal"), 0);
    vg_store_fence(s->b, 0); /* unfenced again (a tool): writes */
    assert_int_equal(write_one(s->b, "b/tool", err, sizeof err), VG_OK);
}

/* A transaction of the holder in flight holds the take-over back (the
 * row is in share): the other site gets the lease only after it ends,
 * so what the holder commits is there when the other reads the state. */
static void test_take_over_waits_for_the_holders_transaction(void **state)
{
    struct sites *s = *state;
    struct vg_store_lease_answer ans;
    char err[256];
    assert_int_equal(take(s->a, "site-a", 0, &ans), 1);
    PGconn *c = PQconnectdb(s->loc);
    PQclear(PQexec(c, "BEGIN"));
    PGresult *r = PQexec(c, "SELECT vg_fence(1)");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    sleep_ms(TTL + 50); /* lapsed by the clock, but a transaction of epoch 1 is open */
    int rc = vg_store_lease(s->b, "site-b", TTL, 0, &ans, err, sizeof err);
    assert_true(rc < 0); /* the lock's time-out: asked again later */
    assert_non_null(strstr(err, "lock"));
    PQclear(PQexec(c, "COMMIT"));
    PQfinish(c);
    assert_int_equal(take(s->b, "site-b", 0, &ans), 2);
    /* a wrong epoch fails in the database itself */
    c = PQconnectdb(s->loc);
    r = PQexec(c, "SELECT vg_fence(1)");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "VGF01");
    PQclear(r);
    PQfinish(c);
}

static void test_sqlite_has_no_lease(void **state)
{
    (void)state;
    char path[] = "/tmp/vigie-lease-XXXXXX", loc[64], err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    snprintf(loc, sizeof loc, "sqlite:%s", path);
    struct vg_store *st = NULL;
    assert_int_equal(vg_store_open(loc, &st, err, sizeof err), VG_OK);
    assert_false(vg_store_has_lease(st));
    struct vg_store_lease_answer ans;
    assert_int_equal(vg_store_lease(st, "x", TTL, 0, &ans, err, sizeof err), VG_ESTATE);
    assert_int_equal(vg_store_lease_release(st, "x", 1, err, sizeof err), VG_ESTATE);
    assert_int_equal(write_one(st, "s/1", err, sizeof err), VG_OK);
    vg_store_close(st);
    char side[96];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_holder_and_take_over_after_lapse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_lets_the_other_take_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fencing_refuses_the_old_holder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_standby_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_take_over_waits_for_the_holders_transaction, setup,
                                        teardown),
        cmocka_unit_test(test_sqlite_has_no_lease),
    };
    if (!getenv("VIGIE_TEST_PG")) {
        fprintf(stderr, "test_lease_pg: VIGIE_TEST_PG is not set: run it through "
                        "scripts/pg-test-cluster\n");
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
