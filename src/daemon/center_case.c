/* The measures as case files (center.h): declared with their judicial
 * decision checked against the law (core/measure.h), changed only by new
 * versions, moved through their lifecycle (core/lifecycle.h) by people
 * (suspend, resume, lift, revoke) and by time and the units' own reports
 * (activation once installed and reporting, expiry). The engine judges a
 * measure's records only while it is in force. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "daemon/center.h"
#include "daemon/center_internal.h"
#include "util/log.h"
#include "util/person_json.h"

/* How often time is looked at: expiry and activation happen on a day's
 * boundary in the measure's zone, within this much of it. */
#define CASE_TICK_MS 60000

#define MAX_VIOLATIONS 32

static struct vg_date today_of(const struct measure *m, int64_t now_ms)
{
    int64_t s = vg_floor_div(now_ms, 1000);
    struct vg_local_time lt;
    vg_local_time_from_seconds(s + vg_tz_offset_at(m->cfg.tz, s), &lt);
    return lt.date;
}

static struct measure *find_measure(struct vg_center *c, int64_t id)
{
    for (struct measure *m = c->measures; m; m = m->next)
        if (m->id == id)
            return m;
    return NULL;
}

static void installation_json(const struct vg_installation *i, char *out, size_t cap)
{
    snprintf(out, cap,
             "{\"author_fix_ms\":%lld,\"pairing_ms\":%lld,\"protected_fix_ms\":%lld,"
             "\"strap_ms\":%lld}",
             (long long)i->author_fix_ms, (long long)i->pairing_ms, (long long)i->protected_fix_ms,
             (long long)i->strap_ms);
}

static void installation_parse(const char *text, struct vg_installation *i)
{
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    i->author_fix_ms = json_integer_value(json_object_get(o, "author_fix_ms"));
    i->protected_fix_ms = json_integer_value(json_object_get(o, "protected_fix_ms"));
    i->pairing_ms = json_integer_value(json_object_get(o, "pairing_ms"));
    i->strap_ms = json_integer_value(json_object_get(o, "strap_ms"));
    json_decref(o);
}

/* ---- the engine of a measure in force ------------------------------------------------------- */

static void feed_fix(struct vg_center *c, struct measure *m, int k)
{
    if (!m->last_fix_rx_ms[k])
        return;
    struct vg_engine_input in = {.kind = VG_INPUT_FIX,
                                 .unit = (uint8_t)(k ? VG_UNIT_PROTECTED : VG_UNIT_AUTHOR),
                                 .fix = m->last_fix[k].fix};
    if (vg_engine_feed(&m->st, &m->cfg, &in, vg__center_wall_ms(), &c->out) == VG_OK)
        vg__center_collect(c, m, 0);
}

/* A fresh engine, from where both persons last were. Its alarms carry on
 * the measure's numbering: (measure, seq) identifies an alarm for ever. */
static void start_engine(struct vg_center *c, struct measure *m)
{
    uint32_t seq = m->st.alarm_seq;
    vg_engine_init(&m->st, &m->cfg, vg__center_wall_ms());
    m->st.alarm_seq = seq;
    int first = m->last_fix_rx_ms[1] < m->last_fix_rx_ms[0] ? 1 : 0;
    feed_fix(c, m, first);
    feed_fix(c, m, 1 - first);
    vg__center_mark_dirty(c, m);
    vg__center_arm_timer(m);
}

static enum vg_raise raise_now(const struct measure *m)
{
    return vg_lifecycle_raises((enum vg_measure_status)m->status, &m->legal,
                               today_of(m, vg__center_wall_ms()));
}

/* After any change of status or decision: what the measure raises from
 * now on. Raising more than before, its engine starts afresh, so that a
 * situation already there (he is inside the zone) is raised now rather
 * than never (its engine saw it while it was not raised). */
