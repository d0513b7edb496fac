/* Persons' files over HTTP: list, create, read (a version, every version),
 * a new version made from the one read; every read and change journaled
 * (docs/API.md, "Persons"). */
#include <openssl/rand.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "core/err.h"
#include "http/http_internal.h"
#include "store/store.h"
#include "util/person_json.h"

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
    return vg__http_now_ms() / 86400000;
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

void vg__http_on_persons(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                       const struct vg_identity *who)
{
    if (cmd == EVHTTP_REQ_GET) {
        if (!vg__http_permitted(req, who, VG_PERM_PERSON_READ))
            return;
        json_t *list = json_array();
        struct person_list l = {h, who, list};
        int rc = vg_store_persons(h->store, person_list_one, &l);
        char detail[64];
        snprintf(detail, sizeof detail, "{\"count\":%zu}", json_array_size(list));
        if (rc != VG_OK || vg_auth_journal(h->auth, who->name, "person.list", "*", detail) != 0) {
            json_decref(list);
            vg__http_reply_error(req, 503, "Service Unavailable", "unavailable",
                        "the persons cannot be read or the read journaled");
            return;
        }
        vg__http_reply_value(req, 200, "OK", list);
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        vg__http_method_not_allowed(req, "GET, POST");
        return;
    }
    if (!vg__http_permitted(req, who, VG_PERM_PERSON_WRITE) || !vg__http_csrf_ok(req, who))
        return;
    char *body = vg__http_json_body(req);
    if (!body)
        return;
    char *canonical = NULL, display[256], err[300];
    int rc = vg_person_json_check(body, today_days(), &canonical, display, sizeof display, err,
                                  sizeof err);
    free(body);
    if (rc != VG_OK) {
        vg__http_reply_error(req, 400, "Bad Request", "invalid", err);
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
        vg__http_reply_error(req, 503, "Service Unavailable", "unavailable", err);
        return;
    }
    vg__http_reply_value(req, 201, "Created",
                json_pack("{s:I,s:I}", "id", (json_int_t)def.id, "version", (json_int_t)1));
}

void vg__http_on_person(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                      const struct vg_identity *who, int64_t id, bool versions)
{
    char subject[48];
    snprintf(subject, sizeof subject, "person/%lld", (long long)id);
    if (cmd == EVHTTP_REQ_GET) {
        if (!vg__http_permitted(req, who, VG_PERM_PERSON_READ))
            return;
        if (!person_visible(h, who, id)) {
            vg__http_reply_error(req, 404, "Not Found", "not_found", "no such person or version");
            return;
        }
        int64_t version = 0;
        const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
        if (q && !versions) {
            char *end = NULL;
            if (strncmp(q, "version=", 8) != 0 || (version = strtoll(q + 8, &end, 10)) <= 0 ||
                *end) {
                vg__http_reply_error(req, 400, "Bad Request", "invalid", "?version=N, N from 1");
                return;
            }
        }
        struct person_read r = {.out = versions ? json_array() : NULL, .many = versions};
        int rc = vg_store_person(h->store, id, version, versions, person_one, &r);
        if (rc == VG_ENOTFOUND) {
            json_decref(r.out);
            vg__http_reply_error(req, 404, "Not Found", "not_found", "no such person or version");
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
            vg__http_reply_error(req, 503, "Service Unavailable", "unavailable",
                        "the person cannot be read or the read journaled");
            return;
        }
        vg__http_reply_value(req, 200, "OK", r.out);
        return;
    }
    if (versions || cmd != EVHTTP_REQ_PUT) {
        vg__http_method_not_allowed(req, versions ? "GET" : "GET, PUT");
        return;
    }
    if (!vg__http_permitted(req, who, VG_PERM_PERSON_WRITE) || !vg__http_csrf_ok(req, who))
        return;
    static const char *const keys[] = {"based_on", "person", NULL};
    json_t *o = vg__http_json_object_body(req, keys);
    if (!o)
        return;
    json_t *based = json_object_get(o, "based_on"), *person = json_object_get(o, "person");
    if (!json_is_integer(based) || json_integer_value(based) < 1 || !json_is_object(person)) {
        json_decref(o);
        vg__http_reply_error(req, 400, "Bad Request", "invalid",
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
        vg__http_reply_error(req, 400, "Bad Request", "invalid", err);
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
            vg__http_reply_error(req, 404, "Not Found", "not_found", "no such person or version");
        else
            vg__http_reply_error(req, 503, "Service Unavailable", "unavailable", "cannot read the person");
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
        vg__http_reply_error(req, 409, "Conflict", "conflict", err);
    else if (rc == VG_ENOTFOUND)
        vg__http_reply_error(req, 404, "Not Found", "not_found", err);
    else if (rc != VG_OK)
        vg__http_reply_error(req, 503, "Service Unavailable", "unavailable", err);
    else
        vg__http_reply_value(req, 200, "OK",
                    json_pack("{s:I,s:I}", "id", (json_int_t)id, "version", (json_int_t)def.version));
}

