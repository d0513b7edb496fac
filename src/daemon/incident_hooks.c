/* The incidents' side of the HTTP API (http/api.h hooks), run for the HTTP
 * thread on the daemon's loop. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "core/guidance.h"
#include "core/incident.h"
#include "daemon/daemon_internal.h"
#include "util/incident_json.h"
#include "util/measure_json.h"

static json_t *incident_json(const struct vg_incident *x, const char *measure)
{
    return vg_incident_to_json(x, measure);
}

/* One incident in progress and its measure's name, as the queue lists it. */
struct queued {
    struct vg_incident inc;
    char measure[VG_NAME_MAX + 1];
};

struct list_call {
    struct queued *items;
    size_t n, cap;
    int rc;
};

static int add_one(void *arg, const struct vg_incident *inc, const char *measure, const char *court)
{
    (void)court;
    struct list_call *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        struct queued *p = realloc(l->items, cap * sizeof *p);
        if (!p)
            return l->rc = VG_ENOSPC;
        l->items = p;
        l->cap = cap;
    }
    l->items[l->n].inc = *inc;
    snprintf(l->items[l->n].measure, sizeof l->items[0].measure, "%s", measure);
    l->n++;
    return 0;
}

static void do_list(struct daemon *d, void *arg)
{
    vg_center_list_incidents(d->center, add_one, arg);
}

/* The queue's order (core/incident.h): the most urgent first, then the oldest. */
static int queue_order(const void *a, const void *b)
{
    return vg_incident_queue_cmp(&((const struct queued *)a)->inc,
                                 &((const struct queued *)b)->inc);
}

static int hook_list(void *arg, const struct vg_identity *who, json_t **out, char *err,
                     size_t err_len)
{
    struct daemon *d = arg;
    struct list_call l = {0};
    if (vg__daemon_on_loop(d, do_list, &l) != VG_OK || l.rc != VG_OK) {
        free(l.items);
        snprintf(err, err_len, l.rc ? "out of memory" : "stopping");
        return l.rc ? l.rc : VG_ESTATE;
    }
    if (l.n)
        qsort(l.items, l.n, sizeof *l.items, queue_order);
    json_t *a = json_array();
    for (size_t i = 0; a && i < l.n; i++)
        json_array_append_new(a, incident_json(&l.items[i].inc, l.items[i].measure));
    free(l.items);
    char detail[48];
    snprintf(detail, sizeof detail, "{\"count\":%zu}", json_array_size(a));
    int rc = a ? vg_center_journal(d->center, who->name, "incident.list", "*", detail, err, err_len)
               : VG_ENOSPC;
    if (rc != VG_OK) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return VG_OK;
}

struct act_call {
    const struct vg_identity *who;
    int64_t id;
    const char *action, *operator_name, *text;
    bool reassign;
    enum vg_step_kind kind;
    enum vg_step_outcome outcome;
    struct vg_incident after;
    char measure[VG_NAME_MAX + 1];
    const struct vg_center_report_input *report; /* a close's */
    char *err;
    size_t err_len;
    int rc;
};

static int name_of(void *arg, const struct vg_incident *inc, const char *measure, const char *court)
{
    (void)court;
    struct act_call *a = arg;
    if (inc->id == a->id)
        snprintf(a->measure, sizeof a->measure, "%s", measure);
    return 0;
}

static void do_act(struct daemon *d, void *arg)
{
    struct act_call *a = arg;
    vg_center_list_incidents(d->center, name_of, a);
    a->rc = vg_center_incident_act(d->center, a->who->name, a->action, a->id, a->operator_name,
                                   a->reassign, a->kind, a->outcome, a->text, a->report, &a->after,
                                   a->err, a->err_len);
}

static unsigned by_name(const char *(*name)(unsigned), unsigned n, const char *s)
{
    for (unsigned i = 0; s && i < n; i++)
        if (name(i) && strcmp(name(i), s) == 0)
            return i;
    return n;
}

