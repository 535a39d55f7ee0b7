/*
 * The join's hash table: built over the valid rows of one side, probed in
 * parallel by the other.
 *
 * Three shapes:
 *  - direct: one integer key whose build range (max - min + 1) is small: a
 *    head and a count per key value, no hashing at all;
 *  - u64: one integer or float key: open addressing on the value itself;
 *  - generic: several keys or a string key: open addressing on the row
 *    hash, equality checked on the values.
 * Hashed tables are radix-partitioned by the top hash bits: rows are
 * scattered to partitions stably (per-chunk histograms, prefix in chunk
 * order), then each partition builds its own table in parallel. A table
 * entry holds one distinct key and the chain of build rows with that key,
 * linked through next[] in increasing row order, so probe results never
 * depend on partitioning or worker count. Entries and direct slots also
 * count their chain's rows: the probe counts its output before writing it
 * (to place each chunk's rows and to refuse an output that cannot fit).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "exec/arena.h"
#include "exec/exec_internal.h"
#include "ops/sort_join_internal.h"

enum { T_DIRECT = 0, T_U64, T_GENERIC };

typedef struct jentry {
  uint64_t key; /* the value (u64) or the row hash (generic) */
  int64_t head; /* first build row, -1 = empty slot */
  int64_t tail; /* last build row (during the build) */
  int64_t count; /* rows in the chain: the probe sizes its output first */
} jentry;

/* A direct table's slot: one key value's chain. */
typedef struct dslot {
  int64_t head; /* first build row, -1 = none */
  int64_t count;
} dslot;

struct gfi_jtable {
  const gfi_jside *b;
  int shape;
  const gf_allocator *a;
  int64_t *next; /* b->n entries */
  /* direct */
  int64_t kmin, range;
  dslot *heads;
  /* hashed */
  int pbits;
  int64_t np;
  int64_t *pbase; /* np + 1: entries of partition q are [pbase[q], pbase[q+1]) */
  jentry *entries;
  int64_t nentries;
  int64_t *prow;  /* valid build rows grouped by partition (during the build) */
  int64_t nvalid;
  /* Filter that rejects most probe rows without a match before they touch
   * the table: an exact bitmap over [kmin, kmin + frange) for one integer
   * key, else one bit per hash prefix (the top fbits bits of the hash, so
   * each partition owns a slice and builds it alone). */
  int ftype; /* F_NONE, F_EXACT, F_HASH */
  uint64_t *filter;
  uint64_t frange; /* F_EXACT: bits */
  int fbits;       /* F_HASH: log2 of the bits */
};

enum { F_NONE = 0, F_EXACT, F_HASH };

static size_t filter_bytes(const gfi_jtable *t) {
  uint64_t bits = t->ftype == F_EXACT ? t->frange : (uint64_t)1 << t->fbits;
  return (size_t)((bits + 63) / 64) * 8;
}

/* True when build row x and row y of side s have equal keys. */
static inline bool rows_equal(const gfi_jside *bs, int64_t x, const gfi_jside *s, int64_t y) {
  for (int k = 0; k < bs->nk; k++) {
    if (bs->v[k][x] != s->v[k][y]) return false;
    if (bs->cls[k] == GFI_JC_BYTES) {
      int64_t l = bs->len[k][x];
      if (l != s->len[k][y]) return false;
      if (l && memcmp(bs->ptr[k][x], s->ptr[k][y], (size_t)l) != 0) return false;
    }
  }
  return true;
}

static inline uint64_t row_hash(const gfi_jtable *t, const gfi_jside *s, int64_t r) {
  return t->shape == T_U64 ? gfi_mix64(s->v[0][r]) : s->hash[r];
}

static inline int64_t part_of(const gfi_jtable *t, uint64_t h) {
  return t->pbits ? (int64_t)(h >> (64 - t->pbits)) : 0;
}

