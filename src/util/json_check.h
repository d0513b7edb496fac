/* What the strict JSON readers share (a measure's definition and decision,
 * records and alarms of an export): a message naming the key, and the
 * refusal of unknown keys. */
#ifndef VG_UTIL_JSON_CHECK_H
#define VG_UTIL_JSON_CHECK_H

#include <stddef.h>

#include <jansson.h>

/* Writes the message to err and returns rc. */
__attribute__((format(printf, 4, 5))) int vg_json_fail(char *err, size_t len, int rc,
                                                       const char *fmt, ...);

/* VG_OK, or VG_EINVAL naming the first key of obj not in `allowed`
 * (NULL-terminated): "WHERE: unknown key \"KEY\"". */
int vg_json_only_keys(json_t *obj, const char *const *allowed, const char *where, char *err,
                      size_t len);

#endif
