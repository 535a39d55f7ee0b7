/*
 * Boolean kernels: Kleene and/or, not, is_null/is_not_null (byte-at-a-time
 * over bitmaps realigned to bit 0), and if(c, a, b) for every type.
 */
#include <string.h>

#include "expr/kernels.h"

/* A bool operand read a byte (8 rows) at a time. */
typedef struct bsrc {
  const uint8_t *v, *m; /* values, validity (NULL = constant cv/cm) */
  uint8_t cv, cm;
  uint8_t *sv, *sm;     /* scratch copies to free */
  size_t svb, smb;
} bsrc;

static void bsrc_free(gfi_kctx *k, bsrc *s) {
  if (s->sv) gfi_mfree(k->a, s->sv, s->svb);
  if (s->sm) gfi_mfree(k->a, s->sm, s->smb);
}

static gf_status bsrc_init(gfi_kctx *k, const gfi_val *x, bsrc *s) {
  memset(s, 0, sizeof *s);
  if (x->scalar) {
    bool null = gfi_val_is_null_scalar(x);
    s->cv = (!null && x->lit->i) ? 0xff : 0;
    s->cm = null ? 0 : 0xff;
    return GF_OK;
  }
  GF_RETURN_NOT_OK(gfi_aligned_bits(k, x, 1, &s->v, &s->sv, &s->svb));
  s->cm = 0xff;
  if (gfi_val_has_nulls(x)) {
    gf_status st = gfi_aligned_bits(k, x, 0, &s->m, &s->sm, &s->smb);
    if (st != GF_OK) {
      bsrc_free(k, s);
      return st;
    }
  }
  return GF_OK;
}

static inline uint8_t bv(const bsrc *s, int64_t j) { return s->v ? s->v[j] : s->cv; }
static inline uint8_t bm(const bsrc *s, int64_t j) { return s->m ? s->m[j] : s->cm; }

/* Finishes a bool result from value bits and validity bits (all bytes
 * written); drops the validity when nothing is null. */
static gf_status finish_bool(gfi_kctx *k, gf_buffer *data, gf_buffer *valid,
                             gf_array **out) {
  int64_t n = k->n, nb = gfi_bitmap_bytes(n);
  uint8_t *d = gf_buffer_mutable_data(data);
  if (n & 7) d[nb - 1] &= (uint8_t)((1u << (n & 7)) - 1);
  int64_t nulls = 0;
  if (valid) {
    uint8_t *m = gf_buffer_mutable_data(valid);
    if (n & 7) m[nb - 1] &= (uint8_t)((1u << (n & 7)) - 1);
    nulls = n - gfi_bitmap_count(m, 0, n);
    if (nulls == 0) {
      gf_buffer_release(valid);
      valid = NULL;
    }
  }
  return gfi_kfinish(k, gf_type(GF_TYPE_BOOL), valid, data, NULL, NULL, nulls, out);
}

/* Allocates value and validity bitmaps for a bool result. */
static gf_status bool_bufs(gfi_kctx *k, bool with_valid, gf_buffer **d, gf_buffer **v) {
  size_t nb = (size_t)gfi_bitmap_bytes(k->n);
  *v = NULL;
  GF_RETURN_NOT_OK(gfi_kbuf(k, nb, d));
  if (with_valid && gfi_kbuf(k, nb, v) != GF_OK) {
    gf_buffer_release(*d);
    return GF_ENOMEM;
  }
  return GF_OK;
}

