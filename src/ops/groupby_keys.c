/*
 * Group-by phase 1: key columns -> group ids in order of first appearance.
 *
 * Direct slots: when every key has a small known code range (dictionary
 * codes, integer min..max from statistics, bool, null) the mixed-radix
 * "slot" of a row indexes arrays directly. Otherwise rows are hashed (keys
 * bit-packed into one 64-bit word when they fit, else the key policy's
 * string hash and mixer, key_policy.h), partitioned stably by the
 * hash's high bits and each partition runs its own linear-probing table
 * (hash stored inline). In both cases the first row of every group is an
 * order-independent minimum, and group ids are assigned in the order of
 * it (by sorting few groups, or, for many, by marking each group's first
 * row in a row-indexed array and numbering the marks in row order): the ids
 * never depend on how the rows were split among workers.
 */
#include <stdatomic.h>
#include <string.h>

#include "data/builder_internal.h"
#include "exec/arena.h"
#include "ops/groupby_internal.h"

#define SUB GB_SUB
/* Largest direct slot space (first-row array of int64 per slot). */
#define DIRECT_MAX (INT64_C(1) << 22)

gf_status gfi_gb_keys_canon(gb_ctx *c, gf_error *err) {
  for (int k = 0; k < c->nkeys; k++) {
    gb_key *K = &c->keys[k];
    gf_datatype t = c->v.f->schema->fields[K->col].type;
    if (t.id != GF_TYPE_DICTIONARY || c->v.nb == 0) continue;
    const gf_array *d = gb_col(&c->v, 0, K->col)->dictionary;
    GF_RETURN_NOT_OK(gfi_key_dict_canon(d, c->a, &K->canon, err));
    K->ncanon = K->canon ? d->length : 0;
  }
  return GF_OK;
}

void gfi_gb_keys_free(gb_ctx *c) {
  for (int k = 0; c->keys && k < c->nkeys; k++) {
    gb_key *K = &c->keys[k];
    if (K->canon) gfi_mfree(c->a, K->canon, sizeof *K->canon * (size_t)K->ncanon);
    K->canon = NULL;
  }
}

/* Key values of elements [start, start+len) of arr (key K) into dst: the
 * key policy's equality bits for fixed-width keys, codes for dictionaries
 * (canonical when K->canon is set, -1 for a null value). Null slots load
 * unspecified values (never read past here). */
static void key_values(const gb_key *K, const gf_array *arr, int64_t start, int64_t len,
                       int64_t *dst) {
  if (K->vclass != GB_VC_DICT) {
    gfi_key_load_bits(arr, start, len, (uint64_t *)dst);
    return;
  }
  gfi_gb_load_i64(arr, start, len, NULL, 0, dst);
  if (K->canon) {
    /* Bounds-checked: a null slot may hold any code. */
    for (int64_t j = 0; j < len; j++)
      dst[j] = (uint64_t)dst[j] < (uint64_t)K->ncanon ? K->canon[dst[j]] : -1;
  }
}

/* Element j of a run loaded by key_values is a valid key. */
static inline bool key_valid(const gb_key *K, const uint8_t *vb, int64_t bit, int64_t v) {
  return (!vb || gfi_bit_get(vb, bit)) && !(K->canon && v < 0);
}

