/* The one key policy (src/ops/key_policy.h) through every operator that
 * uses it: group-by, distinct, sort and join see the same key columns
 * (float64 and float32 with -0.0, 0.0, NaNs of several bit patterns incl.
 * negative and signalling ones, +/-inf; a dictionary column whose
 * dictionary repeats values and holds a null; a utf8 column with the same
 * strings; ints of two widths; nulls whose slots hold garbage bytes), and a
 * naive reference that applies the stated policy row by row decides the
 * expected groups, distinct rows, order and matches, at several worker
 * counts, chunk sizes and batch layouts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/builder_internal.h"
#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"

/* Columns of the test frames. */
enum { C_ID = 0, C_F64, C_F32, C_DICT, C_STR, C_I32, C_I64, NCOLS };
static const char *const NAMES[NCOLS] = {"id", "f64", "f32", "d", "s", "i32", "i64"};

/* One key value as the policy sees it. */
typedef struct kv {
  bool null;
  int kind;        /* floats: 1 NaN, 2 number */
  double d;        /* floats (float32 widened) */
  int64_t i;       /* ints */
  const char *s;   /* strings (dictionary resolved) */
  int64_t len;
} kv;

/* A test frame and its reference keys ref[col][row]. */
typedef struct tframe {
  gf_frame *f;
  int64_t n;
  kv *ref[NCOLS];
} tframe;

static const uint64_t F64_POOL[] = {
    UINT64_C(0x0000000000000000), UINT64_C(0x8000000000000000), /* +0.0, -0.0 */
    UINT64_C(0x7ff8000000000000), UINT64_C(0xfff8000000000000), /* NaN, -NaN */
    UINT64_C(0x7ff0000000000001), UINT64_C(0x7ffc00000000abcd), /* sNaN, payload */
    UINT64_C(0xfff4000000000007),                               /* -NaN payload */
    UINT64_C(0x7ff0000000000000), UINT64_C(0xfff0000000000000), /* +inf, -inf */
    UINT64_C(0x3ff8000000000000), UINT64_C(0xc002000000000000), /* 1.5, -2.25 */
};
static const uint32_t F32_POOL[] = {
    0x00000000u, 0x80000000u, 0x7fc00000u, 0xffc00000u, 0x7f800001u,
    0x7fa00123u, 0xff800000u, 0x7f800000u, 0x3fc00000u, 0xc0100000u, /* 1.5f, -2.25f */
};
#define F64_N ((int)(sizeof F64_POOL / sizeof F64_POOL[0]))
#define F32_N ((int)(sizeof F32_POOL / sizeof F32_POOL[0]))
/* The dictionary repeats "a" and "b" and holds a null (code 4). */
static const char *const DICT[] = {"a", "b", "a", "c", NULL, "b", ""};
#define DICT_N 7
static const char *const STRS[] = {"a", "b", "c", "", "zz"};
#define STRS_N 5
static const int64_t I64_POOL[] = {INT64_MIN, -1, 0, 1, INT64_MAX, INT64_C(1) << 40};

static kv float_kv(double d) {
  kv k = {0};
  k.kind = isnan(d) ? 1 : 2;
  k.d = d;
  return k;
}

static gf_buffer *buf(size_t size) {
  gf_buffer *b = NULL;
  assert_int_equal(gfi_buffer_alloc(NULL, size ? size : 1, &b), GF_OK);
  memset(gf_buffer_mutable_data(b), 0, size ? size : 1);
  return b;
}

static gf_array *make(gf_datatype t, int64_t n, gf_buffer *b0, gf_buffer *b1, gf_buffer *b2,
                      gf_array *dict) {
  gf_buffer *bufs[3] = {b0, b1, b2};
  gf_array *a = NULL;
  assert_int_equal(gfi_array_make(NULL, t, n, 0, -1, bufs, dict, &a, NULL), GF_OK);
  return a;
}

