/*
 * The streaming group-by sink's spilled (partitioned) mode; see the
 * comment on struct gbspill below and docs/SPILLING.md.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "exec/sink_groupby_internal.h"

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
  int64_t per = 8 * nk + 8 * g->nraw + 24 + 16;
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

void gfi_gbs_spill_free(gbsink *g) {
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
  uint64_t h = gfi_gbs_key_hash(key, nulls, g->nkeys);
  return (int)((h >> 40) % (uint64_t)g->sp->P);
}

/* Empties the group table (capacity kept) for the next partition. */
static void groups_reset(gbsink *g) {
  g->ng = 0;
  if (g->slots) memset(g->slots, 0xff, sizeof *g->slots * (size_t)g->nslots);
}

/* Switches to partitioned mode: the groups so far go out as partial
 * states, one run per partition; the table is emptied. */
gf_status gfi_gbs_spill_start(gbsink *g, gf_error *err) {
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
gf_status gfi_gbs_spill_rows(gbsink *g, int64_t n, gf_error *err) {
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
gf_status gfi_gbs_room_for(gbsink *g, int64_t n, bool *spill, gf_error *err) {
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
  gf_status st = gfi_gbs_grow_groups(g, g->ng + n, err);
  if (st == GF_ENOMEM && can && lim > 0 && g->ng > 0) {
    *spill = true;
    return GF_OK;
  }
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
      st = gfi_gbs_group_of(g, key, (uint64_t)cols[1][j], raw, cols[0][j], &q, err);
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
      st = gfi_gbs_fold_run(g, sub, n - lo < SUBN ? n - lo : SUBN, err);
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
gf_status gfi_gbs_spill_aggregate(gbsink *g, gf_error *err) {
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
gf_status gfi_gbs_spill_emit(gbsink *g, gfi_sink *next, gf_error *err) {
  gbspill *sp = g->sp;
  const gf_allocator *a = g->a;
  gf_frame *e_out = NULL;
  GF_RETURN_NOT_OK(gfi_gbs_empty_agg(g, &e_out, err));
  bool bp = gfi_gbs_block_path(g, sp->groups);
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
  if (st == GF_OK && g->gcap < 1024) st = gfi_gbs_grow_arrays(g, 1024, err);
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
    st = gfi_gbs_build_agg(g, gf_frame_schema(e_out), g->ng, bp, &agg, err);
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
