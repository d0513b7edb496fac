/* libFuzzer harness for the device protocol codec: the input is a byte
 * stream as a peer would send it. Every complete frame is decoded (with
 * its type's decoder, and with every other decoder too, since a decoder
 * must survive any payload); everything that decodes is encoded again and
 * decoded again, and must come back with the same values and the same
 * bytes (one canonical form). Nothing may be read outside the input
 * (ASan), no encoder may write past its buffer, and every refusal must be
 * one of the documented codes. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/proto.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define MAX_FRAME (VG_PROTO_HEADER_LEN + VG_PROTO_MAX_PAYLOAD)
#define CANARY    16

static uint8_t out1[MAX_FRAME + CANARY], out2[MAX_FRAME + CANARY];
static struct vg_proto_record recs1[VG_PROTO_MAX_RECORDS], recs2[VG_PROTO_MAX_RECORDS];

static bool text_sane(const char *s, size_t size, size_t max)
{
    size_t n = 0;
    while (n < size && s[n] != '\0')
        n++;
    return n < size && n <= max;
}

/* What an encoder wrote is one whole frame of the given type, and not a
 * byte more: the canary after the buffer is intact. */
static const uint8_t *check_written(const uint8_t *out, size_t written, uint8_t type, size_t *len)
{
    struct vg_proto_header h;
    const uint8_t *p;
    size_t frame_len;
    for (size_t i = 0; i < CANARY; i++)
        CHECK(out[MAX_FRAME + i] == 0xa5);
    CHECK(vg_proto_frame(out, written, &h, &p, &frame_len) == VG_OK);
    CHECK(frame_len == written && h.type == type);
    *len = h.length;
    return p;
}

/* Re-encode a decoded message, decode it again: equal values, equal bytes. */
#define ROUND_TRIP(T, decode_fn, encode_fn, equal_fn, type_code, payload, len)                     \
    do {                                                                                           \
        struct T a_, b_;                                                                           \
        int rc_ = decode_fn(payload, len, &a_);                                                    \
        CHECK(rc_ == VG_OK || rc_ == VG_EFORMAT);                                                  \
        if (rc_ != VG_OK)                                                                          \
            break;                                                                                 \
        size_t w1_ = 0, w2_ = 0, l1_, l2_;                                                         \
        CHECK(encode_fn(out1, MAX_FRAME, &a_, &w1_) == VG_OK);                                     \
        const uint8_t *p1_ = check_written(out1, w1_, type_code, &l1_);                            \
        CHECK(decode_fn(p1_, l1_, &b_) == VG_OK);                                                  \
        CHECK(equal_fn(&a_, &b_));                                                                 \
        CHECK(encode_fn(out2, MAX_FRAME, &b_, &w2_) == VG_OK);                                     \
        check_written(out2, w2_, type_code, &l2_);                                                 \
        CHECK(w1_ == w2_ && memcmp(out1, out2, w1_) == 0);                                         \
        /* one byte short: refused, nothing written past the end */                                \
        memset(out2 + w1_ - 1, 0xa5, CANARY);                                                      \
        size_t w3_ = 7;                                                                            \
        CHECK(encode_fn(out2, w1_ - 1, &b_, &w3_) == VG_ENOSPC && w3_ == 7);                       \
        for (size_t i_ = 0; i_ < CANARY; i_++)                                                     \
            CHECK(out2[w1_ - 1 + i_] == 0xa5);                                                     \
    } while (0)

static bool hello_equal(const struct vg_proto_hello *a, const struct vg_proto_hello *b)
{
    CHECK(text_sane(a->firmware, sizeof a->firmware, 64));
    return a->version_min == b->version_min && a->version_max == b->version_max &&
           a->boot_count == b->boot_count && strcmp(a->firmware, b->firmware) == 0;
}

static bool welcome_equal(const struct vg_proto_welcome *a, const struct vg_proto_welcome *b)
{
    CHECK(a->server_time_ms <= INT64_MAX);
    return a->version == b->version && a->server_time_ms == b->server_time_ms &&
           a->acked_seq == b->acked_seq && a->report_interval_ms == b->report_interval_ms &&
           a->heartbeat_interval_ms == b->heartbeat_interval_ms;
}

static bool ack_equal(const struct vg_proto_ack *a, const struct vg_proto_ack *b)
{
    CHECK(a->n_extra <= VG_PROTO_MAX_EXTRA_ACKS);
    if (a->cumulative != b->cumulative || a->n_extra != b->n_extra)
        return false;
    for (size_t i = 0; i < a->n_extra; i++)
        if (a->extra[i] != b->extra[i])
            return false;
    return true;
}

