/*
 * gf_evaluate: an expression over every row of a frame, in parallel over
 * morsels through the runtime. Each morsel's result lands in its own slot
 * (indexed by morsel, not by worker), and the slots of a batch are joined in
 * morsel order, so the output is identical for any worker count and chunk
 * size.
 */
#include <stdlib.h>
#include <string.h>

#include "data/builder_internal.h"
#include "exec/exec_internal.h"
#include "expr/expr_internal.h"

gf_status gfi_plan_morsels(const gf_frame *f, int64_t bytes_per_row,
                           const gf_parallel_options *o, const gf_allocator *a,
                           gfi_morsel **out, gf_chunk_spec **specs, int64_t *n,
                           gf_error *err) {
  int workers = gf_effective_workers(o);
  int64_t rows = gfi_plan_chunk_rows(f->num_rows, bytes_per_row, o, workers);
  if (rows > INT32_MAX) rows = INT32_MAX;
  /* The runtime's batch planner (src/exec/planners.c). */
  return gfi_plan_batches(f->batch_offsets, f->num_batches, rows, a, out, specs, n, err);
}

typedef struct eval_job {
  const gf_frame *f;
  const gf_bound_expr *b;
  const gfi_morsel *m;
  gf_array **results; /* one per morsel */
} eval_job;

static gf_status eval_chunk(void *user, const gf_chunk_spec *chunk, gf_task_ctx *ctx) {
  eval_job *j = user;
  const gfi_morsel *m = &j->m[chunk->chunk_id];
  int ncols = j->f->schema->n;
  gf_array *const *cols = j->f->columns + (size_t)m->batch * (size_t)ncols;
  return gfi_eval_batch(j->b, cols, m->start, m->len, NULL, 0, ctx->allocator,
                        &j->results[chunk->chunk_id], ctx->err);
}

/* Computes min/max of a freshly made, unshared result (kernels skip it). */
static void finish_stats(gf_array *a) {
  if (a->stats.has_min_max || !gfi_type_has_min_max(a->type.id) ||
      a->null_count == a->length)
    return;
  if (atomic_load(&a->ref.n) != 1) return;
  gfi_array_compute_stats(a);
}

gf_status gfi_evaluate_bound(const gf_frame *f, const gf_bound_expr *b,
                             const gf_parallel_options *o, gf_array **per_batch,
                             gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  int nb = f->num_batches;
  gfi_morsel *m;
  gf_chunk_spec *specs;
  int64_t count;
  GF_RETURN_NOT_OK(gfi_plan_morsels(f, 8, o, a, &m, &specs, &count, err));
  gf_array **results = NULL;
  gf_array **tmp = NULL;
  gf_status st = GF_OK;
  if (count > 0) {
    results = gfi_calloc(a, sizeof *results * (size_t)count);
    if (!results) st = GF_OOM(err, "morsel results");
  }
  if (st == GF_OK && count > 0) {
    eval_job j = {f, b, m, results};
    st = gf_run_chunks(specs, count, eval_chunk, &j, o, err);
  }
  gf_array **outs = NULL;
  if (st == GF_OK && nb > 0) {
    outs = gfi_calloc(a, sizeof *outs * (size_t)nb);
    if (!outs) st = GF_OOM(err, "evaluation results");
  }
  /* Join each batch's morsel results in order. */
  int64_t k = 0;
  for (int bi = 0; bi < nb && st == GF_OK; bi++) {
    int64_t first = k;
    while (k < count && m[k].batch == bi) k++;
    int64_t pieces = k - first;
    if (pieces == 0) {
      /* An empty batch: evaluate zero rows inline. */
      gf_array *const *cols = f->columns + (size_t)bi * (size_t)f->schema->n;
      st = gfi_eval_batch(b, cols, 0, 0, NULL, 0, a, &outs[bi], err);
    } else if (pieces == 1) {
      outs[bi] = results[first];
      results[first] = NULL;
    } else {
      gfi_piece *pc = gfi_malloc(a, sizeof *pc * (size_t)pieces);
      if (!pc) {
        st = GF_OOM(err, "evaluation pieces");
        break;
      }
      for (int64_t q = 0; q < pieces; q++)
        pc[q] = (gfi_piece){results[first + q], NULL, 0, results[first + q]->length};
      st = gfi_gather(pc, (int)pieces, a, true, &outs[bi], err);
      gfi_mfree(a, pc, sizeof *pc * (size_t)pieces);
    }
    if (st == GF_OK) finish_stats(outs[bi]);
  }
  for (int64_t q = 0; q < count && results; q++) gf_array_release(results[q]);
  if (results) gfi_mfree(a, results, sizeof *results * (size_t)count);
  gfi_morsels_free(a, m, specs, count);
  (void)tmp;
  if (st != GF_OK) {
    for (int bi = 0; outs && bi < nb; bi++) gf_array_release(outs[bi]);
    if (outs) gfi_mfree(a, outs, sizeof *outs * (size_t)nb);
    return st;
  }
  for (int bi = 0; bi < nb; bi++) per_batch[bi] = outs[bi];
  if (outs) gfi_mfree(a, outs, sizeof *outs * (size_t)nb);
  return GF_OK;
}

/* gf_evaluate once its call context is loaded: every return of it goes
 * through gfi_ctx_end in gf_evaluate. */
static gf_status gf_evaluate_loaded(const gf_frame *f, const gf_expr *e, const char *name,
                                    const gf_parallel_options *opts, gf_frame **out,
                                    gf_error *err, gf_parallel_options o) {
  const gf_allocator *a = gfi_alloc_or_default(o.allocator);
  gf_bound_expr *b;
  GF_RETURN_NOT_OK(gfi_expr_bind(e, f->schema, a, &b, err));
  char *text = NULL;
  if (!name) {
    text = gfi_expr_text(e);
    if (!text) {
      gf_bound_expr_free(b);
      return GF_OOM(err, "column name");
    }
  }
  int nb = f->num_batches;
  gf_array **cols = NULL;
  gf_status st = GF_OK;
  if (nb > 0) {
    cols = gfi_calloc(a, sizeof *cols * (size_t)nb);
    if (!cols) st = GF_OOM(err, "evaluation columns");
  }
  if (st == GF_OK) st = gfi_evaluate_bound(f, b, &o, cols, err);
  bool have_cols = st == GF_OK;
  gf_schema *schema = NULL;
  if (st == GF_OK) {
    gf_field fld = {name ? name : text, gf_bound_expr_type(b), true};
    st = gf_schema_new(&fld, 1, &schema, err);
  }
  if (st == GF_OK) st = gf_frame_new(schema, cols, nb, a, out, err);
  gf_schema_release(schema);
  for (int bi = 0; have_cols && bi < nb; bi++) gf_array_release(cols[bi]);
  if (cols) gfi_mfree(a, cols, sizeof *cols * (size_t)nb);
  gf_mem_free(text);
  gf_bound_expr_free(b);
  return st;
}

gf_status gf_evaluate(const gf_frame *f, const gf_expr *e, const char *name,
                      const gf_parallel_options *opts, gf_frame **out,
                      gf_error *err) {
  if (!f || !e || !out)
    return gf_error_set(err, GF_EINVAL, "gf_evaluate: NULL argument");
  gfi_ctx call;
  gf_parallel_options o;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, opts, &o, err));
  return gfi_ctx_end(&call, gf_evaluate_loaded(f, e, name, opts, out, err, o), err);
}
