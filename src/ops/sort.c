/*
 * gf_sort_indices and gf_sort: stable multi-key sort, and top-k.
 *
 * Full sort: one stable pass per key, last key first (sort_keys.c), so only
 * one key's encoding is alive at a time. Top-k (limit well below the row
 * count): all keys are encoded, each chunk keeps its k smallest rows in a
 * bounded max-heap under the total order (keys, then row number), and the
 * candidates of all chunks are sorted and cut to k. Because ties are broken
 * by row number, top-k equals the stable full sort cut to k rows.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/exec_internal.h"
#include "ops/sort_join_internal.h"

typedef gfi_keycols keycols;
#define keycols_free gfi_keycols_free
#define keycols_make gfi_keycols_make

void gfi_keycols_free(const gf_allocator *a, gfi_keycols *kc) {
  if (kc->src) gfi_mfree(a, kc->src, sizeof *kc->src * (size_t)kc->nkeys);
  if (kc->arrs)
    gfi_mfree(a, kc->arrs, sizeof *kc->arrs * (size_t)kc->nkeys * (size_t)(kc->nb ? kc->nb : 1));
}

/* Resolves the key names against f's schema. */
gf_status gfi_keycols_make(const gf_frame *f, const gf_sort_key *keys, int nkeys,
                           const gf_allocator *a, gfi_keycols *kc, gf_error *err) {
  memset(kc, 0, sizeof *kc);
  if (nkeys < 1 || !keys) return gf_error_set(err, GF_EINVAL, "sort: no sort keys");
  int nb = f->num_batches;
  for (int i = 0; i < nkeys; i++) {
    if (!keys[i].column) return gf_error_set(err, GF_EINVAL, "sort: key %d has no column", i);
    if (gf_schema_find(f->schema, keys[i].column) < 0)
      return gf_error_set(err, GF_EINVAL, "sort: no column named '%s'", keys[i].column);
  }
  kc->nkeys = nkeys;
  kc->nb = nb;
  kc->src = gfi_malloc(a, sizeof *kc->src * (size_t)nkeys);
  kc->arrs = gfi_malloc(a, sizeof *kc->arrs * (size_t)nkeys * (size_t)(nb ? nb : 1));
  if (!kc->src || !kc->arrs) {
    keycols_free(a, kc);
    return GF_OOM(err, "sort key columns");
  }
  int ncols = f->schema->n;
  for (int i = 0; i < nkeys; i++) {
    int c = gf_schema_find(f->schema, keys[i].column);
    for (int b = 0; b < nb; b++)
      kc->arrs[(size_t)i * (size_t)nb + (size_t)b] = f->columns[(size_t)b * (size_t)ncols + (size_t)c];
    kc->src[i] = (gfi_colsrc){kc->arrs + (size_t)i * (size_t)nb, f->batch_offsets, nb,
                              f->schema->fields[c].type};
  }
  return GF_OK;
}

/* Full stable sort: perm (n entries, through `a`) in sorted order. */
static gf_status full_sort(const keycols *kc, const gf_sort_key *keys, int64_t n,
                           const gf_parallel_options *o, int64_t *perm, gf_error *err) {
  for (int64_t i = 0; i < n; i++) perm[i] = i;
  for (int i = kc->nkeys - 1; i >= 0; i--) {
    gfi_sprep k;
    GF_RETURN_NOT_OK(gfi_sprep_make(&kc->src[i], keys[i].descending, keys[i].nulls_first,
                                    o, &k, err));
    gf_status st = gfi_sort_pass(&k, perm, n, o, err);
    gfi_sprep_free(&k);
    if (st != GF_OK) return st;
  }
  return GF_OK;
}

/* The full sort of f: in memory, or spilled when the memory limit asks
 * for it (gfi_sort_should_spill); the same permutation either way. */
static gf_status sort_all(const gf_frame *f, const keycols *kc, const gf_sort_key *keys,
                          const gf_parallel_options *o, int64_t *perm, gf_error *err) {
  gf_status st = GF_ENOMEM;
  if (!gfi_sort_should_spill(f, kc, o)) {
    st = full_sort(kc, keys, f->num_rows, o, perm, err);
    /* The estimate sees only this call's memory: the limit may have been
     * crossed because of memory held outside it (the input, an outer
     * tracker). Everything of the attempt is freed; spill instead. */
    if (st != GF_ENOMEM || gfi_memory_limit(o) <= 0 || f->num_rows < 2) return st;
  }
  /* Each retry gives runs and blocks a quarter of the memory of the last. */
  for (int shrink = 0; shrink < 4; shrink++) {
    st = gfi_sort_external(f, kc, keys, o, shrink, perm, 0, NULL, NULL, err);
    if (st != GF_ENOMEM || gfi_memory_limit(o) <= 0) break;
  }
  return st;
}

