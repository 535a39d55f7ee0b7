/*
 * Numeric kernels: arithmetic, negation, comparisons (to bitmaps and, for
 * filters, straight to selection vectors), math functions. Loops are
 * specialised for array/array, array/scalar and scalar/array operands so the
 * compiler can vectorise them; nulls are handled through bitmaps, never per
 * row, except where a result becomes null (integer division by zero).
 */
#include <math.h>
#include <string.h>

#include "expr/kernels.h"

/* Wrapping integer arithmetic (two's complement, no UB). */
static inline int64_t wadd(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static inline int64_t wsub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static inline int64_t wmul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }

/* out[i] = EXPR over a (from XA or XS) and b (from YA or YS). */
#define BIN_LOOP(T, OUT, XA, XS, YA, YS, N, EXPR)              \
  do {                                                         \
    if ((XA) && (YA)) {                                        \
      for (int64_t i = 0; i < (N); i++) {                      \
        T a = (XA)[i], b = (YA)[i];                            \
        (OUT)[i] = (EXPR);                                     \
      }                                                        \
    } else if (XA) {                                           \
      T b = (YS);                                              \
      for (int64_t i = 0; i < (N); i++) {                      \
        T a = (XA)[i];                                         \
        (OUT)[i] = (EXPR);                                     \
      }                                                        \
    } else if (YA) {                                           \
      T a = (XS);                                              \
      for (int64_t i = 0; i < (N); i++) {                      \
        T b = (YA)[i];                                         \
        (OUT)[i] = (EXPR);                                     \
      }                                                        \
    } else {                                                   \
      T a = (XS), b = (YS);                                    \
      T r_ = (EXPR);                                           \
      for (int64_t i = 0; i < (N); i++) (OUT)[i] = r_;         \
    }                                                          \
  } while (0)

/* Makes sure `*v` is a writable all-valid-initialised bitmap of n bits. */
static gf_status ensure_validity(gfi_kctx *k, gf_buffer **v) {
  if (*v) return GF_OK;
  GF_RETURN_NOT_OK(gfi_kbuf(k, (size_t)gfi_bitmap_bytes(k->n), v));
  gfi_bitmap_set_range(gf_buffer_mutable_data(*v), 0, k->n);
  return GF_OK;
}

gf_status gfi_k_arith(gfi_kctx *k, const gfi_bnode *node, gfi_val *x, gfi_val *y,
                      gf_array **out) {
  if (node->type.id == GF_TYPE_DECIMAL128) return gfi_k_dec_arith(k, node, x, y, out);
  if (gfi_val_is_null_scalar(x) || gfi_val_is_null_scalar(y))
    return gfi_all_null(k, node->type, out);
  const gfi_val *ins[2] = {x, y};
  gf_buffer *valid = NULL, *data = NULL;
  GF_RETURN_NOT_OK(gfi_and_validity(k, ins, 2, &valid));
  gf_status st = gfi_kbuf(k, (size_t)k->n * 8, &data);
  if (st != GF_OK) {
    gf_buffer_release(valid);
    return st;
  }
  int64_t n = k->n;
  if (node->type.id == GF_TYPE_INT64) {
    const int64_t *xa = x->scalar ? NULL : gfi_val_data(x, 8);
    const int64_t *ya = y->scalar ? NULL : gfi_val_data(y, 8);
    int64_t xs = x->scalar ? x->lit->i : 0, ys = y->scalar ? y->lit->i : 0;
    int64_t *o = gf_buffer_mutable_data(data);
    switch (node->op) {
      case GF_OP_ADD: BIN_LOOP(int64_t, o, xa, xs, ya, ys, n, wadd(a, b)); break;
      case GF_OP_SUB: BIN_LOOP(int64_t, o, xa, xs, ya, ys, n, wsub(a, b)); break;
      case GF_OP_MUL: BIN_LOOP(int64_t, o, xa, xs, ya, ys, n, wmul(a, b)); break;
      default: {
        /* Division and modulo: a zero divisor (and INT64_MIN / -1) gives null. */
        bool is_div = node->op == GF_OP_DIV;
        bool any_bad = false;
        for (int64_t i = 0; i < n && !any_bad; i++) {
          int64_t d = ya ? ya[i] : ys;
          int64_t a = xa ? xa[i] : xs;
          if (d == 0 || (d == -1 && a == INT64_MIN)) any_bad = true;
        }
        if (any_bad && (st = ensure_validity(k, &valid)) != GF_OK) break;
        uint8_t *vb = valid ? gf_buffer_mutable_data(valid) : NULL;
        for (int64_t i = 0; i < n; i++) {
          int64_t a = xa ? xa[i] : xs, d = ya ? ya[i] : ys;
          if (d == 0) {
            gfi_bit_clear(vb, i);
            o[i] = 0;
          } else if (d == -1) {
            if (is_div && a == INT64_MIN) {
              gfi_bit_clear(vb, i);
              o[i] = 0;
            } else {
              o[i] = is_div ? wsub(0, a) : 0;
            }
          } else {
            o[i] = is_div ? a / d : a % d;
          }
        }
        break;
      }
    }
  } else {
    const double *xa = x->scalar ? NULL : gfi_val_data(x, 8);
    const double *ya = y->scalar ? NULL : gfi_val_data(y, 8);
    double xs = x->scalar ? x->lit->f : 0, ys = y->scalar ? y->lit->f : 0;
    double *o = gf_buffer_mutable_data(data);
    switch (node->op) {
      case GF_OP_ADD: BIN_LOOP(double, o, xa, xs, ya, ys, n, a + b); break;
      case GF_OP_SUB: BIN_LOOP(double, o, xa, xs, ya, ys, n, a - b); break;
      case GF_OP_MUL: BIN_LOOP(double, o, xa, xs, ya, ys, n, a * b); break;
      case GF_OP_DIV: BIN_LOOP(double, o, xa, xs, ya, ys, n, a / b); break;
      default: BIN_LOOP(double, o, xa, xs, ya, ys, n, fmod(a, b)); break;
    }
  }
  if (st != GF_OK) {
    gf_buffer_release(valid);
    gf_buffer_release(data);
    return st;
  }
  if (valid)
    gfi_zero_null_slots(gf_buffer_mutable_data(data), 8, gf_buffer_data(valid), n);
  return gfi_kfinish(k, node->type, valid, data, NULL, NULL, -1, out);
}

