/* The device protocol codec: the hex vectors of docs/PROTOCOL.md byte for
 * byte (the table below is their single source: the doc is checked against
 * it), seeded random round trips, partial input, and every way a frame can
 * be malformed, each refused with its code. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/prng.h"
#include "core/proto.h"
#include "testing.h"

#define T0        1782892800000LL /* 2026-07-01T08:00:00Z */
#define MAX_FRAME (VG_PROTO_HEADER_LEN + VG_PROTO_MAX_PAYLOAD)
#define MSG_RECS  8

/* One message of any type, as the tests handle them. */
struct msg {
    uint8_t type; /* enum vg_proto_type */
    union {
        struct vg_proto_hello hello;
        struct vg_proto_welcome welcome;
        struct vg_proto_ack ack;
        struct vg_proto_config config;
        struct vg_proto_ring ring;
        struct vg_proto_position_request position_request;
        struct vg_proto_command_ack command_ack;
        struct vg_proto_error_msg error;
    };
    size_t n_recs; /* RECORDS */
    struct vg_proto_record recs[MSG_RECS];
};

/* Scratch space shared by the tests (too big for the stack). */
static uint8_t frame_buf[MAX_FRAME + 64];
static uint8_t frame_buf2[MAX_FRAME + 64];
static struct vg_proto_record big_recs[VG_PROTO_MAX_RECORDS + 1];
static struct vg_proto_record big_recs2[VG_PROTO_MAX_RECORDS + 1];

/* ---- helpers ------------------------------------------------------------ */

/* Hex digits, whitespace ignored. */
static size_t from_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int half = -1;
    for (const char *c = hex; *c; c++) {
        int v = 0;
        if (*c >= '0' && *c <= '9')
            v = *c - '0';
        else if (*c >= 'a' && *c <= 'f')
            v = *c - 'a' + 10;
        else if (*c >= 'A' && *c <= 'F')
            v = *c - 'A' + 10;
        else if (*c == ' ' || *c == '\n' || *c == '\t' || *c == '\r')
            continue;
        else
            fail_msg("not hex: '%c' in %s", *c, hex);
        if (half < 0) {
            half = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(half << 4 | v);
            half = -1;
        }
    }
    assert_int_equal(half, -1);
    return n;
}

static int decode_records(const uint8_t *p, size_t len, struct vg_proto_record *recs, size_t cap,
                          size_t *n)
{
    struct vg_proto_records it;
    int rc = vg_proto_records_begin(&it, p, len);
    *n = 0;
    while (rc == VG_OK) {
        struct vg_proto_record r;
        rc = vg_proto_records_next(&it, &r);
        if (rc == 0)
            return VG_OK;
        if (rc < 0)
            break;
        assert_true(*n < cap);
        recs[(*n)++] = r;
        rc = VG_OK;
    }
    /* a refused iterator stays refused */
    struct vg_proto_record r;
    assert_int_equal(vg_proto_records_next(&it, &r), VG_EFORMAT);
    return rc;
}

/* Decode a buffer holding exactly one frame. The frame's code, or the
 * decoder's. */
static int decode(const uint8_t *buf, size_t len, struct msg *m)
{
    struct vg_proto_header h;
    const uint8_t *p = NULL;
    size_t frame_len = 0;
    int rc = vg_proto_frame(buf, len, &h, &p, &frame_len);
    if (rc != VG_OK)
        return rc;
    assert_int_equal(frame_len, len);
    assert_ptr_equal(p, buf + VG_PROTO_HEADER_LEN);
    assert_int_equal(h.version, VG_PROTO_VERSION);
    memset(m, 0, sizeof *m);
    m->type = h.type;
    switch (h.type) {
    case VG_PROTO_HELLO: return vg_proto_decode_hello(p, h.length, &m->hello);
    case VG_PROTO_WELCOME: return vg_proto_decode_welcome(p, h.length, &m->welcome);
    case VG_PROTO_ACK: return vg_proto_decode_ack(p, h.length, &m->ack);
    case VG_PROTO_CONFIG: return vg_proto_decode_config(p, h.length, &m->config);
    case VG_PROTO_RING: return vg_proto_decode_ring(p, h.length, &m->ring);
    case VG_PROTO_POSITION_REQUEST:
        return vg_proto_decode_position_request(p, h.length, &m->position_request);
    case VG_PROTO_COMMAND_ACK: return vg_proto_decode_command_ack(p, h.length, &m->command_ack);
    case VG_PROTO_ERROR: return vg_proto_decode_error(p, h.length, &m->error);
    case VG_PROTO_RECORDS: return decode_records(p, h.length, m->recs, MSG_RECS, &m->n_recs);
    default: fail_msg("frame type %u accepted", h.type);
    }
    return VG_EINVAL;
}

static int encode(const struct msg *m, uint8_t *out, size_t cap, size_t *written)
{
    switch (m->type) {
    case VG_PROTO_HELLO: return vg_proto_encode_hello(out, cap, &m->hello, written);
    case VG_PROTO_WELCOME: return vg_proto_encode_welcome(out, cap, &m->welcome, written);
    case VG_PROTO_ACK: return vg_proto_encode_ack(out, cap, &m->ack, written);
    case VG_PROTO_CONFIG: return vg_proto_encode_config(out, cap, &m->config, written);
    case VG_PROTO_RING: return vg_proto_encode_ring(out, cap, &m->ring, written);
    case VG_PROTO_POSITION_REQUEST:
        return vg_proto_encode_position_request(out, cap, &m->position_request, written);
    case VG_PROTO_COMMAND_ACK:
        return vg_proto_encode_command_ack(out, cap, &m->command_ack, written);
    case VG_PROTO_ERROR: return vg_proto_encode_error(out, cap, &m->error, written);
    case VG_PROTO_RECORDS: return vg_proto_encode_records(out, cap, m->recs, m->n_recs, written);
    default: fail_msg("no encoder for type %u", m->type);
    }
    return VG_EINVAL;
}

/* The wire keeps 1e-7 degree, 1 cm, 1 cm/s and 0.01 degree, rounded to
 * nearest: a decoded value is within half a unit of what was encoded (plus
 * the float's own rounding). */
static void assert_fix_near(const struct vg_fix *want, const struct vg_fix *got)
{
    assert_int_equal(got->time_ms, want->time_ms);
    assert_int_equal(got->quality, want->quality);
    if (want->quality == VG_FIX_NONE) {
        assert_true(got->lat_deg == 0 && got->lon_deg == 0 && got->accuracy_m == 0.0f);
        assert_true(got->speed_mps == -1.0f && got->heading_deg == -1.0f);
        return;
    }
    assert_near(got->lat_deg, want->lat_deg, 0.5e-7 + 1e-12);
    assert_near(got->lon_deg, want->lon_deg, 0.5e-7 + 1e-12);
    double acc = (double)want->accuracy_m;
    assert_near((double)got->accuracy_m, acc, 0.005 + acc * 1.2e-7);
    if (want->quality == VG_FIX_NETWORK) { /* a network estimate carries no course */
        assert_true(got->speed_mps == -1.0f && got->heading_deg == -1.0f);
        return;
    }
    if (want->speed_mps < 0)
        assert_true(got->speed_mps == -1.0f);
    else
        assert_near((double)got->speed_mps, (double)want->speed_mps, 0.005 + 1e-4);
    if (want->heading_deg < 0) {
        assert_true(got->heading_deg == -1.0f);
    } else {
        double d = fabs((double)got->heading_deg - (double)want->heading_deg);
        if (d > 180)
            d = 360 - d; /* 359.996 comes back as 0.00 */
        assert_true(d <= 0.005 + 1e-4);
    }
}

static void assert_record_near(const struct vg_proto_record *want,
                               const struct vg_proto_record *got)
{
    assert_int_equal(got->seq, want->seq);
    assert_int_equal(got->type, want->type);
    switch (want->type) {
    case VG_REC_FIX:
        assert_fix_near(&want->fix, &got->fix);
        assert_int_equal(got->subject, 0);
        break;
    case VG_REC_STATUS:
        assert_int_equal(got->subject, want->subject);
        assert_int_equal(got->status.time_ms, want->status.time_ms);
        assert_int_equal(got->status.battery_pct, want->status.battery_pct);
        assert_int_equal(got->status.charging, want->status.charging);
        assert_int_equal(got->status.strap_closed, want->status.strap_closed);
        assert_int_equal(got->status.skin_contact, want->status.skin_contact);
        assert_int_equal(got->status.bracelet_link, want->status.bracelet_link);
        assert_int_equal(got->status.beacon_heard, want->status.beacon_heard);
        assert_int_equal(got->status.beacon_range_m, want->status.beacon_range_m);
        break;
    case VG_REC_EVENT:
        assert_int_equal(got->event.time_ms, want->event.time_ms);
        assert_int_equal(got->event.kind, want->event.kind);
        break;
    case VG_REC_HEARTBEAT:
        assert_int_equal(got->event.time_ms, want->event.time_ms);
        assert_int_equal(got->event.kind, VG_EVENT_HEARTBEAT);
        break;
    default: fail_msg("record type %u", want->type);
    }
}

static void assert_msg_near(const struct msg *want, const struct msg *got)
{
    assert_int_equal(got->type, want->type);
    switch (want->type) {
    case VG_PROTO_HELLO:
        assert_int_equal(got->hello.version_min, want->hello.version_min);
        assert_int_equal(got->hello.version_max, want->hello.version_max);
        assert_int_equal(got->hello.boot_count, want->hello.boot_count);
        assert_string_equal(got->hello.firmware, want->hello.firmware);
        break;
    case VG_PROTO_WELCOME:
        assert_int_equal(got->welcome.version, want->welcome.version);
        assert_int_equal(got->welcome.server_time_ms, want->welcome.server_time_ms);
        assert_int_equal(got->welcome.acked_seq, want->welcome.acked_seq);
        assert_int_equal(got->welcome.report_interval_ms, want->welcome.report_interval_ms);
        assert_int_equal(got->welcome.heartbeat_interval_ms, want->welcome.heartbeat_interval_ms);
        break;
    case VG_PROTO_ACK:
        assert_int_equal(got->ack.cumulative, want->ack.cumulative);
        assert_int_equal(got->ack.n_extra, want->ack.n_extra);
        for (size_t i = 0; i < want->ack.n_extra; i++)
            assert_int_equal(got->ack.extra[i], want->ack.extra[i]);
        break;
    case VG_PROTO_CONFIG:
        assert_int_equal(got->config.command_id, want->config.command_id);
        assert_int_equal(got->config.report_interval_ms, want->config.report_interval_ms);
        assert_int_equal(got->config.heartbeat_interval_ms, want->config.heartbeat_interval_ms);
        break;
    case VG_PROTO_RING:
        assert_int_equal(got->ring.command_id, want->ring.command_id);
        assert_int_equal(got->ring.level, want->ring.level);
        assert_int_equal(got->ring.vibrate_ms, want->ring.vibrate_ms);
        assert_int_equal(got->ring.sound, want->ring.sound);
        assert_string_equal(got->ring.message, want->ring.message);
        break;
    case VG_PROTO_POSITION_REQUEST:
        assert_int_equal(got->position_request.command_id, want->position_request.command_id);
        break;
    case VG_PROTO_COMMAND_ACK:
        assert_int_equal(got->command_ack.command_id, want->command_ack.command_id);
        assert_int_equal(got->command_ack.status, want->command_ack.status);
        break;
    case VG_PROTO_ERROR:
        assert_int_equal(got->error.code, want->error.code);
        assert_string_equal(got->error.message, want->error.message);
        break;
    case VG_PROTO_RECORDS:
        assert_int_equal(got->n_recs, want->n_recs);
        for (size_t i = 0; i < want->n_recs; i++)
            assert_record_near(&want->recs[i], &got->recs[i]);
        break;
    default: fail_msg("type %u", want->type);
    }
}

