/* vigie measure: measures as case files through vigied's API (docs/API.md,
 * "Measures").
 *
 *   vigie measure create FILE|-                          declare (JSON definition with its
 * decision) vigie measure list [--json] vigie measure show ID [--json]                       the
 * file: status, checklist, decision vigie measure versions ID [--json] vigie measure update ID
 * FILE|- --based-on N --note TEXT     a new version (revision, renewal) vigie measure
 * suspend|resume|lift|revoke ID --based-on N --note TEXT
 *
 * Common: --http HOST:PORT (127.0.0.1:8080), --token-file F (./var/admin.token),
 * --data-dir D (the token is D/admin.token). */
#include "tools/vigie_measure.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tools/vigie_http.h"
#include "tools/vigie_import.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define MAX_DEFINITION (256 * 1024)

struct opts {
    char http[128];
    char token_file[600];
    const char *args[2];
    int n_args;
    long long based_on;
    const char *note;
    const char *from, *to, *radius; /* activity */
    bool json;
};

static void usage(FILE *out)
{
    fputs("usage: vigie measure create FILE|-\n"
          "       vigie measure list [--json]\n"
          "       vigie measure show ID [--json]\n"
          "       vigie measure versions ID [--json]\n"
          "       vigie measure update ID FILE|- --based-on N --note TEXT\n"
          "       vigie measure suspend|resume|lift|revoke ID --based-on N --note TEXT\n"
          "       vigie measure export ID            (its whole file as JSON, on stdout)\n"
          "       vigie measure activity ID [--from YYYY-MM-DD --to YYYY-MM-DD] [--radius M] "
          "[--json]\n"
          "       vigie measure import FILE|- [--data-dir D] [--db LOCATION] [--source NAME]\n"
          "options: --http HOST:PORT, --token-file F | --data-dir D\n\n"
          "A measure's definition is JSON: name, court, alert_radius_m, units, persons, zones\n"
          "and the judicial decision (docs/API.md, \"Measures\"). It starts pending\n"
          "installation and becomes active once its units report. update makes a new\n"
          "version (a revision of R or of the zones, a renewal adding a period); the others\n"
          "move it through its life. Each is refused if the measure moved on since version N.\n"
          "activity: the alarms, rings, nights disturbed and signal losses of a period (local\n"
          "days; the last 30 by default), the engine replayed on the units' records, and with\n"
          "--radius the same records replayed with that R (1000 to 10000 m).\n",
          out);
}

