/* Spilling: temporary files (spill_file.c) and the external sort
 * (sort_spill.c). Temporary files are nameless (O_TMPFILE, or mkstemp +
 * unlink), a missing directory, a full disk (simulated ENOSPC) and the
 * max_temp_bytes cap give GF_EIO naming the directory; the external sort,
 * forced at tiny run and block sizes or chosen by a real memory limit,
 * gives exactly the in-memory permutation and frame (every type, nulls,
 * several batches, slices, asc/desc, nulls first/last, 1/2/3 workers),
 * checked also against a naive stable order for plain keys; allocation
 * failures and I/O failures anywhere on the spill path fail cleanly. Every
 * test runs with its own GF_TMPDIR, which must be empty afterwards. */
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
  return gft_tmpdir_enter(g_dir, sizeof g_dir, "spill-test");
}

/* No temporary file survives a test. */
static int teardown(void **state) {
  (void)state;
  gfi_sort_test_spill(0, 0);
  gfi_spill_test_fault(-1, 0, 0);
  gfi_spill_test_no_tmpfile(false);
  return gft_tmpdir_leave(g_dir);
}

static gf_parallel_options opts(int workers) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  o.min_parallel_rows = 0;
  o.chunk_rows = 97;
  return o;
}

/* ---- temporary files ------------------------------------------------------ */

static void files_are_nameless_and_read_back(void **state) {
  (void)state;
  for (int mode = 0; mode < 2; mode++) {
    gfi_spill_test_no_tmpfile(mode == 1);
    gf_parallel_options o = opts(1);
    gfi_spill_space *s = NULL;
    gf_error err;
    assert_int_equal(gfi_spill_space_new(&o, &s, &err), GF_OK);
    assert_string_equal(gfi_spill_space_dir(s), g_dir);
    gfi_spill_file *f = NULL;
    assert_int_equal(gfi_spill_file_open(s, &f, &err), GF_OK);
    /* Open, written to, and still no name in the directory. */
    char buf[1000];
    for (int i = 0; i < 1000; i++) buf[i] = (char)(i * 7);
    int64_t off = -1;
    assert_int_equal(gfi_spill_file_append(f, buf, 1000, &off, &err), GF_OK);
    assert_int_equal(off, 0);
    assert_int_equal(gfi_spill_file_append(f, buf, 10, &off, &err), GF_OK);
    assert_int_equal(off, 1000);
    assert_int_equal(gft_dir_entries(g_dir), 0);
    assert_int_equal(gfi_spill_space_used(s), 1010);
    char back[1000];
    assert_int_equal(gfi_spill_file_read(f, 0, back, 1000, &err), GF_OK);
    assert_memory_equal(back, buf, 1000);
    assert_int_equal(gfi_spill_file_read(f, 1000, back, 10, &err), GF_OK);
    assert_memory_equal(back, buf, 10);
    /* Past the end is refused. */
    assert_int_equal(gfi_spill_file_read(f, 1005, back, 10, &err), GF_EINTERNAL);
    gfi_spill_file_close(f);
    assert_int_equal(gfi_spill_space_used(s), 0);
    assert_int_equal(gfi_spill_space_peak(s), 1010);
    gfi_spill_space_free(s);
  }
}

static void option_directory_wins_and_missing_one_is_named(void **state) {
  (void)state;
  char missing[300];
  snprintf(missing, sizeof missing, "%s/no/such/dir", g_dir);
  for (int mode = 0; mode < 2; mode++) {
    gfi_spill_test_no_tmpfile(mode == 1);
    gf_parallel_options o = opts(1);
    o.temp_directory = missing;
    gfi_spill_space *s = NULL;
    gf_error err;
    assert_int_equal(gfi_spill_space_new(&o, &s, &err), GF_OK);
    gfi_spill_file *f = NULL;
    assert_int_equal(gfi_spill_file_open(s, &f, &err), GF_EIO);
    assert_non_null(strstr(err.message, missing));
    assert_non_null(strstr(err.message, "GF_TMPDIR"));
    gfi_spill_space_free(s);
  }
}

