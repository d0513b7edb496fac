/* The incident report as a PDF (incident_pdf.h). A4 portrait, in points;
 * cairo's toy text API with a sans-serif face (DejaVu Sans on Debian):
 * enough for a report, and French accents come through as UTF-8. */
#include "report/incident_pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/err.h"
#include "core/geo.h"
#include "core/tz.h"
#include "core/zone.h"

#define PAGE_W  595.0
#define PAGE_H  842.0
#define MARGIN  40.0
#define BODY_W  (PAGE_W - 2 * MARGIN)
#define SEAL_ID "vigie-report/1"

static const char *const audiences[] = {NULL, "magistrate", "prosecutor", "probation",
                                        "victim_support"};
static const char *const audience_fr[] = {NULL, "magistrat", "parquet",
                                          "service pénitentiaire d'insertion et de probation",
                                          "association d'aide aux victimes"};

const char *vg_report_audience_name(unsigned a)
{
    return a < sizeof audiences / sizeof *audiences ? audiences[a] : NULL;
}

unsigned vg_report_audience_parse(const char *name)
{
    for (unsigned a = 1; name && a < sizeof audiences / sizeof *audiences; a++)
        if (strcmp(name, audiences[a]) == 0)
            return a;
    return 0;
}

/* ---- the document being written ------------------------------------------------------- */

struct sink {
    unsigned char *buf;
    size_t len, cap;
    int failed;
};

