/*
 * Arrays: lifetime, value access, statistics, zero-copy slicing and
 * logical equality.
 */
#include <math.h>
#include <string.h>

#include "data/builder_internal.h"
#include "data/decimal.h"

/* Releases every buffer still set in `buffers` (3 entries). */
static void release_buffers(gf_buffer *buffers[3]) {
  for (int k = 0; k < 3; k++) {
    if (buffers && buffers[k]) {
      gf_buffer_release(buffers[k]);
      buffers[k] = NULL;
    }
  }
}

/* Allocates the struct and fills everything but the statistics. */
static gf_status array_alloc(const gf_allocator *a, gf_datatype type,
                             int64_t length, int64_t offset,
                             int64_t null_count, gf_buffer *buffers[3],
                             gf_array *dictionary, gf_array **out,
                             gf_error *err) {
  a = gfi_alloc_or_default(a);
  gf_array *arr = gfi_calloc(a, sizeof *arr);
  if (!arr) {
    release_buffers(buffers);
    return GF_OOM(err, "array");
  }
  gfi_ref_init(&arr->ref);
  arr->type = type;
  arr->length = length;
  arr->offset = offset;
  arr->allocator = a;
  for (int k = 0; k < 3; k++) {
    arr->buffers[k] = buffers ? buffers[k] : NULL;
    if (buffers) buffers[k] = NULL;
  }
  if (type.id == GF_TYPE_NULL) {
    null_count = length;
  } else if (null_count < 0) {
    const uint8_t *v = gfi_buf(arr, 0);
    null_count = v ? length - gfi_bitmap_count(v, offset, length) : 0;
  }
  arr->null_count = null_count;
  if (null_count == 0 && arr->buffers[0]) {
    /* The layout promise: no validity bitmap when there are no nulls. */
    gf_buffer_release(arr->buffers[0]);
    arr->buffers[0] = NULL;
  }
  arr->dictionary = dictionary ? gf_array_retain(dictionary) : NULL;
  *out = arr;
  return GF_OK;
}

/* Creates an array owning `buffers`; null_count < 0 means "count the
 * bitmap". A validity buffer is dropped when the array has no nulls.
 * Statistics are computed from the data when the buffers are large enough
 * for length + offset (else the array has no min/max). */
gf_status gfi_array_make(const gf_allocator *a, gf_datatype type,
                         int64_t length, int64_t offset, int64_t null_count,
                         gf_buffer *buffers[3], gf_array *dictionary,
                         gf_array **out, gf_error *err) {
  if (!out || length < 0 || offset < 0) {
    release_buffers(buffers);
    return gf_error_set(err, GF_EINVAL, "gfi_array_make: invalid arguments");
  }
  gf_array *arr = NULL;
  GF_RETURN_NOT_OK(array_alloc(a, type, length, offset, null_count, buffers,
                               dictionary, &arr, err));
  gfi_array_compute_stats(arr);
  *out = arr;
  return GF_OK;
}

/* Like gfi_array_make with offset 0, copying precomputed statistics. */
gf_status gfi_array_make_with_stats(const gf_allocator *a, gf_datatype type,
                                    int64_t length, int64_t null_count,
                                    gf_buffer *buffers[3],
                                    gf_array *dictionary, const gf_stats *st,
                                    gf_array **out, gf_error *err) {
  gf_array *arr = NULL;
  GF_RETURN_NOT_OK(array_alloc(a, type, length, 0, null_count, buffers,
                               dictionary, &arr, err));
  arr->stats = *st;
  arr->stats.null_count = arr->null_count;
  *out = arr;
  return GF_OK;
}

/* Size of buffer i in bytes (0 when absent). */
static size_t buf_size(const gf_array *a, int i) {
  return a->buffers[i] ? gf_buffer_size(a->buffers[i]) : 0;
}

/* Reads element `i` (absolute index) of a signed/temporal/dictionary buffer
 * of width w as int64. */
static inline int64_t read_signed(const uint8_t *d, int w, int64_t i) {
  switch (w) {
    case 1: return ((const int8_t *)d)[i];
    case 2: return ((const int16_t *)d)[i];
    case 4: return ((const int32_t *)d)[i];
    default: return ((const int64_t *)d)[i];
  }
}

