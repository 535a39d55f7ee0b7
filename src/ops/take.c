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

/* A frame column read by frame row numbers. The current batch and its raw
 * buffer pointers are cached: consecutive indices usually fall in the same
 * batch (left-ordered join output, sorted runs), so most look-ups skip the
 * binary search over batch offsets and the buffer accessors. */
typedef struct cursor {
  const gf_frame *f;
  int col;
  int64_t lo, hi;       /* frame rows [lo, hi) of the cached batch */
  int64_t off;          /* the cached array's offset */
  const uint8_t *valid; /* validity bitmap, NULL when all valid */
  const uint8_t *d1, *d2;
} cursor;

static void cur_init(cursor *c, const gf_frame *f, int col) {
  memset(c, 0, sizeof *c);
  c->f = f;
  c->col = col;
}

static void cur_load(cursor *c, int64_t r) {
  const gf_frame *f = c->f;
  int b = f->num_batches == 1 ? 0 : gfi_row_batch(f, r);
  const gf_array *arr = f->columns[(size_t)b * (size_t)f->schema->n + (size_t)c->col];
  c->lo = f->batch_offsets[b];
  c->hi = c->lo + arr->length;
  c->off = arr->offset;
  c->valid = gfi_buf(arr, 0);
  c->d1 = gfi_buf(arr, 1);
  c->d2 = gfi_buf(arr, 2);
}

/* Buffer position (offset included) of frame row r, r >= 0. */
static inline int64_t cur_at(cursor *c, int64_t r) {
  if (r < c->lo || r >= c->hi) cur_load(c, r);
  return c->off + (r - c->lo);
}

static inline bool cur_valid(const cursor *c, int64_t k) {
  return !c->valid || gfi_bit_get(c->valid, k);
}

/* Start and end of var-width value at buffer position k. */
static inline void cur_span(const cursor *c, int64_t k, bool large, int64_t *s, int64_t *e) {
  if (large) {
    *s = ((const int64_t *)c->d1)[k];
    *e = ((const int64_t *)c->d1)[k + 1];
  } else {
    *s = ((const int32_t *)c->d1)[k];
    *e = ((const int32_t *)c->d1)[k + 1];
  }
}

/* Random gathers (a sort permutation, the right side of a join) miss the
 * cache on nearly every row, so the address of row j + PF_DIST is computed
 * and prefetched while row j is copied; the computed addresses wait in a
 * ring. Ascending indices (group first rows, distinct, a left-ordered
 * join's left side) are copied run by run within each batch instead, and
 * frames with more batches than PF_MAX_BATCHES use the cursor. */
#define PF_DIST 16
#define PF_MAX_BATCHES 1024

/* Start of each batch's values (offset applied) for a fixed-width column of
 * width w; false when the frame has too many batches. */
static bool batch_bases(const gf_frame *f, int col, int w, const uint8_t **base) {
  if (f->num_batches > PF_MAX_BATCHES) return false;
  for (int b = 0; b < f->num_batches; b++) {
    const gf_array *arr = f->columns[(size_t)b * (size_t)f->schema->n + (size_t)col];
    const uint8_t *d = gfi_buf(arr, 1);
    base[b] = d ? d + (size_t)arr->offset * (size_t)w : NULL;
  }
  return true;
}

/* Address of frame row r (>= 0) of the column described by `base`. `*hint`
 * is the batch of the previous look-up: runs of rows in one batch (group
 * first rows, left-ordered join output) skip the binary search. */
static inline const uint8_t *row_addr(const gf_frame *f, const uint8_t *const *base, int w,
                                      int64_t r, int *hint) {
  int b = *hint;
  if (r < f->batch_offsets[b] || r >= f->batch_offsets[b + 1]) *hint = b = gfi_row_batch(f, r);
  return base[b] + (size_t)(r - f->batch_offsets[b]) * (size_t)w;
}