static int parse(int argc, char **argv, struct opts *o, const char *where)
{
    snprintf(o->http, sizeof o->http, "127.0.0.1:8080");
    snprintf(o->token_file, sizeof o->token_file, "./var/admin.token");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        } else if (vigie_api_option(argc, argv, &i, o->http, sizeof o->http, o->token_file,
                                    sizeof o->token_file)) {
            continue;
        } else if (has_value && strcmp(a, "--based-on") == 0) {
            if (vigie_number(argv[++i], &o->based_on) != 0) {
                fprintf(stderr, "%s: --based-on wants a version number from 1\n", where);
                return EXIT_USAGE;
            }
        } else if (has_value && strcmp(a, "--note") == 0) {
            o->note = argv[++i];
        } else if (has_value && strcmp(a, "--from") == 0) {
            o->from = argv[++i];
        } else if (has_value && strcmp(a, "--to") == 0) {
            o->to = argv[++i];
        } else if (has_value && strcmp(a, "--radius") == 0) {
            o->radius = argv[++i];
        } else if (a[0] == '-' && strcmp(a, "-") != 0) {
            fprintf(stderr, "%s: unknown option or missing value: %s (try: vigie measure --help)\n",
                    where, a);
            return EXIT_USAGE;
        } else if (o->n_args < 2) {
            o->args[o->n_args++] = a;
        } else {
            fprintf(stderr, "%s: too many arguments\n", where);
            return EXIT_USAGE;
        }
    }
    return 0;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long num(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void print_list(json_t *doc)
{
    printf("%-6s %-20s %-22s %3s %7s %5s %-16s %-16s %-9s %s\n", "ID", "NAME", "STATUS", "V",
           "R (m)", "ZONES", "AUTHOR", "PROTECTED", "MOBILE", "ALARMS");
    size_t i;
    json_t *m;
    json_array_foreach(doc, i, m)
    {
        json_t *units = json_object_get(m, "units"), *conn = json_object_get(m, "connected");
        char a[40], p[40];
        snprintf(a, sizeof a, "%s%s", str(units, "author"),
                 json_is_true(json_object_get(conn, "author")) ? " *" : "");
        snprintf(p, sizeof p, "%s%s", str(units, "protected"),
                 json_is_true(json_object_get(conn, "protected")) ? " *" : "");
        printf("%-6lld %-20s %-22s %3lld %7.0f %5lld %-16s %-16s %-9s %lld\n", num(m, "id"),
               str(m, "name"), str(m, "status"), num(m, "version"),
               json_number_value(json_object_get(m, "alert_radius_m")), num(m, "zones"), a, p,
               str(m, "mobile_zone"), num(m, "alarms"));
    }
    printf("(* connected)\n");
}

static void checklist_line(json_t *inst, const char *key, const char *label)
{
    json_t *v = json_object_get(inst, key);
    char t[32] = "not yet";
    if (json_is_integer(v))
        vigie_when(json_integer_value(v), t, sizeof t);
    printf("  [%c] %-32s %s\n", json_is_integer(v) ? 'x' : ' ', label, t);
}

static void print_file(json_t *m)
{
    json_t *def = json_object_get(m, "definition");
    json_t *dec = json_object_get(def, "decision");
    json_t *units = json_object_get(m, "units"), *conn = json_object_get(m, "connected");
    printf("measure %lld  %s  (version %lld)\n", num(m, "id"), str(m, "name"), num(m, "version"));
    printf("status:      %s%s%s\n", str(m, "status"), str(m, "end_reason")[0] ? ", " : "",
           str(m, "end_reason"));
    printf("alarms:      %s raised (%s)\n", str(m, "raising"),
           json_is_true(json_object_get(m, "in_force")) ? "in force" : "not in force");
    printf("court:       %s\nmagistrate:  %s\n", str(m, "court"), str(m, "magistrate"));
    printf("distance:    R %.0f m, pre-alert %.0f m; %lld fixed zone(s)\n",
           json_number_value(json_object_get(m, "alert_radius_m")),
           2 * json_number_value(json_object_get(m, "alert_radius_m")), num(m, "zones"));
    printf("units:       author %s%s, protected %s%s", str(units, "author"),
           json_is_true(json_object_get(conn, "author")) ? " (connected)" : "",
           str(units, "protected"),
           json_is_true(json_object_get(conn, "protected")) ? " (connected)" : "");
    const char *bracelet = str(json_object_get(def, "units"), "bracelet");
    printf("%s%s\n", bracelet[0] ? ", bracelet " : "", bracelet);
    json_t *inst = json_object_get(m, "installation");
    printf("installation (%s):\n",
           json_is_true(json_object_get(inst, "complete")) ? "complete" : "in progress");
    checklist_line(inst, "author_fix", "first fix of the author's unit");
    checklist_line(inst, "protected_fix", "first fix of her unit");
    if (json_is_true(json_object_get(inst, "bracelet"))) {
        checklist_line(inst, "pairing", "bracelet paired");
        checklist_line(inst, "strap", "bracelet's strap closed");
    }
    if (dec) {
        printf("decision:    %s", str(dec, "offence")[0] ? str(dec, "offence") : "civil");
        if (json_is_integer(json_object_get(dec, "offence_penalty_years")))
            printf(", punishable by %lld years", num(dec, "offence_penalty_years"));
        printf("\n");
        printf("  %-18s %-11s %-11s %-11s %s\n", "STAGE", "DECIDED", "FROM", "TO (excl.)",
               "CONSENTS (her / his)");
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(dec, "periods"), i, p)
        {
            json_t *c = json_object_get(p, "consents");
            printf("  %-18s %-11s %-11s %-11s %s / %s\n", str(p, "stage"), str(p, "decision_date"),
                   str(p, "start"), str(p, "end"),
                   str(c, "protected")[0] ? str(c, "protected") : "-",
                   str(c, "author")[0] ? str(c, "author") : "-");
        }
    }
}

