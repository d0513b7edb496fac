/* The device gateway: TLS 1.3 connections from the units (libevent's
 * OpenSSL bufferevents), framing (core/proto.h), limits, and the
 * protocol's session rules. What the records mean is not its business: it
 * hands authenticated units' messages to hooks (the daemon's centre).
 *
 * Limits, all enforced here so that no client can hold resources:
 *   - at most max_connections at once (beyond, accepted and closed at once);
 *   - the TLS handshake must finish within handshake_timeout_ms;
 *   - HELLO must come within hello_timeout_ms of the handshake;
 *   - a frame must arrive whole within frame_timeout_ms of its first byte
 *     (a slow-loris trickle is cut);
 *   - nothing at all for idle_timeout_ms closes the connection;
 *   - a frame over the protocol's limit is refused as soon as its header is
 *     read; input is never buffered beyond one maximal frame;
 *   - a peer that does not read what we send (output over max_output_bytes)
 *     is closed.
 * A malformed frame gets an ERROR message and the connection is closed,
 * with the reason logged. */
#ifndef VG_NET_GATEWAY_H
#define VG_NET_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "core/proto.h"

struct event_base;
struct vg_gateway;
struct vg_conn;

struct vg_gateway_limits {
    int max_connections;
    int64_t handshake_timeout_ms;
    int64_t hello_timeout_ms;
    int64_t frame_timeout_ms;
    int64_t idle_timeout_ms;
    size_t max_output_bytes;
};

void vg_gateway_limits_default(struct vg_gateway_limits *l);

/* What the gateway asks of the centre. `unit` is the centre's handle,
 * returned by authenticated(). A hook returning a vg_proto_error code (> 0)
 * makes the gateway send ERROR with that code and close. */
struct vg_gateway_hooks {
    void *arg;
    /* A unit finished its handshake with a valid certificate whose subject
     * CN is cn. Return its handle, or NULL and set *code to refuse it. */
    void *(*authenticated)(void *arg, struct vg_conn *c, const char *cn, uint16_t *code);
    int (*hello)(void *arg, void *unit, struct vg_conn *c, const struct vg_proto_hello *h);
    /* A RECORDS payload (already checked to be a whole frame), received at
     * t_in_ns (CLOCK_MONOTONIC, when its last byte was read). */
    int (*records)(void *arg, void *unit, struct vg_conn *c, const uint8_t *payload, size_t len,
                   int64_t t_in_ns);
    void (*command_ack)(void *arg, void *unit, const struct vg_proto_command_ack *a);
    /* The connection is gone (whatever the reason); c is invalid after. */
    void (*closed)(void *arg, void *unit, struct vg_conn *c);
};

struct vg_gateway_stats {
    uint64_t accepted;
    uint64_t refused_full;      /* over max_connections */
    uint64_t handshake_failed;  /* TLS errors, bad or revoked certificates */
    uint64_t timeouts;          /* handshake, hello, frame or idle */
    uint64_t frames_in;
    uint64_t frames_out;
    uint64_t frames_rejected;   /* malformed, oversize, unexpected */
    uint64_t bytes_in;
    int current;                /* open connections */
};

/* Listen on addr ("HOST:PORT"). ctx is the server SSL_CTX (TLS 1.3 only,
 * client certificate required: util/pki.h builds it); it is borrowed. */
int vg_gateway_start(struct event_base *base, SSL_CTX *ctx, const char *addr,
                     const struct vg_gateway_limits *limits,
                     const struct vg_gateway_hooks *hooks, struct vg_gateway **out, char *err,
                     size_t err_len);

/* The port actually bound (useful with port 0 in tests). */
int vg_gateway_port(const struct vg_gateway *g);

/* Stop accepting and close every connection, telling each unit the centre
 * is stopping. Accepts NULL. */
void vg_gateway_free(struct vg_gateway *g);

/* Stop (true) or resume (false) reading from every connection: the centre's
 * back-pressure when the store falls behind. */
void vg_gateway_pause(struct vg_gateway *g, bool pause);

const struct vg_gateway_stats *vg_gateway_stats(const struct vg_gateway *g);

/* Send a whole frame to a unit. */
int vg_conn_send(struct vg_conn *c, const uint8_t *frame, size_t len);

/* Send ERROR(code, why) and close once it is written. */
void vg_conn_close(struct vg_conn *c, uint16_t code, const char *why);

/* "ip:port" of the peer. */
const char *vg_conn_peer(const struct vg_conn *c);

#endif
