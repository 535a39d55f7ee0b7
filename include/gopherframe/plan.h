/*
 * gopherframe/plan.h - lazy query plans: a tree of operators over sources
 * (an in-memory frame, CSV files, Arrow IPC files/streams, an
 * ArrowArrayStream), checked when built, rewritten by an optimizer, and run
 * by collect or a sink. The Polars LazyFrame / DataFusion LogicalPlan layer
 * of GopherFrame (docs/PLANS.md).
 * Part of <gopherframe.h>; include that instead.
 *
 * Plans are immutable and refcounted (like gf_expr): every builder takes
 * its input plan(s) and returns a NEW node that holds a reference to them;
 * the inputs stay valid and owned by the caller, so a plan may be shared by
 * several larger plans and read from any number of threads at once.
 *
 *     gf_plan *src = NULL, *f = NULL, *g = NULL;
 *     gf_plan_scan_csv("x.csv", NULL, &src, &err);
 *     gf_plan_filter(src, pred, &f, &err);         // pred is retained
 *     gf_plan_group_by(f, keys, 1, "sum(v1)", false, &g, &err);
 *     gf_plan_collect(g, NULL, &frame, &err);
 *     gf_plan_release(src); gf_plan_release(f); gf_plan_release(g);
 *
 * Checking: each builder derives its node's output schema from its inputs'
 * and fails (GF_EINVAL unknown column / bad argument, GF_ETYPE type error)
 * with a message starting "step N (kind): " where N numbers the node in
 * the plan (sources are step 1; a node is 1 + its highest input) and the
 * rest is the operator's own message (naming the expression and the
 * offending sub-expression). A source's schema is read when the source is
 * built: the IPC schema message, the stream's get_schema, or for CSV the
 * reader's own type inference over the first GF_PLAN_CSV_SAMPLE_ROWS rows
 * (a read with max_rows = that). Because the CSV reader may widen a column
 * or choose utf8 over dictionary after seeing the whole file, the executor
 * checks the plan again against the schema actually read, before any
 * operator runs; the answer is always the operators applied to the frame
 * actually read (pass column_types to pin CSV types when it matters).
 *
 * Answers: a plan's result equals the eager operators (gf_filter,
 * gf_with_columns, gf_select, gf_group_by_list, gf_join, gf_sort,
 * gf_distinct, gf_frame_slice, gf_frame_concat) applied in plan order to
 * the materialised sources, bit for bit and row order included, for any
 * worker count, chunk size, strategy and optimizer setting.
 *
 * Execution reuses the fused pipeline engine (query.h): runs of
 * filter / with_columns / select / limit fuse per morsel, a group-by fed by
 * such a run reads its morsel outputs directly, sort followed by limit is a
 * top-k. The public gf_pipeline_* API stays as that engine's builder and is
 * deprecated for applications: use plans (it goes with the next SONAME).
 */
#ifndef GOPHERFRAME_PLAN_H
#define GOPHERFRAME_PLAN_H

#include "cdata.h"
#include "data.h"
#include "exec.h"
#include "expr.h"
#include "groupby.h"
#include "io.h"
#include "ipc.h"
#include "parquet.h"
#include "parquet_write.h"
#include "sort_join.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Rows the CSV sources read to infer their planned schema. */
#define GF_PLAN_CSV_SAMPLE_ROWS 10000

/** An immutable, refcounted plan node (with its inputs). */
typedef struct gf_plan gf_plan;

/** Operator kinds, as gf_plan_kind reports and EXPLAIN names them. */
typedef enum gf_plan_kind {
  GF_PLAN_FRAME = 0, /**< "frame": an in-memory frame */
  GF_PLAN_CSV,       /**< "scan_csv" */
  GF_PLAN_IPC,       /**< "scan_ipc" (file or stream) */
  GF_PLAN_STREAM,    /**< "stream": an ArrowArrayStream */
  GF_PLAN_FILTER,    /**< "filter" */
  GF_PLAN_WITH,      /**< "with_columns" */
  GF_PLAN_SELECT,    /**< "select" */
  GF_PLAN_GROUP_BY,  /**< "group_by" */
  GF_PLAN_HAVING,    /**< "having": a filter over a group-by's output */
  GF_PLAN_JOIN,      /**< "join" */
  GF_PLAN_SORT,      /**< "sort" */
  GF_PLAN_LIMIT,     /**< "limit" (offset + count) */
  GF_PLAN_DISTINCT,  /**< "distinct" */
  GF_PLAN_UNION,     /**< "union": concatenation by column name */
  GF_PLAN_FILES,     /**< "scan_files": many files as one (files.h) */
  GF_PLAN_PARQUET    /**< "scan_parquet" (parquet.h) */
} gf_plan_kind;

