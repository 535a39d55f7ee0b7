/*
 * bench_common.c - shared helpers of the benchmark drivers (bench_common.h).
 */
#include "bench_common.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

int64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of n >= 1 values; sorts v. Even n: mean of the middle two. */
double bench_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Smallest of n >= 1 values. */
double bench_min(const double *v, int n) {
  double m = v[0];
  for (int i = 1; i < n; i++)
    if (v[i] < m) m = v[i];
  return m;
}

double bench_cpu_s(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1.0;
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ru_maxrss is in KiB on Linux: the same figure as VmHWM, which the peers
 * read, so every system reports the same measure. */
double bench_peak_rss_mb(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1.0;
  return (double)ru.ru_maxrss / 1024.0;
}

static double first_run_rss = -1.0;

void bench_mark_first_run(void) { first_run_rss = bench_peak_rss_mb(); }

/* Benchmarks have no recovery path: a failed call ends the process. */
void bench_check(gf_status st, const gf_error *err, const char *what) {
  if (st == GF_OK) return;
  fprintf(stderr, "bench: %s failed: %s: %s\n", what, gf_status_name(st),
          err ? err->message : "");
  exit(1);
}

/* ---- STREAM-style copy ---------------------------------------------------- */

/* Allocates and touches both arrays so the timed copies never page-fault. */
void bench_copy_init(bench_copy *c, int64_t bytes) {
  c->words = bytes / 8;
  if (c->words < 1) c->words = 1;
  c->src = malloc((size_t)c->words * 8);
  c->dst = malloc((size_t)c->words * 8);
  if (!c->src || !c->dst) {
    fprintf(stderr, "bench: out of memory for the copy arrays\n");
    exit(1);
  }
  for (int64_t i = 0; i < c->words; i++) {
    c->src[i] = i;
    c->dst[i] = 0;
  }
}

typedef struct copy_part {
  const int64_t *src;
  int64_t *dst;
  int64_t n;
} copy_part;

static void *copy_thread(void *arg) {
  copy_part *p = arg;
  const int64_t *restrict s = p->src;
  int64_t *restrict d = p->dst;
  for (int64_t i = 0; i < p->n; i++) d[i] = s[i];
  return NULL;
}

/* One timed copy over `threads` threads (the calling thread does part 0). */
double bench_copy_gbps(bench_copy *c, int threads) {
  if (threads < 1) threads = 1;
  if (threads > 64) threads = 64;
  pthread_t tid[64];
  copy_part part[64];
  int64_t per = c->words / threads;
  for (int t = 0; t < threads; t++) {
    int64_t lo = per * t, hi = t == threads - 1 ? c->words : lo + per;
    part[t] = (copy_part){c->src + lo, c->dst + lo, hi - lo};
  }
  int64_t t0 = bench_now_ns();
  for (int t = 1; t < threads; t++)
    if (pthread_create(&tid[t], NULL, copy_thread, &part[t]) != 0) {
      fprintf(stderr, "bench: pthread_create failed\n");
      exit(1);
    }
  copy_thread(&part[0]);
  for (int t = 1; t < threads; t++) pthread_join(tid[t], NULL);
  int64_t ns = bench_now_ns() - t0;
  return (double)(c->words * 16) / (double)(ns > 0 ? ns : 1);
}

void bench_copy_free(bench_copy *c) {
  free(c->src);
  free(c->dst);
  c->src = c->dst = NULL;
}

/* ---- checksums ------------------------------------------------------------ */

/* Sums values (or string byte lengths) over every batch, skipping nulls. */
double bench_column_sum(const gf_frame *f, const char *name) {
  int col = gf_schema_find(gf_frame_schema(f), name);
  if (col < 0) {
    fprintf(stderr, "bench: no column '%s' in the result\n", name);
    exit(1);
  }
  double sum = 0.0;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *a = gf_frame_column(f, b, col);
    gf_datatype t = gf_array_type(a);
    gf_type_id id = t.id == GF_TYPE_DICTIONARY ? t.value_id : t.id;
    int64_t n = gf_array_length(a);
    bool is_text = id == GF_TYPE_UTF8 || id == GF_TYPE_LARGE_UTF8 || id == GF_TYPE_BINARY ||
                   id == GF_TYPE_LARGE_BINARY;
    bool is_int = id == GF_TYPE_INT8 || id == GF_TYPE_INT16 || id == GF_TYPE_INT32 ||
                  id == GF_TYPE_INT64 || id == GF_TYPE_BOOL;
    /* Integers are summed exactly in 64 bits per batch, then added. */
    int64_t isum = 0;
    for (int64_t i = 0; i < n; i++) {
      if (gf_array_is_null(a, i)) continue;
      if (is_text) {
        int64_t len = 0;
        (void)gf_array_get_bytes(a, i, &len);
        isum += len;
      } else if (is_int) {
        isum += gf_array_get_int64(a, i);
      } else {
        sum += gf_array_get_double(a, i);
      }
    }
    sum += (double)isum;
  }
  return sum;
}

