/* Query pipelines: the fused filter -> with -> select pass equals the
 * operators run one by one, for any worker count and chunk size (row order
 * included); computed columns feeding later filters and expressions;
 * limits; empty results and frames; errors before any row is read;
 * allocation failures; cancellation; blocking steps (group-by, sort,
 * join) chained after the fused pass; and, independent of the eager
 * operators, filter -> with -> filter -> select and filter -> with ->
 * group-by against plain C loops over the input values. */
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
#include "gopherframe/query.h"
#include "gopherframe/testing.h"

/* ---- helpers ------------------------------------------------------------ */

static gf_expr *parse(const char *text) {
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse '%s': %s", text, err.message);
  return e;
}

/* A query as lists of steps, run either through a pipeline or step by
 * step with the eager operators. Kinds: 'f' filter, 'w' with (one
 * NAME=EXPR), 's' select (comma list), 'l' limit. */
typedef struct step {
  char kind;
  const char *text;
} step;

static void options(gf_parallel_options *o, int workers, int64_t chunk) {
  gf_parallel_options_init(o);
  o->num_workers = workers;
  o->chunk_rows = chunk;
  o->min_parallel_rows = 0;
}

/* Splits "a,b,c" into names (static storage, up to 16). */
static int split(const char *text, char names[16][64], const char *ptrs[16]) {
  int n = 0;
  const char *p = text;
  while (*p && n < 16) {
    const char *q = strchr(p, ',');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    memcpy(names[n], p, len);
    names[n][len] = '\0';
    ptrs[n] = names[n];
    n++;
    p = q ? q + 1 : p + len;
  }
  return n;
}

static gf_pipeline *build(const step *steps, int n) {
  gf_pipeline *p;
  gf_error err;
  assert_int_equal(gf_pipeline_new(&p, NULL), GF_OK);
  for (int i = 0; i < n; i++) {
    gf_status st = GF_OK;
    if (steps[i].kind == 'f') {
      gf_expr *e = parse(steps[i].text);
      st = gf_pipeline_add_filter(p, e, &err);
      gf_expr_release(e);
    } else if (steps[i].kind == 'w') {
      const char *eq = strchr(steps[i].text, '=');
      char name[64];
      memcpy(name, steps[i].text, (size_t)(eq - steps[i].text));
      name[eq - steps[i].text] = '\0';
      gf_expr *e = parse(eq + 1);
      const char *nm = name;
      st = gf_pipeline_add_with(p, &nm, &e, 1, &err);
      gf_expr_release(e);
    } else if (steps[i].kind == 's') {
      char names[16][64];
      const char *ptrs[16];
      int k = split(steps[i].text, names, ptrs);
      st = gf_pipeline_add_select(p, ptrs, k, &err);
    } else {
      st = gf_pipeline_add_limit(p, atoll(steps[i].text), &err);
    }
    if (st != GF_OK) fail_msg("add step %d: %s", i, err.message);
  }
  return p;
}

/* The steps one by one with gf_filter, gf_with_columns, gf_select and
 * gf_frame_slice on one worker. */
static gf_frame *reference(const gf_frame *f, const step *steps, int n) {
  gf_parallel_options o;
  options(&o, 1, 0);
  gf_frame *cur = gf_frame_retain((gf_frame *)f);
  gf_error err;
  for (int i = 0; i < n; i++) {
    gf_frame *next = NULL;
    gf_status st;
    if (steps[i].kind == 'f') {
      gf_expr *e = parse(steps[i].text);
      st = gf_filter(cur, e, &o, &next, &err);
      gf_expr_release(e);
    } else if (steps[i].kind == 'w') {
      const char *eq = strchr(steps[i].text, '=');
      char name[64];
      memcpy(name, steps[i].text, (size_t)(eq - steps[i].text));
      name[eq - steps[i].text] = '\0';
      gf_expr *e = parse(eq + 1);
      const char *nm = name;
      st = gf_with_columns(cur, &nm, &e, 1, &o, &next, &err);
      gf_expr_release(e);
    } else if (steps[i].kind == 's') {
      char names[16][64];
      const char *ptrs[16];
      int k = split(steps[i].text, names, ptrs);
      st = gf_select(cur, ptrs, k, &next, &err);
    } else {
      int64_t lim = atoll(steps[i].text);
      if (lim > gf_frame_num_rows(cur)) lim = gf_frame_num_rows(cur);
      st = gf_frame_slice(cur, 0, lim, &next, &err);
    }
    if (st != GF_OK) fail_msg("reference step %d: %s", i, err.message);
    gf_frame_release(cur);
    cur = next;
  }
  return cur;
}

static gf_frame *run(const gf_pipeline *p, const gf_frame *f, const gf_parallel_options *o) {
  gf_frame *r = NULL;
  gf_error err;
  gf_status st = gf_pipeline_run(p, f, o, &r, &err);
  if (st != GF_OK) fail_msg("pipeline: %s", err.message);
  return r;
}

/* c0 int64, c1 utf8, c2 float64, c3 bool, c4 dictionary<utf8>, c5 date32,
 * c6 int32; 10% nulls. */
