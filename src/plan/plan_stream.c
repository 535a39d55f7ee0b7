/*
 * Streaming execution of a plan (docs/STREAMING.md, exec/stream_internal.h).
 *
 * The shapes that stream today: a chain of filter / with_columns / select
 * nodes over one source, topped by a group-by (group-by sink), a sort (sort
 * sink) or by nothing or a limit (collect sink, or a file sink when the
 * result goes to a file: CSV, Arrow IPC file or stream). A blocking top
 * (sort, group-by) whose result goes to a file hands it to the file sink
 * batch by batch (finish_into), so a large sorted, grouped or spilled
 * result is never whole in memory. The source (plan_stream_source.c) is a
 * CSV file read window by window, an Arrow IPC file batch by batch, a
 * Parquet file row group by row group, an ArrowArrayStream or, for tests,
 * an in-memory frame cut into slices. Each batch the source hands out runs
 * through the chain's steps (one gf_pipeline, parallel over the batch's
 * morsels) and its output goes to the sink in order, with its absolute
 * position in the sink's input. Joins stream in plan_stream_join.c.
 * Everything runs under one call context: one deadline, one cancellation
 * token and one memory limit for the whole plan.
 *
 * Anything else - top-k sorts, unions, distinct, several files,
 * aggregates the group-by sink does not support, a profiled run - returns
 * *handled = false before reading a row, and the caller runs the plan the
 * materialising way (plan_exec.c).
 */
#include <string.h>

#include "data/array_internal.h"
#include "exec/exec_internal.h"
#include "exec/stream_internal.h"
#include "gopherframe/query.h"
#include "plan/plan_internal.h"
#include "plan/plan_stream_internal.h"

/* The streaming shape of p: the sink's node (group-by, sort or limit, or
 * NULL),
 * the chain's nodes bottom-up in chain[0..*n) (for a limit, the selects and
 * with_columns above it come last: they run per batch before the limit
 * counts, which they do not change), and the source. False when p does not
 * stream. */
bool gfi_stream_shape(const gf_plan *p, const gf_plan **top, const gf_plan **chain, int *n, int cap,
                      const gf_plan **src) {
  *top = NULL;
  *n = 0;
  const gf_plan *rev[64];
  int k = 0;
  if (p->kind == GF_PLAN_GROUP_BY || (p->kind == GF_PLAN_SORT && p->topk <= 0)) {
    /* A top-k (sort + limit) stays in the materialising path: its state is
     * k rows, and gf_sort's top-k is that path. */
    *top = p;
    p = p->in[0];
  } else {
    /* A limit under selects / with_columns (where the optimizer puts it):
     * those map rows one to one, so the limit may count at the sink. */
    const gf_plan *q = p;
    int u = 0;
    while ((q->kind == GF_PLAN_SELECT || q->kind == GF_PLAN_WITH) && u < 32) {
      rev[u++] = q;
      q = q->in[0];
    }
    if (q->kind == GF_PLAN_LIMIT && q->nin == 1) {
      *top = q;
      k = u;
      p = q->in[0];
    }
  }
  while (p->kind == GF_PLAN_FILTER || p->kind == GF_PLAN_WITH || p->kind == GF_PLAN_SELECT) {
    if (k == 64 || k == cap) return false;
    rev[k++] = p;
    p = p->in[0];
  }
  if (p->nin != 0) return false;
  for (int i = 0; i < k; i++) chain[i] = rev[k - 1 - i];
  *n = k;
  *src = p;
  return true;
}

/* The pipeline of the chain's steps (the source's pushed predicate first). */
gf_status gfi_stream_pipeline(const gf_plan *src, const gf_plan *const *chain, int n,
                              gf_pipeline **out, gf_error *err) {
  gf_pipeline *pl = NULL;
  GF_RETURN_NOT_OK(gf_pipeline_new(&pl, err));
  gf_status st = GF_OK;
  if (src->pred) st = gf_pipeline_add_filter(pl, src->pred, err);
  for (int i = 0; i < n && st == GF_OK; i++) {
    const gf_plan *q = chain[i];
    if (q->kind == GF_PLAN_FILTER) st = gf_pipeline_add_filter(pl, q->exprs[0], err);
    else if (q->kind == GF_PLAN_WITH)
      st = gf_pipeline_add_with(pl, (const char *const *)q->names, q->exprs, q->nnames, err);
    else st = gf_pipeline_add_select(pl, (const char *const *)q->names, q->nnames, err);
  }
  if (st != GF_OK) {
    gf_pipeline_free(pl);
    return st;
  }
  *out = pl;
  return GF_OK;
}

