/* vigied: the monitoring centre's daemon.
 *
 * Start-up creates whatever the data directory lacks (a PKI with its CA
 * and the server's certificate, the administrator token, the database),
 * loads the measures and their engine states, then serves the units (TLS)
 * and HTTP. SIGTERM/SIGINT: stop accepting, commit what is in flight, exit.
 * SIGHUP: reload the CRL (a revoked unit is refused from its next
 * connection). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <pthread.h>

#include "core/err.h"
#include "core/roles.h"
#include "daemon/center.h"
#include "daemon/config.h"
#include "daemon/daemon_internal.h"
#include "report/incident_pdf.h"
#include "daemon/metrics.h"
#include "http/api.h"
#include "net/gateway.h"
#include "store/store.h"
#include "util/journal.h"
#include "util/log.h"
#include "util/pki.h"

static int mkdir_p(const char *path, mode_t mode)
{
    char buf[VG_PATH_MAX + 16];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The PKI and the server's certificate, created on first start. */
static int ensure_pki(struct daemon *d, char *err, size_t err_len)
{
    char path[VG_PATH_MAX + 64];
    snprintf(d->pki_dir, sizeof d->pki_dir, "%s/pki", d->cfg.data_dir);
    snprintf(path, sizeof path, "%s/ca.crt", d->pki_dir);
    if (!file_exists(path)) {
        int rc = vg_pki_init(d->pki_dir, NULL, err, err_len);
        if (rc)
            return rc;
        vg_log(VG_LOG_INFO, "certificate authority created", "dir", d->pki_dir, NULL);
    }
    snprintf(path, sizeof path, "%s/servers/%s.crt", d->pki_dir, d->cfg.server_name);
    if (!file_exists(path)) {
        static const char *const sans[] = {"localhost", "127.0.0.1", "::1"};
        int rc = vg_pki_issue_server(d->pki_dir, d->cfg.server_name, sans, 3, NULL, err, err_len);
        if (rc)
            return rc;
        vg_log(VG_LOG_INFO, "server certificate issued", "name", d->cfg.server_name, NULL);
    }
    return VG_OK;
}

/* The administrator's token: random, in DATA_DIR/admin.token (0600). */
static int ensure_token(struct daemon *d, char *err, size_t err_len)
{
    char path[VG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/admin.token", d->cfg.data_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        bool ok = fgets(d->token, sizeof d->token, f) != NULL;
        fclose(f);
        d->token[strcspn(d->token, "\r\n")] = '\0';
        if (ok && strlen(d->token) >= 32)
            return VG_OK;
        snprintf(err, err_len, "%s is not a token: remove it to get a new one", path);
        return VG_EFORMAT;
    }
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        snprintf(err, err_len, "no randomness for the administrator token");
        return VG_ESTATE;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(d->token + 2 * i, 3, "%02x", raw[i]);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        snprintf(err, err_len, "cannot create %s: %s", path, strerror(errno));
        return VG_ESTATE;
    }
    bool ok = write(fd, d->token, strlen(d->token)) == (ssize_t)strlen(d->token) &&
              write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        snprintf(err, err_len, "cannot write %s", path);
        return VG_ESTATE;
    }
    vg_log(VG_LOG_INFO, "administrator token created", "file", path, NULL);
    return VG_OK;
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct daemon *d = arg;
    vg_log(VG_LOG_INFO, "stopping", "signal", sig == SIGTERM ? "TERM" : "INT", NULL);
    /* the HTTP thread stops waiting for the loop: its calls not yet run
     * are answered 503 */
    pthread_mutex_lock(&d->call_lock);
    d->stopping = true;
    pthread_cond_broadcast(&d->call_cond);
    pthread_mutex_unlock(&d->call_lock);
    event_base_loopbreak(d->base);
}

/* On the loop: run the queued calls. Nothing runs once stopping (set on
 * this same thread, so never while a call runs); while standing by (no
 * centre) only the calls that need none (health, metrics). */
