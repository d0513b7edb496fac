/* vigie person: persons' files through vigied's API, with the administrator
 * token (docs/API.md, "Persons").
 *
 *   vigie person list [--json]
 *   vigie person add FILE|-                       a new person's file (JSON)
 *   vigie person show ID [--version N] [--json]
 *   vigie person versions ID [--json]
 *   vigie person update ID --based-on N FILE|-   a new version, made from version N
 *
 * Common: --http HOST:PORT (127.0.0.1:8080), --token-file F (./var/admin.token),
 * --data-dir D (the token is D/admin.token). */
#include "tools/vigie_person.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tools/vigie_http.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct popts {
    char http[128];
    char token_file[600];
    const char *args[2];
    int n_args;
    long long version, based_on;
    bool json;
};

static void usage(FILE *out)
{
    fputs("usage: vigie person list [--json]\n"
          "       vigie person add FILE|-\n"
          "       vigie person show ID [--version N] [--json]\n"
          "       vigie person versions ID [--json]\n"
          "       vigie person update ID --based-on N FILE|-\n"
          "options: --http HOST:PORT, --token-file F | --data-dir D\n\n"
          "A person's file is JSON (docs/API.md, \"Persons\"); update replaces the whole file\n"
          "with a new version, refused if the person moved on since version N.\n",
          out);
}

