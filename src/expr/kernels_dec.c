/*
 * Decimal kernels: arithmetic (+ - * / %), negation, comparisons across
 * scales, and casts to and from decimals. The binder (decimal_rules.c)
 * has already chosen result types; here values are 128-bit unscaled
 * integers. Overflow is an error naming the row (rows count from the
 * start of the evaluated batch); a zero divisor gives null, as for
 * integers; quotients are truncated toward zero (Arrow's divide).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data/decimal.h"
#include "data/value_format.h"
#include "expr/kernels.h"

/* Unscaled value of row i of a decimal128 array view, or of a decimal
 * scalar (the binder makes those only from integer literals: scale 0, the
 * value in lit.i). */
static inline gfi_i128 dec_at(const gfi_val *v, int64_t i) {
  if (v->scalar) return (gfi_i128)v->lit->i;
  return gfi_dec_load(gfi_buf(v->arr, 1) + 16 * gfi_val_abs(v, i));
}

/* Type of a value (array or scalar). */
static inline gf_datatype val_type(const gfi_val *v) {
  return v->scalar ? v->lit->type : v->arr->type;
}

/* Allocates the validity (AND of the inputs) and a data buffer of n * w
 * bytes. */
static gf_status dec_buffers(gfi_kctx *k, const gfi_val *const *in, int nin, size_t w,
                             gf_buffer **valid, gf_buffer **data) {
  *valid = *data = NULL;
  GF_RETURN_NOT_OK(gfi_and_validity(k, in, nin, valid));
  gf_status st = gfi_kbuf(k, (size_t)k->n * w, data);
  if (st != GF_OK) {
    gf_buffer_release(*valid);
    *valid = NULL;
  }
  return st;
}

/* Makes the validity writable (all valid when it did not exist). */
static gf_status own_validity(gfi_kctx *k, gf_buffer **v) {
  if (*v) return GF_OK;
  GF_RETURN_NOT_OK(gfi_kbuf(k, (size_t)gfi_bitmap_bytes(k->n), v));
  gfi_bitmap_set_range(gf_buffer_mutable_data(*v), 0, k->n);
  return GF_OK;
}

static gf_status overflow_at(gfi_kctx *k, const char *what, gf_datatype t, int64_t row) {
  char tn[64];
  gf_type_format(t, tn, sizeof tn);
  return gf_error_set(k->err, GF_ERANGE,
                      "decimal overflow: %s does not fit in %s at row %lld of the batch",
                      what, tn, (long long)row);
}

static const char *op_word(gf_op op) {
  switch (op) {
    case GF_OP_ADD: return "the sum";
    case GF_OP_SUB: return "the difference";
    case GF_OP_MUL: return "the product";
    case GF_OP_DIV: return "the quotient";
    default: return "the remainder";
  }
}

