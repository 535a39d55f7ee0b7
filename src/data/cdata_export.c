/*
 * Arrow C Data Interface: zero-copy export of arrays and record batches.
 * Each exported ArrowArray holds references to the buffers it points at (and
 * its dictionary's export), so the data outlives the source array and frame.
 */
#include <stddef.h>
#include <string.h>

#include "data/cdata_internal.h"
#include "data/view_internal.h"

/* Private data of every ArrowArray we export. */
typedef struct cdata_array_priv {
  const gf_allocator *alloc;
  gf_buffer *bufs[3];
  const void *ptrs[3];
  int64_t n_children;   /* child structs allocated */
  int64_t children_cap; /* entries of `children` */
  struct ArrowArray **children;
  struct ArrowArray *dictionary;
  /* A view export (GF_EXPORT_STRING_VIEWS): the buffer pointers (validity,
   * views, the data windows, their sizes) and the windows' sizes, or NULL. */
  const void **view_ptrs;
  int64_t *view_sizes;
  int64_t n_windows;
} cdata_array_priv;

/* Release callback (Arrow spec): releases the children and dictionary that
 * were not moved away, drops our buffer references, marks the struct
 * released. Safe on a moved struct: it only uses private_data. */
static void cdata_array_release(struct ArrowArray *arr) {
  if (arr == NULL || arr->release == NULL) return;
  cdata_array_priv *p = arr->private_data;
  const gf_allocator *a = p->alloc;
  for (int64_t i = 0; i < p->n_children; i++) {
    struct ArrowArray *c = p->children[i];
    if (c->release != NULL) c->release(c);
    gfi_mfree(a, c, sizeof *c);
  }
  if (p->children != NULL)
    gfi_mfree(a, p->children, sizeof *p->children * (size_t)p->children_cap);
  if (p->dictionary != NULL) {
    if (p->dictionary->release != NULL) p->dictionary->release(p->dictionary);
    gfi_mfree(a, p->dictionary, sizeof *p->dictionary);
  }
  for (int i = 0; i < 3; i++) gf_buffer_release(p->bufs[i]);
  if (p->view_ptrs != NULL)
    gfi_mfree(a, p->view_ptrs, (size_t)(p->n_windows + 3) * sizeof *p->view_ptrs);
  if (p->view_sizes != NULL)
    gfi_mfree(a, p->view_sizes,
              (size_t)gfi_at_least_1((size_t)p->n_windows) * sizeof *p->view_sizes);
  gfi_mfree(a, p, sizeof *p);
  arr->release = NULL;
  arr->private_data = NULL;
}

/* Allocates an exported ArrowArray's private data with `n_children` child
 * structs and optionally a dictionary struct (all in released state). */
static gf_status cdata_array_init(const gf_allocator *a, int64_t n_children,
                                  bool with_dictionary, struct ArrowArray *out,
                                  gf_error *err) {
  cdata_array_priv *p = gfi_calloc(a, sizeof *p);
  if (p == NULL) return GF_OOM(err, "an exported ArrowArray");
  p->alloc = a;
  struct ArrowArray tmp = {0};
  tmp.release = cdata_array_release;
  tmp.private_data = p;
  tmp.buffers = p->ptrs;
  if (n_children > 0) {
    p->children = gfi_calloc(a, sizeof *p->children * (size_t)n_children);
    if (p->children == NULL) {
      cdata_array_release(&tmp);
      return GF_OOM(err, "exported ArrowArray children");
    }
    p->children_cap = n_children;
    for (int64_t i = 0; i < n_children; i++) {
      p->children[i] = gfi_calloc(a, sizeof(struct ArrowArray));
      if (p->children[i] == NULL) {
        cdata_array_release(&tmp);
        return GF_OOM(err, "an exported ArrowArray child");
      }
      p->n_children = i + 1;
    }
  }
  if (with_dictionary) {
    p->dictionary = gfi_calloc(a, sizeof *p->dictionary);
    if (p->dictionary == NULL) {
      cdata_array_release(&tmp);
      return GF_OOM(err, "an exported ArrowArray dictionary");
    }
  }
  tmp.n_children = n_children;
  tmp.children = p->children;
  tmp.dictionary = p->dictionary;
  *out = tmp;
  return GF_OK;
}

/* Number of buffers in the Arrow C Data layout of `t`. */
static int cdata_arrow_n_buffers(gf_datatype t) {
  switch (t.id) {
    case GF_TYPE_NULL: return 0;
    case GF_TYPE_UTF8:
    case GF_TYPE_LARGE_UTF8:
    case GF_TYPE_BINARY:
    case GF_TYPE_LARGE_BINARY: return 3;
    default: return 2;
  }
}

