/*
 * Builders: append values of one type into growing, zero-initialised
 * buffers (so null slots and padding stay zero), keep the statistics up to
 * date, and hand the buffers to an immutable array on finish. Dictionary
 * builders keep a hash map value -> int32 code over a nested builder that
 * holds the distinct values.
 */
#include <float.h>
#include <limits.h>
#include <string.h>

#include "core/hash.h"
#include "data/builder_internal.h"
#include "data/decimal.h"

/* One slot of the dictionary hash map; code -1 marks an empty slot. */
typedef struct dict_slot {
  uint64_t hash;
  int32_t code;
} dict_slot;

struct gf_builder {
  gf_datatype type;
  const gf_allocator *alloc;
  int64_t length;
  int64_t null_count;
  int64_t cap;        /* elements the data (and validity) buffers can hold */
  gf_buffer *validity; /* created at the first null */
  gf_buffer *data;     /* values, bits, offsets or codes */
  gf_buffer *bytes;    /* variable-width bytes */
  int64_t bytes_len;
  gf_stats stats;
  /* dictionary builders only */
  gf_builder *values;
  dict_slot *slots;
  int64_t slot_cap; /* power of two, 0 before the first value */
  int64_t slot_count;
};

/* The kinds of value the append functions accept. */
typedef enum val_kind { VK_INT, VK_UINT, VK_DOUBLE, VK_BOOL, VK_BYTES } val_kind;

typedef struct val {
  val_kind kind;
  int64_t i;
  uint64_t u;
  double f;
  bool b;
  const void *p;
  int64_t len;
} val;

static const char *kind_name(val_kind k) {
  switch (k) {
    case VK_INT: return "an int64";
    case VK_UINT: return "a uint64";
    case VK_DOUBLE: return "a double";
    case VK_BOOL: return "a bool";
    case VK_BYTES: return "bytes";
  }
  return "?";
}

static size_t offset_size(gf_type_id id) {
  return gfi_type_is_large(id) ? 8 : 4;
}

/* Bytes the data buffer needs for `n` elements. */
static size_t data_bytes_for(const gf_builder *b, int64_t n) {
  gf_type_id id = b->type.id;
  if (id == GF_TYPE_BOOL) return (size_t)gfi_bitmap_bytes(n);
  if (gfi_type_is_var_width(id)) return (size_t)(n + 1) * offset_size(id);
  return (size_t)n * (size_t)gfi_type_byte_width(b->type);
}

static uint8_t *mdata(gf_buffer *buf) {
  return (uint8_t *)gf_buffer_mutable_data(buf);
}

/* Grows (or creates) `*buf` to hold at least `size` bytes. */
static gf_status grow_buffer(const gf_allocator *a, gf_buffer **buf,
                             size_t size) {
  if (!*buf) return gfi_buffer_alloc(a, size, buf);
  if (gf_buffer_size(*buf) >= size) return GF_OK;
  return gfi_buffer_resize(*buf, size);
}

/* Makes room for `n` elements in total, growing geometrically. */
static gf_status ensure_capacity(gf_builder *b, int64_t n, gf_error *err) {
  if (n <= b->cap) return GF_OK;
  if (b->type.id == GF_TYPE_NULL) {
    b->cap = n;
    return GF_OK;
  }
  int64_t cap = (int64_t)gfi_grow_capacity((size_t)b->cap, (size_t)n, 32);
  if (grow_buffer(b->alloc, &b->data, data_bytes_for(b, cap)) != GF_OK)
    return GF_OOM(err, "builder data");
  if (b->validity &&
      grow_buffer(b->alloc, &b->validity, (size_t)gfi_bitmap_bytes(cap)) !=
          GF_OK)
    return GF_OOM(err, "builder validity");
  b->cap = cap;
  return GF_OK;
}

/* Makes room for `n` variable-width bytes in total. */
static gf_status ensure_bytes(gf_builder *b, int64_t n, gf_error *err) {
  size_t have = b->bytes ? gf_buffer_size(b->bytes) : 0;
  if ((size_t)n <= have && b->bytes) return GF_OK;
  size_t want = gfi_grow_capacity(have, (size_t)n, 256);
  if (grow_buffer(b->alloc, &b->bytes, want) != GF_OK)
    return GF_OOM(err, "builder string data");
  return GF_OK;
}

/* Resets the builder to empty, dropping its buffer references (buffers
 * already handed to an array live on there). */