static void full_disk_and_cap_give_clear_errors(void **state) {
  (void)state;
  gf_parallel_options o = opts(1);
  gfi_spill_space *s = NULL;
  gf_error err;
  assert_int_equal(gfi_spill_space_new(&o, &s, &err), GF_OK);
  gfi_spill_file *f = NULL;
  assert_int_equal(gfi_spill_file_open(s, &f, &err), GF_OK);
  gfi_spill_test_fault(1, ENOSPC, 0);
  char buf[64] = {0};
  assert_int_equal(gfi_spill_file_append(f, buf, 64, NULL, &err), GF_OK);
  assert_int_equal(gfi_spill_file_append(f, buf, 64, NULL, &err), GF_EIO);
  assert_non_null(strstr(err.message, "no space left"));
  assert_non_null(strstr(err.message, g_dir));
  assert_int_equal(gfi_spill_file_size(f), 64);
  assert_int_equal(gfi_spill_space_used(s), 64);
  gfi_spill_test_fault(-1, 0, 0);
  gfi_spill_file_close(f);
  gfi_spill_space_free(s);

  o.max_temp_bytes = 100;
  assert_int_equal(gfi_spill_space_new(&o, &s, &err), GF_OK);
  assert_int_equal(gfi_spill_file_open(s, &f, &err), GF_OK);
  assert_int_equal(gfi_spill_file_append(f, buf, 64, NULL, &err), GF_OK);
  assert_int_equal(gfi_spill_file_append(f, buf, 64, NULL, &err), GF_EIO);
  assert_non_null(strstr(err.message, "max_temp_bytes"));
  assert_int_equal(gfi_spill_file_append(f, buf, 36, NULL, &err), GF_OK);
  gfi_spill_file_close(f);
  gfi_spill_space_free(s);

  o.max_temp_bytes = -1;
  int64_t *perm = NULL;
  gf_frame *fr = NULL;
  gf_datatype t = gf_type(GF_TYPE_INT64);
  assert_int_equal(gft_random_frame(&t, 1, 10, 1, 0, 1, NULL, &fr), GF_OK);
  gf_sort_key k = {"c0", false, false};
  assert_int_equal(gf_sort_indices(fr, &k, 1, &o, &perm, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "max_temp_bytes"));
  gf_frame_release(fr);
}

/* ---- external sort against the in-memory sort ----------------------------- */

/* Sorts f in memory and spilled (forced at run/block sizes), at `workers`
 * workers, and requires identical permutations and output frames. */
static void check_spilled(const gf_frame *f, const gf_sort_key *keys, int nk, int workers,
                          int64_t run_rows, int64_t block_rows) {
  gf_parallel_options o = opts(workers);
  gf_error err;
  int64_t *want = NULL, *got = NULL;
  gf_frame *want_f = NULL, *got_f = NULL;
  gfi_sort_test_spill(0, 0);
  if (gf_sort_indices(f, keys, nk, &o, &want, &err) != GF_OK) fail_msg("in memory: %s", err.message);
  assert_int_equal(gf_sort(f, keys, nk, 0, &o, &want_f, &err), GF_OK);
  gfi_sort_test_spill(run_rows, block_rows);
  if (gf_sort_indices(f, keys, nk, &o, &got, &err) != GF_OK) fail_msg("spilled: %s", err.message);
  if (gf_sort(f, keys, nk, 0, &o, &got_f, &err) != GF_OK) fail_msg("spilled gf_sort: %s", err.message);
  gfi_sort_test_spill(0, 0);
  int64_t n = gf_frame_num_rows(f);
  for (int64_t i = 0; i < n; i++)
    if (got[i] != want[i])
      fail_msg("key %s, %d workers, runs of %lld, blocks of %lld: position %lld: row %lld, "
               "in memory %lld", keys[0].column, workers, (long long)run_rows,
               (long long)block_rows, (long long)i, (long long)got[i], (long long)want[i]);
  assert_true(gf_frame_equals(got_f, want_f));
  assert_int_equal(gf_frame_num_batches(got_f), gf_frame_num_batches(want_f));
  gf_sort_indices_free(want, n, &o);
  gf_sort_indices_free(got, n, &o);
  gf_frame_release(want_f);
  gf_frame_release(got_f);
  assert_int_equal(gft_dir_entries(g_dir), 0);
}

