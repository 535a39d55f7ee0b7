/*
 * Internal interface of the parallel runtime (src/exec). Not installed.
 *
 * Shape (docs/DESIGN.md, "The parallel runtime"): one lazily created pool of persistent threads
 * per process serves "jobs". A job is a list of chunks claimed through one
 * atomic index; the calling thread always takes part as worker 0, so a call
 * completes even if no pool thread ever joins it (threads need not be real).
 */
#ifndef GF_EXEC_INTERNAL_H
#define GF_EXEC_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/core_internal.h"
#include "exec/planners.h"

/* Most threads the pool ever creates (helpers; the caller is worker 0). */
#define GFI_POOL_MAX_THREADS (GF_MAX_STATS_WORKERS - 1)

/* --- options and the call context ------------------------------------- */

/* Copies `opts` (NULL = defaults; honours opts->size so older, smaller
 * structs still work) into `out` and validates it, flags included (unknown
 * bits are refused). A plain copy: no deadline is fixed, no context made;
 * for calls that run work use gfi_ctx_load. */
gf_status gfi_options_load(const gf_parallel_options *opts,
                           gf_parallel_options *out, gf_error *err);

struct gfi_ctx;

/* A cancellation token. Users' tokens (gf_cancel_new) have call == NULL.
 * Every gfi_ctx holds one more, its "call token", with call pointing back at
 * the context: loaded options point their `cancel` at it, so every copy of
 * them (a phase with other min_parallel_rows, a nested operator, the
 * runtime's own load) reaches the call's deadline and statistics mode
 * without any bit in the public flag word. A call token is requested when
 * the user's token of its call is; no user can obtain one. */
struct gf_cancel {
  atomic_int requested;
  const struct gfi_ctx *call;
};

/* The internal state of one public call, built once by gfi_ctx_load from
 * the caller's options and never copied (its token points at it):
 * - o: the loaded options (workers, chunk size, strategy, allocator,
 *   memory limit, stats pointer); o.cancel is &token;
 * - user_cancel: the caller's token or NULL;
 * - deadline_ns: absolute gfi_now_ns deadline fixed when the call started,
 *   0 = none, shared by every phase and nested call (a per-phase timeout
 *   would let a call made of several phases return long after it);
 * - stats_accumulate: each runtime call adds its statistics to o.stats
 *   instead of replacing them, so an operator made of several runtime calls
 *   (a group-by) reports all of them; the operator zeroes *o.stats first;
 * - memory: with memory_limit > 0 the outermost load installs one tracked
 *   allocator (gfi_call_alloc) with that limit over the caller's allocator
 *   and puts it in o.allocator (o.memory_limit becomes 0, so runtime calls
 *   and nested loads do not stack limits of their own): everything the
 *   call allocates, output included, counts against one limit. `limiter`
 *   is that allocator (owned when `owns_limiter`, else an outer call's),
 *   `limit` its limit; gfi_ctx_end releases it. */
typedef struct gfi_call_alloc gfi_call_alloc;
typedef struct gfi_ctx {
  gf_parallel_options o;
  gf_cancel token;
  gf_cancel *user_cancel;
  int64_t deadline_ns;
  bool stats_accumulate;
  gfi_call_alloc *limiter;
  bool owns_limiter;
  int64_t limit;
  const gf_allocator *caller_alloc; /* the caller's allocator (NULL = default) */
} gfi_ctx;

/* Loads `opts` into `ctx` (see gfi_options_load) and copies the loaded
 * options to `out` when not NULL. Options already loaded (their cancel is a
 * call token) keep that call's deadline, token and statistics mode; others
 * start a deadline of timeout_ms from now. `ctx` must outlive every use of
 * the loaded options. */
gf_status gfi_ctx_load(gfi_ctx *ctx, const gf_parallel_options *opts,
                       gf_parallel_options *out, gf_error *err);

/* Ends the call loaded into `ctx` with result `st` and returns it: a
 * GF_ENOMEM caused by the call's memory limit gets a message naming the
 * limit (unless it names it already); the tracked allocator is released
 * (blocks still allocated through it, the output, keep it alive) and its
 * peak is added to o.stats->peak_memory (the maximum). Every public entry
 * point that calls gfi_ctx_load calls this on each return after it; safe
 * on a context whose load failed, and on nested contexts (no-op). */
gf_status gfi_ctx_end(gfi_ctx *ctx, gf_status st, gf_error *err);

