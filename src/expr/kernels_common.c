/*
 * Shared kernel plumbing: reading rows of any physical type, combining
 * validity bitmaps, allocating and finishing result arrays.
 */
#include <string.h>

#include "expr/kernels.h"

int64_t gfi_val_i64(const gfi_val *v, int64_t i) {
  if (v->scalar) {
    if (v->lit->type.id == GF_TYPE_FLOAT64 || v->lit->type.id == GF_TYPE_FLOAT32)
      return (int64_t)v->lit->f;
    return v->lit->i;
  }
  const uint8_t *d = gfi_buf(v->arr, 1);
  int64_t j = gfi_val_abs(v, i);
  switch (v->arr->type.id) {
    case GF_TYPE_BOOL: return gfi_bit_get(d, j);
    case GF_TYPE_INT8: return ((const int8_t *)d)[j];
    case GF_TYPE_INT16: return ((const int16_t *)d)[j];
    case GF_TYPE_INT32:
    case GF_TYPE_DATE32:
    case GF_TYPE_TIME32:
    case GF_TYPE_DICTIONARY: return ((const int32_t *)d)[j];
    case GF_TYPE_UINT8: return d[j];
    case GF_TYPE_UINT16: return ((const uint16_t *)d)[j];
    case GF_TYPE_UINT32: return ((const uint32_t *)d)[j];
    case GF_TYPE_FLOAT32: return (int64_t)((const float *)d)[j];
    case GF_TYPE_FLOAT64: return (int64_t)((const double *)d)[j];
    default: return ((const int64_t *)d)[j]; /* int64, uint64, 64-bit temporal */
  }
}

double gfi_val_f64(const gfi_val *v, int64_t i) {
  if (v->scalar) {
    gf_type_id id = v->lit->type.id;
    if (id == GF_TYPE_FLOAT64 || id == GF_TYPE_FLOAT32) return v->lit->f;
    if (id == GF_TYPE_UINT64) return (double)(uint64_t)v->lit->i;
    return (double)v->lit->i;
  }
  const uint8_t *d = gfi_buf(v->arr, 1);
  int64_t j = gfi_val_abs(v, i);
  switch (v->arr->type.id) {
    case GF_TYPE_FLOAT32: return ((const float *)d)[j];
    case GF_TYPE_FLOAT64: return ((const double *)d)[j];
    case GF_TYPE_UINT64: return (double)((const uint64_t *)d)[j];
    default: return (double)gfi_val_i64(v, i);
  }
}

const char *gfi_val_str(const gfi_val *v, int64_t i, int64_t *len) {
  if (v->scalar) {
    *len = v->lit->len;
    return v->lit->s ? v->lit->s : "";
  }
  int64_t j = gfi_val_abs(v, i);
  const uint8_t *o = gfi_buf(v->arr, 1);
  const char *d = (const char *)gfi_buf(v->arr, 2);
  int64_t s, e;
  if (gfi_type_is_large(v->arr->type.id)) {
    s = ((const int64_t *)o)[j];
    e = ((const int64_t *)o)[j + 1];
  } else {
    s = ((const int32_t *)o)[j];
    e = ((const int32_t *)o)[j + 1];
  }
  *len = e - s;
  return d ? d + s : "";
}

gf_status gfi_kbuf(gfi_kctx *k, size_t bytes, gf_buffer **out) {
  gf_status st = gfi_buffer_alloc(k->a, bytes, out);
  if (st != GF_OK) return GF_OOM(k->err, "expression result");
  return GF_OK;
}

gf_status gfi_aligned_bits(gfi_kctx *k, const gfi_val *v, int buf,
                           const uint8_t **bits, uint8_t **scratch,
                           size_t *scratch_bytes) {
  int64_t abs = gfi_val_abs(v, 0);
  const uint8_t *src = gfi_buf(v->arr, buf);
  *scratch = NULL;
  *scratch_bytes = 0;
  if ((abs & 7) == 0) {
    *bits = src + (abs >> 3);
    return GF_OK;
  }
  size_t nb = (size_t)gfi_bitmap_bytes(k->n) + 8;
  uint8_t *s = gfi_calloc(k->a, nb);
  if (!s) return GF_OOM(k->err, "bitmap scratch");
  gfi_bitmap_copy(s, 0, src, abs, k->n);
  *scratch = s;
  *scratch_bytes = nb;
  *bits = s;
  return GF_OK;
}

