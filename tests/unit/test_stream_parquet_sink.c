/* The Parquet output of streamed plans (GFI_OUT_PARQUET in
 * src/plan/plan_stream.c, gf_plan_sink_parquet in src/plan/plan_exec.c):
 * - a filter/select chain, a sort and a group-by over a CSV file (nulls,
 *   NaN, strings), streamed at 1/2/3/8 workers and two windows into a
 *   Parquet file, give the bytes gf_write_parquet writes for the result of
 *   the eager operators (gf_read_csv + gf_filter / gf_select / gf_sort /
 *   gf_group_by_list, no plan involved), with compression and small row
 *   groups so a file has several; the sort in memory and spilled (forced);
 *   the file reads back equal to that result;
 * - the public gf_plan_sink_parquet takes the same path (and writes the
 *   same bytes); an empty result writes gf_write_parquet's empty file;
 * - a cancelled run and every failing allocation leave no file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/stream_internal.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"
#include "plan/plan_internal.h"

#define OKE(x)                                                              \
  do {                                                                      \
    gf_status s_ = (x);                                                     \
    if (s_ != GF_OK) fail_msg("%s -> %d: %s", #x, (int)s_, err.message);    \
  } while (0)

static char tmpdir[256];

static void tmp_path(char *p, size_t n, const char *name) {
  if (!tmpdir[0]) {
    const char *d = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/gf_pqsink_%d", d ? d : "/tmp", (int)getpid());
    mkdir(tmpdir, 0700);
  }
  snprintf(p, n, "%s/%s", tmpdir, name);
}

/* Entries of tmpdir other than `keep1` / `keep2`. */
static int stray_files(const char *keep1, const char *keep2) {
  DIR *d = opendir(tmpdir);
  if (!d) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' && (!keep1 || strcmp(e->d_name, keep1) != 0) &&
        (!keep2 || strcmp(e->d_name, keep2) != 0))
      n++;
  closedir(d);
  return n;
}

static uint8_t *slurp(const char *path, size_t *n) {
  FILE *fp = fopen(path, "rb");
  if (!fp) fail_msg("cannot open %s", path);
  fseek(fp, 0, SEEK_END);
  long len = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)len + 1);
  if (fread(b, 1, (size_t)len, fp) != (size_t)len) fail_msg("short read %s", path);
  fclose(fp);
  *n = (size_t)len;
  return b;
}

static void assert_same_file(const char *a, const char *b, const char *what) {
  size_t na, nb;
  uint8_t *x = slurp(a, &na), *y = slurp(b, &nb);
  if (na != nb || memcmp(x, y, na) != 0)
    fail_msg("%s: %s (%zu bytes) differs from %s (%zu bytes)", what, a, na, b, nb);
  free(x);
  free(y);
}

/* A CSV file of n rows: id (int64), k (few values, some empty = null),
 * x (float64 with NaN and nulls), s (strings, some null). */
static void write_csv(const char *path, int n) {
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  static const char *const sv[] = {"b", "a", "zz", "\xc3\xa9", "ab", "a,b"};
  fputs("id,k,x,s\n", fp);
  uint64_t r = 12345;
  for (int i = 0; i < n; i++) {
    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
    unsigned v = (unsigned)(r >> 33);
    fprintf(fp, "%d,", i);
    if (v % 11) fprintf(fp, "%u", v % 7);
    fputc(',', fp);
    if (v % 13 == 1) fputs("NaN", fp);
    else if (v % 9) fprintf(fp, "%.3f", (double)(v % 100000) / 7.0 - 3000.0);
    fputc(',', fp);
    if (v % 17) fprintf(fp, "\"%s\"", sv[(v >> 8) % 6]);
    fputc('\n', fp);
  }
  fclose(fp);
}

enum { Q_CHAIN, Q_SORT, Q_GROUP, Q_EMPTY };

static const gf_sort_key sort_keys[2] = {{"k", true, false}, {"x", false, true}};

/* The plan of query q over the CSV file. */
static gf_plan *make_plan(const char *csv, int q) {
  gf_error err;
  gf_plan *p = NULL, *n = NULL;
  OKE(gf_plan_scan_csv(csv, NULL, &p, &err));
  gf_expr *e = NULL;
  OKE(gf_expr_parse(q == Q_EMPTY ? "id < 0" : "id % 3 != 1", &e, &err));
  OKE(gf_plan_filter(p, e, &n, &err));
  gf_expr_release(e);
  gf_plan_release(p);
  p = n;
  if (q == Q_GROUP) {
    const char *keys[1] = {"k"};
    OKE(gf_plan_group_by(p, keys, 1, "sum(id) as t, min(x) as lo, count() as n", true, &n, &err));
  } else if (q == Q_SORT) {
    OKE(gf_plan_sort(p, sort_keys, 2, &n, &err));
  } else {
    const char *cols[3] = {"s", "x", "id"};
    OKE(gf_plan_select(p, cols, 3, &n, &err));
  }
  gf_plan_release(p);
  return n;
}

