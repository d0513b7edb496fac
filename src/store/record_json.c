#include "store/record_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "util/json_check.h"

static json_t *fix_json(const struct vg_fix *f)
{
    return json_pack("{s:I,s:i,s:f,s:f,s:f,s:f,s:f}", "t_ms", (json_int_t)f->time_ms, "quality",
                     (int)f->quality, "lat", f->lat_deg, "lon", f->lon_deg, "accuracy_m",
                     (double)f->accuracy_m, "speed_mps", (double)f->speed_mps, "heading_deg",
                     (double)f->heading_deg);
}

json_t *vg_record_json(const struct vg_store_record *r)
{
    const struct vg_proto_record *x = &r->rec;
    json_t *body;
    const char *type;
    switch (x->type) {
    case VG_REC_FIX:
        type = "fix";
        body = fix_json(&x->fix);
        break;
    case VG_REC_STATUS:
        type = "status";
        body = json_pack("{s:I,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "t_ms",
                         (json_int_t)x->status.time_ms, "subject", (int)x->subject, "battery_pct",
                         (int)x->status.battery_pct, "charging", (int)x->status.charging,
                         "strap_closed", (int)x->status.strap_closed, "skin_contact",
                         (int)x->status.skin_contact, "bracelet_link", (int)x->status.bracelet_link,
                         "beacon_heard", (int)x->status.beacon_heard, "beacon_range_m",
                         (int)x->status.beacon_range_m);
        break;
    case VG_REC_EVENT:
        type = "event";
        body = json_pack("{s:I,s:i}", "t_ms", (json_int_t)x->event.time_ms, "kind",
                         (int)x->event.kind);
        break;
    default: return NULL;
    }
    return json_pack("{s:I,s:I,s:s,s:o}", "seq", (json_int_t)x->seq, "received_ms",
                     (json_int_t)r->received_ms, "type", type, type, body);
}

/* A member that must be an integer in [lo, hi]. */
static int get_int(json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out,
                   const char *where, char *err, size_t len)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return vg_json_fail(err, len, VG_EINVAL, "%s.%s: an integer from %lld to %lld", where, key,
                            (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return VG_OK;
}

static int get_num(json_t *o, const char *key, double *out, const char *where, char *err,
                   size_t len)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return vg_json_fail(err, len, VG_EINVAL, "%s.%s: a number", where, key);
    *out = json_number_value(v);
    return VG_OK;
}

static int fix_from(json_t *o, struct vg_fix *f, const char *where, char *err, size_t len)
{
    int64_t t = 0, q = 0;
    double lat = 0, lon = 0, acc = 0, speed = 0, heading = 0;
    int rc;
    if (!json_is_object(o))
        return vg_json_fail(err, len, VG_EINVAL, "%s: an object", where);
    if ((rc = get_int(o, "t_ms", INT64_MIN / 2, INT64_MAX / 2, &t, where, err, len)) ||
        (rc = get_int(o, "quality", 0, 255, &q, where, err, len)) ||
        (rc = get_num(o, "lat", &lat, where, err, len)) ||
        (rc = get_num(o, "lon", &lon, where, err, len)) ||
        (rc = get_num(o, "accuracy_m", &acc, where, err, len)) ||
        (rc = get_num(o, "speed_mps", &speed, where, err, len)) ||
        (rc = get_num(o, "heading_deg", &heading, where, err, len)))
        return rc;
    *f = (struct vg_fix){.time_ms = t,
                         .lat_deg = lat,
                         .lon_deg = lon,
                         .accuracy_m = (float)acc,
                         .speed_mps = (float)speed,
                         .heading_deg = (float)heading,
                         .quality = (uint8_t)q};
    return VG_OK;
}

