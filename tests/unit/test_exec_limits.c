/* Cancellation, deadlines, memory limits, concurrent calls from several
 * user threads and fork(). Timing is only checked against generous bounds
 * ("returns within 2 s"). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/exec_internal.h"
#include "gopherframe/testing.h"

/* ThreadSanitizer refuses to start threads in a child of a multi-threaded
 * process unless told otherwise; the fork test needs exactly that. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "die_after_fork=0"; }

static const int kWorkers[] = {1, 2, 3, 8, 16};

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

typedef struct sleepy {
  atomic_llong done;
  gf_cancel *cancel_at_chunk_token;
  int64_t cancel_at_chunk;
} sleepy;

/* About 0.5 ms per chunk: long enough that a call of thousands of chunks
 * is still running when it is cancelled. */
static gf_status sleepy_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  sleepy *s = user;
  if (c->chunk_id == s->cancel_at_chunk && s->cancel_at_chunk_token)
    raise(SIGUSR1);
  sleep_us(500);
  atomic_fetch_add(&s->done, 1);
  return GF_OK;
}

typedef struct canceller {
  gf_cancel *c;
  long delay_us;
} canceller;

static void *cancel_later(void *arg) {
  canceller *k = arg;
  sleep_us(k->delay_us);
  gf_cancel_request(k->c);
  return NULL;
}

static void test_cancel_from_another_thread_stops_promptly(void **state) {
  (void)state;
  gf_cancel *c = NULL;
  assert_int_equal(gf_cancel_new(&c, NULL), GF_OK);
  for (size_t wi = 0; wi < 5; wi++) {
    gf_cancel_reset(c);
    assert_false(gf_cancel_requested(c));
    sleepy s = {0, NULL, -1};
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    o.num_workers = kWorkers[wi];
    o.chunk_rows = 1;
    o.min_parallel_rows = 0;
    o.cancel = c;
    canceller k = {c, 20000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &k), 0);
    gf_error err;
    int64_t t0 = gfi_now_ns();
    gf_status st = gf_parallel_for(100000, 8, false, sleepy_kernel, &s, &o, &err);
    int64_t elapsed = gfi_now_ns() - t0;
    pthread_join(t, NULL);
    assert_int_equal(st, GF_ECANCELED);
    assert_non_null(strstr(err.message, "cancel"));
    assert_true(atomic_load(&s.done) < 100000);
    assert_true(elapsed < 2000000000LL);
    assert_true(gf_cancel_requested(c));
  }
  gf_cancel_free(c);
}

static gf_cancel *signal_token;
static void on_sigusr1(int sig) {
  (void)sig;
  gf_cancel_request(signal_token);
}

static void test_cancel_requested_from_a_signal_handler(void **state) {
  (void)state;
  assert_int_equal(gf_cancel_new(&signal_token, NULL), GF_OK);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigusr1;
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
  sleepy s = {0, signal_token, 5};
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = 1;
  o.chunk_rows = 1;
  o.min_parallel_rows = 0;
  o.cancel = signal_token;
  assert_int_equal(gf_parallel_for(10000, 8, false, sleepy_kernel, &s, &o, NULL), GF_ECANCELED);
  /* chunks 0..5 ran (the signal arrives inside chunk 5), nothing after */
  assert_int_equal(atomic_load(&s.done), 6);
  sigaction(SIGUSR1, &old, NULL);
  gf_cancel_free(signal_token);
  signal_token = NULL;
}

static void test_already_cancelled_token_runs_nothing(void **state) {
  (void)state;
  gf_cancel *c = NULL;
  assert_int_equal(gf_cancel_new(&c, NULL), GF_OK);
  gf_cancel_request(c);
  sleepy s = {0, NULL, -1};
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.cancel = c;
  o.min_parallel_rows = 0;
  o.num_workers = 4;
  assert_int_equal(gf_parallel_for(100, 8, false, sleepy_kernel, &s, &o, NULL), GF_ECANCELED);
  assert_int_equal(atomic_load(&s.done), 0);
  gf_cancel_free(c);
  gf_cancel_request(NULL);
  assert_false(gf_cancel_requested(NULL));
}