/* True when output column `name` of the chain is a source column passed
 * through (no with_columns step computes it). */
bool gfi_stream_passed_through(const gf_plan *const *chain, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (chain[i]->kind == GF_PLAN_WITH)
      for (int k = 0; k < chain[i]->nnames; k++)
        if (strcmp(chain[i]->names[k], name) == 0) return false;
  return true;
}

/* The file sink of `dest` over batches of `schema` (`lo` loaded options). */
gf_status gfi_stream_open_output(const gfi_out_spec *dest, const gf_schema *schema,
                                 const gf_parallel_options *lo, gfi_sink **k, gf_error *err) {
  switch (dest->kind) {
  case GFI_OUT_CSV: return gfi_sink_csv_file(schema, dest->path, dest->csv, lo, k, err);
  case GFI_OUT_IPC_FILE: return gfi_sink_ipc_file(schema, dest->path, dest->ipc, lo, k, err);
  case GFI_OUT_IPC_STREAM:
    return gfi_sink_ipc_stream(schema, dest->path, dest->fd, dest->ipc, lo, k, err);
  case GFI_OUT_PARQUET:
    return gfi_sink_parquet_file(schema, dest->path, dest->parquet, lo, k, err);
  }
  return gf_error_set(err, GF_EINVAL, "streamed plan: unknown output kind %d", (int)dest->kind);
}

/* The frame-wide dictionary of column `name` of the source, when the
 * chain passes it through (retained; NULL: none). A file source's (its
 * `dictionary` hook) is final only after the last batch; a frame source's
 * is its frame's (when all its batches share one). */
static gf_array *source_dictionary(const gf_plan *src, gfi_source *s, const gf_plan *const *chain,
                                   int n, const char *name) {
  int sc = gf_schema_find(s->schema, name);
  if (sc < 0 || gf_schema_field(s->schema, sc)->type.id != GF_TYPE_DICTIONARY ||
      !gfi_stream_passed_through(chain, n, name))
    return NULL;
  if (s->dictionary) return s->dictionary(s, sc);
  if (src->kind != GF_PLAN_FRAME) return NULL;
  const gf_frame *f = src->frame;
  int fc = gf_schema_find(gf_frame_schema(f), name);
  int nb = gf_frame_num_batches(f);
  if (fc < 0 || nb == 0) return NULL;
  gf_array *d = gf_frame_column(f, 0, fc)->dictionary;
  for (int b = 1; b < nb; b++)
    if (gf_frame_column(f, b, fc)->dictionary != d) return NULL;
  return d ? gf_array_retain(d) : NULL;
}

/* Runs p streaming when it has a streaming shape (see the file comment);
 * `window`: CSV bytes per window or frame rows per slice (<= 0: default);
 * `force`: stream frame sources too (tests; gf_plan_collect streams only
 * files). *handled = false (GF_OK) when p does not stream. */