/* ---- the vectors of docs/PROTOCOL.md ------------------------------------------ */

struct vector {
    const char *name;
    const char *hex;
    bool decode_only; /* carries an unknown field: our encoder never writes it */
    struct msg m;
};

#define FIX(t, lat, lon, acc, speed, heading, q)                                                   \
    {                                                                                              \
        .time_ms = (t), .lat_deg = (lat), .lon_deg = (lon), .accuracy_m = (acc),                   \
        .speed_mps = (speed), .heading_deg = (heading), .quality = (q)                             \
    }

static const struct vector vectors[] = {
    {"hello-minimal",
     "56 47 01 01 00 00 00 06\n"
     "01 01 01\n"
     "02 01 01\n",
     false,
     {.type = VG_PROTO_HELLO, .hello = {.version_min = 1, .version_max = 1}}},
    {"hello",
     "56 47 01 01 00 00 00 1e\n"
     "01 01 01\n"
     "02 01 01\n"
     "03 10 76 69 67 69 65 2d 75 6e 69 74 20 30 2e 31\n"
     "2e 30\n"
     "04 04 00 00 00 2a\n",
     false,
     {.type = VG_PROTO_HELLO,
      .hello =
          {.version_min = 1, .version_max = 1, .boot_count = 42, .firmware = "vigie-unit 0.1.0"}}},
    {"hello-unknown-field",
     "56 47 01 01 00 00 00 23\n"
     "01 01 01\n"
     "02 01 01\n"
     "10 03 01 02 03\n"
     "03 10 76 69 67 69 65 2d 75 6e 69 74 20 30 2e 31\n"
     "2e 30\n"
     "04 04 00 00 00 2a\n",
     true,
     {.type = VG_PROTO_HELLO,
      .hello =
          {.version_min = 1, .version_max = 1, .boot_count = 42, .firmware = "vigie-unit 0.1.0"}}},
    {"welcome-minimal",
     "56 47 01 81 00 00 00 17\n"
     "01 01 01\n"
     "02 08 00 00 01 9f 1c b1 28 7b\n"
     "03 08 00 00 00 00 00 00 00 00\n",
     false,
     {.type = VG_PROTO_WELCOME, .welcome = {.version = 1, .server_time_ms = T0 + 123}}},
    {"welcome",
     "56 47 01 81 00 00 00 23\n"
     "01 01 01\n"
     "02 08 00 00 01 9f 1c b1 28 7b\n"
     "03 08 00 00 00 00 00 00 04 d2\n"
     "04 04 00 00 75 30\n"
     "05 04 00 04 93 e0\n",
     false,
     {.type = VG_PROTO_WELCOME,
      .welcome = {.version = 1,
                  .server_time_ms = T0 + 123,
                  .acked_seq = 1234,
                  .report_interval_ms = 30000,
                  .heartbeat_interval_ms = 300000}}},
    {"ack",
     "56 47 01 82 00 00 00 09\n"
     "00 00 00 00 00 00 04 d8 00\n",
     false,
     {.type = VG_PROTO_ACK, .ack = {.cumulative = 1240}}},
    {"ack-extra",
     "56 47 01 82 00 00 00 19\n"
     "00 00 00 00 00 00 04 d8 02\n"
     "00 00 00 00 00 00 04 da\n"
     "00 00 00 00 00 00 04 dd\n",
     false,
     {.type = VG_PROTO_ACK, .ack = {.cumulative = 1240, .n_extra = 2, .extra = {1242, 1245}}}},
    {"config",
     "56 47 01 83 00 00 00 0c\n"
     "01 04 00 00 00 07\n"
     "02 04 00 00 13 88\n",
     false,
     {.type = VG_PROTO_CONFIG, .config = {.command_id = 7, .report_interval_ms = 5000}}},
    {"ring",
     "56 47 01 84 00 00 00 33\n"
     "01 04 00 00 00 08\n"
     "02 01 01\n"
     "03 24 50 72 c3 a9 2d 61 6c 65 72 74 65 20 3a 20\n"
     "6c 65 20 63 65 6e 74 72 65 20 76 6f 75 73 20 61\n"
     "70 70 65 6c 6c 65\n"
     "04 02 05 dc\n",
     false,
     {.type = VG_PROTO_RING,
      .ring = {.command_id = 8,
               .level = 1,
               .vibrate_ms = 1500,
               .message = "Pr\xc3\xa9-alerte : le centre vous appelle"}}},
    {"ring-quiet",
     "56 47 01 84 00 00 00 0c\n"
     "01 04 00 00 00 0a\n"
     "02 01 01\n"
     "05 01 01\n",
     false,
     {.type = VG_PROTO_RING, .ring = {.command_id = 10, .level = 1, .sound = 1}}},
    {"position-request",
     "56 47 01 85 00 00 00 06\n"
     "01 04 00 00 00 09\n",
     false,
     {.type = VG_PROTO_POSITION_REQUEST, .position_request = {.command_id = 9}}},
    {"command-ack",
     "56 47 01 03 00 00 00 09\n"
     "01 04 00 00 00 08\n"
     "02 01 00\n",
     false,
     {.type = VG_PROTO_COMMAND_ACK, .command_ack = {.command_id = 8, .status = 0}}},
    {"error",
     "56 47 01 86 00 00 00 1a\n"
     "01 02 00 04\n"
     "02 14 72 65 63 6f 72 64 73 20 62 65 66 6f 72 65\n"
     "20 68 65 6c 6c 6f\n",
     false,
     {.type = VG_PROTO_ERROR,
      .error = {.code = VG_PROTO_ERR_UNEXPECTED, .message = "records before hello"}}},
    {"records-fix",
     "56 47 01 02 00 00 00 35\n"
     "00 01\n"
     "01 00 00 27 00 00 00 00 00 00 04 d3\n"
     "01 08 00 00 01 9f 1c b1 28 00\n"
     "07 01 02\n"
     "02 04 1c 24 f3 9e\n"
     "03 04 ff 12 ef ae\n"
     "04 04 00 00 04 e2\n"
     "05 02 00 8a\n"
     "06 02 69 f5\n",
     false,
     {.type = VG_PROTO_RECORDS,
      .n_recs = 1,
      .recs = {{.seq = 1235,
                .type = VG_REC_FIX,
                .fix = FIX(T0, 47.218371, -1.553621, 12.5f, 1.38f, 271.25f, VG_FIX_3D)}}}},
    {"records-fix-unknown-field",
     "56 47 01 02 00 00 00 39\n"
     "00 01\n"
     "01 00 00 2b 00 00 00 00 00 00 04 d3\n"
     "01 08 00 00 01 9f 1c b1 28 00\n"
     "07 01 02\n"
     "02 04 1c 24 f3 9e\n"
     "03 04 ff 12 ef ae\n"
     "04 04 00 00 04 e2\n"
     "05 02 00 8a\n"
     "06 02 69 f5\n"
     "20 02 00 64\n",
     true,
     {.type = VG_PROTO_RECORDS,
      .n_recs = 1,
      .recs = {{.seq = 1235,
                .type = VG_REC_FIX,
                .fix = FIX(T0, 47.218371, -1.553621, 12.5f, 1.38f, 271.25f, VG_FIX_3D)}}}},
    {"records-no-fix",
     "56 47 01 02 00 00 00 1b\n"
     "00 01\n"
     "01 00 00 0d 00 00 00 00 00 00 04 d4\n"
     "01 08 00 00 01 9f 1c b1 2b e8\n"
     "07 01 00\n",
     false,
     {.type = VG_PROTO_RECORDS,
      .n_recs = 1,
      .recs = {{.seq = 1236,
                .type = VG_REC_FIX,
                .fix = FIX(T0 + 1000, 0, 0, 0.0f, -1.0f, -1.0f, VG_FIX_NONE)}}}},
    {"records-network-fix",
     "56 47 01 02 00 00 00 30\n"
     "00 01\n"
     "01 00 00 22 00 00 00 00 00 00 04 d8\n"
     "01 08 00 00 01 9f 1c b1 33 b8\n"
     "07 01 00\n"
     "02 04 1c 25 33 40\n"
     "03 04 ff 13 7d 20\n"
     "04 04 00 01 4c 08\n"
     "08 01 01\n",
     false,
     {.type = VG_PROTO_RECORDS,
      .n_recs = 1,
      .recs = {{.seq = 1240,
                .type = VG_REC_FIX,
                .fix = FIX(T0 + 3000, 47.22, -1.55, 850.0f, -1.0f, -1.0f, VG_FIX_NETWORK)}}}},
    {"records-status",
     "56 47 01 02 00 00 00 43\n"
     "00 02\n"
     "02 00 00 13 00 00 00 00 00 00 04 d5\n"
     "01 08 00 00 01 9f 1c b1 2f d0\n"
     "02 01 4c\n"
     "03 01 00\n"
     "06 01 01\n"
     "02 00 00 16 00 00 00 00 00 00 04 d6\n"
     "01 08 00 00 01 9f 1c b1 2f d0\n"
     "02 01 5a\n"
     "04 01 01\n"
     "05 01 01\n"
     "07 01 01\n",
     false,
     {.type = VG_PROTO_RECORDS,
      .n_recs = 2,
      .recs = {{.seq = 1237,
                .type = VG_REC_STATUS,
                .subject = VG_SUBJECT_SELF,
                .status = {T0 + 2000, 76, 0, -1, -1, 1, -1, -1}},
               {.seq = 1238,
                .type = VG_REC_STATUS,
                .subject = VG_SUBJECT_BRACELET,
                .status = {T0 + 2000, 90, -1, 1, 1, -1, -1, -1}}}}},
    {"records-event",
     "56 47 01 02 00 00 00 1b\n"
     "00 01\n"
     "03 00 00 0d 00 00 00 00 00 00 04 d7\n"
     "01 08 00 00 01 9f 1c b1 33 b8\n"
     "02 01 02\n",
     false,
     {.type = VG_PROTO_RECORDS,
      .n_recs = 1,
      .recs = {{.seq = 1239, .type = VG_REC_EVENT, .event = {T0 + 3000, VG_EVENT_SOS}}}}},
    {"records-heartbeat",
     "56 47 01 02 00 00 00 18\n"
     "00 01\n"
     "04 00 00 0a 00 00 00 00 00 00 04 d8\n"
     "01 08 00 00 01 9f 1c b2 12 60\n",
     false,
     {.type = VG_PROTO_RECORDS,
      .n_recs = 1,
      .recs =
          {{.seq = 1240, .type = VG_REC_HEARTBEAT, .event = {T0 + 60000, VG_EVENT_HEARTBEAT}}}}},
};

static size_t vector_bytes(const struct vector *v, uint8_t *out, size_t cap)
{
    return from_hex(v->hex, out, cap);
}

/* Each vector decodes to its values and (unless it carries an unknown
 * field) is exactly what the encoder writes for them. */
