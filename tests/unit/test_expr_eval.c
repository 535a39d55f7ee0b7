/* Expressions: vectorised evaluation against scalar references on random
 * data with nulls (odd slice offsets included), Kleene logic, null
 * semantics, every function, dictionaries, determinism across worker
 * counts and chunk sizes, and allocation failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_internal.h"
#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe/testing.h"

/* One-batch frame from named columns (references stolen). */
static gf_frame *frame_of(int n, const char *const *names, gf_array **cols) {
  gf_frame *f = NULL;
  gf_error err;
  if (gf_frame_from_columns(names, cols, n, &f, &err) != GF_OK) fail_msg("%s", err.message);
  for (int i = 0; i < n; i++) gf_array_release(cols[i]);
  return f;
}

/* Evaluates `text` over f with `workers` workers and `chunk` rows per
 * morsel; returns the result as one array. */
static gf_array *eval_opts(const gf_frame *f, const char *text, int workers, int64_t chunk) {
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse %s: %s", text, err.message);
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  o.chunk_rows = chunk;
  o.min_parallel_rows = 0;
  gf_frame *r = NULL;
  if (gf_evaluate(f, e, "r", &o, &r, &err) != GF_OK) fail_msg("eval %s: %s", text, err.message);
  gf_expr_release(e);
  assert_int_equal(gf_frame_num_rows(r), gf_frame_num_rows(f));
  assert_int_equal(gf_frame_num_batches(r), gf_frame_num_batches(f));
  gf_frame *one = NULL;
  assert_int_equal(gf_frame_combine_batches(r, NULL, &one, NULL), GF_OK);
  gf_array *a = gf_frame_num_batches(one) ? gf_array_retain(gf_frame_column(one, 0, 0)) : NULL;
  gf_frame_release(one);
  gf_frame_release(r);
  if (a) assert_int_equal(gf_array_validate(a, false, NULL), GF_OK);
  return a;
}

static gf_array *eval1(const gf_frame *f, const char *text) { return eval_opts(f, text, 1, 0); }

/* Expects `text` over f to give exactly `want` (released). */
static void expect_eq(const gf_frame *f, const char *text, gf_array *want) {
  gf_array *got = eval1(f, text);
  if (!gf_array_equals(got, want)) {
    char g[64], w[64];
    fprintf(stderr, "%s: got type %s len %lld nulls %lld, want %s len %lld nulls %lld\n", text,
            gf_type_format(gf_array_type(got), g, sizeof g), (long long)gf_array_length(got),
            (long long)gf_array_null_count(got), gf_type_format(gf_array_type(want), w, sizeof w),
            (long long)gf_array_length(want), (long long)gf_array_null_count(want));
    for (int64_t i = 0; i < gf_array_length(got) && i < 20; i++) {
      char a[64], b[64];
      gf_array_format_value(got, i, a, sizeof a);
      gf_array_format_value(want, i, b, sizeof b);
      fprintf(stderr, "  [%lld] got %s want %s\n", (long long)i, a, b);
    }
    fail_msg("mismatch for %s", text);
  }
  gf_array_release(got);
  gf_array_release(want);
}

#define I64(...) ((const int64_t[]){__VA_ARGS__})
#define F64(...) ((const double[]){__VA_ARGS__})
#define VALID(...) ((const bool[]){__VA_ARGS__})
#define STRS(...) ((const char *const[]){__VA_ARGS__})

static gf_array *ints(gf_type_id t, const int64_t *v, const bool *valid, int64_t n) {
  return gft_int64_array(gf_type(t), v, valid, n);
}

/* A random array sliced at an odd offset, so kernels see offset != 0. */
static gf_array *random_sliced(gf_type_id t, int64_t n, uint64_t seed) {
  gf_array *a, *s;
  assert_int_equal(gft_random_array(gf_type(t), n + 7, 0.2, seed, NULL, &a), GF_OK);
  assert_int_equal(gf_array_slice(a, 3, n, &s, NULL), GF_OK);
  gf_array_release(a);
  return s;
}

static int64_t wrap(uint64_t v) { return (int64_t)v; }

