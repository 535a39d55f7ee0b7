/*
 * bench_groupby: the db-benchmark group-by questions q1..q10 (issue 6,
 * DESIGN.md 9) on G1 data, side by side with the peer runners in bench/peers/.
 *
 * Usage: bench_groupby CASE[,CASE...] FILE THREADS RUNS
 *
 * Besides q1..q10: qf1 and qf2 filter (and compute a column) before the
 * group-by, run as one gf_pipeline; qf1_eager/qf2_eager run the same with
 * the operators one by one (ours only), to show what the fusion saves.
 *
 * FILE is loaded once with gf_read_csv (not timed), its types as our reader
 * infers them: id1, id2, id3 dictionary<utf8>, id4, id5, id6, v1, v2 int32,
 * v3 float64 - the counterpart of the peers' ENUM / Categorical / factor
 * setup. Each case runs RUNS times through gf_group_by_text with THREADS
 * workers; only the last result is kept (holding several would inflate the
 * peak RSS). One JSON line per case (bench_common.h).
 *
 * Checksums (the peers' `chk` lists, bench/peers/duckdb.js): the sums of the
 * result's aggregate columns in the order below, nulls skipped. A group whose
 * inputs are all null gives null here (as in DuckDB); data.table and Polars
 * may give 0 for a sum, which adds the same nothing to the checksum, so the
 * comparison needs no tolerance for it. (mean/corr of such a group would
 * differ - null vs NaN - but on G1 data every group of q3, q4, q6 and q9
 * holds ~1000 rows or more, so it does not arise.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_common.h"

#define MAX_KEYS 6
#define MAX_CHK 4

typedef struct gb_case {
  const char *name;
  const char *keys[MAX_KEYS];
  int nkeys;
  const char *aggs;          /* gf_group_by_text's list */
  const char *chk[MAX_CHK];  /* result columns whose sums form the checksum */
  int nchk;
  /* Filter/with cases (ours: one gf_pipeline, the group-by fused with the
   * filter pass; with `eager`, gf_filter -> gf_with_columns ->
   * gf_group_by_text one after another, to measure what fusing saves). */
  const char *filter;
  const char *with_name, *with_expr;
  bool eager;
} gb_case;

/* DESIGN.md 9 / db-benchmark's groupby questions, in the peers' order. */
static const gb_case CASES[] = {
    {"q1", {"id1"}, 1, "sum(v1) as v1", {"v1"}, 1, NULL, NULL, NULL, false},
    {"q2", {"id1", "id2"}, 2, "sum(v1) as v1", {"v1"}, 1, NULL, NULL, NULL, false},
    {"q3", {"id3"}, 1, "sum(v1) as v1, mean(v3) as v3", {"v1", "v3"}, 2, NULL, NULL, NULL, false},
    {"q4", {"id4"}, 1, "mean(v1) as v1, mean(v2) as v2, mean(v3) as v3", {"v1", "v2", "v3"}, 3, NULL, NULL, NULL, false},
    {"q5", {"id6"}, 1, "sum(v1) as v1, sum(v2) as v2, sum(v3) as v3", {"v1", "v2", "v3"}, 3, NULL, NULL, NULL, false},
    {"q6", {"id4", "id5"}, 2, "median(v3) as median_v3, std(v3) as sd_v3",
     {"median_v3", "sd_v3"}, 2, NULL, NULL, NULL, false},
    {"q7", {"id3"}, 1, "max(v1) - min(v2) as range_v1_v2", {"range_v1_v2"}, 1, NULL, NULL, NULL, false},
    {"q8", {"id6"}, 1, "top_k(v3, 2) as largest2_v3", {"largest2_v3"}, 1, NULL, NULL, NULL, false},
    {"q9", {"id2", "id4"}, 2, "pow(corr(v1, v2), 2) as r2", {"r2"}, 1, NULL, NULL, NULL, false},
    {"q10", {"id1", "id2", "id3", "id4", "id5", "id6"}, 6, "sum(v3) as v3, count() as count",
     {"v3", "count"}, 2, NULL, NULL, NULL, false},
    /* Beyond db-benchmark: a filter (and a computed column) before the
     * group-by, the shape gf query --filter --with --group-by runs. */
    {"qf1", {"id1"}, 1, "sum(v3) as v3, count() as count", {"v3", "count"}, 2, "v1 > 2", NULL, NULL, false},
    {"qf2", {"id2", "id4"}, 2, "sum(w) as w, mean(v3) as v3", {"w", "v3"}, 2, "v2 <= 5 and v3 > 50", "w",
     "v1 * v3", false},
    {"qf1_eager", {"id1"}, 1, "sum(v3) as v3, count() as count", {"v3", "count"}, 2, "v1 > 2", NULL, NULL,
     true},
    {"qf2_eager", {"id2", "id4"}, 2, "sum(w) as w, mean(v3) as v3", {"w", "v3"}, 2, "v2 <= 5 and v3 > 50",
     "w", "v1 * v3", true},
};
#define NCASES ((int)(sizeof CASES / sizeof CASES[0]))

