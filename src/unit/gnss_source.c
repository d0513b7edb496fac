#include "unit/gnss_source.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <gps.h>

#include "core/err.h"

/* A recording's pause longer than this is not waited for in a replay. */
#define REPLAY_MAX_GAP_MS 10000
/* gpsd without an error estimate: say little is known (conservative). */
#define GPSD_UNKNOWN_ACCURACY_M 50.0

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void end(struct vg_gnss_source *s, const char *why)
{
    if (s->ev)
        event_del(s->ev);
    if (s->on_end)
        s->on_end(s->ctx, why);
}

/* ---- NMEA: device and file ------------------------------------------------ */

static void deliver(struct vg_gnss_source *s, const struct vg_fix *fix)
{
    s->fixes++;
    s->on_fix(s->ctx, fix);
}

static void schedule_held(struct vg_gnss_source *s);

/* One line of NMEA: fixes go out at once (device) or are held for their
 * time (file). Returns 1 when a file replay must pause (a fix is held). */
static int nmea_line(struct vg_gnss_source *s, const char *line, size_t len)
{
    struct vg_fix out[VG_NMEA_MAX_OUT];
    size_t n = 0;
    if (len == 0 || line[0] == '#')
        return 0; /* the recordings' comments */
    int rc = vg_nmea_feed(&s->nmea, line, len, out, &n);
    if (rc < 0)
        s->refused_lines++;
    for (size_t i = 0; i < n; i++) {
        if (s->kind != VG_GNSS_NMEA_FILE) {
            deliver(s, &out[i]);
            continue;
        }
        /* a file: at most one fix waits; a second in the same line goes
         * out at once (they come from one epoch boundary) */
        if (s->has_held)
            deliver(s, &s->held);
        s->held = out[i];
        s->has_held = 1;
    }
    return s->kind == VG_GNSS_NMEA_FILE && s->has_held;
}

/* Split bytes into lines; stop early (returning the bytes used) when a
 * file replay has a fix to wait for. */
static size_t nmea_bytes(struct vg_gnss_source *s, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (c == '\n' || c == '\r') {
            int pause = 0;
            if (!s->line_too_long && s->line_len > 0)
                pause = nmea_line(s, s->line, s->line_len);
            else if (s->line_too_long)
                s->refused_lines++;
            s->line_len = 0;
            s->line_too_long = 0;
            if (pause)
                return i + 1;
            continue;
        }
        if (s->line_len < sizeof s->line)
            s->line[s->line_len++] = c;
        else
            s->line_too_long = 1; /* refused whole when it ends */
    }
    return len;
}

static void on_device_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct vg_gnss_source *s = arg;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
        nmea_bytes(s, buf, (size_t)n);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        end(s, n == 0 ? "the device closed" : strerror(errno));
    }
}

/* File replay: read until a fix is held, then wait for its time. */
static void replay_more(struct vg_gnss_source *s)
{
    char buf[512];
    while (!s->has_held) {
        off_t at = lseek(s->fd, 0, SEEK_CUR);
        ssize_t n = read(s->fd, buf, sizeof buf);
        if (n <= 0) {
            struct vg_fix last;
            if (n == 0 && vg_nmea_flush(&s->nmea, &last))
                deliver(s, &last);
            end(s, n == 0 ? "end of the recording" : strerror(errno));
            return;
        }
        size_t used = nmea_bytes(s, buf, (size_t)n);
        if (used < (size_t)n)
            lseek(s->fd, at + (off_t)used, SEEK_SET); /* the rest after the wait */
    }
    schedule_held(s);
}

static void on_pace(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vg_gnss_source *s = arg;
    if (s->has_held) {
        s->has_held = 0;
        deliver(s, &s->held);
    }
    replay_more(s);
}

