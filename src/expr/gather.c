/*
 * Gathering rows (by selection vector or range) from one or more arrays of
 * one type into a new array: the copy step of filters and of evaluating a
 * column over a selection. Handles every flat type; dictionary arrays keep
 * their (shared) dictionary and only the codes are copied.
 */
#include <string.h>

#include "data/builder_internal.h"
#include "expr/expr_internal.h"

/* Index into the array's logical rows of the j-th row of piece p. */
static inline int64_t prow(const gfi_piece *p, int64_t j) {
  return p->sel ? p->sel[j] : p->start + j;
}

/* Copies fixed-width values of width W (a C type) from every piece. */
#define GATHER_FIXED(T)                                                   \
  do {                                                                    \
    T *d_ = (T *)dst;                                                     \
    for (int q = 0; q < npieces; q++) {                                   \
      const gfi_piece *p = &pieces[q];                                    \
      if (p->n == 0) continue;                                            \
      const T *s_ = (const T *)gfi_buf(p->arr, 1) + p->arr->offset;       \
      if (p->sel) {                                                       \
        const int32_t *sel = p->sel;                                      \
        for (int64_t j = 0; j < p->n; j++) d_[j] = s_[sel[j]];            \
      } else {                                                            \
        memcpy(d_, s_ + p->start, (size_t)p->n * sizeof(T));              \
      }                                                                   \
      d_ += p->n;                                                         \
    }                                                                     \
  } while (0)

gf_status gfi_gather(const gfi_piece *pieces, int npieces, const gf_allocator *a,
                     bool with_stats, gf_array **out, gf_error *err) {
  if (npieces < 1 || !pieces[0].arr)
    return gf_error_set(err, GF_EINVAL, "gather: no input");
  a = gfi_alloc_or_default(a);
  const gf_array *first = pieces[0].arr;
  gf_datatype t = first->type;
  int64_t total = 0;
  bool nulls = false;
  for (int q = 0; q < npieces; q++) {
    total += pieces[q].n;
    if (pieces[q].arr->null_count > 0 && pieces[q].n > 0) nulls = true;
  }
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  gf_status st = GF_OK;
  if (t.id == GF_TYPE_NULL) {
    gf_stats s;
    gfi_stats_reset(&s, t);
    return gfi_array_make_with_stats(a, t, total, total, bufs, NULL, &s, out, err);
  }
  if (nulls && t.id != GF_TYPE_NULL) {
    st = gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(total), &bufs[0]);
    if (st != GF_OK) return GF_OOM(err, "validity bitmap");
    uint8_t *v = gf_buffer_mutable_data(bufs[0]);
    int64_t o = 0;
    for (int q = 0; q < npieces; q++) {
      const gfi_piece *p = &pieces[q];
      const uint8_t *sv = gfi_buf(p->arr, 0);
      int64_t base = p->arr->offset;
      if (!sv || p->arr->null_count == 0) {
        gfi_bitmap_set_range(v, o, p->n);
      } else if (!p->sel) {
        gfi_bitmap_copy(v, o, sv, base + p->start, p->n);
      } else {
        for (int64_t j = 0; j < p->n; j++)
          if (gfi_bit_get(sv, base + p->sel[j])) gfi_bit_set(v, o + j);
      }
      o += p->n;
    }
  }
  if (t.id == GF_TYPE_BOOL) {
    st = gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(total), &bufs[1]);
    if (st == GF_OK) {
      uint8_t *d = gf_buffer_mutable_data(bufs[1]);
      int64_t o = 0;
      for (int q = 0; q < npieces; q++) {
        const gfi_piece *p = &pieces[q];
        const uint8_t *sd = gfi_buf(p->arr, 1);
        int64_t base = p->arr->offset;
        if (!p->sel) {
          gfi_bitmap_copy(d, o, sd, base + p->start, p->n);
        } else {
          for (int64_t j = 0; j < p->n; j++)
            if (gfi_bit_get(sd, base + p->sel[j])) gfi_bit_set(d, o + j);
        }
        o += p->n;
      }
    }
  } else if (gfi_type_is_var_width(t.id)) {
    bool large = gfi_type_is_large(t.id);
    int64_t bytes = 0;
    for (int q = 0; q < npieces; q++) {
      const gfi_piece *p = &pieces[q];
      for (int64_t j = 0; j < p->n; j++) {
        int64_t l;
        gfi_value_bytes(p->arr, prow(p, j), &l);
        bytes += l;
      }
    }
    if (!large && bytes > INT32_MAX) {
      st = gf_error_set(err, GF_ERANGE, "%s result exceeds 2 GiB", gf_type_id_name(t.id));
    }
    if (st == GF_OK) {
      st = gfi_buffer_alloc(a, (size_t)(total + 1) * (large ? 8 : 4), &bufs[1]);
      if (st == GF_OK) st = gfi_buffer_alloc(a, (size_t)bytes, &bufs[2]);
      if (st != GF_OK) st = GF_OOM(err, "gathered strings");
    }
    if (st == GF_OK) {
      uint8_t *offs = gf_buffer_mutable_data(bufs[1]);
      char *data = gf_buffer_mutable_data(bufs[2]);
      int64_t o = 0, pos = 0;
      for (int q = 0; q < npieces; q++) {
        const gfi_piece *p = &pieces[q];
        for (int64_t j = 0; j < p->n; j++, o++) {
          int64_t l;
          const uint8_t *s = gfi_value_bytes(p->arr, prow(p, j), &l);
          if (large) ((int64_t *)offs)[o] = pos;
          else ((int32_t *)offs)[o] = (int32_t)pos;
          if (l) memcpy(data + pos, s, (size_t)l);
          pos += l;
        }
      }
      if (large) ((int64_t *)offs)[o] = pos;
      else ((int32_t *)offs)[o] = (int32_t)pos;
    }
  } else {
    int w = t.id == GF_TYPE_DICTIONARY ? 4 : gfi_type_byte_width(t);
    st = gfi_buffer_alloc(a, (size_t)total * (size_t)w, &bufs[1]);
    if (st != GF_OK) st = GF_OOM(err, "gathered values");
    if (st == GF_OK) {
      uint8_t *dst = gf_buffer_mutable_data(bufs[1]);
      switch (w) {
        case 1: GATHER_FIXED(uint8_t); break;
        case 2: GATHER_FIXED(uint16_t); break;
        case 4: GATHER_FIXED(uint32_t); break;
        case 8: GATHER_FIXED(uint64_t); break;
        default:
          for (int q = 0; q < npieces; q++) {
            const gfi_piece *p = &pieces[q];
            for (int64_t j = 0; j < p->n; j++) {
              int64_t l;
              const uint8_t *s = gfi_value_bytes(p->arr, prow(p, j), &l);
              memcpy(dst, s, (size_t)w);
              dst += w;
            }
          }
          break;
      }
    }
  }
  if (st != GF_OK) {
    for (int i = 0; i < 3; i++) gf_buffer_release(bufs[i]);
    if (st == GF_ENOMEM) return GF_OOM(err, "gathered rows");
    return st;
  }
  gf_array *dict = t.id == GF_TYPE_DICTIONARY ? first->dictionary : NULL;
  if (with_stats)
    return gfi_array_make(a, t, total, 0, nulls ? -1 : 0, bufs, dict, out, err);
  gf_stats s;
  gfi_stats_reset(&s, t);
  return gfi_array_make_with_stats(a, t, total, nulls ? -1 : 0, bufs, dict, &s, out, err);
}
