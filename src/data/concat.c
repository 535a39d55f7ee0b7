/*
 * Concatenation of arrays of one type into one new, compact array (offset
 * 0): bitmaps shifted into place, offsets rebased, dictionaries unified and
 * codes remapped. Null slots of fixed-width and bool outputs are zeroed even
 * when an input (an imported array) had garbage there.
 */
#include <string.h>

#include "data/builder_internal.h"

static int64_t offset_at(const uint8_t *d, bool large, int64_t k) {
  return large ? ((const int64_t *)d)[k] : ((const int32_t *)d)[k];
}

/* Copies validity bits of every input into `dst` (all-valid inputs set). */
static void concat_validity(const gf_array *const *arrays, int n,
                            uint8_t *dst) {
  int64_t pos = 0;
  for (int i = 0; i < n; i++) {
    const gf_array *x = arrays[i];
    const uint8_t *v = gfi_buf(x, 0);
    if (v)
      gfi_bitmap_copy(dst, pos, v, x->offset, x->length);
    else
      gfi_bitmap_set_range(dst, pos, x->length);
    pos += x->length;
  }
}

/* Concatenates the storage of arrays that share `type` (dictionary arrays
 * here already share `dict`); the result takes a reference to `dict`. */
static gf_status concat_storage(const gf_array *const *arrays, int n,
                                gf_datatype type, gf_array *dict,
                                const gf_allocator *a, gf_array **out,
                                gf_error *err) {
  int64_t total = 0, nulls = 0;
  for (int i = 0; i < n; i++) {
    if (arrays[i]->length > INT64_MAX / 16 - total)
      return gf_error_set(err, GF_ERANGE, "concatenated length overflows");
    total += arrays[i]->length;
    nulls += type.id == GF_TYPE_NULL ? arrays[i]->length
                                     : arrays[i]->null_count;
  }
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  gf_type_id id = type.id;
  if (id == GF_TYPE_NULL)
    return gfi_array_make(a, type, total, 0, total, bufs, NULL, out, err);

  uint8_t *valid = NULL;
  if (nulls > 0) {
    if (gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(total), &bufs[0]) !=
        GF_OK)
      return GF_OOM(err, "concatenated validity");
    valid = gf_buffer_mutable_data(bufs[0]);
    concat_validity(arrays, n, valid);
  }

  if (id == GF_TYPE_BOOL) {
    if (gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(total), &bufs[1]) !=
        GF_OK)
      goto oom;
    uint8_t *d = gf_buffer_mutable_data(bufs[1]);
    int64_t pos = 0;
    for (int i = 0; i < n; i++) {
      const gf_array *x = arrays[i];
      if (x->length) gfi_bitmap_copy(d, pos, gfi_buf(x, 1), x->offset, x->length);
      pos += x->length;
    }
    if (valid)
      for (int64_t k = 0; k < gfi_bitmap_bytes(total); k++) d[k] &= valid[k];
  } else if (gfi_type_is_var_width(id)) {
    bool large = gfi_type_is_large(id);
    size_t osz = large ? 8 : 4;
    int64_t nbytes = 0;
    for (int i = 0; i < n; i++) {
      const gf_array *x = arrays[i];
      if (x->length == 0) continue;
      const uint8_t *o = gfi_buf(x, 1);
      nbytes += offset_at(o, large, x->offset + x->length) -
                offset_at(o, large, x->offset);
    }
    if (!large && nbytes > INT32_MAX) {
      for (int k = 0; k < 3; k++) gf_buffer_release(bufs[k]);
      return gf_error_set(err, GF_ERANGE,
                          "concatenated %s data exceeds 2 GiB; use %s",
                          gf_type_id_name(id),
                          id == GF_TYPE_UTF8 ? "large_utf8" : "large_binary");
    }
    if (gfi_buffer_alloc(a, (size_t)(total + 1) * osz, &bufs[1]) != GF_OK ||
        gfi_buffer_alloc(a, (size_t)nbytes, &bufs[2]) != GF_OK)
      goto oom;
    uint8_t *od = gf_buffer_mutable_data(bufs[1]);
    uint8_t *bd = gf_buffer_mutable_data(bufs[2]);
    int64_t pos = 0, base = 0;
    for (int i = 0; i < n; i++) {
      const gf_array *x = arrays[i];
      if (x->length == 0) continue;
      const uint8_t *o = gfi_buf(x, 1);
      int64_t first = offset_at(o, large, x->offset);
      for (int64_t k = 1; k <= x->length; k++) {
        int64_t v = base + offset_at(o, large, x->offset + k) - first;
        if (large)
          ((int64_t *)od)[pos + k] = v;
        else
          ((int32_t *)od)[pos + k] = (int32_t)v;
      }
      int64_t len = offset_at(o, large, x->offset + x->length) - first;
      if (len > 0) memcpy(bd + base, gfi_buf(x, 2) + first, (size_t)len);
      base += len;
      pos += x->length;
    }
  } else {
    /* Fixed width: numbers, temporal, fixed-size binary, dictionary codes. */
    size_t w = (size_t)gfi_type_byte_width(type);
    if (gfi_buffer_alloc(a, (size_t)total * w, &bufs[1]) != GF_OK) goto oom;
    uint8_t *d = gf_buffer_mutable_data(bufs[1]);
    int64_t pos = 0;
    for (int i = 0; i < n; i++) {
      const gf_array *x = arrays[i];
      if (x->length)
        memcpy(d + (size_t)pos * w, gfi_buf(x, 1) + (size_t)x->offset * w,
               (size_t)x->length * w);
      pos += x->length;
    }
    if (valid)
      for (int64_t k = 0; k < total; k++)
        if (!gfi_bit_get(valid, k)) memset(d + (size_t)k * w, 0, w);
  }
  return gfi_array_make(a, type, total, 0, nulls, bufs, dict, out, err);

