/*
 * Internal helpers shared by the array, builder, concat and dictionary
 * modules of src/data (not installed): statistics accumulation, raw value
 * access, and appending a value copied from another array.
 */
#ifndef GF_DATA_BUILDER_INTERNAL_H
#define GF_DATA_BUILDER_INTERNAL_H

#include <math.h>
#include <string.h>

#include "data/array_internal.h"

/* Statistics: min/max of floats follow IEEE totalOrder (-0.0 < +0.0) except
 * that every NaN, whatever its sign bit, orders after +inf (the order sort
 * uses). So max is NaN when any value is NaN, and min is NaN only when every
 * non-null value is NaN. Unsigned types up to uint32 keep min/max in `.i`;
 * only uint64 uses `.u` (is_unsigned). Bool (0/1), temporal values and
 * dictionary codes use `.i`. Strings and binary have no min/max. */

/* True when float a orders strictly before b in the order described above. */
static inline bool gfi_float_less(double a, double b) {
  if (isnan(a)) return false;
  if (isnan(b)) return true;
  if (a < b) return true;
  if (a == b && a == 0.0) return signbit(a) && !signbit(b);
  return false;
}

/* Empties `s` and sets its flags for arrays of type `t`. */
static inline void gfi_stats_reset(gf_stats *s, gf_datatype t) {
  memset(s, 0, sizeof *s);
  s->is_float = t.id == GF_TYPE_FLOAT32 || t.id == GF_TYPE_FLOAT64;
  s->is_unsigned = t.id == GF_TYPE_UINT64;
}

static inline void gfi_stats_add_i(gf_stats *s, int64_t v) {
  if (!s->has_min_max) {
    s->has_min_max = true;
    s->min.i = s->max.i = v;
    return;
  }
  if (v < s->min.i) s->min.i = v;
  if (v > s->max.i) s->max.i = v;
}

static inline void gfi_stats_add_u(gf_stats *s, uint64_t v) {
  if (!s->has_min_max) {
    s->has_min_max = true;
    s->min.u = s->max.u = v;
    return;
  }
  if (v < s->min.u) s->min.u = v;
  if (v > s->max.u) s->max.u = v;
}

static inline void gfi_stats_add_f(gf_stats *s, double v) {
  if (!s->has_min_max) {
    s->has_min_max = true;
    s->min.f = s->max.f = v;
    return;
  }
  if (gfi_float_less(v, s->min.f)) s->min.f = v;
  if (gfi_float_less(s->max.f, v)) s->max.f = v;
}

/* True for types whose statistics carry min/max. */
static inline bool gfi_type_has_min_max(gf_type_id id) {
  return id != GF_TYPE_NULL && !gfi_type_is_var_width(id) &&
         id != GF_TYPE_FIXED_SIZE_BINARY && id != GF_TYPE_DECIMAL128 &&
         id != GF_TYPE_DECIMAL256;
}

/* Start of buffer i's data, or NULL when absent. */
static inline const uint8_t *gfi_buf(const gf_array *a, int i) {
  return a->buffers[i] ? (const uint8_t *)gf_buffer_data(a->buffers[i])
                       : NULL;
}

/* True when element i (relative to the array's offset) is valid. */
static inline bool gfi_is_valid(const gf_array *a, int64_t i) {
  if (a->type.id == GF_TYPE_NULL) return false;
  const uint8_t *v = gfi_buf(a, 0);
  return !v || gfi_bit_get(v, a->offset + i);
}

/* Bytes of element i of a non-dictionary array: the string/binary bytes, the
 * fixed-size bytes, or the raw bytes of a fixed-width number. NULL with
 * *len = 0 for bool and null types. */
const uint8_t *gfi_value_bytes(const gf_array *a, int64_t i, int64_t *len);

/* Appends element i of `src` (a non-dictionary array whose type is the
 * builder's type, or the value type of a dictionary builder) to `b`; a null
 * element appends a null. For a dictionary builder, *code (may be NULL)
 * receives the code assigned, or -1 for a null. */
gf_status gfi_builder_append_from(gf_builder *b, const gf_array *src,
                                  int64_t i, int32_t *code, gf_error *err);

/* Creates an array whose statistics were already computed (no data pass).
 * Takes the buffers and retains the dictionary like gfi_array_make. */
gf_status gfi_array_make_with_stats(const gf_allocator *a, gf_datatype type,
                                    int64_t length, int64_t null_count,
                                    gf_buffer *buffers[3],
                                    gf_array *dictionary, const gf_stats *st,
                                    gf_array **out, gf_error *err);


#endif /* GF_DATA_BUILDER_INTERNAL_H */
