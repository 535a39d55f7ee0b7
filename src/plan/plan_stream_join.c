/*
 * Streaming execution of a join (docs/STREAMING.md, plan_stream_internal.h).
 *
 * Shape: a join (under a chain of filter / with_columns / select steps,
 * which run on each batch of its output) whose left input is a chain of
 * filter / with_columns / select over one source (a CSV file, or a frame
 * with `force`) and whose right input is any shape plan_stream.c streams.
 * The right input is streamed into memory first (the build side, collected
 * with one frame-wide dictionary per column); the left input is then read
 * window by window, each window run through its chain's steps and probed
 * against the right side's hash table (exec/join_stream.c), and each
 * window's output rows go to the sink at their absolute position: the
 * collect sink, or the CSV file sink when the result is written to a file.
 * Right and full joins add the right rows no window matched at the end.
 * The rows are the in-memory join's, in its order, for any worker count
 * and window.
 *
 * Memory: the build side (the right rows, their prepared keys and hash
 * table), one left window and its output; with a file sink nothing grows
 * with the left input. A build side over the memory limit is dropped and
 * the plan runs the materialising way (*handled = false), whose gf_join
 * spills partitions: the streamed build does not partition yet
 * (docs/SPILLING.md).
 */
#include <string.h>

#include "exec/exec_internal.h"
#include "exec/join_stream.h"
#include "plan/plan_stream_internal.h"

/* Runs the steps above the join (`tpl`; NULL: none) over output batch f. */
static gf_status run_above(gf_pipeline *tpl, gf_frame *f, const gf_parallel_options *lo,
                           gf_frame **out, gf_error *err) {
  if (!tpl) {
    *out = gf_frame_retain(f);
    return GF_OK;
  }
  return gf_pipeline_run(tpl, f, lo, out, err);
}

