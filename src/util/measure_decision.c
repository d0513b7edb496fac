#include "util/measure_decision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "util/json_check.h"

int vg_date_parse(const char *s, struct vg_date *out)
{
    int y, m, d, end = 0;
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &end) != 3 || end != 10)
        return VG_EFORMAT;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return VG_EFORMAT;
    struct vg_date dt = {.year = y, .month = (uint8_t)m, .day = (uint8_t)d};
    if (m < 1 || m > 12 || d < 1 || vg_date_check(dt) != VG_OK)
        return VG_ERANGE;
    *out = dt;
    return VG_OK;
}

void vg_date_format(struct vg_date d, char out[11])
{
    snprintf(out, 11, "%04d-%02u-%02u", (int)d.year % 10000, (unsigned)d.month % 100,
             (unsigned)d.day % 100);
}

/* An optional date member: 0 absent (*present false), or parsed. */
static int get_date(json_t *o, const char *key, bool required, struct vg_date *out, bool *present,
                    const char *where, char *err, size_t len)
{
    json_t *v = json_object_get(o, key);
    if (present)
        *present = v != NULL;
    if (!v)
        return required
                   ? vg_json_fail(err, len, VG_EINVAL, "%s.%s is required (YYYY-MM-DD)", where, key)
                   : VG_OK;
    if (!json_is_string(v))
        return vg_json_fail(err, len, VG_EINVAL, "%s.%s: a date, YYYY-MM-DD", where, key);
    int rc = vg_date_parse(json_string_value(v), out);
    if (rc == VG_EFORMAT)
        return vg_json_fail(err, len, rc, "%s.%s: a date, YYYY-MM-DD (\"%.12s\")", where, key,
                            json_string_value(v));
    if (rc != VG_OK)
        return vg_json_fail(err, len, rc, "%s.%s: %.12s is not a day between %d and %d", where, key,
                            json_string_value(v), VG_CIVIL_MIN_YEAR, VG_CIVIL_MAX_YEAR);
    return VG_OK;
}

static int parse_person(json_t *o, int k, struct vg_measure_decision *d, char *err, size_t len)
{
    const char *where = k ? "decision.protected" : "decision.author";
    if (!json_is_object(o))
        return vg_json_fail(err, len, VG_EINVAL, "%s: {\"birth_date\", \"home\"}", where);
    static const char *const keys[] = {"birth_date", "home", NULL};
    int rc = vg_json_only_keys(o, keys, where, err, len);
    if (rc ||
        (rc = get_date(o, "birth_date", false, &d->birth[k], &d->has_birth[k], where, err, len)))
        return rc;
    json_t *h = json_object_get(o, "home");
    if (!h)
        return VG_OK;
    if (!json_is_array(h) || json_array_size(h) != 2 || !json_is_number(json_array_get(h, 0)) ||
        !json_is_number(json_array_get(h, 1)))
        return vg_json_fail(err, len, VG_EINVAL, "%s.home: [latitude, longitude] in degrees",
                            where);
    d->home[k] = (struct vg_geo_point){json_number_value(json_array_get(h, 0)),
                                       json_number_value(json_array_get(h, 1))};
    if (vg_geo_point_check(d->home[k]) != VG_OK)
        return vg_json_fail(err, len, VG_ERANGE, "%s.home: [%g, %g] is not a position", where,
                            d->home[k].lat_deg, d->home[k].lon_deg);
    d->has_home[k] = true;
    return VG_OK;
}

static const char *const stage_names[] = {NULL, "protection_order", "pre_sentencing",
                                          "post_sentencing"};

static int parse_period(json_t *p, size_t i, struct vg_measure_period *out, char *err, size_t len)
{
    char where[48];
    snprintf(where, sizeof where, "decision.periods[%zu]", i);
    if (!json_is_object(p))
        return vg_json_fail(err, len, VG_EINVAL, "%s: a period is an object", where);
    static const char *const keys[] = {"stage", "decision_date", "start", "end", "consents", NULL};
    int rc = vg_json_only_keys(p, keys, where, err, len);
    if (rc)
        return rc;
    json_t *st = json_object_get(p, "stage");
    const char *sn = json_is_string(st) ? json_string_value(st) : "";
    for (uint8_t s = 1; s <= 3; s++)
        if (strcmp(sn, stage_names[s]) == 0)
            out->stage = s;
    if (!out->stage)
        return vg_json_fail(err, len, VG_EINVAL,
                            "%s.stage: one of protection_order, pre_sentencing, post_sentencing",
                            where);
    if ((rc = get_date(p, "decision_date", true, &out->decision_date, NULL, where, err, len)) ||
        (rc = get_date(p, "start", true, &out->start, NULL, where, err, len)) ||
        (rc = get_date(p, "end", true, &out->end, NULL, where, err, len)))
        return rc;
    json_t *c = json_object_get(p, "consents");
    if (!c)
        return VG_OK; /* the rules say which consent is missing */
    char cw[64];
    snprintf(cw, sizeof cw, "%s.consents", where);
    if (!json_is_object(c))
        return vg_json_fail(err, len, VG_EINVAL, "%s: {\"protected\": date, \"author\": date}", cw);
    static const char *const ckeys[] = {"protected", "author", NULL};
    if ((rc = vg_json_only_keys(c, ckeys, cw, err, len)) ||
        (rc = get_date(c, "protected", false, &out->protected_consent.date,
                       &out->protected_consent.given, cw, err, len)) ||
        (rc = get_date(c, "author", false, &out->author_consent.date, &out->author_consent.given,
                       cw, err, len)))
        return rc;
    return VG_OK;
}

void vg_measure_decision_cleanup(struct vg_measure_decision *d)
{
    if (!d)
        return;
    free(d->periods);
    d->periods = NULL;
    d->n_periods = 0;
}

