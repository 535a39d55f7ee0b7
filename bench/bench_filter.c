/*
 * bench_filter: the seed's filter and expression scenarios (issue 5,
 * DESIGN.md 9) against a STREAM-style copy measured in the same run.
 *
 * Data (deterministic, from a hash of the row number; the same values that
 * `--write-csv` writes for the peers):
 *   a, b  int64 uniform in [0, 1e6)      c  int64 uniform in [0, 3e6)
 *   x     float64 k/1e6, k in [0, 1e6)   s  utf8 "s000".."s099"
 * Cases (name: frame -> predicate; checksum):
 *   filter_i64_1pct / _30pct / _80pct   [a] -> a < 1e4 / 3e5 / 8e5; sum(a)
 *   filter_f64_30pct                    [x] -> x < 0.3; sum(x)
 *   filter_str_eq                       [s] -> s = 's042'; sum(length(s))
 *   filter_mixed_30pct         [a,b,c,x,s] -> a < 3e5; sums of a,b,c,x,len(s)
 *   filter_expr                     [a,b,c] -> a * 2 + b > c; sums of a,b,c
 *   eval_expr                       [a,b,c] -> evaluate a * 2 + b > c; count true
 * GB/s counts bytes read (every input column, once) plus bytes written (the
 * result); `copy_gbps` is a copy of 64 MiB -> 64 MiB at the same thread count,
 * measured in a child process (so it does not raise our peak RSS) right before
 * and after the case's runs.
 *
 * Usage: bench_filter [--rows N[,N...]] [--threads T[,T...]] [--runs R]
 *                     [--cases c1,c2] [--big] [--write-csv FILE]
 *   defaults: --rows 1e5,1e6,1e7 (--big adds 1e8), --threads 1,<all>,
 *   --runs 5, every case. --write-csv writes the first --rows size as CSV
 *   (for the peers) and exits.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"

#define BATCH_ROWS (1 << 20)
#define MAX_LIST 16

/* ---- data ----------------------------------------------------------------- */

/* splitmix64 of (row, column): every system can recompute a value from its
 * row number, and the data does not depend on the batch layout. */
static uint64_t mix(uint64_t row, uint64_t col) {
  uint64_t z = row * 0x9E3779B97F4A7C15ull + col * 0xD1B54A32D192ED03ull + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static const char *const COLS[5] = {"a", "b", "c", "x", "s"};

static gf_frame *make_data(int64_t rows) {
  gf_error err;
  gf_error_clear(&err);
  const gf_datatype types[5] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_INT64),
                                gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_FLOAT64),
                                gf_type(GF_TYPE_UTF8)};
  gf_field fields[5];
  for (int c = 0; c < 5; c++) fields[c] = (gf_field){COLS[c], types[c], false};
  gf_schema *schema = NULL;
  bench_check(gf_schema_new(fields, 5, &schema, &err), &err, "gf_schema_new");
  int nb = (int)((rows + BATCH_ROWS - 1) / BATCH_ROWS);
  if (nb == 0) nb = 1;
  gf_array **arrs = calloc((size_t)nb * 5, sizeof *arrs);
  gf_builder *bld[5];
  if (!arrs) exit(1);
  for (int c = 0; c < 5; c++)
    bench_check(gf_builder_new(types[c], NULL, &bld[c], &err), &err, "gf_builder_new");
  for (int b = 0; b < nb; b++) {
    int64_t lo = (int64_t)b * BATCH_ROWS, hi = lo + BATCH_ROWS < rows ? lo + BATCH_ROWS : rows;
    for (int c = 0; c < 5; c++)
      bench_check(gf_builder_reserve(bld[c], hi - lo, c == 4 ? 4 * (hi - lo) : 0, &err), &err,
                  "gf_builder_reserve");
    for (int64_t i = lo; i < hi; i++) {
      uint64_t r = (uint64_t)i;
      char s[8];
      snprintf(s, sizeof s, "s%03u", (unsigned)(mix(r, 5) % 100));
      bench_check(gf_builder_append_int64(bld[0], (int64_t)(mix(r, 1) % 1000000), &err), &err, "a");
      bench_check(gf_builder_append_int64(bld[1], (int64_t)(mix(r, 2) % 1000000), &err), &err, "b");
      bench_check(gf_builder_append_int64(bld[2], (int64_t)(mix(r, 3) % 3000000), &err), &err, "c");
      bench_check(gf_builder_append_double(bld[3], (double)(mix(r, 4) % 1000000) / 1e6, &err),
                  &err, "x");
      bench_check(gf_builder_append_bytes(bld[4], s, 4, &err), &err, "s");
    }
    for (int c = 0; c < 5; c++)
      bench_check(gf_builder_finish(bld[c], &arrs[(size_t)b * 5 + (size_t)c], &err), &err,
                  "gf_builder_finish");
  }
  gf_frame *f = NULL;
  bench_check(gf_frame_new(schema, arrs, nb, NULL, &f, &err), &err, "gf_frame_new");
  for (int i = 0; i < nb * 5; i++) gf_array_release(arrs[i]);
  for (int c = 0; c < 5; c++) gf_builder_free(bld[c]);
  free(arrs);
  gf_schema_release(schema);
  return f;
}