static void update_raise(struct vg_center *c, struct measure *m)
{
    enum vg_raise was = (enum vg_raise)m->raise, now = raise_now(m);
    m->raise = (uint8_t)now;
    if (now > was && now != VG_RAISE_NONE)
        start_engine(c, m);
    if (now != was)
        vg_log(VG_LOG_INFO, "measure raises", "measure", m->def.name, "alarms", vg_raise_name(now),
               "status", vg_status_name((enum vg_measure_status)m->status), NULL);
}

/* ---- changes carried by the units' batches -------------------------------------------------- */

/* A change made by the centre itself (the checklist, activation, expiry),
 * stored with the records that caused it, journaled. */
static void queue_change(struct vg_center *c, struct measure *m, const char *action,
                         const char *status, const char *reason, const char *detail)
{
    struct cbatch *b = vg__center_open_batch(c);
    if (!b || GROW(b->changes, b->n_changes, b->cap_changes)) {
        vg_log(VG_LOG_ERROR, "out of memory: a case change is not stored", "measure", m->def.name,
               "action", action, NULL);
        return;
    }
    if (b->cap_change_text < b->cap_changes) {
        struct case_text *t = realloc(b->change_text, b->cap_changes * sizeof *t);
        if (!t) {
            vg_log(VG_LOG_ERROR, "out of memory: a case change is not stored", "measure",
                   m->def.name, "action", action, NULL);
            return;
        }
        b->change_text = t;
        b->cap_change_text = b->cap_changes;
    }
    struct case_text *t = &b->change_text[b->n_changes];
    memset(t, 0, sizeof *t);
    t->action = action;
    snprintf(t->subject, sizeof t->subject, "%s", m->def.name);
    snprintf(t->detail, sizeof t->detail, "%s", detail);
    installation_json(&m->inst, t->installation, sizeof t->installation);
    b->changes[b->n_changes++] = (struct vg_store_measure_change){
        .measure_id = m->id,
        .status = status,
        .end_reason = reason,
        .note = status ? action : NULL,
        .actor = "centre",
    };
    if (status)
        m->version++; /* the store numbers it the same: batches commit in order */
    vg__center_mark_dirty(c, m);
}

int vg__case_flush(struct cbatch *b, struct vg_store_journal_entry *journal, size_t *n_journal)
{
    for (size_t i = 0; i < b->n_changes; i++) {
        struct case_text *t = &b->change_text[i];
        b->changes[i].installation = t->installation;
        journal[(*n_journal)++] = (struct vg_store_journal_entry){
            .actor = "centre", .action = t->action, .subject = t->subject, .detail = t->detail};
    }
    b->sb.measure_changes = b->changes;
    b->sb.n_measure_changes = b->n_changes;
    return VG_OK;
}

/* What time and the checklist do to a measure now. */
static void step(struct vg_center *c, struct measure *m, int64_t now_ms)
{
    enum vg_measure_status ns;
    enum vg_end_reason reason;
    vg_lifecycle_step((enum vg_measure_status)m->status, &m->inst, &m->legal, today_of(m, now_ms),
                      &ns, &reason);
    if (ns != m->status) {
        char detail[128];
        snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"%s\"}",
                 vg_status_name((enum vg_measure_status)m->status), vg_status_name(ns));
        m->status = (uint8_t)ns;
        m->end_reason = (uint8_t)reason;
        const char *action = ns == VG_STATUS_ACTIVE ? "measure.activate" : "measure.expire";
        queue_change(c, m, action, vg_status_name(ns), vg_end_reason_name(reason), detail);
        vg_log(VG_LOG_INFO, ns == VG_STATUS_ACTIVE ? "measure active" : "measure expired",
               "measure", m->def.name, NULL);
    }
    update_raise(c, m);
}

static bool fix_usable(const struct vg_proto_record *r)
{
    return r->type == VG_REC_FIX && VG_FIX_IS_GNSS(r->fix.quality) && vg_fix_check(&r->fix) == 0;
}