/* One batch of rows [r0, r0+n): every null slot holds garbage. */
static void make_batch(tframe *t, int64_t r0, int64_t n, uint64_t *rng, gf_array *dict,
                       gf_array **cols) {
  size_t vb = (size_t)(n + 7) / 8;
  gf_buffer *valid[NCOLS];
  for (int c = 1; c < NCOLS; c++) valid[c] = buf(vb);
  gf_buffer *ids = buf(8 * (size_t)n), *f64 = buf(8 * (size_t)n), *f32 = buf(4 * (size_t)n);
  gf_buffer *codes = buf(4 * (size_t)n), *i32 = buf(4 * (size_t)n), *i64 = buf(8 * (size_t)n);
  gf_buffer *soff = buf(4 * (size_t)(n + 1)), *sdat = buf(8 * (size_t)n);
  int64_t *pid = gf_buffer_mutable_data(ids), *pi64 = gf_buffer_mutable_data(i64);
  uint64_t *pf64 = gf_buffer_mutable_data(f64);
  uint32_t *pf32 = gf_buffer_mutable_data(f32);
  int32_t *pcodes = gf_buffer_mutable_data(codes), *pi32 = gf_buffer_mutable_data(i32);
  int32_t *poff = gf_buffer_mutable_data(soff);
  char *pdat = gf_buffer_mutable_data(sdat);
  int32_t pos = 0;
  for (int64_t j = 0; j < n; j++) {
    int64_t r = r0 + j;
    pid[j] = r;
    bool ok[NCOLS];
    for (int c = 1; c < NCOLS; c++) {
      ok[c] = gft_rand_next(rng) % 8 != 0;
      if (ok[c]) gfi_bit_set(gf_buffer_mutable_data(valid[c]), j);
      t->ref[c][r].null = !ok[c];
    }
    uint64_t g = gft_rand_next(rng); /* garbage under nulls */
    pf64[j] = ok[C_F64] ? F64_POOL[gft_rand_next(rng) % F64_N] : g;
    pf32[j] = ok[C_F32] ? F32_POOL[gft_rand_next(rng) % F32_N] : (uint32_t)g;
    pcodes[j] = ok[C_DICT] ? (int32_t)(gft_rand_next(rng) % DICT_N) : (int32_t)(g >> 7);
    pi32[j] = ok[C_I32] ? (int32_t)(gft_rand_next(rng) % 7) - 3 : (int32_t)(g >> 3);
    pi64[j] = ok[C_I64] ? I64_POOL[gft_rand_next(rng) % 6] : (int64_t)g;
    const char *sv = ok[C_STR] ? STRS[gft_rand_next(rng) % STRS_N] : "xyz";
    poff[j] = pos;
    memcpy(pdat + pos, sv, strlen(sv));
    pos += (int32_t)strlen(sv);
    double d;
    memcpy(&d, &pf64[j], 8);
    float fl;
    memcpy(&fl, &pf32[j], 4);
    if (ok[C_F64]) t->ref[C_F64][r] = float_kv(d);
    if (ok[C_F32]) t->ref[C_F32][r] = float_kv((double)fl);
    if (ok[C_DICT]) {
      const char *v = DICT[pcodes[j]];
      t->ref[C_DICT][r].null = v == NULL;
      t->ref[C_DICT][r].s = v;
      t->ref[C_DICT][r].len = v ? (int64_t)strlen(v) : 0;
    }
    if (ok[C_STR]) {
      t->ref[C_STR][r].s = sv;
      t->ref[C_STR][r].len = (int64_t)strlen(sv);
    }
    t->ref[C_I32][r].i = pi32[j];
    t->ref[C_I64][r].i = pi64[j];
    t->ref[C_ID][r].i = r;
  }
  poff[n] = pos;
  cols[C_ID] = make(gf_type(GF_TYPE_INT64), n, NULL, ids, NULL, NULL);
  cols[C_F64] = make(gf_type(GF_TYPE_FLOAT64), n, valid[C_F64], f64, NULL, NULL);
  cols[C_F32] = make(gf_type(GF_TYPE_FLOAT32), n, valid[C_F32], f32, NULL, NULL);
  cols[C_DICT] = make(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), n, valid[C_DICT], codes, NULL,
                      dict);
  cols[C_STR] = make(gf_type(GF_TYPE_UTF8), n, valid[C_STR], soff, sdat, NULL);
  cols[C_I32] = make(gf_type(GF_TYPE_INT32), n, valid[C_I32], i32, NULL, NULL);
  cols[C_I64] = make(gf_type(GF_TYPE_INT64), n, valid[C_I64], i64, NULL, NULL);
}

