/* The Parquet reader's filtered reads (filter_rows: late materialisation,
 * pages without passing rows skipped) against an independent reference:
 * the whole file read without a predicate, then gf_filter (the evaluator
 * over every row). Files are written here by the Parquet writer from a CSV
 * frame with nulls, low- and high-cardinality strings (dictionary pages,
 * dictionary columns whose chunks fall back to PLAIN), doubles with
 * -0.0/+0.0, booleans; several page and row-group sizes, codecs, with and
 * without statistics; 1/2/3/8 workers. Also: fuzzer finding 11 (a row
 * count that the pages do not back) fails with a small allocation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gf_test_sweep.h"
#include "gopherframe.h"

#define NROWS 30000
static int nrows = NROWS;

/* A CSV of NROWS rows: k int (null every 13th), s 40 distinct strings
 * (null every 17th), u unique strings, d doubles (-0.0 and 0.0 among
 * them, null every 11th), b booleans. Deterministic. */
static gf_frame *make_frame(void) {
  size_t cap = (size_t)NROWS * 64 + 64, n = 0;
  char *csv = malloc(cap);
  assert_non_null(csv);
  n += (size_t)snprintf(csv + n, cap - n, "k,s,u,d,b\n");
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < nrows; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    char k[24] = "", s[24] = "", d[32] = "";
    if (i % 13) snprintf(k, sizeof k, "%d", (int)(x % 100));
    if (i % 17) snprintf(s, sizeof s, "s%02d", (int)((x >> 20) % 40));
    if (i % 11) {
      int m = (int)((x >> 32) % 7);
      if (m == 0) snprintf(d, sizeof d, i % 5 ? "-0.0" : "NaN");
      else if (m == 1) snprintf(d, sizeof d, "0.0");
      else snprintf(d, sizeof d, "%.6f", (double)((x >> 8) % 200000) / 1000.0 - 100.0);
    }
    n += (size_t)snprintf(csv + n, cap - n, "%s,%s,u%06d,%s,%s\n", k, s, i, d,
                          (x >> 40) & 1 ? "true" : "false");
  }
  gf_frame *f = NULL;
  gf_error err;
  gf_status st = gf_read_csv_buffer(csv, n, "late.csv", NULL, &f, &err);
  if (st != GF_OK) fail_msg("csv: %s", err.message);
  free(csv);
  return f;
}

typedef struct variant {
  const char *name;
  int64_t rg_rows, page_rows, dict_bytes;
  bool no_dict, no_stats;
  gf_parquet_compression codec;
} variant;

static const variant variants[] = {
    {"default", 0, 0, 0, false, false, GF_PARQUET_NONE},
    /* many pages and row groups; small dictionaries fall back to PLAIN */
    {"small_pages", 7000, 500, 100, false, false, GF_PARQUET_SNAPPY},
    {"plain_no_stats", 9000, 1000, 0, true, true, GF_PARQUET_ZSTD},
};

static char *write_variant(const gf_frame *f, const variant *v) {
  static char path[256];
  snprintf(path, sizeof path, "/tmp/gf_test_late_%d_%s.parquet", (int)getpid(), v->name);
  gf_parquet_write_options o;
  gf_parquet_write_options_init(&o);
  o.row_group_rows = v->rg_rows;
  o.data_page_rows = v->page_rows;
  o.dictionary_page_bytes = v->dict_bytes;
  o.no_dictionary = v->no_dict;
  o.no_statistics = v->no_stats;
  o.compression = gf_parquet_compression_available(v->codec) ? v->codec : GF_PARQUET_NONE;
  gf_error err;
  gf_status st = gf_write_parquet(f, path, &o, &err);
  if (st != GF_OK) fail_msg("write %s: %s", v->name, err.message);
  return path;
}

static int64_t last_page_rows_skipped;

static gf_frame *read_opts(const char *path, int workers, const char *const *cols, int ncols,
                           const gf_expr *pred, bool filter_rows) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.min_parallel_rows = 1;
  gf_parquet_read_options o;
  gf_parquet_read_options_init(&o);
  o.parallel = &po;
  o.columns = cols;
  o.num_columns = ncols;
  o.predicate = pred;
  o.filter_rows = filter_rows;
  last_page_rows_skipped = -1;
  o.page_rows_skipped = &last_page_rows_skipped;
  gf_frame *f = NULL;
  gf_error err;
  gf_status st = gf_read_parquet(path, &o, &f, &err);
  if (st != GF_OK) fail_msg("%s: %s %s", path, gf_status_name(st), err.message);
  return f;
}

