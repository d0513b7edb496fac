#include "util/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

static enum vg_log_level min_level = VG_LOG_INFO;
static FILE *sink; /* NULL: stderr */
/* The store's writer thread logs too: one line at a time. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void vg_log_set_level(enum vg_log_level level)
{
    min_level = level;
}

void vg_log_set_stream(FILE *f)
{
    sink = f;
}

int vg_log_level_parse(const char *name)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

static void put_value(FILE *f, const char *v)
{
    bool plain = *v != '\0';
    for (const char *p = v; *p; p++)
        if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20)
            plain = false;
    if (plain) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (const char *p = v; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\') {
            fputc('\\', f);
            fputc(ch, f);
        } else if (ch == '\n') {
            fputs("\\n", f);
        } else if (ch < 0x20) {
            fprintf(f, "\\x%02x", ch);
        } else {
            fputc(ch, f);
        }
    }
    fputc('"', f);
}

void vg_log(enum vg_log_level level, const char *msg, ...)
{
    if (level < min_level)
        return;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    pthread_mutex_lock(&lock);
    FILE *f = sink ? sink : stderr;
    fprintf(f, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
            names[level]);
    put_value(f, msg);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key)
            break;
        const char *value = va_arg(ap, const char *);
        fprintf(f, " %s=", key);
        put_value(f, value ? value : "");
    }
    va_end(ap);
    fputc('\n', f);
    fflush(f);
    pthread_mutex_unlock(&lock);
}
