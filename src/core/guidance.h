/* Guidance: which way the operator tells each person to go during an
 * incident. Pure: the caller gives both persons' last fixes and the time.
 *
 * THE PROTECTED PERSON. Away from the author: the bearing, at her position,
 * that points straight away from his. When a safe place the measure names
 * (a police station...) is within place_max_m of her, and the straight path
 * to it never brings her nearer to him than min(d, R) (d: their distance
 * now, R: the measure's alert distance) -- so never nearer than she is now
 * when he is within R, never within R when he is farther -- the nearest
 * such place is proposed instead, with its bearing and distance. A place
 * beyond him, or to the side of him within that margin, is not proposed.
 * Places are not proposed either when her own position is uncertain by
 * more than place_max_uncertainty_m (a place "500 m away" means nothing
 * then). What she is told reveals nothing to him.
 *
 * THE AUTHOR. He is never told where she is (../shared/design/domain.md),
 * yet any direction that is safe for her -- one along which his distance to
 * her never shrinks -- says something: she is not ahead of him. What an
 * instruction can reveal, and how this one limits it:
 *  - "away from her", even rounded to a compass point, points at her by
 *    opposition: her bearing to within half a sector. Never given.
 *  - Any direction along which the distance grows says she lies in the
 *    half-plane behind him (the line through him perpendicular to the
 *    direction): one bit. That much is unavoidable if the instruction is to
 *    be safe.
 *  - Which of the safe directions is chosen can say more: choosing, among
 *    them, the one nearest to "away from her" narrows her bearing down to a
 *    sector. Here the choice does not look at her at all: the candidates
 *    are the eight compass points, ordered by a rule that reads only what
 *    he knows already (his own position, R, the fixed zones of his order),
 *    and grouped in opposite pairs (N/S first, then NE/SW, E/W, SE/NW; a
 *    pair counts when both its directions are clear of the fixed zones, see
 *    below). Of a pair, exactly one never brings him nearer to her (both,
 *    when she is square to the axis: the first is then taken). So with no
 *    fixed zone in the way the instruction is "north" or "south", and
 *    tells him only on which side of the east-west line through him she
 *    is: given the instruction her bearing is spread evenly over a
 *    half-circle. Guessing "she is straight behind me" errs by 45 degrees
 *    on average (0 for "away from her", 90 with no instruction); the
 *    instruction matches "away from her" rounded to the eight points in
 *    one case out of four, and the mean of cos(instruction - away) is
 *    2/pi = 0.64 (1 for "away from her"). test_guidance.c measures all
 *    three over random configurations.
 *  - Repeated instructions: with a fixed axis, everything he can gather over
 *    several calls is her latitude relative to the places where he was
 *    called, never her longitude. An axis that turned with his position
 *    would let him intersect half-planes.
 *  - The distance: the exact distance to leave her pre-alert ring along the
 *    direction (leave_m) places her on an arc of the ring around the exit
 *    point. It is for the operator only. What he is told (tell_m) reads
 *    only R, the fixed zones and the fixes' accuracy, rounded up to
 *    round_m: 2R + 2u (u: both positions' uncertainties added) always takes
 *    him out of her pre-alert ring along a direction that does not bring
 *    him nearer to her, wherever she is in it.
 *  - That he is called at all says she is within 2R: unavoidable, and the
 *    order tells him R.
 *  - Fixed zones: the directions whose path (up to tell_m) enters the
 *    pre-alert ring of a fixed zone he is outside of, or brings him nearer
 *    to a fixed zone whose ring he is in, are dropped -- from his position
 *    and the zones alone, so dropping them reveals nothing. When he is in a
 *    fixed zone's ring no opposite pair may survive: the remaining single
 *    directions are tried in a public order (shortest way out first), and
 *    the one given may then narrow her bearing further, to a sector as
 *    narrow as 45 degrees at worst (125 on average over test_guidance.c's
 *    random configurations, against 180 for a pair). `paired` says which
 *    case it is: when it is false, the operator may prefer to say "leave
 *    the zone of <the place>", which he knows.
 *  - When no direction leaves every ring without bringing him nearer to her
 *    or to a fixed zone, there is no instruction (VG_GUIDANCE_NO_WAY_OUT):
 *    the operator decides (the police).
 * Time windows of the zones are not consulted: a zone counts as forbidden.
 *
 * SAYING SO RATHER THAN GUESSING. A fix older than max_age_ms is stale; a
 * fix's uncertainty is its accuracy plus max(drift_mps, its speed) times
 * its age; when both uncertainties added exceed max_uncertainty_ratio
 * times their distance (so also when they are on top of each other) the
 * direction between them is uncertain. Either way, or without a fix, no
 * direction is given to anyone, and the flags say why. With the ratio at
 * 0.5 the true direction is within 30 degrees of the computed one, so a
 * direction judged not to bring him nearer to her can at worst bring him to
 * cos(30) = 87% of the present distance.
 *
 * Geometry: bearings and distances on the WGS84 ellipsoid (core/geo.h); the
 * paths are straight lines in the azimuthal frame around the person, and
 * checked against the fixed zones every step_m. */
