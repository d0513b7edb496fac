/* Accounts, sessions and the guards around logging in (auth.h). */
#include "http/auth.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/err.h"
#include "core/lockout.h"
#include "util/log.h"
#include "util/measure_json.h"

#define MAX_PEERS         4096 /* addresses remembered for the rate limit */
#define MAX_USER_SESSIONS 16   /* a user's 17th session ends his oldest */
/* A session's use is written to the database at most this often: the
 * other site, after a take-over, may count it idle this much early. */
#define TOUCH_EVERY_MS 60000

struct user {
    int64_t id;
    char name[VG_AUTH_NAME_MAX + 1];
    unsigned role;
    char court[VG_AUTH_NAME_MAX + 1];
    char hash[VG_PASSWORD_HASH_CAP]; /* "" : none set yet */
    bool disabled;
    struct vg_lockout lock;
};

/* Sessions live in the database (store.h: their token's SHA-256, user,
 * times), so that a console's cookie holds at the other site after a
 * take-over; this is the cache of those this process has seen. The CSRF
 * token is derived from the session's token (csrf_of): nothing secret is
 * stored. */
struct session {
    bool used;
    uint8_t token_hash[32];
    char csrf[VG_AUTH_TOKEN_LEN + 1];
    char user[VG_AUTH_NAME_MAX + 1];
    int64_t created_ms, last_ms;
    int64_t stored_last_ms; /* last_ms as the database has it */
};

struct peer {
    char addr[64];
    struct vg_rate rate;
};

struct vg_auth {
    struct vg_store *store;
    struct vg_auth_options o;
    char token[128];
    struct vg_lockout_policy policy;
    char dummy_hash[VG_PASSWORD_HASH_CAP]; /* verified against when there is no real one */
    struct user *users;
    size_t n_users, cap_users;
    struct session *sessions;
    size_t n_sessions, cap_sessions;
    struct peer *peers; /* MAX_PEERS, replaced round-robin when full */
    size_t n_peers, next_peer;
    _Atomic bool reload; /* vg_auth_reload: the accounts again from the store */
};

void vg_auth_options_default(struct vg_auth_options *o)
{
    vg_password_cost_default(&o->cost);
    o->session_idle_ms = 30 * 60 * 1000;
    o->session_max_ms = 12 * 60 * 60 * 1000;
    o->login_burst = 10;
    o->login_every_ms = 6000;
}

/* ---- the journal ------------------------------------------------------------------------ */

int vg_auth_journal(struct vg_auth *a, const char *actor, const char *action, const char *subject,
                    const char *detail)
{
    struct vg_store_journal_entry e = {
        .actor = actor, .action = action, .subject = subject, .detail = detail};
    struct vg_store_batch b = {.journal = &e, .n_journal = 1};
    char err[256];
    int rc = vg_store_run(a->store, &b, err, sizeof err);
    if (rc != 0)
        vg_log(VG_LOG_ERROR, "cannot journal", "action", action, "reason", err, NULL);
    return rc;
}

/* ---- small helpers --------------------------------------------------------------------------- */

static int random_hex(char out[VG_AUTH_TOKEN_LEN + 1])
{
    uint8_t raw[VG_AUTH_TOKEN_LEN / 2];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return VG_ESTATE;
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof raw; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 15];
    }
    out[VG_AUTH_TOKEN_LEN] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    return VG_OK;
}

static void sha256(const char *text, uint8_t out[32])
{
    unsigned len = 0;
    EVP_Digest(text, strlen(text), out, &len, EVP_sha256(), NULL);
}

/* The session's CSRF token: derived from its token (which the request
 * carries in its cookie), so that neither is stored; another hash than the
 * one stored, so that the database does not give it either. */
static void csrf_of(const char *token, char out[VG_AUTH_TOKEN_LEN + 1])
{
    char text[VG_AUTH_TOKEN_LEN + 8];
    snprintf(text, sizeof text, "csrf:%s", token);
    uint8_t h[32];
    sha256(text, h);
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof h; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    out[VG_AUTH_TOKEN_LEN] = '\0';
    OPENSSL_cleanse(text, sizeof text);
}

