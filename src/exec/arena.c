/*
 * Per-worker scratch arenas: caches of freed large scratch blocks that live
 * with the worker pool, so that an operator's per-call scratch (hundreds of
 * megabytes for a group-by with ten million groups) is faulted in once and
 * reused by later morsels and calls instead of being returned to the kernel
 * and zero-filled again. See arena.h for the rules and docs/ARENAS.md.
 *
 * Layout: GFI_ARENAS arenas, each a small LRU list of (block, capacity)
 * under its own mutex. A pool thread caches into and takes from its own
 * arena (bound when the thread starts); other threads use arena 0. A take
 * that misses the own arena looks through the others (a block freed by a
 * helper is still warm memory). Capacities are size classes, so a block
 * needs no header: the class of the requested size is its capacity.
 *
 * Idle bytes over all arenas are counted in one atomic and capped; a give
 * that would cross the cap evicts the arena's oldest blocks, and releases
 * the block itself when that is not enough.
 *
 * fork(): the arena locks are held across fork (pthread_atfork), so the
 * child sees consistent lists and may keep using the cached blocks.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/arena.h"
#include "exec/exec_internal.h"

#define GFI_ARENAS 64
#define ARENA_SLOTS 32
#define ARENA_ALIGN 64
#define DEFAULT_CAP_MAX ((int64_t)1 << 30)

typedef struct arena_block {
  void *p;
  size_t cap;
} arena_block;

typedef struct arena {
  pthread_mutex_t mu;
  int n;                        /* cached blocks, oldest first */
  arena_block b[ARENA_SLOTS];
} arena;

static arena A[GFI_ARENAS];
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;
static atomic_llong idle_bytes;
static atomic_llong cap_bytes = -1; /* -1: not computed yet */
static atomic_llong test_cap = -1;
static atomic_llong n_reused, n_fresh;
static _Thread_local int tl_arena;

static void lock_all(void) {
  for (int i = 0; i < GFI_ARENAS; i++) pthread_mutex_lock(&A[i].mu);
}
static void unlock_all(void) {
  for (int i = GFI_ARENAS - 1; i >= 0; i--) pthread_mutex_unlock(&A[i].mu);
}

static void arena_init(void) {
  for (int i = 0; i < GFI_ARENAS; i++) pthread_mutex_init(&A[i].mu, NULL);
  pthread_atfork(lock_all, unlock_all, unlock_all);
}

static void ensure_init(void) { pthread_once(&arena_once, arena_init); }

/* The idle cap: GF_ARENA_MAX_BYTES when set (0 disables the arenas), else
 * min(1 GiB, physical memory / 8). Computed once. */
static int64_t idle_cap(void) {
  long long t = atomic_load_explicit(&test_cap, memory_order_relaxed);
  if (t >= 0) return t;
  long long c = atomic_load_explicit(&cap_bytes, memory_order_relaxed);
  if (c >= 0) return c;
  int64_t cap = DEFAULT_CAP_MAX;
  long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
  if (pages > 0 && psize > 0 && (int64_t)pages / 8 < cap / psize)
    cap = (int64_t)pages / 8 * psize;
  const char *env = getenv("GF_ARENA_MAX_BYTES");
  if (env && *env) {
    char *end = NULL;
    long long v = strtoll(env, &end, 10);
    if (end && *end == '\0' && v >= 0) cap = v;
  }
  atomic_store(&cap_bytes, cap);
  return cap;
}

void gfi_arena_test_set_cap(int64_t cap) { atomic_store(&test_cap, cap < 0 ? -1 : cap); }

void gfi_arena_counts(int64_t *reused, int64_t *fresh) {
  if (reused) *reused = atomic_load(&n_reused);
  if (fresh) *fresh = atomic_load(&n_fresh);
}

void gfi_arena_bind(int slot) { tl_arena = slot < 0 ? 0 : slot % GFI_ARENAS; }

/* Classes: 8 steps per power of two, so a block is at most 12.5% larger
 * than the request. Requests below the arena minimum are their own size. */
