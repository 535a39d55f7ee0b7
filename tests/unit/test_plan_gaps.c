/* Lazy plans (plan.h), the gaps of the plan layer closed after `gf query`
 * moved onto plans: sources on pipes read once (and the build-time read
 * under the caller's options), limits pushed into CSV scans, HAVING on
 * renamed aggregates, filters on suffixed join columns pushed, the IPC
 * stream sink, union by name with missing columns, per-operator peaks.
 * Every answer is checked against the eager functions on the materialised
 * input, or a naive loop written here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gf_test_data.h"
#include "gf_test_garbage.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"

/* ---- helpers ------------------------------------------------------------ */

#define OKE(call)                                                  \
  do {                                                             \
    gf_status s_ = (call);                                         \
    if (s_ != GF_OK) fail_msg("%s: %s", #call, err.message);       \
  } while (0)

static gf_expr *parse(const char *text) {
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse '%s': %s", text, err.message);
  return e;
}

static void tmp_path(char *p, size_t n, const char *name) {
  const char *dir = getenv("TMPDIR");
  snprintf(p, n, "%s/gf_plang_%d_%s", dir ? dir : "/tmp", (int)getpid(), name);
}

static void par(gf_parallel_options *o, int workers, int64_t chunk) {
  gf_parallel_options_init(o);
  o->num_workers = workers;
  o->chunk_rows = chunk;
  o->min_parallel_rows = 0;
}

/* Collects p at 1/2/3/8 workers and several chunk sizes, with and without
 * the optimizer (or only with it when `opt_only`), and checks each result
 * equals `want`. */
static void expect_plan_x(const gf_plan *p, const gf_frame *want, bool opt_only) {
  static const int workers[] = {1, 2, 3, 8};
  static const int64_t chunks[] = {0, 7, 1000};
  for (int w = 0; w < 4; w++)
    for (int c = 0; c < 3; c++)
      for (int opt = opt_only ? 1 : 0; opt < 2; opt++) {
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
static void expect_plan(const gf_plan *p, const gf_frame *want) { expect_plan_x(p, want, false); }

/* A child process that copies file `from` into the FIFO `fifo` (opened
 * for writing, so the reader's open returns), then exits. */
static pid_t feed_fifo(const char *fifo, const char *from) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int out = open(fifo, O_WRONLY);
    int in = open(from, O_RDONLY);
    char buf[4096];
    ssize_t n;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
      if (write(out, buf, (size_t)n) != n) break;
    _exit(0);
  }
  return pid;
}

/* A CSV of `rows` rows: id int, grp one of four strings, age int with
 * empty (null) cells, score float. */
static void write_people(const char *path, int rows, uint64_t seed) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs("id,grp,age,score\n", f);
  uint64_t s = seed;
  static const char *const gs[] = {"x", "y", "zz", "w"};
  for (int i = 0; i < rows; i++) {
    uint64_t r = gft_rand_next(&s);
    if (r % 13 == 0) fprintf(f, "%d,%s,,%.3f\n", i, gs[(r >> 8) % 4], (double)(r % 1000) / 7.0);
    else
      fprintf(f, "%d,%s,%d,%.3f\n", i, gs[(r >> 8) % 4], (int)((r >> 16) % 80), (double)(r % 1000) / 7.0);
  }
  fclose(f);
}

/* ---- 1. sources on pipes, build-time options ------------------------------ */

/* A CSV and an IPC stream given through FIFOs are read once, when the
 * source is built, and every run starts from that frame: two runs (and the
 * run at every worker count) equal the eager operators on the file read
 * normally. */
static void test_pipe_sources(void **state) {
  (void)state;
  gf_error err;
  char csv[256], arrows[256], fifo[256];
  tmp_path(csv, sizeof csv, "p.csv");
  tmp_path(arrows, sizeof arrows, "p.arrows");
  tmp_path(fifo, sizeof fifo, "fifo");
  write_people(csv, 3000, 11);
  gf_frame *whole = NULL;
  OKE(gf_read_csv(csv, NULL, &whole, &err));
  OKE(gf_write_ipc_stream(whole, arrows, NULL, &err));
  gf_expr *pred = parse("age > 30");
  const char *sel[2] = {"score", "id"};
  gf_frame *a = NULL, *want = NULL;
  OKE(gf_filter(whole, pred, NULL, &a, &err));
  OKE(gf_select(a, sel, 2, &want, &err));
  for (int kind = 0; kind < 2; kind++) {
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t pid = feed_fifo(fifo, kind == 0 ? csv : arrows);
    gf_plan *s = NULL, *f = NULL, *p = NULL;
    gf_parallel_options bo;
    par(&bo, 2, 0);
    if (kind == 0) OKE(gf_plan_scan_csv_with(fifo, NULL, &bo, &s, &err));
    else OKE(gf_plan_scan_ipc_with(fifo, NULL, &bo, &s, &err));
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    /* The writer is gone: a second open of the FIFO would block, so the
     * runs below prove the input is not opened again. */
    unlink(fifo);
    assert_true(gf_schema_equals(gf_plan_schema(s), gf_frame_schema(whole)));
    OKE(gf_plan_filter(s, pred, &f, &err));
    OKE(gf_plan_select(f, sel, 2, &p, &err));
    expect_plan(p, want);
    gf_frame *all = NULL;
    OKE(gf_plan_collect(s, NULL, &all, &err));
    assert_true(gf_frame_equals(all, whole));
    gf_frame_release(all);
    gf_plan_release(s);
    gf_plan_release(f);
    gf_plan_release(p);
  }
  gf_expr_release(pred);
  gf_frame_release(a);
  gf_frame_release(want);
  gf_frame_release(whole);
  unlink(csv);
  unlink(arrows);
}