/* The permutation is what the caller frees with gf_sort_indices_free and
 * its own allocator, so it is allocated there, not through the call's
 * tracked allocator; under a memory limit it still counts: the call runs
 * under the limit less the permutation's size (gf_sort_indices). */
static gf_status sort_indices_call(const gf_frame *f, const gf_sort_key *keys, int nkeys,
                                   const gfi_ctx *call, int64_t **perm, gf_error *err) {
  const gf_parallel_options *o = &call->o;
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  const gf_allocator *ua = gfi_alloc_or_default(call->caller_alloc);
  keycols kc;
  GF_RETURN_NOT_OK(keycols_make(f, keys, nkeys, a, &kc, err));
  int64_t n = f->num_rows;
  size_t pb = sizeof(int64_t) * (size_t)(n ? n : 1);
  int64_t *p = gfi_malloc(ua, pb);
  gf_status st = p ? GF_OK : GF_OOM(err, "sort permutation");
  if (st == GF_OK) st = sort_all(f, &kc, keys, o, p, err);
  keycols_free(a, &kc);
  if (st != GF_OK) {
    if (p) gfi_mfree(ua, p, pb);
    return st;
  }
  *perm = p;
  return GF_OK;
}

gf_status gf_sort_indices(const gf_frame *f, const gf_sort_key *keys, int nkeys,
                          const gf_parallel_options *opts, int64_t **perm,
                          gf_error *err) {
  if (!f || !perm) return gf_error_set(err, GF_EINVAL, "gf_sort_indices: NULL argument");
  gf_parallel_options uo;
  GF_RETURN_NOT_OK(gfi_options_load(opts, &uo, err));
  int64_t limit = uo.memory_limit; /* > 0 only for a call of its own */
  int64_t pb = (int64_t)sizeof(int64_t) * (f->num_rows ? f->num_rows : 1);
  if (limit > 0) {
    if (pb >= limit)
      return gf_error_set(err, GF_ENOMEM,
                          "gf_sort_indices: memory limit of %lld bytes (memory_limit) exceeded: "
                          "the permutation of %lld rows alone takes %lld bytes",
                          (long long)limit, (long long)f->num_rows, (long long)pb);
    uo.memory_limit = limit - pb;
  }
  gfi_ctx call;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, &uo, NULL, err));
  if (call.owns_limiter) call.limit = limit; /* messages name the caller's limit */
  return gfi_ctx_end(&call, sort_indices_call(f, keys, nkeys, &call, perm, err), err);
}

void gf_sort_indices_free(int64_t *perm, int64_t n, const gf_parallel_options *opts) {
  if (!perm) return;
  gf_parallel_options o;
  if (gfi_options_load(opts, &o, NULL) != GF_OK) gf_parallel_options_init(&o);
  gfi_mfree(gfi_alloc_or_default(o.allocator), perm, sizeof(int64_t) * (size_t)(n ? n : 1));
}

/* ---- top-k ---------------------------------------------------------------- */

typedef struct topk_job {
  const gfi_sprep *keys;
  int nk;
  int64_t k;
  int64_t *heaps;  /* nchunks * k */
  int64_t *counts; /* rows kept per chunk */
} topk_job;

/* Max-heap (by gfi_row_cmp) sift-down from slot i. */
static void sift_down(int64_t *h, int64_t m, int64_t i, const gfi_sprep *keys, int nk) {
  for (;;) {
    int64_t l = 2 * i + 1, r = l + 1, big = i;
    if (l < m && gfi_row_cmp(keys, nk, h[l], h[big]) > 0) big = l;
    if (r < m && gfi_row_cmp(keys, nk, h[r], h[big]) > 0) big = r;
    if (big == i) return;
    int64_t t = h[i]; h[i] = h[big]; h[big] = t;
    i = big;
  }
}

static gf_status topk_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  topk_job *j = user;
  int64_t *h = j->heaps + c->chunk_id * j->k;
  int64_t m = 0;
  for (int64_t row = c->start_row; row < c->end_row; row++) {
    if (m < j->k) {
      /* sift up */
      int64_t i = m++;
      h[i] = row;
      while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (gfi_row_cmp(j->keys, j->nk, h[i], h[p]) <= 0) break;
        int64_t t = h[i]; h[i] = h[p]; h[p] = t;
        i = p;
      }
    } else if (gfi_row_cmp(j->keys, j->nk, row, h[0]) < 0) {
      h[0] = row;
      sift_down(h, m, 0, j->keys, j->nk);
    }
  }
  j->counts[c->chunk_id] = m;
  return GF_OK;
}