size_t gfi_arena_class(size_t size) {
  if (size < GFI_ARENA_MIN_BYTES) return size;
  int lg = 63 - __builtin_clzll((unsigned long long)size);
  size_t step = (size_t)1 << (lg - 3);
  if (size > SIZE_MAX - step) return size;
  return (size + step - 1) & ~(step - 1);
}

/* Removes block i of arena `ar` (lock held), keeping the order. */
static void remove_at(arena *ar, int i) {
  memmove(&ar->b[i], &ar->b[i + 1], sizeof ar->b[0] * (size_t)(ar->n - i - 1));
  ar->n--;
}

/* Most recent block of capacity `cap` in `ar`, or NULL. */
static void *take_from(arena *ar, size_t cap) {
  void *p = NULL;
  pthread_mutex_lock(&ar->mu);
  for (int i = ar->n - 1; i >= 0; i--) {
    if (ar->b[i].cap == cap) {
      p = ar->b[i].p;
      remove_at(ar, i);
      atomic_fetch_sub(&idle_bytes, (long long)cap);
      break;
    }
  }
  pthread_mutex_unlock(&ar->mu);
  return p;
}

void *gfi_arena_take(size_t cap) {
  ensure_init();
  if (atomic_load_explicit(&idle_bytes, memory_order_relaxed) < (long long)cap) return NULL;
  int own = tl_arena;
  void *p = take_from(&A[own], cap);
  for (int i = 0; !p && i < GFI_ARENAS; i++)
    if (i != own) p = take_from(&A[i], cap);
  if (p) atomic_fetch_add_explicit(&n_reused, 1, memory_order_relaxed);
  return p;
}

/* Test hook for allocation-failure sweeps: the Nth fresh block fails. */
static atomic_llong fail_countdown;
void gfi_arena_test_fail_fresh(int64_t nth) { atomic_store(&fail_countdown, nth); }

void *gfi_arena_fresh(size_t cap) {
  ensure_init();
  if (atomic_load_explicit(&fail_countdown, memory_order_relaxed) > 0 &&
      atomic_fetch_sub(&fail_countdown, 1) == 1)
    return NULL;
  const gf_allocator *d = gf_default_allocator();
  void *p = gf_alloc(d, cap, ARENA_ALIGN);
  if (!p && gfi_arena_trim() > 0) p = gf_alloc(d, cap, ARENA_ALIGN);
  if (p) atomic_fetch_add_explicit(&n_fresh, 1, memory_order_relaxed);
  return p;
}

/* Adds `cap` to the idle count when that stays within `max`. */
static bool reserve_idle(int64_t cap, int64_t max) {
  long long cur = atomic_load(&idle_bytes);
  while (cur + cap <= max)
    if (atomic_compare_exchange_weak(&idle_bytes, &cur, cur + cap)) return true;
  return false;
}

void gfi_arena_give(void *p, size_t cap) {
  if (!p) return;
  ensure_init();
  int64_t max = idle_cap();
  const gf_allocator *d = gf_default_allocator();
  if (cap > (size_t)max) {
    gf_free(d, p, cap, ARENA_ALIGN);
    return;
  }
  arena *ar = &A[tl_arena];
  arena_block evict[ARENA_SLOTS];
  int ne = 0;
  bool kept = false;
  pthread_mutex_lock(&ar->mu);
  if (ar->n == ARENA_SLOTS) {
    evict[ne++] = ar->b[0];
    atomic_fetch_sub(&idle_bytes, (long long)ar->b[0].cap);
    remove_at(ar, 0);
  }
  /* Make room under the cap: this arena's oldest blocks go first. */
  while (!(kept = reserve_idle((int64_t)cap, max)) && ar->n > 0) {
    evict[ne++] = ar->b[0];
    atomic_fetch_sub(&idle_bytes, (long long)ar->b[0].cap);
    remove_at(ar, 0);
  }
  if (kept) ar->b[ar->n++] = (arena_block){p, cap};
  pthread_mutex_unlock(&ar->mu);
  for (int i = 0; i < ne; i++) gf_free(d, evict[i].p, evict[i].cap, ARENA_ALIGN);
  if (!kept) gf_free(d, p, cap, ARENA_ALIGN);
}