static void test_vectors(void **state)
{
    (void)state;
    bool seen_type[256] = {false}, seen_rec[8] = {false};
    for (size_t i = 0; i < ARRAY_LEN(vectors); i++) {
        const struct vector *v = &vectors[i];
        uint8_t bytes[512], out[512];
        size_t n = vector_bytes(v, bytes, sizeof bytes);
        struct msg got;
        int rc = decode(bytes, n, &got);
        if (rc != VG_OK)
            fail_msg("%s: decode %d", v->name, rc);
        assert_msg_near(&v->m, &got);
        seen_type[v->m.type] = true;
        for (size_t k = 0; k < v->m.n_recs; k++)
            seen_rec[v->m.recs[k].type] = true;
        size_t w = 0;
        if (v->decode_only) {
            /* without the unknown field, it is what we write */
            assert_int_equal(encode(&got, out, sizeof out, &w), VG_OK);
            assert_true(w < n);
            continue;
        }
        assert_int_equal(encode(&v->m, out, sizeof out, &w), VG_OK);
        if (w != n || memcmp(out, bytes, n) != 0)
            fail_msg("%s: the encoder does not write the vector", v->name);
    }
    /* at least one vector per message and per record type */
    static const uint8_t types[] = {
        VG_PROTO_HELLO, VG_PROTO_RECORDS, VG_PROTO_COMMAND_ACK, VG_PROTO_WELCOME,
        VG_PROTO_ACK,   VG_PROTO_CONFIG,  VG_PROTO_RING,        VG_PROTO_POSITION_REQUEST,
        VG_PROTO_ERROR};
    for (size_t i = 0; i < ARRAY_LEN(types); i++)
        assert_true(seen_type[types[i]]);
    for (unsigned t = VG_REC_FIX; t <= VG_REC_HEARTBEAT; t++)
        assert_true(seen_rec[t]);
}

/* The doc, found next to this file's source. */
static FILE *open_doc(char *path, size_t cap)
{
    const char *self = __FILE__, *tail = "tests/unit/test_proto.c";
    size_t n = strlen(self), t = strlen(tail);
    assert_true(n >= t && strcmp(self + n - t, tail) == 0);
    snprintf(path, cap, "%.*sdocs/PROTOCOL.md", (int)(n - t), self);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s (run from the build directory, as meson test does)", path);
    return f;
}

/* Every ```hex NAME block of docs/PROTOCOL.md is a vector of the table with
 * the same bytes, and every vector of the table is in the doc once. */
static void test_vectors_in_doc(void **state)
{
    (void)state;
    char path[4096], line[1024], name[128] = "", hex[4096] = "";
    FILE *f = open_doc(path, sizeof path);
    size_t found[ARRAY_LEN(vectors)] = {0};
    bool in_block = false;
    size_t blocks = 0;
    while (fgets(line, sizeof line, f)) {
        if (!in_block) {
            if (strncmp(line, "```hex ", 7) == 0) {
                in_block = true;
                snprintf(name, sizeof name, "%s", line + 7);
                name[strcspn(name, " \r\n")] = '\0';
                hex[0] = '\0';
            }
            continue;
        }
        if (strncmp(line, "```", 3) != 0) {
            assert_true(strlen(hex) + strlen(line) < sizeof hex);
            strcat(hex, line);
            continue;
        }
        in_block = false;
        blocks++;
        size_t i = 0;
        while (i < ARRAY_LEN(vectors) && strcmp(vectors[i].name, name) != 0)
            i++;
        if (i == ARRAY_LEN(vectors))
            fail_msg("%s: vector %s is not in the test's table", path, name);
        found[i]++;
        uint8_t a[512], b[512];
        size_t na = from_hex(hex, a, sizeof a), nb = vector_bytes(&vectors[i], b, sizeof b);
        if (na != nb || memcmp(a, b, na) != 0)
            fail_msg("%s: vector %s differs from the test's table", path, name);
    }
    fclose(f);
    assert_false(in_block);
    for (size_t i = 0; i < ARRAY_LEN(vectors); i++)
        if (found[i] != 1)
            fail_msg("%s: vector %s appears %zu times", path, vectors[i].name, found[i]);
    assert_int_equal(blocks, ARRAY_LEN(vectors));
}

/* ---- random messages ----------------------------------------------------- */

static uint64_t below(struct vg_prng *r, uint64_t n)
{
    return vg_prng_next(r) % n;
}

/* Valid UTF-8 of up to max bytes: ASCII, 2-, 3- and 4-byte sequences. */
static void random_text(struct vg_prng *r, char *out, size_t max)
{
    static const char *const pieces[] = {"a",
                                         "Z",
                                         "0",
                                         " ",
                                         ":",
                                         "\n",
                                         "\xc3\xa9",
                                         "\xc3\x9f",
                                         "\xe2\x82\xac",
                                         "\xef\xbf\xbd",
                                         "\xf0\x9f\x98\x80",
                                         "\xf4\x8f\xbf\xbf",
                                         "\x7f"};
    size_t target = below(r, 4) == 0 ? max : (size_t)below(r, max + 1), n = 0;
    for (;;) {
        const char *p = pieces[below(r, ARRAY_LEN(pieces))];
        size_t l = strlen(p);
        if (n + l > target)
            break;
        memcpy(out + n, p, l);
        n += l;
    }
    out[n] = '\0';
}

static int64_t random_time(struct vg_prng *r)
{
    switch (below(r, 8)) {
    case 0: return 0;
    case 1: return INT64_MAX;
    case 2: return (int64_t)(vg_prng_next(r) >> 1);
    default: return T0 + (int64_t)below(r, 400LL * 86400000);
    }
}

static uint32_t maybe_zero_u32(struct vg_prng *r)
{
    return below(r, 3) == 0 ? 0 : (uint32_t)vg_prng_next(r);
}

static void random_fix(struct vg_prng *r, struct vg_fix *f)
{
    f->time_ms = random_time(r);
    f->quality = (uint8_t)below(r, 5); /* up to VG_FIX_NETWORK */
    f->lat_deg = below(r, 10) == 0 ? (below(r, 2) ? 90.0 : -90.0) : vg_prng_range(r, -90, 90);
    f->lon_deg = below(r, 10) == 0 ? (below(r, 2) ? 180.0 : -180.0) : vg_prng_range(r, -180, 180);
    switch (below(r, 4)) {
    case 0: f->accuracy_m = 0; break;
    case 1: f->accuracy_m = (float)vg_prng_range(r, 0, 42949672.0); break;
    default: f->accuracy_m = (float)vg_prng_range(r, 0, 200); break;
    }
    f->speed_mps = below(r, 3) == 0 ? -1.0f : (float)vg_prng_range(r, 0, 655.35);
    switch (below(r, 4)) {
    case 0: f->heading_deg = -1.0f; break;
    case 1: f->heading_deg = (float)vg_prng_range(r, 359.99, 360); break;
    default: f->heading_deg = (float)vg_prng_range(r, 0, 360); break;
    }
}

static int8_t random_sensor(struct vg_prng *r)
{
    return below(r, 3) == 0 ? -1 : (int8_t)below(r, 128);
}

static void random_record(struct vg_prng *r, struct vg_proto_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->seq = below(r, 4) == 0 ? UINT64_MAX - below(r, 3) : 1 + below(r, 1u << 30);
    rec->type = (uint8_t)(1 + below(r, 4));
    switch (rec->type) {
    case VG_REC_FIX: random_fix(r, &rec->fix); break;
    case VG_REC_STATUS:
        rec->subject = (uint8_t)below(r, 2);
        rec->status.time_ms = random_time(r);
        rec->status.battery_pct = random_sensor(r);
        rec->status.charging = random_sensor(r);
        rec->status.strap_closed = random_sensor(r);
        rec->status.skin_contact = random_sensor(r);
        rec->status.bracelet_link = random_sensor(r);
        rec->status.beacon_heard = random_sensor(r);
        rec->status.beacon_range_m = below(r, 3) == 0 ? -1 : (int16_t)below(r, 32768);
        break;
    case VG_REC_EVENT:
        rec->event.time_ms = random_time(r);
        rec->event.kind = (uint8_t)(1 + below(r, 5));
        break;
    default:
        rec->event.time_ms = random_time(r);
        rec->event.kind = VG_EVENT_HEARTBEAT;
        break;
    }
}

static void random_msg(struct vg_prng *r, uint8_t type, struct msg *m)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    switch (type) {
    case VG_PROTO_HELLO:
        m->hello.version_min = (uint8_t)vg_prng_next(r);
        m->hello.version_max = (uint8_t)vg_prng_next(r);
        m->hello.boot_count = maybe_zero_u32(r);
        random_text(r, m->hello.firmware, 64);
        break;
    case VG_PROTO_WELCOME:
        m->welcome.version = (uint8_t)vg_prng_next(r);
        m->welcome.server_time_ms = (uint64_t)random_time(r);
        m->welcome.acked_seq = vg_prng_next(r);
        m->welcome.report_interval_ms = maybe_zero_u32(r);
        m->welcome.heartbeat_interval_ms = maybe_zero_u32(r);
        break;
    case VG_PROTO_ACK:
        m->ack.cumulative = vg_prng_next(r);
        m->ack.n_extra = (uint8_t)below(r, VG_PROTO_MAX_EXTRA_ACKS + 1);
        for (size_t i = 0; i < m->ack.n_extra; i++)
            m->ack.extra[i] = vg_prng_next(r);
        break;
    case VG_PROTO_CONFIG:
        m->config.command_id = (uint32_t)vg_prng_next(r);
        m->config.report_interval_ms = maybe_zero_u32(r);
        m->config.heartbeat_interval_ms = maybe_zero_u32(r);
        break;
    case VG_PROTO_RING:
        m->ring.command_id = (uint32_t)vg_prng_next(r);
        m->ring.level = (uint8_t)below(r, 3);
        m->ring.vibrate_ms = (uint16_t)maybe_zero_u32(r);
        m->ring.sound = (uint8_t)below(r, 3);
        random_text(r, m->ring.message, VG_PROTO_MAX_TEXT);
        break;
    case VG_PROTO_POSITION_REQUEST:
        m->position_request.command_id = (uint32_t)vg_prng_next(r);
        break;
    case VG_PROTO_COMMAND_ACK:
        m->command_ack.command_id = (uint32_t)vg_prng_next(r);
        m->command_ack.status = (uint8_t)below(r, 2);
        break;
    case VG_PROTO_ERROR:
        m->error.code = (uint16_t)vg_prng_next(r);
        random_text(r, m->error.message, VG_PROTO_MAX_TEXT);
        break;
    case VG_PROTO_RECORDS:
        m->n_recs = (size_t)below(r, MSG_RECS + 1);
        for (size_t i = 0; i < m->n_recs; i++)
            random_record(r, &m->recs[i]);
        break;
    default: fail_msg("type %u", type);
    }
}

static const uint8_t all_types[] = {
    VG_PROTO_HELLO,  VG_PROTO_RECORDS, VG_PROTO_COMMAND_ACK,      VG_PROTO_WELCOME, VG_PROTO_ACK,
    VG_PROTO_CONFIG, VG_PROTO_RING,    VG_PROTO_POSITION_REQUEST, VG_PROTO_ERROR,
};

/* Encode, frame, decode: the same values to the wire's precision; and the
 * decoded values encode to the very same bytes (one canonical form). */
static void test_round_trip_random(void **state)
{
    (void)state;
    struct vg_prng r;
    vg_prng_seed(&r, 20260701);
    for (size_t t = 0; t < ARRAY_LEN(all_types); t++) {
        for (int i = 0; i < 3000; i++) {
            struct msg m, got;
            random_msg(&r, all_types[t], &m);
            size_t w = 0, w2 = 0;
            assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_OK);
            assert_int_equal(decode(frame_buf, w, &got), VG_OK);
            assert_msg_near(&m, &got);
            assert_int_equal(encode(&got, frame_buf2, sizeof frame_buf2, &w2), VG_OK);
            assert_int_equal(w2, w);
            assert_memory_equal(frame_buf2, frame_buf, w);
        }
    }
}

/* The network position's source field: without the three position fields
 * a quality-0 record stays "no fix"; a source beyond 1 is malformed; source
 * 1 on a GNSS fix changes nothing (the receiver's fix stands). */
