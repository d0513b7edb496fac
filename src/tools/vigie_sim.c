/* vigie-sim: thousands of simulated mobile units in one process, on one
 * event loop, each running the real unit logic (src/unit) over its own TLS
 * connection to vigied, fed by a simulated world (src/sim: movement, GNSS
 * errors, coverage holes, device events) described by a scenario file.
 *
 *   vigie-sim run --scenario FILE --server HOST:PORT [--server HOST:PORT]
 *                 --pki DIR [--server-name NAME] [--prefix P] [--seed N]
 *                 [--provision --http HOST:PORT --token-file F]
 *                 [--out DIR] [--duration S] [--drain-timeout S]
 *                 [--slots N] [--flash-dir DIR] [--geo DIR] [--stats-interval S]
 *                 [--connect-rate N] [--quiet] [--verbose]
 *   vigie-sim provision --scenario FILE --pki DIR --http HOST:PORT --token-file F
 *                 [--prefix P] [--seed N] [--geo DIR]
 *
 * --provision issues the units' certificates in DIR (P-A-00001, P-P-00001,
 * ...) and declares one measure a pair through the API (P-<pair name>),
 * the measure the scenario describes. Then the run: the units start at
 * once, the world is sampled once a second per unit (spread over the
 * second), and after the scenario's duration the units stop recording and
 * hand over what they kept: the run ends when nothing is pending, or
 * after --drain-timeout (then the exit status is 1).
 *
 * --connect-rate N lets N units a second onto the network at the start (the
 * others have no coverage yet, and record meanwhile), rather than ten
 * thousand TLS handshakes in the same second, many of which would time out
 * waiting for their WELCOME and start again.
 *
 * `vigie-sim provision` does only the provisioning, so that a later run
 * (without --provision) starts at once: with thousands of units the
 * certificates take minutes. That run's world starts when its units are
 * set up; the measures' time windows, if the scenario has any, were
 * written from the provisioning's clock.
 *
 * The units' flash is memory unless --flash-dir names a directory where
 * each keeps a file (SERIAL.flash): then a later run of the same units goes
 * on from their sequence numbers, as real units do.
 *
 * Written beside the run, in --out (default ./sim-out):
 *   truth.jsonl    the ground truth (docs/SCENARIOS.md)
 *   summary.json   records made, sent, acknowledged, pending, refused;
 *                  sessions; rings heard; the sampling lag (p99, max: how
 *                  late the world's samples ran behind their schedule);
 *                  CPU time and peak RSS; the same line is printed last.
 *   stats.jsonl    with --stats-interval S, every S seconds: the counters
 *                  so far, the lag histogram, CPU time and peak RSS (a
 *                  benchmark takes differences over its window).
 * Rings are printed as they happen: RING unit=... source=... level=... */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "core/alarm.h"
#include "core/err.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "unit/flash.h"
#include "unit/ring.h"
#include "unit/unit.h"
#include "unit/unit_link.h"
#include "util/log.h"
#include "util/pki.h"

/* The world is sampled for every unit once a second, in PACE_SLOTS
 * slices (every 1000/PACE_SLOTS ms), so that ten thousand units do not all
 * wake at the same millisecond. Slice k of second S is due at
 * start + S s + k * SLICE_MS: a late timer catches up with the slices due
 * (how late each sample is goes into a histogram); a loop so far behind
 * that slices are more than MAX_CATCH_UP_MS late skips them (counted). */
#define PACE_SLOTS      50
#define SLICE_MS        (1000 / PACE_SLOTS)
#define MAX_CATCH_UP_MS 2000

/* The sampling lag histogram's upper bounds (ms), the last one +inf. */
static const int LAG_EDGES_MS[] = {0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000};
#define LAG_BUCKETS (sizeof LAG_EDGES_MS / sizeof LAG_EDGES_MS[0] + 1)

struct sim;

struct sim_unit {
    struct sim *sim;
    size_t index;
    char serial[48];
    X509 *cert; /* its certificate and key, on the shared TLS context */
    EVP_PKEY *key;
    struct vg_flash flash;
    struct vg_ring ring;
    struct vg_mobile_unit u;
    struct vg_unit_link link;
    int started;
    int64_t last_epoch_ms; /* the receiver's last epoch fed */
    int powered;
    int8_t strap, skin, reach;
    uint8_t admitted; /* may connect (--connect-rate) */
    uint64_t rings_centre, rings_local;
};

