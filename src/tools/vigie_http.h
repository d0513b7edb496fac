/* The vigie tool's HTTP client (vigie measure, vigie user). */
#ifndef VG_TOOLS_VIGIE_HTTP_H
#define VG_TOOLS_VIGIE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Everything f holds, up to max bytes (NULL beyond, or out of memory). */
char *vigie_read_all(FILE *f, size_t max, size_t *len);

/* One HTTP/1.1 request to http (HOST:PORT, numeric IPv4) with the token in
 * token_file; payload (JSON) may be NULL. 0 with *status and *body (to
 * free), or 1/2 after a message on stderr naming `where`. */
int vigie_http_request(const char *http, const char *token_file, const char *method,
                       const char *path, const char *payload, int *status, char **body,
                       const char *where);

/* Who a request is made as: the administrator token in token_file, or
 * (token_file NULL) a user's session as vigie login saved it: its cookie
 * ("vigie_session=..."; NULL or "" for none, to log in) and CSRF token,
 * sent with every request but a GET. */
struct vigie_credentials {
    const char *token_file;
    const char *cookie;
    const char *csrf;
};

/* vigie_http_request as cr; *set_cookie (if not NULL) receives the cookie
 * the answer sets ("name=value", to free; NULL if none). */
int vigie_http_send(const char *http, const struct vigie_credentials *cr, const char *method,
                    const char *path, const char *payload, int *status, char **body,
                    char **set_cookie, const char *where);

/* The same, with the body's length (a binary answer: a PDF). */
int vigie_http_send_raw(const char *http, const struct vigie_credentials *cr, const char *method,
                        const char *path, const char *payload, int *status, char **body,
                        size_t *body_len, char **set_cookie, const char *where);

/* The options every API command takes: --http HOST:PORT, --token-file F,
 * --data-dir D (the token is D/admin.token). If argv[*i] is one of them
 * with its value, stores it, moves *i past the value and returns 1. */
int vigie_api_option(int argc, char **argv, int *i, char *http, size_t http_cap, char *token_file,
                     size_t token_cap);

/* The API's error message on stderr, with the legal rules' violations
 * when there are some; returns 1. */
int vigie_api_error(const char *where, int status, const char *body);

/* The legal rules' violations (a JSON array from the API), a line each. */
void vigie_print_violations(FILE *out, json_t *violations);

/* One API call expecting status `want`: 0 with *doc (parsed; NULL when
 * raw, the body then printed as is for --json), or 1/2 after a message. */
int vigie_api_call(const char *http, const char *token_file, bool raw, const char *method,
                   const char *path, const char *payload, int want, json_t **doc,
                   const char *where);

/* vigie_api_call as cr. */
int vigie_api_call_as(const char *http, const struct vigie_credentials *cr, bool raw,
                      const char *method, const char *path, const char *payload, int want,
                      json_t **doc, const char *where);

/* A whole number from 1: 0, or -1. */
int vigie_number(const char *s, long long *out);

/* A file's text (or standard input's for "-"), up to max bytes; NULL after
 * a message. */
char *vigie_read_file(const char *path, size_t max, const char *where);

/* A time in ms since the epoch as "YYYY-MM-DD HH:MM:SSZ". */
void vigie_when(long long ms, char *out, size_t cap);

#endif
