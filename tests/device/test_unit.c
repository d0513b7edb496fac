/* The mobile unit's logic (src/unit/unit.c), driven without sockets: the
 * test plays the centre, decoding what the unit sends with the protocol's
 * own codec and answering with real frames. The ring is on a memory flash,
 * so a "reboot" is a new unit on the same medium. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/alarm.h"
#include "core/err.h"
#include "core/proto.h"
#include "unit/flash.h"
#include "unit/ring.h"
#include "unit/unit.h"
#include "unit/unit_ctl.h"

/* Allocation counting: the program is linked with -Wl,--wrap=malloc (and
 * calloc, realloc), so every call from our own objects (the unit, its ring,
 * the core) comes through here; counted while `counting` is set. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
static int counting;
static size_t allocations;

void *__wrap_malloc(size_t n)
{
    allocations += counting;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    allocations += counting;
    return __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    allocations += counting;
    return __real_realloc(p, n);
}

#define T0       1790000000000LL /* 2026-09-21 */
#define SEC      1000LL
#define MIN      (60 * SEC)
#define MAX_SEEN 8192

struct ringing {
    unsigned source, level, vibrate_ms, sound;
    char message[256];
};

/* The test's world: one unit, its flash, and what the "centre" saw. */
static struct {
    struct vg_flash flash;
    struct vg_ring ring;
    struct vg_mobile_unit u;
    struct vg_unit_params p;
    int64_t now;
    struct vg_proto_record seen[MAX_SEEN];
    size_t n_seen;
    struct vg_proto_command_ack cmd_acks[64];
    size_t n_cmd_acks;
    int hellos;
    struct ringing rings[16];
    size_t n_rings;
} W;

static void on_ring(void *ctx, unsigned source, unsigned level, const char *message,
                    unsigned vibrate_ms, unsigned sound)
{
    (void)ctx;
    assert_true(sound <= 2);
    assert_true(W.n_rings < 16);
    struct ringing *r = &W.rings[W.n_rings++];
    r->source = source;
    r->level = level;
    r->vibrate_ms = vibrate_ms;
    r->sound = sound;
    snprintf(r->message, sizeof r->message, "%s", message);
}

static void open_ring(uint32_t slots)
{
    struct vg_ring_params rp = {.slots = slots, .alarm_reserve = 8, .sync = 0};
    char err[256];
    assert_int_equal(vg_ring_open(&W.ring, &W.flash, &rp, err, sizeof err), VG_OK);
}

static void boot(void)
{
    struct vg_unit_hooks h = {.ring = on_ring};
    assert_int_equal(vg_unit_init(&W.u, &W.p, &h, &W.ring, W.now), VG_OK);
}

static void world(uint8_t role, uint32_t slots)
{
    memset(&W, 0, sizeof W);
    W.now = T0;
    assert_int_equal(vg_flash_open_mem(&W.flash, vg_ring_flash_size(slots)), VG_OK);
    open_ring(slots);
    vg_unit_params_default(&W.p, role);
    W.p.seed = 42;
    boot();
}

static int teardown(void **state)
{
    (void)state;
    vg_unit_free(&W.u);
    vg_ring_close(&W.ring);
    vg_flash_close(&W.flash);
    return 0;
}

/* Everything the unit wants to send now, decoded as the centre would. */
static void drain(void)
{
    const uint8_t *p;
    size_t n;
    while ((n = vg_unit_output(&W.u, W.now, &p)) > 0) {
        size_t off = 0;
        while (off < n) {
            struct vg_proto_header h;
            const uint8_t *payload;
            size_t flen;
            assert_int_equal(vg_proto_frame(p + off, n - off, &h, &payload, &flen), VG_OK);
            if (h.type == VG_PROTO_HELLO) {
                struct vg_proto_hello hello;
                assert_int_equal(vg_proto_decode_hello(payload, h.length, &hello), VG_OK);
                W.hellos++;
            } else if (h.type == VG_PROTO_RECORDS) {
                struct vg_proto_records it;
                assert_int_equal(vg_proto_records_begin(&it, payload, h.length), VG_OK);
                struct vg_proto_record rec;
                int rc;
                while ((rc = vg_proto_records_next(&it, &rec)) == 1) {
                    assert_true(W.n_seen < MAX_SEEN);
                    W.seen[W.n_seen++] = rec;
                }
                assert_int_equal(rc, 0);
            } else if (h.type == VG_PROTO_COMMAND_ACK) {
                assert_true(W.n_cmd_acks < 64);
                assert_int_equal(
                    vg_proto_decode_command_ack(payload, h.length, &W.cmd_acks[W.n_cmd_acks++]),
                    VG_OK);
            } else {
                fail_msg("unexpected frame type %u from the unit", h.type);
            }
            off += flen;
        }
        vg_unit_output_consumed(&W.u, n);
    }
}

