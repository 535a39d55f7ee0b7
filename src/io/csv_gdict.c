/*
 * One column's growing dictionary of utf8 values (csv_internal.h): the
 * values of several per-batch or per-window dictionaries are interned in
 * order, so codes follow first appearance and never change once given
 * (append-only). Used by the whole-file reader to merge its batches'
 * dictionaries (csv_read.c) and by the streaming source to keep one
 * dictionary across windows (exec/source_csv.c).
 *
 * Slots hold the upper 32 bits of the value's hash next to its code, so a
 * probe compares bytes only when the tags agree: merging 10^5-value
 * dictionaries probes a table beyond L2 once per value, and the bytes of a
 * non-matching value are then never fetched.
 */
#include "io/csv_internal.h"

#include "core/hash.h"
#include "data/array_internal.h"
#include "data/builder_internal.h"

/* Slot: tag << 32 | (code + 1); 0 = empty. */
static inline uint64_t slot_of(uint64_t h, int32_t code) {
  return (h & UINT64_C(0xffffffff00000000)) | (uint64_t)(uint32_t)(code + 1);
}

/* Frees the dictionary's memory and zeroes it. */
void gfi_csv_gdict_free(const gf_allocator *a, gfi_csv_gdict *d) {
  if (d->off) gfi_mfree(a, d->off, sizeof *d->off * (size_t)d->off_cap);
  if (d->bytes) gfi_mfree(a, d->bytes, (size_t)d->bcap);
  if (d->slots) gfi_mfree(a, d->slots, sizeof *d->slots * (size_t)d->nslots);
  gf_array_release(d->snap);
  memset(d, 0, sizeof *d);
}

/* Rebuilds the slot table at `ns` (a power of two) slots. */
static gf_status rehash(const gf_allocator *a, gfi_csv_gdict *d, int64_t ns) {
  uint64_t *s = gfi_calloc(a, sizeof *s * (size_t)ns);
  if (!s) return GF_ENOMEM;
  for (int32_t c = 0; c < d->n; c++) {
    uint64_t h = gfi_hash_bytes(d->bytes + d->off[c], (size_t)(d->off[c + 1] - d->off[c]));
    int64_t i = (int64_t)(h & (uint64_t)(ns - 1));
    while (s[i]) i = (i + 1) & (ns - 1);
    s[i] = slot_of(h, c);
  }
  if (d->slots) gfi_mfree(a, d->slots, sizeof *d->slots * (size_t)d->nslots);
  d->slots = s;
  d->nslots = ns;
  return GF_OK;
}

/* The code of value p[0..n), added when new. GF_ENOTSUP past 2^31 values
 * or 2 GiB of bytes, GF_ENOMEM. */
gf_status gfi_csv_gdict_intern(const gf_allocator *a, gfi_csv_gdict *d, const char *p,
                               int64_t n, int32_t *code, gf_error *err) {
  if (!d->slots || (int64_t)(d->n + 1) * 2 > d->nslots)
    if (rehash(a, d, d->nslots ? d->nslots * 2 : 64) != GF_OK)
      return GF_OOM(err, "a CSV dictionary");
  const uint64_t h = gfi_hash_bytes(p, (size_t)n);
  const uint64_t tag = h & UINT64_C(0xffffffff00000000);
  int64_t i = (int64_t)(h & (uint64_t)(d->nslots - 1));
  for (uint64_t s; (s = d->slots[i]) != 0; i = (i + 1) & (d->nslots - 1)) {
    if ((s & UINT64_C(0xffffffff00000000)) != tag) continue;
    int32_t c = (int32_t)(uint32_t)s - 1;
    if (d->off[c + 1] - d->off[c] == n && memcmp(d->bytes + d->off[c], p, (size_t)n) == 0) {
      *code = c;
      return GF_OK;
    }
  }
  if (d->n == INT32_MAX - 1 || d->blen + n > INT32_MAX)
    return gf_error_set(err, GF_ENOTSUP, "CSV dictionary exceeds 2 GiB or 2^31 values");
  if (d->n + 2 > d->off_cap) {
    int64_t cap = d->off_cap ? d->off_cap * 2 : 256;
    int32_t *o = gfi_malloc(a, sizeof *o * (size_t)cap);
    if (!o) return GF_OOM(err, "a CSV dictionary");
    if (d->off) {
      memcpy(o, d->off, sizeof *o * (size_t)(d->n + 1));
      gfi_mfree(a, d->off, sizeof *o * (size_t)d->off_cap);
    } else {
      o[0] = 0;
    }
    d->off = o;
    d->off_cap = cap;
  }
  if (d->blen + n > d->bcap) {
    int64_t cap = d->bcap ? d->bcap : 4096;
    while (cap < d->blen + n) cap *= 2;
    char *b = gfi_malloc(a, (size_t)cap);
    if (!b) return GF_OOM(err, "a CSV dictionary");
    if (d->bytes) {
      memcpy(b, d->bytes, (size_t)d->blen);
      gfi_mfree(a, d->bytes, (size_t)d->bcap);
    }
    d->bytes = b;
    d->bcap = cap;
  }
  if (n) memcpy(d->bytes + d->blen, p, (size_t)n);
  d->blen += n;
  d->off[d->n + 1] = (int32_t)d->blen;
  d->slots[i] = slot_of(h, d->n);
  *code = d->n++;
  gf_array_release(d->snap);
  d->snap = NULL;
  return GF_OK;
}