/* Reference: every row and column read, then gf_filter (1 worker), then
 * the projection (the predicate may name columns not projected). */
static gf_frame *reference(const char *path, const char *const *cols, int ncols,
                           const gf_expr *pred) {
  gf_frame *all = read_opts(path, 1, NULL, 0, NULL, false);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = 1;
  gf_frame *f = NULL, *g = NULL;
  gf_error err;
  if (gf_filter(all, pred, &po, &f, &err) != GF_OK) fail_msg("filter: %s", err.message);
  gf_frame_release(all);
  if (!cols) return f;
  if (gf_select(f, cols, ncols, &g, &err) != GF_OK) fail_msg("select: %s", err.message);
  gf_frame_release(f);
  return g;
}

static void filtered_reads_match_filtering_the_whole_file(void **state) {
  (void)state;
  gf_frame *src = make_frame();
  const char *preds[] = {
      "k = 7",                    /* ~1%: every page has some */
      "u = 'u012345'",            /* one row: every other page skipped */
      "u < 'u000700' or k = 99",  /* a prefix of pages plus scattered rows */
      "k is null",                /* nulls pass */
      "s = 's03' and d > 0",      /* two predicate columns, nulls in both */
      "d = 0.0",                  /* -0.0 and 0.0 both equal 0 */
      "d > 99.9 or d < -99.9",    /* pages with NaN bounds are not pruned */
      "u >= 'u029990' and k != 5",
      "u between 'u010000' and 'u010010'",
      "b and k < 10",
      "k > 1000",                 /* nothing passes: no row group kept */
      "not (k >= 0)",             /* only nulls would, and they do not */
  };
  const char *proj_a[] = {"u", "k"}; /* k in the predicate, u not */
  const char *proj_b[] = {"d", "s", "b", "u", "k"};
  for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
    char *path = write_variant(src, &variants[v]);
    /* The unfiltered read gives back the frame written (the decoders'
     * fast paths and the dictionary columns whose chunks went PLAIN). */
    for (int w = 1; w <= 8; w *= 2) {
      gf_frame *all = read_opts(path, w, NULL, 0, NULL, false);
      if (!gf_frame_equals(src, all)) fail_msg("%s: read back differs (%d workers)", variants[v].name, w);
      gf_frame_release(all);
    }
    for (size_t p = 0; p < sizeof preds / sizeof preds[0]; p++) {
      gf_expr *e = NULL;
      gf_error err;
      assert_int_equal(gf_expr_parse(preds[p], &e, &err), GF_OK);
      for (int proj = 0; proj < 3; proj++) {
        const char *const *cols = proj == 0 ? NULL : proj == 1 ? proj_a : proj_b;
        int ncols = proj == 0 ? 0 : proj == 1 ? 2 : 5;
        gf_frame *ref = reference(path, cols, ncols, e);
        int workers[] = {1, 2, 3, 8};
        for (int w = 0; w < 4; w++) {
          gf_frame *got = read_opts(path, workers[w], cols, ncols, e, true);
          /* the sorted column u: its page index rules out most pages */
          if (!variants[v].no_stats && preds[p][0] == 'u' && variants[v].page_rows > 0)
            assert_true(last_page_rows_skipped > 0);
          if (variants[v].no_stats) assert_true(last_page_rows_skipped <= 0);
          if (!gf_frame_equals(ref, got))
            fail_msg("%s, '%s', projection %d, %d workers: %lld rows, want %lld",
                     variants[v].name, preds[p], proj, workers[w],
                     (long long)gf_frame_num_rows(got), (long long)gf_frame_num_rows(ref));
          gf_frame_release(got);
        }
        gf_frame_release(ref);
      }
      gf_expr_release(e);
    }
    unlink(path);
  }
  gf_frame_release(src);
}