static void checklist(struct vg_center *c, struct measure *m, int k,
                      const struct vg_proto_record *r, int64_t now_ms);

void vg__case_on_record(struct vg_center *c, struct measure *m, const struct unit *u,
                        const struct vg_proto_record *r, int64_t now_ms)
{
    if (m->status == VG_STATUS_ENDED)
        return;
    int k = u == m->author ? 0 : u == m->protected_person ? 1 : -1;
    if (m->status == VG_STATUS_PENDING)
        checklist(c, m, k, r, now_ms);
    /* after the checklist: an engine started by this record is then fed
     * this record once, by the caller, not twice */
    if (k >= 0 && fix_usable(r)) {
        m->last_fix[k] = *r;
        m->last_fix_rx_ms[k] = now_ms;
    }
}

/* The checklist: from what the units report, never ticked by hand. */
static void checklist(struct vg_center *c, struct measure *m, int k,
                      const struct vg_proto_record *r, int64_t now_ms)
{
    const char *item = NULL;
    if (k == 0 && fix_usable(r) && !m->inst.author_fix_ms) {
        m->inst.author_fix_ms = now_ms;
        item = "author_fix";
    } else if (k == 1 && fix_usable(r) && !m->inst.protected_fix_ms) {
        m->inst.protected_fix_ms = now_ms;
        item = "protected_fix";
    } else if (k == 0 && r->type == VG_REC_STATUS && m->inst.has_bracelet) {
        if (r->subject == VG_SUBJECT_BRACELET && r->status.strap_closed == 1 && !m->inst.strap_ms) {
            m->inst.strap_ms = now_ms;
            item = "strap";
        } else if (r->subject == VG_SUBJECT_SELF && r->status.bracelet_link == 1 &&
                   !m->inst.pairing_ms) {
            m->inst.pairing_ms = now_ms;
            item = "pairing";
        }
    }
    if (!item)
        return;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"item\":\"%s\"}", item);
    queue_change(c, m, "measure.installation", NULL, NULL, detail);
    step(c, m, now_ms);
}

void vg__case_load(struct vg_center *c, struct measure *m, const struct vg_store_measure_row *r)
{
    enum vg_measure_status s = vg_status_from_name(r->status);
    m->status = (uint8_t)(s ? s : VG_STATUS_PENDING);
    m->end_reason = (uint8_t)vg_end_reason_from_name(r->end_reason);
    m->version = r->version;
    installation_parse(r->installation, &m->inst);
    m->raise = (uint8_t)raise_now(m);
    (void)c;
}

static void on_case_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vg_center *c = arg;
    int64_t now = vg__center_wall_ms();
    for (struct measure *m = c->measures; m; m = m->next)
        if (m->status != VG_STATUS_ENDED)
            step(c, m, now);
}

int vg__case_start(struct vg_center *c)
{
    c->case_ev = event_new(c->base, -1, EV_PERSIST, on_case_tick, c);
    struct timeval tv = {CASE_TICK_MS / 1000, 0};
    if (!c->case_ev || event_add(c->case_ev, &tv) != 0)
        return VG_ENOSPC;
    on_case_tick(-1, 0, c); /* what happened while the daemon was down */
    return VG_OK;
}

void vg__case_stop(struct vg_center *c)
{
    if (c->case_ev)
        event_free(c->case_ev);
    c->case_ev = NULL;
}

/* ---- the law ------------------------------------------------------------------------------- */

struct facts {
    struct vg_date birth;
    struct vg_geo_point home;
    bool has_birth, has_home;
};

static int read_facts(void *arg, const struct vg_store_person_row *p)
{
    struct facts *f = arg;
    vg_person_json_facts(p->data, &f->birth, &f->has_birth, &f->home, &f->has_home);
    return 0;
}

/* The decision against the law, the persons' facts taken from their files
 * where the decision does not give them. VG_OK (warnings may be in
 * *violations), or VG_EINVAL with the broken rules. */
