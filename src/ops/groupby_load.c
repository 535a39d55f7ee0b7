/*
 * Group-by helpers: the row -> batch view, typed loaders that turn a run of
 * array elements into int64 / double / order keys, value comparison,
 * dictionary ranks, take-by-rows (through take.c) and the two sorts the
 * group-by needs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/builder_internal.h"
#include "data/decimal.h"
#include "ops/groupby_internal.h"
#include "ops/sort_join_internal.h"

void gfi_gb_ctx_init(gb_ctx *c, const gf_frame *f, const gf_parallel_options *po, int nkeys) {
  memset(c, 0, sizeof *c);
  c->a = gfi_alloc_or_default(po->allocator);
  c->po = po;
  c->nkeys = nkeys;
  c->workers = gf_effective_workers(po);
  c->v.f = f;
  c->v.n = f->num_rows;
  c->v.nb = f->num_batches;
  c->v.ncols = f->schema->n;
  c->v.boff = f->batch_offsets;
}

int gfi_gb_value_class(gf_datatype t) {
  switch (t.id) {
    case GF_TYPE_NULL: return GB_VC_NULL;
    case GF_TYPE_UINT64: return GB_VC_U64;
    case GF_TYPE_FLOAT32:
    case GF_TYPE_FLOAT64: return GB_VC_FLOAT;
    case GF_TYPE_DICTIONARY: return GB_VC_DICT;
    case GF_TYPE_UTF8:
    case GF_TYPE_LARGE_UTF8:
    case GF_TYPE_BINARY:
    case GF_TYPE_LARGE_BINARY:
    case GF_TYPE_FIXED_SIZE_BINARY: return GB_VC_STR;
    case GF_TYPE_DECIMAL128:
    case GF_TYPE_DECIMAL256: return GB_VC_DEC;
    default: return GB_VC_INT;
  }
}

/* Runs `dst[j] = EXPR` with `i` the element index, over a range or a row
 * list. */
#define GB_LOOP(EXPR)                                                   \
  do {                                                                  \
    if (rows) {                                                         \
      for (int64_t j = 0; j < len; j++) {                               \
        int64_t i = rows[j] - row_base;                                 \
        dst[j] = (EXPR);                                                \
      }                                                                 \
    } else {                                                            \
      for (int64_t j = 0; j < len; j++) {                               \
        int64_t i = start + j;                                          \
        dst[j] = (EXPR);                                                \
      }                                                                 \
    }                                                                   \
  } while (0)

#define GB_DATA(T) ((const T *)gfi_buf(a, 1) + a->offset)

void gfi_gb_load_i64(const gf_array *a, int64_t start, int64_t len, const int32_t *rows,
                 int64_t row_base, int64_t *dst) {
  switch (a->type.id) {
    case GF_TYPE_BOOL: {
      const uint8_t *p = gfi_buf(a, 1);
      int64_t o = a->offset;
      GB_LOOP((int64_t)gfi_bit_get(p, o + i));
      break;
    }
    case GF_TYPE_INT8: { const int8_t *p = GB_DATA(int8_t); GB_LOOP(p[i]); break; }
    case GF_TYPE_INT16: { const int16_t *p = GB_DATA(int16_t); GB_LOOP(p[i]); break; }
    case GF_TYPE_UINT8: { const uint8_t *p = GB_DATA(uint8_t); GB_LOOP(p[i]); break; }
    case GF_TYPE_UINT16: { const uint16_t *p = GB_DATA(uint16_t); GB_LOOP(p[i]); break; }
    case GF_TYPE_UINT32: { const uint32_t *p = GB_DATA(uint32_t); GB_LOOP(p[i]); break; }
    case GF_TYPE_INT32:
    case GF_TYPE_DATE32:
    case GF_TYPE_TIME32:
    case GF_TYPE_DICTIONARY: { const int32_t *p = GB_DATA(int32_t); GB_LOOP(p[i]); break; }
    case GF_TYPE_UINT64: { const uint64_t *p = GB_DATA(uint64_t); GB_LOOP((int64_t)p[i]); break; }
    case GF_TYPE_FLOAT32: { const float *p = GB_DATA(float); GB_LOOP((int64_t)p[i]); break; }
    case GF_TYPE_FLOAT64: { const double *p = GB_DATA(double); GB_LOOP((int64_t)p[i]); break; }
    case GF_TYPE_INT64:
    case GF_TYPE_DATE64:
    case GF_TYPE_TIME64:
    case GF_TYPE_TIMESTAMP:
    case GF_TYPE_DURATION: { const int64_t *p = GB_DATA(int64_t); GB_LOOP(p[i]); break; }
    default: GB_LOOP((int64_t)0 * i); break;
  }
}

