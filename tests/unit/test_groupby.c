/* gf_group_by: every aggregate against a naive reference over every key
 * type, determinism across workers / chunk sizes / strategies (bitwise),
 * edge cases (empty, all-null, one group, unique rows, NaN and -0.0 keys),
 * integer overflow, top_k rules, aggregate expressions, allocation
 * failures and cancellation. */
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

#include "data/array_internal.h"
#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe/testing.h"

/* ---- small helpers ------------------------------------------------------ */

static const gf_array *cell_arr(const gf_frame *f, int c, int64_t row, int64_t *i) {
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

static bool is_null_at(const gf_frame *f, int c, int64_t row) {
  int64_t i;
  const gf_array *a = cell_arr(f, c, row, &i);
  return gf_array_is_null(a, i);
}

static void fmt_cell(const gf_frame *f, int c, int64_t row, char *buf, size_t n) {
  int64_t i;
  const gf_array *a = cell_arr(f, c, row, &i);
  if (gf_array_is_null(a, i)) snprintf(buf, n, "\x01null");
  else gf_array_format_value(a, i, buf, n);
}

static double dbl_at(const gf_frame *f, int c, int64_t row) {
  int64_t i;
  const gf_array *a = cell_arr(f, c, row, &i);
  return gf_array_get_double(a, i);
}

static int64_t i64_at(const gf_frame *f, int c, int64_t row) {
  int64_t i;
  const gf_array *a = cell_arr(f, c, row, &i);
  return gf_array_get_int64(a, i);
}

static gf_parallel_options popts(int workers, int64_t chunk, gf_strategy s) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  o.chunk_rows = chunk;
  o.strategy = s;
  o.min_parallel_rows = 0;
  return o;
}

static gf_frame *run_text(const gf_frame *f, const char *const *keys, int nkeys, const char *aggs,
                          const gf_parallel_options *po, bool sort) {
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = po;
  go.sort_keys = sort;
  gf_frame *r = NULL;
  gf_error err;
  gf_status st = gf_group_by_text(f, keys, nkeys, aggs, &go, &r, &err);
  if (st != GF_OK) fail_msg("group by %s: %s", aggs, err.message);
  return r;
}

/* Bitwise equality of two frames, floats included. */
static void assert_bitwise_equal(const gf_frame *a, const gf_frame *b) {
  assert_true(gf_frame_equals(a, b));
  assert_int_equal(gf_frame_num_rows(a), gf_frame_num_rows(b));
  for (int c = 0; c < gf_frame_num_columns(a); c++) {
    gf_datatype t = gf_schema_field(gf_frame_schema(a), c)->type;
    if (t.id != GF_TYPE_FLOAT64) continue;
    for (int64_t r = 0; r < gf_frame_num_rows(a); r++) {
      if (is_null_at(a, c, r)) {
        assert_true(is_null_at(b, c, r));
        continue;
      }
      double x = dbl_at(a, c, r), y = dbl_at(b, c, r);
      if (memcmp(&x, &y, sizeof x) != 0) fail_msg("column %d row %lld: %.17g vs %.17g", c, (long long)r, x, y);
    }
  }
}

/* ---- the naive reference --------------------------------------------------- */

typedef struct ref_group {
  int64_t *rows;
  int64_t n;
} ref_group;

typedef struct ref_row {
  char *key;
  int64_t row;
} ref_row;

static int cmp_ref_row(const void *x, const void *y) {
  const ref_row *a = x, *b = y;
  int c = strcmp(a->key, b->key);
  if (c) return c;
  return a->row < b->row ? -1 : a->row > b->row;
}

static int cmp_first(const void *x, const void *y) {
  const ref_group *a = x, *b = y;
  return a->rows[0] < b->rows[0] ? -1 : a->rows[0] > b->rows[0];
}

/* Groups of f by key columns (formatted values), in first-appearance
 * order, each with its rows in order. */
static ref_group *ref_groups(const gf_frame *f, const int *kc, int nk, int64_t *ng) {
  int64_t n = gf_frame_num_rows(f);
  ref_row *rr = calloc((size_t)(n ? n : 1), sizeof *rr);
  for (int64_t r = 0; r < n; r++) {
    char buf[4096] = "";
    size_t len = 0;
    for (int k = 0; k < nk; k++) {
      char cell[512];
      fmt_cell(f, kc[k], r, cell, sizeof cell);
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s\x1f", cell);
    }
    rr[r].key = strdup(buf);
    rr[r].row = r;
  }
  qsort(rr, (size_t)n, sizeof *rr, cmp_ref_row);
  ref_group *g = calloc((size_t)(n ? n : 1), sizeof *g);
  int64_t G = 0;
  for (int64_t i = 0; i < n; i++) {
    if (i == 0 || strcmp(rr[i].key, rr[i - 1].key) != 0) {
      g[G].rows = malloc(sizeof(int64_t) * (size_t)n);
      G++;
    }
    g[G - 1].rows[g[G - 1].n++] = rr[i].row;
  }
  for (int64_t i = 0; i < n; i++) free(rr[i].key);
  free(rr);
  qsort(g, (size_t)G, sizeof *g, cmp_first);
  if (nk == 0) {
    /* whole frame: one group even when empty */
    for (int64_t i = 0; i < G; i++) free(g[i].rows);
    free(g);
    g = calloc(1, sizeof *g);
    g[0].rows = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    for (int64_t r = 0; r < n; r++) g[0].rows[r] = r;
    g[0].n = n;
    G = 1;
  }
  *ng = G;
  return g;
}

static void free_ref(ref_group *g, int64_t G) {
  for (int64_t i = 0; i < G; i++) free(g[i].rows);
  free(g);
}

static int cmp_dbl_total(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);
  return a < b ? -1 : a > b;
}

static int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static void assert_close(double got, double want, const char *what, int64_t g) {
  if (isnan(want) && isnan(got)) return;
  double tol = 1e-9 * fmax(1.0, fabs(want));
  if (!(fabs(got - want) <= tol)) fail_msg("%s group %lld: got %.17g want %.17g", what, (long long)g, got, want);
}

