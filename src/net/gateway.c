#include "net/gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "core/err.h"
#include "util/log.h"
#include "util/pki.h"

enum conn_phase {
    PHASE_HANDSHAKE,
    PHASE_HELLO,   /* authenticated, waiting for HELLO */
    PHASE_READY,
    PHASE_CLOSING, /* ERROR sent, waiting for it to be written */
};

struct vg_conn {
    struct vg_gateway *g;
    struct bufferevent *bev;
    struct event *deadline; /* handshake, hello or frame deadline */
    void *unit;
    enum conn_phase phase;
    bool frame_pending;     /* a partial frame is in the input buffer */
    char peer[64];
    char cn[128];
    struct vg_conn *prev, *next;
};

struct vg_gateway {
    struct event_base *base;
    SSL_CTX *ctx;
    struct evconnlistener *listener;
    struct vg_gateway_limits limits;
    struct vg_gateway_hooks hooks;
    struct vg_gateway_stats stats;
    struct vg_conn *conns;
    bool paused;
    int port;
};

void vg_gateway_limits_default(struct vg_gateway_limits *l)
{
    *l = (struct vg_gateway_limits){
        .max_connections = 20000,
        .handshake_timeout_ms = 10000,
        .hello_timeout_ms = 10000,
        .frame_timeout_ms = 30000,
        .idle_timeout_ms = 300000, /* units heartbeat every one or two minutes */
        .max_output_bytes = 1 << 20,
    };
}

static struct timeval tv_of_ms(int64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    return tv;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void conn_free(struct vg_conn *c)
{
    struct vg_gateway *g = c->g;
    if (c->unit && g->hooks.closed)
        g->hooks.closed(g->hooks.arg, c->unit, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    g->stats.current--;
    if (c->deadline)
        event_free(c->deadline);
    if (c->bev) {
        /* A clean TLS close_notify, best effort: with CLOSE_ON_FREE the
         * bufferevent would otherwise skip it. */
        SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
        if (ssl && c->phase != PHASE_HANDSHAKE)
            SSL_shutdown(ssl);
        bufferevent_free(c->bev);
    }
    free(c);
}

static void arm_deadline(struct vg_conn *c, int64_t ms)
{
    struct timeval tv = tv_of_ms(ms);
    event_add(c->deadline, &tv);
}

static void close_after_write(struct bufferevent *bev, void *arg);

void vg_conn_close(struct vg_conn *c, uint16_t code, const char *why)
{
    if (c->phase == PHASE_CLOSING)
        return;
    vg_log(code == VG_PROTO_ERR_SHUTDOWN ? VG_LOG_INFO : VG_LOG_WARN, "unit connection closed",
           "unit", c->cn[0] ? c->cn : "-", "peer", c->peer, "reason", why, NULL);
    if (c->phase != PHASE_HANDSHAKE) {
        struct vg_proto_error_msg m = {.code = code};
        snprintf(m.message, sizeof m.message, "%s", why);
        uint8_t frame[VG_PROTO_HEADER_LEN + VG_PROTO_MAX_TEXT + 16];
        size_t n;
        if (vg_proto_encode_error(frame, sizeof frame, &m, &n) == VG_OK) {
            bufferevent_write(c->bev, frame, n);
            c->g->stats.frames_out++;
        }
    }
    c->phase = PHASE_CLOSING;
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setcb(c->bev, NULL, close_after_write, NULL, c);
    /* if the peer never reads, the deadline still frees the connection */
    event_del(c->deadline);
    arm_deadline(c, 2000);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_free(c);
}

static void close_after_write(struct bufferevent *bev, void *arg)
{
    struct vg_conn *c = arg;
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        conn_free(c);
}

int vg_conn_send(struct vg_conn *c, const uint8_t *frame, size_t len)
{
    if (c->phase == PHASE_CLOSING || c->phase == PHASE_HANDSHAKE)
        return VG_ESTATE;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) + len > c->g->limits.max_output_bytes) {
        vg_conn_close(c, VG_PROTO_ERR_OVERLOADED, "the unit does not read what it is sent");
        return VG_ENOSPC;
    }
    if (bufferevent_write(c->bev, frame, len) != 0)
        return VG_ENOSPC;
    c->g->stats.frames_out++;
    return VG_OK;
}

