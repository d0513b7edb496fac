/* vigie incident, vigie floor: the operators' incidents through vigied's API
 * (docs/API.md, "Incidents" and "GET /api/v1/floor"), as the user logged in
 * with vigie login.
 *
 *   vigie incident list [--json]                      the queue, most urgent first
 *   vigie incident show ID [--json]                   one incident
 *   vigie incident take ID [--for OPERATOR]           take it (a supervisor: give it)
 *   vigie incident step ID STEP [OUTCOME] [--text T]  a step of the protocol
 *   vigie incident note ID TEXT                       a note (the step "note")
 *   vigie incident close ID --summary TEXT
 *   vigie floor [--hours N] [--json]                  the floor view
 *
 * Common: --http HOST:PORT (default: the session's), --session F (vigie
 * login's file), or --token-file F | --data-dir D to use the administrator
 * token instead (whose role handles no incident: 403). */
#include "tools/vigie_incident.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tools/vigie_http.h"
#include "tools/vigie_session.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct iopts {
    char http[128];
    bool http_given;
    char token_file[600];
    bool use_token;
    const char *session;
    const char *args[3];
    size_t n_args;
    const char *for_operator, *text, *summary, *hours, *out;
    bool json;
};

static void incident_usage(FILE *out)
{
    fputs(
        "usage: vigie incident list [--json]\n"
        "       vigie incident show ID [--json]\n"
        "       vigie incident take ID [--for OPERATOR] [--json]\n"
        "       vigie incident step ID STEP [OUTCOME] [--text TEXT] [--json]\n"
        "       vigie incident note ID TEXT [--json]\n"
        "       vigie incident close ID --summary TEXT [--json]\n"
        "       vigie incident report ID [--for RECIPIENT] [--out FILE]\n"
        "options: --http HOST:PORT, --session F (vigie login), or --token-file F | --data-dir D\n\n"
        "list is the queue of incidents in progress, the most urgent first, then the oldest.\n"
        "take gives you the incident (one operator at a time); a supervisor gives it to\n"
        "someone with --for. The steps and their outcomes:\n"
        "  author_called     reached, not_reached, complied, refused\n"
        "  protected_called  reached, not_reached, guided\n"
        "  police_alerted    (their reference in --text)\n"
        "  magistrate_informed\n"
        "  note              (note ID TEXT)\n"
        "report draws a closed incident's report as a PDF for a recipient: magistrate (the\n"
        "default), prosecutor, probation or victim_support (default file:\n"
        "incident-ID-RECIPIENT.pdf); check a copy with vigie journal verify --report FILE.\n"
        "close needs a summary: what happened and what was done. Every action is journaled\n"
        "with your name. Log in first: vigie login NAME --password-stdin.\n",
        out);
}

static void floor_usage(FILE *out)
{
    fputs(
        "usage: vigie floor [--hours N] [--json]\n"
        "options: --http HOST:PORT, --session F (vigie login), or --token-file F | --data-dir D\n\n"
        "The floor view (operators and supervisors): the incidents waiting and in hand by\n"
        "priority, the oldest waiting, the incidents escalated or late on their timers, the\n"
        "response times of the incidents opened in the last N hours (default 24, at most\n"
        "744) - time to take, time to first step - the incidents closed, and what each\n"
        "operator holds and has closed (an operator sees his own line).\n",
        out);
}