static void test_deadline_stops_the_call_with_timedout(void **state) {
  (void)state;
  for (size_t wi = 0; wi < 5; wi++) {
    sleepy s = {0, NULL, -1};
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    o.num_workers = kWorkers[wi];
    o.chunk_rows = 1;
    o.min_parallel_rows = 0;
    o.timeout_ms = 30;
    gf_error err;
    int64_t t0 = gfi_now_ns();
    gf_status st = gf_parallel_for(100000, 8, false, sleepy_kernel, &s, &o, &err);
    int64_t elapsed = gfi_now_ns() - t0;
    assert_int_equal(st, GF_ETIMEDOUT);
    assert_non_null(strstr(err.message, "timed out"));
    assert_true(elapsed >= 30000000LL);
    assert_true(elapsed < 2000000000LL);
    assert_true(atomic_load(&s.done) < 100000);
  }
}

/* Keeps one block per chunk until the test frees it, as an operator keeps
 * its outputs; the block comes from the call's (limited) allocator. */
typedef struct hoarder {
  void **blocks;
  const gf_allocator *alloc;
  size_t block_size;
  atomic_int alloc_published;
} hoarder;

static gf_status hoard_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  hoarder *h = user;
  void *p = gf_alloc(ctx->allocator, h->block_size, 64);
  if (!p) return GF_ENOMEM;
  memset(p, 1, h->block_size);
  h->blocks[c->chunk_id] = p;
  if (atomic_exchange(&h->alloc_published, 1) == 0) h->alloc = ctx->allocator;
  return GF_OK;
}

static void release_hoard(hoarder *h, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (h->blocks[i]) gf_free(h->alloc, h->blocks[i], h->block_size, 64);
}

/* Options loaded once carry one absolute deadline: an operation made of
 * several runtime calls fails at its deadline, not one timeout per call. */
static void test_one_deadline_spans_every_call_of_an_operation(void **state) {
  (void)state;
  gf_parallel_options user, o;
  gf_parallel_options_init(&user);
  user.num_workers = 2;
  user.chunk_rows = 1;
  user.min_parallel_rows = 0;
  user.timeout_ms = 60;
  gfi_ctx call;
  int64_t before = gfi_now_ns();
  assert_int_equal(gfi_ctx_load(&call, &user, &o, NULL), GF_OK);
  assert_ptr_equal(gfi_ctx_of(&o), &call);
  assert_true(call.deadline_ns >= before + 60000000LL);
  assert_true(call.deadline_ns <= gfi_now_ns() + 60000000LL);
  assert_int_equal(o.flags, 0); /* nothing rides in the public flag word */
  gfi_ctx inner;
  gf_parallel_options again;
  assert_int_equal(gfi_ctx_load(&inner, &o, &again, NULL), GF_OK);
  assert_int_equal(inner.deadline_ns, call.deadline_ns); /* loading again keeps it */
  assert_ptr_equal(gfi_ctx_of(&again), &inner);
  int64_t t0 = gfi_now_ns();
  gf_status st = GF_OK;
  int calls = 0;
  gf_error err;
  /* ~20 ms per call (40 chunks of 0.5 ms on 1-2 workers): the fourth call
   * at the latest starts past the 60 ms deadline. */
  while (st == GF_OK && calls < 50) {
    sleepy s = {0, NULL, -1};
    st = gf_parallel_for(40, 8, false, sleepy_kernel, &s, &o, &err);
    calls++;
  }
  int64_t elapsed = gfi_now_ns() - t0;
  assert_int_equal(st, GF_ETIMEDOUT);
  assert_true(calls < 50);
  assert_true(elapsed >= 60000000LL);
  /* gfi_check_stop between phases sees the same deadline. */
  assert_int_equal(gfi_check_stop(&o, t0, NULL, &err), GF_ETIMEDOUT);
}