/* One change to the stored sessions, in a transaction of its own. */
static int store_session(struct vg_auth *a, uint8_t action, const uint8_t hash[32],
                         const char *user, int64_t created_ms, int64_t last_ms)
{
    struct vg_store_session_op o = {
        .action = action, .user = user, .created_ms = created_ms, .last_ms = last_ms};
    if (hash)
        memcpy(o.token_hash, hash, sizeof o.token_hash);
    struct vg_store_batch b = {.sessions = &o, .n_sessions = 1};
    char err[256];
    int rc = vg_store_run(a->store, &b, err, sizeof err);
    if (rc != VG_OK)
        vg_log(VG_LOG_WARN, "a session's change is not stored", "reason", err, NULL);
    return rc;
}

static struct user *find_user(struct vg_auth *a, const char *name)
{
    for (size_t i = 0; name && i < a->n_users; i++)
        if (strcmp(a->users[i].name, name) == 0)
            return &a->users[i];
    return NULL;
}

static int add_user(struct vg_auth *a, const struct user *u)
{
    if (a->n_users == a->cap_users) {
        size_t cap = a->cap_users ? 2 * a->cap_users : 16;
        struct user *v = realloc(a->users, cap * sizeof *v);
        if (!v)
            return VG_ENOSPC;
        a->users = v;
        a->cap_users = cap;
    }
    a->users[a->n_users++] = *u;
    return VG_OK;
}

/* In the cache only: the database's rows go in the change's transaction. */
static void end_sessions_of(struct vg_auth *a, const char *user)
{
    for (size_t i = 0; i < a->n_sessions; i++)
        if (a->sessions[i].used && strcmp(a->sessions[i].user, user) == 0)
            memset(&a->sessions[i], 0, sizeof a->sessions[i]);
}

static bool session_alive(const struct vg_auth *a, const struct session *s, int64_t now_ms)
{
    return s->used && now_ms - s->last_ms < a->o.session_idle_ms &&
           now_ms - s->created_ms < a->o.session_max_ms;
}

static void fill_identity(const struct user *u, struct vg_identity *who)
{
    memset(who, 0, sizeof *who);
    snprintf(who->name, sizeof who->name, "%s", u->name);
    who->role = u->role;
    snprintf(who->court, sizeof who->court, "%s", u->court);
}

/* ---- loading ----------------------------------------------------------------------------------- */

static int load_user(void *arg, const struct vg_store_user_row *r)
{
    struct vg_auth *a = arg;
    struct user u = {.id = r->id, .role = vg_role_parse(r->role), .disabled = r->disabled};
    snprintf(u.name, sizeof u.name, "%s", r->name);
    snprintf(u.court, sizeof u.court, "%s", r->court);
    snprintf(u.hash, sizeof u.hash, "%s", r->password_hash);
    if (u.role == VG_USER_NONE)
        vg_log(VG_LOG_WARN, "an account has an unknown role: it can do nothing", "user", u.name,
               "role", r->role, NULL);
    return add_user(a, &u);
}

