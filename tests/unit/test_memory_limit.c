/* A memory limit holds for what really is allocated: under a tracking
 * allocator with limit L, the parent allocator below it (which counts the
 * bytes it really hands out, independently of the tracker) never holds
 * more than L, whether the operation succeeds or fails with GF_ENOMEM.
 * And gf_parallel_options.memory_limit holds at every public entry point
 * (the call context installs one tracked allocator for the whole call):
 * below what the call needs it fails with GF_ENOMEM naming the limit and
 * leaks nothing; above, it gives what the call gives without a limit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "gopherframe.h"

/* Counts live bytes and their peak; thread-safe (readers run in parallel).
 * No reallocate, so that every move is allocate + copy + free, as the
 * default allocator does for 64-byte alignment. */
typedef struct metered {
  gf_allocator iface;
  atomic_llong live, peak;
} metered;

static void *m_allocate(void *ctx, size_t size, size_t alignment) {
  metered *m = ctx;
  void *p = gf_alloc(NULL, size, alignment);
  if (!p) return NULL;
  long long now = atomic_fetch_add(&m->live, (long long)size) + (long long)size;
  long long pk = atomic_load(&m->peak);
  while (now > pk && !atomic_compare_exchange_weak(&m->peak, &pk, now)) {
  }
  return p;
}

static void m_deallocate(void *ctx, void *ptr, size_t size, size_t alignment) {
  metered *m = ctx;
  gf_free(NULL, ptr, size, alignment);
  atomic_fetch_sub(&m->live, (long long)size);
}

static void metered_init(metered *m) {
  m->iface = (gf_allocator){m_allocate, NULL, m_deallocate, m};
  atomic_init(&m->live, 0);
  atomic_init(&m->peak, 0);
}

/* A tracker with `limit` over a fresh meter. */
static gf_tracking_allocator *limited(metered *m, int64_t limit) {
  metered_init(m);
  gf_tracking_allocator *t;
  assert_int_equal(gf_tracking_allocator_new(&m->iface, limit, &t, NULL), GF_OK);
  return t;
}

static void builder_growth_stays_under_the_limit(void **state) {
  (void)state;
  const int64_t limits[] = {70 * 1024, 300 * 1024, 1 << 20};
  for (size_t k = 0; k < sizeof limits / sizeof *limits; k++) {
    for (int strings = 0; strings < 2; strings++) {
      metered m;
      gf_tracking_allocator *t = limited(&m, limits[k]);
      gf_builder *b;
      gf_datatype ty = gf_type(strings ? GF_TYPE_UTF8 : GF_TYPE_INT64);
      assert_int_equal(gf_builder_new(ty, gf_tracking_allocator_get(t), &b, NULL), GF_OK);
      gf_status st = GF_OK;
      int64_t n = 0;
      gf_error err;
      while (st == GF_OK && n < 10 * 1000 * 1000) {
        st = strings ? gf_builder_append_string(b, "twelve bytes", &err)
                     : gf_builder_append_int64(b, n, &err);
        n++;
      }
      assert_int_equal(st, GF_ENOMEM); /* the limit, not the loop, stopped it */
      assert_true(atomic_load(&m.peak) <= limits[k]);
      gf_builder_free(b);
      assert_int_equal(atomic_load(&m.live), 0);
      gf_tracking_allocator_free(t);
    }
  }
}

/* CSV text of `rows` rows: an int, a float and a string column. */
static char *csv_text(int rows, size_t *len) {
  size_t cap = (size_t)rows * 48 + 64, n = 0;
  char *s = malloc(cap);
  assert_non_null(s);
  n += (size_t)snprintf(s, cap, "a,b,c\n");
  for (int i = 0; i < rows; i++)
    n += (size_t)snprintf(s + n, cap - n, "%d,%d.25,name_%d\n", i, i % 977, i % 5003);
  *len = n;
  return s;
}

