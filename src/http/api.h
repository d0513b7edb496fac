/* The daemon's HTTP side (libevent's evhttp), on a thread and event loop of
 * its own, so that hashing a password or waiting for the store never holds
 * up the units' records. This layer does HTTP: routing, methods, who is
 * asking and whether he may (http/auth.h, core/roles.h), CSRF, body limits,
 * strict JSON, JSON errors. What the answers about measures contain comes
 * from hooks the daemon provides (called on this thread: the daemon hands
 * the work to its own loop).
 *
 *   GET    /healthz               no authentication (for load balancers)
 *   GET    /metrics               no authentication (Prometheus text format)
 *   POST   /api/v1/session        log in: {"name","password"} -> cookie + CSRF token
 *   GET    /api/v1/session        who am I
 *   DELETE /api/v1/session        log out
 *   GET    /api/v1/users          accounts                 (administrator)
 *   POST   /api/v1/users          a new account            (administrator)
 *   PATCH  /api/v1/users/NAME     change an account        (administrator; anyone his password)
 *   GET    /api/v1/measures       the measures             (court-scoped for magistrates)
 *   POST   /api/v1/measures       declare a measure        (installer, administrator)
 *   GET    /api/v1/measures/ID    its file                 (court-scoped)
 *   PUT    /api/v1/measures/ID    a new version            (installer, administrator, magistrate)
 *   GET    /api/v1/measures/ID/versions
 *   GET    /api/v1/measures/ID/activity   alarms, rings, losses over a period, and with
 *                                            another R (court-scoped)
 *   GET    /api/v1/measures/ID/positions  recent tracks      (operator, supervisor; hers only
 *                                                            with an incident in progress)
 *   POST   /api/v1/measures/ID/{suspend,resume,lift,revoke}
 *   GET    /api/v1/measures/ID/export                       (administrator)
 *   GET    /api/v1/incidents      the queue                (operator, supervisor)
 *   POST   /api/v1/incidents/ID/{take,step,close}           (operator, supervisor)
 *   GET    /api/v1/incidents/ID   one incident, with guidance for both persons (operator,
 *                                 supervisor)
 *   GET    /api/v1/incidents/ID/{report,steps}              (operator, supervisor, magistrate:
 *                                                            his court's)
 *   GET    /api/v1/floor[?hours=N] the floor view        (operator, supervisor)
 *   GET    /api/v1/stream         live events, Server-Sent Events (operator, supervisor)
 *   GET/POST /api/v1/persons, GET/PUT /api/v1/persons/ID[/versions]
 *   GET    /api/v1/units          the units and their health (court-scoped)
 *   POST   /api/v1/units          issue a unit's certificate and key (installer, administrator)
 *   POST   /api/v1/units/SERIAL/revoke                      (installer, administrator)
 *   GET    /, /FILE               the operator console's files (http/static.c), no
 *                                 authentication (the page logs in through the API)
 *   GET    /config.json           the console's settings (tiles, escalation delays)
 *
 * Credentials: the session cookie, or `Authorization: Bearer <admin token>`.
 * Errors are JSON: {"error": {"code": "invalid", "message": "..."}}
 * (docs/API.md lists the codes). */
#ifndef VG_HTTP_API_H
#define VG_HTTP_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http/auth.h"
#include "store/store.h"

struct evbuffer;
struct vg_http;

#define VG_HTTP_MAX_BODY (256 * 1024)

