/* gf_filter: every column type, reference results, determinism across
 * worker counts and chunk sizes, selectivity extremes, coalescing, batch
 * skipping by statistics, dictionaries, empty frames, allocation failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_internal.h"
#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe/testing.h"

static gf_frame *run_filter(const gf_frame *f, const char *text, int workers, int64_t chunk) {
  gf_expr *e;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse: %s", err.message);
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  o.chunk_rows = chunk;
  o.min_parallel_rows = 0;
  gf_frame *r = NULL;
  if (gf_filter(f, e, &o, &r, &err) != GF_OK) fail_msg("filter %s: %s", text, err.message);
  gf_expr_release(e);
  return r;
}

/* Row `row` of column c of frame f, formatted ("null" for nulls). */
static void cell(const gf_frame *f, int64_t row, int c, char *buf, size_t n) {
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t off = gf_frame_batch_offset(f, b), len = gf_frame_batch_rows(f, b);
    if (row < off + len) {
      const gf_array *a = gf_frame_column(f, b, c);
      if (gf_array_is_null(a, row - off)) snprintf(buf, n, "<null>");
      else gf_array_format_value(a, row - off, buf, n);
      return;
    }
  }
  fail_msg("row %lld out of range", (long long)row);
}

/* Checks r against a row-by-row reference: rows of f where the 1-worker
 * evaluation of `text` is true. */
static void check_against_reference(const gf_frame *f, const char *text, const gf_frame *r) {
  gf_expr *e;
  assert_int_equal(gf_expr_parse(text, &e, NULL), GF_OK);
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = 1;
  gf_frame *mask;
  assert_int_equal(gf_evaluate(f, e, "m", &o, &mask, NULL), GF_OK);
  gf_expr_release(e);
  int64_t out = 0;
  int nc = gf_frame_num_columns(f);
  for (int b = 0; b < gf_frame_num_batches(mask); b++) {
    const gf_array *m = gf_frame_column(mask, b, 0);
    int64_t off = gf_frame_batch_offset(mask, b);
    for (int64_t i = 0; i < gf_array_length(m); i++) {
      if (gf_array_is_null(m, i) || !gf_array_get_bool(m, i)) continue;
      for (int c = 0; c < nc; c++) {
        char want[256], got[256];
        cell(f, off + i, c, want, sizeof want);
        cell(r, out, c, got, sizeof got);
        if (strcmp(want, got) != 0)
          fail_msg("%s: output row %lld column %d: got %s want %s", text, (long long)out, c, got, want);
      }
      out++;
    }
  }
  assert_int_equal(out, gf_frame_num_rows(r));
  gf_frame_release(mask);
}

static gf_frame *all_types_frame(int64_t rows, int batches, uint64_t seed) {
  gf_datatype types[GFT_MAX_TYPES];
  int n = gft_all_types(types, GFT_MAX_TYPES);
  gf_frame *f;
  assert_int_equal(gft_random_frame(types, n, rows, batches, 0.15, seed, NULL, &f), GF_OK);
  return f;
}

/* Name of the first column of type id in f. */
static const char *col_of(const gf_frame *f, gf_type_id id) {
  const gf_schema *s = gf_frame_schema(f);
  for (int i = 0; i < gf_schema_num_fields(s); i++)
    if (gf_schema_field(s, i)->type.id == id) return gf_schema_field(s, i)->name;
  fail_msg("no column of type %s", gf_type_id_name(id));
  return NULL;
}

static void filter_keeps_every_column_type_and_row_order(void **state) {
  (void)state;
  gf_frame *f = all_types_frame(5000, 4, 7);
  char preds[4][128];
  snprintf(preds[0], 128, "%s > 0", col_of(f, GF_TYPE_INT64));
  snprintf(preds[1], 128, "%s < 100.5 and %s", col_of(f, GF_TYPE_FLOAT64), col_of(f, GF_TYPE_BOOL));
  snprintf(preds[2], 128, "length(%s) > 5 or %s is null", col_of(f, GF_TYPE_UTF8), col_of(f, GF_TYPE_INT32));
  snprintf(preds[3], 128, "%s %% 7 = 3", col_of(f, GF_TYPE_INT16));
  for (int p = 0; p < 4; p++) {
    gf_frame *r = run_filter(f, preds[p], 3, 777);
    assert_true(gf_schema_equals(gf_frame_schema(r), gf_frame_schema(f)));
    check_against_reference(f, preds[p], r);
    for (int b = 0; b < gf_frame_num_batches(r); b++)
      for (int c = 0; c < gf_frame_num_columns(r); c++)
        assert_int_equal(gf_array_validate(gf_frame_column(r, b, c), false, NULL), GF_OK);
    gf_frame_release(r);
  }
  gf_frame_release(f);
}