static void filter_errors_are_clean(void **state) {
  (void)state;
  gf_frame *src = make_frame();
  char *path = write_variant(src, &variants[1]);
  const char *bad[] = {"nosuch = 1", "k + 1"};
  for (size_t i = 0; i < 2; i++) {
    gf_expr *e = NULL;
    gf_error err;
    assert_int_equal(gf_expr_parse(bad[i], &e, &err), GF_OK);
    gf_parquet_read_options o;
    gf_parquet_read_options_init(&o);
    o.predicate = e;
    o.filter_rows = true;
    gf_frame *f = (gf_frame *)0x1;
    gf_status st = gf_read_parquet(path, &o, &f, &err);
    assert_int_not_equal(st, GF_OK);
    assert_null(f);
    assert_true(strlen(err.message) > 0);
    gf_expr_release(e);
  }
  unlink(path);
  gf_frame_release(src);
}

/* Fuzzer finding 11: the files declare ~2.5e8 rows that their pages do
 * not hold; the read must fail cleanly having allocated little. */
static void declared_rows_are_not_allocated_up_front(void **state) {
  (void)state;
  const char *data = getenv("GF_TEST_DATA");
  for (int k = 1; k <= 2; k++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/../fuzz/regressions/parquet-declared-rows-beyond-memory-limit-%d",
             data ? data : "tests/data", k);
    gf_tracking_allocator *t = NULL;
    assert_int_equal(gf_tracking_allocator_new(NULL, 0, &t, NULL), GF_OK);
    gf_parallel_options po;
    gf_parallel_options_init(&po);
    po.allocator = gf_tracking_allocator_get(t);
    gf_parquet_read_options o;
    gf_parquet_read_options_init(&o);
    o.parallel = &po;
    gf_frame *f = (gf_frame *)0x1;
    gf_error err;
    gf_status st = gf_read_parquet(path, &o, &f, &err);
    assert_int_equal(st, GF_EINVAL);
    assert_null(f);
    /* 2.5e8 rows would be >= 1 GB; a small file gets a small allocation. */
    printf("finding 11 file %d: %s; peak %lld bytes\n", k, err.message,
           (long long)gf_tracking_allocator_peak(t));
    assert_true(gf_tracking_allocator_peak(t) < 32 * 1024 * 1024);
    assert_int_equal(gf_tracking_allocator_current(t), 0);
    gf_tracking_allocator_free(t);
  }
}

/* ---- allocation-failure sweep of a filtered read ---- */

static gf_frame *sweep_ref;
static gf_expr *sweep_pred;

static gf_status filtered_once(void *user, const gf_allocator *a) {
  const char *p = user;
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = 2;
  po.min_parallel_rows = 1;
  po.allocator = a;
  gf_parquet_read_options o;
  gf_parquet_read_options_init(&o);
  o.parallel = &po;
  o.predicate = sweep_pred;
  o.filter_rows = true;
  gf_frame *f = (gf_frame *)0x1;
  gf_error err;
  gf_status st = gf_read_parquet(p, &o, &f, &err);
  if (st == GF_OK) {
    assert_true(gf_frame_equals(sweep_ref, f));
    gf_frame_release(f);
  } else {
    assert_null(f);
  }
  return st;
}

static void filtered_read_survives_every_allocation_failure(void **state) {
  (void)state;
  nrows = 1500;
  gf_frame *src = make_frame();
  nrows = NROWS;
  const variant v = {"sweep", 600, 100, 0, false, false, GF_PARQUET_NONE};
  char *path = write_variant(src, &v);
  /* one dictionary-column predicate (per-value path), one row by row */
  const char *preds[] = {"k = 7 or k is null", "u >= 'u001400' and d > 0"};
  for (int i = 0; i < 2; i++) {
    gf_error err;
    assert_int_equal(gf_expr_parse(preds[i], &sweep_pred, &err), GF_OK);
    sweep_ref = reference(path, NULL, 0, sweep_pred);
    gf_failing_allocator *fa = NULL;
    assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
    gft_sweep_counts c = {0};
    gft_alloc_sweep("Parquet filtered read", fa, filtered_once, path, &c);
    gft_sweep_print("Parquet filtered read", &c);
    assert_true(c.sites > 20);
    gf_failing_allocator_free(fa);
    gf_frame_release(sweep_ref);
    gf_expr_release(sweep_pred);
  }
  unlink(path);
  gf_frame_release(src);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(filtered_reads_match_filtering_the_whole_file),
      cmocka_unit_test(filter_errors_are_clean),
      cmocka_unit_test(declared_rows_are_not_allocated_up_front),
      cmocka_unit_test(filtered_read_survives_every_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
