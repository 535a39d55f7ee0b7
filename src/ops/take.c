/*
 * Taking rows by 64-bit frame row numbers: the gather step of sort and
 * join. Unlike gfi_gather (32-bit indices into one array), an index here
 * may point into any batch of the frame, and -1 stands for a null row (the
 * unmatched side of an outer join).
 */
#include <string.h>

#include "data/builder_internal.h"
#include "exec/exec_internal.h"
#include "ops/sort_join_internal.h"

/* Where row `r` of the frame lives: array and row within it. */
typedef struct src_ref {
  const gf_array *arr;
  int64_t i;
} src_ref;

static inline src_ref locate(const gf_frame *f, int col, int64_t r) {
  int b = f->num_batches == 1 ? 0 : gfi_row_batch(f, r);
  src_ref s = {f->columns[(size_t)b * (size_t)f->schema->n + (size_t)col],
               r - f->batch_offsets[b]};
  return s;
}

/* Copies fixed-width values of C type T. */
#define TAKE_FIXED(T)                                                         \
  do {                                                                        \
    T *d_ = (T *)dst;                                                         \
    if (single) {                                                             \
      const gf_array *s0 = f->columns[(size_t)col];                           \
      const T *sv = (const T *)gfi_buf(s0, 1) + s0->offset;                   \
      for (int64_t j = 0; j < n; j++)                                         \
        if (idx[j] >= 0) d_[j] = sv[idx[j]];                                  \
    } else {                                                                  \
      for (int64_t j = 0; j < n; j++) {                                       \
        if (idx[j] < 0) continue;                                             \
        src_ref s = locate(f, col, idx[j]);                                   \
        d_[j] = ((const T *)gfi_buf(s.arr, 1))[s.arr->offset + s.i];          \
      }                                                                       \
    }                                                                         \
  } while (0)

gf_status gfi_take(const gf_frame *f, int col, const int64_t *idx, int64_t n,
                   const gf_allocator *a, gf_array **out, gf_error *err) {
  a = gfi_alloc_or_default(a);
  gf_datatype t = f->schema->fields[col].type;
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  if (t.id == GF_TYPE_NULL) {
    gf_stats s;
    gfi_stats_reset(&s, t);
    return gfi_array_make_with_stats(a, t, n, n, bufs, NULL, &s, out, err);
  }
  bool single = f->num_batches == 1;
  bool src_nulls = false;
  for (int b = 0; b < f->num_batches; b++)
    if (f->columns[(size_t)b * (size_t)f->schema->n + (size_t)col]->null_count > 0)
      src_nulls = true;
  bool idx_nulls = false;
  for (int64_t j = 0; j < n && !idx_nulls; j++) idx_nulls = idx[j] < 0;
  int64_t null_count = 0;
  gf_status st = GF_OK;
  if (src_nulls || idx_nulls) {
    st = gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(n), &bufs[0]);
    if (st != GF_OK) return GF_OOM(err, "validity bitmap");
    uint8_t *v = gf_buffer_mutable_data(bufs[0]);
    for (int64_t j = 0; j < n; j++) {
      if (idx[j] < 0) {
        null_count++;
        continue;
      }
      src_ref s = locate(f, col, idx[j]);
      if (gfi_is_valid(s.arr, s.i)) gfi_bit_set(v, j);
      else null_count++;
    }
    if (null_count == 0) {
      gf_buffer_release(bufs[0]);
      bufs[0] = NULL;
    }
  }
  if (t.id == GF_TYPE_BOOL) {
    st = gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(n), &bufs[1]);
    if (st == GF_OK) {
      uint8_t *d = gf_buffer_mutable_data(bufs[1]);
      for (int64_t j = 0; j < n; j++) {
        if (idx[j] < 0) continue;
        src_ref s = locate(f, col, idx[j]);
        if (gfi_bit_get(gfi_buf(s.arr, 1), s.arr->offset + s.i)) gfi_bit_set(d, j);
      }
    }
  } else if (gfi_type_is_var_width(t.id)) {
    bool large = gfi_type_is_large(t.id);
    st = gfi_buffer_alloc(a, (size_t)(n + 1) * (large ? 8 : 4), &bufs[1]);
    int64_t bytes = 0;
    if (st == GF_OK) {
      uint8_t *offs = gf_buffer_mutable_data(bufs[1]);
      for (int64_t j = 0; j < n; j++) {
        if (large) ((int64_t *)offs)[j] = bytes;
        else ((int32_t *)offs)[j] = (int32_t)bytes;
        if (idx[j] < 0) continue;
        src_ref s = locate(f, col, idx[j]);
        int64_t l = 0;
        if (gfi_is_valid(s.arr, s.i)) gfi_value_bytes(s.arr, s.i, &l);
        bytes += l;
        if (!large && bytes > INT32_MAX) break;
      }
      if (!large && bytes > INT32_MAX) {
        st = GF_ERANGE;
      } else {
        if (large) ((int64_t *)offs)[n] = bytes;
        else ((int32_t *)offs)[n] = (int32_t)bytes;
        st = gfi_buffer_alloc(a, (size_t)bytes, &bufs[2]);
      }
    }
    if (st == GF_OK) {
      const uint8_t *offs = gf_buffer_data(bufs[1]);
      char *data = gf_buffer_mutable_data(bufs[2]);
      for (int64_t j = 0; j < n; j++) {
        int64_t pos = large ? ((const int64_t *)offs)[j] : ((const int32_t *)offs)[j];
        int64_t end = large ? ((const int64_t *)offs)[j + 1] : ((const int32_t *)offs)[j + 1];
        if (end == pos) continue;
        src_ref s = locate(f, col, idx[j]);
        int64_t l;
        const uint8_t *p = gfi_value_bytes(s.arr, s.i, &l);
        memcpy(data + pos, p, (size_t)l);
      }
    }
  } else {
    int w = t.id == GF_TYPE_DICTIONARY ? 4 : gfi_type_byte_width(t);
    st = gfi_buffer_alloc(a, (size_t)n * (size_t)w, &bufs[1]);
    if (st == GF_OK) {
      uint8_t *dst = gf_buffer_mutable_data(bufs[1]);
      switch (w) {
        case 1: TAKE_FIXED(uint8_t); break;
        case 2: TAKE_FIXED(uint16_t); break;
        case 4: TAKE_FIXED(uint32_t); break;
        case 8: TAKE_FIXED(uint64_t); break;
        default:
          for (int64_t j = 0; j < n; j++) {
            if (idx[j] < 0) continue;
            src_ref s = locate(f, col, idx[j]);
            if (!gfi_is_valid(s.arr, s.i)) continue;
            int64_t l;
            const uint8_t *p = gfi_value_bytes(s.arr, s.i, &l);
            memcpy(dst + (size_t)j * (size_t)w, p, (size_t)w);
          }
          break;
      }
      /* Null slots are zero (Arrow hygiene): source nulls may hold garbage
       * only if their producer broke that rule, but clear them anyway. */
      if (bufs[0] && w <= 8) {
        const uint8_t *v = gf_buffer_data(bufs[0]);
        for (int64_t j = 0; j < n; j++)
          if (!gfi_bit_get(v, j)) memset(dst + (size_t)j * (size_t)w, 0, (size_t)w);
      }
    }
  }
  if (st != GF_OK) {
    for (int i = 0; i < 3; i++) gf_buffer_release(bufs[i]);
    if (st == GF_ERANGE)
      return gf_error_set(err, GF_ERANGE, "%s result exceeds 2 GiB", gf_type_id_name(t.id));
    return GF_OOM(err, "taken rows");
  }
  gf_array *dict = t.id == GF_TYPE_DICTIONARY && f->num_batches > 0
                       ? f->columns[(size_t)col]->dictionary : NULL;
  return gfi_array_make(a, t, n, 0, null_count, bufs, dict, out, err);
}

