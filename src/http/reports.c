/* GET /api/v1/incidents/ID/report and /ID/steps: an incident's report
 * (made when it was closed) and its protocol steps, whatever its age.
 * Operators, supervisors, and magistrates (their court's measures only:
 * another's is 404, as if it did not exist). */
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

/* /ID/report.pdf?for=ROLE: the report drawn for that recipient. */
static void reply_pdf(struct vg_http *h, struct evhttp_request *req, const struct vg_identity *who,
                      int64_t id)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    struct evkeyvalq q = {0};
    char audience[40] = "magistrate";
    if (query && evhttp_parse_query_str(query, &q) == 0) {
        const char *v = evhttp_find_header(&q, "for");
        if (v)
            snprintf(audience, sizeof audience, "%s", v);
    }
    evhttp_clear_headers(&q);
    char err[512] = "";
    unsigned char *pdf = NULL;
    size_t len = 0;
    int rc = h->hooks.incident_report_pdf(h->hooks.arg, who, id, audience, &pdf, &len, err,
                                          sizeof err);
    if (rc != VG_OK) {
        vg__http_reply_vg_error(req, rc, err);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (!b || evbuffer_add(b, pdf, len) != 0) {
        free(pdf);
        if (b)
            evbuffer_free(b);
        vg__http_reply_error(req, 503, "Service Unavailable", "unavailable", "out of memory");
        return;
    }
    free(pdf);
    char disposition[96];
    snprintf(disposition, sizeof disposition,
             "attachment; filename=\"incident-%lld-%s.pdf\"", (long long)id, audience);
    struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
    evhttp_add_header(hd, "Content-Type", "application/pdf");
    evhttp_add_header(hd, "Content-Disposition", disposition);
    evhttp_add_header(hd, "Cache-Control", "no-store");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

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
    bool pdf = end && strcmp(end, "/report.pdf") == 0;
    if (id <= 0 || !end || (!report && !pdf && strcmp(end, "/steps") != 0))
        return false;
    if (!vg__http_permitted(req, who, VG_PERM_INCIDENT_REPORT))
        return true;
    if (cmd != EVHTTP_REQ_GET) {
        vg__http_method_not_allowed(req, "GET");
        return true;
    }
    char err[512] = "";
    if (pdf) {
        reply_pdf(h, req, who, id);
        return true;
    }
    json_t *out = NULL;
    int rc = report ? h->hooks.incident_report(h->hooks.arg, who, id, &out, err, sizeof err)
                    : h->hooks.incident_steps(h->hooks.arg, who, id, &out, err, sizeof err);
    if (rc == VG_OK)
        vg__http_reply_value(req, 200, "OK", out);
    else
        vg__http_reply_vg_error(req, rc, err);
    return true;
}
