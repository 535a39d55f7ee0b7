/*
 * gopherframe/cdata.h - the Arrow C Data and C Stream interfaces: zero-copy
 * import and export. Part of <gopherframe.h>; include that instead.
 */
#ifndef GOPHERFRAME_CDATA_H
#define GOPHERFRAME_CDATA_H

#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI structs exactly as the Arrow specification defines them, with the
 * specification's include guards so they coexist with other Arrow headers. */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  const char *format;
  const char *name;
  const char *metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema **children;
  struct ArrowSchema *dictionary;
  void (*release)(struct ArrowSchema *);
  void *private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void **buffers;
  struct ArrowArray **children;
  struct ArrowArray *dictionary;
  void (*release)(struct ArrowArray *);
  void *private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
  int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
  const char *(*get_last_error)(struct ArrowArrayStream *);
  void (*release)(struct ArrowArrayStream *);
  void *private_data;
};

#endif /* ARROW_C_STREAM_INTERFACE */

/**
 * Exports an array zero-copy. On success the caller owns `*out_array` and
 * (if not NULL) `*out_schema` and must call their `release`; the exported
 * data stays valid after `a` and its frame are released. On failure nothing
 * is written.
 */
GF_API gf_status gf_array_export(const gf_array *a, struct ArrowArray *out_array,
                                 struct ArrowSchema *out_schema, gf_error *err);
/**
 * Options of the C Data exports (the *_with functions); NULL means the
 * defaults. Initialise with gf_cdata_export_options_init, then set fields:
 * `size` lets the struct grow without breaking older callers.
 */
typedef struct gf_cdata_export_options {
  size_t size;    /**< sizeof(gf_cdata_export_options) */
  unsigned flags; /**< GF_EXPORT_* bits; 0 by default */
} gf_cdata_export_options;

/**
 * Export utf8 and large_utf8 columns as Utf8View (format "vu") and binary
 * and large_binary as BinaryView ("vz"), dictionary values included, for
 * consumers that prefer views (Polars, DuckDB). A 16-byte view per row is
 * built (one pass, 16 bytes a row); the string bytes are shared zero-copy
 * as the view data buffers (several when a large column holds more than
 * 2^31-1 bytes; a single value longer than that is GF_ENOTSUP). The default
 * exports utf8/binary as they are held.
 */
#define GF_EXPORT_STRING_VIEWS 1u

/** Sets `o` to the defaults. */
GF_API void gf_cdata_export_options_init(gf_cdata_export_options *o);

/** gf_array_export with options (`o` NULL = defaults). */
GF_API gf_status gf_array_export_with(const gf_array *a,
                                      const gf_cdata_export_options *o,
                                      struct ArrowArray *out_array,
                                      struct ArrowSchema *out_schema,
                                      gf_error *err);

/** Exports a data type as an ArrowSchema (`name` may be NULL). */
GF_API gf_status gf_type_export(gf_datatype t, const char *name, bool nullable,
                                struct ArrowSchema *out, gf_error *err);
/**
 * Imports a data type from an ArrowSchema (not released). The view formats
 * "vu" and "vz" give utf8 and binary (what their arrays import as); nested
 * formats fail with GF_ENOTSUP naming the format and the type.
 */
GF_API gf_status gf_type_import(const struct ArrowSchema *schema,
                                gf_datatype *out, gf_error *err);

/** Import validation. */
typedef enum gf_import_check {
  GF_IMPORT_CHECK_LAYOUT = 0, /**< buffer sizes, offsets, null counts, codes */
  GF_IMPORT_CHECK_FULL = 1    /**< ... and UTF-8 validity of strings */
} gf_import_check;

/**
 * Imports an array zero-copy, taking ownership: on success `array->release`
 * is moved into the result (array is marked released) and called when the
 * last buffer referring to it is released. `schema` is read, not released.
 * The array is validated first; invalid input fails with GF_EINVAL (message
 * says which check and where) and, on failure, `array` is left untouched.
 * Unsupported types fail with GF_ENOTSUP naming the format string, the type
 * (list, struct, map, union, run_end_encoded, ...) and the field.
 *
 * Utf8View ("vu") and BinaryView ("vz") arrays are not zero-copy: they are
 * validated (view lengths, the prefix against the data's first 4 bytes,
 * buffer index/offset/length inside the variadic data buffers, UTF-8 for
 * Utf8View at every check level) and their bytes copied once into a utf8
 * or binary array (large_utf8/large_binary when they exceed 2^31-1 bytes).
 * In a stream, a view column of which some batch needs large offsets is
 * large in every batch.
 */
GF_API gf_status gf_array_import(struct ArrowArray *array,
                                 const struct ArrowSchema *schema,
                                 gf_import_check check, gf_array **out,
                                 gf_error *err);

/**
 * gf_array_import with an allocator (NULL = default) for what the import
 * allocates: the array structs and the holder that keeps the producer's
 * array alive.
 */
GF_API gf_status gf_array_import_with(struct ArrowArray *array,
                                      const struct ArrowSchema *schema,
                                      gf_import_check check,
                                      const gf_allocator *alloc, gf_array **out,
                                      gf_error *err);

/** Exports a schema as an ArrowSchema of format "+s" (a struct). */
GF_API gf_status gf_schema_export(const gf_schema *s, struct ArrowSchema *out,
                                  gf_error *err);
/** Imports a struct ("+s") ArrowSchema as a schema (not released). */
GF_API gf_status gf_schema_import(const struct ArrowSchema *schema,
                                  gf_schema **out, gf_error *err);

/**
 * Exports a frame as an ArrowArrayStream: one struct array per batch. The
 * stream holds a reference to the frame, so the frame may be released at once.
 */
GF_API gf_status gf_frame_export_stream(gf_frame *f,
                                        struct ArrowArrayStream *out,
                                        gf_error *err);
/** gf_frame_export_stream with options (`o` NULL = defaults). */
GF_API gf_status gf_frame_export_stream_with(gf_frame *f,
                                             const gf_cdata_export_options *o,
                                             struct ArrowArrayStream *out,
                                             gf_error *err);
/**
 * Imports every batch of a stream into a frame and releases the stream
 * (on success and on failure).
 */
GF_API gf_status gf_frame_import_stream(struct ArrowArrayStream *stream,
                                        gf_import_check check,
                                        gf_frame **out, gf_error *err);
/**
 * gf_frame_import_stream with an allocator (NULL = default) for the frame,
 * its arrays and the import's own bookkeeping.
 */
GF_API gf_status gf_frame_import_stream_with(struct ArrowArrayStream *stream,
                                             gf_import_check check,
                                             const gf_allocator *alloc,
                                             gf_frame **out, gf_error *err);
/**
 * Exports batch `batch` of a frame as a struct ArrowArray (a record batch),
 * with the frame's schema in `out_schema` if not NULL.
 */
GF_API gf_status gf_frame_export_batch(const gf_frame *f, int batch,
                                       struct ArrowArray *out_array,
                                       struct ArrowSchema *out_schema,
                                       gf_error *err);

/** gf_frame_export_batch with options (`o` NULL = defaults). */
GF_API gf_status gf_frame_export_batch_with(const gf_frame *f, int batch,
                                            const gf_cdata_export_options *o,
                                            struct ArrowArray *out_array,
                                            struct ArrowSchema *out_schema,
                                            gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_CDATA_H */
