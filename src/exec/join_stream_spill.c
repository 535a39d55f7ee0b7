/*
 * Streamed grace join: both inputs of a streamed join partitioned by key
 * hash into a spill file as they stream, then joined partition by
 * partition and merged back into gf_join's order (join_stream.h,
 * docs/SPILLING.md, "Streamed joins").
 *
 * Every row goes to partition hash(keys) % P under the key policy (the
 * hash of join_spill.c: rows that can match meet in one partition) with
 * its absolute position on its side as one more column. A partition's
 * left and right rows, read back in position order, are joined by the
 * in-memory gf_join code (gfi_join_mem); its output is gf_join's order
 * restricted to those rows: rows with a left row by left position, then
 * right rows without a match by right position. The partition outputs are
 * spilled in blocks and merged k-way on (left position, else 2^62 + right
 * position), which is gf_join's order over the whole input; each merged
 * batch is gathered from the blocks it touches. Values are the in-memory
 * join's; dictionary columns come out with dictionaries unified across
 * blocks (same values, possibly other codes).
 */
#include <stdatomic.h>
#include <string.h>

#include "core/hash.h"
#include "data/array_internal.h"
#include "exec/exec_internal.h"
#include "exec/join_stream.h"
#include "exec/spill_file.h"
#include "io/ipc_spill.h"
#include "ops/key_policy.h"
#include "ops/sort_join_internal.h"

#define POS_L "__gf_jstream_lpos"
#define POS_R "__gf_jstream_rpos"
/* Rows per merged output batch, and per spilled block of a partition's
 * output: the merge holds one block per partition (and the blocks a
 * batch touched), so blocks are small. */
#define MERGE_ROWS 65536
#define OUT_BLOCK_ROWS 8192
#define UNMATCHED_BASE ((int64_t)1 << 62)

typedef struct blocks {
  gfi_spill_block *b;
  int n, cap;
} blocks;

struct gfi_join_spill {
  const gf_allocator *a;
  gf_parallel_options o;
  gfi_spill_space *space;
  gfi_spill_file *file;
  int P;
  blocks *in[2]; /* per partition, per side */
  blocks *outb;  /* per partition: output blocks */
  gf_schema *xschema[2]; /* the sides with their position column */
  int keycol[2][64];
  int nkeys;
  const char *const *on[2];
  gf_join_kind how;
  const char *suffix;
  int64_t rows[2];
};

static void blocks_free(const gf_allocator *a, blocks *bl) {
  if (bl->b) gfi_mfree(a, bl->b, sizeof *bl->b * (size_t)bl->cap);
  bl->b = NULL;
  bl->n = bl->cap = 0;
}

static gf_status blocks_add(const gf_allocator *a, blocks *bl, const gfi_spill_block *b,
                            gf_error *err) {
  if (bl->n == bl->cap) {
    int nc = bl->cap ? bl->cap * 2 : 8;
    gfi_spill_block *nb = gfi_malloc(a, sizeof *nb * (size_t)nc);
    if (!nb) return GF_OOM(err, "streamed join spill blocks");
    if (bl->n) memcpy(nb, bl->b, sizeof *nb * (size_t)bl->n);
    if (bl->b) gfi_mfree(a, bl->b, sizeof *bl->b * (size_t)bl->cap);
    bl->b = nb;
    bl->cap = nc;
  }
  bl->b[bl->n++] = *b;
  return GF_OK;
}

void gfi_join_spill_free(gfi_join_spill *j) {
  if (!j) return;
  for (int s = 0; s < 2; s++) {
    for (int p = 0; j->in[s] && p < j->P; p++) blocks_free(j->a, &j->in[s][p]);
    if (j->in[s]) gfi_mfree(j->a, j->in[s], sizeof *j->in[s] * (size_t)j->P);
    gf_schema_release(j->xschema[s]);
  }
  for (int p = 0; j->outb && p < j->P; p++) blocks_free(j->a, &j->outb[p]);
  if (j->outb) gfi_mfree(j->a, j->outb, sizeof *j->outb * (size_t)j->P);
  gfi_spill_file_close(j->file);
  gfi_spill_space_free(j->space);
  gfi_mfree(j->a, j, sizeof *j);
}