static void csv_read_ipc_write_and_print_stay_under_the_limit(void **state) {
  (void)state;
  size_t len;
  char *text = csv_text(60000, &len);
  int fits = 0, refused = 0;
  for (int64_t limit = 256 * 1024; limit <= 16 << 20; limit = limit * 3 / 2) {
    metered m;
    gf_tracking_allocator *t = limited(&m, limit);
    gf_parallel_options po;
    gf_parallel_options_init(&po);
    po.allocator = gf_tracking_allocator_get(t);
    po.num_workers = 2;
    gf_csv_read_options ro;
    gf_csv_read_options_init(&ro);
    ro.parallel = &po;
    gf_frame *f = NULL;
    gf_error err;
    gf_status st = gf_read_csv_buffer(text, len, "mem.csv", &ro, &f, &err);
    if (st == GF_OK) {
      gf_ipc_write_options wo;
      gf_ipc_write_options_init(&wo);
      wo.parallel = &po;
      void *bytes = NULL;
      size_t n = 0;
      st = gf_write_ipc_memory(f, true, &wo, &bytes, &n, &err);
      if (st == GF_OK) {
        /* The result counts against the limit until it is freed. */
        assert_true(gf_tracking_allocator_current(t) >= (int64_t)n);
        gf_mem_free(bytes);
      }
      char *shown = NULL;
      gf_print_options pr;
      gf_print_options_init(&pr);
      pr.max_rows = -1;
      gf_status pst = gf_frame_format(f, &pr, &shown, &err);
      if (pst == GF_OK) gf_mem_free(shown);
      else assert_int_equal(pst, GF_ENOMEM);
      gf_frame_release(f);
    }
    if (st == GF_OK) fits++;
    else {
      assert_int_equal(st, GF_ENOMEM);
      refused++;
    }
    assert_true(atomic_load(&m.peak) <= limit);
    assert_int_equal(atomic_load(&m.live), 0);
    gf_tracking_allocator_free(t);
  }
  assert_true(fits > 0);
  assert_true(refused > 0);
  free(text);
}


/* ---- memory_limit at every public entry point --------------------------- */

enum { EP_ROWS = 40000 };

/* The input: k = i % 100 (int64), x = i * 0.5 (float64), s = "name_<i % 997>". */
static gf_frame *ep_frame(void) {
  size_t len;
  char *text = malloc((size_t)EP_ROWS * 40 + 16);
  size_t n = (size_t)sprintf(text, "k,x,s\n");
  for (int i = 0; i < EP_ROWS; i++) n += (size_t)sprintf(text + n, "%d,%d.5,name_%d\n", i % 100, i, i % 997);
  len = n;
  gf_frame *f = NULL;
  assert_int_equal(gf_read_csv_buffer(text, len, "ep.csv", NULL, &f, NULL), GF_OK);
  free(text);
  return f;
}

/* What one call produced: a frame, or bytes (writers, permutations). */
typedef struct ep_result {
  gf_frame *frame;
  void *bytes;
  size_t nbytes;
} ep_result;

static void ep_result_free(ep_result *r) {
  gf_frame_release(r->frame);
  free(r->bytes);
  memset(r, 0, sizeof *r);
}

static bool ep_result_equal(const ep_result *a, const ep_result *b) {
  if ((a->frame != NULL) != (b->frame != NULL)) return false;
  if (a->frame && !gf_frame_equals(a->frame, b->frame)) return false;
  return a->nbytes == b->nbytes && (a->nbytes == 0 || memcmp(a->bytes, b->bytes, a->nbytes) == 0);
}

/* Shared inputs of the entry points. */
typedef struct ep_env {
  gf_frame *f, *right;
  char *csv_text;
  size_t csv_len;
  void *ipc;
  size_t ipc_len;
  char dir[64];
} ep_env;
static ep_env E;

