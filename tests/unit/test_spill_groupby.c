/* The spilling group-by (groupby_spill.c): forced into 2..7 partitions or
 * chosen by a real memory limit, its output equals the in-memory one bit
 * for bit (the frames, and their Arrow IPC bytes) for keys of every kind
 * (ints, floats with NaN/-0.0, strings, dictionaries, nulls, several
 * keys) and every aggregate but top_k, at 1/2/3 workers, with many groups
 * (the in-memory partition path); with few groups float sums are refused
 * (GF_ENOMEM naming why) and exact aggregates still equal; a naive loop
 * checks counts and integer sums; allocation and I/O failures on the
 * spill path fail cleanly; no temporary file survives (per-test
 * GF_TMPDIR). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/spill_file.h"
#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gf_test_tmpdir.h"
#include "gopherframe/testing.h"
#include "ops/groupby_internal.h"

static char g_dir[256];

static int setup(void **state) {
  (void)state;
  return gft_tmpdir_enter(g_dir, sizeof g_dir, "spill-gb");
}

static int teardown(void **state) {
  (void)state;
  gfi_gb_test_spill(0);
  gfi_spill_test_fault(-1, 0, 0);
  return gft_tmpdir_leave(g_dir);
}

static gf_parallel_options popts(int workers) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  o.min_parallel_rows = 0;
  return o;
}

/* A frame of n rows: k (int64, ~ngroups values, nulls), s (utf8 from k),
 * d (dictionary of s), x (float64 with NaN, -0.0, nulls), i (int32), in
 * `nb` batches. */
static gf_frame *make_frame(int64_t n, int64_t ngroups, int nb, uint64_t seed) {
  int64_t *kv = malloc(sizeof *kv * (size_t)n), *iv = malloc(sizeof *iv * (size_t)n);
  double *xv = malloc(sizeof *xv * (size_t)n);
  bool *kok = malloc((size_t)n), *xok = malloc((size_t)n);
  char **sv = malloc(sizeof *sv * (size_t)n);
  static const double sp[] = {NAN, -0.0, 0.0, 1.5, -2.25, 1e300, 0.1, 3.0};
  for (int64_t r = 0; r < n; r++) {
    kv[r] = (int64_t)(gft_rand_next(&seed) % (uint64_t)ngroups);
    kok[r] = gft_rand_next(&seed) % 50 != 0;
    xv[r] = gft_rand_next(&seed) % 3 ? (double)(gft_rand_next(&seed) % 1000) / 7.0
                                     : sp[gft_rand_next(&seed) % 8];
    xok[r] = gft_rand_next(&seed) % 10 != 0;
    iv[r] = (int64_t)(gft_rand_next(&seed) % 2001) - 1000;
    sv[r] = malloc(24);
    if (kok[r]) snprintf(sv[r], 24, "g%lld", (long long)(kv[r] % (ngroups / 3 + 1)));
    else { free(sv[r]); sv[r] = NULL; }
  }
  gf_array *cols[5];
  cols[0] = gft_int64_array(gf_type(GF_TYPE_INT64), kv, kok, n);
  cols[1] = gft_string_array(gf_type(GF_TYPE_UTF8), (const char *const *)sv, n);
  cols[2] = gft_string_array(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), (const char *const *)sv, n);
  cols[3] = gft_double_array(gf_type(GF_TYPE_FLOAT64), xv, xok, n);
  cols[4] = gft_int64_array(gf_type(GF_TYPE_INT32), iv, NULL, n);
  for (int64_t r = 0; r < n; r++) free(sv[r]);
  free(kv); free(iv); free(xv); free(kok); free(xok); free(sv);
  const char *names[5] = {"k", "s", "d", "x", "i"};
  gf_field fields[5];
  for (int c = 0; c < 5; c++) fields[c] = (gf_field){names[c], gf_array_type(cols[c]), true};
  gf_schema *schema;
  assert_int_equal(gf_schema_new(fields, 5, &schema, NULL), GF_OK);
  gf_array **parts = calloc((size_t)(5 * nb), sizeof *parts);
  for (int b = 0; b < nb; b++) {
    int64_t lo = n * b / nb, hi = n * (b + 1) / nb;
    for (int c = 0; c < 5; c++)
      assert_int_equal(gf_array_slice(cols[c], lo, hi - lo, &parts[b * 5 + c], NULL), GF_OK);
  }
  gf_frame *f;
  assert_int_equal(gf_frame_new(schema, parts, nb, NULL, &f, NULL), GF_OK);
  for (int i = 0; i < 5 * nb; i++) gf_array_release(parts[i]);
  for (int c = 0; c < 5; c++) gf_array_release(cols[c]);
  free(parts);
  gf_schema_release(schema);
  return f;
}

