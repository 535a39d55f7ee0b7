/* gf_sort / gf_sort_indices: every type against a reference stable sort,
 * asc/desc, nulls first/last, the key policy for floats, multi-key, dictionary
 * columns by value, top-k equal to the full sort cut, identical results for
 * any worker count and chunk size, spec parsing, allocation failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe/testing.h"

/* ---- reference --------------------------------------------------------- */

static const gf_array *at(const gf_frame *f, int c, int64_t row, int64_t *i) {
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t off = gf_frame_batch_offset(f, b), len = gf_frame_batch_rows(f, b);
    if (row < off + len) {
      *i = row - off;
      return gf_frame_column(f, b, c);
    }
  }
  fail_msg("row %lld out of range", (long long)row);
  return NULL;
}

static bool is_null_at(const gf_array *a, int64_t i) {
  if (gf_array_is_null(a, i)) return true;
  const gf_array *d = gf_array_dictionary(a);
  if (d) return gf_array_is_null(d, gf_array_get_int64(a, i));
  return false;
}

/* The key policy's float order: -0.0 equals 0.0, every NaN equal and
 * after +inf. */
static int policy_order(double x, double y) {
  bool nx = isnan(x), ny = isnan(y);
  if (nx || ny) return nx && ny ? 0 : (nx ? 1 : -1);
  return (x > y) - (x < y);
}

/* Compares two non-null values of one type (dictionaries by value). */
static int value_cmp(const gf_array *a, int64_t i, const gf_array *b, int64_t j) {
  const gf_array *da = gf_array_dictionary(a), *db = gf_array_dictionary(b);
  if (da) { i = gf_array_get_int64(a, i); a = da; }
  if (db) { j = gf_array_get_int64(b, j); b = db; }
  gf_type_id id = gf_array_type(a).id;
  switch (id) {
    case GF_TYPE_UINT8: case GF_TYPE_UINT16: case GF_TYPE_UINT32: case GF_TYPE_UINT64: {
      uint64_t x = gf_array_get_uint64(a, i), y = gf_array_get_uint64(b, j);
      return (x > y) - (x < y);
    }
    case GF_TYPE_FLOAT32: case GF_TYPE_FLOAT64:
      return policy_order(gf_array_get_double(a, i), gf_array_get_double(b, j));
    case GF_TYPE_UTF8: case GF_TYPE_LARGE_UTF8: case GF_TYPE_BINARY:
    case GF_TYPE_LARGE_BINARY: case GF_TYPE_FIXED_SIZE_BINARY: {
      int64_t la, lb;
      const char *pa = gf_array_get_bytes(a, i, &la), *pb = gf_array_get_bytes(b, j, &lb);
      int64_t m = la < lb ? la : lb;
      int c = m ? memcmp(pa, pb, (size_t)m) : 0;
      if (c) return c < 0 ? -1 : 1;
      return (la > lb) - (la < lb);
    }
    case GF_TYPE_DECIMAL128: case GF_TYPE_DECIMAL256: {
      /* Two's complement little-endian: the top byte signed, then the
       * others unsigned from the most significant down. */
      int64_t la, lb;
      const unsigned char *pa = (const unsigned char *)gf_array_get_bytes(a, i, &la);
      const unsigned char *pb = (const unsigned char *)gf_array_get_bytes(b, j, &lb);
      int sa = (signed char)pa[la - 1], sb = (signed char)pb[lb - 1];
      if (sa != sb) return sa < sb ? -1 : 1;
      for (int64_t k = la - 2; k >= 0; k--)
        if (pa[k] != pb[k]) return pa[k] < pb[k] ? -1 : 1;
      return 0;
    }
    default: {
      int64_t x = gf_array_get_int64(a, i), y = gf_array_get_int64(b, j);
      return (x > y) - (x < y);
    }
  }
}

typedef struct refctx {
  const gf_frame *f;
  const gf_sort_key *keys;
  int nk;
  int cols[8];
} refctx;

