/*
 * Internal interface of the group-by (src/ops/groupby*.c, agg*.c). Not
 * installed.
 *
 * Shape of one call (docs/DESIGN.md, "Determinism" and "Benchmarks"):
 *  1. keys -> groups. Small packed key ranges (dictionary codes, integer
 *     ranges from statistics, bool) index "slots" directly; otherwise rows
 *     are hashed, radix-partitioned stably by hash and each partition runs a
 *     linear-probing table. Group ids follow first appearance (the smallest
 *     row of each key), found with an order-independent min, so they never
 *     depend on the worker count.
 *  2. aggregation. Few groups and only decomposable aggregates: per
 *     reduction block partial states, combined in block order. Otherwise
 *     the group ids are split into one range per worker; each task scans
 *     all rows in row order and aggregates the rows of its range; median,
 *     quantile and n_unique work on per-group lists of the non-null values
 *     there (quickselect), top_k fills k fixed slots per group while
 *     streaming the rows.
 * Either way every group sees its values in one fixed order: results are
 * bit-identical for any worker count, strategy and chunk size.
 */
#ifndef GF_OPS_GROUPBY_INTERNAL_H
#define GF_OPS_GROUPBY_INTERNAL_H

#include <string.h>

#include "exec/exec_internal.h"
#include "ops/key_policy.h"

/* A frame seen as global rows: row -> (batch, index). */
typedef struct gb_view {
  const gf_frame *f;
  int64_t n;
  int nb, ncols;
  const int64_t *boff; /* nb + 1 entries */
} gb_view;


/* Batch holding global row r (0 <= r < n): the one row -> batch look-up
 * (key_policy.h). */
static inline int gb_batch_of(const gb_view *v, int64_t r) {
  return gfi_batch_of(v->boff, v->nb, r);
}
static inline const gf_array *gb_col(const gb_view *v, int b, int c) {
  return v->f->columns[(size_t)b * (size_t)v->ncols + (size_t)c];
}

/* Rows processed per inner step (stack scratch). */
#define GB_SUB 1024

/* Visits the batch pieces of global rows [s, e): body sees b, lo (element
 * start in the batch), len and r0 (global row of lo). */
#define GB_FOR_PIECES(v, s, e, ...)                                              \
  do {                                                                         \
    int64_t r_ = (s);                                                          \
    while (r_ < (e)) {                                                         \
      int b = gb_batch_of((v), r_);                                            \
      int64_t bend_ = (v)->boff[b + 1] < (e) ? (v)->boff[b + 1] : (e);         \
      for (int64_t q_ = r_; q_ < bend_; q_ += GB_SUB) {                           \
        int64_t r0 = q_, lo = q_ - (v)->boff[b];                               \
        int64_t len = bend_ - q_ < GB_SUB ? bend_ - q_ : GB_SUB;                     \
        (void)lo;                                                              \
        __VA_ARGS__;                                                           \
      }                                                                        \
      r_ = bend_;                                                              \
    }                                                                          \
  } while (0)

/* Cancellation points of long sequential loops inside one task (a single
 * worker runs a whole phase as one task): the token and deadline of the
 * loaded options `po` when the items [i, i + n) reach a multiple of 64K,
 * else GF_OK. Cheap enough for every 1K-row piece. */
static inline gf_status gfi_gb_poll(const gf_parallel_options *po, int64_t i, int64_t n,
                                    gf_error *err) {
  if (((i + n) >> 16) == (i >> 16)) return GF_OK;
  return gfi_check_stop(po, 0, NULL, err);
}

/* Value classes of aggregate inputs and keys. */
enum {
  GB_VC_INT = 0, /* signed/unsigned <= 32 bit ints, int64, temporal, bool */
  GB_VC_U64,     /* uint64 */
  GB_VC_FLOAT,   /* float32/float64 */
  GB_VC_DICT,    /* dictionary codes */
  GB_VC_STR,     /* utf8/binary (incl. large) and fixed_size_binary */
  GB_VC_NULL,    /* the null type */
  GB_VC_DEC      /* decimal128/decimal256: keys as bytes, min/max by value */
};
int gfi_gb_value_class(gf_datatype t);

