/* libFuzzer harness: text -> vg_tz_from_posix, then the zone's answers
 * must agree with each other (tz_check.h). */
#include "tz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vg_tz tz;
    /* The parser takes a C string: a NUL-terminated copy (an embedded NUL
     * just ends the string early). */
    char *text = malloc(size + 1);
    CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    int rc = vg_tz_from_posix(&tz, text);
    free(text);
    if (rc != VG_OK) {
        CHECK(rc == VG_EFORMAT);
        CHECK(vg_tz_offset_at(&tz, 0) == 0 && vg_tz_next_change(&tz, 0) == INT64_MAX);
        return 0;
    }
    CHECK(tz.has_rule && tz.n_transitions == 0);
    check_zone(&tz, data, size);
    return 0;
}