void gfi_gb_keys_analyse(gb_ctx *c, bool *direct, int64_t *nslots) {
  const gb_view *v = &c->v;
  uint64_t prod = 1;
  bool dir = true;
  for (int k = 0; k < c->nkeys; k++) {
    gb_key *K = &c->keys[k];
    gf_datatype t = v->f->schema->fields[K->col].type;
    K->vclass = gfi_gb_value_class(t);
    if (K->vclass == GB_VC_DEC) K->vclass = GB_VC_STR; /* keys by their bytes */
    K->nulls = false;
    K->ranged = false;
    bool any = false, ok = true;
    int64_t mn = 0, mx = -1;
    for (int b = 0; b < v->nb; b++) {
      const gf_array *arr = gb_col(v, b, K->col);
      if (arr->null_count > 0 || K->canon) K->nulls = true;
      if (arr->null_count >= arr->length) continue;
      const gf_stats *s = &arr->stats;
      if (K->vclass == GB_VC_INT || K->vclass == GB_VC_U64) {
        if (!s->has_min_max || (s->is_unsigned && s->max.u > (uint64_t)INT64_MAX)) {
          ok = false;
          continue;
        }
        int64_t lo = s->is_unsigned ? (int64_t)s->min.u : s->min.i;
        int64_t hi = s->is_unsigned ? (int64_t)s->max.u : s->max.i;
        if (!any || lo < mn) mn = lo;
        if (!any || hi > mx) mx = hi;
        any = true;
      }
    }
    if (K->vclass == GB_VC_DICT) {
      const gf_array *d = v->nb > 0 ? gb_col(v, 0, K->col)->dictionary : NULL;
      mn = 0;
      mx = d ? d->length - 1 : -1;
      K->ranged = true;
    } else if (K->vclass == GB_VC_NULL) {
      mn = 0;
      mx = -1;
      K->ranged = true;
      K->nulls = v->n > 0;
    } else if ((K->vclass == GB_VC_INT || K->vclass == GB_VC_U64) && ok) {
      K->ranged = true;
    }
    if (K->ranged) {
      uint64_t span = (uint64_t)mx - (uint64_t)mn; /* max - min, or -1 when empty */
      K->min = mn;
      K->max = mx;
      K->range = mx < mn ? 1 : span + 2;
      if (K->range < span) K->ranged = false; /* wrapped: full 64-bit range */
    }
    if (!K->ranged || K->range > (uint64_t)DIRECT_MAX || prod * K->range > (uint64_t)DIRECT_MAX) {
      dir = false;
    } else {
      K->mult = (int64_t)prod;
      prod *= K->range;
    }
  }
  *direct = dir;
  *nslots = dir ? (int64_t)prod : 0;
}

void gfi_gb_keys_slots(const gb_ctx *c, int b, int64_t start, int64_t len, uint32_t *dst,
                   int64_t *tmp) {
  if (c->nkeys == 0) {
    memset(dst, 0, sizeof *dst * (size_t)len);
    return;
  }
  for (int k = 0; k < c->nkeys; k++) {
    const gb_key *K = &c->keys[k];
    const gf_array *arr = gb_col(&c->v, b, K->col);
    uint32_t mult = (uint32_t)K->mult;
    if (K->vclass == GB_VC_NULL) {
      if (k == 0) memset(dst, 0, sizeof *dst * (size_t)len);
      continue;
    }
    key_values(K, arr, start, len, tmp);
    const uint8_t *vb = arr->null_count > 0 ? gfi_buf(arr, 0) : NULL;
    int64_t base = K->min - 1, o = arr->offset;
    if (k == 0) {
      if (vb || K->canon) {
        for (int64_t j = 0; j < len; j++)
          dst[j] = key_valid(K, vb, o + start + j, tmp[j]) ? (uint32_t)(tmp[j] - base) : 0;
      } else {
        for (int64_t j = 0; j < len; j++) dst[j] = (uint32_t)(tmp[j] - base);
      }
    } else {
      if (vb || K->canon) {
        for (int64_t j = 0; j < len; j++)
          dst[j] += key_valid(K, vb, o + start + j, tmp[j]) ? (uint32_t)(tmp[j] - base) * mult : 0;
      } else {
        for (int64_t j = 0; j < len; j++) dst[j] += (uint32_t)(tmp[j] - base) * mult;
      }
    }
  }
}

void gfi_gb_groups_free(gb_groups *g, const gf_allocator *a, int64_t n) {
  if (g->first_row)
    gfi_scratch_free(a, g->first_row, sizeof *g->first_row * (size_t)(g->ngroups ? g->ngroups : 1));
  /* rowgid is arena scratch (both paths allocate it with gfi_scratch_alloc). */
  if (g->rowgid) gfi_scratch_free(a, g->rowgid, sizeof *g->rowgid * (size_t)(n ? n : 1));
  g->first_row = NULL;
  g->rowgid = NULL;
}

/* ---- direct slots ---------------------------------------------------------- */

typedef struct direct_job {
  gb_ctx *c;
  _Atomic int64_t *first;
  const int32_t *slot2gid;
  int32_t *rowgid;
} direct_job;

static gf_status direct_first_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  (void)ctx;
  direct_job *J = user;
  uint32_t slot[SUB];
  int64_t tmp[SUB];
  GB_FOR_PIECES(&J->c->v, ch->start_row, ch->end_row, {
    gfi_gb_keys_slots(J->c, b, lo, len, slot, tmp);
    for (int64_t j = 0; j < len; j++) {
      _Atomic int64_t *f = &J->first[slot[j]];
      int64_t row = r0 + j, cur = atomic_load_explicit(f, memory_order_relaxed);
      while (row < cur &&
             !atomic_compare_exchange_weak_explicit(f, &cur, row, memory_order_relaxed,
                                                    memory_order_relaxed)) {
      }
    }
  });
  return GF_OK;
}

