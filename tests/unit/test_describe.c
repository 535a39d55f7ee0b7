/* gf_describe against naive loops: two-pass mean and std, min/max by a
 * scan, quartiles from a fully sorted copy, distinct strings by pairwise
 * comparison; identical frames at every worker count; allocation failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_test_data.h"
#include "gf_test_sweep.h"

enum { R_COUNT, R_NULLS, R_UNIQUE, R_MEAN, R_STD, R_MIN, R_Q25, R_Q50, R_Q75, R_MAX, R_N };

/* ---- reading the result --------------------------------------------------- */

/* Statistic row r of result column c (0 = "statistic") as a double; NAN
 * for null. */
static double num_at(const gf_frame *d, int c, int r) {
  const gf_array *a = gf_frame_column(d, 0, c);
  assert_int_equal(gf_array_type(a).id, GF_TYPE_FLOAT64);
  return gf_array_is_null(a, r) ? NAN : gf_array_get_double(a, r);
}

/* Text of row r of a utf8 result column, NULL for null. */
static const char *text_at(const gf_frame *d, int c, int r, char *buf, size_t size) {
  const gf_array *a = gf_frame_column(d, 0, c);
  assert_int_equal(gf_array_type(a).id, GF_TYPE_UTF8);
  if (gf_array_is_null(a, r)) return NULL;
  int64_t n;
  const char *p = gf_array_get_bytes(a, r, &n);
  assert_true((size_t)n < size);
  memcpy(buf, p, (size_t)n);
  buf[n] = '\0';
  return buf;
}

/* ---- the naive reference ---------------------------------------------------- */

/* Non-null values of column c as doubles (integers and floats), in row
 * order; *nulls counts the others. */
static double *values_of(const gf_frame *f, int c, int64_t *n, int64_t *nulls) {
  double *v = malloc((size_t)(gf_frame_num_rows(f) + 1) * sizeof *v);
  assert_non_null(v);
  *n = *nulls = 0;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *a = gf_frame_column(f, b, c);
    gf_type_id id = gf_array_type(a).id;
    for (int64_t i = 0; i < gf_array_length(a); i++) {
      if (gf_array_is_null(a, i)) {
        (*nulls)++;
      } else if (id == GF_TYPE_FLOAT32 || id == GF_TYPE_FLOAT64) {
        v[(*n)++] = gf_array_get_double(a, i);
      } else if (id == GF_TYPE_UINT64 || id == GF_TYPE_UINT32) {
        v[(*n)++] = (double)gf_array_get_uint64(a, i);
      } else {
        v[(*n)++] = (double)gf_array_get_int64(a, i);
      }
    }
  }
  return v;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

