/* vigie-loadgen: many units over TLS against a vigied, for the integration
 * tests and the ingest benchmark. Each unit behaves as a unit must: HELLO,
 * then records numbered from the acknowledged point on, every record kept
 * until acknowledged and resent after a reconnection.
 *
 *   vigie-loadgen provision --http HOST:PORT --token-file F --pki DIR
 *                           --prefix P --measures N
 *       issue the units' certificates (P-A-00001, P-P-00001, ...) and
 *       declare N measures (P-M-00001, ...) through the API.
 *   vigie-loadgen run --server HOST:PORT [--server HOST:PORT] --pki DIR --prefix P --measures N
 *                     [--rate R] [--duration S] [--records N] [--per-unit N] [--frame K]
 *                     [--window W] [--sos-permille X] [--acked-file F]
 *                     [--reconnect] [--seed S]
 *       connect 2N units; send R records/s in all (0: as fast as the
 *       acknowledgements allow, W records in flight per unit) for S seconds
 *       or N records; K records a frame; X per thousand of the protected
 *       units' records are SOS presses. Prints one JSON summary line:
 *       records sent and acknowledged, rate, acknowledgement latency.
 *       --acked-file: "SERIAL SEQ" for every record seen acknowledged.
 *       Two --server: the centre's two sites; a unit that loses its
 *       connection (or cannot connect) tries the other one next.
 *   vigie-loadgen floor --db PATH --records N [--units U] [--batch B] [--frame K]
 *       the floor of the ingest benchmark: the same fix rows inserted
 *       straight into a SQLite file in batched transactions. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/ssl.h>
#include <sqlite3.h>

#include "core/err.h"
#include "core/prng.h"
#include "core/proto.h"
#include "util/measure_decision.h"
#include "util/pki.h"

#define RING 4096

struct sent {
    uint64_t seq;
    int64_t send_ns;
    int64_t time_ms;
    uint8_t kind; /* 0 fix, 1 SOS */
};

struct unit {
    struct gen *g;
    char serial[64];
    int index;
    bool protected_person;
    double lat, lon;
    SSL_CTX *ctx;
    struct bufferevent *bev;
    bool ready;
    int server;           /* which of g->servers it tries */
    uint64_t next_seq;    /* next new record */
    uint64_t acked;       /* cumulative */
    uint64_t resend_from; /* after a reconnection: resend from here */
    struct sent *ring;    /* RING entries, apart: the tick walks the units' heads */
    int64_t next_send_ns;
    int64_t last_sos_ms;
};