static void on_calls(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct daemon *d = arg;
    pthread_mutex_lock(&d->call_lock);
    while (d->calls && !d->stopping) {
        struct loop_call *c = d->calls;
        d->calls = c->next;
        bool refuse = !c->standby_ok && !d->center;
        pthread_mutex_unlock(&d->call_lock);
        if (!refuse)
            c->fn(d, c->arg);
        pthread_mutex_lock(&d->call_lock);
        c->refused = refuse;
        c->done = true;
        pthread_cond_broadcast(&d->call_cond);
    }
    pthread_mutex_unlock(&d->call_lock);
}

static int on_loop(struct daemon *d, void (*fn)(struct daemon *d, void *arg), void *arg,
                   bool standby_ok)
{
    struct loop_call c = {.fn = fn, .arg = arg, .standby_ok = standby_ok};
    pthread_mutex_lock(&d->call_lock);
    if (d->stopping || (!standby_ok && atomic_load(&d->standby))) {
        pthread_mutex_unlock(&d->call_lock);
        return VG_ESTATE;
    }
    struct loop_call **tail = &d->calls;
    while (*tail)
        tail = &(*tail)->next;
    *tail = &c;
    event_active(d->call_ev, EV_READ, 0);
    while (!c.done && !d->stopping)
        pthread_cond_wait(&d->call_cond, &d->call_lock);
    if (!c.done) { /* stopping: out of the queue, it will not run */
        for (struct loop_call **p = &d->calls; *p; p = &(*p)->next)
            if (*p == &c) {
                *p = c.next;
                break;
            }
    }
    pthread_mutex_unlock(&d->call_lock);
    return c.done && !c.refused ? VG_OK : VG_ESTATE;
}

/* From the HTTP thread: run fn(d, arg) on the loop and wait. VG_OK, or
 * VG_ESTATE if the daemon is stopping or standing by (fn then did not
 * run: it needs the centre). */
int vg__daemon_on_loop(struct daemon *d, void (*fn)(struct daemon *d, void *arg), void *arg)
{
    return on_loop(d, fn, arg, false);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct daemon *d = arg;
    char path[VG_PATH_MAX + 32], err[256];
    snprintf(path, sizeof path, "%s/crl.pem", d->pki_dir);
    if (vg_pki_server_ctx_reload_crl(d->ctx, path, err, sizeof err) == VG_OK)
        vg_log(VG_LOG_INFO, "revocation list reloaded", "file", path, NULL);
    else
        vg_log(VG_LOG_ERROR, "revocation list not reloaded: the previous one stays", "reason", err,
               NULL);
}

struct health_call {
    struct evbuffer *out;
    int status;
};

/* The lease's part of the health document: who this site is, who holds
 * the lease (two sites on PostgreSQL only). */
static void health_lease(struct daemon *d, struct evbuffer *out)
{
    if (!d->lease)
        return;
    struct vg_site_lease_status st;
    vg__site_lease_status(d->lease, &st);
    json_t *v = json_pack("{s:s, s:s, s:I, s:I, s:I}", "site", st.site, "active_site", st.holder,
                          "active_remaining_ms", (json_int_t)st.remaining_ms, "epoch",
                          (json_int_t)st.epoch, "takeovers", (json_int_t)st.takeovers);
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    if (text) /* its members after the others': drop its braces */
        evbuffer_add_printf(out, ",%.*s", (int)strlen(text) - 2, text + 1);
    free(text);
    json_decref(v);
}

static void do_health(struct daemon *d, void *arg)
{
    struct health_call *h = arg;
    if (!d->center) { /* standing by: the other site is active */
        evbuffer_add_printf(h->out, "{\"status\":\"standby\"");
        if (d->retiring) /* its last batches still wait for the database */
            evbuffer_add_printf(h->out, ",\"stepping_down\":true");
        health_lease(d, h->out);
        evbuffer_add_printf(h->out, "}\n");
        h->status = 503;
        return;
    }
    const struct vg_center_metrics *m = vg_center_metrics(d->center);
    size_t pending = vg_store_pending(d->store);
    bool ok = pending < d->cfg.center.max_pending_batches;
    evbuffer_add_printf(h->out,
                        "{\"status\":\"%s\",\"store_pending_batches\":%zu,\"measures\":%zu,"
                        "\"units\":%zu,\"units_connected\":%zu",
                        ok ? "ok" : "overloaded", pending, m->measures, m->units,
                        m->units_connected);
    health_lease(d, h->out);
    evbuffer_add_printf(h->out, "}\n");
    h->status = ok ? 200 : 503;
}

