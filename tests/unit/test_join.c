/* gf_join: every join kind and key type against a nested-loop reference on
 * random keys with nulls and duplicates (both build sides, direct-indexed
 * and hashed tables), multi-key joins, dictionary <-> string keys, output
 * names and suffixes, identical results for any worker count and chunk
 * size, type errors, allocation failures and cancellation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe/testing.h"

/* ---- helpers ------------------------------------------------------------- */

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

static void cell(const gf_frame *f, int c, int64_t row, char *buf, size_t n) {
  if (row < 0) {
    snprintf(buf, n, "<null>");
    return;
  }
  int64_t i = 0;
  const gf_array *a = at(f, c, row, &i);
  if (gf_array_is_null(a, i)) snprintf(buf, n, "<null>");
  else gf_array_format_value(a, i, buf, n);
}

static bool null_at(const gf_array *a, int64_t i) {
  if (gf_array_type(a).id == GF_TYPE_NULL || gf_array_is_null(a, i)) return true;
  const gf_array *d = gf_array_dictionary(a);
  return d && gf_array_is_null(d, gf_array_get_int64(a, i));
}

static bool is_uint(gf_type_id id) { return id >= GF_TYPE_UINT8 && id <= GF_TYPE_UINT64; }

/* Reference key equality of two non-null values. */
static bool key_eq(const gf_array *a, int64_t i, const gf_array *b, int64_t j) {
  const gf_array *da = gf_array_dictionary(a), *db = gf_array_dictionary(b);
  if (da) { i = gf_array_get_int64(a, i); a = da; }
  if (db) { j = gf_array_get_int64(b, j); b = db; }
  gf_type_id x = gf_array_type(a).id, y = gf_array_type(b).id;
  if (x == GF_TYPE_UTF8 || x == GF_TYPE_LARGE_UTF8 || x == GF_TYPE_BINARY ||
      x == GF_TYPE_LARGE_BINARY || x == GF_TYPE_FIXED_SIZE_BINARY) {
    int64_t la, lb;
    const char *pa = gf_array_get_bytes(a, i, &la), *pb = gf_array_get_bytes(b, j, &lb);
    return la == lb && (la == 0 || memcmp(pa, pb, (size_t)la) == 0);
  }
  if (x == GF_TYPE_FLOAT32 || x == GF_TYPE_FLOAT64) {
    double u = gf_array_get_double(a, i), v = gf_array_get_double(b, j);
    return u == v || (isnan(u) && isnan(v));
  }
  if (is_uint(x) && is_uint(y)) return gf_array_get_uint64(a, i) == gf_array_get_uint64(b, j);
  if (is_uint(x) || is_uint(y)) {
    const gf_array *s = is_uint(x) ? b : a, *u = is_uint(x) ? a : b;
    int64_t si = is_uint(x) ? j : i, ui = is_uint(x) ? i : j;
    int64_t v = gf_array_get_int64(s, si);
    return v >= 0 && (uint64_t)v == gf_array_get_uint64(u, ui);
  }
  return gf_array_get_int64(a, i) == gf_array_get_int64(b, j);
}

static bool rows_match(const gf_frame *l, const int *lk, const gf_frame *r, const int *rk,
                       int nk, int64_t x, int64_t y) {
  for (int k = 0; k < nk; k++) {
    int64_t i = 0, j = 0;
    const gf_array *a = at(l, lk[k], x, &i), *b = at(r, rk[k], y, &j);
    if (null_at(a, i) || null_at(b, j)) return false;
    if (!key_eq(a, i, b, j)) return false;
  }
  return true;
}

