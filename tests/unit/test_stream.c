/* Streaming plans (src/plan/plan_stream.c, src/exec/source*.c, sink*.c):
 * a chain of filter / with / select into a group-by or collect, run batch
 * by batch from a frame or a CSV file, against the eager functions on the
 * materialised input (bit for bit, at 1/2/3/8 workers and several slice /
 * window sizes, including ones that are not multiples of 65,536 and tiny
 * ones), and against naive loops for counts and integer sums; both float
 * paths of the group-by (block partials, row order); dictionaries that grow
 * across windows; a late value that does not fit (error text); cancel,
 * deadline and memory limit mid-stream; a failed sink leaves no file;
 * allocation failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/array_internal.h"
#include "exec/stream_internal.h"
#include "gf_test_data.h"
#include "gf_test_env.h"
#include "gf_test_garbage.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"
#include "plan/plan_internal.h"

#define OKE(x)                                                              \
  do {                                                                      \
    gf_status s_ = (x);                                                     \
    if (s_ != GF_OK) fail_msg("%s -> %d: %s", #x, (int)s_, err.message);    \
  } while (0)

static gf_expr *parse(const char *text) {
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse '%s': %s", text, err.message);
  return e;
}

static void tmp_path(char *p, size_t n, const char *name) {
  const char *dir = getenv("TMPDIR");
  snprintf(p, n, "%s/gf_stream_%d_%s", dir ? dir : "/tmp", (int)getpid(), name);
}

/* ---- data ------------------------------------------------------------------ */

/* A frame: k int32 key (ngroups values, ~8% null), d dictionary<utf8> key
 * (values "v<i>" appearing over the rows, new ones late), s utf8 key of 7
 * values (~5% null), x float64 of mixed magnitudes (order matters; ~10%
 * null), y int64, b bool; in `nb` batches, then its garbage twin. */
static gf_frame *make_frame(int64_t rows, int nb, int64_t ngroups, uint64_t seed) {
  static const char *const ss[] = {"a", "b", "c", "dd", "é", "ff", "g"};
  gf_array **cols = calloc((size_t)nb * 6, sizeof *cols);
  uint64_t s = seed;
  int64_t at = 0;
  /* d's one frame-wide dictionary: "v0" .. "v<max>". */
  int64_t nd = 3 + rows / 997 + 1;
  char (*dvals)[24] = calloc((size_t)nd, 24);
  const char **dp = calloc((size_t)nd, sizeof *dp);
  for (int64_t i = 0; i < nd; i++) {
    snprintf(dvals[i], 24, "v%lld", (long long)i);
    dp[i] = dvals[i];
  }
  gf_array *dict = gft_string_array(gf_type(GF_TYPE_UTF8), dp, nd);
  for (int b = 0; b < nb; b++) {
    int64_t n = rows / nb + (b < rows % nb ? 1 : 0);
    int64_t *k = calloc((size_t)n + 1, sizeof *k), *y = calloc((size_t)n + 1, sizeof *y);
    int64_t *bb = calloc((size_t)n + 1, sizeof *bb);
    double *x = calloc((size_t)n + 1, sizeof *x);
    bool *kv = calloc((size_t)n + 1, 1), *xv = calloc((size_t)n + 1, 1), *yv = calloc((size_t)n + 1, 1);
    const char **st = calloc((size_t)n + 1, sizeof *st);
    int64_t *dc = calloc((size_t)n + 1, sizeof *dc);
    bool *dcv = calloc((size_t)n + 1, 1);
    for (int64_t i = 0; i < n; i++, at++) {
      uint64_t r = gft_rand_next(&s), r2 = gft_rand_next(&s);
      k[i] = (int64_t)(r % (uint64_t)ngroups);
      kv[i] = (r >> 40) % 13 != 0;
      st[i] = (r >> 20) % 20 == 0 ? NULL : ss[(r >> 24) % 7];
      /* Dictionary values: the later the row, the more values exist. */
      int64_t lim = 3 + at / 997;
      dc[i] = (int64_t)((r >> 8) % (uint64_t)lim);
      dcv[i] = (r >> 50) % 17 != 0;
      int e = (int)(r2 % 40) - 20;
      x[i] = ldexp((double)(int64_t)(r2 >> 12) / 4503599627370496.0, e);
      if (r2 % 101 == 0) x[i] = -0.0;
      xv[i] = (r2 >> 4) % 10 != 0;
      y[i] = (int64_t)(r2 >> 20) % 100000 - 50000;
      yv[i] = (r2 >> 6) % 11 != 0;
      bb[i] = (int64_t)((r2 >> 33) & 1);
    }
    cols[b * 6 + 0] = gft_int64_array(gf_type(GF_TYPE_INT32), k, kv, n);
    gf_array *codes = gft_int64_array(gf_type(GF_TYPE_INT32), dc, dcv, n);
    gf_buffer *bufs[3] = {gf_buffer_retain(codes->buffers[0]), gf_buffer_retain(codes->buffers[1]), NULL};
    gf_error e0;
    if (gfi_array_make(NULL, gf_type_dictionary(gf_type(GF_TYPE_UTF8)), n, codes->offset,
                       codes->null_count, bufs, dict, &cols[b * 6 + 1], &e0) != GF_OK)
      fail_msg("dictionary array: %s", e0.message);
    gf_array_release(codes);
    cols[b * 6 + 2] = gft_string_array(gf_type(GF_TYPE_UTF8), st, n);
    cols[b * 6 + 3] = gft_double_array(gf_type(GF_TYPE_FLOAT64), x, xv, n);
    cols[b * 6 + 4] = gft_int64_array(gf_type(GF_TYPE_INT64), y, yv, n);
    cols[b * 6 + 5] = gft_int64_array(gf_type(GF_TYPE_BOOL), bb, NULL, n);
    free(k); free(y); free(bb); free(x); free(kv); free(xv); free(yv); free(st); free(dc); free(dcv);
  }
  gf_array_release(dict);
  free(dvals);
  free(dp);
  gf_field fields[6] = {{"k", gf_type(GF_TYPE_INT32), true},
                        {"d", gf_type_dictionary(gf_type(GF_TYPE_UTF8)), true},
                        {"s", gf_type(GF_TYPE_UTF8), true},  {"x", gf_type(GF_TYPE_FLOAT64), true},
                        {"y", gf_type(GF_TYPE_INT64), true}, {"b", gf_type(GF_TYPE_BOOL), true}};
  gf_schema *sc = NULL;
  gf_error err;
  OKE(gf_schema_new(fields, 6, &sc, &err));
  gf_frame *f = NULL;
  OKE(gf_frame_new(sc, cols, nb, NULL, &f, &err));
  gf_schema_release(sc);
  for (int i = 0; i < nb * 6; i++) gf_array_release(cols[i]);
  free(cols);
  gf_frame *g = gft_garbage_frame(f, seed ^ 0x5eed);
  gf_frame_release(f);
  return g;
}