static int hook_health(void *arg, struct evbuffer *out)
{
    struct health_call h = {out, 503};
    if (on_loop(arg, do_health, &h, true) != VG_OK)
        evbuffer_add_printf(out, "{\"status\":\"stopping\"}\n");
    return h.status;
}

static void do_metrics(struct daemon *d, void *arg)
{
    struct evbuffer *out = arg;
    if (d->center && d->gateway)
        vg_metrics_render(out, vg_center_metrics(d->center), vg_gateway_stats(d->gateway),
                          vg_store_pending(d->store));
    if (d->store)
        evbuffer_add_printf(out,
                            "# HELP vigie_store_upkeep_failures_total Failed steps of the store's "
                            "upkeep (SQLite: moving the latest fixes into their keyed table).\n"
                            "# TYPE vigie_store_upkeep_failures_total counter\n"
                            "vigie_store_upkeep_failures_total %llu\n",
                            (unsigned long long)vg_store_upkeep_failures(d->store, NULL, 0));
    if (d->lease) {
        struct vg_site_lease_status st;
        vg__site_lease_status(d->lease, &st);
        evbuffer_add_printf(out,
                            "# HELP vigie_active 1 if this vigied holds the lease and serves\n"
                            "# TYPE vigie_active gauge\nvigie_active %d\n"
                            "# HELP vigie_lease_epoch the lease's epoch while held (0: standby)\n"
                            "# TYPE vigie_lease_epoch gauge\nvigie_lease_epoch %lld\n"
                            "# HELP vigie_takeovers_total times this vigied became active\n"
                            "# TYPE vigie_takeovers_total counter\nvigie_takeovers_total %llu\n",
                            d->center ? 1 : 0, (long long)st.epoch,
                            (unsigned long long)st.takeovers);
    }
}

static void hook_metrics(void *arg, struct evbuffer *out)
{
    on_loop(arg, do_metrics, out, true);
}

/* From the HTTP thread: the API answers 503 while this site stands by. */
static bool hook_standby(void *arg)
{
    struct daemon *d = arg;
    return atomic_load(&d->standby);
}

static void log_journal_head(struct vg_store *store, const char *what)
{
    int64_t id = 0;
    uint8_t hash[VG_JOURNAL_HASH_LEN];
    char head[32 + VG_JOURNAL_HEX_LEN];
    if (vg_store_journal_head(store, &id, hash) != 0)
        return;
    int n = snprintf(head, sizeof head, "%lld:", (long long)id);
    vg_journal_hex(hash, head + n);
    vg_log(VG_LOG_INFO, what, "head", head, NULL);
}

/* ---- the centre to the live stream (http/stream.c) ---- */

static void on_journal_committed(void *arg, int64_t committed_ns)
{
    vg_http_journal_committed(arg, committed_ns);
}

static bool wants_positions(void *arg)
{
    return vg_http_wants_positions(arg);
}

static void on_position(void *arg, const struct vg_center_position *p)
{
    struct vg_http_position hp = {
        .measure_id = p->measure_id,
        .role = p->role == VG_ROLE_PROTECTED ? VG_HTTP_PERSON_PROTECTED : VG_HTTP_PERSON_AUTHOR,
        .lat_deg = p->fix->lat_deg,
        .lon_deg = p->fix->lon_deg,
        .accuracy_m = p->fix->accuracy_m,
        .speed_mps = p->fix->speed_mps,
        .heading_deg = p->fix->heading_deg,
        .time_ms = p->fix->time_ms,
        .received_ms = p->received_ms,
        .incident_id = p->incident_id};
    snprintf(hp.measure, sizeof hp.measure, "%s", p->measure);
    vg_http_position(arg, &hp);
}

