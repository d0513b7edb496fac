#include "util/measure_json.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "util/json_check.h"

int vg_name_check(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > VG_NAME_MAX || name[0] == '.' || name[0] == '-')
        return VG_EINVAL;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return VG_EINVAL;
    }
    return VG_OK;
}

static int get_name(json_t *obj, const char *key, bool required, char *out, const char *where,
                    char *err, size_t len)
{
    json_t *v = json_object_get(obj, key);
    out[0] = '\0';
    if (!v) {
        if (required)
            return vg_json_fail(err, len, VG_EINVAL, "%s: \"%s\" is required", where, key);
        return VG_OK;
    }
    if (!json_is_string(v) || vg_name_check(json_string_value(v)) != VG_OK)
        return vg_json_fail(
            err, len, VG_EINVAL,
            "%s: \"%s\" must be 1 to 64 characters of letters, digits, '.', '_' or '-'", where,
            key);
    strcpy(out, json_string_value(v));
    return VG_OK;
}

static int get_number(json_t *obj, const char *key, double *out, const char *where, char *err,
                      size_t len)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return vg_json_fail(err, len, VG_EINVAL, "%s: \"%s\" is required", where, key);
    if (!json_is_number(v))
        return vg_json_fail(err, len, VG_EINVAL, "%s: \"%s\" must be a number", where, key);
    *out = json_number_value(v);
    if (!isfinite(*out))
        return vg_json_fail(err, len, VG_EINVAL, "%s: \"%s\" must be finite", where, key);
    return VG_OK;
}

static int get_point(json_t *v, struct vg_geo_point *p, const char *where, char *err, size_t len)
{
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_number(json_array_get(v, 0)) ||
        !json_is_number(json_array_get(v, 1)))
        return vg_json_fail(err, len, VG_EINVAL, "%s: a point is [latitude, longitude] in degrees",
                            where);
    p->lat_deg = json_number_value(json_array_get(v, 0));
    p->lon_deg = json_number_value(json_array_get(v, 1));
    if (vg_geo_point_check(*p) != VG_OK)
        return vg_json_fail(
            err, len, VG_ERANGE,
            "%s: [%g, %g] is not a position (latitude -90..90, longitude -180..180)", where,
            p->lat_deg, p->lon_deg);
    return VG_OK;
}

static int parse_hhmm(const char *s, unsigned *minutes)
{
    unsigned h, m;
    char tail;
    if (strlen(s) != 5 || sscanf(s, "%2u:%2u%c", &h, &m, &tail) != 2 || s[2] != ':')
        return VG_EINVAL;
    if (h > 24 || m > 59 || (h == 24 && m != 0))
        return VG_ERANGE;
    *minutes = h * 60 + m;
    return VG_OK;
}

static int parse_local(const char *s, struct vg_local_time *t)
{
    unsigned y, mo, d, h, mi;
    char tail;
    if (strlen(s) != 16 || sscanf(s, "%4u-%2u-%2uT%2u:%2u%c", &y, &mo, &d, &h, &mi, &tail) != 5)
        return VG_EINVAL;
    *t = (struct vg_local_time){{(int32_t)y, (uint8_t)mo, (uint8_t)d}, (uint8_t)h, (uint8_t)mi, 0};
    return vg_local_time_check(t);
}

