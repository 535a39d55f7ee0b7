/* Test allocator (SQLite style): fails the Nth allocation, once or from then
 * on, and counts live blocks and bytes so tests can prove nothing leaked. */
#include "core/core_internal.h"
#include "gopherframe/testing.h"

struct gf_failing_allocator {
  gf_allocator iface;
  const gf_allocator *parent;
  atomic_llong fail_at;
  atomic_bool persistent;
  atomic_llong attempts;
  atomic_llong failures;
  atomic_llong live_blocks;
  atomic_llong live_bytes;
};

/* Counts one attempt; true when it must fail. */
static bool should_fail(gf_failing_allocator *f) {
  long long n = atomic_fetch_add(&f->attempts, 1) + 1;
  long long at = atomic_load(&f->fail_at);
  if (at > 0 && (n == at || (n > at && atomic_load(&f->persistent)))) {
    atomic_fetch_add(&f->failures, 1);
    return true;
  }
  return false;
}

static void *failing_allocate(void *ctx, size_t size, size_t alignment) {
  gf_failing_allocator *f = ctx;
  if (should_fail(f)) return NULL;
  void *p = f->parent->allocate(f->parent->ctx, size, alignment);
  if (p) {
    atomic_fetch_add(&f->live_blocks, 1);
    atomic_fetch_add(&f->live_bytes, (long long)size);
  }
  return p;
}

static void *failing_reallocate(void *ctx, void *ptr, size_t old_size,
                                size_t new_size, size_t alignment) {
  gf_failing_allocator *f = ctx;
  if (should_fail(f)) return NULL;
  void *p = gf_realloc(f->parent, ptr, old_size, new_size, alignment);
  if (p) {
    if (!ptr) atomic_fetch_add(&f->live_blocks, 1);
    atomic_fetch_add(&f->live_bytes, (long long)new_size - (long long)(ptr ? old_size : 0));
  }
  return p;
}

static void failing_deallocate(void *ctx, void *ptr, size_t size, size_t alignment) {
  gf_failing_allocator *f = ctx;
  if (!ptr) return;
  f->parent->deallocate(f->parent->ctx, ptr, size, alignment);
  atomic_fetch_sub(&f->live_blocks, 1);
  atomic_fetch_sub(&f->live_bytes, (long long)size);
}

/* Creates an allocator that never fails until armed. */
gf_status gf_failing_allocator_new(const gf_allocator *parent,
                                   gf_failing_allocator **out, gf_error *err) {
  if (!out) return gf_error_set(err, GF_EINVAL, "gf_failing_allocator_new: out is NULL");
  gf_failing_allocator *f = gfi_calloc(NULL, sizeof *f);
  if (!f) return GF_OOM(err, "a failing allocator");
  f->parent = gfi_alloc_or_default(parent);
  atomic_init(&f->fail_at, 0);
  atomic_init(&f->persistent, false);
  atomic_init(&f->attempts, 0);
  atomic_init(&f->failures, 0);
  atomic_init(&f->live_blocks, 0);
  atomic_init(&f->live_bytes, 0);
  f->iface = (gf_allocator){failing_allocate, failing_reallocate, failing_deallocate, f};
  *out = f;
  return GF_OK;
}

void gf_failing_allocator_free(gf_failing_allocator *f) { gfi_mfree(NULL, f, sizeof *f); }
const gf_allocator *gf_failing_allocator_get(gf_failing_allocator *f) { return &f->iface; }

/* Re-arms: counts restart at 0; live counts are kept (they track memory). */
void gf_failing_allocator_arm(gf_failing_allocator *f, int64_t fail_at, bool persistent) {
  atomic_store(&f->attempts, 0);
  atomic_store(&f->failures, 0);
  atomic_store(&f->persistent, persistent);
  atomic_store(&f->fail_at, fail_at);
}

int64_t gf_failing_allocator_attempts(const gf_failing_allocator *f) {
  return atomic_load(&((gf_failing_allocator *)f)->attempts);
}
int64_t gf_failing_allocator_failures(const gf_failing_allocator *f) {
  return atomic_load(&((gf_failing_allocator *)f)->failures);
}
int64_t gf_failing_allocator_live_blocks(const gf_failing_allocator *f) {
  return atomic_load(&((gf_failing_allocator *)f)->live_blocks);
}
int64_t gf_failing_allocator_live_bytes(const gf_failing_allocator *f) {
  return atomic_load(&((gf_failing_allocator *)f)->live_bytes);
}
