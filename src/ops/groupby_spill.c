/*
 * The group-by under a memory limit it cannot meet in one piece
 * (docs/SPILLING.md): partitioned by key hash, aggregated partition by
 * partition, the partial outputs spilled and merged back in
 * first-appearance order.
 *
 * Every row goes to partition hash(keys) % P, so all rows of a group meet
 * in one partition. A partition's rows are taken from the input in row
 * order (with their input row number as an extra column) and grouped by
 * the in-memory group-by, forced onto its partition path, where every group
 * sees its values in row order: the same per-group arithmetic as the
 * in-memory run over the whole input whenever that run takes its partition
 * path too. (With few groups it takes the block path, whose float sums
 * associate per 65,536-row block; a spilled run then refuses float-order
 * aggregates rather than return different bits.) An extra min(row)
 * aggregate gives each group's first input row. The partition outputs go
 * to a temporary file as Arrow IPC, one block per (partition, column);
 * the groups are ordered by first row with a P-way merge, and each output
 * column is rebuilt from its P blocks.
 */
#include <stdatomic.h>
#include <string.h>

#include "data/builder_internal.h"
#include "io/ipc_spill.h"
#include "ops/groupby_internal.h"
#include "ops/sort_join_internal.h"

#define ROW_COL "__gf_spill_row"
#define MAX_PARTS 256
/* Most key and input columns a spilled group-by takes. */
#define GF_MAX_GROUP_COLS 256

static atomic_int test_parts;

void gfi_gb_test_spill(int partitions) {
  atomic_store(&test_parts, partitions > MAX_PARTS ? MAX_PARTS : partitions);
}
int gfi_gb_test_spill_parts(void) { return atomic_load(&test_parts); }

/* True when the result of `kind` over value class `vc` depends on the
 * order its additions are associated in (float sums and moments). */
static bool order_sensitive(gf_agg_kind kind, int vc) {
  switch (kind) {
    case GF_AGG_SUM: return vc == GB_VC_FLOAT;
    case GF_AGG_MEAN: return vc != GB_VC_DEC;
    case GF_AGG_VAR: case GF_AGG_STD: case GF_AGG_CORR: return true;
    default: return false;
  }
}

bool gfi_gb_spill_eligible(const gf_frame *f, int nkeys, const gf_agg_spec *specs, int nspecs,
                           bool sort_keys) {
  if (nkeys < 1 || sort_keys || f->num_rows < 2 || nkeys + 2 * nspecs > GF_MAX_GROUP_COLS)
    return false;
  if (gf_schema_find(f->schema, ROW_COL) >= 0) return false;
  for (int i = 0; i < nspecs; i++)
    if (specs[i].kind == GF_AGG_TOP_K) return false;
  return true;
}

typedef struct part_job {
  const gb_view *v;
  const int *kcols;
  int nkeys;
  int P;
  uint8_t *part;
} part_job;

/* Partition of every row: a hash of its keys under the key policy (nulls
 * one value, dictionaries by value), so equal keys share a partition. */
static gf_status part_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  (void)ctx;
  part_job *j = user;
  const gb_view *v = j->v;
  GB_FOR_PIECES(v, ch->start_row, ch->end_row, {
    for (int64_t i = 0; i < len; i++) {
      uint64_t h = UINT64_C(0x243F6A8885A308D3);
      for (int k = 0; k < j->nkeys; k++) {
        const gf_array *arr = gb_col(v, b, j->kcols[k]);
        uint64_t x = gfi_key_is_null(arr, lo + i) ? UINT64_C(0x9E3779B97F4A7C15)
                                                  : gfi_key_hash(arr, lo + i);
        h = gfi_mix64(h * UINT64_C(31) + x);
      }
      j->part[r0 + i] = (uint8_t)((h >> 32) % (uint64_t)j->P);
    }
  });
  return GF_OK;
}

/* What one partition left: its groups' first rows and one spilled block
 * per output column. */
typedef struct part_out {
  int64_t groups;
  int64_t *first;          /* groups entries, ascending */
  gfi_spill_block *blocks; /* ncols */
} part_out;

typedef struct spill_gb {
  const gf_frame *f;
  const gf_parallel_options *po;
  const gf_allocator *a;
  gfi_spill_space *space;
  gfi_spill_file *file;
  int ncols;         /* output columns (the row column excluded) */
  gf_schema *schema; /* of a partition's output, the row column included */
} spill_gb;

/* Groups the rows rows[0..m) (ascending) of `need` columns of f plus the
 * row column with the in-memory group-by on its partition path. */
