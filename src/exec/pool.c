/*
 * The process-wide worker pool. Threads are created lazily, when a call
 * wants more helpers than are idle, up to GFI_POOL_MAX_THREADS, and live
 * until the process exits. Jobs wait in a FIFO queue; a pool thread joins
 * the oldest job that still wants helpers. The caller of a job always works
 * on it too and, once its own loop ends, withdraws the job from the queue
 * and waits only for helpers that actually joined: no call ever waits for a
 * thread that is busy elsewhere, so a fixed pool cannot deadlock, and a call
 * whose helpers never come (or could not be created) still completes.
 *
 * fork(): pthread_atfork holds the pool lock across fork and, in the child
 * (where no pool thread exists), resets the pool to empty so the next call
 * creates fresh threads.
 *
 * Scratch arenas (arena.c) live with the pool: pool thread k caches into
 * arena k; gf_pool_trim releases their idle blocks, and they are freed
 * when the library is unloaded or the process exits.
 *
 * NUMA: first-touch placement of per-worker outputs would go here when
 * hwloc or libnuma is available at build time; neither is a dependency, so
 * it is a no-op (workers allocate their outputs themselves, which already
 * gives the kernel's default first-touch placement).
 */
#include <sched.h>
#include <signal.h>
#include <string.h>

#include "exec/arena.h"
#include "exec/exec_internal.h"

static struct {
  pthread_mutex_t mu;
  pthread_cond_t wake;  /* a job was queued */
  gfi_job *head, *tail; /* jobs that still want helpers */
  int nthreads;         /* pool threads alive */
  int idle;             /* pool threads waiting on `wake` */
} P = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static atomic_bool fail_create;
static _Thread_local int tl_depth;        /* > 0: inside a parallel region */
static _Thread_local int tl_pinned = -1;  /* CPU this pool thread is pinned to */

bool gfi_in_parallel_region(void) { return tl_depth > 0; }
void gfi_parallel_region_enter(void) { tl_depth++; }
void gfi_parallel_region_leave(void) { tl_depth--; }

void gfi_pool_test_fail_thread_create(bool fail) { atomic_store(&fail_create, fail); }

int gfi_pool_threads(void) {
  pthread_mutex_lock(&P.mu);
  int n = P.nthreads;
  pthread_mutex_unlock(&P.mu);
  return n;
}

static void atfork_prepare(void) { pthread_mutex_lock(&P.mu); }
static void atfork_parent(void) { pthread_mutex_unlock(&P.mu); }

/* In the child only the forking thread exists: forget the parent's threads
 * and queued jobs (they belong to threads that are gone) and start over. */
static void atfork_child(void) {
  pthread_mutex_init(&P.mu, NULL);
  pthread_cond_init(&P.wake, NULL);
  P.head = P.tail = NULL;
  P.nthreads = 0;
  P.idle = 0;
  tl_pinned = -1;
}

static void pool_init(void) { pthread_atfork(atfork_prepare, atfork_parent, atfork_child); }

/* Removes `j` from the queue (pool lock held). */
static void dequeue(gfi_job *j) {
  gfi_job **pp = &P.head, *prev = NULL;
  while (*pp && *pp != j) {
    prev = *pp;
    pp = &(*pp)->next;
  }
  if (*pp) {
    *pp = j->next;
    if (P.tail == j) P.tail = prev;
  }
  j->next = NULL;
  j->queued = false;
}

/* Pins a pool thread to one CPU of the process mask when the job asks for
 * it, and undoes the pin for jobs that do not. Failures are ignored: pinning
 * is a hint. */
static void apply_pinning(bool pin, int slot) {
  int cpus[GF_MAX_STATS_WORKERS];
  int n = gfi_affinity_cpus(cpus, GF_MAX_STATS_WORKERS);
  if (n > GF_MAX_STATS_WORKERS) n = GF_MAX_STATS_WORKERS;
  if (pin) {
    int cpu = cpus[slot % n];
    if (tl_pinned == cpu) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0) tl_pinned = cpu;
  } else if (tl_pinned >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < n; i++) CPU_SET(cpus[i], &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    tl_pinned = -1;
  }
}

