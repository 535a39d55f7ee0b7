/* Per-worker scratch arenas (src/exec/arena.c) and their accounting
 * (src/exec/call_alloc.c), and the MemoryBound strategy's planners
 * (src/exec/planners.c).
 *
 * Arenas
 * (src/exec/call_alloc.c): reuse across calls gives the results of a naive
 * group-by at 1/2/3/8 workers; arena blocks count against a call's memory
 * limit (a limit the scratch crosses fails with GF_ENOMEM even when the
 * arena holds the memory); idle arena bytes are trimmed before a refusal;
 * a caller's own allocator sees every byte and no arena is touched; the
 * idle cap; gf_pool_trim; allocation-failure sweeps over both the arena's
 * fresh blocks and a caller's allocator; concurrent calls with trims (for
 * TSan). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/arena.h"
#include "exec/exec_internal.h"
#include "gf_test_data.h"
#include "gf_test_garbage.h"
#include "gf_test_sweep.h"

static const int kWorkers[] = {1, 2, 3, 8};

/* ---- a naive reference group-by: k (int64, nulls) -> count(*), sum(i) -- */

typedef struct ref {
  int64_t ngroups;
  int64_t *key;  /* per group, in first-appearance order */
  bool *key_ok;
  int64_t *count, *sum;
} ref;

typedef struct data {
  int64_t n;
  int64_t *k;
  bool *kok;
  int64_t *i;
  gf_frame *clean, *garbage;
  ref r;
} data;

/* Groups by a plain hash table written for the test (linear probing over
 * key values; the null key is its own group). */
static void naive_groupby(data *d) {
  int64_t cap = 1;
  while (cap < 2 * d->n + 2) cap <<= 1;
  int64_t *slot = malloc(sizeof *slot * (size_t)cap);
  for (int64_t s = 0; s < cap; s++) slot[s] = -1;
  int64_t null_group = -1;
  ref *r = &d->r;
  r->key = malloc(sizeof *r->key * (size_t)d->n);
  r->key_ok = malloc((size_t)d->n);
  r->count = calloc((size_t)d->n, sizeof *r->count);
  r->sum = calloc((size_t)d->n, sizeof *r->sum);
  r->ngroups = 0;
  for (int64_t row = 0; row < d->n; row++) {
    int64_t g;
    if (!d->kok[row]) {
      if (null_group < 0) {
        null_group = r->ngroups++;
        r->key_ok[null_group] = false;
        r->key[null_group] = 0;
      }
      g = null_group;
    } else {
      uint64_t h = (uint64_t)d->k[row] * UINT64_C(0x9E3779B97F4A7C15);
      int64_t s = (int64_t)(h >> 20) & (cap - 1);
      while (slot[s] >= 0 && r->key[slot[s]] != d->k[row]) s = (s + 1) & (cap - 1);
      if (slot[s] < 0) {
        slot[s] = r->ngroups++;
        r->key[slot[s]] = d->k[row];
        r->key_ok[slot[s]] = true;
      }
      g = slot[s];
    }
    r->count[g]++;
    r->sum[g] += d->i[row];
  }
  free(slot);
}

/* n rows, about `ngroups` keys with 2% nulls, i in [-1000, 1000], three
 * batches; `garbage` is its twin with garbage under nulls and offsets. */
static void make_data(data *d, int64_t n, int64_t ngroups, uint64_t seed) {
  memset(d, 0, sizeof *d);
  d->n = n;
  d->k = malloc(sizeof *d->k * (size_t)n);
  d->kok = malloc((size_t)n);
  d->i = malloc(sizeof *d->i * (size_t)n);
  for (int64_t r = 0; r < n; r++) {
    d->k[r] = (int64_t)(gft_rand_next(&seed) % (uint64_t)ngroups) * 7 - 5;
    d->kok[r] = gft_rand_next(&seed) % 50 != 0;
    d->i[r] = (int64_t)(gft_rand_next(&seed) % 2001) - 1000;
  }
  gf_array *cols[2];
  cols[0] = gft_int64_array(gf_type(GF_TYPE_INT64), d->k, d->kok, n);
  cols[1] = gft_int64_array(gf_type(GF_TYPE_INT32), d->i, NULL, n);
  gf_field fields[2] = {{"k", gf_type(GF_TYPE_INT64), true}, {"i", gf_type(GF_TYPE_INT32), true}};
  gf_schema *schema;
  assert_int_equal(gf_schema_new(fields, 2, &schema, NULL), GF_OK);
  enum { NB = 3 };
  gf_array *parts[2 * NB];
  for (int b = 0; b < NB; b++) {
    int64_t lo = n * b / NB, hi = n * (b + 1) / NB;
    for (int c = 0; c < 2; c++)
      assert_int_equal(gf_array_slice(cols[c], lo, hi - lo, &parts[b * 2 + c], NULL), GF_OK);
  }
  assert_int_equal(gf_frame_new(schema, parts, NB, NULL, &d->clean, NULL), GF_OK);
  for (int p = 0; p < 2 * NB; p++) gf_array_release(parts[p]);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  gf_schema_release(schema);
  d->garbage = gft_garbage_frame(d->clean, seed ^ 0x5eed);
  naive_groupby(d);
}

