/* Hand-written flatbuffers: one generic verifier, accessors and a builder,
 * all driven by the declarative fb_table_def descriptions (see flatbuf.h). */
#include <string.h>

#include "io/flatbuf.h"

#define FB_MAX_DEPTH 64
/* Objects (tables, vector elements) one verification may visit: bounds the
 * time spent on buffers whose offsets alias the same table many times. */
#define FB_MAX_VISITS 1000000

typedef struct fb_verifier {
  const uint8_t *buf;
  size_t len;
  size_t base;
  int64_t visits;
  gf_error *err;
} fb_verifier;

static gf_status vfail(fb_verifier *v, size_t pos, const char *what,
                       const char *tname, const char *fname) {
  return gf_error_set(v->err, GF_EINVAL,
                      "malformed IPC metadata at byte %zu: %s (%s%s%s)",
                      v->base + pos, what, tname, fname ? "." : "",
                      fname ? fname : "");
}

static size_t kind_size(fb_kind k) {
  switch (k) {
    case FB_BOOL:
    case FB_U8: return 1;
    case FB_I16: return 2;
    case FB_I64: return 8;
    default: return 4; /* I32 and every offset */
  }
}

static bool is_offset_kind(fb_kind k) { return k >= FB_STRING; }

static uint16_t load_u16(const uint8_t *p) {
  return (uint16_t)(p[0] | p[1] << 8);
}

/* Position of field `slot` inside table at tpos (0 = absent). Assumes the
 * vtable was verified. */
static size_t field_off(const uint8_t *buf, size_t tpos, int slot) {
  size_t vt = (size_t)((int64_t)tpos - gfi_fb_load_i32(buf + tpos));
  uint16_t vtsize = load_u16(buf + vt);
  size_t at = 4 + 2 * (size_t)slot;
  if (at + 2 > vtsize) return 0;
  return load_u16(buf + vt + at);
}

/* Follows the uoffset at `at`; false when it leaves the buffer. */
static bool follow(const uint8_t *buf, size_t len, size_t at, size_t *out) {
  if (at > len || len - at < 4) return false;
  uint64_t tgt = (uint64_t)at + gfi_fb_load_u32(buf + at);
  if (tgt >= len) return false;
  *out = (size_t)tgt;
  return true;
}

static gf_status verify_table(fb_verifier *v, size_t pos,
                              const fb_table_def *def, int depth);

/* Verifies a vector header at pos holding n elements of esize bytes. */
static gf_status verify_vector(fb_verifier *v, size_t pos, size_t esize,
                               const fb_table_def *def, const char *fname,
                               size_t *n_out) {
  if (v->len - pos < 4) return vfail(v, pos, "vector length out of bounds", def->name, fname);
  uint64_t n = gfi_fb_load_u32(v->buf + pos);
  if (n > (v->len - pos - 4) / esize)
    return vfail(v, pos, "vector longer than the buffer", def->name, fname);
  *n_out = (size_t)n;
  return GF_OK;
}

/* Verifies one present field of the table at tpos. */
static gf_status verify_field(fb_verifier *v, size_t tpos, size_t fpos,
                              const fb_table_def *def, const fb_field_def *f,
                              int depth) {
  if (!is_offset_kind(f->kind)) return GF_OK;
  size_t tgt;
  if (!follow(v->buf, v->len, fpos, &tgt))
    return vfail(v, fpos, "offset out of bounds", def->name, f->name);
  size_t n;
  switch (f->kind) {
    case FB_STRING:
      GF_RETURN_NOT_OK(verify_vector(v, tgt, 1, def, f->name, &n));
      return GF_OK;
    case FB_TABLE:
      return verify_table(v, tgt, f->table, depth + 1);
    case FB_UNION: {
      size_t tag_off = field_off(v->buf, tpos, f->slot - 1);
      unsigned tag = tag_off ? v->buf[tpos + tag_off] : 0;
      if (tag == 0)
        return vfail(v, fpos, "union value without a type", def->name, f->name);
      /* Unknown tags are left for the reader to refuse by name. */
      if ((int)tag >= f->union_count || !f->union_tables[tag]) return GF_OK;
      return verify_table(v, tgt, f->union_tables[tag], depth + 1);
    }
    case FB_VEC_TABLE:
      GF_RETURN_NOT_OK(verify_vector(v, tgt, 4, def, f->name, &n));
      for (size_t i = 0; i < n; i++) {
        size_t at = tgt + 4 + 4 * i, el;
        if (!follow(v->buf, v->len, at, &el))
          return vfail(v, at, "vector element offset out of bounds", def->name,
                       f->name);
        GF_RETURN_NOT_OK(verify_table(v, el, f->table, depth + 1));
      }
      return GF_OK;
    case FB_VEC_STRUCT:
      return verify_vector(v, tgt, (size_t)f->elem_size, def, f->name, &n);
    case FB_VEC_I64:
      return verify_vector(v, tgt, 8, def, f->name, &n);
    default:
      return GF_OK;
  }
}

