/* The rebatching sink (exec/sink_rebatch.c): whatever pieces it is pushed
 * (empty ones, frames of several batches, slices at odd offsets), the sink
 * it wraps receives batches of exactly `rows` rows but the last, at
 * positions 0, rows, 2*rows, ..., whose concatenation equals the input row
 * by row (nulls with garbage under them, strings, dictionaries); an
 * allocation failure anywhere fails cleanly without a leak. The reference
 * is the input frame itself and the arithmetic of the grid, checked by a
 * recording sink written here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/stream_internal.h"
#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe/testing.h"

/* A sink that records the sizes and positions it is pushed and keeps the
 * batches (the wrapped sink under test's output). */
typedef struct recorder {
  int64_t sizes[4096], pos[4096];
  int n;
  gf_frame *parts[4096];
  bool finished, bad_batches;
} recorder;

static gf_status rec_push(gfi_sink *k, const gf_frame *f, int64_t pos, gf_error *err) {
  (void)err;
  recorder *r = k->state;
  if (r->n == 4096) return GF_EINVAL;
  if (gf_frame_num_batches(f) != 1) {
    r->bad_batches = true;
    fprintf(stderr, "batch of %lld rows in %d batches\n", (long long)gf_frame_num_rows(f), gf_frame_num_batches(f));
  }
  r->sizes[r->n] = gf_frame_num_rows(f);
  r->pos[r->n] = pos;
  r->parts[r->n++] = gf_frame_retain((gf_frame *)f);
  return GF_OK;
}

static gf_status rec_finish(gfi_sink *k, gf_frame **out, gf_error *err) {
  (void)err;
  recorder *r = k->state;
  r->finished = true;
  *out = NULL;
  return GF_OK;
}

static void rec_free(gfi_sink *k) { free(k); }

static gfi_sink *recording_sink(recorder *r) {
  memset(r, 0, sizeof *r);
  gfi_sink *k = calloc(1, sizeof *k);
  assert_non_null(k);
  k->state = r;
  k->push = rec_push;
  k->finish = rec_finish;
  k->free = rec_free;
  return k;
}

static void rec_clear(recorder *r) {
  for (int i = 0; i < r->n; i++) gf_frame_release(r->parts[i]);
  r->n = 0;
}

/* The input: 20,011 rows of int64, utf8, float64 and dictionary<utf8>
 * columns, 10% nulls (garbage under them), in 3 batches. */
static gf_frame *input(void) {
  gf_datatype t[4] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_UTF8), gf_type(GF_TYPE_FLOAT64),
                      gf_type_dictionary(gf_type(GF_TYPE_UTF8))};
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, 4, 20011, 3, 0.1, 7, NULL, &f), GF_OK);
  return f;
}

/* Pushes f into k in pieces of pseudo-random sizes 0..max_piece (seeded),
 * every third piece a frame of two slices (two batches). */
static gf_status push_pieces(gfi_sink *k, const gf_frame *f, int64_t max_piece, uint64_t seed,
                             const gf_allocator *a, gf_error *err) {
  int64_t n = gf_frame_num_rows(f), at = 0;
  uint64_t x = seed * 2654435761u + 1;
  for (int i = 0; at < n; i++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    int64_t len = (int64_t)((x >> 33) % (uint64_t)(max_piece + 1));
    if (len > n - at) len = n - at;
    gf_frame *piece = NULL;
    gf_status st;
    if (i % 3 == 2 && len >= 2) {
      gf_frame *p2[2] = {NULL, NULL};
      st = gf_frame_slice(f, at, len / 2, &p2[0], err);
      if (st == GF_OK) st = gf_frame_slice(f, at + len / 2, len - len / 2, &p2[1], err);
      if (st == GF_OK) st = gf_frame_concat(p2, 2, a, &piece, err);
      gf_frame_release(p2[0]);
      gf_frame_release(p2[1]);
    } else {
      st = gf_frame_slice(f, at, len, &piece, err);
    }
    if (st == GF_OK) st = k->push(k, piece, at, err);
    gf_frame_release(piece);
    if (st != GF_OK) return st;
    at += len;
  }
  return GF_OK;
}