static int run(struct daemon *d)
{
    char err[512];
    if (mkdir_p(d->cfg.data_dir, 0700) != 0) {
        vg_log(VG_LOG_ERROR, "cannot create the data directory", "dir", d->cfg.data_dir, "reason",
               strerror(errno), NULL);
        return 1;
    }
    /* one vigied per data directory, and no offline import while it runs
     * (`vigie measure import` takes the same lock): two writers would fork
     * the journal's chain. Held until the process exits. */
    char lock_path[VG_PATH_MAX + 16];
    snprintf(lock_path, sizeof lock_path, "%s/vigied.lock", d->cfg.data_dir);
    int lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        vg_log(VG_LOG_ERROR, "the data directory is in use (another vigied, or an import)", "lock",
               lock_path, "reason", strerror(errno), NULL);
        return 1;
    }
    if (ensure_pki(d, err, sizeof err) || ensure_token(d, err, sizeof err)) {
        vg_log(VG_LOG_ERROR, "cannot prepare the data directory", "reason", err, NULL);
        return 1;
    }
    vg_store_location_public(d->cfg.db, d->db_public, sizeof d->db_public);
    /* PostgreSQL: a server that does not answer yet (the sites starting
     * again in any order, a fail-over under way) is waited for, as the
     * store waits for it once running; a database it cannot use (not
     * Vigie's, too new) is an error at once. SIGTERM stops the wait. */
    bool pg = strncmp(d->cfg.db, "postgres", 8) == 0;
    for (unsigned tries = 0;; tries++) {
        int rc = vg_store_open(d->cfg.db, &d->store, err, sizeof err);
        if (rc == VG_OK)
            break;
        if (!pg || rc != VG_ESTATE) {
            vg_log(VG_LOG_ERROR, "cannot open the store", "db", d->db_public, "reason", err,
                   NULL);
            return 1;
        }
        if (tries % 30 == 0)
            vg_log(VG_LOG_WARN, "the database does not answer: trying again every second", "db",
                   d->db_public, "reason", err, NULL);
        sleep(1);
    }
    /* a lost transaction stops every write until the centre is built
     * again from the store (rebuild.c, site_lease.c): what the engine
     * judged on top of it is not stored */
    vg_store_fence_on_loss(d->store, true);
    if (vg_pki_server_ctx_new(&d->ctx, d->pki_dir, d->cfg.server_name, err, sizeof err) != VG_OK) {
        vg_log(VG_LOG_ERROR, "cannot set up TLS", "reason", err, NULL);
        return 1;
    }
    evthread_use_pthreads();
    d->base = event_base_new();
    d->call_ev = d->base ? event_new(d->base, -1, 0, on_calls, d) : NULL;
    if (!d->base || !d->call_ev || event_base_priority_init(d->base, 2) != 0) {
        vg_log(VG_LOG_ERROR, "cannot create the event loop", NULL);
        return 1;
    }
    /* the engine restores the units' reporting to the daemon's interval
     * after fast tracking, and never slows them down by "speeding up" */
    d->params = d->cfg.engine;
    d->params.report_interval_ms = (int32_t)d->cfg.center.report_interval_ms;
    if (d->params.fast_interval_ms > d->params.report_interval_ms)
        d->params.fast_interval_ms = d->params.report_interval_ms;
    if (vg_engine_params_check(&d->params) != VG_OK) {
        vg_log(VG_LOG_ERROR, "invalid engine settings", NULL);
        return 1;
    }
    struct vg_http_hooks hh = {
        .arg = d, .health = hook_health, .metrics = hook_metrics, .standby = hook_standby};
    vg__daemon_measure_hooks(&hh);
    vg__daemon_incident_hooks(&hh);
    vg__daemon_floor_hooks(&hh);
    vg__daemon_unit_hooks(&hh);
    vg__daemon_position_hooks(&hh);
    vg__daemon_report_pdf_hooks(&hh);
    vg__daemon_activity_hooks(&hh);
    char https_cert[VG_PATH_MAX + 96], https_key[VG_PATH_MAX + 96];
    snprintf(https_cert, sizeof https_cert, "%s/servers/%s.crt", d->pki_dir, d->cfg.server_name);
    snprintf(https_key, sizeof https_key, "%s/servers/%s.key", d->pki_dir, d->cfg.server_name);
    struct vg_http_options ho = {.addr = d->cfg.http,
                                 .https_addr = d->cfg.https,
                                 .https_cert = https_cert,
                                 .https_key = https_key,
                                 .token = d->token,
                                 .store = d->store,
                                 .auth = d->cfg.auth,
                                 .stream_heartbeat_ms = d->cfg.stream_heartbeat_ms,
                                 .console = {.dir = d->cfg.console_dir,
                                             .tiles = d->cfg.console_tiles,
                                             .tiles_attribution =
                                                 d->cfg.console_tiles_attribution}};
    for (int k = 1; k <= 5; k++) {
        ho.console.escalate_take_ms[k] = d->cfg.center.escalation.take_within_ms[k];
        ho.console.escalate_progress_ms[k] = d->cfg.center.escalation.progress_within_ms[k];
    }
    /* HTTP first, the API refusing everything (503) until the centre is
     * built: a standby serves its health while the other site is active */
    atomic_store(&d->standby, true);
    if (vg_http_start(&ho, &hh, &d->http, err, sizeof err) != VG_OK) {
        vg_log(VG_LOG_ERROR, "cannot serve HTTP", "reason", err, NULL);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct event *sigterm = evsignal_new(d->base, SIGTERM, on_stop, d);
    struct event *sigint = evsignal_new(d->base, SIGINT, on_stop, d);
    struct event *sighup = evsignal_new(d->base, SIGHUP, on_hup, d);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    event_add(sighup, NULL);

    if (vg_store_has_lease(d->store)) {
        /* two sites: active only while holding the lease (site_lease.c) */
        vg_store_fence(d->store, -1);
        if (vg__site_lease_start(d, &d->lease, err, sizeof err) != VG_OK) {
            vg_log(VG_LOG_ERROR, "cannot take part in the lease", "reason", err, NULL);
            return 1;
        }
        vg__site_lease_wait_first(d->lease, 2 * d->cfg.lease_ttl_ms);
        if (!d->center) {
            struct vg_site_lease_status st;
            vg__site_lease_status(d->lease, &st);
            char http_port[16];
            snprintf(http_port, sizeof http_port, "%d", vg_http_port(d->http));
            vg_log(VG_LOG_INFO, "standing by", "site", st.site, "active_site", st.holder, "http",
                   d->cfg.http, "http_port", http_port, "db", d->db_public, NULL);
        }
    } else if (vg__daemon_activate(d, 0) != VG_OK) {
        return 1;
    } else if (vg__rebuild_start(d, &d->rebuild) != VG_OK) {
        vg_log(VG_LOG_ERROR, "cannot watch for lost transactions", NULL);
        return 1;
    }
    event_base_dispatch(d->base);

    /* Stop answering HTTP (its calls to the loop fail from now on), stop
     * taking records, commit what was taken, let the lease go, then close. */
    vg_http_stop(d->http);
    if (d->center) {
        vg__retention_stop(d->retention); /* its calls to the loop fail from now on too */
        d->retention = NULL;
        vg__outbox_stop(d->outbox); /* what it has not drawn, the next start does */
        d->outbox = NULL;
        vg_gateway_free(d->gateway);
        d->gateway = NULL;
        vg_center_set_gateway(d->center, NULL);
        vg_center_flush(d->center);
    }
    vg__daemon_retired(d, true); /* a step-down's batches in flight, done */
    /* the journal's head, for a later `vigie journal verify --head`: the
     * one thing a chain cannot show alone is entries cut off at its end */
    log_journal_head(d->store, "journal head at stop");
    vg__site_lease_stop(d->lease, true); /* after the last commit */
    d->lease = NULL;
    vg__rebuild_stop(d->rebuild);
    d->rebuild = NULL;
    vg_store_close(d->store);
    d->store = NULL;
    vg_center_free(d->center);
    d->center = NULL;
    event_free(sigterm);
    event_free(sigint);
    event_free(sighup);
    vg_log(VG_LOG_INFO, "stopped: everything received was committed", NULL);
    return 0;
}