static void test_memory_limit_exceeded_fails_with_enomem_without_leaks(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  for (size_t wi = 0; wi < 5; wi++) {
    const int64_t chunks = 64;
    hoarder h = {calloc(chunks, sizeof(void *)), NULL, 1 << 20, 0};
    gf_exec_stats st;
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    o.num_workers = kWorkers[wi];
    o.chunk_rows = 1;
    o.min_parallel_rows = 0;
    o.allocator = gf_failing_allocator_get(fa);
    o.memory_limit = 10 << 20;
    o.stats = &st;
    gf_error err;
    gf_status s = gf_parallel_for(chunks, 8, false, hoard_kernel, &h, &o, &err);
    assert_int_equal(s, GF_ENOMEM);
    assert_non_null(strstr(err.message, "memory limit of 10485760 bytes exceeded"));
    assert_true(st.peak_memory <= o.memory_limit);
    assert_true(st.peak_memory >= 9 << 20);
    /* blocks handed out by the call outlive it and are freed afterwards */
    release_hoard(&h, chunks);
    assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
    assert_int_equal(gf_failing_allocator_live_bytes(fa), 0);
    free(h.blocks);
  }
  gf_failing_allocator_free(fa);
}

static void test_memory_limit_not_reached_succeeds_and_reports_peak(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  hoarder h = {calloc(8, sizeof(void *)), NULL, 1 << 20, 0};
  gf_exec_stats st;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = 2;
  o.chunk_rows = 1;
  o.min_parallel_rows = 0;
  o.allocator = gf_failing_allocator_get(fa);
  o.memory_limit = 64 << 20;
  o.stats = &st;
  assert_int_equal(gf_parallel_for(8, 8, false, hoard_kernel, &h, &o, NULL), GF_OK);
  /* The whole call's peak: the kernels' 8 MiB and the runtime's own
   * bookkeeping (a few KiB), since the limit holds for both. */
  assert_true(st.peak_memory >= 8 << 20);
  assert_true(st.peak_memory <= (8 << 20) + (256 << 10));
  for (int i = 0; i < 8; i++) assert_non_null(h.blocks[i]);
  release_hoard(&h, 8);
  assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  free(h.blocks);
  gf_failing_allocator_free(fa);
}

static gf_status noop_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  atomic_fetch_add((atomic_llong *)user, c->end_row - c->start_row);
  return GF_OK;
}

/* Every allocation the runtime itself makes (call state, dispatch order,
 * the tracked allocator) fails cleanly, one after the other. */
static void test_each_runtime_allocation_failure_is_clean(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gf_chunk_spec chunks[] = {{0, 5, 0}, {5, 100, 1}, {100, 101, 2}, {101, 300, 3}};
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = 3;
  o.min_parallel_rows = 0;
  o.allocator = gf_failing_allocator_get(fa);
  o.memory_limit = 1 << 20;
  gf_status st = GF_ENOMEM;
  int64_t n;
  for (n = 1; n < 50 && st != GF_OK; n++) {
    gf_failing_allocator_arm(fa, n, false);
    atomic_llong rows = 0;
    gf_error err;
    st = gf_run_chunks(chunks, 4, noop_kernel, &rows, &o, &err);
    if (st != GF_OK) {
      assert_int_equal(st, GF_ENOMEM);
      assert_int_equal(err.code, GF_ENOMEM);
      assert_int_equal(atomic_load(&rows), 0);
    } else {
      assert_int_equal(atomic_load(&rows), 300);
    }
    assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  }
  assert_int_equal(st, GF_OK);
  assert_true(n > 2);
  gf_failing_allocator_free(fa);
}

typedef struct sum_job {
  const double *v;
  double *partials;
} sum_job;