static void test_network_fix_source(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        int rc;
        uint8_t quality;
    } cases[] = {
        {"00 01 01 00 00 16 00 00 00 00 00 00 00 01 01 08 00 00 01 9f 1c b1 33 b8 07 01 00"
         " 02 04 1c 25 33 40 08 01 01",
         VG_OK, VG_FIX_NONE},
        {"00 01 01 00 00 22 00 00 00 00 00 00 00 01 01 08 00 00 01 9f 1c b1 33 b8 07 01 00"
         " 02 04 1c 25 33 40 03 04 ff 13 7d 20 04 04 00 01 4c 08 08 01 02",
         VG_EFORMAT, 0},
        {"00 01 01 00 00 22 00 00 00 00 00 00 00 01 01 08 00 00 01 9f 1c b1 33 b8 07 01 02"
         " 02 04 1c 25 33 40 03 04 ff 13 7d 20 04 04 00 01 4c 08 08 01 01",
         VG_OK, VG_FIX_3D},
        {"00 01 01 00 00 22 00 00 00 00 00 00 00 01 01 08 00 00 01 9f 1c b1 33 b8 07 01 00"
         " 02 04 1c 25 33 40 03 04 ff 13 7d 20 04 04 00 01 4c 08 08 01 00",
         VG_OK, VG_FIX_NONE},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint8_t buf[128];
        size_t len = from_hex(cases[i].hex, buf, sizeof buf);
        struct vg_proto_record recs[2];
        size_t n = 0;
        int rc = decode_records(buf, len, recs, 2, &n);
        assert_int_equal(rc, cases[i].rc);
        if (rc == VG_OK) {
            assert_int_equal(n, 1);
            assert_int_equal(recs[0].fix.quality, cases[i].quality);
        }
    }
}

/* A full frame of the largest records fits the payload limit; one record
 * more is refused. */
static void test_records_at_the_limits(void **state)
{
    (void)state;
    struct vg_prng r;
    vg_prng_seed(&r, 7);
    for (size_t i = 0; i < VG_PROTO_MAX_RECORDS + 1; i++) {
        struct vg_proto_record *rec = &big_recs[i];
        memset(rec, 0, sizeof *rec);
        rec->seq = UINT64_MAX - i;
        rec->type = VG_REC_FIX;
        random_fix(&r, &rec->fix);
        rec->fix.quality = VG_FIX_DGNSS;
        rec->fix.speed_mps = 12.5f;
        rec->fix.heading_deg = 90.0f;
    }
    size_t w = 0, n = 0;
    assert_int_equal(
        vg_proto_encode_records(frame_buf, sizeof frame_buf, big_recs, VG_PROTO_MAX_RECORDS, &w),
        VG_OK);
    assert_true(w <= MAX_FRAME);
    struct vg_proto_header h;
    const uint8_t *p;
    size_t frame_len;
    assert_int_equal(vg_proto_frame(frame_buf, w, &h, &p, &frame_len), VG_OK);
    assert_int_equal(decode_records(p, h.length, big_recs2, ARRAY_LEN(big_recs2), &n), VG_OK);
    assert_int_equal(n, VG_PROTO_MAX_RECORDS);
    for (size_t i = 0; i < n; i++)
        assert_record_near(&big_recs[i], &big_recs2[i]);
    size_t untouched = 12345;
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, big_recs,
                                             VG_PROTO_MAX_RECORDS + 1, &untouched),
                     VG_ERANGE);
    assert_int_equal(untouched, 12345);
    /* zero records: a frame with a count of 0, and nothing to read */
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, NULL, 0, &w), VG_OK);
    assert_int_equal(w, VG_PROTO_HEADER_LEN + 2);
    struct msg got;
    assert_int_equal(decode(frame_buf, w, &got), VG_OK);
    assert_int_equal(got.n_recs, 0);
}

/* ---- partial input and truncation ----------------------------------------- */

/* Every prefix of a frame is VG_AGAIN; the whole frame is VG_OK, and what
 * follows it (the next frame) is not consumed. */
static void check_byte_by_byte(const uint8_t *frame, size_t n)
{
    struct vg_proto_header h;
    const uint8_t *p = NULL;
    size_t frame_len = 0;
    for (size_t k = 0; k < n; k++) {
        memset(&h, 0, sizeof h);
        assert_int_equal(vg_proto_frame(frame, k, &h, &p, &frame_len), VG_AGAIN);
        assert_null(p);
        if (k >= VG_PROTO_HEADER_LEN) /* the header is known before the payload */
            assert_int_equal(h.length, n - VG_PROTO_HEADER_LEN);
    }
    assert_int_equal(vg_proto_frame(frame, n, &h, &p, &frame_len), VG_OK);
    assert_int_equal(frame_len, n);
    assert_int_equal(h.length, n - VG_PROTO_HEADER_LEN);
    assert_ptr_equal(p, frame + VG_PROTO_HEADER_LEN);
    /* two frames back to back: the first one alone */
    memcpy(frame_buf2, frame, n);
    memcpy(frame_buf2 + n, frame, n);
    assert_int_equal(vg_proto_frame(frame_buf2, 2 * n, &h, &p, &frame_len), VG_OK);
    assert_int_equal(frame_len, n);
}

/* Where the fields of a field list start and end. */
static bool field_boundary(const uint8_t *f, size_t n, size_t cut)
{
    size_t i = 0;
    while (i < cut && i + 2 <= n)
        i += 2 + (size_t)f[i + 1];
    return i == cut;
}

/* A payload cut short (the header saying so) is refused: always for ACK and
 * RECORDS, and for the field lists everywhere but between two fields (where
 * only optional fields may have been lost: the frame length is what keeps a
 * message whole, see docs/PROTOCOL.md). */
static void check_truncations(const uint8_t *frame, size_t n, const struct msg *want)
{
    uint8_t type = frame[3];
    const uint8_t *payload = frame + VG_PROTO_HEADER_LEN;
    size_t len = n - VG_PROTO_HEADER_LEN;
    for (size_t cut = 0; cut < len; cut++) {
        vg_proto_put_header(frame_buf2, type, (uint32_t)cut);
        memcpy(frame_buf2 + VG_PROTO_HEADER_LEN, payload, cut);
        struct msg got;
        int rc = decode(frame_buf2, VG_PROTO_HEADER_LEN + cut, &got);
        if (rc == VG_OK) {
            if (type == VG_PROTO_ACK || type == VG_PROTO_RECORDS ||
                !field_boundary(payload, len, cut))
                fail_msg("type %02x: truncated to %zu of %zu bytes, accepted", type, cut, len);
            assert_int_equal(got.type, want->type);
        } else {
            assert_int_equal(rc, VG_EFORMAT);
        }
    }
}

static void test_partial_input(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(vectors); i++) {
        uint8_t bytes[512];
        size_t n = vector_bytes(&vectors[i], bytes, sizeof bytes);
        check_byte_by_byte(bytes, n);
        check_truncations(bytes, n, &vectors[i].m);
    }
    struct vg_prng r;
    vg_prng_seed(&r, 99);
    for (int i = 0; i < 200; i++) {
        struct msg m;
        size_t w;
        random_msg(&r, all_types[below(&r, ARRAY_LEN(all_types))], &m);
        assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_OK);
        static uint8_t copy[MAX_FRAME];
        memcpy(copy, frame_buf, w);
        check_byte_by_byte(copy, w);
        check_truncations(copy, w, &m);
    }
}

/* ---- frame header errors ---------------------------------------------------- */

static void test_frame_header(void **state)
{
    (void)state;
    struct vg_proto_header h;
    const uint8_t *p;
    size_t fl;
    static const struct {
        const char *hex;
        int rc;
    } cases[] = {
        {"", VG_AGAIN},
        {"56", VG_AGAIN},
        {"57", VG_EFORMAT}, /* at the first byte */
        {"00", VG_EFORMAT},
        {"47 56", VG_EFORMAT},
        {"56 48", VG_EFORMAT},
        {"56 47", VG_AGAIN},
        {"56 47 00", VG_EFORMAT}, /* version 0 */
        {"56 47 02", VG_EFORMAT}, /* version 2 */
        {"56 47 ff", VG_EFORMAT},
        {"56 47 01", VG_AGAIN},
        {"56 47 01 00", VG_EFORMAT}, /* unknown types */
        {"56 47 01 04", VG_EFORMAT},
        {"56 47 01 80", VG_EFORMAT},
        {"56 47 01 87", VG_EFORMAT},
        {"56 47 01 ff", VG_EFORMAT},
        {"56 47 01 02", VG_AGAIN},
        {"56 47 01 02 ff ff ff", VG_AGAIN},     /* the length is not whole yet */
        {"56 47 01 02 00 01 00 00", VG_AGAIN},  /* 65536: the limit itself */
        {"56 47 01 02 00 01 00 01", VG_ERANGE}, /* one more: known at once */
        {"56 47 01 02 ff ff ff ff", VG_ERANGE},
        {"56 47 01 82 80 00 00 00 00", VG_ERANGE},
        {"56 47 01 86 00 00 00 00", VG_OK}, /* an empty payload is a frame */
        {"56 47 01 85 00 00 00 01", VG_AGAIN},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint8_t b[16];
        size_t n = from_hex(cases[i].hex, b, sizeof b);
        int rc = vg_proto_frame(b, n, &h, &p, &fl);
        if (rc != cases[i].rc)
            fail_msg("'%s': %d, expected %d", cases[i].hex, rc, cases[i].rc);
        if (rc == VG_ERANGE)
            assert_true(h.length > VG_PROTO_MAX_PAYLOAD);
    }
    /* every type of the list is accepted */
    for (size_t i = 0; i < ARRAY_LEN(all_types); i++) {
        uint8_t b[8];
        vg_proto_put_header(b, all_types[i], 0);
        assert_int_equal(vg_proto_frame(b, 8, &h, &p, &fl), VG_OK);
        assert_int_equal(h.type, all_types[i]);
        assert_int_equal(h.version, VG_PROTO_VERSION);
        assert_int_equal(fl, 8);
    }
    /* every other type is refused, whatever follows */
    for (unsigned t = 0; t < 256; t++) {
        bool known = false;
        for (size_t i = 0; i < ARRAY_LEN(all_types); i++)
            known = known || all_types[i] == t;
        uint8_t b[8];
        vg_proto_put_header(b, (uint8_t)t, 0);
        assert_int_equal(vg_proto_frame(b, 8, &h, &p, &fl), known ? VG_OK : VG_EFORMAT);
        assert_int_equal(vg_proto_frame(b, 4, &h, &p, &fl), known ? VG_AGAIN : VG_EFORMAT);
    }
}

/* ---- field lists: the same rules for every message and record body ---------- */

struct tag_info {
    uint8_t tag;
    uint8_t width; /* 0: text */
    uint8_t max;   /* text: longest accepted */
    bool required;
};

struct field_kind {
    const char *name;
    struct tag_info tags[10];
    size_t n_tags;
    struct msg example; /* every field present */
};