/* `s` with an int64 position column `name` appended. */
static gf_status with_pos(const gf_schema *s, const char *name, gf_schema **out, gf_error *err) {
  int n = gf_schema_num_fields(s);
  gf_field f[257];
  if (n > 256) return gf_error_set(err, GF_ENOTSUP, "streamed join: more than 256 columns");
  for (int c = 0; c < n; c++) f[c] = *gf_schema_field(s, c);
  f[n] = (gf_field){name, gf_type(GF_TYPE_INT64), true};
  return gf_schema_new(f, n + 1, out, err);
}

gf_status gfi_join_spill_new(const gf_schema *left, const gf_schema *right,
                             const char *const *left_on, const char *const *right_on, int nkeys,
                             gf_join_kind how, const char *suffix, int parts,
                             const gf_parallel_options *lo, gfi_join_spill **out, gf_error *err) {
  if (nkeys < 1 || nkeys > 64 || parts < 1 || parts > 256)
    return gf_error_set(err, GF_EINVAL, "streamed join: bad keys or partition count");
  if (gf_schema_find(left, POS_L) >= 0 || gf_schema_find(right, POS_R) >= 0)
    return gf_error_set(err, GF_ENOTSUP, "streamed join: a column is named like its positions");
  const gf_allocator *a = gfi_alloc_or_default(lo->allocator);
  gfi_join_spill *j = gfi_calloc(a, sizeof *j);
  if (!j) return GF_OOM(err, "streamed join state");
  j->a = a;
  j->o = *lo;
  j->P = parts;
  j->nkeys = nkeys;
  j->on[0] = left_on;
  j->on[1] = right_on;
  j->how = how;
  j->suffix = suffix;
  gf_status st = GF_OK;
  for (int s = 0; s < 2 && st == GF_OK; s++) {
    j->in[s] = gfi_calloc(a, sizeof *j->in[s] * (size_t)parts);
    if (!j->in[s]) st = GF_OOM(err, "streamed join partitions");
  }
  if (st == GF_OK) {
    j->outb = gfi_calloc(a, sizeof *j->outb * (size_t)parts);
    if (!j->outb) st = GF_OOM(err, "streamed join partitions");
  }
  const gf_schema *sch[2] = {left, right};
  for (int s = 0; s < 2 && st == GF_OK; s++)
    for (int k = 0; k < nkeys && st == GF_OK; k++) {
      j->keycol[s][k] = gf_schema_find(sch[s], j->on[s][k]);
      if (j->keycol[s][k] < 0)
        st = gf_error_set(err, GF_EINVAL, "join: no column '%s' on the %s", j->on[s][k],
                          s ? "right" : "left");
    }
  if (st == GF_OK) st = with_pos(left, POS_L, &j->xschema[0], err);
  if (st == GF_OK) st = with_pos(right, POS_R, &j->xschema[1], err);
  if (st == GF_OK) st = gfi_spill_space_new(&j->o, &j->space, err);
  if (st == GF_OK) st = gfi_spill_file_open(j->space, &j->file, err);
  if (st != GF_OK) {
    gfi_join_spill_free(j);
    return st;
  }
  *out = j;
  return GF_OK;
}