/* A frame of n rows in nb batches (one shared dictionary, so nothing is
 * unified away: its repeated values and its null stay). */
static tframe make_frame(int64_t n, int nb, uint64_t seed) {
  tframe t;
  t.n = n;
  for (int c = 0; c < NCOLS; c++) t.ref[c] = calloc((size_t)n + 1, sizeof(kv));
  uint64_t rng = seed;
  gf_array *dict = gft_string_array(gf_type(GF_TYPE_UTF8), DICT, DICT_N);
  gf_array **cols = calloc((size_t)nb * NCOLS, sizeof *cols);
  for (int b = 0; b < nb; b++) {
    int64_t r0 = n * b / nb, r1 = n * (b + 1) / nb;
    make_batch(&t, r0, r1 - r0, &rng, dict, cols + (size_t)b * NCOLS);
  }
  gf_field fields[NCOLS];
  for (int c = 0; c < NCOLS; c++) fields[c] = (gf_field){NAMES[c], gf_array_type(cols[c]), true};
  gf_schema *schema = NULL;
  assert_int_equal(gf_schema_new(fields, NCOLS, &schema, NULL), GF_OK);
  assert_int_equal(gf_frame_new(schema, cols, nb, NULL, &t.f, NULL), GF_OK);
  gf_schema_release(schema);
  for (int i = 0; i < nb * NCOLS; i++) gf_array_release(cols[i]);
  free(cols);
  gf_array_release(dict);
  return t;
}

static void free_frame(tframe *t) {
  for (int c = 0; c < NCOLS; c++) free(t->ref[c]);
  gf_frame_release(t->f);
}

/* ---- the reference: the policy, stated naively --------------------------- */

static bool is_float_col(int c) { return c == C_F64 || c == C_F32; }
static bool is_str_col(int c) { return c == C_DICT || c == C_STR; }

/* Equal non-null keys (of columns of comparable kinds). */
static bool kv_eq(const kv *x, const kv *y, int c) {
  if (is_float_col(c)) return x->kind == y->kind && (x->kind == 1 || x->d == y->d);
  if (is_str_col(c)) return x->len == y->len && memcmp(x->s, y->s, (size_t)x->len) == 0;
  return x->i == y->i;
}

/* Policy order of non-null keys: -0.0 == 0.0, NaN after everything. */
static int kv_cmp(const kv *x, const kv *y, int c) {
  if (is_float_col(c)) {
    if (x->kind != y->kind) return x->kind == 1 ? 1 : -1;
    if (x->kind == 1) return 0;
    return (x->d > y->d) - (x->d < y->d);
  }
  if (is_str_col(c)) {
    int64_t m = x->len < y->len ? x->len : y->len;
    int r = m ? memcmp(x->s, y->s, (size_t)m) : 0;
    if (r) return r < 0 ? -1 : 1;
    return (x->len > y->len) - (x->len < y->len);
  }
  return (x->i > y->i) - (x->i < y->i);
}

/* Rows r and s have the same key over cols (nulls equal each other). */
static bool same_key(const tframe *t, const int *cols, int nk, int64_t r, int64_t s) {
  for (int k = 0; k < nk; k++) {
    const kv *x = &t->ref[cols[k]][r], *y = &t->ref[cols[k]][s];
    if (x->null != y->null) return false;
    if (!x->null && !kv_eq(x, y, cols[k])) return false;
  }
  return true;
}