static cairo_status_t on_write(void *arg, const unsigned char *data, unsigned int n)
{
    struct sink *s = arg;
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 65536;
        while (cap < s->len + n)
            cap *= 2;
        unsigned char *b = realloc(s->buf, cap);
        if (!b) {
            s->failed = 1;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    return CAIRO_STATUS_SUCCESS;
}

struct doc {
    cairo_t *cr;
    double y; /* where the next line goes */
    int page;
};

static void font(struct doc *d, double size, bool bold)
{
    cairo_select_font_face(d->cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(d->cr, size);
}

static void footer(struct doc *d)
{
    char t[32];
    snprintf(t, sizeof t, "page %d", d->page);
    font(d, 7, false);
    cairo_set_source_rgb(d->cr, 0.4, 0.4, 0.4);
    cairo_move_to(d->cr, PAGE_W - MARGIN - 30, PAGE_H - 20);
    cairo_show_text(d->cr, t);
    cairo_set_source_rgb(d->cr, 0, 0, 0);
}

/* Room for h more points on this page, or a new page. */
static void need(struct doc *d, double h)
{
    if (d->y + h <= PAGE_H - MARGIN)
        return;
    footer(d);
    cairo_show_page(d->cr);
    d->page++;
    d->y = MARGIN;
}

static void text_at(struct doc *d, double x, double y, const char *s)
{
    cairo_move_to(d->cr, x, y);
    cairo_show_text(d->cr, s);
}

/* A paragraph wrapped to width w at x, from d->y; UTF-8 kept whole (breaks
 * only at spaces, or inside a word longer than the line). */
static void paragraph(struct doc *d, double x, double w, double size, bool bold, const char *s)
{
    font(d, size, bold);
    double lh = size * 1.35;
    size_t n = strlen(s);
    char *line = malloc(n + 1);
    if (!line)
        return;
    size_t start = 0;
    while (start < n) {
        size_t best = 0, end = start;
        while (end < n) {
            size_t next = end;
            while (next < n && s[next] != ' ' && s[next] != '\n')
                next++;
            memcpy(line, s + start, next - start);
            line[next - start] = '\0';
            cairo_text_extents_t ext;
            cairo_text_extents(d->cr, line, &ext);
            if (ext.x_advance > w && best > 0)
                break;
            best = next - start;
            end = next;
            if (end < n && s[end] == '\n')
                break;
            end++;
        }
        if (best == 0) /* no room even for one word: cut it */
            best = end - start;
        memcpy(line, s + start, best);
        line[best] = '\0';
        need(d, lh);
        text_at(d, x, d->y + size, line);
        d->y += lh;
        start += best;
        while (start < n && (s[start] == ' ' || s[start] == '\n'))
            start++;
    }
    free(line);
}

static void heading(struct doc *d, const char *s)
{
    need(d, 40);
    d->y += 8;
    paragraph(d, MARGIN, BODY_W, 11, true, s);
    cairo_set_line_width(d->cr, 0.5);
    cairo_move_to(d->cr, MARGIN, d->y + 1);
    cairo_line_to(d->cr, MARGIN + BODY_W, d->y + 1);
    cairo_stroke(d->cr);
    d->y += 6;
}

/* Times are the measure's local times (its magistrate, its persons live by
 * them), each full date with its offset, since a report may straddle a
 * change of the clocks; UTC when the time zone is unknown. */
static int32_t offset_at(const struct vg_tz *tz, int64_t ms)
{
    return tz ? vg_tz_offset_at(tz, ms / 1000) : 0;
}

/* "UTC+1", "UTC+5:30", "UTC-3", "UTC". */
static void offset_text(int32_t off, char *out, size_t len)
{
    if (!off) {
        snprintf(out, len, "UTC");
        return;
    }
    int32_t a = off < 0 ? -off : off;
    if (a % 3600)
        snprintf(out, len, "UTC%c%d:%02d", off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
    else
        snprintf(out, len, "UTC%c%d", off < 0 ? '-' : '+', a / 3600);
}

static void local_tm(const struct vg_tz *tz, int64_t ms, struct tm *tm)
{
    time_t s = (time_t)(ms / 1000 + offset_at(tz, ms));
    gmtime_r(&s, tm);
}

/* "2026-12-05 02:43:56 UTC+1" */
static void stamp(const struct vg_tz *tz, int64_t ms, char *out, size_t len)
{
    if (ms <= 0) {
        snprintf(out, len, "—");
        return;
    }
    struct tm tm;
    char off[16];
    local_tm(tz, ms, &tm);
    offset_text(offset_at(tz, ms), off, sizeof off);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, len, "%s %s", day, off);
}

static void hms(const struct vg_tz *tz, int64_t ms, char *out, size_t len)
{
    struct tm tm;
    local_tm(tz, ms, &tm);
    strftime(out, len, "%H:%M:%S", &tm);
}

/* What the times are: "heure de Paris, UTC+1" (the offset at `ms`), from
 * the zone's IANA name (its last part, underscores as spaces); "heures UTC"
 * without a zone. */
static void zone_text(const struct vg_report_input *in, int64_t ms, char *out, size_t len)
{
    if (!in->tz || !in->tz_name || !*in->tz_name) {
        snprintf(out, len, "heures UTC");
        return;
    }
    const char *slash = strrchr(in->tz_name, '/');
    char place[64];
    snprintf(place, sizeof place, "%s", slash ? slash + 1 : in->tz_name);
    for (char *p = place; *p; p++)
        if (*p == '_')
            *p = ' ';
    char off[16];
    offset_text(offset_at(in->tz, ms), off, sizeof off);
    snprintf(out, len, "heure de %s, %s", place, off);
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int64_t num(json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

/* ---- the map ------------------------------------------------------------------------------ */

struct frame {
    struct vg_geo_prepared centre;
    double scale;        /* points per metre */
    double x0, y0, w, h; /* the box */
};

static void to_page(const struct frame *f, double lat, double lon, double *px, double *py)
{
    struct vg_geo_prepared p;
    vg_geo_prepare(&p, (struct vg_geo_point){lat, lon});
    double x, y;
    vg_geo_fast_offset(&f->centre, &p, &x, &y);
    *px = f->x0 + f->w / 2 + x * f->scale;
    *py = f->y0 + f->h / 2 - y * f->scale;
}

static void ring(cairo_t *cr, const struct frame *f, double lat, double lon, double r_m, double red,
                 double green, double blue, double dash)
{
    double x, y;
    to_page(f, lat, lon, &x, &y);
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, r_m * f->scale, 0, 2 * M_PI);
    cairo_set_source_rgb(cr, red, green, blue);
    if (dash > 0)
        cairo_set_dash(cr, &dash, 1, 0);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
}

static void track(cairo_t *cr, const struct frame *f, const struct vg_report_point *p, size_t n,
                  double red, double green, double blue)
{
    for (size_t i = 0; i < n; i++) { /* accuracy circles, faint */
        double x, y;
        to_page(f, p[i].lat_deg, p[i].lon_deg, &x, &y);
        cairo_new_sub_path(cr);
        cairo_arc(cr, x, y, fmax(0.8, p[i].accuracy_m * f->scale), 0, 2 * M_PI);
    }
    cairo_set_source_rgba(cr, red, green, blue, 0.12);
    cairo_fill(cr);
    cairo_set_line_width(cr, 1.4);
    for (size_t i = 0; i < n; i++) {
        double x, y;
        to_page(f, p[i].lat_deg, p[i].lon_deg, &x, &y);
        if (i == 0)
            cairo_move_to(cr, x, y);
        else
            cairo_line_to(cr, x, y);
    }
    cairo_set_source_rgb(cr, red, green, blue);
    cairo_stroke(cr);
    if (n) { /* where it ends */
        double x, y;
        to_page(f, p[n - 1].lat_deg, p[n - 1].lon_deg, &x, &y);
        cairo_arc(cr, x, y, 3, 0, 2 * M_PI);
        cairo_fill(cr);
    }
}

static void map(struct doc *d, const struct vg_report_input *in)
{
    const double h = 300;
    need(d, h + 30);
    cairo_t *cr = d->cr;
    struct frame f = {.x0 = MARGIN, .y0 = d->y, .w = BODY_W, .h = h};
    /* the box holds both tracks, and at least 2R around her last position */
    double R = in->def ? in->def->alert_radius_m : 1000;
    double lat_min = 90, lat_max = -90, lon_min = 180, lon_max = -180;
    const struct vg_report_point *sets[2] = {in->author, in->protected_person};
    size_t ns[2] = {in->n_author, in->n_protected};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < ns[k]; i++) {
            lat_min = fmin(lat_min, sets[k][i].lat_deg);
            lat_max = fmax(lat_max, sets[k][i].lat_deg);
            lon_min = fmin(lon_min, sets[k][i].lon_deg);
            lon_max = fmax(lon_max, sets[k][i].lon_deg);
        }
    vg_geo_prepare(&f.centre,
                   (struct vg_geo_point){(lat_min + lat_max) / 2, (lon_min + lon_max) / 2});
    double half_w = 2.2 * R, half_h = 2.2 * R;
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < ns[k]; i++) {
            struct vg_geo_prepared p;
            vg_geo_prepare(&p, (struct vg_geo_point){sets[k][i].lat_deg, sets[k][i].lon_deg});
            double x, y;
            vg_geo_fast_offset(&f.centre, &p, &x, &y);
            half_w = fmax(half_w, fabs(x) * 1.1);
            half_h = fmax(half_h, fabs(y) * 1.1);
        }
    f.scale = fmin(f.w / (2 * half_w), f.h / (2 * half_h));
    cairo_save(cr);
    cairo_rectangle(cr, f.x0, f.y0, f.w, f.h);
    cairo_set_source_rgb(cr, 0.97, 0.97, 0.95);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    cairo_set_line_width(cr, 0.5);
    cairo_stroke_preserve(cr);
    cairo_clip(cr);
    cairo_set_line_width(cr, 1);
    /* the fixed zones: R solid, 2R dashed */
    for (size_t z = 0; in->def && z < in->def->n_zones; z++) {
        const struct vg_zone *zone = &in->def->zones[z];
        double lat = zone->centre.lat_rad * 180 / M_PI, lon = zone->centre.lon_rad * 180 / M_PI;
        double r =
            zone->alert_radius_m + (zone->shape == VG_ZONE_POLYGON ? zone->bound_radius_m : 0);
        ring(cr, &f, lat, lon, r, 0.55, 0.35, 0.0, 0);
        ring(cr, &f, lat, lon, r + zone->alert_radius_m, 0.55, 0.35, 0.0, 4);
    }
    /* the mobile zone around her last position */
    if (in->n_protected) {
        const struct vg_report_point *p = &in->protected_person[in->n_protected - 1];
        ring(cr, &f, p->lat_deg, p->lon_deg, R, 0.8, 0.0, 0.0, 0);
        ring(cr, &f, p->lat_deg, p->lon_deg, 2 * R, 0.9, 0.5, 0.0, 4);
    }
    track(cr, &f, in->protected_person, in->n_protected, 0.0, 0.35, 0.8);
    track(cr, &f, in->author, in->n_author, 0.8, 0.1, 0.1);
    cairo_restore(cr);
    /* scale bar and legend */
    double bar_m = pow(10, floor(log10(half_w / 2)));
    double bx = f.x0 + 10, by = f.y0 + f.h - 12;
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1.5);
    cairo_move_to(cr, bx, by);
    cairo_line_to(cr, bx + bar_m * f.scale, by);
    cairo_stroke(cr);
    char t[64];
    snprintf(t, sizeof t, bar_m >= 1000 ? "%.0f km" : "%.0f m",
             bar_m >= 1000 ? bar_m / 1000 : bar_m);
    font(d, 7, false);
    text_at(d, bx, by - 3, t);
    d->y += h + 4;
    paragraph(d, MARGIN, BODY_W, 7.5, false,
              "Rouge : l'auteur ; bleu : la personne protégée (disques : précision des "
              "positions). Cercles rouge et orange pointillé : R et 2R autour de sa dernière "
              "position ; brun : les zones fixes (R, 2R). Positions telles que reçues par le "
              "centre.");
}

