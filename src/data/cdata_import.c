/*
 * Arrow C Data Interface: validated zero-copy import of arrays and record
 * batches. The producer's ArrowArray is moved into a refcounted holder; every
 * buffer we wrap holds a reference to it, and the producer's release runs
 * when the last of them goes away. Validation never reads past the logical
 * extent of a buffer (imported memory may be unpadded).
 */
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "data/cdata_internal.h"
#include "data/view_internal.h"

/* The moved producer array and the references our buffers hold to it. */
typedef struct cdata_holder {
  gfi_refcount ref;
  const gf_allocator *alloc;
  struct ArrowArray arr;
} cdata_holder;

/* Drops one reference; the last one releases the producer's array. */
static void cdata_holder_unref(void *owner) {
  cdata_holder *h = owner;
  if (gfi_ref_dec(&h->ref)) {
    if (h->arr.release != NULL) h->arr.release(&h->arr);
    gfi_mfree(h->alloc, h, sizeof *h);
  }
}

/* Everything one import call needs to build arrays. */
typedef struct cdata_ctx {
  cdata_holder *holder;
  const gf_allocator *alloc;
  gf_import_check check;
  gf_error *err;
  int64_t view_small_limit; /* see gfi_view_input.small_limit; 0 = default */
} cdata_ctx;