GF_API gf_plan *gf_plan_retain(gf_plan *p);
/** Drops one reference (and the inputs' when it was the last). NULL allowed. */
GF_API void gf_plan_release(gf_plan *p);
GF_API gf_plan_kind gf_plan_get_kind(const gf_plan *p);
/** Lowercase name of a kind ("filter", "scan_csv"...). */
GF_API const char *gf_plan_kind_name(gf_plan_kind k);
/** The checked output schema of the node (borrowed, lives with the plan). */
GF_API const gf_schema *gf_plan_schema(const gf_plan *p);
/** Number of inputs (0 for sources, 2 for join and union, else 1). */
GF_API int gf_plan_num_inputs(const gf_plan *p);
/** Input i (borrowed). */
GF_API const gf_plan *gf_plan_input(const gf_plan *p, int i);

/**
 * The distinct column names expression `e` reads, in order of first
 * appearance (left to right). The walk keeps its stack on the heap, so a
 * flat chain of any length is fine. `*names` (n entries) is one block,
 * strings included, freed with gf_mem_free; *n may be 0.
 */
GF_API gf_status gf_expr_columns(const gf_expr *e, char ***names, int *n, gf_error *err);

/* ------------------------------------------------------------------ */
/* Sources                                                             */
/* ------------------------------------------------------------------ */

/** An in-memory frame (retained). */
GF_API gf_status gf_plan_from_frame(gf_frame *f, gf_plan **out, gf_error *err);

/**
 * CSV file(s) read with gf_read_csv and options `o` (deep-copied; NULL =
 * defaults; o->parallel is ignored: the run's options apply; o->progress is
 * kept as given). Several paths are read one by one and concatenated (their
 * read schemas must be equal). The planned schema is that of the first
 * file's first GF_PLAN_CSV_SAMPLE_ROWS rows (see the top of this header).
 * o->columns, when set, is the source's projection: the optimizer narrows
 * it further (projection pushdown).
 */
GF_API gf_status gf_plan_scan_csv(const char *path, const gf_csv_read_options *o,
                                  gf_plan **out, gf_error *err);
GF_API gf_status gf_plan_scan_csv_files(const char *const *paths, int npaths,
                                        const gf_csv_read_options *o,
                                        gf_plan **out, gf_error *err);

/**
 * As gf_plan_scan_csv_files, with `build` (NULL = defaults) governing the
 * reads made now, while the plan is built: its cancel token, timeout,
 * allocator and memory limit apply to them (workers too, for a whole
 * read; its stats are not filled).
 *
 * A path that is not a regular file (a pipe, a FIFO, /dev/stdin) can be
 * read only once: it is read now, whole, with `o`, and every run of the
 * plan starts from that frame (its planned schema is then the schema of
 * the whole input; the optimizer's projection selects from it). The plan
 * holds that frame's memory until it is released. Regular files are
 * sampled now and read at each run.
 */
GF_API gf_status gf_plan_scan_csv_files_with(const char *const *paths, int npaths,
                                             const gf_csv_read_options *o,
                                             const gf_parallel_options *build,
                                             gf_plan **out, gf_error *err);
GF_API gf_status gf_plan_scan_csv_with(const char *path, const gf_csv_read_options *o,
                                       const gf_parallel_options *build, gf_plan **out,
                                       gf_error *err);

/**
 * An Arrow IPC file or stream (gf_read_ipc: the "ARROW1" magic decides),
 * read with options `o` (copied; o->metadata and o->parallel are ignored).
 * The schema is read now from the file's metadata only.
 */
GF_API gf_status gf_plan_scan_ipc(const char *path, const gf_ipc_read_options *o,
                                  gf_plan **out, gf_error *err);
