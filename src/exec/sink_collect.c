/*
 * The collect sink (exec/stream_internal.h): keeps every batch it is given
 * (zero-copy, in input order: the driver pushes in order) and makes one
 * frame at the end. Dictionary columns are rebuilt over the final
 * frame-wide dictionary (each batch's own is a prefix of it: codes are
 * stable), so the result has one dictionary per column, as a whole read.
 */
#include <string.h>

#include "data/array_internal.h"
#include "exec/stream_internal.h"

typedef struct collect {
  const gf_allocator *a;
  gf_schema *schema;
  int ncols;
  gf_array **cols; /* nb x ncols */
  int64_t nb, cap;
  gf_array **dicts; /* ncols */
} collect;

static void collect_free(gfi_sink *k) {
  if (!k) return;
  collect *c = k->state;
  if (c) {
    for (int64_t i = 0; i < c->nb * c->ncols; i++) gf_array_release(c->cols[i]);
    if (c->cols) gfi_mfree(c->a, c->cols, sizeof *c->cols * (size_t)(c->cap * c->ncols));
    for (int i = 0; c->dicts && i < c->ncols; i++) gf_array_release(c->dicts[i]);
    if (c->dicts) gfi_mfree(c->a, c->dicts, sizeof *c->dicts * (size_t)(c->ncols ? c->ncols : 1));
    gf_schema_release(c->schema);
    gfi_mfree(c->a, c, sizeof *c);
  }
  gfi_mfree(NULL, k, sizeof *k);
}

/* Keeps the batch's arrays (the position is implied: batches come in
 * order). */
static gf_status collect_push(gfi_sink *k, const gf_frame *f, int64_t pos, gf_error *err) {
  (void)pos;
  collect *c = k->state;
  int nb = gf_frame_num_batches(f);
  for (int b = 0; b < nb; b++) {
    if (gf_frame_batch_rows(f, b) == 0) continue;
    if (c->nb == c->cap) {
      int64_t cap = c->cap ? c->cap * 2 : 16;
      size_t w = (size_t)(c->ncols ? c->ncols : 1);
      gf_array **n = gfi_calloc(c->a, sizeof *n * (size_t)cap * w);
      if (!n) return GF_OOM(err, "collected batches");
      if (c->cols) {
        memcpy(n, c->cols, sizeof *n * (size_t)(c->nb * c->ncols));
        gfi_mfree(c->a, c->cols, sizeof *n * (size_t)c->cap * w);
      }
      c->cols = n;
      c->cap = cap;
    }
    for (int j = 0; j < c->ncols; j++)
      c->cols[c->nb * c->ncols + j] = gf_array_retain(gf_frame_column(f, b, j));
    c->nb++;
  }
  return GF_OK;
}

/* Array `x` over dictionary `d` (buffers shared). */
static gf_status redict(const gf_allocator *a, const gf_array *x, gf_array *d, gf_array **out,
                        gf_error *err) {
  gf_buffer *b[3] = {gf_buffer_retain(x->buffers[0]), gf_buffer_retain(x->buffers[1]), NULL};
  return gfi_array_make(a, x->type, x->length, x->offset, x->null_count, b, d, out,
                        err);
}

static gf_status collect_finish(gfi_sink *k, gf_frame **out, gf_error *err) {
  collect *c = k->state;
  if (c->nb > INT32_MAX) return gf_error_set(err, GF_ENOTSUP, "collect: too many batches");
  for (int j = 0; j < c->ncols; j++) {
    if (!c->dicts[j]) continue;
    for (int64_t b = 0; b < c->nb; b++) {
      gf_array **slot = &c->cols[b * c->ncols + j];
      if ((*slot)->dictionary == c->dicts[j]) continue;
      gf_array *n = NULL;
      GF_RETURN_NOT_OK(redict(c->a, *slot, c->dicts[j], &n, err));
      gf_array_release(*slot);
      *slot = n;
    }
  }
  return gf_frame_new(c->schema, c->cols, (int)c->nb, c->a, out, err);
}

void gfi_sink_collect_set_dictionary(gfi_sink *k, int col, gf_array *dict) {
  collect *c = k->state;
  if (col < 0 || col >= c->ncols || !dict) return;
  gf_array_release(c->dicts[col]);
  c->dicts[col] = gf_array_retain(dict);
}

gf_status gfi_sink_collect(const gf_schema *schema, const gf_allocator *a, gfi_sink **out,
                           gf_error *err) {
  a = gfi_alloc_or_default(a);
  gfi_sink *k = gfi_calloc(NULL, sizeof *k);
  collect *c = gfi_calloc(a, sizeof *c);
  int n = gf_schema_num_fields(schema);
  gf_array **d = gfi_calloc(a, sizeof *d * (size_t)(n ? n : 1));
  if (!k || !c || !d) {
    if (k) gfi_mfree(NULL, k, sizeof *k);
    if (c) gfi_mfree(a, c, sizeof *c);
    if (d) gfi_mfree(a, d, sizeof *d * (size_t)(n ? n : 1));
    return GF_OOM(err, "a collect sink");
  }
  c->a = a;
  c->schema = gf_schema_retain((gf_schema *)schema);
  c->ncols = n;
  c->dicts = d;
  k->state = c;
  k->push = collect_push;
  k->finish = collect_finish;
  k->free = collect_free;
  k->finish_into = NULL;
  *out = k;
  return GF_OK;
}
