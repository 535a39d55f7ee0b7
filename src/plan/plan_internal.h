/*
 * Internal layout of plan nodes (include/gopherframe/plan.h) shared by the
 * builder, the checker, the optimizer rules, the executor and EXPLAIN
 * (not installed).
 *
 * A node is immutable once gfi_plan_finish checked it. The optimizer never
 * edits a node: it clones one (gfi_plan_clone), changes the clone's
 * payload or inputs, and finishes the clone, which checks it again, so a
 * rewritten plan is as checked as a built one.
 */
#ifndef GF_PLAN_INTERNAL_H
#define GF_PLAN_INTERNAL_H

#include <stdatomic.h>

#include "core/core_internal.h"
#include "gopherframe/plan.h"

/* What CSV sources share between clones: the paths and the deep-copied
 * read options (every string and array owned here). */
typedef struct gfi_csv_src {
  gfi_refcount ref;
  int npaths;
  char **paths;
  gf_csv_read_options o; /* parallel NULL; arrays below */
  char **null_values;
  gf_csv_column_type *column_types;
  char **columns;        /* the user's own projection, or NULL */
  gf_frame **mem;        /* per path: a non-regular file (pipe, FIFO,
                            /dev/stdin) read whole when the source was
                            built, or NULL (read at run time); NULL array =
                            every path is a regular file */
} gfi_csv_src;

/* What an IPC source shares between clones. */
typedef struct gfi_ipc_src {
  gfi_refcount ref;
  char *path;
  gf_ipc_read_options o; /* metadata and parallel NULL */
  gf_frame *mem;         /* a non-regular file read whole at build, or NULL */
} gfi_ipc_src;

/* What a Parquet source shares between clones. */
typedef struct gfi_pq_src {
  gfi_refcount ref;
  char *path;
  gf_parquet_read_options o; /* predicate, parallel, counter NULL; arrays below */
  char **columns;            /* the user's own projection, or NULL */
  gf_frame *mem;             /* a non-regular file read whole at build, or NULL */
  _Atomic int64_t skipped;   /* row groups the last run skipped (-1: none ran) */
} gfi_pq_src;

/* Reads a scan_parquet node: its projection as the reader's columns, its
 * predicate as the reader's pruning predicate (the rows are not filtered
 * here: the run applies the predicate after). */
gf_status gfi_parquet_read(const gf_plan *p, const gf_parallel_options *o, gf_frame **out,
                           gf_error *err);
void gfi_pq_src_release(gfi_pq_src *s);

/* What a stream source shares between clones: the stream, consumed once. */
typedef struct gfi_stream_src {
  gfi_refcount ref;
  struct ArrowArrayStream stream;
  atomic_bool consumed;
} gfi_stream_src;

/* A multi-file source (plan_scan_multi.c): opaque to the other modules. */
typedef struct gfi_files_src gfi_files_src;
void gfi_files_src_retain(gfi_files_src *s);
void gfi_files_src_release(gfi_files_src *s);
/* Reads a scan_files node's files (pruned by its predicate, narrowed to
 * its projection) as one frame under the run's options `o`. */
gf_status gfi_files_read(const gf_plan *p, const gf_parallel_options *o, gf_frame **out,
                         gf_error *err);
/* The EXPLAIN arguments of a scan_files node (appended to a string the
 * caller frees with gf_mem_free), or NULL when out of memory. */
char *gfi_files_explain(const gf_plan *p);

struct gf_plan {
  gfi_refcount ref;
  gf_plan_kind kind;
  int step;            /* 1 for sources, else 1 + the highest input's */
  int nin;
  gf_plan *in[2];
  gf_schema *schema;   /* output schema (set by gfi_plan_finish) */

  /* Sources. */
  gf_frame *frame;     /* FRAME (and executor-made sources) */
  gfi_csv_src *csv;
  gfi_ipc_src *ipc;
  gfi_stream_src *stream;
  gfi_files_src *files;
  gfi_pq_src *pq;
  gf_schema *src_schema; /* the source's full schema (before projection) */
  int nproj;           /* pushed projection: -1 = every column */
  char **proj;         /* in source order */
  gf_expr *pred;       /* pushed predicate, or NULL */
  int64_t scan_rows;   /* CSV: a pushed limit (rows needed, 0 = all); the
                          read is cut only when gfi_csv_scan_cap allows */
  gf_plan *origin;     /* sources made by the optimizer: the user's source
                          they come from (retained), for messages */

