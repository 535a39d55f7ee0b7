/* The internal planners of src/exec/planners.c against naive references:
 * 128-bit boundary arithmetic for the equal-range planners, a row-by-row
 * walk for the batch planner. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "exec/exec_internal.h"
#include "gopherframe/testing.h"

static const int64_t kSizes[] = {0, 1, 2, 3, 7, 100, 4095, 16384, 65537, 1000003,
                                 INT64_MAX / 2, INT64_MAX / 2 + 1, INT64_MAX - 1, INT64_MAX};

/* floor(n * i / count) in 128-bit arithmetic: the reference boundary. */
static int64_t ref_bound(int64_t n, int64_t count, int64_t i) {
  return (int64_t)((__int128)n * i / count);
}

/* Asserts chunks are the reference equal ranges of [0, n): contiguous,
 * covering, ids in order, sizes differing by at most one. */
static void assert_equal_ranges(const gf_chunk_spec *s, int64_t count, int64_t n) {
  int64_t lo = INT64_MAX, hi = 0, at = 0;
  for (int64_t i = 0; i < count; i++) {
    assert_int_equal(s[i].chunk_id, i);
    assert_int_equal(s[i].start_row, ref_bound(n, count, i));
    assert_int_equal(s[i].end_row, ref_bound(n, count, i + 1));
    assert_int_equal(s[i].start_row, at);
    assert_true(s[i].end_row >= s[i].start_row);
    at = s[i].end_row;
    int64_t len = s[i].end_row - s[i].start_row;
    if (len < lo) lo = len;
    if (len > hi) hi = len;
  }
  assert_int_equal(at, n);
  if (count > 0) assert_true(hi - lo <= 1);
}

static void test_plan_equal_matches_reference(void **state) {
  (void)state;
  static const int64_t counts[] = {1, 2, 3, 7, 8, 64, 1000};
  for (size_t si = 0; si < sizeof kSizes / sizeof kSizes[0]; si++) {
    for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
      int64_t n = kSizes[si], count = counts[ci];
      gf_chunk_spec *s = NULL;
      assert_int_equal(gfi_plan_equal(n, count, NULL, &s, NULL), GF_OK);
      assert_equal_ranges(s, count, n);
      gfi_plan_free(NULL, s, count);
    }
  }
  /* 0 rows in 0 chunks; rows in 0 chunks or negative values are refused. */
  gf_chunk_spec *s = NULL;
  assert_int_equal(gfi_plan_equal(0, 0, NULL, &s, NULL), GF_OK);
  gfi_plan_free(NULL, s, 0);
  gf_error err;
  assert_int_equal(gfi_plan_equal(5, 0, NULL, &s, &err), GF_EINVAL);
  assert_int_equal(gfi_plan_equal(-1, 2, NULL, &s, &err), GF_EINVAL);
  assert_int_equal(gfi_plan_equal(5, GFI_PLAN_MAX_CHUNKS + 1, NULL, &s, &err), GF_ENOMEM);
}

/* gfi_plan_even: count = clamp(ceil(n / min_rows), 1, 8 * workers), 0 for
 * no rows, then equal ranges. */
static void test_plan_even_matches_reference(void **state) {
  (void)state;
  static const int64_t mins[] = {0, 1, 4096, 16384};
  static const int workers[] = {1, 2, 3, 16};
  for (size_t wi = 0; wi < sizeof workers / sizeof workers[0]; wi++) {
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    o.num_workers = workers[wi];
    for (size_t si = 0; si < sizeof kSizes / sizeof kSizes[0]; si++) {
      for (size_t mi = 0; mi < sizeof mins / sizeof mins[0]; mi++) {
        int64_t n = kSizes[si], min_rows = mins[mi];
        int64_t want = 0;
        if (n > 0) {
          /* Naive ceiling: count how many min_rows steps reach n, capped
           * (the cap is small, so the loop is short). */
          int64_t cap = 8 * (int64_t)workers[wi];
          if (min_rows <= 0) {
            want = n < cap ? n : cap;
          } else {
            want = 0;
            for (int64_t covered = 0; covered < n && want < cap; want++) covered += min_rows;
          }
          if (want < 1) want = 1;
        }
        gf_chunk_spec *s = NULL;
        int64_t count = -1;
        assert_int_equal(gfi_plan_even(n, min_rows, &o, NULL, &s, &count, NULL), GF_OK);
        assert_int_equal(count, want);
        assert_equal_ranges(s, count, n);
        /* Below the cap, ceil(n / min_rows) chunks hold at most min_rows
         * rows each. */
        if (min_rows > 0 && count < 8 * workers[wi])
          for (int64_t i = 0; i < count; i++)
            assert_true(s[i].end_row - s[i].start_row <= min_rows);
        gfi_plan_free(NULL, s, count);
      }
    }
  }
}

/* Reference morsels: walks every row of every batch, starting a new morsel
 * at each batch start and after `rows` rows. */
static int64_t ref_morsels(const int64_t *off, int nb, int64_t rows, gfi_morsel *m) {
  int64_t k = -1;
  for (int b = 0; b < nb; b++) {
    int64_t in = rows; /* rows in the current morsel: full = start one */
    for (int64_t r = off[b]; r < off[b + 1]; r++) {
      if (in == rows) {
        k++;
        m[k] = (gfi_morsel){b, r - off[b], 0};
        in = 0;
      }
      m[k].len++;
      in++;
    }
  }
  return k + 1;
}

