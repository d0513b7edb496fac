/* The retention job (core/retention.h, art. R. 631-11): on a thread of its
 * own, at start-up and then every `period`, it looks at the ended measures
 * and moves each where the schedule says: into the intermediate archive
 * (the centre lets go of it: only an administrator reads it, giving a
 * reason), then, six years after the end, deletes it — its units' records
 * of that time in small transactions (alarms never wait behind bulk work),
 * then its alarms, versions and the persons' files no other measure names.
 * Each move is journaled; the journal itself is kept. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/retention.h"
#include "daemon/daemon_internal.h"
#include "util/log.h"
#include "util/measure_json.h"

/* Rows per table and transaction when deleting records. */
#define PURGE_CHUNK 2000

struct vg_retention {
    struct daemon *d;
    int64_t period_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
};

struct ended {
    int64_t id;
    int64_t ended_ms;
    bool archived;
    char name[VG_NAME_MAX + 1];
};

struct ended_list {
    struct ended *items;
    size_t n, cap;
};

static int collect_ended(void *arg, const struct vg_store_measure_row *m)
{
    struct ended_list *l = arg;
    if (strcmp(m->status, "ended") != 0 || m->ended_ms <= 0)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct ended *p = realloc(l->items, cap * sizeof *p);
        if (!p)
            return VG_ENOSPC;
        l->items = p;
        l->cap = cap;
    }
    struct ended *e = &l->items[l->n++];
    e->id = m->id;
    e->ended_ms = m->ended_ms;
    e->archived = m->archived;
    snprintf(e->name, sizeof e->name, "%s", m->name);
    return 0;
}

static struct vg_date utc_day(int64_t ms)
{
    return vg_date_from_days(vg_floor_div(ms, 86400000));
}

struct forget_call {
    int64_t id;
    int rc;
};

static void do_forget(struct daemon *d, void *arg)
{
    struct forget_call *f = arg;
    f->rc = vg_center_forget_measure(d->center, f->id);
}

/* One step in its own transaction, with its journal entry if any. */
static int step(struct daemon *d, const struct ended *e, uint8_t action, int64_t *done,
                const char *journal_action, const char *detail)
{
    struct vg_store_retention_step st = {
        .measure_id = e->id, .action = action, .limit = PURGE_CHUNK};
    struct vg_store_journal_entry je = {
        .actor = "retention", .action = journal_action, .subject = e->name, .detail = detail};
    struct vg_store_batch b = {.retention = &st, .n_retention = 1};
    if (journal_action) {
        b.journal = &je;
        b.n_journal = 1;
    }
    char err[256];
    int rc = vg_store_run(d->store, &b, err, sizeof err);
    if (rc != VG_OK)
        vg_log(VG_LOG_ERROR, "retention step failed", "measure", e->name, "reason", err, NULL);
    *done = st.done;
    return rc;
}

static void apply(struct vg_retention *r, const struct ended *e, struct vg_date today)
{
    struct daemon *d = r->d;
    enum vg_retention_phase phase = vg_retention_phase(true, utc_day(e->ended_ms), today, NULL);
    if (phase < VG_RETAIN_ARCHIVED || (phase == VG_RETAIN_ARCHIVED && e->archived))
        return;
    /* the centre lets go of it first (it raises nothing since it ended) */
    struct forget_call f = {e->id, VG_ESTATE};
    if (vg__daemon_on_loop(d, do_forget, &f) != VG_OK || (f.rc != VG_OK && f.rc != VG_ENOTFOUND))
        return; /* stopping, or still being written: the next run */
    int64_t done = 0;
    char detail[96];
    if (phase == VG_RETAIN_ARCHIVED) {
        snprintf(detail, sizeof detail, "{\"ended_ms\":%lld}", (long long)e->ended_ms);
        if (step(d, e, VG_STORE_ARCHIVE, &done, "retention.archive", detail) == VG_OK)
            vg_log(VG_LOG_INFO, "measure archived", "measure", e->name, NULL);
        return;
    }
    int64_t records = 0;
    do {
        if (step(d, e, VG_STORE_PURGE_RECORDS, &done, NULL, NULL) != VG_OK)
            return;
        records += done;
        pthread_mutex_lock(&r->lock);
        bool stop = r->stop;
        pthread_mutex_unlock(&r->lock);
        if (stop)
            return; /* goes on at the next start */
    } while (done > 0);
    snprintf(detail, sizeof detail, "{\"ended_ms\":%lld,\"records\":%lld}", (long long)e->ended_ms,
             (long long)records);
    if (step(d, e, VG_STORE_DELETE_MEASURE, &done, "retention.delete", detail) == VG_OK) {
        char n[24];
        snprintf(n, sizeof n, "%lld", (long long)records);
        vg_log(VG_LOG_INFO, "measure deleted at the end of its retention", "measure", e->name,
               "records", n, NULL);
    }
}

static void run_once(struct vg_retention *r)
{
    struct ended_list l = {0};
    int rc = vg_store_measures(r->d->store, collect_ended, &l);
    if (rc != VG_OK) {
        vg_log(VG_LOG_ERROR, "retention: cannot read the measures", "reason", vg_strerror(rc),
               NULL);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct vg_date today = utc_day((int64_t)ts.tv_sec * 1000);
        for (size_t i = 0; i < l.n; i++)
            apply(r, &l.items[i], today);
    }
    free(l.items);
}

static void *retention_main(void *arg)
{
    struct vg_retention *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        pthread_mutex_unlock(&r->lock);
        run_once(r);
        pthread_mutex_lock(&r->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(r->period_ms / 1000);
        while (!r->stop && pthread_cond_timedwait(&r->cond, &r->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int vg__retention_start(struct daemon *d, int64_t period_ms, struct vg_retention **out)
{
    struct vg_retention *r = calloc(1, sizeof *r);
    if (!r)
        return VG_ENOSPC;
    r->d = d;
    r->period_ms = period_ms < 1000 ? 1000 : period_ms;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&r->thread, NULL, retention_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->cond);
        free(r);
        return VG_ENOSPC;
    }
    *out = r;
    return VG_OK;
}

void vg__retention_stop(struct vg_retention *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r);
}