/* Verifies the table at pos of type def and, recursively, all it refers to. */
static gf_status verify_table(fb_verifier *v, size_t pos,
                              const fb_table_def *def, int depth) {
  if (depth > FB_MAX_DEPTH)
    return vfail(v, pos, "tables nested too deeply", def->name, NULL);
  if (++v->visits > FB_MAX_VISITS)
    return vfail(v, pos, "too many objects", def->name, NULL);
  if (pos > v->len || v->len - pos < 4)
    return vfail(v, pos, "table out of bounds", def->name, NULL);
  int64_t vt = (int64_t)pos - gfi_fb_load_i32(v->buf + pos);
  if (vt < 0 || (uint64_t)vt > v->len - 4)
    return vfail(v, pos, "vtable out of bounds", def->name, NULL);
  uint16_t vtsize = load_u16(v->buf + vt);
  uint16_t tsize = load_u16(v->buf + vt + 2);
  if (vtsize < 4 || (vtsize & 1) || (uint64_t)vt + vtsize > v->len)
    return vfail(v, (size_t)vt, "bad vtable size", def->name, NULL);
  if (tsize < 4 || v->len - pos < tsize)
    return vfail(v, pos, "table size out of bounds", def->name, NULL);
  for (int i = 0; i < def->nfields; i++) {
    const fb_field_def *f = &def->fields[i];
    size_t off = field_off(v->buf, pos, f->slot);
    if (!off) continue;
    if (off + kind_size(f->kind) > tsize)
      return vfail(v, pos + off, "field outside its table", def->name, f->name);
    GF_RETURN_NOT_OK(verify_field(v, pos, pos + off, def, f, depth));
  }
  return GF_OK;
}

/* See flatbuf.h. */
gf_status gfi_fb_verify(const uint8_t *buf, size_t len, const fb_table_def *root,
                    size_t base, gf_error *err) {
  fb_verifier v = {buf, len, base, 0, err};
  size_t pos;
  if (!buf || !follow(buf, len, 0, &pos))
    return vfail(&v, 0, "root offset out of bounds", root->name, NULL);
  return verify_table(&v, pos, root, 0);
}

fb_table gfi_fb_root(const uint8_t *buf, size_t len, const fb_table_def *root) {
  fb_table t = {buf, len, gfi_fb_load_u32(buf), root};
  return t;
}

bool gfi_fb_present(const fb_table *t) { return t->buf != NULL; }

static const fb_field_def *find_field(const fb_table_def *def, int slot) {
  for (int i = 0; i < def->nfields; i++)
    if (def->fields[i].slot == slot) return &def->fields[i];
  return NULL;
}

int64_t gfi_fb_get_int(const fb_table *t, int slot, int64_t dflt) {
  const fb_field_def *f = t->buf ? find_field(t->def, slot) : NULL;
  if (!f) return dflt;
  size_t off = field_off(t->buf, t->pos, slot);
  if (!off) return dflt;
  const uint8_t *p = t->buf + t->pos + off;
  switch (f->kind) {
    case FB_BOOL: return p[0] != 0;
    case FB_U8: return p[0];
    case FB_I16: return (int16_t)load_u16(p);
    case FB_I32: return gfi_fb_load_i32(p);
    case FB_I64: return gfi_fb_load_i64(p);
    default: return dflt;
  }
}

