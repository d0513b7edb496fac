/* The HTTP API (api.h): the listeners (HTTP, HTTPS), the thread and its
 * event base, the router, /healthz and /metrics. Accounts and sessions are
 * in accounts.c, measures in measures.c, persons in persons.c, units in
 * units.c, the statistics in statistics.c, what they share in request.c
 * (http_internal.h). */
#include "http/api.h"
#include "http/http_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "core/err.h"
#include "core/roles.h"
#include "util/log.h"

/* ---- /healthz, /metrics -------------------------------------------------------------------- */

static void on_health(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd)
{
    if (cmd != EVHTTP_REQ_GET) {
        vg__http_method_not_allowed(req, "GET");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    int status = h->hooks.health(h->hooks.arg, b);
    vg__http_reply_json(req, status, status == 200 ? "OK" : "Service Unavailable", b);
    evbuffer_free(b);
}

static void on_metrics(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd)
{
    if (cmd != EVHTTP_REQ_GET) {
        vg__http_method_not_allowed(req, "GET");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    h->hooks.metrics(h->hooks.arg, b);
    vg__stream_metrics(h, b);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

/* ---- routing ------------------------------------------------------------------------------- */

static void on_request(struct evhttp_request *req, void *arg)
{
    struct door *door = arg;
    struct vg_http *h = door->h;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path) {
        vg__http_reply_error(req, 400, "Bad Request", "invalid", "no path");
        return;
    }
    if (strcmp(path, "/healthz") == 0) {
        on_health(h, req, cmd);
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        on_metrics(h, req, cmd);
        return;
    }
    if (strncmp(path, "/api/", 5) == 0 && h->hooks.standby && h->hooks.standby(h->hooks.arg)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        vg__http_reply_error(req, 503, "Service Unavailable", "standby",
                             "this site stands by: the other site is active");
        return;
    }
    if (strcmp(path, "/api/v1/session") == 0) {
        vg__http_on_session(h, req, cmd, door->tls);
        return;
    }
    if (strcmp(path, "/api/v1/stream") == 0) {
        struct vg_identity who;
        if (vg__http_identify(h, req, &who))
            vg__http_on_stream(h, req, cmd, &who);
        return;
    }
    if (strcmp(path, "/api/v1/statistics") == 0) {
        struct vg_identity who;
        if (vg__http_identify(h, req, &who))
            vg__http_on_statistics(h, req, cmd, &who);
        return;
    }
    if (strcmp(path, "/api/v1/floor") == 0) {
        struct vg_identity who;
        if (vg__http_identify(h, req, &who))
            vg__http_on_floor(h, req, cmd, &who);
        return;
    }
    static const char persons_prefix[] = "/api/v1/persons/";
    if (strcmp(path, "/api/v1/persons") == 0 ||
        strncmp(path, persons_prefix, sizeof persons_prefix - 1) == 0) {
        struct vg_identity who;
        if (!vg__http_identify(h, req, &who))
            return;
        if (path[sizeof persons_prefix - 2] != '/') {
            vg__http_on_persons(h, req, cmd, &who);
            return;
        }
        const char *rest = path + sizeof persons_prefix - 1;
        char *end = NULL;
        long long id = strtoll(rest, &end, 10);
        bool versions = end && strcmp(end, "/versions") == 0;
        if (rest[0] < '1' || rest[0] > '9' || id <= 0 || (end && *end && !versions))
            vg__http_reply_error(req, 404, "Not Found", "not_found", "no such person");
        else
            vg__http_on_person(h, req, cmd, &who, id, versions);
        return;
    }
    static const char incidents_prefix[] = "/api/v1/incidents";
    if (strncmp(path, incidents_prefix, sizeof incidents_prefix - 1) == 0 &&
        (path[sizeof incidents_prefix - 1] == '\0' || path[sizeof incidents_prefix - 1] == '/')) {
        struct vg_identity who;
        if (vg__http_identify(h, req, &who))
            vg__http_on_incidents(h, req, cmd, &who, path + sizeof incidents_prefix - 1);
        return;
    }
    static const char measures_prefix[] = "/api/v1/measures/";
    if (strcmp(path, "/api/v1/measures") == 0 ||
        strncmp(path, measures_prefix, sizeof measures_prefix - 1) == 0) {
        struct vg_identity who;
        if (!vg__http_identify(h, req, &who))
            return;
        if (path[sizeof measures_prefix - 2] != '/') {
            vg__http_on_measures(h, req, cmd, &who);
            return;
        }
        const char *rest = path + sizeof measures_prefix - 1;
        char *end = NULL;
        long long id = strtoll(rest, &end, 10);
        if (rest[0] < '1' || rest[0] > '9' || id <= 0 || (end && *end && *end != '/'))
            vg__http_reply_error(req, 404, "Not Found", "not_found", "no such measure");
        else
            vg__http_on_measure(h, req, cmd, &who, id, end && *end ? end + 1 : "");
        return;
    }
    static const char units_prefix[] = "/api/v1/units/";
    if (strcmp(path, "/api/v1/units") == 0 ||
        strncmp(path, units_prefix, sizeof units_prefix - 1) == 0) {
        struct vg_identity who;
        if (!vg__http_identify(h, req, &who))
            return;
        if (path[sizeof units_prefix - 2] != '/') {
            vg__http_on_units(h, req, cmd, &who);
            return;
        }
        /* SERIAL/WHAT: a serial has no '/' nor anything to decode */
        const char *rest = path + sizeof units_prefix - 1;
        const char *slash = strchr(rest, '/');
        char serial[80];
        size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
        if (n == 0 || n >= sizeof serial) {
            vg__http_reply_error(req, 404, "Not Found", "not_found", "no such unit");
            return;
        }
        memcpy(serial, rest, n);
        serial[n] = '\0';
        vg__http_on_unit(h, req, cmd, &who, serial, slash ? slash + 1 : "");
        return;
    }
    static const char users_prefix[] = "/api/v1/users/";
    bool users = strcmp(path, "/api/v1/users") == 0;
    bool user = strncmp(path, users_prefix, sizeof users_prefix - 1) == 0;
    if (!users && !user) {
        if (strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0)
            vg__http_on_static(h, req, cmd, path); /* the console */
        else
            vg__http_reply_error(req, 404, "Not Found", "not_found", "no such resource");
        return;
    }
    struct vg_identity who;
    if (!vg__http_identify(h, req, &who))
        return;
    if (users) {
        vg__http_on_users(h, req, cmd, &who);
    } else {
        char *name = evhttp_uridecode(path + sizeof users_prefix - 1, 0, NULL);
        if (!name || !name[0] || strchr(name, '/'))
            vg__http_reply_error(req, 404, "Not Found", "not_found", "no such resource");
        else
            vg__http_on_user(h, req, cmd, &who, name);
        free(name);
    }
}

/* Stop from within the loop: an active event waits for the loop if it has
 * not started yet, where a loopbreak from another thread before the loop
 * starts would be forgotten (and the join would wait for ever). */
static void on_stop_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vg_http *h = arg;
    event_base_loopbreak(h->base);
}

static void *http_main(void *arg)
{
    struct vg_http *h = arg;
    event_base_loop(h->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static int parse_addr(const char *addr, char *host, size_t cap, long *port)
{
    const char *colon = strrchr(addr, ':');
    size_t hl = colon ? (size_t)(colon - addr) : 0;
    if (!colon || hl >= cap)
        return -1;
    memcpy(host, addr, hl);
    host[hl] = '\0';
    char *end;
    *port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || *port < 0 || *port > 65535)
        return -1;
    if (host[0] == '[' && hl > 1 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    return 0;
}

/* For each HTTPS connection: a TLS bufferevent on the same loop. */
static struct bufferevent *https_bev(struct event_base *base, void *arg)
{
    struct vg_http *h = arg;
    SSL *ssl = SSL_new(h->ssl);
    if (!ssl)
        return NULL;
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

static int open_door(struct vg_http *h, struct door *d, const char *addr, bool tls, char *err,
                     size_t err_len)
{
    char host[128];
    long port;
    if (parse_addr(addr, host, sizeof host, &port) != 0) {
        snprintf(err, err_len, "'%s' is not HOST:PORT", addr);
        return VG_EINVAL;
    }
    d->h = h;
    d->tls = tls;
    d->http = evhttp_new(h->base);
    if (!d->http) {
        snprintf(err, err_len, "cannot create the HTTP server");
        return VG_ENOSPC;
    }
    evhttp_set_max_body_size(d->http, VG_HTTP_MAX_BODY);
    evhttp_set_max_headers_size(d->http, 16 * 1024);
    evhttp_set_timeout(d->http, 30);
    /* every method reaches the router, which answers 405 in JSON (evhttp's
     * own refusal would be an HTML 501) */
    evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PATCH |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(d->http, on_request, d);
    if (tls)
        evhttp_set_bevcb(d->http, https_bev, h);
    /* bind to exactly the address asked for, not every interface */
    struct evhttp_bound_socket *sock =
        evhttp_bind_socket_with_handle(d->http, host, (ev_uint16_t)port);
    if (!sock) {
        snprintf(err, err_len, "cannot listen on %s: %s", addr, strerror(errno));
        return VG_ESTATE;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    if (getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&bound, &bl) == 0)
        d->port =
            ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)(void *)&bound)->sin6_port
                                              : ((struct sockaddr_in *)(void *)&bound)->sin_port);
    return VG_OK;
}

static int https_context(struct vg_http *h, const struct vg_http_options *o, char *err,
                         size_t err_len)
{
    h->ssl = SSL_CTX_new(TLS_server_method());
    if (!h->ssl || !SSL_CTX_set_min_proto_version(h->ssl, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate_chain_file(h->ssl, o->https_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(h->ssl, o->https_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(h->ssl) != 1) {
        snprintf(err, err_len, "HTTPS: cannot use the certificate %s and key %s",
                 o->https_cert ? o->https_cert : "(none)", o->https_key ? o->https_key : "(none)");
        return VG_EINVAL;
    }
    return VG_OK;
}

int vg_http_start(const struct vg_http_options *o, const struct vg_http_hooks *hooks,
                  struct vg_http **out, char *err, size_t err_len)
{
    struct vg_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    h->hooks = *hooks;
    h->store = o->store;
    bool https = o->https_addr && o->https_addr[0];
    int rc = https ? https_context(h, o, err, err_len) : VG_OK;
    if (rc == VG_OK)
        rc = vg_auth_new(o->store, o->token, &o->auth, &h->auth, err, err_len);
    if (rc == VG_OK) {
        h->base = event_base_new();
        h->stop_ev = h->base ? event_new(h->base, -1, 0, on_stop_event, h) : NULL;
        if (!h->base || !h->stop_ev) {
            snprintf(err, err_len, "cannot create the HTTP event loop");
            rc = VG_ENOSPC;
        }
    }
    if (rc == VG_OK)
        rc = vg__stream_new(h, o->stream_heartbeat_ms, err, err_len);
    if (rc == VG_OK)
        rc = vg__static_new(h, &o->console, err, err_len);
    if (rc == VG_OK)
        rc = open_door(h, &h->plain, o->addr, false, err, err_len);
    if (rc == VG_OK && https)
        rc = open_door(h, &h->secure, o->https_addr, true, err, err_len);
    if (rc != VG_OK) {
        vg_http_free(h);
        return rc;
    }
    /* the thread takes no signals: the daemon's loop does */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&h->thread, NULL, http_main, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        snprintf(err, err_len, "cannot start the HTTP thread: %s", strerror(e));
        vg_http_free(h);
        return VG_ENOSPC;
    }
    h->running = true;
    *out = h;
    return VG_OK;
}

void vg_http_accounts_changed(struct vg_http *h)
{
    if (h)
        vg_auth_reload(h->auth);
}

int vg_http_port(const struct vg_http *h)
{
    return h->plain.port;
}

int vg_http_https_port(const struct vg_http *h)
{
    return h->secure.port;
}

void vg_http_stop(struct vg_http *h)
{
    if (!h || !h->running)
        return;
    event_active(h->stop_ev, EV_READ, 0);
    pthread_join(h->thread, NULL);
    h->running = false;
}

void vg_http_free(struct vg_http *h)
{
    if (!h)
        return;
    vg_http_stop(h);
    if (h->plain.http)
        evhttp_free(h->plain.http);
    if (h->secure.http)
        evhttp_free(h->secure.http);
    vg__stream_free(h); /* after the listeners: their connections' close free its clients */
    vg__static_free(h);
    if (h->stop_ev)
        event_free(h->stop_ev);
    if (h->base)
        event_base_free(h->base);
    SSL_CTX_free(h->ssl);
    vg_auth_free(h->auth);
    free(h);
}