static void test_plan_batches_matches_row_walk(void **state) {
  (void)state;
  /* Batches including empty ones and a single row. */
  static const int64_t off[] = {0, 0, 1, 1, 101, 1101, 1102, 5000, 5000};
  int nb = (int)(sizeof off / sizeof off[0]) - 1;
  static const int64_t rowsv[] = {1, 2, 3, 64, 100, 1000, 4096, INT32_MAX};
  gfi_morsel *ref = malloc(sizeof *ref * 5000);
  assert_non_null(ref);
  for (size_t ri = 0; ri < sizeof rowsv / sizeof rowsv[0]; ri++) {
    int64_t want = ref_morsels(off, nb, rowsv[ri], ref);
    gfi_morsel *m = NULL;
    gf_chunk_spec *s = NULL;
    int64_t n = -1;
    assert_int_equal(gfi_plan_batches(off, nb, rowsv[ri], NULL, &m, &s, &n, NULL), GF_OK);
    assert_int_equal(n, want);
    int64_t at = 0;
    for (int64_t i = 0; i < n; i++) {
      assert_int_equal(m[i].batch, ref[i].batch);
      assert_int_equal(m[i].start, ref[i].start);
      assert_int_equal(m[i].len, ref[i].len);
      assert_int_equal(s[i].chunk_id, i);
      assert_int_equal(s[i].start_row, off[m[i].batch] + m[i].start);
      assert_int_equal(s[i].end_row - s[i].start_row, m[i].len);
      assert_int_equal(s[i].start_row, at); /* contiguous over [0, 5000) */
      at = s[i].end_row;
    }
    assert_int_equal(at, off[nb]);
    gfi_morsels_free(NULL, m, s, n);
  }
  free(ref);
  /* No rows: no morsels, nothing allocated. */
  static const int64_t none[] = {0, 0, 0};
  gfi_morsel *m = (gfi_morsel *)1;
  gf_chunk_spec *s = (gf_chunk_spec *)1;
  int64_t n = -1;
  assert_int_equal(gfi_plan_batches(none, 2, 10, NULL, &m, &s, &n, NULL), GF_OK);
  assert_int_equal(n, 0);
  assert_null(m);
  assert_null(s);
  assert_int_equal(gfi_plan_batches(none, 0, 10, NULL, &m, &s, &n, NULL), GF_OK);
  assert_int_equal(n, 0);
}

/* Huge row counts plan without overflow: two batches near INT64_MAX / 2
 * each, morsels of a third of a batch. */
static void test_plan_batches_huge_rows(void **state) {
  (void)state;
  int64_t half = INT64_MAX / 2;
  int64_t off[] = {0, half, INT64_MAX - 1};
  int64_t rows = half / 3 + 1; /* 3 morsels per batch, the last shorter */
  gfi_morsel *m = NULL;
  gf_chunk_spec *s = NULL;
  int64_t n = 0;
  assert_int_equal(gfi_plan_batches(off, 2, rows, NULL, &m, &s, &n, NULL), GF_OK);
  assert_int_equal(n, 6);
  int64_t at = 0;
  for (int64_t i = 0; i < n; i++) {
    int b = (int)(i / 3);
    assert_int_equal(m[i].batch, b);
    assert_int_equal(m[i].start, (i % 3) * rows);
    int64_t blen = off[b + 1] - off[b];
    int64_t want = i % 3 < 2 ? rows : blen - 2 * rows;
    assert_int_equal(m[i].len, want);
    assert_int_equal(s[i].start_row, at);
    at = s[i].end_row;
  }
  assert_int_equal(at, INT64_MAX - 1);
  gfi_morsels_free(NULL, m, s, n);
  /* One row per morsel over a huge batch would be too many morsels. */
  gf_error err;
  assert_int_equal(gfi_plan_batches(off, 2, 1, NULL, &m, &s, &n, &err), GF_ENOMEM);
  assert_null(m);
}

/* Every allocation failure is GF_ENOMEM with nothing left allocated, and
 * plans free to zero live blocks through the same allocator. */
static void test_planners_release_everything_on_allocation_failure(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  const gf_allocator *a = gf_failing_allocator_get(fa);
  static const int64_t off[] = {0, 10, 25};
  for (int64_t fail_at = 1; fail_at <= 3; fail_at++) {
    gf_failing_allocator_arm(fa, fail_at, false);
    gfi_morsel *m = NULL;
    gf_chunk_spec *s = NULL;
    int64_t n = 0;
    gf_status st = gfi_plan_batches(off, 2, 4, a, &m, &s, &n, NULL);
    if (fail_at <= 2) {
      assert_int_equal(st, GF_ENOMEM);
      assert_null(m);
      assert_null(s);
    } else {
      assert_int_equal(st, GF_OK);
      assert_int_equal(n, 7);
      gfi_morsels_free(a, m, s, n);
    }
    assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);

    gf_failing_allocator_arm(fa, fail_at, false);
    st = gfi_plan_equal(25, 3, a, &s, NULL);
    assert_int_equal(st, fail_at == 1 ? GF_ENOMEM : GF_OK);
    if (st == GF_OK) gfi_plan_free(a, s, 3);
    gf_failing_allocator_arm(fa, fail_at, false);
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    o.num_workers = 2;
    st = gfi_plan_even(0, 100, &o, a, &s, &n, NULL); /* 0 rows: still one block */
    assert_int_equal(st, fail_at == 1 ? GF_ENOMEM : GF_OK);
    if (st == GF_OK) gfi_plan_free(a, s, n);
    assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
    assert_int_equal(gf_failing_allocator_live_bytes(fa), 0);
  }
  gf_failing_allocator_free(fa);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plan_equal_matches_reference),
      cmocka_unit_test(test_plan_even_matches_reference),
      cmocka_unit_test(test_plan_batches_matches_row_walk),
      cmocka_unit_test(test_plan_batches_huge_rows),
      cmocka_unit_test(test_planners_release_everything_on_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