#ifndef VG_CORE_GUIDANCE_H
#define VG_CORE_GUIDANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/fix.h"
#include "core/geo.h"
#include "core/zone.h"

#define VG_SAFE_PLACES_MAX     16
#define VG_SAFE_PLACE_NAME_MAX 120 /* bytes (UTF-8), without the NUL */
#define VG_GUIDANCE_MAX_ZONES  8   /* VG_ENGINE_MAX_FIXED_ZONES */

struct vg_safe_place {
    char name[VG_SAFE_PLACE_NAME_MAX + 1]; /* NUL-terminated */
    struct vg_geo_point at;
};

struct vg_guidance_params {
    int64_t max_age_ms;             /* a fix older than this is stale: 300 s */
    double drift_mps;               /* least growth of an old fix's uncertainty: 2 m/s */
    double max_uncertainty_ratio;   /* uncertain beyond: 0.5 */
    double place_max_m;             /* a safe place farther from her is not proposed: 1500 m */
    double place_max_uncertainty_m; /* nor when her uncertainty exceeds: 250 m */
    double round_m;                 /* the author's tell_m is rounded up to: 500 m */
    double step_m;                  /* the paths are checked every: 25 m */
};

void vg_guidance_params_default(struct vg_guidance_params *p);
/* 0, or VG_EINVAL for a non-finite or non-positive value (ratio in (0, 1)). */
int vg_guidance_params_check(const struct vg_guidance_params *p);

struct vg_guidance_input {
    const struct vg_fix *author;             /* his last fix; NULL: none */
    const struct vg_fix *protected_person;   /* hers; NULL: none */
    int64_t now_ms;                          /* UTC; a fix "from the future" counts as age 0 */
    double alert_radius_m;                   /* R of the mobile zone; its pre-alert ring is 2R */
    const struct vg_zone *zones;             /* the fixed zones (borrowed) */
    size_t n_zones;                          /* <= VG_GUIDANCE_MAX_ZONES */
    const struct vg_safe_place *places;      /* borrowed */
    size_t n_places;                         /* <= VG_SAFE_PLACES_MAX */
    const struct vg_guidance_params *params; /* NULL: the defaults */
};

/* Why there is no guidance (bits of vg_guidance.flags). */
enum vg_guidance_flag {
    VG_GUIDANCE_HER_MISSING = 1u << 0, /* no fix of hers */
    VG_GUIDANCE_HIS_MISSING = 1u << 1,
    VG_GUIDANCE_HER_STALE = 1u << 2, /* older than max_age_ms */
    VG_GUIDANCE_HIS_STALE = 1u << 3,
    VG_GUIDANCE_UNCERTAIN = 1u << 4,  /* uncertainties too large for their distance */
    VG_GUIDANCE_NO_WAY_OUT = 1u << 5, /* the author: no direction is safe (see above) */
    VG_GUIDANCE_FLAG_LAST = VG_GUIDANCE_NO_WAY_OUT,
};

struct vg_guidance_protected {
    bool valid;
    double bearing_deg;      /* what to tell her: toward the place if any, else away */
    double away_bearing_deg; /* straight away from him, at her position */
    int place;               /* index into places, -1: none proposed */
    double place_distance_m;
    double place_clearance_m; /* the path's closest approach to him */
};

struct vg_guidance_author {
    bool valid;
    bool inside;        /* in her pre-alert ring or in a fixed zone's */
    bool paired;        /* one of an opposite pair: tells one side of a line, no more */
    double bearing_deg; /* one of the eight compass points */
    double tell_m;      /* what to tell him: enough to be out, reveals nothing of her */
    double leave_m;     /* the operator's: where he is out exactly (do not tell him) */
};

struct vg_guidance {
    unsigned flags;       /* enum vg_guidance_flag */
    double distance_m;    /* between them, when both fixes are there (else 0) */
    double uncertainty_m; /* both uncertainties added, at now */
    int64_t her_age_ms;   /* -1: no fix */
    int64_t his_age_ms;
    struct vg_guidance_protected protected_person;
    struct vg_guidance_author author;
};

/* 0 and *out; VG_EINVAL / VG_ERANGE (nothing written) for a fix that
 * vg_fix_check refuses or that has no position, a NaN or out-of-range R or
 * time, a zone vg_zone_check refuses, too many zones or places, a place
 * outside [-90, 90] x [-180, 180] or whose name is not NUL-terminated,
 * bad params. A missing, stale or uncertain fix is not an error: it is
 * said in out->flags, and no direction is given. */
int vg_guidance_compute(const struct vg_guidance_input *in, struct vg_guidance *out);

/* The 8-point compass name of a bearing ("N", "NE", ... "NW"); NULL if it
 * is not finite. */
const char *vg_guidance_compass(double bearing_deg);

/* The name of one flag bit ("her_missing", "his_stale", "uncertain",
 * "no_way_out"...); NULL for anything else. */
const char *vg_guidance_flag_name(unsigned flag);

#endif
