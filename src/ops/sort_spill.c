/*
 * External sort: the full sort's permutation computed in bounded memory
 * (docs/SPILLING.md).
 *
 * The input frame of an eager sort is in memory already; what does not fit
 * under a memory limit is the sort's working set (per row: an 8-byte key
 * encoding per key, null flags, string pointers, radix scratch), several
 * times the permutation. So the rows are cut into runs of consecutive rows;
 * each run is sorted in memory exactly as the full sort would (the same
 * stable passes, in parallel), and its sorted (row number, key encodings)
 * are written as Arrow IPC record batches to one nameless temporary file.
 * A k-way merge (binary heap) then reads the runs back block by block and
 * writes the permutation; cut at splitters taken from the blocks' first
 * rows, several ranges merge in parallel. The merge compares exactly like gfi_row_cmp
 * (encodings, nulls first/last, string or decimal bytes fetched from the
 * input on equal prefixes, then the row number), so the permutation is the
 * in-memory one, stability included, whatever the run size, block size or
 * worker count.
 */
#include <stdatomic.h>
#include <string.h>

#include "data/builder_internal.h"
#include "data/decimal.h"
#include "exec/exec_internal.h"
#include "io/ipc_spill.h"
#include "ops/sort_join_internal.h"

static atomic_llong test_run_rows, test_block_rows;

void gfi_sort_test_spill(int64_t run_rows, int64_t block_rows) {
  atomic_store(&test_block_rows, block_rows > 0 ? block_rows : 0);
  atomic_store(&test_run_rows, run_rows > 0 ? run_rows : 0);
}

/* Default rows per spilled block: large enough that the IPC framing and
 * the per-block read are noise, small enough that k blocks fit. */
#define DEFAULT_BLOCK_ROWS 65536
/* The smallest run the limit may force: below it the merge fan-in grows
 * with little memory saved. */
#define MIN_RUN_ROWS 4096

/* Whether key i is compared as bytes past its 8-byte prefix, and whether
 * those bytes are a decimal's order encoding; mirrors gfi_sprep_make. */
static int key_kind(gf_datatype t, bool *dec) {
  gf_type_id id = t.id;
  gf_type_id vid = id == GF_TYPE_DICTIONARY ? t.value_id : id;
  *dec = false;
  if (vid == GF_TYPE_NULL) return GFI_SK_ALLNULL;
  if (id == GF_TYPE_DICTIONARY) return GFI_SK_FIXED;
  if (gfi_is_decimal(vid)) {
    *dec = true;
    return GFI_SK_BYTES;
  }
  if (gfi_type_is_var_width(vid) || vid == GF_TYPE_FIXED_SIZE_BINARY) return GFI_SK_BYTES;
  return GFI_SK_FIXED;
}

/* Bytes per row the sort keeps while sorting a run or the whole frame in
 * memory, the permutation excluded: every key's encoding (8), null flag
 * (1), string pointer and length (16) or decimal copy, and the pass's
 * scratch (radix: keys and a copy of keys and rows, 24; strings: two item
 * arrays, 32). */
static int64_t work_per_row(const gfi_keycols *kc, bool all_keys) {
  int64_t keys = 0, pass = 24;
  for (int i = 0; i < kc->nkeys; i++) {
    bool dec;
    int kind = key_kind(kc->src[i].type, &dec);
    int64_t b = 9;
    if (kind == GFI_SK_BYTES) {
      b += 16 + (dec ? gfi_type_byte_width(kc->src[i].type) : 0);
      pass = 32;
    }
    if (all_keys) keys += b;
    else if (b > keys) keys = b;
  }
  return keys + pass;
}

/* Bytes the call's tracked allocator holds now (0 when untracked). */
static int64_t call_current(const gf_parallel_options *o) {
  const gfi_ctx *c = gfi_ctx_of(o);
  return c && c->limiter ? gfi_call_alloc_current(c->limiter) : 0;
}

bool gfi_sort_should_spill(const gf_frame *f, const gfi_keycols *kc, const gf_parallel_options *o) {
  int64_t n = f->num_rows;
  if (n < 2) return false;
  if (atomic_load(&test_run_rows) > 0) return true;
  int64_t lim = gfi_memory_limit(o);
  if (lim <= 0) return false;
  int64_t need = call_current(o) + n * work_per_row(kc, false);
  /* A tenth in reserve for what the estimate does not see (pool
   * bookkeeping, per-chunk plans, allocator rounding). */
  return need > lim - lim / 10;
}