/* A port the kernel chose (HOST:0) kept once bound: a centre built again
 * (a lost transaction, a take-over) listens where the units know it. */
static void pin_port(char *addr, size_t len, int port)
{
    char *colon = strrchr(addr, ':');
    if (!colon || strcmp(colon + 1, "0") != 0 || port <= 0)
        return;
    size_t host = (size_t)(colon - addr);
    char pinned[sizeof (struct vg_daemon_config){0}.devices];
    if (snprintf(pinned, sizeof pinned, "%.*s:%d", (int)host, addr, port) < (int)len)
        snprintf(addr, len, "%s", pinned);
}

int vg__daemon_activate(struct daemon *d, int64_t epoch)
{
    char err[512];
    if (epoch > 0) {
        /* the other site wrote while this one stood by: the journal's tail
         * as it is now, then writes fenced at this lease's epoch */
        vg_store_drain(d->store);
        if (vg_store_resync(d->store, err, sizeof err) != VG_OK) {
            vg_log(VG_LOG_ERROR, "cannot take over", "reason", err, NULL);
            return VG_ESTATE;
        }
        vg_store_fence(d->store, epoch);
        /* accounts changed and sessions opened there: from the store */
        vg_http_accounts_changed(d->http);
    } else {
        vg_store_fence(d->store, 0); /* one site: built (again) from the store */
        /* SQLite: the fixes waiting in arrival order moved first, or the
         * load's replay of each measure's latest records scans them all */
        if (vg_store_upkeep_all(d->store, err, sizeof err) != VG_OK)
            vg_log(VG_LOG_WARN, "the latest fixes could not be moved before the load (it reads "
                   "them all the same, slower)", "reason", err, NULL);
    }
    if (vg_center_new(d->base, d->store, &d->params, &d->cfg.center, &d->center, err, sizeof err) ||
        vg_center_load(d->center, err, sizeof err)) {
        vg_log(VG_LOG_ERROR, "cannot load the measures", "reason", err, NULL);
        goto fail;
    }
    struct vg_gateway_hooks gh = vg_center_gateway_hooks(d->center);
    if (vg_gateway_start(d->base, d->ctx, d->cfg.devices, &d->cfg.limits, &gh, &d->gateway, err,
                         sizeof err) != VG_OK) {
        vg_log(VG_LOG_ERROR, "cannot serve the units", "reason", err, NULL);
        goto fail;
    }
    vg_center_set_gateway(d->center, d->gateway);
    pin_port(d->cfg.devices, sizeof d->cfg.devices, vg_gateway_port(d->gateway));
    struct vg_center_listener listener = {.arg = d->http,
                                          .journal_committed = on_journal_committed,
                                          .wants_positions = wants_positions,
                                          .position = on_position};
    vg_center_set_listener(d->center, &listener);
    /* the loop takes calls from now on: the retention job's first run,
     * at its start, asks it to let go of what it deletes */
    atomic_store(&d->standby, false);
    if (vg__retention_start(d, d->cfg.retention_check_ms, &d->retention) != VG_OK) {
        vg_log(VG_LOG_ERROR, "cannot start the retention job", NULL);
        goto fail;
    }
    if (vg__outbox_start(d, &d->outbox) != VG_OK) {
        vg_log(VG_LOG_ERROR, "cannot start the reports' outbox", NULL);
        goto fail;
    }
    log_journal_head(d->store, "journal head at start");
    char dev_port[16], http_port[16], https_port[16];
    snprintf(dev_port, sizeof dev_port, "%d", vg_gateway_port(d->gateway));
    snprintf(http_port, sizeof http_port, "%d", vg_http_port(d->http));
    snprintf(https_port, sizeof https_port, "%d", vg_http_https_port(d->http));
    vg_log(VG_LOG_INFO, "ready", "devices", d->cfg.devices, "devices_port", dev_port, "http",
           d->cfg.http, "http_port", http_port, "https_port", https_port, "db", d->db_public,
           NULL);
    return VG_OK;
fail:
    vg__daemon_step_down(d);
    return VG_ESTATE;
}

