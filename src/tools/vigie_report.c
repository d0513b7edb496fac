/* vigie report draw: a closed incident's report drawn as a PDF from the
 * store itself, without vigied (it is stopped, this is another machine
 * with a copy of the data, or an auditor's check):
 *
 *   vigie report draw ID [--for RECIPIENT] [--out FILE]
 *                        [--data-dir D | --db LOCATION] [--zoneinfo DIR]
 *
 * The same drawing as vigied's (daemon/report_source.h: the same record,
 * the same seal, the same tracks, the measure's definition and units as
 * the store holds them), so that `vigie journal verify --report FILE`
 * checks it the same way. Read-only: nothing is written to the store, so
 * nothing is journaled either (whoever can read the database can read
 * what the report holds; the API's drawings are journaled). Exit 0 drawn,
 * 1 failure, 2 usage. */
#include "tools/vigie_report.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/err.h"
#include "daemon/report_source.h"
#include "report/incident_pdf.h"
#include "store/store.h"
#include "tools/vigie_http.h"
#include "tools/vigie_journal.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const char *const where = "vigie report draw";

static void usage(FILE *out)
{
    fputs("usage: vigie report draw ID [--for RECIPIENT] [--out FILE]\n"
          "                            [--data-dir D | --db LOCATION] [--zoneinfo DIR]\n\n"
          "Draw a closed incident's report as a PDF from the database itself (default\n"
          "./var/vigie.db), without vigied: the same document as vigied draws, under the\n"
          "same seal (check it with vigie journal verify --report FILE). RECIPIENT:\n"
          "magistrate (the default), prosecutor, probation or victim_support; default file:\n"
          "incident-ID-RECIPIENT.pdf. Read-only: nothing is written, nothing journaled.\n",
          out);
}

/* ---- the measure as the store holds it -------------------------------------------------------- */

struct measure_find {
    int64_t id;
    bool found, archived;
    char *definition;
};

static int see_measure(void *arg, const struct vg_store_measure_row *m)
{
    struct measure_find *f = arg;
    if (m->id != f->id)
        return 0;
    f->found = true;
    f->archived = m->archived;
    f->definition = m->definition ? strdup(m->definition) : NULL;
    return 1;
}

struct unit_find {
    const char *author, *protected_person; /* serials */
    int64_t author_id, protected_id;
};

static int see_unit(void *arg, const struct vg_store_unit_row *u)
{
    struct unit_find *f = arg;
    if (f->author && strcmp(u->serial, f->author) == 0)
        f->author_id = u->id;
    if (f->protected_person && strcmp(u->serial, f->protected_person) == 0)
        f->protected_id = u->id;
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    return ok ? 0 : -1;
}

static int draw(struct vg_store *s, long long id, unsigned audience, const char *zoneinfo,
                const char *out)
{
    char err[512] = "";
    struct vg_report_record rec;
    if (vg_report_record_read(s, id, &rec, err, sizeof err) != VG_OK) {
        fprintf(stderr, "%s: %s\n", where, err);
        vg_report_record_cleanup(&rec);
        return EXIT_FAIL;
    }
    struct measure_find mf = {.id = rec.measure_id};
    int rc = vg_store_measures(s, see_measure, &mf);
    if ((rc != VG_OK && rc != 1) || !mf.found || mf.archived) {
        fprintf(stderr, "%s: %s\n", where,
                mf.archived ? "the incident's measure is archived: its reports are no longer drawn"
                            : "the incident's measure cannot be read");
        free(mf.definition);
        vg_report_record_cleanup(&rec);
        return EXIT_FAIL;
    }
    /* its units, by the serials its definition names (a measure keeps its units) */
    json_t *def = mf.definition ? json_loads(mf.definition, 0, NULL) : NULL;
    json_t *units = json_object_get(def, "units");
    struct unit_find uf = {.author = json_string_value(json_object_get(units, "author")),
                           .protected_person =
                               json_string_value(json_object_get(units, "protected"))};
    rc = vg_store_units(s, see_unit, &uf);
    struct vg_report_document doc = {0};
    if (rc == VG_OK) {
        struct vg_report_measure m = {.definition = mf.definition,
                                      .author_unit_id = uf.author_id,
                                      .protected_unit_id = uf.protected_id};
        rc = vg_report_draw_stored(s, id, &rec, &m, zoneinfo, audience, NULL, now_ms(), &doc, err,
                                   sizeof err);
    } else {
        snprintf(err, sizeof err, "cannot read the units: %s", vg_strerror(rc));
    }
    json_decref(def);
    free(mf.definition);
    vg_report_record_cleanup(&rec);
    if (rc != VG_OK) {
        fprintf(stderr, "%s: %s\n", where, err);
        return EXIT_FAIL;
    }
    char file[160];
    snprintf(file, sizeof file, "incident-%lld-%s.pdf", id, vg_report_audience_name(audience));
    const char *path = out ? out : file;
    if (write_all(path, doc.pdf, doc.len) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", where, path);
        free(doc.pdf);
        return EXIT_FAIL;
    }
    printf("%s (%zu bytes, for %s, SHA-256 %s)\n", path, doc.len,
           vg_report_audience_name(audience), doc.pdf_sha256);
    free(doc.pdf);
    return EXIT_OK;
}

static int cmd_draw(int argc, char **argv)
{
    static const struct option opts[] = {{"data-dir", required_argument, 0, 'd'},
                                         {"db", required_argument, 0, 'b'},
                                         {"for", required_argument, 0, 'f'},
                                         {"out", required_argument, 0, 'o'},
                                         {"zoneinfo", required_argument, 0, 'z'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *data_dir = NULL, *db = NULL, *role = "magistrate", *out = NULL, *zoneinfo = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data_dir = optarg; break;
        case 'b': db = optarg; break;
        case 'f': role = optarg; break;
        case 'o': out = optarg; break;
        case 'z': zoneinfo = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        case ':':
            fprintf(stderr, "%s: option '%s' needs a value\n", where, argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "%s: unknown option '%s' (try: vigie report --help)\n", where,
                    argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    long long id = 0;
    if (optind != argc - 1 || vigie_number(argv[optind], &id) != 0) {
        fprintf(stderr, "%s: one incident's ID, a whole number from 1 (try: vigie report --help)\n",
                where);
        return EXIT_USAGE;
    }
    unsigned audience = vg_report_audience_parse(role);
    if (!audience) {
        fprintf(stderr, "%s: --for: magistrate, prosecutor, probation or victim_support\n", where);
        return EXIT_USAGE;
    }
    if (data_dir && db) {
        fprintf(stderr, "%s: give --data-dir or --db, not both\n", where);
        return EXIT_USAGE;
    }
    struct vg_store *s = NULL;
    if (vigie_open_existing_store(where, data_dir, db, &s) != 0)
        return EXIT_FAIL;
    int rc = draw(s, id, audience, zoneinfo, out);
    vg_store_close(s);
    vg_report_cleanup(); /* cairo's and fontconfig's caches: a leak checker sees real leaks only */
    return rc;
}

int vigie_report_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "draw") == 0)
        return cmd_draw(argc - 1, argv + 1);
    fprintf(stderr, "vigie report: unknown command '%s' (try: vigie report --help)\n", argv[1]);
    return EXIT_USAGE;
}
