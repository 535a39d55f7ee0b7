/* `x in (...)` against a naive loop: int64, float64 (NaN, -0.0, +-inf),
 * utf8, dictionary<utf8> and date32 columns with nulls holding garbage
 * (sliced imports), lists short (the OR path, <= 8 items) and long (the
 * hash-set kernel, up to 40,000 items), with and without a null item, at
 * 1, 2, 3 and 8 workers and two chunk sizes, through gf_evaluate and
 * gf_filter. The reference is SQL's: null when x is null, true when x = an
 * item by the rules of `=` (IEEE: -0.0 = 0.0, NaN = nothing), else null
 * when an item is null, else false. */
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
#include "gf_test_garbage.h"
#include "gopherframe.h"
#include "gopherframe/testing.h"

enum { ROWS = 3001 };

/* Deterministic pseudo-random numbers. */
static uint64_t rng = 88172645463325252ULL;
static uint64_t next_u64(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* One column of test values, as the naive loop sees them. */
typedef enum { K_INT, K_F64, K_STR, K_DICT, K_DATE } kind;
typedef struct cell {
  bool null;
  int64_t i; /* int, date */
  double f;
  char s[16];
} cell;

static cell rows_[ROWS];

static gf_datatype type_of(kind k) {
  switch (k) {
    case K_INT: return gf_type(GF_TYPE_INT64);
    case K_F64: return gf_type(GF_TYPE_FLOAT64);
    case K_STR: return gf_type(GF_TYPE_UTF8);
    case K_DICT: return gf_type_dictionary(gf_type(GF_TYPE_UTF8));
    default: return gf_type(GF_TYPE_DATE32);
  }
}

static const double specials[] = {0.0, -0.0, NAN, INFINITY, -INFINITY, 1.5, -2.25};

/* Fills rows_ with values of kind k (~1/9 null) and returns the frame (one
 * column "x") whose nulls hold garbage. */
static gf_frame *make_frame(kind k) {
  gf_builder *b = NULL;
  assert_int_equal(gf_builder_new(type_of(k), NULL, &b, NULL), GF_OK);
  for (int r = 0; r < ROWS; r++) {
    cell *c = &rows_[r];
    memset(c, 0, sizeof *c);
    uint64_t u = next_u64();
    c->null = u % 9 == 0;
    c->i = (int64_t)(u >> 8) % 400 - 100;
    c->f = (u >> 8) % 5 == 0 ? specials[(u >> 16) % 7] : (double)((int64_t)(u >> 20) % 200) / 4.0;
    snprintf(c->s, sizeof c->s, "s%d", (int)((u >> 24) % 300));
    if (c->null) {
      assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
      continue;
    }
    switch (k) {
      case K_INT:
      case K_DATE: assert_int_equal(gf_builder_append_int64(b, c->i, NULL), GF_OK); break;
      case K_F64: assert_int_equal(gf_builder_append_double(b, c->f, NULL), GF_OK); break;
      default: assert_int_equal(gf_builder_append_string(b, c->s, NULL), GF_OK); break;
    }
  }
  gf_array *a = NULL;
  assert_int_equal(gf_builder_finish(b, &a, NULL), GF_OK);
  gf_builder_free(b);
  const char *names[] = {"x"};
  gf_frame *clean = NULL;
  assert_int_equal(gf_frame_from_columns(names, &a, 1, &clean, NULL), GF_OK);
  gf_array_release(a);
  gf_frame *g = gft_garbage_frame(clean, next_u64());
  gf_frame_release(clean);
  return g;
}

/* An in-list: n items of kind k (some repeated), maybe a null. */
typedef struct list {
  int n;
  cell *items;
} list;

static list make_list(kind k, int n, bool with_null) {
  list l = {n, calloc((size_t)n, sizeof(cell))};
  for (int i = 0; i < n; i++) {
    cell *c = &l.items[i];
    uint64_t u = next_u64();
    c->null = with_null && i == n / 2;
    /* Items cover about half the row values (and repeat some). */
    c->i = (int64_t)(u >> 8) % 800 - 300;
    c->f = i % 7 < 3 ? specials[i % 7] : (double)((int64_t)(u >> 20) % 400) / 4.0 - 50;
    snprintf(c->s, sizeof c->s, "s%d", (int)((u >> 24) % 600));
    (void)k;
  }
  return l;
}

/* The text of "x in (...)". */
static char *list_text(kind k, const list *l) {
  char *t = malloc((size_t)l->n * 48 + 32), *p = t;
  p += sprintf(p, "x in (");
  for (int i = 0; i < l->n; i++) {
    const cell *c = &l->items[i];
    if (i) p += sprintf(p, ", ");
    if (c->null) {
      p += sprintf(p, "null");
      continue;
    }
    switch (k) {
      case K_INT: p += sprintf(p, "%lld", (long long)c->i); break;
      case K_F64:
        if (isnan(c->f)) p += sprintf(p, "cast('nan' as float64)");
        else if (isinf(c->f)) p += sprintf(p, "cast('%s' as float64)", c->f > 0 ? "inf" : "-inf");
        else if (c->f == 0 && signbit(c->f)) p += sprintf(p, "-0.0");
        else p += sprintf(p, "%.17g", c->f); /* integral values read as ints: coerced */
        break;
      case K_DATE: {
        /* days since 1970-01-01, written as a civil date */
        int64_t z = c->i + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
        p += sprintf(p, "date '%04lld-%02lld-%02lld'", (long long)(y + (m <= 2)), (long long)m, (long long)d);
        break;
      }
      default: p += sprintf(p, "'%s'", c->s); break;
    }
  }
  sprintf(p, ")");
  return t;
}

/* The naive reference of one row: 0 false, 1 true, 2 null. */
static int expect(kind k, const cell *x, const list *l) {
  if (x->null) return 2;
  bool null_item = false;
  for (int i = 0; i < l->n; i++) {
    const cell *c = &l->items[i];
    if (c->null) {
      null_item = true;
      continue;
    }
    bool eq;
    switch (k) {
      case K_INT:
      case K_DATE: eq = x->i == c->i; break;
      case K_F64: eq = x->f == c->f; break; /* IEEE, as `=` */
      default: eq = strcmp(x->s, c->s) == 0; break;
    }
    if (eq) return 1;
  }
  return null_item ? 2 : 0;
}

static void check_case(kind k, int n, bool with_null) {
  gf_frame *f = make_frame(k);
  list l = make_list(k, n, with_null);
  char *text = list_text(k, &l);
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse: %s", err.message);
  /* Which path: more than GFI_IN_SET_MIN_ITEMS items take the hash set,
   * fewer the OR of equalities (both are checked below). */
  gf_bound_expr *b = NULL;
  if (gf_expr_bind(e, gf_frame_schema(f), &b, &err) != GF_OK) fail_msg("bind: %s", err.message);
  bool set_path = b->root->kind == GFI_B_IN_SET;
  if (set_path != (n > GFI_IN_SET_MIN_ITEMS))
    fail_msg("kind %d, %d items: %s path", (int)k, n, set_path ? "hash-set" : "or");
  gf_bound_expr_free(b);
  int *want = malloc(sizeof *want * ROWS);
  int64_t want_true = 0;
  for (int r = 0; r < ROWS; r++) {
    want[r] = expect(k, &rows_[r], &l);
    want_true += want[r] == 1;
  }
  const int workers[] = {1, 2, 3, 8};
  for (int w = 0; w < 4; w++) {
    gf_parallel_options po;
    gf_parallel_options_init(&po);
    po.num_workers = workers[w];
    po.chunk_rows = w % 2 ? 7 : 1000;
    gf_frame *out = NULL, *one = NULL;
    if (gf_evaluate(f, e, "r", &po, &out, &err) != GF_OK) fail_msg("evaluate: %s", err.message);
    assert_int_equal(gf_frame_combine_batches(out, NULL, &one, NULL), GF_OK);
    const gf_array *a = gf_frame_column(one, 0, 0);
    for (int r = 0; r < ROWS; r++) {
      int got = gf_array_is_null(a, r) ? 2 : gf_array_get_bool(a, r) ? 1 : 0;
      if (got != want[r])
        fail_msg("kind %d, %d items%s, %d workers: row %d got %d, want %d", (int)k, n,
                 with_null ? " + null" : "", workers[w], r, got, want[r]);
    }
    gf_frame_release(one);
    gf_frame_release(out);
    gf_frame *kept = NULL;
    if (gf_filter(f, e, &po, &kept, &err) != GF_OK) fail_msg("filter: %s", err.message);
    assert_int_equal(gf_frame_num_rows(kept), want_true);
    gf_frame_release(kept);
  }
  free(want);
  gf_expr_release(e);
  free(text);
  free(l.items);
  gf_frame_release(f);
}

static void every_kind_against_a_naive_loop(void **state) {
  (void)state;
  const kind kinds[] = {K_INT, K_F64, K_STR, K_DICT, K_DATE};
  const int sizes[] = {1, 5, 8, 9, 100, 2000};
  for (size_t k = 0; k < 5; k++)
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
      for (int nul = 0; nul < 2; nul++) check_case(kinds[k], sizes[s], nul);
}

static void list_of_40000_items(void **state) {
  (void)state;
  check_case(K_INT, 40000, false);
  check_case(K_INT, 40000, true);
  check_case(K_STR, 40000, true);
}

/* -0.0 and NaN directly: x in (0.0, ...) holds for -0.0, x in (NaN, ...)
 * never holds, as x = 0.0 and x = NaN do; the same with 3 items (OR path)
 * and 12 (hash set). */
static void zero_and_nan_follow_equality(void **state) {
  (void)state;
  double vals[] = {-0.0, 0.0, NAN, 1.0};
  gf_builder *b = NULL;
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_FLOAT64), NULL, &b, NULL), GF_OK);
  for (int i = 0; i < 4; i++) gf_builder_append_double(b, vals[i], NULL);
  gf_array *a = NULL;
  assert_int_equal(gf_builder_finish(b, &a, NULL), GF_OK);
  gf_builder_free(b);
  const char *names[] = {"x"};
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_from_columns(names, &a, 1, &f, NULL), GF_OK);
  gf_array_release(a);
  const char *texts[] = {
      "x in (0.0, cast('nan' as float64), 7.0)",
      "x in (0.0, cast('nan' as float64), 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0)",
      "x in (-0.0, cast('nan' as float64), 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0)",
  };
  for (int t = 0; t < 3; t++) {
    gf_expr *e = NULL;
    assert_int_equal(gf_expr_parse(texts[t], &e, NULL), GF_OK);
    gf_frame *out = NULL;
    assert_int_equal(gf_evaluate(f, e, "r", NULL, &out, NULL), GF_OK);
    const gf_array *r = gf_frame_column(out, 0, 0);
    assert_true(gf_array_get_bool(r, 0));  /* -0.0 */
    assert_true(gf_array_get_bool(r, 1));  /* 0.0 */
    assert_false(gf_array_get_bool(r, 2)); /* NaN */
    assert_false(gf_array_get_bool(r, 3)); /* 1.0 */
    assert_int_equal(gf_array_null_count(r), 0);
    gf_frame_release(out);
    gf_expr_release(e);
  }
  gf_frame_release(f);
}

