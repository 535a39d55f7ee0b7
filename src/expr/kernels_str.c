/*
 * String kernels: dictionary code comparison, length (UTF-8 characters),
 * ASCII lower/upper, contains/starts_with/ends_with, substr.
 */
#include <string.h>

#include "expr/kernels.h"

/* Code of value (s, len) in dictionary d, or -1. */
static int64_t dict_lookup(const gf_array *d, const char *s, int64_t len) {
  if (!d) return -1;
  for (int64_t j = 0; j < d->length; j++) {
    if (!gfi_is_valid(d, j)) continue;
    int64_t l;
    const uint8_t *p = gfi_value_bytes(d, j, &l);
    if (l == len && (len == 0 || memcmp(p, s, (size_t)len) == 0)) return j;
  }
  return -1;
}

gf_status gfi_k_cmp_dict(gfi_kctx *k, const gfi_bnode *b, gfi_val *x,
                         gfi_val *y, gf_array **out) {
  const gfi_val *ins[1] = {x};
  gf_buffer *valid = NULL, *data = NULL;
  GF_RETURN_NOT_OK(gfi_and_validity(k, ins, 1, &valid));
  gf_status st = gfi_kbuf(k, (size_t)gfi_bitmap_bytes(k->n), &data);
  if (st != GF_OK) {
    gf_buffer_release(valid);
    return st;
  }
  const gf_array *d = x->arr->dictionary;
  int64_t code = dict_lookup(d, y->lit->s, y->lit->len);
  int64_t n = k->n;
  uint8_t *o = gf_buffer_mutable_data(data);
  const int32_t *c = gfi_val_data(x, 4);
  bool eq = b->op == GF_OP_EQ;
  if (code < 0) {
    if (!eq) gfi_bitmap_set_range(o, 0, n);
  } else {
    int32_t cc = (int32_t)code;
    int64_t i0 = 0;
    for (; i0 + 8 <= n; i0 += 8) {
      unsigned byte = 0;
      for (int j = 0; j < 8; j++) byte |= (unsigned)((c[i0 + j] == cc) == eq) << j;
      o[i0 >> 3] = (uint8_t)byte;
    }
    for (; i0 < n; i0++)
      if ((c[i0] == cc) == eq) gfi_bit_set(o, i0);
  }
  if (d && d->null_count > 0) {
    /* Rows whose code points at a null dictionary entry are null. */
    if (!valid) {
      st = gfi_kbuf(k, (size_t)gfi_bitmap_bytes(n), &valid);
      if (st != GF_OK) {
        gf_buffer_release(data);
        return st;
      }
      gfi_bitmap_set_range(gf_buffer_mutable_data(valid), 0, n);
    }
    uint8_t *m = gf_buffer_mutable_data(valid);
    for (int64_t i = 0; i < n; i++)
      if (gfi_bit_get(m, i) && (c[i] < 0 || c[i] >= d->length || !gfi_is_valid(d, c[i])))
        gfi_bit_clear(m, i);
  }
  if (valid) {
    const uint8_t *vb = gf_buffer_data(valid);
    int64_t nb = gfi_bitmap_bytes(n);
    for (int64_t j = 0; j < nb; j++) o[j] &= vb[j];
  }
  if (n & 7) o[gfi_bitmap_bytes(n) - 1] &= (uint8_t)((1u << (n & 7)) - 1);
  return gfi_kfinish(k, b->type, valid, data, NULL, NULL, -1, out);
}

