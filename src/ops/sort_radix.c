/*
 * Parallel stable LSD radix sort of 64-bit keys with a 64-bit payload.
 *
 * Only the bits that differ between keys are sorted (the OR and AND of all
 * keys tell which), in at most 11-bit digits, so keys spanning a small
 * range take few passes. Each pass: per-chunk histograms in parallel, an
 * exclusive prefix in (digit, chunk) order, then a parallel scatter where
 * each chunk writes its rows, in order, into its own slots. That makes the
 * sort stable and its output independent of how rows were chunked.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/arena.h"
#include "ops/sort_join_internal.h"

#define MAX_DIGIT_BITS 11

/* Key and payload side by side: one write stream per digit value. */
typedef struct kv {
  uint64_t k;
  int64_t v;
} kv;

typedef struct radix_job {
  uint64_t *keys;
  int64_t *vals;
  kv *src, *dst;
  uint64_t base; /* digits are taken from key - base */
  int shift;
  uint64_t mask;
  int64_t radix;
  int64_t *hist; /* nchunks * radix */
  uint64_t *mins, *maxs; /* per chunk */
} radix_job;

/* Copies keys/vals into pairs and records each chunk's key range. */
static gf_status load_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  radix_job *j = user;
  uint64_t mn = UINT64_MAX, mx = 0;
  for (int64_t i = c->start_row; i < c->end_row; i++) {
    uint64_t k = j->keys[i];
    if (k < mn) mn = k;
    if (k > mx) mx = k;
    j->src[i] = (kv){k, j->vals[i]};
  }
  j->mins[c->chunk_id] = mn;
  j->maxs[c->chunk_id] = mx;
  return GF_OK;
}

static gf_status store_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  radix_job *j = user;
  for (int64_t i = c->start_row; i < c->end_row; i++) {
    j->keys[i] = j->src[i].k;
    j->vals[i] = j->src[i].v;
  }
  return GF_OK;
}

static gf_status hist_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  radix_job *j = user;
  int64_t *h = j->hist + c->chunk_id * j->radix;
  memset(h, 0, sizeof *h * (size_t)j->radix);
  const kv *s = j->src;
  uint64_t base = j->base, m = j->mask;
  int sh = j->shift;
  for (int64_t i = c->start_row; i < c->end_row; i++) h[((s[i].k - base) >> sh) & m]++;
  return GF_OK;
}

static gf_status scatter_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  radix_job *j = user;
  int64_t *h = j->hist + c->chunk_id * j->radix;
  const kv *s = j->src;
  kv *d = j->dst;
  uint64_t base = j->base, m = j->mask;
  int sh = j->shift;
  for (int64_t i = c->start_row; i < c->end_row; i++) d[h[((s[i].k - base) >> sh) & m]++] = s[i];
  return GF_OK;
}

gf_status gfi_radix_sort(uint64_t *keys, int64_t *vals, int64_t n,
                         const gf_parallel_options *o, gf_error *err) {
  if (n < 2) return GF_OK;
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  gf_chunk_spec *specs = NULL;
  int64_t nc = 0;
  GF_RETURN_NOT_OK(gfi_plan_even(n, 16384, o, a, &specs, &nc, err));
  size_t accb = sizeof(uint64_t) * (size_t)nc;
  size_t pb = sizeof(kv) * (size_t)n;
  radix_job j;
  memset(&j, 0, sizeof j);
  j.keys = keys;
  j.vals = vals;
  j.mins = gfi_malloc(a, accb);
  j.maxs = gfi_malloc(a, accb);
  /* The ping-pong buffers (16 bytes a row each): arena scratch. */
  kv *p0 = gfi_scratch_alloc(a, pb), *p1 = gfi_scratch_alloc(a, pb);
  gf_status st = GF_OK;
  if (!j.mins || !j.maxs || !p0 || !p1) st = GF_OOM(err, "radix sort buffers");
  j.src = p0;
  j.dst = p1;
  if (st == GF_OK) st = gf_run_chunks(specs, nc, load_chunk, &j, o, err);
  uint64_t mn = UINT64_MAX, mx = 0;
  for (int64_t c = 0; st == GF_OK && c < nc; c++) {
    if (j.mins[c] < mn) mn = j.mins[c];
    if (j.maxs[c] > mx) mx = j.maxs[c];
  }
  size_t hb = 0;
  if (st == GF_OK && mx > mn) {
    int bits = 64 - __builtin_clzll(mx - mn);
    int passes = (bits + MAX_DIGIT_BITS - 1) / MAX_DIGIT_BITS;
    int dbits = (bits + passes - 1) / passes;
    j.radix = (int64_t)1 << dbits;
    j.base = mn;
    hb = sizeof(int64_t) * (size_t)j.radix * (size_t)nc;
    j.hist = gfi_malloc(a, hb);
    if (!j.hist) st = GF_OOM(err, "radix histogram");
    for (int p = 0; p < passes && st == GF_OK; p++) {
      j.shift = p * dbits;
      int width = bits - j.shift < dbits ? bits - j.shift : dbits;
      j.mask = ((uint64_t)1 << width) - 1;
      st = gf_run_chunks(specs, nc, hist_chunk, &j, o, err);
      if (st != GF_OK) break;
      int64_t sum = 0;
      for (int64_t r = 0; r <= (int64_t)j.mask; r++)
        for (int64_t c = 0; c < nc; c++) {
          int64_t t = j.hist[c * j.radix + r];
          j.hist[c * j.radix + r] = sum;
          sum += t;
        }
      st = gf_run_chunks(specs, nc, scatter_chunk, &j, o, err);
      kv *x = j.src; j.src = j.dst; j.dst = x;
    }
    if (st == GF_OK) st = gf_run_chunks(specs, nc, store_chunk, &j, o, err);
  }
  if (j.hist) gfi_mfree(a, j.hist, hb);
  if (p0) gfi_scratch_free(a, p0, pb);
  if (p1) gfi_scratch_free(a, p1, pb);
  if (j.mins) gfi_mfree(a, j.mins, accb);
  if (j.maxs) gfi_mfree(a, j.maxs, accb);
  gfi_plan_free(a, specs, nc);
  return st;
}
