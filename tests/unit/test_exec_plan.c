/* Chunk planning, the reduction grid, options and worker counts, topology,
 * and printing statistics. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/exec_internal.h"

static const gf_strategy kStrategies[] = {GF_STRATEGY_AUTO, GF_STRATEGY_FIXED_CHUNKS,
                                          GF_STRATEGY_CACHE_FRIENDLY, GF_STRATEGY_MEMORY_BOUND};
static const int kWorkers[] = {1, 2, 3, 8, 16};

/* Asserts the plan covers [0, total) in order with no empty chunk. */
static void assert_plan_valid(const gf_chunk_spec *c, int64_t n, int64_t total) {
  if (total == 0) {
    assert_int_equal(n, 0);
    return;
  }
  assert_true(n >= 1);
  int64_t expect = 0;
  for (int64_t i = 0; i < n; i++) {
    assert_int_equal(c[i].chunk_id, i);
    assert_int_equal(c[i].start_row, expect);
    assert_true(c[i].end_row > c[i].start_row);
    expect = c[i].end_row;
  }
  assert_int_equal(expect, total);
}

static void test_plan_covers_every_row_once_for_all_shapes(void **state) {
  (void)state;
  static const int64_t sizes[] = {0, 1, 2, 7, 1000, 4095, 65535, 65536, 65537,
                                  100000, 1000003, 5000000};
  static const int64_t chunk_rows[] = {0, 7, 1000, 65536, 100000};
  static const int64_t mins[] = {0, GF_DEFAULT_MIN_PARALLEL_ROWS};
  static const int64_t bprs[] = {0, 4, 64};
  int plans = 0;
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
    for (size_t st = 0; st < 4; st++)
      for (size_t ci = 0; ci < sizeof chunk_rows / sizeof chunk_rows[0]; ci++)
        for (size_t wi = 0; wi < 5; wi++)
          for (size_t mi = 0; mi < 2; mi++)
            for (size_t bi = 0; bi < 3; bi++) {
              if (chunk_rows[ci] == 7 && sizes[si] > 100000) continue;
              gf_parallel_options o;
              gf_parallel_options_init(&o);
              o.strategy = kStrategies[st];
              o.chunk_rows = chunk_rows[ci];
              o.num_workers = kWorkers[wi];
              o.min_parallel_rows = mins[mi];
              o.memory_limit = bi == 2 ? (int64_t)1 << 24 : 0;
              gf_chunk_spec *c = NULL;
              int64_t n = -1;
              gf_error err;
              assert_int_equal(gf_plan_chunks(sizes[si], bprs[bi], &o, &c, &n, &err), GF_OK);
              assert_plan_valid(c, n, sizes[si]);
              if (sizes[si] > 0 && sizes[si] < mins[mi]) assert_int_equal(n, 1);
              if (chunk_rows[ci] > 0 && sizes[si] > 0 && sizes[si] >= mins[mi])
                assert_int_equal(c[0].end_row,
                                 chunk_rows[ci] < sizes[si] ? chunk_rows[ci] : sizes[si]);
              gf_mem_free(c);
              plans++;
            }
  assert_true(plans > 1000);
}

static void test_fixed_chunks_split_rows_evenly_over_workers(void **state) {
  (void)state;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.strategy = GF_STRATEGY_FIXED_CHUNKS;
  o.num_workers = 4;
  gf_chunk_spec *c = NULL;
  int64_t n = 0;
  assert_int_equal(gf_plan_chunks(1000000, 8, &o, &c, &n, NULL), GF_OK);
  assert_int_equal(n, 4);
  assert_int_equal(c[0].end_row, 250000);
  gf_mem_free(c);
}

static void test_cache_friendly_chunks_fit_half_the_l2(void **state) {
  (void)state;
  int64_t l2 = gfi_l2_cache_bytes();
  assert_true(l2 >= 4096);
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.strategy = GF_STRATEGY_CACHE_FRIENDLY;
  o.num_workers = 2;
  gf_chunk_spec *c = NULL;
  int64_t n = 0;
  assert_int_equal(gf_plan_chunks(100000000, 16, &o, &c, &n, NULL), GF_OK);
  int64_t rows = c[0].end_row - c[0].start_row;
  assert_true(rows * 16 <= l2 / 2 || rows == 1024);
  assert_true(n > 2);
  gf_mem_free(c);
}

