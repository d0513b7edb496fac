/* The store-and-forward ring on the unit's flash (the contract is in
 * ring.h). How it keeps its two promises — never lose an accepted record,
 * never reuse a number — and why it is built this way:
 *
 * Slots. Record number seq lives in slot (seq - 1) mod slots, alone in a
 * fixed 64-byte slot with its number, its alarm flag and a CRC-32C (seeded
 * with the slot count, so a slot written under another geometry fails it):
 *     0  2  "VR"            12  1  flags (bit 0: alarm)
 *     2  1  layout (1)      13  1  subject
 *     3  1  record type     14 46  body, by type (below), zero-padded
 *     4  8  seq             60  4  CRC-32C of bytes 0..59
 * Bodies keep every field of src/core/fix.h bit for bit (doubles and floats
 * as their IEEE-754 bits, so NaN payloads and -0 survive too):
 *     FIX        time i64, lat f64, lon f64, accuracy f32, speed f32,
 *                heading f32, quality u8                       (37 bytes)
 *     STATUS     time i64, battery, charging, strap, skin, link,
 *                beacon_heard (i8 each), beacon_range_m i16    (16 bytes)
 *     EVENT,
 *     HEARTBEAT  time i64, kind u8                              (9 bytes)
 * leaving 9 bytes spare in a FIX and 30 in a STATUS for fields to come
 * (a new layout number, read alongside this one). A torn or half-written
 * slot fails its CRC and is ignored: that record alone is lost. A slot of
 * only 0x00 or 0xFF bytes is blank (never written).
 *
 * The window. Numbers in (acked, last_seq] are kept; a slot is reused only
 * when the cumulative acknowledgement has passed its record, so the window
 * never exceeds the slot count, and at any moment acked >= last_seq - slots.
 * When full the ring refuses (VG_ENOSPC) rather than overwrite: a gap in the
 * numbers would stall the centre's cumulative acknowledgement forever.
 * alarm_reserve slots stay free for alarms, so an SOS still gets in when a
 * backlog of fixes has filled the rest.
 *
 * The counter. On open the next number is above the highest of: every valid
 * slot, the counter journal, and the metadata's acknowledged number and
 * counter floor. The journal is 64 entries of 16 bytes (number + CRC),
 * entry seq mod 64 written after each append's slot is durable: without it,
 * a corrupted newest slot (flipped, zeroed, half-written) would hand its
 * number out again, and the centre would drop the new record as a duplicate
 * it already holds. Its 64 entries spread the wear of that write. Order on
 * append: slot, sync, journal entry, sync (with sync = 1): a journal entry
 * never names a record that is not on the medium, so it never creates a gap.
 *
 * The metadata: two copies in separate 4 KiB pages (a torn page write cannot
 * hurt both), each whole with a generation number and a CRC; a write goes
 * to the copy that is not the newest valid one, so after a crash the newest
 * valid copy is the old or the new block, never a mix:
 *     0  4  "VGRM"   5  1  has blob   8  4  slots     16  8  generation
 *     4  1  layout   6  2  blob len  12  4  zero      24  8  acked
 *    32  8  counter floor (last_seq when written)     40 256 blob
 *   508  4  CRC-32C of bytes 0..507
 *
 * Persisting acknowledgements. The cumulative number is written to the
 * metadata when it has moved by slots/16 (at least 1) since last written,
 * on meta_put and on close, not on every ACK: a stale number after a crash
 * costs only resends (the centre de-duplicates by number, and WELCOME's
 * acked_seq brings the ring up to date on the next connection) and at most
 * 1/16 of the capacity seen as occupied until then; the counter does not
 * depend on it (slots and journal hold it). After a crash acked is also
 * raised to last_seq - slots (see the window). Extras are never persisted:
 * those records are simply resent after a crash.
 *
 * Open: a blank medium is formatted (the metadata written). Otherwise every
 * slot is read and checked once, the window rebuilt: its records found
 * present (alarm flags from the slots), its missing ones counted as lost.
 * A medium with bytes but no valid structure (no metadata, journal or slot)
 * is refused: formatting it would restart the numbers at 1.
 *
 * Sending order without a "sent" flag to clear at each session: the
 * unacknowledged alarms are also kept in a FIFO of slot indexes (sequence
 * order, since numbers only grow); an alarm is sent this session when its
 * FIFO position is below alarm_cursor, a routine record when its number is
 * below routine_cursor. vg_ring_next drains the alarms first (so one
 * appended mid-backlog goes next), then walks the routine records; both
 * cursors only move forward, so append, ack and next are O(1) amortised and
 * a session starts in O(1). Memory: 1 flag byte and 4 FIFO bytes a slot.
 *
 * Lost records. A record missing from the window (a corrupted slot) can
 * never be sent, and the centre acknowledges cumulatively only over
 * consecutive numbers: left alone, the window would stop moving at the
 * first lost number and the ring fill up behind it. So the number is sent
 * all the same, with a notice in place of its record: an EVENT of kind
 * VG_EVENT_RECORD_LOST (docs/PROTOCOL.md), which the centre stores (the
 * loss is on the record, as evidence of a failing unit) and acknowledges
 * like any other. Its time is the moment it is sent (the caller stamps it:
 * the ring reads no clock). A lost number is marked FLAG_LOST, counted in
 * `pending` until acknowledged and in the stats' `lost`, and logged. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/proto.h"
#include "unit/ring.h"
#include "util/log.h"

#define LAYOUT_VERSION 1

#define SLOT_BODY_AT 14
#define SLOT_CRC_AT  60

#define META_BLOB_AT 40
#define META_CRC_AT  508

#define JOURNAL_CRC_AT 12

/* PRESENT: the slot holds the window's record to send; ALARM: it is an
 * alarm; LOST: the window's number whose record is gone (a notice to send). */