const char *vg_conn_peer(const struct vg_conn *c)
{
    return c->peer;
}

static void refuse(struct vg_conn *c, uint16_t code, const char *why)
{
    c->g->stats.frames_rejected++;
    vg_conn_close(c, code, why);
}

/* One whole frame from an authenticated unit. Returns false if the
 * connection was closed. */
static bool dispatch(struct vg_conn *c, const struct vg_proto_header *h, const uint8_t *payload,
                     int64_t t_in)
{
    struct vg_gateway *g = c->g;
    g->stats.frames_in++;
    int code = 0;
    switch (h->type) {
    case VG_PROTO_HELLO: {
        if (c->phase != PHASE_HELLO) {
            refuse(c, VG_PROTO_ERR_UNEXPECTED, "HELLO sent twice");
            return false;
        }
        struct vg_proto_hello hello;
        if (vg_proto_decode_hello(payload, h->length, &hello) != VG_OK) {
            refuse(c, VG_PROTO_ERR_MALFORMED, "malformed HELLO");
            return false;
        }
        if (hello.version_min > VG_PROTO_VERSION || hello.version_max < VG_PROTO_VERSION ||
            hello.version_min > hello.version_max) {
            refuse(c, VG_PROTO_ERR_VERSION, "no common protocol version (this centre speaks 1)");
            return false;
        }
        c->phase = PHASE_READY;
        event_del(c->deadline);
        code = g->hooks.hello(g->hooks.arg, c->unit, c, &hello);
        break;
    }
    case VG_PROTO_RECORDS:
        if (c->phase != PHASE_READY) {
            refuse(c, VG_PROTO_ERR_UNEXPECTED, "records before HELLO");
            return false;
        }
        code = g->hooks.records(g->hooks.arg, c->unit, c, payload, h->length, t_in);
        break;
    case VG_PROTO_COMMAND_ACK: {
        struct vg_proto_command_ack a;
        if (c->phase != PHASE_READY) {
            refuse(c, VG_PROTO_ERR_UNEXPECTED, "command acknowledgement before HELLO");
            return false;
        }
        if (vg_proto_decode_command_ack(payload, h->length, &a) != VG_OK) {
            refuse(c, VG_PROTO_ERR_MALFORMED, "malformed COMMAND_ACK");
            return false;
        }
        if (g->hooks.command_ack)
            g->hooks.command_ack(g->hooks.arg, c->unit, &a);
        break;
    }
    default:
        refuse(c, VG_PROTO_ERR_UNEXPECTED, "a message only the centre sends");
        return false;
    }
    if (code > 0) {
        static const char *const why[] = {"", "malformed frame", "too large", "version",
                                          "unexpected message", "unknown unit", "overloaded",
                                          "shutting down", "invalid values"};
        refuse(c, (uint16_t)code, code < 9 ? why[code] : "refused");
        return false;
    }
    return true;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct vg_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    int64_t t_in = mono_ns();
    for (;;) {
        if (c->phase == PHASE_CLOSING)
            return;
        size_t avail = evbuffer_get_length(in);
        if (avail == 0)
            break;
        uint8_t head[VG_PROTO_HEADER_LEN];
        size_t have = avail < sizeof head ? avail : sizeof head;
        evbuffer_copyout(in, head, have);
        struct vg_proto_header h;
        const uint8_t *payload;
        size_t frame_len;
        int rc = vg_proto_frame(head, have, &h, &payload, &frame_len);
        if (rc == VG_EFORMAT) {
            refuse(c, VG_PROTO_ERR_MALFORMED, "malformed frame header");
            return;
        }
        if (rc == VG_ERANGE) {
            refuse(c, VG_PROTO_ERR_TOO_LARGE, "frame over 64 KiB");
            return;
        }
        size_t need = have < VG_PROTO_HEADER_LEN ? VG_PROTO_HEADER_LEN
                                                 : VG_PROTO_HEADER_LEN + (size_t)h.length;
        if (avail < need) {
            if (!c->frame_pending) { /* the frame's first bytes: its clock starts */
                c->frame_pending = true;
                arm_deadline(c, c->g->limits.frame_timeout_ms);
            }
            break;
        }
        uint8_t *frame = evbuffer_pullup(in, (ev_ssize_t)need);
        if (!frame || vg_proto_frame(frame, need, &h, &payload, &frame_len) != VG_OK) {
            refuse(c, VG_PROTO_ERR_MALFORMED, "malformed frame");
            return;
        }
        c->g->stats.bytes_in += frame_len;
        if (c->frame_pending) {
            c->frame_pending = false;
            event_del(c->deadline);
        }
        if (!dispatch(c, &h, payload, t_in))
            return;
        evbuffer_drain(in, frame_len);
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vg_conn *c = arg;
    switch (c->phase) {
    case PHASE_HANDSHAKE:
        c->g->stats.timeouts++;
        vg_log(VG_LOG_WARN, "TLS handshake too slow", "peer", c->peer, NULL);
        conn_free(c);
        return;
    case PHASE_HELLO:
        c->g->stats.timeouts++;
        vg_conn_close(c, VG_PROTO_ERR_UNEXPECTED, "no HELLO in time");
        return;
    case PHASE_READY:
        c->g->stats.timeouts++;
        vg_conn_close(c, VG_PROTO_ERR_MALFORMED, "frame not completed in time");
        return;
    case PHASE_CLOSING:
        conn_free(c);
        return;
    }
}

static void log_tls_failure(struct vg_conn *c)
{
    char reason[256] = "connection closed during the handshake";
    unsigned long e = bufferevent_get_openssl_error(c->bev);
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    vg_log(VG_LOG_WARN, "TLS handshake refused", "peer", c->peer, "reason", reason, NULL);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct vg_conn *c = arg;
    struct vg_gateway *g = c->g;
    if (what & BEV_EVENT_CONNECTED) {
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        X509 *peer = SSL_get1_peer_certificate(ssl);
        long verify = SSL_get_verify_result(ssl);
        if (!peer || verify != X509_V_OK) {
            g->stats.handshake_failed++;
            vg_log(VG_LOG_WARN, "unit certificate refused", "peer", c->peer, "reason",
                   peer ? X509_verify_cert_error_string(verify) : "no certificate", NULL);
            X509_free(peer);
            conn_free(c);
            return;
        }
        X509_free(peer);
        if (vg_pki_peer_cn(ssl, c->cn, sizeof c->cn) != VG_OK) {
            g->stats.handshake_failed++;
            vg_log(VG_LOG_WARN, "unit certificate without a name", "peer", c->peer, NULL);
            conn_free(c);
            return;
        }
        event_del(c->deadline);
        c->phase = PHASE_HELLO;
        uint16_t code = VG_PROTO_ERR_UNKNOWN_UNIT;
        c->unit = g->hooks.authenticated(g->hooks.arg, c, c->cn, &code);
        if (!c->unit) {
            vg_conn_close(c, code, "this unit is not assigned to a measure");
            return;
        }
        arm_deadline(c, g->limits.hello_timeout_ms);
        struct timeval idle = tv_of_ms(g->limits.idle_timeout_ms);
        bufferevent_set_timeouts(bev, &idle, NULL);
        if (!g->paused)
            bufferevent_enable(bev, EV_READ);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        g->stats.timeouts++;
        vg_conn_close(c, VG_PROTO_ERR_UNEXPECTED, "idle for too long");
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        if (c->phase == PHASE_HANDSHAKE) {
            g->stats.handshake_failed++;
            log_tls_failure(c);
        } else if (c->phase != PHASE_CLOSING) {
            vg_log(VG_LOG_INFO, "unit disconnected", "unit", c->cn, "peer", c->peer, NULL);
        }
        conn_free(c);
    }
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    (void)l;
    (void)salen;
    struct vg_gateway *g = arg;
    if (g->stats.current >= g->limits.max_connections) {
        g->stats.refused_full++;
        evutil_closesocket(fd);
        return;
    }
    struct vg_conn *c = calloc(1, sizeof *c);
    SSL *ssl = c ? SSL_new(g->ctx) : NULL;
    if (!ssl) {
        free(c);
        evutil_closesocket(fd);
        vg_log(VG_LOG_ERROR, "out of memory accepting a unit", NULL);
        return;
    }
    c->g = g;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)(void *)sa;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(c->peer, sizeof c->peer, "%s:%u", ip, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)sa;
        char ip[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(c->peer, sizeof c->peer, "[%s]:%u", ip, ntohs(in6->sin6_port));
    }
    c->bev = bufferevent_openssl_socket_new(g->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    c->deadline = event_new(g->base, -1, 0, on_deadline, c);
    if (!c->bev || !c->deadline) {
        if (c->bev)
            bufferevent_free(c->bev);
        else {
            SSL_free(ssl);
            evutil_closesocket(fd);
        }
        if (c->deadline)
            event_free(c->deadline);
        free(c);
        return;
    }
    c->next = g->conns;
    if (g->conns)
        g->conns->prev = c;
    g->conns = c;
    g->stats.current++;
    g->stats.accepted++;
    /* input is never buffered beyond one maximal frame */
    bufferevent_setwatermark(c->bev, EV_READ, 0, VG_PROTO_HEADER_LEN + VG_PROTO_MAX_PAYLOAD);
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ);
    arm_deadline(c, g->limits.handshake_timeout_ms);
}

