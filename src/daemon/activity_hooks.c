/* GET /api/v1/measures/ID/activity (http/api.h measure_activity): a
 * measure's activity over a period, for the magistrate who weighs a
 * revision of the distance or a lifting (core/activity.h): what was
 * recorded (the stored alarms, the incidents and how fast they were
 * taken), the engine replayed on both units' records, and the same
 * records replayed with another R. Read from the store on the HTTP
 * thread; the measure's definition and units from the centre's loop.
 * Journaled (measure.activity) before it is answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/activity.h"
#include "core/civil.h"
#include "core/err.h"
#include "core/roles.h"
#include "daemon/daemon_internal.h"
#include "util/measure_json.h"
#include "util/tzload.h"

#define MAX_DAYS    366
#define MAX_RECORDS 4000000 /* about a year of both units at a fix a minute, with margin */
#define WARM_UP_MS  (60 * 60000LL)

/* ---- the records, as the engine takes them ------------------------------------------------ */

struct inputs {
    const struct vg_center_track_subject *units;
    int64_t to_ms;
    struct vg_activity_input *in;
    size_t n, cap;
    bool too_many;
};

static int add_input(void *arg, const struct vg_store_record *r)
{
    struct inputs *x = arg;
    if (r->received_ms >= x->to_ms)
        return 1; /* received in order: the period is over */
    uint8_t unit;
    if (r->unit_id == x->units->protected_unit_id)
        unit = VG_UNIT_PROTECTED;
    else if (r->unit_id == x->units->author_unit_id)
        /* the author's unit speaks for the bracelet too (vg__center_engine_unit) */
        unit = r->rec.type == VG_REC_STATUS && r->rec.subject == VG_SUBJECT_BRACELET
                   ? VG_UNIT_BRACELET
                   : VG_UNIT_AUTHOR;
    else
        return 0;
    if (x->n == MAX_RECORDS) {
        x->too_many = true;
        return 1;
    }
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 4096;
        struct vg_activity_input *p = realloc(x->in, cap * sizeof *p);
        if (!p)
            return VG_ENOSPC;
        x->in = p;
        x->cap = cap;
    }
    struct vg_activity_input *i = &x->in[x->n++];
    memset(i, 0, sizeof *i);
    i->received_ms = r->received_ms;
    i->in.unit = unit;
    if (r->rec.type == VG_REC_FIX) {
        i->in.kind = VG_INPUT_FIX;
        i->in.fix = r->rec.fix;
    } else if (r->rec.type == VG_REC_STATUS) {
        i->in.kind = VG_INPUT_STATUS;
        i->in.status = r->rec.status;
    } else {
        i->in.kind = VG_INPUT_EVENT;
        i->in.event = r->rec.event;
    }
    return 0;
}

/* ---- what was recorded ---------------------------------------------------------------------- */

struct recorded {
    int64_t from_ms, to_ms, measure_id;
    uint32_t by_kind[VG_ALARM_KIND__COUNT];
    int64_t *take_ms;
    size_t n_incidents, n_taken, cap;
};

static int count_alarm(void *arg, const struct vg_store_alarm *a)
{
    struct recorded *r = arg;
    if (a->alarm.raised_ms >= r->from_ms && a->alarm.raised_ms < r->to_ms &&
        a->alarm.kind < VG_ALARM_KIND__COUNT)
        r->by_kind[a->alarm.kind]++;
    return 0;
}

