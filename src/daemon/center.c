#include "daemon/center.h"
#include "daemon/center_internal.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/err.h"
#include "util/incident_json.h"
#include "util/log.h"
#include "util/measure_json.h"
#include "util/tzload.h"

/* fine where the targets are (a few milliseconds), coarse beyond */
const double vg_histogram_bounds_ms[VG_HIST_BUCKETS] = {0.25, 0.5, 1,  2,  3,   4,   5,    7.5,
                                                        10,   15,  20, 50, 100, 250, 1000, 5000};

void vg_histogram_observe(struct vg_histogram *h, double ms)
{
    size_t i = 0;
    while (i < VG_HIST_BUCKETS && ms > vg_histogram_bounds_ms[i])
        i++;
    h->counts[i]++;
    h->count++;
    h->sum += ms;
}

void vg_center_options_default(struct vg_center_options *o)
{
    *o = (struct vg_center_options){
        .report_interval_ms = 60000,
        .heartbeat_interval_ms = 120000,
        .max_pending_batches = 64,
        .max_unacked_per_unit = 8192,
        .replay_window_ms = 3600000,
    };
    vg_incident_policy_default(&o->escalation);
}

int64_t vg__center_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t hash_name(const char *s)
{
    size_t h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h % UNIT_BUCKETS;
}

struct unit *vg__center_unit_find(struct vg_center *c, const char *serial)
{
    for (struct unit *u = c->unit_hash[hash_name(serial)]; u; u = u->hash_next)
        if (strcmp(u->serial, serial) == 0)
            return u;
    return NULL;
}

struct unit *vg__center_unit_add(struct vg_center *c, int64_t id, const char *serial, uint8_t role,
                                 uint64_t acked)
{
    struct unit *u = vg__center_unit_find(c, serial);
    if (!u) {
        u = calloc(1, sizeof *u);
        if (!u)
            return NULL;
        snprintf(u->serial, sizeof u->serial, "%s", serial);
        size_t h = hash_name(serial);
        u->hash_next = c->unit_hash[h];
        c->unit_hash[h] = u;
        c->metrics.units++;
    }
    u->id = id;
    u->role = role;
    if (acked > u->acked_seq)
        u->acked_seq = acked;
    u->persisted_acked = u->acked_seq;
    return u;
}

const struct vg_tz *vg__center_tz_get(struct vg_center *c, const char *name, char *err, size_t len)
{
    for (struct tz_entry *t = c->tzs; t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return &t->tz;
    struct tz_entry *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, len, "out of memory");
        return NULL;
    }
    int rc = vg_tz_load(&t->tz, c->opts.zoneinfo_dir, name, err, len);
    if (rc < 0) {
        free(t);
        return NULL;
    }
    if (rc > 0)
        vg_log(VG_LOG_WARN, "time zone from the built-in rule", "reason", err, NULL);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->next = c->tzs;
    c->tzs = t;
    return &t->tz;
}

/* ---- batches ----------------------------------------------------------------- */

int vg__center_grow_array(void **ptr, size_t *cap, size_t elem)
{
    size_t ncap = *cap ? *cap * 2 : 64;
    void *p = realloc(*ptr, ncap * elem);
    if (!p)
        return -1;
    *ptr = p;
    *cap = ncap;
    return 0;
}

static void cbatch_free(struct cbatch *b)
{
    if (!b)
        return;
    free(b->records);
    free(b->record_units);
    free(b->alarms);
    free(b->alarm_from);
    free(b->states);
    free(b->state_copies);
    free(b->acks);
    free(b->fed);
    free(b->commands);
    free(b->journal);
    free(b->journal_text);
    free(b->changes);
    free(b->change_text);
    for (size_t i = 0; b->incident_detail && i < b->n_incidents; i++)
        free(b->incident_detail[i]);
    free(b->incident_detail);
    free(b->incident_subject);
    free(b->incidents);
    free(b);
}

struct cbatch *vg__center_open_batch(struct vg_center *c)
{
    if (!c->open) {
        c->open = calloc(1, sizeof *c->open);
        if (c->open) {
            c->open->c = c;
            c->open->serial = ++c->batch_serial;
        }
    }
    return c->open;
}

static void flush(struct vg_center *c, bool force);

static void schedule_flush(struct vg_center *c)
{
    event_active(c->flush_ev, 0, 0);
}

void vg__center_mark_dirty(struct vg_center *c, struct measure *m)
{
    if (m->dirty)
        return;
    m->dirty = true;
    m->next_dirty = c->dirty;
    c->dirty = m;
    schedule_flush(c);
}

/* An alarm opens its measure's incident or joins the open one
 * (core/incident.h); the incident as it stands goes with the alarm, in the
 * same transaction. */
static int incident(struct vg_center *c, struct cbatch *b, struct measure *m,
                    const struct vg_alarm *a)
{
    struct vg_incident next;
    enum vg_incident_effect e =
        vg_incident_on_alarm(m->has_incident ? &m->incident : NULL, m->id, a, a->raised_ms, &next);
    if (e == VG_INCIDENT_IGNORED)
        return VG_OK;
    if (e == VG_INCIDENT_OPENED)
        next.id = c->next_incident_id++;
    m->incident = next;
    m->has_incident = true;
    for (size_t k = 0; k < b->n_incidents; k++)
        if (b->incidents[k].id == next.id) {
            b->incidents[k] = next; /* already in this batch: as it stands now */
            return VG_OK;
        }
    if (GROW(b->incidents, b->n_incidents, b->cap_incidents))
        return VG_ENOSPC;
    b->incidents[b->n_incidents++] = next;
    return VG_OK;
}

/* The engine's outputs of one call into the open batch. */
int vg__center_collect(struct vg_center *c, struct measure *m, int64_t t_in_ns)
{
    struct cbatch *b = vg__center_open_batch(c);
    if (!b)
        return VG_ENOSPC;
    if (c->out.n_alarms)
        c->urgent = true;
    for (size_t i = 0; i < c->out.n_alarms; i++) {
        if (GROW(b->alarms, b->n_alarms, b->cap_alarms))
            return VG_ENOSPC;
        if (b->cap_alarm_from < b->cap_alarms) { /* alarm_from follows alarms' capacity */
            struct alarm_origin *t = realloc(b->alarm_from, b->cap_alarms * sizeof *t);
            if (!t)
                return VG_ENOSPC;
            b->alarm_from = t;
            b->cap_alarm_from = b->cap_alarms;
        }
        b->alarms[b->n_alarms] =
            (struct vg_store_alarm){.measure_id = m->id, .alarm = c->out.alarms[i]};
        if (incident(c, b, m, &c->out.alarms[i]) != VG_OK)
            return VG_ENOSPC;
        bool in_incident = m->has_incident && m->incident.last_alarm_seq == c->out.alarms[i].seq;
        b->alarm_from[b->n_alarms] =
            (struct alarm_origin){t_in_ns, m, in_incident ? m->incident.id : 0};
        b->n_alarms++;
    }
    for (size_t i = 0; i < c->out.n_commands; i++) {
        const struct vg_command *cmd = &c->out.commands[i];
        struct unit *u = cmd->unit == VG_UNIT_PROTECTED ? m->protected_person : m->author;
        if (!u)
            continue;
        if (GROW(b->commands, b->n_commands, b->cap_commands))
            return VG_ENOSPC;
        b->commands[b->n_commands++] = (struct command){u, *cmd};
    }
    vg__center_mark_dirty(c, m);
    return VG_OK;
}

