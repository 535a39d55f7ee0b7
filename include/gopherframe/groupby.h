/*
 * gopherframe/groupby.h - parallel group-by aggregation (docs/DESIGN.md,
 * "Determinism").
 * Part of <gopherframe.h>; include that instead.
 *
 * Results are bit-identical (float sums included) for any worker count,
 * strategy and chunk size. Groups come out in order of first appearance of
 * their key unless gf_groupby_options.sort_keys is set.
 *
 * Keys follow the one key policy of group-by, distinct, join and sort:
 * nulls form one group; -0.0 and +0.0 are one key, and every NaN (any sign
 * or payload) is one key, ordered after +inf; integers by value; strings
 * and binary by bytes; a dictionary column by its values (codes of equal
 * values are one key, a code of a null value is a null). A group's key
 * columns show the values of its first row (so a group holding -0.0 first
 * shows -0.0). Aggregates skip nulls; a group without any non-null input
 * gives null (count and n_unique give 0); min and max order floats by IEEE
 * totalOrder (-0.0 < +0.0).
 */
#ifndef GOPHERFRAME_GROUPBY_H
#define GOPHERFRAME_GROUPBY_H

#include "data.h"
#include "exec.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Aggregate functions. Result types in brackets. */
typedef enum gf_agg_kind {
  GF_AGG_COUNT_ALL = 0, /**< count(*) / count(): rows of the group [int64] */
  GF_AGG_COUNT,         /**< count(col): non-null values [int64] */
  GF_AGG_SUM,           /**< [int64 for integers/bool: overflow is GF_ERANGE; float64] */
  GF_AGG_MEAN,          /**< [float64] */
  GF_AGG_MIN,           /**< totalOrder for floats, bytewise for strings [input type] */
  GF_AGG_MAX,           /**< [input type] */
  GF_AGG_FIRST,         /**< first non-null value in row order [input type] */
  GF_AGG_LAST,          /**< last non-null value in row order [input type] */
  GF_AGG_VAR,           /**< sample variance (n-1), Welford/Chan [float64] */
  GF_AGG_STD,           /**< sample standard deviation [float64] */
  GF_AGG_MEDIAN,        /**< = quantile 0.5 [float64] */
  GF_AGG_QUANTILE,      /**< q in [0,1], numpy 'linear' interpolation [float64] */
  GF_AGG_N_UNIQUE,      /**< distinct non-null values [int64] */
  GF_AGG_CORR,          /**< Pearson correlation of column, column2 [float64] */
  GF_AGG_TOP_K          /**< k largest non-null values, one output row each,
                             largest first [input type]; combines only with
                             the keys and other top_k of the same k */
} gf_agg_kind;

/** One aggregate. */
typedef struct gf_agg_spec {
  gf_agg_kind kind;
  const char *column;  /**< input column; NULL for GF_AGG_COUNT_ALL */
  const char *column2; /**< second input of GF_AGG_CORR, else NULL */
  double q;            /**< GF_AGG_QUANTILE: the quantile in [0, 1] */
  int k;               /**< GF_AGG_TOP_K: k >= 1 */
  const char *name;    /**< output column name; NULL = e.g. "sum(v1)" */
} gf_agg_spec;

/** Options of a group-by. NULL options = defaults. */
typedef struct gf_groupby_options {
  size_t size;                         /**< sizeof(gf_groupby_options) */
  bool sort_keys;                      /**< output sorted by the keys (ascending,
                                            nulls last, in the key policy's
                                            order: NaN after +inf, strings
                                            bytewise) instead of first
                                            appearance */
  const gf_parallel_options *parallel; /**< NULL = defaults */
} gf_groupby_options;

/** Fills the defaults: first-appearance order, default parallel options. */
GF_API void gf_groupby_options_init(gf_groupby_options *o);

/**
 * Groups `f` by the `nkeys` key columns and computes `nspecs` aggregates per
 * group. Output: the key columns (same names and types), then one column per
 * aggregate in the order given. With nkeys = 0 the whole frame is one group
 * (one output row, even for an empty frame). Errors: GF_EINVAL (unknown
 * column, duplicate output name, top_k mixed with other aggregates),
 * GF_ETYPE (aggregate not defined for the column type), GF_ERANGE (integer
 * sum outside int64), plus GF_ENOMEM / GF_ECANCELED / GF_ETIMEDOUT from the
 * runtime. All memory goes through the parallel options' allocator.
 */
GF_API gf_status gf_group_by(const gf_frame *f, const char *const *keys,
                             int nkeys, const gf_agg_spec *specs, int nspecs,
                             const gf_groupby_options *opts, gf_frame **out,
                             gf_error *err);

/**
 * Distinct rows: the first row, in input order, of every distinct
 * combination of the `nkeys` key columns (every column when nkeys is 0),
 * whole rows (all columns), kept in input order, like DuckDB's DISTINCT ON
 * or Polars' unique(keep='first', maintain_order=True). Keys compare by the
 * key policy above (nulls equal each other, -0.0 equals +0.0, NaN equals
 * NaN, dictionaries by value). The output is identical for any worker count
 * and chunk size. Errors: GF_EINVAL (unknown, NULL or repeated key),
 * GF_ENOTSUP (over 2^31-1 rows), plus GF_ENOMEM / GF_ECANCELED /
 * GF_ETIMEDOUT from the runtime. Memory through `opts`' allocator.
 */
GF_API gf_status gf_distinct(const gf_frame *f, const char *const *keys, int nkeys,
                             const gf_parallel_options *opts, gf_frame **out,
                             gf_error *err);

/**
 * A parsed list of aggregate expressions, e.g.
 *   "sum(v1),mean(v3) as m,count(),count(*),median(v3),max(v1) - min(v2),
 *    pow(corr(v1, v2), 2),top_k(v3, 2),quantile(v3, 0.9),n_unique(id3)"
 * Items are separated by top-level commas; `expr as name` names an item
 * (default: the item's text). An item is any expression of the expression
 * language (expr.h) whose column references all sit inside aggregate calls:
 * count, sum, mean (avg), min, max, first, last, var, std (stddev, sd),
 * median, quantile(col, q), n_unique, corr(a, b), top_k(col, k).
 * Immutable once parsed; free with gf_agg_list_free.
 */
typedef struct gf_agg_list gf_agg_list;

/** Parses `text`; GF_EPARSE / GF_EINVAL with a message naming the item. */
GF_API gf_status gf_agg_parse(const char *text, gf_agg_list **out,
                              gf_error *err);
GF_API void gf_agg_list_free(gf_agg_list *l);
/** Number of output items. */
GF_API int gf_agg_list_count(const gf_agg_list *l);
/** Output name of item i (borrowed). */
GF_API const char *gf_agg_list_name(const gf_agg_list *l, int i);

/** gf_group_by with a parsed list: keys, then one column per item. */
GF_API gf_status gf_group_by_list(const gf_frame *f, const char *const *keys,
                                  int nkeys, const gf_agg_list *aggs,
                                  const gf_groupby_options *opts,
                                  gf_frame **out, gf_error *err);

/** Convenience: gf_agg_parse(aggs_text) + gf_group_by_list. */
GF_API gf_status gf_group_by_text(const gf_frame *f, const char *const *keys,
                                  int nkeys, const char *aggs_text,
                                  const gf_groupby_options *opts,
                                  gf_frame **out, gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_GROUPBY_H */
