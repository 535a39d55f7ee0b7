/*
 * Running chunk kernels: gf_run_chunks and gf_parallel_for.
 *
 * One call = one job on the pool (pool.c). Chunks are claimed through one
 * atomic index in dispatch order (largest first where sizes differ); a claim
 * ("morsel") takes `grain` consecutive chunks. Under AUTO each worker grows
 * or shrinks its own grain from the measured time per morsel; the chunks
 * themselves never change, so neither do results.
 *
 * Between chunks every worker checks the stop flag (set by the first error),
 * the cancel token, the deadline and, for helpers, memory pressure. The
 * first error wins through a compare-and-swap on the call's status; only the
 * winner writes the call's message, which the caller copies out after every
 * helper has left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec_internal.h"

/* AUTO aims at morsels of about this long: long enough to make dispatch
 * cost negligible, short enough to balance load and stop promptly. */
#define AUTO_TARGET_NS 200000
/* A helper stops taking morsels once the call uses this share of its
 * memory limit (per mille); the caller alone then finishes or fails. */
#define PRESSURE_PERMILLE 900

typedef struct slot_stats {
  int64_t morsels, chunks, rows, busy_ns, first_ns, last_ns, min_rows, max_rows;
} slot_stats;

typedef struct order_entry {
  int64_t rows;
  int64_t index;
} order_entry;

typedef struct call {
  gfi_job job; /* first: the pool hands back a gfi_job pointer */
  /* chunks: an explicit list (maybe reordered), or uniform_rows-sized
   * chunks over [0, total_rows) */
  const gf_chunk_spec *chunks;
  const order_entry *order;
  int64_t uniform_rows, total_rows, count;
  gf_chunk_fn fn;
  void *user;
  const gf_allocator *alloc;
  gfi_call_alloc *tracked;  /* this runtime call's (stats), or NULL */
  gfi_call_alloc *limiter;  /* what holds the memory limit, or NULL */
  int64_t limit;
  gf_cancel *cancel;
  int64_t start_ns, deadline_ns;
  int64_t grain, max_grain;
  bool adaptive, timing;
  atomic_llong next;
  atomic_int status;
  atomic_bool stop;
  gf_error error; /* written only by the CAS winner */
  slot_stats ws[GF_MAX_STATS_WORKERS];
} call;

static inline gf_chunk_spec chunk_at(const call *c, int64_t i) {
  if (c->chunks) return c->chunks[c->order ? c->order[i].index : i];
  gf_chunk_spec s;
  s.start_row = i * c->uniform_rows;
  s.end_row = s.start_row + c->uniform_rows < c->total_rows ? s.start_row + c->uniform_rows
                                                            : c->total_rows;
  s.chunk_id = i;
  return s;
}

/* Records `st` as the call's result unless an error came first; every
 * worker then stops at its next check. */
static void fail(call *c, gf_status st, const char *message) {
  int expected = GF_OK;
  if (atomic_compare_exchange_strong(&c->status, &expected, (int)st)) {
    gf_error_set(&c->error, st, "%s", message && *message ? message : gf_status_string(st));
  }
  atomic_store(&c->stop, true);
}

/* Checks run before every chunk. True when this worker must stop. */
static bool must_stop(call *c, int slot) {
  if (atomic_load_explicit(&c->stop, memory_order_relaxed)) return true;
  if (c->cancel && gf_cancel_requested(c->cancel)) {
    fail(c, GF_ECANCELED, "operation cancelled");
    return true;
  }
  if (c->deadline_ns && gfi_now_ns() >= c->deadline_ns) {
    fail(c, GF_ETIMEDOUT, "operation timed out: its deadline (timeout_ms) passed");
    return true;
  }
  /* Memory pressure: extra workers step back so only the caller keeps
   * allocating; if even that does not fit, its kernel fails with ENOMEM. */
  if (slot != 0 && c->limit > 0 &&
      gfi_call_alloc_current(c->limiter) * 1000 > c->limit * PRESSURE_PERMILLE)
    return true;
  return false;
}

/* Runs one failing chunk's error through the CAS, with a default message
 * when the kernel gave none. */
