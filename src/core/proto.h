/* The device protocol, version 1: frames between the units and the centre,
 * carried over TLS 1.3 (docs/PROTOCOL.md has the byte tables and the hex
 * test vectors). Pure codec: no I/O, no allocation; decoders point into the
 * caller's buffer and return VG_AGAIN when a frame is not complete yet, so
 * the caller feeds bytes as they come and calls again.
 *
 * Frame (all integers big-endian):
 *   0  2  magic "VG" (0x56 0x47)
 *   2  1  protocol version (1)
 *   3  1  message type (enum vg_proto_type)
 *   4  4  payload length (<= VG_PROTO_MAX_PAYLOAD)
 *   8  n  payload
 *
 * Most payloads are lists of fields: tag (1 byte), length (1 byte), value.
 * A field with an unknown tag is skipped (forward compatibility); a known
 * tag with the wrong length, a missing required field, or bytes left over
 * that do not form a field are errors (VG_EFORMAT).
 *
 * RECORDS payload: count (2 bytes, <= VG_PROTO_MAX_RECORDS), then count
 * records: type (1), reserved (1, zero), body length (2), sequence number
 * (8), body (fields). A unit numbers its records from 1, never reuses a
 * number (the counter survives reboots) and resends what was not
 * acknowledged; the centre stores each (unit, sequence) once. */
#ifndef VG_CORE_PROTO_H
#define VG_CORE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "core/fix.h"

#define VG_PROTO_VERSION        1
#define VG_PROTO_HEADER_LEN     8
#define VG_PROTO_MAX_PAYLOAD    65536
#define VG_PROTO_MAX_RECORDS    1024
#define VG_PROTO_MAX_TEXT       200 /* ring messages and error texts, UTF-8 bytes */
#define VG_PROTO_MAX_EXTRA_ACKS 32

enum vg_proto_type {
    /* unit -> centre */
    VG_PROTO_HELLO = 0x01,
    VG_PROTO_RECORDS = 0x02,
    VG_PROTO_COMMAND_ACK = 0x03,
    /* centre -> unit */
    VG_PROTO_WELCOME = 0x81,
    VG_PROTO_ACK = 0x82,
    VG_PROTO_CONFIG = 0x83,
    VG_PROTO_RING = 0x84,
    VG_PROTO_POSITION_REQUEST = 0x85,
    VG_PROTO_ERROR = 0x86,
};

enum vg_proto_record_type {
    VG_REC_FIX = 1,
    VG_REC_STATUS = 2,
    VG_REC_EVENT = 3,
    VG_REC_HEARTBEAT = 4,
};

/* Whose status a STATUS record gives: the unit's own, or (author's unit
 * only) the bracelet's, relayed over the short-range link. */
enum vg_proto_subject {
    VG_SUBJECT_SELF = 0,
    VG_SUBJECT_BRACELET = 1,
};

/* Error codes of an ERROR message; the centre closes the connection after
 * sending one. */
enum vg_proto_error {
    VG_PROTO_ERR_MALFORMED = 1,    /* a frame or a field did not parse */
    VG_PROTO_ERR_TOO_LARGE = 2,    /* payload or record count over the limits */
    VG_PROTO_ERR_VERSION = 3,      /* no common protocol version */
    VG_PROTO_ERR_UNEXPECTED = 4,   /* a message not allowed now (e.g. records before hello) */
    VG_PROTO_ERR_UNKNOWN_UNIT = 5, /* the certificate is valid but the unit is not assigned */
    VG_PROTO_ERR_OVERLOADED = 6,   /* try again later (back-pressure) */
    VG_PROTO_ERR_SHUTDOWN = 7,     /* the centre is stopping */
    VG_PROTO_ERR_INVALID = 8,      /* a record parsed but its values are out of range */
};

struct vg_proto_header {
    uint8_t version;
    uint8_t type;
    uint32_t length;
};

/* One record as decoded (or to encode). For FIX, STATUS and EVENT the
 * matching member of the union holds the values in the core's units;
 * HEARTBEAT uses event.time_ms (event.kind = VG_EVENT_HEARTBEAT). */
struct vg_proto_record {
    uint64_t seq;
    uint8_t type;    /* enum vg_proto_record_type */
    uint8_t subject; /* STATUS: enum vg_proto_subject */
    union {
        struct vg_fix fix;
        struct vg_unit_status status;
        struct vg_unit_event event;
    };
};

struct vg_proto_hello {
    uint8_t version_min;
    uint8_t version_max;
    uint32_t boot_count; /* 0 if not sent */
    char firmware[65];   /* NUL-terminated, empty if not sent */
};

struct vg_proto_welcome {
    uint8_t version; /* chosen */
    uint64_t server_time_ms;
    uint64_t acked_seq; /* every record up to this one is stored */
    uint32_t report_interval_ms;
    uint32_t heartbeat_interval_ms;
};

struct vg_proto_ack {
    uint64_t cumulative; /* every record up to this one is stored */
    uint8_t n_extra;
    uint64_t extra[VG_PROTO_MAX_EXTRA_ACKS]; /* stored, above the cumulative one */
};

struct vg_proto_config {
    uint32_t command_id;
    uint32_t report_interval_ms;    /* 0: unchanged */
    uint32_t heartbeat_interval_ms; /* 0: unchanged */
};

