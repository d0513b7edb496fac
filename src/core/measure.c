/* The legal rules of a measure (see measure.h for the contract and
 * docs/MEASURE.md for the legal sources and the choices made where the law
 * is silent).
 *
 * Shape: one check function per rule, listed in a table in rule order.
 * vg_measure_validate() runs the error rules, then the warning rules, so
 * that the output is ordered without sorting or buffering (a measure can
 * hold hundreds of violations and the core does not allocate). Each check
 * reads only what it needs and never trusts it: a value another rule
 * already refuses (a NaN radius, an invalid date, an unknown stage) makes
 * the dependent checks skip instead of reporting nonsense.
 *
 * Messages number periods and zones from 1, as a clerk would read them;
 * the `index` field of a violation counts from 0. */
#include "core/measure.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#if defined(__GNUC__)
#define VG__PRINTF(fmt_arg, first_arg) __attribute__((format(printf, fmt_arg, first_arg)))
#else
#define VG__PRINTF(fmt_arg, first_arg)
#endif

/* ---- Reporting ------------------------------------------------------ */

struct report {
    const struct vg_measure *m;
    struct vg_violation *out;
    size_t cap;
    size_t n;
    bool error;
};

/* Cut a truncated message back to a UTF-8 character boundary, so that a
 * French message never ends in half a character. */
static void utf8_trim(char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return;
    /* Walk back over continuation bytes to the lead byte of the last
     * character and drop it if the bytes it announces are not all there. */
    size_t lead = n - 1;
    while (lead > 0 && ((unsigned char)s[lead] & 0xC0u) == 0x80u)
        lead--;
    unsigned char c = (unsigned char)s[lead];
    size_t want = c < 0x80u ? 1 : (c & 0xE0u) == 0xC0u ? 2 : (c & 0xF0u) == 0xE0u ? 3 : 4;
    if (n - lead < want)
        s[lead] = '\0';
}

static VG__PRINTF(2, 3) void set_message(char *dst, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int written = vsnprintf(dst, VG_VIOLATION_MESSAGE_LEN, fmt, ap);
    va_end(ap);
    if (written < 0)
        dst[0] = '\0';
    else if ((size_t)written >= VG_VIOLATION_MESSAGE_LEN)
        utf8_trim(dst);
}

/* Count a violation; return the slot to fill in, or NULL beyond `cap`
 * (the caller then skips the formatting). */
static struct vg_violation *report(struct report *r, enum vg_rule rule, enum vg_severity severity,
                                   int index)
{
    r->n++;
    if (severity == VG_SEVERITY_ERROR)
        r->error = true;
    if (r->out == NULL || r->n > r->cap)
        return NULL;
    struct vg_violation *v = &r->out[r->n - 1];
    memset(v, 0, sizeof *v);
    v->rule = (uint16_t)rule;
    v->severity = (uint8_t)severity;
    v->index = (int16_t)index;
    return v;
}

/* ---- Formatting values ---------------------------------------------- */

#define NUM_LEN  40
#define DATE_LEN 24

/* A number with up to `decimals` decimals, trailing zeros dropped
 * ("800", "999.999"; "999,999" in French). With `exact`, the fewest
 * decimals (up to `decimals`) that give back the same double: a value the
 * caller typed is echoed as typed, and R = 999.9996 m is never shown as
 * "1000 m is below 1 km". Huge values go in exponent form, so that a
 * garbage 1e300 does not fill the message with digits. */
static void format_number(char *buf, double v, int decimals, bool exact, bool french)
{
    if (isnan(v)) {
        snprintf(buf, NUM_LEN, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, NUM_LEN, "%s", v < 0 ? "-inf" : "inf");
        return;
    }
    if (fabs(v) >= 1e12) {
        snprintf(buf, NUM_LEN, "%.6g", v);
    } else {
        int d = exact ? 0 : decimals;
        snprintf(buf, NUM_LEN, "%.*f", d, v);
        while (exact && d < decimals && strtod(buf, NULL) != v)
            snprintf(buf, NUM_LEN, "%.*f", ++d, v);
    }
    char *point = strchr(buf, '.');
    if (point != NULL && strchr(buf, 'e') == NULL) {
        size_t n = strlen(buf);
        while (buf[n - 1] == '0')
            buf[--n] = '\0';
        if (buf[n - 1] == '.')
            buf[--n] = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, NUM_LEN, "0");
    point = strchr(buf, '.');
    if (french && point != NULL)
        *point = ',';
}

/* The same number for the English and the French message. */
struct number {
    char en[NUM_LEN];
    char fr[NUM_LEN];
};

/* A computed distance, to the millimetre. */
static struct number metres(double v)
{
    struct number n;
    format_number(n.en, v, 3, false, false);
    format_number(n.fr, v, 3, false, true);
    return n;
}

/* A distance the caller gave, as given (to the nanometre at most). */
static struct number given_metres(double v)
{
    struct number n;
    format_number(n.en, v, 9, true, false);
    format_number(n.fr, v, 9, true, true);
    return n;
}

static struct number degrees(double v)
{
    struct number n;
    format_number(n.en, v, 9, true, false);
    format_number(n.fr, v, 9, true, true);
    return n;
}

/* ISO 8601 (also readable in French); the raw fields when not a date. */
static void format_date(char *buf, struct vg_date d)
{
    snprintf(buf, DATE_LEN, "%04ld-%02u-%02u", (long)d.year, (unsigned)d.month, (unsigned)d.day);
}

/* ---- Reading the input ---------------------------------------------- */

static bool date_ok(struct vg_date d)
{
    return vg_date_check(d) == VG_OK;
}

static int64_t days_between(struct vg_date from, struct vg_date to)
{
    return vg_date_to_days(to) - vg_date_to_days(from);
}

static bool stage_ok(int stage)
{
    return stage == VG_STAGE_PROTECTION_ORDER || stage == VG_STAGE_PRE_SENTENCING ||
           stage == VG_STAGE_POST_SENTENCING;
}

static bool offence_ok(uint8_t offence)
{
    return offence == VG_OFFENCE_MISDEMEANOUR || offence == VG_OFFENCE_CRIME;
}

/* The periods may be read: a list is there and its length is believable. */
static bool periods_readable(const struct vg_measure *m)
{
    return m->periods != NULL && m->n_periods > 0 && m->n_periods <= VG_MEASURE_MAX_PERIODS;
}

