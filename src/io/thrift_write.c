/* Thrift compact-protocol encoder; see thrift_write.h. */
#include <string.h>

#include "io/thrift_write.h"

void gfi_tw_init(tw *w, gfi_vec *out, gf_error *err) {
  memset(w, 0, sizeof *w);
  w->out = out;
  w->err = err;
}

gf_status gfi_tw_status(const tw *w) { return w->st; }

static void put(tw *w, const void *p, size_t n) {
  if (w->st == GF_OK) w->st = gfi_vec_append(w->out, p, n, w->err);
}

static void varint(tw *w, uint64_t v) {
  uint8_t b[10];
  size_t n = 0;
  while (v >= 0x80) {
    b[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  b[n++] = (uint8_t)v;
  put(w, b, n);
}

static uint64_t zigzag(int64_t v) {
  return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* Writes a field header of type `type` for id `fid` of the open struct. */
static void field(tw *w, int16_t fid, int type) {
  int16_t delta = (int16_t)(fid - w->last[w->depth]);
  if (delta > 0 && delta <= 15) {
    uint8_t b = (uint8_t)(delta << 4 | type);
    put(w, &b, 1);
  } else {
    uint8_t b = (uint8_t)type;
    put(w, &b, 1);
    varint(w, zigzag(fid));
  }
  w->last[w->depth] = fid;
}

void gfi_tw_i16(tw *w, int16_t fid, int16_t v) {
  field(w, fid, TW_I16);
  varint(w, zigzag(v));
}

void gfi_tw_i32(tw *w, int16_t fid, int32_t v) {
  field(w, fid, TW_I32);
  varint(w, zigzag(v));
}

void gfi_tw_i64(tw *w, int16_t fid, int64_t v) {
  field(w, fid, TW_I64);
  varint(w, zigzag(v));
}

void gfi_tw_bool(tw *w, int16_t fid, bool v) {
  field(w, fid, v ? TW_BOOL_TRUE : TW_BOOL_FALSE);
}

void gfi_tw_binary(tw *w, int16_t fid, const void *p, size_t n) {
  field(w, fid, TW_BINARY);
  gfi_tw_elem_binary(w, p, n);
}

void gfi_tw_string(tw *w, int16_t fid, const char *s) {
  gfi_tw_binary(w, fid, s, strlen(s));
}

/* Opens a nested struct scope (its field ids restart from 0). */
static void push(tw *w) {
  if (w->depth + 1 >= TW_MAX_DEPTH) {
    if (w->st == GF_OK)
      w->st = gf_error_set(w->err, GF_EINTERNAL, "thrift encoder: structs nested too deeply");
    return;
  }
  w->last[++w->depth] = 0;
}

void gfi_tw_struct_begin(tw *w, int16_t fid) {
  field(w, fid, TW_STRUCT);
  push(w);
}

void gfi_tw_elem_struct_begin(tw *w) { push(w); }

void gfi_tw_struct_end(tw *w) {
  uint8_t stop = 0;
  put(w, &stop, 1);
  if (w->depth > 0) w->depth--;
}

void gfi_tw_empty_struct(tw *w, int16_t fid) {
  gfi_tw_struct_begin(w, fid);
  gfi_tw_struct_end(w);
}

void gfi_tw_list(tw *w, int16_t fid, int elem, size_t n) {
  field(w, fid, TW_LIST);
  if (n < 15) {
    uint8_t b = (uint8_t)(n << 4 | (size_t)elem);
    put(w, &b, 1);
  } else {
    uint8_t b = (uint8_t)(0xF0 | elem);
    put(w, &b, 1);
    varint(w, n);
  }
}

void gfi_tw_elem_i32(tw *w, int32_t v) { varint(w, zigzag(v)); }
void gfi_tw_elem_i64(tw *w, int64_t v) { varint(w, zigzag(v)); }

/* Bools inside lists are one byte each, 1 true and 2 false, as Thrift's own
 * compact implementations write them (readers accept 0 as false too). */
void gfi_tw_elem_bool(tw *w, bool v) {
  uint8_t b = v ? 1 : 2;
  put(w, &b, 1);
}

void gfi_tw_elem_binary(tw *w, const void *p, size_t n) {
  varint(w, n);
  if (n) put(w, p, n);
}
