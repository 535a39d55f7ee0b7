/*
 * gf_filter: rows where a predicate holds, in input order.
 *
 * Three steps: (1) in parallel, each morsel whose batch statistics do not
 * rule it out evaluates the predicate into a selection vector (fast path:
 * `column op literal` goes straight to indices); (2) sequentially, the
 * selected pieces are grouped, in morsel order, into output batches of at
 * least GFI_COALESCE_ROWS rows (a batch kept whole stays zero-copy);
 * (3) in parallel, each output batch gathers every column from its pieces,
 * so each value is read and written once. Results depend only on the rows,
 * never on the worker count; batch boundaries never change values.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/exec_internal.h"
#include "ops/ops_internal.h"

gf_status gfi_check_predicate(const gf_bound_expr *b, gf_error *err) {
  gf_datatype t = gf_bound_expr_type(b);
  if (t.id == GF_TYPE_BOOL || t.id == GF_TYPE_NULL) return GF_OK;
  char tn[64];
  char *text = gfi_expr_text(b->expr);
  gf_status st = gf_error_set(err, GF_ETYPE, "filter predicate must be bool, got %s in '%s'",
                              gf_type_format(t, tn, sizeof tn), text ? text : "?");
  gf_mem_free(text);
  return st;
}

/* Selection of one morsel. */
typedef struct msel {
  int32_t *sel;   /* batch-relative indices, or NULL */
  int64_t cnt;    /* rows selected */
  bool all;       /* every row of the morsel (sel NULL) */
  const gf_allocator *sa;
  size_t sbytes;
} msel;

/* A run of selected rows of one batch. */
typedef struct fpiece {
  int batch;
  const int32_t *sel; /* NULL: rows [start, start+n) */
  int64_t start, n;
} fpiece;

typedef struct group {
  int64_t first, count; /* pieces */
  int64_t rows;
  bool whole_batch;     /* one piece that is an entire input batch */
} group;

typedef struct fjob {
  const gf_frame *f;
  const gf_bound_expr *b;
  const gfi_morsel *m;
  msel *res;
  const fpiece *pieces;
  const group *groups;
  gf_array **out; /* ngroups * ncols */
} fjob;

static gf_status select_chunk(void *user, const gf_chunk_spec *chunk, gf_task_ctx *ctx) {
  fjob *j = user;
  const gfi_morsel *m = &j->m[chunk->chunk_id];
  msel *r = &j->res[chunk->chunk_id];
  int ncols = j->f->schema->n;
  gf_array *const *cols = j->f->columns + (size_t)m->batch * (size_t)ncols;
  if (gfi_predicate_skips(j->b, cols)) return GF_OK;
  size_t bytes = sizeof(int32_t) * (size_t)m->len;
  int32_t *sel = gfi_malloc(ctx->allocator, bytes);
  if (!sel) return GF_OOM(ctx->err, "selection vector");
  int64_t cnt = 0;
  gf_status st = gfi_eval_predicate(j->b, cols, m->start, m->len, sel, &cnt,
                                    ctx->allocator, ctx->err);
  if (st != GF_OK || cnt == 0 || cnt == m->len) {
    gfi_mfree(ctx->allocator, sel, bytes);
    if (st == GF_OK && cnt == m->len) r->all = true;
    r->cnt = st == GF_OK ? cnt : 0;
    return st;
  }
  r->sel = sel;
  r->cnt = cnt;
  r->sa = ctx->allocator;
  r->sbytes = bytes;
  return GF_OK;
}

static gf_status gather_chunk(void *user, const gf_chunk_spec *chunk, gf_task_ctx *ctx) {
  fjob *j = user;
  const group *g = &j->groups[chunk->chunk_id];
  int ncols = j->f->schema->n;
  gf_array **out = j->out + (size_t)chunk->chunk_id * (size_t)ncols;
  if (g->whole_batch) {
    int b = j->pieces[g->first].batch;
    for (int c = 0; c < ncols; c++)
      out[c] = gf_array_retain(j->f->columns[(size_t)b * (size_t)ncols + (size_t)c]);
    return GF_OK;
  }
  size_t pbytes = sizeof(gfi_piece) * (size_t)g->count;
  gfi_piece *pc = gfi_malloc(ctx->allocator, pbytes);
  if (!pc) return GF_OOM(ctx->err, "gather pieces");
  gf_status st = GF_OK;
  for (int c = 0; c < ncols && st == GF_OK; c++) {
    for (int64_t q = 0; q < g->count; q++) {
      const fpiece *p = &j->pieces[g->first + q];
      pc[q] = (gfi_piece){j->f->columns[(size_t)p->batch * (size_t)ncols + (size_t)c],
                          p->sel, p->start, p->n};
    }
    st = gfi_gather(pc, (int)g->count, ctx->allocator, true, &out[c], ctx->err);
  }
  gfi_mfree(ctx->allocator, pc, pbytes);
  return st;
}

/* gf_filter once its call context is loaded: every return of it goes
 * through gfi_ctx_end in gf_filter. */