gf_status gfi_join_spill_add(gfi_join_spill *j, int side, const gf_frame *batch, gf_error *err) {
  int64_t n = gf_frame_num_rows(batch);
  if (n == 0) return GF_OK;
  const gf_allocator *a = j->a;
  size_t nb8 = sizeof(int64_t) * (size_t)n;
  uint8_t *part = gfi_malloc(a, (size_t)n);
  int64_t *idx = gfi_malloc(a, nb8);
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  gf_array *posa = NULL;
  gf_frame *posf = NULL;
  gfi_take_col *tc = NULL;
  int nc = gf_schema_num_fields(batch->schema);
  gf_status st = GF_OK;
  if (!part || !idx) st = GF_OOM(err, "streamed join partition ids");
  /* Partition of every row: join_spill.c's hash of the keys. */
  for (int64_t r = 0; st == GF_OK && r < n; r++) {
    int b = gfi_batch_of(batch->batch_offsets, batch->num_batches, r);
    int64_t i = r - batch->batch_offsets[b];
    uint64_t h = UINT64_C(0x243F6A8885A308D3);
    for (int k = 0; k < j->nkeys; k++) {
      const gf_array *arr =
          batch->columns[(size_t)b * (size_t)batch->schema->n + (size_t)j->keycol[side][k]];
      uint64_t x = gfi_key_is_null(arr, i) ? UINT64_C(0x9E3779B97F4A7C15) : gfi_key_hash(arr, i);
      h = gfi_mix64(h * UINT64_C(31) + x);
    }
    part[r] = (uint8_t)((h >> 32) % (uint64_t)j->P);
  }
  /* The rows' absolute positions on this side. */
  if (st == GF_OK && gfi_buffer_alloc(a, nb8, &bufs[1]) != GF_OK) st = GF_OOM(err, "positions");
  if (st == GF_OK) {
    int64_t *pv = (int64_t *)gf_buffer_mutable_data(bufs[1]);
    for (int64_t r = 0; r < n; r++) pv[r] = j->rows[side] + r;
    st = gfi_array_make(a, gf_type(GF_TYPE_INT64), n, 0, 0, bufs, NULL, &posa, err);
    const char *pn = side ? POS_R : POS_L;
    if (st == GF_OK) st = gf_frame_from_columns(&pn, &posa, 1, &posf, err);
  }
  if (st == GF_OK) {
    tc = gfi_malloc(a, sizeof *tc * (size_t)(nc + 1));
    if (!tc) st = GF_OOM(err, "streamed join columns");
  }
  for (int p = 0; st == GF_OK && p < j->P; p++) {
    int64_t m = 0;
    for (int64_t r = 0; r < n; r++)
      if (part[r] == p) idx[m++] = r;
    if (m == 0) continue;
    for (int c = 0; c < nc; c++)
      tc[c] = (gfi_take_col){batch, c, idx, batch->schema->fields[c].name,
                             batch->schema->fields[c].nullable, true};
    tc[nc] = (gfi_take_col){posf, 0, idx, side ? POS_R : POS_L, true, true};
    gf_frame *pf = NULL;
    st = gfi_take_frame(tc, nc + 1, m, &j->o, &pf, err);
    gfi_spill_block blk;
    if (st == GF_OK) st = gfi_spill_write_frame(j->file, pf, &j->o, &blk, err);
    gf_frame_release(pf);
    if (st == GF_OK) st = blocks_add(a, &j->in[side][p], &blk, err);
  }
  if (st == GF_OK) j->rows[side] += n;
  if (part) gfi_mfree(a, part, (size_t)n);
  if (idx) gfi_mfree(a, idx, nb8);
  if (tc) gfi_mfree(a, tc, sizeof *tc * (size_t)(nc + 1));
  gf_array_release(posa);
  gf_frame_release(posf);
  return st;
}

/* The frame of blocks bl (an empty frame of schema s when there are none). */
static gf_status read_blocks(gfi_join_spill *j, const blocks *bl, gf_schema *s, gf_frame **out,
                             gf_error *err) {
  if (bl->n == 0) return gf_frame_new(s, NULL, 0, j->a, out, err);
  gf_frame **fs = gfi_calloc(j->a, sizeof *fs * (size_t)bl->n);
  if (!fs) return GF_OOM(err, "streamed join partition");
  gf_status st = GF_OK;
  for (int i = 0; i < bl->n && st == GF_OK; i++)
    st = gfi_spill_read_frame(j->file, &bl->b[i], &j->o, &fs[i], err);
  if (st == GF_OK) st = gf_frame_concat(fs, bl->n, j->a, out, err);
  for (int i = 0; i < bl->n; i++) gf_frame_release(fs[i]);
  gfi_mfree(j->a, fs, sizeof *fs * (size_t)bl->n);
  return st;
}

