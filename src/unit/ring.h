/* The mobile unit's store-and-forward ring: every record the unit makes
 * (fixes, statuses, events, heartbeats) is numbered and kept on its flash
 * until the monitoring centre acknowledges it (docs/PROTOCOL.md §4, §7).
 * It never loses a record it accepted and never reuses a sequence number,
 * across crashes (kill -9), reboots and days of network outage; with
 * sync = 1 also across power loss.
 *
 * Not thread-safe: one ring, one thread. The flash is borrowed: it must
 * outlive the ring, and vg_ring_close does not close it.
 *
 * Layout on the medium (big-endian; part of the contract, since a unit
 * keeps its flash across firmware updates; ring.c explains the design):
 *   [0, 4096)            metadata copy A (512 bytes used)
 *   [4096, 8192)         metadata copy B
 *   [8192, 12288)        the counter journal (64 entries of 16 bytes used)
 *   [12288, + 64*slots)  the slots, one record each, slot i holding the
 *                        records numbered seq with (seq - 1) mod slots == i */
#ifndef VG_UNIT_RING_H
#define VG_UNIT_RING_H

#include <stddef.h>
#include <stdint.h>

#include "core/proto.h"
#include "unit/flash.h"

#define VG_RING_META_MAX  256        /* bytes of the settings blob */
#define VG_RING_MAX_SLOTS (1u << 24) /* 16 Mi slots: a 1 GiB medium */

#define VG_RING_META_A_OFFSET  0u
#define VG_RING_META_B_OFFSET  4096u
#define VG_RING_META_SIZE      512u
#define VG_RING_JOURNAL_OFFSET 8192u
#define VG_RING_JOURNAL_LEN    64u /* entries */
#define VG_RING_JOURNAL_ENTRY  16u /* bytes */
#define VG_RING_SLOTS_OFFSET   12288u
#define VG_RING_SLOT_SIZE      64u

struct vg_ring_params {
    uint32_t slots;         /* records it can hold, 1 to VG_RING_MAX_SLOTS */
    uint32_t alarm_reserve; /* slots kept free for alarms, < slots: a routine record is refused
                               (VG_ENOSPC) unless at least this many slots stay free after it; an
                               alarm only when no slot is free */
    int sync;               /* 1: sync after every write (a real unit: survives power loss); 0:
                               leave it to the OS (survives a process crash only; the simulator) */
};

struct vg_ring_stats {
    uint64_t last_seq; /* highest sequence number ever assigned (0: none) */
    uint64_t acked;    /* cumulative acknowledgement: every record <= this is stored by the
                          centre */
    uint64_t pending;  /* records kept, not acknowledged */
    uint64_t pending_alarms;
    uint64_t refused_full; /* appends refused because the ring was full, since open */
    uint32_t slots;
    uint64_t lost; /* numbers between acked and last_seq whose record the flash no longer
                      holds (a corrupted or never-written slot), since open: each is sent
                      as a VG_EVENT_RECORD_LOST notice (counted in pending until
                      acknowledged) so that the centre can acknowledge past it */
};

/* Bookkeeping, in the header so that callers can embed it; the fields are
 * the ring's own (read them through vg_ring_get_stats). */
struct vg_ring {
    struct vg_flash *flash; /* borrowed */
    uint32_t slots;
    uint32_t alarm_reserve;
    int sync;
    uint64_t last_seq;
    uint64_t acked;
    uint64_t persisted_acked; /* the acked number the metadata on the medium holds */
    uint64_t pending;
    uint64_t pending_alarms;
    uint64_t refused_full;
    uint64_t lost;
    /* Per slot: whether it holds a record to send (and whether an alarm).
     * Allocated at open, `slots` bytes. */
    uint8_t *flags;
    /* The unacknowledged alarms in sequence order, as slot indexes: a FIFO
     * of capacity `slots`, positions counted from 0 since open. */
    uint32_t *alarms;
    uint64_t alarm_head, alarm_tail;
    /* This session's progress: alarms at FIFO positions below alarm_cursor
     * and routine records numbered below routine_cursor are sent. */
    uint64_t alarm_cursor;
    uint64_t routine_cursor;
    /* The metadata: the newest valid copy (0 A, 1 B, -1 none) and its
     * generation; the settings blob as stored. */
    int meta_copy;
    uint64_t meta_generation;
    int meta_present;
    uint16_t meta_len;
    uint8_t meta[VG_RING_META_MAX];
};