static void expect_close(double got, double want, double rel, const char *what) {
  if (fabs(got - want) > rel * fmax(1.0, fabs(want)))
    fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

/* A numeric column: every statistic against loops over the values. */
static void check_numeric(const gf_frame *f, const gf_frame *d, int c) {
  int64_t n, nulls;
  double *v = values_of(f, c, &n, &nulls);
  int dc = c + 1;
  assert_true(num_at(d, dc, R_COUNT) == (double)n);
  assert_true(num_at(d, dc, R_NULLS) == (double)nulls);
  assert_true(isnan(num_at(d, dc, R_UNIQUE)));
  double sum = 0;
  for (int64_t i = 0; i < n; i++) sum += v[i];
  double mean = sum / (double)n, ss = 0;
  for (int64_t i = 0; i < n; i++) ss += (v[i] - mean) * (v[i] - mean);
  expect_close(num_at(d, dc, R_MEAN), mean, 1e-12, "mean");
  expect_close(num_at(d, dc, R_STD), sqrt(ss / (double)(n - 1)), 1e-9, "std");
  double lo = v[0], hi = v[0];
  for (int64_t i = 1; i < n; i++) {
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
  }
  assert_true(num_at(d, dc, R_MIN) == lo);
  assert_true(num_at(d, dc, R_MAX) == hi);
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  static const double q[3] = {0.25, 0.5, 0.75};
  for (int k = 0; k < 3; k++) {
    double h = q[k] * (double)(n - 1);
    int64_t i = (int64_t)floor(h);
    double want = v[i];
    if (h > (double)i && i + 1 < n) want += (h - (double)i) * (v[i + 1] - v[i]);
    if (num_at(d, dc, R_Q25 + k) != want)
      fail_msg("column %d quartile %d: got %.17g, want %.17g", c, k, num_at(d, dc, R_Q25 + k), want);
  }
  free(v);
}

/* A string column: count, nulls, distinct values, min and max. */
static void check_strings(const gf_frame *f, const gf_frame *d, int c) {
  int64_t rows = gf_frame_num_rows(f), n = 0, nulls = 0, unique = 0;
  const char **s = malloc((size_t)(rows + 1) * sizeof *s);
  int64_t *len = malloc((size_t)(rows + 1) * sizeof *len);
  assert_true(s && len);
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *a = gf_frame_column(f, b, c);
    for (int64_t i = 0; i < gf_array_length(a); i++) {
      if (gf_array_is_null(a, i)) {
        nulls++;
        continue;
      }
      s[n] = gf_array_get_bytes(a, i, &len[n]);
      n++;
    }
  }
  int64_t imin = 0, imax = 0;
  for (int64_t i = 0; i < n; i++) {
    bool seen = false;
    for (int64_t j = 0; j < i && !seen; j++)
      seen = len[j] == len[i] && memcmp(s[j], s[i], (size_t)len[i]) == 0;
    unique += !seen;
    /* byte order: memcmp of the common prefix, then the shorter first */
    int64_t m = len[i] < len[imin] ? len[i] : len[imin];
    int cm = memcmp(s[i], s[imin], (size_t)m);
    if (cm < 0 || (cm == 0 && len[i] < len[imin])) imin = i;
    m = len[i] < len[imax] ? len[i] : len[imax];
    cm = memcmp(s[i], s[imax], (size_t)m);
    if (cm > 0 || (cm == 0 && len[i] > len[imax])) imax = i;
  }
  char buf[256], want[256];
  snprintf(want, sizeof want, "%lld", (long long)n);
  assert_string_equal(text_at(d, c + 1, R_COUNT, buf, sizeof buf), want);
  snprintf(want, sizeof want, "%lld", (long long)nulls);
  assert_string_equal(text_at(d, c + 1, R_NULLS, buf, sizeof buf), want);
  snprintf(want, sizeof want, "%lld", (long long)unique);
  assert_string_equal(text_at(d, c + 1, R_UNIQUE, buf, sizeof buf), want);
  snprintf(want, sizeof want, "%.*s", (int)len[imin], s[imin]);
  assert_string_equal(text_at(d, c + 1, R_MIN, buf, sizeof buf), want);
  snprintf(want, sizeof want, "%.*s", (int)len[imax], s[imax]);
  assert_string_equal(text_at(d, c + 1, R_MAX, buf, sizeof buf), want);
  assert_null(text_at(d, c + 1, R_STD, buf, sizeof buf));
  free(s);
  free(len);
}

/* A temporal column: min, lower quartiles and max are values of the
 * column, written as the printer writes them. */
