/* A unit's connection to the centre on a libevent loop: TCP, TLS 1.3 with
 * the unit's certificate (bufferevent_openssl), and the glue that moves
 * bytes between the socket and the unit's logic (unit.h). Shared by
 * vigie-unit (one link) and vigie-sim (thousands on one loop).
 *
 * The link owns no policy: when to connect, where, when to give up and
 * what to send are the unit's decisions; the link carries them out and
 * keeps a timer at the unit's next deadline. */
#ifndef VG_UNIT_UNIT_LINK_H
#define VG_UNIT_UNIT_LINK_H

#include <stdint.h>

#include <openssl/ssl.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "unit/unit.h"

struct vg_unit_link {
    struct event_base *base;
    struct vg_mobile_unit *unit;
    SSL_CTX *ssl_ctx; /* borrowed: the unit's client context (its certificate) */
    /* borrowed, may be NULL: the unit's certificate and key when the context
     * is shared by many units (vigie-sim: one context for thousands) */
    X509 *cert;
    EVP_PKEY *key;
    struct sockaddr_storage addr[VG_UNIT_MAX_SERVERS];
    int addr_len[VG_UNIT_MAX_SERVERS];
    char sni[128];
    struct bufferevent *bev;
    struct event *timer;
    int64_t timer_at_ms;
    int network_up;  /* 0: the simulator's outage (no connection can be made) */
    size_t out_high; /* do not produce more while this much waits in the socket's buffer */
    /* called after every step, for the shell's bookkeeping (may be NULL) */
    void (*after_step)(void *ctx, struct vg_unit_link *l);
    void *ctx;
};

/* servers: "HOST:PORT" numeric addresses (IPv4 or [IPv6]:port), n of them
 * as the unit's n_servers; sni: the centre's name as its certificate
 * carries it. VG_EINVAL for an address that does not parse. */
int vg_unit_link_init(struct vg_unit_link *l, struct event_base *base, struct vg_mobile_unit *u,
                      SSL_CTX *ctx, const char *const *servers, unsigned n, const char *sni,
                      char *err, size_t errlen);
/* Connect with this certificate and key rather than the context's own
 * (both borrowed; they must outlive the link). Thousands of simulated units
 * share one SSL_CTX this way: a context costs about 20 KiB and half a
 * millisecond to build, a certificate and its key a few KiB. */
void vg_unit_link_set_identity(struct vg_unit_link *l, X509 *cert, EVP_PKEY *key);

/* Run one step now: the unit's clocks, closing and connecting as it asks,
 * output, the timer. Call it after feeding the unit anything. */
void vg_unit_link_step(struct vg_unit_link *l);
/* The simulator's network switch: down cuts the connection at once and
 * keeps the unit from reconnecting until it is up again. */
void vg_unit_link_set_network(struct vg_unit_link *l, int up);
/* Close the connection (if any) and free the link's events. */
void vg_unit_link_free(struct vg_unit_link *l);

/* UTC milliseconds now (the wall clock the units stamp records with). */
int64_t vg_unit_link_now_ms(void);

#endif
