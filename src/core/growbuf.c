/* gfi_vec: a growable byte buffer that owns its allocator and capacity, so
 * that its users never repeat a grow loop nor carry the size to free. */
#include <string.h>

#include "core/core_internal.h"

/* Blocks handed to the public API's callers carry this header in front so
 * that gf_mem_free needs nothing but the pointer. 64 bytes keep the data
 * 64-byte aligned. */
typedef struct owned_header {
  const gf_allocator *a;
  size_t size; /* of the whole block, header included */
  uint64_t magic;
} owned_header;

#define OWNED_HEADER 64u
#define OWNED_MAGIC UINT64_C(0x6766206f776e6564) /* "gf owned" */

_Static_assert(sizeof(owned_header) <= OWNED_HEADER, "owned header fits");

/* Starts empty: nothing is allocated until the first reserve. */
void gfi_vec_init(gfi_vec *v, const gf_allocator *a) {
  memset(v, 0, sizeof *v);
  v->a = gfi_alloc_or_default(a);
  v->align = 16;
}

/* As gfi_vec_init, but the block keeps room for the header gf_mem_free
 * reads, so that gfi_vec_take hands out a pointer the caller frees with
 * gf_mem_free. The data is 64-byte aligned. */
void gfi_vec_init_owned(gfi_vec *v, const gf_allocator *a) {
  gfi_vec_init(v, a);
  v->align = 64;
  v->header = OWNED_HEADER;
}

/* The capacity that holds `need`, doubling from max(cap, min) so that n
 * appends cost O(n) copies; `need` itself where doubling would overflow. */
size_t gfi_grow_capacity(size_t cap, size_t need, size_t min) {
  if (cap < min) cap = min;
  if (!cap) cap = 1;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  return cap;
}

/* Grows the capacity to at least `need` bytes (from 64). Sizes past
 * PTRDIFF_MAX (no C object can be larger) are refused with GF_ENOMEM
 * before the allocator is asked, as is an allocation the allocator
 * refuses; the message names the size. The contents and the old block are
 * kept on failure. */
static gf_status grow(gfi_vec *v, size_t need, gf_error *err) {
  const size_t max = (size_t)PTRDIFF_MAX - v->header;
  if (need > max)
    return gf_error_set(err, GF_ENOMEM, "growable buffer: %zu bytes overflow the address space",
                        need);
  size_t cap = gfi_grow_capacity(v->cap, need, 64);
  if (cap > max) cap = need;
  uint8_t *base = v->data ? v->data - v->header : NULL;
  uint8_t *nb = gf_realloc(v->a, base, v->cap ? v->cap + v->header : 0, cap + v->header,
                           v->align);
  if (!nb)
    return gf_error_set(err, GF_ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
  v->data = nb + v->header;
  v->cap = cap;
  return GF_OK;
}

/* Makes room for `extra` more bytes past len; len is unchanged. */
gf_status gfi_vec_reserve(gfi_vec *v, size_t extra, gf_error *err) {
  if (extra > SIZE_MAX - v->len)
    return gf_error_set(err, GF_ENOMEM,
                        "growable buffer: %zu + %zu bytes overflow the address space", v->len,
                        extra);
  if (v->len + extra <= v->cap && v->data) return GF_OK;
  return grow(v, v->len + extra, err);
}

/* Appends n bytes from src (src may be NULL when n is 0). */
gf_status gfi_vec_append(gfi_vec *v, const void *src, size_t n, gf_error *err) {
  GF_RETURN_NOT_OK(gfi_vec_reserve(v, n, err));
  if (n) memcpy(v->data + v->len, src, n);
  v->len += n;
  return GF_OK;
}

/* Appends n copies of the byte `value`. */
gf_status gfi_vec_append_n(gfi_vec *v, uint8_t value, size_t n, gf_error *err) {
  GF_RETURN_NOT_OK(gfi_vec_reserve(v, n, err));
  memset(v->data + v->len, value, n);
  v->len += n;
  return GF_OK;
}

/* Sets len; bytes added by growing are zeroed, shrinking keeps capacity. */
gf_status gfi_vec_resize(gfi_vec *v, size_t len, gf_error *err) {
  if (len > v->len) return gfi_vec_append_n(v, 0, len - v->len, err);
  v->len = len;
  return GF_OK;
}

/* Writes a NUL after the contents without counting it in len, so the
 * data reads as a C string. */
gf_status gfi_vec_terminate(gfi_vec *v, gf_error *err) {
  GF_RETURN_NOT_OK(gfi_vec_reserve(v, 1, err));
  v->data[v->len] = 0;
  return GF_OK;
}

/* Frees the block; the vector is empty again and may be reused. */
void gfi_vec_reset(gfi_vec *v) {
  if (v->data) gf_free(v->a, v->data - v->header, v->cap + v->header, v->align);
  v->data = NULL;
  v->len = v->cap = 0;
}

/* Moves the block out: returns the data (NULL when nothing was ever
 * reserved) and leaves the vector empty. A plain vector's block is freed
 * with gf_free(a, p, cap, 16) (cap as it was before the call); an owned
 * one's with gf_mem_free(p). */
void *gfi_vec_take(gfi_vec *v) {
  uint8_t *p = v->data;
  if (p && v->header) {
    owned_header h = {v->a, v->cap + v->header, OWNED_MAGIC};
    memcpy(p - v->header, &h, sizeof h);
  }
  v->data = NULL;
  v->len = v->cap = 0;
  return p;
}

/* Allocates `size` bytes that the caller of a public function frees with
 * gf_mem_free; 64-byte aligned. NULL when the allocator refuses. */
void *gfi_owned_alloc(const gf_allocator *a, size_t size) {
  gfi_vec v;
  gfi_vec_init_owned(&v, a);
  if (gfi_vec_reserve(&v, size ? size : 1, NULL) != GF_OK) return NULL;
  return gfi_vec_take(&v);
}

/* Frees a block a public function handed out as "free with gf_mem_free". */
void gf_mem_free(void *p) {
  if (!p) return;
  owned_header h;
  uint8_t *base = (uint8_t *)p - OWNED_HEADER;
  memcpy(&h, base, sizeof h);
  if (h.magic != OWNED_MAGIC) return; /* not ours: leaking beats corrupting the heap */
  gf_free(h.a, base, h.size, 64);
}