static void builder_reset(gf_builder *b) {
  gf_buffer_release(b->validity);
  gf_buffer_release(b->data);
  gf_buffer_release(b->bytes);
  b->validity = b->data = b->bytes = NULL;
  b->length = b->null_count = b->cap = b->bytes_len = 0;
  gfi_stats_reset(&b->stats, b->type);
  if (b->slots) {
    gfi_mfree(b->alloc, b->slots, sizeof(dict_slot) * (size_t)b->slot_cap);
    b->slots = NULL;
  }
  b->slot_cap = b->slot_count = 0;
  if (b->values) builder_reset(b->values);
}

/* Creates an empty builder for a valid `type`. */
gf_status gf_builder_new(gf_datatype type, const gf_allocator *alloc,
                         gf_builder **out, gf_error *err) {
  if (!out) return gf_error_set(err, GF_EINVAL, "gf_builder_new: NULL out");
  GF_RETURN_NOT_OK(gf_type_validate(type, err));
  alloc = gfi_alloc_or_default(alloc);
  gf_builder *b = gfi_calloc(alloc, sizeof *b);
  if (!b) return GF_OOM(err, "builder");
  b->type = type;
  b->alloc = alloc;
  gfi_stats_reset(&b->stats, type);
  if (type.id == GF_TYPE_DICTIONARY) {
    gf_status st = gf_builder_new(gf_type_value(type), alloc, &b->values, err);
    if (st != GF_OK) {
      gfi_mfree(alloc, b, sizeof *b);
      return st;
    }
  }
  *out = b;
  return GF_OK;
}

void gf_builder_free(gf_builder *b) {
  if (!b) return;
  builder_reset(b);
  gf_builder_free(b->values);
  gfi_mfree(b->alloc, b, sizeof *b);
}

/* Reserves room for `additional` values and `bytes` more data bytes (the
 * latter for variable-width types; for dictionaries it goes to the values). */
gf_status gf_builder_reserve(gf_builder *b, int64_t additional, int64_t bytes,
                             gf_error *err) {
  if (!b || additional < 0 || bytes < 0)
    return gf_error_set(err, GF_EINVAL, "gf_builder_reserve: bad arguments");
  if (additional > INT64_MAX - b->length)
    return gf_error_set(err, GF_ERANGE, "builder length overflow");
  GF_RETURN_NOT_OK(ensure_capacity(b, b->length + additional, err));
  if (gfi_type_is_var_width(b->type.id) && bytes > 0)
    GF_RETURN_NOT_OK(ensure_bytes(b, b->bytes_len + bytes, err));
  if (b->values && bytes > 0)
    return gf_builder_reserve(b->values, 0, bytes, err);
  return GF_OK;
}

int64_t gf_builder_length(const gf_builder *b) { return b ? b->length : 0; }

/* Creates the validity bitmap at the first null: every earlier slot valid. */
static gf_status materialize_validity(gf_builder *b, gf_error *err) {
  if (b->validity) return GF_OK;
  int64_t cap = b->cap > b->length ? b->cap : b->length + 1;
  if (gfi_buffer_alloc(b->alloc, (size_t)gfi_bitmap_bytes(cap), &b->validity) !=
      GF_OK)
    return GF_OOM(err, "builder validity");
  gfi_bitmap_set_range(mdata(b->validity), 0, b->length);
  return GF_OK;
}

/* Appends a null: the slot's storage stays zero (var-width: empty). */
gf_status gf_builder_append_null(gf_builder *b, gf_error *err) {
  if (!b) return gf_error_set(err, GF_EINVAL, "NULL builder");
  GF_RETURN_NOT_OK(ensure_capacity(b, b->length + 1, err));
  if (b->type.id != GF_TYPE_NULL) {
    GF_RETURN_NOT_OK(materialize_validity(b, err));
    if (gfi_type_is_var_width(b->type.id)) {
      uint8_t *d = mdata(b->data);
      if (gfi_type_is_large(b->type.id))
        ((int64_t *)d)[b->length + 1] = b->bytes_len;
      else
        ((int32_t *)d)[b->length + 1] = (int32_t)b->bytes_len;
    }
  }
  b->length++;
  b->null_count++;
  b->stats.null_count = b->null_count;
  return GF_OK;
}

/* Marks slot `length` valid (when a bitmap exists) and counts it. */
static void commit_valid(gf_builder *b) {
  if (b->validity) gfi_bit_set(mdata(b->validity), b->length);
  b->length++;
}