static void every_type_spills_like_in_memory(void **state) {
  (void)state;
  gf_datatype types[GFT_MAX_TYPES];
  int nt = gft_all_types(types, GFT_MAX_TYPES);
  uint64_t seed = 42;
  for (int t = 0; t < nt; t++) {
    gf_datatype cols[3] = {types[t], gf_type(GF_TYPE_INT8), types[(t + 5) % nt]};
    gf_frame *f;
    int64_t rows = 300 + (int64_t)(gft_rand_next(&seed) % 400);
    assert_int_equal(gft_random_frame(cols, 3, rows, 1 + t % 4, 0.15, 200 + (uint64_t)t, NULL, &f),
                     GF_OK);
    for (int mode = 0; mode < 4; mode++) {
      gf_sort_key k[3] = {{"c0", mode & 1, (mode & 2) != 0},
                          {"c1", (mode & 2) != 0, false},
                          {"c2", false, mode & 1}};
      int nk = 1 + mode % 3;
      int64_t run = 1 + (int64_t)(gft_rand_next(&seed) % 120);
      int64_t blk = 1 + (int64_t)(gft_rand_next(&seed) % 40);
      check_spilled(f, k, nk, 1 + (t + mode) % 3, run, blk);
    }
    gf_frame_release(f);
  }
}

/* A slice of a multi-batch frame, runs of one row and blocks of one row,
 * and a run as large as the frame. */
static void slices_and_extreme_sizes(void **state) {
  (void)state;
  gf_datatype cols[3] = {gf_type(GF_TYPE_UTF8), gf_type(GF_TYPE_FLOAT64),
                         gf_type_dictionary(gf_type(GF_TYPE_UTF8))};
  gf_frame *f, *s;
  assert_int_equal(gft_random_frame(cols, 3, 900, 5, 0.2, 7, NULL, &f), GF_OK);
  assert_int_equal(gf_frame_slice(f, 123, 600, &s, NULL), GF_OK);
  gf_sort_key k[2] = {{"c1", true, true}, {"c0", false, false}};
  for (int w = 1; w <= 3; w++) {
    check_spilled(s, k, 2, w, 1, 1);
    check_spilled(s, k, 2, w, 600, 7);
    check_spilled(s, k + 1, 1, w, 33, 1000);
    gf_sort_key d = {"c2", true, false};
    check_spilled(s, &d, 1, w, 50, 5);
  }
  gf_frame_release(s);
  gf_frame_release(f);
}

/* Naive reference for int64 key a asc (nulls last) then double key b
 * desc (nulls first, NaN largest, -0.0 == 0.0): the output must be in
 * that order and equal rows must keep their input order. */
static int naive_cmp(const gf_frame *f, int64_t x, int64_t y) {
  const gf_array *a = gf_frame_column(f, 0, 0), *b = gf_frame_column(f, 0, 1);
  bool nx = gf_array_is_null(a, x), ny = gf_array_is_null(a, y);
  if (nx != ny) return nx ? 1 : -1;
  if (!nx) {
    int64_t p = gf_array_get_int64(a, x), q = gf_array_get_int64(a, y);
    if (p != q) return p < q ? -1 : 1;
  }
  nx = gf_array_is_null(b, x);
  ny = gf_array_is_null(b, y);
  if (nx != ny) return nx ? -1 : 1;
  if (!nx) {
    double p = gf_array_get_double(b, x), q = gf_array_get_double(b, y);
    bool np = isnan(p), nq = isnan(q);
    int c = np || nq ? (np && nq ? 0 : (np ? 1 : -1)) : (p > q) - (p < q);
    if (c) return -c;
  }
  return 0;
}