int vg_record_from_json(json_t *o, struct vg_store_record *r, char *err, size_t len)
{
    memset(r, 0, sizeof *r);
    if (!json_is_object(o))
        return vg_json_fail(err, len, VG_EINVAL, "record: an object");
    int64_t seq = 0, rx = 0;
    int rc;
    if ((rc = get_int(o, "seq", 1, INT64_MAX, &seq, "record", err, len)) ||
        (rc = get_int(o, "received_ms", 0, INT64_MAX, &rx, "record", err, len)))
        return rc;
    r->rec.seq = (uint64_t)seq;
    r->received_ms = rx;
    const char *type = json_string_value(json_object_get(o, "type"));
    json_t *body = type ? json_object_get(o, type) : NULL;
    if (!type || !body)
        return vg_json_fail(err, len, VG_EINVAL,
                            "record %lld: \"type\" (fix, status, event) and its "
                            "body",
                            (long long)seq);
    if (strcmp(type, "fix") == 0) {
        r->rec.type = VG_REC_FIX;
        return fix_from(body, &r->rec.fix, "record.fix", err, len);
    }
    if (strcmp(type, "event") == 0) {
        int64_t t = 0, kind = 0;
        if ((rc = get_int(body, "t_ms", INT64_MIN / 2, INT64_MAX / 2, &t, "record.event", err,
                          len)) ||
            (rc = get_int(body, "kind", 0, 255, &kind, "record.event", err, len)))
            return rc;
        r->rec.type = VG_REC_EVENT;
        r->rec.event = (struct vg_unit_event){.time_ms = t, .kind = (uint8_t)kind};
        return VG_OK;
    }
    if (strcmp(type, "status") != 0)
        return vg_json_fail(err, len, VG_EINVAL, "record %lld: unknown type \"%.16s\"",
                            (long long)seq, type);
    static const char *const small[] = {"battery_pct",  "charging",      "strap_closed",
                                        "skin_contact", "bracelet_link", "beacon_heard"};
    int64_t v[6] = {0}, t = 0, subject = 0, range = 0;
    if ((rc = get_int(body, "t_ms", INT64_MIN / 2, INT64_MAX / 2, &t, "record.status", err, len)) ||
        (rc = get_int(body, "subject", 0, 255, &subject, "record.status", err, len)) ||
        (rc = get_int(body, "beacon_range_m", INT16_MIN, INT16_MAX, &range, "record.status", err,
                      len)))
        return rc;
    for (size_t i = 0; i < 6; i++)
        if ((rc = get_int(body, small[i], -1, 127, &v[i], "record.status", err, len)))
            return rc;
    r->rec.type = VG_REC_STATUS;
    r->rec.subject = (uint8_t)subject;
    r->rec.status = (struct vg_unit_status){.time_ms = t,
                                            .battery_pct = (int8_t)v[0],
                                            .charging = (int8_t)v[1],
                                            .strap_closed = (int8_t)v[2],
                                            .skin_contact = (int8_t)v[3],
                                            .bracelet_link = (int8_t)v[4],
                                            .beacon_heard = (int8_t)v[5],
                                            .beacon_range_m = (int16_t)range};
    return VG_OK;
}

json_t *vg_alarm_json(const struct vg_alarm *a)
{
    const struct vg_alarm_evidence *e = &a->ev;
    json_t *ev = json_pack("{s:o,s:o,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:i,s:i}", "author_fix",
                           fix_json(&e->author_fix), "protected_fix", fix_json(&e->protected_fix),
                           "distance_m", e->distance_m, "uncertainty_m", e->uncertainty_m,
                           "threshold_m", e->threshold_m, "closing_speed_mps", e->closing_speed_mps,
                           "author_closed_m", e->author_closed_m, "protected_closed_m",
                           e->protected_closed_m, "reach_m", e->reach_m, "approached_by",
                           (int)e->approached_by, "confidence", (int)e->confidence);
    return json_pack(
        "{s:I,s:i,s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:I,s:I,s:I,s:o}", "seq", (json_int_t)a->seq, "kind",
        (int)a->kind, "kind_name", vg_alarm_kind_name(a->kind), "unit", (int)a->unit, "priority",
        (int)a->priority, "flags", (int)a->flags, "level_from", (int)a->level_from, "level_to",
        (int)a->level_to, "zone_index", (int)a->zone_index, "zone_id", (json_int_t)a->zone_id,
        "at_ms", (json_int_t)a->at_ms, "raised_ms", (json_int_t)a->raised_ms, "evidence", ev);
}