/* The result of query q by the eager operators. */
static gf_frame *eager(const char *csv, int q) {
  gf_error err;
  gf_frame *f = NULL, *g = NULL, *h = NULL;
  OKE(gf_read_csv(csv, NULL, &f, &err));
  gf_expr *e = NULL;
  OKE(gf_expr_parse(q == Q_EMPTY ? "id < 0" : "id % 3 != 1", &e, &err));
  OKE(gf_filter(f, e, NULL, &g, &err));
  gf_expr_release(e);
  gf_frame_release(f);
  if (q == Q_GROUP) {
    const char *keys[1] = {"k"};
    gf_agg_list *l = NULL;
    OKE(gf_agg_parse("sum(id) as t, min(x) as lo, count() as n", &l, &err));
    gf_groupby_options go;
    gf_groupby_options_init(&go);
    go.sort_keys = true;
    OKE(gf_group_by_list(g, keys, 1, l, &go, &h, &err));
    gf_agg_list_free(l);
  } else if (q == Q_SORT) {
    OKE(gf_sort(g, sort_keys, 2, 0, NULL, &h, &err));
  } else {
    const char *cols[3] = {"s", "x", "id"};
    OKE(gf_select(g, cols, 3, &h, &err));
  }
  gf_frame_release(g);
  return h;
}

static void pq_options(gf_parquet_write_options *w) {
  gf_parquet_write_options_init(w);
  w->row_group_rows = 1000; /* several row groups, some written mid-run */
  w->data_page_rows = 300;
  if (gf_parquet_compression_available(GF_PARQUET_ZSTD)) w->compression = GF_PARQUET_ZSTD;
}

/* Streams p (optimized first) into the Parquet file `path`. */
static gf_status stream_to(const gf_plan *p, int workers, int64_t window,
                           const gf_parallel_options *base, const char *path,
                           const gf_parquet_write_options *w, gf_error *err) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  if (base) o = *base;
  o.num_workers = workers;
  o.temp_directory = tmpdir;
  gf_plan *opt = NULL;
  gf_status st = gf_plan_optimize(p, GF_PLAN_RULES_ALL, &opt, err);
  if (st != GF_OK) return st;
  gfi_out_spec dest;
  memset(&dest, 0, sizeof dest);
  dest.kind = GFI_OUT_PARQUET;
  dest.path = path;
  dest.fd = -1;
  dest.parquet = w;
  bool handled = false;
  gf_frame *res = NULL;
  st = gfi_plan_stream(opt, &o, window, false, &dest, &res, &handled, err);
  gf_plan_release(opt);
  if (st == GF_OK && !handled) fail_msg("the plan did not stream");
  /* A group-by result may come back to be written (plan_stream.c). */
  if (st == GF_OK && res) {
    gf_parquet_write_options ww = *w;
    ww.parallel = &o;
    st = gf_write_parquet(res, path, &ww, err);
  }
  gf_frame_release(res);
  return st;
}

static void test_bytes_and_read_back(void **state) {
  (void)state;
  gf_error err;
  char csv[300], got[300], want[300];
  tmp_path(csv, sizeof csv, "in.csv");
  tmp_path(got, sizeof got, "got.parquet");
  tmp_path(want, sizeof want, "want.parquet");
  write_csv(csv, 8000);
  gf_parquet_write_options w;
  pq_options(&w);
  static const int workers[4] = {1, 2, 3, 8};
  static const int64_t windows[2] = {4096, 65536};
  static const char *const names[4] = {"filter/select", "sort", "group-by", "empty"};
  for (int q = Q_CHAIN; q <= Q_EMPTY; q++) {
    gf_frame *ref = eager(csv, q);
    OKE(gf_write_parquet(ref, want, &w, &err));
    gf_plan *p = make_plan(csv, q);
    for (int spill = 0; spill < (q == Q_SORT ? 2 : 1); spill++) {
      gfi_sink_sort_test_spill(spill);
      for (int wi = 0; wi < 4; wi++)
        for (int wn = 0; wn < 2; wn++) {
          char what[128];
          snprintf(what, sizeof what, "%s%s, %d workers, window %lld", names[q],
                   spill ? " (spilled)" : "", workers[wi], (long long)windows[wn]);
          OKE(stream_to(p, workers[wi], windows[wn], NULL, got, &w, &err));
          assert_same_file(got, want, what);
          assert_int_equal(stray_files("in.csv", "want.parquet"), 1);
          unlink(got);
        }
    }
    gfi_sink_sort_test_spill(false);
    /* The public sink: the same bytes, through the same streamed path. */
    gf_plan_options po;
    gf_plan_options_init(&po);
    OKE(gf_plan_sink_parquet(p, got, &w, &po, &err));
    assert_same_file(got, want, names[q]);
    gf_frame *back = NULL;
    OKE(gf_read_parquet(got, NULL, &back, &err));
    assert_int_equal(gf_frame_num_rows(back), gf_frame_num_rows(ref));
    if (!gf_frame_equals(back, ref)) fail_msg("%s: the file does not read back as the result", names[q]);
    gf_frame_release(back);
    unlink(got);
    unlink(want);
    gf_plan_release(p);
    gf_frame_release(ref);
  }
  /* NULL options: gf_write_parquet's defaults. */
  gf_plan *p = make_plan(csv, Q_SORT);
  gf_frame *ref = eager(csv, Q_SORT);
  OKE(gf_write_parquet(ref, want, NULL, &err));
  OKE(gf_plan_sink_parquet(p, got, NULL, NULL, &err));
  assert_same_file(got, want, "defaults");
  assert_int_equal(gf_plan_sink_parquet(p, NULL, NULL, NULL, &err), GF_EINVAL);
  unlink(got);
  unlink(want);
  unlink(csv);
  assert_int_equal(stray_files(NULL, NULL), 0);
  gf_plan_release(p);
  gf_frame_release(ref);
}

