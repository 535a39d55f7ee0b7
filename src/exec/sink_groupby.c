/*
 * The streaming group-by sink (exec/stream_internal.h, docs/STREAMING.md).
 *
 * Batches arrive in input order with the absolute position of their first
 * row, so group ids follow first appearance exactly as gf_group_by's do,
 * and every aggregate sees its group's values in row order. The values
 * equal the eager operator's bit for bit:
 *  - count, min, max, first, last and integer sums do not depend on the
 *    order of combination (min/max keep the first extreme row, with the
 *    eager key order: gfi_gb_load_key);
 *  - float sums and means do. gf_group_by takes one of two paths from the
 *    data alone: with at most 65,536 groups and groups x blocks <= 2^22 it
 *    sums each 65,536-row reduction block (absolute positions) from 0 and
 *    combines the partial sums in block order; otherwise it sums every
 *    group's rows in row order. The sink keeps both (a per-block partial
 *    folded into a combined sum as each block ends, and a running row-order
 *    sum) and picks at the end, when the row and group counts are known,
 *    the one the eager call would have taken. An integer sum's overflow is
 *    tracked both ways likewise.
 * Output columns are built in the types of the eager group-by over an
 * empty frame of the same schema; sort_keys reorders the groups with the
 * eager operator itself; the items of the aggregate list are computed by
 * gf_group_by_list's own second half.
 */
#include <string.h>

#include "core/hash.h"
#include "data/array_internal.h"
#include "data/builder_internal.h"
#include "exec/exec_internal.h"
#include "exec/stream_internal.h"
#include "ops/groupby_internal.h"
#include "ops/key_policy.h"

/* The eager path's limits (groupby.c). */
#define BLOCK_MAX_HANDLES 65536
#define BLOCK_MAX_CELLS (INT64_C(1) << 22)
#define SUBN 1024

gf_status gfi_group_by_named(const gf_frame *f, const char *const *keys, int nkeys,
                             const gf_agg_spec *specs, int nspecs, const char *const *names,
                             const gf_groupby_options *opts, gf_frame **out, gf_error *err);

/* An interned byte string table (utf8 keys and dictionary values). */
typedef struct strtab {
  int64_t n, cap;
  int64_t *off; /* n + 1 */
  char *bytes;
  int64_t blen, bcap;
  int64_t *slots;
  int64_t nslots;
} strtab;

/* The state of one aggregate of one group. */
typedef struct ast {
  int64_t n;            /* valid values (count, sum, mean) */
  int64_t blk;          /* block of the open partial, -1 none */
  int64_t pn;           /* partial: values */
  double pf, cf, rf;    /* float sum: partial, combined, row order */
  int64_t pi, ci, ri;   /* int sum: partial, combined, row order */
  int64_t cn;           /* values in the combined sum */
  bool ovf_row, ovf_blk;
  bool has;             /* min/max/first/last: a value seen */
  int64_t key, val;     /* min/max: order key; value bits */
} ast;

typedef struct kcol {
  int col;
  int kind;   /* 0 fixed width, 1 utf8, 2 dictionary */
  strtab st;  /* 1, 2: the values met */
  gf_array *dict; /* 2: the frame-wide dictionary for the output: set by
                     the driver (dict_fixed), else the last batch's */
  bool dict_fixed;
  bool mixed;     /* 2: batches came with different dictionaries */
} kcol;

typedef struct acol {
  gf_agg_kind kind;
  int col;     /* -1: count(*) */
  gf_datatype type;
  bool isfloat, isu64;
  ast *s;      /* per group */
} acol;

typedef struct gbsink {
  const gf_allocator *a;
  const gf_parallel_options *po;
  gf_schema *schema;
  int nkeys;
  char **keys;
  kcol *kc;
  int naggs;
  acol *ac;
  const gf_agg_list *list;
  const gf_agg_spec *specs;
  const char *const *inames;
  bool sort_keys;
  /* groups */
  int64_t ng, gcap;
  uint64_t *gkey;   /* ng x nkeys equality values */
  uint64_t *gnull;  /* ng null masks */
  int64_t *graw;    /* ng x nkeys: first row's raw value (fixed width),
                       string id (utf8), code (dictionary) */
  int64_t *grows;   /* rows per group */
  int64_t *slots;
  int64_t nslots;
  int64_t rows;     /* rows pushed */
} gbsink;

/* ---- the string table ----------------------------------------------------- */

static void strtab_free(const gf_allocator *a, strtab *t) {
  if (t->off) gfi_mfree(a, t->off, sizeof *t->off * (size_t)t->cap);
  if (t->bytes) gfi_mfree(a, t->bytes, (size_t)t->bcap);
  if (t->slots) gfi_mfree(a, t->slots, sizeof *t->slots * (size_t)t->nslots);
  memset(t, 0, sizeof *t);
}