static void deliver(const uint8_t *frame, size_t len)
{
    assert_int_equal(vg_unit_received(&W.u, frame, len, W.now), VG_OK);
}

static void send_welcome(uint64_t acked, uint32_t report_ms, uint32_t heartbeat_ms)
{
    uint8_t buf[128];
    size_t w;
    struct vg_proto_welcome m = {.version = 1,
                                 .server_time_ms = (uint64_t)W.now,
                                 .acked_seq = acked,
                                 .report_interval_ms = report_ms,
                                 .heartbeat_interval_ms = heartbeat_ms};
    assert_int_equal(vg_proto_encode_welcome(buf, sizeof buf, &m, &w), VG_OK);
    deliver(buf, w);
}

static void send_ack(uint64_t cumulative, const uint64_t *extra, uint8_t n_extra)
{
    uint8_t buf[512];
    size_t w;
    struct vg_proto_ack m = {.cumulative = cumulative, .n_extra = n_extra};
    for (uint8_t i = 0; i < n_extra; i++)
        m.extra[i] = extra[i];
    assert_int_equal(vg_proto_encode_ack(buf, sizeof buf, &m, &w), VG_OK);
    deliver(buf, w);
}

/* Connect, greet, and take everything sent at once. */
static void session(uint64_t acked)
{
    unsigned server = 99;
    assert_true(vg_unit_want_connect(&W.u, W.now, &server));
    assert_true(server < VG_UNIT_MAX_SERVERS);
    vg_unit_connected(&W.u, W.now);
    drain();
    send_welcome(acked, 0, 0);
    assert_int_equal(W.u.link, VG_LINK_UP);
    drain();
}

static void advance(int64_t ms)
{
    int64_t end = W.now + ms;
    while (W.now < end) {
        int64_t next = vg_unit_next_deadline(&W.u);
        W.now = next > W.now && next < end ? next : (next <= W.now ? W.now + 1 : end);
        vg_unit_tick(&W.u, W.now);
    }
}

static size_t count_seen(uint8_t type, uint8_t kind)
{
    size_t n = 0;
    for (size_t i = 0; i < W.n_seen; i++)
        if (W.seen[i].type == type && (type != VG_REC_EVENT || W.seen[i].event.kind == kind))
            n++;
    return n;
}

static uint64_t max_seen_seq(void)
{
    uint64_t m = 0;
    for (size_t i = 0; i < W.n_seen; i++)
        if (W.seen[i].seq > m)
            m = W.seen[i].seq;
    return m;
}

static struct vg_fix fix_at(double lat, double lon)
{
    struct vg_fix f = {.time_ms = W.now,
                       .lat_deg = lat,
                       .lon_deg = lon,
                       .accuracy_m = 6.0f,
                       .speed_mps = 1.2f,
                       .heading_deg = 90.0f,
                       .quality = VG_FIX_3D};
    return f;
}

/* ---- tests ------------------------------------------------------------------ */

/* Switched on: power-on event, a status; HELLO first, nothing else before
 * WELCOME; then the kept records, numbered 1, 2, 3... */
static void test_start_and_first_session(void **state)
{
    (void)state;
    world(VG_UNIT_PROTECTED, 1024);
    assert_int_equal(vg_unit_pending(&W.u), 2); /* power on, status */
    unsigned server;
    assert_true(vg_unit_want_connect(&W.u, W.now, &server));
    assert_false(vg_unit_want_connect(&W.u, W.now, &server)); /* one attempt at a time */
    vg_unit_connected(&W.u, W.now);
    drain();
    assert_int_equal(W.hellos, 1);
    assert_int_equal(W.n_seen, 0); /* nothing before WELCOME */
    send_welcome(0, 0, 0);
    drain();
    assert_int_equal(W.n_seen, 2);
    assert_int_equal(W.seen[0].seq, 1);
    assert_int_equal(W.seen[0].type, VG_REC_EVENT);
    assert_int_equal(W.seen[0].event.kind, VG_EVENT_POWER_ON);
    assert_int_equal(W.seen[1].type, VG_REC_STATUS);
    assert_int_equal(W.seen[1].status.battery_pct, 100);
    assert_int_equal(W.seen[1].status.beacon_heard, 0);
    assert_int_equal(W.seen[1].status.strap_closed, -1); /* her unit has no strap */
    send_ack(2, NULL, 0);
    assert_int_equal(vg_unit_pending(&W.u), 0);
    assert_int_equal(W.u.n.acked, 2);
}

/* Fixes at the reporting interval, "no fix" recorded as such, a heartbeat
 * only when nothing else was recorded for a heartbeat interval. */
