/* The incident report as a PDF (issue 11), drawn with cairo from the report
 * record the centre made when the incident was closed (its content, kept
 * byte for byte, whose SHA-256 the journal's report.create entry holds),
 * the measure's definition (R, the fixed zones) and both persons' fixes
 * around the incident, as stored.
 *
 * One document per recipient: what each may see (docs/OPERATIONS.md
 * "Reports"). The magistrate and the prosecutor see everything; victim
 * support sees the map and the chart; the probation service, which follows
 * the author, sees neither the protected person's positions nor the fixed
 * zones (her home is the centre of one) — the map is left out for it, and
 * the document says so.
 *
 * A verification block closes the report: the journal entry that vouches
 * for its record (report.create: number and hash) and the record's SHA-256,
 * printed and also written in the PDF's Keywords, from which
 * `vigie journal verify --report FILE` reads them back and checks them
 * against the journal and the stored record. */
#ifndef VG_REPORT_INCIDENT_PDF_H
#define VG_REPORT_INCIDENT_PDF_H

#include <stddef.h>
#include <stdint.h>

#include "util/measure_json.h"

enum vg_report_audience {
    VG_AUDIENCE_MAGISTRATE = 1,
    VG_AUDIENCE_PROSECUTOR = 2,
    VG_AUDIENCE_PROBATION = 3,
    VG_AUDIENCE_VICTIM_SUPPORT = 4,
};

/* "magistrate", "prosecutor", "probation", "victim_support" (the names of
 * a measure's report_to roles), or NULL; and back (0 if unknown). */
const char *vg_report_audience_name(unsigned a);
unsigned vg_report_audience_parse(const char *name);

struct vg_report_point {
    int64_t t_ms;
    double lat_deg, lon_deg;
    double accuracy_m;
};

struct vg_report_input {
    const char *content;              /* the report record, JSON as stored */
    const struct vg_measure_def *def; /* R and the fixed zones (NULL: none drawn) */
    const struct vg_report_point *author, *protected_person; /* in time order */
    size_t n_author, n_protected;
    int64_t journal_id;         /* the report.create entry */
    const char *journal_hash;   /* its hash, 64 hex */
    const char *content_sha256; /* the record's, 64 hex */
    unsigned audience;          /* enum vg_report_audience */
    const char *recipient_name; /* as the measure names it ("" if none) */
    int64_t generated_ms;
    /* The measure's time zone, in which every time is printed with its
     * offset (its IANA name for the legend, e.g. "Europe/Paris": "heure de
     * Paris"); NULL: UTC. */
    const struct vg_tz *tz;
    const char *tz_name;
};

/* The PDF in *pdf (to free), *len bytes. VG_EINVAL with the reason for a
 * record that is not a report or an unknown audience; VG_ENOSPC. */
int vg_report_incident_pdf(const struct vg_report_input *in, unsigned char **pdf, size_t *len,
                           char *err, size_t err_len);

/* Release what drawing left in cairo's and fontconfig's caches (they live
 * until the process ends otherwise): once, at exit, after the last drawing
 * — so that a leak checker sees only real leaks. */
void vg_report_cleanup(void);

/* What the verification block says, read back from a PDF's Keywords. */
struct vg_report_seal {
    int64_t incident_id;
    int64_t journal_id;
    char journal_hash[65];
    char sha256[65];
    char audience[32];
};

/* 0, or VG_ENOTFOUND if the PDF carries no Vigie seal (not one of ours, or
 * its metadata was stripped), VG_EINVAL if the seal is malformed. */
int vg_report_seal_read(const unsigned char *pdf, size_t len, struct vg_report_seal *out);

#endif
