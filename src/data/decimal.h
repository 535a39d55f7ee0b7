/*
 * Decimal arithmetic helpers (not installed): 128-bit unscaled values held
 * in the compiler's __int128, exact text formatting and parsing, rescaling,
 * conversions to and from double, and the 256-bit text form for
 * decimal256. Shared by the data layer, the kernels, the aggregates, the
 * key encoders and the text writers. Values are stored little-endian in
 * Arrow buffers; the library only builds on little-endian hosts.
 */
#ifndef GF_DATA_DECIMAL_H
#define GF_DATA_DECIMAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gopherframe.h"

typedef __int128 gfi_i128;
typedef unsigned __int128 gfi_u128;

#define GFI_DEC128_MAX_PRECISION 38
#define GFI_DEC256_MAX_PRECISION 76
/* Room for the text of any decimal128 ("-0." + 38 digits + NUL) and of any
 * decimal256. */
#define GFI_DEC128_TEXT_MAX 48
#define GFI_DEC256_TEXT_MAX 88

/* True for decimal128 and decimal256. */
static inline bool gfi_is_decimal(gf_type_id id) {
  return id == GF_TYPE_DECIMAL128 || id == GF_TYPE_DECIMAL256;
}

/* Reads / writes one 16-byte little-endian value (any alignment). */
static inline gfi_i128 gfi_dec_load(const void *p) {
  gfi_i128 v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline void gfi_dec_store(void *p, gfi_i128 v) { memcpy(p, &v, sizeof v); }

static inline gfi_i128 gfi_dec_from_pub(gf_decimal128 d) {
  return (gfi_i128)(((gfi_u128)(uint64_t)d.hi << 64) | d.lo);
}
static inline gf_decimal128 gfi_dec_to_pub(gfi_i128 v) {
  gf_decimal128 d;
  d.lo = (uint64_t)(gfi_u128)v;
  d.hi = (int64_t)(uint64_t)((gfi_u128)v >> 64);
  return d;
}

/* 10^n for n in [0, 38]. */
gfi_i128 gfi_pow10_i128(int n);

/* True when |v| < 10^precision (precision 1..38). */
bool gfi_dec_fits(gfi_i128 v, int precision);

/* Exact text of v / 10^scale: "-12.340", "0.05", "7" (scale 0). Writes at
 * most GFI_DEC128_TEXT_MAX bytes with the NUL; returns the length. */
int gfi_dec128_format(gfi_i128 v, int scale, char *buf);

/* Same for a 32-byte little-endian decimal256 value (GFI_DEC256_TEXT_MAX). */
int gfi_dec256_format(const uint8_t *p, int scale, char *buf);

/* v moved from scale `from` to scale `to`. Raising the scale multiplies and
 * fails (false) when the result leaves the int128 range; lowering divides
 * and rounds half away from zero. */
bool gfi_dec_rescale(gfi_i128 v, int from, int to, gfi_i128 *out);

/* Nearest double to v / 10^scale (correctly rounded). */
double gfi_dec_to_double(gfi_i128 v, int scale);

/* x * 10^scale rounded half away from zero (the scaling done in binary64,
 * as DuckDB and Arrow do). False for NaN, infinities and results with more
 * than `precision` digits. */
bool gfi_dec_from_double(double x, int precision, int scale, gfi_i128 *out);

/* Parses decimal text "[+-]digits[.digits]" or "[+-].digits", optionally
 * with an exponent "e[+-]digits", into an unscaled value at `scale`
 * (extra fraction digits round half away from zero). Returns NULL on
 * success, else a short reason ("not a number", "too many digits for
 * decimal(10, 2)"-style text is built by the caller from the reason). */
const char *gfi_dec_parse(const char *s, int64_t len, int precision, int scale,
                          gfi_i128 *out);

/* Numeric order of two raw little-endian two's complement decimals of
 * `width` bytes (16 or 32): <0, 0, >0. */
static inline int gfi_dec_cmp_raw(const uint8_t *a, const uint8_t *b, int width) {
  int64_t ha, hb;
  memcpy(&ha, a + width - 8, 8);
  memcpy(&hb, b + width - 8, 8);
  if (ha != hb) return ha < hb ? -1 : 1;
  for (int k = width - 16; k >= 0; k -= 8) {
    uint64_t la, lb;
    memcpy(&la, a + k, 8);
    memcpy(&lb, b + k, 8);
    if (la != lb) return la < lb ? -1 : 1;
  }
  return 0;
}

/* Writes the order encoding of a raw decimal of `width` bytes: big-endian
 * with the sign bit flipped, so memcmp order is numeric order. */
static inline void gfi_dec_order_bytes(const uint8_t *src, int width, uint8_t *dst) {
  for (int k = 0; k < width; k++) dst[k] = src[width - 1 - k];
  dst[0] ^= 0x80;
}

/* Truncating division toward zero by 10^n (n in [0, 38]). */
static inline gfi_i128 gfi_dec_div_pow10(gfi_i128 v, int n) {
  return n == 0 ? v : v / gfi_pow10_i128(n);
}

#endif /* GF_DATA_DECIMAL_H */