static int check_law(struct vg_center *c, struct measure *m, json_t **violations, char *err,
                     size_t err_len)
{
    struct vg_measure_decision *d = &m->def.decision;
    if (!d->present) {
        snprintf(err, err_len,
                 "decision: the judicial decision is required (magistrate, "
                 "periods, consents; docs/API.md)");
        return VG_EINVAL;
    }
    static const char *const who[] = {"author", "protected"};
    const int64_t ids[2] = {m->def.author_person, m->def.protected_person};
    for (int k = 0; k < 2; k++) {
        struct facts f = {0};
        if (ids[k]) {
            int rc = vg_store_person(c->store, ids[k], 0, false, read_facts, &f);
            if (rc != VG_OK) {
                snprintf(err, err_len, "persons.%s: %s %lld", who[k],
                         rc == VG_ENOTFOUND ? "no person" : "cannot read person",
                         (long long)ids[k]);
                return rc == VG_ENOTFOUND ? VG_EINVAL : rc;
            }
        }
        if (!d->has_birth[k] && f.has_birth) {
            d->birth[k] = f.birth;
            d->has_birth[k] = true;
        }
        if (!d->has_home[k] && f.has_home) {
            d->home[k] = f.home;
            d->has_home[k] = true;
        }
        if (!d->has_birth[k] || !d->has_home[k]) {
            snprintf(err, err_len,
                     "decision.%s.%s: needed for the legal rules, and neither in the decision "
                     "nor in the %s's file (persons.%s: a birth date, an address labelled "
                     "\"home\" with its location)",
                     who[k], d->has_birth[k] ? "home" : "birth_date",
                     k ? "protected person" : "author", who[k]);
            return VG_EINVAL;
        }
    }
    vg_measure_decision_legal(d, m->def.alert_radius_m, m->def.zones, m->def.n_zones, &m->legal);
    struct vg_violation v[MAX_VIOLATIONS];
    size_t n = 0;
    int rc = vg_measure_validate(&m->legal, v, MAX_VIOLATIONS, &n);
    if (n > MAX_VIOLATIONS)
        n = MAX_VIOLATIONS;
    if (n > 0)
        *violations = vg_violations_json(v, n);
    if (rc != VG_OK) {
        snprintf(err, err_len, "the decision breaks %s legal rule%s: %s", n > 1 ? "several" : "a",
                 n > 1 ? "s (see violations)" : "", v[0].message);
        return VG_EINVAL;
    }
    return VG_OK;
}

/* ---- declaring a measure ------------------------------------------------------------------- */

