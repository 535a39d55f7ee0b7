/* Projection: gf_select (zero-copy, errors) and gf_with_columns (add and
 * replace computed columns, batch alignment, errors, allocation failures). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "expr/expr_internal.h"
#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe/testing.h"

static gf_frame *sample(void) {
  gf_datatype types[] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_UTF8), gf_type(GF_TYPE_FLOAT64)};
  gf_frame *f;
  assert_int_equal(gft_random_frame(types, 3, 10000, 3, 0.1, 42, NULL, &f), GF_OK);
  return f;
}

static void select_shares_columns_in_requested_order(void **state) {
  (void)state;
  gf_frame *f = sample();
  const char *names[] = {"c2", "c0"};
  gf_frame *r;
  assert_int_equal(gf_select(f, names, 2, &r, NULL), GF_OK);
  assert_int_equal(gf_frame_num_columns(r), 2);
  assert_int_equal(gf_frame_num_batches(r), 3);
  assert_string_equal(gf_schema_field(gf_frame_schema(r), 0)->name, "c2");
  for (int b = 0; b < 3; b++) {
    assert_ptr_equal(gf_frame_column(r, b, 0), gf_frame_column(f, b, 2));
    assert_ptr_equal(gf_frame_column(r, b, 1), gf_frame_column(f, b, 0));
  }
  gf_frame_release(r);
  gf_error err;
  const char *bad[] = {"c0", "zz"};
  r = NULL;
  assert_int_equal(gf_select(f, bad, 2, &r, &err), GF_EINVAL);
  assert_string_equal(err.message, "unknown column 'zz'");
  assert_null(r);
  const char *dup[] = {"c1", "c1"};
  assert_int_equal(gf_select(f, dup, 2, &r, &err), GF_EINVAL);
  assert_string_equal(err.message, "column 'c1' selected twice");
  gf_frame_release(f);
}

static void with_columns_adds_and_replaces(void **state) {
  (void)state;
  gf_frame *f = sample();
  const char *names[] = {"c0", "twice"};
  gf_expr *exprs[2];
  assert_int_equal(gf_expr_parse("c0 + 1", &exprs[0], NULL), GF_OK);
  assert_int_equal(gf_expr_parse("c2 * 2", &exprs[1], NULL), GF_OK);
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = 3;
  o.chunk_rows = 1234;
  o.min_parallel_rows = 0;
  gf_frame *r;
  assert_int_equal(gf_with_columns(f, names, exprs, 2, &o, &r, NULL), GF_OK);
  assert_int_equal(gf_frame_num_columns(r), 4);
  assert_int_equal(gf_frame_num_batches(r), 3);
  const gf_schema *s = gf_frame_schema(r);
  assert_string_equal(gf_schema_field(s, 0)->name, "c0");
  assert_string_equal(gf_schema_field(s, 3)->name, "twice");
  assert_int_equal(gf_schema_field(s, 3)->type.id, GF_TYPE_FLOAT64);
  for (int b = 0; b < 3; b++) {
    const gf_array *in0 = gf_frame_column(f, b, 0), *out0 = gf_frame_column(r, b, 0);
    const gf_array *in2 = gf_frame_column(f, b, 2), *tw = gf_frame_column(r, b, 3);
    assert_ptr_equal(gf_frame_column(r, b, 1), gf_frame_column(f, b, 1));
    assert_int_equal(gf_array_length(out0), gf_array_length(in0));
    for (int64_t i = 0; i < gf_array_length(in0); i++) {
      assert_int_equal(gf_array_is_null(out0, i), gf_array_is_null(in0, i));
      if (!gf_array_is_null(in0, i))
        assert_int_equal(gf_array_get_int64(out0, i), gf_array_get_int64(in0, i) + 1);
      assert_int_equal(gf_array_is_null(tw, i), gf_array_is_null(in2, i));
      if (!gf_array_is_null(in2, i))
        assert_true(gf_array_get_double(tw, i) == gf_array_get_double(in2, i) * 2);
    }
  }
  gf_frame_release(r);
  /* Errors: types checked before running; duplicate names refused. */
  gf_expr *bad;
  assert_int_equal(gf_expr_parse("c1 + 1", &bad, NULL), GF_OK);
  gf_error err;
  const char *n1[] = {"x"};
  r = NULL;
  assert_int_equal(gf_with_columns(f, n1, &bad, 1, NULL, &r, &err), GF_ETYPE);
  assert_null(r);
  gf_expr_release(bad);
  const char *n2[] = {"x", "x"};
  assert_int_equal(gf_with_columns(f, n2, exprs, 2, NULL, &r, &err), GF_EINVAL);
  gf_expr_release(exprs[0]);
  gf_expr_release(exprs[1]);
  gf_frame_release(f);
}

/* One gf_with_columns under a failing allocator (gft_alloc_sweep callback). */
typedef struct with_sweep {
  const gf_frame *f, *want;
  const char *const *names;
  gf_expr *const *exprs;
  gf_parallel_options o;
} with_sweep;

static gf_status with_columns_once(void *user, const gf_allocator *a) {
  with_sweep *s = user;
  s->o.allocator = a;
  gf_frame *r = NULL;
  gf_status st = gf_with_columns(s->f, s->names, s->exprs, 2, &s->o, &r, NULL);
  if (st == GF_OK) {
    if (!gf_frame_equals(r, s->want)) fail_msg("%s: wrong result", gft_sweep_at());
    gf_frame_release(r);
  } else {
    assert_null(r);
  }
  return st;
}

/* Every allocation of with_columns failed, one-off and persistent:
 * GF_ENOMEM, nothing leaked, the right frame once it runs clean. */
static void with_columns_survives_allocation_failures(void **state) {
  (void)state;
  gf_frame *f = sample();
  const char *names[] = {"u", "c2"};
  gf_expr *exprs[2];
  assert_int_equal(gf_expr_parse("upper(c1)", &exprs[0], NULL), GF_OK);
  assert_int_equal(gf_expr_parse("c2 + c0", &exprs[1], NULL), GF_OK);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  with_sweep s = {f, NULL, names, exprs, {0}};
  gf_parallel_options_init(&s.o);
  s.o.num_workers = 2;
  s.o.chunk_rows = 3000;
  s.o.min_parallel_rows = 0;
  gf_frame *want = NULL;
  assert_int_equal(gf_with_columns(f, names, exprs, 2, &s.o, &want, NULL), GF_OK);
  s.want = want;
  gft_sweep_counts counts = {0};
  gft_alloc_sweep("with_columns", fa, with_columns_once, &s, &counts);
  gft_sweep_print("with_columns", &counts);
  gf_frame_release(want);
  gf_failing_allocator_free(fa);
  gf_expr_release(exprs[0]);
  gf_expr_release(exprs[1]);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(select_shares_columns_in_requested_order),
      cmocka_unit_test(with_columns_adds_and_replaces),
      cmocka_unit_test(with_columns_survives_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
