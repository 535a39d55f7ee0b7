/*
 * gopherframe/json.h - reading and writing JSON: newline-delimited JSON
 * (NDJSON / JSON Lines, one object per line) and a JSON array of objects.
 * Part of <gopherframe.h>; include that instead. docs/JSON.md describes the
 * mapping between JSON values and column types.
 */
#ifndef GOPHERFRAME_JSON_H
#define GOPHERFRAME_JSON_H

#include <stdio.h>

#include "io.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Which JSON shape a reader expects. */
typedef enum gf_json_format {
  GF_JSON_AUTO = 0,   /**< '[' first (after whitespace/BOM) = array, else NDJSON */
  GF_JSON_NDJSON = 1, /**< one object per line; blank lines allowed */
  GF_JSON_ARRAY = 2   /**< one array of objects */
} gf_json_format;

/** Per-column type override: `name` is the object key. Supported types:
 * bool, int64, float64, utf8, date32, timestamp[us] (with or without a
 * zone) and dictionary<utf8>; other types are GF_ENOTSUP. */
typedef struct gf_json_column_type {
  const char *name;
  gf_datatype type;
} gf_json_column_type;

/** Options of the JSON readers. Zero/NULL fields mean the default. */
typedef struct gf_json_read_options {
  size_t size;                 /**< sizeof(gf_json_read_options) */
  gf_json_format format;       /**< GF_JSON_AUTO by default */
  const char *const *columns;  /**< keys to keep (in first-appearance order), NULL = all */
  int num_columns;
  const gf_json_column_type *column_types; /**< overrides, may be NULL */
  int num_column_types;
  bool no_dictionary;          /**< keep low-cardinality strings as utf8 */
  double dictionary_max_ratio; /**< distinct/rows at most this -> dictionary (0 = 0.5) */
  const gf_parallel_options *parallel; /**< NULL = defaults; chunk_rows = records per chunk */
  gf_input_mode input_mode;    /**< default GF_INPUT_MMAP; see gf_input_mode */
  int64_t max_rows;            /**< 0 = all; NDJSON stops reading after this many
                                    objects (types come from those only); an
                                    array is read whole, then cut */
} gf_json_read_options;

GF_API void gf_json_read_options_init(gf_json_read_options *o);

/**
 * Reads NDJSON or a JSON array of objects (options->format; AUTO looks at
 * the first byte) into a frame. Columns are the keys of all objects in
 * order of first appearance; a key missing from an object is null there.
 * Every column's type is inferred from all its values (never a sample):
 * null < bool | int64 < float64, strings < date32 < timestamp[us] (strings
 * in ISO 8601 form), anything else mixed = utf8 (numbers and booleans
 * then keep their JSON text). Integers beyond 2^53 in a float64 column and
 * integers beyond int64 make it utf8 (exact text) rather than round them.
 * Nested objects and arrays are refused (GF_ENOTSUP naming the key and
 * line). Malformed JSON and invalid UTF-8 fail with GF_EPARSE and
 * "FILE:LINE:COLUMN (byte OFFSET): what". Both shapes are parsed in
 * parallel; the frame does not depend on the worker count or chunk size.
 */
GF_API gf_status gf_read_json(const char *path, const gf_json_read_options *o,
                              gf_frame **out, gf_error *err);
/** gf_read_json with format GF_JSON_NDJSON unless options say otherwise. */
GF_API gf_status gf_read_ndjson(const char *path, const gf_json_read_options *o,
                                gf_frame **out, gf_error *err);
/** Same from memory (`name` is used in messages; NULL = "<buffer>"). */
GF_API gf_status gf_read_json_buffer(const char *data, size_t len, const char *name,
                                     const gf_json_read_options *o, gf_frame **out,
                                     gf_error *err);
/** gf_read_json_buffer with format GF_JSON_NDJSON unless options say otherwise. */
GF_API gf_status gf_read_ndjson_buffer(const char *data, size_t len, const char *name,
                                       const gf_json_read_options *o, gf_frame **out,
                                       gf_error *err);

/** Options of the JSON writers. */
typedef struct gf_json_write_options {
  size_t size;                         /**< sizeof(gf_json_write_options) */
  const gf_parallel_options *parallel; /**< NULL = defaults */
} gf_json_write_options;

GF_API void gf_json_write_options_init(gf_json_write_options *o);

/**
 * Writes a frame as NDJSON: one object per row, keys in column order, every
 * key present. Integers as integers, floats in the shortest round-trip form
 * (NaN and infinities as null: JSON has no spelling for them), temporal
 * values as ISO 8601 strings (as the CSV writer writes them), decimals as
 * exact JSON numbers, binary as lowercase hex strings, nulls as null.
 * Formatted in parallel; the bytes do not depend on the worker count. The
 * file is written under a temporary name and renamed on success.
 */
GF_API gf_status gf_write_ndjson(const gf_frame *f, const char *path,
                                 const gf_json_write_options *o, gf_error *err);
/** Same to an open stream (no temporary file; flushed at the end). */
GF_API gf_status gf_write_ndjson_stream(const gf_frame *f, FILE *out,
                                        const gf_json_write_options *o, gf_error *err);
/** Writes a JSON array of objects ("[\n{...},\n{...}\n]\n"; "[]\n" for no rows). */
GF_API gf_status gf_write_json(const gf_frame *f, const char *path,
                               const gf_json_write_options *o, gf_error *err);
/** Same to an open stream. */
GF_API gf_status gf_write_json_stream(const gf_frame *f, FILE *out,
                                      const gf_json_write_options *o, gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_JSON_H */