struct sim {
    struct event_base *base;
    struct vg_sim_scenario *sc;
    struct vg_sim_world *world;
    struct sim_unit *units;
    size_t n_units;
    SSL_CTX *ssl; /* one client context for all the units */
    int64_t start_ms, end_ms, drain_ms, drain_deadline_ms;
    int draining, done, quiet, verbose, interrupted;
    int64_t next_slice_ms; /* when the next slice is due */
    uint64_t slice_no;     /* slices since the start (the slot is slice_no % PACE_SLOTS) */
    struct event *pace, *sigint, *sigterm, *stats_ev;
    uint64_t samples, slices_skipped;
    uint64_t lag_hist[LAG_BUCKETS]; /* samples by lateness */
    int64_t lag_max_ms, lag_max_interval_ms;
    FILE *stats;
    int64_t provision_ms;
    double connect_rate; /* units a second let onto the network at the start; 0: all at once */
    double admit_budget;
    int64_t admit_last_ms;
};

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "vigie-sim: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static void usage(FILE *f)
{
    fputs("usage: vigie-sim run --scenario FILE --server HOST:PORT [--server HOST:PORT]\n"
          "                     --pki DIR [--server-name NAME] [--prefix P] [--seed N]\n"
          "                     [--provision --http HOST:PORT --token-file F]\n"
          "                     [--out DIR] [--duration S] [--drain-timeout S] [--slots N]\n"
          "                     [--flash-dir DIR] [--geo DIR] [--stats-interval S]\n"
          "                     [--connect-rate N] [--quiet] [--verbose]\n"
          "       vigie-sim provision --scenario FILE --pki DIR --http HOST:PORT --token-file F\n"
          "                     [--prefix P] [--seed N] [--geo DIR]\n",
          f);
}

/* ---- hooks -------------------------------------------------------------------------- */

static void on_ring(void *ctx, unsigned source, unsigned level, const char *message,
                    unsigned vibrate_ms, unsigned sound)
{
    struct sim_unit *su = ctx;
    (void)vibrate_ms;
    (void)sound;
    if (source == VG_UNIT_RING_LOCAL)
        su->rings_local++;
    else
        su->rings_centre++;
    if (!su->sim->quiet) {
        printf("RING unit=%s source=%s level=%u message=\"%s\"\n", su->serial,
               source == VG_UNIT_RING_LOCAL ? "local" : "centre", level, message);
        fflush(stdout);
    }
}

static void on_log(void *ctx, const char *level, const char *message)
{
    struct sim_unit *su = ctx;
    int warn = strcmp(level, "warn") == 0, error = strcmp(level, "error") == 0;
    if (!su->sim->verbose && !error && !(warn && !su->sim->quiet))
        return;
    vg_log(error  ? VG_LOG_ERROR
           : warn ? VG_LOG_WARN
                  : VG_LOG_INFO,
           message, "unit", su->serial, NULL);
}

/* ---- the world feeds the units ----------------------------------------------------------- */

static void feed(struct sim *s, struct sim_unit *su, int64_t now)
{
    struct vg_sim_sample smp;
    if (vg_sim_world_sample(s->world, su->index, now, &smp) != VG_OK)
        return;
    s->samples++;
    struct vg_mobile_unit *u = &su->u;
    if (smp.powered != su->powered) {
        vg_unit_input(u, VG_UNIT_IN_POWER, smp.powered, now);
        su->powered = smp.powered;
    }
    vg_unit_link_set_network(&su->link, smp.network_up && su->admitted);
    vg_unit_set_extra_drain(u, smp.battery_drain_per_h);
    if (smp.powered && smp.fix.time_ms != su->last_epoch_ms) {
        vg_unit_gnss(u, &smp.fix, now);
        su->last_epoch_ms = smp.fix.time_ms;
    }
    /* the modem's network estimate while the receiver has no fix */
    if (smp.powered)
        vg_unit_network(u, smp.net_fix.quality == VG_FIX_NETWORK ? &smp.net_fix : NULL, now);
    if (u->p.role == VG_UNIT_AUTHOR) {
        if (smp.strap_closed >= 0 && smp.strap_closed != su->strap)
            vg_unit_input(u, VG_UNIT_IN_STRAP, smp.strap_closed, now);
        if (smp.skin_contact >= 0 && smp.skin_contact != su->skin)
            vg_unit_input(u, VG_UNIT_IN_SKIN, smp.skin_contact, now);
        if (smp.bracelet_in_reach >= 0 && smp.bracelet_in_reach != su->reach)
            vg_unit_input(u, VG_UNIT_IN_BRACELET_LINK, smp.bracelet_in_reach, now);
        su->strap = smp.strap_closed;
        su->skin = smp.skin_contact;
        su->reach = smp.bracelet_in_reach;
    } else {
        if (smp.presses & VG_SIM_PRESS_SOS)
            vg_unit_input(u, VG_UNIT_IN_SOS, 1, now);
        if (smp.presses & VG_SIM_PRESS_CALLBACK)
            vg_unit_input(u, VG_UNIT_IN_CALLBACK, 1, now);
        vg_unit_beacon(u, smp.beacon_range_m, now);
    }
}

