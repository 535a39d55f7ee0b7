/*
 * Internal layout of expression trees and bound expressions, and the
 * batch-level evaluation entry points used by gf_evaluate, gf_filter and
 * the fused query pipeline (not installed).
 */
#ifndef GF_EXPR_INTERNAL_H
#define GF_EXPR_INTERNAL_H

#include "core/calendar.h"
#include "data/array_internal.h"
#include "exec/planners.h"

/* A literal value. `id` is one of NULL, BOOL, INT64, FLOAT64, UTF8, DATE32
 * for parsed/constructed literals; bound scalars may carry any type. */
typedef struct gfi_lit {
  gf_datatype type;
  bool null;   /* a typed null (bound scalars); type NULL is null too */
  int64_t i;   /* ints, bool (0/1), temporal raw values */
  double f;    /* floats */
  char *s;     /* utf8 bytes (owned, NUL-terminated for convenience) */
  int64_t len; /* utf8 length in bytes */
} gfi_lit;

struct gf_expr {
  gfi_refcount ref;
  gf_expr_kind kind;
  gf_op op;           /* UNARY / BINARY */
  char *name;         /* COLUMN: column name; CALL: function name, lowercase */
  gfi_lit lit;        /* LITERAL */
  gf_datatype cast_to;/* CAST */
  int nargs;
  gf_expr **args;     /* UNARY 1, BINARY 2, CALL n, CAST 1, BETWEEN 3, IN 1+n */
  int height;         /* 1 for a leaf, else 1 + the highest child */
  gf_expr *dead;      /* gf_expr_release's work list (count reached 0) */
};

/* The tallest tree the constructors build (they return NULL above it) and
 * the parser accepts (with a message). No pass over a tree recurses once
 * per level any more (binding, aggregate rewriting, evaluation, reference
 * marking, printing and release walk explicit heap stacks; equality
 * descends the tallest argument in a loop), so this is only a sanity bound
 * that keeps heights far from int overflow: a chain this tall is ~1 GB of
 * nodes. A flat chain a + b + c ... is one level per operator. */
#define GFI_EXPR_MAX_HEIGHT 10000000

/* Height of `e` (see struct gf_expr). */
static inline int gfi_expr_height(const gf_expr *e) { return e->height; }

/* Text of `e` in the parser's syntax, freed with gf_mem_free (for messages);
 * NULL when out of memory. */
char *gfi_expr_text(const gf_expr *e);
/* Civil date helpers: gfi_days_from_civil & co in core/calendar.h. */
/* Parses "YYYY-MM-DD" (exactly the whole text) into days since epoch. */
bool gfi_parse_date(const char *s, int64_t len, int64_t *days);
/* Parses "YYYY-MM-DD[( |T)HH:MM[:SS[.fraction]]]" into microseconds. */
bool gfi_parse_timestamp_us(const char *s, int64_t len, int64_t *us);

/* ---- bound trees -------------------------------------------------------- */

typedef enum gfi_bkind {
  GFI_B_COLUMN = 0, /* col */
  GFI_B_SCALAR,     /* lit (already of `type`) */
  GFI_B_CAST,       /* kid[0] to type */
  GFI_B_ARITH,      /* op ADD..MOD on int64 or float64 kids */
  GFI_B_NEG,
  GFI_B_CMP,        /* op EQ..GE; kids of one domain (see cmp_domain) */
  GFI_B_CMP_DICT,   /* kid[0] dictionary column, lit: value, op EQ/NE */
  GFI_B_AND,
  GFI_B_OR,
  GFI_B_NOT,
  GFI_B_IS_NULL,
  GFI_B_IS_NOT_NULL,
  GFI_B_IF,         /* kid[0] cond, kid[1], kid[2] of `type` */
  GFI_B_MATH,       /* fn: abs floor ceil round sqrt log exp; kid[1] = digits */
  GFI_B_POW,
  GFI_B_LENGTH,
  GFI_B_LOWER,
  GFI_B_UPPER,
  GFI_B_STRPRED,    /* fn: contains / starts_with / ends_with */
  GFI_B_SUBSTR,     /* kid[1] start, kid[2] length (optional) */
  GFI_B_DATEPART,   /* fn: year .. weekday (int64), or trunc_* (the timestamp type) */
  GFI_B_IN_SET      /* kid[0] in set (a literal in-list, see gfi_inset) */
} gfi_bkind;

enum { GFI_FN_ABS, GFI_FN_FLOOR, GFI_FN_CEIL, GFI_FN_ROUND, GFI_FN_SQRT,
       GFI_FN_LOG, GFI_FN_EXP, GFI_FN_CONTAINS, GFI_FN_STARTS, GFI_FN_ENDS,
       GFI_FN_YEAR, GFI_FN_MONTH, GFI_FN_DAY, GFI_FN_HOUR, GFI_FN_MINUTE,
       GFI_FN_SECOND, GFI_FN_WEEKDAY, GFI_FN_TRUNC_YEAR, GFI_FN_TRUNC_MONTH,
       GFI_FN_TRUNC_DAY, GFI_FN_TRUNC_HOUR, GFI_FN_TRUNC_MINUTE };

/* The GFI_FN_* of a date-part function name (year .. weekday). */
int gfi_datepart_fn(const char *name);
/* The GFI_FN_TRUNC_* of a date_trunc unit ("day", case-insensitive), -1 if none. */
int gfi_trunc_unit(const char *s, int64_t len);

/* Comparison domains: how both sides of a CMP are read. */
enum { GFI_DOM_I64, GFI_DOM_F64, GFI_DOM_STR, GFI_DOM_U64, GFI_DOM_DEC };

