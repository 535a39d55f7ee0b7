/* Running kernels on the pool: determinism of reductions, chunk order,
 * coverage, inline paths (1 worker, nested calls, no threads), errors and
 * statistics. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec/exec_internal.h"
#include "gopherframe/testing.h"

static const int kWorkers[] = {1, 2, 3, 8, 16};
static const gf_strategy kStrategies[] = {GF_STRATEGY_AUTO, GF_STRATEGY_FIXED_CHUNKS,
                                          GF_STRATEGY_CACHE_FRIENDLY, GF_STRATEGY_MEMORY_BOUND};

/* Keeps busy loops from being optimised away; atomic because workers
 * store to it concurrently. */
static _Atomic double sink;

#define NROWS (20 * GF_REDUCTION_BLOCK_ROWS + 12345)

static float *make_floats(int64_t n) {
  float *v = malloc((size_t)n * sizeof *v);
  assert_non_null(v);
  uint64_t s = 0x9e3779b97f4a7c15ull;
  for (int64_t i = 0; i < n; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    /* wide dynamic range so float addition order matters */
    v[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 1000.0 - 300.0) *
           ((s >> 7) & 1 ? 1e-3f : 1e3f);
  }
  return v;
}

typedef struct sum_job {
  const float *v;
  float *partials; /* one per reduction block */
} sum_job;

static gf_status sum_block(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  sum_job *j = user;
  float acc = 0.0f;
  for (int64_t i = c->start_row; i < c->end_row; i++) acc += j->v[i];
  j->partials[c->chunk_id] = acc;
  return GF_OK;
}

/* Float sum over reduction blocks, partials combined in block order. */
static float reduce(const float *v, int64_t n, const gf_parallel_options *o) {
  int64_t blocks = gf_reduction_blocks(n);
  sum_job j = {v, calloc((size_t)blocks, sizeof(float))};
  assert_non_null(j.partials);
  gf_error err;
  assert_int_equal(gf_parallel_for(n, 4, true, sum_block, &j, o, &err), GF_OK);
  float total = 0.0f;
  for (int64_t b = 0; b < blocks; b++) total += j.partials[b];
  free(j.partials);
  return total;
}

/* Runs first, in a fresh process: with no thread creatable, a 16-worker
 * call runs on the caller alone and gives the same result. */
static void test_thread_creation_failure_falls_back_to_inline(void **state) {
  (void)state;
  float *v = make_floats(NROWS);
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = 1;
  float expect = reduce(v, NROWS, &o);
  gfi_pool_test_fail_thread_create(true);
  int before = gfi_pool_threads();
  gf_exec_stats st;
  o.num_workers = 16;
  o.stats = &st;
  float got = reduce(v, NROWS, &o);
  gfi_pool_test_fail_thread_create(false);
  assert_memory_equal(&got, &expect, sizeof got);
  if (before == 0) assert_int_equal(st.workers_used, 1);
  assert_int_equal(st.rows, NROWS);
  free(v);
}

static void test_float_reduction_is_bit_identical_for_any_shape(void **state) {
  (void)state;
  float *v = make_floats(NROWS);
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = 1;
  o.strategy = GF_STRATEGY_FIXED_CHUNKS;
  float expect = reduce(v, NROWS, &o);
  /* the grid matters: one pass over all rows gives another value */
  float serial = 0.0f;
  for (int64_t i = 0; i < NROWS; i++) serial += v[i];
  (void)serial;
  static const int64_t chunk_rows[] = {0, 1000, 65536, 200000, 1 << 22};
  int runs = 0;
  for (size_t wi = 0; wi < 5; wi++)
    for (size_t si = 0; si < 4; si++)
      for (size_t ci = 0; ci < sizeof chunk_rows / sizeof chunk_rows[0]; ci++) {
        gf_parallel_options_init(&o);
        o.num_workers = kWorkers[wi];
        o.strategy = kStrategies[si];
        o.chunk_rows = chunk_rows[ci];
        o.min_parallel_rows = 0;
        float got = reduce(v, NROWS, &o);
        assert_memory_equal(&got, &expect, sizeof got);
        runs++;
      }
  assert_int_equal(runs, 100);
  free(v);
}