static void arithmetic_matches_scalar_reference(void **state) {
  (void)state;
  const int64_t n = 1001;
  const char *names[] = {"x", "y", "f", "g"};
  gf_array *cols[] = {random_sliced(GF_TYPE_INT64, n, 1), random_sliced(GF_TYPE_INT32, n, 2),
                      random_sliced(GF_TYPE_FLOAT64, n, 3), random_sliced(GF_TYPE_FLOAT32, n, 4)};
  gf_frame *f = frame_of(4, names, cols);
  gf_array *x = gf_frame_column(f, 0, 0), *y = gf_frame_column(f, 0, 1);
  gf_array *fx = gf_frame_column(f, 0, 2), *gy = gf_frame_column(f, 0, 3);
  const char *iops[] = {"x + y", "x - y", "x * y", "x / y", "x % y", "x + 5", "7 - y", "-x"};
  for (int k = 0; k < 8; k++) {
    gf_array *r = eval1(f, iops[k]);
    assert_int_equal(gf_array_type(r).id, GF_TYPE_INT64);
    for (int64_t i = 0; i < n; i++) {
      bool xv = !gf_array_is_null(x, i), yv = !gf_array_is_null(y, i);
      int64_t a = gf_array_get_int64(x, i), b = gf_array_get_int64(y, i);
      bool valid;
      int64_t want = 0;
      switch (k) {
        case 0: valid = xv && yv; want = wrap((uint64_t)a + (uint64_t)b); break;
        case 1: valid = xv && yv; want = wrap((uint64_t)a - (uint64_t)b); break;
        case 2: valid = xv && yv; want = wrap((uint64_t)a * (uint64_t)b); break;
        case 3: valid = xv && yv && b != 0; want = valid ? a / b : 0; break;
        case 4: valid = xv && yv && b != 0; want = valid ? a % b : 0; break;
        case 5: valid = xv; want = a + 5; break;
        case 6: valid = yv; want = 7 - b; break;
        default: valid = xv; want = -a; break;
      }
      assert_int_equal(!gf_array_is_null(r, i), valid);
      if (valid) assert_int_equal(gf_array_get_int64(r, i), want);
      else assert_int_equal(gf_array_get_int64(r, i), 0); /* null slots zeroed */
    }
    gf_array_release(r);
  }
  const char *fops[] = {"f + x", "f - g", "f * 2", "f / g", "f % 3.5", "g + y", "-f"};
  for (int k = 0; k < 7; k++) {
    gf_array *r = eval1(f, fops[k]);
    assert_int_equal(gf_array_type(r).id, GF_TYPE_FLOAT64);
    for (int64_t i = 0; i < n; i++) {
      double a = gf_array_get_double(fx, i), b = gf_array_get_double(gy, i);
      double xi = (double)gf_array_get_int64(x, i), yi = (double)gf_array_get_int64(y, i);
      bool fv = !gf_array_is_null(fx, i), gv = !gf_array_is_null(gy, i);
      bool xv = !gf_array_is_null(x, i), yv = !gf_array_is_null(y, i);
      bool valid;
      double want;
      switch (k) {
        case 0: valid = fv && xv; want = a + xi; break;
        case 1: valid = fv && gv; want = a - b; break;
        case 2: valid = fv; want = a * 2; break;
        case 3: valid = fv && gv; want = a / b; break;
        case 4: valid = fv; want = fmod(a, 3.5); break;
        case 5: valid = gv && yv; want = b + yi; break;
        default: valid = fv; want = -a; break;
      }
      assert_int_equal(!gf_array_is_null(r, i), valid);
      if (valid) {
        double got = gf_array_get_double(r, i);
        assert_memory_equal(&got, &want, sizeof got);
      }
    }
    gf_array_release(r);
  }
  gf_frame_release(f);
}

static void integer_division_by_zero_is_null(void **state) {
  (void)state;
  const char *names[] = {"a", "b"};
  gf_array *cols[] = {ints(GF_TYPE_INT64, I64(7, -7, 5, INT64_MIN, 9), NULL, 5),
                      ints(GF_TYPE_INT64, I64(2, 0, 0, -1, -1), NULL, 5)};
  gf_frame *f = frame_of(2, names, cols);
  expect_eq(f, "a / b", ints(GF_TYPE_INT64, I64(3, 0, 0, 0, -9), VALID(1, 0, 0, 0, 1), 5));
  expect_eq(f, "a % b", ints(GF_TYPE_INT64, I64(1, 0, 0, 0, 0), VALID(1, 0, 0, 1, 1), 5));
  expect_eq(f, "a / 0", ints(GF_TYPE_INT64, I64(0, 0, 0, 0, 0), VALID(0, 0, 0, 0, 0), 5));
  /* Float division follows IEEE. */
  gf_array *r = eval1(f, "cast(a as float64) / b");
  assert_true(isinf(gf_array_get_double(r, 1)));
  assert_int_equal(gf_array_null_count(r), 0);
  gf_array_release(r);
  gf_frame_release(f);
}