static inline uint64_t read_unsigned(const uint8_t *d, int w, int64_t i) {
  switch (w) {
    case 1: return d[i];
    case 2: return ((const uint16_t *)d)[i];
    case 4: return ((const uint32_t *)d)[i];
    default: return ((const uint64_t *)d)[i];
  }
}

static inline bool is_unsigned_id(gf_type_id id) {
  return id >= GF_TYPE_UINT8 && id <= GF_TYPE_UINT64;
}

/* Min/max of the valid elements i in [lo, end) of a typed buffer, as
 * int64 (or uint64 for U): a tight loop per width, with no per-element
 * type dispatch, because every operator output is measured this way. */
#define STATS_MINMAX(T, ACC, ADD)                                          \
  do {                                                                    \
    const T *p_ = (const T *)d;                                           \
    ACC mn_ = 0, mx_ = 0;                                                 \
    bool any_ = false;                                                    \
    if (!v) {                                                             \
      mn_ = mx_ = (ACC)p_[lo];                                            \
      any_ = true;                                                        \
      for (int64_t i = lo + 1; i < end; i++) {                            \
        ACC x_ = (ACC)p_[i];                                              \
        mn_ = x_ < mn_ ? x_ : mn_;                                        \
        mx_ = x_ > mx_ ? x_ : mx_;                                        \
      }                                                                   \
    } else {                                                              \
      for (int64_t i = lo; i < end; i++) {                                \
        if (!gfi_bit_get(v, i)) continue;                                 \
        ACC x_ = (ACC)p_[i];                                              \
        if (!any_) mn_ = mx_ = x_;                                        \
        any_ = true;                                                      \
        mn_ = x_ < mn_ ? x_ : mn_;                                        \
        mx_ = x_ > mx_ ? x_ : mx_;                                        \
      }                                                                   \
    }                                                                     \
    if (any_) {                                                           \
      ADD(s, mn_);                                                        \
      ADD(s, mx_);                                                        \
    }                                                                     \
  } while (0)

/* Order key of a float for the statistics' order (totalOrder, every NaN
 * after +inf): signed int64 compare of the key is that order. */
static inline int64_t stats_float_key(double x) {
  if (isnan(x)) return INT64_MAX;
  int64_t b;
  memcpy(&b, &x, sizeof b);
  return b ^ (int64_t)((uint64_t)(b >> 63) >> 1);
}

/* Min/max of the valid floats in [lo, end): min and max are found by key,
 * then added as the values they came from. */
#define STATS_FLOAT(T)                                                     \
  do {                                                                    \
    const T *p_ = (const T *)d;                                           \
    int64_t kmn_ = INT64_MAX, kmx_ = INT64_MIN, imn_ = -1, imx_ = -1;     \
    for (int64_t i = lo; i < end; i++) {                                  \
      if (v && !gfi_bit_get(v, i)) continue;                              \
      int64_t k_ = stats_float_key((double)p_[i]);                        \
      if (imn_ < 0 || k_ < kmn_) kmn_ = k_, imn_ = i;                     \
      if (imx_ < 0 || k_ > kmx_) kmx_ = k_, imx_ = i;                     \
    }                                                                     \
    if (imn_ >= 0) {                                                      \
      gfi_stats_add_f(s, (double)p_[imn_]);                               \
      gfi_stats_add_f(s, (double)p_[imx_]);                               \
    }                                                                     \
  } while (0)

/* Recomputes a->stats over [offset, offset+length). Skips min/max when the
 * data buffer is too small for the range (corrupt input being validated). */