/* Loads element values of array `a` into dst. Elements are
 * [start, start+len) of the array (relative to its logical start), or,
 * when `rows` is not NULL, rows[j] - row_base for j < len.
 *  - i64: integers, temporal raw values, bool 0/1, dictionary codes, uint64
 *    bits (reinterpreted);
 *  - f64: any numeric or bool converted to double;
 *  - key: an int64 whose signed order is the value order: totalOrder for
 *    floats (gfi_f64_total_key: min/max and the quantiles keep -0.0 <
 *    +0.0; key columns use the key policy instead), unsigned order for
 *    uint64, rank[code] for dictionaries.
 * Nulls load unspecified values. */
void gfi_gb_load_i64(const gf_array *a, int64_t start, int64_t len,
                 const int32_t *rows, int64_t row_base, int64_t *dst);
void gfi_gb_load_f64(const gf_array *a, int64_t start, int64_t len,
                 const int32_t *rows, int64_t row_base, double *dst);
void gfi_gb_load_key(const gf_array *a, int64_t start, int64_t len,
                 const int32_t *rows, int64_t row_base, const int32_t *rank,
                 int64_t *dst);
/* Validity as bytes (1 valid). Returns false (dst untouched) when the
 * array has no nulls at all. */
bool gfi_gb_load_valid(const gf_array *a, int64_t start, int64_t len,
                   const int32_t *rows, int64_t row_base, uint8_t *dst);

/* Compares element i of a with element j of b (same type; dictionaries by
 * value; floats by totalOrder, as min/max do): <0, 0, >0. Nulls are not
 * handled here. */
int gfi_gb_cmp_elems(const gf_array *a, int64_t i, const gf_array *b, int64_t j);
/* Compares key column c at global rows r and s by the key policy
 * (key_policy.h), nulls last. */
int gfi_gb_cmp_rows(const gb_view *v, int c, int64_t r, int64_t s);

/* Ranks of the values of a dictionary array (equal values equal rank),
 * allocated through `a` (d entries). */
gf_status gfi_gb_dict_rank(const gf_array *dict, const gf_allocator *a,
                       int32_t **out, gf_error *err);

/* New arrays out[k] of columns cols[k] (k < ncols) at global rows
 * rows[0..m) (in that order) through `a`; the row -> batch mapping is
 * worked out once for all of them, and with `po` the columns are gathered
 * in parallel (NULL: on the calling thread). On failure out[] is all
 * NULL. */
gf_status gfi_gb_take_columns(const gb_view *v, const int *cols, int ncols, const int64_t *rows,
                          int64_t m, const gf_parallel_options *po, const gf_allocator *a,
                          gf_array **out, gf_error *err);
/* New array of column c at global rows rows[0..m) (in that order) through
 * `a`. */
gf_status gfi_gb_take(const gb_view *v, int c, const int64_t *rows, int64_t m,
                  const gf_allocator *a, gf_array **out, gf_error *err);

/* Stable merge sort of `n` int64 items with a context comparator. With
 * loaded options `po` (NULL = none) it stops with their token or deadline
 * (gfi_gb_poll; items then in an unspecified order). */
typedef int (*gb_cmp_fn)(void *ctx, int64_t x, int64_t y);
gf_status gfi_gb_sort_i64(int64_t *items, int64_t n, gb_cmp_fn cmp, void *ctx,
                          const gf_parallel_options *po, const gf_allocator *a, gf_error *err);
/* Sorts uint64 values by their high 32 bits (LSD radix, stable). */
gf_status gfi_gb_radix_sort_hi32(uint64_t *v, int64_t n, const gf_allocator *a,
                             gf_error *err);

/* ---- one call ---------------------------------------------------------- */

