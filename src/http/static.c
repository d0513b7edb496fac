/* The operator console's static files (web/console, assembled by the build
 * with its libraries and map layers: docs/ARCHITECTURE.md), served from one
 * directory, console_dir, at "/": "/" is index.html, "/vendor/leaflet/..."
 * and "/geo/..." are files under it like any other.
 *
 * Only GET and HEAD. A path is decoded once and then refused (404) unless
 * every segment is made of letters, digits, '.', '_' and '-' and does not
 * start with '.': no "..", no hidden file, no NUL, no backslash, no empty
 * segment. The file found is then resolved (realpath) and must still lie
 * under the root: a symbolic link that leads out of it is refused too.
 * Only regular files are served.
 *
 * Every answer carries a strict Content-Security-Policy (everything from
 * this origin only, no inline script or style; images also from the tile
 * server if one is configured), X-Content-Type-Options: nosniff, no
 * referrer, no framing. The libraries and map layers (/vendor/, /geo/) may
 * be cached for a day; the console's own files are revalidated each time
 * (Last-Modified, If-Modified-Since: 304).
 *
 * GET /config.json is not a file: the console's settings from vigied's
 * configuration (the tile source, the escalation delays the queue's timers
 * count down to). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "core/err.h"
#include "http/http_internal.h"
#include "util/log.h"

#define STATIC_PATH_MAX 1024
#define STATIC_FILE_MAX (64 * 1024 * 1024)

struct vg_static {
    char root[PATH_MAX]; /* resolved; "" when there is no console */
    char csp[1024];
    char *config_json;
};

/* "scheme://host[:port]" of a URL template, or "" (nothing else is let into
 * the policy: a template with anything odd in its origin is not used). */
static void origin_of(const char *url, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = strstr(url, "://");
    if (!p || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0))
        return;
    p += 3;
    size_t n = strcspn(p, "/");
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '{' || c == '}'))
            return;
    }
    size_t len = (size_t)(p - url) + n;
    if (len >= cap)
        return;
    memcpy(out, url, len);
    out[len] = '\0';
    /* a {s} subdomain template: the policy allows its subdomains */
    char *brace = strstr(out, "{s}.");
    if (brace) {
        memmove(brace + 1, brace + 3, strlen(brace + 3) + 1);
        brace[0] = '*';
    }
}