static void schedule_held(struct vg_gnss_source *s)
{
    int64_t now = mono_ms();
    if (s->first_fix_ms == 0) {
        s->first_fix_ms = s->held.time_ms;
        s->start_mono_ms = now;
    }
    int64_t rec = s->held.time_ms - s->first_fix_ms;
    int64_t due = s->start_mono_ms + (int64_t)((double)rec / s->speed);
    if (due > now + REPLAY_MAX_GAP_MS || rec < 0) {
        /* a gap in the recording, or time going back: go on in a second */
        s->first_fix_ms = s->held.time_ms;
        s->start_mono_ms = now + 1000;
        due = now + 1000;
    }
    int64_t d = due > now ? due - now : 0;
    struct timeval tv = {(time_t)(d / 1000), (suseconds_t)(d % 1000) * 1000};
    evtimer_add(s->pace, &tv);
}

static int set_raw(int fd, int baud, char *err, size_t errlen)
{
    struct termios t;
    if (tcgetattr(fd, &t) != 0) {
        snprintf(err, errlen, "not a serial device: %s", strerror(errno));
        return VG_EINVAL;
    }
    cfmakeraw(&t);
    speed_t sp;
    switch (baud) {
    case 4800: sp = B4800; break;
    case 9600: sp = B9600; break;
    case 19200: sp = B19200; break;
    case 38400: sp = B38400; break;
    case 57600: sp = B57600; break;
    case 115200: sp = B115200; break;
    default: snprintf(err, errlen, "unsupported speed %d baud", baud); return VG_EINVAL;
    }
    cfsetispeed(&t, sp);
    cfsetospeed(&t, sp);
    t.c_cflag |= CLOCAL | CREAD;
    if (tcsetattr(fd, TCSANOW, &t) != 0) {
        snprintf(err, errlen, "cannot set the device's speed: %s", strerror(errno));
        return VG_EINVAL;
    }
    return VG_OK;
}

/* ---- gpsd ------------------------------------------------------------------- */

static void on_gpsd_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vg_gnss_source *s = arg;
    struct gps_data_t *g = s->gps;
    do {
        g->set = 0;
        if (gps_read(g, NULL, 0) < 0) {
            end(s, "gpsd closed the connection");
            return;
        }
        if (!(g->set & MODE_SET) || !(g->set & TIME_SET) || g->fix.time.tv_sec <= 0)
            continue;
        struct vg_fix fix = {.speed_mps = -1, .heading_deg = -1};
        fix.time_ms = (int64_t)g->fix.time.tv_sec * 1000 + g->fix.time.tv_nsec / 1000000;
        if (g->fix.mode >= MODE_2D && isfinite(g->fix.latitude) && isfinite(g->fix.longitude)) {
            fix.quality = g->fix.mode == MODE_3D ? VG_FIX_3D : VG_FIX_2D;
            if (g->fix.status == STATUS_DGPS_FIX)
                fix.quality = VG_FIX_DGNSS;
            fix.lat_deg = g->fix.latitude;
            fix.lon_deg = g->fix.longitude;
            /* gpsd's horizontal error estimate (eph), else its per-axis
             * ones, else "not known well" */
            double acc = isfinite(g->fix.eph) ? g->fix.eph
                         : isfinite(g->fix.epx) && isfinite(g->fix.epy)
                             ? hypot(g->fix.epx, g->fix.epy)
                             : GPSD_UNKNOWN_ACCURACY_M;
            if (acc < (double)VG_FIX_MIN_ACCURACY_M)
                acc = (double)VG_FIX_MIN_ACCURACY_M;
            if (acc > (double)VG_FIX_MAX_ACCURACY_M)
                acc = (double)VG_FIX_MAX_ACCURACY_M;
            fix.accuracy_m = (float)acc;
            if (isfinite(g->fix.speed) && g->fix.speed >= 0 && g->fix.speed < 1000)
                fix.speed_mps = (float)g->fix.speed;
            if (isfinite(g->fix.track) && g->fix.track >= 0 && g->fix.track < 360)
                fix.heading_deg = (float)g->fix.track;
        } else {
            fix.quality = VG_FIX_NONE;
        }
        if (vg_fix_check(&fix) == VG_OK)
            deliver(s, &fix);
        else
            s->refused_lines++;
    } while (gps_waiting(g, 0));
}

