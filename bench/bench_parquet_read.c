/* bench_parquet_read: times gf_read_parquet of one file, either every
 * column or a projection with a predicate (row-group pruning, then
 * gf_filter of what was read, so the result is the filtered rows).
 *
 *   bench_parquet_read FILE [--threads T] [--runs R]
 *                      [--columns a,b --filter 'EXPR' [--no-late]]
 *
 * With --filter the reader filters the rows itself (filter_rows: late
 * materialisation); --no-late reads the row groups kept by pruning whole.
 * gf_filter runs after either way (a no-op on already filtered rows).
 *
 * Prints one line per run and a summary line:
 *   gf parquet_read <case> median_s=... min_s=... cpu_median_s=... rows=...
 * (CPU time of the process, all threads: on a loaded machine it says more
 * than the wall time). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

int main(int argc, char **argv) {
  const char *path = NULL, *cols = NULL, *filter = NULL;
  int threads = 2, runs = 5;
  bool late = true;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v && !strcmp(argv[i], "--threads")) threads = atoi(v), i++;
    else if (v && !strcmp(argv[i], "--runs")) runs = atoi(v), i++;
    else if (v && !strcmp(argv[i], "--columns")) cols = v, i++;
    else if (v && !strcmp(argv[i], "--filter")) filter = v, i++;
    else if (!strcmp(argv[i], "--no-late")) late = false;
    else if (!path && argv[i][0] != '-') path = argv[i];
    else {
      fprintf(stderr, "usage: bench_parquet_read FILE [--threads T] [--runs R] [--columns a,b --filter EXPR]\n");
      return 2;
    }
  }
  if (!path || runs < 1 || runs > 64) {
    fprintf(stderr, "bench_parquet_read: a FILE and --runs 1..64 are needed\n");
    return 2;
  }
  char *names[64];
  int ncols = 0;
  char *copy = cols ? strdup(cols) : NULL;
  for (char *t = copy ? strtok(copy, ",") : NULL; t && ncols < 64; t = strtok(NULL, ",")) names[ncols++] = t;
  gf_error err;
  gf_expr *pred = NULL;
  if (filter) bench_check(gf_expr_parse(filter, &pred, &err), &err, "parse --filter");
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = threads;
  double t[64], cpu[64];
  int64_t rows = 0;
  for (int r = 0; r < runs; r++) {
    gf_parquet_read_options o;
    gf_parquet_read_options_init(&o);
    o.parallel = &po;
    if (ncols) {
      o.columns = (const char *const *)names;
      o.num_columns = ncols;
    }
    o.predicate = pred;
    o.filter_rows = late;
    int64_t t0 = bench_now_ns();
    double c0 = bench_cpu_s();
    gf_frame *f = NULL;
    bench_check(gf_read_parquet(path, &o, &f, &err), &err, "gf_read_parquet");
    if (pred) {
      gf_frame *g = NULL;
      bench_check(gf_filter(f, pred, &po, &g, &err), &err, "gf_filter");
      gf_frame_release(f);
      f = g;
    }
    t[r] = (double)(bench_now_ns() - t0) / 1e9;
    cpu[r] = bench_cpu_s() - c0;
    rows = gf_frame_num_rows(f);
    gf_frame_release(f);
    printf("run %d: %.3f s wall, %.3f s CPU\n", r + 1, t[r], cpu[r]);
  }
  double mn = bench_min(t, runs);
  double cmed = bench_median(cpu, runs);
  printf("gf parquet_read %s median_s=%.3f min_s=%.3f cpu_median_s=%.3f rows=%lld threads=%d\n",
         ncols ? "select_filter" : "all_columns", bench_median(t, runs), mn, cmed, (long long)rows,
         threads);
  gf_expr_release(pred);
  free(copy);
  return 0;
}