struct vg_proto_ring {
    uint32_t command_id;
    uint8_t level; /* enum vg_level: 1 pre-alert, 2 alert; 0 information */
    uint16_t vibrate_ms;
    char message[VG_PROTO_MAX_TEXT + 1]; /* UTF-8, NUL-terminated */
    /* how the unit tells the person: 0 aloud (ring and vibrate), 1 vibrate
     * only, 2 on the screen only (enum vg_ring_mode, core/engine.h; her
     * notification policy) */
    uint8_t sound;
};

struct vg_proto_position_request {
    uint32_t command_id;
};

struct vg_proto_command_ack {
    uint32_t command_id;
    uint8_t status; /* 0 done, 1 refused */
};

struct vg_proto_error_msg {
    uint16_t code; /* enum vg_proto_error */
    char message[VG_PROTO_MAX_TEXT + 1];
};

/* ---- frames ------------------------------------------------------------ */

/* Look at the bytes received so far. VG_AGAIN: not a whole frame yet (the
 * header read so far is valid). VG_EFORMAT: bad magic, unknown version or
 * type. VG_ERANGE: payload over VG_PROTO_MAX_PAYLOAD (known from the header
 * alone, before the payload arrives). VG_OK: *payload points at the
 * payload inside buf and *frame_len is the frame's total length.
 * *h is filled as soon as the 8 header bytes are there (VG_OK, VG_ERANGE,
 * and VG_AGAIN while the payload is incomplete). */
int vg_proto_frame(const uint8_t *buf, size_t len, struct vg_proto_header *h,
                   const uint8_t **payload, size_t *frame_len);

/* Write a frame header for a payload of `length` bytes (8 bytes at out). */
void vg_proto_put_header(uint8_t *out, uint8_t type, uint32_t length);

/* ---- records ----------------------------------------------------------- */

struct vg_proto_records {
    const uint8_t *p;
    size_t left;
    uint16_t remaining;
};

/* Start reading a RECORDS payload; VG_EFORMAT / VG_ERANGE if the count is
 * missing or over VG_PROTO_MAX_RECORDS. */
int vg_proto_records_begin(struct vg_proto_records *it, const uint8_t *payload, size_t len);

/* The next record: 1 and *rec filled, 0 at the end (every byte used), or
 * VG_EFORMAT (truncated, unknown record type, bad field, bytes left over).
 * Values are decoded, not judged: the engine's checks apply afterwards.
 * After an error (here or in _begin) every further call returns VG_EFORMAT.
 * A frame with one bad record is malformed as a whole: decode them all
 * before acting on any. */
int vg_proto_records_next(struct vg_proto_records *it, struct vg_proto_record *rec);

/* A whole RECORDS frame (header included) for n records into out[cap];
 * VG_ENOSPC if it does not fit, VG_ERANGE beyond the limits, VG_EINVAL for
 * an unknown record type. *written: the frame's length. */
int vg_proto_encode_records(uint8_t *out, size_t cap, const struct vg_proto_record *recs, size_t n,
                            size_t *written);

/* ---- the other messages: whole frames out, payloads in ------------------- */

int vg_proto_encode_hello(uint8_t *out, size_t cap, const struct vg_proto_hello *m,
                          size_t *written);
int vg_proto_decode_hello(const uint8_t *payload, size_t len, struct vg_proto_hello *m);
int vg_proto_encode_welcome(uint8_t *out, size_t cap, const struct vg_proto_welcome *m,
                            size_t *written);
int vg_proto_decode_welcome(const uint8_t *payload, size_t len, struct vg_proto_welcome *m);
int vg_proto_encode_ack(uint8_t *out, size_t cap, const struct vg_proto_ack *m, size_t *written);
int vg_proto_decode_ack(const uint8_t *payload, size_t len, struct vg_proto_ack *m);
int vg_proto_encode_config(uint8_t *out, size_t cap, const struct vg_proto_config *m,
                           size_t *written);
int vg_proto_decode_config(const uint8_t *payload, size_t len, struct vg_proto_config *m);
int vg_proto_encode_ring(uint8_t *out, size_t cap, const struct vg_proto_ring *m, size_t *written);
int vg_proto_decode_ring(const uint8_t *payload, size_t len, struct vg_proto_ring *m);
int vg_proto_encode_position_request(uint8_t *out, size_t cap,
                                     const struct vg_proto_position_request *m, size_t *written);
int vg_proto_decode_position_request(const uint8_t *payload, size_t len,
                                     struct vg_proto_position_request *m);
int vg_proto_encode_command_ack(uint8_t *out, size_t cap, const struct vg_proto_command_ack *m,
                                size_t *written);
int vg_proto_decode_command_ack(const uint8_t *payload, size_t len, struct vg_proto_command_ack *m);
int vg_proto_encode_error(uint8_t *out, size_t cap, const struct vg_proto_error_msg *m,
                          size_t *written);
int vg_proto_decode_error(const uint8_t *payload, size_t len, struct vg_proto_error_msg *m);

/* Big-endian helpers (bounds are the caller's: they read/write exactly n bytes). */
uint16_t vg_get_u16be(const uint8_t *p);
uint32_t vg_get_u32be(const uint8_t *p);
uint64_t vg_get_u64be(const uint8_t *p);
void vg_put_u16be(uint8_t *p, uint16_t v);
void vg_put_u32be(uint8_t *p, uint32_t v);
void vg_put_u64be(uint8_t *p, uint64_t v);

#endif
