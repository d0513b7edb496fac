/* The mobile unit's logic (unit.h says what and how it is driven).
 *
 * Choices worth knowing:
 * - Everything the unit learns is appended to the ring before anything is
 *   sent, so a record exists (with its number) before the centre can see
 *   it: a crash can make the unit send a record twice (the centre
 *   de-duplicates), never lose one nor reuse its number.
 * - Alarms (SOS, call-back, tamper, a bracelet out of reach, the beacon
 *   heard, switching off) are appended as alarms: the ring hands them out
 *   ahead of the backlog, so after an outage the SOS arrives first.
 * - A fix is recorded at the reporting interval whatever the receiver
 *   says: "no fix" is recorded too, because the centre must tell a unit
 *   that lost the sky (GNSS lost) from a unit it cannot hear (comm lost).
 * - A heartbeat is recorded only when nothing else was for a heartbeat
 *   interval: any record proves the unit alive.
 * - Reconnection: 1 s doubling to 5 min, +-20 % so that ten thousand units
 *   cut off together do not come back together; the delay resets after a
 *   session that lasted; a failed attempt, or an ERROR saying "overloaded"
 *   or "shutting down", moves to the other site. */
#include "unit/unit.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alarm.h"
#include "core/err.h"

/* The largest record the codec writes (a FIX with every field is 51 bytes,
 * a STATUS with every field 47): frames are planned with this. */
#define RECORD_MAX_BYTES      64
#define COMMAND_ACK_MAX_BYTES (VG_PROTO_HEADER_LEN + 9)
#define META_MAGIC            0x5531u /* "U1" */
#define META_LEN                                                                                   \
    (2 + 4 * 4 + 4 * VG_UNIT_RECENT_COMMANDS +                                                     \
     1) /* magic, 3 numbers and one reserved, commands, next */
#define HOUR_MS 3600000.0

void vg_unit_params_default(struct vg_unit_params *p, uint8_t role)
{
    memset(p, 0, sizeof *p);
    p->role = role;
    p->n_servers = 1;
    p->seed = 1;
    p->report_interval_ms = 30000;
    p->heartbeat_interval_ms = 60000;
    p->status_interval_ms = 600000;
    p->ack_timeout_ms = 60000;
    p->welcome_timeout_ms = 20000;
    p->backoff_min_ms = 1000;
    p->backoff_max_ms = 300000;
    p->session_lasted_ms = 60000;
    p->max_in_flight = 4096;
    p->max_frame_records = 256;
    p->gnss_fresh_ms = 3000;
    p->beacon_lost_ms = 60000;
    p->battery_model = 1;
    p->battery_pct = 100.0f;
    /* about 2 %/h at a 30 s interval while connected: 50 h, charged every 48 h */
    p->drain_idle_pct_h = 0.8f;
    p->drain_gnss_pct_h = 3.0f;
    p->drain_radio_pct_h = 0.7f;
    p->charge_pct_h = 40.0f;
    snprintf(p->firmware, sizeof p->firmware, "vigie-unit 0.1");
}

/* ---- small helpers ---------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
ulog(struct vg_mobile_unit *u, const char *level, const char *fmt, ...)
{
    if (!u->hooks.log)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    u->hooks.log(u->hooks.ctx, level, msg);
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int is_author(const struct vg_mobile_unit *u)
{
    return u->p.role == VG_UNIT_AUTHOR;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- persisted settings ------------------------------------------------ */

static void save_meta(struct vg_mobile_unit *u)
{
    uint8_t m[META_LEN];
    m[0] = (uint8_t)(META_MAGIC >> 8);
    m[1] = (uint8_t)META_MAGIC;
    put32(m + 2, u->report_interval_ms);
    put32(m + 6, u->heartbeat_interval_ms);
    put32(m + 10, u->boot_count);
    put32(m + 14, 0); /* reserved */
    for (int i = 0; i < VG_UNIT_RECENT_COMMANDS; i++)
        put32(m + 18 + 4 * i, u->recent_cmds[i]);
    m[META_LEN - 1] = u->recent_next;
    if (vg_ring_meta_put(u->ring, m, sizeof m) != VG_OK)
        ulog(u, "error", "cannot save the unit's settings");
}

static void load_meta(struct vg_mobile_unit *u)
{
    uint8_t m[VG_RING_META_MAX];
    size_t len = 0;
    if (vg_ring_meta_get(u->ring, m, sizeof m, &len) != VG_OK || len != META_LEN ||
        ((unsigned)m[0] << 8 | m[1]) != META_MAGIC)
        return; /* first start: the parameters' values */
    uint32_t report = get32(m + 2), heartbeat = get32(m + 6);
    if (report > 0)
        u->report_interval_ms = report;
    if (heartbeat > 0)
        u->heartbeat_interval_ms = heartbeat;
    u->boot_count = get32(m + 10);
    for (int i = 0; i < VG_UNIT_RECENT_COMMANDS; i++)
        u->recent_cmds[i] = get32(m + 18 + 4 * i);
    u->recent_next = (uint8_t)(m[META_LEN - 1] % VG_UNIT_RECENT_COMMANDS);
}