void gfi_jtable_free(gfi_jtable *t) {
  if (!t) return;
  const gf_allocator *a = t->a;
  size_t n = (size_t)(t->b->n ? t->b->n : 1);
  /* next, entries and prow are arena scratch (exec/arena.h). */
  if (t->next) gfi_scratch_free(a, t->next, n * sizeof *t->next);
  if (t->heads) gfi_mfree(a, t->heads, (size_t)t->range * sizeof *t->heads);
  if (t->pbase) gfi_mfree(a, t->pbase, (size_t)(t->np + 1) * sizeof *t->pbase);
  if (t->entries) gfi_scratch_free(a, t->entries, (size_t)t->nentries * sizeof *t->entries);
  if (t->prow) gfi_scratch_free(a, t->prow, (size_t)(t->nvalid ? t->nvalid : 1) * sizeof *t->prow);
  if (t->filter) gfi_mfree(a, t->filter, filter_bytes(t));
  gfi_mfree(a, t, sizeof *t);
}

typedef struct build_job {
  gfi_jtable *t;
  const gfi_jside *b;
  int64_t np;
  int64_t *hist;   /* nchunks * np: counts, then write positions */
  int64_t *nvalid; /* per chunk */
  int64_t *mins, *maxs;
  const int64_t *pstart; /* np + 1: rows of partition q in prow */
} build_job;

static gf_status stats_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  build_job *j = user;
  const gfi_jside *b = j->b;
  int64_t cnt = 0, mn = INT64_MAX, mx = INT64_MIN;
  bool minmax = b->nk == 1 && b->cls[0] == GFI_JC_INT;
  for (int64_t r = c->start_row; r < c->end_row; r++) {
    if (b->ok && !b->ok[r]) continue;
    cnt++;
    if (minmax) {
      int64_t v = (int64_t)b->v[0][r];
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
  }
  j->nvalid[c->chunk_id] = cnt;
  j->mins[c->chunk_id] = mn;
  j->maxs[c->chunk_id] = mx;
  return GF_OK;
}

static gf_status hist_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  build_job *j = user;
  const gfi_jside *b = j->b;
  int64_t *h = j->hist + c->chunk_id * j->np;
  memset(h, 0, sizeof *h * (size_t)j->np);
  for (int64_t r = c->start_row; r < c->end_row; r++) {
    if (b->ok && !b->ok[r]) continue;
    h[part_of(j->t, row_hash(j->t, b, r))]++;
  }
  return GF_OK;
}

static gf_status scatter_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  build_job *j = user;
  const gfi_jside *b = j->b;
  int64_t *h = j->hist + c->chunk_id * j->np;
  int64_t *prow = j->t->prow;
  for (int64_t r = c->start_row; r < c->end_row; r++) {
    if (b->ok && !b->ok[r]) continue;
    prow[h[part_of(j->t, row_hash(j->t, b, r))]++] = r;
  }
  return GF_OK;
}

/* Builds partition c->chunk_id: its entries are [start_row, end_row). */
static gf_status part_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  build_job *j = user;
  gfi_jtable *t = j->t;
  const gfi_jside *b = j->b;
  int64_t q = c->chunk_id;
  jentry *e = t->entries + t->pbase[q];
  uint64_t mask = (uint64_t)(t->pbase[q + 1] - t->pbase[q]) - 1;
  for (uint64_t s = 0; s <= mask; s++) e[s].head = -1;
  if (t->ftype == F_HASH) {
    /* this partition's slice: whole words since fbits >= pbits + 6 */
    size_t words = ((size_t)1 << (t->fbits - t->pbits)) / 64;
    memset(t->filter + (size_t)q * words, 0, words * 8);
  }
  bool u64 = t->shape == T_U64;
  for (int64_t i = j->pstart[q]; i < j->pstart[q + 1]; i++) {
    int64_t r = t->prow[i];
    uint64_t h = row_hash(t, b, r);
    uint64_t key = u64 ? b->v[0][r] : h;
    if (t->ftype == F_HASH) {
      uint64_t fb = h >> (64 - t->fbits);
      t->filter[fb >> 6] |= (uint64_t)1 << (fb & 63);
    }
    t->next[r] = -1;
    for (uint64_t s = h & mask;; s = (s + 1) & mask) {
      jentry *x = &e[s];
      if (x->head < 0) {
        x->key = key;
        x->head = x->tail = r;
        x->count = 1;
        break;
      }
      if (x->key == key && (u64 || rows_equal(b, x->head, b, r))) {
        t->next[x->tail] = r;
        x->tail = r;
        x->count++;
        break;
      }
    }
  }
  return GF_OK;
}

