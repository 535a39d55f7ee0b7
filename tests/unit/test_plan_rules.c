/* The optimizer rules one by one (plan.h, docs/PLANS.md): for each rule, a
 * plan, its EXPLAIN text after that rule alone (the expected text written
 * out here), and the optimized plan's answer equal to the unoptimized
 * plan's at 1/2/3/8 workers. Sources: frames, a CSV file (the reader's
 * `columns`), an IPC file (only the projected columns read). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gf_test_data.h"
#include "gf_test_garbage.h"
#include "gopherframe.h"

static gf_expr *parse(const char *text) {
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse '%s': %s", text, err.message);
  return e;
}

static void tmp_path(char *p, size_t n, const char *name) {
  const char *dir = getenv("TMPDIR");
  snprintf(p, n, "%s/gf_plan_rules_%d_%s", dir ? dir : "/tmp", (int)getpid(), name);
}

/* k int64 0..9, g utf8, v float64, w int32, nulls ~10%, garbage under them. */
static gf_frame *make_frame(int64_t rows, uint64_t seed) {
  static const char *const gs[] = {"a", "b", "c"};
  int64_t *k = calloc((size_t)rows, sizeof *k), *w = calloc((size_t)rows, sizeof *w);
  double *v = calloc((size_t)rows, sizeof *v);
  bool *kv = calloc((size_t)rows, 1), *vv = calloc((size_t)rows, 1);
  const char **g = calloc((size_t)rows, sizeof *g);
  uint64_t s = seed;
  for (int64_t i = 0; i < rows; i++) {
    uint64_t r = gft_rand_next(&s);
    k[i] = (int64_t)(r % 10);
    kv[i] = (r >> 8) % 10 != 0;
    w[i] = (int64_t)((r >> 16) % 201) - 100;
    v[i] = (double)(int64_t)((r >> 24) % 2001 - 1000) / 4.0;
    vv[i] = (r >> 40) % 9 != 0;
    g[i] = (r >> 50) % 11 == 0 ? NULL : gs[(r >> 54) % 3];
  }
  gf_array *cols[4] = {gft_int64_array(gf_type(GF_TYPE_INT64), k, kv, rows),
                       gft_string_array(gf_type(GF_TYPE_UTF8), g, rows),
                       gft_double_array(gf_type(GF_TYPE_FLOAT64), v, vv, rows),
                       gft_int64_array(gf_type(GF_TYPE_INT32), w, NULL, rows)};
  const char *names[4] = {"k", "g", "v", "w"};
  gf_frame *clean = NULL;
  assert_int_equal(gf_frame_from_columns(names, cols, 4, &clean, NULL), GF_OK);
  for (int i = 0; i < 4; i++) gf_array_release(cols[i]);
  free(k);
  free(w);
  free(v);
  free(kv);
  free(vv);
  free(g);
  gf_frame *f = gft_garbage_frame(clean, seed + 1);
  gf_frame_release(clean);
  return f;
}

static gf_frame *collect(const gf_plan *p, int workers, unsigned disabled) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.chunk_rows = 333;
  po.min_parallel_rows = 0;
  gf_plan_options o;
  gf_plan_options_init(&o);
  o.parallel = &po;
  o.disabled_rules = disabled;
  gf_frame *f = NULL;
  gf_error err;
  if (gf_plan_collect(p, &o, &f, &err) != GF_OK) fail_msg("collect: %s", err.message);
  return f;
}

/* Runs `rule` alone on p: the optimized plan's EXPLAIN must be `want`,
 * and its answer (run without further rewriting) the unoptimized one. */
static void check_rule(const gf_plan *p, unsigned rule, const char *want) {
  gf_plan *o = NULL;
  gf_error err;
  if (gf_plan_optimize(p, rule, &o, &err) != GF_OK) fail_msg("optimize: %s", err.message);
  char *text = NULL;
  assert_int_equal(gf_plan_explain(o, 0, 0, &text, &err), GF_OK);
  if (strcmp(text, want) != 0) fail_msg("after rule %u:\n%s\nwanted:\n%s", rule, text, want);
  gf_mem_free(text);
  /* A second pass of the rule changes nothing. */
  gf_plan *o2 = NULL;
  assert_int_equal(gf_plan_optimize(o, rule, &o2, &err), GF_OK);
  assert_int_equal(gf_plan_explain(o2, 0, 0, &text, &err), GF_OK);
  if (strcmp(text, want) != 0) fail_msg("second pass of rule %u:\n%s", rule, text);
  gf_mem_free(text);
  gf_plan_release(o2);
  static const int workers[] = {1, 2, 3, 8};
  for (int w = 0; w < 4; w++) {
    gf_frame *a = collect(p, workers[w], GF_PLAN_RULES_ALL);
    gf_frame *b = collect(o, workers[w], GF_PLAN_RULES_ALL);
    gf_frame *c = collect(p, workers[w], 0);
    if (!gf_frame_equals(a, b) || !gf_frame_equals(a, c))
      fail_msg("rule %u changed the answer at %d workers", rule, workers[w]);
    gf_frame_release(a);
    gf_frame_release(b);
    gf_frame_release(c);
  }
  gf_plan_release(o);
}