oom:
  for (int k = 0; k < 3; k++) gf_buffer_release(bufs[k]);
  return GF_OOM(err, "concatenated array");
}

/* Concatenates `n` >= 1 arrays of one type into a new array allocated from
 * `alloc` (NULL = default). Dictionary arrays are unified first. */
gf_status gf_array_concat(const gf_array *const *arrays, int n,
                          const gf_allocator *alloc, gf_array **out,
                          gf_error *err) {
  if (!arrays || !out || n < 1)
    return gf_error_set(err, GF_EINVAL,
                        "gf_array_concat needs at least one array");
  for (int i = 0; i < n; i++) {
    if (!arrays[i])
      return gf_error_set(err, GF_EINVAL, "array %d to concatenate is NULL", i);
    if (!gf_type_equals(arrays[i]->type, arrays[0]->type)) {
      char t0[96], ti[96];
      return gf_error_set(err, GF_ETYPE,
                          "cannot concatenate %s with %s (array %d)",
                          gf_type_format(arrays[0]->type, t0, sizeof t0),
                          gf_type_format(arrays[i]->type, ti, sizeof ti), i);
    }
  }
  alloc = gfi_alloc_or_default(alloc);
  if (arrays[0]->type.id != GF_TYPE_DICTIONARY)
    return concat_storage(arrays, n, arrays[0]->type, NULL, alloc, out, err);

  gf_array **u = gfi_calloc(alloc, sizeof(gf_array *) * (size_t)n);
  if (!u) return GF_OOM(err, "concat state");
  gf_status st = gfi_dictionary_unify((gf_array *const *)arrays, n, alloc, u,
                                      err);
  if (st == GF_OK) {
    st = concat_storage((const gf_array *const *)u, n, arrays[0]->type,
                        u[0]->dictionary, alloc, out, err);
    for (int i = 0; i < n; i++) gf_array_release(u[i]);
  }
  gfi_mfree(alloc, u, sizeof(gf_array *) * (size_t)n);
  return st;
}