static bool zones_readable(const struct vg_measure *m)
{
    return m->zones != NULL && m->n_zones > 0 && m->n_zones <= VG_MEASURE_MAX_ZONES;
}

/* A period whose days in force are known: two valid dates, start < end. */
static bool span_ok(const struct vg_measure_period *p)
{
    return date_ok(p->start) && date_ok(p->end) && vg_date_cmp(p->start, p->end) < 0;
}

/* A bool filled in by an outside layer may hold any byte; reading a byte
 * other than 0 or 1 through a bool is undefined behaviour. Only an exact
 * 1 counts as a consent given. */
static bool consent_given(const struct vg_consent *c)
{
    unsigned char raw;
    memcpy(&raw, &c->given, 1);
    return raw == 1;
}

static bool radius_in_range(double r)
{
    return r >= VG_ALERT_RADIUS_MIN_M && r <= VG_ALERT_RADIUS_MAX_M; /* false for NaN */
}

static const char *stage_name(uint8_t stage, bool french)
{
    switch (stage) {
    case VG_STAGE_PROTECTION_ORDER: return french ? "ordonnance de protection" : "protection order";
    case VG_STAGE_PRE_SENTENCING: return french ? "pré-sentenciel" : "pre-sentencing";
    case VG_STAGE_POST_SENTENCING: return french ? "post-sentenciel" : "post-sentencing";
    default: return french ? "inconnue" : "unknown";
    }
}

/* The persons, so that the per-person rules are written once. */
enum person { PROTECTED, AUTHOR };

static const char *person_en(enum person who)
{
    return who == PROTECTED ? "the protected person" : "the author";
}

static const char *person_fr(enum person who)
{
    return who == PROTECTED ? "la personne protégée" : "l'auteur";
}

static const char *person_de_fr(enum person who) /* "de la personne protégée" / "de l'auteur" */
{
    return who == PROTECTED ? "de la personne protégée" : "de l'auteur";
}

static const struct vg_consent *consent_of(const struct vg_measure_period *p, enum person who)
{
    return who == PROTECTED ? &p->protected_consent : &p->author_consent;
}

/* ---- The rules ------------------------------------------------------ */

static void check_alert_radius_range(struct report *r)
{
    double radius = r->m->alert_radius_m;
    if (radius_in_range(radius))
        return;
    struct vg_violation *v = report(r, VG_RULE_ALERT_RADIUS_RANGE, VG_SEVERITY_ERROR, -1);
    if (!v)
        return;
    struct number rs = given_metres(radius);
    if (!isfinite(radius)) {
        set_message(v->message, "alert distance R = %s is not a finite number (1 km <= R <= 10 km)",
                    rs.en);
        set_message(v->message_fr,
                    "la distance d'alerte R = %s n'est pas un nombre fini (1 km <= R <= 10 km)",
                    rs.fr);
    } else if (radius < VG_ALERT_RADIUS_MIN_M) {
        set_message(v->message,
                    "alert distance R = %s m is below the legal minimum of 1 km "
                    "(1 km <= R <= 10 km)",
                    rs.en);
        set_message(v->message_fr,
                    "la distance d'alerte R = %s m est inférieure au minimum légal de 1 km "
                    "(1 km <= R <= 10 km)",
                    rs.fr);
    } else {
        set_message(v->message,
                    "alert distance R = %s m is above the legal maximum of 10 km "
                    "(1 km <= R <= 10 km)",
                    rs.en);
        set_message(v->message_fr,
                    "la distance d'alerte R = %s m est supérieure au maximum légal de 10 km "
                    "(1 km <= R <= 10 km)",
                    rs.fr);
    }
}

static void check_prealert_not_double(struct report *r)
{
    double radius = r->m->alert_radius_m, prealert = r->m->prealert_radius_m;
    if (prealert == 0.0)
        return; /* derived */
    /* When R itself is unusable its own rule speaks; only a pre-alert that
     * is not even a number is worth a second word. */
    if (isfinite(prealert) && (!isfinite(radius) || prealert == vg_prealert_radius(radius)))
        return;
    struct vg_violation *v = report(r, VG_RULE_PREALERT_NOT_DOUBLE, VG_SEVERITY_ERROR, -1);
    if (!v)
        return;
    struct number ps = given_metres(prealert), ds = given_metres(vg_prealert_radius(radius));
    set_message(v->message,
                "pre-alert distance = %s m must be exactly twice the alert distance "
                "(2R = %s m), or 0 to derive it",
                ps.en, ds.en);
    set_message(v->message_fr,
                "la distance de pré-alerte = %s m doit être exactement le double de la distance "
                "d'alerte (2R = %s m), ou 0 pour la déduire",
                ps.fr, ds.fr);
}

static void check_home_invalid(struct report *r)
{
    for (int who = PROTECTED; who <= AUTHOR; who++) {
        struct vg_geo_point home = who == PROTECTED ? r->m->protected_home : r->m->author_home;
        if (vg_geo_point_check(home) == VG_OK)
            continue;
        struct vg_violation *v = report(r, VG_RULE_HOME_INVALID, VG_SEVERITY_ERROR, -1);
        if (!v)
            continue;
        struct number la = degrees(home.lat_deg), lo = degrees(home.lon_deg);
        set_message(v->message,
                    "the home of %s (%s, %s) is not a valid position "
                    "(latitude -90..90, longitude -180..180)",
                    person_en((enum person)who), la.en, lo.en);
        set_message(v->message_fr,
                    "le domicile %s (%s ; %s) n'est pas une position valide "
                    "(latitude -90..90, longitude -180..180)",
                    person_de_fr((enum person)who), la.fr, lo.fr);
    }
}

/* The distance between the homes, when R and both homes are usable. An
 * out-of-range but positive R is still compared: "800 m is too small" and
 * "the homes are within 800 m" are two useful facts. */
static bool homes_distance(const struct vg_measure *m, double *distance_m)
{
    double radius = m->alert_radius_m;
    if (!isfinite(radius) || radius <= 0.0)
        return false;
    /* Fails only for invalid points (their own rule) or nearly antipodal
     * homes, which are far enough apart. */
    return vg_geo_inverse(m->protected_home, m->author_home, distance_m, NULL) == VG_OK;
}

