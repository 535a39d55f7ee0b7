/* Chunk planners for internal callers, beside gf_plan_chunks (plan.c):
 * equal ranges, "a few even chunks per worker", and morsels that never span
 * a batch. Chunk boundaries are part of the determinism contract (kernels
 * key per-chunk state by chunk_id), so each planner is a pure function of
 * its arguments and stays exactly what its callers had before they moved
 * here. All arithmetic avoids n * i, so any n up to INT64_MAX plans. */
#include <stdint.h>

#include "exec/exec_internal.h"

/* floor(n * i / count) for 0 <= i <= count without forming n * i: with
 * n = q * count + r, n * i / count = q * i + r * i / count exactly, and
 * r * i < count * count fits because count <= GFI_PLAN_MAX_CHUNKS. */
static int64_t equal_bound(int64_t n, int64_t count, int64_t i) {
  int64_t q = n / count, r = n % count;
  return q * i + r * i / count;
}

/* Allocates `count` chunk specs (room for one when count is 0, so callers
 * free one size). */
static gf_status alloc_specs(const gf_allocator *a, int64_t count, gf_chunk_spec **out,
                             gf_error *err) {
  if (count > GFI_PLAN_MAX_CHUNKS)
    return gf_error_set(err, GF_ENOMEM, "chunk plan: %lld chunks are too many",
                        (long long)count);
  *out = gfi_malloc(a, sizeof **out * (size_t)(count > 0 ? count : 1));
  return *out ? GF_OK : GF_OOM(err, "chunk plan");
}

/* `count` ranges over [0, n) whose sizes differ by at most one row, the
 * larger ones last (chunk i is [n*i/count, n*(i+1)/count)). */
gf_status gfi_plan_equal(int64_t n, int64_t count, const gf_allocator *a,
                         gf_chunk_spec **out, gf_error *err) {
  if (n < 0 || count < 0 || (count == 0 && n > 0))
    return gf_error_set(err, GF_EINVAL, "chunk plan: %lld rows in %lld chunks", (long long)n,
                        (long long)count);
  gf_chunk_spec *s = NULL;
  GF_RETURN_NOT_OK(alloc_specs(a, count, &s, err));
  for (int64_t i = 0; i < count; i++) {
    s[i].start_row = equal_bound(n, count, i);
    s[i].end_row = equal_bound(n, count, i + 1);
    s[i].chunk_id = i;
  }
  *out = s;
  return GF_OK;
}

/* Equal ranges of at least min_rows rows (when n allows), at most 8 per
 * worker so per-chunk state stays small, at least one when n > 0. */
gf_status gfi_plan_even(int64_t n, int64_t min_rows, const gf_parallel_options *o,
                        const gf_allocator *a, gf_chunk_spec **out, int64_t *count,
                        gf_error *err) {
  int64_t w = gf_effective_workers(o);
  int64_t c = min_rows > 0 ? n / min_rows + (n % min_rows != 0) : n;
  if (c > 8 * w) c = 8 * w;
  if (c < 1) c = 1;
  if (n <= 0) c = 0;
  GF_RETURN_NOT_OK(gfi_plan_equal(n > 0 ? n : 0, c, a, out, err));
  *count = c;
  return GF_OK;
}

/* Cuts every batch of `nbatches` (batch b is rows [offsets[b],
 * offsets[b+1])) into morsels of `rows` rows, the last of a batch shorter. */
gf_status gfi_plan_batches(const int64_t *offsets, int nbatches, int64_t rows,
                           const gf_allocator *a, gfi_morsel **out, gf_chunk_spec **specs,
                           int64_t *n, gf_error *err) {
  *out = NULL;
  *specs = NULL;
  *n = 0;
  if (rows < 1) rows = 1;
  int64_t count = 0;
  for (int b = 0; b < nbatches; b++) {
    int64_t br = offsets[b + 1] - offsets[b];
    int64_t k = br / rows + (br % rows != 0);
    if (k > GFI_PLAN_MAX_CHUNKS - count)
      return gf_error_set(err, GF_ENOMEM, "morsel plan: too many morsels");
    count += k;
  }
  if (count == 0) return GF_OK;
  gfi_morsel *m = gfi_malloc(a, sizeof *m * (size_t)count);
  gf_chunk_spec *s = gfi_malloc(a, sizeof *s * (size_t)count);
  if (!m || !s) {
    gfi_morsels_free(a, m, s, count);
    return GF_OOM(err, "morsel plan");
  }
  int64_t k = 0;
  for (int b = 0; b < nbatches; b++) {
    int64_t br = offsets[b + 1] - offsets[b];
    for (int64_t st = 0; st < br; k++) {
      /* br - st, not st + rows: no overflow near INT64_MAX. */
      int64_t len = br - st < rows ? br - st : rows;
      m[k] = (gfi_morsel){b, st, len};
      s[k].start_row = offsets[b] + st;
      s[k].end_row = s[k].start_row + len;
      s[k].chunk_id = k;
      st += len;
    }
  }
  *out = m;
  *specs = s;
  *n = count;
  return GF_OK;
}