void vg__center_filter(struct vg_center *c, const struct measure *m)
{
    if (m->raise == VG_RAISE_ALL)
        return;
    size_t k = 0;
    for (size_t i = 0; i < c->out.n_alarms; i++)
        if (vg_lifecycle_alarm_raised((enum vg_raise)m->raise,
                                      (enum vg_alarm_kind)c->out.alarms[i].kind))
            c->out.alarms[k++] = c->out.alarms[i];
    c->out.n_alarms = k;
    if (m->raise < VG_RAISE_SAFETY)
        c->out.n_commands = 0; /* no ringing nor fast tracking for a suspended measure */
}

/* Reschedule a measure's timer at its engine's next deadline. */
void vg__center_arm_timer(struct measure *m)
{
    int64_t at = m->st.next_deadline_ms;
    if (at == m->timer_at_ms && event_pending(m->timer, EV_TIMEOUT, NULL))
        return;
    m->timer_at_ms = at;
    if (at == INT64_MAX) {
        event_del(m->timer);
        return;
    }
    int64_t delay = at - vg__center_wall_ms();
    if (delay < 0)
        delay = 0;
    if (delay > 86400000)
        delay = 86400000; /* re-armed when it fires */
    struct timeval tv = {(time_t)(delay / 1000), (suseconds_t)(delay % 1000 * 1000)};
    event_add(m->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct measure *m = arg;
    struct vg_center *c = m->c;
    m->timer_at_ms = 0;
    if (m->raise == VG_RAISE_NONE)
        return; /* ended */
    if (vg_engine_tick(&m->st, &m->cfg, vg__center_wall_ms(), &c->out) == VG_OK) {
        vg__center_filter(c, m);
        if (c->out.n_alarms || c->out.n_commands)
            vg__center_collect(c, m, 0);
        else
            vg__center_mark_dirty(c, m); /* the state moved on (supervision clocks) */
    }
    vg__center_arm_timer(m);
    if (c->urgent)
        flush(c, false);
}

/* ---- records ----------------------------------------------------------------- */

/* Where seq stands for this unit: 0 new, 1 already durable, 2 in flight. */
static int seq_known(const struct unit *u, uint64_t seq, size_t *pos)
{
    if (seq <= u->acked_seq)
        return 1;
    size_t lo = 0, hi = u->n_marks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (u->marks[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    if (lo < u->n_marks && u->marks[lo].seq == seq)
        return u->marks[lo].committed ? 1 : 2;
    return 0;
}

static int seq_insert(struct unit *u, uint64_t seq, size_t pos, const struct cbatch *b)
{
    if (GROW(u->marks, u->n_marks, u->cap_marks))
        return VG_ENOSPC;
    memmove(&u->marks[pos + 1], &u->marks[pos], (u->n_marks - pos) * sizeof u->marks[0]);
    u->marks[pos] = (struct seq_mark){seq, false, b};
    u->n_marks++;
    return VG_OK;
}

/* A record is durable: advance what can be acknowledged. */
static void seq_committed(struct unit *u, uint64_t seq)
{
    size_t pos;
    if (seq_known(u, seq, &pos) != 2)
        return;
    u->marks[pos].committed = true;
    size_t k = 0;
    while (k < u->n_marks && u->marks[k].committed && u->marks[k].seq == u->acked_seq + 1) {
        u->acked_seq++;
        k++;
    }
    if (k) {
        memmove(&u->marks[0], &u->marks[k], (u->n_marks - k) * sizeof u->marks[0]);
        u->n_marks -= k;
    }
}

/* A record's batch failed: it is no longer in flight (the unit resends). */
static void seq_forget(struct unit *u, uint64_t seq)
{
    size_t pos;
    if (seq_known(u, seq, &pos) != 2)
        return;
    memmove(&u->marks[pos], &u->marks[pos + 1], (u->n_marks - pos - 1) * sizeof u->marks[0]);
    u->n_marks--;
}

static void send_ack(struct vg_center *c, struct unit *u)
{
    (void)c;
    if (!u->conn)
        return;
    struct vg_proto_ack ack = {.cumulative = u->acked_seq};
    for (size_t i = 0; i < u->n_marks && ack.n_extra < VG_PROTO_MAX_EXTRA_ACKS; i++)
        if (u->marks[i].committed)
            ack.extra[ack.n_extra++] = u->marks[i].seq;
    uint8_t frame[VG_PROTO_HEADER_LEN + 16 + 8 * VG_PROTO_MAX_EXTRA_ACKS];
    size_t n;
    if (vg_proto_encode_ack(frame, sizeof frame, &ack, &n) == VG_OK)
        vg_conn_send(u->conn, frame, n);
}

enum vg_unit vg__center_engine_unit(const struct unit *u, const struct vg_proto_record *r)
{
    if (u->role == VG_ROLE_PROTECTED)
        return VG_UNIT_PROTECTED;
    if (r->type == VG_REC_STATUS && r->subject == VG_SUBJECT_BRACELET)
        return VG_UNIT_BRACELET;
    return VG_UNIT_AUTHOR;
}

/* Feed one record to its measure's engine. */
static void judge(struct vg_center *c, struct unit *u, const struct vg_proto_record *r,
                  int64_t t_in_ns)
{
    struct measure *m = u->m;
    if (!m)
        return; /* stored as evidence; no measure to judge it for */
    vg__case_on_record(c, m, u, r, vg__center_wall_ms());
    if (m->raise == VG_RAISE_NONE)
        return; /* ended: stored as evidence, no longer judged */
    struct vg_engine_input in;
    memset(&in, 0, sizeof in);
    in.unit = (uint8_t)vg__center_engine_unit(u, r);
    switch (r->type) {
    case VG_REC_FIX:
        in.kind = VG_INPUT_FIX;
        in.fix = r->fix;
        break;
    case VG_REC_STATUS:
        in.kind = VG_INPUT_STATUS;
        in.status = r->status;
        break;
    default:
        in.kind = VG_INPUT_EVENT;
        in.event = r->event;
        break;
    }
    int rc = vg_engine_feed(&m->st, &m->cfg, &in, vg__center_wall_ms(), &c->out);
    vg__center_filter(c, m);
    if (rc != VG_OK) {
        c->metrics.records_rejected++;
        char seq[32];
        snprintf(seq, sizeof seq, "%llu", (unsigned long long)r->seq);
        vg_log(VG_LOG_WARN, "record stored but refused by the engine", "unit", u->serial, "seq",
               seq, "reason", vg_strerror(rc), NULL);
        return;
    }
    if (vg__center_collect(c, m, t_in_ns) != VG_OK)
        vg_log(VG_LOG_ERROR, "out of memory collecting alarms", "measure", m->def.name, NULL);
    vg__center_arm_timer(m);
}

static int add_record(struct vg_center *c, struct unit *u, const struct vg_proto_record *r,
                      int64_t now)
{
    struct cbatch *b = vg__center_open_batch(c);
    if (!b || GROW(b->records, b->n_records, b->cap_records))
        return VG_ENOSPC;
    if (b->cap_record_units < b->cap_records) { /* record_units follows records' capacity */
        struct unit **ru = realloc(b->record_units, b->cap_records * sizeof *ru);
        if (!ru)
            return VG_ENOSPC;
        b->record_units = ru;
        b->cap_record_units = b->cap_records;
    }
    b->records[b->n_records] =
        (struct vg_store_record){.unit_id = u->id, .received_ms = now, .rec = *r};
    b->record_units[b->n_records] = u;
    b->n_records++;
    schedule_flush(c);
    return VG_OK;
}

static int hook_records(void *arg, void *unit, struct vg_conn *conn, const uint8_t *payload,
                        size_t len, int64_t t_in_ns)
{
    struct vg_center *c = arg;
    struct unit *u = unit;
    (void)conn;
    /* the whole frame is checked before anything of it is used */
    struct vg_proto_records it;
    struct vg_proto_record r;
    if (vg_proto_records_begin(&it, payload, len) != VG_OK)
        return VG_PROTO_ERR_MALFORMED;
    size_t n = 0;
    int rc;
    while ((rc = vg_proto_records_next(&it, &r)) == 1)
        n++;
    if (rc < 0)
        return VG_PROTO_ERR_MALFORMED;
    if (u->n_marks + n > c->opts.max_unacked_per_unit)
        return VG_PROTO_ERR_OVERLOADED;

    int64_t now = vg__center_wall_ms();
    bool ack_now = false, any_new = false;
    vg_proto_records_begin(&it, payload, len);
    while (vg_proto_records_next(&it, &r) == 1) {
        size_t pos = 0;
        int known = seq_known(u, r.seq, &pos);
        if (known) {
            c->metrics.records_duplicate++;
            ack_now |= known == 1; /* stored already: say so now */
            continue;
        }
        if (!vg__center_open_batch(c) || seq_insert(u, r.seq, pos, c->open) != VG_OK ||
            add_record(c, u, &r, now) != VG_OK) {
            vg_log(VG_LOG_ERROR, "out of memory queuing records", "unit", u->serial, NULL);
            return VG_PROTO_ERR_OVERLOADED;
        }
        if (r.type < 5)
            c->metrics.records[r.type]++;
        any_new = true;
        if (r.type == VG_REC_EVENT && r.event.kind == VG_EVENT_RECORD_LOST) {
            char seq[24];
            snprintf(seq, sizeof seq, "%llu", (unsigned long long)r.seq);
            vg_log(VG_LOG_WARN, "a unit lost a record on its flash (a notice in its place)", "unit",
                   u->serial, "seq", seq, NULL);
        }
        judge(c, u, &r, t_in_ns);
    }
    /* only resends: say at once that they are stored; otherwise the
     * acknowledgement after the commit covers them too */
    if (ack_now && !any_new)
        send_ack(c, u);
    /* An alarm goes to the store now, not after the rest of the loop's
     * reads: its latency is what the police wait on. */
    if (c->urgent)
        flush(c, false);
    return 0;
}

/* ---- flushing and completions -------------------------------------------------- */

void vg__center_on_store_done(struct vg_store_batch *sb, int rc, const char *err)
{
    struct cbatch *b = (struct cbatch *)sb;
    struct vg_center *c = b->c;
    if (rc == VG_OK && sb->n_journal && c->listener.journal_committed)
        c->listener.journal_committed(c->listener.arg, sb->committed_ns);
    pthread_mutex_lock(&c->done_lock);
    b->rc = rc;
    if (err)
        snprintf(b->err, sizeof b->err, "%s", err);
    if (b->sync) {
        b->finished = true;
        pthread_cond_broadcast(&c->done_cond);
    } else {
        b->next_done = NULL;
        if (c->done_tail)
            c->done_tail->next_done = b;
        else
            c->done_head = b;
        c->done_tail = b;
        event_active(c->done_ev, 0, 0);
    }
    pthread_mutex_unlock(&c->done_lock);
}

static void update_pause(struct vg_center *c)
{
    if (c->gateway)
        vg_gateway_pause(c->gateway, c->in_store >= c->opts.max_pending_batches);
}

/* A digest of what in an engine state decides alarms: zone levels and
 * their pending crossings, device and loss flags, the alarm numbering.
 * Left out: positions, speeds, tallies, clocks of the latest records and
 * caches, which the next records refresh. */
static uint64_t significant_digest(const struct vg_engine_state *st)
{
    struct vg_engine_state s = *st;
    for (int p = 0; p < 2; p++) {
        struct vg_party_state *ps = &s.party[p];
        memset(&ps->pos, 0, sizeof ps->pos);
        memset(ps->hist, 0, sizeof ps->hist);
        ps->n_hist = 0;
        ps->last_fix_rx_ms = 0;
        ps->speed_mps = 0;
    }
    for (int u = 0; u < VG_UNIT_COUNT; u++) {
        s.unit[u].last_heard_ms = 0;
        s.unit[u].status_ms = 0;
        s.unit[u].battery_pct = 0;
        s.unit[u].charging = 0;
    }
    for (size_t z = 0; z < sizeof s.zone / sizeof s.zone[0]; z++)
        s.zone[z].last_distance_m = 0;
    s.now_ms = s.next_deadline_ms = s.windows_until_ms = s.windows_from_ms = 0;
    s.fast_since_ms = s.mobile_t_ms = 0;
    s.mobile_distance_m = 0;
    s.closed_by[0] = s.closed_by[1] = s.approach_rate[0] = s.approach_rate[1] = 0;
    s.near_mask = 0;
    /* eight bytes at a time (FNV-1a on words, then a final mix): a change
     * anywhere changes the digest but for a 2^-64 chance */
    uint64_t h = 0xcbf29ce484222325ULL;
    const unsigned char *p = (const unsigned char *)&s;
    size_t i = 0;
    for (; i + 8 <= sizeof s; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < sizeof s; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h ^ (h >> 32);
}

/* How stale the stored state of a measure may get in what does not decide
 * alarms (positions, clocks): a restart resumes with positions at most
 * this old, which the next fixes replace. */
#define STATE_REFRESH_MS 2000

/* The texts of the incidents' journal entries: each incident the batch's
 * alarms opened or joined, whole, so that the journal (and the live stream
 * that reads it, http/stream.c) tells every change of an incident. */
static int journal_incidents(struct cbatch *b)
{
    if (!b->n_incidents)
        return VG_OK;
    b->incident_subject = calloc(b->n_incidents, sizeof *b->incident_subject);
    b->incident_detail = calloc(b->n_incidents, sizeof *b->incident_detail);
    if (!b->incident_subject || !b->incident_detail)
        return VG_ENOSPC;
    for (size_t i = 0; i < b->n_incidents; i++) {
        const struct vg_incident *inc = &b->incidents[i];
        const char *name = "";
        bool opened = false; /* by one of this batch's alarms */
        for (size_t k = 0; k < b->n_alarms; k++)
            if (b->alarm_from[k].m->id == inc->measure_id) {
                name = b->alarm_from[k].m->def.name;
                opened |= b->alarms[k].alarm.seq == inc->first_alarm_seq &&
                          b->alarm_from[k].incident_id == inc->id;
            }
        snprintf(b->incident_subject[i], sizeof b->incident_subject[i], "incident/%lld",
                 (long long)inc->id);
        json_t *o = json_pack("{s:s,s:o}", "effect", opened ? "opened" : "joined",
                              "incident", vg_incident_to_json(inc, name));
        b->incident_detail[i] = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(o);
        if (!b->incident_detail[i])
            return VG_ENOSPC;
    }
    return VG_OK;
}

static void flush(struct vg_center *c, bool force)
{
    struct cbatch *b = c->open;
    int64_t now = vg__center_wall_ms();
    /* The engine states of the measures this batch moved, as of now: each
     * one whose significant part changed, the others at most every
     * STATE_REFRESH_MS (they stay dirty until then). */
    struct measure *keep = NULL;
    for (struct measure *m = c->dirty, *next; m; m = next) {
        next = m->next_dirty;
        uint64_t digest = significant_digest(&m->st);
        if (!force && digest == m->stored_digest && now - m->stored_ms < STATE_REFRESH_MS) {
            m->dirty = false; /* new records make it dirty again */
            if (!m->stale) {
                m->stale = true;
                m->next_stale = c->stale;
                c->stale = m;
            }
            continue;
        }
        bool room =
            (b || (b = vg__center_open_batch(c))) && !GROW(b->states, b->n_states, b->cap_states);
        if (room && b->cap_state_copies < b->cap_states) {
            struct vg_engine_state *copies =
                realloc(b->state_copies, b->cap_states * sizeof *copies);
            if (copies) {
                b->state_copies = copies;
                b->cap_state_copies = b->cap_states;
            }
            room = copies != NULL;
        }
        if (!room) { /* out of memory: it stays dirty for the next flush */
            m->next_dirty = keep;
            keep = m;
            continue;
        }
        m->dirty = false;
        m->stored_digest = digest;
        m->stored_ms = now;
        b->state_copies[b->n_states] = m->st;
        b->states[b->n_states] = (struct vg_store_state){
            .measure_id = m->id, .version = VG_ENGINE_STATE_VERSION, .len = (uint32_t)sizeof m->st};
        b->n_states++;
    }
    c->dirty = keep; /* out of memory: tried again at the refresh */
    if ((c->stale || keep) && !event_pending(c->refresh_ev, EV_TIMEOUT, NULL)) {
        struct timeval tv = {STATE_REFRESH_MS / 1000, STATE_REFRESH_MS % 1000 * 1000};
        event_add(c->refresh_ev, &tv);
    }
    if (!b)
        return;
    /* the copies stop moving now: point the states at them */
    for (size_t i = 0; i < b->n_states; i++)
        b->states[i].blob = &b->state_copies[i];
    /* What each unit's acknowledgement will have reached once this batch
     * commits, written in the same transaction: what is durable and what
     * this batch carries, never a record of another batch still in flight
     * (it could fail). A restart then tells each unit exactly where to
     * resume. */
    for (size_t i = 0; i < b->n_records; i++) {
        struct unit *u = b->record_units[i];
        uint64_t reach = u->acked_seq;
        for (size_t k = 0; k < u->n_marks && u->marks[k].seq == reach + 1; k++) {
            if (!u->marks[k].committed && u->marks[k].batch != b)
                break;
            reach++;
        }
        if (reach > u->persisted_acked) {
            if (GROW(b->acks, b->n_acks, b->cap_acks))
                break;
            b->acks[b->n_acks++] = (struct vg_store_unit_ack){u->id, reach};
            u->persisted_acked = reach;
        }
    }
    /* every alarm and case change in the journal, in the same transaction */
    if (b->n_alarms + b->n_changes > 0) {
        b->journal = calloc(b->n_alarms + b->n_incidents + b->n_changes, sizeof *b->journal);
        b->journal_text = calloc(b->n_alarms ? b->n_alarms : 1, sizeof *b->journal_text);
        if (b->journal && b->journal_text && journal_incidents(b) == VG_OK) {
            for (size_t i = 0; i < b->n_alarms; i++) {
                const struct vg_alarm *a = &b->alarms[i].alarm;
                const struct alarm_origin *o = &b->alarm_from[i];
                char *subject = b->journal_text[i][0], *detail = b->journal_text[i][1];
                char dist[32] = "";
                if (a->ev.distance_m >= 0)
                    snprintf(dist, sizeof dist, ",\"distance_m\":%.0f", a->ev.distance_m);
                snprintf(subject, sizeof b->journal_text[i][0], "%s", o->m->def.name);
                snprintf(detail, sizeof b->journal_text[i][1],
                         "{\"kind\":\"%s\",\"seq\":%u,\"unit\":\"%s\",\"priority\":%u,"
                         "\"at_ms\":%lld,\"measure_id\":%lld,\"incident\":%lld%s}",
                         vg_alarm_kind_name(a->kind), a->seq, vg_unit_name(a->unit),
                         (unsigned)a->priority, (long long)a->at_ms, (long long)o->m->id,
                         (long long)o->incident_id, dist);
                b->journal[i] = (struct vg_store_journal_entry){.actor = "engine",
                                                                .action = "alarm.raised",
                                                                .subject = subject,
                                                                .detail = detail};
            }
            /* then the incidents as they stand after these alarms */
            for (size_t i = 0; i < b->n_incidents; i++)
                b->journal[b->n_alarms + i] =
                    (struct vg_store_journal_entry){.actor = "engine",
                                                    .action = "incident.alarm",
                                                    .subject = b->incident_subject[i],
                                                    .detail = b->incident_detail[i]};
            b->sb.journal = b->journal;
            b->sb.n_journal = b->n_alarms + b->n_incidents;
            vg__case_flush(b, b->journal, &b->sb.n_journal);
        } else {
            /* the alarm itself matters more than its journal line: stored
             * and acted upon all the same, the gap said loudly */
            vg_log(VG_LOG_ERROR, "out of memory: alarms stored without their journal entries",
                   NULL);
        }
    }
    c->open = NULL;
    b->sb.urgent = c->urgent;
    c->urgent = false;
    /* the measures its records feed, so that an alarm of another pair may
     * be committed before it (store.h); out of memory: it declares nothing
     * and keeps its place */
    b->sb.declares_fed = true;
    for (size_t i = 0; i < b->n_records && b->sb.declares_fed; i++) {
        struct measure *m = b->record_units[i]->m;
        if (!m || m->fed_by == b->serial)
            continue;
        if (GROW(b->fed, b->n_fed, b->cap_fed)) {
            b->sb.declares_fed = false;
        } else {
            b->fed[b->n_fed++] = m->id;
            m->fed_by = b->serial;
        }
    }
    b->sb.measures_fed = b->fed;
    b->sb.n_measures_fed = b->n_fed;
    b->sb.records = b->records;
    b->sb.n_records = b->n_records;
    b->sb.alarms = b->alarms;
    b->sb.n_alarms = b->n_alarms;
    b->sb.states = b->states;
    b->sb.n_states = b->n_states;
    b->sb.acks = b->acks;
    b->sb.n_acks = b->n_acks;
    b->sb.incidents = b->incidents;
    b->sb.n_incidents = b->n_incidents;
    b->sb.done = vg__center_on_store_done;
    b->sb.arg = b;
    c->in_store++;
    if (vg_store_submit(c->store, &b->sb) != VG_OK) {
        vg_log(VG_LOG_ERROR, "store refused a batch (closing?)", NULL);
        vg__center_on_store_done(&b->sb, VG_ESTATE, "store closed");
    }
    update_pause(c);
}

static void unstale(struct vg_center *c)
{
    struct measure *m = c->stale;
    c->stale = NULL;
    while (m) {
        struct measure *next = m->next_stale;
        m->stale = false;
        m->next_stale = NULL;
        vg__center_mark_dirty(c, m);
        m = next;
    }
}

void vg__center_flush(struct vg_center *c)
{
    flush(c, false);
}

void vg_center_flush(struct vg_center *c)
{
    unstale(c);     /* the positions too */
    flush(c, true); /* shutting down: every state as it is */
}

void vg_center_quiesce(struct vg_center *c)
{
    c->gateway = NULL;
    vg__case_stop(c);
    vg__escalation_stop(c);
    event_del(c->flush_ev);
    event_del(c->refresh_ev);
    for (struct measure *m = c->measures; m; m = m->next)
        if (m->timer)
            event_del(m->timer);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    flush(arg, false);
}

/* The stale measures back on the dirty list: those stored long enough ago
 * are stored now, the others wait for the next refresh. */
static void on_refresh(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vg_center *c = arg;
    unstale(c);
    flush(c, false);
}

static const char *ring_text(uint8_t level)
{
    /* what the protected person reads on her unit: what to do, not where he is */
    switch (level) {
    case VG_LEVEL_ALERT:
        return "ALERTE : mettez-vous en sécurité. Le centre de surveillance vous appelle.";
    case VG_LEVEL_PREALERT: return "Pré-alerte : le centre de surveillance suit la situation.";
    default: return "Message du centre de surveillance.";
    }
}

static void send_command(struct vg_center *c, struct unit *u, const struct vg_command *cmd)
{
    uint8_t frame[VG_PROTO_HEADER_LEN + VG_PROTO_MAX_TEXT + 64];
    size_t n = 0;
    int rc = VG_EINVAL;
    if (cmd->kind == VG_CMD_SET_REPORTING) {
        u->pending_interval_ms = cmd->interval_ms;
        if (!u->conn) {
            c->metrics.commands_queued++;
            return;
        }
        struct vg_proto_config m = {.command_id = ++u->next_command_id,
                                    .report_interval_ms = (uint32_t)cmd->interval_ms};
        rc = vg_proto_encode_config(frame, sizeof frame, &m, &n);
    } else if (cmd->kind == VG_CMD_RING) {
        if (!u->conn) {
            /* a ring is worth delivering for a couple of minutes, not later,
             * and only if still relevant then (hook_hello); of two, the
             * higher level is kept */
            if (u->pending_ring.kind != VG_CMD_RING || cmd->level >= u->pending_ring.level)
                u->pending_ring = *cmd;
            u->pending_ring_until_ms = vg__center_wall_ms() + 120000;
            c->metrics.commands_queued++;
            return;
        }
        struct vg_proto_ring m = {.command_id = ++u->next_command_id,
                                  .level = cmd->level,
                                  .vibrate_ms = cmd->level == VG_LEVEL_ALERT ? 3000 : 1000,
                                  .sound = cmd->mode}; /* her notification policy */
        snprintf(m.message, sizeof m.message, "%s", ring_text(cmd->level));
        rc = vg_proto_encode_ring(frame, sizeof frame, &m, &n);
    }
    if (rc == VG_OK && vg_conn_send(u->conn, frame, n) == VG_OK)
        c->metrics.commands_sent++;
}

void vg_center_set_listener(struct vg_center *c, const struct vg_center_listener *l)
{
    if (l)
        c->listener = *l;
    else
        memset(&c->listener, 0, sizeof c->listener);
}

/* The batch's fixes with a position, now durable, to the live stream. */
static void publish_positions(struct vg_center *c, const struct cbatch *b)
{
    for (size_t i = 0; i < b->n_records; i++) {
        const struct vg_store_record *r = &b->records[i];
        const struct unit *u = b->record_units[i];
        const struct measure *m = u->m;
        if (!m || r->rec.type != VG_REC_FIX || !VG_FIX_IS_GNSS(r->rec.fix.quality) ||
            vg_fix_check(&r->rec.fix) != VG_OK ||
            (u->role != VG_ROLE_AUTHOR && u->role != VG_ROLE_PROTECTED))
            continue;
        bool in_progress = m->has_incident && m->incident.state != VG_INCIDENT_CLOSED;
        struct vg_center_position p = {.measure_id = m->id,
                                       .measure = m->def.name,
                                       .court = m->def.court,
                                       .role = u->role,
                                       .fix = &r->rec.fix,
                                       .received_ms = r->received_ms,
                                       .incident_id = in_progress ? m->incident.id : 0};
        c->listener.position(c->listener.arg, &p);
    }
}

static void complete(struct vg_center *c, struct cbatch *b)
{
    c->in_store--;
    if (b->rc != VG_OK) {
        c->metrics.batches_failed++;
        if (b->rc == VG_ESTATE) /* the database's (store_backend.h), not the batch's */
            c->metrics.batches_failed_db++;
        vg_log(VG_LOG_ERROR, "a batch could not be stored: its units will resend", "reason", b->err,
               NULL);
        for (size_t i = 0; i < b->n_records; i++) {
            struct unit *u = b->record_units[i];
            seq_forget(u, b->records[i].rec.seq);
            u->persisted_acked = u->acked_seq; /* the batch's ack update is gone too */
        }
        cbatch_free(b);
        return;
    }
    c->metrics.batches_committed++;
    int64_t now_ns = b->sb.committed_ns;
    vg_histogram_observe(&c->metrics.commit_ms,
                         (double)(b->sb.committed_ns - b->sb.submitted_ns) / 1e6);
    struct unit *to_ack = NULL;
    for (size_t i = 0; i < b->n_records; i++) {
        struct unit *u = b->record_units[i];
        seq_committed(u, b->records[i].rec.seq);
        if (!u->in_ack_list) {
            u->in_ack_list = true;
            u->next_ack = to_ack;
            to_ack = u;
        }
    }
    for (struct unit *u = to_ack; u;) {
        struct unit *next = u->next_ack;
        u->in_ack_list = false;
        send_ack(c, u);
        u = next;
    }
    if (c->listener.wants_positions && c->listener.wants_positions(c->listener.arg))
        publish_positions(c, b);
    for (size_t i = 0; i < b->n_alarms; i++) {
        const struct vg_alarm *a = &b->alarms[i].alarm;
        if (a->kind < VG_ALARM_KIND__COUNT)
            c->metrics.alarms[a->kind]++;
        const struct alarm_origin *o = &b->alarm_from[i];
        if (o->t_in_ns)
            vg_histogram_observe(&c->metrics.alarm_ms, (double)(now_ns - o->t_in_ns) / 1e6);
        char seq[16], at[24], prio[4], dist[24];
        snprintf(seq, sizeof seq, "%u", a->seq);
        snprintf(at, sizeof at, "%lld", (long long)a->at_ms);
        snprintf(prio, sizeof prio, "%u", a->priority);
        if (a->ev.distance_m >= 0)
            snprintf(dist, sizeof dist, "%.0f", a->ev.distance_m);
        else
            snprintf(dist, sizeof dist, "unknown");
        vg_log(a->priority <= VG_PRIORITY_PREALERT ? VG_LOG_WARN : VG_LOG_INFO, "alarm", "measure",
               o->m->def.name, "kind", vg_alarm_kind_name(a->kind), "priority", prio, "unit",
               vg_unit_name(a->unit), "seq", seq, "at_ms", at, "distance_m", dist, NULL);
    }
    for (size_t i = 0; i < b->n_commands; i++)
        send_command(c, b->commands[i].u, &b->commands[i].cmd);
    cbatch_free(b);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vg_center *c = arg;
    pthread_mutex_lock(&c->done_lock);
    struct cbatch *list = c->done_head;
    c->done_head = c->done_tail = NULL;
    pthread_mutex_unlock(&c->done_lock);
    while (list) {
        struct cbatch *next = list->next_done;
        complete(c, list);
        list = next;
    }
    update_pause(c);
}

/* ---- the gateway's hooks --------------------------------------------------------- */

static void *hook_authenticated(void *arg, struct vg_conn *conn, const char *cn, uint16_t *code)
{
    struct vg_center *c = arg;
    struct unit *u = vg__center_unit_find(c, cn);
    if (!u || (u->role != VG_ROLE_AUTHOR && u->role != VG_ROLE_PROTECTED)) {
        *code = VG_PROTO_ERR_UNKNOWN_UNIT;
        vg_log(VG_LOG_WARN, "a valid certificate for an unknown unit", "unit", cn, "peer",
               vg_conn_peer(conn), NULL);
        return NULL;
    }
    if (u->conn) /* a unit reconnecting: the old path is dead */
        vg_conn_close(u->conn, VG_PROTO_ERR_UNEXPECTED, "replaced by a new connection");
    u->conn = conn;
    c->metrics.units_connected++;
    vg_log(VG_LOG_INFO, "unit connected", "unit", u->serial, "peer", vg_conn_peer(conn), NULL);
    return u;
}

static int hook_hello(void *arg, void *unit, struct vg_conn *conn, const struct vg_proto_hello *h)
{
    struct vg_center *c = arg;
    struct unit *u = unit;
    (void)h;
    struct vg_proto_welcome w = {
        .version = VG_PROTO_VERSION,
        .server_time_ms = (uint64_t)vg__center_wall_ms(),
        .acked_seq = u->acked_seq,
        .report_interval_ms = (uint32_t)(u->pending_interval_ms > 0 ? u->pending_interval_ms
                                                                    : c->opts.report_interval_ms),
        .heartbeat_interval_ms = (uint32_t)c->opts.heartbeat_interval_ms,
    };
    uint8_t frame[128];
    size_t n;
    if (vg_proto_encode_welcome(frame, sizeof frame, &w, &n) != VG_OK)
        return VG_PROTO_ERR_MALFORMED;
    vg_conn_send(conn, frame, n);
    /* a ring held while her unit was away: judged again now (the zone may
     * have been left; her night may have begun), never louder than held */
    int64_t wall = vg__center_wall_ms();
    struct vg_command ring;
    if (u->pending_ring.kind == VG_CMD_RING && u->pending_ring_until_ms > wall && u->m &&
        vg_engine_ring_on_delivery(&u->m->st, &u->m->cfg, &u->pending_ring, wall, &ring))
        send_command(c, u, &ring);
    u->pending_ring.kind = 0;
    return 0;
}

static void hook_command_ack(void *arg, void *unit, const struct vg_proto_command_ack *a)
{
    (void)arg;
    struct unit *u = unit;
    if (a->status != 0) {
        char id[16];
        snprintf(id, sizeof id, "%u", a->command_id);
        vg_log(VG_LOG_WARN, "a unit refused a command", "unit", u->serial, "command", id, NULL);
    }
}

static void hook_closed(void *arg, void *unit, struct vg_conn *conn)
{
    struct vg_center *c = arg;
    struct unit *u = unit;
    if (u->conn == conn) {
        u->conn = NULL;
        c->metrics.units_connected--;
    }
}

struct vg_gateway_hooks vg_center_gateway_hooks(struct vg_center *c)
{
    return (struct vg_gateway_hooks){
        .arg = c,
        .authenticated = hook_authenticated,
        .hello = hook_hello,
        .records = hook_records,
        .command_ack = hook_command_ack,
        .closed = hook_closed,
    };
}

void vg_center_set_gateway(struct vg_center *c, struct vg_gateway *g)
{
    c->gateway = g;
}

/* ---- measures ------------------------------------------------------------------------ */

/* Build a measure from its definition; the engine starts at now unless a
 * stored state is given. */
struct measure *vg__center_measure_build(struct vg_center *c, int64_t id, const char *json,
                                         char *err, size_t len)
{
    char tz_name[VG_NAME_MAX + 1];
    if (vg_measure_json_timezone(json, tz_name, sizeof tz_name, err, len) != VG_OK)
        return NULL;
    const struct vg_tz *tz = vg__center_tz_get(c, tz_name, err, len);
    if (!tz)
        return NULL;
    struct measure *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, len, "out of memory");
        return NULL;
    }
    if (vg_measure_def_parse(json, tz, &m->def, err, len) != VG_OK) {
        free(m);
        return NULL;
    }
    m->c = c;
    m->id = id;
    m->definition = strdup(json);
    if (!m->definition) {
        snprintf(err, len, "out of memory");
        vg_measure_def_cleanup(&m->def);
        free(m);
        return NULL;
    }
    vg_measure_decision_legal(&m->def.decision, m->def.alert_radius_m, m->def.zones, m->def.n_zones,
                              &m->legal);
    m->status = VG_STATUS_PENDING;
    m->inst.has_bracelet = m->def.bracelet[0] != '\0';
    m->cfg = (struct vg_engine_config){.alert_radius_m = m->def.alert_radius_m,
                                       .zones = m->def.zones,
                                       .n_zones = m->def.n_zones,
                                       .tz = tz,
                                       .params = c->params,
                                       .ring = &m->def.ring};
    m->timer = evtimer_new(c->base, on_timer, m);
    if (!m->timer || vg_engine_config_check(&m->cfg) != VG_OK) {
        snprintf(err, len, "the definition does not make an engine configuration");
        if (m->timer)
            event_free(m->timer);
        vg_measure_def_cleanup(&m->def);
        free(m->definition);
        free(m);
        return NULL;
    }
    return m;
}

void vg__center_measure_attach(struct vg_center *c, struct measure *m)
{
    m->next = c->measures;
    c->measures = m;
    c->metrics.measures++;
    struct unit *a = vg__center_unit_find(c, m->def.author_unit);
    struct unit *p = vg__center_unit_find(c, m->def.protected_unit);
    if (a)
        a->m = m;
    if (p)
        p->m = m;
    if (m->def.bracelet[0]) {
        struct unit *b = vg__center_unit_find(c, m->def.bracelet);
        if (b)
            b->m = m;
    }
    m->author = a;
    m->protected_person = p;
}

void vg__center_measure_free(struct measure *m)
{
    if (m->timer)
        event_free(m->timer);
    vg_measure_def_cleanup(&m->def);
    free(m->definition);
    free(m);
}

/* Wait for a batch submitted synchronously. */
int vg__center_submit_and_wait(struct vg_center *c, struct cbatch *b)
{
    b->sync = true;
    b->sb.done = vg__center_on_store_done;
    b->sb.arg = b;
    int rc = vg_store_submit(c->store, &b->sb);
    if (rc != VG_OK)
        return rc;
    pthread_mutex_lock(&c->done_lock);
    while (!b->finished)
        pthread_cond_wait(&c->done_cond, &c->done_lock);
    pthread_mutex_unlock(&c->done_lock);
    return b->rc;
}

int vg_center_journal(struct vg_center *c, const char *actor, const char *action,
                      const char *subject, const char *detail, char *err, size_t err_len)
{
    struct vg_store_journal_entry e = {
        .actor = actor, .action = action, .subject = subject, .detail = detail};
    struct cbatch *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    b->c = c;
    b->sb.journal = &e;
    b->sb.n_journal = 1;
    int rc = vg__center_submit_and_wait(c, b);
    if (rc != VG_OK)
        snprintf(err, err_len, "journal: %s", b->err[0] ? b->err : vg_strerror(rc));
    free(b);
    return rc;
}

int vg_center_list_measures(struct vg_center *c,
                            int (*cb)(void *arg, const struct vg_center_measure_info *info),
                            void *arg)
{
    for (struct measure *m = c->measures; m; m = m->next) {
        struct vg_center_measure_info info = {
            .id = m->id,
            .name = m->def.name,
            .court = m->def.court,
            .author_person = m->def.author_person,
            .protected_person = m->def.protected_person,
            .author_unit = m->def.author_unit,
            .protected_unit = m->def.protected_unit,
            .alert_radius_m = m->def.alert_radius_m,
            .n_zones = m->def.n_zones,
            .author_connected = m->author && m->author->conn,
            .protected_connected = m->protected_person && m->protected_person->conn,
            .state = &m->st,
            .status = m->status,
            .end_reason = m->end_reason,
            .in_force = m->raise == VG_RAISE_ALL,
            .raise = m->raise,
            .version = m->version,
            .definition = m->definition,
            .installation = &m->inst,
            .magistrate = m->def.decision.magistrate,
        };
        int rc = cb(arg, &info);
        if (rc)
            return rc;
    }
    return VG_OK;
}

int vg_center_list_units(struct vg_center *c,
                         int (*cb)(void *arg, const struct vg_center_unit_info *info), void *arg)
{
    for (size_t h = 0; h < UNIT_BUCKETS; h++)
        for (struct unit *u = c->unit_hash[h]; u; u = u->hash_next) {
            const struct measure *m = u->m;
            struct vg_center_unit_info info = {
                .serial = u->serial,
                .role = u->role,
                .connected = u->conn != NULL,
                .acked_seq = u->acked_seq,
            };
            if (m) {
                /* the engine keeps one state per device: the bracelet's
                 * comes through the author's unit, which is also how it is
                 * connected */
                enum vg_unit eu = u->role == VG_ROLE_PROTECTED  ? VG_UNIT_PROTECTED
                                  : u->role == VG_ROLE_BRACELET ? VG_UNIT_BRACELET
                                                                : VG_UNIT_AUTHOR;
                if (eu == VG_UNIT_BRACELET)
                    info.connected = m->author && m->author->conn;
                info.measure_id = m->id;
                info.measure_name = m->def.name;
                info.court = m->def.court;
                info.measure_status = m->status;
                info.state = &m->st.unit[eu];
            }
            int rc = cb(arg, &info);
            if (rc)
                return rc;
        }
    return VG_OK;
}

/* ---- loading ------------------------------------------------------------------------------ */

static int load_unit(void *arg, const struct vg_store_unit_row *r)
{
    struct vg_center *c = arg;
    return vg__center_unit_add(c, r->id, r->serial, r->role, r->acked_seq) ? 0 : VG_ENOSPC;
}

struct replay_ctx {
    struct vg_center *c;
    struct measure *m;
    size_t n;
};

static int replay_record(void *arg, const struct vg_store_record *r)
{
    struct replay_ctx *x = arg;
    /* the records of this measure's units only: its author's or protected unit */
    struct unit *u = NULL;
    if (x->m->author && x->m->author->id == r->unit_id)
        u = x->m->author;
    else if (x->m->protected_person && x->m->protected_person->id == r->unit_id)
        u = x->m->protected_person;
    if (!u)
        return 0;
    struct vg_engine_input in;
    memset(&in, 0, sizeof in);
    in.unit = (uint8_t)vg__center_engine_unit(u, &r->rec);
    if (r->rec.type == VG_REC_FIX) {
        in.kind = VG_INPUT_FIX;
        in.fix = r->rec.fix;
    } else if (r->rec.type == VG_REC_STATUS) {
        in.kind = VG_INPUT_STATUS;
        in.status = r->rec.status;
    } else {
        in.kind = VG_INPUT_EVENT;
        in.event = r->rec.event;
    }
    /* what it raises was raised and stored the first time */
    vg_engine_feed(&x->m->st, &x->m->cfg, &in, r->received_ms, &x->c->out);
    x->n++;
    return 0;
}

static int max_alarm_seq(void *arg, const struct vg_store_alarm *a)
{
    uint32_t *max = arg;
    if (a->alarm.seq > *max)
        *max = a->alarm.seq;
    return 0;
}

struct load_ctx {
    struct vg_center *c;
    int failures;
};

static int load_measure(void *arg, const struct vg_store_measure_row *r)
{
    struct load_ctx *x = arg;
    struct vg_center *c = x->c;
    if (r->archived)
        return 0; /* in the intermediate archive: read from the store, never judged */
    char err[256];
    struct measure *m = vg__center_measure_build(c, r->id, r->definition, err, sizeof err);
    if (!m) {
        x->failures++;
        vg_log(VG_LOG_ERROR, "a stored measure could not be loaded", "measure", r->name, "reason",
               err, NULL);
        return 0;
    }
    vg__center_measure_attach(c, m);
    vg__case_load(c, m, r);
    if (r->state && r->state_len == sizeof m->st && r->state_version == VG_ENGINE_STATE_VERSION) {
        memcpy(&m->st, r->state, sizeof m->st);
        /* What does not decide alarms (positions, the fixes' history, who
         * closed in) is stored at most every STATE_REFRESH_MS, not with
         * every batch: the records committed after this copy was taken
         * (received after its clock) are judged again, so that the engine
         * goes on where it was, not where it was up to 2 s before (a
         * take-over, a restart after a crash). Their alarms were raised and
         * stored the first time. */
        int64_t after = m->st.now_ms;
        struct replay_ctx rx = {c, m, 0};
        if (vg_store_replay(c->store, m->id, after + 1, replay_record, &rx) != VG_OK)
            vg_log(VG_LOG_WARN, "the records after a measure's stored state not read again",
                   "measure", m->def.name, NULL);
        if (rx.n)
            vg__center_mark_dirty(c, m);
    } else {
        /* no usable state (first start of a new build): rebuild it from the
         * recent records, then carry the alarm numbering on */
        int64_t now = vg__center_wall_ms();
        vg_engine_init(&m->st, &m->cfg, now - c->opts.replay_window_ms);
        struct replay_ctx rx = {c, m, 0};
        vg_store_replay(c->store, m->id, now - c->opts.replay_window_ms, replay_record, &rx);
        uint32_t max = 0;
        vg_store_alarms(c->store, m->id, 0, max_alarm_seq, &max);
        if (m->st.alarm_seq < max)
            m->st.alarm_seq = max;
        char n[24];
        snprintf(n, sizeof n, "%zu", rx.n);
        vg_log(VG_LOG_WARN, "engine state rebuilt by replay", "measure", m->def.name, "records", n,
               NULL);
        vg__center_mark_dirty(c, m);
    }
    vg__center_arm_timer(m);
    return 0;
}

static int load_incident(void *arg, const struct vg_incident *inc)
{
    struct vg_center *c = arg;
    if (inc->id >= c->next_incident_id)
        c->next_incident_id = inc->id + 1;
    for (struct measure *m = c->measures; m; m = m->next)
        if (m->id == inc->measure_id) {
            m->incident = *inc;
            m->has_incident = true;
            break;
        }
    return 0;
}

int vg_center_load(struct vg_center *c, char *err, size_t err_len)
{
    int rc = vg_store_units(c->store, load_unit, c);
    if (rc != VG_OK) {
        snprintf(err, err_len, "cannot read the units: %s", vg_strerror(rc));
        return rc;
    }
    struct load_ctx x = {c, 0};
    rc = vg_store_measures(c->store, load_measure, &x);
    if (rc != VG_OK) {
        snprintf(err, err_len, "cannot read the measures: %s", vg_strerror(rc));
        return rc;
    }
    c->next_incident_id = 1;
    if ((rc = vg_store_incidents(c->store, true, load_incident, c)) != VG_OK) {
        snprintf(err, err_len, "cannot read the incidents: %s", vg_strerror(rc));
        return rc;
    }
    if ((rc = vg__case_start(c)) != VG_OK) {
        snprintf(err, err_len, "cannot start the case files' daily work");
        return rc;
    }
    if ((rc = vg__escalation_start(c)) != VG_OK) {
        snprintf(err, err_len, "cannot start the escalation timers");
        return rc;
    }
    char n[32], u[32];
    snprintf(n, sizeof n, "%zu", c->metrics.measures);
    snprintf(u, sizeof u, "%zu", c->metrics.units);
    vg_log(VG_LOG_INFO, "state loaded", "measures", n, "units", u, NULL);
    return VG_OK;
}

/* ---- life ---------------------------------------------------------------------------------- */

int vg_center_new(struct event_base *base, struct vg_store *store,
                  const struct vg_engine_params *params, const struct vg_center_options *opts,
                  struct vg_center **out, char *err, size_t err_len)
{
    struct vg_center *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    c->base = base;
    c->store = store;
    c->next_incident_id = 1;
    c->params = params;
    c->opts = *opts;
    pthread_mutex_init(&c->done_lock, NULL);
    pthread_cond_init(&c->done_cond, NULL);
    c->flush_ev = event_new(base, -1, 0, on_flush, c);
    c->refresh_ev = evtimer_new(base, on_refresh, c);
    c->done_ev = event_new(base, -1, 0, on_done, c);
    if (!c->flush_ev || !c->refresh_ev || !c->done_ev) {
        snprintf(err, err_len, "cannot create events");
        vg_center_free(c);
        return VG_ENOSPC;
    }
    /* flush after the reads of a loop turn, so that one batch gathers them */
    event_priority_set(c->flush_ev, 1);
    *out = c;
    return VG_OK;
}

const struct vg_center_metrics *vg_center_metrics(struct vg_center *c)
{
    return &c->metrics;
}

void vg_center_free(struct vg_center *c)
{
    if (!c)
        return;
    /* completions the loop did not get to (the store is closed by now) */
    pthread_mutex_lock(&c->done_lock);
    struct cbatch *list = c->done_head;
    c->done_head = c->done_tail = NULL;
    pthread_mutex_unlock(&c->done_lock);
    c->gateway = NULL;
    while (list) {
        struct cbatch *next = list->next_done;
        for (size_t i = 0; i < list->n_records; i++)
            list->record_units[i]->conn = NULL; /* no one to acknowledge any more */
        complete(c, list);
        list = next;
    }
    vg__case_stop(c);
    vg__escalation_stop(c);
    cbatch_free(c->open);
    while (c->measures) {
        struct measure *m = c->measures;
        c->measures = m->next;
        vg__center_measure_free(m);
    }
    for (size_t h = 0; h < UNIT_BUCKETS; h++)
        while (c->unit_hash[h]) {
            struct unit *u = c->unit_hash[h];
            c->unit_hash[h] = u->hash_next;
            free(u->marks);
            free(u);
        }
    while (c->tzs) {
        struct tz_entry *t = c->tzs;
        c->tzs = t->next;
        free(t);
    }
    if (c->flush_ev)
        event_free(c->flush_ev);
    if (c->refresh_ev)
        event_free(c->refresh_ev);
    if (c->done_ev)
        event_free(c->done_ev);
    pthread_mutex_destroy(&c->done_lock);
    pthread_cond_destroy(&c->done_cond);
    free(c);
}
