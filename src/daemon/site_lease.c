/* The two sites' lease in vigied (core/lease.h decides, store.h asks the
 * database; docs/DEPLOYMENT.md, "Two sites").
 *
 * A thread of its own asks the database (take, renew) on the lease's own
 * connection: a request that hangs (a server gone, a link cut) never holds
 * the event loop. The loop checks the holder's own deadline every 100 ms,
 * and after every change of the lease's state compares what runs with what
 * may run: a centre built in an older term, or while the lease is not
 * held, is stepped down; a standby that holds the lease is activated (its
 * state built from the store, as at a restart). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "core/err.h"
#include "core/lease.h"
#include "daemon/daemon_internal.h"
#include "util/clock.h"
#include "util/log.h"

struct vg_site_lease {
    struct daemon *d;
    char holder[128];
    pthread_t thread;
    bool started;
    struct event *changed_ev; /* the thread saw a change */
    struct event *check_ev;   /* the holder's deadline, every 100 ms */

    pthread_mutex_t lock; /* everything below */
    pthread_cond_t wake;
    bool stopping;
    struct vg_lease lease;
    struct vg_site_lease_status status;
    bool failing; /* the last request failed (logged once per run of failures) */

    uint64_t built_term; /* the term the running centre was built in (the loop's) */
};

static void *lease_main(void *arg)
{
    struct vg_site_lease *L = arg;
    struct vg_store *store = L->d->store;
    int64_t ttl = L->lease.p.ttl_ms;
    pthread_mutex_lock(&L->lock);
    while (!L->stopping) {
        int64_t now = vg_mono_ms();
        if (now < L->lease.next_try_ms) {
            int64_t wait = L->lease.next_try_ms - now;
            struct timespec until = vg_cond_deadline(wait);
            pthread_cond_timedwait(&L->wake, &L->lock, &until);
            continue;
        }
        int64_t epoch = L->lease.epoch;
        pthread_mutex_unlock(&L->lock);

        struct vg_store_lease_answer ans;
        char err[256] = "";
        int64_t started = vg_mono_ms();
        int rc = vg_store_lease(store, L->holder, ttl, epoch, &ans, err, sizeof err);
        int64_t answered = vg_mono_ms();

        pthread_mutex_lock(&L->lock);
        enum vg_lease_event ev =
            vg_lease_answer(&L->lease, started, answered, rc == VG_OK ? ans.epoch : -1);
        if (rc == VG_OK) {
            if (L->failing)
                vg_log(VG_LOG_INFO, "lease: the database answers again", NULL);
            L->failing = false;
            snprintf(L->status.holder, sizeof L->status.holder, "%s", ans.holder);
            L->status.remaining_ms = ans.remaining_ms;
        } else if (!L->failing) {
            L->failing = true;
            vg_log(VG_LOG_WARN, "lease: no answer from the database", "reason", err, NULL);
        }
        if (ev != VG_LEASE_NONE)
            event_active(L->changed_ev, EV_READ, 0);
    }
    pthread_mutex_unlock(&L->lock);
    return NULL;
}

/* On the loop: make what runs match what the lease allows. */
static void reconcile(struct vg_site_lease *L)
{
    struct daemon *d = L->d;
    pthread_mutex_lock(&L->lock);
    bool active = L->lease.active;
    uint64_t term = L->lease.term;
    int64_t epoch = L->lease.epoch;
    pthread_mutex_unlock(&L->lock);
    if (d->center && (!active || term != L->built_term)) {
        char e[24];
        snprintf(e, sizeof e, "%lld", (long long)epoch);
        vg_log(VG_LOG_WARN, "lease lost: stepping down (standing by)", "epoch", e, NULL);
        vg__daemon_step_down(d);
    }
    /* a centre stepping down still has batches in flight (the database out
     * of reach): built again only once they are done */
    if (!d->center && active && !d->stopping && vg__daemon_retired(d, false)) {
        char e[24];
        snprintf(e, sizeof e, "%lld", (long long)epoch);
        vg_log(VG_LOG_INFO, "lease held: taking over", "epoch", e, "site", L->holder, NULL);
        if (vg__daemon_activate(d, epoch) == VG_OK) {
            L->built_term = term;
            pthread_mutex_lock(&L->lock);
            L->status.takeovers++;
            pthread_mutex_unlock(&L->lock);
        } else {
            /* (the database went again): stand by; the next answer that
             * gives the lease to this process tries again, or the other
             * site takes it once it lapses */
            vg__daemon_step_down(d);
            pthread_mutex_lock(&L->lock);
            vg_lease_answer(&L->lease, vg_mono_ms(), vg_mono_ms(), 0);
            pthread_mutex_unlock(&L->lock);
        }
    }
}

static void on_changed(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    reconcile(arg);
}

