/*
 * Join keys prepared per row: a 64-bit value per key (integers and floats
 * as the key policy's equality bits, key_policy.h; strings as their hash
 * plus a pointer to the bytes), and one "may match" flag per row (false
 * when a key is null). Dictionary columns are prepared once per dictionary entry
 * and then looked up by code, so dictionary and plain string keys compare
 * by value.
 */
#include <string.h>

#include "data/builder_internal.h"
#include "ops/sort_join_internal.h"

/* Per-key source information for one side. */
typedef struct kinfo {
  int col;
  int cls;
  bool big_inv;
  bool dict;
  /* dictionary entries prepared (dict only) */
  int64_t m;
  uint64_t *dv;
  const uint8_t **dptr;
  int64_t *dlen;
  uint8_t *dok;
} kinfo;

typedef struct jprep_job {
  const gf_frame *f;
  gfi_jside *s;
  kinfo *ki;
  bool with_hash;
} jprep_job;

static const uint8_t empty_bytes[1] = {0};

/* Prepares values [i0, i0+len) of a plain (non-dictionary) array into
 * v/ptr/ln at index 0.., clearing ok[] where the value can never match. */
static void val_segment(const gf_array *arr, int64_t i0, int64_t len, int cls, bool big_inv,
                        uint64_t *v, const uint8_t **ptr, int64_t *ln, uint8_t *ok) {
  gf_type_id id = arr->type.id;
  const uint8_t *valid = arr->null_count > 0 ? gfi_buf(arr, 0) : NULL;
  int64_t off = arr->offset + i0;
  if (cls == GFI_JC_NULL || id == GF_TYPE_NULL) {
    for (int64_t i = 0; i < len; i++) {
      v[i] = 0;
      if (ptr) { ptr[i] = empty_bytes; ln[i] = 0; }
      if (ok) ok[i] = 0;
    }
    return;
  }
  if (cls == GFI_JC_BYTES) {
    for (int64_t i = 0; i < len; i++) {
      if (valid && !gfi_bit_get(valid, off + i)) {
        ok[i] = 0;
        v[i] = 0;
        ptr[i] = empty_bytes;
        ln[i] = 0;
        continue;
      }
      int64_t l;
      const uint8_t *p = gfi_value_bytes(arr, i0 + i, &l);
      if (!p) p = empty_bytes;
      ptr[i] = p;
      ln[i] = l;
      v[i] = gfi_key_hash_bytes(p, l);
    }
    return;
  }
  /* Equality bits by the key policy: ints sign- or zero-extended, floats
   * with -0.0 = +0.0 and one NaN. */
  gfi_key_load_bits(arr, i0, len, v);
  if (id == GF_TYPE_UINT64 && big_inv)
    for (int64_t i = 0; i < len; i++)
      if (v[i] > (uint64_t)INT64_MAX) ok[i] = 0;
  if (valid)
    for (int64_t i = 0; i < len; i++)
      if (!gfi_bit_get(valid, off + i)) {
        ok[i] = 0;
        v[i] = 0;
      }
}