/* ---- distance over time ------------------------------------------------------------------- */

/* Her position at t, from the fix just before (or the first). */
static const struct vg_report_point *hers_at(const struct vg_report_input *in, int64_t t)
{
    const struct vg_report_point *best = NULL;
    for (size_t i = 0; i < in->n_protected; i++) {
        if (in->protected_person[i].t_ms > t)
            break;
        best = &in->protected_person[i];
    }
    return best ? best : (in->n_protected ? &in->protected_person[0] : NULL);
}

static void chart(struct doc *d, const struct vg_report_input *in, json_t *alarms)
{
    const double h = 170, lm = 40;
    need(d, h + 30);
    cairo_t *cr = d->cr;
    double x0 = MARGIN + lm, y0 = d->y, w = BODY_W - lm, ch = h - 20;
    double R = in->def ? in->def->alert_radius_m : 1000;
    size_t n = in->n_author;
    double *dist = n ? calloc(n, sizeof *dist) : NULL;
    double dmax = 2.5 * R;
    int64_t t0 = n ? in->author[0].t_ms : 0, t1 = n ? in->author[n - 1].t_ms : 1;
    for (size_t i = 0; dist && i < n; i++) {
        const struct vg_report_point *p = hers_at(in, in->author[i].t_ms);
        dist[i] = -1;
        if (p &&
            vg_geo_inverse((struct vg_geo_point){in->author[i].lat_deg, in->author[i].lon_deg},
                           (struct vg_geo_point){p->lat_deg, p->lon_deg}, &dist[i], NULL) != VG_OK)
            dist[i] = -1;
        if (dist[i] > dmax)
            dmax = dist[i];
    }
    if (t1 <= t0)
        t1 = t0 + 1;
    cairo_rectangle(cr, x0, y0, w, ch);
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    cairo_set_line_width(cr, 0.5);
    cairo_stroke(cr);
    font(d, 7, false);
    /* R and 2R */
    double levels[2] = {R, 2 * R};
    const char *names[2] = {"R", "2R"};
    for (int k = 0; k < 2; k++) {
        double y = y0 + ch - levels[k] / dmax * ch;
        double dash = 3;
        cairo_set_dash(cr, &dash, 1, 0);
        cairo_set_source_rgb(cr, k ? 0.9 : 0.8, k ? 0.5 : 0.0, 0.0);
        cairo_move_to(cr, x0, y);
        cairo_line_to(cr, x0 + w, y);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        char t[32];
        snprintf(t, sizeof t, "%s %.0f m", names[k], levels[k]);
        text_at(d, MARGIN, y + 3, t);
    }
    /* the alarms, where they fall in the window */
    size_t i;
    json_t *a;
    json_array_foreach(alarms, i, a)
    {
        int64_t at = num(a, "at_ms");
        if (at < t0 || at > t1)
            continue;
        double x = x0 + (double)(at - t0) / (double)(t1 - t0) * w;
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        cairo_move_to(cr, x, y0);
        cairo_line_to(cr, x, y0 + ch);
        cairo_stroke(cr);
        cairo_save(cr);
        cairo_move_to(cr, x + 2, y0 + 4);
        cairo_rotate(cr, M_PI / 2);
        cairo_show_text(cr, str(a, "kind"));
        cairo_restore(cr);
    }
    /* the distance */
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_set_line_width(cr, 1.2);
    bool pen = false;
    for (size_t k = 0; dist && k < n; k++) {
        if (dist[k] < 0) {
            pen = false;
            continue;
        }
        double x = x0 + (double)(in->author[k].t_ms - t0) / (double)(t1 - t0) * w;
        double y = y0 + ch - dist[k] / dmax * ch;
        if (pen)
            cairo_line_to(cr, x, y);
        else
            cairo_move_to(cr, x, y);
        pen = true;
    }
    cairo_stroke(cr);
    free(dist);
    char a_t[16], b_t[16];
    hms(in->tz, t0, a_t, sizeof a_t);
    hms(in->tz, t1, b_t, sizeof b_t);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text_at(d, x0, y0 + ch + 10, a_t);
    text_at(d, x0 + w - 30, y0 + ch + 10, b_t);
    d->y += h;
    char zone[96], legend[400];
    zone_text(in, t0, zone, sizeof zone);
    snprintf(legend, sizeof legend,
             "Distance entre l'auteur et la personne protégée (m ; %s), de chaque position de "
             "l'auteur à la dernière position connue d'elle ; traits verticaux : les alarmes.",
             zone);
    paragraph(d, MARGIN, BODY_W, 7.5, false, legend);
}

