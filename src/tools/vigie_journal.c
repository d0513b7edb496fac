/* vigie journal verify: walks the journal in the database itself (not
 * through the API: an auditor checks the file, whoever runs the daemon)
 * and recomputes the chain; names the first entry that breaks it.
 *
 *   vigie journal verify [--data-dir D | --db LOCATION] [--head ID:HEX] [--json]
 *                        [--report FILE]
 *
 * --head: a head noted earlier (vigied logs it at start and stop): the
 * chain must reach that entry with that hash, so that entries cut off at
 * the end are found too. --report: a report drawn as PDF (report/incident_pdf.h)
 * carries its seal (the report.create entry, its hash, the record's
 * SHA-256): the entry must be in the intact chain with that hash, vouch for
 * that SHA-256, and the stored record must still have it. Exit 0 intact, 1
 * broken (or unreadable), 2 usage. */
#include "tools/vigie_journal.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "core/err.h"
#include "report/incident_pdf.h"
#include "store/store.h"
#include "util/journal.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
    fputs("usage: vigie journal verify [--data-dir D | --db LOCATION] [--head ID:HEX] [--json]\n"
          "                            [--report FILE]\n\n"
          "Recompute the journal's hash chain in the database (default: ./var/vigie.db) and\n"
          "name the first entry that was modified, removed or moved. --head ID:HEX (a head\n"
          "vigied logged) also catches entries cut off at the end. --report FILE checks a\n"
          "report drawn as PDF against the journal and the stored record.\n",
          out);
}

struct walk {
    struct vg_journal_check check;
    int64_t head_id;
    uint8_t head_hash[VG_JOURNAL_HASH_LEN];
    int head_seen, head_matches;
    /* --report: the seal a PDF carries, and what the journal says of it */
    const struct vg_report_seal *seal;
    int seal_seen;
    char seal_problem[200];
};

/* The entry a report's seal names: it must be that report's report.create,
 * with that hash, vouching for a record of that SHA-256. */
static void check_seal(struct walk *w, const struct vg_journal_entry *e)
{
    const struct vg_report_seal *seal = w->seal;
    char hex[VG_JOURNAL_HEX_LEN + 1], subject[48];
    w->seal_seen = 1;
    vg_journal_hex(e->hash, hex);
    snprintf(subject, sizeof subject, "incident/%lld", (long long)seal->incident_id);
    json_t *detail = json_loads(e->detail, 0, NULL);
    const char *sha = json_string_value(json_object_get(detail, "sha256"));
    if (strcmp(hex, seal->journal_hash) != 0)
        snprintf(w->seal_problem, sizeof w->seal_problem,
                 "journal entry %lld does not have the hash the report carries",
                 (long long)e->id);
    else if (strcmp(e->action, "report.create") != 0 || strcmp(e->subject, subject) != 0)
        snprintf(w->seal_problem, sizeof w->seal_problem,
                 "journal entry %lld is not the report.create of incident %lld",
                 (long long)e->id, (long long)seal->incident_id);
    else if (!sha || strcmp(sha, seal->sha256) != 0)
        snprintf(w->seal_problem, sizeof w->seal_problem,
                 "journal entry %lld vouches for another record than the report's",
                 (long long)e->id);
    json_decref(detail);
}

struct record_sha {
    char hex[VG_JOURNAL_HEX_LEN + 1];
};

static int hash_record(void *arg, const struct vg_store_report *r)
{
    struct record_sha *x = arg;
    return vg_sha256_hex(r->content, strlen(r->content), x->hex);
}

/* The PDF's bytes (to free), or NULL with the reason printed. */
static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "vigie journal verify: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            if (cap >= (size_t)64 << 20) { /* no report is that large */
                free(buf);
                buf = NULL;
                fprintf(stderr, "vigie journal verify: %s is too large for a report\n", path);
                break;
            }
            unsigned char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static int on_entry(void *arg, const struct vg_journal_entry *e)
{
    struct walk *w = arg;
    if (vg_journal_check_next(&w->check, e) != VG_OK)
        return 1; /* the first bad one is enough */
    if (w->seal && e->id == w->seal->journal_id)
        check_seal(w, e);
    if (w->head_id > 0 && e->id == w->head_id) {
        w->head_seen = 1;
        w->head_matches = memcmp(e->hash, w->head_hash, VG_JOURNAL_HASH_LEN) == 0;
    }
    return 0;
}

int vigie_open_existing_store(const char *where, const char *data_dir, const char *db,
                              struct vg_store **out)
{
    char location[4200];
    if (db)
        snprintf(location, sizeof location, "%s", db);
    else
        snprintf(location, sizeof location, "sqlite:%s/vigie.db", data_dir ? data_dir : "./var");
    /* a reading tool (an auditor's above all) never creates the database it
     * was asked to read */
    const char *path = strncmp(location, "sqlite:", 7) == 0 ? location + 7 : location;
    struct stat sb;
    if (strstr(location, "://") == NULL && stat(path, &sb) != 0) {
        fprintf(stderr, "%s: no database at %s\n", where, path);
        return 1;
    }
    char err[512];
    if (vg_store_open(location, out, err, sizeof err) != VG_OK) {
        fprintf(stderr, "%s: %s\n", where, err);
        return 1;
    }
    return 0;
}

