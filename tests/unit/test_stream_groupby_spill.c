/* The streaming group-by sink's spilled mode (src/exec/sink_groupby.c,
 * docs/SPILLING.md): the test hook (gfi_sink_group_by_test_spill) makes
 * every sink spill after a few groups, into 1..8 partitions; the results
 * must be bit for bit the eager group-by's (and so the in-memory sink's)
 * at 1/2/3/8 workers and several slice sizes, and agree with a naive
 * group-by written here (first-appearance order, row-order or block-order
 * float sums as the eager operator chooses). Inputs: int32, utf8,
 * dictionary and float64 keys with nulls (garbage under them), NaN, -0.0
 * and 0.0 in floats. Also: a real memory limit that forces the spill,
 * finish_into a CSV file sink, allocation-failure, ENOSPC and open-failure
 * sweeps over the spill paths, cancellation mid-spill, and no temporary
 * file left in the test's own GF_TMPDIR. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/array_internal.h"
#include "exec/spill_file.h"
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

static char tmpdir[256];

/* A fresh GF_TMPDIR of the test's own: spill files go there. */
static int setup(void **state) {
  (void)state;
  const char *t = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/gf_gbspill_%d", t ? t : "/tmp", (int)getpid());
  mkdir(tmpdir, 0700);
  setenv("GF_TMPDIR", tmpdir, 1);
  return 0;
}

/* Checks that no file survived in GF_TMPDIR, then removes it; the hook
 * and fault injection off. */
static int teardown(void **state) {
  (void)state;
  gfi_sink_group_by_test_spill(0, 0);
  gfi_spill_test_fault(-1, 0, 0);
  DIR *d = opendir(tmpdir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  if (d) closedir(d);
  rmdir(tmpdir);
  if (n) fail_msg("%d temporary file(s) left in %s", n, tmpdir);
  return 0;
}

static gf_expr *parse(const char *text) {
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse '%s': %s", text, err.message);
  return e;
}

/* ---- data ------------------------------------------------------------------ */

/* As test_stream.c's: k int32 key (ngroups values, ~8% null), d
 * dictionary<utf8> key, s utf8 key (7 values, ~5% null), x float64 of
 * mixed magnitudes with -0.0, 0.0 and NaN (~10% null), y int64, b bool;
 * in `nb` batches, then its garbage twin. */
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
      if (r2 % 103 == 0) x[i] = NAN;
      if (r2 % 107 == 0) x[i] = 0.0;
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
  OKE(gf_plan_group_by(p, keys, nkeys, aggs, sort_keys, &q, &err));
  gf_plan_release(p);
  return q;
}

/* gf_frame_equals, and float columns bit for bit (NaN payloads, -0.0). */
static bool same_bits(const gf_frame *a, const gf_frame *b) {
  if (!gf_frame_equals(a, b)) return false;
  gf_error err;
  gf_frame *ca = NULL, *cb = NULL;
  OKE(gf_frame_combine_batches(a, NULL, &ca, &err));
  OKE(gf_frame_combine_batches(b, NULL, &cb, &err));
  bool ok = true;
  for (int c = 0; ok && gf_frame_num_rows(ca) > 0 && c < gf_frame_num_columns(ca); c++) {
    const gf_array *x = gf_frame_column(ca, 0, c), *y = gf_frame_column(cb, 0, c);
    if (gf_array_type(x).id != GF_TYPE_FLOAT64) continue;
    for (int64_t i = 0; ok && i < gf_array_length(x); i++) {
      if (gf_array_is_null(x, i)) continue;
      double u = gf_array_get_double(x, i), v = gf_array_get_double(y, i);
      ok = memcmp(&u, &v, 8) == 0;
    }
  }
  gf_frame_release(ca);
  gf_frame_release(cb);
  return ok;
}

static const int workers[] = {1, 2, 3, 8};