static int64_t next_pow2(int64_t x) {
  int64_t p = 1;
  while (p < x) p <<= 1;
  return p;
}

gf_status gfi_jtable_build(const gfi_jside *b, const gf_parallel_options *o,
                           gfi_jtable **out, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  gfi_jtable *t = gfi_calloc(a, sizeof *t);
  if (!t) return GF_OOM(err, "join table");
  t->b = b;
  t->a = a;
  bool single_num = b->nk == 1 && (b->cls[0] == GFI_JC_INT || b->cls[0] == GFI_JC_FLOAT);
  t->shape = single_num ? T_U64 : T_GENERIC;
  int64_t n = b->n;
  size_t nz = (size_t)(n ? n : 1);
  gf_status st = GF_OK;
  t->next = gfi_scratch_alloc(a, nz * sizeof *t->next);
  if (!t->next) st = GF_OOM(err, "join chains");
  gf_chunk_spec *specs = NULL, *pspecs = NULL;
  int64_t nc = 0;
  if (st == GF_OK) st = gfi_plan_even(n, 16384, o, a, &specs, &nc, err);
  size_t cb = sizeof(int64_t) * (size_t)(nc ? nc : 1);
  build_job j;
  memset(&j, 0, sizeof j);
  j.t = t;
  j.b = b;
  int64_t *pstart = NULL;
  size_t hb = 0, psb = 0;
  if (st == GF_OK) {
    j.nvalid = gfi_malloc(a, cb);
    j.mins = gfi_malloc(a, cb);
    j.maxs = gfi_malloc(a, cb);
    if (!j.nvalid || !j.mins || !j.maxs) st = GF_OOM(err, "join build state");
  }
  if (st == GF_OK && nc > 0) st = gf_run_chunks(specs, nc, stats_chunk, &j, o, err);
  int64_t nvalid = 0, mn = INT64_MAX, mx = INT64_MIN;
  for (int64_t c = 0; st == GF_OK && c < nc; c++) {
    nvalid += j.nvalid[c];
    if (j.mins[c] < mn) mn = j.mins[c];
    if (j.maxs[c] > mx) mx = j.maxs[c];
  }
  if (st == GF_OK && b->nk == 1 && b->cls[0] == GFI_JC_INT && nvalid > 0) {
    uint64_t range = (uint64_t)mx - (uint64_t)mn + 1;
    if (range != 0 && range <= (uint64_t)64 * (uint64_t)nvalid + 4096 && range <= ((uint64_t)1 << 34)) {
      t->ftype = F_EXACT;
      t->frange = range;
      t->kmin = mn;
      t->filter = gfi_calloc(a, filter_bytes(t));
      if (!t->filter) st = GF_OOM(err, "join filter");
      const uint64_t *v = b->v[0];
      for (int64_t r = 0; st == GF_OK && r < n; r++) {
        if (b->ok && !b->ok[r]) continue;
        uint64_t d = v[r] - (uint64_t)mn;
        t->filter[d >> 6] |= (uint64_t)1 << (d & 63);
      }
    }
  }
  /* Direct indexing when the key range is at most a few times the rows. */
  if (st == GF_OK && b->nk == 1 && b->cls[0] == GFI_JC_INT && nvalid > 0) {
    uint64_t range = (uint64_t)mx - (uint64_t)mn + 1;
    if (range != 0 && range <= (uint64_t)(4 * nvalid + 1024) && range <= ((uint64_t)1 << 28)) {
      t->shape = T_DIRECT;
      t->kmin = mn;
      t->range = (int64_t)range;
      t->heads = gfi_malloc(a, (size_t)range * sizeof *t->heads);
      if (!t->heads) st = GF_OOM(err, "join direct table");
      if (st == GF_OK) {
        for (int64_t i = 0; i < t->range; i++) t->heads[i] = (dslot){-1, 0};
        const uint64_t *v = b->v[0];
        for (int64_t r = n - 1; r >= 0; r--) {
          if (b->ok && !b->ok[r]) continue;
          int64_t k = (int64_t)(v[r] - (uint64_t)mn);
          t->next[r] = t->heads[k].head;
          t->heads[k].head = r;
          t->heads[k].count++;
        }
      }
    }
  }
  if (st == GF_OK && t->shape != T_DIRECT) {
    int pbits = 0;
    while ((nvalid >> pbits) > 65536 && pbits < 10) pbits++;
    t->pbits = pbits;
    t->np = j.np = (int64_t)1 << pbits;
    if (t->ftype == F_NONE) {
      int fb = pbits + 6;
      while (fb < 40 && ((uint64_t)1 << fb) < (uint64_t)nvalid * 16) fb++;
      t->ftype = F_HASH;
      t->fbits = fb;
      t->filter = gfi_malloc(a, filter_bytes(t));
      if (!t->filter) st = GF_OOM(err, "join filter");
    }
    t->nvalid = nvalid;
    hb = sizeof(int64_t) * (size_t)(nc ? nc : 1) * (size_t)t->np;
    psb = sizeof(int64_t) * (size_t)(t->np + 1);
    j.hist = gfi_malloc(a, hb);
    pstart = gfi_malloc(a, psb);
    t->pbase = gfi_malloc(a, psb);
    t->prow = gfi_scratch_alloc(a, (size_t)(nvalid ? nvalid : 1) * sizeof *t->prow);
    pspecs = gfi_malloc(a, sizeof *pspecs * (size_t)t->np);
    if (!j.hist || !pstart || !t->pbase || !t->prow || !pspecs) st = GF_OOM(err, "join partitions");
    if (st == GF_OK && nc > 0) st = gf_run_chunks(specs, nc, hist_chunk, &j, o, err);
    if (st == GF_OK) {
      int64_t pos = 0, ebase = 0;
      for (int64_t q = 0; q < t->np; q++) {
        pstart[q] = pos;
        for (int64_t c = 0; c < nc; c++) {
          int64_t cnt = j.hist[c * t->np + q];
          j.hist[c * t->np + q] = pos;
          pos += cnt;
        }
        t->pbase[q] = ebase;
        ebase += next_pow2(2 * (pos - pstart[q]) > 8 ? 2 * (pos - pstart[q]) : 8);
      }
      pstart[t->np] = pos;
      t->pbase[t->np] = ebase;
      t->nentries = ebase;
      t->entries = gfi_scratch_alloc(a, (size_t)ebase * sizeof *t->entries);
      if (!t->entries) st = GF_OOM(err, "join hash table");
    }
    j.pstart = pstart;
    if (st == GF_OK && nc > 0) st = gf_run_chunks(specs, nc, scatter_chunk, &j, o, err);
    if (st == GF_OK) {
      for (int64_t q = 0; q < t->np; q++) pspecs[q] = (gf_chunk_spec){t->pbase[q], t->pbase[q + 1], q};
      gf_parallel_options po = *o;
      po.min_parallel_rows = nvalid >= GF_DEFAULT_MIN_PARALLEL_ROWS ? 0 : INT64_MAX;
      st = gf_run_chunks(pspecs, t->np, part_chunk, &j, &po, err);
    }
    if (t->prow) gfi_scratch_free(a, t->prow, (size_t)(nvalid ? nvalid : 1) * sizeof *t->prow);
    t->prow = NULL;
  }
  if (j.hist) gfi_mfree(a, j.hist, hb);
  if (pstart) gfi_mfree(a, pstart, psb);
  if (pspecs) gfi_mfree(a, pspecs, sizeof *pspecs * (size_t)t->np);
  if (j.nvalid) gfi_mfree(a, j.nvalid, cb);
  if (j.mins) gfi_mfree(a, j.mins, cb);
  if (j.maxs) gfi_mfree(a, j.maxs, cb);
  gfi_plan_free(a, specs, nc);
  if (st != GF_OK) {
    gfi_jtable_free(t);
    return st;
  }
  *out = t;
  return GF_OK;
}