static void test_memory_bound_chunks_respect_the_working_set(void **state) {
  (void)state;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.strategy = GF_STRATEGY_MEMORY_BOUND;
  o.num_workers = 2;
  o.memory_limit = 64 << 20;
  gf_chunk_spec *c = NULL;
  int64_t n = 0;
  assert_int_equal(gf_plan_chunks(100000000, 32, &o, &c, &n, NULL), GF_OK);
  int64_t rows = c[0].end_row - c[0].start_row;
  assert_true(rows * 32 * 2 <= o.memory_limit / 2);
  gf_mem_free(c);
}

static void test_small_input_is_one_chunk_below_min_parallel_rows(void **state) {
  (void)state;
  gf_chunk_spec *c = NULL;
  int64_t n = 0;
  assert_int_equal(gf_plan_chunks(65535, 8, NULL, &c, &n, NULL), GF_OK);
  assert_int_equal(n, 1);
  assert_int_equal(c[0].start_row, 0);
  assert_int_equal(c[0].end_row, 65535);
  gf_mem_free(c);
}

/* The plan is charged to the call's allocator and refused by its limit. */
static void test_plan_goes_through_the_call_allocator(void **state) {
  (void)state;
  gf_tracking_allocator *t;
  assert_int_equal(gf_tracking_allocator_new(NULL, 0, &t, NULL), GF_OK);
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.allocator = gf_tracking_allocator_get(t);
  o.strategy = GF_STRATEGY_FIXED_CHUNKS;
  o.chunk_rows = 10000;
  gf_chunk_spec *c = NULL;
  int64_t n = 0;
  assert_int_equal(gf_plan_chunks(1000000, 8, &o, &c, &n, NULL), GF_OK);
  assert_int_equal(n, 100);
  assert_true(gf_tracking_allocator_current(t) >= (int64_t)(100 * sizeof *c));
  gf_mem_free(c);
  assert_int_equal(gf_tracking_allocator_current(t), 0);
  gf_tracking_allocator_free(t);
  assert_int_equal(gf_tracking_allocator_new(NULL, 100, &t, NULL), GF_OK);
  o.allocator = gf_tracking_allocator_get(t);
  gf_error err;
  assert_int_equal(gf_plan_chunks(1000000, 8, &o, &c, &n, &err), GF_ENOMEM);
  assert_int_equal(gf_tracking_allocator_current(t), 0);
  gf_tracking_allocator_free(t);
}

static void test_plan_rejects_bad_arguments(void **state) {
  (void)state;
  gf_chunk_spec *c = NULL;
  int64_t n = 0;
  gf_error err;
  assert_int_equal(gf_plan_chunks(-1, 8, NULL, &c, &n, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "negative"));
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = -2;
  assert_int_equal(gf_plan_chunks(10, 8, &o, &c, &n, &err), GF_EINVAL);
  gf_parallel_options_init(&o);
  o.strategy = (gf_strategy)42;
  assert_int_equal(gf_plan_chunks(10, 8, &o, &c, &n, &err), GF_EINVAL);
  assert_int_equal(gf_plan_chunks(10, 8, NULL, NULL, &n, &err), GF_EINVAL);
}

static void test_reduction_grid_uses_absolute_block_offsets(void **state) {
  (void)state;
  assert_int_equal(gf_reduction_blocks(0), 0);
  assert_int_equal(gf_reduction_blocks(1), 1);
  assert_int_equal(gf_reduction_blocks(65536), 1);
  assert_int_equal(gf_reduction_blocks(65537), 2);
  int64_t total = 3 * 65536 + 5;
  assert_int_equal(gf_reduction_blocks(total), 4);
  int64_t expect = 0;
  for (int64_t b = 0; b < 4; b++) {
    gf_chunk_spec s = gf_reduction_block(total, b);
    assert_int_equal(s.chunk_id, b);
    assert_int_equal(s.start_row, b * 65536);
    assert_int_equal(s.start_row, expect);
    expect = s.end_row;
  }
  assert_int_equal(expect, total);
  gf_chunk_spec past = gf_reduction_block(total, 9);
  assert_int_equal(past.start_row, past.end_row);
}