/* Everything spills (a handful of groups in memory, 1..8 partitions):
 * every aggregate the sink supports, int / dictionary+utf8 / utf8+int /
 * float keys, both float paths (few groups: block partials; > 65,536
 * groups: row order), vs the eager chain at every worker count and slice
 * size, and vs the in-memory sink. */
static void test_spill_vs_eager(void **state) {
  (void)state;
  struct {
    int64_t rows, groups;
  } cases[] = {{140000, 37}, {140000, 100000}};
  static const char *aggs =
      "sum(x), mean(x), count(x), count(), sum(y), mean(y), min(x), max(x), min(y), max(y), "
      "first(x), last(y), min(b), max(b), sum(x) / count() as r";
  const char *keysets[][2] = {{"k", NULL}, {"d", "s"}, {"s", "k"}, {"x", NULL}};
  int nkeys[] = {1, 2, 2, 1};
  int64_t windows[] = {0, 65536 + 7, 4099};
  struct {
    int64_t groups;
    int parts;
  } hooks[] = {{1, 1}, {10, 3}, {700, 8}};
  bool san = gft_sanitized();
  if (san) cases[0].rows = 30000;
  int64_t opened0 = gfi_spill_files_opened();
  for (size_t c = 0; c < (san ? 1 : 2); c++) {
    gf_frame *f = make_frame(cases[c].rows, 5, cases[c].groups, 70 + c);
    gf_plan *src = NULL;
    gf_error err;
    OKE(gf_plan_from_frame(f, &src, &err));
    for (int ks = 0; ks < 4; ks++) {
      if (c == 1 && (ks == 1 || ks == 2)) continue; /* d x s: few groups; s x k: as k */
      gf_frame *want = eager(f, "y > -40000", keysets[ks], nkeys[ks], aggs, false);
      gf_plan *p = plan_of(src, "y > -40000", keysets[ks], nkeys[ks], aggs, false);
      gf_frame *mem = NULL;
      gfi_sink_group_by_test_spill(0, 0);
      OKE(stream(p, 2, 0, NULL, &mem, &err));
      assert_true(same_bits(mem, want));
      for (size_t h = 0; h < 3; h++) {
        gfi_sink_group_by_test_spill(hooks[h].groups, hooks[h].parts);
        /* 1 worker with the frame's batches, and one other worker count
         * and slice size per hook: all of them over the hooks. */
        size_t runs[2][2] = {{0, 0}, {1 + h, (h + 1) % 3}};
        for (size_t r = 0; r < 2; r++) {
          size_t w = runs[r][0], z = runs[r][1];
          gf_frame *got = NULL;
          OKE(stream(p, workers[w], windows[z], NULL, &got, &err));
          if (!same_bits(got, want) || !same_bits(got, mem))
            fail_msg("case %zu keys %d hook %zu workers %d window %lld: spilled != eager", c, ks, h,
                     workers[w], (long long)windows[z]);
          gf_frame_release(got);
        }
      }
      gfi_sink_group_by_test_spill(0, 0);
      gf_plan_release(p);
      gf_frame_release(want);
      gf_frame_release(mem);
    }
    gf_plan_release(src);
    gf_frame_release(f);
  }
  assert_true(gfi_spill_files_opened() > opened0);
}

/* An independent reference: a naive group-by over the input (first
 * appearance order; integer sums, counts, min, last; float sums in row
 * order, or per 65,536-row block combined in block order when the eager
 * operator takes its block path: <= 65,536 groups and groups x blocks <=
 * 2^22). */
