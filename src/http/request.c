/* What the HTTP handlers share: replies in JSON, strict reading of
 * requests, the permission and CSRF checks (http_internal.h). */
#include <time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "core/err.h"
#include "http/http_internal.h"

int64_t vg__http_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- replies ---------------------------------------------------------------------------- */

void vg__http_reply_json(struct evhttp_request *req, int status, const char *reason,
                       struct evbuffer *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_send_reply(req, status, reason, body);
}

void vg__http_reply_value(struct evhttp_request *req, int status, const char *reason, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    struct evbuffer *b = evbuffer_new();
    if (b && text)
        evbuffer_add_printf(b, "%s\n", text);
    vg__http_reply_json(req, status, reason, b);
    if (b)
        evbuffer_free(b);
    free(text);
}

void vg__http_reply_error(struct evhttp_request *req, int status, const char *reason,
                        const char *code, const char *message)
{
    vg__http_reply_value(req, status, reason,
                json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message));
}

void vg__http_reply_retry(struct evhttp_request *req, const char *code, const char *message,
                        int64_t retry_ms)
{
    char secs[32];
    snprintf(secs, sizeof secs, "%lld", (long long)((retry_ms + 999) / 1000));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", secs);
    vg__http_reply_error(req, 429, "Too Many Requests", code, message);
}

void vg__http_reply_vg_error(struct evhttp_request *req, int rc, const char *err)
{
    if (rc == VG_EDUPLICATE)
        vg__http_reply_error(req, 409, "Conflict", "conflict", err);
    else if (rc == VG_ENOTFOUND)
        vg__http_reply_error(req, 404, "Not Found", "not_found", err);
    else if (rc == VG_EINVAL || rc == VG_ERANGE || rc == VG_EFORMAT)
        vg__http_reply_error(req, 400, "Bad Request", "invalid", err);
    else
        vg__http_reply_error(req, 503, "Service Unavailable", "unavailable", err);
}

/* ---- requests ------------------------------------------------------------------------------ */

/* The body as a NUL-terminated string, if it is JSON; NULL after replying. */
char *vg__http_json_body(struct evhttp_request *req)
{
    const char *ctype = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    if (!ctype || strncmp(ctype, "application/json", 16) != 0) {
        vg__http_reply_error(req, 415, "Unsupported Media Type", "media_type", "send application/json");
        return NULL;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    char *body = malloc(len + 1);
    if (!body) {
        vg__http_reply_error(req, 503, "Service Unavailable", "unavailable", "out of memory");
        return NULL;
    }
    evbuffer_copyout(in, body, len);
    body[len] = '\0';
    if (strlen(body) != len) {
        free(body);
        vg__http_reply_error(req, 400, "Bad Request", "invalid", "the body has a NUL byte");
        return NULL;
    }
    return body;
}

/* A JSON object with only the allowed keys (NULL-terminated); NULL after
 * replying 400. */
json_t *vg__http_json_object_body(struct evhttp_request *req, const char *const *allowed)
{
    char *body = vg__http_json_body(req);
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
        vg__http_reply_error(req, 400, "Bad Request", "invalid", msg);
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
            vg__http_reply_error(req, 400, "Bad Request", "invalid", msg);
            return NULL;
        }
    }
    return root;
}

/* An optional string member: 0 (absent: *out NULL), 1 (a string), -1
 * after replying 400 (another type). */
int vg__http_opt_string(struct evhttp_request *req, json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_string(v)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: a string", key);
        vg__http_reply_error(req, 400, "Bad Request", "invalid", msg);
        return -1;
    }
    *out = json_string_value(v);
    if (strlen(*out) != json_string_length(v)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: no NUL character", key);
        vg__http_reply_error(req, 400, "Bad Request", "invalid", msg);
        return -1;
    }
    return 1;
}

int vg__http_opt_bool(struct evhttp_request *req, json_t *o, const char *key, int *out)
{
    json_t *v = json_object_get(o, key);
    *out = -1;
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: true or false", key);
        vg__http_reply_error(req, 400, "Bad Request", "invalid", msg);
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

const char *vg__http_header(struct evhttp_request *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

void vg__http_peer_of(struct evhttp_request *req, char *out, size_t cap)
{
    char *addr = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    if (conn)
        evhttp_connection_get_peer(conn, &addr, &port);
    snprintf(out, cap, "%s", addr ? addr : "?");
}

/* A state-changing call made with the session cookie must carry the
 * session's CSRF token: 1, or 0 after replying 403. */
int vg__http_csrf_ok(struct evhttp_request *req, const struct vg_identity *who)
{
    if (vg_auth_csrf_ok(who, vg__http_header(req, "X-CSRF-Token")))
        return 1;
    vg__http_reply_error(req, 403, "Forbidden", "csrf",
                "X-CSRF-Token is missing or wrong (the token given at login)");
    return 0;
}

int vg__http_permitted(struct evhttp_request *req, const struct vg_identity *who,
                     enum vg_permission p)
{
    if (vg_role_may(who->role, p))
        return 1;
    char msg[160];
    snprintf(msg, sizeof msg, "a %s may not do this", vg_role_name(who->role));
    vg__http_reply_error(req, 403, "Forbidden", "forbidden", msg);
    return 0;
}

void vg__http_method_not_allowed(struct evhttp_request *req, const char *allowed)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allowed);
    char msg[96];
    snprintf(msg, sizeof msg, "use %s", allowed);
    vg__http_reply_error(req, 405, "Method Not Allowed", "method", msg);
}

/* The session cookie's value, copied into out ("" if none). */
static void session_cookie(struct evhttp_request *req, char *out, size_t cap)
{
    out[0] = '\0';
    const char *c = vg__http_header(req, "Cookie");
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

/* Who asks: 1 and *who, or 0 after replying 401. */
int vg__http_identify(struct vg_http *h, struct evhttp_request *req, struct vg_identity *who)
{
    const char *auth = vg__http_header(req, "Authorization");
    const char *bearer = NULL;
    if (auth) {
        if (strncmp(auth, "Bearer ", 7) != 0) {
            vg__http_reply_error(req, 401, "Unauthorized", "unauthorized",
                        "Authorization: Bearer <token>, or log in (POST /api/v1/session)");
            return 0;
        }
        bearer = auth + 7;
    }
    char cookie[128];
    session_cookie(req, cookie, sizeof cookie);
    if (vg_auth_identify(h->auth, bearer, cookie[0] ? cookie : NULL, vg__http_now_ms(), who) !=
        VG_AUTH_OK) {
        vg__http_reply_error(req, 401, "Unauthorized", "unauthorized",
                    bearer ? "this token is not the administrator token"
                           : "log in first (POST /api/v1/session), or give the administrator "
                             "token");
        return 0;
    }
    return 1;
}