/* numpy linear quantile of sorted xs. */
static double ref_quantile(const double *xs, int64_t m, double q) {
  double pos = q * (double)(m - 1);
  int64_t lo = (int64_t)floor(pos);
  double t = pos - (double)lo;
  if (lo + 1 >= m || t == 0) return xs[lo];
  return xs[lo] + (xs[lo + 1] - xs[lo]) * t;
}

/* Checks one aggregate output column `oc` of r against the reference over
 * column vc (and vc2) of f. `kind` is the aggregate name. */
static void check_agg(const gf_frame *f, const ref_group *g, int64_t G, const gf_frame *r, int oc,
                      const char *kind, int vc, int vc2, double q) {
  assert_int_equal(gf_frame_num_rows(r), G);
  gf_datatype vt = vc >= 0 ? gf_schema_field(gf_frame_schema(f), vc)->type : gf_type(GF_TYPE_INT64);
  bool isfloat = vt.id == GF_TYPE_FLOAT32 || vt.id == GF_TYPE_FLOAT64;
  for (int64_t gi = 0; gi < G; gi++) {
    const ref_group *grp = &g[gi];
    double *xs = malloc(sizeof(double) * (size_t)(grp->n + 1));
    double *ys = malloc(sizeof(double) * (size_t)(grp->n + 1));
    int64_t *rs = malloc(sizeof(int64_t) * (size_t)(grp->n + 1));
    int64_t m = 0;
    for (int64_t j = 0; j < grp->n; j++) {
      int64_t row = grp->rows[j];
      if (vc >= 0 && is_null_at(f, vc, row)) continue;
      if (vc2 >= 0 && is_null_at(f, vc2, row)) continue;
      rs[m] = row;
      xs[m] = vc >= 0 ? dbl_at(f, vc, row) : 0;
      ys[m] = vc2 >= 0 ? dbl_at(f, vc2, row) : 0;
      m++;
    }
    bool onull = is_null_at(r, oc, gi);
    char got[512], want[512];
    if (!strcmp(kind, "count_all")) {
      assert_false(onull);
      assert_int_equal(i64_at(r, oc, gi), grp->n);
    } else if (!strcmp(kind, "count")) {
      assert_int_equal(i64_at(r, oc, gi), m);
    } else if (!strcmp(kind, "sum")) {
      if (m == 0) {
        assert_true(onull);
      } else if (isfloat) {
        double s = 0;
        for (int64_t j = 0; j < m; j++) s += xs[j];
        assert_close(dbl_at(r, oc, gi), s, "sum", gi);
      } else {
        int64_t s = 0;
        for (int64_t j = 0; j < m; j++) s += i64_at(f, vc, rs[j]);
        assert_int_equal(i64_at(r, oc, gi), s);
      }
    } else if (!strcmp(kind, "mean")) {
      if (m == 0) {
        assert_true(onull);
      } else {
        double s = 0;
        for (int64_t j = 0; j < m; j++) s += xs[j];
        assert_close(dbl_at(r, oc, gi), s / (double)m, "mean", gi);
      }
    } else if (!strcmp(kind, "var") || !strcmp(kind, "std")) {
      if (m < 2) {
        assert_true(onull);
      } else {
        double s = 0, ss = 0;
        for (int64_t j = 0; j < m; j++) s += xs[j];
        double mean = s / (double)m;
        for (int64_t j = 0; j < m; j++) ss += (xs[j] - mean) * (xs[j] - mean);
        double var = ss / (double)(m - 1);
        double want_v = !strcmp(kind, "std") ? sqrt(var) : var;
        double got_v = dbl_at(r, oc, gi);
        double tol = 1e-7 * fmax(1.0, want_v);
        if (fabs(got_v - want_v) > tol) fail_msg("%s group %lld: %.17g vs %.17g", kind, (long long)gi, got_v, want_v);
      }
    } else if (!strcmp(kind, "corr")) {
      if (m < 2) {
        assert_true(onull);
      } else {
        double mx = 0, my = 0;
        for (int64_t j = 0; j < m; j++) mx += xs[j], my += ys[j];
        mx /= (double)m;
        my /= (double)m;
        double sxy = 0, sxx = 0, syy = 0;
        for (int64_t j = 0; j < m; j++) {
          sxy += (xs[j] - mx) * (ys[j] - my);
          sxx += (xs[j] - mx) * (xs[j] - mx);
          syy += (ys[j] - my) * (ys[j] - my);
        }
        double want_c = sxy / sqrt(sxx * syy), got_c = dbl_at(r, oc, gi);
        if (!(isnan(want_c) && isnan(got_c)) && fabs(got_c - want_c) > 1e-6)
          fail_msg("corr group %lld: %.17g vs %.17g", (long long)gi, got_c, want_c);
      }
    } else if (!strcmp(kind, "median") || !strcmp(kind, "quantile")) {
      if (m == 0) {
        assert_true(onull);
      } else {
        qsort(xs, (size_t)m, sizeof *xs, cmp_dbl_total);
        assert_close(dbl_at(r, oc, gi), ref_quantile(xs, m, q), kind, gi);
      }
    } else if (!strcmp(kind, "min") || !strcmp(kind, "max") || !strcmp(kind, "first") || !strcmp(kind, "last")) {
      fmt_cell(r, oc, gi, got, sizeof got);
      if (m == 0) {
        snprintf(want, sizeof want, "\x01null");
      } else {
        int64_t best = rs[0];
        if (!strcmp(kind, "last")) best = rs[m - 1];
        for (int64_t j = 1; j < m && (!strcmp(kind, "min") || !strcmp(kind, "max")); j++) {
          char a[512], b[512];
          int c;
          if (vt.id == GF_TYPE_UTF8 || vt.id == GF_TYPE_LARGE_UTF8 || vt.id == GF_TYPE_DICTIONARY) {
            int64_t i1, i2, l1, l2;
            const gf_array *a1 = cell_arr(f, vc, rs[j], &i1), *a2 = cell_arr(f, vc, best, &i2);
            const char *p1 = gf_array_get_bytes(a1, i1, &l1), *p2 = gf_array_get_bytes(a2, i2, &l2);
            int64_t mn = l1 < l2 ? l1 : l2;
            c = memcmp(p1, p2, (size_t)mn);
            if (!c) c = l1 < l2 ? -1 : l1 > l2;
            (void)a;
            (void)b;
          } else {
            double x = dbl_at(f, vc, rs[j]), y = dbl_at(f, vc, best);
            c = cmp_dbl_total(&x, &y);
            if (!c && x == 0 && y == 0) c = signbit(y) - signbit(x);
          }
          if (!strcmp(kind, "min") ? c < 0 : c > 0) best = rs[j];
        }
        fmt_cell(f, vc, best, want, sizeof want);
      }
      if (strcmp(got, want) != 0) fail_msg("%s group %lld: got %s want %s", kind, (long long)gi, got, want);
    } else if (!strcmp(kind, "n_unique")) {
      char **vals = malloc(sizeof(char *) * (size_t)(m + 1));
      for (int64_t j = 0; j < m; j++) {
        fmt_cell(f, vc, rs[j], want, sizeof want);
        vals[j] = strdup(want);
      }
      qsort(vals, (size_t)m, sizeof *vals, cmp_str);
      int64_t d = 0;
      for (int64_t j = 0; j < m; j++) d += j == 0 || strcmp(vals[j], vals[j - 1]) != 0;
      for (int64_t j = 0; j < m; j++) free(vals[j]);
      free(vals);
      assert_int_equal(i64_at(r, oc, gi), d);
    } else {
      fail_msg("unknown kind %s", kind);
    }
    free(xs);
    free(ys);
    free(rs);
  }
}