/* Expected (left, right) row pairs in the documented order. */
static int64_t ref_join(const gf_frame *l, const gf_frame *r, const char *const *lon,
                        const char *const *ron, int nk, gf_join_kind how, int64_t **pl,
                        int64_t **pr) {
  int lk[4], rk[4];
  for (int k = 0; k < nk; k++) {
    lk[k] = gf_schema_find(gf_frame_schema(l), lon[k]);
    rk[k] = gf_schema_find(gf_frame_schema(r), ron[k]);
  }
  int64_t nl = gf_frame_num_rows(l), nr = gf_frame_num_rows(r);
  int64_t cap = nl * nr + nl + nr + 1, n = 0;
  int64_t *L = malloc(sizeof *L * (size_t)cap), *R = malloc(sizeof *R * (size_t)cap);
  bool *rmatched = calloc((size_t)nr + 1, 1);
  for (int64_t x = 0; x < nl; x++) {
    bool any = false;
    for (int64_t y = 0; y < nr; y++) {
      if (!rows_match(l, lk, r, rk, nk, x, y)) continue;
      any = true;
      rmatched[y] = true;
      if (how == GF_JOIN_SEMI || how == GF_JOIN_ANTI) break;
      L[n] = x;
      R[n++] = y;
    }
    if ((how == GF_JOIN_SEMI && any) || (how == GF_JOIN_ANTI && !any) ||
        (!any && (how == GF_JOIN_LEFT || how == GF_JOIN_FULL))) {
      L[n] = x;
      R[n++] = -1;
    }
  }
  if (how == GF_JOIN_RIGHT || how == GF_JOIN_FULL) {
    /* rmatched may be incomplete after a SEMI break, but not for these kinds */
    for (int64_t y = 0; y < nr; y++)
      if (!rmatched[y]) {
        L[n] = -1;
        R[n++] = y;
      }
  }
  free(rmatched);
  *pl = L;
  *pr = R;
  return n;
}

static gf_join_options jopts(gf_parallel_options *po, int workers, int64_t chunk) {
  gf_parallel_options_init(po);
  po->num_workers = workers;
  po->chunk_rows = chunk;
  po->min_parallel_rows = 0;
  gf_join_options jo;
  gf_join_options_init(&jo);
  jo.parallel = po;
  return jo;
}

/* Checks gf_join against the reference, column by column. */
static void check_join(const gf_frame *l, const gf_frame *r, const char *const *lon,
                       const char *const *ron, int nk, gf_join_kind how, int workers,
                       int64_t chunk, const char *what) {
  gf_parallel_options po;
  gf_join_options jo = jopts(&po, workers, chunk);
  gf_frame *out = NULL;
  gf_error err;
  if (gf_join(l, r, lon, ron, nk, how, &jo, &out, &err) != GF_OK)
    fail_msg("%s %s: %s", what, gf_join_kind_name(how), err.message);
  int64_t *L, *R;
  int64_t n = ref_join(l, r, lon, ron, nk, how, &L, &R);
  if (gf_frame_num_rows(out) != n)
    fail_msg("%s %s: %lld rows, want %lld", what, gf_join_kind_name(how),
             (long long)gf_frame_num_rows(out), (long long)n);
  /* Which right columns appear. */
  const gf_schema *rs = gf_frame_schema(r);
  int rcols[32], nrc = 0;
  if (how != GF_JOIN_SEMI && how != GF_JOIN_ANTI)
    for (int c = 0; c < gf_schema_num_fields(rs); c++) {
      bool key = false;
      for (int k = 0; k < nk; k++) key |= strcmp(gf_schema_field(rs, c)->name, ron[k]) == 0;
      if (key && (how == GF_JOIN_INNER || how == GF_JOIN_LEFT)) continue;
      rcols[nrc++] = c;
    }
  int nlc = gf_frame_num_columns(l);
  assert_int_equal(gf_frame_num_columns(out), nlc + nrc);
  char x[256], y[256];
  for (int64_t k = 0; k < n; k++) {
    for (int c = 0; c < nlc + nrc; c++) {
      cell(out, c, k, x, sizeof x);
      if (c < nlc) cell(l, c, L[k], y, sizeof y);
      else cell(r, rcols[c - nlc], R[k], y, sizeof y);
      if (strcmp(x, y) != 0)
        fail_msg("%s %s (%d workers): row %lld col %d: got %s want %s", what,
                 gf_join_kind_name(how), workers, (long long)k, c, x, y);
    }
  }
  free(L);
  free(R);
  gf_frame_release(out);
}

/* ---- data ---------------------------------------------------------------- */

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

/* Key kinds: how integer codes (in [0, domain)) become values. */
enum { K_INT64, K_INT32, K_WIDE, K_UINT64, K_UTF8, K_LARGE_UTF8, K_DICT, K_F64, K_BOOL, K_DATE };