/* Streams optimized `p` (frame sources too) with `workers` and `window`. */
static gf_status stream(const gf_plan *p, int workers, int64_t window, const gf_parallel_options *base,
                        gf_frame **out, gf_error *err) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  if (base) o = *base;
  o.num_workers = workers;
  gf_plan *opt = NULL;
  gf_status st = gf_plan_optimize(p, GF_PLAN_RULES_ALL, &opt, err);
  if (st != GF_OK) return st;
  bool handled = false;
  st = gfi_plan_stream(opt, &o, window, true, NULL, out, &handled, err);
  gf_plan_release(opt);
  if (st == GF_OK && !handled) fail_msg("the plan did not stream");
  return st;
}

/* The eager chain: filter, then group-by of `aggs` (or the filtered frame
 * when keys is NULL). */
static gf_frame *eager(const gf_frame *f, const char *pred, const char *const *keys, int nkeys,
                       const char *aggs, bool sort_keys) {
  gf_error err;
  gf_frame *flt = NULL, *out = NULL;
  if (pred) {
    gf_expr *e = parse(pred);
    OKE(gf_filter(f, e, NULL, &flt, &err));
    gf_expr_release(e);
  } else {
    flt = gf_frame_retain((gf_frame *)f);
  }
  if (!keys && !aggs) return flt;
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.sort_keys = sort_keys;
  OKE(gf_group_by_text(flt, keys, nkeys, aggs, &go, &out, &err));
  gf_frame_release(flt);
  return out;
}

static gf_plan *plan_of(gf_plan *src, const char *pred, const char *const *keys, int nkeys,
                        const char *aggs, bool sort_keys) {
  gf_error err;
  gf_plan *p = src, *q = NULL;
  gf_plan_retain(p);
  if (pred) {
    gf_expr *e = parse(pred);
    OKE(gf_plan_filter(p, e, &q, &err));
    gf_expr_release(e);
    gf_plan_release(p);
    p = q;
  }
  if (keys || aggs) {
    OKE(gf_plan_group_by(p, keys, nkeys, aggs, sort_keys, &q, &err));
    gf_plan_release(p);
    p = q;
  }
  return p;
}

static const int workers[] = {1, 2, 3, 8};

/* ---- frame sources ---------------------------------------------------------- */

/* Block path (few groups) and partition path (more than 65,536 groups):
 * every aggregate the sink supports, vs the eager chain, at every worker
 * count and slice size. */