static gf_status out_of_range(gf_builder *b, const val *v, gf_error *err) {
  char tn[64];
  gf_type_format(b->type, tn, sizeof tn);
  if (v->kind == VK_UINT)
    return gf_error_set(err, GF_ERANGE, "value %llu out of range for %s",
                        (unsigned long long)v->u, tn);
  if (v->kind == VK_DOUBLE)
    return gf_error_set(err, GF_ERANGE, "value %g out of range for %s", v->f,
                        tn);
  return gf_error_set(err, GF_ERANGE, "value %lld out of range for %s",
                      (long long)v->i, tn);
}

static gf_status wrong_kind(gf_builder *b, val_kind k, gf_error *err) {
  char tn[64];
  gf_type_format(b->type, tn, sizeof tn);
  return gf_error_set(err, GF_ETYPE, "cannot append %s to a %s builder",
                      kind_name(k), tn);
}

/* Appends an integer given as int64 (VK_INT) or uint64 (VK_UINT) to an
 * integer, temporal or bool builder, checking the target's range. */
static gf_status append_integer(gf_builder *b, const val *v, gf_error *err) {
  gf_type_id id = b->type.id;
  bool neg = v->kind == VK_INT && v->i < 0;
  /* Magnitude as uint64 for the range checks. */
  uint64_t mag = v->kind == VK_UINT ? v->u
                 : neg ? (uint64_t)(-(v->i + 1)) + 1u
                       : (uint64_t)v->i;
  int w = gfi_type_byte_width(b->type);
  if (id == GF_TYPE_BOOL) {
    if (neg || mag > 1) return out_of_range(b, v, err);
  } else if (id >= GF_TYPE_UINT8 && id <= GF_TYPE_UINT64) {
    uint64_t max = w == 8 ? UINT64_MAX : (UINT64_C(1) << (w * 8)) - 1;
    if (neg || mag > max) return out_of_range(b, v, err);
  } else {
    /* signed integers and temporal values */
    uint64_t pmax = (UINT64_C(1) << (w * 8 - 1)) - 1;
    if (neg ? mag > pmax + 1 : mag > pmax) return out_of_range(b, v, err);
  }
  GF_RETURN_NOT_OK(ensure_capacity(b, b->length + 1, err));
  uint8_t *d = mdata(b->data);
  int64_t k = b->length;
  if (id == GF_TYPE_BOOL) {
    if (mag) gfi_bit_set(d, k);
    gfi_stats_add_i(&b->stats, (int64_t)mag);
  } else if (id == GF_TYPE_UINT64) {
    ((uint64_t *)d)[k] = mag;
    gfi_stats_add_u(&b->stats, mag);
  } else {
    int64_t s = neg ? v->i : (int64_t)mag;
    switch (w) {
      case 1: d[k] = (uint8_t)s; break;
      case 2: ((uint16_t *)d)[k] = (uint16_t)s; break;
      case 4: ((uint32_t *)d)[k] = (uint32_t)s; break;
      default: ((int64_t *)d)[k] = s; break;
    }
    gfi_stats_add_i(&b->stats, s);
  }
  commit_valid(b);
  return GF_OK;
}

/* float32/float64; a finite double too large for float32 is GF_ERANGE. */
static gf_status append_float(gf_builder *b, const val *v, gf_error *err) {
  float f32 = 0.0f;
  if (b->type.id == GF_TYPE_FLOAT32) {
    f32 = (float)v->f;
    if (isinf(f32) && !isinf(v->f)) return out_of_range(b, v, err);
  }
  GF_RETURN_NOT_OK(ensure_capacity(b, b->length + 1, err));
  uint8_t *d = mdata(b->data);
  if (b->type.id == GF_TYPE_FLOAT32) {
    ((float *)d)[b->length] = f32;
    gfi_stats_add_f(&b->stats, f32);
  } else {
    ((double *)d)[b->length] = v->f;
    gfi_stats_add_f(&b->stats, v->f);
  }
  commit_valid(b);
  return GF_OK;
}