static int parse_window(json_t *w, const struct vg_tz *tz, struct vg_window *out, const char *where,
                        char *err, size_t len)
{
    if (!json_is_object(w))
        return vg_json_fail(err, len, VG_EINVAL, "%s: a window is an object", where);
    if (json_object_get(w, "days")) {
        static const char *const keys[] = {"days", "start", "end", NULL};
        int rc = vg_json_only_keys(w, keys, where, err, len);
        if (rc)
            return rc;
        static const char *const names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
        json_t *days = json_object_get(w, "days");
        unsigned mask = 0;
        size_t i;
        json_t *d;
        if (!json_is_array(days) || json_array_size(days) == 0)
            return vg_json_fail(err, len, VG_EINVAL,
                                "%s: \"days\" is a non-empty list like [\"wed\"]", where);
        json_array_foreach(days, i, d)
        {
            unsigned bit = 0;
            for (unsigned k = 0; k < 7; k++)
                if (json_is_string(d) && strcmp(json_string_value(d), names[k]) == 0)
                    bit = 1u << k;
            if (!bit)
                return vg_json_fail(err, len, VG_EINVAL,
                                    "%s: days are mon, tue, wed, thu, fri, sat, sun", where);
            mask |= bit;
        }
        json_t *start = json_object_get(w, "start"), *end = json_object_get(w, "end");
        unsigned s, e;
        if (!json_is_string(start) || !json_is_string(end) ||
            parse_hhmm(json_string_value(start), &s) != VG_OK ||
            parse_hhmm(json_string_value(end), &e) != VG_OK || s >= 1440)
            return vg_json_fail(err, len, VG_EINVAL,
                                "%s: \"start\" and \"end\" are local times \"HH:MM\"", where);
        if (vg_window_init_weekly(out, mask, s, e) != VG_OK)
            return vg_json_fail(err, len, VG_EINVAL,
                                "%s: a slot cannot start and end at the same time", where);
        return VG_OK;
    }
    static const char *const keys[] = {"from", "to", NULL};
    int rc = vg_json_only_keys(w, keys, where, err, len);
    if (rc)
        return vg_json_fail(err, len, VG_EINVAL,
                            "%s: a window is {\"days\", \"start\", \"end\"} or {\"from\", \"to\"}",
                            where);
    json_t *from = json_object_get(w, "from"), *to = json_object_get(w, "to");
    struct vg_local_time a, b;
    if (!json_is_string(from) || !json_is_string(to) ||
        parse_local(json_string_value(from), &a) != VG_OK ||
        parse_local(json_string_value(to), &b) != VG_OK)
        return vg_json_fail(err, len, VG_EINVAL,
                            "%s: \"from\" and \"to\" are local date-times \"YYYY-MM-DDTHH:MM\"",
                            where);
    if (vg_window_init_once(out, tz, &a, &b) != VG_OK)
        return vg_json_fail(err, len, VG_ERANGE, "%s: the window ends before it starts", where);
    return VG_OK;
}

static const struct {
    const char *name;
    enum vg_zone_category category;
} categories[] = {
    {"protected_home", VG_ZONE_PROTECTED_HOME},
    {"protected_workplace", VG_ZONE_PROTECTED_WORKPLACE},
    {"school", VG_ZONE_SCHOOL},
    {"frequented_place", VG_ZONE_FREQUENTED_PLACE},
    {"other", VG_ZONE_OTHER},
};

