/* Passwords with Argon2id (password.h). */
#include "util/password.h"

#include <argon2.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/err.h"

#define SALT_LEN 16
#define HASH_LEN 32

void vg_password_cost_default(struct vg_password_cost *c)
{
    c->memory_kib = 65536;
    c->iterations = 3;
}

int vg_password_acceptable(const char *password, size_t len, char *why, size_t why_len)
{
    const char *reason = NULL;
    if (!password || len < VG_PASSWORD_MIN_LEN)
        reason = "a password needs at least 12 characters";
    else if (len > VG_PASSWORD_MAX_LEN)
        reason = "a password has at most 256 bytes";
    else
        for (size_t i = 0; i < len && !reason; i++)
            if ((unsigned char)password[i] < 0x20 || password[i] == 0x7f)
                reason = "a password has no control characters";
    if (!reason)
        return VG_OK;
    if (why && why_len > 0) {
        strncpy(why, reason, why_len - 1);
        why[why_len - 1] = '\0';
    }
    return VG_EINVAL;
}

int vg_password_hash(const char *password, size_t len, const struct vg_password_cost *cost,
                     char out[VG_PASSWORD_HASH_CAP])
{
    if (!password || !cost || !out || len > VG_PASSWORD_MAX_LEN || cost->memory_kib < 8192 ||
        cost->iterations < 1)
        return VG_EINVAL;
    uint8_t salt[SALT_LEN];
    if (RAND_bytes(salt, sizeof salt) != 1)
        return VG_ESTATE;
    size_t need = argon2_encodedlen(cost->iterations, cost->memory_kib, 1, SALT_LEN, HASH_LEN,
                                    Argon2_id);
    if (need > VG_PASSWORD_HASH_CAP)
        return VG_EINVAL;
    int rc = argon2id_hash_encoded(cost->iterations, cost->memory_kib, 1, password, len, salt,
                                   sizeof salt, HASH_LEN, out, VG_PASSWORD_HASH_CAP);
    return rc == ARGON2_OK ? VG_OK : VG_ESTATE;
}

int vg_password_verify(const char *encoded, const char *password, size_t len)
{
    if (!encoded || !password || len > VG_PASSWORD_MAX_LEN ||
        strncmp(encoded, "$argon2id$", 10) != 0)
        return 0;
    return argon2id_verify(encoded, password, len) == ARGON2_OK;
}