static void test_reporting_and_heartbeats(void **state)
{
    (void)state;
    world(VG_UNIT_AUTHOR, 4096);
    session(0);
    size_t fixes_before = count_seen(VG_REC_FIX, 0);
    /* the receiver has a fix, refreshed every second, for 5 minutes */
    for (int i = 0; i < 300; i++) {
        struct vg_fix f = fix_at(47.2, -1.55 + i * 1e-5);
        vg_unit_gnss(&W.u, &f, W.now);
        advance(SEC);
        drain();
        send_ack(max_seen_seq(), NULL, 0);
    }
    size_t fixes = count_seen(VG_REC_FIX, 0) - fixes_before;
    assert_in_range(fixes, 9, 11);                        /* every 30 s */
    assert_int_equal(count_seen(VG_REC_HEARTBEAT, 0), 0); /* fixes prove it alive */
    /* the sky is lost: fixes of quality NONE, still every 30 s */
    W.n_seen = 0;
    for (int i = 0; i < 6; i++) {
        advance(30 * SEC);
        drain();
        send_ack(max_seen_seq(), NULL, 0);
    }
    size_t none = 0;
    for (size_t i = 0; i < W.n_seen; i++)
        if (W.seen[i].type == VG_REC_FIX) {
            assert_int_equal(W.seen[i].fix.quality, VG_FIX_NONE);
            none++;
        }
    assert_in_range(none, 5, 7);
    /* the modem has a network estimate: the position records carry it
     * while it is fresh (5 minutes), then say "no fix" again */
    struct vg_fix net = {.time_ms = W.now,
                         .lat_deg = 47.21,
                         .lon_deg = -1.56,
                         .accuracy_m = 800.0f,
                         .speed_mps = 3.0f,
                         .heading_deg = 12.0f,
                         .quality = VG_FIX_NETWORK};
    vg_unit_network(&W.u, &net, W.now);
    W.n_seen = 0;
    for (int i = 0; i < 4; i++) {
        advance(30 * SEC);
        drain();
        send_ack(max_seen_seq(), NULL, 0);
    }
    size_t estimates = 0;
    for (size_t i = 0; i < W.n_seen; i++)
        if (W.seen[i].type == VG_REC_FIX) {
            assert_int_equal(W.seen[i].fix.quality, VG_FIX_NETWORK);
            assert_true(fabs(W.seen[i].fix.lat_deg - 47.21) < 1e-6);
            assert_true(W.seen[i].fix.accuracy_m == 800.0f);
            assert_true(W.seen[i].fix.speed_mps < 0.0f); /* an estimate has no course */
            estimates++;
        }
    assert_in_range(estimates, 3, 5);
    advance(5 * MIN);
    drain();
    send_ack(max_seen_seq(), NULL, 0);
    W.n_seen = 0;
    advance(30 * SEC);
    drain();
    send_ack(max_seen_seq(), NULL, 0);
    for (size_t i = 0; i < W.n_seen; i++)
        if (W.seen[i].type == VG_REC_FIX)
            assert_int_equal(W.seen[i].fix.quality, VG_FIX_NONE);
    /* a second WELCOME in session is malformed: closed */
    uint8_t buf[128];
    size_t w;
    struct vg_proto_welcome m = {.version = 1, .server_time_ms = (uint64_t)W.now};
    assert_int_equal(vg_proto_encode_welcome(buf, sizeof buf, &m, &w), VG_OK);
    assert_int_equal(vg_unit_received(&W.u, buf, w, W.now), VG_EFORMAT);
    assert_true(vg_unit_want_close(&W.u));
    vg_unit_disconnected(&W.u, W.now);
    /* the centre slows reporting to 10 min: heartbeats fill in every minute */
    advance(5 * SEC);
    unsigned server;
    assert_true(vg_unit_want_connect(&W.u, W.now, &server));
    vg_unit_connected(&W.u, W.now);
    drain();
    send_welcome(0, 600000, 60000);
    drain();
    W.n_seen = 0;
    for (int i = 0; i < 20; i++) {
        advance(30 * SEC);
        drain();
        send_ack(max_seen_seq(), NULL, 0);
    }
    assert_in_range(count_seen(VG_REC_HEARTBEAT, 0), 8, 10);
    assert_in_range(count_seen(VG_REC_FIX, 0), 1, 2);
}

/* After an outage, the SOS pressed during it goes first, then the backlog
 * oldest first; extras in an ACK drop records out of order. */
static void test_alarms_first_after_outage(void **state)
{
    (void)state;
    world(VG_UNIT_PROTECTED, 4096);
    /* never connected: 10 minutes of records, an SOS in the middle */
    for (int i = 0; i < 600; i++) {
        struct vg_fix f = fix_at(47.21, -1.55);
        vg_unit_gnss(&W.u, &f, W.now);
        if (i == 300)
            assert_int_equal(vg_unit_input(&W.u, VG_UNIT_IN_SOS, 1, W.now), VG_OK);
        advance(SEC);
    }
    uint64_t pending = vg_unit_pending(&W.u);
    assert_true(pending > 20);
    session(0);
    assert_int_equal(W.n_seen, pending);
    assert_int_equal(W.seen[0].type, VG_REC_EVENT);
    assert_int_equal(W.seen[0].event.kind, VG_EVENT_SOS);
    for (size_t i = 2; i < W.n_seen; i++)
        assert_true(W.seen[i].seq > W.seen[i - 1].seq);
    /* the centre stores the SOS first: out of order */
    uint64_t sos = W.seen[0].seq;
    send_ack(0, &sos, 1);
    assert_int_equal(vg_unit_pending(&W.u), pending - 1);
    send_ack(max_seen_seq(), NULL, 0);
    assert_int_equal(vg_unit_pending(&W.u), 0);
    assert_int_equal(W.u.in_flight, 0);
}

