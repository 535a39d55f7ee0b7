/* Flat chains of 100,000 terms on a small stack (issue 14 item 1, fuzz
 * finding 9): left-deep (a + a + ... + a, x or x or ..., x and x and ...),
 * right-deep (built with the constructors: a + (a + (...))) and unary runs
 * (- - - x, not not ... x) go through parse, bind, evaluate, the predicate
 * paths, to_string, equals and release inside a thread whose stack is
 * 256 KiB, so a walk that recurses once per term crashes this test. Values
 * are checked against a naive loop over the rows (nulls hold garbage), at
 * 1, 2, 3 and 8 workers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_internal.h"
#include "gf_test_garbage.h"
#include "gopherframe.h"

enum { N = 100000, ROWS = 300, SMALL_STACK = 256 * 1024 };

/* Column v: (i % 23) - 11, null when i % 7 == 3 (garbage under the nulls
 * in the frame the tests use). */
static bool v_null(int64_t i) { return i % 7 == 3; }
static int64_t v_at(int64_t i) { return (i % 23) - 11; }

static gf_frame *make_frame(void) {
  gf_builder *b = NULL;
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_INT64), NULL, &b, NULL), GF_OK);
  for (int64_t i = 0; i < ROWS; i++) {
    if (v_null(i)) assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
    else assert_int_equal(gf_builder_append_int64(b, v_at(i), NULL), GF_OK);
  }
  gf_array *a = NULL;
  assert_int_equal(gf_builder_finish(b, &a, NULL), GF_OK);
  gf_builder_free(b);
  const char *names[] = {"v"};
  gf_frame *clean = NULL;
  assert_int_equal(gf_frame_from_columns(names, &a, 1, &clean, NULL), GF_OK);
  gf_array_release(a);
  gf_frame *g = gft_garbage_frame(clean, 14);
  gf_frame_release(clean);
  assert_true(gft_garbage_arrays_made() > 0);
  return g;
}

/* Expected value of row i: null flag and value (bool as 0/1). */
typedef struct want { bool null; int64_t v; } want;

/* The shapes. Terms are numbered k = 0..N-1. */
enum shape {
  ADD_LEFT,   /* text "v + v + ... + v" */
  OR_LEFT,    /* text "v = c0 or v = c1 or ...", ck = k % 41 - 30 */
  AND_LEFT,   /* text "v > d0 and v > d1 and ...", dk = -(k % 9) - 2 */
  NEG_RUN,    /* text "- - ... - v" (N signs) */
  NOT_RUN,    /* text "not not ... not v > 0" (N nots) */
  ADD_RIGHT,  /* constructors: v + (v + (... + v)) */
  OR_RIGHT,   /* constructors: (v = c0) or ((v = c1) or (...)) */
  NSHAPES
};
static const char *const shape_names[] = {"add_left", "or_left", "and_left", "neg_run",
                                          "not_run", "add_right", "or_right"};

static int64_t ck(int k) { return k % 41 - 30; }
static int64_t dk(int k) { return -(k % 9) - 2; }

/* The naive loop: row by row, term by term, with SQL's three-valued logic. */
static want expected(enum shape s, int64_t i) {
  want w = {v_null(i), 0};
  int64_t v = v_at(i);
  switch (s) {
    case ADD_LEFT:
    case ADD_RIGHT: {
      int64_t acc = 0;
      for (int k = 0; k < N; k++) acc += v;
      w.v = acc;
      return w;
    }
    case OR_LEFT:
    case OR_RIGHT: {
      /* Kleene or of (v = ck): true if any term is true, null when v is. */
      bool any = false;
      for (int k = 0; k < N && !w.null; k++) any = any || v == ck(k);
      w.v = any;
      return w;
    }
    case AND_LEFT: {
      bool all = true;
      for (int k = 0; k < N && !w.null; k++) all = all && v > dk(k);
      w.v = all;
      return w;
    }
    case NEG_RUN: {
      int64_t x = v;
      for (int k = 0; k < N; k++) x = -x;
      w.v = x;
      return w;
    }
    case NOT_RUN: {
      bool x = v > 0;
      for (int k = 0; k < N; k++) x = !x;
      w.v = x;
      return w;
    }
    default: return w;
  }
}