/* Sorts rows v[0..n) by the total order, scratch t. */
static void rows_msort(int64_t *v, int64_t *t, int64_t n, const gfi_sprep *keys, int nk) {
  for (int64_t w = 1; w < n; w *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * w) {
      int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      int64_t i = lo, jj = mid, o = lo;
      while (i < mid && jj < hi)
        t[o++] = gfi_row_cmp(keys, nk, v[jj], v[i]) < 0 ? v[jj++] : v[i++];
      while (i < mid) t[o++] = v[i++];
      while (jj < hi) t[o++] = v[jj++];
    }
    memcpy(v, t, sizeof *v * (size_t)n);
  }
}

/* The first `k` rows of the sorted order into perm[0..k). */
static gf_status top_k(const keycols *kc, const gf_sort_key *keys, int64_t n, int64_t k,
                       const gf_parallel_options *o, int64_t *perm, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  int nk = kc->nkeys;
  gfi_sprep *kp = gfi_calloc(a, sizeof *kp * (size_t)nk);
  if (!kp) return GF_OOM(err, "top-k keys");
  gf_status st = GF_OK;
  int made = 0;
  for (; made < nk && st == GF_OK; made++) {
    st = gfi_sprep_make(&kc->src[made], keys[made].descending, keys[made].nulls_first, o,
                        &kp[made], err);
    if (st != GF_OK) break;
  }
  gf_chunk_spec *specs = NULL;
  int64_t nc = 0;
  if (st == GF_OK) st = gfi_plan_even(n, 16384, o, a, &specs, &nc, err);
  size_t hb = 0, cb = 0;
  int64_t *heaps = NULL, *counts = NULL, *tmp = NULL;
  if (st == GF_OK) {
    hb = sizeof(int64_t) * (size_t)nc * (size_t)k;
    cb = sizeof(int64_t) * (size_t)nc;
    heaps = gfi_malloc(a, hb);
    tmp = gfi_malloc(a, hb);
    counts = gfi_malloc(a, cb);
    if (!heaps || !counts || !tmp) st = GF_OOM(err, "top-k heaps");
  }
  if (st == GF_OK) {
    topk_job j = {kp, nk, k, heaps, counts};
    st = gf_run_chunks(specs, nc, topk_chunk, &j, o, err);
  }
  if (st == GF_OK) {
    int64_t m = 0;
    for (int64_t c = 0; c < nc; c++) {
      memmove(heaps + m, heaps + c * k, sizeof *heaps * (size_t)counts[c]);
      m += counts[c];
    }
    rows_msort(heaps, tmp, m, kp, nk);
    memcpy(perm, heaps, sizeof *perm * (size_t)(m < k ? m : k));
  }
  for (int i = 0; i < made && i < nk; i++) gfi_sprep_free(&kp[i]);
  gfi_mfree(a, kp, sizeof *kp * (size_t)nk);
  if (heaps) gfi_mfree(a, heaps, hb);
  if (tmp) gfi_mfree(a, tmp, hb);
  if (counts) gfi_mfree(a, counts, cb);
  gfi_plan_free(a, specs, nc);
  return st;
}

/* gf_sort under loaded options `o` (whose allocator is the call's). */
static gf_status sort_call(const gf_frame *f, const gf_sort_key *keys, int nkeys, int64_t limit,
                           gf_parallel_options o, gf_frame **out, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o.allocator);
  keycols kc;
  GF_RETURN_NOT_OK(keycols_make(f, keys, nkeys, a, &kc, err));
  int64_t n = f->num_rows;
  int64_t m = limit > 0 && limit < n ? limit : n;
  size_t pb = sizeof(int64_t) * (size_t)(n ? n : 1);
  int64_t *p = gfi_malloc(a, pb);
  gf_status st = p ? GF_OK : GF_OOM(err, "sort permutation");
  /* Heaps pay a log k factor per kept row: worth it only for small k. */
  if (st == GF_OK) {
    if (m < n && m <= 4096 && m * 64 <= n) st = top_k(&kc, keys, n, m, &o, p, err);
    else st = sort_all(f, &kc, keys, &o, p, err);
  }
  keycols_free(a, &kc);
  int ncols = f->schema->n;
  gfi_take_col *tc = NULL;
  size_t tb = sizeof *tc * (size_t)(ncols ? ncols : 1);
  if (st == GF_OK) {
    tc = gfi_malloc(a, tb);
    if (!tc) st = GF_OOM(err, "sort output");
  }
  if (st == GF_OK) {
    for (int c = 0; c < ncols; c++)
      tc[c] = (gfi_take_col){f, c, p, f->schema->fields[c].name, false, false};
    st = gfi_take_frame(tc, ncols, m, &o, out, err);
  }
  if (tc) gfi_mfree(a, tc, tb);
  if (p) gfi_mfree(a, p, pb);
  return st;
}

