/*
 * codec_alloc.h - zlib's and bzip2's allocation callbacks on a project
 * allocator, shared by the compressing and decompressing streams. Set the
 * library's `opaque` to the gf_allocator (NULL = the default one).
 */
#ifndef GF_IO_CODEC_ALLOC_H
#define GF_IO_CODEC_ALLOC_H

#include <stddef.h>

#ifdef GF_HAVE_ZLIB
#include <zlib.h>
voidpf gfi_zlib_alloc(voidpf opaque, uInt items, uInt size);
void gfi_zlib_free(voidpf opaque, voidpf ptr);
#endif
#ifdef GF_HAVE_BZIP2
void *gfi_bz_alloc(void *opaque, int items, int size);
void gfi_bz_free(void *opaque, void *ptr);
#endif

#endif /* GF_IO_CODEC_ALLOC_H */
