/* /api/v1/measures: the measures as case files (http/api.h). What the
 * answers hold comes from the daemon's hooks; this file does HTTP: methods,
 * permissions, CSRF, strict bodies, and the legal rules' violations as a
 * 422 with their list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "core/err.h"
#include "core/roles.h"
#include "http/http_internal.h"

/* A refusal, with the broken rules when there are some (docs/API.md). */
static void reply_refused(struct evhttp_request *req, int rc, const char *err, json_t *violations)
{
    if (rc == VG_EINVAL && violations) {
        vg__http_reply_value(req, 422, "Unprocessable Entity",
                             json_pack("{s:{s:s,s:s,s:o}}", "error", "code", "rule_violation",
                                       "message", err, "violations", violations));
        return;
    }
    json_decref(violations);
    if (rc == VG_ESTALE)
        vg__http_reply_error(req, 409, "Conflict", "stale", err);
    else if (rc == VG_ESTATE && strcmp(err, "stopping") != 0)
        vg__http_reply_error(req, 409, "Conflict", "state", err);
    else
        vg__http_reply_vg_error(req, rc, err);
}

void vg__http_on_measures(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                          const struct vg_identity *who)
{
    if (cmd == EVHTTP_REQ_GET) {
        if (!vg__http_permitted(req, who, VG_PERM_MEASURE_READ))
            return;
        struct evbuffer *b = evbuffer_new();
        char err[512] = "";
        if (!b || h->hooks.list_measures(h->hooks.arg, who, b, err, sizeof err) != 0)
            vg__http_reply_error(req, 503, "Service Unavailable", "unavailable",
                                 err[0] ? err : "out of memory");
        else
            vg__http_reply_json(req, 200, "OK", b);
        if (b)
            evbuffer_free(b);
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        vg__http_method_not_allowed(req, "GET, POST");
        return;
    }
    if (!vg__http_permitted(req, who, VG_PERM_MEASURE_CREATE) || !vg__http_csrf_ok(req, who))
        return;
    char *body = vg__http_json_body(req);
    if (!body)
        return;
    char err[512] = "";
    int64_t id = 0;
    json_t *violations = NULL;
    int rc = h->hooks.create_measure(h->hooks.arg, who, body, &id, &violations, err, sizeof err);
    free(body);
    if (rc == VG_ENOTFOUND) /* a unit or time zone the definition names */
        rc = VG_EINVAL;
    if (rc != VG_OK) {
        reply_refused(req, rc, err, violations);
        return;
    }
    vg__http_reply_value(req, 201, "Created",
                         json_pack("{s:I,s:I,s:s,s:o}", "id", (json_int_t)id, "version",
                                   (json_int_t)1, "status", "pending_installation", "warnings",
                                   violations ? violations : json_array()));
}

static void on_read(struct vg_http *h, struct evhttp_request *req, const struct vg_identity *who,
                    int64_t id, bool versions)
{
    if (!vg__http_permitted(req, who, VG_PERM_MEASURE_READ))
        return;
    json_t *out = NULL;
    char err[512] = "";
    /* ?reason=... : why an administrator reads an archived measure */
    char *reason = NULL;
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (q && !versions) {
        struct evkeyvalq params;
        if (evhttp_parse_query_str(q, &params) == 0) {
            const char *r = evhttp_find_header(&params, "reason");
            reason = r ? strdup(r) : NULL;
            evhttp_clear_headers(&params);
        }
        if (!reason || strlen(reason) > 500) {
            free(reason);
            vg__http_reply_error(req, 400, "Bad Request", "invalid",
                                 "the only parameter is ?reason= (up to 500 bytes)");
            return;
        }
    }
    int rc = versions ? h->hooks.measure_versions(h->hooks.arg, who, id, &out, err, sizeof err)
                      : h->hooks.get_measure(h->hooks.arg, who, id, reason, &out, err, sizeof err);
    free(reason);
    if (rc != VG_OK)
        vg__http_reply_vg_error(req, rc, err);
    else
        vg__http_reply_value(req, 200, "OK", out);
}