/* Rows [i0, i0+len) of batch array `arr` into rows from row0. */
static void prep_segment(const jprep_job *j, int b, int64_t i0, int64_t row0, int64_t len) {
  gfi_jside *s = j->s;
  int ncols = j->f->schema->n;
  uint8_t *ok = s->ok ? s->ok + row0 : NULL;
  if (ok) memset(ok, 1, (size_t)len);
  for (int k = 0; k < s->nk; k++) {
    const kinfo *ki = &j->ki[k];
    const gf_array *arr = j->f->columns[(size_t)b * (size_t)ncols + (size_t)ki->col];
    uint64_t *v = s->v[k] + row0;
    const uint8_t **ptr = s->ptr[k] ? s->ptr[k] + row0 : NULL;
    int64_t *ln = s->len[k] ? s->len[k] + row0 : NULL;
    if (!ki->dict) {
      val_segment(arr, i0, len, ki->cls, ki->big_inv, v, ptr, ln, ok);
      continue;
    }
    const int32_t *codes = (const int32_t *)gfi_buf(arr, 1) + arr->offset + i0;
    const uint8_t *valid = arr->null_count > 0 ? gfi_buf(arr, 0) : NULL;
    for (int64_t i = 0; i < len; i++) {
      if (valid && !gfi_bit_get(valid, arr->offset + i0 + i)) {
        ok[i] = 0;
        v[i] = 0;
        if (ptr) { ptr[i] = empty_bytes; ln[i] = 0; }
        continue;
      }
      int32_t c = codes[i];
      v[i] = ki->dv[c];
      if (ptr) { ptr[i] = ki->dptr[c]; ln[i] = ki->dlen[c]; }
      if (ok && !ki->dok[c]) ok[i] = 0;
    }
  }
  if (j->with_hash) {
    for (int64_t i = 0; i < len; i++) {
      uint64_t h = 0x243f6a8885a308d3ULL;
      for (int k = 0; k < s->nk; k++) h = gfi_mix64(h * 0x9E3779B97F4A7C15ULL + s->v[k][row0 + i]);
      s->hash[row0 + i] = h;
    }
  }
}

static gf_status jprep_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  jprep_job *j = user;
  const gf_frame *f = j->f;
  int b = gfi_row_batch(f, c->start_row);
  for (int64_t row = c->start_row; row < c->end_row; b++) {
    int64_t bend = f->batch_offsets[b + 1];
    if (bend <= row) continue;
    int64_t e = bend < c->end_row ? bend : c->end_row;
    prep_segment(j, b, row - f->batch_offsets[b], row, e - row);
    row = e;
  }
  return GF_OK;
}

static void kinfo_free(const gf_allocator *a, kinfo *ki) {
  size_t m = (size_t)(ki->m ? ki->m : 1);
  if (ki->dv) gfi_mfree(a, ki->dv, m * sizeof *ki->dv);
  if (ki->dptr) gfi_mfree(a, (void *)ki->dptr, m * sizeof *ki->dptr);
  if (ki->dlen) gfi_mfree(a, ki->dlen, m * sizeof *ki->dlen);
  if (ki->dok) gfi_mfree(a, ki->dok, m);
}

void gfi_jside_free(gfi_jside *s) {
  const gf_allocator *a = s->a;
  size_t n = (size_t)(s->n ? s->n : 1);
  for (int k = 0; s->v && k < s->nk; k++) {
    if (s->v[k]) gfi_mfree(a, s->v[k], n * sizeof(uint64_t));
    if (s->ptr && s->ptr[k]) gfi_mfree(a, (void *)s->ptr[k], n * sizeof(const uint8_t *));
    if (s->len && s->len[k]) gfi_mfree(a, s->len[k], n * sizeof(int64_t));
  }
  size_t nk = (size_t)(s->nk ? s->nk : 1);
  if (s->v) gfi_mfree(a, s->v, nk * sizeof *s->v);
  if (s->ptr) gfi_mfree(a, (void *)s->ptr, nk * sizeof *s->ptr);
  if (s->len) gfi_mfree(a, s->len, nk * sizeof *s->len);
  if (s->ok) gfi_mfree(a, s->ok, n);
  if (s->hash) gfi_mfree(a, s->hash, n * sizeof *s->hash);
  s->v = NULL;
  s->ptr = NULL;
  s->len = NULL;
  s->ok = NULL;
  s->hash = NULL;
}