/* Builds filter(in, text). */
static gf_plan *filter(gf_plan *in, const char *text) {
  gf_expr *e = parse(text);
  gf_plan *p = NULL;
  gf_error err;
  if (gf_plan_filter(in, e, &p, &err) != GF_OK) fail_msg("filter: %s", err.message);
  gf_expr_release(e);
  gf_plan_release(in);
  return p;
}

static gf_plan *with1(gf_plan *in, const char *name, const char *text) {
  gf_expr *e = parse(text);
  gf_plan *p = NULL;
  gf_error err;
  if (gf_plan_with_columns(in, &name, &e, 1, &p, &err) != GF_OK) fail_msg("with: %s", err.message);
  gf_expr_release(e);
  gf_plan_release(in);
  return p;
}

static gf_plan *select_(gf_plan *in, const char *const *names, int n) {
  gf_plan *p = NULL;
  gf_error err;
  if (gf_plan_select(in, names, n, &p, &err) != GF_OK) fail_msg("select: %s", err.message);
  gf_plan_release(in);
  return p;
}

static gf_plan *limit(gf_plan *in, int64_t o, int64_t n) {
  gf_plan *p = NULL;
  assert_int_equal(gf_plan_limit(in, o, n, &p, NULL), GF_OK);
  gf_plan_release(in);
  return p;
}

static gf_plan *source(gf_frame *f) {
  gf_plan *p = NULL;
  assert_int_equal(gf_plan_from_frame(f, &p, NULL), GF_OK);
  return p;
}

/* ---- constant folding --------------------------------------------------- */

static void test_constant_folding(void **state) {
  (void)state;
  gf_frame *f = make_frame(2000, 1);
  gf_plan *p = filter(source(f), "k > 1 + 2 and true and g = lower('A') and 2 > 1");
  p = with1(p, "c", "2 * 3 + k + length('abc')");
  p = with1(p, "d", "v * (1.5 * 2)");
  p = filter(p, "1 = 1");
  check_rule(p, GF_PLAN_RULE_CONSTANT_FOLDING,
             "4. with_columns d = v * (1.5 * 2)\n"
             "  3. with_columns c = 6 + k + 3\n"
             "    2. filter k > 3 and g = 'a'\n"
             "      1. frame rows=2000\n");
  gf_plan_release(p);
  gf_frame_release(f);
}

/* Folding a flat chain deeper than the walk's first stack block (32
 * frames: the stack grows while a frame points into it) gives the same
 * rows as a naive loop: k = 0 or k = 1 or ... (one term per value, 3,000
 * terms, most of them repeats). */
static void test_constant_folding_long_chain(void **state) {
  (void)state;
  gf_frame *f = make_frame(2000, 3);
  size_t cap = 3000 * 24 + 16, len = 0;
  char *text = malloc(cap);
  for (int i = 0; i < 3000; i++)
    len += (size_t)snprintf(text + len, cap - len, "%sk = %d + 0", i ? " or " : "", (i % 4) * 2);
  gf_plan *p = filter(source(f), text);
  free(text);
  gf_frame *got = collect(p, 2, 0);
  int64_t want = 0;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *k = gf_frame_column(f, b, 0);
    for (int64_t i = 0; i < gf_array_length(k); i++) {
      if (gf_array_is_null(k, i)) continue;
      int64_t x = gf_array_get_int64(k, i);
      if (x % 2 == 0 && x <= 6) want++;
    }
  }
  assert_int_equal(gf_frame_num_rows(got), want);
  gf_frame_release(got);
  gf_plan_release(p);
  gf_frame_release(f);
}

/* ---- predicate pushdown ------------------------------------------------- */