static void test_options_init_gives_documented_defaults(void **state) {
  (void)state;
  gf_parallel_options o;
  memset(&o, 0x5a, sizeof o);
  gf_parallel_options_init(&o);
  assert_int_equal(o.size, sizeof o);
  assert_int_equal(o.num_workers, 0);
  assert_int_equal(o.chunk_rows, 0);
  assert_int_equal(o.min_parallel_rows, GF_DEFAULT_MIN_PARALLEL_ROWS);
  assert_int_equal(o.strategy, GF_STRATEGY_AUTO);
  assert_null(o.allocator);
  assert_int_equal(o.memory_limit, 0);
  assert_null(o.cancel);
  assert_int_equal(o.timeout_ms, 0);
  assert_int_equal(o.flags, 0);
  assert_null(o.stats);
}

static void test_older_smaller_options_struct_reads_only_its_size(void **state) {
  (void)state;
  gf_parallel_options o;
  memset(&o, 0x7f, sizeof o); /* garbage past the declared size */
  o.size = offsetof(gf_parallel_options, min_parallel_rows);
  o.num_workers = 3;
  o.chunk_rows = 100;
  gf_parallel_options loaded;
  assert_int_equal(gfi_options_load(&o, &loaded, NULL), GF_OK);
  assert_int_equal(loaded.num_workers, 3);
  assert_int_equal(loaded.chunk_rows, 100);
  assert_int_equal(loaded.min_parallel_rows, GF_DEFAULT_MIN_PARALLEL_ROWS);
  assert_null(loaded.stats);
  assert_null(loaded.cancel);
}

static void test_gf_num_threads_overrides_the_cpu_count(void **state) {
  (void)state;
  char *saved = getenv("GF_NUM_THREADS") ? strdup(getenv("GF_NUM_THREADS")) : NULL;
  unsetenv("GF_NUM_THREADS");
  int n = gf_default_num_workers();
  assert_true(n >= 1);
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  assert_true(n <= online);
  assert_true(n <= gfi_affinity_cpus(NULL, 0));
  setenv("GF_NUM_THREADS", "3", 1);
  assert_int_equal(gf_default_num_workers(), 3);
  assert_int_equal(gf_effective_workers(NULL), 3);
  setenv("GF_NUM_THREADS", "junk", 1);
  assert_int_equal(gf_default_num_workers(), n);
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = 5;
  assert_int_equal(gf_effective_workers(&o), 5);
  if (saved) {
    setenv("GF_NUM_THREADS", saved, 1);
    free(saved);
  } else {
    unsetenv("GF_NUM_THREADS");
  }
}

static void test_stats_print_shows_a_row_per_worker(void **state) {
  (void)state;
  gf_exec_stats s;
  memset(&s, 0, sizeof s);
  s.size = sizeof s;
  s.workers_used = 2;
  s.morsels = 3;
  s.rows = 300;
  s.wall_ns = 1234567;
  s.worker[0].morsels = 2;
  s.worker[0].rows = 200;
  s.worker[0].busy_ns = 1000000;
  s.worker[1].morsels = 1;
  s.worker[1].rows = 100;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  gf_exec_stats_print(&s, f);
  fclose(f);
  assert_non_null(strstr(buf, "workers used: 2"));
  assert_non_null(strstr(buf, "wall: 1.234 ms"));
  assert_non_null(strstr(buf, "     1.000"));
  assert_non_null(strstr(buf, "\n     1          1            100"));
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plan_covers_every_row_once_for_all_shapes),
      cmocka_unit_test(test_plan_goes_through_the_call_allocator),
      cmocka_unit_test(test_fixed_chunks_split_rows_evenly_over_workers),
      cmocka_unit_test(test_cache_friendly_chunks_fit_half_the_l2),
      cmocka_unit_test(test_memory_bound_chunks_respect_the_working_set),
      cmocka_unit_test(test_small_input_is_one_chunk_below_min_parallel_rows),
      cmocka_unit_test(test_plan_rejects_bad_arguments),
      cmocka_unit_test(test_reduction_grid_uses_absolute_block_offsets),
      cmocka_unit_test(test_options_init_gives_documented_defaults),
      cmocka_unit_test(test_older_smaller_options_struct_reads_only_its_size),
      cmocka_unit_test(test_gf_num_threads_overrides_the_cpu_count),
      cmocka_unit_test(test_stats_print_shows_a_row_per_worker),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
