/* The HTTP API (api.h): routing, identification, permissions, CSRF, strict
 * JSON. Runs on its own thread and event base. */
#include "http/api.h"

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
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "core/err.h"
#include "core/roles.h"
#include "util/log.h"
#include "util/person_json.h"

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
    struct door plain, secure;
    SSL_CTX *ssl;
    struct vg_http_hooks hooks;
    struct vg_auth *auth;
    struct vg_store *store;
    pthread_t thread;
    bool running;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- replies ---------------------------------------------------------------------------- */

static void reply_json(struct evhttp_request *req, int status, const char *reason,
                       struct evbuffer *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_send_reply(req, status, reason, body);
}

static void reply_value(struct evhttp_request *req, int status, const char *reason, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    struct evbuffer *b = evbuffer_new();
    if (b && text)
        evbuffer_add_printf(b, "%s\n", text);
    reply_json(req, status, reason, b);
    if (b)
        evbuffer_free(b);
    free(text);
}

static void reply_error(struct evhttp_request *req, int status, const char *reason,
                        const char *code, const char *message)
{
    reply_value(req, status, reason,
                json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message));
}

static void reply_retry(struct evhttp_request *req, const char *code, const char *message,
                        int64_t retry_ms)
{
    char secs[32];
    snprintf(secs, sizeof secs, "%lld", (long long)((retry_ms + 999) / 1000));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", secs);
    reply_error(req, 429, "Too Many Requests", code, message);
}

static void reply_vg_error(struct evhttp_request *req, int rc, const char *err)
{
    if (rc == VG_EDUPLICATE)
        reply_error(req, 409, "Conflict", "conflict", err);
    else if (rc == VG_ENOTFOUND)
        reply_error(req, 404, "Not Found", "not_found", err);
    else if (rc == VG_EINVAL || rc == VG_ERANGE || rc == VG_EFORMAT)
        reply_error(req, 400, "Bad Request", "invalid", err);
    else
        reply_error(req, 503, "Service Unavailable", "unavailable", err);
}

/* ---- requests ------------------------------------------------------------------------------ */

/* The body as a NUL-terminated string, if it is JSON; NULL after replying. */
static char *json_body(struct evhttp_request *req)
{
    const char *ctype = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    if (!ctype || strncmp(ctype, "application/json", 16) != 0) {
        reply_error(req, 415, "Unsupported Media Type", "media_type", "send application/json");
        return NULL;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    char *body = malloc(len + 1);
    if (!body) {
        reply_error(req, 503, "Service Unavailable", "unavailable", "out of memory");
        return NULL;
    }
    evbuffer_copyout(in, body, len);
    body[len] = '\0';
    if (strlen(body) != len) {
        free(body);
        reply_error(req, 400, "Bad Request", "invalid", "the body has a NUL byte");
        return NULL;
    }
    return body;
}

/* A JSON object with only the allowed keys (NULL-terminated); NULL after
 * replying 400. */
static json_t *json_object_body(struct evhttp_request *req, const char *const *allowed)
{
    char *body = json_body(req);
    if (!body)
        return NULL;
    json_error_t je;
    json_t *root = json_loads(body, JSON_REJECT_DUPLICATES, &je);
    free(body);
    char msg[256];
    if (!root || !json_is_object(root)) {
        snprintf(msg, sizeof msg, "the body is not a JSON object%s%s", root ? "" : ": ",
                 root ? "" : je.text);
        json_decref(root);
        reply_error(req, 400, "Bad Request", "invalid", msg);
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) {
            snprintf(msg, sizeof msg, "unknown key \"%.100s\"", key);
            json_decref(root);
            reply_error(req, 400, "Bad Request", "invalid", msg);
            return NULL;
        }
    }
    return root;
}

/* An optional string member: 0 (absent: *out NULL), 1 (a string), -1
 * after replying 400 (another type). */
static int opt_string(struct evhttp_request *req, json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_string(v)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: a string", key);
        reply_error(req, 400, "Bad Request", "invalid", msg);
        return -1;
    }
    *out = json_string_value(v);
    if (strlen(*out) != json_string_length(v)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: no NUL character", key);
        reply_error(req, 400, "Bad Request", "invalid", msg);
        return -1;
    }
    return 1;
}