static void test_predicate_pushdown(void **state) {
  (void)state;
  gf_frame *f = make_frame(3000, 2), *r = make_frame(500, 3);
  const char *sel[3] = {"k", "x", "g"};
  /* Through select and with (not the conjunct on the computed x). */
  gf_plan *p = select_(with1(source(f), "x", "w * 2"), sel, 3);
  p = filter(p, "k > 3 and x > 0 and g = 'a'");
  check_rule(p, GF_PLAN_RULE_PREDICATE_PUSHDOWN,
             "4. select [k, x, g]\n"
             "  3. filter x > 0\n"
             "    2. with_columns x = w * 2\n"
             "      1. frame rows=3000 predicate=(k > 3 and g = 'a')\n");
  gf_plan_release(p);

  /* Group-by: a key (int) conjunct moves below, an aggregate one and a
   * float key one stay (as having). */
  const char *keys[2] = {"k", "v"};
  gf_plan *g = NULL;
  gf_plan *s = source(f);
  assert_int_equal(gf_plan_group_by(s, keys, 2, "sum(w) as sw", false, &g, NULL), GF_OK);
  gf_plan_release(s);
  g = filter(g, "k < 5 and sw > 0 and v > 1");
  check_rule(g, GF_PLAN_RULE_PREDICATE_PUSHDOWN,
             "3. having sw > 0 and v > 1\n"
             "  2. group_by keys=[k, v] aggs=[sum(w) as sw]\n"
             "    1. frame rows=3000 predicate=(k < 5)\n");
  gf_plan_release(g);
  /* A having on a key moves too. */
  gf_plan *h = NULL;
  s = source(f);
  assert_int_equal(gf_plan_group_by(s, keys, 1, "count() as n", true, &g, NULL), GF_OK);
  gf_expr *he = parse("n > 100 and k != 4");
  assert_int_equal(gf_plan_having(g, he, &h, NULL), GF_OK);
  check_rule(h, GF_PLAN_RULE_PREDICATE_PUSHDOWN,
             "3. having n > 100\n"
             "  2. group_by keys=[k] aggs=[count() as n] sorted\n"
             "    1. frame rows=3000 predicate=(k != 4)\n");
  gf_expr_release(he);
  gf_plan_release(h);
  gf_plan_release(g);
  gf_plan_release(s);

  /* Joins: per kind, which side gets which conjunct. */
  static const char *const want[6] = {
      /* inner: both sides */
      "2. join inner on k = k\n"
      "  1. frame rows=3000 predicate=(w > 0)\n"
      "  1. frame rows=500 predicate=(v < 10)\n",
      /* left: the left only */
      "3. filter v < 10\n"
      "  2. join left on k = k\n"
      "    1. frame rows=3000 predicate=(w > 0)\n"
      "    1. frame rows=500\n",
      /* right: the right only */
      "3. filter w > 0\n"
      "  2. join right on k = k\n"
      "    1. frame rows=3000\n"
      "    1. frame rows=500 predicate=(v < 10)\n",
      /* full: nothing moves */
      "3. filter w > 0 and v < 10\n"
      "  2. join full on k = k\n"
      "    1. frame rows=3000\n"
      "    1. frame rows=500\n",
      /* semi, anti: output is the left's */
      "2. join semi on k = k\n"
      "  1. frame rows=3000 predicate=(w > 0)\n"
      "  1. frame rows=500\n",
      "2. join anti on k = k\n"
      "  1. frame rows=3000 predicate=(w > 0)\n"
      "  1. frame rows=500\n"};
  const char *on[1] = {"k"};
  const char *rcols[2] = {"k", "v"};
  for (int how = 0; how < 6; how++) {
    const char *lcols[2] = {"k", "w"};
    /* The same join over sources holding exactly those columns. */
    gf_frame *lfr = NULL, *rfr = NULL;
    assert_int_equal(gf_select(f, lcols, 2, &lfr, NULL), GF_OK);
    assert_int_equal(gf_select(r, rcols, 2, &rfr, NULL), GF_OK);
    gf_plan *l2 = source(lfr), *r2 = source(rfr), *j2 = NULL;
    assert_int_equal(gf_plan_join(l2, r2, on, on, 1, (gf_join_kind)how, NULL, &j2, NULL), GF_OK);
    j2 = filter(j2, how >= 4 ? "w > 0" : "w > 0 and v < 10");
    check_rule(j2, GF_PLAN_RULE_PREDICATE_PUSHDOWN, want[how]);
    gf_plan_release(l2);
    gf_plan_release(r2);
    gf_plan_release(j2);
    gf_frame_release(lfr);
    gf_frame_release(rfr);
  }

  /* Not through a limit; through a sort. */
  gf_sort_key sk = {"v", true, false};
  gf_plan *so = NULL;
  s = source(f);
  assert_int_equal(gf_plan_sort(s, &sk, 1, &so, NULL), GF_OK);
  gf_plan *lp = filter(limit(so, 0, 100), "k = 2");
  check_rule(lp, GF_PLAN_RULE_PREDICATE_PUSHDOWN,
             "4. filter k = 2\n"
             "  3. limit 100\n"
             "    2. sort v desc\n"
             "      1. frame rows=3000\n");
  gf_plan *sp = NULL;
  assert_int_equal(gf_plan_sort(s, &sk, 1, &so, NULL), GF_OK);
  sp = filter(so, "k = 2");
  check_rule(sp, GF_PLAN_RULE_PREDICATE_PUSHDOWN,
             "2. sort v desc\n"
             "  1. frame rows=3000 predicate=(k = 2)\n");
  gf_plan_release(sp);
  gf_plan_release(lp);
  gf_plan_release(s);

  /* Union: into both inputs. */
  gf_plan *u = NULL, *a = source(f), *b = source(r);
  assert_int_equal(gf_plan_union(a, b, &u, NULL), GF_OK);
  u = filter(u, "g = 'b'");
  check_rule(u, GF_PLAN_RULE_PREDICATE_PUSHDOWN,
             "2. union\n"
             "  1. frame rows=3000 predicate=(g = 'b')\n"
             "  1. frame rows=500 predicate=(g = 'b')\n");
  gf_plan_release(u);
  gf_plan_release(a);
  gf_plan_release(b);
  gf_frame_release(f);
  gf_frame_release(r);
}

