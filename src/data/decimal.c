/*
 * Decimal helpers: formatting, parsing, rescaling and float conversion of
 * 128-bit unscaled values (see decimal.h for the contracts).
 */
#include "data/decimal.h"

#include <math.h>
#include <stdio.h>

#include "core/core_internal.h"

/* 10^n for n in [0, 38]; built once by repeated multiplication. */
gfi_i128 gfi_pow10_i128(int n) {
  static const uint64_t small[20] = {
      1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
      10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
      100000000000ull, 1000000000000ull, 10000000000000ull,
      100000000000000ull, 1000000000000000ull, 10000000000000000ull,
      100000000000000000ull, 1000000000000000000ull,
      10000000000000000000ull};
  if (n < 0) return 1;
  if (n < 20) return (gfi_i128)small[n];
  if (n > 38) n = 38;
  return (gfi_i128)small[19] * (gfi_i128)small[n - 19];
}

bool gfi_dec_fits(gfi_i128 v, int precision) {
  if (precision >= 39) return true;
  gfi_i128 lim = gfi_pow10_i128(precision);
  return v < lim && v > -lim;
}

/* Places the decimal point into the digits of a magnitude: `digits` holds
 * nd digits most significant first (nd >= 1). */
static int place_point(bool neg, const char *digits, int nd, int scale,
                       char *buf) {
  int n = 0;
  if (neg) buf[n++] = '-';
  if (scale <= 0) {
    memcpy(buf + n, digits, (size_t)nd);
    n += nd;
  } else if (nd <= scale) {
    buf[n++] = '0';
    buf[n++] = '.';
    for (int i = 0; i < scale - nd; i++) buf[n++] = '0';
    memcpy(buf + n, digits, (size_t)nd);
    n += nd;
  } else {
    memcpy(buf + n, digits, (size_t)(nd - scale));
    n += nd - scale;
    buf[n++] = '.';
    memcpy(buf + n, digits + nd - scale, (size_t)scale);
    n += scale;
  }
  buf[n] = '\0';
  return n;
}

int gfi_dec128_format(gfi_i128 v, int scale, char *buf) {
  bool neg = v < 0;
  gfi_u128 m = neg ? (gfi_u128)0 - (gfi_u128)v : (gfi_u128)v;
  char tmp[48];
  int nd = 0;
  do {
    tmp[sizeof tmp - 1 - nd++] = (char)('0' + (int)(m % 10));
    m /= 10;
  } while (m);
  if (scale > 38) scale = 38;
  return place_point(neg, tmp + sizeof tmp - nd, nd, scale, buf);
}

int gfi_dec256_format(const uint8_t *p, int scale, char *buf) {
  uint64_t w[4];
  memcpy(w, p, sizeof w);
  bool neg = (w[3] >> 63) != 0;
  if (neg) { /* two's complement negation, limb by limb */
    unsigned carry = 1;
    for (int i = 0; i < 4; i++) {
      w[i] = ~w[i] + carry;
      carry = carry && w[i] == 0;
    }
  }
  char tmp[96];
  int nd = 0;
  /* Repeated division of the 256-bit magnitude by 10^19, 19 digits at a
   * time, most significant limb first. */
  const uint64_t chunk = 10000000000000000000ull;
  for (;;) {
    gfi_u128 rem = 0;
    bool zero = true;
    for (int i = 3; i >= 0; i--) {
      gfi_u128 cur = (rem << 64) | w[i];
      w[i] = (uint64_t)(cur / chunk);
      rem = cur % chunk;
      if (w[i]) zero = false;
    }
    uint64_t r = (uint64_t)rem;
    for (int d = 0; d < 19; d++) {
      tmp[sizeof tmp - 1 - nd++] = (char)('0' + (int)(r % 10));
      r /= 10;
      if (zero && r == 0) break;
    }
    if (zero) break;
  }
  /* Strip leading zeros the fixed 19-digit chunks may have added. */
  while (nd > 1 && tmp[sizeof tmp - nd] == '0') nd--;
  if (scale > 76) scale = 76;
  return place_point(neg, tmp + sizeof tmp - nd, nd, scale, buf);
}

