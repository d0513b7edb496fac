/* Lock-out and rate limit (lockout.h). */
#include "core/lockout.h"

void vg_lockout_policy_default(struct vg_lockout_policy *p)
{
    p->max_failures = 5;
    p->first_lock_ms = 5 * 60 * 1000;
    p->max_lock_ms = 24 * 60 * 60 * 1000;
}

bool vg_lockout_allowed(const struct vg_lockout *l, int64_t now_ms, int64_t *retry_ms)
{
    if (now_ms >= l->locked_until_ms) {
        if (retry_ms)
            *retry_ms = 0;
        return true;
    }
    if (retry_ms)
        *retry_ms = l->locked_until_ms - now_ms;
    return false;
}

bool vg_lockout_failed(struct vg_lockout *l, const struct vg_lockout_policy *p, int64_t now_ms)
{
    if (l->failures < UINT32_MAX)
        l->failures++;
    if (l->failures < p->max_failures)
        return false;
    /* lock: first_lock_ms doubled for each lock before it, capped */
    int64_t len = p->first_lock_ms;
    for (uint32_t i = 0; i < l->locks && len < p->max_lock_ms; i++)
        len *= 2;
    if (len > p->max_lock_ms)
        len = p->max_lock_ms;
    l->locked_until_ms = now_ms + len;
    l->failures = 0;
    if (l->locks < UINT32_MAX)
        l->locks++;
    return true;
}

void vg_lockout_succeeded(struct vg_lockout *l)
{
    l->failures = 0;
    l->locks = 0;
    l->locked_until_ms = 0;
}

bool vg_rate_take(struct vg_rate *r, double burst, int64_t every_ms, int64_t now_ms,
                  int64_t *retry_ms)
{
    if (r->last_ms == 0) {
        r->tokens = burst;
        r->last_ms = now_ms;
    }
    if (now_ms > r->last_ms && every_ms > 0) {
        r->tokens += (double)(now_ms - r->last_ms) / (double)every_ms;
        if (r->tokens > burst)
            r->tokens = burst;
        r->last_ms = now_ms;
    }
    if (r->tokens >= 1.0) {
        r->tokens -= 1.0;
        if (retry_ms)
            *retry_ms = 0;
        return true;
    }
    if (retry_ms)
        *retry_ms = (int64_t)((1.0 - r->tokens) * (double)every_ms) + 1;
    return false;
}