enum { FLAG_PRESENT = 1, FLAG_ALARM = 2, FLAG_LOST = 4 };

/* How a slot (or journal entry, or metadata copy) reads. */
enum { AREA_BLANK, AREA_VALID, AREA_CORRUPT };

/* Slots read per call at open. */
#define OPEN_CHUNK_SLOTS 1024u

/* ---- CRC-32C (Castagnoli, reflected 0x82F63B78; "123456789" -> 0xE3069283) ---------------- */

static const uint32_t crc32c_table[256] = {
    0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu, 0x35f1141cu, 0x26a1e7e8u,
    0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu, 0x4d43cfd0u, 0xbf284cd3u,
    0xac78bf27u, 0x5e133c24u, 0x105ec76fu, 0xe235446cu, 0xf165b798u, 0x030e349bu, 0xd7c45070u,
    0x25afd373u, 0x36ff2087u, 0xc494a384u, 0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u,
    0x5d1d08bfu, 0xaf768bbcu, 0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u,
    0x33ed7d2au, 0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u, 0xaa64d611u, 0x580f5512u,
    0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau, 0x30e349b1u,
    0xc288cab2u, 0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu, 0x1642ae59u, 0xe4292d5au,
    0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au, 0x7da08661u, 0x8fcb0562u, 0x9c9bf696u,
    0x6ef07595u, 0x417b1dbcu, 0xb3109ebfu, 0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u,
    0x67dafa54u, 0x95b17957u, 0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u, 0x0c38d26cu,
    0xfe53516fu, 0xed03a29bu, 0x1f682198u, 0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
    0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu, 0x3ac7f2ebu,
    0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u, 0x61c69362u, 0x93ad1061u,
    0x80fde395u, 0x72966096u, 0xa65c047du, 0x5437877eu, 0x4767748au, 0xb50cf789u, 0xeb1fcbadu,
    0x197448aeu, 0x0a24bb5au, 0xf84f3859u, 0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u,
    0x7198540du, 0x83f3d70eu, 0x90a324fau, 0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u,
    0xa55230e6u, 0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu, 0xceb018deu,
    0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu, 0x456cac67u,
    0xb7072f64u, 0xa457dc90u, 0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u, 0xe9141340u, 0x1b7f9043u,
    0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu, 0x92a8fc17u, 0x60c37f14u, 0x73938ce0u,
    0x81f80fe3u, 0x55326b08u, 0xa759e80bu, 0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu,
    0xf94ad42fu, 0x0b21572cu, 0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u, 0xa24bb5a6u,
    0x502036a5u, 0x4370c551u, 0xb11b4652u, 0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
    0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u, 0x0e330a81u,
    0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du, 0x758fe5d6u, 0x87e466d5u,
    0x94b49521u, 0x66df1622u, 0x38cc2a06u, 0xcaa7a905u, 0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u,
    0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu, 0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u,
    0x0417b1dbu, 0xf67c32d8u, 0xe52cc12cu, 0x1747422fu, 0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu,
    0x5a048dffu, 0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
    0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u, 0x590ab964u,
    0xab613a67u, 0xb831c993u, 0x4a5a4a90u, 0x9e902e7bu, 0x6cfbad78u, 0x7fab5e8cu, 0x8dc0dd8fu,
    0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu, 0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u,
    0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u, 0x88d28022u, 0x7ab90321u, 0xae7367cau, 0x5c18e4c9u,
    0x4f48173du, 0xbd23943eu, 0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au,
    0xc69f7b69u, 0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
    0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

static uint32_t crc32c_update(uint32_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        crc = crc32c_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return crc;
}

/* The CRC of an area, seeded with the ring's slot count so that an area
 * written under another geometry does not pass for this one's. */
static uint32_t area_crc(uint32_t slots, const uint8_t *p, size_t n)
{
    uint8_t seed[4];
    vg_put_u32be(seed, slots);
    uint32_t crc = crc32c_update(0xffffffffu, seed, sizeof seed);
    return crc32c_update(crc, p, n) ^ 0xffffffffu;
}

static int is_blank(const uint8_t *p, size_t n)
{
    if (p[0] != 0x00 && p[0] != 0xff)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (p[i] != p[0])
            return 0;
    }
    return 1;
}

/* ---- fixed-width fields ---------------------------------------------------------------- */

static void put_i64(uint8_t *p, int64_t v)
{
    vg_put_u64be(p, (uint64_t)v);
}

static int64_t get_i64(const uint8_t *p)
{
    return (int64_t)vg_get_u64be(p);
}

