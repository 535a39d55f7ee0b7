/* Cancellation requested inside every phase of long single-worker calls
 * (group-by with median / n_unique, group-by with sorted keys, distinct,
 * sort, join), without timing: an allocator requests the token at its k-th
 * allocation, for k sampled over all the allocations the uncancelled call
 * makes, so the request lands in each phase in turn (hashing, the value
 * lists, the per-group finishing, the key sort, the output gather). The
 * outcome must be GF_OK with exactly the uncancelled result (the request
 * came after the last check) or GF_ECANCELED with a message and no output,
 * with nothing live in the allocator either way; requests in the first
 * half of the allocations must cancel. At 1 and 3 workers. Latencies are
 * measured by bench/bench_cancel.c (docs/RELIABILITY.md), not here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gopherframe.h"
#include "gopherframe/testing.h"

#define ROWS 300000
#define SAMPLES 40

/* ---- an allocator that requests cancellation at its k-th allocation ---- */
/* Workers allocate concurrently: the counters are updated atomically (plain
 * increments lost updates at 3 workers and made `live` drift). */

typedef struct trip {
  gf_cancel *token;
  int64_t at;    /* allocation number that requests; 0 = never */
  int64_t count; /* allocations so far */
  int64_t live;  /* bytes */
} trip;

static void *trip_alloc(void *ctx, size_t size, size_t align) {
  trip *t = ctx;
  if (__atomic_add_fetch(&t->count, 1, __ATOMIC_RELAXED) == t->at) gf_cancel_request(t->token);
  void *p = gf_alloc(NULL, size, align);
  if (p) __atomic_add_fetch(&t->live, (int64_t)size, __ATOMIC_RELAXED);
  return p;
}

static void *trip_realloc(void *ctx, void *ptr, size_t old, size_t size, size_t align) {
  trip *t = ctx;
  if (__atomic_add_fetch(&t->count, 1, __ATOMIC_RELAXED) == t->at) gf_cancel_request(t->token);
  void *p = gf_default_allocator()->reallocate(gf_default_allocator()->ctx, ptr, old, size, align);
  if (p) __atomic_add_fetch(&t->live, (int64_t)size - (int64_t)old, __ATOMIC_RELAXED);
  return p;
}

static void trip_free(void *ctx, void *ptr, size_t size, size_t align) {
  trip *t = ctx;
  if (!ptr) return;
  __atomic_sub_fetch(&t->live, (int64_t)size, __ATOMIC_RELAXED);
  gf_free(NULL, ptr, size, align);
}

/* ---- data ---------------------------------------------------------------- */

/* k: about 50K groups in scrambled order; v: every 7th row null. */
static gf_frame *make_frame(int64_t n, int64_t first) {
  gf_error err;
  gf_builder *bk = NULL, *bv = NULL;
  gf_array *cols[2] = {NULL, NULL};
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_INT64), NULL, &bk, &err), GF_OK);
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_INT64), NULL, &bv, &err), GF_OK);
  for (int64_t j = 0; j < n; j++) {
    int64_t i = first + j;
    assert_int_equal(gf_builder_append_int64(bk, (int64_t)(((uint64_t)i * 2654435761u) % 50021u), &err),
                     GF_OK);
    if (i % 7 == 3) assert_int_equal(gf_builder_append_null(bv, &err), GF_OK);
    else assert_int_equal(gf_builder_append_int64(bv, (i * 40503) % 65521, &err), GF_OK);
  }
  assert_int_equal(gf_builder_finish(bk, &cols[0], &err), GF_OK);
  assert_int_equal(gf_builder_finish(bv, &cols[1], &err), GF_OK);
  gf_builder_free(bk);
  gf_builder_free(bv);
  const char *names[] = {"k", "v"};
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_from_columns(names, cols, 2, &f, &err), GF_OK);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  return f;
}

/* ---- operations ---------------------------------------------------------- */

typedef gf_status (*op_fn)(const gf_frame *f, const gf_frame *r, const gf_parallel_options *po,
                           gf_frame **out, gf_error *err);

