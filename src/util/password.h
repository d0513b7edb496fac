/* Passwords: Argon2id (libargon2, the reference implementation), stored as
 * the PHC encoded string ("$argon2id$v=19$m=65536,t=3,p=1$salt$hash"), so
 * that a hash carries its own cost and older hashes keep verifying when
 * the cost is raised. Hashing takes tens to hundreds of milliseconds on
 * purpose: never on an event loop (daemon/hasher.c runs it on a thread). */
#ifndef VG_UTIL_PASSWORD_H
#define VG_UTIL_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#define VG_PASSWORD_MIN_LEN  12  /* characters (bytes) a new password needs at least */
#define VG_PASSWORD_MAX_LEN  256 /* bytes */
#define VG_PASSWORD_HASH_CAP 160 /* an encoded hash and its NUL fit in this */

struct vg_password_cost {
    uint32_t memory_kib; /* 65536 (64 MiB) by default; at least 8192 */
    uint32_t iterations; /* 3 by default; at least 1 */
};

void vg_password_cost_default(struct vg_password_cost *c);

/* Whether a new password is acceptable: VG_OK, or VG_EINVAL with a reason
 * (too short, too long, a NUL or a control character in it). */
int vg_password_acceptable(const char *password, size_t len, char *why, size_t why_len);

/* Hash with a fresh random salt (OpenSSL's RAND_bytes) into out.
 * VG_EINVAL (bad arguments or cost), VG_ESTATE (no randomness, libargon2
 * failed: out of memory). */
int vg_password_hash(const char *password, size_t len, const struct vg_password_cost *cost,
                     char out[VG_PASSWORD_HASH_CAP]);

/* 1 if password matches the encoded hash, 0 if not (a malformed hash
 * matches nothing). */
int vg_password_verify(const char *encoded, const char *password, size_t len);

#endif