static gf_status gf_filter_loaded(const gf_frame *f, const gf_expr *predicate,
                                  const gf_parallel_options *opts, gf_frame **out,
                                  gf_error *err, gf_parallel_options o) {
  const gf_allocator *a = gfi_alloc_or_default(o.allocator);
  gf_bound_expr *b;
  GF_RETURN_NOT_OK(gfi_expr_bind(predicate, f->schema, a, &b, err));
  gf_status st = gfi_check_predicate(b, err);
  int ncols = f->schema->n;
  gfi_morsel *m = NULL;
  gf_chunk_spec *specs = NULL;
  int64_t nm = 0;
  msel *res = NULL;
  fpiece *pieces = NULL;
  group *groups = NULL;
  gf_chunk_spec *gspecs = NULL;
  gf_array **cols = NULL;
  int64_t np = 0, ng = 0;
  if (st == GF_OK) st = gfi_plan_morsels(f, 8, &o, a, &m, &specs, &nm, err);
  if (st == GF_OK && nm > 0) {
    res = gfi_calloc(a, sizeof *res * (size_t)nm);
    pieces = gfi_malloc(a, sizeof *pieces * (size_t)nm);
    groups = gfi_malloc(a, sizeof *groups * (size_t)nm);
    gspecs = gfi_malloc(a, sizeof *gspecs * (size_t)nm);
    if (!res || !pieces || !groups || !gspecs) st = GF_OOM(err, "filter state");
  }
  fjob j = {f, b, m, res, pieces, groups, NULL};
  if (st == GF_OK && nm > 0) st = gf_run_chunks(specs, nm, select_chunk, &j, &o, err);
  if (st == GF_OK) {
    /* Pieces in morsel order; adjacent whole morsels of one batch merge. */
    for (int64_t i = 0; i < nm; i++) {
      if (res[i].cnt == 0) continue;
      if (res[i].all && np > 0 && pieces[np - 1].batch == m[i].batch &&
          !pieces[np - 1].sel && pieces[np - 1].start + pieces[np - 1].n == m[i].start) {
        pieces[np - 1].n += m[i].len;
        continue;
      }
      pieces[np++] = (fpiece){m[i].batch, res[i].sel, res[i].all ? m[i].start : 0, res[i].cnt};
    }
    /* Groups of >= GFI_COALESCE_ROWS rows; a large whole batch stays alone. */
    for (int64_t i = 0; i < np; i++) {
      const fpiece *p = &pieces[i];
      bool whole = !p->sel && p->start == 0 && p->n == gf_frame_batch_rows(f, p->batch) &&
                   p->n >= GFI_COALESCE_ROWS / 4;
      bool open = ng > 0 && !groups[ng - 1].whole_batch && groups[ng - 1].rows < GFI_COALESCE_ROWS;
      if (whole || !open) {
        groups[ng++] = (group){i, 1, p->n, whole};
      } else {
        groups[ng - 1].count++;
        groups[ng - 1].rows += p->n;
      }
    }
    if (ng > 0) {
      cols = gfi_calloc(a, sizeof *cols * (size_t)ng * (size_t)(ncols > 0 ? ncols : 1));
      if (!cols) st = GF_OOM(err, "filter output");
    }
  }
  if (st == GF_OK && ng > 0) {
    int64_t row = 0;
    for (int64_t g = 0; g < ng; g++) {
      gspecs[g] = (gf_chunk_spec){row, row + groups[g].rows, g};
      row += groups[g].rows;
    }
    j.out = cols;
    st = gf_run_chunks(gspecs, ng, gather_chunk, &j, &o, err);
  }
  if (st == GF_OK) st = gf_frame_new(f->schema, cols, (int)ng, a, out, err);
  for (int64_t i = 0; cols && i < ng * ncols; i++) gf_array_release(cols[i]);
  if (cols) gfi_mfree(a, cols, sizeof *cols * (size_t)ng * (size_t)(ncols > 0 ? ncols : 1));
  for (int64_t i = 0; res && i < nm; i++)
    if (res[i].sel) gfi_mfree(res[i].sa, res[i].sel, res[i].sbytes);
  if (res) gfi_mfree(a, res, sizeof *res * (size_t)nm);
  if (pieces) gfi_mfree(a, pieces, sizeof *pieces * (size_t)nm);
  if (groups) gfi_mfree(a, groups, sizeof *groups * (size_t)nm);
  if (gspecs) gfi_mfree(a, gspecs, sizeof *gspecs * (size_t)nm);
  gfi_morsels_free(a, m, specs, nm);
  gf_bound_expr_free(b);
  return st;
}

gf_status gf_filter(const gf_frame *f, const gf_expr *predicate,
                    const gf_parallel_options *opts, gf_frame **out,
                    gf_error *err) {
  if (!f || !predicate || !out)
    return gf_error_set(err, GF_EINVAL, "gf_filter: NULL argument");
  gfi_ctx call;
  gf_parallel_options o;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, opts, &o, err));
  return gfi_ctx_end(&call, gf_filter_loaded(f, predicate, opts, out, err, o), err);
}
