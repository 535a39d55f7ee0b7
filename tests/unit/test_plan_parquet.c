/* The Parquet plan source (gf_plan_scan_parquet): results of
 * scan -> filter -> select against a naive loop over the values the test
 * wrote (independent of every reader), and against the eager path
 * (gf_read_parquet of the whole file, then gf_filter) at 1/2/3/8 workers
 * and several chunk sizes; row groups pruned by the pushed filter
 * (counted), only the needed columns read (the optimized source's schema),
 * EXPLAIN, a pipe read whole at build, the error paths, and allocation
 * failures during a run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gf_test_sweep.h"
#include "gopherframe.h"

#define OKE(call)                                            \
  do {                                                       \
    gf_status s_ = (call);                                   \
    if (s_ != GF_OK) fail_msg("%s: %s", #call, err.message); \
  } while (0)

enum { NROWS = 1000, RG_ROWS = 100 };

static char tmpdir[] = "/tmp/gf_pqplan_XXXXXX";
static char file_path[300];

/* The values written: id = i; v null when i % 5 == 0, else (i*37) % 101;
 * s = "s<i>". */
static bool v_null(int64_t i) { return i % 5 == 0; }
static int64_t v_of(int64_t i) { return (i * 37) % 101; }

static int setup(void **state) {
  (void)state;
  if (!mkdtemp(tmpdir)) return -1;
  snprintf(file_path, sizeof file_path, "%s/t.parquet", tmpdir);
  gf_error err;
  gf_error_clear(&err);
  gf_builder *bi = NULL, *bv = NULL, *bs = NULL;
  OKE(gf_builder_new(gf_type(GF_TYPE_INT64), NULL, &bi, &err));
  OKE(gf_builder_new(gf_type(GF_TYPE_INT64), NULL, &bv, &err));
  OKE(gf_builder_new(gf_type(GF_TYPE_UTF8), NULL, &bs, &err));
  for (int64_t i = 0; i < NROWS; i++) {
    char t[32];
    snprintf(t, sizeof t, "s%lld", (long long)i);
    OKE(gf_builder_append_int64(bi, i, &err));
    if (v_null(i)) OKE(gf_builder_append_null(bv, &err));
    else OKE(gf_builder_append_int64(bv, v_of(i), &err));
    OKE(gf_builder_append_string(bs, t, &err));
  }
  gf_array *cols[3];
  OKE(gf_builder_finish(bi, &cols[0], &err));
  OKE(gf_builder_finish(bv, &cols[1], &err));
  OKE(gf_builder_finish(bs, &cols[2], &err));
  gf_builder_free(bi);
  gf_builder_free(bv);
  gf_builder_free(bs);
  const char *names[] = {"id", "v", "s"};
  gf_frame *f = NULL;
  OKE(gf_frame_from_columns(names, cols, 3, &f, &err));
  for (int c = 0; c < 3; c++) gf_array_release(cols[c]);
  gf_parquet_write_options wo;
  gf_parquet_write_options_init(&wo);
  wo.row_group_rows = RG_ROWS;
  OKE(gf_write_parquet(f, file_path, &wo, &err));
  gf_frame_release(f);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

/* id >= lo and v > vmin */
static gf_expr *pred_of(int64_t lo, int64_t vmin) {
  return gf_and(gf_ge(gf_col("id"), gf_lit_int64(lo)), gf_gt(gf_col("v"), gf_lit_int64(vmin)));
}

/* Checks that f (columns id, v) holds exactly the rows i with i >= lo,
 * v not null and v > vmin (every row when `all`), in file order: a naive
 * loop over the values written. */
static void check_rows_ex(const gf_frame *f, int64_t lo, int64_t vmin, bool all) {
  assert_int_equal(gf_frame_num_columns(f), 2);
  assert_string_equal(gf_schema_field(gf_frame_schema(f), 0)->name, "id");
  assert_string_equal(gf_schema_field(gf_frame_schema(f), 1)->name, "v");
  int64_t want = 0;
  int b = 0;
  int64_t r = 0;
  for (int64_t i = 0; i < NROWS; i++) {
    if (!all && (i < lo || v_null(i) || v_of(i) <= vmin)) continue;
    want++;
    while (b < gf_frame_num_batches(f) && r >= gf_frame_batch_rows(f, b)) {
      b++;
      r = 0;
    }
    assert_true(b < gf_frame_num_batches(f));
    assert_int_equal(gf_array_get_int64(gf_frame_column(f, b, 0), r), i);
    assert_int_equal(gf_array_is_null(gf_frame_column(f, b, 1), r), v_null(i));
    if (!v_null(i)) assert_int_equal(gf_array_get_int64(gf_frame_column(f, b, 1), r), v_of(i));
    r++;
  }
  assert_int_equal(gf_frame_num_rows(f), want);
}

static void check_rows(const gf_frame *f, int64_t lo, int64_t vmin) { check_rows_ex(f, lo, vmin, false); }

/* scan -> filter(pred) -> select(id, v). */
static gf_plan *query_plan(const gf_expr *pred) {
  gf_error err;
  gf_error_clear(&err);
  gf_plan *scan = NULL, *fl = NULL, *sel = NULL;
  OKE(gf_plan_scan_parquet(file_path, NULL, &scan, &err));
  assert_int_equal(gf_plan_get_kind(scan), GF_PLAN_PARQUET);
  assert_string_equal(gf_plan_kind_name(GF_PLAN_PARQUET), "scan_parquet");
  assert_int_equal(gf_schema_num_fields(gf_plan_schema(scan)), 3);
  OKE(gf_plan_filter(scan, pred, &fl, &err));
  const char *keep[] = {"id", "v"};
  OKE(gf_plan_select(fl, keep, 2, &sel, &err));
  gf_plan_release(scan);
  gf_plan_release(fl);
  return sel;
}

static gf_frame *collect(const gf_plan *p, int workers, int64_t chunk) {
  gf_error err;
  gf_error_clear(&err);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.chunk_rows = chunk;
  gf_plan_options o;
  gf_plan_options_init(&o);
  o.parallel = &po;
  gf_frame *f = NULL;
  OKE(gf_plan_collect(p, &o, &f, &err));
  return f;
}

/* The plan's answer equals the naive loop and the eager read + filter at
 * every worker count and chunk size; 8 of the 10 row groups are skipped. */
static void plan_equals_reference(void **state) {
  (void)state;
  gf_error err;
  gf_error_clear(&err);
  gf_expr *pred = pred_of(850, 20);
  gf_plan *p = query_plan(pred);
  assert_int_equal(gf_plan_parquet_row_groups_skipped(p), -1);
  /* The eager path over the whole file. */
  gf_frame *whole = NULL, *ef = NULL, *eager = NULL;
  OKE(gf_read_parquet(file_path, NULL, &whole, &err));
  assert_int_equal(gf_frame_num_batches(whole), NROWS / RG_ROWS);
  OKE(gf_filter(whole, pred, NULL, &ef, &err));
  const char *keep[] = {"id", "v"};
  OKE(gf_select(ef, keep, 2, &eager, &err));
  check_rows(eager, 850, 20);
  const int workers[] = {1, 2, 3, 8};
  const int64_t chunks[] = {0, 7, 64};
  for (size_t w = 0; w < 4; w++)
    for (size_t c = 0; c < 3; c++) {
      gf_frame *got = collect(p, workers[w], chunks[c]);
      check_rows(got, 850, 20);
      assert_true(gf_frame_equals(got, eager));
      /* ids 0..799 (row groups 0..7) cannot satisfy id >= 850. */
      assert_int_equal(gf_plan_parquet_row_groups_skipped(p), 8);
      gf_frame_release(got);
    }
  gf_frame_release(whole);
  gf_frame_release(ef);
  gf_frame_release(eager);
  gf_expr_release(pred);
  gf_plan_release(p);
}

/* The optimized plan reads only id and v (s is never read) and carries
 * the predicate in the scan. */
static void projection_and_predicate_pushed(void **state) {
  (void)state;
  gf_error err;
  gf_error_clear(&err);
  gf_expr *pred = pred_of(850, 20);
  gf_plan *p = query_plan(pred);
  gf_plan *opt = NULL;
  OKE(gf_plan_optimize(p, GF_PLAN_RULES_ALL, &opt, &err));
  const gf_plan *src = opt;
  while (gf_plan_num_inputs(src) > 0) src = gf_plan_input(src, 0);
  assert_int_equal(gf_plan_get_kind(src), GF_PLAN_PARQUET);
  const gf_schema *s = gf_plan_schema(src);
  assert_int_equal(gf_schema_num_fields(s), 2);
  assert_string_equal(gf_schema_field(s, 0)->name, "id");
  assert_string_equal(gf_schema_field(s, 1)->name, "v");
  char *text = NULL;
  OKE(gf_plan_explain(p, GF_PLAN_EXPLAIN_OPTIMIZED, 0, &text, &err));
  assert_non_null(strstr(text, "scan_parquet"));
  assert_non_null(strstr(text, "columns=[id, v]"));
  assert_non_null(strstr(text, "predicate=("));
  assert_null(strstr(text, "row_groups_skipped"));
  gf_mem_free(text);
  gf_frame *got = collect(p, 2, 0);
  gf_frame_release(got);
  OKE(gf_plan_explain(p, GF_PLAN_EXPLAIN_OPTIMIZED, 0, &text, &err));
  assert_non_null(strstr(text, "row_groups_skipped=8"));
  gf_mem_free(text);
  gf_plan_release(opt);
  gf_plan_release(p);
  gf_expr_release(pred);
}

/* No filter: every row, nothing skipped; a filter nothing passes: no row,
 * every row group skipped; a filter on a column with nulls only. */
static void edge_filters(void **state) {
  (void)state;
  gf_error err;
  gf_error_clear(&err);
  gf_expr *t = gf_lit_bool(true);
  gf_plan *p = query_plan(t);
  gf_frame *got = collect(p, 3, 0);
  check_rows_ex(got, 0, 0, true);
  assert_int_equal(gf_plan_parquet_row_groups_skipped(p), 0);
  gf_frame_release(got);
  gf_plan_release(p);
  gf_expr_release(t);

  gf_expr *none = pred_of(5000, 20);
  p = query_plan(none);
  for (int w = 1; w <= 8; w *= 2) {
    got = collect(p, w, 0);
    check_rows(got, 5000, 20);
    assert_int_equal(gf_plan_parquet_row_groups_skipped(p), NROWS / RG_ROWS);
    gf_frame_release(got);
  }
  gf_plan_release(p);
  gf_expr_release(none);

  /* The user's own columns option narrows the source schema. */
  gf_parquet_read_options ro;
  gf_parquet_read_options_init(&ro);
  const char *cols[] = {"v", "id"};
  ro.columns = cols;
  ro.num_columns = 2;
  gf_plan *scan = NULL;
  OKE(gf_plan_scan_parquet(file_path, &ro, &scan, &err));
  assert_int_equal(gf_schema_num_fields(gf_plan_schema(scan)), 2);
  assert_string_equal(gf_schema_field(gf_plan_schema(scan), 0)->name, "v");
  got = collect(scan, 2, 0);
  assert_int_equal(gf_frame_num_rows(got), NROWS);
  assert_int_equal(gf_frame_num_columns(got), 2);
  gf_frame_release(got);
  gf_plan_release(scan);
}

/* A pipe is read whole when the source is built; runs give the same rows. */
static void pipe_read_whole(void **state) {
  (void)state;
  gf_error err;
  gf_error_clear(&err);
  char fifo[320];
  snprintf(fifo, sizeof fifo, "%s/fifo", tmpdir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "cat '%s' > '%s'", file_path, fifo);
    _exit(system(cmd) == 0 ? 0 : 1);
  }
  gf_plan *p = NULL;
  gf_expr *pred = pred_of(850, 20);
  gf_plan *scan = NULL, *fl = NULL, *sel = NULL;
  OKE(gf_plan_scan_parquet(fifo, NULL, &scan, &err));
  OKE(gf_plan_filter(scan, pred, &fl, &err));
  const char *keep[] = {"id", "v"};
  OKE(gf_plan_select(fl, keep, 2, &sel, &err));
  p = sel;
  for (int w = 1; w <= 8; w *= 2) {
    gf_frame *got = collect(p, w, 0);
    check_rows(got, 850, 20);
    gf_frame_release(got);
  }
  gf_plan_release(scan);
  gf_plan_release(fl);
  gf_plan_release(p);
  gf_expr_release(pred);
  unlink(fifo);
}

