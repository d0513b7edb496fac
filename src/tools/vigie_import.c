/* vigie measure import FILE [--data-dir D] [--db LOCATION] [--source NAME]
 *
 * Brings a measure's whole file, exported by another centre
 * (GET /api/v1/measures/ID/export), into this one's store: every version
 * of its decision with its time and author, its persons' files, its units
 * and their records, its alarms, and the source's journal entries about it
 * (kept apart, each checked against its hash). Offline: vigied must be
 * stopped (the data directory's lock says so), because two writers would
 * fork the journal's chain; vigied then loads the measure at its next
 * start. Nothing is merged: a measure, a person or a live unit that exists
 * here already refuses the import, before anything is written. */
#include "tools/vigie_import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "core/err.h"
#include "store/record_json.h"
#include "store/store.h"
#include "util/journal.h"
#include "util/measure_json.h"
#include "util/tzload.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define RECORDS_PER_BATCH 5000
#define MAX_DOCUMENT      (1024L * 1024 * 1024)

static const char *const where = "vigie measure import";

__attribute__((format(printf, 1, 2))) static int refuse(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", where);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_FAIL;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int64_t num(json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

/* ---- what is here already ------------------------------------------------------------------ */

struct here {
    const char *name;
    bool measure_exists;
    json_t *units; /* the document's units: "_id", "_busy" set from the store */
    int64_t *measure_ids;
    char (*measure_status)[32];
    size_t n_measures, cap_measures;
};

static int see_measure(void *arg, const struct vg_store_measure_row *m)
{
    struct here *h = arg;
    if (strcmp(m->name, h->name) == 0)
        h->measure_exists = true;
    if (h->n_measures == h->cap_measures) {
        size_t cap = h->cap_measures ? 2 * h->cap_measures : 64;
        int64_t *ids = realloc(h->measure_ids, cap * sizeof *ids);
        if (ids)
            h->measure_ids = ids;
        char(*st)[32] = realloc(h->measure_status, cap * sizeof *st);
        if (st)
            h->measure_status = st;
        if (!ids || !st)
            return VG_ENOSPC;
        h->cap_measures = cap;
    }
    h->measure_ids[h->n_measures] = m->id;
    snprintf(h->measure_status[h->n_measures], sizeof h->measure_status[0], "%s", m->status);
    h->n_measures++;
    return 0;
}

static int see_unit(void *arg, const struct vg_store_unit_row *u)
{
    struct here *h = arg;
    size_t i;
    json_t *o;
    json_array_foreach(h->units, i, o)
    {
        if (strcmp(str(o, "serial"), u->serial) != 0)
            continue;
        json_object_set_new(o, "_id", json_integer(u->id));
        for (size_t k = 0; k < h->n_measures && u->measure_id; k++)
            if (h->measure_ids[k] == u->measure_id && strcmp(h->measure_status[k], "ended") != 0)
                json_object_set_new(o, "_busy", json_true());
    }
    return 0;
}

static int person_here(void *arg, const struct vg_store_person_row *p)
{
    (void)p;
    *(bool *)arg = true;
    return 1;
}

static int max_incident(void *arg, const struct vg_incident *inc)
{
    int64_t *max = arg;
    if (inc->id > *max)
        *max = inc->id;
    return 0;
}

/* ---- reading the document ------------------------------------------------------------------ */

/* An incident's report checked against the source's journal: its
 * report.create entry (subject incident/ID, in the document's excerpt)
 * holds the SHA-256 of the content. */
static int report_in_journal(int64_t incident_id, const char *content,
                             const struct vg_journal_entry *journal, size_t n)
{
    char subject[48], sha[VG_JOURNAL_HEX_LEN + 1];
    snprintf(subject, sizeof subject, "incident/%lld", (long long)incident_id);
    if (vg_sha256_hex(content, strlen(content), sha) != 0)
        return refuse("cannot hash a report");
    for (size_t i = 0; i < n; i++) {
        if (strcmp(journal[i].action, "report.create") != 0 ||
            strcmp(journal[i].subject, subject) != 0)
            continue;
        json_t *d = json_loads(journal[i].detail, 0, NULL);
        const char *want = str(d, "sha256");
        bool same = want && strcmp(want, sha) == 0;
        json_decref(d);
        if (!same)
            return refuse("the report of incident %lld does not match the SHA-256 its "
                          "report.create entry holds (the document was altered)",
                          (long long)incident_id);
        return EXIT_OK;
    }
    return refuse("the report of incident %lld has no report.create entry in the journal",
                  (long long)incident_id);
}

/* The source's journal entries, each checked against its own hash. */
static int read_journal(json_t *list, struct vg_journal_entry **out, size_t *n)
{
    *n = json_array_size(list);
    *out = calloc(*n ? *n : 1, sizeof **out);
    if (!*out)
        return refuse("out of memory");
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        struct vg_journal_entry *e = &(*out)[i];
        e->id = num(o, "id");
        e->at_ms = num(o, "at_ms");
        e->actor = str(o, "actor");
        e->action = str(o, "action");
        e->subject = str(o, "subject");
        e->detail = str(o, "detail");
        uint8_t computed[VG_JOURNAL_HASH_LEN];
        if (!e->actor || !e->action || !e->subject || !e->detail || e->id <= 0 ||
            vg_journal_unhex(str(o, "prev_hash") ? str(o, "prev_hash") : "", e->prev) != 0 ||
            vg_journal_unhex(str(o, "hash") ? str(o, "hash") : "", e->hash) != 0)
            return refuse("journal[%zu]: id, at_ms, actor, action, subject, detail, prev_hash and "
                          "hash are needed",
                          i);
        if (vg_journal_hash(e, computed) != 0 || memcmp(computed, e->hash, sizeof computed) != 0)
            return refuse("journal entry %lld of the source: its content does not match its "
                          "hash (the document was altered)",
                          (long long)e->id);
    }
    return EXIT_OK;
}

