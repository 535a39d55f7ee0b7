/*
 * Preparing sort keys and one stable sort pass per key.
 *
 * A key becomes, per row, a 64-bit value whose unsigned order is the key
 * policy's order (key_policy.h: integers with the sign bit flipped, floats
 * with -0.0 equal to +0.0 and every NaN equal and last; dictionary codes
 * replaced by the rank of their value in the sorted dictionary;
 * complemented for descending keys), or, for
 * strings and binary, the first 8 bytes big-endian plus a pointer to the
 * whole value. A pass moves nulls to their end stably, then sorts the rest
 * with the radix sort (fixed width) or a parallel stable merge sort
 * (strings). Sorting by the last key first and the first key last gives
 * the multi-key order because every pass is stable.
 */
#include <stdlib.h>
#include <string.h>

#include "data/builder_internal.h"
#include "data/decimal.h"
#include "ops/sort_join_internal.h"

/* Dictionary ranks: rank[code], and rnull[code] when the value is null. */
typedef struct dict_ranks {
  uint64_t *rank;
  uint8_t *rnull;
  int64_t m;
} dict_ranks;

typedef struct prep_job {
  const gfi_colsrc *src;
  gfi_sprep *k;
  const dict_ranks *d;
} prep_job;

/* Encodes rows [i0, i0+len) of arr into rows starting at row0. */
static void prep_segment(const prep_job *j, const gf_array *arr, int64_t i0,
                         int64_t row0, int64_t len) {
  gfi_sprep *k = j->k;
  gf_type_id id = arr->type.id;
  const uint8_t *valid = arr->null_count > 0 ? gfi_buf(arr, 0) : NULL;
  const uint8_t *data = gfi_buf(arr, 1);
  int64_t off = arr->offset;
  uint64_t flip = k->desc ? UINT64_MAX : 0;
  uint64_t *enc = k->enc + row0;
  uint8_t *nul = k->nul ? k->nul + row0 : NULL;
  if (nul) {
    if (valid) {
      for (int64_t i = 0; i < len; i++) nul[i] = !gfi_bit_get(valid, off + i0 + i);
    } else {
      memset(nul, 0, (size_t)len);
    }
  }
  if (k->kind == GFI_SK_BYTES && gfi_is_decimal(id)) {
    /* Decimals sort as their order encoding (decimal.h): memcmp order. */
    int w = gfi_type_byte_width(arr->type);
    for (int64_t i = 0; i < len; i++) {
      uint8_t *dst = k->own + (size_t)(row0 + i) * (size_t)w;
      int64_t l = 0;
      if (!nul || !nul[i]) gfi_dec_order_bytes(gfi_value_bytes(arr, i0 + i, &l), w, dst);
      else memset(dst, 0, (size_t)w);
      k->ptr[row0 + i] = dst;
      k->len[row0 + i] = w;
      enc[i] = gfi_prefix_be(dst, w);
    }
    return;
  }
  if (k->kind == GFI_SK_BYTES) {
    for (int64_t i = 0; i < len; i++) {
      int64_t l = 0;
      const uint8_t *p = (const uint8_t *)"";
      if (!nul || !nul[i]) p = gfi_value_bytes(arr, i0 + i, &l);
      k->ptr[row0 + i] = p;
      k->len[row0 + i] = l;
      enc[i] = gfi_prefix_be(p, l);
    }
    return;
  }
  if (id == GF_TYPE_DICTIONARY) {
    const int32_t *codes = (const int32_t *)data + off + i0;
    for (int64_t i = 0; i < len; i++) {
      if (nul && nul[i]) { enc[i] = 0; continue; }
      int32_t c = codes[i];
      if (j->d->rnull[c]) {
        nul[i] = 1;
        enc[i] = 0;
        continue;
      }
      enc[i] = j->d->rank[c] ^ flip;
    }
    return;
  }
  /* Fixed width: the policy's order encoding (key_policy.h). */
  gfi_key_load_order(arr, i0, len, enc);
  if (flip)
    for (int64_t i = 0; i < len; i++) enc[i] ^= flip;
  if (nul)
    for (int64_t i = 0; i < len; i++)
      if (nul[i]) enc[i] = 0;
}