int vg_auth_new(struct vg_store *store, const char *token, const struct vg_auth_options *o,
                struct vg_auth **out, char *err, size_t err_len)
{
    struct vg_auth *a = calloc(1, sizeof *a);
    if (!a || !token || strlen(token) >= sizeof a->token) {
        free(a);
        snprintf(err, err_len, "bad administrator token");
        return VG_EINVAL;
    }
    a->store = store;
    a->o = *o;
    snprintf(a->token, sizeof a->token, "%s", token);
    vg_lockout_policy_default(&a->policy);
    a->peers = calloc(MAX_PEERS, sizeof *a->peers);
    int rc = a->peers ? vg_store_users(store, load_user, a) : VG_ENOSPC;
    if (rc != VG_OK) {
        snprintf(err, err_len, "cannot load the accounts");
        vg_auth_free(a);
        return rc;
    }
    /* logging in to a name that has no password costs the same time as to
     * one that has: the answer's delay does not tell which names exist */
    char dummy[VG_AUTH_TOKEN_LEN + 1];
    if (random_hex(dummy) != VG_OK ||
        vg_password_hash(dummy, strlen(dummy), &a->o.cost, a->dummy_hash) != VG_OK) {
        snprintf(err, err_len, "cannot hash a password (Argon2id)");
        vg_auth_free(a);
        return VG_ESTATE;
    }
    if (a->n_users == 0) {
        struct vg_auth_user_change c = {
            .name = "admin", .create = true, .role = "administrator", .disabled = -1};
        rc = vg_auth_user_change(a, "system", &c, 0, err, err_len);
        if (rc != VG_OK) {
            vg_auth_free(a);
            return rc;
        }
        vg_log(VG_LOG_WARN,
               "account 'admin' (administrator) created without a password: set it with "
               "`vigie user passwd admin` (it uses the administrator token)",
               NULL);
    }
    *out = a;
    return VG_OK;
}

void vg_auth_free(struct vg_auth *a)
{
    if (!a)
        return;
    if (a->users)
        OPENSSL_cleanse(a->users, a->cap_users * sizeof *a->users);
    if (a->sessions)
        OPENSSL_cleanse(a->sessions, a->cap_sessions * sizeof *a->sessions);
    free(a->users);
    free(a->sessions);
    free(a->peers);
    OPENSSL_cleanse(a->token, sizeof a->token);
    free(a);
}

void vg_auth_reload(struct vg_auth *a)
{
    if (a)
        atomic_store(&a->reload, true);
}

/* The accounts from the store again, and the sessions' cache emptied (the
 * database has them), when vg_auth_reload asked for it. */
static int reload_if_asked(struct vg_auth *a)
{
    if (!atomic_exchange(&a->reload, false))
        return VG_OK;
    if (a->users)
        OPENSSL_cleanse(a->users, a->cap_users * sizeof *a->users);
    a->n_users = 0;
    if (a->sessions)
        OPENSSL_cleanse(a->sessions, a->cap_sessions * sizeof *a->sessions);
    a->n_sessions = 0;
    int rc = vg_store_users(a->store, load_user, a);
    if (rc != VG_OK) {
        vg_log(VG_LOG_ERROR, "cannot load the accounts again", NULL);
        atomic_store(&a->reload, true); /* the next request tries again */
    }
    return rc;
}

/* A place in the cache for a session of `user`: a free slot, an expired
 * one, or his oldest when he has too many (its hash in *evicted then, to
 * end it in the database too). NULL if out of memory. */
static struct session *session_slot(struct vg_auth *a, const char *user, int64_t now_ms,
                                    uint8_t evicted[32], bool *has_evicted)
{
    *has_evicted = false;
    size_t mine = 0, oldest = SIZE_MAX, slot = SIZE_MAX;
    for (size_t i = 0; i < a->n_sessions; i++) {
        struct session *x = &a->sessions[i];
        if (x->used && !session_alive(a, x, now_ms))
            memset(x, 0, sizeof *x);
        if (!x->used) {
            if (slot == SIZE_MAX)
                slot = i;
            continue;
        }
        if (strcmp(x->user, user) == 0) {
            mine++;
            if (oldest == SIZE_MAX || x->created_ms < a->sessions[oldest].created_ms)
                oldest = i;
        }
    }
    if (mine >= MAX_USER_SESSIONS) {
        memcpy(evicted, a->sessions[oldest].token_hash, 32);
        *has_evicted = true;
        return &a->sessions[oldest];
    }
    if (slot != SIZE_MAX)
        return &a->sessions[slot];
    if (a->n_sessions == a->cap_sessions) {
        size_t cap = a->cap_sessions ? 2 * a->cap_sessions : 32;
        struct session *v = realloc(a->sessions, cap * sizeof *v);
        if (!v)
            return NULL;
        a->sessions = v;
        a->cap_sessions = cap;
    }
    return &a->sessions[a->n_sessions++];
}

