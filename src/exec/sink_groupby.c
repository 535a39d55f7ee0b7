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
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/hash.h"
#include "data/array_internal.h"
#include "data/builder_internal.h"
#include "exec/exec_internal.h"
#include "exec/stream_internal.h"
#include "io/ipc_spill.h"
#include "ops/groupby_internal.h"
#include "ops/key_policy.h"

/* The eager path's limits (groupby.c). */
#define BLOCK_MAX_HANDLES 65536
#define BLOCK_MAX_CELLS (INT64_C(1) << 22)
#define SUBN 1024
/* Output groups per batch of a spilled group-by's result. */
#define OUTN 65536
/* Partitions of a spilled group-by (the test hook may ask for others). */
#define SPILL_PARTS 128

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

/* The per-group states of one aggregate, one layout per kind holding only
 * what that kind needs (the state is most of a group's bytes at high
 * cardinality): count() keeps nothing (the group's row count serves),
 * count(col) a count, min/max an order key and value, first/last a value,
 * sum/mean the block and row-order sums of one arithmetic (float or
 * integer, never both). */
typedef union sumv {
  double f;
  int64_t i;
} sumv;

/* sum, mean */
typedef struct st_sum {
  int64_t n;            /* valid values */
  int64_t blk;          /* block of the open partial, -1 none */
  int64_t pn;           /* partial: values */
  int64_t cn;           /* values in the combined sum */
  sumv p, c, r;         /* partial, combined, row order (float or int) */
  bool ovf_row, ovf_blk;
} st_sum;

/* min, max */
typedef struct st_ext {
  int64_t key, val;     /* order key; value bits */
  bool has;             /* a value seen */
} st_ext;

/* first, last */
typedef struct st_pick {
  int64_t val;
  bool has;
} st_pick;

typedef struct kcol {
  int col;
  int kind;   /* 0 fixed width, 1 utf8, 2 dictionary */
  strtab st;  /* 1, 2: the values met */
  gf_array *dict; /* 2: the frame-wide dictionary for the output: set by
                     the driver (dict_fixed), else the last batch's */
  bool dict_fixed;
  int ri;         /* column of its raw values in gbsink.graw, -1: the raw
                     value is the equality value (integers, utf8 ids) */
  bool mixed;     /* 2: batches came with different dictionaries */
  gf_array *mdict; /* 2, mixed: the dictionary of the values met, built
                      once for the output */
} kcol;

typedef struct acol {
  gf_agg_kind kind;
  int col;     /* -1: count(*) */
  gf_datatype type;
  bool isfloat, isu64;
  void *s;     /* per group: st_* of the kind, NULL for count() */
  size_t ssz;  /* bytes of one group's state (0: none) */
  int so;      /* first column of its packed state (spilled group-by) */
} acol;

/* Group q's state of aggregate c, by kind. */
static inline st_sum *sum_at(const acol *c, int64_t q) { return (st_sum *)c->s + q; }
static inline st_ext *ext_at(const acol *c, int64_t q) { return (st_ext *)c->s + q; }
static inline st_pick *pick_at(const acol *c, int64_t q) { return (st_pick *)c->s + q; }
static inline int64_t *cnt_at(const acol *c, int64_t q) { return (int64_t *)c->s + q; }

/* Bytes of one group's state of an aggregate of this kind. */
static size_t state_size(gf_agg_kind kind) {
  switch (kind) {
    case GF_AGG_COUNT_ALL: return 0;
    case GF_AGG_COUNT: return sizeof(int64_t);
    case GF_AGG_SUM: case GF_AGG_MEAN: return sizeof(st_sum);
    case GF_AGG_MIN: case GF_AGG_MAX: return sizeof(st_ext);
    default: return sizeof(st_pick);
  }
}

typedef struct gbspill gbspill;

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
  int64_t *graw;    /* ng x nraw: first row's raw value of the keys whose
                       raw value differs from the equality value (floats;
                       dictionary codes); kcol.ri */
  int nraw;
  int64_t *grows;   /* rows per group */
  int64_t *gfirst;  /* absolute position of the group's first row */
  int64_t *slots;
  int64_t nslots;
  int64_t rows;     /* rows pushed */
  /* A run of rows decoded (the record columns, RC_* below) and its group
   * ids; also what a spilled run holds. */
  int64_t **rc;
  int nrc;
  int64_t *gid;
  gbspill *sp;      /* NULL: in memory */
} gbsink;

/* Record columns of a decoded run of rows: position, key null mask, the
 * keys' equality values and raw values, per aggregate its value (float
 * bits, integer, or min/max order key) and raw bits, and the aggregates'
 * validity bits. */
#define RC_POS 0
#define RC_NULLS 1
#define RC_KEY(g, k) (2 + (k))
#define RC_RAW(g, k) (2 + (g)->nkeys + (k))
#define RC_AV(g, i) (2 + 2 * (g)->nkeys + 2 * (i))
#define RC_AR(g, i) (3 + 2 * (g)->nkeys + 2 * (i))
#define RC_VM(g) (2 + 2 * (g)->nkeys + 2 * (g)->naggs)

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

/* A used slot of the group table holds the group id (low 40 bits) and the
 * top 23 bits of its key hash (bits 40-62; nonnegative, -1 marks a free
 * slot), so a probe passes other groups' slots without reading their keys
 * (a cache miss per slot at high cardinality). A key's home slot is the
 * top log2(slots) bits of its hash, so while the table has at most 2^23
 * slots, growing it places every group from its tag alone, in slot order,
 * without reading (or hashing) the keys again. */
/* The table's hash: the key hash rotated so that its top bits are the key
 * hash's bits 17-39, apart from the bits a spilled group-by partitions by
 * (40-46, part_of): the keys of one partition must still spread. */
static inline uint64_t slot_hash(uint64_t h) { return h << 24 | h >> 40; }
#define SLOT_QBITS 40
#define SLOT_QMASK ((INT64_C(1) << SLOT_QBITS) - 1)
#define SLOT_TAGBITS 23
static inline int64_t slot_tag(uint64_t h) { return (int64_t)(h >> (64 - SLOT_TAGBITS)) << SLOT_QBITS; }
/* Test hook: growth places groups from their tags only up to 2^bits slots
 * (0: SLOT_TAGBITS), so small tests reach the rehashing path too. */
static atomic_int test_tag_bits;

void gfi_sink_group_by_test_tagbits(int bits) { atomic_store(&test_tag_bits, bits); }

/* The home slot of hash h in a table of 2^lg slots (1 <= lg <= 63). */
static inline int64_t slot_home(uint64_t h, int lg) { return (int64_t)(h >> (64 - lg)); }

