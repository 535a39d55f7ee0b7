/* gf_join on skewed keys (issue 14, item 7): one key value with 20k rows on
 * each side (400M output rows) must stop at a deadline or a cancel request
 * within 2 CPU-seconds at any worker count, must fail cleanly with GF_ENOMEM naming a
 * memory limit without the tracking allocator ever passing it, and smaller
 * skewed joins must still equal a nested-loop reference at any worker count
 * (with and without a memory limit that they fit in). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gf_test_data.h"
#include "gf_test_env.h"
#include "gopherframe/testing.h"

static const char *const K[] = {"k"};

/* CPU milliseconds of the whole process (every worker thread). The
 * latency checks below bound the CPU a stopped join spent, not wall time:
 * on a loaded machine wall time says how long we waited for a core, while
 * a join that did not stop would burn seconds of CPU producing 400M rows
 * (the tests check behaviour; bench/ measures speed). */
static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Key shapes: small-range integers (direct table), integers spread over a
 * wide range (hashed on the value), strings (hashed on the bytes). */
enum { KEY_DENSE = 0, KEY_SPARSE, KEY_UTF8, KEY_SHAPES };

/* One side: `skew` rows of one shared key, then `uniq` rows of keys that
 * only some rows of the other side share (`base` shifts them), every 37th
 * of those null. Columns: k, v (= row number), and with `pad` > 0 a utf8
 * column w of `pad`-byte strings. Keys as integers go to keys[] (-1 =
 * null) for the reference. */
static gf_frame *side(int shape, int64_t skew, int64_t uniq, int64_t base, int pad,
                      int64_t *keys) {
  int64_t n = skew + uniq;
  int64_t *v = malloc(sizeof *v * (size_t)(n ? n : 1));
  int64_t *kv = malloc(sizeof *kv * (size_t)(n ? n : 1));
  bool *ok = malloc(sizeof *ok * (size_t)(n ? n : 1));
  char **ks = calloc((size_t)(n ? n : 1), sizeof *ks);
  char **ws = calloc((size_t)(n ? n : 1), sizeof *ws);
  assert_non_null(v);
  assert_non_null(kv);
  assert_non_null(ok);
  assert_non_null(ks);
  assert_non_null(ws);
  for (int64_t i = 0; i < n; i++) {
    v[i] = i;
    int64_t key = i < skew ? 7 : 100 + base + (i - skew) / 2;
    ok[i] = i < skew || (i - skew) % 37 != 36;
    keys[i] = ok[i] ? key : -1;
    kv[i] = shape == KEY_SPARSE ? key * 1000003 : key;
    if (shape == KEY_UTF8 && ok[i]) {
      ks[i] = malloc(32);
      assert_non_null(ks[i]);
      snprintf(ks[i], 32, "key-%lld", (long long)key);
    }
    if (pad > 0) {
      ws[i] = malloc((size_t)pad + 1);
      assert_non_null(ws[i]);
      memset(ws[i], 'a' + (int)(i % 26), (size_t)pad);
      ws[i][pad] = '\0';
    }
  }
  gf_array *cols[3];
  cols[0] = shape == KEY_UTF8 ? gft_string_array(gf_type(GF_TYPE_UTF8), (const char *const *)ks, n)
                              : gft_int64_array(gf_type(GF_TYPE_INT64), kv, ok, n);
  cols[1] = gft_int64_array(gf_type(GF_TYPE_INT64), v, NULL, n);
  int nc = 2;
  if (pad > 0) cols[nc++] = gft_string_array(gf_type(GF_TYPE_UTF8), (const char *const *)ws, n);
  const char *names[] = {"k", "v", "w"};
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(gf_frame_from_columns(names, cols, nc, &f, &err), GF_OK);
  for (int c = 0; c < nc; c++) gf_array_release(cols[c]);
  for (int64_t i = 0; i < n; i++) {
    free(ks[i]);
    free(ws[i]);
  }
  free(ks);
  free(ws);
  free(v);
  free(kv);
  free(ok);
  return f;
}

/* The frame's value at `row` of column `name` as int64, -1 when null. */
static int64_t value_at(const gf_frame *f, const char *name, int64_t row) {
  int c = gf_schema_find(gf_frame_schema(f), name);
  assert_true(c >= 0);
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t off = gf_frame_batch_offset(f, b), len = gf_frame_batch_rows(f, b);
    if (row < off + len) {
      const gf_array *a = gf_frame_column(f, b, c);
      return gf_array_is_null(a, row - off) ? -1 : gf_array_get_int64(a, row - off);
    }
  }
  fail_msg("row %lld out of range", (long long)row);
  return -2;
}