static void free_data(data *d) {
  free(d->k);
  free(d->kok);
  free(d->i);
  free(d->r.key);
  free(d->r.key_ok);
  free(d->r.count);
  free(d->r.sum);
  gf_frame_release(d->clean);
  gf_frame_release(d->garbage);
}

static const char *const kKeys[] = {"k"};
static const gf_agg_spec kAggs[] = {{GF_AGG_COUNT_ALL, NULL, NULL, 0, 0, "n"},
                                    {GF_AGG_SUM, "i", NULL, 0, 0, "s"}};

/* Asserts `out` (k, n, s) equals the naive reference row for row. */
static void assert_matches_ref(const gf_frame *out, const ref *r) {
  assert_int_equal(gf_frame_num_rows(out), r->ngroups);
  int64_t g = 0;
  for (int b = 0; b < gf_frame_num_batches(out); b++) {
    gf_array *k = gf_frame_column(out, b, 0), *n = gf_frame_column(out, b, 1),
             *s = gf_frame_column(out, b, 2);
    for (int64_t j = 0; j < gf_array_length(k); j++, g++) {
      assert_int_equal(!gf_array_is_null(k, j), r->key_ok[g]);
      if (r->key_ok[g]) assert_int_equal(gf_array_get_int64(k, j), r->key[g]);
      assert_int_equal(gf_array_get_int64(n, j), r->count[g]);
      assert_int_equal(gf_array_get_int64(s, j), r->sum[g]);
    }
  }
  assert_int_equal(g, r->ngroups);
}

static gf_status run_groupby(const gf_frame *f, int workers, const gf_allocator *a,
                             int64_t limit, gf_frame **out, gf_error *err) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.min_parallel_rows = 0;
  po.allocator = a;
  po.memory_limit = limit;
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = &po;
  *out = NULL;
  return gf_group_by(f, kKeys, 1, kAggs, 2, &go, out, err);
}

/* ---- tests ------------------------------------------------------------- */

static void size_classes_take_give_trim(void **state) {
  (void)state;
  gf_pool_trim();
  assert_int_equal(gfi_arena_idle_bytes(), 0);
  /* Classes: below the minimum unchanged; above, at most 12.5% larger and
   * monotone. */
  assert_int_equal(gfi_arena_class(100), 100);
  size_t prev = 0;
  for (size_t s = GFI_ARENA_MIN_BYTES; s < ((size_t)64 << 20); s += s / 7 + 1) {
    size_t c = gfi_arena_class(s);
    assert_true(c >= s && c - s <= s / 8);
    assert_true(c >= prev);
    assert_int_equal(gfi_arena_class(c), c);
    prev = c;
  }
  size_t cap = gfi_arena_class((size_t)1 << 20);
  void *p = gfi_arena_fresh(cap);
  assert_non_null(p);
  memset(p, 1, cap);
  gfi_arena_give(p, cap);
  assert_int_equal(gfi_arena_idle_bytes(), (int64_t)cap);
  assert_null(gfi_arena_take(cap * 2)); /* only the exact class is served */
  assert_ptr_equal(gfi_arena_take(cap), p);
  assert_int_equal(gfi_arena_idle_bytes(), 0);
  gfi_arena_give(p, cap);
  assert_int_equal(gf_pool_trim(), (int64_t)cap);
  assert_int_equal(gfi_arena_idle_bytes(), 0);
  assert_int_equal(gf_pool_trim(), 0);
}