/* Checks the key columns of r (first nk columns) against the reference. */
static void check_keys(const gf_frame *f, const int *kc, int nk, const ref_group *g, int64_t G,
                       const gf_frame *r) {
  assert_int_equal(gf_frame_num_rows(r), G);
  for (int64_t gi = 0; gi < G; gi++)
    for (int k = 0; k < nk; k++) {
      char got[512], want[512];
      fmt_cell(r, k, gi, got, sizeof got);
      fmt_cell(f, kc[k], g[gi].rows[0], want, sizeof want);
      if (strcmp(got, want) != 0) fail_msg("key %d group %lld: got %s want %s", k, (long long)gi, got, want);
    }
}

/* ---- data ------------------------------------------------------------------- */

/* Ints in [lo, hi] with nulls. */
static gf_array *int_col(gf_datatype t, int64_t n, int64_t lo, int64_t hi, double nullp, uint64_t *s) {
  int64_t *v = malloc(sizeof *v * (size_t)n);
  bool *ok = malloc(sizeof *ok * (size_t)n);
  for (int64_t i = 0; i < n; i++) {
    v[i] = lo + (int64_t)(gft_rand_next(s) % (uint64_t)(hi - lo + 1));
    ok[i] = (double)(gft_rand_next(s) % 1000) >= nullp * 1000;
  }
  gf_array *a = gft_int64_array(t, v, ok, n);
  free(v);
  free(ok);
  return a;
}

static gf_array *dbl_col(int64_t n, int levels, double nullp, uint64_t *s) {
  double *v = malloc(sizeof *v * (size_t)n);
  bool *ok = malloc(sizeof *ok * (size_t)n);
  for (int64_t i = 0; i < n; i++) {
    uint64_t x = gft_rand_next(s);
    v[i] = levels ? (double)(x % (uint64_t)levels) * 0.5 - 3 : (double)(x % 1000000) / 1000.0;
    ok[i] = (double)(gft_rand_next(s) % 1000) >= nullp * 1000;
  }
  gf_array *a = gft_double_array(gf_type(GF_TYPE_FLOAT64), v, ok, n);
  free(v);
  free(ok);
  return a;
}

static gf_array *str_col(gf_datatype t, int64_t n, int levels, double nullp, uint64_t *s) {
  const char **v = malloc(sizeof *v * (size_t)n);
  char (*buf)[24] = malloc(sizeof *buf * (size_t)n);
  for (int64_t i = 0; i < n; i++) {
    snprintf(buf[i], sizeof buf[i], "id%05d", (int)(gft_rand_next(s) % (uint64_t)levels));
    v[i] = (double)(gft_rand_next(s) % 1000) >= nullp * 1000 ? buf[i] : NULL;
  }
  gf_array *a = gft_string_array(t, v, n);
  free(v);
  free(buf);
  return a;
}

/* The test frame: keys of many types, values with nulls, in `nb` batches.
 * Columns: kdict, ksmall(int16 0..40), kwide(int64 wide), kstr(utf8 300
 * levels), kflt(float64 30 levels), kbool, kdate, kmany(int32 ~n/2 levels),
 * v1 (int32 1..5), v2 (int64 -100..100), v3 (float64), vs (utf8). */
#define NCOLS 12
static const char *const COLS[NCOLS] = {"kdict", "ksmall", "kwide", "kstr", "kflt", "kbool", "kdate",
                                        "kmany", "v1", "v2", "v3", "vs"};