struct gen {
    struct event_base *base;
    struct unit *units;
    int n_units;
    char servers[2][128];
    int n_servers;
    double rate;
    double duration_s;
    uint64_t max_records;
    uint64_t per_unit; /* each unit sends exactly this many (0: no cap) */
    int frame;
    int window;
    int sos_permille;
    bool reconnect;
    FILE *acked_file;
    struct vg_prng rng;
    struct event *tick;
    int64_t start_ns, end_ns;
    uint64_t sent, acked, resent, sos;
    uint64_t errors, disconnects;
    double *lat_ms;
    size_t n_lat, cap_lat;
    bool stopping;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fatal error: what went wrong, then exit(1). */
static void die(const char *what, const char *detail)
{
    fprintf(stderr, "vigie-loadgen: %s%s%s\n", what, detail && *detail ? ": " : "",
            detail ? detail : "");
    exit(1);
}

static void unit_connect(struct unit *u);

static void unit_place(int index, bool protected_person, double *lat, double *lon)
{
    /* her home on a grid over western France; his 30 km east of it */
    double base_lat = 46.0 + (index % 50) * 0.05, base_lon = -1.5 + (index / 50 % 50) * 0.05;
    *lat = base_lat;
    *lon = protected_person ? base_lon : base_lon + 0.4;
}

static void record_of(const struct unit *u, const struct sent *s, struct vg_proto_record *r)
{
    memset(r, 0, sizeof *r);
    r->seq = s->seq;
    if (s->kind == 1) {
        r->type = VG_REC_EVENT;
        r->event = (struct vg_unit_event){s->time_ms, VG_EVENT_SOS};
        return;
    }
    r->type = VG_REC_FIX;
    /* a few metres of wander around the unit's place, from the sequence */
    double wobble = (double)(s->seq % 17) * 1e-6;
    r->fix =
        (struct vg_fix){s->time_ms, u->lat + wobble, u->lon - wobble, 8.0f, 0.5f, 90.0f, VG_FIX_3D};
}

static void send_frame(struct unit *u, const struct sent **items, int n)
{
    struct vg_proto_record recs[256];
    for (int i = 0; i < n; i++)
        record_of(u, items[i], &recs[i]);
    uint8_t buf[VG_PROTO_HEADER_LEN + 256 * 128];
    size_t len;
    if (vg_proto_encode_records(buf, sizeof buf, recs, (size_t)n, &len) != VG_OK) {
        u->g->errors++;
        return;
    }
    bufferevent_write(u->bev, buf, len);
}

/* Send what is due: resends first, then new records. */
static void unit_pump(struct unit *u, int64_t now)
{
    struct gen *g = u->g;
    if (!u->ready || g->stopping)
        return;
    const struct sent *items[256];
    int n = 0;
    while (u->resend_from && u->resend_from < u->next_seq) {
        struct sent *s = &u->ring[u->resend_from % RING];
        s->send_ns = now;
        items[n++] = s;
        u->resend_from++;
        g->resent++;
        if (n == g->frame) {
            send_frame(u, items, n);
            n = 0;
        }
    }
    u->resend_from = 0;
    for (;;) {
        if (g->max_records && g->sent >= g->max_records)
            break;
        if (g->per_unit && u->next_seq > g->per_unit)
            break;
        uint64_t in_flight = u->next_seq - 1 - u->acked;
        if (in_flight >= (uint64_t)g->window || in_flight >= RING - 1)
            break;
        if (g->rate > 0 && now < u->next_send_ns)
            break;
        struct sent *s = &u->ring[u->next_seq % RING];
        int64_t t = wall_ms();
        bool sos = u->protected_person && g->sos_permille > 0 && t > u->last_sos_ms &&
                   vg_prng_uniform(&g->rng) * 1000.0 < g->sos_permille;
        *s = (struct sent){u->next_seq, now, t, sos ? 1 : 0};
        if (sos) {
            u->last_sos_ms = t;
            g->sos++;
        }
        u->next_seq++;
        g->sent++;
        items[n++] = s;
        if (g->rate > 0)
            u->next_send_ns += (int64_t)(1e9 * g->n_units / g->rate);
        if (n == g->frame) {
            send_frame(u, items, n);
            n = 0;
            if (g->rate > 0)
                break;
        }
    }
    if (n)
        send_frame(u, items, n);
}

static void on_acked(struct unit *u, uint64_t seq, int64_t now)
{
    struct gen *g = u->g;
    struct sent *s = &u->ring[seq % RING];
    if (s->seq == seq && g->n_lat < g->cap_lat)
        g->lat_ms[g->n_lat++] = (double)(now - s->send_ns) / 1e6;
    if (g->acked_file)
        fprintf(g->acked_file, "%s %llu\n", u->serial, (unsigned long long)seq);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct unit *u = arg;
    struct gen *g = u->g;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        size_t avail = evbuffer_get_length(in);
        uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)(avail < 8 ? avail : 8));
        struct vg_proto_header h;
        const uint8_t *payload;
        size_t flen;
        if (avail < 8)
            return;
        int rc = vg_proto_frame(p, 8, &h, &payload, &flen);
        if (rc != VG_AGAIN && rc != VG_OK) {
            g->errors++;
            return;
        }
        size_t need = 8 + (size_t)h.length;
        if (avail < need)
            return;
        p = evbuffer_pullup(in, (ev_ssize_t)need);
        vg_proto_frame(p, need, &h, &payload, &flen);
        int64_t now = mono_ns();
        if (h.type == VG_PROTO_WELCOME) {
            struct vg_proto_welcome w;
            if (vg_proto_decode_welcome(payload, h.length, &w) == VG_OK) {
                if (w.acked_seq > u->acked)
                    u->acked = w.acked_seq;
                if (u->next_seq <= u->acked)
                    u->next_seq = u->acked + 1;
                if (u->acked + 1 < u->next_seq)
                    u->resend_from = u->acked + 1;
                u->ready = true;
                u->next_send_ns = now;
            }
        } else if (h.type == VG_PROTO_ACK) {
            struct vg_proto_ack a;
            if (vg_proto_decode_ack(payload, h.length, &a) == VG_OK) {
                for (uint64_t s = u->acked + 1; s <= a.cumulative && s < u->next_seq; s++) {
                    on_acked(u, s, now);
                    g->acked++;
                }
                if (a.cumulative > u->acked)
                    u->acked = a.cumulative;
            }
        } else if (h.type == VG_PROTO_ERROR) {
            struct vg_proto_error_msg e;
            if (vg_proto_decode_error(payload, h.length, &e) == VG_OK && e.code != 7)
                fprintf(stderr, "vigie-loadgen: %s: error %u: %s\n", u->serial, e.code, e.message);
        }
        evbuffer_drain(in, need);
        unit_pump(u, now);
    }
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    unit_connect(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct unit *u = arg;
    struct gen *g = u->g;
    if (what & BEV_EVENT_CONNECTED) {
        struct vg_proto_hello hello = {.version_min = 1, .version_max = 1, .boot_count = 1};
        snprintf(hello.firmware, sizeof hello.firmware, "loadgen");
        uint8_t buf[128];
        size_t n;
        vg_proto_encode_hello(buf, sizeof buf, &hello, &n);
        bufferevent_write(bev, buf, n);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        g->disconnects++;
        u->ready = false;
        bufferevent_free(u->bev);
        u->bev = NULL;
        u->server = (u->server + 1) % g->n_servers; /* the other site next */
        if (g->reconnect && !g->stopping) {
            struct timeval tv = {0, 200000};
            event_base_once(g->base, -1, EV_TIMEOUT, on_retry, u, &tv);
        }
    }
}