/* The documented output of `how` by nested loops: (left, right) row pairs
 * (-1 = no row) into pl/pr, returns their count. */
static int64_t reference(gf_join_kind how, const int64_t *lk, int64_t nl, const int64_t *rk,
                         int64_t nr, int64_t *pl, int64_t *pr) {
  int64_t n = 0;
  bool *rmatched = calloc((size_t)(nr ? nr : 1), 1);
  assert_non_null(rmatched);
  for (int64_t i = 0; i < nl; i++) {
    bool any = false;
    for (int64_t j = 0; j < nr; j++) {
      if (lk[i] < 0 || lk[i] != rk[j]) continue;
      any = true;
      rmatched[j] = true;
      if (how == GF_JOIN_SEMI || how == GF_JOIN_ANTI) continue;
      pl[n] = i;
      pr[n++] = j;
    }
    if ((how == GF_JOIN_SEMI && any) || (how == GF_JOIN_ANTI && !any) ||
        (!any && (how == GF_JOIN_LEFT || how == GF_JOIN_FULL))) {
      pl[n] = i;
      pr[n++] = -1;
    }
  }
  if (how == GF_JOIN_RIGHT || how == GF_JOIN_FULL)
    for (int64_t j = 0; j < nr; j++)
      if (!rmatched[j]) {
        pl[n] = -1;
        pr[n++] = j;
      }
  free(rmatched);
  return n;
}

static gf_join_options join_opts(gf_parallel_options *po, int workers) {
  gf_parallel_options_init(po);
  po->num_workers = workers;
  po->min_parallel_rows = 0;
  gf_join_options jo;
  gf_join_options_init(&jo);
  jo.parallel = po;
  return jo;
}

/* (d) 300 x 300 rows on one key plus unique keys (some shared, some null)
 * equal the nested-loop reference for every kind and key shape, at 1, 2, 3
 * and 8 workers, also under a memory limit the output fits in. */
static void small_skewed_joins_match_nested_loop(void **state) {
  (void)state;
  const int64_t skew = 300, uniq = 700;
  const int64_t n = skew + uniq;
  int64_t *lk = malloc(sizeof *lk * (size_t)n);
  int64_t *rk = malloc(sizeof *rk * (size_t)(skew + 2 * uniq));
  int64_t cap = skew * skew + 8 * n;
  int64_t *pl = malloc(sizeof *pl * (size_t)cap), *pr = malloc(sizeof *pr * (size_t)cap);
  assert_true(lk && rk && pl && pr);
  const gf_join_kind kinds[] = {GF_JOIN_INNER, GF_JOIN_LEFT, GF_JOIN_RIGHT,
                                GF_JOIN_FULL,  GF_JOIN_SEMI, GF_JOIN_ANTI};
  const int workers[] = {1, 2, 3, 8};
  for (int shape = 0; shape < KEY_SHAPES; shape++) {
    gf_frame *l = side(shape, skew, uniq, 0, 0, lk);
    /* The right side is larger in one case, so inner/right/full build on
     * the left (and put the pairs back in left order). */
    for (int rsize = 0; rsize < 2; rsize++) {
      int64_t ru = rsize ? 2 * uniq : uniq;
      gf_frame *r = side(shape, skew, ru, 150, 0, rk);
      for (size_t ki = 0; ki < sizeof kinds / sizeof *kinds; ki++) {
        gf_join_kind how = kinds[ki];
        int64_t m = reference(how, lk, n, rk, skew + ru, pl, pr);
        assert_true(m <= cap);
        bool with_right = how != GF_JOIN_SEMI && how != GF_JOIN_ANTI;
        for (size_t wi = 0; wi < 4; wi++) {
          for (int limited = 0; limited < 2; limited++) {
            gf_parallel_options po;
            gf_join_options jo = join_opts(&po, workers[wi]);
            po.chunk_rows = 97;
            if (limited) po.memory_limit = (int64_t)256 << 20;
            gf_frame *out = NULL;
            gf_error err;
            gf_status st = gf_join(l, r, K, K, 1, how, &jo, &out, &err);
            if (st != GF_OK) fail_msg("shape %d kind %d: %s", shape, (int)how, err.message);
            assert_int_equal(gf_frame_num_rows(out), m);
            for (int64_t i = 0; i < m; i++) {
              if (value_at(out, "v", i) != pl[i] ||
                  (with_right && value_at(out, "v_right", i) != pr[i]))
                fail_msg("shape %d kind %s workers %d row %lld: got (%lld, %lld), want (%lld, %lld)",
                         shape, gf_join_kind_name(how), workers[wi], (long long)i,
                         (long long)value_at(out, "v", i),
                         (long long)(with_right ? value_at(out, "v_right", i) : -1),
                         (long long)pl[i], (long long)pr[i]);
            }
            gf_frame_release(out);
          }
        }
      }
      gf_frame_release(r);
    }
    gf_frame_release(l);
  }
  free(lk);
  free(rk);
  free(pl);
  free(pr);
}

