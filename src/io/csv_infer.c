/* Type inference for the CSV reader: strict, locale-independent parsers
 * for integers, floats, bools, dates and timestamps, the classification of
 * a field into the narrowest kind that holds it, and the widening lattice.
 * Nothing here depends on setlocale; floats are correctly rounded (Clinger's
 * exact fast path, then the C library in the C locale for the rest). The
 * reader parses numbers with the faster csv_number.c; the scalar integer and
 * float parsers here are its reference and its slow path. */
#include <math.h>
#include <string.h>

#include "core/calendar.h"
#include "io/csv_internal.h"
#include "io/csv_number.h"

/* Least upper bound in the lattice of csv_internal.h. */
uint8_t gfi_csv_kind_join(uint8_t a, uint8_t b) {
  if (a == b) return a;
  if (a == GFI_CSV_NULL) return b;
  if (b == GFI_CSV_NULL) return a;
  if (a > b) {
    uint8_t t = a;
    a = b;
    b = t;
  }
  /* now a < b */
  if (a >= GFI_CSV_I32 && b <= GFI_CSV_F64) return b;
  if (a == GFI_CSV_DATE && b == GFI_CSV_TS) return GFI_CSV_TS;
  return GFI_CSV_STR;
}

/* Arrow type of an inferred kind. */
gf_datatype gfi_csv_kind_type(uint8_t kind) {
  switch (kind) {
  case GFI_CSV_BOOL: return gf_type(GF_TYPE_BOOL);
  case GFI_CSV_I32: return gf_type(GF_TYPE_INT32);
  case GFI_CSV_I64: return gf_type(GF_TYPE_INT64);
  case GFI_CSV_F64: return gf_type(GF_TYPE_FLOAT64);
  case GFI_CSV_DATE: return gf_type(GF_TYPE_DATE32);
  case GFI_CSV_TS: return gf_type_timestamp(GF_UNIT_MICRO, false, 0);
  case GFI_CSV_TSTZ: return gf_type_timestamp(GF_UNIT_MICRO, true, 0);
  default: return gf_type(GF_TYPE_UTF8);
  }
}

/* Integer parser shared by the signed and unsigned variants: magnitude in
 * *mag, sign in *neg. */
static int parse_mag(const char *p, int64_t n, bool allow_minus, bool *neg,
                     uint64_t *mag) {
  int64_t i = 0;
  *neg = false;
  if (n > 0 && (p[0] == '+' || (allow_minus && p[0] == '-'))) {
    *neg = p[0] == '-';
    i = 1;
  }
  if (i == n) return GFI_INT_SYNTAX;
  uint64_t v = 0;
  bool over = false;
  for (; i < n; i++) {
    unsigned d = (unsigned)(uint8_t)p[i] - '0';
    if (d > 9) return GFI_INT_SYNTAX;
    if (v > (UINT64_MAX - d) / 10) over = true;
    else v = v * 10 + d;
  }
  *mag = v;
  return over ? GFI_INT_OVERFLOW : GFI_INT_OK;
}

/* [+-]?digits into int64. */
int gfi_csv_scalar_parse_int64(const char *p, int64_t n, int64_t *out) {
  /* Fast path: short unsigned digit strings (most ids and counts). */
  if (n > 0 && n <= 18) {
    uint64_t v = 0;
    int64_t i = 0;
    for (; i < n; i++) {
      unsigned d = (unsigned)(uint8_t)p[i] - '0';
      if (d > 9) break;
      v = v * 10 + d;
    }
    if (i == n) {
      *out = (int64_t)v;
      return GFI_INT_OK;
    }
  }
  bool neg;
  uint64_t mag;
  int r = parse_mag(p, n, true, &neg, &mag);
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

/* [+]?digits into uint64. */
int gfi_csv_scalar_parse_uint64(const char *p, int64_t n, uint64_t *out) {
  bool neg;
  uint64_t mag;
  int r = parse_mag(p, n, false, &neg, &mag);
  if (r == GFI_INT_OK) *out = mag;
  return r;
}

static bool ieq(const char *p, int64_t n, const char *lit) {
  size_t l = strlen(lit);
  if ((size_t)n != l) return false;
  for (size_t i = 0; i < l; i++) {
    char c = p[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != lit[i]) return false;
  }
  return true;
}

static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Correctly rounded value of a syntactically valid decimal literal that
 * the fast path could not take: its significant digits (at most 780, plus a
 * sticky digit, which is enough for correct rounding of a double) and
 * exponent are rewritten into a bounded buffer for strtod in the C locale. */
static bool slow_double(const char *p, int64_t n, bool neg, double *out) {
  char buf[832];
  int k = 0;
  if (neg) buf[k++] = '-';
  int64_t i = (p[0] == '+' || p[0] == '-') ? 1 : 0;
  int64_t exp = 0;
  int kept = 0;
  bool seen = false, sticky = false;
  for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
    if (!seen && p[i] == '0') continue;
    seen = true;
    if (kept < 780) {
      buf[k++] = p[i];
      kept++;
    } else {
      exp++;
      if (p[i] != '0') sticky = true;
    }
  }
  if (i < n && p[i] == '.') {
    for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
      if (!seen && p[i] == '0') {
        exp--;
        continue;
      }
      seen = true;
      if (kept < 780) {
        buf[k++] = p[i];
        kept++;
        exp--;
      } else if (p[i] != '0') {
        sticky = true;
      }
    }
  }
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    i++;
    bool eneg = false;
    if (i < n && (p[i] == '+' || p[i] == '-')) eneg = p[i++] == '-';
    int64_t e = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
      if (e < 100000) e = e * 10 + (p[i] - '0');
    exp += eneg ? -e : e;
  }
  if (!seen) {
    *out = neg ? -0.0 : 0.0;
    return true;
  }
  if (sticky) {
    buf[k++] = '1';
    exp--;
  }
  buf[k++] = 'e';
  char tmp[24];
  int t = 0;
  bool xneg = exp < 0;
  uint64_t ue = xneg ? (uint64_t)(-exp) : (uint64_t)exp;
  do {
    tmp[t++] = (char)('0' + ue % 10);
    ue /= 10;
  } while (ue);
  if (xneg) buf[k++] = '-';
  while (t) buf[k++] = tmp[--t];
  buf[k] = 0;
  char *endp = NULL;
  double v = gfi_strtod(buf, &endp);
  if (endp != buf + k || isinf(v)) return false;
  *out = v;
  return true;
}

