/* Streaming file sources (src/exec/source_ipc.c, source_parquet.c,
 * source_batches.c, src/plan/plan_stream_source.c): plans over an Arrow IPC
 * file and a Parquet file, streamed batch by batch / row group by row
 * group with read-ahead, against the eager chain over the whole read
 * (gf_read_ipc_file / gf_read_parquet, then gf_filter and gf_group_by) bit
 * for bit at 1/2/3/8 workers and several batch / row-group layouts (empty
 * batches included), and against naive loops over the generated values
 * for counts and integer sums; nulls with garbage under them; dictionary
 * columns; row groups pruned by statistics; a corrupt batch in the middle
 * (the error names the file and the batch; at any worker count the same
 * one; nothing written); cancellation, deadline, memory limit; allocation
 * failure sweeps (IPC file and stream format, Parquet, ArrowArrayStream);
 * the prefetching wrapper against its inner source; ArrowArrayStream
 * sources (fallback leaves the stream whole, consumed twice, a producer
 * failing mid-stream). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/array_internal.h"
#include "exec/exec_internal.h"
#include "exec/stream_internal.h"
#include "gf_test_data.h"
#include "gf_test_garbage.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"
#include "plan/plan_internal.h"

#define OKE(x)                                                           \
  do {                                                                   \
    gf_status s_ = (x);                                                  \
    if (s_ != GF_OK) fail_msg("%s -> %d: %s", #x, (int)s_, err.message); \
  } while (0)

#define NKEY 37

static void tmp_path(char *p, size_t n, const char *name) {
  const char *dir = getenv("TMPDIR");
  snprintf(p, n, "%s/gf_ssrc_%d_%s", dir ? dir : "/tmp", (int)getpid(), name);
}

static gf_expr *parse(const char *text) {
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse '%s': %s", text, err.message);
  return e;
}

/* What the naive loops check: per key k (0..NKEY-1, valid rows with
 * y > 0), the row count and the sum of y (valid y only). */
typedef struct naive {
  int64_t cnt[NKEY], sum[NKEY];
} naive;

/* A frame of batches of sizes[0..nb) rows: k int32 key (NKEY values, ~8%
 * null), y int64 rising with the row (so Parquet statistics can prune;
 * ~9% null), x float64 of mixed magnitudes (~10% null), d dictionary<utf8>
 * (one frame-wide dictionary), s utf8 (~5% null); nulls get garbage under
 * them. `nv` (may be NULL) receives the naive sums. */
