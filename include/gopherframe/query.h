/*
 * gopherframe/query.h - filter and projection of a frame, and query
 * pipelines: a chain of operators run over a frame, with
 * filter -> with_columns -> select fused per morsel.
 * Part of <gopherframe.h>; include that instead.
 */
#ifndef GOPHERFRAME_QUERY_H
#define GOPHERFRAME_QUERY_H

#include "data.h"
#include "exec.h"
#include "expr.h"
#include "groupby.h"
#include "sort_join.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Filter and projection (one operator per call)                       */
/* ------------------------------------------------------------------ */

/**
 * Rows of `f` where `predicate` (bool) is true (null counts as false), in
 * input order, in batches of at least ~64K rows where the input allows.
 * Dictionary columns keep sharing the input's dictionary. Batches whose
 * statistics prove that a `column <op> literal` conjunct of the predicate
 * cannot hold are skipped without being read. Identical results for any
 * worker count, strategy and chunk size.
 */
GF_API gf_status gf_filter(const gf_frame *f, const gf_expr *predicate,
                           const gf_parallel_options *opts, gf_frame **out,
                           gf_error *err);

/**
 * The named columns of `f`, in the order given (a name may repeat only
 * once; duplicates are GF_EINVAL). Zero-copy: the arrays are shared.
 * Unknown names are GF_EINVAL naming the column.
 */
GF_API gf_status gf_select(const gf_frame *f, const char *const *names, int n,
                           gf_frame **out, gf_error *err);

/**
 * `f` with n computed columns: exprs[i] evaluated over `f` (all against the
 * input frame's columns, not each other's outputs) becomes column names[i],
 * replacing a column of that name in place or appended at the end in order.
 * Other columns are shared zero-copy. Duplicate names are GF_EINVAL.
 */
GF_API gf_status gf_with_columns(const gf_frame *f, const char *const *names,
                                 gf_expr *const *exprs, int n,
                                 const gf_parallel_options *opts,
                                 gf_frame **out, gf_error *err);

/* ------------------------------------------------------------------ */
/* Pipelines                                                           */
/* ------------------------------------------------------------------ */

/**
 * Deprecated for applications: use lazy plans (plan.h), which run on this
 * engine. Kept as the plans' execution engine; the public gf_pipeline_*
 * functions go with the next SONAME (docs/PLANS.md).
 *
 * A query pipeline: an ordered list of steps applied to an input frame by
 * gf_pipeline_run. Steps are
 *  - streaming: filter, with (computed columns), select, limit;
 *  - blocking: join (with a second frame), group-by, sort.
 *
 * Consecutive streaming steps run fused, push-based, in one parallel pass
 * over the input (docs/DESIGN.md, "Architecture"): per morsel the predicates produce a
 * selection vector, the computed columns are evaluated only over the
 * selected rows, and only the columns that leave the pass are gathered, in
 * batches coalesced to about 64K rows. Nothing is materialised between the
 * fused steps; computed columns that nothing downstream uses are never
 * evaluated. When the pass feeds a group-by, only the columns the group-by
 * reads (keys and aggregate inputs) leave it, and each morsel compacts its
 * own kept rows of them in the same task as the predicate: the group-by
 * consumes those morsel outputs directly, with no coalescing copy. A limit ends a fused pass (later steps see its output) and
 * stops reading morsels once enough rows are found. A sort directly
 * followed by a limit (selects in between allowed) is a top-k.
 *
 * Results equal running the steps one by one with gf_filter,
 * gf_with_columns, gf_select, gf_frame_slice, gf_join, gf_group_by_list and
 * gf_sort, and are identical for any worker count, strategy and chunk size
 * (row order included).
 *
 * Built by one thread; once built, a pipeline is only read by
 * gf_pipeline_run, which may be called from several threads at once (the
 * observer is then called from each of them).
 */
typedef struct gf_pipeline gf_pipeline;

/** Creates an empty pipeline (gf_pipeline_run of it returns the input). */
GF_API gf_status gf_pipeline_new(gf_pipeline **out, gf_error *err);
/** Frees the pipeline and what it retains. NULL allowed. */
GF_API void gf_pipeline_free(gf_pipeline *p);

/** Keeps the rows where `predicate` (bool) is true; null counts as false.
 * The expression is retained (not consumed). */
GF_API gf_status gf_pipeline_add_filter(gf_pipeline *p, const gf_expr *predicate,
                                        gf_error *err);
/**
 * Adds or replaces n computed columns, as gf_with_columns: all n
 * expressions see the columns as they are before this step (later steps see
 * the new ones). Names are copied, expressions retained. Duplicate names in
 * one step are GF_EINVAL.
 */
GF_API gf_status gf_pipeline_add_with(gf_pipeline *p, const char *const *names,
                                      gf_expr *const *exprs, int n,
                                      gf_error *err);
/** Keeps the named columns in the order given (as gf_select). */
GF_API gf_status gf_pipeline_add_select(gf_pipeline *p, const char *const *names,
                                        int n, gf_error *err);
/** Keeps the first n rows (n >= 0). */
GF_API gf_status gf_pipeline_add_limit(gf_pipeline *p, int64_t n, gf_error *err);
/**
 * Joins the current rows (left) with `right` (retained) as gf_join with
 * `suffix` (NULL = "_right") for clashing names.
 */
GF_API gf_status gf_pipeline_add_join(gf_pipeline *p, gf_frame *right,
                                      const char *const *left_on,
                                      const char *const *right_on, int nkeys,
                                      gf_join_kind how, const char *suffix,
                                      gf_error *err);
/**
 * Groups by `nkeys` key columns (0 = the whole frame is one group) and
 * computes the aggregates of `aggs` (gf_agg_parse syntax; NULL or "" = no
 * aggregates, i.e. the distinct keys). Parse errors are reported here.
 * `sort_keys` orders groups by key instead of first appearance.
 */
GF_API gf_status gf_pipeline_add_group_by(gf_pipeline *p, const char *const *keys,
                                          int nkeys, const char *aggs,
                                          bool sort_keys, gf_error *err);
/** Sorts by `keys` (copied) as gf_sort (stable). */
GF_API gf_status gf_pipeline_add_sort(gf_pipeline *p, const gf_sort_key *keys,
                                      int nkeys, gf_error *err);

/** What one executed step did, for gf_pipeline_set_observer. */
typedef struct gf_pipeline_step_info {
  const char *name;            /**< e.g. "filter+with+select (fused)", "group-by" */
  int64_t rows_in, rows_out;
  int64_t wall_ns;
  const gf_exec_stats *stats;  /**< runtime statistics, NULL when none ran */
} gf_pipeline_step_info;

typedef void (*gf_pipeline_observer)(void *user, const gf_pipeline_step_info *info);

/** Calls `fn` after each executed step (NULL = none). */
GF_API void gf_pipeline_set_observer(gf_pipeline *p, gf_pipeline_observer fn,
                                     void *user);

/**
 * Runs the pipeline over `f`. `opts` (NULL = defaults) apply to every step:
 * all memory goes through opts->allocator, cancellation through
 * opts->cancel, and opts->timeout_ms bounds the whole run (the deadline is
 * fixed when the run starts, not per step). When opts->stats is set it
 * receives the sum over all steps. Type errors and unknown columns are
 * reported (GF_EINVAL / GF_ETYPE) before the rows of a fused pass are
 * touched. On failure `*out` is untouched and nothing leaks.
 */
GF_API gf_status gf_pipeline_run(const gf_pipeline *p, const gf_frame *f,
                                 const gf_parallel_options *opts, gf_frame **out,
                                 gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_QUERY_H */