static int parse(int argc, char **argv, struct popts *o, const char *where)
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
        } else if (has_value && (strcmp(a, "--version") == 0 || strcmp(a, "--based-on") == 0)) {
            long long *dst = strcmp(a, "--version") == 0 ? &o->version : &o->based_on;
            if (vigie_number(argv[++i], dst) != 0) {
                fprintf(stderr, "%s: %s wants a version number from 1\n", where, a);
                return EXIT_USAGE;
            }
        } else if (a[0] == '-' && strcmp(a, "-") != 0) {
            fprintf(stderr, "%s: unknown option or missing value: %s (try: vigie person --help)\n",
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

static int call(const struct popts *o, const char *method, const char *path, const char *payload,
                int want, json_t **doc, const char *where)
{
    return vigie_api_call(o->http, o->token_file, o->json, method, path, payload, want, doc, where);
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void show(json_t *v)
{
    char t[32];
    vigie_when(json_integer_value(json_object_get(v, "created_ms")), t, sizeof t);
    json_t *p = json_object_get(v, "person"), *id = json_object_get(p, "identity");
    printf("person %lld, version %lld (%s, by %s)\n",
           (long long)json_integer_value(json_object_get(v, "id")),
           (long long)json_integer_value(json_object_get(v, "version")), t, str(v, "actor"));
    printf("  %s %s, born %s%s%s\n", str(id, "last_name"), str(id, "first_names"),
           str(id, "birth_date"), json_object_get(id, "sex") ? ", " : "", str(id, "sex"));
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(p, "phones"), i, x)
        printf("  phone      %-12s %s\n", str(x, "label"), str(x, "number"));
    json_array_foreach(json_object_get(p, "addresses"), i, x)
        printf("  address    %-12s %s\n", str(x, "label"), str(x, "text"));
    json_array_foreach(json_object_get(p, "emergency_contacts"), i, x)
        printf("  emergency  %-12s %s %s\n", str(x, "relation"), str(x, "name"), str(x, "phone"));
    json_t *hh = json_object_get(p, "household");
    json_array_foreach(json_object_get(hh, "children"), i, x)
        printf("  child      %s %s\n", str(x, "first_name"), str(x, "birth_date"));
    json_array_foreach(json_object_get(hh, "pets"), i, x)
        printf("  pet        %s %s %s\n", str(x, "kind"), str(x, "name"), str(x, "notes"));
    if (json_object_get(p, "police_notes"))
        printf("  police notes:\n    %s\n", str(p, "police_notes"));
}

int vigie_person_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    char where[64];
    snprintf(where, sizeof where, "vigie person %.20s", cmd);
    struct popts o = {0};
    int rc = parse(argc - 1, argv + 1, &o, where);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    json_t *doc = NULL;
    char path[128];
    long long id = 0;
    bool wants_id =
        strcmp(cmd, "show") == 0 || strcmp(cmd, "versions") == 0 || strcmp(cmd, "update") == 0;
    int need = strcmp(cmd, "list") == 0 ? 0 : strcmp(cmd, "update") == 0 ? 2 : 1;
    if (o.n_args != need) {
        fprintf(stderr, "%s: %d argument%s expected (try: vigie person --help)\n", where, need,
                need == 1 ? "" : "s");
        return EXIT_USAGE;
    }
    if (wants_id && vigie_number(o.args[0], &id) != 0) {
        fprintf(stderr, "%s: a person's id is a number\n", where);
        return EXIT_USAGE;
    }
    if (strcmp(cmd, "list") == 0) {
        rc = call(&o, "GET", "/api/v1/persons", NULL, 200, &doc, where);
        if (rc == 0 && doc) {
            printf("%-18s %-8s %-20s %s\n", "ID", "VERSION", "CHANGED", "NAME");
            size_t i;
            json_t *p;
            json_array_foreach(doc, i, p)
            {
                char t[32];
                vigie_when(json_integer_value(json_object_get(p, "updated_ms")), t, sizeof t);
                printf("%-18lld %-8lld %-20s %s\n",
                       (long long)json_integer_value(json_object_get(p, "id")),
                       (long long)json_integer_value(json_object_get(p, "version")), t,
                       str(p, "display"));
            }
        }
    } else if (strcmp(cmd, "add") == 0 || strcmp(cmd, "update") == 0) {
        bool add = strcmp(cmd, "add") == 0;
        if (!add && o.based_on == 0) {
            fprintf(stderr, "%s: --based-on N (the version the change was made from)\n", where);
            return EXIT_USAGE;
        }
        char *text = vigie_read_file(o.args[add ? 0 : 1], 64 * 1024, where);
        if (!text)
            return EXIT_FAIL;
        char *payload = text;
        if (!add) {
            json_t *person = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
            json_t *body = person ? json_pack("{s:I,s:o}", "based_on", (json_int_t)o.based_on,
                                              "person", person)
                                  : NULL;
            payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
            json_decref(body);
            free(text);
            if (!payload) {
                fprintf(stderr, "%s: the file is not JSON\n", where);
                return EXIT_FAIL;
            }
            snprintf(path, sizeof path, "/api/v1/persons/%lld", id);
        }
        rc = call(&o, add ? "POST" : "PUT", add ? "/api/v1/persons" : path, payload,
                  add ? 201 : 200, &doc, where);
        free(payload);
        if (rc == 0 && doc)
            printf("person %lld, version %lld\n",
                   (long long)json_integer_value(json_object_get(doc, "id")),
                   (long long)json_integer_value(json_object_get(doc, "version")));
    } else if (strcmp(cmd, "show") == 0) {
        if (o.version)
            snprintf(path, sizeof path, "/api/v1/persons/%lld?version=%lld", id, o.version);
        else
            snprintf(path, sizeof path, "/api/v1/persons/%lld", id);
        rc = call(&o, "GET", path, NULL, 200, &doc, where);
        if (rc == 0 && doc)
            show(doc);
    } else if (strcmp(cmd, "versions") == 0) {
        snprintf(path, sizeof path, "/api/v1/persons/%lld/versions", id);
        rc = call(&o, "GET", path, NULL, 200, &doc, where);
        if (rc == 0 && doc) {
            size_t i;
            json_t *v;
            json_array_foreach(doc, i, v)
            {
                char t[32];
                vigie_when(json_integer_value(json_object_get(v, "created_ms")), t, sizeof t);
                printf("version %-4lld %s by %s: %s\n",
                       (long long)json_integer_value(json_object_get(v, "version")), t,
                       str(v, "actor"), str(v, "display"));
            }
        }
    } else {
        fprintf(stderr, "vigie person: unknown command '%s' (try: vigie person --help)\n", cmd);
        rc = EXIT_USAGE;
    }
    json_decref(doc);
    return rc;
}