static void start_drain(struct sim *s, int64_t now)
{
    s->draining = 1;
    s->drain_deadline_ms = now + s->drain_ms;
    for (size_t i = 0; i < s->n_units; i++) {
        vg_unit_drain(&s->units[i].u, now);
        vg_unit_link_set_network(&s->units[i].link, 1);
        vg_unit_link_step(&s->units[i].link);
    }
    if (!s->quiet)
        vg_log(VG_LOG_INFO, "end of the scenario: the units hand over what they kept", NULL);
}

static uint64_t total_pending(const struct sim *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->n_units; i++)
        n += vg_unit_pending(&s->units[i].u);
    return n;
}

static void lag_note(struct sim *s, int64_t lag_ms, uint64_t n)
{
    size_t b = 0;
    while (b < LAG_BUCKETS - 1 && lag_ms > LAG_EDGES_MS[b])
        b++;
    s->lag_hist[b] += n;
    if (lag_ms > s->lag_max_ms)
        s->lag_max_ms = lag_ms;
    if (lag_ms > s->lag_max_interval_ms)
        s->lag_max_interval_ms = lag_ms;
}

/* The lag under which a fraction q of the samples fell (upper bound of its
 * bucket, interpolated linearly inside it). */
static double lag_quantile(const struct sim *s, double q)
{
    uint64_t total = 0;
    for (size_t b = 0; b < LAG_BUCKETS; b++)
        total += s->lag_hist[b];
    if (total == 0)
        return 0;
    double rank = q * (double)total, below = 0;
    for (size_t b = 0; b < LAG_BUCKETS; b++) {
        double lo = b == 0 ? 0 : LAG_EDGES_MS[b - 1];
        if (b == LAG_BUCKETS - 1)
            return (double)s->lag_max_ms;
        if (below + (double)s->lag_hist[b] >= rank) {
            double frac = s->lag_hist[b] ? (rank - below) / (double)s->lag_hist[b] : 1.0;
            double q_ms = lo + (LAG_EDGES_MS[b] - lo) * frac;
            return q_ms < (double)s->lag_max_ms ? q_ms : (double)s->lag_max_ms;
        }
        below += (double)s->lag_hist[b];
    }
    return (double)s->lag_max_ms;
}

static void on_pace(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sim *s = arg;
    int64_t now = vg_unit_link_now_ms();
    if (!s->draining && now >= s->end_ms)
        start_drain(s, now);
    if (!s->draining) {
        /* the slices due, each unit of a slice once; hopelessly late ones skipped */
        while (s->next_slice_ms <= now && s->next_slice_ms < s->end_ms) {
            size_t slot = (size_t)(s->slice_no % PACE_SLOTS);
            int64_t lag = now - s->next_slice_ms;
            if (lag > MAX_CATCH_UP_MS) {
                s->slices_skipped++;
            } else {
                uint64_t n = 0;
                if (s->connect_rate > 0) {
                    s->admit_budget += s->connect_rate * (double)(now - s->admit_last_ms) / 1000.0;
                    s->admit_last_ms = now;
                }
                for (size_t i = slot; i < s->n_units; i += PACE_SLOTS) {
                    struct sim_unit *su = &s->units[i];
                    if (!su->admitted && (s->connect_rate <= 0 || s->admit_budget >= 1.0)) {
                        su->admitted = 1;
                        s->admit_budget -= s->connect_rate > 0 ? 1.0 : 0.0;
                    }
                    feed(s, su, now);
                    vg_unit_link_step(&su->link);
                    n++;
                }
                lag_note(s, lag, n);
                now = vg_unit_link_now_ms(); /* the next slice's lag includes this one's work */
            }
            s->slice_no++;
            s->next_slice_ms += SLICE_MS;
        }
    }
    if (s->draining && ++s->slice_no % PACE_SLOTS == 0) {
        if (total_pending(s) == 0 || now >= s->drain_deadline_ms) {
            s->done = 1;
            event_base_loopexit(s->base, NULL);
            return;
        }
    }
    /* again when the next slice is due (while draining: every slice's time) */
    int64_t wait_ms = s->draining ? SLICE_MS : s->next_slice_ms - vg_unit_link_now_ms();
    if (wait_ms < 0)
        wait_ms = 0;
    struct timeval tv = {(time_t)(wait_ms / 1000), (suseconds_t)(wait_ms % 1000) * 1000};
    event_add(s->pace, &tv);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct sim *s = arg;
    if (s->interrupted++) {
        event_base_loopexit(s->base, NULL); /* twice: stop now */
        return;
    }
    vg_log(VG_LOG_WARN, "interrupted: handing over what the units kept (again to stop now)", NULL);
    if (!s->draining)
        start_drain(s, vg_unit_link_now_ms());
}

