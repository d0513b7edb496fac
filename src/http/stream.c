/* GET /api/v1/stream: the live stream (Server-Sent Events) of what the
 * operators act on.
 *
 * The durable events are the journal's own entries (util/journal.h): an
 * alarm (alarm.raised), an incident opened, joined, taken, stepped,
 * escalated or closed (incident.*, each with the incident as it stands
 * after it). Each event's id is its journal entry's number, so a console
 * that reconnects with Last-Event-ID (or ?last_event_id=) gets exactly
 * what it missed, read back from the store — across a dropped connection
 * and across a restart of the daemon alike: there is no second record of
 * events that could disagree with the journal or be lost with the process.
 *
 * Live delivery: the centre signals every commit that wrote journal entries
 * (vg_http_journal_committed, from the store's writer thread); this thread
 * reads the journal past the last entry it read, once for every client, and
 * writes each client what its role may see.
 *
 * Positions are state, not events: the fixes of the measures' units, sent
 * as they become durable, without an id (a resume does not replay them;
 * the next fix says where each person is). The protected person's position
 * goes only to operators and supervisors, and only while her measure has
 * an incident in progress; the first one of each incident a client is
 * shown is journaled (position.disclose) before it is sent.
 *
 * A heartbeat event every heartbeat period; the session is checked at each
 * one (a stream ends with its session). A client that does not read is cut
 * off when what waits for it passes a limit (it reconnects and resumes). */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "core/err.h"
#include "core/roles.h"
#include "http/http_internal.h"
#include "util/log.h"

#define POSITION_QUEUE   8192
#define CLIENT_MAX_BYTES (4 * 1024 * 1024) /* waiting to be sent: beyond, cut off */
#define CATCH_UP_MAX     200000            /* journal entries read for one resume */

static const double delivery_bounds_ms[] = {1, 2, 5, 10, 20, 50, 100, 250, 1000};
#define N_DELIVERY_BOUNDS (sizeof delivery_bounds_ms / sizeof delivery_bounds_ms[0])

struct client {
    struct vg_stream *s;
    struct evhttp_request *req;
    struct evhttp_connection *conn;
    struct vg_identity who;
    char bearer[VG_AUTH_TOKEN_LEN + 8]; /* the token it came with, to check it again */
    int64_t last_id;                    /* the last journal entry it was given or skipped */
    int64_t *disclosed;                 /* incidents whose protected person it was shown */
    size_t n_disclosed, cap_disclosed;
    struct client *next;
};

