/*
 * bench_timezone: what a named time zone costs the date kernels (issue 16,
 * item 3). One timestamp[us] column of N rows (deterministic instants from
 * 1970 to 2100, from a hash of the row number) viewed through four types:
 * no zone, UTC, the fixed offset +05:30 and US/Eastern (TZif lookup:
 * binary search over ~240 transitions, POSIX rule after 2037).
 * Cases (type suffix _naive/_utc/_fixed/_named; checksum):
 *   hour_*        hour(t)                       sum of hours
 *   trunc_day_*   date_trunc('day', t)          sum of the results / 1e6
 *   text_*        cast(t as string) (N / 10 rows) total text bytes
 * Usage: bench_timezone [--rows N] [--threads T[,T...]] [--runs R]
 *   defaults: --rows 1e7, --threads 1,<all>, --runs 5.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

#define BATCH_ROWS (1 << 20)

static uint64_t mix(uint64_t row) {
  uint64_t z = row * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* One column "t" of `rows` instants typed `t`. */
static gf_frame *make_data(int64_t rows, gf_datatype t) {
  gf_error err;
  gf_error_clear(&err);
  gf_field field = {"t", t, false};
  gf_schema *schema = NULL;
  bench_check(gf_schema_new(&field, 1, &schema, &err), &err, "gf_schema_new");
  int nb = (int)((rows + BATCH_ROWS - 1) / BATCH_ROWS);
  if (nb == 0) nb = 1;
  gf_array **arrs = calloc((size_t)nb, sizeof *arrs);
  if (!arrs) exit(1);
  gf_builder *bld;
  bench_check(gf_builder_new(t, NULL, &bld, &err), &err, "gf_builder_new");
  const int64_t span = INT64_C(4102444800) * 1000000; /* 1970 .. 2100 in us */
  for (int b = 0; b < nb; b++) {
    int64_t lo = (int64_t)b * BATCH_ROWS, hi = lo + BATCH_ROWS < rows ? lo + BATCH_ROWS : rows;
    bench_check(gf_builder_reserve(bld, hi - lo, 0, &err), &err, "reserve");
    for (int64_t i = lo; i < hi; i++)
      bench_check(gf_builder_append_int64(bld, (int64_t)(mix((uint64_t)i) % (uint64_t)span), &err),
                  &err, "append");
    bench_check(gf_builder_finish(bld, &arrs[b], &err), &err, "finish");
  }
  gf_builder_free(bld);
  gf_frame *f = NULL;
  bench_check(gf_frame_new(schema, arrs, nb, NULL, &f, &err), &err, "gf_frame_new");
  for (int b = 0; b < nb; b++) gf_array_release(arrs[b]);
  free(arrs);
  gf_schema_release(schema);
  return f;
}

static gf_expr *make_expr(int which) {
  gf_expr *t = gf_col("t");
  if (which == 0) return gf_call("hour", &t, 1);
  if (which == 1) {
    gf_expr *args[2] = {gf_lit_string("day"), t};
    return gf_call("date_trunc", args, 2);
  }
  return gf_cast(t, gf_type(GF_TYPE_UTF8));
}

int main(int argc, char **argv) {
  int64_t rows = 10000000;
  int threads[8] = {1, gf_default_num_workers()}, nthreads = threads[1] > 1 ? 2 : 1;
  int runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--rows")) rows = bench_parse_count("--rows", argv[i + 1]);
    else if (!strcmp(argv[i], "--runs")) runs = (int)bench_parse_count("--runs", argv[i + 1]);
    else if (!strcmp(argv[i], "--threads")) {
      nthreads = 0;
      for (char *p = argv[i + 1]; *p && nthreads < 8;) {
        threads[nthreads++] = (int)strtol(p, &p, 10);
        if (*p == ',') p++;
      }
    } else {
      fprintf(stderr, "bench_timezone: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (runs < 1 || runs > BENCH_MAX_RUNS) runs = 5;
  static const char *const zones[4] = {NULL, "UTC", "+05:30", "US/Eastern"};
  static const char *const znames[4] = {"naive", "utc", "fixed", "named"};
  static const char *const cnames[3] = {"hour", "trunc_day", "text"};
  for (int z = 0; z < 4; z++) {
    gf_datatype t = gf_type_timestamp(GF_UNIT_MICRO, false, 0);
    gf_error err;
    gf_error_clear(&err);
    if (zones[z]) bench_check(gf_type_timestamp_zone(GF_UNIT_MICRO, zones[z], &t, &err), &err, zones[z]);
    for (int c = 0; c < 3; c++) {
      if (c == 1 && z == 0) continue; /* date_trunc on a naive column: same as UTC */
      int64_t n = c == 2 ? rows / 10 : rows;
      gf_frame *f = make_data(n, t);
      for (int ti = 0; ti < nthreads; ti++) {
        gf_parallel_options o;
        gf_parallel_options_init(&o);
        o.num_workers = threads[ti];
        double secs[BENCH_MAX_RUNS], cpu[BENCH_MAX_RUNS];
        bench_result r;
        char cname[64];
        snprintf(cname, sizeof cname, "%s_%s", cnames[c], znames[z]);
        bench_result_init(&r, cname, "timestamps_1970_2100", n, threads[ti]);
        for (int k = 0; k < runs; k++) {
          gf_expr *e = make_expr(c);
          const char *name = "r";
          gf_frame *out = NULL;
          double c0 = bench_cpu_s();
          int64_t t0 = bench_now_ns();
          bench_check(gf_with_columns(f, &name, &e, 1, &o, &out, &err), &err, cname);
          secs[k] = (double)(bench_now_ns() - t0) / 1e9;
          cpu[k] = bench_cpu_s() - c0;
          if (k == 0) bench_mark_first_run();
          r.rows = gf_frame_num_rows(out);
          r.checksum[0] = bench_column_sum(out, "r") / (c == 1 ? 1e6 : 1);
          r.nchecksum = 1;
          gf_frame_release(out);
          gf_expr_release(e);
        }
        bench_result_times(&r, secs, cpu, runs);
        bench_result_extra(&r, "mrows_s", (double)n / r.median_s / 1e6);
        bench_result_print(&r);
      }
      gf_frame_release(f);
    }
  }
  return 0;
}
