/*
 * bench_cancel - cancellation latency of long single-threaded calls: the
 * time from gf_cancel_request (on another thread) to the call's return.
 *
 *   build/bench/bench_cancel [ROWS [POINTS [THREADS]]]
 *
 * Data as python/tests/test_cancel.py: k = (i * 2654435761) % 1000003
 * (about 1M groups at 8M rows), v = (i * 40503) % 65521. Per operation
 * (group-by median/n_unique, group-by sum, distinct, sort, join) one
 * uncancelled run gives its duration d; then POINTS runs are cancelled at
 * d * (j + 0.5) / POINTS, j < POINTS, so every phase of the call gets a
 * request. Prints one line per operation: duration, and the median and the
 * maximum latency over the runs that returned GF_ECANCELED (how many did
 * is printed too, and how many returned GF_OK although the request came
 * before they returned: requested after their last check). Default ROWS
 * 8000000, POINTS 20, THREADS 1.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_common.h"

typedef struct bc_op {
  const char *name;
  gf_status (*run)(const gf_frame *f, const gf_frame *r, const gf_parallel_options *po,
                   gf_frame **out, gf_error *err);
} bc_op;

static gf_status op_gb_median(const gf_frame *f, const gf_frame *r, const gf_parallel_options *po,
                              gf_frame **out, gf_error *err) {
  (void)r;
  const char *k[] = {"k"};
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = po;
  return gf_group_by_text(f, k, 1, "median(v),n_unique(v)", &go, out, err);
}

static gf_status op_gb_sum(const gf_frame *f, const gf_frame *r, const gf_parallel_options *po,
                           gf_frame **out, gf_error *err) {
  (void)r;
  const char *k[] = {"k"};
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = po;
  go.sort_keys = true;
  return gf_group_by_text(f, k, 1, "sum(v),count()", &go, out, err);
}

static gf_status op_distinct(const gf_frame *f, const gf_frame *r, const gf_parallel_options *po,
                             gf_frame **out, gf_error *err) {
  (void)r;
  const char *k[] = {"k"};
  return gf_distinct(f, k, 1, po, out, err);
}

static gf_status op_sort(const gf_frame *f, const gf_frame *r, const gf_parallel_options *po,
                         gf_frame **out, gf_error *err) {
  (void)r;
  gf_sort_key keys[2] = {{"k", false, false}, {"v", false, false}};
  return gf_sort(f, keys, 2, 0, po, out, err);
}

static gf_status op_join(const gf_frame *f, const gf_frame *r, const gf_parallel_options *po,
                         gf_frame **out, gf_error *err) {
  const char *on[] = {"k"};
  gf_join_options jo;
  gf_join_options_init(&jo);
  jo.parallel = po;
  return gf_join(f, r, on, on, 1, GF_JOIN_INNER, &jo, out, err);
}

static const bc_op OPS[] = {
    {"group_by_median_nunique", op_gb_median},
    {"group_by_sum_sorted", op_gb_sum},
    {"distinct", op_distinct},
    {"sort_k_v", op_sort},
    {"join_inner", op_join},
};

/* The cancelling thread: sleeps until at_ns, stamps and requests. */
typedef struct bc_canceller {
  gf_cancel *token;
  int64_t at_ns, req_ns;
} bc_canceller;

static void *cancel_at(void *arg) {
  bc_canceller *c = arg;
  int64_t now;
  while ((now = bench_now_ns()) < c->at_ns) {
    int64_t left = c->at_ns - now;
    struct timespec ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
    nanosleep(&ts, NULL);
  }
  c->req_ns = bench_now_ns();
  gf_cancel_request(c->token);
  return NULL;
}

/* A one-batch frame of columns k and v as the header describes, of rows
 * [first, first + n) (the join's right side uses other rows). */
static gf_frame *make_frame(int64_t n, int64_t first) {
  gf_error err;
  gf_builder *bk = NULL, *bv = NULL;
  gf_array *cols[2] = {NULL, NULL};
  bench_check(gf_builder_new(gf_type(GF_TYPE_INT64), NULL, &bk, &err), &err, "builder");
  bench_check(gf_builder_new(gf_type(GF_TYPE_INT64), NULL, &bv, &err), &err, "builder");
  for (int64_t j = 0; j < n; j++) {
    int64_t i = first + j;
    bench_check(gf_builder_append_int64(bk, (int64_t)(((uint64_t)i * 2654435761u) % 1000003u),
                                        &err),
                &err, "append");
    bench_check(gf_builder_append_int64(bv, (i * 40503) % 65521, &err), &err, "append");
  }
  bench_check(gf_builder_finish(bk, &cols[0], &err), &err, "finish");
  bench_check(gf_builder_finish(bv, &cols[1], &err), &err, "finish");
  gf_builder_free(bk);
  gf_builder_free(bv);
  const char *names[] = {"k", "v"};
  gf_frame *f = NULL;
  bench_check(gf_frame_from_columns(names, cols, 2, &f, &err), &err, "frame");
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  return f;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int64_t rows = argc > 1 ? atoll(argv[1]) : 8000000;
  int points = argc > 2 ? atoi(argv[2]) : 20;
  int threads = argc > 3 ? atoi(argv[3]) : 1;
  if (rows < 1 || points < 1 || points > 1000 || threads < 1) {
    fprintf(stderr, "usage: bench_cancel [ROWS [POINTS [THREADS]]]\n");
    return 2;
  }
  gf_frame *f = make_frame(rows, 0);
  gf_frame *r = make_frame(1000003, 7777777); /* about one match per left row */
  gf_error err;
  gf_cancel *token = NULL;
  bench_check(gf_cancel_new(&token, &err), &err, "token");
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = threads;
  po.cancel = token;
  int64_t *lat = malloc(sizeof *lat * (size_t)points);
  printf("rows=%lld threads=%d points=%d\n", (long long)rows, threads, points);
  for (size_t o = 0; o < sizeof OPS / sizeof OPS[0]; o++) {
    gf_frame *out = NULL;
    int64_t t0 = bench_now_ns();
    bench_check(OPS[o].run(f, r, &po, &out, &err), &err, OPS[o].name);
    int64_t dur = bench_now_ns() - t0;
    gf_frame_release(out);
    int nc = 0, late = 0; /* late: GF_OK although requested before the return */
    for (int j = 0; j < points; j++) {
      gf_cancel_reset(token);
      bc_canceller c = {token, 0, 0};
      int64_t start = bench_now_ns();
      c.at_ns = start + (int64_t)((double)dur * (j + 0.5) / points);
      pthread_t th;
      pthread_create(&th, NULL, cancel_at, &c);
      out = NULL;
      gf_status st = OPS[o].run(f, r, &po, &out, &err);
      int64_t end = bench_now_ns();
      pthread_join(th, NULL);
      if (st == GF_ECANCELED) lat[nc++] = end - c.req_ns;
      else if (st != GF_OK) bench_check(st, &err, OPS[o].name);
      else late += c.req_ns < end;
      gf_frame_release(out);
    }
    gf_cancel_reset(token);
    if (nc > 0) qsort(lat, (size_t)nc, sizeof *lat, cmp_i64);
    printf("%-24s duration %8.1f ms  cancelled %2d/%d (ok after request %d)  latency median %7.1f ms"
           "  max %7.1f ms\n",
           OPS[o].name, dur / 1e6, nc, points, late, nc ? lat[nc / 2] / 1e6 : 0.0,
           nc ? lat[nc - 1] / 1e6 : 0.0);
    fflush(stdout);
  }
  free(lat);
  gf_cancel_free(token);
  gf_frame_release(r);
  gf_frame_release(f);
  return 0;
}
