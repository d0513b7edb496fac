/* GET /api/v1/incidents/ID/report.pdf?for=ROLE (http/api.h
 * incident_report_pdf): the closed incident's report drawn for one of its
 * recipients (report/incident_pdf.h), from what the store holds: the
 * record made at closing, the journal entry that seals it, the measure's
 * definition and both persons' fixes from ten minutes before the incident
 * opened to two minutes after it closed. Run on the HTTP thread; what
 * concerns the centre runs on its loop. Journaled (report.pdf, with the
 * recipient and the document's SHA-256) before it is answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/err.h"
#include "core/fix.h"
#include "core/roles.h"
#include "daemon/daemon_internal.h"
#include "report/incident_pdf.h"
#include "util/journal.h"
#include "util/measure_json.h"
#include "util/tzload.h"

#define BEFORE_MS  (10 * 60000)
#define AFTER_MS   (2 * 60000)
#define MAX_POINTS 20000

/* ---- the measure, as the centre holds it ---------------------------------------------------- */

static int see_measure(void *arg, const struct vg_center_measure_info *m)
{
    struct vg__measure_call *c = arg;
    if (m->id != c->id)
        return 0;
    c->found = true;
    /* no one asking: the centre itself (the outbox) */
    c->allowed = !c->who || !vg_role_court_scoped(c->who->role) ||
                 (c->who->court[0] && strcmp(m->court, c->who->court) == 0);
    snprintf(c->name, sizeof c->name, "%s", m->name);
    c->definition = m->definition ? strdup(m->definition) : NULL;
    return 1;
}

static void do_measure(struct daemon *d, void *arg)
{
    struct vg__measure_call *c = arg;
    vg_center_list_measures(d->center, see_measure, c);
    if (c->found)
        vg_center_track_subject(d->center, c->id, &c->units);
}

int vg__daemon_measure_lookup(struct daemon *d, struct vg__measure_call *c)
{
    return vg__daemon_on_loop(d, do_measure, c);
}

/* ---- what the store holds ----------------------------------------------------------------- */

struct record_copy {
    int64_t measure_id;
    char *content;
    json_t *recipients;
};

static int copy_record(void *arg, const struct vg_store_report *r)
{
    struct record_copy *c = arg;
    c->measure_id = r->measure_id;
    c->content = strdup(r->content);
    c->recipients = json_loads(r->recipients, 0, NULL);
    return c->content ? 0 : VG_ENOSPC;
}

struct seal_find {
    char subject[48];
    int64_t id;
    char hash[VG_JOURNAL_HEX_LEN + 1];
};

static int find_seal(void *arg, const struct vg_journal_entry *e)
{
    struct seal_find *f = arg;
    if (strcmp(e->action, "report.create") == 0 && strcmp(e->subject, f->subject) == 0) {
        f->id = e->id;
        vg_journal_hex(e->hash, f->hash);
        return 1;
    }
    return 0;
}

struct points {
    struct vg_report_point *p;
    size_t n, cap;
};

static int add_fix(void *arg, const struct vg_store_record *r)
{
    struct points *t = arg;
    const struct vg_fix *f = &r->rec.fix;
    if (r->rec.type != VG_REC_FIX || !VG_FIX_IS_GNSS(f->quality) || vg_fix_check(f) != VG_OK)
        return 0;
    if (t->n == MAX_POINTS)
        return 1;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        struct vg_report_point *p = realloc(t->p, cap * sizeof *p);
        if (!p)
            return VG_ENOSPC;
        t->p = p;
        t->cap = cap;
    }
    t->p[t->n++] = (struct vg_report_point){f->time_ms, f->lat_deg, f->lon_deg, (double)f->accuracy_m};
    return 0;
}

static int by_time(const void *a, const void *b)
{
    int64_t x = ((const struct vg_report_point *)a)->t_ms;
    int64_t y = ((const struct vg_report_point *)b)->t_ms;
    return x < y ? -1 : x > y;
}