/* The read made while building a scan takes the caller's options: a
 * cancelled token and a memory limit too small for it each fail the
 * build (nothing leaks), for CSV and IPC; without them the build works. */
static void test_build_options(void **state) {
  (void)state;
  gf_error err;
  char csv[256], ipc[256];
  tmp_path(csv, sizeof csv, "b.csv");
  tmp_path(ipc, sizeof ipc, "b.arrow");
  write_people(csv, 5000, 3);
  gf_frame *whole = NULL;
  OKE(gf_read_csv(csv, NULL, &whole, &err));
  OKE(gf_write_ipc_file(whole, ipc, NULL, &err));
  gf_cancel *c = NULL;
  OKE(gf_cancel_new(&c, &err));
  gf_cancel_request(c);
  for (int kind = 0; kind < 2; kind++) {
    gf_plan *s = NULL;
    gf_parallel_options bo;
    par(&bo, 1, 0);
    bo.cancel = c;
    gf_status st = kind == 0 ? gf_plan_scan_csv_with(csv, NULL, &bo, &s, &err)
                             : gf_plan_scan_ipc_with(ipc, NULL, &bo, &s, &err);
    assert_int_equal(st, GF_ECANCELED);
    assert_null(s);
    par(&bo, 1, 0);
    bo.memory_limit = 64;
    st = kind == 0 ? gf_plan_scan_csv_with(csv, NULL, &bo, &s, &err)
                   : gf_plan_scan_ipc_with(ipc, NULL, &bo, &s, &err);
    assert_int_equal(st, GF_ENOMEM);
    assert_non_null(strstr(err.message, "limit"));
    assert_null(s);
    par(&bo, 1, 0);
    st = kind == 0 ? gf_plan_scan_csv_with(csv, NULL, &bo, &s, &err)
                   : gf_plan_scan_ipc_with(ipc, NULL, &bo, &s, &err);
    if (st != GF_OK) fail_msg("%s", err.message);
    gf_frame *got = NULL;
    OKE(gf_plan_collect(s, NULL, &got, &err));
    assert_true(gf_frame_equals(got, whole));
    gf_frame_release(got);
    gf_plan_release(s);
  }
  gf_cancel_free(c);
  gf_frame_release(whole);
  unlink(csv);
  unlink(ipc);
}

/* ---- 2. limits pushed into CSV scans -------------------------------------- */

/* Rows the profile says the scan read. */
static int64_t scan_rows_read(const gf_plan *p) {
  gf_error err;
  gf_plan_profile *pr = NULL;
  gf_plan_options o;
  gf_plan_options_init(&o);
  o.profile = &pr;
  gf_frame *got = NULL;
  OKE(gf_plan_collect(p, &o, &got, &err));
  gf_frame_release(got);
  int64_t rows = -1;
  for (int i = 0; i < pr->nops; i++)
    if (strcmp(pr->ops[i].name, "scan_csv") == 0) rows = pr->ops[i].rows_out;
  gf_plan_profile_free(pr);
  return rows;
}

/* limit(offset 5, 20) over with/select over a CSV scan: with every column
 * read pinned by column_types the scan reads 25 rows (EXPLAIN shows
 * max_rows=25); without, it reads the whole file (the reader's inference
 * must see it all: the last row turns `age` into float64). Both answers
 * equal the eager operators on the whole read, sliced, and the unpushed
 * plan. */