static void idle_cap_is_held(void **state) {
  (void)state;
  gf_pool_trim();
  size_t cap = gfi_arena_class((size_t)1 << 20);
  gfi_arena_test_set_cap((int64_t)(2 * cap + cap / 2));
  void *b[4];
  for (int i = 0; i < 4; i++) assert_non_null(b[i] = gfi_arena_fresh(cap));
  for (int i = 0; i < 4; i++) {
    gfi_arena_give(b[i], cap);
    assert_true(gfi_arena_idle_bytes() <= (int64_t)(2 * cap + cap / 2));
  }
  assert_int_equal(gfi_arena_idle_bytes(), (int64_t)(2 * cap)); /* the two newest */
  /* A block larger than the cap is released at once. */
  void *big = gfi_arena_fresh(4 * cap);
  assert_non_null(big);
  gfi_arena_give(big, 4 * cap);
  assert_int_equal(gfi_arena_idle_bytes(), (int64_t)(2 * cap));
  /* Cap 0 turns caching off. */
  gfi_arena_test_set_cap(0);
  void *q = gfi_scratch_alloc(NULL, cap);
  assert_non_null(q);
  gfi_scratch_free(NULL, q, cap);
  assert_true(gfi_arena_idle_bytes() <= (int64_t)(2 * cap));
  gfi_arena_test_set_cap(-1);
  gf_pool_trim();
  assert_int_equal(gfi_arena_idle_bytes(), 0);
}

/* Repeated group-bys in one process reuse arena blocks and give the naive
 * result every time, at 1/2/3/8 workers, on clean and garbage-under-nulls
 * inputs, with many groups (hashed partition path) and few (block path). */
static void reuse_across_calls_gives_identical_results(void **state) {
  (void)state;
  static const int64_t groups[] = {60000, 300};
  for (size_t gi = 0; gi < sizeof groups / sizeof groups[0]; gi++) {
    data d;
    make_data(&d, 150000, groups[gi], 11 + gi);
    gf_pool_trim();
    gf_frame *first = NULL;
    int64_t reused0, fresh0;
    gfi_arena_counts(&reused0, &fresh0);
    for (int rep = 0; rep < 3; rep++) {
      for (size_t w = 0; w < sizeof kWorkers / sizeof kWorkers[0]; w++) {
        for (int which = 0; which < 2; which++) {
          gf_frame *out = NULL;
          gf_error err;
          assert_int_equal(run_groupby(which ? d.garbage : d.clean, kWorkers[w], NULL, 0, &out,
                                       &err), GF_OK);
          assert_matches_ref(out, &d.r);
          if (!first) first = gf_frame_retain(out);
          else assert_true(gf_frame_equals(out, first));
          gf_frame_release(out);
        }
      }
    }
    int64_t reused1, fresh1;
    gfi_arena_counts(&reused1, &fresh1);
    print_message("groups %lld: %lld blocks reused, %lld fresh\n", (long long)groups[gi], (long long)(reused1 - reused0), (long long)(fresh1 - fresh0));
    /* Most blocks were reused (the first call's were fresh). */
    assert_true(reused1 - reused0 > 0);
    assert_true(reused1 - reused0 > fresh1 - fresh0);
    assert_true(gfi_arena_idle_bytes() > 0);
    gf_frame_release(first);
    free_data(&d);
  }
  gf_pool_trim();
}

/* Arena blocks count against the call's limit: a block taken from the
 * arena is charged to the call (current and peak), a request the limit
 * cannot hold is refused even though the arena holds a block of that
 * class, and idle arena bytes are trimmed before a plain allocation is
 * refused. */