/** As gf_plan_scan_ipc with `build` governing the read made now (as
 * gf_plan_scan_csv_files_with): a path that is not a regular file (a
 * pipe) is read now, whole, validated as `o` asks, and runs start from
 * that frame. */
GF_API gf_status gf_plan_scan_ipc_with(const char *path, const gf_ipc_read_options *o,
                                       const gf_parallel_options *build, gf_plan **out,
                                       gf_error *err);

/**
 * A Parquet file read with options `o` (copied; o->predicate, o->parallel
 * and o->row_groups_skipped are ignored). The schema is read now from the
 * footer only. The optimizer's pushed projection becomes the reader's
 * columns (only their column chunks are read) and a pushed predicate the
 * reader's row-group pruning predicate; the predicate is still applied to
 * the rows read as a filter, so results equal a whole read then filter.
 */
GF_API gf_status gf_plan_scan_parquet(const char *path, const gf_parquet_read_options *o,
                                      gf_plan **out, gf_error *err);
/** As gf_plan_scan_parquet with `build` governing the footer read made
 * now (as gf_plan_scan_ipc_with): a path that is not a regular file (a
 * pipe) is read now, whole, and runs start from that frame. */
GF_API gf_status gf_plan_scan_parquet_with(const char *path, const gf_parquet_read_options *o,
                                           const gf_parallel_options *build, gf_plan **out,
                                           gf_error *err);
/** Row groups the last finished run of a plan reading `scan` (a
 * scan_parquet source, or a plan made from it by the optimizer) skipped
 * by pruning; -1 before any run. */
GF_API int64_t gf_plan_parquet_row_groups_skipped(const gf_plan *scan);

/**
 * An ArrowArrayStream: the plan takes it over (`stream` is moved: its
 * release member is set to NULL) and reads its schema now. The stream is
 * consumed by the first run of a plan holding this source; a later run
 * fails with GF_EINVAL ("stream source already consumed"). Explaining and
 * optimizing do not consume it. Imported with GF_IMPORT_CHECK_FULL.
 */
GF_API gf_status gf_plan_from_stream(struct ArrowArrayStream *stream,
                                     gf_plan **out, gf_error *err);

/* ------------------------------------------------------------------ */
/* Operators (inputs are retained, never consumed)                     */
/* ------------------------------------------------------------------ */

/** Rows where `predicate` (bool; retained) is true, as gf_filter. An
 * aggregate call in it is an error (use gf_plan_having after a group-by). */
GF_API gf_status gf_plan_filter(const gf_plan *in, const gf_expr *predicate,
                                gf_plan **out, gf_error *err);
/** Computed columns as gf_with_columns (names copied, exprs retained). */
GF_API gf_status gf_plan_with_columns(const gf_plan *in, const char *const *names,
                                      gf_expr *const *exprs, int n,
                                      gf_plan **out, gf_error *err);
/** The named columns in the order given, as gf_select. */
GF_API gf_status gf_plan_select(const gf_plan *in, const char *const *names,
                                int n, gf_plan **out, gf_error *err);
/**
 * Groups by `nkeys` keys and computes the aggregates of `aggs` (the
 * gf_agg_parse text; NULL or "" = the distinct keys), as gf_group_by_list
 * (gf_group_by without aggregates); `sort_keys` as gf_groupby_options.
 */
GF_API gf_status gf_plan_group_by(const gf_plan *in, const char *const *keys,
                                  int nkeys, const char *aggs, bool sort_keys,
                                  gf_plan **out, gf_error *err);
/** A filter over the output of a group-by (its input must be one, possibly
 * through other having steps). Column references name keys or aggregate
 * output names. */
GF_API gf_status gf_plan_having(const gf_plan *in, const gf_expr *predicate,
                                gf_plan **out, gf_error *err);
/** gf_join(left, right, left_on, right_on, nkeys, how) with `suffix`
 * (NULL = "_right"). */
GF_API gf_status gf_plan_join(const gf_plan *left, const gf_plan *right,
                              const char *const *left_on,
                              const char *const *right_on, int nkeys,
                              gf_join_kind how, const char *suffix,
                              gf_plan **out, gf_error *err);
/** Stable sort by `keys` (copied), as gf_sort. */
GF_API gf_status gf_plan_sort(const gf_plan *in, const gf_sort_key *keys,
                              int nkeys, gf_plan **out, gf_error *err);