gf_status gfi_k_neg(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gf_array **out) {
  if (b->type.id == GF_TYPE_DECIMAL128) return gfi_k_dec_neg(k, b, x, out);
  if (gfi_val_is_null_scalar(x)) return gfi_all_null(k, b->type, out);
  const gfi_val *ins[1] = {x};
  gf_buffer *valid = NULL, *data = NULL;
  GF_RETURN_NOT_OK(gfi_and_validity(k, ins, 1, &valid));
  gf_status st = gfi_kbuf(k, (size_t)k->n * 8, &data);
  if (st != GF_OK) {
    gf_buffer_release(valid);
    return st;
  }
  int64_t n = k->n;
  if (b->type.id == GF_TYPE_INT64) {
    int64_t *o = gf_buffer_mutable_data(data);
    for (int64_t i = 0; i < n; i++) o[i] = wsub(0, gfi_val_i64(x, i));
  } else {
    double *o = gf_buffer_mutable_data(data);
    for (int64_t i = 0; i < n; i++) o[i] = -gfi_val_f64(x, i);
  }
  if (valid)
    gfi_zero_null_slots(gf_buffer_mutable_data(data), 8, gf_buffer_data(valid), n);
  return gfi_kfinish(k, b->type, valid, data, NULL, NULL, -1, out);
}

/* Packs EXPR(i) for i in [0, n) into the bitmap `o` (zeroed beforehand). */
#define PACK_BITS(O, N, EXPR)                                   \
  do {                                                          \
    int64_t i0_ = 0;                                            \
    for (; i0_ + 8 <= (N); i0_ += 8) {                          \
      unsigned byte_ = 0;                                       \
      for (int j_ = 0; j_ < 8; j_++) {                          \
        int64_t i = i0_ + j_;                                   \
        byte_ |= (unsigned)(EXPR) << j_;                        \
      }                                                         \
      (O)[i0_ >> 3] = (uint8_t)byte_;                           \
    }                                                           \
    for (; i0_ < (N); i0_++) {                                  \
      int64_t i = i0_;                                          \
      if (EXPR) (O)[i0_ >> 3] |= (uint8_t)(1u << (i0_ & 7));    \
    }                                                           \
  } while (0)