/* The context loaded options belong to, or NULL for options that were not
 * loaded by gfi_ctx_load. */
static inline const gfi_ctx *gfi_ctx_of(const gf_parallel_options *o) {
  return o && o->cancel ? o->cancel->call : NULL;
}

/* The memory limit options `o` run under, 0 = none: the call context's
 * for loaded options (whose memory_limit is 0, see gfi_ctx), else
 * o->memory_limit. */
static inline int64_t gfi_memory_limit(const gf_parallel_options *o) {
  const gfi_ctx *c = gfi_ctx_of(o);
  if (c && c->limiter) return c->limit;
  return o->memory_limit;
}

/* For operations that do sequential work between (or instead of) runtime
 * calls, which check the token and deadline only between their own morsels:
 * GF_ECANCELED when o->cancel is requested, GF_ETIMEDOUT when the deadline
 * has passed, else GF_OK. For loaded options the deadline is the call's;
 * for others it is o->timeout_ms after `start_ns` (when the operation
 * started). When `phase` is not NULL it receives a copy of `o` for the
 * runtime call made next. */
gf_status gfi_check_stop(const gf_parallel_options *o, int64_t start_ns,
                         gf_parallel_options *phase, gf_error *err);

/* Deadline of options in gfi_now_ns nanoseconds, 0 = none: the call's for
 * loaded options, else timeout_ms from now. */
static inline int64_t gfi_deadline_ns(const gf_parallel_options *o) {
  const gfi_ctx *c = gfi_ctx_of(o);
  if (c) return c->deadline_ns;
  if (o->timeout_ms <= 0) return 0;
  return gfi_now_ns() + o->timeout_ms * 1000000;
}

/* Adds the statistics of one runtime call `s` to `d` (a zeroed `d` becomes
 * a copy): morsels, rows, wall time and per-worker figures add up; peak
 * memory, workers used and chunk sizes take the extremes. */
void gfi_exec_stats_add(gf_exec_stats *d, const gf_exec_stats *s);

/* --- topology ----------------------------------------------------------- */

/* Per-core L2 cache size in bytes (sysfs, cached; 1 MiB when unknown). */
int64_t gfi_l2_cache_bytes(void);
/* CPUs in the process affinity mask at first use; fills up to `max` ids
 * into `cpus` and returns how many there are (>= 1). Cached. */
int gfi_affinity_cpus(int *cpus, int max);
/* CPU quota of the cgroup (v2 cpu.max, v1 cfs quota/period) rounded up,
 * or 0 when there is none. Cached. */
int gfi_cgroup_cpu_limit(void);

/* --- planning ----------------------------------------------------------- */

/* Rows per chunk that gf_plan_chunks would use (>= 1) for `total_rows` > 0
 * with loaded options and `workers` workers. */
int64_t gfi_plan_chunk_rows(int64_t total_rows, int64_t bytes_per_row,
                            const gf_parallel_options *o, int workers);

/* The planners of planners.c (gfi_plan_equal, gfi_plan_even,
 * gfi_plan_batches) are declared in exec/planners.h, included above, which
 * layers that must not see pthread.h (src/expr) include alone. */

/* --- waves and the first error in chunk order (waves.c) ---------------- */

/* Called on the calling thread after each wave with the list indexes
 * [first, first + n) of its chunks, waves in list order; sets *stop to end
 * the run early (still GF_OK). An error ends the run with that error. */
typedef gf_status (*gfi_wave_done_fn)(void *user, int64_t first, int64_t n, bool *stop,
                                      gf_error *err);

/* A run of a chunk list in bounded waves. The caller fills the first
 * block; gfi_run_waves fills the second. */
typedef struct gfi_waves {
  gf_chunk_fn fn;         /* kernel, run on every chunk of a wave */
  void *user;             /* its argument */
  gfi_wave_done_fn done;  /* after each wave; NULL = nothing to do */
  void *done_user;
  int64_t wave;           /* chunks in the first wave (< 1 taken as 1) */
  bool grow;              /* each next wave twice as large as the last */
  int64_t first;          /* list index of the running wave's first chunk:
                             kernels may read it (a per-wave slot of chunk
                             list index i is i - first) */
  int64_t ran;            /* chunks run so far (all handed to done) */
} gfi_waves;

