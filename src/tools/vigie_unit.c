/* vigie-unit: the software of one mobile unit (the protected person's, or
 * the author's with his bracelet), on a Linux board or a laptop.
 *
 *   vigie-unit run --serial S --role author|protected --server HOST:PORT
 *                  [--server HOST:PORT] [--server-name NAME]
 *                  (--pki DIR | --cert F --key F --ca F)
 *                  [--flash FILE] [--slots N] [--no-sync]
 *                  [--gnss gpsd[:HOST:PORT] | --gnss NMEA_FILE_OR_DEVICE] [--baud B]
 *                  [--replay-speed X] [--restamp]
 *                  [--ctl PATH] [--report-interval MS] [--heartbeat-interval MS]
 *                  [--log-level L]
 *   vigie-unit ctl PATH COMMAND [ARG]     (sos, callback, strap 0|1, ..., status)
 *
 * Everything the unit records is kept in its flash file until the centre
 * acknowledges it; rings (from the centre, or from the local proximity
 * detector) are printed on standard output as one line each:
 *   RING source=centre level=2 vibrate_ms=0 message="..."
 * The log goes to standard error (logfmt). SIGTERM/SIGINT stop it cleanly;
 * kill -9 loses nothing (docs/UNIT.md). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "core/alarm.h"
#include "core/err.h"
#include "unit/flash.h"
#include "unit/gnss_source.h"
#include "unit/ring.h"
#include "unit/unit.h"
#include "unit/unit_ctl.h"
#include "unit/unit_link.h"
#include "util/log.h"
#include "util/pki.h"

struct app {
    struct event_base *base;
    struct vg_mobile_unit unit;
    struct vg_unit_link link;
    struct vg_unit_ctl ctl;
    struct vg_gnss_source gnss;
    int has_gnss;
    int restamp;
    const char *serial;
};

static void usage(FILE *f)
{
    fputs("usage: vigie-unit run --serial S --role author|protected --server HOST:PORT\n"
          "                      [--server HOST:PORT] [--server-name NAME]\n"
          "                      (--pki DIR | --cert F --key F --ca F)\n"
          "                      [--flash FILE] [--slots N] [--no-sync]\n"
          "                      [--gnss gpsd[:HOST:PORT] | --gnss NMEA_FILE_OR_DEVICE]\n"
          "                      [--baud B] [--replay-speed X] [--restamp]\n"
          "                      [--ctl PATH] [--report-interval MS] [--heartbeat-interval MS]\n"
          "                      [--log-level debug|info|warn|error]\n"
          "       vigie-unit ctl PATH COMMAND [ARG]\n"
          "commands: sos, callback, strap 0|1, skin 0|1, link 0|1, charging 0|1,\n"
          "          battery PCT, power 0|1, beacon RANGE_M|none, status\n",
          f);
}

static void on_ring(void *ctx, unsigned source, unsigned level, const char *message,
                    unsigned vibrate_ms, unsigned sound)
{
    (void)ctx;
    /* what the screen shows and the speaker sounds, for a person or a test */
    static const char *const sounds[] = {"aloud", "vibrate", "screen"};
    printf("RING source=%s level=%u vibrate_ms=%u sound=%s message=\"%s\"\n",
           source == VG_UNIT_RING_LOCAL ? "local" : "centre", level, vibrate_ms,
           sound < 3 ? sounds[sound] : "aloud", message);
    fflush(stdout);
}

static void on_log(void *ctx, const char *level, const char *message)
{
    struct app *a = ctx;
    enum vg_log_level l = strcmp(level, "error") == 0  ? VG_LOG_ERROR
                          : strcmp(level, "warn") == 0 ? VG_LOG_WARN
                                                       : VG_LOG_INFO;
    vg_log(l, message, "serial", a->serial, NULL);
}

static void on_fix(void *ctx, const struct vg_fix *fix)
{
    struct app *a = ctx;
    struct vg_fix f = *fix;
    int64_t now = vg_unit_link_now_ms();
    if (a->restamp)
        f.time_ms = now; /* a recording replayed today: its positions, today's clock */
    vg_unit_gnss(&a->unit, &f, now);
    vg_unit_link_step(&a->link);
}

static void on_gnss_end(void *ctx, const char *why)
{
    struct app *a = ctx;
    vg_log(VG_LOG_WARN, "the position source ended", "serial", a->serial, "why", why, NULL);
    /* the unit goes on: it records "no fix", as a real one that lost its receiver */
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct app *a = arg;
    vg_log(VG_LOG_INFO, "stopping", "serial", a->serial, "signal", sig == SIGTERM ? "TERM" : "INT",
           NULL);
    event_base_loopexit(a->base, NULL);
}

