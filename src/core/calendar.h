/*
 * Calendar arithmetic on the proleptic Gregorian calendar, the one copy the
 * value printer, the CSV reader and the expression kernels share. Day 0 is
 * 1970-01-01; negative days and timestamps (before 1970) are exact. Not
 * installed.
 */
#ifndef GF_CORE_CALENDAR_H
#define GF_CORE_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#include "gopherframe.h"

#define GFI_SECONDS_PER_DAY INT64_C(86400)

/* True when y (astronomical numbering: year 0 = 1 BC) is a leap year. */
static inline bool gfi_is_leap_year(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month m (1-12) of year y; 0 when m is out of range. */
int gfi_days_in_month(int64_t y, unsigned m);

/* Days since 1970-01-01 of the date y-m-d (m 1-12, d 1-31, not checked
 * against the month: callers validate with gfi_days_in_month). Exact for
 * |y| < 2^50 (every year a temporal type can reach). */
int64_t gfi_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The date of day z since 1970-01-01 (the inverse of gfi_days_from_civil);
 * exact for |z| < 2^62 (every day count a temporal type can produce). */
void gfi_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Floor division: *q = floor(v / d) and 0 <= *r < d, for d > 0 and any v
 * (INT64_MIN included). */
static inline void gfi_floor_divmod(int64_t v, int64_t d, int64_t *q,
                                    int64_t *r) {
  int64_t qq = v / d, rr = v % d;
  if (rr < 0) {
    rr += d;
    qq -= 1;
  }
  *q = qq;
  *r = rr;
}

/* Ticks of `unit` in one second (1, 1e3, 1e6, 1e9). */
int64_t gfi_unit_per_second(gf_time_unit unit);

/* Splits a count of `unit` since the epoch into the day (*days, floor, so
 * negative before 1970), the second of that day (0..86399) and the
 * sub-second remainder in `unit` ticks (0..per_second-1). Any int64 v. */
void gfi_time_split(int64_t v, gf_time_unit unit, int64_t *days,
                    int64_t *second_of_day, int64_t *fraction);

#endif /* GF_CORE_CALENDAR_H */