/* ---- limit pushdown ----------------------------------------------------- */

static void test_limit_pushdown(void **state) {
  (void)state;
  gf_frame *f = make_frame(3000, 4);
  const char *sel[2] = {"x", "k"};
  gf_plan *p = limit(select_(with1(source(f), "x", "w + 1"), sel, 2), 5, 10);
  check_rule(p, GF_PLAN_RULE_LIMIT_PUSHDOWN,
             "4. select [x, k]\n"
             "  3. with_columns x = w + 1\n"
             "    2. limit 10 offset=5\n"
             "      1. frame rows=3000\n");
  gf_plan_release(p);
  /* Into a sort as a top-k; two limits merge. */
  gf_sort_key sk[2] = {{"w", false, false}, {"k", true, true}};
  gf_plan *s = source(f), *so = NULL;
  assert_int_equal(gf_plan_sort(s, sk, 2, &so, NULL), GF_OK);
  p = limit(limit(so, 3, 50), 4, 100);
  check_rule(p, GF_PLAN_RULE_LIMIT_PUSHDOWN,
             "3. limit 46 offset=7\n"
             "  2. sort w, k desc nulls first top_k=53\n"
             "    1. frame rows=3000\n");
  gf_plan_release(p);
  /* Into both sides of a union; not through a filter. */
  gf_plan *u = NULL, *a = source(f);
  assert_int_equal(gf_plan_union(a, s, &u, NULL), GF_OK);
  p = limit(filter(u, "k > 2"), 0, 7);
  gf_plan *q = NULL;
  assert_int_equal(gf_plan_union(a, s, &u, NULL), GF_OK);
  q = limit(u, 1, 7);
  check_rule(p, GF_PLAN_RULE_LIMIT_PUSHDOWN,
             "4. limit 7\n"
             "  3. filter k > 2\n"
             "    2. union\n"
             "      1. frame rows=3000\n"
             "      1. frame rows=3000\n");
  check_rule(q, GF_PLAN_RULE_LIMIT_PUSHDOWN,
             "4. limit 7 offset=1\n"
             "  3. union\n"
             "    2. limit 8\n"
             "      1. frame rows=3000\n"
             "    2. limit 8\n"
             "      1. frame rows=3000\n");
  gf_plan_release(p);
  gf_plan_release(q);
  gf_plan_release(a);
  gf_plan_release(s);
  gf_frame_release(f);
}

/* ---- projection pushdown and dead columns ------------------------------- */