static void put(char **p, const char *s) {
  size_t n = strlen(s);
  memcpy(*p, s, n);
  *p += n;
}

/* The text of a left-deep shape or run. */
static char *shape_text(enum shape s) {
  char *t = malloc((size_t)N * 24 + 64), *p = t, tmp[48];
  for (int k = 0; k < N; k++) {
    switch (s) {
      case ADD_LEFT: put(&p, k ? " + v" : "v"); break;
      case OR_LEFT:
        snprintf(tmp, sizeof tmp, "%sv = %lld", k ? " or " : "", (long long)ck(k));
        put(&p, tmp);
        break;
      case AND_LEFT:
        snprintf(tmp, sizeof tmp, "%sv > %lld", k ? " and " : "", (long long)dk(k));
        put(&p, tmp);
        break;
      case NEG_RUN: put(&p, "- "); break;
      case NOT_RUN: put(&p, "not "); break;
      default: break;
    }
  }
  if (s == NEG_RUN) put(&p, "v");
  if (s == NOT_RUN) put(&p, "v > 0");
  *p = 0;
  return t;
}

/* The same tree through the constructors (left-deep, runs and right-deep). */
static gf_expr *shape_built(enum shape s) {
  gf_expr *e = NULL;
  switch (s) {
    case ADD_LEFT:
      e = gf_col("v");
      for (int k = 1; k < N; k++) e = gf_add(e, gf_col("v"));
      return e;
    case OR_LEFT:
      e = gf_eq(gf_col("v"), gf_lit_int64(ck(0)));
      for (int k = 1; k < N; k++) e = gf_or(e, gf_eq(gf_col("v"), gf_lit_int64(ck(k))));
      return e;
    case AND_LEFT:
      e = gf_gt(gf_col("v"), gf_lit_int64(dk(0)));
      for (int k = 1; k < N; k++) e = gf_and(e, gf_gt(gf_col("v"), gf_lit_int64(dk(k))));
      return e;
    case NEG_RUN:
      e = gf_col("v");
      for (int k = 0; k < N; k++) e = gf_neg(e);
      return e;
    case NOT_RUN:
      e = gf_gt(gf_col("v"), gf_lit_int64(0));
      for (int k = 0; k < N; k++) e = gf_not(e);
      return e;
    case ADD_RIGHT:
      e = gf_col("v");
      for (int k = 1; k < N; k++) e = gf_add(gf_col("v"), e);
      return e;
    case OR_RIGHT:
      e = gf_eq(gf_col("v"), gf_lit_int64(ck(N - 1)));
      for (int k = N - 2; k >= 0; k--) e = gf_or(gf_eq(gf_col("v"), gf_lit_int64(ck(k))), e);
      return e;
    default: return NULL;
  }
}

/* What the small-stack thread reports back (cmocka must not longjmp out of
 * another thread). */
typedef struct job {
  const gf_frame *f;
  enum shape s;
  char *printed; /* right-deep shapes: the text, for the caller */
  char fail[1200];
} job;

#define CHECK(j, cond, ...)                                      \
  do {                                                           \
    if (!(cond)) {                                               \
      snprintf((j)->fail, sizeof (j)->fail, __VA_ARGS__);        \
      goto out;                                                  \
    }                                                            \
  } while (0)

/* Compares array a (rows of the frame, in order) with the naive loop. */
static bool matches(enum shape s, const gf_array *a, int64_t *bad) {
  if (gf_array_length(a) != ROWS) {
    *bad = -1;
    return false;
  }
  for (int64_t i = 0; i < ROWS; i++) {
    want w = expected(s, i);
    bool isnull = gf_array_is_null(a, i);
    int64_t got = isnull ? 0
                  : a->type.id == GF_TYPE_BOOL ? gf_array_get_bool(a, i)
                                               : gf_array_get_int64(a, i);
    if (isnull != w.null || (!w.null && got != w.v)) {
      *bad = i;
      return false;
    }
  }
  return true;
}

