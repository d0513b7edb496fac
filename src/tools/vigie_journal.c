/* vigie journal verify: walks the journal in the database itself (not
 * through the API: an auditor checks the file, whoever runs the daemon)
 * and recomputes the chain; names the first entry that breaks it.
 *
 *   vigie journal verify [--data-dir D | --db LOCATION] [--head ID:HEX] [--json]
 *
 * --head: a head noted earlier (vigied logs it at start and stop): the
 * chain must reach that entry with that hash, so that entries cut off at
 * the end are found too. Exit 0 intact, 1 broken (or unreadable), 2 usage. */
#include "tools/vigie_journal.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "store/store.h"
#include "util/journal.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
    fputs("usage: vigie journal verify [--data-dir D | --db LOCATION] [--head ID:HEX] [--json]\n\n"
          "Recompute the journal's hash chain in the database (default: ./var/vigie.db) and\n"
          "name the first entry that was modified, removed or moved. --head ID:HEX (a head\n"
          "vigied logged) also catches entries cut off at the end.\n",
          out);
}

struct walk {
    struct vg_journal_check check;
    int64_t head_id;
    uint8_t head_hash[VG_JOURNAL_HASH_LEN];
    int head_seen, head_matches;
};

static int on_entry(void *arg, const struct vg_journal_entry *e)
{
    struct walk *w = arg;
    if (vg_journal_check_next(&w->check, e) != VG_OK)
        return 1; /* the first bad one is enough */
    if (w->head_id > 0 && e->id == w->head_id) {
        w->head_seen = 1;
        w->head_matches = memcmp(e->hash, w->head_hash, VG_JOURNAL_HASH_LEN) == 0;
    }
    return 0;
}

static int verify(int argc, char **argv)
{
    static const struct option opts[] = {{"data-dir", required_argument, 0, 'd'},
                                         {"db", required_argument, 0, 'b'},
                                         {"head", required_argument, 0, 'H'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *data_dir = NULL, *db = NULL, *head = NULL;
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
    char location[4200];
    if (db)
        snprintf(location, sizeof location, "%s", db);
    else
        snprintf(location, sizeof location, "sqlite:%s/vigie.db", data_dir ? data_dir : "./var");
    /* an auditor's tool never creates the database it was asked to check */
    const char *path = strncmp(location, "sqlite:", 7) == 0 ? location + 7 : location;
    struct stat sb;
    if (strstr(location, "://") == NULL && stat(path, &sb) != 0) {
        fprintf(stderr, "vigie journal verify: no database at %s\n", path);
        return EXIT_FAIL;
    }
    struct vg_store *s = NULL;
    char err[512];
    int rc = vg_store_open(location, &s, err, sizeof err);
    if (rc != VG_OK) {
        fprintf(stderr, "vigie journal verify: %s\n", err);
        return EXIT_FAIL;
    }
    rc = vg_store_journal(s, 0, on_entry, &w);
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