static void unit_connect(struct unit *u)
{
    struct gen *g = u->g;
    if (g->stopping)
        return;
    SSL *ssl = SSL_new(u->ctx);
    SSL_set_tlsext_host_name(ssl, "localhost");
    u->bev = bufferevent_openssl_socket_new(g->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(u->bev, on_read, NULL, on_event, u);
    bufferevent_enable(u->bev, EV_READ | EV_WRITE);
    const char *server = g->servers[u->server];
    const char *colon = strrchr(server, ':');
    if (bufferevent_socket_connect_hostname(u->bev, NULL, AF_INET, "127.0.0.1",
                                            colon ? atoi(colon + 1) : 5020) != 0) {
        g->errors++;
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gen *g = arg;
    int64_t now = mono_ns();
    bool done = (g->duration_s > 0 && now >= g->end_ns) ||
                (g->max_records && g->sent >= g->max_records && g->acked >= g->sent);
    if (done || (g->max_records && now >= g->end_ns + 30000000000LL)) {
        g->stopping = true;
        event_base_loopexit(g->base, NULL);
        return;
    }
    for (int i = 0; i < g->n_units; i++)
        unit_pump(&g->units[i], now);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *opt(int argc, char **argv, const char *name, const char *dflt)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return dflt;
}

static bool flag(int argc, char **argv, const char *name)
{
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

static int cmd_run(int argc, char **argv)
{
    static struct gen g;
    const char *pki = opt(argc, argv, "--pki", NULL);
    const char *prefix = opt(argc, argv, "--prefix", "LOAD");
    int measures = atoi(opt(argc, argv, "--measures", "1"));
    if (!pki || measures < 1)
        die("run needs --pki DIR and --measures N", NULL);
    snprintf(g.servers[0], sizeof g.servers[0], "%s", "127.0.0.1:5020");
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], "--server") == 0) {
            if (g.n_servers == 2)
                die("at most two --server (the centre's two sites)", NULL);
            snprintf(g.servers[g.n_servers++], sizeof g.servers[0], "%s", argv[i + 1]);
        }
    if (g.n_servers == 0)
        g.n_servers = 1;
    g.rate = atof(opt(argc, argv, "--rate", "0"));
    g.duration_s = atof(opt(argc, argv, "--duration", "0"));
    g.max_records = strtoull(opt(argc, argv, "--records", "0"), NULL, 10);
    g.per_unit = strtoull(opt(argc, argv, "--per-unit", "0"), NULL, 10);
    g.frame = atoi(opt(argc, argv, "--frame", "10"));
    g.window = atoi(opt(argc, argv, "--window", "200"));
    g.sos_permille = atoi(opt(argc, argv, "--sos-permille", "0"));
    g.reconnect = flag(argc, argv, "--reconnect");
    if (g.frame < 1 || g.frame > 256 || g.window < 1)
        die("bad --frame or --window", NULL);
    if (g.per_unit)
        g.max_records = g.per_unit * 2 * (uint64_t)measures;
    if (g.duration_s <= 0 && g.max_records == 0)
        g.duration_s = 10;
    const char *acked = opt(argc, argv, "--acked-file", NULL);
    if (acked && !(g.acked_file = fopen(acked, "a")))
        die("cannot open", acked);
    vg_prng_seed(&g.rng, strtoull(opt(argc, argv, "--seed", "1"), NULL, 10));
    g.base = event_base_new();
    g.n_units = 2 * measures;
    g.units = calloc((size_t)g.n_units, sizeof *g.units);
    g.cap_lat = 4000000;
    g.lat_ms = malloc(g.cap_lat * sizeof *g.lat_ms);
    if (!g.units || !g.lat_ms)
        die("out of memory", NULL);
    for (int i = 0; i < g.n_units; i++) {
        struct unit *u = &g.units[i];
        u->g = &g;
        u->index = i / 2;
        u->protected_person = i % 2 == 1;
        snprintf(u->serial, sizeof u->serial, "%s-%c-%05d", prefix, u->protected_person ? 'P' : 'A',
                 u->index + 1);
        unit_place(u->index, u->protected_person, &u->lat, &u->lon);
        u->next_seq = 1;
        u->ring = calloc(RING, sizeof *u->ring);
        if (!u->ring)
            die("out of memory", NULL);
        char err[256];
        if (vg_pki_client_ctx_new(&u->ctx, pki, u->serial, "localhost", err, sizeof err) != VG_OK)
            die(err, NULL);
        unit_connect(u);
    }
    g.start_ns = mono_ns();
    g.end_ns = g.start_ns + (int64_t)(g.duration_s * 1e9);
    g.tick = event_new(g.base, -1, EV_PERSIST, on_tick, &g);
    struct timeval tv = {0, 2000};
    event_add(g.tick, &tv);
    event_base_dispatch(g.base);
    double elapsed = (double)(mono_ns() - g.start_ns) / 1e9;
    qsort(g.lat_ms, g.n_lat, sizeof *g.lat_ms, cmp_double);
    double p50 = g.n_lat ? g.lat_ms[g.n_lat / 2] : 0;
    double p99 = g.n_lat ? g.lat_ms[(size_t)((double)g.n_lat * 0.99)] : 0;
    double max = g.n_lat ? g.lat_ms[g.n_lat - 1] : 0;
    printf("{\"units\":%d,\"sent\":%llu,\"acked\":%llu,\"resent\":%llu,\"sos\":%llu,"
           "\"seconds\":%.3f,\"acked_per_s\":%.1f,\"ack_latency_p50_ms\":%.3f,"
           "\"ack_latency_p99_ms\":%.3f,\"ack_latency_max_ms\":%.3f,\"errors\":%llu,"
           "\"disconnects\":%llu}\n",
           g.n_units, (unsigned long long)g.sent, (unsigned long long)g.acked,
           (unsigned long long)g.resent, (unsigned long long)g.sos, elapsed,
           (double)g.acked / elapsed, p50, p99, max, (unsigned long long)g.errors,
           (unsigned long long)g.disconnects);
    for (int i = 0; i < g.n_units; i++) {
        if (g.units[i].bev)
            bufferevent_free(g.units[i].bev);
        SSL_CTX_free(g.units[i].ctx);
        free(g.units[i].ring);
    }
    if (g.acked_file)
        fclose(g.acked_file);
    event_free(g.tick);
    event_base_free(g.base);
    free(g.units);
    free(g.lat_ms);
    return 0;
}