/* Grows the per-group arrays (not the slot table) to hold `need` groups. */
static gf_status grow_arrays(gbsink *g, int64_t need, gf_error *err) {
  int64_t cap = g->gcap ? g->gcap * 2 : 1024;
  while (cap < need) cap *= 2;
  size_t nk = (size_t)(g->nkeys ? g->nkeys : 1);
  size_t nr = (size_t)(g->nraw ? g->nraw : 1);
  const gf_allocator *a = g->a;
  uint64_t *k = gfi_malloc(a, sizeof *k * (size_t)cap * nk);
  uint64_t *nl = gfi_malloc(a, sizeof *nl * (size_t)cap);
  int64_t *raw = gfi_malloc(a, sizeof *raw * (size_t)cap * nr);
  int64_t *rows = gfi_malloc(a, sizeof *rows * (size_t)cap);
  int64_t *first = gfi_malloc(a, sizeof *first * (size_t)cap);
  void **ns = gfi_calloc(a, sizeof *ns * (size_t)(g->naggs ? g->naggs : 1));
  bool ok = k && nl && raw && rows && first && ns;
  for (int i = 0; ok && i < g->naggs; i++)
    if (g->ac[i].ssz) ok = (ns[i] = gfi_malloc(a, g->ac[i].ssz * (size_t)cap)) != NULL;
  if (!ok) {
    if (k) gfi_mfree(a, k, sizeof *k * (size_t)cap * nk);
    if (nl) gfi_mfree(a, nl, sizeof *nl * (size_t)cap);
    if (raw) gfi_mfree(a, raw, sizeof *raw * (size_t)cap * nr);
    if (rows) gfi_mfree(a, rows, sizeof *rows * (size_t)cap);
    if (first) gfi_mfree(a, first, sizeof *first * (size_t)cap);
    for (int i = 0; ns && i < g->naggs; i++)
      if (ns[i]) gfi_mfree(a, ns[i], g->ac[i].ssz * (size_t)cap);
    if (ns) gfi_mfree(a, ns, sizeof *ns * (size_t)(g->naggs ? g->naggs : 1));
    return GF_OOM(err, "group-by groups");
  }
  if (g->gcap) {
    memcpy(k, g->gkey, sizeof *k * (size_t)g->ng * nk);
    memcpy(nl, g->gnull, sizeof *nl * (size_t)g->ng);
    memcpy(raw, g->graw, sizeof *raw * (size_t)g->ng * nr);
    memcpy(rows, g->grows, sizeof *rows * (size_t)g->ng);
    memcpy(first, g->gfirst, sizeof *first * (size_t)g->ng);
    gfi_mfree(a, g->gkey, sizeof *k * (size_t)g->gcap * nk);
    gfi_mfree(a, g->gnull, sizeof *nl * (size_t)g->gcap);
    gfi_mfree(a, g->graw, sizeof *raw * (size_t)g->gcap * nr);
    gfi_mfree(a, g->grows, sizeof *rows * (size_t)g->gcap);
    gfi_mfree(a, g->gfirst, sizeof *first * (size_t)g->gcap);
  }
  for (int i = 0; i < g->naggs; i++) {
    if (!g->ac[i].ssz) continue;
    if (g->gcap) {
      memcpy(ns[i], g->ac[i].s, g->ac[i].ssz * (size_t)g->ng);
      gfi_mfree(a, g->ac[i].s, g->ac[i].ssz * (size_t)g->gcap);
    }
    g->ac[i].s = ns[i];
  }
  gfi_mfree(a, ns, sizeof *ns * (size_t)(g->naggs ? g->naggs : 1));
  g->gkey = k;
  g->gnull = nl;
  g->graw = raw;
  g->grows = rows;
  g->gfirst = first;
  g->gcap = cap;
  return GF_OK;
}

/* Grows the per-group arrays to hold `need` groups, and the slot table to
 * twice the capacity (a failure leaves a consistent table to retry). */
static gf_status grow_groups(gbsink *g, int64_t need, gf_error *err) {
  if (need <= g->gcap && g->slots && g->nslots >= g->gcap * 2) return GF_OK;
  const gf_allocator *a = g->a;
  if (need > g->gcap) GF_RETURN_NOT_OK(grow_arrays(g, need, err));
  int64_t cap = g->gcap;
  size_t nk = (size_t)(g->nkeys ? g->nkeys : 1);
  /* The slot table keeps at most half its slots used. */
  if (g->nslots < cap * 2) {
    int64_t ns2 = cap * 2;
    int64_t *s = gfi_malloc(a, sizeof *s * (size_t)ns2);
    if (!s) return GF_OOM(err, "group-by groups");
    memset(s, 0xff, sizeof *s * (size_t)ns2);
    int lg = __builtin_ctzll((unsigned long long)ns2);
    int tb = atomic_load(&test_tag_bits);
    if (lg <= (tb > 0 && tb < SLOT_TAGBITS ? tb : SLOT_TAGBITS) && g->slots) {
      for (int64_t o = 0; o < g->nslots; o++) {
        int64_t v = g->slots[o];
        if (v < 0) continue;
        int64_t i = (v >> SLOT_QBITS) >> (SLOT_TAGBITS - lg);
        while (s[i] >= 0) i = (i + 1) & (ns2 - 1);
        s[i] = v;
      }
    } else {
      for (int64_t q = 0; q < g->ng; q++) {
        uint64_t h = slot_hash(key_hash(g->gkey + (size_t)q * nk, g->gnull[q], g->nkeys));
        int64_t i = slot_home(h, lg);
        while (s[i] >= 0) i = (i + 1) & (ns2 - 1);
        s[i] = slot_tag(h) | q;
      }
    }
    if (g->slots) gfi_mfree(a, g->slots, sizeof *g->slots * (size_t)g->nslots);
    g->slots = s;
    g->nslots = ns2;
  }
  return GF_OK;
}

/* The group of a key tuple, created (with its raw values and the position
 * `pos` of its first row) when new. */