static bool config_equal(const struct vg_proto_config *a, const struct vg_proto_config *b)
{
    return a->command_id == b->command_id && a->report_interval_ms == b->report_interval_ms &&
           a->heartbeat_interval_ms == b->heartbeat_interval_ms;
}

static bool ring_equal(const struct vg_proto_ring *a, const struct vg_proto_ring *b)
{
    CHECK(a->level <= 2 && a->sound <= 2 &&
          text_sane(a->message, sizeof a->message, VG_PROTO_MAX_TEXT));
    return a->command_id == b->command_id && a->level == b->level &&
           a->vibrate_ms == b->vibrate_ms && a->sound == b->sound &&
           strcmp(a->message, b->message) == 0;
}

static bool position_request_equal(const struct vg_proto_position_request *a,
                                   const struct vg_proto_position_request *b)
{
    return a->command_id == b->command_id;
}

static bool command_ack_equal(const struct vg_proto_command_ack *a,
                              const struct vg_proto_command_ack *b)
{
    CHECK(a->status <= 1);
    return a->command_id == b->command_id && a->status == b->status;
}

static bool error_equal(const struct vg_proto_error_msg *a, const struct vg_proto_error_msg *b)
{
    CHECK(text_sane(a->message, sizeof a->message, VG_PROTO_MAX_TEXT));
    return a->code == b->code && strcmp(a->message, b->message) == 0;
}

/* Decoded records are within the wire's domain (finite, coordinates in
 * range, unknowns as -1), and equal to their second decoding. */
static bool record_equal(const struct vg_proto_record *a, const struct vg_proto_record *b)
{
    CHECK(a->seq >= 1);
    if (a->seq != b->seq || a->type != b->type || a->subject != b->subject)
        return false;
    switch (a->type) {
    case VG_REC_FIX: {
        const struct vg_fix *x = &a->fix, *y = &b->fix;
        CHECK(x->time_ms >= 0 && x->quality <= VG_FIX_NETWORK);
        CHECK(isfinite(x->lat_deg) && fabs(x->lat_deg) <= 90.0);
        CHECK(isfinite(x->lon_deg) && fabs(x->lon_deg) <= 180.0);
        CHECK(isfinite(x->accuracy_m) && x->accuracy_m >= 0.0f);
        CHECK(x->speed_mps == -1.0f || (x->speed_mps >= 0.0f && x->speed_mps <= 655.35f));
        CHECK(x->heading_deg == -1.0f || (x->heading_deg >= 0.0f && x->heading_deg <= 655.35f));
        if (x->quality == VG_FIX_NONE)
            CHECK(x->lat_deg == 0 && x->lon_deg == 0 && x->speed_mps == -1.0f);
        if (x->quality == VG_FIX_NETWORK) /* a network estimate has no course */
            CHECK(x->speed_mps == -1.0f && x->heading_deg == -1.0f);
        return x->time_ms == y->time_ms && x->quality == y->quality && x->lat_deg == y->lat_deg &&
               x->lon_deg == y->lon_deg && x->accuracy_m == y->accuracy_m &&
               x->speed_mps == y->speed_mps && x->heading_deg == y->heading_deg;
    }
    case VG_REC_STATUS: {
        const struct vg_unit_status *x = &a->status, *y = &b->status;
        CHECK(x->time_ms >= 0 && a->subject <= VG_SUBJECT_BRACELET);
        CHECK(x->battery_pct >= -1 && x->charging >= -1 && x->strap_closed >= -1 &&
              x->skin_contact >= -1 && x->bracelet_link >= -1 && x->beacon_heard >= -1 &&
              x->beacon_range_m >= -1);
        return x->time_ms == y->time_ms && x->battery_pct == y->battery_pct &&
               x->charging == y->charging && x->strap_closed == y->strap_closed &&
               x->skin_contact == y->skin_contact && x->bracelet_link == y->bracelet_link &&
               x->beacon_heard == y->beacon_heard && x->beacon_range_m == y->beacon_range_m;
    }
    case VG_REC_EVENT:
    case VG_REC_HEARTBEAT:
        CHECK(a->event.time_ms >= 0);
        CHECK(a->event.kind >= VG_EVENT_HEARTBEAT && a->event.kind <= VG_EVENT_RECORD_LOST);
        CHECK(a->type == VG_REC_EVENT || a->event.kind == VG_EVENT_HEARTBEAT);
        return a->event.time_ms == b->event.time_ms && a->event.kind == b->event.kind;
    default: abort(); /* an unknown record type was accepted */
    }
}