static void check_naive(int64_t rows, int64_t ngroups, uint64_t seed, int64_t hook, int parts) {
  gf_frame *f = make_frame(rows, 3, ngroups, seed);
  gf_error err;
  gf_plan *src = NULL;
  OKE(gf_plan_from_frame(f, &src, &err));
  const char *key = "k";
  gf_plan *p = plan_of(src, NULL, &key, 1,
                       "count() as n, count(y) as cy, sum(y) as sy, sum(x) as sx, min(y) as mn, "
                       "last(y) as ly",
                       false);
  gfi_sink_group_by_test_spill(hook, parts);
  gf_frame *got0 = NULL, *got = NULL;
  OKE(stream(p, 3, 5003, NULL, &got0, &err));
  gfi_sink_group_by_test_spill(0, 0);
  OKE(gf_frame_combine_batches(got0, NULL, &got, &err));
  gf_frame_release(got0);
  /* Group of each key value (ngroups = the null key). */
  int64_t G = ngroups + 1;
  int64_t *gid = malloc(sizeof *gid * (size_t)G), *order = malloc(sizeof *order * (size_t)G);
  int64_t *n = calloc((size_t)G, 8), *cy = calloc((size_t)G, 8), *sy = calloc((size_t)G, 8);
  int64_t *mn = calloc((size_t)G, 8), *ly = calloc((size_t)G, 8), *cx = calloc((size_t)G, 8);
  double *rowsum = calloc((size_t)G, 8), *part = calloc((size_t)G, 8), *comb = calloc((size_t)G, 8);
  int64_t *pcount = calloc((size_t)G, 8), *pblk = malloc(sizeof *pblk * (size_t)G);
  for (int64_t i = 0; i < G; i++) {
    gid[i] = -1;
    pblk[i] = -1;
  }
  int64_t ng = 0, at = 0;
  /* Closes group q's open block partial into its combined sum. */
#define CLOSE(q)                                                  \
  do {                                                            \
    if (pblk[q] >= 0 && pcount[q] > 0) {                          \
      comb[q] = cx[q] > pcount[q] ? comb[q] + part[q] : part[q];  \
    }                                                             \
    part[q] = 0.0;                                                \
    pcount[q] = 0;                                                \
    pblk[q] = -1;                                                 \
  } while (0)
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *k = gf_frame_column(f, b, 0), *x = gf_frame_column(f, b, 3),
                   *y = gf_frame_column(f, b, 4);
    for (int64_t i = 0; i < gf_array_length(k); i++, at++) {
      int64_t kv = gf_array_is_null(k, i) ? ngroups : gf_array_get_int64(k, i);
      if (gid[kv] < 0) {
        gid[kv] = ng;
        order[ng++] = kv;
      }
      n[kv]++;
      if (!gf_array_is_null(y, i)) {
        int64_t v = gf_array_get_int64(y, i);
        if (!cy[kv] || v < mn[kv]) mn[kv] = v;
        cy[kv]++;
        sy[kv] += v;
        ly[kv] = v;
      }
      if (!gf_array_is_null(x, i)) {
        double v = gf_array_get_double(x, i);
        int64_t blk = at / 65536;
        if (pblk[kv] != blk) {
          CLOSE(kv);
          pblk[kv] = blk;
        }
        rowsum[kv] += v;
        part[kv] += v;
        pcount[kv]++;
        cx[kv]++;
      }
    }
  }
  for (int64_t q = 0; q < G; q++) CLOSE(q);