static gf_frame *make_frame(int64_t n, int nb, uint64_t seed) {
  uint64_t s = seed;
  gf_array **cols = calloc((size_t)(NCOLS * nb), sizeof *cols);
  for (int b = 0; b < nb; b++) {
    int64_t len = n * (b + 1) / nb - n * b / nb;
    gf_array **c = cols + b * NCOLS;
    c[0] = str_col(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), len, 60, 0.05, &s);
    c[1] = int_col(gf_type(GF_TYPE_INT16), len, 0, 40, 0.05, &s);
    c[2] = int_col(gf_type(GF_TYPE_INT64), len, 0, 50, 0.0, &s);
    {
      /* spread the 51 levels over 2^56: no direct slots, but bit-packable */
      int64_t *w = malloc(sizeof *w * (size_t)len);
      for (int64_t i = 0; i < len; i++) w[i] = INT64_MIN / 4 + gf_array_get_int64(c[2], i) * (INT64_C(1) << 50);
      gf_array_release(c[2]);
      c[2] = gft_int64_array(gf_type(GF_TYPE_INT64), w, NULL, len);
      free(w);
    }
    c[3] = str_col(gf_type(GF_TYPE_UTF8), len, 300, 0.05, &s);
    c[4] = dbl_col(len, 30, 0.05, &s);
    c[5] = int_col(gf_type(GF_TYPE_BOOL), len, 0, 1, 0.1, &s);
    c[6] = int_col(gf_type(GF_TYPE_DATE32), len, 18000, 18020, 0.05, &s);
    c[7] = int_col(gf_type(GF_TYPE_INT32), len, 0, n / 2 + 1, 0.02, &s);
    c[8] = int_col(gf_type(GF_TYPE_INT32), len, 1, 5, 0.1, &s);
    c[9] = int_col(gf_type(GF_TYPE_INT64), len, -100, 100, 0.1, &s);
    c[10] = dbl_col(len, 0, 0.1, &s);
    c[11] = str_col(gf_type(GF_TYPE_UTF8), len, 1000, 0.1, &s);
  }
  gf_field fields[NCOLS];
  for (int i = 0; i < NCOLS; i++) {
    fields[i].name = COLS[i];
    fields[i].type = gf_array_type(cols[i]);
    fields[i].nullable = true;
  }
  gf_schema *schema;
  assert_int_equal(gf_schema_new(fields, NCOLS, &schema, NULL), GF_OK);
  gf_frame *f;
  gf_error err;
  if (gf_frame_new(schema, cols, nb, NULL, &f, &err) != GF_OK) fail_msg("frame: %s", err.message);
  gf_schema_release(schema);
  for (int i = 0; i < NCOLS * nb; i++) gf_array_release(cols[i]);
  free(cols);
  return f;
}

static int col_index(const char *name) {
  for (int i = 0; i < NCOLS; i++)
    if (!strcmp(COLS[i], name)) return i;
  fail_msg("no column %s", name);
  return -1;
}

/* Every aggregate by the given keys, checked against the reference; with
 * `decomposable_only`, only those (so the block path runs). */
static void check_aggs(const gf_frame *f, const char *const *keys, int nk, bool decomposable_only) {
  static const char *AGGS_DEC =
      "count(*),count(v1),sum(v1),sum(v2),sum(v3),mean(v1),mean(v3),min(v2),max(v3),min(vs),max(kdict),"
      "first(vs),last(v3),var(v3),std(v2),corr(v1, v3),max(v1) - min(v2) as spread";
  static const char *AGGS =
      "count(*),count(v1),sum(v1),sum(v2),sum(v3),mean(v1),mean(v3),min(v2),max(v3),min(vs),max(kdict),"
      "first(vs),last(v3),var(v3),std(v2),corr(v1, v3),median(v3),quantile(v2, 0.9),n_unique(vs),"
      "n_unique(v1),max(v1) - min(v2) as spread";
  static const struct {
    const char *kind, *c1, *c2;
    double q;
  } CHECKS[] = {{"count_all", NULL, NULL, 0}, {"count", "v1", NULL, 0}, {"sum", "v1", NULL, 0},
                {"sum", "v2", NULL, 0},       {"sum", "v3", NULL, 0},   {"mean", "v1", NULL, 0},
                {"mean", "v3", NULL, 0},      {"min", "v2", NULL, 0},   {"max", "v3", NULL, 0},
                {"min", "vs", NULL, 0},       {"max", "kdict", NULL, 0}, {"first", "vs", NULL, 0},
                {"last", "v3", NULL, 0},      {"var", "v3", NULL, 0},   {"std", "v2", NULL, 0},
                {"corr", "v1", "v3", 0},      {"median", "v3", NULL, 0.5}, {"quantile", "v2", NULL, 0.9},
                {"n_unique", "vs", NULL, 0},  {"n_unique", "v1", NULL, 0}};
  int kc[8];
  for (int k = 0; k < nk; k++) kc[k] = col_index(keys[k]);
  int64_t G;
  ref_group *g = ref_groups(f, kc, nk, &G);
  gf_parallel_options po = popts(2, 0, GF_STRATEGY_AUTO);
  gf_frame *r = run_text(f, keys, nk, decomposable_only ? AGGS_DEC : AGGS, &po, false);
  check_keys(f, kc, nk, g, G, r);
  int nchecks = decomposable_only ? 16 : (int)(sizeof CHECKS / sizeof *CHECKS);
  for (int i = 0; i < nchecks; i++)
    check_agg(f, g, G, r, nk + i, CHECKS[i].kind, CHECKS[i].c1 ? col_index(CHECKS[i].c1) : -1,
              CHECKS[i].c2 ? col_index(CHECKS[i].c2) : -1, CHECKS[i].q);
  /* spread = max(v1) - min(v2), null when either is null */
  for (int64_t gi = 0; gi < G; gi++) {
    int64_t mx = INT64_MIN, mn = INT64_MAX;
    for (int64_t j = 0; j < g[gi].n; j++) {
      int64_t row = g[gi].rows[j];
      if (!is_null_at(f, col_index("v1"), row) && i64_at(f, col_index("v1"), row) > mx) mx = i64_at(f, col_index("v1"), row);
      if (!is_null_at(f, col_index("v2"), row) && i64_at(f, col_index("v2"), row) < mn) mn = i64_at(f, col_index("v2"), row);
    }
    if (mx == INT64_MIN || mn == INT64_MAX) assert_true(is_null_at(r, nk + nchecks, gi));
    else assert_int_equal(i64_at(r, nk + nchecks, gi), mx - mn);
  }
  gf_frame_release(r);
  free_ref(g, G);
}

/* ---- tests -------------------------------------------------------------------- */

