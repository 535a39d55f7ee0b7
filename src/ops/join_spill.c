/*
 * Grace join: gf_join under a memory limit its hash table does not fit
 * (docs/SPILLING.md).
 *
 * Both sides' rows go to partition hash(keys) % P under the key policy, so
 * rows that can match meet in one partition. Per partition, the key
 * columns of its left and right rows (in row order, with their input row
 * numbers as one more column) are joined in memory; the row numbers in its
 * output are that partition's (left row, right row) pairs, already in the
 * join's documented order restricted to those rows: pairs with a left row
 * by left row, each left row's matches by right row, then right rows
 * without a match. The partitions' pair lists, spilled to a nameless
 * temporary file as Arrow IPC, are merged back in that order, and the
 * output is gathered from the inputs by the in-memory join's own code: the
 * output is the in-memory one bit for bit, for every join kind.
 */
#include <stdatomic.h>
#include <string.h>

#include "data/builder_internal.h"
#include "exec/exec_internal.h"
#include "io/ipc_spill.h"
#include "ops/sort_join_internal.h"

#define MAX_PARTS 256
#define LROW "__gf_spill_lrow"
#define RROW "__gf_spill_rrow"

static atomic_int test_parts;

void gfi_join_test_spill(int partitions) {
  atomic_store(&test_parts, partitions > MAX_PARTS ? MAX_PARTS : partitions);
}
int gfi_join_test_spill_parts(void) { return atomic_load(&test_parts); }

/* The value type a key compares as (a dictionary as its values). */
static gf_datatype value_type(gf_datatype t) {
  if (t.id == GF_TYPE_DICTIONARY) t.id = t.value_id;
  return t;
}

bool gfi_join_spill_eligible(const gf_frame *left, const gf_frame *right,
                             const char *const *left_on, const char *const *right_on, int nkeys) {
  if (gf_schema_find(left->schema, LROW) >= 0 || gf_schema_find(right->schema, RROW) >= 0)
    return false;
  for (int k = 0; k < nkeys; k++) {
    if (!left_on[k] || !right_on[k]) return false;
    int lc = gf_schema_find(left->schema, left_on[k]), rc = gf_schema_find(right->schema, right_on[k]);
    if (lc < 0 || rc < 0) return false;
    gf_datatype lt = value_type(left->schema->fields[lc].type);
    gf_datatype rt = value_type(right->schema->fields[rc].type);
    /* Large and plain strings hash alike; other types must be the same. */
    bool bytes = gfi_key_is_bytes(lt) && gfi_key_is_bytes(rt) &&
                 lt.id != GF_TYPE_FIXED_SIZE_BINARY && rt.id != GF_TYPE_FIXED_SIZE_BINARY;
    if (!bytes && (lt.id != rt.id || lt.scale != rt.scale || lt.byte_width != rt.byte_width))
      return false;
  }
  return true;
}

typedef struct part_job {
  const gf_frame *f;
  int cols[64];
  int nkeys;
  int P;
  uint8_t *part;
} part_job;

/* Partition of every row of one side from its keys' policy hashes. */
static gf_status part_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  (void)ctx;
  part_job *j = user;
  const gf_frame *f = j->f;
  for (int64_t r = ch->start_row; r < ch->end_row;) {
    int b = gfi_batch_of(f->batch_offsets, f->num_batches, r);
    int64_t bend = f->batch_offsets[b + 1] < ch->end_row ? f->batch_offsets[b + 1] : ch->end_row;
    for (; r < bend; r++) {
      int64_t i = r - f->batch_offsets[b];
      uint64_t h = UINT64_C(0x243F6A8885A308D3);
      for (int k = 0; k < j->nkeys; k++) {
        const gf_array *arr = f->columns[(size_t)b * (size_t)f->schema->n + (size_t)j->cols[k]];
        uint64_t x = gfi_key_is_null(arr, i) ? UINT64_C(0x9E3779B97F4A7C15) : gfi_key_hash(arr, i);
        h = gfi_mix64(h * UINT64_C(31) + x);
      }
      j->part[r] = (uint8_t)((h >> 32) % (uint64_t)j->P);
    }
  }
  return GF_OK;
}