/* No acknowledgement in time: the unit closes and resends everything
 * unacknowledged on the next session. */
static void test_ack_timeout_and_resend(void **state)
{
    (void)state;
    world(VG_UNIT_PROTECTED, 1024);
    session(0);
    size_t first = W.n_seen;
    assert_true(first >= 2);
    advance(W.p.ack_timeout_ms + SEC);
    assert_true(vg_unit_want_close(&W.u));
    vg_unit_disconnected(&W.u, W.now);
    W.n_seen = 0;
    advance(5 * SEC);
    session(1); /* the centre had stored only record 1 */
    assert_true(W.n_seen >= first - 1);
    for (size_t i = 0; i < W.n_seen; i++)
        assert_true(W.seen[i].seq >= 2);
    assert_int_equal(W.seen[0].seq, 2);
}

/* Reconnection: growing delays with jitter, reset after a session that
 * lasted; a failed attempt moves to the other site. */
static void test_backoff_and_failover(void **state)
{
    (void)state;
    world(VG_UNIT_AUTHOR, 1024);
    vg_unit_free(&W.u);
    W.p.n_servers = 2;
    boot();
    unsigned server, prev = 99;
    int64_t last_delay = 0;
    for (int attempt = 0; attempt < 12; attempt++) {
        int64_t start = W.now;
        while (!vg_unit_want_connect(&W.u, W.now, &server))
            W.now += 10;
        int64_t delay = W.now - start;
        if (attempt >= 1 && attempt <= 7) {
            /* base 1 s doubling, +-20 % */
            double base = 1000.0 * (double)(1 << (attempt - 1));
            assert_true((double)delay >= 0.8 * base - 20 && (double)delay <= 1.2 * base + 20);
        }
        if (attempt > 9)
            assert_true((double)delay <= 300000 * 1.2 + 20 && (double)delay >= 300000 * 0.8 - 20);
        if (prev != 99)
            assert_int_not_equal(server, prev); /* the other site each time */
        prev = server;
        last_delay = delay;
        vg_unit_disconnected(&W.u, W.now); /* refused */
    }
    (void)last_delay;
    /* a session that lasts resets the delay; its end keeps the same site */
    while (!vg_unit_want_connect(&W.u, W.now, &server))
        W.now += 100;
    vg_unit_connected(&W.u, W.now);
    drain();
    send_welcome(0, 0, 0);
    advance(2 * MIN);
    drain();
    send_ack(max_seen_seq(), NULL, 0);
    vg_unit_disconnected(&W.u, W.now);
    int64_t start = W.now;
    unsigned again;
    while (!vg_unit_want_connect(&W.u, W.now, &again))
        W.now += 10;
    assert_true(W.now - start <= 1200 + 20);
    assert_int_equal(again, server);
}

/* Commands: executed once, confirmed every time they come (a reconnection
 * never rings twice), remembered across a reboot. */
