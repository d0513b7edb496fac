/* The reports' outbox: after every intervention the report goes to the
 * magistrate, the prosecutor, the probation service and victim support
 * (the recipients the measure names). When an incident is closed, a thread
 * of its own draws its report for each recipient (report_pdf.c) into
 * DATA_DIR/outbox/incident-ID-N-ROLE.pdf — written whole, synced, then
 * renamed, so that what lies there is complete — and journals each
 * dispatch (report.dispatch, by the centre: the recipient, its contact,
 * the file and its SHA-256): the dispatched records are the journal's.
 * Carrying the files on to the recipients (the courts' secure messaging)
 * is the centre's gateway's job: nothing leaves the machine from here.
 *
 * At start it walks the journal once for closed incidents whose
 * recipients did not all get theirs (a stop between the close and the
 * drawing) and dispatches what is missing. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/err.h"
#include "daemon/daemon_internal.h"
#include "report/incident_pdf.h"
#include "util/journal.h"
#include "util/log.h"

#define MAX_RECIPIENTS 16 /* the bit masks below: report_to holds 8 at most */

struct job {
    int64_t incident_id;
    uint32_t done_mask; /* recipients (by index) already dispatched */
    struct job *next;
};

struct vg_outbox {
    struct daemon *d;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *head, *tail;
    bool stop;
    char dir[VG_PATH_MAX + 16];
};

static void push(struct vg_outbox *o, int64_t id, uint32_t done_mask)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j) {
        vg_log(VG_LOG_ERROR, "out of memory: a report not dispatched (a restart will)", NULL);
        return;
    }
    j->incident_id = id;
    j->done_mask = done_mask;
    pthread_mutex_lock(&o->lock);
    if (o->tail)
        o->tail->next = j;
    else
        o->head = j;
    o->tail = j;
    pthread_cond_signal(&o->cond);
    pthread_mutex_unlock(&o->lock);
}

void vg__outbox_push(struct vg_outbox *o, int64_t incident_id)
{
    if (o)
        push(o, incident_id, 0);
}

/* ---- one file, whole or not at all ---------------------------------------------------------- */

static int write_file(const char *dir, const char *name, const unsigned char *data, size_t len,
                      char *err, size_t err_len)
{
    char tmp[VG_PATH_MAX + 96], path[VG_PATH_MAX + 96];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_len, "cannot write %s: %s", tmp, strerror(errno));
        return VG_ESTATE;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, err_len, "cannot write %s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return VG_ESTATE;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, err_len, "cannot complete %s: %s", path, strerror(errno));
        unlink(tmp);
        return VG_ESTATE;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* the rename itself durable */
        fsync(dfd);
        close(dfd);
    }
    return VG_OK;
}

/* ---- one incident ------------------------------------------------------------------------------
 */

static int copy_recipients(void *arg, const struct vg_store_report *r)
{
    *(json_t **)arg = json_loads(r->recipients, 0, NULL);
    return 0;
}

static void dispatch(struct vg_outbox *o, const struct job *j)
{
    struct daemon *d = o->d;
    json_t *recipients = NULL;
    char err[512] = "", id[24];
    snprintf(id, sizeof id, "%lld", (long long)j->incident_id);
    if (vg_store_report(d->store, j->incident_id, copy_recipients, &recipients) != VG_OK ||
        !json_is_array(recipients)) {
        json_decref(recipients);
        vg_log(VG_LOG_ERROR, "a report to dispatch cannot be read", "incident", id, NULL);
        return;
    }
    size_t i;
    json_t *r;
    json_array_foreach(recipients, i, r)
    {
        if (i >= MAX_RECIPIENTS || (j->done_mask & (1u << i)))
            continue;
        const char *role = json_string_value(json_object_get(r, "role"));
        const char *name = json_string_value(json_object_get(r, "name"));
        const char *contact = json_string_value(json_object_get(r, "contact"));
        unsigned aud = vg_report_audience_parse(role);
        struct vg__report_drawn drawn;
        char file[160];
        snprintf(file, sizeof file, "incident-%lld-%zu-%s.pdf", (long long)j->incident_id, i + 1,
                 role ? role : "unknown");
        int rc = aud ? vg__daemon_report_draw(d, NULL, j->incident_id, aud, name, &drawn, err,
                                              sizeof err)
                     : (snprintf(err, sizeof err, "no such recipient role"), VG_EINVAL);
        if (rc == VG_OK) {
            rc = write_file(o->dir, file, drawn.pdf, drawn.len, err, sizeof err);
            free(drawn.pdf);
        }
        if (rc == VG_OK) {
            json_t *detail =
                json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:I}", "index", (int)(i + 1), "for", role,
                          "recipient", name ? name : "", "contact", contact ? contact : "", "file",
                          file, "pdf_sha256", drawn.pdf_sha256, "bytes", (json_int_t)drawn.len);
            char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
            json_decref(detail);
            rc = text ? vg_center_journal(d->center, "centre", "report.dispatch", drawn.subject,
                                          text, err, sizeof err)
                      : VG_ENOSPC;
            free(text);
        }
        if (rc == VG_OK)
            vg_log(VG_LOG_INFO, "report dispatched", "incident", id, "for", role, "file", file,
                   NULL);
        else
            vg_log(rc == VG_ESTATE && strcmp(err, "stopping") == 0 ? VG_LOG_INFO : VG_LOG_ERROR,
                   "a report not dispatched (a restart will)", "incident", id, "for",
                   role ? role : "", "reason", err, NULL);
    }
    json_decref(recipients);
}