/* Bytes of the Arrow buffers of every column of f (validity, data, offsets,
 * string bytes), i.e. what reading or writing the whole frame moves. */
static double frame_bytes(const gf_frame *f) {
  double total = 0;
  for (int b = 0; b < gf_frame_num_batches(f); b++)
    for (int c = 0; c < gf_frame_num_columns(f); c++) {
      const gf_array *a = gf_frame_column(f, b, c);
      int64_t n = gf_array_length(a);
      gf_datatype t = gf_array_type(a);
      if (gf_array_null_count(a) > 0) total += (double)((n + 7) / 8);
      if (t.id == GF_TYPE_UTF8 || t.id == GF_TYPE_BINARY) {
        const int32_t *off = gf_array_buffer(a, 1);
        int64_t o = gf_array_offset(a);
        total += 4.0 * (double)(n + 1) + (double)(off[o + n] - off[o]);
      } else if (t.id == GF_TYPE_BOOL) {
        total += (double)((n + 7) / 8);
      } else {
        total += (double)n * gf_type_bit_width(t) / 8.0;
      }
    }
  return total;
}

/* ---- cases ---------------------------------------------------------------- */

typedef struct bcase {
  const char *name;
  const char *cols;      /* comma-separated input columns */
  const char *expr;      /* gf_expr_parse text; NULL: "a in (...)" of in_items */
  bool evaluate;         /* gf_evaluate instead of gf_filter */
  int in_items;          /* in-list cases: items 0, s, 2s, ... (s = 1e6 / n) */
} bcase;

static const bcase CASES[] = {
    {"filter_i64_1pct", "a", "a < 10000", false, 0},
    {"filter_i64_30pct", "a", "a < 300000", false, 0},
    {"filter_i64_80pct", "a", "a < 800000", false, 0},
    {"filter_f64_30pct", "x", "x < 0.3", false, 0},
    {"filter_str_eq", "s", "s = 's042'", false, 0},
    {"filter_mixed_30pct", "a,b,c,x,s", "a < 300000", false, 0},
    {"filter_expr", "a,b,c", "a * 2 + b > c", false, 0},
    {"eval_expr", "a,b,c", "a * 2 + b > c", true, 0},
    /* a is uniform in [0, 1e6): n items keep ~n / 1e6 of the rows. */
    {"filter_in_list_100", "a", NULL, false, 100},
    {"filter_in_list_10k", "a", NULL, false, 10000},
};

/* The text "a in (0, s, 2s, ...)" of an in-list case (malloc'd). */
static char *in_list_text(int n) {
  char *t = malloc((size_t)n * 12 + 16), *p = t;
  int64_t step = 1000000 / n;
  p += sprintf(p, "a in (");
  for (int i = 0; i < n; i++) p += sprintf(p, "%s%" PRId64, i ? ", " : "", (int64_t)i * step);
  sprintf(p, ")");
  return t;
}
#define NCASES ((int)(sizeof CASES / sizeof CASES[0]))