/* ---- provisioning ----------------------------------------------------------------------- */

struct post {
    struct event_base *base;
    int status;
    char body[512];
};

static void on_posted(struct evhttp_request *req, void *arg)
{
    struct post *p = arg;
    p->status = req ? evhttp_request_get_response_code(req) : 0;
    if (req) {
        struct evbuffer *b = evhttp_request_get_input_buffer(req);
        size_t n = evbuffer_get_length(b);
        if (n >= sizeof p->body)
            n = sizeof p->body - 1;
        evbuffer_copyout(b, p->body, n);
        p->body[n] = '\0';
    }
    event_base_loopexit(p->base, NULL);
}

static void serial_of(char *out, size_t cap, const char *prefix, size_t unit)
{
    snprintf(out, cap, "%s-%c-%05zu", prefix, unit % 2 ? 'P' : 'A', unit / 2 + 1);
}

static void measure_name(char *out, size_t cap, const struct vg_sim_scenario *sc,
                         const char *prefix, size_t pair)
{
    const char *name = vg_sim_scenario_pair_name(sc, pair);
    char clean[64];
    size_t k = 0;
    for (const char *p = name ? name : ""; *p && k < sizeof clean - 1; p++)
        clean[k++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                             (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
                         ? *p
                         : '-';
    clean[k] = 0;
    if (k == 0)
        snprintf(out, cap, "%s-M-%05zu", prefix, pair + 1);
    else
        snprintf(out, cap, "%s-%s", prefix, clean);
}

static int provision(struct sim *s, const char *pki, const char *http, const char *token_file,
                     const char *prefix)
{
    char token[160] = "", err[512];
    FILE *f = fopen(token_file, "r");
    if (!f || !fgets(token, sizeof token, f)) {
        fprintf(stderr, "vigie-sim: cannot read the token in %s\n", token_file);
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    token[strcspn(token, "\r\n")] = '\0';
    char host[128];
    snprintf(host, sizeof host, "%s", http);
    char *colon = strrchr(host, ':');
    if (!colon) {
        fprintf(stderr, "vigie-sim: --http is HOST:PORT\n");
        return -1;
    }
    *colon = '\0';
    struct event_base *base = event_base_new();
    struct evhttp_connection *conn =
        evhttp_connection_base_new(base, NULL, host, (unsigned short)atoi(colon + 1));
    evhttp_connection_set_timeout(conn, 60);
    char auth[200];
    snprintf(auth, sizeof auth, "Bearer %s", token);
    size_t pairs = vg_sim_scenario_pairs(s->sc);
    int rc = 0;
    for (size_t i = 0; i < pairs && rc == 0; i++) {
        char a[48], p[48], name[96];
        serial_of(a, sizeof a, prefix, 2 * i);
        serial_of(p, sizeof p, prefix, 2 * i + 1);
        for (int k = 0; k < 2; k++) {
            int r = vg_pki_issue_unit(pki, k ? p : a, NULL, err, sizeof err);
            if (r != VG_OK && r != VG_EDUPLICATE) {
                fprintf(stderr, "vigie-sim: %s\n", err);
                rc = -1;
            }
        }
        measure_name(name, sizeof name, s->sc, prefix, i);
        char *json = vg_sim_world_measure_json(s->world, i, name, a, p, NULL);
        if (!json) {
            fprintf(stderr, "vigie-sim: pair %zu: cannot write its measure\n", i);
            rc = -1;
            break;
        }
        struct post post = {base, 0, ""};
        struct evhttp_request *req = evhttp_request_new(on_posted, &post);
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        evhttp_add_header(h, "Host", host);
        evhttp_add_header(h, "Authorization", auth);
        evhttp_add_header(h, "Content-Type", "application/json");
        evbuffer_add(evhttp_request_get_output_buffer(req), json, strlen(json));
        evhttp_make_request(conn, req, EVHTTP_REQ_POST, "/api/v1/measures");
        event_base_dispatch(base);
        free(json);
        /* 409: declared by an earlier run (same prefix, same units) */
        if (post.status != 201 && post.status != 409) {
            fprintf(stderr, "vigie-sim: measure %s: HTTP %d %s\n", name, post.status, post.body);
            rc = -1;
        }
    }
    evhttp_connection_free(conn);
    event_base_free(base);
    return rc;
}

/* ---- the run -------------------------------------------------------------------------- */

/* A unit's certificate and key, from the PKI directory (as
 * vg_pki_client_ctx_new() reads them), to connect on the shared context. */
static void load_identity(struct sim_unit *su, const char *pki)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/units/%s.crt", pki, su->serial);
    FILE *f = fopen(path, "r");
    if (!f || !(su->cert = PEM_read_X509(f, NULL, NULL, NULL)))
        die("cannot read the unit's certificate", path);
    fclose(f);
    snprintf(path, sizeof path, "%s/units/%s.key", pki, su->serial);
    f = fopen(path, "r");
    if (!f || !(su->key = PEM_read_PrivateKey(f, NULL, NULL, NULL)))
        die("cannot read the unit's key", path);
    fclose(f);
    if (X509_check_private_key(su->cert, su->key) != 1)
        die("the unit's key does not match its certificate", su->serial);
}

static void raise_fd_limit(size_t units)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)units + 256;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

struct totals {
    uint64_t records, fixes, refused, sent, acked, pending, sessions, disconnects, rings_centre,
        rings_local, commands, attempts;
    size_t connected, units_pending;
};

static void count(const struct sim *s, struct totals *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < s->n_units; i++) {
        const struct sim_unit *su = &s->units[i];
        t->records += su->u.n.records;
        t->fixes += su->u.n.fixes;
        t->refused += su->u.n.records_refused;
        t->sent += su->u.n.records_sent;
        t->acked += su->u.n.acked;
        uint64_t p = vg_unit_pending(&su->u);
        t->pending += p;
        t->units_pending += p > 0;
        t->sessions += su->u.n.sessions;
        t->disconnects += su->u.n.disconnects;
        t->attempts += su->u.n.connect_attempts;
        t->commands += su->u.n.commands;
        t->rings_centre += su->rings_centre;
        t->rings_local += su->rings_local;
        t->connected += su->u.link == VG_LINK_UP;
    }
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* A line of --stats-interval: the counters so far (cumulative, so that a
 * reader takes the differences over the window it wants), the sampling lag
 * histogram so far and its maximum since the previous line, the process's
 * CPU time and peak RSS. */
static void on_stats(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sim *s = arg;
    int64_t now = vg_unit_link_now_ms();
    struct totals t;
    count(s, &t);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(s->stats,
            "{\"t\":%.3f,\"draining\":%s,\"units\":%zu,\"connected\":%zu,\"samples\":%llu,"
            "\"slices_skipped\":%llu,\"fixes\":%llu,\"records\":%llu,\"refused\":%llu,"
            "\"sent\":%llu,\"acknowledged\":%llu,\"pending\":%llu,\"sessions\":%llu,"
            "\"disconnects\":%llu,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"maxrss_kb\":%ld,"
            "\"lag_max_ms\":%lld,\"lag_edges_ms\":[",
            (double)(now - s->start_ms) / 1000.0, s->draining ? "true" : "false", s->n_units,
            t.connected, (unsigned long long)s->samples, (unsigned long long)s->slices_skipped,
            (unsigned long long)t.fixes, (unsigned long long)t.records,
            (unsigned long long)t.refused, (unsigned long long)t.sent, (unsigned long long)t.acked,
            (unsigned long long)t.pending, (unsigned long long)t.sessions,
            (unsigned long long)t.disconnects, tv_s(ru.ru_utime), tv_s(ru.ru_stime), ru.ru_maxrss,
            (long long)s->lag_max_interval_ms);
    for (size_t b = 0; b < LAG_BUCKETS - 1; b++)
        fprintf(s->stats, "%s%d", b ? "," : "", LAG_EDGES_MS[b]);
    fputs("],\"lag_hist\":[", s->stats);
    for (size_t b = 0; b < LAG_BUCKETS; b++)
        fprintf(s->stats, "%s%llu", b ? "," : "", (unsigned long long)s->lag_hist[b]);
    fputs("]}\n", s->stats);
    fflush(s->stats);
    s->lag_max_interval_ms = 0;
}

static void write_summary(struct sim *s, const char *path, int64_t now)
{
    struct totals t;
    count(s, &t);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char line[1536];
    snprintf(line, sizeof line,
             "{\"units\":%zu,\"pairs\":%zu,\"seconds\":%.1f,\"samples\":%llu,"
             "\"slices_skipped\":%llu,\"lag_p99_ms\":%.1f,\"lag_max_ms\":%lld,"
             "\"records\":%llu,\"fixes\":%llu,\"refused\":%llu,\"sent\":%llu,\"acknowledged\":%llu,"
             "\"pending\":%llu,\"units_pending\":%zu,\"connected\":%zu,"
             "\"connect_attempts\":%llu,\"sessions\":%llu,\"disconnects\":%llu,"
             "\"commands\":%llu,\"rings_centre\":%llu,\"rings_local\":%llu,"
             "\"provision_s\":%.1f,\"cpu_s\":%.1f,\"maxrss_kb\":%ld,\"drained\":%s}",
             s->n_units, s->n_units / 2, (double)(now - s->start_ms) / 1000.0,
             (unsigned long long)s->samples, (unsigned long long)s->slices_skipped,
             lag_quantile(s, 0.99), (long long)s->lag_max_ms, (unsigned long long)t.records,
             (unsigned long long)t.fixes, (unsigned long long)t.refused, (unsigned long long)t.sent,
             (unsigned long long)t.acked, (unsigned long long)t.pending, t.units_pending,
             t.connected, (unsigned long long)t.attempts, (unsigned long long)t.sessions,
             (unsigned long long)t.disconnects, (unsigned long long)t.commands,
             (unsigned long long)t.rings_centre, (unsigned long long)t.rings_local,
             (double)s->provision_ms / 1000.0, tv_s(ru.ru_utime) + tv_s(ru.ru_stime), ru.ru_maxrss,
             t.pending == 0 ? "true" : "false");
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%s\n", line);
        fclose(f);
    } else {
        fprintf(stderr, "vigie-sim: cannot write %s: %s\n", path, strerror(errno));
    }
    printf("%s\n", line);
    fflush(stdout);
}