static int read_points(struct daemon *d, int64_t unit_id, int64_t from, int64_t to,
                       struct points *out)
{
    int rc = unit_id ? vg_store_unit_records(d->store, unit_id, from, to, add_fix, out) : VG_OK;
    if (rc == 1)
        rc = VG_OK;
    if (out->n)
        qsort(out->p, out->n, sizeof *out->p, by_time); /* received order: a backlog comes late */
    return rc;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The name the measure gives this recipient ("" if it names none such). */
static void recipient_name(json_t *recipients, const char *role, char *out, size_t cap)
{
    size_t i;
    json_t *r;
    out[0] = '\0';
    json_array_foreach(recipients, i, r)
    {
        const char *rr = json_string_value(json_object_get(r, "role"));
        const char *rn = json_string_value(json_object_get(r, "name"));
        if (rr && rn && strcmp(rr, role) == 0) {
            snprintf(out, cap, "%s", rn);
            return;
        }
    }
}

int vg__daemon_report_draw(struct daemon *d, const struct vg_identity *who, int64_t id,
                           unsigned aud, const char *recipient, struct vg__report_drawn *out,
                           char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (!vg_report_audience_name(aud)) {
        snprintf(err, err_len, "for: magistrate, prosecutor, probation or victim_support");
        return VG_EINVAL;
    }
    struct record_copy rec = {0};
    struct vg__measure_call mc = {.who = who};
    struct seal_find seal = {.id = 0};
    struct points author = {0}, prot = {0};
    struct vg_measure_def def;
    struct vg_tz *tz = NULL; /* large: not on this thread's stack */
    bool have_def = false;
    int rc = vg_store_report(d->store, id, copy_record, &rec);
    if (rc == VG_ENOTFOUND)
        snprintf(err, err_len, "incident %lld has no report (not closed, or no such incident)",
                 (long long)id);
    else if (rc != VG_OK)
        snprintf(err, err_len, "cannot read the report: %s", vg_strerror(rc));
    if (rc == VG_OK) {
        mc.id = rec.measure_id;
        if (vg__daemon_measure_lookup(d, &mc) != VG_OK) {
            snprintf(err, err_len, "stopping");
            rc = VG_ESTATE;
        } else if (!mc.found || !mc.allowed) {
            snprintf(err, err_len, "no incident %lld", (long long)id);
            rc = VG_ENOTFOUND;
        }
    }
    /* the entry that seals the record: the whole journal is walked (a
     * report is drawn rarely; an index on subjects would serve at scale) */
    if (rc == VG_OK) {
        snprintf(seal.subject, sizeof seal.subject, "incident/%lld", (long long)id);
        int jr = vg_store_journal(d->store, 0, find_seal, &seal);
        if ((jr != VG_OK && jr != 1) || !seal.id) {
            snprintf(err, err_len,
                     "the journal entry sealing the report of incident %lld cannot be found",
                     (long long)id);
            rc = VG_ESTATE;
        }
    }
    json_t *content = rc == VG_OK ? json_loads(rec.content, 0, NULL) : NULL;
    json_t *inc = json_object_get(content, "incident");
    if (rc == VG_OK && mc.definition && (tz = malloc(sizeof *tz))) {
        char tz_name[VG_NAME_MAX + 1];
        if (vg_measure_json_timezone(mc.definition, tz_name, sizeof tz_name, err, err_len) == VG_OK &&
            vg_tz_load(tz, d->cfg.center.zoneinfo_dir, tz_name, err, err_len) >= 0 &&
            vg_measure_def_parse(mc.definition, tz, &def, err, err_len) == VG_OK)
            have_def = true;
        err[0] = '\0'; /* without it, no zones are drawn: not a reason to refuse */
    }
    if (rc == VG_OK) {
        int64_t from = json_integer_value(json_object_get(inc, "opened_ms")) - BEFORE_MS;
        int64_t to = json_integer_value(json_object_get(inc, "closed_ms")) + AFTER_MS;
        rc = read_points(d, mc.units.author_unit_id, from, to, &author);
        if (rc == VG_OK)
            rc = read_points(d, mc.units.protected_unit_id, from, to, &prot);
        if (rc != VG_OK)
            snprintf(err, err_len, "cannot read the positions: %s", vg_strerror(rc));
    }
    char sha[VG_JOURNAL_HEX_LEN + 1] = "";
    if (rc == VG_OK) {
        vg_sha256_hex(rec.content, strlen(rec.content), sha);
        if (recipient)
            snprintf(out->recipient, sizeof out->recipient, "%s", recipient);
        else
            recipient_name(rec.recipients, vg_report_audience_name(aud), out->recipient,
                           sizeof out->recipient);
        struct vg_report_input in = {.content = rec.content,
                                     .def = have_def ? &def : NULL,
                                     .author = author.p,
                                     .n_author = author.n,
                                     .protected_person = prot.p,
                                     .n_protected = prot.n,
                                     .journal_id = seal.id,
                                     .journal_hash = seal.hash,
                                     .content_sha256 = sha,
                                     .audience = aud,
                                     .recipient_name = out->recipient,
                                     .generated_ms = now_ms()};
        rc = vg_report_incident_pdf(&in, &out->pdf, &out->len, err, err_len);
    }
    if (rc == VG_OK) {
        vg_sha256_hex(out->pdf, out->len, out->pdf_sha256);
        snprintf(out->measure, sizeof out->measure, "%s", mc.name);
        snprintf(out->subject, sizeof out->subject, "%s", seal.subject);
    }
    if (have_def)
        vg_measure_def_cleanup(&def);
    free(tz);
    json_decref(content);
    json_decref(rec.recipients);
    free(rec.content);
    free(mc.definition);
    free(author.p);
    free(prot.p);
    return rc;
}

static int hook_report_pdf(void *arg, const struct vg_identity *who, int64_t id,
                           const char *audience, unsigned char **pdf, size_t *len, char *err,
                           size_t err_len)
{
    struct daemon *d = arg;
    struct vg__report_drawn r;
    *pdf = NULL;
    *len = 0;
    int rc = vg__daemon_report_draw(d, who, id,
                                    vg_report_audience_parse(audience ? audience : "magistrate"),
                                    NULL, &r, err, err_len);
    if (rc != VG_OK)
        return rc;
    char detail[256];
    snprintf(detail, sizeof detail,
             "{\"for\":\"%s\",\"measure\":\"%s\",\"pdf_sha256\":\"%s\",\"bytes\":%zu}",
             audience ? audience : "magistrate", r.measure, r.pdf_sha256, r.len);
    rc = vg_center_journal(d->center, who->name, "report.pdf", r.subject, detail, err, err_len);
    if (rc != VG_OK) { /* not journaled: not given */
        free(r.pdf);
        return rc;
    }
    *pdf = r.pdf;
    *len = r.len;
    return VG_OK;
}

void vg__daemon_report_pdf_hooks(struct vg_http_hooks *h)
{
    h->incident_report_pdf = hook_report_pdf;
}
