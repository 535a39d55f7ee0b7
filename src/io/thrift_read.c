/* Thrift COMPACT protocol decoder driven by tr_struct_def descriptions
 * (see thrift_read.h). Every read checks the bytes left first; list sizes
 * are checked against the bytes left before anything is allocated (each
 * element takes at least one byte), so a hostile length cannot make the
 * decoder allocate more than a small multiple of the input. */
#include <string.h>

#include "io/thrift_read.h"

/* Compact protocol type codes. */
enum { CT_STOP = 0, CT_TRUE = 1, CT_FALSE = 2, CT_BYTE = 3, CT_I16 = 4,
       CT_I32 = 5, CT_I64 = 6, CT_DOUBLE = 7, CT_BINARY = 8, CT_LIST = 9,
       CT_SET = 10, CT_MAP = 11, CT_STRUCT = 12, CT_UUID = 13 };

/* Nesting deeper than this is refused (Parquet's own structs nest < 10). */
#define TR_MAX_DEPTH 32

struct tr_block {
  struct tr_block *next;
  size_t size;
};

typedef struct tr_cursor {
  const uint8_t *p, *end, *start;
  size_t base;
  tr_arena *ar;
  gf_error *err;
  const char *where; /* struct name for messages */
} tr_cursor;

void gfi_tr_arena_init(tr_arena *ar, const gf_allocator *a) {
  ar->a = gfi_alloc_or_default(a);
  ar->head = NULL;
  ar->used = 0;
}

void gfi_tr_arena_free(tr_arena *ar) {
  struct tr_block *b = ar->head;
  while (b) {
    struct tr_block *n = b->next;
    gfi_mfree(ar->a, b, b->size);
    b = n;
  }
  ar->head = NULL;
}

/* Zeroed memory for n bytes owned by the arena; NULL on failure. */
static void *arena_alloc(tr_arena *ar, size_t n) {
  size_t total = sizeof(struct tr_block) + n;
  total = (total + 15u) & ~(size_t)15u;
  struct tr_block *b = gfi_calloc(ar->a, total);
  if (!b) return NULL;
  b->size = total;
  b->next = ar->head;
  ar->head = b;
  return (uint8_t *)b + ((sizeof(struct tr_block) + 15u) & ~(size_t)15u);
}

/* GF_EINVAL naming the struct being decoded and the byte offset. */
static gf_status bad(tr_cursor *c, const char *what) {
  return gf_error_set(c->err, GF_EINVAL,
                      "Thrift %s at byte %zu: %s", c->where,
                      c->base + (size_t)(c->p - c->start), what);
}

/* Unsigned LEB128 varint (at most 10 bytes, no overflow). */
static gf_status read_varint(tr_cursor *c, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (c->p >= c->end) return bad(c, "truncated integer");
    uint8_t b = *c->p++;
    if (shift == 63 && (b & 0x7e)) return bad(c, "integer overflows 64 bits");
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return GF_OK;
    }
  }
  return bad(c, "integer longer than 10 bytes");
}

/* Zigzag varint (i16/i32/i64). */
static gf_status read_zigzag(tr_cursor *c, int64_t *out) {
  uint64_t u;
  GF_RETURN_NOT_OK(read_varint(c, &u));
  *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
  return GF_OK;
}

/* Zigzag varint that must fit in 32 bits. */
static gf_status read_i32(tr_cursor *c, int64_t *out) {
  GF_RETURN_NOT_OK(read_zigzag(c, out));
  if (*out < INT32_MIN || *out > INT32_MAX) return bad(c, "i32 out of range");
  return GF_OK;
}

/* Length-prefixed bytes, viewed in place. */
static gf_status read_binary(tr_cursor *c, tr_bytes *out) {
  uint64_t n = 0;
  GF_RETURN_NOT_OK(read_varint(c, &n));
  if (n > (uint64_t)(c->end - c->p)) return bad(c, "string longer than the input left");
  out->p = c->p;
  out->len = (uint32_t)n;
  c->p += n;
  return GF_OK;
}