/* Everything for one shape, on the small stack. */
static void *run_shape(void *arg) {
  job *j = arg;
  enum shape s = j->s;
  gf_expr *e = NULL, *built = NULL, *back = NULL;
  gf_bound_expr *b = NULL;
  gf_frame *ev = NULL, *one = NULL, *filtered = NULL;
  gf_array *arr = NULL;
  char *text = NULL, *printed = NULL;
  int32_t *sel = NULL;
  gf_error err;
  gf_error_clear(&err);
  bool text_shape = s != ADD_RIGHT && s != OR_RIGHT;
  built = shape_built(s);
  CHECK(j, built, "constructors returned NULL");
  if (text_shape) {
    text = shape_text(s);
    CHECK(j, gf_expr_parse(text, &e, &err) == GF_OK, "parse: %.400s", err.message);
    CHECK(j, gf_expr_equals(e, built), "parsed tree differs from the constructed one");
  } else {
    e = gf_expr_retain(built);
  }
  /* to_string: the left-deep shapes and runs print without a parenthesis
   * per level and parse back equal. A right-deep chain prints with one
   * parenthesis per level; parenthesis nesting is the parser's own cap
   * (512 levels, ~0.4 MiB of stack at the cap), checked on the main
   * thread by the caller. */
  CHECK(j, gf_expr_to_string(e, &printed, &err) == GF_OK, "to_string: %.400s", err.message);
  if (text_shape) {
    CHECK(j, gf_expr_parse(printed, &back, &err) == GF_OK,
          "printed text does not parse back: %.400s", err.message);
    CHECK(j, gf_expr_equals(e, back), "printed text parses back to another tree");
  } else {
    j->printed = printed;
    printed = NULL;
  }
  /* bind and evaluate one batch in this thread (the internal entry
   * points, so no pool thread with a big stack does the work). */
  const gf_schema *sc = gf_frame_schema(j->f);
  CHECK(j, gf_expr_bind(e, sc, &b, &err) == GF_OK, "bind: %.400s", err.message);
  gf_array *const *cols = j->f->columns; /* one batch */
  CHECK(j, gfi_eval_batch(b, cols, 0, ROWS, NULL, 0, NULL, &arr, &err) == GF_OK,
        "eval: %.400s", err.message);
  int64_t bad = 0;
  CHECK(j, matches(s, arr, &bad), "eval_batch differs at row %lld", (long long)bad);
  if (gf_bound_expr_type(b).id == GF_TYPE_BOOL) {
    (void)gfi_predicate_skips(b, cols);
    sel = malloc(sizeof *sel * ROWS);
    int64_t nsel = 0;
    CHECK(j, gfi_eval_predicate(b, cols, 0, ROWS, sel, &nsel, NULL, &err) == GF_OK,
          "predicate: %.400s", err.message);
    int64_t want_n = 0;
    for (int64_t i = 0; i < ROWS; i++) {
      want w = expected(s, i);
      if (!w.null && w.v) {
        CHECK(j, want_n < nsel && sel[want_n] == i, "predicate selection differs at row %lld",
              (long long)i);
        want_n++;
      }
    }
    CHECK(j, nsel == want_n, "predicate selected %lld rows, want %lld", (long long)nsel,
          (long long)want_n);
  }
  /* The public calls, at several worker counts and chunk sizes. */
  int workers[] = {1, 2, 3, 8};
  for (int w = 0; w < 4; w++) {
    gf_parallel_options po;
    gf_parallel_options_init(&po);
    po.num_workers = workers[w];
    po.chunk_rows = w == 3 ? 7 : 64;
    CHECK(j, gf_evaluate(j->f, e, "x", &po, &ev, &err) == GF_OK, "gf_evaluate: %.400s", err.message);
    CHECK(j, gf_frame_combine_batches(ev, NULL, &one, &err) == GF_OK, "combine: %.400s", err.message);
    CHECK(j, matches(s, gf_frame_column(one, 0, 0), &bad),
          "gf_evaluate (%d workers) differs at row %lld", workers[w], (long long)bad);
    gf_frame_release(one);
    gf_frame_release(ev);
    one = ev = NULL;
    if (gf_bound_expr_type(b).id == GF_TYPE_BOOL) {
      CHECK(j, gf_filter(j->f, e, &po, &filtered, &err) == GF_OK, "gf_filter: %.400s", err.message);
      int64_t want_n = 0;
      for (int64_t i = 0; i < ROWS; i++) {
        want x = expected(s, i);
        want_n += !x.null && x.v;
      }
      CHECK(j, gf_frame_num_rows(filtered) == want_n, "gf_filter kept %lld rows, want %lld",
            (long long)gf_frame_num_rows(filtered), (long long)want_n);
      gf_frame_release(filtered);
      filtered = NULL;
    }
  }
out:
  free(sel);
  gf_array_release(arr);
  gf_frame_release(one);
  gf_frame_release(ev);
  gf_frame_release(filtered);
  gf_bound_expr_free(b); /* release of 100k-level trees, on this stack too */
  gf_expr_release(back);
  gf_expr_release(e);
  gf_expr_release(built);
  gf_mem_free(printed);
  free(text);
  return NULL;
}