/* Both frames as Arrow IPC streams must be the same bytes. */
static void assert_same_ipc(const gf_frame *a, const gf_frame *b) {
  void *pa = NULL, *pb = NULL;
  size_t la = 0, lb = 0;
  assert_int_equal(gf_write_ipc_memory(a, false, NULL, &pa, &la, NULL), GF_OK);
  assert_int_equal(gf_write_ipc_memory(b, false, NULL, &pb, &lb, NULL), GF_OK);
  assert_int_equal(la, lb);
  assert_memory_equal(pa, pb, la);
  gf_mem_free(pa);
  gf_mem_free(pb);
}

static const gf_agg_spec all_aggs[] = {
    {GF_AGG_COUNT_ALL, NULL, NULL, 0, 0, "n"},
    {GF_AGG_COUNT, "x", NULL, 0, 0, NULL},
    {GF_AGG_SUM, "x", NULL, 0, 0, NULL},
    {GF_AGG_SUM, "i", NULL, 0, 0, NULL},
    {GF_AGG_MEAN, "x", NULL, 0, 0, NULL},
    {GF_AGG_MIN, "s", NULL, 0, 0, NULL},
    {GF_AGG_MAX, "x", NULL, 0, 0, NULL},
    {GF_AGG_FIRST, "x", NULL, 0, 0, NULL},
    {GF_AGG_LAST, "d", NULL, 0, 0, NULL},
    {GF_AGG_VAR, "x", NULL, 0, 0, NULL},
    {GF_AGG_STD, "i", NULL, 0, 0, NULL},
    {GF_AGG_MEDIAN, "x", NULL, 0, 0, NULL},
    {GF_AGG_QUANTILE, "i", NULL, 0.3, 0, NULL},
    {GF_AGG_N_UNIQUE, "s", NULL, 0, 0, NULL},
    {GF_AGG_CORR, "x", "i", 0, 0, NULL},
};
#define NALL ((int)(sizeof all_aggs / sizeof all_aggs[0]))

/* In memory vs spilled into `parts` partitions at `workers` workers. */
static void check_spilled(const gf_frame *f, const char *const *keys, int nkeys,
                          const gf_agg_spec *aggs, int naggs, int parts, int workers) {
  gf_parallel_options po = popts(workers);
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = &po;
  gf_frame *want = NULL, *got = NULL;
  gf_error err;
  gfi_gb_test_spill(0);
  if (gf_group_by(f, keys, nkeys, aggs, naggs, &go, &want, &err) != GF_OK)
    fail_msg("in memory: %s", err.message);
  gfi_gb_test_spill(parts);
  int64_t before = gfi_spill_files_opened();
  gf_status st = gf_group_by(f, keys, nkeys, aggs, naggs, &go, &got, &err);
  gfi_gb_test_spill(0);
  if (st != GF_OK) fail_msg("spilled (%d partitions): %s", parts, err.message);
  assert_true(gfi_spill_files_opened() > before);
  if (!gf_frame_equals(got, want)) fail_msg("spilled into %d partitions differs", parts);
  assert_same_ipc(got, want);
  gf_frame_release(want);
  gf_frame_release(got);
  assert_int_equal(gft_dir_entries(g_dir), 0);
}

static void many_groups_spill_bit_identically(void **state) {
  (void)state;
  gf_frame *f = make_frame(150000, 90000, 3, 1);
  const char *k1[] = {"k"}, *k2[] = {"s", "k"}, *k3[] = {"d", "x"};
  for (int w = 1; w <= 3; w++) {
    check_spilled(f, k1, 1, all_aggs, NALL, 1 + w * 2, w);
    check_spilled(f, k2, 2, all_aggs, NALL, 2, w);
  }
  check_spilled(f, k3, 2, all_aggs, NALL, 5, 2);
  gf_frame_release(f);
}