static int verify(int argc, char **argv)
{
    static const struct option opts[] = {{"data-dir", required_argument, 0, 'd'},
                                         {"db", required_argument, 0, 'b'},
                                         {"head", required_argument, 0, 'H'},
                                         {"json", no_argument, 0, 'j'},
                                         {"report", required_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *data_dir = NULL, *db = NULL, *head = NULL, *report = NULL;
    struct vg_report_seal seal;
    int json = 0, c;
    struct walk w;
    memset(&w, 0, sizeof w);
    vg_journal_check_init(&w.check);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data_dir = optarg; break;
        case 'b': db = optarg; break;
        case 'H': head = optarg; break;
        case 'j': json = 1; break;
        case 'r': report = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        case ':':
            fprintf(stderr, "vigie journal verify: option '%s' needs a value\n", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "vigie journal verify: unknown option '%s'\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "vigie journal verify: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (data_dir && db) {
        fprintf(stderr, "vigie journal verify: give --data-dir or --db, not both\n");
        return EXIT_USAGE;
    }
    if (head) {
        char *colon = strchr(head, ':'), *end = NULL;
        long long id = colon ? strtoll(head, &end, 10) : 0;
        if (!colon || end != colon || id <= 0 || vg_journal_unhex(colon + 1, w.head_hash) != 0) {
            fprintf(stderr, "vigie journal verify: --head is ID:HEX (64 hex digits), as vigied "
                            "logs it\n");
            return EXIT_USAGE;
        }
        w.head_id = id;
    }
    if (report) {
        size_t len = 0;
        unsigned char *pdf = read_file(report, &len);
        if (!pdf)
            return EXIT_FAIL;
        int sr = vg_report_seal_read(pdf, len, &seal);
        free(pdf);
        if (sr != VG_OK) {
            fprintf(stderr, "vigie journal verify: %s carries %s\n", report,
                    sr == VG_ENOTFOUND ? "no Vigie seal (not a Vigie report, or its metadata "
                                         "was removed)"
                                       : "a malformed seal");
            return EXIT_FAIL;
        }
        w.seal = &seal;
    }
    struct vg_store *s = NULL;
    if (vigie_open_existing_store("vigie journal verify", data_dir, db, &s) != 0)
        return EXIT_FAIL;
    int rc;
    rc = vg_store_journal(s, 0, on_entry, &w);
    struct record_sha record = {""};
    int record_rc = report ? vg_store_report(s, seal.incident_id, hash_record, &record) : VG_OK;
    vg_store_close(s);
    if (rc < 0) {
        fprintf(stderr, "vigie journal verify: cannot read the journal (%s)\n", vg_strerror(rc));
        return EXIT_FAIL;
    }
    char hex[VG_JOURNAL_HEX_LEN + 1];
    vg_journal_hex(w.check.last_hash, hex);
    const char *problem = NULL;
    char why[300];
    if (w.check.bad_id != 0) {
        snprintf(why, sizeof why, "entry %lld: %s", (long long)w.check.bad_id, w.check.why);
        problem = why;
    } else if (w.head_id > 0 && !w.head_seen) {
        snprintf(why, sizeof why,
                 "the journal ends at entry %lld, before the head noted (%lld): entries were "
                 "cut off at the end",
                 (long long)w.check.last_id, (long long)w.head_id);
        problem = why;
    } else if (w.head_id > 0 && !w.head_matches) {
        snprintf(why, sizeof why, "entry %lld does not have the hash of the head noted",
                 (long long)w.head_id);
        problem = why;
    } else if (report && !w.seal_seen) {
        snprintf(why, sizeof why, "the report's journal entry %lld is not in the journal",
                 (long long)seal.journal_id);
        problem = why;
    } else if (report && w.seal_problem[0]) {
        problem = w.seal_problem;
    } else if (report && record_rc != VG_OK) {
        snprintf(why, sizeof why, "the record of incident %lld's report is not in the store",
                 (long long)seal.incident_id);
        problem = why;
    } else if (report && strcmp(record.hex, seal.sha256) != 0) {
        snprintf(why, sizeof why,
                 "the stored record of incident %lld's report was modified (its SHA-256 is no "
                 "longer the one sealed)",
                 (long long)seal.incident_id);
        problem = why;
    }
    if (json) {
        printf("{\"intact\":%s,\"entries\":%lld,\"head\":\"%lld:%s\"", problem ? "false" : "true",
               (long long)w.check.n, (long long)w.check.last_id, hex);
        if (problem)
            printf(",\"bad_entry\":%lld", (long long)(w.check.bad_id ? w.check.bad_id : w.head_id));
        printf("}\n");
    }
    if (problem) {
        fprintf(stderr, "vigie journal verify: BROKEN at %s (entries 1 to %lld verified)\n",
                problem, (long long)w.check.last_id);
        return EXIT_FAIL;
    }
    if (!json)
        printf("journal intact: %lld entries, head %lld:%s\n", (long long)w.check.n,
               (long long)w.check.last_id, hex);
    if (report && !json)
        printf("report verified: incident %lld, for %s, sealed by journal entry %lld "
               "(report.create), record SHA-256 %s\n",
               (long long)seal.incident_id, seal.audience, (long long)seal.journal_id,
               seal.sha256);
    return EXIT_OK;
}

int vigie_journal_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "verify") == 0)
        return verify(argc - 1, argv + 1);
    fprintf(stderr, "vigie journal: unknown command '%s' (try: vigie journal --help)\n", argv[1]);
    return EXIT_USAGE;
}