static void every_aggregate_matches_reference_for_every_key_type(void **state) {
  (void)state;
  gf_frame *f = make_frame(5000, 3, 42);
  static const char *const KEYSETS[][3] = {
      {"kdict", NULL, NULL}, {"ksmall", NULL, NULL}, {"kwide", NULL, NULL}, {"kstr", NULL, NULL},
      {"kflt", NULL, NULL},  {"kbool", NULL, NULL},  {"kdate", NULL, NULL}, {"kmany", NULL, NULL},
      {"kdict", "ksmall", NULL}, {"kstr", "kbool", "kflt"}, {"kwide", "kdate", NULL}, {"v3", NULL, NULL}};
  for (size_t i = 0; i < sizeof KEYSETS / sizeof *KEYSETS; i++) {
    int nk = 0;
    while (nk < 3 && KEYSETS[i][nk]) nk++;
    check_aggs(f, KEYSETS[i], nk, false);
    check_aggs(f, KEYSETS[i], nk, true);
  }
  check_aggs(f, NULL, 0, false); /* whole frame */
  check_aggs(f, NULL, 0, true);
  gf_frame_release(f);
}

static void results_are_bit_identical_for_any_workers_chunks_and_strategies(void **state) {
  (void)state;
  gf_frame *f = make_frame(140000, 4, 7);
  static const char *const KEYSETS[][2] = {{"kdict", NULL}, {"ksmall", "kbool"}, {"kstr", NULL},
                                           {"kmany", NULL}, {"kwide", "kflt"},   {NULL, NULL}};
  static const char *AGGSETS[] = {
      "sum(v3),mean(v3),var(v3),corr(v1, v3),sum(v1),min(v3),first(vs),count()",
      "median(v3),quantile(v2, 0.25),n_unique(vs),sum(v3),std(v3)",
      "top_k(v3, 2)"};
  int workers[] = {1, 2, 3, 8};
  int64_t chunks[] = {0, 1000, 70000};
  gf_strategy strategies[] = {GF_STRATEGY_AUTO, GF_STRATEGY_FIXED_CHUNKS, GF_STRATEGY_CACHE_FRIENDLY,
                              GF_STRATEGY_MEMORY_BOUND};
  for (size_t k = 0; k < sizeof KEYSETS / sizeof *KEYSETS; k++) {
    int nk = KEYSETS[k][0] ? (KEYSETS[k][1] ? 2 : 1) : 0;
    for (size_t a = 0; a < 3; a++) {
      if (nk == 0 && a == 2) continue;
      gf_parallel_options p0 = popts(1, 0, GF_STRATEGY_AUTO);
      gf_frame *ref = run_text(f, KEYSETS[k], nk, AGGSETS[a], &p0, false);
      for (int w = 0; w < 4; w++)
        for (int c = 0; c < 3; c++)
          for (int s = 0; s < 4; s++) {
            /* every worker count with the defaults; every chunk size and
             * strategy at 3 workers */
            if ((c > 0 || s > 0) && w != 2) continue;
            gf_parallel_options po = popts(workers[w], chunks[c], strategies[s]);
            gf_frame *r = run_text(f, KEYSETS[k], nk, AGGSETS[a], &po, false);
            assert_bitwise_equal(ref, r);
            gf_frame_release(r);
          }
      gf_frame_release(ref);
    }
  }
  gf_frame_release(f);
}

static void empty_input_gives_no_groups_or_one_whole_row(void **state) {
  (void)state;
  gf_frame *full = make_frame(100, 1, 3), *f;
  assert_int_equal(gf_frame_slice(full, 0, 0, &f, NULL), GF_OK);
  const char *keys[] = {"kstr"};
  gf_frame *r = run_text(f, keys, 1, "sum(v1),median(v3),count()", NULL, false);
  assert_int_equal(gf_frame_num_rows(r), 0);
  assert_int_equal(gf_frame_num_columns(r), 4);
  gf_frame_release(r);
  r = run_text(f, NULL, 0, "sum(v1),count(),min(vs),median(v3)", NULL, false);
  assert_int_equal(gf_frame_num_rows(r), 1);
  assert_true(is_null_at(r, 0, 0));
  assert_int_equal(i64_at(r, 1, 0), 0);
  assert_true(is_null_at(r, 2, 0));
  assert_true(is_null_at(r, 3, 0));
  gf_frame_release(r);
  r = run_text(f, NULL, 0, "sum(v1),count()", NULL, false);
  assert_int_equal(gf_frame_num_rows(r), 1);
  assert_int_equal(i64_at(r, 1, 0), 0);
  gf_frame_release(r);
  gf_frame_release(f);
  gf_frame_release(full);
}

