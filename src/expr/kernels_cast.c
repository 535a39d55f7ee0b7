/*
 * Casts between types (rules in expr.h: out-of-range and unparsable values
 * become null) and broadcasting scalars. Date parts: kernels_date.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data/timezone.h"
#include "data/decimal.h"
#include "expr/kernels.h"

static bool is_signed_src(gf_type_id id) {
  return (id >= GF_TYPE_INT8 && id <= GF_TYPE_INT64) ||
         (id >= GF_TYPE_UINT8 && id <= GF_TYPE_UINT32) || id == GF_TYPE_BOOL ||
         id == GF_TYPE_DATE32 || id == GF_TYPE_DATE64 || id == GF_TYPE_TIMESTAMP ||
         id == GF_TYPE_TIME32 || id == GF_TYPE_TIME64 || id == GF_TYPE_DURATION;
}

/* floor(a / b) for b > 0 (core/calendar.h). */
static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q, r;
  gfi_floor_divmod(a, b, &q, &r);
  return q;
}

/* Ticks per second of a temporal type (date64 counts milliseconds). */
static int64_t per_second(gf_datatype t) {
  return t.id == GF_TYPE_DATE64 ? 1000 : gfi_unit_per_second(t.unit);
}

/* Converts a temporal value between representations (false on overflow). */
static bool time_convert(gf_datatype from, gf_datatype to, int64_t v, int64_t *r) {
  if (from.id == GF_TYPE_DATE32) {
    if (to.id == GF_TYPE_DATE32) { *r = v; return true; }
    int64_t m = 86400 * per_second(to);
    if (v > INT64_MAX / m || v < INT64_MIN / m) return false;
    *r = v * m;
    return true;
  }
  int64_t ps = per_second(from);
  if (to.id == GF_TYPE_DATE32) {
    *r = floor_div(v, 86400 * ps);
    return *r >= INT32_MIN && *r <= INT32_MAX;
  }
  int64_t pt = per_second(to);
  if (pt >= ps) {
    int64_t m = pt / ps;
    if (v > INT64_MAX / m || v < INT64_MIN / m) return false;
    *r = v * m;
  } else {
    *r = floor_div(v, ps / pt);
  }
  return true;
}

/* Range of an integer target type. */
static void int_range(gf_type_id id, int64_t *lo, int64_t *hi) {
  switch (id) {
    case GF_TYPE_INT8: *lo = INT8_MIN; *hi = INT8_MAX; break;
    case GF_TYPE_INT16: *lo = INT16_MIN; *hi = INT16_MAX; break;
    case GF_TYPE_INT32:
    case GF_TYPE_DATE32: *lo = INT32_MIN; *hi = INT32_MAX; break;
    case GF_TYPE_UINT8: *lo = 0; *hi = UINT8_MAX; break;
    case GF_TYPE_UINT16: *lo = 0; *hi = UINT16_MAX; break;
    case GF_TYPE_UINT32: *lo = 0; *hi = UINT32_MAX; break;
    case GF_TYPE_BOOL: *lo = 0; *hi = 1; break;
    default: *lo = INT64_MIN; *hi = INT64_MAX; break;
  }
}

/* Parses a whole string as a decimal integer. */
static bool parse_int(const char *s, int64_t len, int64_t *v, uint64_t *u, bool *neg) {
  int64_t i = 0;
  *neg = false;
  if (i < len && (s[i] == '-' || s[i] == '+')) *neg = s[i++] == '-';
  if (i == len) return false;
  uint64_t x = 0;
  for (; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    unsigned d = (unsigned)(s[i] - '0');
    if (x > (UINT64_MAX - d) / 10) return false;
    x = x * 10 + d;
  }
  *u = x;
  if (*neg) {
    if (x > (uint64_t)INT64_MAX + 1) return false;
    *v = x == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)x;
  } else {
    *v = x > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x;
  }
  return true;
}

static bool parse_double(const char *s, int64_t len, double *v) {
  char buf[128];
  if (len <= 0 || len >= (int64_t)sizeof buf) return false;
  memcpy(buf, s, (size_t)len);
  buf[len] = 0;
  char *end;
  *v = gfi_strtod(buf, &end);
  return end == buf + len;
}

static bool ieq(const char *s, int64_t len, const char *w) {
  size_t n = strlen(w);
  if ((size_t)len != n) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (c != w[i]) return false;
  }
  return true;
}

/* Appends row i of x converted to the builder's type `to` (null when the
 * value does not convert). */
