/* GET /api/v1/measures/ID/positions (http/api.h measure_positions): both
 * persons' recent tracks for the operators handling the measure.
 *
 * The privacy rule (docs/API.md "Positions"): the author's track is theirs
 * to see; the protected person's only while her measure has an incident in
 * progress (an alarm, an SOS), and every read is journaled before it is
 * answered (`position.read`, saying whether hers was given and under which
 * incident), so that who saw where she was can always be told. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/err.h"
#include "core/fix.h"
#include "daemon/daemon_internal.h"

#define MAX_POINTS 5000 /* per person: the most recent are kept */

struct subject_call {
    int64_t id;
    struct vg_center_track_subject s;
    int rc;
};

static void do_subject(struct daemon *d, void *arg)
{
    struct subject_call *c = arg;
    c->rc = vg_center_track_subject(d->center, c->id, &c->s);
}

struct track {
    json_t *points;
    size_t skipped; /* older points dropped beyond MAX_POINTS */
};

static int add_point(void *arg, const struct vg_store_record *r)
{
    struct track *t = arg;
    const struct vg_fix *f = &r->rec.fix;
    if (r->rec.type != VG_REC_FIX || !VG_FIX_IS_GNSS(f->quality) || vg_fix_check(f) != VG_OK)
        return 0;
    json_t *p = json_pack("{s:I,s:f,s:f,s:f}", "time_ms", (json_int_t)f->time_ms, "lat", f->lat_deg,
                          "lon", f->lon_deg, "accuracy_m", (double)f->accuracy_m);
    if (!p || json_array_append_new(t->points, p) != 0)
        return VG_ENOSPC;
    if (json_array_size(t->points) > MAX_POINTS) {
        json_array_remove(t->points, 0);
        t->skipped++;
    }
    return 0;
}

static int read_track(struct daemon *d, int64_t unit_id, int64_t from_ms, int64_t to_ms,
                      json_t **out)
{
    struct track t = {.points = json_array()};
    if (!t.points)
        return VG_ENOSPC;
    int rc =
        unit_id ? vg_store_unit_records(d->store, unit_id, from_ms, to_ms, add_point, &t) : VG_OK;
    if (rc != VG_OK) {
        json_decref(t.points);
        return rc;
    }
    *out =
        json_pack("{s:o,s:I}", "points", t.points, "older_points_dropped", (json_int_t)t.skipped);
    return *out ? VG_OK : VG_ENOSPC;
}

static int hook_positions(void *arg, const struct vg_identity *who, int64_t id, int64_t span_ms,
                          json_t **out, char *err, size_t err_len)
{
    struct daemon *d = arg;
    struct subject_call c = {.id = id, .rc = VG_ESTATE};
    if (vg__daemon_on_loop(d, do_subject, &c) != VG_OK) {
        snprintf(err, err_len, "stopping");
        return VG_ESTATE;
    }
    if (c.rc != VG_OK) {
        snprintf(err, err_len, "no measure %lld", (long long)id);
        return c.rc;
    }
    bool hers = c.s.incident_id > 0;
    char detail[160];
    snprintf(detail, sizeof detail,
             "{\"measure_id\":%lld,\"protected\":%s,\"incident\":%lld,\"minutes\":%lld}",
             (long long)id, hers ? "true" : "false", (long long)c.s.incident_id,
             (long long)(span_ms / 60000));
    /* journaled first: a read that cannot be journaled is not answered */
    int rc =
        vg_center_journal(d->center, who->name, "position.read", c.s.measure, detail, err, err_len);
    if (rc != VG_OK)
        return rc;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    json_t *author = NULL, *prot = NULL;
    rc = read_track(d, c.s.author_unit_id, now - span_ms, now + 1, &author);
    if (rc == VG_OK && hers)
        rc = read_track(d, c.s.protected_unit_id, now - span_ms, now + 1, &prot);
    if (rc != VG_OK) {
        json_decref(author);
        snprintf(err, err_len, "the tracks cannot be read: %s", vg_strerror(rc));
        return rc;
    }
    *out =
        json_pack("{s:I,s:s,s:I,s:I,s:o,s:o}", "measure_id", (json_int_t)id, "measure", c.s.measure,
                  "incident", (json_int_t)c.s.incident_id, "from_ms", (json_int_t)(now - span_ms),
                  "author", author, "protected", prot ? prot : json_null());
    if (*out && !hers)
        json_object_set_new(*out, "protected_withheld",
                            json_string("no incident in progress on this measure"));
    if (!*out) {
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    return VG_OK;
}

void vg__daemon_position_hooks(struct vg_http_hooks *h)
{
    h->measure_positions = hook_positions;
}