static int ref_row_cmp(const refctx *r, int64_t x, int64_t y) {
  for (int k = 0; k < r->nk; k++) {
    int64_t i = 0, j = 0;
    const gf_array *a = at(r->f, r->cols[k], x, &i), *b = at(r->f, r->cols[k], y, &j);
    bool nx = gf_array_type(a).id == GF_TYPE_NULL || is_null_at(a, i);
    bool ny = gf_array_type(b).id == GF_TYPE_NULL || is_null_at(b, j);
    if (nx && ny) continue;
    if (nx) return r->keys[k].nulls_first ? -1 : 1;
    if (ny) return r->keys[k].nulls_first ? 1 : -1;
    int c = value_cmp(a, i, b, j);
    if (c) return r->keys[k].descending ? -c : c;
  }
  return 0;
}

/* Reference: stable insertion-merge sort (simple bottom-up merge). */
static int64_t *ref_sort(const gf_frame *f, const gf_sort_key *keys, int nk) {
  refctx r = {f, keys, nk, {0}};
  for (int k = 0; k < nk; k++) r.cols[k] = gf_schema_find(gf_frame_schema(f), keys[k].column);
  int64_t n = gf_frame_num_rows(f);
  int64_t *v = malloc(sizeof *v * (size_t)(n + 1)), *t = malloc(sizeof *t * (size_t)(n + 1));
  for (int64_t i = 0; i < n; i++) v[i] = i;
  for (int64_t w = 1; w < n; w *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * w) {
      int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      int64_t i = lo, j = mid, o = lo;
      while (i < mid && j < hi) t[o++] = ref_row_cmp(&r, v[j], v[i]) < 0 ? v[j++] : v[i++];
      while (i < mid) t[o++] = v[i++];
      while (j < hi) t[o++] = v[j++];
    }
    memcpy(v, t, sizeof *v * (size_t)n);
  }
  free(t);
  return v;
}

static void cell(const gf_frame *f, int c, int64_t row, char *buf, size_t n) {
  int64_t i = 0;
  const gf_array *a = at(f, c, row, &i);
  if (gf_array_is_null(a, i)) snprintf(buf, n, "<null>");
  else gf_array_format_value(a, i, buf, n);
}

/* out row k must equal f row perm[k] in every column. */
static void check_gathered(const gf_frame *f, const int64_t *perm, const gf_frame *out) {
  char x[256], y[256];
  assert_int_equal(gf_frame_num_columns(out), gf_frame_num_columns(f));
  for (int64_t k = 0; k < gf_frame_num_rows(out); k++)
    for (int c = 0; c < gf_frame_num_columns(f); c++) {
      cell(out, c, k, x, sizeof x);
      cell(f, c, perm[k], y, sizeof y);
      if (strcmp(x, y) != 0) fail_msg("row %lld col %d: got %s want %s", (long long)k, c, x, y);
    }
}

static gf_parallel_options opts(int workers, int64_t chunk) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  o.chunk_rows = chunk;
  o.min_parallel_rows = 0;
  return o;
}

static void check_sort(const gf_frame *f, const gf_sort_key *keys, int nk, int workers,
                       int64_t chunk) {
  gf_parallel_options o = opts(workers, chunk);
  int64_t *perm = NULL;
  gf_error err;
  if (gf_sort_indices(f, keys, nk, &o, &perm, &err) != GF_OK) fail_msg("sort: %s", err.message);
  int64_t *want = ref_sort(f, keys, nk);
  int64_t n = gf_frame_num_rows(f);
  for (int64_t i = 0; i < n; i++)
    if (perm[i] != want[i])
      fail_msg("key %s: position %lld: got row %lld want %lld", keys[0].column, (long long)i,
               (long long)perm[i], (long long)want[i]);
  gf_frame *out = NULL;
  if (gf_sort(f, keys, nk, 0, &o, &out, &err) != GF_OK) fail_msg("gf_sort: %s", err.message);
  assert_int_equal(gf_frame_num_rows(out), n);
  check_gathered(f, want, out);
  gf_frame_release(out);
  gf_sort_indices_free(perm, n, &o);
  free(want);
}

