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
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/rand.h>

#include "core/err.h"
#include "daemon/center.h"
#include "daemon/config.h"
#include "daemon/metrics.h"
#include "http/api.h"
#include "net/gateway.h"
#include "store/store.h"
#include "util/journal.h"
#include "util/log.h"
#include "util/pki.h"

struct daemon {
    struct vg_daemon_config cfg;
    struct event_base *base;
    SSL_CTX *ctx;
    struct vg_store *store;
    struct vg_center *center;
    struct vg_gateway *gateway;
    struct vg_http *http;
    struct vg_engine_params params;
    char pki_dir[VG_PATH_MAX + 8];
    char token[65];
};

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
    event_base_loopbreak(d->base);
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

static int hook_health(void *arg, struct evbuffer *out)
{
    struct daemon *d = arg;
    const struct vg_center_metrics *m = vg_center_metrics(d->center);
    size_t pending = vg_store_pending(d->store);
    bool ok = pending < d->cfg.center.max_pending_batches;
    evbuffer_add_printf(out,
                        "{\"status\":\"%s\",\"store_pending_batches\":%zu,\"measures\":%zu,"
                        "\"units\":%zu,\"units_connected\":%zu}\n",
                        ok ? "ok" : "overloaded", pending, m->measures, m->units,
                        m->units_connected);
    return ok ? 200 : 503;
}

static void hook_metrics(void *arg, struct evbuffer *out)
{
    struct daemon *d = arg;
    vg_metrics_render(out, vg_center_metrics(d->center), vg_gateway_stats(d->gateway),
                      vg_store_pending(d->store));
}

static int list_one(void *arg, const struct vg_center_measure_info *m)
{
    struct evbuffer *out = arg;
    static const char *const levels[] = {"none", "prealert", "alert"};
    evbuffer_add_printf(
        out,
        "%s{\"id\":%lld,\"name\":\"%s\",\"alert_radius_m\":%g,\"zones\":%zu,"
        "\"units\":{\"author\":\"%s\",\"protected\":\"%s\"},"
        "\"connected\":{\"author\":%s,\"protected\":%s},"
        "\"mobile_zone\":\"%s\",\"alarms\":%u}",
        evbuffer_get_length(out) > 1 ? "," : "", (long long)m->id, m->name, m->alert_radius_m,
        m->n_zones, m->author_unit, m->protected_unit, m->author_connected ? "true" : "false",
        m->protected_connected ? "true" : "false",
        levels[m->state->zone[0].level < 3 ? m->state->zone[0].level : 0], m->state->alarm_seq);
    return 0;
}

static int count_one(void *arg, const struct vg_center_measure_info *m)
{
    (void)m;
    (*(size_t *)arg)++;
    return 0;
}

/* The list names the measures and their units: personal data, journaled
 * (durably) before it is answered. */
static int hook_list(void *arg, const char *actor, struct evbuffer *out, char *err,
                     size_t err_len)
{
    struct daemon *d = arg;
    size_t n = 0;
    vg_center_list_measures(d->center, count_one, &n);
    char detail[64];
    snprintf(detail, sizeof detail, "{\"count\":%zu}", n);
    int rc = vg_center_journal(d->center, actor, "measure.list", "*", detail, err, err_len);
    if (rc != 0)
        return rc;
    evbuffer_add(out, "[", 1);
    vg_center_list_measures(d->center, list_one, out);
    evbuffer_add(out, "]\n", 2);
    return 0;
}

static int hook_create(void *arg, const char *actor, const char *json, int64_t *id, char *err,
                       size_t err_len)
{
    struct daemon *d = arg;
    return vg_center_create_measure(d->center, actor, json, id, err, err_len);
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

static int run(struct daemon *d)
{
    char err[512];
    if (mkdir_p(d->cfg.data_dir, 0700) != 0) {
        vg_log(VG_LOG_ERROR, "cannot create the data directory", "dir", d->cfg.data_dir, "reason",
               strerror(errno), NULL);
        return 1;
    }
    if (ensure_pki(d, err, sizeof err) || ensure_token(d, err, sizeof err)) {
        vg_log(VG_LOG_ERROR, "cannot prepare the data directory", "reason", err, NULL);
        return 1;
    }
    if (vg_store_open(d->cfg.db, &d->store, err, sizeof err) != VG_OK) {
        vg_log(VG_LOG_ERROR, "cannot open the store", "db", d->cfg.db, "reason", err, NULL);
        return 1;
    }
    if (vg_pki_server_ctx_new(&d->ctx, d->pki_dir, d->cfg.server_name, err, sizeof err) != VG_OK) {
        vg_log(VG_LOG_ERROR, "cannot set up TLS", "reason", err, NULL);
        return 1;
    }
    evthread_use_pthreads();
    d->base = event_base_new();
    if (!d->base || event_base_priority_init(d->base, 2) != 0) {
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
    if (vg_center_new(d->base, d->store, &d->params, &d->cfg.center, &d->center, err, sizeof err) ||
        vg_center_load(d->center, err, sizeof err)) {
        vg_log(VG_LOG_ERROR, "cannot load the measures", "reason", err, NULL);
        return 1;
    }
    struct vg_gateway_hooks gh = vg_center_gateway_hooks(d->center);
    if (vg_gateway_start(d->base, d->ctx, d->cfg.devices, &d->cfg.limits, &gh, &d->gateway, err,
                         sizeof err) != VG_OK) {
        vg_log(VG_LOG_ERROR, "cannot serve the units", "reason", err, NULL);
        return 1;
    }
    vg_center_set_gateway(d->center, d->gateway);
    struct vg_http_hooks hh = {.arg = d,
                               .health = hook_health,
                               .metrics = hook_metrics,
                               .list_measures = hook_list,
                               .create_measure = hook_create};
    if (vg_http_start(d->base, d->cfg.http, d->token, &hh, &d->http, err, sizeof err) != VG_OK) {
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

    char dev_port[16], http_port[16];
    snprintf(dev_port, sizeof dev_port, "%d", vg_gateway_port(d->gateway));
    snprintf(http_port, sizeof http_port, "%d", vg_http_port(d->http));
    log_journal_head(d->store, "journal head at start");
    vg_log(VG_LOG_INFO, "ready", "devices", d->cfg.devices, "devices_port", dev_port, "http",
           d->cfg.http, "http_port", http_port, "db", d->cfg.db, NULL);
    event_base_dispatch(d->base);

    /* Stop taking records, commit what was taken, then let go. */
    vg_gateway_free(d->gateway);
    d->gateway = NULL;
    vg_center_set_gateway(d->center, NULL);
    vg_center_flush(d->center);
    /* the journal's head, for a later `vigie journal verify --head`: the
     * one thing a chain cannot show alone is entries cut off at its end */
    log_journal_head(d->store, "journal head at stop");
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

int main(int argc, char **argv)
{
    static struct daemon d;
    char err[512];
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
    vg_http_free(d.http);
    vg_gateway_free(d.gateway);
    if (d.store) {
        vg_store_close(d.store);
        d.store = NULL;
    }
    vg_center_free(d.center);
    SSL_CTX_free(d.ctx);
    if (d.base)
        event_base_free(d.base);
    return status;
}