int64_t gfi_arena_idle_bytes(void) {
  return atomic_load_explicit(&idle_bytes, memory_order_relaxed);
}

int64_t gfi_arena_trim(void) {
  ensure_init();
  int64_t freed = 0;
  const gf_allocator *d = gf_default_allocator();
  for (int i = 0; i < GFI_ARENAS; i++) {
    arena *ar = &A[i];
    arena_block blocks[ARENA_SLOTS];
    pthread_mutex_lock(&ar->mu);
    int n = ar->n;
    memcpy(blocks, ar->b, sizeof blocks[0] * (size_t)n);
    ar->n = 0;
    for (int k = 0; k < n; k++) atomic_fetch_sub(&idle_bytes, (long long)blocks[k].cap);
    pthread_mutex_unlock(&ar->mu);
    for (int k = 0; k < n; k++) {
      gf_free(d, blocks[k].p, blocks[k].cap, ARENA_ALIGN);
      freed += (int64_t)blocks[k].cap;
    }
  }
  return freed;
}

int64_t gf_pool_trim(void) { return gfi_arena_trim(); }

/* Idle blocks go back when the library is unloaded or the process exits
 * (a destructor, not atexit, so that dlclose of the library is safe). */
__attribute__((destructor)) static void arena_fini(void) {
  if (atomic_load(&idle_bytes) > 0) gfi_arena_trim();
}

/* ---- scratch ------------------------------------------------------------ */

/* Which path a request takes: arenas (with `*c` the call to charge, or
 * NULL for an unlimited default-allocator call), or plain allocation
 * through `a`. Pure function of `a` and `size`, so free takes the same
 * path as alloc. */
static bool use_arena(const gf_allocator *a, size_t size, gfi_call_alloc **c) {
  *c = NULL;
  if (size < GFI_ARENA_MIN_BYTES) return false;
  if (!a || a == gf_default_allocator()) return true;
  gfi_call_alloc *s = gfi_call_alloc_of(a);
  if (s && gfi_call_alloc_over_default(s)) {
    *c = s;
    return true;
  }
  return false;
}

void *gfi_scratch_alloc(const gf_allocator *a, size_t size) {
  gfi_call_alloc *c;
  if (!use_arena(a, size, &c)) return gf_alloc(a, size ? size : 1, ARENA_ALIGN);
  size_t cap = gfi_arena_class(size);
  if (cap > (size_t)INT64_MAX) return NULL;
  /* Take a cached block before charging: moving a block from idle to the
   * call does not change what the limit sees (idle + the call's bytes). */
  void *p = gfi_arena_take(cap);
  if (c && !gfi_call_alloc_charge(c, (int64_t)cap)) {
    if (p) gfi_arena_give(p, cap);
    return NULL;
  }
  if (!p) p = gfi_arena_fresh(cap);
  if (!p && c) gfi_call_alloc_uncharge(c, (int64_t)cap);
  return p;
}

void *gfi_scratch_calloc(const gf_allocator *a, size_t size) {
  void *p = gfi_scratch_alloc(a, size);
  if (p) memset(p, 0, size);
  return p;
}

void gfi_scratch_free(const gf_allocator *a, void *p, size_t size) {
  if (!p) return;
  gfi_call_alloc *c;
  if (!use_arena(a, size, &c)) {
    gf_free(a, p, size ? size : 1, ARENA_ALIGN);
    return;
  }
  size_t cap = gfi_arena_class(size);
  /* Uncharge first: for a moment the block counts nowhere rather than
   * twice (idle and the call), which could refuse a sibling's request. */
  if (c) gfi_call_alloc_uncharge(c, (int64_t)cap);
  gfi_arena_give(p, cap);
}