static const struct field_kind field_kinds[] = {
    {"hello",
     {{1, 1, 0, true}, {2, 1, 0, true}, {3, 0, 64, false}, {4, 4, 0, false}},
     4,
     {.type = VG_PROTO_HELLO, .hello = {1, 2, 7, "fw"}}},
    {"welcome",
     {{1, 1, 0, true}, {2, 8, 0, true}, {3, 8, 0, true}, {4, 4, 0, false}, {5, 4, 0, false}},
     5,
     {.type = VG_PROTO_WELCOME, .welcome = {1, T0, 99, 10000, 60000}}},
    {"config",
     {{1, 4, 0, true}, {2, 4, 0, false}, {3, 4, 0, false}},
     3,
     {.type = VG_PROTO_CONFIG, .config = {5, 1000, 2000}}},
    {"ring",
     {{1, 4, 0, true},
      {2, 1, 0, true},
      {3, 0, VG_PROTO_MAX_TEXT, false},
      {4, 2, 0, false},
      {5, 1, 0, false}},
     5,
     {.type = VG_PROTO_RING, .ring = {6, 2, 500, "Alerte", 2}}},
    {"position-request",
     {{1, 4, 0, true}},
     1,
     {.type = VG_PROTO_POSITION_REQUEST, .position_request = {11}}},
    {"command-ack",
     {{1, 4, 0, true}, {2, 1, 0, true}},
     2,
     {.type = VG_PROTO_COMMAND_ACK, .command_ack = {12, 1}}},
    {"error",
     {{1, 2, 0, true}, {2, 0, VG_PROTO_MAX_TEXT, false}},
     2,
     {.type = VG_PROTO_ERROR, .error = {VG_PROTO_ERR_OVERLOADED, "later"}}},
    /* with a position, latitude, longitude and accuracy are required */
    {"fix",
     {{1, 8, 0, true},
      {7, 1, 0, true},
      {2, 4, 0, true},
      {3, 4, 0, true},
      {4, 4, 0, true},
      {5, 2, 0, false},
      {6, 2, 0, false}},
     7,
     {.type = VG_PROTO_RECORDS,
      .n_recs = 1,
      .recs = {{.seq = 1,
                .type = VG_REC_FIX,
                .fix = FIX(T0, -33.8688, 151.2093, 4.0f, 0.5f, 12.0f, VG_FIX_2D)}}}},
    /* a network position (quality 0, source 1): without any of its four
     * fields it is a plain "no fix", which still decodes */
    {"network fix",
     {{1, 8, 0, true}, {7, 1, 0, true}, {2, 4, 0, false}, {3, 4, 0, false}, {4, 4, 0, false},
      {8, 1, 0, false}},
     6,
     {.type = VG_PROTO_RECORDS,
      .n_recs = 1,
      .recs = {{.seq = 1,
                .type = VG_REC_FIX,
                .fix = FIX(T0, 47.2, -1.55, 1200.0f, -1.0f, -1.0f, VG_FIX_NETWORK)}}}},
    {"status",
     {{1, 8, 0, true},
      {2, 1, 0, false},
      {3, 1, 0, false},
      {4, 1, 0, false},
      {5, 1, 0, false},
      {6, 1, 0, false},
      {7, 1, 0, false},
      {8, 1, 0, false},
      {9, 2, 0, false}},
     9,
     {.type = VG_PROTO_RECORDS,
      .n_recs = 1,
      .recs = {{.seq = 1,
                .type = VG_REC_STATUS,
                .subject = VG_SUBJECT_BRACELET,
                .status = {T0, 50, 1, 0, 1, 0, 1, 25}}}}},
    {"event",
     {{1, 8, 0, true}, {2, 1, 0, true}},
     2,
     {.type = VG_PROTO_RECORDS,
      .n_recs = 1,
      .recs = {{.seq = 1, .type = VG_REC_EVENT, .event = {T0, VG_EVENT_CALLBACK_REQUEST}}}}},
    {"heartbeat",
     {{1, 8, 0, true}},
     1,
     {.type = VG_PROTO_RECORDS,
      .n_recs = 1,
      .recs = {{.seq = 1, .type = VG_REC_HEARTBEAT, .event = {T0, VG_EVENT_HEARTBEAT}}}}},
};

static const struct field_kind *field_kind(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(field_kinds); i++)
        if (strcmp(field_kinds[i].name, name) == 0)
            return &field_kinds[i];
    fail_msg("no field kind %s", name);
    return NULL;
}

#define RECORDS_FIELDS_AT (VG_PROTO_HEADER_LEN + 2 + 12)

/* The example's field list (a message's payload, a record's body). */
static size_t example_fields(const struct field_kind *k, uint8_t *out, size_t cap)
{
    size_t w = 0;
    assert_int_equal(encode(&k->example, frame_buf, sizeof frame_buf, &w), VG_OK);
    size_t at = k->example.type == VG_PROTO_RECORDS ? RECORDS_FIELDS_AT : VG_PROTO_HEADER_LEN;
    assert_true(w - at <= cap);
    memcpy(out, frame_buf + at, w - at);
    return w - at;
}

/* A field list in its frame (a RECORDS frame of one record, seq 1, for a
 * record body), decoded. */
static int decode_fields(const struct field_kind *k, const uint8_t *f, size_t n, struct msg *m)
{
    uint8_t *b = frame_buf;
    size_t at = VG_PROTO_HEADER_LEN;
    if (k->example.type == VG_PROTO_RECORDS) {
        vg_put_u16be(b + at, 1);
        b[at + 2] = k->example.recs[0].type;
        b[at + 3] = 0;
        vg_put_u16be(b + at + 4, (uint16_t)n);
        vg_put_u64be(b + at + 6, 1);
        at = RECORDS_FIELDS_AT;
    }
    memcpy(b + at, f, n);
    vg_proto_put_header(b, k->example.type, (uint32_t)(at + n - VG_PROTO_HEADER_LEN));
    return decode(b, at + n, m);
}

struct span {
    size_t off, len;
    uint8_t tag;
};

static size_t split_fields(const uint8_t *f, size_t n, struct span *s, size_t cap)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i += 2 + (size_t)f[i + 1]) {
        assert_true(count < cap && i + 2 <= n);
        s[count++] = (struct span){i, 2 + (size_t)f[i + 1], f[i]};
    }
    return count;
}

static void append(uint8_t *out, size_t *n, const void *src, size_t len)
{
    memcpy(out + *n, src, len);
    *n += len;
}

/* A field of `len` bytes whose value decodes to something plausible
 * (ASCII for text). */
static size_t make_field(uint8_t *out, uint8_t tag, size_t len, uint8_t fill)
{
    out[0] = tag;
    out[1] = (uint8_t)len;
    memset(out + 2, fill, len);
    return 2 + len;
}

/* Unknown fields are skipped wherever they are, whatever their length, in
 * messages and in record bodies. */
static void test_unknown_fields_skipped(void **state)
{
    (void)state;
    static const uint8_t unknown_tags[] = {0, 8, 9, 15, 16, 0x20, 0x7f, 0x80, 0xff};
    for (size_t k = 0; k < ARRAY_LEN(field_kinds); k++) {
        const struct field_kind *kind = &field_kinds[k];
        uint8_t base[512];
        struct span s[16];
        size_t n = example_fields(kind, base, sizeof base);
        size_t ns = split_fields(base, n, s, ARRAY_LEN(s));
        for (size_t u = 0; u < ARRAY_LEN(unknown_tags); u++) {
            /* known to this message or record type (a fix and a network
             * fix are the same record type) */
            bool known = false;
            for (size_t o = 0; o < ARRAY_LEN(field_kinds); o++) {
                const struct field_kind *other = &field_kinds[o];
                if (other->example.type != kind->example.type ||
                    (kind->example.type == VG_PROTO_RECORDS &&
                     other->example.recs[0].type != kind->example.recs[0].type))
                    continue;
                for (size_t t = 0; t < other->n_tags; t++)
                    known = known || other->tags[t].tag == unknown_tags[u];
            }
            if (known)
                continue;
            static const size_t lens[] = {0, 1, 8, 255};
            for (size_t i = 0; i < (ns + 1) * ARRAY_LEN(lens); i++) {
                uint8_t f[1024], field[300];
                size_t fn = 0, at = i / ARRAY_LEN(lens), len = lens[i % ARRAY_LEN(lens)];
                size_t split_at = at < ns ? s[at].off : n;
                append(f, &fn, base, split_at);
                append(f, &fn, field, make_field(field, unknown_tags[u], len, 0xee));
                append(f, &fn, base + split_at, n - split_at);
                struct msg got;
                int rc = decode_fields(kind, f, fn, &got);
                if (rc != VG_OK)
                    fail_msg("%s: unknown tag %u at field %zu: %d", kind->name, unknown_tags[u], at,
                             rc);
                assert_msg_near(&kind->example, &got);
                /* twice the same unknown tag: still skipped */
                append(f, &fn, field, make_field(field, unknown_tags[u], 1, 0));
                assert_int_equal(decode_fields(kind, f, fn, &got), VG_OK);
            }
        }
    }
}

/* A known tag with the wrong length, twice, or missing when required. */
static void test_field_errors(void **state)
{
    (void)state;
    for (size_t k = 0; k < ARRAY_LEN(field_kinds); k++) {
        const struct field_kind *kind = &field_kinds[k];
        uint8_t base[512];
        struct span s[16];
        size_t n = example_fields(kind, base, sizeof base);
        size_t ns = split_fields(base, n, s, ARRAY_LEN(s));
        assert_int_equal(ns, kind->n_tags); /* the example has every field */
        for (size_t t = 0; t < kind->n_tags; t++) {
            const struct tag_info *ti = &kind->tags[t];
            size_t at = 0;
            while (s[at].tag != ti->tag)
                at++;
            uint8_t f[1024], field[300];
            size_t fn;
            struct msg got;
            /* wrong lengths */
            size_t bad[4], n_bad = 0;
            if (ti->width == 0) {
                bad[n_bad++] = (size_t)ti->max + 1;
            } else {
                bad[n_bad++] = 0;
                bad[n_bad++] = (size_t)ti->width - 1;
                bad[n_bad++] = (size_t)ti->width + 1;
                bad[n_bad++] = ti->width == 8 ? 4 : 8;
            }
            for (size_t b = 0; b < n_bad; b++) {
                if (ti->width != 0 && bad[b] == ti->width)
                    continue;
                fn = 0;
                append(f, &fn, base, s[at].off);
                append(f, &fn, field, make_field(field, ti->tag, bad[b], 0x01));
                append(f, &fn, base + s[at].off + s[at].len, n - s[at].off - s[at].len);
                int rc = decode_fields(kind, f, fn, &got);
                if (rc != VG_EFORMAT)
                    fail_msg("%s: tag %u with %zu bytes: %d", kind->name, ti->tag, bad[b], rc);
            }
            /* twice, same value: still refused */
            fn = 0;
            append(f, &fn, base, n);
            append(f, &fn, base + s[at].off, s[at].len);
            if (decode_fields(kind, f, fn, &got) != VG_EFORMAT)
                fail_msg("%s: tag %u twice accepted", kind->name, ti->tag);
            /* missing */
            fn = 0;
            append(f, &fn, base, s[at].off);
            append(f, &fn, base + s[at].off + s[at].len, n - s[at].off - s[at].len);
            int rc = decode_fields(kind, f, fn, &got);
            if (rc != (ti->required ? VG_EFORMAT : VG_OK))
                fail_msg("%s: without tag %u: %d", kind->name, ti->tag, rc);
        }
        /* cut inside any field, or a stray byte after the last one */
        for (size_t cut = 0; cut < n; cut++) {
            struct msg got;
            if (!field_boundary(base, n, cut))
                assert_int_equal(decode_fields(kind, base, cut, &got), VG_EFORMAT);
        }
        static const char *const trailing[] = {"00", "01", "ff", "05 01", "05 02 00", "20 ff"};
        for (size_t i = 0; i < ARRAY_LEN(trailing); i++) {
            uint8_t f[600];
            size_t fn = 0;
            append(f, &fn, base, n);
            fn += from_hex(trailing[i], f + fn, sizeof f - fn);
            struct msg got;
            if (decode_fields(kind, f, fn, &got) != VG_EFORMAT)
                fail_msg("%s: trailing '%s' accepted", kind->name, trailing[i]);
        }
    }
}

/* Values: what the wire cannot mean is malformed; the rest is passed
 * through for the engine to judge. */
