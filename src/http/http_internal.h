/* Private to src/http: the server's state and the helpers its handlers
 * share (request.c), and the handlers the router calls (accounts.c,
 * persons.c). Everything runs on the HTTP thread. */
#ifndef VG_HTTP_HTTP_INTERNAL_H
#define VG_HTTP_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/http.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "core/roles.h"
#include "core/stats.h"
#include "http/api.h"
#include "http/auth.h"

#define SESSION_COOKIE "vigie_session"

struct vg_http;

/* A listener: plain HTTP or HTTPS, the same routes. */
struct door {
    struct vg_http *h;
    struct evhttp *http;
    bool tls;
    int port;
};

struct vg_http {
    struct event_base *base;
    struct event *stop_ev; /* made active by vg_http_stop: the loop breaks */
    struct door plain, secure;
    SSL_CTX *ssl;
    struct vg_http_hooks hooks;
    struct vg_auth *auth;
    struct vg_store *store;
    pthread_t thread;
    bool running;
    struct vg_stream *stream; /* stream.c */
    struct vg_static *console; /* static.c */
};

/* ---- request.c: replies and reading requests ---- */
int64_t vg__http_now_ms(void);
void vg__http_reply_json(struct evhttp_request *req, int status, const char *reason,
                         struct evbuffer *body);
/* Takes v (may be NULL: an empty body). */
void vg__http_reply_value(struct evhttp_request *req, int status, const char *reason, json_t *v);
void vg__http_reply_error(struct evhttp_request *req, int status, const char *reason,
                          const char *code, const char *message);
/* 429 with Retry-After. */
void vg__http_reply_retry(struct evhttp_request *req, const char *code, const char *message,
                          int64_t retry_ms);
/* A vg_err as its status: 409, 404, 400 or 503. */
void vg__http_reply_vg_error(struct evhttp_request *req, int rc, const char *err);
/* The body as a NUL-terminated string (to free) if it is JSON; NULL after replying. */
char *vg__http_json_body(struct evhttp_request *req);
/* A JSON object with only the allowed keys (NULL-terminated); NULL after replying 400. */
json_t *vg__http_json_object_body(struct evhttp_request *req, const char *const *allowed);
/* Optional members: 0 absent, 1 present, -1 after replying 400 (another type). */
int vg__http_opt_string(struct evhttp_request *req, json_t *o, const char *key, const char **out);
int vg__http_opt_bool(struct evhttp_request *req, json_t *o, const char *key, int *out);
const char *vg__http_header(struct evhttp_request *req, const char *name);
void vg__http_peer_of(struct evhttp_request *req, char *out, size_t cap);
/* 1 if allowed; 0 after replying 403. */
int vg__http_csrf_ok(struct evhttp_request *req, const struct vg_identity *who);
int vg__http_permitted(struct evhttp_request *req, const struct vg_identity *who,
                       enum vg_permission p);
void vg__http_method_not_allowed(struct evhttp_request *req, const char *allowed);
/* Who asks (the token or the session cookie): 1 and *who, or 0 after replying 401. */
int vg__http_identify(struct vg_http *h, struct evhttp_request *req, struct vg_identity *who);

/* ---- accounts.c: /api/v1/session, /api/v1/users ---- */
void vg__http_on_session(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                         bool tls);
void vg__http_on_users(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                       const struct vg_identity *who);
void vg__http_on_user(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                      const struct vg_identity *who, const char *name);

/* ---- measures.c: /api/v1/measures ---- */
void vg__http_on_measures(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                          const struct vg_identity *who);
/* /api/v1/measures/ID[/WHAT]: what is "" (the file), "versions", or an action. */
void vg__http_on_measure(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                         const struct vg_identity *who, int64_t id, const char *what);

/* ---- incidents.c: /api/v1/incidents ---- */
void vg__http_on_incidents(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                           const struct vg_identity *who, const char *rest);
/* reports.c: GET /api/v1/incidents/ID/report and /ID/steps (rest: "/ID/WHAT");
 * false if rest is not one of them (nothing answered). */
bool vg__http_on_incident_read(struct vg_http *h, struct evhttp_request *req,
                               enum evhttp_cmd_type cmd, const struct vg_identity *who,
                               const char *rest);

/* ---- persons.c: /api/v1/persons ---- */
void vg__http_on_persons(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                         const struct vg_identity *who);
void vg__http_on_person(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                        const struct vg_identity *who, int64_t id, bool versions);

/* ---- floor.c: GET /api/v1/floor ---- */
void vg__http_on_floor(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                       const struct vg_identity *who);

/* ---- statistics.c: /api/v1/statistics ---- */
void vg__http_on_statistics(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                            const struct vg_identity *who);

/* ---- statistics_incidents.c: what the statistics read besides their rows ---- */
struct measure_extra;
struct vg__stats_extra {
    struct measure_extra *m; /* in measure id order */
    size_t n, cap;
};
int vg__stats_extra_read(struct vg_store *s, int64_t from_ms, int64_t to_ms,
                         struct vg__stats_extra *x);
/* Its incidents, losses and units into m (borrowed from x). */
void vg__stats_extra_of(const struct vg__stats_extra *x, int64_t measure_id,
                        struct vg_stats_measure *m);
void vg__stats_extra_free(struct vg__stats_extra *x);

/* ---- stream.c: /api/v1/stream ---- */
int vg__stream_new(struct vg_http *h, int64_t heartbeat_ms, char *err, size_t err_len);
void vg__stream_free(struct vg_http *h);
void vg__stream_metrics(struct vg_http *h, struct evbuffer *out);
void vg__http_on_stream(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                        const struct vg_identity *who);

/* ---- static.c: the console's files at "/" (GET, HEAD) ---- */
int vg__static_new(struct vg_http *h, const struct vg_http_console *c, char *err, size_t err_len);
void vg__static_free(struct vg_http *h);
/* Whether a decoded path may be looked for (no "..", hidden file, NUL...). */
bool vg__static_path_ok(const char *path, size_t len);
void vg__http_on_static(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                        const char *raw_path);

/* ---- units.c: /api/v1/units ---- */
void vg__http_on_units(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                       const struct vg_identity *who);
/* /api/v1/units/SERIAL/WHAT (what: "revoke"; anything else is 404). */
void vg__http_on_unit(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                      const struct vg_identity *who, const char *serial, const char *what);

#endif