static gf_status op_median(const gf_frame *f, const gf_frame *r, const gf_parallel_options *po,
                           gf_frame **out, gf_error *err) {
  (void)r;
  const char *k[] = {"k"};
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = po;
  return gf_group_by_text(f, k, 1, "median(v),n_unique(v),quantile(v, 0.9)", &go, out, err);
}

static gf_status op_sorted_sum(const gf_frame *f, const gf_frame *r, const gf_parallel_options *po,
                               gf_frame **out, gf_error *err) {
  (void)r;
  const char *k[] = {"v"};
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = po;
  go.sort_keys = true;
  return gf_group_by_text(f, k, 1, "sum(k),count()", &go, out, err);
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
  gf_sort_key keys[2] = {{"k", false, false}, {"v", true, false}};
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

/* Runs `fn` uncancelled for the reference and its allocation count, then
 * with the request at SAMPLES allocation numbers spread over that count. */
static void sweep(op_fn fn, const char *name, int workers) {
  gf_frame *f = make_frame(ROWS, 0);
  gf_frame *r = make_frame(60000, 977);
  gf_error err;
  gf_cancel *token = NULL;
  assert_int_equal(gf_cancel_new(&token, &err), GF_OK);
  trip t = {token, 0, 0, 0};
  gf_allocator alloc = {trip_alloc, trip_realloc, trip_free, &t};
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.chunk_rows = 16384;
  po.allocator = &alloc;
  po.cancel = token;
  gf_frame *ref = NULL;
  assert_int_equal(fn(f, r, &po, &ref, &err), GF_OK);
  int64_t total = t.count, ref_bytes = t.live; /* the reference's memory */
  assert_true(total > 4);
  int cancelled = 0;
  for (int s = 0; s < SAMPLES; s++) {
    gf_cancel_reset(token);
    int64_t at = 1 + (total - 1) * s / SAMPLES;
    t.at = at;
    t.count = 0;
    gf_frame *out = NULL;
    gf_status st = fn(f, r, &po, &out, &err);
    if (st == GF_OK) {
      if (!gf_frame_equals(out, ref))
        fail_msg("%s, %d workers, request at allocation %lld of %lld: result differs", name,
                 workers, (long long)at, (long long)total);
      /* Workers allocate in any order at 3; at 1 the first half must stop. */
      if (workers == 1 && at * 2 <= total)
        fail_msg("%s: request at allocation %lld of %lld was not seen", name, (long long)at,
                 (long long)total);
      gf_frame_release(out);
    } else {
      if (st != GF_ECANCELED)
        fail_msg("%s, request at allocation %lld: %s: %s", name, (long long)at,
                 gf_status_name(st), err.message);
      assert_null(out);
      assert_true(err.message[0] != '\0');
      cancelled++;
    }
    assert_int_equal(t.live, ref_bytes);
  }
  assert_true(cancelled > 0);
  t.at = 0;
  gf_frame_release(ref);
  assert_int_equal(t.live, 0);
  gf_cancel_free(token);
  gf_frame_release(r);
  gf_frame_release(f);
}

static void median_nunique(void **state) {
  (void)state;
  sweep(op_median, "group_by median", 1);
  sweep(op_median, "group_by median", 3);
}
static void sorted_keys(void **state) {
  (void)state;
  sweep(op_sorted_sum, "group_by sorted", 1);
  sweep(op_sorted_sum, "group_by sorted", 3);
}
static void distinct(void **state) {
  (void)state;
  sweep(op_distinct, "distinct", 1);
  sweep(op_distinct, "distinct", 3);
}
static void sort(void **state) {
  (void)state;
  sweep(op_sort, "sort", 1);
  sweep(op_sort, "sort", 3);
}
static void join(void **state) {
  (void)state;
  sweep(op_join, "join", 1);
  sweep(op_join, "join", 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(median_nunique), cmocka_unit_test(sorted_keys), cmocka_unit_test(distinct),
      cmocka_unit_test(sort), cmocka_unit_test(join),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
