/*
 * Parquet writer internals (not installed): page compression codecs.
 */
#ifndef GF_IO_PQ_WRITE_INTERNAL_H
#define GF_IO_PQ_WRITE_INTERNAL_H

#include "core/core_internal.h"
#include "gopherframe/parquet_write.h"

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

/* The writer driven row group by row group (the streaming Parquet sink,
 * exec/sink_parquet.c): the same bytes as gf_write_parquet of the frame of
 * every row given, when each column's data fits its field's nullability
 * (gf_write_parquet writes a non-nullable field holding nulls OPTIONAL;
 * the stream decides from the schema alone, so the caller must refuse
 * such data, see gfi_pqw_stream_optional). */
typedef struct gfi_pqw_stream gfi_pqw_stream;
/* Opens a temporary file beside `path` and writes "PAR1". `po`: loaded
 * options (allocator, deadline, token), kept by pointer's value. */
gf_status gfi_pqw_stream_open(const gf_schema *schema, const char *path,
                              const gf_parquet_write_options *o, const gf_parallel_options *po,
                              gfi_pqw_stream **out, gf_error *err);
/* Rows per row group. */
int64_t gfi_pqw_stream_row_group_rows(const gfi_pqw_stream *s);
/* Whether column `col` is written OPTIONAL (may hold nulls). */
bool gfi_pqw_stream_optional(const gfi_pqw_stream *s, int col);
/* Encodes (in parallel) and appends the next rows: whole row groups, or
 * with `last` any number (the last row group may be short). */
gf_status gfi_pqw_stream_write(gfi_pqw_stream *s, const gf_frame *f, bool last, gf_error *err);
/* The page index and footer; renames the file over the target. */
gf_status gfi_pqw_stream_finish(gfi_pqw_stream *s, gf_error *err);
/* Frees; removes the temporary file unless finish succeeded. */
void gfi_pqw_stream_free(gfi_pqw_stream *s);

#endif /* GF_IO_PQ_WRITE_INTERNAL_H */