/* {"based_on": N, "note": "...", and "definition" for a new version}. */
static json_t *change_body(struct evhttp_request *req, bool amend, int64_t *based_on,
                           const char **note)
{
    static const char *const amend_keys[] = {"based_on", "note", "definition", NULL};
    static const char *const act_keys[] = {"based_on", "note", NULL};
    json_t *o = vg__http_json_object_body(req, amend ? amend_keys : act_keys);
    if (!o)
        return NULL;
    json_t *b = json_object_get(o, "based_on");
    json_t *n = json_object_get(o, "note");
    if (!json_is_integer(b) || json_integer_value(b) < 1 || (n && !json_is_string(n)) ||
        (n && json_string_length(n) > 1000) ||
        (amend && !json_is_object(json_object_get(o, "definition")))) {
        json_decref(o);
        vg__http_reply_error(req, 400, "Bad Request", "invalid",
                             amend ? "{\"based_on\": the version read, \"note\": why (up to 1000 "
                                     "bytes), \"definition\": the whole new definition}"
                                   : "{\"based_on\": the version read, \"note\": why (up to "
                                     "1000 bytes)}");
        return NULL;
    }
    *based_on = json_integer_value(b);
    *note = n ? json_string_value(n) : "";
    return o;
}

static void on_change(struct vg_http *h, struct evhttp_request *req, const struct vg_identity *who,
                      int64_t id, const char *action)
{
    if (!vg__http_permitted(req, who, VG_PERM_MEASURE_CHANGE) || !vg__http_csrf_ok(req, who))
        return;
    int64_t based_on = 0, version = 0;
    const char *note = NULL;
    json_t *o = change_body(req, action == NULL, &based_on, &note);
    if (!o)
        return;
    char err[512] = "";
    json_t *violations = NULL;
    int rc;
    if (action) {
        rc = h->hooks.act_on_measure(h->hooks.arg, who, id, based_on, action, note, &version, err,
                                     sizeof err);
    } else {
        char *text = json_dumps(json_object_get(o, "definition"), JSON_COMPACT);
        rc = text ? h->hooks.amend_measure(h->hooks.arg, who, id, based_on, text, note, &version,
                                           &violations, err, sizeof err)
                  : VG_ENOSPC;
        free(text);
    }
    json_decref(o);
    if (rc != VG_OK) {
        reply_refused(req, rc, err, violations);
        return;
    }
    vg__http_reply_value(req, 200, "OK",
                         json_pack("{s:I,s:I,s:o}", "id", (json_int_t)id, "version",
                                   (json_int_t)version, "warnings",
                                   violations ? violations : json_array()));
}

/* GET /api/v1/measures/ID/positions[?minutes=N]: both persons' recent
 * tracks for the operators (the protected person's only while an incident
 * is in progress: the daemon decides, and journals the read). */
static void on_positions(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                         const struct vg_identity *who, int64_t id)
{
    if (cmd != EVHTTP_REQ_GET) {
        vg__http_method_not_allowed(req, "GET");
        return;
    }
    if (!vg__http_permitted(req, who, VG_PERM_INCIDENT_HANDLE))
        return;
    long long minutes = 30;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    if (query) {
        struct evkeyvalq q = {0};
        const char *v = evhttp_parse_query_str(query, &q) == 0 ? evhttp_find_header(&q, "minutes")
                                                               : NULL;
        char *end = NULL;
        if (v)
            minutes = strtoll(v, &end, 10);
        bool bad = v && (!end || *end || end == v || minutes < 1 || minutes > 1440);
        evhttp_clear_headers(&q);
        if (bad) {
            vg__http_reply_error(req, 400, "Bad Request", "invalid",
                                 "minutes: how far back, 1 to 1440 (default 30)");
            return;
        }
    }
    json_t *out = NULL;
    char err[512] = "";
    int rc = h->hooks.measure_positions(h->hooks.arg, who, id, minutes * 60000, &out, err,
                                        sizeof err);
    if (rc != VG_OK)
        vg__http_reply_vg_error(req, rc, err);
    else
        vg__http_reply_value(req, 200, "OK", out);
}

/* GET /api/v1/measures/ID/activity[?from=YYYY-MM-DD&to=YYYY-MM-DD][&radius_m=N]: the
 * measure's activity over a period, and what another R would have made of
 * the same tracks (core/activity.h). */