int vg_center_create_measure(struct vg_center *c, const char *actor, const char *json, int64_t *id,
                             json_t **violations, char *err, size_t err_len)
{
    *violations = NULL;
    struct measure *m = vg__center_measure_build(c, 0, json, err, err_len);
    if (!m)
        return VG_EINVAL;
    int rc = check_law(c, m, violations, err, err_len);
    if (rc != VG_OK) {
        vg__center_measure_free(m);
        return rc;
    }
    for (struct measure *o = c->measures; o; o = o->next)
        if (strcmp(o->def.name, m->def.name) == 0) {
            snprintf(err, err_len, "a measure named %s exists already", m->def.name);
            vg__center_measure_free(m);
            return VG_EDUPLICATE;
        }
    /* a unit serves one measure at a time; an ended measure's units serve again */
    const char *serials[3] = {m->def.author_unit, m->def.protected_unit, m->def.bracelet};
    for (int i = 0; i < 3; i++) {
        struct unit *u = serials[i][0] ? vg__center_unit_find(c, serials[i]) : NULL;
        if (u && u->m && u->m->status != VG_STATUS_ENDED) {
            snprintf(err, err_len, "unit %s already serves measure %s", serials[i], u->m->def.name);
            vg__center_measure_free(m);
            return VG_EDUPLICATE;
        }
    }
    struct vg_store_measure_def md = {.name = m->def.name,
                                      .definition = json,
                                      .status = vg_status_name(VG_STATUS_PENDING),
                                      .actor = actor};
    struct vg_store_unit_def ud[3] = {
        {.serial = m->def.author_unit, .role = VG_ROLE_AUTHOR, .measure = m->def.name},
        {.serial = m->def.protected_unit, .role = VG_ROLE_PROTECTED, .measure = m->def.name},
        {.serial = m->def.bracelet, .role = VG_ROLE_BRACELET, .measure = m->def.name},
    };
    /* the change in the journal, in the same transaction: who declared
     * which measure, with which units, distance and decision (the
     * definition itself, her addresses included, stays in the measure's
     * own record) */
    json_t *dj = json_pack("{s:s, s:s, s:s, s:f, s:I, s:s, s:I}", "author_unit", m->def.author_unit,
                           "protected_unit", m->def.protected_unit, "bracelet", m->def.bracelet,
                           "alert_radius_m", m->def.alert_radius_m, "zones",
                           (json_int_t)m->def.n_zones, "magistrate", m->def.decision.magistrate,
                           "periods", (json_int_t)m->def.decision.n_periods);
    char *detail = dj ? json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(dj);
    struct cbatch *b = calloc(1, sizeof *b);
    if (!detail || !b) {
        snprintf(err, err_len, "out of memory");
        free(detail);
        free(b);
        vg__center_measure_free(m);
        return VG_ENOSPC;
    }
    struct vg_store_journal_entry je = {
        .actor = actor, .action = "measure.create", .subject = m->def.name, .detail = detail};
    b->c = c;
    b->sb.journal = &je;
    b->sb.n_journal = 1;
    b->sb.measures = &md;
    b->sb.n_measures = 1;
    b->sb.units = ud;
    b->sb.n_units = m->def.bracelet[0] ? 3 : 2;
    vg__center_flush(c);
    rc = vg__center_submit_and_wait(c, b);
    free(detail);
    if (rc != VG_OK) {
        snprintf(err, err_len, "%s", b->err[0] ? b->err : vg_strerror(rc));
        free(b);
        vg__center_measure_free(m);
        return rc;
    }
    free(b);
    m->id = md.id;
    m->version = 1;
    for (size_t i = 0; i < (m->def.bracelet[0] ? 3u : 2u); i++) {
        struct unit *u = vg__center_unit_find(c, ud[i].serial);
        if (u && u->m && u->m != m)
            u->m = NULL; /* its ended measure lets it go */
        vg__center_unit_add(c, ud[i].id, ud[i].serial, ud[i].role, 0);
    }
    vg_engine_init(&m->st, &m->cfg, vg__center_wall_ms());
    m->raise = (uint8_t)raise_now(m);
    vg__center_measure_attach(c, m);
    vg__center_mark_dirty(c, m);
    *id = m->id;
    vg_log(VG_LOG_INFO, "measure declared, pending installation", "measure", m->def.name, "author",
           m->def.author_unit, "protected", m->def.protected_unit, NULL);
    return VG_OK;
}

/* ---- changing it --------------------------------------------------------------------------- */

/* What a new version may not change: the measure's name and units (a
 * unit is replaced by declaring the exchange: not through a new version),
 * and the periods already decided (a renewal adds one). */
static int check_continuity(const struct measure *old, const struct measure *n, char *err,
                            size_t err_len)
{
    if (strcmp(old->def.name, n->def.name) != 0 ||
        strcmp(old->def.author_unit, n->def.author_unit) != 0 ||
        strcmp(old->def.protected_unit, n->def.protected_unit) != 0 ||
        strcmp(old->def.bracelet, n->def.bracelet) != 0 ||
        strcmp(old->def.timezone, n->def.timezone) != 0) {
        snprintf(err, err_len,
                 "a new version keeps the measure's name, units and time zone "
                 "(%s: author %s, protected %s)",
                 old->def.name, old->def.author_unit, old->def.protected_unit);
        return VG_EINVAL;
    }
    if (!old->def.decision.present)
        return VG_OK; /* declared before decisions were recorded: nothing decided to keep */
    return vg_lifecycle_amend_check(&old->legal, &n->legal, err, err_len);
}

