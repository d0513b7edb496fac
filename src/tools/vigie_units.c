/* vigie units: the units through vigied's API (docs/API.md, "Units").
 *
 *   vigie units list [--json]                   every unit, its measure and its health
 *   vigie units issue SERIAL --out DIR          its certificate and key, into DIR
 *   vigie units revoke SERIAL --note TEXT [--json]
 *
 * Common: --http HOST:PORT (127.0.0.1:8080), --token-file F (./var/admin.token),
 * --data-dir D (the token is D/admin.token). */
#include "tools/vigie_units.h"

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
#include "util/pki.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct uopts {
    char http[128];
    char token_file[600];
    const char *serial;
    const char *out_dir;
    const char *note;
    bool json;
};

static void usage(FILE *out)
{
    fputs("usage: vigie units list [--json]\n"
          "       vigie units issue SERIAL --out DIR\n"
          "       vigie units revoke SERIAL --note TEXT [--json]\n"
          "options: --http HOST:PORT, --token-file F | --data-dir D\n\n"
          "list shows every unit the centre knows: its role, the measure it serves, whether it\n"
          "is connected, when it was last heard, its battery and its certificate.\n"
          "issue has the centre's PKI issue the unit's certificate and key and writes\n"
          "DIR/SERIAL.crt, DIR/SERIAL.key (0600) and DIR/ca.crt, to be loaded into the unit;\n"
          "the key is given this once and never overwrites a file. Over plain HTTP, use it on\n"
          "the centre's machine only (loopback). revoke refuses the unit from its next\n"
          "connection.\n",
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
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        } else if (vigie_api_option(argc, argv, &i, o->http, sizeof o->http, o->token_file,
                                    sizeof o->token_file)) {
            continue;
        } else if (has_value && strcmp(a, "--out") == 0) {
            o->out_dir = argv[++i];
        } else if (has_value && strcmp(a, "--note") == 0) {
            o->note = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "%s: unknown option or missing value: %s (try: vigie units --help)\n",
                    where, a);
            return EXIT_USAGE;
        } else if (!o->serial) {
            o->serial = a;
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

/* What is wrong with a unit, in words ("" if nothing known is). */
static void notes(json_t *u, char *out, size_t cap)
{
    static const struct {
        const char *key;
        bool bad_when;
        const char *text;
    } flags[] = {
        {"powered_off", true, "switched off"},     {"comm_lost", true, "not heard"},
        {"strap_closed", false, "strap open"},     {"skin_contact", false, "no skin contact"},
        {"bracelet_link", false, "bracelet away"}, {"charging", true, "charging"},
    };
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        json_t *v = json_object_get(u, flags[i].key);
        if (!json_is_boolean(v) || json_is_true(v) != flags[i].bad_when)
            continue;
        int w = snprintf(out + n, cap - n, "%s%s", n ? ", " : "", flags[i].text);
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += (size_t)w;
    }
}

static void print_list(json_t *doc)
{
    printf("%-18s %-9s %-20s %-20s %-4s %-20s %-7s %-8s %s\n", "SERIAL", "ROLE", "MEASURE",
           "STATUS", "CONN", "LAST HEARD (UTC)", "BATTERY", "CERT", "NOTES");
    size_t i;
    json_t *u;
    json_array_foreach(doc, i, u)
    {
        json_t *m = json_object_get(u, "measure");
        json_t *heard = json_object_get(u, "last_heard_ms");
        json_t *battery = json_object_get(u, "battery_pct");
        char when[32] = "never", pct[16] = "-", why[96];
        if (json_is_integer(heard))
            vigie_when(json_integer_value(heard), when, sizeof when);
        if (json_is_integer(battery))
            snprintf(pct, sizeof pct, "%lld%%", (long long)json_integer_value(battery));
        notes(u, why, sizeof why);
        const char *role = str(u, "role"), *cert = str(u, "certificate");
        printf("%-18s %-9s %-20s %-20s %-4s %-20s %-7s %-8s %s\n", str(u, "serial"),
               role[0] ? role : "-", json_is_object(m) ? str(m, "name") : "-",
               json_is_object(m) ? str(m, "status") : "-",
               json_is_true(json_object_get(u, "connected")) ? "yes" : "no",
               json_is_object(m) ? when : "-", pct, cert[0] ? cert : "none", why);
    }
}

/* A new file holding text, durably; never over an existing one. 0, or -1
 * after a message (nothing left behind). */
static int write_new(const char *path, const char *text, mode_t mode, const char *where)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        fprintf(stderr, "%s: cannot create %s: %s\n", where, path, strerror(errno));
        return -1;
    }
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    bool ok = done == len && fsync(fd) == 0;
    int e = errno;
    if (close(fd) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "%s: cannot write %s: %s\n", where, path, strerror(e));
        unlink(path);
        return -1;
    }
    return 0;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* DIR/ca.crt: written if missing, left if it already holds this CA (one
 * directory for many units), refused if it holds another. */
static int write_ca(const char *path, const char *pem, const char *where)
{
    if (!exists(path))
        return write_new(path, pem, 0644, where);
    FILE *f = fopen(path, "r");
    size_t len = 0;
    char *old = f ? vigie_read_all(f, 64 * 1024, &len) : NULL;
    if (f)
        fclose(f);
    bool same = old && len == strlen(pem) && memcmp(old, pem, len) == 0;
    free(old);
    if (!same)
        fprintf(stderr,
                "%s: %s holds another certificate: not overwritten (the centre's CA is\n"
                "DATA_DIR/pki/ca.crt)\n",
                where, path);
    return same ? 0 : -1;
}