static void test_frame_groupby_paths(void **state) {
  (void)state;
  struct {
    int64_t rows, groups;
  } cases[] = {{140000, 37}, {140000, 100000}};
  static const char *aggs =
      "sum(x), mean(x), count(x), count(), sum(y), mean(y), min(x), max(x), min(y), max(y), "
      "first(x), last(y), min(b), max(b), sum(x) / count() as r";
  const char *keysets[][2] = {{"k", NULL}, {"d", "s"}, {"s", "k"}};
  int nkeys[] = {1, 2, 2};
  int64_t windows[] = {0, 65536 + 7, 1000, 131072};
  /* Sanitizer builds: the block path on fewer rows (the partition path
   * needs > 65,536 groups). */
  bool san = gft_sanitized();
  if (san) cases[0].rows = 40000;
  for (size_t c = 0; c < (san ? 1 : sizeof cases / sizeof *cases); c++) {
    gf_frame *f = make_frame(cases[c].rows, 5, cases[c].groups, 7 + c);
    gf_plan *src = NULL;
    gf_error err;
    OKE(gf_plan_from_frame(f, &src, &err));
    for (int ks = 0; ks < 3; ks++) {
      if (c == 1 && ks == 1) continue; /* d x s has few groups */
      for (int sk = 0; sk < (ks == 0 ? 2 : 1); sk++) {
        gf_frame *want = eager(f, "y > -40000", keysets[ks], nkeys[ks], aggs, sk);
        gf_plan *p = plan_of(src, "y > -40000", keysets[ks], nkeys[ks], aggs, sk);
        for (size_t w = 0; w < sizeof workers / sizeof *workers; w++)
          for (size_t z = 0; z < sizeof windows / sizeof *windows; z++) {
            if (san && (workers[w] == 3 || workers[w] == 8) && windows[z] != 0) continue;
            /* Small slices cost a pipeline run each: a few combinations. */
            if (windows[z] == 1000 && (workers[w] == 2 || workers[w] == 8 || sk)) continue;
            gf_frame *got = NULL;
            OKE(stream(p, workers[w], windows[z], NULL, &got, &err));
            if (!gf_frame_equals(got, want))
              fail_msg("case %zu keys %d sort %d workers %d window %lld: streamed != eager", c, ks,
                       sk, workers[w], (long long)windows[z]);
            gf_frame_release(got);
          }
        gf_plan_release(p);
        gf_frame_release(want);
      }
    }
    gf_plan_release(src);
    gf_frame_release(f);
  }
}

/* Tiny slices (1, 3, 7 rows): every row its own reduction position. */
static void test_frame_tiny_slices(void **state) {
  (void)state;
  gf_frame *f = make_frame(9000, 2, 11, 21);
  gf_error err;
  gf_plan *src = NULL;
  OKE(gf_plan_from_frame(f, &src, &err));
  const char *keys[] = {"d", "k"};
  static const char *aggs = "sum(x), mean(x), min(x), last(y), count()";
  gf_frame *want = eager(f, "y > 0", keys, 2, aggs, false);
  gf_plan *p = plan_of(src, "y > 0", keys, 2, aggs, false);
  int64_t sizes[] = {1, 3, 7};
  for (int w = 0; w < 2; w++)
    for (int z = 0; z < 3; z++) {
      gf_frame *got = NULL;
      OKE(stream(p, w ? 3 : 1, sizes[z], NULL, &got, &err));
      assert_true(gf_frame_equals(got, want));
      gf_frame_release(got);
    }
  gf_plan_release(p);
  gf_frame_release(want);
  gf_plan_release(src);
  gf_frame_release(f);
}

/* An independent check of counts and integer sums per int key (naive
 * loop over the input), through the streamed group-by. */
static void test_frame_groupby_naive(void **state) {
  (void)state;
  gf_frame *f = make_frame(150001, 3, 50, 99);
  gf_error err;
  gf_plan *src = NULL;
  OKE(gf_plan_from_frame(f, &src, &err));
  const char *key = "k";
  gf_plan *p = plan_of(src, NULL, &key, 1, "count() as n, sum(y) as sy, count(y) as cy", true);
  gf_frame *got = NULL;
  OKE(stream(p, 3, 4099, NULL, &got, &err));
  int64_t n[51] = {0}, sy[51] = {0}, cy[51] = {0};
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *k = gf_frame_column(f, b, 0), *y = gf_frame_column(f, b, 4);
    for (int64_t i = 0; i < gf_array_length(k); i++) {
      int g = gf_array_is_null(k, i) ? 50 : (int)gf_array_get_int64(k, i);
      n[g]++;
      if (!gf_array_is_null(y, i)) {
        sy[g] += gf_array_get_int64(y, i);
        cy[g]++;
      }
    }
  }
  assert_int_equal(gf_frame_num_rows(got), 51);
  /* Sorted keys, nulls last. */
  for (int64_t r = 0; r < 51; r++) {
    const gf_array *k = gf_frame_column(got, 0, 0);
    int g = gf_array_is_null(k, r) ? 50 : (int)gf_array_get_int64(k, r);
    assert_int_equal(g, r);
    assert_int_equal(gf_array_get_int64(gf_frame_column(got, 0, 1), r), n[g]);
    assert_int_equal(gf_array_get_int64(gf_frame_column(got, 0, 2), r), sy[g]);
    assert_int_equal(gf_array_get_int64(gf_frame_column(got, 0, 3), r), cy[g]);
  }
  gf_frame_release(got);
  gf_plan_release(p);
  gf_plan_release(src);
  gf_frame_release(f);
}

