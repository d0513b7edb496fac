/* vigie login / logout (vigie_session.h).
 *
 *   vigie login NAME (--password-stdin | --password-file F) [--http HOST:PORT] [--session F]
 *   vigie logout [--session F]
 *
 * The session file (default $VIGIE_SESSION, else $HOME/.vigie-session) holds
 * the API's address, the user, the session cookie and its CSRF token, mode
 * 0600: whoever reads it acts as that user until the session ends (30
 * minutes idle, 12 hours at most, at logout). */
#include "tools/vigie_session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "tools/vigie_http.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

void vigie_session_path(const char *given, char *out, size_t cap)
{
    const char *env = getenv("VIGIE_SESSION");
    const char *home = getenv("HOME");
    if (given)
        snprintf(out, cap, "%s", given);
    else if (env && env[0])
        snprintf(out, cap, "%s", env);
    else
        snprintf(out, cap, "%s/.vigie-session", home && home[0] ? home : ".");
}

static void copy(char *out, size_t cap, json_t *doc, const char *key)
{
    const char *s = json_string_value(json_object_get(doc, key));
    snprintf(out, cap, "%s", s ? s : "");
}

int vigie_session_load(const char *path, struct vigie_session *s, const char *where)
{
    memset(s, 0, sizeof *s);
    json_error_t e;
    json_t *doc = json_load_file(path, 0, &e);
    if (!doc) {
        if (access(path, F_OK) != 0)
            fprintf(stderr,
                    "%s: no session (%s): log in first: vigie login NAME --password-stdin\n", where,
                    path);
        else
            fprintf(stderr, "%s: %s is not a session file: %s\n", where, path, e.text);
        return EXIT_FAIL;
    }
    copy(s->http, sizeof s->http, doc, "http");
    copy(s->name, sizeof s->name, doc, "name");
    copy(s->role, sizeof s->role, doc, "role");
    copy(s->cookie, sizeof s->cookie, doc, "cookie");
    copy(s->csrf, sizeof s->csrf, doc, "csrf_token");
    json_decref(doc);
    if (!s->cookie[0] || !s->csrf[0]) {
        fprintf(stderr, "%s: %s holds no session: log in again\n", where, path);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* Write the session, readable by its owner only, in place of any other. */
static int save(const char *path, json_t *doc, const char *where)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600) : -1;
    size_t len = text ? strlen(text) : 0;
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
              fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0) {
        saved = errno;
        ok = false;
    }
    if (text) {
        memset(text, 0, len);
        free(text);
    }
    if (!ok) {
        if (fd >= 0)
            unlink(tmp);
        fprintf(stderr, "%s: cannot write the session to %s: %s\n", where, path, strerror(saved));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static void login_usage(FILE *out)
{
    fputs("usage: vigie login NAME (--password-stdin | --password-file F) [--http HOST:PORT]\n"
          "                        [--session F]\n"
          "       vigie logout [--session F]\n\n"
          "login opens a session with vigied's API as NAME (the password is the first line of\n"
          "standard input or of F) and keeps it in the session file, mode 0600 (default\n"
          "$VIGIE_SESSION, else $HOME/.vigie-session): vigie incident and vigie floor then act\n"
          "as NAME, on the same address. The session ends after 30 minutes idle, 12 hours,\n"
          "or at logout, which ends it in vigied and removes the file.\n",
          out);
}

int vigie_login_main(int argc, char **argv)
{
    const char *where = "vigie login";
    const char *name = NULL, *password_file = NULL, *session = NULL;
    bool password_stdin = false;
    char http[128] = "127.0.0.1:8080";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            login_usage(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--password-stdin") == 0) {
            password_stdin = true;
        } else if (has_value && strcmp(a, "--password-file") == 0) {
            password_file = argv[++i];
        } else if (has_value && strcmp(a, "--http") == 0) {
            snprintf(http, sizeof http, "%s", argv[++i]);
        } else if (has_value && strcmp(a, "--session") == 0) {
            session = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "%s: unknown option or missing value: %s (try: vigie login --help)\n",
                    where, a);
            return EXIT_USAGE;
        } else if (!name) {
            name = a;
        } else {
            fprintf(stderr, "%s: too many arguments\n", where);
            return EXIT_USAGE;
        }
    }
    if (!name || password_stdin == (password_file != NULL)) {
        fprintf(stderr,
                "%s: NAME and one of --password-stdin, --password-file F (try: vigie "
                "login --help)\n",
                where);
        return EXIT_USAGE;
    }
    char path[4096];
    vigie_session_path(session, path, sizeof path);

    char password[300] = "";
    FILE *f = password_stdin ? stdin : fopen(password_file, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot read %s: %s\n", where, password_file, strerror(errno));
        return EXIT_FAIL;
    }
    bool got = fgets(password, sizeof password, f) != NULL;
    if (f != stdin)
        fclose(f);
    password[strcspn(password, "\r\n")] = '\0';
    if (!got || !password[0]) {
        fprintf(stderr, "%s: no password given (an empty input)\n", where);
        return EXIT_FAIL;
    }
    json_t *req = json_pack("{s:s,s:s}", "name", name, "password", password);
    memset(password, 0, sizeof password);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text) {
        fprintf(stderr, "%s: out of memory\n", where);
        return EXIT_FAIL;
    }
    struct vigie_credentials none = {0};
    int status = 0;
    char *body = NULL, *cookie = NULL;
    int rc = vigie_http_send(http, &none, "POST", "/api/v1/session", text, &status, &body, &cookie,
                             where);
    memset(text, 0, strlen(text));
    free(text);
    if (rc)
        return rc;
    if (status != 200 || !cookie) {
        rc = status != 200 ? vigie_api_error(where, status, body)
                           : (fprintf(stderr, "%s: vigied set no session cookie\n", where), 1);
        free(body);
        free(cookie);
        return rc;
    }
    json_t *doc = json_loads(body, 0, NULL);
    free(body);
    json_t *keep = json_pack("{s:s,s:s,s:s,s:s,s:s}", "http", http, "name", name, "role",
                             json_string_value(json_object_get(doc, "role"))
                                 ? json_string_value(json_object_get(doc, "role"))
                                 : "",
                             "cookie", cookie, "csrf_token",
                             json_string_value(json_object_get(doc, "csrf_token"))
                                 ? json_string_value(json_object_get(doc, "csrf_token"))
                                 : "");
    free(cookie);
    rc = keep ? save(path, keep, where) : EXIT_FAIL;
    if (rc == EXIT_OK)
        printf("logged in as %s (%s) on %s; the session is in %s\n", name,
               json_string_value(json_object_get(keep, "role")), http, path);
    json_decref(keep);
    json_decref(doc);
    return rc;
}