/* Phase 1 of a lookup: where probe row r of p would start looking (an index
 * into heads for direct tables, into entries for hashed ones), or -1 when
 * it cannot match (invalid key, out of range, rejected by the filter). */
static inline int64_t probe_start(const gfi_jtable *t, const gfi_jside *p, int64_t r,
                                  uint64_t *hash) {
  if (p->ok && !p->ok[r]) return -1;
  if (t->ftype == F_EXACT || t->shape == T_DIRECT) {
    uint64_t d = p->v[0][r] - (uint64_t)t->kmin;
    if (t->ftype == F_EXACT && (d >= t->frange || !((t->filter[d >> 6] >> (d & 63)) & 1)))
      return -1;
    if (t->shape == T_DIRECT) return d < (uint64_t)t->range ? (int64_t)d : -1;
  }
  uint64_t h = row_hash(t, p, r);
  if (t->ftype == F_HASH) {
    uint64_t fb = h >> (64 - t->fbits);
    if (!((t->filter[fb >> 6] >> (fb & 63)) & 1)) return -1;
  }
  *hash = h;
  int64_t q = part_of(t, h);
  uint64_t mask = (uint64_t)(t->pbase[q + 1] - t->pbase[q]) - 1;
  return t->pbase[q] + (int64_t)(h & mask);
}