/* "HOST:PORT" or "[V6]:PORT" with a numeric host; port 0 lets the kernel
 * choose (tests). */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, int *len)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return -1;
    memset(ss, 0, sizeof *ss);
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;
        if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
            return -1;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = (int)sizeof *in6;
        return 0;
    }
    struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;
    if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
        return -1;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    *len = (int)sizeof *in;
    return 0;
}

int vg_gateway_start(struct event_base *base, SSL_CTX *ctx, const char *addr,
                     const struct vg_gateway_limits *limits,
                     const struct vg_gateway_hooks *hooks, struct vg_gateway **out, char *err,
                     size_t err_len)
{
    struct sockaddr_storage ss;
    int sl;
    if (parse_addr(addr, &ss, &sl) != 0) {
        snprintf(err, err_len, "'%s' is not HOST:PORT", addr);
        return VG_EINVAL;
    }
    struct vg_gateway *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    g->base = base;
    g->ctx = ctx;
    g->limits = *limits;
    g->hooks = *hooks;
    g->listener = evconnlistener_new_bind(base, on_accept, g,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                              LEV_OPT_CLOSE_ON_EXEC,
                                          1024, (struct sockaddr *)&ss, sl);
    if (!g->listener) {
        snprintf(err, err_len, "cannot listen on %s: %s", addr, strerror(errno));
        free(g);
        return VG_ESTATE;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    if (getsockname(evconnlistener_get_fd(g->listener), (struct sockaddr *)&bound, &bl) == 0)
        g->port = ntohs(bound.ss_family == AF_INET6
                            ? ((struct sockaddr_in6 *)(void *)&bound)->sin6_port
                            : ((struct sockaddr_in *)(void *)&bound)->sin_port);
    *out = g;
    return VG_OK;
}

int vg_gateway_port(const struct vg_gateway *g)
{
    return g->port;
}

void vg_gateway_free(struct vg_gateway *g)
{
    if (!g)
        return;
    evconnlistener_free(g->listener);
    while (g->conns) {
        struct vg_conn *c = g->conns;
        if (c->phase == PHASE_READY || c->phase == PHASE_HELLO) {
            /* a best-effort word before going: the loop may not run again */
            vg_conn_close(c, VG_PROTO_ERR_SHUTDOWN, "the centre is stopping");
            if (g->conns == c)
                conn_free(c);
        } else {
            conn_free(c);
        }
    }
    free(g);
}

void vg_gateway_pause(struct vg_gateway *g, bool pause)
{
    if (g->paused == pause)
        return;
    g->paused = pause;
    for (struct vg_conn *c = g->conns; c; c = c->next) {
        if (c->phase != PHASE_HELLO && c->phase != PHASE_READY)
            continue;
        if (pause)
            bufferevent_disable(c->bev, EV_READ);
        else
            bufferevent_enable(c->bev, EV_READ);
    }
}

const struct vg_gateway_stats *vg_gateway_stats(const struct vg_gateway *g)
{
    return &g->stats;
}
