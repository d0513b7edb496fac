/* The units' side of the HTTP API (http/api.h hooks), run for the HTTP
 * thread: the list of units with their health, and their certificates
 * issued and revoked in the daemon's PKI (DATA_DIR/pki).
 *
 * The PKI's work (a key generated, files written under the PKI's lock)
 * runs on the HTTP thread, never on the daemon's loop that serves the
 * units; what concerns the centre or the gateway's TLS context (the units,
 * reloading the CRL) runs on the loop. Every call is journaled durably
 * before it is answered; the journal never holds a key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/err.h"
#include "core/lifecycle.h"
#include "core/roles.h"
#include "daemon/daemon_internal.h"
#include "util/log.h"
#include "util/measure_json.h"
#include "util/pki.h"

/* ---- the list ------------------------------------------------------------------------------ */

/* A unit as the centre knows it, copied on the loop: the JSON is built on
 * the HTTP thread, so that thousands of units hold the loop for a copy
 * only. */
struct unit_row {
    char serial[VG_NAME_MAX + 1];
    uint8_t role; /* 0: known to the PKI only */
    bool connected;
    uint64_t acked_seq;
    int64_t measure_id; /* 0: none */
    char measure_name[VG_NAME_MAX + 1];
    uint8_t measure_status;
    bool has_state;
    struct vg_unit_state state;
    const char *certificate; /* "valid", "revoked", "expired", NULL: none in the PKI */
};

struct list_call {
    const struct vg_identity *who;
    struct unit_row *rows;
    size_t n, cap;
    int rc;
};

static int list_one(void *arg, const struct vg_center_unit_info *u)
{
    struct list_call *l = arg;
    /* a magistrate sees his court's measures' units, and no unit serving none */
    if (vg_role_court_scoped(l->who->role) &&
        (!u->court || !l->who->court[0] || strcmp(u->court, l->who->court) != 0))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct unit_row *rows = realloc(l->rows, cap * sizeof *rows);
        if (!rows) {
            l->rc = VG_ENOSPC;
            return VG_ENOSPC;
        }
        l->rows = rows;
        l->cap = cap;
    }
    struct unit_row *r = &l->rows[l->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->serial, sizeof r->serial, "%s", u->serial);
    r->role = u->role;
    r->connected = u->connected;
    r->acked_seq = u->acked_seq;
    r->measure_id = u->measure_id;
    if (u->measure_name)
        snprintf(r->measure_name, sizeof r->measure_name, "%s", u->measure_name);
    r->measure_status = u->measure_status;
    if (u->state) {
        r->has_state = true;
        r->state = *u->state;
    }
    return 0;
}

static void do_list(struct daemon *d, void *arg)
{
    vg_center_list_units(d->center, list_one, arg);
}

/* The PKI's units, by serial: the state of their certificates. */
struct cert_row {
    char serial[VG_PKI_NAME_MAX + 1];
    const char *state;
};

struct cert_list {
    struct cert_row *rows;
    size_t n, cap;
    int64_t now_s;
};

/* "valid" beats "expired" beats "revoked": a unit re-issued after its
 * files were moved away has several entries, and one good certificate is
 * enough for it to connect. */
static int cert_rank(const char *state)
{
    return strcmp(state, "valid") == 0 ? 2 : strcmp(state, "expired") == 0 ? 1 : 0;
}

static int cert_one(const struct vg_pki_entry *e, void *arg)
{
    struct cert_list *l = arg;
    if (e->kind != VG_PKI_UNIT)
        return 0;
    const char *state = e->revoked_at ? "revoked" : e->not_after < l->now_s ? "expired" : "valid";
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct cert_row *rows = realloc(l->rows, cap * sizeof *rows);
        if (!rows)
            return VG_ENOSPC;
        l->rows = rows;
        l->cap = cap;
    }
    snprintf(l->rows[l->n].serial, sizeof l->rows[l->n].serial, "%s", e->name);
    l->rows[l->n++].state = state;
    return 0;
}

static int by_serial(const void *a, const void *b)
{
    return strcmp(((const struct unit_row *)a)->serial, ((const struct unit_row *)b)->serial);
}

