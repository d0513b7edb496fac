/* NMEA 0183 for the mobile units: a parser that turns a receiver's
 * sentences into one struct vg_fix per epoch, and writers that produce the
 * same sentences from a fix (for the simulator and the tests).
 *
 * Parsed: GGA, RMC, GSA and GST from any talker (GP, GN, GL, GA, GB, BD,
 * GQ, ...). Every other well-formed sentence (GSV, VTG, GLL, ZDA,
 * proprietary $P...) is ignored. docs/NMEA.md has the whole story: what
 * each field means, how epochs are assembled, how the accuracy is derived
 * and what is refused.
 *
 * Pure: no I/O, no clock, no allocation; the state is the fixed-size
 * struct below, owned by the caller. */
#ifndef VG_CORE_NMEA_H
#define VG_CORE_NMEA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/fix.h"

/* The standard caps a sentence at 82 characters with its CR LF; real
 * receivers exceed it a little (long GSV, high-precision fields). Longer
 * lines (without their trailing CR/LF) are refused with VG_ERANGE. */
#define VG_NMEA_MAX_LINE 120

/* vg_nmea_feed's return for a well-formed sentence that carries nothing
 * the parser uses: another type, a sentence without a time, a straggler of
 * an epoch already closed. Not an error (it is positive). */
#define VG_NMEA_IGNORED 1

/* At most this many fixes come out of one vg_nmea_feed: the epoch that a
 * newer sentence closes, and the newer epoch if that sentence completes it. */
#define VG_NMEA_MAX_OUT 2

/* The 1-sigma user-equivalent range error assumed when the accuracy comes
 * from HDOP (no GST): accuracy_m = 1.96 * VG_NMEA_UERE_M * HDOP. */
#define VG_NMEA_UERE_M 5.0
/* The accuracy given to a fix when the receiver says nothing about it (no
 * GST, no HDOP): pessimistic, the HDOP rule at HDOP 5. */
#define VG_NMEA_UNKNOWN_ACCURACY_M 50.0f

/* What the parser has seen, for the unit's logs and metrics. */
struct vg_nmea_stats {
    uint64_t accepted;        /* used: GGA, RMC, GSA, GST */
    uint64_t ignored;         /* well-formed, not used (VG_NMEA_IGNORED) */
    uint64_t refused;         /* VG_EFORMAT or VG_ERANGE */
    uint64_t fixes;           /* fixes emitted (quality NONE included) */
    uint64_t dropped_undated; /* epochs closed before any date was known */
};

/* Private: one epoch being assembled. */
struct vg__nmea_epoch {
    int32_t tod_ms; /* UTC time of day, the epoch's key; may reach 86400999 (leap second) */
    uint8_t seen;   /* bit mask of the types received */
    bool emitted;   /* its fix went out (the epoch stays open for learning) */
    /* GGA */
    int8_t gga_quality; /* -1 none */
    int8_t gga_sats;    /* -1 unknown */
    bool gga_has_pos;
    double gga_lat, gga_lon;
    float gga_hdop; /* <= 0 unknown */
    /* RMC */
    int8_t rmc_valid; /* -1 no RMC, 0 says no fix, 1 says valid */
    bool rmc_differential;
    bool rmc_has_pos;
    double rmc_lat, rmc_lon;
    float rmc_speed_mps;   /* < 0 unknown */
    float rmc_heading_deg; /* < 0 unknown */
    int64_t rmc_day;       /* day number of its date, INT64_MIN if none */
    /* GSA (untimed: belongs to the epoch that is open when it arrives) */
    int8_t gsa_mode; /* 0 none, 1 no fix, 2 = 2D, 3 = 3D */
    float gsa_hdop;  /* <= 0 unknown */
    /* GST */
    float gst_r95_m; /* < 0 unknown */
};

#define VG__NMEA_HISTORY 3

/* The parser's state: zero-initialise it with vg_nmea_init. Fields are
 * private except `stats`. Copyable (no pointers inside). */
struct vg_nmea {
    struct vg__nmea_epoch cur;
    bool open;                         /* `cur` holds an epoch */
    int32_t last_closed_tod_ms;        /* key of the last closed epoch, -1 none */
    uint8_t history[VG__NMEA_HISTORY]; /* types seen in the last closed epochs, newest first */
    uint8_t n_history;
    int64_t ref_time_ms; /* UTC of the latest dated epoch (rollover reference), -1 none */
    struct vg_nmea_stats stats;
};

void vg_nmea_init(struct vg_nmea *p);

/* Feed one sentence: `len` bytes at `line` (borrowed, need not be
 * NUL-terminated), with or without its trailing CR/LF.
 *
 * Returns VG_OK (used) or VG_NMEA_IGNORED (well-formed, not used), with
 * *n_out (0..VG_NMEA_MAX_OUT) fixes written to out[], oldest first; or a
 * refusal, with *n_out = 0 and the state unchanged but for stats.refused:
 *   VG_ERANGE   longer than VG_NMEA_MAX_LINE;
 *   VG_EFORMAT  not '$' + address + fields + '*hh', a bad or missing
 *               checksum, a byte that is not printable ASCII, too few
 *               fields, or a field that does not read (a latitude of 91
 *               degrees, minutes of 60, a 13th month, letters in a number).
 * Every fix written passes vg_fix_check. A fix of quality VG_FIX_NONE says
 * "the receiver had no fix at time_ms": its other fields mean nothing. */
int vg_nmea_feed(struct vg_nmea *p, const char *line, size_t len,
                 struct vg_fix out[VG_NMEA_MAX_OUT], size_t *n_out);

/* End of input: the epoch being assembled, if its fix has not gone out
 * yet, is emitted to *out now. Returns 1 if a fix was written, 0 if not.
 * The parser stays usable (what it learnt of the receiver is kept). */
int vg_nmea_flush(struct vg_nmea *p, struct vg_fix *out);

/* Writers: one sentence with talker GP, checksum and CR LF, NUL-terminated,
 * into buf (size bytes). They return the sentence's length (without the
 * NUL), or 0 if the fix does not pass vg_fix_check, its date cannot be
 * written (RMC: two-digit years stand for 2000..2079) or buf is too small.
 * Resolution: 1 ms, 1e-6 minute of arc, 0.001 knot, 0.01 degree of course,
 * HDOP 0.01, sigma 1 mm; every sentence stays within 82 characters.
 * - GGA: time, position, quality (NONE 0, DGNSS 2, else 1), HDOP chosen so
 *   that the parser's HDOP rule gives back accuracy_m.
 * - RMC: time, status, position, speed, course (empty if unknown), date, mode.
 * - GSA: the fix type (1, 2 or 3) and the same HDOP as GGA.
 * - GST: sigmas chosen so that the parser's GST rule gives back accuracy_m
 *   (a circular error: sigma_lat = sigma_lon). */
size_t vg_nmea_format_gga(const struct vg_fix *fix, char *buf, size_t size);
size_t vg_nmea_format_rmc(const struct vg_fix *fix, char *buf, size_t size);
size_t vg_nmea_format_gsa(const struct vg_fix *fix, char *buf, size_t size);
size_t vg_nmea_format_gst(const struct vg_fix *fix, char *buf, size_t size);

/* The 95% horizontal radius of a 2-D normal error with these principal
 * 1-sigma axes (metres, any order); used for GST, exposed for the tests. */
double vg_nmea_r95(double sigma_a, double sigma_b);

#endif
