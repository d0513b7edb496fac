/* A person's file as JSON (person_json.h). */
#include "util/person_json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/civil.h"
#include "core/err.h"
#include "util/measure_decision.h"

#define MAX_PHONES   8
#define MAX_ADDRS    8
#define MAX_CONTACTS 8
#define MAX_CHILDREN 16
#define MAX_PETS     8

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t len, int rc,
                                                      const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int only_keys(json_t *o, const char *const *allowed, const char *where, char *err,
                     size_t len)
{
    if (!json_is_object(o))
        return fail(err, len, VG_EINVAL, "%s: an object", where);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok)
            return fail(err, len, VG_EINVAL, "%s: unknown key \"%.60s\"", where, key);
    }
    return VG_OK;
}

/* A text member: required or not, 1..max bytes (0..max if !required),
 * no control characters unless lines. */
static int text(json_t *o, const char *key, bool required, size_t max, bool lines,
                const char *where, char *err, size_t len)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return required ? fail(err, len, VG_EINVAL, "%s.%s is required", where, key) : VG_OK;
    if (!json_is_string(v))
        return fail(err, len, VG_EINVAL, "%s.%s: a string", where, key);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n)
        return fail(err, len, VG_EINVAL, "%s.%s: no NUL character", where, key);
    if ((required && n == 0) || n > max)
        return fail(err, len, VG_ERANGE, "%s.%s: %s%zu bytes at most", where, key,
                    required ? "1 to " : "", max);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(lines && (c == '\n' || c == '\r' || c == '\t'))) || c == 0x7f)
            return fail(err, len, VG_EINVAL, "%s.%s: no control characters", where, key);
    }
    return VG_OK;
}

static int phone(json_t *o, const char *key, bool required, const char *where, char *err,
                 size_t len)
{
    int rc = text(o, key, required, 16, false, where, err, len);
    json_t *v = json_object_get(o, key);
    if (rc || !v)
        return rc;
    const char *s = json_string_value(v);
    size_t digits = strlen(s) - 1;
    bool ok = s[0] == '+' && digits >= 6 && digits <= 15 && s[1] != '0';
    for (size_t i = 1; ok && s[i]; i++)
        ok = s[i] >= '0' && s[i] <= '9';
    if (!ok)
        return fail(err, len, VG_EINVAL,
                    "%s.%s: an international number, '+' then 6 to 15 digits (\"%.20s\")", where,
                    key, s);
    return VG_OK;
}

static int date(json_t *o, const char *key, bool required, int64_t today, const char *where,
                char *err, size_t len)
{
    int rc = text(o, key, required, 10, false, where, err, len);
    json_t *v = json_object_get(o, key);
    if (rc || !v)
        return rc;
    const char *s = json_string_value(v);
    int y, m, d, end = 0;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &end) != 3 || end != 10 ||
        s[4] != '-' || s[7] != '-')
        return fail(err, len, VG_EFORMAT, "%s.%s: a date, YYYY-MM-DD (\"%.12s\")", where, key, s);
    struct vg_date dt = {.year = y, .month = (uint8_t)m, .day = (uint8_t)d};
    if (y < 1900 || m < 1 || m > 12 || d < 1 || vg_date_check(dt) != VG_OK)
        return fail(err, len, VG_ERANGE, "%s.%s: %s is not a day", where, key, s);
    if (vg_date_to_days(dt) > today)
        return fail(err, len, VG_ERANGE, "%s.%s: %s is in the future", where, key, s);
    return VG_OK;
}

static int list(json_t *root, const char *key, size_t max, json_t **out, const char *where,
                char *err, size_t len)
{
    json_t *v = json_object_get(root, key);
    *out = v;
    if (!v)
        return VG_OK;
    if (!json_is_array(v))
        return fail(err, len, VG_EINVAL, "%s.%s: a list", where, key);
    if (json_array_size(v) > max)
        return fail(err, len, VG_ERANGE, "%s.%s: at most %zu", where, key, max);
    return VG_OK;
}

static int check_identity(json_t *root, int64_t today, char *err, size_t len)
{
    json_t *id = json_object_get(root, "identity");
    if (!id)
        return fail(err, len, VG_EINVAL, "person: \"identity\" is required");
    static const char *const keys[] = {"last_name", "first_names", "birth_date", "sex", NULL};
    int rc;
    if ((rc = only_keys(id, keys, "identity", err, len)) ||
        (rc = text(id, "last_name", true, 100, false, "identity", err, len)) ||
        (rc = text(id, "first_names", true, 100, false, "identity", err, len)) ||
        (rc = date(id, "birth_date", true, today, "identity", err, len)) ||
        (rc = text(id, "sex", false, 1, false, "identity", err, len)))
        return rc;
    json_t *sex = json_object_get(id, "sex");
    if (sex && strcmp(json_string_value(sex), "F") != 0 &&
        strcmp(json_string_value(sex), "M") != 0 && strcmp(json_string_value(sex), "X") != 0)
        return fail(err, len, VG_EINVAL, "identity.sex: F, M or X");
    return VG_OK;
}

