/* The unit's store-and-forward ring (src/unit/ring.h) and its media
 * (src/unit/flash.h): numbering, acknowledgements, the sending order, a full
 * ring and the alarm reserve, wrap-around against a model, the settings
 * blob, exact round trips of every record type, and recovery from a
 * damaged medium. The kill -9 test is test_ring_crash.c. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/prng.h"
#include "ring_fixture.h"

/* ---- helpers --------------------------------------------------------------------------- */

static void open_mem(struct vg_flash *f, uint32_t slots)
{
    assert_int_equal(vg_flash_open_mem(f, vg_ring_flash_size(slots)), VG_OK);
}

static void open_ring(struct vg_ring *r, struct vg_flash *f, uint32_t slots, uint32_t reserve)
{
    struct vg_ring_params p = {.slots = slots, .alarm_reserve = reserve, .sync = 0};
    char err[256];
    int rc = vg_ring_open(r, f, &p, err, sizeof err);
    if (rc != VG_OK)
        fail_msg("vg_ring_open: %s (%s)", vg_strerror(rc), err);
}

static void reopen_ring(struct vg_ring *r, struct vg_flash *f, uint32_t slots, uint32_t reserve)
{
    vg_ring_close(r);
    open_ring(r, f, slots, reserve);
}

static struct vg_ring_stats stats(const struct vg_ring *r)
{
    struct vg_ring_stats st;
    vg_ring_get_stats(r, &st);
    return st;
}

/* Append the record made from the next number, as an alarm or not; returns
 * the number given. */
static uint64_t append_key(struct vg_ring *r, int alarm)
{
    struct vg_proto_record rec;
    make_record(stats(r).last_seq + 1, &rec);
    int rc = vg_ring_append(r, &rec, alarm);
    if (rc != VG_OK)
        fail_msg("append: %s", vg_strerror(rc));
    return rec.seq;
}

static void append_n(struct vg_ring *r, int n)
{
    for (int i = 0; i < n; i++)
        append_key(r, 0);
}

/* What next() gives until it says 0, checked against make_record. */
/* A lost number's notice, in the lists of numbers handed out. */
#define LOST(seq) ((uint64_t)(seq) | (1ull << 63))

static size_t drain(struct vg_ring *r, uint64_t *seqs, size_t cap)
{
    size_t n = 0;
    struct vg_proto_record out, want;
    while (vg_ring_next(r, &out) == 1) {
        assert_true(n < cap);
        if (out.type == VG_REC_EVENT && out.event.kind == VG_EVENT_RECORD_LOST) {
            assert_int_equal(out.event.time_ms, 0); /* the caller stamps it */
            seqs[n++] = LOST(out.seq);
            continue;
        }
        make_record(out.seq, &want);
        want.seq = out.seq;
        assert_same_record(&out, &want);
        seqs[n++] = out.seq;
    }
    return n;
}

#define expect_order(r, ...)                                                                       \
    do {                                                                                           \
        const uint64_t want_[] = {__VA_ARGS__};                                                    \
        uint64_t got_[256];                                                                        \
        size_t n_ = drain((r), got_, ARRAY_LEN(got_));                                             \
        check_order(got_, n_, want_, ARRAY_LEN(want_));                                            \
    } while (0)

static void check_order(const uint64_t *got, size_t n, const uint64_t *want, size_t m)
{
    char g[1024] = "", w[1024] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(g + strlen(g), sizeof g - strlen(g), " %" PRIu64, got[i]);
    for (size_t i = 0; i < m; i++)
        snprintf(w + strlen(w), sizeof w - strlen(w), " %" PRIu64, want[i]);
    if (n != m || memcmp(got, want, n * sizeof *got) != 0)
        fail_msg("next() gave [%s ], expected [%s ]", g, w);
}

static void expect_nothing(struct vg_ring *r)
{
    struct vg_proto_record out;
    assert_int_equal(vg_ring_next(r, &out), 0);
}

enum damage { DAMAGE_FLIP, DAMAGE_ZERO, DAMAGE_HALF };

/* Damage n bytes at off the way a medium does: one bit flipped, the area
 * erased, or only the first half of a write landed (the rest erased). */
static void damage(struct vg_flash *f, uint64_t off, size_t n, enum damage how)
{
    uint8_t buf[VG_RING_META_SIZE];
    assert_true(n <= sizeof buf);
    assert_int_equal(f->read(f->ctx, off, buf, n), VG_OK);
    switch (how) {
    case DAMAGE_FLIP: buf[n / 3] ^= 0x10; break;
    case DAMAGE_ZERO: memset(buf, 0, n); break;
    case DAMAGE_HALF: memset(buf + n / 2, 0, n - n / 2); break;
    }
    assert_int_equal(f->write(f->ctx, off, buf, n), VG_OK);
}

static void make_tmpdir(char *dir, size_t len)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, len, "%s/vigie-ring-XXXXXX", base != NULL && base[0] ? base : "/tmp");
    assert_non_null(mkdtemp(dir));
}

static void remove_tmpdir(const char *dir, const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    unlink(path);
    rmdir(dir);
}

/* ---- format and numbering ---------------------------------------------------------------- */

static void test_blank_medium_is_formatted(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    open_mem(&f, 32);
    open_ring(&r, &f, 32, 4);
    struct vg_ring_stats st = stats(&r);
    assert_int_equal(st.last_seq, 0);
    assert_int_equal(st.acked, 0);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.pending_alarms, 0);
    assert_int_equal(st.refused_full, 0);
    assert_int_equal(st.lost, 0);
    assert_int_equal(st.slots, 32);
    uint8_t blob[8];
    size_t len = 99;
    assert_int_equal(vg_ring_meta_get(&r, blob, sizeof blob, &len), VG_ENOTFOUND);
    expect_nothing(&r);

    /* The format wrote the metadata: the medium is a ring now. */
    uint8_t meta[VG_RING_META_SIZE];
    assert_int_equal(f.read(f.ctx, VG_RING_META_A_OFFSET, meta, sizeof meta), VG_OK);
    assert_memory_equal(meta, "VGRM", 4);
    reopen_ring(&r, &f, 32, 4);
    assert_int_equal(stats(&r).last_seq, 0);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

