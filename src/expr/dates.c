/*
 * Calendar arithmetic (proleptic Gregorian, H. Hinnant's days/civil
 * algorithms) and the date/timestamp text parsers used by literals, binding
 * and casts. Locale-independent.
 */
#include "expr/expr_internal.h"

int64_t gfi_days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

void gfi_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = (int64_t)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

/* Reads exactly `n` digits at s[*i]; false when they are not digits. */
static bool digits(const char *s, int64_t len, int64_t *i, int n, int64_t *v) {
  int64_t x = 0;
  for (int k = 0; k < n; k++) {
    if (*i >= len || s[*i] < '0' || s[*i] > '9') return false;
    x = x * 10 + (s[*i] - '0');
    (*i)++;
  }
  *v = x;
  return true;
}

static bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Parses YYYY-MM-DD at the start of s, validating the day of the month. */
static bool parse_ymd(const char *s, int64_t len, int64_t *i, int64_t *days) {
  int64_t y, m, d;
  bool neg = false;
  if (*i < len && s[*i] == '-') {
    neg = true;
    (*i)++;
  }
  if (!digits(s, len, i, 4, &y) || *i >= len || s[(*i)++] != '-' ||
      !digits(s, len, i, 2, &m) || *i >= len || s[(*i)++] != '-' ||
      !digits(s, len, i, 2, &d))
    return false;
  if (neg) y = -y;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  int dm = mdays[m - 1] + (m == 2 && leap(y));
  if (d > dm) return false;
  *days = gfi_days_from_civil(y, (unsigned)m, (unsigned)d);
  return true;
}

bool gfi_parse_date(const char *s, int64_t len, int64_t *days) {
  int64_t i = 0;
  return parse_ymd(s, len, &i, days) && i == len;
}

bool gfi_parse_timestamp_us(const char *s, int64_t len, int64_t *us) {
  int64_t i = 0, days, h = 0, mi = 0, sec = 0, frac = 0;
  if (!parse_ymd(s, len, &i, &days)) return false;
  if (i < len) {
    if (s[i] != ' ' && s[i] != 'T') return false;
    i++;
    if (!digits(s, len, &i, 2, &h) || i >= len || s[i++] != ':' ||
        !digits(s, len, &i, 2, &mi))
      return false;
    if (i < len && s[i] == ':') {
      i++;
      if (!digits(s, len, &i, 2, &sec)) return false;
      if (i < len && s[i] == '.') {
        i++;
        int n = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
          if (n < 6) frac = frac * 10 + (s[i] - '0');
          n++;
          i++;
        }
        if (n == 0) return false;
        for (; n < 6; n++) frac *= 10;
      }
    }
    if (i < len && s[i] == 'Z') i++;
    if (h > 23 || mi > 59 || sec > 60) return false;
  }
  if (i != len) return false;
  *us = ((days * 24 + h) * 60 + mi) * 60000000LL + sec * 1000000LL + frac;
  return true;
}
