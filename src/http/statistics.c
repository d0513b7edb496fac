/* The statistician's figures over HTTP: GET /api/v1/statistics (docs/API.md,
 * "Statistics"). The store's rows (versions, alarm counts: nothing that
 * names anyone) go through core/stats.c, which counts, folds the small
 * courts and withholds the small counts; this file reads, journals and
 * writes the answer as JSON or CSV. The read is on the HTTP thread, like
 * the persons': it never touches the centre's loop. */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "core/err.h"
#include "core/lifecycle.h"
#include "core/stats.h"
#include "http/http_internal.h"
#include "store/store.h"

/* ---- reading: the store's rows, a measure at a time, into the core --------------------------- */

struct gather {
    struct vg_stats st;
    /* the memory st works in, grown on VG_ENOSPC */
    struct vg_stats_court *courts;
    struct vg_stats_cell *cells;
    size_t cap_courts;
    struct vg_stats_delay *delays;
    size_t cap_delays;
    /* the measure being read: one over a court's longest name is too long,
     * which the core folds like no court */
    int64_t measure;
    char court[VG_STATS_COURT_MAX + 2];
    struct vg_stats_version *versions;
    size_t n_versions, cap_versions;
    struct vg_stats_alarms *alarms;
    size_t n_alarms, cap_alarms;
    struct vg__stats_extra extra; /* incidents and losses, by measure */
};

/* The next capacity of a growing array. */
static size_t grown(size_t cap)
{
    return cap ? 2 * cap : 16;
}

/* Room for one more version, one more alarm count: false if out of memory. */
static bool version_room(struct gather *g)
{
    if (g->n_versions < g->cap_versions)
        return true;
    struct vg_stats_version *v = realloc(g->versions, grown(g->cap_versions) * sizeof *v);
    if (!v)
        return false;
    g->versions = v;
    g->cap_versions = grown(g->cap_versions);
    return true;
}

static bool alarm_room(struct gather *g)
{
    if (g->n_alarms < g->cap_alarms)
        return true;
    struct vg_stats_alarms *a = realloc(g->alarms, grown(g->cap_alarms) * sizeof *a);
    if (!a)
        return false;
    g->alarms = a;
    g->cap_alarms = grown(g->cap_alarms);
    return true;
}

static int more_memory(struct gather *g)
{
    size_t courts = g->cap_courts ? 2 * g->cap_courts : 16;
    size_t delays = g->cap_delays ? 2 * g->cap_delays : 64;
    struct vg_stats_court *c = realloc(g->courts, courts * sizeof *c);
    if (!c)
        return VG_ENOSPC;
    g->courts = c;
    struct vg_stats_cell *x = realloc(g->cells, courts * g->st.n_months * sizeof *x);
    if (!x)
        return VG_ENOSPC;
    g->cells = x;
    g->cap_courts = courts;
    struct vg_stats_delay *d = realloc(g->delays, delays * sizeof *d);
    if (!d)
        return VG_ENOSPC;
    g->delays = d;
    g->cap_delays = delays;
    vg_stats_memory(&g->st, g->courts, g->cells, g->cap_courts, g->delays, g->cap_delays);
    return VG_OK;
}

/* The measure read so far, into the core. */
static int flush(struct gather *g)
{
    if (g->n_versions == 0)
        return VG_OK; /* alarms of a measure without versions: nothing to place them in */
    struct vg_stats_measure m = {.court = g->court, .versions = g->versions, .n_versions = g->n_versions, .alarms = g->alarms, .n_alarms = g->n_alarms};
    vg__stats_extra_of(&g->extra, g->measure, &m);
    int rc;
    while ((rc = vg_stats_add(&g->st, &m)) == VG_ENOSPC)
        if (more_memory(g) != VG_OK)
            return VG_ENOSPC;
    g->n_versions = g->n_alarms = 0;
    return rc;
}

static int gather_row(void *arg, const struct vg_store_stats_row *r)
{
    struct gather *g = arg;
    if (r->measure_id != g->measure) {
        int rc = flush(g);
        if (rc != VG_OK)
            return rc;
        g->measure = r->measure_id;
        g->court[0] = '\0';
    }
    if (!r->alarms) {
        if (!version_room(g))
            return VG_ENOSPC;
        if (g->n_versions == 0)
            snprintf(g->court, sizeof g->court, "%s", r->court);
        g->versions[g->n_versions++] = (struct vg_stats_version){
            (uint8_t)vg_status_from_name(r->status),
            (uint8_t)vg_end_reason_from_name(r->end_reason), r->created_ms};
        return VG_OK;
    }
    if (!alarm_room(g))
        return VG_ENOSPC;
    g->alarms[g->n_alarms++] =
        (struct vg_stats_alarms){r->kind, r->raised_ms, r->count > 0 ? (uint64_t)r->count : 0};
    return VG_OK;
}

