/* Slowing down password guessing: a lock-out per account after repeated
 * failures, growing with each lock, and a token bucket per client address.
 * Pure: the caller gives the time; the state is a few integers it keeps. */
#ifndef VG_CORE_LOCKOUT_H
#define VG_CORE_LOCKOUT_H

#include <stdbool.h>
#include <stdint.h>

struct vg_lockout_policy {
    uint32_t max_failures; /* failures in a row that lock the account (5) */
    int64_t first_lock_ms; /* the first lock's length (5 min); each next one doubles... */
    int64_t max_lock_ms;   /* ...up to this (24 h) */
};

void vg_lockout_policy_default(struct vg_lockout_policy *p);

struct vg_lockout {
    uint32_t failures; /* in a row, since the last success or lock */
    uint32_t locks;    /* locks in a row, since the last success */
    int64_t locked_until_ms;
};

/* Whether an attempt may be made now; if not, *retry_ms (if given) says
 * how long until it may. A locked account is refused even the right
 * password: otherwise the lock would not slow guessing at all. */
bool vg_lockout_allowed(const struct vg_lockout *l, int64_t now_ms, int64_t *retry_ms);

/* A failed attempt: may lock the account (then returns true). */
bool vg_lockout_failed(struct vg_lockout *l, const struct vg_lockout_policy *p, int64_t now_ms);

/* A successful attempt: the counts start again. */
void vg_lockout_succeeded(struct vg_lockout *l);

/* A token bucket: `burst` attempts at once, then one every `every_ms`. */
struct vg_rate {
    double tokens;
    int64_t last_ms; /* 0: never used (full) */
};

bool vg_rate_take(struct vg_rate *r, double burst, int64_t every_ms, int64_t now_ms,
                  int64_t *retry_ms);

#endif