static inline void probe_prefetch(const gfi_jtable *t, int64_t pos) {
  if (t->shape == T_DIRECT) __builtin_prefetch(&t->heads[pos]);
  else __builtin_prefetch(&t->entries[pos]);
}

/* Phase 2: first build row (the chain's head) whose key equals probe row r,
 * or -1; *count gets the chain's length (0 with no match). */
static inline int64_t probe_finish(const gfi_jtable *t, const gfi_jside *p, int64_t r,
                                   int64_t pos, uint64_t h, int64_t *count) {
  *count = 0;
  if (pos < 0) return -1;
  if (t->shape == T_DIRECT) {
    *count = t->heads[pos].count;
    return t->heads[pos].head;
  }
  int64_t q = part_of(t, h);
  const jentry *e = t->entries + t->pbase[q];
  uint64_t mask = (uint64_t)(t->pbase[q + 1] - t->pbase[q]) - 1;
  bool u64 = t->shape == T_U64;
  uint64_t key = u64 ? p->v[0][r] : h;
  for (uint64_t s = (uint64_t)(pos - t->pbase[q]);; s = (s + 1) & mask) {
    const jentry *x = &e[s];
    if (x->head < 0) return -1;
    if (x->key == key && (u64 || rows_equal(t->b, x->head, p, r))) {
      *count = x->count;
      return x->head;
    }
  }
}

/* Brings the filter word of probe row r towards the cache. */
static inline void filter_prefetch(const gfi_jtable *t, const gfi_jside *p, int64_t r) {
  if (t->ftype == F_EXACT) {
    uint64_t d = p->v[0][r] - (uint64_t)t->kmin;
    if (d < t->frange) __builtin_prefetch(&t->filter[d >> 6]);
  } else if (t->ftype == F_HASH && t->shape == T_U64) {
    uint64_t fb = gfi_mix64(p->v[0][r]) >> (64 - t->fbits);
    __builtin_prefetch(&t->filter[fb >> 6]);
  } else if (t->ftype == F_HASH) {
    uint64_t fb = p->hash[r] >> (64 - t->fbits);
    __builtin_prefetch(&t->filter[fb >> 6]);
  }
}

/* Emission checks the token and the deadline after this many entries: a
 * skewed key can make one probe row (one chunk) emit billions of pairs, so
 * the runtime's checks between chunks are not enough. */
#define EMIT_CHECK_EVERY ((int64_t)1 << 16)

/* The probe runs twice over the same chunks: "find" looks every probe row
 * up once, keeping its chain head and the chunk's output size; "emit" then
 * writes each chunk's entries straight to their final place. Knowing the
 * exact size first lets an output that cannot fit fail before any of it is
 * written, and the offsets come from chunk order only, so the result is the
 * same at any worker count. */
typedef struct probe_job {
  const gfi_jtable *t;
  const gfi_jside *p;
  gfi_probe_mode mode;
  const gf_parallel_options *o; /* loaded: for the checks inside emit */
  atomic_uchar *matched;        /* per build row (heads only), or NULL */
  int64_t *head;                /* per probe row: chain head or -1 */
  int64_t *cnt;                 /* per chunk: entries; then its offset */
  int64_t *prow, *brow;
} probe_job;

