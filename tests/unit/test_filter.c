/* gf_filter: every column type, reference results (predicates recomputed
 * row by row in plain C, never by gf_evaluate), determinism across
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

/* A predicate in plain C, the reference for gf_filter (never gf_evaluate):
 * keep() says whether row `row` of f is kept (true, not false or null),
 * reading the columns c[] with the array accessors. */
typedef struct ref_pred {
  bool (*keep)(const struct ref_pred *p, const gf_frame *f, int64_t row);
  int c[2];
  const char *s; /* a string operand */
} ref_pred;

/* The array and index of row `row` of column c. */
static const gf_array *at(const gf_frame *f, int64_t row, int c, int64_t *i) {
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t off = gf_frame_batch_offset(f, b);
    if (row < off + gf_frame_batch_rows(f, b)) {
      *i = row - off;
      return gf_frame_column(f, b, c);
    }
  }
  fail_msg("row %lld out of range", (long long)row);
  return NULL;
}

/* Value of column c at row: false when null (every reference below treats
 * a null operand as "not kept", and says so where SQL logic could differ). */
static bool int_of(const gf_frame *f, int64_t row, int c, int64_t *v) {
  int64_t i;
  const gf_array *a = at(f, row, c, &i);
  if (gf_array_is_null(a, i)) return false;
  *v = gf_array_get_int64(a, i);
  return true;
}
static bool dbl_of(const gf_frame *f, int64_t row, int c, double *v) {
  int64_t i;
  const gf_array *a = at(f, row, c, &i);
  if (gf_array_is_null(a, i)) return false;
  *v = gf_array_get_double(a, i);
  return true;
}
static bool bytes_of(const gf_frame *f, int64_t row, int c, const char **v, int64_t *len) {
  int64_t i;
  const gf_array *a = at(f, row, c, &i);
  if (gf_array_is_null(a, i)) return false;
  *v = gf_array_get_bytes(a, i, len);
  return true;
}

/* Checks r against the reference: the rows of f that p keeps, in order,
 * every column equal (compared as formatted text). */
static void check_against_reference(const gf_frame *f, const char *text, const ref_pred *p,
                                    const gf_frame *r) {
  int64_t out = 0;
  int nc = gf_frame_num_columns(f);
  for (int64_t row = 0; row < gf_frame_num_rows(f); row++) {
    if (!p->keep(p, f, row)) continue;
    if (out >= gf_frame_num_rows(r))
      fail_msg("%s: output ends at %lld rows, reference keeps row %lld", text, (long long)out,
               (long long)row);
    for (int c = 0; c < nc; c++) {
      char want[256], got[256];
      cell(f, row, c, want, sizeof want);
      cell(r, out, c, got, sizeof got);
      if (strcmp(want, got) != 0)
        fail_msg("%s: output row %lld column %d: got %s want %s", text, (long long)out, c, got, want);
    }
    out++;
  }
  assert_int_equal(out, gf_frame_num_rows(r));
}

/* The references of the predicates used below. */
static bool k_int_gt0(const ref_pred *p, const gf_frame *f, int64_t row) {
  int64_t v;
  return int_of(f, row, p->c[0], &v) && v > 0;
}
/* "d < 100.5 and b": Kleene and is true only when both are true. */
static bool k_dbl_and_bool(const ref_pred *p, const gf_frame *f, int64_t row) {
  double d;
  int64_t b;
  return dbl_of(f, row, p->c[0], &d) && d < 100.5 && int_of(f, row, p->c[1], &b) && b;
}
/* "length(s) > 5 or x is null": length in characters (UTF-8 code points);
 * the or is true when either side is true, whatever the other. */
static bool k_len_or_null(const ref_pred *p, const gf_frame *f, int64_t row) {
  const char *s;
  int64_t len, v, chars = 0;
  if (bytes_of(f, row, p->c[0], &s, &len)) {
    for (int64_t j = 0; j < len; j++) chars += ((unsigned char)s[j] & 0xC0) != 0x80;
    if (chars > 5) return true;
  }
  return !int_of(f, row, p->c[1], &v);
}
/* "x % 7 = 3": the remainder takes the sign of the dividend, as in C. */
static bool k_mod7_is3(const ref_pred *p, const gf_frame *f, int64_t row) {
  int64_t v;
  return int_of(f, row, p->c[0], &v) && v % 7 == 3;
}
static bool k_lt_m980m(const ref_pred *p, const gf_frame *f, int64_t row) {
  int64_t v;
  return int_of(f, row, p->c[0], &v) && v < -980000000;
}
/* "c0 = 'S' or c1 > 900000000" (c0 a dictionary: compared by its value). */
static bool k_str_eq_or_gt(const ref_pred *p, const gf_frame *f, int64_t row) {
  const char *s;
  int64_t len, v;
  if (bytes_of(f, row, p->c[0], &s, &len) && (size_t)len == strlen(p->s) &&
      memcmp(s, p->s, (size_t)len) == 0)
    return true;
  return int_of(f, row, p->c[1], &v) && v > 900000000;
}
static bool k_between(const ref_pred *p, const gf_frame *f, int64_t row) {
  int64_t v;
  return int_of(f, row, p->c[0], &v) && v >= 7100 && v <= 7109;
}
static bool k_eq7500(const ref_pred *p, const gf_frame *f, int64_t row) {
  int64_t v;
  return int_of(f, row, p->c[0], &v) && v == 7500;
}
static bool k_gt9998(const ref_pred *p, const gf_frame *f, int64_t row) {
  int64_t v;
  return int_of(f, row, p->c[0], &v) && v > 9998;
}
static bool k_lt1_or_5000(const ref_pred *p, const gf_frame *f, int64_t row) {
  int64_t v;
  return int_of(f, row, p->c[0], &v) && (v < 1 || v == 5000);
}
static bool k_ne3(const ref_pred *p, const gf_frame *f, int64_t row) {
  int64_t v;
  return int_of(f, row, p->c[0], &v) && v != 3;
}
static bool k_ge10000(const ref_pred *p, const gf_frame *f, int64_t row) {
  int64_t v;
  return int_of(f, row, p->c[0], &v) && v >= 10000;
}
/* "x > 0 and s is not null". */
static bool k_int_gt0_and_str(const ref_pred *p, const gf_frame *f, int64_t row) {
  int64_t v, len;
  const char *s;
  return int_of(f, row, p->c[0], &v) && v > 0 && bytes_of(f, row, p->c[1], &s, &len);
}
/* "v > 2.5 and v < 4.5" on integers: compared as doubles. */
static bool k_open_2_5_4_5(const ref_pred *p, const gf_frame *f, int64_t row) {
  int64_t v;
  return int_of(f, row, p->c[0], &v) && (double)v > 2.5 && (double)v < 4.5;
}