#undef CLOSE
  int64_t nblocks = (rows + 65535) / 65536;
  bool blockpath = ng <= 65536 && ng * nblocks <= (INT64_C(1) << 22);
  assert_int_equal(gf_frame_num_rows(got), ng);
  for (int64_t r = 0; r < ng; r++) {
    int64_t kv = order[r];
    const gf_array *kc = gf_frame_column(got, 0, 0);
    if (kv == ngroups) assert_true(gf_array_is_null(kc, r));
    else assert_int_equal(gf_array_get_int64(kc, r), kv);
    assert_int_equal(gf_array_get_int64(gf_frame_column(got, 0, 1), r), n[kv]);
    assert_int_equal(gf_array_get_int64(gf_frame_column(got, 0, 2), r), cy[kv]);
    const gf_array *c3 = gf_frame_column(got, 0, 3), *c5 = gf_frame_column(got, 0, 5),
                   *c6 = gf_frame_column(got, 0, 6), *c4 = gf_frame_column(got, 0, 4);
    if (cy[kv]) {
      assert_int_equal(gf_array_get_int64(c3, r), sy[kv]);
      assert_int_equal(gf_array_get_int64(c5, r), mn[kv]);
      assert_int_equal(gf_array_get_int64(c6, r), ly[kv]);
    } else {
      assert_true(gf_array_is_null(c3, r) && gf_array_is_null(c5, r) && gf_array_is_null(c6, r));
    }
    if (cx[kv]) {
      double want = blockpath ? comb[kv] : rowsum[kv], v = gf_array_get_double(c4, r);
      if (memcmp(&want, &v, 8) != 0)
        fail_msg("group %lld: sum(x) %.17g, naive %.17g (%s path)", (long long)kv, v, want,
                 blockpath ? "block" : "row");
    } else {
      assert_true(gf_array_is_null(c4, r));
    }
  }
  free(gid); free(order); free(n); free(cy); free(sy); free(mn); free(ly); free(cx);
  free(rowsum); free(part); free(comb); free(pcount); free(pblk);
  gf_frame_release(got);
  gf_plan_release(p);
  gf_plan_release(src);
  gf_frame_release(f);
}

static void test_spill_naive(void **state) {
  (void)state;
  bool san = gft_sanitized();
  check_naive(san ? 70000 : 150001, 50, 99, 5, 3);             /* block path */
  check_naive(san ? 70000 : 150001, 50, 98, 1, 1);
  if (!san) check_naive(200000, 120000, 97, 1000, 8);          /* row order */
  check_naive(san ? 60000 : 131073, 40000, 96, 300, 2);        /* block path, many groups */
}

/* A real memory limit (no hook): the sink spills on its own, the result
 * unchanged. */
static void test_memory_limit_spills(void **state) {
  (void)state;
  bool san = gft_sanitized();
  gf_frame *f = make_frame(san ? 100000 : 300000, 4, 250000, 5);
  gf_error err;
  gf_plan *src = NULL;
  OKE(gf_plan_from_frame(f, &src, &err));
  const char *keys[] = {"k", "s"};
  static const char *aggs = "sum(x), count(), max(y)";
  gf_frame *want = eager(f, NULL, keys, 2, aggs, false);
  gf_plan *p = plan_of(src, NULL, keys, 2, aggs, false);
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.memory_limit = 40 << 20;
  for (int w = 0; w < 4; w += 3) {
    int64_t opened = gfi_spill_files_opened();
    gf_frame *got = NULL;
    OKE(stream(p, workers[w], 20000, &o, &got, &err));
    assert_true(gfi_spill_files_opened() > opened);
    assert_true(same_bits(got, want));
    gf_frame_release(got);
  }
  gf_plan_release(p);
  gf_frame_release(want);
  gf_plan_release(src);
  gf_frame_release(f);
}

/* finish_into: the spilled result merged straight into the CSV file sink
 * gives the bytes gf_write_csv writes for the eager result; an in-memory
 * sink's too. */