static gf_status cast_one(gf_builder *bl, gf_datatype to, const gfi_val *x,
                          int64_t i, gf_error *err) {
  gf_datatype from = x->arr->type;
  gf_type_id f = from.id, t = to.id;
  if (!gfi_val_valid(x, i)) return gf_builder_append_null(bl, err);
  if (t == GF_TYPE_UTF8 || t == GF_TYPE_LARGE_UTF8) {
    char buf[128];
    if (f == GF_TYPE_UTF8 || f == GF_TYPE_LARGE_UTF8) {
      int64_t l;
      const char *s = gfi_val_str(x, i, &l);
      return gf_builder_append_bytes(bl, s, l, err);
    }
    int len = gf_array_format_value(x->arr, x->off + i, buf, sizeof buf);
    if (len >= (int)sizeof buf) len = (int)sizeof buf - 1;
    return gf_builder_append_bytes(bl, buf, len, err);
  }
  /* Read the source as one of: signed, unsigned 64, double, string. */
  int64_t iv = 0;
  uint64_t uv = 0;
  double dv = 0;
  enum { K_I, K_U, K_D } kind = K_I;
  bool ok = true;
  if (f == GF_TYPE_UTF8 || f == GF_TYPE_LARGE_UTF8) {
    int64_t l;
    const char *s = gfi_val_str(x, i, &l);
    if (t == GF_TYPE_BOOL) {
      if (ieq(s, l, "true") || ieq(s, l, "1")) return gf_builder_append_bool(bl, true, err);
      if (ieq(s, l, "false") || ieq(s, l, "0")) return gf_builder_append_bool(bl, false, err);
      return gf_builder_append_null(bl, err);
    }
    if (t == GF_TYPE_DATE32 || t == GF_TYPE_DATE64 || t == GF_TYPE_TIMESTAMP) {
      int64_t us, r;
      if (!gfi_parse_timestamp_us(s, l, &us) ||
          !time_convert(gf_type_timestamp(GF_UNIT_MICRO, false, 0), to, us, &r))
        return gf_builder_append_null(bl, err);
      return gf_builder_append_int64(bl, r, err);
    }
    if (t == GF_TYPE_FLOAT32 || t == GF_TYPE_FLOAT64) {
      kind = K_D;
      ok = parse_double(s, l, &dv);
    } else {
      bool neg;
      ok = parse_int(s, l, &iv, &uv, &neg);
      kind = (ok && !neg && uv > (uint64_t)INT64_MAX) ? K_U : K_I;
    }
    if (!ok) return gf_builder_append_null(bl, err);
  } else if (f == GF_TYPE_FLOAT32 || f == GF_TYPE_FLOAT64) {
    kind = K_D;
    dv = gfi_val_f64(x, i);
  } else if (f == GF_TYPE_UINT64) {
    uv = (uint64_t)gfi_val_i64(x, i);
    kind = uv > (uint64_t)INT64_MAX ? K_U : K_I;
    iv = (int64_t)uv;
  } else {
    iv = gfi_val_i64(x, i);
  }
  bool src_time = f == GF_TYPE_DATE32 || f == GF_TYPE_DATE64 || f == GF_TYPE_TIMESTAMP;
  bool dst_time = t == GF_TYPE_DATE32 || t == GF_TYPE_DATE64 || t == GF_TYPE_TIMESTAMP;
  if (src_time && dst_time) {
    int64_t r;
    if (f == GF_TYPE_TIMESTAMP && from.has_timezone &&
        (t == GF_TYPE_DATE32 || t == GF_TYPE_DATE64)) {
      /* The date on the wall clock of the zone, not the UTC date. */
      int64_t secs, frac, days, sod, shift;
      gfi_floor_divmod(iv, gfi_unit_per_second(from.unit), &secs, &frac);
      gfi_floor_divmod(secs, 86400, &days, &sod);
      gfi_floor_divmod(sod + gfi_type_utc_offset(from, secs), 86400, &shift, &sod);
      iv = days + shift;
      from = gf_type(GF_TYPE_DATE32);
    }
    if (!time_convert(from, to, iv, &r)) return gf_builder_append_null(bl, err);
    return gf_builder_append_int64(bl, r, err);
  }
  if (t == GF_TYPE_FLOAT32 || t == GF_TYPE_FLOAT64) {
    double v = kind == K_D ? dv : kind == K_U ? (double)uv : (double)iv;
    if (t == GF_TYPE_FLOAT32 && isfinite(v) && isinf((float)v))
      return gf_builder_append_null(bl, err);
    return gf_builder_append_double(bl, v, err);
  }
  if (t == GF_TYPE_BOOL) {
    bool v = kind == K_D ? dv != 0 : kind == K_U ? uv != 0 : iv != 0;
    return gf_builder_append_bool(bl, v, err);
  }
  if (t == GF_TYPE_UINT64) {
    if (kind == K_U) return gf_builder_append_uint64(bl, uv, err);
    if (kind == K_D) {
      if (!(dv > -1.0 && dv < 18446744073709551616.0)) return gf_builder_append_null(bl, err);
      return gf_builder_append_uint64(bl, (uint64_t)dv, err);
    }
    if (iv < 0) return gf_builder_append_null(bl, err);
    return gf_builder_append_uint64(bl, (uint64_t)iv, err);
  }
  /* Signed integer or temporal target from a number. */
  int64_t lo, hi;
  int_range(t, &lo, &hi);
  if (kind == K_U) return gf_builder_append_null(bl, err);
  if (kind == K_D) {
    if (!(dv > -9223372036854775808.0 - 1.0 && dv < 9223372036854775808.0))
      return gf_builder_append_null(bl, err);
    iv = (int64_t)dv; /* truncates toward zero */
  }
  if (iv < lo || iv > hi) return gf_builder_append_null(bl, err);
  return gf_builder_append_int64(bl, iv, err);
}

