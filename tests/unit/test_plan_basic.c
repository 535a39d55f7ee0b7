/* Lazy plans (plan.h): every source kind (frame, CSV, IPC file and
 * stream, ArrowArrayStream) and every operator against the eager operators
 * written out here on the materialised input; every sink; checking errors
 * naming the step; EXPLAIN text; the profile; the stream consumed once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gf_test_data.h"
#include "gf_test_garbage.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"

/* ---- helpers ------------------------------------------------------------ */

static gf_expr *parse(const char *text) {
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse '%s': %s", text, err.message);
  return e;
}

static void tmp_path(char *p, size_t n, const char *name) {
  const char *dir = getenv("TMPDIR");
  snprintf(p, n, "%s/gf_plan_%d_%s", dir ? dir : "/tmp", (int)getpid(), name);
}

/* A frame of `rows` rows in `nb` batches: k int64 in 0..9, g utf8 of five
 * values, v float64 (with -0.0 and NaN), w int32; ~10% nulls each; then
 * its garbage twin (null slots hold random bytes, arrays start at offsets). */
static gf_frame *make_frame(int64_t rows, int nb, uint64_t seed) {
  static const char *const gs[] = {"a", "b", "c", "dd", "é"};
  gf_array **cols = calloc((size_t)nb * 4, sizeof *cols);
  uint64_t s = seed;
  for (int b = 0; b < nb; b++) {
    int64_t n = rows / nb + (b < rows % nb ? 1 : 0);
    int64_t *k = calloc((size_t)n + 1, sizeof *k), *w = calloc((size_t)n + 1, sizeof *w);
    double *v = calloc((size_t)n + 1, sizeof *v);
    bool *kv = calloc((size_t)n + 1, 1), *vv = calloc((size_t)n + 1, 1), *wv = calloc((size_t)n + 1, 1);
    const char **g = calloc((size_t)n + 1, sizeof *g);
    for (int64_t i = 0; i < n; i++) {
      uint64_t r = gft_rand_next(&s);
      k[i] = (int64_t)(r % 10);
      kv[i] = (r >> 8) % 10 != 0;
      w[i] = (int64_t)((r >> 16) % 2001) - 1000;
      wv[i] = (r >> 28) % 11 != 0;
      uint64_t r2 = gft_rand_next(&s);
      v[i] = (double)(int64_t)(r2 % 20001 - 10000) / 8.0;
      if (r2 % 97 == 0) v[i] = -0.0;
      if (r2 % 89 == 0) v[i] = 0.0 / 0.0;
      vv[i] = (r2 >> 20) % 9 != 0;
      g[i] = (r2 >> 30) % 12 == 0 ? NULL : gs[(r2 >> 34) % 5];
    }
    cols[b * 4 + 0] = gft_int64_array(gf_type(GF_TYPE_INT64), k, kv, n);
    cols[b * 4 + 1] = gft_string_array(gf_type(GF_TYPE_UTF8), g, n);
    cols[b * 4 + 2] = gft_double_array(gf_type(GF_TYPE_FLOAT64), v, vv, n);
    cols[b * 4 + 3] = gft_int64_array(gf_type(GF_TYPE_INT32), w, wv, n);
    free(k);
    free(w);
    free(v);
    free(kv);
    free(vv);
    free(wv);
    free(g);
  }
  gf_field fields[4] = {{"k", gf_type(GF_TYPE_INT64), true},
                        {"g", gf_type(GF_TYPE_UTF8), true},
                        {"v", gf_type(GF_TYPE_FLOAT64), true},
                        {"w", gf_type(GF_TYPE_INT32), true}};
  gf_schema *sc = NULL;
  assert_int_equal(gf_schema_new(fields, 4, &sc, NULL), GF_OK);
  gf_frame *clean = NULL;
  gf_error err;
  if (gf_frame_new(sc, cols, nb, NULL, &clean, &err) != GF_OK) fail_msg("%s", err.message);
  gf_schema_release(sc);
  for (int i = 0; i < nb * 4; i++) gf_array_release(cols[i]);
  free(cols);
  gf_frame *g = gft_garbage_frame(clean, seed ^ 0x5eed);
  gf_frame_release(clean);
  return g;
}

static void par(gf_parallel_options *o, int workers, int64_t chunk) {
  gf_parallel_options_init(o);
  o->num_workers = workers;
  o->chunk_rows = chunk;
  o->min_parallel_rows = 0;
}

/* Collects p at several worker counts and chunk sizes, with and without
 * the optimizer, and checks every result equals `want`. */