/* The items of a literal in-list as a hash set (kernels_in.c), for
 * GFI_B_IN_SET: `x in (v1, ..., vn)` is true when x equals an item by the
 * rules of `=` (so -0.0 equals 0.0 and NaN equals nothing, as x = NaN is
 * false), null when x is null or when no item matches and an item is null
 * (SQL's three-valued logic: what the OR of the equalities gives), else
 * false. Keys are read in one comparison domain (GFI_DOM_*), or, with
 * `dict`, as the strings of a dictionary column's values. Shared by the
 * clones of a node (refs; bound trees are built and freed on one
 * thread). */
typedef struct gfi_inset gfi_inset;

typedef struct gfi_bnode gfi_bnode;
struct gfi_bnode {
  gfi_bkind kind;
  gf_datatype type; /* result type */
  gf_op op;
  int fn;
  int col;          /* COLUMN, CMP_DICT: schema index */
  int domain;       /* CMP: GFI_DOM_* */
  gfi_lit lit;      /* SCALAR, CMP_DICT (owned string) */
  int nkids;
  gfi_bnode *kids[3];
  gfi_bnode *link;  /* bind.c's node_free threads its work list here */
  gfi_inset *set;   /* IN_SET: the items (owned, refcounted) */
};

/* In-lists of more than this many items bind to GFI_B_IN_SET when every
 * item is a literal of one comparison domain; shorter ones stay a balanced
 * OR of equality kernels (as fast, no table to build). */
#define GFI_IN_SET_MIN_ITEMS 8

/* An empty set for `domain` (or `dict`), allocated through a. */
gf_status gfi_inset_new(const gf_allocator *a, int domain, bool dict, gfi_inset **out,
                        gf_error *err);
/* Adds literal `l` (of the domain's type: int64/uint64 in i, float64 in
 * f, bytes in s/len) or, when l is null, records a null item. */
gf_status gfi_inset_add(gfi_inset *s, const gfi_lit *l, gf_error *err);
/* Another reference / drops one (frees at zero). */
gfi_inset *gfi_inset_retain(gfi_inset *s);
void gfi_inset_release(gfi_inset *s);

struct gf_bound_expr {
  gfi_bnode *root;
  gf_expr *expr;           /* retained */
  const gf_allocator *alloc;
  int ncols;               /* schema width */
};

/* gf_expr_bind with the nodes allocated through `a`. */
gf_status gfi_expr_bind(const gf_expr *e, const gf_schema *schema,
                        const gf_allocator *a, gf_bound_expr **out,
                        gf_error *err);

/*
 * Evaluates `b` over rows of one batch. `columns[c]` is column c of the
 * batch (schema order). Rows are sel[0..nsel) (indices into the batch
 * arrays, increasing) when `sel` is not NULL, else [start, start+length).
 * `*out` receives a new array of those rows, in order, allocated through `a`
 * (NULL = default). Thread-safe: the bound tree is only read.
 */
gf_status gfi_eval_batch(const gf_bound_expr *b, gf_array *const *columns,
                         int64_t start, int64_t length, const int32_t *sel,
                         int64_t nsel, const gf_allocator *a, gf_array **out,
                         gf_error *err);

/*
 * Evaluates a bool predicate over rows [start, start+length) of one batch
 * and writes the batch-relative indices of the rows where it is true to
 * `sel` (room for `length` entries), in increasing order; `*nsel` receives
 * their count. Fast paths skip materialising the bool column for
 * `column <cmp> literal` predicates.
 */
gf_status gfi_eval_predicate(const gf_bound_expr *b, gf_array *const *columns,
                             int64_t start, int64_t length, int32_t *sel,
                             int64_t *nsel, const gf_allocator *a,
                             gf_error *err);

/* True when the batch statistics prove `b` (a predicate) is not true for
 * any row of the batch (so it can be skipped). */
bool gfi_predicate_skips(const gf_bound_expr *b, gf_array *const *columns);

/* ---- morsels and parallel evaluation ----------------------------------- */

/* gfi_morsel, gfi_morsels_free: exec/planners.h. */

/* Cuts every non-empty batch of `f` into morsels of the chunk size the
 * options choose (loaded options `o`). *out (count *n, may be 0) and *specs
 * (gf_chunk_spec per morsel, chunk_id = index) are allocated through
 * `a`; free both with gfi_morsels_free. */
gf_status gfi_plan_morsels(const gf_frame *f, int64_t bytes_per_row,
                           const gf_parallel_options *o, const gf_allocator *a,
                           gfi_morsel **out, gf_chunk_spec **specs, int64_t *n,
                           gf_error *err);

/* Evaluates `b` over every batch of `f` in parallel; per_batch[i] receives
 * the result for batch i (new references, statistics computed). `o` is
 * loaded options. On failure nothing is written and nothing leaks. */
gf_status gfi_evaluate_bound(const gf_frame *f, const gf_bound_expr *b,
                             const gf_parallel_options *o, gf_array **per_batch,
                             gf_error *err);

/* ---- gathering ---------------------------------------------------------- */

/* One source of rows for gfi_gather: rows sel[0..n) of `arr` (indices
 * relative to the array's logical start), or rows [start, start+n) when sel
 * is NULL. */
typedef struct gfi_piece {
  const gf_array *arr;
  const int32_t *sel;
  int64_t start;
  int64_t n;
} gfi_piece;

/* Copies the rows of `npieces` pieces (all of one type; dictionary pieces
 * share one dictionary) into one new array through `a`. `with_stats`
 * computes min/max (else the array has none). Any type. */
gf_status gfi_gather(const gfi_piece *pieces, int npieces, const gf_allocator *a,
                     bool with_stats, gf_array **out, gf_error *err);

#endif /* GF_EXPR_INTERNAL_H */
