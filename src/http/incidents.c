/* /api/v1/incidents: the operators' queue and their actions on an incident
 * (core/incident.h). Operators and supervisors; a supervisor may give an
 * incident another operator has to someone ("operator" in the take). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "core/err.h"
#include "core/roles.h"
#include "http/http_internal.h"

static void reply(struct evhttp_request *req, int rc, const char *err, json_t *out)
{
    if (rc == VG_OK)
        vg__http_reply_value(req, 200, "OK", out);
    else if (rc == VG_ESTATE && strcmp(err, "stopping") != 0)
        vg__http_reply_error(req, 409, "Conflict", "state", err);
    else
        vg__http_reply_vg_error(req, rc, err);
}

void vg__http_on_incidents(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                           const struct vg_identity *who, const char *rest)
{
    if (vg__http_on_incident_read(h, req, cmd, who, rest)) /* /ID/report, /ID/steps */
        return;
    if (!vg__http_permitted(req, who, VG_PERM_INCIDENT_HANDLE))
        return;
    char err[512] = "";
    json_t *out = NULL;
    if (rest[0] == '\0' || strcmp(rest, "/") == 0) {
        if (cmd != EVHTTP_REQ_GET) {
            vg__http_method_not_allowed(req, "GET");
            return;
        }
        int rc = h->hooks.list_incidents(h->hooks.arg, who, &out, err, sizeof err);
        reply(req, rc, err, out);
        return;
    }
    /* /ID/ACTION */
    char *end = NULL;
    long long id = strtoll(rest + 1, &end, 10);
    if (rest[1] >= '1' && rest[1] <= '9' && id > 0 && end && *end == '\0') {
        /* /ID: the incident with guidance for both persons */
        if (cmd != EVHTTP_REQ_GET) {
            vg__http_method_not_allowed(req, "GET");
            return;
        }
        int rc = h->hooks.get_incident
                     ? h->hooks.get_incident(h->hooks.arg, who, id, &out, err, sizeof err)
                     : VG_ENOTFOUND;
        if (rc == VG_ENOTFOUND && !err[0])
            snprintf(err, sizeof err, "no such incident");
        reply(req, rc, err, out);
        return;
    }
    static const char *const actions[] = {"take", "step", "close"};
    const char *action = NULL;
    for (size_t i = 0; end && *end == '/' && i < 3; i++)
        if (strcmp(end + 1, actions[i]) == 0)
            action = actions[i];
    if (rest[1] < '1' || rest[1] > '9' || id <= 0 || !action) {
        vg__http_reply_error(req, 404, "Not Found", "not_found", "no such resource");
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        vg__http_method_not_allowed(req, "POST");
        return;
    }
    if (!vg__http_csrf_ok(req, who))
        return;
    static const char *const take_keys[] = {"operator", NULL};
    static const char *const step_keys[] = {"step", "outcome", "text", NULL};
    static const char *const close_keys[] = {"summary", NULL};
    const char *const *keys = action[0] == 't'   ? take_keys
                              : action[0] == 's' ? step_keys
                                                 : close_keys;
    json_t *o = vg__http_json_object_body(req, keys);
    if (!o)
        return;
    const char *operator_name = NULL, *step = NULL, *outcome = NULL, *text = NULL, *summary = NULL;
    if (vg__http_opt_string(req, o, "operator", &operator_name) < 0 ||
        vg__http_opt_string(req, o, "step", &step) < 0 ||
        vg__http_opt_string(req, o, "outcome", &outcome) < 0 ||
        vg__http_opt_string(req, o, "text", &text) < 0 ||
        vg__http_opt_string(req, o, "summary", &summary) < 0) {
        json_decref(o);
        return;
    }
    if (summary)
        text = summary;
    if ((text && strlen(text) > 4000) || (action[0] == 's' && action[1] == 't' && !step)) {
        json_decref(o);
        vg__http_reply_error(req, 400, "Bad Request", "invalid",
                             "step: {\"step\", \"outcome\", \"text\" (up to 4000 bytes)}");
        return;
    }
    /* taking for someone else is a supervisor's reassignment */
    bool reassign = operator_name && strcmp(operator_name, who->name) != 0;
    if (reassign && !vg__http_permitted(req, who, VG_PERM_INCIDENT_REASSIGN)) {
        json_decref(o);
        return;
    }
    int rc = h->hooks.act_on_incident(h->hooks.arg, who, id, action,
                                      operator_name ? operator_name : who->name, reassign, step,
                                      outcome, text, &out, err, sizeof err);
    json_decref(o);
    reply(req, rc, err, out);
}
