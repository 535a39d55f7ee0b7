/*
 * Internal interface of sort, join and take (src/ops/sort*.c, join*.c,
 * take.c). Not installed.
 */
#ifndef GF_OPS_SORT_JOIN_INTERNAL_H
#define GF_OPS_SORT_JOIN_INTERNAL_H

#include <string.h>

#include "ops/key_policy.h"

/* Output frames of sort and join are cut into batches of this many rows
 * (a constant, so batch boundaries never depend on the worker count). */
#define GFI_TAKE_BATCH_ROWS ((int64_t)1 << 20)

/* ---- take: gathering rows by 64-bit frame row numbers ------------------- */

/* Copies rows idx[0..n) of column `col` of `f` (row numbers over the whole
 * frame, any batch; -1 = a null row) into one new array through `a`.
 * Dictionary columns keep the frame's dictionary. Statistics computed. */
gf_status gfi_take(const gf_frame *f, int col, const int64_t *idx, int64_t n,
                   const gf_allocator *a, gf_array **out, gf_error *err);
/* gfi_take for indices the caller knows to be ascending and never -1
 * (group first rows, distinct rows): skips the scan that checks for it. */
gf_status gfi_take_ascending(const gf_frame *f, int col, const int64_t *idx, int64_t n,
                             const gf_allocator *a, gf_array **out, gf_error *err);

/* One output column of gfi_take_frame: column `col` of `f` taken at `idx`
 * (shared by several columns; -1 = null), named `name`. */
typedef struct gfi_take_col {
  const gf_frame *f;
  int col;
  const int64_t *idx;
  const char *name;
  bool nullable; /* output field nullable even if the source is not */
  bool ascending; /* idx ascending without -1 (see gfi_take_ascending) */
} gfi_take_col;

/* Builds a frame of `n` rows from `ncols` taken columns, in batches of
 * GFI_TAKE_BATCH_ROWS gathered in parallel. `o` are loaded options. */
gf_status gfi_take_frame(const gfi_take_col *cols, int ncols, int64_t n,
                         const gf_parallel_options *o, gf_frame **out,
                         gf_error *err);

/* ---- radix sort ---------------------------------------------------------- */

/* Stably sorts keys[0..n) ascending, moving vals along (parallel LSD radix
 * on 11-bit digits, skipping digits that are equal in every key). The
 * result depends only on the input, never on the options. Scratch memory
 * through o->allocator (or the default). */
gf_status gfi_radix_sort(uint64_t *keys, int64_t *vals, int64_t n,
                         const gf_parallel_options *o, gf_error *err);

/* ---- prepared sort keys (sort*.c) ---------------------------------------- */
/* Per row: an order-preserving 64-bit encoding (fixed-width types,
 * dictionary ranks) or the leading bytes plus a pointer to the whole
 * string, and a null flag. */

/* A column as batches: arrs[b] holds rows [offs[b], offs[b+1]). */
typedef struct gfi_colsrc {
  gf_array *const *arrs;
  const int64_t *offs;
  int nb;
  gf_datatype type;
} gfi_colsrc;

enum { GFI_SK_FIXED = 0, GFI_SK_BYTES, GFI_SK_ALLNULL };

typedef struct gfi_sprep {
  int kind;
  bool desc, nulls_first;
  int64_t n;
  uint64_t *enc;        /* FIXED: encoding (complemented when desc), 0 for
                           nulls; BYTES: big-endian first 8 bytes */
  uint8_t *nul;         /* 1 = null; NULL when no row is null */
  const uint8_t **ptr;  /* BYTES: value bytes */
  int64_t *len;         /* BYTES: value lengths */
  uint8_t *own;         /* decimals: order-encoded copies ptr points into */
  size_t own_bytes;
  const gf_allocator *a;
} gfi_sprep;

/* Prepares one key over `src` (parallel over row chunks). */
gf_status gfi_sprep_make(const gfi_colsrc *src, bool desc, bool nulls_first,
                         const gf_parallel_options *o, gfi_sprep *out,
                         gf_error *err);
void gfi_sprep_free(gfi_sprep *k);

/* Stably reorders perm[0..n) (row numbers) by key k. */
gf_status gfi_sort_pass(const gfi_sprep *k, int64_t *perm, int64_t n,
                        const gf_parallel_options *o, gf_error *err);

/* Compares rows x and y by keys[0..nk) then by row number (a total order). */
int gfi_row_cmp(const gfi_sprep *keys, int nk, int64_t x, int64_t y);