/* Splits a comma-separated list into at most MAX_LIST pieces (modifies s). */
static int split(char *s, char **out) {
  int n = 0;
  for (char *tok = strtok(s, ","); tok && n < MAX_LIST; tok = strtok(NULL, ",")) out[n++] = tok;
  return n;
}

/* Median copy GB/s over `reps` copies at `threads`, in a child process. */
static double copy_gbps_child(int threads, int reps) {
  int fd[2];
  if (pipe(fd) != 0) return -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(fd[0]);
    bench_copy c;
    bench_copy_init(&c, (int64_t)64 << 20);
    double v[BENCH_MAX_RUNS];
    if (reps > BENCH_MAX_RUNS) reps = BENCH_MAX_RUNS;
    (void)bench_copy_gbps(&c, threads); /* warm-up */
    for (int i = 0; i < reps; i++) v[i] = bench_copy_gbps(&c, threads);
    double m = bench_median(v, reps);
    ssize_t w = write(fd[1], &m, sizeof m);
    _exit(w == (ssize_t)sizeof m ? 0 : 1);
  }
  close(fd[1]);
  double m = -1;
  if (read(fd[0], &m, sizeof m) != (ssize_t)sizeof m) m = -1;
  close(fd[0]);
  waitpid(pid, NULL, 0);
  return m;
}

static void data_label(int64_t rows, char *buf, size_t n) {
  int64_t p = 1;
  int e = 0;
  while (p < rows && e < 18) p *= 10, e++;
  if (p == rows)
    snprintf(buf, n, "filter_1e%d", e);
  else
    snprintf(buf, n, "filter_%" PRId64, rows);
}

static void run_case(const gf_frame *all, const bcase *bc, int threads, int runs,
                     const char *label) {
  gf_error err;
  gf_error_clear(&err);
  char colbuf[64];
  char *names[MAX_LIST];
  snprintf(colbuf, sizeof colbuf, "%s", bc->cols);
  int ncols = split(colbuf, names);
  gf_frame *in = NULL;
  bench_check(gf_select(all, (const char *const *)names, ncols, &in, &err), &err, "gf_select");
  gf_expr *e = NULL;
  char *text = bc->expr ? NULL : in_list_text(bc->in_items);
  bench_check(gf_expr_parse(bc->expr ? bc->expr : text, &e, &err), &err, "gf_expr_parse");
  free(text);
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = threads;

  double copy_before = copy_gbps_child(threads, runs);
  double secs[BENCH_MAX_RUNS], cpu[BENCH_MAX_RUNS];
  double bytes_out = 0;
  gf_frame *keep = NULL;
  for (int r = 0; r < runs; r++) {
    gf_frame *out = NULL;
    double c0 = bench_cpu_s();
    int64_t t0 = bench_now_ns();
    gf_status st = bc->evaluate ? gf_evaluate(in, e, "r", &o, &out, &err)
                                : gf_filter(in, e, &o, &out, &err);
    secs[r] = (double)(bench_now_ns() - t0) / 1e9;
    cpu[r] = bench_cpu_s() - c0;
    if (r == 0) bench_mark_first_run();
    bench_check(st, &err, bc->evaluate ? "gf_evaluate" : "gf_filter");
    if (r == runs - 1)
      keep = out;
    else
      gf_frame_release(out);
  }
  double copy_after = copy_gbps_child(threads, runs);

  bench_result res;
  bench_result_init(&res, bc->name, label, gf_frame_num_rows(in), threads);
  bench_result_times(&res, secs, cpu, runs);
  bytes_out = frame_bytes(keep);
  double bytes = frame_bytes(in) + bytes_out;
  if (bc->evaluate) {
    res.rows = gf_frame_num_rows(keep);
    res.checksum[res.nchecksum++] = bench_column_sum(keep, "r");
  } else {
    res.rows = gf_frame_num_rows(keep);
    for (int c = 0; c < ncols; c++) res.checksum[res.nchecksum++] = bench_column_sum(keep, names[c]);
  }
  double copy = copy_before > 0 && copy_after > 0 ? 0.5 * (copy_before + copy_after)
                                                   : (copy_before > 0 ? copy_before : copy_after);
  double gbps = bytes / res.median_s / 1e9;
  bench_result_extra(&res, "rows_per_s", (double)res.rows_in / res.median_s);
  bench_result_extra(&res, "gbps", gbps);
  bench_result_extra(&res, "copy_gbps", copy);
  bench_result_extra(&res, "of_copy", copy > 0 ? gbps / copy : 0);
  bench_result_extra(&res, "bytes", bytes);
  bench_result_print(&res);
  gf_frame_release(keep);
  gf_frame_release(in);
  gf_expr_release(e);
}

