/* Tracking allocator: counts current and peak bytes over a parent allocator
 * and refuses allocations past a hard limit. Lock-free and thread-safe. */
#include "core/core_internal.h"

struct gf_tracking_allocator {
  gf_allocator iface;
  const gf_allocator *parent;
  int64_t limit;
  atomic_llong current;
  atomic_llong peak;
  atomic_llong refusals;
};

/* Reserves `delta` bytes against the limit; false when it would exceed it.
 * A positive delta is refused (and counted) when current + delta > limit. */
static bool reserve(gf_tracking_allocator *t, int64_t delta) {
  long long cur = atomic_load_explicit(&t->current, memory_order_relaxed);
  for (;;) {
    if (t->limit > 0 && delta > 0 && delta > t->limit - cur) {
      atomic_fetch_add_explicit(&t->refusals, 1, memory_order_relaxed);
      return false;
    }
    if (atomic_compare_exchange_weak_explicit(&t->current, &cur, cur + delta,
                                              memory_order_relaxed, memory_order_relaxed))
      break;
  }
  long long now = cur + delta, pk = atomic_load_explicit(&t->peak, memory_order_relaxed);
  while (now > pk && !atomic_compare_exchange_weak_explicit(&t->peak, &pk, now,
                                                             memory_order_relaxed,
                                                             memory_order_relaxed)) {
  }
  return true;
}

static void unreserve(gf_tracking_allocator *t, int64_t delta) {
  atomic_fetch_sub_explicit(&t->current, delta, memory_order_relaxed);
}

static void *tracking_allocate(void *ctx, size_t size, size_t alignment) {
  gf_tracking_allocator *t = ctx;
  if (size > (size_t)INT64_MAX || !reserve(t, (int64_t)size)) return NULL;
  void *p = t->parent->allocate(t->parent->ctx, size, alignment);
  if (!p) unreserve(t, (int64_t)size);
  return p;
}

/* Charges old + new for the whole move, because the parent may allocate
 * the new block, copy and only then free the old one (the aligned default
 * always does): the limit holds at the true peak. Shrinking is charged the
 * same way. On refusal or failure the old block is untouched and the count
 * is back where it was. */
static void *tracking_reallocate(void *ctx, void *ptr, size_t old_size,
                                 size_t new_size, size_t alignment) {
  gf_tracking_allocator *t = ctx;
  if (new_size > (size_t)INT64_MAX || !reserve(t, (int64_t)new_size)) return NULL;
  void *p = gf_realloc(t->parent, ptr, old_size, new_size, alignment);
  unreserve(t, (int64_t)(p ? old_size : new_size));
  return p;
}

static void tracking_deallocate(void *ctx, void *ptr, size_t size, size_t alignment) {
  gf_tracking_allocator *t = ctx;
  t->parent->deallocate(t->parent->ctx, ptr, size, alignment);
  unreserve(t, (int64_t)size);
}

/* Creates a tracker over parent (NULL = default); limit 0 = unlimited. The
 * tracker's own struct comes from the default allocator, not from parent, so that
 * it never counts against the limit. */
gf_status gf_tracking_allocator_new(const gf_allocator *parent, int64_t limit,
                                    gf_tracking_allocator **out, gf_error *err) {
  if (!out || limit < 0)
    return gf_error_set(err, GF_EINVAL, "gf_tracking_allocator_new: %s",
                        out ? "negative limit" : "out is NULL");
  gf_tracking_allocator *t = gfi_calloc(NULL, sizeof *t);
  if (!t) return GF_OOM(err, "a tracking allocator");
  t->parent = gfi_alloc_or_default(parent);
  t->limit = limit;
  atomic_init(&t->current, 0);
  atomic_init(&t->peak, 0);
  atomic_init(&t->refusals, 0);
  t->iface = (gf_allocator){tracking_allocate, tracking_reallocate, tracking_deallocate, t};
  *out = t;
  return GF_OK;
}

void gf_tracking_allocator_free(gf_tracking_allocator *t) { gfi_mfree(NULL, t, sizeof *t); }
const gf_allocator *gf_tracking_allocator_get(gf_tracking_allocator *t) { return &t->iface; }
int64_t gf_tracking_allocator_current(const gf_tracking_allocator *t) {
  return atomic_load(&((gf_tracking_allocator *)t)->current);
}
int64_t gf_tracking_allocator_peak(const gf_tracking_allocator *t) {
  return atomic_load(&((gf_tracking_allocator *)t)->peak);
}
int64_t gf_tracking_allocator_limit(const gf_tracking_allocator *t) { return t->limit; }
int64_t gf_tracking_allocator_refusals(const gf_tracking_allocator *t) {
  return atomic_load(&((gf_tracking_allocator *)t)->refusals);
}
void gf_tracking_allocator_reset_peak(gf_tracking_allocator *t) {
  atomic_store(&t->peak, atomic_load(&t->current));
}