gf_status gfi_jside_make(const gf_frame *f, const int *cols, const int *cls, int nk,
                         const bool *big_unsigned_invalid, bool with_hash,
                         const gf_parallel_options *o, gfi_jside *out,
                         gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  memset(out, 0, sizeof *out);
  out->a = a;
  out->n = f->num_rows;
  out->nk = nk;
  out->cls = cls;
  size_t n = (size_t)(f->num_rows ? f->num_rows : 1);
  size_t nkz = (size_t)nk;
  kinfo *ki = gfi_calloc(a, sizeof *ki * nkz);
  out->v = gfi_calloc(a, nkz * sizeof *out->v);
  out->ptr = gfi_calloc(a, nkz * sizeof *out->ptr);
  out->len = gfi_calloc(a, nkz * sizeof *out->len);
  gf_status st = GF_OK;
  if (!ki || !out->v || !out->ptr || !out->len) st = GF_OOM(err, "join keys");
  bool need_ok = false;
  int ncols = f->schema->n;
  for (int k = 0; k < nk && st == GF_OK; k++) {
    ki[k].col = cols[k];
    ki[k].cls = cls[k];
    gf_datatype t = f->schema->fields[cols[k]].type;
    ki[k].big_inv = big_unsigned_invalid[k] && gf_type_value(t).id == GF_TYPE_UINT64;
    if (ki[k].big_inv || cls[k] == GFI_JC_NULL || gf_type_value(t).id == GF_TYPE_NULL)
      need_ok = true;
    for (int b = 0; b < f->num_batches; b++)
      if (f->columns[(size_t)b * (size_t)ncols + (size_t)cols[k]]->null_count > 0) need_ok = true;
    out->v[k] = gfi_malloc(a, n * sizeof(uint64_t));
    if (!out->v[k]) st = GF_OOM(err, "join key values");
    if (st == GF_OK && cls[k] == GFI_JC_BYTES) {
      out->ptr[k] = gfi_malloc(a, n * sizeof(const uint8_t *));
      out->len[k] = gfi_malloc(a, n * sizeof(int64_t));
      if (!out->ptr[k] || !out->len[k]) st = GF_OOM(err, "join key strings");
    }
    if (st == GF_OK && t.id == GF_TYPE_DICTIONARY && f->num_batches > 0) {
      const gf_array *d = f->columns[(size_t)cols[k]]->dictionary;
      for (int b = 1; b < f->num_batches; b++)
        if (f->columns[(size_t)b * (size_t)ncols + (size_t)cols[k]]->dictionary != d)
          st = gf_error_set(err, GF_EINTERNAL, "join: dictionary column with several dictionaries");
      if (st != GF_OK) break;
      ki[k].dict = true;
      ki[k].m = d->length;
      size_t m = (size_t)(d->length ? d->length : 1);
      ki[k].dv = gfi_malloc(a, m * sizeof *ki[k].dv);
      ki[k].dok = gfi_malloc(a, m);
      if (cls[k] == GFI_JC_BYTES) {
        ki[k].dptr = gfi_malloc(a, m * sizeof *ki[k].dptr);
        ki[k].dlen = gfi_malloc(a, m * sizeof *ki[k].dlen);
      }
      if (!ki[k].dv || !ki[k].dok || (cls[k] == GFI_JC_BYTES && (!ki[k].dptr || !ki[k].dlen))) {
        st = GF_OOM(err, "join dictionary keys");
        break;
      }
      memset(ki[k].dok, 1, m);
      val_segment(d, 0, d->length, cls[k], ki[k].big_inv, ki[k].dv, ki[k].dptr, ki[k].dlen,
                  ki[k].dok);
      for (int64_t i = 0; i < d->length; i++)
        if (!ki[k].dok[i]) need_ok = true;
    }
  }
  if (st == GF_OK && need_ok) {
    out->ok = gfi_malloc(a, n);
    if (!out->ok) st = GF_OOM(err, "join key flags");
  }
  if (st == GF_OK && with_hash) {
    out->hash = gfi_malloc(a, n * sizeof *out->hash);
    if (!out->hash) st = GF_OOM(err, "join key hashes");
  }
  if (st == GF_OK && f->num_rows > 0) {
    jprep_job j = {f, out, ki, with_hash};
    st = gf_parallel_for(f->num_rows, 8 * nk + 8, false, jprep_chunk, &j, o, err);
  }
  for (int k = 0; ki && k < nk; k++) kinfo_free(a, &ki[k]);
  if (ki) gfi_mfree(a, ki, sizeof *ki * nkz);
  if (st != GF_OK) gfi_jside_free(out);
  return st;
}
