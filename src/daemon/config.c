#include "daemon/config.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

void vg_daemon_config_default(struct vg_daemon_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "./var");
    snprintf(cfg->devices, sizeof cfg->devices, "127.0.0.1:5020");
    snprintf(cfg->http, sizeof cfg->http, "127.0.0.1:8080");
    snprintf(cfg->server_name, sizeof cfg->server_name, "localhost");
    snprintf(cfg->log_level, sizeof cfg->log_level, "info");
    vg_gateway_limits_default(&cfg->limits);
    vg_center_options_default(&cfg->center);
    vg_engine_params_default(&cfg->engine);
    vg_auth_options_default(&cfg->auth);
    cfg->retention_check_ms = 3600000;
    cfg->stream_heartbeat_ms = 15000;
    cfg->lease_ttl_ms = 3000;
#ifdef VG_CONSOLE_DIR
    snprintf(cfg->console_dir, sizeof cfg->console_dir, "%s", VG_CONSOLE_DIR);
#endif
}

/* "A,B,C,D,E": a duration in milliseconds for each priority, from alert to
 * information (core/incident.h), each in [1 s, 7 days]. */
static int set_by_priority(const char *value, int64_t out[6])
{
    int64_t v[6] = {0};
    const char *p = value;
    for (int k = 1; k <= 5; k++) {
        char *end = NULL;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        if (errno || end == p || x < 1000 || x > 7 * 86400000LL)
            return -1;
        v[k] = x;
        if (k < 5 && *end != ',')
            return -1;
        if (k == 5 && *end != '\0')
            return -1;
        p = end + 1;
    }
    for (int k = 1; k <= 5; k++)
        out[k] = v[k];
    return 0;
}

void vg_daemon_config_usage(FILE *out)
{
    fprintf(
        out,
        "usage: vigied [--config FILE] [--data-dir DIR] [--devices HOST:PORT] [--http HOST:PORT]\n"
        "              [--db LOCATION] [--server-name NAME] [--log-level debug|info|warn|error]\n"
        "              [--max-connections N] [--handshake-timeout-ms N] [--hello-timeout-ms N]\n"
        "              [--frame-timeout-ms N] [--idle-timeout-ms N]\n"
        "              [--report-interval-ms N] [--heartbeat-interval-ms N]\n"
        "              [--gnss-loss-after-ms N] [--comm-loss-after-ms N]\n"
        "              [--password-memory-kib N] [--password-iterations N]\n"
        "              [--session-idle-ms N] [--session-max-ms N] [--https HOST:PORT|none]\n"
        "              [--retention-check-ms N] [--stream-heartbeat-ms N]\n"
        "              [--escalate-take-ms A,N,P,T,I] [--escalate-progress-ms A,N,P,T,I]\n"
        "              [--console-dir DIR|none] [--console-tiles URL|none]\n"
        "              [--console-tiles-attribution TEXT] [--site NAME] [--lease-ttl-ms N]\n"
        "\n"
        "Defaults: --data-dir ./var --devices 127.0.0.1:5020 --http 127.0.0.1:8080\n"
        "          --db sqlite:DATA_DIR/vigie.db. Everything missing in the data directory\n"
        "          (PKI, server certificate, administrator token, database) is created.\n"
        "          --db postgresql://USER@HOST[:PORT][,HOST2[:PORT]]/DB[?target_session_attrs=\n"
        "          read-write] (a libpq URI; or postgresql:KEY=VALUE ...) uses PostgreSQL: the\n"
        "          database must exist, its schema is created (docs/OPERATIONS.md).\n"
        "          On PostgreSQL, one vigied is active at a time: the holder of a lease in the\n"
        "          database (--site names this one in it); the others stand by and take over\n"
        "          when it lapses (--lease-ttl-ms, 3000; docs/DEPLOYMENT.md, two sites).\n"
        "A config file has lines `key = value` with the same keys (data_dir, devices, ...).\n");
}