/* An operand that is an expression (x + 1, upper(x)) is the same in every
 * item's equality: the set path takes it, evaluated once per row. */
static void expression_operands(void **state) {
  (void)state;
  for (int q = 0; q < 2; q++) {
    kind k = q ? K_STR : K_INT;
    gf_frame *f = make_frame(k);
    list l = make_list(k, 50, q == 1);
    for (int i = 0; i < l.n; i++) /* items in the operand's form */
      if (k == K_STR) l.items[i].s[0] = 'S';
    char *inner = list_text(k, &l); /* "x in (...)" */
    size_t len = strlen(inner) + 32;
    char *text = malloc(len);
    snprintf(text, len, "%s%s", k == K_STR ? "upper(x)" : "x + 1", inner + 1);
    gf_expr *e = NULL;
    gf_error err;
    if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse '%.80s': %s", text, err.message);
    gf_bound_expr *b = NULL;
    assert_int_equal(gf_expr_bind(e, gf_frame_schema(f), &b, NULL), GF_OK);
    assert_int_equal(b->root->kind, GFI_B_IN_SET);
    gf_bound_expr_free(b);
    gf_parallel_options po;
    gf_parallel_options_init(&po);
    po.num_workers = 3;
    po.chunk_rows = 100;
    gf_frame *out = NULL, *one = NULL;
    assert_int_equal(gf_evaluate(f, e, "r", &po, &out, NULL), GF_OK);
    assert_int_equal(gf_frame_combine_batches(out, NULL, &one, NULL), GF_OK);
    const gf_array *a = gf_frame_column(one, 0, 0);
    for (int r = 0; r < ROWS; r++) {
      cell x = rows_[r];
      if (k == K_INT) x.i += 1;
      else for (char *c = x.s; *c; c++) *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
      int want = expect(k, &x, &l);
      int got = gf_array_is_null(a, r) ? 2 : gf_array_get_bool(a, r) ? 1 : 0;
      if (got != want) fail_msg("%s: row %d got %d want %d", k == K_STR ? "upper" : "x + 1", r, got, want);
    }
    gf_frame_release(one);
    gf_frame_release(out);
    gf_expr_release(e);
    free(text);
    free(inner);
    free(l.items);
    gf_frame_release(f);
  }
}