/* ---- writing runs ----------------------------------------------------- */

/* A run: its blocks in the spill file, in sorted order. */
typedef struct run {
  int64_t first_block;
  int64_t nblocks;
  int64_t rows;
} run;

typedef struct ext {
  const gf_frame *f;
  const gfi_keycols *kc;
  const gf_sort_key *keys;
  const gf_parallel_options *o;
  const gf_allocator *a;
  int nk;
  int kinds[64];   /* per key GFI_SK_* */
  bool *decs;
  gfi_spill_space *space;
  gfi_spill_file *file;
  gfi_spill_block *blocks;
  int64_t nblocks, cap_blocks;
  /* The first row of every block (row number, encodings, 1 = key valid),
   * kept in memory to cut the merge into independent ranges. */
  int64_t *hrow;
  uint64_t *henc; /* nblocks * nk */
  uint8_t *hval;  /* nblocks * nk */
  int64_t block_rows;
  int64_t start_ns;
} ext;

/* A fixed-width array of n 8-byte values from `vals` with validity `bits`
 * (NULL = all valid, else taken), through `a`. */
static gf_status u64_array(const gf_allocator *a, gf_datatype t, int64_t n, gf_buffer *vals,
                           gf_buffer *bits, int64_t nulls, gf_array **out, gf_error *err) {
  gf_buffer *bufs[3] = {bits, vals, NULL};
  return gfi_array_make(a, t, n, 0, nulls, bufs, NULL, out, err);
}

static void free_blocks(ext *x) {
  size_t c = (size_t)x->cap_blocks, nk = (size_t)(x->nk ? x->nk : 1);
  if (x->blocks) gfi_mfree(x->a, x->blocks, sizeof *x->blocks * c);
  if (x->hrow) gfi_mfree(x->a, x->hrow, sizeof *x->hrow * c);
  if (x->henc) gfi_mfree(x->a, x->henc, sizeof *x->henc * c * nk);
  if (x->hval) gfi_mfree(x->a, x->hval, sizeof *x->hval * c * nk);
}

/* Appends a block index entry and the block's first row: row number
 * `row`, key k's encoding of kp[k] at local row `lr`. */
static gf_status push_block(ext *x, const gfi_spill_block *b, int64_t row, const gfi_sprep *kp,
                            int64_t lr, gf_error *err) {
  size_t nk = (size_t)(x->nk ? x->nk : 1);
  if (x->nblocks == x->cap_blocks) {
    /* All four arrays grow together or not at all. */
    ext y = *x;
    y.cap_blocks = x->cap_blocks ? x->cap_blocks * 2 : 64;
    size_t c = (size_t)y.cap_blocks, n = (size_t)x->nblocks;
    y.blocks = gfi_malloc(x->a, sizeof *y.blocks * c);
    y.hrow = gfi_malloc(x->a, sizeof *y.hrow * c);
    y.henc = gfi_malloc(x->a, sizeof *y.henc * c * nk);
    y.hval = gfi_malloc(x->a, sizeof *y.hval * c * nk);
    if (!y.blocks || !y.hrow || !y.henc || !y.hval) {
      free_blocks(&y);
      return GF_OOM(err, "spill block index");
    }
    if (n) {
      memcpy(y.blocks, x->blocks, sizeof *y.blocks * n);
      memcpy(y.hrow, x->hrow, sizeof *y.hrow * n);
      memcpy(y.henc, x->henc, sizeof *y.henc * n * nk);
      memcpy(y.hval, x->hval, sizeof *y.hval * n * nk);
    }
    free_blocks(x);
    *x = y;
  }
  int64_t i = x->nblocks++;
  x->blocks[i] = *b;
  x->hrow[i] = row;
  for (int k = 0; k < x->nk; k++) {
    const gfi_sprep *p = &kp[k];
    bool valid = p->kind != GFI_SK_ALLNULL && !(p->nul && p->nul[lr]);
    x->henc[(size_t)i * nk + (size_t)k] = p->kind == GFI_SK_ALLNULL ? 0 : p->enc[lr];
    x->hval[(size_t)i * nk + (size_t)k] = valid;
  }
  return GF_OK;
}