gf_status gfi_and_validity(gfi_kctx *k, const gfi_val *const *in, int nin,
                           gf_buffer **out) {
  *out = NULL;
  bool any = false, all_null = false;
  for (int i = 0; i < nin; i++) {
    if (!in[i]) continue;
    if (gfi_val_is_null_scalar(in[i])) all_null = true;
    else if (gfi_val_has_nulls(in[i])) any = true;
  }
  if (!any && !all_null) return GF_OK;
  gf_buffer *b;
  GF_RETURN_NOT_OK(gfi_kbuf(k, (size_t)gfi_bitmap_bytes(k->n), &b));
  if (all_null) {
    *out = b;
    return GF_OK;
  }
  uint8_t *dst = gf_buffer_mutable_data(b);
  int64_t nbytes = gfi_bitmap_bytes(k->n);
  bool first = true;
  for (int i = 0; i < nin; i++) {
    if (!in[i] || in[i]->scalar || !gfi_val_has_nulls(in[i])) continue;
    const uint8_t *bits;
    uint8_t *scratch;
    size_t sb;
    gf_status st = gfi_aligned_bits(k, in[i], 0, &bits, &scratch, &sb);
    if (st != GF_OK) {
      gf_buffer_release(b);
      return st;
    }
    if (first) {
      memcpy(dst, bits, (size_t)nbytes);
      first = false;
    } else {
      for (int64_t j = 0; j < nbytes; j++) dst[j] &= bits[j];
    }
    if (scratch) gfi_mfree(k->a, scratch, sb);
  }
  if (k->n & 7) dst[nbytes - 1] &= (uint8_t)((1u << (k->n & 7)) - 1);
  *out = b;
  return GF_OK;
}

void gfi_zero_null_slots(uint8_t *data, int width, const uint8_t *validity,
                         int64_t n) {
  if (!validity) return;
  for (int64_t i = 0; i < n; i++)
    if (!gfi_bit_get(validity, i)) memset(data + i * width, 0, (size_t)width);
}

gf_status gfi_kfinish(gfi_kctx *k, gf_datatype t, gf_buffer *validity,
                      gf_buffer *data, gf_buffer *data2, gf_array *dict,
                      int64_t null_count, gf_array **out) {
  gf_buffer *bufs[3] = {validity, data, data2};
  gf_stats st;
  gfi_stats_reset(&st, t);
  if (validity && null_count < 0) {
    null_count = k->n - gfi_bitmap_count(gf_buffer_data(validity), 0, k->n);
  }
  if (!validity) null_count = 0;
  return gfi_array_make_with_stats(k->a, t, k->n, null_count, bufs, dict, &st,
                                   out, k->err);
}

gf_status gfi_all_null(gfi_kctx *k, gf_datatype t, gf_array **out) {
  gf_buffer *v = NULL, *d = NULL, *d2 = NULL;
  int64_t n = k->n;
  if (t.id == GF_TYPE_NULL) return gfi_kfinish(k, t, NULL, NULL, NULL, NULL, n, out);
  gf_status st = gfi_kbuf(k, (size_t)gfi_bitmap_bytes(n), &v);
  if (st == GF_OK) {
    size_t bytes;
    if (t.id == GF_TYPE_BOOL) bytes = (size_t)gfi_bitmap_bytes(n);
    else if (gfi_type_is_var_width(t.id))
      bytes = (size_t)(n + 1) * (gfi_type_is_large(t.id) ? 8 : 4);
    else bytes = (size_t)n * (size_t)gfi_type_byte_width(t);
    st = gfi_kbuf(k, bytes, &d);
  }
  if (st == GF_OK && gfi_type_is_var_width(t.id)) st = gfi_kbuf(k, 0, &d2);
  if (st != GF_OK) {
    gf_buffer_release(v);
    gf_buffer_release(d);
    return st;
  }
  if (n == 0) {
    gf_buffer_release(v);
    v = NULL;
  }
  gf_buffer *bufs[3] = {v, d, d2};
  gf_stats s;
  gfi_stats_reset(&s, t);
  return gfi_array_make_with_stats(k->a, t, n, n, bufs, NULL, &s, out, k->err);
}
