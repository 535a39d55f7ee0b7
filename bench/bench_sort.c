/*
 * bench_sort: sorting 10M rows (issue 8) on the filter data (columns a, b, c
 * int, x double, s string; bench_filter --write-csv), with the peers'
 * command line:
 *
 *   bench_sort CASE[,CASE...] FILE THREADS RUNS
 *
 * Loads FILE with gf_read_csv (not timed), then runs each case RUNS times
 * with gf_sort, gathering every column; the result stays in memory until
 * the clock stops:
 *   sort_i64 by a · sort_f64 by x · sort_str by s · sort_two by s, a
 * Checksum (as peers/duckdb.js): rows; sort_i64 sum(a), first a; sort_f64
 * sum(x), first x; sort_str total length of s; sort_two sum(a), first a.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

typedef struct scase {
  const char *name;
  int nkeys;
  const char *keys[2];
  const char *sum;   /* column summed */
  const char *first; /* column whose first value is reported, or NULL */
} scase;

static const scase CASES[] = {
    {"sort_i64", 1, {"a", NULL}, "a", "a"},
    {"sort_f64", 1, {"x", NULL}, "x", "x"},
    {"sort_str", 1, {"s", NULL}, "s", NULL},
    {"sort_two", 2, {"s", "a"}, "a", "a"},
};

/* The file's name without directory and ".csv". */
static void data_label(const char *path, char *buf, size_t n) {
  const char *s = strrchr(path, '/');
  snprintf(buf, n, "%s", s ? s + 1 : path);
  size_t len = strlen(buf);
  if (len > 4 && !strcmp(buf + len - 4, ".csv")) buf[len - 4] = '\0';
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: bench_sort CASE[,CASE...] FILE THREADS RUNS\n");
    return 2;
  }
  const char *file = argv[2];
  int threads = (int)bench_parse_count("THREADS", argv[3]);
  int runs = (int)bench_parse_count("RUNS", argv[4]);
  if (runs < 1 || runs > BENCH_MAX_RUNS || threads < 1) {
    fprintf(stderr, "bench_sort: RUNS must be 1..%d and THREADS >= 1\n", BENCH_MAX_RUNS);
    return 2;
  }
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = threads;
  gf_error err;
  gf_error_clear(&err);
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.parallel = &po;
  gf_frame *t = NULL;
  bench_check(gf_read_csv(file, &o, &t, &err), &err, file);
  char label[256];
  data_label(file, label, sizeof label);

  char list[512];
  snprintf(list, sizeof list, "%s", argv[1]);
  for (char *c = strtok(list, ","); c; c = strtok(NULL, ",")) {
    const scase *sc = NULL;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
      if (!strcmp(CASES[i].name, c)) sc = &CASES[i];
    if (!sc) {
      fprintf(stderr, "bench_sort: unknown case '%s'\n", c);
      return 2;
    }
    gf_sort_key keys[2];
    memset(keys, 0, sizeof keys);
    for (int k = 0; k < sc->nkeys; k++) keys[k].column = sc->keys[k];
    double secs[BENCH_MAX_RUNS], cpu[BENCH_MAX_RUNS];
    gf_frame *keep = NULL;
    for (int r = 0; r < runs; r++) {
      gf_frame *out = NULL;
      gf_error_clear(&err);
      double c0 = bench_cpu_s();
      int64_t t0 = bench_now_ns();
      gf_status st = gf_sort(t, keys, sc->nkeys, 0, &po, &out, &err);
      secs[r] = (double)(bench_now_ns() - t0) / 1e9;
      cpu[r] = bench_cpu_s() - c0;
      if (r == 0) bench_mark_first_run();
      bench_check(st, &err, "gf_sort");
      if (r == runs - 1)
        keep = out;
      else
        gf_frame_release(out);
    }
    bench_result res;
    bench_result_init(&res, sc->name, label, gf_frame_num_rows(t), threads);
    bench_result_times(&res, secs, cpu, runs);
    res.rows = gf_frame_num_rows(keep);
    res.checksum[res.nchecksum++] = bench_column_sum(keep, sc->sum);
    if (sc->first) {
      int col = gf_schema_find(gf_frame_schema(keep), sc->first);
      const gf_array *a = gf_frame_column(keep, 0, col);
      res.checksum[res.nchecksum++] = gf_array_get_double(a, 0);
    }
    bench_result_print(&res);
    gf_frame_release(keep);
  }
  gf_frame_release(t);
  return 0;
}