/* By serial, a serial's best certificate first. */
static int cert_by_serial(const void *a, const void *b)
{
    const struct cert_row *x = a, *y = b;
    int c = strcmp(x->serial, y->serial);
    return c ? c : cert_rank(y->state) - cert_rank(x->state);
}

static const char *role_name(uint8_t role)
{
    switch (role) {
    case VG_ROLE_AUTHOR: return "author";
    case VG_ROLE_PROTECTED: return "protected";
    case VG_ROLE_BRACELET: return "bracelet";
    default: return NULL;
    }
}

/* -1 (unknown) as null. */
static json_t *tri(int8_t v)
{
    return v < 0 ? json_null() : json_boolean(v);
}

static json_t *row_json(const struct unit_row *r)
{
    const char *role = role_name(r->role);
    json_t *measure =
        r->measure_id
            ? json_pack("{s:I,s:s,s:s}", "id", (json_int_t)r->measure_id, "name", r->measure_name,
                        "status", vg_status_name((enum vg_measure_status)r->measure_status))
            : json_null();
    json_t *o = json_pack("{s:s,s:o,s:o,s:b,s:I,s:o}", "serial", r->serial, "role",
                          role ? json_string(role) : json_null(), "measure", measure, "connected",
                          r->connected, "acked_seq", (json_int_t)r->acked_seq, "certificate",
                          r->certificate ? json_string(r->certificate) : json_null());
    if (!o)
        return NULL;
    const struct vg_unit_state *s = r->has_state ? &r->state : NULL;
    /* the engine starts a unit's clock when the measure's supervision
     * starts: before its first record, it has not been heard at all */
    bool heard = s && r->acked_seq > 0;
    if (json_object_set_new(o, "last_heard_ms",
                            heard ? json_integer(s->last_heard_ms) : json_null()) ||
        json_object_set_new(o, "battery_pct",
                            s && s->battery_pct >= 0 ? json_integer(s->battery_pct)
                                                     : json_null()) ||
        json_object_set_new(o, "charging", s ? tri(s->charging) : json_null()) ||
        json_object_set_new(o, "strap_closed", s ? tri(s->strap_closed) : json_null()) ||
        json_object_set_new(o, "skin_contact", s ? tri(s->skin_contact) : json_null()) ||
        json_object_set_new(o, "bracelet_link", s ? tri(s->bracelet_link) : json_null()) ||
        json_object_set_new(o, "comm_lost", s ? json_boolean(s->comm_lost) : json_null()) ||
        json_object_set_new(o, "powered_off", s ? json_boolean(s->powered_off) : json_null())) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The centre's units, and those the PKI issued a certificate to that no
 * measure names yet (role and measure null; not shown to a magistrate: no
 * court's). Sorted by serial. */
static json_t *list_json(struct list_call *l, struct cert_list *certs)
{
    json_t *list = json_array();
    if (!list)
        return NULL;
    if (l->n > 1)
        qsort(l->rows, l->n, sizeof *l->rows, by_serial);
    if (certs->n > 1) {
        qsort(certs->rows, certs->n, sizeof *certs->rows, cert_by_serial);
        size_t kept = 1; /* each serial once, with its best certificate */
        for (size_t k = 1; k < certs->n; k++)
            if (strcmp(certs->rows[k].serial, certs->rows[kept - 1].serial) != 0)
                certs->rows[kept++] = certs->rows[k];
        certs->n = kept;
    }
    size_t i = 0, j = 0;
    bool all = !vg_role_court_scoped(l->who->role);
    while (i < l->n || j < certs->n) {
        int cmp = i == l->n       ? 1
                  : j == certs->n ? -1
                                  : strcmp(l->rows[i].serial, certs->rows[j].serial);
        struct unit_row pki_only;
        const struct unit_row *r = NULL;
        if (cmp <= 0) {
            if (cmp == 0)
                l->rows[i].certificate = certs->rows[j++].state;
            r = &l->rows[i++];
        } else {
            memset(&pki_only, 0, sizeof pki_only);
            snprintf(pki_only.serial, sizeof pki_only.serial, "%s", certs->rows[j].serial);
            pki_only.certificate = certs->rows[j++].state;
            r = all ? &pki_only : NULL;
        }
        if (r && json_array_append_new(list, row_json(r)) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

/* Which units exist and which measure each serves is personal data: the
 * read is journaled (durably) before it is answered, with how many units
 * were shown. Unlike the measures' list, it is taken before the entry (the
 * count must be the list's own) and shown only once the entry is durable. */
static int hook_list(void *arg, const struct vg_identity *who, json_t **out, char *err,
                     size_t err_len)
{
    struct daemon *d = arg;
    struct list_call l = {.who = who};
    struct cert_list certs = {.now_s = (int64_t)time(NULL)};
    json_t *list = NULL;
    int rc = vg_pki_list(d->pki_dir, cert_one, &certs, err, err_len);
    if (rc != VG_OK)
        goto done;
    if (vg__daemon_on_loop(d, do_list, &l) != VG_OK) {
        snprintf(err, err_len, "stopping");
        rc = VG_ESTATE;
        goto done;
    }
    if ((rc = l.rc) != VG_OK || !(list = list_json(&l, &certs))) {
        snprintf(err, err_len, "out of memory");
        rc = VG_ENOSPC;
        goto done;
    }
    char detail[64];
    snprintf(detail, sizeof detail, "{\"count\":%zu}", json_array_size(list));
    rc = vg_center_journal(d->center, who->name, "unit.list", "*", detail, err, err_len);
done:
    free(l.rows);
    free(certs.rows);
    if (rc != VG_OK) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return VG_OK;
}

/* ---- the CRL ------------------------------------------------------------------------------- */

struct reload_call {
    int rc;
    char err[256];
};

/* As SIGHUP does (vigied.c): on the loop, which runs the handshakes. */
static void do_reload(struct daemon *d, void *arg)
{
    struct reload_call *r = arg;
    char path[VG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/crl.pem", d->pki_dir);
    r->rc = vg_pki_server_ctx_reload_crl(d->ctx, path, r->err, sizeof r->err);
    if (r->rc == VG_OK)
        vg_log(VG_LOG_INFO, "revocation list reloaded", "file", path, NULL);
    else
        vg_log(VG_LOG_ERROR, "revocation list not reloaded: the previous one stays", "reason",
               r->err, NULL);
}

/* ---- issuing ------------------------------------------------------------------------------- */

/* A PEM file's text (to free), or NULL. */
static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = malloc(64 * 1024);
    size_t n = text ? fread(text, 1, 64 * 1024 - 1, f) : 0;
    bool ok = text && !ferror(f) && feof(f) && n > 0;
    fclose(f);
    if (!ok) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

/* The certificate exists once its files are written: if the issue cannot
 * be journaled it is revoked at once, so that no certificate the journal
 * does not know of can ever connect (its serial is spent). */
static void undo_issue(struct daemon *d, const char *serial)
{
    char err[256];
    struct reload_call r = {0};
    if (vg_pki_revoke(d->pki_dir, serial, err, sizeof err) != VG_OK)
        vg_log(VG_LOG_ERROR, "a certificate issued without its journal entry could not be revoked",
               "unit", serial, "reason", err, NULL);
    else if (vg__daemon_on_loop(d, do_reload, &r) != VG_OK || r.rc != VG_OK)
        vg_log(VG_LOG_ERROR, "a certificate revoked for want of its journal entry: send SIGHUP",
               "unit", serial, NULL);
}

static int hook_issue(void *arg, const struct vg_identity *who, const char *serial, json_t **out,
                      char *err, size_t err_len)
{
    struct daemon *d = arg;
    *out = NULL;
    struct vg_pki_entry e;
    int rc = vg_pki_issue_unit(d->pki_dir, serial, &e, err, err_len);
    if (rc == VG_EDUPLICATE) {
        /* the PKI's message names its files: the API's says what it means */
        snprintf(err, err_len,
                 "unit %s already has a certificate (valid or revoked): a unit is issued once",
                 serial);
        return rc;
    }
    if (rc != VG_OK)
        return rc == VG_EINVAL ? rc : VG_ESTATE; /* the PKI is broken: 503 */
    char crt[VG_PATH_MAX + 96], key[VG_PATH_MAX + 96], ca[VG_PATH_MAX + 32];
    snprintf(crt, sizeof crt, "%s/units/%s.crt", d->pki_dir, serial);
    snprintf(key, sizeof key, "%s/units/%s.key", d->pki_dir, serial);
    snprintf(ca, sizeof ca, "%s/ca.crt", d->pki_dir);
    char *crt_pem = read_pem(crt), *key_pem = read_pem(key), *ca_pem = read_pem(ca);
    char subject[VG_NAME_MAX + 8], detail[160];
    snprintf(subject, sizeof subject, "unit/%s", serial);
    snprintf(detail, sizeof detail, "{\"certificate_serial\":\"%s\",\"not_after_ms\":%lld}",
             e.cert_serial, (long long)e.not_after * 1000);
    if (!crt_pem || !key_pem || !ca_pem) {
        snprintf(err, err_len, "the new certificate's files cannot be read");
        rc = VG_ESTATE;
    } else {
        rc = vg_center_journal(d->center, who->name, "unit.issue", subject, detail, err, err_len);
    }
    if (rc == VG_OK) {
        *out = json_pack("{s:s,s:s,s:s,s:s}", "serial", serial, "certificate", crt_pem, "key",
                         key_pem, "ca", ca_pem);
        if (!*out) {
            snprintf(err, err_len, "out of memory");
            rc = VG_ENOSPC;
        }
    }
    /* the key leaves this process through the answer only */
    if (key_pem)
        OPENSSL_cleanse(key_pem, strlen(key_pem));
    free(crt_pem);
    free(key_pem);
    free(ca_pem);
    if (rc != VG_OK) {
        undo_issue(d, serial);
        size_t n = strlen(err);
        snprintf(err + n, err_len > n ? err_len - n : 0,
                 " (the certificate issued meanwhile is revoked: issue another serial)");
        return VG_ESTATE; /* 503 */
    }
    vg_log(VG_LOG_INFO, "unit certificate issued", "unit", serial, "by", who->name,
           "certificate_serial", e.cert_serial, NULL);
    return VG_OK;
}

/* ---- revoking ------------------------------------------------------------------------------ */

static int hook_revoke(void *arg, const struct vg_identity *who, const char *serial,
                       const char *note, char *err, size_t err_len)
{
    struct daemon *d = arg;
    int rc = vg_pki_revoke(d->pki_dir, serial, err, err_len);
    if (rc == VG_EINVAL)
        rc = VG_ENOTFOUND; /* not a serial: no such unit */
    if (rc != VG_OK)
        return rc == VG_ENOTFOUND || rc == VG_ESTATE ? rc : VG_ENOSPC;
    /* at once: a revoked unit is refused from its next connection, not
     * from the next SIGHUP */
    struct reload_call r = {.rc = VG_ESTATE};
    if (vg__daemon_on_loop(d, do_reload, &r) != VG_OK)
        snprintf(r.err, sizeof r.err, "stopping");
    vg_log(VG_LOG_INFO, "unit certificate revoked", "unit", serial, "by", who->name, NULL);
    /* journaled whatever became of the reload: the revocation is done */
    char subject[VG_NAME_MAX + 8];
    snprintf(subject, sizeof subject, "unit/%s", serial);
    json_t *dj = json_pack("{s:s,s:b}", "note", note, "crl_reloaded", r.rc == VG_OK);
    char *detail = dj ? json_dumps(dj, JSON_COMPACT) : NULL;
    json_decref(dj);
    if (!detail) {
        snprintf(err, err_len, "out of memory: the unit is revoked, but not journaled");
        return VG_ENOSPC;
    }
    rc = vg_center_journal(d->center, who->name, "unit.revoke", subject, detail, err, err_len);
    free(detail);
    if (rc != VG_OK)
        return rc;
    if (r.rc != VG_OK) {
        snprintf(err, err_len,
                 "unit %s is revoked in the PKI, but the revocation list could not be reloaded "
                 "(%s): it takes effect at the next SIGHUP or start",
                 serial, r.err);
        return VG_ENOSPC; /* 503 */
    }
    return VG_OK;
}

void vg__daemon_unit_hooks(struct vg_http_hooks *h)
{
    h->list_units = hook_list;
    h->issue_unit = hook_issue;
    h->revoke_unit = hook_revoke;
}