typedef struct order_job {
  int64_t *first_row;  /* per chunk id */
  int64_t *ids;        /* per chunk id */
  unsigned char *seen; /* per row */
} order_job;

static gf_status record_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  order_job *j = user;
  j->first_row[c->chunk_id] = c->start_row;
  j->ids[c->chunk_id] = c->chunk_id;
  for (int64_t i = c->start_row; i < c->end_row; i++) j->seen[i]++;
  return GF_OK;
}

static void test_results_collected_in_chunk_order_cover_every_row_once(void **state) {
  (void)state;
  const int64_t n = 1000003;
  for (size_t wi = 0; wi < 5; wi++)
    for (size_t si = 0; si < 4; si++) {
      gf_parallel_options o;
      gf_parallel_options_init(&o);
      o.num_workers = kWorkers[wi];
      o.strategy = kStrategies[si];
      o.min_parallel_rows = 0;
      gf_chunk_spec *plan = NULL;
      int64_t count = 0;
      assert_int_equal(gf_plan_chunks(n, 8, &o, &plan, &count, NULL), GF_OK);
      order_job j = {calloc((size_t)count, 8), calloc((size_t)count, 8), calloc((size_t)n, 1)};
      assert_int_equal(gf_run_chunks(plan, count, record_chunk, &j, &o, NULL), GF_OK);
      for (int64_t c = 0; c < count; c++) {
        assert_int_equal(j.ids[c], c);
        assert_int_equal(j.first_row[c], plan[c].start_row);
      }
      for (int64_t i = 0; i < n; i++) assert_int_equal(j.seen[i], 1);
      gf_mem_free(plan);
      free(j.first_row);
      free(j.ids);
      free(j.seen);
    }
}

typedef struct seq_job {
  int64_t sizes[16];
  int n;
  pthread_t caller;
  bool other_thread;
  bool nonzero_worker;
} seq_job;

static gf_status record_sequence(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  seq_job *j = user;
  j->sizes[j->n++] = c->end_row - c->start_row;
  if (!pthread_equal(pthread_self(), j->caller)) j->other_thread = true;
  if (ctx->worker != 0) j->nonzero_worker = true;
  return GF_OK;
}

static void test_one_worker_runs_inline_largest_chunk_first(void **state) {
  (void)state;
  gf_chunk_spec chunks[] = {{0, 10, 0}, {10, 110, 1}, {110, 115, 2}, {115, 165, 3}, {165, 265, 4}};
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = 1;
  o.min_parallel_rows = 0;
  o.strategy = GF_STRATEGY_FIXED_CHUNKS;
  seq_job j;
  memset(&j, 0, sizeof j);
  j.caller = pthread_self();
  assert_int_equal(gf_run_chunks(chunks, 5, record_sequence, &j, &o, NULL), GF_OK);
  assert_int_equal(j.n, 5);
  static const int64_t expect[] = {100, 100, 50, 10, 5};
  for (int i = 0; i < 5; i++) assert_int_equal(j.sizes[i], expect[i]);
  assert_false(j.other_thread);
  assert_false(j.nonzero_worker);
}

typedef struct nest_job {
  const float *v;
  float *outer_partials;
  atomic_int bad_thread;
  atomic_int inner_calls;
} nest_job;

typedef struct inner_job {
  const float *v;
  float *partials;
  pthread_t thread;
  atomic_int *bad_thread;
} inner_job;

static gf_status inner_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  inner_job *j = user;
  if (!pthread_equal(pthread_self(), j->thread) || ctx->worker != 0)
    atomic_fetch_add(j->bad_thread, 1);
  float acc = 0.0f;
  for (int64_t i = c->start_row; i < c->end_row; i++) acc += j->v[i];
  j->partials[c->chunk_id] = acc;
  return GF_OK;
}

/* Each outer block sums its rows with a nested parallel call over 4 sub-
 * ranges; the nested call must run inline on the same thread. */