/* Entries a probe row whose chain has `count` rows contributes. */
static inline int64_t entries_of(const probe_job *j, int64_t count) {
  switch (j->mode) {
    case GFI_PROBE_SEMI: return count > 0;
    case GFI_PROBE_ANTI: return count == 0;
    case GFI_PROBE_OUTER: return count > 0 ? count : 1;
    case GFI_PROBE_INNER: break;
  }
  return count;
}

/* Looks up rows [start_row, end_row): head[] and cnt[chunk]. */
static gf_status find_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  (void)ctx;
  probe_job *j = user;
  const gfi_jtable *t = j->t;
  /* Rows go in groups: every group's table slots are prefetched first so
   * the cache misses of a group overlap. */
  enum { G = 16 };
  int64_t pos[G];
  uint64_t hh[G];
  int64_t n = 0;
  for (int64_t r = c->start_row; r < c->end_row; r += G) {
    int64_t m = c->end_row - r < G ? c->end_row - r : G;
    int64_t ahead = c->end_row - r - G < G ? c->end_row - r - G : G;
    for (int64_t i = 0; i < ahead; i++) filter_prefetch(t, j->p, r + G + i);
    for (int64_t i = 0; i < m; i++) {
      hh[i] = 0;
      pos[i] = probe_start(t, j->p, r + i, &hh[i]);
      if (pos[i] >= 0) probe_prefetch(t, pos[i]);
    }
    for (int64_t i = 0; i < m; i++) {
      int64_t cnt;
      int64_t h = probe_finish(t, j->p, r + i, pos[i], hh[i], &cnt);
      j->head[r + i] = h;
      /* Chains hold one key, so marking the head marks the whole chain. */
      if (h >= 0 && j->matched) atomic_store_explicit(&j->matched[h], 1, memory_order_relaxed);
      n += entries_of(j, cnt);
    }
  }
  j->cnt[c->chunk_id] = n;
  return GF_OK;
}

/* Writes the entries of rows [start_row, end_row) from offset cnt[chunk]. */
static gf_status emit_chunk(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  probe_job *j = user;
  const int64_t *next = j->t->next;
  int64_t *pr = j->prow, *br = j->brow;
  int64_t w = j->cnt[c->chunk_id];
  int64_t budget = EMIT_CHECK_EVERY;
  for (int64_t r = c->start_row; r < c->end_row; r++) {
    int64_t h = j->head[r];
    switch (j->mode) {
      case GFI_PROBE_SEMI:
        if (h >= 0) pr[w++] = r;
        continue;
      case GFI_PROBE_ANTI:
        if (h < 0) pr[w++] = r;
        continue;
      case GFI_PROBE_OUTER:
        if (h < 0) {
          pr[w] = r;
          br[w++] = -1;
          continue;
        }
        break;
      case GFI_PROBE_INNER:
        if (h < 0) continue;
        break;
    }
    for (int64_t b = h; b >= 0; b = next[b]) {
      pr[w] = r;
      br[w++] = b;
      if (--budget == 0) {
        gf_status st = gfi_check_stop(j->o, 0, NULL, ctx->err);
        if (st != GF_OK) return st;
        budget = EMIT_CHECK_EVERY;
      }
    }
  }
  return GF_OK;
}

/* The refusal of an output too large for a frame or the memory limit. */
static gf_status refuse_output(int64_t rows, bool over_rows, int64_t row_bytes, int64_t limit,
                               gf_error *err) {
  if (over_rows)
    return gf_error_set(err, GF_ERANGE,
                        "join: the output would have more than %lld rows, the most a frame holds",
                        (long long)GF_MAX_ROWS);
  int64_t need;
  if (__builtin_mul_overflow(rows, row_bytes, &need)) need = INT64_MAX;
  return gf_error_set(err, GF_ENOMEM,
                      "join: the output of %lld rows needs at least %lld bytes, more than the "
                      "memory limit of %lld bytes",
                      (long long)rows, (long long)need, (long long)limit);
}

