/*
 * `x in (literal, ...)` as one hash-set probe per row (GFI_B_IN_SET): the
 * set of the items (built once at bind time) and its kernel. Semantics are
 * those of the OR of `x = item` it replaces (expr_internal.h, gfi_inset).
 */
#include <string.h>

#include "core/hash.h"
#include "expr/kernels.h"

/* One slot of the open-addressing table: a 64-bit key (numbers: the value's
 * bits; strings: the hash, with the bytes at s/len in the arena). */
typedef struct inslot {
  uint64_t key;
  int64_t off; /* strings: byte offset in the arena */
  int64_t len; /* strings: length */
  bool used;
} inslot;

struct gfi_inset {
  int refs;
  int domain;
  bool dict;     /* strings of a dictionary column's values */
  bool has_null; /* a null item */
  const gf_allocator *a;
  inslot *slots;
  int64_t cap;   /* power of two, > 2 * count */
  int64_t count;
  gfi_vec bytes; /* string items */
};

static bool str_keys(const gfi_inset *s) { return s->dict || s->domain == GFI_DOM_STR; }

/* The key of double d under `=`: -0.0 and 0.0 are one key. */
static uint64_t f64_key(double d) {
  if (d == 0.0) d = 0.0;
  uint64_t k;
  memcpy(&k, &d, sizeof k);
  return k;
}

static uint64_t slot_hash(uint64_t key, bool str) { return str ? key : gfi_mix64(key); }

gf_status gfi_inset_new(const gf_allocator *a, int domain, bool dict, gfi_inset **out,
                        gf_error *err) {
  a = gfi_alloc_or_default(a);
  gfi_inset *s = gfi_calloc(a, sizeof *s);
  if (!s) return GF_OOM(err, "an in-list set");
  s->refs = 1;
  s->domain = domain;
  s->dict = dict;
  s->a = a;
  s->cap = 16;
  s->slots = gfi_calloc(a, sizeof *s->slots * (size_t)s->cap);
  if (!s->slots) {
    gfi_mfree(a, s, sizeof *s);
    return GF_OOM(err, "an in-list set");
  }
  gfi_vec_init(&s->bytes, a);
  *out = s;
  return GF_OK;
}

gfi_inset *gfi_inset_retain(gfi_inset *s) {
  if (s) s->refs++;
  return s;
}

void gfi_inset_release(gfi_inset *s) {
  if (!s || --s->refs > 0) return;
  gfi_mfree(s->a, s->slots, sizeof *s->slots * (size_t)s->cap);
  gfi_vec_reset(&s->bytes);
  gfi_mfree(s->a, s, sizeof *s);
}

/* The slot holding key k (bytes p/len for strings), or the empty slot
 * where it would go. */
static inslot *find(const gfi_inset *s, uint64_t k, const char *p, int64_t len) {
  bool str = str_keys(s);
  uint64_t m = (uint64_t)s->cap - 1;
  for (uint64_t i = slot_hash(k, str) & m;; i = (i + 1) & m) {
    inslot *e = &s->slots[i];
    if (!e->used) return e;
    if (e->key != k) continue;
    if (!str) return e;
    if (e->len == len && (len == 0 || memcmp(s->bytes.data + e->off, p, (size_t)len) == 0))
      return e;
  }
}

/* Doubles the table. */
static gf_status grow(gfi_inset *s, gf_error *err) {
  int64_t ncap = s->cap * 2;
  inslot *ns = gfi_calloc(s->a, sizeof *ns * (size_t)ncap);
  if (!ns) return GF_OOM(err, "an in-list set");
  inslot *old = s->slots;
  int64_t ocap = s->cap;
  s->slots = ns;
  s->cap = ncap;
  for (int64_t i = 0; i < ocap; i++)
    if (old[i].used) {
      uint64_t m = (uint64_t)ncap - 1;
      uint64_t j = slot_hash(old[i].key, str_keys(s)) & m;
      while (ns[j].used) j = (j + 1) & m;
      ns[j] = old[i];
    }
  gfi_mfree(s->a, old, sizeof *old * (size_t)ocap);
  return GF_OK;
}

gf_status gfi_inset_add(gfi_inset *s, const gfi_lit *l, gf_error *err) {
  if (l->null || l->type.id == GF_TYPE_NULL) {
    s->has_null = true;
    return GF_OK;
  }
  uint64_t k;
  const char *p = NULL;
  int64_t len = 0;
  if (str_keys(s)) {
    p = l->s ? l->s : "";
    len = l->len;
    k = gfi_hash_bytes(p, (size_t)len);
  } else if (s->domain == GFI_DOM_F64) {
    if (l->f != l->f) return GF_OK; /* x = NaN is never true */
    k = f64_key(l->f);
  } else {
    k = (uint64_t)l->i;
  }
  if ((s->count + 1) * 2 > s->cap) GF_RETURN_NOT_OK(grow(s, err));
  inslot *e = find(s, k, p, len);
  if (e->used) return GF_OK; /* a duplicate item */
  int64_t off = (int64_t)s->bytes.len;
  if (str_keys(s) && len > 0) GF_RETURN_NOT_OK(gfi_vec_append(&s->bytes, p, (size_t)len, err));
  *e = (inslot){k, off, len, true};
  s->count++;
  return GF_OK;
}

