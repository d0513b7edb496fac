/* vigie measure create FILE|-   declare a measure (JSON, see util/measure_json.h)
 * vigie measure list [--json]    the measures vigied judges
 *
 * Options: --http HOST:PORT (default 127.0.0.1:8080), --token-file F
 * (default ./var/admin.token), --data-dir D (the token is D/admin.token).
 * The API is on loopback and plain HTTP for now; the case management to
 * come puts users, roles and TLS in front of it. */
#include "tools/vigie_measure.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "tools/vigie_http.h"

struct opts {
    char http[128];
    char token_file[600];
    int json;
    const char *arg;
};

static int parse(int argc, char **argv, struct opts *o, const char *where)
{
    snprintf(o->http, sizeof o->http, "127.0.0.1:8080");
    snprintf(o->token_file, sizeof o->token_file, "./var/admin.token");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (vigie_api_option(argc, argv, &i, o->http, sizeof o->http, o->token_file,
                                    sizeof o->token_file)) {
            continue;
        } else if (a[0] == '-' && strcmp(a, "-") != 0) {
            fprintf(stderr, "%s: unknown option %s (try: vigie measure --help)\n", where, a);
            return 2;
        } else if (!o->arg) {
            o->arg = a;
        } else {
            fprintf(stderr, "%s: one argument only\n", where);
            return 2;
        }
    }
    return 0;
}

static int create(int argc, char **argv)
{
    const char *where = "vigie measure create";
    struct opts o = {0};
    int rc = parse(argc, argv, &o, where);
    if (rc)
        return rc;
    if (!o.arg) {
        fprintf(stderr, "%s: give the definition's file (or - for standard input)\n", where);
        return 2;
    }
    FILE *f = strcmp(o.arg, "-") == 0 ? stdin : fopen(o.arg, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot read %s: %s\n", where, o.arg, strerror(errno));
        return 1;
    }
    size_t len;
    char *json = vigie_read_all(f, 256 * 1024, &len);
    if (f != stdin)
        fclose(f);
    if (!json) {
        fprintf(stderr, "%s: %s is too large (256 KiB at most)\n", where, o.arg);
        return 1;
    }
    int status;
    char *body = NULL;
    rc = vigie_http_request(o.http, o.token_file, "POST", "/api/v1/measures", json, &status, &body, where);
    free(json);
    if (rc)
        return rc;
    if (status != 201) {
        rc = vigie_api_error(where, status, body);
        free(body);
        return rc;
    }
    json_t *doc = json_loads(body, 0, NULL);
    printf("measure created: id %lld\n", (long long)json_integer_value(json_object_get(doc, "id")));
    json_decref(doc);
    free(body);
    return 0;
}

static int list(int argc, char **argv)
{
    const char *where = "vigie measure list";
    struct opts o = {0};
    int rc = parse(argc, argv, &o, where);
    if (rc)
        return rc;
    int status;
    char *body = NULL;
    if ((rc = vigie_http_request(o.http, o.token_file, "GET", "/api/v1/measures", NULL, &status, &body, where)))
        return rc;
    if (status != 200) {
        rc = vigie_api_error(where, status, body);
        free(body);
        return rc;
    }
    if (o.json) {
        fputs(body, stdout);
        free(body);
        return 0;
    }
    json_t *doc = json_loads(body, 0, NULL);
    free(body);
    printf("%-6s %-20s %8s %5s %-16s %-16s %-9s %s\n", "ID", "NAME", "R (m)", "ZONES", "AUTHOR",
           "PROTECTED", "MOBILE", "ALARMS");
    size_t i;
    json_t *m;
    json_array_foreach(doc, i, m)
    {
        json_t *units = json_object_get(m, "units"), *conn = json_object_get(m, "connected");
        char a[40], p[40];
        snprintf(a, sizeof a, "%s%s", json_string_value(json_object_get(units, "author")),
                 json_is_true(json_object_get(conn, "author")) ? " *" : "");
        snprintf(p, sizeof p, "%s%s", json_string_value(json_object_get(units, "protected")),
                 json_is_true(json_object_get(conn, "protected")) ? " *" : "");
        printf("%-6lld %-20s %8.0f %5lld %-16s %-16s %-9s %lld\n",
               (long long)json_integer_value(json_object_get(m, "id")),
               json_string_value(json_object_get(m, "name")),
               json_number_value(json_object_get(m, "alert_radius_m")),
               (long long)json_integer_value(json_object_get(m, "zones")), a, p,
               json_string_value(json_object_get(m, "mobile_zone")),
               (long long)json_integer_value(json_object_get(m, "alarms")));
    }
    printf("(* connected)\n");
    json_decref(doc);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: vigie measure create FILE|- [--http HOST:PORT] [--token-file F | --data-dir D]\n"
                 "       vigie measure list [--json] [--http HOST:PORT] [--token-file F | --data-dir D]\n\n"
                 "Declare a measure (a JSON definition: name, alert_radius_m, units, zones;\n"
                 "see docs/API.md) or list the measures vigied judges. Defaults: --http\n"
                 "127.0.0.1:8080, --token-file ./var/admin.token.\n");
}

int vigie_measure_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "create") == 0)
        return create(argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return list(argc - 1, argv + 1);
    fprintf(stderr, "vigie measure: unknown command '%s' (try: vigie measure --help)\n", argv[1]);
    return 2;
}