/* Rows of one key on each side: 20k (400M output rows). Under sanitizers
 * 10k (100M rows): ASan poisons a freed block's whole shadow, and freeing
 * the untouched 6.4 GB of row numbers a 400M-row output reserves takes it
 * 1.3 s there (0.2 s with poison_heap=0), which is not the join's latency. */
static int64_t big_skew(void) { return gft_sanitized() ? 10000 : 20000; }

static void big_sides(gf_frame **l, gf_frame **r) {
  int64_t n = big_skew();
  int64_t *keys = malloc(sizeof *keys * (size_t)n);
  assert_non_null(keys);
  *l = side(KEY_DENSE, n, 0, 0, 0, keys);
  *r = side(KEY_DENSE, n, 0, 0, 0, keys);
  free(keys);
}

/* (a) A 200 ms deadline ends the skewed join with GF_ETIMEDOUT within 2 CPU-seconds
 * at 1, 2 and 4 workers. */
static void skewed_join_meets_its_deadline(void **state) {
  (void)state;
  gf_frame *l, *r;
  big_sides(&l, &r);
  const int workers[] = {1, 2, 4};
  for (int wi = 0; wi < 3; wi++) {
    gf_parallel_options po;
    gf_join_options jo = join_opts(&po, workers[wi]);
    po.timeout_ms = 200;
    gf_frame *out = NULL;
    gf_error err;
    int64_t t0 = now_ms();
    gf_status st = gf_join(l, r, K, K, 1, GF_JOIN_INNER, &jo, &out, &err);
    int64_t took = now_ms() - t0;
    print_message("workers %d: %s after %lld CPU ms\n", workers[wi], gf_status_string(st),
                  (long long)took);
    assert_int_equal(st, GF_ETIMEDOUT);
    assert_null(out);
    assert_true(took < 2000);
  }
  gf_frame_release(l);
  gf_frame_release(r);
}

typedef struct canceller {
  gf_cancel *c;
  long ms;
} canceller;

static void *cancel_later(void *p) {
  canceller *c = p;
  struct timespec ts = {c->ms / 1000, (c->ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  gf_cancel_request(c->c);
  return NULL;
}

/* (b) A cancel request from another thread after 100 ms ends the skewed
 * join with GF_ECANCELED within 2 CPU-seconds, at 1, 2 and 4 workers. */
static void skewed_join_is_cancellable(void **state) {
  (void)state;
  gf_frame *l, *r;
  big_sides(&l, &r);
  gf_cancel *c;
  assert_int_equal(gf_cancel_new(&c, NULL), GF_OK);
  const int workers[] = {1, 2, 4};
  for (int wi = 0; wi < 3; wi++) {
    gf_cancel_reset(c);
    gf_parallel_options po;
    gf_join_options jo = join_opts(&po, workers[wi]);
    po.cancel = c;
    canceller cc = {c, 100};
    pthread_t t;
    gf_frame *out = NULL;
    gf_error err;
    int64_t t0 = now_ms();
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &cc), 0);
    gf_status st = gf_join(l, r, K, K, 1, GF_JOIN_LEFT, &jo, &out, &err);
    int64_t took = now_ms() - t0;
    pthread_join(t, NULL);
    print_message("workers %d: %s after %lld CPU ms\n", workers[wi], gf_status_string(st),
                  (long long)took);
    assert_int_equal(st, GF_ECANCELED);
    assert_null(out);
    assert_true(took < 2000);
  }
  gf_cancel_free(c);
  gf_frame_release(l);
  gf_frame_release(r);
}

/* Runs `how` on l and r under a tracking allocator limited to `limit`
 * (also the call's memory_limit, as gf query --memory-limit does) and
 * expects GF_ENOMEM naming the limit, the peak never above it and nothing
 * left allocated. */
