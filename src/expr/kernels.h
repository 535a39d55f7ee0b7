/*
 * Evaluation values and the kernel entry points of src/expr (internal).
 *
 * A value is either a scalar (borrowed from the bound tree) or a view of
 * `len` elements of an array starting at logical element `off`. Kernels
 * read views (any offset) and produce new arrays at offset 0 through the
 * allocator of the evaluation.
 */
#ifndef GF_EXPR_KERNELS_H
#define GF_EXPR_KERNELS_H

#include "data/builder_internal.h"
#include "expr/expr_internal.h"

typedef struct gfi_val {
  bool scalar;
  const gfi_lit *lit; /* scalar */
  gf_array *arr;      /* owned reference (view) */
  int64_t off;        /* logical start inside arr */
  int64_t len;        /* rows */
} gfi_val;

typedef struct gfi_kctx {
  const gf_allocator *a;
  gf_error *err;
  int64_t n; /* rows of the evaluation */
} gfi_kctx;

static inline bool gfi_val_is_null_scalar(const gfi_val *v) {
  return v->scalar && (v->lit->null || v->lit->type.id == GF_TYPE_NULL);
}

/* Absolute element index (into the buffers) of row i. */
static inline int64_t gfi_val_abs(const gfi_val *v, int64_t i) {
  return v->arr->offset + v->off + i;
}

/* True when row i of v is valid. */
static inline bool gfi_val_valid(const gfi_val *v, int64_t i) {
  if (v->scalar) return !gfi_val_is_null_scalar(v);
  if (v->arr->null_count == 0) return true;
  return gfi_is_valid(v->arr, v->off + i);
}

/* True when v may hold nulls. */
static inline bool gfi_val_has_nulls(const gfi_val *v) {
  if (v->scalar) return gfi_val_is_null_scalar(v);
  return v->arr->null_count != 0 && v->arr->buffers[0] != NULL;
}

/* Typed pointer to row 0 of a fixed-width array view. */
static inline const void *gfi_val_data(const gfi_val *v, int width) {
  return gfi_buf(v->arr, 1) + (size_t)gfi_val_abs(v, 0) * (size_t)width;
}

/* Row i as int64 / double / string bytes (any physical type; scalars too). */
int64_t gfi_val_i64(const gfi_val *v, int64_t i);
double gfi_val_f64(const gfi_val *v, int64_t i);
const char *gfi_val_str(const gfi_val *v, int64_t i, int64_t *len);

/* Validity of rows [0, n) as the AND of the inputs', written to a new
 * bitmap buffer; *out NULL when no input has nulls. Returns GF_OK. */
gf_status gfi_and_validity(gfi_kctx *k, const gfi_val *const *in, int nin,
                           gf_buffer **out);
/* Allocates a zeroed buffer of `bytes` through k->a. */
gf_status gfi_kbuf(gfi_kctx *k, size_t bytes, gf_buffer **out);
/* Creates the result array (offset 0, no min/max statistics), taking the
 * buffers; null_count < 0 counts the bitmap. */
gf_status gfi_kfinish(gfi_kctx *k, gf_datatype t, gf_buffer *validity,
                      gf_buffer *data, gf_buffer *data2, gf_array *dict,
                      int64_t null_count, gf_array **out);
/* Zeroes the fixed-width values of null rows (the layout promise). */
void gfi_zero_null_slots(uint8_t *data, int width, const uint8_t *validity,
                         int64_t n);
/* All-null array of type t and k->n rows. */
gf_status gfi_all_null(gfi_kctx *k, gf_datatype t, gf_array **out);
/* A bitmap view of a bool value or a validity bitmap, realigned to bit 0:
 * *bits points at row 0 (byte-aligned). `scratch` receives an allocated
 * copy when the view was not byte-aligned (free with gfi_mfree, size
 * *scratch_bytes). */
gf_status gfi_aligned_bits(gfi_kctx *k, const gfi_val *v, int buf,
                           const uint8_t **bits, uint8_t **scratch,
                           size_t *scratch_bytes);

/* Array of k->n copies of scalar `l` (of its own type). */
gf_status gfi_broadcast(gfi_kctx *k, const gfi_lit *l, gf_array **out);

/* Kernels: each computes node `b` from the kids' values into a new array. */
gf_status gfi_k_arith(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gfi_val *y, gf_array **out);
gf_status gfi_k_neg(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gf_array **out);
gf_status gfi_k_cmp(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gfi_val *y, gf_array **out);
gf_status gfi_k_cmp_dict(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gfi_val *y, gf_array **out);
gf_status gfi_k_logic(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gfi_val *y, gf_array **out);
gf_status gfi_k_not(gfi_kctx *k, gfi_val *x, gf_array **out);
gf_status gfi_k_is_null(gfi_kctx *k, gfi_val *x, bool want_null, gf_array **out);
gf_status gfi_k_if(gfi_kctx *k, const gfi_bnode *b, gfi_val *c, gfi_val *x, gfi_val *y, gf_array **out);
gf_status gfi_k_math(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gfi_val *digits, gf_array **out);
gf_status gfi_k_pow(gfi_kctx *k, gfi_val *x, gfi_val *y, gf_array **out);
gf_status gfi_k_string(gfi_kctx *k, const gfi_bnode *b, gfi_val **args, int n, gf_array **out);
gf_status gfi_k_datepart(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gf_array **out);
gf_status gfi_k_cast(gfi_kctx *k, gf_datatype to, gfi_val *x, gf_array **out);
/* Decimal kernels (kernels_dec.c), reached from the ones above. Operands
 * are decimal arrays (or typed null scalars); casts take arrays. */
/* abs / floor / ceil / round(x, digits) of decimal128 x into b->type (the
 * binder's decimal_rules.h type); rounding is half away from zero; a
 * result beyond the precision (round(999, -1) in decimal(3, 0)) is
 * GF_ERANGE naming the row. */
gf_status gfi_k_dec_math(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gfi_val *digits,
                         gf_array **out);
gf_status gfi_k_dec_arith(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gfi_val *y, gf_array **out);
gf_status gfi_k_dec_neg(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gf_array **out);
gf_status gfi_k_dec_cmp(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gfi_val *y, gf_array **out);
gf_status gfi_k_dec_cast(gfi_kctx *k, gf_datatype to, gfi_val *x, gf_array **out);
/* x in b->set (kernels_in.c). */
gf_status gfi_k_in_set(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gf_array **out);

/* Writes the row indices [0, n) where the comparison `x op scalar` holds
 * (x a fixed-width numeric/temporal/bool array view without regard to
 * nulls handled: null rows never match) into sel as base + i; returns the
 * count, or -1 when no fast path applies. */
int64_t gfi_k_cmp_select(const gfi_bnode *b, const gfi_val *x, const gfi_val *y,
                         int32_t base, int32_t *sel);

#endif /* GF_EXPR_KERNELS_H */
