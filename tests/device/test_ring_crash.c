/* The ring killed with -9 at random moments (seeded), on a file, with
 * sync = 0 and sync = 1.
 *
 * A child opens the ring and, in a tight loop, appends the record made from
 * each next number (ring_fixture.h: the parent knows what number n must
 * hold), acknowledges like a centre would, and rewrites the settings blob
 * now and then. It tells the parent through a pipe:
 *   A n   after append returned n            (the record must survive)
 *   K c   before acknowledging up to c       (records <= c may be gone)
 *   E n   before acknowledging n as an extra (record n may be gone)
 *   M k   before writing blob number k,  D k after it returned
 *   R     once the ring is open
 * The parent kills it, reopens the file and checks that every number
 * reported appended and not (possibly) acknowledged is there with its exact
 * content, that nothing is there twice or out of order (alarms first), that
 * no record was lost, that the blob is the last written or the one being
 * written (never a mix), and that the next append gets a number above all
 * of them. The same file goes through every round, so the counter and the
 * wrap-around carry over. */
#include <dirent.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/prng.h"
#include "ring_fixture.h"

#define SLOTS    64
#define RESERVE  8
#define MSG_SIZE 9

/* ---- the child ------------------------------------------------------------------------- */

static void tell(int fd, char kind, uint64_t n)
{
    uint8_t m[MSG_SIZE];
    m[0] = (uint8_t)kind;
    vg_put_u64be(m + 1, n);
    if (write(fd, m, sizeof m) != (ssize_t)sizeof m)
        _exit(20);
}

/* A blob that shows whether it is whole: its number k, then k's bytes. */
static size_t make_blob(uint64_t k, uint8_t *blob)
{
    size_t len = 8 + (size_t)(k * 37 % (VG_RING_META_MAX - 8));
    vg_put_u64be(blob, k);
    for (size_t i = 8; i < len; i++)
        blob[i] = (uint8_t)(k * 131 + i);
    return len;
}

static _Noreturn void child(const char *path, int sync, uint64_t seed, int fd)
{
    struct vg_flash f;
    struct vg_ring r;
    char err[256];
    struct vg_ring_params p = {.slots = SLOTS, .alarm_reserve = RESERVE, .sync = sync};
    if (vg_flash_open_file(&f, path, vg_ring_flash_size(SLOTS), err, sizeof err) != VG_OK ||
        vg_ring_open(&r, &f, &p, err, sizeof err) != VG_OK) {
        fprintf(stderr, "child: %s\n", err);
        _exit(10);
    }
    tell(fd, 'R', 0);
    struct vg_prng prng;
    vg_prng_seed(&prng, seed);
    /* How far the "centre" lags: close behind, or far enough that the
     * ring runs full and refuses. */
    static const uint64_t lags[] = {2, 16, SLOTS - 4};
    uint64_t lag = lags[vg_prng_next(&prng) % 3];
    struct vg_ring_stats st;
    vg_ring_get_stats(&r, &st);
    uint64_t blob_k = 0;
    size_t len;
    uint8_t blob[VG_RING_META_MAX];
    if (vg_ring_meta_get(&r, blob, sizeof blob, &len) == VG_OK)
        blob_k = vg_get_u64be(blob);
    for (;;) {
        vg_ring_get_stats(&r, &st);
        uint64_t seq = st.last_seq + 1;
        struct vg_proto_record rec;
        make_record(seq, &rec);
        int rc = vg_ring_append(&r, &rec, key_is_alarm(seq));
        if (rc == VG_OK) {
            if (rec.seq != seq)
                _exit(11);
            tell(fd, 'A', seq);
        } else if (rc != VG_ENOSPC) {
            _exit(12);
        }
        uint64_t dice = vg_prng_next(&prng);
        vg_ring_get_stats(&r, &st);
        if (dice % 4 == 0 && st.last_seq > st.acked + lag) {
            uint64_t cum = st.last_seq - lag;
            uint64_t extra[1];
            size_t n_extra = 0;
            if (dice / 4 % 4 == 0 && st.last_seq > cum) {
                extra[n_extra++] = cum + 1 + (dice >> 8) % (st.last_seq - cum);
                tell(fd, 'E', extra[0]);
            }
            tell(fd, 'K', cum);
            if (vg_ring_ack(&r, cum, extra, n_extra) != VG_OK)
                _exit(13);
        }
        if (dice / 64 % 32 == 0) {
            blob_k++;
            len = make_blob(blob_k, blob);
            tell(fd, 'M', blob_k);
            if (vg_ring_meta_put(&r, blob, len) != VG_OK)
                _exit(14);
            tell(fd, 'D', blob_k);
        }
    }
}