struct stored_session {
    struct session s;
    bool found;
};

static int on_stored_session(void *arg, const struct vg_store_session_row *r)
{
    struct stored_session *x = arg;
    x->found = true;
    snprintf(x->s.user, sizeof x->s.user, "%s", r->user);
    x->s.created_ms = r->created_ms;
    x->s.last_ms = x->s.stored_last_ms = r->last_ms;
    return 0;
}

/* A session this process has not seen: opened at the other site, or
 * before a restart. From the database into the cache; NULL if none. */
static struct session *load_session(struct vg_auth *a, const uint8_t h[32], const char *token,
                                    int64_t now_ms)
{
    struct stored_session x = {.s = {.used = true}};
    if (vg_store_session(a->store, h, on_stored_session, &x) != VG_OK || !x.found)
        return NULL;
    memcpy(x.s.token_hash, h, sizeof x.s.token_hash);
    csrf_of(token, x.s.csrf);
    uint8_t evicted[32];
    bool has_evicted;
    struct session *slot = session_slot(a, x.s.user, now_ms, evicted, &has_evicted);
    if (!slot)
        return NULL;
    *slot = x.s; /* an evicted one stays in the database: it is only not cached */
    return slot;
}

/* ---- identifying a request ------------------------------------------------------------------- */

int vg_auth_identify(struct vg_auth *a, const char *bearer, const char *cookie_token,
                     int64_t now_ms, struct vg_identity *who)
{
    if (bearer) {
        size_t n = strlen(a->token);
        if (strlen(bearer) != n || CRYPTO_memcmp(bearer, a->token, n) != 0)
            return VG_AUTH_DENIED; /* a wrong token is not retried as a cookie */
        memset(who, 0, sizeof *who);
        snprintf(who->name, sizeof who->name, "%s", VG_AUTH_TOKEN_NAME);
        who->role = VG_USER_ADMINISTRATOR;
        return VG_AUTH_OK;
    }
    if (!cookie_token || strlen(cookie_token) != VG_AUTH_TOKEN_LEN)
        return VG_AUTH_DENIED;
    if (reload_if_asked(a) != VG_OK)
        return VG_AUTH_DENIED;
    uint8_t h[32];
    sha256(cookie_token, h);
    struct session *s = NULL;
    for (size_t i = 0; i < a->n_sessions && !s; i++)
        if (a->sessions[i].used && CRYPTO_memcmp(a->sessions[i].token_hash, h, sizeof h) == 0)
            s = &a->sessions[i];
    if (!s)
        s = load_session(a, h, cookie_token, now_ms);
    if (!s)
        return VG_AUTH_DENIED;
    const struct user *u = find_user(a, s->user);
    if (!session_alive(a, s, now_ms) || !u || u->disabled) {
        memset(s, 0, sizeof *s);
        return VG_AUTH_DENIED;
    }
    s->last_ms = now_ms;
    if (now_ms - s->stored_last_ms >= TOUCH_EVERY_MS &&
        store_session(a, VG_STORE_SESSION_TOUCH, h, NULL, 0, now_ms) == VG_OK)
        s->stored_last_ms = now_ms;
    fill_identity(u, who);
    who->by_session = true;
    snprintf(who->csrf, sizeof who->csrf, "%s", s->csrf);
    snprintf(who->session, sizeof who->session, "%s", cookie_token);
    return VG_AUTH_OK;
}

bool vg_auth_csrf_ok(const struct vg_identity *who, const char *got)
{
    if (!who->by_session)
        return true; /* the token is not sent by browsers on their own: nothing to forge */
    return got && strlen(got) == VG_AUTH_TOKEN_LEN &&
           CRYPTO_memcmp(got, who->csrf, VG_AUTH_TOKEN_LEN) == 0;
}

/* ---- logging in ------------------------------------------------------------------------------ */