static int parse_zone(json_t *z, size_t index, const struct vg_tz *tz, struct vg_measure_def *def,
                      size_t *vertex_used, size_t *window_used, char *err, size_t len)
{
    char where[64];
    snprintf(where, sizeof where, "zones[%zu]", index);
    if (!json_is_object(z))
        return vg_json_fail(err, len, VG_EINVAL, "%s: a zone is an object", where);
    static const char *const keys[] = {"id",       "category",       "shape",   "center",
                                       "vertices", "alert_radius_m", "windows", NULL};
    int rc = vg_json_only_keys(z, keys, where, err, len);
    if (rc)
        return rc;
    json_t *id = json_object_get(z, "id");
    if (!json_is_integer(id) || json_integer_value(id) < 1 || json_integer_value(id) > UINT32_MAX)
        return vg_json_fail(err, len, VG_EINVAL, "%s: \"id\" is a positive integer", where);
    for (size_t k = 0; k < index; k++)
        if (def->zones[k].id == (uint32_t)json_integer_value(id))
            return vg_json_fail(err, len, VG_EDUPLICATE, "%s: zone id %lld is used twice", where,
                                (long long)json_integer_value(id));
    json_t *cat = json_object_get(z, "category");
    int category = -1;
    for (size_t k = 0; k < sizeof categories / sizeof categories[0]; k++)
        if (json_is_string(cat) && strcmp(json_string_value(cat), categories[k].name) == 0)
            category = (int)categories[k].category;
    if (category < 0)
        return vg_json_fail(err, len, VG_EINVAL,
                            "%s: \"category\" is protected_home, protected_workplace, school, "
                            "frequented_place or other",
                            where);
    double radius;
    if ((rc = get_number(z, "alert_radius_m", &radius, where, err, len)))
        return rc;
    if (radius < VG_ALERT_RADIUS_MIN_M || radius > VG_ALERT_RADIUS_MAX_M)
        return vg_json_fail(err, len, VG_ERANGE,
                            "%s: alert_radius_m = %g m is outside the legal range 1000..10000 m",
                            where, radius);
    json_t *shape = json_object_get(z, "shape");
    struct vg_zone *zone = &def->zones[index];
    uint32_t zid = (uint32_t)json_integer_value(id);
    if (json_is_string(shape) && strcmp(json_string_value(shape), "circle") == 0) {
        struct vg_geo_point c;
        if (json_object_get(z, "vertices"))
            return vg_json_fail(err, len, VG_EINVAL,
                                "%s: a circle has a \"center\", no \"vertices\"", where);
        if ((rc = get_point(json_object_get(z, "center"), &c, where, err, len)))
            return rc;
        vg_zone_init_circle(zone, zid, (enum vg_zone_category)category, c, radius);
    } else if (json_is_string(shape) && strcmp(json_string_value(shape), "polygon") == 0) {
        json_t *vs = json_object_get(z, "vertices");
        if (json_object_get(z, "center"))
            return vg_json_fail(err, len, VG_EINVAL,
                                "%s: a polygon has \"vertices\", no \"center\"", where);
        if (!json_is_array(vs) || json_array_size(vs) < 3 ||
            json_array_size(vs) > VG_POLYGON_MAX_VERTICES + 1)
            return vg_json_fail(err, len, VG_EINVAL, "%s: \"vertices\" is a list of 3 to 64 points",
                                where);
        struct vg_geo_point *v = def->vertices + *vertex_used;
        size_t n = json_array_size(vs);
        for (size_t k = 0; k < n; k++)
            if ((rc = get_point(json_array_get(vs, k), &v[k], where, err, len)))
                return rc;
        const char *why = "invalid";
        rc = vg_zone_init_polygon(zone, zid, (enum vg_zone_category)category, v, n, radius, &why);
        if (rc)
            return vg_json_fail(err, len, rc, "%s: %s", where, why);
        *vertex_used += n;
    } else {
        return vg_json_fail(err, len, VG_EINVAL, "%s: \"shape\" is \"circle\" or \"polygon\"",
                            where);
    }
    json_t *ws = json_object_get(z, "windows");
    if (ws) {
        if (!json_is_array(ws) || json_array_size(ws) > VG_ZONE_MAX_WINDOWS)
            return vg_json_fail(err, len, VG_EINVAL,
                                "%s: \"windows\" is a list of at most %d windows", where,
                                VG_ZONE_MAX_WINDOWS);
        struct vg_window *w = def->windows + *window_used;
        size_t n = json_array_size(ws);
        for (size_t k = 0; k < n; k++) {
            char wwhere[96];
            snprintf(wwhere, sizeof wwhere, "%s.windows[%zu]", where, k);
            if ((rc = parse_window(json_array_get(ws, k), tz, &w[k], wwhere, err, len)))
                return rc;
        }
        if ((rc = vg_zone_set_windows(zone, w, n)))
            return vg_json_fail(err, len, rc, "%s: invalid windows", where);
        *window_used += n;
    }
    return VG_OK;
}

static const char *const recipient_roles[] = {NULL, "magistrate", "prosecutor", "probation",
                                               "victim_support"};

const char *vg_recipient_role_name(unsigned role)
{
    return role < sizeof recipient_roles / sizeof recipient_roles[0] ? recipient_roles[role] : NULL;
}

/* A recipient's text: at most max bytes, no control characters; not blank
 * when required. */
static int get_text(json_t *o, const char *key, bool required, size_t max, char *out,
                    const char *where, char *err, size_t len)
{
    json_t *v = json_object_get(o, key);
    out[0] = '\0';
    if (!v && !required)
        return VG_OK;
    const char *t = json_is_string(v) ? json_string_value(v) : NULL;
    bool blank = true, control = false;
    for (const char *p = t; p && *p; p++) {
        blank = blank && *p == ' ';
        control = control || (unsigned char)*p < 0x20 || *p == 0x7f;
    }
    if (!t || strlen(t) > max || control || (required && blank))
        return vg_json_fail(err, len, VG_EINVAL,
                            "%s: \"%s\" is %stext of at most %zu bytes without control characters",
                            where, key, required ? "a non-blank " : "", max);
    strcpy(out, t);
    return VG_OK;
}