static void comparisons_match_scalar_reference(void **state) {
  (void)state;
  const int64_t n = 777;
  const char *names[] = {"x", "y", "f", "s", "t"};
  gf_array *cols[5] = {random_sliced(GF_TYPE_INT64, n, 11), random_sliced(GF_TYPE_INT32, n, 12),
                       random_sliced(GF_TYPE_FLOAT64, n, 13), random_sliced(GF_TYPE_UTF8, n, 14),
                       random_sliced(GF_TYPE_UTF8, n, 15)};
  gf_frame *f = frame_of(5, names, cols);
  gf_array *x = gf_frame_column(f, 0, 0), *y = gf_frame_column(f, 0, 1), *fl = gf_frame_column(f, 0, 2);
  gf_array *s = gf_frame_column(f, 0, 3), *t = gf_frame_column(f, 0, 4);
  const char *ops[] = {"=", "!=", "<", "<=", ">", ">="};
  for (int op = 0; op < 6; op++) {
    char text[5][64];
    snprintf(text[0], 64, "x %s y", ops[op]);
    snprintf(text[1], 64, "y %s 12345", ops[op]);
    snprintf(text[2], 64, "f %s x", ops[op]);
    snprintf(text[3], 64, "s %s t", ops[op]);
    snprintf(text[4], 64, "'M' %s s", ops[op]);
    for (int k = 0; k < 5; k++) {
      gf_array *r = eval1(f, text[k]);
      assert_int_equal(gf_array_type(r).id, GF_TYPE_BOOL);
      for (int64_t i = 0; i < n; i++) {
        bool valid;
        int c;
        if (k == 0) {
          valid = !gf_array_is_null(x, i) && !gf_array_is_null(y, i);
          int64_t a = gf_array_get_int64(x, i), b = gf_array_get_int64(y, i);
          c = a < b ? -1 : a > b;
        } else if (k == 1) {
          valid = !gf_array_is_null(y, i);
          int64_t a = gf_array_get_int64(y, i);
          c = a < 12345 ? -1 : a > 12345;
        } else if (k == 2) {
          valid = !gf_array_is_null(fl, i) && !gf_array_is_null(x, i);
          double a = gf_array_get_double(fl, i), b = (double)gf_array_get_int64(x, i);
          c = a < b ? -1 : a > b;
        } else {
          const gf_array *l = k == 3 ? s : NULL;
          valid = !gf_array_is_null(s, i) && (k == 4 || !gf_array_is_null(t, i));
          int64_t la, lb;
          const char *pa = k == 3 ? gf_array_get_bytes(l, i, &la) : "M";
          if (k == 4) la = 1;
          const char *pb = k == 3 ? gf_array_get_bytes(t, i, &lb) : gf_array_get_bytes(s, i, &lb);
          if (!valid) {
            c = 0;
          } else {
            int64_t m = la < lb ? la : lb;
            c = m ? memcmp(pa, pb, (size_t)m) : 0;
            if (c == 0) c = la < lb ? -1 : la > lb;
            c = c < 0 ? -1 : c > 0;
          }
        }
        bool want = op == 0 ? c == 0 : op == 1 ? c != 0 : op == 2 ? c < 0
                  : op == 3 ? c <= 0 : op == 4 ? c > 0 : c >= 0;
        assert_int_equal(!gf_array_is_null(r, i), valid);
        assert_int_equal(gf_array_get_bool(r, i), valid && want);
      }
      gf_array_release(r);
    }
  }
  gf_frame_release(f);
}

static void int_column_against_float_literal_is_exact(void **state) {
  (void)state;
  const char *names[] = {"a"};
  gf_array *cols[] = {ints(GF_TYPE_INT64, I64(1, 2, 3, 9007199254740993), NULL, 4)};
  gf_frame *f = frame_of(1, names, cols);
  const bool T = true, F = false;
  expect_eq(f, "a < 2.5", gft_int64_array(gf_type(GF_TYPE_BOOL), I64(T, T, F, F), NULL, 4));
  expect_eq(f, "a >= 2.5", gft_int64_array(gf_type(GF_TYPE_BOOL), I64(F, F, T, T), NULL, 4));
  expect_eq(f, "2.5 > a", gft_int64_array(gf_type(GF_TYPE_BOOL), I64(T, T, F, F), NULL, 4));
  expect_eq(f, "a <= 2.0", gft_int64_array(gf_type(GF_TYPE_BOOL), I64(T, T, F, F), NULL, 4));
  /* 2^53 + 1 is not equal to 2^53 (a float64 compare would say it is). */
  expect_eq(f, "a = 9007199254740992.0", gft_int64_array(gf_type(GF_TYPE_BOOL), I64(F, F, F, F), NULL, 4));
  expect_eq(f, "a > 9007199254740992.0", gft_int64_array(gf_type(GF_TYPE_BOOL), I64(F, F, F, T), NULL, 4));
  gf_frame_release(f);
}

