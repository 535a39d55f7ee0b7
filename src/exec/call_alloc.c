/* The per-call tracked allocator: a gf_tracking_allocator (limit, peak)
 * over the user's allocator, in a refcounted shell. The call holds one
 * reference and every live block one more, so outputs allocated by kernels
 * may outlive the call and still be freed through the allocator they came
 * from. */
#include "exec/exec_internal.h"

struct gfi_call_alloc {
  gf_allocator iface;
  gf_tracking_allocator *tracker;
  const gf_allocator *tracked; /* the tracker's interface */
  const gf_allocator *parent;  /* where this shell itself lives */
  atomic_llong refs;
};

static void shell_unref(gfi_call_alloc *c) {
  if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
    gf_tracking_allocator_free(c->tracker);
    gfi_mfree(c->parent, c, sizeof *c);
  }
}

static void *shell_allocate(void *ctx, size_t size, size_t alignment) {
  gfi_call_alloc *c = ctx;
  void *p = gf_alloc(c->tracked, size, alignment);
  if (p) atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
  return p;
}

static void *shell_reallocate(void *ctx, void *ptr, size_t old_size, size_t new_size,
                              size_t alignment) {
  gfi_call_alloc *c = ctx;
  void *p = gf_realloc(c->tracked, ptr, old_size, new_size, alignment);
  if (p && !ptr) atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
  return p;
}

static void shell_deallocate(void *ctx, void *ptr, size_t size, size_t alignment) {
  gfi_call_alloc *c = ctx;
  if (!ptr) return;
  gf_free(c->tracked, ptr, size, alignment);
  shell_unref(c);
}

gf_status gfi_call_alloc_new(const gf_allocator *parent, int64_t limit, gfi_call_alloc **out,
                             gf_error *err) {
  parent = gfi_alloc_or_default(parent);
  gfi_call_alloc *c = gfi_malloc(parent, sizeof *c);
  if (!c) return GF_OOM(err, "the call's tracking allocator");
  gf_status st = gf_tracking_allocator_new(parent, limit, &c->tracker, err);
  if (st != GF_OK) {
    gfi_mfree(parent, c, sizeof *c);
    return st;
  }
  c->tracked = gf_tracking_allocator_get(c->tracker);
  c->parent = parent;
  atomic_init(&c->refs, 1);
  c->iface = (gf_allocator){shell_allocate, shell_reallocate, shell_deallocate, c};
  *out = c;
  return GF_OK;
}

const gf_allocator *gfi_call_alloc_get(gfi_call_alloc *c) { return &c->iface; }
int64_t gfi_call_alloc_current(const gfi_call_alloc *c) {
  return gf_tracking_allocator_current(c->tracker);
}
int64_t gfi_call_alloc_peak(const gfi_call_alloc *c) { return gf_tracking_allocator_peak(c->tracker); }
void gfi_call_alloc_reset_peak(gfi_call_alloc *c) { gf_tracking_allocator_reset_peak(c->tracker); }
int64_t gfi_call_alloc_refusals(const gfi_call_alloc *c) {
  return gf_tracking_allocator_refusals(c->tracker);
}
void gfi_call_alloc_release(gfi_call_alloc *c) {
  if (c) shell_unref(c);
}