static gf_frame *make_frame(const int64_t *sizes, int nb, uint64_t seed, naive *nv) {
  static const char *const ss[] = {"a", "bb", "ccc", "é", "", "ffff", "g"};
  static const char *const dv[] = {"red", "green", "blue", "cyan", "magenta"};
  gf_array *dict = gft_string_array(gf_type(GF_TYPE_UTF8), dv, 5);
  gf_array **cols = calloc((size_t)nb * 5 + 1, sizeof *cols);
  uint64_t s = seed;
  int64_t at = 0;
  if (nv) memset(nv, 0, sizeof *nv);
  for (int b = 0; b < nb; b++) {
    int64_t n = sizes[b];
    int64_t *k = calloc((size_t)n + 1, sizeof *k), *y = calloc((size_t)n + 1, sizeof *y);
    int64_t *dc = calloc((size_t)n + 1, sizeof *dc);
    double *x = calloc((size_t)n + 1, sizeof *x);
    bool *kv = calloc((size_t)n + 1, 1), *yv = calloc((size_t)n + 1, 1), *xv = calloc((size_t)n + 1, 1);
    bool *dcv = calloc((size_t)n + 1, 1);
    const char **st = calloc((size_t)n + 1, sizeof *st);
    for (int64_t i = 0; i < n; i++, at++) {
      uint64_t r = gft_rand_next(&s), r2 = gft_rand_next(&s);
      k[i] = (int64_t)(r % NKEY);
      kv[i] = (r >> 40) % 13 != 0;
      y[i] = at * 3 - 1000 + (int64_t)((r >> 8) % 5);
      yv[i] = (r >> 20) % 11 != 0;
      x[i] = (double)(int64_t)(r2 >> 11) * ((r2 & 1) ? 1e-9 : 1e6) * ((r2 & 2) ? -1 : 1);
      xv[i] = (r2 >> 30) % 10 != 0;
      dc[i] = (int64_t)((r2 >> 40) % 5);
      dcv[i] = (r2 >> 50) % 17 != 0;
      st[i] = (r >> 30) % 20 == 0 ? NULL : ss[(r >> 33) % 7];
      if (nv && kv[i] && yv[i] && y[i] > 0) {
        nv->cnt[k[i]]++;
        nv->sum[k[i]] += y[i];
      }
    }
    cols[b * 5 + 0] = gft_int64_array(gf_type(GF_TYPE_INT32), k, kv, n);
    cols[b * 5 + 1] = gft_int64_array(gf_type(GF_TYPE_INT64), y, yv, n);
    cols[b * 5 + 2] = gft_double_array(gf_type(GF_TYPE_FLOAT64), x, xv, n);
    gf_array *codes = gft_int64_array(gf_type(GF_TYPE_INT32), dc, dcv, n);
    gf_buffer *bufs[3] = {codes->buffers[0] ? gf_buffer_retain(codes->buffers[0]) : NULL,
                          gf_buffer_retain(codes->buffers[1]), NULL};
    gf_error e0;
    if (gfi_array_make(NULL, gf_type_dictionary(gf_type(GF_TYPE_UTF8)), n, codes->offset,
                       codes->null_count, bufs, dict, &cols[b * 5 + 3], &e0) != GF_OK)
      fail_msg("dictionary array: %s", e0.message);
    gf_array_release(codes);
    cols[b * 5 + 4] = gft_string_array(gf_type(GF_TYPE_UTF8), st, n);
    free(k); free(y); free(dc); free(x); free(kv); free(yv); free(xv); free(dcv); free(st);
  }
  gf_array_release(dict);
  gf_field fields[5] = {{"k", gf_type(GF_TYPE_INT32), true},
                        {"y", gf_type(GF_TYPE_INT64), true},
                        {"x", gf_type(GF_TYPE_FLOAT64), true},
                        {"d", gf_type_dictionary(gf_type(GF_TYPE_UTF8)), true},
                        {"s", gf_type(GF_TYPE_UTF8), true}};
  gf_schema *sc = NULL;
  gf_error err;
  OKE(gf_schema_new(fields, 5, &sc, &err));
  gf_frame *f = NULL;
  OKE(gf_frame_new(sc, cols, nb, NULL, &f, &err));
  gf_schema_release(sc);
  for (int i = 0; i < nb * 5; i++) gf_array_release(cols[i]);
  free(cols);
  gf_frame *g = gft_garbage_frame(f, seed ^ 0x5eed);
  gf_frame_release(f);
  return g;
}

static void write_ipc(const gf_frame *f, const char *path) {
  gf_error err;
  OKE(gf_write_ipc_file(f, path, NULL, &err));
}

static void write_pq(const gf_frame *f, const char *path, int64_t rg_rows) {
  gf_error err;
  gf_parquet_write_options o;
  gf_parquet_write_options_init(&o);
  o.row_group_rows = rg_rows;
  OKE(gf_write_parquet(f, path, &o, &err));
}

/* Streams optimized `p` (it must stream) with `workers`. */
static gf_status stream(const gf_plan *p, int workers, const gf_parallel_options *base,
                        gf_frame **out, gf_error *err) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  if (base) o = *base;
  o.num_workers = workers;
  gf_plan *opt = NULL;
  gf_status st = gf_plan_optimize(p, GF_PLAN_RULES_ALL, &opt, err);
  if (st != GF_OK) return st;
  bool handled = false;
  st = gfi_plan_stream(opt, &o, 0, false, NULL, out, &handled, err);
  gf_plan_release(opt);
  if (st == GF_OK && !handled) fail_msg("the plan did not stream");
  return st;
}

/* The eager chain over the whole read. */
static gf_frame *eager(const gf_frame *f, const char *pred, const char *const *keys, int nkeys,
                       const char *aggs) {
  gf_error err;
  gf_frame *flt = NULL, *out = NULL;
  gf_expr *e = parse(pred);
  OKE(gf_filter(f, e, NULL, &flt, &err));
  gf_expr_release(e);
  if (!keys) return flt;
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.sort_keys = true;
  OKE(gf_group_by_text(flt, keys, nkeys, aggs, &go, &out, &err));
  gf_frame_release(flt);
  return out;
}

static gf_plan *plan_of(gf_plan *src, const char *pred, const char *const *keys, int nkeys,
                        const char *aggs) {
  gf_error err;
  gf_plan *p = NULL, *q = NULL;
  gf_expr *e = parse(pred);
  OKE(gf_plan_filter(src, e, &p, &err));
  gf_expr_release(e);
  if (keys) {
    OKE(gf_plan_group_by(p, keys, nkeys, aggs, true, &q, &err));
    gf_plan_release(p);
    p = q;
  }
  return p;
}

