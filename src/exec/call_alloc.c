/* The per-call tracked allocator: counts current and peak bytes over the
 * user's allocator and refuses allocations past the call's limit, in a
 * refcounted shell. The call holds one reference and every live block one
 * more, so outputs allocated by kernels may outlive the call and still be
 * freed through the allocator they came from.
 *
 * Arena scratch (arena.c) is charged here too: a block an operator takes
 * from a per-worker arena counts as if it were allocated through the shell,
 * and the arenas' idle bytes count against the limit as well, so a process
 * running one limited call stays under that limit whatever the arenas
 * cache. When the limit would be crossed the arenas give their idle blocks
 * back first; only then is the request refused. */
#include "exec/arena.h"
#include "exec/exec_internal.h"

struct gfi_call_alloc {
  gf_allocator iface;
  const gf_allocator *parent; /* the user's allocator, never NULL */
  int64_t limit;              /* 0 = none */
  atomic_llong current;
  atomic_llong peak;
  atomic_llong refusals;
  atomic_llong refs;
};

static void shell_unref(gfi_call_alloc *c) {
  if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
    gfi_mfree(c->parent, c, sizeof *c);
}

/* True when current + delta (+ the arenas' idle bytes) stays within the
 * limit. Idle arena blocks are trimmed before a refusal. */
static bool within_limit(gfi_call_alloc *c, long long cur, int64_t delta) {
  if (c->limit <= 0 || delta <= 0) return true;
  if (delta > c->limit - cur) return false;
  int64_t idle = gfi_arena_idle_bytes();
  if (idle > c->limit - cur - delta) {
    gfi_arena_trim();
    idle = gfi_arena_idle_bytes(); /* another thread may have cached since */
  }
  return idle <= c->limit - cur - delta;
}

/* Reserves `delta` bytes against the limit; false (counted) when refused.
 * Lock-free: a compare-and-swap loop on current, then the peak. */
static bool reserve(gfi_call_alloc *c, int64_t delta) {
  long long cur = atomic_load_explicit(&c->current, memory_order_relaxed);
  for (;;) {
    if (!within_limit(c, cur, delta)) {
      atomic_fetch_add_explicit(&c->refusals, 1, memory_order_relaxed);
      return false;
    }
    if (atomic_compare_exchange_weak_explicit(&c->current, &cur, cur + delta,
                                              memory_order_relaxed, memory_order_relaxed))
      break;
  }
  long long now = cur + delta, pk = atomic_load_explicit(&c->peak, memory_order_relaxed);
  while (now > pk && !atomic_compare_exchange_weak_explicit(&c->peak, &pk, now,
                                                             memory_order_relaxed,
                                                             memory_order_relaxed)) {
  }
  return true;
}

static void unreserve(gfi_call_alloc *c, int64_t delta) {
  atomic_fetch_sub_explicit(&c->current, delta, memory_order_relaxed);
}

static void *shell_allocate(void *ctx, size_t size, size_t alignment) {
  gfi_call_alloc *c = ctx;
  if (size > (size_t)INT64_MAX || !reserve(c, (int64_t)size)) return NULL;
  void *p = c->parent->allocate(c->parent->ctx, size, alignment);
  if (!p) {
    unreserve(c, (int64_t)size);
    return NULL;
  }
  atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
  return p;
}

/* Charges old + new for the whole move, because the parent may allocate
 * the new block, copy and only then free the old one (the aligned default
 * always does): the limit holds at the true peak. On refusal or failure the
 * old block is untouched and the count is back where it was. */
static void *shell_reallocate(void *ctx, void *ptr, size_t old_size, size_t new_size,
                              size_t alignment) {
  gfi_call_alloc *c = ctx;
  if (new_size > (size_t)INT64_MAX || !reserve(c, (int64_t)new_size)) return NULL;
  void *p = gf_realloc(c->parent, ptr, old_size, new_size, alignment);
  unreserve(c, (int64_t)(p ? old_size : new_size));
  if (p && !ptr) atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
  return p;
}

static void shell_deallocate(void *ctx, void *ptr, size_t size, size_t alignment) {
  gfi_call_alloc *c = ctx;
  if (!ptr) return;
  c->parent->deallocate(c->parent->ctx, ptr, size, alignment);
  unreserve(c, (int64_t)size);
  shell_unref(c);
}

gf_status gfi_call_alloc_new(const gf_allocator *parent, int64_t limit, gfi_call_alloc **out,
                             gf_error *err) {
  if (limit < 0) return gf_error_set(err, GF_EINVAL, "call allocator: negative limit");
  /* The shell lives in the user's allocator, outside the limit. */
  parent = gfi_alloc_or_default(parent);
  gfi_call_alloc *c = gfi_malloc(parent, sizeof *c);
  if (!c) return GF_OOM(err, "the call's tracking allocator");
  c->parent = parent;
  c->limit = limit;
  atomic_init(&c->current, 0);
  atomic_init(&c->peak, 0);
  atomic_init(&c->refusals, 0);
  atomic_init(&c->refs, 1);
  c->iface = (gf_allocator){shell_allocate, shell_reallocate, shell_deallocate, c};
  *out = c;
  return GF_OK;
}

const gf_allocator *gfi_call_alloc_get(gfi_call_alloc *c) { return &c->iface; }
int64_t gfi_call_alloc_current(const gfi_call_alloc *c) {
  return atomic_load(&((gfi_call_alloc *)c)->current);
}
int64_t gfi_call_alloc_peak(const gfi_call_alloc *c) {
  return atomic_load(&((gfi_call_alloc *)c)->peak);
}
void gfi_call_alloc_reset_peak(gfi_call_alloc *c) {
  atomic_store(&c->peak, atomic_load(&c->current));
}
int64_t gfi_call_alloc_refusals(const gfi_call_alloc *c) {
  return atomic_load(&((gfi_call_alloc *)c)->refusals);
}
void gfi_call_alloc_release(gfi_call_alloc *c) {
  if (c) shell_unref(c);
}

gfi_call_alloc *gfi_call_alloc_of(const gf_allocator *a) {
  return a && a->allocate == shell_allocate ? (gfi_call_alloc *)a->ctx : NULL;
}

bool gfi_call_alloc_over_default(const gfi_call_alloc *c) {
  return c->parent == gf_default_allocator();
}

/* A charged block holds a reference like an allocated one, so a shell
 * outlives scratch freed after its call ended. */
bool gfi_call_alloc_charge(gfi_call_alloc *c, int64_t bytes) {
  if (!reserve(c, bytes)) return false;
  atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
  return true;
}

void gfi_call_alloc_uncharge(gfi_call_alloc *c, int64_t bytes) {
  unreserve(c, bytes);
  shell_unref(c);
}