static void gather_free(struct gather *g)
{
    free(g->courts);
    free(g->cells);
    free(g->delays);
    free(g->versions);
    free(g->alarms);
    vg__stats_extra_free(&g->extra);
}

/* ---- writing ------------------------------------------------------------------------------- */

/* Courts' names are names (A-Z a-z 0-9 . _ -) or "other courts": escaped
 * all the same, a definition could hold anything. */
static void json_text(struct evbuffer *out, const char *s)
{
    evbuffer_add(out, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            evbuffer_add_printf(out, "\\%c", c);
        else if (c < 0x20)
            evbuffer_add_printf(out, "\\u%04x", c);
        else
            evbuffer_add(out, s, 1);
    }
    evbuffer_add(out, "\"", 1);
}

static void json_value(struct evbuffer *out, struct vg_stats_value v, unsigned decimals)
{
    if (v.suppressed)
        evbuffer_add_printf(out, "{\"value\":null,\"suppressed\":true}");
    else if (!v.defined)
        evbuffer_add_printf(out, "{\"value\":null}");
    else
        evbuffer_add_printf(out, "{\"value\":%.*f}", (int)decimals, v.value);
}

static void write_json(struct evbuffer *out, const struct vg_stats *st, const char *from,
                       const char *to)
{
    evbuffer_add_printf(out, "{\"from\":\"%s\",\"to\":\"%s\",\"threshold\":%d,\"courts\":[", from,
                        to, VG_STATS_THRESHOLD);
    size_t n_metrics = vg_stats_n_metrics();
    for (size_t r = 0; r < vg_stats_rows(st); r++) {
        evbuffer_add_printf(out, "%s{\"court\":", r ? "," : "");
        json_text(out, vg_stats_row_court(st, r));
        evbuffer_add_printf(out, ",\"months\":[");
        for (uint32_t k = 0; k < st->n_months; k++) {
            char month[8];
            vg_stats_month_format(st->first_month + (int32_t)k, month);
            evbuffer_add_printf(out, "%s{\"month\":\"%s\"", k ? "," : "", month);
            const char *group = NULL; /* the group open, if any */
            for (size_t i = 0; i < n_metrics; i++) {
                struct vg_stats_metric m = vg_stats_metric(i);
                bool same = group && m.group && strcmp(group, m.group) == 0;
                if (group && !same) {
                    evbuffer_add(out, "}", 1);
                    group = NULL;
                }
                if (m.group && !same) { /* its first member follows the brace */
                    evbuffer_add_printf(out, ",\"%s\":{", m.group);
                    group = m.group;
                } else {
                    evbuffer_add(out, ",", 1);
                }
                evbuffer_add_printf(out, "\"%s\":", m.name);
                json_value(out, vg_stats_value(st, r, k, i), m.decimals);
            }
            if (group)
                evbuffer_add(out, "}", 1);
            evbuffer_add(out, "}", 1);
        }
        evbuffer_add(out, "]}", 2);
    }
    evbuffer_add(out, "]}\n", 3);
}

static void csv_text(struct evbuffer *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        evbuffer_add(out, s, strlen(s));
        return;
    }
    evbuffer_add(out, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            evbuffer_add(out, "\"", 1); /* doubled */
        evbuffer_add(out, s, 1);
    }
    evbuffer_add(out, "\"", 1);
}

/* One row per court, month and metric; a withheld or undefined value is
 * empty, and `suppressed` tells which. */
static void write_csv(struct evbuffer *out, const struct vg_stats *st)
{
    evbuffer_add_printf(out, "court,month,metric,value,suppressed\n");
    size_t n_metrics = vg_stats_n_metrics();
    for (size_t r = 0; r < vg_stats_rows(st); r++) {
        for (uint32_t k = 0; k < st->n_months; k++) {
            char month[8];
            vg_stats_month_format(st->first_month + (int32_t)k, month);
            for (size_t i = 0; i < n_metrics; i++) {
                struct vg_stats_metric m = vg_stats_metric(i);
                struct vg_stats_value v = vg_stats_value(st, r, k, i);
                csv_text(out, vg_stats_row_court(st, r));
                evbuffer_add_printf(out, ",%s,%s%s%s,", month, m.group ? m.group : "",
                                    m.group ? "." : "", m.name);
                if (v.defined && !v.suppressed)
                    evbuffer_add_printf(out, "%.*f", (int)m.decimals, v.value);
                evbuffer_add_printf(out, ",%s\n", v.suppressed ? "true" : "false");
            }
        }
    }
}