static int issue_unit(const struct uopts *o, const char *where)
{
    if (!o->out_dir || !o->out_dir[0]) {
        fprintf(stderr, "%s: --out DIR is required (the unit's files go there)\n", where);
        return EXIT_USAGE;
    }
    if (o->json) {
        fprintf(stderr, "%s: no --json: the key goes to a file, never to the terminal\n", where);
        return EXIT_USAGE;
    }
    char crt[1200], key[1200], ca[1200];
    if (strlen(o->out_dir) > sizeof crt - VG_PKI_NAME_MAX - 8) {
        fprintf(stderr, "%s: --out: the directory's path is too long\n", where);
        return EXIT_USAGE;
    }
    const char *sep = o->out_dir[strlen(o->out_dir) - 1] == '/' ? "" : "/";
    snprintf(crt, sizeof crt, "%s%s%s.crt", o->out_dir, sep, o->serial);
    snprintf(key, sizeof key, "%s%s%s.key", o->out_dir, sep, o->serial);
    snprintf(ca, sizeof ca, "%s%sca.crt", o->out_dir, sep);
    if (mkdir(o->out_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create %s: %s\n", where, o->out_dir, strerror(errno));
        return EXIT_FAIL;
    }
    /* checked before asking: the key comes once, and a serial is issued once */
    if (exists(crt) || exists(key)) {
        fprintf(stderr, "%s: %s already exists: not overwritten\n", where, exists(key) ? key : crt);
        return EXIT_FAIL;
    }
    json_t *body = json_pack("{s:s}", "serial", o->serial);
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!payload) {
        fprintf(stderr, "%s: out of memory\n", where);
        return EXIT_FAIL;
    }
    json_t *doc = NULL;
    int rc = vigie_api_call(o->http, o->token_file, false, "POST", "/api/v1/units", payload, 201,
                            &doc, where);
    free(payload);
    if (rc)
        return rc;
    const char *k = str(doc, "key"), *c = str(doc, "certificate"), *a = str(doc, "ca");
    if (!k[0] || !c[0] || !a[0]) {
        fprintf(stderr, "%s: the centre's answer has no certificate or key\n", where);
        json_decref(doc);
        return EXIT_FAIL;
    }
    /* the key first: it is the one thing the API does not give again */
    if (write_new(key, k, 0600, where) != 0 || write_new(crt, c, 0644, where) != 0) {
        fprintf(stderr,
                "%s: unit %s is issued but its files are not all written: take them from the "
                "centre's DATA_DIR/pki/units/, or revoke it and issue another serial\n",
                where, o->serial);
        json_decref(doc);
        return EXIT_FAIL;
    }
    rc = write_ca(ca, a, where) == 0 ? EXIT_OK : EXIT_FAIL;
    json_decref(doc);
    int dfd = open(o->out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* the new names, durable too */
        fsync(dfd);
        close(dfd);
    }
    printf("unit %s issued: %s, %s (keep it secret), %s\n", o->serial, crt, key, ca);
    return rc;
}

static int revoke_unit(const struct uopts *o, const char *where)
{
    if (!o->note || !o->note[0]) {
        fprintf(stderr, "%s: --note TEXT is required (why the unit is revoked)\n", where);
        return EXIT_USAGE;
    }
    json_t *body = json_pack("{s:s}", "note", o->note);
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!payload) {
        fprintf(stderr, "%s: out of memory\n", where);
        return EXIT_FAIL;
    }
    char path[128];
    snprintf(path, sizeof path, "/api/v1/units/%s/revoke", o->serial);
    json_t *doc = NULL;
    int rc =
        vigie_api_call(o->http, o->token_file, o->json, "POST", path, payload, 200, &doc, where);
    free(payload);
    if (rc == 0 && !o->json)
        printf("unit %s revoked: refused from its next connection\n", o->serial);
    json_decref(doc);
    return rc;
}

int vigie_units_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *cmd = argv[1];
    bool list = strcmp(cmd, "list") == 0, is_issue = strcmp(cmd, "issue") == 0;
    bool is_revoke = strcmp(cmd, "revoke") == 0;
    if (!list && !is_issue && !is_revoke) {
        fprintf(stderr, "vigie units: unknown command '%s' (try: vigie units --help)\n", cmd);
        return EXIT_USAGE;
    }
    char where[64];
    snprintf(where, sizeof where, "vigie units %s", cmd);
    struct uopts o = {0};
    int rc = parse(argc - 1, argv + 1, &o, where);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (list) {
        if (o.serial || o.out_dir || o.note) {
            fprintf(stderr, "%s: no argument but --json\n", where);
            return EXIT_USAGE;
        }
        json_t *doc = NULL;
        rc = vigie_api_call(o.http, o.token_file, o.json, "GET", "/api/v1/units", NULL, 200, &doc,
                            where);
        if (rc == 0 && doc)
            print_list(doc);
        json_decref(doc);
        return rc;
    }
    /* the serial names files: only the PKI's alphabet, never a path */
    if (!o.serial || !vg_pki_name_valid(o.serial)) {
        fprintf(stderr,
                "%s: give the unit's serial (1 to 64 of A-Z a-z 0-9 . _ -, not starting with "
                "'.' or '-')\n",
                where);
        return EXIT_USAGE;
    }
    if (is_issue ? o.note != NULL : o.out_dir != NULL) {
        fprintf(stderr, "%s: %s does not apply here\n", where, is_issue ? "--note" : "--out");
        return EXIT_USAGE;
    }
    return is_issue ? issue_unit(&o, where) : revoke_unit(&o, where);
}
