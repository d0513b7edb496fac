#include "http/api.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "core/err.h"
#include "util/log.h"

/* Who the journal says asked: the administrator's token is the only
 * identity until users and roles come. */
#define ADMIN_ACTOR "admin"

struct vg_http {
    struct evhttp *http;
    struct vg_http_hooks hooks;
    char token[128];
    int port;
};

static void reply_json(struct evhttp_request *req, int status, const char *reason,
                       struct evbuffer *body)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json; charset=utf-8");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
    evhttp_send_reply(req, status, reason, body);
}

static void reply_error(struct evhttp_request *req, int status, const char *reason,
                        const char *code, const char *message)
{
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    struct evbuffer *b = evbuffer_new();
    if (b && text)
        evbuffer_add_printf(b, "%s\n", text);
    reply_json(req, status, reason, b);
    if (b)
        evbuffer_free(b);
    free(text);
    json_decref(o);
}

static bool authorised(struct vg_http *h, struct evhttp_request *req)
{
    const char *auth =
        evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    size_t n = strlen(h->token);
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || strlen(auth + 7) != n ||
        CRYPTO_memcmp(auth + 7, h->token, n) != 0) {
        reply_error(req, 401, "Unauthorized", "unauthorized",
                    "an administrator token is required (Authorization: Bearer ...)");
        return false;
    }
    return true;
}

static void on_health(struct evhttp_request *req, void *arg)
{
    struct vg_http *h = arg;
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        reply_error(req, 405, "Method Not Allowed", "method", "use GET");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    int status = h->hooks.health(h->hooks.arg, b);
    reply_json(req, status, status == 200 ? "OK" : "Service Unavailable", b);
    evbuffer_free(b);
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
    struct vg_http *h = arg;
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        reply_error(req, 405, "Method Not Allowed", "method", "use GET");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    h->hooks.metrics(h->hooks.arg, b);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static void on_measures(struct evhttp_request *req, void *arg)
{
    struct vg_http *h = arg;
    if (!authorised(h, req))
        return;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd == EVHTTP_REQ_GET) {
        struct evbuffer *b = evbuffer_new();
        char err[512] = "";
        if (!b || h->hooks.list_measures(h->hooks.arg, ADMIN_ACTOR, b, err, sizeof err) != 0)
            reply_error(req, 503, "Service Unavailable", "unavailable",
                        err[0] ? err : "out of memory");
        else
            reply_json(req, 200, "OK", b);
        if (b)
            evbuffer_free(b);
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        reply_error(req, 405, "Method Not Allowed", "method", "use GET or POST");
        return;
    }
    const char *ctype =
        evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    if (!ctype || strncmp(ctype, "application/json", 16) != 0) {
        reply_error(req, 415, "Unsupported Media Type", "media_type",
                    "send the measure as application/json");
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    char *body = malloc(len + 1);
    if (!body) {
        reply_error(req, 503, "Service Unavailable", "memory", "out of memory");
        return;
    }
    evbuffer_copyout(in, body, len);
    body[len] = '\0';
    if (strlen(body) != len) {
        free(body);
        reply_error(req, 400, "Bad Request", "invalid", "the body contains a NUL byte");
        return;
    }
    char err[512] = "";
    int64_t id = 0;
    int rc = h->hooks.create_measure(h->hooks.arg, ADMIN_ACTOR, body, &id, err, sizeof err);
    free(body);
    if (rc == VG_EDUPLICATE) {
        reply_error(req, 409, "Conflict", "conflict", err);
        return;
    }
    if (rc == VG_EINVAL || rc == VG_ERANGE || rc == VG_EFORMAT || rc == VG_ENOTFOUND) {
        reply_error(req, 400, "Bad Request", "invalid", err);
        return;
    }
    if (rc != VG_OK) {
        reply_error(req, 503, "Service Unavailable", "unavailable", err);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "{\"id\":%lld}\n", (long long)id);
    reply_json(req, 201, "Created", b);
    evbuffer_free(b);
}

static void on_other(struct evhttp_request *req, void *arg)
{
    (void)arg;
    reply_error(req, 404, "Not Found", "not_found", "no such resource");
}

int vg_http_start(struct event_base *base, const char *addr, const char *admin_token,
                  const struct vg_http_hooks *hooks, struct vg_http **out, char *err,
                  size_t err_len)
{
    struct vg_http *h = calloc(1, sizeof *h);
    if (!h || strlen(admin_token) >= sizeof h->token) {
        free(h);
        snprintf(err, err_len, "bad administrator token");
        return VG_EINVAL;
    }
    h->hooks = *hooks;
    snprintf(h->token, sizeof h->token, "%s", admin_token);
    h->http = evhttp_new(base);
    if (!h->http) {
        free(h);
        snprintf(err, err_len, "cannot create the HTTP server");
        return VG_ENOSPC;
    }
    evhttp_set_max_body_size(h->http, VG_HTTP_MAX_BODY);
    evhttp_set_max_headers_size(h->http, 16 * 1024);
    evhttp_set_timeout(h->http, 30);
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_cb(h->http, "/healthz", on_health, h);
    evhttp_set_cb(h->http, "/metrics", on_metrics, h);
    evhttp_set_cb(h->http, "/api/v1/measures", on_measures, h);
    evhttp_set_gencb(h->http, on_other, h);
    /* bind to exactly the address asked for, not every interface */
    char host[128];
    const char *colon = strrchr(addr, ':');
    size_t hl = colon ? (size_t)(colon - addr) : 0;
    if (!colon || hl >= sizeof host) {
        evhttp_free(h->http);
        free(h);
        snprintf(err, err_len, "'%s' is not HOST:PORT", addr);
        return VG_EINVAL;
    }
    memcpy(host, addr, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535) {
        evhttp_free(h->http);
        free(h);
        snprintf(err, err_len, "'%s' is not HOST:PORT", addr);
        return VG_EINVAL;
    }
    if (host[0] == '[' && hl > 1 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    struct evhttp_bound_socket *sock =
        evhttp_bind_socket_with_handle(h->http, host, (ev_uint16_t)port);
    if (!sock) {
        snprintf(err, err_len, "cannot listen on %s: %s", addr, strerror(errno));
        evhttp_free(h->http);
        free(h);
        return VG_ESTATE;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    if (getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&bound, &bl) == 0)
        h->port = ntohs(bound.ss_family == AF_INET6
                            ? ((struct sockaddr_in6 *)(void *)&bound)->sin6_port
                            : ((struct sockaddr_in *)(void *)&bound)->sin_port);
    *out = h;
    return VG_OK;
}

int vg_http_port(const struct vg_http *h)
{
    return h->port;
}

void vg_http_free(struct vg_http *h)
{
    if (!h)
        return;
    evhttp_free(h->http);
    free(h);
}