static void test_limit_into_csv(void **state) {
  (void)state;
  gf_error err;
  char csv[256];
  tmp_path(csv, sizeof csv, "l.csv");
  write_people(csv, 2000, 5);
  FILE *f = fopen(csv, "ab");
  assert_non_null(f);
  fputs("2000,x,41.5,1.0\n", f);
  fclose(f);
  gf_expr *twice = parse("score * 2");
  const char *wname = "s2";
  const char *sel[3] = {"s2", "grp", "age"};
  for (int pinned = 0; pinned < 2; pinned++) {
    gf_csv_read_options co;
    gf_csv_read_options_init(&co);
    gf_csv_column_type ct[4] = {{"id", gf_type(GF_TYPE_INT64)},
                                {"grp", gf_type(GF_TYPE_UTF8)},
                                {"age", gf_type(GF_TYPE_FLOAT64)},
                                {"score", gf_type(GF_TYPE_FLOAT64)}};
    if (pinned) {
      co.column_types = ct;
      co.num_column_types = 4;
    }
    gf_frame *whole = NULL, *w = NULL, *s = NULL, *want = NULL;
    OKE(gf_read_csv(csv, &co, &whole, &err));
    OKE(gf_with_columns(whole, &wname, &twice, 1, NULL, &w, &err));
    OKE(gf_select(w, sel, 3, &s, &err));
    OKE(gf_frame_slice(s, 5, 20, &want, &err));
    gf_plan *src = NULL, *pw = NULL, *ps = NULL, *pl = NULL;
    OKE(gf_plan_scan_csv(csv, &co, &src, &err));
    OKE(gf_plan_with_columns(src, &wname, &twice, 1, &pw, &err));
    OKE(gf_plan_select(pw, sel, 3, &ps, &err));
    OKE(gf_plan_limit(ps, 5, 20, &pl, &err));
    expect_plan(pl, want);
    int64_t read = scan_rows_read(pl);
    assert_int_equal(read, pinned ? 25 : 2001);
    char *text = NULL;
    OKE(gf_plan_explain(pl, 0, 0, &text, &err));
    gf_mem_free(text);
    OKE(gf_plan_explain(pl, GF_PLAN_EXPLAIN_OPTIMIZED, 0, &text, &err));
    assert_true((strstr(text, "max_rows=25") != NULL) == (pinned != 0));
    gf_mem_free(text);
    /* A filter under the limit keeps the whole read. */
    gf_expr *pred = parse("id >= 0");
    gf_plan *pf = NULL, *pl2 = NULL;
    OKE(gf_plan_filter(src, pred, &pf, &err));
    OKE(gf_plan_limit(pf, 0, 3, &pl2, &err));
    assert_int_equal(scan_rows_read(pl2), 2001);
    gf_expr_release(pred);
    gf_plan_release(pf);
    gf_plan_release(pl2);
    gf_plan_release(src);
    gf_plan_release(pw);
    gf_plan_release(ps);
    gf_plan_release(pl);
    gf_frame_release(whole);
    gf_frame_release(w);
    gf_frame_release(s);
    gf_frame_release(want);
  }
  gf_expr_release(twice);
  unlink(csv);
}

/* ---- 3. HAVING on renamed aggregates --------------------------------------- */

/* A small garbage-slotted frame: k int64 in 0..4, v float64, ~10% nulls. */
static gf_frame *kv_frame(int64_t rows, int nb, uint64_t seed) {
  gf_array **cols = calloc((size_t)nb * 2, sizeof *cols);
  uint64_t s = seed;
  for (int b = 0; b < nb; b++) {
    int64_t n = rows / nb + (b < rows % nb ? 1 : 0);
    int64_t *k = calloc((size_t)n + 1, sizeof *k);
    double *v = calloc((size_t)n + 1, sizeof *v);
    bool *kv = calloc((size_t)n + 1, 1), *vv = calloc((size_t)n + 1, 1);
    for (int64_t i = 0; i < n; i++) {
      uint64_t r = gft_rand_next(&s);
      k[i] = (int64_t)(r % 5);
      kv[i] = (r >> 8) % 10 != 0;
      v[i] = (double)((r >> 16) % 200) - 20.0;
      vv[i] = (r >> 32) % 10 != 0;
    }
    cols[b * 2] = gft_int64_array(gf_type(GF_TYPE_INT64), k, kv, n);
    cols[b * 2 + 1] = gft_double_array(gf_type(GF_TYPE_FLOAT64), v, vv, n);
    free(k);
    free(v);
    free(kv);
    free(vv);
  }
  gf_field fields[2] = {{"k", gf_type(GF_TYPE_INT64), true}, {"v", gf_type(GF_TYPE_FLOAT64), true}};
  gf_schema *sc = NULL;
  assert_int_equal(gf_schema_new(fields, 2, &sc, NULL), GF_OK);
  gf_frame *clean = NULL;
  gf_error err;
  OKE(gf_frame_new(sc, cols, nb, NULL, &clean, &err));
  gf_schema_release(sc);
  for (int i = 0; i < nb * 2; i++) gf_array_release(cols[i]);
  free(cols);
  gf_frame *g = gft_garbage_frame(clean, seed ^ 0x77);
  gf_frame_release(clean);
  return g;
}

/* `sum(v) > 50 and max(v) - min(v) > 10` over `sum(v) as s, count() as n,
 * max(v) - min(v) as spread`: the calls match the renamed items by
 * expression. The reference filters the group-by's output on s and
 * spread, computed by a naive loop too. A call nothing computes stays an
 * error naming it. */