/* Collect: filter + with + select streamed equals the eager chain. */
static void test_frame_collect(void **state) {
  (void)state;
  gf_frame *f = make_frame(100000, 4, 10, 3);
  gf_error err;
  gf_plan *src = NULL, *a = NULL, *b = NULL, *c = NULL;
  OKE(gf_plan_from_frame(f, &src, &err));
  gf_expr *pred = parse("x > 0.001 or y < 0");
  gf_expr *w = parse("y * 2 + k");
  const char *wn = "z";
  const char *sel[] = {"z", "d", "x"};
  OKE(gf_plan_filter(src, pred, &a, &err));
  OKE(gf_plan_with_columns(a, &wn, &w, 1, &b, &err));
  OKE(gf_plan_select(b, sel, 3, &c, &err));
  gf_frame *f1 = NULL, *f2 = NULL, *want = NULL;
  OKE(gf_filter(f, pred, NULL, &f1, &err));
  OKE(gf_with_columns(f1, &wn, &w, 1, NULL, &f2, &err));
  OKE(gf_select(f2, sel, 3, &want, &err));
  int64_t windows[] = {0, 999, 65536 * 2 + 1};
  for (size_t i = 0; i < sizeof workers / sizeof *workers; i++)
    for (size_t z = 0; z < 3; z++) {
      gf_frame *got = NULL;
      OKE(stream(c, workers[i], windows[z], NULL, &got, &err));
      assert_true(gf_frame_equals(got, want));
      gf_frame_release(got);
    }
  gf_frame_release(f1);
  gf_frame_release(f2);
  gf_frame_release(want);
  gf_expr_release(pred);
  gf_expr_release(w);
  gf_plan_release(a);
  gf_plan_release(b);
  gf_plan_release(c);
  gf_plan_release(src);
  gf_frame_release(f);
}

/* ---- CSV sources ------------------------------------------------------------ */

/* A CSV of `rows` rows: id (int), g (few strings, new ones appearing late:
 * the dictionary grows across windows), v (floats with many digits, ~7%
 * empty = null), w (int, ~5% "NA"), q (quoted text with commas and a
 * newline now and then). */
static void write_csv(const char *path, int64_t rows, uint64_t seed) {
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fprintf(fp, "id,g,v,w,q\n");
  uint64_t s = seed;
  for (int64_t i = 0; i < rows; i++) {
    uint64_t r = gft_rand_next(&s);
    int64_t lim = 2 + i / 1500;
    if (lim > 40) lim = 40;
    fprintf(fp, "%lld,g%02d,", (long long)(r % 1000), (int)((r >> 10) % (uint64_t)lim));
    if ((r >> 20) % 14 != 0) fprintf(fp, "%.17g", ldexp((double)(r >> 11) / 9007199254740992.0, (int)(r % 30) - 10));
    fputc(',', fp);
    if ((r >> 30) % 20 == 0) fputs("NA", fp);
    else fprintf(fp, "%lld", (long long)((r >> 32) % 2001) - 1000);
    fputc(',', fp);
    if ((r >> 44) % 50 == 0) fprintf(fp, "\"a, \"\"b\"\"\nc%lld\"", (long long)i);
    else fprintf(fp, "t%lld", (long long)(r >> 50));
    fputc('\n', fp);
  }
  fclose(fp);
}

/* Streamed CSV plans (windows of many sizes) vs the eager chain over the
 * whole read; the file is small enough for the sample to be all of it, so
 * both see one schema. Collect returns one frame-wide dictionary. */
static void test_csv_vs_eager(void **state) {
  (void)state;
  char path[256];
  tmp_path(path, sizeof path, "a.csv");
  write_csv(path, 20000, 5);
  gf_error err;
  gf_frame *whole = NULL;
  OKE(gf_read_csv(path, NULL, &whole, &err));
  assert_int_equal(gf_schema_field(gf_frame_schema(whole), 1)->type.id, GF_TYPE_DICTIONARY);
  gf_plan *src = NULL;
  OKE(gf_plan_scan_csv(path, NULL, &src, &err));
  const char *keys[] = {"g", "w"};
  static const char *aggs = "sum(v), mean(v), count(), min(v), max(id), first(v), last(w)";
  int64_t windows[] = {0, 1000, 4096 + 13, 65536 + 1, 300};
  for (int shape = 0; shape < 3; shape++) {
    gf_frame *want = shape == 0   ? eager(whole, "id > 100", keys, 1, aggs, false)
                     : shape == 1 ? eager(whole, "w < 500", keys, 2, aggs, true)
                                  : eager(whole, "v > 0.01", NULL, 0, NULL, false);
    gf_plan *p = shape == 0   ? plan_of(src, "id > 100", keys, 1, aggs, false)
                 : shape == 1 ? plan_of(src, "w < 500", keys, 2, aggs, true)
                              : plan_of(src, "v > 0.01", NULL, 0, NULL, false);
    for (size_t i = 0; i < sizeof workers / sizeof *workers; i++)
      for (size_t z = 0; z < sizeof windows / sizeof *windows; z++) {
        gf_frame *got = NULL;
        OKE(stream(p, workers[i], windows[z], NULL, &got, &err));
        if (!gf_frame_equals(got, want))
          fail_msg("shape %d workers %d window %lld: streamed != eager", shape, workers[i],
                   (long long)windows[z]);
        if (shape == 2) {
          /* Collect: one dictionary for the whole frame. */
          const gf_array *d0 = gf_array_dictionary(gf_frame_column(got, 0, 1));
          for (int b = 1; b < gf_frame_num_batches(got); b++)
            assert_ptr_equal(gf_array_dictionary(gf_frame_column(got, b, 1)), d0);
          assert_int_equal(gf_array_length(d0),
                           gf_array_length(gf_array_dictionary(gf_frame_column(whole, 0, 1))));
        }
        gf_frame_release(got);
      }
    /* gf_plan_collect streams this plan itself (a CSV file). */
    gf_frame *got = NULL;
    OKE(gf_plan_collect(p, NULL, &got, &err));
    assert_true(gf_frame_equals(got, want));
    gf_frame_release(got);
    gf_plan_release(p);
    gf_frame_release(want);
  }
  gf_plan_release(src);
  gf_frame_release(whole);
  unlink(path);
}

