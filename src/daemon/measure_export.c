/* A measure's whole file as one open JSON document (docs/API.md, "Export
 * and import"): every version of its decision, its persons' files with
 * every version, the records its units sent while they served it, its
 * alarms with their evidence, its incidents with their steps and reports,
 * and the journal's entries about it (its persons, its incidents) with
 * their hashes, so that no change of operator or of version ever loses
 * its history. Read on the HTTP thread from the store; journaled
 * (measure.export) before it is answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/err.h"
#include "daemon/daemon_internal.h"
#include "store/record_json.h"
#include "util/journal.h"

#define EXPORT_FORMAT "vigie.measure-export"

struct found {
    int64_t id;
    json_t *measure; /* set when found */
};

static int find_row(void *arg, const struct vg_store_measure_row *m)
{
    struct found *f = arg;
    if (m->id != f->id)
        return 0;
    json_t *inst = json_loads(m->installation, 0, NULL);
    f->measure =
        json_pack("{s:s,s:s,s:s,s:I,s:o,s:I,s:I,s:b,s:[]}", "name", m->name, "status", m->status,
                  "end_reason", m->end_reason, "version", (json_int_t)m->version, "installation",
                  inst ? inst : json_object(), "created_ms", (json_int_t)m->created_ms, "ended_ms",
                  (json_int_t)m->ended_ms, "archived", m->archived, "versions");
    return 1;
}

static int add_version(void *arg, const struct vg_store_measure_version_row *v)
{
    json_t *def = json_loads(v->definition, 0, NULL);
    json_t *o =
        json_pack("{s:I,s:o,s:s,s:s,s:s,s:s,s:I}", "version", (json_int_t)v->version, "definition",
                  def ? def : json_null(), "status", v->status, "end_reason", v->end_reason, "note",
                  v->note, "actor", v->actor, "created_ms", (json_int_t)v->created_ms);
    /* newest first from the store: the document lists them oldest first */
    return o && json_array_insert_new(arg, 0, o) == 0 ? 0 : VG_ENOSPC;
}

static int add_person_version(void *arg, const struct vg_store_person_row *p)
{
    json_t *data = json_loads(p->data, 0, NULL);
    json_t *o = json_pack("{s:I,s:s,s:o,s:s,s:I}", "version", (json_int_t)p->version, "display",
                          p->display, "data", data ? data : json_null(), "actor", p->actor,
                          "created_ms", (json_int_t)p->created_ms);
    return o && json_array_insert_new(arg, 0, o) == 0 ? 0 : VG_ENOSPC;
}

struct unit_ids {
    json_t *units; /* [{"serial", "role", ...}] to fill with "id" */
};

static int match_unit(void *arg, const struct vg_store_unit_row *u)
{
    struct unit_ids *x = arg;
    size_t i;
    json_t *o;
    json_array_foreach(x->units, i, o)
    {
        if (strcmp(json_string_value(json_object_get(o, "serial")), u->serial) == 0)
            json_object_set_new(o, "_id", json_integer(u->id));
    }
    return 0;
}

static int add_record(void *arg, const struct vg_store_record *r)
{
    json_t *o = vg_record_json(r);
    return o && json_array_append_new(arg, o) == 0 ? 0 : VG_ENOSPC;
}

static int add_alarm(void *arg, const struct vg_store_alarm *a)
{
    json_t *o = vg_alarm_json(&a->alarm);
    return o && json_array_append_new(arg, o) == 0 ? 0 : VG_ENOSPC;
}

struct of_measure {
    int64_t measure_id;
    json_t *list;
    struct vg_store *store;
    json_t *subjects; /* the journal's subjects to excerpt */
};

static int add_step(void *arg, const struct vg_store_incident_step *st)
{
    json_t *o = vg_incident_step_json(st);
    return o && json_array_append_new(arg, o) == 0 ? 0 : VG_ENOSPC;
}

/* The report's content as its text: the journal's report.create holds its SHA-256. */
static int add_report(void *arg, const struct vg_store_report *r)
{
    json_t *recipients = json_loads(r->recipients, 0, NULL);
    json_t *o = json_pack("{s:I,s:o,s:s}", "created_ms", (json_int_t)r->created_ms, "recipients",
                          recipients ? recipients : json_array(), "content", r->content);
    return o && json_object_set_new(arg, "report", o) == 0 ? 0 : VG_ENOSPC;
}

