#include "util/json_check.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

int vg_json_fail(char *err, size_t len, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return rc;
}

int vg_json_only_keys(json_t *obj, const char *const *allowed, const char *where, char *err,
                      size_t len)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        (void)value;
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, key) == 0;
        if (!known)
            return vg_json_fail(err, len, VG_EINVAL, "%s: unknown key \"%s\"", where, key);
    }
    return VG_OK;
}