static gf_array *key_array(int kind, const int64_t *codes, const bool *valid, int64_t n) {
  switch (kind) {
    case K_INT64: return gft_int64_array(gf_type(GF_TYPE_INT64), codes, valid, n);
    case K_INT32: return gft_int64_array(gf_type(GF_TYPE_INT32), codes, valid, n);
    case K_UINT64: return gft_int64_array(gf_type(GF_TYPE_UINT64), codes, valid, n);
    case K_DATE: return gft_int64_array(gf_type(GF_TYPE_DATE32), codes, valid, n);
    case K_BOOL: {
      int64_t *b = malloc(sizeof *b * (size_t)n);
      for (int64_t i = 0; i < n; i++) b[i] = codes[i] & 1;
      gf_array *a = gft_int64_array(gf_type(GF_TYPE_BOOL), b, valid, n);
      free(b);
      return a;
    }
    case K_WIDE: {
      int64_t *w = malloc(sizeof *w * (size_t)n);
      for (int64_t i = 0; i < n; i++) w[i] = (codes[i] - 20) * 1000000007LL;
      gf_array *a = gft_int64_array(gf_type(GF_TYPE_INT64), w, valid, n);
      free(w);
      return a;
    }
    case K_F64: {
      static const double sp[] = {0.0, -0.0, NAN, 1.5, -2.5, INFINITY};
      double *d = malloc(sizeof *d * (size_t)n);
      for (int64_t i = 0; i < n; i++) d[i] = codes[i] < 6 ? sp[codes[i]] : (double)codes[i] / 4;
      gf_array *a = gft_double_array(gf_type(GF_TYPE_FLOAT64), d, valid, n);
      free(d);
      return a;
    }
    default: {
      char **s = malloc(sizeof *s * (size_t)n);
      for (int64_t i = 0; i < n; i++) {
        s[i] = NULL;
        if (valid && !valid[i]) continue;
        s[i] = malloc(24);
        snprintf(s[i], 24, codes[i] % 3 ? "id%lld" : "key-%lld-long-string", (long long)codes[i]);
      }
      gf_datatype t = kind == K_UTF8 ? gf_type(GF_TYPE_UTF8)
                      : kind == K_LARGE_UTF8 ? gf_type(GF_TYPE_LARGE_UTF8)
                                             : gf_type_dictionary(gf_type(GF_TYPE_UTF8));
      gf_array *a = gft_string_array(t, (const char *const *)s, n);
      for (int64_t i = 0; i < n; i++) free(s[i]);
      free(s);
      return a;
    }
  }
}

/* A side: key columns k0[, k1] of the given kinds, "id" (row number, named
 * lid/rid), "x" (a payload whose name clashes with the other side). */
static gf_frame *side(const int *kinds, int nk, int64_t n, int64_t domain, int nb,
                      bool is_left, uint64_t seed) {
  gf_array *cols[6];
  const char *names[6];
  static const char *kn[] = {"k0", "k1"};
  for (int k = 0; k < nk; k++) {
    int64_t *codes = malloc(sizeof *codes * (size_t)n);
    bool *valid = malloc(sizeof *valid * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
      codes[i] = (int64_t)(gft_rand_next(&seed) % (uint64_t)domain);
      valid[i] = gft_rand_next(&seed) % 8 != 0;
    }
    cols[k] = key_array(kinds[k], codes, valid, n);
    names[k] = kn[k];
    free(codes);
    free(valid);
  }
  int64_t *id = malloc(sizeof *id * (size_t)n);
  char **xs = malloc(sizeof *xs * (size_t)n);
  for (int64_t i = 0; i < n; i++) {
    id[i] = i;
    xs[i] = malloc(24);
    snprintf(xs[i], 24, "%c%lld", is_left ? 'L' : 'R', (long long)i);
  }
  cols[nk] = gft_int64_array(gf_type(GF_TYPE_INT64), id, NULL, n);
  names[nk] = is_left ? "lid" : "rid";
  cols[nk + 1] = gft_string_array(gf_type(GF_TYPE_UTF8), (const char *const *)xs, n);
  names[nk + 1] = "x";
  for (int64_t i = 0; i < n; i++) free(xs[i]);
  free(xs);
  free(id);
  return frame_of(names, cols, nk + 2, nb);
}

static const char *const K0[] = {"k0"};
static const char *const K01[] = {"k0", "k1"};

/* ---- tests --------------------------------------------------------------- */