/* Reads a list/set header: element type and count (bounded by the input). */
static gf_status read_list_header(tr_cursor *c, int *etype, int64_t *n) {
  if (c->p >= c->end) return bad(c, "truncated list header");
  uint8_t h = *c->p++;
  *etype = h & 0x0f;
  uint64_t size = h >> 4;
  if (size == 15) GF_RETURN_NOT_OK(read_varint(c, &size));
  if (size > (uint64_t)(c->end - c->p) || size > INT32_MAX)
    return bad(c, "list longer than the input left");
  *n = (int64_t)size;
  return GF_OK;
}

static gf_status skip(tr_cursor *c, int type, int depth);

/* Skips a struct's fields up to its stop byte. */
static gf_status skip_struct(tr_cursor *c, int depth) {
  if (depth > TR_MAX_DEPTH) return bad(c, "nesting too deep");
  int16_t last = 0;
  for (;;) {
    if (c->p >= c->end) return bad(c, "truncated struct");
    uint8_t h = *c->p++;
    int type = h & 0x0f;
    if (type == CT_STOP) return GF_OK;
    if (h >> 4) {
      last = (int16_t)(last + (h >> 4));
    } else {
      int64_t id;
      GF_RETURN_NOT_OK(read_zigzag(c, &id));
      last = (int16_t)id;
    }
    if (type == CT_TRUE || type == CT_FALSE) continue;
    GF_RETURN_NOT_OK(skip(c, type, depth + 1));
  }
}

/* Skips one value of compact type `type`. */
static gf_status skip(tr_cursor *c, int type, int depth) {
  if (depth > TR_MAX_DEPTH) return bad(c, "nesting too deep");
  uint64_t u;
  switch (type) {
  case CT_TRUE:
  case CT_FALSE:
  case CT_BYTE:
    if (c->p >= c->end) return bad(c, "truncated value");
    c->p++;
    return GF_OK;
  case CT_I16:
  case CT_I32:
  case CT_I64:
    return read_varint(c, &u);
  case CT_DOUBLE:
    if (c->end - c->p < 8) return bad(c, "truncated double");
    c->p += 8;
    return GF_OK;
  case CT_UUID:
    if (c->end - c->p < 16) return bad(c, "truncated uuid");
    c->p += 16;
    return GF_OK;
  case CT_BINARY: {
    tr_bytes b;
    return read_binary(c, &b);
  }
  case CT_LIST:
  case CT_SET: {
    int et = 0;
    int64_t n = 0;
    GF_RETURN_NOT_OK(read_list_header(c, &et, &n));
    for (int64_t i = 0; i < n; i++)
      GF_RETURN_NOT_OK(skip(c, et == CT_FALSE ? CT_TRUE : et, depth + 1));
    return GF_OK;
  }
  case CT_MAP: {
    GF_RETURN_NOT_OK(read_varint(c, &u));
    if (u == 0) return GF_OK;
    if (u > (uint64_t)(c->end - c->p)) return bad(c, "map longer than the input left");
    if (c->p >= c->end) return bad(c, "truncated map");
    uint8_t kv = *c->p++;
    for (uint64_t i = 0; i < u; i++) {
      GF_RETURN_NOT_OK(skip(c, kv >> 4, depth + 1));
      GF_RETURN_NOT_OK(skip(c, kv & 0x0f, depth + 1));
    }
    return GF_OK;
  }
  case CT_STRUCT:
    return skip_struct(c, depth + 1);
  default:
    return bad(c, "unknown field type");
  }
}

static gf_status decode_struct(tr_cursor *c, const tr_struct_def *def,
                               uint8_t *out, int depth);