static gf_status outer_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  nest_job *j = user;
  float parts[64];
  inner_job in = {j->v + c->start_row, parts, pthread_self(), &j->bad_thread};
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = 8;
  o.min_parallel_rows = 0;
  o.chunk_rows = GF_REDUCTION_BLOCK_ROWS / 4;
  if (gf_effective_workers(&o) != 1) atomic_fetch_add(&j->bad_thread, 1);
  gf_status st = gf_parallel_for(c->end_row - c->start_row, 4, false, inner_kernel, &in, &o,
                                 ctx->err);
  if (st != GF_OK) return st;
  int64_t chunks = (c->end_row - c->start_row + o.chunk_rows - 1) / o.chunk_rows;
  float acc = 0.0f;
  for (int64_t i = 0; i < chunks; i++) acc += parts[i];
  j->outer_partials[c->chunk_id] = acc;
  atomic_fetch_add(&j->inner_calls, 1);
  return GF_OK;
}

static void test_nested_call_runs_inline_with_same_result(void **state) {
  (void)state;
  float *v = make_floats(NROWS);
  int64_t blocks = gf_reduction_blocks(NROWS);
  for (size_t wi = 0; wi < 5; wi++) {
    nest_job j = {v, calloc((size_t)blocks, sizeof(float)), 0, 0};
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    o.num_workers = kWorkers[wi];
    assert_int_equal(gf_parallel_for(NROWS, 4, true, outer_kernel, &j, &o, NULL), GF_OK);
    assert_int_equal(atomic_load(&j.bad_thread), 0);
    assert_int_equal(atomic_load(&j.inner_calls), blocks);
    /* the same computation done serially */
    for (int64_t b = 0; b < blocks; b++) {
      gf_chunk_spec blk = gf_reduction_block(NROWS, b);
      float acc = 0.0f;
      for (int64_t s = blk.start_row; s < blk.end_row; s += GF_REDUCTION_BLOCK_ROWS / 4) {
        int64_t e = s + GF_REDUCTION_BLOCK_ROWS / 4 < blk.end_row ? s + GF_REDUCTION_BLOCK_ROWS / 4
                                                                  : blk.end_row;
        float p = 0.0f;
        for (int64_t i = s; i < e; i++) p += v[i];
        acc += p;
      }
      assert_memory_equal(&acc, &j.outer_partials[b], sizeof acc);
    }
    free(j.outer_partials);
  }
  free(v);
}

typedef struct err_job {
  int64_t fail_chunk;
  atomic_llong executed;
  const gf_allocator *alloc_seen;
} err_job;

/* Allocates and frees scratch through the call's allocator; fails one chunk
 * with a message. */
static gf_status failing_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  err_job *j = user;
  atomic_fetch_add(&j->executed, 1);
  void *scratch = gf_alloc(ctx->allocator, 4096, 64);
  if (!scratch) return gf_error_set(ctx->err, GF_ENOMEM, "scratch");
  gf_free(ctx->allocator, scratch, 4096, 64);
  /* Other chunks sleep a little so the failing one, though dispatched
   * first, cannot be overtaken by all the rest even when its thread is
   * briefly descheduled. */
  if (c->chunk_id != j->fail_chunk) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  if (c->chunk_id == j->fail_chunk)
    return gf_error_set(ctx->err, GF_EPARSE, "bad value in chunk %lld at row %lld",
                        (long long)c->chunk_id, (long long)c->start_row);
  return GF_OK;
}

static void test_first_error_wins_stops_others_and_leaks_nothing(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  for (size_t wi = 0; wi < 5; wi++)
    for (int limited = 0; limited < 2; limited++) {
      err_job j = {0, 0, NULL};
      gf_parallel_options o;
      gf_parallel_options_init(&o);
      o.num_workers = kWorkers[wi];
      o.chunk_rows = 100;
      o.min_parallel_rows = 0;
      o.allocator = gf_failing_allocator_get(fa);
      o.memory_limit = limited ? 1 << 20 : 0;
      gf_error err;
      gf_error_clear(&err);
      gf_status st = gf_parallel_for(100 * 2000, 8, false, failing_kernel, &j, &o, &err);
      assert_int_equal(st, GF_EPARSE);
      assert_int_equal(err.code, GF_EPARSE);
      assert_string_equal(err.message, "bad value in chunk 0 at row 0");
      assert_true(atomic_load(&j.executed) < 2000);
      assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
    }
  gf_failing_allocator_free(fa);
}

static gf_status silent_failure(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  return c->chunk_id == 3 ? GF_EIO : GF_OK;
}

