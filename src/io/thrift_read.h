/*
 * A small Thrift COMPACT protocol decoder (not installed), written for the
 * Parquet footer and page headers. Like src/io/flatbuf.h, each struct type
 * is described once by a declarative list of fields (tr_struct_def): the
 * decoder walks the input, checks every length against the bytes left,
 * bounds nesting depth and element counts, skips fields it does not know,
 * and stores the fields it knows at their offsets in a plain C struct.
 * Strings and binaries are not copied: they point into the input, which
 * must outlive the decoded structs. Everything else (structs, lists) comes
 * from one arena freed at once.
 */
#ifndef GF_IO_THRIFT_READ_H
#define GF_IO_THRIFT_READ_H

#include <stddef.h>

#include "core/core_internal.h"

/* Field kinds a struct description can name. */
typedef enum tr_kind {
  TR_BOOL,        /* bool */
  TR_I32,         /* int32_t (also i8, i16 and enums) */
  TR_I64,         /* int64_t */
  TR_DOUBLE,      /* double */
  TR_BINARY,      /* tr_bytes (string or binary) */
  TR_STRUCT,      /* an embedded struct of `sub` (also unions) */
  TR_LIST_I32,    /* tr_list of int32_t */
  TR_LIST_I64,    /* tr_list of int64_t */
  TR_LIST_BOOL,   /* tr_list of bool */
  TR_LIST_BINARY, /* tr_list of tr_bytes */
  TR_LIST_STRUCT  /* tr_list of structs of `sub` */
} tr_kind;

/* Bytes inside the decoded input (not NUL-terminated). */
typedef struct tr_bytes {
  const uint8_t *p;
  uint32_t len;
} tr_bytes;

/* A decoded list: `n` elements of the field's element type. */
typedef struct tr_list {
  void *items;
  int32_t n;
} tr_list;

struct tr_struct_def;

/* One known field: its Thrift id, kind and where it is stored. */
typedef struct tr_field_def {
  int16_t id;
  tr_kind kind;
  size_t offset;                     /* offsetof the member */
  const struct tr_struct_def *sub;   /* TR_STRUCT, TR_LIST_STRUCT */
  const char *name;
} tr_field_def;

/* A struct type. Every decoded struct starts with a uint64_t bit set:
 * bit `id` is set when field `id` (< 64) was present. */
typedef struct tr_struct_def {
  const char *name;
  size_t size;
  int nfields;
  const tr_field_def *fields;
} tr_struct_def;

/* True when field `id` of a decoded struct was present. */
static inline bool tr_isset(const void *s, int id) {
  return (*(const uint64_t *)s >> id) & 1u;
}

/* Arena of decoded structs and lists (blocks from one allocator). */
typedef struct tr_arena {
  const gf_allocator *a;
  struct tr_block *head;
  size_t used; /* bytes handed out, bounded per decode (see gfi_tr_decode) */
} tr_arena;

void gfi_tr_arena_init(tr_arena *ar, const gf_allocator *a);
void gfi_tr_arena_free(tr_arena *ar);

/* Decodes one struct of `def` from buf[0, len) into `out` (def->size bytes,
 * zeroed first). `*used` (may be NULL) receives the bytes consumed.
 * `base` is the file offset of buf[0], for messages. Malformed input
 * (truncated, bad type, oversized list, too deep) is GF_EINVAL naming the
 * struct, the field and the byte offset; GF_ENOMEM from the arena. The
 * decoded structs may take at most 64 bytes per input byte plus 16 MiB:
 * empty list elements cost one input byte but a whole struct, so a
 * hostile list cannot make a small footer allocate gigabytes (GF_EINVAL). */
gf_status gfi_tr_decode(const uint8_t *buf, size_t len, size_t base,
                    const tr_struct_def *def, void *out, tr_arena *ar,
                    size_t *used, gf_error *err);

#endif /* GF_IO_THRIFT_READ_H */