/* ---- the request --------------------------------------------------------------------------- */

/* ?from=YYYY-MM&to=YYYY-MM&format=json|csv, each at most once: 1, or 0
 * after replying 400. */
static int read_query(struct evhttp_request *req, const char **from, const char **to, bool *csv,
                      struct evkeyvalq *params)
{
    *from = *to = NULL;
    *csv = false;
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (!q)
        return 1;
    if (evhttp_parse_query_str(q, params) != 0) {
        vg__http_reply_error(req, 400, "Bad Request", "invalid", "the query string is malformed");
        return 0;
    }
    const char *format = NULL;
    struct evkeyval *p;
    TAILQ_FOREACH(p, params, next)
    {
        const char **slot = strcmp(p->key, "from") == 0     ? from
                            : strcmp(p->key, "to") == 0     ? to
                            : strcmp(p->key, "format") == 0 ? &format
                                                            : NULL;
        char msg[96];
        if (!slot || *slot) {
            snprintf(msg, sizeof msg, "%.40s: %s", p->key,
                     slot ? "given twice" : "unknown parameter (from, to, format)");
            vg__http_reply_error(req, 400, "Bad Request", "invalid", msg);
            return 0;
        }
        *slot = p->value;
    }
    if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
        vg__http_reply_error(req, 400, "Bad Request", "invalid", "format: json or csv");
        return 0;
    }
    *csv = format && strcmp(format, "csv") == 0;
    return 1;
}

void vg__http_on_statistics(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                            const struct vg_identity *who)
{
    if (cmd != EVHTTP_REQ_GET) {
        vg__http_method_not_allowed(req, "GET");
        return;
    }
    if (!vg__http_permitted(req, who, VG_PERM_STATISTICS))
        return;
    struct evkeyvalq params = {0};
    TAILQ_INIT(&params);
    const char *from_arg, *to_arg;
    bool csv;
    if (!read_query(req, &from_arg, &to_arg, &csv, &params)) {
        evhttp_clear_headers(&params);
        return;
    }
    int64_t now = vg__http_now_ms();
    int32_t first;
    uint32_t n_months;
    char msg[96];
    if (vg_stats_period(from_arg, to_arg, now, &first, &n_months, msg, sizeof msg) != VG_OK) {
        evhttp_clear_headers(&params);
        vg__http_reply_error(req, 400, "Bad Request", "invalid", msg);
        return;
    }
    evhttp_clear_headers(&params);
    char from[8], to[8];
    vg_stats_month_format(first, from);
    vg_stats_month_format(first + (int32_t)n_months - 1, to);

    /* a magistrate's figures are his court's */
    struct gather g = {0};
    vg_stats_init(&g.st, first, n_months, now, vg_role_court_scoped(who->role) ? who->court : NULL);
    int rc = more_memory(&g);
    if (rc == VG_OK)
        rc = vg__stats_extra_read(h->store, g.st.from_ms, g.st.to_ms, &g.extra);
    if (rc == VG_OK)
        rc = vg_store_statistics(h->store, g.st.from_ms, g.st.to_ms, gather_row, &g);
    if (rc == VG_OK)
        rc = flush(&g);
    if (rc == VG_OK)
        vg_stats_finish(&g.st);

    /* journaled before the answer goes, like every read of the record */
    json_t *dj = json_pack("{s:s,s:s,s:s}", "from", from, "to", to, "format", csv ? "csv" : "json");
    if (dj && g.st.only_court)
        json_object_set_new(dj, "court", json_string(g.st.only_court));
    char *detail = dj ? json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(dj);
    if (!detail)
        rc = VG_ENOSPC;
    if (rc != VG_OK ||
        vg_auth_journal(h->auth, who->name, "statistics.read", "statistics", detail) != 0) {
        free(detail);
        gather_free(&g);
        vg__http_reply_error(req, 503, "Service Unavailable", "unavailable",
                             "the statistics cannot be read or the read journaled");
        return;
    }
    free(detail);
    struct evbuffer *body = evbuffer_new();
    if (!body) {
        gather_free(&g);
        vg__http_reply_error(req, 503, "Service Unavailable", "unavailable", "out of memory");
        return;
    }
    if (csv) {
        write_csv(body, &g.st);
        struct evkeyvalq *out = evhttp_request_get_output_headers(req);
        evhttp_add_header(out, "Content-Type", "text/csv; charset=utf-8");
        evhttp_add_header(out, "Cache-Control", "no-store");
        evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
        evhttp_send_reply(req, 200, "OK", body);
    } else {
        write_json(body, &g.st, from, to);
        vg__http_reply_json(req, 200, "OK", body);
    }
    evbuffer_free(body);
    gather_free(&g);
}