static void check_temporal(const gf_frame *f, const gf_frame *d, int c) {
  int64_t n, nulls;
  double *v = values_of(f, c, &n, &nulls); /* days and instants fit a double exactly here */
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  const double want_v[5] = {v[0], v[(int64_t)floor(0.25 * (double)(n - 1))],
                            v[(int64_t)floor(0.5 * (double)(n - 1))],
                            v[(int64_t)floor(0.75 * (double)(n - 1))], v[n - 1]};
  static const int rows[5] = {R_MIN, R_Q25, R_Q50, R_Q75, R_MAX};
  for (int k = 0; k < 5; k++) {
    /* Find a row holding that value and format it from the input. */
    char want[128] = "", buf[128];
    for (int b = 0; b < gf_frame_num_batches(f) && !want[0]; b++) {
      const gf_array *a = gf_frame_column(f, b, c);
      for (int64_t i = 0; i < gf_array_length(a); i++)
        if (!gf_array_is_null(a, i) && (double)gf_array_get_int64(a, i) == want_v[k]) {
          gf_array_format_value(a, i, want, sizeof want);
          break;
        }
    }
    assert_string_equal(text_at(d, c + 1, rows[k], buf, sizeof buf), want);
  }
  assert_null(text_at(d, c + 1, R_MEAN, (char[8]){0}, 8));
  free(v);
}

/* A bool column: the share of true, min and max. */
static void check_bool(const gf_frame *f, const gf_frame *d, int c) {
  int64_t n = 0, trues = 0;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *a = gf_frame_column(f, b, c);
    for (int64_t i = 0; i < gf_array_length(a); i++)
      if (!gf_array_is_null(a, i)) n++, trues += gf_array_get_bool(a, i);
  }
  char buf[64];
  assert_true(strtod(text_at(d, c + 1, R_MEAN, buf, sizeof buf), NULL) == (double)trues / (double)n);
  assert_string_equal(text_at(d, c + 1, R_MIN, buf, sizeof buf), trues == n ? "true" : "false");
  assert_string_equal(text_at(d, c + 1, R_MAX, buf, sizeof buf), trues > 0 ? "true" : "false");
}

static gf_frame *sample_frame(int64_t rows, gf_datatype *types, int *ntypes) {
  int k = 0;
  types[k++] = gf_type(GF_TYPE_INT32);
  types[k++] = gf_type(GF_TYPE_INT64);
  types[k++] = gf_type(GF_TYPE_UINT32);
  types[k++] = gf_type(GF_TYPE_FLOAT64);
  types[k++] = gf_type(GF_TYPE_FLOAT32);
  types[k++] = gf_type(GF_TYPE_UTF8);
  types[k++] = gf_type(GF_TYPE_BOOL);
  types[k++] = gf_type(GF_TYPE_DATE32);
  types[k++] = gf_type_timestamp(GF_UNIT_MICRO, false, 0);
  *ntypes = k;
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(types, k, rows, 3, 0.1, 42, NULL, &f), GF_OK);
  return f;
}

static void describe_matches_naive_loops(void **state) {
  (void)state;
  gf_datatype types[16];
  int nt;
  gf_frame *f = sample_frame(3001, types, &nt);
  gf_frame *d = NULL;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = 1;
  gf_error err;
  assert_int_equal(gf_describe(f, &o, &d, &err), GF_OK);
  assert_int_equal(gf_frame_num_columns(d), nt + 1);
  assert_int_equal(gf_frame_num_rows(d), R_N);
  static const char *const names[R_N] = {"count", "null_count", "n_unique", "mean", "std",
                                         "min",   "25%",        "50%",      "75%",  "max"};
  char buf[64];
  for (int r = 0; r < R_N; r++) assert_string_equal(text_at(d, 0, r, buf, sizeof buf), names[r]);
  for (int c = 0; c < nt; c++) {
    assert_string_equal(gf_schema_field(gf_frame_schema(d), c + 1)->name,
                        gf_schema_field(gf_frame_schema(f), c)->name);
    switch (types[c].id) {
      case GF_TYPE_UTF8: check_strings(f, d, c); break;
      case GF_TYPE_BOOL: check_bool(f, d, c); break;
      case GF_TYPE_DATE32:
      case GF_TYPE_TIMESTAMP: check_temporal(f, d, c); break;
      default: check_numeric(f, d, c); break;
    }
  }
  gf_frame_release(d);
  gf_frame_release(f);
}