static void kleene_truth_tables(void **state) {
  (void)state;
  /* a, b over {true, false, null}^2 */
  const char *names[] = {"a", "b"};
  gf_array *cols[] = {
      gft_int64_array(gf_type(GF_TYPE_BOOL), I64(1, 1, 1, 0, 0, 0, 0, 0, 0), VALID(1, 1, 1, 1, 1, 1, 0, 0, 0), 9),
      gft_int64_array(gf_type(GF_TYPE_BOOL), I64(1, 0, 0, 1, 0, 0, 1, 0, 0), VALID(1, 1, 0, 1, 1, 0, 1, 1, 0), 9)};
  gf_frame *f = frame_of(2, names, cols);
  gf_datatype B = gf_type(GF_TYPE_BOOL);
  /*                          TT TF TN FT FF FN NT NF NN */
  expect_eq(f, "a and b", gft_int64_array(B, I64(1, 0, 0, 0, 0, 0, 0, 0, 0), VALID(1, 1, 0, 1, 1, 1, 0, 1, 0), 9));
  expect_eq(f, "a or b", gft_int64_array(B, I64(1, 1, 1, 1, 0, 0, 1, 0, 0), VALID(1, 1, 1, 1, 1, 0, 1, 0, 0), 9));
  expect_eq(f, "not a", gft_int64_array(B, I64(0, 0, 0, 1, 1, 1, 0, 0, 0), VALID(1, 1, 1, 1, 1, 1, 0, 0, 0), 9));
  expect_eq(f, "a and null", gft_int64_array(B, I64(0, 0, 0, 0, 0, 0, 0, 0, 0), VALID(0, 0, 0, 1, 1, 1, 0, 0, 0), 9));
  expect_eq(f, "a or true", gft_int64_array(B, I64(1, 1, 1, 1, 1, 1, 1, 1, 1), NULL, 9));
  expect_eq(f, "a is null", gft_int64_array(B, I64(0, 0, 0, 0, 0, 0, 1, 1, 1), NULL, 9));
  expect_eq(f, "b is not null", gft_int64_array(B, I64(1, 1, 0, 1, 1, 0, 1, 1, 0), NULL, 9));
  expect_eq(f, "is_null(null)", gft_int64_array(B, I64(1, 1, 1, 1, 1, 1, 1, 1, 1), NULL, 9));
  gf_frame_release(f);
}

static void logic_on_odd_offsets_matches_reference(void **state) {
  (void)state;
  const int64_t n = 1000;
  const char *names[] = {"a", "b"};
  gf_array *cols[] = {random_sliced(GF_TYPE_BOOL, n, 21), random_sliced(GF_TYPE_BOOL, n, 22)};
  gf_frame *f = frame_of(2, names, cols);
  gf_array *a = gf_frame_column(f, 0, 0), *b = gf_frame_column(f, 0, 1);
  gf_array *rand_ = eval1(f, "a and b"), *ror = eval1(f, "a or not b");
  for (int64_t i = 0; i < n; i++) {
    int av = gf_array_is_null(a, i) ? 2 : gf_array_get_bool(a, i);
    int bv = gf_array_is_null(b, i) ? 2 : gf_array_get_bool(b, i);
    int want_and = (av == 0 || bv == 0) ? 0 : (av == 2 || bv == 2) ? 2 : 1;
    int nb = bv == 2 ? 2 : !bv;
    int want_or = (av == 1 || nb == 1) ? 1 : (av == 2 || nb == 2) ? 2 : 0;
    int got_and = gf_array_is_null(rand_, i) ? 2 : gf_array_get_bool(rand_, i);
    int got_or = gf_array_is_null(ror, i) ? 2 : gf_array_get_bool(ror, i);
    assert_int_equal(got_and, want_and);
    assert_int_equal(got_or, want_or);
  }
  gf_array_release(rand_);
  gf_array_release(ror);
  gf_frame_release(f);
}