void gfi_gb_load_f64(const gf_array *a, int64_t start, int64_t len, const int32_t *rows,
                 int64_t row_base, double *dst) {
  switch (a->type.id) {
    case GF_TYPE_FLOAT32: { const float *p = GB_DATA(float); GB_LOOP((double)p[i]); break; }
    case GF_TYPE_FLOAT64: { const double *p = GB_DATA(double); GB_LOOP(p[i]); break; }
    case GF_TYPE_UINT64: { const uint64_t *p = GB_DATA(uint64_t); GB_LOOP((double)p[i]); break; }
    case GF_TYPE_INT32: { const int32_t *p = GB_DATA(int32_t); GB_LOOP((double)p[i]); break; }
    case GF_TYPE_INT64: { const int64_t *p = GB_DATA(int64_t); GB_LOOP((double)p[i]); break; }
    default: {
      /* Rare widths: through int64 in small pieces on the stack. */
      int64_t tmp[256];
      for (int64_t s = 0; s < len; s += 256) {
        int64_t m = len - s < 256 ? len - s : 256;
        gfi_gb_load_i64(a, start + s, m, rows ? rows + s : NULL, row_base, tmp);
        for (int64_t j = 0; j < m; j++) dst[s + j] = (double)tmp[j];
      }
      break;
    }
  }
}

/* Canonical totalOrder key: every NaN is the positive quiet NaN, so NaN
 * orders last (as the array statistics do). */
static inline int64_t f64_key_canon(double d) {
  if (isnan(d)) d = NAN;
  if (signbit(d) && isnan(d)) d = -d;
  return gfi_f64_total_key(d);
}

void gfi_gb_load_key(const gf_array *a, int64_t start, int64_t len, const int32_t *rows,
                 int64_t row_base, const int32_t *rank, int64_t *dst) {
  switch (a->type.id) {
    case GF_TYPE_FLOAT32: { const float *p = GB_DATA(float); GB_LOOP(f64_key_canon(p[i])); break; }
    case GF_TYPE_FLOAT64: { const double *p = GB_DATA(double); GB_LOOP(f64_key_canon(p[i])); break; }
    case GF_TYPE_UINT64: {
      const uint64_t *p = GB_DATA(uint64_t);
      GB_LOOP((int64_t)(p[i] ^ UINT64_C(0x8000000000000000)));
      break;
    }
    case GF_TYPE_DICTIONARY: {
      /* A null slot may hold any code (Arrow; C Data and IPC imports check
       * only valid ones): index rank[] only inside the dictionary. */
      const int32_t *p = GB_DATA(int32_t);
      int64_t dn = a->dictionary->length;
      GB_LOOP(rank && p[i] >= 0 && p[i] < dn ? (int64_t)rank[p[i]] : (int64_t)p[i]);
      break;
    }
    default: gfi_gb_load_i64(a, start, len, rows, row_base, dst); break;
  }
}

bool gfi_gb_load_valid(const gf_array *a, int64_t start, int64_t len, const int32_t *rows,
                   int64_t row_base, uint8_t *dst) {
  if (a->type.id == GF_TYPE_NULL) {
    memset(dst, 0, (size_t)len);
    return true;
  }
  const uint8_t *v = gfi_buf(a, 0);
  if (!v || a->null_count == 0) return false;
  int64_t o = a->offset;
  if (rows) {
    GB_LOOP((uint8_t)gfi_bit_get(v, o + i));
    return true;
  }
  /* A run: bit by bit up to a byte boundary, then eight bits at a time,
   * each spread into eight 0/1 bytes. */
  int64_t p = o + start, j = 0;
  for (; j < len && (p + j) % 8 != 0; j++) dst[j] = (uint8_t)gfi_bit_get(v, p + j);
  for (; j + 8 <= len; j += 8) {
    uint64_t x = v[(p + j) >> 3];
    x = (x | x << 28) & UINT64_C(0x0000000F0000000F);
    x = (x | x << 14) & UINT64_C(0x0003000300030003);
    x = (x | x << 7) & UINT64_C(0x0101010101010101);
    for (int k = 0; k < 8; k++) dst[j + k] = (uint8_t)(x >> (8 * k)); /* little-endian order */
  }
  for (; j < len; j++) dst[j] = (uint8_t)gfi_bit_get(v, p + j);
  return true;
}