static gf_status group_of(gbsink *g, const uint64_t *k, uint64_t nulls, const int64_t *raw,
                          int64_t pos, int64_t *gid, gf_error *err) {
  size_t nk = (size_t)(g->nkeys ? g->nkeys : 1);
  if (g->ng + 1 > g->gcap || !g->slots || g->nslots < g->gcap * 2)
    GF_RETURN_NOT_OK(grow_groups(g, g->ng + 1, err));
  int nkeys = g->nkeys;
  uint64_t h = slot_hash(key_hash(k, nulls, nkeys));
  int64_t tag = slot_tag(h), mask = g->nslots - 1;
  int64_t i = slot_home(h, __builtin_ctzll((unsigned long long)g->nslots));
  for (int64_t v; (v = g->slots[i]) >= 0; i = (i + 1) & mask) {
    if ((v & ~SLOT_QMASK) != tag) continue;
    int64_t q = v & SLOT_QMASK;
    const uint64_t *gk = g->gkey + (size_t)q * nk;
    int m = 0;
    while (m < nkeys && gk[m] == k[m]) m++;
    if (m == nkeys && g->gnull[q] == nulls) {
      *gid = q;
      return GF_OK;
    }
  }
  if (g->ng > SLOT_QMASK)
    return gf_error_set(err, GF_ERANGE, "streaming group-by: more than 2^40 groups in memory; "
                                        "set a memory limit so that the group-by spills");
  int64_t q = g->ng++;
  g->slots[i] = tag | q;
  if (g->nkeys) memcpy(g->gkey + (size_t)q * nk, k, sizeof *k * (size_t)g->nkeys);
  for (int j = 0; j < g->nkeys; j++)
    if (g->kc[j].ri >= 0) g->graw[(size_t)q * (size_t)g->nraw + (size_t)g->kc[j].ri] = raw[j];
  g->gnull[q] = nulls;
  g->grows[q] = 0;
  g->gfirst[q] = pos;
  for (int j = 0; j < g->naggs; j++) {
    acol *c = &g->ac[j];
    if (!c->ssz) continue;
    memset((char *)c->s + c->ssz * (size_t)q, 0, c->ssz);
    if (c->kind == GF_AGG_SUM || c->kind == GF_AGG_MEAN) sum_at(c, q)->blk = -1;
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
static void close_block(const acol *c, st_sum *s) {
  if (s->blk < 0) return;
  if (s->pn) {
    if (c->isfloat) s->c.f = s->cn ? s->c.f + s->p.f : s->p.f;
    else s->ovf_blk |= __builtin_add_overflow(s->c.i, s->p.i, &s->c.i);
    s->cn += s->pn;
  } else if (!c->isfloat) {
    s->ovf_blk |= __builtin_add_overflow(s->c.i, s->p.i, &s->c.i);
  }
  s->pn = 0;
  if (c->isfloat) s->p.f = 0.0;
  else s->p.i = 0;
  s->blk = -1;
}

/* ---- push ----------------------------------------------------------------- */

/* Decodes rows [lo, lo + len) of batch b, at absolute position `pos0` (of
 * row lo), into the record columns g->rc (len <= SUBN): what folding them
 * into the groups needs, and all that a spilled run keeps of them. */
static gf_status decode_run(gbsink *g, const gf_frame *f, int b, int64_t lo, int64_t len,
                            int64_t pos0, gf_error *err) {
  const gf_allocator *a = g->a;
  int nk = g->nkeys;
  uint64_t kb[SUBN * 8];
  int64_t kr[SUBN * 8];
  uint8_t kv[SUBN * 8];
  bool knull[8];
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
  int64_t **rc = g->rc;
  for (int64_t j = 0; j < len; j++) {
    uint64_t nulls = 0;
    for (int k = 0; k < nk; k++) {
      bool valid = !knull[k] || kv[(size_t)k * SUBN + (size_t)j];
      rc[RC_KEY(g, k)][j] = valid ? (int64_t)kb[(size_t)k * SUBN + (size_t)j] : 0;
      rc[RC_RAW(g, k)][j] = valid ? kr[(size_t)k * SUBN + (size_t)j] : 0;
      if (!valid) nulls |= UINT64_C(1) << k;
    }
    rc[RC_POS][j] = pos0 + j;
    rc[RC_NULLS][j] = (int64_t)nulls;
    rc[RC_VM(g)][j] = 0;
  }
  /* Aggregate inputs: zeros under nulls (a spilled run holds no garbage). */
  for (int i = 0; i < g->naggs; i++) {
    acol *c = &g->ac[i];
    int64_t *av = rc[RC_AV(g, i)], *ar = rc[RC_AR(g, i)];
    memset(av, 0, sizeof *av * (size_t)len);
    memset(ar, 0, sizeof *ar * (size_t)len);
    if (c->kind == GF_AGG_COUNT_ALL) continue;
    const gf_array *x = gf_frame_column(f, b, c->col);
    uint8_t valid[SUBN];
    bool nulls = gfi_gb_load_valid(x, lo, len, NULL, 0, valid);
    uint64_t bit = UINT64_C(1) << i;
    for (int64_t j = 0; j < len; j++)
      if (!nulls || valid[j]) rc[RC_VM(g)][j] |= (int64_t)bit;
    if (c->kind == GF_AGG_COUNT) continue;
    if (c->kind == GF_AGG_SUM || c->kind == GF_AGG_MEAN) {
      if (c->isfloat) {
        double v[SUBN];
        gfi_gb_load_f64(x, lo, len, NULL, 0, v);
        for (int64_t j = 0; j < len; j++)
          if (!nulls || valid[j]) memcpy(&av[j], &v[j], 8);
      } else {
        int64_t v[SUBN];
        gfi_gb_load_i64(x, lo, len, NULL, 0, v);
        for (int64_t j = 0; j < len; j++)
          if (!nulls || valid[j]) av[j] = v[j];
      }
      continue;
    }
    if (c->kind == GF_AGG_MIN || c->kind == GF_AGG_MAX) {
      int64_t key[SUBN];
      gfi_gb_load_key(x, lo, len, NULL, 0, NULL, key);
      for (int64_t j = 0; j < len; j++)
        if (!nulls || valid[j]) {
          av[j] = key[j];
          ar[j] = raw_bits(x, lo + j);
        }
      continue;
    }
    for (int64_t j = 0; j < len; j++)
      if (!nulls || valid[j]) ar[j] = raw_bits(x, lo + j);
  }
  return GF_OK;
}

/* Folds n decoded rows (record columns rc, each row at its own absolute
 * position, positions increasing) into the groups: group ids first (new
 * groups in order of appearance), then every aggregate row by row. */
static gf_status fold_run(gbsink *g, int64_t *const *rc, int64_t n, gf_error *err) {
  int nk = g->nkeys;
  int64_t *gid = g->gid;
  const int64_t *pos = rc[RC_POS];
  for (int64_t j = 0; j < n; j++) {
    uint64_t key[8];
    int64_t raw[8];
    for (int k = 0; k < nk; k++) {
      key[k] = (uint64_t)rc[RC_KEY(g, k)][j];
      raw[k] = rc[RC_RAW(g, k)][j];
    }
    GF_RETURN_NOT_OK(group_of(g, key, (uint64_t)rc[RC_NULLS][j], raw, pos[j], &gid[j], err));
    g->grows[gid[j]]++;
  }
  const int64_t *vm = rc[RC_VM(g)];
  for (int i = 0; i < g->naggs; i++) {
    acol *c = &g->ac[i];
    if (c->kind == GF_AGG_COUNT_ALL) continue;
    const int64_t *av = rc[RC_AV(g, i)], *ar = rc[RC_AR(g, i)];
    uint64_t bit = UINT64_C(1) << i;
    if (c->kind == GF_AGG_COUNT) {
      for (int64_t j = 0; j < n; j++) *cnt_at(c, gid[j]) += ((uint64_t)vm[j] & bit) != 0;
      continue;
    }
    if (c->kind == GF_AGG_SUM || c->kind == GF_AGG_MEAN) {
      for (int64_t j = 0; j < n; j++) {
        st_sum *s = sum_at(c, gid[j]);
        int64_t blk = pos[j] / GF_REDUCTION_BLOCK_ROWS;
        if (s->blk != blk) {
          close_block(c, s);
          s->blk = blk;
        }
        bool ok = ((uint64_t)vm[j] & bit) != 0;
        if (c->isfloat) {
          double v;
          memcpy(&v, &av[j], 8);
          double add = ok ? v : -0.0;
          s->p.f += add;
          s->r.f += add;
        } else {
          int64_t add = ok ? av[j] : 0;
          if (c->isu64 && ok && av[j] < 0) s->ovf_row = s->ovf_blk = true;
          s->ovf_blk |= __builtin_add_overflow(s->p.i, add, &s->p.i);
          s->ovf_row |= __builtin_add_overflow(s->r.i, add, &s->r.i);
        }
        s->pn += ok;
        s->n += ok;
      }
      continue;
    }
    if (c->kind == GF_AGG_MIN || c->kind == GF_AGG_MAX) {
      bool mx = c->kind == GF_AGG_MAX;
      for (int64_t j = 0; j < n; j++) {
        if (!((uint64_t)vm[j] & bit)) continue;
        st_ext *s = ext_at(c, gid[j]);
        if (!s->has || (mx ? av[j] > s->key : av[j] < s->key)) {
          s->has = true;
          s->key = av[j];
          s->val = ar[j];
        }
      }
      continue;
    }
    /* first / last */
    bool last = c->kind == GF_AGG_LAST;
    for (int64_t j = 0; j < n; j++) {
      if (!((uint64_t)vm[j] & bit)) continue;
      st_pick *s = pick_at(c, gid[j]);
      if (last || !s->has) {
        s->has = true;
        s->val = ar[j];
      }
    }
  }
  return GF_OK;
}

/* ---- spilling (docs/SPILLING.md) ------------------------------------------- */

/* A spilled group-by. When the groups would outgrow the sink's share of
 * the memory limit, the groups so far are written out as partial states,
 * one run per hash partition, and every later row (its record columns) is
 * appended to its partition's run. At the end each partition is aggregated
 * alone: its partial states loaded, its rows folded in input order, exactly
 * the arithmetic the in-memory sink does (the partial states keep both the
 * block and the row-order sums). The partitions' groups, each partition in
 * first-appearance order, are written to a result file and merged by
 * first-appearance position. Runs are Arrow IPC (LZ4 when built) of int64
 * columns, in nameless spill files. */
typedef struct blist {
  gfi_spill_block *b;
  int64_t n, cap;
} blist;

struct gbspill {
  int P;               /* partitions */
  int64_t R;           /* rows per spilled block */
  int ncs;             /* state columns */
  gfi_spill_space *space;
  gfi_spill_file *fin;  /* partial states and rows */
  gfi_spill_file *fres; /* aggregated partitions */
  gf_schema *rs, *ss;   /* record and state frame schemas */
  int64_t **buf;        /* per partition: max(nrc, ncs) columns x R */
  int64_t *cnt;         /* rows buffered per partition */
  blist *st, *rw, *res; /* per partition: state, row and result blocks */
  int64_t groups;       /* groups of all partitions (after aggregation) */
  bool aggregated;
};

static atomic_llong test_spill_groups;
static atomic_int test_spill_parts;

void gfi_sink_group_by_test_spill(int64_t max_groups, int partitions) {
  atomic_store(&test_spill_groups, max_groups);
  atomic_store(&test_spill_parts, partitions);
}

/* Packed fields of one aggregate's state. */
static int state_fields(gf_agg_kind kind) {
  switch (kind) {
    case GF_AGG_COUNT_ALL: return 0;
    case GF_AGG_COUNT: return 1;
    case GF_AGG_SUM: case GF_AGG_MEAN: return 11;
    case GF_AGG_MIN: case GF_AGG_MAX: return 3;
    default: return 2;
  }
}


/* Group q's state into row j of state columns `cols` (layout: first
 * position, null mask, keys, raws, rows, then each aggregate's fields). */
static void pack_group(const gbsink *g, int64_t q, int64_t **cols, int64_t j) {
  int nk = g->nkeys;
  size_t nkk = (size_t)(nk ? nk : 1);
  cols[0][j] = g->gfirst[q];
  cols[1][j] = (int64_t)g->gnull[q];
  for (int k = 0; k < nk; k++) {
    int64_t kv = (int64_t)g->gkey[(size_t)q * nkk + (size_t)k];
    int ri = g->kc[k].ri;
    cols[2 + k][j] = kv;
    cols[2 + nk + k][j] = ri >= 0 ? g->graw[(size_t)q * (size_t)g->nraw + (size_t)ri] : kv;
  }
  cols[2 + 2 * nk][j] = g->grows[q];
  for (int i = 0; i < g->naggs; i++) {
    const acol *c = &g->ac[i];
    int64_t **o = cols + c->so;
    switch (c->kind) {
      case GF_AGG_COUNT_ALL: break;
      case GF_AGG_COUNT: o[0][j] = *cnt_at(c, q); break;
      case GF_AGG_SUM: case GF_AGG_MEAN: {
        /* The spilled layout keeps both arithmetics' columns (zero for the
         * one not used), so the state files do not depend on the kind. */
        const st_sum *s = sum_at(c, q);
        bool f = c->isfloat;
        o[0][j] = s->n; o[1][j] = s->blk; o[2][j] = s->pn;
        o[3][j] = f ? s->p.i : 0; o[4][j] = f ? s->c.i : 0; o[5][j] = f ? s->r.i : 0;
        o[6][j] = f ? 0 : s->p.i; o[7][j] = f ? 0 : s->c.i; o[8][j] = f ? 0 : s->r.i;
        o[9][j] = s->cn;
        o[10][j] = (int64_t)s->ovf_row | (int64_t)s->ovf_blk << 1;
        break;
      }
      case GF_AGG_MIN: case GF_AGG_MAX: {
        const st_ext *s = ext_at(c, q);
        o[0][j] = s->has; o[1][j] = s->key; o[2][j] = s->val;
        break;
      }
      default: {
        const st_pick *s = pick_at(c, q);
        o[0][j] = s->has; o[1][j] = s->val;
        break;
      }
    }
  }
}

/* Row j of state columns into group q (whose slot exists). */
static void unpack_group(gbsink *g, int64_t q, const int64_t *const *cols, int64_t j) {
  int nk = g->nkeys;
  size_t nkk = (size_t)(nk ? nk : 1);
  g->gfirst[q] = cols[0][j];
  g->gnull[q] = (uint64_t)cols[1][j];
  for (int k = 0; k < nk; k++) {
    g->gkey[(size_t)q * nkk + (size_t)k] = (uint64_t)cols[2 + k][j];
    if (g->kc[k].ri >= 0) g->graw[(size_t)q * (size_t)g->nraw + (size_t)g->kc[k].ri] = cols[2 + nk + k][j];
  }
  g->grows[q] = cols[2 + 2 * nk][j];
  for (int i = 0; i < g->naggs; i++) {
    acol *c = &g->ac[i];
    const int64_t *const *o = cols + c->so;
    switch (c->kind) {
      case GF_AGG_COUNT_ALL: break;
      case GF_AGG_COUNT: *cnt_at(c, q) = o[0][j]; break;
      case GF_AGG_SUM: case GF_AGG_MEAN: {
        st_sum *s = sum_at(c, q);
        bool f = c->isfloat;
        memset(s, 0, sizeof *s);
        s->n = o[0][j]; s->blk = o[1][j]; s->pn = o[2][j];
        s->p.i = o[f ? 3 : 6][j]; s->c.i = o[f ? 4 : 7][j]; s->r.i = o[f ? 5 : 8][j];
        s->cn = o[9][j];
        s->ovf_row = o[10][j] & 1;
        s->ovf_blk = (o[10][j] >> 1) & 1;
        break;
      }
      case GF_AGG_MIN: case GF_AGG_MAX: {
        st_ext *s = ext_at(c, q);
        memset(s, 0, sizeof *s);
        s->has = o[0][j] != 0; s->key = o[1][j]; s->val = o[2][j];
        break;
      }
      default: {
        st_pick *s = pick_at(c, q);
        memset(s, 0, sizeof *s);
        s->has = o[0][j] != 0; s->val = o[1][j];
        break;
      }
    }
  }
}

/* Bytes of the group arrays at capacity cap (slot table included). */
static int64_t state_bytes(const gbsink *g, int64_t cap) {
  int64_t nk = g->nkeys ? g->nkeys : 1;
  int64_t per = 8 * nk + 8 * (g->nraw ? g->nraw : 1) + 24 + 16;
  for (int i = 0; i < g->naggs; i++) per += (int64_t)g->ac[i].ssz;
  return cap * per;
}

static int64_t strtab_bytes(const gbsink *g) {
  int64_t b = 0;
  for (int k = 0; k < g->nkeys; k++) {
    const strtab *t = &g->kc[k].st;
    b += t->cap * 8 + t->bcap + t->nslots * 8;
  }
  return b;
}

static void blist_free(const gf_allocator *a, blist *l) {
  if (l->b) gfi_mfree(a, l->b, sizeof *l->b * (size_t)l->cap);
  memset(l, 0, sizeof *l);
}

static gf_status blist_add(const gf_allocator *a, blist *l, const gfi_spill_block *b, gf_error *err) {
  if (l->n == l->cap) {
    int64_t cap = l->cap ? l->cap * 2 : 16;
    gfi_spill_block *n = gfi_malloc(a, sizeof *n * (size_t)cap);
    if (!n) return GF_OOM(err, "group-by spill");
    if (l->n) memcpy(n, l->b, sizeof *n * (size_t)l->n);
    if (l->b) gfi_mfree(a, l->b, sizeof *l->b * (size_t)l->cap);
    l->b = n;
    l->cap = cap;
  }
  l->b[l->n++] = *b;
  return GF_OK;
}

static void spill_free(gbsink *g) {
  gbspill *sp = g->sp;
  if (!sp) return;
  const gf_allocator *a = g->a;
  int nb = g->nrc > sp->ncs ? g->nrc : sp->ncs;
  for (int p = 0; p < sp->P; p++) {
    if (sp->buf && sp->buf[p]) gfi_mfree(a, sp->buf[p], sizeof(int64_t) * (size_t)nb * (size_t)sp->R);
    if (sp->st) blist_free(a, &sp->st[p]);
    if (sp->rw) blist_free(a, &sp->rw[p]);
    if (sp->res) blist_free(a, &sp->res[p]);
  }
  if (sp->buf) gfi_mfree(a, sp->buf, sizeof *sp->buf * (size_t)sp->P);
  if (sp->cnt) gfi_mfree(a, sp->cnt, sizeof *sp->cnt * (size_t)sp->P);
  if (sp->st) gfi_mfree(a, sp->st, sizeof *sp->st * (size_t)sp->P);
  if (sp->rw) gfi_mfree(a, sp->rw, sizeof *sp->rw * (size_t)sp->P);
  if (sp->res) gfi_mfree(a, sp->res, sizeof *sp->res * (size_t)sp->P);
  gfi_spill_file_close(sp->fin);
  gfi_spill_file_close(sp->fres);
  gfi_spill_space_free(sp->space);
  gf_schema_release(sp->rs);
  gf_schema_release(sp->ss);
  gfi_mfree(a, sp, sizeof *sp);
  g->sp = NULL;
}

/* A schema of n int64 columns c0..c{n-1}. */
static gf_status int_schema(int n, gf_schema **out, gf_error *err) {
  gf_field f[320];
  char names[320][8];
  if (n > 320) return gf_error_set(err, GF_ENOTSUP, "group-by spill: too many columns");
  for (int i = 0; i < n; i++) {
    snprintf(names[i], sizeof names[i], "c%d", i);
    f[i] = (gf_field){names[i], gf_type(GF_TYPE_INT64), false};
  }
  return gf_schema_new(f, n, out, err);
}

/* Writes rows [0, n) of columns cols[0..nc) (schema s) to `file` as one
 * block appended to l. */
static gf_status write_block(gbsink *g, gf_schema *s, int64_t *const *cols, int nc, int64_t n,
                             gfi_spill_file *file, blist *l, gf_error *err) {
  const gf_allocator *a = g->a;
  gf_array **arr = gfi_calloc(a, sizeof *arr * (size_t)nc);
  if (!arr) return GF_OOM(err, "group-by spill");
  gf_status st = GF_OK;
  for (int c = 0; c < nc && st == GF_OK; c++) {
    gf_buffer *b[3] = {NULL, NULL, NULL};
    if (gfi_buffer_alloc(a, sizeof(int64_t) * (size_t)(n ? n : 1), &b[1]) != GF_OK) {
      st = GF_OOM(err, "group-by spill");
      break;
    }
    memcpy(gf_buffer_mutable_data(b[1]), cols[c], sizeof(int64_t) * (size_t)n);
    st = gfi_array_make(a, gf_type(GF_TYPE_INT64), n, 0, 0, b, NULL, &arr[c], err);
  }
  gf_frame *f = NULL;
  if (st == GF_OK) st = gf_frame_new(s, arr, 1, a, &f, err);
  for (int c = 0; c < nc; c++) gf_array_release(arr[c]);
  gfi_mfree(a, arr, sizeof *arr * (size_t)nc);
  gfi_spill_block blk;
  if (st == GF_OK) st = gfi_spill_write_frame(file, f, g->po, &blk, err);
  gf_frame_release(f);
  if (st == GF_OK) st = blist_add(a, l, &blk, err);
  return st;
}

/* Column pointers of partition p's buffer. */
static void buf_cols(const gbsink *g, int p, int nc, int64_t **cols) {
  for (int c = 0; c < nc; c++) cols[c] = g->sp->buf[p] + (size_t)c * (size_t)g->sp->R;
}

/* Writes partition p's buffered rows (nc columns) to its list l. */
static gf_status flush_part(gbsink *g, int p, gf_schema *s, int nc, gfi_spill_file *file, blist *l,
                            gf_error *err) {
  gbspill *sp = g->sp;
  if (sp->cnt[p] == 0) return GF_OK;
  int64_t *cols[320];
  buf_cols(g, p, nc, cols);
  gf_status st = write_block(g, s, cols, nc, sp->cnt[p], file, l, err);
  sp->cnt[p] = 0;
  return st;
}

static int part_of(const gbsink *g, const uint64_t *key, uint64_t nulls) {
  uint64_t h = key_hash(key, nulls, g->nkeys);
  return (int)((h >> 40) % (uint64_t)g->sp->P);
}

/* Empties the group table (capacity kept) for the next partition. */
static void groups_reset(gbsink *g) {
  g->ng = 0;
  if (g->slots) memset(g->slots, 0xff, sizeof *g->slots * (size_t)g->nslots);
}

/* Switches to partitioned mode: the groups so far go out as partial
 * states, one run per partition; the table is emptied. */
static gf_status spill_start(gbsink *g, gf_error *err) {
  const gf_allocator *a = g->a;
  gbspill *sp = gfi_calloc(a, sizeof *sp);
  if (!sp) return GF_OOM(err, "group-by spill");
  g->sp = sp;
  int tp = atomic_load(&test_spill_parts);
  sp->P = tp > 0 ? tp : SPILL_PARTS;
  sp->ncs = 3 + 2 * g->nkeys;
  for (int i = 0; i < g->naggs; i++) {
    g->ac[i].so = sp->ncs;
    sp->ncs += state_fields(g->ac[i].kind);
  }
  int nb = g->nrc > sp->ncs ? g->nrc : sp->ncs;
  /* Buffers: an eighth of the limit over all partitions. */
  int64_t lim = gfi_memory_limit(g->po);
  int64_t R = lim > 0 ? lim / 8 / ((int64_t)sp->P * nb * 8) : 4096;
  sp->R = R < 64 ? 64 : R > 8192 ? 8192 : R;
  sp->buf = gfi_calloc(a, sizeof *sp->buf * (size_t)sp->P);
  sp->cnt = gfi_calloc(a, sizeof *sp->cnt * (size_t)sp->P);
  sp->st = gfi_calloc(a, sizeof *sp->st * (size_t)sp->P);
  sp->rw = gfi_calloc(a, sizeof *sp->rw * (size_t)sp->P);
  sp->res = gfi_calloc(a, sizeof *sp->res * (size_t)sp->P);
  if (!sp->buf || !sp->cnt || !sp->st || !sp->rw || !sp->res) return GF_OOM(err, "group-by spill");
  for (int p = 0; p < sp->P; p++)
    if (!(sp->buf[p] = gfi_malloc(a, sizeof(int64_t) * (size_t)nb * (size_t)sp->R)))
      return GF_OOM(err, "group-by spill");
  GF_RETURN_NOT_OK(int_schema(g->nrc, &sp->rs, err));
  GF_RETURN_NOT_OK(int_schema(sp->ncs, &sp->ss, err));
  GF_RETURN_NOT_OK(gfi_spill_space_new(g->po, &sp->space, err));
  GF_RETURN_NOT_OK(gfi_spill_file_open(sp->space, &sp->fin, err));
  /* Partial states, each partition's in group (first-appearance) order. */
  size_t nkk = (size_t)(g->nkeys ? g->nkeys : 1);
  for (int64_t q = 0; q < g->ng; q++) {
    int p = part_of(g, g->gkey + (size_t)q * nkk, g->gnull[q]);
    int64_t *cols[320];
    buf_cols(g, p, sp->ncs, cols);
    pack_group(g, q, cols, sp->cnt[p]++);
    if (sp->cnt[p] == sp->R) GF_RETURN_NOT_OK(flush_part(g, p, sp->ss, sp->ncs, sp->fin, &sp->st[p], err));
  }
  for (int p = 0; p < sp->P; p++)
    GF_RETURN_NOT_OK(flush_part(g, p, sp->ss, sp->ncs, sp->fin, &sp->st[p], err));
  groups_reset(g);
  return GF_OK;
}

/* Appends n decoded rows to their partitions' runs. */
static gf_status spill_rows(gbsink *g, int64_t n, gf_error *err) {
  gbspill *sp = g->sp;
  int nk = g->nkeys;
  for (int64_t j = 0; j < n; j++) {
    uint64_t key[8];
    for (int k = 0; k < nk; k++) key[k] = (uint64_t)g->rc[RC_KEY(g, k)][j];
    int p = part_of(g, key, (uint64_t)g->rc[RC_NULLS][j]);
    int64_t *b = sp->buf[p];
    int64_t at = sp->cnt[p]++;
    for (int c = 0; c < g->nrc; c++) b[(size_t)c * (size_t)sp->R + (size_t)at] = g->rc[c][j];
    if (sp->cnt[p] == sp->R) GF_RETURN_NOT_OK(flush_part(g, p, sp->rs, g->nrc, sp->fin, &sp->rw[p], err));
  }
  return GF_OK;
}

/* Room for n more groups in memory; *spill = true when the sink should
 * switch to partitioned mode instead (the growth would cross its share of
 * the memory limit, or the limit refused it). */
static gf_status room_for(gbsink *g, int64_t n, bool *spill, gf_error *err) {
  *spill = false;
  /* Spilling needs the validity bits of every aggregate in one word; the
   * sorted output is built whole (the eager sort): neither spills; nor
   * does a group-by without keys (one group). */
  bool can = g->naggs <= 64 && !g->sort_keys && g->nkeys > 0;
  int64_t tg = atomic_load(&test_spill_groups);
  if (can && tg > 0 && g->ng + n > tg && g->ng > 0) {
    *spill = true;
    return GF_OK;
  }
  if (g->ng + n <= g->gcap && g->slots) return GF_OK;
  int64_t lim = gfi_memory_limit(g->po);
  int64_t cap = g->gcap ? g->gcap * 2 : 1024;
  while (cap < g->ng + n) cap *= 2;
  if (can && lim > 0 && g->ng > 0 &&
      state_bytes(g, g->gcap) + state_bytes(g, cap) + strtab_bytes(g) > lim / 10 * 6) {
    *spill = true;
    return GF_OK;
  }
  gf_status st = grow_groups(g, g->ng + n, err);
  if (st == GF_ENOMEM && can && lim > 0 && g->ng > 0) {
    *spill = true;
    return GF_OK;
  }
  return st;
}

/* ---- push ----------------------------------------------------------------- */

static gf_status gb_push(gfi_sink *k, const gf_frame *f, int64_t pos, gf_error *err) {
  gbsink *g = k->state;
  int64_t at = pos;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t n = gf_frame_batch_rows(f, b);
    for (int64_t lo = 0; lo < n; lo += SUBN) {
      int64_t len = n - lo < SUBN ? n - lo : SUBN;
      GF_RETURN_NOT_OK(decode_run(g, f, b, lo, len, at + lo, err));
      if (!g->sp) {
        bool spill = false;
        GF_RETURN_NOT_OK(room_for(g, len, &spill, err));
        if (spill) GF_RETURN_NOT_OK(spill_start(g, err));
      }
      if (g->sp) GF_RETURN_NOT_OK(spill_rows(g, len, err));
      else GF_RETURN_NOT_OK(fold_run(g, g->rc, len, err));
    }
    at += n;
  }
  g->rows = at;
  return gfi_check_stop(g->po, 0, NULL, err);
}

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

/* The eager group-by over an empty frame of the sink's input: the output
 * schema (and the whole answer for no rows). */
static gf_status empty_agg(gbsink *g, gf_frame **out, gf_error *err) {
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = g->po;
  gf_frame *empty = NULL;
  gf_status st = gf_frame_new(g->schema, NULL, 0, g->a, &empty, err);
  if (st == GF_OK)
    st = gfi_group_by_named(empty, (const char *const *)g->keys, g->nkeys, g->specs, g->naggs,
                            g->inames, &go, out, err);
  gf_frame_release(empty);
  return st;
}

/* The aggregated frame (schema os) of groups [0, G) of the table; float
 * and integer sums take the block path when `blockpath` (decided from the
 * whole result's group and row counts). */
static gf_status build_agg(gbsink *g, const gf_schema *os, int64_t G, bool blockpath,
                           gf_frame **out, gf_error *err) {
  const gf_allocator *a = g->a;
  gf_status st = GF_OK;
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
        vals[q] = kc->ri >= 0 ? g->graw[(size_t)q * (size_t)g->nraw + (size_t)kc->ri]
                              : (int64_t)g->gkey[(size_t)q * nk + (size_t)j];
      }
      if (kc->kind == 0) st = make_fixed(a, t, vals, valid, G, &cols[j], err);
      else if (kc->kind == 1) st = make_utf8(a, &kc->st, vals, valid, G, &cols[j], err);
      else if (kc->dict_fixed || !kc->mixed) st = make_dict(a, t, kc->dict, vals, valid, G, &cols[j], err);
      else {
        /* Batches with dictionaries of their own (codes not comparable):
         * a dictionary of the values met (built once: every batch of a
         * spilled result shares it), codes = their ids. */
        if (!kc->mdict) {
          int64_t *ids = gfi_malloc(a, sizeof *ids * (size_t)(kc->st.n ? kc->st.n : 1));
          uint8_t *all = gfi_malloc(a, (size_t)(kc->st.n ? kc->st.n : 1));
          if (!ids || !all) st = GF_OOM(err, "group-by output");
          for (int64_t i = 0; st == GF_OK && i < kc->st.n; i++) {
            ids[i] = i;
            all[i] = 1;
          }
          if (st == GF_OK) st = make_utf8(a, &kc->st, ids, all, kc->st.n, &kc->mdict, err);
          if (ids) gfi_mfree(a, ids, sizeof *ids * (size_t)(kc->st.n ? kc->st.n : 1));
          if (all) gfi_mfree(a, all, (size_t)(kc->st.n ? kc->st.n : 1));
        }
        for (int64_t q = 0; st == GF_OK && q < G; q++) vals[q] = (int64_t)g->gkey[(size_t)q * nk + (size_t)j];
        if (st == GF_OK) st = make_dict(a, t, kc->mdict, vals, valid, G, &cols[j], err);
      }
      continue;
    }
    acol *c = &g->ac[j - g->nkeys];
    for (int64_t q = 0; q < G && st == GF_OK; q++) {
      switch (c->kind) {
        case GF_AGG_COUNT_ALL: vals[q] = g->grows[q]; valid[q] = 1; break;
        case GF_AGG_COUNT: vals[q] = *cnt_at(c, q); valid[q] = 1; break;
        case GF_AGG_MIN:
        case GF_AGG_MAX: valid[q] = ext_at(c, q)->has; vals[q] = ext_at(c, q)->val; break;
        case GF_AGG_SUM:
        case GF_AGG_MEAN: {
          st_sum *s = sum_at(c, q);
          close_block(c, s);
          valid[q] = s->n > 0;
          if (c->isfloat) {
            double sum = blockpath ? s->c.f : s->r.f;
            double r = c->kind == GF_AGG_MEAN ? (s->n ? sum / (double)s->n : 0.0) : sum;
            memcpy(&vals[q], &r, 8);
          } else {
            if (blockpath ? s->ovf_blk : s->ovf_row) {
              st = gf_error_set(err, GF_ERANGE, "integer overflow in %s: the sum does not fit in int64",
                                gf_schema_field(os, j)->name);
              break;
            }
            vals[q] = blockpath ? s->c.i : s->r.i;
          }
          break;
        }
        default: valid[q] = pick_at(c, q)->has; vals[q] = pick_at(c, q)->val; break;
      }
    }
    if (st == GF_OK) st = make_fixed(a, t, vals, valid, G, &cols[j], err);
  }
  if (st == GF_OK) st = gf_frame_new((gf_schema *)os, cols, 1, a, out, err);
  for (int j = 0; cols && j < nc; j++) gf_array_release(cols[j]);
  if (cols) gfi_mfree(a, cols, sizeof *cols * (size_t)(nc ? nc : 1));
  if (vals) gfi_mfree(a, vals, sizeof *vals * (size_t)(G ? G : 1));
  if (valid) gfi_mfree(a, valid, (size_t)(G ? G : 1));
  return st;
}