static void between_in_and_if_follow_sql_nulls(void **state) {
  (void)state;
  const char *names[] = {"x", "s"};
  gf_array *cols[] = {ints(GF_TYPE_INT32, I64(1, 5, 10, 0, 3), VALID(1, 1, 1, 0, 1), 5),
                      gft_string_array(gf_type(GF_TYPE_UTF8), STRS("a", "b", NULL, "c", "a"), 5)};
  gf_frame *f = frame_of(2, names, cols);
  gf_datatype B = gf_type(GF_TYPE_BOOL);
  expect_eq(f, "x between 2 and 9", gft_int64_array(B, I64(0, 1, 0, 0, 1), VALID(1, 1, 1, 0, 1), 5));
  expect_eq(f, "x not between 2 and 9", gft_int64_array(B, I64(1, 0, 1, 0, 0), VALID(1, 1, 1, 0, 1), 5));
  expect_eq(f, "x in (1, 10)", gft_int64_array(B, I64(1, 0, 1, 0, 0), VALID(1, 1, 1, 0, 1), 5));
  /* A null in the list makes non-matches null, matches stay true. */
  expect_eq(f, "x in (1, null)", gft_int64_array(B, I64(1, 0, 0, 0, 0), VALID(1, 0, 0, 0, 0), 5));
  expect_eq(f, "s in ('a', 'c')", gft_int64_array(B, I64(1, 0, 0, 1, 1), VALID(1, 1, 0, 1, 1), 5));
  expect_eq(f, "if(x > 2, s, 'small')",
            gft_string_array(gf_type(GF_TYPE_UTF8), STRS("small", "b", NULL, "small", "a"), 5));
  expect_eq(f, "if(x > 2, x, 2.5)",
            gft_double_array(gf_type(GF_TYPE_FLOAT64), F64(2.5, 5, 10, 2.5, 3), NULL, 5));
  expect_eq(f, "if(x > 2, x * 10, null)",
            ints(GF_TYPE_INT64, I64(0, 50, 100, 0, 30), VALID(0, 1, 1, 0, 1), 5));
  /* coalesce: the first non-null argument, over the promoted type. */
  expect_eq(f, "coalesce(x, 7)", ints(GF_TYPE_INT64, I64(1, 5, 10, 7, 3), NULL, 5));
  expect_eq(f, "coalesce(null, x)", ints(GF_TYPE_INT32, I64(1, 5, 10, 0, 3), VALID(1, 1, 1, 0, 1), 5));
  expect_eq(f, "coalesce(x, 2.5)",
            gft_double_array(gf_type(GF_TYPE_FLOAT64), F64(1, 5, 10, 2.5, 3), NULL, 5));
  expect_eq(f, "coalesce(s, null, 'z')",
            gft_string_array(gf_type(GF_TYPE_UTF8), STRS("a", "b", "z", "c", "a"), 5));
  expect_eq(f, "coalesce(if(x > 4, null, x), x * 100, 0)",
            ints(GF_TYPE_INT64, I64(1, 500, 1000, 0, 3), NULL, 5));
  gf_frame_release(f);
}

static void math_functions(void **state) {
  (void)state;
  const char *names[] = {"i", "d"};
  gf_array *cols[] = {ints(GF_TYPE_INT64, I64(-3, 4, 1250, 0), VALID(1, 1, 1, 0), 4),
                      gft_double_array(gf_type(GF_TYPE_FLOAT64), F64(-2.5, 2.25, 16, 0.125), NULL, 4)};
  gf_frame *f = frame_of(2, names, cols);
  gf_datatype D = gf_type(GF_TYPE_FLOAT64);
  expect_eq(f, "abs(i)", ints(GF_TYPE_INT64, I64(3, 4, 1250, 0), VALID(1, 1, 1, 0), 4));
  expect_eq(f, "abs(d)", gft_double_array(D, F64(2.5, 2.25, 16, 0.125), NULL, 4));
  expect_eq(f, "round(d)", gft_double_array(D, F64(-3, 2, 16, 0), NULL, 4));
  expect_eq(f, "round(d, 1)", gft_double_array(D, F64(-2.5, 2.3, 16, 0.1), NULL, 4));
  expect_eq(f, "round(i, -2)", ints(GF_TYPE_INT64, I64(0, 0, 1300, 0), VALID(1, 1, 1, 0), 4));
  expect_eq(f, "floor(d)", gft_double_array(D, F64(-3, 2, 16, 0), NULL, 4));
  expect_eq(f, "ceil(d)", gft_double_array(D, F64(-2, 3, 16, 1), NULL, 4));
  expect_eq(f, "floor(i)", ints(GF_TYPE_INT64, I64(-3, 4, 1250, 0), VALID(1, 1, 1, 0), 4));
  expect_eq(f, "sqrt(d) = sqrt(d)", gft_int64_array(gf_type(GF_TYPE_BOOL), I64(0, 1, 1, 1), NULL, 4));
  expect_eq(f, "sqrt(abs(i))", gft_double_array(D, F64(sqrt(3.0), 2, sqrt(1250.0), 0), VALID(1, 1, 1, 0), 4));
  expect_eq(f, "exp(0) + log(1)", gft_double_array(D, F64(1, 1, 1, 1), NULL, 4));
  expect_eq(f, "pow(d, 2)", gft_double_array(D, F64(6.25, 5.0625, 256, 0.015625), NULL, 4));
  expect_eq(f, "pow(2, i)", gft_double_array(D, F64(0.125, 16, pow(2, 1250), 0), VALID(1, 1, 1, 0), 4));
  gf_frame_release(f);
}