/* Target of offset field `slot`, or 0 when absent. */
static size_t target_of(const fb_table *t, int slot) {
  if (!t->buf) return 0;
  size_t off = field_off(t->buf, t->pos, slot);
  size_t tgt;
  if (!off || !follow(t->buf, t->len, t->pos + off, &tgt)) return 0;
  return tgt;
}

bool gfi_fb_get_table(const fb_table *t, int slot, fb_table *out) {
  const fb_field_def *f = t->buf ? find_field(t->def, slot) : NULL;
  size_t tgt = target_of(t, slot);
  memset(out, 0, sizeof *out);
  if (!f || !tgt) return false;
  const fb_table_def *def = f->table;
  if (f->kind == FB_UNION) {
    int64_t tag = gfi_fb_get_int(t, slot - 1, 0);
    if (tag <= 0 || tag >= f->union_count || !f->union_tables[tag]) return false;
    def = f->union_tables[tag];
  } else if (f->kind != FB_TABLE) {
    return false;
  }
  *out = (fb_table){t->buf, t->len, tgt, def};
  return true;
}

bool gfi_fb_get_string(const fb_table *t, int slot, const char **s, size_t *n) {
  size_t tgt = target_of(t, slot);
  if (!tgt) return false;
  *n = gfi_fb_load_u32(t->buf + tgt);
  *s = (const char *)t->buf + tgt + 4;
  return true;
}

size_t gfi_fb_vec_len(const fb_table *t, int slot) {
  size_t tgt = target_of(t, slot);
  return tgt ? gfi_fb_load_u32(t->buf + tgt) : 0;
}

bool gfi_fb_vec_table(const fb_table *t, int slot, size_t i, fb_table *out) {
  const fb_field_def *f = t->buf ? find_field(t->def, slot) : NULL;
  size_t tgt = target_of(t, slot), el;
  memset(out, 0, sizeof *out);
  if (!f || f->kind != FB_VEC_TABLE || !tgt || i >= gfi_fb_load_u32(t->buf + tgt))
    return false;
  if (!follow(t->buf, t->len, tgt + 4 + 4 * i, &el)) return false;
  *out = (fb_table){t->buf, t->len, el, f->table};
  return true;
}

const uint8_t *gfi_fb_vec_data(const fb_table *t, int slot) {
  size_t tgt = target_of(t, slot);
  return tgt ? t->buf + tgt + 4 : NULL;
}

/* ------------------------------------------------------------------ */
/* Builder                                                              */
/* ------------------------------------------------------------------ */

enum { NODE_TABLE, NODE_STRING, NODE_VEC_TABLES, NODE_VEC_RAW };

struct fbb_node {
  int type;
  const fb_table_def *def;
  /* tables: one entry per field of def */
  int64_t *ints;
  fbb_node **kids;
  bool *set;
  /* strings and raw vectors */
  const uint8_t *data;
  size_t n, elem_size, align;
  fbb_node **items; /* vectors of tables */
};

typedef struct arena_block {
  struct arena_block *next;
  size_t size;
} arena_block;

struct fbb {
  const gf_allocator *a;
  arena_block *blocks;
  bool oom;
  /* output */
  uint8_t *out;
  size_t len, cap;
};

fbb *gfi_fbb_new(const gf_allocator *a) {
  a = gfi_alloc_or_default(a);
  fbb *b = gfi_calloc(a, sizeof *b);
  if (b) b->a = a;
  return b;
}

void gfi_fbb_free(fbb *b) {
  if (!b) return;
  arena_block *k = b->blocks;
  while (k) {
    arena_block *next = k->next;
    gfi_mfree(b->a, k, k->size);
    k = next;
  }
  gfi_mfree(b->a, b, sizeof *b);
}

/* Zeroed arena memory (one block per request: the trees are small). */
static void *arena(fbb *b, size_t size) {
  if (!b || b->oom) return NULL;
  size_t total = sizeof(arena_block) + ((size + 15) & ~(size_t)15);
  arena_block *k = gfi_calloc(b->a, total);
  if (!k) {
    b->oom = true;
    return NULL;
  }
  k->size = total;
  k->next = b->blocks;
  b->blocks = k;
  return (uint8_t *)k + sizeof(arena_block);
}

void *gfi_fbb_alloc(fbb *b, size_t size) { return arena(b, size); }