/* Few groups: exact aggregates equal; float sums are refused, not
 * different. */
static void few_groups_keep_exact_aggregates_and_refuse_float_sums(void **state) {
  (void)state;
  gf_frame *f = make_frame(200000, 300, 4, 2);
  const char *k1[] = {"k"}, *k2[] = {"d"};
  gf_agg_spec exact[] = {all_aggs[0], all_aggs[1], all_aggs[3], all_aggs[5], all_aggs[6],
                         all_aggs[7], all_aggs[8], all_aggs[11], all_aggs[13]};
  for (int w = 1; w <= 3; w++) {
    check_spilled(f, k1, 1, exact, 9, 3, w);
    check_spilled(f, k2, 1, exact, 9, 7, w);
  }
  gf_parallel_options po = popts(2);
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = &po;
  gf_frame *out = NULL;
  gf_error err;
  gfi_gb_test_spill(3);
  assert_int_equal(gf_group_by(f, k1, 1, &all_aggs[2], 1, &go, &out, &err), GF_ENOMEM);
  gfi_gb_test_spill(0);
  assert_null(out);
  assert_non_null(strstr(err.message, "float sums"));
  gf_frame_release(f);
}

/* Counts and integer sums against a naive loop over a small frame. */
static void counts_and_sums_match_a_naive_loop(void **state) {
  (void)state;
  int64_t n = 3000, G = 40;
  gf_frame *f = make_frame(n, G, 2, 3);
  const char *k1[] = {"k"};
  gf_agg_spec aggs[] = {{GF_AGG_COUNT_ALL, NULL, NULL, 0, 0, "n"}, {GF_AGG_SUM, "i", NULL, 0, 0, "s"}};
  gf_parallel_options po = popts(3);
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = &po;
  gf_frame *out = NULL;
  gfi_gb_test_spill(4);
  assert_int_equal(gf_group_by(f, k1, 1, aggs, 2, &go, &out, NULL), GF_OK);
  gfi_gb_test_spill(0);
  /* naive: groups in first-appearance order */
  int64_t keys[64], cnt[64], sum[64];
  bool isnull[64];
  int ng = 0;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *ka = gf_frame_column(f, b, 0), *ia = gf_frame_column(f, b, 4);
    for (int64_t r = 0; r < gf_frame_batch_rows(f, b); r++) {
      bool nl = gf_array_is_null(ka, r);
      int64_t kv = nl ? 0 : gf_array_get_int64(ka, r);
      int g = 0;
      while (g < ng && !(isnull[g] == nl && (nl || keys[g] == kv))) g++;
      if (g == ng) {
        keys[ng] = kv;
        isnull[ng] = nl;
        cnt[ng] = 0;
        sum[ng] = 0;
        ng++;
      }
      cnt[g]++;
      sum[g] += gf_array_get_int64(ia, r);
    }
  }
  assert_int_equal(gf_frame_num_rows(out), ng);
  const gf_array *ok = gf_frame_column(out, 0, 0), *on = gf_frame_column(out, 0, 1),
                 *os = gf_frame_column(out, 0, 2);
  for (int g = 0; g < ng; g++) {
    assert_int_equal(gf_array_is_null(ok, g), isnull[g]);
    if (!isnull[g]) assert_int_equal(gf_array_get_int64(ok, g), keys[g]);
    assert_int_equal(gf_array_get_int64(on, g), cnt[g]);
    assert_int_equal(gf_array_get_int64(os, g), sum[g]);
  }
  gf_frame_release(out);
  gf_frame_release(f);
}

/* A real memory limit: the in-memory group-by is refused, the spilled one
 * fits and equals the unlimited result. */