/* Limits stream and stop reading early: limit at the top, and under a
 * select (where the optimizer moves it), with an offset; vs the eager
 * slice, at windows that cut inside the limit. */
static void test_csv_limit(void **state) {
  (void)state;
  char path[256];
  tmp_path(path, sizeof path, "lim.csv");
  write_csv(path, 20000, 23);
  gf_error err;
  gf_frame *whole = NULL;
  OKE(gf_read_csv(path, NULL, &whole, &err));
  gf_plan *src = NULL;
  OKE(gf_plan_scan_csv(path, NULL, &src, &err));
  gf_frame *flt = eager(whole, "w > 100", NULL, 0, NULL, false);
  const char *sel[] = {"g", "v"};
  int64_t offs[] = {0, 7, 5000}, counts[] = {3, 4000, 100000};
  for (int i = 0; i < 3; i++) {
    gf_plan *f = plan_of(src, "w > 100", NULL, 0, NULL, false), *l = NULL, *p = NULL;
    OKE(gf_plan_limit(f, offs[i], counts[i], &l, &err));
    OKE(gf_plan_select(l, sel, 2, &p, &err));
    int64_t rows = gf_frame_num_rows(flt);
    int64_t off = offs[i] < rows ? offs[i] : rows;
    int64_t len = rows - off < counts[i] ? rows - off : counts[i];
    gf_frame *cut = NULL, *want = NULL;
    OKE(gf_frame_slice(flt, off, len, &cut, &err));
    OKE(gf_select(cut, sel, 2, &want, &err));
    int64_t windows[] = {0, 700, 5000};
    for (int z = 0; z < 3; z++) {
      gf_frame *got = NULL;
      OKE(stream(p, z + 1, windows[z], NULL, &got, &err));
      if (!gf_frame_equals(got, want)) fail_msg("limit %d window %lld: streamed != eager", i, (long long)windows[z]);
      gf_frame_release(got);
    }
    gf_frame_release(cut);
    gf_frame_release(want);
    gf_plan_release(f);
    gf_plan_release(l);
    gf_plan_release(p);
  }
  gf_frame_release(flt);
  gf_plan_release(src);
  gf_frame_release(whole);
  unlink(path);
}

/* A sort + limit above a group-by: gf_plan_collect streams the group-by
 * and sorts its result (the plan as a whole does not stream); vs the
 * eager chain. */
static void test_csv_groupby_then_sort(void **state) {
  (void)state;
  char path[256];
  tmp_path(path, sizeof path, "gs.csv");
  write_csv(path, 20000, 29);
  gf_error err;
  gf_frame *whole = NULL;
  OKE(gf_read_csv(path, NULL, &whole, &err));
  gf_plan *src = NULL;
  OKE(gf_plan_scan_csv(path, NULL, &src, &err));
  const char *keys[] = {"g", "w"};
  gf_plan *g = plan_of(src, "id > 10", keys, 2, "sum(v) as s, count() as n", false), *so = NULL;
  gf_sort_key sk[2] = {{"s", true, false}, {"g", false, false}};
  OKE(gf_plan_sort(g, sk, 2, &so, &err));
  gf_plan *lim = NULL;
  OKE(gf_plan_limit(so, 3, 50, &lim, &err));
  gf_frame *agg = eager(whole, "id > 10", keys, 2, "sum(v) as s, count() as n", false);
  gf_frame *sorted = NULL, *want = NULL;
  OKE(gf_sort(agg, sk, 2, 0, NULL, &sorted, &err));
  OKE(gf_frame_slice(sorted, 3, 50, &want, &err));
  for (int w = 1; w <= 3; w += 2) {
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    o.num_workers = w;
    gf_plan_options po;
    gf_plan_options_init(&po);
    po.parallel = &o;
    gf_frame *got = NULL;
    OKE(gf_plan_collect(lim, &po, &got, &err));
    assert_true(gf_frame_equals(got, want));
    gf_frame_release(got);
  }
  gf_frame_release(agg);
  gf_frame_release(sorted);
  gf_frame_release(want);
  gf_plan_release(g);
  gf_plan_release(so);
  gf_plan_release(lim);
  gf_plan_release(src);
  gf_frame_release(whole);
  unlink(path);
}

