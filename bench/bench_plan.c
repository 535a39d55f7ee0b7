/*
 * bench_plan: what the lazy plan layer (plan.h) costs or saves against
 * reading the file and running the eager operators one after another,
 * measured in the same process, alternating run by run (issue 17).
 *
 *   bench_plan CASE[,CASE...] FILE THREADS RUNS
 *
 * FILE is a db-benchmark G1 file: CSV, or Arrow IPC (.arrow/.feather).
 * Cases (the group-by questions of bench_groupby): q1, q3, q10, qf1, qf2.
 * For each case two JSON lines: CASE_plan (gf_plan_collect of scan ->
 * [filter -> with_columns] -> group_by, every optimizer rule on) and
 * CASE_eager (gf_read_csv / gf_read_ipc of the whole file, then gf_filter,
 * gf_with_columns and gf_group_by_text). The plan line carries
 * "ratio_to_eager" (median plan / median eager). Both answers are compared
 * (gf_frame_equals) before timing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

typedef struct pcase {
  const char *name;
  const char *keys[6];
  int nkeys;
  const char *aggs;
  const char *filter;
  const char *with_name, *with_expr;
} pcase;

static const pcase CASES[] = {
    {"q1", {"id1"}, 1, "sum(v1) as v1", NULL, NULL, NULL},
    {"q3", {"id3"}, 1, "sum(v1) as v1, mean(v3) as v3", NULL, NULL, NULL},
    {"q10", {"id1", "id2", "id3", "id4", "id5", "id6"}, 6, "sum(v3) as v3, count() as count", NULL, NULL,
     NULL},
    {"qf1", {"id1"}, 1, "sum(v3) as v3, count() as count", "v1 > 2", NULL, NULL},
    {"qf2", {"id2", "id4"}, 2, "sum(w) as w, mean(v3) as v3", "v2 <= 5 and v3 > 50", "w", "v1 * v3"},
};
#define NCASES ((int)(sizeof CASES / sizeof CASES[0]))

static bool is_ipc(const char *path) {
  size_t n = strlen(path);
  return (n > 6 && !strcmp(path + n - 6, ".arrow")) || (n > 8 && !strcmp(path + n - 8, ".feather")) ||
         (n > 7 && !strcmp(path + n - 7, ".arrows"));
}

/* The plan of case c over `path`. */
static gf_plan *build(const pcase *c, const char *path) {
  gf_error err;
  gf_plan *p = NULL, *n = NULL;
  if (is_ipc(path)) bench_check(gf_plan_scan_ipc(path, NULL, &p, &err), &err, "gf_plan_scan_ipc");
  else bench_check(gf_plan_scan_csv(path, NULL, &p, &err), &err, "gf_plan_scan_csv");
  if (c->filter) {
    gf_expr *e = NULL;
    bench_check(gf_expr_parse(c->filter, &e, &err), &err, "parse");
    bench_check(gf_plan_filter(p, e, &n, &err), &err, "gf_plan_filter");
    gf_expr_release(e);
    gf_plan_release(p);
    p = n;
  }
  if (c->with_name) {
    gf_expr *e = NULL;
    bench_check(gf_expr_parse(c->with_expr, &e, &err), &err, "parse");
    bench_check(gf_plan_with_columns(p, &c->with_name, &e, 1, &n, &err), &err, "gf_plan_with_columns");
    gf_expr_release(e);
    gf_plan_release(p);
    p = n;
  }
  bench_check(gf_plan_group_by(p, c->keys, c->nkeys, c->aggs, false, &n, &err), &err, "gf_plan_group_by");
  gf_plan_release(p);
  return n;
}

static gf_frame *run_plan(const gf_plan *p, const gf_parallel_options *po) {
  gf_plan_options o;
  gf_plan_options_init(&o);
  o.parallel = po;
  gf_frame *f = NULL;
  gf_error err;
  bench_check(gf_plan_collect(p, &o, &f, &err), &err, "gf_plan_collect");
  return f;
}

