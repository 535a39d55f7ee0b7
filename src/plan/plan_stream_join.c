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
#include "ops/sort_join_internal.h"
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

/* The right (build) input of the join: a plain chain streamed into the
 * collect sink (*right, with its source's final dictionaries), or - once
 * the memory the call holds passes a third of the limit, or always under
 * the test hook - into the partitions of a new *spill (the batches held
 * so far first) when `can_spill`. */
typedef struct build_in {
  const gf_plan *p, *src;
  const gf_plan *const *chain;
  int n;
  const gf_frame *left_shape, *right_shape; /* empty frames of the sides */
  bool can_spill;
  int64_t window;
} build_in;

static gf_status build_right(const build_in *in, const gf_plan *jn, const gf_parallel_options *lo,
                             gf_frame **right, gfi_join_spill **spill, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(lo->allocator);
  gfi_source *s = NULL;
  gf_pipeline *pl = NULL;
  gfi_sink *k = NULL;
  gfi_join_spill *sp = NULL;
  gf_frame **held = NULL;
  int nheld = 0, cap = 0;
  int64_t limit = gfi_memory_limit(lo), pos = 0;
  const gfi_ctx *cc = gfi_ctx_of(lo);
  int test = gfi_join_stream_test_spill_parts();
  bool may_spill = in->can_spill;
  gf_status st = gfi_plan_stream_source(in->src, lo, in->window, &s, err);
  if (st == GF_OK) st = gfi_stream_pipeline(in->src, in->chain, in->n, &pl, err);
  if (st == GF_OK) st = gfi_sink_collect(gf_frame_schema(in->right_shape), a, &k, err);
  for (;;) {
    gf_frame *b = NULL, *o = NULL;
    int64_t row0 = 0;
    if (st != GF_OK) break;
    st = s->next(s, &b, &row0, err);
    if (st != GF_OK || !b) break;
    st = gf_pipeline_run(pl, b, lo, &o, err);
    gf_frame_release(b);
    if (st == GF_OK && gf_frame_num_rows(o) > 0) {
      if (sp) {
        st = gfi_join_spill_add(sp, 1, o, err);
      } else {
        st = k->push(k, o, pos, err);
        if (st == GF_OK && in->can_spill && nheld == cap) {
          int nc = cap ? cap * 2 : 16;
          gf_frame **nh = gfi_malloc(a, sizeof *nh * (size_t)nc);
          if (!nh) st = GF_OOM(err, "streamed join build batches");
          else {
            if (nheld) memcpy(nh, held, sizeof *nh * (size_t)nheld);
            if (held) gfi_mfree(a, held, sizeof *held * (size_t)cap);
            held = nh;
            cap = nc;
          }
        }
        if (st == GF_OK && in->can_spill) held[nheld++] = gf_frame_retain(o);
      }
      pos += gf_frame_num_rows(o);
    }
    gf_frame_release(o);
    bool over = test > 0 || (limit > 0 && cc && cc->limiter &&
                             gfi_call_alloc_current(cc->limiter) > limit / 3);
    if (st == GF_OK && !sp && may_spill && over) {
      /* Partition what is held, then the rest as it comes. */
      int parts = test > 0 ? test : 32;
      st = gfi_join_spill_new(gf_frame_schema(in->left_shape), gf_frame_schema(in->right_shape),
                              (const char *const *)jn->names, (const char *const *)jn->names2,
                              jn->nnames, jn->how, jn->suffix, parts, lo, &sp, err);
      /* (A column named like the positions: stay in memory.) */
      if (st == GF_ENOTSUP) {
        st = GF_OK;
        sp = NULL;
        may_spill = false;
        continue;
      }
      for (int i = 0; i < nheld && st == GF_OK; i++) st = gfi_join_spill_add(sp, 1, held[i], err);
      for (int i = 0; i < nheld; i++) gf_frame_release(held[i]);
      nheld = 0;
      k->free(k);
      k = NULL;
    }
    if (st == GF_OK) st = gfi_check_stop(lo, 0, NULL, err);
  }
  if (st == GF_OK && !sp && in->src->kind == GF_PLAN_CSV) {
    const gf_schema *ks = gf_frame_schema(in->right_shape);
    for (int c = 0; c < gf_schema_num_fields(ks); c++) {
      const gf_field *f = gf_schema_field(ks, c);
      int sc = gf_schema_find(s->schema, f->name);
      if (f->type.id != GF_TYPE_DICTIONARY || sc < 0 ||
          !gfi_stream_passed_through(in->chain, in->n, f->name))
        continue;
      gf_array *d = gfi_source_csv_dictionary(s, sc);
      if (!d) continue;
      gfi_sink_collect_set_dictionary(k, c, d);
      gf_array_release(d);
    }
  }
  if (st == GF_OK && !sp) st = k->finish(k, right, err);
  for (int i = 0; i < nheld; i++) gf_frame_release(held[i]);
  if (held) gfi_mfree(a, held, sizeof *held * (size_t)cap);
  if (k) k->free(k);
  if (s) s->free(s);
  gf_pipeline_free(pl);
  if (st != GF_OK) {
    gfi_join_spill_free(sp);
    return st;
  }
  *spill = sp;
  return GF_OK;
}