static gf_status prep_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  prep_job *j = user;
  const gfi_colsrc *s = j->src;
  int lo = gfi_batch_of(s->offs, s->nb, c->start_row);
  for (int64_t row = c->start_row; row < c->end_row; lo++) {
    int64_t bend = s->offs[lo + 1];
    if (bend <= row) continue;
    int64_t e = bend < c->end_row ? bend : c->end_row;
    prep_segment(j, s->arrs[lo], row - s->offs[lo], row, e - row);
    row = e;
  }
  return GF_OK;
}

void gfi_sprep_free(gfi_sprep *k) {
  const gf_allocator *a = k->a;
  size_t n = (size_t)k->n;
  if (k->enc) gfi_mfree(a, k->enc, n * sizeof *k->enc);
  if (k->nul) gfi_mfree(a, k->nul, n ? n : 1);
  if (k->ptr) gfi_mfree(a, (void *)k->ptr, n * sizeof *k->ptr);
  if (k->len) gfi_mfree(a, k->len, n * sizeof *k->len);
  if (k->own) gfi_mfree(a, k->own, k->own_bytes);
  k->own = NULL;
  k->enc = NULL;
  k->nul = NULL;
  k->ptr = NULL;
  k->len = NULL;
}

/* Ranks of the dictionary values: equal values share a rank. */
static gf_status make_ranks(const gf_array *dict, const gf_parallel_options *o,
                            dict_ranks *out, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  int64_t m = dict->length;
  int64_t offs[2] = {0, m};
  gf_array *arr = (gf_array *)dict;
  gfi_colsrc src = {&arr, offs, 1, dict->type};
  gfi_sprep dk;
  GF_RETURN_NOT_OK(gfi_sprep_make(&src, false, false, o, &dk, err));
  size_t pb = sizeof(int64_t) * (size_t)(m ? m : 1);
  int64_t *perm = gfi_malloc(a, pb);
  out->m = m;
  out->rank = gfi_malloc(a, sizeof(uint64_t) * (size_t)(m ? m : 1));
  out->rnull = gfi_calloc(a, (size_t)(m ? m : 1));
  gf_status st = GF_OK;
  if (!perm || !out->rank || !out->rnull) st = GF_OOM(err, "dictionary ranks");
  if (st == GF_OK) {
    for (int64_t i = 0; i < m; i++) perm[i] = i;
    st = gfi_sort_pass(&dk, perm, m, o, err);
  }
  if (st == GF_OK) {
    uint64_t r = 0;
    for (int64_t i = 0; i < m; i++) {
      int64_t row = perm[i];
      if (i > 0) {
        int64_t prev = perm[i - 1];
        bool same = dk.enc[prev] == dk.enc[row];
        if (same && dk.kind == GFI_SK_BYTES)
          same = gfi_bytes_cmp(dk.ptr[prev], dk.len[prev], dk.ptr[row], dk.len[row]) == 0;
        if (!same) r++;
      }
      out->rank[row] = r;
      out->rnull[row] = dk.kind == GFI_SK_ALLNULL || (dk.nul && dk.nul[row]);
    }
  }
  if (perm) gfi_mfree(a, perm, pb);
  gfi_sprep_free(&dk);
  if (st != GF_OK) {
    if (out->rank) gfi_mfree(a, out->rank, sizeof(uint64_t) * (size_t)(m ? m : 1));
    if (out->rnull) gfi_mfree(a, out->rnull, (size_t)(m ? m : 1));
    out->rank = NULL;
    out->rnull = NULL;
  }
  return st;
}

static void free_ranks(const gf_allocator *a, dict_ranks *d) {
  size_t m = (size_t)(d->m ? d->m : 1);
  if (d->rank) gfi_mfree(a, d->rank, sizeof(uint64_t) * m);
  if (d->rnull) gfi_mfree(a, d->rnull, m);
}

