/* Garbage under nulls (issue 14, item 17): every kernel family run over
 * zero-copy imported arrays whose null slots, hidden leading slots and
 * padding hold random bytes (tests/support/gf_test_garbage.h), at 1/2/4
 * workers and two chunk sizes. Each result is checked twice:
 *  - against a naive reference computed with plain C loops over the raw
 *    values, skipping nulls (aggregates, expressions, filter, sort, joins,
 *    distinct, the CSV writer, describe);
 *  - against the same call on the clean twin (zeros under nulls), bit for
 *    bit, which catches any read under a null even where the reference
 *    would tolerate it (float rounding, types the references do not model).
 * The garbage frames written as IPC and read back are aggregated again, so
 * whatever the writer copies from under the nulls also reaches the kernels
 * through the IPC reader.
 */
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
#include "gf_test_env.h"
#include "gf_test_garbage.h"

/* ------------------------------------------------------------------ */
/* The data: raw C arrays (the references read these) and two frames.  */
/* ------------------------------------------------------------------ */

#define NK 17    /* key values 0..NK-1 of column k */
#define NPOOL 12 /* distinct strings of column s */

static const char *const k_pool[NPOOL] = {"s0", "s1", "s2", "s3", "ab", "abc", "é",
                                          "日本", "", "zz", "Z", "s10"};

typedef struct data {
  int64_t n;
  int32_t *k;
  int *s; /* index into k_pool */
  int64_t *i;
  double *d;
  bool *b;
  bool *kok, *sok, *iok, *dok, *bok;
  gf_frame *clean, *garbage;
} data;

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) fail_msg("out of memory");
  return p;
}

/* Columns built from rows[0..m) of the raw arrays (all rows when rows is
 * NULL): the expected outputs of filter, sort and distinct are frames of
 * these. */
static gf_array *col_int(gf_datatype t, const int64_t *v, const bool *ok, const int64_t *rows,
                         int64_t m) {
  int64_t *vals = xcalloc((size_t)m, sizeof *vals);
  bool *valid = xcalloc((size_t)m, sizeof *valid);
  for (int64_t j = 0; j < m; j++) {
    int64_t r = rows ? rows[j] : j;
    vals[j] = v[r];
    valid[j] = ok[r];
  }
  gf_array *a = gft_int64_array(t, vals, valid, m);
  free(vals);
  free(valid);
  return a;
}

static gf_array *col_k(const data *D, const int64_t *rows, int64_t m) {
  int64_t *wide = xcalloc((size_t)D->n, sizeof *wide);
  for (int64_t r = 0; r < D->n; r++) wide[r] = D->k[r];
  gf_array *a = col_int(gf_type(GF_TYPE_INT32), wide, D->kok, rows, m);
  free(wide);
  return a;
}

static gf_array *col_s(const data *D, const int64_t *rows, int64_t m) {
  const char **v = xcalloc((size_t)m, sizeof *v);
  for (int64_t j = 0; j < m; j++) {
    int64_t r = rows ? rows[j] : j;
    v[j] = D->sok[r] ? k_pool[D->s[r]] : NULL;
  }
  gf_array *a = gft_string_array(gf_type(GF_TYPE_UTF8), v, m);
  free(v);
  return a;
}

static gf_array *col_d(const data *D, const int64_t *rows, int64_t m) {
  double *vals = xcalloc((size_t)m, sizeof *vals);
  bool *valid = xcalloc((size_t)m, sizeof *valid);
  for (int64_t j = 0; j < m; j++) {
    int64_t r = rows ? rows[j] : j;
    vals[j] = D->d[r];
    valid[j] = D->dok[r];
  }
  gf_array *a = gft_double_array(gf_type(GF_TYPE_FLOAT64), vals, valid, m);
  free(vals);
  free(valid);
  return a;
}

static gf_array *col_b(const data *D, const int64_t *rows, int64_t m) {
  gf_builder *bld;
  gf_error err;
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_BOOL), NULL, &bld, &err), GF_OK);
  for (int64_t j = 0; j < m; j++) {
    int64_t r = rows ? rows[j] : j;
    if (D->bok[r]) assert_int_equal(gf_builder_append_bool(bld, D->b[r], &err), GF_OK);
    else assert_int_equal(gf_builder_append_null(bld, &err), GF_OK);
  }
  gf_array *a;
  assert_int_equal(gf_builder_finish(bld, &a, &err), GF_OK);
  gf_builder_free(bld);
  return a;
}

/* The five columns k, s, i, d, b of the given rows, one batch. */
static gf_frame *frame_of_rows(const data *D, const int64_t *rows, int64_t m) {
  gf_array *cols[5] = {col_k(D, rows, m), col_s(D, rows, m),
                       col_int(gf_type(GF_TYPE_INT64), D->i, D->iok, rows, m), col_d(D, rows, m),
                       col_b(D, rows, m)};
  const char *names[5] = {"k", "s", "i", "d", "b"};
  gf_frame *f;
  gf_error err;
  if (gf_frame_from_columns(names, cols, 5, &f, &err) != GF_OK) fail_msg("%s", err.message);
  for (int c = 0; c < 5; c++) gf_array_release(cols[c]);
  return f;
}

/* Random data with nulls in every column; the clean frame is three
 * batches of slices (non-zero offsets), the garbage frame its twin. */