/* ---- provisioning ------------------------------------------------------------- */

struct post {
    struct event_base *base;
    int status;
    char body[512];
};

static void on_posted(struct evhttp_request *req, void *arg)
{
    struct post *p = arg;
    p->status = req ? evhttp_request_get_response_code(req) : 0;
    if (req) {
        struct evbuffer *b = evhttp_request_get_input_buffer(req);
        size_t n = evbuffer_get_length(b);
        if (n >= sizeof p->body)
            n = sizeof p->body - 1;
        evbuffer_copyout(b, p->body, n);
        p->body[n] = '\0';
    }
    event_base_loopexit(p->base, NULL);
}

static int cmd_provision(int argc, char **argv)
{
    const char *pki = opt(argc, argv, "--pki", NULL);
    const char *http = opt(argc, argv, "--http", "127.0.0.1:8080");
    const char *token_file = opt(argc, argv, "--token-file", NULL);
    const char *prefix = opt(argc, argv, "--prefix", "LOAD");
    int measures = atoi(opt(argc, argv, "--measures", "1"));
    double radius = atof(opt(argc, argv, "--radius", "2000"));
    if (!pki || !token_file || measures < 1)
        die("provision needs --pki, --token-file and --measures", NULL);
    char token[128] = "";
    FILE *f = fopen(token_file, "r");
    if (!f || !fgets(token, sizeof token, f))
        die("cannot read", token_file);
    fclose(f);
    token[strcspn(token, "\r\n")] = '\0';
    struct event_base *base = event_base_new();
    char host[64];
    snprintf(host, sizeof host, "%s", http);
    char *colon = strrchr(host, ':');
    if (!colon)
        die("bad --http", http);
    *colon = '\0';
    struct evhttp_connection *conn =
        evhttp_connection_base_new(base, NULL, host, (unsigned short)atoi(colon + 1));
    char auth[160];
    snprintf(auth, sizeof auth, "Bearer %s", token);
    for (int m = 1; m <= measures; m++) {
        char a[64], p[64], err[256];
        snprintf(a, sizeof a, "%s-A-%05d", prefix, m);
        snprintf(p, sizeof p, "%s-P-%05d", prefix, m);
        for (int k = 0; k < 2; k++) {
            int rc = vg_pki_issue_unit(pki, k ? p : a, NULL, err, sizeof err);
            if (rc != VG_OK && rc != VG_EDUPLICATE)
                die(err, NULL);
        }
        double lat, lon;
        unit_place(m - 1, true, &lat, &lon);
        /* a lawful decision: the author's home 50 km north of hers */
        json_t *d = vg_measure_decision_simulated((int64_t)(time(NULL) / 86400),
                                                  (struct vg_geo_point){lat + 0.45, lon},
                                                  (struct vg_geo_point){lat, lon});
        char name[96];
        snprintf(name, sizeof name, "%s-M-%05d", prefix, m);
        json_t *mj = json_pack("{s:s,s:f,s:{s:s,s:s},s:[{s:i,s:s,s:s,s:[f,f],s:f}],s:o}", "name",
                               name, "alert_radius_m", radius, "units", "author", a, "protected", p,
                               "zones", "id", 1, "category", "protected_home", "shape", "circle",
                               "center", lat, lon, "alert_radius_m", radius, "decision", d);
        char *json = mj ? json_dumps(mj, JSON_COMPACT) : NULL;
        json_decref(mj);
        if (!json)
            die("out of memory", NULL);
        struct post post = {base, 0, ""};
        struct evhttp_request *req = evhttp_request_new(on_posted, &post);
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        evhttp_add_header(h, "Host", host);
        evhttp_add_header(h, "Authorization", auth);
        evhttp_add_header(h, "Content-Type", "application/json");
        evbuffer_add(evhttp_request_get_output_buffer(req), json, strlen(json));
        free(json);
        evhttp_make_request(conn, req, EVHTTP_REQ_POST, "/api/v1/measures");
        event_base_dispatch(base);
        if (post.status != 201 && post.status != 409) {
            fprintf(stderr, "vigie-loadgen: measure %d: HTTP %d %s\n", m, post.status, post.body);
            return 1;
        }
    }
    evhttp_connection_free(conn);
    event_base_free(base);
    printf("{\"measures\":%d,\"units\":%d}\n", measures, 2 * measures);
    return 0;
}

