/*
 * utf8/binary -> large_utf8/large_binary without copying the string bytes:
 * used where a column must be large in every batch (view columns of which
 * one batch needed int64 offsets, CSV columns read as large_utf8).
 */
#include "data/array_internal.h"

/* Rebuilds the dictionary array `in` over `dict` (the widened values): the
 * codes and validity are shared. */
static gf_status widen_dictionary(const gf_allocator *a, const gf_array *in,
                                  gf_array *dict, gf_array **out,
                                  gf_error *err) {
  gf_buffer *b[3] = {NULL, NULL, NULL};
  for (int i = 0; i < 2; i++)
    if (in->buffers[i]) b[i] = gf_buffer_retain(in->buffers[i]);
  return gfi_array_make(a, gf_type_dictionary(dict->type), in->length,
                        in->offset, in->null_count, b, dict, out, err);
}

gf_status gfi_array_widen(const gf_allocator *a, const gf_array *in,
                          gf_array *dict, gf_array **out, gf_error *err) {
  a = gfi_alloc_or_default(a);
  if (in->type.id == GF_TYPE_DICTIONARY)
    return widen_dictionary(a, in, dict, out, err);
  gf_datatype t = gf_type(in->type.id == GF_TYPE_UTF8 ? GF_TYPE_LARGE_UTF8
                                                      : GF_TYPE_LARGE_BINARY);
  const int64_t n = in->length;
  gf_buffer *b[3] = {NULL, NULL, NULL};
  if (gfi_buffer_alloc(a, (size_t)(n + 1) * 8, &b[1]) != GF_OK)
    return GF_OOM(err, "widened offsets");
  const int32_t *src = (const int32_t *)gf_buffer_data(in->buffers[1]) + in->offset;
  int64_t *dst = gf_buffer_mutable_data(b[1]);
  for (int64_t i = 0; i <= n; i++) dst[i] = src[i];
  /* The widened offsets start at row 0, so the validity is re-based too
   * when the input is a slice; the data buffer is shared as is. */
  if (in->null_count > 0 && in->buffers[0] != NULL) {
    if (gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(n), &b[0]) != GF_OK) {
      gf_buffer_release(b[1]);
      return GF_OOM(err, "a widened validity bitmap");
    }
    gfi_bitmap_copy(gf_buffer_mutable_data(b[0]), 0,
                    gf_buffer_data(in->buffers[0]), in->offset, n);
  }
  b[2] = gf_buffer_retain(in->buffers[2]);
  return gfi_array_make(a, t, n, 0, in->null_count, b, NULL, out, err);
}