/* ---- the parent ------------------------------------------------------------------------ */

/* What the child reported, over every round. */
struct reported {
    uint8_t *appended; /* by number */
    uint8_t *extra;    /* acknowledged out of order (possibly) */
    uint64_t cap;
    uint64_t max_appended;
    uint64_t cum;       /* highest cumulative acknowledgement announced */
    uint64_t blob_done; /* last blob written, and the one being written */
    uint64_t blob_intent;
    int ready; /* this round's child has opened the ring */
};

static void grow(struct reported *rep, uint64_t n)
{
    if (n < rep->cap)
        return;
    uint64_t cap = rep->cap ? rep->cap : 4096;
    while (cap <= n)
        cap *= 2;
    rep->appended = realloc(rep->appended, cap);
    rep->extra = realloc(rep->extra, cap);
    assert_non_null(rep->appended);
    assert_non_null(rep->extra);
    memset(rep->appended + rep->cap, 0, cap - rep->cap);
    memset(rep->extra + rep->cap, 0, cap - rep->cap);
    rep->cap = cap;
}

static void take(struct reported *rep, const uint8_t *m)
{
    uint64_t n = vg_get_u64be(m + 1);
    switch (m[0]) {
    case 'A':
        grow(rep, n);
        assert_int_equal(rep->appended[n], 0); /* never handed out twice */
        assert_true(n > rep->max_appended);    /* always upwards */
        rep->appended[n] = 1;
        rep->max_appended = n;
        break;
    case 'E':
        grow(rep, n);
        rep->extra[n] = 1;
        break;
    case 'K':
        if (n > rep->cum)
            rep->cum = n;
        break;
    case 'M': rep->blob_intent = n; break;
    case 'D': rep->blob_done = n; break;
    case 'R': rep->ready = 1; break;
    default: fail_msg("unknown message %c", m[0]);
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read whole messages from fd until the deadline (or EOF when deadline < 0). */
static void read_reports(int fd, struct reported *rep, int64_t deadline, uint8_t *pend,
                         size_t *npend)
{
    for (;;) {
        int timeout = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0)
                return;
            timeout = (int)left;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, timeout);
        if (pr == 0)
            return;
        if (pr < 0)
            continue;
        uint8_t buf[4096];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0)
            return; /* EOF */
        if (n < 0)
            continue;
        for (ssize_t i = 0; i < n; i++) {
            pend[(*npend)++] = buf[i];
            if (*npend == MSG_SIZE) {
                take(rep, pend);
                *npend = 0;
            }
        }
    }
}