/* Partition ids of one side's rows. */
static gf_status partition_side(const gf_frame *f, const char *const *on, int nkeys, int P,
                                const gf_parallel_options *o, uint8_t **out, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  size_t n = (size_t)(f->num_rows ? f->num_rows : 1);
  part_job j;
  memset(&j, 0, sizeof j);
  j.f = f;
  j.nkeys = nkeys;
  j.P = P;
  for (int k = 0; k < nkeys; k++) j.cols[k] = gf_schema_find(f->schema, on[k]);
  j.part = gfi_malloc(a, n);
  if (!j.part) return GF_OOM(err, "join partitions");
  gf_status st = f->num_rows ? gf_parallel_for(f->num_rows, 16, false, part_kernel, &j, o, err) : GF_OK;
  if (st != GF_OK) {
    gfi_mfree(a, j.part, n);
    return st;
  }
  *out = j.part;
  return GF_OK;
}

/* The key columns of rows rows[0..m) of f (ascending) plus their row
 * numbers as column `rowname`: one batch. */
static gf_status side_frame(const gf_frame *f, const char *const *on, int nkeys,
                            const int64_t *rows, int64_t m, const char *rowname,
                            const gf_allocator *a, gf_frame **out, gf_error *err) {
  gf_array *cols[65];
  const char *names[65];
  int nc = 0;
  memset(cols, 0, sizeof cols);
  gf_status st = GF_OK;
  for (int k = 0; k < nkeys && st == GF_OK; k++) {
    int c = gf_schema_find(f->schema, on[k]);
    bool dup = false;
    for (int q = 0; q < k; q++) dup = dup || strcmp(on[q], on[k]) == 0;
    if (dup) continue;
    st = gfi_take_ascending(f, c, rows, m, a, &cols[nc], err);
    names[nc++] = on[k];
  }
  if (st == GF_OK) {
    gf_buffer *bufs[3] = {NULL, NULL, NULL};
    if (gfi_buffer_alloc(a, sizeof(int64_t) * (size_t)(m ? m : 1), &bufs[1]) != GF_OK) {
      st = GF_OOM(err, "join partition rows");
    } else {
      if (m) memcpy(gf_buffer_mutable_data(bufs[1]), rows, sizeof(int64_t) * (size_t)m);
      st = gfi_array_make(a, gf_type(GF_TYPE_INT64), m, 0, 0, bufs, NULL, &cols[nc], err);
    }
    names[nc++] = rowname;
  }
  if (st == GF_OK) st = gf_frame_from_columns(names, cols, nc, out, err);
  for (int i = 0; i < nc; i++) gf_array_release(cols[i]);
  return st;
}

/* Rows of one side in partition p, ascending. */
static gf_status rows_of(const uint8_t *part, int64_t n, int p, const gf_allocator *a,
                         int64_t **rows, int64_t *m, gf_error *err) {
  int64_t c = 0;
  for (int64_t r = 0; r < n; r++) c += part[r] == p;
  *rows = gfi_malloc(a, sizeof **rows * (size_t)(c ? c : 1));
  if (!*rows) return GF_OOM(err, "join partition rows");
  for (int64_t r = 0, k = 0; r < n; r++)
    if (part[r] == p) (*rows)[k++] = r;
  *m = c;
  return GF_OK;
}

/* One partition's pairs: a spilled block of two int64 columns (l, r), or
 * one (l) for semi/anti joins. */
typedef struct part_pairs {
  gfi_spill_block block;
  int64_t count;
} part_pairs;