static void string_functions(void **state) {
  (void)state;
  const char *names[] = {"s"};
  gf_array *cols[] = {gft_string_array(gf_type(GF_TYPE_UTF8), STRS("Hello", "día", NULL, "", "abcabc"), 5)};
  gf_frame *f = frame_of(1, names, cols);
  gf_datatype U = gf_type(GF_TYPE_UTF8), B = gf_type(GF_TYPE_BOOL);
  expect_eq(f, "length(s)", ints(GF_TYPE_INT64, I64(5, 3, 0, 0, 6), VALID(1, 1, 0, 1, 1), 5));
  expect_eq(f, "lower(s)", gft_string_array(U, STRS("hello", "día", NULL, "", "abcabc"), 5));
  expect_eq(f, "upper(s)", gft_string_array(U, STRS("HELLO", "DíA", NULL, "", "ABCABC"), 5));
  expect_eq(f, "contains(s, 'ca')", gft_int64_array(B, I64(0, 0, 0, 0, 1), VALID(1, 1, 0, 1, 1), 5));
  expect_eq(f, "contains(s, '')", gft_int64_array(B, I64(1, 1, 0, 1, 1), VALID(1, 1, 0, 1, 1), 5));
  expect_eq(f, "starts_with(s, 'He')", gft_int64_array(B, I64(1, 0, 0, 0, 0), VALID(1, 1, 0, 1, 1), 5));
  expect_eq(f, "ends_with(s, 'bc')", gft_int64_array(B, I64(0, 0, 0, 0, 1), VALID(1, 1, 0, 1, 1), 5));
  expect_eq(f, "substr(s, 2, 2)", gft_string_array(U, STRS("el", "ía", NULL, "", "bc"), 5));
  expect_eq(f, "substr(s, 3)", gft_string_array(U, STRS("llo", "a", NULL, "", "cabc"), 5));
  expect_eq(f, "substr(s, -2)", gft_string_array(U, STRS("lo", "ía", NULL, "", "bc"), 5));
  expect_eq(f, "s = 'día'", gft_int64_array(B, I64(0, 1, 0, 0, 0), VALID(1, 1, 0, 1, 1), 5));
  gf_frame_release(f);
}

static void date_functions_and_literals(void **state) {
  (void)state;
  const char *names[] = {"d", "ts"};
  /* 2024-01-31, 1969-12-31, 2000-02-29 */
  int64_t d0 = 19753, d1 = -1, d2 = 11016;
  gf_array *cols[] = {
      gft_int64_array(gf_type(GF_TYPE_DATE32), I64(d0, d1, d2), NULL, 3),
      gft_int64_array(gf_type_timestamp(GF_UNIT_MILLI, false, 0),
                      I64(d0 * 86400000 + 13 * 3600000, -1, d2 * 86400000 + 23 * 3600000 + 59), NULL, 3)};
  gf_frame *f = frame_of(2, names, cols);
  gf_datatype B = gf_type(GF_TYPE_BOOL);
  expect_eq(f, "year(d)", ints(GF_TYPE_INT64, I64(2024, 1969, 2000), NULL, 3));
  expect_eq(f, "month(d)", ints(GF_TYPE_INT64, I64(1, 12, 2), NULL, 3));
  expect_eq(f, "day(d)", ints(GF_TYPE_INT64, I64(31, 31, 29), NULL, 3));
  expect_eq(f, "hour(ts)", ints(GF_TYPE_INT64, I64(13, 23, 23), NULL, 3));
  expect_eq(f, "day(ts)", ints(GF_TYPE_INT64, I64(31, 31, 29), NULL, 3));
  expect_eq(f, "d >= date '2000-02-29'", gft_int64_array(B, I64(1, 0, 1), NULL, 3));
  expect_eq(f, "d < '2000-03-01'", gft_int64_array(B, I64(0, 1, 1), NULL, 3));
  expect_eq(f, "ts > date '2024-01-31'", gft_int64_array(B, I64(1, 0, 0), NULL, 3));
  expect_eq(f, "ts = '2024-01-31 13:00:00'", gft_int64_array(B, I64(1, 0, 0), NULL, 3));
  expect_eq(f, "ts > d", gft_int64_array(B, I64(1, 1, 1), NULL, 3));
  expect_eq(f, "cast(d as utf8)",
            gft_string_array(gf_type(GF_TYPE_UTF8), STRS("2024-01-31", "1969-12-31", "2000-02-29"), 3));
  expect_eq(f, "cast(ts as date) = d", gft_int64_array(B, I64(1, 1, 1), NULL, 3));
  gf_frame_release(f);
}