/* Where the spilled join's batches go: the steps above, then the sink. */
typedef struct emit_to {
  gf_pipeline *tpl;
  gfi_sink *k;
  const gf_parallel_options *lo;
  int64_t pos;
} emit_to;

static gf_status emit_batch(void *user, gf_frame *batch, gf_error *err) {
  emit_to *e = user;
  gf_frame *to = NULL;
  gf_status st = run_above(e->tpl, batch, e->lo, &to, err);
  if (st == GF_OK && gf_frame_num_rows(to) > 0) {
    st = e->k->push(e->k, to, e->pos, err);
    e->pos += gf_frame_num_rows(to);
  }
  gf_frame_release(to);
  return st;
}

gf_status gfi_plan_stream_join(const gf_plan *p, const gf_parallel_options *opts, int64_t window,
                               bool force, const gfi_out_spec *dest,
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
  if (!gfi_stream_shape(p->in[1], &rtop, rchain, &rn, 64, &rsrc) || rtop) return GF_OK;
  /* The sources this join was built and tested for: a CSV file on the
   * left (any frame with `force`), a CSV file or a frame on the right.
   * IPC and Parquet inputs keep the eager join (and its spilling). */
  if (!gfi_plan_stream_source_ok(src, force) || !gfi_plan_stream_source_ok(rsrc, true)) return GF_OK;
  if (src->kind != GF_PLAN_CSV && !(force && src->kind == GF_PLAN_FRAME)) return GF_OK;
  if (rsrc->kind != GF_PLAN_CSV && rsrc->kind != GF_PLAN_FRAME) return GF_OK;
  gfi_ctx ctx;
  gf_parallel_options lo;
  GF_RETURN_NOT_OK(gfi_ctx_load(&ctx, opts, &lo, err));
  lo.stats = NULL;
  const gf_allocator *a = gfi_alloc_or_default(lo.allocator);
  gfi_source *s = NULL;
  gfi_sink *k = NULL;
  gf_pipeline *pl = NULL, *tpl = NULL;
  gfi_join_stream *js = NULL;
  gfi_join_spill *spill = NULL;
  gfi_source *rs0 = NULL;
  gf_pipeline *rpl = NULL;
  gf_frame *empty = NULL, *probe = NULL, *right = NULL, *shape_out = NULL, *tshape = NULL;
  gf_frame *rempty = NULL, *rprobe = NULL, *res = NULL;
  /* The left source first: a file it cannot stream costs only samples. */
  gf_status st = gfi_plan_stream_source(src, &lo, window, &s, err);
  if (st == GF_ENOTSUP) goto fallback;
  if (st == GF_OK) st = gfi_stream_pipeline(src, chain, n, &pl, err);
  if (st == GF_OK) st = gf_frame_new(s->schema, NULL, 0, a, &empty, err);
  if (st == GF_OK) {
    /* A chain that does not type-check runs the materialising way, whose
     * re-check names the user's step. */
    st = gf_pipeline_run(pl, empty, &lo, &probe, err);
    if (st != GF_OK && st != GF_ENOMEM && st != GF_ECANCELED && st != GF_ETIMEDOUT) goto fallback;
  }
  /* The output's columns, and the keys checked, from the join of the two
   * sides' empty frames (keys the join refuses: the materialising run
   * reports them as a step). */
  if (st == GF_OK) st = gfi_plan_stream_source(rsrc, &lo, window, &rs0, err);
  if (st == GF_ENOTSUP) goto fallback;
  if (st == GF_OK) st = gfi_stream_pipeline(rsrc, rchain, rn, &rpl, err);
  if (st == GF_OK) st = gf_frame_new(rs0->schema, NULL, 0, a, &rempty, err);
  if (st == GF_OK) {
    st = gf_pipeline_run(rpl, rempty, &lo, &rprobe, err);
    if (st != GF_OK && st != GF_ENOMEM && st != GF_ECANCELED && st != GF_ETIMEDOUT) goto fallback;
  }
  if (rs0) rs0->free(rs0);
  rs0 = NULL;
  if (st == GF_OK) {
    gf_join_options jo;
    gf_join_options_init(&jo);
    gf_parallel_options po = lo;
    jo.parallel = &po;
    if (p->suffix) jo.suffix = p->suffix;
    st = gfi_join_mem(probe, rprobe, (const char *const *)p->names, (const char *const *)p->names2,
                      p->nnames, p->how, &jo, NULL, NULL, &shape_out, err);
    if (st == GF_EINVAL || st == GF_ETYPE) goto fallback;
  }
  /* The build side: whole in memory, or partitioned into a spill file
   * when it does not fit (a plain chain with keys one hash partitions). */
  if (st == GF_OK) {
    build_in bi = {p->in[1], rsrc, rchain, rn, probe, rprobe,
                   gfi_join_spill_eligible(probe, rprobe, (const char *const *)p->names,
                                           (const char *const *)p->names2, p->nnames),
                   window};
    st = build_right(&bi, p, &lo, &right, &spill, err);
  }
  if (st == GF_OK && !spill) {
    st = gfi_join_stream_new(right, gf_frame_schema(probe), (const char *const *)p->names,
                             (const char *const *)p->names2, p->nnames, p->how, p->suffix, &lo, &js,
                             err);
    if (st == GF_EINVAL || st == GF_ETYPE) goto fallback;
  }
  /* A build side over the memory limit that could not be partitioned:
   * the materialising run's gf_join may still partition both inputs. */
  if (st == GF_ENOMEM && gfi_memory_limit(&lo) > 0) goto fallback;
  /* The output's schema: the join of no left rows through the steps
   * above it (a step that does not type-check: the materialising run
   * names it). The pipeline over the join's output has no source, hence
   * no pushed predicate. */
  gf_plan nosrc;
  memset(&nosrc, 0, sizeof nosrc);
  if (st == GF_OK && na > 0) st = gfi_stream_pipeline(&nosrc, above, na, &tpl, err);
  if (st == GF_OK) {
    st = run_above(tpl, shape_out, &lo, &tshape, err);
    if (st != GF_OK && st != GF_ENOMEM && st != GF_ECANCELED && st != GF_ETIMEDOUT) goto fallback;
  }
  const gf_schema *os = st == GF_OK ? gf_frame_schema(tshape) : NULL;
  if (st == GF_OK && dest) {
    /* Output batches follow the windows in memory and the merge when
     * spilled: the file gets them on one grid whatever the limit. */
    st = gfi_stream_open_output(dest, os, &lo, &k, err);
    if (st == GF_OK) st = gfi_sink_rebatch(&k, 0, a, err);
  }
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
    if (st == GF_OK && gf_frame_num_rows(o) > 0 && spill) st = gfi_join_spill_add(spill, 0, o, err);
    else if (st == GF_OK && gf_frame_num_rows(o) > 0) st = gfi_join_stream_probe(js, o, &jo, err);
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
  if (st == GF_OK && spill) {
    emit_to e = {tpl, k, &lo, pos};
    st = gfi_join_spill_run(spill, emit_batch, &e, err);
  } else if (st == GF_OK) {
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
  /* (Spilled: the blocks' dictionaries were unified, codes are not the
   * source's.) */
  if (st == GF_OK && src->kind == GF_PLAN_CSV && !dest && !spill) {
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
  gfi_join_spill_free(spill);
  if (rs0) rs0->free(rs0);
  gf_pipeline_free(rpl);
  gf_frame_release(rempty);
  gf_frame_release(rprobe);
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
