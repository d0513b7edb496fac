/* The incidents' reports and steps (http/api.h hooks: GET
 * /api/v1/incidents/ID/report, with the outbox's dispatches, and /steps;
 * a measure's reports, GET /api/v1/measures/ID/reports), read from the
 * store so that an old incident's are reachable (the centre holds each
 * measure's latest incident only), and what a close reads for its report
 * (center_report.h). Run on the HTTP thread; what concerns the centre runs
 * on the daemon's loop. A magistrate reads his court's only; the incidents
 * of a measure the centre has let go (archived) are no one's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/err.h"
#include "core/incident.h"
#include "core/roles.h"
#include "daemon/center_report.h"
#include "daemon/daemon_internal.h"
#include "store/record_json.h"
#include "util/journal.h"
#include "util/measure_json.h"

/* How long a close waits for its incident's last alarms to be stored. */
#define ALARMS_WAIT_MS 5000

static int add_step(void *arg, const struct vg_store_incident_step *x)
{
    json_t *o = vg_incident_step_json(x);
    return o && json_array_append_new(arg, o) == 0 ? 0 : VG_ENOSPC;
}

/* ---- what a close reads ---------------------------------------------------------------- */

struct peek_call {
    int64_t id;
    struct vg_incident inc;
    int rc;
};

static void do_peek(struct daemon *d, void *arg)
{
    struct peek_call *p = arg;
    p->rc = vg_center_incident_peek(d->center, p->id, &p->inc);
}

struct alarm_read {
    uint32_t last; /* the incident's last alarm */
    uint32_t seen; /* the last one read */
    json_t *list;
};

static int add_alarm(void *arg, const struct vg_store_alarm *a)
{
    struct alarm_read *r = arg;
    if (a->alarm.seq > r->last)
        return 1; /* after the incident: stop */
    const char *kind = vg_alarm_kind_name(a->alarm.kind);
    json_t *o =
        json_pack("{s:I,s:s,s:I,s:I}", "seq", (json_int_t)a->alarm.seq, "kind", kind ? kind : "",
                  "at_ms", (json_int_t)a->alarm.at_ms, "raised_ms", (json_int_t)a->alarm.raised_ms);
    if (!o || json_array_append_new(r->list, o) != 0)
        return VG_ENOSPC;
    r->seen = a->alarm.seq;
    return 0;
}

void vg__daemon_report_input_free(struct vg_center_report_input *in)
{
    json_decref(in->alarms);
    json_decref(in->steps);
    memset(in, 0, sizeof *in);
}

