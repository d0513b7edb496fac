/* GET /api/v1/incidents/ID/report and /ID/steps: an incident's report
 * (made when it was closed) and its protocol steps, whatever its age.
 * Operators, supervisors, and magistrates (their court's measures only:
 * another's is 404, as if it did not exist). */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "core/err.h"
#include "core/roles.h"
#include "http/http_internal.h"

bool vg__http_on_incident_read(struct vg_http *h, struct evhttp_request *req,
                               enum evhttp_cmd_type cmd, const struct vg_identity *who,
                               const char *rest)
{
    /* "/ID/report" or "/ID/steps" */
    if (rest[0] != '/' || rest[1] < '1' || rest[1] > '9')
        return false;
    char *end = NULL;
    long long id = strtoll(rest + 1, &end, 10);
    bool report = end && strcmp(end, "/report") == 0;
    if (id <= 0 || !end || (!report && strcmp(end, "/steps") != 0))
        return false;
    if (!vg__http_permitted(req, who, VG_PERM_INCIDENT_REPORT))
        return true;
    if (cmd != EVHTTP_REQ_GET) {
        vg__http_method_not_allowed(req, "GET");
        return true;
    }
    char err[512] = "";
    json_t *out = NULL;
    int rc = report ? h->hooks.incident_report(h->hooks.arg, who, id, &out, err, sizeof err)
                    : h->hooks.incident_steps(h->hooks.arg, who, id, &out, err, sizeof err);
    if (rc == VG_OK)
        vg__http_reply_value(req, 200, "OK", out);
    else
        vg__http_reply_vg_error(req, rc, err);
    return true;
}