/* Number of UTF-8 characters (non-continuation bytes). */
static int64_t utf8_chars(const char *s, int64_t len) {
  int64_t n = 0;
  for (int64_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

/* Byte offset of character index `ch` (0-based) in s, clamped to len. */
static int64_t utf8_byte_at(const char *s, int64_t len, int64_t ch) {
  int64_t i = 0, seen = 0;
  while (i < len) {
    if (((unsigned char)s[i] & 0xC0) != 0x80) {
      if (seen == ch) return i;
      seen++;
    }
    i++;
  }
  return len;
}

static bool find_bytes(const char *h, int64_t hl, const char *nd, int64_t nl) {
  if (nl == 0) return true;
  if (nl > hl) return false;
  const char *end = h + (hl - nl);
  for (const char *p = h; p <= end; p++) {
    p = memchr(p, nd[0], (size_t)(end - p + 1));
    if (!p) return false;
    if (memcmp(p, nd, (size_t)nl) == 0) return true;
  }
  return false;
}

/* Result of a string function with one output value per row. */
gf_status gfi_k_string(gfi_kctx *k, const gfi_bnode *b, gfi_val **args, int n,
                       gf_array **out) {
  for (int i = 0; i < n; i++)
    if (gfi_val_is_null_scalar(args[i])) return gfi_all_null(k, b->type, out);
  const gfi_val *ins[3] = {args[0], n > 1 ? args[1] : NULL, n > 2 ? args[2] : NULL};
  gf_buffer *valid = NULL;
  GF_RETURN_NOT_OK(gfi_and_validity(k, ins, 3, &valid));
  const uint8_t *vb = valid ? gf_buffer_data(valid) : NULL;
  int64_t rows = k->n;
  gf_status st = GF_OK;
  if (b->kind == GFI_B_LENGTH || b->kind == GFI_B_STRPRED) {
    bool is_len = b->kind == GFI_B_LENGTH;
    gf_buffer *data = NULL;
    st = gfi_kbuf(k, is_len ? (size_t)rows * 8 : (size_t)gfi_bitmap_bytes(rows), &data);
    if (st != GF_OK) {
      gf_buffer_release(valid);
      return st;
    }
    uint8_t *o = gf_buffer_mutable_data(data);
    gf_type_id t0 = args[0]->scalar ? args[0]->lit->type.id : args[0]->arr->type.id;
    bool bytes = t0 == GF_TYPE_BINARY || t0 == GF_TYPE_LARGE_BINARY; /* length in bytes */
    for (int64_t i = 0; i < rows; i++) {
      if (vb && !gfi_bit_get(vb, i)) continue;
      int64_t l;
      const char *s = gfi_val_str(args[0], i, &l);
      if (is_len) {
        ((int64_t *)o)[i] = bytes ? l : utf8_chars(s, l);
        continue;
      }
      int64_t pl;
      const char *p = gfi_val_str(args[1], i, &pl);
      bool r;
      if (b->fn == GFI_FN_CONTAINS) r = find_bytes(s, l, p, pl);
      else if (pl > l) r = false;
      else if (b->fn == GFI_FN_STARTS) r = pl == 0 || memcmp(s, p, (size_t)pl) == 0;
      else r = pl == 0 || memcmp(s + l - pl, p, (size_t)pl) == 0;
      if (r) gfi_bit_set(o, i);
    }
    return gfi_kfinish(k, b->type, valid, data, NULL, NULL, -1, out);
  }
  gf_builder *bl;
  st = gf_builder_new(b->type, k->a, &bl, k->err);
  if (st != GF_OK) {
    gf_buffer_release(valid);
    return st;
  }
  char *tmp = NULL;
  size_t tmp_cap = 0;
  st = gf_builder_reserve(bl, rows, 0, k->err);
  for (int64_t i = 0; i < rows && st == GF_OK; i++) {
    if (vb && !gfi_bit_get(vb, i)) {
      st = gf_builder_append_null(bl, k->err);
      continue;
    }
    int64_t l;
    const char *s = gfi_val_str(args[0], i, &l);
    if (b->kind == GFI_B_SUBSTR) {
      int64_t start = gfi_val_i64(args[1], i);
      int64_t chars = -1;
      if (start < 0) {
        chars = utf8_chars(s, l);
        start = chars + start; /* -1 is the last character */
        if (start < 0) start = 0;
      } else if (start > 0) {
        start -= 1;
      }
      int64_t from = utf8_byte_at(s, l, start), to = l;
      if (n > 2) {
        int64_t cnt = gfi_val_i64(args[2], i);
        if (cnt < 0) cnt = 0;
        to = from + utf8_byte_at(s + from, l - from, cnt);
      }
      st = gf_builder_append_bytes(bl, s + from, to - from, k->err);
      continue;
    }
    if ((size_t)l > tmp_cap) {
      size_t nc = (size_t)l * 2 + 16;
      char *t2 = gfi_malloc(k->a, nc);
      if (!t2) {
        st = GF_OOM(k->err, "string scratch");
        break;
      }
      if (tmp) gfi_mfree(k->a, tmp, tmp_cap);
      tmp = t2;
      tmp_cap = nc;
    }
    bool up = b->kind == GFI_B_UPPER;
    for (int64_t j = 0; j < l; j++) {
      char ch = s[j];
      if (up && ch >= 'a' && ch <= 'z') ch = (char)(ch - 32);
      else if (!up && ch >= 'A' && ch <= 'Z') ch = (char)(ch + 32);
      tmp[j] = ch;
    }
    st = gf_builder_append_bytes(bl, tmp ? tmp : "", l, k->err);
  }
  if (tmp) gfi_mfree(k->a, tmp, tmp_cap);
  gf_buffer_release(valid);
  if (st == GF_OK) st = gf_builder_finish(bl, out, k->err);
  gf_builder_free(bl);
  return st;
}