void gfi_array_compute_stats(gf_array *a) {
  gf_stats *s = &a->stats;
  gfi_stats_reset(s, a->type);
  s->null_count = a->null_count;
  gf_type_id id = a->type.id;
  if (!gfi_type_has_min_max(id) || a->length == 0) return;
  const uint8_t *v = gfi_buf(a, 0);
  const uint8_t *d = gfi_buf(a, 1);
  int64_t lo = a->offset, end = a->offset + a->length;
  if (v && (int64_t)buf_size(a, 0) < gfi_bitmap_bytes(end)) return;
  if (v && a->null_count == 0) v = NULL;
  if (id == GF_TYPE_BOOL) {
    if (!d || (int64_t)buf_size(a, 1) < gfi_bitmap_bytes(end)) return;
    for (int64_t i = lo; i < end; i++)
      if (!v || gfi_bit_get(v, i)) gfi_stats_add_i(s, gfi_bit_get(d, i));
    return;
  }
  int w = gfi_type_byte_width(a->type);
  if (!d || w == 0 || (int64_t)buf_size(a, 1) < end * w) return;
  if (id == GF_TYPE_FLOAT32) {
    STATS_FLOAT(float);
  } else if (id == GF_TYPE_FLOAT64) {
    STATS_FLOAT(double);
  } else if (id == GF_TYPE_UINT64) {
    STATS_MINMAX(uint64_t, uint64_t, gfi_stats_add_u);
  } else if (is_unsigned_id(id)) {
    switch (w) {
      case 1: STATS_MINMAX(uint8_t, int64_t, gfi_stats_add_i); break;
      case 2: STATS_MINMAX(uint16_t, int64_t, gfi_stats_add_i); break;
      default: STATS_MINMAX(uint32_t, int64_t, gfi_stats_add_i); break;
    }
  } else {
    switch (w) {
      case 1: STATS_MINMAX(int8_t, int64_t, gfi_stats_add_i); break;
      case 2: STATS_MINMAX(int16_t, int64_t, gfi_stats_add_i); break;
      case 4: STATS_MINMAX(int32_t, int64_t, gfi_stats_add_i); break;
      default: STATS_MINMAX(int64_t, int64_t, gfi_stats_add_i); break;
    }
  }
}

gf_array *gf_array_retain(gf_array *a) {
  if (a) gfi_ref_inc(&a->ref);
  return a;
}

/* Drops a reference; the last one releases buffers and dictionary. */
void gf_array_release(gf_array *a) {
  if (!a || !gfi_ref_dec(&a->ref)) return;
  release_buffers(a->buffers);
  gf_array_release(a->dictionary);
  gfi_mfree(a->allocator, a, sizeof *a);
}

gf_datatype gf_array_type(const gf_array *a) { return a->type; }
int64_t gf_array_length(const gf_array *a) { return a ? a->length : 0; }
int64_t gf_array_null_count(const gf_array *a) {
  return a ? a->null_count : 0;
}
const gf_stats *gf_array_stats(const gf_array *a) { return &a->stats; }
const gf_array *gf_array_dictionary(const gf_array *a) {
  return a && a->type.id == GF_TYPE_DICTIONARY ? a->dictionary : NULL;
}

bool gf_array_is_null(const gf_array *a, int64_t i) {
  return !gfi_is_valid(a, i);
}

/* Value as int64: integers (uint64 wraps), temporal, bool, dictionary code,
 * floats and decimal128 truncated toward zero (0 when NaN or out of range). A null slot
 * reads as whatever its storage holds (0 for arrays built here). */
int64_t gf_array_get_int64(const gf_array *a, int64_t i) {
  const uint8_t *d = gfi_buf(a, 1);
  int64_t k = a->offset + i;
  gf_type_id id = a->type.id;
  if (!d) return 0;
  switch (id) {
    case GF_TYPE_BOOL:
      return gfi_bit_get(d, k);
    case GF_TYPE_FLOAT32:
    case GF_TYPE_FLOAT64: {
      double x = id == GF_TYPE_FLOAT32 ? ((const float *)d)[k]
                                       : ((const double *)d)[k];
      if (!(x > -9223372036854775808.0 && x < 9223372036854775808.0)) return 0;
      return (int64_t)x;
    }
    case GF_TYPE_DECIMAL128: {
      /* The integral part, truncated toward zero; 0 when out of range. */
      gfi_i128 v = gfi_dec_div_pow10(gfi_dec_load(d + 16 * k), a->type.scale);
      if (v > INT64_MAX || v < INT64_MIN) return 0;
      return (int64_t)v;
    }
    default: {
      int w = gfi_type_byte_width(a->type);
      if (w == 0 || gfi_type_is_var_width(id) || id == GF_TYPE_DECIMAL256 ||
          id == GF_TYPE_FIXED_SIZE_BINARY)
        return 0;
      if (is_unsigned_id(id)) return (int64_t)read_unsigned(d, w, k);
      return read_signed(d, w, k);
    }
  }
}