static void test_commands_once(void **state)
{
    (void)state;
    world(VG_UNIT_PROTECTED, 1024);
    session(0);
    uint8_t buf[512];
    size_t w;
    struct vg_proto_ring ring = {.command_id = 77, .level = 2, .vibrate_ms = 500};
    snprintf(ring.message, sizeof ring.message, "Alerte : éloignez-vous");
    assert_int_equal(vg_proto_encode_ring(buf, sizeof buf, &ring, &w), VG_OK);
    deliver(buf, w);
    drain();
    assert_int_equal(W.n_rings, 1);
    assert_int_equal(W.rings[0].source, VG_UNIT_RING_CENTRE);
    assert_int_equal(W.rings[0].level, 2);
    assert_int_equal(W.rings[0].sound, 0);
    assert_string_equal(W.rings[0].message, "Alerte : éloignez-vous");
    assert_int_equal(W.n_cmd_acks, 1);
    assert_int_equal(W.cmd_acks[0].command_id, 77);
    assert_int_equal(W.cmd_acks[0].status, 0);
    /* the same command again (its confirmation was lost) */
    deliver(buf, w);
    drain();
    assert_int_equal(W.n_rings, 1);
    assert_int_equal(W.n_cmd_acks, 2);
    /* a pre-alert her policy keeps quiet at night: vibrate only */
    struct vg_proto_ring quiet = {.command_id = 90, .level = 1, .sound = 1};
    assert_int_equal(vg_proto_encode_ring(buf, sizeof buf, &quiet, &w), VG_OK);
    deliver(buf, w);
    drain();
    assert_int_equal(W.n_rings, 2);
    assert_int_equal(W.rings[1].level, 1);
    assert_int_equal(W.rings[1].sound, 1);
    /* a CONFIG: new intervals, kept across a reboot */
    struct vg_proto_config cfg = {
        .command_id = 78, .report_interval_ms = 5000, .heartbeat_interval_ms = 20000};
    assert_int_equal(vg_proto_encode_config(buf, sizeof buf, &cfg, &w), VG_OK);
    deliver(buf, w);
    drain();
    assert_int_equal(W.u.report_interval_ms, 5000);
    /* reboot on the same flash */
    vg_unit_free(&W.u);
    vg_ring_close(&W.ring);
    open_ring(1024);
    boot();
    assert_int_equal(W.u.boot_count, 2);
    assert_int_equal(W.u.report_interval_ms, 5000);
    assert_int_equal(W.u.heartbeat_interval_ms, 20000);
    session(0);
    assert_int_equal(vg_proto_encode_ring(buf, sizeof buf, &ring, &w), VG_OK);
    deliver(buf, w);
    drain();
    assert_int_equal(W.n_rings, 2); /* not rung again after the reboot */
    /* a position request: the fresh fix goes at once */
    struct vg_fix f = fix_at(47.3, -1.5);
    vg_unit_gnss(&W.u, &f, W.now);
    W.n_seen = 0;
    struct vg_proto_position_request pr = {.command_id = 79};
    assert_int_equal(vg_proto_encode_position_request(buf, sizeof buf, &pr, &w), VG_OK);
    deliver(buf, w);
    drain();
    assert_int_equal(count_seen(VG_REC_FIX, 0), 1);
    assert_true(W.seen[0].fix.lat_deg > 47.29);
}

/* Sequence numbers survive a reboot: the next one is above every number
 * the unit ever sent, and nothing unacknowledged is lost. */
static void test_reboot_keeps_numbers(void **state)
{
    (void)state;
    world(VG_UNIT_AUTHOR, 1024);
    session(0);
    for (int i = 0; i < 120; i++) {
        struct vg_fix f = fix_at(47.2, -1.5);
        vg_unit_gnss(&W.u, &f, W.now);
        advance(SEC);
    }
    drain();
    uint64_t last = max_seen_seq();
    send_ack(last / 2, NULL, 0);
    uint64_t pending = vg_unit_pending(&W.u);
    assert_true(pending > 0);
    /* crash: no orderly close of anything (the ring's memory just goes) */
    vg_unit_free(&W.u);
    free(W.ring.flags);
    free(W.ring.alarms);
    memset(&W.ring, 0xAA, sizeof W.ring);
    open_ring(1024);
    boot();
    /* the new power-on is numbered after everything before */
    W.n_seen = 0;
    session(last / 2);
    /* the backlog, then power on and the two statuses (his unit, the bracelet) */
    assert_int_equal(W.n_seen, pending + 3);
    for (size_t i = 0; i < W.n_seen; i++)
        assert_int_equal(W.seen[i].seq, last / 2 + 1 + i);
    assert_int_equal(W.seen[pending].type, VG_REC_EVENT);
    assert_int_equal(W.seen[pending].event.kind, VG_EVENT_POWER_ON);
}

/* Tamper and separation are alarms (sent first), restores are not; a
 * sensor this unit does not have is refused. */
static void test_author_sensors(void **state)
{
    (void)state;
    world(VG_UNIT_AUTHOR, 1024);
    for (int i = 0; i < 100; i++) {
        struct vg_fix f = fix_at(47.2, -1.5);
        vg_unit_gnss(&W.u, &f, W.now);
        advance(SEC);
    }
    assert_int_equal(vg_unit_input(&W.u, VG_UNIT_IN_STRAP, 0, W.now), VG_OK);
    assert_int_equal(vg_unit_input(&W.u, VG_UNIT_IN_BRACELET_LINK, 0, W.now), VG_OK);
    assert_int_equal(vg_unit_input(&W.u, VG_UNIT_IN_SOS, 1, W.now), VG_EINVAL);
    assert_int_equal(vg_unit_input(&W.u, VG_UNIT_IN_STRAP, 2, W.now), VG_EINVAL);
    session(0);
    assert_int_equal(W.seen[0].type, VG_REC_STATUS);
    assert_int_equal(W.seen[0].subject, VG_SUBJECT_BRACELET);
    assert_int_equal(W.seen[0].status.strap_closed, 0);
    assert_int_equal(W.seen[1].type, VG_REC_STATUS);
    assert_int_equal(W.seen[1].subject, VG_SUBJECT_SELF);
    assert_int_equal(W.seen[1].status.bracelet_link, 0);
    assert_int_equal(W.seen[1].status.beacon_heard, -1);
    /* every status passes the centre's checks for its device */
    for (size_t i = 0; i < W.n_seen; i++)
        if (W.seen[i].type == VG_REC_STATUS)
            assert_int_equal(vg_unit_status_check(W.seen[i].subject == VG_SUBJECT_BRACELET
                                                      ? VG_UNIT_BRACELET
                                                      : VG_UNIT_AUTHOR,
                                                  &W.seen[i].status),
                             VG_OK);
}