static void chunk_failed(call *c, gf_status st, gf_error *local, const gf_chunk_spec *ch) {
  char msg[GF_ERROR_MESSAGE_SIZE];
  if (local->message[0]) {
    snprintf(msg, sizeof msg, "%s", local->message);
  } else if (st == GF_ENOMEM && c->limiter && c->limit > 0 &&
             gfi_call_alloc_refusals(c->limiter) > 0) {
    snprintf(msg, sizeof msg, "memory limit of %lld bytes exceeded (chunk %lld, rows %lld..%lld)",
             (long long)c->limit, (long long)ch->chunk_id, (long long)ch->start_row,
             (long long)ch->end_row);
  } else {
    snprintf(msg, sizeof msg, "%s in chunk %lld (rows %lld..%lld)", gf_status_string(st),
             (long long)ch->chunk_id, (long long)ch->start_row, (long long)ch->end_row);
  }
  fail(c, st, msg);
}

/* The loop each participant runs. */
static void run_slot(gfi_job *job, int slot) {
  call *c = (call *)job;
  slot_stats *ws = &c->ws[slot];
  gf_error local;
  gf_error_clear(&local);
  gf_task_ctx ctx = {slot, c->alloc, &local};
  int64_t grain = c->grain;
  for (;;) {
    if (must_stop(c, slot)) return;
    int64_t first = atomic_fetch_add_explicit(&c->next, grain, memory_order_relaxed);
    if (first >= c->count) return;
    int64_t last = first + grain < c->count ? first + grain : c->count;
    int64_t t0 = c->timing ? gfi_now_ns() : 0;
    if (ws->morsels == 0) ws->first_ns = t0;
    ws->morsels++;
    for (int64_t i = first; i < last; i++) {
      /* Claimed chunks are always run unless the call is failing (slot 0
       * semantics: pressure never skips claimed rows). */
      if (i > first && must_stop(c, 0)) goto done;
      gf_chunk_spec ch = chunk_at(c, i);
      local.code = GF_OK;
      local.message[0] = '\0';
      gf_status st = c->fn(c->user, &ch, &ctx);
      int64_t rows = ch.end_row - ch.start_row;
      ws->chunks++;
      ws->rows += rows;
      if (ws->chunks == 1 || rows < ws->min_rows) ws->min_rows = rows;
      if (rows > ws->max_rows) ws->max_rows = rows;
      if (st != GF_OK) {
        chunk_failed(c, st, &local, &ch);
        goto done;
      }
    }
  done:
    if (c->timing) {
      int64_t t1 = gfi_now_ns();
      ws->busy_ns += t1 - t0;
      ws->last_ns = t1;
      if (c->adaptive) {
        int64_t per = t1 - t0;
        if (per < AUTO_TARGET_NS / 2 && grain < c->max_grain) grain *= 2;
        else if (per > 4 * AUTO_TARGET_NS && grain > 1) grain /= 2;
        if (grain > c->max_grain) grain = c->max_grain;
      }
    }
    if (atomic_load_explicit(&c->stop, memory_order_relaxed)) return;
  }
}