/* Interns every value of the utf8 array `dict` (no nulls) in order:
 * map[i] = the code of value i. */
gf_status gfi_csv_gdict_intern_all(const gf_allocator *a, gfi_csv_gdict *d, const gf_array *dict,
                                   int32_t *map, gf_error *err) {
  if (!dict) return GF_OK;
  const int32_t *o = (const int32_t *)gfi_buf(dict, 1) + dict->offset;
  const char *b = (const char *)gfi_buf(dict, 2);
  for (int64_t i = 0; i < dict->length; i++) {
    if (dict->null_count && !gfi_is_valid(dict, i))
      return gf_error_set(err, GF_EINTERNAL, "a CSV dictionary holds a null value");
    GF_RETURN_NOT_OK(gfi_csv_gdict_intern(a, d, b + o[i], o[i + 1] - o[i], &map[i], err));
  }
  return GF_OK;
}

/* A utf8 array of the dictionary's values now (cached until it grows),
 * retained for the caller. */
gf_status gfi_csv_gdict_snapshot(const gf_allocator *a, gfi_csv_gdict *d, gf_array **out,
                                 gf_error *err) {
  if (!d->snap) {
    gf_buffer *b[3] = {NULL, NULL, NULL};
    if (gfi_buffer_alloc(a, sizeof(int32_t) * (size_t)(d->n + 1), &b[1]) != GF_OK ||
        gfi_buffer_alloc(a, (size_t)(d->blen ? d->blen : 1), &b[2]) != GF_OK) {
      gf_buffer_release(b[1]);
      return GF_OOM(err, "a CSV dictionary");
    }
    int32_t *o = gf_buffer_mutable_data(b[1]);
    if (d->n)
      memcpy(o, d->off, sizeof *o * (size_t)(d->n + 1));
    else
      o[0] = 0;
    if (d->blen) memcpy(gf_buffer_mutable_data(b[2]), d->bytes, (size_t)d->blen);
    GF_RETURN_NOT_OK(gfi_array_make(a, gf_type(GF_TYPE_UTF8), d->n, 0, 0, b, NULL, &d->snap, err));
  }
  *out = gf_array_retain(d->snap);
  return GF_OK;
}

/* Dictionary array `w` (codes into a dictionary of nd values) with the
 * codes map[] gives, over `dict` (retained by the result); a null row gets
 * code 0 whatever lies under it. */
gf_status gfi_csv_recode(const gf_allocator *a, const gf_array *w, const int32_t *map, int64_t nd,
                         gf_array *dict, gf_array **out, gf_error *err) {
  gf_buffer *b[3] = {NULL, NULL, NULL};
  if (gfi_buffer_alloc(a, sizeof(int32_t) * (size_t)(w->length ? w->length : 1), &b[1]) != GF_OK)
    return GF_OOM(err, "a CSV column");
  int32_t *dst = gf_buffer_mutable_data(b[1]);
  const int32_t *src = (const int32_t *)gfi_buf(w, 1);
  const uint8_t *v = w->null_count ? gfi_buf(w, 0) : NULL;
  if (!v && src) {
    const int32_t *s = src + w->offset;
    for (int64_t j = 0; j < w->length; j++) {
      int32_t code = s[j];
      dst[j] = code >= 0 && code < nd ? map[code] : 0;
    }
  } else {
    for (int64_t j = 0; j < w->length; j++) {
      int64_t k = w->offset + j;
      bool ok = !v || gfi_bit_get(v, k);
      int32_t code = src ? src[k] : 0;
      dst[j] = ok && code >= 0 && code < nd ? map[code] : 0;
    }
  }
  if (v) {
    if (gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(w->length), &b[0]) != GF_OK) {
      gf_buffer_release(b[1]);
      return GF_OOM(err, "a CSV column");
    }
    uint8_t *nv = gf_buffer_mutable_data(b[0]);
    memset(nv, 0, (size_t)gfi_bitmap_bytes(w->length));
    for (int64_t j = 0; j < w->length; j++)
      if (gfi_bit_get(v, w->offset + j)) gfi_bit_set(nv, j);
  }
  return gfi_array_make(a, w->type, w->length, 0, w->null_count, b, dict, out, err);
}