/* -1 after --help, EXIT_USAGE, or 0. */
static int parse(int argc, char **argv, struct iopts *o, size_t max_args, void (*usage)(FILE *),
                 const char *where)
{
    snprintf(o->http, sizeof o->http, "127.0.0.1:8080");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        } else if (has_value && strcmp(a, "--session") == 0) {
            o->session = argv[++i];
        } else if (has_value && (strcmp(a, "--token-file") == 0 || strcmp(a, "--data-dir") == 0 ||
                                 strcmp(a, "--http") == 0)) {
            o->use_token = o->use_token || strcmp(a, "--http") != 0;
            o->http_given = o->http_given || strcmp(a, "--http") == 0;
            vigie_api_option(argc, argv, &i, o->http, sizeof o->http, o->token_file,
                             sizeof o->token_file);
        } else if (has_value && strcmp(a, "--for") == 0) {
            o->for_operator = argv[++i];
        } else if (has_value && strcmp(a, "--text") == 0) {
            o->text = argv[++i];
        } else if (has_value && strcmp(a, "--summary") == 0) {
            o->summary = argv[++i];
        } else if (has_value && strcmp(a, "--hours") == 0) {
            o->hours = argv[++i];
        } else if (has_value && strcmp(a, "--out") == 0) {
            o->out = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "%s: unknown option or missing value: %s (try: %s --help)\n", where, a,
                    strncmp(where, "vigie floor", 11) == 0 ? "vigie floor" : "vigie incident");
            return EXIT_USAGE;
        } else if (o->n_args < max_args && o->n_args < sizeof o->args / sizeof o->args[0]) {
            o->args[o->n_args++] = a;
        } else {
            fprintf(stderr, "%s: too many arguments\n", where);
            return EXIT_USAGE;
        }
    }
    if (o->use_token && o->session) {
        fprintf(stderr, "%s: --session or the administrator token, not both\n", where);
        return EXIT_USAGE;
    }
    return 0;
}

/* Whom to ask as: the token, or the session file (its address unless
 * --http). 0, or 1 after a message. */
static int credentials(struct iopts *o, struct vigie_session *s, struct vigie_credentials *cr,
                       const char *where)
{
    memset(cr, 0, sizeof *cr);
    if (o->use_token) {
        cr->token_file = o->token_file;
        return 0;
    }
    char path[4096];
    vigie_session_path(o->session, path, sizeof path);
    if (vigie_session_load(path, s, where) != EXIT_OK)
        return EXIT_FAIL;
    cr->cookie = s->cookie;
    cr->csrf = s->csrf;
    if (!o->http_given && s->http[0])
        snprintf(o->http, sizeof o->http, "%s", s->http);
    return 0;
}

/* One call expecting 200: 0 with *doc (NULL when --json printed it), or 1
 * after the API's message (and a hint when the session has ended). */