/* The compact type a field kind expects (element type for lists). */
static int expected_type(tr_kind k) {
  switch (k) {
  case TR_BOOL: return CT_TRUE;
  case TR_I32: return CT_I32;
  case TR_I64: return CT_I64;
  case TR_DOUBLE: return CT_DOUBLE;
  case TR_BINARY: return CT_BINARY;
  case TR_STRUCT: return CT_STRUCT;
  default: return CT_LIST;
  }
}

/* Reads an integer value of any integer compact type (byte, i16, i32...). */
static gf_status read_int_as(tr_cursor *c, int type, int64_t *v) {
  if (type == CT_BYTE) {
    if (c->p >= c->end) return bad(c, "truncated byte");
    *v = (int8_t)*c->p++;
    return GF_OK;
  }
  if (type == CT_I16 || type == CT_I32) return read_i32(c, v);
  return read_zigzag(c, v);
}

/* Compact types an integer field accepts. */
static bool is_int_type(int t) {
  return t == CT_BYTE || t == CT_I16 || t == CT_I32 || t == CT_I64;
}

/* Decodes a list field into a tr_list (elements from the arena); a list
 * of unexpected element type is skipped and left empty. */
static gf_status decode_list(tr_cursor *c, const tr_field_def *f, tr_list *l,
                             int depth) {
  int et = 0;
  int64_t n = 0;
  GF_RETURN_NOT_OK(read_list_header(c, &et, &n));
  size_t esz;
  switch (f->kind) {
  case TR_LIST_I32: esz = sizeof(int32_t); break;
  case TR_LIST_I64: esz = sizeof(int64_t); break;
  case TR_LIST_BOOL: esz = sizeof(bool); break;
  case TR_LIST_BINARY: esz = sizeof(tr_bytes); break;
  default: esz = f->sub->size; break;
  }
  bool ok = (f->kind == TR_LIST_I32 || f->kind == TR_LIST_I64) ? is_int_type(et)
          : f->kind == TR_LIST_BOOL ? (et == CT_TRUE || et == CT_FALSE)
          : f->kind == TR_LIST_BINARY ? et == CT_BINARY
          : et == CT_STRUCT;
  if (!ok) {
    /* Wrong element type: skip the elements and leave the list empty. */
    for (int64_t i = 0; i < n; i++)
      GF_RETURN_NOT_OK(skip(c, et == CT_FALSE ? CT_TRUE : et, depth + 1));
    return GF_OK;
  }
  size_t bytes = (size_t)(n ? n : 1) * esz;
  size_t budget = 64 * (size_t)(c->end - c->start) + ((size_t)16 << 20);
  if (bytes > budget || c->ar->used > budget - bytes)
    return bad(c, "list too large for the metadata's size (hostile input?)");
  uint8_t *items = arena_alloc(c->ar, bytes);
  if (!items) return GF_OOM(c->err, "decoded Thrift list");
  c->ar->used += bytes;
  for (int64_t i = 0; i < n; i++) {
    uint8_t *dst = items + (size_t)i * esz;
    int64_t v;
    switch (f->kind) {
    case TR_LIST_I32:
      GF_RETURN_NOT_OK(read_int_as(c, et, &v));
      if (v < INT32_MIN || v > INT32_MAX) return bad(c, "i32 out of range");
      *(int32_t *)dst = (int32_t)v;
      break;
    case TR_LIST_I64:
      GF_RETURN_NOT_OK(read_int_as(c, et, &v));
      *(int64_t *)dst = v;
      break;
    case TR_LIST_BOOL:
      if (c->p >= c->end) return bad(c, "truncated bool");
      *(bool *)dst = *c->p++ == CT_TRUE;
      break;
    case TR_LIST_BINARY:
      GF_RETURN_NOT_OK(read_binary(c, (tr_bytes *)dst));
      break;
    default:
      GF_RETURN_NOT_OK(decode_struct(c, f->sub, dst, depth + 1));
      break;
    }
  }
  l->items = items;
  l->n = (int32_t)n;
  return GF_OK;
}