struct vg_http_hooks {
    void *arg;
    /* Append the health document (JSON) to out; return the HTTP status. */
    int (*health)(void *arg, struct evbuffer *out);
    void (*metrics)(void *arg, struct evbuffer *out);
    /* Whether this vigied stands by (two sites: the other is active): the
     * API then answers 503 with Retry-After, the live stream ends; health,
     * metrics and the console's files are served. NULL: never. */
    bool (*standby)(void *arg);
    /* Append a JSON array of the measures `who` may read to out: 0, or a
     * negative vg_err and a message (then nothing is answered: a read that
     * could not be journaled is refused). */
    int (*list_measures)(void *arg, const struct vg_identity *who, struct evbuffer *out, char *err,
                         size_t err_len);
    /* Whether a court-scoped reader (a magistrate) may read this person's
     * file: one of his court's measures names it. */
    bool (*person_visible)(void *arg, const struct vg_identity *who, int64_t person_id);
    /* Declare a measure (daemon/center.h): 0 and *id, or a negative vg_err
     * and a message; the legal rules' violations (errors, or warnings on
     * success) in *violations (to json_decref; NULL if none). */
    int (*create_measure)(void *arg, const struct vg_identity *who, const char *json, int64_t *id,
                          json_t **violations, char *err, size_t err_len);
    /* One measure's file as a JSON object (to json_decref), journaled;
     * VG_ENOTFOUND when there is none or who may not see it. An archived
     * measure (core/retention.h) is read by an administrator giving a
     * reason (NULL or "": VG_EINVAL saying so). */
    int (*get_measure)(void *arg, const struct vg_identity *who, int64_t id, const char *reason,
                       json_t **out, char *err, size_t err_len);
    /* Every version of a measure, newest first (a JSON array), journaled. */
    int (*measure_versions)(void *arg, const struct vg_identity *who, int64_t id, json_t **out,
                            char *err, size_t err_len);
    /* A new version of its definition; *version the new version. */
    int (*amend_measure)(void *arg, const struct vg_identity *who, int64_t id, int64_t based_on,
                         const char *json, const char *note, int64_t *version, json_t **violations,
                         char *err, size_t err_len);
    /* A measure's whole file (an open JSON document, docs/API.md), journaled. */
    int (*export_measure)(void *arg, const struct vg_identity *who, int64_t id, json_t **out,
                          char *err, size_t err_len);
    /* The incidents in progress, most urgent first (a JSON array). */
    int (*list_incidents)(void *arg, const struct vg_identity *who, json_t **out, char *err,
                          size_t err_len);
    /* take / step / close an incident (daemon/center.h); *out the incident after it. */
    int (*act_on_incident)(void *arg, const struct vg_identity *who, int64_t id, const char *action,
                           const char *operator_name, bool reassign, const char *step,
                           const char *outcome, const char *text, json_t **out, char *err,
                           size_t err_len);
    /* The floor view (core/floor.h) over the last `hours` (1 to
     * VG_FLOOR_MAX_HOURS), as a JSON object (to json_decref), journaled
     * (floor.read) before it is answered. */
    int (*floor)(void *arg, const struct vg_identity *who, int hours, json_t **out, char *err,
                 size_t err_len);
    /* An incident's report (made when it was closed) and its steps, read
     * from the store whatever the incident's age: a JSON object / array
     * (to json_decref), journaled (report.read, incident.steps) before it
     * is answered. VG_ENOTFOUND when there is none, when its measure is
     * archived, or when who may not see it (a magistrate: his court's). */
    int (*incident_report)(void *arg, const struct vg_identity *who, int64_t id, json_t **out,
                           char *err, size_t err_len);
    /* The closed incident's report drawn as a PDF for one recipient
     * (audience: "magistrate", "prosecutor", "probation", "victim_support";
     * report/incident_pdf.h), journaled (report.pdf): *pdf to free. */
    int (*incident_report_pdf)(void *arg, const struct vg_identity *who, int64_t id,
                               const char *audience, unsigned char **pdf, size_t *len, char *err,
                               size_t err_len);
    int (*incident_steps)(void *arg, const struct vg_identity *who, int64_t id, json_t **out,
                          char *err, size_t err_len);
    /* One incident (open, or closed and still its measure's latest) as the
     * queue shows it, with "guidance" for both persons (core/guidance.h) and
     * never the protected person's position: a JSON object (to json_decref),
     * journaled (incident.read) before it is answered. VG_ENOTFOUND when
     * there is none. */
    int (*get_incident)(void *arg, const struct vg_identity *who, int64_t id, json_t **out,
                        char *err, size_t err_len);
    /* suspend, resume, lift, revoke (VG_ENOTFOUND for another word). */
    int (*act_on_measure)(void *arg, const struct vg_identity *who, int64_t id, int64_t based_on,
                          const char *action, const char *note, int64_t *version, char *err,
                          size_t err_len);
    /* The units `who` may see, with their health: a JSON array (to
     * json_decref), journaled durably before it is answered. */
    int (*list_units)(void *arg, const struct vg_identity *who, json_t **out, char *err,
                      size_t err_len);
    /* Issue a unit's certificate and key in the daemon's PKI: *out
     * {"serial", "certificate", "key", "ca"} (PEM; to json_decref), once
     * journaled. VG_EDUPLICATE if the serial already has a certificate. */
    int (*issue_unit)(void *arg, const struct vg_identity *who, const char *serial, json_t **out,
                      char *err, size_t err_len);
    /* A measure's activity over local days [from, to] (NULL, NULL: the
     * last 30 days), replayed, and with what_if_m > 0 replayed with that R
     * too (core/activity.h): a JSON object, journaled (measure.activity).
     * Court-scoped like the measure's file. */
    int (*measure_activity)(void *arg, const struct vg_identity *who, int64_t id,
                            const char *from, const char *to, double what_if_m, json_t **out,
                            char *err, size_t err_len);
    /* The reports of a measure's closed incidents, newest first (a JSON
     * array to json_decref), journaled (report.list). Court-scoped like
     * the incidents' reports; VG_ENOTFOUND for no such measure. */
    int (*measure_reports)(void *arg, const struct vg_identity *who, int64_t id, json_t **out,
                           char *err, size_t err_len);
    /* Both persons' tracks over the last span_ms (a JSON object to
     * json_decref): the author's, and the protected person's only while
     * the measure has an incident in progress; journaled (position.read)
     * before it is answered. VG_ENOTFOUND for no such measure. */
    int (*measure_positions)(void *arg, const struct vg_identity *who, int64_t id,
                             int64_t span_ms, json_t **out, char *err, size_t err_len);
    /* Revoke a unit's certificate and reload the CRL: the gateway refuses
     * the unit from its next connection. VG_ENOTFOUND if none was issued,
     * VG_ESTATE if already revoked. */
    int (*revoke_unit)(void *arg, const struct vg_identity *who, const char *serial,
                       const char *note, char *err, size_t err_len);
};