gf_status gfi_broadcast(gfi_kctx *k, const gfi_lit *l, gf_array **out) {
  if (l->null || l->type.id == GF_TYPE_NULL) return gfi_all_null(k, l->type, out);
  gf_builder *bl;
  GF_RETURN_NOT_OK(gf_builder_new(l->type, k->a, &bl, k->err));
  gf_status st = gf_builder_reserve(bl, k->n, gfi_type_is_var_width(l->type.id) ? l->len * k->n : 0, k->err);
  gf_type_id id = l->type.id;
  for (int64_t i = 0; i < k->n && st == GF_OK; i++) {
    if (id == GF_TYPE_FLOAT32 || id == GF_TYPE_FLOAT64) st = gf_builder_append_double(bl, l->f, k->err);
    else if (id == GF_TYPE_BOOL) st = gf_builder_append_bool(bl, l->i != 0, k->err);
    else if (gfi_type_is_var_width(id)) st = gf_builder_append_bytes(bl, l->s ? l->s : "", l->len, k->err);
    else if (id == GF_TYPE_UINT64) st = gf_builder_append_uint64(bl, (uint64_t)l->i, k->err);
    else if (id == GF_TYPE_DECIMAL128) /* integer literals only: see kernels_dec.c */
      st = gf_builder_append_decimal128(bl, gfi_dec_to_pub((gfi_i128)l->i), k->err);
    else st = gf_builder_append_int64(bl, l->i, k->err);
  }
  if (st == GF_OK) st = gf_builder_finish(bl, out, k->err);
  gf_builder_free(bl);
  return st;
}

/* Widening loops for the casts arithmetic needs on every row. */
#define WIDEN(TS, TD)                                          \
  do {                                                         \
    const TS *s_ = gfi_val_data(x, sizeof(TS));                \
    TD *d_ = gf_buffer_mutable_data(data);                     \
    for (int64_t i = 0; i < n; i++) d_[i] = (TD)s_[i];         \
  } while (0)

