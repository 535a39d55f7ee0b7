/*
 * gopherframe/exec.h - the parallel runtime: options, cancellation, chunk
 * planning, the reduction grid, running chunk kernels, statistics.
 * Part of <gopherframe.h>; include that instead.
 */
#ifndef GOPHERFRAME_EXEC_H
#define GOPHERFRAME_EXEC_H

#include <stdio.h>

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How rows are cut into chunks (morsels). */
typedef enum gf_strategy {
  GF_STRATEGY_AUTO = 0,          /**< adaptive morsel size from measured time */
  GF_STRATEGY_FIXED_CHUNKS = 1,  /**< chunk_rows, or rows / workers */
  GF_STRATEGY_CACHE_FRIENDLY = 2,/**< working set fits the per-core L2 */
  GF_STRATEGY_MEMORY_BOUND = 3   /**< bounded working set per worker */
} gf_strategy;

/** Flags for gf_parallel_options.flags. */
enum { GF_PIN_THREADS = 1u << 0 /**< pin pool threads to CPUs of the affinity mask */ };

/**
 * Every flag this version knows. Every call that takes gf_parallel_options
 * refuses any other bit with GF_EINVAL (the message names the bit), so a
 * flag from a newer header or a stray value never passes silently.
 */
#define GF_PARALLEL_FLAGS_KNOWN ((unsigned)GF_PIN_THREADS)

/**
 * Cancellation token. gf_cancel_request is async-signal-safe (a SIGINT
 * handler may call it) and may be called from any thread; the calls using the
 * token stop between morsels and return GF_ECANCELED.
 */
typedef struct gf_cancel gf_cancel;
GF_API gf_status gf_cancel_new(gf_cancel **out, gf_error *err);
GF_API void gf_cancel_free(gf_cancel *c);
GF_API void gf_cancel_request(gf_cancel *c);
GF_API bool gf_cancel_requested(const gf_cancel *c);
GF_API void gf_cancel_reset(gf_cancel *c);

/** Per-worker statistics of one call. */
typedef struct gf_worker_stats {
  int64_t morsels;
  int64_t rows;
  int64_t busy_ns;   /**< time inside chunk kernels */
  int64_t wait_ns;   /**< time from call start to first morsel + idle at end */
} gf_worker_stats;

#define GF_MAX_STATS_WORKERS 256

/** What happened during one call (filled when options.stats is set). */
typedef struct gf_exec_stats {
  size_t size;             /**< sizeof(gf_exec_stats) */
  int workers_used;
  int64_t morsels;
  int64_t rows;
  int64_t wall_ns;
  int64_t peak_memory;     /**< peak bytes through the call's allocator (when tracked); with a memory_limit, the whole call's peak, bookkeeping included (what the limit is held to) */
  int64_t chunk_rows_min, chunk_rows_max;
  gf_worker_stats worker[GF_MAX_STATS_WORKERS];
} gf_exec_stats;

/** Prints stats as a small table. */
GF_API void gf_exec_stats_print(const gf_exec_stats *s, FILE *out);

/** The seed's ParallelOptions. NULL options everywhere mean the defaults. */
typedef struct gf_parallel_options {
  size_t size;                  /**< sizeof(gf_parallel_options): lets the struct grow */
  int num_workers;              /**< 0 = all usable CPUs (affinity mask and cgroup quota aware) */
  int64_t chunk_rows;           /**< rows per chunk/morsel, 0 = chosen by strategy */
  int64_t min_parallel_rows;    /**< below this, run on the calling thread */
  gf_strategy strategy;
  const gf_allocator *allocator;/**< NULL = default; all memory of the call goes through it */
  int64_t memory_limit;         /**< bytes, 0 = none: everything the call allocates (output and bookkeeping included, nested calls too) counts; over it the call fails with GF_ENOMEM, message naming the limit */
  gf_cancel *cancel;            /**< NULL = not cancellable from outside */
  int64_t timeout_ms;           /**< 0 = none: ms from the start of the call (one deadline for all its phases); past it the call fails with GF_ETIMEDOUT */
  unsigned flags;               /**< GF_PIN_THREADS; other bits (outside GF_PARALLEL_FLAGS_KNOWN) fail with GF_EINVAL */
  gf_exec_stats *stats;         /**< NULL, or filled with what happened */
  /* Appended fields (size convention: older callers' structs end above). */
  const char *temp_directory;   /**< where operators spill under memory_limit (docs/SPILLING.md); NULL = $GF_TMPDIR, else $TMPDIR, else /tmp */
  int64_t max_temp_bytes;       /**< 0 = none: most bytes of temporary files a call may hold at once; over it the call fails with GF_EIO naming the limit */
} gf_parallel_options;

