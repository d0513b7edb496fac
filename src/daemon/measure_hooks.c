/* The measures' side of the HTTP API (http/api.h hooks), run for the HTTP
 * thread: what concerns the centre runs on the daemon's loop; reads of
 * personal data are journaled durably before they are answered. A
 * magistrate's reads and changes are limited to his court's measures: any
 * other is "no such measure". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "core/err.h"
#include "core/lifecycle.h"
#include "core/roles.h"
#include "daemon/daemon_internal.h"
#include "util/log.h"
#include "util/measure_json.h"

static bool may_read(const struct vg_identity *who, const struct vg_center_measure_info *m)
{
    return !vg_role_court_scoped(who->role) || (who->court[0] && strcmp(m->court, who->court) == 0);
}

static const char *zone_level(const struct vg_center_measure_info *m)
{
    static const char *const levels[] = {"none", "prealert", "alert"};
    unsigned level = m->state->zone[0].level;
    return m->raise >= VG_RAISE_SAFETY && level < 3 ? levels[level] : "none";
}

static json_t *summary_json(const struct vg_center_measure_info *m)
{
    return json_pack("{s:I,s:s,s:s,s:f,s:I,s:{s:s,s:s},s:{s:b,s:b},s:s,s:I,s:s,s:I,s:b,s:s}", "id",
                     (json_int_t)m->id, "name", m->name, "court", m->court, "alert_radius_m",
                     m->alert_radius_m, "zones", (json_int_t)m->n_zones, "units", "author",
                     m->author_unit, "protected", m->protected_unit, "connected", "author",
                     m->author_connected, "protected", m->protected_connected, "mobile_zone",
                     zone_level(m), "alarms", (json_int_t)m->state->alarm_seq, "status",
                     vg_status_name((enum vg_measure_status)m->status), "version",
                     (json_int_t)m->version, "in_force", m->in_force, "raising",
                     vg_raise_name((enum vg_raise)m->raise));
}

/* ---- the list ------------------------------------------------------------------------------ */

struct list_call {
    const struct vg_identity *who;
    struct evbuffer *out; /* NULL: only count */
    size_t n;
};

static int list_one(void *arg, const struct vg_center_measure_info *m)
{
    struct list_call *l = arg;
    if (!may_read(l->who, m))
        return 0;
    l->n++;
    if (!l->out)
        return 0;
    json_t *o = summary_json(m);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return VG_ENOSPC;
    evbuffer_add_printf(l->out, "%s%s", evbuffer_get_length(l->out) > 1 ? "," : "", text);
    free(text);
    return 0;
}

static void do_list(struct daemon *d, void *arg)
{
    vg_center_list_measures(d->center, list_one, arg);
}

/* The list names the measures and their units: personal data, journaled
 * (durably) before it is answered, with what was shown. The list is taken
 * once the entry is durable (a measure declared between the two is only
 * in the list: it was not there to count). */
static int hook_list(void *arg, const struct vg_identity *who, struct evbuffer *out, char *err,
                     size_t err_len)
{
    struct daemon *d = arg;
    struct list_call l = {.who = who};
    if (vg__daemon_on_loop(d, do_list, &l) != VG_OK) {
        snprintf(err, err_len, "stopping");
        return VG_ESTATE;
    }
    char detail[64];
    snprintf(detail, sizeof detail, "{\"count\":%zu}", l.n);
    int rc = vg_center_journal(d->center, who->name, "measure.list", "*", detail, err, err_len);
    if (rc != 0)
        return rc;
    l.out = out;
    l.n = 0;
    evbuffer_add(out, "[", 1);
    if (vg__daemon_on_loop(d, do_list, &l) != VG_OK) {
        snprintf(err, err_len, "stopping");
        return VG_ESTATE;
    }
    evbuffer_add(out, "]\n", 2);
    return 0;
}

/* ---- persons' visibility ------------------------------------------------------------------- */

struct visible_call {
    const struct vg_identity *who;
    int64_t person;
    bool visible;
};