typedef struct take_job {
  const gfi_take_col *cols;
  int ncols;
  int64_t n;
  gf_array **out; /* nbatches * ncols */
} take_job;

static gf_status take_chunk(void *user, const gf_chunk_spec *chunk, gf_task_ctx *ctx) {
  take_job *j = user;
  int64_t len = chunk->end_row - chunk->start_row;
  gf_array **out = j->out + (size_t)chunk->chunk_id * (size_t)j->ncols;
  for (int c = 0; c < j->ncols; c++) {
    const gfi_take_col *tc = &j->cols[c];
    GF_RETURN_NOT_OK(gfi_take(tc->f, tc->col, tc->idx + chunk->start_row, len,
                              ctx->allocator, &out[c], ctx->err));
  }
  return GF_OK;
}

gf_status gfi_take_frame(const gfi_take_col *cols, int ncols, int64_t n,
                         const gf_parallel_options *o, gf_frame **out,
                         gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  gf_field *fields = NULL;
  if (ncols > 0) {
    fields = gfi_malloc(a, sizeof *fields * (size_t)ncols);
    if (!fields) return GF_OOM(err, "output fields");
  }
  for (int c = 0; c < ncols; c++) {
    const gf_field *src = &cols[c].f->schema->fields[cols[c].col];
    fields[c] = (gf_field){cols[c].name, src->type, src->nullable || cols[c].nullable};
  }
  gf_schema *schema = NULL;
  gf_status st = gf_schema_new(fields, ncols, &schema, err);
  if (fields) gfi_mfree(a, fields, sizeof *fields * (size_t)ncols);
  if (st != GF_OK) return st;
  int64_t nb = (n + GFI_TAKE_BATCH_ROWS - 1) / GFI_TAKE_BATCH_ROWS;
  size_t ob = sizeof(gf_array *) * (size_t)(nb > 0 ? nb : 1) * (size_t)(ncols > 0 ? ncols : 1);
  size_t sb = sizeof(gf_chunk_spec) * (size_t)(nb > 0 ? nb : 1);
  gf_array **arrs = gfi_calloc(a, ob);
  gf_chunk_spec *specs = gfi_malloc(a, sb);
  if (!arrs || !specs) st = GF_OOM(err, "output columns");
  if (st == GF_OK && nb > 0) {
    for (int64_t b = 0; b < nb; b++) {
      int64_t s = b * GFI_TAKE_BATCH_ROWS;
      specs[b] = (gf_chunk_spec){s, s + GFI_TAKE_BATCH_ROWS < n ? s + GFI_TAKE_BATCH_ROWS : n, b};
    }
    take_job j = {cols, ncols, n, arrs};
    gf_parallel_options po = *o;
    po.min_parallel_rows = 0; /* every batch is worth a worker */
    st = gf_run_chunks(specs, nb, take_chunk, &j, &po, err);
  }
  if (st == GF_OK) st = gf_frame_new(schema, arrs, (int)nb, a, out, err);
  for (int64_t i = 0; arrs && i < nb * ncols; i++) gf_array_release(arrs[i]);
  if (arrs) gfi_mfree(a, arrs, ob);
  if (specs) gfi_mfree(a, specs, sb);
  gf_schema_release(schema);
  return st;
}