static gf_status group_part(spill_gb *s, const int *need, int nneed, const int64_t *rows,
                            int64_t m, const char *const *keys, int nkeys,
                            const gf_agg_spec *specs, int nspecs, const char *const *names,
                            gf_frame **out, gf_error *err) {
  const gf_allocator *a = s->a;
  gf_array *cols[GF_MAX_GROUP_COLS + 1];
  const char *cn[GF_MAX_GROUP_COLS + 1];
  memset(cols, 0, sizeof cols);
  gf_status st = GF_OK;
  for (int i = 0; i < nneed && st == GF_OK; i++) {
    st = gfi_take_ascending(s->f, need[i], rows, m, a, &cols[i], err);
    cn[i] = s->f->schema->fields[need[i]].name;
  }
  if (st == GF_OK) {
    gf_buffer *bufs[3] = {NULL, NULL, NULL};
    if (gfi_buffer_alloc(a, sizeof(int64_t) * (size_t)(m ? m : 1), &bufs[1]) != GF_OK) {
      st = GF_OOM(err, "group-by spill rows");
    } else {
      memcpy(gf_buffer_mutable_data(bufs[1]), rows, sizeof(int64_t) * (size_t)m);
      st = gfi_array_make(a, gf_type(GF_TYPE_INT64), m, 0, 0, bufs, NULL, &cols[nneed], err);
    }
    cn[nneed] = ROW_COL;
  }
  gf_frame *sub = NULL;
  if (st == GF_OK) st = gf_frame_from_columns(cn, cols, nneed + 1, &sub, err);
  for (int i = 0; i <= nneed; i++) gf_array_release(cols[i]);
  if (st != GF_OK) return st;
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  /* The call's options without its statistics, which the nested call
   * would reset. */
  gf_parallel_options po = *s->po;
  po.stats = NULL;
  go.parallel = &po;
  st = gfi_gb_group_by_mem(sub, keys, nkeys, specs, nspecs, names, &go, true, NULL, out, err);
  gf_frame_release(sub);
  return st;
}

/* Spills the output columns of partition output `o` and keeps its first
 * rows. */
static gf_status keep_part(spill_gb *s, gf_frame *o, part_out *p, gf_error *err) {
  int64_t g = gf_frame_num_rows(o);
  p->groups = g;
  p->first = gfi_malloc(s->a, sizeof(int64_t) * (size_t)(g ? g : 1));
  p->blocks = gfi_calloc(s->a, sizeof *p->blocks * (size_t)s->ncols);
  if (!p->first || !p->blocks) return GF_OOM(err, "group-by spill partitions");
  if (gf_frame_num_batches(o) > 1)
    return gf_error_set(err, GF_EINTERNAL, "group-by spill: a partition output of %d batches",
                        gf_frame_num_batches(o));
  if (g > 0) {
    const gf_array *ra = gf_frame_column(o, 0, s->ncols);
    for (int64_t i = 0; i < g; i++) p->first[i] = gf_array_get_int64(ra, i);
  }
  for (int c = 0; c < s->ncols; c++) {
    gf_array *col = g > 0 ? gf_frame_column(o, 0, c) : NULL;
    gf_frame *one = NULL;
    const char *name = s->schema->fields[c].name;
    gf_status st;
    if (col) {
      st = gf_frame_from_columns(&name, &col, 1, &one, err);
    } else {
      p->blocks[c] = (gfi_spill_block){0, 0, 0};
      continue;
    }
    if (st == GF_OK) st = gfi_spill_write_frame(s->file, one, s->po, &p->blocks[c], err);
    gf_frame_release(one);
    GF_RETURN_NOT_OK(st);
  }
  return GF_OK;
}

/* Output column c: its P blocks read back, concatenated and gathered in
 * the merged order (idx over the concatenation). */
static gf_status rebuild_column(spill_gb *s, const part_out *parts, int P, int c,
                                const int64_t *idx, int64_t G, gf_array **out, gf_error *err) {
  gf_frame *fr[MAX_PARTS];
  int nf = 0;
  gf_status st = GF_OK;
  for (int p = 0; p < P && st == GF_OK; p++) {
    if (parts[p].groups == 0) continue;
    st = gfi_spill_read_frame(s->file, &parts[p].blocks[c], s->po, &fr[nf], err);
    if (st == GF_OK) nf++;
  }
  gf_frame *all = NULL;
  if (st == GF_OK) st = gf_frame_concat(fr, nf, s->a, &all, err);
  for (int i = 0; i < nf; i++) gf_frame_release(fr[i]);
  if (st == GF_OK) st = gfi_take(all, 0, idx, G, s->a, out, err);
  gf_frame_release(all);
  return st;
}

/* The merged order: position k of the output is the group at index
 * idx[k] of the partitions' concatenation, by ascending first row. */