/* ---- recording --------------------------------------------------------- */

static int append(struct vg_mobile_unit *u, struct vg_proto_record *rec, int alarm, int64_t now_ms)
{
    if (u->draining)
        return VG_ESTATE;
    int rc = vg_ring_append(u->ring, rec, alarm);
    if (rc != VG_OK) {
        u->n.records_refused++;
        /* counted, and said once in a while: a full ring is days of outage */
        if (u->n.records_refused == 1 || u->n.records_refused % 1000 == 0)
            ulog(u, "error", "record not kept (%s): %llu refused so far",
                 rc == VG_ENOSPC ? "the ring is full" : "storage error",
                 (unsigned long long)u->n.records_refused);
        return rc;
    }
    u->n.records++;
    u->last_record_ms = now_ms;
    return VG_OK;
}

static void record_event(struct vg_mobile_unit *u, uint8_t kind, int alarm, int64_t now_ms)
{
    struct vg_proto_record rec = {.type =
                                      kind == VG_EVENT_HEARTBEAT ? VG_REC_HEARTBEAT : VG_REC_EVENT};
    rec.event.time_ms = now_ms;
    rec.event.kind = kind;
    append(u, &rec, alarm, now_ms);
}

static int8_t battery_byte(const struct vg_mobile_unit *u)
{
    if (u->battery_pct < 0)
        return -1;
    return (int8_t)lrintf(u->battery_pct > 100.0f ? 100.0f : u->battery_pct);
}

/* The unit's own status: battery and charging, plus the bracelet link
 * (author) or the beacon detector (protected). */
static void record_self_status(struct vg_mobile_unit *u, int alarm, int64_t now_ms)
{
    struct vg_proto_record rec = {.type = VG_REC_STATUS, .subject = VG_SUBJECT_SELF};
    struct vg_unit_status *st = &rec.status;
    st->time_ms = now_ms;
    st->battery_pct = battery_byte(u);
    st->charging = u->charging;
    st->strap_closed = -1;
    st->skin_contact = -1;
    st->bracelet_link = is_author(u) ? u->bracelet_link : -1;
    st->beacon_heard = is_author(u) ? -1 : u->beacon_heard;
    st->beacon_range_m = -1;
    if (!is_author(u) && u->beacon_heard == 1)
        st->beacon_range_m =
            (int16_t)(u->beacon_range_m > 30000.0f ? 30000 : lrintf(u->beacon_range_m));
    if (append(u, &rec, alarm, now_ms) == VG_OK) {
        u->reported_battery = st->battery_pct;
        u->reported_charging = u->charging;
        u->reported_link = u->bracelet_link;
    }
}

/* The bracelet's state, relayed by the author's unit. */
static void record_bracelet_status(struct vg_mobile_unit *u, int alarm, int64_t now_ms)
{
    struct vg_proto_record rec = {.type = VG_REC_STATUS, .subject = VG_SUBJECT_BRACELET};
    struct vg_unit_status *st = &rec.status;
    st->time_ms = now_ms;
    st->battery_pct = -1;
    st->charging = -1;
    st->strap_closed = u->strap_closed;
    st->skin_contact = u->skin_contact;
    st->bracelet_link = -1;
    st->beacon_heard = -1;
    st->beacon_range_m = -1;
    if (append(u, &rec, alarm, now_ms) == VG_OK) {
        u->reported_strap = u->strap_closed;
        u->reported_skin = u->skin_contact;
    }
}

static void record_fix(struct vg_mobile_unit *u, int64_t now_ms)
{
    struct vg_proto_record rec = {.type = VG_REC_FIX};
    if (u->gnss.quality != VG_FIX_NONE && u->gnss_rx_ms > 0 &&
        now_ms - u->gnss_rx_ms <= (int64_t)u->p.gnss_fresh_ms) {
        rec.fix = u->gnss;
    } else if (u->net.quality == VG_FIX_NETWORK && u->net_rx_ms > 0 &&
               now_ms - u->net_rx_ms <= VG_UNIT_NET_FRESH_MS) {
        /* no fix, but the modem's estimate: the centre judges with it */
        rec.fix = u->net;
    } else {
        rec.fix.time_ms = now_ms;
        rec.fix.quality = VG_FIX_NONE;
        rec.fix.speed_mps = -1;
        rec.fix.heading_deg = -1;
    }
    if (append(u, &rec, 0, now_ms) == VG_OK)
        u->n.fixes++;
}

/* ---- battery model -------------------------------------------------------- */