/* ---- the JSON line -------------------------------------------------------- */

void bench_result_init(bench_result *r, const char *case_name, const char *data,
                       int64_t rows_in, int threads) {
  memset(r, 0, sizeof *r);
  r->case_name = case_name;
  r->data = data;
  r->rows_in = rows_in;
  r->threads = threads;
  r->cpu_s = -1.0;
}

void bench_result_times(bench_result *r, double *secs, double *cpu, int runs) {
  r->runs = runs;
  /* Kept before the medians are taken (bench_median may reorder): the raw
   * per-run figures go into the JSON line as "secs" and "cpu". */
  for (int i = 0; i < runs && i < BENCH_MAX_RUNS; i++) {
    r->run_s[i] = secs[i];
    if (cpu) r->run_cpu[i] = cpu[i];
  }
  r->have_run_cpu = cpu != NULL;
  if (cpu) r->cpu_s = bench_median(cpu, runs);
  r->min_s = bench_min(secs, runs);
  r->median_s = bench_median(secs, runs);
}

void bench_result_extra(bench_result *r, const char *key, double value) {
  size_t used = strlen(r->extra);
  snprintf(r->extra + used, sizeof r->extra - used, ",\"%s\":%.6g", key, value);
}

/* JSON numbers: %.17g round-trips; NaN/inf are not JSON, so they print null. */
static void print_number(double v) {
  if (isfinite(v))
    printf("%.17g", v);
  else
    printf("null");
}

void bench_result_print(const bench_result *r) {
  printf("{\"system\":\"gopherframe\",\"version\":\"%s\",\"case\":\"%s\",\"data\":\"%s\","
         "\"rows_in\":%lld,\"threads\":%d,\"runs\":%d,\"median_s\":%.6g,\"min_s\":%.6g,"
         "\"rows\":%lld,\"checksum\":[",
         gf_version(), r->case_name, r->data, (long long)r->rows_in, r->threads, r->runs,
         r->median_s, r->min_s, (long long)r->rows);
  for (int i = 0; i < r->nchecksum; i++) {
    if (i) putchar(',');
    print_number(r->checksum[i]);
  }
  printf("],\"peak_rss_mb\":%.1f", bench_peak_rss_mb());
  if (first_run_rss >= 0) printf(",\"rss_first_mb\":%.1f", first_run_rss);
  first_run_rss = -1.0;
  if (r->cpu_s >= 0) printf(",\"cpu_s\":%.6g", r->cpu_s);
  printf(",\"secs\":[");
  for (int i = 0; i < r->runs && i < BENCH_MAX_RUNS; i++) printf("%s%.6g", i ? "," : "", r->run_s[i]);
  printf("]");
  if (r->have_run_cpu) {
    printf(",\"cpu\":[");
    for (int i = 0; i < r->runs && i < BENCH_MAX_RUNS; i++) printf("%s%.6g", i ? "," : "", r->run_cpu[i]);
    printf("]");
  }
  printf("%s}\n", r->extra);
  fflush(stdout);
}

/* Accepts 1000000, 1e6, 10M, 100k (case-insensitive suffixes). */
int64_t bench_parse_count(const char *opt, const char *text) {
  char *end = NULL;
  double v = strtod(text, &end);
  if (end && (*end == 'k' || *end == 'K')) v *= 1e3, end++;
  else if (end && (*end == 'm' || *end == 'M')) v *= 1e6, end++;
  if (!end || *end != '\0' || !(v >= 0) || v > 9e18) {
    fprintf(stderr, "bench: %s expects a count such as 1e6 or 10M, got '%s'\n", opt, text);
    exit(2);
  }
  return (int64_t)v;
}