static void merge_order(const part_out *parts, int P, int64_t *idx) {
  int64_t pos[MAX_PARTS], base[MAX_PARTS];
  int64_t b = 0;
  for (int p = 0; p < P; p++) {
    pos[p] = 0;
    base[p] = b;
    b += parts[p].groups;
  }
  /* P is small (<= 256): a linear scan per output row is cheap next to
   * the gathers. */
  for (int64_t k = 0; k < b; k++) {
    int best = -1;
    for (int p = 0; p < P; p++)
      if (pos[p] < parts[p].groups &&
          (best < 0 || parts[p].first[pos[p]] < parts[best].first[pos[best]]))
        best = p;
    idx[k] = base[best] + pos[best]++;
  }
}

gf_status gfi_gb_spilled(const gf_frame *f, const char *const *keys, int nkeys,
                         const gf_agg_spec *specs, int nspecs, const char *const *names,
                         const gf_groupby_options *opts, gf_frame **out, gf_error *err) {
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  if (opts) memcpy(&go, opts, opts->size && opts->size < sizeof go ? opts->size : sizeof go);
  gf_parallel_options po;
  gb_call call;
  GF_RETURN_NOT_OK(gfi_gb_call_begin(go.parallel, &po, &call, err));
  const gf_allocator *a = gfi_alloc_or_default(po.allocator);
  int64_t n = f->num_rows;
  spill_gb s = {f, &po, a, NULL, NULL, 0, NULL};
  /* Columns the partitions need: keys and aggregate inputs, each once. */
  int need[GF_MAX_GROUP_COLS], nneed = 0;
  int kcols[GF_MAX_GROUP_COLS];
  gf_status st = GF_OK;
  if (nkeys + 2 * nspecs > GF_MAX_GROUP_COLS)
    st = gf_error_set(err, GF_ENOTSUP, "group-by: too many columns to spill (%d keys, %d aggregates)",
                      nkeys, nspecs);
  for (int i = 0; st == GF_OK && i < nkeys + 2 * nspecs; i++) {
    const char *name = i < nkeys ? keys[i]
                       : (i - nkeys) % 2 == 0 ? specs[(i - nkeys) / 2].column
                                              : specs[(i - nkeys) / 2].column2;
    if (!name) continue;
    int c = gf_schema_find(f->schema, name);
    if (c < 0) continue; /* the in-memory attempt has reported it */
    if (i < nkeys) kcols[i] = c;
    bool dup = false;
    for (int k = 0; k < nneed; k++) dup = dup || need[k] == c;
    if (!dup) need[nneed++] = c;
  }
  /* The specs plus min(row) with names for all when names are given. */
  size_t sb = sizeof(gf_agg_spec) * (size_t)(nspecs + 1);
  size_t nb = sizeof(char *) * (size_t)(nspecs + 1);
  gf_agg_spec *sp = gfi_malloc(a, sb);
  const char **nm = names ? gfi_malloc(a, nb) : NULL;
  if (st == GF_OK && (!sp || (names && !nm))) st = GF_OOM(err, "group-by spill");
  if (st == GF_OK) {
    memcpy(sp, specs, sizeof *sp * (size_t)nspecs);
    memset(&sp[nspecs], 0, sizeof sp[nspecs]);
    sp[nspecs].kind = GF_AGG_MIN;
    sp[nspecs].column = ROW_COL;
    sp[nspecs].name = ROW_COL;
    if (nm) {
      memcpy(nm, names, sizeof *nm * (size_t)nspecs);
      nm[nspecs] = ROW_COL;
    }
  }
  /* Partitions: enough that one holds about a quarter of what the limit
   * leaves at ~64 bytes of grouping state a row (MemoryBound: of what it
   * leaves now, exec/planners.c), or the test's count. */
  int P = gfi_gb_test_spill_parts();
  if (P <= 0) P = gfi_plan_spill_partitions(n, 64, &po, MAX_PARTS);
  size_t pb = (size_t)(n ? n : 1);
  uint8_t *part = st == GF_OK ? gfi_malloc(a, pb) : NULL;
  part_out *parts = st == GF_OK ? gfi_calloc(a, sizeof *parts * (size_t)P) : NULL;
  if (st == GF_OK && (!part || !parts)) st = GF_OOM(err, "group-by spill partitions");
  gb_view v = {f, n, f->num_batches, f->schema->n, f->batch_offsets};
  if (st == GF_OK) {
    part_job j = {&v, kcols, nkeys, P, part};
    st = gf_parallel_for(n, 16, false, part_kernel, &j, &po, err);
  }
  if (st == GF_OK) st = gfi_spill_space_new(&po, &s.space, err);
  if (st == GF_OK) st = gfi_spill_file_open(s.space, &s.file, err);
  int64_t *rows = NULL;
  size_t rb = 0;
  bool sensitive = false, dec = true;
  for (int i = 0; i < nspecs; i++) {
    int vc = GB_VC_INT;
    if (specs[i].column && gf_schema_find(f->schema, specs[i].column) >= 0)
      vc = gfi_gb_value_class(f->schema->fields[gf_schema_find(f->schema, specs[i].column)].type);
    sensitive = sensitive || order_sensitive(specs[i].kind, vc);
    dec = dec && gfi_gb_agg_decomposable(specs[i].kind, vc);
  }
  for (int p = 0; st == GF_OK && p < P; p++) {
    int64_t m = 0;
    for (int64_t r = 0; r < n; r++) m += part[r] == p;
    if (m == 0) continue;
    if ((size_t)m * sizeof *rows > rb) {
      if (rows) gfi_mfree(a, rows, rb);
      rb = (size_t)m * sizeof *rows;
      rows = gfi_malloc(a, rb);
      if (!rows) {
        rb = 0;
        st = GF_OOM(err, "group-by spill rows");
        break;
      }
    }
    for (int64_t r = 0, k = 0; r < n; r++)
      if (part[r] == p) rows[k++] = r;
    st = gfi_check_stop(&po, 0, NULL, err);
    gf_frame *o = NULL;
    if (st == GF_OK)
      st = group_part(&s, need, nneed, rows, m, keys, nkeys, sp, nspecs + 1, nm, &o, err);
    if (st == GF_OK && !s.schema) {
      s.schema = gf_schema_retain(gf_frame_schema(o));
      s.ncols = s.schema->n - 1;
    }
    if (st == GF_OK) st = keep_part(&s, o, &parts[p], err);
    gf_frame_release(o);
  }
  if (rows) gfi_mfree(a, rows, rb);
  rows = NULL;
  if (part) gfi_mfree(a, part, pb);
  part = NULL;
  int64_t G = 0;
  for (int p = 0; st == GF_OK && p < P; p++) G += parts[p].groups;
  int64_t nblocks = gf_reduction_blocks(n);
  if (nblocks < 1) nblocks = 1;
  /* Few groups: the in-memory run takes the block path (groupby.c), whose
   * float sums associate per reduction block; refuse rather than differ. */
  if (st == GF_OK && sensitive && dec && G <= 65536 && G * nblocks <= (INT64_C(1) << 22))
    st = gf_error_set(err, GF_ENOMEM,
                      "group-by: %lld groups do not fit the memory limit in one piece, and "
                      "spilling them would change how float sums and means are added up "
                      "(few groups); raise the memory limit", (long long)G);
  int64_t *idx = NULL;
  gf_array **cols = NULL;
  gf_field *fields = NULL;
  int nc = s.ncols;
  if (st == GF_OK) {
    idx = gfi_malloc(a, sizeof *idx * (size_t)(G ? G : 1));
    cols = gfi_calloc(a, sizeof *cols * (size_t)(nc ? nc : 1));
    fields = gfi_malloc(a, sizeof *fields * (size_t)(nc ? nc : 1));
    if (!idx || !cols || !fields) st = GF_OOM(err, "group-by spill output");
  }
  if (st == GF_OK) merge_order(parts, P, idx);
  for (int c = 0; st == GF_OK && c < nc; c++) {
    st = gfi_check_stop(&po, 0, NULL, err);
    if (st == GF_OK) st = rebuild_column(&s, parts, P, c, idx, G, &cols[c], err);
    fields[c] = s.schema->fields[c];
  }
  gf_schema *os = NULL;
  if (st == GF_OK) st = gf_schema_new(fields, nc, &os, err);
  if (st == GF_OK) st = gf_frame_new(os, cols, 1, a, out, err);
  gf_schema_release(os);
  if (cols)
    for (int c = 0; c < nc; c++) gf_array_release(cols[c]);
  if (cols) gfi_mfree(a, cols, sizeof *cols * (size_t)(nc ? nc : 1));
  if (fields) gfi_mfree(a, fields, sizeof *fields * (size_t)(nc ? nc : 1));
  if (idx) gfi_mfree(a, idx, sizeof *idx * (size_t)(G ? G : 1));
  for (int p = 0; parts && p < P; p++) {
    if (parts[p].first)
      gfi_mfree(a, parts[p].first, sizeof(int64_t) * (size_t)(parts[p].groups ? parts[p].groups : 1));
    if (parts[p].blocks) gfi_mfree(a, parts[p].blocks, sizeof *parts[p].blocks * (size_t)nc);
  }
  if (parts) gfi_mfree(a, parts, sizeof *parts * (size_t)P);
  if (sp) gfi_mfree(a, sp, sb);
  if (nm) gfi_mfree(a, (void *)nm, nb);
  gf_schema_release(s.schema);
  gfi_spill_file_close(s.file);
  gfi_spill_space_free(s.space);
  if (rows) gfi_mfree(a, rows, rb);
  if (part) gfi_mfree(a, part, pb);
  return gfi_gb_call_end(&call, n, st, err);
}