static const int workers[] = {1, 2, 3, 8};
static const char *const AGGS = "count(), sum(y), sum(x), mean(x), min(x), max(y), first(x), last(y)";

/* Checks the naive loops against a streamed "y > 0" group-by by k with
 * count() and sum(y) (rows sorted by key; the null key group last). */
static void check_naive(const gf_frame *g, const naive *nv) {
  int64_t rows = gf_frame_num_rows(g), seen = 0;
  gf_error err;
  gf_frame *one = NULL;
  OKE(gf_frame_concat((gf_frame *const *)&g, 1, NULL, &one, &err));
  const gf_array *k = gf_frame_column(one, 0, 0), *cn = gf_frame_column(one, 0, 1),
                 *sm = gf_frame_column(one, 0, 2);
  for (int64_t r = 0; r < rows; r++) {
    if (gf_array_is_null(k, r)) continue;
    int64_t key = gf_array_get_int64(k, r);
    assert_true(key >= 0 && key < NKEY);
    assert_int_equal(gf_array_get_int64(cn, r), nv->cnt[key]);
    assert_int_equal(gf_array_get_int64(sm, r), nv->sum[key]);
    seen++;
  }
  int64_t want = 0;
  for (int q = 0; q < NKEY; q++) want += nv->cnt[q] > 0;
  assert_int_equal(seen, want);
  gf_frame_release(one);
}

/* One file (IPC or Parquet) against the eager chain and the naive loops. */
static void check_file(const char *path, bool pq, const naive *nv) {
  gf_error err;
  gf_frame *whole = NULL;
  gf_plan *src = NULL;
  if (pq) {
    OKE(gf_read_parquet(path, NULL, &whole, &err));
    OKE(gf_plan_scan_parquet(path, NULL, &src, &err));
  } else {
    /* gf_read_ipc: a file or, without the magic, the stream format. */
    OKE(gf_read_ipc(path, NULL, &whole, &err));
    OKE(gf_plan_scan_ipc(path, NULL, &src, &err));
  }
  const char *k1[] = {"k"}, *k2[] = {"d", "k"}, *k3[] = {"s"};
  struct {
    const char *pred;
    const char *const *keys;
    int nkeys;
    const char *aggs;
  } shapes[] = {{"y > 0", k1, 1, "count(), sum(y)"},
                {"y > 0", k1, 1, AGGS},
                {"x > 0 or k < 3", k2, 2, AGGS},
                {"y > 500", k3, 1, "count(), sum(x), min(y)"},
                {"k < 20", NULL, 0, NULL}};
  for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++) {
    gf_frame *want = eager(whole, shapes[sh].pred, shapes[sh].keys, shapes[sh].nkeys, shapes[sh].aggs);
    gf_plan *p = plan_of(src, shapes[sh].pred, shapes[sh].keys, shapes[sh].nkeys, shapes[sh].aggs);
    for (size_t w = 0; w < sizeof workers / sizeof *workers; w++) {
      gf_frame *got = NULL;
      OKE(stream(p, workers[w], NULL, &got, &err));
      if (!gf_frame_equals(got, want))
        fail_msg("%s shape %zu workers %d: streamed != eager", path, sh, workers[w]);
      if (sh == 0) check_naive(got, nv);
      gf_frame_release(got);
    }
    /* gf_plan_collect streams the file itself. */
    gf_frame *got = NULL;
    OKE(gf_plan_collect(p, NULL, &got, &err));
    assert_true(gf_frame_equals(got, want));
    gf_frame_release(got);
    gf_plan_release(p);
    gf_frame_release(want);
  }
  gf_plan_release(src);
  gf_frame_release(whole);
}

/* Layouts: many small batches (empty ones among them), sizes that cut the
 * 65,536-row grid, one batch; zero rows. */
static void test_ipc_vs_eager(void **state) {
  (void)state;
  gf_error err;
  char path[256];
  tmp_path(path, sizeof path, "a.arrow");
  int64_t l1[] = {1000, 0, 7, 3000, 1, 0, 2500, 999}, l2[] = {65543, 70001, 3}, l3[] = {20000};
  const int64_t *ls[] = {l1, l2, l3};
  int ns[] = {8, 3, 1};
  for (int l = 0; l < 3; l++) {
    naive nv;
    gf_frame *f = make_frame(ls[l], ns[l], 7 + (uint64_t)l, &nv);
    write_ipc(f, path);
    check_file(path, false, &nv);
    /* The stream format: message by message. */
    OKE(gf_write_ipc_stream(f, path, NULL, &err));
    check_file(path, false, &nv);
    gf_frame_release(f);
  }
  unlink(path);
}