/* The local detector: the beacon heard rings her unit at once, without
 * any connection, and is sent as an alarm; a minute without it ends it. */
/* The control socket's network command: an estimate, "none", and what is
 * refused (no change then). */
static void test_ctl_network(void **state)
{
    (void)state;
    world(VG_UNIT_AUTHOR, 1024);
    char reply[128];
    assert_int_equal(vg_unit_ctl_execute(&W.u, "A", "network 47.2,-1.55,900", W.now, reply,
                                         sizeof reply),
                     VG_OK);
    assert_string_equal(reply, "ok");
    assert_int_equal(W.u.net.quality, VG_FIX_NETWORK);
    assert_true(W.u.net.accuracy_m == 900.0f);
    static const char *const bad[] = {"network", "network 47.2,-1.55", "network 95,0,100",
                                      "network 47.2,-1.55,0", "network 47.2,-1.55,100x",
                                      "network a,b,c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(vg_unit_ctl_execute(&W.u, "A", bad[i], W.now, reply, sizeof reply),
                         VG_EINVAL);
        assert_true(strncmp(reply, "error: ", 7) == 0);
        assert_int_equal(W.u.net.quality, VG_FIX_NETWORK);
    }
    assert_int_equal(vg_unit_ctl_execute(&W.u, "A", "network none", W.now, reply, sizeof reply),
                     VG_OK);
    assert_int_equal(W.u.net.quality, VG_FIX_NONE);
}

static void test_beacon_rings_locally(void **state)
{
    (void)state;
    world(VG_UNIT_PROTECTED, 1024);
    vg_unit_beacon(&W.u, -1, W.now); /* not heard: nothing */
    assert_int_equal(W.n_rings, 0);
    advance(10 * SEC);
    vg_unit_beacon(&W.u, 35.0, W.now);
    assert_int_equal(W.n_rings, 1);
    assert_int_equal(W.rings[0].source, VG_UNIT_RING_LOCAL);
    assert_int_equal(W.rings[0].level, 2);
    for (int i = 0; i < 30; i++) {
        advance(SEC);
        vg_unit_beacon(&W.u, 20.0 - i * 0.5, W.now);
    }
    assert_int_equal(W.n_rings, 1); /* one episode, one ring */
    advance(W.p.beacon_lost_ms + 2 * SEC);
    assert_int_equal(W.n_rings, 2);
    assert_int_equal(W.rings[1].level, 0);
    session(0);
    assert_int_equal(W.seen[0].type, VG_REC_STATUS); /* the alarm first */
    assert_int_equal(W.seen[0].status.beacon_heard, 1);
    assert_int_equal(W.seen[0].status.beacon_range_m, 35);
    assert_int_equal(vg_unit_status_check(VG_UNIT_PROTECTED, &W.seen[0].status), VG_OK);
    int lost = 0;
    for (size_t i = 1; i < W.n_seen; i++)
        if (W.seen[i].type == VG_REC_STATUS && W.seen[i].status.beacon_heard == 0 &&
            W.seen[i].status.time_ms > W.seen[0].status.time_ms)
            lost = 1;
    assert_true(lost);
}

/* The battery model: about 2 %/h at 30 s, statuses as it goes down, the
 * unit says it switches off when flat, and a charger brings it back. */
static void test_battery(void **state)
{
    (void)state;
    world(VG_UNIT_PROTECTED, 8192);
    session(0);
    for (int i = 0; i < 600; i++) {
        advance(MIN);
        drain();
        send_ack(max_seen_seq(), NULL, 0);
    }
    assert_int_equal(W.u.link, VG_LINK_UP);
    /* 10 h connected at 30 s: 0.8 + 3.0 x 5/30 + 0.7 = 2.0 %/h */
    assert_true(W.u.battery_pct > 79.0f && W.u.battery_pct < 81.0f);
    /* a faulty battery: flat within the hour */
    vg_unit_set_extra_drain(&W.u, 200.0);
    W.n_seen = 0;
    for (int i = 0; i < 60 && W.u.powered; i++) {
        advance(MIN);
        drain();
        send_ack(max_seen_seq(), NULL, 0);
    }
    assert_false(W.u.powered);
    assert_int_equal(count_seen(VG_REC_EVENT, VG_EVENT_POWER_OFF), 1);
    int low_status = 0;
    for (size_t i = 0; i < W.n_seen; i++)
        if (W.seen[i].type == VG_REC_STATUS && W.seen[i].status.battery_pct >= 0 &&
            W.seen[i].status.battery_pct <= 10)
            low_status = 1;
    assert_true(low_status);
    /* off: it closes once its last words are acknowledged, then stays quiet */
    advance(SEC);
    assert_true(vg_unit_want_close(&W.u));
    vg_unit_disconnected(&W.u, W.now);
    unsigned server;
    advance(MIN);
    assert_false(vg_unit_want_connect(&W.u, W.now, &server));
    assert_int_equal(vg_unit_input(&W.u, VG_UNIT_IN_SOS, 1, W.now), VG_ESTATE);
    /* on the charger: back on by itself */
    vg_unit_set_extra_drain(&W.u, 0);
    assert_int_equal(vg_unit_input(&W.u, VG_UNIT_IN_CHARGING, 1, W.now), VG_OK);
    advance(10 * MIN);
    assert_true(W.u.powered);
    assert_true(vg_unit_want_connect(&W.u, W.now, &server));
}