static void all_null_groups_one_group_and_unique_rows(void **state) {
  (void)state;
  int64_t k[] = {1, 1, 2, 2, 3};
  bool kv[] = {true, true, true, true, false};
  int64_t v[] = {0, 0, 5, 0, 7};
  bool vv[] = {false, false, true, false, true};
  gf_array *cols[2] = {gft_int64_array(gf_type(GF_TYPE_INT64), k, kv, 5),
                       gft_int64_array(gf_type(GF_TYPE_INT64), v, vv, 5)};
  const char *names[] = {"k", "v"};
  gf_frame *f;
  assert_int_equal(gf_frame_from_columns(names, cols, 2, &f, NULL), GF_OK);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  const char *keys[] = {"k"};
  gf_frame *r = run_text(f, keys, 1, "sum(v),count(v),count(),mean(v),max(v),median(v)", NULL, false);
  assert_int_equal(gf_frame_num_rows(r), 3);
  /* group 1: all null */
  assert_true(is_null_at(r, 1, 0));
  assert_int_equal(i64_at(r, 2, 0), 0);
  assert_int_equal(i64_at(r, 3, 0), 2);
  assert_true(is_null_at(r, 4, 0));
  assert_true(is_null_at(r, 5, 0));
  assert_true(is_null_at(r, 6, 0));
  assert_int_equal(i64_at(r, 1, 1), 5);
  /* null key group last (first appears at row 4) */
  assert_true(is_null_at(r, 0, 2));
  assert_int_equal(i64_at(r, 1, 2), 7);
  gf_frame_release(r);
  gf_frame_release(f);

  /* one group and unique rows, on a larger frame */
  gf_frame *big = make_frame(20000, 2, 11);
  const char *kb[] = {"kbool"};
  r = run_text(big, kb, 1, "count()", NULL, false);
  assert_int_equal(gf_frame_num_rows(r), 3);
  gf_frame_release(r);
  gf_frame_release(big);
  int64_t n = 100000;
  int64_t *u = malloc(sizeof *u * (size_t)n);
  for (int64_t i = 0; i < n; i++) u[i] = (i * 7919) % n;
  gf_array *uc[2] = {gft_int64_array(gf_type(GF_TYPE_INT64), u, NULL, n),
                     gft_int64_array(gf_type(GF_TYPE_INT64), u, NULL, n)};
  const char *un[] = {"k", "v"};
  assert_int_equal(gf_frame_from_columns(un, uc, 2, &f, NULL), GF_OK);
  gf_array_release(uc[0]);
  gf_array_release(uc[1]);
  r = run_text(f, keys, 1, "sum(v),count(),median(v)", NULL, false);
  assert_int_equal(gf_frame_num_rows(r), n);
  for (int64_t i = 0; i < n; i += 997) {
    assert_int_equal(i64_at(r, 0, i), u[i]);
    assert_int_equal(i64_at(r, 1, i), u[i]);
    assert_int_equal(i64_at(r, 2, i), 1);
    assert_true(dbl_at(r, 3, i) == (double)u[i]);
  }
  gf_frame_release(r);
  /* one group: a constant key */
  for (int64_t i = 0; i < n; i++) u[i] = 5;
  gf_array *oc[1] = {gft_int64_array(gf_type(GF_TYPE_INT64), u, NULL, n)};
  gf_frame *one;
  const char *on[] = {"k"};
  assert_int_equal(gf_frame_from_columns(on, oc, 1, &one, NULL), GF_OK);
  gf_array_release(oc[0]);
  r = run_text(one, keys, 1, "count(),sum(k)", NULL, false);
  assert_int_equal(gf_frame_num_rows(r), 1);
  assert_int_equal(i64_at(r, 1, 0), n);
  assert_int_equal(i64_at(r, 2, 0), 5 * n);
  gf_frame_release(r);
  gf_frame_release(one);
  free(u);
  gf_frame_release(f);
}

static void nan_and_signed_zero_keys(void **state) {
  (void)state;
  double nan1 = NAN, nan2 = -NAN;
  double k[] = {0.0, -0.0, nan1, 1.0, nan2, 0.0, -0.0, 0.0};
  bool kv[] = {true, true, true, true, true, true, true, false};
  int64_t v[] = {1, 2, 3, 4, 5, 6, 7, 8};
  gf_array *cols[2] = {gft_double_array(gf_type(GF_TYPE_FLOAT64), k, kv, 8),
                       gft_int64_array(gf_type(GF_TYPE_INT64), v, NULL, 8)};
  const char *names[] = {"k", "v"};
  gf_frame *f;
  assert_int_equal(gf_frame_from_columns(names, cols, 2, &f, NULL), GF_OK);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  const char *keys[] = {"k"};
  /* The key policy: -0.0 and 0.0 are one key (shown as its first row's
   * +0.0), every NaN is one key, ordered after 1.0. */
  for (int sort = 0; sort < 2; sort++) {
    gf_frame *r = run_text(f, keys, 1, "sum(v)", NULL, sort);
    assert_int_equal(gf_frame_num_rows(r), 4);
    int64_t want_first[] = {16, 8, 4, 8};  /* 0.0, NaN, 1.0, null */
    int64_t want_sorted[] = {16, 4, 8, 8}; /* 0.0, 1.0, NaN, null */
    for (int i = 0; i < 4; i++) assert_int_equal(i64_at(r, 1, i), sort ? want_sorted[i] : want_first[i]);
    assert_true(dbl_at(r, 0, 0) == 0.0 && !signbit(dbl_at(r, 0, 0)));
    assert_true(isnan(dbl_at(r, 0, sort ? 2 : 1)));
    assert_true(is_null_at(r, 0, 3));
    gf_frame_release(r);
  }
  gf_frame_release(f);
}

static void integer_sum_overflow_is_an_error(void **state) {
  (void)state;
  int64_t v[] = {INT64_MAX, 1, 5};
  int64_t k[] = {1, 1, 2};
  gf_array *cols[2] = {gft_int64_array(gf_type(GF_TYPE_INT64), k, NULL, 3),
                       gft_int64_array(gf_type(GF_TYPE_INT64), v, NULL, 3)};
  const char *names[] = {"k", "v"};
  gf_frame *f;
  assert_int_equal(gf_frame_from_columns(names, cols, 2, &f, NULL), GF_OK);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  const char *keys[] = {"k"};
  gf_frame *r = NULL;
  gf_error err;
  assert_int_equal(gf_group_by_text(f, keys, 1, "sum(v)", NULL, &r, &err), GF_ERANGE);
  assert_null(r);
  assert_non_null(strstr(err.message, "overflow"));
  assert_int_equal(gf_group_by_text(f, NULL, 0, "sum(v)", NULL, &r, &err), GF_ERANGE);
  /* the mean of the same values is fine */
  assert_int_equal(gf_group_by_text(f, keys, 1, "mean(v)", NULL, &r, &err), GF_OK);
  gf_frame_release(r);
  gf_frame_release(f);
}

