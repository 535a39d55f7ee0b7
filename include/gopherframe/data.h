/*
 * gopherframe/data.h - data types, schemas, arrays (Arrow layout), builders,
 * frames, printing. Part of <gopherframe.h>; include that instead.
 */
#ifndef GOPHERFRAME_DATA_H
#define GOPHERFRAME_DATA_H

#include <stdio.h>

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Data types                                                          */
/* ------------------------------------------------------------------ */

/** The flat Arrow types (docs/DESIGN.md, "Data model"). */
typedef enum gf_type_id {
  GF_TYPE_NULL = 0,
  GF_TYPE_BOOL,
  GF_TYPE_INT8,
  GF_TYPE_INT16,
  GF_TYPE_INT32,
  GF_TYPE_INT64,
  GF_TYPE_UINT8,
  GF_TYPE_UINT16,
  GF_TYPE_UINT32,
  GF_TYPE_UINT64,
  GF_TYPE_FLOAT32,
  GF_TYPE_FLOAT64,
  GF_TYPE_UTF8,
  GF_TYPE_LARGE_UTF8,
  GF_TYPE_BINARY,
  GF_TYPE_LARGE_BINARY,
  GF_TYPE_FIXED_SIZE_BINARY,
  GF_TYPE_DATE32,     /**< days since 1970-01-01, int32 */
  GF_TYPE_DATE64,     /**< milliseconds since epoch, int64 */
  GF_TYPE_TIME32,     /**< unit s or ms, int32 */
  GF_TYPE_TIME64,     /**< unit us or ns, int64 */
  GF_TYPE_TIMESTAMP,  /**< int64 in `unit` since epoch, optional tz */
  GF_TYPE_DURATION,   /**< int64 in `unit` */
  GF_TYPE_DICTIONARY, /**< int32 codes over a dictionary of `value_id` */
  GF_TYPE_DECIMAL128, /**< 16-byte two's complement unscaled value, little-endian */
  GF_TYPE_DECIMAL256, /**< 32-byte two's complement unscaled value (storage only) */
  GF_TYPE_COUNT_
} gf_type_id;

typedef enum gf_time_unit {
  GF_UNIT_SECOND = 0,
  GF_UNIT_MILLI = 1,
  GF_UNIT_MICRO = 2,
  GF_UNIT_NANO = 3
} gf_time_unit;

/**
 * A data type, passed by value. For GF_TYPE_DICTIONARY, `value_id` is the
 * type of the dictionary's values and `unit`/`byte_width`/timezone describe
 * that value type; indices are always int32.
 */
typedef struct gf_datatype {
  gf_type_id id;
  gf_type_id value_id;     /**< dictionary value type; GF_TYPE_NULL otherwise */
  gf_time_unit unit;       /**< time32/time64/timestamp/duration */
  int32_t byte_width;      /**< fixed_size_binary */
  bool has_timezone;       /**< timestamp: a zone is given (UTC, fixed offset or named) */
  int32_t tz_offset_minutes; /**< timestamp: fixed offset east of UTC (0 for a named zone) */
  int32_t precision;       /**< decimal: significant digits (1..38 / 1..76) */
  int32_t scale;           /**< decimal: digits after the point (0..precision) */
  /**
   * timestamp: 0 = no named zone (UTC or the fixed offset above apply);
   * otherwise has_timezone is true and this is the id of a named zone
   * ("US/Eastern") in the process-wide, append-only zone table. Ids are
   * valid only inside the process that made them: get one from
   * gf_type_timestamp_zone, never invent one.
   */
  int32_t tz_id;
} gf_datatype;

/**
 * A decimal128 unscaled value: the 128-bit two's complement integer
 * hi * 2^64 + lo. The number it stands for is value / 10^scale.
 */
typedef struct gf_decimal128 {
  uint64_t lo;
  int64_t hi;
} gf_decimal128;

/** A type with no parameters (int32, utf8, date32, ...). */
GF_API gf_datatype gf_type(gf_type_id id);
GF_API gf_datatype gf_type_timestamp(gf_time_unit unit, bool has_tz,
                                     int32_t tz_offset_minutes);
/**
 * Timestamp in `unit` with time zone `zone`: "UTC" or a fixed offset
 * ("+05:30", "-0800") gives the fixed-offset type (tz_id 0); any other text
 * is an IANA zone name ("America/New_York", "US/Eastern") loaded from the
 * system tz database ($TZDIR, default /usr/share/zoneinfo; Debian package
 * tzdata). A name that is malformed or not in the database is GF_EINVAL
 * with a message naming it. Thread-safe. docs/TIMEZONES.md has the rules.
 */
GF_API gf_status gf_type_timestamp_zone(gf_time_unit unit, const char *zone,
                                        gf_datatype *out, gf_error *err);