/* Bad bytes from the centre: the unit wants the connection closed and
 * loses nothing. */
static void test_malformed_from_centre(void **state)
{
    (void)state;
    world(VG_UNIT_PROTECTED, 1024);
    unsigned server;
    assert_true(vg_unit_want_connect(&W.u, W.now, &server));
    vg_unit_connected(&W.u, W.now);
    drain();
    /* an ACK before WELCOME */
    uint8_t buf[64];
    size_t w;
    struct vg_proto_ack a = {.cumulative = 5};
    assert_int_equal(vg_proto_encode_ack(buf, sizeof buf, &a, &w), VG_OK);
    assert_int_equal(vg_unit_received(&W.u, buf, w, W.now), VG_EFORMAT);
    assert_true(vg_unit_want_close(&W.u));
    assert_int_equal(vg_unit_pending(&W.u), 2);
    vg_unit_disconnected(&W.u, W.now);
    /* garbage in session; then a frame announcing a huge payload */
    advance(3 * SEC);
    session(0);
    static const uint8_t junk[] = {0x56, 0x47, 0x01, 0x82, 0x00, 0x01, 0x00, 0x00};
    assert_int_equal(vg_unit_received(&W.u, junk, sizeof junk, W.now), VG_EFORMAT);
    assert_true(vg_unit_want_close(&W.u));
    vg_unit_disconnected(&W.u, W.now);
    advance(5 * SEC);
    session(0);
    static const uint8_t bad_magic[] = {0x00, 0x47, 0x01, 0x82, 0, 0, 0, 0};
    assert_int_equal(vg_unit_received(&W.u, bad_magic, sizeof bad_magic, W.now), VG_EFORMAT);
    /* an ERROR "overloaded": closes, retries later */
    vg_unit_disconnected(&W.u, W.now);
    advance(10 * SEC);
    session(0);
    struct vg_proto_error_msg e = {.code = VG_PROTO_ERR_OVERLOADED};
    assert_int_equal(vg_proto_encode_error(buf, sizeof buf, &e, &w), VG_OK);
    deliver(buf, w);
    assert_true(vg_unit_want_close(&W.u));
    assert_int_equal(vg_unit_pending(&W.u), 2); /* nothing acknowledged, nothing lost */
}

/* Frames arriving a byte at a time are read the same. */
static void test_byte_by_byte(void **state)
{
    (void)state;
    world(VG_UNIT_PROTECTED, 1024);
    unsigned server;
    assert_true(vg_unit_want_connect(&W.u, W.now, &server));
    vg_unit_connected(&W.u, W.now);
    drain();
    uint8_t buf[512];
    size_t w, w2;
    struct vg_proto_welcome m = {.version = 1, .server_time_ms = (uint64_t)T0, .acked_seq = 0};
    assert_int_equal(vg_proto_encode_welcome(buf, sizeof buf, &m, &w), VG_OK);
    struct vg_proto_ack a = {.cumulative = 2};
    assert_int_equal(vg_proto_encode_ack(buf + w, sizeof buf - w, &a, &w2), VG_OK);
    for (size_t i = 0; i < w; i++)
        assert_int_equal(vg_unit_received(&W.u, buf + i, 1, W.now), VG_OK);
    drain();
    assert_int_equal(W.n_seen, 2);
    for (size_t i = w; i < w + w2; i++)
        assert_int_equal(vg_unit_received(&W.u, buf + i, 1, W.now), VG_OK);
    assert_int_equal(vg_unit_pending(&W.u), 0);
}