/* The file's name without directory and ".csv", as the peers label data. */
static void data_label(const char *path, char *buf, size_t n) {
  const char *s = strrchr(path, '/');
  snprintf(buf, n, "%s", s ? s + 1 : path);
  size_t len = strlen(buf);
  if (len > 4 && !strcmp(buf + len - 4, ".csv")) buf[len - 4] = '\0';
}

static const gb_case *find_case(const char *name) {
  for (int i = 0; i < NCASES; i++)
    if (!strcmp(CASES[i].name, name)) return &CASES[i];
  return NULL;
}

/* One run of a filter/with case, fused (a pipeline) or eager. */
static gf_status run_filtered(const gb_case *c, const gf_frame *x, const gf_parallel_options *po,
                              const gf_groupby_options *go, gf_frame **ans, gf_error *err) {
  gf_expr *pred = NULL, *w = NULL;
  gf_status st = gf_expr_parse(c->filter, &pred, err);
  if (st == GF_OK && c->with_expr) st = gf_expr_parse(c->with_expr, &w, err);
  if (st == GF_OK && !c->eager) {
    gf_pipeline *p = NULL;
    st = gf_pipeline_new(&p, err);
    if (st == GF_OK) st = gf_pipeline_add_filter(p, pred, err);
    if (st == GF_OK && w) st = gf_pipeline_add_with(p, &c->with_name, &w, 1, err);
    if (st == GF_OK) st = gf_pipeline_add_group_by(p, c->keys, c->nkeys, c->aggs, false, err);
    if (st == GF_OK) st = gf_pipeline_run(p, x, po, ans, err);
    gf_pipeline_free(p);
  } else if (st == GF_OK) {
    gf_frame *filtered = NULL, *withed = NULL;
    st = gf_filter(x, pred, po, &filtered, err);
    if (st == GF_OK && w) st = gf_with_columns(filtered, &c->with_name, &w, 1, po, &withed, err);
    else if (st == GF_OK) withed = gf_frame_retain(filtered);
    if (st == GF_OK) st = gf_group_by_text(withed, c->keys, c->nkeys, c->aggs, go, ans, err);
    gf_frame_release(withed);
    gf_frame_release(filtered);
  }
  gf_expr_release(w);
  gf_expr_release(pred);
  return st;
}

/* Minor page faults of this process so far (getrusage). */
static double minflt_now(void) {
  struct rusage ru;
  return getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_minflt : 0.0;
}

/* Runs one case `runs` times on the loaded frame and prints its line. With
 * `from_file` (a CASE_file name) each run reads `path` itself (timed), as a
 * user running the query on the file would; `x` is then unused. */