/* Checks the key names of a call of `fn` (gf_group_by, gf_distinct): known,
 * not NULL, none twice; and the frame's size. */
gf_status gfi_gb_check_keys(const gf_frame *f, const char *const *keys, int nkeys,
                            const char *fn, gf_error *err);

/* What one group-by or distinct call sets up around its runtime calls: the
 * call context (one deadline, the token; exec_internal.h) loaded from the
 * caller's `opts` into *po (with a memory limit, the context's tracked
 * allocator for everything) and statistics that add up over the runtime
 * calls. `call` must outlive every use of *po. */
typedef struct gb_call {
  gfi_ctx ctx;
  int64_t start_ns;
  gf_exec_stats *user_stats;
} gb_call;
gf_status gfi_gb_call_begin(const gf_parallel_options *opts, gf_parallel_options *po,
                            gb_call *call, gf_error *err);
/* On success completes the statistics; ends the call context
 * (gfi_ctx_end) and returns st. */
gf_status gfi_gb_call_end(gb_call *call, int64_t rows, gf_status st, gf_error *err);

/* ---- phase 1: group ids ------------------------------------------------ */

/* Result of grouping: either direct slots (rowgid NULL: the aggregation
 * computes each row's slot from the keys) or a group id per row. */
typedef struct gb_groups {
  int64_t ngroups;
  int64_t *first_row; /* per group, in group-id order (first appearance) */
  int32_t *rowgid;    /* per row, or NULL when `direct` */
  /* direct slots: slot = sum(code_i * mult_i), code 0 = null */
  bool direct;
  int64_t nslots;
} gb_groups;

/* Key column description. */
typedef struct gb_key {
  int col;
  int vclass;
  bool nulls;     /* some row is null */
  bool ranged;    /* min..max known (ints, dict codes, bool) */
  int64_t min, max;
  uint64_t range; /* codes incl. the null slot: max - min + 2 */
  int64_t mult;   /* direct slot multiplier */
  /* dictionary keys whose dictionary repeats a value or holds a null:
   * code -> canonical code, -1 = null (gfi_key_dict_canon); else NULL */
  int32_t *canon;
  int64_t ncanon;
} gb_key;

/* The whole plan of one call (shared by the phases). */
typedef struct gb_ctx {
  const gf_allocator *a;
  const gf_parallel_options *po; /* loaded options for inner calls */
  gb_view v;
  int nkeys;
  gb_key *keys;
  int workers;
  bool first_only; /* grouping yields first rows only, no rowgid (distinct) */
} gb_ctx;

/* A plan for grouping f by nkeys keys with loaded options po: allocator,
 * view and worker count set; keys[] still to be allocated and filled. */
void gfi_gb_ctx_init(gb_ctx *c, const gf_frame *f, const gf_parallel_options *po, int nkeys);

/* Canonical dictionary codes of the dictionary keys (keys[].canon), so
 * codes of equal values group together; free with gfi_gb_keys_free. */
gf_status gfi_gb_keys_canon(gb_ctx *c, gf_error *err);
void gfi_gb_keys_free(gb_ctx *c);
/* Analyses the key columns; fills keys[] and decides whether direct slots
 * fit (*direct, *nslots). */
void gfi_gb_keys_analyse(gb_ctx *c, bool *direct, int64_t *nslots);
/* Slot of every row of [start, start+len) of batch b into dst (uint32).
 * `tmp` is scratch for len int64. */
void gfi_gb_keys_slots(const gb_ctx *c, int b, int64_t start, int64_t len,
                   uint32_t *dst, int64_t *tmp);
/* Computes group ids for every row (rowgid) and first rows. */
gf_status gfi_gb_groups_compute(gb_ctx *c, bool direct, int64_t nslots,
                            gb_groups *g, gf_error *err);
void gfi_gb_groups_free(gb_groups *g, const gf_allocator *a, int64_t n);

/* ---- phase 2: aggregation --------------------------------------------- */