static void battery_update(struct vg_mobile_unit *u, int64_t now_ms)
{
    if (!u->p.battery_model || now_ms <= u->battery_t_ms) {
        u->battery_t_ms = now_ms > u->battery_t_ms ? now_ms : u->battery_t_ms;
        return;
    }
    double h = (double)(now_ms - u->battery_t_ms) / HOUR_MS;
    u->battery_t_ms = now_ms;
    double level = (double)u->battery_pct;
    if (u->charging == 1) {
        level += (double)u->p.charge_pct_h * h;
    } else if (u->powered) {
        /* the receiver is duty-cycled: fully on at 5 s and below */
        double duty = 5000.0 / (double)(u->report_interval_ms ? u->report_interval_ms : 1);
        duty = duty > 1.0 ? 1.0 : duty < 0.1 ? 0.1 : duty;
        double rate = (double)u->p.drain_idle_pct_h + (double)u->p.drain_gnss_pct_h * duty +
                      (u->link == VG_LINK_UP ? (double)u->p.drain_radio_pct_h : 0.0) +
                      (double)u->extra_drain_pct_h;
        level -= rate * h;
    }
    u->battery_pct = (float)(level > 100.0 ? 100.0 : level < 0.0 ? 0.0 : level);
}

/* A status when the level crosses a 5 % step (either way) or a threshold
 * the centre cares about; the periodic status does the rest. */
static int battery_worth_reporting(const struct vg_mobile_unit *u)
{
    int now = battery_byte(u), before = u->reported_battery;
    if (now < 0)
        return 0;
    if (before < 0)
        return 1;
    return now / 5 != before / 5 || (now <= 10 && now != before);
}

/* ---- connection ------------------------------------------------------------ */

static void out_reset(struct vg_mobile_unit *u)
{
    u->out_len = 0;
    u->out_off = 0;
}

static void schedule_retry(struct vg_mobile_unit *u, int64_t now_ms, int64_t delay_ms)
{
    double jitter = 0.8 + 0.4 * vg_prng_uniform(&u->prng);
    u->retry_at_ms = now_ms + (int64_t)((double)delay_ms * jitter);
}

int vg_unit_init(struct vg_mobile_unit *u, const struct vg_unit_params *p,
                 const struct vg_unit_hooks *h, struct vg_ring *ring, int64_t now_ms)
{
    if (!u || !p || !ring || (p->role != VG_UNIT_AUTHOR && p->role != VG_UNIT_PROTECTED) ||
        p->n_servers < 1 || p->n_servers > VG_UNIT_MAX_SERVERS || p->report_interval_ms == 0 ||
        p->heartbeat_interval_ms == 0 || p->status_interval_ms == 0 || p->max_in_flight == 0 ||
        p->max_frame_records == 0 || p->max_frame_records > VG_PROTO_MAX_RECORDS ||
        p->backoff_min_ms == 0 || p->backoff_max_ms < p->backoff_min_ms ||
        !(p->battery_pct >= 0.0f && p->battery_pct <= 100.0f))
        return VG_EINVAL;
    memset(u, 0, sizeof *u);
    u->p = *p;
    if (h)
        u->hooks = *h;
    u->ring = ring;
    vg_prng_seed(&u->prng, p->seed);
    u->out_cap = VG_PROTO_HEADER_LEN + 2 + (size_t)p->max_frame_records * RECORD_MAX_BYTES +
                 VG_UNIT_RECENT_COMMANDS * COMMAND_ACK_MAX_BYTES + 128;
    u->out = malloc(u->out_cap);
    if (!u->out)
        return VG_ENOSPC;
    u->report_interval_ms = p->report_interval_ms;
    u->heartbeat_interval_ms = p->heartbeat_interval_ms;
    load_meta(u);
    u->boot_count++;
    save_meta(u);
    uint64_t kept = vg_unit_pending(u);

    u->powered = 1;
    u->link = VG_LINK_DOWN;
    u->retry_at_ms = now_ms; /* connect at once */
    u->backoff_ms = p->backoff_min_ms;
    u->link_since_ms = now_ms;
    u->gnss.quality = VG_FIX_NONE;
    u->strap_closed = is_author(u) ? 1 : -1;
    u->skin_contact = is_author(u) ? 1 : -1;
    u->bracelet_link = is_author(u) ? 1 : -1;
    u->charging = 0;
    u->beacon_heard = is_author(u) ? -1 : 0;
    u->reported_battery = -1;
    u->reported_strap = u->reported_skin = u->reported_link = u->reported_charging = -1;
    u->battery_pct = p->battery_model ? p->battery_pct : -1.0f;
    u->battery_t_ms = now_ms;

    /* on: said, then what the unit knows of itself, then a first fix */
    record_event(u, VG_EVENT_POWER_ON, 0, now_ms);
    record_self_status(u, 0, now_ms);
    if (is_author(u))
        record_bracelet_status(u, 0, now_ms);
    u->next_status_ms = now_ms + u->p.status_interval_ms;
    u->next_fix_ms = now_ms + u->report_interval_ms;
    ulog(u, "info", "started: boot %u, %llu records kept from before", u->boot_count,
         (unsigned long long)kept);
    return VG_OK;
}

void vg_unit_free(struct vg_mobile_unit *u)
{
    if (u) {
        free(u->out);
        u->out = NULL;
    }
}