static void test_field_values(void **state)
{
    (void)state;
    static const struct {
        const char *kind;
        const char *field; /* replaces the example's field with that tag */
        int rc;
    } cases[] = {
        {"fix", "01 08 7f ff ff ff ff ff ff ff", VG_OK}, /* time INT64_MAX */
        {"fix", "01 08 80 00 00 00 00 00 00 00", VG_EFORMAT},
        {"fix", "01 08 ff ff ff ff ff ff ff ff", VG_EFORMAT},
        {"fix", "01 08 00 00 00 00 00 00 00 00", VG_OK}, /* 1970: the engine refuses it */
        {"fix", "07 01 03", VG_OK},
        {"fix", "07 01 04", VG_EFORMAT}, /* quality */
        {"fix", "07 01 ff", VG_EFORMAT},
        {"fix", "02 04 35 a4 e9 00", VG_OK}, /* latitude 90 */
        {"fix", "02 04 35 a4 e9 01", VG_EFORMAT},
        {"fix", "02 04 ca 5b 17 00", VG_OK}, /* -90 */
        {"fix", "02 04 ca 5b 16 ff", VG_EFORMAT},
        {"fix", "02 04 7f ff ff ff", VG_EFORMAT},
        {"fix", "02 04 80 00 00 00", VG_EFORMAT},
        {"fix", "03 04 6b 49 d2 00", VG_OK}, /* longitude 180 */
        {"fix", "03 04 6b 49 d2 01", VG_EFORMAT},
        {"fix", "03 04 94 b6 2e 00", VG_OK}, /* -180 */
        {"fix", "03 04 94 b6 2d ff", VG_EFORMAT},
        {"fix", "04 04 ff ff ff ff", VG_OK}, /* 42,949 km: the engine refuses it */
        {"fix", "05 02 ff ff", VG_OK},
        {"fix", "06 02 8c 9f", VG_OK}, /* heading 359.99 */
        {"fix", "06 02 8c a0", VG_OK}, /* 360.00: passed through, the engine refuses it */
        {"fix", "06 02 ff ff", VG_OK},
        {"status", "02 01 64", VG_OK},
        {"status", "02 01 7f", VG_OK}, /* 127 fits: vg_unit_status_check refuses it */
        {"status", "02 01 80", VG_EFORMAT},
        {"status", "02 01 96", VG_EFORMAT}, /* battery 150 */
        {"status", "03 01 ff", VG_EFORMAT},
        {"status", "04 01 07", VG_OK},
        {"status", "04 01 80", VG_EFORMAT},
        {"status", "05 01 c8", VG_EFORMAT},
        {"status", "06 01 81", VG_EFORMAT},
        {"status", "07 01 00", VG_OK},
        {"status", "07 01 02", VG_EFORMAT}, /* subject */
        {"status", "08 01 01", VG_OK},
        {"status", "08 01 02", VG_OK}, /* fits: vg_unit_status_check refuses it */
        {"status", "08 01 80", VG_EFORMAT},
        {"status", "09 02 7f ff",
         VG_OK}, /* a beacon range of 32,767 m: refused by nobody, useless */
        {"status", "09 02 80 00", VG_EFORMAT},
        {"status", "01 08 80 00 00 00 00 00 00 00", VG_EFORMAT},
        {"event", "02 01 00", VG_EFORMAT},
        {"event", "02 01 01", VG_OK},
        {"event", "02 01 05", VG_OK},
        {"event", "02 01 06", VG_OK},
        {"event", "02 01 07", VG_EFORMAT},
        {"event", "01 08 80 00 00 00 00 00 00 01", VG_EFORMAT},
        {"heartbeat", "01 08 7f ff ff ff ff ff ff ff", VG_OK},
        {"heartbeat", "01 08 80 00 00 00 00 00 00 00", VG_EFORMAT},
        {"ring", "02 01 00", VG_OK},
        {"ring", "02 01 03", VG_EFORMAT}, /* level */
        {"ring", "05 01 02", VG_OK},
        {"ring", "05 01 03", VG_EFORMAT}, /* sound */
        {"command-ack", "02 01 01", VG_OK},
        {"command-ack", "02 01 02", VG_EFORMAT},
        {"welcome", "02 08 7f ff ff ff ff ff ff ff", VG_OK},
        {"welcome", "02 08 80 00 00 00 00 00 00 00", VG_EFORMAT},
        {"welcome", "01 01 00", VG_OK}, /* the version is the session's business */
        {"hello", "01 01 09", VG_OK},
        {"error", "01 02 ff ff", VG_OK}, /* an unknown code is still an error */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct field_kind *kind = field_kind(cases[i].kind);
        uint8_t base[512], f[600], field[64];
        struct span s[16];
        size_t n = example_fields(kind, base, sizeof base);
        size_t ns = split_fields(base, n, s, ARRAY_LEN(s));
        size_t fl = from_hex(cases[i].field, field, sizeof field);
        size_t at = 0;
        while (at < ns && s[at].tag != field[0])
            at++;
        assert_true(at < ns);
        size_t fn = 0;
        append(f, &fn, base, s[at].off);
        append(f, &fn, field, fl);
        append(f, &fn, base + s[at].off + s[at].len, n - s[at].off - s[at].len);
        struct msg got;
        int rc = decode_fields(kind, f, fn, &got);
        if (rc != cases[i].rc)
            fail_msg("%s with '%s': %d, expected %d", cases[i].kind, cases[i].field, rc,
                     cases[i].rc);
    }
}

/* Decoded values in the core's units, signs and unknowns included. */
static void test_fix_and_status_decoding(void **state)
{
    (void)state;
    const struct field_kind *fix = field_kind("fix"), *status = field_kind("status");
    struct msg got;
    uint8_t f[128];
    size_t n;
    /* a southern, western position; no speed, no heading */
    n = from_hex("01 08 00 00 01 9f 1c b1 28 00  07 01 01  02 04 f3 e1 58 2e "
                 "03 04 d3 d5 6d 04  04 04 00 00 00 00",
                 f, sizeof f);
    assert_int_equal(decode_fields(fix, f, n, &got), VG_OK);
    assert_near(got.recs[0].fix.lat_deg, -20.3335634, 1e-12);
    assert_near(got.recs[0].fix.lon_deg, -74.0987644, 1e-12);
    assert_true(got.recs[0].fix.accuracy_m == 0.0f);
    assert_true(got.recs[0].fix.speed_mps == -1.0f && got.recs[0].fix.heading_deg == -1.0f);
    /* no fix: the position fields, even present (and out of range), mean nothing */
    n = from_hex("01 08 00 00 01 9f 1c b1 28 00  07 01 00  02 04 7f ff ff ff  05 02 01 00", f,
                 sizeof f);
    assert_int_equal(decode_fields(fix, f, n, &got), VG_OK);
    assert_true(got.recs[0].fix.lat_deg == 0 && got.recs[0].fix.lon_deg == 0);
    assert_true(got.recs[0].fix.speed_mps == -1.0f && got.recs[0].fix.heading_deg == -1.0f);
    /* with a fix, no accuracy: refused */
    n = from_hex("01 08 00 00 01 9f 1c b1 28 00  07 01 01  02 04 00 00 00 00  03 04 00 00 00 00", f,
                 sizeof f);
    assert_int_equal(decode_fields(fix, f, n, &got), VG_EFORMAT);
    /* a status with only its time: every sensor unknown, the unit itself */
    n = from_hex("01 08 00 00 01 9f 1c b1 28 00", f, sizeof f);
    assert_int_equal(decode_fields(status, f, n, &got), VG_OK);
    const struct vg_proto_record *r = &got.recs[0];
    assert_int_equal(r->subject, VG_SUBJECT_SELF);
    assert_int_equal(r->status.time_ms, T0);
    assert_true(r->status.battery_pct == -1 && r->status.charging == -1 &&
                r->status.strap_closed == -1 && r->status.skin_contact == -1 &&
                r->status.bracelet_link == -1);
    /* an EVENT may say "heartbeat" too */
    n = from_hex("01 08 00 00 01 9f 1c b1 28 00  02 01 01", f, sizeof f);
    assert_int_equal(decode_fields(field_kind("event"), f, n, &got), VG_OK);
    assert_int_equal(got.recs[0].type, VG_REC_EVENT);
    assert_int_equal(got.recs[0].event.kind, VG_EVENT_HEARTBEAT);
}

/* ---- text -------------------------------------------------------------------- */

static void test_text_fields(void **state)
{
    (void)state;
    static const char *const invalid[] = {
        "00",                                        /* NUL */
        "41 00 42",                                  /* NUL inside */
        "80",                                        /* a lone continuation byte */
        "c3",                                        /* cut short */
        "e2 82",                                     /* cut short */
        "f0 9f 98",                                  /* cut short */
        "c0 80",                                     /* overlong NUL */
        "c1 bf",                                     /* overlong */
        "e0 80 80",                                  /* overlong */
        "f0 80 80 80",                               /* overlong */
        "ed a0 80",                                  /* surrogate U+D800 */
        "ed bf bf",                                  /* surrogate U+DFFF */
        "f4 90 80 80",                               /* above U+10FFFF */
        "f5 80 80 80", "ff",          "fe", "c3 28", /* a continuation byte missing */
        "e2 28 a1",    "61 62 63 c3",                /* valid text, then cut */
    };
    static const char *const valid[] = {
        "",         "41",       "c2 80",       "df bf",       "e0 a0 80", "ed 9f bf",
        "ee 80 80", "ef bf bf", "f0 90 80 80", "f4 8f bf bf", "7f",       "0a 09 0d",
    };
    static const struct {
        const char *kind;
        uint8_t tag;
        size_t max;
    } texts[] = {{"hello", 3, 64}, {"ring", 3, VG_PROTO_MAX_TEXT}, {"error", 2, VG_PROTO_MAX_TEXT}};
    for (size_t k = 0; k < ARRAY_LEN(texts); k++) {
        const struct field_kind *kind = field_kind(texts[k].kind);
        uint8_t base[512], f[800], field[300];
        struct span s[16];
        size_t n = example_fields(kind, base, sizeof base);
        size_t ns = split_fields(base, n, s, ARRAY_LEN(s));
        size_t at = 0;
        while (at < ns && s[at].tag != texts[k].tag)
            at++;
        assert_true(at < ns);
        for (int pass = 0; pass < 2; pass++) {
            const char *const *list = pass == 0 ? invalid : valid;
            size_t count = pass == 0 ? ARRAY_LEN(invalid) : ARRAY_LEN(valid);
            for (size_t i = 0; i < count; i++) {
                uint8_t value[16];
                size_t vl = from_hex(list[i], value, sizeof value);
                field[0] = texts[k].tag;
                field[1] = (uint8_t)vl;
                memcpy(field + 2, value, vl);
                size_t fn = 0;
                append(f, &fn, base, s[at].off);
                append(f, &fn, field, 2 + vl);
                append(f, &fn, base + s[at].off + s[at].len, n - s[at].off - s[at].len);
                struct msg got;
                int rc = decode_fields(kind, f, fn, &got);
                if (rc != (pass == 0 ? VG_EFORMAT : VG_OK))
                    fail_msg("%s text '%s': %d", kind->name, list[i], rc);
                if (pass == 1) {
                    const char *text = kind->example.type == VG_PROTO_HELLO  ? got.hello.firmware
                                       : kind->example.type == VG_PROTO_RING ? got.ring.message
                                                                             : got.error.message;
                    assert_int_equal(strlen(text), vl);
                    assert_memory_equal(text, value, vl);
                }
            }
        }
        /* the longest text, in 2-byte characters; one byte more is refused */
        for (size_t len = texts[k].max; len <= texts[k].max + 1; len++) {
            field[0] = texts[k].tag;
            field[1] = (uint8_t)len;
            for (size_t i = 0; i < len; i++)
                field[2 + i] = i % 2 == 0 ? 0xc3 : 0xa9;
            if (len % 2)
                field[1 + len] = 'x';
            size_t fn = 0;
            append(f, &fn, base, s[at].off);
            append(f, &fn, field, 2 + len);
            append(f, &fn, base + s[at].off + s[at].len, n - s[at].off - s[at].len);
            struct msg got;
            assert_int_equal(decode_fields(kind, f, fn, &got),
                             len <= texts[k].max ? VG_OK : VG_EFORMAT);
        }
    }
}