/* Joins partition p and spills its pairs. */
static gf_status join_part(const gf_frame *left, const gf_frame *right, const uint8_t *lp,
                           const uint8_t *rp, int p, const char *const *left_on,
                           const char *const *right_on, int nkeys, gf_join_kind how,
                           const gf_parallel_options *o, gfi_spill_file *file, part_pairs *pp,
                           gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  int64_t *lr = NULL, *rr = NULL, lm = 0, rm = 0;
  gf_frame *ls = NULL, *rs = NULL, *jo_out = NULL, *pairs = NULL;
  gf_status st = rows_of(lp, left->num_rows, p, a, &lr, &lm, err);
  if (st == GF_OK) st = rows_of(rp, right->num_rows, p, a, &rr, &rm, err);
  if (st == GF_OK) st = side_frame(left, left_on, nkeys, lr, lm, LROW, a, &ls, err);
  if (st == GF_OK) st = side_frame(right, right_on, nkeys, rr, rm, RROW, a, &rs, err);
  if (lr) gfi_mfree(a, lr, sizeof *lr * (size_t)(lm ? lm : 1));
  if (rr) gfi_mfree(a, rr, sizeof *rr * (size_t)(rm ? rm : 1));
  if (st == GF_OK) {
    gf_join_options jo;
    gf_join_options_init(&jo);
    gf_parallel_options po = *o;
    po.stats = NULL;
    jo.parallel = &po;
    st = gfi_join_mem(ls, rs, left_on, right_on, nkeys, how, &jo, NULL, NULL, &jo_out, err);
  }
  gf_frame_release(ls);
  gf_frame_release(rs);
  bool with_right = how != GF_JOIN_SEMI && how != GF_JOIN_ANTI;
  if (st == GF_OK) {
    /* Just the row columns, nulls as -1, in one batch. */
    int lc = gf_schema_find(jo_out->schema, LROW);
    int rc = with_right ? gf_schema_find(jo_out->schema, RROW) : -1;
    int64_t cnt = jo_out->num_rows;
    gf_array *cols[2] = {NULL, NULL};
    const char *names[2] = {"l", "r"};
    int nc = with_right ? 2 : 1;
    for (int c = 0; c < nc && st == GF_OK; c++) {
      int src = c == 0 ? lc : rc;
      gf_buffer *bufs[3] = {NULL, NULL, NULL};
      if (src < 0) {
        st = gf_error_set(err, GF_EINTERNAL, "grace join: no row column in a partition output");
        break;
      }
      if (gfi_buffer_alloc(a, sizeof(int64_t) * (size_t)(cnt ? cnt : 1), &bufs[1]) != GF_OK) {
        st = GF_OOM(err, "join partition pairs");
        break;
      }
      int64_t *d = gf_buffer_mutable_data(bufs[1]);
      for (int b = 0; b < jo_out->num_batches; b++) {
        const gf_array *arr = gf_frame_column(jo_out, b, src);
        int64_t off = jo_out->batch_offsets[b];
        for (int64_t i = 0; i < arr->length; i++)
          d[off + i] = gf_array_is_null(arr, i) ? -1 : gf_array_get_int64(arr, i);
      }
      st = gfi_array_make(a, gf_type(GF_TYPE_INT64), cnt, 0, 0, bufs, NULL, &cols[c], err);
    }
    if (st == GF_OK) st = gf_frame_from_columns(names, cols, nc, &pairs, err);
    for (int c = 0; c < nc; c++) gf_array_release(cols[c]);
    pp->count = cnt;
  }
  gf_frame_release(jo_out);
  if (st == GF_OK) st = gfi_spill_write_frame(file, pairs, o, &pp->block, err);
  gf_frame_release(pairs);
  return st;
}

/* Order of pairs in the output: by left row (none last), then right row. */
static inline int pair_cmp(int64_t l1, int64_t r1, int64_t l2, int64_t r2) {
  uint64_t a = (uint64_t)l1, b = (uint64_t)l2; /* -1 becomes the largest */
  if (a != b) return a < b ? -1 : 1;
  return (r1 > r2) - (r1 < r2);
}

/* Merges the partitions' pairs (each in output order) into `out`. */
static gf_status merge_pairs(gfi_spill_file *file, const part_pairs *pp, int P, bool with_right,
                             const gf_parallel_options *o, gfi_join_pairs *out, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  int64_t total = 0;
  for (int p = 0; p < P; p++) total += pp[p].count;
  size_t rb = sizeof(int64_t) * (size_t)(total ? total : 1);
  out->l = gfi_malloc(a, rb);
  out->r = with_right ? gfi_malloc(a, rb) : NULL;
  out->count = total;
  gf_frame *fr[MAX_PARTS];
  const int64_t *pl[MAX_PARTS], *pr[MAX_PARTS];
  int64_t pos[MAX_PARTS];
  memset(fr, 0, sizeof fr);
  gf_status st = out->l && (out->r || !with_right) ? GF_OK : GF_OOM(err, "join pairs");
  for (int p = 0; p < P && st == GF_OK; p++) {
    pos[p] = 0;
    pl[p] = pr[p] = NULL;
    if (pp[p].count == 0) continue;
    st = gfi_spill_read_frame(file, &pp[p].block, o, &fr[p], err);
    if (st != GF_OK) break;
    if (gf_frame_num_batches(fr[p]) != 1 || gf_frame_num_rows(fr[p]) != pp[p].count) {
      st = gf_error_set(err, GF_EIO, "grace join: a spilled block read back is not the one written");
      break;
    }
    const gf_array *x = gf_frame_column(fr[p], 0, 0);
    pl[p] = (const int64_t *)gfi_buf(x, 1) + x->offset;
    if (with_right) {
      const gf_array *y = gf_frame_column(fr[p], 0, 1);
      pr[p] = (const int64_t *)gfi_buf(y, 1) + y->offset;
    }
  }
  for (int64_t k = 0; st == GF_OK && k < total; k++) {
    int best = -1;
    for (int p = 0; p < P; p++) {
      if (pos[p] >= pp[p].count) continue;
      if (best < 0 || pair_cmp(pl[p][pos[p]], pr[p] ? pr[p][pos[p]] : 0, pl[best][pos[best]],
                               pr[best] ? pr[best][pos[best]] : 0) < 0)
        best = p;
    }
    out->l[k] = pl[best][pos[best]];
    if (with_right) out->r[k] = pr[best][pos[best]];
    pos[best]++;
    if ((k & 0xFFFF) == 0xFFFF) st = gfi_check_stop(o, 0, NULL, err);
  }
  for (int p = 0; p < P; p++) gf_frame_release(fr[p]);
  if (st != GF_OK) {
    if (out->l) gfi_mfree(a, out->l, rb);
    if (out->r) gfi_mfree(a, out->r, rb);
    out->l = out->r = NULL;
  }
  return st;
}

