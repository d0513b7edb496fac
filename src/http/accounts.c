/* Accounts and sessions over HTTP: logging in and out, who am I, the
 * users' accounts (http/auth.h does the work; docs/API.md the contract). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "core/err.h"
#include "http/http_internal.h"

static json_t *identity_json(const struct vg_identity *who)
{
    json_t *o = json_pack("{s:s,s:s,s:s}", "name", who->name, "role", vg_role_name(who->role),
                          "court", who->court);
    if (o && who->by_session)
        json_object_set_new(o, "csrf_token", json_string(who->csrf));
    return o;
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

void vg__http_on_session(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                       bool tls)
{
    if (cmd == EVHTTP_REQ_POST) {
        static const char *const keys[] = {"name", "password", NULL};
        json_t *o = vg__http_json_object_body(req, keys);
        if (!o)
            return;
        const char *name, *password;
        if (vg__http_opt_string(req, o, "name", &name) < 0 || vg__http_opt_string(req, o, "password", &password) < 0) {
            json_decref(o);
            return;
        }
        if (!name || !password) {
            json_decref(o);
            vg__http_reply_error(req, 400, "Bad Request", "invalid", "name and password are needed");
            return;
        }
        char peer[64];
        vg__http_peer_of(req, peer, sizeof peer);
        struct vg_identity who;
        int64_t retry = 0;
        int rc = vg_auth_login(h->auth, peer, name, password, vg__http_now_ms(), &who, &retry);
        json_decref(o);
        switch (rc) {
        case VG_AUTH_OK:
            set_cookie(req, who.session, false, tls);
            vg__http_reply_value(req, 200, "OK", identity_json(&who));
            return;
        case VG_AUTH_LOCKED:
            vg__http_reply_retry(req, "locked", "this account is locked after repeated failures", retry);
            return;
        case VG_AUTH_LIMITED:
            vg__http_reply_retry(req, "rate_limited", "too many attempts from this address", retry);
            return;
        case VG_AUTH_DENIED:
            vg__http_reply_error(req, 401, "Unauthorized", "unauthorized", "wrong name or password");
            return;
        default:
            vg__http_reply_error(req, 503, "Service Unavailable", "unavailable", "cannot log in now");
            return;
        }
    }
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_DELETE) {
        vg__http_method_not_allowed(req, "GET, POST, DELETE");
        return;
    }
    struct vg_identity who;
    if (!vg__http_identify(h, req, &who))
        return;
    if (cmd == EVHTTP_REQ_GET) {
        vg__http_reply_value(req, 200, "OK", identity_json(&who));
        return;
    }
    if (!vg__http_csrf_ok(req, &who))
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

void vg__http_on_users(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                     const struct vg_identity *who)
{
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_POST) {
        vg__http_method_not_allowed(req, "GET, POST");
        return;
    }
    if (!vg__http_permitted(req, who, VG_PERM_USER_ADMIN))
        return;
    if (cmd == EVHTTP_REQ_GET) {
        if (vg_auth_journal(h->auth, who->name, "user.list", "*", "{}") != 0) {
            vg__http_reply_error(req, 503, "Service Unavailable", "unavailable",
                        "the read cannot be journaled");
            return;
        }
        json_t *list = json_array();
        vg_auth_users(h->auth, vg__http_now_ms(), user_json, list);
        vg__http_reply_value(req, 200, "OK", list);
        return;
    }
    if (!vg__http_csrf_ok(req, who))
        return;
    static const char *const keys[] = {"name", "role", "court", "password", "disabled", NULL};
    json_t *o = vg__http_json_object_body(req, keys);
    if (!o)
        return;
    struct vg_auth_user_change c = {.create = true};
    if (vg__http_opt_string(req, o, "name", &c.name) < 0 || vg__http_opt_string(req, o, "role", &c.role) < 0 ||
        vg__http_opt_string(req, o, "court", &c.court) < 0 ||
        vg__http_opt_string(req, o, "password", &c.password) < 0 ||
        vg__http_opt_bool(req, o, "disabled", &c.disabled) < 0) {
        json_decref(o);
        return;
    }
    if (!c.name || !c.role) {
        json_decref(o);
        vg__http_reply_error(req, 400, "Bad Request", "invalid", "name and role are needed");
        return;
    }
    char err[256] = "";
    int rc = vg_auth_user_change(h->auth, who->name, &c, vg__http_now_ms(), err, sizeof err);
    json_t *reply = rc == VG_OK ? json_pack("{s:s}", "name", c.name) : NULL;
    json_decref(o);
    if (rc != VG_OK)
        vg__http_reply_vg_error(req, rc, err);
    else
        vg__http_reply_value(req, 201, "Created", reply);
}

void vg__http_on_user(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                    const struct vg_identity *who, const char *name)
{
    if (cmd != EVHTTP_REQ_PATCH) {
        vg__http_method_not_allowed(req, "PATCH");
        return;
    }
    if (!vg__http_csrf_ok(req, who))
        return;
    static const char *const keys[] = {"role",     "court", "password", "current_password",
                                       "disabled", NULL};
    json_t *o = vg__http_json_object_body(req, keys);
    if (!o)
        return;
    struct vg_auth_user_change c = {.name = name};
    const char *current = NULL;
    if (vg__http_opt_string(req, o, "role", &c.role) < 0 || vg__http_opt_string(req, o, "court", &c.court) < 0 ||
        vg__http_opt_string(req, o, "password", &c.password) < 0 ||
        vg__http_opt_string(req, o, "current_password", &current) < 0 ||
        vg__http_opt_bool(req, o, "disabled", &c.disabled) < 0) {
        json_decref(o);
        return;
    }
    bool admin = vg_role_may(who->role, VG_PERM_USER_ADMIN);
    bool own_password = !admin && who->by_session && strcmp(who->name, name) == 0 &&
                        c.password && !c.role && !c.court && c.disabled < 0;
    if (!admin && !own_password) {
        json_decref(o);
        vg__http_reply_error(req, 403, "Forbidden", "forbidden",
                    "only an administrator changes accounts; a user changes his own password "
                    "(password and current_password)");
        return;
    }
    if (own_password) {
        char peer[64];
        vg__http_peer_of(req, peer, sizeof peer);
        int64_t retry = 0;
        int rc = current ? vg_auth_check_password(h->auth, peer, name, current, vg__http_now_ms(), &retry)
                         : VG_AUTH_DENIED;
        if (rc == VG_AUTH_LOCKED || rc == VG_AUTH_LIMITED) {
            json_decref(o);
            vg__http_reply_retry(req, rc == VG_AUTH_LOCKED ? "locked" : "rate_limited",
                        "too many failed attempts", retry);
            return;
        }
        if (rc != VG_AUTH_OK) {
            json_decref(o);
            vg__http_reply_error(req, 403, "Forbidden", "forbidden", "current_password is wrong");
            return;
        }
    }
    if (!c.role && !c.court && !c.password && c.disabled < 0) {
        json_decref(o);
        vg__http_reply_error(req, 400, "Bad Request", "invalid", "nothing to change");
        return;
    }
    char err[256] = "";
    int rc = vg_auth_user_change(h->auth, who->name, &c, vg__http_now_ms(), err, sizeof err);
    json_decref(o);
    if (rc != VG_OK) {
        vg__http_reply_vg_error(req, rc, err);
        return;
    }
    vg__http_reply_value(req, 200, "OK", json_pack("{s:s}", "name", name));
}