static int set_int(const char *value, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || *end || end == value || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int set_string(char *dst, size_t cap, const char *value)
{
    if (strlen(value) >= cap || !*value)
        return -1;
    snprintf(dst, cap, "%s", value);
    return 0;
}

/* key with '-' or '_' alike */
static bool key_is(const char *key, const char *name)
{
    for (; *key && *name; key++, name++) {
        char a = *key == '-' ? '_' : *key, b = *name;
        if (a != b)
            return false;
    }
    return *key == *name;
}

static int apply(struct vg_daemon_config *cfg, const char *key, const char *value, char *err,
                 size_t err_len)
{
    long long v;
    int rc = 0;
    if (key_is(key, "data_dir"))
        rc = set_string(cfg->data_dir, sizeof cfg->data_dir, value);
    else if (key_is(key, "devices"))
        rc = set_string(cfg->devices, sizeof cfg->devices, value);
    else if (key_is(key, "http"))
        rc = set_string(cfg->http, sizeof cfg->http, value);
    else if (key_is(key, "db"))
        rc = set_string(cfg->db, sizeof cfg->db, value);
    else if (key_is(key, "server_name"))
        rc = set_string(cfg->server_name, sizeof cfg->server_name, value);
    else if (key_is(key, "log_level"))
        rc = vg_log_level_parse(value) < 0
                 ? -1
                 : set_string(cfg->log_level, sizeof cfg->log_level, value);
    else if (key_is(key, "max_connections"))
        rc = set_int(value, 1, 1000000, &v) ? -1 : (cfg->limits.max_connections = (int)v, 0);
    else if (key_is(key, "handshake_timeout_ms"))
        rc = set_int(value, 100, 600000, &v) ? -1 : (cfg->limits.handshake_timeout_ms = v, 0);
    else if (key_is(key, "hello_timeout_ms"))
        rc = set_int(value, 100, 600000, &v) ? -1 : (cfg->limits.hello_timeout_ms = v, 0);
    else if (key_is(key, "frame_timeout_ms"))
        rc = set_int(value, 100, 600000, &v) ? -1 : (cfg->limits.frame_timeout_ms = v, 0);
    else if (key_is(key, "idle_timeout_ms"))
        rc = set_int(value, 1000, 86400000, &v) ? -1 : (cfg->limits.idle_timeout_ms = v, 0);
    else if (key_is(key, "report_interval_ms"))
        rc = set_int(value, 1000, 3600000, &v) ? -1 : (cfg->center.report_interval_ms = v, 0);
    else if (key_is(key, "heartbeat_interval_ms"))
        rc = set_int(value, 1000, 3600000, &v) ? -1 : (cfg->center.heartbeat_interval_ms = v, 0);
    else if (key_is(key, "gnss_loss_after_ms"))
        rc = set_int(value, 10000, 86400000, &v) ? -1 : (cfg->engine.gnss_loss_after_ms = v, 0);
    else if (key_is(key, "comm_loss_after_ms"))
        rc = set_int(value, 10000, 86400000, &v) ? -1 : (cfg->engine.comm_loss_after_ms = v, 0);
    /* Argon2id's cost: 8 MiB and one pass at the least (tests), 4 GiB at most */
    else if (key_is(key, "https"))
        rc = strcmp(value, "none") == 0 ? (cfg->https[0] = '\0', 0)
                                        : set_string(cfg->https, sizeof cfg->https, value);
    else if (key_is(key, "password_memory_kib"))
        rc = set_int(value, 8192, 4194304, &v) ? -1 : (cfg->auth.cost.memory_kib = (uint32_t)v, 0);
    else if (key_is(key, "password_iterations"))
        rc = set_int(value, 1, 100, &v) ? -1 : (cfg->auth.cost.iterations = (uint32_t)v, 0);
    else if (key_is(key, "session_idle_ms"))
        rc = set_int(value, 1000, 86400000, &v) ? -1 : (cfg->auth.session_idle_ms = v, 0);
    else if (key_is(key, "session_max_ms"))
        rc = set_int(value, 1000, 7 * 86400000LL, &v) ? -1 : (cfg->auth.session_max_ms = v, 0);
    else if (key_is(key, "retention_check_ms"))
        rc = set_int(value, 1000, 7 * 86400000LL, &v) ? -1 : (cfg->retention_check_ms = v, 0);
    else if (key_is(key, "stream_heartbeat_ms"))
        rc = set_int(value, 100, 300000, &v) ? -1 : (cfg->stream_heartbeat_ms = v, 0);
    else if (key_is(key, "site"))
        rc = set_string(cfg->site, sizeof cfg->site, value);
    else if (key_is(key, "lease_ttl_ms"))
        rc = set_int(value, 300, 600000, &v) ? -1 : (cfg->lease_ttl_ms = v, 0);
    else if (key_is(key, "console_dir"))
        rc = strcmp(value, "none") == 0
                 ? (cfg->console_dir[0] = '\0', 0)
                 : set_string(cfg->console_dir, sizeof cfg->console_dir, value);
    else if (key_is(key, "console_tiles"))
        rc = strcmp(value, "none") == 0
                 ? (cfg->console_tiles[0] = '\0', 0)
                 : (strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0)
                       ? -1
                       : set_string(cfg->console_tiles, sizeof cfg->console_tiles, value);
    else if (key_is(key, "console_tiles_attribution"))
        rc = set_string(cfg->console_tiles_attribution, sizeof cfg->console_tiles_attribution,
                        value);
    else if (key_is(key, "escalate_take_ms"))
        rc = set_by_priority(value, cfg->center.escalation.take_within_ms);
    else if (key_is(key, "escalate_progress_ms"))
        rc = set_by_priority(value, cfg->center.escalation.progress_within_ms);
    else {
        snprintf(err, err_len, "unknown setting '%s' (vigied --help lists them)", key);
        return -1;
    }
    if (rc) {
        snprintf(err, err_len, "bad value '%s' for %s", value, key);
        return -1;
    }
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int load_file(struct vg_daemon_config *cfg, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024];
    int n = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *l = trim(line);
        if (!*l)
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            snprintf(err, err_len, "%s:%d: expected key = value", path, n);
            rc = -1;
            break;
        }
        *eq = '\0';
        char sub[256];
        if (apply(cfg, trim(l), trim(eq + 1), sub, sizeof sub)) {
            snprintf(err, err_len, "%s:%d: %s", path, n, sub);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

int vg_daemon_config_parse(struct vg_daemon_config *cfg, int argc, char **argv, char *err,
                           size_t err_len)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            vg_daemon_config_usage(stdout);
            return 1;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                snprintf(err, err_len, "--config needs a file");
                return -1;
            }
            if (load_file(cfg, argv[i + 1], err, err_len))
                return -1;
        }
    }
    for (int i = 1; i < argc; i += 2) { /* --key value pairs */
        if (strncmp(argv[i], "--", 2) != 0) {
            snprintf(err, err_len, "unexpected argument '%s'", argv[i]);
            return -1;
        }
        if (i + 1 >= argc) {
            snprintf(err, err_len, "%s needs a value", argv[i]);
            return -1;
        }
        if (strcmp(argv[i], "--config") != 0 && apply(cfg, argv[i] + 2, argv[i + 1], err, err_len))
            return -1;
    }
    /* every path built from it must fit (PKI files, the database) */
    if (strlen(cfg->data_dir) > VG_DATA_DIR_MAX) {
        snprintf(err, err_len, "data_dir is longer than %d characters", VG_DATA_DIR_MAX);
        return -1;
    }
    if (!cfg->db[0])
        snprintf(cfg->db, sizeof cfg->db, "sqlite:%s/vigie.db", cfg->data_dir);
    return 0;
}