/* Copies fixed-width values of C type T. */
#define TAKE_FIXED(T)                                                         \
  do {                                                                        \
    T *d_ = (T *)dst;                                                         \
    if (single) {                                                             \
      const gf_array *s0 = f->columns[(size_t)col];                           \
      const T *sv = (const T *)gfi_buf(s0, 1) + s0->offset;                   \
      for (int64_t j = 0; j < n; j++) {                                       \
        if (j + PF_DIST < n && idx[j + PF_DIST] >= 0)                         \
          __builtin_prefetch(sv + idx[j + PF_DIST]);                          \
        if (idx[j] >= 0) d_[j] = sv[idx[j]];                                  \
      }                                                                       \
    } else if (ascending) {                                                   \
      /* Runs of indices inside one batch, copied by a tight loop. */         \
      for (int64_t j = 0; j < n;) {                                           \
        if (idx[j] < 0) {                                                     \
          j++;                                                                \
          continue;                                                           \
        }                                                                     \
        int b_ = gfi_row_batch(f, idx[j]);                                    \
        const gf_array *s_ = f->columns[(size_t)b_ * (size_t)f->schema->n +   \
                                        (size_t)col];                         \
        const T *sv = (const T *)gfi_buf(s_, 1) + s_->offset;                 \
        int64_t lo_ = f->batch_offsets[b_], hi_ = f->batch_offsets[b_ + 1];   \
        if (idx_nulls) {                                                      \
          for (; j < n && idx[j] < hi_; j++)                                  \
            if (idx[j] >= 0) d_[j] = sv[idx[j] - lo_];                        \
        } else {                                                              \
          for (; j < n && idx[j] < hi_; j++) d_[j] = sv[idx[j] - lo_];        \
        }                                                                     \
      }                                                                       \
    } else if (batch_bases(f, col, (int)sizeof(T), bases)) {                  \
      const uint8_t *ring_[PF_DIST];                                          \
      int hint_ = 0;                                                          \
      for (int64_t j = 0; j < PF_DIST && j < n; j++)                          \
        ring_[j] = idx[j] >= 0 ? row_addr(f, bases, (int)sizeof(T), idx[j],   \
                                          &hint_)                             \
                               : NULL;                                        \
      for (int64_t j = 0; j < n; j++) {                                       \
        const uint8_t *p_ = ring_[j % PF_DIST];                               \
        if (j + PF_DIST < n) {                                                \
          int64_t q_ = idx[j + PF_DIST];                                      \
          const uint8_t *a_ = q_ >= 0 ? row_addr(f, bases, (int)sizeof(T), q_,  \
                                                     &hint_)                  \
                                      : NULL;                                 \
          if (a_) __builtin_prefetch(a_);                                     \
          ring_[j % PF_DIST] = a_;                                            \
        }                                                                     \
        if (p_) memcpy(&d_[j], p_, sizeof(T));                                \
      }                                                                       \
    } else {                                                                  \
      cursor c_;                                                              \
      cur_init(&c_, f, col);                                                  \
      for (int64_t j = 0; j < n; j++) {                                       \
        if (idx[j] < 0) continue;                                             \
        int64_t k_ = cur_at(&c_, idx[j]);                                     \
        d_[j] = ((const T *)c_.d1)[k_];                                       \
      }                                                                       \
    }                                                                         \
  } while (0)

/* gfi_take; `known_ascending`: the caller guarantees ascending indices
 * without -1, so the scan that finds out is skipped (it reads idx once
 * more per column). */