static bool has_str(const gfi_inset *s, const char *p, int64_t len) {
  return find(s, gfi_hash_bytes(p, (size_t)len), p, len)->used;
}

static bool has_num(const gfi_inset *s, uint64_t k) { return find(s, k, NULL, 0)->used; }

/* Membership of row i of x: 1 in the set, 0 not (x valid). */
static bool row_in(const gfi_inset *s, const gfi_val *x, int64_t i) {
  switch (s->domain) {
    case GFI_DOM_STR: {
      int64_t len;
      const char *p = gfi_val_str(x, i, &len);
      return has_str(s, p, len);
    }
    case GFI_DOM_F64: {
      double d = gfi_val_f64(x, i);
      return d == d && has_num(s, f64_key(d));
    }
    default: return has_num(s, (uint64_t)gfi_val_i64(x, i));
  }
}

/* Writable all-valid bitmap of k->n rows when *valid is NULL. */
static gf_status own_validity(gfi_kctx *k, gf_buffer **valid) {
  if (*valid) return GF_OK;
  GF_RETURN_NOT_OK(gfi_kbuf(k, (size_t)gfi_bitmap_bytes(k->n), valid));
  gfi_bitmap_set_range(gf_buffer_mutable_data(*valid), 0, k->n);
  return GF_OK;
}

/* Dictionary operand: the membership of each dictionary entry (0 no, 1
 * yes, 2 null entry) is computed once, then each row reads its code's. */
static gf_status dict_rows(gfi_kctx *k, const gfi_inset *s, const gfi_val *x, uint8_t *o,
                           gf_buffer **valid) {
  const gf_array *d = x->arr->dictionary;
  int64_t nd = d ? d->length : 0;
  uint8_t *mem = gfi_malloc(k->a, (size_t)(nd > 0 ? nd : 1));
  if (!mem) return GF_OOM(k->err, "in-list dictionary membership");
  for (int64_t j = 0; j < nd; j++) {
    if (!gfi_is_valid(d, j)) {
      mem[j] = 2;
      continue;
    }
    gfi_val dv = {false, NULL, (gf_array *)d, 0, nd};
    int64_t len;
    const char *p = gfi_val_str(&dv, j, &len);
    mem[j] = has_str(s, p, len) ? 1 : 0;
  }
  gf_status st = GF_OK;
  const int32_t *codes = gfi_val_data(x, 4);
  int64_t n = k->n;
  uint8_t *vb = *valid ? gf_buffer_mutable_data(*valid) : NULL;
  for (int64_t i = 0; i < n; i++) {
    if (vb && !gfi_bit_get(vb, i)) continue; /* null row: garbage code */
    int32_t c = codes[i];
    int m = c >= 0 && c < nd ? mem[c] : 2;
    if (m == 1) {
      gfi_bit_set(o, i);
    } else if (m == 2 || s->has_null) {
      if (!vb) {
        st = own_validity(k, valid);
        if (st != GF_OK) break;
        vb = gf_buffer_mutable_data(*valid);
      }
      gfi_bit_clear(vb, i);
    }
  }
  gfi_mfree(k->a, mem, (size_t)(nd > 0 ? nd : 1));
  return st;
}

gf_status gfi_k_in_set(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gf_array **out) {
  const gfi_inset *s = b->set;
  if (gfi_val_is_null_scalar(x)) return gfi_all_null(k, b->type, out);
  const gfi_val *ins[1] = {x};
  gf_buffer *valid = NULL, *data = NULL;
  GF_RETURN_NOT_OK(gfi_and_validity(k, ins, 1, &valid));
  gf_status st = gfi_kbuf(k, (size_t)gfi_bitmap_bytes(k->n), &data);
  if (st == GF_OK && s->has_null) st = own_validity(k, &valid);
  if (st != GF_OK) {
    gf_buffer_release(valid);
    gf_buffer_release(data);
    return st;
  }
  uint8_t *o = gf_buffer_mutable_data(data);
  int64_t n = k->n;
  if (s->dict && !x->scalar) {
    st = dict_rows(k, s, x, o, &valid);
  } else {
    uint8_t *vb = valid ? gf_buffer_mutable_data(valid) : NULL;
    for (int64_t i = 0; i < n; i++) {
      if (vb && !gfi_bit_get(vb, i)) continue;
      if (row_in(s, x, i)) gfi_bit_set(o, i);
      else if (s->has_null) gfi_bit_clear(vb, i);
    }
  }
  if (st != GF_OK) {
    gf_buffer_release(valid);
    gf_buffer_release(data);
    return st;
  }
  return gfi_kfinish(k, b->type, valid, data, NULL, NULL, -1, out);
}