gf_status gf_sort(const gf_frame *f, const gf_sort_key *keys, int nkeys, int64_t limit,
                  const gf_parallel_options *opts, gf_frame **out, gf_error *err) {
  if (!f || !out) return gf_error_set(err, GF_EINVAL, "gf_sort: NULL argument");
  if (limit < 0) return gf_error_set(err, GF_EINVAL, "gf_sort: negative limit %lld", (long long)limit);
  gfi_ctx call;
  gf_parallel_options o;
  /* A memory limit bounds the whole call, the permutation and the output
   * included: the context's tracked allocator (gfi_ctx_load). */
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, opts, &o, err));
  return gfi_ctx_end(&call, sort_call(f, keys, nkeys, limit, o, out, err), err);
}

/* ---- the sort as a sequence of output batches ------------------------------ */

typedef struct batches_job {
  const gf_frame *f;
  gfi_take_col *tc;
  int ncols;
  const gf_parallel_options *o;
  gfi_sort_batch_fn emit;
  void *user;
  bool emitted_any; /* a batch left: a retry would hand it out twice */
} batches_job;

/* Gathers rows[0..m) of every column into one batch and hands it out. */
static gf_status emit_rows(void *user, const int64_t *rows, int64_t m, gf_error *err) {
  batches_job *j = user;
  for (int c = 0; c < j->ncols; c++) j->tc[c].idx = rows;
  GF_RETURN_NOT_OK(gfi_check_stop(j->o, 0, NULL, err));
  gf_frame *b = NULL;
  GF_RETURN_NOT_OK(gfi_take_frame(j->tc, j->ncols, m, j->o, &b, err));
  j->emitted_any = true;
  gf_status st = j->emit(j->user, b, err);
  gf_frame_release(b);
  return st;
}

static gf_status sort_batches_call(const gf_frame *f, const gf_sort_key *keys, int nkeys,
                                   const gf_parallel_options *o, gfi_sort_batch_fn emit,
                                   void *user, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  keycols kc;
  GF_RETURN_NOT_OK(keycols_make(f, keys, nkeys, a, &kc, err));
  int64_t n = f->num_rows;
  int ncols = f->schema->n;
  size_t tb = sizeof(gfi_take_col) * (size_t)(ncols ? ncols : 1);
  gfi_take_col *tc = gfi_malloc(a, tb);
  gf_status st = tc ? GF_OK : GF_OOM(err, "sort output");
  for (int c = 0; st == GF_OK && c < ncols; c++)
    tc[c] = (gfi_take_col){f, c, NULL, f->schema->fields[c].name, false, false};
  batches_job j = {f, tc, ncols, o, emit, user, false};
  bool spill = st == GF_OK && gfi_sort_should_spill(f, &kc, o);
  if (st == GF_OK && !spill) {
    size_t pb = sizeof(int64_t) * (size_t)(n ? n : 1);
    int64_t *p = gfi_malloc(a, pb);
    bool had_perm = p != NULL;
    st = p ? full_sort(&kc, keys, n, o, p, err) : GF_OOM(err, "sort permutation");
    if (st == GF_OK) {
      for (int64_t s = 0; st == GF_OK && s < n; s += GFI_TAKE_BATCH_ROWS)
        st = emit_rows(&j, p + s, n - s < GFI_TAKE_BATCH_ROWS ? n - s : GFI_TAKE_BATCH_ROWS, err);
    }
    if (p) gfi_mfree(a, p, pb);
    /* Refused by the limit before any batch left: spill instead. */
    spill = st == GF_ENOMEM && had_perm && gfi_memory_limit(o) > 0 && n > 1 && !j.emitted_any;
  }
  if (spill) {
    int64_t cap = n < GFI_TAKE_BATCH_ROWS ? n : GFI_TAKE_BATCH_ROWS;
    size_t bb = sizeof(int64_t) * (size_t)(cap ? cap : 1);
    int64_t *buf = gfi_malloc(a, bb);
    st = buf ? GF_OK : GF_OOM(err, "sort output rows");
    for (int shrink = 0; buf && shrink < 4; shrink++) {
      st = gfi_sort_external(f, &kc, keys, o, shrink, buf, cap, emit_rows, &j, err);
      if (st != GF_ENOMEM || gfi_memory_limit(o) <= 0 || j.emitted_any) break;
    }
    if (buf) gfi_mfree(a, buf, bb);
  }
  if (tc) gfi_mfree(a, tc, tb);
  keycols_free(a, &kc);
  return st;
}

gf_status gfi_sort_batches(const gf_frame *f, const gf_sort_key *keys, int nkeys,
                           const gf_parallel_options *opts, gfi_sort_batch_fn emit, void *user,
                           gf_error *err) {
  if (!f || !emit) return gf_error_set(err, GF_EINVAL, "sort: NULL argument");
  gfi_ctx call;
  gf_parallel_options o;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, opts, &o, err));
  return gfi_ctx_end(&call, sort_batches_call(f, keys, nkeys, &o, emit, user, err), err);
}