static size_t read_records(const uint8_t *p, size_t len, struct vg_proto_record *recs, int *rc)
{
    struct vg_proto_records it;
    size_t n = 0;
    *rc = vg_proto_records_begin(&it, p, len);
    CHECK(*rc == VG_OK || *rc == VG_EFORMAT || *rc == VG_ERANGE);
    if (*rc != VG_OK)
        return 0;
    for (;;) {
        struct vg_proto_record r;
        int next = vg_proto_records_next(&it, &r);
        if (next == 0) {
            *rc = VG_OK;
            break;
        }
        if (next < 0) {
            CHECK(next == VG_EFORMAT);
            CHECK(vg_proto_records_next(&it, &r) == VG_EFORMAT); /* stays refused */
            *rc = next;
            break;
        }
        CHECK(next == 1 && n < VG_PROTO_MAX_RECORDS);
        recs[n++] = r;
    }
    return n;
}

static void records_round_trip(const uint8_t *payload, size_t len)
{
    int rc;
    /* Records read before an error are re-encoded too: each one on its
     * own was well-formed. */
    size_t n = read_records(payload, len, recs1, &rc);
    size_t w1 = 0, w2 = 0, l1, l2;
    CHECK(vg_proto_encode_records(out1, MAX_FRAME, recs1, n, &w1) == VG_OK);
    const uint8_t *p1 = check_written(out1, w1, VG_PROTO_RECORDS, &l1);
    size_t n2 = read_records(p1, l1, recs2, &rc);
    CHECK(rc == VG_OK && n2 == n);
    for (size_t i = 0; i < n; i++)
        CHECK(record_equal(&recs1[i], &recs2[i]));
    CHECK(vg_proto_encode_records(out2, MAX_FRAME, recs2, n2, &w2) == VG_OK);
    check_written(out2, w2, VG_PROTO_RECORDS, &l2);
    CHECK(w1 == w2 && memcmp(out1, out2, w1) == 0);
}

static void decode_all(const uint8_t *p, size_t len)
{
    ROUND_TRIP(vg_proto_hello, vg_proto_decode_hello, vg_proto_encode_hello, hello_equal,
               VG_PROTO_HELLO, p, len);
    ROUND_TRIP(vg_proto_welcome, vg_proto_decode_welcome, vg_proto_encode_welcome, welcome_equal,
               VG_PROTO_WELCOME, p, len);
    ROUND_TRIP(vg_proto_ack, vg_proto_decode_ack, vg_proto_encode_ack, ack_equal, VG_PROTO_ACK, p,
               len);
    ROUND_TRIP(vg_proto_config, vg_proto_decode_config, vg_proto_encode_config, config_equal,
               VG_PROTO_CONFIG, p, len);
    ROUND_TRIP(vg_proto_ring, vg_proto_decode_ring, vg_proto_encode_ring, ring_equal, VG_PROTO_RING,
               p, len);
    ROUND_TRIP(vg_proto_position_request, vg_proto_decode_position_request,
               vg_proto_encode_position_request, position_request_equal, VG_PROTO_POSITION_REQUEST,
               p, len);
    ROUND_TRIP(vg_proto_command_ack, vg_proto_decode_command_ack, vg_proto_encode_command_ack,
               command_ack_equal, VG_PROTO_COMMAND_ACK, p, len);
    ROUND_TRIP(vg_proto_error_msg, vg_proto_decode_error, vg_proto_encode_error, error_equal,
               VG_PROTO_ERROR, p, len);
    records_round_trip(p, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(out1 + MAX_FRAME, 0xa5, CANARY);
    memset(out2 + MAX_FRAME, 0xa5, CANARY);
    size_t off = 0;
    while (off < size) {
        struct vg_proto_header h;
        const uint8_t *payload = NULL;
        size_t frame_len = 0;
        int rc = vg_proto_frame(data + off, size - off, &h, &payload, &frame_len);
        if (rc != VG_OK) {
            CHECK(rc == VG_AGAIN || rc == VG_EFORMAT || rc == VG_ERANGE);
            if (rc == VG_ERANGE)
                CHECK(size - off >= VG_PROTO_HEADER_LEN && h.length > VG_PROTO_MAX_PAYLOAD);
            if (rc == VG_AGAIN && size - off >= VG_PROTO_HEADER_LEN)
                CHECK(h.length > size - off - VG_PROTO_HEADER_LEN);
            break;
        }
        CHECK(h.version == VG_PROTO_VERSION && h.length <= VG_PROTO_MAX_PAYLOAD);
        CHECK(frame_len == VG_PROTO_HEADER_LEN + (size_t)h.length && frame_len <= size - off);
        CHECK(payload == data + off + VG_PROTO_HEADER_LEN);
        /* every prefix of a whole frame is VG_AGAIN */
        const uint8_t *p2;
        size_t fl2;
        struct vg_proto_header h2;
        CHECK(vg_proto_frame(data + off, frame_len - 1, &h2, &p2, &fl2) == VG_AGAIN);
        decode_all(payload, h.length);
        off += frame_len;
    }
    return 0;
}