bool gfi_dec_rescale(gfi_i128 v, int from, int to, gfi_i128 *out) {
  if (to == from) {
    *out = v;
    return true;
  }
  if (to > from) {
    int d = to - from;
    if (d > 38) {
      if (v != 0) return false;
      *out = 0;
      return true;
    }
    return !__builtin_mul_overflow(v, gfi_pow10_i128(d), out);
  }
  int d = from - to;
  if (d > 38) {
    *out = 0;
    return true;
  }
  gfi_i128 p = gfi_pow10_i128(d);
  gfi_i128 q = v / p, r = v % p;
  /* Half away from zero: |r| >= p/2 rounds the magnitude up. */
  gfi_i128 ar = r < 0 ? -r : r;
  if (ar >= p - ar) q += v < 0 ? -1 : 1; /* 2|r| >= p without overflow */
  *out = q;
  return true;
}

double gfi_dec_to_double(gfi_i128 v, int scale) {
  static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                 1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                 1e18, 1e19, 1e20, 1e21, 1e22};
  const gfi_i128 lim = (gfi_i128)1 << 53;
  /* Both operands exact: one IEEE division is correctly rounded. */
  if (v < lim && v > -lim && scale >= 0 && scale <= 22)
    return (double)(int64_t)v / p10[scale];
  char buf[GFI_DEC128_TEXT_MAX + 8];
  int n = gfi_dec128_format(v, 0, buf);
  snprintf(buf + n, sizeof buf - (size_t)n, "e-%d", scale);
  return gfi_strtod(buf, NULL);
}

bool gfi_dec_from_double(double x, int precision, int scale, gfi_i128 *out) {
  if (!isfinite(x)) return false;
  double y = x * pow(10.0, scale);
  double r = round(y); /* half away from zero */
  if (!(fabs(r) < 1.7e38)) return false;
  gfi_i128 v;
  if (fabs(r) < 9.2e18) {
    v = (gfi_i128)(int64_t)r;
  } else {
    /* Split the integral double into high and low 64-bit halves. */
    double a = fabs(r);
    double hi = floor(a / 18446744073709551616.0);
    double lo = a - hi * 18446744073709551616.0;
    gfi_u128 m = ((gfi_u128)(uint64_t)hi << 64) + (uint64_t)lo;
    v = r < 0 ? -(gfi_i128)m : (gfi_i128)m;
  }
  if (!gfi_dec_fits(v, precision)) return false;
  *out = v;
  return true;
}

const char *gfi_dec_parse(const char *s, int64_t len, int precision, int scale,
                          gfi_i128 *out) {
  const char *p = s, *end = s + len;
  bool neg = false;
  if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
  char digs[96];
  int nd = 0, frac = 0;
  bool any = false, point = false;
  int64_t expo = 0, extra = 0; /* extra: integral digits past the buffer */
  for (; p < end; p++) {
    char c = *p;
    if (c >= '0' && c <= '9') {
      any = true;
      if (point) frac++;
      if (nd == 0 && c == '0') continue; /* leading zeros carry no digits */
      if (nd >= (int)sizeof digs) {
        /* Past 96 significant digits: an integral digit still scales the
         * value (it only can be out of range); a fraction digit is below
         * any digit kept. */
        if (point) frac--;
        else extra++;
        continue;
      }
      digs[nd++] = c;
    } else if (c == '.' && !point) {
      point = true;
    } else if ((c == 'e' || c == 'E') && any) {
      p++;
      bool eneg = false;
      if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
      if (p == end) return "not a number";
      for (; p < end; p++) {
        if (*p < '0' || *p > '9') return "not a number";
        if (expo < 100000) expo = expo * 10 + (*p - '0');
      }
      if (eneg) expo = -expo;
      break;
    } else {
      return "not a number";
    }
  }
  if (!any) return "not a number";
  expo += extra;
  int64_t shift = expo - frac + scale; /* unscaled = digits * 10^shift */
  gfi_i128 v = 0;
  if (nd > 0) {
    int64_t keep = shift >= 0 ? nd : nd + shift;
    if (keep + (shift > 0 ? shift : 0) > precision) return "out of range";
    for (int64_t i = 0; i < keep; i++) v = v * 10 + (digs[i] - '0');
    if (shift > 0) v *= gfi_pow10_i128((int)shift);
    if (keep < nd && keep >= 0 && digs[keep] >= '5') v += 1;
    if (!gfi_dec_fits(v, precision)) return "out of range";
  }
  *out = neg ? -v : v;
  return NULL;
}
