/* The CSV reader's fast number parsers (src/io/csv_number.c) against the
 * scalar parsers of csv_infer.c and independent references written here:
 * integers by a digit loop over __int128, floats by strtod in the C locale
 * (the test never calls setlocale), with syntax checked by a naive matcher.
 * 10^6 random doubles printed with %.17g and in their shortest form, random
 * decimal literals of 1 to 25 digits, and the edge cases (subnormals, 1e308,
 * 1e-324, 2^53 + 1, 19-20 digit mantissas, "1e", ".5", "5.", inf/nan).
 * gfi_csv_parse_f64 (a float64 column's field: integer text by the
 * integer rules) is checked on every literal against a naive rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gopherframe.h"
#include "io/csv_number.h"

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}
static int rndn(int n) { return (int)(rnd() % (uint64_t)n); }

/* ---- integers --------------------------------------------------------- */

/* Naive: [+-]?[0-9]+, value in __int128 saturated past 2^65. */
static int naive_int(const char *p, int64_t n, bool allow_minus, __int128 *v) {
  int64_t i = 0;
  bool neg = false;
  if (n > 0 && (p[0] == '+' || (allow_minus && p[0] == '-'))) {
    neg = p[0] == '-';
    i = 1;
  }
  if (i == n) return GFI_INT_SYNTAX;
  __int128 x = 0;
  const __int128 cap = (__int128)1 << 66;
  for (; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return GFI_INT_SYNTAX;
    if (x < cap) x = x * 10 + (p[i] - '0');
  }
  *v = neg ? -x : x;
  return GFI_INT_OK;
}

static void check_int(const char *p, int64_t n) {
  __int128 v = 0;
  int ns = naive_int(p, n, true, &v);
  if (ns == GFI_INT_OK && (v > INT64_MAX || v < INT64_MIN)) ns = GFI_INT_OVERFLOW;
  int64_t a = 0, b = 0;
  int fs = gfi_csv_parse_int64(p, n, &a);
  int ss = gfi_csv_scalar_parse_int64(p, n, &b);
  if (fs != ns || ss != ns || (ns == GFI_INT_OK && (a != (int64_t)v || b != a)))
    fail_msg("int64 \"%.*s\": fast %d/%lld scalar %d/%lld naive %d", (int)n, p, fs, (long long)a,
             ss, (long long)b, ns);
  ns = naive_int(p, n, false, &v);
  if (ns == GFI_INT_OK && v > (__int128)UINT64_MAX) ns = GFI_INT_OVERFLOW;
  uint64_t ua = 0, ub = 0;
  fs = gfi_csv_parse_uint64(p, n, &ua);
  ss = gfi_csv_scalar_parse_uint64(p, n, &ub);
  if (fs != ns || ss != ns || (ns == GFI_INT_OK && (ua != (uint64_t)v || ub != ua)))
    fail_msg("uint64 \"%.*s\": fast %d scalar %d naive %d", (int)n, p, fs, ss, ns);
}

static void integers_match_scalar_and_naive(void **state) {
  (void)state;
  const char *edge[] = {"", "+", "-", "0", "-0", "+0", "00000000000000000000000000001",
                        "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                        "-9223372036854775809", "18446744073709551615", "18446744073709551616",
                        "99999999999999999999", "100000000000000000000", "12345678",
                        "123456789", "1234567812345678", " 1", "1 ", "1_000", "1.0", "1e3",
                        "0x10", "--1", "+-1", "12345678a", "a2345678", "1234567:",
                        "123456789012345678901234567890x", "0000000000000000000018446744073709551615"};
  for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) check_int(edge[i], (int64_t)strlen(edge[i]));
  char buf[40];
  for (int it = 0; it < 1000000; it++) {
    int n = 0;
    int sign = rndn(4);
    if (sign == 1) buf[n++] = '-';
    if (sign == 2) buf[n++] = '+';
    int zeros = rndn(4) == 0 ? rndn(6) : 0;
    for (int k = 0; k < zeros; k++) buf[n++] = '0';
    int len = rndn(22);
    for (int k = 0; k < len; k++) buf[n++] = (char)('0' + rndn(10));
    if (rndn(20) == 0 && n > 0) buf[rndn(n)] = " .:/e"[rndn(5)]; /* near-digit bytes */
    check_int(buf, n);
  }
}

/* ---- floats ----------------------------------------------------------- */

/* Naive syntax of the reader: [+-]? (d+ [. d*] | . d+) ([eE] [+-]? d+)?, or
 * inf, infinity, nan in any case after the sign. */