/* Exports the utf8/binary (or large_*) array `arr` as a Utf8View or
 * BinaryView into `out`, whose private data `p` is fresh: a views buffer is
 * built, the string bytes are shared zero-copy as one data buffer per
 * window (view_internal.h), the last buffer holds the windows' sizes. */
static gf_status cdata_export_views(const gf_allocator *a, const gf_array *arr,
                                    cdata_array_priv *p, struct ArrowArray *out,
                                    gf_error *err) {
  gf_buffer *views = NULL;
  const uint8_t **starts = NULL;
  int64_t *sizes = NULL, nw = 0;
  GF_RETURN_NOT_OK(gfi_view_build(a, arr, gfi_cdata_view_window_max, &views,
                                  &starts, &sizes, &nw, err));
  size_t nsz = gfi_at_least_1((size_t)nw);
  const void **ptrs = gfi_calloc(a, (size_t)(nw + 3) * sizeof *ptrs);
  int64_t *psz = gfi_calloc(a, nsz * sizeof *psz);
  if (ptrs == NULL || psz == NULL) {
    if (ptrs) gfi_mfree(a, ptrs, (size_t)(nw + 3) * sizeof *ptrs);
    if (psz) gfi_mfree(a, psz, nsz * sizeof *psz);
    if (nw > 0) {
      gfi_mfree(a, starts, (size_t)nw * sizeof *starts);
      gfi_mfree(a, sizes, (size_t)nw * sizeof *sizes);
    }
    gf_buffer_release(views);
    return GF_OOM(err, "exported view buffers");
  }
  if (arr->null_count > 0 && arr->buffers[0] != NULL) {
    p->bufs[0] = gf_buffer_retain(arr->buffers[0]);
    ptrs[0] = gf_buffer_data(arr->buffers[0]);
  }
  p->bufs[1] = views;
  ptrs[1] = gf_buffer_data(views);
  p->bufs[2] = gf_buffer_retain(arr->buffers[2]); /* keeps the windows alive */
  for (int64_t w = 0; w < nw; w++) {
    ptrs[2 + w] = starts[w];
    psz[w] = sizes[w];
  }
  ptrs[2 + nw] = psz;
  if (nw > 0) {
    gfi_mfree(a, starts, (size_t)nw * sizeof *starts);
    gfi_mfree(a, sizes, (size_t)nw * sizeof *sizes);
  }
  p->view_ptrs = ptrs;
  p->view_sizes = psz;
  p->n_windows = nw;
  out->buffers = ptrs;
  out->n_buffers = nw + 3;
  /* The views are built for the array's own rows, from row 0. */
  out->length = arr->length;
  out->offset = 0;
  out->null_count = arr->null_count;
  /* The validity bitmap is the array's, which starts at its offset. */
  if (arr->offset != 0 && ptrs[0] != NULL) {
    gf_buffer *vb = NULL;
    if (gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(arr->length), &vb) != GF_OK)
      return GF_OOM(err, "an exported validity bitmap");
    gfi_bitmap_copy(gf_buffer_mutable_data(vb), 0, gf_buffer_data(arr->buffers[0]),
                    arr->offset, arr->length);
    gf_buffer_release(p->bufs[0]);
    p->bufs[0] = vb;
    ptrs[0] = gf_buffer_data(vb);
  }
  return GF_OK;
}

int64_t gfi_cdata_view_window_max = 0;

/* Exports `arr` (and its dictionary) into `out` through allocator `a`;
 * `flags` are gf_cdata_export_options flags. */
static gf_status cdata_export_array(const gf_allocator *a, const gf_array *arr,
                                    unsigned flags, struct ArrowArray *out,
                                    gf_error *err) {
  bool is_dict = arr->type.id == GF_TYPE_DICTIONARY;
  if (is_dict && arr->dictionary == NULL)
    return gf_error_set(err, GF_EINTERNAL, "dictionary array without dictionary");
  struct ArrowArray tmp;
  GF_RETURN_NOT_OK(cdata_array_init(a, 0, is_dict, &tmp, err));
  cdata_array_priv *p = tmp.private_data;
  if ((flags & GF_EXPORT_STRING_VIEWS) && gfi_type_is_var_width(arr->type.id)) {
    gf_status st = cdata_export_views(a, arr, p, &tmp, err);
    if (st != GF_OK) {
      tmp.release(&tmp);
      return st;
    }
    *out = tmp;
    return GF_OK;
  }
  int nb = cdata_arrow_n_buffers(arr->type);
  for (int i = 0; i < nb; i++) {
    gf_buffer *b = arr->buffers[i];
    /* Our arrays have no validity buffer without nulls; never export one
     * then, so consumers take their no-null fast path. */
    if (i == 0 && arr->null_count == 0) b = NULL;
    if (b != NULL) {
      p->bufs[i] = gf_buffer_retain(b);
      p->ptrs[i] = gf_buffer_data(b);
    }
  }
  tmp.length = arr->length;
  tmp.offset = arr->offset;
  tmp.null_count = arr->type.id == GF_TYPE_NULL ? arr->length : arr->null_count;
  tmp.n_buffers = nb;
  if (is_dict) {
    gf_status st = cdata_export_array(a, arr->dictionary, flags, tmp.dictionary, err);
    if (st != GF_OK) {
      tmp.release(&tmp);
      return st;
    }
  }
  *out = tmp;
  return GF_OK;
}