int vg__static_new(struct vg_http *h, const struct vg_http_console *c, char *err, size_t err_len)
{
    struct vg_static *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    const char *tiles = c && c->tiles ? c->tiles : "";
    if (c && c->dir && c->dir[0]) {
        if (!realpath(c->dir, s->root)) {
            /* the daemon runs without a console (the API is what matters) */
            vg_log(VG_LOG_WARN, "no console: console_dir cannot be read", "console_dir", c->dir,
                   "reason", strerror(errno), NULL);
            s->root[0] = '\0';
        }
    }
    char origin[300];
    origin_of(tiles, origin, sizeof origin);
    if (tiles[0] && !origin[0])
        vg_log(VG_LOG_WARN, "console_tiles is not an http(s) URL template: not used",
               "console_tiles", tiles, NULL);
    snprintf(s->csp, sizeof s->csp,
             "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:%s%s; "
             "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
             "form-action 'self'; frame-ancestors 'none'",
             origin[0] ? " " : "", origin);
    json_t *take = json_array(), *progress = json_array();
    for (int k = 1; c && k <= 5; k++) {
        json_array_append_new(take, json_integer(c->escalate_take_ms[k]));
        json_array_append_new(progress, json_integer(c->escalate_progress_ms[k]));
    }
    json_t *cfg =
        json_pack("{s:s,s:s,s:o,s:o}", "tiles", origin[0] ? tiles : "", "tiles_attribution",
                  c && c->tiles_attribution ? c->tiles_attribution : "", "escalate_take_ms", take,
                  "escalate_progress_ms", progress);
    s->config_json = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
    json_decref(cfg);
    if (!s->config_json) {
        free(s);
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    h->console = s;
    return VG_OK;
}

void vg__static_free(struct vg_http *h)
{
    if (!h->console)
        return;
    free(h->console->config_json);
    free(h->console);
    h->console = NULL;
}

/* ---- answers --------------------------------------------------------------------------------- */

static void common_headers(const struct vg_static *s, struct evkeyvalq *hd)
{
    evhttp_add_header(hd, "Content-Security-Policy", s->csp);
    evhttp_add_header(hd, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(hd, "Referrer-Policy", "no-referrer");
    evhttp_add_header(hd, "X-Frame-Options", "DENY");
    evhttp_add_header(hd, "Cross-Origin-Opener-Policy", "same-origin");
    evhttp_add_header(hd, "Cross-Origin-Resource-Policy", "same-origin");
    evhttp_add_header(hd, "Permissions-Policy", "geolocation=(), camera=(), microphone=()");
}

static void reply_text(const struct vg_static *s, struct evhttp_request *req, int status,
                       const char *reason, const char *text)
{
    struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
    common_headers(s, hd);
    evhttp_add_header(hd, "Content-Type", "text/plain; charset=utf-8");
    evhttp_add_header(hd, "Cache-Control", "no-store");
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add_printf(b, "%s\n", text);
    evhttp_send_reply(req, status, reason, b);
    if (b)
        evbuffer_free(b);
}

static void not_found(const struct vg_static *s, struct evhttp_request *req)
{
    reply_text(s, req, 404, "Not Found", "not found");
}

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json; charset=utf-8"},
        {".geojson", "application/geo+json"},
        {".map", "application/json; charset=utf-8"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* Whether a decoded path is one this server may look for: "/" and segments
 * of [A-Za-z0-9._-] not starting with '.', none empty (a final '/' aside). */
bool vg__static_path_ok(const char *path, size_t len)
{
    if (len == 0 || len >= STATIC_PATH_MAX || path[0] != '/' || strlen(path) != len)
        return false; /* a NUL inside */
    const char *seg = path + 1;
    for (const char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - seg);
            if (n == 0 && !(*p == '\0' && p == path + len))
                return false; /* "//" */
            if (n > 0 && seg[0] == '.')
                return false; /* "..", ".", ".hidden" */
            if (*p == '\0')
                return true;
            seg = p + 1;
            continue;
        }
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
}

static void http_date(time_t t, char *out, size_t cap)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void vg__http_on_static(struct vg_http *h, struct evhttp_request *req, enum evhttp_cmd_type cmd,
                        const char *raw_path)
{
    struct vg_static *s = h->console;
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        reply_text(s, req, 405, "Method Not Allowed", "method not allowed: GET, HEAD");
        return;
    }
    if (strcmp(raw_path, "/config.json") == 0) {
        struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
        common_headers(s, hd);
        evhttp_add_header(hd, "Content-Type", "application/json; charset=utf-8");
        evhttp_add_header(hd, "Cache-Control", "no-store");
        struct evbuffer *b = evbuffer_new();
        if (b)
            evbuffer_add_printf(b, "%s\n", s->config_json);
        evhttp_send_reply(req, 200, "OK", b);
        if (b)
            evbuffer_free(b);
        return;
    }
    if (!s->root[0]) {
        reply_text(s, req, 404, "Not Found",
                   "the console is not installed here (vigied's console_dir setting)");
        return;
    }
    size_t len = 0;
    char *path = evhttp_uridecode(raw_path, 0, &len);
    if (!path || !vg__static_path_ok(path, len)) {
        free(path);
        not_found(s, req);
        return;
    }
    char want[PATH_MAX + STATIC_PATH_MAX + 16];
    bool dir_index = path[len - 1] == '/';
    snprintf(want, sizeof want, "%s%s%s", s->root, path, dir_index ? "index.html" : "");
    bool cacheable = strncmp(path, "/vendor/", 8) == 0 || strncmp(path, "/geo/", 5) == 0;
    free(path);
    char real[PATH_MAX];
    size_t rl = strlen(s->root);
    if (!realpath(want, real) || strncmp(real, s->root, rl) != 0 || real[rl] != '/') {
        not_found(s, req); /* missing, or leads out of the root */
        return;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > STATIC_FILE_MAX) {
        if (fd >= 0)
            close(fd);
        not_found(s, req);
        return;
    }
    struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
    char modified[64];
    http_date(st.st_mtime, modified, sizeof modified);
    common_headers(s, hd);
    evhttp_add_header(hd, "Cache-Control", cacheable ? "public, max-age=86400" : "no-cache");
    evhttp_add_header(hd, "Last-Modified", modified);
    const char *since = vg__http_header(req, "If-Modified-Since");
    if (since && strcmp(since, modified) == 0) {
        close(fd);
        evhttp_send_reply(req, 304, "Not Modified", NULL);
        return;
    }
    evhttp_add_header(hd, "Content-Type", content_type(real));
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        close(fd);
        reply_text(s, req, 503, "Service Unavailable", "out of memory");
        return;
    }
    if (cmd == EVHTTP_REQ_HEAD) {
        char n[32];
        snprintf(n, sizeof n, "%lld", (long long)st.st_size);
        close(fd);
        evhttp_add_header(hd, "Content-Length", n);
    } else if (st.st_size > 0 && evbuffer_add_file(b, fd, 0, st.st_size) != 0) {
        evbuffer_free(b);
        reply_text(s, req, 503, "Service Unavailable", "cannot read the file");
        return;
    } else if (st.st_size == 0) {
        close(fd);
    }
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}