/* utf8/binary (offsets + bytes) and fixed_size_binary. */
static gf_status append_bytes_value(gf_builder *b, const val *v,
                                    gf_error *err) {
  gf_type_id id = b->type.id;
  if (v->len < 0 || (v->len > 0 && !v->p))
    return gf_error_set(err, GF_EINVAL, "invalid byte string (len %lld)",
                        (long long)v->len);
  if (gfi_is_decimal(id)) {
    int w = gfi_type_byte_width(b->type);
    if (v->len != w)
      return gf_error_set(err, GF_EINVAL,
                          "%s value must have %d bytes, got %lld",
                          gf_type_id_name(id), w, (long long)v->len);
    if (id == GF_TYPE_DECIMAL128 &&
        !gfi_dec_fits(gfi_dec_load(v->p), b->type.precision)) {
      char tn[64], txt[GFI_DEC128_TEXT_MAX];
      gf_type_format(b->type, tn, sizeof tn);
      gfi_dec128_format(gfi_dec_load(v->p), b->type.scale, txt);
      return gf_error_set(err, GF_ERANGE,
                          "value %s has more digits than %s allows", txt, tn);
    }
    GF_RETURN_NOT_OK(ensure_capacity(b, b->length + 1, err));
    memcpy(mdata(b->data) + b->length * v->len, v->p, (size_t)v->len);
    commit_valid(b);
    return GF_OK;
  }
  if (id == GF_TYPE_FIXED_SIZE_BINARY) {
    if (v->len != b->type.byte_width)
      return gf_error_set(err, GF_EINVAL,
                          "fixed_size_binary[%d] value must have %d bytes, "
                          "got %lld",
                          (int)b->type.byte_width, (int)b->type.byte_width,
                          (long long)v->len);
    GF_RETURN_NOT_OK(ensure_capacity(b, b->length + 1, err));
    memcpy(mdata(b->data) + b->length * v->len, v->p, (size_t)v->len);
    commit_valid(b);
    return GF_OK;
  }
  bool large = gfi_type_is_large(id);
  if (v->len > INT64_MAX - b->bytes_len ||
      (!large && b->bytes_len + v->len > INT32_MAX))
    return gf_error_set(err, GF_ERANGE,
                        "%s data would exceed 2 GiB; use the large_ variant",
                        gf_type_id_name(id));
  GF_RETURN_NOT_OK(ensure_capacity(b, b->length + 1, err));
  GF_RETURN_NOT_OK(ensure_bytes(b, b->bytes_len + v->len, err));
  if (v->len > 0)
    memcpy(mdata(b->bytes) + b->bytes_len, v->p, (size_t)v->len);
  b->bytes_len += v->len;
  uint8_t *d = mdata(b->data);
  if (large)
    ((int64_t *)d)[b->length + 1] = b->bytes_len;
  else
    ((int32_t *)d)[b->length + 1] = (int32_t)b->bytes_len;
  commit_valid(b);
  return GF_OK;
}

static gf_status dict_append(gf_builder *b, const val *v, gf_error *err);

/* Appends one value of kind v->kind, dispatching on the builder's type. */
static gf_status append_value(gf_builder *b, const val *v, gf_error *err) {
  if (!b) return gf_error_set(err, GF_EINVAL, "NULL builder");
  gf_type_id id = b->type.id;
  if (id == GF_TYPE_DICTIONARY) return dict_append(b, v, err);
  switch (v->kind) {
    case VK_INT:
    case VK_UINT:
      if (id == GF_TYPE_NULL || id == GF_TYPE_FLOAT32 ||
          id == GF_TYPE_FLOAT64 || gfi_type_is_var_width(id) ||
          id == GF_TYPE_FIXED_SIZE_BINARY || gfi_is_decimal(id))
        return wrong_kind(b, v->kind, err);
      return append_integer(b, v, err);
    case VK_BOOL:
      if (id != GF_TYPE_BOOL) return wrong_kind(b, v->kind, err);
      {
        val iv = *v;
        iv.kind = VK_INT;
        iv.i = v->b ? 1 : 0;
        return append_integer(b, &iv, err);
      }
    case VK_DOUBLE:
      if (id != GF_TYPE_FLOAT32 && id != GF_TYPE_FLOAT64)
        return wrong_kind(b, v->kind, err);
      return append_float(b, v, err);
    case VK_BYTES:
      if (!gfi_type_is_var_width(id) && id != GF_TYPE_FIXED_SIZE_BINARY &&
          !gfi_is_decimal(id))
        return wrong_kind(b, v->kind, err);
      return append_bytes_value(b, v, err);
  }
  return wrong_kind(b, v->kind, err);
}

/* Bytes of element `c` of a (non-dictionary) builder, for hashing and
 * comparing dictionary values; bool values are written to *tmp. */