struct vg_stream {
    struct vg_http *h;
    struct client *clients;
    atomic_size_t n_clients;
    int64_t cursor; /* the last journal entry read for the live clients */
    int64_t heartbeat_ms;
    struct event *notify_ev, *heartbeat_ev;
    /* filled by other threads */
    pthread_mutex_t lock;
    int64_t pending_commit_ns; /* the oldest commit not yet delivered (0: none) */
    struct vg_http_position *queue;
    size_t q_head, q_n;
    /* counters (read by /metrics under the lock) */
    uint64_t events_sent, positions_sent, positions_dropped, clients_cut, disclosures;
    uint64_t delivery_counts[N_DELIVERY_BOUNDS + 1];
    uint64_t delivery_count;
    double delivery_sum_ms;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* "header" + data + "\n\n", in a new string (NULL: out of memory). */
static char *frame(const char *header, const char *data)
{
    size_t a = strlen(header), b = strlen(data);
    char *t = malloc(a + b + 3);
    if (t) {
        memcpy(t, header, a);
        memcpy(t + a, data, b);
        memcpy(t + a + b, "\n\n", 3);
    }
    return t;
}

/* ---- what a journal entry is on the stream -------------------------------------------- */

/* The journal's actions that are events, and their event names. Reads and
 * the case files' changes are not operators' events. */
static const char *event_name(const char *action)
{
    static const char *const incident_actions[] = {"incident.alarm",    "incident.take",
                                                   "incident.step",     "incident.close",
                                                   "incident.escalate", NULL};
    if (strcmp(action, "alarm.raised") == 0)
        return "alarm";
    for (size_t i = 0; incident_actions[i]; i++)
        if (strcmp(action, incident_actions[i]) == 0)
            return "incident";
    if (strcmp(action, "report.create") == 0)
        return "report";
    return NULL;
}

/* The event's text ("id: ...\nevent: ...\ndata: ...\n\n", to free), or
 * NULL if the entry is not an event. */
static char *event_text(const struct vg_journal_entry *e)
{
    const char *name = event_name(e->action);
    if (!name)
        return NULL;
    json_t *d = json_loads(e->detail, 0, NULL);
    if (!json_is_object(d)) {
        json_decref(d);
        d = json_object();
    }
    if (strcmp(name, "alarm") == 0) {
        json_object_set_new(d, "measure", json_string(e->subject));
    } else {
        json_object_set_new(d, "action", json_string(strchr(e->action, '.') + 1));
        json_object_set_new(d, "by", json_string(e->actor));
    }
    json_object_set_new(d, "at_journal_ms", json_integer(e->at_ms));
    char *data = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(d);
    if (!data)
        return NULL;
    char header[96];
    snprintf(header, sizeof header, "id: %" PRId64 "\nevent: %s\ndata: ", e->id, name);
    char *text = frame(header, data);
    free(data);
    return text;
}

/* Whether this client's role sees the operators' events. */
static bool sees_events(const struct client *cl)
{
    return vg_role_may(cl->who.role, VG_PERM_INCIDENT_HANDLE);
}

/* ---- writing to a client ---------------------------------------------------------------- */

static void cut_off(struct client *cl, const char *why);

/* 0, or -1 if the client was cut off (then cl is freed). */
static int send_text(struct client *cl, const char *text, size_t len)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(cl->conn);
    if (bev && evbuffer_get_length(bufferevent_get_output(bev)) > CLIENT_MAX_BYTES) {
        cut_off(cl, "it does not read what it is sent");
        return -1;
    }
    struct evbuffer *b = evbuffer_new();
    if (!b)
        return 0;
    evbuffer_add(b, text, len);
    evhttp_send_reply_chunk(cl->req, b);
    evbuffer_free(b);
    return 0;
}

static void unlink_client(struct client *cl)
{
    struct vg_stream *s = cl->s;
    for (struct client **p = &s->clients; *p; p = &(*p)->next)
        if (*p == cl) {
            *p = cl->next;
            break;
        }
    atomic_fetch_sub(&s->n_clients, 1);
    free(cl->disclosed);
    free(cl);
}

/* libevent calls it when the connection goes (the client left, a write
 * failed, the server stops): the request is being freed with it. */
static void on_close(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    struct client *cl = arg;
    struct evhttp_request *req = cl->req;
    unlink_client(cl);
    /* A client that went away: libevent has detached the request still
     * being answered from its connection (which will not free it), and
     * ending the reply frees it. At shutdown it is still attached, and
     * goes with its connection. */
    if (!evhttp_request_get_connection(req))
        evhttp_send_reply_end(req);
}

static void cut_off(struct client *cl, const char *why)
{
    pthread_mutex_lock(&cl->s->lock);
    cl->s->clients_cut++;
    pthread_mutex_unlock(&cl->s->lock);
    vg_log(VG_LOG_WARN, "stream cut off", "user", cl->who.name, "reason", why, NULL);
    struct evhttp_connection *conn = cl->conn;
    evhttp_connection_set_closecb(conn, NULL, NULL);
    unlink_client(cl);
    evhttp_connection_free(conn);
}

/* ---- the journal's entries to the clients ---------------------------------------------- */

struct fan_out {
    struct vg_stream *s;
    struct client *only; /* one client catching up (NULL: every client) */
    int64_t last;
    size_t n;
};

static int deliver_entry(void *arg, const struct vg_journal_entry *e)
{
    struct fan_out *f = arg;
    f->last = e->id;
    char *text = event_text(e);
    size_t len = text ? strlen(text) : 0;
    for (struct client *cl = f->only ? f->only : f->s->clients, *next; cl; cl = next) {
        next = f->only ? NULL : cl->next;
        if (e->id <= cl->last_id)
            continue; /* it caught up past this one when it connected */
        cl->last_id = e->id;
        if (text && sees_events(cl)) {
            if (send_text(cl, text, len) < 0) {
                if (f->only) {
                    free(text);
                    f->only = NULL;
                    return 1; /* gone */
                }
                continue;
            }
            f->s->events_sent++;
        }
    }
    free(text);
    return ++f->n >= CATCH_UP_MAX;
}