static void *slurp(const char *path, size_t *n) {
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  fseek(fp, 0, SEEK_END);
  long sz = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  void *b = malloc((size_t)sz + 1);
  assert_int_equal(fread(b, 1, (size_t)sz, fp), (size_t)sz);
  fclose(fp);
  *n = (size_t)sz;
  return b;
}

typedef gf_status (*ep_fn)(const gf_parallel_options *po, ep_result *r, gf_error *err);

static gf_status ep_filter(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_expr *e = gf_lt(gf_col("k"), gf_lit_int64(60));
  gf_status st = gf_filter(E.f, e, po, &r->frame, err);
  gf_expr_release(e);
  return st;
}
static gf_status ep_with_columns(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_expr *e = gf_mul(gf_col("x"), gf_lit_double(3.0));
  const char *names[] = {"y"};
  gf_status st = gf_with_columns(E.f, names, &e, 1, po, &r->frame, err);
  gf_expr_release(e);
  return st;
}
static gf_status ep_evaluate(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_expr *e = gf_add(gf_col("k"), gf_col("k"));
  gf_status st = gf_evaluate(E.f, e, "y", po, &r->frame, err);
  gf_expr_release(e);
  return st;
}
static gf_status ep_pipeline(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_pipeline *p = NULL;
  gf_status st = gf_pipeline_new(&p, err);
  gf_expr *e = gf_gt(gf_col("x"), gf_lit_double(100.0));
  const char *keys[] = {"k"};
  if (st == GF_OK) st = gf_pipeline_add_filter(p, e, err);
  if (st == GF_OK) st = gf_pipeline_add_group_by(p, keys, 1, "sum(x) as sx, count() as n", true, err);
  if (st == GF_OK) st = gf_pipeline_run(p, E.f, po, &r->frame, err);
  gf_expr_release(e);
  gf_pipeline_free(p);
  return st;
}
static gf_status ep_group_by(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = po;
  go.sort_keys = true;
  const char *keys[] = {"s"};
  return gf_group_by_text(E.f, keys, 1, "sum(x) as sx, max(k) + 1 as mk", &go, &r->frame, err);
}
static gf_status ep_sort(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_sort_key *k = NULL;
  int nk = 0;
  gf_status st = gf_sort_keys_parse("s desc, x", &k, &nk, err);
  if (st == GF_OK) st = gf_sort(E.f, k, nk, 0, po, &r->frame, err);
  gf_sort_keys_free(k);
  return st;
}
static gf_status ep_sort_indices(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_sort_key *k = NULL;
  int nk = 0;
  int64_t *perm = NULL;
  gf_status st = gf_sort_keys_parse("s, x desc", &k, &nk, err);
  if (st == GF_OK) st = gf_sort_indices(E.f, k, nk, po, &perm, err);
  gf_sort_keys_free(k);
  if (st == GF_OK) {
    r->nbytes = sizeof *perm * EP_ROWS;
    r->bytes = malloc(r->nbytes);
    memcpy(r->bytes, perm, r->nbytes);
    gf_sort_indices_free(perm, EP_ROWS, po);
  }
  return st;
}
static gf_status ep_join(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_join_options jo;
  gf_join_options_init(&jo);
  jo.parallel = po;
  const char *on[] = {"k"};
  return gf_join(E.f, E.right, on, on, 1, GF_JOIN_INNER, &jo, &r->frame, err);
}
static gf_status ep_describe(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  return gf_describe(E.f, po, &r->frame, err);
}
static gf_status ep_read_csv_buffer(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_csv_read_options ro;
  gf_csv_read_options_init(&ro);
  ro.parallel = po;
  return gf_read_csv_buffer(E.csv_text, E.csv_len, "ep.csv", &ro, &r->frame, err);
}
static gf_status ep_read_csv(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_csv_read_options ro;
  gf_csv_read_options_init(&ro);
  ro.parallel = po;
  char path[128];
  snprintf(path, sizeof path, "%s/in.csv", E.dir);
  return gf_read_csv(path, &ro, &r->frame, err);
}
static gf_status ep_read_ipc_file(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_ipc_read_options ro;
  gf_ipc_read_options_init(&ro);
  ro.parallel = po;
  char path[128];
  snprintf(path, sizeof path, "%s/in.arrow", E.dir);
  return gf_read_ipc_file(path, &ro, &r->frame, err);
}
static gf_status ep_read_ipc_buffer(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_ipc_read_options ro;
  gf_ipc_read_options_init(&ro);
  ro.parallel = po;
  return gf_read_ipc_file_buffer(E.ipc, E.ipc_len, &ro, &r->frame, err);
}
static gf_status ep_write_csv(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_csv_write_options wo;
  gf_csv_write_options_init(&wo);
  wo.parallel = po;
  char path[128];
  snprintf(path, sizeof path, "%s/out.csv", E.dir);
  unlink(path);
  gf_status st = gf_write_csv(E.f, path, &wo, err);
  if (st == GF_OK) r->bytes = slurp(path, &r->nbytes);
  else if (access(path, F_OK) == 0) st = gf_error_set(err, GF_EINTERNAL, "a failed write left %s", path);
  unlink(path);
  return st;
}
static gf_status ep_write_ipc_file(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_ipc_write_options wo;
  gf_ipc_write_options_init(&wo);
  wo.parallel = po;
  char path[128];
  snprintf(path, sizeof path, "%s/out.arrow", E.dir);
  unlink(path);
  gf_status st = gf_write_ipc_file(E.f, path, &wo, err);
  if (st == GF_OK) r->bytes = slurp(path, &r->nbytes);
  unlink(path);
  return st;
}
static gf_status ep_write_ipc_memory(const gf_parallel_options *po, ep_result *r, gf_error *err) {
  gf_ipc_write_options wo;
  gf_ipc_write_options_init(&wo);
  wo.parallel = po;
  void *b = NULL;
  size_t n = 0;
  gf_status st = gf_write_ipc_memory(E.f, false, &wo, &b, &n, err);
  if (st == GF_OK) {
    r->bytes = malloc(n);
    memcpy(r->bytes, b, n);
    r->nbytes = n;
    gf_mem_free(b);
  }
  return st;
}

