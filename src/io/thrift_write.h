/*
 * A Thrift compact-protocol encoder (not installed), enough to write the
 * Parquet footer, page headers and page indexes: structs, lists, i32/i64,
 * binary and bool fields. It appends to a gfi_vec and is "sticky": the
 * first failed append is remembered and later calls do nothing, so a
 * whole struct is written and checked once (tw_status).
 *
 * Compact protocol (Apache Thrift): a field header is one byte
 * (field-id delta << 4 | type) when the delta from the previous field id of
 * the same struct is 1..15, else the type byte and the zigzag-varint id; a
 * bool field carries its value in the type (1 true, 2 false); integers are
 * zigzag varints; binary is a varint length and the bytes; a list header is
 * (size << 4 | element type) below 15 elements, else 0xF0 | type and a
 * varint size; a struct ends with a 0 byte.
 */
#ifndef GF_IO_THRIFT_WRITE_H
#define GF_IO_THRIFT_WRITE_H

#include "core/core_internal.h"

/* Compact type codes. */
enum { TW_BOOL_TRUE = 1, TW_BOOL_FALSE = 2, TW_BYTE = 3, TW_I16 = 4, TW_I32 = 5,
       TW_I64 = 6, TW_DOUBLE = 7, TW_BINARY = 8, TW_LIST = 9, TW_SET = 10,
       TW_MAP = 11, TW_STRUCT = 12 };

#define TW_MAX_DEPTH 16

typedef struct tw {
  gfi_vec *out;
  int16_t last[TW_MAX_DEPTH]; /* previous field id per open struct */
  int depth;
  gf_status st;
  gf_error *err;
} tw;

/* Starts encoding at the end of `out` (the outermost struct is open). */
void gfi_tw_init(tw *w, gfi_vec *out, gf_error *err);
/* GF_OK, or the first error (GF_ENOMEM; GF_EINTERNAL for a nesting error). */
gf_status gfi_tw_status(const tw *w);

/* Fields of the open struct, in increasing id order. */
void gfi_tw_i16(tw *w, int16_t fid, int16_t v);
void gfi_tw_i32(tw *w, int16_t fid, int32_t v);
void gfi_tw_i64(tw *w, int16_t fid, int64_t v);
void gfi_tw_bool(tw *w, int16_t fid, bool v);
void gfi_tw_binary(tw *w, int16_t fid, const void *p, size_t n);
void gfi_tw_string(tw *w, int16_t fid, const char *s);
/* A struct field: its fields follow, then tw_struct_end. */
void gfi_tw_struct_begin(tw *w, int16_t fid);
/* Ends the innermost open struct (also the outermost: writes its stop). */
void gfi_tw_struct_end(tw *w);
/* A list field of n elements of compact type `elem`; the elements follow
 * (tw_elem_*; for structs tw_elem_struct_begin ... tw_struct_end). */
void gfi_tw_list(tw *w, int16_t fid, int elem, size_t n);
void gfi_tw_elem_i32(tw *w, int32_t v);
void gfi_tw_elem_i64(tw *w, int64_t v);
void gfi_tw_elem_bool(tw *w, bool v);
void gfi_tw_elem_binary(tw *w, const void *p, size_t n);
void gfi_tw_elem_struct_begin(tw *w);
/* An empty struct field (a union member without fields: TypeDefinedOrder,
 * StringType, MILLIS...). */
void gfi_tw_empty_struct(tw *w, int16_t fid);

#endif /* GF_IO_THRIFT_WRITE_H */
