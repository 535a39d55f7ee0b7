/* Fast integer and float parsing for the CSV reader (see csv_number.h). */
#include <math.h>
#include <string.h>

#include "io/csv_number.h"

/* ------------------------------------------------------------------ */
/* Eight digits at a time                                              */
/* ------------------------------------------------------------------ */

static inline uint64_t load8(const char *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return w;
}

/* True when all 8 bytes of w are ASCII digits: the high nibble is 3 both
 * before and after adding 6 (0x3A..0x3F overflow into 0x4_). A byte that
 * carries into its neighbour already failed the first test. */
static inline bool is8digits(uint64_t w) {
  return (w & 0xF0F0F0F0F0F0F0F0ull) == 0x3030303030303030ull &&
         ((w + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) == 0x3030303030303030ull;
}

/* Value of 8 ASCII digits (first digit in the lowest byte: little-endian
 * load). Pairs, then quads, then the whole: every lane stays below 2^32. */
static inline uint64_t conv8(uint64_t w) {
  w -= 0x3030303030303030ull;
  w = w * 10 + (w >> 8); /* even bytes: 10 * d[k] + d[k+1] */
  uint64_t a = w & 0x000000FF000000FFull;         /* d0d1, d4d5 */
  uint64_t b = (w >> 16) & 0x000000FF000000FFull; /* d2d3, d6d7 */
  return (a * (100 + (1000000ull << 32)) + b * (1 + (10000ull << 32))) >> 32;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define GFI_SWAR_DIGITS 1
#else
#define GFI_SWAR_DIGITS 0 /* conv8 assumes the first digit in the low byte */
#endif

/* At most 19 digits (no overflow possible) into *v; false on a non-digit. */
static inline bool digits19(const char *p, int64_t n, uint64_t *v) {
  uint64_t x = 0;
  int64_t i = 0;
#if GFI_SWAR_DIGITS
  for (; i + 8 <= n; i += 8) {
    uint64_t w = load8(p + i);
    if (!is8digits(w)) return false;
    x = x * 100000000u + conv8(w);
  }
#endif
  for (; i < n; i++) {
    unsigned d = (unsigned)(uint8_t)p[i] - '0';
    if (d > 9) return false;
    x = x * 10 + d;
  }
  *v = x;
  return true;
}

/* Unsigned magnitude of a non-empty digit string: GFI_INT_SYNTAX on any
 * non-digit (checked over the whole string even when it overflows, as the
 * scalar parser does), GFI_INT_OVERFLOW beyond 2^64 - 1. */
static int magnitude(const char *p, int64_t n, uint64_t *out) {
  int64_t i = 0;
  while (i < n && p[i] == '0') i++; /* leading zeros are not significant */
  int64_t sig = n - i;
  if (sig <= 19) return digits19(p + i, sig, out) ? GFI_INT_OK : GFI_INT_SYNTAX;
  uint64_t v;
  if (!digits19(p + i, 19, &v)) return GFI_INT_SYNTAX;
  for (int64_t k = i + 19; k < n; k++)
    if ((unsigned)(uint8_t)p[k] - '0' > 9) return GFI_INT_SYNTAX;
  if (sig > 20) return GFI_INT_OVERFLOW;
  unsigned d = (unsigned)(uint8_t)p[n - 1] - '0';
  if (v > (UINT64_MAX - d) / 10) return GFI_INT_OVERFLOW;
  *out = v * 10 + d;
  return GFI_INT_OK;
}

/* [+-]?digits into int64 (csv_internal.h). */
int gfi_csv_parse_int64(const char *p, int64_t n, int64_t *out) {
  if (n <= 0) return GFI_INT_SYNTAX;
  bool neg = p[0] == '-';
  int64_t i = (p[0] == '+' || neg) ? 1 : 0;
  if (i == n) return GFI_INT_SYNTAX;
  uint64_t mag;
  int r = magnitude(p + i, n - i, &mag);
  if (r != GFI_INT_OK) return r;
  if (neg) {
    if (mag > (uint64_t)INT64_MAX + 1) return GFI_INT_OVERFLOW;
    *out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
  } else {
    if (mag > (uint64_t)INT64_MAX) return GFI_INT_OVERFLOW;
    *out = (int64_t)mag;
  }
  return GFI_INT_OK;
}

/* [+]?digits into uint64 (csv_internal.h). */
int gfi_csv_parse_uint64(const char *p, int64_t n, uint64_t *out) {
  if (n <= 0) return GFI_INT_SYNTAX;
  int64_t i = p[0] == '+' ? 1 : 0;
  if (i == n) return GFI_INT_SYNTAX;
  return magnitude(p + i, n - i, out);
}

/* ------------------------------------------------------------------ */
/* Floats                                                              */
/* ------------------------------------------------------------------ */

/* The 128-bit product of w (normalised) and the table entry for 5^q is
 * within 2 units of its low word of the exact w * 5^q * 2^-e; the 54 top
 * bits (53 + the rounding bit) are decided unless the bits below them are
 * within that error of a boundary (all zeros: an exact or tie case, all
 * ones: a carry), which is left to the slow path. Subnormal and overflowing
 * results are left to it too. */
bool gfi_csv_eisel_lemire(uint64_t w, int64_t q, double *out) {
  if (w == 0 || q < GFI_CSV_POW5_QMIN || q > GFI_CSV_POW5_QMAX) return false;
  const gfi_csv_pow5 *t = &gfi_csv_pow5_table[q - GFI_CSV_POW5_QMIN];
  int lz = __builtin_clzll(w);
  w <<= lz;
  unsigned __int128 a = (unsigned __int128)w * t->hi;
  unsigned __int128 b = (unsigned __int128)w * t->lo;
  a += (uint64_t)(b >> 64); /* floor of the 192-bit product / 2^64: no overflow */
  uint64_t hi = (uint64_t)(a >> 64), lo = (uint64_t)a;
  int up = (int)(hi >> 63); /* the product's top bit is 127 or 126 */
  int sh = up + 9;
  uint64_t rmask = ((uint64_t)1 << sh) - 1;
  uint64_t rh = hi & rmask;
  if (rh == 0 && lo <= 3) return false;
  if (rh == rmask && lo >= UINT64_MAX - 3) return false;
  uint64_t m54 = hi >> sh;
  uint64_t m = (m54 + 1) >> 1; /* round bit set and rest > 0: above half, round up */
  int64_t exp = (int64_t)up + 1213 + t->e + q - lz; /* biased exponent */
  if (m == (uint64_t)1 << 53) {
    m >>= 1;
    exp++;
  }
  if (exp <= 1 || exp >= 2046) return false;
  uint64_t bits = ((uint64_t)exp << 52) | (m & (((uint64_t)1 << 52) - 1));
  memcpy(out, &bits, 8);
  return true;
}

static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline bool is_digit(char c) { return (unsigned)(uint8_t)c - '0' <= 9; }

/* Decimal float, correctly rounded (csv_internal.h): the scalar parser's
 * syntax and results, with digits read 8 at a time and Eisel-Lemire before
 * the slow path. */
static inline bool parse_double_impl(const char *p, int64_t n, double *out, bool *plain_int) {
  if (n <= 0) return false;
  int64_t i = 0;
  bool neg = false;
  if (p[0] == '+' || p[0] == '-') {
    neg = p[0] == '-';
    i = 1;
  }
  if (i < n && !is_digit(p[i]) && p[i] != '.')
    return gfi_csv_scalar_parse_double(p, n, out); /* inf, nan or not a number */
  uint64_t mant = 0;
  int digits = 0; /* significant digits in mant (at most 19) */
  bool truncated = false;
  int64_t exp10 = 0;
  int64_t s = i;
  while (i < n && p[i] == '0') i++;
#if GFI_SWAR_DIGITS
  while (i + 8 <= n && digits <= 11 && is8digits(load8(p + i))) {
    mant = mant * 100000000u + conv8(load8(p + i));
    digits += 8; /* leading zeros were skipped: all 8 are significant */
    i += 8;
  }
#endif
  for (; i < n && is_digit(p[i]); i++) {
    unsigned d = (unsigned)(uint8_t)p[i] - '0';
    if (mant == 0 && d == 0) continue;
    if (digits < 19) {
      mant = mant * 10 + d;
      digits++;
    } else {
      exp10++;
      if (d) truncated = true;
    }
  }
  int64_t ndig = i - s;
  /* [+-]?digits and nothing else: the caller's integer rules may apply. */
  if (i == n && ndig > 0) *plain_int = true;
  if (i < n && p[i] == '.') {
    i++;
    int64_t f = i;
    if (mant == 0) {
      while (i < n && p[i] == '0') i++;
      exp10 -= i - f;
    }
#if GFI_SWAR_DIGITS
    while (i + 8 <= n && digits <= 11 && is8digits(load8(p + i))) {
      /* With mant still 0 the zeros before were skipped just above, so
       * all 8 digits are significant either way. */
      mant = mant * 100000000u + conv8(load8(p + i));
      digits += 8;
      exp10 -= 8;
      i += 8;
    }
#endif
    for (; i < n && is_digit(p[i]); i++) {
      unsigned d = (unsigned)(uint8_t)p[i] - '0';
      if (mant == 0 && d == 0) {
        exp10--;
        continue;
      }
      if (digits < 19) {
        mant = mant * 10 + d;
        digits++;
        exp10--;
      } else if (d) {
        truncated = true;
      }
    }
    ndig += i - f;
  }
  if (ndig == 0) return false;
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    i++;
    bool eneg = false;
    if (i < n && (p[i] == '+' || p[i] == '-')) {
      eneg = p[i] == '-';
      i++;
    }
    if (i == n) return false;
    int64_t e = 0;
    for (; i < n && is_digit(p[i]); i++)
      if (e < 100000) e = e * 10 + (p[i] - '0');
    exp10 += eneg ? -e : e;
  }
  if (i != n) return false;
  if (mant == 0) {
    *out = neg ? -0.0 : 0.0;
    return true;
  }
  double v;
  if (!truncated && mant <= ((uint64_t)1 << 53) && exp10 >= -22 && exp10 <= 22) {
    /* Clinger: both operands exact, one correctly rounded operation. */
    v = (double)mant;
    v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
  } else if (truncated || !gfi_csv_eisel_lemire(mant, exp10, &v)) {
    return gfi_csv_scalar_parse_double(p, n, out);
  }
  *out = neg ? -v : v;
  return true;
}

bool gfi_csv_parse_double(const char *p, int64_t n, double *out) {
  bool plain = false;
  return parse_double_impl(p, n, out, &plain);
}

/* A field of a float64 column (csv_internal.h). The integer parse used to
 * run first on every field and fail on the '.' of each fractional one (7%
 * of reading a float-heavy file); the float parse now runs first and says
 * whether the text was a plain integer, and only then the integer rules
 * run, so every result is what they gave before. */
int gfi_csv_parse_f64(const char *p, int64_t n, bool forced, double *out) {
  bool plain = false;
  double dv;
  bool ok = parse_double_impl(p, n, &dv, &plain);
  if (!plain) {
    if (!ok) return GFI_F64_MISFIT;
    *out = dv;
    return GFI_F64_OK;
  }
  int64_t iv;
  int ir = gfi_csv_parse_int64(p, n, &iv);
  if (ir == GFI_INT_OK) {
    if ((iv > GFI_CSV_EXACT_INT || iv < -GFI_CSV_EXACT_INT) && !forced) return GFI_F64_MISFIT;
    *out = (double)iv; /* "-0" reads as +0.0, as an integer */
    return GFI_F64_OK;
  }
  if (ir == GFI_INT_OVERFLOW && !forced) return GFI_F64_MISFIT;
  if (!ok) return GFI_F64_MISFIT;
  *out = dv;
  return GFI_F64_OK;
}
