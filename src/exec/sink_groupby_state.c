/*
 * The streaming group-by sink's string tables (utf8 and dictionary keys)
 * and group table (sink_groupby_internal.h): per-group arrays of keys,
 * null masks, raw key values, row counts, first positions and compact
 * aggregate states, and the open-addressing slot table over them.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "exec/sink_groupby_internal.h"

/* Bytes of one group's state of an aggregate of this kind. */
size_t gfi_gbs_state_size(gf_agg_kind kind) {
  switch (kind) {
    case GF_AGG_COUNT_ALL: return 0;
    case GF_AGG_COUNT: return sizeof(int64_t);
    case GF_AGG_SUM: case GF_AGG_MEAN: return sizeof(st_sum);
    case GF_AGG_MIN: case GF_AGG_MAX: return sizeof(st_ext);
    default: return sizeof(st_pick);
  }
}

/* ---- the string table ----------------------------------------------------- */

void gfi_gbs_strtab_free(const gf_allocator *a, strtab *t) {
  if (t->off) gfi_mfree(a, t->off, sizeof *t->off * (size_t)t->cap);
  if (t->bytes) gfi_mfree(a, t->bytes, (size_t)t->bcap);
  if (t->slots) gfi_mfree(a, t->slots, sizeof *t->slots * (size_t)t->nslots);
  memset(t, 0, sizeof *t);
}

gf_status gfi_gbs_strtab_id(const gf_allocator *a, strtab *t, const char *p, int64_t n, int64_t *id,
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

uint64_t gfi_gbs_key_hash(const uint64_t *k, uint64_t nulls, int nk) {
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
gf_status gfi_gbs_grow_arrays(gbsink *g, int64_t need, gf_error *err) {
  int64_t cap = g->gcap ? g->gcap * 2 : 1024;
  while (cap < need) cap *= 2;
  size_t nk = (size_t)(g->nkeys ? g->nkeys : 1);
  const gf_allocator *a = g->a;
  uint64_t *k = gfi_malloc(a, sizeof *k * (size_t)cap * nk);
  uint64_t *nl = gfi_malloc(a, sizeof *nl * (size_t)cap);
  int64_t *raw = gfi_malloc(a, gfi_gbs_raw_bytes(g, cap));
  int64_t *rows = gfi_malloc(a, sizeof *rows * (size_t)cap);
  int64_t *first = gfi_malloc(a, sizeof *first * (size_t)cap);
  void **ns = gfi_calloc(a, sizeof *ns * (size_t)(g->naggs ? g->naggs : 1));
  bool ok = k && nl && raw && rows && first && ns;
  for (int i = 0; ok && i < g->naggs; i++)
    if (g->ac[i].ssz) ok = (ns[i] = gfi_malloc(a, g->ac[i].ssz * (size_t)cap)) != NULL;
  if (!ok) {
    if (k) gfi_mfree(a, k, sizeof *k * (size_t)cap * nk);
    if (nl) gfi_mfree(a, nl, sizeof *nl * (size_t)cap);
    if (raw) gfi_mfree(a, raw, gfi_gbs_raw_bytes(g, cap));
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
    if (g->nraw) memcpy(raw, g->graw, sizeof *raw * (size_t)g->ng * (size_t)g->nraw);
    memcpy(rows, g->grows, sizeof *rows * (size_t)g->ng);
    memcpy(first, g->gfirst, sizeof *first * (size_t)g->ng);
    gfi_mfree(a, g->gkey, sizeof *k * (size_t)g->gcap * nk);
    gfi_mfree(a, g->gnull, sizeof *nl * (size_t)g->gcap);
    gfi_mfree(a, g->graw, gfi_gbs_raw_bytes(g, g->gcap));
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
gf_status gfi_gbs_grow_groups(gbsink *g, int64_t need, gf_error *err) {
  if (need <= g->gcap && g->slots && g->nslots >= g->gcap * 2) return GF_OK;
  const gf_allocator *a = g->a;
  if (need > g->gcap) GF_RETURN_NOT_OK(gfi_gbs_grow_arrays(g, need, err));
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
        uint64_t h = slot_hash(gfi_gbs_key_hash(g->gkey + (size_t)q * nk, g->gnull[q], g->nkeys));
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
gf_status gfi_gbs_group_of(gbsink *g, const uint64_t *k, uint64_t nulls, const int64_t *raw,
                           int64_t pos, int64_t *gid, gf_error *err) {
  size_t nk = (size_t)(g->nkeys ? g->nkeys : 1);
  if (g->ng + 1 > g->gcap || !g->slots || g->nslots < g->gcap * 2)
    GF_RETURN_NOT_OK(gfi_gbs_grow_groups(g, g->ng + 1, err));
  int nkeys = g->nkeys;
  uint64_t h = slot_hash(gfi_gbs_key_hash(k, nulls, nkeys));
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