/* ---- what a stop left undone ------------------------------------------------------------------
 */

struct pending {
    int64_t id;
    int n_recipients;
    uint32_t done_mask;
};

struct scan {
    struct pending *p;
    size_t n, cap;
};

static struct pending *find(struct scan *s, int64_t id)
{
    for (size_t i = s->n; i-- > 0;) /* the latest first: entries follow their report */
        if (s->p[i].id == id)
            return &s->p[i];
    return NULL;
}

static int on_entry(void *arg, const struct vg_journal_entry *e)
{
    struct scan *s = arg;
    long long id = 0;
    bool create = strcmp(e->action, "report.create") == 0;
    if ((!create && strcmp(e->action, "report.dispatch") != 0) ||
        sscanf(e->subject, "incident/%lld", &id) != 1)
        return 0;
    json_t *detail = json_loads(e->detail, 0, NULL);
    if (create) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 64;
            struct pending *p = realloc(s->p, cap * sizeof *p);
            if (!p) {
                json_decref(detail);
                return VG_ENOSPC;
            }
            s->p = p;
            s->cap = cap;
        }
        s->p[s->n++] =
            (struct pending){id, (int)json_integer_value(json_object_get(detail, "recipients")), 0};
    } else {
        struct pending *p = find(s, id);
        json_int_t index = json_integer_value(json_object_get(detail, "index"));
        if (p && index >= 1 && index <= MAX_RECIPIENTS)
            p->done_mask |= 1u << (index - 1);
    }
    json_decref(detail);
    return 0;
}

static void catch_up(struct vg_outbox *o)
{
    struct scan s = {0};
    if (vg_store_journal(o->d->store, 0, on_entry, &s) != VG_OK) {
        vg_log(VG_LOG_ERROR, "the outbox cannot read the journal: reports not caught up", NULL);
        free(s.p);
        return;
    }
    for (size_t i = 0; i < s.n; i++) {
        int n = s.p[i].n_recipients < MAX_RECIPIENTS ? s.p[i].n_recipients : MAX_RECIPIENTS;
        uint32_t all = n >= 32 ? UINT32_MAX : (1u << n) - 1;
        if ((s.p[i].done_mask & all) != all)
            push(o, s.p[i].id, s.p[i].done_mask);
    }
    free(s.p);
}

/* ---- the thread ---------------------------------------------------------------------------------
 */

static void *outbox_main(void *arg)
{
    struct vg_outbox *o = arg;
    catch_up(o);
    for (;;) {
        pthread_mutex_lock(&o->lock);
        while (!o->head && !o->stop)
            pthread_cond_wait(&o->cond, &o->lock);
        struct job *j = o->stop ? NULL : o->head;
        if (j) {
            o->head = j->next;
            if (!o->head)
                o->tail = NULL;
        }
        pthread_mutex_unlock(&o->lock);
        if (!j)
            return NULL; /* what is queued is done at the next start */
        dispatch(o, j);
        free(j);
    }
}

int vg__outbox_start(struct daemon *d, struct vg_outbox **out)
{
    struct vg_outbox *o = calloc(1, sizeof *o);
    if (!o)
        return VG_ENOSPC;
    o->d = d;
    snprintf(o->dir, sizeof o->dir, "%s/outbox", d->cfg.data_dir);
    if (mkdir(o->dir, 0700) != 0 && errno != EEXIST) {
        vg_log(VG_LOG_ERROR, "cannot create the reports' outbox", "dir", o->dir, "reason",
               strerror(errno), NULL);
        free(o);
        return VG_ESTATE;
    }
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->cond, NULL);
    if (pthread_create(&o->thread, NULL, outbox_main, o) != 0) {
        pthread_mutex_destroy(&o->lock);
        pthread_cond_destroy(&o->cond);
        free(o);
        return VG_ENOSPC;
    }
    *out = o;
    return VG_OK;
}

void vg__outbox_stop(struct vg_outbox *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->stop = true;
    pthread_cond_signal(&o->cond);
    pthread_mutex_unlock(&o->lock);
    pthread_join(o->thread, NULL);
    while (o->head) {
        struct job *j = o->head;
        o->head = j->next;
        free(j);
    }
    pthread_mutex_destroy(&o->lock);
    pthread_cond_destroy(&o->cond);
    free(o);
}