gf_status gfi_k_dec_arith(gfi_kctx *k, const gfi_bnode *node, gfi_val *x, gfi_val *y,
                          gf_array **out) {
  if (gfi_val_is_null_scalar(x) || gfi_val_is_null_scalar(y))
    return gfi_all_null(k, node->type, out);
  gf_datatype tx = val_type(x), ty = val_type(y), t = node->type;
  const gfi_val *ins[2] = {x, y};
  gf_buffer *valid = NULL, *data = NULL;
  GF_RETURN_NOT_OK(dec_buffers(k, ins, 2, 16, &valid, &data));
  uint8_t *o = gf_buffer_mutable_data(data);
  int64_t n = k->n;
  gf_status st = GF_OK;
  int s = t.scale, sx = tx.scale, sy = ty.scale;
  /* Division: a * 10^(s - sx + sy) / b; a negative exponent scales b up. */
  int ex = node->op == GF_OP_DIV ? s - sx + sy : 0;
  for (int64_t i = 0; i < n && st == GF_OK; i++) {
    if (valid && !gfi_bit_get(gf_buffer_data(valid), i)) continue;
    gfi_i128 a = dec_at(x, i), b = dec_at(y, i), r = 0;
    bool ok = true;
    switch (node->op) {
      case GF_OP_ADD:
      case GF_OP_SUB:
      case GF_OP_MOD:
        ok = gfi_dec_rescale(a, sx, s, &a) && gfi_dec_rescale(b, sy, s, &b);
        if (!ok) break;
        if (node->op == GF_OP_ADD) ok = !__builtin_add_overflow(a, b, &r);
        else if (node->op == GF_OP_SUB) ok = !__builtin_sub_overflow(a, b, &r);
        else if (b == 0) goto null_row;
        else r = b == -1 ? 0 : a % b; /* INT128_MIN % -1 traps */
        break;
      case GF_OP_MUL:
        ok = !__builtin_mul_overflow(a, b, &r);
        break;
      default:
        if (b == 0) goto null_row;
        if (ex >= 0) {
          ok = ex <= 38 && !__builtin_mul_overflow(a, gfi_pow10_i128(ex), &a);
        } else {
          ok = -ex <= 38 && !__builtin_mul_overflow(b, gfi_pow10_i128(-ex), &b);
        }
        if (ok && b == -1) ok = !__builtin_sub_overflow((gfi_i128)0, a, &r);
        else if (ok) r = a / b; /* truncated toward zero, as Arrow does */
        break;
    }
    if (!ok || !gfi_dec_fits(r, t.precision)) {
      st = overflow_at(k, op_word(node->op), t, i);
      break;
    }
    gfi_dec_store(o + 16 * i, r);
    continue;
  null_row:
    st = own_validity(k, &valid);
    if (st == GF_OK) gfi_bit_clear(gf_buffer_mutable_data(valid), i);
  }
  if (st != GF_OK) {
    gf_buffer_release(valid);
    gf_buffer_release(data);
    return st;
  }
  return gfi_kfinish(k, t, valid, data, NULL, NULL, -1, out);
}

gf_status gfi_k_dec_neg(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gf_array **out) {
  if (gfi_val_is_null_scalar(x)) return gfi_all_null(k, b->type, out);
  const gfi_val *ins[1] = {x};
  gf_buffer *valid = NULL, *data = NULL;
  GF_RETURN_NOT_OK(dec_buffers(k, ins, 1, 16, &valid, &data));
  uint8_t *o = gf_buffer_mutable_data(data);
  const uint8_t *vb = valid ? gf_buffer_data(valid) : NULL;
  for (int64_t i = 0; i < k->n; i++)
    if (!vb || gfi_bit_get(vb, i)) /* unsigned negation: no trap on INT128_MIN */
      gfi_dec_store(o + 16 * i, (gfi_i128)((gfi_u128)0 - (gfi_u128)dec_at(x, i)));
  return gfi_kfinish(k, b->type, valid, data, NULL, NULL, -1, out);
}

/* v (scale s) rounded half away from zero to a multiple of 10^d (d >= 1)
 * and divided by it: round(v / 10^d). 10^d beyond 128 bits gives 0. */
static gfi_i128 dec_round_div(gfi_i128 v, int s, int d) {
  (void)s;
  if (d > 38) return 0;
  gfi_i128 p = gfi_pow10_i128(d), q = v / p, r = v % p;
  gfi_i128 ar = r < 0 ? -r : r;
  if (ar >= p - ar) q += v < 0 ? -1 : 1; /* 2|r| >= p without overflow */
  return q;
}