static int cmp_order(const void *a, const void *b) {
  const order_entry *x = a, *y = b;
  if (x->rows != y->rows) return x->rows > y->rows ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Fills opts->stats from the finished call. */
static void fill_stats(gf_exec_stats *s, const call *c, int used, int64_t end_ns) {
  memset(s, 0, sizeof *s);
  s->size = sizeof *s;
  s->workers_used = used;
  s->wall_ns = end_ns - c->start_ns;
  s->peak_memory = c->tracked ? gfi_call_alloc_peak(c->tracked) : 0;
  bool any = false;
  for (int i = 0; i < used && i < GF_MAX_STATS_WORKERS; i++) {
    const slot_stats *w = &c->ws[i];
    s->worker[i].morsels = w->chunks;
    s->worker[i].rows = w->rows;
    s->worker[i].busy_ns = w->busy_ns;
    s->worker[i].wait_ns = w->morsels ? (w->first_ns - c->start_ns) + (end_ns - w->last_ns)
                                      : end_ns - c->start_ns;
    if (s->worker[i].wait_ns < 0) s->worker[i].wait_ns = 0;
    s->morsels += w->chunks;
    s->rows += w->rows;
    if (w->chunks) {
      if (!any || w->min_rows < s->chunk_rows_min) s->chunk_rows_min = w->min_rows;
      if (!any || w->max_rows > s->chunk_rows_max) s->chunk_rows_max = w->max_rows;
      any = true;
    }
  }
}

/* The common body of gf_run_chunks and gf_parallel_for. `o` is loaded;
 * `grain` 0 = adaptive under AUTO (else 1 chunk per morsel), > 0 = fixed. `parallel_ok`
 * false keeps the call on the calling thread (min_parallel_rows). */
static gf_status run_call(const gf_chunk_spec *chunks, const order_entry *order, int64_t count,
                          int64_t uniform_rows, int64_t total_rows, int64_t grain,
                          bool parallel_ok, gf_chunk_fn fn, void *user,
                          const gf_parallel_options *o, gf_error *err) {
  const gf_allocator *ua = gfi_alloc_or_default(o->allocator);
  call *c = gfi_malloc(ua, sizeof *c);
  if (!c) return GF_OOM(err, "a parallel call");
  memset(c, 0, sizeof *c);
  c->start_ns = gfi_now_ns();
  c->chunks = chunks;
  c->order = order;
  c->count = count;
  c->uniform_rows = uniform_rows;
  c->total_rows = total_rows;
  c->fn = fn;
  c->user = user;
  c->cancel = o->cancel; /* the call token: answers for the user's */
  c->deadline_ns = gfi_deadline_ns(o);
  c->limit = o->memory_limit;
  atomic_init(&c->next, 0);
  atomic_init(&c->status, GF_OK);
  atomic_init(&c->stop, false);
  gf_error_clear(&c->error);

  int workers = parallel_ok ? gf_effective_workers(o) : 1;
  int64_t helpers = (int64_t)workers - 1;
  if (helpers > count - 1) helpers = count - 1;
  if (helpers < 0) helpers = 0;
  c->adaptive = grain == 0 && o->strategy == GF_STRATEGY_AUTO;
  c->grain = grain > 0 ? grain : 1;
  /* AUTO may batch chunks, but leaves ~8 morsels per worker to balance. */
  c->max_grain = count / ((helpers + 1) * 8);
  if (c->max_grain < 1) c->max_grain = 1;
  c->timing = o->stats != NULL || c->adaptive;

  if (o->memory_limit > 0 || o->stats) {
    gf_status st = gfi_call_alloc_new(o->allocator, o->memory_limit, &c->tracked, err);
    if (st != GF_OK) {
      gfi_mfree(ua, c, sizeof *c);
      return st;
    }
    c->alloc = gfi_call_alloc_get(c->tracked);
    c->limiter = c->tracked;
  } else {
    c->alloc = gfi_alloc_or_default(o->allocator);
  }
  /* Loaded options carry the call's limit in its context (gfi_ctx_load),
   * with o->memory_limit 0: memory pressure is the whole call's. */
  const gfi_ctx *lcx = gfi_ctx_of(o);
  if (lcx && lcx->limiter) {
    c->limiter = lcx->limiter;
    c->limit = lcx->limit;
  }

  c->job.run = run_slot;
  c->job.wanted = (int)helpers;
  c->job.pin = (o->flags & GF_PIN_THREADS) != 0;
  int used = gfi_pool_execute(&c->job);
  int64_t end_ns = gfi_now_ns();

  const gfi_ctx *cx = gfi_ctx_of(o);
  if (o->stats && cx && cx->stats_accumulate) {
    gf_exec_stats one;
    fill_stats(&one, c, used, end_ns);
    gfi_exec_stats_add(o->stats, &one);
  } else if (o->stats) {
    fill_stats(o->stats, c, used, end_ns);
  }
  gf_status st = (gf_status)atomic_load(&c->status);
  if (st != GF_OK) gf_error_set(err, st, "%s", c->error.message);
  gfi_call_alloc_release(c->tracked);
  gfi_mfree(ua, c, sizeof *c);
  return st;
}

/* Empty stats for calls with nothing to do. */
static void empty_stats(const gfi_ctx *cx) {
  const gf_parallel_options *o = &cx->o;
  if (!o->stats || cx->stats_accumulate) return;
  memset(o->stats, 0, sizeof *o->stats);
  o->stats->size = sizeof *o->stats;
  o->stats->workers_used = 1;
}

/* Runs fn over an explicit chunk list: largest first where sizes differ,
 * on the calling thread when the rows are fewer than min_parallel_rows. */
/* gf_run_chunks once its call context is loaded: every return of it goes
 * through gfi_ctx_end in gf_run_chunks. */
static gf_status gf_run_chunks_loaded(const gf_chunk_spec *chunks, int64_t count, gf_chunk_fn fn, void *user,
                                      const gf_parallel_options *opts, gf_error *err, gf_parallel_options o, const gfi_ctx *cxp) {
  if (count == 0) {
    empty_stats(cxp);
    return GF_OK;
  }
  int64_t rows = 0;
  bool sorted = true;
  for (int64_t i = 0; i < count; i++) {
    int64_t r = chunks[i].end_row - chunks[i].start_row;
    if (r < 0)
      return gf_error_set(err, GF_EINVAL, "gf_run_chunks: chunk %lld has end before start",
                          (long long)i);
    rows += r;
    if (i > 0 && r > chunks[i - 1].end_row - chunks[i - 1].start_row) sorted = false;
  }
  order_entry *order = NULL;
  const gf_allocator *ua = gfi_alloc_or_default(o.allocator);
  if (!sorted) {
    if ((uint64_t)count > SIZE_MAX / sizeof *order)
      return gf_error_set(err, GF_ENOMEM, "gf_run_chunks: too many chunks");
    order = gfi_malloc(ua, (size_t)count * sizeof *order);
    if (!order) return GF_OOM(err, "the chunk dispatch order");
    for (int64_t i = 0; i < count; i++) {
      order[i].rows = chunks[i].end_row - chunks[i].start_row;
      order[i].index = i;
    }
    qsort(order, (size_t)count, sizeof *order, cmp_order);
  }
  gf_status st = run_call(chunks, order, count, 0, rows, 0, rows >= o.min_parallel_rows, fn,
                          user, &o, err);
  if (order) gfi_mfree(ua, order, (size_t)count * sizeof *order);
  return st;
}

gf_status gf_run_chunks(const gf_chunk_spec *chunks, int64_t count, gf_chunk_fn fn, void *user,
                        const gf_parallel_options *opts, gf_error *err) {
  if (!fn) return gf_error_set(err, GF_EINVAL, "gf_run_chunks: fn is NULL");
  if (count < 0 || (count > 0 && !chunks))
    return gf_error_set(err, GF_EINVAL, "gf_run_chunks: %s",
                        count < 0 ? "negative chunk count" : "chunks is NULL");
  gfi_ctx cx;
  gf_parallel_options o;
  GF_RETURN_NOT_OK(gfi_ctx_load(&cx, opts, &o, err));
  return gfi_ctx_end(&cx, gf_run_chunks_loaded(chunks, count, fn, user, opts, err, o, &cx), err);
}

/* Plans and runs. With `reduction`, every chunk is exactly one reduction
 * block (chunk_id = block index) and the strategy only decides how many
 * consecutive blocks one morsel claims; without it, chunks are the plan of
 * gf_plan_chunks. */
/* gf_parallel_for once its call context is loaded: every return of it goes
 * through gfi_ctx_end in gf_parallel_for. */
static gf_status gf_parallel_for_loaded(int64_t total_rows, int64_t bytes_per_row, bool reduction,
                                        gf_chunk_fn fn, void *user, const gf_parallel_options *opts,
                                        gf_error *err, gf_parallel_options o, const gfi_ctx *cxp) {
  if (total_rows == 0) {
    empty_stats(cxp);
    return GF_OK;
  }
  int workers = gf_effective_workers(&o);
  int64_t rows = gfi_plan_chunk_rows(total_rows, bytes_per_row, &o, workers);
  bool parallel_ok = total_rows >= o.min_parallel_rows;
  if (reduction) {
    int64_t blocks = gf_reduction_blocks(total_rows);
    int64_t grain = 0; /* AUTO: adaptive */
    if (o.strategy != GF_STRATEGY_AUTO) {
      grain = rows / GF_REDUCTION_BLOCK_ROWS;
      if (grain < 1) grain = 1;
    }
    return run_call(NULL, NULL, blocks, GF_REDUCTION_BLOCK_ROWS, total_rows, grain, parallel_ok,
                    fn, user, &o, err);
  }
  int64_t count = (total_rows + rows - 1) / rows;
  return run_call(NULL, NULL, count, rows, total_rows, 0, parallel_ok, fn, user, &o, err);
}

gf_status gf_parallel_for(int64_t total_rows, int64_t bytes_per_row, bool reduction,
                          gf_chunk_fn fn, void *user, const gf_parallel_options *opts,
                          gf_error *err) {
  if (!fn) return gf_error_set(err, GF_EINVAL, "gf_parallel_for: fn is NULL");
  if (total_rows < 0)
    return gf_error_set(err, GF_EINVAL, "gf_parallel_for: total_rows %lld is negative",
                        (long long)total_rows);
  gfi_ctx cx;
  gf_parallel_options o;
  GF_RETURN_NOT_OK(gfi_ctx_load(&cx, opts, &o, err));
  return gfi_ctx_end(&cx, gf_parallel_for_loaded(total_rows, bytes_per_row, reduction, fn, user, opts, err, o, &cx), err);
}
