/* vigie: the platform's command-line tool.
 *
 *   vigie COMMAND [SUBCOMMAND] [OPTIONS] [ARGS]
 *
 * Commands are rows of a table (struct command): a name, a synopsis, a
 * one-line summary and a function taking (argc, argv) with argv[0] the
 * command's own name. A command with subcommands dispatches again through
 * its own table, so adding `vigie measure ...` is one row here and one
 * table with its functions.
 *
 * Exit codes: 0 success, 1 failure (the operation was refused or failed;
 * the reason is on stderr), 2 usage (bad command line). Never a prompt:
 * the tool runs from scripts and cron as well as from a terminal. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/err.h"
#include "tools/vigie_incident.h"
#include "tools/vigie_journal.h"
#include "tools/vigie_report.h"
#include "tools/vigie_measure.h"
#include "tools/vigie_person.h"
#include "tools/vigie_session.h"
#include "tools/vigie_stats.h"
#include "tools/vigie_units.h"
#include "tools/vigie_user.h"
#include "util/pki.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct command {
    const char *name;
    const char *synopsis; /* what follows the name */
    const char *summary;
    int (*run)(int argc, char **argv);
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

__attribute__((format(printf, 2, 3))) static int usage_error(const char *where, const char *fmt,
                                                             ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", where);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try: %s --help)\n", where);
    return EXIT_USAGE;
}

static int failure(const char *where, const char *message)
{
    fprintf(stderr, "%s: %s\n", where, message);
    return EXIT_FAIL;
}

static int is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 || strcmp(arg, "help") == 0;
}

static void print_table(FILE *out, const char *prefix, const struct command *table, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char head[128];
        snprintf(head, sizeof head, "%s %s %s", prefix, table[i].name, table[i].synopsis);
        fprintf(out, "  %-56s %s\n", head, table[i].summary);
    }
}

/* Run the row of table named argv[0]; `prefix` names the level ("vigie",
 * "vigie pki") in messages. usage() prints the level's help. */
static int dispatch(const char *prefix, const struct command *table, size_t n,
                    void (*usage)(FILE *out), int argc, char **argv)
{
    if (argc < 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(argv[0], table[i].name) == 0)
            return table[i].run(argc, argv);
    if (is_help(argv[0])) {
        usage(stdout);
        return EXIT_OK;
    }
    return usage_error(prefix, "unknown command '%s'", argv[0]);
}

static void format_time(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "?");
}

/* --- vigie pki ------------------------------------------------------------ */

#define PKI_MAX_SANS 16
#define PATH_CAP     4096

/* Options a pki command accepts (a mask per command). */
enum {
    OPT_DIR = 1 << 0, /* --dir and --data-dir */
    OPT_SAN = 1 << 1,
    OPT_JSON = 1 << 2,
    OPT_CN = 1 << 3,
};

struct pki_args {
    char where[64]; /* "vigie pki issue-unit", for messages */
    const char *dir;
    char dir_buf[PATH_CAP];
    const char *sans[PKI_MAX_SANS];
    size_t n_sans;
    int json;
    const char *cn;
    const char *arg; /* the one positional argument, when the command takes one */
};

static void pki_usage(FILE *out);

static void pki_command_usage(FILE *out, const char *name);

/* Parse argv of one pki command. Returns -1 when --help was printed
 * (exit 0), EXIT_USAGE on a bad command line, else EXIT_OK. arg_name is the
 * positional argument's name, or NULL when the command takes none. */
