/*
 * bench_runtime: the parallel runtime's own costs (DESIGN.md 9, issue 3).
 *   1. dispatch overhead per morsel (empty kernel, 1-row chunks);
 *   2. speedup of a CPU-bound kernel from 1 to N workers, next to how a
 *      STREAM-style copy scales from 1 to N threads in the same run;
 *   3. cancellation latency (request -> call returns), p50/p99.
 * Each figure is the median of several repeats (the machine may be shared).
 * Usage: bench_runtime [--quick]
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gopherframe.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int64_t median(int64_t *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_i64);
  return v[n / 2];
}

static void die(gf_status st, const char *what) {
  if (st != GF_OK) {
    fprintf(stderr, "bench_runtime: %s failed: %s\n", what, gf_status_name(st));
    exit(1);
  }
}

/* --- 1. dispatch overhead ------------------------------------------------ */

static gf_status empty_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  (void)user;
  (void)c;
  (void)ctx;
  return GF_OK;
}

static double dispatch_ns(int workers, gf_strategy strategy, int64_t morsels, int repeats) {
  int64_t t[32];
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  o.strategy = strategy;
  o.chunk_rows = 1;
  o.min_parallel_rows = 0;
  for (int r = 0; r < repeats; r++) {
    int64_t t0 = now_ns();
    die(gf_parallel_for(morsels, 0, false, empty_kernel, NULL, &o, NULL), "dispatch");
    t[r] = now_ns() - t0;
  }
  return (double)median(t, repeats) / (double)morsels;
}

/* --- 2. CPU-bound kernel vs copy bandwidth -------------------------------- */

typedef struct cpu_job {
  double *out; /* one per chunk */
} cpu_job;

/* 16 dependent multiply-adds per row: no memory traffic to speak of. */
static gf_status cpu_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  cpu_job *j = user;
  double acc = 0.0;
  for (int64_t i = c->start_row; i < c->end_row; i++) {
    double x = (double)(i & 1023) * 1e-3;
    for (int k = 0; k < 16; k++) x = x * 0.999 + 0.001;
    acc += x;
  }
  j->out[c->chunk_id] = acc;
  return GF_OK;
}

static int64_t time_cpu_once(int workers, int64_t rows, cpu_job *j) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  int64_t t0 = now_ns();
  die(gf_parallel_for(rows, 8, true, cpu_kernel, j, &o, NULL), "cpu kernel");
  return now_ns() - t0;
}

typedef struct copy_job {
  const double *src;
  double *dst;
} copy_job;

static gf_status copy_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  copy_job *j = user;
  memcpy(j->dst + c->start_row, j->src + c->start_row,
         (size_t)(c->end_row - c->start_row) * sizeof(double));
  return GF_OK;
}

/* Time of one parallel copy of n doubles (read n, write n). */
static int64_t time_copy_once(int workers, copy_job *j, int64_t n) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  o.strategy = GF_STRATEGY_FIXED_CHUNKS;
  o.chunk_rows = 1 << 16;
  int64_t t0 = now_ns();
  die(gf_parallel_for(n, 16, false, copy_kernel, j, &o, NULL), "copy");
  return now_ns() - t0;
}

/* --- 3. cancellation latency -------------------------------------------- */

static gf_status spin_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  cpu_kernel(user, c, ctx);
  return GF_OK;
}

typedef struct cancel_trial {
  gf_cancel *token;
  int64_t delay_ns;
  int64_t requested_at;
} cancel_trial;

static void *request_later(void *arg) {
  cancel_trial *t = arg;
  struct timespec ts = {0, (long)t->delay_ns};
  nanosleep(&ts, NULL);
  t->requested_at = now_ns();
  gf_cancel_request(t->token);
  return NULL;
}

static void cancel_latency(int workers, int trials, int64_t *p50, int64_t *p99,
                           double *morsel_ms) {
  gf_exec_stats stats;
  int64_t busy = 0, morsels = 0;
  int64_t *lat = calloc((size_t)trials, sizeof *lat);
  gf_cancel *token = NULL;
  die(gf_cancel_new(&token, NULL), "gf_cancel_new");
  cpu_job j = {calloc((size_t)gf_reduction_blocks(1 << 30), sizeof(double))};
  for (int i = 0; i < trials; i++) {
    gf_cancel_reset(token);
    cancel_trial t = {token, 2000000 + (int64_t)(i % 10) * 700000, 0};
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    o.num_workers = workers;
    o.cancel = token;
    o.stats = &stats;
    pthread_t th;
    pthread_create(&th, NULL, request_later, &t);
    gf_status st = gf_parallel_for((int64_t)1 << 30, 8, true, spin_kernel, &j, &o, NULL);
    int64_t returned = now_ns();
    pthread_join(th, NULL);
    if (st != GF_ECANCELED) die(GF_EINTERNAL, "cancellation (the call finished first)");
    lat[i] = returned - t.requested_at;
    for (int w = 0; w < stats.workers_used; w++) {
      busy += stats.worker[w].busy_ns;
      morsels += stats.worker[w].morsels;
    }
  }
  *morsel_ms = morsels ? (double)busy / (double)morsels / 1e6 : 0.0;
  qsort(lat, (size_t)trials, sizeof *lat, cmp_i64);
  *p50 = lat[trials / 2];
  *p99 = lat[(trials * 99) / 100 < trials ? (trials * 99) / 100 : trials - 1];
  free(j.out);
  free(lat);
  gf_cancel_free(token);
}

