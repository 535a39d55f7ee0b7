/* Locale-independent number formatting and parsing. printf/strtod follow
 * LC_NUMERIC, which an embedding program may change (a comma decimal point
 * would corrupt CSV and tables), so both run under a private "C" locale
 * installed per thread with uselocale() for the duration of the call. */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core_internal.h"

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* Switches the calling thread to the C locale; returns the previous one
 * (or 0 when the C locale could not be created: then the global one stays). */
static locale_t enter_c(void) {
  pthread_once(&c_locale_once, make_c_locale);
  return c_locale ? uselocale(c_locale) : (locale_t)0;
}

static void leave_c(locale_t prev) {
  if (prev) uselocale(prev);
}

/* Writes "NaN", "inf" or "-inf" for non-finite values; 0 when finite. */
static int format_special(char *buf, size_t size, double v) {
  if (isnan(v)) return snprintf(buf, size, "NaN");
  if (isinf(v)) return snprintf(buf, size, v < 0 ? "-inf" : "inf");
  return 0;
}

/* Appends ".0" to integral-looking output so a float reads as a float. */
static int mark_float(char *buf, size_t size, int n) {
  if (n < 0 || (size_t)n + 2 >= size) return n;
  if (strpbrk(buf, ".eE") == NULL) {
    buf[n] = '.';
    buf[n + 1] = '0';
    buf[n + 2] = '\0';
    n += 2;
  }
  return n;
}

/* Shortest digit count (1..max_digits) whose %e form parses back to v;
 * more digits of a correctly rounded result still round-trip, so a binary
 * search is valid. Leaves that form in tmp. */
static int shortest_digits(char *tmp, size_t size, double v, int max_digits, bool as_float) {
  int lo = 1, hi = max_digits;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    snprintf(tmp, size, "%.*e", mid - 1, v);
    bool ok = as_float ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v;
    if (ok)
      hi = mid;
    else
      lo = mid + 1;
  }
  snprintf(tmp, size, "%.*e", lo - 1, v);
  return lo;
}

/* Formats finite v with its shortest round-trip digits: plain decimal for
 * exponents in [-5, 17), scientific otherwise ("1e+21", "2.5e-07"). */
static int format_shortest(char *buf, size_t size, double v, int max_digits, bool as_float) {
  int n = format_special(buf, size, v);
  if (n) return n;
  char tmp[352]; /* %f of a double never needs more; sized for the compiler's bound */
  locale_t prev = enter_c();
  int digits = shortest_digits(tmp, sizeof tmp, v, max_digits, as_float);
  const char *e = strchr(tmp, 'e');
  int exp10 = e ? atoi(e + 1) : 0;
  if (exp10 >= -5 && exp10 < 17) {
    int decimals = digits - 1 - exp10;
    snprintf(tmp, sizeof tmp, "%.*f", decimals > 0 ? decimals : 0, v);
  } else {
    snprintf(tmp, sizeof tmp, "%.*g", digits, v);
  }
  leave_c(prev);
  n = snprintf(buf, size, "%s", tmp);
  return mark_float(buf, size, n);
}

int gfi_format_double(char *buf, size_t size, double v) {
  return format_shortest(buf, size, v, 17, false);
}

int gfi_format_float(char *buf, size_t size, float v) {
  return format_shortest(buf, size, v, 9, true);
}

/* strtod that always uses '.' as the decimal point. */
double gfi_strtod(const char *s, char **end) {
  locale_t prev = enter_c();
  double v = strtod(s, end);
  leave_c(prev);
  return v;
}

/* Monotonic nanoseconds. */
int64_t gfi_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