/* Writes sorted rows perm[lo, hi) of a run starting at frame row `base`
 * as one block: columns row (int64) and k0.. (uint64 encodings, null where
 * the key is null). */
static gf_status write_block(ext *x, const gfi_sprep *kp, const int64_t *perm, int64_t lo,
                             int64_t hi, int64_t base, gf_error *err) {
  int64_t m = hi - lo;
  int nk = x->nk;
  int ncol = nk + 1;
  gf_array *cols[65];
  char names[65][8];
  const char *np[65];
  memset(cols, 0, sizeof cols);
  gf_status st = GF_OK;
  for (int c = 0; c < ncol && st == GF_OK; c++) {
    gf_buffer *vals = NULL, *bits = NULL;
    int64_t nulls = 0;
    if (gfi_buffer_alloc(x->a, sizeof(uint64_t) * (size_t)(m ? m : 1), &vals) != GF_OK) {
      st = GF_OOM(err, "spill block");
      break;
    }
    uint64_t *v = gf_buffer_mutable_data(vals);
    const gfi_sprep *k = c > 0 ? &kp[c - 1] : NULL;
    if (!k) {
      for (int64_t i = 0; i < m; i++) v[i] = (uint64_t)(base + perm[lo + i]);
    } else if (k->kind == GFI_SK_ALLNULL) {
      memset(v, 0, sizeof *v * (size_t)m);
    } else {
      for (int64_t i = 0; i < m; i++) v[i] = k->enc[perm[lo + i]];
      if (k->nul) {
        for (int64_t i = 0; i < m; i++) nulls += k->nul[perm[lo + i]];
      }
      if (nulls > 0) {
        if (gfi_buffer_alloc(x->a, (size_t)gfi_bitmap_bytes(m), &bits) != GF_OK) {
          gf_buffer_release(vals);
          st = GF_OOM(err, "spill block validity");
          break;
        }
        uint8_t *bm = gf_buffer_mutable_data(bits);
        memset(bm, 0, (size_t)gfi_bitmap_bytes(m));
        for (int64_t i = 0; i < m; i++)
          if (!k->nul[perm[lo + i]]) gfi_bit_set(bm, i);
      }
    }
    st = u64_array(x->a, gf_type(c ? GF_TYPE_UINT64 : GF_TYPE_INT64), m, vals, bits, nulls,
                   &cols[c], err);
    if (c) snprintf(names[c], sizeof names[c], "k%d", c - 1);
    else snprintf(names[c], sizeof names[c], "row");
    np[c] = names[c];
  }
  gf_frame *blk = NULL;
  if (st == GF_OK) st = gf_frame_from_columns(np, cols, ncol, &blk, err);
  for (int c = 0; c < ncol; c++) gf_array_release(cols[c]);
  gfi_spill_block b;
  if (st == GF_OK) st = gfi_spill_write_frame(x->file, blk, x->o, &b, err);
  gf_frame_release(blk);
  if (st == GF_OK) st = push_block(x, &b, base + perm[lo], kp, perm[lo], err);
  return st;
}