static void memory_limit_counts_arena_bytes(void **state) {
  (void)state;
  gf_pool_trim();
  size_t want = (size_t)3 << 20;
  size_t cap = gfi_arena_class(want);
  void *warm = gfi_scratch_alloc(NULL, want); /* unlimited call: not charged */
  assert_non_null(warm);
  gfi_scratch_free(NULL, warm, want);
  assert_int_equal(gfi_arena_idle_bytes(), (int64_t)cap);

  /* A limit below the block: refused, the cached block stays idle. */
  gfi_call_alloc *c = NULL;
  assert_int_equal(gfi_call_alloc_new(NULL, (int64_t)cap - 1, &c, NULL), GF_OK);
  const gf_allocator *a = gfi_call_alloc_get(c);
  assert_null(gfi_scratch_alloc(a, want));
  assert_true(gfi_call_alloc_refusals(c) >= 1);
  assert_int_equal(gfi_call_alloc_current(c), 0);
  gfi_call_alloc_release(c);

  /* A limit that holds it: the arena's block, charged at its capacity. */
  assert_int_equal(gfi_call_alloc_new(NULL, (int64_t)(2 * cap), &c, NULL), GF_OK);
  a = gfi_call_alloc_get(c);
  int64_t reused0, reused1;
  gfi_arena_counts(&reused0, NULL);
  void *p = gfi_scratch_alloc(a, want);
  assert_non_null(p);
  gfi_arena_counts(&reused1, NULL);
  assert_int_equal(reused1, reused0 + 1);
  assert_int_equal(gfi_call_alloc_current(c), (int64_t)cap);
  assert_int_equal(gfi_arena_idle_bytes(), 0);
  /* A second block would cross the limit together with the first. */
  assert_null(gfi_scratch_alloc(a, cap + 1));
  gfi_scratch_free(a, p, want);
  assert_int_equal(gfi_call_alloc_current(c), 0);
  assert_int_equal(gfi_call_alloc_peak(c), (int64_t)cap);
  assert_int_equal(gfi_arena_idle_bytes(), (int64_t)cap);
  /* Idle bytes count against the limit: a plain allocation that fits only
   * without them trims the arenas first, then succeeds. */
  void *plain = gf_alloc(a, cap + cap / 2, 16);
  assert_non_null(plain);
  assert_int_equal(gfi_arena_idle_bytes(), 0);
  gf_free(a, plain, cap + cap / 2, 16);
  gfi_call_alloc_release(c);
}

/* Through the public API: after an unlimited run has filled the arenas, a
 * run whose limit the scratch crosses fails cleanly with GF_ENOMEM naming
 * the limit (no output), and the next unlimited run still matches. */
static void groupby_under_a_limit_fails_cleanly_with_a_warm_arena(void **state) {
  (void)state;
  data d;
  make_data(&d, 150000, 60000, 21);
  for (size_t w = 0; w < sizeof kWorkers / sizeof kWorkers[0]; w++) {
    gf_frame *out = NULL;
    gf_error err;
    assert_int_equal(run_groupby(d.clean, kWorkers[w], NULL, 0, &out, &err), GF_OK);
    gf_frame_release(out);
    assert_true(gfi_arena_idle_bytes() > 0);
    /* 256 KiB: the 1.2 MB per-row scratch cannot fit; spilling cannot help
     * either (the spill path needs 9 bytes a row in memory). */
    char tmpl[] = "/tmp/gf_arena_test_XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    setenv("GF_TMPDIR", tmpl, 1);
    gf_status st = run_groupby(d.clean, kWorkers[w], NULL, 256 << 10, &out, &err);
    unsetenv("GF_TMPDIR");
    assert_int_equal(rmdir(tmpl), 0); /* nothing left in it */
    assert_int_equal(st, GF_ENOMEM);
    assert_null(out);
    assert_non_null(strstr(err.message, "memory limit"));
    assert_int_equal(run_groupby(d.clean, kWorkers[w], NULL, 0, &out, &err), GF_OK);
    assert_matches_ref(out, &d.r);
    gf_frame_release(out);
  }
  free_data(&d);
  gf_pool_trim();
}

/* A caller's own allocator gets every byte: no arena block is taken or
 * cached during the call, with and without a memory limit, and the
 * tracker sees at least the per-row scratch. */
static void custom_allocator_sees_every_byte(void **state) {
  (void)state;
  data d;
  make_data(&d, 150000, 60000, 31);
  gf_pool_trim();
  for (size_t w = 0; w < sizeof kWorkers / sizeof kWorkers[0]; w++) {
    for (int limited = 0; limited < 2; limited++) {
      gf_tracking_allocator *t;
      assert_int_equal(gf_tracking_allocator_new(NULL, 0, &t, NULL), GF_OK);
      int64_t r0, f0, r1, f1;
      gfi_arena_counts(&r0, &f0);
      gf_frame *out = NULL;
      gf_error err;
      assert_int_equal(run_groupby(d.clean, kWorkers[w], gf_tracking_allocator_get(t),
                                   limited ? (int64_t)1 << 30 : 0, &out, &err), GF_OK);
      gfi_arena_counts(&r1, &f1);
      assert_int_equal(r1, r0);
      assert_int_equal(f1, f0);
      assert_int_equal(gfi_arena_idle_bytes(), 0);
      assert_matches_ref(out, &d.r);
      /* 150,000 rows x (8-byte hash words + row numbers + group ids). */
      assert_true(gf_tracking_allocator_peak(t) > 150000 * 16);
      gf_frame_release(out);
      assert_int_equal(gf_tracking_allocator_current(t), 0);
      gf_tracking_allocator_free(t);
    }
  }
  free_data(&d);
}