static void test_having_renamed(void **state) {
  (void)state;
  gf_error err;
  gf_frame *f = kv_frame(3000, 3, 21);
  const char *keys[1] = {"k"};
  const char *aggs = "sum(v) as s, count() as n, max(v) - min(v) as spread";
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.sort_keys = true;
  gf_frame *g = NULL, *want = NULL;
  OKE(gf_group_by_text(f, keys, 1, aggs, &go, &g, &err));
  gf_expr *ref = parse("s > 50 and spread > 10");
  OKE(gf_filter(g, ref, NULL, &want, &err));
  /* Naive loop: groups (null key = 5) whose non-null v sum > 50 and
   * max - min > 10. */
  double sum[6] = {0}, mx[6], mn[6];
  bool any[6] = {0};
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    gf_array *ka = gf_frame_column(f, b, 0), *va = gf_frame_column(f, b, 1);
    for (int64_t i = 0; i < gf_array_length(ka); i++) {
      int key = gf_array_is_null(ka, i) ? 5 : (int)gf_array_get_int64(ka, i);
      if (gf_array_is_null(va, i)) continue;
      double v = gf_array_get_double(va, i);
      if (!any[key] || v > mx[key]) mx[key] = v;
      if (!any[key] || v < mn[key]) mn[key] = v;
      sum[key] += v;
      any[key] = true;
    }
  }
  int64_t expect_rows = 0;
  for (int i = 0; i < 6; i++) expect_rows += any[i] && sum[i] > 50 && mx[i] - mn[i] > 10;
  assert_true(expect_rows > 0);
  assert_int_equal(gf_frame_num_rows(want), expect_rows);
  gf_plan *src = NULL, *pg = NULL, *ph = NULL;
  OKE(gf_plan_from_frame(f, &src, &err));
  OKE(gf_plan_group_by(src, keys, 1, aggs, true, &pg, &err));
  gf_expr *pred = parse("sum(v) > 50 and max(v) - min(v) > 10");
  OKE(gf_plan_having(pg, pred, &ph, &err));
  expect_plan(ph, want);
  /* An aggregate the group-by does not compute. */
  gf_expr *bad = parse("mean(v) > 1");
  gf_plan *pb = NULL;
  assert_int_not_equal(gf_plan_having(pg, bad, &pb, &err), GF_OK);
  assert_non_null(strstr(err.message, "mean"));
  assert_null(pb);
  gf_expr_release(bad);
  gf_expr_release(pred);
  gf_expr_release(ref);
  gf_plan_release(src);
  gf_plan_release(pg);
  gf_plan_release(ph);
  gf_frame_release(g);
  gf_frame_release(want);
  gf_frame_release(f);
}

/* ---- 4. filters on suffixed join columns ----------------------------------- */

/* Renames the columns of f (k, v) to (k, <v_name>). */
static gf_frame *renamed(const gf_frame *f, const char *v_name) {
  gf_error err;
  gf_expr *v = gf_col("v");
  gf_frame *w = NULL, *s = NULL;
  OKE(gf_with_columns(f, &v_name, &v, 1, NULL, &w, &err));
  const char *sel[2] = {"k", v_name};
  OKE(gf_select(w, sel, 2, &s, &err));
  gf_expr_release(v);
  gf_frame_release(w);
  return s;
}

/* Inner and right joins of two (k, age) frames: `age_right > 30` (and a
 * custom suffix) goes into the right input as `age > 30` (EXPLAIN shows it
 * in the right source), and the answer equals the eager join filtered. A
 * left join keeps the filter above (null-supplying side). */
static void test_join_suffix_pushdown(void **state) {
  (void)state;
  gf_error err;
  gf_frame *l0 = kv_frame(800, 2, 31), *r0 = kv_frame(500, 3, 32);
  gf_frame *l = renamed(l0, "age"), *r = renamed(r0, "age");
  const char *on[1] = {"k"};
  static const gf_join_kind kinds[3] = {GF_JOIN_INNER, GF_JOIN_RIGHT, GF_JOIN_LEFT};
  for (int kk = 0; kk < 3; kk++)
    for (int sfx = 0; sfx < 2; sfx++) {
      const char *suffix = sfx ? "_r2" : NULL;
      gf_expr *pred = parse(sfx ? "age_r2 > 30 and age < 100" : "age_right > 30 and age < 100");
      gf_frame *j = NULL, *want = NULL;
      gf_join_options jo;
      gf_join_options_init(&jo);
      jo.suffix = suffix;
      OKE(gf_join(l, r, on, on, 1, kinds[kk], &jo, &j, &err));
      OKE(gf_filter(j, pred, NULL, &want, &err));
      gf_plan *pl = NULL, *pr = NULL, *pj = NULL, *pf = NULL;
      OKE(gf_plan_from_frame(l, &pl, &err));
      OKE(gf_plan_from_frame(r, &pr, &err));
      OKE(gf_plan_join(pl, pr, on, on, 1, kinds[kk], suffix, &pj, &err));
      OKE(gf_plan_filter(pj, pred, &pf, &err));
      expect_plan(pf, want);
      char *text = NULL;
      OKE(gf_plan_explain(pf, GF_PLAN_EXPLAIN_OPTIMIZED, 0, &text, &err));
      const char *opt = strstr(text, "== optimized plan ==");
      assert_non_null(opt);
      bool pushed = strstr(opt, "predicate=(age > 30)") != NULL ||
                    strstr(opt, "predicate=age > 30") != NULL;
      if (pushed != (kinds[kk] != GF_JOIN_LEFT)) fail_msg("join %d suffix %d:\n%s", kk, sfx, text);
      gf_mem_free(text);
      gf_expr_release(pred);
      gf_frame_release(j);
      gf_frame_release(want);
      gf_plan_release(pl);
      gf_plan_release(pr);
      gf_plan_release(pj);
      gf_plan_release(pf);
    }
  gf_frame_release(l0);
  gf_frame_release(r0);
  gf_frame_release(l);
  gf_frame_release(r);
}