static data make_data(int64_t n, uint64_t seed) {
  data D = {.n = n};
  D.k = xcalloc((size_t)n, sizeof *D.k);
  D.s = xcalloc((size_t)n, sizeof *D.s);
  D.i = xcalloc((size_t)n, sizeof *D.i);
  D.d = xcalloc((size_t)n, sizeof *D.d);
  D.b = xcalloc((size_t)n, sizeof *D.b);
  D.kok = xcalloc((size_t)n, sizeof(bool));
  D.sok = xcalloc((size_t)n, sizeof(bool));
  D.iok = xcalloc((size_t)n, sizeof(bool));
  D.dok = xcalloc((size_t)n, sizeof(bool));
  D.bok = xcalloc((size_t)n, sizeof(bool));
  uint64_t s = seed;
  for (int64_t r = 0; r < n; r++) {
    D.k[r] = (int32_t)(gft_rand_next(&s) % NK);
    D.kok[r] = gft_rand_next(&s) % 10 != 0;
    D.s[r] = (int)(gft_rand_next(&s) % NPOOL);
    D.sok[r] = gft_rand_next(&s) % 10 != 0;
    D.i[r] = (int64_t)(gft_rand_next(&s) % 2000001) - 1000000;
    D.iok[r] = gft_rand_next(&s) % 5 != 0;
    D.d[r] = (double)((int64_t)(gft_rand_next(&s) % 2000000) - 1000000) / 1000.0;
    D.dok[r] = gft_rand_next(&s) % 5 != 0;
    D.b[r] = gft_rand_next(&s) & 1;
    D.bok[r] = gft_rand_next(&s) % 7 != 0;
  }
  gf_frame *whole = frame_of_rows(&D, NULL, n);
  gf_frame *parts[3];
  int64_t cut1 = n / 3 + 5, cut2 = 2 * n / 3 - 3;
  gf_error err;
  assert_int_equal(gf_frame_slice(whole, 0, cut1, &parts[0], &err), GF_OK);
  assert_int_equal(gf_frame_slice(whole, cut1, cut2 - cut1, &parts[1], &err), GF_OK);
  assert_int_equal(gf_frame_slice(whole, cut2, n - cut2, &parts[2], &err), GF_OK);
  assert_int_equal(gf_frame_concat(parts, 3, NULL, &D.clean, &err), GF_OK);
  for (int p = 0; p < 3; p++) gf_frame_release(parts[p]);
  gf_frame_release(whole);
  int64_t before = gft_garbage_arrays_made();
  D.garbage = gft_garbage_frame(D.clean, seed + 1);
  assert_true(gft_garbage_arrays_made() - before == 3 * 5);
  assert_true(gf_frame_equals(D.clean, D.garbage));
  return D;
}

static void free_data(data *D) {
  free(D->k), free(D->s), free(D->i), free(D->d), free(D->b);
  free(D->kok), free(D->sok), free(D->iok), free(D->dok), free(D->bok);
  gf_frame_release(D->clean);
  gf_frame_release(D->garbage);
}

static int64_t rows_for_run(void) { return gft_sanitized() ? 30000 : 140000; }

/* ------------------------------------------------------------------ */
/* Running at every worker count and chunk size                        */
/* ------------------------------------------------------------------ */

static const int k_workers[] = {1, 2, 4};
static const int64_t k_chunks[] = {0, 777};
/* Runs the statement that follows once per (worker count, chunk size)
 * pair, with `w` and `c` declared as that pair (the inner one-pass loops
 * only declare them). */