/* A missing file and a file that is not Parquet fail when built, naming
 * the file; NULL arguments are refused. */
static void errors(void **state) {
  (void)state;
  gf_error err;
  gf_error_clear(&err);
  gf_plan *p = NULL;
  char path[320];
  snprintf(path, sizeof path, "%s/missing.parquet", tmpdir);
  assert_int_not_equal(gf_plan_scan_parquet(path, NULL, &p, &err), GF_OK);
  assert_null(p);
  assert_non_null(strstr(err.message, "missing.parquet"));
  snprintf(path, sizeof path, "%s/not.parquet", tmpdir);
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  fputs("a,b\n1,2\n", fp);
  fclose(fp);
  assert_int_not_equal(gf_plan_scan_parquet(path, NULL, &p, &err), GF_OK);
  assert_null(p);
  assert_int_equal(gf_plan_scan_parquet(NULL, NULL, &p, &err), GF_EINVAL);
  gf_parquet_read_options ro;
  gf_parquet_read_options_init(&ro);
  const char *cols[] = {"nope"};
  ro.columns = cols;
  ro.num_columns = 1;
  assert_int_equal(gf_plan_scan_parquet(file_path, &ro, &p, &err), GF_EINVAL);
  assert_null(p);
}

typedef struct sweep_case {
  const gf_plan *p;
  int workers;
} sweep_case;