static void test_parquet_vs_eager(void **state) {
  (void)state;
  char path[256];
  tmp_path(path, sizeof path, "a.parquet");
  int64_t sz[] = {150000};
  naive nv;
  gf_frame *f = make_frame(sz, 1, 3, &nv);
  int64_t rgs[] = {1000, 7777, 65537, 200000};
  for (int r = 0; r < 4; r++) {
    write_pq(f, path, rgs[r]);
    check_file(path, true, &nv);
  }
  gf_frame_release(f);
  unlink(path);
}

/* Row groups ruled out by the pushed predicate's statistics are not
 * read, and the answer is the whole read's. */
static void test_parquet_pruning(void **state) {
  (void)state;
  char path[256];
  tmp_path(path, sizeof path, "prune.parquet");
  int64_t sz[] = {50000};
  gf_frame *f = make_frame(sz, 1, 9, NULL);
  write_pq(f, path, 5000);
  gf_frame_release(f);
  gf_error err;
  gf_frame *whole = NULL;
  OKE(gf_read_parquet(path, NULL, &whole, &err));
  gf_plan *src = NULL;
  OKE(gf_plan_scan_parquet(path, NULL, &src, &err));
  const char *k[] = {"k"};
  gf_plan *p = plan_of(src, "y > 120000", k, 1, AGGS);
  gf_frame *want = eager(whole, "y > 120000", k, 1, AGGS);
  for (size_t w = 0; w < sizeof workers / sizeof *workers; w++) {
    gf_frame *got = NULL;
    OKE(stream(p, workers[w], NULL, &got, &err));
    assert_true(gf_frame_equals(got, want));
    gf_frame_release(got);
    /* y rises with the row: the first 8 of 10 row groups hold y <= 120000. */
    assert_true(gf_plan_parquet_row_groups_skipped(src) >= 7);
  }
  gf_frame_release(want);
  gf_plan_release(p);
  gf_plan_release(src);
  gf_frame_release(whole);
  unlink(path);
}

/* Files without rows: an IPC file of no batch, one of an empty batch, a
 * Parquet file of zero rows. */
static void test_empty(void **state) {
  (void)state;
  char path[256];
  gf_error err;
  int64_t z[] = {0};
  for (int kind = 0; kind < 3; kind++) {
    tmp_path(path, sizeof path, kind == 2 ? "e.parquet" : "e.arrow");
    gf_frame *f = make_frame(z, kind == 0 ? 0 : 1, 1, NULL);
    if (kind == 2) write_pq(f, path, 1000);
    else write_ipc(f, path);
    gf_frame *whole = NULL;
    gf_plan *src = NULL;
    if (kind == 2) {
      OKE(gf_read_parquet(path, NULL, &whole, &err));
      OKE(gf_plan_scan_parquet(path, NULL, &src, &err));
    } else {
      OKE(gf_read_ipc_file(path, NULL, &whole, &err));
      OKE(gf_plan_scan_ipc(path, NULL, &src, &err));
    }
    const char *k[] = {"k"};
    gf_plan *p = plan_of(src, "y > 0", k, 1, AGGS);
    gf_frame *want = eager(whole, "y > 0", k, 1, AGGS), *got = NULL;
    OKE(stream(p, 2, NULL, &got, &err));
    assert_true(gf_frame_equals(got, want));
    assert_int_equal(gf_frame_num_rows(got), 0);
    gf_frame_release(got);
    gf_frame_release(want);
    gf_plan_release(p);
    gf_plan *c = plan_of(src, "y > 0", NULL, 0, NULL);
    OKE(stream(c, 3, NULL, &got, &err));
    assert_int_equal(gf_frame_num_rows(got), 0);
    gf_frame_release(got);
    gf_plan_release(c);
    gf_plan_release(src);
    gf_frame_release(whole);
    gf_frame_release(f);
    unlink(path);
  }
}

/* Overwrites the `n` bytes before the first occurrence of `mark` in the
 * file, and with `self` the mark itself, with 0xff. */
