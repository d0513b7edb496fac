/* Shared by the ring's tests: records made from a number (so that a test,
 * or a parent process, knows what record number n must hold without being
 * told), exact comparison, and access to the medium's layout. */
#ifndef VG_TESTS_RING_FIXTURE_H
#define VG_TESTS_RING_FIXTURE_H

#include <string.h>

#include "../unit/testing.h"
#include "core/err.h"
#include "core/proto.h"
#include "unit/flash.h"
#include "unit/ring.h"

#define T0 1782892800000LL /* 2026-07-01T08:00:00Z */

/* A record of every type in turn, its fields derived from key, with the
 * "unknown" values (-1) and the no-fix quality appearing regularly. */
static inline void make_record(uint64_t key, struct vg_proto_record *rec)
{
    memset(rec, 0, sizeof *rec);
    int64_t t = T0 + (int64_t)key * 1000;
    switch (key % 4) {
    case 0:
        rec->type = VG_REC_FIX;
        rec->fix.time_ms = t;
        rec->fix.quality = (uint8_t)(key % 5 == 0 ? VG_FIX_NONE : 1 + key % 3);
        rec->fix.lat_deg = 47.2183710 + (double)(key % 10007) * 1.234567e-6;
        rec->fix.lon_deg = -1.5536210 - (double)(key % 9973) * 7.654321e-7;
        rec->fix.accuracy_m = 3.0f + (float)(key % 97) * 0.37f;
        rec->fix.speed_mps = key % 3 == 0 ? -1.0f : (float)(key % 40) * 0.11f;
        rec->fix.heading_deg = key % 6 == 0 ? -1.0f : (float)(key % 36000) * 0.01f;
        break;
    case 1:
        rec->type = VG_REC_STATUS;
        rec->subject = (uint8_t)(key % 8 == 1 ? VG_SUBJECT_BRACELET : VG_SUBJECT_SELF);
        rec->status.time_ms = t;
        rec->status.battery_pct = (int8_t)(key % 9 == 0 ? -1 : (int)(key % 101));
        rec->status.charging = (int8_t)((int)(key % 3) - 1);
        rec->status.strap_closed = (int8_t)((int)(key / 3 % 3) - 1);
        rec->status.skin_contact = (int8_t)((int)(key / 9 % 3) - 1);
        rec->status.bracelet_link = (int8_t)((int)(key / 27 % 3) - 1);
        rec->status.beacon_heard = (int8_t)((int)(key / 81 % 3) - 1);
        rec->status.beacon_range_m =
            (int16_t)(rec->status.beacon_heard == 1 ? (int)(key % 5000) : -1);
        break;
    case 2:
        rec->type = VG_REC_EVENT;
        rec->event.time_ms = t;
        rec->event.kind = (uint8_t)(1 + key / 4 % 5);
        break;
    default:
        rec->type = VG_REC_HEARTBEAT;
        rec->event.time_ms = t;
        rec->event.kind = VG_EVENT_HEARTBEAT;
        break;
    }
}

static inline int key_is_alarm(uint64_t key)
{
    return key % 7 == 3;
}

/* Field by field, floating-point values bit for bit. */
static inline void assert_same_record(const struct vg_proto_record *a,
                                      const struct vg_proto_record *b)
{
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->subject, b->subject);
    switch (a->type) {
    case VG_REC_FIX:
        assert_int_equal(a->fix.time_ms, b->fix.time_ms);
        assert_memory_equal(&a->fix.lat_deg, &b->fix.lat_deg, sizeof a->fix.lat_deg);
        assert_memory_equal(&a->fix.lon_deg, &b->fix.lon_deg, sizeof a->fix.lon_deg);
        assert_memory_equal(&a->fix.accuracy_m, &b->fix.accuracy_m, sizeof a->fix.accuracy_m);
        assert_memory_equal(&a->fix.speed_mps, &b->fix.speed_mps, sizeof a->fix.speed_mps);
        assert_memory_equal(&a->fix.heading_deg, &b->fix.heading_deg, sizeof a->fix.heading_deg);
        assert_int_equal(a->fix.quality, b->fix.quality);
        break;
    case VG_REC_STATUS:
        assert_int_equal(a->status.time_ms, b->status.time_ms);
        assert_int_equal(a->status.battery_pct, b->status.battery_pct);
        assert_int_equal(a->status.charging, b->status.charging);
        assert_int_equal(a->status.strap_closed, b->status.strap_closed);
        assert_int_equal(a->status.skin_contact, b->status.skin_contact);
        assert_int_equal(a->status.bracelet_link, b->status.bracelet_link);
        assert_int_equal(a->status.beacon_heard, b->status.beacon_heard);
        assert_int_equal(a->status.beacon_range_m, b->status.beacon_range_m);
        break;
    default:
        assert_int_equal(a->event.time_ms, b->event.time_ms);
        assert_int_equal(a->event.kind, b->event.kind);
        break;
    }
}

/* Where record seq lives on a medium of `slots` slots. */
static inline uint64_t slot_offset_of(uint32_t slots, uint64_t seq)
{
    return VG_RING_SLOTS_OFFSET + ((seq - 1) % slots) * VG_RING_SLOT_SIZE;
}

#endif