/* An incident with its steps, its report (null if none) and its journal
 * entries' subject (incident/ID) for the excerpt. */
static int add_incident(void *arg, const struct vg_incident *inc)
{
    struct of_measure *x = arg;
    if (inc->measure_id != x->measure_id)
        return 0;
    json_t *o = vg_incident_json(inc);
    json_t *steps = json_array();
    if (!o || !steps || json_object_set_new(o, "steps", steps) != 0 ||
        json_object_set_new(o, "report", json_null()) != 0 ||
        json_array_append_new(x->list, o) != 0) {
        json_decref(o);
        return VG_ENOSPC;
    }
    int rc = vg_store_incident_steps(x->store, inc->id, add_step, steps);
    if (rc == VG_OK)
        rc = vg_store_report(x->store, inc->id, add_report, o);
    if (rc == VG_ENOTFOUND) /* no report: not closed, or closed before reports */
        rc = VG_OK;
    char subject[48];
    snprintf(subject, sizeof subject, "incident/%lld", (long long)inc->id);
    if (rc == VG_OK && json_array_append_new(x->subjects, json_string(subject)) != 0)
        rc = VG_ENOSPC;
    return rc;
}

struct excerpt {
    json_t *entries;
    json_t *subjects; /* the measure's name, "person/ID" of its persons, "incident/ID" */
};

static int add_entry(void *arg, const struct vg_journal_entry *e)
{
    struct excerpt *x = arg;
    size_t i;
    json_t *s;
    bool ours = false;
    json_array_foreach(x->subjects, i, s) ours =
        ours || strcmp(json_string_value(s), e->subject) == 0;
    if (!ours)
        return 0;
    char prev[VG_JOURNAL_HEX_LEN + 1], hash[VG_JOURNAL_HEX_LEN + 1];
    vg_journal_hex(e->prev, prev);
    vg_journal_hex(e->hash, hash);
    json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)e->id, "at_ms",
                          (json_int_t)e->at_ms, "actor", e->actor, "action", e->action, "subject",
                          e->subject, "detail", e->detail, "prev_hash", prev, "hash", hash);
    return o && json_array_append_new(x->entries, o) == 0 ? 0 : VG_ENOSPC;
}

/* The units a measure's versions named, each once, with its role. */
static json_t *units_of(json_t *versions)
{
    json_t *units = json_array();
    static const char *const roles[] = {"author", "protected", "bracelet"};
    size_t i;
    json_t *v;
    json_array_foreach(versions, i, v)
    {
        json_t *u = json_object_get(json_object_get(v, "definition"), "units");
        for (int k = 0; k < 3; k++) {
            const char *serial = json_string_value(json_object_get(u, roles[k]));
            bool seen = false;
            size_t j;
            json_t *o;
            json_array_foreach(units, j, o) seen =
                seen ||
                (serial && strcmp(json_string_value(json_object_get(o, "serial")), serial) == 0);
            if (serial && !seen)
                json_array_append_new(units, json_pack("{s:s,s:s,s:[]}", "serial", serial, "role",
                                                       roles[k], "records"));
        }
    }
    return units;
}