static void casts_convert_or_give_null(void **state) {
  (void)state;
  const char *names[] = {"s", "i", "d"};
  gf_array *cols[] = {gft_string_array(gf_type(GF_TYPE_UTF8), STRS("12", "x", "-3", "300", "2.5"), 5),
                      ints(GF_TYPE_INT64, I64(1, 300, -129, 0, 7), NULL, 5),
                      gft_double_array(gf_type(GF_TYPE_FLOAT64), F64(1.9, -1.9, NAN, 1e30, 0), NULL, 5)};
  gf_frame *f = frame_of(3, names, cols);
  expect_eq(f, "cast(s as int64)", ints(GF_TYPE_INT64, I64(12, 0, -3, 300, 0), VALID(1, 0, 1, 1, 0), 5));
  expect_eq(f, "cast(s as float64)",
            gft_double_array(gf_type(GF_TYPE_FLOAT64), F64(12, 0, -3, 300, 2.5), VALID(1, 0, 1, 1, 1), 5));
  expect_eq(f, "cast(i as int8)", ints(GF_TYPE_INT8, I64(1, 0, 0, 0, 7), VALID(1, 0, 0, 1, 1), 5));
  expect_eq(f, "cast(d as int32)", ints(GF_TYPE_INT32, I64(1, -1, 0, 0, 0), VALID(1, 1, 0, 0, 1), 5));
  expect_eq(f, "cast(i as utf8)",
            gft_string_array(gf_type(GF_TYPE_UTF8), STRS("1", "300", "-129", "0", "7"), 5));
  expect_eq(f, "cast(i as bool)", gft_int64_array(gf_type(GF_TYPE_BOOL), I64(1, 1, 1, 0, 1), NULL, 5));
  expect_eq(f, "cast(cast(i as float32) as float64)",
            gft_double_array(gf_type(GF_TYPE_FLOAT64), F64(1, 300, -129, 0, 7), NULL, 5));
  expect_eq(f, "cast('2024-01-31' as date) = date '2024-01-31'",
            gft_int64_array(gf_type(GF_TYPE_BOOL), I64(1, 1, 1, 1, 1), NULL, 5));
  gf_frame_release(f);
}

static void dictionary_columns_compare_by_code(void **state) {
  (void)state;
  gf_datatype dt = gf_type_dictionary(gf_type(GF_TYPE_UTF8));
  const char *names[] = {"k"};
  gf_array *cols[] = {gft_string_array(dt, STRS("id1", "id2", NULL, "id1", "id3", "id2"), 6)};
  gf_frame *f = frame_of(1, names, cols);
  gf_datatype B = gf_type(GF_TYPE_BOOL);
  expect_eq(f, "k = 'id1'", gft_int64_array(B, I64(1, 0, 0, 1, 0, 0), VALID(1, 1, 0, 1, 1, 1), 6));
  expect_eq(f, "'id2' != k", gft_int64_array(B, I64(1, 0, 0, 1, 1, 0), VALID(1, 1, 0, 1, 1, 1), 6));
  expect_eq(f, "k = 'nope'", gft_int64_array(B, I64(0, 0, 0, 0, 0, 0), VALID(1, 1, 0, 1, 1, 1), 6));
  expect_eq(f, "k in ('id3', 'id1')", gft_int64_array(B, I64(1, 0, 0, 1, 1, 0), VALID(1, 1, 0, 1, 1, 1), 6));
  expect_eq(f, "k > 'id1'", gft_int64_array(B, I64(0, 1, 0, 0, 1, 1), VALID(1, 1, 0, 1, 1, 1), 6));
  expect_eq(f, "upper(k)", gft_string_array(gf_type(GF_TYPE_UTF8), STRS("ID1", "ID2", NULL, "ID1", "ID3", "ID2"), 6));
  /* A bare dictionary column evaluates to itself, dictionary kept. */
  gf_array *r = eval1(f, "k");
  assert_int_equal(gf_array_type(r).id, GF_TYPE_DICTIONARY);
  assert_ptr_equal(gf_array_dictionary(r), gf_array_dictionary(gf_frame_column(f, 0, 0)));
  gf_array_release(r);
  gf_frame_release(f);
}

static void evaluate_is_identical_for_any_workers_and_chunks(void **state) {
  (void)state;
  gf_datatype types[] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_FLOAT64), gf_type(GF_TYPE_UTF8),
                         gf_type(GF_TYPE_INT32), gf_type_dictionary(gf_type(GF_TYPE_UTF8))};
  gf_frame *f;
  assert_int_equal(gft_random_frame(types, 5, 20011, 3, 0.1, 99, NULL, &f), GF_OK);
  const char *exprs[] = {"c0 * 2 + c3 > c1", "upper(c2)", "if(c3 > 0, c1, c0 / 7)", "c4 = c4",
                         "cast(c0 as utf8)", "c0 % 13 = 0 or c2 is null"};
  for (size_t e = 0; e < sizeof exprs / sizeof exprs[0]; e++) {
    gf_array *ref = eval_opts(f, exprs[e], 1, 0);
    const int workers[] = {1, 2, 3, 8};
    const int64_t chunks[] = {0, 1000, 4097, 65536};
    for (int w = 0; w < 4; w++) {
      for (int c = 0; c < 4; c++) {
        gf_array *got = eval_opts(f, exprs[e], workers[w], chunks[c]);
        if (!gf_array_equals(ref, got)) fail_msg("%s differs at %d workers, chunk %lld", exprs[e], workers[w], (long long)chunks[c]);
        gf_array_release(got);
      }
    }
    gf_array_release(ref);
  }
  gf_frame_release(f);
}