/* The new definition takes the old one's place; the engine starts afresh
 * (its zones and distances may have changed). */
static void swap_definition(struct vg_center *c, struct measure *m, struct measure *n)
{
    struct vg_measure_def def = m->def;
    m->def = n->def;
    n->def = def;
    char *text = m->definition;
    m->definition = n->definition;
    n->definition = text;
    m->cfg = n->cfg;
    m->cfg.zones = m->def.zones;
    m->cfg.ring = &m->def.ring; /* n's, freed below */
    vg_measure_decision_legal(&m->def.decision, m->def.alert_radius_m, m->def.zones, m->def.n_zones,
                              &m->legal);
    vg__center_measure_free(n);
    enum vg_raise was = (enum vg_raise)m->raise;
    step(c, m, vg__center_wall_ms()); /* starts the engine if it raises more */
    if (m->raise != VG_RAISE_NONE && m->raise <= was)
        start_engine(c, m); /* it judged under the old definition */
}

static int run_change(struct vg_center *c, struct vg_store_measure_change *ch,
                      struct vg_store_journal_entry *je, char *err, size_t err_len)
{
    struct cbatch *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    b->c = c;
    b->sb.measure_changes = ch;
    b->sb.n_measure_changes = 1;
    b->sb.journal = je;
    b->sb.n_journal = 1;
    vg__center_flush(c); /* the centre's own changes first: versions in order */
    int rc = vg__center_submit_and_wait(c, b);
    if (rc != VG_OK)
        snprintf(err, err_len, "%s", b->err[0] ? b->err : vg_strerror(rc));
    free(b);
    return rc;
}

/* The measure a change is made to, if it is still at the version the
 * change was made from (based_on; 0: no check). */
static int to_change(struct vg_center *c, int64_t id, int64_t based_on, struct measure **out,
                     char *err, size_t err_len)
{
    struct measure *m = find_measure(c, id);
    if (!m) {
        snprintf(err, err_len, "no measure %lld", (long long)id);
        return VG_ENOTFOUND;
    }
    if (based_on && based_on != m->version) {
        snprintf(err, err_len,
                 "measure %lld is at version %lld, the change was made from version %lld: "
                 "read it again",
                 (long long)m->id, (long long)m->version, (long long)based_on);
        return VG_ESTALE;
    }
    *out = m;
    return VG_OK;
}

int vg_center_amend_measure(struct vg_center *c, const char *actor, int64_t id, int64_t based_on,
                            const char *json, const char *note, int64_t *version,
                            json_t **violations, char *err, size_t err_len)
{
    *violations = NULL;
    struct measure *m = NULL;
    int rc = to_change(c, id, based_on, &m, err, err_len);
    if (rc != VG_OK)
        return rc;
    if (m->status == VG_STATUS_ENDED) {
        snprintf(err, err_len, "measure %s has ended (%s): it changes no more", m->def.name,
                 vg_end_reason_name((enum vg_end_reason)m->end_reason));
        return VG_ESTATE;
    }
    struct measure *n = vg__center_measure_build(c, id, json, err, err_len);
    if (!n)
        return VG_EINVAL;
    if ((rc = check_continuity(m, n, err, err_len)) != VG_OK ||
        (rc = check_law(c, n, violations, err, err_len)) != VG_OK) {
        vg__center_measure_free(n);
        return rc;
    }
    char detail[256];
    snprintf(detail, sizeof detail,
             "{\"alert_radius_m\":%.0f,\"from_version\":%lld,\"periods\":%zu,\"zones\":%zu}",
             n->def.alert_radius_m, (long long)m->version, n->def.decision.n_periods,
             n->def.n_zones);
    struct vg_store_measure_change ch = {
        .measure_id = id, .definition = json, .note = note ? note : "", .actor = actor};
    struct vg_store_journal_entry je = {
        .actor = actor, .action = "measure.amend", .subject = m->def.name, .detail = detail};
    if ((rc = run_change(c, &ch, &je, err, err_len)) != VG_OK) {
        vg__center_measure_free(n);
        return rc;
    }
    m->version = ch.version;
    swap_definition(c, m, n);
    *version = m->version;
    vg_log(VG_LOG_INFO, "measure amended", "measure", m->def.name, "by", actor, NULL);
    return VG_OK;
}