/* Sorts rows [s, s+len) exactly as the full sort would and spills them. */
static gf_status write_run(ext *x, int64_t s, int64_t len, run *r, gf_error *err) {
  gf_frame *sub = NULL;
  GF_RETURN_NOT_OK(gf_frame_slice(x->f, s, len, &sub, err));
  gfi_keycols kc;
  gf_status st = gfi_keycols_make(sub, x->keys, x->nk, x->a, &kc, err);
  if (st != GF_OK) {
    gf_frame_release(sub);
    return st;
  }
  int nk = x->nk;
  gfi_sprep *kp = gfi_calloc(x->a, sizeof *kp * (size_t)nk);
  size_t pb = sizeof(int64_t) * (size_t)len;
  int64_t *perm = gfi_malloc(x->a, pb);
  int made = 0;
  if (!kp || !perm) st = GF_OOM(err, "sort run");
  for (; st == GF_OK && made < nk; made++) {
    st = gfi_sprep_make(&kc.src[made], x->keys[made].descending, x->keys[made].nulls_first,
                        x->o, &kp[made], err);
    if (st != GF_OK) break;
  }
  if (st == GF_OK) {
    for (int64_t i = 0; i < len; i++) perm[i] = i;
    for (int i = nk - 1; i >= 0 && st == GF_OK; i--) st = gfi_sort_pass(&kp[i], perm, len, x->o, err);
  }
  r->first_block = x->nblocks;
  r->rows = len;
  for (int64_t lo = 0; st == GF_OK && lo < len; lo += x->block_rows) {
    int64_t hi = lo + x->block_rows < len ? lo + x->block_rows : len;
    st = write_block(x, kp, perm, lo, hi, s, err);
  }
  r->nblocks = x->nblocks - r->first_block;
  if (kp) {
    for (int i = 0; i < made && i < nk; i++) gfi_sprep_free(&kp[i]);
    gfi_mfree(x->a, kp, sizeof *kp * (size_t)nk);
  }
  if (perm) gfi_mfree(x->a, perm, pb);
  gfi_keycols_free(x->a, &kc);
  gf_frame_release(sub);
  return st;
}

/* ---- merging ------------------------------------------------------------ */

/* A run being merged: its current block and position. */
typedef struct cursor {
  int64_t next_block, end_block;
  int64_t remain; /* rows of the run left to merge from here */
  gf_frame *blk;
  int64_t pos, len;
  const int64_t *row;
  const uint64_t **enc;  /* nk */
  const uint8_t **valid; /* nk, NULL = all valid */
  int64_t *voff;         /* nk */
} cursor;

/* Loads the cursor's next block; *ok false when the run is exhausted. */
static gf_status cursor_load(ext *x, cursor *c, bool *ok, gf_error *err) {
  gf_frame_release(c->blk);
  c->blk = NULL;
  *ok = false;
  while (c->next_block < c->end_block) {
    const gfi_spill_block *b = &x->blocks[c->next_block++];
    GF_RETURN_NOT_OK(gfi_spill_read_frame(x->file, b, x->o, &c->blk, err));
    if (gf_frame_num_rows(c->blk) != b->rows || gf_frame_num_batches(c->blk) != 1 ||
        gf_frame_num_columns(c->blk) != x->nk + 1) {
      gf_frame_release(c->blk);
      c->blk = NULL;
      return gf_error_set(err, GF_EIO, "a spilled sort block read back from '%s' is not the "
                          "block written (%lld rows expected)",
                          gfi_spill_space_dir(x->space), (long long)b->rows);
    }
    if (b->rows == 0) continue;
    const gf_array *ra = gf_frame_column(c->blk, 0, 0);
    c->row = (const int64_t *)gfi_buf(ra, 1) + ra->offset;
    for (int k = 0; k < x->nk; k++) {
      const gf_array *ka = gf_frame_column(c->blk, 0, k + 1);
      c->enc[k] = (const uint64_t *)gfi_buf(ka, 1) + ka->offset;
      c->valid[k] = ka->null_count > 0 ? gfi_buf(ka, 0) : NULL;
      c->voff[k] = ka->offset;
    }
    c->pos = 0;
    c->len = b->rows;
    *ok = true;
    return GF_OK;
  }
  return GF_OK;
}

/* The bytes of key source `src` at frame row `row` (not null); decimals as
 * their order encoding in tmp (32 bytes). */
static const uint8_t *key_bytes(const gfi_colsrc *src, bool dec, int64_t row, uint8_t *tmp,
                                int64_t *len) {
  int b = gfi_batch_of(src->offs, src->nb, row);
  const gf_array *arr = src->arrs[b];
  const uint8_t *p = gfi_value_bytes(arr, row - src->offs[b], len);
  if (!dec) return p;
  int w = gfi_type_byte_width(arr->type);
  gfi_dec_order_bytes(p, w, tmp);
  *len = w;
  return tmp;
}