/* A value past the sampled parts of the file that does not fit the
 * inferred type fails with its own line, column and the hint; the file is
 * never read again. */
static void test_csv_late_value(void **state) {
  (void)state;
  char path[256];
  tmp_path(path, sizeof path, "late.csv");
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fprintf(fp, "a,b\n");
  int64_t rows = 400000, bad = 60000; /* ~1/8 of the file: between samples */
  for (int64_t i = 0; i < rows; i++) {
    if (i == bad) fprintf(fp, "x7,1\n");
    else fprintf(fp, "%lld,%lld\n", (long long)(i % 1000), (long long)i);
  }
  fclose(fp);
  gf_error err;
  gf_plan *src = NULL;
  OKE(gf_plan_scan_csv(path, NULL, &src, &err));
  const char *key = "a";
  gf_plan *p = plan_of(src, NULL, &key, 1, "sum(b)", false);
  gf_frame *got = NULL;
  for (int w = 0; w < 2; w++) {
    assert_int_equal(stream(p, w ? 3 : 1, w ? 100000 : 0, NULL, &got, &err), GF_EPARSE);
    assert_null(got);
    char want[64];
    snprintf(want, sizeof want, "late.csv:%lld:1:", (long long)bad + 2);
    if (!strstr(err.message, want)) fail_msg("no '%s' in: %s", want, err.message);
    assert_non_null(strstr(err.message, "\"a\""));
    assert_non_null(strstr(err.message, "column_types"));
    assert_non_null(strstr(err.message, "read the whole file first"));
  }
  gf_plan_release(p);
  gf_plan_release(src);
  unlink(path);
}

/* A failed streamed sink to a file leaves no file. */
static void test_failed_sink_no_file(void **state) {
  (void)state;
  char path[256], out[256];
  tmp_path(path, sizeof path, "bad.csv");
  tmp_path(out, sizeof out, "out.csv");
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fprintf(fp, "a,b\n");
  for (int64_t i = 0; i < 400000; i++) fprintf(fp, i == 70000 ? "q,1\n" : "%lld,2\n", (long long)i % 77);
  fclose(fp);
  gf_error err;
  gf_plan *src = NULL;
  OKE(gf_plan_scan_csv(path, NULL, &src, &err));
  const char *key = "a";
  gf_plan *p = plan_of(src, NULL, &key, 1, "sum(b)", false);
  unlink(out);
  assert_int_equal(gf_plan_sink_csv(p, out, NULL, NULL, &err), GF_EPARSE);
  assert_int_equal(access(out, F_OK), -1);
  assert_int_equal(gf_plan_sink_ipc(p, out, NULL, NULL, &err), GF_EPARSE);
  assert_int_equal(access(out, F_OK), -1);
  /* A filter streams its rows into the file as they come: the failure
   * after many windows were written removes the temporary file. */
  gf_plan *q = plan_of(src, "b > 0", NULL, 0, NULL, false);
  gf_plan_options po;
  gf_plan_options_init(&po);
  assert_int_equal(gf_plan_sink_csv(q, out, NULL, &po, &err), GF_EPARSE);
  assert_int_equal(access(out, F_OK), -1);
  char dir[256], *slash;
  snprintf(dir, sizeof dir, "%s", out);
  slash = strrchr(dir, '/');
  *slash = '\0';
  char cmd[600];
  snprintf(cmd, sizeof cmd, "ls %s | grep -c 'gf_stream_%d_out.csv' > /dev/null", dir, (int)getpid());
  assert_int_not_equal(system(cmd), 0); /* no temporary left either */
  gf_plan_release(q);
  gf_plan_release(p);
  gf_plan_release(src);
  unlink(path);
}

/* The streamed CSV file sink writes the bytes gf_write_csv writes for the
 * eager result (header once; dictionary values; nulls). */