/* Every fresh arena block in turn fails (cold arenas, so every block is
 * fresh): each run fails with GF_ENOMEM and no output, or absorbs it; the
 * final run matches; nothing leaks (LSan/ASan in the sanitizer stages). */
static void allocation_failure_sweep_over_arena_blocks(void **state) {
  (void)state;
  data d;
  make_data(&d, 120000, 50000, 41);
  for (size_t w = 0; w < sizeof kWorkers / sizeof kWorkers[0]; w++) {
    int failed = 0;
    for (int64_t nth = 1;; nth++) {
      gf_pool_trim();
      int64_t f0, f1;
      gfi_arena_counts(NULL, &f0);
      gfi_arena_test_fail_fresh(nth);
      gf_frame *out = NULL;
      gf_error err;
      gf_status st = run_groupby(d.clean, kWorkers[w], NULL, 0, &out, &err);
      gfi_arena_test_fail_fresh(0);
      gfi_arena_counts(NULL, &f1);
      if (st == GF_OK) {
        assert_matches_ref(out, &d.r);
        gf_frame_release(out);
        if (f1 - f0 < nth) break; /* the nth block was never asked for */
      } else {
        assert_int_equal(st, GF_ENOMEM);
        assert_null(out);
        failed++;
      }
      assert_true(nth < 1000);
    }
    assert_true(failed > 0);
  }
  free_data(&d);
  gf_pool_trim();
}

typedef struct sweep_user {
  const data *d;
  int workers;
} sweep_user;

static gf_status sweep_run(void *user, const gf_allocator *a) {
  sweep_user *u = user;
  gf_frame *out = NULL;
  gf_error err;
  gf_status st = run_groupby(u->d->garbage, u->workers, a, 0, &out, &err);
  if (st == GF_OK) {
    assert_matches_ref(out, &u->d->r);
    gf_frame_release(out);
  } else if (out) {
    fail_msg("%s: output set on failure", gft_sweep_at());
  }
  return st;
}

/* The project's sweep with a failing caller allocator: scratch sites fall
 * back to it (no arena) and every failure is clean. */
static void allocation_failure_sweep_with_a_caller_allocator(void **state) {
  (void)state;
  data d;
  make_data(&d, 3000, 1200, 51);
  gft_sweep_counts acc;
  memset(&acc, 0, sizeof acc);
  for (size_t w = 0; w < sizeof kWorkers / sizeof kWorkers[0]; w++) {
    gf_failing_allocator *fa;
    assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
    sweep_user u = {&d, kWorkers[w]};
    gft_alloc_sweep("group-by scratch, caller allocator", fa, sweep_run, &u, &acc);
    gf_failing_allocator_free(fa);
  }
  gft_sweep_print("group-by scratch, caller allocator", &acc);
  free_data(&d);
}

/* Several application threads group at once (sharing arena 0 and the pool
 * threads' arenas) while another trims; every result matches. */
typedef struct conc {
  const data *d;
  int workers;
  int bad;
} conc;

static void *conc_worker(void *arg) {
  conc *c = arg;
  for (int rep = 0; rep < 4; rep++) {
    gf_frame *out = NULL;
    gf_error err;
    if (run_groupby(c->d->clean, c->workers, NULL, rep == 3 ? (int64_t)1 << 30 : 0, &out,
                    &err) != GF_OK ||
        gf_frame_num_rows(out) != c->d->r.ngroups)
      c->bad++;
    gf_frame_release(out);
  }
  return NULL;
}

static atomic_bool stop_trim;
static void *trimmer(void *arg) {
  (void)arg;
  while (!atomic_load(&stop_trim)) gf_pool_trim();
  return NULL;
}

static void concurrent_calls_and_trims(void **state) {
  (void)state;
  data d;
  make_data(&d, 100000, 40000, 61);
  pthread_t th[4], tt;
  conc cs[4];
  atomic_store(&stop_trim, false);
  assert_int_equal(pthread_create(&tt, NULL, trimmer, NULL), 0);
  for (int i = 0; i < 4; i++) {
    cs[i] = (conc){&d, kWorkers[i], 0};
    assert_int_equal(pthread_create(&th[i], NULL, conc_worker, &cs[i]), 0);
  }
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  atomic_store(&stop_trim, true);
  pthread_join(tt, NULL);
  for (int i = 0; i < 4; i++) assert_int_equal(cs[i].bad, 0);
  /* And one more run that must match exactly after all that. */
  gf_frame *out = NULL;
  gf_error err;
  assert_int_equal(run_groupby(d.garbage, 3, NULL, 0, &out, &err), GF_OK);
  assert_matches_ref(out, &d.r);
  gf_frame_release(out);
  free_data(&d);
  gf_pool_trim();
  assert_int_equal(gfi_arena_idle_bytes(), 0);
}