static void clobber_before(const char *path, const char *mark, long n, bool self) {
  FILE *fp = fopen(path, "r+b");
  assert_non_null(fp);
  fseek(fp, 0, SEEK_END);
  long size = ftell(fp);
  char *b = malloc((size_t)size);
  fseek(fp, 0, SEEK_SET);
  assert_int_equal(fread(b, 1, (size_t)size, fp), (size_t)size);
  size_t ml = strlen(mark);
  long at = -1;
  for (long i = 0; i + (long)ml <= size && at < 0; i++)
    if (memcmp(b + i, mark, ml) == 0) at = i;
  assert_true(at > n);
  memset(b + at - n, 0xff, (size_t)n + (self ? ml : 0));
  fseek(fp, 0, SEEK_SET);
  assert_int_equal(fwrite(b, 1, (size_t)size, fp), (size_t)size);
  fclose(fp);
  free(b);
}

/* A frame of three batches of one utf8 column whose middle batch holds
 * the marker values. */
static gf_frame *marked_frame(void) {
  const char *v0[] = {"a", "b", "c", "d"}, *v1[] = {"MARKMARK1", "MARKMARK2", "x", "y"};
  gf_array *c[3] = {gft_string_array(gf_type(GF_TYPE_UTF8), v0, 4),
                    gft_string_array(gf_type(GF_TYPE_UTF8), v1, 4),
                    gft_string_array(gf_type(GF_TYPE_UTF8), v0, 4)};
  gf_field fl = {"s", gf_type(GF_TYPE_UTF8), true};
  gf_schema *sc = NULL;
  gf_error err;
  OKE(gf_schema_new(&fl, 1, &sc, &err));
  gf_frame *f = NULL;
  OKE(gf_frame_new(sc, c, 3, NULL, &f, &err));
  gf_schema_release(sc);
  for (int i = 0; i < 3; i++) gf_array_release(c[i]);
  return f;
}

/* A corrupt batch in the middle fails the run with the file and the
 * batch named, the same at every worker count, and a file sink writes
 * nothing. */
static void test_corrupt_middle(void **state) {
  (void)state;
  char path[256], out[256];
  tmp_path(out, sizeof out, "bad_out.csv");
  for (int fmt = 0; fmt < 2; fmt++) {
  char first[GF_ERROR_MESSAGE_SIZE] = "";
  tmp_path(path, sizeof path, fmt ? "bad.arrows" : "bad.arrow");
  gf_frame *f = marked_frame();
  gf_error err;
  if (fmt) OKE(gf_write_ipc_stream(f, path, NULL, &err));
  else write_ipc(f, path);
  gf_frame_release(f);
  /* Invalid UTF-8 in a value: the structure stays sound (the plan's
   * metadata-only read at build passes), full validation of the batch
   * fails when the run reaches it. */
  clobber_before(path, "MARKMARK1", 0, true);
  gf_plan *src = NULL;
  OKE(gf_plan_scan_ipc(path, NULL, &src, &err));
  gf_plan *p = plan_of(src, "s != 'zz'", NULL, 0, NULL);
  for (size_t w = 0; w < sizeof workers / sizeof *workers; w++) {
    gf_frame *got = NULL;
    gf_status st = stream(p, workers[w], NULL, &got, &err);
    if (st != GF_EINVAL) fail_msg("workers %d: %d %s", workers[w], (int)st, err.message);
    assert_null(got);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "record batch 1"));
    if (!first[0]) strcpy(first, err.message);
    else assert_string_equal(err.message, first);
  }
  gf_plan_options po;
  gf_plan_options_init(&po);
  unlink(out);
  assert_int_equal(gf_plan_sink_csv(p, out, NULL, &po, &err), GF_EINVAL);
  assert_int_equal(access(out, F_OK), -1);
  gf_plan_release(p);
  gf_plan_release(src);
  unlink(path);
  }
}

/* Parquet: a value's length prefix in the middle row group made huge. */
static void test_corrupt_middle_parquet(void **state) {
  (void)state;
  char path[256];
  tmp_path(path, sizeof path, "bad.parquet");
  gf_frame *f = marked_frame();
  gf_error err;
  gf_parquet_write_options o;
  gf_parquet_write_options_init(&o);
  o.row_group_rows = 4;
  o.no_dictionary = true;
  OKE(gf_write_parquet(f, path, &o, &err));
  gf_frame_release(f);
  clobber_before(path, "MARKMARK1", 4, false);
  gf_plan *src = NULL;
  OKE(gf_plan_scan_parquet(path, NULL, &src, &err));
  gf_plan *p = plan_of(src, "s != 'zz'", NULL, 0, NULL);
  char first[GF_ERROR_MESSAGE_SIZE] = "";
  for (size_t w = 0; w < sizeof workers / sizeof *workers; w++) {
    gf_frame *got = NULL;
    gf_status st = stream(p, workers[w], NULL, &got, &err);
    assert_int_not_equal(st, GF_OK);
    assert_null(got);
    if (!strstr(err.message, path) || !strstr(err.message, "row group 1")) fail_msg("%s", err.message);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "row group 1"));
    if (!first[0]) strcpy(first, err.message);
    else assert_string_equal(err.message, first);
  }
  gf_plan_release(p);
  gf_plan_release(src);
  unlink(path);
}