static gf_frame *test_frame(int64_t rows, int batches, uint64_t seed) {
  gf_datatype t[] = {gf_type(GF_TYPE_INT64),   gf_type(GF_TYPE_UTF8),
                     gf_type(GF_TYPE_FLOAT64), gf_type(GF_TYPE_BOOL),
                     gf_type_dictionary(gf_type(GF_TYPE_UTF8)), gf_type(GF_TYPE_DATE32),
                     gf_type(GF_TYPE_INT32)};
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, 7, rows, batches, 0.1, seed, NULL, &f), GF_OK);
  return f;
}

static void expect_equal(const gf_frame *got, const gf_frame *want, const char *what) {
  if (!gf_frame_equals(got, want))
    fail_msg("%s: pipeline result differs from the step-by-step result (%lld vs %lld rows)", what,
             (long long)gf_frame_num_rows(got), (long long)gf_frame_num_rows(want));
}

/* Checks a query at several worker counts and chunk sizes. */
static void check_query(const gf_frame *f, const step *steps, int n, const char *what) {
  gf_frame *want = reference(f, steps, n);
  gf_pipeline *p = build(steps, n);
  static const int workers[] = {1, 2, 3, 8};
  static const int64_t chunks[] = {0, 777, 4096, 65536};
  for (int w = 0; w < 4; w++)
    for (int c = 0; c < 4; c++) {
      gf_parallel_options o;
      options(&o, workers[w], chunks[c]);
      gf_frame *got = run(p, f, &o);
      char msg[256];
      snprintf(msg, sizeof msg, "%s (workers %d, chunk %lld)", what, workers[w],
               (long long)chunks[c]);
      expect_equal(got, want, msg);
      gf_frame_release(got);
    }
  gf_pipeline_free(p);
  gf_frame_release(want);
}

/* ---- tests -------------------------------------------------------------- */

static void fused_filter_with_select_equals_separate_operators(void **state) {
  (void)state;
  gf_frame *f = test_frame(50000, 3, 11);
  const step q1[] = {{'f', "c0 > 0 and c3"},
                     {'w', "x=c0 * 2 + c6"},
                     {'s', "c1,x,c4,c2"}};
  check_query(f, q1, 3, "filter+with+select");
  const step q2[] = {{'f', "c2 < 0"}, {'s', "c5,c0"}};
  check_query(f, q2, 2, "filter+select");
  const step q3[] = {{'w', "len=length(c1)"}, {'w', "up=upper(c4)"}};
  check_query(f, q3, 2, "with only (no filter)");
  const step q4[] = {{'f', "c4 = 'x' or c0 % 7 = 3"}};
  check_query(f, q4, 1, "filter only");
  gf_frame_release(f);
}

static void computed_columns_feed_later_filters_and_expressions(void **state) {
  (void)state;
  gf_frame *f = test_frame(30000, 2, 12);
  /* A filter on a computed column (dense mode), an expression mixing a
   * computed and an input column, a second filter on input columns
   * (selection narrowed again), and a column replaced in place. */
  const step q[] = {{'w', "a=c0 * 2"},
                    {'f', "a > 0"},
                    {'w', "b=a + c6"},
                    {'f', "c2 > -500000"},
                    {'w', "c0=c0 + 1"},
                    {'s', "b,c1,a,c0,c4"}};
  check_query(f, q, 6, "computed columns");
  /* Computed columns nothing reads are never needed; results unchanged. */
  const step q2[] = {{'w', "dead=c0 / 0"}, {'w', "k=c6 + 1"}, {'f', "k > 3"}, {'s', "c1,k"}};
  check_query(f, q2, 4, "unused computed column");
  /* Three filters in a row. */
  const step q3[] = {{'f', "c0 > 0"}, {'f', "c6 < 0"}, {'f', "is_not_null(c1)"}};
  check_query(f, q3, 3, "three filters");
  gf_frame_release(f);
}

static void limits_cut_in_input_order(void **state) {
  (void)state;
  gf_frame *f = test_frame(40000, 4, 13);
  const step q1[] = {{'f', "c0 > 0"}, {'s', "c0,c1"}, {'l', "123"}};
  check_query(f, q1, 3, "filter+limit");
  const step q2[] = {{'w', "x=c0 + 1"}, {'l', "0"}};
  check_query(f, q2, 2, "limit 0");
  const step q3[] = {{'f', "c0 > 0"}, {'l', "1000000"}};
  check_query(f, q3, 2, "limit above the row count");
  const step q4[] = {{'l', "10"}, {'f', "c0 > 0"}};
  check_query(f, q4, 2, "limit then filter");
  const step q5[] = {{'s', "c2,c0"}, {'l', "5"}};
  check_query(f, q5, 2, "select+limit (zero-copy)");
  gf_frame_release(f);
}