static void filter_is_identical_for_any_workers_and_chunks(void **state) {
  (void)state;
  gf_frame *f = all_types_frame(30011, 5, 8);
  char pred[128];
  snprintf(pred, sizeof pred, "%s > 0 and %s is not null", col_of(f, GF_TYPE_INT32), col_of(f, GF_TYPE_UTF8));
  gf_frame *ref = run_filter(f, pred, 1, 0);
  const int workers[] = {1, 2, 3, 8};
  const int64_t chunks[] = {0, 1000, 4099, 65536};
  for (int w = 0; w < 4; w++)
    for (int c = 0; c < 4; c++) {
      gf_frame *r = run_filter(f, pred, workers[w], chunks[c]);
      if (!gf_frame_equals(ref, r)) fail_msg("differs at %d workers, chunk %lld", workers[w], (long long)chunks[c]);
      gf_frame_release(r);
    }
  gf_frame_release(ref);
  gf_frame_release(f);
}

static void zero_and_full_selectivity(void **state) {
  (void)state;
  gf_datatype types[] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_UTF8)};
  gf_frame *f;
  assert_int_equal(gft_random_frame(types, 2, 100000, 2, 0.0, 3, NULL, &f), GF_OK);
  gf_frame *none = run_filter(f, "c0 > 2000000000", 4, 0);
  assert_int_equal(gf_frame_num_rows(none), 0);
  assert_true(gf_schema_equals(gf_frame_schema(none), gf_frame_schema(f)));
  gf_frame_release(none);
  gf_frame *none2 = run_filter(f, "c1 = 'no such string!'", 4, 1000);
  assert_int_equal(gf_frame_num_rows(none2), 0);
  gf_frame_release(none2);
  gf_frame *all = run_filter(f, "c0 >= -1000000000", 4, 1000);
  assert_true(gf_frame_equals(all, f));
  /* Whole batches kept whole are shared, not copied. */
  assert_int_equal(gf_frame_num_batches(all), 2);
  assert_ptr_equal(gf_frame_column(all, 0, 1), gf_frame_column(f, 0, 1));
  gf_frame_release(all);
  gf_frame *all2 = run_filter(f, "true", 2, 0);
  assert_true(gf_frame_equals(all2, f));
  gf_frame_release(all2);
  gf_frame *nul = run_filter(f, "null", 2, 0);
  assert_int_equal(gf_frame_num_rows(nul), 0);
  gf_frame_release(nul);
  gf_frame_release(f);
}

static void small_outputs_are_coalesced(void **state) {
  (void)state;
  gf_datatype types[] = {gf_type(GF_TYPE_INT64)};
  gf_frame *f;
  assert_int_equal(gft_random_frame(types, 1, 400000, 100, 0.0, 4, NULL, &f), GF_OK);
  /* ~1% of [-1e9, 1e9] */
  gf_frame *r = run_filter(f, "c0 < -980000000", 4, 2000);
  assert_true(gf_frame_num_rows(r) > 1000);
  assert_true(gf_frame_num_batches(r) <= 2);
  check_against_reference(f, "c0 < -980000000", r);
  gf_frame_release(r);
  gf_frame_release(f);
}

static void batches_ruled_out_by_statistics_are_skipped_correctly(void **state) {
  (void)state;
  /* Ten batches of ascending values; only batch 7 can match. */
  gf_array *cols[10];
  int64_t vals[1000];
  for (int b = 0; b < 10; b++) {
    for (int i = 0; i < 1000; i++) vals[i] = b * 1000 + i;
    cols[b] = gft_int64_array(gf_type(GF_TYPE_INT64), vals, NULL, 1000);
  }
  gf_field fld = {"v", gf_type(GF_TYPE_INT64), true};
  gf_schema *s;
  assert_int_equal(gf_schema_new(&fld, 1, &s, NULL), GF_OK);
  gf_frame *f;
  assert_int_equal(gf_frame_new(s, cols, 10, NULL, &f, NULL), GF_OK);
  gf_schema_release(s);
  for (int b = 0; b < 10; b++) gf_array_release(cols[b]);
  const char *preds[] = {"v between 7100 and 7109", "v = 7500", "v > 9998", "v < 1 or v = 5000",
                         "v != 3", "v >= 10000", "v > 2.5 and v < 4.5"};
  const int64_t counts[] = {10, 1, 1, 2, 9999, 0, 2};
  for (int p = 0; p < 7; p++) {
    gf_frame *r = run_filter(f, preds[p], 2, 0);
    assert_int_equal(gf_frame_num_rows(r), counts[p]);
    check_against_reference(f, preds[p], r);
    gf_frame_release(r);
  }
  gf_frame_release(f);
}