/* ---- 5. the IPC stream sink; sinks under the run's options --------------- */

/* An allocator that counts allocations and fails every one after `fail_at`
 * (0 = never), to see whether a step allocates through the run's
 * allocator. */
typedef struct count_alloc {
  int64_t n, fail_at;
} count_alloc;

static void *ca_alloc(void *ctx, size_t size, size_t align) {
  count_alloc *c = ctx;
  if (c->fail_at > 0 && c->n >= c->fail_at) return NULL;
  c->n++;
  return gf_default_allocator()->allocate(gf_default_allocator()->ctx, size, align);
}
static void *ca_realloc(void *ctx, void *p, size_t old, size_t size, size_t align) {
  count_alloc *c = ctx;
  if (c->fail_at > 0 && c->n >= c->fail_at) return NULL;
  c->n++;
  return gf_default_allocator()->reallocate(gf_default_allocator()->ctx, p, old, size, align);
}
static void ca_free(void *ctx, void *p, size_t size, size_t align) {
  (void)ctx;
  gf_default_allocator()->deallocate(gf_default_allocator()->ctx, p, size, align);
}

/* Runs sink `kind` (0 csv, 1 ipc file, 2 ipc stream path, 3 ipc stream fd)
 * of p to `path` with options o. */
static gf_status run_sink(int kind, const gf_plan *p, const char *path, const gf_plan_options *o,
                          gf_error *err) {
  if (kind == 0) return gf_plan_sink_csv(p, path, NULL, o, err);
  if (kind == 1) return gf_plan_sink_ipc(p, path, NULL, o, err);
  if (kind == 2) return gf_plan_sink_ipc_stream(p, path, NULL, o, err);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  gf_status st = gf_plan_sink_ipc_stream_fd(p, fd, NULL, o, err);
  close(fd);
  return st;
}

/* Every sink writes the plan's answer (read back equal to collect); the
 * stream sinks write IPC streams. A cancelled run writes nothing. The write
 * allocates through the run's allocator: failing each allocation past the
 * collect's own count fails the sink with GF_ENOMEM and leaves no file
 * (path sinks), nothing leaking. */
static void test_sinks(void **state) {
  (void)state;
  gf_error err;
  gf_frame *f = kv_frame(2000, 2, 41);
  gf_plan *src = NULL, *p = NULL;
  OKE(gf_plan_from_frame(f, &src, &err));
  gf_expr *pred = parse("v > 0");
  OKE(gf_plan_filter(src, pred, &p, &err));
  gf_frame *want = NULL;
  OKE(gf_filter(f, pred, NULL, &want, &err));
  char path[256];
  for (int kind = 0; kind < 4; kind++) {
    tmp_path(path, sizeof path, kind == 0 ? "s.csv" : kind == 1 ? "s.arrow" : "s.arrows");
    unlink(path);
    OKE(run_sink(kind, p, path, NULL, &err));
    gf_frame *back = NULL;
    if (kind == 0) {
      gf_csv_read_options co;
      gf_csv_read_options_init(&co);
      gf_csv_column_type ct[2] = {{"k", gf_type(GF_TYPE_INT64)}, {"v", gf_type(GF_TYPE_FLOAT64)}};
      co.column_types = ct;
      co.num_column_types = 2;
      OKE(gf_read_csv(path, &co, &back, &err));
      assert_int_equal(gf_frame_num_rows(back), gf_frame_num_rows(want));
    } else {
      OKE(kind == 1 ? gf_read_ipc_file(path, NULL, &back, &err) : gf_read_ipc_stream(path, NULL, &back, &err));
      gf_frame *one = NULL, *w1 = NULL;
      gf_frame *bb[1] = {back}, *ww[1] = {want};
      OKE(gf_frame_concat(bb, 1, NULL, &one, &err));
      OKE(gf_frame_concat(ww, 1, NULL, &w1, &err));
      assert_int_equal(gf_frame_num_rows(one), gf_frame_num_rows(w1));
      gf_frame_release(one);
      gf_frame_release(w1);
      gf_frame *got = NULL;
      OKE(gf_plan_collect(p, NULL, &got, &err));
      gf_frame *g1 = NULL, *b1 = NULL;
      gf_frame *gg[1] = {got};
      OKE(gf_frame_concat(gg, 1, NULL, &g1, &err));
      OKE(gf_frame_concat(bb, 1, NULL, &b1, &err));
      assert_true(gf_frame_equals(b1, g1));
      gf_frame_release(g1);
      gf_frame_release(b1);
      gf_frame_release(got);
    }
    gf_frame_release(back);
    unlink(path);
    /* Cancelled: nothing written. */
    gf_cancel *c = NULL;
    OKE(gf_cancel_new(&c, &err));
    gf_cancel_request(c);
    gf_parallel_options po;
    par(&po, 1, 0);
    po.cancel = c;
    gf_plan_options o;
    gf_plan_options_init(&o);
    o.parallel = &po;
    assert_int_equal(run_sink(kind, p, path, &o, &err), GF_ECANCELED);
    struct stat sb;
    if (kind < 3) assert_int_not_equal(stat(path, &sb), 0);
    else assert_int_equal(stat(path, &sb) == 0 ? sb.st_size : 0, 0);
    gf_cancel_free(c);
    unlink(path);
    /* Allocations: collect alone, then the sink (collect + write). */
    count_alloc ca = {0, 0};
    gf_allocator al = {ca_alloc, ca_realloc, ca_free, &ca};
    par(&po, 1, 0);
    po.allocator = &al;
    gf_frame *got = NULL;
    OKE(gf_plan_collect(p, &o, &got, &err));
    gf_frame_release(got);
    int64_t collect_n = ca.n;
    ca.n = 0;
    OKE(run_sink(kind, p, path, &o, &err));
    int64_t sink_n = ca.n;
    unlink(path);
    if (sink_n <= collect_n) fail_msg("sink %d: the write allocated nothing through the run's allocator", kind);
    for (int64_t at = collect_n; at < sink_n; at += (sink_n - collect_n + 3) / 4) {
      ca.n = 0;
      ca.fail_at = at;
      gf_status st = run_sink(kind, p, path, &o, &err);
      ca.fail_at = 0;
      assert_int_equal(st, GF_ENOMEM);
      if (kind < 3) assert_int_not_equal(stat(path, &sb), 0);
      unlink(path);
    }
  }
  gf_expr_release(pred);
  gf_frame_release(want);
  gf_plan_release(src);
  gf_plan_release(p);
  gf_frame_release(f);
}

