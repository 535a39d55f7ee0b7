/*
 * The date/timestamp text parsers used by literals, binding and casts.
 * Locale-independent; the calendar arithmetic is src/core/calendar.c.
 */
#include "expr/expr_internal.h"

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
  if (d < 1 || d > gfi_days_in_month(y, (unsigned)m)) return false;
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