static int parse_report_to(json_t *list, struct vg_measure_def *def, char *err, size_t len)
{
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > VG_REPORT_TO_MAX)
        return vg_json_fail(err, len, VG_EINVAL,
                            "measure: \"report_to\" is a list of 1 to %d recipients (leave it out "
                            "to address the reports to the decision's magistrate alone)",
                            VG_REPORT_TO_MAX);
    def->report_to = calloc(json_array_size(list), sizeof *def->report_to);
    if (!def->report_to)
        return vg_json_fail(err, len, VG_ENOSPC, "out of memory");
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        char where[32];
        snprintf(where, sizeof where, "report_to[%zu]", i);
        if (!json_is_object(r))
            return vg_json_fail(err, len, VG_EINVAL, "%s: a recipient is an object", where);
        static const char *const keys[] = {"role", "name", "contact", NULL};
        int rc = vg_json_only_keys(r, keys, where, err, len);
        if (rc)
            return rc;
        struct vg_report_recipient *out = &def->report_to[i];
        json_t *role = json_object_get(r, "role");
        out->role = 0;
        for (unsigned k = 1; json_is_string(role) && vg_recipient_role_name(k); k++)
            if (strcmp(json_string_value(role), vg_recipient_role_name(k)) == 0)
                out->role = (uint8_t)k;
        if (!out->role)
            return vg_json_fail(err, len, VG_EINVAL,
                                "%s: \"role\" is magistrate, prosecutor, probation or "
                                "victim_support",
                                where);
        if ((rc = get_text(r, "name", true, VG_RECIPIENT_NAME_MAX, out->name, where, err, len)) ||
            (rc = get_text(r, "contact", false, VG_CONTACT_MAX, out->contact, where, err, len)))
            return rc;
    }
    def->n_report_to = json_array_size(list);
    return VG_OK;
}

/* "notifications": how her unit tells her of a pre-alert by day and at
 * night, and when her night is (core/engine.h, struct vg_ring_policy).
 * An alert always rings aloud: there is nothing to set for it. */
static int parse_ring_mode(json_t *o, const char *key, uint8_t *mode, char *err, size_t len)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return VG_OK;
    static const char *const names[] = {"ring", "vibrate", "screen"};
    for (uint8_t i = 0; i < 3; i++)
        if (json_is_string(v) && strcmp(json_string_value(v), names[i]) == 0) {
            *mode = i;
            return VG_OK;
        }
    return vg_json_fail(err, len, VG_EINVAL,
                        "notifications: \"%s\" is \"ring\", \"vibrate\" or \"screen\"", key);
}

static int parse_notifications(json_t *o, struct vg_ring_policy *rp, char *err, size_t len)
{
    if (!json_is_object(o))
        return vg_json_fail(err, len, VG_EINVAL,
                            "measure: \"notifications\" is {\"prealert_day\", "
                            "\"prealert_night\", \"night\"}");
    static const char *const keys[] = {"prealert_day", "prealert_night", "night", NULL};
    int rc;
    if ((rc = vg_json_only_keys(o, keys, "notifications", err, len)) ||
        (rc = parse_ring_mode(o, "prealert_day", &rp->prealert_day, err, len)) ||
        (rc = parse_ring_mode(o, "prealert_night", &rp->prealert_night, err, len)))
        return rc;
    json_t *night = json_object_get(o, "night");
    if (night) {
        static const char *const nkeys[] = {"start", "end", NULL};
        json_t *start = json_object_get(night, "start"), *end = json_object_get(night, "end");
        unsigned s, e;
        if (!json_is_object(night) ||
            vg_json_only_keys(night, nkeys, "notifications.night", err, len) != VG_OK ||
            !json_is_string(start) || !json_is_string(end) ||
            parse_hhmm(json_string_value(start), &s) != VG_OK ||
            parse_hhmm(json_string_value(end), &e) != VG_OK || s >= 1440 || e >= 1440)
            return vg_json_fail(err, len, VG_EINVAL,
                                "notifications: \"night\" is {\"start\": \"HH:MM\", \"end\": "
                                "\"HH:MM\"}, local times (equal: no night)");
        rp->night_from_min = (int16_t)s;
        rp->night_to_min = (int16_t)e;
    }
    return vg_ring_policy_check(rp) == VG_OK
               ? VG_OK
               : vg_json_fail(err, len, VG_EINVAL, "notifications: not a policy");
}

/* "safe_places": where the operator may send the protected person
 * (core/guidance.h). */