/* ---- ACK and RECORDS structure -------------------------------------------------- */

static void test_ack_layout(void **state)
{
    (void)state;
    static const struct {
        const char *payload;
        int rc;
    } cases[] = {
        {"", VG_EFORMAT},
        {"00 00 00 00 00 00 00 05", VG_EFORMAT}, /* no count */
        {"00 00 00 00 00 00 00 05 00", VG_OK},
        {"00 00 00 00 00 00 00 05 00 00", VG_EFORMAT}, /* trailing byte */
        {"00 00 00 00 00 00 00 05 01", VG_EFORMAT},    /* count 1, nothing */
        {"00 00 00 00 00 00 00 05 01 00 00 00 00 00 00 00", VG_EFORMAT},
        {"00 00 00 00 00 00 00 05 01 00 00 00 00 00 00 00 07", VG_OK},
        {"00 00 00 00 00 00 00 05 01 00 00 00 00 00 00 00 07 00", VG_EFORMAT},
        {"00 00 00 00 00 00 00 05 02 00 00 00 00 00 00 00 07", VG_EFORMAT},
        {"ff ff ff ff ff ff ff ff 00", VG_OK},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint8_t p[64];
        size_t n = from_hex(cases[i].payload, p, sizeof p);
        struct vg_proto_ack a;
        assert_int_equal(vg_proto_decode_ack(p, n, &a), cases[i].rc);
    }
    /* 32 extra sequence numbers, not 33 */
    uint8_t p[9 + 8 * 33];
    memset(p, 0, sizeof p);
    for (uint8_t count = 32; count <= 33; count++) {
        p[8] = count;
        for (size_t i = 0; i < count; i++)
            vg_put_u64be(p + 9 + 8 * i, 100 + i);
        struct vg_proto_ack a;
        assert_int_equal(vg_proto_decode_ack(p, 9 + 8 * (size_t)count, &a),
                         count <= VG_PROTO_MAX_EXTRA_ACKS ? VG_OK : VG_EFORMAT);
        if (count == 32)
            assert_true(a.n_extra == 32 && a.extra[31] == 131);
    }
}

static void test_records_layout(void **state)
{
    (void)state;
#define HB "01 08 00 00 01 9f 1c b1 28 00"
    static const struct {
        const char *what, *payload;
        int begin_rc;
        size_t n_ok; /* records read before the end or the error */
        int end_rc;  /* 0: the end; or the error */
    } cases[] = {
        {"empty payload", "", VG_EFORMAT, 0, 0},
        {"half a count", "00", VG_EFORMAT, 0, 0},
        {"no records", "00 00", VG_OK, 0, 0},
        {"no records, then bytes", "00 00 04", VG_OK, 0, VG_EFORMAT},
        {"1024 announced", "04 00", VG_OK, 0, VG_EFORMAT}, /* allowed, but not there */
        {"1025 announced", "04 01", VG_ERANGE, 0, 0},
        {"65535 announced", "ff ff", VG_ERANGE, 0, 0},
        {"one", "00 01  04 00 00 0a 00 00 00 00 00 00 00 01 " HB, VG_OK, 1, 0},
        {"one announced, two there",
         "00 01  04 00 00 0a 00 00 00 00 00 00 00 01 " HB
         "       04 00 00 0a 00 00 00 00 00 00 00 02 " HB,
         VG_OK, 1, VG_EFORMAT},
        {"two announced, one there", "00 02  04 00 00 0a 00 00 00 00 00 00 00 01 " HB, VG_OK, 1,
         VG_EFORMAT},
        {"header cut", "00 01  04 00 00 0a 00 00 00 00 00 00 00", VG_OK, 0, VG_EFORMAT},
        {"body cut", "00 01  04 00 00 0a 00 00 00 00 00 00 00 01 01 08 00 00", VG_OK, 0,
         VG_EFORMAT},
        {"body longer than the payload", "00 01  04 00 00 0b 00 00 00 00 00 00 00 01 " HB, VG_OK, 0,
         VG_EFORMAT},
        {"body length short of its field", "00 01  04 00 00 09 00 00 00 00 00 00 00 01 " HB, VG_OK,
         0, VG_EFORMAT},
        {"reserved byte", "00 01  04 01 00 0a 00 00 00 00 00 00 00 01 " HB, VG_OK, 0, VG_EFORMAT},
        {"reserved byte ff", "00 01  04 ff 00 0a 00 00 00 00 00 00 00 01 " HB, VG_OK, 0,
         VG_EFORMAT},
        {"seq 0", "00 01  04 00 00 0a 00 00 00 00 00 00 00 00 " HB, VG_OK, 0, VG_EFORMAT},
        {"seq max", "00 01  04 00 00 0a ff ff ff ff ff ff ff ff " HB, VG_OK, 1, 0},
        {"record type 0", "00 01  00 00 00 0a 00 00 00 00 00 00 00 01 " HB, VG_OK, 0, VG_EFORMAT},
        {"record type 5", "00 01  05 00 00 0a 00 00 00 00 00 00 00 01 " HB, VG_OK, 0, VG_EFORMAT},
        {"record type ff", "00 01  ff 00 00 00 00 00 00 00 00 00 00 01", VG_OK, 0, VG_EFORMAT},
        {"a bad record after a good one",
         "00 02  04 00 00 0a 00 00 00 00 00 00 00 01 " HB
         "       04 00 00 0a 00 00 00 00 00 00 00 00 " HB,
         VG_OK, 1, VG_EFORMAT},
        {"empty body: no time", "00 01  04 00 00 00 00 00 00 00 00 00 00 01", VG_OK, 0, VG_EFORMAT},
    };
#undef HB
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint8_t p[256];
        size_t n = from_hex(cases[i].payload, p, sizeof p);
        struct vg_proto_records it;
        int rc = vg_proto_records_begin(&it, p, n);
        if (rc != cases[i].begin_rc)
            fail_msg("%s: begin %d", cases[i].what, rc);
        struct vg_proto_record rec;
        if (rc != VG_OK) {
            assert_int_equal(vg_proto_records_next(&it, &rec), VG_EFORMAT);
            continue;
        }
        size_t got = 0;
        while ((rc = vg_proto_records_next(&it, &rec)) == 1)
            got++;
        if (got != cases[i].n_ok || rc != cases[i].end_rc)
            fail_msg("%s: %zu records then %d", cases[i].what, got, rc);
        /* the end stays the end; an error stays an error */
        assert_int_equal(vg_proto_records_next(&it, &rec), rc);
    }
}

/* A refusal leaves the caller's structure as it was. */
static void test_outputs_untouched_on_error(void **state)
{
    (void)state;
    uint8_t bad[] = {0x01, 0x01, 0x01, 0x01, 0x01}; /* tag 1 twice, then a stray byte */
    struct vg_proto_hello hello;
    struct vg_proto_ring ring;
    struct vg_proto_record rec;
    memset(&hello, 0x5a, sizeof hello);
    memset(&ring, 0x5a, sizeof ring);
    memset(&rec, 0x5a, sizeof rec);
    assert_int_equal(vg_proto_decode_hello(bad, sizeof bad, &hello), VG_EFORMAT);
    for (size_t i = 0; i < sizeof hello; i++)
        assert_int_equal(((const uint8_t *)&hello)[i], 0x5a);
    assert_int_equal(vg_proto_decode_ring(bad, sizeof bad, &ring), VG_EFORMAT);
    for (size_t i = 0; i < sizeof ring; i++)
        assert_int_equal(((const uint8_t *)&ring)[i], 0x5a);
    uint8_t p[32];
    size_t n = from_hex("00 01  04 00 00 0a 00 00 00 00 00 00 00 00 "
                        "01 08 00 00 01 9f 1c b1 28 00",
                        p, sizeof p);
    struct vg_proto_records it;
    assert_int_equal(vg_proto_records_begin(&it, p, n), VG_OK);
    assert_int_equal(vg_proto_records_next(&it, &rec), VG_EFORMAT);
    for (size_t i = 0; i < sizeof rec; i++)
        assert_int_equal(((const uint8_t *)&rec)[i], 0x5a);
}

/* ---- encoders ------------------------------------------------------------------ */

static struct vg_proto_record fix_record(double lat, double lon, float acc, float speed,
                                         float heading)
{
    struct vg_proto_record r;
    memset(&r, 0, sizeof r);
    r.seq = 1;
    r.type = VG_REC_FIX;
    r.fix = (struct vg_fix)FIX(T0, lat, lon, acc, speed, heading, VG_FIX_3D);
    return r;
}

static void test_encoders_refuse(void **state)
{
    (void)state;
    struct {
        const char *what;
        struct vg_proto_record rec;
        int rc;
    } cases[] = {
        {"NaN latitude", fix_record((double)NAN, 2, 5, 1, 1), VG_EINVAL},
        {"NaN longitude", fix_record(47, (double)NAN, 5, 1, 1), VG_EINVAL},
        {"infinite latitude", fix_record(HUGE_VAL, 2, 5, 1, 1), VG_EINVAL},
        {"latitude above 90", fix_record(90.0000001, 2, 5, 1, 1), VG_EINVAL},
        {"latitude below -90", fix_record(-90.5, 2, 5, 1, 1), VG_EINVAL},
        {"longitude above 180", fix_record(47, 180.0000001, 5, 1, 1), VG_EINVAL},
        {"longitude below -180", fix_record(47, -200, 5, 1, 1), VG_EINVAL},
        {"NaN accuracy", fix_record(47, 2, NAN, 1, 1), VG_EINVAL},
        {"negative accuracy", fix_record(47, 2, -0.01f, 1, 1), VG_EINVAL},
        {"infinite accuracy", fix_record(47, 2, INFINITY, 1, 1), VG_EINVAL},
        {"accuracy beyond 32 bits of cm", fix_record(47, 2, 5e7f, 1, 1), VG_EINVAL},
        {"NaN speed", fix_record(47, 2, 5, NAN, 1), VG_EINVAL},
        {"-inf speed", fix_record(47, 2, 5, -INFINITY, 1), VG_EINVAL},
        {"speed beyond 16 bits of cm/s", fix_record(47, 2, 5, 655.36f, 1), VG_EINVAL},
        {"NaN heading", fix_record(47, 2, 5, 1, NAN), VG_EINVAL},
        {"heading beyond 16 bits", fix_record(47, 2, 5, 1, 700), VG_EINVAL},
        {"limits", fix_record(-90, 180, 42949672.0f, 655.35f, 655.35f), VG_OK},
        {"unknown speed and heading", fix_record(90, -180, 0, -1, -5), VG_OK},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        size_t w = 12345;
        int rc = vg_proto_encode_records(frame_buf, sizeof frame_buf, &cases[i].rec, 1, &w);
        if (rc != cases[i].rc)
            fail_msg("%s: %d", cases[i].what, rc);
        if (rc != VG_OK)
            assert_int_equal(w, 12345);
    }

    struct vg_proto_record r = fix_record(47, 2, 5, 1, 1), rs[2];
    size_t w;
#define REFUSED(rec_, rc_)                                                                         \
    do {                                                                                           \
        w = 12345;                                                                                 \
        assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, &(rec_), 1, &w),     \
                         rc_);                                                                     \
        assert_int_equal(w, 12345);                                                                \
    } while (0)
    r.fix.time_ms = -1;
    REFUSED(r, VG_EINVAL);
    r = fix_record(47, 2, 5, 1, 1);
    r.fix.quality = VG_FIX_NETWORK + 1;
    REFUSED(r, VG_EINVAL);
    r = fix_record(47, 2, 5, 1, 1);
    r.seq = 0;
    REFUSED(r, VG_EINVAL);
    r.seq = 1;
    r.type = 0;
    REFUSED(r, VG_EINVAL);
    r.type = 5;
    REFUSED(r, VG_EINVAL);
    /* no fix: the position's fields are not looked at */
    r = fix_record((double)NAN, 1000, NAN, NAN, NAN);
    r.fix.quality = VG_FIX_NONE;