static void test_projection_pushdown(void **state) {
  (void)state;
  gf_frame *f = make_frame(4000, 5);
  gf_error err;
  char csv[256], ipc[256];
  tmp_path(csv, sizeof csv, "p.csv");
  tmp_path(ipc, sizeof ipc, "p.arrow");
  assert_int_equal(gf_write_csv(f, csv, NULL, &err), GF_OK);
  assert_int_equal(gf_write_ipc_file(f, ipc, NULL, &err), GF_OK);
  const char *keys[1] = {"g"};
  for (int src = 0; src < 3; src++) {
    gf_plan *s = NULL;
    char head[512];
    if (src == 0) {
      s = source(f);
      snprintf(head, sizeof head, "1. frame rows=4000");
    } else if (src == 1) {
      assert_int_equal(gf_plan_scan_csv(csv, NULL, &s, &err), GF_OK);
      snprintf(head, sizeof head, "1. scan_csv \"%s\"", csv);
    } else {
      assert_int_equal(gf_plan_scan_ipc(ipc, NULL, &s, &err), GF_OK);
      snprintf(head, sizeof head, "1. scan_ipc \"%s\"", ipc);
    }
    gf_plan *p = filter(gf_plan_retain(s), "k > 2"), *g = NULL;
    assert_int_equal(gf_plan_group_by(p, keys, 1, "sum(w) as sw", true, &g, NULL), GF_OK);
    char want[1024];
    snprintf(want, sizeof want,
             "3. group_by keys=[g] aggs=[sum(w) as sw] sorted\n"
             "  2. filter k > 2\n"
             "    %s columns=[k, g, w]\n",
             head);
    check_rule(g, GF_PLAN_RULE_PROJECTION_PUSHDOWN, want);
    /* count() reads no column: the narrowest one is still read. */
    gf_plan *c = NULL;
    assert_int_equal(gf_plan_group_by(s, NULL, 0, "count() as n", false, &c, NULL), GF_OK);
    snprintf(want, sizeof want,
             "2. group_by keys=[] aggs=[count() as n]\n"
             "  %s columns=[%s]\n",
             head, src == 1 ? "k" : "w");
    check_rule(c, GF_PLAN_RULE_PROJECTION_PUSHDOWN, want);
    gf_plan_release(c);
    gf_plan_release(p);
    gf_plan_release(g);
    gf_plan_release(s);
  }
  unlink(csv);
  unlink(ipc);
  gf_frame_release(f);
}

static void test_dead_columns(void **state) {
  (void)state;
  gf_frame *f = make_frame(2000, 6);
  const char *names[2] = {"a", "b"};
  gf_expr *ex[2] = {parse("k * 2"), parse("upper(g)")};
  gf_plan *s = source(f), *w = NULL;
  assert_int_equal(gf_plan_with_columns(s, names, ex, 2, &w, NULL), GF_OK);
  const char *sel[3] = {"a", "v", "b"};
  gf_plan *p = select_(w, sel, 3);
  const char *keys[1] = {"a"};
  gf_plan *g = NULL;
  assert_int_equal(gf_plan_group_by(p, keys, 1, "max(v) as m", false, &g, NULL), GF_OK);
  check_rule(g, GF_PLAN_RULE_DEAD_COLUMNS,
             "4. group_by keys=[a] aggs=[max(v) as m]\n"
             "  3. select [a, v]\n"
             "    2. with_columns a = k * 2\n"
             "      1. frame rows=2000\n");
  /* Both rules together: the source reads k and v only. */
  gf_plan *o = NULL;
  assert_int_equal(gf_plan_optimize(g, GF_PLAN_RULES_ALL, &o, NULL), GF_OK);
  char *text = NULL;
  assert_int_equal(gf_plan_explain(o, 0, 0, &text, NULL), GF_OK);
  assert_non_null(strstr(text, "1. frame rows=2000 columns=[k, v]\n"));
  gf_mem_free(text);
  gf_plan_release(o);
  gf_plan_release(g);
  gf_plan_release(p);
  gf_plan_release(s);
  gf_expr_release(ex[0]);
  gf_expr_release(ex[1]);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_constant_folding),
      cmocka_unit_test(test_constant_folding_long_chain),
      cmocka_unit_test(test_predicate_pushdown),
      cmocka_unit_test(test_limit_pushdown),
      cmocka_unit_test(test_projection_pushdown),
      cmocka_unit_test(test_dead_columns),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
