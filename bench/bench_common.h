/*
 * bench_common.h - what every benchmark driver in bench/ shares: timing,
 * medians, peak RSS, a STREAM-style copy, column checksums and the one JSON
 * line per case that bench/run.sh collects from us and from the peers.
 *
 * The JSON line (one object per line on stdout, keys in this order):
 *   {"system":"gopherframe","version":"0.1.0","case":"filter_i64_1pct",
 *    "data":"filter_1e7","rows_in":10000000,"threads":2,"runs":5,
 *    "median_s":0.0123,"min_s":0.0119,"rows":100000,"checksum":[1,2.5],
 *    "peak_rss_mb":512.3,"rss_first_mb":500.1,"cpu_s":0.02, ...driver-specific extras ("gbps", "mb_s", ...)}
 * `rows` is the result's row count and `checksum` a list of numbers (the sums
 * of the result's numeric columns, as each case defines them) that every
 * system must reproduce (1e-9 relative). Peers print the same keys.
 *
 * A new driver is one file bench/bench_NAME.c: bench/CMakeLists.txt builds
 * every bench_*.c into its own executable linked with this helper.
 */
#ifndef GF_BENCH_COMMON_H
#define GF_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gopherframe.h>

#define BENCH_MAX_RUNS 101
#define BENCH_MAX_CHECKSUM 16

/* Monotonic clock in nanoseconds. */
int64_t bench_now_ns(void);
/* Median of n values (sorts v in place); n >= 1. */
double bench_median(double *v, int n);
/* Minimum of n values; n >= 1. */
double bench_min(const double *v, int n);
/* CPU seconds (user + system, all threads) this process has used so far:
 * on a loaded machine, CPU time per run is steadier than wall time. */
double bench_cpu_s(void);
/* Peak resident set size of this process so far, in MiB (getrusage). */
double bench_peak_rss_mb(void);
/* Records the peak RSS now; call right after the first timed run. The JSON
 * line then carries it as rss_first_mb: the memory that loading/running the
 * case once needs, which later runs cannot inflate (peers with a garbage
 * collector may hold earlier results until it runs). */
void bench_mark_first_run(void);
/* Exits with a message naming `what` when st is not GF_OK. */
void bench_check(gf_status st, const gf_error *err, const char *what);

/*
 * STREAM-style copy of `bytes` bytes (int64 words) split over `threads`
 * pthreads, source and destination allocated and pre-faulted once by
 * bench_copy_init. Returns GB/s counting bytes read + written.
 */
typedef struct bench_copy {
  int64_t *src, *dst;
  int64_t words;
} bench_copy;
void bench_copy_init(bench_copy *c, int64_t bytes);
double bench_copy_gbps(bench_copy *c, int threads);
void bench_copy_free(bench_copy *c);

/* Sum of a numeric (or dictionary-code-free) column over all batches,
 * nulls skipped; string columns give the total byte length. */
double bench_column_sum(const gf_frame *f, const char *name);

/* One result line. Fill with bench_result_init, then print. */
typedef struct bench_result {
  const char *case_name;
  const char *data;    /* dataset label, e.g. "filter_1e7" or a file name */
  int64_t rows_in;
  int threads;
  int runs;
  double median_s, min_s;
  double cpu_s;        /* median CPU seconds per run (all threads), < 0 unknown */
  double run_s[BENCH_MAX_RUNS];   /* every run's wall seconds, in run order */
  double run_cpu[BENCH_MAX_RUNS]; /* every run's CPU seconds (when known) */
  bool have_run_cpu;
  int64_t rows;        /* result rows */
  double checksum[BENCH_MAX_CHECKSUM];
  int nchecksum;
  char extra[512];     /* ",\"key\":value,..." appended verbatim (may be "") */
} bench_result;

void bench_result_init(bench_result *r, const char *case_name, const char *data,
                       int64_t rows_in, int threads);
/* Sets median_s/min_s/runs from per-run seconds (sorts `secs`) and cpu_s
 * from per-run CPU seconds (`cpu` may be NULL). */
void bench_result_times(bench_result *r, double *secs, double *cpu, int runs);
/* Appends ,"key":value to extra (value printed with %.6g). */
void bench_result_extra(bench_result *r, const char *key, double value);
/* Prints the JSON line to stdout (flushed), with peak RSS measured now. */
void bench_result_print(const bench_result *r);

/* Parses "--name VALUE" style int64 arguments with k/M/e suffixes ("1e7",
 * "10M"); exits with a message on bad input. */
int64_t bench_parse_count(const char *opt, const char *text);

#endif /* GF_BENCH_COMMON_H */
