/* Chunk planning: the strategies of gf_strategy and the reduction grid
 * (docs/DESIGN.md, "The parallel runtime" and "Determinism"). Every plan is a run of equal chunks with a possibly
 * shorter last one, so it covers [0, total) exactly. */

#include "exec/exec_internal.h"

#define AUTO_MIN_ROWS 4096
#define CACHE_MIN_ROWS 1024

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Rows per chunk for one strategy. An explicit chunk_rows wins over every
 * strategy; min_parallel_rows keeps small inputs in one chunk (on the
 * caller). Result in [1, total_rows]. */
int64_t gfi_plan_chunk_rows(int64_t total_rows, int64_t bytes_per_row,
                            const gf_parallel_options *o, int workers) {
  if (total_rows <= 0) return 1;
  if (workers < 1) workers = 1;
  int64_t bpr = bytes_per_row > 0 ? bytes_per_row : 8;
  int64_t rows;
  if (total_rows < o->min_parallel_rows) {
    rows = total_rows;
  } else if (o->chunk_rows > 0) {
    rows = o->chunk_rows;
  } else {
    switch (o->strategy) {
      case GF_STRATEGY_FIXED_CHUNKS:
        rows = ceil_div(total_rows, workers);
        break;
      case GF_STRATEGY_CACHE_FRIENDLY:
        /* Half the L2 for the columns read, half for outputs/temporaries. */
        rows = (gfi_l2_cache_bytes() / 2) / bpr;
        if (rows < CACHE_MIN_ROWS) rows = CACHE_MIN_ROWS;
        break;
      case GF_STRATEGY_MEMORY_BOUND:
        /* A bounded working set per worker (planners.c has the formula). */
        rows = gfi_plan_memory_bound_rows(total_rows, bpr, o, workers);
        break;
      case GF_STRATEGY_AUTO:
      default:
        /* Reduction-block sized morsels (dispatch then batches them by
         * measured time); small inputs get ~2 morsels per worker. */
        if (total_rows >= 2 * (int64_t)workers * GF_REDUCTION_BLOCK_ROWS) {
          rows = GF_REDUCTION_BLOCK_ROWS;
        } else {
          rows = ceil_div(total_rows, 2 * (int64_t)workers);
          if (rows < AUTO_MIN_ROWS) rows = AUTO_MIN_ROWS;
        }
        break;
    }
  }
  if (rows < 1) rows = 1;
  if (rows > total_rows) rows = total_rows;
  return rows;
}

/* Plans chunks over [0, total_rows); *out (through opts->allocator, freed
 * with gf_mem_free) is NULL and *count 0 for no rows. */
gf_status gf_plan_chunks(int64_t total_rows, int64_t bytes_per_row,
                         const gf_parallel_options *opts, gf_chunk_spec **out,
                         int64_t *count, gf_error *err) {
  if (!out || !count)
    return gf_error_set(err, GF_EINVAL, "gf_plan_chunks: %s is NULL", out ? "count" : "out");
  if (total_rows < 0)
    return gf_error_set(err, GF_EINVAL, "gf_plan_chunks: total_rows %lld is negative",
                        (long long)total_rows);
  if (bytes_per_row < 0)
    return gf_error_set(err, GF_EINVAL, "gf_plan_chunks: bytes_per_row %lld is negative",
                        (long long)bytes_per_row);
  gf_parallel_options o;
  GF_RETURN_NOT_OK(gfi_options_load(opts, &o, err));
  if (total_rows == 0) {
    *out = NULL;
    *count = 0;
    return GF_OK;
  }
  int64_t rows = gfi_plan_chunk_rows(total_rows, bytes_per_row, &o, gf_effective_workers(&o));
  int64_t n = ceil_div(total_rows, rows);
  if ((uint64_t)n > SIZE_MAX / sizeof(gf_chunk_spec))
    return gf_error_set(err, GF_ENOMEM, "gf_plan_chunks: %lld chunks do not fit in memory",
                        (long long)n);
  gf_chunk_spec *c = gfi_owned_alloc(o.allocator, (size_t)n * sizeof *c);
  if (!c) return GF_OOM(err, "a chunk plan");
  for (int64_t i = 0; i < n; i++) {
    c[i].start_row = i * rows;
    c[i].end_row = i + 1 == n ? total_rows : (i + 1) * rows;
    c[i].chunk_id = i;
  }
  *out = c;
  *count = n;
  return GF_OK;
}

/* Blocks of GF_REDUCTION_BLOCK_ROWS covering [0, total_rows). */
int64_t gf_reduction_blocks(int64_t total_rows) {
  if (total_rows <= 0) return 0;
  return ceil_div(total_rows, GF_REDUCTION_BLOCK_ROWS);
}

/* Rows of block `block` at its absolute offset; an empty range at the end
 * for a block past the last one. */
gf_chunk_spec gf_reduction_block(int64_t total_rows, int64_t block) {
  gf_chunk_spec c = {0, 0, block};
  if (total_rows <= 0 || block < 0) return c;
  if (block >= gf_reduction_blocks(total_rows)) {
    c.start_row = c.end_row = total_rows;
    return c;
  }
  int64_t start = block * GF_REDUCTION_BLOCK_ROWS;
  c.start_row = start;
  c.end_row = start + GF_REDUCTION_BLOCK_ROWS < total_rows ? start + GF_REDUCTION_BLOCK_ROWS
                                                           : total_rows;
  return c;
}