fbb_node *gfi_fbb_table(fbb *b, const fb_table_def *def) {
  size_t nf = (size_t)def->nfields;
  fbb_node *t = arena(b, sizeof *t + nf * (sizeof(int64_t) + sizeof(fbb_node *) + 1));
  if (!t) return NULL;
  t->type = NODE_TABLE;
  t->def = def;
  t->ints = (int64_t *)(t + 1);
  t->kids = (fbb_node **)(t->ints + nf);
  t->set = (bool *)(t->kids + nf);
  return t;
}

static int field_index(const fb_table_def *def, int slot) {
  for (int i = 0; i < def->nfields; i++)
    if (def->fields[i].slot == slot) return i;
  return -1;
}

void gfi_fbb_set_int(fbb_node *t, int slot, int64_t v) {
  if (!t) return;
  int i = field_index(t->def, slot);
  if (i < 0 || is_offset_kind(t->def->fields[i].kind)) return;
  t->ints[i] = v;
  t->set[i] = true;
}

void gfi_fbb_set_child(fbb_node *t, int slot, fbb_node *child) {
  if (!t || !child) return;
  int i = field_index(t->def, slot);
  if (i < 0 || !is_offset_kind(t->def->fields[i].kind)) return;
  t->kids[i] = child;
  t->set[i] = true;
}

fbb_node *gfi_fbb_string(fbb *b, const char *s, size_t n) {
  fbb_node *x = arena(b, sizeof *x + n + 1);
  if (!x) return NULL;
  x->type = NODE_STRING;
  uint8_t *d = (uint8_t *)(x + 1);
  if (n) memcpy(d, s, n);
  x->data = d;
  x->n = n;
  return x;
}

fbb_node *gfi_fbb_vec_tables(fbb *b, fbb_node *const *items, size_t n) {
  fbb_node *x = arena(b, sizeof *x + n * sizeof(fbb_node *));
  if (!x) return NULL;
  x->type = NODE_VEC_TABLES;
  x->items = (fbb_node **)(x + 1);
  for (size_t i = 0; i < n; i++) {
    if (!items[i]) return NULL; /* an item failed to allocate: oom is set */
    x->items[i] = items[i];
  }
  x->n = n;
  return x;
}

fbb_node *gfi_fbb_vec_raw(fbb *b, const void *data, size_t n, size_t elem_size,
                      size_t align) {
  fbb_node *x = arena(b, sizeof *x + n * elem_size);
  if (!x) return NULL;
  x->type = NODE_VEC_RAW;
  uint8_t *d = (uint8_t *)(x + 1);
  if (n) memcpy(d, data, n * elem_size);
  x->data = d;
  x->n = n;
  x->elem_size = elem_size;
  x->align = align < 4 ? 4 : align;
  return x;
}

/* Makes room for `n` more output bytes. */
static bool out_reserve(fbb *b, size_t n) {
  if (b->oom) return false;
  if (b->cap - b->len >= n) return true;
  size_t ncap = b->cap ? b->cap : 256;
  while (ncap - b->len < n) ncap *= 2;
  uint8_t *p = gf_realloc(b->a, b->out, b->cap, ncap, 8);
  if (!p) {
    b->oom = true;
    return false;
  }
  memset(p + b->cap, 0, ncap - b->cap);
  b->out = p;
  b->cap = ncap;
  return true;
}

/* Appends zero bytes until len % align == rem. */
static bool out_pad(fbb *b, size_t align, size_t rem) {
  size_t need = (rem + align - b->len % align) % align;
  if (!out_reserve(b, need)) return false;
  b->len += need; /* bytes already zero */
  return true;
}

static bool out_bytes(fbb *b, const void *p, size_t n) {
  if (!out_reserve(b, n)) return false;
  if (n) memcpy(b->out + b->len, p, n);
  b->len += n;
  return true;
}

