/* The wave runner and the "lowest chunk's error wins" helper of
 * src/exec/waves.c, against naive sequential loops, at several worker
 * counts and wave sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec/exec_internal.h"

static const int kWorkers[] = {1, 2, 3, 8};
static const int64_t kWaves[] = {1, 3, 7, 1000};

#define NCHUNKS 101

/* Chunk i covers rows [i*i, (i+1)*(i+1)): uneven sizes, so the runtime
 * dispatches the largest first and completion order is scrambled. */
static void make_chunks(gf_chunk_spec *c, int64_t n) {
  for (int64_t i = 0; i < n; i++) c[i] = (gf_chunk_spec){i * i, (i + 1) * (i + 1), i};
}

/* A value only the chunk's rows determine. */
static uint64_t chunk_value(const gf_chunk_spec *c) {
  uint64_t h = 1469598103934665603ull;
  for (int64_t r = c->start_row; r < c->end_row; r++) h = (h ^ (uint64_t)r) * 1099511628211ull;
  return h;
}

typedef struct job {
  const gfi_waves *w;
  uint64_t slots[NCHUNKS]; /* per-wave slots: chunk i in slots[i - first] */
  uint64_t out[NCHUNKS];   /* emitted, in emission order */
  int64_t nout;
  int64_t waves_seen, next_first;
  int64_t fail_kernel_at; /* chunk whose kernel returns GF_EIO, -1 = none */
  int64_t fail_done_at;   /* wave (0-based) whose done returns GF_ERANGE */
  int64_t stop_after;     /* stop once this many chunks were emitted, 0 = never */
  atomic_llong first_bad; /* for the lowest-error tests */
  const bool *bad;        /* chunks that "fail" by noting, NULL = none */
  atomic_llong ran_after_bad;
} job;

static gf_status value_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  job *j = user;
  if (c->chunk_id == j->fail_kernel_at) {
    gf_error_set(ctx->err, GF_EIO, "chunk %lld failed", (long long)c->chunk_id);
    return GF_EIO;
  }
  j->slots[c->chunk_id - j->w->first] = chunk_value(c);
  return GF_OK;
}

static gf_status emit_done(void *user, int64_t first, int64_t n, bool *stop, gf_error *err) {
  job *j = user;
  /* Waves arrive in order, each right after the last. */
  assert_int_equal(first, j->next_first);
  j->next_first = first + n;
  if (j->waves_seen++ == j->fail_done_at) return gf_error_set(err, GF_ERANGE, "done failed");
  for (int64_t i = 0; i < n; i++) j->out[j->nout++] = j->slots[i];
  *stop = j->stop_after > 0 && j->nout >= j->stop_after;
  return GF_OK;
}

static void job_init(job *j, const gfi_waves *w) {
  memset(j, 0, sizeof *j);
  j->w = w;
  j->fail_kernel_at = -1;
  j->fail_done_at = -1;
  gfi_first_error_init(&j->first_bad);
  atomic_init(&j->ran_after_bad, 0);
}

static gf_parallel_options opts_for(int workers) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  o.min_parallel_rows = 0;
  return o;
}

/* Wave sizes the runner must use: `wave`, doubling when `grow`. */
static int64_t ref_wave_end(int64_t first, int64_t wave, bool grow, int64_t k, int64_t count) {
  int64_t size = wave;
  for (int64_t i = 0; i < k; i++) size = grow ? size * 2 : size;
  return first + size < count ? first + size : count;
}

