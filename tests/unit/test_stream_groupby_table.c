/* The streaming group-by sink's group table and compact per-group states
 * (src/exec/sink_groupby.c) at high cardinality: tens of thousands of
 * groups of four keys (int64, utf8, float64 with -0.0/0.0/NaN, bool; all
 * with nulls and garbage under them), so the table grows many times, both
 * by placing groups from their stored hash tags and (test hook
 * gfi_sink_group_by_test_tagbits) by re-hashing the keys. Checked against
 * a naive group-by written here (sort rows by canonical key tuple, groups
 * in first-appearance order, integer aggregates summed directly): group
 * order, the first row's raw key values (the -0.0 / NaN bits the group met
 * first), count(), count(y), sum, min, max, first, last; at 1/2/3/8
 * workers and several slice sizes, in memory and spilled. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/stream_internal.h"
#include "gf_test_data.h"
#include "gf_test_garbage.h"
#include "gopherframe.h"
#include "plan/plan_internal.h"

#define OKE(x)                                                              \
  do {                                                                      \
    gf_status s_ = (x);                                                     \
    if (s_ != GF_OK) fail_msg("%s -> %d: %s", #x, (int)s_, err.message);    \
  } while (0)

#define NK 4
static const char *const keys[NK] = {"a", "s", "f", "b"};
static const char *const strs[] = {"p", "q", "rr", "é", ""};
static const double fvals[] = {0.0, -0.0, 1.5, -2.25, 1e300};

/* One row as the reference sees it: canonical key tuple (null = class
 * -1), the raw float bits, y (valid flag), position. */
typedef struct row {
  int64_t a;
  int s;
  int f;       /* 0..4 (fvals), 5 NaN, -1 null; -0.0 is class 0 */
  int b;
  uint64_t fbits;
  int64_t y;
  bool yv;
  int64_t pos;
} row;

static int cmp_key(const row *x, const row *y) {
  if (x->a != y->a) return x->a < y->a ? -1 : 1;
  if (x->s != y->s) return x->s < y->s ? -1 : 1;
  if (x->f != y->f) return x->f < y->f ? -1 : 1;
  if (x->b != y->b) return x->b < y->b ? -1 : 1;
  return 0;
}