static gf_status direct_gid_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  (void)ctx;
  direct_job *J = user;
  uint32_t slot[SUB];
  int64_t tmp[SUB];
  GB_FOR_PIECES(&J->c->v, ch->start_row, ch->end_row, {
    gfi_gb_keys_slots(J->c, b, lo, len, slot, tmp);
    for (int64_t j = 0; j < len; j++) J->rowgid[r0 + j] = J->slot2gid[slot[j]];
  });
  return GF_OK;
}

/* Groups from sorted (first_row << 32 | entry) pairs: entry -> gid map and
 * first rows. */
static gf_status assign_from_pairs(const gb_ctx *c, uint64_t *pairs, int64_t G, int32_t *ent2gid,
                                   gb_groups *g, gf_error *err) {
  GF_RETURN_NOT_OK(gfi_gb_radix_sort_hi32(pairs, G, c->a, err));
  g->first_row = gfi_scratch_alloc(c->a, sizeof *g->first_row * (size_t)(G ? G : 1));
  if (!g->first_row) return GF_OOM(err, "group first rows");
  g->ngroups = G;
  for (int64_t i = 0; i < G; i++) {
    g->first_row[i] = (int64_t)(pairs[i] >> 32);
    ent2gid[(uint32_t)pairs[i]] = (int32_t)i;
  }
  return GF_OK;
}

static gf_status groups_direct(gb_ctx *c, int64_t nslots, gb_groups *g, gf_error *err) {
  const gf_allocator *a = c->a;
  int64_t n = c->v.n;
  direct_job J = {c, NULL, NULL, NULL};
  _Atomic int64_t *first = gfi_scratch_alloc(a, sizeof *first * (size_t)nslots);
  int32_t *slot2gid = gfi_scratch_alloc(a, sizeof *slot2gid * (size_t)nslots);
  uint64_t *pairs = NULL;
  int64_t G = 0;
  gf_status st = GF_OK;
  if (!first || !slot2gid) st = GF_OOM(err, "group-by slots");
  if (st == GF_OK) {
    for (int64_t s = 0; s < nslots; s++) atomic_init(&first[s], INT64_MAX);
    J.first = first;
    st = gf_parallel_for(n, 8, false, direct_first_kernel, &J, c->po, err);
  }
  if (st == GF_OK) {
    for (int64_t s = 0; s < nslots; s++) G += atomic_load(&first[s]) != INT64_MAX;
    if (c->nkeys == 0 && G == 0) G = 1; /* the whole frame is one group */
    pairs = gfi_malloc(a, sizeof *pairs * (size_t)(G ? G : 1));
    if (!pairs) st = GF_OOM(err, "group-by groups");
  }
  if (st == GF_OK) {
    int64_t i = 0;
    for (int64_t s = 0; s < nslots; s++) {
      int64_t f = atomic_load(&first[s]);
      if (f != INT64_MAX) pairs[i++] = ((uint64_t)f << 32) | (uint64_t)s;
    }
    if (i < G) pairs[i++] = 0; /* empty whole-frame group: slot 0 */
    st = assign_from_pairs(c, pairs, G, slot2gid, g, err);
    if (st == GF_OK && n == 0 && G == 1) g->first_row[0] = -1; /* empty whole frame */
  }
  if (st == GF_OK && !c->first_only) {
    g->rowgid = gfi_scratch_alloc(a, sizeof *g->rowgid * (size_t)(n ? n : 1));
    if (!g->rowgid) st = GF_OOM(err, "group ids");
  }
  if (st == GF_OK && !c->first_only) {
    J.slot2gid = slot2gid;
    J.rowgid = g->rowgid;
    st = gf_parallel_for(n, 8, false, direct_gid_kernel, &J, c->po, err);
  }
  if (first) gfi_scratch_free(a, (void *)first, sizeof *first * (size_t)nslots);
  if (slot2gid) gfi_scratch_free(a, slot2gid, sizeof *slot2gid * (size_t)nslots);
  if (pairs) gfi_mfree(a, pairs, sizeof *pairs * (size_t)(G ? G : 1));
  return st;
}

/* ---- hashed keys --------------------------------------------------------------- */