static gf_status strtab_id(const gf_allocator *a, strtab *t, const char *p, int64_t n, int64_t *id,
                           gf_error *err) {
  if (!t->slots || (t->n + 1) * 2 > t->nslots) {
    int64_t ns = t->nslots ? t->nslots * 2 : 64;
    int64_t *s = gfi_malloc(a, sizeof *s * (size_t)ns);
    if (!s) return GF_OOM(err, "group-by keys");
    memset(s, 0xff, sizeof *s * (size_t)ns);
    for (int64_t c = 0; c < t->n; c++) {
      uint64_t h = gfi_hash_bytes(t->bytes + t->off[c], (size_t)(t->off[c + 1] - t->off[c]));
      int64_t i = (int64_t)(h & (uint64_t)(ns - 1));
      while (s[i] >= 0) i = (i + 1) & (ns - 1);
      s[i] = c;
    }
    if (t->slots) gfi_mfree(a, t->slots, sizeof *t->slots * (size_t)t->nslots);
    t->slots = s;
    t->nslots = ns;
  }
  uint64_t h = gfi_hash_bytes(p, (size_t)n);
  int64_t i = (int64_t)(h & (uint64_t)(t->nslots - 1));
  for (; t->slots[i] >= 0; i = (i + 1) & (t->nslots - 1)) {
    int64_t c = t->slots[i];
    if (t->off[c + 1] - t->off[c] == n && memcmp(t->bytes + t->off[c], p, (size_t)n) == 0) {
      *id = c;
      return GF_OK;
    }
  }
  if (t->n + 2 > t->cap) {
    int64_t cap = t->cap ? t->cap * 2 : 256;
    int64_t *o = gfi_malloc(a, sizeof *o * (size_t)cap);
    if (!o) return GF_OOM(err, "group-by keys");
    if (t->off) {
      memcpy(o, t->off, sizeof *o * (size_t)(t->n + 1));
      gfi_mfree(a, t->off, sizeof *o * (size_t)t->cap);
    } else {
      o[0] = 0;
    }
    t->off = o;
    t->cap = cap;
  }
  if (t->blen + n > t->bcap) {
    int64_t cap = t->bcap ? t->bcap : 4096;
    while (cap < t->blen + n) cap *= 2;
    char *b = gfi_malloc(a, (size_t)cap);
    if (!b) return GF_OOM(err, "group-by keys");
    if (t->bytes) {
      memcpy(b, t->bytes, (size_t)t->blen);
      gfi_mfree(a, t->bytes, (size_t)t->bcap);
    }
    t->bytes = b;
    t->bcap = cap;
  }
  if (n) memcpy(t->bytes + t->blen, p, (size_t)n);
  t->blen += n;
  t->off[t->n + 1] = t->blen;
  t->slots[i] = t->n;
  *id = t->n++;
  return GF_OK;
}

/* ---- groups --------------------------------------------------------------- */

static uint64_t key_hash(const uint64_t *k, uint64_t nulls, int nk) {
  uint64_t h = gfi_mix64(nulls + 0x9e3779b97f4a7c15ULL);
  for (int i = 0; i < nk; i++) h = gfi_mix64(h ^ k[i]) + (uint64_t)i;
  return h;
}

/* Grows the per-group arrays to hold `need` groups. */
static gf_status grow_groups(gbsink *g, int64_t need, gf_error *err) {
  if (need <= g->gcap) return GF_OK;
  int64_t cap = g->gcap ? g->gcap * 2 : 1024;
  while (cap < need) cap *= 2;
  size_t nk = (size_t)(g->nkeys ? g->nkeys : 1);
  const gf_allocator *a = g->a;
  uint64_t *k = gfi_malloc(a, sizeof *k * (size_t)cap * nk);
  uint64_t *nl = gfi_malloc(a, sizeof *nl * (size_t)cap);
  int64_t *raw = gfi_malloc(a, sizeof *raw * (size_t)cap * nk);
  int64_t *rows = gfi_malloc(a, sizeof *rows * (size_t)cap);
  ast **ns = gfi_calloc(a, sizeof *ns * (size_t)(g->naggs ? g->naggs : 1));
  bool ok = k && nl && raw && rows && ns;
  for (int i = 0; ok && i < g->naggs; i++) ok = (ns[i] = gfi_malloc(a, sizeof(ast) * (size_t)cap)) != NULL;
  if (!ok) {
    if (k) gfi_mfree(a, k, sizeof *k * (size_t)cap * nk);
    if (nl) gfi_mfree(a, nl, sizeof *nl * (size_t)cap);
    if (raw) gfi_mfree(a, raw, sizeof *raw * (size_t)cap * nk);
    if (rows) gfi_mfree(a, rows, sizeof *rows * (size_t)cap);
    for (int i = 0; ns && i < g->naggs; i++)
      if (ns[i]) gfi_mfree(a, ns[i], sizeof(ast) * (size_t)cap);
    if (ns) gfi_mfree(a, ns, sizeof *ns * (size_t)(g->naggs ? g->naggs : 1));
    return GF_OOM(err, "group-by groups");
  }
  if (g->gcap) {
    memcpy(k, g->gkey, sizeof *k * (size_t)g->ng * nk);
    memcpy(nl, g->gnull, sizeof *nl * (size_t)g->ng);
    memcpy(raw, g->graw, sizeof *raw * (size_t)g->ng * nk);
    memcpy(rows, g->grows, sizeof *rows * (size_t)g->ng);
    gfi_mfree(a, g->gkey, sizeof *k * (size_t)g->gcap * nk);
    gfi_mfree(a, g->gnull, sizeof *nl * (size_t)g->gcap);
    gfi_mfree(a, g->graw, sizeof *raw * (size_t)g->gcap * nk);
    gfi_mfree(a, g->grows, sizeof *rows * (size_t)g->gcap);
  }
  for (int i = 0; i < g->naggs; i++) {
    if (g->gcap) {
      memcpy(ns[i], g->ac[i].s, sizeof(ast) * (size_t)g->ng);
      gfi_mfree(a, g->ac[i].s, sizeof(ast) * (size_t)g->gcap);
    }
    g->ac[i].s = ns[i];
  }
  gfi_mfree(a, ns, sizeof *ns * (size_t)(g->naggs ? g->naggs : 1));
  g->gkey = k;
  g->gnull = nl;
  g->graw = raw;
  g->grows = rows;
  g->gcap = cap;
  /* The slot table keeps at most half its slots used. */
  if (g->nslots < cap * 2) {
    int64_t ns2 = cap * 2;
    int64_t *s = gfi_malloc(a, sizeof *s * (size_t)ns2);
    if (!s) return GF_OOM(err, "group-by groups");
    memset(s, 0xff, sizeof *s * (size_t)ns2);
    for (int64_t q = 0; q < g->ng; q++) {
      uint64_t h = key_hash(g->gkey + (size_t)q * nk, g->gnull[q], g->nkeys);
      int64_t i = (int64_t)(h & (uint64_t)(ns2 - 1));
      while (s[i] >= 0) i = (i + 1) & (ns2 - 1);
      s[i] = q;
    }
    if (g->slots) gfi_mfree(a, g->slots, sizeof *g->slots * (size_t)g->nslots);
    g->slots = s;
    g->nslots = ns2;
  }
  return GF_OK;
}