static void empty_results_and_empty_frames(void **state) {
  (void)state;
  gf_frame *f = test_frame(20000, 2, 14);
  const step none[] = {{'f', "c0 > 5000000000"}, {'w', "x=c0 + 1"}, {'s', "x,c1"}};
  check_query(f, none, 3, "0% selectivity");
  const step all[] = {{'f', "true"}, {'w', "x=c0 + 1"}};
  check_query(f, all, 2, "100% selectivity");
  const step nul[] = {{'f', "null"}};
  check_query(f, nul, 1, "null predicate");
  gf_frame_release(f);
  gf_frame *e = test_frame(0, 1, 15);
  check_query(e, none, 3, "empty frame");
  gf_frame_release(e);
}

static void errors_are_reported_before_rows_are_read(void **state) {
  (void)state;
  gf_frame *f = test_frame(1000, 1, 16);
  struct {
    step s[2];
    int n;
    gf_status want;
    const char *msg;
  } cases[] = {
      {{{'f', "nope > 1"}}, 1, GF_EINVAL, "nope"},
      {{{'f', "c0 + 1"}}, 1, GF_ETYPE, "bool"},
      {{{'w', "x=c1 + 1"}}, 1, GF_ETYPE, "c1"},
      {{{'s', "c0,zz"}}, 1, GF_EINVAL, "zz"},
      {{{'w', "x=c0 + 1"}, {'s', "y"}}, 2, GF_EINVAL, "'y'"},
      {{{'s', "c0,c0"}}, 1, GF_EINVAL, "twice"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    gf_pipeline *p = build(cases[i].s, cases[i].n);
    gf_frame *r = NULL;
    gf_error err;
    gf_error_clear(&err);
    gf_status st = gf_pipeline_run(p, f, NULL, &r, &err);
    assert_int_equal(st, cases[i].want);
    assert_null(r);
    if (!strstr(err.message, cases[i].msg))
      fail_msg("case %zu: message '%s' lacks '%s'", i, err.message, cases[i].msg);
    gf_pipeline_free(p);
  }
  /* Duplicate names in one with step are refused when added. */
  gf_pipeline *p;
  assert_int_equal(gf_pipeline_new(&p, NULL), GF_OK);
  gf_expr *e[2] = {parse("c0"), parse("c6")};
  const char *names[2] = {"x", "x"};
  assert_int_equal(gf_pipeline_add_with(p, names, e, 2, NULL), GF_EINVAL);
  assert_int_equal(gf_pipeline_add_limit(p, -1, NULL), GF_EINVAL);
  gf_expr_release(e[0]);
  gf_expr_release(e[1]);
  gf_pipeline_free(p);
  gf_frame_release(f);
}

/* One gf_pipeline_run under a failing allocator (gft_alloc_sweep callback). */
typedef struct pipeline_sweep {
  const gf_pipeline *p;
  const gf_frame *f, *want;
  gf_parallel_options o;
} pipeline_sweep;

static gf_status pipeline_once(void *user, const gf_allocator *a) {
  pipeline_sweep *s = user;
  s->o.allocator = a;
  gf_frame *r = NULL;
  gf_status st = gf_pipeline_run(s->p, s->f, &s->o, &r, NULL);
  if (st == GF_OK) {
    expect_equal(r, s->want, gft_sweep_at());
    gf_frame_release(r);
  } else {
    assert_null(r);
  }
  return st;
}

/* filter -> join -> group-by -> sort through the pipeline API, for the
 * blocking steps' sweep: the right side is the first 200 rows' strings. */
static gf_pipeline *blocking_pipeline(const gf_frame *f, gf_frame **right) {
  gf_frame *head = NULL;
  assert_int_equal(gf_frame_slice(f, 0, 200, &head, NULL), GF_OK);
  const char *rcols[2] = {"c1", "c2"};
  assert_int_equal(gf_select(head, rcols, 2, right, NULL), GF_OK);
  gf_frame_release(head);
  gf_pipeline *p;
  assert_int_equal(gf_pipeline_new(&p, NULL), GF_OK);
  gf_expr *e = parse("c0 > -500000000");
  const char *on[1] = {"c1"}, *gkey[1] = {"c4"};
  gf_sort_key sk[1] = {{"c4", false, false}};
  assert_int_equal(gf_pipeline_add_filter(p, e, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_join(p, *right, on, on, 1, GF_JOIN_INNER, NULL, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_group_by(p, gkey, 1, "sum(c0),median(c2_right),count()", false,
                                            NULL),
                   GF_OK);
  assert_int_equal(gf_pipeline_add_sort(p, sk, 1, NULL), GF_OK);
  gf_expr_release(e);
  return p;
}

/* Every allocation of a fused streaming pipeline and of a blocking one
 * (join, group-by, sort) failed, one-off and persistent: GF_ENOMEM,
 * nothing leaked, and the step-by-step result (streaming) or the clean
 * run's result (blocking) once it runs clean. */
static void pipeline_survives_allocation_failures(void **state) {
  (void)state;
  gf_frame *f = test_frame(6000, 2, 17);
  const step q[] = {{'w', "a=c0 * 2"}, {'f', "a > 0 and c3"}, {'w', "b=length(c1) + a"},
                    {'s', "b,c4,c1"}, {'l', "2500"}};
  gf_pipeline *p = build(q, 5);
  gf_frame *want = reference(f, q, 5);
  gf_frame *right = NULL;
  gf_pipeline *pb = blocking_pipeline(f, &right);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts streaming = {0}, blocking = {0};
  for (int w = 1; w <= 3; w += 2) {
    pipeline_sweep s = {p, f, want, {0}};
    options(&s.o, w, 700);
    gft_alloc_sweep("streaming pipeline", fa, pipeline_once, &s, &streaming);
    pipeline_sweep b = {pb, f, NULL, {0}};
    options(&b.o, w, 700);
    gf_frame *bwant = run(pb, f, &b.o);
    assert_true(gf_frame_num_rows(bwant) > 1); /* the join matched something */
    b.want = bwant;
    gft_alloc_sweep("blocking pipeline", fa, pipeline_once, &b, &blocking);
    gf_frame_release(bwant);
  }
  gft_sweep_print("pipeline (with, filter, select, limit)", &streaming);
  gft_sweep_print("pipeline (filter, join, group-by, sort)", &blocking);
  gf_failing_allocator_free(fa);
  gf_frame_release(want);
  gf_pipeline_free(p);
  gf_pipeline_free(pb);
  gf_frame_release(right);
  gf_frame_release(f);
}

/* Observer that cancels the run after the first step. */
static void cancel_after_first(void *user, const gf_pipeline_step_info *info) {
  (void)info;
  gf_cancel_request(user);
}

static void cancellation_stops_the_run_cleanly(void **state) {
  (void)state;
  gf_frame *f = test_frame(20000, 2, 18);
  gf_cancel *c;
  assert_int_equal(gf_cancel_new(&c, NULL), GF_OK);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  /* Cancelled before it starts. */
  const step q[] = {{'f', "c0 > 0"}, {'l', "100"}, {'w', "x=c0 + 1"}, {'f', "x > 5"}};
  gf_pipeline *p = build(q, 4);
  gf_parallel_options o;
  options(&o, 2, 1000);
  o.cancel = c;
  o.allocator = gf_failing_allocator_get(fa);
  gf_cancel_request(c);
  gf_frame *r = NULL;
  assert_int_equal(gf_pipeline_run(p, f, &o, &r, NULL), GF_ECANCELED);
  assert_null(r);
  /* Cancelled between steps (the observer requests it after the first). */
  gf_cancel_reset(c);
  gf_pipeline_set_observer(p, cancel_after_first, c);
  gf_error err;
  assert_int_equal(gf_pipeline_run(p, f, &o, &r, &err), GF_ECANCELED);
  assert_null(r);
  assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  /* Without cancellation the same run succeeds. */
  gf_cancel_reset(c);
  gf_pipeline_set_observer(p, NULL, NULL);
  assert_int_equal(gf_pipeline_run(p, f, &o, &r, &err), GF_OK);
  gf_frame *want = reference(f, q, 4);
  expect_equal(r, want, "uncancelled run");
  gf_frame_release(want);
  gf_frame_release(r);
  assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  gf_pipeline_free(p);
  gf_failing_allocator_free(fa);
  gf_cancel_free(c);
  gf_frame_release(f);
}

/* Records step names and the merged statistics. */
typedef struct seen {
  int n;
  char names[8][96];
  int64_t rows_out[8];
} seen;

static void record(void *user, const gf_pipeline_step_info *info) {
  seen *s = user;
  if (s->n < 8) {
    snprintf(s->names[s->n], sizeof s->names[0], "%s", info->name);
    s->rows_out[s->n] = info->rows_out;
  }
  s->n++;
}

static void observer_sees_fused_steps_and_stats_are_filled(void **state) {
  (void)state;
  gf_frame *f = test_frame(100000, 2, 19);
  const step q[] = {{'f', "c0 > 0"}, {'w', "x=c0 + 1"}, {'s', "x"}};
  gf_pipeline *p = build(q, 3);
  seen s;
  memset(&s, 0, sizeof s);
  gf_pipeline_set_observer(p, record, &s);
  gf_exec_stats stats;
  memset(&stats, 0, sizeof stats);
  gf_parallel_options o;
  options(&o, 2, 10000);
  o.stats = &stats;
  gf_frame *r = run(p, f, &o);
  assert_int_equal(s.n, 1);
  assert_string_equal(s.names[0], "filter+with+select (fused)");
  assert_int_equal(s.rows_out[0], gf_frame_num_rows(r));
  assert_int_equal(stats.rows, 100000);
  assert_true(stats.morsels >= 10);
  assert_true(stats.workers_used >= 1);
  gf_frame_release(r);
  gf_pipeline_free(p);
  gf_frame_release(f);
}

/* Blocking steps after a fused pass equal the eager operators. */
static void group_by_sort_and_join_follow_the_fused_pass(void **state) {
  (void)state;
  gf_frame *f = test_frame(20000, 2, 20);
  gf_parallel_options o;
  options(&o, 1, 0);
  gf_expr *pred = parse("c0 > 0");
  gf_frame *filtered;
  assert_int_equal(gf_filter(f, pred, &o, &filtered, NULL), GF_OK);
  const char *key = "c4";
  gf_error err;

  /* group-by */
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = &o;
  gf_frame *want_g = NULL;
  gf_status st = gf_group_by_text(filtered, &key, 1, "count(),sum(c6) as s", &go, &want_g, &err);
  if (st != GF_OK) fail_msg("reference group-by: %s", err.message);
  gf_pipeline *p;
  assert_int_equal(gf_pipeline_new(&p, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_filter(p, pred, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_group_by(p, &key, 1, "count(),sum(c6) as s", false, &err), GF_OK);
  for (int w = 1; w <= 3; w++) {
    gf_parallel_options po;
    options(&po, w, 999);
    gf_frame *got = run(p, f, &po);
    expect_equal(got, want_g, "filter + group-by");
    gf_frame_release(got);
  }
  gf_pipeline_free(p);
  gf_frame_release(want_g);
  assert_int_equal(gf_pipeline_new(&p, NULL), GF_OK);
  assert_int_not_equal(gf_pipeline_add_group_by(p, &key, 1, "sum(", false, &err), GF_OK);
  gf_pipeline_free(p);

  /* sort + limit (top-k) */
  gf_sort_key *keys;
  int nkeys;
  assert_int_equal(gf_sort_keys_parse("c6 desc, c0", &keys, &nkeys, NULL), GF_OK);
  gf_frame *sorted;
  assert_int_equal(gf_sort(filtered, keys, nkeys, 0, &o, &sorted, NULL), GF_OK);
  gf_frame *want_s;
  assert_int_equal(gf_frame_slice(sorted, 0, 50, &want_s, NULL), GF_OK);
  assert_int_equal(gf_pipeline_new(&p, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_filter(p, pred, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_sort(p, keys, nkeys, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_limit(p, 50, NULL), GF_OK);
  for (int w = 1; w <= 3; w++) {
    gf_parallel_options po;
    options(&po, w, 999);
    gf_frame *got = run(p, f, &po);
    expect_equal(got, want_s, "filter + sort + limit");
    gf_frame_release(got);
  }
  gf_pipeline_free(p);
  gf_frame_release(want_s);
  gf_frame_release(sorted);
  gf_sort_keys_free(keys);

  /* join with a frame, then filter on the joined columns */
  gf_frame *right;
  const char *rsel[] = {"c4", "c6"};
  assert_int_equal(gf_select(filtered, rsel, 2, &right, NULL), GF_OK);
  gf_frame *right_small;
  assert_int_equal(gf_frame_slice(right, 0, 200, &right_small, NULL), GF_OK);
  gf_join_options jo;
  gf_join_options_init(&jo);
  jo.parallel = &o;
  gf_frame *joined;
  st = gf_join(f, right_small, &key, &key, 1, GF_JOIN_INNER, &jo, &joined, &err);
  if (st != GF_OK) fail_msg("reference join: %s", err.message);
  gf_expr *jp = parse("c6_right > c6");
  gf_frame *want_j;
  assert_int_equal(gf_filter(joined, jp, &o, &want_j, NULL), GF_OK);
  assert_int_equal(gf_pipeline_new(&p, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_join(p, right_small, &key, &key, 1, GF_JOIN_INNER, NULL, NULL),
                   GF_OK);
  assert_int_equal(gf_pipeline_add_filter(p, jp, NULL), GF_OK);
  for (int w = 1; w <= 3; w++) {
    gf_parallel_options po;
    options(&po, w, 999);
    gf_frame *got = run(p, f, &po);
    expect_equal(got, want_j, "join + filter");
    gf_frame_release(got);
  }
  gf_pipeline_free(p);
  gf_frame_release(want_j);
  gf_expr_release(jp);
  gf_frame_release(joined);
  gf_frame_release(right_small);
  gf_frame_release(right);
  gf_frame_release(filtered);
  gf_expr_release(pred);
  gf_frame_release(f);
}


/* The group-by after a fused filter/with pass (the pass compacts each
 * morsel's rows of only the columns the group-by reads) equals filter ->
 * with_columns -> group-by run one by one, bit for bit, at every worker
 * count and chunk size: computed keys and inputs, float sums, variances,
 * medians, count() alone, and a filter that keeps nothing. */
static void group_by_fused_with_filter_and_with_equals_eager(void **state) {
  (void)state;
  gf_frame *f = test_frame(30000, 3, 41);
  static const struct {
    const char *filter, *with_name, *with_expr, *keys, *aggs;
  } Q[] = {
      {"c6 > -500000000", "k", "c6 % 7", "k,c4",
       "sum(y) as s,mean(c2) as m,var(y) as v,count() as n,median(c2) as md,first(c1) as f1"},
      {"c3", "k", "c0 % 3", "k", "count()"},
      {"c0 > 0 and c2 < 0.5", "y", "c2 * 1e7 + c0", "", "sum(y) as s,std(y) as sd,n_unique(c4)"},
      {"c0 > 9223372036854775806", "k", "c6 % 7", "c4", "sum(c6),max(y)"},
  };
  gf_parallel_options one;
  options(&one, 1, 0);
  for (size_t q = 0; q < sizeof Q / sizeof Q[0]; q++) {
    gf_error err;
    gf_expr *pred = parse(Q[q].filter);
    gf_expr *wx[2] = {parse(Q[q].with_expr), parse("c2 * 3.5 - c6")};
    const char *wn[2] = {Q[q].with_name, strcmp(Q[q].with_name, "y") ? "y" : "y2"};
    char kbuf[16][64];
    const char *keys[16];
    int nk = Q[q].keys[0] ? split(Q[q].keys, kbuf, keys) : 0;
    /* eager */
    gf_frame *filtered = NULL, *withed = NULL, *want = NULL;
    assert_int_equal(gf_filter(f, pred, &one, &filtered, NULL), GF_OK);
    assert_int_equal(gf_with_columns(filtered, wn, wx, 2, &one, &withed, NULL), GF_OK);
    gf_groupby_options go;
    gf_groupby_options_init(&go);
    go.parallel = &one;
    gf_status st = gf_group_by_text(withed, keys, nk, Q[q].aggs, &go, &want, &err);
    if (st != GF_OK) fail_msg("reference group-by %zu: %s", q, err.message);
    /* fused */
    gf_pipeline *p;
    assert_int_equal(gf_pipeline_new(&p, NULL), GF_OK);
    assert_int_equal(gf_pipeline_add_filter(p, pred, NULL), GF_OK);
    assert_int_equal(gf_pipeline_add_with(p, wn, wx, 2, NULL), GF_OK);
    assert_int_equal(gf_pipeline_add_group_by(p, keys, nk, Q[q].aggs, false, &err), GF_OK);
    static const int workers[] = {1, 2, 3, 8};
    static const int64_t chunks[] = {0, 7, 1024, 65536};
    for (int w = 0; w < 4; w++)
      for (int c = 0; c < 4; c++) {
        if (chunks[c] == 7 && workers[w] > 2) continue; /* 4,000+ morsels: keep it quick */
        gf_parallel_options o;
        options(&o, workers[w], chunks[c]);
        gf_frame *got = run(p, f, &o);
        char msg[160];
        snprintf(msg, sizeof msg, "query %zu (workers %d, chunk %lld)", q, workers[w],
                 (long long)chunks[c]);
        expect_equal(got, want, msg);
        gf_frame_release(got);
      }
    gf_pipeline_free(p);
    gf_frame_release(want);
    gf_frame_release(withed);
    gf_frame_release(filtered);
    gf_expr_release(wx[0]);
    gf_expr_release(wx[1]);
    gf_expr_release(pred);
  }
  gf_frame_release(f);
}

/* Runs filter c1 > 0 -> group-by c0: sum(c1) over f at one worker and fixed
 * chunks through a counting allocator; returns the allocations made. */
static int64_t allocations_of_filter_group_by(const gf_frame *f) {
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gf_pipeline *p;
  assert_int_equal(gf_pipeline_new(&p, NULL), GF_OK);
  gf_expr *pred = parse("c1 > 0");
  const char *key = "c0";
  assert_int_equal(gf_pipeline_add_filter(p, pred, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_group_by(p, &key, 1, "sum(c1)", false, NULL), GF_OK);
  gf_parallel_options o;
  options(&o, 1, 1000);
  o.allocator = gf_failing_allocator_get(fa);
  gf_failing_allocator_arm(fa, 0, false);
  gf_frame *r = run(p, f, &o);
  int64_t n = gf_failing_allocator_attempts(fa);
  gf_frame_release(r);
  assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  gf_pipeline_free(p);
  gf_expr_release(pred);
  gf_failing_allocator_free(fa);
  return n;
}

/* Columns the group-by never reads are not gathered by the fused pass:
 * the run makes exactly the same allocations with or without three extra
 * string columns in the input. */
static void fused_pass_before_group_by_gathers_only_what_it_reads(void **state) {
  (void)state;
  gf_datatype t[] = {gf_type(GF_TYPE_INT32), gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_UTF8),
                     gf_type(GF_TYPE_UTF8), gf_type(GF_TYPE_UTF8)};
  gf_frame *wide = NULL, *narrow = NULL;
  assert_int_equal(gft_random_frame(t, 5, 20000, 2, 0.1, 77, NULL, &wide), GF_OK);
  const char *names[] = {"c0", "c1"};
  assert_int_equal(gf_select(wide, names, 2, &narrow, NULL), GF_OK);
  int64_t a_wide = allocations_of_filter_group_by(wide);
  int64_t a_narrow = allocations_of_filter_group_by(narrow);
  assert_true(a_narrow > 0);
  assert_int_equal(a_wide, a_narrow);
  gf_frame_release(narrow);
  gf_frame_release(wide);
}

/* ---- an independent reference: the query as plain loops ------------------ */

/* Column c of f (every batch) as C arrays: ints (signed integers and bool),
 * doubles, strings (NUL-terminated copies) and validity flags. */
typedef struct raw_col {
  int64_t *i;
  double *d;
  char **s;
  bool *ok;
} raw_col;

static raw_col load_raw(const gf_frame *f, int c) {
  int64_t n = gf_frame_num_rows(f);
  raw_col r = {calloc((size_t)n, sizeof(int64_t)), calloc((size_t)n, sizeof(double)),
               calloc((size_t)n, sizeof(char *)), calloc((size_t)n, sizeof(bool))};
  assert_true(r.i && r.d && r.s && r.ok);
  gf_type_id id = gf_schema_field(gf_frame_schema(f), c)->type.id;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *a = gf_frame_column(f, b, c);
    int64_t off = gf_frame_batch_offset(f, b);
    for (int64_t j = 0; j < gf_array_length(a); j++) {
      int64_t row = off + j;
      r.ok[row] = !gf_array_is_null(a, j);
      if (!r.ok[row]) continue;
      if (id == GF_TYPE_FLOAT64) r.d[row] = gf_array_get_double(a, j);
      else if (id == GF_TYPE_UTF8) {
        int64_t len;
        const char *v = gf_array_get_bytes(a, j, &len);
        r.s[row] = calloc((size_t)len + 1, 1);
        assert_non_null(r.s[row]);
        memcpy(r.s[row], v, (size_t)len);
      } else r.i[row] = gf_array_get_int64(a, j);
    }
  }
  return r;
}

static void free_raw(raw_col *r, int64_t n) {
  for (int64_t j = 0; j < n; j++) free(r->s[j]);
  free(r->i), free(r->d), free(r->s), free(r->ok);
}

/* Column `name` of r, all batches in one array (caller releases). */
static gf_array *whole_column(const gf_frame *r, const char *name) {
  gf_frame *one;
  assert_int_equal(gf_frame_combine_batches(r, NULL, &one, NULL), GF_OK);
  int c = gf_schema_find(gf_frame_schema(one), name);
  if (c < 0) fail_msg("no column %s", name);
  gf_array *a = gf_frame_num_batches(one) > 0 ? gf_array_retain(gf_frame_column(one, 0, c)) : NULL;
  gf_frame_release(one);
  return a;
}

static void expect_column(const gf_frame *got, const char *name, gf_array *want, const char *what) {
  gf_array *a = whole_column(got, name);
  if (gf_array_length(want) == 0 && !a) {
    gf_array_release(want);
    return;
  }
  if (!a || !gf_array_equals(a, want))
    fail_msg("%s: column %s differs from the plain-loop reference", what, name);
  gf_array_release(a);
  gf_array_release(want);
}

static void pipeline_results_equal_plain_loops(void **state) {
  (void)state;
  gf_frame *f = test_frame(60000, 3, 51);
  int64_t n = gf_frame_num_rows(f);
  raw_col c0 = load_raw(f, 0), c1 = load_raw(f, 1), c2 = load_raw(f, 2), c3 = load_raw(f, 3),
          c6 = load_raw(f, 6);
  /* filter "c0 > 0 and c3" -> with y = c0 % 1000 + c6, g = c6 % 5 ->
   * filter "c2 < 100000", computed here row by row (a null operand makes a
   * null; a filter keeps only true, so a null in an and drops the row). */
  int64_t m = 0;
  int64_t *rows = calloc((size_t)n, sizeof *rows), *y = calloc((size_t)n, sizeof *y);
  bool *yok = calloc((size_t)n, sizeof *yok);
  const char **s_out = calloc((size_t)n, sizeof *s_out);
  double *d_out = calloc((size_t)n, sizeof *d_out);
  bool *d_ok = calloc((size_t)n, sizeof *d_ok);
  assert_true(rows && y && yok && s_out && d_out && d_ok);
  /* Groups of g: -4..4 at 0..8, null at 9. */
  int64_t cnt[10] = {0}, ny[10] = {0}, sum[10] = {0}, nd[10] = {0};
  double lo[10], hi[10], dsum[10] = {0};
  for (int64_t r = 0; r < n; r++) {
    if (!(c0.ok[r] && c0.i[r] > 0 && c3.ok[r] && c3.i[r])) continue;
    bool ok = c0.ok[r] && c6.ok[r];
    int64_t yv = ok ? c0.i[r] % 1000 + c6.i[r] : 0;
    int G = c6.ok[r] ? (int)(c6.i[r] % 5) + 4 : 9;
    cnt[G]++;
    if (ok) ny[G]++, sum[G] += yv;
    if (c2.ok[r]) {
      if (nd[G] == 0 || c2.d[r] < lo[G]) lo[G] = c2.d[r];
      if (nd[G] == 0 || c2.d[r] > hi[G]) hi[G] = c2.d[r];
      nd[G]++;
      dsum[G] += c2.d[r];
    }
    if (!(c2.ok[r] && c2.d[r] < 100000)) continue;
    rows[m] = r;
    y[m] = yv, yok[m] = ok;
    s_out[m] = c1.ok[r] ? c1.s[r] : NULL;
    d_out[m] = c2.d[r], d_ok[m] = true;
    m++;
  }
  assert_true(m > 1000);

  gf_expr *pred = parse("c0 > 0 and c3"), *pred2 = parse("c2 < 100000");
  gf_expr *wx[2] = {parse("c0 % 1000 + c6"), parse("c6 % 5")};
  const char *wn[2] = {"y", "g"}, *sel[3] = {"c1", "y", "c2"}, *key = "g";
  gf_pipeline *rows_q, *groups_q;
  assert_int_equal(gf_pipeline_new(&rows_q, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_filter(rows_q, pred, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_with(rows_q, wn, wx, 2, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_filter(rows_q, pred2, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_select(rows_q, sel, 3, NULL), GF_OK);
  assert_int_equal(gf_pipeline_new(&groups_q, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_filter(groups_q, pred, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_with(groups_q, wn, wx, 2, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_group_by(groups_q, &key, 1,
                                            "count() as n, count(y) as ny, sum(y) as s, "
                                            "min(c2) as lo, max(c2) as hi, mean(c2) as m",
                                            true, NULL),
                   GF_OK);
  static const int workers[] = {1, 2, 4};
  static const int64_t chunks[] = {0, 777};
  for (int w = 0; w < 3; w++)
    for (int c = 0; c < 2; c++) {
      gf_parallel_options o;
      options(&o, workers[w], chunks[c]);
      char what[96];
      snprintf(what, sizeof what, "filter+with+filter+select (workers %d, chunk %lld)", workers[w],
               (long long)chunks[c]);
      gf_frame *got = run(rows_q, f, &o);
      assert_int_equal(gf_frame_num_rows(got), m);
      expect_column(got, "c1", gft_string_array(gf_type(GF_TYPE_UTF8), s_out, m), what);
      expect_column(got, "y", gft_int64_array(gf_type(GF_TYPE_INT64), y, yok, m), what);
      expect_column(got, "c2", gft_double_array(gf_type(GF_TYPE_FLOAT64), d_out, d_ok, m), what);
      gf_frame_release(got);
      /* Groups sorted by g, the null group last. */
      got = run(groups_q, f, &o);
      int64_t row = 0;
      for (int G = 0; G < 10; G++) {
        if (cnt[G] == 0) continue;
        gf_frame *one;
        assert_int_equal(gf_frame_slice(got, row, 1, &one, NULL), GF_OK);
        gf_frame *cmb;
        assert_int_equal(gf_frame_combine_batches(one, NULL, &cmb, NULL), GF_OK);
        gf_schema *sc = gf_frame_schema(cmb);
        const gf_array *g = gf_frame_column(cmb, 0, gf_schema_find(sc, "g"));
        if (G == 9) assert_true(gf_array_is_null(g, 0));
        else assert_int_equal(gf_array_get_int64(g, 0), G - 4);
        assert_int_equal(gf_array_get_int64(gf_frame_column(cmb, 0, gf_schema_find(sc, "n")), 0), cnt[G]);
        assert_int_equal(gf_array_get_int64(gf_frame_column(cmb, 0, gf_schema_find(sc, "ny")), 0), ny[G]);
        assert_int_equal(gf_array_get_int64(gf_frame_column(cmb, 0, gf_schema_find(sc, "s")), 0), sum[G]);
        assert_true(gf_array_get_double(gf_frame_column(cmb, 0, gf_schema_find(sc, "lo")), 0) == lo[G]);
        assert_true(gf_array_get_double(gf_frame_column(cmb, 0, gf_schema_find(sc, "hi")), 0) == hi[G]);
        double mean = gf_array_get_double(gf_frame_column(cmb, 0, gf_schema_find(sc, "m")), 0);
        double want = dsum[G] / (double)nd[G];
        if (!(fabs(mean - want) <= 1e-9 * fmax(1.0, fabs(want))))
          fail_msg("%s: mean of group %d: %.17g want %.17g", what, G - 4, mean, want);
        gf_frame_release(cmb);
        gf_frame_release(one);
        row++;
      }
      assert_int_equal(gf_frame_num_rows(got), row);
      gf_frame_release(got);
    }
  gf_pipeline_free(rows_q);
  gf_pipeline_free(groups_q);
  gf_expr_release(pred), gf_expr_release(pred2), gf_expr_release(wx[0]), gf_expr_release(wx[1]);
  free(rows), free(y), free(yok), free(s_out), free(d_out), free(d_ok);
  free_raw(&c0, n), free_raw(&c1, n), free_raw(&c2, n), free_raw(&c3, n), free_raw(&c6, n);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fused_filter_with_select_equals_separate_operators),
      cmocka_unit_test(computed_columns_feed_later_filters_and_expressions),
      cmocka_unit_test(limits_cut_in_input_order),
      cmocka_unit_test(empty_results_and_empty_frames),
      cmocka_unit_test(errors_are_reported_before_rows_are_read),
      cmocka_unit_test(pipeline_survives_allocation_failures),
      cmocka_unit_test(cancellation_stops_the_run_cleanly),
      cmocka_unit_test(observer_sees_fused_steps_and_stats_are_filled),
      cmocka_unit_test(group_by_sort_and_join_follow_the_fused_pass),
      cmocka_unit_test(group_by_fused_with_filter_and_with_equals_eager),
      cmocka_unit_test(fused_pass_before_group_by_gathers_only_what_it_reads),
      cmocka_unit_test(pipeline_results_equal_plain_loops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