static const uint8_t *builder_elem(const gf_builder *b, int64_t c,
                                   int64_t *len, uint8_t *tmp) {
  const uint8_t *d = (const uint8_t *)gf_buffer_data(b->data);
  gf_type_id id = b->type.id;
  if (id == GF_TYPE_BOOL) {
    *tmp = gfi_bit_get(d, c);
    *len = 1;
    return tmp;
  }
  if (gfi_type_is_var_width(id)) {
    int64_t s, e;
    if (gfi_type_is_large(id)) {
      s = ((const int64_t *)d)[c];
      e = ((const int64_t *)d)[c + 1];
    } else {
      s = ((const int32_t *)d)[c];
      e = ((const int32_t *)d)[c + 1];
    }
    *len = e - s;
    return b->bytes ? (const uint8_t *)gf_buffer_data(b->bytes) + s
                    : (const uint8_t *)"";
  }
  int w = gfi_type_byte_width(b->type);
  *len = w;
  return d + c * w;
}

/* Removes the last (valid) element of a non-dictionary builder, zeroing its
 * storage again. Min/max are untouched: only duplicates are popped. */
static void builder_pop(gf_builder *b) {
  int64_t k = --b->length;
  uint8_t *d = mdata(b->data);
  gf_type_id id = b->type.id;
  if (b->validity) gfi_bit_clear(mdata(b->validity), k);
  if (id == GF_TYPE_BOOL) {
    gfi_bit_clear(d, k);
  } else if (gfi_type_is_var_width(id)) {
    int64_t s = gfi_type_is_large(id) ? ((int64_t *)d)[k]
                                      : ((int32_t *)d)[k];
    memset(mdata(b->bytes) + s, 0, (size_t)(b->bytes_len - s));
    b->bytes_len = s;
    if (gfi_type_is_large(id))
      ((int64_t *)d)[k + 1] = 0;
    else
      ((int32_t *)d)[k + 1] = 0;
  } else {
    int w = gfi_type_byte_width(b->type);
    memset(d + k * w, 0, (size_t)w);
  }
}

/* Doubles the hash map (or creates it) and reinserts the stored hashes. */
static gf_status dict_grow(gf_builder *b, gf_error *err) {
  int64_t ncap = b->slot_cap ? b->slot_cap * 2 : 64;
  dict_slot *ns = gfi_malloc(b->alloc, sizeof(dict_slot) * (size_t)ncap);
  if (!ns) return GF_OOM(err, "dictionary hash table");
  for (int64_t i = 0; i < ncap; i++) ns[i].code = -1;
  for (int64_t i = 0; i < b->slot_cap; i++) {
    if (b->slots[i].code < 0) continue;
    uint64_t p = b->slots[i].hash & (uint64_t)(ncap - 1);
    while (ns[p].code >= 0) p = (p + 1) & (uint64_t)(ncap - 1);
    ns[p] = b->slots[i];
  }
  if (b->slots)
    gfi_mfree(b->alloc, b->slots, sizeof(dict_slot) * (size_t)b->slot_cap);
  b->slots = ns;
  b->slot_cap = ncap;
  return GF_OK;
}

/* Code of the value (p, len) with hash h in the dictionary, or -1. */
static int32_t dict_find(const gf_builder *b, uint64_t h, const uint8_t *p,
                         int64_t len) {
  if (!b->slot_cap) return -1;
  uint8_t tmp;
  uint64_t mask = (uint64_t)(b->slot_cap - 1);
  for (uint64_t s = h & mask; b->slots[s].code >= 0; s = (s + 1) & mask) {
    if (b->slots[s].hash != h) continue;
    int64_t l2;
    const uint8_t *q = builder_elem(b->values, b->slots[s].code, &l2, &tmp);
    if (l2 == len && (len == 0 || memcmp(p, q, (size_t)len) == 0))
      return b->slots[s].code;
  }
  return -1;
}

/* Records code `code` (the values builder's last element) under hash h;
 * the map must have room (see dict_grow). */
static void dict_insert(gf_builder *b, uint64_t h, int32_t code) {
  uint64_t mask = (uint64_t)(b->slot_cap - 1);
  uint64_t s = h & mask;
  while (b->slots[s].code >= 0) s = (s + 1) & mask;
  b->slots[s].hash = h;
  b->slots[s].code = code;
  b->slot_count++;
}

