/* The escalation timers (core/incident.h): once a second, every incident in
 * progress is checked against the policy (vigied's escalate_take_ms and
 * escalate_progress_ms); one nobody took in time, or taken and without a
 * step in time, is escalated to the supervisors: the incident records why
 * and when, and the journal says so (`incident.escalate`, by the centre),
 * which the live stream carries to every console (http/stream.c). Each is
 * raised once per reason: a taking or a step starts the clock again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "core/err.h"
#include "daemon/center_internal.h"
#include "util/incident_json.h"
#include "util/log.h"

#define TICK_MS 1000

/* The escalation written with its journal entry, in a batch of its own
 * (not waited for: the loop goes on; its order among batches is kept). */
static void submit(struct vg_center *c, const struct measure *m, enum vg_escalation why)
{
    struct cbatch *b = calloc(1, sizeof *b);
    if (b) {
        b->c = c;
        b->incidents = malloc(sizeof *b->incidents);
        b->incident_subject = calloc(1, sizeof *b->incident_subject);
        b->incident_detail = calloc(1, sizeof *b->incident_detail);
        b->journal = calloc(1, sizeof *b->journal);
    }
    json_t *o = json_pack("{s:s,s:o}", "reason", vg_escalation_name(why), "incident",
                          vg_incident_to_json(&m->incident, m->def.name));
    char *detail = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!b || !b->incidents || !b->incident_subject || !b->incident_detail || !b->journal ||
        !detail) {
        free(detail);
        if (b) {
            free(b->incidents);
            free(b->incident_subject);
            free(b->incident_detail);
            free(b->journal);
            free(b);
        }
        vg_log(VG_LOG_ERROR, "out of memory: an escalation not stored", "measure", m->def.name,
               NULL);
        return;
    }
    b->incidents[0] = m->incident;
    b->n_incidents = b->cap_incidents = 1;
    snprintf(b->incident_subject[0], sizeof b->incident_subject[0], "incident/%lld",
             (long long)m->incident.id);
    b->incident_detail[0] = detail;
    b->journal[0] = (struct vg_store_journal_entry){.actor = "centre",
                                                    .action = "incident.escalate",
                                                    .subject = b->incident_subject[0],
                                                    .detail = detail};
    b->sb.incidents = b->incidents;
    b->sb.n_incidents = 1;
    b->sb.journal = b->journal;
    b->sb.n_journal = 1;
    b->sb.urgent = true; /* a supervisor waits on it */
    b->sb.done = vg__center_on_store_done;
    b->sb.arg = b;
    vg__center_flush(c); /* what was gathered before goes first */
    c->in_store++;
    if (vg_store_submit(c->store, &b->sb) != VG_OK)
        vg__center_on_store_done(&b->sb, VG_ESTATE, "store closed");
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vg_center *c = arg;
    int64_t now = vg__center_wall_ms();
    for (struct measure *m = c->measures; m; m = m->next) {
        if (!m->has_incident || m->incident.state == VG_INCIDENT_CLOSED)
            continue;
        int64_t next;
        enum vg_escalation why =
            vg_incident_escalation(&m->incident, &c->opts.escalation, now, &next);
        if (why == VG_ESCALATE_NONE)
            continue;
        m->incident.escalation = (uint8_t)why;
        m->incident.escalated_ms = now;
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)m->incident.id);
        vg_log(VG_LOG_WARN, "incident escalated to the supervisors", "incident", id, "measure",
               m->def.name, "reason", vg_escalation_name(why), NULL);
        submit(c, m, why);
    }
}

int vg__escalation_start(struct vg_center *c)
{
    c->escalation_ev = event_new(c->base, -1, EV_PERSIST, on_tick, c);
    struct timeval tv = {TICK_MS / 1000, (TICK_MS % 1000) * 1000};
    if (!c->escalation_ev || event_add(c->escalation_ev, &tv) != 0)
        return VG_ENOSPC;
    return VG_OK;
}

void vg__escalation_stop(struct vg_center *c)
{
    if (c->escalation_ev)
        event_free(c->escalation_ev);
    c->escalation_ev = NULL;
}