static gf_status take(const gf_frame *f, int col, const int64_t *idx, int64_t n,
                      bool known_ascending, const gf_allocator *a, gf_array **out,
                      gf_error *err) {
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
  /* Ascending indices (-1 anywhere) take the run-by-run copy. */
  bool idx_nulls = false, ascending = true;
  if (!known_ascending) {
    /* Branch-free: this scan runs once per taken column. */
    int64_t prev = -1, neg = 0, desc = 0;
    for (int64_t j = 0; j < n; j++) {
      int64_t x = idx[j];
      neg |= x < 0;
      desc |= x < prev;
      prev = x < 0 ? prev : x;
    }
    idx_nulls = neg != 0;
    ascending = desc == 0;
  }
  int64_t null_count = 0;
  gf_status st = GF_OK;
  cursor c;
  if (src_nulls || idx_nulls) {
    st = gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(n), &bufs[0]);
    if (st != GF_OK) return GF_OOM(err, "validity bitmap");
    uint8_t *v = gf_buffer_mutable_data(bufs[0]);
    cur_init(&c, f, col);
    for (int64_t j = 0; j < n; j++) {
      if (idx[j] < 0) {
        null_count++;
        continue;
      }
      if (cur_valid(&c, cur_at(&c, idx[j]))) gfi_bit_set(v, j);
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
      cur_init(&c, f, col);
      for (int64_t j = 0; j < n; j++) {
        if (idx[j] < 0) continue;
        int64_t k = cur_at(&c, idx[j]);
        if (gfi_bit_get(c.d1, k)) gfi_bit_set(d, j);
      }
    }
  } else if (gfi_type_is_var_width(t.id)) {
    bool large = gfi_type_is_large(t.id);
    st = gfi_buffer_alloc(a, (size_t)(n + 1) * (large ? 8 : 4), &bufs[1]);
    int64_t bytes = 0;
    if (st == GF_OK) {
      uint8_t *offs = gf_buffer_mutable_data(bufs[1]);
      cur_init(&c, f, col);
      for (int64_t j = 0; j < n; j++) {
        if (large) ((int64_t *)offs)[j] = bytes;
        else ((int32_t *)offs)[j] = (int32_t)bytes;
        if (idx[j] < 0) continue;
        int64_t k = cur_at(&c, idx[j]);
        if (!cur_valid(&c, k) || !c.d1) continue;
        int64_t s, e;
        cur_span(&c, k, large, &s, &e);
        bytes += e - s;
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
      cur_init(&c, f, col);
      for (int64_t j = 0; j < n; j++) {
        int64_t pos = large ? ((const int64_t *)offs)[j] : ((const int32_t *)offs)[j];
        int64_t end = large ? ((const int64_t *)offs)[j + 1] : ((const int32_t *)offs)[j + 1];
        if (end == pos) continue;
        int64_t k = cur_at(&c, idx[j]);
        int64_t s, e;
        cur_span(&c, k, large, &s, &e);
        memcpy(data + pos, c.d2 + s, (size_t)(e - s));
      }
    }
  } else {
    int w = t.id == GF_TYPE_DICTIONARY ? 4 : gfi_type_byte_width(t);
    st = gfi_buffer_alloc(a, (size_t)n * (size_t)w, &bufs[1]);
    if (st == GF_OK) {
      uint8_t *dst = gf_buffer_mutable_data(bufs[1]);
      const uint8_t *bases[PF_MAX_BATCHES];
      switch (w) {
        case 1: TAKE_FIXED(uint8_t); break;
        case 2: TAKE_FIXED(uint16_t); break;
        case 4: TAKE_FIXED(uint32_t); break;
        case 8: TAKE_FIXED(uint64_t); break;
        default:
          cur_init(&c, f, col);
          for (int64_t j = 0; j < n; j++) {
            if (idx[j] < 0) continue;
            int64_t k = cur_at(&c, idx[j]);
            if (!cur_valid(&c, k)) continue;
            memcpy(dst + (size_t)j * (size_t)w, c.d1 + (size_t)k * (size_t)w, (size_t)w);
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
  gf_array *empty_dict = NULL;
  if (t.id == GF_TYPE_DICTIONARY && dict == NULL) {
    /* A frame without batches has no dictionary to share, but the taken
     * (all-null) rows still need one to be a valid dictionary array, e.g.
     * the left side of a right/full join with an empty left input (found
     * by test_properties). */
    gf_builder *eb = NULL;
    st = gf_builder_new(gf_type_value(t), a, &eb, err);
    if (st == GF_OK) st = gf_builder_finish(eb, &empty_dict, err);
    gf_builder_free(eb);
    if (st != GF_OK) {
      for (int i = 0; i < 3; i++) gf_buffer_release(bufs[i]);
      return st;
    }
    dict = empty_dict;
  }
  st = gfi_array_make(a, t, n, 0, null_count, bufs, dict, out, err);
  gf_array_release(empty_dict);
  return st;
}

gf_status gfi_take(const gf_frame *f, int col, const int64_t *idx, int64_t n,
                   const gf_allocator *a, gf_array **out, gf_error *err) {
  return take(f, col, idx, n, false, a, out, err);
}

gf_status gfi_take_ascending(const gf_frame *f, int col, const int64_t *idx, int64_t n,
                             const gf_allocator *a, gf_array **out, gf_error *err) {
  return take(f, col, idx, n, true, a, out, err);
}

typedef struct take_job {
  const gfi_take_col *cols;
  int ncols;
  int64_t n;
  gf_array **out; /* nbatches * ncols */
  const gf_parallel_options *o; /* token and deadline between columns */
} take_job;

static gf_status take_chunk(void *user, const gf_chunk_spec *chunk, gf_task_ctx *ctx) {
  take_job *j = user;
  int64_t len = chunk->end_row - chunk->start_row;
  gf_array **out = j->out + (size_t)chunk->chunk_id * (size_t)j->ncols;
  for (int c = 0; c < j->ncols; c++) {
    /* A batch is 1M rows: gathering one column of it at random can take
     * tens of ms, so a single worker stops between columns too. */
    if (c > 0) GF_RETURN_NOT_OK(gfi_check_stop(j->o, 0, NULL, ctx->err));
    const gfi_take_col *tc = &j->cols[c];
    GF_RETURN_NOT_OK(take(tc->f, tc->col, tc->idx + chunk->start_row, len, tc->ascending,
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
    take_job j = {cols, ncols, n, arrs, o};
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