typedef struct hash_job {
  gb_ctx *c;
  bool packed;
  int shift[64];        /* packed: bit offset of key k */
  uint64_t *h;          /* per row, unpacked keys only (packed: gfi_mix64(word)) */
  uint64_t *word;       /* per row when packed */
  /* partitioning */
  int pbits, pshift;
  int64_t nseg, P;
  int64_t *hist;        /* nseg * P: counts, then write cursors */
  int32_t *prow;        /* rows in partition order (stable) */
  uint64_t *ph, *pw;    /* h (unpacked) or word (packed) in partition order:
                           tables read them sequentially instead of
                           gathering per row */
  int32_t *pent;        /* local entry per row, in partition order */
  int64_t *pstart;      /* P + 1 */
  int32_t *rowent;      /* group id per row */
  int32_t *efirst;      /* first row of local entry e of partition p at pstart[p] + e */
  int64_t *pcount;      /* entries per partition */
  int64_t *base;        /* P + 1 */
  const int32_t *ent2gid;
  /* many groups: ids from first rows marked in a row-indexed array */
  int32_t *mark;        /* n: global entry + 1 at its first row, else 0 */
  int64_t *segbase;     /* nseg: first group id of each segment */
  int32_t *ent2gid_out;
  int64_t *first_row;
} hash_job;

static gf_status hash_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  (void)ctx;
  hash_job *J = user;
  const gb_ctx *c = J->c;
  int64_t tmp[SUB];
  GB_FOR_PIECES(&c->v, ch->start_row, ch->end_row, {
    if (J->packed) {
      uint64_t *w = J->word + r0;
      memset(w, 0, sizeof *w * (size_t)len);
      for (int k = 0; k < c->nkeys; k++) {
        const gb_key *K = &c->keys[k];
        if (K->vclass == GB_VC_NULL) continue;
        const gf_array *arr = gb_col(&c->v, b, K->col);
        key_values(K, arr, lo, len, tmp);
        const uint8_t *vb = arr->null_count > 0 ? gfi_buf(arr, 0) : NULL;
        int sh = J->shift[k];
        uint64_t base = K->ranged ? (uint64_t)K->min - 1 : 0;
        if (sh >= 64) continue; /* a zero-width key (one value) */
        if (!vb && !K->canon) {
          /* The common case, kept free of per-row tests so it vectorises. */
          for (int64_t j = 0; j < len; j++) w[j] |= ((uint64_t)tmp[j] - base) << sh;
          continue;
        }
        for (int64_t j = 0; j < len; j++) {
          bool valid = key_valid(K, vb, arr->offset + lo + j, tmp[j]);
          uint64_t code = valid ? (uint64_t)tmp[j] - base : 0;
          w[j] |= code << sh;
        }
      }
    } else {
      uint64_t *h = J->h + r0;
      for (int64_t j = 0; j < len; j++) h[j] = UINT64_C(0x243F6A8885A308D3);
      for (int k = 0; k < c->nkeys; k++) {
        const gb_key *K = &c->keys[k];
        const gf_array *arr = gb_col(&c->v, b, K->col);
        const uint8_t *vb = arr->null_count > 0 ? gfi_buf(arr, 0) : NULL;
        if (K->vclass == GB_VC_NULL) {
          for (int64_t j = 0; j < len; j++) h[j] = gfi_mix64(h[j] ^ UINT64_C(0x9E3779B97F4A7C15));
          continue;
        }
        if (K->vclass == GB_VC_STR) {
          for (int64_t j = 0; j < len; j++) {
            uint64_t x;
            if (vb && !gfi_bit_get(vb, arr->offset + lo + j)) {
              x = UINT64_C(0x9E3779B97F4A7C15);
            } else {
              int64_t l;
              const uint8_t *p = gfi_value_bytes(arr, lo + j, &l);
              x = gfi_key_hash_bytes(p, l);
            }
            h[j] = gfi_mix64(h[j] * UINT64_C(31) + x);
          }
          continue;
        }
        key_values(K, arr, lo, len, tmp);
        for (int64_t j = 0; j < len; j++) {
          bool valid = key_valid(K, vb, arr->offset + lo + j, tmp[j]);
          uint64_t x = valid ? gfi_mix64((uint64_t)tmp[j] + 1) : UINT64_C(0x9E3779B97F4A7C15);
          h[j] = gfi_mix64(h[j] * UINT64_C(31) + x);
        }
      }
    }
  });
  return GF_OK;
}

/* Hash of row r: packed keys hash their word on the fly (cheaper than
 * storing and faulting in another 8 bytes per row). */
static inline uint64_t hash_of(const hash_job *J, int64_t r) {
  return J->packed ? gfi_mix64(J->word[r]) : J->h[r];
}

static inline int64_t part_of(const hash_job *J, int64_t r) {
  return J->pbits ? (int64_t)(hash_of(J, r) >> J->pshift) : 0;
}