static void every_kind_and_key_type_matches_nested_loop(void **state) {
  (void)state;
  /* left kind, right kind */
  static const int pairs[][2] = {
      {K_INT64, K_INT64}, {K_INT32, K_INT64}, {K_WIDE, K_WIDE}, {K_UINT64, K_INT64},
      {K_UTF8, K_UTF8}, {K_LARGE_UTF8, K_UTF8}, {K_DICT, K_UTF8}, {K_UTF8, K_DICT},
      {K_DICT, K_DICT}, {K_F64, K_F64}, {K_BOOL, K_BOOL}, {K_DATE, K_DATE}};
  static const char *pname[] = {"int64", "int32-int64", "wide-int", "uint64-int64", "utf8",
                                "large-utf8", "dict-utf8", "utf8-dict", "dict-dict",
                                "float64", "bool", "date32"};
  for (int p = 0; p < 12; p++)
    for (int sizes = 0; sizes < 2; sizes++) {
      int64_t nl = sizes ? 90 : 240, nr = sizes ? 230 : 150;
      int64_t domain = pairs[p][0] == K_BOOL ? 2 : 40;
      gf_frame *l = side(&pairs[p][0], 1, nl, domain, 3, true, 11 + (uint64_t)p);
      gf_frame *r = side(&pairs[p][1], 1, nr, domain, 2, false, 77 + (uint64_t)p);
      for (int how = GF_JOIN_INNER; how <= GF_JOIN_ANTI; how++) {
        check_join(l, r, K0, K0, 1, (gf_join_kind)how, 1, 0, pname[p]);
        check_join(l, r, K0, K0, 1, (gf_join_kind)how, 3, 37, pname[p]);
      }
      gf_frame_release(l);
      gf_frame_release(r);
    }
}

static void multi_key_joins_match_nested_loop(void **state) {
  (void)state;
  int lk[] = {K_INT32, K_UTF8}, rk[] = {K_INT64, K_DICT};
  gf_frame *l = side(lk, 2, 500, 6, 2, true, 5);
  gf_frame *r = side(rk, 2, 300, 6, 3, false, 6);
  for (int how = GF_JOIN_INNER; how <= GF_JOIN_ANTI; how++) {
    check_join(l, r, K01, K01, 2, (gf_join_kind)how, 1, 0, "multi");
    check_join(l, r, K01, K01, 2, (gf_join_kind)how, 2, 50, "multi");
    check_join(r, l, K01, K01, 2, (gf_join_kind)how, 3, 0, "multi-swapped");
  }
  int fk[] = {K_F64, K_WIDE};
  gf_frame *l2 = side(fk, 2, 400, 7, 1, true, 8);
  gf_frame *r2 = side(fk, 2, 200, 7, 1, false, 9);
  for (int how = GF_JOIN_INNER; how <= GF_JOIN_ANTI; how++)
    check_join(l2, r2, K01, K01, 2, (gf_join_kind)how, 2, 0, "float-int");
  gf_frame_release(l2);
  gf_frame_release(r2);
  gf_frame_release(l);
  gf_frame_release(r);
}

static void results_are_identical_for_any_workers_and_chunks(void **state) {
  (void)state;
  int kinds[] = {K_INT64, K_UTF8, K_WIDE};
  for (int kk = 0; kk < 3; kk++) {
    gf_frame *l = side(&kinds[kk], 1, 12000, 4000, 3, true, 21);
    gf_frame *r = side(&kinds[kk], 1, 8000, 4000, 2, false, 22);
    for (int how = GF_JOIN_INNER; how <= GF_JOIN_ANTI; how++) {
      gf_frame *ref = NULL;
      int workers[] = {1, 2, 3, 8};
      int64_t chunks[] = {0, 333, 100000};
      for (int w = 0; w < 4; w++)
        for (int c = 0; c < 3; c++) {
          gf_parallel_options po;
          gf_join_options jo = jopts(&po, workers[w], chunks[c]);
          gf_frame *out;
          assert_int_equal(gf_join(l, r, K0, K0, 1, (gf_join_kind)how, &jo, &out, NULL), GF_OK);
          if (!ref) {
            ref = out;
            continue;
          }
          if (!gf_frame_equals(ref, out))
            fail_msg("%s differs at %d workers chunk %lld", gf_join_kind_name((gf_join_kind)how),
                     workers[w], (long long)chunks[c]);
          gf_frame_release(out);
        }
      gf_frame_release(ref);
    }
    /* One size checked against the reference too (hash/direct at scale). */
    gf_frame *ls, *rs;
    assert_int_equal(gf_frame_slice(l, 0, 1200, &ls, NULL), GF_OK);
    assert_int_equal(gf_frame_slice(r, 0, 1000, &rs, NULL), GF_OK);
    check_join(ls, rs, K0, K0, 1, GF_JOIN_FULL, 2, 0, "sliced");
    check_join(rs, ls, K0, K0, 1, GF_JOIN_INNER, 2, 0, "sliced");
    gf_frame_release(ls);
    gf_frame_release(rs);
    gf_frame_release(l);
    gf_frame_release(r);
  }
}