static void observe_delivery(struct vg_stream *s, int64_t commit_ns)
{
    double ms = (double)(mono_ns() - commit_ns) / 1e6;
    size_t k = 0;
    while (k < N_DELIVERY_BOUNDS && ms > delivery_bounds_ms[k])
        k++;
    s->delivery_counts[k]++;
    s->delivery_count++;
    s->delivery_sum_ms += ms;
}

/* ---- positions --------------------------------------------------------------------------- */

static bool disclosed(struct client *cl, int64_t incident)
{
    for (size_t i = 0; i < cl->n_disclosed; i++)
        if (cl->disclosed[i] == incident)
            return true;
    return false;
}

/* Whether the client may be shown this position now (journaling the
 * disclosure of the protected person's position first). */
static bool may_see(struct client *cl, const struct vg_http_position *p)
{
    if (!sees_events(cl))
        return false;
    if (p->role != VG_HTTP_PERSON_PROTECTED)
        return true;
    if (p->incident_id <= 0)
        return false;
    if (disclosed(cl, p->incident_id))
        return true;
    if (cl->n_disclosed == cl->cap_disclosed) {
        size_t cap = cl->cap_disclosed ? 2 * cl->cap_disclosed : 8;
        int64_t *d = realloc(cl->disclosed, cap * sizeof *d);
        if (!d)
            return false;
        cl->disclosed = d;
        cl->cap_disclosed = cap;
    }
    char detail[128];
    snprintf(detail, sizeof detail,
             "{\"incident\":%" PRId64 ",\"measure_id\":%" PRId64 ",\"via\":\"stream\"}",
             p->incident_id, p->measure_id);
    if (vg_auth_journal(cl->s->h->auth, cl->who.name, "position.disclose", p->measure, detail) != 0)
        return false; /* not journaled: not shown */
    cl->disclosed[cl->n_disclosed++] = p->incident_id;
    cl->s->disclosures++;
    return true;
}

static char *position_text(const struct vg_http_position *p)
{
    json_t *o = json_pack(
        "{s:I,s:s,s:s,s:f,s:f,s:f,s:I,s:I}", "measure_id", (json_int_t)p->measure_id, "measure",
        p->measure, "person", p->role == VG_HTTP_PERSON_PROTECTED ? "protected" : "author", "lat",
        p->lat_deg, "lon", p->lon_deg, "accuracy_m", (double)p->accuracy_m, "time_ms",
        (json_int_t)p->time_ms, "received_ms", (json_int_t)p->received_ms);
    if (!o)
        return NULL;
    if (p->speed_mps >= 0)
        json_object_set_new(o, "speed_mps", json_real((double)p->speed_mps));
    if (p->heading_deg >= 0)
        json_object_set_new(o, "heading_deg", json_real((double)p->heading_deg));
    if (p->incident_id > 0)
        json_object_set_new(o, "incident", json_integer(p->incident_id));
    char *data = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
    json_decref(o);
    char *text = data ? frame("event: position\ndata: ", data) : NULL;
    free(data);
    return text;
}

static void deliver_positions(struct vg_stream *s, const struct vg_http_position *ps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *text = NULL;
        for (struct client *cl = s->clients, *next; cl; cl = next) {
            next = cl->next;
            if (!may_see(cl, &ps[i]))
                continue;
            if (!text && !(text = position_text(&ps[i])))
                break;
            if (send_text(cl, text, strlen(text)) == 0)
                s->positions_sent++;
        }
        free(text);
    }
}