static void on_activity(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                        const struct vg_identity *who, int64_t id)
{
    if (cmd != EVHTTP_REQ_GET) {
        vg__http_method_not_allowed(req, "GET");
        return;
    }
    if (!vg__http_permitted(req, who, VG_PERM_MEASURE_READ))
        return;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    struct evkeyvalq q = {0};
    char from[16] = "", to[16] = "";
    double radius = 0;
    bool bad = false;
    if (query && evhttp_parse_query_str(query, &q) == 0) {
        const char *f = evhttp_find_header(&q, "from"), *t = evhttp_find_header(&q, "to");
        const char *r = evhttp_find_header(&q, "radius_m");
        bad = (f && strlen(f) >= sizeof from) || (t && strlen(t) >= sizeof to);
        if (!bad && f)
            snprintf(from, sizeof from, "%s", f);
        if (!bad && t)
            snprintf(to, sizeof to, "%s", t);
        if (r) {
            char *end = NULL;
            long long v = strtoll(r, &end, 10);
            bad = bad || !end || *end || end == r || v < 1000 || v > 10000;
            radius = (double)v;
        }
    } else if (query) {
        bad = true;
    }
    evhttp_clear_headers(&q);
    if (bad) {
        vg__http_reply_error(req, 400, "Bad Request", "invalid",
                             "from, to: local dates YYYY-MM-DD; radius_m: another R to "
                             "compare, 1000 to 10000");
        return;
    }
    json_t *out = NULL;
    char err[512] = "";
    int rc = h->hooks.measure_activity(h->hooks.arg, who, id, from[0] ? from : NULL,
                                       to[0] ? to : NULL, radius, &out, err, sizeof err);
    if (rc != VG_OK)
        vg__http_reply_vg_error(req, rc, err);
    else
        vg__http_reply_value(req, 200, "OK", out);
}

void vg__http_on_measure(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                         const struct vg_identity *who, int64_t id, const char *what)
{
    if (what[0] == '\0') {
        if (cmd == EVHTTP_REQ_GET)
            on_read(h, req, who, id, false);
        else if (cmd == EVHTTP_REQ_PUT)
            on_change(h, req, who, id, NULL);
        else
            vg__http_method_not_allowed(req, "GET, PUT");
        return;
    }
    if (strcmp(what, "export") == 0) {
        if (cmd != EVHTTP_REQ_GET) {
            vg__http_method_not_allowed(req, "GET");
            return;
        }
        if (!vg__http_permitted(req, who, VG_PERM_MEASURE_TRANSFER))
            return;
        json_t *out = NULL;
        char err[512] = "";
        int rc = h->hooks.export_measure(h->hooks.arg, who, id, &out, err, sizeof err);
        if (rc != VG_OK)
            vg__http_reply_vg_error(req, rc, err);
        else
            vg__http_reply_value(req, 200, "OK", out);
        return;
    }
    if (strcmp(what, "positions") == 0) {
        on_positions(h, req, cmd, who, id);
        return;
    }
    if (strcmp(what, "activity") == 0) {
        on_activity(h, req, cmd, who, id);
        return;
    }
    if (strcmp(what, "reports") == 0) { /* its incidents' reports: who may read them */
        if (cmd != EVHTTP_REQ_GET) {
            vg__http_method_not_allowed(req, "GET");
            return;
        }
        if (!vg__http_permitted(req, who, VG_PERM_INCIDENT_REPORT))
            return;
        json_t *out = NULL;
        char err[512] = "";
        int rc = h->hooks.measure_reports(h->hooks.arg, who, id, &out, err, sizeof err);
        if (rc != VG_OK)
            vg__http_reply_vg_error(req, rc, err);
        else
            vg__http_reply_value(req, 200, "OK", out);
        return;
    }
    if (strcmp(what, "versions") == 0) {
        if (cmd == EVHTTP_REQ_GET)
            on_read(h, req, who, id, true);
        else
            vg__http_method_not_allowed(req, "GET");
        return;
    }
    static const char *const actions[] = {"suspend", "resume", "lift", "revoke"};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(what, actions[i]) == 0) {
            if (cmd == EVHTTP_REQ_POST)
                on_change(h, req, who, id, actions[i]);
            else
                vg__http_method_not_allowed(req, "POST");
            return;
        }
    vg__http_reply_error(req, 404, "Not Found", "not_found", "no such resource");
}