static int parse_safe_places(json_t *list, struct vg_measure_def *def, char *err, size_t len)
{
    if (!json_is_array(list) || json_array_size(list) > VG_SAFE_PLACES_MAX)
        return vg_json_fail(err, len, VG_EINVAL,
                            "measure: \"safe_places\" is a list of at most %d places",
                            VG_SAFE_PLACES_MAX);
    size_t i;
    json_t *sp;
    json_array_foreach(list, i, sp)
    {
        char where[32];
        snprintf(where, sizeof where, "safe_places[%zu]", i);
        if (!json_is_object(sp))
            return vg_json_fail(err, len, VG_EINVAL,
                                "%s: a safe place is {\"name\", \"location\": [lat, lon]}", where);
        static const char *const keys[] = {"name", "location", NULL};
        int rc = vg_json_only_keys(sp, keys, where, err, len);
        if (rc)
            return rc;
        json_t *name = json_object_get(sp, "name");
        const char *t = json_is_string(name) ? json_string_value(name) : NULL;
        bool blank = true, control = false;
        for (const char *c = t; c && *c; c++) {
            blank = blank && (*c == ' ' || *c == '\t');
            control = control || (unsigned char)*c < 0x20 || *c == 0x7f;
        }
        if (!t || blank || control || strlen(t) > VG_SAFE_PLACE_NAME_MAX)
            return vg_json_fail(err, len, VG_EINVAL,
                                "%s: \"name\" is non-blank text of at most %d bytes without "
                                "control characters",
                                where, VG_SAFE_PLACE_NAME_MAX);
        struct vg_safe_place *out = &def->safe_places[i];
        snprintf(out->name, sizeof out->name, "%s", t);
        json_t *at = json_object_get(sp, "location");
        if (!at)
            return vg_json_fail(err, len, VG_EINVAL, "%s: \"location\" is required", where);
        if ((rc = get_point(at, &out->at, where, err, len)))
            return rc;
    }
    def->n_safe_places = json_array_size(list);
    return VG_OK;
}

static json_t *load(const char *json, char *err, size_t len)
{
    json_error_t je;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        vg_json_fail(err, len, VG_EFORMAT, "not valid JSON: %s (line %d)", je.text, je.line);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        vg_json_fail(err, len, VG_EFORMAT, "a measure definition is a JSON object");
        return NULL;
    }
    return root;
}

int vg_measure_json_timezone(const char *json, char *out, size_t cap, char *err, size_t err_len)
{
    json_t *root = load(json, err, err_len);
    if (!root)
        return VG_EFORMAT;
    json_t *tz = json_object_get(root, "timezone");
    int rc = VG_OK;
    if (!tz)
        snprintf(out, cap, "%s", VG_TZ_DEFAULT_NAME);
    else if (!json_is_string(tz) || strlen(json_string_value(tz)) >= cap ||
             strlen(json_string_value(tz)) == 0)
        rc = vg_json_fail(err, err_len, VG_EINVAL,
                          "\"timezone\" is an IANA name like \"Europe/Paris\"");
    else
        snprintf(out, cap, "%s", json_string_value(tz));
    json_decref(root);
    return rc;
}

void vg_measure_def_cleanup(struct vg_measure_def *def)
{
    if (!def)
        return;
    free(def->vertices);
    free(def->windows);
    vg_measure_decision_cleanup(&def->decision);
    free(def->report_to);
    def->report_to = NULL;
    def->n_report_to = 0;
    def->vertices = NULL;
    def->windows = NULL;
}

