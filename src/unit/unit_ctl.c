#include "unit/unit_ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "core/alarm.h"
#include "core/err.h"

static const char *link_name(unsigned link)
{
    switch (link) {
    case VG_LINK_DOWN: return "down";
    case VG_LINK_CONNECTING: return "connecting";
    case VG_LINK_HELLO: return "hello";
    case VG_LINK_UP: return "up";
    default: return "unknown";
    }
}

static int parse_bool(const char *arg, int *v)
{
    if (strcmp(arg, "0") == 0 || strcmp(arg, "off") == 0) {
        *v = 0;
        return 1;
    }
    if (strcmp(arg, "1") == 0 || strcmp(arg, "on") == 0) {
        *v = 1;
        return 1;
    }
    return 0;
}

int vg_unit_ctl_execute(struct vg_mobile_unit *u, const char *serial, const char *line,
                        int64_t now_ms, char *reply, size_t cap)
{
    char cmd[32] = "", arg[64] = "", extra[8] = "";
    int n = sscanf(line, "%31s %63s %7s", cmd, arg, extra);
    if (n < 1) {
        snprintf(reply, cap, "error: empty command");
        return VG_EINVAL;
    }
    if (n == 3) {
        snprintf(reply, cap, "error: %s takes at most one argument", cmd);
        return VG_EINVAL;
    }
    static const struct {
        const char *name;
        unsigned input;
        int has_arg;
    } inputs[] = {
        {"sos", VG_UNIT_IN_SOS, 0},
        {"callback", VG_UNIT_IN_CALLBACK, 0},
        {"strap", VG_UNIT_IN_STRAP, 1},
        {"skin", VG_UNIT_IN_SKIN, 1},
        {"link", VG_UNIT_IN_BRACELET_LINK, 1},
        {"charging", VG_UNIT_IN_CHARGING, 1},
        {"battery", VG_UNIT_IN_BATTERY, 1},
        {"power", VG_UNIT_IN_POWER, 1},
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        if (strcmp(cmd, inputs[i].name) != 0)
            continue;
        if (inputs[i].has_arg != (n == 2)) {
            snprintf(reply, cap, "error: %s %s", cmd,
                     inputs[i].has_arg ? "needs a value" : "takes no value");
            return VG_EINVAL;
        }
        int value = 1;
        if (inputs[i].input == VG_UNIT_IN_BATTERY) {
            char *end;
            long v = strtol(arg, &end, 10);
            if (*end || v < 0 || v > 100) {
                snprintf(reply, cap, "error: battery is a percentage, 0 to 100");
                return VG_EINVAL;
            }
            value = (int)v;
        } else if (inputs[i].has_arg && !parse_bool(arg, &value)) {
            snprintf(reply, cap, "error: %s is 0 or 1", cmd);
            return VG_EINVAL;
        }
        int rc = vg_unit_input(u, inputs[i].input, value, now_ms);
        if (rc == VG_ESTATE)
            snprintf(reply, cap, "error: the unit is switched off");
        else if (rc != VG_OK)
            snprintf(reply, cap, "error: this unit has no %s", cmd);
        else
            snprintf(reply, cap, "ok");
        return rc;
    }
    if (strcmp(cmd, "network") == 0) {
        /* the modem's estimate: network LAT,LON,ACCURACY_M, or network none */
        if (n != 2) {
            snprintf(reply, cap, "error: network LAT,LON,ACCURACY_M or network none");
            return VG_EINVAL;
        }
        if (strcmp(arg, "none") == 0) {
            vg_unit_network(u, NULL, now_ms);
            snprintf(reply, cap, "ok");
            return VG_OK;
        }
        double lat, lon, acc;
        char tail;
        struct vg_fix f = {.time_ms = now_ms, .speed_mps = -1, .heading_deg = -1,
                           .quality = VG_FIX_NETWORK};
        if (sscanf(arg, "%lf,%lf,%lf%c", &lat, &lon, &acc, &tail) != 3 ||
            !(acc >= 1.0 && acc <= 100000.0)) {
            snprintf(reply, cap, "error: network LAT,LON,ACCURACY_M (1 m to 100 km) or none");
            return VG_EINVAL;
        }
        f.lat_deg = lat;
        f.lon_deg = lon;
        f.accuracy_m = (float)acc;
        if (vg_fix_check(&f) != VG_OK) {
            snprintf(reply, cap, "error: not a position");
            return VG_EINVAL;
        }
        vg_unit_network(u, &f, now_ms);
        snprintf(reply, cap, "ok");
        return VG_OK;
    }
    if (strcmp(cmd, "beacon") == 0) {
        if (n != 2) {
            snprintf(reply, cap, "error: beacon RANGE_M or beacon none");
            return VG_EINVAL;
        }
        if (u->p.role != VG_UNIT_PROTECTED) {
            snprintf(reply, cap, "error: only the protected person's unit hears the beacon");
            return VG_EINVAL;
        }
        double range = -1;
        if (strcmp(arg, "none") != 0) {
            char *end;
            range = strtod(arg, &end);
            if (*end || !(range >= 0 && range < 30000)) {
                snprintf(reply, cap, "error: the range is metres, 0 to 30000");
                return VG_EINVAL;
            }
        }
        vg_unit_beacon(u, range, now_ms);
        snprintf(reply, cap, "ok");
        return VG_OK;
    }
    if (strcmp(cmd, "status") == 0 && n == 1) {
        struct vg_ring_stats st;
        vg_ring_get_stats(u->ring, &st);
        snprintf(reply, cap,
                 "{\"serial\":\"%s\",\"role\":\"%s\",\"powered\":%s,\"link\":\"%s\","
                 "\"server\":%u,\"last_seq\":%llu,\"acked\":%llu,\"pending\":%llu,"
                 "\"in_flight\":%llu,\"records\":%llu,\"refused\":%llu,\"sessions\":%llu,"
                 "\"battery_pct\":%.1f,\"charging\":%d,\"beacon_heard\":%d,"
                 "\"report_interval_ms\":%u,\"heartbeat_interval_ms\":%u,\"boot_count\":%u}",
                 serial ? serial : "", u->p.role == VG_UNIT_AUTHOR ? "author" : "protected",
                 u->powered ? "true" : "false", link_name(u->link), u->server,
                 (unsigned long long)st.last_seq, (unsigned long long)st.acked,
                 (unsigned long long)st.pending, (unsigned long long)u->in_flight,
                 (unsigned long long)u->n.records, (unsigned long long)u->n.records_refused,
                 (unsigned long long)u->n.sessions, (double)u->battery_pct, u->charging,
                 u->beacon_heard, u->report_interval_ms, u->heartbeat_interval_ms, u->boot_count);
        return VG_OK;
    }
    snprintf(reply, cap, "error: unknown command \"%s\"", cmd);
    return VG_EINVAL;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct vg_unit_ctl *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char *line;
    size_t len;
    while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
        char reply[1024];
        vg_unit_ctl_execute(c->unit, c->serial, line, vg_unit_link_now_ms(), reply, sizeof reply);
        free(line);
        evbuffer_add_printf(bufferevent_get_output(bev), "%s\n", reply);
        if (c->link)
            vg_unit_link_step(c->link);
    }
    if (evbuffer_get_length(in) > 1024) { /* no such command: a stray client */
        bufferevent_free(bev);
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    (void)sa;
    (void)socklen;
    struct bufferevent *bev =
        bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        close(fd);
        return;
    }
    bufferevent_setcb(bev, on_read, NULL, on_event, arg);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int vg_unit_ctl_open(struct vg_unit_ctl *c, struct event_base *base, const char *path,
                     struct vg_mobile_unit *u, struct vg_unit_link *link, const char *serial,
                     char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "%s: the control socket's path is too long", path);
        return VG_ERANGE;
    }
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    snprintf(c->path, sizeof c->path, "%s", path);
    unlink(path);
    mode_t old = umask(0077);
    c->listener = evconnlistener_new_bind(base, on_accept, c, LEV_OPT_CLOSE_ON_FREE, 16,
                                          (struct sockaddr *)&sa, (int)sizeof sa);
    umask(old);
    if (!c->listener) {
        snprintf(err, errlen, "%s: cannot listen: %s", path, strerror(errno));
        return VG_EINVAL;
    }
    c->unit = u;
    c->link = link;
    c->serial = serial;
    return VG_OK;
}

void vg_unit_ctl_close(struct vg_unit_ctl *c)
{
    if (c->listener) {
        evconnlistener_free(c->listener);
        c->listener = NULL;
        unlink(c->path);
    }
}