static void print_versions(json_t *doc)
{
    printf("%-7s %-22s %-9s %-20s %-22s %s\n", "VERSION", "STATUS", "R (m)", "WHEN (UTC)", "BY",
           "NOTE");
    size_t i;
    json_t *v;
    json_array_foreach(doc, i, v)
    {
        char t[32];
        vigie_when(num(v, "created_ms"), t, sizeof t);
        char status[40];
        snprintf(status, sizeof status, "%s%s%s", str(v, "status"),
                 str(v, "end_reason")[0] ? "/" : "", str(v, "end_reason"));
        printf(
            "%-7lld %-22s %-9.0f %-20s %-22s %s\n", num(v, "version"), status,
            json_number_value(json_object_get(json_object_get(v, "definition"), "alert_radius_m")),
            t, str(v, "actor"), str(v, "note"));
    }
}

static void print_warnings(json_t *doc)
{
    json_t *w = json_object_get(doc, "warnings");
    if (json_array_size(w)) {
        printf("warnings:\n");
        vigie_print_violations(stdout, w);
    }
}

/* The body of a change: {"based_on", "note"[, "definition"]}. */
static char *change_body(const struct opts *o, const char *definition, const char *where)
{
    json_t *def = NULL;
    if (definition) {
        json_error_t e;
        def = json_loads(definition, JSON_REJECT_DUPLICATES, &e);
        if (!json_is_object(def)) {
            fprintf(stderr, "%s: the definition is not a JSON object: %s (line %d)\n", where,
                    e.text, e.line);
            json_decref(def);
            return NULL;
        }
    }
    json_t *b = json_pack("{s:I,s:s}", "based_on", (json_int_t)o->based_on, "note", o->note);
    if (b && def)
        json_object_set_new(b, "definition", def);
    char *text = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    return text;
}

/* One line of the activity's table: the replay, and the other R's. */
static void activity_line(const char *label, json_t *a, json_t *b, const char *key, const char *sub,
                          int decimals)
{
    char cells[2][32] = {"", ""};
    json_t *docs[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(docs[k], key);
        if (sub)
            v = json_object_get(v, sub);
        if (docs[k] && v)
            snprintf(cells[k], sizeof cells[k], "%.*f", decimals, json_number_value(v));
    }
    printf("%-28s %12s %12s\n", label, cells[0], cells[1]);
}

static int show_activity(const struct opts *o, long long id, const char *where)
{
    char path[200];
    int n = snprintf(path, sizeof path, "/api/v1/measures/%lld/activity?", id);
    for (int k = 0; k < 3; k++) {
        const char *v = k == 0 ? o->from : k == 1 ? o->to : o->radius;
        const char *name = k == 0 ? "from" : k == 1 ? "to" : "radius_m";
        if (!v)
            continue;
        for (const char *p = v; *p; p++)
            if (!((*p >= '0' && *p <= '9') || *p == '-')) {
                fprintf(stderr, "%s: --%s: digits and '-' only\n", where, k == 2 ? "radius" : name);
                return EXIT_USAGE;
            }
        n += snprintf(path + n, sizeof path - (size_t)n, "%s=%s&", name, v);
    }
    path[n - 1] = '\0'; /* the last '&' or the '?' */
    json_t *doc = NULL;
    int rc = vigie_api_call(o->http, o->token_file, o->json, "GET", path, NULL, 200, &doc, where);
    if (rc != 0 || !doc)
        return rc;
    json_t *a = json_object_get(doc, "replayed"), *b = json_object_get(doc, "what_if");
    if (!json_is_object(b))
        b = NULL;
    json_t *rec = json_object_get(doc, "recorded");
    printf("measure %s: %.1f days (%s)\n", str(doc, "measure"),
           json_number_value(json_object_get(doc, "days")), str(doc, "timezone"));
    char ra[32], rb[32] = "";
    snprintf(ra, sizeof ra, "R %.0f m", json_number_value(json_object_get(a, "radius_m")));
    if (b)
        snprintf(rb, sizeof rb, "R %.0f m", json_number_value(json_object_get(b, "radius_m")));
    printf("%-28s %12s %12s\n", "replayed on the records", ra, rb);
    activity_line("operator's alerts", a, b, "operator_alerts", NULL, 0);
    activity_line("  per day", a, b, "operator_alerts_per_day", NULL, 2);
    activity_line("rings, pre-alert", a, b, "rings", "prealert", 0);
    activity_line("rings, alert", a, b, "rings", "alert", 0);
    activity_line("nights disturbed", a, b, "nights_disturbed", NULL, 0);
    activity_line("signal lost, author (s)", a, b, "signal_loss_s", "author", 0);
    activity_line("signal lost, protected (s)", a, b, "signal_loss_s", "protected", 0);
    activity_line("battery incidents", a, b, "battery_incidents", NULL, 0);
    json_t *take = json_object_get(rec, "time_to_take_median_s");
    printf("recorded: %lld incident(s), median time to take %s", num(rec, "incidents"),
           json_is_number(take) ? "" : "-");
    if (json_is_number(take))
        printf("%.0f s", json_number_value(take));
    printf("\n");
    json_decref(doc);
    return EXIT_OK;
}