/* Decimal float, correctly rounded (see csv_internal.h). */
bool gfi_csv_scalar_parse_double(const char *p, int64_t n, double *out) {
  if (n <= 0) return false;
  int64_t i = 0;
  bool neg = false;
  if (p[0] == '+' || p[0] == '-') {
    neg = p[0] == '-';
    i = 1;
  }
  if (i < n && (p[i] < '0' || p[i] > '9') && p[i] != '.') {
    const char *q = p + i;
    int64_t m = n - i;
    if (ieq(q, m, "inf") || ieq(q, m, "infinity")) {
      *out = neg ? -INFINITY : INFINITY;
      return true;
    }
    if (ieq(q, m, "nan")) {
      *out = neg ? -NAN : NAN;
      return true;
    }
    return false;
  }
  uint64_t mant = 0;
  int digits = 0;       /* significant digits kept in mant */
  bool truncated = false;
  int64_t exp10 = 0;
  int64_t int_digits = 0, frac_digits = 0;
  for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, int_digits++) {
    if (mant == 0 && p[i] == '0') continue;
    if (digits < 19) {
      mant = mant * 10 + (uint64_t)(p[i] - '0');
      digits++;
    } else {
      exp10++;
      if (p[i] != '0') truncated = true;
    }
  }
  if (i < n && p[i] == '.') {
    i++;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, frac_digits++) {
      if (mant == 0 && p[i] == '0') {
        exp10--;
        continue;
      }
      if (digits < 19) {
        mant = mant * 10 + (uint64_t)(p[i] - '0');
        digits++;
        exp10--;
      } else if (p[i] != '0') {
        truncated = true;
      }
    }
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    i++;
    bool eneg = false;
    if (i < n && (p[i] == '+' || p[i] == '-')) {
      eneg = p[i] == '-';
      i++;
    }
    if (i == n) return false;
    int64_t e = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
      if (e < 100000) e = e * 10 + (p[i] - '0');
    exp10 += eneg ? -e : e;
  }
  if (i != n) return false;
  if (mant == 0) {
    *out = neg ? -0.0 : 0.0;
    return true;
  }
  /* Clinger: both operands exact, one correctly rounded operation. */
  if (!truncated && mant <= ((uint64_t)1 << 53) && exp10 >= -22 &&
      exp10 <= 22) {
    double v = (double)mant;
    v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
    *out = neg ? -v : v;
    return true;
  }
  return slow_double(p, n, neg, out);
}

/* true/false, any case. */
bool gfi_csv_parse_bool(const char *p, int64_t n, bool *out) {
  if (ieq(p, n, "true")) {
    *out = true;
    return true;
  }
  if (ieq(p, n, "false")) {
    *out = false;
    return true;
  }
  return false;
}

static int dig2(const char *p) {
  unsigned a = (unsigned)(uint8_t)p[0] - '0', b = (unsigned)(uint8_t)p[1] - '0';
  return (a > 9 || b > 9) ? -1 : (int)(a * 10 + b);
}

/* Parses YYYY-MM-DD at p (10 bytes available) into days. */
static bool date10(const char *p, int64_t *days) {
  if (p[4] != '-' || p[7] != '-') return false;
  int y1 = dig2(p), y2 = dig2(p + 2), m = dig2(p + 5), d = dig2(p + 8);
  if (y1 < 0 || y2 < 0 || m < 1 || m > 12 || d < 1) return false;
  int y = y1 * 100 + y2;
  if (d > gfi_days_in_month(y, (unsigned)m)) return false;
  *days = gfi_days_from_civil(y, (unsigned)m, (unsigned)d);
  return true;
}