static const struct {
  const char *name;
  ep_fn fn;
} EPS[] = {
    {"gf_filter", ep_filter},
    {"gf_with_columns", ep_with_columns},
    {"gf_evaluate", ep_evaluate},
    {"gf_pipeline_run", ep_pipeline},
    {"gf_group_by_text", ep_group_by},
    {"gf_sort", ep_sort},
    {"gf_sort_indices", ep_sort_indices},
    {"gf_join", ep_join},
    {"gf_describe", ep_describe},
    {"gf_read_csv_buffer", ep_read_csv_buffer},
    {"gf_read_csv", ep_read_csv},
    {"gf_read_ipc_file", ep_read_ipc_file},
    {"gf_read_ipc_file_buffer", ep_read_ipc_buffer},
    {"gf_write_csv", ep_write_csv},
    {"gf_write_ipc_file", ep_write_ipc_file},
    {"gf_write_ipc_memory", ep_write_ipc_memory},
};

static int ep_setup(void **state) {
  (void)state;
  E.f = ep_frame();
  /* The right side of the join: k in [0, 50), one row each. */
  char text[2048];
  size_t n = (size_t)sprintf(text, "k,label\n");
  for (int i = 0; i < 50; i++) n += (size_t)sprintf(text + n, "%d,L%d\n", i, i);
  assert_int_equal(gf_read_csv_buffer(text, n, "right.csv", NULL, &E.right, NULL), GF_OK);
  snprintf(E.dir, sizeof E.dir, "/tmp/gf_memlimit_XXXXXX");
  assert_non_null(mkdtemp(E.dir));
  char path[128];
  snprintf(path, sizeof path, "%s/in.csv", E.dir);
  assert_int_equal(gf_write_csv(E.f, path, NULL, NULL), GF_OK);
  E.csv_text = slurp(path, &E.csv_len);
  snprintf(path, sizeof path, "%s/in.arrow", E.dir);
  assert_int_equal(gf_write_ipc_file(E.f, path, NULL, NULL), GF_OK);
  E.ipc = slurp(path, &E.ipc_len);
  return 0;
}

