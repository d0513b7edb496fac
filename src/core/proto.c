/* The device protocol codec (proto.h). docs/PROTOCOL.md is the spec a
 * firmware engineer reads; this file follows it.
 *
 * Decoding is driven by small static tables: each message (and each record
 * body) lists its tags with their width and whether they are required, and
 * one field walker checks what is common to all of them (lengths,
 * duplicates, required fields, text). The per-message functions then only
 * turn wire integers into the core's units.
 *
 * The wire has a domain, and both directions hold the same one: whatever
 * the decoder accepts the encoder can write back, and whatever the encoder
 * writes the decoder accepts (the fuzzer checks it). What lies inside that
 * domain is passed through without judgement: the engine's checks
 * (vg_fix_check and friends) decide whether a value makes sense. */
#include "core/proto.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "core/err.h"

/* ---- big-endian helpers ------------------------------------------------ */

uint16_t vg_get_u16be(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

uint32_t vg_get_u32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

uint64_t vg_get_u64be(const uint8_t *p)
{
    return (uint64_t)vg_get_u32be(p) << 32 | vg_get_u32be(p + 4);
}

void vg_put_u16be(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void vg_put_u32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void vg_put_u64be(uint8_t *p, uint64_t v)
{
    vg_put_u32be(p, (uint32_t)(v >> 32));
    vg_put_u32be(p + 4, (uint32_t)v);
}

/* n (1..8) bytes, big-endian. */
static uint64_t get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Two's complement without relying on the implementation-defined
 * conversion of an out-of-range unsigned value. */
static int32_t to_i32(uint32_t u)
{
    return u <= INT32_MAX ? (int32_t)u : -(int32_t)(UINT32_MAX - u) - 1;
}

/* ---- text -------------------------------------------------------------- */

/* Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF)
 * and no NUL: the text ends up in a C string, where a NUL would cut it
 * silently, and on a screen, where invalid bytes show as garbage. */
static bool text_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t extra;
        uint32_t cp, min;
        if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
            cp = c & 0x1fu;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            cp = c & 0x0fu;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            cp = c & 0x07u;
            min = 0x10000;
        } else {
            return false; /* a continuation byte, C0/C1 (always overlong) or F5..FF */
        }
        if (n - i - 1 < extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (cc & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += 1 + extra;
    }
    return true;
}

/* The length of a NUL-terminated string held in char[size], if it ends
 * inside the array, is at most max bytes and is valid text. */
static int text_len(const char *s, size_t size, size_t max, size_t *len)
{
    size_t n = 0;
    while (n < size && s[n] != '\0')
        n++;
    if (n == size || n > max || !text_ok((const uint8_t *)s, n))
        return VG_EINVAL;
    *len = n;
    return VG_OK;
}

/* ---- frames ------------------------------------------------------------ */

static bool known_type(uint8_t t)
{
    switch (t) {
    case VG_PROTO_HELLO:
    case VG_PROTO_RECORDS:
    case VG_PROTO_COMMAND_ACK:
    case VG_PROTO_WELCOME:
    case VG_PROTO_ACK:
    case VG_PROTO_CONFIG:
    case VG_PROTO_RING:
    case VG_PROTO_POSITION_REQUEST:
    case VG_PROTO_ERROR: return true;
    default: return false;
    }
}

int vg_proto_frame(const uint8_t *buf, size_t len, struct vg_proto_header *h,
                   const uint8_t **payload, size_t *frame_len)
{
    /* Judge every header byte as soon as it arrives: a peer speaking
     * something else is told so at its first byte, not after eight. */
    if (len >= 1 && buf[0] != 'V')
        return VG_EFORMAT;
    if (len >= 2 && buf[1] != 'G')
        return VG_EFORMAT;
    if (len >= 3 && buf[2] != VG_PROTO_VERSION)
        return VG_EFORMAT;
    if (len >= 4 && !known_type(buf[3]))
        return VG_EFORMAT;
    if (len < VG_PROTO_HEADER_LEN)
        return VG_AGAIN;
    uint32_t length = vg_get_u32be(buf + 4);
    h->version = buf[2];
    h->type = buf[3];
    h->length = length;
    /* Known from the header alone: the caller refuses before buffering. */
    if (length > VG_PROTO_MAX_PAYLOAD)
        return VG_ERANGE;
    if (len - VG_PROTO_HEADER_LEN < length)
        return VG_AGAIN;
    *payload = buf + VG_PROTO_HEADER_LEN;
    *frame_len = VG_PROTO_HEADER_LEN + (size_t)length;
    return VG_OK;
}

void vg_proto_put_header(uint8_t *out, uint8_t type, uint32_t length)
{
    out[0] = 'V';
    out[1] = 'G';
    out[2] = VG_PROTO_VERSION;
    out[3] = type;
    vg_put_u32be(out + 4, length);
}

/* ---- fields ------------------------------------------------------------ */

#define MAX_TAG 15 /* tags used by version 1 fit a 16-bit "seen" mask */
#define TEXT    0  /* a field_spec width: variable-length text */

struct field_spec {
    uint8_t tag;
    uint8_t width;   /* 1, 2, 4, 8; or TEXT */
    uint8_t max_len; /* TEXT: longest value accepted */
    bool required;
};

struct fields {
    uint16_t seen; /* bit per known tag */
    uint64_t num[MAX_TAG + 1];
    const uint8_t *text[MAX_TAG + 1];
    uint8_t text_len[MAX_TAG + 1];
};

static bool has(const struct fields *f, unsigned tag)
{
    return (f->seen >> tag) & 1u;
}

/* Walk a field list that fills exactly [p, p + len). Unknown tags are
 * skipped (forward compatibility); a known tag is checked for its length,
 * its uniqueness and (text) its content; required fields must be there. */
static int parse_fields(const uint8_t *p, size_t len, const struct field_spec *spec, size_t n_spec,
                        struct fields *f)
{
    f->seen = 0;
    memset(f->num, 0, sizeof f->num); /* an absent number reads as 0 */
    while (len > 0) {
        if (len < 2)
            return VG_EFORMAT; /* a stray byte that is not a field */
        uint8_t tag = p[0], flen = p[1];
        if (flen > len - 2)
            return VG_EFORMAT; /* a value running past the end */
        const uint8_t *v = p + 2;
        p += 2 + (size_t)flen;
        len -= 2 + (size_t)flen;

        const struct field_spec *s = NULL;
        for (size_t i = 0; i < n_spec; i++)
            if (spec[i].tag == tag)
                s = &spec[i];
        if (s == NULL)
            continue;
        if (has(f, tag))
            return VG_EFORMAT; /* which of the two would be the truth? */
        f->seen = (uint16_t)(f->seen | 1u << tag);
        if (s->width != TEXT) {
            if (flen != s->width)
                return VG_EFORMAT;
            f->num[tag] = get_be(v, flen);
        } else {
            if (flen > s->max_len || !text_ok(v, flen))
                return VG_EFORMAT;
            f->text[tag] = v;
            f->text_len[tag] = flen;
        }
    }
    for (size_t i = 0; i < n_spec; i++)
        if (spec[i].required && !has(f, spec[i].tag))
            return VG_EFORMAT;
    return VG_OK;
}

static void copy_text(char *dst, const struct fields *f, unsigned tag)
{
    size_t n = has(f, tag) ? f->text_len[tag] : 0;
    if (n > 0)
        memcpy(dst, f->text[tag], n);
    dst[n] = '\0';
}

/* Times travel unsigned; the core holds them in int64_t. */
static int get_time(const struct fields *f, unsigned tag, int64_t *t)
{
    if (f->num[tag] > INT64_MAX)
        return VG_EFORMAT;
    *t = (int64_t)f->num[tag];
    return VG_OK;
}

/* ---- writer ------------------------------------------------------------ */

/* Writes never go past cap; once a write does not fit, pos keeps counting
 * and the frame is refused at the end (VG_ENOSPC). */
struct writer {
    uint8_t *out;
    size_t cap;
    size_t pos;
};

static void put_bytes(struct writer *w, const void *src, size_t n)
{
    if (w->pos <= w->cap && n <= w->cap - w->pos && n > 0)
        memcpy(w->out + w->pos, src, n);
    w->pos += n;
}

static void put_uint(struct writer *w, uint64_t v, size_t width)
{
    uint8_t b[8];
    for (size_t i = 0; i < width; i++)
        b[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    put_bytes(w, b, width);
}

static void put_field(struct writer *w, uint8_t tag, uint8_t width, uint64_t v)
{
    uint8_t head[2] = {tag, width};
    put_bytes(w, head, 2);
    put_uint(w, v, width);
}

static void put_text_field(struct writer *w, uint8_t tag, const char *s, size_t n)
{
    uint8_t head[2] = {tag, (uint8_t)n};
    put_bytes(w, head, 2);
    put_bytes(w, s, n);
}

static struct writer frame_start(uint8_t *out, size_t cap)
{
    struct writer w = {out, cap, VG_PROTO_HEADER_LEN};
    return w;
}

static int frame_finish(struct writer *w, uint8_t type, size_t *written)
{
    if (w->pos > w->cap)
        return VG_ENOSPC;
    size_t length = w->pos - VG_PROTO_HEADER_LEN;
    if (length > VG_PROTO_MAX_PAYLOAD)
        return VG_ERANGE;
    vg_proto_put_header(w->out, type, (uint32_t)length);
    *written = w->pos;
    return VG_OK;
}

/* Round to the nearest multiple of 1/scale, as an integer in [0, max];
 * VG_EINVAL for what the wire cannot carry (NaN, negative, too large). */
static int scaled_uint(double v, double scale, double max, uint64_t *out)
{
    if (!isfinite(v) || v < 0.0)
        return VG_EINVAL;
    double r = floor(v * scale + 0.5);
    if (r > max)
        return VG_EINVAL;
    *out = (uint64_t)r;
    return VG_OK;
}

/* ---- records ----------------------------------------------------------- */

#define REC_HEADER_LEN 12

enum {
    FIX_TIME = 1,
    FIX_LAT = 2,
    FIX_LON = 3,
    FIX_ACCURACY = 4,
    FIX_SPEED = 5,
    FIX_HEADING = 6,
    FIX_QUALITY = 7,
    FIX_SOURCE = 8,
};
/* FIX_SOURCE values: where a quality-0 record's position comes from */
#define FIX_SOURCE_GNSS    0
#define FIX_SOURCE_NETWORK 1
#define LAT_MAX_E7 900000000
#define LON_MAX_E7 1800000000

static const struct field_spec fix_spec[] = {
    {FIX_TIME, 8, 0, true},     {FIX_QUALITY, 1, 0, true},   {FIX_LAT, 4, 0, false},
    {FIX_LON, 4, 0, false},     {FIX_ACCURACY, 4, 0, false}, {FIX_SPEED, 2, 0, false},
    {FIX_HEADING, 2, 0, false}, {FIX_SOURCE, 1, 0, false},
};

enum {
    ST_TIME = 1,
    ST_BATTERY = 2,
    ST_CHARGING = 3,
    ST_STRAP = 4,
    ST_SKIN = 5,
    ST_LINK = 6,
    ST_SUBJECT = 7,
    ST_BEACON = 8,
    ST_BEACON_RANGE = 9,
};

static const struct field_spec status_spec[] = {
    {ST_TIME, 8, 0, true},     {ST_BATTERY, 1, 0, false}, {ST_CHARGING, 1, 0, false},
    {ST_STRAP, 1, 0, false},   {ST_SKIN, 1, 0, false},    {ST_LINK, 1, 0, false},
    {ST_SUBJECT, 1, 0, false}, {ST_BEACON, 1, 0, false},  {ST_BEACON_RANGE, 2, 0, false},
};

enum { EV_TIME = 1, EV_KIND = 2 };
static const struct field_spec event_spec[] = {{EV_TIME, 8, 0, true}, {EV_KIND, 1, 0, true}};
static const struct field_spec heartbeat_spec[] = {{EV_TIME, 8, 0, true}};

#define N_SPEC(a) (sizeof(a) / sizeof((a)[0]))

static bool event_kind_ok(unsigned kind)
{
    return kind >= VG_EVENT_HEARTBEAT && kind <= VG_EVENT_RECORD_LOST;
}

static int decode_fix(const uint8_t *p, size_t len, struct vg_fix *fix)
{
    struct fields f;
    int rc = parse_fields(p, len, fix_spec, N_SPEC(fix_spec), &f);
    if (rc != VG_OK || (rc = get_time(&f, FIX_TIME, &fix->time_ms)) != VG_OK)
        return rc;
    if (f.num[FIX_QUALITY] > VG_FIX_DGNSS)
        return VG_EFORMAT;
    fix->quality = (uint8_t)f.num[FIX_QUALITY];
    if (has(&f, FIX_SOURCE) && f.num[FIX_SOURCE] > FIX_SOURCE_NETWORK)
        return VG_EFORMAT;
    /* No GNSS fix, but the modem's network estimate: a quality-0 record
     * with source 1 and the position fields (an older reader sees "no
     * fix" and skips the tag it does not know). Without its position it
     * is a plain "no fix". */
    bool network = fix->quality == VG_FIX_NONE && has(&f, FIX_SOURCE) &&
                   f.num[FIX_SOURCE] == FIX_SOURCE_NETWORK && has(&f, FIX_LAT) &&
                   has(&f, FIX_LON) && has(&f, FIX_ACCURACY);
    if (network)
        fix->quality = VG_FIX_NETWORK;
    if (fix->quality == VG_FIX_NONE) {
        /* No position: whatever else came means nothing. */
        fix->lat_deg = 0;
        fix->lon_deg = 0;
        fix->accuracy_m = 0;
        fix->speed_mps = -1;
        fix->heading_deg = -1;
        return VG_OK;
    }
    if (!has(&f, FIX_LAT) || !has(&f, FIX_LON) || !has(&f, FIX_ACCURACY))
        return VG_EFORMAT;
    int32_t lat = to_i32((uint32_t)f.num[FIX_LAT]), lon = to_i32((uint32_t)f.num[FIX_LON]);
    /* Outside these a number is not a coordinate at all (a firmware bug,
     * not a judgement the engine has to make). */
    if (lat < -LAT_MAX_E7 || lat > LAT_MAX_E7 || lon < -LON_MAX_E7 || lon > LON_MAX_E7)
        return VG_EFORMAT;
    fix->lat_deg = (double)lat / 1e7;
    fix->lon_deg = (double)lon / 1e7;
    fix->accuracy_m = (float)((double)f.num[FIX_ACCURACY] / 100.0);
    fix->speed_mps = has(&f, FIX_SPEED) ? (float)((double)f.num[FIX_SPEED] / 100.0) : -1.0f;
    fix->heading_deg = has(&f, FIX_HEADING) ? (float)((double)f.num[FIX_HEADING] / 100.0) : -1.0f;
    if (network) /* a network estimate has no course */
        fix->speed_mps = fix->heading_deg = -1.0f;
    return VG_OK;
}

/* A sensor byte: absent is -1 (unknown); 128..255 does not fit the int8
 * fields and is malformed; 0..127 is passed through for the engine to judge. */
static int get_sensor(const struct fields *f, unsigned tag, int8_t *v)
{
    if (!has(f, tag)) {
        *v = -1;
        return VG_OK;
    }
    if (f->num[tag] > INT8_MAX)
        return VG_EFORMAT;
    *v = (int8_t)f->num[tag];
    return VG_OK;
}

static int decode_status(const uint8_t *p, size_t len, struct vg_unit_status *st, uint8_t *subject)
{
    struct fields f;
    int rc = parse_fields(p, len, status_spec, N_SPEC(status_spec), &f);
    if (rc != VG_OK || (rc = get_time(&f, ST_TIME, &st->time_ms)) != VG_OK)
        return rc;
    if ((rc = get_sensor(&f, ST_BATTERY, &st->battery_pct)) != VG_OK ||
        (rc = get_sensor(&f, ST_CHARGING, &st->charging)) != VG_OK ||
        (rc = get_sensor(&f, ST_STRAP, &st->strap_closed)) != VG_OK ||
        (rc = get_sensor(&f, ST_SKIN, &st->skin_contact)) != VG_OK ||
        (rc = get_sensor(&f, ST_LINK, &st->bracelet_link)) != VG_OK ||
        (rc = get_sensor(&f, ST_BEACON, &st->beacon_heard)) != VG_OK)
        return rc;
    /* metres; 0xffff does not fit the int16 field and no beacon carries so far */
    if (has(&f, ST_BEACON_RANGE) && f.num[ST_BEACON_RANGE] > INT16_MAX)
        return VG_EFORMAT;
    st->beacon_range_m = has(&f, ST_BEACON_RANGE) ? (int16_t)f.num[ST_BEACON_RANGE] : -1;
    if (f.num[ST_SUBJECT] > VG_SUBJECT_BRACELET)
        return VG_EFORMAT;
    *subject = (uint8_t)f.num[ST_SUBJECT]; /* absent: 0, VG_SUBJECT_SELF */
    return VG_OK;
}

static int decode_event(const uint8_t *p, size_t len, struct vg_unit_event *ev, bool heartbeat)
{
    struct fields f;
    int rc = heartbeat ? parse_fields(p, len, heartbeat_spec, N_SPEC(heartbeat_spec), &f)
                       : parse_fields(p, len, event_spec, N_SPEC(event_spec), &f);
    if (rc != VG_OK || (rc = get_time(&f, EV_TIME, &ev->time_ms)) != VG_OK)
        return rc;
    if (heartbeat) {
        ev->kind = VG_EVENT_HEARTBEAT;
        return VG_OK;
    }
    if (!event_kind_ok((unsigned)f.num[EV_KIND]))
        return VG_EFORMAT;
    ev->kind = (uint8_t)f.num[EV_KIND];
    return VG_OK;
}

/* A refused iterator stays refused: p == NULL marks it. */
static int records_fail(struct vg_proto_records *it, int rc)
{
    it->p = NULL;
    it->left = 0;
    it->remaining = 0;
    return rc;
}

int vg_proto_records_begin(struct vg_proto_records *it, const uint8_t *payload, size_t len)
{
    if (len < 2)
        return records_fail(it, VG_EFORMAT);
    uint16_t count = vg_get_u16be(payload);
    if (count > VG_PROTO_MAX_RECORDS)
        return records_fail(it, VG_ERANGE);
    it->p = payload + 2;
    it->left = len - 2;
    it->remaining = count;
    return VG_OK;
}

int vg_proto_records_next(struct vg_proto_records *it, struct vg_proto_record *rec)
{
    if (it->p == NULL)
        return VG_EFORMAT;
    if (it->remaining == 0)
        /* Bytes after the announced records are not records we could
         * acknowledge: refuse the frame rather than guess. */
        return it->left == 0 ? 0 : records_fail(it, VG_EFORMAT);
    if (it->left < REC_HEADER_LEN)
        return records_fail(it, VG_EFORMAT);
    const uint8_t *p = it->p;
    uint16_t body_len = vg_get_u16be(p + 2);
    struct vg_proto_record r;
    memset(&r, 0, sizeof r);
    r.type = p[0];
    r.seq = vg_get_u64be(p + 4);
    if (p[1] != 0 || r.seq == 0 || body_len > it->left - REC_HEADER_LEN)
        return records_fail(it, VG_EFORMAT);
    const uint8_t *body = p + REC_HEADER_LEN;
    int rc;
    switch (r.type) {
    case VG_REC_FIX: rc = decode_fix(body, body_len, &r.fix); break;
    case VG_REC_STATUS: rc = decode_status(body, body_len, &r.status, &r.subject); break;
    case VG_REC_EVENT: rc = decode_event(body, body_len, &r.event, false); break;
    case VG_REC_HEARTBEAT: rc = decode_event(body, body_len, &r.event, true); break;
    default:
        /* Skipping it would lose a sequence number without a word. */
        rc = VG_EFORMAT;
        break;
    }
    if (rc != VG_OK)
        return records_fail(it, rc);
    it->p += REC_HEADER_LEN + (size_t)body_len;
    it->left -= REC_HEADER_LEN + (size_t)body_len;
    it->remaining--;
    *rec = r;
    return 1;
}

static int put_time(struct writer *w, uint8_t tag, int64_t t)
{
    if (t < 0)
        return VG_EINVAL;
    put_field(w, tag, 8, (uint64_t)t);
    return VG_OK;
}

static int put_fix(struct writer *w, const struct vg_fix *fix)
{
    if (fix->time_ms < 0 || fix->quality > VG_FIX_NETWORK)
        return VG_EINVAL;
    if (fix->quality == VG_FIX_NONE) {
        put_time(w, FIX_TIME, fix->time_ms);
        put_field(w, FIX_QUALITY, 1, fix->quality);
        return VG_OK; /* the record says "no fix", and nothing else */
    }
    double lat = fix->lat_deg, lon = fix->lon_deg;
    if (!isfinite(lat) || !isfinite(lon) || fabs(lat) > 90.0 || fabs(lon) > 180.0)
        return VG_EINVAL;
    uint64_t accuracy, speed = 0, heading = 0;
    int rc = scaled_uint((double)fix->accuracy_m, 100.0, (double)UINT32_MAX, &accuracy);
    if (rc != VG_OK)
        return rc;
    /* Speed and heading: negative means unknown and is not sent. */
    double v = (double)fix->speed_mps, hd = (double)fix->heading_deg;
    if (!isfinite(v) || !isfinite(hd))
        return VG_EINVAL;
    if (v >= 0.0 && (rc = scaled_uint(v, 100.0, (double)UINT16_MAX, &speed)) != VG_OK)
        return rc;
    if (hd >= 0.0) {
        if ((rc = scaled_uint(hd, 100.0, (double)UINT16_MAX, &heading)) != VG_OK)
            return rc;
        if (heading == 36000 && hd < 360.0)
            heading = 0; /* 359.996 rounds to 360.00, which is 0.00 */
    }
    bool network = fix->quality == VG_FIX_NETWORK;
    put_time(w, FIX_TIME, fix->time_ms);
    put_field(w, FIX_QUALITY, 1, network ? VG_FIX_NONE : fix->quality);
    /* The rounded values stay within +-90e7 / +-180e7: they fit int32_t. */
    put_field(w, FIX_LAT, 4, (uint32_t)(int32_t)llround(lat * 1e7));
    put_field(w, FIX_LON, 4, (uint32_t)(int32_t)llround(lon * 1e7));
    put_field(w, FIX_ACCURACY, 4, accuracy);
    if (network) { /* the receiver has no fix: no course either */
        put_field(w, FIX_SOURCE, 1, FIX_SOURCE_NETWORK);
        return VG_OK;
    }
    if (v >= 0.0)
        put_field(w, FIX_SPEED, 2, speed);
    if (hd >= 0.0)
        put_field(w, FIX_HEADING, 2, heading);
    return VG_OK;
}

static int put_sensor(struct writer *w, uint8_t tag, int8_t v)
{
    if (v < -1)
        return VG_EINVAL;
    if (v >= 0)
        put_field(w, tag, 1, (uint64_t)v);
    return VG_OK;
}

static int put_status(struct writer *w, const struct vg_unit_status *st, uint8_t subject)
{
    if (subject > VG_SUBJECT_BRACELET)
        return VG_EINVAL;
    int rc = put_time(w, ST_TIME, st->time_ms);
    if (rc != VG_OK || (rc = put_sensor(w, ST_BATTERY, st->battery_pct)) != VG_OK ||
        (rc = put_sensor(w, ST_CHARGING, st->charging)) != VG_OK ||
        (rc = put_sensor(w, ST_STRAP, st->strap_closed)) != VG_OK ||
        (rc = put_sensor(w, ST_SKIN, st->skin_contact)) != VG_OK ||
        (rc = put_sensor(w, ST_LINK, st->bracelet_link)) != VG_OK ||
        (rc = put_sensor(w, ST_BEACON, st->beacon_heard)) != VG_OK)
        return rc;
    if (st->beacon_range_m < -1)
        return VG_EINVAL;
    if (st->beacon_range_m >= 0)
        put_field(w, ST_BEACON_RANGE, 2, (uint64_t)st->beacon_range_m);
    if (subject != VG_SUBJECT_SELF)
        put_field(w, ST_SUBJECT, 1, subject);
    return VG_OK;
}

static int put_event(struct writer *w, const struct vg_unit_event *ev, bool heartbeat)
{
    if (!heartbeat && !event_kind_ok(ev->kind))
        return VG_EINVAL;
    int rc = put_time(w, EV_TIME, ev->time_ms);
    if (rc == VG_OK && !heartbeat)
        put_field(w, EV_KIND, 1, ev->kind);
    return rc;
}

static int put_record(struct writer *w, const struct vg_proto_record *r)
{
    if (r->seq == 0)
        return VG_EINVAL;
    size_t head = w->pos;
    put_uint(w, r->type, 1);
    put_uint(w, 0, 1);
    put_uint(w, 0, 2); /* body length, patched below */
    put_uint(w, r->seq, 8);
    size_t body = w->pos;
    int rc;
    switch (r->type) {
    case VG_REC_FIX: rc = put_fix(w, &r->fix); break;
    case VG_REC_STATUS: rc = put_status(w, &r->status, r->subject); break;
    case VG_REC_EVENT: rc = put_event(w, &r->event, false); break;
    case VG_REC_HEARTBEAT: rc = put_event(w, &r->event, true); break;
    default: rc = VG_EINVAL; break;
    }
    if (rc != VG_OK)
        return rc;
    /* A body is at most a few dozen bytes: it always fits the u16. */
    if (head + 4 <= w->cap)
        vg_put_u16be(w->out + head + 2, (uint16_t)(w->pos - body));
    return VG_OK;
}

int vg_proto_encode_records(uint8_t *out, size_t cap, const struct vg_proto_record *recs, size_t n,
                            size_t *written)
{
    if (n > VG_PROTO_MAX_RECORDS)
        return VG_ERANGE;
    struct writer w = frame_start(out, cap);
    put_uint(&w, n, 2);
    for (size_t i = 0; i < n; i++) {
        int rc = put_record(&w, &recs[i]);
        if (rc != VG_OK)
            return rc;
    }
    return frame_finish(&w, VG_PROTO_RECORDS, written);
}

/* ---- HELLO ------------------------------------------------------------- */

enum { HELLO_VERSION_MIN = 1, HELLO_VERSION_MAX = 2, HELLO_FIRMWARE = 3, HELLO_BOOT_COUNT = 4 };
#define FIRMWARE_MAX 64

static const struct field_spec hello_spec[] = {
    {HELLO_VERSION_MIN, 1, 0, true},
    {HELLO_VERSION_MAX, 1, 0, true},
    {HELLO_FIRMWARE, TEXT, FIRMWARE_MAX, false},
    {HELLO_BOOT_COUNT, 4, 0, false},
};

int vg_proto_encode_hello(uint8_t *out, size_t cap, const struct vg_proto_hello *m, size_t *written)
{
    size_t fw_len;
    if (text_len(m->firmware, sizeof m->firmware, FIRMWARE_MAX, &fw_len) != VG_OK)
        return VG_EINVAL;
    struct writer w = frame_start(out, cap);
    put_field(&w, HELLO_VERSION_MIN, 1, m->version_min);
    put_field(&w, HELLO_VERSION_MAX, 1, m->version_max);
    if (fw_len > 0)
        put_text_field(&w, HELLO_FIRMWARE, m->firmware, fw_len);
    if (m->boot_count != 0)
        put_field(&w, HELLO_BOOT_COUNT, 4, m->boot_count);
    return frame_finish(&w, VG_PROTO_HELLO, written);
}

int vg_proto_decode_hello(const uint8_t *payload, size_t len, struct vg_proto_hello *m)
{
    struct fields f;
    int rc = parse_fields(payload, len, hello_spec, N_SPEC(hello_spec), &f);
    if (rc != VG_OK)
        return rc;
    struct vg_proto_hello r;
    memset(&r, 0, sizeof r);
    r.version_min = (uint8_t)f.num[HELLO_VERSION_MIN];
    r.version_max = (uint8_t)f.num[HELLO_VERSION_MAX];
    r.boot_count = (uint32_t)f.num[HELLO_BOOT_COUNT];
    copy_text(r.firmware, &f, HELLO_FIRMWARE);
    *m = r;
    return VG_OK;
}

/* ---- WELCOME ----------------------------------------------------------- */

enum {
    WELCOME_VERSION = 1,
    WELCOME_SERVER_TIME = 2,
    WELCOME_ACKED_SEQ = 3,
    WELCOME_REPORT_INTERVAL = 4,
    WELCOME_HEARTBEAT_INTERVAL = 5,
};

static const struct field_spec welcome_spec[] = {
    {WELCOME_VERSION, 1, 0, true},
    {WELCOME_SERVER_TIME, 8, 0, true},
    {WELCOME_ACKED_SEQ, 8, 0, true},
    {WELCOME_REPORT_INTERVAL, 4, 0, false},
    {WELCOME_HEARTBEAT_INTERVAL, 4, 0, false},
};

int vg_proto_encode_welcome(uint8_t *out, size_t cap, const struct vg_proto_welcome *m,
                            size_t *written)
{
    if (m->server_time_ms > INT64_MAX)
        return VG_EINVAL; /* the same domain as every time on the wire */
    struct writer w = frame_start(out, cap);
    put_field(&w, WELCOME_VERSION, 1, m->version);
    put_field(&w, WELCOME_SERVER_TIME, 8, m->server_time_ms);
    put_field(&w, WELCOME_ACKED_SEQ, 8, m->acked_seq);
    if (m->report_interval_ms != 0)
        put_field(&w, WELCOME_REPORT_INTERVAL, 4, m->report_interval_ms);
    if (m->heartbeat_interval_ms != 0)
        put_field(&w, WELCOME_HEARTBEAT_INTERVAL, 4, m->heartbeat_interval_ms);
    return frame_finish(&w, VG_PROTO_WELCOME, written);
}

int vg_proto_decode_welcome(const uint8_t *payload, size_t len, struct vg_proto_welcome *m)
{
    struct fields f;
    int rc = parse_fields(payload, len, welcome_spec, N_SPEC(welcome_spec), &f);
    if (rc != VG_OK)
        return rc;
    if (f.num[WELCOME_SERVER_TIME] > INT64_MAX)
        return VG_EFORMAT;
    struct vg_proto_welcome r;
    memset(&r, 0, sizeof r);
    r.version = (uint8_t)f.num[WELCOME_VERSION];
    r.server_time_ms = f.num[WELCOME_SERVER_TIME];
    r.acked_seq = f.num[WELCOME_ACKED_SEQ];
    r.report_interval_ms = (uint32_t)f.num[WELCOME_REPORT_INTERVAL];
    r.heartbeat_interval_ms = (uint32_t)f.num[WELCOME_HEARTBEAT_INTERVAL];
    *m = r;
    return VG_OK;
}

/* ---- ACK: fixed layout ---------------------------------------------------- */

#define ACK_FIXED_LEN 9

int vg_proto_encode_ack(uint8_t *out, size_t cap, const struct vg_proto_ack *m, size_t *written)
{
    if (m->n_extra > VG_PROTO_MAX_EXTRA_ACKS)
        return VG_ERANGE;
    struct writer w = frame_start(out, cap);
    put_uint(&w, m->cumulative, 8);
    put_uint(&w, m->n_extra, 1);
    for (size_t i = 0; i < m->n_extra; i++)
        put_uint(&w, m->extra[i], 8);
    return frame_finish(&w, VG_PROTO_ACK, written);
}

int vg_proto_decode_ack(const uint8_t *payload, size_t len, struct vg_proto_ack *m)
{
    if (len < ACK_FIXED_LEN)
        return VG_EFORMAT;
    uint8_t n = payload[8];
    if (n > VG_PROTO_MAX_EXTRA_ACKS || len != ACK_FIXED_LEN + 8 * (size_t)n)
        return VG_EFORMAT;
    struct vg_proto_ack r;
    memset(&r, 0, sizeof r);
    r.cumulative = vg_get_u64be(payload);
    r.n_extra = n;
    for (size_t i = 0; i < n; i++)
        r.extra[i] = vg_get_u64be(payload + ACK_FIXED_LEN + 8 * i);
    *m = r;
    return VG_OK;
}

/* ---- CONFIG ------------------------------------------------------------ */

enum { CONFIG_COMMAND_ID = 1, CONFIG_REPORT_INTERVAL = 2, CONFIG_HEARTBEAT_INTERVAL = 3 };

static const struct field_spec config_spec[] = {
    {CONFIG_COMMAND_ID, 4, 0, true},
    {CONFIG_REPORT_INTERVAL, 4, 0, false},
    {CONFIG_HEARTBEAT_INTERVAL, 4, 0, false},
};

int vg_proto_encode_config(uint8_t *out, size_t cap, const struct vg_proto_config *m,
                           size_t *written)
{
    struct writer w = frame_start(out, cap);
    put_field(&w, CONFIG_COMMAND_ID, 4, m->command_id);
    if (m->report_interval_ms != 0)
        put_field(&w, CONFIG_REPORT_INTERVAL, 4, m->report_interval_ms);
    if (m->heartbeat_interval_ms != 0)
        put_field(&w, CONFIG_HEARTBEAT_INTERVAL, 4, m->heartbeat_interval_ms);
    return frame_finish(&w, VG_PROTO_CONFIG, written);
}

int vg_proto_decode_config(const uint8_t *payload, size_t len, struct vg_proto_config *m)
{
    struct fields f;
    int rc = parse_fields(payload, len, config_spec, N_SPEC(config_spec), &f);
    if (rc != VG_OK)
        return rc;
    struct vg_proto_config r;
    memset(&r, 0, sizeof r);
    r.command_id = (uint32_t)f.num[CONFIG_COMMAND_ID];
    r.report_interval_ms = (uint32_t)f.num[CONFIG_REPORT_INTERVAL];
    r.heartbeat_interval_ms = (uint32_t)f.num[CONFIG_HEARTBEAT_INTERVAL];
    *m = r;
    return VG_OK;
}

/* ---- RING -------------------------------------------------------------- */

enum { RING_COMMAND_ID = 1, RING_LEVEL = 2, RING_MESSAGE = 3, RING_VIBRATE = 4, RING_SOUND = 5 };
#define RING_LEVEL_MAX 2 /* enum vg_level: none (information), pre-alert, alert */
#define RING_SOUND_MAX 2 /* aloud, vibrate only, screen only */

static const struct field_spec ring_spec[] = {
    {RING_COMMAND_ID, 4, 0, true},
    {RING_LEVEL, 1, 0, true},
    {RING_MESSAGE, TEXT, VG_PROTO_MAX_TEXT, false},
    {RING_VIBRATE, 2, 0, false},
    {RING_SOUND, 1, 0, false},
};

int vg_proto_encode_ring(uint8_t *out, size_t cap, const struct vg_proto_ring *m, size_t *written)
{
    size_t msg_len;
    if (m->level > RING_LEVEL_MAX || m->sound > RING_SOUND_MAX ||
        text_len(m->message, sizeof m->message, VG_PROTO_MAX_TEXT, &msg_len) != VG_OK)
        return VG_EINVAL;
    struct writer w = frame_start(out, cap);
    put_field(&w, RING_COMMAND_ID, 4, m->command_id);
    put_field(&w, RING_LEVEL, 1, m->level);
    if (msg_len > 0)
        put_text_field(&w, RING_MESSAGE, m->message, msg_len);
    if (m->vibrate_ms != 0)
        put_field(&w, RING_VIBRATE, 2, m->vibrate_ms);
    if (m->sound != 0)
        put_field(&w, RING_SOUND, 1, m->sound);
    return frame_finish(&w, VG_PROTO_RING, written);
}

int vg_proto_decode_ring(const uint8_t *payload, size_t len, struct vg_proto_ring *m)
{
    struct fields f;
    int rc = parse_fields(payload, len, ring_spec, N_SPEC(ring_spec), &f);
    if (rc != VG_OK)
        return rc;
    if (f.num[RING_LEVEL] > RING_LEVEL_MAX || f.num[RING_SOUND] > RING_SOUND_MAX)
        return VG_EFORMAT;
    struct vg_proto_ring r;
    memset(&r, 0, sizeof r);
    r.command_id = (uint32_t)f.num[RING_COMMAND_ID];
    r.level = (uint8_t)f.num[RING_LEVEL];
    r.vibrate_ms = (uint16_t)f.num[RING_VIBRATE];
    r.sound = (uint8_t)f.num[RING_SOUND];
    copy_text(r.message, &f, RING_MESSAGE);
    *m = r;
    return VG_OK;
}

/* ---- POSITION_REQUEST --------------------------------------------------- */

enum { POSREQ_COMMAND_ID = 1 };
static const struct field_spec position_request_spec[] = {{POSREQ_COMMAND_ID, 4, 0, true}};

int vg_proto_encode_position_request(uint8_t *out, size_t cap,
                                     const struct vg_proto_position_request *m, size_t *written)
{
    struct writer w = frame_start(out, cap);
    put_field(&w, POSREQ_COMMAND_ID, 4, m->command_id);
    return frame_finish(&w, VG_PROTO_POSITION_REQUEST, written);
}

int vg_proto_decode_position_request(const uint8_t *payload, size_t len,
                                     struct vg_proto_position_request *m)
{
    struct fields f;
    int rc = parse_fields(payload, len, position_request_spec, N_SPEC(position_request_spec), &f);
    if (rc != VG_OK)
        return rc;
    m->command_id = (uint32_t)f.num[POSREQ_COMMAND_ID];
    return VG_OK;
}

/* ---- COMMAND_ACK --------------------------------------------------------- */

enum { CMDACK_COMMAND_ID = 1, CMDACK_STATUS = 2 };
#define CMDACK_STATUS_MAX 1 /* 0 done, 1 refused */

static const struct field_spec command_ack_spec[] = {
    {CMDACK_COMMAND_ID, 4, 0, true},
    {CMDACK_STATUS, 1, 0, true},
};

int vg_proto_encode_command_ack(uint8_t *out, size_t cap, const struct vg_proto_command_ack *m,
                                size_t *written)
{
    if (m->status > CMDACK_STATUS_MAX)
        return VG_EINVAL;
    struct writer w = frame_start(out, cap);
    put_field(&w, CMDACK_COMMAND_ID, 4, m->command_id);
    put_field(&w, CMDACK_STATUS, 1, m->status);
    return frame_finish(&w, VG_PROTO_COMMAND_ACK, written);
}

int vg_proto_decode_command_ack(const uint8_t *payload, size_t len, struct vg_proto_command_ack *m)
{
    struct fields f;
    int rc = parse_fields(payload, len, command_ack_spec, N_SPEC(command_ack_spec), &f);
    if (rc != VG_OK)
        return rc;
    if (f.num[CMDACK_STATUS] > CMDACK_STATUS_MAX)
        return VG_EFORMAT;
    struct vg_proto_command_ack r;
    memset(&r, 0, sizeof r);
    r.command_id = (uint32_t)f.num[CMDACK_COMMAND_ID];
    r.status = (uint8_t)f.num[CMDACK_STATUS];
    *m = r;
    return VG_OK;
}

/* ---- ERROR -------------------------------------------------------------- */

enum { ERROR_CODE = 1, ERROR_MESSAGE = 2 };

static const struct field_spec error_spec[] = {
    {ERROR_CODE, 2, 0, true},
    {ERROR_MESSAGE, TEXT, VG_PROTO_MAX_TEXT, false},
};

int vg_proto_encode_error(uint8_t *out, size_t cap, const struct vg_proto_error_msg *m,
                          size_t *written)
{
    size_t msg_len;
    if (text_len(m->message, sizeof m->message, VG_PROTO_MAX_TEXT, &msg_len) != VG_OK)
        return VG_EINVAL;
    struct writer w = frame_start(out, cap);
    put_field(&w, ERROR_CODE, 2, m->code);
    if (msg_len > 0)
        put_text_field(&w, ERROR_MESSAGE, m->message, msg_len);
    return frame_finish(&w, VG_PROTO_ERROR, written);
}

int vg_proto_decode_error(const uint8_t *payload, size_t len, struct vg_proto_error_msg *m)
{
    struct fields f;
    int rc = parse_fields(payload, len, error_spec, N_SPEC(error_spec), &f);
    if (rc != VG_OK)
        return rc;
    struct vg_proto_error_msg r;
    memset(&r, 0, sizeof r);
    r.code = (uint16_t)f.num[ERROR_CODE];
    copy_text(r.message, &f, ERROR_MESSAGE);
    *m = r;
    return VG_OK;
}
