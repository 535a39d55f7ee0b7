/*
 * The key policy (key_policy.h) per type: bulk loaders of equality bits and
 * order encodings for fixed-width keys, element-wise hash / equality /
 * order for any key (dictionaries resolved to their values), and canonical
 * dictionary codes so code-based fast paths still group equal values
 * together.
 */
#include "data/builder_internal.h"
#include "data/decimal.h"
#include "ops/key_policy.h"

bool gfi_key_is_bytes(gf_datatype t) {
  gf_type_id id = t.id == GF_TYPE_DICTIONARY ? t.value_id : t.id;
  return gfi_type_is_var_width(id) || id == GF_TYPE_FIXED_SIZE_BINARY ||
         gfi_is_decimal(id);
}

/* Runs `dst[j] = EXPR(p[i])` over elements [start, start+len) of typed
 * data p (the array offset applied). */
#define KP_LOOP(T, EXPR)                                                    \
  do {                                                                      \
    const T *p = (const T *)gfi_buf(a, 1) + a->offset + start;              \
    for (int64_t j = 0; j < len; j++) dst[j] = (EXPR);                      \
  } while (0)

void gfi_key_load_bits(const gf_array *a, int64_t start, int64_t len, uint64_t *dst) {
  switch (a->type.id) {
    case GF_TYPE_BOOL: {
      const uint8_t *p = gfi_buf(a, 1);
      for (int64_t j = 0; j < len; j++) dst[j] = gfi_bit_get(p, a->offset + start + j);
      break;
    }
    case GF_TYPE_INT8: KP_LOOP(int8_t, (uint64_t)(int64_t)p[j]); break;
    case GF_TYPE_INT16: KP_LOOP(int16_t, (uint64_t)(int64_t)p[j]); break;
    case GF_TYPE_UINT8: KP_LOOP(uint8_t, p[j]); break;
    case GF_TYPE_UINT16: KP_LOOP(uint16_t, p[j]); break;
    case GF_TYPE_UINT32: KP_LOOP(uint32_t, p[j]); break;
    case GF_TYPE_FLOAT32: KP_LOOP(float, gfi_key_f64_bits((double)p[j])); break;
    case GF_TYPE_FLOAT64: KP_LOOP(double, gfi_key_f64_bits(p[j])); break;
    case GF_TYPE_NULL:
      memset(dst, 0, sizeof *dst * (size_t)len);
      break;
    default:
      if (gfi_type_byte_width(a->type) == 4) KP_LOOP(int32_t, (uint64_t)(int64_t)p[j]);
      else KP_LOOP(uint64_t, p[j]);
      break;
  }
}

void gfi_key_load_order(const gf_array *a, int64_t start, int64_t len, uint64_t *dst) {
  switch (a->type.id) {
    case GF_TYPE_BOOL:
    case GF_TYPE_UINT8:
    case GF_TYPE_UINT16:
    case GF_TYPE_UINT32:
    case GF_TYPE_UINT64:
    case GF_TYPE_NULL:
      /* Unsigned bits are already in order. */
      gfi_key_load_bits(a, start, len, dst);
      break;
    case GF_TYPE_FLOAT32: KP_LOOP(float, gfi_key_f64_order((double)p[j])); break;
    case GF_TYPE_FLOAT64: KP_LOOP(double, gfi_key_f64_order(p[j])); break;
    case GF_TYPE_INT8: KP_LOOP(int8_t, gfi_key_i64_order(p[j])); break;
    case GF_TYPE_INT16: KP_LOOP(int16_t, gfi_key_i64_order(p[j])); break;
    default:
      if (gfi_type_byte_width(a->type) == 4) KP_LOOP(int32_t, gfi_key_i64_order(p[j]));
      else KP_LOOP(int64_t, gfi_key_i64_order(p[j]));
      break;
  }
}

/* The value array and element behind element i of a key array. */
static const gf_array *resolve(const gf_array *a, int64_t *i) {
  if (a->type.id != GF_TYPE_DICTIONARY) return a;
  *i = ((const int32_t *)gfi_buf(a, 1))[a->offset + *i];
  return a->dictionary;
}

