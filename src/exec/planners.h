/*
 * Internal chunk planners (planners.c), part of the runtime's internal
 * interface (exec_internal.h includes this). A header of its own so that
 * src/expr can use morsels without pulling in pthread.h. Not installed.
 */
#ifndef GF_EXEC_PLANNERS_H
#define GF_EXEC_PLANNERS_H

#include "core/core_internal.h"

/* Planners for internal callers (planners.c). Boundaries are part of the
 * determinism contract: a planner's chunks depend only on its arguments.
 * Plans longer than this are refused (GF_ENOMEM); it also keeps the
 * boundary arithmetic free of overflow for any row count. */
#define GFI_PLAN_MAX_CHUNKS ((int64_t)INT32_MAX)

/* `count` ranges over [0, n): chunk i is [floor(n*i/count),
 * floor(n*(i+1)/count)), chunk_id i (sizes differ by at most one; empty
 * ones when count > n). count may be 0 only when n is 0. Allocated through
 * `a`; free with gfi_plan_free(a, *out, count). */
gf_status gfi_plan_equal(int64_t n, int64_t count, const gf_allocator *a,
                         gf_chunk_spec **out, gf_error *err);

/* Plans ceil(n / min_rows) chunks (n when min_rows is 0), at most 8 per
 * worker of `o` and at least one, over [0, n) as gfi_plan_equal does (so
 * at most min_rows rows each below the cap); count 0 when n is 0. Free with
 * gfi_plan_free. Used where results cannot depend on chunking and
 * per-chunk state costs memory. */
gf_status gfi_plan_even(int64_t n, int64_t min_rows, const gf_parallel_options *o,
                        const gf_allocator *a, gf_chunk_spec **out, int64_t *count,
                        gf_error *err);

/* Frees a plan of gfi_plan_equal / gfi_plan_even (`count` chunks). */
static inline void gfi_plan_free(const gf_allocator *a, gf_chunk_spec *s, int64_t count) {
  if (s) gfi_mfree(a, s, sizeof *s * (size_t)(count ? count : 1));
}

/* A morsel: rows [start, start+len) of batch `batch` (never spans batches). */
typedef struct gfi_morsel {
  int batch;
  int64_t start;
  int64_t len;
} gfi_morsel;

/* Cuts every non-empty batch b (rows [offsets[b], offsets[b+1]), nbatches
 * + 1 offsets) into morsels of `rows` rows (the last of a batch shorter), in
 * batch order. *out and *specs (absolute rows, chunk_id = index) get *n
 * entries (0 = both NULL), allocated through `a`; free both with
 * gfi_morsels_free. */
gf_status gfi_plan_batches(const int64_t *offsets, int nbatches, int64_t rows,
                           const gf_allocator *a, gfi_morsel **out, gf_chunk_spec **specs,
                           int64_t *n, gf_error *err);
void gfi_morsels_free(const gf_allocator *a, gfi_morsel *m, gf_chunk_spec *s, int64_t n);

/* Morsel rows of GF_STRATEGY_MEMORY_BOUND for `total_rows` > 0 rows of
 * ~bytes_per_row bytes at `workers` workers (docs/STRATEGIES.md): a
 * quarter of each worker's share of the memory limit (16 MiB without one),
 * at least 4096 rows, at most ceil(total_rows / workers). */
int64_t gfi_plan_memory_bound_rows(int64_t total_rows, int64_t bytes_per_row,
                                   const gf_parallel_options *o, int workers);

/* Number of spill partitions (2..max_parts) for `rows` rows of
 * ~bytes_per_row bytes of state under the memory limit of `o` (2 without
 * one). GF_STRATEGY_MEMORY_BOUND sizes a partition from what the limit
 * leaves the call now; the other strategies from the whole limit (each
 * partition a quarter of it). docs/STRATEGIES.md has the formulas. */
int gfi_plan_spill_partitions(int64_t rows, int64_t bytes_per_row, const gf_parallel_options *o,
                              int max_parts);

#endif /* GF_EXEC_PLANNERS_H */