#undef REFUSED
    w = 0;
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, &r, 1, &w), VG_OK);
    assert_int_equal(w, VG_PROTO_HEADER_LEN + 2 + 12 + 10 + 3);

    memset(rs, 0, sizeof rs);
    rs[0].seq = 1;
    rs[0].type = VG_REC_STATUS;
    rs[0].status = (struct vg_unit_status){T0, -1, -1, -1, -1, -1, -1, -1};
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, rs, 1, &w), VG_OK);
    assert_int_equal(w, VG_PROTO_HEADER_LEN + 2 + 12 + 10); /* only the time */
    rs[0].status.battery_pct = -2;
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, rs, 1, &w), VG_EINVAL);
    rs[0].status.battery_pct = 127;
    rs[0].status.strap_closed = INT8_MIN;
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, rs, 1, &w), VG_EINVAL);
    rs[0].status.strap_closed = -1;
    rs[0].subject = 2;
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, rs, 1, &w), VG_EINVAL);
    rs[0].subject = 0;
    rs[0].status.time_ms = INT64_MIN;
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, rs, 1, &w), VG_EINVAL);
    /* a bad second record: the whole frame is refused */
    rs[0].status.time_ms = T0;
    rs[1] = rs[0];
    rs[1].type = VG_REC_EVENT;
    rs[1].event = (struct vg_unit_event){T0, 0};
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, rs, 2, &w), VG_EINVAL);
    rs[1].event.kind = 7;
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, rs, 2, &w), VG_EINVAL);
    rs[1].event.kind = VG_EVENT_RECORD_LOST;
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, rs, 2, &w), VG_OK);
    rs[1].event.kind = VG_EVENT_POWER_ON;
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, rs, 2, &w), VG_OK);
    rs[1].type = VG_REC_HEARTBEAT; /* the kind is not looked at */
    rs[1].event.kind = 77;
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, rs, 2, &w), VG_OK);

    /* messages */
    struct msg m;
    memset(&m, 0, sizeof m);
    m.type = VG_PROTO_RING;
    m.ring.level = 3;
    assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_EINVAL);
    m.ring.level = 2;
    memcpy(m.ring.message, "\xc3\x28", 3); /* invalid UTF-8 */
    assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_EINVAL);
    memset(m.ring.message, 'a', sizeof m.ring.message); /* no NUL in the array */
    assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_EINVAL);
    m.ring.message[VG_PROTO_MAX_TEXT] = '\0'; /* 200 bytes: the most */
    assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_OK);

    memset(&m, 0, sizeof m);
    m.type = VG_PROTO_HELLO;
    memset(m.hello.firmware, 'f', sizeof m.hello.firmware);
    assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_EINVAL);
    m.hello.firmware[64] = '\0';
    assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_OK);
    memcpy(m.hello.firmware, "\xed\xa0\x80", 4); /* a surrogate */
    assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_EINVAL);

    memset(&m, 0, sizeof m);
    m.type = VG_PROTO_ERROR;
    memcpy(m.error.message, "\xff", 2);
    assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_EINVAL);

    memset(&m, 0, sizeof m);
    m.type = VG_PROTO_COMMAND_ACK;
    m.command_ack.status = 2;
    assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_EINVAL);

    memset(&m, 0, sizeof m);
    m.type = VG_PROTO_ACK;
    m.ack.n_extra = VG_PROTO_MAX_EXTRA_ACKS + 1;
    assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_ERANGE);

    memset(&m, 0, sizeof m);
    m.type = VG_PROTO_WELCOME;
    m.welcome.server_time_ms = (uint64_t)INT64_MAX + 1;
    assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_EINVAL);
}

/* Optional fields are written only when they say something. */
static void test_encoders_write_only_information(void **state)
{
    (void)state;
    struct msg m;
    size_t w;
    static const struct {
        uint8_t type;
        size_t payload;
    } minimal[] = {
        {VG_PROTO_HELLO, 6},       {VG_PROTO_WELCOME, 23}, {VG_PROTO_ACK, 9},
        {VG_PROTO_CONFIG, 6},      {VG_PROTO_RING, 9},     {VG_PROTO_POSITION_REQUEST, 6},
        {VG_PROTO_COMMAND_ACK, 9}, {VG_PROTO_ERROR, 4},    {VG_PROTO_RECORDS, 2},
    };
    for (size_t i = 0; i < ARRAY_LEN(minimal); i++) {
        memset(&m, 0, sizeof m);
        m.type = minimal[i].type;
        assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &w), VG_OK);
        assert_int_equal(w, VG_PROTO_HEADER_LEN + minimal[i].payload);
    }
    /* a fix without speed or heading: time, quality, lat, lon, accuracy */
    struct vg_proto_record r = fix_record(1, 2, 3, -1, -1);
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, &r, 1, &w), VG_OK);
    assert_int_equal(w, VG_PROTO_HEADER_LEN + 2 + 12 + 10 + 3 + 3 * 6);
    /* speed 0 and heading 0 are information */
    r = fix_record(1, 2, 3, 0, 0);
    assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, &r, 1, &w), VG_OK);
    assert_int_equal(w, VG_PROTO_HEADER_LEN + 2 + 12 + 10 + 3 + 3 * 6 + 2 * 4);
}

/* Rounding to nearest, and a heading rounded up to 360.00 written as 0. */
static void test_encoder_rounding(void **state)
{
    (void)state;
    static const struct {
        double lat;
        float acc, speed, heading;
        const char *lat_hex, *acc_hex, *speed_hex, *heading_hex;
    } cases[] = {
        {0.000000051, 0.0051f, 0.0051f, 0.0051f, "00 00 00 01", "00 00 00 01", "00 01", "00 01"},
        {-0.000000051, 0.0049f, 0.0049f, 0.0049f, "ff ff ff ff", "00 00 00 00", "00 00", "00 00"},
        {47.12345674, 12.344f, 1.376f, 359.994f, "1c 16 78 07", "00 00 04 d2", "00 8a", "8c 9f"},
        {89.99999996, 3.0f, 0.0f, 359.996f, "35 a4 e9 00", "00 00 01 2c", "00 00", "00 00"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct vg_proto_record r =
            fix_record(cases[i].lat, 0, cases[i].acc, cases[i].speed, cases[i].heading);
        size_t w;
        assert_int_equal(vg_proto_encode_records(frame_buf, sizeof frame_buf, &r, 1, &w), VG_OK);
        const uint8_t *body = frame_buf + RECORDS_FIELDS_AT;
        /* time (10), quality (3), then lat, lon, accuracy, speed, heading */
        uint8_t want[4];
        from_hex(cases[i].lat_hex, want, 4);
        assert_int_equal(body[13], 2);
        assert_memory_equal(body + 15, want, 4);
        from_hex(cases[i].acc_hex, want, 4);
        assert_int_equal(body[25], 4);
        assert_memory_equal(body + 27, want, 4);
        from_hex(cases[i].speed_hex, want, 2);
        assert_int_equal(body[31], 5);
        assert_memory_equal(body + 33, want, 2);
        from_hex(cases[i].heading_hex, want, 2);
        assert_int_equal(body[35], 6);
        assert_memory_equal(body + 37, want, 2);
    }
}

/* A buffer too small: VG_ENOSPC, nothing written past it (the canary after
 * the buffer, and ASan on an allocation of exactly that size). */
static void test_encoders_small_buffers(void **state)
{
    (void)state;
    struct vg_prng r;
    vg_prng_seed(&r, 5);
    for (size_t i = 0; i < ARRAY_LEN(vectors) + 300; i++) {
        struct msg m;
        if (i < ARRAY_LEN(vectors)) {
            if (vectors[i].decode_only)
                continue;
            m = vectors[i].m;
        } else {
            random_msg(&r, all_types[i % ARRAY_LEN(all_types)], &m);
        }
        size_t need = 0;
        assert_int_equal(encode(&m, frame_buf, sizeof frame_buf, &need), VG_OK);
        for (size_t cap = 0; cap < need; cap++) {
            memset(frame_buf2, 0xa5, cap + 64);
            size_t w = 12345;
            assert_int_equal(encode(&m, frame_buf2, cap, &w), VG_ENOSPC);
            assert_int_equal(w, 12345);
            for (size_t k = cap; k < cap + 64; k++)
                if (frame_buf2[k] != 0xa5)
                    fail_msg("type %02x: byte %zu written with cap %zu", m.type, k, cap);
            uint8_t *exact = malloc(cap ? cap : 1);
            assert_non_null(exact);
            assert_int_equal(encode(&m, exact, cap, &w), VG_ENOSPC);
            free(exact);
        }
        uint8_t *exact = malloc(need);
        size_t w = 0;
        assert_non_null(exact);
        assert_int_equal(encode(&m, exact, need, &w), VG_OK);
        assert_int_equal(w, need);
        assert_memory_equal(exact, frame_buf, need);
        free(exact);
    }
}

static void test_big_endian_helpers(void **state)
{
    (void)state;
    uint8_t b[8];
    vg_put_u16be(b, 0x1234);
    assert_true(b[0] == 0x12 && b[1] == 0x34 && vg_get_u16be(b) == 0x1234);
    vg_put_u32be(b, 0x89abcdefu);
    assert_true(b[0] == 0x89 && b[3] == 0xef && vg_get_u32be(b) == 0x89abcdefu);
    vg_put_u64be(b, 0x0123456789abcdefull);
    assert_true(b[0] == 0x01 && b[7] == 0xef && vg_get_u64be(b) == 0x0123456789abcdefull);
    vg_put_u64be(b, UINT64_MAX);
    assert_true(vg_get_u64be(b) == UINT64_MAX && vg_get_u16be(b + 6) == UINT16_MAX);
    uint8_t h[8];
    vg_proto_put_header(h, VG_PROTO_RING, 0x01020304);
    uint8_t want[8] = {'V', 'G', 1, 0x84, 1, 2, 3, 4};
    assert_memory_equal(h, want, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_big_endian_helpers),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_vectors_in_doc),
        cmocka_unit_test(test_network_fix_source),
        cmocka_unit_test(test_round_trip_random),
        cmocka_unit_test(test_records_at_the_limits),
        cmocka_unit_test(test_partial_input),
        cmocka_unit_test(test_frame_header),
        cmocka_unit_test(test_unknown_fields_skipped),
        cmocka_unit_test(test_field_errors),
        cmocka_unit_test(test_field_values),
        cmocka_unit_test(test_fix_and_status_decoding),
        cmocka_unit_test(test_text_fields),
        cmocka_unit_test(test_ack_layout),
        cmocka_unit_test(test_records_layout),
        cmocka_unit_test(test_outputs_untouched_on_error),
        cmocka_unit_test(test_encoders_refuse),
        cmocka_unit_test(test_encoders_write_only_information),
        cmocka_unit_test(test_encoder_rounding),
        cmocka_unit_test(test_encoders_small_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