int vg__daemon_report_input(struct daemon *d, int64_t id, struct vg_center_report_input *in,
                            char *err, size_t err_len)
{
    memset(in, 0, sizeof *in);
    struct peek_call p = {.id = id, .rc = VG_ESTATE};
    if (vg__daemon_on_loop(d, do_peek, &p) != VG_OK) {
        snprintf(err, err_len, "stopping");
        return VG_ESTATE;
    }
    if (p.rc != VG_OK) {
        snprintf(err, err_len, "no incident %lld in progress", (long long)id);
        return p.rc;
    }
    /* its alarms, first to last: the last ones may still be on their way
     * to the store (they were gathered when the incident was looked at) */
    struct alarm_read r = {.last = p.inc.last_alarm_seq};
    int rc = VG_OK;
    for (int waited = 0;; waited += 10) {
        r.list = json_array();
        r.seen = 0;
        rc = r.list ? vg_store_alarms(d->store, p.inc.measure_id,
                                      p.inc.first_alarm_seq ? p.inc.first_alarm_seq - 1 : 0,
                                      add_alarm, &r)
                    : VG_ENOSPC;
        if (rc == 1)
            rc = VG_OK;
        if (rc != VG_OK || r.seen >= r.last || waited >= ALARMS_WAIT_MS)
            break;
        json_decref(r.list);
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (rc == VG_OK && r.seen < r.last) {
        json_decref(r.list);
        snprintf(err, err_len, "the alarms of incident %lld are not all stored yet: try again",
                 (long long)id);
        return VG_ESTALE;
    }
    json_t *steps = json_array();
    if (rc == VG_OK)
        rc = steps ? vg_store_incident_steps(d->store, id, add_step, steps) : VG_ENOSPC;
    if (rc != VG_OK) {
        snprintf(err, err_len, "cannot read the incident's alarms and steps: %s", vg_strerror(rc));
        json_decref(r.list);
        json_decref(steps);
        return rc;
    }
    *in = (struct vg_center_report_input){.last_alarm_seq = p.inc.last_alarm_seq,
                                          .n_steps = p.inc.n_steps,
                                          .alarms = r.list,
                                          .steps = steps};
    return VG_OK;
}

/* ---- reads --------------------------------------------------------------------------------- */

/* Whether `who` may see what concerns measure `id`: the centre holds it
 * (not archived) and, for a magistrate, it is his court's. */
struct visible_call {
    const struct vg_identity *who;
    int64_t id;
    bool found, allowed;
    char name[VG_NAME_MAX + 1];
};

static int see_measure(void *arg, const struct vg_center_measure_info *m)
{
    struct visible_call *v = arg;
    if (m->id != v->id)
        return 0;
    v->found = true;
    v->allowed = !vg_role_court_scoped(v->who->role) ||
                 (v->who->court[0] && strcmp(m->court, v->who->court) == 0);
    snprintf(v->name, sizeof v->name, "%s", m->name);
    return 1;
}

static void do_visible(struct daemon *d, void *arg)
{
    vg_center_list_measures(d->center, see_measure, arg);
}

static int visible(struct daemon *d, const struct vg_identity *who, int64_t measure_id,
                   int64_t incident_id, char *name, size_t name_len, char *err, size_t err_len)
{
    struct visible_call v = {.who = who, .id = measure_id};
    if (vg__daemon_on_loop(d, do_visible, &v) != VG_OK) {
        snprintf(err, err_len, "stopping");
        return VG_ESTATE;
    }
    if (!v.found || !v.allowed) {
        snprintf(err, err_len, "no incident %lld", (long long)incident_id);
        return VG_ENOTFOUND;
    }
    snprintf(name, name_len, "%s", v.name);
    return VG_OK;
}

struct report_copy {
    int64_t measure_id, created_ms;
    json_t *recipients;
    char *content;
};

static int copy_report(void *arg, const struct vg_store_report *r)
{
    struct report_copy *c = arg;
    c->measure_id = r->measure_id;
    c->created_ms = r->created_ms;
    c->recipients = json_loads(r->recipients, 0, NULL);
    c->content = strdup(r->content);
    return c->content ? 0 : VG_ENOSPC;
}

/* The outbox's dispatch records of one incident's report (report_outbox.c
 * journals one report.dispatch per recipient served): the journal is
 * walked whole, as for the seal of a drawn report (reports are read
 * rarely). */
struct dispatch_find {
    char subject[48];
    json_t *list;
};

static int add_dispatch(void *arg, const struct vg_journal_entry *e)
{
    struct dispatch_find *f = arg;
    if (strcmp(e->action, "report.dispatch") != 0 || strcmp(e->subject, f->subject) != 0)
        return 0;
    json_t *o = json_loads(e->detail, 0, NULL);
    if (!json_is_object(o)) { /* not ours to judge here: vigie journal verify does */
        json_decref(o);
        return 0;
    }
    json_object_set_new(o, "at_ms", json_integer(e->at_ms));
    json_object_set_new(o, "journal_id", json_integer(e->id));
    return json_array_append_new(f->list, o) == 0 ? 0 : VG_ENOSPC;
}

static int hook_report(void *arg, const struct vg_identity *who, int64_t id, json_t **out,
                       char *err, size_t err_len)
{
    struct daemon *d = arg;
    struct report_copy r = {0};
    int rc = vg_store_report(d->store, id, copy_report, &r);
    char name[VG_NAME_MAX + 1] = "";
    if (rc == VG_ENOTFOUND)
        snprintf(err, err_len, "incident %lld has no report (not closed, or no such incident)",
                 (long long)id);
    else if (rc != VG_OK)
        snprintf(err, err_len, "cannot read the report: %s", vg_strerror(rc));
    else
        rc = visible(d, who, r.measure_id, id, name, sizeof name, err, err_len);
    json_t *content = rc == VG_OK ? json_loads(r.content, 0, NULL) : NULL;
    char sha[VG_JOURNAL_HEX_LEN + 1] = "";
    if (rc == VG_OK)
        vg_sha256_hex(r.content, strlen(r.content), sha);
    json_t *o = rc == VG_OK ? json_pack("{s:I,s:I,s:s,s:I,s:O,s:O,s:s,s:s}", "incident_id",
                                        (json_int_t)id, "measure_id", (json_int_t)r.measure_id,
                                        "measure", name, "created_ms", (json_int_t)r.created_ms,
                                        "recipients", r.recipients ? r.recipients : json_null(),
                                        "content", content ? content : json_null(), "content_text",
                                        r.content, "content_sha256", sha)
                            : NULL;
    json_decref(content);
    json_decref(r.recipients);
    free(r.content);
    if (rc == VG_OK && !o) {
        snprintf(err, err_len, "out of memory");
        rc = VG_ENOSPC;
    }
    char subject[48], detail[VG_NAME_MAX + 32];
    snprintf(subject, sizeof subject, "incident/%lld", (long long)id);
    if (rc == VG_OK) {
        struct dispatch_find f = {.list = json_array()};
        snprintf(f.subject, sizeof f.subject, "%s", subject);
        rc = f.list ? vg_store_journal(d->store, 0, add_dispatch, &f) : VG_ENOSPC;
        if (rc == VG_OK)
            json_object_set_new(o, "dispatches", f.list);
        else {
            json_decref(f.list);
            snprintf(err, err_len, "cannot read the report's dispatches: %s", vg_strerror(rc));
        }
    }
    snprintf(detail, sizeof detail, "{\"measure\":\"%s\"}", name); /* a name needs no escaping */
    if (rc == VG_OK)
        rc = vg_center_journal(d->center, who->name, "report.read", subject, detail, err, err_len);
    if (rc != VG_OK) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return VG_OK;
}

static int hook_steps(void *arg, const struct vg_identity *who, int64_t id, json_t **out, char *err,
                      size_t err_len)
{
    struct daemon *d = arg;
    struct vg_incident inc;
    int rc = vg_store_incident(d->store, id, &inc);
    char name[VG_NAME_MAX + 1] = "";
    if (rc == VG_ENOTFOUND)
        snprintf(err, err_len, "no incident %lld", (long long)id);
    else if (rc != VG_OK)
        snprintf(err, err_len, "cannot read the incident: %s", vg_strerror(rc));
    else
        rc = visible(d, who, inc.measure_id, id, name, sizeof name, err, err_len);
    json_t *steps = rc == VG_OK ? json_array() : NULL;
    if (rc == VG_OK &&
        (rc = steps ? vg_store_incident_steps(d->store, id, add_step, steps) : VG_ENOSPC) != VG_OK)
        snprintf(err, err_len, "cannot read the incident's steps: %s", vg_strerror(rc));
    char subject[48], detail[VG_NAME_MAX + 48];
    snprintf(subject, sizeof subject, "incident/%lld", (long long)id);
    snprintf(detail, sizeof detail, "{\"count\":%zu,\"measure\":\"%s\"}", json_array_size(steps),
             name);
    if (rc == VG_OK)
        rc = vg_center_journal(d->center, who->name, "incident.steps", subject, detail, err,
                               err_len);
    if (rc != VG_OK) {
        json_decref(steps);
        return rc;
    }
    *out = steps;
    return VG_OK;
}

/* ---- a measure's reports ----------------------------------------------------------------- */

struct closed_list {
    int64_t measure_id;
    struct vg_incident *p;
    size_t n, cap;
};

static int add_closed(void *arg, const struct vg_incident *inc)
{
    struct closed_list *l = arg;
    if (inc->measure_id != l->measure_id || inc->state != VG_INCIDENT_CLOSED)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct vg_incident *p = realloc(l->p, cap * sizeof *p);
        if (!p)
            return VG_ENOSPC;
        l->p = p;
        l->cap = cap;
    }
    l->p[l->n++] = *inc;
    return 0;
}