gf_status gfi_plan_stream_join(const gf_plan *p, const gf_parallel_options *opts, int64_t window,
                               bool force, const char *csv_path, const gf_csv_write_options *csv_w,
                               gf_frame **out, bool *handled, gf_error *err) {
  *handled = false;
  /* Filter / with / select nodes above the join run on its output. */
  const gf_plan *above[64], *rev[64];
  int na = 0;
  while ((p->kind == GF_PLAN_FILTER || p->kind == GF_PLAN_WITH || p->kind == GF_PLAN_SELECT) &&
         na < 64) {
    rev[na++] = p;
    p = p->in[0];
  }
  for (int i = 0; i < na; i++) above[i] = rev[na - 1 - i];
  if (p->kind != GF_PLAN_JOIN || p->nin != 2) return GF_OK;
  const gf_plan *top, *src, *chain[64], *rtop, *rsrc, *rchain[64];
  int n, rn;
  if (!gfi_stream_shape(p->in[0], &top, chain, &n, 64, &src) || top) return GF_OK;
  if (!gfi_stream_shape(p->in[1], &rtop, rchain, &rn, 64, &rsrc)) return GF_OK;
  if (src->kind == GF_PLAN_FRAME && !force) return GF_OK;
  gfi_ctx ctx;
  gf_parallel_options lo;
  GF_RETURN_NOT_OK(gfi_ctx_load(&ctx, opts, &lo, err));
  lo.stats = NULL;
  const gf_allocator *a = gfi_alloc_or_default(lo.allocator);
  gfi_source *s = NULL;
  gfi_sink *k = NULL;
  gf_pipeline *pl = NULL, *tpl = NULL;
  gfi_join_stream *js = NULL;
  gf_frame *empty = NULL, *probe = NULL, *right = NULL, *shape_out = NULL, *tshape = NULL;
  gf_frame *res = NULL;
  bool right_done = false;
  /* The left source first: a file it cannot stream costs only samples. */
  gf_status st = gfi_stream_source(src, &lo, window, &s, err);
  if (st == GF_ENOTSUP) goto fallback;
  if (st == GF_OK) st = gfi_stream_pipeline(src, chain, n, &pl, err);
  if (st == GF_OK) st = gf_frame_new(s->schema, NULL, 0, a, &empty, err);
  if (st == GF_OK) {
    /* A chain that does not type-check runs the materialising way, whose
     * re-check names the user's step. */
    st = gf_pipeline_run(pl, empty, &lo, &probe, err);
    if (st != GF_OK && st != GF_ENOMEM && st != GF_ECANCELED && st != GF_ETIMEDOUT) goto fallback;
  }
  /* The build side, whole. */
  if (st == GF_OK)
    st = gfi_plan_stream(p->in[1], &lo, window, true, NULL, NULL, &right, &right_done, err);
  if (st == GF_OK && !right_done) goto fallback;
  if (st == GF_OK) {
    st = gfi_join_stream_new(right, gf_frame_schema(probe), (const char *const *)p->names,
                             (const char *const *)p->names2, p->nnames, p->how, p->suffix, &lo, &js,
                             err);
    /* Keys the join refuses: the materialising run reports them as a step. */
    if (st == GF_EINVAL || st == GF_ETYPE) goto fallback;
  }
  /* A build side over the memory limit: the materialising run's gf_join
   * partitions both inputs (join_spill.c), which this one cannot yet. */
  if (st == GF_ENOMEM && gfi_memory_limit(&lo) > 0) goto fallback;
  /* The output's schema: the join of no left rows through the steps
   * above it (a step that does not type-check: the materialising run
   * names it). The pipeline over the join's output has no source, hence
   * no pushed predicate. */
  if (st == GF_OK) st = gfi_join_stream_probe(js, probe, &shape_out, err);
  gf_plan nosrc;
  memset(&nosrc, 0, sizeof nosrc);
  if (st == GF_OK && na > 0) st = gfi_stream_pipeline(&nosrc, above, na, &tpl, err);
  if (st == GF_OK) {
    st = run_above(tpl, shape_out, &lo, &tshape, err);
    if (st != GF_OK && st != GF_ENOMEM && st != GF_ECANCELED && st != GF_ETIMEDOUT) goto fallback;
  }
  const gf_schema *os = st == GF_OK ? gf_frame_schema(tshape) : NULL;
  if (st == GF_OK && csv_path) st = gfi_sink_csv_file(os, csv_path, csv_w, &lo, &k, err);
  else if (st == GF_OK) st = gfi_sink_collect(os, a, &k, err);
  if (st != GF_OK) goto done;
  *handled = true;
  int64_t pos = 0;
  for (;;) {
    gf_frame *b = NULL, *o = NULL, *jo = NULL, *to = NULL;
    int64_t row0 = 0;
    st = s->next(s, &b, &row0, err);
    if (st != GF_OK || !b) break;
    st = gf_pipeline_run(pl, b, &lo, &o, err);
    gf_frame_release(b);
    if (st == GF_OK && gf_frame_num_rows(o) > 0) st = gfi_join_stream_probe(js, o, &jo, err);
    gf_frame_release(o);
    if (st == GF_OK && jo && gf_frame_num_rows(jo) > 0) st = run_above(tpl, jo, &lo, &to, err);
    gf_frame_release(jo);
    if (st == GF_OK && to && gf_frame_num_rows(to) > 0) {
      st = k->push(k, to, pos, err);
      pos += gf_frame_num_rows(to);
    }
    gf_frame_release(to);
    if (st == GF_OK) st = gfi_check_stop(&lo, 0, NULL, err);
    if (st != GF_OK) break;
  }
  if (st == GF_OK) {
    gf_frame *tail = NULL, *to = NULL;
    st = gfi_join_stream_finish(js, &tail, err);
    if (st == GF_OK && tail && gf_frame_num_rows(tail) > 0)
      st = run_above(tpl, tail, &lo, &to, err);
    if (st == GF_OK && to && gf_frame_num_rows(to) > 0) st = k->push(k, to, pos, err);
    gf_frame_release(tail);
    gf_frame_release(to);
  }
  /* The left columns come first in the output, under their own names: a
   * CSV source's dictionary columns passed through get its final
   * dictionary (the right side's have theirs from its collect). */
  if (st == GF_OK && src->kind == GF_PLAN_CSV && !csv_path) {
    const gf_schema *ls = gf_frame_schema(probe);
    int nl = gf_schema_num_fields(ls), nc = gf_schema_num_fields(os);
    for (int c = 0; c < nc; c++) {
      const gf_field *f = gf_schema_field(os, c);
      int lc = gf_schema_find(ls, f->name);
      int sc = gf_schema_find(s->schema, f->name);
      /* A left column (they keep their names and come first) that no
       * step above or below the join computes. */
      if (f->type.id != GF_TYPE_DICTIONARY || sc < 0 || lc < 0 || lc >= nl ||
          gf_schema_find(gf_frame_schema(shape_out), f->name) != lc ||
          !gfi_stream_passed_through(chain, n, f->name) ||
          !gfi_stream_passed_through(above, na, f->name))
        continue;
      gf_array *d = gfi_source_csv_dictionary(s, sc);
      if (!d) continue;
      gfi_sink_collect_set_dictionary(k, c, d);
      gf_array_release(d);
    }
  }
  if (st == GF_OK) st = k->finish(k, &res, err);
  goto done;
fallback:
  /* Not streamable after all: nothing was read but samples (and, when
   * the keys are refused or the build side is over the limit, the right
   * input); nothing was written. */
  st = GF_OK;
  *handled = false;
done:
  if (k) k->free(k);
  if (s) s->free(s);
  gfi_join_stream_free(js);
  gf_pipeline_free(pl);
  gf_pipeline_free(tpl);
  gf_frame_release(tshape);
  gf_frame_release(empty);
  gf_frame_release(probe);
  gf_frame_release(right);
  gf_frame_release(shape_out);
  st = gfi_ctx_end(&ctx, st, err);
  if (st != GF_OK || !*handled) {
    gf_frame_release(res);
    return st;
  }
  *out = res; /* NULL when the file sink wrote the rows */
  return GF_OK;
}