int vigie_logout_main(int argc, char **argv)
{
    const char *where = "vigie logout";
    const char *session = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            login_usage(stdout);
            return EXIT_OK;
        } else if (i + 1 < argc && strcmp(argv[i], "--session") == 0) {
            session = argv[++i];
        } else {
            fprintf(stderr, "%s: unexpected '%s' (try: vigie logout --help)\n", where, argv[i]);
            return EXIT_USAGE;
        }
    }
    char path[4096];
    vigie_session_path(session, path, sizeof path);
    struct vigie_session s;
    if (vigie_session_load(path, &s, where) != EXIT_OK)
        return EXIT_FAIL;
    struct vigie_credentials cr = {.cookie = s.cookie, .csrf = s.csrf};
    int status = 0;
    char *body = NULL;
    int rc = vigie_http_send(s.http, &cr, "DELETE", "/api/v1/session", NULL, &status, &body, NULL,
                             where);
    if (rc) /* vigied unreachable: the file stays, to log out later */
        return rc;
    /* 401: the session had ended already; either way the file goes */
    if (status != 204 && status != 401) {
        rc = vigie_api_error(where, status, body);
        free(body);
        return rc;
    }
    free(body);
    if (unlink(path) != 0) {
        fprintf(stderr, "%s: cannot remove %s: %s\n", where, path, strerror(errno));
        return EXIT_FAIL;
    }
    printf("logged out %s%s\n", s.name, status == 401 ? " (the session had already ended)" : "");
    return EXIT_OK;
}