/* One run of the plan with allocator `a`: on success the naive loop's
 * rows; on failure the output untouched. */
static gf_status run_with(void *user, const gf_allocator *a) {
  const sweep_case *c = user;
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = c->workers;
  po.allocator = a;
  gf_plan_options o;
  gf_plan_options_init(&o);
  o.parallel = &po;
  gf_frame *f = (gf_frame *)(uintptr_t)1;
  gf_error err;
  gf_status st = gf_plan_collect(c->p, &o, &f, &err);
  if (st != GF_OK) {
    assert_true(f == (gf_frame *)(uintptr_t)1);
    return st;
  }
  check_rows(f, 850, 20);
  gf_frame_release(f);
  return st;
}

/* Allocation failures anywhere in a run (footer, chunks, pruning, filter)
 * fail cleanly with nothing leaked, at 1 and 2 workers. */
static void allocation_failures(void **state) {
  (void)state;
  gf_expr *pred = pred_of(850, 20);
  gf_plan *p = query_plan(pred);
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts acc;
  memset(&acc, 0, sizeof acc);
  for (int w = 1; w <= 2; w++) {
    sweep_case c = {p, w};
    gft_alloc_sweep("scan_parquet -> filter -> select", fa, run_with, &c, &acc);
  }
  gft_sweep_print("scan_parquet plan run", &acc);
  gf_failing_allocator_free(fa);
  gf_plan_release(p);
  gf_expr_release(pred);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(plan_equals_reference),
      cmocka_unit_test(projection_and_predicate_pushed),
      cmocka_unit_test(edge_filters),
      cmocka_unit_test(pipe_read_whole),
      cmocka_unit_test(errors),
      cmocka_unit_test(allocation_failures),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