static void names_clash_gets_suffix(void **state) {
  (void)state;
  int k = K_INT64;
  gf_frame *l = side(&k, 1, 20, 5, 1, true, 1);
  gf_frame *r = side(&k, 1, 20, 5, 1, false, 2);
  gf_frame *out;
  assert_int_equal(gf_join(l, r, K0, K0, 1, GF_JOIN_INNER, NULL, &out, NULL), GF_OK);
  const gf_schema *s = gf_frame_schema(out);
  assert_int_equal(gf_schema_num_fields(s), 5);
  const char *want[] = {"k0", "lid", "x", "rid", "x_right"};
  for (int i = 0; i < 5; i++) assert_string_equal(gf_schema_field(s, i)->name, want[i]);
  gf_frame_release(out);
  gf_join_options jo;
  gf_join_options_init(&jo);
  jo.suffix = "_r";
  assert_int_equal(gf_join(l, r, K0, K0, 1, GF_JOIN_FULL, &jo, &out, NULL), GF_OK);
  s = gf_frame_schema(out);
  const char *want2[] = {"k0", "lid", "x", "k0_r", "rid", "x_r"};
  assert_int_equal(gf_schema_num_fields(s), 6);
  for (int i = 0; i < 6; i++) assert_string_equal(gf_schema_field(s, i)->name, want2[i]);
  gf_frame_release(out);
  assert_int_equal(gf_join(l, r, K0, K0, 1, GF_JOIN_SEMI, NULL, &out, NULL), GF_OK);
  assert_int_equal(gf_frame_num_columns(out), 3);
  gf_frame_release(out);
  /* "x_right" taken on the left already. */
  gf_frame *r2 = NULL;
  {
    const char *names[] = {"k0", "x_right", "x"};
    int64_t v[] = {1, 2, 3};
    gf_array *cols[] = {gft_int64_array(gf_type(GF_TYPE_INT64), v, NULL, 3),
                        gft_int64_array(gf_type(GF_TYPE_INT64), v, NULL, 3),
                        gft_int64_array(gf_type(GF_TYPE_INT64), v, NULL, 3)};
    r2 = frame_of(names, cols, 3, 1);
  }
  gf_error err;
  out = NULL;
  assert_int_equal(gf_join(r2, r, K0, K0, 1, GF_JOIN_LEFT, NULL, &out, &err), GF_EINVAL);
  assert_null(out);
  gf_frame_release(r2);
  gf_frame_release(l);
  gf_frame_release(r);
}

static void bad_keys_are_rejected(void **state) {
  (void)state;
  int a = K_INT64, b = K_UTF8, c = K_F64;
  gf_frame *l = side(&a, 1, 10, 5, 1, true, 1);
  gf_frame *r = side(&b, 1, 10, 5, 1, false, 2);
  gf_frame *r3 = side(&c, 1, 10, 5, 1, false, 2);
  gf_frame *out = NULL;
  gf_error err;
  assert_int_equal(gf_join(l, r, K0, K0, 1, GF_JOIN_INNER, NULL, &out, &err), GF_ETYPE);
  assert_int_equal(gf_join(l, r3, K0, K0, 1, GF_JOIN_INNER, NULL, &out, &err), GF_ETYPE);
  const char *bad[] = {"nope"};
  assert_int_equal(gf_join(l, r, bad, K0, 1, GF_JOIN_INNER, NULL, &out, &err), GF_EINVAL);
  assert_int_equal(gf_join(l, r, K0, K0, 0, GF_JOIN_INNER, NULL, &out, &err), GF_EINVAL);
  assert_null(out);
  gf_join_kind k;
  assert_int_equal(gf_join_kind_parse("OUTER", &k, NULL), GF_OK);
  assert_int_equal(k, GF_JOIN_FULL);
  assert_int_equal(gf_join_kind_parse("anti", &k, NULL), GF_OK);
  assert_int_equal(k, GF_JOIN_ANTI);
  assert_int_equal(gf_join_kind_parse("cross", &k, &err), GF_EINVAL);
  gf_frame_release(l);
  gf_frame_release(r);
  gf_frame_release(r3);
}

/* One gf_join under a failing allocator (gft_alloc_sweep callback). */
typedef struct join_sweep {
  const gf_frame *l, *r, *want;
  gf_join_kind how;
  gf_parallel_options po;
} join_sweep;