static void check_homes_within_alert(struct report *r)
{
    double d, radius = r->m->alert_radius_m;
    if (!homes_distance(r->m, &d) || d > radius)
        return;
    struct vg_violation *v = report(r, VG_RULE_HOMES_WITHIN_ALERT, VG_SEVERITY_ERROR, -1);
    if (!v)
        return;
    struct number ds = metres(d), rs = metres(radius);
    set_message(v->message,
                "the homes are %s m apart, not farther than the alert distance R = %s m: "
                "they must be more than R apart",
                ds.en, rs.en);
    set_message(v->message_fr,
                "les domiciles sont à %s m l'un de l'autre, pas au-delà de la distance d'alerte "
                "R = %s m : ils doivent être distants de plus de R",
                ds.fr, rs.fr);
}

static void check_homes_within_prealert(struct report *r)
{
    double d, radius = r->m->alert_radius_m;
    /* Within R is the error above; the warning covers R < d < 2R. */
    if (!homes_distance(r->m, &d) || d <= radius || d >= vg_prealert_radius(radius))
        return;
    struct vg_violation *v = report(r, VG_RULE_HOMES_WITHIN_PREALERT, VG_SEVERITY_WARNING, -1);
    if (!v)
        return;
    struct number ds = metres(d), ps = metres(vg_prealert_radius(radius));
    set_message(v->message,
                "the homes are %s m apart, within the pre-alert distance 2R = %s m: "
                "the author will raise pre-alerts from home",
                ds.en, ps.en);
    set_message(v->message_fr,
                "les domiciles sont à %s m l'un de l'autre, en deçà de la distance de pré-alerte "
                "2R = %s m : l'auteur déclenchera des pré-alertes depuis chez lui",
                ds.fr, ps.fr);
}

static void check_birth_date_invalid(struct report *r)
{
    for (int who = PROTECTED; who <= AUTHOR; who++) {
        struct vg_date birth = who == PROTECTED ? r->m->protected_birth : r->m->author_birth;
        if (date_ok(birth))
            continue;
        struct vg_violation *v = report(r, VG_RULE_BIRTH_DATE_INVALID, VG_SEVERITY_ERROR, -1);
        if (!v)
            continue;
        char bs[DATE_LEN];
        format_date(bs, birth);
        set_message(v->message, "the birth date of %s, %s, is not a valid date (years 1900..2200)",
                    person_en((enum person)who), bs);
        set_message(v->message_fr,
                    "la date de naissance %s, %s, n'est pas une date valide (années 1900 à 2200)",
                    person_de_fr((enum person)who), bs);
    }
}

/* Adult on every decision: one violation per person, at the first period
 * whose decision comes before the 18th birthday. */
static void check_adult(struct report *r, enum person who)
{
    const struct vg_measure *m = r->m;
    struct vg_date birth = who == PROTECTED ? m->protected_birth : m->author_birth;
    if (!date_ok(birth) || !periods_readable(m))
        return;
    struct vg_date adult = vg_date_anniversary(birth, VG_ADULT_AGE_YEARS);
    for (size_t i = 0; i < m->n_periods; i++) {
        struct vg_date decided = m->periods[i].decision_date;
        if (!date_ok(decided) || vg_date_cmp(adult, decided) <= 0)
            continue;
        enum vg_rule rule =
            who == PROTECTED ? VG_RULE_PROTECTED_NOT_ADULT : VG_RULE_AUTHOR_NOT_ADULT;
        struct vg_violation *v = report(r, rule, VG_SEVERITY_ERROR, (int)i);
        if (!v)
            return;
        char bs[DATE_LEN], ds[DATE_LEN], as[DATE_LEN];
        format_date(bs, birth);
        format_date(ds, decided);
        format_date(as, adult);
        set_message(v->message,
                    "%s (born %s) is not 18 on the decision of %s (period %zu), "
                    "only from %s: both persons must be adults",
                    person_en(who), bs, ds, i + 1, as);
        set_message(v->message_fr,
                    "%s (naissance le %s) n'a pas 18 ans à la décision du %s (période %zu), "
                    "seulement le %s : les deux personnes doivent être majeures",
                    person_fr(who), bs, ds, i + 1, as);
        return;
    }
}

static void check_protected_not_adult(struct report *r)
{
    check_adult(r, PROTECTED);
}

static void check_author_not_adult(struct report *r)
{
    check_adult(r, AUTHOR);
}

static void check_no_period(struct report *r)
{
    const struct vg_measure *m = r->m;
    if (m->n_periods > 0 && m->periods != NULL)
        return;
    struct vg_violation *v = report(r, VG_RULE_NO_PERIOD, VG_SEVERITY_ERROR, -1);
    if (!v)
        return;
    if (m->n_periods == 0) {
        set_message(v->message, "the measure has no period: at least one decision is needed");
        set_message(v->message_fr,
                    "la mesure ne comporte aucune période : il faut au moins une décision");
    } else {
        set_message(v->message, "%zu periods are announced but the list of periods is missing",
                    m->n_periods);
        set_message(v->message_fr, "%zu périodes sont annoncées mais leur liste est absente",
                    m->n_periods);
    }
}

static void check_too_many_periods(struct report *r)
{
    size_t n = r->m->n_periods;
    if (n <= VG_MEASURE_MAX_PERIODS)
        return;
    struct vg_violation *v = report(r, VG_RULE_TOO_MANY_PERIODS, VG_SEVERITY_ERROR, -1);
    if (!v)
        return;
    set_message(v->message, "%zu periods, more than the %d a measure may hold: none was checked", n,
                VG_MEASURE_MAX_PERIODS);
    set_message(v->message_fr,
                "%zu périodes, plus que les %d qu'une mesure peut contenir : aucune n'a été "
                "vérifiée",
                n, VG_MEASURE_MAX_PERIODS);
}

static void check_stage_invalid(struct report *r)
{
    const struct vg_measure *m = r->m;
    if (!periods_readable(m))
        return;
    for (size_t i = 0; i < m->n_periods; i++) {
        unsigned stage = m->periods[i].stage;
        if (stage_ok(m->periods[i].stage))
            continue;
        struct vg_violation *v = report(r, VG_RULE_STAGE_INVALID, VG_SEVERITY_ERROR, (int)i);
        if (!v)
            continue;
        set_message(v->message,
                    "period %zu: stage %u is unknown (1 protection order, 2 pre-sentencing, "
                    "3 post-sentencing)",
                    i + 1, stage);
        set_message(v->message_fr,
                    "période %zu : étape %u inconnue (1 ordonnance de protection, "
                    "2 pré-sentenciel, 3 post-sentenciel)",
                    i + 1, stage);
    }
}

