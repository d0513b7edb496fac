/* The report an incident's closing makes (center_report.h). */
#include "daemon/center_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "daemon/center_internal.h"
#include "util/journal.h"

#define REPORT_FORMAT "vigie.incident-report"

int vg_center_incident_peek(struct vg_center *c, int64_t id, struct vg_incident *out)
{
    for (struct measure *m = c->measures; m; m = m->next) {
        if (m->has_incident && m->incident.id == id) {
            *out = m->incident;
            vg__center_flush(c); /* the alarms gathered so far go to the store now */
            return VG_OK;
        }
    }
    return VG_ENOTFOUND;
}

json_t *vg__center_report_recipients(const struct vg_measure_def *def)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < def->n_report_to; i++) {
        const struct vg_report_recipient *r = &def->report_to[i];
        const char *role = vg_recipient_role_name(r->role);
        if (json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "role", role ? role : "", "name",
                                               r->name, "contact", r->contact)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    /* none named: the decision's magistrate alone */
    if (a && def->n_report_to == 0 &&
        json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "role", "magistrate", "name",
                                           def->decision.magistrate, "contact", "")) != 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

void vg__center_report_free(struct vg__report *r)
{
    free(r->recipients);
    free(r->content);
    free(r->detail);
    memset(r, 0, sizeof *r);
}

int vg__center_report_build(const struct measure *m, const struct vg_incident *closed,
                            const char *actor, const char *summary,
                            const struct vg_center_report_input *in, struct vg__report *out,
                            char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (!in || !json_is_array(in->alarms) || !json_is_array(in->steps)) {
        snprintf(err, err_len, "the report's alarms and steps were not read");
        return VG_EINVAL;
    }
    if (in->last_alarm_seq != closed->last_alarm_seq || in->n_steps != closed->n_steps) {
        snprintf(err, err_len,
                 "incident %lld moved on while its report was prepared (an alarm joined or a "
                 "step was recorded): close it again",
                 (long long)closed->id);
        return VG_ESTALE;
    }
    const char *first = vg_alarm_kind_name(closed->first_kind);
    json_t *recipients = vg__center_report_recipients(&m->def);
    json_t *content = json_pack(
        "{s:s,s:i,s:{s:I,s:s,s:s,s:s},s:{s:I,s:I,s:s,s:i,s:I,s:I,s:I,s:s},s:O,s:O,s:O,s:s}",
        "format", REPORT_FORMAT, "format_version", 1, "measure", "id", (json_int_t)m->id, "name",
        m->def.name, "court", m->def.court, "magistrate", m->def.decision.magistrate, "incident",
        "id", (json_int_t)closed->id, "previous_id", (json_int_t)closed->previous_id, "first_alarm",
        first ? first : "", "priority", (int)closed->priority, "opened_ms",
        (json_int_t)closed->opened_ms, "taken_ms", (json_int_t)closed->taken_ms, "closed_ms",
        (json_int_t)closed->closed_ms, "operator", closed->operator_name, "recipients",
        recipients ? recipients : json_null(), "alarms", in->alarms, "steps", in->steps, "summary",
        summary ? summary : "");
    out->recipients = recipients ? json_dumps(recipients, JSON_COMPACT) : NULL;
    out->content = content ? json_dumps(content, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    size_t n_recipients = json_array_size(recipients);
    json_decref(recipients);
    json_decref(content);
    if (!out->recipients || !out->content ||
        vg_sha256_hex(out->content, strlen(out->content), out->sha256) != VG_OK) {
        vg__center_report_free(out);
        snprintf(err, err_len, "out of memory making the report");
        return VG_ENOSPC;
    }
    json_t *detail =
        json_pack("{s:s,s:I,s:I,s:I,s:s}", "measure", m->def.name, "recipients",
                  (json_int_t)n_recipients, "alarms", (json_int_t)json_array_size(in->alarms),
                  "steps", (json_int_t)json_array_size(in->steps), "sha256", out->sha256);
    out->detail = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(detail);
    if (!out->detail) {
        vg__center_report_free(out);
        snprintf(err, err_len, "out of memory making the report");
        return VG_ENOSPC;
    }
    snprintf(out->subject, sizeof out->subject, "incident/%lld", (long long)closed->id);
    out->row = (struct vg_store_report){.incident_id = closed->id,
                                        .measure_id = m->id,
                                        .created_ms = closed->closed_ms,
                                        .recipients = out->recipients,
                                        .content = out->content};
    out->journal = (struct vg_store_journal_entry){
        .actor = actor, .action = "report.create", .subject = out->subject, .detail = out->detail};
    return VG_OK;
}