static int opt_bool(struct evhttp_request *req, json_t *o, const char *key, int *out)
{
    json_t *v = json_object_get(o, key);
    *out = -1;
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: true or false", key);
        reply_error(req, 400, "Bad Request", "invalid", msg);
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

static const char *header(struct evhttp_request *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

/* The session cookie's value, copied into out ("" if none). */
static void session_cookie(struct evhttp_request *req, char *out, size_t cap)
{
    out[0] = '\0';
    const char *c = header(req, "Cookie");
    size_t nl = strlen(SESSION_COOKIE);
    while (c && *c) {
        while (*c == ' ' || *c == ';')
            c++;
        if (strncmp(c, SESSION_COOKIE, nl) == 0 && c[nl] == '=') {
            const char *v = c + nl + 1;
            size_t n = strcspn(v, ";");
            if (n < cap) {
                memcpy(out, v, n);
                out[n] = '\0';
            }
            return;
        }
        c = strchr(c, ';');
    }
}

static void peer_of(struct evhttp_request *req, char *out, size_t cap)
{
    char *addr = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    if (conn)
        evhttp_connection_get_peer(conn, &addr, &port);
    snprintf(out, cap, "%s", addr ? addr : "?");
}

/* Who asks: 1 and *who, or 0 after replying 401. */
static int identify(struct vg_http *h, struct evhttp_request *req, struct vg_identity *who)
{
    const char *auth = header(req, "Authorization");
    const char *bearer = NULL;
    if (auth) {
        if (strncmp(auth, "Bearer ", 7) != 0) {
            reply_error(req, 401, "Unauthorized", "unauthorized",
                        "Authorization: Bearer <token>, or log in (POST /api/v1/session)");
            return 0;
        }
        bearer = auth + 7;
    }
    char cookie[128];
    session_cookie(req, cookie, sizeof cookie);
    if (vg_auth_identify(h->auth, bearer, cookie[0] ? cookie : NULL, now_ms(), who) !=
        VG_AUTH_OK) {
        reply_error(req, 401, "Unauthorized", "unauthorized",
                    bearer ? "this token is not the administrator token"
                           : "log in first (POST /api/v1/session), or give the administrator "
                             "token");
        return 0;
    }
    return 1;
}

/* A state-changing call made with the session cookie must carry the
 * session's CSRF token: 1, or 0 after replying 403. */
static int csrf_ok(struct evhttp_request *req, const struct vg_identity *who)
{
    if (vg_auth_csrf_ok(who, header(req, "X-CSRF-Token")))
        return 1;
    reply_error(req, 403, "Forbidden", "csrf",
                "X-CSRF-Token is missing or wrong (the token given at login)");
    return 0;
}

static int permitted(struct evhttp_request *req, const struct vg_identity *who,
                     enum vg_permission p)
{
    if (vg_role_may(who->role, p))
        return 1;
    char msg[160];
    snprintf(msg, sizeof msg, "a %s may not do this", vg_role_name(who->role));
    reply_error(req, 403, "Forbidden", "forbidden", msg);
    return 0;
}

static void method_not_allowed(struct evhttp_request *req, const char *allowed)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allowed);
    char msg[96];
    snprintf(msg, sizeof msg, "use %s", allowed);
    reply_error(req, 405, "Method Not Allowed", "method", msg);
}

static json_t *identity_json(const struct vg_identity *who)
{
    json_t *o = json_pack("{s:s,s:s,s:s}", "name", who->name, "role", vg_role_name(who->role),
                          "court", who->court);
    if (o && who->by_session)
        json_object_set_new(o, "csrf_token", json_string(who->csrf));
    return o;
}

/* ---- /healthz, /metrics -------------------------------------------------------------------- */