uint64_t vg_unit_pending(const struct vg_mobile_unit *u)
{
    struct vg_ring_stats st;
    vg_ring_get_stats(u->ring, &st);
    return st.pending;
}

int vg_unit_want_connect(struct vg_mobile_unit *u, int64_t now_ms, unsigned *server)
{
    if (!u->powered || u->link != VG_LINK_DOWN || now_ms < u->retry_at_ms)
        return 0;
    u->link = VG_LINK_CONNECTING;
    u->link_since_ms = now_ms;
    u->want_close = 0;
    u->last_error = 0;
    u->n.connect_attempts++;
    if (server)
        *server = u->server;
    return 1;
}

void vg_unit_connected(struct vg_mobile_unit *u, int64_t now_ms)
{
    if (u->link != VG_LINK_CONNECTING)
        return;
    u->link = VG_LINK_HELLO;
    u->link_since_ms = now_ms;
    u->in_len = 0;
    out_reset(u);
    struct vg_proto_hello hello = {.version_min = VG_PROTO_VERSION,
                                   .version_max = VG_PROTO_VERSION,
                                   .boot_count = u->boot_count};
    snprintf(hello.firmware, sizeof hello.firmware, "%s", u->p.firmware);
    size_t w = 0;
    if (vg_proto_encode_hello(u->out, u->out_cap, &hello, &w) == VG_OK)
        u->out_len = w;
}

void vg_unit_disconnected(struct vg_mobile_unit *u, int64_t now_ms)
{
    if (u->link == VG_LINK_DOWN)
        return;
    int had_session = u->link == VG_LINK_UP;
    int lasted = had_session && now_ms - u->link_since_ms >= (int64_t)u->p.session_lasted_ms;
    if (had_session)
        u->n.disconnects++;
    u->link = VG_LINK_DOWN;
    u->link_since_ms = now_ms;
    u->want_close = 0;
    u->in_flight = 0;
    u->in_len = 0;
    out_reset(u);
    u->n_pending_acks = 0; /* the centre sends unconfirmed commands again */

    int64_t delay;
    if (lasted) {
        u->failures = 0;
        u->backoff_ms = u->p.backoff_min_ms;
        delay = u->backoff_ms;
    } else {
        if (u->failures < 255)
            u->failures++;
        delay = u->backoff_ms;
        u->backoff_ms =
            u->backoff_ms > u->p.backoff_max_ms / 2 ? u->p.backoff_max_ms : u->backoff_ms * 2;
    }
    switch (u->last_error) {
    case VG_PROTO_ERR_VERSION: delay = 3600000; break;     /* a firmware update is needed */
    case VG_PROTO_ERR_UNKNOWN_UNIT: delay = 300000; break; /* until it is assigned */
    default: break;
    }
    /* the other site when this one did not give a session, or asked us to go */
    if (u->p.n_servers > 1 && (!had_session || u->last_error == VG_PROTO_ERR_OVERLOADED ||
                               u->last_error == VG_PROTO_ERR_SHUTDOWN))
        u->server = (uint8_t)((u->server + 1) % u->p.n_servers);
    schedule_retry(u, now_ms, delay);
}

int vg_unit_want_close(const struct vg_mobile_unit *u)
{
    return u->want_close;
}

static void request_close(struct vg_mobile_unit *u, const char *why)
{
    if (!u->want_close)
        ulog(u, "warn", "closing the connection: %s", why);
    u->want_close = 1;
}

/* ---- commands ----------------------------------------------------------------- */

static void queue_command_ack(struct vg_mobile_unit *u, uint32_t id, uint8_t status)
{
    if (u->n_pending_acks >= VG_UNIT_RECENT_COMMANDS)
        return; /* not confirmed: the centre will send it again */
    u->pending_acks[u->n_pending_acks] = id;
    u->pending_ack_status[u->n_pending_acks] = status;
    u->n_pending_acks++;
}

/* 1 if this command id was already carried out: confirm it, do not repeat
 * it (a reconnection must never ring twice). */
static int command_seen(struct vg_mobile_unit *u, uint32_t id)
{
    for (int i = 0; i < VG_UNIT_RECENT_COMMANDS; i++)
        if (u->recent_cmds[i] == id && id != 0) {
            queue_command_ack(u, id, 0);
            return 1;
        }
    return 0;
}

static void command_done(struct vg_mobile_unit *u, uint32_t id)
{
    u->recent_cmds[u->recent_next] = id;
    u->recent_next = (uint8_t)((u->recent_next + 1) % VG_UNIT_RECENT_COMMANDS);
    save_meta(u); /* before confirming: a reboot must remember it */
    queue_command_ack(u, id, 0);
    u->n.commands++;
}