static void top_k_rows_and_combination_rules(void **state) {
  (void)state;
  int64_t k[] = {1, 1, 1, 2, 2, 3};
  double v[] = {5, 9, 7, 1, 0, 0};
  bool vv[] = {true, true, true, true, true, false};
  gf_array *cols[2] = {gft_int64_array(gf_type(GF_TYPE_INT64), k, NULL, 6),
                       gft_double_array(gf_type(GF_TYPE_FLOAT64), v, vv, 6)};
  const char *names[] = {"k", "v"};
  gf_frame *f;
  assert_int_equal(gf_frame_from_columns(names, cols, 2, &f, NULL), GF_OK);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  const char *keys[] = {"k"};
  gf_frame *r = run_text(f, keys, 1, "top_k(v, 2) as largest", NULL, false);
  assert_int_equal(gf_frame_num_rows(r), 4);
  int64_t wk[] = {1, 1, 2, 2};
  double wv[] = {9, 7, 1, 0};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(i64_at(r, 0, i), wk[i]);
    assert_true(dbl_at(r, 1, i) == wv[i]);
  }
  assert_string_equal(gf_schema_field(gf_frame_schema(r), 1)->name, "largest");
  gf_frame_release(r);
  gf_error err;
  r = NULL;
  assert_int_equal(gf_group_by_text(f, keys, 1, "top_k(v, 2),sum(v)", NULL, &r, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "top_k"));
  assert_int_equal(gf_group_by_text(f, keys, 1, "top_k(v, 2),top_k(v, 3)", NULL, &r, &err), GF_EINVAL);
  assert_null(r);
  gf_frame_release(f);
}

static void aggregate_expressions_and_names(void **state) {
  (void)state;
  gf_agg_list *l;
  gf_error err;
  assert_int_equal(gf_agg_parse("sum(v1),mean(v3) as m,count(*),pow(corr(v1, v2), 2) as r2, "
                                "max(v1) - min(v2)", &l, &err), GF_OK);
  assert_int_equal(gf_agg_list_count(l), 5);
  assert_string_equal(gf_agg_list_name(l, 0), "sum(v1)");
  assert_string_equal(gf_agg_list_name(l, 1), "m");
  assert_string_equal(gf_agg_list_name(l, 2), "count(*)");
  assert_string_equal(gf_agg_list_name(l, 3), "r2");
  assert_string_equal(gf_agg_list_name(l, 4), "max(v1) - min(v2)");
  gf_frame *f = make_frame(5000, 2, 5);
  const char *keys[] = {"kdict"};
  gf_frame *r;
  assert_int_equal(gf_group_by_list(f, keys, 1, l, NULL, &r, &err), GF_OK);
  assert_int_equal(gf_frame_num_columns(r), 6);
  gf_frame *r2 = run_text(f, keys, 1, "corr(v1, v2) as c", NULL, false);
  for (int64_t i = 0; i < gf_frame_num_rows(r); i++) {
    if (is_null_at(r2, 1, i)) {
      assert_true(is_null_at(r, 4, i));
      continue;
    }
    double c = dbl_at(r2, 1, i);
    assert_true(fabs(dbl_at(r, 4, i) - pow(c, 2)) <= 1e-12);
  }
  gf_frame_release(r2);
  gf_frame_release(r);
  gf_agg_list_free(l);
  /* errors */
  assert_int_equal(gf_agg_parse("sum(v1", &l, &err), GF_EPARSE);
  assert_int_equal(gf_agg_parse("sum(v1 + 1)", &l, &err), GF_EINVAL);
  assert_int_equal(gf_agg_parse("quantile(v1, x)", &l, &err), GF_EINVAL);
  assert_int_equal(gf_agg_parse("sum(v1) as a, mean(v1) as a", &l, &err), GF_EINVAL);
  r = NULL;
  assert_int_equal(gf_group_by_text(f, keys, 1, "sum(nope)", NULL, &r, &err), GF_EINVAL);
  assert_int_equal(gf_group_by_text(f, keys, 1, "sum(vs)", NULL, &r, &err), GF_ETYPE);
  assert_int_equal(gf_group_by_text(f, keys, 1, "mean(kdate)", NULL, &r, &err), GF_ETYPE);
  const char *bad[] = {"nope"};
  assert_int_equal(gf_group_by_text(f, bad, 1, "count()", NULL, &r, &err), GF_EINVAL);
  assert_null(r);
  /* C specs */
  gf_agg_spec specs[2] = {{GF_AGG_SUM, "v1", NULL, 0, 0, "s"}, {GF_AGG_QUANTILE, "v3", NULL, 0.5, 0, NULL}};
  assert_int_equal(gf_group_by(f, keys, 1, specs, 2, NULL, &r, &err), GF_OK);
  assert_string_equal(gf_schema_field(gf_frame_schema(r), 1)->name, "s");
  assert_string_equal(gf_schema_field(gf_frame_schema(r), 2)->name, "quantile(v3, 0.5)");
  gf_frame_release(r);
  /* One aggregate under two names (computed once, output twice) beside an
   * expression over it: the bare items are the aggregate's column renamed. */
  r = NULL;
  assert_int_equal(gf_group_by_text(f, keys, 1, "sum(v1) as a, sum(v1) as b, sum(v1) * 2 as c", NULL, &r, &err),
                   GF_OK);
  assert_int_equal(gf_frame_num_columns(r), 4);
  assert_string_equal(gf_schema_field(gf_frame_schema(r), 1)->name, "a");
  assert_string_equal(gf_schema_field(gf_frame_schema(r), 2)->name, "b");
  for (int64_t i = 0; i < gf_frame_num_rows(r); i++) {
    char a[64], b[64];
    fmt_cell(r, 1, i, a, sizeof a);
    fmt_cell(r, 2, i, b, sizeof b);
    assert_string_equal(a, b);
  }
  gf_frame_release(r);
  gf_frame_release(f);
}

/* gf_exec_stats of a group-by cover all of its runtime calls (rows of the
 * input, every morsel), not only the last one. */
static void statistics_cover_the_whole_group_by(void **state) {
  (void)state;
  gf_frame *f = make_frame(200000, 3, 21);
  const char *keys[] = {"kstr"};
  gf_exec_stats stats;
  memset(&stats, 0, sizeof stats);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = 2;
  po.min_parallel_rows = 0;
  po.stats = &stats;
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = &po;
  gf_frame *r = NULL;
  gf_error err;
  assert_int_equal(gf_group_by_text(f, keys, 1, "sum(v1),max(v1) - min(v1) as range", &go, &r, &err), GF_OK);
  assert_int_equal(stats.size, sizeof stats);
  assert_int_equal(stats.rows, 200000);
  assert_true(stats.morsels >= 4); /* 4 reduction blocks at least */
  assert_true(stats.workers_used >= 1 && stats.workers_used <= 2);
  assert_true(stats.wall_ns > 0);
  int64_t worker_rows = 0;
  for (int i = 0; i < stats.workers_used; i++) worker_rows += stats.worker[i].rows;
  assert_true(worker_rows >= 200000);
  gf_frame_release(r);
  gf_frame_release(f);
}