static void test_waves_emit_in_chunk_order(void **state) {
  (void)state;
  gf_chunk_spec chunks[NCHUNKS];
  make_chunks(chunks, NCHUNKS);
  uint64_t ref[NCHUNKS];
  for (int64_t i = 0; i < NCHUNKS; i++) ref[i] = chunk_value(&chunks[i]);
  for (size_t wi = 0; wi < sizeof kWorkers / sizeof kWorkers[0]; wi++)
    for (size_t vi = 0; vi < sizeof kWaves / sizeof kWaves[0]; vi++)
      for (int grow = 0; grow < 2; grow++) {
        if (grow && kWaves[vi] > NCHUNKS) continue;
        gfi_waves w = {value_kernel, NULL, emit_done, NULL, kWaves[vi], grow != 0, 0, 0};
        job j;
        job_init(&j, &w);
        w.user = w.done_user = &j;
        gf_parallel_options o = opts_for(kWorkers[wi]);
        assert_int_equal(gfi_run_waves(&w, chunks, NCHUNKS, &o, NULL), GF_OK);
        assert_int_equal(w.ran, NCHUNKS);
        assert_int_equal(j.nout, NCHUNKS);
        assert_memory_equal(j.out, ref, sizeof ref);
        /* Number of waves as the naive schedule has it. */
        int64_t waves = 0;
        for (int64_t at = 0; at < NCHUNKS; waves++)
          at = ref_wave_end(at, kWaves[vi], grow != 0, waves, NCHUNKS);
        assert_int_equal(j.waves_seen, waves);
      }
}

/* done's stop ends the run after the wave that reached the target. */
static void test_waves_stop_early(void **state) {
  (void)state;
  gf_chunk_spec chunks[NCHUNKS];
  make_chunks(chunks, NCHUNKS);
  for (size_t wi = 0; wi < sizeof kWorkers / sizeof kWorkers[0]; wi++)
    for (int grow = 0; grow < 2; grow++) {
      gfi_waves w = {value_kernel, NULL, emit_done, NULL, 3, grow != 0, 0, 0};
      job j;
      job_init(&j, &w);
      j.stop_after = 10;
      w.user = w.done_user = &j;
      gf_parallel_options o = opts_for(kWorkers[wi]);
      assert_int_equal(gfi_run_waves(&w, chunks, NCHUNKS, &o, NULL), GF_OK);
      /* Naive: waves of 3 (3, 6, 9, 12) or 3, 6, 12 chunks grown. */
      int64_t want = 0;
      for (int64_t k = 0; want < 10; k++) want = ref_wave_end(want, 3, grow != 0, k, NCHUNKS);
      assert_int_equal(w.ran, want);
      assert_int_equal(j.nout, want);
    }
}

/* A kernel error ends the run with that error; its wave is not emitted and
 * no later wave runs. A done error ends it too. */
static void test_waves_errors(void **state) {
  (void)state;
  gf_chunk_spec chunks[NCHUNKS];
  make_chunks(chunks, NCHUNKS);
  for (size_t wi = 0; wi < sizeof kWorkers / sizeof kWorkers[0]; wi++) {
    gfi_waves w = {value_kernel, NULL, emit_done, NULL, 7, false, 0, 0};
    job j;
    job_init(&j, &w);
    j.fail_kernel_at = 30; /* in the wave [28, 35) */
    w.user = w.done_user = &j;
    gf_parallel_options o = opts_for(kWorkers[wi]);
    gf_error err;
    assert_int_equal(gfi_run_waves(&w, chunks, NCHUNKS, &o, &err), GF_EIO);
    assert_string_equal(err.message, "chunk 30 failed");
    assert_int_equal(w.ran, 28);
    assert_int_equal(j.nout, 28);

    job_init(&j, &w);
    j.fail_done_at = 2;
    w.user = w.done_user = &j;
    assert_int_equal(gfi_run_waves(&w, chunks, NCHUNKS, &o, &err), GF_ERANGE);
    assert_int_equal(w.ran, 21);
    assert_int_equal(j.nout, 14);
  }
  /* No chunks: nothing runs, done is not called. */
  gfi_waves w = {value_kernel, NULL, emit_done, NULL, 4, true, 0, 0};
  job j;
  job_init(&j, &w);
  w.user = w.done_user = &j;
  assert_int_equal(gfi_run_waves(&w, chunks, 0, NULL, NULL), GF_OK);
  assert_int_equal(j.waves_seen, 0);
  assert_int_equal(gfi_run_waves(NULL, chunks, 1, NULL, NULL), GF_EINVAL);
}

