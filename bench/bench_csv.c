/*
 * bench_csv: times gf_read_csv of a whole file (issue 4, DESIGN.md 9): the
 * case `csv_load`, R runs at each thread count, with MB/s (file bytes / median
 * time) and the process's peak RSS.
 *
 * Checksum: the row count in `rows`, and the sums of the columns id4, id5,
 * id6, v1, v2, v3 (those the file has, in that order: the numeric columns of
 * db-benchmark's G1 data), which every peer computes the same way.
 *
 * Peak RSS is a high-water mark for the whole process, so run one thread
 * count per process when the memory figure matters (bench/run.sh does).
 *
 * Usage: bench_csv FILE [--threads T[,T...]] [--runs R] [--no-dictionary]
 *   defaults: --threads 1,<all>, --runs 5. --no-dictionary keeps string
 *   columns utf8 (a diagnostic: what dictionary encoding costs); the line
 *   then says "no_dictionary":1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench_common.h"

#define MAX_THREADS 16

static const char *const SUM_COLS[] = {"id4", "id5", "id6", "v1", "v2", "v3"};

/* The file's name without directory and ".csv", as the peers label data. */
static void data_label(const char *path, char *buf, size_t n) {
  const char *s = strrchr(path, '/');
  snprintf(buf, n, "%s", s ? s + 1 : path);
  size_t len = strlen(buf);
  if (len > 4 && !strcmp(buf + len - 4, ".csv")) buf[len - 4] = '\0';
}

static void run(const char *path, int threads, int runs, double file_bytes, bool no_dict) {
  gf_error err;
  gf_error_clear(&err);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = threads;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.parallel = &po;
  o.no_dictionary = no_dict;
  double secs[BENCH_MAX_RUNS], cpu[BENCH_MAX_RUNS];
  gf_frame *keep = NULL;
  for (int r = 0; r < runs; r++) {
    gf_frame *f = NULL;
    double c0 = bench_cpu_s();
    int64_t t0 = bench_now_ns();
    gf_status st = gf_read_csv(path, &o, &f, &err);
    secs[r] = (double)(bench_now_ns() - t0) / 1e9;
    cpu[r] = bench_cpu_s() - c0;
    if (r == 0) bench_mark_first_run();
    bench_check(st, &err, "gf_read_csv");
    /* Keep only the last result: holding two frames would double the RSS. */
    if (r == runs - 1)
      keep = f;
    else
      gf_frame_release(f);
  }
  char label[256];
  data_label(path, label, sizeof label);
  bench_result res;
  bench_result_init(&res, "csv_load", label, gf_frame_num_rows(keep), threads);
  bench_result_times(&res, secs, cpu, runs);
  res.rows = gf_frame_num_rows(keep);
  for (size_t i = 0; i < sizeof SUM_COLS / sizeof SUM_COLS[0]; i++)
    if (gf_schema_find(gf_frame_schema(keep), SUM_COLS[i]) >= 0)
      res.checksum[res.nchecksum++] = bench_column_sum(keep, SUM_COLS[i]);
  bench_result_extra(&res, "mb_s", file_bytes / 1e6 / res.median_s);
  bench_result_extra(&res, "file_mb", file_bytes / 1e6);
  if (no_dict) bench_result_extra(&res, "no_dictionary", 1);
  bench_result_print(&res);
  gf_frame_release(keep);
}

int main(int argc, char **argv) {
  const char *path = NULL;
  int runs = 5;
  bool no_dict = false;
  int threads[MAX_THREADS], nthreads = 0;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--no-dictionary")) {
      no_dict = true;
    } else if (v && !strcmp(argv[i], "--runs")) {
      runs = (int)bench_parse_count("--runs", v), i++;
    } else if (v && !strcmp(argv[i], "--threads")) {
      char buf[128];
      snprintf(buf, sizeof buf, "%s", v), i++;
      for (char *t = strtok(buf, ","); t && nthreads < MAX_THREADS; t = strtok(NULL, ","))
        threads[nthreads++] = (int)bench_parse_count("--threads", t);
    } else if (argv[i][0] != '-' && !path) {
      path = argv[i];
    } else {
      fprintf(stderr, "usage: bench_csv FILE [--threads T[,T]] [--runs R] [--no-dictionary]\n");
      return 2;
    }
  }
  if (!path || runs < 1 || runs > BENCH_MAX_RUNS) {
    fprintf(stderr, "usage: bench_csv FILE [--threads T[,T]] [--runs R] (R in 1..%d)\n",
            BENCH_MAX_RUNS);
    return 2;
  }
  struct stat sb;
  if (stat(path, &sb) != 0) {
    perror(path);
    return 1;
  }
  if (nthreads == 0) {
    threads[nthreads++] = 1;
    if (gf_default_num_workers() > 1) threads[nthreads++] = gf_default_num_workers();
  }
  for (int t = 0; t < nthreads; t++) run(path, threads[t], runs, (double)sb.st_size, no_dict);
  return 0;
}
