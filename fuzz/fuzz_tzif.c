/* libFuzzer harness: TZif bytes -> vg_tz_from_tzif, then the zone's
 * answers must agree with each other (tz_check.h). */
#include "tz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vg_tz tz; /* 11 KB: not on the stack */
    int rc = vg_tz_from_tzif(&tz, data, size);
    if (rc != VG_OK) {
        CHECK(rc == VG_EFORMAT || rc == VG_ENOSPC);
        /* A refused file leaves UTC. */
        CHECK(vg_tz_offset_at(&tz, 0) == 0 && vg_tz_next_change(&tz, 0) == INT64_MAX);
        return 0;
    }
    CHECK(tz.n_transitions <= VG_TZ_MAX_TRANSITIONS && tz.n_types >= 1 &&
          tz.n_types <= VG_TZ_MAX_TYPES);
    for (uint32_t i = 0; i < tz.n_transitions; i++) {
        CHECK(tz.transition_type[i] < tz.n_types);
        CHECK(i == 0 || tz.transition_s[i - 1] < tz.transition_s[i]);
    }
    check_zone(&tz, data, size);
    return 0;
}