/* ---- 6. union by name with missing columns and widened types ------------- */

/* a (id int64, v int32, s utf8) and b (v float64, id int64, t int64):
 * union(a, b) is (id int64, v float64, s utf8, t int64), b's rows null in
 * s and a's null in t, a's v widened. The expected frame is written out
 * here value by value. Filters after the union (on a shared column, on a
 * widened one, on a null-filled one), a projection of a column only b
 * has, and the limit pushdown keep that answer; no common type is an
 * error naming the column and both types. */
static void test_union_by_name(void **state) {
  (void)state;
  gf_error err;
  int64_t aid[4] = {1, 2, 3, 4}, av[4] = {10, -5, 0, 7};
  bool avv[4] = {1, 1, 0, 1};
  const char *as[4] = {"p", NULL, "q", "é"};
  double bv[3] = {1.5, -2.25, 0};
  bool bvv[3] = {1, 1, 0};
  int64_t bid[3] = {7, 8, 9}, bt[3] = {100, 200, 300};
  bool btv[3] = {1, 0, 1};
  gf_field fa[3] = {{"id", gf_type(GF_TYPE_INT64), true},
                    {"v", gf_type(GF_TYPE_INT32), true},
                    {"s", gf_type(GF_TYPE_UTF8), true}};
  gf_field fb[3] = {{"v", gf_type(GF_TYPE_FLOAT64), true},
                    {"id", gf_type(GF_TYPE_INT64), true},
                    {"t", gf_type(GF_TYPE_INT64), true}};
  gf_array *ca[3] = {gft_int64_array(fa[0].type, aid, NULL, 4), gft_int64_array(fa[1].type, av, avv, 4),
                     gft_string_array(fa[2].type, as, 4)};
  gf_array *cb[3] = {gft_double_array(fb[0].type, bv, bvv, 3), gft_int64_array(fb[1].type, bid, NULL, 3),
                     gft_int64_array(fb[2].type, bt, btv, 3)};
  gf_schema *sa = NULL, *sb = NULL, *sw = NULL;
  OKE(gf_schema_new(fa, 3, &sa, &err));
  OKE(gf_schema_new(fb, 3, &sb, &err));
  gf_frame *a0 = NULL, *b0 = NULL;
  OKE(gf_frame_new(sa, ca, 1, NULL, &a0, &err));
  OKE(gf_frame_new(sb, cb, 1, NULL, &b0, &err));
  gf_frame *a = gft_garbage_frame(a0, 61), *b = gft_garbage_frame(b0, 62);
  /* Expected, by hand. */
  int64_t wid[7] = {1, 2, 3, 4, 7, 8, 9}, wt[7] = {0, 0, 0, 0, 100, 200, 300};
  double wv[7] = {10, -5, 0, 7, 1.5, -2.25, 0};
  bool wvv[7] = {1, 1, 0, 1, 1, 1, 0}, wtv[7] = {0, 0, 0, 0, 1, 0, 1};
  const char *ws[7] = {"p", NULL, "q", "é", NULL, NULL, NULL};
  gf_field fw[4] = {{"id", gf_type(GF_TYPE_INT64), true},
                    {"v", gf_type(GF_TYPE_FLOAT64), true},
                    {"s", gf_type(GF_TYPE_UTF8), true},
                    {"t", gf_type(GF_TYPE_INT64), true}};
  gf_array *cw[4] = {gft_int64_array(fw[0].type, wid, NULL, 7), gft_double_array(fw[1].type, wv, wvv, 7),
                     gft_string_array(fw[2].type, ws, 7), gft_int64_array(fw[3].type, wt, wtv, 7)};
  OKE(gf_schema_new(fw, 4, &sw, &err));
  gf_frame *want = NULL;
  OKE(gf_frame_new(sw, cw, 1, NULL, &want, &err));
  gf_plan *pa = NULL, *pb = NULL, *pu = NULL;
  OKE(gf_plan_from_frame(a, &pa, &err));
  OKE(gf_plan_from_frame(b, &pb, &err));
  OKE(gf_plan_union(pa, pb, &pu, &err));
  assert_true(gf_schema_equals(gf_plan_schema(pu), sw));
  expect_plan(pu, want);
  static const char *const preds[] = {"id > 2", "v > 0", "t is null", "s = 'p' or t = 300"};
  for (int i = 0; i < 4; i++) {
    gf_expr *e = parse(preds[i]);
    gf_plan *pf = NULL;
    gf_frame *wf = NULL;
    OKE(gf_plan_filter(pu, e, &pf, &err));
    OKE(gf_filter(want, e, NULL, &wf, &err));
    expect_plan(pf, wf);
    gf_frame_release(wf);
    gf_plan_release(pf);
    gf_expr_release(e);
  }
  const char *only_t[2] = {"t", "id"};
  gf_plan *ps = NULL, *pl = NULL;
  gf_frame *wsel = NULL, *wl = NULL;
  OKE(gf_plan_select(pu, only_t, 2, &ps, &err));
  OKE(gf_select(want, only_t, 2, &wsel, &err));
  expect_plan(ps, wsel);
  OKE(gf_plan_limit(ps, 2, 3, &pl, &err));
  OKE(gf_frame_slice(wsel, 2, 3, &wl, &err));
  expect_plan(pl, wl);
  /* No common type. */
  gf_expr *txt = parse("cast(v as utf8)");
  const char *vname = "v";
  gf_plan *pbt = NULL, *bad = NULL;
  OKE(gf_plan_with_columns(pb, &vname, &txt, 1, &pbt, &err));
  assert_int_equal(gf_plan_union(pa, pbt, &bad, &err), GF_ETYPE);
  assert_null(bad);
  if (!strstr(err.message, "'v'") || !strstr(err.message, "int32") || !strstr(err.message, "utf8"))
    fail_msg("message: %s", err.message);
  gf_expr_release(txt);
  gf_plan_release(pbt);
  for (int i = 0; i < 3; i++) {
    gf_array_release(ca[i]);
    gf_array_release(cb[i]);
  }
  for (int i = 0; i < 4; i++) gf_array_release(cw[i]);
  gf_plan_release(pa);
  gf_plan_release(pb);
  gf_plan_release(pu);
  gf_plan_release(ps);
  gf_plan_release(pl);
  gf_frame_release(wsel);
  gf_frame_release(wl);
  gf_frame_release(want);
  gf_frame_release(a0);
  gf_frame_release(b0);
  gf_frame_release(a);
  gf_frame_release(b);
  gf_schema_release(sa);
  gf_schema_release(sb);
  gf_schema_release(sw);
}

