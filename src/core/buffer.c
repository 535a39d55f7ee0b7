/* Refcounted buffers. Owned buffers are 64-byte aligned with a capacity
 * padded to 64 bytes and zeroed past the size (so export and IPC never leak
 * memory contents); wrapped buffers keep their foreign owner alive. */
#include <string.h>

#include "core/core_internal.h"

struct gf_buffer {
  gfi_refcount ref;
  uint8_t *data;
  size_t size;
  size_t capacity;            /* bytes allocated (owned buffers) */
  const gf_allocator *alloc;  /* allocator of the struct and owned data */
  void (*release)(void *owner); /* foreign memory: called on last release */
  void *owner;
  bool owned;
};

/* Allocates an owned buffer (see core_internal.h). */
gf_status gfi_buffer_alloc(const gf_allocator *a, size_t size, gf_buffer **out) {
  a = gfi_alloc_or_default(a);
  gf_buffer *b = gfi_malloc(a, sizeof *b);
  if (!b) return GF_ENOMEM;
  size_t cap = GF_PAD64(size);
  if (cap == 0) cap = GF_ALIGNMENT;
  b->data = gf_alloc(a, cap, GF_ALIGNMENT);
  if (!b->data) {
    gfi_mfree(a, b, sizeof *b);
    return GF_ENOMEM;
  }
  memset(b->data, 0, cap);
  gfi_ref_init(&b->ref);
  b->size = size;
  b->capacity = cap;
  b->alloc = a;
  b->release = NULL;
  b->owner = NULL;
  b->owned = true;
  *out = b;
  return GF_OK;
}

/* Grows an unshared owned buffer; contents kept, new bytes zeroed. */
gf_status gfi_buffer_resize(gf_buffer *b, size_t size) {
  if (!b->owned) return GF_EINVAL;
  if (size > b->capacity) {
    /* 1.5x past 4 KiB (less slack under a memory limit than doubling);
     * never wraps: the request itself when growth would overflow. */
    size_t cap = b->capacity ? b->capacity : 64;
    while (cap < size) {
      size_t next = cap < 4096 ? cap * 2 : cap + cap / 2;
      cap = next > cap ? next : size;
    }
    if (cap > SIZE_MAX - 63) return GF_ENOMEM;
    cap = GF_PAD64(cap);
    uint8_t *p = gf_realloc(b->alloc, b->data, b->capacity, cap, GF_ALIGNMENT);
    if (!p) return GF_ENOMEM;
    memset(p + b->capacity, 0, cap - b->capacity);
    b->data = p;
    b->capacity = cap;
  }
  gfi_buffer_set_size(b, size);
  return GF_OK;
}

/* Sets the logical size, zeroing everything between it and the capacity so
 * that padding never holds stale bytes. */
void gfi_buffer_set_size(gf_buffer *b, size_t size) {
  if (b->owned && size < b->capacity && size < b->size)
    memset(b->data + size, 0, b->size - size);
  b->size = size;
}

size_t gfi_buffer_capacity(const gf_buffer *b) { return b->owned ? b->capacity : b->size; }

gf_status gf_buffer_new(const gf_allocator *a, size_t size, gf_buffer **out, gf_error *err) {
  if (!out) return gf_error_set(err, GF_EINVAL, "gf_buffer_new: out is NULL");
  if (gfi_buffer_alloc(a, size, out) != GF_OK)
    return gf_error_set(err, GF_ENOMEM, "out of memory allocating a buffer of %zu bytes", size);
  return GF_OK;
}

/* Wraps foreign memory; the struct comes from `a`. */
gf_status gfi_buffer_wrap_with(const gf_allocator *a, const void *data, size_t size,
                               void (*release)(void *owner), void *owner,
                               gf_buffer **out) {
  a = gfi_alloc_or_default(a);
  gf_buffer *b = gfi_malloc(a, sizeof *b);
  if (!b) return GF_ENOMEM;
  gfi_ref_init(&b->ref);
  b->data = (uint8_t *)data;
  b->size = size;
  b->capacity = size;
  b->alloc = a;
  b->release = release;
  b->owner = owner;
  b->owned = false;
  *out = b;
  return GF_OK;
}

gf_status gf_buffer_wrap(const void *data, size_t size, void (*release)(void *owner),
                         void *owner, gf_buffer **out, gf_error *err) {
  if (!out || (!data && size > 0))
    return gf_error_set(err, GF_EINVAL, "gf_buffer_wrap: %s",
                        out ? "NULL data with a non-zero size" : "out is NULL");
  if (gfi_buffer_wrap_with(NULL, data, size, release, owner, out) != GF_OK)
    return GF_OOM(err, "a buffer wrapper");
  return GF_OK;
}

gf_buffer *gf_buffer_retain(gf_buffer *b) {
  if (b) gfi_ref_inc(&b->ref);
  return b;
}

/* Drops a reference; the last one frees owned memory or calls the foreign
 * owner's release. */
void gf_buffer_release(gf_buffer *b) {
  if (!b || !gfi_ref_dec(&b->ref)) return;
  const gf_allocator *a = b->alloc;
  if (b->owned)
    gf_free(a, b->data, b->capacity, GF_ALIGNMENT);
  else if (b->release)
    b->release(b->owner);
  gfi_mfree(a, b, sizeof *b);
}

const void *gf_buffer_data(const gf_buffer *b) { return b ? b->data : NULL; }
void *gf_buffer_mutable_data(gf_buffer *b) { return b ? b->data : NULL; }
size_t gf_buffer_size(const gf_buffer *b) { return b ? b->size : 0; }