static void dictionary_columns_stay_dictionaries(void **state) {
  (void)state;
  gf_datatype types[] = {gf_type_dictionary(gf_type(GF_TYPE_UTF8)), gf_type(GF_TYPE_INT64)};
  gf_frame *f;
  assert_int_equal(gft_random_frame(types, 2, 20000, 3, 0.1, 5, NULL, &f), GF_OK);
  /* Pick a value that exists. */
  const gf_array *d = gf_array_dictionary(gf_frame_column(f, 0, 0));
  int64_t len;
  const char *v = gf_array_get_bytes(d, 0, &len);
  char pred[128];
  snprintf(pred, sizeof pred, "c0 = '%.*s' or c1 > 900000000", (int)len, v);
  gf_frame *r = run_filter(f, pred, 3, 1500);
  assert_true(gf_frame_num_rows(r) > 0);
  check_against_reference(f, pred, r);
  for (int b = 0; b < gf_frame_num_batches(r); b++) {
    const gf_array *c = gf_frame_column(r, b, 0);
    assert_int_equal(gf_array_type(c).id, GF_TYPE_DICTIONARY);
    assert_ptr_equal(gf_array_dictionary(c), d);
  }
  gf_frame_release(r);
  gf_frame_release(f);
}

static void empty_frames_and_bad_predicates(void **state) {
  (void)state;
  gf_datatype types[] = {gf_type(GF_TYPE_INT64)};
  gf_frame *f;
  assert_int_equal(gft_random_frame(types, 1, 0, 1, 0.0, 1, NULL, &f), GF_OK);
  gf_frame *r = run_filter(f, "c0 > 1", 2, 0);
  assert_int_equal(gf_frame_num_rows(r), 0);
  gf_frame_release(r);
  gf_expr *e;
  assert_int_equal(gf_expr_parse("c0 + 1", &e, NULL), GF_OK);
  gf_error err;
  r = NULL;
  assert_int_equal(gf_filter(f, e, NULL, &r, &err), GF_ETYPE);
  assert_string_equal(err.message, "filter predicate must be bool, got int64 in 'c0 + 1'");
  assert_null(r);
  gf_expr_release(e);
  assert_int_equal(gf_expr_parse("nope > 1", &e, NULL), GF_OK);
  assert_int_equal(gf_filter(f, e, NULL, &r, &err), GF_EINVAL);
  gf_expr_release(e);
  gf_frame_release(f);
}

/* One filter under a failing allocator (gft_alloc_sweep callback). */
typedef struct filter_sweep {
  const gf_frame *f, *want;
  const gf_expr *e;
  gf_parallel_options o;
} filter_sweep;

static gf_status filter_once(void *user, const gf_allocator *a) {
  filter_sweep *s = user;
  s->o.allocator = a;
  gf_frame *r = NULL;
  gf_status st = gf_filter(s->f, s->e, &s->o, &r, NULL);
  if (st == GF_OK) {
    if (!gf_frame_equals(r, s->want)) fail_msg("%s: wrong result", gft_sweep_at());
    gf_frame_release(r);
  } else {
    assert_null(r);
  }
  return st;
}

/* Every allocation of a filter failed, one-off and persistent: GF_ENOMEM,
 * nothing leaked, and the same rows as without failures once it runs
 * clean. */
static void filter_survives_allocation_failures(void **state) {
  (void)state;
  gf_datatype types[] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_UTF8),
                         gf_type_dictionary(gf_type(GF_TYPE_UTF8)), gf_type(GF_TYPE_BOOL)};
  gf_frame *f;
  assert_int_equal(gft_random_frame(types, 4, 5000, 3, 0.1, 6, NULL, &f), GF_OK);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  const char *preds[] = {"c0 > 0", "c3 and length(c1) > 2", "c0 > -2000000000"};
  gft_sweep_counts counts = {0};
  for (int p = 0; p < 3; p++) {
    gf_expr *e;
    assert_int_equal(gf_expr_parse(preds[p], &e, NULL), GF_OK);
    for (int w = 1; w <= 3; w += 2) {
      filter_sweep s = {f, NULL, e, {0}};
      gf_parallel_options_init(&s.o);
      s.o.num_workers = w;
      s.o.chunk_rows = 900;
      s.o.min_parallel_rows = 0;
      gf_frame *want = NULL;
      assert_int_equal(gf_filter(f, e, &s.o, &want, NULL), GF_OK);
      s.want = want;
      gft_alloc_sweep(preds[p], fa, filter_once, &s, &counts);
      gf_frame_release(want);
    }
    gf_expr_release(e);
  }
  gft_sweep_print("filter", &counts);
  gf_failing_allocator_free(fa);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(filter_keeps_every_column_type_and_row_order),
      cmocka_unit_test(filter_is_identical_for_any_workers_and_chunks),
      cmocka_unit_test(zero_and_full_selectivity),
      cmocka_unit_test(small_outputs_are_coalesced),
      cmocka_unit_test(batches_ruled_out_by_statistics_are_skipped_correctly),
      cmocka_unit_test(dictionary_columns_stay_dictionaries),
      cmocka_unit_test(empty_frames_and_bad_predicates),
      cmocka_unit_test(filter_survives_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