static int check_lists(json_t *root, int64_t today, char *err, size_t len)
{
    json_t *l, *item;
    size_t i;
    int rc;
    char where[64];
    if ((rc = list(root, "phones", MAX_PHONES, &l, "person", err, len)))
        return rc;
    json_array_foreach(l, i, item)
    {
        static const char *const keys[] = {"label", "number", NULL};
        snprintf(where, sizeof where, "phones[%zu]", i);
        if ((rc = only_keys(item, keys, where, err, len)) ||
            (rc = text(item, "label", false, 40, false, where, err, len)) ||
            (rc = phone(item, "number", true, where, err, len)))
            return rc;
    }
    if ((rc = list(root, "addresses", MAX_ADDRS, &l, "person", err, len)))
        return rc;
    json_array_foreach(l, i, item)
    {
        static const char *const keys[] = {"label", "text", "location", NULL};
        snprintf(where, sizeof where, "addresses[%zu]", i);
        if ((rc = only_keys(item, keys, where, err, len)) ||
            (rc = text(item, "label", false, 40, false, where, err, len)) ||
            (rc = text(item, "text", true, 300, false, where, err, len)))
            return rc;
        json_t *loc = json_object_get(item, "location");
        if (loc) {
            json_t *la = json_array_get(loc, 0), *lo = json_array_get(loc, 1);
            if (!json_is_array(loc) || json_array_size(loc) != 2 || !json_is_number(la) ||
                !json_is_number(lo))
                return fail(err, len, VG_EINVAL, "%s.location: [latitude, longitude]", where);
            double lat = json_number_value(la), lon = json_number_value(lo);
            if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180))
                return fail(err, len, VG_ERANGE, "%s.location: [%g, %g] is not on Earth", where,
                            lat, lon);
        }
    }
    if ((rc = list(root, "emergency_contacts", MAX_CONTACTS, &l, "person", err, len)))
        return rc;
    json_array_foreach(l, i, item)
    {
        static const char *const keys[] = {"name", "relation", "phone", NULL};
        snprintf(where, sizeof where, "emergency_contacts[%zu]", i);
        if ((rc = only_keys(item, keys, where, err, len)) ||
            (rc = text(item, "name", true, 100, false, where, err, len)) ||
            (rc = text(item, "relation", false, 40, false, where, err, len)) ||
            (rc = phone(item, "phone", true, where, err, len)))
            return rc;
    }
    json_t *hh = json_object_get(root, "household");
    if (hh) {
        static const char *const keys[] = {"children", "pets", NULL};
        if ((rc = only_keys(hh, keys, "household", err, len)))
            return rc;
        if ((rc = list(hh, "children", MAX_CHILDREN, &l, "household", err, len)))
            return rc;
        json_array_foreach(l, i, item)
        {
            static const char *const ck[] = {"first_name", "birth_date", NULL};
            snprintf(where, sizeof where, "household.children[%zu]", i);
            if ((rc = only_keys(item, ck, where, err, len)) ||
                (rc = text(item, "first_name", true, 100, false, where, err, len)) ||
                (rc = date(item, "birth_date", false, today, where, err, len)))
                return rc;
        }
        if ((rc = list(hh, "pets", MAX_PETS, &l, "household", err, len)))
            return rc;
        json_array_foreach(l, i, item)
        {
            static const char *const pk[] = {"kind", "name", "notes", NULL};
            snprintf(where, sizeof where, "household.pets[%zu]", i);
            if ((rc = only_keys(item, pk, where, err, len)) ||
                (rc = text(item, "kind", true, 40, false, where, err, len)) ||
                (rc = text(item, "name", false, 100, false, where, err, len)) ||
                (rc = text(item, "notes", false, 300, false, where, err, len)))
                return rc;
        }
    }
    return text(root, "police_notes", false, 2000, true, "person", err, len);
}

int vg_person_json_check(const char *json, int64_t today_days, char **canonical, char *display,
                         size_t display_len, char *err, size_t err_len)
{
    *canonical = NULL;
    if (!json || strlen(json) > VG_PERSON_MAX_JSON)
        return fail(err, err_len, VG_ERANGE, "person: at most %d bytes", VG_PERSON_MAX_JSON);
    json_error_t je;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return fail(err, err_len, VG_EFORMAT, "person: not JSON: %s (line %d)", je.text, je.line);
    static const char *const keys[] = {
        "identity", "phones", "addresses", "emergency_contacts", "household", "police_notes", NULL};
    int rc = only_keys(root, keys, "person", err, err_len);
    if (!rc)
        rc = check_identity(root, today_days, err, err_len);
    if (!rc)
        rc = check_lists(root, today_days, err, err_len);
    if (!rc) {
        *canonical = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
        if (!*canonical)
            rc = fail(err, err_len, VG_ENOSPC, "out of memory");
    }
    if (!rc && display && display_len) {
        json_t *id = json_object_get(root, "identity");
        snprintf(display, display_len, "%s %s", json_string_value(json_object_get(id, "last_name")),
                 json_string_value(json_object_get(id, "first_names")));
    }
    json_decref(root);
    return rc;
}

int vg_person_json_facts(const char *json, struct vg_date *birth, bool *has_birth,
                         struct vg_geo_point *home, bool *has_home)
{
    *has_birth = *has_home = false;
    json_t *root = json_loads(json, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return VG_EFORMAT;
    }
    json_t *bd = json_object_get(json_object_get(root, "identity"), "birth_date");
    *has_birth = json_is_string(bd) && vg_date_parse(json_string_value(bd), birth) == VG_OK;
    json_t *addresses = json_object_get(root, "addresses");
    size_t i;
    json_t *a;
    json_array_foreach(addresses, i, a)
    {
        json_t *label = json_object_get(a, "label");
        json_t *loc = json_object_get(a, "location");
        if (!json_is_string(label) || strcmp(json_string_value(label), "home") != 0 ||
            !json_is_array(loc) || json_array_size(loc) != 2)
            continue;
        *home = (struct vg_geo_point){json_number_value(json_array_get(loc, 0)),
                                      json_number_value(json_array_get(loc, 1))};
        *has_home = vg_geo_point_check(*home) == VG_OK;
        if (*has_home)
            break;
    }
    json_decref(root);
    return VG_OK;
}