static void expect_limit_refusal(const gf_frame *l, const gf_frame *r, gf_join_kind how,
                                 int workers, int64_t limit, const char *must_say) {
  gf_tracking_allocator *tr;
  assert_int_equal(gf_tracking_allocator_new(NULL, limit, &tr, NULL), GF_OK);
  gf_parallel_options po;
  gf_join_options jo = join_opts(&po, workers);
  po.allocator = gf_tracking_allocator_get(tr);
  po.memory_limit = limit;
  gf_frame *out = NULL;
  gf_error err;
  int64_t t0 = now_ms();
  gf_status st = gf_join(l, r, K, K, 1, how, &jo, &out, &err);
  int64_t took = now_ms() - t0;
  print_message("workers %d: %s after %lld CPU ms, peak %lld: %s\n", workers,
                gf_status_string(st), (long long)took,
                (long long)gf_tracking_allocator_peak(tr), err.message);
  assert_int_equal(st, GF_ENOMEM);
  assert_null(out);
  char lim[32];
  snprintf(lim, sizeof lim, "memory limit of %lld bytes", (long long)limit);
  assert_non_null(strstr(err.message, lim));
  if (must_say) assert_non_null(strstr(err.message, must_say));
  assert_true(gf_tracking_allocator_peak(tr) <= limit);
  assert_int_equal(gf_tracking_allocator_current(tr), 0);
  assert_true(took < 2000);
  gf_tracking_allocator_free(tr);
}

/* (c) Under a 256 MiB limit the 400M-row output is refused up front (the
 * message gives the row count); an output whose row numbers fit but whose
 * strings do not is refused while it is gathered, still naming the limit. */
static void skewed_join_respects_the_memory_limit(void **state) {
  (void)state;
  const int64_t limit = (int64_t)256 << 20;
  gf_frame *l, *r;
  big_sides(&l, &r);
  char rows[64];
  snprintf(rows, sizeof rows, "output of %lld rows", (long long)(big_skew() * big_skew()));
  for (int w = 1; w <= 4; w *= 2) expect_limit_refusal(l, r, GF_JOIN_INNER, w, limit, rows);
  expect_limit_refusal(l, r, GF_JOIN_FULL, 2, limit, rows);
  gf_frame_release(l);
  gf_frame_release(r);
  /* 2000 x 2000 rows: 4M rows of 40 bytes known up front (160 MB) plus
   * 100-byte strings the count cannot see (400 MB). */
  int64_t *keys = malloc(sizeof *keys * 2000);
  assert_non_null(keys);
  l = side(KEY_DENSE, 2000, 0, 0, 0, keys);
  r = side(KEY_DENSE, 2000, 0, 0, 100, keys);
  expect_limit_refusal(l, r, GF_JOIN_INNER, 2, limit, NULL);
  gf_frame_release(l);
  gf_frame_release(r);
  free(keys);
}

/* 2^20 + 1 rows against 2^20 rows of one key: one row more than a frame
 * holds (GF_MAX_ROWS = 2^40). Refused from the count, at once, with no
 * memory limit set. */
static void output_over_max_rows_is_refused_at_once(void **state) {
  (void)state;
  const int64_t n = (int64_t)1 << 20;
  int64_t *keys = malloc(sizeof *keys * (size_t)(n + 1));
  assert_non_null(keys);
  gf_frame *l = side(KEY_DENSE, n + 1, 0, 0, 0, keys);
  gf_frame *r = side(KEY_DENSE, n, 0, 0, 0, keys);
  free(keys);
  gf_parallel_options po;
  gf_join_options jo = join_opts(&po, 2);
  gf_frame *out = NULL;
  gf_error err;
  int64_t t0 = now_ms();
  assert_int_equal(gf_join(l, r, K, K, 1, GF_JOIN_INNER, &jo, &out, &err), GF_ERANGE);
  assert_null(out);
  assert_non_null(strstr(err.message, "more than 1099511627776 rows"));
  assert_true(now_ms() - t0 < 2000);
  /* One row fewer is exactly GF_MAX_ROWS: not refused as too many rows
   * (a memory limit stops it here, naming the row count). */
  po.memory_limit = (int64_t)256 << 20;
  assert_int_equal(gf_join(r, r, K, K, 1, GF_JOIN_INNER, &jo, &out, &err), GF_ENOMEM);
  assert_null(out);
  assert_non_null(strstr(err.message, "output of 1099511627776 rows"));
  gf_frame_release(l);
  gf_frame_release(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(small_skewed_joins_match_nested_loop),
      cmocka_unit_test(skewed_join_meets_its_deadline),
      cmocka_unit_test(skewed_join_is_cancellable),
      cmocka_unit_test(skewed_join_respects_the_memory_limit),
      cmocka_unit_test(output_over_max_rows_is_refused_at_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
