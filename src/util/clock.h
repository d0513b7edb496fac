/* The shell's clocks, in one place: the monotonic clock for durations and
 * deadlines measured in a process, and the deadline form that
 * pthread_cond_timedwait takes (CLOCK_REALTIME, the default clock of a
 * condition). src/core has no clock: its callers pass the time in. */
#ifndef VG_UTIL_CLOCK_H
#define VG_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

int64_t vg_mono_ns(void);
int64_t vg_mono_ms(void);

/* ms from now on CLOCK_REALTIME, for pthread_cond_timedwait. */
struct timespec vg_cond_deadline(int64_t ms);

#endif