static struct vg_rate *peer_rate(struct vg_auth *a, const char *addr)
{
    for (size_t i = 0; i < a->n_peers; i++)
        if (strcmp(a->peers[i].addr, addr) == 0)
            return &a->peers[i].rate;
    struct peer *p;
    if (a->n_peers < MAX_PEERS) {
        p = &a->peers[a->n_peers++];
    } else {
        p = &a->peers[a->next_peer];
        a->next_peer = (a->next_peer + 1) % MAX_PEERS;
    }
    memset(p, 0, sizeof *p);
    snprintf(p->addr, sizeof p->addr, "%s", addr);
    return &p->rate;
}

/* The guards and the password: VG_AUTH_OK with the user, or why not. */
static int attempt(struct vg_auth *a, const char *peer, const char *name, const char *password,
                   int64_t now_ms, struct user **out, int64_t *retry_ms)
{
    *retry_ms = 0;
    if (!vg_rate_take(peer_rate(a, peer ? peer : "?"), a->o.login_burst, a->o.login_every_ms,
                      now_ms, retry_ms))
        return VG_AUTH_LIMITED;
    struct user *u = find_user(a, name);
    if (u && !vg_lockout_allowed(&u->lock, now_ms, retry_ms))
        return VG_AUTH_LOCKED;
    size_t len = password ? strlen(password) : 0;
    bool real = u && !u->disabled && u->hash[0];
    bool ok = vg_password_verify(real ? u->hash : a->dummy_hash, password ? password : "", len);
    if (ok && real) {
        vg_lockout_succeeded(&u->lock);
        *out = u;
        return VG_AUTH_OK;
    }
    if (u && vg_lockout_failed(&u->lock, &a->policy, now_ms)) {
        char detail[96];
        snprintf(detail, sizeof detail, "{\"until_ms\":%lld}", (long long)u->lock.locked_until_ms);
        vg_log(VG_LOG_WARN, "account locked after repeated failures", "user", u->name, "peer",
               peer ? peer : "?", NULL);
        vg_auth_journal(a, "system", "user.locked", u->name, detail);
    }
    return VG_AUTH_DENIED;
}

int vg_auth_login(struct vg_auth *a, const char *peer, const char *name, const char *password,
                  int64_t now_ms, struct vg_identity *who, int64_t *retry_ms)
{
    if (reload_if_asked(a) != VG_OK)
        return VG_AUTH_ERROR;
    struct user *u = NULL;
    int rc = attempt(a, peer, name, password, now_ms, &u, retry_ms);
    if (rc != VG_AUTH_OK)
        return rc;
    char token[VG_AUTH_TOKEN_LEN + 1];
    struct session s = {
        .used = true, .created_ms = now_ms, .last_ms = now_ms, .stored_last_ms = now_ms};
    if (random_hex(token) != VG_OK)
        return VG_AUTH_ERROR;
    sha256(token, s.token_hash);
    csrf_of(token, s.csrf);
    snprintf(s.user, sizeof s.user, "%s", u->name);
    /* a free slot (or an expired one); a user's sessions are bounded */
    uint8_t evicted[32];
    bool has_evicted;
    struct session *slot = session_slot(a, u->name, now_ms, evicted, &has_evicted);
    if (!slot)
        return VG_AUTH_ERROR;
    /* the session, the expired ones gone, his oldest if he has too many,
     * and the journal's entry, in one transaction */
    struct vg_store_session_op ops[3] = {
        {.action = VG_STORE_SESSION_OPEN,
         .user = s.user,
         .created_ms = now_ms,
         .last_ms = now_ms},
        {.action = VG_STORE_SESSION_END_EXPIRED,
         .last_ms = now_ms - a->o.session_idle_ms,
         .created_ms = now_ms - a->o.session_max_ms},
        {.action = VG_STORE_SESSION_END}};
    memcpy(ops[0].token_hash, s.token_hash, sizeof s.token_hash);
    if (has_evicted)
        memcpy(ops[2].token_hash, evicted, sizeof evicted);
    char detail[96];
    snprintf(detail, sizeof detail, "{\"peer\":\"%.60s\"}", peer ? peer : "?");
    struct vg_store_journal_entry je = {
        .actor = u->name, .action = "session.open", .subject = u->name, .detail = detail};
    struct vg_store_batch b = {
        .journal = &je, .n_journal = 1, .sessions = ops, .n_sessions = has_evicted ? 3 : 2};
    char err[256];
    if (vg_store_run(a->store, &b, err, sizeof err) != VG_OK) {
        vg_log(VG_LOG_ERROR, "cannot open a session", "reason", err, NULL);
        return VG_AUTH_ERROR; /* no access without its trace */
    }
    *slot = s;
    fill_identity(u, who);
    who->by_session = true;
    snprintf(who->csrf, sizeof who->csrf, "%s", s.csrf);
    snprintf(who->session, sizeof who->session, "%s", token);
    OPENSSL_cleanse(token, sizeof token);
    return VG_AUTH_OK;
}