static void report_bad_date(struct report *r, size_t i, struct vg_date d, const char *what_en,
                            const char *what_fr)
{
    struct vg_violation *v = report(r, VG_RULE_PERIOD_DATES_INVALID, VG_SEVERITY_ERROR, (int)i);
    if (!v)
        return;
    char ds[DATE_LEN];
    format_date(ds, d);
    set_message(v->message, "period %zu: the %s %s is not a valid date (years 1900..2200)", i + 1,
                what_en, ds);
    set_message(v->message_fr,
                "période %zu : la %s %s n'est pas une date valide (années 1900 à 2200)", i + 1,
                what_fr, ds);
}

static void check_period_dates_invalid(struct report *r)
{
    const struct vg_measure *m = r->m;
    if (!periods_readable(m))
        return;
    for (size_t i = 0; i < m->n_periods; i++) {
        const struct vg_measure_period *p = &m->periods[i];
        bool decision_valid = date_ok(p->decision_date);
        bool start_valid = date_ok(p->start), end_valid = date_ok(p->end);
        if (!decision_valid)
            report_bad_date(r, i, p->decision_date, "decision date", "date de décision");
        if (!start_valid)
            report_bad_date(r, i, p->start, "start date", "date de début");
        if (!end_valid)
            report_bad_date(r, i, p->end, "end date", "date de fin");
        char a[DATE_LEN], b[DATE_LEN];
        if (start_valid && end_valid && vg_date_cmp(p->start, p->end) >= 0) {
            struct vg_violation *v =
                report(r, VG_RULE_PERIOD_DATES_INVALID, VG_SEVERITY_ERROR, (int)i);
            if (v) {
                format_date(a, p->start);
                format_date(b, p->end);
                set_message(v->message,
                            "period %zu starts on %s but ends on %s (excluded): "
                            "the end must come after the start",
                            i + 1, a, b);
                set_message(v->message_fr,
                            "la période %zu commence le %s mais finit le %s (exclu) : "
                            "la fin doit suivre le début",
                            i + 1, a, b);
            }
        }
        if (decision_valid && start_valid && vg_date_cmp(p->decision_date, p->start) > 0) {
            struct vg_violation *v =
                report(r, VG_RULE_PERIOD_DATES_INVALID, VG_SEVERITY_ERROR, (int)i);
            if (v) {
                format_date(a, p->decision_date);
                format_date(b, p->start);
                set_message(v->message,
                            "period %zu is decided on %s, after its start on %s: "
                            "a period cannot start before its decision",
                            i + 1, a, b);
                set_message(v->message_fr,
                            "la période %zu est décidée le %s, après son début le %s : "
                            "elle ne peut commencer avant sa décision",
                            i + 1, a, b);
            }
        }
    }
}

static void check_period_too_long(struct report *r)
{
    const struct vg_measure *m = r->m;
    if (!periods_readable(m))
        return;
    for (size_t i = 0; i < m->n_periods; i++) {
        const struct vg_measure_period *p = &m->periods[i];
        if (!span_ok(p))
            continue;
        struct vg_date limit = vg_date_add_months(p->start, VG_PERIOD_MAX_MONTHS);
        if (vg_date_cmp(p->end, limit) <= 0)
            continue;
        struct vg_violation *v = report(r, VG_RULE_PERIOD_TOO_LONG, VG_SEVERITY_ERROR, (int)i);
        if (!v)
            continue;
        char s[DATE_LEN], e[DATE_LEN], l[DATE_LEN];
        format_date(s, p->start);
        format_date(e, p->end);
        format_date(l, limit);
        set_message(v->message,
                    "period %zu runs from %s to %s (excluded), more than 6 months: "
                    "it must end on %s at the latest",
                    i + 1, s, e, l);
        set_message(v->message_fr,
                    "la période %zu court du %s au %s (exclu), plus de 6 mois : "
                    "elle doit finir le %s au plus tard",
                    i + 1, s, e, l);
    }
}

static void check_periods_overlap(struct report *r)
{
    const struct vg_measure *m = r->m;
    if (!periods_readable(m))
        return;
    for (size_t i = 1; i < m->n_periods; i++) {
        const struct vg_measure_period *prev = &m->periods[i - 1], *p = &m->periods[i];
        if (!span_ok(prev) || !span_ok(p) || vg_date_cmp(p->start, prev->end) >= 0)
            continue;
        struct vg_violation *v = report(r, VG_RULE_PERIODS_OVERLAP, VG_SEVERITY_ERROR, (int)i);
        if (!v)
            continue;
        char s[DATE_LEN], e[DATE_LEN];
        format_date(s, p->start);
        format_date(e, prev->end);
        set_message(v->message,
                    "period %zu starts on %s, before period %zu ends on %s (excluded): "
                    "periods follow one another without overlap",
                    i + 1, s, i, e);
        set_message(v->message_fr,
                    "la période %zu commence le %s, avant la fin de la période %zu le %s (exclu) : "
                    "les périodes se suivent sans se chevaucher",
                    i + 1, s, i, e);
    }
}

static void check_stage_order(struct report *r)
{
    const struct vg_measure *m = r->m;
    if (!periods_readable(m))
        return;
    for (size_t i = 1; i < m->n_periods; i++) {
        uint8_t before = m->periods[i - 1].stage, stage = m->periods[i].stage;
        if (!stage_ok(before) || !stage_ok(stage) || stage >= before)
            continue;
        struct vg_violation *v = report(r, VG_RULE_STAGE_ORDER, VG_SEVERITY_ERROR, (int)i);
        if (!v)
            continue;
        set_message(v->message,
                    "period %zu (%s) follows period %zu (%s): stages go civil, then "
                    "pre-sentencing, then post-sentencing, never back",
                    i + 1, stage_name(stage, false), i, stage_name(before, false));
        set_message(v->message_fr,
                    "la période %zu (%s) suit la période %zu (%s) : les étapes vont du civil au "
                    "pré- puis au post-sentenciel, jamais en arrière",
                    i + 1, stage_name(stage, true), i, stage_name(before, true));
    }
}