/* The group of a key tuple, created (with its raw values) when new. */
static gf_status group_of(gbsink *g, const uint64_t *k, uint64_t nulls, const int64_t *raw,
                          int64_t *gid, gf_error *err) {
  size_t nk = (size_t)(g->nkeys ? g->nkeys : 1);
  if (g->ng + 1 > g->gcap || !g->slots) GF_RETURN_NOT_OK(grow_groups(g, g->ng + 1, err));
  uint64_t h = key_hash(k, nulls, g->nkeys);
  int64_t i = (int64_t)(h & (uint64_t)(g->nslots - 1));
  for (; g->slots[i] >= 0; i = (i + 1) & (g->nslots - 1)) {
    int64_t q = g->slots[i];
    if (g->gnull[q] == nulls && memcmp(g->gkey + (size_t)q * nk, k, sizeof *k * (size_t)g->nkeys) == 0) {
      *gid = q;
      return GF_OK;
    }
  }
  int64_t q = g->ng++;
  g->slots[i] = q;
  if (g->nkeys) {
    memcpy(g->gkey + (size_t)q * nk, k, sizeof *k * (size_t)g->nkeys);
    memcpy(g->graw + (size_t)q * nk, raw, sizeof *raw * (size_t)g->nkeys);
  }
  g->gnull[q] = nulls;
  g->grows[q] = 0;
  for (int j = 0; j < g->naggs; j++) {
    ast *s = &g->ac[j].s[q];
    memset(s, 0, sizeof *s);
    s->blk = -1;
  }
  *gid = q;
  return GF_OK;
}

/* Raw value bits of element i of a fixed-width array: the value of an
 * integer or bool (sign- or zero-extended), the bits of a float. */
static int64_t raw_bits(const gf_array *x, int64_t i) {
  const uint8_t *d = gfi_buf(x, 1);
  int64_t k = x->offset + i;
  switch (x->type.id) {
    case GF_TYPE_BOOL: return gfi_bit_get(d, k);
    case GF_TYPE_INT8: return ((const int8_t *)d)[k];
    case GF_TYPE_INT16: return ((const int16_t *)d)[k];
    case GF_TYPE_INT32: case GF_TYPE_DATE32: return ((const int32_t *)d)[k];
    case GF_TYPE_UINT8: return ((const uint8_t *)d)[k];
    case GF_TYPE_UINT16: return ((const uint16_t *)d)[k];
    case GF_TYPE_UINT32: return ((const uint32_t *)d)[k];
    case GF_TYPE_FLOAT32: {
      uint32_t u;
      memcpy(&u, d + 4 * k, 4);
      return (int64_t)u;
    }
    default: {
      int64_t v;
      memcpy(&v, d + 8 * k, 8);
      return v;
    }
  }
}

/* Folds an aggregate's open block partial into its combined sum (the
 * eager block path's combine, in block order). */
static void close_block(acol *c, ast *s) {
  if (s->blk < 0) return;
  if (s->pn) {
    if (c->isfloat) s->cf = s->cn ? s->cf + s->pf : s->pf;
    else s->ovf_blk |= __builtin_add_overflow(s->ci, s->pi, &s->ci);
    s->cn += s->pn;
  } else if (!c->isfloat) {
    s->ovf_blk |= __builtin_add_overflow(s->ci, s->pi, &s->ci);
  }
  s->pn = 0;
  s->pf = 0.0;
  s->pi = 0;
  s->blk = -1;
}

/* ---- push ----------------------------------------------------------------- */