static void set_intervals(struct vg_mobile_unit *u, uint32_t report_ms, uint32_t heartbeat_ms,
                          int64_t now_ms)
{
    int changed = 0;
    if (report_ms > 0 && report_ms != u->report_interval_ms) {
        u->report_interval_ms = report_ms;
        u->next_fix_ms = min64(u->next_fix_ms, now_ms + report_ms);
        changed = 1;
    }
    if (heartbeat_ms > 0 && heartbeat_ms != u->heartbeat_interval_ms) {
        u->heartbeat_interval_ms = heartbeat_ms;
        changed = 1;
    }
    if (changed) {
        save_meta(u);
        ulog(u, "info", "reporting every %u ms, heartbeat every %u ms", u->report_interval_ms,
             u->heartbeat_interval_ms);
    }
}

void vg_unit_params_override(struct vg_mobile_unit *u, uint32_t report_ms, uint32_t heartbeat_ms,
                             int64_t now_ms)
{
    set_intervals(u, report_ms, heartbeat_ms, now_ms);
}

static void on_acknowledged(struct vg_mobile_unit *u, uint64_t before, int64_t now_ms)
{
    uint64_t after = vg_unit_pending(u);
    uint64_t done = before > after ? before - after : 0;
    u->n.acked += done;
    u->in_flight = u->in_flight > done ? u->in_flight - done : 0;
    u->last_ack_ms = now_ms;
}

static int handle_frame(struct vg_mobile_unit *u, uint8_t type, const uint8_t *payload, size_t len,
                        int64_t now_ms)
{
    if (u->link == VG_LINK_HELLO && type != VG_PROTO_WELCOME && type != VG_PROTO_ERROR)
        return VG_EFORMAT; /* nothing but WELCOME or ERROR may answer HELLO */
    switch (type) {
    case VG_PROTO_WELCOME: {
        struct vg_proto_welcome w;
        if (u->link != VG_LINK_HELLO || vg_proto_decode_welcome(payload, len, &w) != VG_OK ||
            w.version != VG_PROTO_VERSION)
            return VG_EFORMAT;
        uint64_t before = vg_unit_pending(u);
        if (vg_ring_ack(u->ring, w.acked_seq, NULL, 0) == VG_ERANGE)
            ulog(u, "warn", "the centre says it stored up to %llu, beyond our last record",
                 (unsigned long long)w.acked_seq);
        u->link = VG_LINK_UP;
        u->link_since_ms = now_ms;
        u->in_flight = 0;
        on_acknowledged(u, before, now_ms);
        u->in_flight = 0;
        vg_ring_session_start(u->ring);
        set_intervals(u, w.report_interval_ms, w.heartbeat_interval_ms, now_ms);
        u->n.sessions++;
        ulog(u, "info", "in session: the centre holds up to %llu, %llu to send",
             (unsigned long long)w.acked_seq, (unsigned long long)vg_unit_pending(u));
        return VG_OK;
    }
    case VG_PROTO_ACK: {
        struct vg_proto_ack a;
        if (vg_proto_decode_ack(payload, len, &a) != VG_OK)
            return VG_EFORMAT;
        uint64_t before = vg_unit_pending(u);
        if (vg_ring_ack(u->ring, a.cumulative, a.extra, a.n_extra) == VG_ERANGE)
            ulog(u, "warn", "an acknowledgement beyond our last record (%llu)",
                 (unsigned long long)a.cumulative);
        on_acknowledged(u, before, now_ms);
        return VG_OK;
    }
    case VG_PROTO_CONFIG: {
        struct vg_proto_config c;
        if (vg_proto_decode_config(payload, len, &c) != VG_OK)
            return VG_EFORMAT;
        if (!command_seen(u, c.command_id)) {
            set_intervals(u, c.report_interval_ms, c.heartbeat_interval_ms, now_ms);
            command_done(u, c.command_id);
        }
        return VG_OK;
    }
    case VG_PROTO_RING: {
        struct vg_proto_ring r;
        if (vg_proto_decode_ring(payload, len, &r) != VG_OK)
            return VG_EFORMAT;
        if (!command_seen(u, r.command_id)) {
            if (u->hooks.ring)
                u->hooks.ring(u->hooks.ctx, VG_UNIT_RING_CENTRE, r.level, r.message, r.vibrate_ms,
                              r.sound);
            command_done(u, r.command_id);
        }
        return VG_OK;
    }
    case VG_PROTO_POSITION_REQUEST: {
        struct vg_proto_position_request r;
        if (vg_proto_decode_position_request(payload, len, &r) != VG_OK)
            return VG_EFORMAT;
        if (!command_seen(u, r.command_id)) {
            u->position_requested = 1;
            /* a fresh fix in hand goes at once; otherwise the next one */
            if (u->gnss.quality != VG_FIX_NONE &&
                now_ms - u->gnss_rx_ms <= (int64_t)u->p.gnss_fresh_ms) {
                record_fix(u, now_ms);
                u->position_requested = 0;
            }
            command_done(u, r.command_id);
        }
        return VG_OK;
    }
    case VG_PROTO_ERROR: {
        struct vg_proto_error_msg e;
        if (vg_proto_decode_error(payload, len, &e) != VG_OK)
            return VG_EFORMAT;
        u->n.errors_received++;
        u->last_error = e.code;
        ulog(u, "warn", "the centre ends the session: error %u (%s)", e.code, e.message);
        request_close(u, "error from the centre");
        return VG_OK;
    }
    default: return VG_EFORMAT; /* a unit-bound type from the centre */
    }
}

