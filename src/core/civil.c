/* Calendar arithmetic; the day-number conversions are Howard Hinnant's
 * algorithms (http://howardhinnant.github.io/date_algorithms.html), exact
 * for the proleptic Gregorian calendar. */
#include "core/civil.h"

#include "core/err.h"

int64_t vg_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int64_t vg_floor_mod(int64_t a, int64_t b)
{
    /* Not a - floor_div(a, b) * b: the product overflows for a near
     * INT64_MIN (e.g. INT64_MIN mod 86400). */
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0)))
        r += b;
    return r;
}

bool vg_is_leap_year(int32_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned vg_days_in_month(int32_t year, unsigned month)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    if (month == 2 && vg_is_leap_year(year))
        return 29;
    return days[month - 1];
}

int vg_date_check(struct vg_date d)
{
    if (d.year < VG_CIVIL_MIN_YEAR || d.year > VG_CIVIL_MAX_YEAR)
        return VG_ERANGE;
    if (d.month < 1 || d.month > 12)
        return VG_ERANGE;
    if (d.day < 1 || d.day > vg_days_in_month(d.year, d.month))
        return VG_ERANGE;
    return VG_OK;
}

int vg_local_time_check(const struct vg_local_time *t)
{
    int rc = vg_date_check(t->date);
    if (rc != VG_OK)
        return rc;
    if (t->hour > 23 || t->minute > 59 || t->second > 59)
        return VG_ERANGE;
    return VG_OK;
}

int64_t vg_date_to_days(struct vg_date d)
{
    int64_t y = d.year;
    int64_t m = d.month;
    y -= m <= 2;
    int64_t era = vg_floor_div(y, 400);
    int64_t yoe = y - era * 400;                                      /* [0, 399] */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d.day - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;              /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

struct vg_date vg_date_from_days(int64_t days)
{
    int64_t z = days + 719468;
    int64_t era = vg_floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    struct vg_date out = {(int32_t)(y + (m <= 2)), (uint8_t)m, (uint8_t)d};
    return out;
}

unsigned vg_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (ISO weekday index 3). */
    return (unsigned)vg_floor_mod(days + 3, 7);
}

int vg_date_cmp(struct vg_date a, struct vg_date b)
{
    if (a.year != b.year)
        return a.year < b.year ? -1 : 1;
    if (a.month != b.month)
        return a.month < b.month ? -1 : 1;
    if (a.day != b.day)
        return a.day < b.day ? -1 : 1;
    return 0;
}

struct vg_date vg_date_add_months(struct vg_date d, int32_t months)
{
    int64_t index = (int64_t)d.year * 12 + (d.month - 1) + months;
    struct vg_date out;
    out.year = (int32_t)vg_floor_div(index, 12);
    out.month = (uint8_t)(vg_floor_mod(index, 12) + 1);
    unsigned last = vg_days_in_month(out.year, out.month);
    out.day = (uint8_t)(d.day <= last ? d.day : last);
    return out;
}

struct vg_date vg_date_anniversary(struct vg_date birth, int32_t years)
{
    struct vg_date out = {birth.year + years, birth.month, birth.day};
    if (out.month == 2 && out.day == 29 && !vg_is_leap_year(out.year)) {
        out.month = 3;
        out.day = 1;
    }
    return out;
}

int64_t vg_local_time_to_seconds(const struct vg_local_time *t)
{
    return vg_date_to_days(t->date) * 86400 + t->hour * 3600 + t->minute * 60 + t->second;
}

void vg_local_time_from_seconds(int64_t civil_seconds, struct vg_local_time *out)
{
    int64_t days = vg_floor_div(civil_seconds, 86400);
    int64_t rem = civil_seconds - days * 86400;
    out->date = vg_date_from_days(days);
    out->hour = (uint8_t)(rem / 3600);
    out->minute = (uint8_t)(rem / 60 % 60);
    out->second = (uint8_t)(rem % 60);
}