static void test_erased_flash_is_blank_too(void **state)
{
    (void)state;
    /* NOR flash reads 0xFF when erased. */
    struct vg_flash f;
    struct vg_ring r;
    open_mem(&f, 16);
    uint8_t ff[4096];
    memset(ff, 0xff, sizeof ff);
    for (uint64_t off = 0; off < f.size; off += sizeof ff) {
        size_t n = f.size - off < sizeof ff ? (size_t)(f.size - off) : sizeof ff;
        assert_int_equal(f.write(f.ctx, off, ff, n), VG_OK);
    }
    open_ring(&r, &f, 16, 0);
    assert_int_equal(append_key(&r, 0), 1);
    reopen_ring(&r, &f, 16, 0);
    assert_int_equal(stats(&r).pending, 1);
    expect_order(&r, 1);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

static void test_append_numbers_consecutively(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    open_mem(&f, 32);
    open_ring(&r, &f, 32, 4);
    for (uint64_t want = 1; want <= 10; want++) {
        struct vg_proto_record rec;
        make_record(want, &rec);
        rec.seq = 777; /* whatever the caller leaves there is replaced */
        assert_int_equal(vg_ring_append(&r, &rec, want == 4), VG_OK);
        assert_int_equal(rec.seq, want);
    }
    struct vg_ring_stats st = stats(&r);
    assert_int_equal(st.last_seq, 10);
    assert_int_equal(st.pending, 10);
    assert_int_equal(st.pending_alarms, 1);
    assert_int_equal(st.acked, 0);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

static void test_append_refuses_what_the_protocol_cannot_carry(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    open_mem(&f, 16);
    open_ring(&r, &f, 16, 0);
    struct vg_proto_record bad[8];
    size_t n = 0;
    make_record(4, &bad[n]); /* a FIX with a position */
    bad[n].fix.quality = VG_FIX_3D;
    bad[n++].fix.lat_deg = (double)NAN;
    make_record(4, &bad[n]);
    bad[n++].fix.quality = VG_FIX_NETWORK + 1;
    make_record(4, &bad[n]);
    bad[n++].fix.time_ms = -1;
    make_record(1, &bad[n]); /* a STATUS */
    bad[n++].status.battery_pct = -2;
    make_record(1, &bad[n]);
    bad[n++].subject = 2;
    make_record(2, &bad[n]); /* an EVENT */
    bad[n++].event.kind = 9;
    make_record(3, &bad[n]); /* a HEARTBEAT */
    bad[n++].type = 5;
    for (size_t i = 0; i < n; i++) {
        bad[i].seq = 42;
        assert_int_equal(vg_ring_append(&r, &bad[i], 0), VG_EINVAL);
        assert_int_equal(bad[i].seq, 42);
    }
    assert_int_equal(stats(&r).last_seq, 0);
    assert_int_equal(stats(&r).pending, 0);
    assert_int_equal(stats(&r).refused_full, 0);
    assert_int_equal(append_key(&r, 0), 1);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

/* ---- round trips ------------------------------------------------------------------------- */

static size_t every_kind_of_record(struct vg_proto_record *recs)
{
    size_t n = 0;
    struct vg_proto_record *x;

    x = &recs[n++]; /* a fix with every field */
    memset(x, 0, sizeof *x);
    x->type = VG_REC_FIX;
    x->fix = (struct vg_fix){.time_ms = T0,
                             .lat_deg = 47.218371012345678,
                             .lon_deg = -1.553621098765432,
                             .accuracy_m = 12.5f,
                             .speed_mps = 1.38f,
                             .heading_deg = 271.25f,
                             .quality = VG_FIX_DGNSS};
    x = &recs[n++]; /* speed and heading unknown */
    memset(x, 0, sizeof *x);
    x->type = VG_REC_FIX;
    x->fix = (struct vg_fix){.time_ms = T0 + 1,
                             .lat_deg = -89.9999999,
                             .lon_deg = 179.9999999,
                             .accuracy_m = 99999.99f,
                             .speed_mps = -1.0f,
                             .heading_deg = -1.0f,
                             .quality = VG_FIX_2D};
    x = &recs[n++]; /* no fix: the position fields are whatever the receiver left */
    memset(x, 0, sizeof *x);
    x->type = VG_REC_FIX;
    x->fix = (struct vg_fix){.time_ms = T0 + 2,
                             .lat_deg = (double)NAN,
                             .lon_deg = -0.0,
                             .accuracy_m = INFINITY,
                             .speed_mps = -1.0f,
                             .heading_deg = -1.0f,
                             .quality = VG_FIX_NONE};
    x = &recs[n++]; /* no fix, the modem's network estimate */
    memset(x, 0, sizeof *x);
    x->type = VG_REC_FIX;
    x->fix = (struct vg_fix){.time_ms = T0 + 2,
                             .lat_deg = 47.22,
                             .lon_deg = -1.55,
                             .accuracy_m = 850.0f,
                             .speed_mps = -1.0f,
                             .heading_deg = -1.0f,
                             .quality = VG_FIX_NETWORK};
    x = &recs[n++]; /* the protected person's unit: battery and charging only */
    memset(x, 0, sizeof *x);
    x->type = VG_REC_STATUS;
    x->subject = VG_SUBJECT_SELF;
    x->status = (struct vg_unit_status){.time_ms = T0 + 3,
                                        .battery_pct = 76,
                                        .charging = 0,
                                        .strap_closed = -1,
                                        .skin_contact = -1,
                                        .bracelet_link = -1,
                                        .beacon_heard = 1,
                                        .beacon_range_m = 32767};
    x = &recs[n++]; /* the bracelet, relayed */
    memset(x, 0, sizeof *x);
    x->type = VG_REC_STATUS;
    x->subject = VG_SUBJECT_BRACELET;
    x->status = (struct vg_unit_status){.time_ms = T0 + 4,
                                        .battery_pct = 100,
                                        .charging = 1,
                                        .strap_closed = 0,
                                        .skin_contact = 1,
                                        .bracelet_link = -1,
                                        .beacon_heard = -1,
                                        .beacon_range_m = -1};
    x = &recs[n++]; /* everything unknown */
    memset(x, 0, sizeof *x);
    x->type = VG_REC_STATUS;
    x->status = (struct vg_unit_status){.time_ms = T0 + 5,
                                        .battery_pct = -1,
                                        .charging = -1,
                                        .strap_closed = -1,
                                        .skin_contact = -1,
                                        .bracelet_link = -1,
                                        .beacon_heard = 0,
                                        .beacon_range_m = -1};
    static const uint8_t kinds[] = {VG_EVENT_SOS, VG_EVENT_CALLBACK_REQUEST, VG_EVENT_POWER_OFF,
                                    VG_EVENT_POWER_ON, VG_EVENT_HEARTBEAT};
    for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
        x = &recs[n++];
        memset(x, 0, sizeof *x);
        x->type = VG_REC_EVENT;
        x->event = (struct vg_unit_event){.time_ms = T0 + 6 + (int64_t)k, .kind = kinds[k]};
    }
    x = &recs[n++];
    memset(x, 0, sizeof *x);
    x->type = VG_REC_HEARTBEAT;
    x->event = (struct vg_unit_event){.time_ms = INT64_MAX, .kind = VG_EVENT_HEARTBEAT};
    return n;
}

static void test_every_record_type_round_trips_exactly(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    struct vg_proto_record recs[16], out;
    size_t n = every_kind_of_record(recs);
    open_mem(&f, 32);
    open_ring(&r, &f, 32, 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(vg_ring_append(&r, &recs[i], 0), VG_OK);
    /* Once from the live ring, once after a reopen (decoded from the slots). */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(vg_ring_next(&r, &out), 1);
            assert_same_record(&out, &recs[i]);
        }
        expect_nothing(&r);
        reopen_ring(&r, &f, 32, 0);
    }
    vg_ring_close(&r);
    vg_flash_close(&f);
}

/* ---- acknowledgements -------------------------------------------------------------------- */

static void test_ack_cumulative(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    open_mem(&f, 32);
    open_ring(&r, &f, 32, 0);
    append_n(&r, 10);
    assert_int_equal(vg_ring_ack(&r, 4, NULL, 0), VG_OK);
    assert_int_equal(stats(&r).acked, 4);
    assert_int_equal(stats(&r).pending, 6);
    expect_order(&r, 5, 6, 7, 8, 9, 10);
    assert_int_equal(vg_ring_ack(&r, 10, NULL, 0), VG_OK);
    assert_int_equal(stats(&r).pending, 0);
    vg_ring_session_start(&r);
    expect_nothing(&r);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

static void test_ack_extras(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    open_mem(&f, 32);
    open_ring(&r, &f, 32, 0);
    append_n(&r, 10);
    const uint64_t extra[] = {5, 7, 7, 1}; /* a repeat, and one below the cumulative */
    assert_int_equal(vg_ring_ack(&r, 2, extra, ARRAY_LEN(extra)), VG_OK);
    assert_int_equal(stats(&r).acked, 2);
    assert_int_equal(stats(&r).pending, 6);
    expect_order(&r, 3, 4, 6, 8, 9, 10);
    /* An extra does not free its slot: only the cumulative number does. */
    assert_int_equal(stats(&r).last_seq - stats(&r).acked, 8);
    /* The cumulative passing an extra does not count it twice. */
    assert_int_equal(vg_ring_ack(&r, 8, NULL, 0), VG_OK);
    assert_int_equal(stats(&r).pending, 2);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

static void test_ack_stale_changes_nothing(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    open_mem(&f, 32);
    open_ring(&r, &f, 32, 0);
    append_n(&r, 10);
    assert_int_equal(vg_ring_ack(&r, 6, NULL, 0), VG_OK);
    const uint64_t extra[] = {3, 6};
    assert_int_equal(vg_ring_ack(&r, 3, extra, ARRAY_LEN(extra)), VG_OK);
    assert_int_equal(vg_ring_ack(&r, 0, NULL, 0), VG_OK);
    assert_int_equal(stats(&r).acked, 6);
    assert_int_equal(stats(&r).pending, 4);
    expect_order(&r, 7, 8, 9, 10);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

static void test_ack_beyond_last(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    open_mem(&f, 32);
    open_ring(&r, &f, 32, 0);
    append_n(&r, 5);
    /* A cumulative above our counter is not ours: nothing is dropped. */
    assert_int_equal(vg_ring_ack(&r, 9, NULL, 0), VG_ERANGE);
    assert_int_equal(stats(&r).acked, 0);
    assert_int_equal(stats(&r).pending, 5);
    /* The valid part is applied. */
    const uint64_t extra[] = {4, 12};
    assert_int_equal(vg_ring_ack(&r, 2, extra, ARRAY_LEN(extra)), VG_ERANGE);
    assert_int_equal(stats(&r).acked, 2);
    assert_int_equal(stats(&r).pending, 2);
    expect_order(&r, 3, 5);
    assert_int_equal(vg_ring_ack(&r, 3, NULL, 1), VG_EINVAL);
    assert_int_equal(stats(&r).acked, 2);
    /* A number appended later is acknowledged normally. */
    assert_int_equal(append_key(&r, 0), 6);
    assert_int_equal(vg_ring_ack(&r, 6, NULL, 0), VG_OK);
    assert_int_equal(stats(&r).pending, 0);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

/* ---- the sending order ------------------------------------------------------------------- */

static void test_alarms_go_first(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    open_mem(&f, 32);
    open_ring(&r, &f, 32, 0);
    append_key(&r, 0);
    append_key(&r, 0);
    append_key(&r, 1);
    append_key(&r, 0);
    append_key(&r, 1);
    assert_int_equal(stats(&r).pending_alarms, 2);
    expect_order(&r, 3, 5, 1, 2, 4);
    expect_nothing(&r);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

static void test_alarm_appended_mid_backlog_goes_next(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    struct vg_proto_record out;
    open_mem(&f, 32);
    open_ring(&r, &f, 32, 0);
    append_n(&r, 5);
    assert_int_equal(vg_ring_next(&r, &out), 1);
    assert_int_equal(out.seq, 1);
    assert_int_equal(vg_ring_next(&r, &out), 1);
    assert_int_equal(out.seq, 2);
    assert_int_equal(append_key(&r, 1), 6);
    assert_int_equal(vg_ring_next(&r, &out), 1);
    assert_int_equal(out.seq, 6);
    assert_int_equal(vg_ring_next(&r, &out), 1);
    assert_int_equal(out.seq, 3);
    assert_int_equal(append_key(&r, 0), 7);
    assert_int_equal(append_key(&r, 1), 8);
    expect_order(&r, 8, 4, 5, 7);
    /* After everything went: new records, alarm first, in the same session. */
    append_key(&r, 0);
    append_key(&r, 1);
    expect_order(&r, 10, 9);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

static void test_extras_are_skipped(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    open_mem(&f, 32);
    open_ring(&r, &f, 32, 0);
    append_n(&r, 3);
    append_key(&r, 1);
    append_key(&r, 1);
    append_key(&r, 0);
    const uint64_t extra[] = {2, 4};
    assert_int_equal(vg_ring_ack(&r, 0, extra, ARRAY_LEN(extra)), VG_OK);
    assert_int_equal(stats(&r).pending, 4);
    assert_int_equal(stats(&r).pending_alarms, 1);
    expect_order(&r, 5, 1, 3, 6);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

static void test_session_restart_resends_the_unacknowledged(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    open_mem(&f, 32);
    open_ring(&r, &f, 32, 0);
    append_n(&r, 4);
    append_key(&r, 1);
    append_key(&r, 0);
    expect_order(&r, 5, 1, 2, 3, 4, 6);
    expect_nothing(&r); /* within a session nothing is sent twice */
    const uint64_t extra[] = {4};
    assert_int_equal(vg_ring_ack(&r, 2, extra, ARRAY_LEN(extra)), VG_OK);
    vg_ring_session_start(&r);
    expect_order(&r, 5, 3, 6);
    /* An alarm acknowledged by an extra is not resent. */
    const uint64_t extra2[] = {5};
    assert_int_equal(vg_ring_ack(&r, 2, extra2, ARRAY_LEN(extra2)), VG_OK);
    assert_int_equal(stats(&r).pending_alarms, 0);
    vg_ring_session_start(&r);
    expect_order(&r, 3, 6);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

/* ---- a full ring ------------------------------------------------------------------------- */

static void test_full_ring_keeps_the_alarm_reserve(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    struct vg_proto_record rec;
    open_mem(&f, 8);
    open_ring(&r, &f, 8, 2);
    append_n(&r, 6); /* 6 routine records leave the 2 reserved slots */
    make_record(7, &rec);
    rec.seq = 0;
    assert_int_equal(vg_ring_append(&r, &rec, 0), VG_ENOSPC);
    assert_int_equal(rec.seq, 0);
    assert_int_equal(stats(&r).refused_full, 1);
    assert_int_equal(stats(&r).last_seq, 6); /* no number used */
    assert_int_equal(append_key(&r, 1), 7);  /* an SOS still gets in */
    assert_int_equal(append_key(&r, 1), 8);
    make_record(9, &rec);
    assert_int_equal(vg_ring_append(&r, &rec, 1), VG_ENOSPC);
    assert_int_equal(vg_ring_append(&r, &rec, 0), VG_ENOSPC);
    assert_int_equal(stats(&r).refused_full, 3);
    /* Nothing was overwritten. */
    expect_order(&r, 7, 8, 1, 2, 3, 4, 5, 6);

    /* Extras do not free slots (the cumulative number has to pass them). */
    const uint64_t extra[] = {3, 4, 5, 6};
    assert_int_equal(vg_ring_ack(&r, 0, extra, ARRAY_LEN(extra)), VG_OK);
    assert_int_equal(vg_ring_append(&r, &rec, 1), VG_ENOSPC);
    /* Three slots freed: one routine record, then the reserve again. */
    assert_int_equal(vg_ring_ack(&r, 3, NULL, 0), VG_OK);
    assert_int_equal(append_key(&r, 0), 9);
    make_record(10, &rec);
    assert_int_equal(vg_ring_append(&r, &rec, 0), VG_ENOSPC);
    assert_int_equal(append_key(&r, 1), 10);
    assert_int_equal(append_key(&r, 1), 11);
    assert_int_equal(vg_ring_append(&r, &rec, 1), VG_ENOSPC);
    assert_int_equal(stats(&r).refused_full, 6);
    vg_ring_session_start(&r);
    expect_order(&r, 7, 8, 10, 11, 9);
    /* Still full after a reopen, with the same records. */
    reopen_ring(&r, &f, 8, 2);
    assert_int_equal(stats(&r).refused_full, 0); /* counted since open */
    assert_int_equal(vg_ring_append(&r, &rec, 1), VG_ENOSPC);
    assert_int_equal(stats(&r).refused_full, 1);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

static void test_full_ring_without_reserve(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    struct vg_proto_record rec;
    open_mem(&f, 4);
    open_ring(&r, &f, 4, 0);
    append_n(&r, 4);
    make_record(5, &rec);
    assert_int_equal(vg_ring_append(&r, &rec, 1), VG_ENOSPC);
    assert_int_equal(vg_ring_ack(&r, 1, NULL, 0), VG_OK);
    assert_int_equal(append_key(&r, 0), 5);
    expect_order(&r, 2, 3, 4, 5);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

/* ---- wrap-around against a model --------------------------------------------------------- */

#define WRAP_SLOTS 16
#define WRAP_MAX   100000

struct model {
    uint64_t last, acked;
    uint8_t extra[WRAP_MAX + 1]; /* acknowledged out of order */
};

/* What next() must give: pending alarms in order, then the rest in order. */
static void check_against_model(struct vg_ring *r, const struct model *m)
{
    uint64_t want[WRAP_SLOTS], got[WRAP_SLOTS + 1];
    size_t n = 0;
    for (int alarms = 1; alarms >= 0; alarms--) {
        for (uint64_t s = m->acked + 1; s <= m->last; s++) {
            if (!m->extra[s] && key_is_alarm(s) == alarms)
                want[n++] = s;
        }
    }
    vg_ring_session_start(r);
    size_t got_n = drain(r, got, ARRAY_LEN(got));
    check_order(got, got_n, want, n);
    struct vg_ring_stats st = stats(r);
    assert_int_equal(st.pending, n);
    assert_int_equal(st.last_seq, m->last);
    assert_int_equal(st.acked, m->acked);
}

static void test_wrap_around_many_times(void **state)
{
    (void)state;
    static struct model m;
    memset(&m, 0, sizeof m);
    struct vg_flash f;
    struct vg_ring r;
    struct vg_prng prng;
    vg_prng_seed(&prng, 20260701);
    open_mem(&f, WRAP_SLOTS);
    open_ring(&r, &f, WRAP_SLOTS, 2);
    uint64_t refused = 0, refused_ever = 0;
    /* 3000 steps: about 200 laps of the 16 slots. */
    for (int step = 0; step < 3000; step++) {
        uint64_t n = vg_prng_next(&prng) % 4;
        for (uint64_t k = 0; k < n; k++) {
            uint64_t seq = m.last + 1;
            struct vg_proto_record rec;
            make_record(seq, &rec);
            uint64_t used = m.last - m.acked;
            int fits = WRAP_SLOTS - used >= (key_is_alarm(seq) ? 1u : 3u);
            int rc = vg_ring_append(&r, &rec, key_is_alarm(seq));
            if (fits) {
                assert_int_equal(rc, VG_OK);
                assert_int_equal(rec.seq, seq);
                m.last = seq;
            } else {
                assert_int_equal(rc, VG_ENOSPC);
                refused++;
                refused_ever++;
                break;
            }
        }
        /* The centre acknowledges a prefix, and some out of order. */
        uint64_t cum = m.acked;
        if (m.last > m.acked && vg_prng_next(&prng) % 3 != 0)
            cum = m.acked + vg_prng_next(&prng) % (m.last - m.acked + 1);
        uint64_t extra[3];
        size_t n_extra = 0;
        for (size_t k = 0; k < 3 && m.last > cum; k++) {
            if (vg_prng_next(&prng) % 2 == 0)
                extra[n_extra++] = cum + 1 + vg_prng_next(&prng) % (m.last - cum);
        }
        assert_int_equal(vg_ring_ack(&r, cum, extra, n_extra), VG_OK);
        m.acked = cum;
        for (size_t k = 0; k < n_extra; k++)
            m.extra[extra[k]] = 1;
        if (step % 7 == 0)
            check_against_model(&r, &m);
        if (step % 101 == 0) {
            /* A restart: extras are forgotten (resent, and acknowledged
             * again), the cumulative number comes back with WELCOME. */
            reopen_ring(&r, &f, WRAP_SLOTS, 2);
            refused = 0; /* counted since open */
            assert_true(stats(&r).acked <= m.acked);
            assert_int_equal(vg_ring_ack(&r, m.acked, NULL, 0), VG_OK);
            for (uint64_t s = m.acked + 1; s <= m.last; s++)
                m.extra[s] = 0;
            check_against_model(&r, &m);
        }
    }
    assert_true(m.last > 40 * WRAP_SLOTS);
    assert_true(refused_ever > 0);
    assert_int_equal(stats(&r).refused_full, refused);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

/* ---- the settings blob ------------------------------------------------------------------- */

static void test_meta_blob(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    uint8_t buf[VG_RING_META_MAX + 8];
    size_t len;
    open_mem(&f, 16);
    open_ring(&r, &f, 16, 0);
    assert_int_equal(vg_ring_meta_get(&r, buf, sizeof buf, &len), VG_ENOTFOUND);
    assert_int_equal(vg_ring_meta_put(&r, NULL, 0), VG_OK); /* an empty blob is a blob */
    assert_int_equal(vg_ring_meta_get(&r, buf, sizeof buf, &len), VG_OK);
    assert_int_equal(len, 0);
    assert_int_equal(vg_ring_meta_put(&r, "abc", 3), VG_OK);
    assert_int_equal(vg_ring_meta_get(&r, buf, 2, &len), VG_ENOSPC);
    assert_int_equal(len, 3);
    assert_int_equal(vg_ring_meta_get(&r, buf, 3, &len), VG_OK);
    assert_memory_equal(buf, "abc", 3);

    uint8_t big[VG_RING_META_MAX + 1];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(vg_ring_meta_put(&r, big, sizeof big), VG_ERANGE);
    assert_int_equal(vg_ring_meta_put(&r, NULL, 4), VG_EINVAL);
    assert_int_equal(vg_ring_meta_get(&r, buf, sizeof buf, &len), VG_OK);
    assert_int_equal(len, 3); /* the old blob is kept */
    assert_int_equal(vg_ring_meta_put(&r, big, VG_RING_META_MAX), VG_OK);
    append_n(&r, 3);
    reopen_ring(&r, &f, 16, 0);
    assert_int_equal(vg_ring_meta_get(&r, buf, sizeof buf, &len), VG_OK);
    assert_int_equal(len, VG_RING_META_MAX);
    assert_memory_equal(buf, big, VG_RING_META_MAX);
    /* Acknowledgements rewrite the metadata; the blob goes along. */
    assert_int_equal(vg_ring_ack(&r, 3, NULL, 0), VG_OK);
    reopen_ring(&r, &f, 16, 0);
    assert_int_equal(stats(&r).acked, 3);
    assert_int_equal(vg_ring_meta_get(&r, buf, sizeof buf, &len), VG_OK);
    assert_memory_equal(buf, big, VG_RING_META_MAX);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

/* The offset of the metadata copy that holds this blob, or UINT64_MAX. */
static uint64_t copy_holding(struct vg_flash *f, const char *blob)
{
    const uint64_t offs[2] = {VG_RING_META_A_OFFSET, VG_RING_META_B_OFFSET};
    for (int c = 0; c < 2; c++) {
        uint8_t m[VG_RING_META_SIZE];
        assert_int_equal(f->read(f->ctx, offs[c], m, sizeof m), VG_OK);
        if (memcmp(m + 40, blob, strlen(blob)) == 0)
            return offs[c];
    }
    return UINT64_MAX;
}

static void expect_blob(struct vg_ring *r, const char *want)
{
    char buf[VG_RING_META_MAX];
    size_t len;
    assert_int_equal(vg_ring_meta_get(r, buf, sizeof buf, &len), VG_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
}

static void test_meta_damaged_copy_falls_back_to_the_other(void **state)
{
    (void)state;
    const enum damage hows[] = {DAMAGE_FLIP, DAMAGE_ZERO, DAMAGE_HALF};
    for (size_t h = 0; h < ARRAY_LEN(hows); h++) {
        struct vg_flash f;
        struct vg_ring r;
        open_mem(&f, 16);
        open_ring(&r, &f, 16, 0);
        append_n(&r, 5);
        assert_int_equal(vg_ring_meta_put(&r, "old settings", 12), VG_OK);
        assert_int_equal(vg_ring_meta_put(&r, "new settings!", 13), VG_OK);
        uint64_t newest = copy_holding(&f, "new settings!");
        assert_int_not_equal(newest, UINT64_MAX);
        vg_ring_close(&r);

        /* The write of the new blob torn, or the copy rotted: the old one. */
        damage(&f, newest, VG_RING_META_SIZE, hows[h]);
        open_ring(&r, &f, 16, 0);
        expect_blob(&r, "old settings");
        assert_int_equal(stats(&r).last_seq, 5);
        assert_int_equal(stats(&r).pending, 5);
        /* The open repaired the damaged copy: losing the other one now
         * still leaves the blob. */
        uint64_t other =
            newest == VG_RING_META_A_OFFSET ? VG_RING_META_B_OFFSET : VG_RING_META_A_OFFSET;
        vg_ring_close(&r);
        damage(&f, other, VG_RING_META_SIZE, hows[h]);
        open_ring(&r, &f, 16, 0);
        expect_blob(&r, "old settings");

        /* Both copies lost: no blob, but the records and the counter are
         * intact (slots and journal). */
        vg_ring_close(&r);
        damage(&f, VG_RING_META_A_OFFSET, VG_RING_META_SIZE, DAMAGE_FLIP);
        damage(&f, VG_RING_META_B_OFFSET, VG_RING_META_SIZE, DAMAGE_FLIP);
        open_ring(&r, &f, 16, 0);
        size_t len;
        char buf[16];
        assert_int_equal(vg_ring_meta_get(&r, buf, sizeof buf, &len), VG_ENOTFOUND);
        expect_order(&r, 1, 2, 3, 4, 5);
        assert_int_equal(append_key(&r, 0), 6);
        vg_ring_close(&r);
        vg_flash_close(&f);
    }
}

/* ---- recovery ---------------------------------------------------------------------------- */

static void test_reopen_after_close_file(void **state)
{
    (void)state;
    char dir[256], path[512], err[256];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ring", dir);
    struct vg_flash f;
    struct vg_ring r;
    struct vg_ring_params p = {.slots = 64, .alarm_reserve = 4, .sync = 1};
    assert_int_equal(vg_flash_open_file(&f, path, vg_ring_flash_size(64), err, sizeof err), VG_OK);
    assert_int_equal(vg_ring_open(&r, &f, &p, err, sizeof err), VG_OK);
    for (uint64_t s = 1; s <= 20; s++)
        append_key(&r, key_is_alarm(s));
    const uint64_t extra[] = {12};
    assert_int_equal(vg_ring_ack(&r, 5, extra, ARRAY_LEN(extra)), VG_OK);
    assert_int_equal(vg_ring_meta_put(&r, "intervals", 9), VG_OK);
    vg_ring_close(&r);
    vg_flash_close(&f);

    assert_int_equal(vg_flash_open_file(&f, path, vg_ring_flash_size(64), err, sizeof err), VG_OK);
    assert_int_equal(vg_ring_open(&r, &f, &p, err, sizeof err), VG_OK);
    struct vg_ring_stats st = stats(&r);
    assert_int_equal(st.last_seq, 20);
    assert_int_equal(st.acked, 5);          /* written at close */
    assert_int_equal(st.pending, 15);       /* the extra was not kept: it is resent */
    assert_int_equal(st.pending_alarms, 2); /* 10 and 17 */
    assert_int_equal(st.lost, 0);
    expect_blob(&r, "intervals");
    expect_order(&r, 10, 17, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 18, 19, 20);
    assert_int_equal(append_key(&r, 0), 21);
    vg_ring_close(&r);
    vg_flash_close(&f);
    remove_tmpdir(dir, "ring");
}

static void test_damaged_slot_loses_that_record_alone(void **state)
{
    (void)state;
    const enum damage hows[] = {DAMAGE_FLIP, DAMAGE_ZERO, DAMAGE_HALF};
    for (size_t h = 0; h < ARRAY_LEN(hows); h++) {
        /* victim 4: in the middle; 10: the newest, whose number must not
         * be handed out again; 3: an alarm. */
        const uint64_t victims[] = {4, 10, 3};
        for (size_t v = 0; v < ARRAY_LEN(victims); v++) {
            struct vg_flash f;
            struct vg_ring r;
            open_mem(&f, 16);
            open_ring(&r, &f, 16, 0);
            for (uint64_t s = 1; s <= 10; s++)
                append_key(&r, key_is_alarm(s));
            vg_ring_close(&r);
            damage(&f, slot_offset_of(16, victims[v]), VG_RING_SLOT_SIZE, hows[h]);
            open_ring(&r, &f, 16, 0);
            struct vg_ring_stats st = stats(&r);
            assert_int_equal(st.last_seq, 10);
            assert_int_equal(st.pending, 10); /* 9 records and the notice */
            assert_int_equal(st.lost, 1);
            /* the alarms are 3 and 10 */
            assert_int_equal(st.pending_alarms, victims[v] == 4 ? 2 : 1);
            /* alarms first, then the rest in number order, the lost
             * number's notice in its place */
            if (victims[v] == 4)
                expect_order(&r, 3, 10, 1, 2, LOST(4), 5, 6, 7, 8, 9);
            else if (victims[v] == 10)
                expect_order(&r, 3, 1, 2, 4, 5, 6, 7, 8, 9, LOST(10));
            else
                expect_order(&r, 10, 1, 2, LOST(3), 4, 5, 6, 7, 8, 9);
            /* the centre acknowledges past the lost number: nothing stalls */
            assert_int_equal(vg_ring_ack(&r, 10, NULL, 0), VG_OK);
            st = stats(&r);
            assert_int_equal(st.acked, 10);
            assert_int_equal(st.pending, 0);
            assert_int_equal(append_key(&r, 0), 11);
            vg_ring_close(&r);
            vg_flash_close(&f);
        }
    }
}

static void test_record_damaged_while_open_is_skipped(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    open_mem(&f, 16);
    open_ring(&r, &f, 16, 0);
    append_n(&r, 2);
    append_key(&r, 1);
    append_n(&r, 2);
    damage(&f, slot_offset_of(16, 3), VG_RING_SLOT_SIZE, DAMAGE_FLIP);
    damage(&f, slot_offset_of(16, 4), VG_RING_SLOT_SIZE, DAMAGE_ZERO);
    /* the alarm (3) is found damaged first: its notice goes in number order */
    expect_order(&r, 1, 2, LOST(3), LOST(4), 5);
    struct vg_ring_stats st = stats(&r);
    assert_int_equal(st.lost, 2);
    assert_int_equal(st.pending, 5);
    assert_int_equal(st.pending_alarms, 0);
    assert_int_equal(append_key(&r, 0), 6);
    /* a new session: the notices again (not yet acknowledged), then 6 */
    vg_ring_session_start(&r);
    expect_order(&r, 1, 2, LOST(3), LOST(4), 5, 6);
    assert_int_equal(vg_ring_ack(&r, 4, NULL, 0), VG_OK);
    assert_int_equal(stats(&r).pending, 2);
    vg_ring_session_start(&r);
    expect_order(&r, 5, 6);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

static void test_counter_survives_when_everything_was_acknowledged(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    open_mem(&f, 8);
    open_ring(&r, &f, 8, 0);
    for (int lap = 0; lap < 5; lap++) {
        append_n(&r, 6);
        assert_int_equal(vg_ring_ack(&r, stats(&r).last_seq, NULL, 0), VG_OK);
    }
    assert_int_equal(stats(&r).last_seq, 30);
    reopen_ring(&r, &f, 8, 0);
    assert_int_equal(stats(&r).last_seq, 30);
    assert_int_equal(stats(&r).acked, 30);
    assert_int_equal(stats(&r).pending, 0);
    expect_nothing(&r);

    /* Every slot and the journal erased: the metadata still knows. */
    vg_ring_close(&r);
    uint8_t zero[VG_RING_SLOT_SIZE * 8] = {0};
    assert_int_equal(f.write(f.ctx, VG_RING_SLOTS_OFFSET, zero, sizeof zero), VG_OK);
    uint8_t jzero[VG_RING_JOURNAL_LEN * VG_RING_JOURNAL_ENTRY] = {0};
    assert_int_equal(f.write(f.ctx, VG_RING_JOURNAL_OFFSET, jzero, sizeof jzero), VG_OK);
    open_ring(&r, &f, 8, 0);
    assert_int_equal(stats(&r).last_seq, 30);
    assert_int_equal(append_key(&r, 0), 31);

    /* Both metadata copies lost: the slots and journal know the counter.
     * The acknowledged number is lost with them: the ring can only assume
     * what a window of 8 implies (up to 23) and counts 24..30, whose slots
     * were erased, as lost: full until WELCOME says what the centre has. */
    vg_ring_close(&r);
    damage(&f, VG_RING_META_A_OFFSET, VG_RING_META_SIZE, DAMAGE_ZERO);
    damage(&f, VG_RING_META_B_OFFSET, VG_RING_META_SIZE, DAMAGE_ZERO);
    open_ring(&r, &f, 8, 0);
    assert_int_equal(stats(&r).last_seq, 31);
    assert_int_equal(stats(&r).acked, 23);
    assert_int_equal(stats(&r).lost, 7);
    expect_order(&r, LOST(24), LOST(25), LOST(26), LOST(27), LOST(28), LOST(29), LOST(30), 31);
    struct vg_proto_record rec;
    make_record(32, &rec);
    assert_int_equal(vg_ring_append(&r, &rec, 1), VG_ENOSPC);
    assert_int_equal(vg_ring_ack(&r, 31, NULL, 0), VG_OK);
    assert_int_equal(append_key(&r, 0), 32);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

static void test_acknowledgement_lost_in_a_crash_means_resends(void **state)
{
    (void)state;
    /* A crash: the medium as it was, without the close. */
    struct vg_flash f, crashed;
    struct vg_ring r;
    open_mem(&f, 64);
    open_ring(&r, &f, 64, 0);
    append_n(&r, 10);
    assert_int_equal(vg_ring_ack(&r, 2, NULL, 0), VG_OK);
    open_mem(&crashed, 64);
    static uint8_t image[VG_RING_SLOTS_OFFSET + 64 * VG_RING_SLOT_SIZE];
    assert_int_equal(sizeof image, f.size);
    assert_int_equal(f.read(f.ctx, 0, image, sizeof image), VG_OK);
    assert_int_equal(crashed.write(crashed.ctx, 0, image, sizeof image), VG_OK);
    vg_ring_close(&r);
    vg_flash_close(&f);

    open_ring(&r, &crashed, 64, 0);
    struct vg_ring_stats st = stats(&r);
    assert_int_equal(st.last_seq, 10);
    assert_true(st.acked <= 2);
    /* Records 1 and 2 may come again (the centre drops the duplicates);
     * 3 to 10 must. */
    uint64_t got[16];
    size_t n = drain(&r, got, ARRAY_LEN(got));
    assert_int_equal(n, 10 - st.acked);
    assert_int_equal(got[n - 8], 3);
    assert_int_equal(got[n - 1], 10);
    assert_int_equal(vg_ring_ack(&r, 2, NULL, 0), VG_OK); /* WELCOME */
    assert_int_equal(stats(&r).pending, 8);
    vg_ring_close(&r);
    vg_flash_close(&crashed);
}

/* ---- what is refused --------------------------------------------------------------------- */

static void test_file_of_the_wrong_size_is_refused(void **state)
{
    (void)state;
    char dir[256], path[512], err[512];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ring", dir);
    struct vg_flash f;
    uint64_t size16 = vg_ring_flash_size(16), size32 = vg_ring_flash_size(32);
    assert_int_equal(vg_flash_open_file(&f, path, size16, err, sizeof err), VG_OK);
    assert_int_equal(f.size, size16);
    vg_flash_close(&f);

    assert_int_equal(vg_flash_open_file(&f, path, size32, err, sizeof err), VG_EFORMAT);
    char a[32], b[32];
    snprintf(a, sizeof a, "%" PRIu64, size16);
    snprintf(b, sizeof b, "%" PRIu64, size32);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, a));
    assert_non_null(strstr(err, b));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((uint64_t)st.st_size, size16); /* left as it was */

    /* An empty file is somebody else's too. */
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(vg_flash_open_file(&f, path, size16, err, sizeof err), VG_EFORMAT);
    assert_non_null(strstr(err, "is 0 bytes"));
    assert_int_equal(vg_flash_open_file(&f, path, 0, err, sizeof err), VG_EINVAL);
    remove_tmpdir(dir, "ring");
}

static void test_file_is_locked_while_open(void **state)
{
    (void)state;
    char dir[256], path[512], err[512];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ring", dir);
    struct vg_flash f, g;
    assert_int_equal(vg_flash_open_file(&f, path, vg_ring_flash_size(8), err, sizeof err), VG_OK);
    assert_int_equal(vg_flash_open_file(&g, path, vg_ring_flash_size(8), err, sizeof err),
                     VG_EDUPLICATE);
    assert_non_null(strstr(err, "in use"));
    vg_flash_close(&f);
    assert_int_equal(vg_flash_open_file(&g, path, vg_ring_flash_size(8), err, sizeof err), VG_OK);
    /* Reads and writes stay inside the medium. */
    uint8_t b[4] = {0};
    assert_int_equal(g.read(g.ctx, g.size - 2, b, sizeof b), VG_ERANGE);
    assert_int_equal(g.write(g.ctx, UINT64_MAX - 1, b, sizeof b), VG_ERANGE);
    assert_int_equal(g.read(g.ctx, g.size - 4, b, sizeof b), VG_OK);
    vg_flash_close(&g);
    vg_flash_close(&g); /* a cleared flash closes harmlessly */
    remove_tmpdir(dir, "ring");
}

static void test_ring_refuses_a_medium_of_another_geometry(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    struct vg_ring_params p = {.slots = 8, .alarm_reserve = 0, .sync = 0};
    char err[256];
    open_mem(&f, 16);
    assert_int_equal(vg_ring_open(&r, &f, &p, err, sizeof err), VG_EFORMAT);
    assert_non_null(strstr(err, "8 slots need"));
    vg_ring_close(&r); /* harmless after a failed open */
    vg_flash_close(&f);
}

static void test_garbage_medium_is_refused_not_formatted(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    struct vg_ring_params p = {.slots = 32, .alarm_reserve = 0, .sync = 0};
    char err[256];
    open_mem(&f, 32);
    struct vg_prng prng;
    vg_prng_seed(&prng, 7);
    for (uint64_t off = 0; off < f.size; off += 8) {
        uint64_t v = vg_prng_next(&prng);
        assert_int_equal(f.write(f.ctx, off, &v, 8), VG_OK);
    }
    assert_int_equal(vg_ring_open(&r, &f, &p, err, sizeof err), VG_EFORMAT);
    assert_non_null(strstr(err, "holds data but no valid ring"));
    uint64_t first;
    struct vg_prng again;
    vg_prng_seed(&again, 7);
    assert_int_equal(f.read(f.ctx, 0, &first, 8), VG_OK);
    assert_int_equal(first, vg_prng_next(&again)); /* untouched */
    vg_flash_close(&f);

    /* Only the metadata garbled, everything else blank: the first format
     * was cut short; nothing was ever numbered, so formatting is safe. */
    open_mem(&f, 32);
    uint8_t junk[64];
    memset(junk, 0x5a, sizeof junk);
    assert_int_equal(f.write(f.ctx, VG_RING_META_A_OFFSET, junk, sizeof junk), VG_OK);
    open_ring(&r, &f, 32, 0);
    assert_int_equal(append_key(&r, 0), 1);
    vg_ring_close(&r);
    vg_flash_close(&f);
}

static void test_parameters_are_checked(void **state)
{
    (void)state;
    struct vg_flash f;
    struct vg_ring r;
    char err[256];
    open_mem(&f, 8);
    struct vg_ring_params bad[] = {
        {.slots = 0, .alarm_reserve = 0},
        {.slots = 8, .alarm_reserve = 8},
        {.slots = 8, .alarm_reserve = 9},
        {.slots = VG_RING_MAX_SLOTS + 1, .alarm_reserve = 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        assert_int_equal(vg_ring_open(&r, &f, &bad[i], err, sizeof err), VG_EINVAL);
        assert_true(strlen(err) > 0);
    }
    struct vg_ring_params ok = {.slots = 8, .alarm_reserve = 7};
    assert_int_equal(vg_ring_open(&r, NULL, &ok, err, sizeof err), VG_EINVAL);
    assert_int_equal(vg_ring_open(&r, &f, NULL, err, sizeof err), VG_EINVAL);
    /* A closed ring refuses politely. */
    struct vg_proto_record rec;
    make_record(1, &rec);
    assert_int_equal(vg_ring_append(&r, &rec, 0), VG_EINVAL);
    assert_int_equal(vg_ring_next(&r, &rec), 0);
    vg_flash_close(&f);
    assert_int_equal(vg_flash_open_mem(&f, 0), VG_EINVAL);
    vg_flash_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blank_medium_is_formatted),
        cmocka_unit_test(test_erased_flash_is_blank_too),
        cmocka_unit_test(test_append_numbers_consecutively),
        cmocka_unit_test(test_append_refuses_what_the_protocol_cannot_carry),
        cmocka_unit_test(test_every_record_type_round_trips_exactly),
        cmocka_unit_test(test_ack_cumulative),
        cmocka_unit_test(test_ack_extras),
        cmocka_unit_test(test_ack_stale_changes_nothing),
        cmocka_unit_test(test_ack_beyond_last),
        cmocka_unit_test(test_alarms_go_first),
        cmocka_unit_test(test_alarm_appended_mid_backlog_goes_next),
        cmocka_unit_test(test_extras_are_skipped),
        cmocka_unit_test(test_session_restart_resends_the_unacknowledged),
        cmocka_unit_test(test_full_ring_keeps_the_alarm_reserve),
        cmocka_unit_test(test_full_ring_without_reserve),
        cmocka_unit_test(test_wrap_around_many_times),
        cmocka_unit_test(test_meta_blob),
        cmocka_unit_test(test_meta_damaged_copy_falls_back_to_the_other),
        cmocka_unit_test(test_reopen_after_close_file),
        cmocka_unit_test(test_damaged_slot_loses_that_record_alone),
        cmocka_unit_test(test_record_damaged_while_open_is_skipped),
        cmocka_unit_test(test_counter_survives_when_everything_was_acknowledged),
        cmocka_unit_test(test_acknowledgement_lost_in_a_crash_means_resends),
        cmocka_unit_test(test_file_of_the_wrong_size_is_refused),
        cmocka_unit_test(test_file_is_locked_while_open),
        cmocka_unit_test(test_ring_refuses_a_medium_of_another_geometry),
        cmocka_unit_test(test_garbage_medium_is_refused_not_formatted),
        cmocka_unit_test(test_parameters_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