int gfi_gb_cmp_elems(const gf_array *a, int64_t i, const gf_array *b, int64_t j) {
  if (a->type.id == GF_TYPE_DICTIONARY) {
    const int32_t *ca = (const int32_t *)gfi_buf(a, 1) + a->offset;
    const int32_t *cb = (const int32_t *)gfi_buf(b, 1) + b->offset;
    return gfi_gb_cmp_elems(a->dictionary, ca[i], b->dictionary, cb[j]);
  }
  switch (gfi_gb_value_class(a->type)) {
    case GB_VC_STR: {
      int64_t lx, ly;
      const uint8_t *x = gfi_value_bytes(a, i, &lx), *y = gfi_value_bytes(b, j, &ly);
      return gfi_bytes_cmp(x, lx, y, ly);
    }
    case GB_VC_NULL: return 0;
    case GB_VC_DEC: {
      int64_t lx, ly;
      const uint8_t *x = gfi_value_bytes(a, i, &lx), *y = gfi_value_bytes(b, j, &ly);
      return gfi_dec_cmp_raw(x, y, (int)lx);
    }
    default: {
      int64_t x, y;
      gfi_gb_load_key(a, i, 1, NULL, 0, NULL, &x);
      gfi_gb_load_key(b, j, 1, NULL, 0, NULL, &y);
      return x < y ? -1 : x > y;
    }
  }
}

int gfi_gb_cmp_rows(const gb_view *v, int c, int64_t r, int64_t s) {
  int br = gb_batch_of(v, r), bs = gb_batch_of(v, s);
  const gf_array *x = gb_col(v, br, c), *y = gb_col(v, bs, c);
  int64_t i = r - v->boff[br], j = s - v->boff[bs];
  bool nx = gfi_key_is_null(x, i), ny = gfi_key_is_null(y, j);
  if (nx || ny) return nx && ny ? 0 : nx ? 1 : -1;
  return gfi_key_cmp(x, i, y, j);
}

/* ---- sorting ------------------------------------------------------------ */

gf_status gfi_gb_sort_i64(int64_t *items, int64_t n, gb_cmp_fn cmp, void *ctx,
                          const gf_parallel_options *po, const gf_allocator *a, gf_error *err) {
  if (n < 2) return GF_OK;
  int64_t *tmp = gfi_malloc(a, sizeof *tmp * (size_t)n);
  if (!tmp) return GF_OOM(err, "a sort buffer");
  gf_status st = GF_OK;
  /* Bottom-up merge sort: insertion-sorted runs of 16, then merges. */
  for (int64_t s = 0; s < n && st == GF_OK; s += 16) {
    if (po) st = gfi_gb_poll(po, s, 16, err);
    int64_t e = s + 16 < n ? s + 16 : n;
    for (int64_t i = s + 1; i < e; i++) {
      int64_t x = items[i], j = i;
      while (j > s && cmp(ctx, items[j - 1], x) > 0) {
        items[j] = items[j - 1];
        j--;
      }
      items[j] = x;
    }
  }
  int64_t *src = items, *dst = tmp;
  for (int64_t w = 16; w < n && st == GF_OK; w *= 2) {
    for (int64_t lo = 0; lo < n && st == GF_OK; lo += 2 * w) {
      int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (po && (k & 0xFFFF) == 0 && (st = gfi_check_stop(po, 0, NULL, err)) != GF_OK) break;
        dst[k++] = cmp(ctx, src[j], src[i]) < 0 ? src[j++] : src[i++];
      }
      if (st != GF_OK) break;
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    int64_t *t = src;
    src = dst;
    dst = t;
  }
  if (st == GF_OK && src != items) memcpy(items, src, sizeof *items * (size_t)n);
  gfi_mfree(a, tmp, sizeof *tmp * (size_t)n);
  return st;
}

gf_status gfi_gb_radix_sort_hi32(uint64_t *v, int64_t n, const gf_allocator *a, gf_error *err) {
  if (n < 2) return GF_OK;
  uint64_t *tmp = gfi_malloc(a, sizeof *tmp * (size_t)n);
  if (!tmp) return GF_OOM(err, "a sort buffer");
  uint64_t *src = v, *dst = tmp;
  for (int shift = 32; shift < 64; shift += 8) {
    int64_t cnt[256] = {0};
    for (int64_t i = 0; i < n; i++) cnt[(src[i] >> shift) & 255]++;
    if (cnt[(src[0] >> shift) & 255] == n) continue; /* one digit: nothing moves */
    int64_t sum = 0;
    for (int d = 0; d < 256; d++) {
      int64_t t = cnt[d];
      cnt[d] = sum;
      sum += t;
    }
    for (int64_t i = 0; i < n; i++) dst[cnt[(src[i] >> shift) & 255]++] = src[i];
    uint64_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != v) memcpy(v, src, sizeof *v * (size_t)n);
  gfi_mfree(a, tmp, sizeof *tmp * (size_t)n);
  return GF_OK;
}

