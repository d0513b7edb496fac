#include "core/fix.h"

#include <math.h>

#include "core/alarm.h"
#include "core/err.h"
#include "core/geo.h"

static int check_time(int64_t t)
{
    return t >= VG_TIME_MIN_MS && t < VG_TIME_MAX_MS ? VG_OK : VG_ERANGE;
}

int vg_fix_check(const struct vg_fix *fix)
{
    int rc = check_time(fix->time_ms);
    if (rc != VG_OK)
        return rc;
    if (fix->quality > VG_FIX_NETWORK)
        return VG_EINVAL;
    if (fix->quality == VG_FIX_NONE)
        return VG_OK; /* no position: the coordinates mean nothing */
    struct vg_geo_point p = {fix->lat_deg, fix->lon_deg};
    if ((rc = vg_geo_point_check(p)) != VG_OK)
        return rc;
    if (!isfinite(fix->accuracy_m) || !isfinite(fix->speed_mps) || !isfinite(fix->heading_deg))
        return VG_EINVAL;
    if (fix->accuracy_m < 0.0f || fix->accuracy_m > VG_FIX_MAX_ACCURACY_M)
        return VG_ERANGE;
    if (fix->speed_mps > VG_FIX_MAX_SPEED_MPS || fix->heading_deg >= 360.0f)
        return VG_ERANGE;
    return VG_OK;
}

static bool tristate_ok(int8_t v)
{
    return v >= -1 && v <= 1;
}

int vg_unit_status_check(unsigned unit, const struct vg_unit_status *st)
{
    if (unit >= VG_UNIT_COUNT)
        return VG_EINVAL;
    int rc = check_time(st->time_ms);
    if (rc != VG_OK)
        return rc;
    if (st->battery_pct < -1 || st->battery_pct > 100)
        return VG_ERANGE;
    if (!tristate_ok(st->charging) || !tristate_ok(st->strap_closed) ||
        !tristate_ok(st->skin_contact) || !tristate_ok(st->bracelet_link))
        return VG_EINVAL;
    /* a sensor the unit does not have means the record is not what it claims */
    if (unit != VG_UNIT_BRACELET && (st->strap_closed != -1 || st->skin_contact != -1))
        return VG_EINVAL;
    if (unit != VG_UNIT_AUTHOR && st->bracelet_link != -1)
        return VG_EINVAL;
    if (!tristate_ok(st->beacon_heard) || st->beacon_range_m < -1)
        return VG_EINVAL;
    if (unit != VG_UNIT_PROTECTED && (st->beacon_heard != -1 || st->beacon_range_m != -1))
        return VG_EINVAL;
    /* a range says where the beacon was heard: meaningless without it */
    if (st->beacon_range_m >= 0 && st->beacon_heard != 1)
        return VG_EINVAL;
    return VG_OK;
}

int vg_unit_event_check(unsigned unit, const struct vg_unit_event *ev)
{
    if (unit >= VG_UNIT_COUNT)
        return VG_EINVAL;
    int rc = check_time(ev->time_ms);
    if (rc != VG_OK)
        return rc;
    switch (ev->kind) {
    case VG_EVENT_HEARTBEAT:
    case VG_EVENT_POWER_OFF:
    case VG_EVENT_POWER_ON:
    case VG_EVENT_RECORD_LOST:
        /* the bracelet speaks only through the author's unit */
        return unit == VG_UNIT_BRACELET ? VG_EINVAL : VG_OK;
    case VG_EVENT_SOS:
    case VG_EVENT_CALLBACK_REQUEST: return unit == VG_UNIT_PROTECTED ? VG_OK : VG_EINVAL;
    default: return VG_EINVAL;
    }
}
