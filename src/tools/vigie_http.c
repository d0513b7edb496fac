/* The vigie tool's HTTP client: one request to vigied's API on loopback,
 * with the administrator token or a user's session (vigie login). */
#include "tools/vigie_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

char *vigie_read_all(FILE *f, size_t max, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            if (cap >= max) {
                free(buf);
                return NULL;
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
    }
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* The cookie a response sets (name=value, up to the first ';'), or NULL. */
static char *set_cookie_of(const char *head, size_t head_len)
{
    static const char name[] = "\r\nSet-Cookie:";
    for (const char *p = head; p + sizeof name - 1 <= head + head_len; p++) {
        if (strncasecmp(p, name, sizeof name - 1) != 0)
            continue;
        p += sizeof name - 1;
        p += strspn(p, " ");
        return strndup(p, strcspn(p, ";\r\n"));
    }
    return NULL;
}

/* One HTTP/1.1 request on loopback; *body receives the response body. */
int vigie_http_send(const char *http, const struct vigie_credentials *cr, const char *method,
                    const char *path, const char *payload, int *status, char **body,
                    char **set_cookie, const char *where)
{
    return vigie_http_send_raw(http, cr, method, path, payload, status, body, NULL, set_cookie,
                               where);
}

int vigie_http_send_raw(const char *http, const struct vigie_credentials *cr, const char *method,
                        const char *path, const char *payload, int *status, char **body,
                        size_t *body_len, char **set_cookie, const char *where)
{
    char token[128] = "";
    if (cr->token_file) {
        FILE *tf = fopen(cr->token_file, "r");
        if (!tf || !fgets(token, sizeof token, tf)) {
            fprintf(stderr, "%s: cannot read the administrator token %s: %s\n", where,
                    cr->token_file, tf ? "empty" : strerror(errno));
            if (tf)
                fclose(tf);
            return 1;
        }
        fclose(tf);
        token[strcspn(token, "\r\n")] = '\0';
    }
    char host[64];
    const char *colon = strrchr(http, ':');
    if (!colon || (size_t)(colon - http) >= sizeof host) {
        fprintf(stderr, "%s: --http wants HOST:PORT\n", where);
        return 2;
    }
    memcpy(host, http, (size_t)(colon - http));
    host[colon - http] = '\0';
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "%s: --http wants a numeric IPv4 address\n", where);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "%s: cannot reach vigied at %s: %s\n", where, http, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    FILE *s = fdopen(fd, "r+");
    fprintf(s, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path, http);
    if (cr->token_file)
        fprintf(s, "Authorization: Bearer %s\r\n", token);
    else if (cr->cookie && cr->cookie[0])
        fprintf(s, "Cookie: %s\r\n", cr->cookie);
    if (!cr->token_file && cr->csrf && cr->csrf[0] && strcmp(method, "GET") != 0)
        fprintf(s, "X-CSRF-Token: %s\r\n", cr->csrf);
    if (payload)
        fprintf(s, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                strlen(payload), payload);
    else
        fprintf(s, "\r\n");
    fflush(s);
    size_t len;
    char *resp = vigie_read_all(s, 16 << 20, &len);
    fclose(s);
    if (!resp || sscanf(resp, "HTTP/1.%*d %d", status) != 1) {
        free(resp);
        fprintf(stderr, "%s: no answer from vigied\n", where);
        return 1;
    }
    char *start = strstr(resp, "\r\n\r\n");
    size_t at = start ? (size_t)(start - resp) + 4 : len;
    *body = malloc(len - at + 1); /* the body as it came (a PDF holds NULs), NUL-terminated */
    if (*body) {
        memcpy(*body, resp + at, len - at);
        (*body)[len - at] = '\0';
    }
    if (body_len)
        *body_len = len - at;
    if (set_cookie)
        *set_cookie = set_cookie_of(resp, start ? (size_t)(start - resp) : len);
    free(resp);
    return 0;
}

int vigie_http_request(const char *http, const char *token_file, const char *method,
                       const char *path, const char *payload, int *status, char **body,
                       const char *where)
{
    struct vigie_credentials cr = {.token_file = token_file};
    return vigie_http_send(http, &cr, method, path, payload, status, body, NULL, where);
}

void vigie_print_violations(FILE *out, json_t *violations)
{
    size_t i;
    json_t *v;
    json_array_foreach(violations, i, v)
    {
        fprintf(out, "  %-7s %-28s %s\n", json_string_value(json_object_get(v, "severity")),
                json_string_value(json_object_get(v, "rule")),
                json_string_value(json_object_get(v, "message")));
    }
}

int vigie_api_error(const char *where, int status, const char *body)
{
    json_t *doc = json_loads(body, 0, NULL);
    const char *msg = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
    fprintf(stderr, "%s: refused (HTTP %d): %s\n", where, status, msg ? msg : body);
    vigie_print_violations(stderr, json_object_get(json_object_get(doc, "error"), "violations"));
    json_decref(doc);
    return 1;
}

int vigie_api_option(int argc, char **argv, int *i, char *http, size_t http_cap, char *token_file,
                     size_t token_cap)
{
    const char *a = argv[*i];
    if (*i + 1 >= argc)
        return 0;
    const char *v = argv[*i + 1];
    if (strcmp(a, "--http") == 0)
        snprintf(http, http_cap, "%s", v);
    else if (strcmp(a, "--token-file") == 0)
        snprintf(token_file, token_cap, "%s", v);
    else if (strcmp(a, "--data-dir") == 0)
        snprintf(token_file, token_cap, "%s/admin.token", v);
    else
        return 0;
    (*i)++;
    return 1;
}

int vigie_number(const char *s, long long *out)
{
    char *end = NULL;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno == 0 && end != s && !*end && *out > 0 ? 0 : -1;
}

char *vigie_read_file(const char *path, size_t max, const char *where)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot read %s: %s\n", where, path, strerror(errno));
        return NULL;
    }
    size_t len;
    char *text = vigie_read_all(f, max, &len);
    if (f != stdin)
        fclose(f);
    if (!text)
        fprintf(stderr, "%s: %s is over %zu KiB\n", where, path, max / 1024);
    return text;
}

int vigie_api_call(const char *http, const char *token_file, bool raw, const char *method,
                   const char *path, const char *payload, int want, json_t **doc, const char *where)
{
    struct vigie_credentials cr = {.token_file = token_file};
    return vigie_api_call_as(http, &cr, raw, method, path, payload, want, doc, where);
}

int vigie_api_call_as(const char *http, const struct vigie_credentials *cr, bool raw,
                      const char *method, const char *path, const char *payload, int want,
                      json_t **doc, const char *where)
{
    char *body = NULL;
    int status = 0;
    int rc = vigie_http_send(http, cr, method, path, payload, &status, &body, NULL, where);
    if (rc)
        return rc;
    if (status != want) {
        rc = vigie_api_error(where, status, body);
        free(body);
        return rc;
    }
    if (raw) {
        fputs(body, stdout);
        *doc = NULL;
    } else {
        *doc = json_loads(body, 0, NULL);
    }
    free(body);
    return 0;
}

void vigie_when(long long ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, cap, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "?");
}