static void test_csv_file_sink(void **state) {
  (void)state;
  char path[256], out[256], ref[256];
  tmp_path(path, sizeof path, "w.csv");
  tmp_path(out, sizeof out, "w_out.csv");
  tmp_path(ref, sizeof ref, "w_ref.csv");
  write_csv(path, 30000, 17);
  gf_error err;
  gf_frame *whole = NULL;
  OKE(gf_read_csv(path, NULL, &whole, &err));
  gf_plan *src = NULL;
  OKE(gf_plan_scan_csv(path, NULL, &src, &err));
  const char *preds[] = {"w > 0", "w > 5000"}; /* some rows; none */
  for (int i = 0; i < 2; i++) {
    gf_plan *p = plan_of(src, preds[i], NULL, 0, NULL, false);
    gf_frame *want = eager(whole, preds[i], NULL, 0, NULL, false);
    OKE(gf_write_csv(want, ref, NULL, &err));
    OKE(gf_plan_sink_csv(p, out, NULL, NULL, &err));
    FILE *a = fopen(out, "rb"), *b = fopen(ref, "rb");
    assert_non_null(a);
    assert_non_null(b);
    int ca, cb;
    int64_t n = 0;
    do {
      ca = fgetc(a);
      cb = fgetc(b);
      if (ca != cb) fail_msg("pred %d: byte %lld differs", i, (long long)n);
      n++;
    } while (ca != EOF);
    fclose(a);
    fclose(b);
    gf_frame_release(want);
    gf_plan_release(p);
  }
  unlink(out);
  unlink(ref);
  gf_plan_release(src);
  gf_frame_release(whole);
  unlink(path);
}

/* ---- stopping: cancel, deadline, memory limit ------------------------------ */

/* An allocator that requests cancellation at its Nth allocation: a cancel
 * arriving mid-stream, at a deterministic point. */
typedef struct cancel_alloc {
  gf_allocator self;
  gf_cancel *tok;
  atomic_llong n, at;
} cancel_alloc;

static void *ca_alloc(void *ctx, size_t size, size_t align) {
  cancel_alloc *c = ctx;
  if (atomic_fetch_add(&c->n, 1) + 1 == atomic_load(&c->at)) gf_cancel_request(c->tok);
  const gf_allocator *d = gf_default_allocator();
  return d->allocate(d->ctx, size, align);
}
static void *ca_realloc(void *ctx, void *p, size_t os, size_t ns, size_t align) {
  (void)ctx;
  const gf_allocator *d = gf_default_allocator();
  return d->reallocate(d->ctx, p, os, ns, align);
}
static void ca_free(void *ctx, void *p, size_t size, size_t align) {
  (void)ctx;
  const gf_allocator *d = gf_default_allocator();
  d->deallocate(d->ctx, p, size, align);
}

static void test_stop_mid_stream(void **state) {
  (void)state;
  char path[256];
  tmp_path(path, sizeof path, "stop.csv");
  write_csv(path, 60000, 11);
  gf_error err;
  gf_plan *src = NULL;
  OKE(gf_plan_scan_csv(path, NULL, &src, &err));
  const char *key = "g";
  gf_plan *p = plan_of(src, "id > 3", &key, 1, "sum(v)", false);
  /* Count the allocations of a whole run, then cancel at points through
   * it: always GF_ECANCELED (or done, past the last check), nothing kept. */
  cancel_alloc ca = {{ca_alloc, ca_realloc, ca_free, NULL}, NULL, 0, 0};
  ca.self.ctx = &ca;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.allocator = &ca.self;
  gf_frame *got = NULL;
  OKE(gf_cancel_new(&ca.tok, &err));
  o.cancel = ca.tok;
  OKE(stream(p, 2, 5000, &o, &got, &err));
  gf_frame_release(got);
  got = NULL;
  int64_t total = atomic_load(&ca.n);
  assert_true(total > 100);
  int cancelled = 0;
  for (int i = 1; i <= 9; i++) {
    gf_cancel_free(ca.tok);
    OKE(gf_cancel_new(&ca.tok, &err));
    o.cancel = ca.tok;
    atomic_store(&ca.n, 0);
    atomic_store(&ca.at, total * i / 10);
    gf_status st = stream(p, 2, 5000, &o, &got, &err);
    if (st == GF_OK) {
      gf_frame_release(got);
      got = NULL;
      continue;
    }
    assert_int_equal(st, GF_ECANCELED);
    assert_null(got);
    cancelled++;
  }
  assert_true(cancelled >= 7);
  gf_cancel_free(ca.tok);
  /* A deadline already passed: GF_ETIMEDOUT, before or between windows. */
  gf_parallel_options_init(&o);
  o.timeout_ms = 1;
  usleep(2000);
  gf_status st = GF_OK;
  for (int i = 0; i < 50 && st == GF_OK; i++) {
    st = stream(p, 1, 30000, &o, &got, &err);
    if (st == GF_OK) {
      gf_frame_release(got);
      got = NULL;
    }
  }
  assert_int_equal(st, GF_ETIMEDOUT);
  /* The memory limit covers the whole plan: too small fails cleanly. */
  gf_parallel_options_init(&o);
  o.memory_limit = 64 << 10;
  assert_int_equal(stream(p, 2, 0, &o, &got, &err), GF_ENOMEM);
  assert_null(got);
  assert_non_null(strstr(err.message, "limit"));
  o.memory_limit = 256 << 20;
  OKE(stream(p, 2, 0, &o, &got, &err));
  gf_frame_release(got);
  gf_plan_release(p);
  gf_plan_release(src);
  unlink(path);
}

/* ---- allocation failures ------------------------------------------------------ */

typedef struct sweep_ctx {
  const gf_plan *p;
  const gf_frame *want;
} sweep_ctx;