static void test_error_without_message_names_the_chunk(void **state) {
  (void)state;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = 1;
  o.chunk_rows = 10;
  o.min_parallel_rows = 0;
  gf_error err;
  assert_int_equal(gf_parallel_for(100, 8, false, silent_failure, NULL, &o, &err), GF_EIO);
  assert_non_null(strstr(err.message, "chunk 3"));
  assert_non_null(strstr(err.message, "rows 30..40"));
}

static void test_stats_account_for_every_row_and_morsel(void **state) {
  (void)state;
  float *v = make_floats(NROWS);
  for (size_t wi = 0; wi < 5; wi++) {
    gf_exec_stats st;
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    o.num_workers = kWorkers[wi];
    o.stats = &st;
    o.flags = GF_PIN_THREADS;
    (void)reduce(v, NROWS, &o);
    assert_int_equal(st.size, sizeof st);
    assert_int_equal(st.rows, NROWS);
    assert_int_equal(st.morsels, gf_reduction_blocks(NROWS));
    assert_true(st.workers_used >= 1 && st.workers_used <= kWorkers[wi]);
    int64_t rows = 0, morsels = 0;
    for (int w = 0; w < st.workers_used; w++) {
      rows += st.worker[w].rows;
      morsels += st.worker[w].morsels;
      assert_true(st.worker[w].busy_ns >= 0 && st.worker[w].wait_ns >= 0);
    }
    assert_int_equal(rows, NROWS);
    assert_int_equal(morsels, st.morsels);
    assert_int_equal(st.chunk_rows_max, GF_REDUCTION_BLOCK_ROWS);
    assert_int_equal(st.chunk_rows_min, 12345);
    assert_true(st.wall_ns > 0);
  }
  free(v);
}

static void test_bad_arguments_are_rejected(void **state) {
  (void)state;
  gf_error err;
  assert_int_equal(gf_run_chunks(NULL, 3, silent_failure, NULL, NULL, &err), GF_EINVAL);
  assert_int_equal(gf_parallel_for(10, 8, false, NULL, NULL, NULL, &err), GF_EINVAL);
  assert_int_equal(gf_parallel_for(-1, 8, false, silent_failure, NULL, NULL, &err), GF_EINVAL);
  gf_chunk_spec bad = {10, 5, 0};
  assert_int_equal(gf_run_chunks(&bad, 1, silent_failure, NULL, NULL, &err), GF_EINVAL);
  assert_int_equal(gf_run_chunks(NULL, 0, silent_failure, NULL, NULL, &err), GF_OK);
  assert_int_equal(gf_parallel_for(0, 8, false, silent_failure, NULL, NULL, &err), GF_OK);
}

static gf_status slow_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  double x = 0;
  for (int64_t i = c->start_row; i < c->end_row; i++) x += (double)i * 0.5;
  sink = x;
  return GF_OK;
}

static void test_tune_reports_a_measured_best_shape(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *log = open_memstream(&buf, &len);
  gf_tune_result r;
  assert_int_equal(gf_tune(200000, 8, slow_kernel, NULL, 3, log, &r, NULL), GF_OK);
  fclose(log);
  assert_true(r.best_workers >= 1);
  assert_true(r.best_chunk_rows == 16384 || r.best_chunk_rows == 65536);
  assert_true(r.best_ns > 0);
  assert_non_null(strstr(buf, "tune: best workers="));
  assert_non_null(strstr(buf, "chunk_rows=16384"));
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_thread_creation_failure_falls_back_to_inline),
      cmocka_unit_test(test_float_reduction_is_bit_identical_for_any_shape),
      cmocka_unit_test(test_results_collected_in_chunk_order_cover_every_row_once),
      cmocka_unit_test(test_one_worker_runs_inline_largest_chunk_first),
      cmocka_unit_test(test_nested_call_runs_inline_with_same_result),
      cmocka_unit_test(test_first_error_wins_stops_others_and_leaks_nothing),
      cmocka_unit_test(test_error_without_message_names_the_chunk),
      cmocka_unit_test(test_stats_account_for_every_row_and_morsel),
      cmocka_unit_test(test_bad_arguments_are_rejected),
      cmocka_unit_test(test_tune_reports_a_measured_best_shape),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