/** Name of a timestamp type's named zone ("US/Eastern"); NULL when the type
 * has none (no zone, UTC, fixed offset, not a timestamp). Lives as long as
 * the process. For a dictionary, that of its value type. */
GF_API const char *gf_type_timezone_name(gf_datatype t);
GF_API gf_datatype gf_type_time(gf_type_id id, gf_time_unit unit);
GF_API gf_datatype gf_type_duration(gf_time_unit unit);
GF_API gf_datatype gf_type_fixed_size_binary(int32_t byte_width);
/**
 * decimal128(precision, scale): precision 1..38, scale 0..precision.
 * Negative scales (allowed by Arrow) are refused by gf_type_validate with
 * GF_ENOTSUP. Values outside the parameters are kept and refused later.
 */
GF_API gf_datatype gf_type_decimal128(int32_t precision, int32_t scale);
/**
 * decimal256(precision, scale): precision 1..76, scale 0..precision.
 * Held, printed, written to CSV, exchanged through C Data and IPC, used
 * as a sort/group-by/join key and by min/max; arithmetic and sum/mean
 * refuse it with GF_ENOTSUP (cast to decimal128 first).
 */
GF_API gf_datatype gf_type_decimal256(int32_t precision, int32_t scale);
/** Dictionary (int32 codes) over values of type `value`. */
GF_API gf_datatype gf_type_dictionary(gf_datatype value);
/** The value type of a dictionary type; `t` itself otherwise. */
GF_API gf_datatype gf_type_value(gf_datatype t);
GF_API bool gf_type_equals(gf_datatype a, gf_datatype b);
/** Checks a type's parameters (units allowed for the id, width > 0, ...). */
GF_API gf_status gf_type_validate(gf_datatype t, gf_error *err);
/** Short name of an id: "int64", "timestamp", "dictionary". */
GF_API const char *gf_type_id_name(gf_type_id id);
/** Writes the full type name into buf (always NUL-terminated); returns buf. */
GF_API char *gf_type_format(gf_datatype t, char *buf, size_t buf_size);
/** Bits per value in the main data buffer (bool = 1, utf8 = 0, dictionary = 32). */
GF_API int gf_type_bit_width(gf_datatype t);

/* ------------------------------------------------------------------ */
/* Arrays                                                              */
/* ------------------------------------------------------------------ */

/**
 * One column chunk in the Arrow columnar layout: validity bitmap (absent when
 * there are no nulls), then data/offsets buffers as Arrow specifies.
 * Immutable and refcounted: safe to read and retain/release from any number
 * of threads.
 */
typedef struct gf_array gf_array;

/**
 * The most rows an array or a frame may hold: 2^40 (about 1.1e12). Arrow
 * lets a null-typed column without buffers claim any int64 length; such
 * claims beyond this (from C Data import, IPC or gf_frame_new) are refused
 * with GF_ENOTSUP, so row counts, sums of batch lengths and the sizes
 * derived from them (sort permutations, chunk plans) cannot overflow.
 */
#define GF_MAX_ROWS ((int64_t)1 << 40)

/** Per-array statistics, computed as arrays are built. */
typedef struct gf_stats {
  int64_t null_count;
  bool has_min_max; /**< min/max valid: numeric, temporal, bool, dictionary codes */
  bool is_float;    /**< min/max in `.f` (float32/float64), else `.i`/`.u` */
  bool is_unsigned; /**< uint64 values in `.u` */
  union { int64_t i; uint64_t u; double f; } min, max;
} gf_stats;

GF_API gf_array *gf_array_retain(gf_array *a);
GF_API void gf_array_release(gf_array *a);
GF_API gf_datatype gf_array_type(const gf_array *a);
GF_API int64_t gf_array_length(const gf_array *a);
GF_API int64_t gf_array_null_count(const gf_array *a);
/** Statistics of the array (for a slice: recomputed over the slice). */
GF_API const gf_stats *gf_array_stats(const gf_array *a);
/** Dictionary arrays: the values (borrowed); NULL otherwise. */
GF_API const gf_array *gf_array_dictionary(const gf_array *a);

GF_API bool gf_array_is_null(const gf_array *a, int64_t i);
/** Signed integer, temporal, bool (0/1) or dictionary code at i (floats
 * and decimal128 truncated toward zero; 0 when out of range). */
GF_API int64_t gf_array_get_int64(const gf_array *a, int64_t i);
GF_API uint64_t gf_array_get_uint64(const gf_array *a, int64_t i);
/** Any numeric value converted to double (decimal128 correctly rounded). */
GF_API double gf_array_get_double(const gf_array *a, int64_t i);
/**
 * decimal128 unscaled value at i ({0, 0} for other types); divide by
 * 10^scale for the number.
 */
