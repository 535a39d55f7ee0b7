/*
 * bench_plan_overhead: what the plan layer costs (issue 17, "Measured").
 * For qf1, qf2, q1, q3, q10 (the cases of bench_groupby.c) from a file -
 * CSV, or Arrow IPC for .arrow - every run times, one after another in the
 * same process:
 *   read   reading alone: gf_read_csv of the columns the query uses (the
 *          reader's projection), or gf_read_ipc + gf_select for IPC;
 *   eager  the eager operators alone on that frame: gf_filter,
 *          gf_with_columns, gf_group_by_text, one by one;
 *   plan   the same query as a plan from the file: scan (schema sampled
 *          when the plan is built, inside the timing), filter, with_columns,
 *          group_by, gf_plan_collect with every optimizer rule.
 * The claim checked by bench/plan_overhead.sh: plan <= 1.1 x (read + eager).
 *
 * Usage: bench_plan_overhead CASE[,CASE...] FILE THREADS RUNS
 * One JSON line per case and part (bench_common.h), case named
 * "CASE.read", "CASE.eager", "CASE.plan"; rows and checksum are those of
 * the eager and plan results (which must agree: the driver exits 1 when
 * they differ).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

#define MAX_COLS 9

typedef struct po_case {
  const char *name;
  const char *cols[MAX_COLS]; /* columns the query reads, in file order */
  int ncols;
  const char *keys[6];
  int nkeys;
  const char *aggs;
  const char *filter, *with_name, *with_expr;
  const char *chk[2];
  int nchk;
} po_case;

/* As bench_groupby.c (the peers' SQL in bench/peers/peer_common.py). */
static const po_case CASES[] = {
    {"qf1", {"id1", "v1", "v3"}, 3, {"id1"}, 1, "sum(v3) as v3, count() as count", "v1 > 2", NULL,
     NULL, {"v3", "count"}, 2},
    {"qf2", {"id2", "id4", "v1", "v2", "v3"}, 5, {"id2", "id4"}, 2, "sum(w) as w, mean(v3) as v3",
     "v2 <= 5 and v3 > 50", "w", "v1 * v3", {"w", "v3"}, 2},
    {"q1", {"id1", "v1"}, 2, {"id1"}, 1, "sum(v1) as v1", NULL, NULL, NULL, {"v1"}, 1},
    {"q3", {"id3", "v1", "v3"}, 3, {"id3"}, 1, "sum(v1) as v1, mean(v3) as v3", NULL, NULL, NULL,
     {"v1", "v3"}, 2},
    {"q10", {"id1", "id2", "id3", "id4", "id5", "id6", "v3"}, 7,
     {"id1", "id2", "id3", "id4", "id5", "id6"}, 6, "sum(v3) as v3, count() as count", NULL, NULL, NULL,
     {"v3", "count"}, 2},
};
#define NCASES ((int)(sizeof CASES / sizeof CASES[0]))

static bool is_ipc(const char *path) {
  size_t n = strlen(path);
  return n > 6 && !strcmp(path + n - 6, ".arrow");
}

/* Reading alone: the columns the query uses. */
static gf_status read_part(const po_case *c, const char *path, const gf_parallel_options *po,
                           gf_frame **out, gf_error *err) {
  if (is_ipc(path)) {
    gf_ipc_read_options io;
    gf_ipc_read_options_init(&io);
    io.parallel = po;
    gf_frame *f = NULL;
    gf_status st = gf_read_ipc(path, &io, &f, err);
    if (st != GF_OK) return st;
    st = gf_select(f, c->cols, c->ncols, out, err);
    gf_frame_release(f);
    return st;
  }
  gf_csv_read_options ro;
  gf_csv_read_options_init(&ro);
  ro.parallel = po;
  ro.columns = c->cols;
  ro.num_columns = c->ncols;
  return gf_read_csv(path, &ro, out, err);
}

/* The eager operators alone, one by one, on the frame read. */
static gf_status eager_part(const po_case *c, const gf_frame *x, const gf_parallel_options *po,
                            gf_frame **out, gf_error *err) {
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = po;
  gf_expr *pred = NULL, *w = NULL;
  gf_frame *filtered = NULL, *withed = NULL;
  gf_status st = GF_OK;
  if (c->filter) st = gf_expr_parse(c->filter, &pred, err);
  if (st == GF_OK && c->with_expr) st = gf_expr_parse(c->with_expr, &w, err);
  if (st == GF_OK) {
    if (pred) st = gf_filter(x, pred, po, &filtered, err);
    else filtered = gf_frame_retain((gf_frame *)x);
  }
  if (st == GF_OK) {
    if (w) st = gf_with_columns(filtered, &c->with_name, &w, 1, po, &withed, err);
    else withed = gf_frame_retain(filtered);
  }
  if (st == GF_OK) st = gf_group_by_text(withed, c->keys, c->nkeys, c->aggs, &go, out, err);
  gf_frame_release(withed);
  gf_frame_release(filtered);
  gf_expr_release(w);
  gf_expr_release(pred);
  return st;
}

