/*
 * gf_distinct: the first row of every distinct key, whole rows, in input
 * order.
 *
 * The group-by's phase 1 (groupby_keys.c) numbers the keys: its group ids
 * follow first appearance and its first rows are order-independent minima,
 * so the first rows, ascending, are exactly the rows to keep, for any
 * worker count and chunk size. Those rows are then taken column by column
 * (take.c) in fixed-size output batches.
 */
#include <string.h>

#include "exec/exec_internal.h"
#include "exec/arena.h"
#include "ops/groupby_internal.h"
#include "ops/sort_join_internal.h"

/* Numbers the keys of f and hands back the first row of every key in
 * increasing row order: *count rows in *rows, an allocation of *alloc
 * entries through c->a. */
static gf_status first_rows(gb_ctx *c, int64_t **rows, int64_t *alloc, int64_t *count,
                            gf_error *err) {
  bool direct;
  int64_t nslots;
  GF_RETURN_NOT_OK(gfi_gb_keys_canon(c, err));
  gfi_gb_keys_analyse(c, &direct, &nslots);
  gb_groups g;
  GF_RETURN_NOT_OK(gfi_gb_groups_compute(c, direct, nslots, &g, err));
  *rows = g.first_row;
  *alloc = g.ngroups ? g.ngroups : 1;
  *count = g.ngroups;
  /* No key columns (a frame without columns) make one group, empty (-1)
   * when the frame is. */
  if (g.ngroups == 1 && g.first_row[0] < 0) *count = 0;
  g.first_row = NULL;
  gfi_gb_groups_free(&g, c->a, c->v.n);
  return GF_OK;
}

gf_status gf_distinct(const gf_frame *f, const char *const *keys, int nkeys,
                      const gf_parallel_options *opts, gf_frame **out, gf_error *err) {
  if (!f || !out || nkeys < 0 || (nkeys > 0 && !keys))
    return gf_error_set(err, GF_EINVAL, "gf_distinct: invalid argument");
  GF_RETURN_NOT_OK(gfi_gb_check_keys(f, keys, nkeys, "gf_distinct", err));
  gf_parallel_options po;
  GF_RETURN_NOT_OK(gfi_options_load(opts, &po, err));
  gb_call call;
  GF_RETURN_NOT_OK(gfi_gb_call_begin(opts, &po, &call, err));
  const gf_allocator *a = gfi_alloc_or_default(po.allocator);
  int ncols = f->schema->n;
  int nk = nkeys > 0 ? nkeys : ncols;
  gb_ctx c;
  gfi_gb_ctx_init(&c, f, &po, nk);
  c.first_only = true;
  c.keys = gfi_calloc(a, sizeof *c.keys * (size_t)(nk ? nk : 1));
  gfi_take_col *tc = gfi_malloc(a, sizeof *tc * (size_t)(ncols ? ncols : 1));
  int64_t *rows = NULL, G = 0, alloc_g = 0;
  gf_status st = GF_OK;
  if (!c.keys || !tc) st = GF_OOM(err, "distinct state");
  if (st == GF_OK) {
    for (int i = 0; i < nk; i++) c.keys[i].col = nkeys > 0 ? gf_schema_find(f->schema, keys[i]) : i;
  }
  if (st == GF_OK) st = first_rows(&c, &rows, &alloc_g, &G, err);
  if (st == GF_OK) st = gfi_check_stop(&po, call.start_ns, NULL, err);
  if (st == GF_OK) {
    for (int i = 0; i < ncols; i++)
      tc[i] = (gfi_take_col){f, i, rows, f->schema->fields[i].name, false, true};
    st = gfi_take_frame(tc, ncols, G, &po, out, err);
  }
  if (rows) gfi_scratch_free(a, rows, sizeof *rows * (size_t)alloc_g); /* group first rows: arena scratch */
  if (tc) gfi_mfree(a, tc, sizeof *tc * (size_t)(ncols ? ncols : 1));
  gfi_gb_keys_free(&c);
  if (c.keys) gfi_mfree(a, c.keys, sizeof *c.keys * (size_t)(nk ? nk : 1));
  return gfi_gb_call_end(&call, f->num_rows, st, err);
}