static int open_gpsd(struct vg_gnss_source *s, const char *spec, char *err, size_t errlen)
{
    char host[256] = "127.0.0.1", port[16] = DEFAULT_GPSD_PORT;
    if (spec[4] == ':') {
        const char *hp = spec + 5, *colon = strrchr(hp, ':');
        if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof host ||
            strlen(colon + 1) >= sizeof port) {
            snprintf(err, errlen, "%s: gpsd is \"gpsd\" or \"gpsd:HOST:PORT\"", spec);
            return VG_EINVAL;
        }
        memcpy(host, hp, (size_t)(colon - hp));
        host[colon - hp] = 0;
        snprintf(port, sizeof port, "%s", colon + 1);
    }
    struct gps_data_t *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return VG_ENOSPC;
    }
    if (gps_open(host, port, g) != 0) {
        snprintf(err, errlen, "cannot reach gpsd at %s:%s: %s", host, port, gps_errstr(errno));
        free(g);
        return VG_ENOTFOUND;
    }
    gps_stream(g, WATCH_ENABLE | WATCH_JSON, NULL);
    s->gps = g;
    s->fd = g->gps_fd;
    s->ev = event_new(s->base, s->fd, EV_READ | EV_PERSIST, on_gpsd_read, s);
    return s->ev && event_add(s->ev, NULL) == 0 ? VG_OK : VG_ENOSPC;
}

int vg_gnss_open(struct vg_gnss_source *s, struct event_base *base, const char *spec, int baud,
                 double speed, vg_gnss_fix_cb on_fix, vg_gnss_end_cb on_end, void *ctx, char *err,
                 size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->base = base;
    s->on_fix = on_fix;
    s->on_end = on_end;
    s->ctx = ctx;
    s->speed = speed > 0 ? speed : 1.0;
    vg_nmea_init(&s->nmea);
    if (strcmp(spec, "gpsd") == 0 || strncmp(spec, "gpsd:", 5) == 0) {
        s->kind = VG_GNSS_GPSD;
        int rc = open_gpsd(s, spec, err, errlen);
        if (rc != VG_OK)
            vg_gnss_close(s);
        return rc;
    }
    s->fd = open(spec, O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (s->fd < 0) {
        snprintf(err, errlen, "%s: %s", spec, strerror(errno));
        return VG_ENOTFOUND;
    }
    struct stat st;
    fstat(s->fd, &st);
    if (S_ISCHR(st.st_mode)) {
        s->kind = VG_GNSS_NMEA_DEVICE;
        if (set_raw(s->fd, baud, err, errlen) != VG_OK) {
            vg_gnss_close(s);
            return VG_EINVAL;
        }
        fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
        s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, on_device_read, s);
        if (!s->ev || event_add(s->ev, NULL) != 0) {
            vg_gnss_close(s);
            snprintf(err, errlen, "out of memory");
            return VG_ENOSPC;
        }
        return VG_OK;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: neither gpsd, a serial device nor a file", spec);
        vg_gnss_close(s);
        return VG_EINVAL;
    }
    s->kind = VG_GNSS_NMEA_FILE;
    s->pace = evtimer_new(base, on_pace, s);
    if (!s->pace) {
        vg_gnss_close(s);
        snprintf(err, errlen, "out of memory");
        return VG_ENOSPC;
    }
    struct timeval now = {0, 0};
    evtimer_add(s->pace, &now); /* start reading from the loop */
    return VG_OK;
}

void vg_gnss_close(struct vg_gnss_source *s)
{
    if (s->ev) {
        event_free(s->ev);
        s->ev = NULL;
    }
    if (s->pace) {
        event_free(s->pace);
        s->pace = NULL;
    }
    if (s->gps) {
        gps_stream(s->gps, WATCH_DISABLE, NULL);
        gps_close(s->gps);
        free(s->gps);
        s->gps = NULL;
        s->fd = -1;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}
