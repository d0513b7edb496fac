#include "util/tzload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* Larger than any real TZif file (the biggest are under 4 KiB). */
#define TZIF_MAX_BYTES (256 * 1024)

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 128 || name[0] == '/' || strstr(name, ".."))
        return 0;
    for (const char *p = name; *p; p++) {
        char ch = *p;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '+' || ch == '/'))
            return 0;
    }
    return 1;
}

int vg_tz_load(struct vg_tz *tz, const char *dir, const char *name, char *err, size_t err_len)
{
    if (!name_ok(name)) {
        snprintf(err, err_len, "'%s' is not a time zone name (e.g. Europe/Paris)", name);
        return VG_EINVAL;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : VG_ZONEINFO_DIR, name);
    int rc = VG_ENOTFOUND;
    uint8_t *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "cannot open %s: %s", path, strerror(errno));
        goto fallback;
    }
    buf = malloc(TZIF_MAX_BYTES);
    if (!buf) {
        snprintf(err, err_len, "out of memory reading %s", path);
        fclose(f);
        return VG_ENOSPC;
    }
    size_t len = fread(buf, 1, TZIF_MAX_BYTES, f);
    int read_error = ferror(f);
    fclose(f);
    if (read_error || len == TZIF_MAX_BYTES) {
        snprintf(err, err_len, "%s: %s", path, read_error ? "read error" : "file too large");
        rc = VG_EFORMAT;
        goto fallback;
    }
    rc = vg_tz_from_tzif(tz, buf, len);
    if (rc != VG_OK) {
        snprintf(err, err_len, "%s is not a valid TZif file: %s", path, vg_strerror(rc));
        goto fallback;
    }
    free(buf);
    if (err_len)
        err[0] = '\0';
    return VG_OK;

fallback:
    free(buf);
    if (strcmp(name, VG_TZ_DEFAULT_NAME) == 0 && vg_tz_from_posix(tz, VG_TZ_RULE_EUROPE_PARIS) == VG_OK) {
        size_t used = strlen(err);
        if (used < err_len)
            snprintf(err + used, err_len - used, "; using the built-in rule %s",
                     VG_TZ_RULE_EUROPE_PARIS);
        return 1;
    }
    return rc;
}
