/* Time zones: UTC offset at an instant, and wall-clock time back to UTC,
 * correct across daylight-saving changes.
 *
 * The core does no I/O: the shell reads a TZif file (RFC 8536, e.g.
 * /usr/share/zoneinfo/Europe/Paris) and hands its bytes to
 * vg_tz_from_tzif(); or a POSIX TZ rule string is given directly
 * (vg_tz_from_posix(), e.g. VG_TZ_RULE_EUROPE_PARIS). A struct vg_tz is
 * large (fixed tables, no allocation) and read-only once built: build one
 * per zone and share it between every measure that uses it. */
#ifndef VG_CORE_TZ_H
#define VG_CORE_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The rule in force in metropolitan France since 1996. */
#define VG_TZ_RULE_EUROPE_PARIS "CET-1CEST,M3.5.0,M10.5.0/3"
#define VG_TZ_DEFAULT_NAME      "Europe/Paris"

/* The largest zone of Debian's tzdata 2025b has 310 transitions and 18
 * types; TZif files with more than these tables hold are refused with
 * VG_ENOSPC, never truncated. */
#define VG_TZ_MAX_TRANSITIONS 1200
#define VG_TZ_MAX_TYPES       64
/* A POSIX TZ string longer than this is refused. */
#define VG_TZ_MAX_RULE_LEN 255

/* One yearly change date of a POSIX rule: Jn, n or Mm.w.d, at a local time
 * of day (seconds, may be negative or beyond 24 h as RFC 8536 allows). */
struct vg_tz_change_rule {
    uint8_t kind;   /* 'J' (Julian day 1..365, no 29 Feb), 'N' (zero-based day 0..365), 'M' */
    uint16_t day;   /* J: 1..365, N: 0..365, M: weekday 0 = Sunday .. 6 */
    uint8_t month;  /* M: 1..12 */
    uint8_t week;   /* M: 1..5, 5 = last */
    int32_t time_s; /* local time of day of the change, -167 h .. +167 h */
};

struct vg_tz_rule {
    int32_t std_offset_s; /* seconds east of UTC in standard time */
    int32_t dst_offset_s; /* seconds east of UTC in daylight time */
    bool has_dst;
    struct vg_tz_change_rule dst_start; /* in standard local time */
    struct vg_tz_change_rule dst_end;   /* in daylight local time */
};

struct vg_tz {
    uint32_t n_transitions;
    uint8_t n_types;
    bool has_rule; /* the POSIX rule applies from the last transition on (always if none) */
    int32_t type_offset_s[VG_TZ_MAX_TYPES];
    uint8_t type_is_dst[VG_TZ_MAX_TYPES];
    /* offset before the first transition (RFC 8536 section 3.2) */
    int32_t initial_offset_s;
    int64_t transition_s[VG_TZ_MAX_TRANSITIONS]; /* UTC seconds, strictly increasing */
    uint8_t transition_type[VG_TZ_MAX_TRANSITIONS];
    struct vg_tz_rule rule;
};

/* Build from the bytes of a TZif file (versions 1 to 4; for version 2 and
 * later the 64-bit data and the footer rule are used). VG_EFORMAT for
 * anything malformed (including bytes after the data, and UT offsets
 * outside RFC 8536's recommended (-25 h, +26 h)), VG_ENOSPC beyond the fixed
 * tables. On any error *tz is left as UTC. */
int vg_tz_from_tzif(struct vg_tz *tz, const uint8_t *buf, size_t len);

/* Build from a POSIX TZ rule string (e.g. "CET-1CEST,M3.5.0,M10.5.0/3",
 * "<+0330>-3:30", "EST5EDT,M3.2.0,M11.1.0", "UTC0"), with RFC 8536's
 * extensions (change times from -167 h to 167 h; "0/0,J365/25" is DST all
 * year). VG_EFORMAT if invalid, including a DST name without change dates
 * ("EST5EDT"): POSIX leaves those dates to the implementation and we do not
 * guess. On error *tz is left as UTC. */
int vg_tz_from_posix(struct vg_tz *tz, const char *rule);

/* Seconds east of UTC in force at the UTC instant utc_s. */
int32_t vg_tz_offset_at(const struct vg_tz *tz, int64_t utc_s);

/* The first UTC instant strictly after utc_s at which the offset changes,
 * or INT64_MAX if it never does. */
int64_t vg_tz_next_change(const struct vg_tz *tz, int64_t utc_s);

enum vg_tz_local_kind {
    VG_TZ_LOCAL_UNIQUE = 0,    /* the wall-clock time occurs once */
    VG_TZ_LOCAL_AMBIGUOUS = 1, /* it occurs twice (clocks turned back) */
    VG_TZ_LOCAL_GAP = 2,       /* it never occurs (clocks turned forward) */
};

/* The UTC instants at which the wall clock reads civil_s (civil seconds,
 * see civil.h). UNIQUE: *earliest == *latest. AMBIGUOUS: the two readings
 * (the first and last if a pathological zone has more). GAP: both are set
 * to the instant of the change that skipped it (the first one, should
 * clocks jump over it twice). Returns the kind (>= 0), or
 * VG_ERANGE (outputs untouched) if |civil_s| > 2^62 s. */
int vg_tz_local_to_utc(const struct vg_tz *tz, int64_t civil_s, int64_t *earliest, int64_t *latest);

#endif
