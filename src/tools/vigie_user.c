/* vigie user: users' accounts through vigied's API, with the administrator
 * token (docs/API.md, "Accounts and sessions").
 *
 *   vigie user list [--json]
 *   vigie user add NAME --role ROLE [--court COURT] [--password-file F | --password-stdin]
 *   vigie user passwd NAME (--password-file F | --password-stdin)
 *   vigie user set NAME [--role ROLE] [--court COURT]
 *   vigie user disable NAME | vigie user enable NAME
 *
 * Common: --http HOST:PORT (127.0.0.1:8080), --token-file F (./var/admin.token),
 * --data-dir D (the token is D/admin.token). A password is read from a
 * file or standard input (its first line), never from the command line,
 * where every user of the machine could read it. */
#include "tools/vigie_user.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tools/vigie_http.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct uopts {
    char http[128];
    char token_file[600];
    const char *name, *role, *court, *password_file;
    bool password_stdin, json;
};

static void usage(FILE *out)
{
    fputs("usage: vigie user list [--json]\n"
          "       vigie user add NAME --role ROLE [--court COURT] [--password-file F | "
          "--password-stdin]\n"
          "       vigie user passwd NAME (--password-file F | --password-stdin)\n"
          "       vigie user set NAME [--role ROLE] [--court COURT]\n"
          "       vigie user disable NAME | vigie user enable NAME\n"
          "options: --http HOST:PORT, --token-file F | --data-dir D\n\n"
          "Roles: operator, supervisor, installer, magistrate (needs --court), statistician,\n"
          "administrator. A password (12 characters at least) is read from the first line of\n"
          "a file or of standard input, never from the command line.\n",
          out);
}

static int parse(int argc, char **argv, struct uopts *o, const char *where)
{
    snprintf(o->http, sizeof o->http, "127.0.0.1:8080");
    snprintf(o->token_file, sizeof o->token_file, "./var/admin.token");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--password-stdin") == 0) {
            o->password_stdin = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        } else if (vigie_api_option(argc, argv, &i, o->http, sizeof o->http, o->token_file,
                                    sizeof o->token_file)) {
            continue;
        } else if (has_value && strcmp(a, "--role") == 0) {
            o->role = argv[++i];
        } else if (has_value && strcmp(a, "--court") == 0) {
            o->court = argv[++i];
        } else if (has_value && strcmp(a, "--password-file") == 0) {
            o->password_file = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "%s: unknown option or missing value: %s (try: vigie user --help)\n",
                    where, a);
            return EXIT_USAGE;
        } else if (!o->name) {
            o->name = a;
        } else {
            fprintf(stderr, "%s: one name only\n", where);
            return EXIT_USAGE;
        }
    }
    if (o->password_file && o->password_stdin) {
        fprintf(stderr, "%s: --password-file or --password-stdin, not both\n", where);
        return EXIT_USAGE;
    }
    return 0;
}

/* The first line of the file (or stdin) into out; 0 or EXIT_FAIL. */
static int read_password(const struct uopts *o, char *out, size_t cap, const char *where)
{
    FILE *f = o->password_stdin ? stdin : fopen(o->password_file, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot read %s: %s\n", where, o->password_file, strerror(errno));
        return EXIT_FAIL;
    }
    bool ok = fgets(out, (int)cap, f) != NULL;
    if (f != stdin)
        fclose(f);
    if (!ok) {
        fprintf(stderr, "%s: no password given (an empty input)\n", where);
        return EXIT_FAIL;
    }
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int call(const struct uopts *o, const char *method, const char *path, json_t *payload,
                int want, char **body, const char *where)
{
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    int status = 0;
    int rc = vigie_http_request(o->http, o->token_file, method, path, text, &status, body, where);
    if (text) {
        memset(text, 0, strlen(text)); /* it may hold a password */
        free(text);
    }
    if (rc)
        return rc;
    if (status != want) {
        rc = vigie_api_error(where, status, *body);
        free(*body);
        *body = NULL;
        return rc;
    }
    return 0;
}

static int cmd_list(const struct uopts *o)
{
    const char *where = "vigie user list";
    char *body = NULL;
    int rc = call(o, "GET", "/api/v1/users", NULL, 200, &body, where);
    if (rc)
        return rc;
    if (o->json) {
        fputs(body, stdout);
        free(body);
        return 0;
    }
    json_t *list = json_loads(body, 0, NULL);
    free(body);
    if (!json_is_array(list)) {
        json_decref(list);
        fprintf(stderr, "%s: unexpected answer\n", where);
        return EXIT_FAIL;
    }
    printf("%-24s %-14s %-20s %s\n", "NAME", "ROLE", "COURT", "STATE");
    size_t i;
    json_t *u;
    json_array_foreach(list, i, u)
    {
        const char *state = json_is_true(json_object_get(u, "disabled"))       ? "disabled"
                            : json_is_true(json_object_get(u, "locked"))       ? "locked"
                            : !json_is_true(json_object_get(u, "has_password")) ? "no password yet"
                                                                                : "active";
        const char *court = json_string_value(json_object_get(u, "court"));
        printf("%-24s %-14s %-20s %s\n", json_string_value(json_object_get(u, "name")),
               json_string_value(json_object_get(u, "role")), court && court[0] ? court : "-",
               state);
    }
    json_decref(list);
    return 0;
}

static int change(const struct uopts *o, json_t *fields, const char *where)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/users/%s", o->name);
    char *body = NULL;
    int rc = call(o, "PATCH", path, fields, 200, &body, where);
    json_decref(fields);
    free(body);
    return rc;
}