static int cmp_row(const void *p, const void *q) {
  const row *x = p, *y = q;
  int c = cmp_key(x, y);
  if (c) return c;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* A group of the reference. */
typedef struct ref {
  const row *first; /* its first row (raw key values) */
  int64_t n, cy, sy, mn, mx, fy, ly;
  bool has;
} ref;

static int cmp_ref(const void *p, const void *q) {
  const ref *x = p, *y = q;
  return x->first->pos < y->first->pos ? -1 : x->first->pos > y->first->pos;
}

static gf_frame *frame;
static row *rows;
static int64_t nrows;
static ref *refs;
static int64_t nrefs;

/* `n` rows in `nb` batches: a in [0, span) (~4% null), s of 5 strings
 * (~6% null), f of 5 values plus NaN (~7% null), b bool (~3% null), y
 * int64 (~10% null); the garbage twin of the frame. */
static void make_data(int64_t n, int nb, int64_t span, uint64_t seed) {
  gf_array **cols = calloc((size_t)nb * 5, sizeof *cols);
  rows = calloc((size_t)n, sizeof *rows);
  nrows = n;
  uint64_t st = seed;
  int64_t at = 0;
  for (int bi = 0; bi < nb; bi++) {
    int64_t m = n / nb + (bi < n % nb ? 1 : 0);
    int64_t *a = calloc((size_t)m + 1, 8), *y = calloc((size_t)m + 1, 8), *bb = calloc((size_t)m + 1, 8);
    double *f = calloc((size_t)m + 1, 8);
    bool *av = calloc((size_t)m + 1, 1), *fv = calloc((size_t)m + 1, 1), *yv = calloc((size_t)m + 1, 1);
    bool *bv = calloc((size_t)m + 1, 1);
    const char **s = calloc((size_t)m + 1, sizeof *s);
    for (int64_t i = 0; i < m; i++, at++) {
      uint64_t r = gft_rand_next(&st), r2 = gft_rand_next(&st);
      row *w = &rows[at];
      w->pos = at;
      a[i] = (int64_t)(r % (uint64_t)span) - span / 2;
      av[i] = (r >> 32) % 25 != 0;
      w->a = av[i] ? a[i] : INT64_MIN;
      int si = (int)((r >> 40) % 5);
      bool sv = (r >> 44) % 16 != 0;
      s[i] = sv ? strs[si] : NULL;
      w->s = sv ? si : -1;
      int fi = (int)((r >> 48) % 6);
      fv[i] = (r >> 52) % 14 != 0;
      f[i] = fi == 5 ? (r2 & 1 ? NAN : -NAN) : fvals[fi];
      w->f = !fv[i] ? -1 : fi == 5 ? 5 : fi == 1 ? 0 : fi;
      memcpy(&w->fbits, &f[i], 8);
      bb[i] = (int64_t)((r2 >> 3) & 1);
      bv[i] = (r2 >> 8) % 33 != 0;
      w->b = bv[i] ? (int)bb[i] : -1;
      y[i] = (int64_t)(r2 >> 16) % 2000001 - 1000000;
      yv[i] = (r2 >> 5) % 10 != 0;
      w->y = y[i];
      w->yv = yv[i];
    }
    cols[bi * 5 + 0] = gft_int64_array(gf_type(GF_TYPE_INT64), a, av, m);
    cols[bi * 5 + 1] = gft_string_array(gf_type(GF_TYPE_UTF8), s, m);
    cols[bi * 5 + 2] = gft_double_array(gf_type(GF_TYPE_FLOAT64), f, fv, m);
    cols[bi * 5 + 3] = gft_int64_array(gf_type(GF_TYPE_BOOL), bb, bv, m);
    cols[bi * 5 + 4] = gft_int64_array(gf_type(GF_TYPE_INT64), y, yv, m);
    free(a); free(y); free(bb); free(f); free(av); free(fv); free(yv); free(bv); free(s);
  }
  gf_field fields[5] = {{"a", gf_type(GF_TYPE_INT64), true}, {"s", gf_type(GF_TYPE_UTF8), true},
                        {"f", gf_type(GF_TYPE_FLOAT64), true}, {"b", gf_type(GF_TYPE_BOOL), true},
                        {"y", gf_type(GF_TYPE_INT64), true}};
  gf_schema *sc = NULL;
  gf_error err;
  OKE(gf_schema_new(fields, 5, &sc, &err));
  gf_frame *fr = NULL;
  OKE(gf_frame_new(sc, cols, nb, NULL, &fr, &err));
  gf_schema_release(sc);
  for (int i = 0; i < nb * 5; i++) gf_array_release(cols[i]);
  free(cols);
  frame = gft_garbage_frame(fr, seed ^ 0xabcdef);
  gf_frame_release(fr);
}

/* The naive group-by of `rows`. */
static void make_ref(void) {
  row *sorted = malloc(sizeof *sorted * (size_t)nrows);
  memcpy(sorted, rows, sizeof *sorted * (size_t)nrows);
  qsort(sorted, (size_t)nrows, sizeof *sorted, cmp_row);
  refs = calloc((size_t)nrows, sizeof *refs);
  nrefs = 0;
  for (int64_t i = 0; i < nrows; i++) {
    if (i == 0 || cmp_key(&sorted[i - 1], &sorted[i])) {
      refs[nrefs].first = &rows[sorted[i].pos];
      nrefs++;
    }
    ref *g = &refs[nrefs - 1];
    const row *w = &sorted[i];
    g->n++;
    if (!w->yv) continue;
    g->cy++;
    g->sy += w->y;
    if (!g->has || w->y < g->mn) g->mn = w->y;
    if (!g->has || w->y > g->mx) g->mx = w->y;
    if (!g->has) g->fy = w->y;
    g->ly = w->y; /* rows of a group are in position order */
    g->has = true;
  }
  free(sorted);
  qsort(refs, (size_t)nrefs, sizeof *refs, cmp_ref);
}

static void check(const gf_frame *got) {
  assert_int_equal(gf_frame_num_rows(got), nrefs);
  assert_int_equal(gf_frame_num_columns(got), NK + 7);
  int64_t q = 0;
  for (int b = 0; b < gf_frame_num_batches(got); b++) {
    const gf_array *c[NK + 7];
    for (int j = 0; j < NK + 7; j++) c[j] = gf_frame_column(got, b, j);
    for (int64_t i = 0; i < gf_array_length(c[0]); i++, q++) {
      const ref *g = &refs[q];
      const row *w = g->first;
      if (w->a == INT64_MIN) assert_true(gf_array_is_null(c[0], i));
      else assert_int_equal(gf_array_get_int64(c[0], i), w->a);
      if (w->s < 0) {
        assert_true(gf_array_is_null(c[1], i));
      } else {
        int64_t len = 0;
        const char *p = gf_array_get_bytes(c[1], i, &len);
        assert_int_equal(len, (int64_t)strlen(strs[w->s]));
        assert_memory_equal(p, strs[w->s], (size_t)len);
      }
      if (w->f < 0) {
        assert_true(gf_array_is_null(c[2], i));
      } else {
        double d = gf_array_get_double(c[2], i);
        uint64_t bits;
        memcpy(&bits, &d, 8);
        if (bits != w->fbits) fail_msg("group %lld: key f bits %llx, first row's %llx", (long long)q,
                                       (unsigned long long)bits, (unsigned long long)w->fbits);
      }
      if (w->b < 0) assert_true(gf_array_is_null(c[3], i));
      else assert_int_equal(gf_array_get_bool(c[3], i), w->b);
      assert_int_equal(gf_array_get_int64(c[4], i), g->n);
      assert_int_equal(gf_array_get_int64(c[5], i), g->cy);
      for (int j = 6; j < NK + 7; j++) assert_int_equal(gf_array_is_null(c[j], i), !g->has);
      if (!g->has) continue;
      assert_int_equal(gf_array_get_int64(c[6], i), g->sy);
      assert_int_equal(gf_array_get_int64(c[7], i), g->mn);
      assert_int_equal(gf_array_get_int64(c[8], i), g->mx);
      assert_int_equal(gf_array_get_int64(c[9], i), g->fy);
      assert_int_equal(gf_array_get_int64(c[10], i), g->ly);
    }
  }
}

static const char *aggs =
    "count() as n, count(y) as cy, sum(y) as sy, min(y) as mn, max(y) as mx, first(y) as fy, "
    "last(y) as ly";

/* Streams the group-by of `frame` with `workers` and slice size `window`. */
static gf_frame *stream(int workers, int64_t window) {
  gf_error err;
  gf_plan *src = NULL, *p = NULL, *opt = NULL;
  OKE(gf_plan_from_frame(frame, &src, &err));
  OKE(gf_plan_group_by(src, keys, NK, aggs, false, &p, &err));
  OKE(gf_plan_optimize(p, GF_PLAN_RULES_ALL, &opt, &err));
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  gf_frame *out = NULL;
  bool handled = false;
  OKE(gfi_plan_stream(opt, &o, window, true, NULL, &out, &handled, &err));
  if (!handled) fail_msg("the plan did not stream");
  gf_plan_release(opt);
  gf_plan_release(p);
  gf_plan_release(src);
  return out;
}

static int setup(void **state) {
  (void)state;
  /* ~60,000 rows over ~40,000 a values x the other keys: most tuples are
   * new, so the table grows from 1,024 groups past 32,768. */
  make_data(60001, 5, 40000, 7);
  make_ref();
  char dir[256];
  const char *t = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/gf_gbtable_%d", t ? t : "/tmp", (int)getpid());
  mkdir(dir, 0700);
  setenv("GF_TMPDIR", dir, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  gfi_sink_group_by_test_tagbits(0);
  gfi_sink_group_by_test_spill(0, 0);
  gf_frame_release(frame);
  free(rows);
  free(refs);
  rmdir(getenv("GF_TMPDIR"));
  return 0;
}

/* Growth by tags (default) and by re-hashing the keys (hook 11: beyond
 * 2,048 slots), every worker count and slice size. */
static void test_table_growth(void **state) {
  (void)state;
  assert_true(nrefs > 40000);
  static const int workers[] = {1, 2, 3, 8};
  static const int64_t windows[] = {997, 4096, 65536};
  static const int bits[] = {0, 11};
  for (int t = 0; t < 2; t++) {
    gfi_sink_group_by_test_tagbits(bits[t]);
    for (int w = 0; w < 4; w++)
      for (int s = 0; s < 3; s++) {
        gf_frame *got = stream(workers[w], windows[s]);
        check(got);
        gf_frame_release(got);
      }
  }
  gfi_sink_group_by_test_tagbits(0);
}

/* The spilled mode packs and unpacks the compact states: after 5,000
 * groups, into 1, 3 and 8 partitions. */
static void test_table_spilled(void **state) {
  (void)state;
  static const int parts[] = {1, 3, 8};
  for (int i = 0; i < 3; i++) {
    gfi_sink_group_by_test_spill(5000, parts[i]);
    gf_frame *got = stream(i == 0 ? 1 : 3, 4096);
    check(got);
    gf_frame_release(got);
  }
  gfi_sink_group_by_test_spill(0, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_growth),
      cmocka_unit_test(test_table_spilled),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