/* Whether the eager operator would take its block path for G groups. */
static bool block_path(const gbsink *g, int64_t G) {
  int64_t nblocks = gf_reduction_blocks(g->rows);
  if (nblocks < 1) nblocks = 1;
  return G <= BLOCK_MAX_HANDLES && G * nblocks <= BLOCK_MAX_CELLS;
}

/* The in-memory result: the groups' frame, sorted by key when asked, and
 * the aggregate list's items over it. */
static gf_status gb_finish_mem(gbsink *g, gf_frame **out, gf_error *err) {
  const gf_allocator *a = g->a;
  gf_frame *e_out = NULL;
  GF_RETURN_NOT_OK(empty_agg(g, &e_out, err));
  gf_status st = GF_OK;
  gf_frame *agg = NULL;
  if (g->rows == 0) {
    agg = e_out;
    e_out = NULL;
  } else {
    int64_t G = g->ng;
    st = build_agg(g, gf_frame_schema(e_out), G, block_path(g, G), &agg, err);
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
      gf_groupby_options so;
      gf_groupby_options_init(&so);
      so.parallel = g->po;
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

/* Columns of batch 0 of a spilled int64 frame. */
static void frame_cols(const gf_frame *f, int nc, const int64_t **cols) {
  for (int c = 0; c < nc; c++) {
    const gf_array *x = gf_frame_column(f, 0, c);
    cols[c] = (const int64_t *)gfi_buf(x, 1) + x->offset;
  }
}

/* Reads block b of `file`, checking it is one batch of nc columns. */
static gf_status read_block(gbsink *g, gfi_spill_file *file, const gfi_spill_block *b, int nc,
                            gf_frame **out, gf_error *err) {
  GF_RETURN_NOT_OK(gfi_spill_read_frame(file, b, g->po, out, err));
  if (gf_frame_num_batches(*out) != 1 || gf_frame_num_columns(*out) != nc ||
      gf_frame_num_rows(*out) != b->rows) {
    gf_frame_release(*out);
    *out = NULL;
    return gf_error_set(err, GF_EIO, "group-by spill: a spilled block read back malformed (%s)",
                        gfi_spill_space_dir(g->sp->space));
  }
  return GF_OK;
}

/* Aggregates partition p: its partial states, then its rows in input
 * order; its groups (first-appearance order) go to the result file. */
static gf_status spill_part(gbsink *g, int p, gf_error *err) {
  gbspill *sp = g->sp;
  groups_reset(g);
  gf_status st = GF_OK;
  for (int64_t i = 0; i < sp->st[p].n && st == GF_OK; i++) {
    gf_frame *f = NULL;
    GF_RETURN_NOT_OK(read_block(g, sp->fin, &sp->st[p].b[i], sp->ncs, &f, err));
    const int64_t *cols[320];
    frame_cols(f, sp->ncs, cols);
    size_t nkk = (size_t)(g->nkeys ? g->nkeys : 1);
    for (int64_t j = 0; j < sp->st[p].b[i].rows && st == GF_OK; j++) {
      uint64_t key[8];
      int64_t raw[8], q = 0;
      for (int k = 0; k < g->nkeys; k++) {
        key[k] = (uint64_t)cols[2 + k][j];
        raw[k] = cols[2 + g->nkeys + k][j];
      }
      st = group_of(g, key, (uint64_t)cols[1][j], raw, cols[0][j], &q, err);
      if (st == GF_OK) unpack_group(g, q, cols, j);
    }
    (void)nkk;
    gf_frame_release(f);
  }
  for (int64_t i = 0; i < sp->rw[p].n && st == GF_OK; i++) {
    gf_frame *f = NULL;
    GF_RETURN_NOT_OK(read_block(g, sp->fin, &sp->rw[p].b[i], g->nrc, &f, err));
    const int64_t *cols[320];
    frame_cols(f, g->nrc, cols);
    int64_t n = sp->rw[p].b[i].rows;
    for (int64_t lo = 0; lo < n && st == GF_OK; lo += SUBN) {
      int64_t *sub[320];
      for (int c = 0; c < g->nrc; c++) sub[c] = (int64_t *)cols[c] + lo;
      st = fold_run(g, sub, n - lo < SUBN ? n - lo : SUBN, err);
    }
    gf_frame_release(f);
    if (st == GF_OK) st = gfi_check_stop(g->po, 0, NULL, err);
  }
  if (st == GF_ENOMEM) {
    int64_t lim = gfi_memory_limit(g->po);
    return gf_error_set(err, GF_ENOMEM,
                        "group-by: spilled partition %d of %d holds more groups (%lld so far) than fit "
                        "the memory limit of %lld bytes; raise the memory limit (--memory-limit)",
                        p + 1, sp->P, (long long)g->ng, (long long)lim);
  }
  if (st != GF_OK) return st;
  /* The partition's groups, in blocks of R. */
  for (int64_t lo = 0; lo < g->ng && st == GF_OK; lo += sp->R) {
    int64_t n = g->ng - lo < sp->R ? g->ng - lo : sp->R;
    int64_t *cols[320];
    buf_cols(g, 0, sp->ncs, cols);
    for (int64_t j = 0; j < n; j++) pack_group(g, lo + j, cols, j);
    st = write_block(g, sp->ss, cols, sp->ncs, n, sp->fres, &sp->res[p], err);
  }
  sp->groups += g->ng;
  return st;
}

/* Aggregates every partition (once). */
static gf_status spill_aggregate(gbsink *g, gf_error *err) {
  gbspill *sp = g->sp;
  if (sp->aggregated) return GF_OK;
  for (int p = 0; p < sp->P; p++)
    GF_RETURN_NOT_OK(flush_part(g, p, sp->rs, g->nrc, sp->fin, &sp->rw[p], err));
  GF_RETURN_NOT_OK(gfi_spill_file_open(sp->space, &sp->fres, err));
  for (int p = 0; p < sp->P; p++) {
    GF_RETURN_NOT_OK(spill_part(g, p, err));
    GF_RETURN_NOT_OK(gfi_check_stop(g->po, 0, NULL, err));
  }
  /* The input runs are no longer needed: their disk space goes back. */
  gfi_spill_file_close(sp->fin);
  sp->fin = NULL;
  groups_reset(g);
  sp->aggregated = true;
  return GF_OK;
}

/* A partition's read position in its result run. */
typedef struct cursor {
  int p;
  int64_t blk, row;
  gf_frame *f;
  const int64_t *cols[320];
} cursor;

static gf_status cursor_load(gbsink *g, cursor *c, gf_error *err) {
  gf_frame_release(c->f);
  c->f = NULL;
  c->row = 0;
  const blist *l = &g->sp->res[c->p];
  if (c->blk >= l->n) return GF_OK;
  GF_RETURN_NOT_OK(read_block(g, g->sp->fres, &l->b[c->blk], g->sp->ncs, &c->f, err));
  frame_cols(c->f, g->sp->ncs, c->cols);
  return GF_OK;
}

static int64_t cursor_pos(const cursor *c) { return c->cols[0][c->row]; }

/* Restores the min-heap (by first position) below slot i. */
static void heap_down(cursor **h, int n, int i) {
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && cursor_pos(h[l]) < cursor_pos(h[m])) m = l;
    if (r < n && cursor_pos(h[r]) < cursor_pos(h[m])) m = r;
    if (m == i) return;
    cursor *t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
}

/* Merges the partitions' groups by first appearance, OUTN groups at a
 * time, into `next` (the aggregate list's items computed per batch). */
static gf_status spill_emit(gbsink *g, gfi_sink *next, gf_error *err) {
  gbspill *sp = g->sp;
  const gf_allocator *a = g->a;
  gf_frame *e_out = NULL;
  GF_RETURN_NOT_OK(empty_agg(g, &e_out, err));
  bool bp = block_path(g, sp->groups);
  cursor *cs = gfi_calloc(a, sizeof *cs * (size_t)sp->P);
  cursor **h = gfi_calloc(a, sizeof *h * (size_t)sp->P);
  gf_status st = cs && h ? GF_OK : GF_OOM(err, "group-by merge");
  int n = 0;
  for (int p = 0; p < sp->P && st == GF_OK; p++) {
    cs[p].p = p;
    st = cursor_load(g, &cs[p], err);
    if (st == GF_OK && cs[p].f) h[n++] = &cs[p];
  }
  for (int i = n / 2 - 1; i >= 0 && st == GF_OK; i--) heap_down(h, n, i);
  groups_reset(g);
  /* Output batches of the table's capacity (it held a partition: it
   * fits), at most OUTN groups. */
  if (st == GF_OK && g->gcap < 1024) st = grow_arrays(g, 1024, err);
  int64_t outn = g->gcap < OUTN ? g->gcap : OUTN;
  int64_t pos = 0;
  while (st == GF_OK && (n > 0 || g->ng > 0)) {
    if (n > 0 && g->ng < outn) {
      cursor *c = h[0];
      unpack_group(g, g->ng++, c->cols, c->row);
      if (++c->row == gf_frame_num_rows(c->f)) {
        c->blk++;
        st = cursor_load(g, c, err);
        if (st == GF_OK && !c->f) h[0] = h[--n];
      }
      if (st == GF_OK && n > 0) heap_down(h, n, 0);
      continue;
    }
    gf_frame *agg = NULL, *o = NULL;
    st = build_agg(g, gf_frame_schema(e_out), g->ng, bp, &agg, err);
    if (st == GF_OK)
      st = gfi_group_by_list_post(agg, (const char *const *)g->keys, g->nkeys, g->list, g->po, &o, err);
    gf_frame_release(agg);
    if (st == GF_OK) st = next->push(next, o, pos, err);
    gf_frame_release(o);
    pos += g->ng;
    g->ng = 0;
    if (st == GF_OK) st = gfi_check_stop(g->po, 0, NULL, err);
  }
  for (int p = 0; cs && p < sp->P; p++) gf_frame_release(cs[p].f);
  if (cs) gfi_mfree(a, cs, sizeof *cs * (size_t)sp->P);
  if (h) gfi_mfree(a, h, sizeof *h * (size_t)sp->P);
  gf_frame_release(e_out);
  return st;
}

/* finish_into (exec/stream_internal.h): a spilled result is merged into
 * `next` batch by batch (never whole in memory); an in-memory one is
 * built and pushed as one frame. */
static gf_status gb_finish_into(gfi_sink *k, gfi_sink *next, gf_error *err) {
  gbsink *g = k->state;
  if (g->sp) {
    GF_RETURN_NOT_OK(spill_aggregate(g, err));
    return spill_emit(g, next, err);
  }
  gf_frame *res = NULL;
  GF_RETURN_NOT_OK(gb_finish_mem(g, &res, err));
  gf_status st = gf_frame_num_rows(res) > 0 ? next->push(next, res, 0, err) : GF_OK;
  gf_frame_release(res);
  return st;
}

gf_status gfi_sink_group_by_schema(gfi_sink *k, gf_schema **out, gf_error *err) {
  gbsink *g = k->state;
  gf_frame *e_out = NULL, *e_post = NULL;
  gf_status st = empty_agg(g, &e_out, err);
  if (st == GF_OK)
    st = gfi_group_by_list_post(e_out, (const char *const *)g->keys, g->nkeys, g->list, g->po, &e_post, err);
  if (st == GF_OK) *out = gf_schema_retain(gf_frame_schema(e_post));
  gf_frame_release(e_out);
  gf_frame_release(e_post);
  return st;
}

static gf_status gb_finish(gfi_sink *k, gf_frame **out, gf_error *err) {
  gbsink *g = k->state;
  if (!g->sp) return gb_finish_mem(g, out, err);
  /* Spilled: the merged batches collected into one frame. */
  gf_schema *os = NULL;
  gfi_sink *c = NULL;
  gf_status st = gfi_sink_group_by_schema(k, &os, err);
  if (st == GF_OK) st = gfi_sink_collect(os, g->a, &c, err);
  if (st == GF_OK) st = gb_finish_into(k, c, err);
  if (st == GF_OK) st = c->finish(c, out, err);
  if (c) c->free(c);
  gf_schema_release(os);
  return st;
}

/* ---- construction --------------------------------------------------------- */

static void gb_free(gfi_sink *k) {
  if (!k) return;
  gbsink *g = k->state;
  if (g) {
    const gf_allocator *a = g->a;
    size_t nk = (size_t)(g->nkeys ? g->nkeys : 1);
    spill_free(g);
    for (int i = 0; g->kc && i < g->nkeys; i++) {
      strtab_free(a, &g->kc[i].st);
      gf_array_release(g->kc[i].dict);
      gf_array_release(g->kc[i].mdict);
    }
    for (int i = 0; g->rc && i < g->nrc; i++)
      if (g->rc[i]) gfi_mfree(a, g->rc[i], sizeof(int64_t) * SUBN);
    if (g->rc) gfi_mfree(a, g->rc, sizeof *g->rc * (size_t)g->nrc);
    if (g->gid) gfi_mfree(a, g->gid, sizeof *g->gid * SUBN);
    for (int i = 0; g->keys && i < g->nkeys; i++)
      if (g->keys[i]) gfi_mfree(a, g->keys[i], strlen(g->keys[i]) + 1);
    if (g->keys) gfi_mfree(a, g->keys, sizeof *g->keys * nk);
    if (g->kc) gfi_mfree(a, g->kc, sizeof *g->kc * nk);
    for (int i = 0; g->ac && i < g->naggs; i++)
      if (g->ac[i].s) gfi_mfree(a, g->ac[i].s, g->ac[i].ssz * (size_t)g->gcap);
    if (g->ac) gfi_mfree(a, g->ac, sizeof *g->ac * (size_t)(g->naggs ? g->naggs : 1));
    if (g->gcap) {
      gfi_mfree(a, g->gkey, sizeof *g->gkey * (size_t)g->gcap * nk);
      gfi_mfree(a, g->gnull, sizeof *g->gnull * (size_t)g->gcap);
      gfi_mfree(a, g->graw, sizeof *g->graw * (size_t)g->gcap * (size_t)(g->nraw ? g->nraw : 1));
      gfi_mfree(a, g->grows, sizeof *g->grows * (size_t)g->gcap);
      gfi_mfree(a, g->gfirst, sizeof *g->gfirst * (size_t)g->gcap);
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
  k->finish_into = gb_finish_into;
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
    /* Integer, bool and date keys' equality bits are their raw values
     * (both sign- or zero-extended: gfi_key_load_bits, raw_bits), utf8
     * ids likewise; floats (normalised -0.0/NaN) and dictionary codes
     * keep their raw values apart. */
    bool same = g->kc[i].kind == 1 ||
                (g->kc[i].kind == 0 && t.id != GF_TYPE_FLOAT32 && t.id != GF_TYPE_FLOAT64);
    g->kc[i].ri = same ? -1 : g->nraw++;
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
    c->ssz = state_size(c->kind);
  }
  if (st == GF_OK) {
    /* The decoded run's record columns (RC_*) and group ids. */
    int nrc = 3 + 2 * nkeys + 2 * nspecs;
    g->rc = gfi_calloc(a, sizeof *g->rc * (size_t)nrc);
    g->gid = gfi_malloc(a, sizeof *g->gid * SUBN);
    if (!g->rc || !g->gid) st = GF_OOM(err, "a group-by sink");
    else g->nrc = nrc;
    for (int i = 0; st == GF_OK && i < nrc; i++)
      if (!(g->rc[i] = gfi_malloc(a, sizeof(int64_t) * SUBN))) st = GF_OOM(err, "a group-by sink");
  }
  if (st != GF_OK) {
    gb_free(k);
    return st;
  }
  *out = k;
  return GF_OK;
}