static void on_health(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd)
{
    if (cmd != EVHTTP_REQ_GET) {
        method_not_allowed(req, "GET");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    int status = h->hooks.health(h->hooks.arg, b);
    reply_json(req, status, status == 200 ? "OK" : "Service Unavailable", b);
    evbuffer_free(b);
}

static void on_metrics(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd)
{
    if (cmd != EVHTTP_REQ_GET) {
        method_not_allowed(req, "GET");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    h->hooks.metrics(h->hooks.arg, b);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

/* ---- /api/v1/session ------------------------------------------------------------------------ */

static void set_cookie(struct evhttp_request *req, const char *value, bool clear, bool tls)
{
    char c[256];
    /* HttpOnly: scripts cannot read it; SameSite=Strict: another site's page
     * cannot make the browser send it; Secure over HTTPS: never sent in
     * clear (plain HTTP is for the centre's own machine, on loopback). */
    snprintf(c, sizeof c, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", SESSION_COOKIE, value,
             tls ? "; Secure" : "", clear ? "; Max-Age=0" : "");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", c);
}

static void on_session(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                       bool tls)
{
    if (cmd == EVHTTP_REQ_POST) {
        static const char *const keys[] = {"name", "password", NULL};
        json_t *o = json_object_body(req, keys);
        if (!o)
            return;
        const char *name, *password;
        if (opt_string(req, o, "name", &name) < 0 || opt_string(req, o, "password", &password) < 0) {
            json_decref(o);
            return;
        }
        if (!name || !password) {
            json_decref(o);
            reply_error(req, 400, "Bad Request", "invalid", "name and password are needed");
            return;
        }
        char peer[64];
        peer_of(req, peer, sizeof peer);
        struct vg_identity who;
        int64_t retry = 0;
        int rc = vg_auth_login(h->auth, peer, name, password, now_ms(), &who, &retry);
        json_decref(o);
        switch (rc) {
        case VG_AUTH_OK:
            set_cookie(req, who.session, false, tls);
            reply_value(req, 200, "OK", identity_json(&who));
            return;
        case VG_AUTH_LOCKED:
            reply_retry(req, "locked", "this account is locked after repeated failures", retry);
            return;
        case VG_AUTH_LIMITED:
            reply_retry(req, "rate_limited", "too many attempts from this address", retry);
            return;
        case VG_AUTH_DENIED:
            reply_error(req, 401, "Unauthorized", "unauthorized", "wrong name or password");
            return;
        default:
            reply_error(req, 503, "Service Unavailable", "unavailable", "cannot log in now");
            return;
        }
    }
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_DELETE) {
        method_not_allowed(req, "GET, POST, DELETE");
        return;
    }
    struct vg_identity who;
    if (!identify(h, req, &who))
        return;
    if (cmd == EVHTTP_REQ_GET) {
        reply_value(req, 200, "OK", identity_json(&who));
        return;
    }
    if (!csrf_ok(req, &who))
        return;
    if (who.by_session) {
        vg_auth_logout(h->auth, who.session);
        set_cookie(req, "", true, tls);
    }
    evhttp_send_reply(req, 204, "No Content", NULL);
}

/* ---- /api/v1/users ------------------------------------------------------------------------- */

static int user_json(void *arg, const struct vg_auth_user_info *u)
{
    json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:b,s:b,s:b}", "name", u->name, "role",
                                         u->role, "court", u->court, "disabled", u->disabled,
                                         "has_password", u->has_password, "locked", u->locked));
    return 0;
}

static void on_users(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                     const struct vg_identity *who)
{
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_POST) {
        method_not_allowed(req, "GET, POST");
        return;
    }
    if (!permitted(req, who, VG_PERM_USER_ADMIN))
        return;
    if (cmd == EVHTTP_REQ_GET) {
        if (vg_auth_journal(h->auth, who->name, "user.list", "*", "{}") != 0) {
            reply_error(req, 503, "Service Unavailable", "unavailable",
                        "the read cannot be journaled");
            return;
        }
        json_t *list = json_array();
        vg_auth_users(h->auth, now_ms(), user_json, list);
        reply_value(req, 200, "OK", list);
        return;
    }
    if (!csrf_ok(req, who))
        return;
    static const char *const keys[] = {"name", "role", "court", "password", "disabled", NULL};
    json_t *o = json_object_body(req, keys);
    if (!o)
        return;
    struct vg_auth_user_change c = {.create = true};
    if (opt_string(req, o, "name", &c.name) < 0 || opt_string(req, o, "role", &c.role) < 0 ||
        opt_string(req, o, "court", &c.court) < 0 ||
        opt_string(req, o, "password", &c.password) < 0 ||
        opt_bool(req, o, "disabled", &c.disabled) < 0) {
        json_decref(o);
        return;
    }
    if (!c.name || !c.role) {
        json_decref(o);
        reply_error(req, 400, "Bad Request", "invalid", "name and role are needed");
        return;
    }
    char err[256] = "";
    int rc = vg_auth_user_change(h->auth, who->name, &c, now_ms(), err, sizeof err);
    json_t *reply = rc == VG_OK ? json_pack("{s:s}", "name", c.name) : NULL;
    json_decref(o);
    if (rc != VG_OK)
        reply_vg_error(req, rc, err);
    else
        reply_value(req, 201, "Created", reply);
}