/* One closed incident's report as the list shows it (NULL: made before
 * reports were, or out of memory: *rc says which). */
static json_t *report_item(struct daemon *d, const struct vg_incident *inc, int *rc)
{
    struct report_copy r = {0};
    *rc = vg_store_report(d->store, inc->id, copy_report, &r);
    json_t *o = NULL;
    if (*rc == VG_OK) {
        char sha[VG_JOURNAL_HEX_LEN + 1] = "";
        vg_sha256_hex(r.content, strlen(r.content), sha);
        const char *kind = vg_alarm_kind_name(inc->first_kind);
        o = json_pack("{s:I,s:I,s:I,s:I,s:s,s:i,s:s,s:O,s:s}", "incident_id", (json_int_t)inc->id,
                      "created_ms", (json_int_t)r.created_ms, "opened_ms",
                      (json_int_t)inc->opened_ms, "closed_ms", (json_int_t)inc->closed_ms,
                      "first_alarm", kind ? kind : "", "priority", (int)inc->priority,
                      "operator", inc->operator_name, "recipients",
                      r.recipients ? r.recipients : json_null(), "content_sha256", sha);
        if (!o)
            *rc = VG_ENOSPC;
    } else if (*rc == VG_ENOTFOUND) {
        *rc = VG_OK; /* closed before reports were made: nothing to list */
    }
    json_decref(r.recipients);
    free(r.content);
    return o;
}

