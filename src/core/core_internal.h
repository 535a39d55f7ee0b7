/*
 * Internal helpers shared by every module (not installed). Internal
 * functions are prefixed gfi_ and are hidden from the shared library.
 */
#ifndef GF_CORE_INTERNAL_H
#define GF_CORE_INTERNAL_H

#include <stdatomic.h>

#include "gopherframe.h"

/* Returns from the enclosing function when `expr` is not GF_OK. */
#define GF_RETURN_NOT_OK(expr)          \
  do {                                  \
    gf_status gf_st_ = (expr);          \
    if (gf_st_ != GF_OK) return gf_st_; \
  } while (0)

/* Sets err and returns GF_ENOMEM: the one message for a failed allocation. */
#define GF_OOM(err, what) \
  gf_error_set((err), GF_ENOMEM, "out of memory allocating %s", (what))

#define GF_ALIGNMENT 64
#define GF_PAD64(n) ((((size_t)(n)) + 63u) & ~(size_t)63u)

/* Thread-safe reference count. */
typedef struct gfi_refcount {
  atomic_long n;
} gfi_refcount;

static inline void gfi_ref_init(gfi_refcount *r) { atomic_init(&r->n, 1); }
static inline void gfi_ref_inc(gfi_refcount *r) {
  atomic_fetch_add_explicit(&r->n, 1, memory_order_relaxed);
}
/* True when this call dropped the last reference. */
static inline bool gfi_ref_dec(gfi_refcount *r) {
  return atomic_fetch_sub_explicit(&r->n, 1, memory_order_acq_rel) == 1;
}

/* Allocator or the default when NULL. */
static inline const gf_allocator *gfi_alloc_or_default(const gf_allocator *a) {
  return a ? a : gf_default_allocator();
}

/* Plain (not aligned beyond max_align_t) helpers for small structs. */
void *gfi_malloc(const gf_allocator *a, size_t size);
void *gfi_calloc(const gf_allocator *a, size_t size);
void gfi_mfree(const gf_allocator *a, void *p, size_t size);

/* Allocates a buffer of `size` bytes (capacity padded to 64, zeroed) that
 * the creator may fill and grow before sharing. */
gf_status gfi_buffer_alloc(const gf_allocator *a, size_t size, gf_buffer **out);
/* Grows an unshared buffer to at least `size` bytes; new bytes zeroed. */
gf_status gfi_buffer_resize(gf_buffer *b, size_t size);
/* Sets the logical size of an unshared buffer (<= capacity); bytes past it
 * up to the padded end are zeroed. */
void gfi_buffer_set_size(gf_buffer *b, size_t size);
size_t gfi_buffer_capacity(const gf_buffer *b);
/* gf_buffer_wrap with the wrapper struct allocated through `a`. */
gf_status gfi_buffer_wrap_with(const gf_allocator *a, const void *data,
                               size_t size, void (*release)(void *owner),
                               void *owner, gf_buffer **out);

/* ---- Growable buffers and caller-owned blocks (src/core/growbuf.c) ----
 * A gfi_vec owns its block, its allocator and its capacity: users append
 * and never run their own grow loop nor pass sizes back to free. Growth
 * doubles; a size that overflows, or an allocator refusal, is GF_ENOMEM
 * with a message naming the size, and leaves the contents intact. */
typedef struct gfi_vec {
  const gf_allocator *a; /* never NULL after init */
  uint8_t *data;         /* NULL until the first reserve */
  size_t len, cap;       /* bytes used / bytes allocated (after the header) */
  size_t align;          /* 16, or 64 for owned blocks */
  size_t header;         /* 0, or the gf_mem_free header in front of data */
} gfi_vec;

void gfi_vec_init(gfi_vec *v, const gf_allocator *a);
/* Data handed out by gfi_vec_take is freed with gf_mem_free (64-aligned). */
void gfi_vec_init_owned(gfi_vec *v, const gf_allocator *a);
gf_status gfi_vec_reserve(gfi_vec *v, size_t extra, gf_error *err);
gf_status gfi_vec_append(gfi_vec *v, const void *src, size_t n, gf_error *err);
gf_status gfi_vec_append_n(gfi_vec *v, uint8_t value, size_t n, gf_error *err);
gf_status gfi_vec_resize(gfi_vec *v, size_t len, gf_error *err);
gf_status gfi_vec_terminate(gfi_vec *v, gf_error *err);
void gfi_vec_reset(gfi_vec *v);
void *gfi_vec_take(gfi_vec *v);
/* Doubling growth shared by every growable thing (see growbuf.c). */
size_t gfi_grow_capacity(size_t cap, size_t need, size_t min);
/* `size` bytes through `a` that the caller frees with gf_mem_free. */
void *gfi_owned_alloc(const gf_allocator *a, size_t size);
/* Rounds a count up to at least 1, so that zero-length arrays still get a
 * distinct, freeable block. */
static inline size_t gfi_at_least_1(size_t n) { return n ? n : 1; }
/* ---- end of growable buffers ---- */

/* Bitmaps (Arrow LSB order). */
static inline bool gfi_bit_get(const uint8_t *bits, int64_t i) {
  return (bits[i >> 3] >> (i & 7)) & 1;
}
static inline void gfi_bit_set(uint8_t *bits, int64_t i) {
  bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}
static inline void gfi_bit_clear(uint8_t *bits, int64_t i) {
  bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
}
static inline void gfi_bit_put(uint8_t *bits, int64_t i, bool v) {
  if (v) gfi_bit_set(bits, i); else gfi_bit_clear(bits, i);
}
/* Number of set bits in [offset, offset+length). */
int64_t gfi_bitmap_count(const uint8_t *bits, int64_t offset, int64_t length);
/* Copies `length` bits from src at src_offset to dst at dst_offset. */
void gfi_bitmap_copy(uint8_t *dst, int64_t dst_offset, const uint8_t *src,
                     int64_t src_offset, int64_t length);
/* Sets `length` bits starting at bit `offset` to 1. */
void gfi_bitmap_set_range(uint8_t *bits, int64_t offset, int64_t length);
/* Bytes needed for n bits. */
static inline int64_t gfi_bitmap_bytes(int64_t n) { return (n + 7) >> 3; }

/* Monotonic clock in nanoseconds. */
int64_t gfi_now_ns(void);

/* Locale-independent number formatting/parsing (C locale regardless of
 * setlocale). Return the snprintf-style length. */
int gfi_format_double(char *buf, size_t size, double v); /* shortest round-trip */
int gfi_format_float(char *buf, size_t size, float v);   /* shortest round-trip */
double gfi_strtod(const char *s, char **end);

#endif /* GF_CORE_INTERNAL_H */
