/*
 * Key semantics shared by every operator that hashes, compares or orders
 * key values: group-by, join, sort and distinct (DESIGN.md 2.2). Not
 * installed.
 *
 * The policy:
 *  - floats: -0.0 equals +0.0; every NaN (any sign, any payload) equals
 *    every other NaN and orders after +inf (ascending). float32 values are
 *    widened to double, so a float32 and a float64 key compare by value.
 *  - integers of any width compare by value (uint64 above INT64_MAX only
 *    equals itself); bool as 0/1; dates, times, timestamps and durations by
 *    their raw integer (their types must match).
 *  - utf8/binary (plain, large, fixed-size): bytes, ordered by memcmp then
 *    length.
 *  - decimal128/decimal256: hashed and matched by their raw bytes (so keys
 *    of one scale; a join needs equal scales), ordered by value.
 *  - a dictionary column is its values: a code stands for its dictionary
 *    value, so two codes of equal values are one key, a code of a null
 *    value is a null, and a dictionary column equals a plain column with
 *    the same values.
 *  - nulls: never match in a join, form one group in group-by and distinct,
 *    go first or last in sort as the sort key says. The value stored under
 *    a null slot is never read as a key.
 * Aggregates (min/max) are not keys: they keep IEEE totalOrder
 * (-0.0 < +0.0), see agg_kernels.c.
 */
#ifndef GF_OPS_KEY_POLICY_H
#define GF_OPS_KEY_POLICY_H

#include <string.h>

#include "core/hash.h"
#include "ops/ops_internal.h"

/* ---- floats --------------------------------------------------------------- */

/* IEEE totalOrder of d as a signed integer (-NaN < -inf < -0.0 < +0.0 <
 * +inf < +NaN): the one float order encoding. Invertible, so min/max
 * aggregates (which keep totalOrder) can turn it back into the double. */
static inline int64_t gfi_f64_total_key(double d) {
  int64_t b;
  memcpy(&b, &d, sizeof b);
  return b ^ (int64_t)((uint64_t)(b >> 63) >> 1);
}
static inline double gfi_f64_from_total_key(int64_t k) {
  int64_t b = k ^ (int64_t)((uint64_t)(k >> 63) >> 1);
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

/* The representative of d's key class: +0.0 for both zeros, the positive
 * quiet NaN for every NaN, d otherwise. */
static inline double gfi_key_f64_canon(double d) {
  if (d != d) {
    uint64_t q = UINT64_C(0x7ff8000000000000);
    memcpy(&d, &q, sizeof d);
    return d;
  }
  return d == 0.0 ? 0.0 : d;
}

/* Equality bits of a float key: equal keys, equal bits. */
static inline uint64_t gfi_key_f64_bits(double d) {
  d = gfi_key_f64_canon(d);
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

/* Order of a float key as an unsigned integer: unsigned order is the
 * policy order, and equal keys encode equal. */
static inline uint64_t gfi_key_f64_order(double d) {
  return (uint64_t)gfi_f64_total_key(gfi_key_f64_canon(d)) ^ (UINT64_C(1) << 63);
}

/* Signed integers keep their order as unsigned after flipping the sign bit. */
static inline uint64_t gfi_key_i64_order(int64_t v) {
  return (uint64_t)v ^ (UINT64_C(1) << 63);
}

/* ---- hashing -------------------------------------------------------------- */

/* gfi_mix64 (the one mixer) and gfi_hash_bytes live in core/hash.h. */

/* Hash of a byte-string key. */
static inline uint64_t gfi_key_hash_bytes(const uint8_t *p, int64_t len) {
  return gfi_hash_bytes(p, (size_t)len);
}

/* ---- byte strings ---------------------------------------------------------- */

/* The 8 leading bytes of a byte string as a big-endian integer (zero
 * padded): comparing these compares the strings' first 8 bytes. */
static inline uint64_t gfi_prefix_be(const uint8_t *p, int64_t len) {
  uint64_t v = 0;
  int64_t m = len < 8 ? len : 8;
  for (int64_t i = 0; i < m; i++) v |= (uint64_t)p[i] << (56 - 8 * i);
  return v;
}

/* Byte-string equality (gfi_bytes_cmp == 0, lengths first). */
static inline bool gfi_bytes_equal(const uint8_t *a, int64_t la, const uint8_t *b, int64_t lb) {
  return la == lb && (la == 0 || memcmp(a, b, (size_t)la) == 0);
}

/* Byte-string order: memcmp, then the shorter first. */
static inline int gfi_bytes_cmp(const uint8_t *a, int64_t la, const uint8_t *b, int64_t lb) {
  int64_t m = la < lb ? la : lb;
  int c = m ? memcmp(a, b, (size_t)m) : 0;
  if (c) return c;
  return (la > lb) - (la < lb);
}

/* ---- fixed-width values in bulk -------------------------------------------- */

/* True when keys of type t are byte strings (utf8, binary, large or fixed
 * size; a dictionary by its value type). */
bool gfi_key_is_bytes(gf_datatype t);

/* Equality bits of elements [start, start+len) of a fixed-width,
 * non-dictionary array (ints sign- or zero-extended to 64 bits, bool 0/1,
 * temporal raw, floats gfi_key_f64_bits of the widened double) into dst.
 * Null slots load unspecified values. */
void gfi_key_load_bits(const gf_array *a, int64_t start, int64_t len, uint64_t *dst);

/* Order encodings of the same elements: unsigned order is the policy
 * order and equal keys encode equal (unsigned ints as they are, signed
 * ints and temporal with the sign bit flipped, floats gfi_key_f64_order). */
void gfi_key_load_order(const gf_array *a, int64_t start, int64_t len, uint64_t *dst);

/* ---- single elements ------------------------------------------------------- */

/* Element i of a (dictionary codes resolved) is null. */
bool gfi_key_is_null(const gf_array *a, int64_t i);
/* Hash of the non-null key at element i of a (dictionaries by value;
 * equal keys of comparable types hash equal). */
uint64_t gfi_key_hash(const gf_array *a, int64_t i);
/* Policy order of the non-null keys a[i] and b[j] of one key type (a
 * dictionary counts as its value type): <0, 0, >0. */
int gfi_key_cmp(const gf_array *a, int64_t i, const gf_array *b, int64_t j);
/* gfi_key_cmp(...) == 0: equal keys. */
bool gfi_key_equal(const gf_array *a, int64_t i, const gf_array *b, int64_t j);

/* ---- dictionaries ---------------------------------------------------------- */

/* Canonical codes of a dictionary: canon[c] is the smallest code whose value
 * equals the value of code c, or -1 when that value is null. *out is NULL
 * (nothing allocated) when every code is already canonical (distinct
 * non-null values, the usual case); else d entries through `a`, freed
 * with gfi_mfree(a, *out, sizeof(int32_t) * max(d, 1)). */
gf_status gfi_key_dict_canon(const gf_array *dict, const gf_allocator *a, int32_t **out,
                             gf_error *err);

/* ---- frame rows ------------------------------------------------------------ */

/* The one row -> batch look-up: the batch b with offs[b] <= row <
 * offs[b+1] of nb batches (binary search; 0 when nb <= 1). */
static inline int gfi_batch_of(const int64_t *offs, int nb, int64_t row) {
  int lo = 0, hi = nb - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (offs[mid] <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/* Frame row -> batch index. */
static inline int gfi_row_batch(const gf_frame *f, int64_t row) {
  return gfi_batch_of(f->batch_offsets, f->num_batches, row);
}

#endif /* GF_OPS_KEY_POLICY_H */
