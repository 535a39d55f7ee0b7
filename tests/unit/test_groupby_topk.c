/* top_k and median in the group-by's partition path: against a naive
 * reference on random data with null keys, null values, ties, groups
 * without any value and single-value groups, at several worker counts and
 * chunk sizes (top_k fills fixed slots while streaming the rows; median
 * works on per-group lists of the non-null values). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/array_internal.h"
#include "gf_test_data.h"

#define N 6000
#define NKEYS 900

/* Test data: key k (int64, ~4% null), value v (double from a small set, so
 * ties are common, ~10% null); key 5000 has only null values, key 6000 a
 * single value. */
typedef struct data {
  int64_t k[N];
  bool kv[N];
  double v[N];
  bool vv[N];
} data;

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static gf_frame *make(data *d) {
  uint64_t s = 0x1234567;
  for (int i = 0; i < N; i++) {
    d->k[i] = (int64_t)(rnd(&s) % NKEYS);
    d->kv[i] = rnd(&s) % 25 != 0;
    d->v[i] = (double)(rnd(&s) % 40) * 0.5 - 3.0;
    d->vv[i] = rnd(&s) % 10 != 0;
  }
  for (int i = 100; i < 103; i++) {
    d->k[i] = 5000;
    d->kv[i] = true;
    d->vv[i] = false;
  }
  d->k[200] = 6000;
  d->kv[200] = true;
  d->vv[200] = true;
  d->v[200] = 42.0;
  gf_array *cols[2] = {gft_int64_array(gf_type(GF_TYPE_INT64), d->k, d->kv, N),
                       gft_double_array(gf_type(GF_TYPE_FLOAT64), d->v, d->vv, N)};
  const char *names[] = {"k", "v"};
  gf_frame *f;
  assert_int_equal(gf_frame_from_columns(names, cols, 2, &f, NULL), GF_OK);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  return f;
}

/* Same group: both null keys, or equal valid keys. */
static bool same_key(const data *d, int i, int j) {
  return d->kv[i] == d->kv[j] && (!d->kv[i] || d->k[i] == d->k[j]);
}

static int cmp_desc(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? 1 : a > b ? -1 : 0;
}

static int cmp_asc(const void *x, const void *y) { return -cmp_desc(x, y); }

static gf_frame *run(const gf_frame *f, const char *aggs, int workers, int64_t chunk) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.chunk_rows = chunk;
  po.min_parallel_rows = 0;
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = &po;
  const char *keys[] = {"k"};
  gf_frame *r = NULL;
  gf_error err;
  gf_status st = gf_group_by_text(f, keys, 1, aggs, &go, &r, &err);
  if (st != GF_OK) fail_msg("group by %s: %s", aggs, err.message);
  assert_int_equal(gf_frame_num_batches(r), 1);
  return r;
}

/* Walks the groups in first-appearance order with their non-null values. */
typedef void (*group_fn)(void *user, int first, const double *vals, int nv);
static void for_each_group(const data *d, group_fn fn, void *user) {
  static bool seen[N];
  static double vals[N];
  memset(seen, 0, sizeof seen);
  for (int i = 0; i < N; i++) {
    if (seen[i]) continue;
    int nv = 0;
    for (int j = i; j < N; j++) {
      if (seen[j] || !same_key(d, i, j)) continue;
      seen[j] = true;
      if (d->vv[j]) vals[nv++] = d->v[j];
    }
    fn(user, i, vals, nv);
  }
}

typedef struct topk_check {
  const data *d;
  const gf_array *kcol, *vcol;
  int64_t row;
} topk_check;

static void check_topk_group(void *user, int first, const double *vals, int nv) {
  topk_check *c = user;
  double sorted[N];
  memcpy(sorted, vals, sizeof *vals * (size_t)nv);
  qsort(sorted, (size_t)nv, sizeof *sorted, cmp_desc);
  for (int q = 0; q < nv && q < 2; q++, c->row++) {
    assert_true(c->row < gf_array_length(c->kcol));
    if (c->d->kv[first]) {
      assert_false(gf_array_is_null(c->kcol, c->row));
      assert_int_equal(gf_array_get_int64(c->kcol, c->row), c->d->k[first]);
    } else {
      assert_true(gf_array_is_null(c->kcol, c->row));
    }
    assert_false(gf_array_is_null(c->vcol, c->row));
    assert_true(gf_array_get_double(c->vcol, c->row) == sorted[q]);
  }
}

static void top_k_matches_reference_at_any_worker_count(void **state) {
  (void)state;
  static data d;
  gf_frame *f = make(&d);
  int workers[] = {1, 2, 3, 8};
  int64_t chunks[] = {0, 333};
  for (int w = 0; w < 4; w++)
    for (int c = 0; c < 2; c++) {
      gf_frame *r = run(f, "top_k(v, 2) as top", workers[w], chunks[c]);
      topk_check tc = {&d, gf_frame_column(r, 0, 0), gf_frame_column(r, 0, 1), 0};
      for_each_group(&d, check_topk_group, &tc);
      assert_int_equal(tc.row, gf_frame_num_rows(r)); /* key 5000 gives no row */
      gf_frame_release(r);
    }
  gf_frame_release(f);
}

typedef struct median_check {
  const gf_array *kcol, *mcol;
  int64_t row;
} median_check;

static void check_median_group(void *user, int first, const double *vals, int nv) {
  (void)first;
  median_check *c = user;
  double sorted[N];
  memcpy(sorted, vals, sizeof *vals * (size_t)nv);
  qsort(sorted, (size_t)nv, sizeof *sorted, cmp_asc);
  if (nv == 0) {
    assert_true(gf_array_is_null(c->mcol, c->row));
  } else {
    double pos = 0.5 * (double)(nv - 1);
    int lo = (int)floor(pos);
    double t = pos - lo, want = sorted[lo];
    if (t > 0 && lo + 1 < nv) want = sorted[lo] + (sorted[lo + 1] - sorted[lo]) * t;
    assert_false(gf_array_is_null(c->mcol, c->row));
    assert_true(fabs(gf_array_get_double(c->mcol, c->row) - want) <= 1e-12);
  }
  c->row++;
}

static void median_with_nulls_matches_reference_and_is_bit_identical(void **state) {
  (void)state;
  static data d;
  gf_frame *f = make(&d);
  gf_frame *ref = run(f, "median(v) as m, quantile(v, 0.9) as p90", 1, 0);
  median_check mc = {gf_frame_column(ref, 0, 0), gf_frame_column(ref, 0, 1), 0};
  for_each_group(&d, check_median_group, &mc);
  assert_int_equal(mc.row, gf_frame_num_rows(ref));
  int workers[] = {2, 3, 8};
  for (int w = 0; w < 3; w++) {
    gf_frame *r = run(f, "median(v) as m, quantile(v, 0.9) as p90", workers[w], 333);
    assert_int_equal(gf_frame_num_rows(r), gf_frame_num_rows(ref));
    for (int c = 1; c <= 2; c++) {
      const gf_array *x = gf_frame_column(ref, 0, c), *y = gf_frame_column(r, 0, c);
      for (int64_t i = 0; i < gf_array_length(x); i++) {
        assert_int_equal(gf_array_is_null(x, i), gf_array_is_null(y, i));
        double a = gf_array_get_double(x, i), b = gf_array_get_double(y, i);
        assert_memory_equal(&a, &b, sizeof a);
      }
    }
    gf_frame_release(r);
  }
  gf_frame_release(ref);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(top_k_matches_reference_at_any_worker_count),
      cmocka_unit_test(median_with_nulls_matches_reference_and_is_bit_identical),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