/* Bytes the medium must have for that many slots (exactly: a medium of any
 * other size is refused). */
uint64_t vg_ring_flash_size(uint32_t slots);

/* Blank medium (every byte 0x00 or 0xFF): format it. Otherwise recover:
 * every slot checked (CRC), the counter from the highest number found in
 * the slots, the counter journal and the metadata, the metadata block the
 * newest valid of its two copies (a lost copy is rewritten). A medium that
 * holds bytes but no valid structure at all is refused, not reformatted
 * (that could reuse numbers). Allocates its bookkeeping here and never
 * again (5 bytes a slot). VG_EINVAL (parameters), VG_EFORMAT (a medium of
 * another size or geometry, or not a ring), VG_ENOSPC (memory), or the
 * medium's error; err receives a message (when errlen > 0). On failure *r
 * is left closed (vg_ring_close on it is harmless). */
int vg_ring_open(struct vg_ring *r, struct vg_flash *f, const struct vg_ring_params *p, char *err,
                 size_t errlen);

/* Frees the bookkeeping (and writes the cumulative acknowledgement to the
 * metadata if it moved since it was last written). Does not close the
 * flash. Harmless on a closed or failed ring. */
void vg_ring_close(struct vg_ring *r);

/* Assign rec->seq (last_seq + 1) and store the record; durable per the sync
 * policy before returning VG_OK. alarm != 0: an alarm (SOS, tamper status,
 * local proximity detection) to send ahead of the backlog.
 * VG_EINVAL for a record the protocol cannot carry (checked with the codec,
 * vg_proto_encode_records: a record that could never be sent would hold
 * back every acknowledgement after it); VG_ENOSPC when full (counted in
 * refused_full); the medium's error if the record could not be written.
 * On any error no number is used and rec->seq is left as it was. */
int vg_ring_append(struct vg_ring *r, struct vg_proto_record *rec, int alarm);

/* An acknowledgement (ACK frame, or WELCOME's acked_seq with n_extra 0):
 * records <= cumulative and the extras are dropped. Numbers above last_seq
 * are ignored (VG_ERANGE returned, the valid part still applied); a
 * cumulative below the current one changes nothing. The cumulative number
 * is written to the metadata now and then, not every time (ring.c says
 * why); a failure to write it is returned (the acknowledgement is applied
 * in memory all the same). extra may be NULL when n_extra is 0. */
int vg_ring_ack(struct vg_ring *r, uint64_t cumulative, const uint64_t *extra, size_t n_extra);

/* A new connection: every kept record becomes "to send" again. */
void vg_ring_session_start(struct vg_ring *r);

/* The next record to send in this session: 1 and *out filled (it is then
 * "sent"), 0 when nothing is left. Order: unacknowledged alarms not yet
 * sent this session first (oldest first) — including an alarm appended
 * while the backlog is being sent —, then the other records oldest first.
 * A number whose record is lost (its slot no longer passes its check) is
 * handed out in its place, in number order, as a notice: an EVENT of kind
 * VG_EVENT_RECORD_LOST with time_ms 0, which the caller stamps with the
 * present time before sending; counted in `lost`. A record the medium
 * fails to read is skipped for this session only (both logged). */
int vg_ring_next(struct vg_ring *r, struct vg_proto_record *out);

/* Small persistent settings of the unit (report/heartbeat intervals, boot
 * counter, recently executed command ids): an opaque blob of at most
 * VG_RING_META_MAX bytes, written atomically (after a crash: the old or the
 * new blob, never a mix). get: VG_ENOTFOUND if none was ever written,
 * VG_ENOSPC if cap is too small (*len then says how much is needed).
 * put: VG_ERANGE beyond VG_RING_META_MAX, or the medium's error (the old
 * blob is kept then). */
int vg_ring_meta_get(const struct vg_ring *r, void *buf, size_t cap, size_t *len);
int vg_ring_meta_put(struct vg_ring *r, const void *buf, size_t len);

void vg_ring_get_stats(const struct vg_ring *r, struct vg_ring_stats *st);

#endif
