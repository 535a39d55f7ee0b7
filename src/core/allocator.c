/* The default allocator and the gf_alloc/gf_realloc/gf_free entry points
 * that every module uses. */
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

/* Rounds alignment up to what posix_memalign accepts. */
static size_t fix_alignment(size_t alignment) {
  if (alignment < sizeof(void *)) alignment = sizeof(void *);
  return alignment;
}

static void *system_allocate(void *ctx, size_t size, size_t alignment) {
  (void)ctx;
  void *p = NULL;
  if (size == 0) size = 1;
  if (posix_memalign(&p, fix_alignment(alignment), size) != 0) return NULL;
  return p;
}

static void *system_reallocate(void *ctx, void *ptr, size_t old_size,
                               size_t new_size, size_t alignment) {
  (void)ctx;
  if (alignment <= 16) return realloc(ptr, new_size ? new_size : 1);
  void *p = system_allocate(NULL, new_size, alignment);
  if (!p) return NULL;
  if (ptr) {
    memcpy(p, ptr, old_size < new_size ? old_size : new_size);
    free(ptr);
  }
  return p;
}

static void system_deallocate(void *ctx, void *ptr, size_t size, size_t alignment) {
  (void)ctx;
  (void)size;
  (void)alignment;
  free(ptr);
}

static const gf_allocator system_allocator = {system_allocate, system_reallocate,
                                              system_deallocate, NULL};

/* The process-wide default allocator. */
const gf_allocator *gf_default_allocator(void) { return &system_allocator; }

/* Allocates size bytes aligned to alignment through a (NULL = default). */
void *gf_alloc(const gf_allocator *a, size_t size, size_t alignment) {
  a = gfi_alloc_or_default(a);
  return a->allocate(a->ctx, size, alignment ? alignment : 16);
}

/* Resizes; falls back to allocate+copy+free when the allocator has no
 * reallocate. On failure the old block stays valid. */
void *gf_realloc(const gf_allocator *a, void *ptr, size_t old_size,
                 size_t new_size, size_t alignment) {
  a = gfi_alloc_or_default(a);
  if (!alignment) alignment = 16;
  if (!ptr) return a->allocate(a->ctx, new_size, alignment);
  if (a->reallocate) return a->reallocate(a->ctx, ptr, old_size, new_size, alignment);
  void *p = a->allocate(a->ctx, new_size, alignment);
  if (!p) return NULL;
  memcpy(p, ptr, old_size < new_size ? old_size : new_size);
  a->deallocate(a->ctx, ptr, old_size, alignment);
  return p;
}

/* Frees a block from gf_alloc/gf_realloc; NULL allowed. */
void gf_free(const gf_allocator *a, void *ptr, size_t size, size_t alignment) {
  if (!ptr) return;
  a = gfi_alloc_or_default(a);
  a->deallocate(a->ctx, ptr, size, alignment ? alignment : 16);
}

/* Small-struct helpers: 16-byte aligned. */
void *gfi_malloc(const gf_allocator *a, size_t size) { return gf_alloc(a, size, 16); }

void *gfi_calloc(const gf_allocator *a, size_t size) {
  void *p = gf_alloc(a, size, 16);
  if (p) memset(p, 0, size);
  return p;
}

void gfi_mfree(const gf_allocator *a, void *p, size_t size) { gf_free(a, p, size, 16); }