int vg_center_act_on_measure(struct vg_center *c, const char *actor, int64_t id, int64_t based_on,
                             enum vg_lifecycle_action action, const char *note, int64_t *version,
                             char *err, size_t err_len)
{
    struct measure *m = NULL;
    int rc = to_change(c, id, based_on, &m, err, err_len);
    if (rc != VG_OK)
        return rc;
    enum vg_measure_status ns;
    enum vg_end_reason reason;
    char msg[200];
    if (action == VG_ACTION_AMEND || vg_lifecycle_act((enum vg_measure_status)m->status, action,
                                                      &ns, &reason, msg, sizeof msg) != VG_OK) {
        snprintf(err, err_len, "%s", action == VG_ACTION_AMEND ? "a new version is a PUT" : msg);
        return VG_ESTATE;
    }
    if (!note || !note[0]) {
        snprintf(err, err_len, "note: say why (the decision's reference, the circumstances)");
        return VG_EINVAL;
    }
    char detail[512], action_name[32];
    json_t *dj =
        json_pack("{s:s, s:s, s:s}", "from", vg_status_name((enum vg_measure_status)m->status),
                  "to", vg_status_name(ns), "note", note);
    char *d = dj ? json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(dj);
    snprintf(detail, sizeof detail, "%s", d ? d : "{}");
    free(d);
    snprintf(action_name, sizeof action_name, "measure.%s", vg_action_name(action));
    struct vg_store_measure_change ch = {.measure_id = id,
                                         .status = vg_status_name(ns),
                                         .end_reason = vg_end_reason_name(reason),
                                         .note = note,
                                         .actor = actor};
    struct vg_store_journal_entry je = {
        .actor = actor, .action = action_name, .subject = m->def.name, .detail = detail};
    if ((rc = run_change(c, &ch, &je, err, err_len)) != VG_OK)
        return rc;
    m->version = ch.version;
    m->status = (uint8_t)ns;
    m->end_reason = (uint8_t)reason;
    step(c, m, vg__center_wall_ms()); /* resumed after its end date: expired */
    *version = m->version;
    vg_log(VG_LOG_INFO, "measure status changed", "measure", m->def.name, "action",
           vg_action_name(action), "by", actor, NULL);
    return VG_OK;
}

int vg_center_forget_measure(struct vg_center *c, int64_t id)
{
    struct measure **pp = &c->measures;
    while (*pp && (*pp)->id != id)
        pp = &(*pp)->next;
    struct measure *m = *pp;
    if (!m)
        return VG_ENOTFOUND;
    if (m->status != VG_STATUS_ENDED || m->dirty || m->stale)
        return VG_ESTATE;
    /* nothing in flight refers to it: an ended measure raises nothing, and
     * its last state has been stored (neither dirty nor stale) */
    *pp = m->next;
    struct unit *units[3] = {m->author, m->protected_person,
                             m->def.bracelet[0] ? vg__center_unit_find(c, m->def.bracelet) : NULL};
    for (int i = 0; i < 3; i++)
        if (units[i] && units[i]->m == m)
            units[i]->m = NULL;
    c->metrics.measures--;
    vg_log(VG_LOG_INFO, "measure let go (retention)", "measure", m->def.name, NULL);
    vg__center_measure_free(m);
    return VG_OK;
}