int vigie_measure_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "import") == 0)
        return vigie_measure_import(argc - 1, argv + 1);
    static const char *const actions[] = {"suspend", "resume", "lift", "revoke"};
    bool action = false;
    for (size_t i = 0; i < 4; i++)
        action = action || strcmp(cmd, actions[i]) == 0;
    bool create = strcmp(cmd, "create") == 0, list = strcmp(cmd, "list") == 0;
    bool show = strcmp(cmd, "show") == 0, versions = strcmp(cmd, "versions") == 0;
    bool update = strcmp(cmd, "update") == 0, export = strcmp(cmd, "export") == 0;
    bool activity = strcmp(cmd, "activity") == 0;
    if (!create && !list && !show && !versions && !update && !action && !export && !activity) {
        fprintf(stderr, "vigie measure: unknown command '%s' (try: vigie measure --help)\n", cmd);
        return EXIT_USAGE;
    }
    char where[64];
    snprintf(where, sizeof where, "vigie measure %s", cmd);
    struct opts o = {0};
    int rc = parse(argc - 1, argv + 1, &o, where);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    int want_args = list ? 0 : update ? 2 : 1;
    if (o.n_args != want_args) {
        fprintf(stderr, "%s: %s\n", where,
                create   ? "give the definition's file (or - for standard input)"
                : list   ? "no argument"
                : update ? "give the measure's id and the new definition's file"
                         : "give the measure's id");
        return EXIT_USAGE;
    }
    long long id = 0;
    if (!create && !list && vigie_number(o.args[0], &id) != 0) {
        fprintf(stderr, "%s: '%s' is not a measure's id\n", where, o.args[0]);
        return EXIT_USAGE;
    }
    if ((update || action) && (!o.based_on || !o.note || !o.note[0])) {
        fprintf(stderr,
                "%s: --based-on N (the version you read) and --note TEXT (why: the "
                "decision's reference) are required\n",
                where);
        return EXIT_USAGE;
    }
    if ((o.from || o.to || o.radius) && !activity) {
        fprintf(stderr, "%s: --from, --to and --radius are activity's\n", where);
        return EXIT_USAGE;
    }
    if (activity)
        return show_activity(&o, id, where);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/measures/%lld%s%s", id, versions || action ? "/" : "",
             versions ? "versions"
             : action ? cmd
                      : "");
    json_t *doc = NULL;
    if (list || show || versions) {
        rc = vigie_api_call(o.http, o.token_file, o.json, "GET", list ? "/api/v1/measures" : path,
                            NULL, 200, &doc, where);
        if (rc == 0 && doc)
            (list ? print_list : show ? print_file : print_versions)(doc);
        json_decref(doc);
        return rc;
    }
    char *definition = NULL;
    if (create || update) {
        definition = vigie_read_file(o.args[create ? 0 : 1], MAX_DEFINITION, where);
        if (!definition)
            return EXIT_FAIL;
    }
    char *payload = create ? definition : change_body(&o, definition, where);
    if (!payload) {
        free(definition);
        return EXIT_FAIL;
    }
    rc = vigie_api_call(o.http, o.token_file, o.json,
                        create   ? "POST"
                        : update ? "PUT"
                                 : "POST",
                        create ? "/api/v1/measures" : path, payload, create ? 201 : 200, &doc,
                        where);
    if (payload != definition)
        free(payload);
    free(definition);
    if (rc == 0 && doc) {
        if (create)
            printf("measure created: id %lld, pending installation\n", num(doc, "id"));
        else
            printf("measure %lld: version %lld\n", id, num(doc, "version"));
        print_warnings(doc);
    }
    json_decref(doc);
    return rc;
}
