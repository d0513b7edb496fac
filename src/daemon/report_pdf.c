/* GET /api/v1/incidents/ID/report.pdf?for=ROLE (http/api.h
 * incident_report_pdf): the closed incident's report drawn for one of its
 * recipients (report/incident_pdf.h), from what the store holds
 * (report_source.h: the record made at closing, the journal entry that
 * seals it, both persons' fixes around the incident) and the measure as
 * the centre holds it (its definition, its units; a magistrate's court
 * checked). Run on the HTTP thread; what concerns the centre runs on its
 * loop. Journaled (report.pdf, with the recipient and the document's
 * SHA-256) before it is answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/err.h"
#include "core/roles.h"
#include "daemon/daemon_internal.h"
#include "daemon/report_source.h"
#include "report/incident_pdf.h"

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

/* ---- the drawing ------------------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
    struct vg_report_record rec;
    struct vg__measure_call mc = {.who = who};
    int rc = vg_report_record_read(d->store, id, &rec, err, err_len);
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
    struct vg_report_document doc;
    if (rc == VG_OK) {
        struct vg_report_measure m = {.definition = mc.definition,
                                      .author_unit_id = mc.units.author_unit_id,
                                      .protected_unit_id = mc.units.protected_unit_id};
        rc = vg_report_draw_stored(d->store, id, &rec, &m, d->cfg.center.zoneinfo_dir, aud,
                                   recipient, now_ms(), &doc, err, err_len);
    }
    if (rc == VG_OK) {
        out->pdf = doc.pdf;
        out->len = doc.len;
        snprintf(out->pdf_sha256, sizeof out->pdf_sha256, "%s", doc.pdf_sha256);
        snprintf(out->measure, sizeof out->measure, "%s", mc.name);
        snprintf(out->subject, sizeof out->subject, "%s", doc.subject);
        snprintf(out->recipient, sizeof out->recipient, "%s", doc.recipient);
    }
    vg_report_record_cleanup(&rec);
    free(mc.definition);
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