gf_status gfi_sprep_make(const gfi_colsrc *src, bool desc, bool nulls_first,
                         const gf_parallel_options *o, gfi_sprep *out,
                         gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  memset(out, 0, sizeof *out);
  out->a = a;
  out->desc = desc;
  out->nulls_first = nulls_first;
  int64_t n = src->offs[src->nb];
  out->n = n;
  gf_type_id id = src->type.id;
  gf_type_id vid = id == GF_TYPE_DICTIONARY ? src->type.value_id : id;
  if (vid == GF_TYPE_NULL) {
    out->kind = GFI_SK_ALLNULL;
    return GF_OK;
  }
  out->kind = gfi_type_is_var_width(vid) || vid == GF_TYPE_FIXED_SIZE_BINARY ||
                      gfi_is_decimal(vid)
                  ? GFI_SK_BYTES
                  : GFI_SK_FIXED;
  if (id == GF_TYPE_DICTIONARY) out->kind = GFI_SK_FIXED;
  dict_ranks d = {NULL, NULL, 0};
  bool nulls = false;
  for (int b = 0; b < src->nb; b++)
    if (src->arrs[b]->null_count > 0) nulls = true;
  gf_status st = GF_OK;
  if (id == GF_TYPE_DICTIONARY && src->nb > 0) {
    const gf_array *dict = src->arrs[0]->dictionary;
    for (int b = 1; b < src->nb; b++)
      if (src->arrs[b]->dictionary != dict)
        return gf_error_set(err, GF_EINTERNAL, "sort: dictionary column with several dictionaries");
    GF_RETURN_NOT_OK(make_ranks(dict, o, &d, err));
    for (int64_t i = 0; i < d.m; i++)
      if (d.rnull[i]) nulls = true;
  }
  size_t nn = (size_t)(n ? n : 1);
  out->enc = gfi_malloc(a, nn * sizeof *out->enc);
  if (!out->enc) st = GF_OOM(err, "sort keys");
  if (st == GF_OK && nulls) {
    out->nul = gfi_malloc(a, nn);
    if (!out->nul) st = GF_OOM(err, "sort null flags");
  }
  if (st == GF_OK && out->kind == GFI_SK_BYTES) {
    out->ptr = gfi_malloc(a, nn * sizeof *out->ptr);
    out->len = gfi_malloc(a, nn * sizeof *out->len);
    if (!out->ptr || !out->len) st = GF_OOM(err, "sort string keys");
    if (st == GF_OK && gfi_is_decimal(id)) {
      out->own_bytes = nn * (size_t)gfi_type_byte_width(src->type);
      out->own = gfi_malloc(a, out->own_bytes);
      if (!out->own) st = GF_OOM(err, "sort decimal keys");
    }
  }
  if (st == GF_OK && n > 0) {
    prep_job j = {src, out, &d};
    st = gf_parallel_for(n, 16, false, prep_chunk, &j, o, err);
  }
  free_ranks(a, &d);
  if (st != GF_OK) gfi_sprep_free(out);
  return st;
}

int gfi_row_cmp(const gfi_sprep *keys, int nk, int64_t x, int64_t y) {
  for (int i = 0; i < nk; i++) {
    const gfi_sprep *k = &keys[i];
    if (k->kind == GFI_SK_ALLNULL) continue;
    bool nx = k->nul && k->nul[x], ny = k->nul && k->nul[y];
    if (nx || ny) {
      if (nx && ny) continue;
      return nx == k->nulls_first ? -1 : 1;
    }
    if (k->kind == GFI_SK_FIXED) {
      if (k->enc[x] != k->enc[y]) return k->enc[x] < k->enc[y] ? -1 : 1;
      continue;
    }
    int c;
    if (k->enc[x] != k->enc[y]) c = k->enc[x] < k->enc[y] ? -1 : 1;
    else c = gfi_bytes_cmp(k->ptr[x], k->len[x], k->ptr[y], k->len[y]);
    if (c) return k->desc ? -c : c;
  }
  return (x > y) - (x < y);
}

/* ---- one pass ------------------------------------------------------------- */

typedef struct sitem {
  uint64_t pre;
  int64_t row;
} sitem;

/* Item order for a string key: prefix, then the whole bytes (reversed for
 * descending keys, whose prefixes are complemented). */
static inline int item_cmp(const sitem *x, const sitem *y, const gfi_sprep *k) {
  if (x->pre != y->pre) return x->pre < y->pre ? -1 : 1;
  int c = gfi_bytes_cmp(k->ptr[x->row], k->len[x->row], k->ptr[y->row], k->len[y->row]);
  return k->desc ? -c : c;
}

/* Stable merge of src[lo, mid) and src[mid, hi) into dst[lo, hi). */
static void merge(const sitem *src, sitem *dst, int64_t lo, int64_t mid, int64_t hi,
                  const gfi_sprep *k) {
  int64_t i = lo, j = mid, o = lo;
  while (i < mid && j < hi) {
    if (item_cmp(&src[j], &src[i], k) < 0) dst[o++] = src[j++];
    else dst[o++] = src[i++];
  }
  while (i < mid) dst[o++] = src[i++];
  while (j < hi) dst[o++] = src[j++];
}