/** Rows [offset, offset + n) of the input (offset >= 0, n >= 0; fewer at
 * the end), as gf_frame_slice. */
GF_API gf_status gf_plan_limit(const gf_plan *in, int64_t offset, int64_t n,
                               gf_plan **out, gf_error *err);
/** gf_distinct over `nkeys` key columns (0 = all columns). */
GF_API gf_status gf_plan_distinct(const gf_plan *in, const char *const *keys,
                                  int nkeys, gf_plan **out, gf_error *err);
/**
 * Rows of `a` then rows of `b`, columns matched by name. The output has
 * a's columns in a's order, then b's columns that a lacks in b's order; a
 * column one input lacks is null in that input's rows. A column's types
 * unify: equal, or integers of different widths -> int64, integer and
 * float (or two floats) -> float64 (the CSV reader's numeric widening);
 * anything else fails with GF_ETYPE naming the column and both types.
 */
GF_API gf_status gf_plan_union(const gf_plan *a, const gf_plan *b,
                               gf_plan **out, gf_error *err);

/* ------------------------------------------------------------------ */
/* Optimizer                                                           */
/* ------------------------------------------------------------------ */

/** Optimizer rules (bits), in the order they run. */
enum {
  GF_PLAN_RULE_CONSTANT_FOLDING = 1u << 0, /**< literal sub-expressions evaluated,
                                                `x and true` simplified, filters
                                                on `true` dropped */
  GF_PLAN_RULE_PREDICATE_PUSHDOWN = 1u << 1, /**< filters moved towards sources */
  GF_PLAN_RULE_LIMIT_PUSHDOWN = 1u << 2,   /**< limits moved below select/with,
                                                sort + limit made a top-k, CSV
                                                scans whose read columns all
                                                have pinned column_types read
                                                only the rows needed */
  GF_PLAN_RULE_PROJECTION_PUSHDOWN = 1u << 3, /**< sources read only the columns used */
  GF_PLAN_RULE_DEAD_COLUMNS = 1u << 4,     /**< computed columns nothing reads dropped */
  GF_PLAN_RULES_ALL = 0x1fu
};

/**
 * The plan rewritten by the rules in `rules` (GF_PLAN_RULE_* bits; 0 = the
 * plan unchanged, retained). The result is a new plan with the same
 * answer; `p` is not modified.
 */
GF_API gf_status gf_plan_optimize(const gf_plan *p, unsigned rules,
                                  gf_plan **out, gf_error *err);

/* ------------------------------------------------------------------ */
/* Running                                                             */
/* ------------------------------------------------------------------ */

/** One operator of a profiled run (see gf_plan_profile). */
typedef struct gf_plan_profile_op {
  int step;            /**< step number of the node (as in EXPLAIN) */
  int depth;           /**< nesting in the plan tree (root 0) */
  const char *name;    /**< e.g. "scan_csv", "filter+with_columns (fused)" */
  int64_t rows_in;     /**< rows the operator read (sources: rows read) */
  int64_t rows_out;
  int64_t wall_ns;     /**< time inside the operator (not its inputs) */
  int64_t peak_memory; /**< peak bytes live through the run's tracked
                            allocator while it ran (its input included) */
  int workers;         /**< workers it used */
} gf_plan_profile_op;

/** What a run did, operator by operator, in execution order. */
typedef struct gf_plan_profile {
  int nops;
  gf_plan_profile_op *ops;
  int64_t wall_ns;     /**< the whole run */
  int64_t peak_memory; /**< peak bytes of the whole run */
} gf_plan_profile;

/** Frees a profile (NULL allowed). */
GF_API void gf_plan_profile_free(gf_plan_profile *p);
/** The profile as a text table (freed with gf_mem_free). */
GF_API gf_status gf_plan_profile_format(const gf_plan_profile *p, char **out,
                                        gf_error *err);

/** Options of a run. Zeroed (or NULL) = defaults. */
typedef struct gf_plan_options {
  size_t size;                         /**< sizeof(gf_plan_options) */
  const gf_parallel_options *parallel; /**< NULL = defaults; the allocator
                                            and cancel token cover every step,
                                            the timeout is one deadline for the
                                            whole run; the memory limit holds
                                            the whole run of a streamed plan
                                            (docs/STREAMING.md) and each
                                            operator call of the others */
  unsigned disabled_rules;             /**< GF_PLAN_RULE_* bits NOT run
                                            (GF_PLAN_RULES_ALL = no optimizer) */
  gf_plan_profile **profile;           /**< when set, receives the run's profile
                                            (free with gf_plan_profile_free) */
} gf_plan_options;

