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

#include <pthread.h>
#include <stdatomic.h>

#include "core/core_internal.h"

/* Most threads the pool ever creates (helpers; the caller is worker 0). */
#define GFI_POOL_MAX_THREADS (GF_MAX_STATS_WORKERS - 1)

/* --- options ------------------------------------------------------------ */

/* Copies `opts` (NULL = defaults; honours opts->size so older, smaller
 * structs still work) into `out` and validates it. */
gf_status gfi_options_load(const gf_parallel_options *opts,
                           gf_parallel_options *out, gf_error *err);

/* For operations that do sequential work between (or instead of) runtime
 * calls, which check the token and deadline only between their own morsels:
 * GF_ECANCELED when o->cancel is requested, GF_ETIMEDOUT when o->timeout_ms
 * has passed since `start_ns` (when the operation started), else GF_OK.
 * When `phase` is not NULL it receives a copy of `o` that carries the
 * operation's absolute deadline (GFI_DEADLINE_ABSOLUTE), so a runtime call
 * made next keeps it instead of starting a fresh one. For options loaded by
 * gfi_options_load the deadline is already absolute and `start_ns` is not
 * used. */
gf_status gfi_check_stop(const gf_parallel_options *o, int64_t start_ns,
                         gf_parallel_options *phase, gf_error *err);

/* Internal option flag (never set by users): each runtime call adds its
 * statistics to opts->stats instead of replacing them, so an operator made
 * of several runtime calls (a group-by) reports all of them. The operator
 * zeroes *opts->stats first. */
#define GFI_STATS_ACCUMULATE (1u << 30)

/* Internal option flag, set by gfi_options_load: timeout_ms holds the
 * call's absolute deadline (milliseconds of gfi_now_ns's clock, rounded up)
 * instead of a duration. A public call loads the user's options once, so
 * every runtime call and nested operator inside it shares one deadline,
 * fixed when the call started (a per-phase timeout would let a call made of
 * several phases return long after its deadline). */
#define GFI_DEADLINE_ABSOLUTE (1u << 29)

/* Deadline of loaded options in gfi_now_ns nanoseconds, 0 = none. */
static inline int64_t gfi_deadline_ns(const gf_parallel_options *o) {
  if (o->timeout_ms <= 0) return 0;
  if (o->flags & GFI_DEADLINE_ABSOLUTE) return o->timeout_ms * 1000000;
  return gfi_now_ns() + o->timeout_ms * 1000000; /* not loaded: from now */
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

/* --- per-call allocator ------------------------------------------------- */

/* A call's allocator when it is tracked (memory_limit or stats): a
 * gf_tracking_allocator over the user's allocator, wrapped in a refcounted
 * shell so that memory a kernel hands out past the end of the call (outputs)
 * can still be freed through it; the shell and tracker go away with the last
 * block. */
typedef struct gfi_call_alloc gfi_call_alloc;
gf_status gfi_call_alloc_new(const gf_allocator *parent, int64_t limit,
                             gfi_call_alloc **out, gf_error *err);
const gf_allocator *gfi_call_alloc_get(gfi_call_alloc *c);
int64_t gfi_call_alloc_current(const gfi_call_alloc *c);
int64_t gfi_call_alloc_peak(const gfi_call_alloc *c);
int64_t gfi_call_alloc_refusals(const gfi_call_alloc *c);
/* Drops the call's reference. */
void gfi_call_alloc_release(gfi_call_alloc *c);

#endif /* GF_EXEC_INTERNAL_H */
