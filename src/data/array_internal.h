/*
 * Internal layout of arrays, schemas and frames (not installed). Shared by
 * the builders, frames, slicing, concat, printing and the Arrow C Data
 * import/export.
 */
#ifndef GF_DATA_ARRAY_INTERNAL_H
#define GF_DATA_ARRAY_INTERNAL_H

#include "core/core_internal.h"

/* One immutable Arrow array. Buffers follow the Arrow layout of `type`:
 * [0] validity (NULL when null_count == 0), [1] values or offsets
 * (int32 for utf8/binary, int64 for the large variants), [2] bytes of
 * variable-width types. Null types have no buffers; bool values are bits.
 * Dictionary arrays have int32 codes in [1] and the values in `dictionary`.
 * `offset` is in elements (bits for validity and bool). */
struct gf_array {
  gfi_refcount ref;
  gf_datatype type;
  int64_t length;
  int64_t offset;
  int64_t null_count;
  gf_buffer *buffers[3];
  gf_array *dictionary;
  gf_stats stats;
  const gf_allocator *allocator; /* the struct itself was allocated here */
};

/* Number of buffers the Arrow layout of `t` uses (1 null-only... 3). The
 * validity slot is always counted: null=1 (no buffers in Arrow C Data),
 * fixed width=2, variable width=3, dictionary=2. */
int gfi_type_num_buffers(gf_datatype t);
/* True for utf8/large_utf8/binary/large_binary. */
bool gfi_type_is_var_width(gf_type_id id);
/* True for the large (int64 offsets) variants. */
bool gfi_type_is_large(gf_type_id id);
/* Bytes per value of fixed-width types (0 for bool, var-width, null). */
int gfi_type_byte_width(gf_datatype t);

/* Creates an array taking ownership of `buffers` (3 entries, may be NULL)
 * and retaining `dictionary`. Statistics are computed from the data.
 * On failure the buffers are released. */
gf_status gfi_array_make(const gf_allocator *a, gf_datatype type,
                         int64_t length, int64_t offset, int64_t null_count,
                         gf_buffer *buffers[3], gf_array *dictionary,
                         gf_array **out, gf_error *err);
/* (Re)computes a->stats over the array's range. */
void gfi_array_compute_stats(gf_array *a);

/* Given n dictionary arrays over the same value type, produces n arrays that
 * share one merged dictionary (values in order of first appearance across
 * in[0], in[1], ...) with codes remapped. When all inputs already share one
 * dictionary object, the outputs are the inputs retained. out[] receives n
 * new references; on failure nothing is written to out and nothing leaks. */
gf_status gfi_dictionary_unify(gf_array *const *in, int n,
                               const gf_allocator *a, gf_array **out,
                               gf_error *err);

/* gfi_dictionary_unify that gives up as soon as the merged dictionary
 * would hold more than `max_values` values (max_values < 0: no limit):
 * then it returns GF_OK with every out[i] NULL, having merged no further
 * than the input that crossed the limit (the CSV reader's dictionary
 * decision needs only "too many", not the whole merge). */
gf_status gfi_dictionary_unify_max(gf_array *const *in, int n, int64_t max_values,
                                   const gf_allocator *a, gf_array **out, gf_error *err);

/* The large_utf8/large_binary twin of a utf8/binary array `in`: the string
 * bytes are shared, the offsets widened into a new int64 buffer (and the
 * validity re-based when `in` is a slice). For a dictionary array over utf8 or
 * binary, `dict` is the already widened dictionary to rebuild it over (codes
 * and validity shared); ignored otherwise. src/data/widen.c. */
gf_status gfi_array_widen(const gf_allocator *a, const gf_array *in,
                          gf_array *dict, gf_array **out, gf_error *err);

/* Schemas with more fields than this get a hashed name index. */
#define GFI_SCHEMA_INDEX_MIN 16

struct gfi_name_index;
struct gf_schema {
  gfi_refcount ref;
  int n;
  gf_field *fields; /* names owned (strdup'd via the default allocator) */
  struct gfi_name_index *index; /* name -> position when n > GFI_SCHEMA_INDEX_MIN */
};

struct gf_frame {
  gfi_refcount ref;
  gf_schema *schema;
  int num_batches;
  int64_t num_rows;
  int64_t *batch_offsets; /* num_batches + 1 entries */
  gf_array **columns;     /* num_batches * ncols, batch-major */
  const gf_allocator *allocator;
};

/* Index of the batch holding frame row `row` (0 <= row < num_rows): the
 * last batch whose first row is <= row, so empty batches are skipped. */
int gfi_frame_batch_of_row(const gf_frame *f, int64_t row);

#endif /* GF_DATA_ARRAY_INTERNAL_H */