#define FOR_EACH_RUN(w, c)                                \
  for (int w##_ = 0; w##_ < 3; w##_++)                    \
    for (int c##_ = 0; c##_ < 2; c##_++)                  \
      for (int w = k_workers[w##_], c##_once = 1; c##_once; c##_once = 0) \
        for (int64_t c = k_chunks[c##_]; c##_once; c##_once = 0)

static gf_parallel_options popts(int workers, int64_t chunk) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  o.chunk_rows = chunk;
  o.min_parallel_rows = 0;
  return o;
}

/* Value access by frame row (the outputs may have several batches). */
static const gf_array *at(const gf_frame *f, const char *name, int64_t row, int64_t *i) {
  int c = gf_schema_find(gf_frame_schema(f), name);
  if (c < 0) fail_msg("no column %s", name);
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t off = gf_frame_batch_offset(f, b);
    if (row < off + gf_frame_batch_rows(f, b)) {
      *i = row - off;
      return gf_frame_column(f, b, c);
    }
  }
  fail_msg("row %lld of %s out of range", (long long)row, name);
  return NULL;
}

static bool null_at(const gf_frame *f, const char *name, int64_t row) {
  int64_t i;
  const gf_array *a = at(f, name, row, &i);
  return gf_array_is_null(a, i);
}

static int64_t int_at(const gf_frame *f, const char *name, int64_t row) {
  int64_t i;
  const gf_array *a = at(f, name, row, &i);
  if (gf_array_is_null(a, i)) fail_msg("%s row %lld: null", name, (long long)row);
  return gf_array_get_int64(a, i);
}

static double dbl_at(const gf_frame *f, const char *name, int64_t row) {
  int64_t i;
  const gf_array *a = at(f, name, row, &i);
  if (gf_array_is_null(a, i)) fail_msg("%s row %lld: null", name, (long long)row);
  return gf_array_get_double(a, i);
}

static void assert_close(double got, double want, const char *what, int64_t row) {
  double tol = 1e-9 * fmax(1.0, fabs(want));
  if (!(fabs(got - want) <= tol))
    fail_msg("%s row %lld: got %.17g want %.17g", what, (long long)row, got, want);
}

/* The clean and garbage results of one call must be equal, bit for bit. */
static void assert_same(const gf_frame *clean, const gf_frame *garbage, const char *what, int w,
                        int64_t c) {
  if (!gf_frame_equals(clean, garbage))
    fail_msg("%s (workers %d, chunk %lld): garbage under nulls changed the result", what, w,
             (long long)c);
}

/* ------------------------------------------------------------------ */
/* Aggregates                                                          */
/* ------------------------------------------------------------------ */

/* Naive per-group statistics of i and d, over groups 0..NK-1 and then the
 * null group (index NK): exactly what the aggregates below must give. */
typedef struct gstats {
  int64_t rows, ni, nd, sum_i, min_i, max_i, first_i, last_i, uniq_i;
  double sum_d, min_d, max_d, var_d, med_d, q25_d, corr;
  int64_t top_i[3];
  int ntop;
} gstats;

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}
static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double quantile_sorted(const double *v, int64_t n, double q) {
  double pos = q * (double)(n - 1);
  int64_t lo = (int64_t)floor(pos), hi = (int64_t)ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - (double)lo);
}

/* group(r) = the group of row r: its key, NK for null, or 0 for all rows. */
static void naive_groups(const data *D, bool by_k, gstats *g, int ng) {
  memset(g, 0, sizeof *g * (size_t)ng);
  int64_t *iv = xcalloc((size_t)D->n, sizeof *iv);
  double *dv = xcalloc((size_t)D->n, sizeof *dv);
  for (int G = 0; G < ng; G++) {
    int64_t ni = 0, nd = 0, np = 0;
    double sx = 0, sy = 0;
    gstats *s = &g[G];
    for (int64_t r = 0; r < D->n; r++) {
      int grp = by_k ? (D->kok[r] ? D->k[r] : NK) : 0;
      if (grp != G) continue;
      s->rows++;
      if (D->iok[r]) {
        if (ni == 0) s->first_i = D->i[r];
        s->last_i = D->i[r];
        s->sum_i += D->i[r];
        iv[ni++] = D->i[r];
      }
      if (D->dok[r]) {
        s->sum_d += D->d[r];
        dv[nd++] = D->d[r];
      }
      if (D->iok[r] && D->dok[r]) {
        sx += (double)D->i[r];
        sy += D->d[r];
        np++;
      }
    }
    s->ni = ni;
    s->nd = nd;
    if (ni == 0 || nd < 2 || np < 2) fail_msg("group %d too small for the reference", G);
    qsort(iv, (size_t)ni, sizeof *iv, cmp_i64);
    qsort(dv, (size_t)nd, sizeof *dv, cmp_dbl);
    s->min_i = iv[0];
    s->max_i = iv[ni - 1];
    s->uniq_i = 1;
    for (int64_t j = 1; j < ni; j++) s->uniq_i += iv[j] != iv[j - 1];
    s->ntop = ni < 3 ? (int)ni : 3;
    for (int t = 0; t < s->ntop; t++) s->top_i[t] = iv[ni - 1 - t];
    s->min_d = dv[0];
    s->max_d = dv[nd - 1];
    s->med_d = quantile_sorted(dv, nd, 0.5);
    s->q25_d = quantile_sorted(dv, nd, 0.25);
    double mean = s->sum_d / (double)nd, m2 = 0;
    for (int64_t j = 0; j < nd; j++) m2 += (dv[j] - mean) * (dv[j] - mean);
    s->var_d = m2 / (double)(nd - 1);
    /* Pearson over the rows where both are valid, two passes. */
    double mx = sx / (double)np, my = sy / (double)np, cxy = 0, cxx = 0, cyy = 0;
    for (int64_t r = 0; r < D->n; r++) {
      int grp = by_k ? (D->kok[r] ? D->k[r] : NK) : 0;
      if (grp != G || !D->iok[r] || !D->dok[r]) continue;
      double x = (double)D->i[r] - mx, y = D->d[r] - my;
      cxy += x * y;
      cxx += x * x;
      cyy += y * y;
    }
    s->corr = cxy / sqrt(cxx * cyy);
  }
  free(iv);
  free(dv);
}

static const char *const k_aggs =
    "sum(i) as si, count(i) as ci, count(*) as ca, min(i) as mni, max(i) as mxi, "
    "first(i) as fi, last(i) as li, n_unique(i) as ui, mean(d) as md, sum(d) as sd, "
    "min(d) as mnd, max(d) as mxd, var(d) as vd, std(d) as stdd, median(d) as med, "
    "quantile(d, 0.25) as q1, corr(i, d) as cr";

static gf_frame *group_by(const gf_frame *f, const char *const *keys, int nkeys, const char *aggs,
                          int w, int64_t c) {
  gf_parallel_options po = popts(w, c);
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.sort_keys = true;
  go.parallel = &po;
  gf_frame *out = NULL;
  gf_error err;
  if (gf_group_by_text(f, keys, nkeys, aggs, &go, &out, &err) != GF_OK)
    fail_msg("group-by %s: %s", aggs, err.message);
  return out;
}

static void check_group_row(const gf_frame *r, int64_t row, const gstats *s) {
  assert_int_equal(int_at(r, "si", row), s->sum_i);
  assert_int_equal(int_at(r, "ci", row), s->ni);
  assert_int_equal(int_at(r, "ca", row), s->rows);
  assert_int_equal(int_at(r, "mni", row), s->min_i);
  assert_int_equal(int_at(r, "mxi", row), s->max_i);
  assert_int_equal(int_at(r, "fi", row), s->first_i);
  assert_int_equal(int_at(r, "li", row), s->last_i);
  assert_int_equal(int_at(r, "ui", row), s->uniq_i);
  assert_close(dbl_at(r, "md", row), s->sum_d / (double)s->nd, "mean(d)", row);
  assert_close(dbl_at(r, "sd", row), s->sum_d, "sum(d)", row);
  assert_true(dbl_at(r, "mnd", row) == s->min_d);
  assert_true(dbl_at(r, "mxd", row) == s->max_d);
  assert_close(dbl_at(r, "vd", row), s->var_d, "var(d)", row);
  assert_close(dbl_at(r, "stdd", row), sqrt(s->var_d), "std(d)", row);
  assert_close(dbl_at(r, "med", row), s->med_d, "median(d)", row);
  assert_close(dbl_at(r, "q1", row), s->q25_d, "quantile(d, 0.25)", row);
  assert_close(dbl_at(r, "cr", row), s->corr, "corr(i, d)", row);
}

static void groupby_aggregates_skip_garbage(void **state) {
  (void)state;
  data D = make_data(rows_for_run(), 11);
  gstats g[NK + 1], whole;
  naive_groups(&D, true, g, NK + 1);
  naive_groups(&D, false, &whole, 1);
  const char *key = "k";
  FOR_EACH_RUN(w, c) {
    /* Grouped: keys ascending, the one null group last. */
    gf_frame *r = group_by(D.garbage, &key, 1, k_aggs, w, c);
    assert_int_equal(gf_frame_num_rows(r), NK + 1);
    for (int G = 0; G <= NK; G++) {
      if (G < NK) assert_int_equal(int_at(r, "k", G), G);
      else assert_true(null_at(r, "k", G));
      check_group_row(r, G, &g[G]);
    }
    gf_frame *rc = group_by(D.clean, &key, 1, k_aggs, w, c);
    assert_same(rc, r, "group-by k", w, c);
    gf_frame_release(r);
    gf_frame_release(rc);
    /* Whole frame. */
    r = group_by(D.garbage, NULL, 0, k_aggs, w, c);
    assert_int_equal(gf_frame_num_rows(r), 1);
    check_group_row(r, 0, &whole);
    rc = group_by(D.clean, NULL, 0, k_aggs, w, c);
    assert_same(rc, r, "whole-frame aggregates", w, c);
    gf_frame_release(r);
    gf_frame_release(rc);
    /* top_k: per group its largest values, largest first. */
    r = group_by(D.garbage, &key, 1, "top_k(i, 3) as t", w, c);
    int64_t row = 0;
    for (int G = 0; G <= NK; G++)
      for (int t = 0; t < g[G].ntop; t++, row++) {
        if (G < NK) assert_int_equal(int_at(r, "k", row), G);
        else assert_true(null_at(r, "k", row));
        assert_int_equal(int_at(r, "t", row), g[G].top_i[t]);
      }
    assert_int_equal(gf_frame_num_rows(r), row);
    rc = group_by(D.clean, &key, 1, "top_k(i, 3) as t, top_k(d, 3) as td", w, c);
    gf_frame_release(r);
    r = group_by(D.garbage, &key, 1, "top_k(i, 3) as t, top_k(d, 3) as td", w, c);
    assert_same(rc, r, "top_k", w, c);
    gf_frame_release(r);
    gf_frame_release(rc);
  }
  free_data(&D);
}

/* String keys hash their bytes: garbage under a null key must not split
 * the null group, and string aggregates must not read under nulls. */
static void string_and_bool_keys_skip_garbage(void **state) {
  (void)state;
  data D = make_data(rows_for_run(), 12);
  /* Reference: groups in byte order of the pool strings, null last. */
  int order[NPOOL];
  for (int p = 0; p < NPOOL; p++) order[p] = p;
  for (int a = 1; a < NPOOL; a++)
    for (int b = a; b > 0 && strcmp(k_pool[order[b - 1]], k_pool[order[b]]) > 0; b--) {
      int t = order[b];
      order[b] = order[b - 1];
      order[b - 1] = t;
    }
  int64_t rows[NPOOL + 1] = {0}, sum[NPOOL + 1] = {0};
  for (int64_t r = 0; r < D.n; r++) {
    int G = D.sok[r] ? D.s[r] : NPOOL;
    rows[G]++;
    if (D.iok[r]) sum[G] += D.i[r];
  }
  const char *key = "s";
  const char *two[2] = {"s", "b"};
  FOR_EACH_RUN(w, c) {
    gf_frame *r = group_by(D.garbage, &key, 1, "count(*) as ca, sum(i) as si", w, c);
    assert_int_equal(gf_frame_num_rows(r), NPOOL + 1);
    for (int j = 0; j <= NPOOL; j++) {
      int G = j < NPOOL ? order[j] : NPOOL;
      if (G == NPOOL) assert_true(null_at(r, "s", j));
      else {
        int64_t i, len;
        const gf_array *sa = at(r, "s", j, &i);
        const char *v = gf_array_get_bytes(sa, i, &len);
        assert_int_equal(len, (int64_t)strlen(k_pool[G]));
        assert_memory_equal(v, k_pool[G], (size_t)len);
      }
      assert_int_equal(int_at(r, "ca", j), rows[G]);
      assert_int_equal(int_at(r, "si", j), sum[G]);
    }
    gf_frame_release(r);
    const char *aggs = "count(*) as ca, min(s) as mn, max(s) as mx, first(s) as f, last(s) as l, "
                       "n_unique(s) as u, count(s) as cs, sum(b) as sb, min(b) as mb";
    gf_frame *g1 = group_by(D.garbage, two, 2, aggs, w, c);
    gf_frame *c1 = group_by(D.clean, two, 2, aggs, w, c);
    assert_int_equal(gf_frame_num_rows(g1), (NPOOL + 1) * 3);
    assert_same(c1, g1, "group-by s, b", w, c);
    gf_frame_release(g1);
    gf_frame_release(c1);
  }
  free_data(&D);
}

/* ------------------------------------------------------------------ */
/* Expressions and filter                                              */
/* ------------------------------------------------------------------ */

/* Kleene truth values: 0 false, 1 true, 2 null. */
enum { F = 0, T = 1, N = 2 };
static int k_and(int a, int b) { return (a == F || b == F) ? F : (a == T && b == T) ? T : N; }
static int k_or(int a, int b) { return (a == T || b == T) ? T : (a == F && b == F) ? F : N; }

/* The predicates, each with its naive per-row truth value. */
typedef struct predicate {
  const char *text;
  int (*row)(const data *D, int64_t r);
} predicate;

static int p_i_gt(const data *D, int64_t r) { return D->iok[r] ? D->i[r] > 100 : N; }
static int p_d_le(const data *D, int64_t r) { return D->dok[r] ? D->d[r] <= 0.5 : N; }
static int p_k_ne(const data *D, int64_t r) { return D->kok[r] ? D->k[r] != 3 : N; }
static int p_s_eq(const data *D, int64_t r) {
  return D->sok[r] ? strcmp(k_pool[D->s[r]], "s3") == 0 : N;
}
static int p_b(const data *D, int64_t r) { return D->bok[r] ? D->b[r] : N; }
static int p_i_null(const data *D, int64_t r) { return !D->iok[r]; }
static int p_and(const data *D, int64_t r) { return k_and(p_d_le(D, r), p_k_ne(D, r)); }
static int p_or(const data *D, int64_t r) { return k_or(p_s_eq(D, r), p_b(D, r)); }
static int p_mix(const data *D, int64_t r) { return k_and(p_b(D, r), p_i_gt(D, r)); }
static int p_arith(const data *D, int64_t r) {
  if (!D->iok[r] || !D->kok[r]) return N;
  return D->i[r] * 3 - D->k[r] > 5;
}

static const predicate k_preds[] = {
    {"i > 100", p_i_gt},          {"d <= 0.5", p_d_le},          {"k != 3", p_k_ne},
    {"s = 's3'", p_s_eq},         {"b", p_b},                    {"i is null", p_i_null},
    {"d <= 0.5 and k != 3", p_and}, {"s = 's3' or b", p_or},     {"b and i > 100", p_mix},
    {"i * 3 - k > 5", p_arith},
};
#define NPREDS (int)(sizeof k_preds / sizeof k_preds[0])

static gf_frame *evaluate(const gf_frame *f, const char *text, int w, int64_t c) {
  gf_expr *e;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse %s: %s", text, err.message);
  gf_parallel_options o = popts(w, c);
  gf_frame *out = NULL;
  if (gf_evaluate(f, e, "v", &o, &out, &err) != GF_OK) fail_msg("%s: %s", text, err.message);
  gf_expr_release(e);
  return out;
}

static void predicates_evaluate_to_the_naive_truth(void **state) {
  (void)state;
  data D = make_data(rows_for_run() / 2, 13);
  FOR_EACH_RUN(w, c) {
    for (int p = 0; p < NPREDS; p++) {
      gf_frame *m = evaluate(D.garbage, k_preds[p].text, w, c);
      for (int64_t r = 0; r < D.n; r++) {
        int want = k_preds[p].row(&D, r);
        int64_t i;
        const gf_array *a = at(m, "v", r, &i);
        int got = gf_array_is_null(a, i) ? N : gf_array_get_bool(a, i);
        if (got != want)
          fail_msg("%s row %lld: got %d want %d (workers %d chunk %lld)", k_preds[p].text,
                   (long long)r, got, want, w, (long long)c);
      }
      gf_frame *mc = evaluate(D.clean, k_preds[p].text, w, c);
      assert_same(mc, m, k_preds[p].text, w, c);
      gf_frame_release(m);
      gf_frame_release(mc);
    }
  }
  free_data(&D);
}

/* Arithmetic and casts: a null in, a null out, the value otherwise. */
static void arithmetic_and_casts_evaluate_to_the_naive_values(void **state) {
  (void)state;
  data D = make_data(rows_for_run() / 2, 14);
  const char *others[] = {"cast(d as int64)", "cast(k as utf8)", "cast(i as int16)",
                          "cast(s as utf8)", "cast(b as int32)", "-i", "i % 7", "d / 4.0 - i",
                          "if(b, i, k)", "s is not null"};
  FOR_EACH_RUN(w, c) {
    gf_frame *sum = evaluate(D.garbage, "i + 7", w, c);
    gf_frame *mix = evaluate(D.garbage, "i * 3 - k", w, c);
    gf_frame *dbl = evaluate(D.garbage, "d * 2.0 + 1.0", w, c);
    gf_frame *cst = evaluate(D.garbage, "cast(i as float64)", w, c);
    for (int64_t r = 0; r < D.n; r++) {
      assert_int_equal(null_at(sum, "v", r), !D.iok[r]);
      if (D.iok[r]) assert_int_equal(int_at(sum, "v", r), D.i[r] + 7);
      bool ok = D.iok[r] && D.kok[r];
      assert_int_equal(null_at(mix, "v", r), !ok);
      if (ok) assert_int_equal(int_at(mix, "v", r), D.i[r] * 3 - D.k[r]);
      assert_int_equal(null_at(dbl, "v", r), !D.dok[r]);
      if (D.dok[r]) assert_true(dbl_at(dbl, "v", r) == D.d[r] * 2.0 + 1.0);
      assert_int_equal(null_at(cst, "v", r), !D.iok[r]);
      if (D.iok[r]) assert_true(dbl_at(cst, "v", r) == (double)D.i[r]);
    }
    gf_frame_release(sum), gf_frame_release(mix), gf_frame_release(dbl), gf_frame_release(cst);
    for (size_t x = 0; x < sizeof others / sizeof others[0]; x++) {
      gf_frame *g = evaluate(D.garbage, others[x], w, c);
      gf_frame *k = evaluate(D.clean, others[x], w, c);
      assert_same(k, g, others[x], w, c);
      gf_frame_release(g), gf_frame_release(k);
    }
  }
  free_data(&D);
}

static void filter_keeps_the_naive_rows(void **state) {
  (void)state;
  data D = make_data(rows_for_run() / 2, 15);
  int64_t *rows = xcalloc((size_t)D.n, sizeof *rows);
  for (int p = 0; p < NPREDS; p++) {
    int64_t m = 0;
    for (int64_t r = 0; r < D.n; r++)
      if (k_preds[p].row(&D, r) == T) rows[m++] = r;
    gf_frame *want = frame_of_rows(&D, rows, m);
    gf_expr *e;
    assert_int_equal(gf_expr_parse(k_preds[p].text, &e, NULL), GF_OK);
    FOR_EACH_RUN(w, c) {
      gf_parallel_options o = popts(w, c);
      gf_frame *got = NULL;
      gf_error err;
      if (gf_filter(D.garbage, e, &o, &got, &err) != GF_OK) fail_msg("%s", err.message);
      if (!gf_frame_equals(got, want))
        fail_msg("filter %s (workers %d chunk %lld): %lld rows, want %lld", k_preds[p].text, w,
                 (long long)c, (long long)gf_frame_num_rows(got), (long long)m);
      gf_frame_release(got);
    }
    gf_expr_release(e);
    gf_frame_release(want);
  }
  free(rows);
  free_data(&D);
}

/* ------------------------------------------------------------------ */
/* Sort, distinct, joins                                               */
/* ------------------------------------------------------------------ */

static const data *g_sort_data;

/* i ascending nulls first, then d descending nulls last, then row order. */
static int cmp_rows_i_d(const void *pa, const void *pb) {
  const data *D = g_sort_data;
  int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  if (D->iok[a] != D->iok[b]) return D->iok[a] ? 1 : -1;
  if (D->iok[a] && D->i[a] != D->i[b]) return D->i[a] < D->i[b] ? -1 : 1;
  if (D->dok[a] != D->dok[b]) return D->dok[a] ? -1 : 1;
  if (D->dok[a] && D->d[a] != D->d[b]) return D->d[a] > D->d[b] ? -1 : 1;
  return (a > b) - (a < b);
}

/* s descending nulls first, then k ascending nulls last, then row order. */
static int cmp_rows_s_k(const void *pa, const void *pb) {
  const data *D = g_sort_data;
  int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  if (D->sok[a] != D->sok[b]) return D->sok[a] ? 1 : -1;
  if (D->sok[a]) {
    int x = strcmp(k_pool[D->s[a]], k_pool[D->s[b]]);
    if (x != 0) return -x;
  }
  if (D->kok[a] != D->kok[b]) return D->kok[a] ? -1 : 1;
  if (D->kok[a] && D->k[a] != D->k[b]) return D->k[a] < D->k[b] ? -1 : 1;
  return (a > b) - (a < b);
}

static void sort_places_nulls_by_validity(void **state) {
  (void)state;
  data D = make_data(rows_for_run() / 2, 16);
  g_sort_data = &D;
  int64_t *perm = xcalloc((size_t)D.n, sizeof *perm);
  const struct {
    const char *spec;
    int (*cmp)(const void *, const void *);
  } cases[] = {{"i nulls first, d desc", cmp_rows_i_d}, {"s desc nulls first, k", cmp_rows_s_k}};
  for (int x = 0; x < 2; x++) {
    for (int64_t r = 0; r < D.n; r++) perm[r] = r;
    qsort(perm, (size_t)D.n, sizeof *perm, cases[x].cmp);
    gf_frame *want = frame_of_rows(&D, perm, D.n);
    gf_frame *want_top = frame_of_rows(&D, perm, 100);
    gf_sort_key *keys;
    int nkeys;
    assert_int_equal(gf_sort_keys_parse(cases[x].spec, &keys, &nkeys, NULL), GF_OK);
    FOR_EACH_RUN(w, c) {
      gf_parallel_options o = popts(w, c);
      gf_frame *got;
      assert_int_equal(gf_sort(D.garbage, keys, nkeys, 0, &o, &got, NULL), GF_OK);
      if (!gf_frame_equals(got, want))
        fail_msg("sort %s (workers %d chunk %lld)", cases[x].spec, w, (long long)c);
      gf_frame_release(got);
      assert_int_equal(gf_sort(D.garbage, keys, nkeys, 100, &o, &got, NULL), GF_OK);
      if (!gf_frame_equals(got, want_top))
        fail_msg("sort %s limit 100 (workers %d chunk %lld)", cases[x].spec, w, (long long)c);
      gf_frame_release(got);
    }
    gf_sort_keys_free(keys);
    gf_frame_release(want);
    gf_frame_release(want_top);
  }
  free(perm);
  free_data(&D);
}

/* Distinct keeps the first row of each key combination; all null keys are
 * one combination. */
static void distinct_treats_every_null_key_alike(void **state) {
  (void)state;
  data D = make_data(rows_for_run() / 2, 17);
  int64_t *rows = xcalloc((size_t)D.n, sizeof *rows);
  for (int x = 0; x < 2; x++) {
    /* x = 0: key k; x = 1: keys (s, b), coded as one small integer. */
    bool seen[(NPOOL + 1) * 3] = {0};
    int64_t m = 0;
    for (int64_t r = 0; r < D.n; r++) {
      int code = x == 0 ? (D.kok[r] ? D.k[r] : NK)
                        : (D.sok[r] ? D.s[r] : NPOOL) * 3 + (D.bok[r] ? D.b[r] : 2);
      if (!seen[code]) seen[code] = true, rows[m++] = r;
    }
    gf_frame *want = frame_of_rows(&D, rows, m);
    const char *k1[1] = {"k"}, *k2[2] = {"s", "b"};
    FOR_EACH_RUN(w, c) {
      gf_parallel_options o = popts(w, c);
      gf_frame *got;
      gf_error err;
      if (gf_distinct(D.garbage, x == 0 ? k1 : k2, x == 0 ? 1 : 2, &o, &got, &err) != GF_OK)
        fail_msg("%s", err.message);
      if (!gf_frame_equals(got, want))
        fail_msg("distinct %s (workers %d chunk %lld): %lld rows, want %lld", x ? "s, b" : "k",
                 w, (long long)c, (long long)gf_frame_num_rows(got), (long long)m);
      gf_frame_release(got);
    }
    gf_frame_release(want);
  }
  free(rows);
  free_data(&D);
}

/* Joins: null keys match nothing, whatever bytes they hide. The left side
 * is a slice of a garbage frame; the right a small garbage frame. */
static void join_keys_ignore_garbage_under_nulls(void **state) {
  (void)state;
  data L = make_data(20000, 18), R = make_data(90, 19);
  /* Rename the right side's columns so the output names are predictable. */
  gf_frame *rclean, *rgarb;
  {
    gf_array *cols[5];
    const char *names[5] = {"rk", "rs", "ri", "rd", "rb"};
    gf_frame *one;
    /* R's frames have three batches: combine the clean one, then garble it. */
    assert_int_equal(gf_frame_combine_batches(R.clean, NULL, &one, NULL), GF_OK);
    for (int c = 0; c < 5; c++) cols[c] = gf_frame_column(one, 0, c);
    assert_int_equal(gf_frame_from_columns(names, cols, 5, &rclean, NULL), GF_OK);
    gf_frame_release(one);
    rgarb = gft_garbage_frame(rclean, 77);
  }
  gf_frame *left;
  assert_int_equal(gf_frame_slice(L.garbage, 333, L.n - 333 - 101, &left, NULL), GF_OK);
  int64_t lo = 333, hi = L.n - 101;
  const struct {
    const char *lk, *rk;
  } keys[2] = {{"k", "rk"}, {"s", "rs"}};
  for (int x = 0; x < 2; x++) {
    /* Naive pairs in output order: left order, then right order. */
    int64_t cap = (hi - lo) * R.n, m = 0;
    int64_t *pl = xcalloc((size_t)cap, sizeof *pl), *pr = xcalloc((size_t)cap, sizeof *pr);
    int64_t left_unmatched = 0;
    for (int64_t l = lo; l < hi; l++) {
      int64_t before = m;
      for (int64_t r = 0; r < R.n; r++) {
        bool match = x == 0 ? (L.kok[l] && R.kok[r] && L.k[l] == R.k[r])
                            : (L.sok[l] && R.sok[r] && L.s[l] == R.s[r]);
        if (match) pl[m] = l, pr[m] = r, m++;
      }
      left_unmatched += m == before;
    }
    FOR_EACH_RUN(w, c) {
      gf_parallel_options po = popts(w, c);
      gf_join_options jo;
      gf_join_options_init(&jo);
      jo.parallel = &po;
      gf_frame *got;
      gf_error err;
      if (gf_join(left, rgarb, &keys[x].lk, &keys[x].rk, 1, GF_JOIN_INNER, &jo, &got, &err) !=
          GF_OK)
        fail_msg("%s", err.message);
      assert_int_equal(gf_frame_num_rows(got), m);
      for (int64_t j = 0; j < m; j++) {
        int64_t l = pl[j], r = pr[j];
        assert_int_equal(null_at(got, "i", j), !L.iok[l]);
        if (L.iok[l]) assert_int_equal(int_at(got, "i", j), L.i[l]);
        assert_int_equal(null_at(got, "ri", j), !R.iok[r]);
        if (R.iok[r]) assert_int_equal(int_at(got, "ri", j), R.i[r]);
      }
      gf_frame_release(got);
      /* Left join: every left row once at least; unmatched ones (null
       * keys among them) once with nulls on the right. */
      if (gf_join(left, rgarb, &keys[x].lk, &keys[x].rk, 1, GF_JOIN_LEFT, &jo, &got, &err) != GF_OK)
        fail_msg("%s", err.message);
      assert_int_equal(gf_frame_num_rows(got), m + left_unmatched);
      gf_frame *ref;
      assert_int_equal(
          gf_join(left, rclean, &keys[x].lk, &keys[x].rk, 1, GF_JOIN_LEFT, &jo, &ref, &err), GF_OK);
      assert_same(ref, got, "left join", w, c);
      gf_frame_release(got), gf_frame_release(ref);
      /* Anti join: the left rows without a match, null keys included. */
      assert_int_equal(
          gf_join(left, rgarb, &keys[x].lk, &keys[x].rk, 1, GF_JOIN_ANTI, &jo, &got, &err), GF_OK);
      assert_int_equal(gf_frame_num_rows(got), left_unmatched);
      gf_frame_release(got);
    }
    free(pl), free(pr);
  }
  gf_frame_release(left);
  gf_frame_release(rclean), gf_frame_release(rgarb);
  free_data(&L), free_data(&R);
}

/* ------------------------------------------------------------------ */
/* Writers and describe                                                */
/* ------------------------------------------------------------------ */

/* The CSV text of f (whole file in memory, caller frees). */
static char *csv_text(const gf_frame *f, size_t *len) {
  FILE *tmp = tmpfile();
  assert_non_null(tmp);
  gf_error err;
  if (gf_write_csv_stream(f, tmp, NULL, &err) != GF_OK) fail_msg("%s", err.message);
  long n = ftell(tmp);
  assert_true(n >= 0);
  rewind(tmp);
  char *buf = xcalloc((size_t)n + 1, 1);
  assert_int_equal(fread(buf, 1, (size_t)n, tmp), (size_t)n);
  fclose(tmp);
  *len = (size_t)n;
  return buf;
}

static void writers_write_nulls_as_nulls(void **state) {
  (void)state;
  data D = make_data(rows_for_run() / 4, 20);
  /* CSV: column i alone against a naive rendering, then the whole frame
   * against the clean twin's text. */
  const char *icol = "i";
  gf_frame *only_i;
  assert_int_equal(gf_select(D.garbage, &icol, 1, &only_i, NULL), GF_OK);
  size_t len, want_len = 0;
  char *got = csv_text(only_i, &len);
  char *want = xcalloc((size_t)D.n * 24 + 8, 1);
  want_len += (size_t)sprintf(want, "i\n");
  for (int64_t r = 0; r < D.n; r++)
    want_len += D.iok[r] ? (size_t)sprintf(want + want_len, "%lld\n", (long long)D.i[r])
                         : (size_t)sprintf(want + want_len, "\n");
  assert_int_equal(len, want_len);
  assert_memory_equal(got, want, len);
  free(got), free(want);
  gf_frame_release(only_i);
  size_t glen, clen;
  char *g = csv_text(D.garbage, &glen), *c = csv_text(D.clean, &clen);
  assert_int_equal(glen, clen);
  assert_memory_equal(g, c, glen);
  free(g), free(c);

  /* IPC, file and stream: what is read back is the clean frame. */
  FOR_EACH_RUN(w, ch) {
    gf_parallel_options po = popts(w, ch);
    gf_ipc_write_options wo;
    gf_ipc_write_options_init(&wo);
    wo.parallel = &po;
    for (int as_file = 0; as_file < 2; as_file++) {
      void *bytes;
      size_t n;
      gf_error err;
      if (gf_write_ipc_memory(D.garbage, as_file, &wo, &bytes, &n, &err) != GF_OK)
        fail_msg("%s", err.message);
      gf_frame *back;
      gf_status st = as_file ? gf_read_ipc_file_buffer(bytes, n, NULL, &back, &err)
                             : gf_read_ipc_stream_buffer(bytes, n, NULL, &back, &err);
      if (st != GF_OK) fail_msg("%s", err.message);
      assert_true(gf_frame_equals(back, D.clean));
      /* What the writer copied from under the nulls now arrives through
       * the IPC reader: the aggregates must not see it either. */
      const char *key = "k";
      gf_frame *gb = group_by(back, &key, 1, k_aggs, w, ch);
      gf_frame *gc = group_by(D.clean, &key, 1, k_aggs, w, ch);
      assert_same(gc, gb, "group-by of an IPC read-back", w, ch);
      gf_frame_release(gb), gf_frame_release(gc);
      gf_frame_release(back);
      gf_mem_free(bytes);
    }
  }
  free_data(&D);
}

static void describe_skips_garbage(void **state) {
  (void)state;
  data D = make_data(rows_for_run() / 4, 21);
  int64_t cnt = 0, mn = INT64_MAX, mx = INT64_MIN;
  double sum = 0;
  for (int64_t r = 0; r < D.n; r++)
    if (D.iok[r]) {
      cnt++;
      sum += (double)D.i[r];
      if (D.i[r] < mn) mn = D.i[r];
      if (D.i[r] > mx) mx = D.i[r];
    }
  FOR_EACH_RUN(w, c) {
    gf_parallel_options o = popts(w, c);
    gf_frame *g, *k;
    assert_int_equal(gf_describe(D.garbage, &o, &g, NULL), GF_OK);
    assert_int_equal(gf_describe(D.clean, &o, &k, NULL), GF_OK);
    assert_same(k, g, "describe", w, c);
    /* Rows: count, null_count, n_unique, mean, std, min, 25%, 50%, 75%, max. */
    assert_true(dbl_at(g, "i", 0) == (double)cnt);
    assert_true(dbl_at(g, "i", 1) == (double)(D.n - cnt));
    assert_close(dbl_at(g, "i", 3), sum / (double)cnt, "describe mean", 3);
    assert_true(dbl_at(g, "i", 5) == (double)mn);
    assert_true(dbl_at(g, "i", 9) == (double)mx);
    gf_frame_release(g), gf_frame_release(k);
  }
  free_data(&D);
}

/* ------------------------------------------------------------------ */
/* Every type: the garbage twin gives what the clean frame gives        */
/* ------------------------------------------------------------------ */

/* Calls of the every-type test that succeeded (so a test where every call
 * failed alike cannot pass unnoticed). */
static int64_t g_ok_outcomes;

/* Runs one operation on both frames; either both fail with one status or
 * both succeed with equal frames. */
static void same_outcome(gf_status sc, gf_frame *rc, gf_status sg, gf_frame *rg, const char *what,
                         const char *col, int w, int64_t c) {
  if (sc != sg)
    fail_msg("%s on %s: status %d clean, %d garbage (workers %d)", what, col, sc, sg, w);
  if (sc == GF_OK) {
    g_ok_outcomes++;
    if (!gf_frame_equals(rc, rg))
      fail_msg("%s on %s (workers %d chunk %lld): garbage under nulls changed the result", what,
               col, w, (long long)c);
    gf_frame_release(rc), gf_frame_release(rg);
  }
}

static void every_type_ignores_garbage_under_nulls(void **state) {
  (void)state;
  gf_datatype all[GFT_MAX_TYPES], types[GFT_MAX_TYPES];
  int n = gft_all_types(all, GFT_MAX_TYPES), nt = 0;
  for (int t = 0; t < n; t++)
    if (all[t].id != GF_TYPE_NULL) types[nt++] = all[t];
  int64_t rows = gft_sanitized() ? 6000 : 20000;
  gf_frame *clean;
  assert_int_equal(gft_random_frame(types, nt, rows, 3, 0.3, 99, NULL, &clean), GF_OK);
  int64_t before = gft_garbage_arrays_made();
  gf_frame *garb = gft_garbage_frame(clean, 100);
  assert_true(gft_garbage_arrays_made() - before >= 3 * (nt - 1));
  assert_true(gf_frame_equals(clean, garb));
  const char *aggs[] = {"count(%s)", "min(%s)", "max(%s)", "first(%s)", "last(%s)",
                        "n_unique(%s)", "sum(%s)", "mean(%s)", "var(%s)", "median(%s)",
                        "top_k(%s, 2)"};
  for (int col = 0; col < nt; col++) {
    char name[16];
    snprintf(name, sizeof name, "c%d", col);
    const char *key = name;
    for (int wi = 0; wi < 3; wi++) {
      int w = k_workers[wi];
      int64_t c = wi == 1 ? 777 : 0;
      gf_parallel_options po = popts(w, c);
      gf_groupby_options go;
      gf_groupby_options_init(&go);
      go.parallel = &po;
      gf_frame *rc = NULL, *rg = NULL;
      gf_status sc, sg;
      /* As a group-by key (counting rows per group, first-appearance order). */
      sc = gf_group_by_text(clean, &key, 1, "count(*) as n", &go, &rc, NULL);
      sg = gf_group_by_text(garb, &key, 1, "count(*) as n", &go, &rg, NULL);
      same_outcome(sc, rc, sg, rg, "group-by key", name, w, c);
      /* As an aggregate input, whole frame and grouped by c0 (bool). */
      for (size_t a = 0; a < sizeof aggs / sizeof aggs[0]; a++) {
        char text[64];
        snprintf(text, sizeof text, aggs[a], name);
        const char *k0 = "c0";
        for (int g = 0; g < 2; g++) {
          sc = gf_group_by_text(clean, &k0, g, text, &go, &rc, NULL);
          sg = gf_group_by_text(garb, &k0, g, text, &go, &rg, NULL);
          same_outcome(sc, rc, sg, rg, text, name, w, c);
        }
      }
      /* As a sort key, both null placements. */
      gf_sort_key sk = {name, wi == 2, wi != 1};
      sc = gf_sort(clean, &sk, 1, 0, &po, &rc, NULL);
      sg = gf_sort(garb, &sk, 1, 0, &po, &rg, NULL);
      same_outcome(sc, rc, sg, rg, "sort", name, w, c);
      sc = gf_sort(clean, &sk, 1, 50, &po, &rc, NULL);
      sg = gf_sort(garb, &sk, 1, 50, &po, &rg, NULL);
      same_outcome(sc, rc, sg, rg, "sort limit 50", name, w, c);
      /* Distinct, a self-join and expressions on the column. */
      sc = gf_distinct(clean, &key, 1, &po, &rc, NULL);
      sg = gf_distinct(garb, &key, 1, &po, &rg, NULL);
      same_outcome(sc, rc, sg, rg, "distinct", name, w, c);
      gf_frame *lc, *lg;
      assert_int_equal(gf_frame_slice(clean, 0, 400, &lc, NULL), GF_OK);
      assert_int_equal(gf_frame_slice(garb, 0, 400, &lg, NULL), GF_OK);
      gf_join_options jo;
      gf_join_options_init(&jo);
      jo.parallel = &po;
      sc = gf_join(lc, lc, &key, &key, 1, GF_JOIN_INNER, &jo, &rc, NULL);
      sg = gf_join(lg, lg, &key, &key, 1, GF_JOIN_INNER, &jo, &rg, NULL);
      same_outcome(sc, rc, sg, rg, "self-join", name, w, c);
      gf_frame_release(lc), gf_frame_release(lg);
      const char *exprs[] = {"%s is null", "%s = %s", "%s < %s", "cast(%s as utf8)",
                             "cast(%s as float64)", "%s + 1", "-%s"};
      for (size_t e = 0; e < sizeof exprs / sizeof exprs[0]; e++) {
        char text[96];
        snprintf(text, sizeof text, exprs[e], name, name);
        gf_expr *ex;
        assert_int_equal(gf_expr_parse(text, &ex, NULL), GF_OK);
        sc = gf_evaluate(clean, ex, "v", &po, &rc, NULL);
        sg = gf_evaluate(garb, ex, "v", &po, &rg, NULL);
        same_outcome(sc, rc, sg, rg, text, name, w, c);
        gf_expr_release(ex);
      }
    }
  }
  /* Per column: the key, 11 aggregates twice, 2 sorts, distinct, the
   * self-join and 7 expressions, at 3 worker counts; most apply to most
   * types. */
  assert_true(g_ok_outcomes > (int64_t)nt * 3 * 20);
  /* Writers and describe over all the types at once. */
  size_t glen, clen;
  char *g = csv_text(garb, &glen), *c = csv_text(clean, &clen);
  assert_int_equal(glen, clen);
  assert_memory_equal(g, c, glen);
  free(g), free(c);
  void *bytes;
  size_t nbytes;
  assert_int_equal(gf_write_ipc_memory(garb, true, NULL, &bytes, &nbytes, NULL), GF_OK);
  gf_frame *back;
  assert_int_equal(gf_read_ipc_file_buffer(bytes, nbytes, NULL, &back, NULL), GF_OK);
  assert_true(gf_frame_equals(back, clean));
  gf_frame_release(back);
  gf_mem_free(bytes);
  for (int w = 1; w <= 4; w *= 2) {
    gf_parallel_options po = popts(w, 0);
    gf_frame *dc, *dg;
    assert_int_equal(gf_describe(clean, &po, &dc, NULL), GF_OK);
    assert_int_equal(gf_describe(garb, &po, &dg, NULL), GF_OK);
    assert_same(dc, dg, "describe (every type)", w, 0);
    gf_frame_release(dc), gf_frame_release(dg);
  }
  gf_frame_release(clean), gf_frame_release(garb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(groupby_aggregates_skip_garbage),
      cmocka_unit_test(string_and_bool_keys_skip_garbage),
      cmocka_unit_test(predicates_evaluate_to_the_naive_truth),
      cmocka_unit_test(arithmetic_and_casts_evaluate_to_the_naive_values),
      cmocka_unit_test(filter_keeps_the_naive_rows),
      cmocka_unit_test(sort_places_nulls_by_validity),
      cmocka_unit_test(distinct_treats_every_null_key_alike),
      cmocka_unit_test(join_keys_ignore_garbage_under_nulls),
      cmocka_unit_test(writers_write_nulls_as_nulls),
      cmocka_unit_test(describe_skips_garbage),
      cmocka_unit_test(every_type_ignores_garbage_under_nulls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