/* Kernels that "fail" note their chunk and carry on, as the CSV reader's
 * parse does; chunks after a noted failure skip their work. */
static gf_status noting_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  (void)ctx;
  job *j = user;
  if (gfi_first_error_before(&j->first_bad, c->chunk_id)) return GF_OK;
  if (j->bad[c->chunk_id]) gfi_first_error_note(&j->first_bad, c->chunk_id);
  return GF_OK;
}

static void test_lowest_failed_chunk_wins_at_any_worker_count(void **state) {
  (void)state;
  gf_chunk_spec chunks[NCHUNKS];
  make_chunks(chunks, NCHUNKS);
  static const int64_t bad_sets[][4] = {{90, 12, 50, 13}, {0, 100, -1, -1}, {100, -1, -1, -1},
                                        {-1, -1, -1, -1}};
  for (size_t si = 0; si < sizeof bad_sets / sizeof bad_sets[0]; si++) {
    bool bad[NCHUNKS] = {false};
    int64_t want = -1; /* naive: the smallest bad index */
    for (int k = 0; k < 4; k++) {
      int64_t b = bad_sets[si][k];
      if (b < 0) continue;
      bad[b] = true;
      if (want < 0 || b < want) want = b;
    }
    for (size_t wi = 0; wi < sizeof kWorkers / sizeof kWorkers[0]; wi++)
      for (int rep = 0; rep < 5; rep++) {
        job j;
        job_init(&j, NULL);
        j.bad = bad;
        gf_parallel_options o = opts_for(kWorkers[wi]);
        assert_int_equal(gf_run_chunks(chunks, NCHUNKS, noting_kernel, &j, &o, NULL), GF_OK);
        assert_int_equal(gfi_first_error_chunk(&j.first_bad), want);
      }
  }
  /* Noting is a lock-free minimum: any order of notes leaves the lowest. */
  atomic_llong slot;
  gfi_first_error_init(&slot);
  assert_int_equal(gfi_first_error_chunk(&slot), -1);
  assert_false(gfi_first_error_before(&slot, INT64_MAX - 1));
  gfi_first_error_note(&slot, 7);
  gfi_first_error_note(&slot, 9);
  assert_int_equal(gfi_first_error_chunk(&slot), 7);
  gfi_first_error_note(&slot, 3);
  assert_int_equal(gfi_first_error_chunk(&slot), 3);
  assert_true(gfi_first_error_before(&slot, 4));
  assert_false(gfi_first_error_before(&slot, 3));
}

static gf_status sleepy_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  (void)user;
  (void)c;
  (void)ctx;
  struct timespec ts = {0, 2000000}; /* 2 ms */
  nanosleep(&ts, NULL);
  return GF_OK;
}

/* Waves run with loaded options share the call's one deadline: 100 waves
 * of one 2 ms chunk under a 20 ms timeout stop with GF_ETIMEDOUT, though no
 * single wave comes near it. */
static void test_waves_share_the_call_deadline(void **state) {
  (void)state;
  gf_chunk_spec chunks[100];
  for (int64_t i = 0; i < 100; i++) chunks[i] = (gf_chunk_spec){i, i + 1, i};
  gf_parallel_options user = opts_for(1);
  user.timeout_ms = 20;
  gfi_ctx call;
  gf_parallel_options o;
  assert_int_equal(gfi_ctx_load(&call, &user, &o, NULL), GF_OK);
  gfi_waves w = {sleepy_kernel, NULL, NULL, NULL, 1, false, 0, 0};
  int64_t t0 = gfi_now_ns();
  gf_error err;
  assert_int_equal(gfi_run_waves(&w, chunks, 100, &o, &err), GF_ETIMEDOUT);
  assert_true(gfi_now_ns() - t0 >= 20000000LL);
  assert_true(w.ran < 100);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_waves_emit_in_chunk_order),
      cmocka_unit_test(test_waves_stop_early),
      cmocka_unit_test(test_waves_errors),
      cmocka_unit_test(test_lowest_failed_chunk_wins_at_any_worker_count),
      cmocka_unit_test(test_waves_share_the_call_deadline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
