/* Calendar arithmetic in the proleptic Gregorian calendar, on day numbers
 * (days since 1970-01-01) and civil (wall-clock) seconds. No time zones
 * here: see tz.h for the link between civil time and UTC. */
#ifndef VG_CORE_CIVIL_H
#define VG_CORE_CIVIL_H

#include <stdbool.h>
#include <stdint.h>

/* Years outside this range are refused: they are typing errors in a
 * judicial decision, and the bound keeps every computation in int64. */
#define VG_CIVIL_MIN_YEAR 1900
#define VG_CIVIL_MAX_YEAR 2200

struct vg_date {
    int32_t year;
    uint8_t month; /* 1..12 */
    uint8_t day;   /* 1..31 */
};

/* A wall-clock reading: date and time of day, in some time zone. */
struct vg_local_time {
    struct vg_date date;
    uint8_t hour;   /* 0..23 */
    uint8_t minute; /* 0..59 */
    uint8_t second; /* 0..59 */
};

/* 0 if the date exists (e.g. 2024-02-29 yes, 2023-02-29 no) and its year is
 * within [VG_CIVIL_MIN_YEAR, VG_CIVIL_MAX_YEAR]; VG_ERANGE otherwise. */
int vg_date_check(struct vg_date d);
int vg_local_time_check(const struct vg_local_time *t);

bool vg_is_leap_year(int32_t year);
unsigned vg_days_in_month(int32_t year, unsigned month);

/* Day number of a (checked) date: days since 1970-01-01 (negative before). */
int64_t vg_date_to_days(struct vg_date d);
/* The date of a day number (any int64 day within the supported years). */
struct vg_date vg_date_from_days(int64_t days);

/* ISO weekday of a day number: 0 = Monday ... 6 = Sunday. */
unsigned vg_weekday(int64_t days);

/* Compare two dates: <0, 0, >0. */
int vg_date_cmp(struct vg_date a, struct vg_date b);

/* The same day `months` months later (or earlier if negative); when that
 * day does not exist the last day of the month is taken
 * (2026-08-31 + 6 months = 2027-02-28). */
struct vg_date vg_date_add_months(struct vg_date d, int32_t months);

/* The day on which someone born on `birth` reaches `years` full years:
 * the anniversary, or 1 March for a 29 February birth in a common year
 * (the later of the two readings, so that a rule "must be adult" never
 * accepts a minor). */
struct vg_date vg_date_anniversary(struct vg_date birth, int32_t years);

/* Civil seconds since 1970-01-01T00:00:00 of a (checked) wall-clock time,
 * and back. Civil seconds are not UTC: add the zone's offset (tz.h). */
int64_t vg_local_time_to_seconds(const struct vg_local_time *t);
void vg_local_time_from_seconds(int64_t civil_seconds, struct vg_local_time *out);

/* Floor division and modulo for negative values (the calendar needs them). */
int64_t vg_floor_div(int64_t a, int64_t b);
int64_t vg_floor_mod(int64_t a, int64_t b);

#endif