/* ---- external sort (sort_spill.c, docs/SPILLING.md) ---------------------- */

/* The key columns of a sort: per key a column source over f's batches. */
typedef struct gfi_keycols {
  gfi_colsrc *src;
  gf_array **arrs;
  int nkeys;
  int nb;
} gfi_keycols;

/* Resolves keys[0..nkeys) against f (GF_EINVAL naming a missing one). */
gf_status gfi_keycols_make(const gf_frame *f, const gf_sort_key *keys, int nkeys,
                           const gf_allocator *a, gfi_keycols *kc, gf_error *err);
void gfi_keycols_free(const gf_allocator *a, gfi_keycols *kc);

/* True when the full sort of `f` under loaded options `o` should spill:
 * a memory limit is set and the in-memory sort's working set (key
 * encodings, radix scratch, the permutation) would cross it, or the test
 * hook forces it. */
bool gfi_sort_should_spill(const gf_frame *f, const gfi_keycols *kc, const gf_parallel_options *o);

/* External stable sort: fills perm[0..n) (n = rows of f) with exactly the
 * permutation of the in-memory full sort. Sorted runs of the input rows
 * (each sorted in parallel) are spilled as Arrow IPC blocks of (row number,
 * per-key order encoding) to one nameless temporary file and k-way merged;
 * ties between runs go to the lower run, i.e. the lower row number. Runs
 * and blocks get the memory the limit leaves, divided by 4^shrink (a retry
 * after GF_ENOMEM: memory held outside the call is not visible). */
/* Receives the next m row numbers of the sorted order. */
typedef gf_status (*gfi_perm_sink)(void *user, const int64_t *rows, int64_t m, gf_error *err);
/* With `sink` NULL, perm has n entries and receives the whole order; else
 * perm is a buffer of `cap` entries handed to sink whenever it is full and
 * at the end (so the whole permutation never exists). */
gf_status gfi_sort_external(const gf_frame *f, const gfi_keycols *kc, const gf_sort_key *keys,
                            const gf_parallel_options *o, int shrink, int64_t *perm,
                            int64_t cap, gfi_perm_sink sink, void *sink_user, gf_error *err);

/* Receives one output batch of a sort (borrowed: retain it to keep it). */
typedef gf_status (*gfi_sort_batch_fn)(void *user, gf_frame *batch, gf_error *err);

/* The full stable sort of f, handed out as consecutive one-batch frames
 * of GFI_TAKE_BATCH_ROWS rows (the last shorter): the batches of gf_sort's
 * output, in order, without the whole output ever being in memory, for
 * sinks that write each batch and drop it. Under a memory limit the order
 * comes from the external sort's merge 1M rows at a time (no full
 * permutation either). `opts` as for gf_sort (a call of its own). */
gf_status gfi_sort_batches(const gf_frame *f, const gf_sort_key *keys, int nkeys,
                           const gf_parallel_options *opts, gfi_sort_batch_fn emit, void *user,
                           gf_error *err);

/* Test hook: when run_rows > 0, every full sort spills with runs of that
 * many rows and blocks of block_rows rows (0 = the default); run_rows 0
 * turns it off. */
void gfi_sort_test_spill(int64_t run_rows, int64_t block_rows);

/* ---- join keys and hash tables (join*.c) --------------------------------- */

/* How a key is compared: integers (incl. bool, temporal, as int64 bits),
 * floats (normalised double bits), bytes (XXH3 hash plus the bytes), or a
 * key that never matches (the null type). */
enum { GFI_JC_INT = 0, GFI_JC_FLOAT, GFI_JC_BYTES, GFI_JC_NULL };

/* The GFI_JC_* class a left key of type lt and a right key of type rt are
 * compared as, or -1 when they cannot be compared (join.c); *big_l /
 * *big_r as gfi_jside_make's big_unsigned_invalid of each side. */
int gfi_join_key_class(gf_datatype lt, gf_datatype rt, bool *big_l, bool *big_r);

/* One side's key columns prepared per row (row numbers over the frame). */
typedef struct gfi_jside {
  int64_t n;
  int nk;
  const int *cls;        /* per key GFI_JC_*, shared by both sides */
  uint64_t **v;          /* per key: value (INT/FLOAT) or hash (BYTES) */
  const uint8_t ***ptr;  /* per key: bytes (BYTES keys), else NULL */
  int64_t **len;         /* per key: byte lengths (BYTES keys), else NULL */
  uint8_t *ok;           /* 1 = every key valid (may match); NULL = all valid */
  uint64_t *hash;        /* row hash (generic table only), else NULL */
  const gf_allocator *a;
} gfi_jside;