/* Repeated inner joins (hash table scratch from the arenas) give the naive
 * nested-loop pairs every time, at 1/2/3/8 workers. */
static void joins_reuse_arenas_and_match_a_nested_loop(void **state) {
  (void)state;
  data d;
  make_data(&d, 40000, 3000, 81);
  enum { NR = 5000 };
  int64_t rk[NR], rv[NR];
  bool rok[NR];
  uint64_t seed = 99;
  for (int r = 0; r < NR; r++) {
    rk[r] = (int64_t)(gft_rand_next(&seed) % 3000) * 7 - 5;
    rok[r] = gft_rand_next(&seed) % 40 != 0;
    rv[r] = r;
  }
  gf_array *rc[2] = {gft_int64_array(gf_type(GF_TYPE_INT64), rk, rok, NR),
                     gft_int64_array(gf_type(GF_TYPE_INT64), rv, NULL, NR)};
  const char *rn[2] = {"rk", "rv"};
  gf_frame *right = NULL;
  assert_int_equal(gf_frame_from_columns(rn, rc, 2, &right, NULL), GF_OK);
  gf_array_release(rc[0]);
  gf_array_release(rc[1]);
  /* Naive pairs: left rows in order, each left row's matches by right row. */
  int64_t cap = 1 << 20, np = 0;
  int64_t *pl = malloc(sizeof *pl * (size_t)cap), *pr = malloc(sizeof *pr * (size_t)cap);
  for (int64_t l = 0; l < d.n; l++) {
    if (!d.kok[l]) continue;
    for (int r = 0; r < NR; r++)
      if (rok[r] && rk[r] == d.k[l]) {
        assert_true(np < cap);
        pl[np] = l;
        pr[np++] = r;
      }
  }
  static const char *const lon[] = {"k"}, *const ron[] = {"rk"};
  gf_pool_trim();
  int64_t r0, f0, r1, f1;
  gfi_arena_counts(&r0, &f0);
  for (int rep = 0; rep < 2; rep++) {
    for (size_t w = 0; w < sizeof kWorkers / sizeof kWorkers[0]; w++) {
      gf_parallel_options po;
      gf_parallel_options_init(&po);
      po.num_workers = kWorkers[w];
      po.min_parallel_rows = 0;
      gf_join_options jo;
      gf_join_options_init(&jo);
      jo.parallel = &po;
      gf_frame *out = NULL;
      gf_error err;
      assert_int_equal(gf_join(rep ? d.garbage : d.clean, right, lon, ron, 1, GF_JOIN_INNER, &jo,
                               &out, &err), GF_OK);
      assert_int_equal(gf_frame_num_rows(out), np);
      int ci = gf_schema_find(gf_frame_schema(out), "i");
      int cv = gf_schema_find(gf_frame_schema(out), "rv");
      assert_true(ci >= 0 && cv >= 0);
      int64_t q = 0;
      for (int b = 0; b < gf_frame_num_batches(out); b++) {
        gf_array *iv = gf_frame_column(out, b, ci), *vv = gf_frame_column(out, b, cv);
        for (int64_t j = 0; j < gf_array_length(iv); j++, q++) {
          assert_int_equal(gf_array_get_int64(iv, j), d.i[pl[q]]);
          assert_int_equal(gf_array_get_int64(vv, j), pr[q]);
        }
      }
      gf_frame_release(out);
    }
  }
  gfi_arena_counts(&r1, &f1);
  assert_true(r1 - r0 > 0);
  free(pl);
  free(pr);
  gf_frame_release(right);
  free_data(&d);
  gf_pool_trim();
}

/* ---- the MemoryBound strategy ------------------------------------------ */