static void memory_limit_makes_the_group_by_spill(void **state) {
  (void)state;
  gf_frame *f = make_frame(400000, 900000, 2, 4);
  const char *k1[] = {"s"}; /* ~230k string groups: the hashed path */
  gf_agg_spec aggs[] = {all_aggs[2], all_aggs[0]};
  gf_parallel_options po = popts(2);
  gf_exec_stats stats;
  memset(&stats, 0, sizeof stats);
  stats.size = sizeof stats;
  po.stats = &stats;
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = &po;
  gf_frame *want = NULL, *got = NULL;
  gf_error err;
  /* A limit far above the need makes stats report the whole call's peak. */
  po.memory_limit = INT64_C(1) << 40;
  assert_int_equal(gf_group_by(f, k1, 1, aggs, 2, &go, &want, &err), GF_OK);
  int64_t peak = stats.peak_memory;
  po.memory_limit = peak * 6 / 10;
  int64_t before = gfi_spill_files_opened();
  gf_status st = gf_group_by(f, k1, 1, aggs, 2, &go, &got, &err);
  if (st != GF_OK) fail_msg("limit %lld (in-memory peak %lld): %s", (long long)po.memory_limit,
                            (long long)peak, err.message);
  assert_true(gfi_spill_files_opened() > before);
  assert_true(stats.peak_memory <= po.memory_limit);
  assert_same_ipc(got, want);
  gf_frame_release(want);
  gf_frame_release(got);
  gf_frame_release(f);
}

typedef struct sweep_ctx {
  const gf_frame *f;
  const gf_frame *want;
} sweep_ctx;

static const char *const sweep_keys[] = {"s"};
static const gf_agg_spec sweep_aggs[] = {{GF_AGG_COUNT_ALL, NULL, NULL, 0, 0, "n"},
                                         {GF_AGG_MIN, "x", NULL, 0, 0, NULL},
                                         {GF_AGG_N_UNIQUE, "i", NULL, 0, 0, NULL}};

static gf_status grouped_spilled(void *user, const gf_allocator *a) {
  sweep_ctx *c = user;
  gf_parallel_options po = popts(2);
  po.allocator = a;
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = &po;
  gf_frame *out = NULL;
  gf_error err;
  gfi_gb_test_spill(3);
  gf_status st = gf_group_by(c->f, sweep_keys, 1, sweep_aggs, 3, &go, &out, &err);
  gfi_gb_test_spill(0);
  if (st == GF_OK) {
    if (!gf_frame_equals(out, c->want)) fail_msg("%s: wrong result", gft_sweep_at());
    gf_frame_release(out);
  } else if (out) {
    fail_msg("%s: output set on failure", gft_sweep_at());
  }
  if (gft_dir_entries(g_dir) != 0) fail_msg("%s: temporary file left", gft_sweep_at());
  return st;
}

static void allocation_and_io_failures_on_the_spill_path(void **state) {
  (void)state;
  gf_frame *f = make_frame(300, 60, 2, 5);
  gf_frame *want = NULL;
  assert_int_equal(gf_group_by(f, sweep_keys, 1, sweep_aggs, 3, NULL, &want, NULL), GF_OK);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  sweep_ctx c = {f, want};
  gft_sweep_counts acc;
  memset(&acc, 0, sizeof acc);
  gft_alloc_sweep("spilled group-by", fa, grouped_spilled, &c, &acc);
  gft_sweep_print("spilled group-by", &acc);
  gf_failing_allocator_free(fa);
  /* Every write in turn fails as on a full disk. */
  int failures = 0;
  for (int64_t w = 0;; w++) {
    gfi_spill_test_fault(w, ENOSPC, 0);
    gf_frame *out = NULL;
    gf_error err;
    gfi_gb_test_spill(3);
    gf_status st = gf_group_by(f, sweep_keys, 1, sweep_aggs, 3, NULL, &out, &err);
    gfi_gb_test_spill(0);
    gfi_spill_test_fault(-1, 0, 0);
    assert_int_equal(gft_dir_entries(g_dir), 0);
    if (st == GF_OK) {
      assert_true(gf_frame_equals(out, want));
      gf_frame_release(out);
      break;
    }
    assert_int_equal(st, GF_EIO);
    assert_null(out);
    assert_non_null(strstr(err.message, g_dir));
    failures++;
  }
  assert_true(failures >= 3 * 4); /* 3 partitions x 4 output columns */
  gf_frame_release(want);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(many_groups_spill_bit_identically, setup, teardown),
      cmocka_unit_test_setup_teardown(few_groups_keep_exact_aggregates_and_refuse_float_sums,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(counts_and_sums_match_a_naive_loop, setup, teardown),
      cmocka_unit_test_setup_teardown(memory_limit_makes_the_group_by_spill, setup, teardown),
      cmocka_unit_test_setup_teardown(allocation_and_io_failures_on_the_spill_path, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
