/*
 * bench_join: the db-benchmark join questions (issue 8) on J1 data made by
 * `gf gen join`, with the peers' command line:
 *
 *   bench_join CASE[,CASE...] J1_1eN_NA_P_S.csv THREADS RUNS
 *
 * Loads the left table and, beside it, the small (N/1e6 rows), medium
 * (N/1e3) and big (N) right tables with gf_read_csv (not timed), then runs
 * each case RUNS times with gf_join, the result kept in memory (released
 * after the clock stops), as db-benchmark does:
 *   j1 small  inner on id1 (int)     j2 medium inner on id2 (int)
 *   j3 medium left  on id2 (int)     j4 medium inner on id5 (string)
 *   j5 big    inner on id3 (int)
 * Checksum (as peers/duckdb.js): rows, sum(v1), sum(v2) of the result.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

typedef struct jcase {
  const char *name;
  int right; /* 0 small, 1 medium, 2 big */
  const char *key;
  gf_join_kind how;
} jcase;

static const jcase CASES[] = {
    {"j1", 0, "id1", GF_JOIN_INNER}, {"j2", 1, "id2", GF_JOIN_INNER},
    {"j3", 1, "id2", GF_JOIN_LEFT},  {"j4", 1, "id5", GF_JOIN_INNER},
    {"j5", 2, "id3", GF_JOIN_INNER},
};

/* Reads one CSV file with `threads` workers; exits on failure. */
static gf_frame *load(const char *path, const gf_parallel_options *po) {
  gf_error err;
  gf_error_clear(&err);
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.parallel = po;
  gf_frame *f = NULL;
  bench_check(gf_read_csv(path, &o, &f, &err), &err, path);
  return f;
}

/* The file's name without directory and ".csv". */
static void data_label(const char *path, char *buf, size_t n) {
  const char *s = strrchr(path, '/');
  snprintf(buf, n, "%s", s ? s + 1 : path);
  size_t len = strlen(buf);
  if (len > 4 && !strcmp(buf + len - 4, ".csv")) buf[len - 4] = '\0';
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: bench_join CASE[,CASE...] J1_1eN_NA_P_S.csv THREADS RUNS\n");
    return 2;
  }
  const char *file = argv[2];
  int threads = (int)bench_parse_count("THREADS", argv[3]);
  int runs = (int)bench_parse_count("RUNS", argv[4]);
  if (runs < 1 || runs > BENCH_MAX_RUNS || threads < 1) {
    fprintf(stderr, "bench_join: RUNS must be 1..%d and THREADS >= 1\n", BENCH_MAX_RUNS);
    return 2;
  }
  /* Right tables beside the left one: .../J1_1eE_NA_P_S.csv -> J1_1eE_1eK_P_S.csv. */
  regex_t re;
  regmatch_t m[5];
  if (regcomp(&re, "^(.*J1_)1e([0-9]+)_NA_([0-9]+)_([0-9]+)\\.csv$", REG_EXTENDED) != 0 ||
      regexec(&re, file, 5, m, 0) != 0) {
    fprintf(stderr, "bench_join: join data must be named J1_1eN_NA_P_S.csv, got %s\n", file);
    return 2;
  }
  int e = atoi(file + m[2].rm_so);
  char paths[3][4096];
  for (int i = 0; i < 3; i++) {
    int k = i == 0 ? e - 6 : i == 1 ? e - 3 : e;
    snprintf(paths[i], sizeof paths[i], "%.*sJ1_1e%d_1e%d_%.*s_%.*s.csv",
             (int)(m[1].rm_eo - m[1].rm_so - 3), file, e, k, (int)(m[3].rm_eo - m[3].rm_so),
             file + m[3].rm_so, (int)(m[4].rm_eo - m[4].rm_so), file + m[4].rm_so);
  }
  regfree(&re);

  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = threads;
  gf_frame *x = load(file, &po);
  gf_frame *right[3] = {NULL, NULL, NULL};
  char label[256];
  data_label(file, label, sizeof label);

  char list[512];
  snprintf(list, sizeof list, "%s", argv[1]);
  for (char *c = strtok(list, ","); c; c = strtok(NULL, ",")) {
    const jcase *jc = NULL;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
      if (!strcmp(CASES[i].name, c)) jc = &CASES[i];
    if (!jc) {
      fprintf(stderr, "bench_join: unknown case '%s' (j1..j5)\n", c);
      return 2;
    }
    if (!right[jc->right]) right[jc->right] = load(paths[jc->right], &po);
    gf_join_options jo;
    gf_join_options_init(&jo);
    jo.parallel = &po;
    const char *on[1] = {jc->key};
    double secs[BENCH_MAX_RUNS], cpu[BENCH_MAX_RUNS];
    gf_frame *keep = NULL;
    for (int r = 0; r < runs; r++) {
      gf_error err;
      gf_error_clear(&err);
      gf_frame *out = NULL;
      double c0 = bench_cpu_s();
      int64_t t0 = bench_now_ns();
      gf_status st = gf_join(x, right[jc->right], on, on, 1, jc->how, &jo, &out, &err);
      secs[r] = (double)(bench_now_ns() - t0) / 1e9;
      cpu[r] = bench_cpu_s() - c0;
      if (r == 0) bench_mark_first_run();
      bench_check(st, &err, "gf_join");
      if (r == runs - 1)
        keep = out;
      else
        gf_frame_release(out);
    }
    bench_result res;
    bench_result_init(&res, jc->name, label, gf_frame_num_rows(x), threads);
    bench_result_times(&res, secs, cpu, runs);
    res.rows = gf_frame_num_rows(keep);
    res.checksum[res.nchecksum++] = bench_column_sum(keep, "v1");
    res.checksum[res.nchecksum++] = bench_column_sum(keep, "v2");
    bench_result_print(&res);
    gf_frame_release(keep);
  }
  for (int i = 0; i < 3; i++)
    if (right[i]) gf_frame_release(right[i]);
  gf_frame_release(x);
  return 0;
}
