/* The grace join (join_spill.c): every join kind, forced into 2..5
 * partitions or chosen by a real memory limit, gives the in-memory output
 * bit for bit (frames and Arrow IPC bytes), for int keys with nulls,
 * float keys with NaN/-0.0, strings against dictionaries and two keys, at
 * 1/2/3 workers, with duplicates on both sides (many-to-many); a naive
 * loop checks the inner join's pairs; allocation and I/O failures on the
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
#include "ops/sort_join_internal.h"

static char g_dir[256];

static int setup(void **state) {
  (void)state;
  return gft_tmpdir_enter(g_dir, sizeof g_dir, "spill-join");
}

static int teardown(void **state) {
  (void)state;
  gfi_join_test_spill(0);
  gfi_spill_test_fault(-1, 0, 0);
  return gft_tmpdir_leave(g_dir);
}

/* n rows: k (int64 in [0, range), 5% null), f (float64 from k, with NaN
 * and -0.0), s (utf8 from k) or, when `dict`, a dictionary of it, v
 * (payload). */
static gf_frame *side(int64_t n, int64_t range, bool dict, uint64_t seed, int nb) {
  int64_t *kv = malloc(sizeof *kv * (size_t)n), *vv = malloc(sizeof *vv * (size_t)n);
  double *fv = malloc(sizeof *fv * (size_t)n);
  bool *ok = malloc((size_t)n);
  char **sv = malloc(sizeof *sv * (size_t)n);
  for (int64_t r = 0; r < n; r++) {
    kv[r] = (int64_t)(gft_rand_next(&seed) % (uint64_t)range);
    ok[r] = gft_rand_next(&seed) % 20 != 0;
    fv[r] = kv[r] % 7 == 0 ? NAN : kv[r] % 7 == 1 ? (gft_rand_next(&seed) % 2 ? -0.0 : 0.0) : (double)kv[r] / 4;
    vv[r] = (int64_t)r * 3 + (int64_t)seed % 5;
    sv[r] = malloc(24);
    snprintf(sv[r], 24, "s%lld", (long long)(kv[r] / 2));
  }
  gf_array *cols[4];
  cols[0] = gft_int64_array(gf_type(GF_TYPE_INT64), kv, ok, n);
  cols[1] = gft_double_array(gf_type(GF_TYPE_FLOAT64), fv, ok, n);
  cols[2] = gft_string_array(dict ? gf_type_dictionary(gf_type(GF_TYPE_UTF8)) : gf_type(GF_TYPE_UTF8),
                             (const char *const *)sv, n);
  cols[3] = gft_int64_array(gf_type(GF_TYPE_INT64), vv, NULL, n);
  for (int64_t r = 0; r < n; r++) free(sv[r]);
  free(kv); free(vv); free(fv); free(ok); free(sv);
  const char *names[4] = {"k", "f", "s", "v"};
  gf_field fields[4];
  for (int c = 0; c < 4; c++) fields[c] = (gf_field){names[c], gf_array_type(cols[c]), true};
  gf_schema *schema;
  assert_int_equal(gf_schema_new(fields, 4, &schema, NULL), GF_OK);
  gf_array **parts = calloc((size_t)(4 * nb), sizeof *parts);
  for (int b = 0; b < nb; b++) {
    int64_t lo = n * b / nb, hi = n * (b + 1) / nb;
    for (int c = 0; c < 4; c++)
      assert_int_equal(gf_array_slice(cols[c], lo, hi - lo, &parts[b * 4 + c], NULL), GF_OK);
  }
  gf_frame *f;
  assert_int_equal(gf_frame_new(schema, parts, nb, NULL, &f, NULL), GF_OK);
  for (int i = 0; i < 4 * nb; i++) gf_array_release(parts[i]);
  for (int c = 0; c < 4; c++) gf_array_release(cols[c]);
  free(parts);
  gf_schema_release(schema);
  return f;
}

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