/* First rows of the distinct keys in first-appearance order. */
static int64_t ref_groups(const tframe *t, const int *cols, int nk, int64_t *first,
                          int64_t *count) {
  int64_t g = 0;
  for (int64_t r = 0; r < t->n; r++) {
    int64_t k = 0;
    while (k < g && !same_key(t, cols, nk, first[k], r)) k++;
    if (k == g) {
      first[g] = r;
      count[g++] = 0;
    }
    count[k]++;
  }
  return g;
}

/* Sort order of rows by cols (per key desc / nulls_first), ties by row. */
typedef struct sort_ref {
  const tframe *t;
  const int *cols;
  int nk;
  const bool *desc, *nulls_first;
} sort_ref;

static int ref_row_cmp(const sort_ref *s, int64_t r, int64_t q) {
  for (int k = 0; k < s->nk; k++) {
    const kv *x = &s->t->ref[s->cols[k]][r], *y = &s->t->ref[s->cols[k]][q];
    if (x->null || y->null) {
      if (x->null && y->null) continue;
      return x->null == s->nulls_first[k] ? -1 : 1;
    }
    int c = kv_cmp(x, y, s->cols[k]);
    if (c) return s->desc[k] ? -c : c;
  }
  return (r > q) - (r < q);
}

/* A plain top-down stable merge sort of rows by ref_row_cmp. */
static void ref_sort_rec(const sort_ref *s, int64_t *rows, int64_t *tmp, int64_t n) {
  if (n < 2) return;
  int64_t h = n / 2, i = 0, j = h, o = 0;
  ref_sort_rec(s, rows, tmp, h);
  ref_sort_rec(s, rows + h, tmp, n - h);
  while (i < h && j < n) tmp[o++] = ref_row_cmp(s, rows[j], rows[i]) < 0 ? rows[j++] : rows[i++];
  while (i < h) tmp[o++] = rows[i++];
  while (j < n) tmp[o++] = rows[j++];
  memcpy(rows, tmp, sizeof *rows * (size_t)n);
}

static void ref_sort(const sort_ref *s, int64_t *rows, int64_t n) {
  int64_t *tmp = malloc(sizeof *tmp * (size_t)(n + 1));
  ref_sort_rec(s, rows, tmp, n);
  free(tmp);
}

/* ---- reading results --------------------------------------------------------- */

/* Column `name` of f as int64 over all batches (nulls as -1). */
static int64_t *read_i64(const gf_frame *f, const char *name) {
  int c = gf_schema_find(gf_frame_schema(f), name);
  assert_true(c >= 0);
  int64_t n = gf_frame_num_rows(f);
  int64_t *v = calloc((size_t)n + 1, sizeof *v);
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *a = gf_frame_column(f, b, c);
    int64_t o = gf_frame_batch_offset(f, b);
    for (int64_t i = 0; i < gf_array_length(a); i++)
      v[o + i] = gf_array_is_null(a, i) ? -1 : gf_array_get_int64(a, i);
  }
  return v;
}

static void expect_rows(const char *what, const int64_t *got, const int64_t *want, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    if (got[i] != want[i]) {
      print_error("%s: position %lld: got row %lld, want %lld\n", what, (long long)i,
                  (long long)got[i], (long long)want[i]);
      fail();
    }
  }
}

/* ---- the operators against the reference ---------------------------------- */

static const int WORKERS[] = {1, 2, 3, 8};
static const int64_t CHUNKS[] = {0, 7, 64, 1000};

static void par(gf_parallel_options *po, int w, int64_t chunk) {
  gf_parallel_options_init(po);
  po->num_workers = w;
  po->chunk_rows = chunk;
  po->min_parallel_rows = 0;
}

/* Key sets: single columns of every kind, and mixes (hashed, packed and
 * direct group-by paths). */
static const int KEYSETS[][3] = {{C_F64}, {C_F32}, {C_DICT}, {C_STR}, {C_I32},
                                 {C_I32, C_F64}, {C_DICT, C_F32, C_I64}, {C_F64, C_STR}};