/* Body of a pool thread: join queued jobs forever. */
static void *pool_thread(void *arg) {
  /* Each pool thread caches its scratch in an arena of its own (arena.c):
   * its number, fixed at creation; the calling threads share arena 0. */
  gfi_arena_bind((int)(intptr_t)arg);
  tl_depth = 1; /* nested calls from kernels on pool threads run inline */
  pthread_mutex_lock(&P.mu);
  for (;;) {
    gfi_job *j = P.head;
    if (!j) {
      P.idle++;
      pthread_cond_wait(&P.wake, &P.mu);
      P.idle--;
      continue;
    }
    int slot = ++j->joined;
    if (j->joined >= j->wanted) dequeue(j);
    j->active++;
    pthread_mutex_unlock(&P.mu);
    apply_pinning(j->pin, slot);
    j->run(j, slot);
    pthread_mutex_lock(&P.mu);
    if (--j->active == 0) pthread_cond_signal(&j->done);
  }
  return NULL;
}

/* Starts one detached pool thread with all signals but faults blocked (so
 * SIGINT and friends reach the application's threads). Pool lock held. */
static bool spawn_thread(void) {
  if (atomic_load(&fail_create)) return false;
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return false;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  sigset_t all, old;
  sigfillset(&all);
  /* Faults stay deliverable: POSIX leaves a blocked SIGBUS/SIGSEGV/SIGFPE/
   * SIGILL from a fault undefined (Linux kills the process), which would
   * bypass the host's handler, e.g. gf's for a truncated mapped input. */
  static const int faults[] = {SIGBUS, SIGSEGV, SIGFPE, SIGILL};
  for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) sigdelset(&all, faults[i]);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t t;
  int rc = pthread_create(&t, &attr, pool_thread, (void *)(intptr_t)(P.nthreads + 1));
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (rc != 0) return false;
  P.nthreads++;
  return true;
}

int gfi_pool_execute(gfi_job *job) {
  job->joined = 0;
  job->active = 0;
  job->queued = false;
  job->next = NULL;
  if (job->wanted <= 0) {
    gfi_parallel_region_enter();
    job->run(job, 0);
    gfi_parallel_region_leave();
    return 1;
  }
  pthread_once(&pool_once, pool_init);
  pthread_cond_init(&job->done, NULL);
  pthread_mutex_lock(&P.mu);
  /* Grow the pool when fewer threads are idle than this job wants; a
   * failure just means fewer helpers. */
  int missing = job->wanted - P.idle;
  while (missing > 0 && P.nthreads < GFI_POOL_MAX_THREADS && spawn_thread()) missing--;
  bool helped = P.nthreads > 0;
  if (helped) {
    if (P.tail) P.tail->next = job;
    else P.head = job;
    P.tail = job;
    job->queued = true;
    if (job->wanted > 1) pthread_cond_broadcast(&P.wake);
    else pthread_cond_signal(&P.wake);
  }
  pthread_mutex_unlock(&P.mu);

  gfi_parallel_region_enter();
  job->run(job, 0);
  gfi_parallel_region_leave();

  int used = 1;
  if (helped) {
    pthread_mutex_lock(&P.mu);
    if (job->queued) dequeue(job);
    while (job->active > 0) pthread_cond_wait(&job->done, &P.mu);
    used += job->joined;
    pthread_mutex_unlock(&P.mu);
  }
  pthread_cond_destroy(&job->done);
  return used;
}

/* A joinable thread outside the pool (a streaming source's producer) with
 * the pool threads' signal mask; honours the thread-creation test hook. */
bool gfi_thread_start(pthread_t *t, void *(*fn)(void *), void *arg) {
  if (atomic_load(&fail_create)) return false;
  sigset_t all, old;
  sigfillset(&all);
  static const int faults[] = {SIGBUS, SIGSEGV, SIGFPE, SIGILL};
  for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) sigdelset(&all, faults[i]);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(t, NULL, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc == 0;
}