static char *dump(json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

/* Everything the store batch points to, kept alive until it is done. */
struct texts {
    char **items;
    size_t n, cap;
};

static const char *keep(struct texts *t, char *s)
{
    if (!s)
        return NULL;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        char **p = realloc(t->items, cap * sizeof *p);
        if (!p) {
            free(s);
            return NULL;
        }
        t->items = p;
        t->cap = cap;
    }
    return t->items[t->n++] = s;
}

static void texts_free(struct texts *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->items[i]);
    free(t->items);
}

static int role_of(const char *name)
{
    return strcmp(name, "author") == 0      ? VG_ROLE_AUTHOR
           : strcmp(name, "protected") == 0 ? VG_ROLE_PROTECTED
           : strcmp(name, "bracelet") == 0  ? VG_ROLE_BRACELET
                                            : 0;
}

static int run_import(struct vg_store *s, json_t *doc, const char *source)
{
    json_t *m = json_object_get(doc, "measure");
    json_t *versions = json_object_get(m, "versions");
    json_t *units = json_object_get(doc, "units");
    json_t *persons = json_object_get(doc, "persons");
    json_t *alarms = json_object_get(doc, "alarms");
    const char *name = str(m, "name");
    if (!name || vg_name_check(name) != 0 || !str(m, "status") || !json_is_array(versions) ||
        json_array_size(versions) == 0 || !json_is_array(units) || !json_is_array(persons) ||
        !json_is_array(alarms) || !json_is_array(json_object_get(doc, "journal")))
        return refuse("the document lacks measure.name, status or versions, or units, persons, "
                      "alarms or journal lists");
    struct vg_journal_entry *journal = NULL;
    size_t n_journal = 0;
    int rc = read_journal(json_object_get(doc, "journal"), &journal, &n_journal);
    struct texts t = {0};
    struct vg_store_measure_version_row *vrows = NULL;
    struct vg_store_person_row *prows = NULL;
    struct vg_store_unit_def *udefs = NULL;
    struct vg_store_record *recs = NULL;
    struct vg_store_alarm *arows = NULL;
    struct vg_incident *incidents = NULL;
    struct vg_store_incident_step *steps = NULL;
    struct vg_store_report *reports = NULL;
    struct here h = {.name = name, .units = units};
    size_t n_units = json_array_size(units), n_p = 0;
    if (rc != EXIT_OK)
        goto out;
    /* what is here already: refuse before writing anything */
    if (vg_store_measures(s, see_measure, &h) != VG_OK ||
        vg_store_units(s, see_unit, &h) != VG_OK) {
        rc = refuse("cannot read this centre's store");
        goto out;
    }
    if (h.measure_exists) {
        rc = refuse("a measure named %s exists here already", name);
        goto out;
    }
    size_t i;
    json_t *o;
    json_array_foreach(units, i, o)
    {
        if (!str(o, "serial") || vg_name_check(str(o, "serial")) || !str(o, "role") ||
            !role_of(str(o, "role")) || !json_is_array(json_object_get(o, "records"))) {
            rc = refuse("units[%zu]: serial, role (author, protected, bracelet) and records", i);
            goto out;
        }
        if (json_is_true(json_object_get(o, "_busy"))) {
            rc = refuse("unit %s serves a measure here that has not ended", str(o, "serial"));
            goto out;
        }
    }
    json_array_foreach(persons, i, o)
    {
        bool exists = false;
        vg_store_person(s, num(o, "id"), 0, false, person_here, &exists);
        if (num(o, "id") <= 0 || exists) {
            rc = refuse("person %lld: %s", (long long)num(o, "id"),
                        exists ? "a file with that id exists here already" : "not an id");
            goto out;
        }
        n_p += json_array_size(json_object_get(o, "versions"));
    }
    vrows = calloc(json_array_size(versions), sizeof *vrows);
    prows = calloc(n_p ? n_p : 1, sizeof *prows);
    udefs = calloc(n_units ? n_units : 1, sizeof *udefs);
    if (!vrows || !prows || !udefs) {
        rc = refuse("out of memory");
        goto out;
    }
    json_array_foreach(versions, i, o)
    {
        vrows[i] = (struct vg_store_measure_version_row){
            .version = num(o, "version"),
            .definition = keep(&t, dump(json_object_get(o, "definition"))),
            .status = str(o, "status"),
            .end_reason = str(o, "end_reason"),
            .note = str(o, "note"),
            .actor = str(o, "actor"),
            .created_ms = num(o, "created_ms")};
        if (vrows[i].version <= 0 || !vrows[i].definition || !vrows[i].status) {
            rc = refuse("measure.versions[%zu]: version, definition and status", i);
            goto out;
        }
    }
    /* the current definition must be one this centre reads */
    const char *current = vrows[json_array_size(versions) - 1].definition;
    struct vg_measure_def def;
    char err[512], tz_name[VG_NAME_MAX + 1];
    struct vg_tz tz;
    if (vg_measure_json_timezone(current, tz_name, sizeof tz_name, err, sizeof err) != VG_OK ||
        vg_tz_load(&tz, NULL, tz_name, err, sizeof err) < 0 ||
        vg_measure_def_parse(current, &tz, &def, err, sizeof err) != VG_OK) {
        rc = refuse("the current definition is not one this centre reads: %s", err);
        goto out;
    }
    vg_measure_def_cleanup(&def);
    /* its incidents, their steps and reports: each report's content
     * checked against the source's journal (report.create holds its
     * SHA-256), before anything is written */
    json_t *incs = json_object_get(doc, "incidents");
    size_t n_inc = json_array_size(incs), n_steps = 0, n_reports = 0;
    json_array_foreach(incs, i, o)
    {
        n_steps += json_array_size(json_object_get(o, "steps"));
        n_reports += json_is_object(json_object_get(o, "report")) ? 1 : 0;
    }
    incidents = calloc(n_inc ? n_inc : 1, sizeof *incidents);
    steps = calloc(n_steps ? n_steps : 1, sizeof *steps);
    reports = calloc(n_reports ? n_reports : 1, sizeof *reports);
    if (!incidents || !steps || !reports) {
        rc = refuse("out of memory");
        goto out;
    }
    n_steps = n_reports = 0;
    json_array_foreach(incs, i, o)
    {
        if (vg_incident_from_json(o, &incidents[i], err, sizeof err) != VG_OK) {
            rc = refuse("incidents[%zu]: %s", i, err);
            goto out;
        }
        size_t j;
        json_t *v;
        json_array_foreach(json_object_get(o, "steps"), j, v)
        {
            if (vg_incident_step_from_json(v, &steps[n_steps], err, sizeof err) != VG_OK) {
                rc = refuse("incidents[%zu].steps[%zu]: %s", i, j, err);
                goto out;
            }
            steps[n_steps++].incident_id = incidents[i].id;
        }
        json_t *r = json_object_get(o, "report");
        if (!json_is_object(r))
            continue;
        const char *content = str(r, "content");
        if (!content || !json_is_array(json_object_get(r, "recipients"))) {
            rc = refuse("incidents[%zu].report: its recipients and content (text)", i);
            goto out;
        }
        if ((rc = report_in_journal(incidents[i].id, content, journal, n_journal)) != EXIT_OK)
            goto out;
        reports[n_reports++] = (struct vg_store_report){
            .incident_id = incidents[i].id,
            .created_ms = num(r, "created_ms"),
            .recipients = keep(&t, dump(json_object_get(r, "recipients"))),
            .content = content};
    }
    size_t k = 0;
    json_array_foreach(persons, i, o)
    {
        size_t j;
        json_t *v;
        json_array_foreach(json_object_get(o, "versions"), j, v)
        {
            prows[k] =
                (struct vg_store_person_row){.id = num(o, "id"),
                                             .version = num(v, "version"),
                                             .display = str(v, "display"),
                                             .data = keep(&t, dump(json_object_get(v, "data"))),
                                             .actor = str(v, "actor"),
                                             .created_ms = num(v, "created_ms")};
            if (prows[k].version <= 0 || !prows[k].display || !prows[k].data) {
                rc = refuse("persons[%zu].versions[%zu]: version, display and data", i, j);
                goto out;
            }
            k++;
        }
    }
    /* 1. the units, serving nothing yet */
    json_array_foreach(units, i, o) udefs[i] = (struct vg_store_unit_def){
        .serial = str(o, "serial"), .role = (uint8_t)role_of(str(o, "role"))};
    struct vg_store_batch b = {.units = udefs, .n_units = n_units};
    if (vg_store_run(s, &b, err, sizeof err) != VG_OK) {
        rc = refuse("units: %s", err);
        goto out;
    }
    /* 2. their records, a few thousand per transaction */
    recs = calloc(RECORDS_PER_BATCH, sizeof *recs);
    if (!recs) {
        rc = refuse("out of memory");
        goto out;
    }
    size_t n_records = 0;
    json_array_foreach(units, i, o)
    {
        json_t *list = json_object_get(o, "records");
        size_t j, n = 0;
        json_t *r;
        json_array_foreach(list, j, r)
        {
            if (vg_record_from_json(r, &recs[n], err, sizeof err) != VG_OK) {
                rc = refuse("unit %s, records[%zu]: %s", udefs[i].serial, j, err);
                goto out;
            }
            recs[n++].unit_id = udefs[i].id;
            if (n == RECORDS_PER_BATCH || j + 1 == json_array_size(list)) {
                b = (struct vg_store_batch){.records = recs, .n_records = n};
                if (vg_store_run(s, &b, err, sizeof err) != VG_OK) {
                    rc = refuse("unit %s's records: %s", udefs[i].serial, err);
                    goto out;
                }
                n_records += n;
                n = 0;
            }
        }
    }
    /* 3. the measure as it was, its persons, the source's journal; its
     *    units assigned to it; the import in this centre's journal */
    struct vg_store_import imp = {
        .name = name,
        .definition = current,
        .status = str(m, "status"),
        .end_reason = str(m, "end_reason"),
        .installation = keep(&t, dump(json_object_get(m, "installation"))),
        .version = num(m, "version"),
        .created_ms = num(m, "created_ms"),
        .ended_ms = num(m, "ended_ms"),
        .versions = vrows,
        .n_versions = json_array_size(versions),
        .persons = prows,
        .n_persons = n_p,
        .source = source,
        .journal = journal,
        .n_journal = n_journal,
    };
    for (i = 0; i < n_units; i++)
        udefs[i].measure = name;
    char detail[512];
    json_t *dj = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "source", source, "source_head",
                           str(doc, "source_journal_head") ? str(doc, "source_journal_head") : "",
                           "versions", (json_int_t)json_array_size(versions), "records",
                           (json_int_t)n_records, "alarms", (json_int_t)json_array_size(alarms),
                           "journal_entries", (json_int_t)n_journal);
    char *d = dump(dj);
    json_decref(dj);
    snprintf(detail, sizeof detail, "%s", d ? d : "{}");
    free(d);
    struct vg_store_journal_entry je = {
        .actor = "vigie-import", .action = "measure.import", .subject = name, .detail = detail};
    b = (struct vg_store_batch){.imports = &imp,
                                .n_imports = 1,
                                .units = udefs,
                                .n_units = n_units,
                                .journal = &je,
                                .n_journal = 1};
    if (vg_store_run(s, &b, err, sizeof err) != VG_OK) {
        rc = refuse("the measure: %s", err);
        goto out;
    }
    /* 4. its alarms, with their evidence */
    arows = calloc(json_array_size(alarms) ? json_array_size(alarms) : 1, sizeof *arows);
    if (!arows) {
        rc = refuse("out of memory");
        goto out;
    }
    json_array_foreach(alarms, i, o)
    {
        arows[i].measure_id = imp.id;
        if (vg_alarm_from_json(o, &arows[i].alarm, err, sizeof err) != VG_OK) {
            rc = refuse("alarms[%zu]: %s (the measure is in, without its alarms: import them "
                        "again after removing it)",
                        i, err);
            goto out;
        }
    }
    b = (struct vg_store_batch){.alarms = arows, .n_alarms = json_array_size(alarms)};
    if (json_array_size(alarms) && vg_store_run(s, &b, err, sizeof err) != VG_OK) {
        rc = refuse("alarms: %s", err);
        goto out;
    }
    /* 5. its incidents, numbered after this centre's own, with their
     *    steps and reports */
    if (n_inc) {
        int64_t base = 0;
        if (vg_store_incidents(s, false, max_incident, &base) != VG_OK) {
            rc = refuse("cannot read this centre's incidents");
            goto out;
        }
        int64_t first_old = INT64_MAX;
        for (i = 0; i < n_inc; i++)
            if (incidents[i].id < first_old)
                first_old = incidents[i].id;
        /* the same order and links, shifted past this centre's ids */
#define RENUMBER(old_id) (base + 1 + ((old_id) - first_old))
        for (i = 0; i < n_steps; i++)
            steps[i].incident_id = RENUMBER(steps[i].incident_id);
        for (i = 0; i < n_reports; i++) {
            reports[i].incident_id = RENUMBER(reports[i].incident_id);
            reports[i].measure_id = imp.id;
        }
        for (i = 0; i < n_inc; i++) {
            incidents[i].id = RENUMBER(incidents[i].id);
            if (incidents[i].previous_id)
                incidents[i].previous_id = RENUMBER(incidents[i].previous_id);
            incidents[i].measure_id = imp.id;
        }
#undef RENUMBER
        b = (struct vg_store_batch){.incidents = incidents,
                                    .n_incidents = n_inc,
                                    .incident_steps = steps,
                                    .n_incident_steps = n_steps,
                                    .reports = reports,
                                    .n_reports = n_reports};
        if (vg_store_run(s, &b, err, sizeof err) != VG_OK) {
            rc = refuse("incidents: %s", err);
            goto out;
        }
    }
    printf("measure %s imported from %s: id %lld, %zu versions, %zu records, %zu alarms, %zu "
           "incidents (%zu steps, %zu reports), %zu persons' versions, %zu journal entries of the "
           "source\n",
           name, source, (long long)imp.id, json_array_size(versions), n_records,
           json_array_size(alarms), n_inc, n_steps, n_reports, n_p, n_journal);
    rc = EXIT_OK;