static const int KEYSET_N[] = {1, 1, 1, 1, 1, 2, 3, 2};
#define NKEYSETS ((int)(sizeof KEYSET_N / sizeof KEYSET_N[0]))

static void check_group_by(const tframe *t, const int *cols, int nk, const gf_parallel_options *po) {
  int64_t *first = malloc(sizeof *first * (size_t)t->n), *count = malloc(sizeof *count * (size_t)t->n);
  int64_t g = ref_groups(t, cols, nk, first, count);
  const char *keys[3];
  for (int k = 0; k < nk; k++) keys[k] = NAMES[cols[k]];
  for (int sorted = 0; sorted < 2; sorted++) {
    gf_groupby_options go;
    gf_groupby_options_init(&go);
    go.parallel = po;
    go.sort_keys = sorted;
    gf_frame *r = NULL;
    gf_error err;
    assert_int_equal(gf_group_by_text(t->f, keys, nk, "first(id) as fid, count() as n", &go, &r, &err),
                     GF_OK);
    assert_int_equal(gf_frame_num_rows(r), g);
    int64_t *want = malloc(sizeof *want * (size_t)(g + 1));
    memcpy(want, first, sizeof *want * (size_t)g);
    if (sorted) {
      bool desc[3] = {false, false, false}, nf[3] = {false, false, false};
      sort_ref s = {t, cols, nk, desc, nf};
      ref_sort(&s, want, g);
    }
    int64_t *fid = read_i64(r, "fid"), *n = read_i64(r, "n");
    expect_rows(sorted ? "group-by sorted" : "group-by", fid, want, g);
    for (int64_t i = 0; i < g; i++) {
      int64_t k = 0;
      while (first[k] != want[i]) k++;
      assert_int_equal(n[i], count[k]);
    }
    free(fid);
    free(n);
    free(want);
    gf_frame_release(r);
  }
  /* Distinct: the same first rows, whole rows, in input order. */
  gf_frame *d = NULL;
  assert_int_equal(gf_distinct(t->f, keys, nk, po, &d, NULL), GF_OK);
  assert_int_equal(gf_frame_num_rows(d), g);
  assert_int_equal(gf_frame_num_columns(d), NCOLS);
  int64_t *ids = read_i64(d, "id");
  expect_rows("distinct", ids, first, g);
  free(ids);
  gf_frame_release(d);
  free(first);
  free(count);
}

static void check_sort(const tframe *t, const int *cols, int nk, const gf_parallel_options *po) {
  for (int variant = 0; variant < 2; variant++) {
    gf_sort_key keys[3];
    bool desc[3], nf[3];
    for (int k = 0; k < nk; k++) {
      desc[k] = variant == 1 && k == 0;
      nf[k] = variant == 1;
      keys[k] = (gf_sort_key){NAMES[cols[k]], desc[k], nf[k]};
    }
    int64_t *perm = NULL;
    assert_int_equal(gf_sort_indices(t->f, keys, nk, po, &perm, NULL), GF_OK);
    int64_t *want = malloc(sizeof *want * (size_t)t->n);
    for (int64_t i = 0; i < t->n; i++) want[i] = i;
    sort_ref s = {t, cols, nk, desc, nf};
    ref_sort(&s, want, t->n);
    expect_rows(variant ? "sort desc, nulls first" : "sort", perm, want, t->n);
    gf_sort_indices_free(perm, t->n, po);
    free(want);
  }
}

/* Inner join of l and r on lcols[k] = rcols[k]: pairs in left order, each
 * left row's matches in right order; a null never matches. */