/* Value as uint64: unsigned integers exactly, others converted from int64
 * (negative values wrap) or from double (0 when negative/NaN/too large). */
uint64_t gf_array_get_uint64(const gf_array *a, int64_t i) {
  gf_type_id id = a->type.id;
  const uint8_t *d = gfi_buf(a, 1);
  if (!d) return 0;
  if (is_unsigned_id(id))
    return read_unsigned(d, gfi_type_byte_width(a->type), a->offset + i);
  if (id == GF_TYPE_FLOAT32 || id == GF_TYPE_FLOAT64) {
    double x = gf_array_get_double(a, i);
    if (!(x >= 0 && x < 18446744073709551616.0)) return 0;
    return (uint64_t)x;
  }
  return (uint64_t)gf_array_get_int64(a, i);
}

/* Any numeric, temporal, bool or dictionary-code value as double. */
double gf_array_get_double(const gf_array *a, int64_t i) {
  const uint8_t *d = gfi_buf(a, 1);
  int64_t k = a->offset + i;
  if (!d) return 0.0;
  switch (a->type.id) {
    case GF_TYPE_FLOAT32: return ((const float *)d)[k];
    case GF_TYPE_FLOAT64: return ((const double *)d)[k];
    case GF_TYPE_UINT64: return (double)((const uint64_t *)d)[k];
    case GF_TYPE_DECIMAL128:
      return gfi_dec_to_double(gfi_dec_load(d + 16 * k), a->type.scale);
    default: return (double)gf_array_get_int64(a, i);
  }
}

/* Unscaled decimal128 value at i; zero for other types. */
gf_decimal128 gf_array_get_decimal128(const gf_array *a, int64_t i) {
  const uint8_t *d = a ? gfi_buf(a, 1) : NULL;
  if (!d || a->type.id != GF_TYPE_DECIMAL128) return gfi_dec_to_pub(0);
  return gfi_dec_to_pub(gfi_dec_load(d + 16 * (a->offset + i)));
}

/* Bool value; for other types, whether the value is non-zero. */
bool gf_array_get_bool(const gf_array *a, int64_t i) {
  if (a->type.id == GF_TYPE_BOOL) {
    const uint8_t *d = gfi_buf(a, 1);
    return d && gfi_bit_get(d, a->offset + i);
  }
  if (a->type.id == GF_TYPE_FLOAT32 || a->type.id == GF_TYPE_FLOAT64)
    return gf_array_get_double(a, i) != 0.0;
  if (a->type.id == GF_TYPE_DECIMAL128) {
    gf_decimal128 d = gf_array_get_decimal128(a, i);
    return d.lo != 0 || d.hi != 0;
  }
  return gf_array_get_uint64(a, i) != 0;
}

const uint8_t *gfi_value_bytes(const gf_array *a, int64_t i, int64_t *len) {
  const uint8_t *d = gfi_buf(a, 1);
  int64_t k = a->offset + i;
  gf_type_id id = a->type.id;
  *len = 0;
  if (!d || id == GF_TYPE_NULL || id == GF_TYPE_BOOL) return NULL;
  if (gfi_type_is_var_width(id)) {
    int64_t s, e;
    if (gfi_type_is_large(id)) {
      s = ((const int64_t *)d)[k];
      e = ((const int64_t *)d)[k + 1];
    } else {
      s = ((const int32_t *)d)[k];
      e = ((const int32_t *)d)[k + 1];
    }
    const uint8_t *bytes = gfi_buf(a, 2);
    *len = e - s;
    /* An empty data buffer may be absent; hand out a valid pointer. */
    return bytes ? bytes + s : (const uint8_t *)"";
  }
  int w = gfi_type_byte_width(a->type);
  *len = w;
  return d + k * w;
}

/* Bytes of a utf8/binary/fixed-size (or any fixed-width) value; for a
 * dictionary array the dictionary value its code points to. NULL and
 * *len = 0 for a null slot of a dictionary array. */