/* Fails with GF_EINVAL: "Arrow import of <where>: <message>". */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static gf_status cdata_reject(const cdata_ctx *c, const char *where,
                              const char *fmt, ...) {
  char msg[GF_ERROR_MESSAGE_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return gf_error_set(c->err, GF_EINVAL, "Arrow import of %s: %s", where, msg);
}

/* GF_ENOTSUP for a valid array of more than GF_MAX_ROWS rows. */
static gf_status too_long(const cdata_ctx *c, const char *where, int64_t len) {
  return gf_error_set(c->err, GF_ENOTSUP, "Arrow import of %s: length %lld is more than "
                      "GF_MAX_ROWS (2^40) rows", where, (long long)len);
}

/* Number of buffers in the Arrow C Data layout of `t`. */
static int cdata_arrow_n_buffers(gf_datatype t) {
  /* Arrow's null type has no buffers, not even a validity bitmap. */
  return t.id == GF_TYPE_NULL ? 0 : gfi_type_num_buffers(t);
}

/* Offset i of an offsets buffer (4 or 8 bytes wide), read without
 * assuming alignment. */
static int64_t cdata_load_offset(const void *p, int width, int64_t i) {
  if (width == 4) {
    int32_t v;
    memcpy(&v, (const char *)p + i * 4, 4);
    return v;
  }
  int64_t v;
  memcpy(&v, (const char *)p + i * 8, 8);
  return v;
}

/* Wraps producer memory as a buffer that keeps the holder alive. */
static gf_status cdata_wrap(cdata_ctx *c, const void *data, int64_t size,
                            gf_buffer **out) {
  gfi_ref_inc(&c->holder->ref);
  gf_status st = gfi_buffer_wrap_with(c->alloc, data, (size_t)size,
                                      cdata_holder_unref, c->holder, out);
  if (st != GF_OK) {
    /* We still hold our own reference, so this never drops the last one. */
    (void)gfi_ref_dec(&c->holder->ref);
    return GF_OOM(c->err, "an imported buffer wrapper");
  }
  return GF_OK;
}

/* Checks the pointer is aligned for `width`-byte loads by our kernels. */
static bool cdata_aligned(const void *p, int64_t width) {
  return width <= 1 || ((uintptr_t)p % (uintptr_t)width) == 0;
}

static gf_status cdata_import_node(cdata_ctx *c, const struct ArrowArray *arr,
                                   gf_datatype t, unsigned views,
                                   int64_t eff_offset, int64_t eff_length,
                                   const char *where, gf_array **out);

/* Bits of the `views` argument of cdata_import_node: the array itself, or
 * its dictionary, is a Utf8View/BinaryView to be converted. */
#define CDATA_VIEW 1u
#define CDATA_VIEW_DICT 2u

/* The view bits of a producer schema (NULL: none). */
static unsigned cdata_view_bits(const struct ArrowSchema *s) {
  if (s == NULL) return 0;
  unsigned v = gfi_cdata_format_is_view(s->format) ? CDATA_VIEW : 0;
  if (s->dictionary != NULL && gfi_cdata_format_is_view(s->dictionary->format))
    v |= CDATA_VIEW_DICT;
  return v;
}

/* Converts the rows [eff_offset, eff_offset + eff_length) of a producer
 * Utf8View/BinaryView array (buffers: validity, views, the variadic data
 * buffers, then their int64 sizes) into a new utf8/binary array, or
 * large_* when the bytes exceed int32 offsets; `validity` is NULL when the
 * range has no nulls. The producer's memory is not referenced afterwards. */
static gf_status cdata_import_view(cdata_ctx *c, const struct ArrowArray *arr,
                                   gf_datatype t, const uint8_t *validity,
                                   int64_t eff_offset, int64_t eff_length,
                                   const char *where, gf_array **out) {
  int64_t nvar = arr->n_buffers - 3;
  const int64_t *sizes_src = arr->buffers[arr->n_buffers - 1];
  if (eff_length > 0 && arr->buffers[1] == NULL)
    return cdata_reject(c, where, "buffer 1 (views) is NULL");
  if (nvar > 0 && sizes_src == NULL)
    return cdata_reject(c, where,
                        "buffer %lld (variadic buffer sizes) is NULL",
                        (long long)(arr->n_buffers - 1));
  int64_t *sizes = NULL;
  if (nvar > 0) {
    sizes = gfi_malloc(c->alloc, (size_t)nvar * sizeof *sizes);
    if (sizes == NULL) return GF_OOM(c->err, "view buffer sizes");
    memcpy(sizes, sizes_src, (size_t)nvar * sizeof *sizes);
  }
  char msg[GF_ERROR_MESSAGE_SIZE / 2];
  snprintf(msg, sizeof msg, "Arrow import of %s", where);
  gfi_view_input in = {validity,
                       arr->buffers[1],
                       eff_offset,
                       eff_length,
                       (const uint8_t *const *)(arr->buffers + 2),
                       sizes,
                       nvar,
                       t.id == GF_TYPE_UTF8 || t.id == GF_TYPE_LARGE_UTF8,
                       c->view_small_limit};
  gf_status st = gfi_view_convert(c->alloc, &in, msg, out, c->err);
  if (sizes) gfi_mfree(c->alloc, sizes, (size_t)nvar * sizeof *sizes);
  return st;
}

/* Builds an empty array of type t (fresh zeroed buffers) for a producer
 * array of length 0, whose buffers may legitimately be NULL. */
static gf_status cdata_make_empty(cdata_ctx *c, gf_datatype t, gf_array *dict,
                                  gf_array **out) {
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  int nb = cdata_arrow_n_buffers(t);
  for (int i = 1; i < nb; i++) {
    gf_status st = gf_buffer_new(c->alloc, 8, &bufs[i], c->err);
    if (st != GF_OK) {
      for (int k = 0; k < 3; k++) gf_buffer_release(bufs[k]);
      return st;
    }
  }
  return gfi_array_make(c->alloc, t, 0, 0, 0, bufs, dict, out, c->err);
}

/* Validates one producer array of type `t` and builds a gf_array over the
 * range [eff_offset, eff_offset + eff_length) of its buffers (the caller has
 * checked that range lies inside the array's own range). On failure nothing
 * built survives. */
static gf_status cdata_import_node(cdata_ctx *c, const struct ArrowArray *arr,
                                   gf_datatype t, unsigned views,
                                   int64_t eff_offset, int64_t eff_length,
                                   const char *where, gf_array **out) {
  if (arr == NULL) return cdata_reject(c, where, "the ArrowArray is NULL");
  if (arr->release == NULL)
    return cdata_reject(c, where, "the ArrowArray is released");
  const int64_t len = arr->length, off = arr->offset;
  if (len < 0) return cdata_reject(c, where, "length %lld is negative", (long long)len);
  if (off < 0) return cdata_reject(c, where, "offset %lld is negative", (long long)off);
  if (off > INT64_MAX - len)
    return cdata_reject(c, where, "offset %lld + length %lld overflows",
                        (long long)off, (long long)len);
  const int64_t end = off + len; /* own extent in elements */
  int nb = cdata_arrow_n_buffers(t);
  char tname[96];
  gf_type_format(t, tname, sizeof tname);
  const bool view = (views & CDATA_VIEW) != 0;
  if (view && (arr->n_buffers < 3 || arr->n_buffers > INT32_MAX))
    return cdata_reject(c, where,
                        "n_buffers is %lld, but a view type needs 3 or more "
                        "(validity, views, data buffers, their sizes)",
                        (long long)arr->n_buffers);
  /* Polars exports a null column with one (validity) buffer where the
   * spec's null layout has none; Arrow C++ accepts it, and so do we (a null
   * column has nothing to read from it). */
  const bool lenient_null = t.id == GF_TYPE_NULL && arr->n_buffers == 1;
  if (!view && arr->n_buffers != nb && !lenient_null)
    return cdata_reject(c, where, "n_buffers is %lld, but type %s needs %d",
                        (long long)arr->n_buffers, tname, nb);
  if (nb > 0 && arr->buffers == NULL)
    return cdata_reject(c, where, "the buffers pointer is NULL");
  if (arr->n_children != 0)
    return cdata_reject(c, where, "n_children is %lld, but type %s has none",
                        (long long)arr->n_children, tname);
  bool is_dict = t.id == GF_TYPE_DICTIONARY;
  if (is_dict && arr->dictionary == NULL)
    return cdata_reject(c, where, "dictionary type but the dictionary is NULL");
  if (!is_dict && arr->dictionary != NULL)
    return cdata_reject(c, where, "non-dictionary type %s but a dictionary is set",
                        tname);

  /* A well-formed array longer than a frame may be is refused as
   * unsupported (checked once its layout is known to be valid, so malformed
   * claims stay GF_EINVAL). */
  if (t.id == GF_TYPE_NULL && len > GF_MAX_ROWS) return too_long(c, where, len);
  if (t.id == GF_TYPE_NULL) {
    gf_buffer *none[3] = {NULL, NULL, NULL};
    return gfi_array_make(c->alloc, t, eff_length, 0, eff_length, none, NULL,
                          out, c->err);
  }

  /* Null count: -1 means "compute it"; otherwise it must match the bitmap. */
  int64_t nc = arr->null_count;
  const uint8_t *validity = arr->buffers[0];
  if (nc < -1 || nc > len)
    return cdata_reject(c, where, "null_count %lld is outside [-1, length %lld]",
                        (long long)nc, (long long)len);
  if (validity == NULL) {
    if (nc > 0)
      return cdata_reject(c, where,
                          "null_count is %lld but the validity buffer is NULL",
                          (long long)nc);
    nc = 0;
  } else if (nc != 0) {
    int64_t counted = len - gfi_bitmap_count(validity, off, len);
    if (nc != -1 && nc != counted)
      return cdata_reject(c, where,
                          "null_count is %lld but the validity bitmap has %lld "
                          "nulls",
                          (long long)nc, (long long)counted);
    nc = counted;
  }
  int64_t eff_nc = nc;
  if (nc > 0 && (eff_offset != off || eff_length != len))
    eff_nc = eff_length - gfi_bitmap_count(validity, eff_offset, eff_length);
  if (eff_nc == 0) validity = NULL;

  if (view) {
    if (len > GF_MAX_ROWS) return too_long(c, where, len);
    return cdata_import_view(c, arr, t, validity, eff_offset, eff_length, where,
                             out);
  }

  /* Buffer 1 and, for variable width, buffer 2: presence, alignment, size. */
  const void *b1 = arr->buffers[1];
  const void *b2 = nb > 2 ? arr->buffers[2] : NULL;
  int64_t b1_size = 0, b2_size = 0;
  int64_t width = gfi_type_byte_width(t);
  bool var = gfi_type_is_var_width(t.id);
  int ow = gfi_type_is_large(t.id) ? 8 : 4;
  if (len > 0) {
    if (var) {
      if (end > INT64_MAX / ow - 1)
        return cdata_reject(c, where, "offsets buffer size overflows (%lld offsets)",
                            (long long)end);
      if (b1 == NULL) return cdata_reject(c, where, "buffer 1 (offsets) is NULL");
      if (!cdata_aligned(b1, ow))
        return cdata_reject(c, where,
                            "buffer 1 (offsets) is not aligned to %d bytes", ow);
      b1_size = (end + 1) * ow;
      int64_t prev = cdata_load_offset(b1, ow, off);
      if (prev < 0)
        return cdata_reject(c, where, "offsets: first offset %lld at index 0 is "
                            "negative", (long long)prev);
      for (int64_t i = off + 1; i <= end; i++) {
        int64_t o = cdata_load_offset(b1, ow, i);
        if (o < prev)
          return cdata_reject(c, where,
                              "offsets: not monotonic at index %lld (%lld after "
                              "%lld)",
                              (long long)(i - off), (long long)o, (long long)prev);
        prev = o;
      }
      b2_size = prev;
      if (b2 == NULL && b2_size > 0)
        return cdata_reject(c, where,
                            "buffer 2 (data) is NULL but the last offset is %lld",
                            (long long)b2_size);
    } else {
      if (b1 == NULL) return cdata_reject(c, where, "buffer 1 (values) is NULL");
      if (t.id == GF_TYPE_BOOL) {
        b1_size = gfi_bitmap_bytes(end);
      } else {
        if (width <= 0 || end > INT64_MAX / width)
          return cdata_reject(c, where, "values buffer size overflows (%lld x %lld)",
                              (long long)end, (long long)width);
        /* Decimals are read with memcpy, so any alignment is accepted. */
        int64_t align = t.id == GF_TYPE_FIXED_SIZE_BINARY ||
                                t.id == GF_TYPE_DECIMAL128 ||
                                t.id == GF_TYPE_DECIMAL256
                            ? 1
                            : width;
        if (!cdata_aligned(b1, align))
          return cdata_reject(c, where,
                              "buffer 1 (values) is not aligned to %lld bytes",
                              (long long)align);
        b1_size = end * width;
      }
    }
  }

  if (len > GF_MAX_ROWS) return too_long(c, where, len);

  /* Dictionary values first (their length bounds the codes). */
  gf_array *dict = NULL;
  if (is_dict) {
    char dwhere[GF_ERROR_MESSAGE_SIZE / 2];
    snprintf(dwhere, sizeof dwhere, "%s (dictionary)", where);
    const struct ArrowArray *d = arr->dictionary;
    int64_t doff = d->offset, dlen = d->length;
    GF_RETURN_NOT_OK(cdata_import_node(c, d, gf_type_value(t),
                                       (views & CDATA_VIEW_DICT) ? CDATA_VIEW : 0,
                                       doff, dlen, dwhere, &dict));
    if (dict->type.id != gf_type_value(t).id) {
      gf_array_release(dict);
      return gf_error_set(c->err, GF_ENOTSUP,
                          "Arrow import of %s: the dictionary's view values "
                          "hold more than 2^31-1 bytes (a dictionary of "
                          "large strings is not supported)",
                          where);
    }
    if (len > 0) {
      int64_t dn = dict->length;
      for (int64_t i = eff_offset; i < eff_offset + eff_length; i++) {
        if (validity != NULL && !gfi_bit_get(validity, i)) continue;
        int32_t code;
        memcpy(&code, (const char *)b1 + i * 4, 4);
        if (code < 0 || code >= dn) {
          gf_array_release(dict);
          return cdata_reject(c, where,
                              "dictionary code %d at index %lld is outside the "
                              "dictionary [0, %lld)",
                              (int)code, (long long)(i - eff_offset),
                              (long long)dn);
        }
      }
    }
  }

  if (c->check == GF_IMPORT_CHECK_FULL && len > 0 &&
      (t.id == GF_TYPE_UTF8 || t.id == GF_TYPE_LARGE_UTF8)) {
    for (int64_t i = eff_offset; i < eff_offset + eff_length; i++) {
      if (validity != NULL && !gfi_bit_get(validity, i)) continue;
      int64_t s = cdata_load_offset(b1, ow, i);
      int64_t e = cdata_load_offset(b1, ow, i + 1);
      if (e == s) continue;
      int64_t bad = gfi_utf8_error_at((const uint8_t *)b2 + s, e - s);
      if (bad >= 0)
        return cdata_reject(c, where,
                            "utf8: invalid UTF-8 in string at index %lld (byte "
                            "%lld)",
                            (long long)(i - eff_offset), (long long)bad);
    }
  }

  if (len == 0) {
    gf_status st = cdata_make_empty(c, t, dict, out);
    gf_array_release(dict);
    return st;
  }

  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  gf_status st = GF_OK;
  if (validity != NULL)
    st = cdata_wrap(c, validity, gfi_bitmap_bytes(end), &bufs[0]);
  if (st == GF_OK) st = cdata_wrap(c, b1, b1_size, &bufs[1]);
  if (st == GF_OK && var) {
    if (b2 != NULL)
      st = cdata_wrap(c, b2, b2_size, &bufs[2]);
    else
      st = gf_buffer_new(c->alloc, 8, &bufs[2], c->err);
  }
  if (st != GF_OK) {
    for (int k = 0; k < 3; k++) gf_buffer_release(bufs[k]);
    gf_array_release(dict);
    return st;
  }
  st = gfi_array_make(c->alloc, t, eff_length, eff_offset, eff_nc, bufs, dict,
                      out, c->err);
  gf_array_release(dict);
  return st;
}

/* Creates the holder for a producer array (copied, not yet moved). */
static gf_status cdata_holder_new(const gf_allocator *a,
                                  const struct ArrowArray *arr,
                                  cdata_holder **out, gf_error *err) {
  cdata_holder *h = gfi_calloc(a, sizeof *h);
  if (h == NULL) return GF_OOM(err, "an Arrow import holder");
  gfi_ref_init(&h->ref);
  h->alloc = a;
  h->arr = *arr;
  *out = h;
  return GF_OK;
}

/* Ends an import: on success the producer's struct is marked moved; on
 * failure the holder forgets the producer's release so nothing of the
 * producer is touched. Then our own reference is dropped. */
static void cdata_holder_finish(cdata_holder *h, struct ArrowArray *producer,
                                bool ok) {
  if (ok)
    producer->release = NULL;
  else
    h->arr.release = NULL;
  cdata_holder_unref(h);
}

gf_status gfi_cdata_import_array(struct ArrowArray *array,
                                 const struct ArrowSchema *schema,
                                 gf_import_check check,
                                 const gf_allocator *alloc,
                                 int64_t view_small_limit, gf_array **out,
                                 gf_error *err) {
  if (array == NULL || schema == NULL || out == NULL)
    return gf_error_set(err, GF_EINVAL,
                        "array, schema and out must not be NULL");
  if (array->release == NULL)
    return gf_error_set(err, GF_EINVAL,
                        "Arrow import of array: the ArrowArray is released");
  char where[GF_ERROR_MESSAGE_SIZE / 2];
  if (schema->name != NULL && schema->name[0] != '\0')
    snprintf(where, sizeof where, "field '%s'", schema->name);
  else
    snprintf(where, sizeof where, "array");
  gf_datatype t;
  gf_error sub;
  gf_error_clear(&sub);
  gf_status st = gf_type_import(schema, &t, &sub);
  if (st != GF_OK)
    return gf_error_set(err, st, "Arrow import of %s: %s", where, sub.message);
  alloc = gfi_alloc_or_default(alloc);
  cdata_holder *h = NULL;
  GF_RETURN_NOT_OK(cdata_holder_new(alloc, array, &h, err));
  cdata_ctx c = {h, alloc, check, err, view_small_limit};
  gf_array *res = NULL;
  st = cdata_import_node(&c, &h->arr, t, cdata_view_bits(schema), array->offset,
                         array->length, where, &res);
  cdata_holder_finish(h, array, st == GF_OK);
  if (st == GF_OK) *out = res;
  return st;
}

/* Imports an array through allocator `alloc`; see cdata.h. */
GF_API gf_status gf_array_import_with(struct ArrowArray *array,
                                      const struct ArrowSchema *schema,
                                      gf_import_check check,
                                      const gf_allocator *alloc, gf_array **out,
                                      gf_error *err) {
  return gfi_cdata_import_array(array, schema, check, alloc, 0, out, err);
}

/* Imports an array with the default allocator; see cdata.h. */
GF_API gf_status gf_array_import(struct ArrowArray *array,
                                 const struct ArrowSchema *schema,
                                 gf_import_check check, gf_array **out,
                                 gf_error *err) {
  return gf_array_import_with(array, schema, check, NULL, out, err);
}

gf_status gfi_cdata_import_batch(struct ArrowArray *batch, const gf_schema *s,
                                 const struct ArrowSchema *arrow_schema,
                                 gf_import_check check, const gf_allocator *a,
                                 gf_array **columns, gf_error *err) {
  a = gfi_alloc_or_default(a);
  cdata_ctx c0 = {NULL, a, check, err, 0};
  const char *bw = "record batch";
  if (batch->release == NULL) return cdata_reject(&c0, bw, "the ArrowArray is released");
  int n = s->n;
  const int64_t len = batch->length, off = batch->offset;
  if (len < 0) return cdata_reject(&c0, bw, "length %lld is negative", (long long)len);
  if (off < 0) return cdata_reject(&c0, bw, "offset %lld is negative", (long long)off);
  if (off > INT64_MAX - len)
    return cdata_reject(&c0, bw, "offset %lld + length %lld overflows",
                        (long long)off, (long long)len);
  if (batch->n_buffers != 1)
    return cdata_reject(&c0, bw, "n_buffers is %lld, but a struct needs 1",
                        (long long)batch->n_buffers);
  if (batch->buffers == NULL)
    return cdata_reject(&c0, bw, "the buffers pointer is NULL");
  if (batch->n_children != n)
    return cdata_reject(&c0, bw, "n_children is %lld, but the schema has %d fields",
                        (long long)batch->n_children, n);
  if (n > 0 && batch->children == NULL)
    return cdata_reject(&c0, bw, "the children pointer is NULL");
  if (batch->dictionary != NULL)
    return cdata_reject(&c0, bw, "a struct has no dictionary");
  if (batch->null_count < -1 || batch->null_count > len)
    return cdata_reject(&c0, bw, "null_count %lld is outside [-1, length %lld]",
                        (long long)batch->null_count, (long long)len);
  const uint8_t *sv = batch->buffers[0];
  if (batch->null_count != 0) {
    int64_t nulls = sv == NULL ? (batch->null_count > 0 ? batch->null_count : 0)
                               : len - gfi_bitmap_count(sv, off, len);
    if (nulls > 0)
      return cdata_reject(&c0, bw,
                          "null_count: %lld struct-level nulls (a record batch "
                          "has none)",
                          (long long)nulls);
  }
  for (int i = 0; i < n; i++) {
    const struct ArrowArray *ch = batch->children[i];
    const gf_field *fl = &s->fields[i];
    char where[GF_ERROR_MESSAGE_SIZE / 2];
    snprintf(where, sizeof where, "column %d '%s'", i, fl->name);
    if (ch == NULL) return cdata_reject(&c0, where, "the ArrowArray is NULL");
    if (ch->length < off + len)
      return cdata_reject(&c0, where,
                          "length %lld is shorter than the record batch "
                          "(offset %lld + length %lld)",
                          (long long)ch->length, (long long)off, (long long)len);
    if (ch->offset < 0 || ch->offset > INT64_MAX - ch->length)
      return cdata_reject(&c0, where, "offset %lld is invalid",
                          (long long)ch->offset);
  }

  cdata_holder *h = NULL;
  GF_RETURN_NOT_OK(cdata_holder_new(a, batch, &h, err));
  cdata_ctx c = {h, a, check, err, 0};
  gf_status st = GF_OK;
  int built = 0;
  for (int i = 0; i < n && st == GF_OK; i++) {
    const struct ArrowArray *ch = batch->children[i];
    char where[GF_ERROR_MESSAGE_SIZE / 2];
    snprintf(where, sizeof where, "column %d '%s'", i, s->fields[i].name);
    unsigned views = 0;
    if (arrow_schema != NULL && i < arrow_schema->n_children)
      views = cdata_view_bits(arrow_schema->children[i]);
    st = cdata_import_node(&c, ch, s->fields[i].type, views, ch->offset + off,
                           len, where, &columns[i]);
    if (st == GF_OK) built++;
  }
  if (st != GF_OK) {
    for (int i = 0; i < built; i++) {
      gf_array_release(columns[i]);
      columns[i] = NULL;
    }
  }
  cdata_holder_finish(h, batch, st == GF_OK);
  return st;
}
