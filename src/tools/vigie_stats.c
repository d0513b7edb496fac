/* vigie stats: the measures' figures by court and month, anonymised
 * (docs/API.md, "Statistics"):
 *
 *   vigie stats [--from YYYY-MM] [--to YYYY-MM] [--csv | --json]
 *
 * A table by default; --csv and --json print the API's answer as it
 * comes. Common: --http HOST:PORT (127.0.0.1:8080), --token-file F
 * (./var/admin.token), --data-dir D (the token is D/admin.token). */
#include "tools/vigie_stats.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/stats.h"
#include "tools/vigie_http.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
    fputs("usage: vigie stats [--from YYYY-MM] [--to YYYY-MM] [--csv | --json]\n"
          "options: --http HOST:PORT, --token-file F | --data-dir D\n\n"
          "The measures by court and by month (UTC): declared, days active, activations\n"
          "and their median delay, ended by reason, alarms by kind and per pair-day.\n"
          "By default the 12 months to the current one; at most 36 at once. Nothing\n"
          "names anyone: a count from 1 to 4 is withheld (<5), and so is a figure made\n"
          "of one; a court with fewer than 5 measures in the period is under \"other\n"
          "courts\" (docs/API.md, \"Statistics\").\n",
          out);
}

/* A cell of the answer as text: "<5" withheld, "-" nothing to say. */
static void cell(json_t *c, int decimals, long long threshold, char *out, size_t cap)
{
    json_t *v = json_object_get(c, "value");
    if (json_is_true(json_object_get(c, "suppressed")))
        snprintf(out, cap, "<%lld", threshold);
    else if (!json_is_number(v))
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.*f", decimals, json_number_value(v));
}

static void print_table(json_t *doc)
{
    long long t = (long long)json_integer_value(json_object_get(doc, "threshold"));
    printf("%s to %s (UTC months)\n", json_string_value(json_object_get(doc, "from")),
           json_string_value(json_object_get(doc, "to")));
    json_t *courts = json_object_get(doc, "courts");
    if (json_array_size(courts) == 0)
        printf("\nno measure in this period\n");
    size_t i;
    json_t *court;
    json_array_foreach(courts, i, court)
    {
        printf("\n%s\n", json_string_value(json_object_get(court, "court")));
        printf("  %-7s %8s %9s %9s %11s %8s %8s %8s %7s %9s\n", "MONTH", "DECLARED", "ACTIVATED",
               "DELAY (h)", "ACTIVE DAYS", "LIFTED", "EXPIRED", "REVOKED", "ALARMS", "/PAIR-DAY");
        size_t k;
        json_t *m;
        json_array_foreach(json_object_get(court, "months"), k, m)
        {
            json_t *ended = json_object_get(m, "measures_ended");
            char c[10][24];
            cell(json_object_get(m, "measures_declared"), 0, t, c[0], sizeof c[0]);
            cell(json_object_get(m, "activations"), 0, t, c[1], sizeof c[1]);
            cell(json_object_get(m, "activation_delay_median_hours"), 1, t, c[2], sizeof c[2]);
            cell(json_object_get(m, "measures_active_days"), 1, t, c[3], sizeof c[3]);
            cell(json_object_get(ended, "lifted"), 0, t, c[4], sizeof c[4]);
            cell(json_object_get(ended, "expired"), 0, t, c[5], sizeof c[5]);
            cell(json_object_get(ended, "revoked"), 0, t, c[6], sizeof c[6]);
            cell(json_object_get(m, "alarms"), 0, t, c[7], sizeof c[7]);
            cell(json_object_get(m, "alarms_per_pair_day"), 3, t, c[8], sizeof c[8]);
            printf("  %-7s %8s %9s %9s %11s %8s %8s %8s %7s %9s\n",
                   json_string_value(json_object_get(m, "month")), c[0], c[1], c[2], c[3], c[4],
                   c[5], c[6], c[7], c[8]);
            /* the kinds there are something to say about, on a line of their own */
            const char *kind;
            json_t *v;
            bool first = true;
            json_object_foreach(json_object_get(m, "alarms_by_kind"), kind, v)
            {
                json_t *value = json_object_get(v, "value");
                bool withheld = json_is_true(json_object_get(v, "suppressed"));
                if (!withheld && json_number_value(value) == 0)
                    continue;
                char text[24];
                cell(v, 0, t, text, sizeof text);
                printf("%s%s %s", first ? "            by kind: " : ", ", kind, text);
                first = false;
            }
            if (!first)
                printf("\n");
        }
    }
    printf("\n<%lld: withheld (a count from 1 to %lld, or a figure made of one); -: nothing to "
           "compute.\nCourts with fewer than %lld measures in the period are under \"%s\".\n",
           t, t - 1, t, VG_STATS_OTHER_COURTS);
}

int vigie_stats_main(int argc, char **argv)
{
    const char *where = "vigie stats";
    char http[128] = "127.0.0.1:8080", token_file[600] = "./var/admin.token";
    const char *from = NULL, *to = NULL;
    bool csv = false, json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--csv") == 0) {
            csv = true;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (vigie_api_option(argc, argv, &i, http, sizeof http, token_file,
                                    sizeof token_file)) {
            continue;
        } else if (has_value && (strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0)) {
            const char *v = argv[++i];
            int32_t month;
            /* checked here too: it goes into the query string as is */
            if (vg_stats_month_parse(v, &month) != 0) {
                fprintf(stderr, "%s: %s wants a month as YYYY-MM, not '%s'\n", where, a, v);
                return EXIT_USAGE;
            }
            *(strcmp(a, "--from") == 0 ? &from : &to) = v;
        } else {
            fprintf(stderr, "%s: unknown option or missing value: %s (try: vigie stats --help)\n",
                    where, a);
            return EXIT_USAGE;
        }
    }
    if (csv && json) {
        fprintf(stderr, "%s: --csv or --json, not both\n", where);
        return EXIT_USAGE;
    }
    char path[128];
    snprintf(path, sizeof path, "/api/v1/statistics?format=%s%s%s%s%s", csv ? "csv" : "json",
             from ? "&from=" : "", from ? from : "", to ? "&to=" : "", to ? to : "");
    json_t *doc = NULL;
    int rc = vigie_api_call(http, token_file, csv || json, "GET", path, NULL, 200, &doc, where);
    if (rc == 0 && !csv && !json) {
        if (!doc) {
            fprintf(stderr, "%s: the answer is not JSON\n", where);
            rc = EXIT_FAIL;
        } else {
            print_table(doc);
        }
    }
    json_decref(doc);
    return rc;
}