gf_status gfi_jtable_probe(const gfi_jtable *t, const gfi_jside *p, gfi_probe_mode mode,
                           bool unmatched_build, int64_t row_bytes, int64_t limit,
                           const gf_parallel_options *o, int64_t **prow, int64_t **brow,
                           int64_t *count, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  bool pairs = mode == GFI_PROBE_INNER || mode == GFI_PROBE_OUTER;
  int64_t nb = t->b->n;
  gf_chunk_spec *specs = NULL;
  int64_t nc = 0;
  GF_RETURN_NOT_OK(gfi_plan_even(p->n, 8192, o, a, &specs, &nc, err));
  size_t cb = sizeof(int64_t) * (size_t)(nc ? nc : 1);
  size_t hb = sizeof(int64_t) * (size_t)(p->n ? p->n : 1);
  size_t mb = (size_t)(nb ? nb : 1);
  int64_t *cnt = gfi_malloc(a, cb);
  int64_t *head = gfi_malloc(a, hb);
  atomic_uchar *matched = NULL;
  gf_status st = GF_OK;
  if (!cnt || !head) st = GF_OOM(err, "join probe state");
  if (st == GF_OK && unmatched_build) {
    matched = gfi_malloc(a, mb * sizeof *matched);
    if (!matched) st = GF_OOM(err, "join match flags");
    for (int64_t i = 0; matched && i < nb; i++) atomic_init(&matched[i], 0);
  }
  probe_job j = {t, p, mode, o, matched, head, cnt, NULL, NULL};
  if (st == GF_OK && nc > 0) st = gf_run_chunks(specs, nc, find_chunk, &j, o, err);
  /* Sizes: chunk offsets, then the build rows no probe row matched. Sums
   * saturate past GF_MAX_ROWS, which no frame can hold anyway. */
  int64_t total = 0, extra = 0;
  bool over = false;
  for (int64_t c = 0; st == GF_OK && c < nc; c++) {
    int64_t n = cnt[c];
    cnt[c] = total;
    if (__builtin_add_overflow(total, n, &total) || total > GF_MAX_ROWS) over = true;
    if (over) break;
  }
  if (st == GF_OK && matched) {
    /* Heads come first in their chains (increasing rows): spread the mark. */
    const int64_t *next = t->next;
    for (int64_t i = 0; i < nb; i++) {
      if (!atomic_load_explicit(&matched[i], memory_order_relaxed)) {
        extra++;
        continue;
      }
      int64_t b = next[i];
      if (b > i && !atomic_load_explicit(&matched[b], memory_order_relaxed))
        for (; b >= 0; b = next[b]) atomic_store_explicit(&matched[b], 1, memory_order_relaxed);
    }
  }
  if (st == GF_OK && !over && total + extra > GF_MAX_ROWS) over = true;
  int64_t rows = over ? GF_MAX_ROWS : total + extra;
  if (st == GF_OK && (over || (limit > 0 && row_bytes > 0 && rows > limit / row_bytes)))
    st = refuse_output(rows, over, row_bytes, limit, err);
  int64_t *pr = NULL, *br = NULL;
  size_t rb = sizeof(int64_t) * (size_t)(rows ? rows : 1);
  if (st == GF_OK) {
    pr = gfi_malloc(a, rb);
    if (pairs) br = gfi_malloc(a, rb);
    if (!pr || (pairs && !br)) st = GF_OOM(err, "join result");
  }
  if (st == GF_OK && nc > 0) {
    j.prow = pr;
    j.brow = br;
    st = gf_run_chunks(specs, nc, emit_chunk, &j, o, err);
  }
  if (st == GF_OK && matched) {
    int64_t w = total;
    for (int64_t i = 0; i < nb; i++)
      if (!atomic_load_explicit(&matched[i], memory_order_relaxed)) {
        pr[w] = -1;
        if (br) br[w] = i;
        w++;
      }
  }
  if (cnt) gfi_mfree(a, cnt, cb);
  if (head) gfi_mfree(a, head, hb);
  if (matched) gfi_mfree(a, matched, mb * sizeof *matched);
  gfi_plan_free(a, specs, nc);
  if (st != GF_OK) {
    if (pr) gfi_mfree(a, pr, rb);
    if (br) gfi_mfree(a, br, rb);
    return st;
  }
  *prow = pr;
  *brow = br;
  *count = rows;
  return GF_OK;
}