void vg_auth_logout(struct vg_auth *a, const char *session_token)
{
    if (!session_token)
        return;
    uint8_t h[32];
    sha256(session_token, h);
    for (size_t i = 0; i < a->n_sessions; i++)
        if (a->sessions[i].used && CRYPTO_memcmp(a->sessions[i].token_hash, h, sizeof h) == 0)
            memset(&a->sessions[i], 0, sizeof a->sessions[i]);
    store_session(a, VG_STORE_SESSION_END, h, NULL, 0, 0);
}

int vg_auth_check_password(struct vg_auth *a, const char *peer, const char *name,
                           const char *password, int64_t now_ms, int64_t *retry_ms)
{
    struct user *u = NULL;
    if (reload_if_asked(a) != VG_OK)
        return VG_AUTH_ERROR;
    return attempt(a, peer, name, password, now_ms, &u, retry_ms);
}

/* ---- accounts ------------------------------------------------------------------------------ */

int vg_auth_users(struct vg_auth *a, int64_t now_ms,
                  int (*cb)(void *arg, const struct vg_auth_user_info *u), void *arg)
{
    int loaded = reload_if_asked(a);
    if (loaded != VG_OK)
        return loaded;
    for (size_t i = 0; i < a->n_users; i++) {
        const struct user *u = &a->users[i];
        struct vg_auth_user_info info = {.name = u->name,
                                         .role = vg_role_name(u->role),
                                         .court = u->court,
                                         .disabled = u->disabled,
                                         .has_password = u->hash[0] != '\0',
                                         .locked = !vg_lockout_allowed(&u->lock, now_ms, NULL)};
        int rc = cb(arg, &info);
        if (rc)
            return rc;
    }
    return VG_OK;
}

static int bad(char *err, size_t err_len, int rc, const char *msg)
{
    snprintf(err, err_len, "%s", msg);
    return rc;
}