/* Cancellation, a passed deadline and a too small memory limit stop a
 * streamed file run cleanly; a large enough limit does not. */
static void test_stop(void **state) {
  (void)state;
  char path[256];
  gf_error err;
  int64_t sz[] = {5000, 5000, 5000, 5000, 5000, 5000};
  gf_frame *f = make_frame(sz, 6, 21, NULL);
  for (int pq = 0; pq < 2; pq++) {
    tmp_path(path, sizeof path, pq ? "stop.parquet" : "stop.arrow");
    if (pq) write_pq(f, path, 5000);
    else write_ipc(f, path);
    gf_plan *src = NULL;
    if (pq) OKE(gf_plan_scan_parquet(path, NULL, &src, &err));
    else OKE(gf_plan_scan_ipc(path, NULL, &src, &err));
    const char *k[] = {"k"};
    gf_plan *p = plan_of(src, "y > 0", k, 1, AGGS);
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    gf_cancel *tok = NULL;
    OKE(gf_cancel_new(&tok, &err));
    gf_cancel_request(tok);
    o.cancel = tok;
    gf_frame *got = NULL;
    assert_int_equal(stream(p, 2, &o, &got, &err), GF_ECANCELED);
    assert_null(got);
    gf_cancel_free(tok);
    gf_parallel_options_init(&o);
    o.timeout_ms = 1;
    usleep(3000);
    gf_status st = GF_OK;
    for (int i = 0; i < 50 && st == GF_OK; i++) {
      st = stream(p, 2, &o, &got, &err);
      if (st == GF_OK) gf_frame_release(got);
      got = NULL;
    }
    assert_int_equal(st, GF_ETIMEDOUT);
    gf_parallel_options_init(&o);
    o.memory_limit = 16 << 10;
    assert_int_equal(stream(p, 2, &o, &got, &err), GF_ENOMEM);
    assert_null(got);
    o.memory_limit = 256 << 20;
    OKE(stream(p, 2, &o, &got, &err));
    gf_frame_release(got);
    gf_plan_release(p);
    gf_plan_release(src);
    unlink(path);
  }
  gf_frame_release(f);
}

typedef struct sweep_ctx {
  const gf_plan *p;
  const gf_frame *want;
} sweep_ctx;

static gf_status sweep_run(void *user, const gf_allocator *a) {
  sweep_ctx *s = user;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.allocator = a;
  gf_frame *r = NULL;
  gf_error err;
  gf_status st = stream(s->p, 2, &o, &r, &err);
  if (st != GF_OK) return st;
  if (!gf_frame_equals(r, s->want)) fail_msg("%s: wrong result", gft_sweep_at());
  gf_frame_release(r);
  return GF_OK;
}

/* The ArrowArrayStream source under allocation failures: a fresh export
 * of the frame per run (a stream is consumed once). */
typedef struct stream_sweep {
  gf_frame *f;
  const gf_frame *want;
} stream_sweep;

static gf_status stream_sweep_run(void *user, const gf_allocator *a) {
  stream_sweep *s = user;
  gf_error err;
  struct ArrowArrayStream as;
  OKE(gf_frame_export_stream(s->f, &as, &err));
  gf_plan *src = NULL;
  OKE(gf_plan_from_stream(&as, &src, &err));
  const char *k[] = {"d", "k"};
  gf_plan *p = plan_of(src, "y > 0", k, 2, "sum(x), count()");
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.allocator = a;
  gf_frame *r = NULL;
  gf_status st = stream(p, 2, &o, &r, &err);
  gf_plan_release(p);
  gf_plan_release(src);
  if (st != GF_OK) return st;
  if (!gf_frame_equals(r, s->want)) fail_msg("%s: wrong result", gft_sweep_at());
  gf_frame_release(r);
  return GF_OK;
}