static void evaluate_handles_empty_frames(void **state) {
  (void)state;
  const char *names[] = {"a"};
  gf_array *cols[] = {ints(GF_TYPE_INT64, I64(0), NULL, 0)};
  gf_frame *f = frame_of(1, names, cols);
  gf_expr *e;
  assert_int_equal(gf_expr_parse("a + 1 > 2", &e, NULL), GF_OK);
  gf_frame *r;
  assert_int_equal(gf_evaluate(f, e, NULL, NULL, &r, NULL), GF_OK);
  assert_int_equal(gf_frame_num_rows(r), 0);
  assert_string_equal(gf_schema_field(gf_frame_schema(r), 0)->name, "a + 1 > 2");
  assert_int_equal(gf_schema_field(gf_frame_schema(r), 0)->type.id, GF_TYPE_BOOL);
  gf_frame_release(r);
  gf_expr_release(e);
  gf_frame_release(f);
}

/* One gf_evaluate under a failing allocator (gft_alloc_sweep callback). */
typedef struct eval_sweep {
  const gf_frame *f, *want;
  const gf_expr *e;
  gf_parallel_options o;
} eval_sweep;

static gf_status evaluate_once(void *user, const gf_allocator *a) {
  eval_sweep *s = user;
  s->o.allocator = a;
  gf_frame *r = NULL;
  gf_error err;
  gf_status st = gf_evaluate(s->f, s->e, "r", &s->o, &r, &err);
  if (st == GF_OK) {
    if (!gf_frame_equals(r, s->want)) fail_msg("%s: wrong result", gft_sweep_at());
    gf_frame_release(r);
  } else {
    assert_null(r);
  }
  return st;
}

/* Every allocation of an evaluation failed, one-off and persistent:
 * GF_ENOMEM, nothing leaked, the right values once it runs clean. */
static void evaluate_survives_allocation_failures(void **state) {
  (void)state;
  gf_datatype types[] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_UTF8), gf_type(GF_TYPE_FLOAT64)};
  gf_frame *f;
  assert_int_equal(gft_random_frame(types, 3, 3000, 2, 0.1, 5, NULL, &f), GF_OK);
  const char *exprs[] = {"c0 / 3 + 1 > c2 and not c1 is null", "upper(c1) = 'AB' or length(c1) > 3",
                         "if(c0 > 0, cast(c0 as utf8), c1)"};
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts counts = {0};
  for (size_t k = 0; k < sizeof exprs / sizeof exprs[0]; k++) {
    gf_expr *e;
    assert_int_equal(gf_expr_parse(exprs[k], &e, NULL), GF_OK);
    for (int w = 1; w <= 3; w += 2) {
      eval_sweep s = {f, NULL, e, {0}};
      gf_parallel_options_init(&s.o);
      s.o.num_workers = w;
      s.o.chunk_rows = 700;
      s.o.min_parallel_rows = 0;
      gf_frame *want = NULL;
      assert_int_equal(gf_evaluate(f, e, "r", &s.o, &want, NULL), GF_OK);
      s.want = want;
      gft_alloc_sweep(exprs[k], fa, evaluate_once, &s, &counts);
      gf_frame_release(want);
    }
    gf_expr_release(e);
  }
  gft_sweep_print("evaluate", &counts);
  gf_failing_allocator_free(fa);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(arithmetic_matches_scalar_reference),
      cmocka_unit_test(integer_division_by_zero_is_null),
      cmocka_unit_test(comparisons_match_scalar_reference),
      cmocka_unit_test(int_column_against_float_literal_is_exact),
      cmocka_unit_test(kleene_truth_tables),
      cmocka_unit_test(logic_on_odd_offsets_matches_reference),
      cmocka_unit_test(between_in_and_if_follow_sql_nulls),
      cmocka_unit_test(math_functions),
      cmocka_unit_test(string_functions),
      cmocka_unit_test(date_functions_and_literals),
      cmocka_unit_test(casts_convert_or_give_null),
      cmocka_unit_test(dictionary_columns_compare_by_code),
      cmocka_unit_test(evaluate_is_identical_for_any_workers_and_chunks),
      cmocka_unit_test(evaluate_handles_empty_frames),
      cmocka_unit_test(evaluate_survives_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