/* Orders the heads of cursors p and q like gfi_row_cmp orders their rows. */
static int head_cmp(const ext *x, const cursor *p, const cursor *q) {
  int64_t rp = p->row[p->pos], rq = q->row[q->pos];
  for (int k = 0; k < x->nk; k++) {
    if (x->kinds[k] == GFI_SK_ALLNULL) continue;
    bool np = p->valid[k] && !gfi_bit_get(p->valid[k], p->voff[k] + p->pos);
    bool nq = q->valid[k] && !gfi_bit_get(q->valid[k], q->voff[k] + q->pos);
    if (np || nq) {
      if (np && nq) continue;
      return np == x->keys[k].nulls_first ? -1 : 1;
    }
    uint64_t ep = p->enc[k][p->pos], eq = q->enc[k][q->pos];
    if (x->kinds[k] == GFI_SK_FIXED) {
      if (ep != eq) return ep < eq ? -1 : 1;
      continue;
    }
    int c;
    if (ep != eq) {
      c = ep < eq ? -1 : 1;
    } else {
      uint8_t tp[32], tq[32];
      int64_t lp = 0, lq = 0;
      const uint8_t *bp = key_bytes(&x->kc->src[k], x->decs[k], rp, tp, &lp);
      const uint8_t *bq = key_bytes(&x->kc->src[k], x->decs[k], rq, tq, &lq);
      c = gfi_bytes_cmp(bp, lp, bq, lq);
    }
    if (c) return x->keys[k].descending ? -c : c;
  }
  return (rp > rq) - (rp < rq);
}

static void heap_down(const ext *x, cursor *cs, int64_t *h, int64_t m, int64_t i) {
  for (;;) {
    int64_t l = 2 * i + 1, r = l + 1, s = i;
    if (l < m && head_cmp(x, &cs[h[l]], &cs[h[s]]) < 0) s = l;
    if (r < m && head_cmp(x, &cs[h[r]], &cs[h[s]]) < 0) s = r;
    if (s == i) return;
    int64_t t = h[i];
    h[i] = h[s];
    h[s] = t;
    i = s;
  }
}

/* Merges rows [from[r], to[r]) of every run r (positions in the run's
 * sorted order; NULL = all its rows): the sorted row numbers go to
 * buf[0..cap); whenever it is full, and at the end, `sink` (when not NULL)
 * receives them and buf is reused. n rows in all. */
static gf_status merge_runs(ext *x, const run *runs, int64_t nr, const int64_t *from,
                            const int64_t *to, int64_t *buf, int64_t cap, gfi_perm_sink sink,
                            void *sink_user, int64_t n, gf_error *err) {
  int nk = x->nk;
  size_t cb = sizeof(cursor) * (size_t)nr;
  size_t pb = sizeof(void *) * (size_t)nr * (size_t)(nk ? nk : 1);
  size_t ob = sizeof(int64_t) * (size_t)nr * (size_t)(nk ? nk : 1);
  size_t hb = sizeof(int64_t) * (size_t)nr;
  cursor *cs = gfi_calloc(x->a, cb);
  const uint64_t **encs = gfi_calloc(x->a, pb);
  const uint8_t **valids = gfi_calloc(x->a, pb);
  int64_t *voffs = gfi_calloc(x->a, ob);
  int64_t *h = gfi_malloc(x->a, hb);
  gf_status st = GF_OK;
  if (!cs || !encs || !valids || !voffs || !h) st = GF_OOM(err, "sort merge cursors");
  int64_t m = 0;
  for (int64_t r = 0; st == GF_OK && r < nr; r++) {
    cursor *c = &cs[r];
    int64_t f0 = from ? from[r] : 0, t0 = to ? to[r] : runs[r].rows;
    /* Every block of a run but its last holds block_rows rows. */
    c->next_block = runs[r].first_block + f0 / x->block_rows;
    c->end_block = runs[r].first_block + runs[r].nblocks;
    c->remain = t0 - f0;
    c->enc = encs + (size_t)r * (size_t)nk;
    c->valid = valids + (size_t)r * (size_t)nk;
    c->voff = voffs + (size_t)r * (size_t)nk;
    if (c->remain <= 0) continue;
    bool ok;
    st = cursor_load(x, c, &ok, err);
    if (st == GF_OK && ok) {
      c->pos = f0 % x->block_rows;
      h[m++] = r;
    }
  }
  if (st == GF_OK)
    for (int64_t i = m / 2; i-- > 0;) heap_down(x, cs, h, m, i);
  int64_t out = 0, used = 0;
  while (st == GF_OK && m > 0) {
    cursor *c = &cs[h[0]];
    if (out >= n) {
      st = gf_error_set(err, GF_EINTERNAL, "external sort: runs hold more than %lld rows",
                        (long long)n);
      break;
    }
    buf[used++] = c->row[c->pos++];
    c->remain--;
    out++;
    if (used == cap && sink) {
      st = sink(sink_user, buf, used, err);
      used = 0;
      if (st != GF_OK) break;
    }
    if (c->remain == 0) {
      h[0] = h[--m];
    } else if (c->pos == c->len) {
      bool ok;
      st = cursor_load(x, c, &ok, err);
      if (st != GF_OK) break;
      if (!ok) h[0] = h[--m];
    }
    if (m > 0) heap_down(x, cs, h, m, 0);
    if ((out & 0xffff) == 0) st = gfi_check_stop(x->o, x->start_ns, NULL, err);
  }
  if (st == GF_OK && out != n)
    st = gf_error_set(err, GF_EINTERNAL, "external sort: runs hold %lld of %lld rows",
                      (long long)out, (long long)n);
  if (st == GF_OK && used > 0 && sink) st = sink(sink_user, buf, used, err);
  if (cs)
    for (int64_t r = 0; r < nr; r++) gf_frame_release(cs[r].blk);
  if (cs) gfi_mfree(x->a, cs, cb);
  if (encs) gfi_mfree(x->a, (void *)encs, pb);
  if (valids) gfi_mfree(x->a, (void *)valids, pb);
  if (voffs) gfi_mfree(x->a, voffs, ob);
  if (h) gfi_mfree(x->a, h, hb);
  return st;
}

