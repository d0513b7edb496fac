/* Who is active among the centre's sites (docs/DEPLOYMENT.md, "Two
 * sites"): one vigied holds a lease kept in PostgreSQL, renews it, and
 * acts only while it knows it still holds it.
 *
 * The database decides who holds the lease (its row, its epoch, its expiry
 * by the database's clock); this module decides, from the database's
 * answers and the process's own monotonic clock, when to ask again and
 * whether this process may act. Pure: the caller gives the time.
 *
 * Why the holder stops before the database lets another take over: an
 * answer says the lease runs until (the moment the database wrote it) +
 * ttl; the holder counts from the moment it SENT the request, earlier, and
 * takes a margin off for clock rates. So it has stopped acting before the
 * other site can hold the lease. Its writes are fenced as well (every
 * transaction checks the epoch, store.h): a holder paused past its own
 * deadline cannot commit anyway. */
#ifndef VG_CORE_LEASE_H
#define VG_CORE_LEASE_H

#include <stdbool.h>
#include <stdint.h>

struct vg_lease_params {
    int64_t ttl_ms;    /* how long a renewal holds the lease in the database (3000) */
    int64_t renew_ms;  /* the holder asks again this long after its last request (ttl / 3) */
    int64_t poll_ms;   /* a standby (or a holder whose renewal failed) asks again after (ttl / 10) */
    int64_t margin_ms; /* the holder stops this long before the lease would lapse (ttl / 6) */
};

/* The values above for a given ttl (>= 300 ms). */
void vg_lease_params_default(struct vg_lease_params *p, int64_t ttl_ms);

/* VG_OK, or VG_EINVAL if the values cannot keep one holder: renew and
 * margin must leave a renewal time to come back before the holder's
 * deadline (renew_ms + margin_ms < ttl_ms), all positive. */
int vg_lease_params_check(const struct vg_lease_params *p);

struct vg_lease {
    struct vg_lease_params p;
    int64_t epoch;          /* the epoch the database last gave this process (0: none) */
    bool active;            /* this process may act (run the engine, take units) */
    uint64_t term;          /* +1 at each ACQUIRED: a state built in an older term is stale */
    int64_t valid_until_ms; /* active: act no later than this (monotonic) */
    int64_t next_try_ms;    /* when to ask the database next (monotonic) */
};

enum vg_lease_event {
    VG_LEASE_NONE = 0,
    VG_LEASE_ACQUIRED, /* become active: build the state from the store */
    VG_LEASE_LOST,     /* step down at once: the state is stale from now on */
};

void vg_lease_init(struct vg_lease *l, const struct vg_lease_params *p, int64_t now_ms);

/* The database's answer to a request sent at started_ms, received at
 * now_ms: epoch_got > 0, the lease is this process's at that epoch (taken
 * or renewed); 0, the database says another holds it (a holder steps down
 * at once); < 0, no answer (the request failed: a holder keeps acting
 * until its own deadline).
 *
 * A renewal that comes back with another epoch than the one held means
 * another process held the lease in between (this one had lapsed): LOST,
 * and the next answer with that epoch makes it ACQUIRED again, after the
 * caller has stepped down (its state is rebuilt from the store). An answer
 * that arrives after its own deadline grants nothing yet (the next request
 * confirms it). */
enum vg_lease_event vg_lease_answer(struct vg_lease *l, int64_t started_ms, int64_t now_ms,
                                    int64_t epoch_got);

/* The holder's own clock: LOST once its deadline passes without a
 * renewal having come back (the database is away, the link is cut, the
 * request hangs). Call it often (every 100 ms or so). */
enum vg_lease_event vg_lease_check(struct vg_lease *l, int64_t now_ms);

#endif