gf_status gfi_k_dec_math(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gfi_val *digits,
                         gf_array **out) {
  if (gfi_val_is_null_scalar(x)) return gfi_all_null(k, b->type, out);
  const gfi_val *ins[1] = {x};
  gf_buffer *valid = NULL, *data = NULL;
  GF_RETURN_NOT_OK(dec_buffers(k, ins, 1, 16, &valid, &data));
  uint8_t *o = gf_buffer_mutable_data(data);
  const uint8_t *vb = valid ? gf_buffer_data(valid) : NULL;
  gf_datatype t = b->type;
  int s = val_type(x).scale, ts = t.scale;
  int64_t nd = digits ? digits->lit->i : 0;
  /* round(x, nd < 0): to a multiple of 10^-nd at scale 0. */
  int up = b->fn == GFI_FN_ROUND && nd < 0 ? (nd < -38 ? 39 : (int)-nd) : 0;
  gf_status st = GF_OK;
  for (int64_t i = 0; i < k->n; i++) {
    if (vb && !gfi_bit_get(vb, i)) continue;
    gfi_i128 v = dec_at(x, i), r;
    bool ok = true;
    if (b->fn == GFI_FN_ABS) {
      r = v < 0 ? -v : v; /* |v| < 10^38: no overflow */
    } else if (b->fn == GFI_FN_ROUND) {
      if (ts == s && up == 0) r = v;
      else r = dec_round_div(v, s, s - ts + up);
      if (up > 0 && r != 0) ok = up <= 38 && !__builtin_mul_overflow(r, gfi_pow10_i128(up), &r);
    } else { /* floor / ceil to scale 0 */
      gfi_i128 p = s > 0 ? gfi_pow10_i128(s) : 1, q = v / p, rem = v % p;
      if (b->fn == GFI_FN_FLOOR && rem < 0) q -= 1;
      if (b->fn == GFI_FN_CEIL && rem > 0) q += 1;
      r = q;
    }
    if (!ok || !gfi_dec_fits(r, t.precision)) {
      st = overflow_at(k, "the rounded value", t, i);
      break;
    }
    gfi_dec_store(o + 16 * i, r);
  }
  if (st != GF_OK) {
    gf_buffer_release(valid);
    gf_buffer_release(data);
    return st;
  }
  return gfi_kfinish(k, t, valid, data, NULL, NULL, -1, out);
}

/* Order of a (scale sa) and b (scale sb) by value: the side with fewer
 * fraction digits is scaled up; when that overflows, its magnitude is
 * beyond anything the other side can hold, so its sign decides. */
static inline int dec_cmp_scaled(gfi_i128 a, int sa, gfi_i128 b, int sb) {
  if (sa < sb) {
    gfi_i128 a2;
    if (!gfi_dec_rescale(a, sa, sb, &a2)) return a < 0 ? -1 : 1;
    a = a2;
  } else if (sb < sa) {
    gfi_i128 b2;
    if (!gfi_dec_rescale(b, sb, sa, &b2)) return b < 0 ? 1 : -1;
    b = b2;
  }
  return (a > b) - (a < b);
}

gf_status gfi_k_dec_cmp(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gfi_val *y,
                        gf_array **out) {
  if (gfi_val_is_null_scalar(x) || gfi_val_is_null_scalar(y))
    return gfi_all_null(k, b->type, out);
  const gfi_val *ins[2] = {x, y};
  gf_buffer *valid = NULL, *data = NULL;
  GF_RETURN_NOT_OK(gfi_and_validity(k, ins, 2, &valid));
  gf_status st = gfi_kbuf(k, (size_t)gfi_bitmap_bytes(k->n), &data);
  if (st != GF_OK) {
    gf_buffer_release(valid);
    return st;
  }
  int sx = val_type(x).scale, sy = val_type(y).scale;
  uint8_t *o = gf_buffer_mutable_data(data);
  const uint8_t *vb = valid ? gf_buffer_data(valid) : NULL;
  /* column <op> constant (the binder keeps constants on the right): the
   * constant is brought to the column's scale once. When that overflows,
   * every row is on the same side of it. */
  bool fixed = false, beyond = false;
  gfi_i128 cst = 0;
  if (!x->scalar && y->scalar && sy <= sx) {
    fixed = true;
    beyond = !gfi_dec_rescale(dec_at(y, 0), sy, sx, &cst);
  }
  for (int64_t i = 0; i < k->n; i++) {
    if (vb && !gfi_bit_get(vb, i)) continue;
    int c;
    if (!fixed) {
      c = dec_cmp_scaled(dec_at(x, i), sx, dec_at(y, i), sy);
    } else if (beyond) {
      c = dec_at(y, 0) < 0 ? 1 : -1;
    } else {
      gfi_i128 v = dec_at(x, i);
      c = (v > cst) - (v < cst);
    }
    bool r;
    switch (b->op) {
      case GF_OP_EQ: r = c == 0; break;
      case GF_OP_NE: r = c != 0; break;
      case GF_OP_LT: r = c < 0; break;
      case GF_OP_LE: r = c <= 0; break;
      case GF_OP_GT: r = c > 0; break;
      default: r = c >= 0; break;
    }
    if (r) gfi_bit_set(o, i);
  }
  return gfi_kfinish(k, b->type, valid, data, NULL, NULL, -1, out);
}