/* ---- the loop's events ----------------------------------------------------------------- */

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vg_stream *s = arg;
    pthread_mutex_lock(&s->lock);
    int64_t commit_ns = s->pending_commit_ns;
    s->pending_commit_ns = 0;
    size_t n = s->q_n;
    struct vg_http_position *ps = n ? malloc(n * sizeof *ps) : NULL;
    for (size_t i = 0; ps && i < n; i++)
        ps[i] = s->queue[(s->q_head + i) % POSITION_QUEUE];
    if (ps || !n) {
        s->q_head = 0;
        s->q_n = 0;
    }
    pthread_mutex_unlock(&s->lock);
    if (commit_ns) {
        struct fan_out f = {.s = s, .last = s->cursor};
        vg_store_journal(s->h->store, s->cursor, deliver_entry, &f);
        bool more = f.last > s->cursor && f.n >= CATCH_UP_MAX;
        s->cursor = f.last;
        pthread_mutex_lock(&s->lock);
        observe_delivery(s, commit_ns);
        if (more && !s->pending_commit_ns)
            s->pending_commit_ns = commit_ns; /* read on at the next turn */
        pthread_mutex_unlock(&s->lock);
        if (more)
            event_active(s->notify_ev, EV_READ, 0);
    }
    deliver_positions(s, ps, ps ? n : 0);
    free(ps);
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vg_stream *s = arg;
    int64_t now = vg__http_now_ms();
    char text[96];
    int len =
        snprintf(text, sizeof text, "event: heartbeat\ndata: {\"t_ms\":%" PRId64 "}\n\n", now);
    /* a site that stepped down ends its streams: the console goes to the
     * other site and resumes there from its last event's id */
    bool standby = s->h->hooks.standby && s->h->hooks.standby(s->h->hooks.arg);
    for (struct client *cl = s->clients, *next; cl; cl = next) {
        next = cl->next;
        struct vg_identity again;
        if (standby ||
            vg_auth_identify(s->h->auth, cl->bearer[0] ? cl->bearer : NULL,
                             cl->who.by_session ? cl->who.session : NULL, now,
                             &again) != VG_AUTH_OK ||
            again.role != cl->who.role) {
            static const char end[] = "event: end\ndata: {\"reason\":\"session ended\"}\n\n";
            static const char moved[] = "event: end\ndata: {\"reason\":\"standby\"}\n\n";
            if (standby ? send_text(cl, moved, sizeof moved - 1) == 0
                        : send_text(cl, end, sizeof end - 1) == 0) {
                /* the reply ends; the connection may stay for another
                 * request: the client is ours to free now */
                struct evhttp_request *req = cl->req;
                evhttp_connection_set_closecb(cl->conn, NULL, NULL);
                unlink_client(cl);
                evhttp_send_reply_end(req);
            }
            continue;
        }
        send_text(cl, text, (size_t)len);
    }
}

/* ---- the request ------------------------------------------------------------------------- */

/* The id to resume after: Last-Event-ID, or ?last_event_id= (a page that
 * reloads cannot set the header). 1 and *id, 0 if none, -1 if malformed. */
static int resume_point(struct evhttp_request *req, int64_t *id)
{
    const char *v = vg__http_header(req, "Last-Event-ID");
    struct evkeyvalq q = {0};
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    bool parsed = false;
    if ((!v || !*v) && query && evhttp_parse_query_str(query, &q) == 0) {
        parsed = true;
        v = evhttp_find_header(&q, "last_event_id");
    }
    int rc = 0;
    if (v && *v) {
        char *end = NULL;
        long long x = strtoll(v, &end, 10);
        rc = (v[0] >= '0' && v[0] <= '9' && end && *end == '\0' && x >= 0) ? 1 : -1;
        *id = x;
    }
    if (parsed)
        evhttp_clear_headers(&q);
    return rc;
}