static bool naive_float_syntax(const char *p, size_t n, bool *special) {
  size_t i = 0;
  *special = false;
  if (i < n && (p[i] == '+' || p[i] == '-')) i++;
  const char *lits[] = {"inf", "infinity", "nan"};
  for (int k = 0; k < 3; k++) {
    size_t l = strlen(lits[k]);
    if (n - i == l) {
      bool eq = true;
      for (size_t j = 0; j < l; j++)
        if ((p[i + j] | 0x20) != lits[k][j]) eq = false;
      if (eq) {
        *special = true;
        return true;
      }
    }
  }
  size_t d = 0;
  while (i < n && p[i] >= '0' && p[i] <= '9') i++, d++;
  if (i < n && p[i] == '.') {
    i++;
    while (i < n && p[i] >= '0' && p[i] <= '9') i++, d++;
  }
  if (d == 0) return false;
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    i++;
    if (i < n && (p[i] == '+' || p[i] == '-')) i++;
    size_t e = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9') i++, e++;
    if (e == 0) return false;
  }
  return i == n;
}

static int64_t checked;

/* The float64-column rule, naively: text [+-]?[0-9]+ is an integer (exact
 * in __int128, saturated far past int64): outside int64 or beyond +-2^53 a
 * misfit unless the type was forced (then strtod, or the int64 converted),
 * else the integer converted ("-0" is +0.0); other text the float syntax
 * and strtod (an overflow to inf refused). */
static bool naive_f64(const char *s, size_t n, bool forced, double *out) {
  size_t i = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  bool plain = i < n;
  __int128 v = 0;
  for (size_t k = i; k < n; k++) {
    if (s[k] < '0' || s[k] > '9') {
      plain = false;
      break;
    }
    if (v < ((__int128)1 << 80)) v = v * 10 + (s[k] - '0');
  }
  if (plain) {
    if (s[0] == '-') v = -v;
    bool in64 = v >= INT64_MIN && v <= INT64_MAX;
    if (!in64) {
      if (!forced) return false;
      *out = strtod(s, NULL);
      return !isinf(*out);
    }
    if ((v > ((__int128)1 << 53) || v < -((__int128)1 << 53)) && !forced) return false;
    *out = (double)(int64_t)v;
    return true;
  }
  bool special;
  if (!naive_float_syntax(s, n, &special)) return false;
  *out = strtod(s, NULL);
  return special || !isinf(*out);
}

/* gfi_csv_parse_f64 (forced and not) against naive_f64, bit for bit. */
static void check_f64(const char *s, size_t n) {
  for (int forced = 0; forced < 2; forced++) {
    double a = 0, r = 0;
    bool fa = gfi_csv_parse_f64(s, (int64_t)n, forced, &a) == GFI_F64_OK;
    bool fr = naive_f64(s, n, forced, &r);
    if (fa != fr) fail_msg("f64 \"%s\" forced %d: %d, reference %d", s, forced, fa, fr);
    if (fa && !(isnan(a) && isnan(r)) && memcmp(&a, &r, 8) != 0)
      fail_msg("f64 \"%s\" forced %d: %.17g, reference %.17g", s, forced, a, r);
  }
}

/* Fast == scalar == strtod (C locale), bit for bit; a finite literal that
 * overflows is refused by both parsers. */
static void check_double(const char *s) {
  size_t n = strlen(s);
  double a = 0, b = 0;
  bool fa = gfi_csv_parse_double(s, (int64_t)n, &a);
  bool fb = gfi_csv_scalar_parse_double(s, (int64_t)n, &b);
  bool special;
  bool ok = naive_float_syntax(s, n, &special);
  double r = 0;
  if (ok) {
    char *end = NULL;
    r = strtod(s, &end);
    if (end != s + n) fail_msg("strtod did not take all of \"%s\"", s);
    if (!special && isinf(r)) ok = false;
  }
  if (fa != ok || fb != ok) fail_msg("\"%s\": fast %d scalar %d reference %d", s, fa, fb, ok);
  check_f64(s, n);
  checked++;
  if (!ok) return;
  if (isnan(r)) {
    if (!isnan(a) || signbit(a) != signbit(r)) fail_msg("\"%s\": nan differs", s);
    return;
  }
  if (memcmp(&a, &r, 8) != 0 || memcmp(&b, &r, 8) != 0)
    fail_msg("\"%s\": fast %.17g scalar %.17g strtod %.17g", s, a, b, r);
}