static gf_status sweep_run(void *user, const gf_allocator *a) {
  sweep_ctx *s = user;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.allocator = a;
  o.num_workers = 2;
  gf_frame *r = NULL;
  gf_error err;
  gf_status st = stream(s->p, 2, 5000, &o, &r, &err);
  if (st != GF_OK) return st;
  if (!gf_frame_equals(r, s->want)) fail_msg("%s: wrong result", gft_sweep_at());
  gf_frame_release(r);
  return GF_OK;
}

/* The streamed CSV file sink under allocation failures: every failed run
 * leaves no file, every run that succeeds leaves the right one. */
typedef struct sink_sweep {
  const gf_plan *p;
  const char *out;
  int64_t want_bytes;
} sink_sweep;

static gf_status sink_sweep_run(void *user, const gf_allocator *a) {
  sink_sweep *s = user;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.allocator = a;
  o.num_workers = 2;
  gf_plan_options po;
  gf_plan_options_init(&po);
  po.parallel = &o;
  gf_error err;
  unlink(s->out);
  gf_status st = gf_plan_sink_csv(s->p, s->out, NULL, &po, &err);
  FILE *fp = fopen(s->out, "rb");
  if (st != GF_OK) {
    if (fp) fail_msg("%s: a failed sink left %s", gft_sweep_at(), s->out);
    return st;
  }
  if (!fp) fail_msg("%s: no output", gft_sweep_at());
  fseek(fp, 0, SEEK_END);
  if (ftell(fp) != s->want_bytes) fail_msg("%s: wrong output size", gft_sweep_at());
  fclose(fp);
  return GF_OK;
}

static void test_sink_sweep(void **state) {
  (void)state;
  char path[256], out[256];
  tmp_path(path, sizeof path, "ssweep.csv");
  tmp_path(out, sizeof out, "ssweep_out.csv");
  write_csv(path, 300, 19);
  gf_error err;
  gf_plan *src = NULL;
  OKE(gf_plan_scan_csv(path, NULL, &src, &err));
  gf_plan *p = plan_of(src, "w > 0", NULL, 0, NULL, false);
  OKE(gf_plan_sink_csv(p, out, NULL, NULL, &err));
  FILE *fp = fopen(out, "rb");
  assert_non_null(fp);
  fseek(fp, 0, SEEK_END);
  sink_sweep s = {p, out, ftell(fp)};
  fclose(fp);
  gf_failing_allocator *fa = NULL;
  OKE(gf_failing_allocator_new(NULL, &fa, &err));
  gft_sweep_counts acc;
  memset(&acc, 0, sizeof acc);
  gft_alloc_sweep("streamed CSV file sink", fa, sink_sweep_run, &s, &acc);
  gft_sweep_print("streamed CSV file sink", &acc);
  gf_failing_allocator_free(fa);
  gf_plan_release(p);
  gf_plan_release(src);
  unlink(out);
  unlink(path);
}

static void test_alloc_sweep(void **state) {
  (void)state;
  char path[256];
  tmp_path(path, sizeof path, "sweep.csv");
  write_csv(path, 400, 13);
  gf_error err;
  gf_frame *whole = NULL;
  OKE(gf_read_csv(path, NULL, &whole, &err));
  gf_plan *src = NULL;
  OKE(gf_plan_scan_csv(path, NULL, &src, &err));
  const char *keys[] = {"g", "q"};
  gf_plan *p = plan_of(src, "w > 0", keys, 2, "sum(v), max(id)", true);
  gf_frame *want = eager(whole, "w > 0", keys, 2, "sum(v), max(id)", true);
  gf_failing_allocator *fa = NULL;
  OKE(gf_failing_allocator_new(NULL, &fa, &err));
  sweep_ctx s = {p, want};
  gft_sweep_counts acc;
  memset(&acc, 0, sizeof acc);
  gft_alloc_sweep("streamed CSV group-by", fa, sweep_run, &s, &acc);
  gft_sweep_print("streamed CSV group-by", &acc);
  gf_failing_allocator_free(fa);
  gf_frame_release(want);
  gf_plan_release(p);
  gf_plan_release(src);
  gf_frame_release(whole);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_frame_groupby_paths), cmocka_unit_test(test_frame_tiny_slices),
      cmocka_unit_test(test_frame_groupby_naive), cmocka_unit_test(test_frame_collect),
      cmocka_unit_test(test_csv_vs_eager),        cmocka_unit_test(test_csv_limit),
      cmocka_unit_test(test_csv_groupby_then_sort),
      cmocka_unit_test(test_csv_late_value),
      cmocka_unit_test(test_failed_sink_no_file), cmocka_unit_test(test_csv_file_sink),
      cmocka_unit_test(test_stop_mid_stream),     cmocka_unit_test(test_alloc_sweep),
      cmocka_unit_test(test_sink_sweep),
  };
  if (getenv("GF_STREAM_TEST")) cmocka_set_test_filter(getenv("GF_STREAM_TEST"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