int vg__daemon_export_measure(struct daemon *d, const struct vg_identity *who, int64_t id,
                              json_t **out, char *err, size_t err_len)
{
    struct found f = {.id = id};
    int rc = vg_store_measures(d->store, find_row, &f);
    if (rc > 0)
        rc = VG_OK;
    if (rc != VG_OK || !f.measure) {
        snprintf(err, err_len, "no measure %lld", (long long)id);
        return rc == VG_OK ? VG_ENOTFOUND : rc;
    }
    json_t *m = f.measure;
    json_t *versions = json_object_get(m, "versions");
    json_t *persons = json_array(), *alarms = json_array(), *subjects = json_array();
    json_t *entries = json_array();
    json_t *units = NULL;
    rc = persons && alarms && subjects && entries ? VG_OK : VG_ENOSPC;
    if (rc == VG_OK)
        rc = vg_store_measure_versions(d->store, id, add_version, versions);
    const char *name = json_string_value(json_object_get(m, "name"));
    if (rc == VG_OK)
        json_array_append_new(subjects, json_string(name));
    /* the persons every version named */
    size_t i;
    json_t *v;
    json_array_foreach(versions, i, v)
    {
        json_t *p = json_object_get(json_object_get(v, "definition"), "persons");
        static const char *const who_key[] = {"author", "protected"};
        for (int k = 0; k < 2 && rc == VG_OK; k++) {
            json_int_t pid = json_integer_value(json_object_get(p, who_key[k]));
            bool seen = false;
            size_t j;
            json_t *o;
            json_array_foreach(persons, j, o) seen =
                seen || json_integer_value(json_object_get(o, "id")) == pid;
            if (!pid || seen)
                continue;
            json_t *pv = json_pack("{s:I,s:[]}", "id", pid, "versions");
            rc = pv ? vg_store_person(d->store, pid, 0, true, add_person_version,
                                      json_object_get(pv, "versions"))
                    : VG_ENOSPC;
            if (rc == VG_ENOTFOUND) /* a file deleted since: nothing to carry */
                rc = VG_OK;
            json_array_append_new(persons, pv);
            char subject[48];
            snprintf(subject, sizeof subject, "person/%lld", (long long)pid);
            json_array_append_new(subjects, json_string(subject));
        }
    }
    /* the records its units sent while they served it */
    if (rc == VG_OK) {
        units = units_of(versions);
        struct unit_ids ui = {units};
        rc = units ? vg_store_units(d->store, match_unit, &ui) : VG_ENOSPC;
    }
    int64_t from = json_integer_value(json_object_get(m, "created_ms"));
    int64_t ended = json_integer_value(json_object_get(m, "ended_ms"));
    int64_t to = ended > 0 ? ended + 1 : INT64_MAX;
    size_t n_records = 0;
    json_t *u;
    json_array_foreach(units, i, u)
    {
        json_t *uid = json_object_get(u, "_id");
        if (rc == VG_OK && uid)
            rc = vg_store_unit_records(d->store, json_integer_value(uid), from, to, add_record,
                                       json_object_get(u, "records"));
        n_records += json_array_size(json_object_get(u, "records"));
        json_object_del(u, "_id");
    }
    if (rc == VG_OK)
        rc = vg_store_alarms(d->store, id, 0, add_alarm, alarms);
    json_t *incidents = json_array();
    struct of_measure om = {id, incidents, d->store, subjects};
    if (rc == VG_OK)
        rc = incidents ? vg_store_incidents(d->store, false, add_incident, &om) : VG_ENOSPC;
    struct excerpt x = {entries, subjects};
    if (rc == VG_OK)
        rc = vg_store_journal(d->store, 0, add_entry, &x);
    int64_t head_id = 0;
    uint8_t head[VG_JOURNAL_HASH_LEN];
    char head_text[32 + VG_JOURNAL_HEX_LEN];
    if (rc == VG_OK && (rc = vg_store_journal_head(d->store, &head_id, head)) == VG_OK) {
        int n = snprintf(head_text, sizeof head_text, "%lld:", (long long)head_id);
        vg_journal_hex(head, head_text + n);
    }
    json_decref(subjects);
    if (rc != VG_OK) {
        snprintf(err, err_len, "cannot read the measure's file: %s", vg_strerror(rc));
        json_decref(m);
        json_decref(persons);
        json_decref(alarms);
        json_decref(entries);
        json_decref(units);
        json_decref(incidents);
        return rc;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_t *doc = json_pack(
        "{s:s,s:i,s:I,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "format", EXPORT_FORMAT, "format_version",
        1, "exported_ms", (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, "exported_by",
        who->name, "source_journal_head", head_text, "measure", m, "persons", persons, "units",
        units, "alarms", alarms, "incidents", incidents, "journal", entries);
    if (!doc) {
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "{\"alarms\":%zu,\"records\":%zu,\"versions\":%zu}",
             json_array_size(json_object_get(doc, "alarms")), n_records, json_array_size(versions));
    rc = vg_center_journal(d->center, who->name, "measure.export", name, detail, err, err_len);
    if (rc != VG_OK) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return VG_OK;
}