int vg_unit_received(struct vg_mobile_unit *u, const uint8_t *buf, size_t len, int64_t now_ms)
{
    if (u->link != VG_LINK_HELLO && u->link != VG_LINK_UP)
        return VG_OK; /* late bytes of a connection being closed */
    while (len > 0 || u->in_len > 0) {
        size_t take = sizeof u->in - u->in_len;
        if (take > len)
            take = len;
        memcpy(u->in + u->in_len, buf, take);
        u->in_len += take;
        buf += take;
        len -= take;

        size_t off = 0;
        for (;;) {
            struct vg_proto_header hdr;
            const uint8_t *payload;
            size_t frame_len;
            int rc = vg_proto_frame(u->in + off, u->in_len - off, &hdr, &payload, &frame_len);
            if (rc == VG_AGAIN) {
                /* the centre's frames are small: one that cannot fit here
                 * is not one of them */
                if (u->in_len - off >= VG_PROTO_HEADER_LEN &&
                    hdr.length > sizeof u->in - VG_PROTO_HEADER_LEN) {
                    request_close(u, "a frame from the centre is too large");
                    return VG_EFORMAT;
                }
                break;
            }
            if (rc != VG_OK || handle_frame(u, hdr.type, payload, hdr.length, now_ms) != VG_OK) {
                request_close(u, "malformed frame from the centre");
                return VG_EFORMAT;
            }
            off += frame_len;
            if (u->want_close)
                return VG_OK;
        }
        memmove(u->in, u->in + off, u->in_len - off);
        u->in_len -= off;
        if (len == 0)
            break;
    }
    return VG_OK;
}

/* ---- output ------------------------------------------------------------------------ */

static void produce(struct vg_mobile_unit *u, int64_t now_ms)
{
    out_reset(u);
    if (u->link != VG_LINK_UP || u->want_close)
        return;
    while (u->n_pending_acks > 0 && u->out_len + COMMAND_ACK_MAX_BYTES <= u->out_cap) {
        struct vg_proto_command_ack a = {.command_id = u->pending_acks[0],
                                         .status = u->pending_ack_status[0]};
        size_t w = 0;
        if (vg_proto_encode_command_ack(u->out + u->out_len, u->out_cap - u->out_len, &a, &w) !=
            VG_OK)
            break;
        u->out_len += w;
        u->n_pending_acks--;
        memmove(u->pending_acks, u->pending_acks + 1, u->n_pending_acks * sizeof(uint32_t));
        memmove(u->pending_ack_status, u->pending_ack_status + 1, u->n_pending_acks);
    }
    if (u->in_flight >= u->p.max_in_flight)
        return;
    size_t room = u->out_cap - u->out_len;
    if (room < VG_PROTO_HEADER_LEN + 2 + RECORD_MAX_BYTES)
        return;
    uint64_t n_max = (room - VG_PROTO_HEADER_LEN - 2) / RECORD_MAX_BYTES;
    if (n_max > u->p.max_frame_records)
        n_max = u->p.max_frame_records;
    if (n_max > u->p.max_in_flight - u->in_flight)
        n_max = u->p.max_in_flight - u->in_flight;
    struct vg_proto_record recs[VG_PROTO_MAX_RECORDS];
    size_t n = 0;
    while (n < n_max && vg_ring_next(u->ring, &recs[n]) == 1) {
        if (recs[n].type == VG_REC_EVENT && recs[n].event.kind == VG_EVENT_RECORD_LOST)
            recs[n].event.time_ms = now_ms; /* the ring's notice: stamped when sent */
        n++;
    }
    if (n == 0)
        return;
    size_t w = 0;
    int rc = vg_proto_encode_records(u->out + u->out_len, room, recs, n, &w);
    if (rc != VG_OK) {
        /* cannot happen with records from our own ring; if it does, a new
         * session sends them again rather than losing them */
        ulog(u, "error", "cannot encode %zu records (%d)", n, rc);
        request_close(u, "encoding error");
        return;
    }
    if (u->in_flight == 0)
        u->last_ack_ms = now_ms; /* the acknowledgement clock starts now */
    u->out_len += w;
    u->in_flight += n;
    u->n.records_sent += n;
}

size_t vg_unit_output(struct vg_mobile_unit *u, int64_t now_ms, const uint8_t **bytes)
{
    if (u->out_off >= u->out_len)
        produce(u, now_ms);
    *bytes = u->out + u->out_off;
    return u->out_len - u->out_off;
}

void vg_unit_output_consumed(struct vg_mobile_unit *u, size_t n)
{
    u->out_off += n;
    if (u->out_off > u->out_len)
        u->out_off = u->out_len;
}

