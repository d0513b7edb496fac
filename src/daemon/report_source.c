/* What an incident's report is drawn from (report_source.h): read from the
 * store alone, so that vigied and the offline tool draw the same thing. */
#include "daemon/report_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fix.h"
#include "report/incident_pdf.h"
#include "util/journal.h"
#include "util/measure_json.h"
#include "util/tzload.h"

#define BEFORE_MS  (10 * 60000)
#define AFTER_MS   (2 * 60000)
#define MAX_POINTS 20000

/* ---- the record ------------------------------------------------------------------------------ */

static int copy_record(void *arg, const struct vg_store_report *r)
{
    struct vg_report_record *c = arg;
    c->measure_id = r->measure_id;
    c->content = strdup(r->content);
    c->recipients = json_loads(r->recipients, 0, NULL);
    return c->content ? 0 : VG_ENOSPC;
}

int vg_report_record_read(struct vg_store *s, int64_t incident_id, struct vg_report_record *out,
                          char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    int rc = vg_store_report(s, incident_id, copy_record, out);
    if (rc == VG_ENOTFOUND)
        snprintf(err, err_len, "incident %lld has no report (not closed, or no such incident)",
                 (long long)incident_id);
    else if (rc != VG_OK)
        snprintf(err, err_len, "cannot read the report: %s", vg_strerror(rc));
    return rc;
}

void vg_report_record_cleanup(struct vg_report_record *r)
{
    free(r->content);
    json_decref(r->recipients);
    memset(r, 0, sizeof *r);
}

/* ---- the seal ---------------------------------------------------------------------------------- */

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

/* ---- the tracks ------------------------------------------------------------------------------ */

struct points {
    struct vg_report_point *p;
    size_t n, cap;
};

static int add_fix(void *arg, const struct vg_store_record *r)
{
    struct points *t = arg;
    const struct vg_fix *f = &r->rec.fix;
    if (r->rec.type != VG_REC_FIX || f->quality == VG_FIX_NONE || vg_fix_check(f) != VG_OK)
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
    t->p[t->n++] =
        (struct vg_report_point){f->time_ms, f->lat_deg, f->lon_deg, (double)f->accuracy_m};
    return 0;
}

static int by_time(const void *a, const void *b)
{
    int64_t x = ((const struct vg_report_point *)a)->t_ms;
    int64_t y = ((const struct vg_report_point *)b)->t_ms;
    return x < y ? -1 : x > y;
}

static int read_points(struct vg_store *s, int64_t unit_id, int64_t from, int64_t to,
                       struct points *out)
{
    int rc = unit_id ? vg_store_unit_records(s, unit_id, from, to, add_fix, out) : VG_OK;
    if (rc == 1)
        rc = VG_OK;
    if (out->n)
        qsort(out->p, out->n, sizeof *out->p, by_time); /* received order: a backlog comes late */
    return rc;
}

/* The name the record gives this recipient ("" if it names none such). */
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

/* ---- the drawing ------------------------------------------------------------------------------ */

int vg_report_draw_stored(struct vg_store *s, int64_t incident_id,
                          const struct vg_report_record *rec, const struct vg_report_measure *m,
                          const char *zoneinfo_dir, unsigned audience, const char *recipient,
                          int64_t now_ms, struct vg_report_document *out, char *err,
                          size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (!vg_report_audience_name(audience)) {
        snprintf(err, err_len, "for: magistrate, prosecutor, probation or victim_support");
        return VG_EINVAL;
    }
    /* the entry that seals the record: the whole journal is walked (a
     * report is drawn rarely; an index on subjects would serve at scale) */
    struct seal_find seal = {.id = 0};
    snprintf(seal.subject, sizeof seal.subject, "incident/%lld", (long long)incident_id);
    int jr = vg_store_journal(s, 0, find_seal, &seal);
    if ((jr != VG_OK && jr != 1) || !seal.id) {
        snprintf(err, err_len, "the journal entry sealing the report of incident %lld cannot be found",
                 (long long)incident_id);
        return VG_ESTATE;
    }
    struct points author = {0}, prot = {0};
    struct vg_measure_def def;
    struct vg_tz *tz = malloc(sizeof *tz); /* large: not on a thread's stack */
    char tz_name[VG_NAME_MAX + 1] = "";
    bool have_def = false, have_tz = false;
    json_t *content = json_loads(rec->content, 0, NULL);
    json_t *inc = json_object_get(content, "incident");
    if (m->definition && tz) {
        have_tz = vg_measure_json_timezone(m->definition, tz_name, sizeof tz_name, err, err_len) ==
                      VG_OK &&
                  vg_tz_load(tz, zoneinfo_dir, tz_name, err, err_len) >= 0;
        if (have_tz && vg_measure_def_parse(m->definition, tz, &def, err, err_len) == VG_OK)
            have_def = true;
        err[0] = '\0'; /* without it, no zones are drawn, times in UTC: not a reason to refuse */
    }
    int64_t from = json_integer_value(json_object_get(inc, "opened_ms")) - BEFORE_MS;
    int64_t to = json_integer_value(json_object_get(inc, "closed_ms")) + AFTER_MS;
    int rc = read_points(s, m->author_unit_id, from, to, &author);
    if (rc == VG_OK)
        rc = read_points(s, m->protected_unit_id, from, to, &prot);
    if (rc != VG_OK)
        snprintf(err, err_len, "cannot read the positions: %s", vg_strerror(rc));
    char sha[VG_JOURNAL_HEX_LEN + 1] = "";
    if (rc == VG_OK) {
        vg_sha256_hex(rec->content, strlen(rec->content), sha);
        if (recipient)
            snprintf(out->recipient, sizeof out->recipient, "%s", recipient);
        else
            recipient_name(rec->recipients, vg_report_audience_name(audience), out->recipient,
                           sizeof out->recipient);
        struct vg_report_input in = {.content = rec->content,
                                     .def = have_def ? &def : NULL,
                                     .author = author.p,
                                     .n_author = author.n,
                                     .protected_person = prot.p,
                                     .n_protected = prot.n,
                                     .journal_id = seal.id,
                                     .journal_hash = seal.hash,
                                     .content_sha256 = sha,
                                     .audience = audience,
                                     .recipient_name = out->recipient,
                                     .generated_ms = now_ms,
                                     .tz = have_tz ? tz : NULL,
                                     .tz_name = tz_name};
        rc = vg_report_incident_pdf(&in, &out->pdf, &out->len, err, err_len);
    }
    if (rc == VG_OK) {
        vg_sha256_hex(out->pdf, out->len, out->pdf_sha256);
        snprintf(out->subject, sizeof out->subject, "%s", seal.subject);
    }
    if (have_def)
        vg_measure_def_cleanup(&def);
    free(tz);
    json_decref(content);
    free(author.p);
    free(prot.p);
    return rc;
}
