/*
 * Proleptic Gregorian calendar arithmetic. days<->civil follow Howard
 * Hinnant's "chrono-compatible low-level date algorithms": the year is
 * shifted to start in March so the leap day falls at the end, and dates are
 * counted in 400-year eras of 146097 days, which makes the conversion exact
 * with a handful of integer divisions and no tables.
 */
#include "core/calendar.h"

/* Days from 0000-03-01 (the start of era 0) to 1970-01-01. */
#define EPOCH_SHIFT INT64_C(719468)
#define DAYS_PER_ERA INT64_C(146097)

/* See calendar.h. */
int gfi_days_in_month(int64_t y, unsigned m) {
  static const int mdays[12] = {31, 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  return mdays[m - 1] + (m == 2 && gfi_is_leap_year(y));
}

/* See calendar.h. */
int64_t gfi_days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2; /* January and February belong to the previous March year */
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);                       /* 0..399 */
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* 0..146096 */
  return era * DAYS_PER_ERA + (int64_t)doe - EPOCH_SHIFT;
}

/* See calendar.h. */
void gfi_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += EPOCH_SHIFT;
  int64_t era = (z >= 0 ? z : z - (DAYS_PER_ERA - 1)) / DAYS_PER_ERA;
  unsigned doe = (unsigned)(z - era * DAYS_PER_ERA);                   /* 0..146096 */
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              /* 0..365 */
  unsigned mp = (5 * doy + 2) / 153;                                   /* 0 = March */
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* See calendar.h. */
int64_t gfi_unit_per_second(gf_time_unit unit) {
  switch (unit) {
    case GF_UNIT_SECOND: return 1;
    case GF_UNIT_MILLI: return 1000;
    case GF_UNIT_MICRO: return 1000000;
    default: return 1000000000;
  }
}

/* See calendar.h. Two floor divisions rather than one by ticks-per-day, so
 * nothing overflows for nanoseconds near the int64 limits. */
void gfi_time_split(int64_t v, gf_time_unit unit, int64_t *days,
                    int64_t *second_of_day, int64_t *fraction) {
  int64_t secs;
  gfi_floor_divmod(v, gfi_unit_per_second(unit), &secs, fraction);
  gfi_floor_divmod(secs, GFI_SECONDS_PER_DAY, days, second_of_day);
}
