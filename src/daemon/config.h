/* vigied's configuration: defaults, a config file, then the command line
 * (which wins). The file is lines of `key = value`; '#' starts a comment.
 * Every key is also an option: `--key value`. */
#ifndef VG_DAEMON_CONFIG_H
#define VG_DAEMON_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "daemon/center.h"
#include "http/auth.h"
#include "net/gateway.h"

#define VG_PATH_MAX     512
#define VG_DATA_DIR_MAX 400

struct vg_daemon_config {
    char data_dir[VG_PATH_MAX]; /* data_dir      ./var */
    char devices[128];          /* devices       127.0.0.1:5020 */
    char http[128];             /* http          127.0.0.1:8080 */
    char https[128];            /* https         "" (none): HOST:PORT with the server's
                                                 certificate from the PKI */
    char db[VG_PATH_MAX + 32];  /* db            sqlite:DATA_DIR/vigie.db */
    char server_name[65];       /* server_name   localhost (the TLS certificate's name) */
    char log_level[16];         /* log_level     info */
    struct vg_gateway_limits limits;
    struct vg_center_options center;
    /* the engine's loss timers (gnss_loss_after_ms, comm_loss_after_ms); its
     * reporting interval is report_interval_ms */
    struct vg_engine_params engine;
    /* accounts and sessions: password_memory_kib, password_iterations,
     * session_idle_ms, session_max_ms */
    struct vg_auth_options auth;
    /* retention_check_ms: how often the retention job runs (and at start) */
    int64_t retention_check_ms;
    /* stream_heartbeat_ms: the live stream's heartbeat (http/stream.c) */
    int64_t stream_heartbeat_ms;
    /* two sites on PostgreSQL (core/lease.h): site, this vigied's name in
     * the lease (default the host's name); lease_ttl_ms, how long the lease
     * lasts without a renewal (3000: the other site takes over within it) */
    char site[64];
    int64_t lease_ttl_ms;
    /* the operator console (http/static.c): console_dir (its files, default
     * the build's console/), console_tiles (a tile URL template; "": the
     * offline layer), console_tiles_attribution */
    char console_dir[VG_PATH_MAX];
    char console_tiles[512];
    char console_tiles_attribution[256];
};

void vg_daemon_config_default(struct vg_daemon_config *cfg);

/* Apply the file (if --config is given) then the options. Returns 0, 1 if
 * --help was asked (usage printed), or -1 with the reason in err. */
int vg_daemon_config_parse(struct vg_daemon_config *cfg, int argc, char **argv, char *err,
                           size_t err_len);

void vg_daemon_config_usage(FILE *out);

#endif
