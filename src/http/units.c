/* /api/v1/units: the units as a resource (http/api.h). Listing them with
 * their health, issuing a unit's certificate and key, revoking it. What the
 * answers hold and the PKI's work come from the daemon's hooks; this file
 * does HTTP: methods, permissions, CSRF, strict bodies, the status codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "core/err.h"
#include "core/roles.h"
#include "http/http_internal.h"
#include "util/measure_json.h"

#define NOTE_MAX 1000

static void on_list(struct vg_http *h, struct evhttp_request *req, const struct vg_identity *who)
{
    /* the list names which measure each unit serves: read as a measure is */
    if (!vg__http_permitted(req, who, VG_PERM_MEASURE_READ))
        return;
    json_t *list = NULL;
    char err[512] = "";
    int rc = h->hooks.list_units(h->hooks.arg, who, &list, err, sizeof err);
    if (rc != VG_OK)
        vg__http_reply_error(req, 503, "Service Unavailable", "unavailable",
                             err[0] ? err : "the units cannot be read or the read journaled");
    else
        vg__http_reply_value(req, 200, "OK", list);
}

static void on_issue(struct vg_http *h, struct evhttp_request *req, const struct vg_identity *who)
{
    if (!vg__http_permitted(req, who, VG_PERM_UNIT_ISSUE) || !vg__http_csrf_ok(req, who))
        return;
    static const char *const keys[] = {"serial", NULL};
    json_t *o = vg__http_json_object_body(req, keys);
    if (!o)
        return;
    const char *serial = NULL;
    int got = vg__http_opt_string(req, o, "serial", &serial);
    if (got < 0) {
        json_decref(o);
        return;
    }
    if (got == 0 || vg_name_check(serial) != VG_OK) {
        json_decref(o);
        vg__http_reply_error(req, 400, "Bad Request", "invalid",
                             "serial: 1 to 64 of A-Z a-z 0-9 . _ -, not starting with '.' or '-'");
        return;
    }
    json_t *out = NULL;
    char err[512] = "";
    int rc = h->hooks.issue_unit(h->hooks.arg, who, serial, &out, err, sizeof err);
    json_decref(o);
    if (rc != VG_OK)
        vg__http_reply_vg_error(req, rc, err);
    else
        vg__http_reply_value(req, 201, "Created", out);
}

void vg__http_on_units(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                       const struct vg_identity *who)
{
    if (cmd == EVHTTP_REQ_GET)
        on_list(h, req, who);
    else if (cmd == EVHTTP_REQ_POST)
        on_issue(h, req, who);
    else
        vg__http_method_not_allowed(req, "GET, POST");
}

static void on_revoke(struct vg_http *h, struct evhttp_request *req, const struct vg_identity *who,
                      const char *serial)
{
    if (!vg__http_permitted(req, who, VG_PERM_UNIT_ISSUE) || !vg__http_csrf_ok(req, who))
        return;
    static const char *const keys[] = {"note", NULL};
    json_t *o = vg__http_json_object_body(req, keys);
    if (!o)
        return;
    const char *note = NULL;
    int got = vg__http_opt_string(req, o, "note", &note);
    if (got < 0) {
        json_decref(o);
        return;
    }
    /* a revocation cuts a unit off: the journal says why */
    if (got == 0 || !note[0] || strlen(note) > NOTE_MAX) {
        json_decref(o);
        vg__http_reply_error(req, 400, "Bad Request", "invalid",
                             "{\"note\": why the unit is revoked (1 to 1000 bytes)}");
        return;
    }
    char err[512] = "";
    int rc = h->hooks.revoke_unit(h->hooks.arg, who, serial, note, err, sizeof err);
    json_decref(o);
    if (rc == VG_OK)
        vg__http_reply_value(req, 200, "OK",
                             json_pack("{s:s,s:b}", "serial", serial, "revoked", 1));
    else if (rc == VG_ESTATE && strcmp(err, "stopping") != 0)
        vg__http_reply_error(req, 409, "Conflict", "state", err);
    else
        vg__http_reply_vg_error(req, rc, err);
}

void vg__http_on_unit(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                      const struct vg_identity *who, const char *serial, const char *what)
{
    if (vg_name_check(serial) != VG_OK || strcmp(what, "revoke") != 0) {
        vg__http_reply_error(req, 404, "Not Found", "not_found", "no such resource");
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        vg__http_method_not_allowed(req, "POST");
        return;
    }
    on_revoke(h, req, who, serial);
}