static void test_finish_into_csv(void **state) {
  (void)state;
  gf_frame *f = make_frame(90000, 3, 30000, 12);
  gf_error err;
  const char *keys[] = {"s", "k"};
  static const char *aggs = "sum(x) as sx, count() as n, min(y), sum(y) / count() as r";
  gf_frame *want = eager(f, NULL, keys, 2, aggs, false);
  char pw[512], pg[512];
  snprintf(pw, sizeof pw, "%s/want.csv", tmpdir);
  snprintf(pg, sizeof pg, "%s/got.csv", tmpdir);
  OKE(gf_write_csv(want, pw, NULL, &err));
  gf_agg_list *l = NULL;
  OKE(gf_agg_parse(aggs, &l, &err));
  for (int mode = 0; mode < 2; mode++) {
    gfi_sink_group_by_test_spill(mode ? 100 : 0, mode ? 5 : 0);
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    o.num_workers = 2;
    gfi_sink *k = NULL, *c = NULL;
    OKE(gfi_sink_group_by(gf_frame_schema(f), keys, 2, l, false, &o, &k, &err));
    assert_non_null(k->finish_into);
    int64_t pos = 0;
    for (int b = 0; b < gf_frame_num_batches(f); b++) {
      gf_frame *s = NULL;
      OKE(gf_frame_slice(f, pos, gf_frame_batch_rows(f, b), &s, &err));
      OKE(k->push(k, s, pos, &err));
      pos += gf_frame_num_rows(s);
      gf_frame_release(s);
    }
    OKE(gfi_sink_csv_file(gf_frame_schema(want), pg, NULL, &o, &c, &err));
    OKE(k->finish_into(k, c, &err));
    gf_frame *none = NULL;
    OKE(c->finish(c, &none, &err));
    assert_null(none);
    c->free(c);
    k->free(k);
    /* Same bytes. */
    FILE *a = fopen(pw, "rb"), *b = fopen(pg, "rb");
    assert_non_null(a);
    assert_non_null(b);
    int ca, cb;
    int64_t at = 0;
    do {
      ca = fgetc(a);
      cb = fgetc(b);
      if (ca != cb) fail_msg("mode %d: CSV differs at byte %lld", mode, (long long)at);
      at++;
    } while (ca != EOF);
    fclose(a);
    fclose(b);
    unlink(pg);
  }
  gfi_sink_group_by_test_spill(0, 0);
  unlink(pw);
  gf_agg_list_free(l);
  gf_frame_release(want);
  gf_frame_release(f);
}

/* Allocation failures anywhere in a spilled run: GF_ENOMEM, nothing
 * leaked, or the right result. */
typedef struct sweep_ctx {
  const gf_plan *p;
  const gf_frame *want;
  int workers;
} sweep_ctx;

static gf_status sweep_run(void *user, const gf_allocator *a) {
  sweep_ctx *s = user;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.allocator = a;
  gf_frame *got = NULL;
  gf_error err;
  gf_status st = stream(s->p, s->workers, 700, &o, &got, &err);
  if (st == GF_OK) {
    if (!same_bits(got, s->want)) fail_msg("%s: wrong result", gft_sweep_at());
    gf_frame_release(got);
  } else if (got) {
    fail_msg("%s: output on failure", gft_sweep_at());
  }
  return st;
}

static void test_alloc_sweep(void **state) {
  (void)state;
  bool san = gft_sanitized();
  gf_frame *f = make_frame(san ? 800 : 2500, 2, 300, 31);
  gf_error err;
  gf_plan *src = NULL;
  OKE(gf_plan_from_frame(f, &src, &err));
  const char *keys[] = {"k", "s"};
  static const char *aggs = "sum(x), count(), max(y), first(b)";
  gf_frame *want = eager(f, NULL, keys, 2, aggs, false);
  gf_plan *p = plan_of(src, NULL, keys, 2, aggs, false);
  gfi_sink_group_by_test_spill(20, 3);
  gf_failing_allocator *fa = NULL;
  OKE(gf_failing_allocator_new(NULL, &fa, &err));
  gft_sweep_counts acc;
  memset(&acc, 0, sizeof acc);
  sweep_ctx s = {p, want, 1};
  gft_alloc_sweep("spilled streaming group-by", fa, sweep_run, &s, &acc);
  s.workers = 3;
  if (!san) gft_alloc_sweep("spilled streaming group-by", fa, sweep_run, &s, &acc);
  gft_sweep_print("spilled streaming group-by", &acc);
  gf_failing_allocator_free(fa);
  gfi_sink_group_by_test_spill(0, 0);
  gf_plan_release(p);
  gf_frame_release(want);
  gf_plan_release(src);
  gf_frame_release(f);
}

/* A full disk at every write of the spill (and a directory that cannot be
 * opened): GF_EIO naming the directory, no output; past the last write,
 * the right result. */