static void on_user(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                    const struct vg_identity *who, const char *name)
{
    if (cmd != EVHTTP_REQ_PATCH) {
        method_not_allowed(req, "PATCH");
        return;
    }
    if (!csrf_ok(req, who))
        return;
    static const char *const keys[] = {"role",     "court", "password", "current_password",
                                       "disabled", NULL};
    json_t *o = json_object_body(req, keys);
    if (!o)
        return;
    struct vg_auth_user_change c = {.name = name};
    const char *current = NULL;
    if (opt_string(req, o, "role", &c.role) < 0 || opt_string(req, o, "court", &c.court) < 0 ||
        opt_string(req, o, "password", &c.password) < 0 ||
        opt_string(req, o, "current_password", &current) < 0 ||
        opt_bool(req, o, "disabled", &c.disabled) < 0) {
        json_decref(o);
        return;
    }
    bool admin = vg_role_may(who->role, VG_PERM_USER_ADMIN);
    bool own_password = !admin && who->by_session && strcmp(who->name, name) == 0 &&
                        c.password && !c.role && !c.court && c.disabled < 0;
    if (!admin && !own_password) {
        json_decref(o);
        reply_error(req, 403, "Forbidden", "forbidden",
                    "only an administrator changes accounts; a user changes his own password "
                    "(password and current_password)");
        return;
    }
    if (own_password) {
        char peer[64];
        peer_of(req, peer, sizeof peer);
        int64_t retry = 0;
        int rc = current ? vg_auth_check_password(h->auth, peer, name, current, now_ms(), &retry)
                         : VG_AUTH_DENIED;
        if (rc == VG_AUTH_LOCKED || rc == VG_AUTH_LIMITED) {
            json_decref(o);
            reply_retry(req, rc == VG_AUTH_LOCKED ? "locked" : "rate_limited",
                        "too many failed attempts", retry);
            return;
        }
        if (rc != VG_AUTH_OK) {
            json_decref(o);
            reply_error(req, 403, "Forbidden", "forbidden", "current_password is wrong");
            return;
        }
    }
    if (!c.role && !c.court && !c.password && c.disabled < 0) {
        json_decref(o);
        reply_error(req, 400, "Bad Request", "invalid", "nothing to change");
        return;
    }
    char err[256] = "";
    int rc = vg_auth_user_change(h->auth, who->name, &c, now_ms(), err, sizeof err);
    json_decref(o);
    if (rc != VG_OK) {
        reply_vg_error(req, rc, err);
        return;
    }
    reply_value(req, 200, "OK", json_pack("{s:s}", "name", name));
}

/* ---- /api/v1/measures ---------------------------------------------------------------------- */

static void on_measures(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                        const struct vg_identity *who)
{
    if (cmd == EVHTTP_REQ_GET) {
        if (!permitted(req, who, VG_PERM_MEASURE_READ))
            return;
        struct evbuffer *b = evbuffer_new();
        char err[512] = "";
        if (!b || h->hooks.list_measures(h->hooks.arg, who, b, err, sizeof err) != 0)
            reply_error(req, 503, "Service Unavailable", "unavailable",
                        err[0] ? err : "out of memory");
        else
            reply_json(req, 200, "OK", b);
        if (b)
            evbuffer_free(b);
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        method_not_allowed(req, "GET, POST");
        return;
    }
    if (!permitted(req, who, VG_PERM_MEASURE_CREATE) || !csrf_ok(req, who))
        return;
    char *body = json_body(req);
    if (!body)
        return;
    char err[512] = "";
    int64_t id = 0;
    int rc = h->hooks.create_measure(h->hooks.arg, who, body, &id, err, sizeof err);
    free(body);
    if (rc == VG_ENOTFOUND) /* a unit or time zone the definition names */
        rc = VG_EINVAL;
    if (rc != VG_OK) {
        reply_vg_error(req, rc, err);
        return;
    }
    reply_value(req, 201, "Created", json_pack("{s:I}", "id", (json_int_t)id));
}

