/* Long flat expressions and huge in-lists: chains parse, bind and evaluate
 * (on worker threads too) to what a naive loop computes, past the 1,000
 * levels that were once the limit (100,000-term chains on a small stack:
 * test_expr_chains); a 40,000-item in-list works. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gopherframe.h"

enum { ROWS = 20000 };

/* One int64 column "v" = i mod 97 for i < rows. */
static gf_frame *frame_rows(int rows) {
  int64_t *v = malloc(sizeof *v * (size_t)rows);
  for (int i = 0; i < rows; i++) v[i] = i % 97;
  gf_array *a = NULL;
  gf_builder *b = NULL;
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_INT64), NULL, &b, NULL), GF_OK);
  for (int i = 0; i < rows; i++) assert_int_equal(gf_builder_append_int64(b, v[i], NULL), GF_OK);
  assert_int_equal(gf_builder_finish(b, &a, NULL), GF_OK);
  gf_builder_free(b);
  free(v);
  const char *names[] = {"v"};
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_from_columns(names, &a, 1, &f, NULL), GF_OK);
  gf_array_release(a);
  return f;
}

static gf_frame *frame_v(void) { return frame_rows(ROWS); }

/* "v OP v OP ... v" with n terms. */
static char *chain(const char *term, const char *op, int n) {
  size_t cap = (size_t)n * (strlen(term) + strlen(op)) + 1;
  char *s = malloc(cap), *p = s;
  for (int i = 0; i < n; i++) p += sprintf(p, "%s%s", i ? op : "", term);
  return s;
}

static gf_array *eval_col(const gf_frame *f, const gf_expr *e, int workers) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.chunk_rows = 1024;
  gf_frame *out = NULL;
  gf_error err;
  gf_status st = gf_evaluate(f, e, "x", &po, &out, &err);
  if (st != GF_OK) fail_msg("evaluate: %s", err.message);
  gf_frame *one = NULL;
  assert_int_equal(gf_frame_combine_batches(out, NULL, &one, NULL), GF_OK);
  gf_array *a = gf_array_retain(gf_frame_column(one, 0, 0));
  gf_frame_release(one);
  gf_frame_release(out);
  return a;
}

static void chain_of_1000_terms_evaluates_everywhere(void **state) {
  (void)state;
  gf_frame *f = frame_v();
  char *text = chain("v", " + ", 1000); /* 999 operators: height 1000 */
  gf_expr *e = NULL;
  gf_error err;
  assert_int_equal(gf_expr_parse(text, &e, &err), GF_OK);
  for (int w = 1; w <= 8; w *= 2) {
    gf_array *a = eval_col(f, e, w);
    for (int64_t i = 0; i < ROWS; i++) assert_int_equal(gf_array_get_int64(a, i), 1000 * (i % 97));
    gf_array_release(a);
  }
  gf_expr_release(e);
  free(text);
  gf_frame_release(f);
}

/* The reproductions of issue 14 item 1, refused (GF_EPARSE "expression
 * too deep") while every pass recursed once per level, now parse; their
 * evaluation at 100,000 terms on a small stack is test_expr_chains. */
static void former_depth_limits_now_parse(void **state) {
  (void)state;
  struct { const char *term, *op; int n; } cases[] = {
      {"v", " + ", 1001}, {"v", "+", 10000}, {"v = 1", " or ", 10000},
      {"v > 1", " and ", 5000}, {"v", " * ", 2000}, {"count()", "+", 8000},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    char *text = chain(cases[k].term, cases[k].op, cases[k].n);
    gf_expr *e = NULL;
    gf_error err;
    gf_error_clear(&err);
    if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("case %zu: %s", k, err.message);
    gf_expr_release(e);
    free(text);
  }
}

static void constructors_build_past_the_old_limit(void **state) {
  (void)state;
  gf_expr *e = gf_col("v");
  for (int i = 1; i < 5000; i++) e = gf_add(e, gf_lit_int64(1));
  assert_non_null(e);
  gf_frame *f = frame_v();
  gf_array *a = eval_col(f, e, 2);
  for (int64_t i = 0; i < ROWS; i++) assert_int_equal(gf_array_get_int64(a, i), i % 97 + 4999);
  gf_array_release(a);
  gf_frame_release(f);
  gf_expr_release(e);
  /* A tall argument of gf_in. */
  gf_expr *x = gf_col("v");
  for (int i = 0; i < 2000; i++) x = gf_neg(x);
  assert_non_null(x);
  gf_expr *item = gf_lit_int64(1);
  gf_expr *in = gf_in(x, &item, 1);
  assert_non_null(in);
  gf_expr_release(in);
}

static void in_list_of_40000_items(void **state) {
  (void)state;
  enum { IN_ROWS = 3000 }; /* every row meets all 40,000 comparisons */
  gf_frame *f = frame_rows(IN_ROWS);
  enum { N = 40000 };
  gf_expr **items = malloc(sizeof *items * N);
  /* Even numbers from -20000 on: v in the list iff v is even. */
  for (int i = 0; i < N; i++) items[i] = gf_lit_int64(2 * (int64_t)i - 20000);
  gf_expr *e = gf_in(gf_col("v"), items, N);
  free(items);
  assert_non_null(e);
  for (int w = 1; w <= 4; w *= 2) {
    gf_array *a = eval_col(f, e, w);
    for (int64_t i = 0; i < IN_ROWS; i++) assert_int_equal(gf_array_get_bool(a, i), (i % 97) % 2 == 0);
    gf_array_release(a);
  }
  /* And as text. */
  char *text = malloc((size_t)N * 8 + 32), *p = text;
  p += sprintf(p, "v in (");
  for (int i = 0; i < N; i++) p += sprintf(p, "%s%d", i ? "," : "", 2 * i - 20000);
  sprintf(p, ")");
  gf_expr *t = NULL;
  gf_error err;
  assert_int_equal(gf_expr_parse(text, &t, &err), GF_OK);
  assert_true(gf_expr_equals(t, e));
  gf_expr_release(t);
  free(text);
  gf_expr_release(e);
  gf_frame_release(f);
}

/* A chain of negations prints without a parenthesis per level, so it reads
 * back under the parser's nesting cap (found by fuzz_expr's shape mutator:
 * 500 negations printed as -(-(...)) did not parse). */
static void negation_chains_round_trip(void **state) {
  (void)state;
  const char *leaves[] = {"v", "5", "-5", "2.5", "abs(v)"};
  for (size_t k = 0; k < sizeof leaves / sizeof *leaves; k++) {
    for (int n = 1; n <= 500; n += 499) {
      char *text = malloc((size_t)n * 2 + 16), *p = text;
      for (int i = 0; i < n; i++) p += sprintf(p, "- ");
      sprintf(p, "%s", leaves[k]);
      gf_expr *e = NULL, *back = NULL;
      gf_error err;
      assert_int_equal(gf_expr_parse(text, &e, &err), GF_OK);
      char *printed = NULL;
      assert_int_equal(gf_expr_to_string(e, &printed, NULL), GF_OK);
      if (gf_expr_parse(printed, &back, &err) != GF_OK)
        fail_msg("'%.60s...' does not parse back: %s", printed, err.message);
      assert_true(gf_expr_equals(e, back));
      gf_mem_free(printed);
      gf_expr_release(back);
      gf_expr_release(e);
      free(text);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(chain_of_1000_terms_evaluates_everywhere),
      cmocka_unit_test(former_depth_limits_now_parse),
      cmocka_unit_test(constructors_build_past_the_old_limit),
      cmocka_unit_test(in_list_of_40000_items),
      cmocka_unit_test(negation_chains_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