/* The cumulative cap of a penal stage, in days from the stage's first
 * start: the law caps the duration in months ("deux ans", "quatre ans"),
 * and a duration of N months from a day is the days up to the same day N
 * months later. Each stage is counted on its own. */
struct stage_use {
    bool any;
    struct vg_date first_start; /* earliest start among the stage's periods */
    int64_t used_days;          /* sum of the durations of its periods */
};

static struct stage_use stage_use(const struct vg_measure *m, uint8_t stage)
{
    struct stage_use u = {false, {0, 0, 0}, 0};
    for (size_t i = 0; i < m->n_periods; i++) {
        const struct vg_measure_period *p = &m->periods[i];
        if (p->stage != stage || !span_ok(p))
            continue;
        if (!u.any || vg_date_cmp(p->start, u.first_start) < 0)
            u.first_start = p->start;
        u.any = true;
        u.used_days += days_between(p->start, p->end);
    }
    return u;
}

static int stage_cap_months(uint8_t stage, uint8_t offence)
{
    if (stage == VG_STAGE_PRE_SENTENCING)
        return VG_PRE_SENTENCING_MAX_MONTHS;
    if (stage == VG_STAGE_POST_SENTENCING && offence == VG_OFFENCE_MISDEMEANOUR)
        return VG_POST_SENTENCING_MISDEMEANOUR_MAX_MONTHS;
    if (stage == VG_STAGE_POST_SENTENCING && offence == VG_OFFENCE_CRIME)
        return VG_POST_SENTENCING_CRIME_MAX_MONTHS;
    return 0; /* civil (no cap), or no usable offence (its own rule) */
}

static void check_stage_cap(struct report *r, uint8_t stage, enum vg_rule rule)
{
    const struct vg_measure *m = r->m;
    if (!periods_readable(m))
        return;
    int months = stage_cap_months(stage, m->offence);
    struct stage_use u = stage_use(m, stage);
    if (months == 0 || !u.any)
        return;
    int64_t cap_days = days_between(u.first_start, vg_date_add_months(u.first_start, months));
    if (u.used_days <= cap_days)
        return;
    /* Point at the period during which the cap is passed. */
    int64_t sum = 0;
    size_t at = 0;
    for (size_t i = 0; i < m->n_periods; i++) {
        const struct vg_measure_period *p = &m->periods[i];
        if (p->stage != stage || !span_ok(p))
            continue;
        sum += days_between(p->start, p->end);
        if (sum > cap_days) {
            at = i;
            break;
        }
    }
    struct vg_violation *v = report(r, rule, VG_SEVERITY_ERROR, (int)at);
    if (!v)
        return;
    char fs[DATE_LEN];
    format_date(fs, u.first_start);
    long long used = (long long)u.used_days, cap = (long long)cap_days;
    if (stage == VG_STAGE_PRE_SENTENCING) {
        set_message(v->message,
                    "pre-sentencing periods total %lld days, over the 2-year cap of %lld days "
                    "from %s (passed in period %zu)",
                    used, cap, fs, at + 1);
        set_message(v->message_fr,
                    "les périodes pré-sentencielles totalisent %lld jours, au-delà du plafond de "
                    "2 ans (%lld jours) depuis le %s (dépassé en période %zu)",
                    used, cap, fs, at + 1);
    } else {
        bool crime = m->offence == VG_OFFENCE_CRIME;
        set_message(v->message,
                    "post-sentencing periods total %lld days, over the %d-year cap for a %s of "
                    "%lld days from %s (passed in period %zu)",
                    used, months / 12, crime ? "crime" : "misdemeanour", cap, fs, at + 1);
        set_message(v->message_fr,
                    "les périodes post-sentencielles totalisent %lld jours, au-delà du plafond de "
                    "%d ans pour un %s (%lld jours) depuis le %s (dépassé en période %zu)",
                    used, months / 12, crime ? "crime" : "délit", cap, fs, at + 1);
    }
}

static void check_pre_sentencing_cap(struct report *r)
{
    check_stage_cap(r, VG_STAGE_PRE_SENTENCING, VG_RULE_PRE_SENTENCING_CAP);
}

static void check_post_sentencing_cap(struct report *r)
{
    check_stage_cap(r, VG_STAGE_POST_SENTENCING, VG_RULE_POST_SENTENCING_CAP);
}

/* The first penal period, or -1. */
static int first_penal_period(const struct vg_measure *m)
{
    if (!periods_readable(m))
        return -1;
    for (size_t i = 0; i < m->n_periods; i++)
        if (m->periods[i].stage == VG_STAGE_PRE_SENTENCING ||
            m->periods[i].stage == VG_STAGE_POST_SENTENCING)
            return (int)i;
    return -1;
}

static void check_offence_missing(struct report *r)
{
    uint8_t offence = r->m->offence;
    int penal = first_penal_period(r->m);
    if (offence > VG_OFFENCE_CRIME) {
        /* Not a value of the enum: refused even in a civil measure. */
        struct vg_violation *v = report(r, VG_RULE_OFFENCE_MISSING, VG_SEVERITY_ERROR, penal);
        if (!v)
            return;
        set_message(v->message, "offence %u is not a known value (0 none, 1 misdemeanour, 2 crime)",
                    (unsigned)offence);
        set_message(v->message_fr, "infraction %u inconnue (0 aucune, 1 délit, 2 crime)",
                    (unsigned)offence);
        return;
    }
    if (penal < 0 || offence_ok(offence))
        return;
    struct vg_violation *v = report(r, VG_RULE_OFFENCE_MISSING, VG_SEVERITY_ERROR, penal);
    if (!v)
        return;
    uint8_t stage = r->m->periods[penal].stage;
    set_message(v->message,
                "period %d is penal (%s) but no offence is given: a misdemeanour or a crime "
                "is needed",
                penal + 1, stage_name(stage, false));
    set_message(v->message_fr,
                "la période %d est pénale (%s) mais aucune infraction n'est indiquée : "
                "il faut un délit ou un crime",
                penal + 1, stage_name(stage, true));
}

