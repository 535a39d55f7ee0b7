/*
 * codec_alloc.c - allocation callbacks for zlib and bzip2 (codec_alloc.h).
 * Both libraries free without a size, which the project's allocator needs:
 * each block carries its size in a 16-byte header (16 keeps the block as
 * aligned as the allocator's).
 */
#include <stdint.h>
#include <string.h>

#include "core/core_internal.h"
#include "io/codec_alloc.h"

#if defined(GF_HAVE_ZLIB) || defined(GF_HAVE_BZIP2)
/* items * size bytes through the allocator `opaque`; NULL on overflow or
 * failure. */
static void *sized_alloc(void *opaque, size_t items, size_t size) {
  const gf_allocator *a = opaque;
  if (size && items > (SIZE_MAX - 16) / size) return NULL;
  size_t n = items * size + 16;
  unsigned char *p = gfi_malloc(a, n);
  if (!p) return NULL;
  memcpy(p, &n, sizeof n);
  return p + 16;
}

/* Frees a block of sized_alloc (NULL is ignored). */
static void sized_free(void *opaque, void *ptr) {
  const gf_allocator *a = opaque;
  if (!ptr) return;
  unsigned char *p = (unsigned char *)ptr - 16;
  size_t n;
  memcpy(&n, p, sizeof n);
  gfi_mfree(a, p, n);
}
#endif

#ifdef GF_HAVE_ZLIB
/* See codec_alloc.h. */
voidpf gfi_zlib_alloc(voidpf opaque, uInt items, uInt size) {
  return sized_alloc(opaque, items, size);
}
/* See codec_alloc.h. */
void gfi_zlib_free(voidpf opaque, voidpf ptr) { sized_free(opaque, ptr); }
#endif
#ifdef GF_HAVE_BZIP2
/* See codec_alloc.h. */
void *gfi_bz_alloc(void *opaque, int items, int size) {
  return items < 0 || size < 0 ? NULL : sized_alloc(opaque, (size_t)items, (size_t)size);
}
/* See codec_alloc.h. */
void gfi_bz_free(void *opaque, void *ptr) { sized_free(opaque, ptr); }
#endif
