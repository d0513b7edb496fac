/* One site: the centre built again from the store after a lost transaction.
 *
 * The engine judges a record when it arrives, before its batch commits. A
 * transaction the database loses (store_backend.h's VG_ESTATE: the file
 * held by another process past the busy timeout, a disk that fails, a
 * server gone) leaves the engine ahead of the store: the units are not
 * acknowledged and send the records again, and an engine that kept what
 * it judged would judge them twice (an alarm in the lost batch never
 * raised again: the engine is at that level already). So the centre steps
 * down (the units go) and is built again from the store, as at a restart;
 * the units reconnect and resend, the engine judges their records once.
 * On two sites the lease's check does the same (site_lease.c), and the
 * lease decides when the site is active again. */
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "core/err.h"
#include "daemon/daemon_internal.h"
#include "util/clock.h"
#include "util/log.h"

#define CHECK_MS 100
#define RETRY_MS 1000 /* a database still unusable: tried again at most this often */

struct vg_rebuild {
    struct daemon *d;
    struct event *ev;
    bool pending;      /* stepped down, to be built again */
    int64_t tried_ms;  /* the last attempt (monotonic) */
};

static void on_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct vg_rebuild *r = arg;
    struct daemon *d = r->d;
    if (d->stopping)
        return;
    if (d->center && (vg_center_metrics(d->center)->batches_failed_db > 0 ||
                      vg_store_lost(d->store))) { /* (an API's write lost: the same) */
        vg_log(VG_LOG_WARN,
               "a transaction was lost: the centre is built again from the store", NULL);
        vg__daemon_step_down(d); /* its batches in flight: see vg__daemon_retired */
        r->pending = true;
        r->tried_ms = 0;
    }
    /* once the step-down's batches are done: what they committed is read */
    if (!r->pending || d->center || !vg__daemon_retired(d, false))
        return;
    int64_t now = vg_mono_ms();
    if (r->tried_ms && now - r->tried_ms < RETRY_MS)
        return;
    r->tried_ms = now;
    if (vg__daemon_activate(d, 0) == VG_OK) {
        r->pending = false;
        vg_log(VG_LOG_INFO, "the centre is built again from the store", NULL);
    }
}

int vg__rebuild_start(struct daemon *d, struct vg_rebuild **out)
{
    struct vg_rebuild *r = calloc(1, sizeof *r);
    if (!r)
        return VG_ENOSPC;
    r->d = d;
    r->ev = event_new(d->base, -1, EV_PERSIST, on_check, r);
    struct timeval every = {0, CHECK_MS * 1000};
    if (!r->ev || event_add(r->ev, &every) != 0) {
        vg__rebuild_stop(r);
        return VG_ENOSPC;
    }
    *out = r;
    return VG_OK;
}

void vg__rebuild_stop(struct vg_rebuild *r)
{
    if (!r)
        return;
    if (r->ev)
        event_free(r->ev);
    free(r);
}