/* Rows [lo, lo + len) of batch b at absolute position `pos0` (of row lo). */
static gf_status push_run(gbsink *g, const gf_frame *f, int b, int64_t lo, int64_t len, int64_t pos0,
                          gf_error *err) {
  const gf_allocator *a = g->a;
  int nk = g->nkeys;
  uint64_t kb[SUBN * 8];
  int64_t kr[SUBN * 8];
  uint8_t kv[SUBN * 8];
  bool knull[8];
  int64_t gid[SUBN];
  if (nk > 8) return gf_error_set(err, GF_ENOTSUP, "streaming group-by: more than 8 keys");
  for (int k = 0; k < nk; k++) {
    const gf_array *x = gf_frame_column(f, b, g->kc[k].col);
    knull[k] = gfi_gb_load_valid(x, lo, len, NULL, 0, kv + (size_t)k * SUBN);
    if (g->kc[k].kind == 0) {
      gfi_key_load_bits(x, lo, len, kb + (size_t)k * SUBN);
      for (int64_t j = 0; j < len; j++) kr[(size_t)k * SUBN + (size_t)j] = raw_bits(x, lo + j);
    } else if (g->kc[k].kind == 1) {
      const int32_t *o = (const int32_t *)gfi_buf(x, 1);
      const char *s = (const char *)gfi_buf(x, 2);
      for (int64_t j = 0; j < len; j++) {
        int64_t e = x->offset + lo + j, id = 0;
        if (!knull[k] || kv[(size_t)k * SUBN + (size_t)j])
          GF_RETURN_NOT_OK(strtab_id(a, &g->kc[k].st, s + o[e], o[e + 1] - o[e], &id, err));
        kb[(size_t)k * SUBN + (size_t)j] = (uint64_t)id;
        kr[(size_t)k * SUBN + (size_t)j] = id;
      }
    } else {
      /* Dictionary: equal values, equal keys, whatever the batch's
       * dictionary; the output keeps the code (stable across batches). */
      const gf_array *d = x->dictionary;
      if (!g->kc[k].dict_fixed && g->kc[k].dict != d) {
        if (g->kc[k].dict) g->kc[k].mixed = true;
        gf_array_release(g->kc[k].dict);
        g->kc[k].dict = gf_array_retain((gf_array *)d);
      }
      const int32_t *codes = (const int32_t *)gfi_buf(x, 1);
      const int32_t *o = d ? (const int32_t *)gfi_buf(d, 1) : NULL;
      const char *s = d ? (const char *)gfi_buf(d, 2) : NULL;
      for (int64_t j = 0; j < len; j++) {
        int64_t e = x->offset + lo + j, id = 0;
        int32_t c = codes ? codes[e] : 0;
        bool valid = (!knull[k] || kv[(size_t)k * SUBN + (size_t)j]) && d && c >= 0 && c < d->length;
        if (valid && !gfi_is_valid(d, c)) valid = false;
        if (valid) {
          int64_t de = d->offset + c;
          GF_RETURN_NOT_OK(strtab_id(a, &g->kc[k].st, s + o[de], o[de + 1] - o[de], &id, err));
        } else {
          if (!knull[k]) {
            memset(kv + (size_t)k * SUBN, 1, (size_t)len);
            knull[k] = true;
          }
          kv[(size_t)k * SUBN + (size_t)j] = 0;
        }
        kb[(size_t)k * SUBN + (size_t)j] = (uint64_t)id;
        kr[(size_t)k * SUBN + (size_t)j] = c;
      }
    }
  }
  for (int64_t j = 0; j < len; j++) {
    uint64_t key[8], nulls = 0;
    int64_t raw[8];
    for (int k = 0; k < nk; k++) {
      bool valid = !knull[k] || kv[(size_t)k * SUBN + (size_t)j];
      key[k] = valid ? kb[(size_t)k * SUBN + (size_t)j] : 0;
      raw[k] = valid ? kr[(size_t)k * SUBN + (size_t)j] : 0;
      if (!valid) nulls |= UINT64_C(1) << k;
    }
    GF_RETURN_NOT_OK(group_of(g, key, nulls, raw, &gid[j], err));
    g->grows[gid[j]]++;
  }
  /* Aggregates, row by row in input order. */
  for (int i = 0; i < g->naggs; i++) {
    acol *c = &g->ac[i];
    if (c->kind == GF_AGG_COUNT_ALL) continue;
    const gf_array *x = gf_frame_column(f, b, c->col);
    uint8_t valid[SUBN];
    bool nulls = gfi_gb_load_valid(x, lo, len, NULL, 0, valid);
    if (c->kind == GF_AGG_COUNT) {
      for (int64_t j = 0; j < len; j++) c->s[gid[j]].n += !nulls || valid[j];
      continue;
    }
    if (c->kind == GF_AGG_SUM || c->kind == GF_AGG_MEAN) {
      if (c->isfloat) {
        double v[SUBN];
        gfi_gb_load_f64(x, lo, len, NULL, 0, v);
        for (int64_t j = 0; j < len; j++) {
          ast *s = &c->s[gid[j]];
          int64_t blk = (pos0 + j) / GF_REDUCTION_BLOCK_ROWS;
          if (s->blk != blk) {
            close_block(c, s);
            s->blk = blk;
          }
          bool ok = !nulls || valid[j];
          double add = ok ? v[j] : -0.0;
          s->pf += add;
          s->rf += add;
          s->pn += ok;
          s->n += ok;
        }
      } else {
        int64_t v[SUBN];
        gfi_gb_load_i64(x, lo, len, NULL, 0, v);
        for (int64_t j = 0; j < len; j++) {
          ast *s = &c->s[gid[j]];
          int64_t blk = (pos0 + j) / GF_REDUCTION_BLOCK_ROWS;
          if (s->blk != blk) {
            close_block(c, s);
            s->blk = blk;
          }
          bool ok = !nulls || valid[j];
          int64_t add = ok ? v[j] : 0;
          if (c->isu64 && ok && v[j] < 0) s->ovf_row = s->ovf_blk = true;
          s->ovf_blk |= __builtin_add_overflow(s->pi, add, &s->pi);
          s->ovf_row |= __builtin_add_overflow(s->ri, add, &s->ri);
          s->pn += ok;
          s->n += ok;
        }
      }
      continue;
    }
    if (c->kind == GF_AGG_MIN || c->kind == GF_AGG_MAX) {
      int64_t key[SUBN];
      gfi_gb_load_key(x, lo, len, NULL, 0, NULL, key);
      bool mx = c->kind == GF_AGG_MAX;
      for (int64_t j = 0; j < len; j++) {
        if (nulls && !valid[j]) continue;
        ast *s = &c->s[gid[j]];
        if (!s->has || (mx ? key[j] > s->key : key[j] < s->key)) {
          s->has = true;
          s->key = key[j];
          s->val = raw_bits(x, lo + j);
        }
      }
      continue;
    }
    /* first / last */
    bool last = c->kind == GF_AGG_LAST;
    for (int64_t j = 0; j < len; j++) {
      if (nulls && !valid[j]) continue;
      ast *s = &c->s[gid[j]];
      if (last || !s->has) {
        s->has = true;
        s->val = raw_bits(x, lo + j);
      }
    }
  }
  return GF_OK;
}