/* ---- the whole document ------------------------------------------------------------------- */

struct line {
    int64_t at;
    char text[600];
};

static int by_time(const void *a, const void *b)
{
    int64_t x = ((const struct line *)a)->at, y = ((const struct line *)b)->at;
    return x < y ? -1 : x > y;
}

/* The protocol's steps and outcomes in French, their names kept beside. */
static const char *step_fr(const char *step)
{
    static const char *const names[][2] = {{"author_called", "Appel de l'auteur"},
                                           {"protected_called", "Appel de la personne protégée"},
                                           {"police_alerted", "Police alertée"},
                                           {"magistrate_informed", "Magistrat informé"},
                                           {"note", "Note"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(step, names[i][0]) == 0)
            return names[i][1];
    return step;
}

static const char *outcome_fr(const char *outcome)
{
    static const char *const names[][2] = {{"reached", "joint"},
                                           {"not_reached", "non joint"},
                                           {"complied", "a obtempéré"},
                                           {"refused", "a refusé"},
                                           {"guided", "guidée"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(outcome, names[i][0]) == 0)
            return names[i][1];
    return "";
}

/* The steps' texts as written, but for the probation service those of the
 * calls to the protected person (where her whereabouts come up). */
static void timeline(struct doc *d, const struct vg_tz *tz, json_t *alarms, json_t *steps,
                     unsigned audience)
{
    size_t n = json_array_size(alarms) + json_array_size(steps), k = 0, i;
    struct line *lines = n ? calloc(n, sizeof *lines) : NULL;
    json_t *x;
    json_array_foreach(alarms, i, x)
    {
        if (!lines)
            break;
        lines[k].at = num(x, "at_ms");
        snprintf(lines[k].text, sizeof lines[k].text, "alarme %s (n° %lld)", str(x, "kind"),
                 (long long)num(x, "seq"));
        k++;
    }
    json_array_foreach(steps, i, x)
    {
        if (!lines)
            break;
        lines[k].at = num(x, "at_ms");
        const char *outcome = str(x, "outcome"), *text = str(x, "text");
        if (audience == VG_AUDIENCE_PROBATION && strcmp(str(x, "step"), "protected_called") == 0 &&
            *text)
            text = "[texte non communiqué à ce destinataire]";
        const char *ofr = outcome_fr(outcome);
        char o[64] = "";
        if (*ofr)
            snprintf(o, sizeof o, " : %s (%s)", ofr, outcome);
        snprintf(lines[k].text, sizeof lines[k].text, "%s (%s)%s%s%s — %s", step_fr(str(x, "step")),
                 str(x, "step"), o, *text ? " — " : "", text, str(x, "operator"));
        k++;
    }
    qsort(lines, k, sizeof *lines, by_time);
    for (i = 0; i < k; i++) {
        char t[16];
        hms(tz, lines[i].at, t, sizeof t);
        need(d, 12);
        font(d, 8.5, true);
        text_at(d, MARGIN, d->y + 8.5, t);
        paragraph(d, MARGIN + 50, BODY_W - 50, 8.5, false, lines[i].text);
    }
    free(lines);
}

static bool shows_map(unsigned audience)
{
    return audience != VG_AUDIENCE_PROBATION;
}

int vg_report_incident_pdf(const struct vg_report_input *in, unsigned char **pdf, size_t *len,
                           char *err, size_t err_len)
{
    *pdf = NULL;
    *len = 0;
    if (!vg_report_audience_name(in->audience)) {
        snprintf(err, err_len, "recipient: magistrate, prosecutor, probation or victim_support");
        return VG_EINVAL;
    }
    json_t *c = json_loads(in->content ? in->content : "", 0, NULL);
    json_t *measure = json_object_get(c, "measure"), *inc = json_object_get(c, "incident");
    json_t *alarms = json_object_get(c, "alarms"), *steps = json_object_get(c, "steps");
    if (!json_is_object(c) || strcmp(str(c, "format"), "vigie.incident-report") != 0 ||
        !json_is_object(measure) || !json_is_object(inc) || !json_is_array(alarms) ||
        !json_is_array(steps)) {
        json_decref(c);
        snprintf(err, err_len, "not an incident report record");
        return VG_EINVAL;
    }
    struct sink sink = {0};
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(on_write, &sink, PAGE_W, PAGE_H);
    char seal[400], title[200];
    snprintf(seal, sizeof seal, "%s incident=%lld entry=%lld hash=%s sha256=%s audience=%s",
             SEAL_ID, (long long)num(inc, "id"), (long long)in->journal_id,
             in->journal_hash ? in->journal_hash : "", in->content_sha256 ? in->content_sha256 : "",
             vg_report_audience_name(in->audience));
    snprintf(title, sizeof title, "Rapport d'incident %lld — mesure %s", (long long)num(inc, "id"),
             str(measure, "name"));
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_KEYWORDS, seal);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "Vigie");
    struct doc d = {.cr = cairo_create(s), .y = MARGIN, .page = 1};
    char a[48], b[48], line[512];

    paragraph(&d, MARGIN, BODY_W, 15, true, title);
    snprintf(line, sizeof line, "Juridiction : %s — magistrat : %s", str(measure, "court"),
             str(measure, "magistrate"));
    paragraph(&d, MARGIN, BODY_W, 9, false, line);
    snprintf(line, sizeof line, "Destinataire : %s%s%s", audience_fr[in->audience],
             in->recipient_name && *in->recipient_name ? " — " : "",
             in->recipient_name ? in->recipient_name : "");
    paragraph(&d, MARGIN, BODY_W, 9, true, line);
    stamp(in->tz, in->generated_ms, a, sizeof a);
    snprintf(line, sizeof line, "Établi le %s par le centre de surveillance.", a);
    paragraph(&d, MARGIN, BODY_W, 8, false, line);
    if (in->tz && in->tz_name && *in->tz_name) {
        char zone[96];
        zone_text(in, num(inc, "opened_ms"), zone, sizeof zone);
        snprintf(line, sizeof line,
                 "Les heures sont celles du fuseau de la mesure, %s (%s à l'ouverture de "
                 "l'incident) ; chaque date porte son décalage.",
                 in->tz_name, zone);
        paragraph(&d, MARGIN, BODY_W, 8, false, line);
    }

    heading(&d, "L'incident");
    stamp(in->tz, num(inc, "opened_ms"), a, sizeof a);
    snprintf(line, sizeof line,
             "Ouvert le %s par l'alarme %s ; priorité de l'incident : %lld (1 : alerte, SOS ; "
             "2 : neutralisation ; 3 : pré-alerte ; 4 : technique).",
             a, str(inc, "first_alarm"), (long long)num(inc, "priority"));
    paragraph(&d, MARGIN, BODY_W, 9, false, line);
    stamp(in->tz, num(inc, "taken_ms"), a, sizeof a);
    stamp(in->tz, num(inc, "closed_ms"), b, sizeof b);
    snprintf(line, sizeof line, "Pris en charge le %s par %s ; clos le %s.", a,
             str(inc, "operator"), b);
    paragraph(&d, MARGIN, BODY_W, 9, false, line);
    snprintf(line, sizeof line, "%zu alarme(s), %zu étape(s) du protocole.",
             json_array_size(alarms), json_array_size(steps));
    paragraph(&d, MARGIN, BODY_W, 9, false, line);

    heading(&d, "Carte");
    if (shows_map(in->audience) && (in->n_author || in->n_protected))
        map(&d, in);
    else
        paragraph(&d, MARGIN, BODY_W, 9, false,
                  shows_map(in->audience)
                      ? "Aucune position reçue autour de l'incident."
                      : "Non communiquée à ce destinataire : elle montrerait où se trouve la "
                        "personne protégée (ses positions, son domicile).");

    heading(&d, "Distance dans le temps");
    if (in->n_author && in->n_protected)
        chart(&d, in, alarms);
    else
        paragraph(&d, MARGIN, BODY_W, 9, false, "Positions insuffisantes pour la tracer.");

    char zone[96], chrono[128];
    zone_text(in, num(inc, "opened_ms"), zone, sizeof zone);
    snprintf(chrono, sizeof chrono, "Chronologie (%s)", zone);
    heading(&d, chrono);
    timeline(&d, in->tz, alarms, steps, in->audience);

    heading(&d, "Synthèse de l'opérateur");
    paragraph(&d, MARGIN, BODY_W, 9.5, false, str(c, "summary"));

    heading(&d, "Vérification");
    snprintf(line, sizeof line,
             "Ce rapport reprend l'enregistrement scellé dans le journal du centre : entrée "
             "n° %lld (report.create), empreinte %s ; SHA-256 de l'enregistrement : %s. "
             "Contrôle : vigie journal verify --report FICHIER.",
             (long long)in->journal_id, in->journal_hash ? in->journal_hash : "",
             in->content_sha256 ? in->content_sha256 : "");
    paragraph(&d, MARGIN, BODY_W, 7.5, false, line);
    footer(&d);
    cairo_show_page(d.cr);
    cairo_destroy(d.cr);
    cairo_surface_finish(s);
    cairo_status_t st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    json_decref(c);
    if (st != CAIRO_STATUS_SUCCESS || sink.failed) {
        free(sink.buf);
        snprintf(err, err_len, "the PDF could not be drawn: %s", cairo_status_to_string(st));
        return sink.failed ? VG_ENOSPC : VG_EINVAL;
    }
    *pdf = sink.buf;
    *len = sink.len;
    return VG_OK;
}