static void check_recovered(const char *path, struct reported *rep, uint64_t *appended_total)
{
    struct vg_flash f;
    struct vg_ring r;
    char err[256];
    struct vg_ring_params p = {.slots = SLOTS, .alarm_reserve = RESERVE, .sync = 0};
    if (vg_flash_open_file(&f, path, vg_ring_flash_size(SLOTS), err, sizeof err) != VG_OK ||
        vg_ring_open(&r, &f, &p, err, sizeof err) != VG_OK)
        fail_msg("reopen: %s", err);
    struct vg_ring_stats st;
    vg_ring_get_stats(&r, &st);
    /* The counter: every number handed out, perhaps one being handed out. */
    assert_true(st.last_seq >= rep->max_appended);
    assert_true(st.last_seq <= rep->max_appended + 1);
    assert_int_equal(st.lost, 0);
    grow(rep, st.last_seq + 1);

    /* Everything next() gives: exact, once, alarms first, each part in order. */
    uint8_t *seen = calloc(st.last_seq + 2, 1);
    assert_non_null(seen);
    struct vg_proto_record out, want;
    int in_alarms = 1;
    uint64_t prev = 0, count = 0;
    while (vg_ring_next(&r, &out) == 1) {
        assert_true(out.seq >= 1 && out.seq <= st.last_seq);
        assert_int_equal(seen[out.seq], 0);
        seen[out.seq] = 1;
        make_record(out.seq, &want);
        want.seq = out.seq;
        assert_same_record(&out, &want);
        int alarm = key_is_alarm(out.seq);
        if (in_alarms && !alarm) {
            in_alarms = 0;
            prev = 0;
        }
        assert_int_equal(alarm, in_alarms);
        assert_true(out.seq > prev);
        prev = out.seq;
        count++;
    }
    assert_int_equal(count, st.pending);
    for (uint64_t s = rep->cum + 1; s <= rep->max_appended; s++) {
        if (rep->appended[s] && !rep->extra[s] && !seen[s])
            fail_msg("record %" PRIu64 " was appended and is gone (acknowledged up to %" PRIu64 ")",
                     s, rep->cum);
    }
    free(seen);

    /* The blob: whole, the last written or the one being written. */
    uint8_t blob[VG_RING_META_MAX], expect[VG_RING_META_MAX];
    size_t len;
    int rc = vg_ring_meta_get(&r, blob, sizeof blob, &len);
    if (rc == VG_ENOTFOUND) {
        assert_int_equal(rep->blob_done, 0);
    } else {
        assert_int_equal(rc, VG_OK);
        assert_true(len >= 8);
        uint64_t k = vg_get_u64be(blob);
        assert_true(k == rep->blob_done || k == rep->blob_intent);
        assert_int_equal(len, make_blob(k, expect));
        assert_memory_equal(blob, expect, len);
        rep->blob_done = rep->blob_intent = k;
    }

    /* The next number is above every one seen, and what the centre said
     * comes back as WELCOME would bring it. */
    rep->max_appended = st.last_seq; /* a number in flight at the kill is taken */
    make_record(st.last_seq + 1, &want);
    rc = vg_ring_append(&r, &want, key_is_alarm(st.last_seq + 1));
    if (rc == VG_OK) {
        assert_int_equal(want.seq, st.last_seq + 1);
        rep->appended[want.seq] = 1;
        rep->max_appended = want.seq;
        (*appended_total)++;
    } else {
        assert_int_equal(rc, VG_ENOSPC);
    }
    if (rep->cum > 0)
        assert_int_equal(vg_ring_ack(&r, rep->cum, NULL, 0), VG_OK);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

/* The directory and what is in it: the ring, and the temporary file of a
 * child killed while creating it. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_int_equal(unlink(path), 0);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

static void crash_rounds(int sync, int rounds, uint64_t seed)
{
    char dir[256], path[512];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/vigie-ring-crash-XXXXXX",
             base != NULL && base[0] ? base : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ring", dir);
    struct reported rep;
    memset(&rep, 0, sizeof rep);
    struct vg_prng prng;
    vg_prng_seed(&prng, seed);
    uint64_t appended_total = 0;
    int killed_busy = 0;
    for (int round = 0; round < rounds; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        uint64_t child_seed = vg_prng_next(&prng);
        /* Mostly at a random moment of the loop, sometimes at a random
         * moment from the fork (while still opening, perhaps). */
        int64_t delay = (int64_t)(vg_prng_next(&prng) % 16);
        int from_fork = vg_prng_next(&prng) % 8 == 0;
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child(path, sync, child_seed, fds[1]);
        }
        close(fds[1]);
        uint8_t pend[MSG_SIZE];
        size_t npend = 0;
        uint64_t before = rep.max_appended;
        rep.ready = 0;
        if (!from_fork) {
            /* However slow the machine, the kill lands in the loop. */
            int64_t give_up = now_ms() + 30000;
            while (!rep.ready && now_ms() < give_up)
                read_reports(fds[0], &rep, now_ms() + 10, pend, &npend);
            assert_true(rep.ready);
        }
        read_reports(fds[0], &rep, now_ms() + delay, pend, &npend);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        read_reports(fds[0], &rep, -1, pend, &npend);
        close(fds[0]);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            fail_msg("round %d: the child ended by itself (status %d)", round, status);
        if (rep.max_appended > before)
            killed_busy++;
        appended_total += rep.max_appended - before;
        check_recovered(path, &rep, &appended_total);
    }
    /* The rounds did exercise something: the ring wrapped around. */
    assert_true(rep.max_appended > 2 * SLOTS);
    printf("# sync=%d: %d rounds, %d killed mid-loop, %" PRIu64 " records, last number %" PRIu64
           "\n",
           sync, rounds, killed_busy, appended_total, rep.max_appended);
    free(rep.appended);
    free(rep.extra);
    remove_dir(dir);
}

static void test_kill_9_without_sync(void **state)
{
    (void)state;
    crash_rounds(0, 250, 0x5eed0001);
}

static void test_kill_9_with_sync(void **state)
{
    (void)state;
    crash_rounds(1, 120, 0x5eed0002);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_9_without_sync),
        cmocka_unit_test(test_kill_9_with_sync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