static void spilled_order_matches_a_naive_stable_order(void **state) {
  (void)state;
  int64_t n = 2000;
  uint64_t seed = 9;
  int64_t *iv = malloc(sizeof *iv * (size_t)n);
  double *dv = malloc(sizeof *dv * (size_t)n);
  bool *iok = malloc((size_t)n), *dok = malloc((size_t)n);
  static const double sp[] = {NAN, -0.0, 0.0, INFINITY, -INFINITY, 1.5, -2.25};
  for (int64_t i = 0; i < n; i++) {
    iv[i] = (int64_t)(gft_rand_next(&seed) % 20) - 5;
    iok[i] = gft_rand_next(&seed) % 8 != 0;
    dv[i] = sp[gft_rand_next(&seed) % 7];
    dok[i] = gft_rand_next(&seed) % 6 != 0;
  }
  gf_array *cols[2] = {gft_int64_array(gf_type(GF_TYPE_INT64), iv, iok, n),
                       gft_double_array(gf_type(GF_TYPE_FLOAT64), dv, dok, n)};
  const char *names[2] = {"a", "b"};
  gf_frame *f;
  assert_int_equal(gf_frame_from_columns(names, cols, 2, &f, NULL), GF_OK);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  gf_sort_key k[2] = {{"a", false, false}, {"b", true, true}};
  for (int w = 1; w <= 3; w++) {
    gf_parallel_options o = opts(w);
    gfi_sort_test_spill(37, 5);
    int64_t *perm = NULL;
    gf_error err;
    assert_int_equal(gf_sort_indices(f, k, 2, &o, &perm, &err), GF_OK);
    gfi_sort_test_spill(0, 0);
    bool *seen = calloc((size_t)n, 1);
    for (int64_t i = 0; i < n; i++) {
      assert_false(seen[perm[i]]);
      seen[perm[i]] = true;
      if (i == 0) continue;
      int c = naive_cmp(f, perm[i - 1], perm[i]);
      if (c > 0 || (c == 0 && perm[i - 1] > perm[i]))
        fail_msg("positions %lld/%lld: rows %lld, %lld out of order", (long long)i - 1,
                 (long long)i, (long long)perm[i - 1], (long long)perm[i]);
    }
    free(seen);
    gf_sort_indices_free(perm, n, &o);
  }
  gf_frame_release(f);
  free(iv);
  free(dv);
  free(iok);
  free(dok);
}

/* A real memory limit, with no hook: the in-memory sort's working set does
 * not fit, the spilled sort does, and its result is the unlimited one. */
static void memory_limit_makes_the_sort_spill(void **state) {
  (void)state;
  gf_datatype t[2] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_UTF8)};
  gf_frame *f;
  int64_t n = 200000;
  assert_int_equal(gft_random_frame(t, 2, n, 2, 0.1, 5, NULL, &f), GF_OK);
  gf_sort_key k[2] = {{"c1", false, false}, {"c0", true, true}};
  for (int w = 1; w <= 3; w++) {
    gf_parallel_options o = opts(w);
    o.chunk_rows = 0;
    gf_error err;
    gf_frame *want = NULL, *got = NULL;
    assert_int_equal(gf_sort(f, k, 2, 0, &o, &want, &err), GF_OK);
    /* The output plus the permutation and a little: far below the
     * in-memory working set (~70 bytes a row more). */
    gf_exec_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    o.stats = &st;
    o.memory_limit = 8 * n + 2 * (12 * n + 1000000) + 4000000;
    int64_t before = gfi_spill_files_opened();
    gf_status s = gf_sort(f, k, 2, 0, &o, &got, &err);
    if (s != GF_OK) fail_msg("limited sort: %s", err.message);
    assert_true(gfi_spill_files_opened() > before);
    assert_true(st.peak_memory <= o.memory_limit);
    assert_true(gf_frame_equals(got, want));
    gf_frame_release(want);
    gf_frame_release(got);
  }
  gf_frame_release(f);
}

/* ---- the sort as output batches -------------------------------------------- */

typedef struct batch_check {
  const gf_frame *want; /* gf_sort's output */
  int64_t off;
  int64_t batches;
} batch_check;

/* Each batch must be the next GFI_TAKE_BATCH_ROWS rows of gf_sort's output. */
static gf_status check_batch(void *user, gf_frame *b, gf_error *err) {
  (void)err;
  batch_check *c = user;
  int64_t m = gf_frame_num_rows(b);
  assert_int_equal(gf_frame_num_batches(b), 1);
  assert_true(m == GFI_TAKE_BATCH_ROWS || c->off + m == gf_frame_num_rows(c->want));
  gf_frame *s = NULL;
  assert_int_equal(gf_frame_slice(c->want, c->off, m, &s, NULL), GF_OK);
  if (!gf_frame_equals(b, s)) fail_msg("batch %lld differs", (long long)c->batches);
  gf_frame_release(s);
  c->off += m;
  c->batches++;
  return GF_OK;
}

/* gfi_sort_batches hands out gf_sort's batches, spilled or not, and under
 * a limit smaller than the output, which gf_sort cannot meet. */