/* ---- inputs ----------------------------------------------------------------------- */

void vg_unit_gnss(struct vg_mobile_unit *u, const struct vg_fix *fix, int64_t now_ms)
{
    u->gnss = *fix;
    u->gnss_rx_ms = now_ms;
    if (u->powered && u->position_requested && fix->quality != VG_FIX_NONE) {
        record_fix(u, now_ms);
        u->position_requested = 0;
    }
}

void vg_unit_network(struct vg_mobile_unit *u, const struct vg_fix *net, int64_t now_ms)
{
    if (!net || net->quality != VG_FIX_NETWORK || vg_fix_check(net) != VG_OK) {
        u->net.quality = VG_FIX_NONE;
        return;
    }
    u->net = *net;
    u->net.speed_mps = -1.0f; /* an estimate has no course */
    u->net.heading_deg = -1.0f;
    u->net_rx_ms = now_ms;
}

/* A unit being switched off says so, and keeps its connection a few
 * seconds for that last record to be acknowledged: "switched off" and
 * "cannot be heard" are different alarms at the centre. */
#define LAST_WORDS_MS 10000

static void power_off(struct vg_mobile_unit *u, int64_t now_ms, int flat)
{
    record_event(u, VG_EVENT_POWER_OFF, 1, now_ms);
    ulog(u, "warn", "switching off: %s", flat ? "the battery is flat" : "asked to");
    u->powered = 0;
    u->off_flat = (uint8_t)flat;
    u->off_at_ms = now_ms + LAST_WORDS_MS;
}

static void power_on(struct vg_mobile_unit *u, int64_t now_ms)
{
    u->powered = 1;
    u->off_flat = 0;
    u->boot_count++;
    save_meta(u);
    record_event(u, VG_EVENT_POWER_ON, 0, now_ms);
    record_self_status(u, 0, now_ms);
    u->next_fix_ms = now_ms;
    u->retry_at_ms = now_ms;
    u->backoff_ms = u->p.backoff_min_ms;
    ulog(u, "info", "switched on");
}

int vg_unit_input(struct vg_mobile_unit *u, unsigned input, int value, int64_t now_ms)
{
    int author = is_author(u);
    battery_update(u, now_ms);
    if (input == VG_UNIT_IN_POWER) {
        if (value != 0 && value != 1)
            return VG_EINVAL;
        if (value == 1 && !u->powered)
            power_on(u, now_ms);
        else if (value == 0 && u->powered)
            power_off(u, now_ms, 0);
        return VG_OK;
    }
    if (input == VG_UNIT_IN_CHARGING) {
        if (value != 0 && value != 1)
            return VG_EINVAL;
        if (u->charging != value) {
            u->charging = (int8_t)value;
            if (u->powered)
                record_self_status(u, 0, now_ms);
        }
        return VG_OK;
    }
    if (!u->powered)
        return VG_ESTATE; /* a switched-off unit sees nothing */
    switch (input) {
    case VG_UNIT_IN_SOS:
    case VG_UNIT_IN_CALLBACK:
        if (author)
            return VG_EINVAL;
        /* both are calls for help: ahead of the backlog */
        record_event(u, input == VG_UNIT_IN_SOS ? VG_EVENT_SOS : VG_EVENT_CALLBACK_REQUEST, 1,
                     now_ms);
        ulog(u, "warn", "%s pressed", input == VG_UNIT_IN_SOS ? "SOS" : "call-back");
        return VG_OK;
    case VG_UNIT_IN_STRAP:
    case VG_UNIT_IN_SKIN: {
        if (!author || (value != 0 && value != 1))
            return VG_EINVAL;
        int8_t *cur = input == VG_UNIT_IN_STRAP ? &u->strap_closed : &u->skin_contact;
        if (*cur != value) {
            *cur = (int8_t)value;
            record_bracelet_status(u, value == 0, now_ms); /* a tamper is an alarm */
        }
        return VG_OK;
    }
    case VG_UNIT_IN_BRACELET_LINK:
        if (!author || (value != 0 && value != 1))
            return VG_EINVAL;
        if (u->bracelet_link != value) {
            u->bracelet_link = (int8_t)value;
            record_self_status(u, value == 0, now_ms);
        }
        return VG_OK;
    case VG_UNIT_IN_BATTERY:
        if (value < 0 || value > 100)
            return VG_EINVAL;
        u->battery_pct = (float)value;
        if (battery_worth_reporting(u))
            record_self_status(u, 0, now_ms);
        return VG_OK;
    default: return VG_EINVAL;
    }
}