  /* Operators. */
  int nnames;
  char **names;        /* with: outputs; select: names; group/distinct:
                          keys; join: left keys */
  char **names2;       /* join: right keys (nnames) */
  int nexprs;
  gf_expr **exprs;     /* filter/having: [0]; with: nexprs = nnames */
  char *aggs_text;     /* group-by: the aggregate text, or NULL */
  gf_agg_list *aggs;   /* parsed aggs_text */
  bool sort_keys;
  int nkeys;
  gf_sort_key *keys;   /* sort: columns owned */
  int64_t topk;        /* sort: > 0 keeps only the first topk rows */
  int64_t offset, count; /* limit */
  gf_join_kind how;
  char *suffix;        /* join: NULL = default */
};

/* ---- strings (default allocator) --------------------------------------- */

char *gfi_plan_strdup(const char *s);
void gfi_plan_strfree(char *s);
/* Copies n names (NULL names refused: returns NULL); NULL when out of
 * memory. n may be 0 (a 1-entry array). */
char **gfi_plan_names_copy(const char *const *names, int n);
void gfi_plan_names_free(char **names, int n);

/* ---- nodes ------------------------------------------------------------- */

/* A zeroed node of `kind` (refcount 1, nproj -1), or NULL. */
gf_plan *gfi_plan_alloc(gf_plan_kind kind);
/* A copy of `p`'s payload and inputs (retained), without its schema: to
 * be changed and finished. NULL when out of memory. */
gf_plan *gfi_plan_clone(const gf_plan *p);
/* Replaces input i of an unfinished node (retains `in`). */
void gfi_plan_set_input(gf_plan *p, int i, const gf_plan *in);
/* Checks an unfinished node against its inputs' schemas and sets its
 * schema and step. On failure releases the node and returns the error
 * ("step N (kind): ..."); on success *out = p. */
gf_status gfi_plan_finish(gf_plan *p, gf_plan **out, gf_error *err);

/* The max_rows a CSV source node may read: its pushed limit when every
 * column it reads has a type pinned by column_types (not a dictionary), so
 * the reader infers nothing and the first rows read are the same values
 * as in a whole read; else 0 (read all). */
int64_t gfi_csv_scan_cap(const gf_plan *p);

/* ---- checking (plan_check.c) ------------------------------------------- */

/* The output schema of an unfinished node whose inputs are finished
 * (errors without the step prefix). */
gf_status gfi_plan_derive_schema(const gf_plan *p, gf_schema **out, gf_error *err);
/* The type a union gives a column of type a on one side and b on the
 * other; false when they have none. */
bool gfi_union_type(gf_datatype a, gf_datatype b, gf_datatype *out);
/* A frame of `schema` with no batches, for running operators as checks. */
gf_status gfi_plan_empty_frame(const gf_schema *schema, gf_frame **out, gf_error *err);

/* ---- expressions (plan_columns.c) -------------------------------------- */

/* A set of column names (borrowed from the trees or nodes they come from). */
typedef struct gfi_nameset {
  int n, cap;
  const char **v;
} gfi_nameset;

void gfi_nameset_free(gfi_nameset *s);
bool gfi_nameset_has(const gfi_nameset *s, const char *name);
/* Adds `name` unless present; GF_ENOMEM. */
gf_status gfi_nameset_add(gfi_nameset *s, const char *name, gf_error *err);
/* Adds every column `e` reads (walked with an explicit stack, so a flat
 * chain of any length costs no recursion). */
gf_status gfi_expr_columns(const gf_expr *e, gfi_nameset *s, gf_error *err);
/* True when x is a call of an aggregate function (sum, count...). */
bool gfi_is_aggregate_call(const gf_expr *x);
/* The first aggregate call (sum(...), count(...)...) in `e`, or NULL. */
const gf_expr *gfi_expr_find_aggregate(const gf_expr *e);

/* ---- rewriting helpers (plan_rewrite.c) --------------------------------- */

/* A list of expression references (each retained). */
typedef struct gfi_exprvec {
  int n, cap;
  gf_expr **v;
} gfi_exprvec;

void gfi_exprvec_free(gfi_exprvec *v);
/* Appends a new reference to e. */
gf_status gfi_exprvec_push(gfi_exprvec *v, const gf_expr *e, gf_error *err);
/* Appends the conjuncts of e (the operands of its top-level `and` chain,
 * left to right; e itself when it is not an `and`). Iterative. */
gf_status gfi_conjuncts(const gf_expr *e, gfi_exprvec *out, gf_error *err);
/* v[0] and v[1] and ... (left-deep), a new reference; NULL when out of
 * memory or n == 0. */
gf_expr *gfi_and_all(gf_expr *const *v, int n);
/* p with its inputs replaced by in[0..p->nin) (p retained when they are
 * the same), finished. */