/* Writes a valid code into the codes buffer (capacity already ensured). */
static void dict_put_code(gf_builder *b, int32_t code) {
  ((int32_t *)mdata(b->data))[b->length] = code;
  gfi_stats_add_i(&b->stats, code);
  commit_valid(b);
}

/* Adds a value to a dictionary builder. Strings and binary are looked up
 * straight from the caller's bytes; other values are appended to the values
 * builder first (which does the type and range checks and gives the stored
 * representation), looked up, and popped again when already present. */
static gf_status dict_append(gf_builder *b, const val *v, gf_error *err) {
  gf_builder *vb = b->values;
  GF_RETURN_NOT_OK(ensure_capacity(b, b->length + 1, err));
  if (vb->length >= INT32_MAX)
    return gf_error_set(err, GF_ERANGE, "dictionary has too many values");
  if ((b->slot_count + 1) * 2 > b->slot_cap)
    GF_RETURN_NOT_OK(dict_grow(b, err));
  if (v->kind == VK_BYTES && gfi_type_is_var_width(vb->type.id) &&
      v->len >= 0 && (v->p || v->len == 0)) {
    uint64_t h = gfi_hash_bytes(v->p, (size_t)v->len);
    int32_t code = dict_find(b, h, v->p, v->len);
    if (code < 0) {
      GF_RETURN_NOT_OK(append_value(vb, v, err));
      code = (int32_t)(vb->length - 1);
      dict_insert(b, h, code);
    }
    dict_put_code(b, code);
    return GF_OK;
  }
  GF_RETURN_NOT_OK(append_value(vb, v, err));
  int64_t last = vb->length - 1;
  uint8_t tmp;
  int64_t len;
  const uint8_t *p = builder_elem(vb, last, &len, &tmp);
  uint64_t h = gfi_hash_bytes(p, (size_t)len);
  int32_t code = dict_find(b, h, p, len);
  if (code >= 0 && code != last) {
    builder_pop(vb);
  } else {
    code = (int32_t)last;
    dict_insert(b, h, code);
  }
  dict_put_code(b, code);
  return GF_OK;
}

/* True for the types stored as plain int64 (no range check needed). */
static inline bool is_int64_storage(gf_type_id id) {
  return id == GF_TYPE_INT64 || id == GF_TYPE_DATE64 || id == GF_TYPE_TIME64 ||
         id == GF_TYPE_TIMESTAMP || id == GF_TYPE_DURATION;
}

gf_status gf_builder_append_int64(gf_builder *b, int64_t v, gf_error *err) {
  /* Fast path for the common case: room left, no conversion. */
  if (b && b->length < b->cap && is_int64_storage(b->type.id)) {
    ((int64_t *)mdata(b->data))[b->length] = v;
    gfi_stats_add_i(&b->stats, v);
    commit_valid(b);
    return GF_OK;
  }
  val x = {.kind = VK_INT, .i = v};
  return append_value(b, &x, err);
}

gf_status gf_builder_append_uint64(gf_builder *b, uint64_t v, gf_error *err) {
  val x = {.kind = VK_UINT, .u = v};
  return append_value(b, &x, err);
}

gf_status gf_builder_append_double(gf_builder *b, double v, gf_error *err) {
  if (b && b->length < b->cap && b->type.id == GF_TYPE_FLOAT64) {
    ((double *)mdata(b->data))[b->length] = v;
    gfi_stats_add_f(&b->stats, v);
    commit_valid(b);
    return GF_OK;
  }
  val x = {.kind = VK_DOUBLE, .f = v};
  return append_value(b, &x, err);
}

gf_status gf_builder_append_bool(gf_builder *b, bool v, gf_error *err) {
  val x = {.kind = VK_BOOL, .b = v};
  return append_value(b, &x, err);
}

/* decimal128 (or a dictionary over decimal128): the 16 raw bytes. */
gf_status gf_builder_append_decimal128(gf_builder *b, gf_decimal128 v,
                                       gf_error *err) {
  if (!b) return gf_error_set(err, GF_EINVAL, "NULL builder");
  if (gf_type_value(b->type).id != GF_TYPE_DECIMAL128) {
    char tn[64];
    gf_type_format(b->type, tn, sizeof tn);
    return gf_error_set(err, GF_ETYPE,
                        "cannot append a decimal128 to a %s builder", tn);
  }
  uint8_t raw[16];
  gfi_dec_store(raw, gfi_dec_from_pub(v));
  val x = {.kind = VK_BYTES, .p = raw, .len = 16};
  return append_value(b, &x, err);
}