static gf_status sum_block(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  sum_job *j = user;
  double acc = 0.0;
  for (int64_t i = c->start_row; i < c->end_row; i++) acc += j->v[i];
  j->partials[c->chunk_id] = acc;
  return GF_OK;
}

#define SUM_ROWS (6 * GF_REDUCTION_BLOCK_ROWS + 17)

static double parallel_sum(const double *v, int workers, gf_status *st) {
  int64_t blocks = gf_reduction_blocks(SUM_ROWS);
  double partials[16];
  sum_job j = {v, partials};
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  *st = gf_parallel_for(SUM_ROWS, 8, true, sum_block, &j, &o, NULL);
  double total = 0.0;
  for (int64_t b = 0; b < blocks; b++) total += partials[b];
  return total;
}

static double *make_doubles(void) {
  double *v = malloc(SUM_ROWS * sizeof *v);
  assert_non_null(v);
  for (int64_t i = 0; i < SUM_ROWS; i++) v[i] = 1.0 / (double)(i + 1) + (double)(i % 7) * 1e6;
  return v;
}

typedef struct user_thread {
  const double *v;
  double expect;
  int mismatches;
  int failures;
  int index;
} user_thread;

static void *user_thread_main(void *arg) {
  user_thread *u = arg;
  for (int r = 0; r < 15; r++) {
    gf_status st;
    double got = parallel_sum(u->v, kWorkers[(r + u->index) % 5], &st);
    if (st != GF_OK) u->failures++;
    if (memcmp(&got, &u->expect, sizeof got) != 0) u->mismatches++;
  }
  return NULL;
}

static void test_concurrent_calls_from_four_user_threads(void **state) {
  (void)state;
  double *v = make_doubles();
  gf_status st;
  double expect = parallel_sum(v, 1, &st);
  assert_int_equal(st, GF_OK);
  user_thread u[4];
  pthread_t t[4];
  for (int i = 0; i < 4; i++) {
    u[i] = (user_thread){v, expect, 0, 0, i};
    assert_int_equal(pthread_create(&t[i], NULL, user_thread_main, &u[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(u[i].failures, 0);
    assert_int_equal(u[i].mismatches, 0);
  }
  free(v);
}

static void test_forked_child_gets_a_working_pool(void **state) {
  (void)state;
  double *v = make_doubles();
  gf_status st;
  double expect = parallel_sum(v, 1, &st);
  /* make sure the parent's pool has threads before forking */
  (void)parallel_sum(v, 4, &st);
  assert_int_equal(st, GF_OK);
  assert_true(gfi_pool_threads() >= 1);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int bad = gfi_pool_threads() != 0;
    for (int r = 0; r < 3 && !bad; r++) {
      double got = parallel_sum(v, 4, &st);
      if (st != GF_OK || memcmp(&got, &expect, sizeof got) != 0) bad = 1;
    }
    if (gfi_pool_threads() < 1) bad = 1;
    _exit(bad ? 1 : 0);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  /* the parent's pool still works */
  double got = parallel_sum(v, 8, &st);
  assert_int_equal(st, GF_OK);
  assert_memory_equal(&got, &expect, sizeof got);
  free(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cancel_from_another_thread_stops_promptly),
      cmocka_unit_test(test_cancel_requested_from_a_signal_handler),
      cmocka_unit_test(test_already_cancelled_token_runs_nothing),
      cmocka_unit_test(test_deadline_stops_the_call_with_timedout),
      cmocka_unit_test(test_one_deadline_spans_every_call_of_an_operation),
      cmocka_unit_test(test_memory_limit_exceeded_fails_with_enomem_without_leaks),
      cmocka_unit_test(test_memory_limit_not_reached_succeeds_and_reports_peak),
      cmocka_unit_test(test_each_runtime_allocation_failure_is_clean),
      cmocka_unit_test(test_concurrent_calls_from_four_user_threads),
      cmocka_unit_test(test_forked_child_gets_a_working_pool),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