static int hook_measure_reports(void *arg, const struct vg_identity *who, int64_t id, json_t **out,
                                char *err, size_t err_len)
{
    struct daemon *d = arg;
    char name[VG_NAME_MAX + 1] = "";
    int rc = visible(d, who, id, 0, name, sizeof name, err, err_len);
    if (rc == VG_ENOTFOUND)
        snprintf(err, err_len, "no measure %lld", (long long)id);
    if (rc != VG_OK)
        return rc;
    /* every incident is walked (as the activity does): a measure's closed
     * ones, then their reports, newest first */
    struct closed_list l = {.measure_id = id};
    rc = vg_store_incidents(d->store, false, add_closed, &l);
    json_t *list = rc == VG_OK ? json_array() : NULL;
    if (rc == VG_OK && !list)
        rc = VG_ENOSPC;
    for (size_t i = l.n; rc == VG_OK && i-- > 0;) {
        json_t *o = report_item(d, &l.p[i], &rc);
        if (o && json_array_append_new(list, o) != 0)
            rc = VG_ENOSPC;
    }
    free(l.p);
    if (rc != VG_OK) {
        snprintf(err, err_len, "cannot read the measure's reports: %s", vg_strerror(rc));
        json_decref(list);
        return rc;
    }
    char detail[64];
    snprintf(detail, sizeof detail, "{\"count\":%zu}", json_array_size(list));
    rc = vg_center_journal(d->center, who->name, "report.list", name, detail, err, err_len);
    if (rc != VG_OK) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return VG_OK;
}

void vg__daemon_report_hooks(struct vg_http_hooks *h)
{
    h->incident_report = hook_report;
    h->incident_steps = hook_steps;
    h->measure_reports = hook_measure_reports;
}