static gf_status gb_push(gfi_sink *k, const gf_frame *f, int64_t pos, gf_error *err) {
  gbsink *g = k->state;
  int64_t at = pos;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t n = gf_frame_batch_rows(f, b);
    for (int64_t lo = 0; lo < n; lo += SUBN) {
      int64_t len = n - lo < SUBN ? n - lo : SUBN;
      GF_RETURN_NOT_OK(push_run(g, f, b, lo, len, at + lo, err));
    }
    at += n;
  }
  g->rows = at;
  return gfi_check_stop(g->po, 0, NULL, err);
}

/* ---- finish --------------------------------------------------------------- */

/* A fixed-width array of type t from raw bits vals[] (valid[] bytes). */
static gf_status make_fixed(const gf_allocator *a, gf_datatype t, const int64_t *vals,
                            const uint8_t *valid, int64_t n, gf_array **out, gf_error *err) {
  gf_buffer *b[3] = {NULL, NULL, NULL};
  int64_t nulls = 0;
  for (int64_t i = 0; i < n; i++) nulls += !valid[i];
  bool isbool = t.id == GF_TYPE_BOOL;
  int w = isbool ? 0 : gfi_type_byte_width(t);
  size_t bytes = isbool ? (size_t)gfi_bitmap_bytes(n) : (size_t)w * (size_t)n;
  if (gfi_buffer_alloc(a, bytes ? bytes : 1, &b[1]) != GF_OK) return GF_OOM(err, "group-by output");
  uint8_t *d = gf_buffer_mutable_data(b[1]);
  memset(d, 0, bytes ? bytes : 1);
  if (nulls) {
    size_t vb = (size_t)gfi_bitmap_bytes(n);
    if (gfi_buffer_alloc(a, vb ? vb : 1, &b[0]) != GF_OK) {
      gf_buffer_release(b[1]);
      return GF_OOM(err, "group-by output");
    }
    memset(gf_buffer_mutable_data(b[0]), 0, vb ? vb : 1);
  }
  uint8_t *vbits = b[0] ? gf_buffer_mutable_data(b[0]) : NULL;
  for (int64_t i = 0; i < n; i++) {
    int64_t v = valid[i] ? vals[i] : 0;
    if (vbits && valid[i]) gfi_bit_set(vbits, i);
    if (isbool) {
      if (v) gfi_bit_set(d, i);
    } else if (w == 1) {
      int8_t x = (int8_t)v;
      memcpy(d + i, &x, 1);
    } else if (w == 2) {
      int16_t x = (int16_t)v;
      memcpy(d + 2 * i, &x, 2);
    } else if (w == 4) {
      int32_t x = (int32_t)v;
      memcpy(d + 4 * i, &x, 4);
    } else {
      memcpy(d + 8 * i, &v, 8);
    }
  }
  return gfi_array_make(a, t, n, 0, nulls, b, NULL, out, err);
}

/* A utf8 array of the strings ids[] of table t. */
static gf_status make_utf8(const gf_allocator *a, const strtab *t, const int64_t *ids,
                           const uint8_t *valid, int64_t n, gf_array **out, gf_error *err) {
  int64_t bytes = 0, nulls = 0;
  for (int64_t i = 0; i < n; i++) {
    if (valid[i]) bytes += t->off[ids[i] + 1] - t->off[ids[i]];
    else nulls++;
  }
  if (bytes > INT32_MAX) return gf_error_set(err, GF_ENOTSUP, "group-by keys exceed 2 GiB");
  gf_buffer *b[3] = {NULL, NULL, NULL};
  size_t vb = (size_t)gfi_bitmap_bytes(n);
  if (gfi_buffer_alloc(a, sizeof(int32_t) * (size_t)(n + 1), &b[1]) != GF_OK ||
      gfi_buffer_alloc(a, (size_t)(bytes ? bytes : 1), &b[2]) != GF_OK ||
      (nulls && gfi_buffer_alloc(a, vb ? vb : 1, &b[0]) != GF_OK)) {
    for (int i = 0; i < 3; i++) gf_buffer_release(b[i]);
    return GF_OOM(err, "group-by output");
  }
  int32_t *o = gf_buffer_mutable_data(b[1]);
  char *s = gf_buffer_mutable_data(b[2]);
  uint8_t *v = b[0] ? gf_buffer_mutable_data(b[0]) : NULL;
  if (v) memset(v, 0, vb ? vb : 1);
  int64_t at = 0;
  o[0] = 0;
  for (int64_t i = 0; i < n; i++) {
    if (valid[i]) {
      int64_t l = t->off[ids[i] + 1] - t->off[ids[i]];
      memcpy(s + at, t->bytes + t->off[ids[i]], (size_t)l);
      at += l;
      if (v) gfi_bit_set(v, i);
    }
    o[i + 1] = (int32_t)at;
  }
  return gfi_array_make(a, gf_type(GF_TYPE_UTF8), n, 0, nulls, b, NULL, out, err);
}