#define GF_DEFAULT_MIN_PARALLEL_ROWS 65536
#define GF_REDUCTION_BLOCK_ROWS 65536

/** Fills the defaults: all CPUs, AUTO, min_parallel_rows 65536, no limits. */
GF_API void gf_parallel_options_init(gf_parallel_options *o);

/**
 * Usable CPUs: the sched affinity mask, capped by a cgroup v1/v2 CPU quota;
 * GF_NUM_THREADS in the environment overrides it. At least 1.
 */
GF_API int gf_default_num_workers(void);

/**
 * Releases the idle memory of the worker pool's scratch arenas (large
 * operator scratch kept mapped between calls that use the default
 * allocator; docs/ARENAS.md) and returns the bytes released. Thread-safe;
 * blocks in use by running calls are not touched and return to the arenas
 * when those calls free them. Idle bytes are capped by GF_ARENA_MAX_BYTES
 * (environment, bytes; 0 disables caching; default min(1 GiB, RAM / 8)).
 */
GF_API int64_t gf_pool_trim(void);

/** One chunk of rows [start_row, end_row) with its index in plan order. */
typedef struct gf_chunk_spec {
  int64_t start_row;
  int64_t end_row;
  int64_t chunk_id;
} gf_chunk_spec;

/**
 * Plans chunks covering [0, total_rows) with no empty, overlapping or missing
 * rows, following opts (strategy, chunk_rows, num_workers).
 * `bytes_per_row` (the width of the columns touched, 0 = unknown) sizes
 * CACHE_FRIENDLY and MEMORY_BOUND chunks. `*out` (NULL for no rows) is
 * allocated through opts->allocator and freed with gf_mem_free.
 */
GF_API gf_status gf_plan_chunks(int64_t total_rows, int64_t bytes_per_row,
                                const gf_parallel_options *opts,
                                gf_chunk_spec **out, int64_t *count,
                                gf_error *err);

/**
 * The reduction grid (docs/DESIGN.md, "Determinism"): blocks of GF_REDUCTION_BLOCK_ROWS at
 * absolute row offsets. Number of blocks covering [0, total_rows).
 */
GF_API int64_t gf_reduction_blocks(int64_t total_rows);
/** Row range of reduction block `block`. */
GF_API gf_chunk_spec gf_reduction_block(int64_t total_rows, int64_t block);

/** Per-call context a chunk kernel receives. */
typedef struct gf_task_ctx {
  int worker;                 /**< 0 .. workers_used-1; index for per-worker state */
  const gf_allocator *allocator; /**< the call's allocator (tracked when limited) */
  gf_error *err;              /**< where the kernel writes its error message */
} gf_task_ctx;

/**
 * A chunk kernel: processes one chunk; returns GF_OK or an error (the first
 * error of the call wins and stops the rest).
 */
typedef gf_status (*gf_chunk_fn)(void *user, const gf_chunk_spec *chunk,
                                 gf_task_ctx *ctx);

/**
 * Runs `fn` over `count` chunks on up to opts->num_workers workers of the
 * shared pool (largest chunks first), checking cancellation, deadline and
 * memory limit between chunks. Returns GF_OK, the first kernel error,
 * GF_ECANCELED, GF_ETIMEDOUT or GF_ENOMEM. Safe to call from several threads
 * at once and from inside a kernel (then it runs inline).
 */
GF_API gf_status gf_run_chunks(const gf_chunk_spec *chunks, int64_t count,
                               gf_chunk_fn fn, void *user,
                               const gf_parallel_options *opts, gf_error *err);

/**
 * Plans chunks over total_rows and runs fn on them (gf_plan_chunks +
 * gf_run_chunks). With `reduction` true, chunks are whole reduction blocks
 * (chunk_id = block index) so partial results combined in chunk order are
 * identical for any worker count, strategy and chunk size.
 */
GF_API gf_status gf_parallel_for(int64_t total_rows, int64_t bytes_per_row,
                                 bool reduction, gf_chunk_fn fn, void *user,
                                 const gf_parallel_options *opts,
                                 gf_error *err);

/** Number of workers a call with these options would use (>= 1). */
GF_API int gf_effective_workers(const gf_parallel_options *opts);

/** Result of gf_tune. */
typedef struct gf_tune_result {
  int best_workers;
  int64_t best_chunk_rows;
  double best_ns;
} gf_tune_result;

/**
 * Measures `fn` over total_rows at several chunk sizes and worker counts
 * (median of `repeats` runs each), prints each trial to `log` (may be NULL)
 * and reports the fastest.
 */
GF_API gf_status gf_tune(int64_t total_rows, int64_t bytes_per_row,
                         gf_chunk_fn fn, void *user, int repeats, FILE *log,
                         gf_tune_result *out, gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_EXEC_H */
