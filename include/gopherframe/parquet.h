/*
 * gopherframe/parquet.h - reading Apache Parquet files: flat columns of
 * every physical and logical type the library holds, all the format's
 * encodings and the common codecs, projection and row-group pruning by
 * statistics, decoded in parallel. Part of <gopherframe.h>; include that
 * instead. docs/PARQUET.md lists what is supported.
 *
 * Thread safety: every function is safe to call from several threads at
 * once; frames read are ordinary immutable frames.
 */
#ifndef GOPHERFRAME_PARQUET_H
#define GOPHERFRAME_PARQUET_H

#include "data.h"
#include "exec.h"
#include "expr.h"
#include "io.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of the Parquet reader. Zero/NULL fields mean the default. */
typedef struct gf_parquet_read_options {
  size_t size;                /**< sizeof(gf_parquet_read_options) */
  /** Names of the columns to read, in the order wanted (NULL = all). Only
   * their column chunks are read. A name not in the file is GF_EINVAL. */
  const char *const *columns;
  int num_columns;
  /**
   * Optional predicate for row-group pruning: a row group whose column
   * statistics prove that no row can satisfy it is skipped. Understood:
   * comparisons (==, !=, <, <=, >, >=) of a column with a literal, and
   * and/or/not of those; anything else keeps the row group. The rows of
   * the row groups kept are NOT filtered unless filter_rows is set (else
   * apply the filter afterwards). Not retained after the call.
   */
  const gf_expr *predicate;
  const gf_parallel_options *parallel; /**< NULL = defaults (allocator too) */
  gf_input_mode input_mode;   /**< GF_INPUT_MMAP (default) or GF_INPUT_READ */
  /** When not NULL, receives the number of row groups skipped by pruning. */
  int64_t *row_groups_skipped;
  /**
   * With a predicate: also filter the rows (as gf_filter would: rows where
   * it is true are kept, null counts as false), by late materialisation:
   * the predicate's columns are decoded first, and the other columns only
   * at the rows that pass (pages with none are not even decompressed).
   * Row groups left without rows are dropped. false = prune only.
   */
  bool filter_rows;
  /** With filter_rows: when not NULL, receives the number of rows of the
   * row groups kept that the page index (ColumnIndex bounds and null
   * flags, by the rules of row-group pruning) ruled out undecoded. */
  int64_t *page_rows_skipped;
} gf_parquet_read_options;

GF_API void gf_parquet_read_options_init(gf_parquet_read_options *o);

/**
 * Reads a Parquet file into a frame with one batch per row group kept.
 * Malformed files fail with GF_EINVAL naming the file, the column, the row
 * group and the byte offset; nested columns (lists, structs, maps),
 * encrypted files and codecs not in this build fail with GF_ENOTSUP
 * naming the column and what is not supported. The file's ARROW:schema
 * metadata (written by Arrow) restores dictionary columns, time zones and
 * large string types. Results are identical for any number of workers.
 */
GF_API gf_status gf_read_parquet(const char *path,
                                 const gf_parquet_read_options *o,
                                 gf_frame **out, gf_error *err);

/**
 * Reads a Parquet file held in memory (data[0, len)); as gf_read_parquet.
 * The frame does not point into `data`: it may be freed after the call.
 * Messages name the input "Parquet buffer".
 */
GF_API gf_status gf_read_parquet_buffer(const void *data, size_t len,
                                        const gf_parquet_read_options *o,
                                        gf_frame **out, gf_error *err);

/**
 * Reads only the footer of a Parquet file and returns its schema (as
 * gf_read_parquet would type the columns) and row count (`rows` may be
 * NULL). Nested columns are reported as GF_ENOTSUP as by gf_read_parquet.
 */
GF_API gf_status gf_parquet_read_schema(const char *path,
                                        const gf_parquet_read_options *o,
                                        gf_schema **schema, int64_t *rows,
                                        gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_PARQUET_H */