/* ---- /api/v1/persons ------------------------------------------------------------------------ */

/* A new person's id: random, positive, below 2^53 (exact in every JSON
 * reader, browsers included); 0 if no randomness. */
static int64_t new_person_id(void)
{
    uint8_t raw[8];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | raw[i];
    v &= (1ull << 53) - 1;
    return v == 0 ? 1 : (int64_t)v;
}

static int64_t today_days(void)
{
    return now_ms() / 86400000;
}

struct person_list {
    struct vg_http *h;
    const struct vg_identity *who;
    json_t *out;
};

/* A person's file a court-scoped reader may not see is not shown, nor its
 * existence told. */
static bool person_visible(struct vg_http *h, const struct vg_identity *who, int64_t id)
{
    return !vg_role_court_scoped(who->role) ||
           (h->hooks.person_visible && h->hooks.person_visible(h->hooks.arg, who, id));
}

static int person_list_one(void *arg, const struct vg_store_person_row *p)
{
    struct person_list *l = arg;
    if (!person_visible(l->h, l->who, p->id))
        return 0;
    json_array_append_new(l->out, json_pack("{s:I,s:I,s:s,s:I}", "id", (json_int_t)p->id, "version",
                                         (json_int_t)p->version, "display", p->display,
                                         "updated_ms", (json_int_t)p->created_ms));
    return 0;
}

struct person_read {
    json_t *out; /* an array (versions) or the one object */
    bool many;
};

static int person_one(void *arg, const struct vg_store_person_row *p)
{
    struct person_read *r = arg;
    json_t *data = json_loads(p->data, 0, NULL);
    json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:I,s:o}", "id", (json_int_t)p->id, "version",
                          (json_int_t)p->version, "display", p->display, "actor", p->actor,
                          "created_ms", (json_int_t)p->created_ms, "person",
                          data ? data : json_null());
    if (r->many)
        json_array_append_new(r->out, o);
    else
        r->out = o;
    return 0;
}

/* The top-level sections that differ between two versions, for the journal
 * (what changed, not the values). */
static json_t *changed_sections(const char *old_text, json_t *new_doc)
{
    json_t *old = json_loads(old_text, 0, NULL), *out = json_array();
    static const char *const sections[] = {"identity",  "phones",       "addresses", "emergency_contacts",
                                           "household", "police_notes", NULL};
    for (const char *const *k = sections; *k; k++) {
        json_t *a = json_object_get(old, *k), *b = json_object_get(new_doc, *k);
        if ((a || b) && !(a && b && json_equal(a, b)))
            json_array_append_new(out, json_string(*k));
    }
    json_decref(old);
    return out;
}

static void on_persons(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                       const struct vg_identity *who)
{
    if (cmd == EVHTTP_REQ_GET) {
        if (!permitted(req, who, VG_PERM_PERSON_READ))
            return;
        json_t *list = json_array();
        struct person_list l = {h, who, list};
        int rc = vg_store_persons(h->store, person_list_one, &l);
        char detail[64];
        snprintf(detail, sizeof detail, "{\"count\":%zu}", json_array_size(list));
        if (rc != VG_OK || vg_auth_journal(h->auth, who->name, "person.list", "*", detail) != 0) {
            json_decref(list);
            reply_error(req, 503, "Service Unavailable", "unavailable",
                        "the persons cannot be read or the read journaled");
            return;
        }
        reply_value(req, 200, "OK", list);
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        method_not_allowed(req, "GET, POST");
        return;
    }
    if (!permitted(req, who, VG_PERM_PERSON_WRITE) || !csrf_ok(req, who))
        return;
    char *body = json_body(req);
    if (!body)
        return;
    char *canonical = NULL, display[256], err[300];
    int rc = vg_person_json_check(body, today_days(), &canonical, display, sizeof display, err,
                                  sizeof err);
    free(body);
    if (rc != VG_OK) {
        reply_error(req, 400, "Bad Request", "invalid", err);
        return;
    }
    struct vg_store_person_def def = {.create = true, .display = display, .data = canonical,
                                      .actor = who->name};
    char subject[48];
    struct vg_store_journal_entry je = {.actor = who->name, .action = "person.create",
                                        .subject = subject, .detail = "{\"version\":1}"};
    struct vg_store_batch b = {.person_defs = &def, .n_person_defs = 1, .journal = &je,
                               .n_journal = 1};
    for (int attempt = 0; attempt < 3; attempt++) { /* a random id taken: another one */
        def.id = new_person_id();
        snprintf(subject, sizeof subject, "person/%lld", (long long)def.id);
        rc = def.id ? vg_store_run(h->store, &b, err, sizeof err) : VG_ESTATE;
        if (rc != VG_EDUPLICATE)
            break;
    }
    free(canonical);
    if (rc != VG_OK) {
        reply_error(req, 503, "Service Unavailable", "unavailable", err);
        return;
    }
    reply_value(req, 201, "Created",
                json_pack("{s:I,s:I}", "id", (json_int_t)def.id, "version", (json_int_t)1));
}