static void expect_plan(const gf_plan *p, const gf_frame *want) {
  static const int workers[] = {1, 2, 3, 8};
  static const int64_t chunks[] = {0, 7, 1000};
  for (int w = 0; w < 4; w++)
    for (int c = 0; c < 3; c++)
      for (int opt = 0; opt < 2; opt++) {
        gf_parallel_options po;
        par(&po, workers[w], chunks[c]);
        gf_plan_options o;
        gf_plan_options_init(&o);
        o.parallel = &po;
        o.disabled_rules = opt ? 0 : GF_PLAN_RULES_ALL;
        gf_frame *got = NULL;
        gf_error err;
        if (gf_plan_collect(p, &o, &got, &err) != GF_OK) fail_msg("collect: %s", err.message);
        if (!gf_frame_equals(got, want)) {
          gf_frame_print(got, NULL, stderr, NULL);
          gf_frame_print(want, NULL, stderr, NULL);
          fail_msg("plan result differs (workers %d, chunk %lld, optimizer %d)", workers[w],
                   (long long)chunks[c], opt);
        }
        gf_frame_release(got);
      }
}

#define OK(call)                                                   \
  do {                                                             \
    gf_error e_;                                                   \
    gf_status s_ = (call);                                         \
    if (s_ != GF_OK) fail_msg("%s: %s", #call, e_.message);        \
  } while (0)
#define OKE(call)                                                  \
  do {                                                             \
    gf_status s_ = (call);                                         \
    if (s_ != GF_OK) fail_msg("%s: %s", #call, err.message);       \
  } while (0)

/* ---- tests -------------------------------------------------------------- */

/* filter -> with -> group_by -> having -> sort -> limit over a frame. */
static void test_chain(void **state) {
  (void)state;
  gf_frame *f = make_frame(5000, 3, 1);
  gf_error err;
  gf_expr *pred = parse("v > -500 and g != 'c'");
  gf_expr *wx[2] = {parse("w * 2 + k"), parse("upper(g)")};
  const char *wn[2] = {"x", "G"};
  gf_expr *hv = parse("n > 10");
  const char *keys[2] = {"G", "k"};
  gf_sort_key sk[2] = {{"s", true, false}, {"k", false, true}};
  gf_plan *p0, *p1, *p2, *p3, *p4, *p5, *p6;
  OKE(gf_plan_from_frame(f, &p0, &err));
  OKE(gf_plan_filter(p0, pred, &p1, &err));
  OKE(gf_plan_with_columns(p1, wn, wx, 2, &p2, &err));
  OKE(gf_plan_group_by(p2, keys, 2, "sum(x) as s, count() as n, mean(v)", false, &p3, &err));
  OKE(gf_plan_having(p3, hv, &p4, &err));
  OKE(gf_plan_sort(p4, sk, 2, &p5, &err));
  OKE(gf_plan_limit(p5, 2, 7, &p6, &err));
  assert_int_equal(gf_plan_get_kind(p6), GF_PLAN_LIMIT);
  assert_int_equal(gf_schema_num_fields(gf_plan_schema(p3)), 5);

  /* The eager chain. */
  gf_frame *a, *b, *c, *d, *e, *g;
  OKE(gf_filter(f, pred, NULL, &a, &err));
  OKE(gf_with_columns(a, wn, wx, 2, NULL, &b, &err));
  OKE(gf_group_by_text(b, keys, 2, "sum(x) as s, count() as n, mean(v)", NULL, &c, &err));
  OKE(gf_filter(c, hv, NULL, &d, &err));
  OKE(gf_sort(d, sk, 2, 0, NULL, &e, &err));
  int64_t rows = gf_frame_num_rows(e);
  int64_t off = rows < 2 ? rows : 2, len = rows - off < 7 ? rows - off : 7;
  OKE(gf_frame_slice(e, off, len, &g, &err));
  assert_true(gf_frame_num_rows(g) > 0);
  expect_plan(p6, g);
  expect_plan(p2, b);
  expect_plan(p4, d);

  gf_plan *ps[] = {p0, p1, p2, p3, p4, p5, p6};
  for (int i = 0; i < 7; i++) gf_plan_release(ps[i]);
  gf_frame *fs[] = {a, b, c, d, e, g, f};
  for (int i = 0; i < 7; i++) gf_frame_release(fs[i]);
  gf_expr_release(pred);
  gf_expr_release(wx[0]);
  gf_expr_release(wx[1]);
  gf_expr_release(hv);
}

/* Every join kind, filters on both sides, distinct, union, select. */
static void test_join_union_distinct(void **state) {
  (void)state;
  gf_frame *l = make_frame(3000, 2, 2), *r = make_frame(400, 3, 3);
  gf_error err;
  gf_expr *pl = parse("w > 0"), *pr = parse("v < 100");
  const char *on[2] = {"k", "g"};
  for (int how = GF_JOIN_INNER; how <= GF_JOIN_ANTI; how++) {
    gf_plan *sl, *sr, *fl, *fr, *j, *dn;
    OKE(gf_plan_from_frame(l, &sl, &err));
    OKE(gf_plan_from_frame(r, &sr, &err));
    OKE(gf_plan_filter(sl, pl, &fl, &err));
    OKE(gf_plan_filter(sr, pr, &fr, &err));
    OKE(gf_plan_join(fl, fr, on, on, 2, (gf_join_kind)how, "_r", &j, &err));
    OKE(gf_plan_distinct(j, on, 1, &dn, &err));
    gf_frame *a, *b, *c, *d;
    OKE(gf_filter(l, pl, NULL, &a, &err));
    OKE(gf_filter(r, pr, NULL, &b, &err));
    gf_join_options jo;
    gf_join_options_init(&jo);
    jo.suffix = "_r";
    OKE(gf_join(a, b, on, on, 2, (gf_join_kind)how, &jo, &c, &err));
    OKE(gf_distinct(c, on, 1, NULL, &d, &err));
    expect_plan(j, c);
    expect_plan(dn, d);
    gf_plan *ps[] = {sl, sr, fl, fr, j, dn};
    for (int i = 0; i < 6; i++) gf_plan_release(ps[i]);
    gf_frame *fs[] = {a, b, c, d};
    for (int i = 0; i < 4; i++) gf_frame_release(fs[i]);
  }
  /* Union by name: the second input's columns in another order. */
  gf_plan *ua, *ub, *sb, *u;
  const char *perm[4] = {"w", "v", "g", "k"};
  OKE(gf_plan_from_frame(l, &ua, &err));
  OKE(gf_plan_from_frame(r, &ub, &err));
  OKE(gf_plan_select(ub, perm, 4, &sb, &err));
  OKE(gf_plan_union(ua, sb, &u, &err));
  gf_frame *parts[2] = {l, r}, *cat;
  OKE(gf_frame_concat(parts, 2, NULL, &cat, &err));
  expect_plan(u, cat);
  /* Union of columns with no common type fails naming the step, the
   * column and both types (missing columns are null-filled:
   * test_plan_gaps.c). */
  gf_plan *bad = NULL;
  const char *gname = "g";
  gf_expr *kcol = gf_col("k");
  gf_plan *s2;
  OKE(gf_plan_with_columns(ub, &gname, &kcol, 1, &s2, &err));
  gf_expr_release(kcol);
  assert_int_equal(gf_plan_union(ua, s2, &bad, &err), GF_ETYPE);
  assert_non_null(strstr(err.message, "step 3 (union)"));
  assert_non_null(strstr(err.message, "'g'"));
  gf_plan *ps[] = {ua, ub, sb, u, s2};
  for (int i = 0; i < 5; i++) gf_plan_release(ps[i]);
  gf_frame_release(cat);
  gf_frame_release(l);
  gf_frame_release(r);
  gf_expr_release(pl);
  gf_expr_release(pr);
}

/* CSV (one and two files), IPC file and stream, ArrowArrayStream sources
 * against the eager readers, and every sink. */
static void test_sources_and_sinks(void **state) {
  (void)state;
  gf_frame *f = make_frame(2500, 2, 4);
  gf_error err;
  char csv[256], ipc[256], ipcs[256], out_csv[256], out_ipc[256];
  tmp_path(csv, sizeof csv, "a.csv");
  tmp_path(ipc, sizeof ipc, "a.arrow");
  tmp_path(ipcs, sizeof ipcs, "a.arrows");
  tmp_path(out_csv, sizeof out_csv, "out.csv");
  tmp_path(out_ipc, sizeof out_ipc, "out.arrow");
  OKE(gf_write_csv(f, csv, NULL, &err));
  OKE(gf_write_ipc_file(f, ipc, NULL, &err));
  OKE(gf_write_ipc_stream(f, ipcs, NULL, &err));
  gf_expr *pred = parse("k >= 3 and v is not null");
  const char *sel[2] = {"v", "g"};

  for (int src = 0; src < 5; src++) {
    gf_plan *s = NULL, *p1, *p2;
    gf_frame *in = NULL;
    gf_csv_read_options co;
    gf_csv_read_options_init(&co);
    gf_csv_column_type ct = {"w", gf_type(GF_TYPE_INT64)};
    co.column_types = &ct;
    co.num_column_types = 1;
    if (src == 0) {
      OKE(gf_plan_scan_csv(csv, &co, &s, &err));
      OKE(gf_read_csv(csv, &co, &in, &err));
    } else if (src == 1) {
      const char *two[2] = {csv, csv};
      OKE(gf_plan_scan_csv_files(two, 2, &co, &s, &err));
      gf_frame *one;
      OKE(gf_read_csv(csv, &co, &one, &err));
      gf_frame *pp[2] = {one, one};
      OKE(gf_frame_concat(pp, 2, NULL, &in, &err));
      gf_frame_release(one);
    } else if (src == 2) {
      OKE(gf_plan_scan_ipc(ipc, NULL, &s, &err));
      OKE(gf_read_ipc(ipc, NULL, &in, &err));
    } else if (src == 3) {
      OKE(gf_plan_scan_ipc(ipcs, NULL, &s, &err));
      OKE(gf_read_ipc(ipcs, NULL, &in, &err));
    } else {
      struct ArrowArrayStream st;
      OKE(gf_frame_export_stream(f, &st, &err));
      OKE(gf_plan_from_stream(&st, &s, &err));
      assert_null(st.release);
      in = gf_frame_retain(f);
    }
    OKE(gf_plan_filter(s, pred, &p1, &err));
    OKE(gf_plan_select(p1, sel, 2, &p2, &err));
    gf_frame *a, *b;
    OKE(gf_filter(in, pred, NULL, &a, &err));
    OKE(gf_select(a, sel, 2, &b, &err));
    if (src == 4) {
      /* A stream is consumed by the first run. */
      gf_frame *got = NULL;
      OKE(gf_plan_collect(p2, NULL, &got, &err));
      assert_true(gf_frame_equals(got, b));
      gf_frame_release(got);
      assert_int_equal(gf_plan_collect(p2, NULL, &got, &err), GF_EINVAL);
      assert_non_null(strstr(err.message, "already consumed"));
    } else {
      expect_plan(p2, b);
      /* Sinks: CSV and IPC files and a stream hold the collected frame. */
      OKE(gf_plan_sink_csv(p2, out_csv, NULL, NULL, &err));
      gf_frame *back = NULL, *ref = NULL;
      char ref_csv[256];
      tmp_path(ref_csv, sizeof ref_csv, "ref.csv");
      OKE(gf_write_csv(b, ref_csv, NULL, &err));
      OKE(gf_read_csv(out_csv, NULL, &back, &err));
      OKE(gf_read_csv(ref_csv, NULL, &ref, &err));
      assert_true(gf_frame_equals(back, ref));
      gf_frame_release(back);
      gf_frame_release(ref);
      unlink(ref_csv);
      OKE(gf_plan_sink_ipc(p2, out_ipc, NULL, NULL, &err));
      OKE(gf_read_ipc(out_ipc, NULL, &back, &err));
      assert_true(gf_frame_equals(back, b));
      gf_frame_release(back);
      struct ArrowArrayStream st;
      OKE(gf_plan_to_stream(p2, NULL, &st, &err));
      OKE(gf_frame_import_stream(&st, GF_IMPORT_CHECK_FULL, &back, &err));
      assert_true(gf_frame_equals(back, b));
      gf_frame_release(back);
    }
    gf_frame_release(a);
    gf_frame_release(b);
    gf_frame_release(in);
    gf_plan_release(s);
    gf_plan_release(p1);
    gf_plan_release(p2);
  }
  /* A failed sink leaves no file. */
  gf_plan *s, *bad;
  OKE(gf_plan_from_frame(f, &s, &err));
  gf_expr *div = parse("k / 0 = 1");
  OKE(gf_plan_filter(s, div, &bad, &err));
  char none[256];
  tmp_path(none, sizeof none, "none.csv");
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  gf_cancel *cancel;
  OKE(gf_cancel_new(&cancel, &err));
  gf_cancel_request(cancel);
  po.cancel = cancel;
  gf_plan_options o;
  gf_plan_options_init(&o);
  o.parallel = &po;
  assert_int_equal(gf_plan_sink_csv(bad, none, NULL, &o, &err), GF_ECANCELED);
  assert_int_not_equal(access(none, F_OK), 0);
  gf_cancel_free(cancel);
  gf_expr_release(div);
  gf_plan_release(s);
  gf_plan_release(bad);
  unlink(csv);
  unlink(ipc);
  unlink(ipcs);
  unlink(out_csv);
  unlink(out_ipc);
  gf_expr_release(pred);
  gf_frame_release(f);
}

/* Plans are checked when built: the message names the step. */
static void test_check_errors(void **state) {
  (void)state;
  gf_frame *f = make_frame(10, 1, 5);
  gf_error err;
  gf_plan *s, *p1, *p2 = NULL, *g;
  OKE(gf_plan_from_frame(f, &s, &err));
  gf_expr *ok = parse("k > 1"), *unknown = parse("k > 1 and nope = 2"), *type = parse("g + 1 > 2");
  gf_expr *agg = parse("sum(v) > 3"), *notbool = parse("k + 1");
  OKE(gf_plan_filter(s, ok, &p1, &err));
  assert_int_equal(gf_plan_filter(p1, unknown, &p2, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "step 3 (filter)"));
  assert_non_null(strstr(err.message, "nope"));
  assert_null(p2);
  assert_int_equal(gf_plan_filter(p1, type, &p2, &err), GF_ETYPE);
  assert_non_null(strstr(err.message, "step 3 (filter)"));
  assert_non_null(strstr(err.message, "g + 1"));
  assert_int_equal(gf_plan_filter(p1, agg, &p2, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "step 3 (filter)"));
  assert_non_null(strstr(err.message, "sum(v)"));
  assert_int_equal(gf_plan_filter(p1, notbool, &p2, &err), GF_ETYPE);
  assert_int_equal(gf_plan_having(p1, ok, &p2, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "step 3 (having)"));
  const char *keys[1] = {"k"}, *bad[1] = {"zz"};
  assert_int_equal(gf_plan_group_by(p1, bad, 1, "sum(v)", false, &p2, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "step 3 (group_by)"));
  assert_int_equal(gf_plan_group_by(p1, keys, 1, "sum(g)", false, &p2, &err), GF_ETYPE);
  assert_int_equal(gf_plan_group_by(p1, keys, 1, "sum(v", false, &p2, &err), GF_EPARSE);
  assert_non_null(strstr(err.message, "step 3 (group_by)"));
  OKE(gf_plan_group_by(p1, keys, 1, "sum(v) as sv", false, &g, &err));
  gf_expr *hv = parse("sv > 0 and k < 5");
  OKE(gf_plan_having(g, hv, &p2, &err));
  gf_plan_release(p2);
  /* Aggregate calls in having name the aggregate output columns. */
  gf_plan *g2 = NULL;
  OKE(gf_plan_group_by(p1, keys, 1, "sum( v ), count()", false, &g2, &err));
  gf_expr *hagg = parse("sum(v) > 0 and count() > 1"), *hmiss = parse("max(v) > 0");
  OKE(gf_plan_having(g2, hagg, &p2, &err));
  char *text = NULL;
  OKE(gf_plan_explain(p2, 0, 0, &text, &err));
  assert_non_null(strstr(text, "having \"sum( v )\" > 0 and \"count()\" > 1"));
  gf_mem_free(text);
  gf_plan_release(p2);
  assert_int_equal(gf_plan_having(g2, hmiss, &p2, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "step 4 (having): aggregate 'max(v)' is not computed"));
  gf_expr_release(hagg);
  gf_expr_release(hmiss);
  gf_plan_release(g2);
  assert_int_equal(gf_plan_filter(g, unknown, &p2, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "step 4 (filter)"));
  gf_sort_key sk = {"nope", false, false};
  assert_int_equal(gf_plan_sort(p1, &sk, 1, &p2, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "step 3 (sort)"));
  assert_int_equal(gf_plan_select(p1, bad, 1, &p2, &err), GF_EINVAL);
  assert_int_equal(gf_plan_limit(p1, -1, 3, &p2, &err), GF_EINVAL);
  assert_int_equal(gf_plan_join(p1, s, bad, keys, 1, GF_JOIN_INNER, NULL, &p2, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "step 3 (join)"));
  const char *gk[1] = {"g"};
  assert_int_equal(gf_plan_join(p1, s, keys, gk, 1, GF_JOIN_INNER, NULL, &p2, &err), GF_ETYPE);
  gf_expr *wagg[1] = {parse("max(v) + 1")};
  const char *wn[1] = {"m"};
  assert_int_equal(gf_plan_with_columns(p1, wn, wagg, 1, &p2, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "step 3 (with_columns)"));
  /* A missing file fails when the source is built, not when run. */
  assert_int_not_equal(gf_plan_scan_csv("/nonexistent/x.csv", NULL, &p2, &err), GF_OK);
  assert_int_not_equal(gf_plan_scan_ipc("/nonexistent/x.arrow", NULL, &p2, &err), GF_OK);
  gf_expr *es[] = {ok, unknown, type, agg, notbool, hv, wagg[0]};
  for (int i = 0; i < 7; i++) gf_expr_release(es[i]);
  gf_plan_release(s);
  gf_plan_release(p1);
  gf_plan_release(g);
  gf_frame_release(f);
}

/* EXPLAIN: one line per node, inputs indented; both sections; profile. */
static void test_explain_and_profile(void **state) {
  (void)state;
  gf_frame *f = make_frame(3000, 2, 6);
  gf_error err;
  gf_plan *s, *r, *j, *fl, *g;
  OKE(gf_plan_from_frame(f, &s, &err));
  OKE(gf_plan_from_frame(f, &r, &err));
  const char *on[1] = {"k"};
  OKE(gf_plan_join(s, r, on, on, 1, GF_JOIN_LEFT, NULL, &j, &err));
  gf_expr *pred = parse("v > 0");
  OKE(gf_plan_filter(j, pred, &fl, &err));
  OKE(gf_plan_group_by(fl, on, 1, "count() as n", true, &g, &err));
  char *text = NULL;
  OKE(gf_plan_explain(g, 0, 0, &text, &err));
  /* Steps: sources 1, join 2, filter 3, group_by 4. */
  assert_non_null(strstr(text, "4. group_by keys=[k] aggs=[count() as n] sorted\n"));
  assert_non_null(strstr(text, "\n  3. filter v > 0\n"));
  assert_non_null(strstr(text, "\n    2. join left on k = k\n"));
  assert_non_null(strstr(text, "\n      1. frame rows=3000\n      1. frame rows=3000\n"));
  gf_mem_free(text);
  OKE(gf_plan_explain(g, GF_PLAN_EXPLAIN_OPTIMIZED | GF_PLAN_EXPLAIN_SCHEMA, 0, &text, &err));
  assert_non_null(strstr(text, "== logical plan ==\n4. group_by"));
  assert_non_null(strstr(text, "== optimized plan ==\n"));
  assert_non_null(strstr(text, "schema: k: int64, n: int64"));
  gf_mem_free(text);

  gf_plan_profile *prof = NULL;
  gf_plan_options o;
  gf_plan_options_init(&o);
  o.profile = &prof;
  gf_frame *got;
  OKE(gf_plan_collect(g, &o, &got, &err));
  assert_non_null(prof);
  assert_true(prof->nops >= 3);
  int64_t last_out = -1;
  for (int i = 0; i < prof->nops; i++) {
    assert_non_null(prof->ops[i].name);
    assert_true(prof->ops[i].rows_in >= 0 && prof->ops[i].rows_out >= 0);
    assert_true(prof->ops[i].workers >= 1);
    last_out = prof->ops[i].rows_out;
  }
  assert_int_equal(last_out, gf_frame_num_rows(got));
  OKE(gf_plan_profile_format(prof, &text, &err));
  assert_non_null(strstr(text, "rows in"));
  assert_non_null(strstr(text, "group-by"));
  gf_mem_free(text);
  gf_plan_profile_free(prof);
  gf_frame_release(got);
  gf_plan *ps[] = {s, r, j, fl, g};
  for (int i = 0; i < 5; i++) gf_plan_release(ps[i]);
  gf_expr_release(pred);
  gf_frame_release(f);
}

/* One collect under a failing allocator (gft_alloc_sweep callback). */
typedef struct plan_sweep {
  const gf_plan *p;
  const gf_frame *want;
  int workers;
  unsigned disabled;
} plan_sweep;

static gf_status plan_once(void *user, const gf_allocator *a) {
  plan_sweep *s = user;
  gf_parallel_options po;
  par(&po, s->workers, 300);
  po.allocator = a;
  gf_plan_options o;
  gf_plan_options_init(&o);
  o.parallel = &po;
  o.disabled_rules = s->disabled;
  gf_frame *r = (gf_frame *)(uintptr_t)1;
  gf_error err;
  gf_status st = gf_plan_collect(s->p, &o, &r, &err);
  if (st != GF_OK) {
    if (r != (gf_frame *)(uintptr_t)1) fail_msg("%s: output written on failure", gft_sweep_at());
    return st;
  }
  if (!gf_frame_equals(r, s->want)) fail_msg("%s: wrong result", gft_sweep_at());
  gf_frame_release(r);
  return GF_OK;
}

/* Every allocation of a run through the options' allocator may fail: the
 * run fails with GF_ENOMEM, leaks nothing and writes no output. */
static void test_allocation_failures(void **state) {
  (void)state;
  gf_frame *f = make_frame(600, 2, 8), *r = make_frame(100, 1, 9);
  gf_error err;
  char ipc[256];
  tmp_path(ipc, sizeof ipc, "sweep.arrow");
  OKE(gf_write_ipc_file(r, ipc, NULL, &err));
  gf_plan *s, *ri, *fl, *w, *j, *g, *so, *l, *u, *d;
  OKE(gf_plan_from_frame(f, &s, &err));
  OKE(gf_plan_scan_ipc(ipc, NULL, &ri, &err));
  gf_expr *pred = parse("w > -200"), *wx = parse("k * 2");
  const char *wn = "x";
  OKE(gf_plan_filter(s, pred, &fl, &err));
  OKE(gf_plan_with_columns(fl, &wn, &wx, 1, &w, &err));
  const char *on[1] = {"k"};
  OKE(gf_plan_join(w, ri, on, on, 1, GF_JOIN_LEFT, NULL, &j, &err));
  const char *keys[1] = {"g"};
  OKE(gf_plan_group_by(j, keys, 1, "sum(x) as sx, count() as n", false, &g, &err));
  gf_sort_key sk = {"sx", true, false};
  OKE(gf_plan_sort(g, &sk, 1, &so, &err));
  OKE(gf_plan_limit(so, 1, 3, &l, &err));
  OKE(gf_plan_union(l, l, &u, &err));
  OKE(gf_plan_distinct(u, NULL, 0, &d, &err));
  gf_frame *want = NULL;
  OKE(gf_plan_collect(d, NULL, &want, &err));
  assert_true(gf_frame_num_rows(want) > 0);
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts c = {0};
  for (int wk = 1; wk <= 3; wk += 2)
    for (int opt = 0; opt < 2; opt++) {
      plan_sweep ps = {d, want, wk, opt ? 0u : (unsigned)GF_PLAN_RULES_ALL};
      gft_alloc_sweep("plan", fa, plan_once, &ps, &c);
    }
  gft_sweep_print("plan (ipc, filter, with, join, group-by, sort, limit, union, distinct)", &c);
  assert_true(c.failing[0] > 10);
  /* A CSV source (parsing only the projected columns) into a top-k. */
  char csv[256];
  tmp_path(csv, sizeof csv, "sweep.csv");
  OKE(gf_write_csv(f, csv, NULL, &err));
  gf_plan *cs, *cf, *ct;
  OKE(gf_plan_scan_csv(csv, NULL, &cs, &err));
  OKE(gf_plan_filter(cs, pred, &cf, &err));
  gf_sort_key vk = {"v", false, true};
  OKE(gf_plan_sort(cf, &vk, 1, &ct, &err));
  gf_plan *cl;
  OKE(gf_plan_limit(ct, 0, 20, &cl, &err));
  gf_frame *cwant = NULL;
  OKE(gf_plan_collect(cl, NULL, &cwant, &err));
  gft_sweep_counts cc = {0};
  for (int opt = 0; opt < 2; opt++) {
    plan_sweep ps2 = {cl, cwant, 2, opt ? 0u : (unsigned)GF_PLAN_RULES_ALL};
    gft_alloc_sweep("plan csv", fa, plan_once, &ps2, &cc);
  }
  gft_sweep_print("plan (csv, filter, sort + limit)", &cc);
  assert_true(cc.failing[0] > 10);
  gf_frame_release(cwant);
  gf_plan *cps[] = {cs, cf, ct, cl};
  for (int i = 0; i < 4; i++) gf_plan_release(cps[i]);
  unlink(csv);
  gf_failing_allocator_free(fa);
  gf_plan *ps[] = {s, ri, fl, w, j, g, so, l, u, d};
  for (int i = 0; i < 10; i++) gf_plan_release(ps[i]);
  gf_expr_release(pred);
  gf_expr_release(wx);
  gf_frame_release(want);
  gf_frame_release(f);
  gf_frame_release(r);
  unlink(ipc);
}

/* gf_expr_columns: distinct names in order; a flat chain of 5,000 terms
 * (built without the parser) costs no recursion in the walk. */
static void test_expr_columns(void **state) {
  (void)state;
  gf_expr *e = parse("b + a * 2 > \"odd name\" and a is null or c in (b, 1)");
  char **names = NULL;
  int n = -1;
  gf_error err;
  OKE(gf_expr_columns(e, &names, &n, &err));
  assert_int_equal(n, 4);
  assert_string_equal(names[0], "b");
  assert_string_equal(names[1], "a");
  assert_string_equal(names[2], "odd name");
  assert_string_equal(names[3], "c");
  gf_mem_free(names);
  gf_expr_release(e);
  e = gf_lit_int64(1);
  OKE(gf_expr_columns(e, &names, &n, &err));
  assert_int_equal(n, 0);
  gf_mem_free(names);
  gf_expr_release(e);
  /* As deep as the constructors allow. */
  gf_expr *chain = gf_col("x0");
  for (int i = 1; i < 900 && chain; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "x%d", i % 7);
    chain = gf_add(chain, gf_col(nm));
  }
  assert_non_null(chain);
  OKE(gf_expr_columns(chain, &names, &n, &err));
  assert_int_equal(n, 7);
  gf_mem_free(names);
  gf_expr_release(chain);
}

/* A CSV column the sample reads as integers but the whole file as text:
 * the run re-checks the plan on the schema read and fails naming the
 * step before any operator runs; a column that only widens (int32 to
 * float64) gives the eager answer on the frame read. */
static void test_csv_schema_change(void **state) {
  (void)state;
  char path[256];
  tmp_path(path, sizeof path, "widen.csv");
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fprintf(fp, "a,b\n");
  for (int i = 0; i < GF_PLAN_CSV_SAMPLE_ROWS + 5; i++) fprintf(fp, "%d,%d\n", i % 100, i);
  fprintf(fp, "x7,2.5\n");
  fclose(fp);
  gf_error err;
  gf_plan *s, *f1, *f2;
  OKE(gf_plan_scan_csv(path, NULL, &s, &err));
  assert_int_equal(gf_schema_field(gf_plan_schema(s), 0)->type.id, GF_TYPE_INT32);
  gf_expr *pa = parse("a > 5"), *pb = parse("b > 5000");
  OKE(gf_plan_filter(s, pa, &f1, &err));
  gf_frame *out = NULL;
  assert_int_equal(gf_plan_collect(f1, NULL, &out, &err), GF_ETYPE);
  assert_non_null(strstr(err.message, "step 2 (filter)"));
  assert_null(out);
  OKE(gf_plan_filter(s, pb, &f2, &err));
  gf_frame *in = NULL, *want = NULL;
  OKE(gf_read_csv(path, NULL, &in, &err));
  assert_int_equal(gf_schema_field(gf_frame_schema(in), 1)->type.id, GF_TYPE_FLOAT64);
  OKE(gf_filter(in, pb, NULL, &want, &err));
  expect_plan(f2, want);
  gf_frame_release(in);
  gf_frame_release(want);
  gf_expr_release(pa);
  gf_expr_release(pb);
  gf_plan_release(s);
  gf_plan_release(f1);
  gf_plan_release(f2);
  unlink(path);
}

/* A plan of 3,000 chained filters and computed columns: building,
 * optimizing (the filters merge into one balanced conjunction pushed into
 * the source), explaining and running it need no deep recursion and give
 * the eager answer. */
static void test_long_plan(void **state) {
  (void)state;
  gf_frame *f = make_frame(2000, 2, 10);
  gf_error err;
  gf_plan *p = NULL;
  OKE(gf_plan_from_frame(f, &p, &err));
  gf_expr *e = parse("k != -1 and w > -1000"), *wx = parse("w + 1");
  const char *wn = "x";
  for (int i = 0; i < 3000; i++) {
    gf_plan *n = NULL;
    if (i % 2) OKE(gf_plan_filter(p, e, &n, &err));
    else OKE(gf_plan_with_columns(p, &wn, &wx, 1, &n, &err));
    gf_plan_release(p);
    p = n;
  }
  gf_frame *a = NULL, *b = NULL;
  OKE(gf_filter(f, e, NULL, &a, &err));
  OKE(gf_with_columns(a, &wn, &wx, 1, NULL, &b, &err));
  gf_plan_options o;
  gf_plan_options_init(&o);
  for (int opt = 0; opt < 2; opt++) {
    o.disabled_rules = opt ? 0 : GF_PLAN_RULES_ALL;
    gf_frame *got = NULL;
    OKE(gf_plan_collect(p, &o, &got, &err));
    assert_true(gf_frame_equals(got, b));
    gf_frame_release(got);
  }
  char *text = NULL;
  OKE(gf_plan_explain(p, GF_PLAN_EXPLAIN_OPTIMIZED, 0, &text, &err));
  assert_non_null(strstr(text, "== optimized plan ==\n2. with_columns x = w + 1\n  1. frame rows=2000 predicate="));
  gf_mem_free(text);
  gf_plan_release(p);
  gf_expr_release(e);
  gf_expr_release(wx);
  gf_frame_release(a);
  gf_frame_release(b);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chain),
      cmocka_unit_test(test_join_union_distinct),
      cmocka_unit_test(test_sources_and_sinks),
      cmocka_unit_test(test_check_errors),
      cmocka_unit_test(test_explain_and_profile),
      cmocka_unit_test(test_allocation_failures),
      cmocka_unit_test(test_expr_columns),
      cmocka_unit_test(test_csv_schema_change),
      cmocka_unit_test(test_long_plan),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