/* Sorts v[lo, hi) stably using t[lo, hi) as scratch; the result in v. */
static void msort(sitem *v, sitem *t, int64_t lo, int64_t hi, const gfi_sprep *k) {
  if (hi - lo <= 16) {
    for (int64_t i = lo + 1; i < hi; i++) {
      sitem x = v[i];
      int64_t j = i;
      while (j > lo && item_cmp(&x, &v[j - 1], k) < 0) {
        v[j] = v[j - 1];
        j--;
      }
      v[j] = x;
    }
    return;
  }
  int64_t mid = lo + (hi - lo) / 2;
  msort(v, t, lo, mid, k);
  msort(v, t, mid, hi, k);
  if (item_cmp(&v[mid], &v[mid - 1], k) >= 0) return;
  memcpy(t + lo, v + lo, sizeof *v * (size_t)(hi - lo));
  merge(t, v, lo, mid, hi, k);
}

typedef struct msort_job {
  sitem *v, *t;
  const gfi_sprep *k;
  const int64_t *bounds; /* run boundaries */
  int64_t width;         /* runs merged per task at this level: 2 */
  int64_t nruns;
  /* gathering items / fixed keys */
  const int64_t *rows;
  uint64_t *keys;
} msort_job;

static gf_status run_sort_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  msort_job *j = user;
  msort(j->v, j->t, c->start_row, c->end_row, j->k);
  return GF_OK;
}

static gf_status merge_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  msort_job *j = user;
  int64_t r = c->chunk_id * 2;
  int64_t lo = j->bounds[r];
  if (r + 1 >= j->nruns) {
    memcpy(j->t + lo, j->v + lo, sizeof *j->v * (size_t)(j->bounds[r + 1] - lo));
    return GF_OK;
  }
  merge(j->v, j->t, lo, j->bounds[r + 1], j->bounds[r + 2], j->k);
  return GF_OK;
}

static gf_status items_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  msort_job *j = user;
  bool desc = j->k->desc;
  for (int64_t i = c->start_row; i < c->end_row; i++) {
    int64_t r = j->rows[i];
    uint64_t p = j->k->enc[r];
    j->v[i] = (sitem){desc ? ~p : p, r};
  }
  return GF_OK;
}

static gf_status keys_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  msort_job *j = user;
  const uint64_t *enc = j->k->enc;
  for (int64_t i = c->start_row; i < c->end_row; i++) j->keys[i] = enc[j->rows[i]];
  return GF_OK;
}

/* Parallel stable merge sort of rows[0..n) by string key k. */
static gf_status sort_strings(const gfi_sprep *k, int64_t *rows, int64_t n,
                              const gf_parallel_options *o, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  size_t ib = sizeof(sitem) * (size_t)n;
  sitem *v = gfi_malloc(a, ib), *t = gfi_malloc(a, ib);
  gf_chunk_spec *specs = NULL;
  int64_t nc = 0;
  int64_t *bounds = NULL;
  size_t bb = 0;
  gf_status st = GF_OK;
  if (!v || !t) st = GF_OOM(err, "string sort buffers");
  if (st == GF_OK) st = gfi_plan_even(n, 4096, o, a, &specs, &nc, err);
  if (st == GF_OK) {
    bb = sizeof(int64_t) * (size_t)(nc + 1);
    bounds = gfi_malloc(a, bb);
    if (!bounds) st = GF_OOM(err, "string sort runs");
  }
  msort_job j = {v, t, k, bounds, 2, nc, rows, NULL};
  if (st == GF_OK) st = gf_run_chunks(specs, nc, items_chunk, &j, o, err);
  if (st == GF_OK) {
    /* Runs are the planned chunks, sorted in place in parallel. */
    for (int64_t c = 0; c < nc; c++) bounds[c] = specs[c].start_row;
    bounds[nc] = n;
    st = gf_run_chunks(specs, nc, run_sort_chunk, &j, o, err);
  }
  int64_t nruns = nc;
  while (st == GF_OK && nruns > 1) {
    int64_t tasks = (nruns + 1) / 2;
    for (int64_t p = 0; p < tasks; p++) {
      int64_t r = 2 * p;
      int64_t e = r + 2 <= nruns ? r + 2 : nruns;
      specs[p] = (gf_chunk_spec){bounds[r], bounds[e], p};
    }
    j.nruns = nruns;
    st = gf_run_chunks(specs, tasks, merge_chunk, &j, o, err);
    if (st != GF_OK) break;
    for (int64_t p = 0; p < tasks; p++) {
      int64_t e = 2 * p + 2 <= nruns ? 2 * p + 2 : nruns;
      bounds[p] = bounds[2 * p];
      bounds[p + 1] = bounds[e];
    }
    nruns = tasks;
    sitem *x = j.v; j.v = j.t; j.t = x;
  }
  if (st == GF_OK)
    for (int64_t i = 0; i < n; i++) rows[i] = j.v[i].row;
  if (v) gfi_mfree(a, v, ib);
  if (t) gfi_mfree(a, t, ib);
  if (bounds) gfi_mfree(a, bounds, bb);
  gfi_plan_free(a, specs, nc);
  return st;
}