/* ---- data ---------------------------------------------------------------- */

/* Splits one-batch columns into `nb` batches. */
static gf_frame *frame_of(const char *const *names, gf_array **cols, int n, int nb) {
  int64_t len = gf_array_length(cols[0]);
  gf_field fields[16];
  for (int c = 0; c < n; c++) fields[c] = (gf_field){names[c], gf_array_type(cols[c]), true};
  gf_schema *s;
  assert_int_equal(gf_schema_new(fields, n, &s, NULL), GF_OK);
  gf_array **parts = calloc((size_t)(n * nb), sizeof *parts);
  for (int b = 0; b < nb; b++) {
    int64_t lo = len * b / nb, hi = len * (b + 1) / nb;
    for (int c = 0; c < n; c++)
      assert_int_equal(gf_array_slice(cols[c], lo, hi - lo, &parts[b * n + c], NULL), GF_OK);
  }
  gf_frame *f;
  assert_int_equal(gf_frame_new(s, parts, nb, NULL, &f, NULL), GF_OK);
  for (int i = 0; i < n * nb; i++) gf_array_release(parts[i]);
  free(parts);
  gf_schema_release(s);
  for (int c = 0; c < n; c++) gf_array_release(cols[c]);
  return f;
}

/* Keys with many duplicates: ints in [0, 50), floats including NaN, -0.0,
 * +0.0 and infinities, short strings, a dictionary of strings; ~15% null. */
static gf_frame *dup_frame(int64_t n, int nb, uint64_t seed) {
  int64_t *iv = malloc(sizeof *iv * (size_t)n), *id = malloc(sizeof *id * (size_t)n);
  double *fv = malloc(sizeof *fv * (size_t)n);
  bool *valid = malloc(sizeof *valid * (size_t)n), *fvalid = malloc(sizeof *fvalid * (size_t)n);
  char **sv = malloc(sizeof *sv * (size_t)n);
  static const double specials[] = {NAN, -0.0, 0.0, INFINITY, -INFINITY, 1.5, -2.25, 1e300};
  for (int64_t i = 0; i < n; i++) {
    iv[i] = (int64_t)(gft_rand_next(&seed) % 50) - 10;
    id[i] = i;
    valid[i] = gft_rand_next(&seed) % 7 != 0;
    fvalid[i] = gft_rand_next(&seed) % 9 != 0;
    fv[i] = specials[gft_rand_next(&seed) % 8];
    if (gft_rand_next(&seed) % 6 == 0) sv[i] = NULL;
    else {
      sv[i] = malloc(16);
      int len = (int)(gft_rand_next(&seed) % 11);
      for (int k = 0; k < len; k++) sv[i][k] = "ab\xc3z"[gft_rand_next(&seed) % 3];
      sv[i][len] = 0;
    }
  }
  gf_array *cols[6];
  cols[0] = gft_int64_array(gf_type(GF_TYPE_INT64), iv, valid, n);
  cols[1] = gft_double_array(gf_type(GF_TYPE_FLOAT64), fv, fvalid, n);
  cols[2] = gft_string_array(gf_type(GF_TYPE_UTF8), (const char *const *)sv, n);
  cols[3] = gft_string_array(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), (const char *const *)sv, n);
  cols[4] = gft_int64_array(gf_type(GF_TYPE_INT64), id, NULL, n);
  cols[5] = gft_int64_array(gf_type(GF_TYPE_INT32), iv, NULL, n);
  for (int64_t i = 0; i < n; i++) free(sv[i]);
  free(iv); free(id); free(fv); free(valid); free(fvalid); free(sv);
  const char *names[] = {"i", "f", "s", "d", "id", "i32"};
  return frame_of(names, cols, 6, nb);
}

