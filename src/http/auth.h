/* Who is asking: users' accounts, their sessions, and the guards around
 * logging in (docs/API.md, "Accounts and sessions").
 *
 * - Accounts live in the store (users table); this module keeps a copy and
 *   writes every change through the store, journaled in the same
 *   transaction (util/journal.h).
 * - Passwords: Argon2id (util/password.h). A fresh data directory gets one
 *   administrator, "admin", without a password: it is set on first use
 *   with the administrator token (`vigie user passwd admin`), never a
 *   default one.
 * - Sessions: a random 256-bit token in a cookie (HttpOnly, SameSite=Strict,
 *   Secure over TLS), kept here only as its SHA-256; a CSRF token per
 *   session that every state-changing call made with the cookie must echo
 *   in X-CSRF-Token. They end after 30 minutes idle or 12 hours, on logout,
 *   and when the account is disabled or its password changed. In memory: a
 *   restart of vigied logs everyone out.
 * - Guessing: 5 failures in a row lock an account for 5 minutes, doubling
 *   with each lock up to a day (core/lockout.h); a client address gets 10
 *   attempts at once, then one every 6 seconds. Both in memory.
 * - The administrator token (DATA_DIR/admin.token, for tools and scripts
 *   on the centre's machines) is an identity of its own: "admin-token",
 *   role administrator.
 *
 * Not thread-safe: the HTTP thread alone uses it (it blocks on password
 * hashing and on the store, never the centre's loop). */
#ifndef VG_HTTP_AUTH_H
#define VG_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/roles.h"
#include "store/store.h"
#include "util/password.h"

#define VG_AUTH_NAME_MAX   64
#define VG_AUTH_TOKEN_LEN  64 /* hex characters of a session or CSRF token */
#define VG_AUTH_TOKEN_NAME "admin-token"

struct vg_auth;

struct vg_identity {
    char name[VG_AUTH_NAME_MAX + 1];
    unsigned role; /* enum vg_user_role */
    char court[VG_AUTH_NAME_MAX + 1];
    bool by_session;                    /* a cookie (then CSRF applies), not the token */
    char csrf[VG_AUTH_TOKEN_LEN + 1];   /* the session's, when by_session */
    char session[VG_AUTH_TOKEN_LEN + 1]; /* the session's token, when by_session */
};

enum vg_auth_result {
    VG_AUTH_OK = 0,
    VG_AUTH_DENIED = 1,  /* wrong name or password, no password set, disabled */
    VG_AUTH_LOCKED = 2,  /* the account is locked: retry_ms */
    VG_AUTH_LIMITED = 3, /* too many attempts from this address: retry_ms */
    VG_AUTH_ERROR = 4,   /* the store or the hashing failed */
};

struct vg_auth_options {
    struct vg_password_cost cost;
    int64_t session_idle_ms;     /* 30 min */
    int64_t session_max_ms;      /* 12 h */
    double login_burst;          /* 10 attempts at once from one address... */
    int64_t login_every_ms;      /* ...then one every 6 s */
};

void vg_auth_options_default(struct vg_auth_options *o);

/* Loads the accounts (creating "admin" in an empty store). The store is
 * borrowed; token is the administrator token (copied). */
int vg_auth_new(struct vg_store *store, const char *token, const struct vg_auth_options *o,
                struct vg_auth **out, char *err, size_t err_len);
void vg_auth_free(struct vg_auth *a);

/* The accounts and sessions changed behind this process (the other site
 * was active): read again from the store at the next request. Any thread. */
void vg_auth_reload(struct vg_auth *a);

/* From the request's credentials (either may be NULL): VG_AUTH_OK and *who,
 * or VG_AUTH_DENIED. A session seen is kept alive (idle time restarts). */
int vg_auth_identify(struct vg_auth *a, const char *bearer, const char *cookie_token,
                     int64_t now_ms, struct vg_identity *who);

/* Log in from `peer` (the client's address): on VG_AUTH_OK a new session
 * in *who (who->session is the cookie's value). retry_ms is set for
 * LOCKED and LIMITED. Takes a password hash's time. */
int vg_auth_login(struct vg_auth *a, const char *peer, const char *name, const char *password,
                  int64_t now_ms, struct vg_identity *who, int64_t *retry_ms);

/* Ends the session with this token (nothing if there is none). */
void vg_auth_logout(struct vg_auth *a, const char *session_token);

/* Whether `got` is the session's CSRF token (constant time). */
bool vg_auth_csrf_ok(const struct vg_identity *who, const char *got);

/* ---- accounts (the caller has checked VG_PERM_USER_ADMIN, or that a user
 * changes his own password) ---- */

struct vg_auth_user_info {
    const char *name;
    const char *role;
    const char *court;
    bool disabled;
    bool has_password;
    bool locked;
};

int vg_auth_users(struct vg_auth *a, int64_t now_ms,
                  int (*cb)(void *arg, const struct vg_auth_user_info *u), void *arg);

/* A change to an account, or a new one (create). NULL/-1 fields are left
 * as they are (a new account: role required, court "" and no password by
 * default). password is the clear text (checked and hashed here). 0, or a
 * negative vg_err with a message: VG_EINVAL (a bad value), VG_EDUPLICATE,
 * VG_ENOTFOUND, VG_ESTATE (the store). Journaled as user.create or
 * user.update by `actor`, without the password. */
struct vg_auth_user_change {
    const char *name;
    bool create;
    const char *role;
    const char *court;
    const char *password;
    int disabled; /* 0, 1, or -1 */
};

int vg_auth_user_change(struct vg_auth *a, const char *actor, const struct vg_auth_user_change *c,
                        int64_t now_ms, char *err, size_t err_len);

/* Whether `password` is the named user's (a user changing his own password
 * proves he knows it); counts as a login attempt for the lock-out. */
int vg_auth_check_password(struct vg_auth *a, const char *peer, const char *name,
                           const char *password, int64_t now_ms, int64_t *retry_ms);

/* Append a journal entry and wait until durable: 0 or a negative vg_err. */
int vg_auth_journal(struct vg_auth *a, const char *actor, const char *action, const char *subject,
                    const char *detail);

#endif