/* A dictionary array of codes[] over `dict`. */
static gf_status make_dict(const gf_allocator *a, gf_datatype t, gf_array *dict, const int64_t *codes,
                           const uint8_t *valid, int64_t n, gf_array **out, gf_error *err) {
  gf_array *c = NULL;
  GF_RETURN_NOT_OK(make_fixed(a, gf_type(GF_TYPE_INT32), codes, valid, n, &c, err));
  gf_buffer *b[3] = {gf_buffer_retain(c->buffers[0]), gf_buffer_retain(c->buffers[1]), NULL};
  gf_status st = gfi_array_make(a, t, n, 0, c->null_count, b, dict, out, err);
  gf_array_release(c);
  return st;
}

static gf_status gb_finish(gfi_sink *k, gf_frame **out, gf_error *err) {
  gbsink *g = k->state;
  const gf_allocator *a = g->a;
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = g->po;
  /* The eager output's schema (and the whole answer for no rows). */
  gf_frame *empty = NULL, *e_out = NULL;
  gf_status st = gf_frame_new(g->schema, NULL, 0, a, &empty, err);
  if (st == GF_OK)
    st = gfi_group_by_named(empty, (const char *const *)g->keys, g->nkeys, g->specs, g->naggs,
                            g->inames, &go, &e_out, err);
  gf_frame_release(empty);
  if (st != GF_OK) return st;
  gf_frame *agg = NULL;
  if (g->rows == 0) {
    agg = e_out;
    e_out = NULL;
  } else {
    int64_t G = g->ng;
    int64_t nblocks = gf_reduction_blocks(g->rows);
    if (nblocks < 1) nblocks = 1;
    bool blockpath = G <= BLOCK_MAX_HANDLES && G * nblocks <= BLOCK_MAX_CELLS;
    const gf_schema *os = gf_frame_schema(e_out);
    int nc = gf_schema_num_fields(os);
    gf_array **cols = gfi_calloc(a, sizeof *cols * (size_t)(nc ? nc : 1));
    int64_t *vals = gfi_malloc(a, sizeof *vals * (size_t)(G ? G : 1));
    uint8_t *valid = gfi_malloc(a, (size_t)(G ? G : 1));
    if (!cols || !vals || !valid) st = GF_OOM(err, "group-by output");
    size_t nk = (size_t)(g->nkeys ? g->nkeys : 1);
    for (int j = 0; j < nc && st == GF_OK; j++) {
      gf_datatype t = gf_schema_field(os, j)->type;
      if (j < g->nkeys) {
        kcol *kc = &g->kc[j];
        for (int64_t q = 0; q < G; q++) {
          valid[q] = !(g->gnull[q] >> j & 1);
          vals[q] = g->graw[(size_t)q * nk + (size_t)j];
        }
        if (kc->kind == 0) st = make_fixed(a, t, vals, valid, G, &cols[j], err);
        else if (kc->kind == 1) st = make_utf8(a, &kc->st, vals, valid, G, &cols[j], err);
        else if (kc->dict_fixed || !kc->mixed) st = make_dict(a, t, kc->dict, vals, valid, G, &cols[j], err);
        else {
          /* Batches with dictionaries of their own (codes not comparable):
           * a dictionary of the values met, codes = their ids. */
          gf_array *d = NULL;
          int64_t *ids = gfi_malloc(a, sizeof *ids * (size_t)(kc->st.n ? kc->st.n : 1));
          uint8_t *all = gfi_malloc(a, (size_t)(kc->st.n ? kc->st.n : 1));
          if (!ids || !all) st = GF_OOM(err, "group-by output");
          for (int64_t i = 0; st == GF_OK && i < kc->st.n; i++) {
            ids[i] = i;
            all[i] = 1;
          }
          if (st == GF_OK) st = make_utf8(a, &kc->st, ids, all, kc->st.n, &d, err);
          for (int64_t q = 0; st == GF_OK && q < G; q++) vals[q] = (int64_t)g->gkey[(size_t)q * nk + (size_t)j];
          if (st == GF_OK) st = make_dict(a, t, d, vals, valid, G, &cols[j], err);
          gf_array_release(d);
          if (ids) gfi_mfree(a, ids, sizeof *ids * (size_t)(kc->st.n ? kc->st.n : 1));
          if (all) gfi_mfree(a, all, (size_t)(kc->st.n ? kc->st.n : 1));
        }
        continue;
      }
      acol *c = &g->ac[j - g->nkeys];
      bool isf = t.id == GF_TYPE_FLOAT64 && (c->kind == GF_AGG_SUM || c->kind == GF_AGG_MEAN);
      for (int64_t q = 0; q < G && st == GF_OK; q++) {
        ast *s = &c->s[q];
        switch (c->kind) {
          case GF_AGG_COUNT_ALL: vals[q] = g->grows[q]; valid[q] = 1; break;
          case GF_AGG_COUNT: vals[q] = s->n; valid[q] = 1; break;
          case GF_AGG_SUM:
          case GF_AGG_MEAN: {
            close_block(c, s);
            valid[q] = s->n > 0;
            if (c->isfloat) {
              double sum = blockpath ? s->cf : s->rf;
              double r = c->kind == GF_AGG_MEAN ? (s->n ? sum / (double)s->n : 0.0) : sum;
              memcpy(&vals[q], &r, 8);
            } else {
              if (blockpath ? s->ovf_blk : s->ovf_row) {
                st = gf_error_set(err, GF_ERANGE, "integer overflow in %s: the sum does not fit in int64",
                                  gf_schema_field(os, j)->name);
                break;
              }
              vals[q] = blockpath ? s->ci : s->ri;
            }
            break;
          }
          default: valid[q] = s->has; vals[q] = s->val; break;
        }
      }
      (void)isf;
      if (st == GF_OK) st = make_fixed(a, t, vals, valid, G, &cols[j], err);
    }
    if (st == GF_OK) st = gf_frame_new((gf_schema *)os, cols, 1, a, &agg, err);
    for (int j = 0; cols && j < nc; j++) gf_array_release(cols[j]);
    if (cols) gfi_mfree(a, cols, sizeof *cols * (size_t)(nc ? nc : 1));
    if (vals) gfi_mfree(a, vals, sizeof *vals * (size_t)(G ? G : 1));
    if (valid) gfi_mfree(a, valid, (size_t)(G ? G : 1));
    if (st == GF_OK && g->sort_keys && g->nkeys > 0 && G > 1) {
      /* The eager operator orders the groups: first() of each single-row
       * group is its value. */
      gf_agg_spec *fs = gfi_calloc(a, sizeof *fs * (size_t)(g->naggs ? g->naggs : 1));
      if (!fs) st = GF_OOM(err, "group-by sort");
      for (int i = 0; st == GF_OK && i < g->naggs; i++) {
        fs[i].kind = GF_AGG_FIRST;
        fs[i].column = g->inames[i];
      }
      gf_frame *sorted = NULL;
      gf_groupby_options so = go;
      so.sort_keys = true;
      if (st == GF_OK)
        st = gfi_group_by_named(agg, (const char *const *)g->keys, g->nkeys, fs, g->naggs, g->inames,
                                &so, &sorted, err);
      if (fs) gfi_mfree(a, fs, sizeof *fs * (size_t)(g->naggs ? g->naggs : 1));
      if (st == GF_OK) {
        gf_frame_release(agg);
        agg = sorted;
      }
    }
  }
  gf_frame_release(e_out);
  if (st == GF_OK) st = gfi_group_by_list_post(agg, (const char *const *)g->keys, g->nkeys, g->list, g->po,
                                               out, err);
  gf_frame_release(agg);
  return st;
}