static void grid_is_exact_and_rows_equal(void **state) {
  (void)state;
  gf_frame *f = input();
  const int64_t grids[] = {5, 7, 1000, 4096, 65536}; /* 5: 4,003 batches, under the recorder's 4,096 */
  const int64_t pieces[] = {0, 1, 333, 5000, 30000};
  for (size_t g = 0; g < sizeof grids / sizeof *grids; g++)
    for (size_t p = 0; p < sizeof pieces / sizeof *pieces; p++) {
      recorder r;
      gfi_sink *k = recording_sink(&r);
      gf_error err;
      assert_int_equal(gfi_sink_rebatch(&k, grids[g], NULL, &err), GF_OK);
      int64_t mp = pieces[p] ? pieces[p] : 1;
      assert_int_equal(push_pieces(k, f, mp, g * 10 + p, NULL, &err), GF_OK);
      gf_frame *none = NULL;
      assert_int_equal(k->finish(k, &none, &err), GF_OK);
      assert_true(r.finished);
      if (r.bad_batches) fail_msg("grid %lld pieces %lld: a batch handed on was not one record batch", (long long)grids[g], (long long)pieces[p]);
      /* The grid: full batches at multiples of the size, one short last. */
      int64_t total = 0;
      for (int i = 0; i < r.n; i++) {
        assert_int_equal(r.pos[i], total);
        if (i < r.n - 1) assert_int_equal(r.sizes[i], grids[g]);
        else assert_true(r.sizes[i] > 0 && r.sizes[i] <= grids[g]);
        total += r.sizes[i];
      }
      assert_int_equal(total, gf_frame_num_rows(f));
      assert_int_equal(r.n, (int)((total + grids[g] - 1) / grids[g]));
      gf_frame *cat = NULL;
      assert_int_equal(gf_frame_concat(r.parts, r.n, NULL, &cat, &err), GF_OK);
      assert_true(gf_frame_equals(cat, f));
      gf_frame_release(cat);
      rec_clear(&r);
      k->free(k);
    }
  gf_frame_release(f);
}

static void empty_input_reaches_finish(void **state) {
  (void)state;
  recorder r;
  gfi_sink *k = recording_sink(&r);
  gf_error err;
  assert_int_equal(gfi_sink_rebatch(&k, 100, NULL, &err), GF_OK);
  gf_frame *f = input(), *e = NULL;
  assert_int_equal(gf_frame_slice(f, 5, 0, &e, &err), GF_OK);
  assert_int_equal(k->push(k, e, 0, &err), GF_OK);
  gf_frame *none = NULL;
  assert_int_equal(k->finish(k, &none, &err), GF_OK);
  assert_true(r.finished);
  assert_int_equal(r.n, 0);
  k->free(k);
  gf_frame_release(e);
  gf_frame_release(f);
}

typedef struct sweep_ctx {
  const gf_frame *f;
} sweep_ctx;

static gf_status sweep_run(void *user, const gf_allocator *a) {
  sweep_ctx *c = user;
  recorder r;
  gfi_sink *k = recording_sink(&r);
  gf_error err;
  gf_status st = gfi_sink_rebatch(&k, 1000, a, &err);
  if (st == GF_OK) st = push_pieces(k, c->f, 777, 3, a, &err);
  gf_frame *none = NULL;
  if (st == GF_OK) st = k->finish(k, &none, &err);
  if (st == GF_OK) {
    int64_t total = 0;
    for (int i = 0; i < r.n; i++) total += r.sizes[i];
    if (total != gf_frame_num_rows(c->f)) fail_msg("%s: rows lost", gft_sweep_at());
  }
  rec_clear(&r);
  k->free(k);
  return st;
}

static void allocation_failures_fail_cleanly(void **state) {
  (void)state;
  gf_frame *f = input();
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  sweep_ctx c = {f};
  gft_sweep_counts acc;
  memset(&acc, 0, sizeof acc);
  gft_alloc_sweep("rebatch", fa, sweep_run, &c, &acc);
  gft_sweep_print("rebatch", &acc);
  gf_failing_allocator_free(fa);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(grid_is_exact_and_rows_equal),
      cmocka_unit_test(empty_input_reaches_finish),
      cmocka_unit_test(allocation_failures_fail_cleanly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