/* The formulas of docs/STRATEGIES.md, by hand. */
static void memory_bound_formulas(void **state) {
  (void)state;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.strategy = GF_STRATEGY_MEMORY_BOUND;
  /* No limit: 16 MiB per worker. */
  assert_int_equal(gfi_plan_memory_bound_rows(100000000, 16, &o, 2), (16 << 20) / 16);
  /* Limit L: L / (4 W) / bytes_per_row, at least 4096, at most ceil(n/W). */
  o.memory_limit = (int64_t)64 << 20;
  assert_int_equal(gfi_plan_memory_bound_rows(100000000, 8, &o, 4), ((int64_t)64 << 20) / 16 / 8);
  assert_int_equal(gfi_plan_memory_bound_rows(1000, 8, &o, 3), 334);
  o.memory_limit = 1 << 20;
  assert_int_equal(gfi_plan_memory_bound_rows(100000000, 64, &o, 8), 4096);
  /* gf_plan_chunks uses it (an explicit chunk_rows still wins). */
  gf_chunk_spec *c = NULL;
  int64_t n = 0;
  o.memory_limit = (int64_t)64 << 20;
  o.num_workers = 4;
  o.min_parallel_rows = 0;
  assert_int_equal(gf_plan_chunks(10000000, 8, &o, &c, &n, NULL), GF_OK);
  assert_int_equal(c[0].end_row, ((int64_t)64 << 20) / 16 / 8);
  gf_mem_free(c);

  /* Spill partitions: 2 without a limit; the fixed rule (a quarter of the
   * limit per partition) for other strategies; what is left under
   * MemoryBound. */
  gf_parallel_options p;
  gf_parallel_options_init(&p);
  assert_int_equal(gfi_plan_spill_partitions(1000000, 64, &p, 256), 2);
  p.memory_limit = (int64_t)64 << 20; /* 64e6 / 16 MiB = 3.8 -> 4 */
  assert_int_equal(gfi_plan_spill_partitions(1000000, 64, &p, 256), 4);
  assert_int_equal(gfi_plan_spill_partitions(100000000, 64, &p, 256), 256);
  p.strategy = GF_STRATEGY_MEMORY_BOUND;
  assert_int_equal(gfi_plan_spill_partitions(1000000, 64, &p, 256), 4); /* nothing in use */
  gfi_ctx ctx;
  gf_parallel_options lo;
  gf_error err;
  assert_int_equal(gfi_ctx_load(&ctx, &p, &lo, &err), GF_OK);
  void *held = gf_alloc(lo.allocator, (size_t)32 << 20, 64); /* half the limit in use */
  assert_non_null(held);
  assert_int_equal(gfi_plan_spill_partitions(1000000, 64, &lo, 256), 8); /* 64e6 / 8 MiB */
  lo.strategy = GF_STRATEGY_AUTO;
  assert_int_equal(gfi_plan_spill_partitions(1000000, 64, &lo, 256), 4);
  lo.strategy = GF_STRATEGY_MEMORY_BOUND;
  void *more = gf_alloc(lo.allocator, ((size_t)32 << 20) - 64, 64); /* all but 64 bytes */
  assert_non_null(more);
  assert_int_equal(gfi_plan_spill_partitions(1000000, 64, &lo, 256), 256);
  gf_free(lo.allocator, more, ((size_t)32 << 20) - 64, 64);
  gf_free(lo.allocator, held, (size_t)32 << 20, 64);
  assert_int_equal(gfi_ctx_end(&ctx, GF_OK, &err), GF_OK);
}

static void assert_same_ipc(const gf_frame *a, const gf_frame *b) {
  void *pa = NULL, *pb = NULL;
  size_t la = 0, lb = 0;
  assert_int_equal(gf_write_ipc_memory(a, false, NULL, &pa, &la, NULL), GF_OK);
  assert_int_equal(gf_write_ipc_memory(b, false, NULL, &pb, &lb, NULL), GF_OK);
  assert_int_equal(la, lb);
  assert_memory_equal(pa, pb, la);
  gf_mem_free(pa);
  gf_mem_free(pb);
}

/* Naive stable order of rows by (k asc nulls last, i desc). */
static const data *g_sort_data;
static int cmp_rows(const void *pa, const void *pb) {
  int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  const data *d = g_sort_data;
  if (d->kok[a] != d->kok[b]) return d->kok[a] ? -1 : 1;
  if (d->kok[a] && d->k[a] != d->k[b]) return d->k[a] < d->k[b] ? -1 : 1;
  if (d->i[a] != d->i[b]) return d->i[a] > d->i[b] ? -1 : 1;
  return (a > b) - (a < b);
}

/* Every strategy, at 1/2/3/8 workers, with and without a memory limit,
 * gives the same bits: a group-by with float aggregates (IPC bytes against
 * the first run; counts and integer sums against the naive reference) and
 * a sort (against a naive stable sort). */