/* YYYY-MM-DD into date32. */
bool gfi_csv_parse_date(const char *p, int64_t n, int32_t *out) {
  int64_t days;
  if (n != 10 || !date10(p, &days)) return false;
  *out = (int32_t)days;
  return true;
}

/* ISO 8601 timestamp (see csv_internal.h). */
bool gfi_csv_parse_timestamp(const char *p, int64_t n, int64_t *secs,
                             int32_t *nanos, bool *has_tz) {
  int64_t days;
  if (n < 16 || !date10(p, &days) || (p[10] != 'T' && p[10] != ' '))
    return false;
  int hh = dig2(p + 11), mm = dig2(p + 14), ss = 0;
  if (hh < 0 || hh > 23 || p[13] != ':' || mm < 0 || mm > 59) return false;
  int64_t i = 16;
  int64_t ns = 0;
  if (i < n && p[i] == ':') {
    if (i + 3 > n || (ss = dig2(p + i + 1)) < 0 || ss > 59) return false;
    i += 3;
    if (i < n && (p[i] == '.' || p[i] == ',')) {
      i++;
      int k = 0;
      for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, k++) {
        if (k >= 9) return false;
        ns = ns * 10 + (p[i] - '0');
      }
      if (k == 0) return false;
      for (; k < 9; k++) ns *= 10;
    }
  }
  int64_t off = 0;
  bool tz = false;
  if (i < n) {
    if ((p[i] == 'Z' || p[i] == 'z') && i + 1 == n) {
      tz = true;
      i++;
    } else if (p[i] == '+' || p[i] == '-') {
      int sign = p[i] == '-' ? -1 : 1;
      int oh, om = 0;
      if (i + 3 > n || (oh = dig2(p + i + 1)) < 0 || oh > 23) return false;
      i += 3;
      if (i < n && p[i] == ':') i++;
      if (i < n) {
        if (i + 2 != n || (om = dig2(p + i)) < 0 || om > 59) return false;
        i += 2;
      }
      off = sign * (oh * 3600 + om * 60);
      tz = true;
    }
  }
  if (i != n) return false;
  *secs = days * GFI_SECONDS_PER_DAY + hh * 3600 + mm * 60 + ss - off;
  *nanos = (int32_t)ns;
  *has_tz = tz;
  return true;
}

/* seconds + nanos -> unit, refusing precision loss. */
bool gfi_csv_ts_to_unit(int64_t secs, int32_t nanos, gf_time_unit unit,
                        int64_t *out) {
  int64_t scale = gfi_unit_per_second(unit);
  int64_t div = 1000000000 / scale;
  if (nanos % div != 0) return false;
  int64_t v;
  if (__builtin_mul_overflow(secs, scale, &v) ||
      __builtin_add_overflow(v, nanos / div, &v))
    return false;
  *out = v;
  return true;
}

/* Narrowest kind holding the text (see csv_internal.h). */
uint8_t gfi_csv_classify(const char *p, int64_t n, bool *bigint) {
  if (n == 0) return GFI_CSV_STR;
  uint8_t c0 = (uint8_t)p[0];
  if ((c0 >= '0' && c0 <= '9') || c0 == '-' || c0 == '+' || c0 == '.') {
    int64_t v;
    int r = gfi_csv_parse_int64(p, n, &v);
    if (r == GFI_INT_OK) {
      if (v >= INT32_MIN && v <= INT32_MAX) return GFI_CSV_I32;
      if (v > GFI_CSV_EXACT_INT || v < -GFI_CSV_EXACT_INT) *bigint = true;
      return GFI_CSV_I64;
    }
    if (r == GFI_INT_OVERFLOW) return GFI_CSV_STR;
    double d;
    if (gfi_csv_parse_double(p, n, &d)) return GFI_CSV_F64;
    if (n >= 10 && c0 >= '0' && c0 <= '9') {
      int32_t day;
      if (gfi_csv_parse_date(p, n, &day)) return GFI_CSV_DATE;
      int64_t s;
      int32_t ns;
      bool tz;
      if (gfi_csv_parse_timestamp(p, n, &s, &ns, &tz)) {
        if (ns % 1000 != 0) return GFI_CSV_STR; /* finer than us */
        return tz ? GFI_CSV_TSTZ : GFI_CSV_TS;
      }
    }
    return GFI_CSV_STR;
  }
  bool b;
  if (gfi_csv_parse_bool(p, n, &b)) return GFI_CSV_BOOL;
  double d;
  if ((c0 | 0x20) == 'i' || (c0 | 0x20) == 'n') {
    if (gfi_csv_parse_double(p, n, &d)) return GFI_CSV_F64;
  }
  return GFI_CSV_STR;
}