/* ---- the floor ------------------------------------------------------------------ */

static int cmd_floor(int argc, char **argv)
{
    const char *db = opt(argc, argv, "--db", NULL);
    long long records = atoll(opt(argc, argv, "--records", "100000"));
    int units = atoi(opt(argc, argv, "--units", "1000"));
    int batch = atoi(opt(argc, argv, "--batch", "10000"));
    int frame = atoi(opt(argc, argv, "--frame", "50"));
    if (!db || records < 1 || units < 1 || batch < 1 || frame < 1)
        die("floor needs --db PATH", NULL);
    sqlite3 *s;
    if (sqlite3_open(db, &s) != SQLITE_OK)
        die("cannot open", db);
    /* the same pragmas (WAL, FULL, a 64 MiB cache, temporary data in memory) and the
     * same row shape as the store's fixes table */
    sqlite3_exec(s,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;"
                 "PRAGMA cache_size=-65536;"
                 "CREATE TABLE IF NOT EXISTS fixes(unit_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
                 " t_ms INTEGER NOT NULL, quality INTEGER NOT NULL, lat_e7 INTEGER, lon_e7 INTEGER,"
                 " accuracy_cm INTEGER, speed_cms INTEGER, heading_cdeg INTEGER,"
                 " received_ms INTEGER NOT NULL, PRIMARY KEY(unit_id, seq)) WITHOUT ROWID;",
                 NULL, NULL, NULL);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s,
                           "INSERT INTO fixes VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                           -1, &st, NULL) != SQLITE_OK)
        die(sqlite3_errmsg(s), NULL);
    /* rows in the order the centre receives them: frames of `frame`
     * consecutive records of one unit, the units taking turns */
    int64_t t0 = mono_ns();
    for (long long i = 0; i < records;) {
        sqlite3_exec(s, "BEGIN", NULL, NULL, NULL);
        for (int k = 0; k < batch && i < records; k++, i++) {
            long long frame_no = i / frame, in_frame = i % frame;
            sqlite3_bind_int64(st, 1, frame_no % units + 1);
            sqlite3_bind_int64(st, 2, frame_no / units * frame + in_frame + 1);
            sqlite3_bind_int64(st, 3, wall_ms());
            sqlite3_bind_int(st, 4, 2);
            sqlite3_bind_int(st, 5, 470000000 + (int)(i % 1000));
            sqlite3_bind_int(st, 6, -15000000);
            sqlite3_bind_int(st, 7, 800);
            sqlite3_bind_int(st, 8, 50);
            sqlite3_bind_int(st, 9, 9000);
            sqlite3_bind_int64(st, 10, wall_ms());
            if (sqlite3_step(st) != SQLITE_DONE)
                die(sqlite3_errmsg(s), NULL);
            sqlite3_reset(st);
        }
        if (sqlite3_exec(s, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            die(sqlite3_errmsg(s), NULL);
    }
    double secs = (double)(mono_ns() - t0) / 1e9;
    sqlite3_finalize(st);
    sqlite3_close(s);
    printf("{\"records\":%lld,\"seconds\":%.3f,\"records_per_s\":%.1f}\n", records, secs,
           (double)records / secs);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return cmd_run(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "provision") == 0)
        return cmd_provision(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "floor") == 0)
        return cmd_floor(argc, argv);
    fprintf(stderr, "usage: vigie-loadgen run|provision|floor [options] (see the source's head)\n");
    return 2;
}