static int visible_one(void *arg, const struct vg_center_measure_info *m)
{
    struct visible_call *v = arg;
    if ((m->author_person == v->person || m->protected_person == v->person) &&
        may_read(v->who, m)) {
        v->visible = true;
        return 1; /* found: stop */
    }
    return 0;
}

static void do_visible(struct daemon *d, void *arg)
{
    vg_center_list_measures(d->center, visible_one, arg);
}

static bool hook_person_visible(void *arg, const struct vg_identity *who, int64_t person)
{
    struct visible_call v = {who, person, false};
    return vg__daemon_on_loop(arg, do_visible, &v) == VG_OK && v.visible;
}

/* ---- one measure --------------------------------------------------------------------------- */

static json_t *ms_or_null(int64_t ms)
{
    return ms ? json_integer(ms) : json_null();
}

/* The measure's whole file as the API shows it. */
static json_t *file_json(const struct vg_center_measure_info *m)
{
    json_t *o = summary_json(m);
    json_t *def = json_loads(m->definition, 0, NULL);
    const struct vg_installation *i = m->installation;
    json_t *inst =
        json_pack("{s:o,s:o,s:o,s:o,s:b,s:b}", "author_fix", ms_or_null(i->author_fix_ms),
                  "protected_fix", ms_or_null(i->protected_fix_ms), "pairing",
                  i->has_bracelet ? ms_or_null(i->pairing_ms) : json_null(), "strap",
                  i->has_bracelet ? ms_or_null(i->strap_ms) : json_null(), "bracelet",
                  i->has_bracelet, "complete", vg_installation_complete(i));
    if (!o || !def || !inst || json_object_set_new(o, "definition", def) ||
        json_object_set_new(o, "installation", inst) ||
        json_object_set_new(o, "end_reason",
                            json_string(vg_end_reason_name((enum vg_end_reason)m->end_reason))) ||
        json_object_set_new(o, "magistrate", json_string(m->magistrate))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

struct one_call {
    const struct vg_identity *who;
    int64_t id;
    bool found;
    char name[VG_NAME_MAX + 1];
    json_t *file; /* NULL: only check */
};

static int one_measure(void *arg, const struct vg_center_measure_info *m)
{
    struct one_call *o = arg;
    if (m->id != o->id)
        return 0;
    if (may_read(o->who, m)) {
        o->found = true;
        snprintf(o->name, sizeof o->name, "%s", m->name);
        o->file = file_json(m);
    }
    return 1;
}

static void do_one(struct daemon *d, void *arg)
{
    vg_center_list_measures(d->center, one_measure, arg);
}

/* The measure, if who may see it: VG_ENOTFOUND otherwise. */
static int find_visible(struct daemon *d, struct one_call *o, char *err, size_t err_len)
{
    if (vg__daemon_on_loop(d, do_one, o) != VG_OK) {
        snprintf(err, err_len, "stopping");
        return VG_ESTATE;
    }
    if (!o->found) {
        json_decref(o->file);
        o->file = NULL;
        snprintf(err, err_len, "no measure %lld", (long long)o->id);
        return VG_ENOTFOUND;
    }
    return VG_OK;
}

/* ---- an archived measure (core/retention.h): from the store, for an
 * administrator giving a reason, journaled with it ---- */

struct archived_call {
    int64_t id;
    json_t *file; /* set if the measure is archived */
};

static int add_version(void *arg, const struct vg_store_measure_version_row *v);

static int archived_one(void *arg, const struct vg_store_measure_row *m)
{
    struct archived_call *a = arg;
    if (m->id != a->id)
        return 0;
    if (m->archived) {
        json_t *def = json_loads(m->definition, 0, NULL);
        a->file = json_pack("{s:I,s:s,s:s,s:s,s:I,s:b,s:o,s:I,s:I,s:[]}", "id", (json_int_t)m->id,
                            "name", m->name, "status", m->status, "end_reason", m->end_reason,
                            "version", (json_int_t)m->version, "archived", 1, "definition",
                            def ? def : json_null(), "created_ms", (json_int_t)m->created_ms,
                            "ended_ms", (json_int_t)m->ended_ms, "versions");
    }
    return 1;
}

static int get_archived(struct daemon *d, const struct vg_identity *who, int64_t id,
                        const char *reason, json_t **out, char *err, size_t err_len)
{
    struct archived_call a = {.id = id};
    int rc = vg_store_measures(d->store, archived_one, &a);
    if (rc > 0)
        rc = VG_OK; /* found: the walk stopped there */
    if (rc != VG_OK || !a.file || who->role != VG_USER_ADMINISTRATOR) {
        json_decref(a.file);
        snprintf(err, err_len, "no measure %lld", (long long)id);
        return rc == VG_OK ? VG_ENOTFOUND : rc;
    }
    if (!reason || !reason[0]) {
        json_decref(a.file);
        snprintf(err, err_len,
                 "measure %lld is archived (art. R. 631-11): an administrator reads "
                 "it giving a reason (?reason=...), which is journaled",
                 (long long)id);
        return VG_EINVAL;
    }
    if ((rc = vg_store_measure_versions(d->store, id, add_version,
                                        json_object_get(a.file, "versions"))) != VG_OK) {
        json_decref(a.file);
        snprintf(err, err_len, "cannot read the versions: %s", vg_strerror(rc));
        return rc;
    }
    json_t *dj = json_pack("{s:s}", "reason", reason);
    char *detail = dj ? json_dumps(dj, JSON_COMPACT) : NULL;
    json_decref(dj);
    rc = vg_center_journal(d->center, who->name, "measure.read_archive",
                           json_string_value(json_object_get(a.file, "name")),
                           detail ? detail : "{}", err, err_len);
    free(detail);
    if (rc != VG_OK) {
        json_decref(a.file);
        return rc;
    }
    *out = a.file;
    return VG_OK;
}

static int hook_get(void *arg, const struct vg_identity *who, int64_t id, const char *reason,
                    json_t **out, char *err, size_t err_len)
{
    struct daemon *d = arg;
    struct one_call o = {.who = who, .id = id};
    int rc = find_visible(d, &o, err, err_len);
    if (rc == VG_ENOTFOUND)
        return get_archived(d, who, id, reason, out, err, err_len);
    if (rc != VG_OK)
        return rc;
    if (!o.file) {
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    rc = vg_center_journal(d->center, who->name, "measure.read", o.name, "{}", err, err_len);
    if (rc != VG_OK) {
        json_decref(o.file);
        return rc;
    }
    *out = o.file;
    return VG_OK;
}

static int add_version(void *arg, const struct vg_store_measure_version_row *v)
{
    json_t *def = json_loads(v->definition, 0, NULL);
    json_t *o =
        json_pack("{s:I,s:o,s:s,s:s,s:s,s:s,s:I}", "version", (json_int_t)v->version, "definition",
                  def ? def : json_null(), "status", v->status, "end_reason", v->end_reason, "note",
                  v->note, "actor", v->actor, "created_ms", (json_int_t)v->created_ms);
    return o && json_array_append_new(arg, o) == 0 ? 0 : VG_ENOSPC;
}

static int hook_versions(void *arg, const struct vg_identity *who, int64_t id, json_t **out,
                         char *err, size_t err_len)
{
    struct daemon *d = arg;
    struct one_call o = {.who = who, .id = id};
    int rc = find_visible(d, &o, err, err_len);
    json_decref(o.file);
    if (rc != VG_OK)
        return rc;
    if ((rc = vg_center_journal(d->center, who->name, "measure.versions", o.name, "{}", err,
                                err_len)) != VG_OK)
        return rc;
    json_t *list = json_array();
    rc = list ? vg_store_measure_versions(d->store, id, add_version, list) : VG_ENOSPC;
    if (rc != VG_OK) {
        json_decref(list);
        snprintf(err, err_len, "cannot read the versions: %s", vg_strerror(rc));
        return rc;
    }
    *out = list;
    return VG_OK;
}

/* ---- declaring and changing ---------------------------------------------------------------- */

struct change_call {
    const struct vg_identity *who;
    int64_t id, based_on;
    const char *json, *note;
    enum vg_lifecycle_action action;
    int64_t *out; /* the new id or version */
    json_t **violations;
    char *err;
    size_t err_len;
    int rc;
};

static void do_create(struct daemon *d, void *arg)
{
    struct change_call *c = arg;
    c->rc = vg_center_create_measure(d->center, c->who->name, c->json, c->out, c->violations,
                                     c->err, c->err_len);
}

static void do_amend(struct daemon *d, void *arg)
{
    struct change_call *c = arg;
    c->rc = vg_center_amend_measure(d->center, c->who->name, c->id, c->based_on, c->json, c->note,
                                    c->out, c->violations, c->err, c->err_len);
}

static void do_act(struct daemon *d, void *arg)
{
    struct change_call *c = arg;
    c->rc = vg_center_act_on_measure(d->center, c->who->name, c->id, c->based_on, c->action,
                                     c->note, c->out, c->err, c->err_len);
}

static int run_change(struct daemon *d, void (*fn)(struct daemon *, void *), struct change_call *c)
{
    c->rc = VG_ESTATE;
    if (c->id) { /* a change: to a measure who may see */
        struct one_call o = {.who = c->who, .id = c->id};
        int rc = find_visible(d, &o, c->err, c->err_len);
        json_decref(o.file);
        if (rc != VG_OK)
            return rc;
    }
    if (vg__daemon_on_loop(d, fn, c) != VG_OK)
        snprintf(c->err, c->err_len, "stopping");
    return c->rc;
}

static int hook_create(void *arg, const struct vg_identity *who, const char *json, int64_t *id,
                       json_t **violations, char *err, size_t err_len)
{
    *violations = NULL;
    struct change_call c = {.who = who,
                            .json = json,
                            .out = id,
                            .violations = violations,
                            .err = err,
                            .err_len = err_len};
    return run_change(arg, do_create, &c);
}

static int hook_amend(void *arg, const struct vg_identity *who, int64_t id, int64_t based_on,
                      const char *json, const char *note, int64_t *version, json_t **violations,
                      char *err, size_t err_len)
{
    *violations = NULL;
    struct change_call c = {.who = who,
                            .id = id,
                            .based_on = based_on,
                            .json = json,
                            .note = note,
                            .out = version,
                            .violations = violations,
                            .err = err,
                            .err_len = err_len};
    return run_change(arg, do_amend, &c);
}

static int hook_act(void *arg, const struct vg_identity *who, int64_t id, int64_t based_on,
                    const char *action, const char *note, int64_t *version, char *err,
                    size_t err_len)
{
    enum vg_lifecycle_action a = vg_action_from_name(action);
    if (!a || a == VG_ACTION_AMEND) {
        snprintf(err, err_len, "no such action: suspend, resume, lift or revoke");
        return VG_ENOTFOUND;
    }
    struct change_call c = {.who = who,
                            .id = id,
                            .based_on = based_on,
                            .note = note,
                            .action = a,
                            .out = version,
                            .err = err,
                            .err_len = err_len};
    return run_change(arg, do_act, &c);
}

static int hook_export(void *arg, const struct vg_identity *who, int64_t id, json_t **out,
                       char *err, size_t err_len)
{
    return vg__daemon_export_measure(arg, who, id, out, err, err_len);
}

void vg__daemon_measure_hooks(struct vg_http_hooks *h)
{
    h->export_measure = hook_export;
    h->list_measures = hook_list;
    h->person_visible = hook_person_visible;
    h->create_measure = hook_create;
    h->get_measure = hook_get;
    h->measure_versions = hook_versions;
    h->amend_measure = hook_amend;
    h->act_on_measure = hook_act;
}