static void edge_cases(void **state) {
  (void)state;
  const char *edge[] = {
      "0", "-0", "0.0", "+0e10", "1", "1e", "1e+", "1e-", "e5", ".", ".5", "5.", "-.5", "+5.",
      ".e1", "5.e1", ".5e-1", "inf", "-Inf", "INFINITY", "infinit", "nan", "NaN", "-nan", "nanx",
      "1e308", "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
      "1e309", "-1e309", "2.2250738585072014e-308", "2.2250738585072011e-308",
      "4.9406564584124654e-324", "5e-324", "2.4703282292062327e-324",
      "2.4703282292062328e-324", "1e-324", "1e-400", "0.000000000000000000000000000001e-300",
      "9007199254740993", "9007199254740992", "9007199254740994", "9007199254740995",
      "18446744073709551615", "18446744073709551616", "1234567890123456789",
      "12345678901234567890", "123456789012345678901", "0.1234567890123456789",
      "1.2345678901234567890123", "3.14159265358979323846264338327950288", "1e22", "1e23",
      "8.98846567431158e307", "7.2057594037927933e16", "1.00000000000000011102230246251565404",
      "1.00000000000000011102230246251565405", "0.30000000000000004", "123456.78901234567",
      "00000000000000000000000000001.5", "1.50000000000000000000000000000",
      "1e100000000000", "1e-100000000000", "1 ", " 1", "1,5", "1.5.", "1e5.5", "0x1p3", "--1",
      "4.286437", "-2174.000001", "1_0", "+", "-", "-9007199254740993", "-9007199254740992",
      "9223372036854775807", "9223372036854775808", "-9223372036854775808",
      "-9223372036854775809", "+00000000000000000000000009007199254740993", "007", "-0.0",
      "0e0", "-0e0", "1E5", "99999999999999999999999999999999999999"};
  for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) check_double(edge[i]);
}

static void random_doubles_round_trip(void **state) {
  (void)state;
  char buf[64];
  int64_t shortest_digits = 0;
  for (int it = 0; it < 1000000; it++) {
    double d;
    if (it & 1) {
      uint64_t bits = rnd();
      memcpy(&d, &bits, 8);
      if (!isfinite(d)) continue;
    } else {
      d = (double)(int64_t)(rnd() >> rndn(64)) / pow(10, rndn(25)); /* data-like */
    }
    snprintf(buf, sizeof buf, "%.17g", d);
    check_double(buf);
    for (int k = 1; k <= 17; k++) { /* shortest form that reads back */
      snprintf(buf, sizeof buf, "%.*g", k, d);
      if (strtod(buf, NULL) == d) {
        shortest_digits += k;
        break;
      }
    }
    check_double(buf);
  }
  print_message("doubles: %lld literals checked (mean shortest digits %.2f)\n",
                (long long)checked, (double)shortest_digits / 1000000);
}

static void random_decimal_literals(void **state) {
  (void)state;
  char buf[96];
  for (int it = 0; it < 300000; it++) {
    int n = 0;
    if (rndn(4) == 0) buf[n++] = rndn(2) ? '-' : '+';
    int a = rndn(rndn(3) ? 8 : 25), b = rndn(3) ? rndn(rndn(3) ? 8 : 25) : -1;
    for (int k = 0; k < a; k++) buf[n++] = (char)('0' + (k == 0 && rndn(3) ? 1 + rndn(9) : rndn(10)));
    if (b >= 0) {
      buf[n++] = '.';
      for (int k = 0; k < b; k++) buf[n++] = (char)('0' + rndn(10));
    }
    if (rndn(3) == 0) {
      buf[n++] = rndn(2) ? 'e' : 'E';
      if (rndn(2)) buf[n++] = rndn(2) ? '-' : '+';
      n += snprintf(buf + n, sizeof buf - (size_t)n, "%d", rndn(rndn(2) ? 30 : 400));
    }
    buf[n] = 0;
    check_double(buf);
  }
}

/* The Eisel-Lemire step alone: whenever it decides, it agrees with strtod
 * on w * 10^q; it must decide almost always. */
static void eisel_lemire_decides_correctly(void **state) {
  (void)state;
  char buf[64];
  int64_t decided = 0, total = 0;
  for (int it = 0; it < 500000; it++) {
    uint64_t w = rnd() >> rndn(64);
    if (w == 0) continue;
    int q = -342 + rndn(651);
    double v;
    total++;
    if (!gfi_csv_eisel_lemire(w, q, &v)) continue;
    decided++;
    snprintf(buf, sizeof buf, "%llue%d", (unsigned long long)w, q);
    double r = strtod(buf, NULL);
    if (memcmp(&v, &r, 8) != 0) fail_msg("%s: %.17g, strtod %.17g", buf, v, r);
  }
  print_message("eisel-lemire: decided %lld of %lld (the rest: subnormal, overflow or ambiguous)\n",
                (long long)decided, (long long)total);
  assert_true(decided > total / 2);
  /* In the normal range it must decide nearly everything. */
  decided = total = 0;
  for (int it = 0; it < 200000; it++) {
    uint64_t w = rnd() | 1;
    int q = -280 + rndn(560);
    double v;
    total++;
    decided += gfi_csv_eisel_lemire(w, q, &v);
  }
  assert_true(decided > total - total / 1000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(integers_match_scalar_and_naive),
      cmocka_unit_test(edge_cases),
      cmocka_unit_test(random_doubles_round_trip),
      cmocka_unit_test(random_decimal_literals),
      cmocka_unit_test(eisel_lemire_decides_correctly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