/* ---- tests --------------------------------------------------------------- */

static void every_type_sorts_like_the_reference(void **state) {
  (void)state;
  gf_datatype types[GFT_MAX_TYPES];
  int nt = gft_all_types(types, GFT_MAX_TYPES);
  for (int t = 0; t < nt; t++) {
    gf_datatype cols[2] = {types[t], gf_type(GF_TYPE_INT8)};
    gf_frame *f;
    assert_int_equal(gft_random_frame(cols, 2, 1500, 3, 0.15, 100 + (uint64_t)t, NULL, &f), GF_OK);
    for (int mode = 0; mode < 4; mode++) {
      gf_sort_key k[2] = {{"c0", mode & 1, (mode & 2) != 0}, {"c1", false, false}};
      check_sort(f, k, 1, 3, 500);
      check_sort(f, k, 2, 2, 0);
    }
    gf_frame_release(f);
  }
}

static void duplicates_sort_stably_with_nulls_placed(void **state) {
  (void)state;
  gf_frame *f = dup_frame(5000, 4, 7);
  const char *cols[] = {"i", "f", "s", "d", "i32"};
  for (int c = 0; c < 5; c++)
    for (int mode = 0; mode < 4; mode++) {
      gf_sort_key k = {cols[c], mode & 1, (mode & 2) != 0};
      check_sort(f, &k, 1, 2, 700);
    }
  gf_frame_release(f);
}

static void multi_key_sorts_like_the_reference(void **state) {
  (void)state;
  gf_frame *f = dup_frame(6000, 3, 9);
  gf_sort_key k1[] = {{"d", true, false}, {"i", false, true}, {"f", true, false}};
  check_sort(f, k1, 3, 3, 1000);
  gf_sort_key k2[] = {{"f", false, true}, {"s", true, true}};
  check_sort(f, k2, 2, 1, 0);
  gf_sort_key k3[] = {{"i32", false, false}, {"d", false, false}, {"id", true, false}};
  check_sort(f, k3, 3, 2, 333);
  gf_frame_release(f);
}

static void floats_follow_the_key_policy_with_nan_last(void **state) {
  (void)state;
  double v[] = {NAN, 0.0, -0.0, INFINITY, -INFINITY, 1.0, -1.0, 0.0, -NAN, 2.0};
  bool valid[] = {true, true, true, true, true, true, true, true, true, false};
  gf_array *col = gft_double_array(gf_type(GF_TYPE_FLOAT64), v, valid, 10);
  const char *names[] = {"x"};
  gf_frame *f = frame_of(names, &col, 1, 2);
  gf_sort_key k = {"x", false, false};
  int64_t *perm;
  assert_int_equal(gf_sort_indices(f, &k, 1, NULL, &perm, NULL), GF_OK);
  /* -0.0 and 0.0 tie (stable: rows 1, 2, 7), NaNs tie (0, 8). */
  int64_t want[] = {4, 6, 1, 2, 7, 5, 3, 0, 8, 9};
  for (int i = 0; i < 10; i++) assert_int_equal(perm[i], want[i]);
  gf_sort_indices_free(perm, 10, NULL);
  k.descending = true;
  k.nulls_first = true;
  assert_int_equal(gf_sort_indices(f, &k, 1, NULL, &perm, NULL), GF_OK);
  int64_t want2[] = {9, 0, 8, 3, 5, 1, 2, 7, 6, 4};
  for (int i = 0; i < 10; i++) assert_int_equal(perm[i], want2[i]);
  gf_sort_indices_free(perm, 10, NULL);
  gf_frame_release(f);
}