/* Decimal keys (order-encoded big-endian copies, all of one width): one
 * stable radix pass per 8-byte word, least significant word first, which
 * orders the rows like memcmp of the encodings (the string merge sort's
 * order) at radix speed. */
static gf_status sort_decimals(const gfi_sprep *k, int64_t *rows, int64_t n,
                               const gf_parallel_options *o, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  size_t kb = sizeof(uint64_t) * (size_t)n;
  uint64_t *keys = gfi_malloc(a, kb);
  if (!keys) return GF_OOM(err, "sort decimal keys");
  int words = (int)(k->len[rows[0]] / 8);
  uint64_t flip = k->desc ? UINT64_MAX : 0;
  gf_status st = GF_OK;
  for (int w = words - 1; w >= 0 && st == GF_OK; w--) {
    for (int64_t i = 0; i < n; i++) keys[i] = gfi_prefix_be(k->ptr[rows[i]] + 8 * w, 8) ^ flip;
    st = gfi_radix_sort(keys, rows, n, o, err);
  }
  gfi_mfree(a, keys, kb);
  return st;
}

gf_status gfi_sort_pass(const gfi_sprep *k, int64_t *perm, int64_t n,
                        const gf_parallel_options *o, gf_error *err) {
  if (k->kind == GFI_SK_ALLNULL || n < 2) return GF_OK;
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  /* Nulls move (stably) to a side buffer; the rest stays in perm. */
  int64_t nn = n, nnull = 0;
  int64_t *nulls = NULL;
  size_t nb = 0;
  if (k->nul) {
    for (int64_t i = 0; i < n; i++) nnull += k->nul[perm[i]];
    if (nnull > 0) {
      nb = sizeof(int64_t) * (size_t)nnull;
      nulls = gfi_malloc(a, nb);
      if (!nulls) return GF_OOM(err, "sort null rows");
      int64_t w = 0, q = 0;
      for (int64_t i = 0; i < n; i++) {
        if (k->nul[perm[i]]) nulls[q++] = perm[i];
        else perm[w++] = perm[i];
      }
      nn = w;
    }
  }
  gf_status st = GF_OK;
  if (nn > 1) {
    if (k->kind == GFI_SK_BYTES && k->own) {
      st = sort_decimals(k, perm, nn, o, err);
    } else if (k->kind == GFI_SK_BYTES) {
      st = sort_strings(k, perm, nn, o, err);
    } else {
      size_t kb = sizeof(uint64_t) * (size_t)nn;
      uint64_t *keys = gfi_malloc(a, kb);
      if (!keys) st = GF_OOM(err, "sort keys");
      if (st == GF_OK) {
        msort_job j = {NULL, NULL, k, NULL, 0, 0, perm, keys};
        st = gf_parallel_for(nn, 16, false, keys_chunk, &j, o, err);
      }
      if (st == GF_OK) st = gfi_radix_sort(keys, perm, nn, o, err);
      if (keys) gfi_mfree(a, keys, kb);
    }
  }
  if (st == GF_OK && nnull > 0) {
    if (k->nulls_first) {
      memmove(perm + nnull, perm, sizeof *perm * (size_t)nn);
      memcpy(perm, nulls, nb);
    } else {
      memcpy(perm + nn, nulls, nb);
    }
  }
  if (nulls) gfi_mfree(a, nulls, nb);
  return st;
}