static void test_alloc_sweep(void **state) {
  (void)state;
  char path[256];
  gf_error err;
  int64_t sz[] = {300, 0, 200, 100};
  gf_frame *f = make_frame(sz, 4, 31, NULL);
  for (int pq = 0; pq < 3; pq++) {
    tmp_path(path, sizeof path, pq == 1 ? "sw.parquet" : "sw.arrow");
    gf_frame *whole = NULL;
    gf_plan *src = NULL;
    if (pq == 1) {
      write_pq(f, path, 150);
      OKE(gf_read_parquet(path, NULL, &whole, &err));
      OKE(gf_plan_scan_parquet(path, NULL, &src, &err));
    } else {
      if (pq == 2) OKE(gf_write_ipc_stream(f, path, NULL, &err));
      else write_ipc(f, path);
      OKE(gf_read_ipc(path, NULL, &whole, &err));
      OKE(gf_plan_scan_ipc(path, NULL, &src, &err));
    }
    const char *k[] = {"d", "k"};
    gf_plan *p = plan_of(src, "y > 0", k, 2, "sum(x), count()");
    gf_frame *want = eager(whole, "y > 0", k, 2, "sum(x), count()");
    gf_failing_allocator *fa = NULL;
    OKE(gf_failing_allocator_new(NULL, &fa, &err));
    sweep_ctx s = {p, want};
    gft_sweep_counts acc;
    memset(&acc, 0, sizeof acc);
    const char *name = pq == 1 ? "streamed Parquet group-by"
                       : pq == 2 ? "streamed IPC stream-format group-by"
                                 : "streamed IPC file group-by";
    gft_alloc_sweep(name, fa, sweep_run, &s, &acc);
    gft_sweep_print(name, &acc);
    gf_failing_allocator_free(fa);
    gf_frame_release(want);
    gf_plan_release(p);
    gf_plan_release(src);
    gf_frame_release(whole);
    unlink(path);
  }
  {
    const char *k[] = {"d", "k"};
    gf_frame *want = eager(f, "y > 0", k, 2, "sum(x), count()");
    gf_failing_allocator *fa = NULL;
    OKE(gf_failing_allocator_new(NULL, &fa, &err));
    stream_sweep s = {f, want};
    gft_sweep_counts acc;
    memset(&acc, 0, sizeof acc);
    gft_alloc_sweep("streamed ArrowArrayStream group-by", fa, stream_sweep_run, &s, &acc);
    gft_sweep_print("streamed ArrowArrayStream group-by", &acc);
    gf_failing_allocator_free(fa);
    gf_frame_release(want);
  }
  gf_frame_release(f);
}

/* A producer that fails at its third get_next (after two good batches). */
typedef struct failing_stream {
  struct ArrowArrayStream inner;
  int calls;
} failing_stream;

static int fs_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  failing_stream *f = s->private_data;
  return f->inner.get_schema(&f->inner, out);
}
static int fs_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  failing_stream *f = s->private_data;
  if (++f->calls == 3) return 5; /* EIO */
  return f->inner.get_next(&f->inner, out);
}
static const char *fs_error(struct ArrowArrayStream *s) {
  (void)s;
  return "producer broke";
}
static void fs_release(struct ArrowArrayStream *s) {
  failing_stream *f = s->private_data;
  f->inner.release(&f->inner);
  free(f);
  s->release = NULL;
}

/* An ArrowArrayStream plan (gf_plan_from_stream) streams through
 * gf_plan_collect at every worker count with the frame's eager answer;
 * an aggregate the sink lacks falls back to the materialising path with
 * the stream intact; a second run reports the stream consumed; a producer
 * failing mid-stream fails the run naming the batch. */