void vg__http_on_stream(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                        const struct vg_identity *who)
{
    if (cmd != EVHTTP_REQ_GET) {
        vg__http_method_not_allowed(req, "GET");
        return;
    }
    if (!vg__http_permitted(req, who, VG_PERM_INCIDENT_HANDLE))
        return;
    struct vg_stream *s = h->stream;
    int64_t from = 0, head = 0;
    uint8_t hash[VG_JOURNAL_HASH_LEN];
    int has_from = resume_point(req, &from);
    if (has_from < 0) {
        vg__http_reply_error(req, 400, "Bad Request", "invalid",
                             "Last-Event-ID: the id of the last event received (digits)");
        return;
    }
    if (vg_store_journal_head(h->store, &head, hash) != VG_OK) {
        vg__http_reply_error(req, 503, "Service Unavailable", "unavailable",
                             "the journal cannot be read");
        return;
    }
    struct client *cl = calloc(1, sizeof *cl);
    if (!cl) {
        vg__http_reply_error(req, 503, "Service Unavailable", "unavailable", "out of memory");
        return;
    }
    cl->s = s;
    cl->req = req;
    cl->conn = evhttp_request_get_connection(req);
    cl->who = *who;
    const char *auth = vg__http_header(req, "Authorization");
    if (auth && strncmp(auth, "Bearer ", 7) == 0)
        snprintf(cl->bearer, sizeof cl->bearer, "%s", auth + 7);
    /* an id past the journal's head is not this journal's (another site's,
     * or a store started afresh): start from now, and say so */
    bool reset = has_from && from > head;
    cl->last_id = has_from && !reset ? from : head;
    struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
    evhttp_add_header(hd, "Content-Type", "text/event-stream; charset=utf-8");
    evhttp_add_header(hd, "Cache-Control", "no-store");
    evhttp_add_header(hd, "X-Accel-Buffering", "no");
    evhttp_send_reply_start(req, 200, "OK");
    /* a stream lasts: the connection's timeouts are the heartbeat's and the
     * output limit's business now */
    evhttp_connection_set_timeout(cl->conn, 24 * 3600);
    evhttp_connection_set_closecb(cl->conn, on_close, cl);
    cl->next = s->clients;
    s->clients = cl;
    atomic_fetch_add(&s->n_clients, 1);
    char hello[160];
    /* "ready" carries the resume point as its id, so that a client that
     * drops before any event resumes from here, not from its reconnection */
    int len = snprintf(hello, sizeof hello,
                       "retry: 1000\nid: %" PRId64
                       "\nevent: ready\ndata: {\"last_event_id\":%" PRId64 ",\"reset\":%s}\n\n",
                       cl->last_id, cl->last_id, reset ? "true" : "false");
    if (send_text(cl, hello, (size_t)len) < 0)
        return;
    if (has_from && !reset && from < head) {
        /* what it missed, from the journal (the live entries past the head
         * come with the next notification; last_id keeps either from
         * giving one twice) */
        struct fan_out f = {.s = s, .only = cl, .last = from};
        do { /* in turns of CATCH_UP_MAX entries, to the end */
            f.n = 0;
            vg_store_journal(h->store, f.last, deliver_entry, &f);
        } while (f.only && f.n >= CATCH_UP_MAX);
    }
}

/* ---- from other threads ------------------------------------------------------------------ */

void vg_http_journal_committed(struct vg_http *h, int64_t committed_ns)
{
    struct vg_stream *s = h ? h->stream : NULL;
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    if (!s->pending_commit_ns)
        s->pending_commit_ns = committed_ns ? committed_ns : mono_ns();
    pthread_mutex_unlock(&s->lock);
    event_active(s->notify_ev, EV_READ, 0);
}

bool vg_http_wants_positions(const struct vg_http *h)
{
    return h && h->stream && atomic_load(&h->stream->n_clients) > 0;
}

void vg_http_position(struct vg_http *h, const struct vg_http_position *p)
{
    struct vg_stream *s = h ? h->stream : NULL;
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    if (s->q_n == POSITION_QUEUE) { /* the oldest goes: the newest says more */
        s->q_head = (s->q_head + 1) % POSITION_QUEUE;
        s->q_n--;
        s->positions_dropped++;
    }
    s->queue[(s->q_head + s->q_n) % POSITION_QUEUE] = *p;
    s->q_n++;
    pthread_mutex_unlock(&s->lock);
    event_active(s->notify_ev, EV_READ, 0);
}

/* ---- life ----------------------------------------------------------------------------------- */

