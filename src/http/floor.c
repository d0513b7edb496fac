/* GET /api/v1/floor[?hours=N]: the floor view (core/floor.h; docs/API.md,
 * "GET /api/v1/floor"). Operators and supervisors; what it holds comes from
 * the daemon's hook, which reads and journals it. */
#include <sys/queue.h>

#include <stdio.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "core/err.h"
#include "core/floor.h"
#include "core/roles.h"
#include "http/http_internal.h"

/* ?hours=N, at most once, nothing else: 1 and *hours, or 0 after replying 400. */
static int read_hours(struct evhttp_request *req, int *hours)
{
    *hours = VG_FLOOR_DEFAULT_HOURS;
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (!q || !q[0])
        return 1;
    struct evkeyvalq params;
    TAILQ_INIT(&params);
    const char *msg = NULL;
    char buf[96];
    if (evhttp_parse_query_str(q, &params) != 0) {
        msg = "the query string is malformed";
    } else {
        const char *given = NULL;
        struct evkeyval *p;
        TAILQ_FOREACH(p, &params, next)
        {
            if (strcmp(p->key, "hours") != 0) {
                snprintf(buf, sizeof buf, "%.40s: unknown parameter (hours)", p->key);
                msg = buf;
                break;
            }
            if (given) {
                msg = "hours: given twice";
                break;
            }
            given = p->value;
        }
        if (!msg && given && vg_floor_hours_parse(given, hours) != VG_OK) {
            snprintf(buf, sizeof buf, "hours: a whole number of hours from 1 to %d",
                     VG_FLOOR_MAX_HOURS);
            msg = buf;
        }
    }
    if (msg)
        vg__http_reply_error(req, 400, "Bad Request", "invalid", msg);
    evhttp_clear_headers(&params);
    return msg ? 0 : 1;
}

void vg__http_on_floor(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                       const struct vg_identity *who)
{
    if (cmd != EVHTTP_REQ_GET) {
        vg__http_method_not_allowed(req, "GET");
        return;
    }
    if (!vg__http_permitted(req, who, VG_PERM_FLOOR_READ))
        return;
    int hours;
    if (!read_hours(req, &hours))
        return;
    char err[256] = "";
    json_t *out = NULL;
    int rc = h->hooks.floor ? h->hooks.floor(h->hooks.arg, who, hours, &out, err, sizeof err)
                            : VG_ENOTFOUND;
    if (rc == VG_OK)
        vg__http_reply_value(req, 200, "OK", out);
    else
        vg__http_reply_vg_error(req, rc, err[0] ? err : vg_strerror(rc));
}