static void test_arrow_stream(void **state) {
  (void)state;
  gf_error err;
  int64_t sz[] = {3000, 0, 70000, 1234};
  gf_frame *f = make_frame(sz, 4, 17, NULL);
  const char *k[] = {"k"}, *k2[] = {"d", "s"};
  for (int shape = 0; shape < 3; shape++) {
    const char *pred = shape == 2 ? "y > 10" : "x > 0";
    const char *const *keys = shape == 0 ? k : shape == 1 ? k2 : NULL;
    int nk = shape == 0 ? 1 : shape == 1 ? 2 : 0;
    const char *aggs = shape == 2 ? NULL : AGGS;
    gf_frame *want = eager(f, pred, keys, nk, aggs);
    for (size_t w = 0; w < sizeof workers / sizeof *workers; w++) {
      struct ArrowArrayStream as;
      OKE(gf_frame_export_stream(f, &as, &err));
      gf_plan *src = NULL;
      OKE(gf_plan_from_stream(&as, &src, &err));
      gf_plan *p = plan_of(src, pred, keys, nk, aggs);
      gf_frame *got = NULL;
      OKE(stream(p, workers[w], NULL, &got, &err));
      if (!gf_frame_equals(got, want)) fail_msg("stream shape %d workers %d", shape, workers[w]);
      gf_frame_release(got);
      /* Consumed: a second run says so. */
      gf_plan_options po;
      gf_plan_options_init(&po);
      assert_int_equal(gf_plan_collect(p, &po, &got, &err), GF_EINVAL);
      assert_non_null(strstr(err.message, "consumed"));
      gf_plan_release(p);
      gf_plan_release(src);
    }
    gf_frame_release(want);
  }
  /* Not streamable (median): materialised, the stream still whole. */
  {
    gf_frame *want = eager(f, "x > 0", k, 1, "median(x)"), *got = NULL;
    struct ArrowArrayStream as;
    OKE(gf_frame_export_stream(f, &as, &err));
    gf_plan *src = NULL;
    OKE(gf_plan_from_stream(&as, &src, &err));
    gf_plan *p = plan_of(src, "x > 0", k, 1, "median(x)");
    OKE(gf_plan_collect(p, NULL, &got, &err));
    assert_true(gf_frame_equals(got, want));
    gf_frame_release(got);
    gf_frame_release(want);
    gf_plan_release(p);
    gf_plan_release(src);
  }
  /* A producer failing at its third batch. */
  for (size_t w = 0; w < sizeof workers / sizeof *workers; w++) {
    failing_stream *fs = calloc(1, sizeof *fs);
    OKE(gf_frame_export_stream(f, &fs->inner, &err));
    struct ArrowArrayStream as = {fs_schema, fs_next, fs_error, fs_release, fs};
    gf_plan *src = NULL;
    OKE(gf_plan_from_stream(&as, &src, &err));
    gf_plan *p = plan_of(src, "x > 0", k, 1, AGGS);
    gf_frame *got = NULL;
    assert_int_equal(stream(p, workers[w], NULL, &got, &err), GF_EIO);
    assert_null(got);
    if (!strstr(err.message, "batch 2") || !strstr(err.message, "producer broke")) fail_msg("%s", err.message);
    gf_plan_release(p);
    gf_plan_release(src);
  }
  gf_frame_release(f);
}

/* The prefetching wrapper hands out exactly the inner source's batches
 * and offsets at every depth; freed early it stops its producer and
 * releases what it read ahead; without a thread it is the inner source. */
static void test_prefetch(void **state) {
  (void)state;
  gf_error err;
  int64_t sz[] = {10000};
  gf_frame *f = make_frame(sz, 1, 5, NULL);
  for (int depth = 1; depth <= 8; depth += 3)
    for (int early = 0; early < 2; early++) {
      gfi_source *a = NULL, *b = NULL, *w = NULL;
      OKE(gfi_source_frame(f, 777, &a, &err));
      OKE(gfi_source_frame(f, 777, &b, &err));
      OKE(gfi_source_prefetch(b, depth, &w, &err));
      assert_ptr_not_equal(w, b);
      assert_true(gf_schema_equals(w->schema, a->schema));
      for (int i = 0;; i++) {
        gf_frame *x = NULL, *y = NULL;
        int64_t rx = -1, ry = -1;
        OKE(a->next(a, &x, &rx, &err));
        OKE(w->next(w, &y, &ry, &err));
        assert_true((x == NULL) == (y == NULL));
        if (!x) break;
        assert_int_equal(rx, ry);
        assert_true(gf_frame_equals(x, y));
        gf_frame_release(x);
        gf_frame_release(y);
        if (early && i == 2) break;
      }
      a->free(a);
      w->free(w);
    }
  gfi_pool_test_fail_thread_create(true);
  gfi_source *a = NULL, *w = NULL;
  OKE(gfi_source_frame(f, 777, &a, &err));
  OKE(gfi_source_prefetch(a, 1, &w, &err));
  assert_ptr_equal(w, a);
  w->free(w);
  gfi_pool_test_fail_thread_create(false);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ipc_vs_eager),     cmocka_unit_test(test_parquet_vs_eager),
      cmocka_unit_test(test_parquet_pruning),  cmocka_unit_test(test_empty),
      cmocka_unit_test(test_corrupt_middle),   cmocka_unit_test(test_corrupt_middle_parquet),
      cmocka_unit_test(test_stop),             cmocka_unit_test(test_alloc_sweep),
      cmocka_unit_test(test_prefetch),         cmocka_unit_test(test_arrow_stream),
  };
  if (getenv("GF_STREAM_TEST")) cmocka_set_test_filter(getenv("GF_STREAM_TEST"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