int vg_measure_def_parse(const char *json, const struct vg_tz *tz, struct vg_measure_def *def,
                         char *err, size_t err_len)
{
    memset(def, 0, sizeof *def);
    json_t *root = load(json, err, err_len);
    if (!root)
        return VG_EFORMAT;
    int rc;
    static const char *const keys[] = {
        "name",  "court",    "alert_radius_m", "timezone",    "units",         "persons",
        "zones", "decision", "report_to",      "safe_places", "notifications", NULL};
    if ((rc = vg_json_only_keys(root, keys, "measure", err, err_len)))
        goto done;
    if ((rc = get_name(root, "name", true, def->name, "measure", err, err_len)) ||
        (rc = get_name(root, "court", false, def->court, "measure", err, err_len)))
        goto done;
    if ((rc = get_number(root, "alert_radius_m", &def->alert_radius_m, "measure", err, err_len)))
        goto done;
    if (def->alert_radius_m < VG_ALERT_RADIUS_MIN_M ||
        def->alert_radius_m > VG_ALERT_RADIUS_MAX_M) {
        rc = vg_json_fail(err, err_len, VG_ERANGE,
                          "measure: alert_radius_m = %g m is outside the legal range 1000..10000 m "
                          "(the pre-alert distance is always twice R)",
                          def->alert_radius_m);
        goto done;
    }
    json_t *tzv = json_object_get(root, "timezone");
    snprintf(def->timezone, sizeof def->timezone, "%s",
             json_is_string(tzv) ? json_string_value(tzv) : VG_TZ_DEFAULT_NAME);
    json_t *units = json_object_get(root, "units");
    if (!json_is_object(units)) {
        rc = vg_json_fail(
            err, err_len, VG_EINVAL,
            "measure: \"units\" is required: {\"author\", \"protected\", \"bracelet\"}");
        goto done;
    }
    static const char *const unit_keys[] = {"author", "protected", "bracelet", NULL};
    if ((rc = vg_json_only_keys(units, unit_keys, "units", err, err_len)) ||
        (rc = get_name(units, "author", true, def->author_unit, "units", err, err_len)) ||
        (rc = get_name(units, "protected", true, def->protected_unit, "units", err, err_len)) ||
        (rc = get_name(units, "bracelet", false, def->bracelet, "units", err, err_len)))
        goto done;
    if (strcmp(def->author_unit, def->protected_unit) == 0 ||
        (def->bracelet[0] && (strcmp(def->bracelet, def->author_unit) == 0 ||
                              strcmp(def->bracelet, def->protected_unit) == 0))) {
        rc = vg_json_fail(err, err_len, VG_EINVAL, "units: each unit serves one role");
        goto done;
    }
    json_t *persons = json_object_get(root, "persons");
    if (persons) {
        static const char *const person_keys[] = {"author", "protected", NULL};
        if ((rc = vg_json_only_keys(persons, person_keys, "persons", err, err_len)))
            goto done;
        int64_t *dst[2] = {&def->author_person, &def->protected_person};
        for (int k = 0; k < 2; k++) {
            json_t *v = json_object_get(persons, person_keys[k]);
            if (!v)
                continue;
            if (!json_is_integer(v) || json_integer_value(v) <= 0) {
                rc = vg_json_fail(err, err_len, VG_EINVAL, "persons: \"%s\" is a person's id",
                                  person_keys[k]);
                goto done;
            }
            *dst[k] = json_integer_value(v);
        }
        if (def->author_person && def->author_person == def->protected_person) {
            rc = vg_json_fail(err, err_len, VG_EINVAL,
                              "persons: the author and the protected person are "
                              "two persons");
            goto done;
        }
    }
    json_t *zones = json_object_get(root, "zones");
    if (zones) {
        if (!json_is_array(zones) || json_array_size(zones) > VG_ENGINE_MAX_FIXED_ZONES) {
            rc = vg_json_fail(err, err_len, VG_ERANGE,
                              "measure: \"zones\" is a list of at most %d zones",
                              VG_ENGINE_MAX_FIXED_ZONES);
            goto done;
        }
        size_t n = json_array_size(zones), n_vertices = 0, n_windows = 0;
        for (size_t i = 0; i < n; i++) {
            json_t *z = json_array_get(zones, i);
            json_t *vs = json_is_object(z) ? json_object_get(z, "vertices") : NULL;
            json_t *ws = json_is_object(z) ? json_object_get(z, "windows") : NULL;
            n_vertices += json_is_array(vs) ? json_array_size(vs) : 0;
            n_windows += json_is_array(ws) ? json_array_size(ws) : 0;
        }
        def->vertices = calloc(n_vertices ? n_vertices : 1, sizeof *def->vertices);
        def->windows = calloc(n_windows ? n_windows : 1, sizeof *def->windows);
        if (!def->vertices || !def->windows) {
            rc = vg_json_fail(err, err_len, VG_ENOSPC, "out of memory");
            goto done;
        }
        size_t vu = 0, wu = 0;
        for (size_t i = 0; i < n; i++)
            if ((rc = parse_zone(json_array_get(zones, i), i, tz, def, &vu, &wu, err, err_len)))
                goto done;
        def->n_zones = n;
    }
    json_t *decision = json_object_get(root, "decision");
    if (decision && (rc = vg_measure_decision_parse(decision, &def->decision, err, err_len)))
        goto done;
    json_t *report_to = json_object_get(root, "report_to");
    if (report_to && (rc = parse_report_to(report_to, def, err, err_len)))
        goto done;
    json_t *safe_places = json_object_get(root, "safe_places");
    if (safe_places && (rc = parse_safe_places(safe_places, def, err, err_len)))
        goto done;
    vg_ring_policy_default(&def->ring);
    json_t *notifications = json_object_get(root, "notifications");
    if (notifications && (rc = parse_notifications(notifications, &def->ring, err, err_len)))
        goto done;
    rc = VG_OK;
done:
    json_decref(root);
    if (rc != VG_OK)
        vg_measure_def_cleanup(def);
    return rc;
}