static int pki_parse(int argc, char **argv, unsigned allowed, const char *arg_name,
                     struct pki_args *a)
{
    static const struct option options[] = {
        {"dir", required_argument, NULL, 'd'},
        {"data-dir", required_argument, NULL, 'D'},
        {"san", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"cn", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    snprintf(a->where, sizeof a->where, "vigie pki %s", argv[0]);
    const char *dir = NULL, *data_dir = NULL;
    opterr = 0;
    optind = 0; /* glibc: restart the scan from scratch */
    for (;;) {
        int index = -1;
        int c = getopt_long(argc, argv, ":h", options, &index);
        if (c == -1)
            break;
        unsigned need = c == 'd' || c == 'D' ? OPT_DIR
                        : c == 's'           ? OPT_SAN
                        : c == 'j'           ? OPT_JSON
                        : c == 'c'           ? OPT_CN
                                             : 0;
        if (need && !(allowed & need))
            return usage_error(a->where, "option '--%s' does not apply here",
                               index >= 0 ? options[index].name : "?");
        switch (c) {
        case 'h': pki_command_usage(stdout, argv[0]); return -1;
        case 'd': dir = optarg; break;
        case 'D': data_dir = optarg; break;
        case 'j': a->json = 1; break;
        case 'c': a->cn = optarg; break;
        case 's':
            if (a->n_sans == PKI_MAX_SANS)
                return usage_error(a->where, "at most %d --san", PKI_MAX_SANS);
            a->sans[a->n_sans++] = optarg;
            break;
        case ':': return usage_error(a->where, "option '%s' needs a value", argv[optind - 1]);
        default: return usage_error(a->where, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (dir && data_dir)
        return usage_error(a->where, "give --dir or --data-dir, not both");
    if (data_dir) {
        int n = snprintf(a->dir_buf, sizeof a->dir_buf, "%s/pki", data_dir);
        if (n < 0 || n >= (int)sizeof a->dir_buf)
            return usage_error(a->where, "--data-dir is too long");
        a->dir = a->dir_buf;
    } else {
        a->dir = dir ? dir : VG_PKI_DEFAULT_DIR;
    }
    if (!a->dir[0])
        return usage_error(a->where, "the PKI directory is empty");
    int left = argc - optind;
    if (arg_name) {
        if (left < 1)
            return usage_error(a->where, "missing %s", arg_name);
        if (left > 1)
            return usage_error(a->where, "one %s only; unexpected '%s'", arg_name,
                               argv[optind + 1]);
        a->arg = argv[optind];
    } else if (left > 0) {
        return usage_error(a->where, "unexpected argument '%s'", argv[optind]);
    }
    return EXIT_OK;
}

static void print_issued(const struct pki_args *a, const char *sub, const struct vg_pki_entry *e)
{
    char until[32];
    format_time(e->not_after, until, sizeof until);
    printf("issued %s %s (certificate serial %s, valid until %s)\n", vg_pki_kind_name(e->kind),
           e->name, e->cert_serial, until);
    printf("  certificate: %s/%s/%s.crt\n", a->dir, sub, e->name);
    printf("  key:         %s/%s/%s.key (mode 0600; copy it to the %s only)\n", a->dir, sub,
           e->name, e->kind == VG_PKI_UNIT ? "unit" : "server");
}

static int pki_init(int argc, char **argv)
{
    struct pki_args a;
    int rc = pki_parse(argc, argv, OPT_DIR | OPT_CN, NULL, &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    char err[512];
    if (vg_pki_init(a.dir, a.cn, err, sizeof err) != VG_OK)
        return failure(a.where, err);
    printf("created a certificate authority in %s\n", a.dir);
    printf("  %s/ca.crt   the CA certificate (give it to the daemon and the units)\n", a.dir);
    printf("  %s/ca.key   the CA key (mode 0600; in production keep it offline)\n", a.dir);
    printf("  %s/crl.pem  the revocation list (valid %d days: refresh it with vigie pki crl)\n",
           a.dir, VG_PKI_CRL_DAYS);
    return EXIT_OK;
}

static int pki_issue_unit(int argc, char **argv)
{
    struct pki_args a;
    int rc = pki_parse(argc, argv, OPT_DIR, "SERIAL", &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    char err[512];
    struct vg_pki_entry e;
    if (vg_pki_issue_unit(a.dir, a.arg, &e, err, sizeof err) != VG_OK)
        return failure(a.where, err);
    print_issued(&a, "units", &e);
    return EXIT_OK;
}

static int pki_issue_server(int argc, char **argv)
{
    struct pki_args a;
    int rc = pki_parse(argc, argv, OPT_DIR | OPT_SAN, "NAME", &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    char err[512];
    struct vg_pki_entry e;
    if (vg_pki_issue_server(a.dir, a.arg, a.sans, a.n_sans, &e, err, sizeof err) != VG_OK)
        return failure(a.where, err);
    print_issued(&a, "servers", &e);
    return EXIT_OK;
}

static int pki_revoke(int argc, char **argv)
{
    struct pki_args a;
    int rc = pki_parse(argc, argv, OPT_DIR, "SERIAL", &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    char err[512];
    if (vg_pki_revoke(a.dir, a.arg, err, sizeof err) != VG_OK)
        return failure(a.where, err);
    printf("revoked unit %s; %s/crl.pem re-signed\n", a.arg, a.dir);
    printf("  the daemon refuses it once it reloads the CRL (SIGHUP)\n");
    return EXIT_OK;
}

static int pki_crl(int argc, char **argv)
{
    struct pki_args a;
    int rc = pki_parse(argc, argv, OPT_DIR, NULL, &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    char err[512], when[32];
    int64_t next = 0;
    if (vg_pki_crl_refresh(a.dir, &next, err, sizeof err) != VG_OK)
        return failure(a.where, err);
    format_time(next, when, sizeof when);
    printf("%s/crl.pem re-signed; next update %s\n", a.dir, when);
    return EXIT_OK;
}

/* Listing: rows collected by the callback, printed as a table or JSON. */
struct list_state {
    int64_t now;
    size_t rows, revoked;
    json_t *array; /* NULL: table */
    int oom;
};

static const char *status_of(const struct vg_pki_entry *e, int64_t now)
{
    return e->revoked_at ? "revoked" : e->not_after < now ? "expired" : "valid";
}

static int list_row(const struct vg_pki_entry *e, void *arg)
{
    struct list_state *s = arg;
    char not_after[32], revoked[32] = "";
    format_time(e->not_after, not_after, sizeof not_after);
    if (e->revoked_at)
        format_time(e->revoked_at, revoked, sizeof revoked);
    s->rows++;
    s->revoked += e->revoked_at != 0;
    if (!s->array) {
        if (s->rows == 1)
            printf("%-7s %-24s %-32s %-20s %s\n", "KIND", "NAME", "CERT SERIAL", "NOT AFTER",
                   "STATUS");
        printf("%-7s %-24s %-32s %-20s %s%s%s\n", vg_pki_kind_name(e->kind), e->name,
               e->cert_serial, not_after, status_of(e, s->now), e->revoked_at ? " " : "", revoked);
        return 0;
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "kind", vg_pki_kind_name(e->kind),
                          "name", e->name, "cert_serial", e->cert_serial, "not_after", not_after,
                          "status", status_of(e, s->now), "revoked_at",
                          e->revoked_at ? json_string(revoked) : json_null());
    if (!o || json_array_append_new(s->array, o) != 0) {
        s->oom = 1;
        return 1;
    }
    return 0;
}

static int pki_list(int argc, char **argv)
{
    struct pki_args a;
    int rc = pki_parse(argc, argv, OPT_DIR | OPT_JSON, NULL, &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    char err[512], crl_path[PATH_CAP], next_text[32] = "?";
    struct list_state s = {.now = (int64_t)time(NULL)};
    int64_t next = 0;
    snprintf(crl_path, sizeof crl_path, "%s/crl.pem", a.dir);
    int have_crl = vg_pki_crl_times(crl_path, NULL, &next, err, sizeof err) == VG_OK;
    if (have_crl)
        format_time(next, next_text, sizeof next_text);

    if (a.json) {
        s.array = json_array();
        if (!s.array)
            return failure(a.where, "out of memory");
    }
    rc = vg_pki_list(a.dir, list_row, &s, err, sizeof err);
    if (rc != VG_OK) {
        json_decref(s.array);
        return failure(a.where, s.oom ? "out of memory" : err);
    }
    if (!a.json) {
        printf("%zu certificate(s), %zu revoked; CRL next update %s%s\n", s.rows, s.revoked,
               next_text, have_crl && next < s.now ? " (LAPSED: run vigie pki crl)" : "");
        return EXIT_OK;
    }
    json_t *doc = json_pack("{s:s, s:o, s:o}", "dir", a.dir, "crl_next_update",
                            have_crl ? json_string(next_text) : json_null(), "certificates",
                            s.array); /* json_pack's "o" takes the reference, even on failure */
    if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2)) != 0) {
        json_decref(doc);
        return failure(a.where, "cannot write the JSON output");
    }
    putchar('\n');
    json_decref(doc);
    return EXIT_OK;
}

static const struct command pki_commands[] = {
    {"init", "[--dir DIR] [--cn NAME]", "create the certificate authority", pki_init},
    {"issue-unit", "SERIAL [--dir DIR]", "issue a unit's client certificate", pki_issue_unit},
    {"issue-server", "NAME [--dir DIR] [--san X]...", "issue a server certificate",
     pki_issue_server},
    {"revoke", "SERIAL [--dir DIR]", "revoke a unit and re-sign the CRL", pki_revoke},
    {"crl", "[--dir DIR]", "re-sign the CRL (next update in 30 days)", pki_crl},
    {"list", "[--dir DIR] [--json]", "what was issued and revoked", pki_list},
};

static void pki_usage(FILE *out)
{
    fprintf(out,
            "usage: vigie pki COMMAND [ARGS]\n\n"
            "The certificate authority of the device link (TLS 1.3, mutual authentication).\n\n");
    print_table(out, "vigie pki", pki_commands, COUNT(pki_commands));
    fprintf(out,
            "\nOptions:\n"
            "  --dir DIR        the PKI directory (default %s)\n"
            "  --data-dir D     the same as --dir D/pki\n"
            "  --san X          issue-server: also valid for X (a DNS name or an IP address),\n"
            "                   e.g. --san localhost --san 127.0.0.1; repeatable\n"
            "  --cn NAME        init: the CA's common name (default \"Vigie CA\")\n"
            "  --json           list: JSON output\n"
            "\nUnit serials and server names: 1 to %d characters of A-Z a-z 0-9 . _ -,\n"
            "not starting with '.' or '-'. See docs/OPERATIONS.md, section PKI.\n",
            VG_PKI_DEFAULT_DIR, VG_PKI_NAME_MAX);
}

static void pki_command_usage(FILE *out, const char *name)
{
    for (size_t i = 0; i < COUNT(pki_commands); i++)
        if (strcmp(pki_commands[i].name, name) == 0) {
            fprintf(out, "usage: vigie pki %s %s\n  %s\n\n", name, pki_commands[i].synopsis,
                    pki_commands[i].summary);
            break;
        }
    pki_usage(out);
}

static int cmd_pki(int argc, char **argv)
{
    return dispatch("vigie pki", pki_commands, COUNT(pki_commands), pki_usage, argc - 1, argv + 1);
}

/* --- the top level -------------------------------------------------------- */

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
    {"pki", "COMMAND [ARGS]", "the certificate authority (vigie pki --help)", cmd_pki},
    {"measure", "create|list [ARGS]", "declare and list measures (vigie measure --help)",
     vigie_measure_main},
    {"person", "list|add|show|versions|update", "persons' files (vigie person --help)",
     vigie_person_main},
    {"units", "list|issue|revoke [ARGS]",
     "units: their health, certificates issued and revoked (vigie units --help)", vigie_units_main},
    {"stats", "[--from|--to YYYY-MM] [--csv|--json]",
     "the measures' figures by court and month, anonymised (vigie stats --help)", vigie_stats_main},
    {"user", "list|add|passwd|set|disable|enable", "users' accounts (vigie user --help)",
     vigie_user_main},
    {"journal", "verify [ARGS]", "check the journal's hash chain (vigie journal --help)",
     vigie_journal_main},
    {"report", "draw ID [ARGS]",
     "an incident's report drawn offline from the database (vigie report --help)",
     vigie_report_main},
    {"login", "NAME --password-stdin", "open a session as a user (vigie login --help)",
     vigie_login_main},
    {"logout", "[--session F]", "end the session", vigie_logout_main},
    {"incident", "list|show|take|step|note|close",
     "the incidents: queue, taking, steps, closing (vigie incident --help)", vigie_incident_main},
    {"floor", "[--hours N] [--json]", "the floor view: queue, response times, operators",
     vigie_floor_main},
    {"help", "[COMMAND]", "this help, or a command's", cmd_help},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: vigie COMMAND [ARGS]\n\nCommands:\n");
    print_table(out, "vigie", commands, COUNT(commands));
    fprintf(out, "\nExit status: 0 success, 1 failure, 2 bad command line.\n");
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return EXIT_OK;
    }
    if (argc > 2)
        return usage_error("vigie help", "one command at a time");
    static char help_flag[] = "--help";
    char *help_argv[] = {argv[1], help_flag, NULL};
    if (strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    return dispatch("vigie", commands, COUNT(commands), usage, 2, help_argv);
}

int main(int argc, char **argv)
{
    return dispatch("vigie", commands, COUNT(commands), usage, argc - 1, argv + 1);
}