gf_status gfi_plan_with_inputs(const gf_plan *p, gf_plan *const *in, gf_plan **out, gf_error *err);
/* A node like `e` over new children kids[0..e->nargs) (references
 * consumed); NULL when out of memory. */
gf_expr *gfi_expr_rebuild(const gf_expr *e, gf_expr **kids);
/* e with every node x for which pre(user, x) returns a new reference
 * replaced by it (its subtree is then not visited), rebuilt bottom-up
 * with an explicit stack. *out is a new reference (e itself, retained,
 * when nothing was replaced). */
gf_status gfi_expr_replace(const gf_expr *e, gf_expr *(*pre)(void *user, const gf_expr *x),
                           void *user, gf_expr **out, gf_error *err);
/* A FILTER (or HAVING) node over `in` with the conjunction of preds. */
gf_status gfi_plan_wrap_filter(const gf_plan *in, gf_expr *const *preds, int n, gf_plan_kind kind,
                               gf_plan **out, gf_error *err);
/* True when every column e reads is in `allowed` (NULL = any). */
gf_status gfi_expr_reads_only(const gf_expr *e, const gfi_nameset *allowed, bool *yes, gf_error *err);
/* Where output column i of a join comes from: side 0 (left) or 1 (right)
 * and the input column index. */
void gfi_join_origin(const gf_plan *j, int i, int *side, int *col);

/* ---- optimizer rules (plan_rule_*.c) ------------------------------------ */

/* Each rule returns a new plan (*out, possibly `p` retained) with the same
 * answer. */
gf_status gfi_rule_constant_folding(const gf_plan *p, gf_plan **out, gf_error *err);
gf_status gfi_rule_predicate_pushdown(const gf_plan *p, gf_plan **out, gf_error *err);
gf_status gfi_rule_limit_pushdown(const gf_plan *p, gf_plan **out, gf_error *err);
gf_status gfi_rule_projection_pushdown(const gf_plan *p, gf_plan **out, gf_error *err);
gf_status gfi_rule_dead_columns(const gf_plan *p, gf_plan **out, gf_error *err);

/* ---- streaming (plan_stream.c) ----------------------------------------- */

/* Where a streamed plan's result goes when it is not collected: one output
 * file of one format, written batch by batch by a file sink. */
typedef enum gfi_out_kind {
  GFI_OUT_CSV = 1,   /* csv options */
  GFI_OUT_IPC_FILE,  /* ipc options; path */
  GFI_OUT_IPC_STREAM, /* ipc options; path, or fd when path is NULL */
  GFI_OUT_PARQUET,   /* parquet options; path */
} gfi_out_kind;

typedef struct gfi_out_spec {
  gfi_out_kind kind;
  const char *path;
  int fd;
  const gf_csv_write_options *csv;
  const gf_ipc_write_options *ipc;
  const gf_parquet_write_options *parquet;
} gfi_out_spec;

/* Runs optimized plan p streaming when its shape streams (a chain of
 * filter / with / select over one CSV file, or with `force` any frame
 * source, topped by a group-by, a sort (not a top-k), a limit or nothing):
 * *out is then the result, equal to the materialising run's; else
 * *handled = false and nothing was done. `window`: CSV bytes per window or
 * frame rows per slice (<= 0: defaults). `opts`: the run's parallel options
 * (not loaded). With `dest` (NULL: collect), a plan topped by nothing or by
 * a sort writes its rows to that file as they come or as the sort hands
 * them out (temporary file renamed at the end; none left on failure) and
 * *out is NULL; other results come back in *out for the caller to write. */
gf_status gfi_plan_stream(const gf_plan *p, const gf_parallel_options *opts, int64_t window,
                          bool force, const gfi_out_spec *dest, gf_frame **out, bool *handled,
                          gf_error *err);

/* ---- streaming sources (plan_stream_source.c) -------------------------- */

struct gfi_source;
/* True when source node p streams (see plan_stream_source.c); frame
 * sources only with `force`. */
bool gfi_plan_stream_source_ok(const gf_plan *p, bool force);
/* Opens the streaming source of node `src` (gfi_plan_stream_source_ok)
 * under the run's loaded options `lo` (kept by reference); `window`: CSV
 * bytes per window or frame rows per slice (<= 0: defaults). GF_ENOTSUP
 * (err set) when it turns out not to stream (the run is then
 * materialised); nothing but metadata or samples has been read then. */
gf_status gfi_plan_stream_source(const gf_plan *src, const gf_parallel_options *lo,
                                 int64_t window, struct gfi_source **out, gf_error *err);

#endif /* GF_PLAN_INTERNAL_H */