/* Dispatches on the comparison operator: A and B are row expressions. */
#define CMP_OPS(OP, O, N, A, B)                              \
  do {                                                       \
    switch (OP) {                                            \
      case GF_OP_EQ: PACK_BITS(O, N, (A) == (B)); break;     \
      case GF_OP_NE: PACK_BITS(O, N, (A) != (B)); break;     \
      case GF_OP_LT: PACK_BITS(O, N, (A) < (B)); break;      \
      case GF_OP_LE: PACK_BITS(O, N, (A) <= (B)); break;     \
      case GF_OP_GT: PACK_BITS(O, N, (A) > (B)); break;      \
      default: PACK_BITS(O, N, (A) >= (B)); break;           \
    }                                                        \
  } while (0)

/* Three-way comparison of byte strings. */
static inline int bytes_cmp(const char *a, int64_t la, const char *b, int64_t lb) {
  int64_t m = la < lb ? la : lb;
  int c = m ? memcmp(a, b, (size_t)m) : 0;
  if (c) return c;
  return la < lb ? -1 : la > lb ? 1 : 0;
}

static inline bool op_holds(gf_op op, int c) {
  switch (op) {
    case GF_OP_EQ: return c == 0;
    case GF_OP_NE: return c != 0;
    case GF_OP_LT: return c < 0;
    case GF_OP_LE: return c <= 0;
    case GF_OP_GT: return c > 0;
    default: return c >= 0;
  }
}

/* Array (native type) versus an int64 or double constant. */
static bool cmp_array_scalar(gf_op op, int dom, const gfi_val *x,
                             const gfi_val *y, int64_t n, uint8_t *o) {
  if (x->scalar || !y->scalar) return false;
  gf_type_id id = x->arr->type.id;
  if (dom == GFI_DOM_I64) {
    int64_t c = y->lit->i;
    switch (id) {
      case GF_TYPE_INT8: { const int8_t *a = gfi_val_data(x, 1); CMP_OPS(op, o, n, (int64_t)a[i], c); return true; }
      case GF_TYPE_INT16: { const int16_t *a = gfi_val_data(x, 2); CMP_OPS(op, o, n, (int64_t)a[i], c); return true; }
      case GF_TYPE_INT32:
      case GF_TYPE_DATE32: { const int32_t *a = gfi_val_data(x, 4); CMP_OPS(op, o, n, (int64_t)a[i], c); return true; }
      case GF_TYPE_UINT8: { const uint8_t *a = gfi_val_data(x, 1); CMP_OPS(op, o, n, (int64_t)a[i], c); return true; }
      case GF_TYPE_UINT16: { const uint16_t *a = gfi_val_data(x, 2); CMP_OPS(op, o, n, (int64_t)a[i], c); return true; }
      case GF_TYPE_UINT32: { const uint32_t *a = gfi_val_data(x, 4); CMP_OPS(op, o, n, (int64_t)a[i], c); return true; }
      case GF_TYPE_INT64:
      case GF_TYPE_DATE64:
      case GF_TYPE_TIMESTAMP: { const int64_t *a = gfi_val_data(x, 8); CMP_OPS(op, o, n, a[i], c); return true; }
      default: return false;
    }
  }
  if (dom == GFI_DOM_F64) {
    double c = y->lit->f;
    switch (id) {
      case GF_TYPE_FLOAT64: { const double *a = gfi_val_data(x, 8); CMP_OPS(op, o, n, a[i], c); return true; }
      case GF_TYPE_FLOAT32: { const float *a = gfi_val_data(x, 4); CMP_OPS(op, o, n, (double)a[i], c); return true; }
      case GF_TYPE_INT32: { const int32_t *a = gfi_val_data(x, 4); CMP_OPS(op, o, n, (double)a[i], c); return true; }
      case GF_TYPE_INT64: { const int64_t *a = gfi_val_data(x, 8); CMP_OPS(op, o, n, (double)a[i], c); return true; }
      default: return false;
    }
  }
  return false;
}