/* only_provision: `vigie-sim provision`, the certificates and the measures
 * and nothing else. */
static int run(int argc, char **argv, int only_provision)
{
    static const struct option opts[] = {
        {"scenario", required_argument, 0, 'f'},
        {"server", required_argument, 0, 'S'},
        {"server-name", required_argument, 0, 'n'},
        {"pki", required_argument, 0, 'p'},
        {"prefix", required_argument, 0, 'P'},
        {"seed", required_argument, 0, 's'},
        {"provision", no_argument, 0, 'v'},
        {"http", required_argument, 0, 'H'},
        {"token-file", required_argument, 0, 't'},
        {"out", required_argument, 0, 'o'},
        {"duration", required_argument, 0, 'd'},
        {"drain-timeout", required_argument, 0, 'D'},
        {"slots", required_argument, 0, 'N'},
        {"geo", required_argument, 0, 'g'},
        {"flash-dir", required_argument, 0, 'F'},
        {"stats-interval", required_argument, 0, 'I'},
        {"connect-rate", required_argument, 0, 'R'},
        {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'V'},
        {0, 0, 0, 0},
    };
    const char *scenario = NULL, *servers[VG_UNIT_MAX_SERVERS] = {0}, *server_name = "localhost";
    const char *pki = NULL, *prefix = "SIM", *http = NULL, *token_file = NULL, *out = "sim-out";
    const char *geo = NULL, *flash_dir = NULL;
    unsigned n_servers = 0;
    unsigned long long seed = 1;
    double duration_s = -1, drain_s = 120, stats_s = 0, connect_rate = 0;
    unsigned long slots = 2048;
    int do_provision = 0, quiet = 0, verbose = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'f': scenario = optarg; break;
        case 'S':
            if (n_servers == VG_UNIT_MAX_SERVERS)
                die("at most two --server (the centre's two sites)", NULL);
            servers[n_servers++] = optarg;
            break;
        case 'n': server_name = optarg; break;
        case 'p': pki = optarg; break;
        case 'P':
            if (!vg_pki_name_valid(optarg) || strlen(optarg) > 16)
                die("--prefix: letters, digits and dashes, at most 16", optarg);
            prefix = optarg;
            break;
        case 's':
            seed = strtoull(optarg, &end, 10);
            if (*end || optarg[0] == '-')
                die("--seed is a number", optarg);
            break;
        case 'v': do_provision = 1; break;
        case 'H': http = optarg; break;
        case 't': token_file = optarg; break;
        case 'o': out = optarg; break;
        case 'd':
            duration_s = strtod(optarg, &end);
            if (*end || !(duration_s > 0 && duration_s <= 7 * 86400.0))
                die("--duration is seconds, up to a week", optarg);
            break;
        case 'D':
            drain_s = strtod(optarg, &end);
            if (*end || !(drain_s >= 0 && drain_s <= 86400.0))
                die("--drain-timeout is seconds, up to a day", optarg);
            break;
        case 'N':
            slots = strtoul(optarg, &end, 10);
            if (*end || slots < 64 || slots > VG_RING_MAX_SLOTS)
                die("--slots is from 64 to 16777216", optarg);
            break;
        case 'g': geo = optarg; break;
        case 'F': flash_dir = optarg; break;
        case 'I':
            stats_s = strtod(optarg, &end);
            if (*end || !(stats_s >= 0.05 && stats_s <= 3600.0))
                die("--stats-interval is seconds, from 0.05 to 3600", optarg);
            break;
        case 'R':
            connect_rate = strtod(optarg, &end);
            if (*end || !(connect_rate >= 0 && connect_rate <= 1e6))
                die("--connect-rate is units a second (0: all at once)", optarg);
            break;
        case 'q': quiet = 1; break;
        case 'V': verbose = 1; break;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || !scenario || (n_servers == 0 && !only_provision) || !pki) {
        usage(stderr);
        return 2;
    }
    if (only_provision)
        do_provision = 1;
    if (do_provision && (!http || !token_file))
        die("--provision needs --http and --token-file", NULL);

    char err[1024];
    struct sim *s = calloc(1, sizeof *s);
    if (!s)
        die("out of memory", NULL);
    s->quiet = quiet;
    s->verbose = verbose;
    if (vg_sim_scenario_load(scenario, geo, &s->sc, err, sizeof err) != VG_OK)
        die(scenario, err);
    int64_t now = vg_unit_link_now_ms();
    s->start_ms = now - now % 1000 + 1000; /* a whole second: the world's epochs */
    if (vg_sim_world_new(s->sc, seed, s->start_ms, &s->world, err, sizeof err) != VG_OK)
        die(scenario, err);
    s->n_units = vg_sim_world_units(s->world);
    int64_t duration_ms =
        duration_s > 0 ? (int64_t)(duration_s * 1000) : vg_sim_scenario_duration_ms(s->sc);
    s->end_ms = s->start_ms + duration_ms;

    /* `vigie-sim provision` writes nothing but certificates and measures */
    if (!only_provision && mkdir(out, 0755) != 0 && errno != EEXIST)
        die("cannot create the output directory", out);
    if (!only_provision && flash_dir && mkdir(flash_dir, 0755) != 0 && errno != EEXIST)
        die("cannot create the flash directory", flash_dir);
    char truth_path[1200], summary_path[1200], stats_path[1200];
    snprintf(truth_path, sizeof truth_path, "%s/truth.jsonl", out);
    snprintf(summary_path, sizeof summary_path, "%s/summary.json", out);
    snprintf(stats_path, sizeof stats_path, "%s/stats.jsonl", out);

    if (do_provision) {
        int64_t t0 = vg_unit_link_now_ms();
        if (provision(s, pki, http, token_file, prefix) != 0)
            return 1;
        s->provision_ms = vg_unit_link_now_ms() - t0;
        if (!quiet || only_provision) {
            char n[32], d[32];
            snprintf(n, sizeof n, "%zu", s->n_units);
            snprintf(d, sizeof d, "%.1f", (double)s->provision_ms / 1000.0);
            vg_log(VG_LOG_INFO, "provisioned", "units", n, "seconds", d, NULL);
        }
        if (only_provision) {
            vg_sim_world_free(s->world);
            vg_sim_scenario_free(s->sc);
            free(s);
            return 0;
        }
    }

    raise_fd_limit(s->n_units);
    signal(SIGPIPE, SIG_IGN);
    s->base = event_base_new();
    s->units = calloc(s->n_units, sizeof *s->units);
    if (!s->base || !s->units)
        die("out of memory", NULL);
    struct vg_ring_params rp = {.slots = (uint32_t)slots,
                                .alarm_reserve = (uint32_t)(slots / 100 > 16 ? slots / 100 : 16),
                                .sync = 0};
    for (size_t i = 0; i < s->n_units; i++) {
        struct sim_unit *su = &s->units[i];
        su->sim = s;
        su->index = i;
        su->powered = 1;
        su->strap = su->skin = su->reach = 1;
        su->last_epoch_ms = -1;
        serial_of(su->serial, sizeof su->serial, prefix, i);
        /* One TLS context for all (its trust store and settings, from the
         * first unit's files), each unit's own certificate set on its
         * connections: a context per unit cost about 20 KiB and 0.5 ms of
         * CPU each, 200 MiB and 5 s for 10,000 units. */
        if (i == 0) {
            if (vg_pki_client_ctx_new(&s->ssl, pki, su->serial, server_name, err, sizeof err) !=
                VG_OK)
                die(su->serial, err);
            /* A unit sends a frame a second: its connection's 34 KiB of TLS
             * read and write buffers are given back between frames. */
            SSL_CTX_set_mode(s->ssl, SSL_MODE_RELEASE_BUFFERS);
        }
        load_identity(su, pki);
        /* Memory by default (thousands of units, one run). With --flash-dir
         * each unit keeps its flash in a file, as a real one does: a second
         * run of the same units (the demo started again) goes on from their
         * sequence numbers instead of starting again at 1, which the centre
         * would take for records it already holds. */
        if (flash_dir) {
            char path[1200];
            snprintf(path, sizeof path, "%s/%s.flash", flash_dir, su->serial);
            if (vg_flash_open_file(&su->flash, path, vg_ring_flash_size((uint32_t)slots), err,
                                   sizeof err) != VG_OK)
                die(path, err);
        } else if (vg_flash_open_mem(&su->flash, vg_ring_flash_size((uint32_t)slots)) != VG_OK) {
            die("cannot make a unit's flash", su->serial);
        }
        if (vg_ring_open(&su->ring, &su->flash, &rp, err, sizeof err) != VG_OK)
            die(su->serial, err);
        struct vg_unit_params up;
        vg_unit_params_default(&up, i % 2 ? VG_UNIT_PROTECTED : VG_UNIT_AUTHOR);
        up.n_servers = (uint8_t)n_servers;
        up.seed = seed * 1000003u + i;
        up.max_frame_records = 64;
        snprintf(up.firmware, sizeof up.firmware, "vigie-sim 0.1");
        struct vg_unit_hooks hooks = {.ctx = su, .ring = on_ring, .log = on_log};
        if (vg_unit_init(&su->u, &up, &hooks, &su->ring, s->start_ms) != VG_OK)
            die("cannot start a unit", su->serial);
        if (vg_unit_link_init(&su->link, s->base, &su->u, s->ssl, servers, n_servers, server_name,
                              err, sizeof err) != VG_OK)
            die(su->serial, err);
        vg_unit_link_set_identity(&su->link, su->cert, su->key);
    }
    /* Setting up thousands of units (a TLS context each) takes seconds: when
     * the measures were declared before this run (`vigie-sim provision`),
     * the world starts after it, at the next whole second, so that the run
     * lasts the whole duration and no unit starts late. With --provision
     * the measures were written from the world's start time: it stays. */
    now = vg_unit_link_now_ms();
    if (!do_provision && now >= s->start_ms) {
        vg_sim_world_free(s->world);
        s->start_ms = now - now % 1000 + 1000;
        if (vg_sim_world_new(s->sc, seed, s->start_ms, &s->world, err, sizeof err) != VG_OK)
            die(scenario, err);
        s->end_ms = s->start_ms + duration_ms;
    }
    if (vg_sim_world_write_truth(s->world, truth_path, s->n_units <= 200 ? 1 : 0, err,
                                 sizeof err) != VG_OK)
        die(truth_path, err);
    s->next_slice_ms = s->start_ms;
    s->connect_rate = connect_rate;
    s->admit_last_ms = s->start_ms;
    s->drain_ms = (int64_t)(drain_s * 1000);
    s->drain_deadline_ms = INT64_MAX;
    s->pace = event_new(s->base, -1, 0, on_pace, s);
    struct timeval first = {0, 0};
    event_add(s->pace, &first);
    s->sigint = evsignal_new(s->base, SIGINT, on_signal, s);
    s->sigterm = evsignal_new(s->base, SIGTERM, on_signal, s);
    event_add(s->sigint, NULL);
    event_add(s->sigterm, NULL);
    if (stats_s > 0) {
        s->stats = fopen(stats_path, "w");
        if (!s->stats)
            die("cannot write", stats_path);
        s->stats_ev = event_new(s->base, -1, EV_PERSIST, on_stats, s);
        struct timeval every = {(time_t)stats_s,
                                (suseconds_t)((stats_s - (double)(time_t)stats_s) * 1e6)};
        event_add(s->stats_ev, &every);
    }
    if (!quiet) {
        char n[32], d[32];
        snprintf(n, sizeof n, "%zu", s->n_units);
        snprintf(d, sizeof d, "%.0f", (double)duration_ms / 1000.0);
        vg_log(VG_LOG_INFO, "running", "units", n, "seconds", d, "truth", truth_path, NULL);
    }
    /* the run: the scenario, then the drain (on_pace ends it) */
    event_base_dispatch(s->base);
    now = vg_unit_link_now_ms();
    if (s->stats) {
        on_stats(-1, 0, s); /* the last line: after the drain */
        fclose(s->stats);
        event_free(s->stats_ev);
    }
    write_summary(s, summary_path, now);
    uint64_t pending = total_pending(s);
    for (size_t i = 0; i < s->n_units; i++) {
        struct sim_unit *su = &s->units[i];
        vg_unit_link_free(&su->link);
        vg_unit_free(&su->u);
        vg_ring_close(&su->ring);
        vg_flash_close(&su->flash);
        X509_free(su->cert);
        EVP_PKEY_free(su->key);
    }
    SSL_CTX_free(s->ssl);
    event_free(s->pace);
    event_free(s->sigint);
    event_free(s->sigterm);
    event_base_free(s->base);
    free(s->units);
    vg_sim_world_free(s->world);
    vg_sim_scenario_free(s->sc);
    free(s);
    return pending == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return run(argc - 1, argv + 1, 0);
    if (argc >= 2 && strcmp(argv[1], "provision") == 0)
        return run(argc - 1, argv + 1, 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