static int ep_teardown(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/in.csv", E.dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/in.arrow", E.dir);
  unlink(path);
  rmdir(E.dir);
  gf_frame_release(E.f);
  gf_frame_release(E.right);
  free(E.csv_text);
  free(E.ipc);
  return 0;
}

/* Runs entry point k with `limit` (0 = none) through meter `m` (fresh) at
 * `workers` workers; returns the status and fills r. The meter never holds
 * more than the limit (plus the tracker's own slack of 64 KiB). */
static gf_status ep_run(size_t k, int64_t limit, int workers, metered *m, ep_result *r,
                        gf_error *err) {
  metered_init(m);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.allocator = &m->iface;
  po.num_workers = workers;
  po.memory_limit = limit;
  gf_error_clear(err);
  memset(r, 0, sizeof *r);
  gf_status st = EPS[k].fn(&po, r, err);
  int64_t peak = atomic_load(&m->peak);
  if (limit > 0 && peak > limit + (64 << 10))
    fail_msg("%s: the meter saw %lld bytes under a limit of %lld", EPS[k].name, (long long)peak,
             (long long)limit);
  return st;
}

/* Frees r and checks that nothing stays allocated through m. */
static void ep_done(size_t k, ep_result *r, metered *m, int64_t limit) {
  ep_result_free(r);
  if (atomic_load(&m->live) != 0)
    fail_msg("%s (limit %lld): %lld bytes still allocated after the call", EPS[k].name,
             (long long)limit, (long long)atomic_load(&m->live));
}

static void every_entry_point_honours_memory_limit(void **state) {
  (void)state;
  for (size_t k = 0; k < sizeof EPS / sizeof *EPS; k++) {
    for (int workers = 1; workers <= 3; workers += 2) {
      gf_error err;
      metered m0, m1, m2;
      ep_result free_run, low, high;
      gf_status st = ep_run(k, 0, workers, &m0, &free_run, &err);
      if (st != GF_OK) fail_msg("%s without a limit: %s", EPS[k].name, err.message);
      int64_t need = atomic_load(&m0.peak);
      /* Below the need: refused, the message names the limit. */
      int64_t lim = need / 4;
      st = ep_run(k, lim, workers, &m1, &low, &err);
      if (st != GF_ENOMEM)
        fail_msg("%s with limit %lld (needs %lld): status %d (%s)", EPS[k].name, (long long)lim,
                 (long long)need, (int)st, err.message);
      char want[64];
      snprintf(want, sizeof want, "memory limit of %lld bytes", (long long)lim);
      if (!strstr(err.message, want))
        fail_msg("%s: message '%s' does not name the limit", EPS[k].name, err.message);
      assert_null(low.frame);
      ep_done(k, &low, &m1, lim);
      /* Above the need: the same result as without a limit. */
      int64_t hi = 2 * need + (1 << 20);
      st = ep_run(k, hi, workers, &m2, &high, &err);
      if (st != GF_OK) fail_msg("%s with limit %lld: %s", EPS[k].name, (long long)hi, err.message);
      if (!ep_result_equal(&free_run, &high)) fail_msg("%s: the result differs under a limit", EPS[k].name);
      ep_done(k, &free_run, &m0, 0);
      ep_done(k, &high, &m2, hi);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(builder_growth_stays_under_the_limit),
      cmocka_unit_test(csv_read_ipc_write_and_print_stay_under_the_limit),
      cmocka_unit_test_setup_teardown(every_entry_point_honours_memory_limit, ep_setup, ep_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