/* ---- 7. per-operator peaks in profiles ------------------------------------ */

/* filter -> group_by -> sort over a CSV scan, profiled at 1/2/3/8 workers:
 * every operator reports a peak of at least the bytes of its own output
 * (the group-by's key and aggregate columns: 8 bytes a row each, counted
 * here), and the run's peak is the largest. */
static void test_profile_peaks(void **state) {
  (void)state;
  gf_error err;
  char csv[256];
  tmp_path(csv, sizeof csv, "pk.csv");
  write_people(csv, 20000, 71);
  gf_plan *src = NULL, *pf = NULL, *pg = NULL, *ps = NULL;
  OKE(gf_plan_scan_csv(csv, NULL, &src, &err));
  gf_expr *pred = parse("age is not null");
  OKE(gf_plan_filter(src, pred, &pf, &err));
  const char *keys[1] = {"id"};
  OKE(gf_plan_group_by(pf, keys, 1, "sum(score) as s, count() as n", false, &pg, &err));
  gf_sort_key sk = {"s", true, false};
  OKE(gf_plan_sort(pg, &sk, 1, &ps, &err));
  static const int workers[] = {1, 2, 3, 8};
  for (int w = 0; w < 4; w++) {
    gf_parallel_options po;
    par(&po, workers[w], 0);
    gf_plan_profile *pr = NULL;
    gf_plan_options o;
    gf_plan_options_init(&o);
    o.parallel = &po;
    o.profile = &pr;
    gf_frame *got = NULL;
    OKE(gf_plan_collect(ps, &o, &got, &err));
    int seen_group = 0;
    for (int i = 0; i < pr->nops; i++) {
      const gf_plan_profile_op *op = &pr->ops[i];
      /* Output bytes of the operator, at least 8 a row for one column. */
      if (op->peak_memory < op->rows_out * 8)
        fail_msg("workers %d: %s peak %lld < %lld output bytes", workers[w], op->name,
                 (long long)op->peak_memory, (long long)(op->rows_out * 8));
      if (strstr(op->name, "group")) {
        seen_group = 1;
        /* id, s and n: 24 bytes a group at least. */
        assert_true(op->peak_memory >= op->rows_out * 24);
      }
      assert_true(op->peak_memory <= pr->peak_memory);
    }
    assert_true(seen_group);
    gf_plan_profile_free(pr);
    gf_frame_release(got);
  }
  gf_expr_release(pred);
  gf_plan_release(src);
  gf_plan_release(pf);
  gf_plan_release(pg);
  gf_plan_release(ps);
  unlink(csv);
}

