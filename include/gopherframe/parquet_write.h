/*
 * gopherframe/parquet_write.h - the Apache Parquet writer. Part of
 * <gopherframe.h>; include that instead. docs/PARQUET.md, "Writing", has
 * the type mapping and the file layout.
 *
 * Thread safety: safe to call from several threads at once (on different
 * paths); the frame is only read.
 */
#ifndef GOPHERFRAME_PARQUET_WRITE_H
#define GOPHERFRAME_PARQUET_WRITE_H

#include "data.h"
#include "exec.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Page compression codec (Parquet's CompressionCodec). */
typedef enum gf_parquet_compression {
  GF_PARQUET_NONE = 0,
  GF_PARQUET_SNAPPY = 1,  /**< needs a build with libsnappy (GF_WITH_SNAPPY) */
  GF_PARQUET_GZIP = 2,    /**< needs a build with zlib (GF_WITH_ZLIB) */
  GF_PARQUET_ZSTD = 3,    /**< needs a build with libzstd (GF_WITH_ZSTD) */
  GF_PARQUET_LZ4_RAW = 4  /**< LZ4 block format; needs liblz4 (GF_WITH_LZ4) */
} gf_parquet_compression;

/** Options of gf_write_parquet. Zero fields mean the default. */
typedef struct gf_parquet_write_options {
  size_t size;                        /**< sizeof(gf_parquet_write_options) */
  gf_parquet_compression compression; /**< default NONE */
  int compression_level;              /**< 0 = the codec's default */
  int64_t row_group_rows;             /**< rows per row group; default 1048576 */
  int64_t data_page_bytes;            /**< target encoded size of a data page; default 1 MiB */
  int64_t data_page_rows;             /**< most rows in a data page; default 20000 */
  /** Dictionary encoding (all types but bool): on unless true. */
  bool no_dictionary;
  /** A column chunk whose dictionary page would exceed this many bytes
   * falls back to PLAIN from the row that would cross it on; default 1 MiB.
   * Dictionary-typed columns keep a larger page when it pays (docs/PARQUET.md,
   * "Dictionary fallback"). */
  int64_t dictionary_page_bytes;
  /** Statistics (row group and page min/max/null count) and the page index
   * (ColumnIndex + OffsetIndex): written unless true. */
  bool no_statistics;
  const gf_parallel_options *parallel; /**< NULL = defaults (allocator too) */
} gf_parquet_write_options;

GF_API void gf_parquet_write_options_init(gf_parquet_write_options *o);

/**
 * Writes `f` as a Parquet file: row groups of o->row_group_rows rows, one
 * column chunk per column (dictionary page when dictionary-encoded, data
 * pages v1 with RLE definition levels for nullable columns, PLAIN or
 * RLE_DICTIONARY values), statistics, the page index and the ARROW:schema
 * key (the Arrow schema, so dictionaries, time zones and unsigned types
 * read back as written). Column chunks are encoded in parallel; the bytes
 * are the same for any number of workers. The data goes to a temporary
 * file renamed over `path` only on success: a failed or cancelled write
 * leaves no file. Unsupported column types (decimal256) fail with
 * GF_ENOTSUP naming the column; a codec this build lacks with GF_ENOTSUP.
 */
GF_API gf_status gf_write_parquet(const gf_frame *f, const char *path,
                                  const gf_parquet_write_options *o,
                                  gf_error *err);

/** True when this build can write the codec. */
GF_API bool gf_parquet_compression_available(gf_parquet_compression c);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_PARQUET_WRITE_H */