gf_status gfi_k_logic(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gfi_val *y,
                      gf_array **out) {
  bsrc a, c;
  GF_RETURN_NOT_OK(bsrc_init(k, x, &a));
  gf_status st = bsrc_init(k, y, &c);
  if (st != GF_OK) {
    bsrc_free(k, &a);
    return st;
  }
  bool nullable = a.m || c.m || a.cm != 0xff || c.cm != 0xff;
  gf_buffer *data = NULL, *valid = NULL;
  st = bool_bufs(k, nullable, &data, &valid);
  if (st == GF_OK) {
    uint8_t *d = gf_buffer_mutable_data(data);
    uint8_t *m = valid ? gf_buffer_mutable_data(valid) : NULL;
    int64_t nb = gfi_bitmap_bytes(k->n);
    bool is_and = b->kind == GFI_B_AND;
    if (!nullable && a.v && c.v) {
      if (is_and) for (int64_t j = 0; j < nb; j++) d[j] = a.v[j] & c.v[j];
      else for (int64_t j = 0; j < nb; j++) d[j] = a.v[j] | c.v[j];
    } else {
      for (int64_t j = 0; j < nb; j++) {
        uint8_t am = bm(&a, j), cm = bm(&c, j);
        uint8_t at = bv(&a, j) & am, af = (uint8_t)~bv(&a, j) & am;
        uint8_t ct = bv(&c, j) & cm, cf = (uint8_t)~bv(&c, j) & cm;
        uint8_t t, f;
        if (is_and) {
          t = at & ct;
          f = af | cf;
        } else {
          t = at | ct;
          f = af & cf;
        }
        d[j] = t;
        if (m) m[j] = t | f;
      }
    }
    st = finish_bool(k, data, valid, out);
  }
  bsrc_free(k, &a);
  bsrc_free(k, &c);
  return st;
}

gf_status gfi_k_not(gfi_kctx *k, gfi_val *x, gf_array **out) {
  bsrc a;
  GF_RETURN_NOT_OK(bsrc_init(k, x, &a));
  bool nullable = a.m || a.cm != 0xff;
  gf_buffer *data = NULL, *valid = NULL;
  gf_status st = bool_bufs(k, nullable, &data, &valid);
  if (st == GF_OK) {
    uint8_t *d = gf_buffer_mutable_data(data);
    uint8_t *m = valid ? gf_buffer_mutable_data(valid) : NULL;
    int64_t nb = gfi_bitmap_bytes(k->n);
    for (int64_t j = 0; j < nb; j++) {
      uint8_t mm = bm(&a, j);
      d[j] = (uint8_t)~bv(&a, j) & mm;
      if (m) m[j] = mm;
    }
    st = finish_bool(k, data, valid, out);
  }
  bsrc_free(k, &a);
  return st;
}

gf_status gfi_k_is_null(gfi_kctx *k, gfi_val *x, bool want_null, gf_array **out) {
  gf_buffer *data = NULL, *valid = NULL;
  GF_RETURN_NOT_OK(bool_bufs(k, false, &data, &valid));
  uint8_t *d = gf_buffer_mutable_data(data);
  int64_t nb = gfi_bitmap_bytes(k->n);
  gf_status st = GF_OK;
  if (x->scalar) {
    bool isn = gfi_val_is_null_scalar(x);
    memset(d, isn == want_null ? 0xff : 0, (size_t)nb);
  } else if (!gfi_val_has_nulls(x)) {
    memset(d, want_null ? 0 : 0xff, (size_t)nb);
  } else {
    const uint8_t *m;
    uint8_t *scratch;
    size_t sb;
    st = gfi_aligned_bits(k, x, 0, &m, &scratch, &sb);
    if (st == GF_OK) {
      for (int64_t j = 0; j < nb; j++) d[j] = want_null ? (uint8_t)~m[j] : m[j];
      if (scratch) gfi_mfree(k->a, scratch, sb);
    }
  }
  if (st != GF_OK) {
    gf_buffer_release(data);
    return st;
  }
  return finish_bool(k, data, NULL, out);
}