void vg_unit_beacon(struct vg_mobile_unit *u, double range_m, int64_t now_ms)
{
    if (is_author(u) || !u->powered || !(range_m == range_m))
        return;
    if (range_m < 0)
        return; /* one scan without it says little: the timeout decides */
    u->beacon_last_ms = now_ms;
    u->beacon_range_m = (float)range_m;
    if (u->beacon_heard == 1)
        return;
    u->beacon_heard = 1;
    /* her protection must not depend on the network nor on the centre:
     * the unit warns her itself, then tells the centre, as an alarm */
    if (u->hooks.ring)
        u->hooks.ring(u->hooks.ctx, VG_UNIT_RING_LOCAL, 2,
                      "Le porteur du bracelet est tout proche : mettez-vous en sécurité, "
                      "appelez le 17",
                      3000, 0);
    ulog(u, "warn", "the bracelet's beacon is heard at about %.0f m", range_m);
    record_self_status(u, 1, now_ms);
}

void vg_unit_drain(struct vg_mobile_unit *u, int64_t now_ms)
{
    u->draining = 1;
    if (!u->powered) {
        u->powered = 1;
        u->off_flat = 0;
    }
    if (u->link == VG_LINK_DOWN && u->retry_at_ms > now_ms)
        u->retry_at_ms = now_ms;
}

void vg_unit_set_extra_drain(struct vg_mobile_unit *u, double pct_per_h)
{
    u->extra_drain_pct_h = (float)(pct_per_h > 0 ? pct_per_h : 0);
}

/* ---- time --------------------------------------------------------------------------- */

void vg_unit_tick(struct vg_mobile_unit *u, int64_t now_ms)
{
    battery_update(u, now_ms);
    if (u->powered && !u->draining && u->p.battery_model && u->battery_pct <= 0.0f &&
        u->charging != 1)
        power_off(u, now_ms, 1);
    if (!u->powered && u->off_flat && u->charging == 1 && u->battery_pct >= 2.0f)
        power_on(u, now_ms); /* a flat unit put on its charger starts again by itself */
    if (!u->powered && u->link != VG_LINK_DOWN &&
        (vg_unit_pending(u) == 0 || now_ms >= u->off_at_ms))
        request_close(u, "switched off");
    /* the connection's clocks run even while switched off (to close it) */
    if (u->link == VG_LINK_UP && u->in_flight > 0 &&
        now_ms - u->last_ack_ms > (int64_t)u->p.ack_timeout_ms)
        request_close(u, "no acknowledgement in time");
    if ((u->link == VG_LINK_HELLO || u->link == VG_LINK_CONNECTING) &&
        now_ms - u->link_since_ms > (int64_t)u->p.welcome_timeout_ms)
        request_close(u, u->link == VG_LINK_HELLO ? "no WELCOME in time" : "cannot connect");
    if (!u->powered || u->draining)
        return;

    if (now_ms >= u->next_fix_ms) {
        record_fix(u, now_ms);
        u->next_fix_ms += u->report_interval_ms;
        if (u->next_fix_ms <= now_ms) /* asleep for a while: no burst of catch-up fixes */
            u->next_fix_ms = now_ms + u->report_interval_ms;
    }
    if (u->beacon_heard == 1 && now_ms - u->beacon_last_ms > (int64_t)u->p.beacon_lost_ms) {
        u->beacon_heard = 0;
        ulog(u, "info", "the bracelet's beacon is no longer heard");
        if (u->hooks.ring)
            u->hooks.ring(u->hooks.ctx, VG_UNIT_RING_LOCAL, 0,
                          "Le bracelet n'est plus détecté à proximité", 0, 0);
        record_self_status(u, 0, now_ms);
    }
    if (now_ms >= u->next_status_ms || battery_worth_reporting(u) ||
        u->charging != u->reported_charging) {
        record_self_status(u, 0, now_ms);
        if (is_author(u) && now_ms >= u->next_status_ms)
            record_bracelet_status(u, 0, now_ms);
        u->next_status_ms = now_ms + u->p.status_interval_ms;
    }
    if (now_ms - u->last_record_ms >= (int64_t)u->heartbeat_interval_ms)
        record_event(u, VG_EVENT_HEARTBEAT, 0, now_ms);
}

int64_t vg_unit_next_deadline(const struct vg_mobile_unit *u)
{
    int64_t t = INT64_MAX;
    if (u->link == VG_LINK_DOWN && u->powered)
        t = min64(t, u->retry_at_ms);
    if (u->link == VG_LINK_UP && u->in_flight > 0)
        t = min64(t, u->last_ack_ms + u->p.ack_timeout_ms + 1);
    if (u->link == VG_LINK_HELLO || u->link == VG_LINK_CONNECTING)
        t = min64(t, u->link_since_ms + u->p.welcome_timeout_ms + 1);
    if (u->powered && !u->draining) {
        t = min64(t, u->next_fix_ms);
        t = min64(t, u->next_status_ms);
        t = min64(t, u->last_record_ms + u->heartbeat_interval_ms);
        if (u->beacon_heard == 1)
            t = min64(t, u->beacon_last_ms + u->p.beacon_lost_ms + 1);
    } else if (!u->powered) {
        if (u->link != VG_LINK_DOWN)
            t = min64(t, u->off_at_ms);
        if (u->off_flat && u->charging == 1)
            t = min64(t, u->battery_t_ms + 60000); /* check the charge now and then */
    }
    return t;
}