static int count_incident(void *arg, const struct vg_incident *inc)
{
    struct recorded *r = arg;
    if (inc->measure_id != r->measure_id || inc->opened_ms < r->from_ms ||
        inc->opened_ms >= r->to_ms)
        return 0;
    r->n_incidents++;
    if (inc->taken_ms <= 0)
        return 0;
    if (r->n_taken == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        int64_t *p = realloc(r->take_ms, cap * sizeof *p);
        if (!p)
            return VG_ENOSPC;
        r->take_ms = p;
        r->cap = cap;
    }
    r->take_ms[r->n_taken++] = inc->taken_ms - inc->opened_ms;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- the answer ----------------------------------------------------------------------------- */

static json_t *kinds_json(const uint32_t *by_kind)
{
    json_t *o = json_object();
    for (unsigned k = 1; o && k < VG_ALARM_KIND__COUNT; k++)
        if (by_kind[k] && vg_alarm_kind_name(k))
            json_object_set_new(o, vg_alarm_kind_name(k), json_integer(by_kind[k]));
    return o;
}

static json_t *activity_json(const struct vg_activity *a, double radius_m)
{
    json_t *hours = json_array();
    for (int h = 0; hours && h < 24; h++)
        json_array_append_new(hours, json_integer(a->by_hour[h]));
    return json_pack(
        "{s:f,s:I,s:o,s:{s:I,s:I,s:I,s:I},s:I,s:f,s:o,s:{s:I,s:I},s:{s:I,s:I},s:f,s:I,s:I,"
        "s:{s:I,s:I,s:I}}",
        "radius_m", radius_m, "records", (json_int_t)a->records, "alarms_by_kind",
        kinds_json(a->by_kind), "alarms_by_priority", "alert", (json_int_t)a->by_priority[1],
        "neutralisation", (json_int_t)a->by_priority[2], "prealert", (json_int_t)a->by_priority[3],
        "technical", (json_int_t)a->by_priority[4], "operator_alerts",
        (json_int_t)a->operator_alerts, "operator_alerts_per_day", a->operator_alerts_per_day,
        "operator_alerts_by_hour", hours, "rings", "prealert", (json_int_t)a->rings[1], "alert",
        (json_int_t)a->rings[2], "quiet_notices", "prealert", (json_int_t)a->quiet[1], "alert",
        (json_int_t)a->quiet[2], "rings_per_day", a->rings_per_day, "nights_disturbed",
        (json_int_t)a->nights_disturbed, "battery_incidents", (json_int_t)a->battery_incidents,
        "signal_loss_s", "author", (json_int_t)(a->signal_loss_ms[VG_UNIT_AUTHOR] / 1000),
        "protected", (json_int_t)(a->signal_loss_ms[VG_UNIT_PROTECTED] / 1000), "bracelet",
        (json_int_t)(a->signal_loss_ms[VG_UNIT_BRACELET] / 1000));
}

/* Local midnight of "YYYY-MM-DD" in tz, as UTC ms. */
static int day_start(const char *s, const struct vg_tz *tz, int64_t *out)
{
    int y, m, dd;
    char tail;
    if (!s || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &dd, &tail) != 3 || strlen(s) != 10)
        return VG_EINVAL;
    struct vg_date date = {y, (uint8_t)m, (uint8_t)dd};
    if (m < 1 || m > 12 || dd < 1 || dd > 31 || vg_date_check(date) != VG_OK)
        return VG_EINVAL;
    struct vg_local_time t = {.date = date};
    int64_t earliest, latest;
    if (vg_tz_local_to_utc(tz, vg_local_time_to_seconds(&t), &earliest, &latest) < 0)
        return VG_ERANGE;
    *out = earliest * 1000;
    return VG_OK;
}