static int ctl_client(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        usage(stderr);
        return 2;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(argv[0]) >= sizeof sa.sun_path) {
        fprintf(stderr, "vigie-unit: %s: path too long\n", argv[0]);
        return 2;
    }
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[0]);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "vigie-unit: cannot reach the unit at %s: %s\n", argv[0], strerror(errno));
        return 1;
    }
    char line[256];
    int n = snprintf(line, sizeof line, "%s%s%s\n", argv[1], argc == 3 ? " " : "",
                     argc == 3 ? argv[2] : "");
    if (n <= 0 || (size_t)n >= sizeof line || write(fd, line, (size_t)n) != n) {
        fprintf(stderr, "vigie-unit: cannot send the command\n");
        close(fd);
        return 1;
    }
    char reply[2048];
    size_t got = 0;
    while (got < sizeof reply - 1) {
        ssize_t r = read(fd, reply + got, sizeof reply - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        if (memchr(reply, '\n', got))
            break;
    }
    close(fd);
    reply[got] = 0;
    fputs(reply, stdout);
    return strncmp(reply, "error", 5) == 0 || got == 0 ? 1 : 0;
}

static int parse_u32(const char *s, const char *what, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || s[0] == '-' || v < min || v > max) {
        fprintf(stderr, "vigie-unit: %s: %s is a number from %u to %u\n", s, what, min, max);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"serial", required_argument, 0, 's'},
        {"role", required_argument, 0, 'r'},
        {"server", required_argument, 0, 'S'},
        {"server-name", required_argument, 0, 'n'},
        {"pki", required_argument, 0, 'p'},
        {"cert", required_argument, 0, 'c'},
        {"key", required_argument, 0, 'k'},
        {"ca", required_argument, 0, 'a'},
        {"flash", required_argument, 0, 'f'},
        {"slots", required_argument, 0, 'N'},
        {"no-sync", no_argument, 0, 'y'},
        {"gnss", required_argument, 0, 'g'},
        {"baud", required_argument, 0, 'b'},
        {"replay-speed", required_argument, 0, 'x'},
        {"restamp", no_argument, 0, 'R'},
        {"ctl", required_argument, 0, 'C'},
        {"report-interval", required_argument, 0, 'i'},
        {"heartbeat-interval", required_argument, 0, 'h'},
        {"log-level", required_argument, 0, 'l'},
        {0, 0, 0, 0},
    };
    const char *serial = NULL, *role = NULL, *servers[VG_UNIT_MAX_SERVERS] = {0};
    const char *server_name = "localhost", *pki = NULL, *cert = NULL, *key = NULL, *ca = NULL;
    const char *flash_path = NULL, *gnss = NULL, *ctl = NULL;
    unsigned n_servers = 0;
    uint32_t slots = 65536, baud = 9600, report = 0, heartbeat = 0;
    int sync = 1, restamp = 0;
    double speed = 1.0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': serial = optarg; break;
        case 'r': role = optarg; break;
        case 'S':
            if (n_servers == VG_UNIT_MAX_SERVERS) {
                fprintf(stderr, "vigie-unit: at most %d servers (the centre's two sites)\n",
                        VG_UNIT_MAX_SERVERS);
                return 2;
            }
            servers[n_servers++] = optarg;
            break;
        case 'n': server_name = optarg; break;
        case 'p': pki = optarg; break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'a': ca = optarg; break;
        case 'f': flash_path = optarg; break;
        case 'N':
            if (parse_u32(optarg, "--slots", 64, VG_RING_MAX_SLOTS, &slots))
                return 2;
            break;
        case 'y': sync = 0; break;
        case 'g': gnss = optarg; break;
        case 'b':
            if (parse_u32(optarg, "--baud", 4800, 115200, &baud))
                return 2;
            break;
        case 'x': {
            char *end;
            speed = strtod(optarg, &end);
            if (*end || !(speed > 0 && speed <= 1000)) {
                fprintf(stderr, "vigie-unit: --replay-speed is a factor above 0, up to 1000\n");
                return 2;
            }
            break;
        }
        case 'R': restamp = 1; break;
        case 'C': ctl = optarg; break;
        case 'i':
            if (parse_u32(optarg, "--report-interval", 1000, 3600000, &report))
                return 2;
            break;
        case 'h':
            if (parse_u32(optarg, "--heartbeat-interval", 1000, 3600000, &heartbeat))
                return 2;
            break;
        case 'l': {
            int level = vg_log_level_parse(optarg);
            if (level < 0) {
                fprintf(stderr, "vigie-unit: --log-level is debug, info, warn or error\n");
                return 2;
            }
            vg_log_set_level((enum vg_log_level)level);
            break;
        }
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || !serial || !role || n_servers == 0 || (!pki && !(cert && key && ca))) {
        fprintf(stderr, "vigie-unit: --serial, --role, --server and the unit's certificate "
                        "(--pki, or --cert/--key/--ca) are needed\n");
        usage(stderr);
        return 2;
    }
    if (!vg_pki_name_valid(serial)) {
        fprintf(stderr, "vigie-unit: %s: not a valid unit serial\n", serial);
        return 2;
    }
    uint8_t role_id;
    if (strcmp(role, "author") == 0)
        role_id = VG_UNIT_AUTHOR;
    else if (strcmp(role, "protected") == 0)
        role_id = VG_UNIT_PROTECTED;
    else {
        fprintf(stderr, "vigie-unit: --role is author or protected\n");
        return 2;
    }

    char err[512], flash_default[512], ctl_default[512];
    if (!flash_path) {
        snprintf(flash_default, sizeof flash_default, "%s.flash", serial);
        flash_path = flash_default;
    }
    if (!ctl) {
        snprintf(ctl_default, sizeof ctl_default, "%s.ctl", serial);
        ctl = ctl_default;
    }
    SSL_CTX *ssl_ctx = NULL;
    int rc;
    if (pki) {
        rc = vg_pki_client_ctx_new(&ssl_ctx, pki, serial, server_name, err, sizeof err);
    } else {
        struct vg_pki_tls_files files = {.ca_cert = ca, .cert = cert, .key = key};
        rc = vg_pki_client_ctx_new_files(&ssl_ctx, &files, server_name, err, sizeof err);
    }
    if (rc != VG_OK) {
        fprintf(stderr, "vigie-unit: %s\n", err);
        return 1;
    }

    struct vg_flash flash;
    if (vg_flash_open_file(&flash, flash_path, vg_ring_flash_size(slots), err, sizeof err) !=
        VG_OK) {
        fprintf(stderr, "vigie-unit: %s\n", err);
        SSL_CTX_free(ssl_ctx);
        return 1;
    }
    struct vg_ring ring;
    /* alarms keep 1 % of the ring (at least 16 slots) whatever the backlog */
    struct vg_ring_params rp = {
        .slots = slots, .alarm_reserve = slots / 100 > 16 ? slots / 100 : 16, .sync = sync};
    if (vg_ring_open(&ring, &flash, &rp, err, sizeof err) != VG_OK) {
        fprintf(stderr, "vigie-unit: %s: %s\n", flash_path, err);
        vg_flash_close(&flash);
        SSL_CTX_free(ssl_ctx);
        return 1;
    }

    struct app *a = calloc(1, sizeof *a);
    if (!a) {
        fprintf(stderr, "vigie-unit: out of memory\n");
        return 1;
    }
    a->serial = serial;
    a->restamp = restamp;
    a->base = event_base_new();
    struct vg_unit_params up;
    vg_unit_params_default(&up, role_id);
    up.n_servers = (uint8_t)n_servers;
    RAND_bytes((unsigned char *)&up.seed, sizeof up.seed); /* units must not retry in step */
    if (report)
        up.report_interval_ms = report;
    if (heartbeat)
        up.heartbeat_interval_ms = heartbeat;
    struct vg_unit_hooks hooks = {.ctx = a, .ring = on_ring, .log = on_log};
    int64_t now = vg_unit_link_now_ms();
    int status = 1;
    if (vg_unit_init(&a->unit, &up, &hooks, &ring, now) != VG_OK) {
        fprintf(stderr, "vigie-unit: cannot start the unit\n");
        goto out;
    }
    if (report || heartbeat) /* the command line wins over what was persisted */
        vg_unit_params_override(&a->unit, report, heartbeat, now);
    if (vg_unit_link_init(&a->link, a->base, &a->unit, ssl_ctx, servers, n_servers, server_name,
                          err, sizeof err) != VG_OK) {
        fprintf(stderr, "vigie-unit: %s\n", err);
        goto out_unit;
    }
    if (vg_unit_ctl_open(&a->ctl, a->base, ctl, &a->unit, &a->link, serial, err, sizeof err) !=
        VG_OK) {
        fprintf(stderr, "vigie-unit: %s\n", err);
        goto out_link;
    }
    if (gnss) {
        if (vg_gnss_open(&a->gnss, a->base, gnss, (int)baud, speed, on_fix, on_gnss_end, a, err,
                         sizeof err) != VG_OK) {
            fprintf(stderr, "vigie-unit: %s\n", err);
            goto out_ctl;
        }
        a->has_gnss = 1;
    }
    struct event *sigterm = evsignal_new(a->base, SIGTERM, on_signal, a);
    struct event *sigint = evsignal_new(a->base, SIGINT, on_signal, a);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    signal(SIGPIPE, SIG_IGN);
    char slots_text[16];
    snprintf(slots_text, sizeof slots_text, "%u", slots);
    vg_log(VG_LOG_INFO, "started", "serial", serial, "role", role, "flash", flash_path, "slots",
           slots_text, "ctl", ctl, "gnss", gnss ? gnss : "none", NULL);
    vg_unit_link_step(&a->link);
    event_base_dispatch(a->base);
    event_free(sigterm);
    event_free(sigint);
    status = 0;
    if (a->has_gnss)
        vg_gnss_close(&a->gnss);
out_ctl:
    vg_unit_ctl_close(&a->ctl);
out_link:
    vg_unit_link_free(&a->link);
out_unit : {
    char pending[24];
    snprintf(pending, sizeof pending, "%llu", (unsigned long long)vg_unit_pending(&a->unit));
    vg_log(VG_LOG_INFO, "stopped", "serial", serial, "pending", pending, NULL);
}
    vg_unit_free(&a->unit);
out:
    vg_ring_close(&ring);
    vg_flash_close(&flash);
    event_base_free(a->base);
    free(a);
    SSL_CTX_free(ssl_ctx);
    return status;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return run(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
        return ctl_client(argc - 2, argv + 2);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