/* ---- dictionary ranks --------------------------------------------------- */

static int cmp_dict(void *ctx, int64_t x, int64_t y) {
  const gf_array *d = ctx;
  bool nx = !gfi_is_valid(d, x), ny = !gfi_is_valid(d, y);
  if (nx || ny) return nx && ny ? 0 : nx ? 1 : -1;
  return gfi_gb_cmp_elems(d, x, d, y);
}

gf_status gfi_gb_dict_rank(const gf_array *dict, const gf_allocator *a, int32_t **out, gf_error *err) {
  int64_t d = dict ? dict->length : 0;
  int32_t *rank = gfi_malloc(a, sizeof *rank * (size_t)(d ? d : 1));
  int64_t *idx = gfi_malloc(a, sizeof *idx * (size_t)(d ? d : 1));
  if (!rank || !idx) {
    if (rank) gfi_mfree(a, rank, sizeof *rank * (size_t)(d ? d : 1));
    if (idx) gfi_mfree(a, idx, sizeof *idx * (size_t)(d ? d : 1));
    return GF_OOM(err, "dictionary ranks");
  }
  for (int64_t i = 0; i < d; i++) idx[i] = i;
  gf_status st = gfi_gb_sort_i64(idx, d, cmp_dict, (void *)dict, NULL, a, err);
  if (st == GF_OK) {
    int32_t r = 0;
    for (int64_t i = 0; i < d; i++) {
      if (i > 0 && cmp_dict((void *)dict, idx[i - 1], idx[i]) != 0) r++;
      rank[idx[i]] = r;
    }
    *out = rank;
  } else {
    gfi_mfree(a, rank, sizeof *rank * (size_t)(d ? d : 1));
  }
  gfi_mfree(a, idx, sizeof *idx * (size_t)(d ? d : 1));
  return st;
}

/* ---- take ----------------------------------------------------------------- */
/* Group-by output rows are gathered by take.c's gfi_take, the one gather
 * of rows by frame row number (sort and join use it too). */

typedef struct take_job {
  const gb_view *v;
  const int *cols;
  const int64_t *rows;
  int64_t m;
  bool ascending; /* rows ascending, none -1: found once for all columns */
  gf_array **out;
} take_job;

/* Gathers one output column (chunk id = index into cols). */
static gf_status take_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  const take_job *J = user;
  int c = J->cols[ch->chunk_id];
  gf_array **out = &J->out[ch->chunk_id];
  return J->ascending ? gfi_take_ascending(J->v->f, c, J->rows, J->m, ctx->allocator, out, ctx->err)
                      : gfi_take(J->v->f, c, J->rows, J->m, ctx->allocator, out, ctx->err);
}

gf_status gfi_gb_take_columns(const gb_view *v, const int *cols, int ncols, const int64_t *rows,
                              int64_t m, const gf_parallel_options *po, const gf_allocator *a,
                              gf_array **out, gf_error *err) {
  gf_status st = GF_OK;
  for (int k = 0; k < ncols; k++) out[k] = NULL;
  /* Key columns take the groups' first rows, ascending unless the groups
   * were sorted. */
  bool asc = true;
  for (int64_t i = 0; i < m && asc; i++) asc = rows[i] >= 0 && (i == 0 || rows[i] >= rows[i - 1]);
  take_job J = {v, cols, rows, m, asc, out};
  if (po && ncols > 1) {
    /* One task per column: the columns are gathered side by side. */
    gf_chunk_spec *specs = gfi_malloc(a, sizeof *specs * (size_t)ncols);
    if (!specs) return GF_OOM(err, "group-by output rows");
    for (int k = 0; k < ncols; k++) specs[k] = (gf_chunk_spec){0, m, k};
    st = gf_run_chunks(specs, ncols, take_kernel, &J, po, err);
    gfi_mfree(a, specs, sizeof *specs * (size_t)ncols);
  } else {
    gf_task_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.allocator = a;
    ctx.err = err;
    for (int k = 0; k < ncols && st == GF_OK; k++) {
      gf_chunk_spec one = {0, m, k};
      st = take_kernel(&J, &one, &ctx);
    }
  }
  for (int k = 0; st != GF_OK && k < ncols; k++) {
    gf_array_release(out[k]);
    out[k] = NULL;
  }
  return st;
}

gf_status gfi_gb_take(const gb_view *v, int c, const int64_t *rows, int64_t m, const gf_allocator *a,
                      gf_array **out, gf_error *err) {
  return gfi_gb_take_columns(v, &c, 1, rows, m, NULL, a, out, err);
}