/* Result storage of one aggregate, indexed by handle (group id or slot). */
enum { GB_RES_I64, GB_RES_F64, GB_RES_ROW, GB_RES_TOPK, GB_RES_DEC };

typedef struct gb_agg {
  gf_agg_kind kind;
  int col, col2; /* -1 none */
  int vc, vc2;
  gf_datatype type;
  double q;
  int k;
  int32_t *rank;  /* dictionary ranks (min/max/n_unique on dictionaries) */
  int64_t rank_n;
  char *name;     /* output name (owned) */
  /* results */
  int res;
  int64_t *ri;    /* GB_RES_I64 */
  double *rf;     /* GB_RES_F64 */
  gf_decimal128 *rd; /* GB_RES_DEC: decimal sums, decimal128(38, type.scale) */
  uint8_t *valid; /* for I64/F64: 1 valid */
  int64_t *rrow;  /* GB_RES_ROW: row per handle (-1 none); TOPK: k per handle */
  int32_t *rcnt;  /* GB_RES_TOPK: values per handle */
  int64_t *rnull; /* GB_RES_TOPK: a row of the group where the input is null, or -1 */
  int64_t nres;   /* handles allocated */
} gb_agg;

/* True when `kind` can be combined from per-block partial states. */
bool gfi_gb_agg_decomposable(gf_agg_kind kind, int vc);

/* Block path: handles are direct slots (groups rowgid NULL) or group ids.
 * Fills aggs' results for every handle, and, for direct slots, the groups'
 * ids and first rows (g->ngroups, g->first_row; handles of the groups in
 * `*order`, first appearance). */
gf_status gfi_gb_agg_blocks(gb_ctx *c, gb_groups *g, gb_agg *aggs, int naggs,
                        int64_t **order, gf_error *err);
/* Partition path over group ids (g->rowgid set). */
gf_status gfi_gb_agg_partitions(gb_ctx *c, gb_groups *g, gb_agg *aggs, int naggs,
                            gf_error *err);
/* Allocates results of one aggregate for `nh` handles. */
gf_status gfi_gb_agg_alloc_results(gb_agg *ag, int64_t nh, const gf_allocator *a,
                               gf_error *err);
void gfi_gb_agg_free_results(gb_agg *ag, const gf_allocator *a);

/* ---- spilling (groupby_spill.c, docs/SPILLING.md) ---------------------- */

/* The in-memory group-by (groupby.c); `force_partitions` keeps it off the
 * block path, so every group adds its values up in row order. *building
 * (may be NULL) tells whether the output was being built (a failure there
 * is the output's size). */
gf_status gfi_gb_group_by_mem(const gf_frame *f, const char *const *keys, int nkeys,
                              const gf_agg_spec *specs, int nspecs, const char *const *names,
                              const gf_groupby_options *opts, bool force_partitions,
                              bool *building, gf_frame **out, gf_error *err);
/* True when a group-by of this shape can run spilled: keys, no top_k, no
 * sort_keys, at least 2 rows. */
bool gfi_gb_spill_eligible(const gf_frame *f, int nkeys, const gf_agg_spec *specs, int nspecs,
                           bool sort_keys);
/* The group-by partitioned by key hash, partition by partition, outputs
 * spilled and merged in first-appearance order: the in-memory result bit
 * for bit (GF_ENOMEM instead when float sums would associate differently).
 * A call of its own (`opts` as for gf_group_by). */
gf_status gfi_gb_spilled(const gf_frame *f, const char *const *keys, int nkeys,
                         const gf_agg_spec *specs, int nspecs, const char *const *names,
                         const gf_groupby_options *opts, gf_frame **out, gf_error *err);
/* Test hook: with partitions > 0 every eligible group-by spills into that
 * many partitions; 0 turns it off. */
void gfi_gb_test_spill(int partitions);
int gfi_gb_test_spill_parts(void);

#endif /* GF_OPS_GROUPBY_INTERNAL_H */