int vg__stream_new(struct vg_http *h, int64_t heartbeat_ms, char *err, size_t err_len)
{
    struct vg_stream *s = calloc(1, sizeof *s);
    if (s)
        s->queue = calloc(POSITION_QUEUE, sizeof *s->queue);
    if (!s || !s->queue) {
        if (s)
            free(s);
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    s->h = h;
    s->heartbeat_ms = heartbeat_ms > 0 ? heartbeat_ms : 15000;
    uint8_t hash[VG_JOURNAL_HASH_LEN];
    int rc = vg_store_journal_head(h->store, &s->cursor, hash);
    pthread_mutex_init(&s->lock, NULL);
    s->notify_ev = event_new(h->base, -1, 0, on_notify, s);
    s->heartbeat_ev = event_new(h->base, -1, EV_PERSIST, on_heartbeat, s);
    h->stream = s;
    if (rc != VG_OK || !s->notify_ev || !s->heartbeat_ev) {
        snprintf(err, err_len, rc != VG_OK ? "the journal cannot be read" : "out of memory");
        return rc != VG_OK ? rc : VG_ENOSPC;
    }
    struct timeval tv = {(time_t)(s->heartbeat_ms / 1000),
                         (suseconds_t)(s->heartbeat_ms % 1000 * 1000)};
    event_add(s->heartbeat_ev, &tv);
    return VG_OK;
}

/* After the listeners are freed (their connections' close callbacks free
 * the clients). */
void vg__stream_free(struct vg_http *h)
{
    struct vg_stream *s = h->stream;
    if (!s)
        return;
    while (s->clients) { /* none left, unless a listener could not be freed */
        struct client *cl = s->clients;
        s->clients = cl->next;
        free(cl->disclosed);
        free(cl);
    }
    if (s->notify_ev)
        event_free(s->notify_ev);
    if (s->heartbeat_ev)
        event_free(s->heartbeat_ev);
    pthread_mutex_destroy(&s->lock);
    free(s->queue);
    free(s);
    h->stream = NULL;
}

void vg__stream_metrics(struct vg_http *h, struct evbuffer *out)
{
    struct vg_stream *s = h->stream;
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    evbuffer_add_printf(out,
                        "# HELP vigie_stream_clients Live stream connections.\n"
                        "# TYPE vigie_stream_clients gauge\nvigie_stream_clients %zu\n"
                        "# TYPE vigie_stream_events_sent_total counter\n"
                        "vigie_stream_events_sent_total %" PRIu64 "\n"
                        "# TYPE vigie_stream_positions_sent_total counter\n"
                        "vigie_stream_positions_sent_total %" PRIu64 "\n"
                        "# TYPE vigie_stream_positions_dropped_total counter\n"
                        "vigie_stream_positions_dropped_total %" PRIu64 "\n"
                        "# TYPE vigie_stream_clients_cut_total counter\n"
                        "vigie_stream_clients_cut_total %" PRIu64 "\n"
                        "# TYPE vigie_stream_disclosures_total counter\n"
                        "vigie_stream_disclosures_total %" PRIu64 "\n"
                        "# HELP vigie_stream_delivery_ms From the commit of journal entries to "
                        "their events written to every client.\n"
                        "# TYPE vigie_stream_delivery_ms histogram\n",
                        atomic_load(&s->n_clients), s->events_sent, s->positions_sent,
                        s->positions_dropped, s->clients_cut, s->disclosures);
    uint64_t cum = 0;
    for (size_t k = 0; k < N_DELIVERY_BOUNDS; k++) {
        cum += s->delivery_counts[k];
        evbuffer_add_printf(out, "vigie_stream_delivery_ms_bucket{le=\"%g\"} %" PRIu64 "\n",
                            delivery_bounds_ms[k], cum);
    }
    evbuffer_add_printf(out,
                        "vigie_stream_delivery_ms_bucket{le=\"+Inf\"} %" PRIu64 "\n"
                        "vigie_stream_delivery_ms_sum %.3f\nvigie_stream_delivery_ms_count %" PRIu64
                        "\n",
                        s->delivery_count, s->delivery_sum_ms, s->delivery_count);
    pthread_mutex_unlock(&s->lock);
}