out:
    free(journal);
    free(vrows);
    free(prows);
    free(udefs);
    free(recs);
    free(arows);
    free(incidents);
    free(steps);
    free(reports);
    free(h.measure_ids);
    free(h.measure_status);
    texts_free(&t);
    return rc;
}

int vigie_measure_import(int argc, char **argv)
{
    const char *file = NULL, *data_dir = "./var", *db = NULL, *source = NULL;
    for (int i = 1; i < argc; i++) {
        bool has = i + 1 < argc;
        if (has && strcmp(argv[i], "--data-dir") == 0)
            data_dir = argv[++i];
        else if (has && strcmp(argv[i], "--db") == 0)
            db = argv[++i];
        else if (has && strcmp(argv[i], "--source") == 0)
            source = argv[++i];
        else if (argv[i][0] == '-' && strcmp(argv[i], "-") != 0) {
            fprintf(stderr, "%s: unknown option or missing value: %s\n", where, argv[i]);
            return EXIT_USAGE;
        } else if (!file)
            file = argv[i];
        else {
            fprintf(stderr, "%s: one file only\n", where);
            return EXIT_USAGE;
        }
    }
    if (!file) {
        fprintf(stderr, "usage: %s FILE|- [--data-dir D] [--db LOCATION] [--source NAME]\n", where);
        return EXIT_USAGE;
    }
    json_error_t je;
    json_t *doc = strcmp(file, "-") == 0 ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &je)
                                         : json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return refuse("%s is not a JSON document: %s (line %d)", file, je.text, je.line);
    }
    if (!str(doc, "format") || strcmp(str(doc, "format"), "vigie.measure-export") != 0 ||
        num(doc, "format_version") != 1) {
        json_decref(doc);
        return refuse("not a measure's export (format \"vigie.measure-export\", version 1)");
    }
    char lock_path[1024], location[1100], src[200];
    snprintf(lock_path, sizeof lock_path, "%s/vigied.lock", data_dir);
    snprintf(location, sizeof location, "%s", db ? db : "");
    if (!db)
        snprintf(location, sizeof location, "sqlite:%s/vigie.db", data_dir);
    /* the source as the operator names it, else by its journal's head */
    const char *head = str(doc, "source_journal_head");
    if (source)
        snprintf(src, sizeof src, "%s", source);
    else
        snprintf(src, sizeof src, "journal %s", head ? head : "unknown");
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        json_decref(doc);
        if (fd >= 0)
            close(fd);
        return refuse("%s: the data directory is in use (stop vigied first: it loads the "
                      "measure at its next start)",
                      lock_path);
    }
    struct vg_store *s = NULL;
    char err[512];
    int rc;
    if (vg_store_open(location, &s, err, sizeof err) != VG_OK)
        rc = refuse("%s", err);
    else
        rc = run_import(s, doc, src);
    vg_store_close(s);
    close(fd);
    json_decref(doc);
    return rc;
}