gf_status gfi_plan_stream(const gf_plan *p, const gf_parallel_options *opts, int64_t window,
                          bool force, const gfi_out_spec *dest, gf_frame **out, bool *handled,
                          gf_error *err) {
  *handled = false;
  const gf_plan *top, *src, *chain[64];
  int n;
  if (!gfi_stream_shape(p, &top, chain, &n, 64, &src) || !gfi_plan_stream_source_ok(src, force))
    return GF_OK;
  gfi_ctx ctx;
  gf_parallel_options lo;
  GF_RETURN_NOT_OK(gfi_ctx_load(&ctx, opts, &lo, err));
  lo.stats = NULL;
  const gf_allocator *a = gfi_alloc_or_default(lo.allocator);
  gfi_source *s = NULL;
  gfi_sink *k = NULL, *fk = NULL; /* the top sink; the file sink it feeds */
  gf_pipeline *pl = NULL;
  gf_frame *empty = NULL, *probe = NULL, *res = NULL;
  gf_status st = GF_OK;
  bool pass_to_file = false; /* k is the file sink itself */
  /* The source (plan_stream_source.c): its schema is fixed here, before
   * any row is read. */
  st = gfi_plan_stream_source(src, &lo, window, &s, err);
  if (st == GF_ENOTSUP) goto fallback;
  /* The chain over an empty frame of the source's schema: types checked,
   * and the sink's input schema. */
  if (st == GF_OK) st = gfi_stream_pipeline(src, chain, n, &pl, err);
  if (st == GF_OK) st = gf_frame_new(s->schema, NULL, 0, a, &empty, err);
  if (st == GF_OK) {
    /* A chain that does not type-check on the streamed schema runs the
     * materialising way, whose re-check names the user's step. */
    st = gf_pipeline_run(pl, empty, &lo, &probe, err);
    if (st != GF_OK && st != GF_ENOMEM && st != GF_ECANCELED && st != GF_ETIMEDOUT) goto fallback;
  }
  const gf_schema *ks = st == GF_OK ? gf_frame_schema(probe) : NULL;
  if (st == GF_OK && top && top->kind == GF_PLAN_GROUP_BY) {
    if (!top->aggs) goto fallback;
    st = gfi_sink_group_by(ks, (const char *const *)top->names, top->nnames, top->aggs, top->sort_keys,
                           &lo, &k, err);
    if (st == GF_ENOTSUP) goto fallback;
  } else if (st == GF_OK && top && top->kind == GF_PLAN_SORT) {
    st = gfi_sink_sort(ks, top->keys, top->nkeys, &lo, &k, err);
    if (st == GF_ENOTSUP) goto fallback;
  } else if (st == GF_OK && dest && !top) {
    /* Every row passed on is output: write them as they come. */
    st = gfi_stream_open_output(dest, ks, &lo, &k, err);
    pass_to_file = true;
  } else if (st == GF_OK) {
    st = gfi_sink_collect(ks, a, &k, err);
  }
  /* A blocking top whose result goes to a file writes it through the file
   * sink (finish_into); the sort's output schema is its input's. A
   * group-by sink with finish_into joins here once its output schema is
   * known before its first batch (the file sink is opened over it, e.g.
   * from a gfi_sink_group_by accessor); until then its result comes back
   * to the caller, which writes it. */
  bool into = st == GF_OK && dest && top && top->kind == GF_PLAN_SORT && k->finish_into;
  if (into) st = gfi_stream_open_output(dest, ks, &lo, &fk, err);
  /* A frame source's dictionaries are known now: an IPC file sink given
   * them before its first batch writes the bytes of gf_write_ipc_file. */
  if (st == GF_OK && src->kind == GF_PLAN_FRAME && (pass_to_file || into) &&
      (dest->kind == GFI_OUT_IPC_FILE || dest->kind == GFI_OUT_IPC_STREAM)) {
    int nc = gf_schema_num_fields(ks);
    for (int c = 0; c < nc; c++) {
      gf_array *d = source_dictionary(src, s, chain, n, gf_schema_field(ks, c)->name);
      if (d) gfi_sink_ipc_set_dictionary(pass_to_file ? k : fk, c, d);
      gf_array_release(d);
    }
  }
  if (st != GF_OK) goto done;
  *handled = true;
  /* The run: batches in source order, each through the steps, into the
   * sink at its position in the sink's input. */
  int64_t want = top && top->kind == GF_PLAN_LIMIT
                     ? (top->count > INT64_MAX - top->offset ? INT64_MAX : top->offset + top->count)
                     : -1;
  int64_t pos = 0;
  for (;;) {
    gf_frame *b = NULL, *o = NULL;
    int64_t row0 = 0;
    if (want >= 0 && pos >= want) break;
    st = s->next(s, &b, &row0, err);
    if (st != GF_OK || !b) break;
    st = gf_pipeline_run(pl, b, &lo, &o, err);
    gf_frame_release(b);
    if (st == GF_OK && gf_frame_num_rows(o) > 0) {
      if (want >= 0 && pos + gf_frame_num_rows(o) > want) {
        gf_frame *cut = NULL;
        st = gf_frame_slice(o, 0, want - pos, &cut, err);
        gf_frame_release(o);
        o = cut;
      }
      if (st == GF_OK) st = k->push(k, o, pos, err);
      pos += gf_frame_num_rows(o);
    }
    gf_frame_release(o);
    if (st == GF_OK) st = gfi_check_stop(&lo, 0, NULL, err);
    if (st != GF_OK) break;
  }
  /* One frame-wide dictionary per column: the source's final one. */
  if (st == GF_OK) {
    int nc = gf_schema_num_fields(ks);
    for (int c = 0; c < nc; c++) {
      gf_array *d = source_dictionary(src, s, chain, n, gf_schema_field(ks, c)->name);
      if (!d) continue;
      if (top && top->kind == GF_PLAN_GROUP_BY) gfi_sink_group_by_set_dictionary(k, c, d);
      else if (top && top->kind == GF_PLAN_SORT) gfi_sink_sort_set_dictionary(k, c, d);
      else if (!pass_to_file) gfi_sink_collect_set_dictionary(k, c, d);
      /* Sorted output starts after the last input row: the file sink
       * gets the final dictionary before its first batch. A pass-through
       * IPC file gets it before its footer (ipc_write_internal.h). A
       * Parquet sink needs none: it encodes dictionary columns by value. */
      if (fk && (dest->kind == GFI_OUT_IPC_FILE || dest->kind == GFI_OUT_IPC_STREAM))
        gfi_sink_ipc_set_dictionary(fk, c, d);
      else if (pass_to_file && dest->kind == GFI_OUT_IPC_FILE) gfi_sink_ipc_set_dictionary(k, c, d);
      gf_array_release(d);
    }
  }
  if (st == GF_OK && top && top->kind == GF_PLAN_GROUP_BY && dest && k->finish_into) {
    /* A group-by written to a file: its result goes straight into the
     * file sink batch by batch (a spilled one is never whole in memory).
     * Its output schema is known only now; dictionary keys reach an IPC
     * file sink after its batches (ipc_write_internal.h). */
    gf_schema *os = NULL;
    st = gfi_sink_group_by_schema(k, &os, err);
    if (st == GF_OK) st = gfi_stream_open_output(dest, os, &lo, &fk, err);
    /* The grid of the file's batches: the group-by hands out 65,536-group
     * batches when spilled and one when not. */
    if (st == GF_OK) st = gfi_sink_rebatch(&fk, 0, a, err);
    gf_schema_release(os);
  }
  if (st == GF_OK && fk) {
    st = k->finish_into(k, fk, err);
    if (st == GF_OK) st = fk->finish(fk, &res, err);
    gf_frame_release(res);
    res = NULL;
  } else if (st == GF_OK) {
    st = k->finish(k, &res, err);
  }
  if (st == GF_OK && top && top->kind == GF_PLAN_LIMIT && top->offset > 0) {
    int64_t rows = gf_frame_num_rows(res);
    int64_t off = top->offset < rows ? top->offset : rows;
    gf_frame *cut = NULL;
    st = gf_frame_slice(res, off, rows - off, &cut, err);
    gf_frame_release(res);
    res = st == GF_OK ? cut : NULL;
  }
  goto done;
fallback:
  /* Not streamable after all: nothing was read but samples. */
  st = GF_OK;
  *handled = false;
done:
  if (fk) fk->free(fk);
  if (k) k->free(k);
  if (s) s->free(s);
  gf_pipeline_free(pl);
  gf_frame_release(empty);
  gf_frame_release(probe);
  st = gfi_ctx_end(&ctx, st, err);
  if (st != GF_OK || !*handled) {
    gf_frame_release(res);
    return st;
  }
  *out = res; /* NULL when a file sink wrote the rows */
  return GF_OK;
}