/* Runs fn(j) in a thread with a 256 KiB stack and waits for it. */
static void on_small_stack(void *(*fn)(void *), void *j) {
  pthread_attr_t attr;
  assert_int_equal(pthread_attr_init(&attr), 0);
  assert_int_equal(pthread_attr_setstacksize(&attr, SMALL_STACK), 0);
  pthread_t t;
  assert_int_equal(pthread_create(&t, &attr, fn, j), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  pthread_attr_destroy(&attr);
}

static void chains_of_100k_terms_on_a_small_stack(void **state) {
  (void)state;
  gf_frame *f = make_frame();
  for (int s = 0; s < NSHAPES; s++) {
    job j = {f, (enum shape)s, NULL, ""};
    on_small_stack(run_shape, &j);
    if (j.fail[0]) fail_msg("%s: %s", shape_names[s], j.fail);
    if (j.printed) { /* right-deep: 100k nested parentheses are refused */
      gf_expr *back = NULL;
      gf_error err;
      assert_int_equal(gf_expr_parse(j.printed, &back, &err), GF_EPARSE);
      assert_null(back);
      if (!strstr(err.message, "nested too deeply")) fail_msg("message: %s", err.message);
      gf_mem_free(j.printed);
    }
  }
  gf_frame_release(f);
}

/* An aggregate list of 8,000 count() terms (issue 14 item 1's
 * reproduction, refused before): rewriting and binding run on the small
 * stack; n = 8000 * the group's row count. */
typedef struct agg_job {
  const gf_frame *f;
  gf_frame *out;
  char fail[1200];
} agg_job;

static void *run_agg(void *arg) {
  agg_job *j = arg;
  enum { TERMS = 8000 };
  char *aggs = malloc(TERMS * 8 + 16), *p = aggs;
  for (int k = 0; k < TERMS; k++) put(&p, k ? "+count()" : "count()");
  put(&p, " as n");
  *p = 0;
  const char *keys[] = {"v"};
  gf_error err;
  gf_error_clear(&err);
  if (gf_group_by_text(j->f, keys, 1, aggs, NULL, &j->out, &err) != GF_OK)
    snprintf(j->fail, sizeof j->fail, "group_by_text: %.400s", err.message);
  free(aggs);
  return NULL;
}

static void aggregate_of_8000_counts(void **state) {
  (void)state;
  gf_frame *f = make_frame();
  agg_job j = {f, NULL, ""};
  on_small_stack(run_agg, &j);
  if (j.fail[0]) fail_msg("%s", j.fail);
  gf_frame *one = NULL;
  assert_int_equal(gf_frame_combine_batches(j.out, NULL, &one, NULL), GF_OK);
  /* Naive count per key (null is a key of its own). */
  int64_t cnt[23] = {0}, nulls = 0;
  for (int64_t i = 0; i < ROWS; i++) {
    if (v_null(i)) nulls++;
    else cnt[v_at(i) + 11]++;
  }
  const gf_array *k = gf_frame_column(one, 0, 0), *n = gf_frame_column(one, 0, 1);
  int64_t groups = 0;
  for (int g = 0; g < 23; g++) groups += cnt[g] > 0;
  assert_int_equal(gf_frame_num_rows(one), groups + (nulls > 0));
  for (int64_t r = 0; r < gf_frame_num_rows(one); r++) {
    int64_t want_n = gf_array_is_null(k, r) ? nulls : cnt[gf_array_get_int64(k, r) + 11];
    assert_int_equal(gf_array_get_int64(n, r), 8000 * want_n);
  }
  gf_frame_release(one);
  gf_frame_release(j.out);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(chains_of_100k_terms_on_a_small_stack),
      cmocka_unit_test(aggregate_of_8000_counts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