static gf_frame *all_types_frame(int64_t rows, int batches, uint64_t seed) {
  gf_datatype types[GFT_MAX_TYPES];
  int n = gft_all_types(types, GFT_MAX_TYPES);
  gf_frame *f;
  assert_int_equal(gft_random_frame(types, n, rows, batches, 0.15, seed, NULL, &f), GF_OK);
  return f;
}

/* Index of the first column of type id in f. */
static int col_index(const gf_frame *f, gf_type_id id) {
  const gf_schema *s = gf_frame_schema(f);
  for (int i = 0; i < gf_schema_num_fields(s); i++)
    if (gf_schema_field(s, i)->type.id == id) return i;
  fail_msg("no column of type %s", gf_type_id_name(id));
  return -1;
}

/* Name of the first column of type id in f. */
static const char *col_of(const gf_frame *f, gf_type_id id) {
  return gf_schema_field(gf_frame_schema(f), col_index(f, id))->name;
}

static void filter_keeps_every_column_type_and_row_order(void **state) {
  (void)state;
  gf_frame *f = all_types_frame(5000, 4, 7);
  char preds[4][128];
  snprintf(preds[0], 128, "%s > 0", col_of(f, GF_TYPE_INT64));
  snprintf(preds[1], 128, "%s < 100.5 and %s", col_of(f, GF_TYPE_FLOAT64), col_of(f, GF_TYPE_BOOL));
  snprintf(preds[2], 128, "length(%s) > 5 or %s is null", col_of(f, GF_TYPE_UTF8), col_of(f, GF_TYPE_INT32));
  snprintf(preds[3], 128, "%s %% 7 = 3", col_of(f, GF_TYPE_INT16));
  const ref_pred refs[4] = {
      {k_int_gt0, {col_index(f, GF_TYPE_INT64), 0}, NULL},
      {k_dbl_and_bool, {col_index(f, GF_TYPE_FLOAT64), col_index(f, GF_TYPE_BOOL)}, NULL},
      {k_len_or_null, {col_index(f, GF_TYPE_UTF8), col_index(f, GF_TYPE_INT32)}, NULL},
      {k_mod7_is3, {col_index(f, GF_TYPE_INT16), 0}, NULL}};
  for (int p = 0; p < 4; p++) {
    gf_frame *r = run_filter(f, preds[p], 3, 777);
    assert_true(gf_schema_equals(gf_frame_schema(r), gf_frame_schema(f)));
    check_against_reference(f, preds[p], &refs[p], r);
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
  /* The 1-worker result is right, not only the same as the others. */
  const ref_pred naive = {k_int_gt0_and_str, {col_index(f, GF_TYPE_INT32), col_index(f, GF_TYPE_UTF8)},
                          NULL};
  check_against_reference(f, pred, &naive, ref);
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
  const ref_pred naive = {k_lt_m980m, {0, 0}, NULL};
  check_against_reference(f, "c0 < -980000000", &naive, r);
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
  const ref_pred refs[7] = {{k_between, {0, 0}, NULL},     {k_eq7500, {0, 0}, NULL},
                            {k_gt9998, {0, 0}, NULL},      {k_lt1_or_5000, {0, 0}, NULL},
                            {k_ne3, {0, 0}, NULL},         {k_ge10000, {0, 0}, NULL},
                            {k_open_2_5_4_5, {0, 0}, NULL}};
  for (int p = 0; p < 7; p++) {
    gf_frame *r = run_filter(f, preds[p], 2, 0);
    assert_int_equal(gf_frame_num_rows(r), counts[p]);
    check_against_reference(f, preds[p], &refs[p], r);
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
  char value[64];
  snprintf(value, sizeof value, "%.*s", (int)len, v);
  const ref_pred naive = {k_str_eq_or_gt, {0, 1}, value};
  check_against_reference(f, pred, &naive, r);
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