/* Writes scalar `l` (already of fixed-width type t) to `dst`. */
static void put_scalar(const gfi_lit *l, gf_datatype t, uint8_t *dst) {
  switch (t.id) {
    case GF_TYPE_INT8:
    case GF_TYPE_UINT8: { uint8_t v = (uint8_t)l->i; memcpy(dst, &v, 1); break; }
    case GF_TYPE_INT16:
    case GF_TYPE_UINT16: { uint16_t v = (uint16_t)l->i; memcpy(dst, &v, 2); break; }
    case GF_TYPE_INT32:
    case GF_TYPE_UINT32:
    case GF_TYPE_DATE32:
    case GF_TYPE_TIME32: { uint32_t v = (uint32_t)l->i; memcpy(dst, &v, 4); break; }
    case GF_TYPE_FLOAT32: { float v = (float)l->f; memcpy(dst, &v, 4); break; }
    case GF_TYPE_FLOAT64: memcpy(dst, &l->f, 8); break;
    default: memcpy(dst, &l->i, 8); break;
  }
}

gf_status gfi_k_if(gfi_kctx *k, const gfi_bnode *b, gfi_val *c, gfi_val *x,
                   gfi_val *y, gf_array **out) {
  gf_datatype t = b->type;
  int64_t n = k->n;
  if (gfi_type_is_var_width(t.id) || t.id == GF_TYPE_FIXED_SIZE_BINARY ||
      t.id == GF_TYPE_BOOL || t.id == GF_TYPE_NULL) {
    gf_builder *bl;
    GF_RETURN_NOT_OK(gf_builder_new(t, k->a, &bl, k->err));
    gf_status st = gf_builder_reserve(bl, n, 0, k->err);
    for (int64_t i = 0; i < n && st == GF_OK; i++) {
      bool pick = gfi_val_valid(c, i) && gfi_val_i64(c, i) != 0;
      const gfi_val *s = pick ? x : y;
      if (!gfi_val_valid(s, i)) {
        st = gf_builder_append_null(bl, k->err);
      } else if (t.id == GF_TYPE_BOOL) {
        st = gf_builder_append_bool(bl, gfi_val_i64(s, i) != 0, k->err);
      } else {
        int64_t len;
        const char *p = s->scalar ? gfi_val_str(s, i, &len)
                                  : (const char *)gfi_value_bytes(s->arr, s->off + i, &len);
        st = gf_builder_append_bytes(bl, p, len, k->err);
      }
    }
    if (st == GF_OK) st = gf_builder_finish(bl, out, k->err);
    gf_builder_free(bl);
    return st;
  }
  int w = gfi_type_byte_width(t);
  gf_buffer *data = NULL, *valid = NULL;
  GF_RETURN_NOT_OK(gfi_kbuf(k, (size_t)n * (size_t)w, &data));
  gf_status st = gfi_kbuf(k, (size_t)gfi_bitmap_bytes(n), &valid);
  if (st != GF_OK) {
    gf_buffer_release(data);
    return st;
  }
  uint8_t *d = gf_buffer_mutable_data(data), *m = gf_buffer_mutable_data(valid);
  uint8_t xs[8] = {0}, ys[8] = {0};
  if (x->scalar && !gfi_val_is_null_scalar(x)) put_scalar(x->lit, t, xs);
  if (y->scalar && !gfi_val_is_null_scalar(y)) put_scalar(y->lit, t, ys);
  const uint8_t *xa = x->scalar ? NULL : (const uint8_t *)gfi_val_data(x, w);
  const uint8_t *ya = y->scalar ? NULL : (const uint8_t *)gfi_val_data(y, w);
  int64_t nulls = 0;
  for (int64_t i = 0; i < n; i++) {
    bool pick = gfi_val_valid(c, i) && gfi_val_i64(c, i) != 0;
    const gfi_val *s = pick ? x : y;
    if (!gfi_val_valid(s, i)) {
      nulls++;
      continue;
    }
    gfi_bit_set(m, i);
    const uint8_t *src = pick ? (xa ? xa + i * w : xs) : (ya ? ya + i * w : ys);
    memcpy(d + i * w, src, (size_t)w);
  }
  if (nulls == 0) {
    gf_buffer_release(valid);
    valid = NULL;
  }
  return gfi_kfinish(k, t, valid, data, NULL, NULL, nulls, out);
}