/* Runs chunks[0..count) wave after wave through gf_run_chunks with `o`
 * (pass loaded options so every wave shares the call's deadline): each wave
 * runs in parallel, then w->done sees it, so memory stays bounded by one
 * wave and output handed on in done leaves in list order whatever the worker
 * count. Returns the first error of a wave (the runtime's rule) or of done;
 * w->ran tells how many chunks ran to completion. */
gf_status gfi_run_waves(gfi_waves *w, const gf_chunk_spec *chunks, int64_t count,
                        const gf_parallel_options *o, gf_error *err);

/* "The lowest chunk's error wins": kernels that fail record their chunk
 * index in one slot, the lowest index stays, and the caller reports that
 * chunk's error after the run, so the error reported (a parse error in a
 * file, say) is the first in input order whatever the scheduling. Chunks
 * after a recorded failure may skip their work. */
static inline void gfi_first_error_init(atomic_llong *slot) { atomic_init(slot, LLONG_MAX); }
/* Records that `chunk` failed (lock-free, any thread). */
void gfi_first_error_note(atomic_llong *slot, int64_t chunk);
/* True when a chunk before `chunk` has failed: its result will not be used. */
static inline bool gfi_first_error_before(atomic_llong *slot, int64_t chunk) {
  return atomic_load_explicit(slot, memory_order_relaxed) < chunk;
}
/* The lowest failed chunk, or -1 when none failed. Read after the run. */
static inline int64_t gfi_first_error_chunk(atomic_llong *slot) {
  long long c = atomic_load(slot);
  return c == LLONG_MAX ? -1 : (int64_t)c;
}

/* --- the pool ----------------------------------------------------------- */

typedef struct gfi_job gfi_job;

/* Work run by each participant of a job; `slot` is 0 for the caller and
 * 1.. for pool threads in the order they joined. */
typedef void (*gfi_job_fn)(gfi_job *job, int slot);

struct gfi_job {
  gfi_job_fn run;
  int wanted;          /* helper threads wanted (0 = caller alone) */
  int joined;          /* helpers that joined so far (under the pool lock) */
  int active;          /* helpers still inside run (under the pool lock) */
  bool queued;         /* still in the pool queue (under the pool lock) */
  bool pin;            /* pin helpers to CPUs (GF_PIN_THREADS) */
  gfi_job *next;       /* queue link (under the pool lock) */
  pthread_cond_t done; /* signalled when active drops to 0 after closing */
};

/* Runs `job` on the calling thread plus up to job->wanted pool threads and
 * returns when every participant has left job->run. Returns the number of
 * participants (1 + helpers that joined). */
int gfi_pool_execute(gfi_job *job);

/* True on a pool thread or while the calling thread is inside a parallel
 * region: nested parallel calls then run inline. */
bool gfi_in_parallel_region(void);
/* Marks the calling thread as inside (depth +1) or leaving (-1) a region. */
void gfi_parallel_region_enter(void);
void gfi_parallel_region_leave(void);

/* Test hook: when true, creating a pool thread fails as if the system had
 * no resources left, so calls fall back to fewer workers / inline. */
void gfi_pool_test_fail_thread_create(bool fail);
/* Number of pool threads currently alive (for tests and stats). */
int gfi_pool_threads(void);
/* Starts a joinable thread outside the pool (signals blocked as in pool
 * threads but faults); false when it cannot be created (or the test hook
 * above says so): the caller then does the work itself. */
bool gfi_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* --- per-call allocator ------------------------------------------------- */

/* A call's allocator when it is tracked (memory_limit or stats): a
 * gf_tracking_allocator over the user's allocator, wrapped in a refcounted
 * shell so that memory a kernel hands out past the end of the call (outputs)
 * can still be freed through it; the shell and tracker go away with the last
 * block. */
gf_status gfi_call_alloc_new(const gf_allocator *parent, int64_t limit,
                             gfi_call_alloc **out, gf_error *err);
const gf_allocator *gfi_call_alloc_get(gfi_call_alloc *c);
int64_t gfi_call_alloc_current(const gfi_call_alloc *c);
int64_t gfi_call_alloc_peak(const gfi_call_alloc *c);
/* Restarts the peak at the bytes live now (to measure one step of many). */
void gfi_call_alloc_reset_peak(gfi_call_alloc *c);
int64_t gfi_call_alloc_refusals(const gfi_call_alloc *c);
/* Drops the call's reference. */
void gfi_call_alloc_release(gfi_call_alloc *c);

#endif /* GF_EXEC_INTERNAL_H */