static gf_status join_once(void *user, const gf_allocator *a) {
  join_sweep *s = user;
  gf_join_options jo;
  gf_join_options_init(&jo);
  s->po.allocator = a;
  jo.parallel = &s->po;
  gf_frame *out = NULL;
  gf_status st = gf_join(s->l, s->r, K0, K0, 1, s->how, &jo, &out, NULL);
  if (st == GF_OK) {
    if (!gf_frame_equals(out, s->want))
      fail_msg("%s join: %s: wrong result", gf_join_kind_name(s->how), gft_sweep_at());
    gf_frame_release(out);
  } else {
    assert_null(out);
  }
  return st;
}

/* Every allocation of every join kind failed, one-off and persistent, for
 * int64, dictionary-against-utf8 and wide keys: GF_ENOMEM, nothing leaked,
 * the same rows as without failures once it runs clean. */
static void join_survives_allocation_failures(void **state) {
  (void)state;
  int kinds[][2] = {{K_INT64, K_INT64}, {K_DICT, K_UTF8}, {K_WIDE, K_WIDE}};
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts counts = {0};
  for (int kk = 0; kk < 3; kk++) {
    gf_frame *l = side(&kinds[kk][0], 1, 150, 30, 2, true, 3);
    gf_frame *r = side(&kinds[kk][1], 1, 100, 30, 2, false, 4);
    for (int how = GF_JOIN_INNER; how <= GF_JOIN_ANTI; how++)
      for (int w = 1; w <= 3; w += 2) {
        join_sweep s = {l, r, NULL, (gf_join_kind)how, {0}};
        gf_join_options jo = jopts(&s.po, w, 64);
        gf_frame *want = NULL;
        assert_int_equal(gf_join(l, r, K0, K0, 1, s.how, &jo, &want, NULL), GF_OK);
        s.want = want;
        gft_alloc_sweep(gf_join_kind_name(s.how), fa, join_once, &s, &counts);
        gf_frame_release(want);
      }
    gf_frame_release(l);
    gf_frame_release(r);
  }
  gft_sweep_print("join", &counts);
  gf_failing_allocator_free(fa);
}

typedef struct canceller {
  gf_cancel *c;
  long delay_us;
} canceller;

static void *cancel_later(void *p) {
  canceller *c = p;
  struct timespec ts = {0, c->delay_us * 1000};
  nanosleep(&ts, NULL);
  gf_cancel_request(c->c);
  return NULL;
}

static void cancellation_stops_a_join_without_leaks(void **state) {
  (void)state;
  int k = K_UTF8;
  gf_frame *l = side(&k, 1, 100000, 30000, 4, true, 31);
  gf_frame *r = side(&k, 1, 80000, 30000, 3, false, 32);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gf_cancel *c;
  assert_int_equal(gf_cancel_new(&c, NULL), GF_OK);
  gf_parallel_options po;
  gf_join_options jo = jopts(&po, 2, 1000);
  po.allocator = gf_failing_allocator_get(fa);
  po.cancel = c;
  gf_failing_allocator_arm(fa, 0, false);
  /* Cancelled before it starts. */
  gf_cancel_request(c);
  gf_frame *out = NULL;
  gf_error err;
  assert_int_equal(gf_join(l, r, K0, K0, 1, GF_JOIN_FULL, &jo, &out, &err), GF_ECANCELED);
  assert_null(out);
  assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  /* Cancelled part-way: at various delays; either outcome, never a leak. */
  int cancelled = 0;
  for (long d = 50; d <= 50 * 1024; d *= 2) {
    gf_cancel_reset(c);
    canceller cc = {c, d};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &cc), 0);
    gf_status st = gf_join(l, r, K0, K0, 1, GF_JOIN_INNER, &jo, &out, &err);
    pthread_join(t, NULL);
    if (st == GF_OK) {
      gf_frame_release(out);
    } else {
      assert_int_equal(st, GF_ECANCELED);
      cancelled++;
    }
    out = NULL;
    assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  }
  assert_true(cancelled > 0);
  gf_cancel_free(c);
  gf_failing_allocator_free(fa);
  gf_frame_release(l);
  gf_frame_release(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_kind_and_key_type_matches_nested_loop),
      cmocka_unit_test(multi_key_joins_match_nested_loop),
      cmocka_unit_test(results_are_identical_for_any_workers_and_chunks),
      cmocka_unit_test(names_clash_gets_suffix),
      cmocka_unit_test(bad_keys_are_rejected),
      cmocka_unit_test(join_survives_allocation_failures),
      cmocka_unit_test(cancellation_stops_a_join_without_leaks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