/* Sets *o to the defaults (no flags). */
GF_API void gf_cdata_export_options_init(gf_cdata_export_options *o) {
  if (o == NULL) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
}

/* The flags of possibly NULL or older (smaller) options. */
static unsigned cdata_export_flags(const gf_cdata_export_options *o) {
  if (o == NULL || o->size < offsetof(gf_cdata_export_options, flags) + sizeof o->flags)
    return 0;
  return o->flags;
}

/* Exports an array with options; see cdata.h. Private data is allocated
 * with the array's own allocator. */
GF_API gf_status gf_array_export_with(const gf_array *a,
                                      const gf_cdata_export_options *o,
                                      struct ArrowArray *out_array,
                                      struct ArrowSchema *out_schema,
                                      gf_error *err) {
  if (a == NULL || out_array == NULL)
    return gf_error_set(err, GF_EINVAL, "array and out_array must not be NULL");
  const gf_allocator *alloc = gfi_alloc_or_default(a->allocator);
  unsigned flags = cdata_export_flags(o);
  struct ArrowArray arr;
  GF_RETURN_NOT_OK(cdata_export_array(alloc, a, flags, &arr, err));
  if (out_schema != NULL) {
    struct ArrowSchema sch;
    gf_status st = gfi_cdata_type_export(alloc, a->type, NULL, true, flags, &sch, err);
    if (st != GF_OK) {
      arr.release(&arr);
      return st;
    }
    *out_schema = sch;
  }
  *out_array = arr;
  return GF_OK;
}

/* Exports an array zero-copy; see cdata.h. */
GF_API gf_status gf_array_export(const gf_array *a, struct ArrowArray *out_array,
                                 struct ArrowSchema *out_schema, gf_error *err) {
  return gf_array_export_with(a, NULL, out_array, out_schema, err);
}

gf_status gfi_cdata_export_batch(const gf_allocator *a, const gf_frame *f,
                                 int batch, unsigned flags,
                                 struct ArrowArray *out, gf_error *err) {
  if (batch < 0 || batch >= f->num_batches)
    return gf_error_set(err, GF_EINVAL, "batch %d out of range (frame has %d)",
                        batch, f->num_batches);
  int ncols = f->schema->n;
  struct ArrowArray tmp;
  GF_RETURN_NOT_OK(cdata_array_init(a, ncols, false, &tmp, err));
  for (int c = 0; c < ncols; c++) {
    const gf_array *col = f->columns[(size_t)batch * (size_t)ncols + (size_t)c];
    gf_status st = cdata_export_array(a, col, flags, tmp.children[c], err);
    if (st != GF_OK) {
      tmp.release(&tmp);
      return st;
    }
  }
  tmp.length = f->batch_offsets[batch + 1] - f->batch_offsets[batch];
  tmp.null_count = 0;
  tmp.offset = 0;
  tmp.n_buffers = 1; /* the struct's validity: none */
  *out = tmp;
  return GF_OK;
}

/* Exports one batch with options; see cdata.h. */
GF_API gf_status gf_frame_export_batch_with(const gf_frame *f, int batch,
                                            const gf_cdata_export_options *o,
                                            struct ArrowArray *out_array,
                                            struct ArrowSchema *out_schema,
                                            gf_error *err) {
  if (f == NULL || out_array == NULL)
    return gf_error_set(err, GF_EINVAL, "frame and out_array must not be NULL");
  const gf_allocator *alloc = gfi_alloc_or_default(f->allocator);
  unsigned flags = cdata_export_flags(o);
  struct ArrowArray arr;
  GF_RETURN_NOT_OK(gfi_cdata_export_batch(alloc, f, batch, flags, &arr, err));
  if (out_schema != NULL) {
    struct ArrowSchema sch;
    gf_status st = gfi_cdata_schema_export(alloc, f->schema, flags, &sch, err);
    if (st != GF_OK) {
      arr.release(&arr);
      return st;
    }
    *out_schema = sch;
  }
  *out_array = arr;
  return GF_OK;
}

/* Exports one batch as a struct ArrowArray; see cdata.h. */
GF_API gf_status gf_frame_export_batch(const gf_frame *f, int batch,
                                       struct ArrowArray *out_array,
                                       struct ArrowSchema *out_schema,
                                       gf_error *err) {
  return gf_frame_export_batch_with(f, batch, NULL, out_array, out_schema, err);
}
