/*
 * gopherframe/sort_join.h - parallel sort (with top-k) and joins.
 * Part of <gopherframe.h>; include that instead.
 */
#ifndef GOPHERFRAME_SORT_JOIN_H
#define GOPHERFRAME_SORT_JOIN_H

#include "data.h"
#include "exec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Sort                                                                */
/* ------------------------------------------------------------------ */

/**
 * One sort key. A zeroed key (apart from `column`) is ascending with nulls
 * last. Orders, per type (the key policy shared with group-by, distinct and
 * join, see groupby.h):
 *  - integers, bool (false < true), temporal types: by value;
 *  - float32/float64: by value with every NaN equal and last (ascending):
 *    -inf < ... < -0.0 = +0.0 < ... < +inf < NaN; the sort is stable, so
 *    -0.0 and +0.0 (and NaNs of any sign or payload) keep their input order;
 *  - utf8/binary (and large, fixed-size): by bytes (memcmp, then shorter
 *    first), i.e. Unicode code point order for valid UTF-8, no collation;
 *  - dictionary: by the dictionary value (not by code);
 *  - the null type: every row null.
 * `descending` reverses the value order (NaN first then); nulls go first or
 * last by `nulls_first` regardless of direction.
 */
typedef struct gf_sort_key {
  const char *column;
  bool descending;
  bool nulls_first;
} gf_sort_key;

/**
 * Parses a sort spec such as `k desc, v nulls first, "odd name" asc`: a
 * comma-separated list of column names (bare, or in double quotes with ""
 * for a quote), each optionally followed by `asc`/`desc` and by
 * `nulls first`/`nulls last` (keywords case-insensitive; defaults asc,
 * nulls last). `*keys` (names included) is one block freed with
 * gf_sort_keys_free. GF_EPARSE with the byte position on bad input.
 */
GF_API gf_status gf_sort_keys_parse(const char *text, gf_sort_key **keys,
                                    int *nkeys, gf_error *err);
/** Frees what gf_sort_keys_parse returned. NULL allowed. */
GF_API void gf_sort_keys_free(gf_sort_key *keys);

/**
 * Stable sort permutation: `*perm` (gf_frame_num_rows entries, allocated
 * through opts->allocator or the default; free it with
 * gf_sort_indices_free) lists the row numbers of `f` in sorted order; rows
 * with equal keys keep their input order, so the permutation is unique and
 * identical for any worker count, strategy or chunk size. Fixed-width keys
 * are sorted by a parallel LSD radix sort of order-preserving 64-bit
 * encodings (one stable pass per key, last key first); string keys by a
 * parallel stable merge sort.
 */
GF_API gf_status gf_sort_indices(const gf_frame *f, const gf_sort_key *keys,
                                 int nkeys, const gf_parallel_options *opts,
                                 int64_t **perm, gf_error *err);
/** Frees a permutation from gf_sort_indices (`n` = its length). */
GF_API void gf_sort_indices_free(int64_t *perm, int64_t n,
                                 const gf_parallel_options *opts);

/**
 * Sorts `f` by `keys` (stable, as gf_sort_indices) and gathers every column
 * into `*out`. `limit` > 0 keeps only the first `limit` rows, found by a
 * parallel top-k selection (bounded heaps per morsel, merged) without
 * sorting everything; the result equals the full sort cut to `limit` rows.
 * `limit` 0 = all rows. Dictionary columns keep their dictionary.
 */
GF_API gf_status gf_sort(const gf_frame *f, const gf_sort_key *keys, int nkeys,
                         int64_t limit, const gf_parallel_options *opts,
                         gf_frame **out, gf_error *err);

/* ------------------------------------------------------------------ */
/* Joins                                                               */
/* ------------------------------------------------------------------ */

typedef enum gf_join_kind {
  GF_JOIN_INNER = 0,
  GF_JOIN_LEFT,
  GF_JOIN_RIGHT,
  GF_JOIN_FULL,
  GF_JOIN_SEMI, /**< left rows with at least one match (once each) */
  GF_JOIN_ANTI  /**< left rows with no match */
} gf_join_kind;

/** "inner", "left", "right", "full" (or "outer"), "semi", "anti"
 * (case-insensitive) to a kind; GF_EINVAL otherwise. */
GF_API gf_status gf_join_kind_parse(const char *name, gf_join_kind *out,
                                    gf_error *err);
/** Lowercase name of a kind ("inner"...). */
GF_API const char *gf_join_kind_name(gf_join_kind how);

typedef struct gf_join_options {
  size_t size;          /**< sizeof(gf_join_options) */
  const char *suffix;   /**< appended to clashing right column names; NULL = "_right" */
  const gf_parallel_options *parallel; /**< NULL = defaults */
} gf_join_options;

/** Defaults: suffix "_right", default parallel options. */
GF_API void gf_join_options_init(gf_join_options *o);

/**
 * Joins `left` and `right` on equal keys left_on[i] == right_on[i].
 *
 * Keys: any supported type; both sides of a key must be comparable:
 * integers of any width and signedness with each other (by value), floats
 * with floats (by value; -0.0 equals +0.0, NaN equals NaN), utf8 with utf8
 * and binary with binary (large or not, by bytes), dictionaries by their
 * values (so dictionary<utf8> joins utf8), fixed-size binary of equal
 * width, bool with bool, temporal types with the identical type; anything
 * else fails with GF_ETYPE. SQL null semantics: a row with a null in any
 * key matches nothing (it still appears, unmatched, in outer/anti joins).
 * Duplicate keys on both sides produce every pair.
 *
 * Output columns:
 *  - inner, left: every left column, then the right columns that are not
 *    right keys (a right key equals its left key on matched rows);
 *  - right, full: every left column, then every right column (keys
 *    included: they are not coalesced, unmatched sides are null);
 *  - semi, anti: the left columns only.
 * A right column whose name is already taken gets `suffix` appended
 * (GF_EINVAL when that name is taken too).
 *
 * Output rows, identical for any worker count or chunk size: left row
 * order; each left row's matches in right row order (inner, left, and the
 * first part of right/full, where unmatched left rows appear with nulls
 * for full only); then, for right and full, the unmatched right rows in
 * right order with nulls on the left.
 *
 * Limits: the output is counted before it is made; more than GF_MAX_ROWS
 * rows fail with GF_ERANGE, and with parallel->memory_limit an output that
 * cannot fit (its row count times a lower bound of a row's bytes) fails
 * with GF_ENOMEM naming the row count and the limit, before it is written.
 * The limit covers the whole call, output included. Emission checks the
 * cancel token and the deadline every 64K output rows, so a skewed key (a
 * few probe rows with millions of matches each) still stops promptly.
 *
 * Method: a parallel partitioned hash join that builds on the smaller side
 * (always the right side for left/semi/anti), with a direct-indexed table
 * when a single integer key has a small range. Strings hash with XXH3.
 * Keys follow the key policy of groupby.h (nulls never match).
 */
GF_API gf_status gf_join(const gf_frame *left, const gf_frame *right,
                         const char *const *left_on,
                         const char *const *right_on, int nkeys,
                         gf_join_kind how, const gf_join_options *opts,
                         gf_frame **out, gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_SORT_JOIN_H */