static void top_k_equals_full_sort_cut(void **state) {
  (void)state;
  gf_frame *f = dup_frame(20000, 3, 11);
  gf_sort_key keys[][2] = {{{"i", false, false}, {"s", true, false}},
                           {{"f", true, true}, {"id", false, false}},
                           {{"s", false, true}, {"i", false, false}}};
  int64_t limits[] = {1, 7, 100, 250, 19999, 20000, 50000};
  for (int ks = 0; ks < 3; ks++) {
    int64_t *want = ref_sort(f, keys[ks], 2);
    for (int l = 0; l < 7; l++)
      for (int w = 1; w <= 3; w++) {
        gf_parallel_options o = opts(w, w == 3 ? 999 : 0);
        gf_frame *out;
        assert_int_equal(gf_sort(f, keys[ks], 2, limits[l], &o, &out, NULL), GF_OK);
        int64_t m = limits[l] < 20000 ? limits[l] : 20000;
        assert_int_equal(gf_frame_num_rows(out), m);
        check_gathered(f, want, out);
        gf_frame_release(out);
      }
    free(want);
  }
  gf_frame_release(f);
}

static void results_are_identical_for_any_workers_and_chunks(void **state) {
  (void)state;
  gf_frame *f = dup_frame(20000, 5, 13);
  gf_sort_key k[] = {{"s", false, false}, {"f", true, true}, {"i", false, false}};
  gf_frame *ref = NULL;
  int workers[] = {1, 2, 3, 8};
  int64_t chunks[] = {0, 1, 777, 4096, 100000};
  for (int w = 0; w < 4; w++)
    for (int c = 0; c < 5; c++) {
      if (chunks[c] == 1 && workers[w] != 3) continue; /* tiny chunks are slow */
      gf_parallel_options o = opts(workers[w], chunks[c]);
      gf_frame *r;
      assert_int_equal(gf_sort(f, k, 3, 0, &o, &r, NULL), GF_OK);
      if (!ref) ref = r;
      else {
        if (!gf_frame_equals(ref, r)) fail_msg("differs at %d workers, chunk %lld", workers[w], (long long)chunks[c]);
        gf_frame_release(r);
      }
    }
  gf_frame_release(ref);
  gf_frame_release(f);
}

static void large_int64_sort_is_ordered(void **state) {
  (void)state;
  gf_frame *f;
  gf_datatype t[] = {gf_type(GF_TYPE_INT64)};
  assert_int_equal(gft_random_frame(t, 1, 300000, 2, 0.0, 5, NULL, &f), GF_OK);
  gf_sort_key k = {"c0", false, false};
  int64_t *perm;
  gf_parallel_options o = opts(2, 0);
  assert_int_equal(gf_sort_indices(f, &k, 1, &o, &perm, NULL), GF_OK);
  int64_t *want = ref_sort(f, &k, 1);
  for (int64_t i = 0; i < 300000; i++) assert_int_equal(perm[i], want[i]);
  free(want);
  gf_sort_indices_free(perm, 300000, &o);
  gf_frame_release(f);
}

static void sort_specs_parse(void **state) {
  (void)state;
  gf_sort_key *k;
  int n;
  assert_int_equal(gf_sort_keys_parse("k desc, v nulls first,\"odd \"\"x\"\" name\" ASC NULLS LAST, w", &k, &n, NULL), GF_OK);
  assert_int_equal(n, 4);
  assert_string_equal(k[0].column, "k");
  assert_true(k[0].descending);
  assert_false(k[0].nulls_first);
  assert_string_equal(k[1].column, "v");
  assert_false(k[1].descending);
  assert_true(k[1].nulls_first);
  assert_string_equal(k[2].column, "odd \"x\" name");
  assert_false(k[2].descending);
  assert_false(k[2].nulls_first);
  assert_string_equal(k[3].column, "w");
  gf_sort_keys_free(k);
  gf_error err;
  assert_int_equal(gf_sort_keys_parse("", &k, &n, &err), GF_EPARSE);
  assert_int_equal(gf_sort_keys_parse("a, ", &k, &n, &err), GF_EPARSE);
  assert_int_equal(gf_sort_keys_parse("a nulls middle", &k, &n, &err), GF_EPARSE);
  assert_int_equal(gf_sort_keys_parse("a desc desc", &k, &n, &err), GF_EPARSE);
  assert_int_equal(gf_sort_keys_parse("\"a", &k, &n, &err), GF_EPARSE);
  gf_sort_keys_free(NULL);
}