int vg_alarm_from_json(json_t *o, struct vg_alarm *a, char *err, size_t len)
{
    memset(a, 0, sizeof *a);
    if (!json_is_object(o))
        return vg_json_fail(err, len, VG_EINVAL, "alarm: an object");
    int64_t seq = 0, kind = 0, unit = 0, prio = 0, flags = 0, from = 0, to = 0, zi = 0, zid = 0,
            at = 0, raised = 0, by = 0, conf = 0;
    int rc;
    if ((rc = get_int(o, "seq", 1, UINT32_MAX, &seq, "alarm", err, len)) ||
        (rc = get_int(o, "kind", 1, VG_ALARM_KIND__COUNT - 1, &kind, "alarm", err, len)) ||
        (rc = get_int(o, "unit", 0, 255, &unit, "alarm", err, len)) ||
        (rc = get_int(o, "priority", 0, 255, &prio, "alarm", err, len)) ||
        (rc = get_int(o, "flags", 0, 255, &flags, "alarm", err, len)) ||
        (rc = get_int(o, "level_from", 0, 255, &from, "alarm", err, len)) ||
        (rc = get_int(o, "level_to", 0, 255, &to, "alarm", err, len)) ||
        (rc = get_int(o, "zone_index", INT16_MIN, INT16_MAX, &zi, "alarm", err, len)) ||
        (rc = get_int(o, "zone_id", 0, UINT32_MAX, &zid, "alarm", err, len)) ||
        (rc = get_int(o, "at_ms", INT64_MIN / 2, INT64_MAX / 2, &at, "alarm", err, len)) ||
        (rc = get_int(o, "raised_ms", INT64_MIN / 2, INT64_MAX / 2, &raised, "alarm", err, len)))
        return rc;
    json_t *ev = json_object_get(o, "evidence");
    struct vg_alarm_evidence *e = &a->ev;
    if (!json_is_object(ev))
        return vg_json_fail(err, len, VG_EINVAL, "alarm.evidence: an object");
    if ((rc = fix_from(json_object_get(ev, "author_fix"), &e->author_fix,
                       "alarm.evidence.author_fix", err, len)) ||
        (rc = fix_from(json_object_get(ev, "protected_fix"), &e->protected_fix,
                       "alarm.evidence.protected_fix", err, len)) ||
        (rc = get_num(ev, "distance_m", &e->distance_m, "alarm.evidence", err, len)) ||
        (rc = get_num(ev, "uncertainty_m", &e->uncertainty_m, "alarm.evidence", err, len)) ||
        (rc = get_num(ev, "threshold_m", &e->threshold_m, "alarm.evidence", err, len)) ||
        (rc =
             get_num(ev, "closing_speed_mps", &e->closing_speed_mps, "alarm.evidence", err, len)) ||
        (rc = get_num(ev, "author_closed_m", &e->author_closed_m, "alarm.evidence", err, len)) ||
        (rc = get_num(ev, "protected_closed_m", &e->protected_closed_m, "alarm.evidence", err,
                      len)) ||
        (rc = get_num(ev, "reach_m", &e->reach_m, "alarm.evidence", err, len)) ||
        (rc = get_int(ev, "approached_by", 0, 255, &by, "alarm.evidence", err, len)) ||
        (rc = get_int(ev, "confidence", 0, 255, &conf, "alarm.evidence", err, len)))
        return rc;
    e->approached_by = (uint8_t)by;
    e->confidence = (uint8_t)conf;
    a->seq = (uint32_t)seq;
    a->kind = (uint16_t)kind;
    a->unit = (uint8_t)unit;
    a->priority = (uint8_t)prio;
    a->flags = (uint8_t)flags;
    a->level_from = (uint8_t)from;
    a->level_to = (uint8_t)to;
    a->zone_index = (int16_t)zi;
    a->zone_id = (uint32_t)zid;
    a->at_ms = at;
    a->raised_ms = raised;
    return VG_OK;
}

static const char *const incident_numbers[] = {
    "id",         "previous_id",     "state",          "priority",  "escalation",
    "first_kind", "first_alarm_seq", "last_alarm_seq", "n_alarms",  "n_steps",
    "opened_ms",  "taken_ms",        "last_step_ms",   "closed_ms", "escalated_ms"};