static gf_status hist_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  (void)ctx;
  hash_job *J = user;
  int64_t *cnt = J->hist + ch->chunk_id * J->P;
  for (int64_t r = ch->start_row; r < ch->end_row; r++) cnt[part_of(J, r)]++;
  return GF_OK;
}

static gf_status scatter_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  (void)ctx;
  hash_job *J = user;
  int64_t *cur = J->hist + ch->chunk_id * J->P;
  if (J->packed) {
    for (int64_t r = ch->start_row; r < ch->end_row; r++) {
      int64_t q = cur[part_of(J, r)]++;
      J->prow[q] = (int32_t)r;
      J->pw[q] = J->word[r];
    }
  } else {
    for (int64_t r = ch->start_row; r < ch->end_row; r++) {
      int64_t q = cur[part_of(J, r)]++;
      J->prow[q] = (int32_t)r;
      J->ph[q] = J->h[r];
    }
  }
  return GF_OK;
}

/* True when rows r and s have equal keys (row-wise compare). */
static bool rows_equal(const gb_ctx *c, int64_t r, int64_t s) {
  const gb_view *v = &c->v;
  int br = gb_batch_of(v, r), bs = gb_batch_of(v, s);
  int64_t i = r - v->boff[br], j = s - v->boff[bs];
  for (int k = 0; k < c->nkeys; k++) {
    const gb_key *K = &c->keys[k];
    if (K->vclass == GB_VC_NULL) continue;
    const gf_array *x = gb_col(v, br, K->col), *y = gb_col(v, bs, K->col);
    if (K->vclass == GB_VC_STR) {
      bool vx = gfi_is_valid(x, i), vy = gfi_is_valid(y, j);
      if (vx != vy) return false;
      if (!vx) continue;
      /* Per probe hit: the bytes compared directly, by the policy. */
      int64_t lx, ly;
      const uint8_t *px = gfi_value_bytes(x, i, &lx), *py = gfi_value_bytes(y, j, &ly);
      if (!gfi_bytes_equal(px, lx, py, ly)) return false;
      continue;
    }
    int64_t a, b;
    key_values(K, x, i, 1, &a);
    key_values(K, y, j, 1, &b);
    bool vx = key_valid(K, x->null_count > 0 ? gfi_buf(x, 0) : NULL, x->offset + i, a);
    bool vy = key_valid(K, y->null_count > 0 ? gfi_buf(y, 0) : NULL, y->offset + j, b);
    if (vx != vy) return false;
    if (vx && a != b) return false;
  }
  return true;
}

typedef struct slot_ent {
  uint64_t h;
  uint64_t w;  /* packed key word (packed keys only) */
  int32_t row; /* -1 empty */
  int32_t id;
} slot_ent;

/* Builds one partition's table over its rows (increasing row order), so
 * local entry ids follow first appearance within the partition. */
static gf_status table_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  hash_job *J = user;
  const gb_ctx *c = J->c;
  int64_t p = ch->chunk_id, ps = J->pstart[p], pe = J->pstart[p + 1];
  /* Starts small (a large initial table would cost every low-cardinality
   * partition its initialisation) and doubles as keys arrive. */
  int64_t cap = 1024;
  while (cap < 2 * (pe - ps) && cap < 4096) cap *= 2;
  slot_ent *t = gfi_malloc(ctx->allocator, sizeof *t * (size_t)cap);
  if (!t) return GF_OOM(ctx->err, "a group-by hash table");
  for (int64_t i = 0; i < cap; i++) t[i].row = -1;
  int64_t used = 0;
  for (int64_t q = ps; q < pe; q++) {
    int32_t r = J->prow[q];
    uint64_t w = J->packed ? J->pw[q] : 0, h = J->packed ? gfi_mix64(w) : J->ph[q];
    uint64_t mask = (uint64_t)cap - 1;
    uint64_t i = (h * UINT64_C(0x9E3779B97F4A7C15)) >> 20 & mask;
    for (;;) {
      slot_ent *e = &t[i];
      if (e->row < 0) {
        e->h = h;
        e->w = w;
        e->row = r;
        e->id = (int32_t)used;
        J->efirst[ps + used] = r;
        J->pent[q] = (int32_t)used;
        used++;
        break;
      }
      if (e->h == h && (J->packed ? e->w == w : rows_equal(c, e->row, r))) {
        J->pent[q] = e->id;
        break;
      }
      i = (i + 1) & mask;
    }
    if (used * 2 > cap) {
      /* Grow: re-insert by the stored hashes. */
      int64_t ncap = cap * 2;
      slot_ent *nt = gfi_malloc(ctx->allocator, sizeof *nt * (size_t)ncap);
      if (!nt) {
        gfi_mfree(ctx->allocator, t, sizeof *t * (size_t)cap);
        return GF_OOM(ctx->err, "a group-by hash table");
      }
      for (int64_t k = 0; k < ncap; k++) nt[k].row = -1;
      uint64_t nmask = (uint64_t)ncap - 1;
      for (int64_t k = 0; k < cap; k++) {
        if (t[k].row < 0) continue;
        uint64_t j = (t[k].h * UINT64_C(0x9E3779B97F4A7C15)) >> 20 & nmask;
        while (nt[j].row >= 0) j = (j + 1) & nmask;
        nt[j] = t[k];
      }
      gfi_mfree(ctx->allocator, t, sizeof *t * (size_t)cap);
      t = nt;
      cap = ncap;
    }
  }
  J->pcount[p] = used;
  gfi_mfree(ctx->allocator, t, sizeof *t * (size_t)cap);
  return GF_OK;
}