static void check_join(const gf_frame *l, const gf_frame *r, const char *const *on, int nk,
                       gf_join_kind how, int parts, int workers) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.min_parallel_rows = 0;
  gf_join_options jo;
  gf_join_options_init(&jo);
  jo.parallel = &po;
  gf_frame *want = NULL, *got = NULL;
  gf_error err;
  gfi_join_test_spill(0);
  if (gf_join(l, r, on, on, nk, how, &jo, &want, &err) != GF_OK) fail_msg("in memory: %s", err.message);
  gfi_join_test_spill(parts);
  int64_t before = gfi_spill_files_opened();
  gf_status st = gf_join(l, r, on, on, nk, how, &jo, &got, &err);
  gfi_join_test_spill(0);
  if (st != GF_OK) fail_msg("%s join in %d partitions: %s", gf_join_kind_name(how), parts, err.message);
  assert_true(gfi_spill_files_opened() > before);
  if (!gf_frame_equals(got, want))
    fail_msg("%s join on %s in %d partitions differs", gf_join_kind_name(how), on[0], parts);
  assert_same_ipc(got, want);
  gf_frame_release(want);
  gf_frame_release(got);
  assert_int_equal(gft_dir_entries(g_dir), 0);
}

static void every_kind_joins_like_in_memory(void **state) {
  (void)state;
  /* The left smaller and larger than the right: both build sides. */
  gf_frame *a = side(3000, 900, false, 1, 3), *b = side(5000, 1200, true, 2, 2);
  const char *k1[] = {"k"}, *k2[] = {"f"}, *k3[] = {"s"}, *k4[] = {"s", "k"};
  const char *const *keys[] = {k1, k2, k3, k4};
  int nks[] = {1, 1, 1, 2};
  for (int how = GF_JOIN_INNER; how <= GF_JOIN_ANTI; how++)
    for (int k = 0; k < 4; k++) {
      int w = 1 + (how + k) % 3;
      check_join(a, b, keys[k], nks[k], (gf_join_kind)how, 2 + (how + k) % 4, w);
      check_join(b, a, keys[k], nks[k], (gf_join_kind)how, 3, w);
    }
  gf_frame_release(a);
  gf_frame_release(b);
}

/* Inner join pairs against a naive double loop (key k, nulls never
 * match): count and, per left row in order, its right rows in order. */
static void inner_pairs_match_a_naive_loop(void **state) {
  (void)state;
  gf_frame *a = side(400, 60, false, 3, 1), *b = side(300, 60, false, 4, 1);
  const char *on[] = {"k"};
  gfi_join_test_spill(3);
  gf_frame *out = NULL;
  assert_int_equal(gf_join(a, b, on, on, 1, GF_JOIN_INNER, NULL, &out, NULL), GF_OK);
  gfi_join_test_spill(0);
  const gf_array *ak = gf_frame_column(a, 0, 0), *bk = gf_frame_column(b, 0, 0);
  const gf_array *av = gf_frame_column(a, 0, 3), *bv = gf_frame_column(b, 0, 3);
  int vl = gf_schema_find(gf_frame_schema(out), "v"), vr = gf_schema_find(gf_frame_schema(out), "v_right");
  assert_true(vl >= 0 && vr >= 0);
  int64_t k = 0;
  for (int64_t i = 0; i < 400; i++) {
    if (gf_array_is_null(ak, i)) continue;
    for (int64_t j = 0; j < 300; j++) {
      if (gf_array_is_null(bk, j) || gf_array_get_int64(ak, i) != gf_array_get_int64(bk, j)) continue;
      int bt = 0;
      int64_t kk = k;
      while (kk >= gf_frame_batch_rows(out, bt)) kk -= gf_frame_batch_rows(out, bt++);
      assert_int_equal(gf_array_get_int64(gf_frame_column(out, bt, vl), kk), gf_array_get_int64(av, i));
      assert_int_equal(gf_array_get_int64(gf_frame_column(out, bt, vr), kk), gf_array_get_int64(bv, j));
      k++;
    }
  }
  assert_int_equal(gf_frame_num_rows(out), k);
  gf_frame_release(out);
  gf_frame_release(a);
  gf_frame_release(b);
}

