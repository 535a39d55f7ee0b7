/*
 * Arrow's string and binary views (Utf8View "vu", BinaryView "vz"), which
 * GopherFrame does not hold as a type of its own: imported views are
 * validated and converted to utf8/binary (large_utf8/large_binary when the
 * bytes do not fit int32 offsets), and utf8/binary columns are exported as
 * views on request. Used by C Data import/export and the IPC reader. Not
 * installed.
 *
 * A view is 16 bytes: int32 length, then either the string itself inline
 * (length <= 12, zero padded) or a 4-byte prefix (the string's first 4
 * bytes), an int32 index of the data buffer and an int32 offset into it.
 */
#ifndef GF_DATA_VIEW_INTERNAL_H
#define GF_DATA_VIEW_INTERNAL_H

#include "data/array_internal.h"

#define GFI_VIEW_SIZE 16
#define GFI_VIEW_INLINE_MAX 12

/* One imported view array, as pointers into the producer's memory. */
typedef struct gfi_view_input {
  const uint8_t *validity;     /* NULL when there are no nulls; bit = offset + i */
  const uint8_t *views;        /* start of the views buffer (element 0) */
  int64_t offset, length;      /* the rows converted: [offset, offset+length) */
  const uint8_t *const *data;  /* n_data variadic data buffers */
  const int64_t *data_sizes;   /* their sizes in bytes */
  int64_t n_data;
  bool utf8;                   /* Utf8View: the bytes must be valid UTF-8 */
  /* Most string bytes an int32-offset result may hold; 0 = INT32_MAX.
   * Tests lower it to reach the large_* path without 2 GiB of data. */
  int64_t small_limit;
} gfi_view_input;

/* Validates every non-null view of `in` (length not negative; inline or
 * buffer index, offset and length inside the data buffers; prefix equal to
 * the data's first 4 bytes; UTF-8 for Utf8View) and copies the strings into
 * a new utf8/binary array (large_* when the total exceeds the small limit)
 * allocated through `a`. Null slots become empty strings whatever their
 * view holds. Errors are GF_EINVAL "<where>: row R: <what is wrong>" (R
 * counted from the first converted row); nothing leaks on failure. */
gf_status gfi_view_convert(const gf_allocator *a, const gfi_view_input *in,
                           const char *where, gf_array **out, gf_error *err);

/* Columns of `nbatches` batches (batch-major, `ncols` per batch) of which
 * some view-converted ones may have come out large while the schema says
 * utf8/binary: for each such column, widens its other batches and sets the
 * schema's type to the large one (a new schema replaces *schema; widening
 * is gfi_array_widen). Columns
 * whose batches all have the schema's type are left alone. */
gf_status gfi_view_unify_columns(const gf_allocator *a, gf_schema **schema,
                                 gf_array **cols, int nbatches, int ncols,
                                 gf_error *err);

/* The views of a utf8/binary/large_* array for export: a new buffer of
 * length * 16 bytes (through `a`) and the start pointers and sizes of the
 * data windows its views point into, which are ranges of the array's own
 * data buffer (zero-copy; at most `window_max` bytes each, 0 = INT32_MAX,
 * so large arrays split into several windows). *n_windows receives their
 * count and `starts`/`sizes` are allocated through `a` (free with
 * gfi_mfree, sizes n_windows * 8 bytes each; NULL when 0). Null slots get
 * zeroed views. */
gf_status gfi_view_build(const gf_allocator *a, const gf_array *arr,
                         int64_t window_max, gf_buffer **views,
                         const uint8_t ***starts, int64_t **sizes,
                         int64_t *n_windows, gf_error *err);

#endif /* GF_DATA_VIEW_INTERNAL_H */