static int hook_act(void *arg, const struct vg_identity *who, int64_t id, const char *action,
                    const char *operator_name, bool reassign, const char *step, const char *outcome,
                    const char *text, json_t **out, char *err, size_t err_len)
{
    struct act_call a = {.who = who,
                         .id = id,
                         .action = action,
                         .operator_name = operator_name,
                         .text = text,
                         .reassign = reassign,
                         .err = err,
                         .err_len = err_len,
                         .rc = VG_ESTATE};
    if (strcmp(action, "step") == 0) {
        unsigned k = by_name(vg_step_kind_name, VG_STEP__COUNT, step);
        unsigned o =
            outcome ? by_name(vg_step_outcome_name, VG_OUTCOME__COUNT, outcome) : VG_OUTCOME_NONE;
        if (k >= VG_STEP__COUNT || o >= VG_OUTCOME__COUNT) {
            snprintf(err, err_len,
                     "step: author_called, protected_called, police_alerted, "
                     "magistrate_informed or note; outcome: reached, not_reached, "
                     "complied, refused or guided");
            return VG_EINVAL;
        }
        a.kind = (enum vg_step_kind)k;
        a.outcome = (enum vg_step_outcome)o;
    }
    /* a close makes the incident's report: its alarms and steps are read
     * here, off the loop, and again if the incident moves on meanwhile */
    struct vg_center_report_input report = {0};
    bool closing = strcmp(action, "close") == 0;
    for (int attempt = 0;; attempt++) {
        int rc = closing ? vg__daemon_report_input(arg, id, &report, err, err_len) : VG_OK;
        if (rc != VG_OK)
            return rc;
        a.report = closing ? &report : NULL;
        rc = vg__daemon_on_loop(arg, do_act, &a);
        vg__daemon_report_input_free(&report);
        if (rc != VG_OK) {
            snprintf(err, err_len, "stopping");
            return VG_ESTATE;
        }
        if (!closing || a.rc != VG_ESTALE || attempt == 4)
            break;
    }
    if (a.rc == VG_OK)
        *out = incident_json(&a.after, a.measure);
    if (a.rc == VG_OK && closing) /* its report, drawn for each recipient */
        vg__outbox_push(((struct daemon *)arg)->outbox, id);
    return a.rc;
}

/* ---- one incident, with guidance (core/guidance.h) ---- */

struct view_call {
    int64_t id;
    struct vg_center_incident_view in; /* copied on the loop */
    struct vg_guidance g;              /* computed here, off the loop */
    int rc;
};

static void do_view(struct daemon *d, void *arg)
{
    struct view_call *v = arg;
    v->rc = vg_center_incident_view(d->center, v->id, &v->in);
}

/* A bearing as the operator reads it: whole degrees and the compass point. */
static void set_bearing(json_t *o, const char *key, const char *compass_key, double deg)
{
    long b = lround(deg) % 360;
    json_object_set_new(o, key, json_integer(b));
    json_object_set_new(o, compass_key, json_string(vg_guidance_compass(deg)));
}

static json_t *age_s(int64_t age_ms)
{
    return age_ms < 0 ? json_null() : json_integer((json_int_t)(age_ms / 1000));
}

/* "guidance": never her position, only which way each person should go. */
static json_t *guidance_json(const struct view_call *v)
{
    const struct vg_guidance *g = &v->g;
    json_t *o = json_object(), *reasons = json_array(), *her = json_object(), *him = json_object();
    if (!o || !reasons || !her || !him) {
        json_decref(o);
        json_decref(reasons);
        json_decref(her);
        json_decref(him);
        return NULL;
    }
    for (unsigned f = 1; f <= VG_GUIDANCE_FLAG_LAST; f <<= 1)
        if (g->flags & f)
            json_array_append_new(reasons, json_string(vg_guidance_flag_name(f)));
    json_object_set_new(o, "reasons", reasons);
    json_object_set_new(o, "her_fix_age_s", age_s(g->her_age_ms));
    json_object_set_new(o, "his_fix_age_s", age_s(g->his_age_ms));
    if (g->her_age_ms >= 0 && g->his_age_ms >= 0) {
        json_object_set_new(o, "distance_m", json_integer(lround(g->distance_m)));
        json_object_set_new(o, "uncertainty_m", json_integer(lround(g->uncertainty_m)));
    }
    const struct vg_guidance_protected *p = &g->protected_person;
    json_object_set_new(her, "valid", json_boolean(p->valid));
    if (p->valid) {
        set_bearing(her, "bearing_deg", "compass", p->bearing_deg);
        set_bearing(her, "away_bearing_deg", "away_compass", p->away_bearing_deg);
        json_t *place = json_null();
        if (p->place >= 0) {
            place = json_object();
            json_object_set_new(place, "name", json_string(v->in.places[p->place].name));
            set_bearing(place, "bearing_deg", "compass", p->bearing_deg);
            json_object_set_new(place, "distance_m", json_integer(lround(p->place_distance_m)));
        }
        json_object_set_new(her, "safe_place", place);
    }
    const struct vg_guidance_author *a = &g->author;
    json_object_set_new(him, "valid", json_boolean(a->valid));
    if (a->valid) {
        set_bearing(him, "bearing_deg", "compass", a->bearing_deg);
        json_object_set_new(him, "tell_m", json_integer(lround(a->tell_m)));
        json_object_set_new(him, "leave_m", json_integer(lround(a->leave_m)));
        json_object_set_new(him, "inside", json_boolean(a->inside));
        json_object_set_new(him, "paired", json_boolean(a->paired));
    }
    json_object_set_new(o, "protected", her);
    json_object_set_new(o, "author", him);
    return o;
}

/* The incident's alarms (its measure's, from its first to its last), as
 * the console marks them on the distance chart and tells who approached
 * whom: never a position, only the distance the engine judged. */