static void bad_arguments_and_empty_frames(void **state) {
  (void)state;
  gf_frame *f = dup_frame(10, 1, 3);
  gf_sort_key k = {"nope", false, false};
  gf_frame *out = NULL;
  gf_error err;
  assert_int_equal(gf_sort(f, &k, 1, 0, NULL, &out, &err), GF_EINVAL);
  assert_null(out);
  assert_int_equal(gf_sort(f, &k, 0, 0, NULL, &out, &err), GF_EINVAL);
  gf_frame *empty;
  assert_int_equal(gf_frame_slice(f, 0, 0, &empty, NULL), GF_OK);
  k.column = "s";
  assert_int_equal(gf_sort(empty, &k, 1, 5, NULL, &out, &err), GF_OK);
  assert_int_equal(gf_frame_num_rows(out), 0);
  assert_int_equal(gf_frame_num_columns(out), 6);
  gf_frame_release(out);
  gf_frame_release(empty);
  gf_frame_release(f);
}

/* One gf_sort under a failing allocator (gft_alloc_sweep callback). */
typedef struct sort_sweep {
  const gf_frame *f, *want;
  const gf_sort_key *keys;
  int64_t limit;
  gf_parallel_options o;
} sort_sweep;

static gf_status sort_once(void *user, const gf_allocator *a) {
  sort_sweep *s = user;
  s->o.allocator = a;
  gf_frame *r = NULL;
  gf_status st = gf_sort(s->f, s->keys, 3, s->limit, &s->o, &r, NULL);
  if (st == GF_OK) {
    if (!gf_frame_equals(r, s->want)) fail_msg("%s: wrong result", gft_sweep_at());
    gf_frame_release(r);
  } else {
    assert_null(r);
  }
  return st;
}

/* Every allocation of a full sort and a top-k failed, one-off and
 * persistent: GF_ENOMEM, nothing leaked, the same order as without
 * failures once it runs clean. */
static void sort_survives_allocation_failures(void **state) {
  (void)state;
  gf_frame *f = dup_frame(3000, 3, 17);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gf_sort_key k[] = {{"d", false, false}, {"s", true, true}, {"f", false, false}};
  int64_t limits[] = {0, 10};
  gft_sweep_counts counts = {0};
  for (int l = 0; l < 2; l++)
    for (int w = 1; w <= 3; w += 2) {
      sort_sweep s = {f, NULL, k, limits[l], opts(w, 500)};
      gf_frame *want = NULL;
      assert_int_equal(gf_sort(f, k, 3, limits[l], &s.o, &want, NULL), GF_OK);
      s.want = want;
      gft_alloc_sweep(limits[l] ? "top-k" : "sort", fa, sort_once, &s, &counts);
      gf_frame_release(want);
    }
  gft_sweep_print("sort", &counts);
  gf_failing_allocator_free(fa);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_type_sorts_like_the_reference),
      cmocka_unit_test(duplicates_sort_stably_with_nulls_placed),
      cmocka_unit_test(multi_key_sorts_like_the_reference),
      cmocka_unit_test(floats_follow_the_key_policy_with_nan_last),
      cmocka_unit_test(top_k_equals_full_sort_cut),
      cmocka_unit_test(results_are_identical_for_any_workers_and_chunks),
      cmocka_unit_test(large_int64_sort_is_ordered),
      cmocka_unit_test(sort_specs_parse),
      cmocka_unit_test(bad_arguments_and_empty_frames),
      cmocka_unit_test(sort_survives_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