/* ---- the merge cut into independent ranges -------------------------------- */

/* A cursor over the first row of block i (the kept heads). */
static void head_view(const ext *x, int64_t i, cursor *c, const uint64_t **enc,
                      const uint8_t **valid, int64_t *voff) {
  memset(c, 0, sizeof *c);
  c->row = &x->hrow[i];
  c->enc = enc;
  c->valid = valid;
  c->voff = voff;
  for (int k = 0; k < x->nk; k++) {
    enc[k] = &x->henc[(size_t)i * (size_t)x->nk + (size_t)k];
    valid[k] = &x->hval[(size_t)i * (size_t)x->nk + (size_t)k]; /* bit 0: valid */
    voff[k] = 0;
  }
}

/* Rows of run r ordered before the head of block s (rows are distinct
 * under the total order, row number last, so "before" is strict). */
static gf_status rank_in_run(ext *x, const run *rn, int64_t s, int64_t *out, gf_error *err) {
  const uint64_t *e1[64], *e2[64];
  const uint8_t *v1[64], *v2[64];
  int64_t o1[64], o2[64];
  cursor sp, hc;
  head_view(x, s, &sp, e1, v1, o1);
  /* The last block of the run whose head is before the splitter. */
  int64_t lo = 0, hi = rn->nblocks; /* blocks [0, lo) are before */
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    head_view(x, rn->first_block + mid, &hc, e2, v2, o2);
    if (head_cmp(x, &hc, &sp) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) {
    *out = 0;
    return GF_OK;
  }
  int64_t b = lo - 1;
  cursor c;
  memset(&c, 0, sizeof c);
  c.enc = e2;
  c.valid = v2;
  c.voff = o2;
  c.next_block = rn->first_block + b;
  c.end_block = c.next_block + 1;
  bool ok;
  GF_RETURN_NOT_OK(cursor_load(x, &c, &ok, err));
  /* First row of the block not before the splitter. */
  int64_t l = 0, h = ok ? c.len : 0;
  while (l < h) {
    c.pos = l + (h - l) / 2;
    if (head_cmp(x, &c, &sp) < 0) l = c.pos + 1;
    else h = c.pos;
  }
  gf_frame_release(c.blk);
  *out = b * x->block_rows + l;
  return GF_OK;
}

typedef struct pmerge_job {
  ext *x;
  const run *runs;
  int64_t nr;
  const int64_t *bounds; /* (segments + 1) * nr positions */
  const int64_t *offs;   /* segments + 1 output offsets */
  int64_t *perm;
} pmerge_job;