void vg_report_cleanup(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}

/* ---- reading the seal back ----------------------------------------------------------------- */

/* The Keywords string of the PDF's information dictionary: cairo writes it
 * as a literal string, (…), escaping \, ( and ). */
static int keywords(const unsigned char *pdf, size_t len, char *out, size_t cap)
{
    static const char key[] = "/Keywords (";
    for (size_t i = 0; i + sizeof key - 1 < len; i++) {
        if (memcmp(pdf + i, key, sizeof key - 1) != 0)
            continue;
        size_t k = 0;
        for (size_t j = i + sizeof key - 1; j < len && k + 1 < cap; j++) {
            if (pdf[j] == '\\' && j + 1 < len) {
                out[k++] = (char)pdf[++j];
                continue;
            }
            if (pdf[j] == ')') {
                out[k] = '\0';
                return VG_OK;
            }
            out[k++] = (char)pdf[j];
        }
        return VG_EINVAL;
    }
    return VG_ENOTFOUND;
}

static bool hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int vg_report_seal_read(const unsigned char *pdf, size_t len, struct vg_report_seal *out)
{
    memset(out, 0, sizeof *out);
    char kw[512];
    int rc = keywords(pdf, len, kw, sizeof kw);
    if (rc != VG_OK)
        return rc;
    if (strncmp(kw, SEAL_ID " ", sizeof SEAL_ID) != 0)
        return VG_ENOTFOUND;
    long long incident = 0, entry = 0;
    char hash[80] = "", sha[80] = "", aud[40] = "";
    if (sscanf(kw + sizeof SEAL_ID, "incident=%lld entry=%lld hash=%79s sha256=%79s audience=%39s",
               &incident, &entry, hash, sha, aud) != 5 ||
        incident <= 0 || entry <= 0 || !hex64(hash) || !hex64(sha))
        return VG_EINVAL;
    out->incident_id = incident;
    out->journal_id = entry;
    snprintf(out->journal_hash, sizeof out->journal_hash, "%s", hash);
    snprintf(out->sha256, sizeof out->sha256, "%s", sha);
    snprintf(out->audience, sizeof out->audience, "%s", aud);
    return VG_OK;
}