int main(int argc, char **argv) {
  bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  int repeats = quick ? 3 : 7;
  int maxw = gf_default_num_workers();
  printf("bench_runtime: gopherframe %s, %d usable CPUs, medians of %d runs\n\n", gf_version(),
         maxw, repeats);

  int64_t morsels = quick ? 200000 : 2000000;
  printf("## dispatch overhead (empty kernel, %" PRId64 " one-row chunks)\n", morsels);
  printf("| workers | FIXED_CHUNKS ns/morsel (1 chunk per claim) | AUTO ns/chunk (adaptive batching) |\n|---|---|---|\n");
  for (int w = 1; w <= maxw; w = w < maxw && w * 2 > maxw ? maxw : w * 2) {
    double f = dispatch_ns(w, GF_STRATEGY_FIXED_CHUNKS, morsels, repeats);
    double a = dispatch_ns(w, GF_STRATEGY_AUTO, morsels, repeats);
    printf("| %d | %.1f | %.1f |\n", w, f, a);
    if (w == maxw) break;
  }

  int64_t rows = quick ? (int64_t)4 << 20 : (int64_t)16 << 20;
  int64_t n = quick ? (int64_t)4 << 20 : (int64_t)8 << 20; /* doubles per array */
  double *src = malloc((size_t)n * sizeof *src), *dst = malloc((size_t)n * sizeof *dst);
  if (!src || !dst) die(GF_ENOMEM, "copy arrays");
  for (int64_t i = 0; i < n; i++) src[i] = (double)i, dst[i] = 0.0;
  printf("\n## scaling: CPU-bound kernel (%" PRId64 " rows) vs STREAM-style copy (%" PRId64
         " MiB per array)\n",
         rows, (int64_t)(n * 8) >> 20);
  printf("| workers | CPU-bound ms (median) | CPU speedup (median) | CPU speedup (best run) | "
         "copy GB/s (median) | copy speedup (median) | copy speedup (best run) |\n"
         "|---|---|---|---|---|---|---|\n");
  /* Worker counts interleaved inside each repeat so background load on a
   * shared machine hits all of them alike. */
  int64_t tc[16][32], tm[16][32];
  int nw = maxw < 16 ? maxw : 16;
  cpu_job cj = {calloc((size_t)gf_reduction_blocks(rows), sizeof(double))};
  copy_job mj = {src, dst};
  for (int r = 0; r < repeats; r++)
    for (int w = 1; w <= nw; w++) {
      tc[w - 1][r] = time_cpu_once(w, rows, &cj);
      tm[w - 1][r] = time_copy_once(w, &mj, n);
    }
  /* median() sorts, so [0] is the best run afterwards */
  int64_t cpu1 = median(tc[0], repeats), copy1 = median(tm[0], repeats);
  int64_t cpu1_best = tc[0][0], copy1_best = tm[0][0];
  for (int w = 1; w <= nw; w++) {
    int64_t cpu = median(tc[w - 1], repeats), cp = median(tm[w - 1], repeats);
    printf("| %d | %.1f | %.2fx | %.2fx | %.2f | %.2fx | %.2fx |\n", w, (double)cpu / 1e6,
           (double)cpu1 / (double)cpu, (double)cpu1_best / (double)tc[w - 1][0],
           2.0 * (double)n * sizeof(double) / (double)cp, (double)copy1 / (double)cp,
           (double)copy1_best / (double)tm[w - 1][0]);
  }
  free(cj.out);
  free(src);
  free(dst);

  int trials = quick ? 20 : 100;
  printf("\n## cancellation latency (request -> call returns, %d trials, CPU-bound kernel on 65,536-row blocks)\n", trials);
  printf("| workers | mean morsel ms | p50 us | p99 us |\n|---|---|---|---|\n");
  for (int w = 1; w <= maxw; w = w < maxw && w * 2 > maxw ? maxw : w * 2) {
    int64_t p50, p99;
    double mm;
    cancel_latency(w, trials, &p50, &p99, &mm);
    printf("| %d | %.2f | %.1f | %.1f |\n", w, mm, (double)p50 / 1e3, (double)p99 / 1e3);
    if (w == maxw) break;
  }
  return 0;
}