/* ---- casts ---------------------------------------------------------------- */

/* Error for a value that does not fit the cast's target. */
static gf_status cast_range(gfi_kctx *k, const gfi_val *x, int64_t i, gf_datatype to) {
  char tn[64], vt[GFI_DEC256_TEXT_MAX];
  gf_type_format(to, tn, sizeof tn);
  gfi_format_value(x->arr, x->off + i, GFI_STYLE_ISO, vt, sizeof vt);
  return gf_error_set(k->err, GF_ERANGE,
                      "cast to %s: value %s at row %lld of the batch is out of range", tn, vt,
                      (long long)i);
}

/* Reads row i of any integer, float, string or decimal source as a
 * decimal128 value at `to`'s precision and scale. Returns 1 on success, 0
 * for a value that does not parse (the result is null), -1 when it does
 * not fit (an error). */
static int to_decimal(const gfi_val *x, int64_t i, gf_datatype to, gfi_i128 *out) {
  gf_datatype f = x->arr->type;
  int p = to.precision, s = to.scale;
  if (f.id == GF_TYPE_DECIMAL128 || f.id == GF_TYPE_DECIMAL256) {
    gfi_i128 v;
    const uint8_t *src = gfi_buf(x->arr, 1);
    if (f.id == GF_TYPE_DECIMAL128) {
      v = dec_at(x, i);
    } else {
      /* decimal256 -> 128 bits when the upper half is sign extension. */
      const uint8_t *q = src + 32 * gfi_val_abs(x, i);
      v = gfi_dec_load(q);
      int64_t hi[2];
      memcpy(hi, q + 16, 16);
      int64_t ext = v < 0 ? -1 : 0;
      if (hi[0] != ext || hi[1] != ext) return -1;
    }
    if (!gfi_dec_rescale(v, f.scale, s, &v)) return -1;
    *out = v;
    return gfi_dec_fits(v, p) ? 1 : -1;
  }
  if (f.id == GF_TYPE_FLOAT32 || f.id == GF_TYPE_FLOAT64) {
    double d = gfi_val_f64(x, i);
    if (isnan(d)) return 0;
    return gfi_dec_from_double(d, p, s, out) ? 1 : -1;
  }
  if (f.id == GF_TYPE_UTF8 || f.id == GF_TYPE_LARGE_UTF8) {
    int64_t l;
    const char *t = gfi_val_str(x, i, &l);
    const char *why = gfi_dec_parse(t, l, p, s, out);
    if (!why) return 1;
    return strcmp(why, "out of range") == 0 ? -1 : 0;
  }
  gfi_i128 v;
  if (f.id == GF_TYPE_UINT64) v = (gfi_i128)(uint64_t)gfi_val_i64(x, i);
  else v = (gfi_i128)gfi_val_i64(x, i);
  if (!gfi_dec_rescale(v, 0, s, &v)) return -1;
  *out = v;
  return gfi_dec_fits(v, p) ? 1 : -1;
}

/* Decimal (128 or 256) source to a number or string target through a
 * builder. */