/* ---- failures ----------------------------------------------------------- */

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

/* A run cancelled at points through it fails GF_ECANCELED (or completes,
 * past the last check) and leaves no file. */
static void test_cancel_leaves_nothing(void **state) {
  (void)state;
  gf_error err;
  char csv[300], got[300];
  tmp_path(csv, sizeof csv, "in.csv");
  tmp_path(got, sizeof got, "stopped.parquet");
  write_csv(csv, 20000);
  gf_parquet_write_options w;
  pq_options(&w);
  int cancelled = 0;
  for (int q = Q_CHAIN; q <= Q_SORT; q++) {
    gf_plan *p = make_plan(csv, q);
    cancel_alloc ca = {{ca_alloc, ca_realloc, ca_free, NULL}, NULL, 0, 0};
    ca.self.ctx = &ca;
    gf_parallel_options co;
    gf_parallel_options_init(&co);
    co.allocator = &ca.self;
    OKE(gf_cancel_new(&ca.tok, &err));
    co.cancel = ca.tok;
    OKE(stream_to(p, 2, 8192, &co, got, &w, &err));
    unlink(got);
    int64_t total = atomic_load(&ca.n);
    assert_true(total > 100);
    for (int i = 1; i <= 9; i++) {
      gf_cancel_free(ca.tok);
      OKE(gf_cancel_new(&ca.tok, &err));
      co.cancel = ca.tok;
      atomic_store(&ca.n, 0);
      atomic_store(&ca.at, total * i / 10);
      gf_status st = stream_to(p, 2, 8192, &co, got, &w, &err);
      if (st == GF_OK) {
        unlink(got);
        continue;
      }
      assert_int_equal(st, GF_ECANCELED);
      cancelled++;
      assert_int_equal(access(got, F_OK), -1);
      assert_int_equal(stray_files("in.csv", NULL), 0);
    }
    gf_cancel_free(ca.tok);
    gf_plan_release(p);
  }
  assert_true(cancelled >= 10);
  unlink(csv);
}

typedef struct sweep_ctx {
  const gf_plan *p;
  const char *got, *want;
  const gf_parquet_write_options *w;
} sweep_ctx;

static gf_status sweep_run(void *user, const gf_allocator *a) {
  sweep_ctx *s = user;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.allocator = a;
  gf_error err;
  unlink(s->got);
  gf_status st = stream_to(s->p, 2, 2048, &o, s->got, s->w, &err);
  if (st != GF_OK) {
    if (access(s->got, F_OK) == 0) fail_msg("%s: a failed run left its output", gft_sweep_at());
    if (stray_files("in.csv", "sweep_want.parquet") != 0)
      fail_msg("%s: a failed run left a file", gft_sweep_at());
    return st;
  }
  assert_same_file(s->got, s->want, "sweep");
  return GF_OK;
}

static void test_alloc_sweep(void **state) {
  (void)state;
  gf_error err;
  char csv[300], got[300], want[300];
  tmp_path(csv, sizeof csv, "in.csv");
  tmp_path(got, sizeof got, "sweep.parquet");
  tmp_path(want, sizeof want, "sweep_want.parquet");
  write_csv(csv, 500);
  gf_parquet_write_options w;
  pq_options(&w);
  w.row_group_rows = 150;
  gf_failing_allocator *fa = NULL;
  OKE(gf_failing_allocator_new(NULL, &fa, &err));
  for (int q = Q_CHAIN; q <= Q_SORT; q++) {
    gf_frame *ref = eager(csv, q);
    OKE(gf_write_parquet(ref, want, &w, &err));
    gf_frame_release(ref);
    gf_plan *p = make_plan(csv, q);
    sweep_ctx s = {p, got, want, &w};
    gft_sweep_counts acc;
    memset(&acc, 0, sizeof acc);
    const char *what = q == Q_SORT ? "sort into a Parquet file" : "filter/select into a Parquet file";
    gft_alloc_sweep(what, fa, sweep_run, &s, &acc);
    gft_sweep_print(what, &acc);
    gf_plan_release(p);
    unlink(got);
    unlink(want);
  }
  gf_failing_allocator_free(fa);
  unlink(csv);
  assert_int_equal(stray_files(NULL, NULL), 0);
  rmdir(tmpdir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bytes_and_read_back),
      cmocka_unit_test(test_cancel_leaves_nothing),
      cmocka_unit_test(test_alloc_sweep),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
