#include "unit/unit_link.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

#include "core/err.h"

/* How much may wait in the socket's output before the unit produces more:
 * enough to keep a fast link busy, little enough that a dead one does not
 * hold megabytes of frames per unit. */
#define OUT_HIGH_DEFAULT (64 * 1024)
/* The timer never sleeps longer than this: a safety net, not a policy. */
#define MAX_SLEEP_MS 60000

int64_t vg_unit_link_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_bev(struct vg_unit_link *l)
{
    if (l->bev) {
        /* no TLS close_notify wait: the unit keeps everything unacknowledged */
        bufferevent_free(l->bev);
        l->bev = NULL;
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vg_unit_link *l = arg;
    l->timer_at_ms = 0;
    vg_unit_link_step(l);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct vg_unit_link *l = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    int64_t now = vg_unit_link_now_ms();
    while (evbuffer_get_length(in) > 0 && !vg_unit_want_close(l->unit)) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        vg_unit_received(l->unit, v.iov_base, v.iov_len, now);
        evbuffer_drain(in, v.iov_len);
    }
    vg_unit_link_step(l);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    vg_unit_link_step(arg); /* below the low watermark: produce more */
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct vg_unit_link *l = arg;
    int64_t now = vg_unit_link_now_ms();
    if (what & BEV_EVENT_CONNECTED) {
        vg_unit_connected(l->unit, now);
    } else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        close_bev(l);
        vg_unit_disconnected(l->unit, now);
    }
    vg_unit_link_step(l);
}

static void start_connect(struct vg_unit_link *l, unsigned server)
{
    SSL *ssl = SSL_new(l->ssl_ctx);
    if (!ssl) {
        vg_unit_disconnected(l->unit, vg_unit_link_now_ms());
        return;
    }
    if (l->cert &&
        (SSL_use_certificate(ssl, l->cert) != 1 || SSL_use_PrivateKey(ssl, l->key) != 1)) {
        SSL_free(ssl);
        vg_unit_disconnected(l->unit, vg_unit_link_now_ms());
        return;
    }
    SSL_set_tlsext_host_name(ssl, l->sni);
    l->bev = bufferevent_openssl_socket_new(l->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (!l->bev) {
        SSL_free(ssl);
        vg_unit_disconnected(l->unit, vg_unit_link_now_ms());
        return;
    }
    bufferevent_setcb(l->bev, on_read, on_write, on_event, l);
    bufferevent_setwatermark(l->bev, EV_WRITE, l->out_high / 2, 0);
    bufferevent_enable(l->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(l->bev, (struct sockaddr *)&l->addr[server],
                                   l->addr_len[server]) != 0) {
        close_bev(l);
        vg_unit_disconnected(l->unit, vg_unit_link_now_ms());
    }
}

void vg_unit_link_step(struct vg_unit_link *l)
{
    struct vg_mobile_unit *u = l->unit;
    int64_t now = vg_unit_link_now_ms();
    vg_unit_tick(u, now);
    if (l->bev && (vg_unit_want_close(u) || !l->network_up)) {
        close_bev(l);
        vg_unit_disconnected(u, now);
    } else if (!l->bev && u->link != VG_LINK_DOWN) {
        vg_unit_disconnected(u, now); /* an attempt that never got a socket */
    }
    unsigned server;
    if (l->network_up && !l->bev && vg_unit_want_connect(u, now, &server))
        start_connect(l, server);
    if (l->bev && u->link == VG_LINK_UP) {
        struct evbuffer *out = bufferevent_get_output(l->bev);
        const uint8_t *p;
        size_t n;
        while (evbuffer_get_length(out) < l->out_high && (n = vg_unit_output(u, now, &p)) > 0) {
            bufferevent_write(l->bev, p, n);
            vg_unit_output_consumed(u, n);
        }
    } else if (l->bev && u->link == VG_LINK_HELLO) {
        const uint8_t *p;
        size_t n = vg_unit_output(u, now, &p); /* the HELLO */
        if (n > 0) {
            bufferevent_write(l->bev, p, n);
            vg_unit_output_consumed(u, n);
        }
    }
    /* the timer at the unit's next deadline (or sooner, as a safety net) */
    int64_t at = vg_unit_next_deadline(u);
    if (at > now + MAX_SLEEP_MS)
        at = now + MAX_SLEEP_MS;
    /* past due after a tick: only a connection the network does not allow
     * yet (look again in a second) or something to do at once */
    if (at <= now)
        at = now + (l->network_up ? 1 : 1000);
    if (at != l->timer_at_ms) {
        int64_t d = at - now;
        struct timeval tv = {(time_t)(d / 1000), (suseconds_t)(d % 1000) * 1000};
        evtimer_add(l->timer, &tv);
        l->timer_at_ms = at;
    }
    if (l->after_step)
        l->after_step(l->ctx, l);
}

void vg_unit_link_set_network(struct vg_unit_link *l, int up)
{
    if (l->network_up == !!up)
        return;
    l->network_up = !!up;
    vg_unit_link_step(l);
}

int vg_unit_link_init(struct vg_unit_link *l, struct event_base *base, struct vg_mobile_unit *u,
                      SSL_CTX *ctx, const char *const *servers, unsigned n, const char *sni,
                      char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    if (n < 1 || n > VG_UNIT_MAX_SERVERS || !sni || strlen(sni) >= sizeof l->sni) {
        snprintf(err, errlen, "one or two server addresses and the server's name are needed");
        return VG_EINVAL;
    }
    for (unsigned i = 0; i < n; i++) {
        l->addr_len[i] = (int)sizeof l->addr[i];
        if (evutil_parse_sockaddr_port(servers[i], (struct sockaddr *)&l->addr[i],
                                       &l->addr_len[i]) != 0) {
            snprintf(err, errlen, "%s: not a numeric HOST:PORT address", servers[i]);
            return VG_EINVAL;
        }
    }
    l->base = base;
    l->unit = u;
    l->ssl_ctx = ctx;
    snprintf(l->sni, sizeof l->sni, "%s", sni);
    l->network_up = 1;
    l->out_high = OUT_HIGH_DEFAULT;
    l->timer = evtimer_new(base, on_timer, l);
    if (!l->timer) {
        snprintf(err, errlen, "out of memory");
        return VG_ENOSPC;
    }
    return VG_OK;
}

void vg_unit_link_set_identity(struct vg_unit_link *l, X509 *cert, EVP_PKEY *key)
{
    l->cert = cert;
    l->key = key;
}

void vg_unit_link_free(struct vg_unit_link *l)
{
    close_bev(l);
    if (l->timer) {
        event_free(l->timer);
        l->timer = NULL;
    }
}
