#include "core/lease.h"

#include "core/err.h"

void vg_lease_params_default(struct vg_lease_params *p, int64_t ttl_ms)
{
    if (ttl_ms < 300)
        ttl_ms = 300;
    p->ttl_ms = ttl_ms;
    p->renew_ms = ttl_ms / 3;
    p->poll_ms = ttl_ms / 10;
    p->margin_ms = ttl_ms / 6;
}

int vg_lease_params_check(const struct vg_lease_params *p)
{
    if (!p || p->ttl_ms <= 0 || p->renew_ms <= 0 || p->poll_ms <= 0 || p->margin_ms <= 0)
        return VG_EINVAL;
    /* a renewal sent at renew_ms must have time to come back before the
     * holder's own deadline (ttl - margin after the previous request) */
    if (p->renew_ms + p->margin_ms >= p->ttl_ms)
        return VG_EINVAL;
    return VG_OK;
}

void vg_lease_init(struct vg_lease *l, const struct vg_lease_params *p, int64_t now_ms)
{
    *l = (struct vg_lease){.p = *p, .next_try_ms = now_ms};
}

enum vg_lease_event vg_lease_answer(struct vg_lease *l, int64_t started_ms, int64_t now_ms,
                                    int64_t epoch_got)
{
    if (epoch_got == 0) { /* the database says another holds it */
        l->next_try_ms = now_ms + l->p.poll_ms;
        if (l->active) {
            l->active = false;
            return VG_LEASE_LOST;
        }
        return VG_LEASE_NONE;
    }
    if (epoch_got < 0) {
        /* no answer: a holder keeps acting until its own deadline, and
         * asks again soon */
        l->next_try_ms = now_ms + l->p.poll_ms;
        return vg_lease_check(l, now_ms);
    }
    int64_t until = started_ms + l->p.ttl_ms - l->p.margin_ms;
    if (l->active && epoch_got != l->epoch) {
        /* another process held it since our last renewal: whatever this
         * one holds in memory may be behind the store */
        l->active = false;
        l->epoch = epoch_got;
        l->valid_until_ms = until;
        l->next_try_ms = now_ms;
        return VG_LEASE_LOST;
    }
    l->epoch = epoch_got;
    l->valid_until_ms = until;
    l->next_try_ms = started_ms + l->p.renew_ms;
    if (l->next_try_ms < now_ms)
        l->next_try_ms = now_ms;
    if (now_ms >= until) {
        /* came back too late to act on: ask again at once */
        l->next_try_ms = now_ms;
        return vg_lease_check(l, now_ms);
    }
    if (!l->active) {
        l->active = true;
        l->term++;
        return VG_LEASE_ACQUIRED;
    }
    return VG_LEASE_NONE;
}

enum vg_lease_event vg_lease_check(struct vg_lease *l, int64_t now_ms)
{
    if (l->active && now_ms >= l->valid_until_ms) {
        l->active = false;
        return VG_LEASE_LOST;
    }
    return VG_LEASE_NONE;
}