/* Group ids of one partition's rows (chunk = partition): the partition's
 * slice of ent2gid stays in cache; the writes scatter. */
static gf_status final_gid_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  (void)ctx;
  hash_job *J = user;
  const int32_t *e2g = J->ent2gid + J->base[ch->chunk_id];
  for (int64_t q = ch->start_row; q < ch->end_row; q++) J->rowent[J->prow[q]] = e2g[J->pent[q]];
  return GF_OK;
}

/* Marks the first row of every entry of one partition (chunk = partition):
 * first rows are distinct, so partitions write disjoint cells. */
static gf_status mark_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  (void)ctx;
  hash_job *J = user;
  int64_t p = ch->chunk_id, base = J->base[p];
  const int32_t *ef = J->efirst + J->pstart[p];
  for (int64_t e = 0; e < J->pcount[p]; e++) J->mark[ef[e]] = (int32_t)(base + e + 1);
  return GF_OK;
}

/* Groups first seen in one row segment (chunk = segment). */
static gf_status mark_count_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  (void)ctx;
  hash_job *J = user;
  int64_t cnt = 0;
  for (int64_t r = ch->start_row; r < ch->end_row; r++) cnt += J->mark[r] != 0;
  J->segbase[ch->chunk_id] = cnt;
  return GF_OK;
}

/* Group ids in row order of first appearance, segment by segment from the
 * segment's first id: the same ids as sorting groups by first row. */
static gf_status mark_assign_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  (void)ctx;
  hash_job *J = user;
  int64_t gid = J->segbase[ch->chunk_id];
  for (int64_t r = ch->start_row; r < ch->end_row; r++) {
    int32_t m = J->mark[r];
    if (!m) continue;
    J->first_row[gid] = r;
    J->ent2gid_out[m - 1] = (int32_t)gid;
    gid++;
  }
  return GF_OK;
}

/* Group ids and first rows for many groups (G of n rows) without a sort:
 * every entry marks its first row, segments count their marks, and a
 * parallel row-order scan numbers them. */
static gf_status assign_by_marks(gb_ctx *c, hash_job *J, const gf_chunk_spec *parts,
                                 const gf_chunk_spec *segs, int64_t G, int32_t *ent2gid,
                                 gb_groups *g, gf_error *err) {
  const gf_allocator *a = c->a;
  int64_t n = c->v.n;
  J->mark = gfi_scratch_calloc(a, sizeof *J->mark * (size_t)(n ? n : 1));
  J->segbase = gfi_malloc(a, sizeof *J->segbase * (size_t)J->nseg);
  g->first_row = gfi_scratch_alloc(a, sizeof *g->first_row * (size_t)(G ? G : 1));
  if (g->first_row) g->ngroups = G; /* gfi_gb_groups_free's size */
  gf_status st = GF_OK;
  if (!J->mark || !J->segbase || !g->first_row) st = GF_OOM(err, "group first rows");
  if (st == GF_OK) st = gf_run_chunks(parts, J->P, mark_kernel, J, c->po, err);
  if (st == GF_OK) st = gf_run_chunks(segs, J->nseg, mark_count_kernel, J, c->po, err);
  if (st == GF_OK) {
    int64_t run = 0;
    for (int64_t s = 0; s < J->nseg; s++) {
      int64_t k = J->segbase[s];
      J->segbase[s] = run;
      run += k;
    }
    J->first_row = g->first_row;
    J->ent2gid_out = ent2gid;
    st = gf_run_chunks(segs, J->nseg, mark_assign_kernel, J, c->po, err);
  }
  if (J->mark) gfi_scratch_free(a, J->mark, sizeof *J->mark * (size_t)(n ? n : 1));
  if (J->segbase) gfi_mfree(a, J->segbase, sizeof *J->segbase * (size_t)J->nseg);
  J->mark = NULL;
  J->segbase = NULL;
  return st;
}