static void write_csv(int64_t rows, const char *path) {
  gf_error err;
  gf_error_clear(&err);
  gf_frame *f = make_data(rows);
  bench_check(gf_write_csv(f, path, NULL, &err), &err, "gf_write_csv");
  gf_frame_release(f);
}

int main(int argc, char **argv) {
  char rows_arg[256] = "1e5,1e6,1e7", threads_arg[64] = "", cases_arg[512] = "";
  const char *csv = NULL;
  int runs = 5;
  bool big = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--big")) {
      big = true;
    } else if (v && !strcmp(a, "--rows")) {
      snprintf(rows_arg, sizeof rows_arg, "%s", v), i++;
    } else if (v && !strcmp(a, "--threads")) {
      snprintf(threads_arg, sizeof threads_arg, "%s", v), i++;
    } else if (v && !strcmp(a, "--cases")) {
      snprintf(cases_arg, sizeof cases_arg, "%s", v), i++;
    } else if (v && !strcmp(a, "--runs")) {
      runs = (int)bench_parse_count("--runs", v), i++;
    } else if (v && !strcmp(a, "--write-csv")) {
      csv = v, i++;
    } else {
      fprintf(stderr,
              "usage: bench_filter [--rows N[,N]] [--threads T[,T]] [--runs R] [--cases c1,c2]"
              " [--big] [--write-csv FILE]\n");
      return 2;
    }
  }
  if (runs < 1 || runs > BENCH_MAX_RUNS) {
    fprintf(stderr, "bench_filter: --runs must be 1..%d\n", BENCH_MAX_RUNS);
    return 2;
  }
  if (big && strlen(rows_arg) + 5 < sizeof rows_arg) strcat(rows_arg, ",1e8");
  char *row_list[MAX_LIST];
  int nrows = split(rows_arg, row_list);
  if (csv) {
    write_csv(bench_parse_count("--rows", row_list[0]), csv);
    return 0;
  }
  int thread_list[MAX_LIST], nthreads = 0;
  if (threads_arg[0]) {
    char *tl[MAX_LIST];
    int n = split(threads_arg, tl);
    for (int i = 0; i < n; i++) thread_list[nthreads++] = (int)bench_parse_count("--threads", tl[i]);
  } else {
    thread_list[nthreads++] = 1;
    if (gf_default_num_workers() > 1) thread_list[nthreads++] = gf_default_num_workers();
  }
  const bcase *selected[NCASES];
  int nsel = 0;
  if (cases_arg[0]) {
    char *cl[MAX_LIST];
    int n = split(cases_arg, cl);
    for (int i = 0; i < n; i++) {
      int k = 0;
      while (k < NCASES && strcmp(CASES[k].name, cl[i])) k++;
      if (k == NCASES) {
        fprintf(stderr, "bench_filter: unknown case '%s'\n", cl[i]);
        return 2;
      }
      selected[nsel++] = &CASES[k];
    }
  } else {
    for (int k = 0; k < NCASES; k++) selected[nsel++] = &CASES[k];
  }
  for (int ri = 0; ri < nrows; ri++) {
    int64_t rows = bench_parse_count("--rows", row_list[ri]);
    char label[64];
    data_label(rows, label, sizeof label);
    gf_frame *all = make_data(rows);
    for (int k = 0; k < nsel; k++)
      for (int t = 0; t < nthreads; t++) run_case(all, selected[k], thread_list[t], runs, label);
    gf_frame_release(all);
  }
  return 0;
}
