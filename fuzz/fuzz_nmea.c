/* libFuzzer harness for the units' NMEA 0183 parser: the input is a byte
 * stream as a serial port would deliver it, cut into lines at '\n' (and fed
 * with their '\r', NULs and all); a '\f' byte asks for a flush. Checked:
 * every return is one of the documented codes; a refusal writes no fix and
 * leaves the parser byte for byte as it was but for its counter; at most
 * VG_NMEA_MAX_OUT fixes per line; every fix passes vg_fix_check, and one
 * with a position has an accuracy within fix.h's limits; the counters add
 * up; and every fix goes through the writers into sentences of at most 82
 * characters that a fresh parser accepts. Each line is also fed, with its
 * checksum repaired, to a second parser, so that the fields get fuzzed. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/civil.h"
#include "core/err.h"
#include "core/nmea.h"

static void check_writers(const struct vg_fix *fix)
{
    size_t (*const writers[4])(const struct vg_fix *, char *, size_t) = {
        vg_nmea_format_gga, vg_nmea_format_rmc, vg_nmea_format_gsa, vg_nmea_format_gst};
    struct vg_nmea scratch;
    vg_nmea_init(&scratch);
    for (size_t i = 0; i < 4; i++) {
        char buf[128];
        size_t len = writers[i](fix, buf, sizeof buf);
        if (len == 0) {
            /* only RMC may refuse a checked fix: its year has two digits */
            struct vg_date d = vg_date_from_days(vg_floor_div(fix->time_ms, 86400000));
            assert(writers[i] == vg_nmea_format_rmc && d.year >= 2080);
            continue;
        }
        assert(len <= 82 && len == strlen(buf));
        struct vg_fix out[VG_NMEA_MAX_OUT];
        size_t n;
        assert(vg_nmea_feed(&scratch, buf, len, out, &n) == VG_OK);
    }
}

static void check_fixes(const struct vg_fix *out, size_t n)
{
    assert(n <= VG_NMEA_MAX_OUT);
    for (size_t i = 0; i < n; i++) {
        assert(vg_fix_check(&out[i]) == VG_OK);
        if (out[i].quality != VG_FIX_NONE) {
            assert(out[i].accuracy_m >= VG_FIX_MIN_ACCURACY_M);
            assert(out[i].accuracy_m <= VG_FIX_MAX_ACCURACY_M);
        }
        check_writers(&out[i]);
    }
}

/* One parser fed one line: every invariant of a feed. */
static void feed_checked(struct vg_nmea *p, const char *line, size_t len, uint64_t *lines)
{
    static struct vg_nmea before;
    memcpy(&before, p, sizeof before);
    struct vg_fix out[VG_NMEA_MAX_OUT];
    size_t n = 77;
    int rc = vg_nmea_feed(p, line, len, out, &n);
    (*lines)++;
    if (rc < 0) {
        assert(rc == VG_EFORMAT || rc == VG_ERANGE);
        assert(n == 0);
        before.stats.refused++;
        assert(memcmp(&before, p, sizeof before) == 0);
    } else {
        assert(rc == VG_OK || rc == VG_NMEA_IGNORED);
        if (rc == VG_NMEA_IGNORED)
            assert(n == 0);
        check_fixes(out, n);
    }
    assert(p->stats.accepted + p->stats.ignored + p->stats.refused == *lines);
}

static void flush_checked(struct vg_nmea *p)
{
    struct vg_fix fix;
    int r = vg_nmea_flush(p, &fix);
    assert(r == 0 || r == 1);
    check_fixes(&fix, (size_t)r);
    assert(vg_nmea_flush(p, &fix) == 0);
}

/* A copy of the line whose two characters after its last '*' are the
 * right checksum: random mutations seldom keep one, and without it the
 * fields are never read. */
static size_t repair_checksum(const char *line, size_t len, char *copy, size_t size)
{
    if (len > size)
        len = size;
    memcpy(copy, line, len);
    size_t star = len;
    while (star > 0 && copy[star - 1] != '*')
        star--;
    if (star == 0 || star + 2 > len)
        return len;
    unsigned sum = 0;
    for (size_t i = 1; i + 1 < star; i++)
        sum ^= (unsigned char)copy[i];
    static const char hex[] = "0123456789ABCDEF";
    copy[star] = hex[sum >> 4];
    copy[star + 1] = hex[sum & 15];
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vg_nmea raw, repaired;
    vg_nmea_init(&raw);
    vg_nmea_init(&repaired);
    const char *text = (const char *)data;
    uint64_t raw_lines = 0, repaired_lines = 0;
    size_t start = 0;
    while (start < size) {
        const char *nl = memchr(text + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - text) + 1 : size;
        if (text[start] == '\f' && (end - start == 1 || text[start + 1] == '\n')) {
            flush_checked(&raw);
            flush_checked(&repaired);
            start = end;
            continue;
        }
        feed_checked(&raw, text + start, end - start, &raw_lines);
        char copy[2 * VG_NMEA_MAX_LINE];
        size_t n = repair_checksum(text + start, end - start, copy, sizeof copy);
        feed_checked(&repaired, copy, n, &repaired_lines);
        start = end;
    }
    flush_checked(&raw);
    flush_checked(&repaired);
    return 0;
}
