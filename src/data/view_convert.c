/*
 * String and binary views (Utf8View, BinaryView) <-> utf8/binary: the
 * validated conversion on import, the widening of converted columns that
 * came out large, and the views built for export. See view_internal.h for
 * the view layout and why views are converted rather than held.
 */
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "data/view_internal.h"

/* Little-endian int32 at p, without assuming alignment. */
static int32_t load_i32(const uint8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* Fails with GF_EINVAL "<where>: row R: <message>". */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static gf_status view_reject(gf_error *err, const char *where, int64_t row,
                             const char *fmt, ...) {
  char msg[GF_ERROR_MESSAGE_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return gf_error_set(err, GF_EINVAL, "%s: row %lld: %s", where,
                      (long long)row, msg);
}

/* Writes the first n (<= 4) bytes of p as hex into buf. */
static void hex4(const uint8_t *p, int n, char buf[12]) {
  static const char digits[] = "0123456789abcdef";
  int k = 0;
  for (int i = 0; i < n; i++) {
    buf[k++] = digits[p[i] >> 4];
    buf[k++] = digits[p[i] & 15];
  }
  buf[k] = '\0';
}

/* Checks the layout of view `row` (valid, not null) and points bytes and
 * len at its string (UTF-8 is checked after the copy). */
static gf_status view_resolve(const gfi_view_input *in, int64_t row,
                              const char *where, const uint8_t **bytes,
                              int64_t *len, gf_error *err) {
  const uint8_t *v = in->views + (in->offset + row) * GFI_VIEW_SIZE;
  int32_t n = load_i32(v);
  if (n < 0)
    return view_reject(err, where, row, "view length %d is negative", (int)n);
  if (n <= GFI_VIEW_INLINE_MAX) {
    *bytes = v + 4;
    *len = n;
  } else {
    int32_t bi = load_i32(v + 8), off = load_i32(v + 12);
    if (bi < 0 || bi >= in->n_data)
      return view_reject(err, where, row,
                         "view buffer index %d is outside the %lld data "
                         "buffers",
                         (int)bi, (long long)in->n_data);
    if (off < 0 || (int64_t)off + n > in->data_sizes[bi])
      return view_reject(err, where, row,
                         "view [offset %d, length %d) lies outside data "
                         "buffer %d of %lld bytes",
                         (int)off, (int)n, (int)bi,
                         (long long)in->data_sizes[bi]);
    const uint8_t *s = in->data[bi] + off;
    if (memcmp(s, v + 4, 4) != 0) {
      char want[12], got[12];
      hex4(v + 4, 4, want);
      hex4(s, 4, got);
      return view_reject(err, where, row,
                         "view prefix %s does not match the first data bytes "
                         "%s (buffer %d, offset %d)",
                         want, got, (int)bi, (int)off);
    }
    *bytes = s;
    *len = n;
  }
  return GF_OK;
}

/* The first row of `in` (valid, not null) whose string is not UTF-8, as an
 * error; called only once the converted bytes were found invalid, so the
 * views are known to be in bounds. */
static gf_status view_find_bad_utf8(const gfi_view_input *in, const char *where,
                                    gf_error *err) {
  for (int64_t i = 0; i < in->length; i++) {
    if (in->validity && !gfi_bit_get(in->validity, in->offset + i)) continue;
    const uint8_t *s = NULL;
    int64_t len = 0;
    (void)view_resolve(in, i, where, &s, &len, err);
    int64_t bad = gfi_utf8_error_at(s, len);
    if (bad >= 0)
      return view_reject(err, where, i,
                         "invalid UTF-8 in Utf8View string at byte %lld",
                         (long long)bad);
  }
  return gf_error_set(err, GF_EINTERNAL, "%s: UTF-8 error not found", where);
}

gf_status gfi_view_convert(const gf_allocator *a, const gfi_view_input *in,
                           const char *where, gf_array **out, gf_error *err) {
  a = gfi_alloc_or_default(a);
  const int64_t n = in->length;
  const int64_t limit = in->small_limit > 0 ? in->small_limit : INT32_MAX;
  for (int64_t k = 0; k < in->n_data; k++)
    if (in->data_sizes[k] < 0 || (in->data[k] == NULL && in->data_sizes[k] > 0))
      return gf_error_set(err, GF_EINVAL,
                          "%s: data buffer %lld %s (size %lld)", where,
                          (long long)k,
                          in->data_sizes[k] < 0 ? "has a negative size"
                                                : "is NULL",
                          (long long)in->data_sizes[k]);
  /* Pass 1: validate and total the bytes (the views are read twice rather
   * than stored: a second pass over 16 bytes a row is cheaper than a
   * temporary array of pointers). */
  int64_t total = 0, nulls = 0;
  for (int64_t i = 0; i < n; i++) {
    if (in->validity && !gfi_bit_get(in->validity, in->offset + i)) {
      nulls++;
      continue;
    }
    const uint8_t *s = NULL;
    int64_t len = 0;
    GF_RETURN_NOT_OK(view_resolve(in, i, where, &s, &len, err));
    /* Views may share bytes, so the total is not bounded by the input's
     * size (only the caller's memory limit bounds the copy); stop before it
     * could overflow. */
    if (len > INT64_MAX / 4 - total)
      return gf_error_set(err, GF_ENOTSUP,
                          "%s: the strings total more than 2^61 bytes by row %lld",
                          where, (long long)i);
    total += len;
  }
  bool large = total > limit;
  gf_datatype t = gf_type(in->utf8 ? (large ? GF_TYPE_LARGE_UTF8 : GF_TYPE_UTF8)
                                   : (large ? GF_TYPE_LARGE_BINARY : GF_TYPE_BINARY));
  int ow = large ? 8 : 4;
  gf_buffer *b[3] = {NULL, NULL, NULL};
  if ((nulls > 0 && gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(n), &b[0]) != GF_OK) ||
      gfi_buffer_alloc(a, (size_t)(n + 1) * (size_t)ow, &b[1]) != GF_OK ||
      gfi_buffer_alloc(a, (size_t)(total > 0 ? total : 1), &b[2]) != GF_OK) {
    for (int k = 0; k < 3; k++) gf_buffer_release(b[k]);
    return GF_OOM(err, "the utf8/binary copy of a view array");
  }
  gfi_buffer_set_size(b[2], (size_t)total);
  if (b[0]) gfi_bitmap_copy(gf_buffer_mutable_data(b[0]), 0, in->validity, in->offset, n);
  uint8_t *offs = gf_buffer_mutable_data(b[1]);
  uint8_t *dst = gf_buffer_mutable_data(b[2]);
  /* Pass 2: copy (already validated, so no check fails here). */
  int64_t pos = 0;
  bool cont_first = false; /* a string starting with a continuation byte */
  for (int64_t i = 0; i < n; i++) {
    if (!(in->validity && !gfi_bit_get(in->validity, in->offset + i))) {
      const uint8_t *v = in->views + (in->offset + i) * GFI_VIEW_SIZE;
      int32_t len = load_i32(v);
      const uint8_t *s = len <= GFI_VIEW_INLINE_MAX
                             ? v + 4
                             : in->data[load_i32(v + 8)] + load_i32(v + 12);
      memcpy(dst + pos, s, (size_t)len);
      if (len > 0 && (s[0] & 0xC0) == 0x80) cont_first = true;
      pos += len;
    }
    if (large) {
      memcpy(offs + (i + 1) * 8, &pos, 8);
    } else {
      int32_t p32 = (int32_t)pos;
      memcpy(offs + (i + 1) * 4, &p32, 4);
    }
  }
  /* UTF-8 once over the copied bytes rather than string by string: the
   * concatenation is valid and no string starts with a continuation byte
   * exactly when every string is valid (a string boundary inside a
   * multi-byte sequence would put a continuation byte first in the next
   * non-empty string). */
  if (in->utf8) {
    bool ok = !cont_first && gfi_utf8_error_at(dst, total) < 0;
    if (!ok) {
      for (int k = 0; k < 3; k++) gf_buffer_release(b[k]);
      return view_find_bad_utf8(in, where, err);
    }
  }
  return gfi_array_make(a, t, n, 0, nulls, b, NULL, out, err);
}

gf_status gfi_view_unify_columns(const gf_allocator *a, gf_schema **schema,
                                 gf_array **cols, int nbatches, int ncols,
                                 gf_error *err) {
  gf_schema *s = *schema;
  gf_field *fields = NULL;
  for (int c = 0; c < ncols; c++) {
    gf_type_id want = s->fields[c].type.id;
    if (want != GF_TYPE_UTF8 && want != GF_TYPE_BINARY) continue;
    bool any_large = false;
    for (int b = 0; b < nbatches; b++)
      if (cols[(size_t)b * (size_t)ncols + (size_t)c]->type.id != want)
        any_large = true;
    if (!any_large) continue;
    for (int b = 0; b < nbatches; b++) {
      gf_array **slot = &cols[(size_t)b * (size_t)ncols + (size_t)c];
      if ((*slot)->type.id != want) continue;
      gf_array *w;
      gf_status st = gfi_array_widen(a, *slot, NULL, &w, err);
      if (st != GF_OK) {
        if (fields) gfi_mfree(gf_default_allocator(), fields, sizeof *fields * (size_t)ncols);
        return st;
      }
      gf_array_release(*slot);
      *slot = w;
    }
    if (fields == NULL) {
      fields = gfi_calloc(gf_default_allocator(), sizeof *fields * (size_t)ncols);
      if (fields == NULL) return GF_OOM(err, "a widened schema");
      memcpy(fields, s->fields, sizeof *fields * (size_t)ncols);
    }
    fields[c].type = gf_type(want == GF_TYPE_UTF8 ? GF_TYPE_LARGE_UTF8
                                                  : GF_TYPE_LARGE_BINARY);
  }
  if (fields == NULL) return GF_OK;
  gf_schema *ns = NULL;
  gf_status st = gf_schema_new(fields, ncols, &ns, err);
  gfi_mfree(gf_default_allocator(), fields, sizeof *fields * (size_t)ncols);
  if (st != GF_OK) return st;
  gf_schema_release(s);
  *schema = ns;
  return GF_OK;
}

/* Offset i of a utf8/binary (4-byte) or large (8-byte) offsets array. */
static int64_t load_offset(const void *p, bool large, int64_t i) {
  if (large) return ((const int64_t *)p)[i];
  return ((const int32_t *)p)[i];
}

gf_status gfi_view_build(const gf_allocator *a, const gf_array *arr,
                         int64_t window_max, gf_buffer **views,
                         const uint8_t ***starts, int64_t **sizes,
                         int64_t *n_windows, gf_error *err) {
  a = gfi_alloc_or_default(a);
  if (window_max <= 0) window_max = INT32_MAX;
  const int64_t n = arr->length;
  const bool large = gfi_type_is_large(arr->type.id);
  const void *offs = gf_buffer_data(arr->buffers[1]);
  const uint8_t *data = gf_buffer_data(arr->buffers[2]);
  const uint8_t *valid = arr->null_count > 0 && arr->buffers[0]
                             ? gf_buffer_data(arr->buffers[0])
                             : NULL;
  gf_buffer *vb = NULL;
  if (gfi_buffer_alloc(a, (size_t)gfi_at_least_1((size_t)n) * GFI_VIEW_SIZE, &vb) != GF_OK)
    return GF_OOM(err, "exported views");
  gfi_buffer_set_size(vb, (size_t)n * GFI_VIEW_SIZE);
  uint8_t *vp = gf_buffer_mutable_data(vb);
  /* Windows are cut greedily at string starts: a window begins at the first
   * out-of-line string that does not fit in the current one. Window w is
   * [wstart[w], wend[w]) of the data buffer. */
  gfi_vec ws, we;
  gfi_vec_init(&ws, a);
  gfi_vec_init(&we, a);
  gf_status st = GF_OK;
  int64_t cur_start = -1, cur_end = -1, nw = 0;
  for (int64_t i = 0; i < n && st == GF_OK; i++) {
    uint8_t *v = vp + i * GFI_VIEW_SIZE;
    if (valid && !gfi_bit_get(valid, arr->offset + i)) continue; /* zeroed */
    int64_t s = load_offset(offs, large, arr->offset + i);
    int64_t e = load_offset(offs, large, arr->offset + i + 1);
    int64_t len = e - s;
    if (len > INT32_MAX) {
      st = gf_error_set(err, GF_ENOTSUP,
                        "row %lld: a value of %lld bytes does not fit a view "
                        "(at most 2^31-1 bytes)",
                        (long long)i, (long long)len);
      break;
    }
    int32_t l32 = (int32_t)len;
    memcpy(v, &l32, 4);
    if (len <= GFI_VIEW_INLINE_MAX) {
      if (len > 0) memcpy(v + 4, data + s, (size_t)len);
      continue;
    }
    memcpy(v + 4, data + s, 4);
    if (cur_start < 0 || e - cur_start > window_max) {
      if (cur_start >= 0) {
        st = gfi_vec_append(&ws, &cur_start, 8, err);
        if (st == GF_OK) st = gfi_vec_append(&we, &cur_end, 8, err);
        if (st != GF_OK) break;
        nw++;
      }
      cur_start = s;
      cur_end = e;
    }
    if (e > cur_end) cur_end = e;
    int32_t bi = (int32_t)nw, off = (int32_t)(s - cur_start);
    memcpy(v + 8, &bi, 4);
    memcpy(v + 12, &off, 4);
  }
  if (st == GF_OK && cur_start >= 0) {
    st = gfi_vec_append(&ws, &cur_start, 8, err);
    if (st == GF_OK) st = gfi_vec_append(&we, &cur_end, 8, err);
    if (st == GF_OK) nw++;
  }
  const uint8_t **pst = NULL;
  int64_t *psz = NULL;
  if (st == GF_OK && nw > 0) {
    pst = gfi_malloc(a, (size_t)nw * sizeof *pst);
    psz = gfi_malloc(a, (size_t)nw * sizeof *psz);
    if (pst == NULL || psz == NULL) {
      if (pst) gfi_mfree(a, pst, (size_t)nw * sizeof *pst);
      if (psz) gfi_mfree(a, psz, (size_t)nw * sizeof *psz);
      pst = NULL;
      psz = NULL;
      st = GF_OOM(err, "exported view windows");
    } else {
      const int64_t *s0 = (const int64_t *)ws.data, *e0 = (const int64_t *)we.data;
      for (int64_t w = 0; w < nw; w++) {
        pst[w] = data + s0[w];
        psz[w] = e0[w] - s0[w];
      }
    }
  }
  gfi_vec_reset(&ws);
  gfi_vec_reset(&we);
  if (st != GF_OK) {
    gf_buffer_release(vb);
    return st;
  }
  *views = vb;
  *starts = pst;
  *sizes = psz;
  *n_windows = nw;
  return GF_OK;
}