/* Joins partition p and spills its output in blocks of OUT_BLOCK_ROWS rows. */
static gf_status join_part(gfi_join_spill *j, int p, gf_schema **oschema, gf_error *err) {
  gf_frame *l = NULL, *r = NULL, *o = NULL;
  gf_status st = read_blocks(j, &j->in[0][p], j->xschema[0], &l, err);
  if (st == GF_OK) st = read_blocks(j, &j->in[1][p], j->xschema[1], &r, err);
  if (st == GF_OK) {
    gf_join_options jo;
    gf_join_options_init(&jo);
    gf_parallel_options po = j->o;
    po.stats = NULL;
    jo.parallel = &po;
    if (j->suffix) jo.suffix = j->suffix;
    st = gfi_join_mem(l, r, j->on[0], j->on[1], j->nkeys, j->how, &jo, NULL, NULL, &o, err);
  }
  gf_frame_release(l);
  gf_frame_release(r);
  if (st == GF_OK && !*oschema) *oschema = gf_schema_retain(o->schema);
  int64_t n = st == GF_OK ? gf_frame_num_rows(o) : 0;
  for (int64_t at = 0; st == GF_OK && at < n; at += OUT_BLOCK_ROWS) {
    gf_frame *s = NULL;
    gfi_spill_block blk;
    st = gf_frame_slice(o, at, n - at < OUT_BLOCK_ROWS ? n - at : OUT_BLOCK_ROWS, &s, err);
    if (st == GF_OK) st = gfi_spill_write_frame(j->file, s, &j->o, &blk, err);
    gf_frame_release(s);
    if (st == GF_OK) st = blocks_add(j->a, &j->outb[p], &blk, err);
  }
  gf_frame_release(o);
  return st;
}

/* One partition's place in the merge: its current output block. */
typedef struct cursor {
  gf_frame *f;    /* current block (one batch), NULL at the end */
  int64_t *key;   /* merge key per row */
  int64_t n, at;  /* rows, next row */
  int next;       /* next block */
  int slot;       /* index of f among the held blocks of the batch */
} cursor;

/* Loads the next output block of partition p into c (c->f NULL at the end). */
static gf_status cursor_load(gfi_join_spill *j, int p, cursor *c, int lc, int rc, gf_error *err) {
  if (c->key) gfi_mfree(j->a, c->key, sizeof *c->key * (size_t)(c->n ? c->n : 1));
  c->key = NULL;
  gf_frame_release(c->f);
  c->f = NULL;
  c->n = c->at = 0;
  c->slot = -1;
  if (c->next >= j->outb[p].n) return GF_OK;
  gf_frame *f = NULL, *one = NULL;
  GF_RETURN_NOT_OK(gfi_spill_read_frame(j->file, &j->outb[p].b[c->next++], &j->o, &f, err));
  gf_status st = f->num_batches == 1 ? GF_OK : gf_frame_combine_batches(f, j->a, &one, err);
  if (one) {
    gf_frame_release(f);
    f = one;
  }
  if (st != GF_OK) {
    gf_frame_release(f);
    return st;
  }
  c->n = gf_frame_num_rows(f);
  c->key = gfi_malloc(j->a, sizeof *c->key * (size_t)(c->n ? c->n : 1));
  if (!c->key) {
    gf_frame_release(f);
    return GF_OOM(err, "streamed join merge keys");
  }
  const gf_array *la = f->columns[lc];
  const gf_array *ra = rc >= 0 ? f->columns[rc] : NULL;
  for (int64_t i = 0; i < c->n; i++)
    c->key[i] = !gf_array_is_null(la, i) ? gf_array_get_int64(la, i)
                                          : UNMATCHED_BASE + gf_array_get_int64(ra, i);
  c->f = f;
  return GF_OK;
}

