/*
 * Decimal type rules of the binder (docs/DESIGN.md, "Decimals"): which
 * precision and scale arithmetic results get, what the operands are
 * converted to first, and how comparisons read their sides. Pure
 * functions of types; bind.c applies them.
 */
#include <stdio.h>

#include "data/decimal.h"
#include "expr/decimal_rules.h"

static int imax(int a, int b) { return a > b ? a : b; }
static int imin(int a, int b) { return a < b ? a : b; }

/* decimal(p, 0) wide enough for every value of integer type id. */
static gf_datatype int_as_decimal(gf_type_id id) {
  switch (id) {
    case GF_TYPE_INT8:
    case GF_TYPE_UINT8: return gf_type_decimal128(3, 0);
    case GF_TYPE_INT16:
    case GF_TYPE_UINT16: return gf_type_decimal128(5, 0);
    case GF_TYPE_INT32:
    case GF_TYPE_UINT32: return gf_type_decimal128(10, 0);
    case GF_TYPE_UINT64: return gf_type_decimal128(20, 0);
    default: return gf_type_decimal128(19, 0);
  }
}

/* Digits of |v| (at least 1). */
static int digits_of(int64_t v) {
  uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  int d = 1;
  while (m >= 10) m /= 10, d++;
  return d;
}

gf_datatype gfi_dec_operand_type(gf_datatype t, bool is_int_literal,
                                 int64_t literal) {
  if (gfi_is_decimal(t.id)) return t;
  if (is_int_literal) return gf_type_decimal128(digits_of(literal), 0);
  return int_as_decimal(t.id);
}

static bool is_int(gf_type_id id) { return id >= GF_TYPE_INT8 && id <= GF_TYPE_UINT64; }
static bool is_float(gf_type_id id) { return id == GF_TYPE_FLOAT32 || id == GF_TYPE_FLOAT64; }

int gfi_dec_operands(gf_datatype l, gf_datatype r, char *why, size_t n) {
  if (l.id == GF_TYPE_DECIMAL256 || r.id == GF_TYPE_DECIMAL256) {
    snprintf(why, n, "decimal256 has no compute kernels (cast it to decimal128 or float64)");
    return GFI_DECOP_NONE;
  }
  gf_type_id a = l.id == GF_TYPE_NULL ? r.id : l.id;
  gf_type_id b = r.id == GF_TYPE_NULL ? l.id : r.id;
  bool ad = a == GF_TYPE_DECIMAL128, bd = b == GF_TYPE_DECIMAL128;
  if ((ad && is_float(b)) || (bd && is_float(a))) return GFI_DECOP_FLOAT;
  if ((ad || is_int(a)) && (bd || is_int(b))) return GFI_DECOP_DECIMAL;
  snprintf(why, n, "a decimal combines only with decimals, integers and floats");
  return GFI_DECOP_NONE;
}

bool gfi_dec_arith_type(gf_op op, gf_datatype l, gf_datatype r,
                        gf_datatype *out, char *why, size_t n) {
  int p1 = l.precision, s1 = l.scale, p2 = r.precision, s2 = r.scale;
  int p, s;
  switch (op) {
    case GF_OP_ADD:
    case GF_OP_SUB:
      s = imax(s1, s2);
      p = imax(p1 - s1, p2 - s2) + s + 1;
      break;
    case GF_OP_MUL:
      s = s1 + s2;
      p = p1 + p2 + 1;
      break;
    case GF_OP_DIV:
      s = imax(4, s1 + p2 - s2 + 1);
      p = p1 - s1 + s2 + s;
      break;
    default: /* GF_OP_MOD */
      s = imax(s1, s2);
      p = imin(p1 - s1, p2 - s2) + s;
      break;
  }
  if (p > GFI_DEC128_MAX_PRECISION && op == GF_OP_DIV) {
    /* Keep the integral digits, give up fraction digits down to 6. */
    int integral = p - s;
    s = imax(GFI_DEC128_MAX_PRECISION - integral, imin(s, 6));
    p = GFI_DEC128_MAX_PRECISION;
  }
  if (s > GFI_DEC128_MAX_PRECISION) {
    snprintf(why, n, "the result would need scale %d (more than 38)", s);
    return false;
  }
  if (p > GFI_DEC128_MAX_PRECISION) p = GFI_DEC128_MAX_PRECISION;
  if (p < s) p = s;
  if (p < 1) p = 1;
  *out = gf_type_decimal128(p, s);
  return true;
}

gf_datatype gfi_dec_round_type(gf_datatype t, int64_t digits) {
  int s = t.scale;
  if (digits < s) s = digits < 0 ? 0 : (int)digits;
  return gf_type_decimal128(t.precision, s);
}

gf_datatype gfi_dec_common_type(gf_datatype a, gf_datatype b) {
  int s = a.scale > b.scale ? a.scale : b.scale;
  int ia = a.precision - a.scale, ib = b.precision - b.scale;
  int ip = ia > ib ? ia : ib;
  if (ip + s > 38) s = 38 - ip > 0 ? 38 - ip : 0;
  int p = ip + s;
  if (p > 38) p = 38;
  if (p < 1) p = 1;
  return gf_type_decimal128(p, s);
}