/* Bit-identical frames at 1..4 workers (one task per column). */
static void describe_is_identical_at_any_worker_count(void **state) {
  (void)state;
  gf_datatype types[16];
  int nt;
  gf_frame *f = sample_frame(20000, types, &nt);
  gf_frame *first = NULL;
  for (int w = 1; w <= 4; w++) {
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    o.num_workers = w;
    gf_frame *d = NULL;
    assert_int_equal(gf_describe(f, &o, &d, NULL), GF_OK);
    if (!first) {
      first = d;
      continue;
    }
    for (int c = 1; c <= nt; c++) {
      const gf_array *x = gf_frame_column(first, 0, c), *y = gf_frame_column(d, 0, c);
      if (gf_array_type(x).id != GF_TYPE_FLOAT64) {
        assert_true(gf_array_equals(x, y));
        continue;
      }
      for (int r = 0; r < R_N; r++) {
        assert_int_equal(gf_array_is_null(x, r), gf_array_is_null(y, r));
        double a = gf_array_get_double(x, r), b = gf_array_get_double(y, r);
        assert_memory_equal(&a, &b, sizeof a);
      }
    }
    gf_frame_release(d);
  }
  gf_frame_release(first);
  gf_frame_release(f);
}

/* No rows: counts of 0, every other statistic null. */
static void describe_of_empty_columns(void **state) {
  (void)state;
  gf_datatype types[16];
  int nt;
  gf_frame *f = sample_frame(0, types, &nt);
  gf_frame *d = NULL;
  assert_int_equal(gf_describe(f, NULL, &d, NULL), GF_OK);
  char buf[64];
  for (int c = 1; c <= nt; c++) {
    bool num = gf_array_type(gf_frame_column(d, 0, c)).id == GF_TYPE_FLOAT64;
    for (int r = 0; r < R_N; r++) {
      if (r == R_COUNT || r == R_NULLS) {
        if (num)
          assert_true(num_at(d, c, r) == 0);
        else if (r != R_UNIQUE)
          assert_string_equal(text_at(d, c, r, buf, sizeof buf), "0");
      } else if (num) {
        assert_true(isnan(num_at(d, c, r)));
      } else if (r != R_UNIQUE) {
        assert_null(text_at(d, c, r, buf, sizeof buf));
      }
    }
  }
  gf_frame_release(d);
  gf_frame_release(f);
  assert_int_equal(gf_describe(NULL, NULL, &d, NULL), GF_EINVAL);
}

typedef struct describe_sweep {
  const gf_frame *f, *want;
  gf_parallel_options o;
} describe_sweep;

static gf_status describe_once(void *user, const gf_allocator *a) {
  describe_sweep *s = user;
  s->o.allocator = a;
  gf_frame *r = NULL;
  gf_status st = gf_describe(s->f, &s->o, &r, NULL);
  if (st == GF_OK) {
    if (!gf_frame_equals(r, s->want)) fail_msg("%s: wrong result", gft_sweep_at());
    gf_frame_release(r);
  } else {
    assert_null(r);
  }
  return st;
}

/* Every allocation failing, one-off and persistent: GF_ENOMEM and no leak. */
static void describe_survives_allocation_failures(void **state) {
  (void)state;
  gf_datatype types[16];
  int nt;
  gf_frame *f = sample_frame(500, types, &nt);
  describe_sweep s = {f, NULL, {0}};
  gf_parallel_options_init(&s.o);
  s.o.num_workers = 2;
  gf_frame *want = NULL;
  assert_int_equal(gf_describe(f, &s.o, &want, NULL), GF_OK);
  s.want = want;
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts counts = {0};
  gft_alloc_sweep("describe", fa, describe_once, &s, &counts);
  gft_sweep_print("describe", &counts);
  gf_failing_allocator_free(fa);
  gf_frame_release(want);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(describe_matches_naive_loops),
      cmocka_unit_test(describe_is_identical_at_any_worker_count),
      cmocka_unit_test(describe_of_empty_columns),
      cmocka_unit_test(describe_survives_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