int vg_auth_user_change(struct vg_auth *a, const char *actor, const struct vg_auth_user_change *c,
                        int64_t now_ms, char *err, size_t err_len)
{
    (void)now_ms;
    if (reload_if_asked(a) != VG_OK)
        return bad(err, err_len, VG_ESTATE, "cannot load the accounts");
    if (!c->name || vg_name_check(c->name) != VG_OK)
        return bad(err, err_len, VG_EINVAL,
                   "name: 1 to 64 of A-Z a-z 0-9 . _ -, not starting with . or -");
    if (strcmp(c->name, VG_AUTH_TOKEN_NAME) == 0)
        return bad(err, err_len, VG_EINVAL, "name: admin-token is the administrator token's");
    struct user *u = find_user(a, c->name);
    if (c->create && u) {
        snprintf(err, err_len, "user %s exists already", c->name);
        return VG_EDUPLICATE;
    }
    if (!c->create && !u) {
        snprintf(err, err_len, "no user named %s", c->name);
        return VG_ENOTFOUND;
    }
    unsigned role = c->role ? vg_role_parse(c->role) : u ? u->role : VG_USER_NONE;
    if (role == VG_USER_NONE)
        return bad(err, err_len, VG_EINVAL,
                   "role: operator, supervisor, installer, magistrate, statistician or "
                   "administrator");
    const char *court = c->court ? c->court : u ? u->court : "";
    if (court[0] && vg_name_check(court) != VG_OK)
        return bad(err, err_len, VG_EINVAL,
                   "court: 1 to 64 of A-Z a-z 0-9 . _ -, not starting with . or -");
    if (role == VG_USER_MAGISTRATE && !court[0])
        return bad(err, err_len, VG_EINVAL, "court: a magistrate's court is needed");
    if (c->disabled < -1 || c->disabled > 1)
        return bad(err, err_len, VG_EINVAL, "disabled: true or false");
    char hash[VG_PASSWORD_HASH_CAP] = "";
    if (c->password) {
        char why[96];
        if (vg_password_acceptable(c->password, strlen(c->password), why, sizeof why) != VG_OK)
            return bad(err, err_len, VG_EINVAL, why);
        if (vg_password_hash(c->password, strlen(c->password), &a->o.cost, hash) != VG_OK)
            return bad(err, err_len, VG_ESTATE, "cannot hash the password");
    }
    /* the change and its journal entry in one transaction */
    json_t *d = json_object();
    if (c->role || c->create)
        json_object_set_new(d, "role", json_string(vg_role_name(role)));
    if (c->court || c->create)
        json_object_set_new(d, "court", json_string(court));
    if (c->disabled >= 0)
        json_object_set_new(d, "disabled", json_boolean(c->disabled));
    if (c->password)
        json_object_set_new(d, "password_changed", json_true());
    char *detail = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(d);
    if (!detail)
        return bad(err, err_len, VG_ENOSPC, "out of memory");
    struct vg_store_user_def def = {.name = c->name,
                                    .role = c->role || c->create ? vg_role_name(role) : NULL,
                                    .court = c->court || c->create ? court : NULL,
                                    .password_hash = c->password ? hash : c->create ? "" : NULL,
                                    .disabled = (int8_t)c->disabled,
                                    .create = c->create};
    struct vg_store_journal_entry je = {.actor = actor,
                                        .action = c->create ? "user.create" : "user.update",
                                        .subject = c->name,
                                        .detail = detail};
    /* a password changed, an account disabled or its rights changed: its
     * sessions end (the user logs in again with what he now is), in the
     * change's transaction */
    bool ends_sessions = !c->create && (c->password || c->disabled == 1 || c->role || c->court);
    struct vg_store_session_op end_all = {.action = VG_STORE_SESSION_END_USER, .user = c->name};
    struct vg_store_batch b = {.user_defs = &def,
                               .n_user_defs = 1,
                               .journal = &je,
                               .n_journal = 1,
                               .sessions = &end_all,
                               .n_sessions = ends_sessions ? 1 : 0};
    int rc = vg_store_run(a->store, &b, err, err_len);
    free(detail);
    if (rc != VG_OK) {
        OPENSSL_cleanse(hash, sizeof hash);
        return rc == VG_EDUPLICATE || rc == VG_ENOTFOUND ? rc : VG_ESTATE;
    }
    if (c->create) {
        struct user nu = {.id = def.id, .role = role, .disabled = c->disabled == 1};
        snprintf(nu.name, sizeof nu.name, "%s", c->name);
        snprintf(nu.court, sizeof nu.court, "%s", court);
        snprintf(nu.hash, sizeof nu.hash, "%s", hash);
        rc = add_user(a, &nu);
    } else {
        u->role = role;
        snprintf(u->court, sizeof u->court, "%s", court);
        if (c->disabled >= 0)
            u->disabled = c->disabled == 1;
        if (c->password) {
            snprintf(u->hash, sizeof u->hash, "%s", hash);
            vg_lockout_succeeded(&u->lock); /* a new password: the guesses are moot */
        }
        if (ends_sessions)
            end_sessions_of(a, u->name);
    }
    OPENSSL_cleanse(hash, sizeof hash);
    if (rc != VG_OK)
        snprintf(err, err_len, "out of memory");
    return rc;
}