gf_status gfi_join_spill_run(gfi_join_spill *j, gfi_join_emit emit, void *user, gf_error *err) {
  gf_schema *os = NULL;
  gf_status st = GF_OK;
  for (int p = 0; p < j->P && st == GF_OK; p++) {
    st = join_part(j, p, &os, err);
    if (st == GF_OK) st = gfi_check_stop(&j->o, 0, NULL, err);
  }
  if (st != GF_OK) {
    gf_schema_release(os);
    return st;
  }
  const gf_allocator *a = j->a;
  int lc = gf_schema_find(os, POS_L), rc = gf_schema_find(os, POS_R);
  int nc = gf_schema_num_fields(os);
  cursor *cur = gfi_calloc(a, sizeof *cur * (size_t)j->P);
  gf_frame **held = gfi_calloc(a, sizeof *held * (size_t)(2 * j->P + 2));
  int64_t *base = gfi_calloc(a, sizeof *base * (size_t)(2 * j->P + 2));
  int64_t *idx = gfi_malloc(a, sizeof *idx * MERGE_ROWS);
  gfi_take_col *tc = gfi_malloc(a, sizeof *tc * (size_t)nc);
  if (!cur || !held || !base || !idx || !tc) st = GF_OOM(err, "streamed join merge");
  for (int p = 0; st == GF_OK && p < j->P; p++) st = cursor_load(j, p, &cur[p], lc, rc, err);
  int cap = 2 * j->P + 2; /* > P + MERGE_ROWS / OUT_BLOCK_ROWS */
  while (st == GF_OK) {
    /* One output batch: up to MERGE_ROWS rows by smallest key, gathered
     * from at most `cap` blocks (a cursor whose block ran out while the
     * batch held `cap` moves on here). */
    for (int p = 0; p < j->P && st == GF_OK; p++)
      if (cur[p].f && cur[p].at == cur[p].n) st = cursor_load(j, p, &cur[p], lc, rc, err);
    if (st != GF_OK) break;
    int nh = 0;
    int64_t m = 0, total = 0;
    for (int p = 0; p < j->P; p++)
      if (cur[p].f) {
        held[nh] = gf_frame_retain(cur[p].f);
        base[nh] = total;
        cur[p].slot = nh++;
        total += cur[p].n;
      }
    if (nh == 0) break;
    while (m < MERGE_ROWS && st == GF_OK) {
      int best = -1;
      for (int p = 0; p < j->P; p++)
        if (cur[p].f && (best < 0 || cur[p].key[cur[p].at] < cur[best].key[cur[best].at])) best = p;
      if (best < 0) break;
      cursor *c = &cur[best];
      idx[m++] = base[c->slot] + c->at++;
      if (c->at == c->n) {
        if (nh == cap) break;
        st = cursor_load(j, best, c, lc, rc, err);
        if (st == GF_OK && c->f) {
          held[nh] = gf_frame_retain(c->f);
          base[nh] = total;
          c->slot = nh++;
          total += c->n;
        }
      }
    }
    gf_frame *all = NULL, *ob = NULL;
    if (st == GF_OK && m > 0) st = gf_frame_concat(held, nh, a, &all, err);
    if (st == GF_OK && m > 0) {
      int k = 0;
      for (int c = 0; c < nc; c++) {
        if (c == lc || c == rc) continue;
        tc[k++] = (gfi_take_col){all, c, idx, os->fields[c].name, os->fields[c].nullable, false};
      }
      st = gfi_take_frame(tc, k, m, &j->o, &ob, err);
    }
    gf_frame_release(all);
    for (int h = 0; h < nh; h++) gf_frame_release(held[h]);
    if (st == GF_OK && ob) st = emit(user, ob, err);
    gf_frame_release(ob);
    if (st == GF_OK) st = gfi_check_stop(&j->o, 0, NULL, err);
    if (m == 0) break;
  }
  for (int p = 0; cur && p < j->P; p++) {
    if (cur[p].key) gfi_mfree(a, cur[p].key, sizeof *cur[p].key * (size_t)(cur[p].n ? cur[p].n : 1));
    gf_frame_release(cur[p].f);
  }
  if (cur) gfi_mfree(a, cur, sizeof *cur * (size_t)j->P);
  if (held) gfi_mfree(a, held, sizeof *held * (size_t)(2 * j->P + 2));
  if (base) gfi_mfree(a, base, sizeof *base * (size_t)(2 * j->P + 2));
  if (idx) gfi_mfree(a, idx, sizeof *idx * MERGE_ROWS);
  if (tc) gfi_mfree(a, tc, sizeof *tc * (size_t)nc);
  gf_schema_release(os);
  return st;
}

static atomic_int test_parts;

void gfi_join_stream_test_spill(int parts) {
  atomic_store(&test_parts, parts > 256 ? 256 : parts);
}
int gfi_join_stream_test_spill_parts(void) { return atomic_load(&test_parts); }