/* Decodes one field value of compact type `type` into `f`'s member. */
static gf_status decode_field(tr_cursor *c, const tr_field_def *f, int type,
                              uint8_t *out, int depth) {
  uint8_t *dst = out + f->offset;
  int want = expected_type(f->kind);
  bool match = want == CT_TRUE ? (type == CT_TRUE || type == CT_FALSE)
             : (want == CT_I32 || want == CT_I64) ? is_int_type(type)
             : want == CT_LIST ? (type == CT_LIST || type == CT_SET)
             : type == want;
  if (!match) {
    char msg[128];
    snprintf(msg, sizeof msg, "field '%s' has compact type %d", f->name, type);
    return bad(c, msg);
  }
  int64_t v;
  switch (f->kind) {
  case TR_BOOL:
    *(bool *)dst = type == CT_TRUE;
    return GF_OK;
  case TR_I32:
    GF_RETURN_NOT_OK(read_int_as(c, type, &v));
    if (v < INT32_MIN || v > INT32_MAX) return bad(c, "i32 out of range");
    *(int32_t *)dst = (int32_t)v;
    return GF_OK;
  case TR_I64:
    GF_RETURN_NOT_OK(read_int_as(c, type, &v));
    *(int64_t *)dst = v;
    return GF_OK;
  case TR_DOUBLE: {
    if (c->end - c->p < 8) return bad(c, "truncated double");
    uint64_t bits = 0;
    for (int i = 7; i >= 0; i--) bits = (bits << 8) | c->p[i];
    memcpy(dst, &bits, 8);
    c->p += 8;
    return GF_OK;
  }
  case TR_BINARY:
    return read_binary(c, (tr_bytes *)dst);
  case TR_STRUCT:
    return decode_struct(c, f->sub, dst, depth + 1);
  default:
    return decode_list(c, f, (tr_list *)dst, depth);
  }
}

/* Decodes one struct of def into out (def->size bytes), setting the
 * isset bits of the fields found; unknown fields are skipped. */
static gf_status decode_struct(tr_cursor *c, const tr_struct_def *def,
                               uint8_t *out, int depth) {
  if (depth > TR_MAX_DEPTH) return bad(c, "nesting too deep");
  memset(out, 0, def->size);
  const char *saved = c->where;
  c->where = def->name;
  int16_t last = 0;
  for (;;) {
    if (c->p >= c->end) return bad(c, "truncated struct (no stop byte)");
    uint8_t h = *c->p++;
    int type = h & 0x0f;
    if (type == CT_STOP) break;
    if (h >> 4) {
      last = (int16_t)(last + (h >> 4));
    } else {
      int64_t id;
      GF_RETURN_NOT_OK(read_zigzag(c, &id));
      if (id < INT16_MIN || id > INT16_MAX) return bad(c, "field id out of range");
      last = (int16_t)id;
    }
    const tr_field_def *f = NULL;
    for (int i = 0; i < def->nfields; i++)
      if (def->fields[i].id == last) {
        f = &def->fields[i];
        break;
      }
    if (!f) {
      if (type != CT_TRUE && type != CT_FALSE)
        GF_RETURN_NOT_OK(skip(c, type, depth + 1));
      continue;
    }
    GF_RETURN_NOT_OK(decode_field(c, f, type, out, depth));
    c->where = def->name;
    if (last >= 0 && last < 64) *(uint64_t *)out |= (uint64_t)1 << last;
  }
  c->where = saved;
  return GF_OK;
}

gf_status gfi_tr_decode(const uint8_t *buf, size_t len, size_t base,
                    const tr_struct_def *def, void *out, tr_arena *ar,
                    size_t *used, gf_error *err) {
  tr_cursor c = {buf, buf + len, buf, base, ar, err, def->name};
  GF_RETURN_NOT_OK(decode_struct(&c, def, out, 0));
  if (used) *used = (size_t)(c.p - buf);
  return GF_OK;
}