static int call(const struct iopts *o, const struct vigie_credentials *cr, const char *method,
                const char *path, json_t *payload, json_t **doc, const char *where)
{
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (payload && !text) {
        fprintf(stderr, "%s: out of memory\n", where);
        return EXIT_FAIL;
    }
    int status = 0;
    char *body = NULL;
    int rc = vigie_http_send(o->http, cr, method, path, text, &status, &body, NULL, where);
    free(text);
    if (rc)
        return rc;
    if (status != 200) {
        rc = vigie_api_error(where, status, body);
        if (status == 401 && !cr->token_file)
            fprintf(stderr, "%s: the session has ended: vigie login NAME --password-stdin\n",
                    where);
        free(body);
        return rc;
    }
    *doc = NULL;
    if (o->json)
        fputs(body, stdout);
    else
        *doc = json_loads(body, 0, NULL);
    free(body);
    if (!o->json && !*doc) {
        fprintf(stderr, "%s: vigied's answer is not JSON\n", where);
        return EXIT_FAIL;
    }
    return EXIT_OK;
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

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 850ms, 5.5s, 45s, 3m05s, 2h10m, 3d04h. */
static void duration(long long ms, char *out, size_t cap)
{
    if (ms < 0)
        ms = 0;
    long long s = ms / 1000;
    if (ms < 1000)
        snprintf(out, cap, "%lldms", ms);
    else if (ms < 10000)
        snprintf(out, cap, "%lld.%llds", s, ms % 1000 / 100);
    else if (s < 60)
        snprintf(out, cap, "%llds", s);
    else if (s < 3600)
        snprintf(out, cap, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, cap, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(out, cap, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

static const char *priority_name(long long p)
{
    static const char *const names[] = {"?",         "alert/SOS", "neutralisation",
                                        "pre-alert", "technical", "information"};
    return p >= 1 && p <= 5 ? names[p] : names[0];
}

/* ---- vigie incident ------------------------------------------------------------------------- */

static void print_queue(json_t *queue)
{
    if (json_array_size(queue) == 0) {
        printf("no incident in progress\n");
        return;
    }
    printf("%-6s %-3s %-6s %-20s %-22s %-8s %-16s %5s %s\n", "ID", "PRI", "STATE", "MEASURE",
           "FIRST ALARM", "AGE", "OPERATOR", "STEPS", "ESCALATION");
    long long now = now_ms();
    size_t i;
    json_t *x;
    json_array_foreach(queue, i, x)
    {
        char age[24];
        duration(now - num(x, "opened_ms"), age, sizeof age);
        printf("%-6lld %-3lld %-6s %-20s %-22s %-8s %-16s %5lld %s\n", num(x, "id"),
               num(x, "priority"), str(x, "state"), str(x, "measure"), str(x, "first_alarm"), age,
               str(x, "operator")[0] ? str(x, "operator") : "-", num(x, "steps"),
               strcmp(str(x, "escalation"), "none") == 0 ? "-" : str(x, "escalation"));
    }
}

static void when_line(const char *label, json_t *x, const char *key, long long now)
{
    long long t = num(x, key);
    if (t <= 0)
        return;
    char w[32], ago[24];
    vigie_when(t, w, sizeof w);
    duration(now - t, ago, sizeof ago);
    printf("%-13s%s (%s ago)\n", label, w, ago);
}

static void print_incident(json_t *doc)
{
    /* the incident itself, or an answer that carries it with more */
    json_t *x =
        json_is_object(json_object_get(doc, "incident")) ? json_object_get(doc, "incident") : doc;
    long long now = now_ms();
    printf("incident %lld  measure %s (%lld)  priority %lld (%s)\n", num(x, "id"),
           str(x, "measure"), num(x, "measure_id"), num(x, "priority"),
           priority_name(num(x, "priority")));
    printf("%-13s%s%s%s\n", "state:", str(x, "state"), str(x, "operator")[0] ? ", " : "",
           str(x, "operator"));
    printf("%-13s%s; %lld alarm(s)\n", "first alarm:", str(x, "first_alarm"), num(x, "alarms"));
    when_line("opened:", x, "opened_ms", now);
    when_line("taken:", x, "taken_ms", now);
    printf("%-13s%lld\n", "steps:", num(x, "steps"));
    if (num(x, "steps") > 0)
        when_line("last step:", x, "last_step_ms", now);
    when_line("closed:", x, "closed_ms", now);
    printf("%-13s%s\n", "escalation:", str(x, "escalation"));
    if (num(x, "previous_id"))
        printf("%-13sincident %lld (closed)\n", "previous:", num(x, "previous_id"));
    /* what else the incident's own answer carries (its steps, guidance...) */
    static const char *const known[] = {
        "id",           "measure_id", "measure",  "previous_id",  "state",     "priority",
        "first_alarm",  "escalation", "alarms",   "steps",        "opened_ms", "taken_ms",
        "last_step_ms", "closed_ms",  "operator", "escalated_ms", NULL};
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        bool seen = x != doc && strcmp(key, "incident") == 0;
        for (const char *const *k = known; *k && !seen; k++)
            seen = strcmp(*k, key) == 0;
        if (seen)
            continue;
        if (json_is_array(v)) {
            printf("%s:\n", key);
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                char *t = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
                printf("  %s\n", t ? t : "?");
                free(t);
            }
        } else {
            char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            char label[64];
            snprintf(label, sizeof label, "%s:", key);
            printf("%-13s%s\n", label, t ? t : "?");
            free(t);
        }
    }
}

/* GET /api/v1/incidents/ID. Where it answers 404 (a vigied without that
 * route, or one that does not serve this incident yet), the incident from
 * the queue (those in progress) if it is there, else the API's 404. */
static int show(struct iopts *o, const struct vigie_credentials *cr, long long id,
                const char *where)
{
    char path[64];
    snprintf(path, sizeof path, "/api/v1/incidents/%lld", id);
    int status = 0;
    char *body = NULL;
    int rc = vigie_http_send(o->http, cr, "GET", path, NULL, &status, &body, NULL, where);
    if (rc)
        return rc;
    json_t *doc = status == 200 ? json_loads(body, 0, NULL) : NULL;
    if (doc) {
        if (o->json)
            fputs(body, stdout);
        else
            print_incident(doc);
        json_decref(doc);
        free(body);
        return EXIT_OK;
    }
    if (status != 404) {
        rc = vigie_api_error(where, status, body);
        free(body);
        return rc;
    }
    json_t *queue = NULL;
    bool raw = o->json;
    o->json = false;
    rc = call(o, cr, "GET", "/api/v1/incidents", NULL, &queue, where);
    o->json = raw;
    if (rc) {
        free(body);
        return rc;
    }
    size_t i;
    json_t *x, *found = NULL;
    json_array_foreach(queue, i, x)
    {
        if (num(x, "id") == id)
            found = x;
    }
    if (!found) {
        rc = vigie_api_error(where, status, body);
    } else if (o->json) {
        char *t = json_dumps(found, JSON_COMPACT);
        printf("%s\n", t ? t : "");
        free(t);
    } else {
        print_incident(found);
    }
    free(body);
    json_decref(queue);
    return rc;
}

/* vigie incident report: the PDF as vigied draws it, written whole. */
static int draw_report(const struct iopts *o, const struct vigie_credentials *cr, long long id,
                       const char *where)
{
    const char *role = o->for_operator ? o->for_operator : "magistrate";
    for (const char *p = role; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == '_')) {
            fprintf(stderr, "%s: --for: magistrate, prosecutor, probation or victim_support\n",
                    where);
            return EXIT_USAGE;
        }
    char path[128], file[160];
    snprintf(path, sizeof path, "/api/v1/incidents/%lld/report.pdf?for=%s", id, role);
    snprintf(file, sizeof file, "incident-%lld-%s.pdf", id, role);
    const char *out = o->out ? o->out : file;
    int status = 0;
    char *body = NULL;
    size_t len = 0;
    int rc = vigie_http_send_raw(o->http, cr, "GET", path, NULL, &status, &body, &len, NULL, where);
    if (rc != 0)
        return rc;
    if (status != 200) {
        rc = vigie_api_error(where, status, body);
        free(body);
        return rc;
    }
    FILE *f = fopen(out, "wb");
    bool ok = f && fwrite(body, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    free(body);
    if (!ok) {
        fprintf(stderr, "%s: cannot write %s\n", where, out);
        return EXIT_FAIL;
    }
    printf("%s (%zu bytes, for %s)\n", out, len, role);
    return EXIT_OK;
}

int vigie_incident_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        incident_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    static const struct {
        const char *name;
        size_t min_args, max_args; /* after the command's name */
    } cmds[] = {{"list", 0, 0}, {"show", 1, 1},  {"take", 1, 1},  {"step", 2, 3},
                {"note", 2, 2}, {"close", 1, 1}, {"report", 1, 1}};
    const char *cmd = argv[1];
    size_t c = 0;
    while (c < sizeof cmds / sizeof cmds[0] && strcmp(cmds[c].name, cmd) != 0)
        c++;
    if (c == sizeof cmds / sizeof cmds[0]) {
        fprintf(stderr, "vigie incident: unknown command '%s' (try: vigie incident --help)\n", cmd);
        return EXIT_USAGE;
    }
    char where[64];
    snprintf(where, sizeof where, "vigie incident %s", cmd);
    struct iopts o = {0};
    int rc = parse(argc - 1, argv + 1, &o, cmds[c].max_args, incident_usage, where);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (o.n_args < cmds[c].min_args) {
        fprintf(stderr, "%s: missing %s (try: vigie incident --help)\n", where,
                o.n_args == 0 && c > 0 ? "the incident's ID"
                : c == 3               ? "the step"
                                       : "the text");
        return EXIT_USAGE;
    }
    long long id = 0;
    if (c > 0 && vigie_number(o.args[0], &id) != 0) {
        fprintf(stderr, "%s: an incident's ID is a whole number from 1, not '%s'\n", where,
                o.args[0]);
        return EXIT_USAGE;
    }
    bool take = c == 2, step = c == 3, note = c == 4, close = c == 5, report = c == 6;
    if ((o.for_operator && !take && !report) || (o.text && !step) || (o.summary && !close) ||
        o.hours || (o.out && !report)) {
        fprintf(stderr, "%s: %s does not apply here (try: vigie incident --help)\n", where,
                o.hours          ? "--hours"
                : o.out          ? "--out"
                : o.for_operator ? "--for"
                : o.text         ? "--text"
                                 : "--summary");
        return EXIT_USAGE;
    }
    if (close && !o.summary) {
        fprintf(stderr, "%s: --summary TEXT is required: what happened and what was done\n", where);
        return EXIT_USAGE;
    }
    struct vigie_session s;
    struct vigie_credentials cr;
    if ((rc = credentials(&o, &s, &cr, where)))
        return rc;
    if (c == 0) {
        json_t *queue = NULL;
        if ((rc = call(&o, &cr, "GET", "/api/v1/incidents", NULL, &queue, where)) == EXIT_OK &&
            queue)
            print_queue(queue);
        json_decref(queue);
        return rc;
    }
    if (c == 1)
        return show(&o, &cr, id, where);
    if (report)
        return draw_report(&o, &cr, id, where);

    char path[80];
    snprintf(path, sizeof path, "/api/v1/incidents/%lld/%s", id,
             take    ? "take"
             : close ? "close"
                     : "step");
    json_t *payload = take && o.for_operator ? json_pack("{s:s}", "operator", o.for_operator)
                      : take                 ? json_object()
                      : close                ? json_pack("{s:s}", "summary", o.summary)
                      : note ? json_pack("{s:s,s:s}", "step", "note", "text", o.args[1])
                             : json_pack("{s:s}", "step", o.args[1]);
    if (step && o.n_args == 3)
        json_object_set_new(payload, "outcome", json_string(o.args[2]));
    if (step && o.text)
        json_object_set_new(payload, "text", json_string(o.text));
    json_t *doc = NULL;
    if ((rc = call(&o, &cr, "POST", path, payload, &doc, where)) != EXIT_OK || !doc)
        return rc;
    if (take)
        printf("incident %lld taken by %s\n", num(doc, "id"), str(doc, "operator"));
    else if (close)
        printf("incident %lld closed by %s\n", num(doc, "id"), str(doc, "operator"));
    else
        printf("incident %lld: step %lld recorded (%s%s%s)\n", num(doc, "id"), num(doc, "steps"),
               note ? "note" : o.args[1], step && o.n_args == 3 ? ", " : "",
               step && o.n_args == 3 ? o.args[2] : "");
    json_decref(doc);
    return EXIT_OK;
}

/* ---- vigie floor ---------------------------------------------------------------------------- */

static void times_line(const char *label, json_t *t)
{
    char med[24], p90[24], max[24];
    duration(num(t, "median_ms"), med, sizeof med);
    duration(num(t, "p90_ms"), p90, sizeof p90);
    duration(num(t, "max_ms"), max, sizeof max);
    if (num(t, "count") == 0)
        printf("  %-15s none\n", label);
    else
        printf("  %-15s %4lld   median %-8s p90 %-8s max %s\n", label, num(t, "count"), med, p90,
               max);
}

static void print_floor(json_t *f)
{
    char at[32];
    vigie_when(num(f, "now_ms"), at, sizeof at);
    json_t *q = json_object_get(f, "queue");
    printf("floor at %s\n", at);
    printf("queue: %lld waiting, %lld in hand\n", num(q, "open"), num(q, "taken"));
    printf("  %-26s %7s %7s\n", "PRIORITY", "WAITING", "IN HAND");
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(q, "by_priority"), i, x)
    {
        char label[40];
        snprintf(label, sizeof label, "%lld %s", num(x, "priority"),
                 priority_name(num(x, "priority")));
        printf("  %-26s %7lld %7lld\n", label, num(x, "open"), num(x, "taken"));
    }
    json_t *old = json_object_get(f, "oldest_open");
    if (json_is_object(old)) {
        char age[24];
        duration(num(old, "age_ms"), age, sizeof age);
        printf("oldest waiting: incident %lld (%s, priority %lld), %s\n", num(old, "id"),
               str(old, "measure")[0] ? str(old, "measure") : "?", num(old, "priority"), age);
    } else {
        printf("oldest waiting: none\n");
    }
    json_t *esc = json_object_get(f, "escalated");
    if (json_array_size(esc) == 0) {
        printf("escalated or late: none\n");
    } else {
        printf("escalated or late:\n  %-6s %-20s %-6s %-3s %-16s %-16s %-16s %s\n", "ID", "MEASURE",
               "STATE", "PRI", "OPERATOR", "ESCALATED", "LATE ON", "BY");
        json_array_foreach(esc, i, x)
        {
            char late[24] = "-";
            if (strcmp(str(x, "overdue"), "none") != 0)
                duration(num(x, "late_ms"), late, sizeof late);
            printf("  %-6lld %-20s %-6s %-3lld %-16s %-16s %-16s %s\n", num(x, "id"),
                   str(x, "measure"), str(x, "state"), num(x, "priority"),
                   str(x, "operator")[0] ? str(x, "operator") : "-",
                   strcmp(str(x, "escalation"), "none") ? str(x, "escalation") : "-",
                   strcmp(str(x, "overdue"), "none") ? str(x, "overdue") : "-", late);
        }
    }
    json_t *r = json_object_get(f, "response");
    printf("response times, incidents opened in the last %lld h:\n", num(f, "hours"));
    times_line("to take", json_object_get(r, "to_take"));
    json_t *step = json_object_get(r, "to_first_step");
    times_line("to first step", step);
    if (num(step, "upper_bounds"))
        printf("  (%lld of them without the first step's time: the last one's, an upper bound)\n",
               num(step, "upper_bounds"));
    printf("closed in the last %lld h: %lld\n", num(f, "hours"), num(f, "closed"));
    json_t *ops = json_object_get(f, "operators");
    if (json_array_size(ops)) {
        printf("  %-24s %7s %7s\n", "OPERATOR", "HOLDING", "CLOSED");
        json_array_foreach(ops, i, x)
            printf("  %-24s %7lld %7lld\n", str(x, "name"), num(x, "holding"), num(x, "closed"));
    }
}

int vigie_floor_main(int argc, char **argv)
{
    const char *where = "vigie floor";
    struct iopts o = {0};
    int rc = parse(argc, argv, &o, 0, floor_usage, where);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (o.for_operator || o.text || o.summary) {
        fprintf(stderr, "%s: only --hours N and --json (try: vigie floor --help)\n", where);
        return EXIT_USAGE;
    }
    long long hours = 24;
    if (o.hours && (vigie_number(o.hours, &hours) != 0 || hours > 744)) {
        fprintf(stderr, "%s: --hours wants a whole number from 1 to 744\n", where);
        return EXIT_USAGE;
    }
    struct vigie_session s;
    struct vigie_credentials cr;
    if ((rc = credentials(&o, &s, &cr, where)))
        return rc;
    char path[48];
    snprintf(path, sizeof path, "/api/v1/floor?hours=%lld", hours);
    json_t *doc = NULL;
    if ((rc = call(&o, &cr, "GET", path, NULL, &doc, where)) == EXIT_OK && doc)
        print_floor(doc);
    json_decref(doc);
    return rc;
}
