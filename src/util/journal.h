/* The journal's hash chain: every change, every alarm and every read of
 * personal data is appended to the journal as an entry that commits to the
 * one before it (SHA-256 over its content and the previous entry's hash),
 * so that modifying, removing or reordering an entry breaks the chain at
 * that entry, and `vigie journal verify` can name it.
 *
 * The hash of entry n (big-endian integers; strings as u32 length + bytes):
 *     SHA-256( "VGJ1" | id u64 | at_ms i64 | actor | action | subject |
 *              detail | prev[32] )
 * with prev = the hash of entry n-1, 32 zero bytes for entry 1. Ids start
 * at 1 and follow each other without gaps.
 *
 * What a chain cannot show alone: entries cut off at the end (the last ones
 * removed) leave a shorter, valid chain. The daemon logs the journal's head
 * (id and hash) as it goes, so a verification can be held against a head
 * noted elsewhere (`vigie journal verify --head ID:HEX`). */
#ifndef VG_UTIL_JOURNAL_H
#define VG_UTIL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define VG_JOURNAL_HASH_LEN 32
#define VG_JOURNAL_HEX_LEN  (2 * VG_JOURNAL_HASH_LEN)

struct vg_journal_entry {
    int64_t id;
    int64_t at_ms;
    const char *actor;   /* who: a user, "engine", "system" */
    const char *action;  /* what, dotted: "measure.create", "alarm.raised", "measure.read" */
    const char *subject; /* on what: a measure's name, "*" for a list */
    const char *detail;  /* JSON text, "{}" when nothing more */
    uint8_t prev[VG_JOURNAL_HASH_LEN];
    uint8_t hash[VG_JOURNAL_HASH_LEN];
};

/* The hash of e (its id, time, strings and prev; e->hash is not read).
 * VG_EINVAL for a NULL string; VG_ESTATE if the digest fails. */
int vg_journal_hash(const struct vg_journal_entry *e, uint8_t out[VG_JOURNAL_HASH_LEN]);

/* Fills id, prev and hash of e as the entry after (last_id, last_hash);
 * last_id 0 for the first entry (last_hash then ignored). */
int vg_journal_chain(struct vg_journal_entry *e, int64_t last_id,
                     const uint8_t last_hash[VG_JOURNAL_HASH_LEN]);

/* Streaming verification, entries fed in id order. */
struct vg_journal_check {
    int64_t n;       /* entries accepted */
    int64_t last_id; /* the last accepted entry's id (0: none yet) */
    uint8_t last_hash[VG_JOURNAL_HASH_LEN];
    int64_t bad_id; /* the first entry that breaks the chain (0: none) */
    char why[200];  /* what is wrong with it, in English */
};

void vg_journal_check_init(struct vg_journal_check *c);

/* VG_OK if e continues the chain; VG_EFORMAT if not (bad_id and why set;
 * later calls keep returning VG_EFORMAT and change nothing). */
int vg_journal_check_next(struct vg_journal_check *c, const struct vg_journal_entry *e);

/* The hash as 64 lowercase hex digits and a NUL; and back (VG_EINVAL if
 * the text is not 64 hex digits). */
void vg_journal_hex(const uint8_t hash[VG_JOURNAL_HASH_LEN], char out[VG_JOURNAL_HEX_LEN + 1]);
int vg_journal_unhex(const char *text, uint8_t out[VG_JOURNAL_HASH_LEN]);

/* The SHA-256 of `len` bytes as 64 lowercase hex digits and a NUL: what a
 * journal entry's detail quotes of a document kept elsewhere (an
 * incident's report, report.create), so that the document can be checked
 * against the chain. VG_ESTATE if the digest fails. */
int vg_sha256_hex(const void *data, size_t len, char out[VG_JOURNAL_HEX_LEN + 1]);

#endif