static void check_join(const tframe *l, const tframe *r, const int *lcols, const int *rcols, int nk,
                       const gf_parallel_options *po) {
  int64_t cap = 1024, m = 0;
  int64_t *wl = malloc(sizeof *wl * (size_t)cap), *wr = malloc(sizeof *wr * (size_t)cap);
  for (int64_t i = 0; i < l->n; i++) {
    for (int64_t j = 0; j < r->n; j++) {
      bool eq = true;
      for (int k = 0; k < nk && eq; k++) {
        const kv *x = &l->ref[lcols[k]][i], *y = &r->ref[rcols[k]][j];
        eq = !x->null && !y->null && kv_eq(x, y, lcols[k]);
      }
      if (!eq) continue;
      if (m == cap) {
        cap *= 2;
        wl = realloc(wl, sizeof *wl * (size_t)cap);
        wr = realloc(wr, sizeof *wr * (size_t)cap);
      }
      wl[m] = i;
      wr[m++] = j;
    }
  }
  const char *lon[3], *ron[3];
  for (int k = 0; k < nk; k++) {
    lon[k] = NAMES[lcols[k]];
    ron[k] = NAMES[rcols[k]];
  }
  gf_join_options jo;
  gf_join_options_init(&jo);
  jo.parallel = po;
  gf_frame *out = NULL;
  gf_error err;
  assert_int_equal(gf_join(l->f, r->f, lon, ron, nk, GF_JOIN_INNER, &jo, &out, &err), GF_OK);
  assert_int_equal(gf_frame_num_rows(out), m);
  int64_t *gl = read_i64(out, "id"), *gr = read_i64(out, "id_right");
  expect_rows("join left", gl, wl, m);
  expect_rows("join right", gr, wr, m);
  free(gl);
  free(gr);
  free(wl);
  free(wr);
  gf_frame_release(out);
}

static void operators_agree_with_the_policy(void **state) {
  (void)state;
  for (int nb = 1; nb <= 3; nb += 2) {
    tframe t = make_frame(700, nb, 0x5eed + (uint64_t)nb);
    tframe r = make_frame(300, 2, 0xbeef + (uint64_t)nb);
    for (int wi = 0; wi < 4; wi++) {
      for (int ci = 0; ci < 4; ci++) {
        gf_parallel_options po;
        par(&po, WORKERS[wi], CHUNKS[ci]);
        for (int s = 0; s < NKEYSETS; s++) {
          check_group_by(&t, KEYSETS[s], KEYSET_N[s], &po);
          check_sort(&t, KEYSETS[s], KEYSET_N[s], &po);
        }
        /* Joins: dictionary with plain utf8, float32 with float64, int32
         * with int64, and two keys at once. */
        static const int L1[] = {C_DICT}, R1[] = {C_STR};
        static const int L2[] = {C_F32}, R2[] = {C_F64};
        static const int L3[] = {C_I32, C_F64}, R3[] = {C_I64, C_F64};
        static const int L4[] = {C_STR, C_F64}, R4[] = {C_DICT, C_F32};
        check_join(&t, &r, L1, R1, 1, &po);
        check_join(&t, &r, L2, R2, 1, &po);
        check_join(&t, &r, L3, R3, 2, &po);
        check_join(&t, &r, L4, R4, 2, &po);
        check_join(&r, &t, R1, L1, 1, &po);
      }
    }
    free_frame(&t);
    free_frame(&r);
  }
}

/* Enough rows for the group-by's partitioned hash tables and the parallel
 * sort's merges; fewer option combinations. */
static void large_frames_agree_with_the_policy(void **state) {
  (void)state;
  tframe t = make_frame(70000, 4, 0xface);
  static const int K1[] = {C_F64, C_F32}, K2[] = {C_DICT, C_I64, C_F64};
  for (int wi = 0; wi < 4; wi += 3) {
    gf_parallel_options po;
    par(&po, WORKERS[wi], wi ? 4096 : 0);
    check_group_by(&t, K1, 2, &po);
    check_group_by(&t, K2, 3, &po);
    check_sort(&t, K1, 2, &po);
  }
  free_frame(&t);
}

