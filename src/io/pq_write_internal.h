/*
 * Parquet writer internals (not installed): page compression codecs.
 */
#ifndef GF_IO_PQ_WRITE_INTERNAL_H
#define GF_IO_PQ_WRITE_INTERNAL_H

#include "core/core_internal.h"

/* `codec` is a Parquet CompressionCodec value (PQW_CODEC_*). */
bool gfi_pqw_codec_available(int codec);
const char *gfi_pqw_codec_name(int codec);
/* Upper bound of the compressed size of n bytes. */
size_t gfi_pq_compress_bound(int codec, size_t n);
/* Compresses src (n bytes) into dst (capacity dst_cap, at least the bound);
 * *written receives the size. `level` 0 = the codec's default. The result
 * depends only on the input, codec and level (deterministic). */
gf_status gfi_pq_compress(int codec, int level, const void *src, size_t n,
                          void *dst, size_t dst_cap, size_t *written,
                          gf_error *err);

#endif /* GF_IO_PQ_WRITE_INTERNAL_H */