void vg__daemon_step_down(struct daemon *d)
{
    /* the API's calls waiting for the loop are refused from now on (the
     * retention job and the outbox are among them) */
    pthread_mutex_lock(&d->call_lock);
    atomic_store(&d->standby, true);
    for (struct loop_call *c = d->calls; c; c = c->next)
        if (!c->standby_ok) {
            c->refused = true;
            c->done = true;
        }
    struct loop_call **p = &d->calls;
    while (*p)
        if ((*p)->done)
            *p = (*p)->next;
        else
            p = &(*p)->next;
    pthread_cond_broadcast(&d->call_cond);
    pthread_mutex_unlock(&d->call_lock);
    if (d->lease)
        vg_store_fence(d->store, -1); /* not a row more reaches the database */
    vg_gateway_free(d->gateway); /* the units go: they try the other site */
    d->gateway = NULL;
    if (d->center)
        vg_center_quiesce(d->center);
    /* The batches in flight fail (fenced) or commit, but a commit may wait
     * for a database out of reach (a cut link: the synchronous standby's
     * answer) as long as the cut lasts: the loop does not wait with it,
     * it goes on answering /healthz and the API (503). What needs them
     * done (the centre their completions go to, the jobs that may wait on
     * the store) is freed once they are (vg__daemon_retired, every 100 ms
     * from the lease's check). */
    if (!d->center && !d->retention && !d->outbox)
        return;
    /* (never two at once: no activation while one retires) */
    vg__daemon_retired(d, true);
    d->retiring = d->center;
    d->retiring_retention = d->retention;
    d->retiring_outbox = d->outbox;
    d->center = NULL;
    d->retention = NULL;
    d->outbox = NULL;
    size_t pending = vg_store_pending(d->store);
    if (!vg__daemon_retired(d, false)) {
        char n[24];
        snprintf(n, sizeof n, "%zu", pending);
        vg_log(VG_LOG_WARN,
               "stepping down: batches still wait for the database (the centre goes once they "
               "are done)",
               "batches", n, NULL);
    }
}