/* Bytes of string element i (never NULL). */
static const uint8_t *bytes_of(const gf_array *a, int64_t i, int64_t *len) {
  const uint8_t *p = gfi_value_bytes(a, i, len);
  return p ? p : (const uint8_t *)"";
}

bool gfi_key_is_null(const gf_array *a, int64_t i) {
  if (a->type.id == GF_TYPE_NULL || !gfi_is_valid(a, i)) return true;
  if (a->type.id != GF_TYPE_DICTIONARY) return false;
  const gf_array *d = resolve(a, &i);
  return !gfi_is_valid(d, i);
}

uint64_t gfi_key_hash(const gf_array *a, int64_t i) {
  a = resolve(a, &i);
  if (gfi_key_is_bytes(a->type)) {
    int64_t l;
    const uint8_t *p = bytes_of(a, i, &l);
    return gfi_key_hash_bytes(p, l);
  }
  uint64_t x;
  gfi_key_load_bits(a, i, 1, &x);
  return gfi_mix64(x + 1);
}

int gfi_key_cmp(const gf_array *a, int64_t i, const gf_array *b, int64_t j) {
  a = resolve(a, &i);
  b = resolve(b, &j);
  if (gfi_is_decimal(a->type.id) && a->type.id == b->type.id) {
    int64_t la, lb;
    const uint8_t *pa = bytes_of(a, i, &la), *pb = bytes_of(b, j, &lb);
    return gfi_dec_cmp_raw(pa, pb, (int)la);
  }
  if (gfi_key_is_bytes(a->type)) {
    int64_t la, lb;
    const uint8_t *pa = bytes_of(a, i, &la), *pb = bytes_of(b, j, &lb);
    return gfi_bytes_cmp(pa, la, pb, lb);
  }
  uint64_t x, y;
  gfi_key_load_order(a, i, 1, &x);
  gfi_key_load_order(b, j, 1, &y);
  return (x > y) - (x < y);
}

bool gfi_key_equal(const gf_array *a, int64_t i, const gf_array *b, int64_t j) {
  return gfi_key_cmp(a, i, b, j) == 0;
}

gf_status gfi_key_dict_canon(const gf_array *dict, const gf_allocator *a, int32_t **out,
                             gf_error *err) {
  *out = NULL;
  int64_t d = dict ? dict->length : 0;
  if (d == 0) return GF_OK;
  /* Open addressing over value hashes, at most half full. */
  int64_t cap = 16;
  while (cap < 2 * d) cap *= 2;
  size_t cb = sizeof(int32_t) * (size_t)d, tb = sizeof(int32_t) * (size_t)cap;
  int32_t *canon = gfi_malloc(a, cb), *tab = gfi_malloc(a, tb);
  if (!canon || !tab) {
    if (canon) gfi_mfree(a, canon, cb);
    if (tab) gfi_mfree(a, tab, tb);
    return GF_OOM(err, "dictionary keys");
  }
  memset(tab, 0xff, tb);
  bool identity = true;
  for (int64_t c = 0; c < d; c++) {
    if (gfi_key_is_null(dict, c)) {
      canon[c] = -1;
      identity = false;
      continue;
    }
    uint64_t h = gfi_key_hash(dict, c);
    uint64_t s = gfi_mix64(h) & (uint64_t)(cap - 1);
    for (;; s = (s + 1) & (uint64_t)(cap - 1)) {
      if (tab[s] < 0) {
        tab[s] = (int32_t)c;
        canon[c] = (int32_t)c;
        break;
      }
      if (gfi_key_equal(dict, tab[s], dict, c)) {
        canon[c] = tab[s];
        identity = false;
        break;
      }
    }
  }
  gfi_mfree(a, tab, tb);
  if (identity) gfi_mfree(a, canon, cb);
  else *out = canon;
  return GF_OK;
}
