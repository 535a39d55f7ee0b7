/*
 * A small hand-written flatbuffers reader, verifier and builder (not
 * installed). Each table type is described once by a declarative list of
 * field slots (fb_table_def); the same description drives the verifier (what
 * to bounds-check), the reader accessors (how wide a scalar is) and the
 * builder (how to lay a table out). Only what Arrow's IPC schema uses is
 * supported: scalars, strings, sub-tables, unions of tables, vectors of
 * tables, of structs and of scalars.
 */
#ifndef GF_IO_FLATBUF_H
#define GF_IO_FLATBUF_H

#include "core/core_internal.h"

typedef enum fb_kind {
  FB_BOOL,       /* 1 byte */
  FB_U8,         /* 1 byte unsigned (also union type tags) */
  FB_I16,        /* 2 bytes signed (enums of type short) */
  FB_I32,
  FB_I64,
  FB_STRING,     /* offset to a string */
  FB_TABLE,      /* offset to a table of `table` */
  FB_UNION,      /* offset to a table whose type is in slot-1 (a FB_U8) */
  FB_VEC_TABLE,  /* offset to a vector of offsets to tables of `table` */
  FB_VEC_STRUCT, /* offset to a vector of `elem_size`-byte structs */
  FB_VEC_I64     /* offset to a vector of int64 */
} fb_kind;

struct fb_table_def;

/* One field slot of a table type. */
typedef struct fb_field_def {
  int slot;
  fb_kind kind;
  int elem_size;                   /* FB_VEC_STRUCT */
  const struct fb_table_def *table;/* FB_TABLE, FB_VEC_TABLE */
  const struct fb_table_def *const *union_tables; /* FB_UNION: by type tag */
  int union_count;
  const char *name;
} fb_field_def;

/* A table type: its name (for messages) and its field slots. */
typedef struct fb_table_def {
  const char *name;
  int nfields;
  const fb_field_def *fields;
} fb_table_def;

/* A verified table inside a buffer. `pos` 0 with `buf` NULL = absent. */
typedef struct fb_table {
  const uint8_t *buf;
  size_t len;
  size_t pos;
  const fb_table_def *def;
} fb_table;

/* Verifies the whole flatbuffer `buf[0, len)` whose root is a `root`
 * table: every offset, vtable, table size, string and vector length is
 * checked to lie inside the buffer before anything is read; recursion depth
 * and the number of objects visited are bounded, so hostile input can
 * neither crash nor hang it. Errors are GF_EINVAL naming the byte offset
 * (`base` + position in the buffer). */
gf_status gfi_fb_verify(const uint8_t *buf, size_t len, const fb_table_def *root,
                    size_t base, gf_error *err);
/* The root table of a verified buffer. */
fb_table gfi_fb_root(const uint8_t *buf, size_t len, const fb_table_def *root);
bool gfi_fb_present(const fb_table *t);

/* Scalar field `slot` (sign-extended per its kind), or `dflt` when absent. */
int64_t gfi_fb_get_int(const fb_table *t, int slot, int64_t dflt);
/* Sub-table (FB_TABLE or FB_UNION of a known tag); false when absent. */
bool gfi_fb_get_table(const fb_table *t, int slot, fb_table *out);
/* String field: pointer (not NUL-terminated) and length; false if absent. */
bool gfi_fb_get_string(const fb_table *t, int slot, const char **s, size_t *n);
/* Number of elements of a vector field (0 when absent). */
size_t gfi_fb_vec_len(const fb_table *t, int slot);
/* Element i of a vector of tables. */
bool gfi_fb_vec_table(const fb_table *t, int slot, size_t i, fb_table *out);
/* First byte of the elements of a struct/scalar vector (NULL if absent). */
const uint8_t *gfi_fb_vec_data(const fb_table *t, int slot);

/* Little-endian loads that tolerate any alignment. */
static inline int64_t gfi_fb_load_i64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return (int64_t)v;
}
static inline int32_t gfi_fb_load_i32(const uint8_t *p) {
  return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}
static inline uint32_t gfi_fb_load_u32(const uint8_t *p) {
  return (uint32_t)gfi_fb_load_i32(p);
}

/* ------------------------------------------------------------------ */
/* Builder                                                              */
/* ------------------------------------------------------------------ */

typedef struct fbb fbb;
typedef struct fbb_node fbb_node;

/* A builder whose nodes live in an arena from `a`; allocation failures are
 * sticky: node constructors then return NULL, setters ignore NULL nodes and
 * gfi_fbb_finish reports GF_ENOMEM, so callers check once at the end. */
fbb *gfi_fbb_new(const gf_allocator *a);
void gfi_fbb_free(fbb *b);
/* Zeroed scratch memory living as long as the builder (NULL, and the
 * builder marked failed, when allocation fails). */
void *gfi_fbb_alloc(fbb *b, size_t size);
fbb_node *gfi_fbb_table(fbb *b, const fb_table_def *def);
/* Sets scalar slot `slot` of a table node (width from the definition). */
void gfi_fbb_set_int(fbb_node *t, int slot, int64_t v);
/* Sets an offset slot (string, table, union value, vector) to `child`. */
void gfi_fbb_set_child(fbb_node *t, int slot, fbb_node *child);
fbb_node *gfi_fbb_string(fbb *b, const char *s, size_t n);
/* Vector of tables (the array of nodes is copied). */
fbb_node *gfi_fbb_vec_tables(fbb *b, fbb_node *const *items, size_t n);
/* Vector of n elements of elem_size bytes each (copied), elements aligned
 * to `align` bytes. */
fbb_node *gfi_fbb_vec_raw(fbb *b, const void *data, size_t n, size_t elem_size,
                      size_t align);
/* Serializes the tree under `root` into a new block from the builder's
 * allocator: `*out` (free with gf_free(a, *out, *cap, 8)), its length `*len`
 * (a multiple of 8) and allocated size `*cap`. */
gf_status gfi_fbb_finish(fbb *b, fbb_node *root, uint8_t **out, size_t *len,
                     size_t *cap, gf_error *err);

#endif /* GF_IO_FLATBUF_H */