gf_status gfi_join_spilled(const gf_frame *left, const gf_frame *right,
                           const char *const *left_on, const char *const *right_on, int nkeys,
                           gf_join_kind how, const gf_join_options *opts, gf_frame **out,
                           gf_error *err) {
  gf_join_options jo;
  gf_join_options_init(&jo);
  if (opts) memcpy(&jo, opts, opts->size && opts->size < sizeof jo ? opts->size : sizeof jo);
  gfi_ctx call;
  gf_parallel_options o;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, jo.parallel, &o, err));
  const gf_allocator *a = gfi_alloc_or_default(o.allocator);
  /* Partitions: one holds about a quarter of what the limit leaves at ~64
   * bytes of join state a row (keys, hash table, pairs; MemoryBound: of
   * what it leaves now, exec/planners.c), or the test's. */
  int P = gfi_join_test_spill_parts();
  if (P <= 0) P = gfi_plan_spill_partitions(left->num_rows + right->num_rows, 64, &o, MAX_PARTS);
  bool with_right = how != GF_JOIN_SEMI && how != GF_JOIN_ANTI;
  uint8_t *lp = NULL, *rp = NULL;
  part_pairs *pp = gfi_calloc(a, sizeof *pp * (size_t)P);
  gfi_spill_space *space = NULL;
  gfi_spill_file *file = NULL;
  gf_status st = pp ? GF_OK : GF_OOM(err, "join partitions");
  if (st == GF_OK) st = partition_side(left, left_on, nkeys, P, &o, &lp, err);
  if (st == GF_OK) st = partition_side(right, right_on, nkeys, P, &o, &rp, err);
  if (st == GF_OK) st = gfi_spill_space_new(&o, &space, err);
  if (st == GF_OK) st = gfi_spill_file_open(space, &file, err);
  for (int p = 0; st == GF_OK && p < P; p++) {
    st = gfi_check_stop(&o, 0, NULL, err);
    if (st == GF_OK)
      st = join_part(left, right, lp, rp, p, left_on, right_on, nkeys, how, &o, file, &pp[p], err);
  }
  if (lp) gfi_mfree(a, lp, (size_t)(left->num_rows ? left->num_rows : 1));
  if (rp) gfi_mfree(a, rp, (size_t)(right->num_rows ? right->num_rows : 1));
  gfi_join_pairs pairs = {NULL, NULL, 0};
  if (st == GF_OK) st = merge_pairs(file, pp, P, with_right, &o, &pairs, err);
  gfi_spill_file_close(file);
  gfi_spill_space_free(space);
  if (pp) gfi_mfree(a, pp, sizeof *pp * (size_t)P);
  if (st == GF_OK) {
    gf_join_options sub = jo;
    sub.parallel = &o;
    st = gfi_join_mem(left, right, left_on, right_on, nkeys, how, &sub, &pairs, NULL, out, err);
  }
  size_t rb = sizeof(int64_t) * (size_t)(pairs.count ? pairs.count : 1);
  if (pairs.l) gfi_mfree(a, pairs.l, rb);
  if (pairs.r) gfi_mfree(a, pairs.r, rb);
  return gfi_ctx_end(&call, st, err);
}