int vigie_user_main(int argc, char **argv)
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
    snprintf(where, sizeof where, "vigie user %.20s", cmd);
    struct uopts o = {0};
    int rc = parse(argc - 1, argv + 1, &o, where);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (strcmp(cmd, "list") == 0) {
        if (o.name) {
            fprintf(stderr, "%s: no argument\n", where);
            return EXIT_USAGE;
        }
        return cmd_list(&o);
    }
    if (!o.name) {
        fprintf(stderr, "%s: which user? (try: vigie user --help)\n", where);
        return EXIT_USAGE;
    }
    char password[300] = "";
    bool has_password = o.password_file || o.password_stdin;
    if (has_password && (rc = read_password(&o, password, sizeof password, where)))
        return rc;
    if (strcmp(cmd, "add") == 0) {
        if (!o.role) {
            fprintf(stderr, "%s: --role is needed\n", where);
            return EXIT_USAGE;
        }
        json_t *f = json_pack("{s:s,s:s}", "name", o.name, "role", o.role);
        if (o.court)
            json_object_set_new(f, "court", json_string(o.court));
        if (has_password)
            json_object_set_new(f, "password", json_string(password));
        char *body = NULL;
        rc = call(&o, "POST", "/api/v1/users", f, 201, &body, where);
        json_decref(f);
        free(body);
        if (rc == 0)
            printf("user %s added (%s)%s\n", o.name, o.role,
                   has_password ? "" : "; no password yet: vigie user passwd");
    } else if (strcmp(cmd, "passwd") == 0) {
        if (!has_password) {
            fprintf(stderr, "%s: --password-file F or --password-stdin\n", where);
            return EXIT_USAGE;
        }
        rc = change(&o, json_pack("{s:s}", "password", password), where);
        if (rc == 0)
            printf("password of %s changed; the user's sessions are closed\n", o.name);
    } else if (strcmp(cmd, "set") == 0) {
        if (!o.role && !o.court) {
            fprintf(stderr, "%s: --role and/or --court\n", where);
            return EXIT_USAGE;
        }
        json_t *f = json_object();
        if (o.role)
            json_object_set_new(f, "role", json_string(o.role));
        if (o.court)
            json_object_set_new(f, "court", json_string(o.court));
        rc = change(&o, f, where);
        if (rc == 0)
            printf("user %s changed\n", o.name);
    } else if (strcmp(cmd, "disable") == 0 || strcmp(cmd, "enable") == 0) {
        bool off = strcmp(cmd, "disable") == 0;
        rc = change(&o, json_pack("{s:b}", "disabled", off), where);
        if (rc == 0)
            printf("user %s %s\n", o.name, off ? "disabled (sessions closed)" : "enabled");
    } else {
        fprintf(stderr, "vigie user: unknown command '%s' (try: vigie user --help)\n", cmd);
        rc = EXIT_USAGE;
    }
    memset(password, 0, sizeof password);
    return rc;
}