static void on_person(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                      const struct vg_identity *who, int64_t id, bool versions)
{
    char subject[48];
    snprintf(subject, sizeof subject, "person/%lld", (long long)id);
    if (cmd == EVHTTP_REQ_GET) {
        if (!permitted(req, who, VG_PERM_PERSON_READ))
            return;
        if (!person_visible(h, who, id)) {
            reply_error(req, 404, "Not Found", "not_found", "no such person or version");
            return;
        }
        int64_t version = 0;
        const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
        if (q && !versions) {
            char *end = NULL;
            if (strncmp(q, "version=", 8) != 0 || (version = strtoll(q + 8, &end, 10)) <= 0 ||
                *end) {
                reply_error(req, 400, "Bad Request", "invalid", "?version=N, N from 1");
                return;
            }
        }
        struct person_read r = {.out = versions ? json_array() : NULL, .many = versions};
        int rc = vg_store_person(h->store, id, version, versions, person_one, &r);
        if (rc == VG_ENOTFOUND) {
            json_decref(r.out);
            reply_error(req, 404, "Not Found", "not_found", "no such person or version");
            return;
        }
        char detail[64];
        if (versions)
            snprintf(detail, sizeof detail, "{\"versions\":\"all\"}");
        else
            snprintf(detail, sizeof detail, "{\"version\":%lld}",
                     (long long)json_integer_value(json_object_get(r.out, "version")));
        if (rc != VG_OK || vg_auth_journal(h->auth, who->name, "person.read", subject, detail)) {
            json_decref(r.out);
            reply_error(req, 503, "Service Unavailable", "unavailable",
                        "the person cannot be read or the read journaled");
            return;
        }
        reply_value(req, 200, "OK", r.out);
        return;
    }
    if (versions || cmd != EVHTTP_REQ_PUT) {
        method_not_allowed(req, versions ? "GET" : "GET, PUT");
        return;
    }
    if (!permitted(req, who, VG_PERM_PERSON_WRITE) || !csrf_ok(req, who))
        return;
    static const char *const keys[] = {"based_on", "person", NULL};
    json_t *o = json_object_body(req, keys);
    if (!o)
        return;
    json_t *based = json_object_get(o, "based_on"), *person = json_object_get(o, "person");
    if (!json_is_integer(based) || json_integer_value(based) < 1 || !json_is_object(person)) {
        json_decref(o);
        reply_error(req, 400, "Bad Request", "invalid",
                    "{\"based_on\": the version read, \"person\": the whole new file}");
        return;
    }
    char *text = json_dumps(person, JSON_COMPACT);
    char *canonical = NULL, display[256], err[300];
    int rc = text ? vg_person_json_check(text, today_days(), &canonical, display, sizeof display,
                                         err, sizeof err)
                  : VG_ENOSPC;
    free(text);
    if (rc != VG_OK) {
        json_decref(o);
        reply_error(req, 400, "Bad Request", "invalid", err);
        return;
    }
    /* what changed, against the version it was made from */
    struct person_read before = {0};
    rc = vg_store_person(h->store, id, json_integer_value(based), false, person_one, &before);
    if (rc != VG_OK) {
        json_decref(o);
        free(canonical);
        json_decref(before.out);
        if (rc == VG_ENOTFOUND)
            reply_error(req, 404, "Not Found", "not_found", "no such person or version");
        else
            reply_error(req, 503, "Service Unavailable", "unavailable", "cannot read the person");
        return;
    }
    char *old_text = json_dumps(json_object_get(before.out, "person"), JSON_COMPACT);
    json_t *sections = changed_sections(old_text ? old_text : "{}", person);
    free(old_text);
    json_decref(before.out);
    json_t *dj = json_pack("{s:I,s:o}", "version", (json_int_t)json_integer_value(based) + 1,
                           "sections", sections);
    char *detail = dj ? json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(dj);
    struct vg_store_person_def def = {.id = id, .based_on = json_integer_value(based),
                                      .display = display, .data = canonical,
                                      .actor = who->name};
    struct vg_store_journal_entry je = {.actor = who->name, .action = "person.update",
                                        .subject = subject, .detail = detail ? detail : "{}"};
    struct vg_store_batch b = {.person_defs = &def, .n_person_defs = 1, .journal = &je,
                               .n_journal = 1};
    rc = vg_store_run(h->store, &b, err, sizeof err);
    free(detail);
    free(canonical);
    json_decref(o);
    if (rc == VG_ESTALE)
        reply_error(req, 409, "Conflict", "conflict", err);
    else if (rc == VG_ENOTFOUND)
        reply_error(req, 404, "Not Found", "not_found", err);
    else if (rc != VG_OK)
        reply_error(req, 503, "Service Unavailable", "unavailable", err);
    else
        reply_value(req, 200, "OK",
                    json_pack("{s:I,s:I}", "id", (json_int_t)id, "version", (json_int_t)def.version));
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
        reply_error(req, 400, "Bad Request", "invalid", "no path");
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
    if (strcmp(path, "/api/v1/session") == 0) {
        on_session(h, req, cmd, door->tls);
        return;
    }
    static const char persons_prefix[] = "/api/v1/persons/";
    if (strcmp(path, "/api/v1/persons") == 0 ||
        strncmp(path, persons_prefix, sizeof persons_prefix - 1) == 0) {
        struct vg_identity who;
        if (!identify(h, req, &who))
            return;
        if (path[sizeof persons_prefix - 2] != '/') {
            on_persons(h, req, cmd, &who);
            return;
        }
        const char *rest = path + sizeof persons_prefix - 1;
        char *end = NULL;
        long long id = strtoll(rest, &end, 10);
        bool versions = end && strcmp(end, "/versions") == 0;
        if (rest[0] < '1' || rest[0] > '9' || id <= 0 || (end && *end && !versions))
            reply_error(req, 404, "Not Found", "not_found", "no such person");
        else
            on_person(h, req, cmd, &who, id, versions);
        return;
    }
    static const char users_prefix[] = "/api/v1/users/";
    bool users = strcmp(path, "/api/v1/users") == 0;
    bool user = strncmp(path, users_prefix, sizeof users_prefix - 1) == 0;
    bool measures = strcmp(path, "/api/v1/measures") == 0;
    if (!users && !user && !measures) {
        reply_error(req, 404, "Not Found", "not_found", "no such resource");
        return;
    }
    struct vg_identity who;
    if (!identify(h, req, &who))
        return;
    if (measures) {
        on_measures(h, req, cmd, &who);
    } else if (users) {
        on_users(h, req, cmd, &who);
    } else {
        char *name = evhttp_uridecode(path + sizeof users_prefix - 1, 0, NULL);
        if (!name || !name[0] || strchr(name, '/'))
            reply_error(req, 404, "Not Found", "not_found", "no such resource");
        else
            on_user(h, req, cmd, &who, name);
        free(name);
    }
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
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
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
        d->port = ntohs(bound.ss_family == AF_INET6
                            ? ((struct sockaddr_in6 *)(void *)&bound)->sin6_port
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
        if (!h->base) {
            snprintf(err, err_len, "cannot create the HTTP event loop");
            rc = VG_ENOSPC;
        }
    }
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
    event_base_loopbreak(h->base);
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
    if (h->base)
        event_base_free(h->base);
    SSL_CTX_free(h->ssl);
    vg_auth_free(h->auth);
    free(h);
}