GF_API gf_decimal128 gf_array_get_decimal128(const gf_array *a, int64_t i);
GF_API bool gf_array_get_bool(const gf_array *a, int64_t i);
/**
 * utf8/binary/fixed-size (or the dictionary value for a dictionary array):
 * pointer to the bytes (not NUL-terminated) and their length.
 */
GF_API const char *gf_array_get_bytes(const gf_array *a, int64_t i,
                                      int64_t *len);
/**
 * Raw Arrow buffers: index 0 is validity (may be NULL), 1 data or offsets,
 * 2 the data of variable-width types. Pointers are to the start of the
 * buffer; add `gf_array_offset` elements yourself.
 */
GF_API const void *gf_array_buffer(const gf_array *a, int index);
GF_API int64_t gf_array_offset(const gf_array *a);

/** Zero-copy slice [offset, offset+length). */
GF_API gf_status gf_array_slice(const gf_array *a, int64_t offset,
                                int64_t length, gf_array **out, gf_error *err);
/** Concatenates arrays of one type; dictionaries are merged, codes remapped. */
GF_API gf_status gf_array_concat(const gf_array *const *arrays, int n,
                                 const gf_allocator *alloc, gf_array **out,
                                 gf_error *err);
/** Logical equality: same type, length, nulls and values (floats bitwise). */
GF_API bool gf_array_equals(const gf_array *a, const gf_array *b);
/**
 * Full validation of layout: buffer sizes, offsets monotonic and in bounds,
 * null count matches the bitmap, dictionary codes in range; with
 * `check_utf8`, string bytes are valid UTF-8.
 */
GF_API gf_status gf_array_validate(const gf_array *a, bool check_utf8,
                                   gf_error *err);

/* ------------------------------------------------------------------ */
/* Builders                                                            */
/* ------------------------------------------------------------------ */

/**
 * Appends values of one type and produces an immutable array. Null slots and
 * padding are zeroed; statistics are computed as values are appended. Owned
 * by one thread at a time. Append calls of the wrong kind for the type fail
 * with GF_ETYPE; out-of-range values (e.g. 300 into int8) with GF_ERANGE.
 */
typedef struct gf_builder gf_builder;

/** `alloc` NULL = default allocator. */
GF_API gf_status gf_builder_new(gf_datatype type, const gf_allocator *alloc,
                                gf_builder **out, gf_error *err);
GF_API void gf_builder_free(gf_builder *b);
/** Reserves room for `additional` more values (and `bytes` more data bytes). */
GF_API gf_status gf_builder_reserve(gf_builder *b, int64_t additional,
                                    int64_t bytes, gf_error *err);
GF_API int64_t gf_builder_length(const gf_builder *b);
GF_API gf_status gf_builder_append_null(gf_builder *b, gf_error *err);
/** Integers, temporal types (raw int64 value), bool (0/1). */
GF_API gf_status gf_builder_append_int64(gf_builder *b, int64_t v, gf_error *err);
GF_API gf_status gf_builder_append_uint64(gf_builder *b, uint64_t v, gf_error *err);
/** float32/float64 (float32 rounds). */
GF_API gf_status gf_builder_append_double(gf_builder *b, double v, gf_error *err);
GF_API gf_status gf_builder_append_bool(gf_builder *b, bool v, gf_error *err);
/**
 * decimal128 builders: appends the unscaled value `v` (already at the
 * type's scale); GF_ERANGE when it has more digits than the precision.
 * decimal128/decimal256 builders also take gf_builder_append_bytes with the
 * 16/32 raw little-endian bytes.
 */
GF_API gf_status gf_builder_append_decimal128(gf_builder *b, gf_decimal128 v,
                                              gf_error *err);
/**
 * utf8/binary/fixed-size (len must equal byte_width), or a dictionary value
 * (looked up / added to the builder's dictionary).
 */
GF_API gf_status gf_builder_append_bytes(gf_builder *b, const void *data,
                                         int64_t len, gf_error *err);
/** Convenience for a NUL-terminated string. */
GF_API gf_status gf_builder_append_string(gf_builder *b, const char *s,
                                          gf_error *err);
/** Finishes the array and resets the builder for reuse. */
GF_API gf_status gf_builder_finish(gf_builder *b, gf_array **out, gf_error *err);

/* ------------------------------------------------------------------ */
/* Schemas                                                             */
/* ------------------------------------------------------------------ */

typedef struct gf_field {
  const char *name; /**< UTF-8, not NULL */
  gf_datatype type;
  bool nullable;
} gf_field;

/** Immutable, refcounted list of fields (names unique). Thread-safe to share. */
typedef struct gf_schema gf_schema;

/** Copies the fields; fails with GF_EINVAL on duplicate or empty names. */
GF_API gf_status gf_schema_new(const gf_field *fields, int n, gf_schema **out,
                               gf_error *err);