const char *gf_array_get_bytes(const gf_array *a, int64_t i, int64_t *len) {
  int64_t dummy;
  if (!len) len = &dummy;
  if (a->type.id == GF_TYPE_DICTIONARY) {
    *len = 0;
    if (!gfi_is_valid(a, i) || !a->dictionary) return NULL;
    int64_t code = gf_array_get_int64(a, i);
    if (code < 0 || code >= a->dictionary->length) return NULL;
    return gf_array_get_bytes(a->dictionary, code, len);
  }
  return (const char *)gfi_value_bytes(a, i, len);
}

const void *gf_array_buffer(const gf_array *a, int index) {
  if (!a || index < 0 || index > 2) return NULL;
  return gfi_buf(a, index);
}

int64_t gf_array_offset(const gf_array *a) { return a ? a->offset : 0; }

/* Zero-copy slice sharing the buffers; the null count and statistics are
 * recomputed over the slice, and a bitmap with no nulls in range is not
 * carried over. */
gf_status gf_array_slice(const gf_array *a, int64_t offset, int64_t length,
                         gf_array **out, gf_error *err) {
  if (!a || !out)
    return gf_error_set(err, GF_EINVAL, "gf_array_slice: NULL argument");
  if (offset < 0 || length < 0 || offset > a->length ||
      length > a->length - offset)
    return gf_error_set(err, GF_EINVAL,
                        "slice [%lld, %lld) out of bounds of an array of "
                        "length %lld",
                        (long long)offset, (long long)offset + length,
                        (long long)a->length);
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  for (int k = 0; k < 3; k++)
    if (a->buffers[k]) bufs[k] = gf_buffer_retain(a->buffers[k]);
  int64_t nulls = -1;
  if (a->null_count == 0 || length == 0) nulls = 0;
  if (a->type.id == GF_TYPE_NULL) nulls = length;
  return gfi_array_make(a->allocator, a->type, length, a->offset + offset,
                        nulls, bufs, a->dictionary, out, err);
}

/* Logical equality of element ia of a and ib of b (same non-dictionary
 * type, both valid). Floats compare bitwise. */
static bool value_equals(const gf_array *a, int64_t ia, const gf_array *b,
                         int64_t ib) {
  if (a->type.id == GF_TYPE_BOOL)
    return gf_array_get_bool(a, ia) == gf_array_get_bool(b, ib);
  int64_t la, lb;
  const uint8_t *pa = gfi_value_bytes(a, ia, &la);
  const uint8_t *pb = gfi_value_bytes(b, ib, &lb);
  return la == lb && (la == 0 || memcmp(pa, pb, (size_t)la) == 0);
}

/* Equality of element ia of a and ib of b, both valid, dictionary codes
 * resolved to their values. */
static bool element_equals(const gf_array *a, int64_t ia, const gf_array *b,
                           int64_t ib) {
  if (a->type.id != GF_TYPE_DICTIONARY) return value_equals(a, ia, b, ib);
  int64_t ca = gf_array_get_int64(a, ia), cb = gf_array_get_int64(b, ib);
  if (a->dictionary == b->dictionary && ca == cb) return true;
  const gf_array *da = a->dictionary, *db = b->dictionary;
  if (!da || !db || ca < 0 || cb < 0 || ca >= da->length || cb >= db->length)
    return false;
  bool va = gfi_is_valid(da, ca), vb = gfi_is_valid(db, cb);
  if (va != vb) return false;
  return !va || value_equals(da, ca, db, cb);
}

/* Same type, length, null positions and values (dictionary arrays compare
 * by value, whatever their dictionaries; floats bitwise). */
bool gf_array_equals(const gf_array *a, const gf_array *b) {
  if (a == b) return true;
  if (!a || !b) return false;
  if (!gf_type_equals(a->type, b->type) || a->length != b->length ||
      a->null_count != b->null_count)
    return false;
  if (a->type.id == GF_TYPE_NULL) return true;
  for (int64_t i = 0; i < a->length; i++) {
    bool va = gfi_is_valid(a, i), vb = gfi_is_valid(b, i);
    if (va != vb) return false;
    if (va && !element_equals(a, i, b, i)) return false;
  }
  return true;
}