static gf_status from_decimal(gfi_kctx *k, gf_datatype to, const gfi_val *x, int64_t i,
                              gf_builder *bl) {
  gf_datatype f = x->arr->type;
  gf_type_id t = to.id;
  if (t == GF_TYPE_UTF8 || t == GF_TYPE_LARGE_UTF8) {
    char buf[GFI_DEC256_TEXT_MAX];
    int n = gfi_format_value(x->arr, x->off + i, GFI_STYLE_ISO, buf, sizeof buf);
    return gf_builder_append_bytes(bl, buf, n, k->err);
  }
  if (f.id == GF_TYPE_DECIMAL256) {
    if (t != GF_TYPE_FLOAT64 && t != GF_TYPE_FLOAT32)
      return gf_error_set(k->err, GF_ENOTSUP,
                          "cast from decimal256 to %s is not supported (cast to decimal128 first)",
                          gf_type_id_name(t));
    char buf[GFI_DEC256_TEXT_MAX];
    gfi_format_value(x->arr, x->off + i, GFI_STYLE_ISO, buf, sizeof buf);
    return gf_builder_append_double(bl, gfi_strtod(buf, NULL), k->err);
  }
  gfi_i128 v = dec_at(x, i);
  if (t == GF_TYPE_FLOAT32 || t == GF_TYPE_FLOAT64)
    return gf_builder_append_double(bl, gfi_dec_to_double(v, f.scale), k->err);
  /* Integers: truncated toward zero (as float to integer casts do). */
  gfi_i128 q = gfi_dec_div_pow10(v, f.scale);
  if (t == GF_TYPE_BOOL) return gf_builder_append_bool(bl, v != 0, k->err);
  if (t == GF_TYPE_UINT64) {
    if (q < 0 || q > (gfi_i128)UINT64_MAX) return cast_range(k, x, i, to);
    return gf_builder_append_uint64(bl, (uint64_t)q, k->err);
  }
  if (q < INT64_MIN || q > INT64_MAX) return cast_range(k, x, i, to);
  gf_error sub;
  gf_error_clear(&sub);
  gf_status st = gf_builder_append_int64(bl, (int64_t)q, &sub);
  if (st == GF_ERANGE) return cast_range(k, x, i, to);
  if (st != GF_OK) return gf_error_set(k->err, st, "%s", sub.message);
  return GF_OK;
}

gf_status gfi_k_dec_cast(gfi_kctx *k, gf_datatype to, gfi_val *x, gf_array **out) {
  gf_builder *bl;
  GF_RETURN_NOT_OK(gf_builder_new(to, k->a, &bl, k->err));
  gf_status st = gf_builder_reserve(bl, k->n, 0, k->err);
  bool to_dec = gfi_is_decimal(to.id);
  for (int64_t i = 0; i < k->n && st == GF_OK; i++) {
    if (!gfi_val_valid(x, i)) {
      st = gf_builder_append_null(bl, k->err);
    } else if (!to_dec) {
      st = from_decimal(k, to, x, i, bl);
    } else if (to.id == GF_TYPE_DECIMAL256) {
      /* Widening into 256 bits: sign-extend a decimal128 value. */
      gfi_i128 v;
      int r = to_decimal(x, i, gf_type_decimal128(38, to.scale), &v);
      if (r < 0) st = cast_range(k, x, i, to);
      else if (r == 0) st = gf_builder_append_null(bl, k->err);
      else {
        uint8_t raw[32];
        gfi_dec_store(raw, v);
        memset(raw + 16, v < 0 ? 0xff : 0, 16);
        st = gf_builder_append_bytes(bl, raw, 32, k->err);
      }
    } else {
      gfi_i128 v;
      int r = to_decimal(x, i, to, &v);
      if (r < 0) st = cast_range(k, x, i, to);
      else if (r == 0) st = gf_builder_append_null(bl, k->err);
      else st = gf_builder_append_decimal128(bl, gfi_dec_to_pub(v), k->err);
    }
  }
  if (st == GF_OK) st = gf_builder_finish(bl, out, k->err);
  gf_builder_free(bl);
  return st;
}