static void put_le(uint8_t *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static bool out_u32(fbb *b, uint32_t v) {
  uint8_t t[4];
  put_le(t, v, 4);
  return out_bytes(b, t, 4);
}

/* Writes node x (and everything under it, after it) and returns its
 * position; 0 on allocation failure (position 0 is the root offset). */
static size_t emit(fbb *b, const fbb_node *x) {
  switch (x->type) {
    case NODE_STRING: {
      if (!out_pad(b, 4, 0)) return 0;
      size_t pos = b->len;
      if (!out_u32(b, (uint32_t)x->n) || !out_bytes(b, x->data, x->n) ||
          !out_bytes(b, "", 1))
        return 0;
      return pos;
    }
    case NODE_VEC_RAW: {
      if (!out_pad(b, x->align, x->align - 4)) return 0;
      size_t pos = b->len;
      if (!out_u32(b, (uint32_t)x->n) ||
          !out_bytes(b, x->data, x->n * x->elem_size))
        return 0;
      return pos;
    }
    case NODE_VEC_TABLES: {
      if (!out_pad(b, 4, 0)) return 0;
      size_t pos = b->len;
      if (!out_u32(b, (uint32_t)x->n) || !out_reserve(b, 4 * x->n)) return 0;
      b->len += 4 * x->n;
      for (size_t i = 0; i < x->n; i++) {
        size_t p = emit(b, x->items[i]);
        if (!p) return 0;
        size_t at = pos + 4 + 4 * i;
        put_le(b->out + at, p - at, 4);
      }
      return pos;
    }
    default: break;
  }
  /* Table: vtable first, then the table (8-aligned) with fields placed by
   * decreasing width so each is naturally aligned. */
  const fb_table_def *def = x->def;
  int nslots = 0;
  size_t foff[64] = {0};
  size_t cursor = 4;
  for (size_t w = 8; w >= 1; w /= 2) {
    for (int i = 0; i < def->nfields && i < 64; i++) {
      if (!x->set[i] || kind_size(def->fields[i].kind) != w) continue;
      cursor = (cursor + w - 1) & ~(w - 1);
      foff[i] = cursor;
      cursor += w;
      if (def->fields[i].slot + 1 > nslots) nslots = def->fields[i].slot + 1;
    }
  }
  size_t tsize = (cursor + 3) & ~(size_t)3;
  size_t vtsize = 4 + 2 * (size_t)nslots;
  if (!out_pad(b, 2, 0)) return 0;
  size_t vtpos = b->len;
  if (!out_reserve(b, vtsize)) return 0;
  uint8_t *vt = b->out + vtpos;
  put_le(vt, vtsize, 2);
  put_le(vt + 2, tsize, 2);
  for (int i = 0; i < def->nfields && i < 64; i++)
    if (x->set[i]) put_le(vt + 4 + 2 * def->fields[i].slot, foff[i], 2);
  b->len += vtsize;
  if (!out_pad(b, 8, 0) || !out_reserve(b, tsize)) return 0;
  size_t tpos = b->len;
  put_le(b->out + tpos, (uint64_t)(uint32_t)(int32_t)(tpos - vtpos), 4);
  for (int i = 0; i < def->nfields && i < 64; i++)
    if (x->set[i] && !is_offset_kind(def->fields[i].kind))
      put_le(b->out + tpos + foff[i], (uint64_t)x->ints[i],
             kind_size(def->fields[i].kind));
  b->len += tsize;
  for (int i = 0; i < def->nfields && i < 64; i++) {
    if (!x->set[i] || !is_offset_kind(def->fields[i].kind)) continue;
    size_t p = emit(b, x->kids[i]);
    if (!p) return 0;
    size_t at = tpos + foff[i];
    put_le(b->out + at, p - at, 4);
  }
  return tpos;
}

/* See flatbuf.h. */
gf_status gfi_fbb_finish(fbb *b, fbb_node *root, uint8_t **out, size_t *len,
                     size_t *cap, gf_error *err) {
  if (!b || b->oom || !root) return GF_OOM(err, "IPC metadata");
  b->len = 0;
  size_t p = 0;
  if (out_reserve(b, 4)) {
    b->len = 4;
    p = emit(b, root);
  }
  if (!p || !out_pad(b, 8, 0)) {
    gf_free(b->a, b->out, b->cap, 8);
    b->out = NULL;
    b->cap = b->len = 0;
    return GF_OOM(err, "IPC metadata");
  }
  put_le(b->out, p, 4);
  *out = b->out;
  *len = b->len;
  *cap = b->cap;
  b->out = NULL;
  b->cap = b->len = 0;
  return GF_OK;
}