/* The plan from the file, built and collected. */
static gf_status plan_part(const po_case *c, const char *path, const gf_parallel_options *po,
                           gf_frame **out, gf_error *err) {
  gf_plan *p = NULL, *next = NULL;
  gf_expr *pred = NULL, *w = NULL;
  gf_status st = is_ipc(path) ? gf_plan_scan_ipc(path, NULL, &p, err)
                              : gf_plan_scan_csv(path, NULL, &p, err);
  if (st == GF_OK && c->filter) {
    st = gf_expr_parse(c->filter, &pred, err);
    if (st == GF_OK) st = gf_plan_filter(p, pred, &next, err);
    if (st == GF_OK) {
      gf_plan_release(p);
      p = next;
    }
  }
  if (st == GF_OK && c->with_expr) {
    st = gf_expr_parse(c->with_expr, &w, err);
    if (st == GF_OK) st = gf_plan_with_columns(p, &c->with_name, &w, 1, &next, err);
    if (st == GF_OK) {
      gf_plan_release(p);
      p = next;
    }
  }
  if (st == GF_OK) st = gf_plan_group_by(p, c->keys, c->nkeys, c->aggs, false, &next, err);
  if (st == GF_OK) {
    gf_plan_release(p);
    p = next;
    gf_plan_options o;
    gf_plan_options_init(&o);
    o.parallel = po;
    st = gf_plan_collect(p, &o, out, err);
  }
  gf_plan_release(p);
  gf_expr_release(w);
  gf_expr_release(pred);
  return st;
}

/* The file's name without directory, as the peers label data. */
static void data_label(const char *path, char *buf, size_t n) {
  const char *s = strrchr(path, '/');
  snprintf(buf, n, "%s", s ? s + 1 : path);
}

static void print_part(const po_case *c, const char *part, const char *label, int64_t rows_in,
                       int threads, double *secs, double *cpu, int runs, const gf_frame *ans) {
  bench_result res;
  char name[64];
  snprintf(name, sizeof name, "%s.%s", c->name, part);
  bench_result_init(&res, name, label, rows_in, threads);
  bench_result_times(&res, secs, cpu, runs);
  res.rows = gf_frame_num_rows(ans);
  for (int i = 0; i < c->nchk && strcmp(part, "read") != 0; i++)
    res.checksum[res.nchecksum++] = bench_column_sum(ans, c->chk[i]);
  bench_result_print(&res);
}

/* Runs one case `runs` times (read, eager, plan in turn) and prints its lines. */
static void run_case(const po_case *c, const char *path, const char *label, int threads, int runs) {
  gf_error err;
  gf_error_clear(&err);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = threads;
  double s[3][BENCH_MAX_RUNS], u[3][BENCH_MAX_RUNS];
  gf_frame *keep[3] = {NULL, NULL, NULL};
  int64_t rows_in = 0;
  for (int r = 0; r < runs; r++) {
    gf_frame *in = NULL, *eager = NULL, *plan = NULL;
    double c0 = bench_cpu_s();
    int64_t t0 = bench_now_ns();
    gf_status st = read_part(c, path, &po, &in, &err);
    s[0][r] = (double)(bench_now_ns() - t0) / 1e9;
    u[0][r] = bench_cpu_s() - c0;
    bench_check(st, &err, "read");
    rows_in = gf_frame_num_rows(in);
    c0 = bench_cpu_s();
    t0 = bench_now_ns();
    st = eager_part(c, in, &po, &eager, &err);
    s[1][r] = (double)(bench_now_ns() - t0) / 1e9;
    u[1][r] = bench_cpu_s() - c0;
    bench_check(st, &err, "eager");
    gf_frame_release(in); /* the plan reads for itself */
    c0 = bench_cpu_s();
    t0 = bench_now_ns();
    st = plan_part(c, path, &po, &plan, &err);
    s[2][r] = (double)(bench_now_ns() - t0) / 1e9;
    u[2][r] = bench_cpu_s() - c0;
    bench_check(st, &err, "plan");
    if (r == 0) bench_mark_first_run();
    bool same = gf_frame_num_rows(eager) == gf_frame_num_rows(plan);
    for (int i = 0; i < c->nchk && same; i++)
      same = bench_column_sum(eager, c->chk[i]) == bench_column_sum(plan, c->chk[i]);
    if (!same) {
      fprintf(stderr, "bench_plan_overhead: %s: the plan's answer differs from the eager one\n", c->name);
      exit(1);
    }
    gf_frame_release(keep[1]);
    gf_frame_release(keep[2]);
    keep[1] = eager;
    keep[2] = plan;
  }
  static const char *const parts[] = {"read", "eager", "plan"};
  for (int k = 0; k < 3; k++)
    print_part(c, parts[k], label, rows_in, threads, s[k], u[k], runs, keep[k == 0 ? 1 : k]);
  gf_frame_release(keep[1]);
  gf_frame_release(keep[2]);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: bench_plan_overhead CASE[,CASE...] FILE THREADS RUNS\n");
    return 2;
  }
  const char *path = argv[2];
  int threads = (int)bench_parse_count("THREADS", argv[3]);
  int runs = (int)bench_parse_count("RUNS", argv[4]);
  if (threads < 1 || runs < 1 || runs > BENCH_MAX_RUNS) {
    fprintf(stderr, "bench_plan_overhead: THREADS >= 1 and RUNS in 1..%d\n", BENCH_MAX_RUNS);
    return 2;
  }
  char label[256];
  data_label(path, label, sizeof label);
  char buf[512];
  snprintf(buf, sizeof buf, "%s", argv[1]);
  for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
    const po_case *c = NULL;
    for (int i = 0; i < NCASES; i++)
      if (!strcmp(CASES[i].name, t)) c = &CASES[i];
    if (!c) {
      fprintf(stderr, "bench_plan_overhead: unknown case '%s' (qf1, qf2, q1, q3, q10)\n", t);
      return 2;
    }
    run_case(c, path, label, threads, runs);
  }
  return 0;
}