gf_status gfi_k_cmp(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gfi_val *y,
                    gf_array **out) {
  if (b->domain == GFI_DOM_DEC) return gfi_k_dec_cmp(k, b, x, y, out);
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
  int64_t n = k->n;
  uint8_t *o = gf_buffer_mutable_data(data);
  gf_op op = b->op;
  if (!cmp_array_scalar(op, b->domain, x, y, n, o)) {
    switch (b->domain) {
      case GFI_DOM_I64:
        if (!x->scalar && !y->scalar && x->arr->type.id == GF_TYPE_INT64 &&
            y->arr->type.id == GF_TYPE_INT64) {
          const int64_t *xa = gfi_val_data(x, 8), *ya = gfi_val_data(y, 8);
          CMP_OPS(op, o, n, xa[i], ya[i]);
        } else {
          CMP_OPS(op, o, n, gfi_val_i64(x, i), gfi_val_i64(y, i));
        }
        break;
      case GFI_DOM_U64:
        CMP_OPS(op, o, n, (uint64_t)gfi_val_i64(x, i), (uint64_t)gfi_val_i64(y, i));
        break;
      case GFI_DOM_F64:
        if (!x->scalar && !y->scalar && x->arr->type.id == GF_TYPE_FLOAT64 &&
            y->arr->type.id == GF_TYPE_FLOAT64) {
          const double *xa = gfi_val_data(x, 8), *ya = gfi_val_data(y, 8);
          CMP_OPS(op, o, n, xa[i], ya[i]);
        } else {
          CMP_OPS(op, o, n, gfi_val_f64(x, i), gfi_val_f64(y, i));
        }
        break;
      default: {
        const uint8_t *vb = valid ? gf_buffer_data(valid) : NULL;
        for (int64_t i = 0; i < n; i++) {
          if (vb && !gfi_bit_get(vb, i)) continue;
          int64_t la, lb;
          const char *pa = gfi_val_str(x, i, &la), *pb = gfi_val_str(y, i, &lb);
          bool r;
          if (op == GF_OP_EQ || op == GF_OP_NE)
            r = (la == lb && (la == 0 || memcmp(pa, pb, (size_t)la) == 0)) == (op == GF_OP_EQ);
          else
            r = op_holds(op, bytes_cmp(pa, la, pb, lb));
          if (r) gfi_bit_set(o, i);
        }
        break;
      }
    }
  }
  if (valid) {
    const uint8_t *vb = gf_buffer_data(valid);
    int64_t nb = gfi_bitmap_bytes(n);
    for (int64_t j = 0; j < nb; j++) o[j] &= vb[j];
  }
  return gfi_kfinish(k, b->type, valid, data, NULL, NULL, -1, out);
}

/* Appends base+i for each i where EXPR holds (branch-free). */
#define SELECT_LOOP(N, EXPR)                     \
  do {                                           \
    for (int64_t i = 0; i < (N); i++) {          \
      sel[cnt] = base + (int32_t)i;              \
      cnt += (EXPR) ? 1 : 0;                     \
    }                                            \
  } while (0)

#define SELECT_OPS(OP, N, A, B)                                 \
  do {                                                          \
    switch (OP) {                                               \
      case GF_OP_EQ: SELECT_LOOP(N, (A) == (B)); break;         \
      case GF_OP_NE: SELECT_LOOP(N, (A) != (B)); break;         \
      case GF_OP_LT: SELECT_LOOP(N, (A) < (B)); break;          \
      case GF_OP_LE: SELECT_LOOP(N, (A) <= (B)); break;         \
      case GF_OP_GT: SELECT_LOOP(N, (A) > (B)); break;          \
      default: SELECT_LOOP(N, (A) >= (B)); break;               \
    }                                                           \
  } while (0)

int64_t gfi_k_cmp_select(const gfi_bnode *b, const gfi_val *x, const gfi_val *y,
                         int32_t base, int32_t *sel) {
  if (x->scalar || !y->scalar || gfi_val_is_null_scalar(y) || x->arr->null_count != 0)
    return -1;
  int64_t n = x->len, cnt = 0;
  gf_op op = b->op;
  gf_type_id id = x->arr->type.id;
  if (b->domain == GFI_DOM_I64) {
    int64_t c = y->lit->i;
    switch (id) {
      case GF_TYPE_INT32:
      case GF_TYPE_DATE32: { const int32_t *a = gfi_val_data(x, 4); SELECT_OPS(op, n, (int64_t)a[i], c); return cnt; }
      case GF_TYPE_INT64:
      case GF_TYPE_DATE64:
      case GF_TYPE_TIMESTAMP: { const int64_t *a = gfi_val_data(x, 8); SELECT_OPS(op, n, a[i], c); return cnt; }
      default: return -1;
    }
  }
  if (b->domain == GFI_DOM_F64) {
    double c = y->lit->f;
    switch (id) {
      case GF_TYPE_FLOAT64: { const double *a = gfi_val_data(x, 8); SELECT_OPS(op, n, a[i], c); return cnt; }
      case GF_TYPE_FLOAT32: { const float *a = gfi_val_data(x, 4); SELECT_OPS(op, n, (double)a[i], c); return cnt; }
      default: return -1;
    }
  }
  return -1;
}

