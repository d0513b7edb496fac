/* The journal's hash chain (journal.h). SHA-256 from OpenSSL's EVP: a
 * well-kept implementation rather than our own. */
#include "util/journal.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/err.h"

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static int put_string(EVP_MD_CTX *md, const char *s)
{
    size_t len = strlen(s);
    if (len > UINT32_MAX)
        return 0;
    uint8_t n[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                    (uint8_t)len};
    return EVP_DigestUpdate(md, n, 4) && EVP_DigestUpdate(md, s, len);
}

int vg_journal_hash(const struct vg_journal_entry *e, uint8_t out[VG_JOURNAL_HASH_LEN])
{
    if (!e || !e->actor || !e->action || !e->subject || !e->detail || !out)
        return VG_EINVAL;
    uint8_t head[4 + 16];
    memcpy(head, "VGJ1", 4);
    put_u64(head + 4, (uint64_t)e->id);
    put_u64(head + 12, (uint64_t)e->at_ms);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned len = 0;
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(md, head, sizeof head) && put_string(md, e->actor) &&
             put_string(md, e->action) && put_string(md, e->subject) &&
             put_string(md, e->detail) && EVP_DigestUpdate(md, e->prev, VG_JOURNAL_HASH_LEN) &&
             EVP_DigestFinal_ex(md, out, &len) && len == VG_JOURNAL_HASH_LEN;
    EVP_MD_CTX_free(md);
    return ok ? VG_OK : VG_ESTATE;
}

int vg_journal_chain(struct vg_journal_entry *e, int64_t last_id,
                     const uint8_t last_hash[VG_JOURNAL_HASH_LEN])
{
    if (!e || last_id < 0 || (last_id > 0 && !last_hash))
        return VG_EINVAL;
    e->id = last_id + 1;
    if (last_id == 0)
        memset(e->prev, 0, sizeof e->prev);
    else
        memcpy(e->prev, last_hash, sizeof e->prev);
    return vg_journal_hash(e, e->hash);
}

void vg_journal_check_init(struct vg_journal_check *c)
{
    memset(c, 0, sizeof *c);
}

static int broken(struct vg_journal_check *c, int64_t id, const char *why)
{
    c->bad_id = id;
    snprintf(c->why, sizeof c->why, "%s", why);
    return VG_EFORMAT;
}

int vg_journal_check_next(struct vg_journal_check *c, const struct vg_journal_entry *e)
{
    if (c->bad_id != 0)
        return VG_EFORMAT;
    char why[200];
    if (e->id != c->last_id + 1) {
        if (e->id <= c->last_id)
            snprintf(why, sizeof why, "out of order: entry %lld comes after entry %lld",
                     (long long)e->id, (long long)c->last_id);
        else
            snprintf(why, sizeof why, "entries %lld to %lld are missing (removed)",
                     (long long)c->last_id + 1, (long long)e->id - 1);
        return broken(c, e->id, why);
    }
    static const uint8_t zero[VG_JOURNAL_HASH_LEN];
    const uint8_t *want_prev = c->last_id == 0 ? zero : c->last_hash;
    if (memcmp(e->prev, want_prev, VG_JOURNAL_HASH_LEN) != 0) {
        if (c->last_id == 0)
            snprintf(why, sizeof why, "the first entry does not start the chain");
        else
            snprintf(why, sizeof why,
                     "does not chain to entry %lld (that one was modified and hashed again, "
                     "or entries were moved)",
                     (long long)c->last_id);
        return broken(c, e->id, why);
    }
    uint8_t h[VG_JOURNAL_HASH_LEN];
    if (vg_journal_hash(e, h) != VG_OK)
        return broken(c, e->id, "cannot be hashed (a field is missing)");
    if (memcmp(h, e->hash, VG_JOURNAL_HASH_LEN) != 0)
        return broken(c, e->id, "modified: its content does not match its hash");
    c->last_id = e->id;
    memcpy(c->last_hash, e->hash, VG_JOURNAL_HASH_LEN);
    c->n++;
    return VG_OK;
}

void vg_journal_hex(const uint8_t hash[VG_JOURNAL_HASH_LEN], char out[VG_JOURNAL_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < VG_JOURNAL_HASH_LEN; i++) {
        out[2 * i] = digits[hash[i] >> 4];
        out[2 * i + 1] = digits[hash[i] & 15];
    }
    out[VG_JOURNAL_HEX_LEN] = '\0';
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int vg_journal_unhex(const char *text, uint8_t out[VG_JOURNAL_HASH_LEN])
{
    if (!text || strlen(text) != VG_JOURNAL_HEX_LEN)
        return VG_EINVAL;
    for (size_t i = 0; i < VG_JOURNAL_HASH_LEN; i++) {
        int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return VG_EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return VG_OK;
}

int vg_sha256_hex(const void *data, size_t len, char out[VG_JOURNAL_HEX_LEN + 1])
{
    uint8_t md[VG_JOURNAL_HASH_LEN];
    unsigned int md_len = 0;
    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != sizeof md) {
        out[0] = '\0';
        return VG_ESTATE;
    }
    vg_journal_hex(md, out);
    return VG_OK;
}
