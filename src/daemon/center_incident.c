/* The operators' actions on incidents (center.h): taken, stepped, closed,
 * each durable with its journal entry before the operator is answered. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "daemon/center.h"
#include "daemon/center_internal.h"
#include "daemon/center_report.h"
#include "util/incident_json.h"
#include "util/log.h"

int vg_center_list_incidents(struct vg_center *c,
                             int (*cb)(void *arg, const struct vg_incident *inc,
                                       const char *measure, const char *court),
                             void *arg)
{
    for (struct measure *m = c->measures; m; m = m->next) {
        if (!m->has_incident || m->incident.state == VG_INCIDENT_CLOSED)
            continue;
        int rc = cb(arg, &m->incident, m->def.name, m->def.court);
        if (rc)
            return rc;
    }
    return VG_OK;
}

static struct measure *holding(struct vg_center *c, int64_t incident_id)
{
    for (struct measure *m = c->measures; m; m = m->next)
        if (m->has_incident && m->incident.id == incident_id)
            return m;
    return NULL;
}

int vg_center_incident_act(struct vg_center *c, const char *actor, const char *action,
                           int64_t incident_id, const char *operator_name, bool reassign,
                           enum vg_step_kind kind, enum vg_step_outcome outcome, const char *text,
                           const struct vg_center_report_input *report, struct vg_incident *out,
                           char *err, size_t err_len)
{
    struct measure *m = holding(c, incident_id);
    if (!m) {
        snprintf(err, err_len, "no incident %lld in progress", (long long)incident_id);
        return VG_ENOTFOUND;
    }
    struct vg_incident inc = m->incident; /* changed once durable */
    int64_t now = vg__center_wall_ms();
    int rc;
    json_t *detail;
    struct vg__report rep = {0}; /* a close's (center_report.c) */
    if (strcmp(action, "take") == 0) {
        rc = vg_incident_take(&inc, operator_name, reassign, now, err, err_len);
        detail = json_pack("{s:s,s:b}", "operator", operator_name ? operator_name : "",
                           "reassigned", reassign);
    } else if (strcmp(action, "step") == 0) {
        rc = vg_incident_step(&inc, operator_name, kind, outcome, now, err, err_len);
        detail = json_pack("{s:s,s:s,s:s}", "step",
                           vg_step_kind_name(kind) ? vg_step_kind_name(kind) : "", "outcome",
                           vg_step_outcome_name(outcome) ? vg_step_outcome_name(outcome) : "",
                           "text", text ? text : "");
    } else if (strcmp(action, "close") == 0) {
        rc = vg_incident_close(&inc, operator_name, text, now, err, err_len);
        if (rc == VG_OK)
            rc = vg__center_report_build(m, &inc, actor, text, report, &rep, err, err_len);
        detail = json_pack("{s:s}", "summary", text ? text : "");
    } else {
        snprintf(err, err_len, "no such action on an incident: take, step, close");
        return VG_ENOTFOUND;
    }
    if (rc != VG_OK) {
        json_decref(detail);
        return rc;
    }
    /* the incident as it stands after the action: the live stream reads
     * it from the journal (http/stream.c) */
    if (detail)
        json_object_set_new(detail, "incident", vg_incident_to_json(&inc, m->def.name));
    char *d = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(detail);
    char subject[48], what[32];
    snprintf(subject, sizeof subject, "incident/%lld", (long long)inc.id);
    snprintf(what, sizeof what, "incident.%s", action);
    struct vg_store_journal_entry je[2] = {
        {.actor = actor, .action = what, .subject = subject, .detail = d ? d : "{}"}, rep.journal};
    /* a step's row; a close's report, with its own entry after the close's */
    struct vg_store_incident_step step = {.incident_id = inc.id,
                                          .n = inc.n_steps,
                                          .kind = (uint8_t)kind,
                                          .outcome = (uint8_t)outcome,
                                          .text = text ? text : "",
                                          .operator_name = operator_name,
                                          .at_ms = now};
    struct cbatch *b = calloc(1, sizeof *b);
    if (!b || !d) {
        free(b);
        free(d);
        vg__center_report_free(&rep);
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    b->c = c;
    b->sb.incidents = &inc;
    b->sb.n_incidents = 1;
    b->sb.journal = je;
    b->sb.n_journal = rep.content ? 2 : 1;
    b->sb.reports = &rep.row;
    b->sb.n_reports = rep.content ? 1 : 0;
    b->sb.incident_steps = &step;
    b->sb.n_incident_steps = strcmp(action, "step") == 0 ? 1 : 0;
    vg__center_flush(c); /* the alarms already gathered go first */
    rc = vg__center_submit_and_wait(c, b);
    if (rc != VG_OK)
        snprintf(err, err_len, "%s", b->err[0] ? b->err : vg_strerror(rc));
    free(b);
    free(d);
    vg__center_report_free(&rep);
    if (rc != VG_OK)
        return rc;
    /* the loop waited for the commit: no alarm joined it meanwhile */
    m->incident = inc;
    *out = inc;
    vg_log(VG_LOG_INFO, "incident", "id", subject, "action", action, "by", actor, NULL);
    return VG_OK;
}

int vg_center_incident_view(struct vg_center *c, int64_t incident_id,
                            struct vg_center_incident_view *out)
{
    struct measure *m = holding(c, incident_id);
    if (!m)
        return VG_ENOTFOUND;
    out->inc = m->incident;
    snprintf(out->measure, sizeof out->measure, "%s", m->def.name);
    out->now_ms = vg__center_wall_ms();
    out->alert_radius_m = m->def.alert_radius_m;
    /* each person's last fix, aged from when it was true, or from when it
     * came if the unit's clock is ahead */
    for (int k = 0; k < 2; k++) {
        out->has_fix[k] = m->last_fix_rx_ms[k] != 0;
        out->fix[k] = m->last_fix[k].fix;
        if (out->fix[k].time_ms > m->last_fix_rx_ms[k])
            out->fix[k].time_ms = m->last_fix_rx_ms[k];
    }
    out->n_zones = m->def.n_zones;
    for (size_t z = 0; z < m->def.n_zones; z++) {
        struct vg_zone *zone = &out->zones[z];
        *zone = m->def.zones[z];
        zone->windows = NULL;
        zone->n_windows = 0;
        if (zone->vertices) {
            memcpy(out->vertices[z], zone->vertices, zone->n_vertices * sizeof *zone->vertices);
            zone->vertices = out->vertices[z];
        }
    }
    out->n_places = m->def.n_safe_places;
    memcpy(out->places, m->def.safe_places, sizeof out->places);
    return VG_OK;
}