/* The operator console (http/static.c): its files, and the settings the
 * page reads from GET /config.json. */
struct vg_http_console {
    const char *dir;               /* served at "/"; NULL or "": no console */
    const char *tiles;             /* a tile URL template ({z}/{x}/{y}); "": the offline layer */
    const char *tiles_attribution; /* shown on the map with the tiles */
    /* the escalation delays by priority (index 1 to 5), for the queue's timers */
    int64_t escalate_take_ms[6], escalate_progress_ms[6];
};

struct vg_http_options {
    const char *addr; /* HOST:PORT */
    /* HTTPS as well (for browsers away from the centre's machine): its
     * address ("" or NULL: none), and the server's certificate chain and
     * key (PEM). TLS 1.2 at least; cookies are then Secure. */
    const char *https_addr;
    const char *https_cert;
    const char *https_key;
    const char *token; /* the administrator token (copied) */
    struct vg_store *store;
    struct vg_auth_options auth;
    int64_t stream_heartbeat_ms; /* the live stream's heartbeat (0: 15 s) */
    struct vg_http_console console;
};

/* Bind, load the accounts and start the HTTP thread. */
int vg_http_start(const struct vg_http_options *o, const struct vg_http_hooks *hooks,
                  struct vg_http **out, char *err, size_t err_len);
int vg_http_port(const struct vg_http *h);
/* The accounts and sessions changed behind this server (a take-over: the
 * other site was active): read again from the store. Any thread. */
void vg_http_accounts_changed(struct vg_http *h);
int vg_http_https_port(const struct vg_http *h); /* 0 without HTTPS */
/* Stop serving and join the thread (requests in progress finish first).
 * Accepts NULL; vg_http_free stops too. */
void vg_http_stop(struct vg_http *h);
void vg_http_free(struct vg_http *h);

/* ---- the live stream (GET /api/v1/stream, http/stream.c) --------------------------------- */

/* Journal entries were committed (committed_ns: CLOCK_MONOTONIC, for the
 * delivery time): the stream reads them and sends them on. Any thread. */
void vg_http_journal_committed(struct vg_http *h, int64_t committed_ns);

enum vg_http_person { VG_HTTP_PERSON_AUTHOR = 1, VG_HTTP_PERSON_PROTECTED = 2 };

/* A durable fix of a measure's person, for the stream's clients that may
 * see it (the protected person's: operators and supervisors, while her
 * measure has an incident in progress, incident_id). */
struct vg_http_position {
    int64_t measure_id;
    char measure[VG_AUTH_NAME_MAX + 1];
    uint8_t role; /* enum vg_http_person */
    double lat_deg, lon_deg;
    float accuracy_m, speed_mps, heading_deg; /* speed, heading < 0: unknown */
    int64_t time_ms, received_ms;
    int64_t incident_id; /* 0: none in progress */
};

/* Whether any client listens (cheap: skip building positions if not). */
bool vg_http_wants_positions(const struct vg_http *h);
/* Queue a position for the clients (any thread; the oldest go first when
 * the clients fall behind). */
void vg_http_position(struct vg_http *h, const struct vg_http_position *p);

#endif