int vg_measure_decision_parse(json_t *v, struct vg_measure_decision *d, char *err, size_t len)
{
    if (!json_is_object(v))
        return vg_json_fail(err, len, VG_EINVAL,
                            "decision: an object (magistrate, offence, periods...)");
    static const char *const keys[] = {
        "magistrate", "offence", "offence_penalty_years", "author", "protected", "periods", NULL};
    int rc = vg_json_only_keys(v, keys, "decision", err, len);
    if (rc)
        return rc;
    json_t *mag = json_object_get(v, "magistrate");
    if (!json_is_string(mag) || json_string_length(mag) == 0 ||
        json_string_length(mag) > VG_MAGISTRATE_MAX)
        return vg_json_fail(err, len, VG_EINVAL,
                            "decision.magistrate: who ordered the measure, 1 to %d characters",
                            VG_MAGISTRATE_MAX);
    const char *ms = json_string_value(mag);
    for (const char *c = ms; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return vg_json_fail(err, len, VG_EINVAL, "decision.magistrate: no control characters");
    snprintf(d->magistrate, sizeof d->magistrate, "%s", ms);
    json_t *off = json_object_get(v, "offence");
    if (off) {
        const char *on = json_is_string(off) ? json_string_value(off) : "";
        if (strcmp(on, "misdemeanour") == 0)
            d->offence = VG_OFFENCE_MISDEMEANOUR;
        else if (strcmp(on, "crime") == 0)
            d->offence = VG_OFFENCE_CRIME;
        else
            return vg_json_fail(err, len, VG_EINVAL,
                                "decision.offence: \"misdemeanour\" or \"crime\"");
    }
    json_t *py = json_object_get(v, "offence_penalty_years");
    if (py) {
        if (!json_is_integer(py) || json_integer_value(py) < 0 || json_integer_value(py) > 100)
            return vg_json_fail(
                err, len, VG_EINVAL,
                "decision.offence_penalty_years: whole years of imprisonment, 0..100");
        d->offence_penalty_years = (uint8_t)json_integer_value(py);
    }
    static const char *const who[] = {"author", "protected"};
    for (int k = 0; k < 2; k++) {
        json_t *o = json_object_get(v, who[k]);
        if (o && (rc = parse_person(o, k, d, err, len)))
            return rc;
    }
    json_t *ps = json_object_get(v, "periods");
    if (!json_is_array(ps) || json_array_size(ps) == 0 ||
        json_array_size(ps) > VG_MEASURE_MAX_PERIODS)
        return vg_json_fail(err, len, VG_EINVAL,
                            "decision.periods: the decision and its renewals, 1 to %d periods",
                            VG_MEASURE_MAX_PERIODS);
    d->periods = calloc(json_array_size(ps), sizeof *d->periods);
    if (!d->periods)
        return vg_json_fail(err, len, VG_ENOSPC, "out of memory");
    d->n_periods = json_array_size(ps);
    for (size_t i = 0; i < d->n_periods; i++)
        if ((rc = parse_period(json_array_get(ps, i), i, &d->periods[i], err, len))) {
            vg_measure_decision_cleanup(d);
            return rc;
        }
    d->present = true;
    return VG_OK;
}

void vg_measure_decision_legal(const struct vg_measure_decision *d, double alert_radius_m,
                               const struct vg_zone *zones, size_t n_zones, struct vg_measure *out)
{
    /* a fact nobody gave stays an invalid value, which the rules report
     * (a birth date or a home that is not one) */
    *out = (struct vg_measure){
        .alert_radius_m = alert_radius_m,
        .offence = d->offence,
        .offence_penalty_years = d->offence_penalty_years,
        .author_birth = d->has_birth[0] ? d->birth[0] : (struct vg_date){0, 0, 0},
        .protected_birth = d->has_birth[1] ? d->birth[1] : (struct vg_date){0, 0, 0},
        .author_home = d->has_home[0] ? d->home[0] : (struct vg_geo_point){999, 999},
        .protected_home = d->has_home[1] ? d->home[1] : (struct vg_geo_point){999, 999},
        .periods = d->periods,
        .n_periods = d->n_periods,
        .zones = zones,
        .n_zones = n_zones,
    };
}

json_t *vg_violations_json(const struct vg_violation *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        const char *rule = vg_rule_name((enum vg_rule)v[i].rule);
        json_t *o =
            json_pack("{s:s, s:s, s:i, s:s, s:s}", "rule", rule ? rule : "unknown", "severity",
                      v[i].severity == VG_SEVERITY_ERROR ? "error" : "warning", "index",
                      (int)v[i].index, "message", v[i].message, "message_fr", v[i].message_fr);
        if (!o || json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *vg_measure_decision_simulated(int64_t today_days, struct vg_geo_point author_home,
                                      struct vg_geo_point protected_home)
{
    char start[11], end[11];
    vg_date_format(vg_date_from_days(today_days - 1), start);
    vg_date_format(vg_date_from_days(today_days + 149), end);
    return json_pack(
        "{s:s,s:s,s:i,s:{s:s,s:[f,f]},s:{s:s,s:[f,f]},s:[{s:s,s:s,s:s,s:s,s:{s:s,s:s}}]}",
        "magistrate", "JLD (simulation)", "offence", "misdemeanour", "offence_penalty_years", 5,
        "author", "birth_date", "1980-02-01", "home", author_home.lat_deg, author_home.lon_deg,
        "protected", "birth_date", "1985-05-06", "home", protected_home.lat_deg,
        protected_home.lon_deg, "periods", "stage", "pre_sentencing", "decision_date", start,
        "start", start, "end", end, "consents", "protected", start, "author", start);
}