/* ---- construction --------------------------------------------------------- */

static void gb_free(gfi_sink *k) {
  if (!k) return;
  gbsink *g = k->state;
  if (g) {
    const gf_allocator *a = g->a;
    size_t nk = (size_t)(g->nkeys ? g->nkeys : 1);
    for (int i = 0; g->kc && i < g->nkeys; i++) {
      strtab_free(a, &g->kc[i].st);
      gf_array_release(g->kc[i].dict);
    }
    for (int i = 0; g->keys && i < g->nkeys; i++)
      if (g->keys[i]) gfi_mfree(a, g->keys[i], strlen(g->keys[i]) + 1);
    if (g->keys) gfi_mfree(a, g->keys, sizeof *g->keys * nk);
    if (g->kc) gfi_mfree(a, g->kc, sizeof *g->kc * nk);
    for (int i = 0; g->ac && i < g->naggs; i++)
      if (g->ac[i].s) gfi_mfree(a, g->ac[i].s, sizeof(ast) * (size_t)g->gcap);
    if (g->ac) gfi_mfree(a, g->ac, sizeof *g->ac * (size_t)(g->naggs ? g->naggs : 1));
    if (g->gcap) {
      gfi_mfree(a, g->gkey, sizeof *g->gkey * (size_t)g->gcap * nk);
      gfi_mfree(a, g->gnull, sizeof *g->gnull * (size_t)g->gcap);
      gfi_mfree(a, g->graw, sizeof *g->graw * (size_t)g->gcap * nk);
      gfi_mfree(a, g->grows, sizeof *g->grows * (size_t)g->gcap);
    }
    if (g->slots) gfi_mfree(a, g->slots, sizeof *g->slots * (size_t)g->nslots);
    gf_schema_release(g->schema);
    gfi_mfree(a, g, sizeof *g);
  }
  gfi_mfree(NULL, k, sizeof *k);
}

void gfi_sink_group_by_set_dictionary(gfi_sink *k, int c, gf_array *dict) {
  gbsink *g = k->state;
  for (int i = 0; i < g->nkeys; i++)
    if (g->kc[i].col == c && g->kc[i].kind == 2 && dict) {
      gf_array_release(g->kc[i].dict);
      g->kc[i].dict = gf_array_retain(dict);
      g->kc[i].dict_fixed = true;
    }
}