/* Fast path: signed integers/temporal to int64, numbers to float64. */
static gf_status cast_fast(gfi_kctx *k, gf_datatype to, gfi_val *x,
                           gf_array **out, bool *done) {
  gf_type_id f = x->arr->type.id;
  *done = false;
  bool to_i = to.id == GF_TYPE_INT64, to_f = to.id == GF_TYPE_FLOAT64;
  if (!to_i && !to_f) return GF_OK;
  if (f == GF_TYPE_BOOL || f == GF_TYPE_UINT64 || (to_i && !is_signed_src(f)))
    return GF_OK;
  if (!(is_signed_src(f) || f == GF_TYPE_FLOAT32 || f == GF_TYPE_FLOAT64)) return GF_OK;
  if (to_i && (f == GF_TYPE_FLOAT32 || f == GF_TYPE_FLOAT64)) return GF_OK;
  const gfi_val *ins[1] = {x};
  gf_buffer *valid = NULL, *data = NULL;
  GF_RETURN_NOT_OK(gfi_and_validity(k, ins, 1, &valid));
  gf_status st = gfi_kbuf(k, (size_t)k->n * 8, &data);
  if (st != GF_OK) {
    gf_buffer_release(valid);
    return st;
  }
  int64_t n = k->n;
  switch (f) {
    case GF_TYPE_INT8: if (to_i) WIDEN(int8_t, int64_t); else WIDEN(int8_t, double); break;
    case GF_TYPE_INT16: if (to_i) WIDEN(int16_t, int64_t); else WIDEN(int16_t, double); break;
    case GF_TYPE_INT32:
    case GF_TYPE_DATE32:
    case GF_TYPE_TIME32: if (to_i) WIDEN(int32_t, int64_t); else WIDEN(int32_t, double); break;
    case GF_TYPE_UINT8: if (to_i) WIDEN(uint8_t, int64_t); else WIDEN(uint8_t, double); break;
    case GF_TYPE_UINT16: if (to_i) WIDEN(uint16_t, int64_t); else WIDEN(uint16_t, double); break;
    case GF_TYPE_UINT32: if (to_i) WIDEN(uint32_t, int64_t); else WIDEN(uint32_t, double); break;
    case GF_TYPE_FLOAT32: WIDEN(float, double); break;
    case GF_TYPE_FLOAT64: WIDEN(double, double); break;
    default: if (to_i) WIDEN(int64_t, int64_t); else WIDEN(int64_t, double); break;
  }
  if (valid)
    gfi_zero_null_slots(gf_buffer_mutable_data(data), 8, gf_buffer_data(valid), n);
  *done = true;
  return gfi_kfinish(k, to, valid, data, NULL, NULL, -1, out);
}

gf_status gfi_k_cast(gfi_kctx *k, gf_datatype to, gfi_val *x, gf_array **out) {
  if (gfi_val_is_null_scalar(x)) return gfi_all_null(k, to, out);
  gf_array *tmp = NULL;
  gfi_val bx;
  if (x->scalar) {
    GF_RETURN_NOT_OK(gfi_broadcast(k, x->lit, &tmp));
    bx = (gfi_val){.arr = tmp, .off = 0, .len = k->n};
    x = &bx;
  }
  gf_status st = GF_OK;
  if (x->arr->type.id != GF_TYPE_DICTIONARY &&
      (gfi_is_decimal(to.id) || gfi_is_decimal(x->arr->type.id))) {
    st = gfi_k_dec_cast(k, to, x, out);
    gf_array_release(tmp);
    return st;
  }
  if (x->arr->type.id == GF_TYPE_DICTIONARY) {
    /* Decode: gather the dictionary values by code. */
    const gf_array *d = x->arr->dictionary;
    if (d && !gf_type_equals(d->type, to) &&
        (gfi_is_decimal(d->type.id) || gfi_is_decimal(to.id))) {
      gf_array_release(tmp);
      return gf_error_set(k->err, GF_ENOTSUP,
                          "casting a dictionary column to or from a decimal: decode it "
                          "to its value type first");
    }
    gf_builder *bl;
    st = gf_builder_new(to, k->a, &bl, k->err);
    if (st == GF_OK) {
      st = gf_builder_reserve(bl, k->n, 0, k->err);
      for (int64_t i = 0; i < k->n && st == GF_OK; i++) {
        int64_t c = gfi_val_valid(x, i) ? gfi_val_i64(x, i) : -1;
        if (c < 0 || !d || c >= d->length || !gfi_is_valid(d, c)) {
          st = gf_builder_append_null(bl, k->err);
        } else if (gf_type_equals(d->type, to)) {
          st = gfi_builder_append_from(bl, d, c, NULL, k->err);
        } else {
          gfi_val dv = {.arr = (gf_array *)d, .off = 0, .len = d->length};
          st = cast_one(bl, to, &dv, c, k->err);
        }
      }
      if (st == GF_OK) st = gf_builder_finish(bl, out, k->err);
      gf_builder_free(bl);
    }
    gf_array_release(tmp);
    return st;
  }
  bool done = false;
  st = cast_fast(k, to, x, out, &done);
  if (st != GF_OK || done) {
    gf_array_release(tmp);
    return st;
  }
  gf_builder *bl;
  st = gf_builder_new(to, k->a, &bl, k->err);
  if (st == GF_OK) {
    st = gf_builder_reserve(bl, k->n, 0, k->err);
    for (int64_t i = 0; i < k->n && st == GF_OK; i++) st = cast_one(bl, to, x, i, k->err);
    if (st == GF_OK) st = gf_builder_finish(bl, out, k->err);
    gf_builder_free(bl);
  }
  gf_array_release(tmp);
  return st;
}