static gf_status pmerge_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  pmerge_job *j = user;
  int64_t g = ch->chunk_id;
  int64_t m = j->offs[g + 1] - j->offs[g];
  if (m == 0) return GF_OK;
  return merge_runs(j->x, j->runs, j->nr, j->bounds + g * j->nr, j->bounds + (g + 1) * j->nr,
                    j->perm + j->offs[g], m, NULL, NULL, m, ctx->err);
}

/* The merge in parallel: splitters taken from the block heads (in sorted
 * order, evenly spaced) cut every run at its rank; the ranges between two
 * splitters merge independently into their place in perm. The result is
 * the sequential merge's, whatever the number of ranges. */
static gf_status merge_parallel(ext *x, const run *runs, int64_t nr, int64_t *perm, int64_t n,
                                gf_error *err) {
  int64_t nb = x->nblocks;
  int64_t segs = 2 * (int64_t)gf_effective_workers(x->o);
  if (segs > nb) segs = nb;
  size_t ob = sizeof(int64_t) * (size_t)nb;
  size_t bb = sizeof(int64_t) * (size_t)(segs + 1) * (size_t)nr;
  size_t fb = sizeof(int64_t) * (size_t)(segs + 1);
  int64_t *order = gfi_malloc(x->a, ob), *bounds = gfi_malloc(x->a, bb);
  int64_t *offs = gfi_malloc(x->a, fb);
  gf_chunk_spec *specs = gfi_malloc(x->a, sizeof *specs * (size_t)segs);
  gf_status st = order && bounds && offs && specs ? GF_OK : GF_OOM(err, "parallel merge");
  int64_t *tmp = st == GF_OK ? gfi_malloc(x->a, ob) : NULL;
  if (st == GF_OK && !tmp) st = GF_OOM(err, "parallel merge");
  if (st == GF_OK) {
    /* Block heads in sorted order (bottom-up merge sort). */
    const uint64_t *e1[64], *e2[64];
    const uint8_t *v1[64], *v2[64];
    int64_t o1[64], o2[64];
    cursor a1, a2;
    for (int64_t i = 0; i < nb; i++) order[i] = i;
    for (int64_t w = 1; w < nb; w *= 2) {
      for (int64_t lo = 0; lo < nb; lo += 2 * w) {
        int64_t mid = lo + w < nb ? lo + w : nb, hi = lo + 2 * w < nb ? lo + 2 * w : nb;
        int64_t i = lo, k = mid, t = lo;
        while (i < mid && k < hi) {
          head_view(x, order[i], &a1, e1, v1, o1);
          head_view(x, order[k], &a2, e2, v2, o2);
          tmp[t++] = head_cmp(x, &a2, &a1) < 0 ? order[k++] : order[i++];
        }
        while (i < mid) tmp[t++] = order[i++];
        while (k < hi) tmp[t++] = order[k++];
      }
      memcpy(order, tmp, ob);
    }
    for (int64_t r = 0; r < nr; r++) {
      bounds[r] = 0;
      bounds[segs * nr + r] = runs[r].rows;
    }
  }
  for (int64_t g = 1; st == GF_OK && g < segs; g++) {
    int64_t s = order[g * nb / segs];
    for (int64_t r = 0; st == GF_OK && r < nr; r++)
      st = rank_in_run(x, &runs[r], s, &bounds[g * nr + r], err);
  }
  if (st == GF_OK) {
    for (int64_t g = 0; g <= segs; g++) {
      offs[g] = 0;
      for (int64_t r = 0; r < nr; r++) offs[g] += bounds[g * nr + r];
    }
    if (offs[segs] != n)
      st = gf_error_set(err, GF_EINTERNAL, "external sort: runs hold %lld of %lld rows",
                        (long long)offs[segs], (long long)n);
    for (int64_t g = 0; g < segs; g++) specs[g] = (gf_chunk_spec){offs[g], offs[g + 1], g};
  }
  if (st == GF_OK) {
    pmerge_job j = {x, runs, nr, bounds, offs, perm};
    gf_parallel_options po = *x->o;
    po.min_parallel_rows = 0;
    st = gf_run_chunks(specs, segs, pmerge_kernel, &j, &po, err);
  }
  if (order) gfi_mfree(x->a, order, ob);
  if (tmp) gfi_mfree(x->a, tmp, ob);
  if (bounds) gfi_mfree(x->a, bounds, bb);
  if (offs) gfi_mfree(x->a, offs, fb);
  if (specs) gfi_mfree(x->a, specs, sizeof *specs * (size_t)segs);
  return st;
}