/* Rounds an integer to a multiple of 10^-digits, half away from zero. */
static int64_t round_int(int64_t v, int64_t digits) {
  if (digits >= 0) return v;
  if (digits < -18) return 0;
  int64_t p = 1;
  for (int64_t d = 0; d < -digits; d++) p *= 10;
  int64_t q = v / p, r = v % p;
  if (r >= 0 ? r * 2 >= p : -r * 2 >= p) q += v < 0 ? -1 : 1;
  return wmul(q, p);
}

static double round_double(double v, int64_t digits) {
  if (digits == 0) return round(v);
  if (digits > 300 || digits < -300) return digits > 0 ? v : 0.0 * v;
  double p = pow(10.0, (double)(digits < 0 ? -digits : digits));
  if (digits > 0) {
    double r = round(v * p) / p;
    return isfinite(r) ? r : v;
  }
  return round(v / p) * p;
}

gf_status gfi_k_math(gfi_kctx *k, const gfi_bnode *b, gfi_val *x,
                     gfi_val *digits, gf_array **out) {
  if (gfi_val_is_null_scalar(x)) return gfi_all_null(k, b->type, out);
  if (b->type.id == GF_TYPE_DECIMAL128) return gfi_k_dec_math(k, b, x, digits, out);
  if (b->type.id == GF_TYPE_DECIMAL128) return gfi_k_dec_math(k, b, x, digits, out);
  const gfi_val *ins[1] = {x};
  gf_buffer *valid = NULL, *data = NULL;
  GF_RETURN_NOT_OK(gfi_and_validity(k, ins, 1, &valid));
  gf_status st = gfi_kbuf(k, (size_t)k->n * 8, &data);
  if (st != GF_OK) {
    gf_buffer_release(valid);
    return st;
  }
  int64_t n = k->n, d = digits ? digits->lit->i : 0;
  if (b->type.id == GF_TYPE_INT64) {
    int64_t *o = gf_buffer_mutable_data(data);
    for (int64_t i = 0; i < n; i++) {
      int64_t v = gfi_val_i64(x, i);
      switch (b->fn) {
        case GFI_FN_ABS: o[i] = v < 0 ? wsub(0, v) : v; break;
        case GFI_FN_ROUND: o[i] = round_int(v, d); break;
        default: o[i] = v; break; /* floor / ceil of an integer */
      }
    }
  } else {
    double *o = gf_buffer_mutable_data(data);
    const double *a = x->scalar ? NULL : gfi_val_data(x, 8);
    for (int64_t i = 0; i < n; i++) {
      double v = a ? a[i] : x->lit->f;
      switch (b->fn) {
        case GFI_FN_ABS: o[i] = fabs(v); break;
        case GFI_FN_FLOOR: o[i] = floor(v); break;
        case GFI_FN_CEIL: o[i] = ceil(v); break;
        case GFI_FN_ROUND: o[i] = round_double(v, d); break;
        case GFI_FN_SQRT: o[i] = sqrt(v); break;
        case GFI_FN_LOG: o[i] = log(v); break;
        default: o[i] = exp(v); break;
      }
    }
  }
  if (valid)
    gfi_zero_null_slots(gf_buffer_mutable_data(data), 8, gf_buffer_data(valid), n);
  return gfi_kfinish(k, b->type, valid, data, NULL, NULL, -1, out);
}

gf_status gfi_k_pow(gfi_kctx *k, gfi_val *x, gfi_val *y, gf_array **out) {
  gf_datatype t = gf_type(GF_TYPE_FLOAT64);
  if (gfi_val_is_null_scalar(x) || gfi_val_is_null_scalar(y))
    return gfi_all_null(k, t, out);
  const gfi_val *ins[2] = {x, y};
  gf_buffer *valid = NULL, *data = NULL;
  GF_RETURN_NOT_OK(gfi_and_validity(k, ins, 2, &valid));
  gf_status st = gfi_kbuf(k, (size_t)k->n * 8, &data);
  if (st != GF_OK) {
    gf_buffer_release(valid);
    return st;
  }
  double *o = gf_buffer_mutable_data(data);
  for (int64_t i = 0; i < k->n; i++) o[i] = pow(gfi_val_f64(x, i), gfi_val_f64(y, i));
  if (valid)
    gfi_zero_null_slots(gf_buffer_mutable_data(data), 8, gf_buffer_data(valid), k->n);
  return gfi_kfinish(k, t, valid, data, NULL, NULL, -1, out);
}
