/* The daemon's HTTP side (libevent's evhttp): health, metrics, and the
 * provisioning API of today (measures). What the answers contain comes from
 * hooks the daemon provides; this layer does HTTP: routing, methods, the
 * administrator's bearer token, body limits, JSON errors.
 *
 *   GET  /healthz              no authentication (for load balancers)
 *   GET  /metrics              no authentication (Prometheus text format)
 *   GET  /api/v1/measures      Authorization: Bearer <admin token>
 *   POST /api/v1/measures      same; body: a measure definition (JSON)
 *
 * Errors are JSON: {"error": {"code": "invalid", "message": "..."}}. */
#ifndef VG_HTTP_API_H
#define VG_HTTP_API_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evbuffer;
struct vg_http;

#define VG_HTTP_MAX_BODY (256 * 1024)

struct vg_http_hooks {
    void *arg;
    /* Append the health document (JSON) to out; return the HTTP status. */
    int (*health)(void *arg, struct evbuffer *out);
    void (*metrics)(void *arg, struct evbuffer *out);
    /* Append a JSON array of the measures to out: 0, or a negative vg_err
     * and a message (then nothing may be answered: a read that could not be
     * journaled is refused). `actor` is who asks (the journal's actor). */
    int (*list_measures)(void *arg, const char *actor, struct evbuffer *out, char *err,
                         size_t err_len);
    /* 0 and *id, or a negative vg_err and a message. */
    int (*create_measure)(void *arg, const char *actor, const char *json, int64_t *id, char *err,
                          size_t err_len);
};

/* Serve on addr ("HOST:PORT"); admin_token is copied. */
int vg_http_start(struct event_base *base, const char *addr, const char *admin_token,
                  const struct vg_http_hooks *hooks, struct vg_http **out, char *err,
                  size_t err_len);
int vg_http_port(const struct vg_http *h);
void vg_http_free(struct vg_http *h);

#endif