/* A full ring: routine records refused and counted, an SOS still kept. */
static void test_full_ring_keeps_alarms(void **state)
{
    (void)state;
    world(VG_UNIT_PROTECTED, 64);
    for (int i = 0; i < 200; i++) {
        struct vg_fix f = fix_at(47.2, -1.5);
        vg_unit_gnss(&W.u, &f, W.now);
        advance(30 * SEC);
    }
    assert_true(W.u.n.records_refused > 0);
    assert_int_equal(vg_unit_input(&W.u, VG_UNIT_IN_SOS, 1, W.now), VG_OK);
    session(0);
    assert_int_equal(W.seen[0].type, VG_REC_EVENT);
    assert_int_equal(W.seen[0].event.kind, VG_EVENT_SOS);
}


/* Fixed memory after start: an hour of a unit's life — fixes every second,
 * sessions, acknowledgements, commands, an outage and its backlog, SOS,
 * call-back, the beacon, the charger, a reboot of the link — without one
 * allocation after vg_unit_init (a unit runs for weeks on a small board;
 * ten thousand run in vigie-sim). */
static void test_no_allocation_in_steady_state(void **state)
{
    (void)state;
    world(VG_UNIT_PROTECTED, 4096);
    /* the counter sees the unit's own allocations: its start makes some */
    vg_unit_free(&W.u);
    allocations = 0;
    counting = 1;
    boot();
    counting = 0;
    assert_true(allocations > 0);
    allocations = 0;
    counting = 1;
    session(0);
    uint8_t buf[512];
    size_t w;
    uint32_t command = 1000;
    for (int minute = 0; minute < 60; minute++) {
        int outage = minute >= 20 && minute < 30;
        if (minute == 20) {
            vg_unit_disconnected(&W.u, W.now);
        }
        for (int s = 0; s < 60; s++) {
            struct vg_fix f = fix_at(47.21 + minute * 1e-4, -1.55 + s * 1e-5);
            vg_unit_gnss(&W.u, &f, W.now);
            if (minute == 25 && s == 0)
                assert_int_equal(vg_unit_input(&W.u, VG_UNIT_IN_SOS, 1, W.now), VG_OK);
            if (minute == 40 && s == 0)
                assert_int_equal(vg_unit_input(&W.u, VG_UNIT_IN_CALLBACK, 1, W.now), VG_OK);
            if (minute == 45 && s < 30)
                vg_unit_beacon(&W.u, 25.0 + s, W.now);
            if (minute == 50 && s == 0)
                assert_int_equal(vg_unit_input(&W.u, VG_UNIT_IN_CHARGING, 1, W.now), VG_OK);
            advance(SEC);
            unsigned server;
            if (!outage && W.u.link == VG_LINK_DOWN && vg_unit_want_connect(&W.u, W.now, &server)) {
                vg_unit_connected(&W.u, W.now);
                drain();
                send_welcome(max_seen_seq(), 0, 0);
            }
            if (W.u.link == VG_LINK_UP) {
                W.n_seen = 0;
                drain();
                send_ack(max_seen_seq(), NULL, 0);
            }
        }
        if (!outage && W.u.link == VG_LINK_UP && minute % 10 == 5) {
            struct vg_proto_ring ring = {.command_id = command++, .level = 1};
            snprintf(ring.message, sizeof ring.message, "Pré-alerte");
            assert_int_equal(vg_proto_encode_ring(buf, sizeof buf, &ring, &w), VG_OK);
            deliver(buf, w);
            struct vg_proto_config cfg = {.command_id = command++,
                                          .report_interval_ms = minute % 20 == 5 ? 5000 : 30000,
                                          .heartbeat_interval_ms = 60000};
            assert_int_equal(vg_proto_encode_config(buf, sizeof buf, &cfg, &w), VG_OK);
            deliver(buf, w);
            drain();
        }
    }
    counting = 0;
    assert_true(W.u.n.sessions >= 2);
    assert_true(W.u.n.acked > 100);
    assert_true(W.n_rings >= 2);
    assert_int_equal(vg_unit_pending(&W.u), 0);
    assert_int_equal(allocations, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_start_and_first_session, teardown),
        cmocka_unit_test_teardown(test_reporting_and_heartbeats, teardown),
        cmocka_unit_test_teardown(test_alarms_first_after_outage, teardown),
        cmocka_unit_test_teardown(test_ack_timeout_and_resend, teardown),
        cmocka_unit_test_teardown(test_backoff_and_failover, teardown),
        cmocka_unit_test_teardown(test_commands_once, teardown),
        cmocka_unit_test_teardown(test_reboot_keeps_numbers, teardown),
        cmocka_unit_test_teardown(test_author_sensors, teardown),
        cmocka_unit_test_teardown(test_beacon_rings_locally, teardown),
        cmocka_unit_test_teardown(test_battery, teardown),
        cmocka_unit_test_teardown(test_malformed_from_centre, teardown),
        cmocka_unit_test_teardown(test_byte_by_byte, teardown),
        cmocka_unit_test_teardown(test_full_ring_keeps_alarms, teardown),
        cmocka_unit_test_teardown(test_no_allocation_in_steady_state, teardown),
        cmocka_unit_test_teardown(test_ctl_network, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