/* ---- the MemoryBound strategy (docs/STRATEGIES.md) ---------------------- */

#define MEMORY_BOUND_DEFAULT_BYTES ((int64_t)16 << 20)
#define MEMORY_BOUND_MIN_ROWS 4096

/* Morsel rows under GF_STRATEGY_MEMORY_BOUND: every worker holds at most a
 * quarter of its share of the memory limit in the columns a morsel reads
 * (the rest is for its outputs, scratch and what the call already holds),
 * 16 MiB without a limit:
 *   rows = clamp((L / (4 W)) / bytes_per_row, 4096, ceil(total / W)).
 * A pure function of its arguments (the limit, not what is in use), so a
 * plan is reproducible; results never depend on it. */
int64_t gfi_plan_memory_bound_rows(int64_t total_rows, int64_t bytes_per_row,
                                   const gf_parallel_options *o, int workers) {
  if (total_rows <= 0) return 1;
  if (workers < 1) workers = 1;
  int64_t bpr = bytes_per_row > 0 ? bytes_per_row : 8;
  int64_t lim = gfi_memory_limit(o);
  int64_t bound = lim > 0 ? lim / (4 * (int64_t)workers) : MEMORY_BOUND_DEFAULT_BYTES;
  int64_t rows = bound / bpr;
  if (rows < MEMORY_BOUND_MIN_ROWS) rows = MEMORY_BOUND_MIN_ROWS;
  int64_t share = total_rows / workers + (total_rows % workers != 0);
  if (rows > share) rows = share;
  return rows < 1 ? 1 : rows;
}

/* Spill partitions for `rows` rows of ~`bytes_per_row` bytes of operator
 * state, in [2, max_parts]. Under GF_STRATEGY_MEMORY_BOUND from what the
 * limit leaves the call now (L - used, the call's allocator; arena scratch
 * included): one partition's state is a quarter of it,
 *   P = ceil(rows * bytes_per_row / ((L - used) / 4)),
 * max_parts when nothing is left. Otherwise the fixed rule the spilling
 * operators used before (a quarter of the limit, whatever is in use). The
 * partition count never changes results (docs/SPILLING.md). */
int gfi_plan_spill_partitions(int64_t rows, int64_t bytes_per_row, const gf_parallel_options *o,
                              int max_parts) {
  if (max_parts < 2) max_parts = 2;
  int64_t lim = gfi_memory_limit(o);
  if (lim <= 0 || rows <= 0) return 2;
  int64_t bpr = bytes_per_row > 0 ? bytes_per_row : 1;
  int64_t budget = lim;
  if (o->strategy == GF_STRATEGY_MEMORY_BOUND) {
    const gfi_ctx *c = gfi_ctx_of(o);
    int64_t used = c && c->limiter ? gfi_call_alloc_current(c->limiter) : 0;
    budget = lim - used;
  }
  int64_t per = budget / 4;
  if (per <= 0) return max_parts;
  /* rows * bpr may overflow: compare by division. */
  int64_t want = rows > INT64_MAX / bpr ? INT64_MAX : rows * bpr / per + 1;
  if (want > max_parts) return max_parts;
  return want < 2 ? 2 : (int)want;
}

/* Frees what gfi_plan_batches returned (either may be NULL). */
void gfi_morsels_free(const gf_allocator *a, gfi_morsel *m, gf_chunk_spec *s, int64_t n) {
  if (m) gfi_mfree(a, m, sizeof *m * (size_t)n);
  if (s) gfi_mfree(a, s, sizeof *s * (size_t)n);
}