gf_status gf_builder_append_bytes(gf_builder *b, const void *data, int64_t len,
                                  gf_error *err) {
  val x = {.kind = VK_BYTES, .p = data, .len = len};
  return append_value(b, &x, err);
}

gf_status gf_builder_append_string(gf_builder *b, const char *s,
                                   gf_error *err) {
  if (!s) return gf_error_set(err, GF_EINVAL, "NULL string");
  return gf_builder_append_bytes(b, s, (int64_t)strlen(s), err);
}

gf_status gfi_builder_append_from(gf_builder *b, const gf_array *src,
                                  int64_t i, int32_t *code, gf_error *err) {
  if (code) *code = -1;
  if (!gfi_is_valid(src, i)) return gf_builder_append_null(b, err);
  val x;
  memset(&x, 0, sizeof x);
  gf_type_id id = src->type.id;
  if (id == GF_TYPE_BOOL) {
    x.kind = VK_BOOL;
    x.b = gf_array_get_bool(src, i);
  } else if (id == GF_TYPE_FLOAT32 || id == GF_TYPE_FLOAT64) {
    x.kind = VK_DOUBLE;
    x.f = gf_array_get_double(src, i);
  } else if (id >= GF_TYPE_UINT8 && id <= GF_TYPE_UINT64) {
    x.kind = VK_UINT;
    x.u = gf_array_get_uint64(src, i);
  } else if (gfi_type_is_var_width(id) || id == GF_TYPE_FIXED_SIZE_BINARY ||
             gfi_is_decimal(id)) {
    x.kind = VK_BYTES;
    x.p = gfi_value_bytes(src, i, &x.len);
  } else if (id == GF_TYPE_NULL || id == GF_TYPE_DICTIONARY) {
    return gf_error_set(err, GF_ETYPE, "cannot copy a %s value",
                        gf_type_id_name(id));
  } else {
    x.kind = VK_INT;
    x.i = gf_array_get_int64(src, i);
  }
  GF_RETURN_NOT_OK(append_value(b, &x, err));
  if (code && b->type.id == GF_TYPE_DICTIONARY)
    *code = ((const int32_t *)gf_buffer_data(b->data))[b->length - 1];
  return GF_OK;
}

/* Produces the array without changing the builder: the array takes new
 * references to the builder's buffers, so on failure the builder is intact
 * and on success the caller resets it. */
static gf_status finish_impl(gf_builder *b, gf_array *dict, gf_array **out,
                             gf_error *err) {
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  if (b->type.id != GF_TYPE_NULL) {
    size_t dsize = data_bytes_for(b, b->length);
    if (!b->data) GF_RETURN_NOT_OK(ensure_capacity(b, 1, err));
    gfi_buffer_set_size(b->data, dsize);
    if (gfi_type_is_var_width(b->type.id)) {
      if (!b->bytes && gfi_buffer_alloc(b->alloc, 0, &b->bytes) != GF_OK)
        return GF_OOM(err, "builder string data");
      gfi_buffer_set_size(b->bytes, (size_t)b->bytes_len);
      bufs[2] = gf_buffer_retain(b->bytes);
    }
    bufs[1] = gf_buffer_retain(b->data);
    if (b->null_count > 0) {
      gfi_buffer_set_size(b->validity, (size_t)gfi_bitmap_bytes(b->length));
      bufs[0] = gf_buffer_retain(b->validity);
    }
  }
  return gfi_array_make_with_stats(b->alloc, b->type, b->length,
                                   b->null_count, bufs, dict, &b->stats, out,
                                   err);
}

/* Finishes the array (for dictionaries: codes plus the distinct values in
 * order of first appearance) and resets the builder for reuse. On failure
 * the builder keeps its contents. */
gf_status gf_builder_finish(gf_builder *b, gf_array **out, gf_error *err) {
  if (!b || !out)
    return gf_error_set(err, GF_EINVAL, "gf_builder_finish: NULL argument");
  gf_array *dict = NULL, *arr = NULL;
  if (b->values) GF_RETURN_NOT_OK(finish_impl(b->values, NULL, &dict, err));
  gf_status st = finish_impl(b, dict, &arr, err);
  gf_array_release(dict); /* the codes array holds its own reference */
  if (st != GF_OK) return st;
  builder_reset(b);
  *out = arr;
  return GF_OK;
}