static void strategies_give_identical_results(void **state) {
  (void)state;
  data d;
  make_data(&d, 150000, 20000, 71);
  int64_t *perm = malloc(sizeof *perm * (size_t)d.n);
  for (int64_t r = 0; r < d.n; r++) perm[r] = r;
  g_sort_data = &d;
  qsort(perm, (size_t)d.n, sizeof *perm, cmp_rows);
  static const gf_agg_spec aggs[] = {{GF_AGG_COUNT_ALL, NULL, NULL, 0, 0, "n"},
                                     {GF_AGG_SUM, "i", NULL, 0, 0, "s"},
                                     {GF_AGG_MEAN, "i", NULL, 0, 0, "m"},
                                     {GF_AGG_STD, "i", NULL, 0, 0, "sd"},
                                     {GF_AGG_MEDIAN, "i", NULL, 0, 0, "med"}};
  static const gf_sort_key skeys[] = {{"k", false, false}, {"i", true, false}};
  static const gf_strategy strategies[] = {GF_STRATEGY_AUTO, GF_STRATEGY_FIXED_CHUNKS,
                                           GF_STRATEGY_CACHE_FRIENDLY, GF_STRATEGY_MEMORY_BOUND};
  static const int64_t limits[] = {0, (int64_t)64 << 20};
  gf_frame *base = NULL;
  for (size_t si = 0; si < 4; si++) {
    for (size_t w = 0; w < sizeof kWorkers / sizeof kWorkers[0]; w++) {
      for (size_t li = 0; li < 2; li++) {
        gf_parallel_options po;
        gf_parallel_options_init(&po);
        po.num_workers = kWorkers[w];
        po.min_parallel_rows = 0;
        po.strategy = strategies[si];
        po.memory_limit = limits[li];
        gf_groupby_options go;
        gf_groupby_options_init(&go);
        go.parallel = &po;
        gf_frame *out = NULL;
        gf_error err;
        const gf_frame *in = (si + w) % 2 ? d.garbage : d.clean;
        assert_int_equal(gf_group_by(in, kKeys, 1, aggs, 5, &go, &out, &err), GF_OK);
        int64_t g = 0;
        for (int b = 0; b < gf_frame_num_batches(out); b++) {
          gf_array *n = gf_frame_column(out, b, 1), *sm = gf_frame_column(out, b, 2);
          for (int64_t j = 0; j < gf_array_length(n); j++, g++) {
            assert_int_equal(gf_array_get_int64(n, j), d.r.count[g]);
            assert_int_equal(gf_array_get_int64(sm, j), d.r.sum[g]);
          }
        }
        assert_int_equal(g, d.r.ngroups);
        if (!base) base = gf_frame_retain(out);
        else assert_same_ipc(out, base);
        gf_frame_release(out);

        gf_frame *sorted = NULL;
        assert_int_equal(gf_sort(in, skeys, 2, 0, &po, &sorted, &err), GF_OK);
        int64_t r = 0;
        for (int b = 0; b < gf_frame_num_batches(sorted); b++) {
          gf_array *k = gf_frame_column(sorted, b, 0), *iv = gf_frame_column(sorted, b, 1);
          for (int64_t j = 0; j < gf_array_length(k); j++, r++) {
            int64_t want = perm[r];
            assert_int_equal(!gf_array_is_null(k, j), d.kok[want]);
            if (d.kok[want]) assert_int_equal(gf_array_get_int64(k, j), d.k[want]);
            assert_int_equal(gf_array_get_int64(iv, j), d.i[want]);
          }
        }
        assert_int_equal(r, d.n);
        gf_frame_release(sorted);
      }
    }
  }
  gf_frame_release(base);
  free(perm);
  free_data(&d);
  gf_pool_trim();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(size_classes_take_give_trim),
      cmocka_unit_test(idle_cap_is_held),
      cmocka_unit_test(reuse_across_calls_gives_identical_results),
      cmocka_unit_test(memory_limit_counts_arena_bytes),
      cmocka_unit_test(groupby_under_a_limit_fails_cleanly_with_a_warm_arena),
      cmocka_unit_test(custom_allocator_sees_every_byte),
      cmocka_unit_test(allocation_failure_sweep_over_arena_blocks),
      cmocka_unit_test(allocation_failure_sweep_with_a_caller_allocator),
      cmocka_unit_test(concurrent_calls_and_trims),
      cmocka_unit_test(joins_reuse_arenas_and_match_a_nested_loop),
      cmocka_unit_test(memory_bound_formulas),
      cmocka_unit_test(strategies_give_identical_results),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