static void run_case(const gb_case *c, const gf_frame *x, const char *path, bool from_file,
                     const char *label, int threads, int runs) {
  gf_error err;
  gf_error_clear(&err);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = threads;
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = &po;
  double secs[BENCH_MAX_RUNS], cpu[BENCH_MAX_RUNS], flt[BENCH_MAX_RUNS];
  gf_frame *keep = NULL;
  gf_csv_read_options ro;
  gf_csv_read_options_init(&ro);
  ro.parallel = &po;
  int64_t rows_in = from_file ? 0 : gf_frame_num_rows(x);
  for (int r = 0; r < runs; r++) {
    gf_frame *ans = NULL, *in = NULL;
    double c0 = bench_cpu_s(), f0 = minflt_now();
    int64_t t0 = bench_now_ns();
    gf_status st = GF_OK;
    if (from_file) {
      st = gf_read_csv(path, &ro, &in, &err);
      if (st == GF_OK) rows_in = gf_frame_num_rows(in);
    }
    const gf_frame *src = from_file ? in : x;
    if (st == GF_OK)
      st = c->filter ? run_filtered(c, src, &po, &go, &ans, &err)
                     : gf_group_by_text(src, c->keys, c->nkeys, c->aggs, &go, &ans, &err);
    gf_frame_release(in);
    secs[r] = (double)(bench_now_ns() - t0) / 1e9;
    cpu[r] = bench_cpu_s() - c0;
    flt[r] = minflt_now() - f0;
    if (r == 0) bench_mark_first_run();
    bench_check(st, &err, c->name);
    if (r == runs - 1)
      keep = ans;
    else
      gf_frame_release(ans);
  }
  bench_result res;
  char name[64];
  snprintf(name, sizeof name, "%s%s", c->name, from_file ? "_file" : "");
  bench_result_init(&res, name, label, rows_in, threads);
  bench_result_times(&res, secs, cpu, runs);
  /* Minor page faults per run: the first run, and the median of all. */
  bench_result_extra(&res, "minflt_first", flt[0]);
  bench_result_extra(&res, "minflt_median", bench_median(flt, runs));
  res.rows = gf_frame_num_rows(keep);
  for (int i = 0; i < c->nchk; i++) res.checksum[res.nchecksum++] = bench_column_sum(keep, c->chk[i]);
  bench_result_print(&res);
  gf_frame_release(keep);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: bench_groupby CASE[,CASE...] FILE THREADS RUNS\n");
    return 2;
  }
  const char *path = argv[2];
  int threads = (int)bench_parse_count("THREADS", argv[3]);
  int runs = (int)bench_parse_count("RUNS", argv[4]);
  if (threads < 1 || runs < 1 || runs > BENCH_MAX_RUNS) {
    fprintf(stderr, "bench_groupby: THREADS >= 1 and RUNS in 1..%d\n", BENCH_MAX_RUNS);
    return 2;
  }
  /* Validate every case name before the (long) load. */
  const gb_case *todo[64];
  bool todo_file[64];
  bool any_loaded = false;
  int ntodo = 0;
  char buf[512];
  snprintf(buf, sizeof buf, "%s", argv[1]);
  for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
    size_t len = strlen(t);
    bool from_file = len > 5 && !strcmp(t + len - 5, "_file");
    if (from_file) t[len - 5] = '\0';
    const gb_case *c = find_case(t);
    if (!c) {
      fprintf(stderr, "bench_groupby: unknown case '%s' (q1..q10, qf1, qf2, qf1_eager, qf2_eager;"
                      " NAME_file reads the file inside the timing)\n", t);
      return 2;
    }
    if (ntodo < 64) {
      todo_file[ntodo] = from_file;
      any_loaded |= !from_file;
      todo[ntodo++] = c;
    }
  }
  gf_error err;
  gf_error_clear(&err);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = threads;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.parallel = &po;
  gf_frame *x = NULL;
  if (any_loaded) bench_check(gf_read_csv(path, &o, &x, &err), &err, "gf_read_csv");
  char label[256];
  data_label(path, label, sizeof label);
  for (int i = 0; i < ntodo; i++) run_case(todo[i], x, path, todo_file[i], label, threads, runs);
  gf_frame_release(x);
  return 0;
}