/* Rows per run and per block under the memory limit: half of what the
 * limit leaves goes to sorting a run, the other half to the merge's k
 * blocks (each about three times its rows' bytes while read back: the
 * file bytes, the reader's copy, the arrays). */
static void plan_sizes(ext *x, int64_t n, int shrink, int64_t *run_rows) {
  int64_t tr = atomic_load(&test_run_rows), tb = atomic_load(&test_block_rows);
  if (tr > 0) {
    *run_rows = tr;
    x->block_rows = tb > 0 ? tb : DEFAULT_BLOCK_ROWS;
    return;
  }
  int64_t lim = gfi_memory_limit(x->o);
  int64_t free_bytes = lim - call_current(x->o);
  free_bytes -= free_bytes / 5;
  if (free_bytes < 0) free_bytes = 0;
  free_bytes >>= 2 * shrink;
  int64_t r = free_bytes / 2 / work_per_row(x->kc, true);
  if (r < MIN_RUN_ROWS) r = MIN_RUN_ROWS;
  if (r > n) r = n;
  *run_rows = r;
  int64_t nr = (n + r - 1) / r;
  int64_t row_bytes = 3 * 8 * (int64_t)(x->nk + 1);
  int64_t b = free_bytes / 2 / (nr * row_bytes);
  if (b > DEFAULT_BLOCK_ROWS) b = DEFAULT_BLOCK_ROWS;
  if (b < 256) b = 256;
  x->block_rows = b;
}

gf_status gfi_sort_external(const gf_frame *f, const gfi_keycols *kc, const gf_sort_key *keys,
                            const gf_parallel_options *o, int shrink, int64_t *perm,
                            int64_t cap, gfi_perm_sink sink, void *sink_user, gf_error *err) {
  int nk = kc->nkeys;
  if (nk > 64)
    return gf_error_set(err, GF_ENOTSUP,
                        "sort: %d keys; a sort that spills takes at most 64 keys", nk);
  ext x;
  memset(&x, 0, sizeof x);
  x.f = f;
  x.kc = kc;
  x.keys = keys;
  x.o = o;
  x.a = gfi_alloc_or_default(o->allocator);
  x.nk = nk;
  x.start_ns = gfi_now_ns();
  bool decs[64];
  x.decs = decs;
  for (int k = 0; k < nk; k++) x.kinds[k] = key_kind(kc->src[k].type, &decs[k]);
  int64_t n = f->num_rows, rr = 0;
  plan_sizes(&x, n, shrink, &rr);
  int64_t nr = (n + rr - 1) / rr;
  size_t rb = sizeof(run) * (size_t)(nr ? nr : 1);
  run *runs = gfi_calloc(x.a, rb);
  gf_status st = runs ? GF_OK : GF_OOM(err, "sort runs");
  if (st == GF_OK) st = gfi_spill_space_new(o, &x.space, err);
  if (st == GF_OK) st = gfi_spill_file_open(x.space, &x.file, err);
  for (int64_t r = 0; st == GF_OK && r < nr; r++) {
    int64_t s = r * rr;
    st = gfi_check_stop(o, x.start_ns, NULL, err);
    if (st == GF_OK) st = write_run(&x, s, s + rr < n ? rr : n - s, &runs[r], err);
  }
  if (st == GF_OK && !sink && gf_effective_workers(o) > 1 && x.nblocks > 1)
    st = merge_parallel(&x, runs, nr, perm, n, err);
  else if (st == GF_OK)
    st = merge_runs(&x, runs, nr, NULL, NULL, perm, sink ? cap : n, sink, sink_user, n, err);
  gfi_spill_file_close(x.file);
  gfi_spill_space_free(x.space);
  free_blocks(&x);
  if (runs) gfi_mfree(x.a, runs, rb);
  return st;
}