static void check_offence_penalty(struct report *r)
{
    unsigned years = r->m->offence_penalty_years;
    int penal = first_penal_period(r->m);
    if (penal < 0 || years >= VG_PENAL_MIN_PENALTY_YEARS)
        return;
    struct vg_violation *v = report(r, VG_RULE_OFFENCE_PENALTY, VG_SEVERITY_ERROR, penal);
    if (!v)
        return;
    set_message(v->message,
                "the offence is punishable by %u years' imprisonment, less than the 3 years "
                "a penal measure requires",
                years);
    set_message(v->message_fr,
                "l'infraction est punie de %u ans d'emprisonnement, moins que les 3 ans "
                "qu'exige une mesure pénale",
                years);
}

/* Whose consent a period needs: the protected person's always, the
 * author's in civil cases (in penal cases his refusal is a breach of his
 * obligations, not a flaw of the decision). */
static bool consent_needed(const struct vg_measure_period *p, enum person who)
{
    return who == PROTECTED || p->stage == VG_STAGE_PROTECTION_ORDER;
}

static void check_consent_missing(struct report *r, enum person who)
{
    const struct vg_measure *m = r->m;
    if (!periods_readable(m))
        return;
    enum vg_rule rule =
        who == PROTECTED ? VG_RULE_PROTECTED_CONSENT_MISSING : VG_RULE_AUTHOR_CONSENT_MISSING;
    for (size_t i = 0; i < m->n_periods; i++) {
        const struct vg_measure_period *p = &m->periods[i];
        if (!consent_needed(p, who) || consent_given(consent_of(p, who)))
            continue;
        struct vg_violation *v = report(r, rule, VG_SEVERITY_ERROR, (int)i);
        if (!v)
            continue;
        if (who == PROTECTED) {
            set_message(v->message,
                        "period %zu: the protected person's express consent is not recorded; "
                        "it is required for every decision",
                        i + 1);
            set_message(v->message_fr,
                        "période %zu : le consentement exprès de la personne protégée n'est pas "
                        "recueilli ; il est exigé pour chaque décision",
                        i + 1);
        } else {
            set_message(v->message,
                        "period %zu (civil): the author's consent is not recorded; "
                        "a protection order needs it",
                        i + 1);
            set_message(v->message_fr,
                        "période %zu (civile) : le consentement de l'auteur n'est pas recueilli ; "
                        "l'ordonnance de protection l'exige",
                        i + 1);
        }
    }
}

static void check_protected_consent_missing(struct report *r)
{
    check_consent_missing(r, PROTECTED);
}

static void check_author_consent_missing(struct report *r)
{
    check_consent_missing(r, AUTHOR);
}

static void check_consent_date_invalid(struct report *r)
{
    const struct vg_measure *m = r->m;
    if (!periods_readable(m))
        return;
    for (size_t i = 0; i < m->n_periods; i++) {
        const struct vg_measure_period *p = &m->periods[i];
        for (int w = PROTECTED; w <= AUTHOR; w++) {
            enum person who = (enum person)w;
            const struct vg_consent *c = consent_of(p, who);
            if (!consent_needed(p, who) || !consent_given(c))
                continue;
            bool valid = date_ok(c->date);
            if (valid &&
                (!date_ok(p->decision_date) || vg_date_cmp(c->date, p->decision_date) <= 0))
                continue;
            struct vg_violation *v =
                report(r, VG_RULE_CONSENT_DATE_INVALID, VG_SEVERITY_ERROR, (int)i);
            if (!v)
                continue;
            char cs[DATE_LEN], ds[DATE_LEN];
            format_date(cs, c->date);
            format_date(ds, p->decision_date);
            if (!valid) {
                set_message(v->message,
                            "period %zu: the date of the consent of %s, %s, is not a "
                            "valid date",
                            i + 1, person_en(who), cs);
                set_message(v->message_fr,
                            "période %zu : la date du consentement %s, %s, n'est pas une date "
                            "valide",
                            i + 1, person_de_fr(who), cs);
            } else {
                set_message(v->message,
                            "period %zu: the consent of %s is dated %s, after the decision of %s: "
                            "it must be given no later than the decision",
                            i + 1, person_en(who), cs, ds);
                set_message(v->message_fr,
                            "période %zu : le consentement %s est daté du %s, après la décision du "
                            "%s : il doit la précéder",
                            i + 1, person_de_fr(who), cs, ds);
            }
        }
    }
}

/* A civil renewal (a civil period right after a civil period) needs both
 * consents given again: dated after the previous decision. A consent that
 * is missing or undated is reported by its own rules. */
static void check_consent_not_renewed(struct report *r)
{
    const struct vg_measure *m = r->m;
    if (!periods_readable(m))
        return;
    for (size_t i = 1; i < m->n_periods; i++) {
        const struct vg_measure_period *prev = &m->periods[i - 1], *p = &m->periods[i];
        if (prev->stage != VG_STAGE_PROTECTION_ORDER || p->stage != VG_STAGE_PROTECTION_ORDER ||
            !date_ok(prev->decision_date))
            continue;
        for (int w = PROTECTED; w <= AUTHOR; w++) {
            enum person who = (enum person)w;
            const struct vg_consent *c = consent_of(p, who);
            if (!consent_given(c) || !date_ok(c->date) ||
                vg_date_cmp(c->date, prev->decision_date) > 0)
                continue;
            struct vg_violation *v =
                report(r, VG_RULE_CONSENT_NOT_RENEWED, VG_SEVERITY_ERROR, (int)i);
            if (!v)
                continue;
            char cs[DATE_LEN], ds[DATE_LEN];
            format_date(cs, c->date);
            format_date(ds, prev->decision_date);
            set_message(v->message,
                        "period %zu renews a civil measure, but the consent of %s (%s) is not "
                        "after the previous decision (%s): consents must be given again",
                        i + 1, person_en(who), cs, ds);
            set_message(v->message_fr,
                        "la période %zu renouvelle une mesure civile : le consentement %s (%s) "
                        "doit être réitéré après la décision précédente (%s)",
                        i + 1, person_de_fr(who), cs, ds);
        }
    }
}

static void check_too_many_zones(struct report *r)
{
    size_t n = r->m->n_zones;
    if (n <= VG_MEASURE_MAX_ZONES)
        return;
    struct vg_violation *v = report(r, VG_RULE_TOO_MANY_ZONES, VG_SEVERITY_ERROR, -1);
    if (!v)
        return;
    set_message(v->message,
                "%zu fixed zones, more than the %d a measure may hold: none was checked", n,
                VG_MEASURE_MAX_ZONES);
    set_message(v->message_fr,
                "%zu zones fixes, plus que les %d qu'une mesure peut contenir : aucune n'a été "
                "vérifiée",
                n, VG_MEASURE_MAX_ZONES);
}