static void sort_keys_orders_groups(void **state) {
  (void)state;
  gf_frame *f = make_frame(8000, 2, 9);
  const char *keys[] = {"kstr", "ksmall"};
  gf_frame *r = run_text(f, keys, 2, "count()", NULL, true);
  for (int64_t i = 1; i < gf_frame_num_rows(r); i++) {
    char a[64], b[64];
    bool na = is_null_at(r, 0, i - 1), nb = is_null_at(r, 0, i);
    fmt_cell(r, 0, i - 1, a, sizeof a);
    fmt_cell(r, 0, i, b, sizeof b);
    if (!na && !nb) assert_true(strcmp(a, b) <= 0);
    assert_false(na && !nb);
    if (!na && !nb && !strcmp(a, b) && !is_null_at(r, 1, i) && !is_null_at(r, 1, i - 1))
      assert_true(i64_at(r, 1, i - 1) < i64_at(r, 1, i));
  }
  gf_frame_release(r);
  gf_frame_release(f);
}

/* One group-by under a failing allocator (gft_alloc_sweep callback). */
typedef struct group_sweep {
  const gf_frame *f, *want;
  const char *const *keys;
  int nkeys;
  const char *aggs;
  gf_parallel_options po;
} group_sweep;

static gf_status group_by_once(void *user, const gf_allocator *a) {
  group_sweep *s = user;
  s->po.allocator = a;
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = &s->po;
  gf_frame *r = NULL;
  gf_status st = gf_group_by_text(s->f, s->keys, s->nkeys, s->aggs, &go, &r, NULL);
  if (st == GF_OK) {
    if (!gf_frame_equals(r, s->want)) fail_msg("%s: %s: wrong result", s->aggs, gft_sweep_at());
    gf_frame_release(r);
  } else {
    assert_null(r);
  }
  return st;
}

/* Every allocation of a group-by failed, one-off and persistent, for
 * dictionary / multi-column / many-group keys and sums, variances,
 * medians, n_unique, top_k: GF_ENOMEM, nothing leaked, the same groups as
 * without failures once it runs clean. */
static void survives_allocation_failures(void **state) {
  (void)state;
  gf_frame *f = make_frame(1500, 2, 13);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  static const char *const KEYS[][2] = {{"kdict", NULL}, {"kstr", "ksmall"}, {"kmany", NULL}};
  static const char *AGGS[] = {"sum(v1),min(vs),var(v3),max(v1) - min(v2)", "median(v3),n_unique(vs),count()",
                               "top_k(v3, 2)"};
  gft_sweep_counts counts = {0};
  for (int k = 0; k < 3; k++) {
    int nk = KEYS[k][1] ? 2 : 1;
    for (int w = 1; w <= 2; w++) {
      group_sweep s = {f, NULL, KEYS[k], nk, AGGS[k], popts(w, 700, GF_STRATEGY_FIXED_CHUNKS)};
      gf_frame *want = run_text(f, KEYS[k], nk, AGGS[k], &s.po, false);
      s.want = want;
      gft_alloc_sweep(AGGS[k], fa, group_by_once, &s, &counts);
      gf_frame_release(want);
    }
  }
  gft_sweep_print("group-by", &counts);
  gf_failing_allocator_free(fa);
  gf_frame_release(f);
}

typedef struct cancel_arg {
  gf_cancel *c;
  int delay_us;
} cancel_arg;

static void *canceller(void *p) {
  cancel_arg *a = p;
  struct timespec ts = {0, (long)a->delay_us * 1000};
  nanosleep(&ts, NULL);
  gf_cancel_request(a->c);
  return NULL;
}

static void cancellation_stops_the_aggregation_without_leaks(void **state) {
  (void)state;
  gf_frame *f = make_frame(400000, 4, 17);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gf_cancel *c;
  assert_int_equal(gf_cancel_new(&c, NULL), GF_OK);
  gf_parallel_options po = popts(2, 4096, GF_STRATEGY_FIXED_CHUNKS);
  po.allocator = gf_failing_allocator_get(fa);
  po.cancel = c;
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = &po;
  const char *keys[] = {"kstr", "kmany"};
  gf_frame *r = NULL;
  gf_error err;
  /* already cancelled */
  gf_cancel_request(c);
  assert_int_equal(gf_group_by_text(f, keys, 2, "median(v3),sum(v1)", &go, &r, &err), GF_ECANCELED);
  assert_null(r);
  assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  /* cancelled from another thread mid-run */
  gf_cancel_reset(c);
  cancel_arg ca = {c, 2000};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, canceller, &ca), 0);
  gf_status st = gf_group_by_text(f, keys, 2, "median(v3),sum(v1),n_unique(vs),var(v3)", &go, &r, &err);
  pthread_join(t, NULL);
  assert_int_equal(st, GF_ECANCELED);
  assert_null(r);
  assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  gf_cancel_free(c);
  gf_failing_allocator_free(fa);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_aggregate_matches_reference_for_every_key_type),
      cmocka_unit_test(results_are_bit_identical_for_any_workers_chunks_and_strategies),
      cmocka_unit_test(empty_input_gives_no_groups_or_one_whole_row),
      cmocka_unit_test(all_null_groups_one_group_and_unique_rows),
      cmocka_unit_test(nan_and_signed_zero_keys),
      cmocka_unit_test(integer_sum_overflow_is_an_error),
      cmocka_unit_test(top_k_rows_and_combination_rules),
      cmocka_unit_test(aggregate_expressions_and_names),
      cmocka_unit_test(sort_keys_orders_groups),
      cmocka_unit_test(statistics_cover_the_whole_group_by),
      cmocka_unit_test(survives_allocation_failures),
      cmocka_unit_test(cancellation_stops_the_aggregation_without_leaks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