static gf_frame *run_eager(const pcase *c, const char *path, const gf_parallel_options *po) {
  gf_error err;
  gf_frame *f = NULL, *n = NULL;
  if (is_ipc(path)) {
    gf_ipc_read_options o;
    gf_ipc_read_options_init(&o);
    o.parallel = po;
    bench_check(gf_read_ipc(path, &o, &f, &err), &err, "gf_read_ipc");
  } else {
    gf_csv_read_options o;
    gf_csv_read_options_init(&o);
    o.parallel = po;
    bench_check(gf_read_csv(path, &o, &f, &err), &err, "gf_read_csv");
  }
  if (c->filter) {
    gf_expr *e = NULL;
    bench_check(gf_expr_parse(c->filter, &e, &err), &err, "parse");
    bench_check(gf_filter(f, e, po, &n, &err), &err, "gf_filter");
    gf_expr_release(e);
    gf_frame_release(f);
    f = n;
  }
  if (c->with_name) {
    gf_expr *e = NULL;
    bench_check(gf_expr_parse(c->with_expr, &e, &err), &err, "parse");
    bench_check(gf_with_columns(f, &c->with_name, &e, 1, po, &n, &err), &err, "gf_with_columns");
    gf_expr_release(e);
    gf_frame_release(f);
    f = n;
  }
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = po;
  bench_check(gf_group_by_text(f, c->keys, c->nkeys, c->aggs, &go, &n, &err), &err, "gf_group_by_text");
  gf_frame_release(f);
  return n;
}

static void print(const char *name, const char *mode, const char *label, int threads, double *secs,
                  double *cpu, int runs, const gf_frame *res, double ratio) {
  bench_result r;
  char full[64];
  snprintf(full, sizeof full, "%s_%s", name, mode);
  bench_result_init(&r, full, label, 0, threads);
  bench_result_times(&r, secs, cpu, runs);
  r.rows = gf_frame_num_rows(res);
  if (ratio > 0) bench_result_extra(&r, "ratio_to_eager", ratio);
  bench_result_print(&r);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: bench_plan CASE[,CASE...] FILE THREADS RUNS\n");
    return 2;
  }
  const char *path = argv[2];
  int threads = (int)bench_parse_count("THREADS", argv[3]);
  int runs = (int)bench_parse_count("RUNS", argv[4]);
  if (threads < 1 || runs < 1 || runs > BENCH_MAX_RUNS) {
    fprintf(stderr, "bench_plan: THREADS >= 1 and RUNS in 1..%d\n", BENCH_MAX_RUNS);
    return 2;
  }
  const char *label = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = threads;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", argv[1]);
  for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
    const pcase *c = NULL;
    for (int i = 0; i < NCASES; i++)
      if (!strcmp(CASES[i].name, t)) c = &CASES[i];
    if (!c) {
      fprintf(stderr, "bench_plan: unknown case '%s' (q1, q3, q10, qf1, qf2)\n", t);
      return 2;
    }
    gf_plan *p = build(c, path);
    gf_frame *a = run_plan(p, &po), *b = run_eager(c, path, &po);
    if (!gf_frame_equals(a, b)) {
      fprintf(stderr, "bench_plan: %s: the plan's answer differs from the eager one\n", c->name);
      return 1;
    }
    double ps[BENCH_MAX_RUNS], pc[BENCH_MAX_RUNS], es[BENCH_MAX_RUNS], ec[BENCH_MAX_RUNS];
    for (int r = 0; r < runs; r++) {
      double c0 = bench_cpu_s();
      int64_t t0 = bench_now_ns();
      gf_frame *x = run_plan(p, &po);
      ps[r] = (double)(bench_now_ns() - t0) / 1e9;
      pc[r] = bench_cpu_s() - c0;
      gf_frame_release(x);
      c0 = bench_cpu_s();
      t0 = bench_now_ns();
      x = run_eager(c, path, &po);
      es[r] = (double)(bench_now_ns() - t0) / 1e9;
      ec[r] = bench_cpu_s() - c0;
      gf_frame_release(x);
    }
    double pm[BENCH_MAX_RUNS], em[BENCH_MAX_RUNS];
    memcpy(pm, ps, sizeof(double) * (size_t)runs);
    memcpy(em, es, sizeof(double) * (size_t)runs);
    double ratio = bench_median(pm, runs) / bench_median(em, runs);
    print(c->name, "plan", label, threads, ps, pc, runs, a, ratio);
    print(c->name, "eager", label, threads, es, ec, runs, b, -1);
    gf_frame_release(a);
    gf_frame_release(b);
    gf_plan_release(p);
  }
  return 0;
}