/* Whether the zone is well-formed apart from its radius, which has its own
 * rule: a zone with R = 800 m is "out of range", not "malformed". */
static int zone_shape_check(const struct vg_zone *z)
{
    struct vg_zone copy = *z;
    if (!radius_in_range(copy.alert_radius_m))
        copy.alert_radius_m = VG_ALERT_RADIUS_MIN_M;
    return vg_zone_check(&copy);
}

static void check_zone_invalid(struct report *r)
{
    const struct vg_measure *m = r->m;
    if (m->n_zones > 0 && m->n_zones <= VG_MEASURE_MAX_ZONES && m->zones == NULL) {
        struct vg_violation *v = report(r, VG_RULE_ZONE_INVALID, VG_SEVERITY_ERROR, -1);
        if (!v)
            return;
        set_message(v->message, "%zu fixed zones are announced but the list of zones is missing",
                    m->n_zones);
        set_message(v->message_fr, "%zu zones fixes sont annoncées mais leur liste est absente",
                    m->n_zones);
        return;
    }
    if (!zones_readable(m))
        return;
    for (size_t i = 0; i < m->n_zones; i++) {
        const struct vg_zone *z = &m->zones[i];
        int rc = zone_shape_check(z);
        if (rc == VG_OK)
            continue;
        struct vg_violation *v = report(r, VG_RULE_ZONE_INVALID, VG_SEVERITY_ERROR, (int)i);
        if (!v)
            continue;
        set_message(v->message,
                    "fixed zone %zu (id %lu) is not well-formed (%s): build it from a valid "
                    "centre or outline",
                    i + 1, (unsigned long)z->id, vg_strerror(rc));
        set_message(v->message_fr,
                    "la zone fixe %zu (id %lu) est mal formée : elle doit partir d'un centre ou "
                    "d'un contour valide",
                    i + 1, (unsigned long)z->id);
    }
}

static void check_zone_radius_range(struct report *r)
{
    const struct vg_measure *m = r->m;
    if (!zones_readable(m))
        return;
    for (size_t i = 0; i < m->n_zones; i++) {
        const struct vg_zone *z = &m->zones[i];
        if (radius_in_range(z->alert_radius_m))
            continue;
        struct vg_violation *v = report(r, VG_RULE_ZONE_RADIUS_RANGE, VG_SEVERITY_ERROR, (int)i);
        if (!v)
            continue;
        struct number rs = given_metres(z->alert_radius_m);
        set_message(v->message,
                    "fixed zone %zu (id %lu): alert distance R = %s m is outside the legal range "
                    "1 km <= R <= 10 km",
                    i + 1, (unsigned long)z->id, rs.en);
        set_message(v->message_fr,
                    "zone fixe %zu (id %lu) : la distance d'alerte R = %s m est hors de "
                    "l'intervalle légal 1 km <= R <= 10 km",
                    i + 1, (unsigned long)z->id, rs.fr);
    }
}

static void check_author_home_in_zone(struct report *r)
{
    const struct vg_measure *m = r->m;
    if (!zones_readable(m) || vg_geo_point_check(m->author_home) != VG_OK)
        return;
    struct vg_geo_prepared home;
    vg_geo_prepare(&home, m->author_home);
    for (size_t i = 0; i < m->n_zones; i++) {
        const struct vg_zone *z = &m->zones[i];
        double radius = z->alert_radius_m;
        if (!radius_in_range(radius) || vg_zone_check(z) != VG_OK)
            continue;
        double d = vg_zone_distance(z, &home, radius);
        if (!(d <= radius))
            continue;
        struct vg_violation *v =
            report(r, VG_RULE_AUTHOR_HOME_IN_ZONE, VG_SEVERITY_WARNING, (int)i);
        if (!v)
            continue;
        struct number ds = metres(d), rs = metres(radius);
        set_message(v->message,
                    "the author's home is %s m from fixed zone %zu (id %lu), within its alert "
                    "distance R = %s m: he will be in alert at home",
                    ds.en, i + 1, (unsigned long)z->id, rs.en);
        set_message(v->message_fr,
                    "le domicile de l'auteur est à %s m de la zone fixe %zu (id %lu), dans sa "
                    "distance d'alerte R = %s m : il sera en alerte chez lui",
                    ds.fr, i + 1, (unsigned long)z->id, rs.fr);
    }
}

/* ---- The table of rules --------------------------------------------- */

struct rule_entry {
    const char *name;
    uint8_t severity;
    void (*check)(struct report *r);
};