json_t *vg_incident_json(const struct vg_incident *x)
{
    const int64_t v[15] = {x->id,           x->previous_id, x->state,           x->priority,
                           x->escalation,   x->first_kind,  x->first_alarm_seq, x->last_alarm_seq,
                           x->n_alarms,     x->n_steps,     x->opened_ms,       x->taken_ms,
                           x->last_step_ms, x->closed_ms,   x->escalated_ms};
    json_t *o = json_pack("{s:s}", "operator", x->operator_name);
    for (size_t i = 0; o && i < 15; i++)
        if (json_object_set_new(o, incident_numbers[i], json_integer(v[i])) != 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

int vg_incident_from_json(json_t *o, struct vg_incident *x, char *err, size_t len)
{
    memset(x, 0, sizeof *x);
    int64_t v[15] = {0};
    if (!json_is_object(o))
        return vg_json_fail(err, len, VG_EINVAL, "incident: an object");
    for (size_t i = 0; i < 15; i++) {
        int rc = get_int(o, incident_numbers[i], 0, INT64_MAX / 2, &v[i], "incident", err, len);
        if (rc)
            return rc;
    }
    const char *op = json_string_value(json_object_get(o, "operator"));
    if (!op || strlen(op) > VG_OPERATOR_NAME_MAX || v[2] < VG_INCIDENT_OPEN ||
        v[2] > VG_INCIDENT_CLOSED || v[0] <= 0)
        return vg_json_fail(err, len, VG_EINVAL,
                            "incident: an id, a state 1..3 and an operator (\"\" if none)");
    *x = (struct vg_incident){.id = v[0],
                              .previous_id = v[1],
                              .state = (uint8_t)v[2],
                              .priority = (uint8_t)v[3],
                              .escalation = (uint8_t)v[4],
                              .first_kind = (uint16_t)v[5],
                              .first_alarm_seq = (uint32_t)v[6],
                              .last_alarm_seq = (uint32_t)v[7],
                              .n_alarms = (uint32_t)v[8],
                              .n_steps = (uint32_t)v[9],
                              .opened_ms = v[10],
                              .taken_ms = v[11],
                              .last_step_ms = v[12],
                              .closed_ms = v[13],
                              .escalated_ms = v[14]};
    snprintf(x->operator_name, sizeof x->operator_name, "%s", op);
    return VG_OK;
}

json_t *vg_incident_step_json(const struct vg_store_incident_step *x)
{
    const char *kind = vg_step_kind_name(x->kind), *outcome = vg_step_outcome_name(x->outcome);
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:I}", "n", (json_int_t)x->n, "step", kind ? kind : "",
                     "outcome", outcome ? outcome : "", "text", x->text ? x->text : "",
                     "operator", x->operator_name ? x->operator_name : "", "at_ms",
                     (json_int_t)x->at_ms);
}

/* The number whose name(number) is s, or n if none. */
static unsigned named(const char *(*name)(unsigned), unsigned n, const char *s)
{
    for (unsigned i = 0; s && i < n; i++)
        if (name(i) && strcmp(name(i), s) == 0)
            return i;
    return n;
}

int vg_incident_step_from_json(json_t *o, struct vg_store_incident_step *x, char *err, size_t len)
{
    memset(x, 0, sizeof *x);
    int64_t n = 0, at = 0;
    int rc;
    if (!json_is_object(o))
        return vg_json_fail(err, len, VG_EINVAL, "step: an object");
    if ((rc = get_int(o, "n", 1, UINT32_MAX, &n, "step", err, len)) ||
        (rc = get_int(o, "at_ms", 0, INT64_MAX / 2, &at, "step", err, len)))
        return rc;
    unsigned kind =
        named(vg_step_kind_name, VG_STEP__COUNT, json_string_value(json_object_get(o, "step")));
    unsigned outcome = named(vg_step_outcome_name, VG_OUTCOME__COUNT,
                             json_string_value(json_object_get(o, "outcome")));
    const char *text = json_string_value(json_object_get(o, "text"));
    const char *op = json_string_value(json_object_get(o, "operator"));
    if (kind < VG_STEP_AUTHOR_CALLED || kind >= VG_STEP__COUNT || outcome >= VG_OUTCOME__COUNT ||
        !text || !op || !op[0] || strlen(op) > VG_OPERATOR_NAME_MAX)
        return vg_json_fail(err, len, VG_EINVAL,
                            "step: \"step\" and \"outcome\" by name (core/incident.h), a "
                            "\"text\" and an \"operator\"");
    *x = (struct vg_store_incident_step){.n = (uint32_t)n,
                                         .kind = (uint8_t)kind,
                                         .outcome = (uint8_t)outcome,
                                         .text = text,
                                         .operator_name = op,
                                         .at_ms = at};
    return VG_OK;
}