static void batches_equal_the_sorted_frame_under_a_limit_below_the_output(void **state) {
  (void)state;
  gf_datatype t[2] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_FLOAT64)};
  gf_frame *f;
  int64_t n = 2500000;
  assert_int_equal(gft_random_frame(t, 2, n, 3, 0.05, 11, NULL, &f), GF_OK);
  gf_sort_key k[2] = {{"c1", true, false}, {"c0", false, true}};
  gf_parallel_options o = opts(2);
  o.chunk_rows = 0;
  gf_frame *want = NULL;
  gf_error err;
  assert_int_equal(gf_sort(f, k, 2, 0, &o, &want, &err), GF_OK);
  for (int mode = 0; mode < 3; mode++) {
    batch_check c = {want, 0, 0};
    if (mode == 1) gfi_sort_test_spill(700000, 5000);
    gf_parallel_options lo = o;
    if (mode == 2) lo.memory_limit = 36 << 20; /* the output alone is 40 MB */
    int64_t before = gfi_spill_files_opened();
    gf_status st = gfi_sort_batches(f, k, 2, &lo, check_batch, &c, &err);
    gfi_sort_test_spill(0, 0);
    if (st != GF_OK) fail_msg("mode %d: %s", mode, err.message);
    assert_int_equal(c.off, n);
    assert_int_equal(c.batches, 3);
    assert_true(mode == 0 ? gfi_spill_files_opened() == before : gfi_spill_files_opened() > before);
  }
  gf_frame *out = NULL;
  o.memory_limit = 36 << 20;
  assert_int_equal(gf_sort(f, k, 2, 0, &o, &out, &err), GF_ENOMEM);
  assert_null(out);
  gf_frame_release(want);
  gf_frame_release(f);
}

/* ---- failure sweeps on the spill path -------------------------------------- */

typedef struct sweep_ctx {
  const gf_frame *f;
  const gf_frame *want;
  int workers;
} sweep_ctx;

static gf_status sorted_spilled(void *user, const gf_allocator *a) {
  sweep_ctx *c = user;
  gf_parallel_options o = opts(c->workers);
  o.allocator = a;
  gf_sort_key k[2] = {{"c0", false, true}, {"c1", true, false}};
  gf_frame *out = NULL;
  gf_error err;
  gfi_sort_test_spill(40, 9);
  gf_status st = gf_sort(c->f, k, 2, 0, &o, &out, &err);
  gfi_sort_test_spill(0, 0);
  if (st == GF_OK) {
    if (!gf_frame_equals(out, c->want)) fail_msg("%s: wrong result", gft_sweep_at());
    gf_frame_release(out);
  } else if (out) {
    fail_msg("%s: output set on failure", gft_sweep_at());
  }
  if (gft_dir_entries(g_dir) != 0) fail_msg("%s: temporary file left", gft_sweep_at());
  return st;
}

static gf_status concat_batch(void *user, gf_frame *b, gf_error *err) {
  (void)err;
  gf_frame **acc = user;
  assert_null(*acc); /* small frames: one batch */
  *acc = gf_frame_retain(b);
  return GF_OK;
}

static gf_status batches_spilled(void *user, const gf_allocator *a) {
  sweep_ctx *c = user;
  gf_parallel_options o = opts(c->workers);
  o.allocator = a;
  gf_sort_key k[2] = {{"c0", false, true}, {"c1", true, false}};
  gf_frame *out = NULL;
  gf_error err;
  gfi_sort_test_spill(40, 9);
  gf_status st = gfi_sort_batches(c->f, k, 2, &o, concat_batch, &out, &err);
  gfi_sort_test_spill(0, 0);
  if (st == GF_OK && !gf_frame_equals(out, c->want)) fail_msg("%s: wrong batches", gft_sweep_at());
  gf_frame_release(out);
  if (gft_dir_entries(g_dir) != 0) fail_msg("%s: temporary file left", gft_sweep_at());
  return st;
}

static void allocation_failures_on_the_spill_path(void **state) {
  (void)state;
  gf_datatype t[2] = {gf_type(GF_TYPE_UTF8), gf_type(GF_TYPE_INT32)};
  gf_frame *f;
  assert_int_equal(gft_random_frame(t, 2, 150, 2, 0.2, 3, NULL, &f), GF_OK);
  gf_sort_key k[2] = {{"c0", false, true}, {"c1", true, false}};
  gf_frame *want = NULL;
  gf_parallel_options o = opts(1);
  assert_int_equal(gf_sort(f, k, 2, 0, &o, &want, NULL), GF_OK);
  gft_sweep_counts acc;
  memset(&acc, 0, sizeof acc);
  for (int w = 1; w <= 2; w++) {
    gf_failing_allocator *fa;
    assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
    sweep_ctx c = {f, want, w};
    gft_alloc_sweep("spilled sort", fa, sorted_spilled, &c, &acc);
    gft_alloc_sweep("spilled sort batches", fa, batches_spilled, &c, &acc);
    gf_failing_allocator_free(fa);
  }
  gft_sweep_print("spilled sort (frame and batches)", &acc);
  gf_frame_release(want);
  gf_frame_release(f);
}