/* Indexed by enum vg_rule. */
static const struct rule_entry rules[VG_RULE__COUNT] = {
    [VG_RULE_ALERT_RADIUS_RANGE] = {"alert_radius_range", VG_SEVERITY_ERROR,
                                    check_alert_radius_range},
    [VG_RULE_PREALERT_NOT_DOUBLE] = {"prealert_not_double", VG_SEVERITY_ERROR,
                                     check_prealert_not_double},
    [VG_RULE_HOME_INVALID] = {"home_invalid", VG_SEVERITY_ERROR, check_home_invalid},
    [VG_RULE_HOMES_WITHIN_ALERT] = {"homes_within_alert", VG_SEVERITY_ERROR,
                                    check_homes_within_alert},
    [VG_RULE_HOMES_WITHIN_PREALERT] = {"homes_within_prealert", VG_SEVERITY_WARNING,
                                       check_homes_within_prealert},
    [VG_RULE_BIRTH_DATE_INVALID] = {"birth_date_invalid", VG_SEVERITY_ERROR,
                                    check_birth_date_invalid},
    [VG_RULE_PROTECTED_NOT_ADULT] = {"protected_not_adult", VG_SEVERITY_ERROR,
                                     check_protected_not_adult},
    [VG_RULE_AUTHOR_NOT_ADULT] = {"author_not_adult", VG_SEVERITY_ERROR, check_author_not_adult},
    [VG_RULE_NO_PERIOD] = {"no_period", VG_SEVERITY_ERROR, check_no_period},
    [VG_RULE_TOO_MANY_PERIODS] = {"too_many_periods", VG_SEVERITY_ERROR, check_too_many_periods},
    [VG_RULE_STAGE_INVALID] = {"stage_invalid", VG_SEVERITY_ERROR, check_stage_invalid},
    [VG_RULE_PERIOD_DATES_INVALID] = {"period_dates_invalid", VG_SEVERITY_ERROR,
                                      check_period_dates_invalid},
    [VG_RULE_PERIOD_TOO_LONG] = {"period_too_long", VG_SEVERITY_ERROR, check_period_too_long},
    [VG_RULE_PERIODS_OVERLAP] = {"periods_overlap", VG_SEVERITY_ERROR, check_periods_overlap},
    [VG_RULE_STAGE_ORDER] = {"stage_order", VG_SEVERITY_ERROR, check_stage_order},
    [VG_RULE_PRE_SENTENCING_CAP] = {"pre_sentencing_cap", VG_SEVERITY_ERROR,
                                    check_pre_sentencing_cap},
    [VG_RULE_POST_SENTENCING_CAP] = {"post_sentencing_cap", VG_SEVERITY_ERROR,
                                     check_post_sentencing_cap},
    [VG_RULE_OFFENCE_MISSING] = {"offence_missing", VG_SEVERITY_ERROR, check_offence_missing},
    [VG_RULE_OFFENCE_PENALTY] = {"offence_penalty", VG_SEVERITY_ERROR, check_offence_penalty},
    [VG_RULE_PROTECTED_CONSENT_MISSING] = {"protected_consent_missing", VG_SEVERITY_ERROR,
                                           check_protected_consent_missing},
    [VG_RULE_AUTHOR_CONSENT_MISSING] = {"author_consent_missing", VG_SEVERITY_ERROR,
                                        check_author_consent_missing},
    [VG_RULE_CONSENT_DATE_INVALID] = {"consent_date_invalid", VG_SEVERITY_ERROR,
                                      check_consent_date_invalid},
    [VG_RULE_CONSENT_NOT_RENEWED] = {"consent_not_renewed", VG_SEVERITY_ERROR,
                                     check_consent_not_renewed},
    [VG_RULE_TOO_MANY_ZONES] = {"too_many_zones", VG_SEVERITY_ERROR, check_too_many_zones},
    [VG_RULE_ZONE_INVALID] = {"zone_invalid", VG_SEVERITY_ERROR, check_zone_invalid},
    [VG_RULE_ZONE_RADIUS_RANGE] = {"zone_radius_range", VG_SEVERITY_ERROR, check_zone_radius_range},
    [VG_RULE_AUTHOR_HOME_IN_ZONE] = {"author_home_in_zone", VG_SEVERITY_WARNING,
                                     check_author_home_in_zone},
};

/* ---- Public functions ----------------------------------------------- */

int vg_measure_validate(const struct vg_measure *m, struct vg_violation *out, size_t cap,
                        size_t *n_found)
{
    if (m == NULL || n_found == NULL)
        return VG_EINVAL;
    struct report r = {m, out, out != NULL ? cap : 0, 0, false};
    static const uint8_t passes[] = {VG_SEVERITY_ERROR, VG_SEVERITY_WARNING};
    for (size_t pass = 0; pass < sizeof passes; pass++)
        for (int rule = 1; rule < VG_RULE__COUNT; rule++)
            if (rules[rule].severity == passes[pass])
                rules[rule].check(&r);
    *n_found = r.n;
    return r.error ? VG_EINVAL : VG_OK;
}

const char *vg_rule_name(enum vg_rule rule)
{
    if ((int)rule < 1 || (int)rule >= VG_RULE__COUNT)
        return NULL;
    return rules[rule].name;
}

enum vg_framework vg_stage_framework(enum vg_stage stage)
{
    switch (stage) {
    case VG_STAGE_PROTECTION_ORDER: return VG_FRAMEWORK_CIVIL;
    case VG_STAGE_PRE_SENTENCING:
    case VG_STAGE_POST_SENTENCING: return VG_FRAMEWORK_PENAL;
    default: return (enum vg_framework)0;
    }
}

double vg_prealert_radius(double alert_radius_m)
{
    return 2.0 * alert_radius_m;
}

int vg_measure_max_end(const struct vg_measure *m, enum vg_stage stage, struct vg_date start,
                       struct vg_date *max_end)
{
    if (m == NULL || max_end == NULL || !stage_ok((int)stage) || !date_ok(start))
        return VG_EINVAL;
    if (m->n_periods > VG_MEASURE_MAX_PERIODS || (m->n_periods > 0 && m->periods == NULL))
        return VG_EINVAL;
    /* Over-offering would be worse than refusing: the days already used
     * must all be known. */
    for (size_t i = 0; i < m->n_periods; i++)
        if (!stage_ok(m->periods[i].stage) || !span_ok(&m->periods[i]))
            return VG_EINVAL;
    int months = stage_cap_months((uint8_t)stage, m->offence);
    if (stage == VG_STAGE_POST_SENTENCING && months == 0)
        return VG_EINVAL;

    struct vg_date limit = vg_date_add_months(start, VG_PERIOD_MAX_MONTHS);
    if (months > 0) {
        struct stage_use u = stage_use(m, (uint8_t)stage);
        struct vg_date first = start;
        if (u.any && vg_date_cmp(u.first_start, start) < 0)
            first = u.first_start;
        int64_t remaining = days_between(first, vg_date_add_months(first, months)) - u.used_days;
        if (remaining <= 0)
            return VG_ERANGE;
        int64_t by_cap = vg_date_to_days(start) + remaining;
        if (by_cap < vg_date_to_days(limit))
            limit = vg_date_from_days(by_cap);
    }
    if (!date_ok(limit))
        return VG_ERANGE; /* beyond the calendar this system accepts */
    *max_end = limit;
    return VG_OK;
}

int vg_measure_period_at(const struct vg_measure *m, struct vg_date day)
{
    if (m == NULL || !periods_readable(m) || !date_ok(day))
        return -1;
    for (size_t i = 0; i < m->n_periods; i++) {
        const struct vg_measure_period *p = &m->periods[i];
        if (span_ok(p) && vg_date_cmp(p->start, day) <= 0 && vg_date_cmp(day, p->end) < 0)
            return (int)i;
    }
    return -1;
}