/* A real limit: the in-memory join is refused, the grace join fits. */
static void memory_limit_makes_the_join_spill(void **state) {
  (void)state;
  gf_frame *a = side(300000, 250000, false, 5, 2), *b = side(300000, 250000, false, 6, 2);
  const char *on[] = {"s"};
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = 2;
  gf_exec_stats stats;
  memset(&stats, 0, sizeof stats);
  stats.size = sizeof stats;
  po.stats = &stats;
  po.memory_limit = INT64_C(1) << 40; /* stats then report the whole call's peak */
  gf_join_options jo;
  gf_join_options_init(&jo);
  jo.parallel = &po;
  gf_frame *want = NULL, *got = NULL;
  gf_error err;
  assert_int_equal(gf_join(a, b, on, on, 1, GF_JOIN_LEFT, &jo, &want, &err), GF_OK);
  int64_t peak = stats.peak_memory;
  po.memory_limit = peak * 8 / 10;
  int64_t before = gfi_spill_files_opened();
  gf_status st = gf_join(a, b, on, on, 1, GF_JOIN_LEFT, &jo, &got, &err);
  if (st != GF_OK) fail_msg("limit %lld (in-memory peak %lld): %s", (long long)po.memory_limit,
                            (long long)peak, err.message);
  assert_true(gfi_spill_files_opened() > before);
  assert_true(stats.peak_memory <= po.memory_limit);
  assert_same_ipc(got, want);
  gf_frame_release(want);
  gf_frame_release(got);
  gf_frame_release(a);
  gf_frame_release(b);
}

typedef struct sweep_ctx {
  const gf_frame *l, *r, *want;
} sweep_ctx;

static gf_status joined_spilled(void *user, const gf_allocator *al) {
  sweep_ctx *c = user;
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = 2;
  po.min_parallel_rows = 0;
  po.allocator = al;
  gf_join_options jo;
  gf_join_options_init(&jo);
  jo.parallel = &po;
  const char *on[] = {"s"};
  gf_frame *out = NULL;
  gf_error err;
  gfi_join_test_spill(3);
  gf_status st = gf_join(c->l, c->r, on, on, 1, GF_JOIN_FULL, &jo, &out, &err);
  gfi_join_test_spill(0);
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
  gf_frame *a = side(120, 40, false, 7, 2), *b = side(90, 40, true, 8, 1);
  const char *on[] = {"s"};
  gf_frame *want = NULL;
  assert_int_equal(gf_join(a, b, on, on, 1, GF_JOIN_FULL, NULL, &want, NULL), GF_OK);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  sweep_ctx c = {a, b, want};
  gft_sweep_counts acc;
  memset(&acc, 0, sizeof acc);
  gft_alloc_sweep("grace join", fa, joined_spilled, &c, &acc);
  gft_sweep_print("grace join", &acc);
  gf_failing_allocator_free(fa);
  int failures = 0;
  for (int64_t w = 0;; w++) {
    gfi_spill_test_fault(w, ENOSPC, 0);
    gf_frame *out = NULL;
    gf_error err;
    gfi_join_test_spill(3);
    gf_status st = gf_join(a, b, on, on, 1, GF_JOIN_FULL, NULL, &out, &err);
    gfi_join_test_spill(0);
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
  assert_int_equal(failures, 3); /* one block per partition */
  gf_frame_release(want);
  gf_frame_release(a);
  gf_frame_release(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(every_kind_joins_like_in_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(inner_pairs_match_a_naive_loop, setup, teardown),
      cmocka_unit_test_setup_teardown(memory_limit_makes_the_join_spill, setup, teardown),
      cmocka_unit_test_setup_teardown(allocation_and_io_failures_on_the_spill_path, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
