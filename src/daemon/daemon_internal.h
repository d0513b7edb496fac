/* Private to vigied (vigied.c, measure_hooks.c): the daemon's state, and
 * how the HTTP thread's hooks run work on the daemon's loop. */
#ifndef VG_DAEMON_DAEMON_INTERNAL_H
#define VG_DAEMON_DAEMON_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "core/engine.h"
#include "daemon/center.h"
#include "daemon/config.h"
#include "http/api.h"
#include "net/gateway.h"
#include "store/store.h"

struct daemon;

/* A hook of the HTTP thread run on the daemon's loop (the centre is the
 * loop's alone), the HTTP thread waiting for it. */
struct loop_call {
    void (*fn)(struct daemon *d, void *arg);
    void *arg;
    bool done;
    struct loop_call *next;
};

struct daemon {
    struct vg_daemon_config cfg;
    struct event_base *base;
    /* calls from the HTTP thread: queued under call_lock, run by call_ev */
    pthread_mutex_t call_lock;
    pthread_cond_t call_cond;
    struct loop_call *calls;
    struct event *call_ev;
    bool stopping;
    SSL_CTX *ctx;
    struct vg_store *store;
    struct vg_center *center;
    struct vg_gateway *gateway;
    struct vg_http *http;
    struct vg_engine_params params;
    char pki_dir[VG_PATH_MAX + 8];
    char token[65];
};

/* Run fn on the daemon's loop and wait for it (from the HTTP thread).
 * VG_ESTATE if the daemon is stopping (then fn has not run). */
int vg__daemon_on_loop(struct daemon *d, void (*fn)(struct daemon *d, void *arg), void *arg);

/* The measures' hooks (measure_hooks.c) into h (h->arg is the daemon). */
void vg__daemon_measure_hooks(struct vg_http_hooks *h);

#endif