/* Prepares side `f` for keys cols[0..nk) with classes cls[] (array kept by
 * reference). `big_unsigned_invalid[k]`: uint64 values above INT64_MAX can
 * never match (the other side is signed). `with_hash`: fill `hash`. */
gf_status gfi_jside_make(const gf_frame *f, const int *cols, const int *cls, int nk,
                         const bool *big_unsigned_invalid, bool with_hash,
                         const gf_parallel_options *o, gfi_jside *out,
                         gf_error *err);
void gfi_jside_free(gfi_jside *s);

typedef enum gfi_probe_mode {
  GFI_PROBE_INNER = 0, /* every matching pair */
  GFI_PROBE_OUTER,     /* every matching pair, or (p, -1) when none */
  GFI_PROBE_SEMI,      /* p once when it has a match */
  GFI_PROBE_ANTI       /* p when it has no match */
} gfi_probe_mode;

typedef struct gfi_jtable gfi_jtable;

/* Builds the table over the valid rows of `b` (partitioned, in parallel;
 * direct-indexed for one integer key of small range). Chains list the
 * build rows of one key in increasing row order. */
gf_status gfi_jtable_build(const gfi_jside *b, const gf_parallel_options *o,
                           gfi_jtable **out, gf_error *err);
void gfi_jtable_free(gfi_jtable *t);

/* Probes every row of `p` in parallel. Results in probe order, each probe
 * row's matches in build order: *prow / *brow (brow NULL for SEMI/ANTI),
 * *count entries, allocated through o->allocator. With `unmatched_build`,
 * the build rows that matched no probe row follow as (-1, row) in build
 * order. The output is counted before anything is emitted: more than
 * GF_MAX_ROWS rows fail with GF_ERANGE, and with `limit` > 0 an output whose
 * rows times `row_bytes` (a lower bound of what one output row costs)
 * exceeds it fails with GF_ENOMEM naming both. Emission checks the token
 * and the deadline of the loaded options `o` every 64K entries. */
gf_status gfi_jtable_probe(const gfi_jtable *t, const gfi_jside *p,
                           gfi_probe_mode mode, bool unmatched_build,
                           int64_t row_bytes, int64_t limit,
                           const gf_parallel_options *o, int64_t **prow,
                           int64_t **brow, int64_t *count, gf_error *err);

/* ---- grace join (join_spill.c, docs/SPILLING.md) -------------------------- */

/* Row pairs of a join's output in its documented order: l (left rows, -1
 * none) and r (right rows, -1 none; NULL for semi/anti), count entries. */
typedef struct gfi_join_pairs {
  int64_t *l, *r;
  int64_t count;
} gfi_join_pairs;

/* The in-memory gf_join (join.c); with `pre` (taken over) only the output
 * is built from the given pairs. *gathering (may be NULL) tells whether
 * the output was being gathered (a failure there is the output's size). */
gf_status gfi_join_mem(const gf_frame *left, const gf_frame *right,
                       const char *const *left_on, const char *const *right_on, int nkeys,
                       gf_join_kind how, const gf_join_options *opts, gfi_join_pairs *pre,
                       bool *gathering, gf_frame **out, gf_error *err);
/* True when the keys can be partitioned by one hash on both sides (each
 * key of one value type on both sides, dictionaries by their values). */
bool gfi_join_spill_eligible(const gf_frame *left, const gf_frame *right,
                             const char *const *left_on, const char *const *right_on, int nkeys);
/* The join partitioned by key hash (grace join): each partition's key
 * columns joined in memory, the row pairs merged into the in-memory order;
 * the output is the in-memory one bit for bit. A call of its own. */
gf_status gfi_join_spilled(const gf_frame *left, const gf_frame *right,
                           const char *const *left_on, const char *const *right_on, int nkeys,
                           gf_join_kind how, const gf_join_options *opts, gf_frame **out,
                           gf_error *err);
/* Test hook: with partitions > 0 every eligible join runs partitioned. */
void gfi_join_test_spill(int partitions);
int gfi_join_test_spill_parts(void);

#endif /* GF_OPS_SORT_JOIN_INTERNAL_H */