static gf_status groups_hashed(gb_ctx *c, gb_groups *g, gf_error *err) {
  const gf_allocator *a = c->a;
  int64_t n = c->v.n;
  hash_job J;
  memset(&J, 0, sizeof J);
  J.c = c;
  /* Bit-packing: ranged keys take ceil(log2(range)) bits; a lone unranged
   * fixed-width key without nulls takes all 64. */
  int bits = 0;
  J.packed = true;
  for (int k = 0; k < c->nkeys && J.packed; k++) {
    const gb_key *K = &c->keys[k];
    int kb;
    if (K->ranged) {
      kb = 0;
      while (kb < 64 && (UINT64_C(1) << kb) < K->range) kb++;
    } else if (K->vclass != GB_VC_STR && !K->nulls) {
      kb = 64;
    } else {
      J.packed = false;
      break;
    }
    J.shift[k] = bits;
    bits += kb;
    if (bits > 64) J.packed = false;
  }
  J.pbits = 0;
  while (J.pbits < 10 && (n >> J.pbits) > 32768) J.pbits++;
  J.pshift = 64 - J.pbits;
  J.P = (int64_t)1 << J.pbits;
  J.nseg = n / 65536 + 1;
  if (J.nseg > 64) J.nseg = 64;
  gf_chunk_spec *segs = NULL, *parts = NULL;
  uint64_t *pairs = NULL;
  int32_t *ent2gid = NULL;
  int64_t G = 0;
  bool marks = false;
  size_t nn = (size_t)(n ? n : 1);
  /* Per-row scratch comes from the pool's arenas (exec/arena.h): with
   * many rows it is most of the call's memory, and reused blocks are
   * already faulted in. */
  J.h = J.packed ? NULL : gfi_scratch_alloc(a, sizeof *J.h * nn);
  J.word = J.packed ? gfi_scratch_alloc(a, sizeof *J.word * nn) : NULL;
  J.prow = gfi_scratch_alloc(a, sizeof *J.prow * nn);
  J.ph = J.packed ? NULL : gfi_scratch_alloc(a, sizeof *J.ph * nn);
  J.pw = J.packed ? gfi_scratch_alloc(a, sizeof *J.pw * nn) : NULL;
  J.pent = gfi_scratch_alloc(a, sizeof *J.pent * nn);
  J.rowent = c->first_only ? NULL : gfi_scratch_alloc(a, sizeof *J.rowent * nn);
  J.efirst = gfi_scratch_alloc(a, sizeof *J.efirst * nn);
  J.hist = gfi_calloc(a, sizeof *J.hist * (size_t)(J.nseg * J.P));
  J.pstart = gfi_malloc(a, sizeof *J.pstart * (size_t)(J.P + 1));
  J.pcount = gfi_calloc(a, sizeof *J.pcount * (size_t)J.P);
  J.base = gfi_malloc(a, sizeof *J.base * (size_t)(J.P + 1));
  gf_status st = GF_OK;
  if ((J.packed ? !J.word || !J.pw : !J.h || !J.ph) || !J.prow || !J.pent || (!J.rowent && !c->first_only) || !J.efirst || !J.hist ||
      !J.pstart || !J.pcount || !J.base)
    st = GF_OOM(err, "group-by hashing state");
  if (st == GF_OK) st = gf_parallel_for(n, 16, false, hash_kernel, &J, c->po, err);
  if (st == GF_OK) st = gfi_plan_equal(n, J.nseg, a, &segs, err);
  if (st == GF_OK) st = gf_run_chunks(segs, J.nseg, hist_kernel, &J, c->po, err);
  if (st == GF_OK) {
    /* Cursors: partition-major, segments in row order: a stable partition. */
    int64_t run = 0;
    for (int64_t p = 0; p < J.P; p++) {
      J.pstart[p] = run;
      for (int64_t s = 0; s < J.nseg; s++) {
        int64_t t = J.hist[s * J.P + p];
        J.hist[s * J.P + p] = run;
        run += t;
      }
    }
    J.pstart[J.P] = run;
    st = gf_run_chunks(segs, J.nseg, scatter_kernel, &J, c->po, err);
  }
  /* Row-order hashes and words are not needed past the scatter. */
  if (J.h) gfi_scratch_free(a, J.h, sizeof *J.h * nn);
  if (J.word) gfi_scratch_free(a, J.word, sizeof *J.word * nn);
  J.h = NULL;
  J.word = NULL;
  if (st == GF_OK) {
    parts = gfi_malloc(a, sizeof *parts * (size_t)J.P);
    if (!parts) st = GF_OOM(err, "group-by partitions");
  }
  if (st == GF_OK) {
    for (int64_t p = 0; p < J.P; p++) {
      parts[p].start_row = J.pstart[p];
      parts[p].end_row = J.pstart[p + 1];
      parts[p].chunk_id = p;
    }
    st = gf_run_chunks(parts, J.P, table_kernel, &J, c->po, err);
  }
  if (st == GF_OK) {
    for (int64_t p = 0; p < J.P; p++) {
      J.base[p] = G;
      G += J.pcount[p];
    }
    J.base[J.P] = G;
    /* Few groups: sort (first row, entry) pairs; many: mark first rows. */
    marks = G > 65536 && G * 16 > n;
    pairs = marks ? NULL : gfi_scratch_alloc(a, sizeof *pairs * (size_t)(G ? G : 1));
    ent2gid = gfi_scratch_alloc(a, sizeof *ent2gid * (size_t)(G ? G : 1));
    if ((!marks && !pairs) || !ent2gid) st = GF_OOM(err, "group-by groups");
  }
  if (st == GF_OK && marks) {
    st = assign_by_marks(c, &J, parts, segs, G, ent2gid, g, err);
  } else if (st == GF_OK) {
    for (int64_t p = 0; p < J.P; p++)
      for (int64_t e = 0; e < J.pcount[p]; e++)
        pairs[J.base[p] + e] = ((uint64_t)J.efirst[J.pstart[p] + e] << 32) | (uint64_t)(J.base[p] + e);
    st = assign_from_pairs(c, pairs, G, ent2gid, g, err);
  }
  if (st == GF_OK && !c->first_only) {
    J.ent2gid = ent2gid;
    st = gf_run_chunks(parts, J.P, final_gid_kernel, &J, c->po, err);
  }
  if (st == GF_OK && !c->first_only) {
    g->rowgid = J.rowent;
    J.rowent = NULL;
  }
  if (J.h) gfi_scratch_free(a, J.h, sizeof *J.h * nn);
  if (J.word) gfi_scratch_free(a, J.word, sizeof *J.word * nn);
  if (J.prow) gfi_scratch_free(a, J.prow, sizeof *J.prow * nn);
  if (J.ph) gfi_scratch_free(a, J.ph, sizeof *J.ph * nn);
  if (J.pw) gfi_scratch_free(a, J.pw, sizeof *J.pw * nn);
  if (J.pent) gfi_scratch_free(a, J.pent, sizeof *J.pent * nn);
  if (J.rowent) gfi_scratch_free(a, J.rowent, sizeof *J.rowent * nn);
  if (J.efirst) gfi_scratch_free(a, J.efirst, sizeof *J.efirst * nn);
  if (J.hist) gfi_mfree(a, J.hist, sizeof *J.hist * (size_t)(J.nseg * J.P));
  if (J.pstart) gfi_mfree(a, J.pstart, sizeof *J.pstart * (size_t)(J.P + 1));
  if (J.pcount) gfi_mfree(a, J.pcount, sizeof *J.pcount * (size_t)J.P);
  if (J.base) gfi_mfree(a, J.base, sizeof *J.base * (size_t)(J.P + 1));
  if (segs) gfi_mfree(a, segs, sizeof *segs * (size_t)J.nseg);
  if (parts) gfi_mfree(a, parts, sizeof *parts * (size_t)J.P);
  if (pairs) gfi_scratch_free(a, pairs, sizeof *pairs * (size_t)(G ? G : 1));
  if (ent2gid) gfi_scratch_free(a, ent2gid, sizeof *ent2gid * (size_t)(G ? G : 1));
  return st;
}

gf_status gfi_gb_groups_compute(gb_ctx *c, bool direct, int64_t nslots, gb_groups *g, gf_error *err) {
  memset(g, 0, sizeof *g);
  gf_status st = direct ? groups_direct(c, nslots, g, err) : groups_hashed(c, g, err);
  if (st != GF_OK) gfi_gb_groups_free(g, c->a, c->v.n);
  return st;
}