static void put_f64(uint8_t *p, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    vg_put_u64be(p, bits);
}

static double get_f64(const uint8_t *p)
{
    uint64_t bits = vg_get_u64be(p);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void put_f32(uint8_t *p, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    vg_put_u32be(p, bits);
}

static float get_f32(const uint8_t *p)
{
    uint32_t bits = vg_get_u32be(p);
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* ---- slots ----------------------------------------------------------------------------- */

static uint64_t slot_offset(uint32_t index)
{
    return VG_RING_SLOTS_OFFSET + (uint64_t)index * VG_RING_SLOT_SIZE;
}

static uint32_t slot_of(const struct vg_ring *r, uint64_t seq)
{
    return (uint32_t)((seq - 1) % r->slots);
}

static void slot_encode(uint8_t s[VG_RING_SLOT_SIZE], uint32_t slots,
                        const struct vg_proto_record *rec, int alarm)
{
    memset(s, 0, VG_RING_SLOT_SIZE);
    s[0] = 'V';
    s[1] = 'R';
    s[2] = LAYOUT_VERSION;
    s[3] = rec->type;
    vg_put_u64be(s + 4, rec->seq);
    s[12] = alarm ? 1 : 0;
    s[13] = rec->subject;
    uint8_t *b = s + SLOT_BODY_AT;
    switch (rec->type) {
    case VG_REC_FIX:
        put_i64(b, rec->fix.time_ms);
        put_f64(b + 8, rec->fix.lat_deg);
        put_f64(b + 16, rec->fix.lon_deg);
        put_f32(b + 24, rec->fix.accuracy_m);
        put_f32(b + 28, rec->fix.speed_mps);
        put_f32(b + 32, rec->fix.heading_deg);
        b[36] = rec->fix.quality;
        break;
    case VG_REC_STATUS:
        put_i64(b, rec->status.time_ms);
        b[8] = (uint8_t)rec->status.battery_pct;
        b[9] = (uint8_t)rec->status.charging;
        b[10] = (uint8_t)rec->status.strap_closed;
        b[11] = (uint8_t)rec->status.skin_contact;
        b[12] = (uint8_t)rec->status.bracelet_link;
        b[13] = (uint8_t)rec->status.beacon_heard;
        vg_put_u16be(b + 14, (uint16_t)rec->status.beacon_range_m);
        break;
    default: /* EVENT, HEARTBEAT (the codec has vouched for the type) */
        put_i64(b, rec->event.time_ms);
        b[8] = rec->event.kind;
        break;
    }
    vg_put_u32be(s + SLOT_CRC_AT, area_crc(slots, s, SLOT_CRC_AT));
}

/* AREA_VALID with *rec (its seq) and *alarm filled when the slot holds a
 * whole record that belongs in slot `index`. */
static int slot_decode(const uint8_t s[VG_RING_SLOT_SIZE], uint32_t slots, uint32_t index,
                       struct vg_proto_record *rec, int *alarm)
{
    if (is_blank(s, VG_RING_SLOT_SIZE))
        return AREA_BLANK;
    if (vg_get_u32be(s + SLOT_CRC_AT) != area_crc(slots, s, SLOT_CRC_AT))
        return AREA_CORRUPT;
    uint64_t seq = vg_get_u64be(s + 4);
    if (s[0] != 'V' || s[1] != 'R' || s[2] != LAYOUT_VERSION || s[3] < VG_REC_FIX ||
        s[3] > VG_REC_HEARTBEAT || s[12] > 1 || seq == 0 || (seq - 1) % slots != index)
        return AREA_CORRUPT;
    memset(rec, 0, sizeof *rec);
    rec->seq = seq;
    rec->type = s[3];
    rec->subject = s[13];
    *alarm = s[12];
    const uint8_t *b = s + SLOT_BODY_AT;
    switch (rec->type) {
    case VG_REC_FIX:
        rec->fix.time_ms = get_i64(b);
        rec->fix.lat_deg = get_f64(b + 8);
        rec->fix.lon_deg = get_f64(b + 16);
        rec->fix.accuracy_m = get_f32(b + 24);
        rec->fix.speed_mps = get_f32(b + 28);
        rec->fix.heading_deg = get_f32(b + 32);
        rec->fix.quality = b[36];
        break;
    case VG_REC_STATUS:
        rec->status.time_ms = get_i64(b);
        rec->status.battery_pct = (int8_t)b[8];
        rec->status.charging = (int8_t)b[9];
        rec->status.strap_closed = (int8_t)b[10];
        rec->status.skin_contact = (int8_t)b[11];
        rec->status.bracelet_link = (int8_t)b[12];
        rec->status.beacon_heard = (int8_t)b[13];
        rec->status.beacon_range_m = (int16_t)vg_get_u16be(b + 14);
        break;
    default:
        rec->event.time_ms = get_i64(b);
        rec->event.kind = b[8];
        break;
    }
    return AREA_VALID;
}

/* ---- the counter journal --------------------------------------------------------------- */

static uint64_t journal_offset(uint64_t seq)
{
    return VG_RING_JOURNAL_OFFSET + (seq % VG_RING_JOURNAL_LEN) * VG_RING_JOURNAL_ENTRY;
}

static void journal_encode(uint8_t e[VG_RING_JOURNAL_ENTRY], uint32_t slots, uint64_t seq)
{
    memset(e, 0, VG_RING_JOURNAL_ENTRY);
    e[0] = 'V';
    e[1] = 'J';
    vg_put_u64be(e + 4, seq);
    vg_put_u32be(e + JOURNAL_CRC_AT, area_crc(slots, e, JOURNAL_CRC_AT));
}

/* The number an entry holds, 0 if none (blank or corrupt). */
static uint64_t journal_decode(const uint8_t e[VG_RING_JOURNAL_ENTRY], uint32_t slots)
{
    if (vg_get_u32be(e + JOURNAL_CRC_AT) != area_crc(slots, e, JOURNAL_CRC_AT) || e[0] != 'V' ||
        e[1] != 'J')
        return 0;
    return vg_get_u64be(e + 4);
}

/* ---- the metadata ---------------------------------------------------------------------- */

struct meta {
    uint32_t slots;
    uint64_t generation;
    uint64_t acked;
    uint64_t counter_floor;
    int has_blob;
    uint16_t blob_len;
    uint8_t blob[VG_RING_META_MAX];
};

static uint64_t meta_offset(int copy)
{
    return copy == 0 ? VG_RING_META_A_OFFSET : VG_RING_META_B_OFFSET;
}

/* The CRC is not seeded with the slot count: a copy of another geometry
 * reads as valid, so that open can say which geometry it is. */
static uint32_t meta_crc(const uint8_t *m)
{
    return crc32c_update(0xffffffffu, m, META_CRC_AT) ^ 0xffffffffu;
}

static void meta_encode(uint8_t m[VG_RING_META_SIZE], const struct meta *md)
{
    memset(m, 0, VG_RING_META_SIZE);
    memcpy(m, "VGRM", 4);
    m[4] = LAYOUT_VERSION;
    m[5] = md->has_blob ? 1 : 0;
    vg_put_u16be(m + 6, md->blob_len);
    vg_put_u32be(m + 8, md->slots);
    vg_put_u64be(m + 16, md->generation);
    vg_put_u64be(m + 24, md->acked);
    vg_put_u64be(m + 32, md->counter_floor);
    memcpy(m + META_BLOB_AT, md->blob, md->blob_len);
    vg_put_u32be(m + META_CRC_AT, meta_crc(m));
}

static int meta_decode(const uint8_t m[VG_RING_META_SIZE], struct meta *md)
{
    if (is_blank(m, VG_RING_META_SIZE))
        return AREA_BLANK;
    if (vg_get_u32be(m + META_CRC_AT) != meta_crc(m) || memcmp(m, "VGRM", 4) != 0 ||
        m[4] != LAYOUT_VERSION || m[5] > 1 || vg_get_u16be(m + 6) > VG_RING_META_MAX)
        return AREA_CORRUPT;
    memset(md, 0, sizeof *md);
    md->has_blob = m[5];
    md->blob_len = vg_get_u16be(m + 6);
    md->slots = vg_get_u32be(m + 8);
    md->generation = vg_get_u64be(m + 16);
    md->acked = vg_get_u64be(m + 24);
    md->counter_floor = vg_get_u64be(m + 32);
    if (md->generation == 0 || md->acked > md->counter_floor)
        return AREA_CORRUPT;
    memcpy(md->blob, m + META_BLOB_AT, md->blob_len);
    return AREA_VALID;
}

/* Write the ring's metadata, with this blob, to the copy that is not the
 * newest valid one; on success that copy becomes the newest. */
static int meta_write(struct vg_ring *r, int has_blob, const void *blob, size_t len)
{
    struct meta md = {
        .slots = r->slots,
        .generation = r->meta_generation + 1,
        .acked = r->acked,
        .counter_floor = r->last_seq,
        .has_blob = has_blob,
        .blob_len = (uint16_t)len,
    };
    if (len > 0)
        memcpy(md.blob, blob, len);
    uint8_t m[VG_RING_META_SIZE];
    meta_encode(m, &md);
    int target = r->meta_copy == 0 ? 1 : 0;
    int rc = r->flash->write(r->flash->ctx, meta_offset(target), m, sizeof m);
    if (rc == VG_OK && r->sync)
        rc = r->flash->sync(r->flash->ctx);
    if (rc != VG_OK)
        return rc;
    r->meta_copy = target;
    r->meta_generation = md.generation;
    r->persisted_acked = md.acked;
    return VG_OK;
}

/* The same blob as now, with the current numbers. */
static int meta_refresh(struct vg_ring *r)
{
    return meta_write(r, r->meta_present, r->meta, r->meta_len);
}

/* ---- logging --------------------------------------------------------------------------- */

static void log_u64(enum vg_log_level level, const char *msg, const char *k1, uint64_t v1,
                    const char *k2, uint64_t v2)
{
    char a[24], b[24];
    snprintf(a, sizeof a, "%" PRIu64, v1);
    snprintf(b, sizeof b, "%" PRIu64, v2);
    vg_log(level, msg, k1, a, k2, b, NULL);
}

static void log_seq_error(const char *msg, uint64_t seq, int rc)
{
    char a[24];
    snprintf(a, sizeof a, "%" PRIu64, seq);
    vg_log(VG_LOG_WARN, msg, "seq", a, "error", vg_strerror(rc), NULL);
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/* ---- open and close -------------------------------------------------------------------- */

uint64_t vg_ring_flash_size(uint32_t slots)
{
    return VG_RING_SLOTS_OFFSET + (uint64_t)slots * VG_RING_SLOT_SIZE;
}

/* What a scan of the medium found. */
struct scan {
    struct meta meta;
    int meta_valid;       /* copies valid: 0, 1 or 2 */
    uint64_t journal_max; /* 0: no valid entry */
    int journal_nonblank;
    uint64_t slot_max; /* 0: no valid slot */
    uint64_t slots_valid, slots_corrupt;
};

static int scan_meta(struct vg_ring *r, struct scan *sc)
{
    for (int copy = 0; copy < 2; copy++) {
        uint8_t m[VG_RING_META_SIZE];
        struct meta md;
        int rc = r->flash->read(r->flash->ctx, meta_offset(copy), m, sizeof m);
        if (rc != VG_OK)
            return rc;
        if (meta_decode(m, &md) != AREA_VALID)
            continue;
        sc->meta_valid++;
        if (r->meta_copy < 0 || md.generation > sc->meta.generation) {
            sc->meta = md;
            r->meta_copy = copy;
        }
    }
    return VG_OK;
}

static int scan_journal(struct vg_ring *r, struct scan *sc)
{
    uint8_t j[VG_RING_JOURNAL_LEN * VG_RING_JOURNAL_ENTRY];
    int rc = r->flash->read(r->flash->ctx, VG_RING_JOURNAL_OFFSET, j, sizeof j);
    if (rc != VG_OK)
        return rc;
    for (uint32_t i = 0; i < VG_RING_JOURNAL_LEN; i++) {
        const uint8_t *e = j + i * VG_RING_JOURNAL_ENTRY;
        uint64_t seq = journal_decode(e, r->slots);
        if (seq > sc->journal_max)
            sc->journal_max = seq;
        if (!is_blank(e, VG_RING_JOURNAL_ENTRY))
            sc->journal_nonblank = 1;
    }
    return VG_OK;
}

/* Every slot once: seqs[i] the number slot i validly holds (0: none), the
 * alarm flag straight into r->flags (the window pass keeps it or not). */
static int scan_slots(struct vg_ring *r, struct scan *sc, uint64_t *seqs, uint8_t *buf)
{
    for (uint32_t first = 0; first < r->slots; first += OPEN_CHUNK_SLOTS) {
        uint32_t n = r->slots - first < OPEN_CHUNK_SLOTS ? r->slots - first : OPEN_CHUNK_SLOTS;
        int rc =
            r->flash->read(r->flash->ctx, slot_offset(first), buf, (size_t)n * VG_RING_SLOT_SIZE);
        if (rc != VG_OK)
            return rc;
        for (uint32_t k = 0; k < n; k++) {
            struct vg_proto_record rec;
            int alarm = 0;
            uint32_t i = first + k;
            switch (slot_decode(buf + (size_t)k * VG_RING_SLOT_SIZE, r->slots, i, &rec, &alarm)) {
            case AREA_VALID:
                seqs[i] = rec.seq;
                r->flags[i] = alarm ? FLAG_ALARM : 0;
                sc->slots_valid++;
                if (rec.seq > sc->slot_max)
                    sc->slot_max = rec.seq;
                break;
            case AREA_CORRUPT: sc->slots_corrupt++; break;
            default: break;
            }
        }
    }
    return VG_OK;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* The window from what the scan found. */
static void rebuild(struct vg_ring *r, const struct scan *sc, const uint64_t *seqs)
{
    uint64_t last = max_u64(max_u64(sc->slot_max, sc->journal_max),
                            sc->meta_valid ? sc->meta.counter_floor : 0);
    uint64_t acked = sc->meta_valid ? sc->meta.acked : 0;
    /* The window never exceeds the slots: whatever is older was acknowledged
     * before its slot was reused, even if that acknowledgement was not
     * written down. */
    if (last > r->slots)
        acked = max_u64(acked, last - r->slots);
    r->last_seq = last;
    r->acked = acked;
    r->persisted_acked = sc->meta_valid ? sc->meta.acked : 0;
    for (uint32_t i = 0; i < r->slots; i++) {
        if (seqs[i] <= acked)
            r->flags[i] = 0; /* blank, corrupt, or an older lap already acknowledged */
    }
    for (uint64_t seq = acked + 1; seq <= last; seq++) {
        uint32_t i = slot_of(r, seq);
        if (seqs[i] != seq) {
            r->flags[i] = FLAG_LOST;
            r->pending++;
            r->lost++;
            continue;
        }
        r->flags[i] |= FLAG_PRESENT;
        r->pending++;
        if (r->flags[i] & FLAG_ALARM) {
            r->pending_alarms++;
            r->alarms[r->alarm_tail++ % r->slots] = i;
        }
    }
    r->routine_cursor = acked + 1;
}

/* Frees what open allocated, without writing anything. */
static int open_fail(struct vg_ring *r, int rc, char *err, size_t errlen, const char *msg)
{
    set_err(err, errlen, msg);
    free(r->flags);
    free(r->alarms);
    memset(r, 0, sizeof *r);
    r->meta_copy = -1;
    return rc;
}

int vg_ring_open(struct vg_ring *r, struct vg_flash *f, const struct vg_ring_params *p, char *err,
                 size_t errlen)
{
    char msg[256];
    struct scan sc;
    uint64_t *seqs = NULL;
    uint8_t *buf = NULL;
    int rc = VG_OK;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (r == NULL)
        return VG_EINVAL;
    memset(r, 0, sizeof *r);
    r->meta_copy = -1;
    if (f == NULL || p == NULL || f->read == NULL || f->write == NULL || f->sync == NULL) {
        set_err(err, errlen, "ring: no medium or no parameters");
        return VG_EINVAL;
    }
    if (p->slots == 0 || p->slots > VG_RING_MAX_SLOTS || p->alarm_reserve >= p->slots) {
        snprintf(msg, sizeof msg,
                 "ring: %" PRIu32 " slots with %" PRIu32
                 " kept for alarms: need 1 to %u slots and fewer kept for alarms",
                 p->slots, p->alarm_reserve, VG_RING_MAX_SLOTS);
        set_err(err, errlen, msg);
        return VG_EINVAL;
    }
    if (f->size != vg_ring_flash_size(p->slots)) {
        snprintf(msg, sizeof msg,
                 "ring: the medium is %" PRIu64 " bytes, %" PRIu32 " slots need %" PRIu64, f->size,
                 p->slots, vg_ring_flash_size(p->slots));
        set_err(err, errlen, msg);
        return VG_EFORMAT;
    }
    r->flash = f;
    r->slots = p->slots;
    r->alarm_reserve = p->alarm_reserve;
    r->sync = p->sync != 0;

    r->flags = calloc(r->slots, 1);
    r->alarms = malloc((size_t)r->slots * sizeof *r->alarms);
    seqs = calloc(r->slots, sizeof *seqs);
    buf = malloc((size_t)OPEN_CHUNK_SLOTS * VG_RING_SLOT_SIZE);
    if (r->flags == NULL || r->alarms == NULL || seqs == NULL || buf == NULL) {
        rc = VG_ENOSPC;
        snprintf(msg, sizeof msg, "ring: out of memory for %" PRIu32 " slots", r->slots);
        goto fail;
    }

    memset(&sc, 0, sizeof sc);
    if ((rc = scan_meta(r, &sc)) != VG_OK || (rc = scan_journal(r, &sc)) != VG_OK ||
        (rc = scan_slots(r, &sc, seqs, buf)) != VG_OK) {
        snprintf(msg, sizeof msg, "ring: cannot read the medium: %s", vg_strerror(rc));
        goto fail;
    }
    if (sc.meta_valid && sc.meta.slots != r->slots) {
        rc = VG_EFORMAT;
        snprintf(msg, sizeof msg,
                 "ring: the medium was formatted for %" PRIu32 " slots, not %" PRIu32,
                 sc.meta.slots, r->slots);
        goto fail;
    }
    r->meta_generation = sc.meta_valid ? sc.meta.generation : 0;

    if (!sc.meta_valid && sc.journal_max == 0 && sc.slot_max == 0) {
        /* Nothing valid. Formatting is safe only if no record was ever
         * written (slots and journal blank: a crash while writing the very
         * first metadata leaves exactly that); otherwise the numbers already
         * used are unknown. */
        if (sc.slots_corrupt > 0 || sc.journal_nonblank) {
            rc = VG_EFORMAT;
            snprintf(msg, sizeof msg,
                     "ring: the medium holds data but no valid ring (%" PRIu64
                     " unreadable slots): refused rather than formatted, which could reuse "
                     "sequence numbers; erase it explicitly if it is not a ring",
                     sc.slots_corrupt);
            goto fail;
        }
        r->routine_cursor = 1;
        if ((rc = meta_refresh(r)) != VG_OK) {
            snprintf(msg, sizeof msg, "ring: cannot format the medium: %s", vg_strerror(rc));
            goto fail;
        }
    } else {
        if (sc.meta_valid) {
            r->meta_present = sc.meta.has_blob;
            r->meta_len = sc.meta.blob_len;
            memcpy(r->meta, sc.meta.blob, sc.meta.blob_len);
        }
        rebuild(r, &sc, seqs);
        if (sc.slots_corrupt > 0 || r->lost > 0)
            log_u64(VG_LOG_WARN, "ring: records lost on the medium", "corrupt_slots",
                    sc.slots_corrupt, "lost_unacknowledged", r->lost);
        if (sc.meta_valid < 2) {
            /* Rewrite the lost copy now, so that one more fault cannot lose
             * the settings blob. */
            if (!sc.meta_valid)
                vg_log(VG_LOG_WARN,
                       "ring: both metadata copies lost; settings gone, counter "
                       "recovered from the slots",
                       NULL);
            if ((rc = meta_refresh(r)) != VG_OK) {
                snprintf(msg, sizeof msg, "ring: cannot repair the metadata: %s", vg_strerror(rc));
                goto fail;
            }
        }
    }
    free(seqs);
    free(buf);
    return VG_OK;

fail:
    free(seqs);
    free(buf);
    return open_fail(r, rc, err, errlen, msg);
}

void vg_ring_close(struct vg_ring *r)
{
    if (r == NULL)
        return;
    if (r->flags != NULL && r->flash != NULL && r->acked != r->persisted_acked) {
        int rc = meta_refresh(r);
        if (rc != VG_OK)
            vg_log(VG_LOG_WARN, "ring: cannot record the acknowledgement at close", "error",
                   vg_strerror(rc), NULL);
    }
    free(r->flags);
    free(r->alarms);
    memset(r, 0, sizeof *r);
    r->meta_copy = -1;
}

/* ---- append ---------------------------------------------------------------------------- */

/* Whether the protocol can carry the record: the codec itself says so. */
static int sendable(const struct vg_proto_record *rec, uint64_t seq)
{
    struct vg_proto_record probe = *rec;
    probe.seq = seq;
    uint8_t frame[256];
    size_t written;
    return vg_proto_encode_records(frame, sizeof frame, &probe, 1, &written) == VG_OK;
}

int vg_ring_append(struct vg_ring *r, struct vg_proto_record *rec, int alarm)
{
    if (r == NULL || r->flags == NULL || rec == NULL)
        return VG_EINVAL;
    if (r->last_seq == UINT64_MAX)
        return VG_ERANGE;
    uint64_t seq = r->last_seq + 1;
    if (!sendable(rec, seq))
        return VG_EINVAL;
    uint64_t free_slots = r->slots - (r->last_seq - r->acked);
    uint64_t needed = alarm ? 1 : (uint64_t)r->alarm_reserve + 1;
    if (free_slots < needed) {
        r->refused_full++;
        return VG_ENOSPC;
    }

    uint32_t i = slot_of(r, seq);
    struct vg_proto_record stored = *rec;
    stored.seq = seq;
    uint8_t s[VG_RING_SLOT_SIZE];
    slot_encode(s, r->slots, &stored, alarm);
    int rc = r->flash->write(r->flash->ctx, slot_offset(i), s, sizeof s);
    if (rc == VG_OK && r->sync)
        rc = r->flash->sync(r->flash->ctx);
    if (rc != VG_OK)
        return rc; /* the number was not handed out: the next append reuses this slot */

    r->last_seq = seq;
    r->flags[i] = (uint8_t)(FLAG_PRESENT | (alarm ? FLAG_ALARM : 0));
    r->pending++;
    if (alarm) {
        r->pending_alarms++;
        r->alarms[r->alarm_tail++ % r->slots] = i;
    }
    rec->seq = seq;

    /* The record is stored: a journal failure does not undo it, it only
     * leaves the counter to the slots and the metadata for this number. */
    uint8_t e[VG_RING_JOURNAL_ENTRY];
    journal_encode(e, r->slots, seq);
    int jrc = r->flash->write(r->flash->ctx, journal_offset(seq), e, sizeof e);
    if (jrc == VG_OK && r->sync)
        jrc = r->flash->sync(r->flash->ctx);
    if (jrc != VG_OK)
        log_seq_error("ring: counter journal not written", seq, jrc);
    return VG_OK;
}

/* ---- acknowledgements ------------------------------------------------------------------ */

/* The number slot i holds within the current window (acked, last_seq]. */
static uint64_t window_seq(const struct vg_ring *r, uint32_t i)
{
    uint32_t first = (uint32_t)(r->acked % r->slots); /* slot of acked + 1 */
    return r->acked + 1 + (uint64_t)((i + r->slots - first) % r->slots);
}

static void drop(struct vg_ring *r, uint32_t i)
{
    if (r->flags[i] & FLAG_LOST) {
        r->flags[i] = 0;
        r->pending--;
        return;
    }
    if (!(r->flags[i] & FLAG_PRESENT))
        return;
    r->flags[i] &= (uint8_t)~FLAG_PRESENT;
    r->pending--;
    if (r->flags[i] & FLAG_ALARM)
        r->pending_alarms--;
}

static void advance_acked(struct vg_ring *r, uint64_t cumulative)
{
    while (r->alarm_head < r->alarm_tail &&
           window_seq(r, r->alarms[r->alarm_head % r->slots]) <= cumulative)
        r->alarm_head++;
    for (uint64_t seq = r->acked + 1; seq <= cumulative; seq++) {
        uint32_t i = slot_of(r, seq);
        drop(r, i);
        r->flags[i] = 0;
    }
    r->acked = cumulative;
    if (r->alarm_cursor < r->alarm_head)
        r->alarm_cursor = r->alarm_head;
    if (r->routine_cursor <= cumulative)
        r->routine_cursor = cumulative + 1;
}

int vg_ring_ack(struct vg_ring *r, uint64_t cumulative, const uint64_t *extra, size_t n_extra)
{
    if (r == NULL || r->flags == NULL || (n_extra > 0 && extra == NULL))
        return VG_EINVAL;
    int rc = VG_OK;
    /* A cumulative number above ours speaks of numbers this ring never
     * handed out (another life of this unit's identity): it says nothing
     * about our records, so none of them is dropped on its word. */
    if (cumulative > r->last_seq)
        rc = VG_ERANGE;
    else if (cumulative > r->acked)
        advance_acked(r, cumulative);
    for (size_t k = 0; k < n_extra; k++) {
        if (extra[k] > r->last_seq)
            rc = VG_ERANGE;
        else if (extra[k] > r->acked)
            drop(r, slot_of(r, extra[k]));
    }
    uint64_t step = r->slots / 16 > 0 ? r->slots / 16 : 1;
    if (r->acked - r->persisted_acked >= step) {
        int wrc = meta_refresh(r);
        if (wrc != VG_OK)
            rc = wrc; /* applied in memory all the same; written on a later ack */
    }
    return rc;
}

/* ---- sending --------------------------------------------------------------------------- */

void vg_ring_session_start(struct vg_ring *r)
{
    if (r == NULL || r->flags == NULL)
        return;
    r->alarm_cursor = r->alarm_head;
    r->routine_cursor = r->acked + 1;
}

/* The notice sent in place of a lost record (its time: the caller's). */
static void lost_notice(uint64_t seq, struct vg_proto_record *out)
{
    memset(out, 0, sizeof *out);
    out->seq = seq;
    out->type = VG_REC_EVENT;
    out->event.kind = VG_EVENT_RECORD_LOST;
    out->event.time_ms = 0;
}

/* A record that no longer passes its check becomes a lost number. */
static void mark_lost(struct vg_ring *r, uint32_t i, uint64_t seq)
{
    if (r->flags[i] & FLAG_ALARM)
        r->pending_alarms--;
    r->flags[i] = FLAG_LOST; /* still pending: its notice replaces it */
    r->lost++;
    log_u64(VG_LOG_ERROR, "ring: a stored record no longer passes its check", "seq", seq, "lost",
            r->lost);
}

/* 1 and *out filled if slot i still holds record seq; 0 if not (the record
 * is then marked lost, or skipped this session on a read error). */
static int load(struct vg_ring *r, uint32_t i, uint64_t seq, struct vg_proto_record *out)
{
    uint8_t s[VG_RING_SLOT_SIZE];
    int rc = r->flash->read(r->flash->ctx, slot_offset(i), s, sizeof s);
    if (rc != VG_OK) {
        log_seq_error("ring: cannot read a record; retried next session", seq, rc);
        return 0;
    }
    int alarm;
    if (slot_decode(s, r->slots, i, out, &alarm) != AREA_VALID || out->seq != seq) {
        mark_lost(r, i, seq);
        return 0;
    }
    return 1;
}

int vg_ring_next(struct vg_ring *r, struct vg_proto_record *out)
{
    if (r == NULL || r->flags == NULL || out == NULL)
        return 0;
    while (r->alarm_cursor < r->alarm_tail) {
        uint32_t i = r->alarms[r->alarm_cursor++ % r->slots];
        if ((r->flags[i] & FLAG_PRESENT) && load(r, i, window_seq(r, i), out))
            return 1;
    }
    /* in number order: a lost number's notice goes in its place (an alarm
     * found damaged above is marked lost and sent here, in order) */
    while (r->routine_cursor <= r->last_seq) {
        uint64_t seq = r->routine_cursor++;
        uint32_t i = slot_of(r, seq);
        if ((r->flags[i] & (FLAG_PRESENT | FLAG_ALARM)) == FLAG_PRESENT && load(r, i, seq, out))
            return 1;
        if (r->flags[i] & FLAG_LOST) {
            lost_notice(seq, out);
            return 1;
        }
    }
    return 0;
}

/* ---- settings blob --------------------------------------------------------------------- */

int vg_ring_meta_get(const struct vg_ring *r, void *buf, size_t cap, size_t *len)
{
    if (r == NULL || r->flags == NULL || len == NULL || (cap > 0 && buf == NULL))
        return VG_EINVAL;
    if (!r->meta_present) {
        *len = 0;
        return VG_ENOTFOUND;
    }
    *len = r->meta_len;
    if (cap < r->meta_len)
        return VG_ENOSPC;
    if (r->meta_len > 0)
        memcpy(buf, r->meta, r->meta_len);
    return VG_OK;
}

int vg_ring_meta_put(struct vg_ring *r, const void *buf, size_t len)
{
    if (r == NULL || r->flags == NULL || (len > 0 && buf == NULL))
        return VG_EINVAL;
    if (len > VG_RING_META_MAX)
        return VG_ERANGE;
    int rc = meta_write(r, 1, buf, len);
    if (rc != VG_OK)
        return rc;
    r->meta_present = 1;
    r->meta_len = (uint16_t)len;
    if (len > 0)
        memcpy(r->meta, buf, len);
    return VG_OK;
}

void vg_ring_get_stats(const struct vg_ring *r, struct vg_ring_stats *st)
{
    if (st == NULL)
        return;
    memset(st, 0, sizeof *st);
    if (r == NULL)
        return;
    st->last_seq = r->last_seq;
    st->acked = r->acked;
    st->pending = r->pending;
    st->pending_alarms = r->pending_alarms;
    st->refused_full = r->refused_full;
    st->slots = r->slots;
    st->lost = r->lost;
}