struct alarms_read {
    uint32_t last;
    json_t *list;
};

static int add_incident_alarm(void *arg, const struct vg_store_alarm *sa)
{
    struct alarms_read *r = arg;
    const struct vg_alarm *a = &sa->alarm;
    if (a->seq > r->last)
        return 1; /* past the incident: stop */
    json_t *o = json_pack("{s:I,s:s,s:I,s:s,s:I,s:I,s:I,s:I,s:s,s:b,s:b}", "seq",
                          (json_int_t)a->seq, "kind", vg_alarm_kind_name(a->kind), "priority",
                          (json_int_t)a->priority, "unit", vg_unit_name(a->unit), "zone_index",
                          (json_int_t)a->zone_index, "zone_id", (json_int_t)a->zone_id, "at_ms",
                          (json_int_t)a->at_ms, "raised_ms", (json_int_t)a->raised_ms,
                          "approached_by", vg_party_name(a->ev.approached_by), "late",
                          (a->flags & VG_ALARM_F_LATE) != 0, "urgent",
                          (a->flags & VG_ALARM_F_URGENT) != 0);
    if (o && a->ev.distance_m >= 0)
        json_object_set_new(o, "distance_m", json_real(round(a->ev.distance_m)));
    if (o && a->ev.threshold_m > 0)
        json_object_set_new(o, "threshold_m", json_real(a->ev.threshold_m));
    if (!o || json_array_append_new(r->list, o) != 0)
        return VG_ENOSPC;
    return 0;
}

static json_t *incident_alarms(struct daemon *d, const struct vg_incident *inc)
{
    struct alarms_read r = {.last = inc->last_alarm_seq, .list = json_array()};
    if (!r.list)
        return NULL;
    int rc = vg_store_alarms(d->store, inc->measure_id,
                             inc->first_alarm_seq ? inc->first_alarm_seq - 1 : 0,
                             add_incident_alarm, &r);
    if (rc != VG_OK && rc != 1) {
        json_decref(r.list);
        return NULL;
    }
    return r.list;
}

static int hook_get(void *arg, const struct vg_identity *who, int64_t id, json_t **out, char *err,
                    size_t err_len)
{
    struct daemon *d = arg;
    struct view_call *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    v->id = id;
    v->rc = VG_ESTATE;
    if (vg__daemon_on_loop(d, do_view, v) != VG_OK) {
        free(v);
        snprintf(err, err_len, "stopping");
        return VG_ESTATE;
    }
    int rc = v->rc;
    if (rc == VG_OK) {
        const struct vg_center_incident_view *in = &v->in;
        struct vg_guidance_input gi = {.author = in->has_fix[0] ? &in->fix[0] : NULL,
                                       .protected_person = in->has_fix[1] ? &in->fix[1] : NULL,
                                       .now_ms = in->now_ms,
                                       .alert_radius_m = in->alert_radius_m,
                                       .zones = in->zones,
                                       .n_zones = in->n_zones,
                                       .places = in->places,
                                       .n_places = in->n_places};
        rc = vg_guidance_compute(&gi, &v->g);
    }
    json_t *o = NULL;
    char *detail = NULL;
    if (rc == VG_ENOTFOUND) {
        snprintf(err, err_len, "no incident %lld", (long long)id);
    } else if (rc != VG_OK) {
        snprintf(err, err_len, "guidance: %s", vg_strerror(rc));
    } else {
        o = incident_json(&v->in.inc, v->in.measure);
        json_t *alarms = o ? incident_alarms(d, &v->in.inc) : NULL;
        if (alarms) /* those stored so far (the last may still be on their way) */
            json_object_set_new(o, "alarm_list", alarms);
        json_t *gj = o ? guidance_json(v) : NULL;
        if (gj && json_object_set_new(o, "guidance", gj) == 0) {
            /* the journal keeps what was shown */
            json_t *dj = json_pack("{s:O,s:O,s:O}", "reasons", json_object_get(gj, "reasons"),
                                   "protected", json_object_get(gj, "protected"), "author",
                                   json_object_get(gj, "author"));
            detail = dj ? json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
            json_decref(dj);
        }
        char subject[48];
        snprintf(subject, sizeof subject, "incident/%lld", (long long)id);
        if (!detail) {
            snprintf(err, err_len, "out of memory");
            rc = VG_ENOSPC;
        } else {
            /* the read is journaled before it is answered */
            rc = vg_center_journal(d->center, who->name, "incident.read", subject, detail, err,
                                   err_len);
        }
    }
    free(detail);
    free(v);
    if (rc != VG_OK) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return VG_OK;
}

void vg__daemon_incident_hooks(struct vg_http_hooks *h)
{
    h->get_incident = hook_get;
    h->list_incidents = hook_list;
    h->act_on_incident = hook_act;
    vg__daemon_report_hooks(h);
}
