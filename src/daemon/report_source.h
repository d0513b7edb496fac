/* What an incident's report is drawn from, read from the store (issue 11):
 * the record made when the incident was closed, the journal entry that
 * seals it, both persons' fixes from ten minutes before the incident opened
 * to two minutes after it closed, and the measure's time zone and
 * definition (R, the fixed zones). Shared by vigied (report_pdf.c: the API
 * and the outbox, the measure as the centre holds it) and the offline tool
 * (vigie report draw: the measure as the store holds it), so that both draw
 * the same document under the same seal. Blocking reads: never from an
 * event loop. */
#ifndef VG_DAEMON_REPORT_SOURCE_H
#define VG_DAEMON_REPORT_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store/store.h"

/* The record as stored (report/incident_pdf.h's content). */
struct vg_report_record {
    int64_t measure_id;
    char *content;      /* JSON text, byte for byte */
    json_t *recipients; /* the measure's report_to at closing (an array) */
};

/* 0, VG_ENOTFOUND (not closed, or no such incident) or the store's error,
 * with err set. vg_report_record_cleanup() in every case. */
int vg_report_record_read(struct vg_store *s, int64_t incident_id, struct vg_report_record *out,
                          char *err, size_t err_len);
void vg_report_record_cleanup(struct vg_report_record *r);

/* The measure's side: its current definition (JSON) and its units' ids in
 * the store (0: none). Borrowed. */
struct vg_report_measure {
    const char *definition;
    int64_t author_unit_id, protected_unit_id;
};

struct vg_report_document {
    unsigned char *pdf; /* to free */
    size_t len;
    char pdf_sha256[65];
    char subject[48];    /* incident/ID */
    char recipient[200]; /* the name printed */
};

/* The report of incident_id drawn for audience (enum vg_report_audience),
 * addressed to `recipient` (NULL: the record's first recipient of that
 * role), generated at now_ms; zoneinfo_dir NULL: the system's. A definition
 * that cannot be read leaves out the zones (and the local times: UTC);
 * the seal's entry missing from the journal is VG_ESTATE. 0 or a negative
 * vg_err with err set. */
int vg_report_draw_stored(struct vg_store *s, int64_t incident_id,
                          const struct vg_report_record *rec, const struct vg_report_measure *m,
                          const char *zoneinfo_dir, unsigned audience, const char *recipient,
                          int64_t now_ms, struct vg_report_document *out, char *err,
                          size_t err_len);

#endif