GF_API gf_schema *gf_schema_retain(gf_schema *s);
GF_API void gf_schema_release(gf_schema *s);
GF_API int gf_schema_num_fields(const gf_schema *s);
/** Borrowed field i (valid while the schema lives). */
GF_API const gf_field *gf_schema_field(const gf_schema *s, int i);
/** Index of the named field, or -1. */
GF_API int gf_schema_find(const gf_schema *s, const char *name);
GF_API bool gf_schema_equals(const gf_schema *a, const gf_schema *b);

/* ------------------------------------------------------------------ */
/* Frames                                                              */
/* ------------------------------------------------------------------ */

/**
 * A schema plus record batches whose columns share chunk boundaries.
 * Immutable and refcounted: every operation returns a new frame, and a frame
 * may be read from any number of threads at once. A dictionary column has one
 * dictionary for the whole frame.
 */
typedef struct gf_frame gf_frame;

/**
 * Builds a frame from `num_batches` batches; `columns[b * nfields + c]` is
 * column c of batch b (retained, not stolen). Checks types against the
 * schema and equal lengths within a batch. Dictionary columns whose batches
 * use different dictionaries are unified (dictionaries merged, codes remapped).
 */
GF_API gf_status gf_frame_new(gf_schema *schema, gf_array *const *columns,
                              int num_batches, const gf_allocator *alloc,
                              gf_frame **out, gf_error *err);
/** One-batch frame from named columns (fields nullable). */
GF_API gf_status gf_frame_from_columns(const char *const *names,
                                       gf_array *const *columns, int n,
                                       gf_frame **out, gf_error *err);
GF_API gf_frame *gf_frame_retain(gf_frame *f);
GF_API void gf_frame_release(gf_frame *f);
/** Borrowed schema. */
GF_API gf_schema *gf_frame_schema(const gf_frame *f);
GF_API int64_t gf_frame_num_rows(const gf_frame *f);
GF_API int gf_frame_num_columns(const gf_frame *f);
GF_API int gf_frame_num_batches(const gf_frame *f);
GF_API int64_t gf_frame_batch_rows(const gf_frame *f, int batch);
/** Borrowed column `col` of batch `batch`. */
GF_API gf_array *gf_frame_column(const gf_frame *f, int batch, int col);
/** Row offset of the first row of `batch` within the frame. */
GF_API int64_t gf_frame_batch_offset(const gf_frame *f, int batch);
/** Zero-copy row slice [offset, offset+length). */
GF_API gf_status gf_frame_slice(const gf_frame *f, int64_t offset,
                                int64_t length, gf_frame **out, gf_error *err);
/** Appends frames with equal schemas (batches kept; dictionaries unified). */
GF_API gf_status gf_frame_concat(gf_frame *const *frames, int n,
                                 const gf_allocator *alloc, gf_frame **out,
                                 gf_error *err);
/** Copies all rows into one batch per column. */
GF_API gf_status gf_frame_combine_batches(const gf_frame *f,
                                          const gf_allocator *alloc,
                                          gf_frame **out, gf_error *err);
/** Same schema and same values row by row (batch boundaries may differ). */
GF_API bool gf_frame_equals(const gf_frame *a, const gf_frame *b);

/* ------------------------------------------------------------------ */
/* Printing                                                            */
/* ------------------------------------------------------------------ */

typedef struct gf_print_options {
  size_t size;          /**< sizeof(gf_print_options) */
  int64_t max_rows;     /**< rows shown before "…" truncation (default 10) */
  int max_columns;      /**< columns shown (default 12) */
  int max_width;        /**< max characters per cell (default 32) */
  bool ascii;           /**< ASCII borders instead of box drawing */
} gf_print_options;

GF_API void gf_print_options_init(gf_print_options *o);
/**
 * Formats a frame like Polars' print: "shape: (rows, cols)", a box with the
 * column names, a dtype row, values (nulls as `null`), head and tail rows with
 * "…" between when truncated. `*out` is a NUL-terminated string, allocated
 * through the frame's allocator, that the caller frees with gf_mem_free.
 * Numbers are formatted independently of the C locale.
 */
GF_API gf_status gf_frame_format(const gf_frame *f, const gf_print_options *o,
                                 char **out, gf_error *err);
/** gf_frame_format to a stream. */
GF_API gf_status gf_frame_print(const gf_frame *f, const gf_print_options *o,
                                FILE *stream, gf_error *err);
/**
 * Formats one value as text, locale-independently (floats in the shortest
 * form that round-trips). Writes at most buf_size bytes including the NUL;
 * returns the length the full text needs.
 */
GF_API int gf_array_format_value(const gf_array *a, int64_t i, char *buf,
                                 size_t buf_size);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_DATA_H */