bool vg__daemon_retired(struct daemon *d, bool wait)
{
    if (!d->retiring && !d->retiring_retention && !d->retiring_outbox)
        return true;
    if (!wait && vg_store_pending(d->store) > 0)
        return false;
    /* nothing pending: at most a completion still running (brief) */
    vg_store_drain(d->store);
    vg__retention_stop(d->retiring_retention);
    d->retiring_retention = NULL;
    vg__outbox_stop(d->retiring_outbox);
    d->retiring_outbox = NULL;
    vg_center_free(d->retiring);
    d->retiring = NULL;
    return true;
}

int main(int argc, char **argv)
{
    static struct daemon d;
    char err[512];
    pthread_mutex_init(&d.call_lock, NULL);
    pthread_cond_init(&d.call_cond, NULL);
    vg_daemon_config_default(&d.cfg);
    int rc = vg_daemon_config_parse(&d.cfg, argc, argv, err, sizeof err);
    if (rc > 0)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "vigied: %s\n", err);
        vg_daemon_config_usage(stderr);
        return 2;
    }
    vg_log_set_level((enum vg_log_level)vg_log_level_parse(d.cfg.log_level));
    int status = run(&d);
    vg_http_stop(d.http);
    vg__retention_stop(d.retention);
    vg__outbox_stop(d.outbox);
    vg_gateway_free(d.gateway);
    vg__site_lease_stop(d.lease, false);
    vg__rebuild_stop(d.rebuild);
    if (d.store) {
        vg__daemon_retired(&d, true);
        vg_store_close(d.store);
        d.store = NULL;
    }
    vg_http_free(d.http); /* after the store's writer, which signals its stream */
    vg_report_cleanup();  /* the outbox and the API drew with cairo: its caches go */
    vg_center_free(d.center);
    SSL_CTX_free(d.ctx);
    if (d.call_ev)
        event_free(d.call_ev);
    if (d.base)
        event_base_free(d.base);
    return status;
}