GF_API void gf_plan_options_init(gf_plan_options *o);

/** Optimizes and runs the plan; `*out` receives the result frame. On
 * failure `*out` is untouched and nothing leaks. */
GF_API gf_status gf_plan_collect(const gf_plan *p, const gf_plan_options *o,
                                 gf_frame **out, gf_error *err);
/*
 * Sinks: run the plan, then write its result. The write takes the run's
 * parallel options (workers, allocator, memory limit for the write call,
 * cancel token, and what is left of the run's one timeout; the writer
 * options' own `parallel` is ignored): a run cancelled or past its
 * deadline before writing fails without writing. The path sinks write
 * through the atomic writers: a failed run or write leaves no file.
 */

/** Writes the result with gf_write_csv. `w` NULL = defaults. */
GF_API gf_status gf_plan_sink_csv(const gf_plan *p, const char *path,
                                  const gf_csv_write_options *w,
                                  const gf_plan_options *o, gf_error *err);
/** Writes the result with gf_write_ipc_file. */
GF_API gf_status gf_plan_sink_ipc(const gf_plan *p, const char *path,
                                  const gf_ipc_write_options *w,
                                  const gf_plan_options *o, gf_error *err);
/** Writes the result as an Arrow IPC stream (.arrows) with
 * gf_write_ipc_stream (atomic). */
GF_API gf_status gf_plan_sink_ipc_stream(const gf_plan *p, const char *path,
                                         const gf_ipc_write_options *w,
                                         const gf_plan_options *o, gf_error *err);
/** Writes the result as an Arrow IPC stream to an open descriptor (a
 * pipe, stdout, a socket) with gf_write_ipc_stream_fd; `fd` is not
 * closed. A write that fails part way may leave a partial stream there
 * (nothing is written when the run itself fails). */
GF_API gf_status gf_plan_sink_ipc_stream_fd(const gf_plan *p, int fd,
                                            const gf_ipc_write_options *w,
                                            const gf_plan_options *o, gf_error *err);
/** Writes the result as a Parquet file with gf_write_parquet (atomic);
 * `w` NULL = defaults (no compression). A plan that streams (docs/STREAMING.md)
 * writes row group by row group as its rows come or as its sort hands
 * them out, without holding the result; the bytes are the same as
 * gf_write_parquet's of the collected result. */
GF_API gf_status gf_plan_sink_parquet(const gf_plan *p, const char *path,
                                      const gf_parquet_write_options *w,
                                      const gf_plan_options *o, gf_error *err);
/** Runs the plan and exports the result as an ArrowArrayStream (one array
 * per batch), as gf_frame_export_stream. */
GF_API gf_status gf_plan_to_stream(const gf_plan *p, const gf_plan_options *o,
                                   struct ArrowArrayStream *out, gf_error *err);

/* ------------------------------------------------------------------ */
/* EXPLAIN                                                             */
/* ------------------------------------------------------------------ */

enum {
  /** Print the plan before and after optimization (two sections headed
   * "== logical plan ==" and "== optimized plan =="); else only the plan
   * as given. */
  GF_PLAN_EXPLAIN_OPTIMIZED = 1u << 0,
  /** Print each node's output schema under it. */
  GF_PLAN_EXPLAIN_SCHEMA = 1u << 1
};

/**
 * The plan as an indented tree, root first, one node per line:
 *   "<step>. <kind> <arguments>", inputs indented two spaces more (a join's
 * left input first). Sources show what was pushed into them
 * ("columns=[a, b]", "predicate=(...)"). Format: docs/PLANS.md.
 * `*out` is freed with gf_mem_free. The optimized section runs every rule
 * except the GF_PLAN_RULE_* bits of `disabled_rules` (as gf_plan_options).
 */
GF_API gf_status gf_plan_explain(const gf_plan *p, unsigned flags,
                                 unsigned disabled_rules, char **out,
                                 gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_PLAN_H */