/* Every append in turn fails as on a full disk: a clear GF_EIO naming the
 * directory, no output, no file left; then the same for open. */
static void io_failures_on_the_spill_path(void **state) {
  (void)state;
  gf_datatype t[2] = {gf_type(GF_TYPE_UTF8), gf_type(GF_TYPE_INT32)};
  gf_frame *f;
  assert_int_equal(gft_random_frame(t, 2, 400, 3, 0.2, 4, NULL, &f), GF_OK);
  gf_sort_key k[2] = {{"c0", false, true}, {"c1", true, false}};
  gf_frame *want = NULL;
  gf_parallel_options o = opts(2);
  assert_int_equal(gf_sort(f, k, 2, 0, &o, &want, NULL), GF_OK);
  int64_t failures = 0;
  for (int64_t w = 0;; w++) {
    gfi_spill_test_fault(w, ENOSPC, 0);
    gfi_sort_test_spill(50, 8);
    gf_frame *out = NULL;
    gf_error err;
    gf_status st = gf_sort(f, k, 2, 0, &o, &out, &err);
    gfi_sort_test_spill(0, 0);
    gfi_spill_test_fault(-1, 0, 0);
    assert_int_equal(gft_dir_entries(g_dir), 0);
    if (st == GF_OK) {
      assert_true(gf_frame_equals(out, want));
      gf_frame_release(out);
      break;
    }
    assert_int_equal(st, GF_EIO);
    assert_null(out);
    assert_non_null(strstr(err.message, "no space left"));
    assert_non_null(strstr(err.message, g_dir));
    failures++;
  }
  assert_true(failures >= 8); /* 400 rows / 8-row blocks */
  gfi_spill_test_fault(-1, 0, EACCES);
  gfi_sort_test_spill(50, 8);
  gf_frame *out = NULL;
  gf_error err;
  assert_int_equal(gf_sort(f, k, 2, 0, &o, &out, &err), GF_EIO);
  assert_non_null(strstr(err.message, g_dir));
  assert_null(out);
  gf_frame_release(want);
  gf_frame_release(f);
}

/* A cancelled call and one past its deadline stop between runs. */
static void cancellation_stops_a_spilled_sort(void **state) {
  (void)state;
  gf_datatype t = gf_type(GF_TYPE_INT64);
  gf_frame *f;
  assert_int_equal(gft_random_frame(&t, 1, 5000, 1, 0.1, 8, NULL, &f), GF_OK);
  gf_cancel *c;
  assert_int_equal(gf_cancel_new(&c, NULL), GF_OK);
  gf_cancel_request(c);
  gf_parallel_options o = opts(2);
  o.cancel = c;
  gf_sort_key k = {"c0", false, false};
  gf_frame *out = NULL;
  gf_error err;
  gfi_sort_test_spill(100, 10);
  assert_int_equal(gf_sort(f, &k, 1, 0, &o, &out, &err), GF_ECANCELED);
  gfi_sort_test_spill(0, 0);
  assert_null(out);
  gf_cancel_free(c);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(files_are_nameless_and_read_back, setup, teardown),
      cmocka_unit_test_setup_teardown(option_directory_wins_and_missing_one_is_named, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(full_disk_and_cap_give_clear_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(every_type_spills_like_in_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(slices_and_extreme_sizes, setup, teardown),
      cmocka_unit_test_setup_teardown(spilled_order_matches_a_naive_stable_order, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(memory_limit_makes_the_sort_spill, setup, teardown),
      cmocka_unit_test_setup_teardown(batches_equal_the_sorted_frame_under_a_limit_below_the_output,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(allocation_failures_on_the_spill_path, setup, teardown),
      cmocka_unit_test_setup_teardown(io_failures_on_the_spill_path, setup, teardown),
      cmocka_unit_test_setup_teardown(cancellation_stops_a_spilled_sort, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