/* gf_distinct with no key list uses every column; argument errors. */
static void distinct_of_all_columns_and_errors(void **state) {
  (void)state;
  double v[] = {0.0, -0.0, NAN, -NAN, 1.0, 0.0, 1.0};
  bool ok[] = {true, true, true, true, true, true, false};
  const char *sv[] = {"x", "x", "y", "y", "x", "z", "x"};
  gf_array *cols[2] = {gft_double_array(gf_type(GF_TYPE_FLOAT64), v, ok, 7),
                       gft_string_array(gf_type(GF_TYPE_UTF8), sv, 7)};
  const char *names[] = {"v", "s"};
  gf_frame *f = NULL, *d = NULL;
  assert_int_equal(gf_frame_from_columns(names, cols, 2, &f, NULL), GF_OK);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  assert_int_equal(gf_distinct(f, NULL, 0, NULL, &d, NULL), GF_OK);
  /* (0,x) (NaN,y) (1,x) (0,z) (null,x): rows 0, 2, 4, 5, 6. */
  assert_int_equal(gf_frame_num_rows(d), 5);
  const gf_array *dv = gf_frame_column(d, 0, 0);
  assert_false(signbit(gf_array_get_double(dv, 0)));
  assert_true(isnan(gf_array_get_double(dv, 1)));
  assert_true(gf_array_get_double(dv, 2) == 1.0);
  assert_true(gf_array_is_null(dv, 4));
  int64_t l;
  assert_memory_equal(gf_array_get_bytes(gf_frame_column(d, 0, 1), 3, &l), "z", 1);
  gf_frame_release(d);
  const char *bad[] = {"nope"};
  gf_error err;
  assert_int_equal(gf_distinct(f, bad, 1, NULL, &d, &err), GF_EINVAL);
  const char *twice[] = {"v", "v"};
  assert_int_equal(gf_distinct(f, twice, 2, NULL, &d, &err), GF_EINVAL);
  assert_int_equal(gf_distinct(NULL, NULL, 0, NULL, &d, &err), GF_EINVAL);
  gf_frame_release(f);
}

/* One gf_distinct under a failing allocator (gft_alloc_sweep callback). */
typedef struct distinct_sweep {
  const gf_frame *f, *want;
  const char *const *keys;
  int nkeys;
  gf_parallel_options po;
} distinct_sweep;

static gf_status distinct_once(void *user, const gf_allocator *a) {
  distinct_sweep *s = user;
  s->po.allocator = a;
  gf_frame *r = NULL;
  gf_status st = gf_distinct(s->f, s->keys, s->nkeys, &s->po, &r, NULL);
  if (st == GF_OK) {
    if (!gf_frame_equals(r, s->want)) fail_msg("distinct: %s: wrong result", gft_sweep_at());
    gf_frame_release(r);
  } else {
    assert_null(r);
  }
  return st;
}

/* Every allocation of gf_distinct failed, one-off and persistent (direct
 * slots with canonical dictionary codes, hashed keys, all columns):
 * GF_ENOMEM, nothing leaked, the same rows once it runs clean. */
static void distinct_survives_allocation_failures(void **state) {
  (void)state;
  tframe t = make_frame(1500, 2, 0xa110c);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  static const char *const K1[] = {"d"}, *const K2[] = {"f64", "s"};
  const char *const *keys[] = {K1, K2, NULL};
  int nkeys[] = {1, 2, 0};
  gft_sweep_counts counts = {0};
  for (int k = 0; k < 3; k++) {
    for (int w = 1; w <= 2; w++) {
      distinct_sweep s = {t.f, NULL, keys[k], nkeys[k], {0}};
      par(&s.po, w, 700);
      gf_frame *want = NULL;
      assert_int_equal(gf_distinct(t.f, keys[k], nkeys[k], &s.po, &want, NULL), GF_OK);
      s.want = want;
      gft_alloc_sweep("distinct", fa, distinct_once, &s, &counts);
      gf_frame_release(want);
    }
  }
  gft_sweep_print("distinct", &counts);
  gf_failing_allocator_free(fa);
  free_frame(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(operators_agree_with_the_policy),
      cmocka_unit_test(large_frames_agree_with_the_policy),
      cmocka_unit_test(distinct_of_all_columns_and_errors),
      cmocka_unit_test(distinct_survives_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