/* Every allocation of binding (the set) and of evaluating (the kernel, a
 * dictionary's membership table) fails in turn: GF_ENOMEM, nothing leaks,
 * and the run that succeeds gives the naive answer. */
static void each_allocation_failure_is_clean(void **state) {
  (void)state;
  const kind kinds[] = {K_INT, K_DICT, K_STR, K_F64};
  for (int q = 0; q < 4; q++) {
    gf_frame *f = make_frame(kinds[q]);
    list l = make_list(kinds[q], 20, true);
    char *text = list_text(kinds[q], &l);
    gf_expr *e = NULL;
    assert_int_equal(gf_expr_parse(text, &e, NULL), GF_OK);
    gf_failing_allocator *fa = NULL;
    assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
    const gf_allocator *a = gf_failing_allocator_get(fa);
    gf_array *cols[1] = {gf_frame_column(f, 0, 0)}; /* one batch */
    assert_int_equal(gf_frame_num_batches(f), 1);
    bool done = false;
    for (int64_t at = 1; !done; at++) {
      gf_failing_allocator_arm(fa, at, false);
      gf_bound_expr *b = NULL;
      gf_array *r = NULL;
      gf_error err;
      gf_status st = gfi_expr_bind(e, gf_frame_schema(f), a, &b, &err);
      if (st == GF_OK) {
        st = gfi_eval_batch(b, cols, 0, ROWS, NULL, 0, a, &r, &err);
        if (st == GF_OK) {
          for (int i = 0; i < ROWS; i++) {
            int want = expect(kinds[q], &rows_[i], &l);
            int got = gf_array_is_null(r, i) ? 2 : gf_array_get_bool(r, i);
            if (got != want) fail_msg("kind %d row %d: got %d want %d", (int)kinds[q], i, got, want);
          }
          gf_array_release(r);
          done = true;
        }
        gf_bound_expr_free(b);
      }
      if (!done) assert_int_equal(st, GF_ENOMEM);
      assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
      assert_true(at < 10000);
    }
    gf_failing_allocator_free(fa);
    gf_expr_release(e);
    free(text);
    free(l.items);
    gf_frame_release(f);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_kind_against_a_naive_loop),
      cmocka_unit_test(list_of_40000_items),
      cmocka_unit_test(zero_and_nan_follow_equality),
      cmocka_unit_test(expression_operands),
      cmocka_unit_test(each_allocation_failure_is_clean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