static int hook_activity(void *arg, const struct vg_identity *who, int64_t id, const char *from,
                         const char *to, double what_if_m, json_t **out, char *err, size_t err_len)
{
    struct daemon *d = arg;
    struct vg__measure_call mc = {.who = who, .id = id};
    if (vg__daemon_measure_lookup(d, &mc) != VG_OK) {
        snprintf(err, err_len, "stopping");
        return VG_ESTATE;
    }
    if (!mc.found || !mc.allowed) {
        free(mc.definition);
        snprintf(err, err_len, "no measure %lld", (long long)id);
        return VG_ENOTFOUND;
    }
    static struct vg_tz tz; /* large; the HTTP thread alone comes here */
    struct vg_measure_def def;
    char tz_name[VG_NAME_MAX + 1];
    int rc = mc.definition &&
                     vg_measure_json_timezone(mc.definition, tz_name, sizeof tz_name, err, err_len) ==
                         VG_OK &&
                     vg_tz_load(&tz, d->cfg.center.zoneinfo_dir, tz_name, err, err_len) >= 0 &&
                     vg_measure_def_parse(mc.definition, &tz, &def, err, err_len) == VG_OK
                 ? VG_OK
                 : VG_ESTATE;
    free(mc.definition);
    if (rc != VG_OK)
        return rc;
    /* the period: local days [from, to], the last 30 by default */
    int64_t from_ms, to_ms;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (!from && !to) {
        to_ms = now_ms;
        from_ms = now_ms - 30 * 86400000LL;
    } else if (!from || !to || day_start(from, &tz, &from_ms) != VG_OK ||
               day_start(to, &tz, &to_ms) != VG_OK) {
        vg_measure_def_cleanup(&def);
        snprintf(err, err_len, "from and to: local dates YYYY-MM-DD, both or neither");
        return VG_EINVAL;
    } else {
        to_ms += 86400000LL; /* the whole last day (a day of 23 or 25 hours: near enough) */
        if (to_ms > now_ms)
            to_ms = now_ms;
    }
    if (from_ms >= to_ms || to_ms - from_ms > MAX_DAYS * 86400000LL) {
        vg_measure_def_cleanup(&def);
        snprintf(err, err_len, "the period: from before to, in the past, %d days at most",
                 MAX_DAYS);
        return VG_EINVAL;
    }
    /* the records, an hour before the period to warm the engine up */
    struct inputs in = {.units = &mc.units, .to_ms = to_ms};
    rc = vg_store_replay(d->store, id, from_ms - WARM_UP_MS, add_input, &in);
    if (rc == 1)
        rc = VG_OK;
    if (rc == VG_OK && in.too_many) {
        snprintf(err, err_len, "too many records in the period: ask a shorter one");
        rc = VG_EINVAL;
    } else if (rc != VG_OK) {
        snprintf(err, err_len, "cannot read the records: %s", vg_strerror(rc));
    }
    struct vg_engine_out *work = rc == VG_OK ? malloc(sizeof *work) : NULL;
    struct vg_activity now_a, what_if;
    struct vg_engine_config cfg = {.alert_radius_m = def.alert_radius_m,
                                   .zones = def.zones,
                                   .n_zones = def.n_zones,
                                   .tz = &tz,
                                   .params = &d->params,
                                   .ring = &def.ring};
    if (rc == VG_OK && !work)
        rc = VG_ENOSPC;
    if (rc == VG_OK)
        rc = vg_activity_replay(&cfg, in.in, in.n, from_ms, to_ms, &tz, work, &now_a);
    if (rc == VG_OK && what_if_m > 0) {
        cfg.alert_radius_m = what_if_m;
        rc = vg_activity_replay(&cfg, in.in, in.n, from_ms, to_ms, &tz, work, &what_if);
    }
    free(work);
    free(in.in);
    struct recorded rec = {.from_ms = from_ms, .to_ms = to_ms, .measure_id = id};
    if (rc == VG_OK)
        rc = vg_store_alarms(d->store, id, 0, count_alarm, &rec);
    if (rc == VG_OK)
        rc = vg_store_incidents(d->store, false, count_incident, &rec);
    double take_median_s = -1;
    if (rc == VG_OK && rec.n_taken) {
        qsort(rec.take_ms, rec.n_taken, sizeof *rec.take_ms, cmp_i64);
        take_median_s = (double)rec.take_ms[rec.n_taken / 2] / 1000.0;
    }
    free(rec.take_ms);
    if (rc != VG_OK) {
        if (!err[0])
            snprintf(err, err_len, "the activity cannot be computed: %s", vg_strerror(rc));
        vg_measure_def_cleanup(&def);
        return rc;
    }
    json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:I,s:f,s:{s:o,s:I,s:o},s:o,s:o}", "measure_id",
                          (json_int_t)id, "measure", mc.name, "timezone", tz_name, "from_ms",
                          (json_int_t)from_ms, "to_ms", (json_int_t)to_ms, "days", now_a.days,
                          "recorded", "alarms_by_kind", kinds_json(rec.by_kind), "incidents",
                          (json_int_t)rec.n_incidents, "time_to_take_median_s",
                          take_median_s >= 0 ? json_real(take_median_s) : json_null(), "replayed",
                          activity_json(&now_a, def.alert_radius_m), "what_if",
                          what_if_m > 0 ? activity_json(&what_if, what_if_m) : json_null());
    vg_measure_def_cleanup(&def);
    if (!o) {
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "{\"days\":%.1f,\"what_if_radius_m\":%.0f}", now_a.days,
             what_if_m);
    rc = vg_center_journal(d->center, who->name, "measure.activity", mc.name, detail, err, err_len);
    if (rc != VG_OK) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return VG_OK;
}

void vg__daemon_activity_hooks(struct vg_http_hooks *h)
{
    h->measure_activity = hook_activity;
}