static void on_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vg_site_lease *L = arg;
    pthread_mutex_lock(&L->lock);
    vg_lease_check(&L->lease, vg_mono_ms());
    pthread_mutex_unlock(&L->lock);
    struct daemon *d = L->d;
    if (d->center && !d->stopping &&
        (vg_center_metrics(d->center)->batches_failed_db > 0 || vg_store_lost(d->store))) {
        /* a transaction was lost (the server went, a fail-over, fenced):
         * the engine judged its records, the store does not have them, and
         * the units resend them only once connected again. Built again from
         * the store, as at a restart: the units reconnect and resend, the
         * engine judges them once */
        vg_log(VG_LOG_WARN,
               "a transaction was lost: the centre is built again from the store", NULL);
        vg__daemon_step_down(d);
    }
    vg__daemon_retired(d, false); /* a step-down's batches done: its centre goes */
    reconcile(L);                 /* cheap when nothing changed */
}

int vg__site_lease_start(struct daemon *d, struct vg_site_lease **out, char *err, size_t err_len)
{
    struct vg_lease_params p;
    vg_lease_params_default(&p, d->cfg.lease_ttl_ms);
    if (vg_lease_params_check(&p) != VG_OK) {
        snprintf(err, err_len, "lease_ttl_ms: too short");
        return VG_EINVAL;
    }
    struct vg_site_lease *L = calloc(1, sizeof *L);
    if (!L) {
        snprintf(err, err_len, "out of memory");
        return VG_ENOSPC;
    }
    L->d = d;
    /* the site's name, and this process's own mark: a restarted vigied is
     * not the holder it was (its state is gone), it takes the lease anew */
    char host[64] = "";
    if (!d->cfg.site[0])
        gethostname(host, sizeof host - 1);
    unsigned char raw[4];
    if (RAND_bytes(raw, sizeof raw) != 1)
        memset(raw, 0, sizeof raw);
    snprintf(L->holder, sizeof L->holder, "%s/%ld/%02x%02x%02x%02x",
             d->cfg.site[0] ? d->cfg.site : host, (long)getpid(), raw[0], raw[1], raw[2], raw[3]);
    snprintf(L->status.site, sizeof L->status.site, "%s", L->holder);
    pthread_mutex_init(&L->lock, NULL);
    pthread_cond_init(&L->wake, NULL);
    vg_lease_init(&L->lease, &p, vg_mono_ms());
    L->changed_ev = event_new(d->base, -1, 0, on_changed, L);
    L->check_ev = event_new(d->base, -1, EV_PERSIST, on_check, L);
    struct timeval every = {0, 100 * 1000};
    if (!L->changed_ev || !L->check_ev || event_add(L->check_ev, &every) != 0) {
        snprintf(err, err_len, "cannot create the lease's events");
        vg__site_lease_stop(L, false);
        return VG_ENOSPC;
    }
    if (pthread_create(&L->thread, NULL, lease_main, L) != 0) {
        snprintf(err, err_len, "cannot start the lease's thread");
        vg__site_lease_stop(L, false);
        return VG_ENOSPC;
    }
    L->started = true;
    *out = L;
    return VG_OK;
}

void vg__site_lease_wait_first(struct vg_site_lease *L, int64_t timeout_ms)
{
    /* the first answer (or its failure) comes within the request's own
     * time-outs; the loop is not running yet, so nothing else waits */
    int64_t end = vg_mono_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&L->lock);
        bool answered = L->lease.active || L->status.holder[0] || L->failing;
        pthread_mutex_unlock(&L->lock);
        if (answered || vg_mono_ms() >= end)
            break;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    reconcile(L);
}

void vg__site_lease_stop(struct vg_site_lease *L, bool release)
{
    if (!L)
        return;
    if (L->started) {
        pthread_mutex_lock(&L->lock);
        L->stopping = true;
        pthread_cond_signal(&L->wake);
        pthread_mutex_unlock(&L->lock);
        pthread_join(L->thread, NULL);
    }
    if (release && L->lease.active && L->lease.epoch > 0) {
        char err[256];
        if (vg_store_lease_release(L->d->store, L->holder, L->lease.epoch, err, sizeof err) ==
            VG_OK)
            vg_log(VG_LOG_INFO, "lease released: the other site may take over at once", NULL);
        else
            vg_log(VG_LOG_WARN, "lease not released: it lapses by itself", "reason", err, NULL);
    }
    if (L->changed_ev)
        event_free(L->changed_ev);
    if (L->check_ev)
        event_free(L->check_ev);
    pthread_cond_destroy(&L->wake);
    pthread_mutex_destroy(&L->lock);
    free(L);
}

void vg__site_lease_status(struct vg_site_lease *L, struct vg_site_lease_status *out)
{
    pthread_mutex_lock(&L->lock);
    *out = L->status;
    out->active = L->lease.active;
    out->epoch = L->lease.active ? L->lease.epoch : 0;
    pthread_mutex_unlock(&L->lock);
}
