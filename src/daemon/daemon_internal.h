/* Private to vigied (vigied.c, measure_hooks.c): the daemon's state, and
 * how the HTTP thread's hooks run work on the daemon's loop. */
#ifndef VG_DAEMON_DAEMON_INTERNAL_H
#define VG_DAEMON_DAEMON_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <event2/event.h>
#include <jansson.h>
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
    bool standby_ok; /* may run without a centre (health, metrics) */
    bool refused;    /* standing by: fn did not run */
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
    struct vg_outbox *outbox; /* report_outbox.c */
    /* two sites (site_lease.c): NULL on SQLite, always active */
    struct vg_site_lease *lease;
    struct vg_rebuild *rebuild; /* one site: rebuild.c */
    struct vg_retention *retention;
    /* stepped down, its batches still in the store (a database out of
     * reach): what vg__daemon_retired frees once they are done */
    struct vg_center *retiring;
    struct vg_retention *retiring_retention;
    struct vg_outbox *retiring_outbox;
    _Atomic bool standby; /* the HTTP thread reads it: the API answers 503 */
    char db_public[VG_PATH_MAX + 32]; /* the store's location as it may be logged */
};

/* ---- two sites (site_lease.c, vigied.c) ---- */

/* Build the centre from the store and serve the units, with every write
 * fenced at `epoch` (0: no lease, SQLite); on the loop. On failure what was
 * started is stopped again. */
int vg__daemon_activate(struct daemon *d, int64_t epoch);
/* Stop serving the units, refuse every write, drop the centre's state; on
 * the loop, without waiting: batches in flight (a commit waiting for a
 * database out of reach) leave the centre retiring until they are done. */
void vg__daemon_step_down(struct daemon *d);
/* Free what stepping down left retiring once the store has nothing in
 * flight (wait: until then; at stop). True when nothing is left retiring:
 * only then may the site activate again. */
bool vg__daemon_retired(struct daemon *d, bool wait);

struct vg_site_lease;
struct vg_site_lease_status {
    char site[128];   /* this vigied in the lease: "SITE/PID/RANDOM" */
    bool active;
    int64_t epoch;    /* while active */
    char holder[128]; /* the holder as last read ("" never read) */
    int64_t remaining_ms;
    uint64_t takeovers; /* times this process became active */
};
/* Start asking for the lease (a thread, and the loop's events on d->base). */
int vg__site_lease_start(struct daemon *d, struct vg_site_lease **out, char *err, size_t err_len);
/* Before the loop runs: wait for the first answer (at most timeout_ms),
 * then activate if the lease is this process's. */
void vg__site_lease_wait_first(struct vg_site_lease *L, int64_t timeout_ms);
/* Stop asking; release: let the lease go if held (a clean stop, after the
 * last commit). Accepts NULL. */
void vg__site_lease_stop(struct vg_site_lease *L, bool release);
void vg__site_lease_status(struct vg_site_lease *L, struct vg_site_lease_status *out);

/* One site (no lease): the centre built again from the store after a
 * transaction the database lost (rebuild.c), checked every 100 ms on the
 * loop. */
struct vg_rebuild;
int vg__rebuild_start(struct daemon *d, struct vg_rebuild **out);
void vg__rebuild_stop(struct vg_rebuild *r); /* accepts NULL */

/* Run fn on the daemon's loop and wait for it (from the HTTP thread).
 * VG_ESTATE if the daemon is stopping (then fn has not run). */
int vg__daemon_on_loop(struct daemon *d, void (*fn)(struct daemon *d, void *arg), void *arg);

/* The retention job (retention.c): a thread that applies the schedule of
 * core/retention.h at start and every period_ms. */
struct vg_retention;
int vg__retention_start(struct daemon *d, int64_t period_ms, struct vg_retention **out);
void vg__retention_stop(struct vg_retention *r);

/* A measure's whole file, for GET /api/v1/measures/ID/export
 * (measure_export.c): read from the store on the calling thread, journaled. */
int vg__daemon_export_measure(struct daemon *d, const struct vg_identity *who, int64_t id,
                              json_t **out, char *err, size_t err_len);

/* The incidents' hooks (incident_hooks.c) into h. */
void vg__daemon_incident_hooks(struct vg_http_hooks *h);

/* The incidents' reports and steps (report_hooks.c): the hooks into h, and
 * what a close reads off the loop for its report (center_report.h):
 * VG_ENOTFOUND if no measure holds the incident, VG_ESTALE if its last
 * alarms are not stored after a few seconds. */
void vg__daemon_report_hooks(struct vg_http_hooks *h);
int vg__daemon_report_input(struct daemon *d, int64_t id, struct vg_center_report_input *in,
                            char *err, size_t err_len);
void vg__daemon_report_input_free(struct vg_center_report_input *in);

/* The floor view's hook (floor_hooks.c). */
void vg__daemon_floor_hooks(struct vg_http_hooks *h);

/* The measures' hooks (measure_hooks.c) into h (h->arg is the daemon). */
void vg__daemon_measure_hooks(struct vg_http_hooks *h);

/* The units' hooks (unit_hooks.c): their list, certificates issued and
 * revoked in pki_dir. */
void vg__daemon_unit_hooks(struct vg_http_hooks *h);

/* A measure's activity (activity_hooks.c): GET /api/v1/measures/ID/activity. */
void vg__daemon_activity_hooks(struct vg_http_hooks *h);

/* The reports drawn as PDF (report_pdf.c): GET /api/v1/incidents/ID/report.pdf. */
void vg__daemon_report_pdf_hooks(struct vg_http_hooks *h);

/* A measure as the reports and the activity need it, read on the loop
 * (report_pdf.c): its name, definition (to free), units and incident in
 * progress, and whether `who` may see it (NULL: the centre itself).
 * VG_ESTATE if the daemon is stopping. */
struct vg__measure_call {
    const struct vg_identity *who;
    int64_t id;
    bool found, allowed;
    char name[VG_NAME_MAX + 1];
    char *definition;
    struct vg_center_track_subject units;
};
int vg__daemon_measure_lookup(struct daemon *d, struct vg__measure_call *c);

/* A closed incident's report drawn for a recipient (report/incident_pdf.h):
 * who (NULL: the centre) must be allowed the measure; recipient: the name
 * printed (NULL: the measure's first of that role). Not journaled: the
 * caller says why it was drawn. From any thread but the loop's. */
struct vg__report_drawn {
    unsigned char *pdf; /* to free */
    size_t len;
    char pdf_sha256[65];
    char measure[VG_NAME_MAX + 1];
    char subject[48]; /* incident/ID */
    char recipient[200];
};
int vg__daemon_report_draw(struct daemon *d, const struct vg_identity *who, int64_t id,
                           unsigned audience, const char *recipient, struct vg__report_drawn *out,
                           char *err, size_t err_len);

/* The reports' outbox (report_outbox.c): each closed incident's report
 * drawn for each of its recipients into DATA_DIR/outbox, each dispatch
 * journaled; at start, what a stop left undone. */
struct vg_outbox;
int vg__outbox_start(struct daemon *d, struct vg_outbox **out);
void vg__outbox_push(struct vg_outbox *o, int64_t incident_id);
void vg__outbox_stop(struct vg_outbox *o);

/* The tracks' hook (position_hooks.c): GET /api/v1/measures/ID/positions. */
void vg__daemon_position_hooks(struct vg_http_hooks *h);

#endif