static bool is_int(gf_type_id id) {
  return id == GF_TYPE_INT8 || id == GF_TYPE_INT16 || id == GF_TYPE_INT32 || id == GF_TYPE_INT64 ||
         id == GF_TYPE_UINT8 || id == GF_TYPE_UINT16 || id == GF_TYPE_UINT32 || id == GF_TYPE_UINT64;
}

gf_status gfi_sink_group_by(const gf_schema *schema, const char *const *keys, int nkeys,
                            const gf_agg_list *aggs, bool sort_keys,
                            const gf_parallel_options *po, gfi_sink **out, gf_error *err) {
  const gf_agg_spec *specs;
  const char *const *inames;
  int nspecs;
  gfi_agg_list_specs(aggs, &specs, &nspecs, &inames);
  if (nkeys > 8) return gf_error_set(err, GF_ENOTSUP, "streaming group-by: more than 8 keys");
  /* What the sink supports; the rest runs eagerly. */
  for (int i = 0; i < nkeys; i++) {
    int c = gf_schema_find(schema, keys[i]);
    if (c < 0) return gf_error_set(err, GF_EINVAL, "group-by: unknown key '%.300s'", keys[i]);
    gf_datatype t = gf_schema_field(schema, c)->type;
    bool ok = is_int(t.id) || t.id == GF_TYPE_BOOL || t.id == GF_TYPE_FLOAT32 ||
              t.id == GF_TYPE_FLOAT64 || t.id == GF_TYPE_DATE32 || t.id == GF_TYPE_UTF8 ||
              (t.id == GF_TYPE_DICTIONARY && t.value_id == GF_TYPE_UTF8);
    if (!ok) return gf_error_set(err, GF_ENOTSUP, "streaming group-by: key type not supported");
  }
  for (int i = 0; i < nspecs; i++) {
    const gf_agg_spec *sp = &specs[i];
    if (sp->kind == GF_AGG_COUNT_ALL) continue;
    int c = sp->column ? gf_schema_find(schema, sp->column) : -1;
    if (c < 0) return gf_error_set(err, GF_ENOTSUP, "streaming group-by: unknown column");
    gf_type_id id = gf_schema_field(schema, c)->type.id;
    bool num = is_int(id) || id == GF_TYPE_FLOAT32 || id == GF_TYPE_FLOAT64;
    bool ok;
    switch (sp->kind) {
      case GF_AGG_COUNT: ok = true; break;
      case GF_AGG_SUM: case GF_AGG_MEAN: ok = num; break;
      case GF_AGG_MIN: case GF_AGG_MAX: case GF_AGG_FIRST: case GF_AGG_LAST:
        ok = num || id == GF_TYPE_BOOL;
        break;
      default: ok = false; break;
    }
    if (!ok) return gf_error_set(err, GF_ENOTSUP, "streaming group-by: aggregate not supported");
  }
  const gf_allocator *a = gfi_alloc_or_default(po->allocator);
  gfi_sink *k = gfi_calloc(NULL, sizeof *k);
  gbsink *g = gfi_calloc(a, sizeof *g);
  if (!k || !g) {
    if (k) gfi_mfree(NULL, k, sizeof *k);
    if (g) gfi_mfree(a, g, sizeof *g);
    return GF_OOM(err, "a group-by sink");
  }
  k->state = g;
  k->push = gb_push;
  k->finish = gb_finish;
  k->free = gb_free;
  g->a = a;
  g->po = po;
  g->schema = gf_schema_retain((gf_schema *)schema);
  g->list = aggs;
  g->specs = specs;
  g->inames = inames;
  g->sort_keys = sort_keys;
  size_t nk = (size_t)(nkeys ? nkeys : 1);
  g->keys = gfi_calloc(a, sizeof *g->keys * nk);
  g->kc = gfi_calloc(a, sizeof *g->kc * nk);
  g->ac = gfi_calloc(a, sizeof *g->ac * (size_t)(nspecs ? nspecs : 1));
  gf_status st = g->keys && g->kc && g->ac ? GF_OK : GF_OOM(err, "a group-by sink");
  if (st == GF_OK) {
    g->nkeys = nkeys;
    g->naggs = nspecs;
  }
  for (int i = 0; i < nkeys && st == GF_OK; i++) {
    size_t n = strlen(keys[i]) + 1;
    g->keys[i] = gfi_malloc(a, n);
    if (!g->keys[i]) {
      st = GF_OOM(err, "a group-by sink");
      break;
    }
    memcpy(g->keys[i], keys[i], n);
    int c = gf_schema_find(schema, keys[i]);
    gf_datatype t = gf_schema_field(schema, c)->type;
    g->kc[i].col = c;
    g->kc[i].kind = t.id == GF_TYPE_UTF8 ? 1 : t.id == GF_TYPE_DICTIONARY ? 2 : 0;
  }
  for (int i = 0; i < nspecs && st == GF_OK; i++) {
    acol *c = &g->ac[i];
    c->kind = specs[i].kind;
    c->col = c->kind == GF_AGG_COUNT_ALL ? -1 : gf_schema_find(schema, specs[i].column);
    if (c->col >= 0) {
      c->type = gf_schema_field(schema, c->col)->type;
      c->isu64 = c->type.id == GF_TYPE_UINT64;
      c->isfloat = c->type.id == GF_TYPE_FLOAT32 || c->type.id == GF_TYPE_FLOAT64 ||
                   c->kind == GF_AGG_MEAN;
    }
  }
  if (st != GF_OK) {
    gb_free(k);
    return st;
  }
  *out = k;
  return GF_OK;
}