/* ---- allocation failures in the new paths ----------------------------------- */

typedef struct gap_sweep {
  const gf_plan *p;
  const gf_frame *want;
  int workers;
  bool profile;
} gap_sweep;

/* One profiled (or not) collect under a failing allocator. */
static gf_status gap_once(void *user, const gf_allocator *a) {
  gap_sweep *s = user;
  gf_parallel_options po;
  par(&po, s->workers, 5);
  po.allocator = a;
  gf_plan_options o;
  gf_plan_options_init(&o);
  o.parallel = &po;
  gf_plan_profile *pr = NULL;
  if (s->profile) o.profile = &pr;
  gf_frame *r = (gf_frame *)(uintptr_t)1;
  gf_error err;
  gf_status st = gf_plan_collect(s->p, &o, &r, &err);
  if (st != GF_OK) {
    if (r != (gf_frame *)(uintptr_t)1) fail_msg("%s: output written on failure", gft_sweep_at());
    if (pr) fail_msg("%s: profile returned on failure", gft_sweep_at());
    return st;
  }
  if (!gf_frame_equals(r, s->want)) fail_msg("%s: wrong result", gft_sweep_at());
  gf_plan_profile_free(pr);
  gf_frame_release(r);
  return GF_OK;
}

/* Union with a null-filled and a widened column, a filter pushed into the
 * union's inputs, a group-by with a having on a renamed aggregate, all
 * profiled: every allocation may fail, nothing leaks, no output. */
static void test_gap_allocation_failures(void **state) {
  (void)state;
  gf_error err;
  gf_frame *a = kv_frame(200, 2, 81), *b0 = kv_frame(150, 1, 82);
  /* b: v as int32 (widened by the union) plus a column a lacks. */
  const char *names[2] = {"v", "extra"};
  gf_expr *ex[2] = {parse("cast(k as int32)"), parse("k * 10")};
  gf_frame *b = NULL;
  OKE(gf_with_columns(b0, names, ex, 2, NULL, &b, &err));
  gf_plan *pa = NULL, *pb = NULL, *pu = NULL, *pf = NULL, *pg = NULL, *ph = NULL;
  OKE(gf_plan_from_frame(a, &pa, &err));
  OKE(gf_plan_from_frame(b, &pb, &err));
  OKE(gf_plan_union(pa, pb, &pu, &err));
  gf_expr *pred = parse("k < 4");
  OKE(gf_plan_filter(pu, pred, &pf, &err));
  const char *keys[1] = {"k"};
  OKE(gf_plan_group_by(pf, keys, 1, "sum(v) as s, max(extra) as m", true, &pg, &err));
  gf_expr *hv = parse("sum(v) > -1000");
  OKE(gf_plan_having(pg, hv, &ph, &err));
  gf_frame *want = NULL;
  OKE(gf_plan_collect(ph, NULL, &want, &err));
  assert_true(gf_frame_num_rows(want) > 0);
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts c = {0};
  for (int wk = 1; wk <= 3; wk += 2)
    for (int prof = 0; prof < 2; prof++) {
      gap_sweep gs = {ph, want, wk, prof != 0};
      gft_alloc_sweep("plan gaps", fa, gap_once, &gs, &c);
    }
  gft_sweep_print("plan (union fill/widen, pushed filter, group-by, having, profile)", &c);
  assert_true(c.failing[0] > 10);
  gf_failing_allocator_free(fa);
  gf_plan *ps[] = {pa, pb, pu, pf, pg, ph};
  for (int i = 0; i < 6; i++) gf_plan_release(ps[i]);
  gf_expr_release(ex[0]);
  gf_expr_release(ex[1]);
  gf_expr_release(pred);
  gf_expr_release(hv);
  gf_frame_release(want);
  gf_frame_release(a);
  gf_frame_release(b0);
  gf_frame_release(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pipe_sources),
      cmocka_unit_test(test_build_options),
      cmocka_unit_test(test_limit_into_csv),
      cmocka_unit_test(test_having_renamed),
      cmocka_unit_test(test_join_suffix_pushdown),
      cmocka_unit_test(test_sinks),
      cmocka_unit_test(test_union_by_name),
      cmocka_unit_test(test_profile_peaks),
      cmocka_unit_test(test_gap_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