static void test_enospc_sweep(void **state) {
  (void)state;
  gf_frame *f = make_frame(20000, 3, 2000, 41);
  gf_error err;
  gf_plan *src = NULL;
  OKE(gf_plan_from_frame(f, &src, &err));
  const char *keys[] = {"d", "k"};
  static const char *aggs = "sum(x), count(), min(y)";
  gf_frame *want = eager(f, NULL, keys, 2, aggs, false);
  gf_plan *p = plan_of(src, NULL, keys, 2, aggs, false);
  gfi_sink_group_by_test_spill(50, 4);
  int failed = 0;
  gf_status st = GF_EIO;
  for (int64_t w = 0; st != GF_OK && w < 100000; w += 1 + w / 8) {
    gfi_spill_test_fault(w, ENOSPC, 0);
    gf_frame *got = NULL;
    st = stream(p, 2, 3001, NULL, &got, &err);
    gfi_spill_test_fault(-1, 0, 0);
    if (st == GF_OK) {
      assert_true(same_bits(got, want));
      gf_frame_release(got);
      break;
    }
    assert_int_equal(st, GF_EIO);
    assert_null(got);
    assert_non_null(strstr(err.message, tmpdir));
    failed++;
  }
  assert_int_equal(st, GF_OK);
  assert_true(failed > 3);
  gfi_spill_test_fault(-1, 0, EACCES);
  gf_frame *got = NULL;
  assert_int_equal(stream(p, 1, 0, NULL, &got, &err), GF_EIO);
  assert_null(got);
  gfi_spill_test_fault(-1, 0, 0);
  gfi_sink_group_by_test_spill(0, 0);
  gf_plan_release(p);
  gf_frame_release(want);
  gf_plan_release(src);
  gf_frame_release(f);
}

/* Cancellation at points through a spilled run (an allocator that
 * requests it after n allocations): GF_ECANCELED or done, nothing kept. */
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

static void test_cancel_mid_spill(void **state) {
  (void)state;
  gf_frame *f = make_frame(40000, 3, 5000, 51);
  gf_error err;
  gf_plan *src = NULL;
  OKE(gf_plan_from_frame(f, &src, &err));
  const char *key = "k";
  gf_plan *p = plan_of(src, NULL, &key, 1, "sum(x), count()", false);
  gfi_sink_group_by_test_spill(100, 4);
  cancel_alloc ca = {{ca_alloc, ca_realloc, ca_free, NULL}, NULL, 0, 0};
  ca.self.ctx = &ca;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.allocator = &ca.self;
  OKE(gf_cancel_new(&ca.tok, &err));
  o.cancel = ca.tok;
  gf_frame *got = NULL;
  OKE(stream(p, 2, 3000, &o, &got, &err));
  gf_frame_release(got);
  got = NULL;
  int64_t total = atomic_load(&ca.n);
  int cancelled = 0;
  for (int i = 1; i <= 19; i++) {
    gf_cancel_free(ca.tok);
    OKE(gf_cancel_new(&ca.tok, &err));
    o.cancel = ca.tok;
    atomic_store(&ca.n, 0);
    atomic_store(&ca.at, total * i / 20);
    gf_status st = stream(p, 2, 3000, &o, &got, &err);
    if (st == GF_OK) {
      gf_frame_release(got);
      got = NULL;
      continue;
    }
    assert_int_equal(st, GF_ECANCELED);
    assert_null(got);
    cancelled++;
  }
  assert_true(cancelled >= 15);
  gf_cancel_free(ca.tok);
  gfi_sink_group_by_test_spill(0, 0);
  gf_plan_release(p);
  gf_plan_release(src);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_spill_vs_eager, setup, teardown),
      cmocka_unit_test_setup_teardown(test_spill_naive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_memory_limit_spills, setup, teardown),
      cmocka_unit_test_setup_teardown(test_finish_into_csv, setup, teardown),
      cmocka_unit_test_setup_teardown(test_alloc_sweep, setup, teardown),
      cmocka_unit_test_setup_teardown(test_enospc_sweep, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cancel_mid_spill, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
