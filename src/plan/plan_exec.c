/*
 * Running a plan: collect and the sinks (include/gopherframe/plan.h).
 *
 * A run has two phases:
 *  1. every source is read (projection applied while reading where the
 *     reader can) and the plan is rebuilt over the frames read, which
 *     checks every node again against the schemas actually read (a CSV
 *     column may widen after the sample): no operator runs before the
 *     whole plan is known to type-check;
 *  2. the rebuilt plan runs bottom-up. A chain of filter / having /
 *     with_columns / select / limit / group_by / sort / join nodes becomes
 *     one gf_pipeline (query.h) over the chain's input frame, the fused
 *     engine that fuses the streaming steps per morsel, feeds a group-by
 *     from morsel outputs and makes a sort + limit a top-k; the right
 *     inputs of joins, union and distinct run on their own.
 * Every step is one of the eager operators applied in plan order, so the
 * result equals the eager chain bit for bit.
 */
#include <string.h>

#include "data/array_internal.h"
#include "exec/exec_internal.h"
#include "plan/plan_internal.h"
#include "plan/plan_stream_internal.h"

/* The state of one run. */
typedef struct xrun {
  gf_parallel_options o;  /* the caller's options (stats cleared) */
  int64_t t0;
  gf_exec_stats *stats;   /* scratch for one operator (profiling), or NULL */
  gf_plan_profile *prof;  /* being filled, or NULL */
  gfi_call_alloc *tracker; /* profiling: tracks every allocation of the
                              run (x->o.allocator is it), its peak restarted
                              at each operator, or NULL */
  gf_error *err;
  bool recheck_failed;    /* phase 1 failed checking, not reading */
  int nread, read_cap;    /* what phase 1 read, per user source: */
  const gf_plan **read_src;
  gf_schema **read_schema;
} xrun;

/* ---- options, deadline, profile ----------------------------------------- */

/* Options for the next operator: the run's, with what is left of its
 * timeout; GF_ETIMEDOUT / GF_ECANCELED when the run must stop. */
static gf_status op_options(const xrun *x, gf_parallel_options *o) {
  *o = x->o;
  if (x->o.cancel && gf_cancel_requested(x->o.cancel))
    return gf_error_set(x->err, GF_ECANCELED, "plan run cancelled");
  if (x->o.timeout_ms > 0) {
    int64_t used = (gfi_now_ns() - x->t0) / 1000000;
    if (used >= x->o.timeout_ms)
      return gf_error_set(x->err, GF_ETIMEDOUT, "plan run timed out after %lld ms",
                          (long long)x->o.timeout_ms);
    o->timeout_ms = x->o.timeout_ms - used;
  }
  if (x->stats) {
    memset(x->stats, 0, sizeof *x->stats);
    x->stats->size = sizeof *x->stats;
    o->stats = x->stats;
  }
  if (x->tracker) gfi_call_alloc_reset_peak(x->tracker);
  return GF_OK;
}

/* Appends one operator to the profile (no-op when not profiling). The
 * array is kept at its exact length, so gf_plan_profile_free knows its
 * size; a failed growth only drops the entry. */
static void prof_add(xrun *x, const gf_plan *p, int depth, const char *name, int64_t in,
                     int64_t out, int64_t t0, const gf_exec_stats *s) {
  if (!x->prof) return;
  gf_plan_profile *pr = x->prof;
  char *nm = gfi_plan_strdup(name);
  gf_plan_profile_op *v = gfi_calloc(NULL, sizeof *v * (size_t)(pr->nops + 1));
  if (!nm || !v) {
    gfi_plan_strfree(nm);
    if (v) gfi_mfree(NULL, v, sizeof *v * (size_t)(pr->nops + 1));
    return;
  }
  if (pr->ops) {
    memcpy(v, pr->ops, sizeof *v * (size_t)pr->nops);
    gfi_mfree(NULL, pr->ops, sizeof *v * (size_t)pr->nops);
  }
  pr->ops = v;
  gf_plan_profile_op *op = &pr->ops[pr->nops++];
  op->step = p ? p->step : 0;
  op->depth = depth;
  op->name = nm;
  op->rows_in = in;
  op->rows_out = out;
  op->wall_ns = gfi_now_ns() - t0;
  /* The peak of the bytes live through the run's tracked allocator while
   * the operator ran (its input included), restarted for the next one; a
   * call's own statistics see only part of that (an operator nested in a
   * pipeline has no tracked call of its own). */
  op->peak_memory = s && s->size ? s->peak_memory : 0;
  if (x->tracker) {
    int64_t pk = gfi_call_alloc_peak(x->tracker);
    if (pk > op->peak_memory) op->peak_memory = pk;
    gfi_call_alloc_reset_peak(x->tracker);
  }
  op->workers = s && s->size && s->workers_used > 0 ? s->workers_used : 1;
  if (op->peak_memory > pr->peak_memory) pr->peak_memory = op->peak_memory;
}

void gf_plan_profile_free(gf_plan_profile *p) {
  if (!p) return;
  for (int i = 0; i < p->nops; i++) gfi_plan_strfree((char *)p->ops[i].name);
  if (p->ops) gfi_mfree(NULL, p->ops, sizeof *p->ops * (size_t)p->nops);
  gfi_mfree(NULL, p, sizeof *p);
}

/* ---- phase 1: reading the sources --------------------------------------- */

/* `f` narrowed to the source's projection (f is consumed). */
static gf_status apply_proj(const gf_plan *p, gf_frame *f, gf_frame **out, gf_error *err) {
  if (p->nproj < 0) {
    *out = f;
    return GF_OK;
  }
  gf_frame *s = NULL;
  gf_status st = gf_select(f, (const char *const *)p->proj, p->nproj, &s, err);
  gf_frame_release(f);
  if (st == GF_OK) *out = s;
  return st;
}

/* Reads the CSV file(s) of a source, parsing only the projected columns. */
static gf_status read_csv(xrun *x, const gf_plan *p, const gf_parallel_options *o, gf_frame **out) {
  gf_csv_read_options ro = p->csv->o;
  ro.parallel = o;
  if (p->nproj >= 0) {
    /* The reader parses the subset in file order: the same order as the
     * projection, which lists source columns in source order. */
    ro.columns = (const char *const *)p->proj;
    ro.num_columns = p->nproj;
  }
  /* A pushed limit, when the types read cannot depend on the rows read. */
  int64_t cap = gfi_csv_scan_cap(p);
  if (cap > 0 && (ro.max_rows <= 0 || ro.max_rows > cap)) ro.max_rows = cap;
  int n = p->csv->npaths;
  gf_frame **parts = gfi_calloc(NULL, sizeof *parts * (size_t)n);
  if (!parts) return GF_OOM(x->err, "CSV source");
  gf_status st = GF_OK;
  for (int i = 0; i < n && st == GF_OK; i++) {
    if (p->csv->mem && p->csv->mem[i]) {
      /* Read whole when the source was built (a pipe): the run's
       * projection is a select of it, in source order as the reader's. */
      gf_frame *m = gf_frame_retain(p->csv->mem[i]);
      if (p->nproj >= 0) st = apply_proj(p, m, &parts[i], x->err);
      else parts[i] = m;
    } else {
      st = gf_read_csv(p->csv->paths[i], &ro, &parts[i], x->err);
    }
    if (st == GF_OK && i > 0 && !gf_schema_equals(gf_frame_schema(parts[i]), gf_frame_schema(parts[0])))
      st = gf_error_set(x->err, GF_ETYPE,
                        "scan_csv: '%.300s' was read with a schema other than '%.300s' (set "
                        "column_types to read them alike)",
                        p->csv->paths[i], p->csv->paths[0]);
  }
  if (st == GF_OK) {
    if (n == 1) *out = gf_frame_retain(parts[0]);
    else st = gf_frame_concat(parts, n, o->allocator, out, x->err);
  }
  for (int i = 0; i < n; i++) gf_frame_release(parts[i]);
  gfi_mfree(NULL, parts, sizeof *parts * (size_t)n);
  if (st == GF_OK && p->nproj >= 0) {
    /* Already narrowed by the reader; a select keeps the order exact. */
    st = apply_proj(p, *out, out, x->err);
  }
  return st;
}

/* Reads an IPC source. With a projection, the file is opened trusting its
 * layout (only the metadata is read, the body stays untouched) and only
 * the projected columns are then validated as the caller's validation
 * level asks and given statistics: the other columns' pages are never
 * read. */
static gf_status read_ipc(xrun *x, const gf_plan *p, const gf_parallel_options *o, gf_frame **out) {
  gf_ipc_read_options ro = p->ipc->o;
  ro.parallel = o;
  gf_ipc_validation v = ro.validation;
  if (p->ipc->mem) /* read (and validated) whole when built: a pipe */
    return apply_proj(p, gf_frame_retain(p->ipc->mem), out, x->err);
  if (p->nproj < 0 || v == GF_IPC_VALIDATE_METADATA_ONLY) {
    gf_frame *f = NULL;
    GF_RETURN_NOT_OK(gf_read_ipc(p->ipc->path, &ro, &f, x->err));
    return apply_proj(p, f, out, x->err);
  }
  ro.validation = GF_IPC_VALIDATE_METADATA_ONLY;
  gf_frame *f = NULL;
  GF_RETURN_NOT_OK(gf_read_ipc(p->ipc->path, &ro, &f, x->err));
  GF_RETURN_NOT_OK(apply_proj(p, f, &f, x->err));
  gf_status st = GF_OK;
  for (int b = 0; b < gf_frame_num_batches(f) && st == GF_OK; b++)
    for (int c = 0; c < gf_frame_num_columns(f) && st == GF_OK; c++) {
      gf_array *a = gf_frame_column(f, b, c);
      gf_error sub;
      st = gf_array_validate(a, v == GF_IPC_VALIDATE_FULL, &sub);
      if (st != GF_OK)
        st = gf_error_set(x->err, st, "%s: column '%.200s', batch %d: %s", p->ipc->path,
                          gf_schema_field(gf_frame_schema(f), c)->name, b, sub.message);
      else
        gfi_array_compute_stats(a); /* this run's own fresh array */
    }
  if (st != GF_OK) {
    gf_frame_release(f);
    return st;
  }
  *out = f;
  return GF_OK;
}

/* Reads one source into a frame (projection applied). */
static gf_status read_source(xrun *x, const gf_plan *p, int depth, gf_frame **out) {
  gf_parallel_options o;
  GF_RETURN_NOT_OK(op_options(x, &o));
  int64_t t0 = gfi_now_ns();
  gf_frame *f = NULL;
  gf_status st = GF_OK;
  switch (p->kind) {
  case GF_PLAN_FRAME:
    f = gf_frame_retain(p->frame);
    st = apply_proj(p, f, &f, x->err);
    break;
  case GF_PLAN_CSV:
    st = read_csv(x, p, &o, &f);
    break;
  case GF_PLAN_IPC:
    st = read_ipc(x, p, &o, &f);
    break;
  case GF_PLAN_FILES:
    st = gfi_files_read(p, &o, &f, x->err);
    break;
  case GF_PLAN_PARQUET:
    st = gfi_parquet_read(p, &o, &f, x->err);
    break;
  case GF_PLAN_STREAM: {
    bool was = atomic_exchange(&p->stream->consumed, true);
    if (was) {
      st = gf_error_set(x->err, GF_EINVAL, "step %d (stream): stream source already consumed by an earlier run",
                        p->step);
      break;
    }
    st = gf_frame_import_stream_with(&p->stream->stream, GF_IMPORT_CHECK_FULL, o.allocator, &f, x->err);
    if (st == GF_OK) st = apply_proj(p, f, &f, x->err);
    break;
  }
  default:
    st = gf_error_set(x->err, GF_EINVAL, "not a source");
    break;
  }
  if (st != GF_OK) return st;
  prof_add(x, p, depth, gf_plan_kind_name(p->kind), gf_frame_num_rows(f), gf_frame_num_rows(f), t0,
           x->stats);
  *out = f;
  return GF_OK;
}

/* Remembers the schema read for user source `src`. */
static gf_status note_read(xrun *x, const gf_plan *src, gf_schema *schema) {
  if (x->nread == x->read_cap) {
    int cap = x->read_cap ? x->read_cap * 2 : 4;
    const gf_plan **s = gfi_malloc(NULL, sizeof *s * (size_t)cap);
    gf_schema **sc = gfi_malloc(NULL, sizeof *sc * (size_t)cap);
    if (!s || !sc) {
      if (s) gfi_mfree(NULL, (void *)s, sizeof *s * (size_t)cap);
      if (sc) gfi_mfree(NULL, sc, sizeof *sc * (size_t)cap);
      return GF_ENOMEM;
    }
    if (x->read_src) {
      memcpy(s, x->read_src, sizeof *s * (size_t)x->nread);
      memcpy(sc, x->read_schema, sizeof *sc * (size_t)x->nread);
      gfi_mfree(NULL, (void *)x->read_src, sizeof *s * (size_t)x->read_cap);
      gfi_mfree(NULL, x->read_schema, sizeof *sc * (size_t)x->read_cap);
    }
    x->read_src = s;
    x->read_schema = sc;
    x->read_cap = cap;
  }
  x->read_src[x->nread] = src;
  x->read_schema[x->nread++] = gf_schema_retain(schema);
  return GF_OK;
}

/* The plan with every source replaced by a frame source over what was
 * read (its pushed predicate kept), every node checked again. */
static gf_status bind_sources(xrun *x, const gf_plan *p, int depth, gf_plan **out) {
  if (p->nin == 0) {
    gf_frame *f = NULL;
    GF_RETURN_NOT_OK(read_source(x, p, depth, &f));
    gf_plan *n = gfi_plan_alloc(GF_PLAN_FRAME);
    if (!n) {
      gf_frame_release(f);
      return GF_OOM(x->err, "plan node");
    }
    n->frame = f;
    n->src_schema = gf_schema_retain(gf_frame_schema(f));
    n->pred = p->pred ? gf_expr_retain(p->pred) : NULL;
    if (note_read(x, p->origin ? p->origin : p, n->src_schema) != GF_OK) {
      gf_plan_release(n);
      return GF_OOM(x->err, "plan run");
    }
    gf_status st = gfi_plan_finish(n, out, x->err);
    if (st == GF_OK) (*out)->step = p->step;
    else if (st != GF_ENOMEM) x->recheck_failed = true;
    return st;
  }
  gf_plan *c = gfi_plan_clone(p);
  if (!c) return GF_OOM(x->err, "plan node");
  for (int i = 0; i < p->nin; i++) {
    gf_plan *in = NULL;
    gf_status st = bind_sources(x, p->in[i], depth + 1, &in);
    if (st != GF_OK) {
      gf_plan_release(c);
      return st;
    }
    gfi_plan_set_input(c, i, in);
    gf_plan_release(in);
  }
  gf_status st = gfi_plan_finish(c, out, x->err);
  if (st == GF_OK) (*out)->step = p->step;
  else if (st != GF_ENOMEM) x->recheck_failed = true;
  return st;
}

/* The user's plan over sources of the schemas read (columns not read keep
 * their planned type), checked again: its message names the user's own
 * step when the optimized plan failed its check after the read. */
static gf_status recheck_user_plan(xrun *x, const gf_plan *p, gf_plan **out, gf_error *err) {
  if (p->nin == 0) {
    const gf_schema *read = NULL;
    for (int i = 0; i < x->nread; i++)
      if (x->read_src[i] == p) read = x->read_schema[i];
    int n = gf_schema_num_fields(p->src_schema);
    gf_field *fields = gfi_calloc(NULL, sizeof *fields * (size_t)(n > 0 ? n : 1));
    if (!fields) return GF_OOM(err, "plan check");
    for (int i = 0; i < n; i++) {
      fields[i] = *gf_schema_field(p->src_schema, i);
      int j = read ? gf_schema_find(read, fields[i].name) : -1;
      if (j >= 0) fields[i] = *gf_schema_field(read, j);
    }
    gf_schema *sc = NULL;
    gf_frame *e0 = NULL;
    gf_status st = gf_schema_new(fields, n, &sc, err);
    gfi_mfree(NULL, fields, sizeof *fields * (size_t)(n > 0 ? n : 1));
    if (st == GF_OK) st = gfi_plan_empty_frame(sc, &e0, err);
    gf_schema_release(sc);
    gf_plan *c = st == GF_OK ? gfi_plan_clone(p) : NULL;
    if (st == GF_OK && !c) st = GF_OOM(err, "plan check");
    if (st == GF_OK) {
      gf_schema_release(c->src_schema);
      c->src_schema = gf_schema_retain(gf_frame_schema(e0));
      c->kind = GF_PLAN_FRAME;
      c->frame = gf_frame_retain(e0);
      st = gfi_plan_finish(c, out, err);
    }
    gf_frame_release(e0);
    return st;
  }
  gf_plan *in[2] = {NULL, NULL};
  gf_status st = GF_OK;
  for (int i = 0; i < p->nin && st == GF_OK; i++) st = recheck_user_plan(x, p->in[i], &in[i], err);
  gf_plan *c = NULL;
  if (st == GF_OK) {
    c = gfi_plan_clone(p);
    if (!c) st = GF_OOM(err, "plan check");
  }
  if (st == GF_OK) {
    for (int i = 0; i < p->nin; i++) gfi_plan_set_input(c, i, in[i]);
    st = gfi_plan_finish(c, out, err);
  }
  for (int i = 0; i < 2; i++) gf_plan_release(in[i]);
  return st;
}

/* ---- phase 2: running --------------------------------------------------- */

static gf_status run_node(xrun *x, const gf_plan *p, int depth, gf_frame **out);

/* True when node p runs as a step of a pipeline (top: the chain's top). */
static bool chainable(const gf_plan *p, bool top) {
  switch (p->kind) {
  case GF_PLAN_FILTER:
  case GF_PLAN_HAVING:
  case GF_PLAN_WITH:
  case GF_PLAN_SELECT:
  case GF_PLAN_GROUP_BY:
  case GF_PLAN_SORT:
  case GF_PLAN_JOIN:
    return true;
  case GF_PLAN_LIMIT:
    return top || p->offset == 0;
  default:
    return false;
  }
}

/* Observer of a pipeline run: one profile entry per executed step,
 * attributed to the chain node it ran (a fused pass to its last node). */
typedef struct pobs {
  xrun *x;
  const gf_plan **chain; /* bottom to top */
  int n, at;             /* nodes, next unattributed node */
  int depth;
} pobs;

static bool is_streaming(gf_plan_kind k) {
  return k == GF_PLAN_FILTER || k == GF_PLAN_HAVING || k == GF_PLAN_WITH || k == GF_PLAN_SELECT ||
         k == GF_PLAN_LIMIT || k == GF_PLAN_FRAME;
}

static void observe(void *user, const gf_pipeline_step_info *info) {
  pobs *po = user;
  xrun *x = po->x;
  if (!x->prof || po->n == 0) return;
  int i = po->at < po->n ? po->at : po->n - 1;
  gf_plan_kind want = strcmp(info->name, "group-by") == 0 ? GF_PLAN_GROUP_BY
                      : strcmp(info->name, "sort") == 0   ? GF_PLAN_SORT
                      : strcmp(info->name, "join") == 0   ? GF_PLAN_JOIN
                                                          : GF_PLAN_FILTER;
  if (want == GF_PLAN_FILTER) {
    while (i + 1 < po->n && is_streaming(po->chain[i + 1]->kind)) i++;
  } else {
    while (i + 1 < po->n && po->chain[i]->kind != want) i++;
  }
  po->at = i + 1;
  prof_add(x, po->chain[i], po->depth + po->n - 1 - i, info->name, info->rows_in, info->rows_out,
           gfi_now_ns() - info->wall_ns, info->stats);
}

/* Adds node p as pipeline steps; `right`: a join's right input frame;
 * `next`: the node above p in the chain (NULL at the top). */
static gf_status add_step(xrun *x, gf_pipeline *pl, const gf_plan *p, gf_frame *right,
                          const gf_plan *next) {
  gf_error *err = x->err;
  switch (p->kind) {
  case GF_PLAN_FILTER:
  case GF_PLAN_HAVING:
    return gf_pipeline_add_filter(pl, p->exprs[0], err);
  case GF_PLAN_WITH:
    return gf_pipeline_add_with(pl, (const char *const *)p->names, p->exprs, p->nnames, err);
  case GF_PLAN_SELECT:
    return gf_pipeline_add_select(pl, (const char *const *)p->names, p->nnames, err);
  case GF_PLAN_GROUP_BY:
    return gf_pipeline_add_group_by(pl, (const char *const *)p->names, p->nnames, p->aggs_text,
                                    p->sort_keys, err);
  case GF_PLAN_SORT:
    GF_RETURN_NOT_OK(gf_pipeline_add_sort(pl, p->keys, p->nkeys, err));
    /* A pushed limit: the pipeline makes sort + limit a top-k (the limit
     * above, if any, is that limit already). */
    if (p->topk > 0 && !(next && next->kind == GF_PLAN_LIMIT))
      return gf_pipeline_add_limit(pl, p->topk, err);
    return GF_OK;
  case GF_PLAN_JOIN:
    return gf_pipeline_add_join(pl, right, (const char *const *)p->names,
                                (const char *const *)p->names2, p->nnames, p->how, p->suffix, err);
  case GF_PLAN_FRAME: /* a source's pushed predicate */
    return gf_pipeline_add_filter(pl, p->pred, err);
  case GF_PLAN_LIMIT: {
    int64_t n = p->count > INT64_MAX - p->offset ? INT64_MAX : p->offset + p->count;
    return gf_pipeline_add_limit(pl, n, err);
  }
  default:
    return gf_error_set(err, GF_EINVAL, "internal: %s is not a pipeline step", gf_plan_kind_name(p->kind));
  }
}

/* Runs the chain of pipeline-able nodes topped by p over its base. */
static gf_status run_chain(xrun *x, const gf_plan *p, int depth, gf_frame **out) {
  int n = 0;
  const gf_plan *q = p;
  for (; chainable(q, q == p); q = q->in[0]) n++;
  /* A frame source's pushed predicate runs as the chain's first step, so
   * it fuses with what follows (a group-by reads its morsel outputs). */
  bool src_pred = q->kind == GF_PLAN_FRAME && q->pred;
  if (src_pred) n++;
  const gf_plan **chain = gfi_calloc(NULL, sizeof *chain * (size_t)n);
  gf_frame **rights = gfi_calloc(NULL, sizeof *rights * (size_t)n);
  gf_status st = GF_OK;
  if (!chain || !rights) st = GF_OOM(x->err, "plan chain");
  q = p;
  for (int i = 0; i < n && st == GF_OK; i++) {
    chain[n - 1 - i] = q;
    if (q->nin > 0) q = q->in[0];
  }
  gf_frame *base = NULL, *res = NULL;
  if (st == GF_OK && src_pred) base = gf_frame_retain(q->frame);
  else if (st == GF_OK) st = run_node(x, q, depth + n, &base);
  for (int i = 0; i < n && st == GF_OK; i++)
    if (chain[i]->kind == GF_PLAN_JOIN) st = run_node(x, chain[i]->in[1], depth + n - i, &rights[i]);
  gf_pipeline *pl = NULL;
  if (st == GF_OK) st = gf_pipeline_new(&pl, x->err);
  for (int i = 0; i < n && st == GF_OK; i++)
    st = add_step(x, pl, chain[i], rights[i], i + 1 < n ? chain[i + 1] : NULL);
  pobs po = {x, chain, n, 0, depth};
  gf_parallel_options o;
  if (st == GF_OK) {
    gf_pipeline_set_observer(pl, observe, &po);
    st = op_options(x, &o);
    o.stats = NULL;
  }
  if (st == GF_OK) st = gf_pipeline_run(pl, base, &o, &res, x->err);
  if (st == GF_OK && p->kind == GF_PLAN_LIMIT && p->offset > 0) {
    int64_t t0 = gfi_now_ns(), rows = gf_frame_num_rows(res);
    int64_t off = p->offset < rows ? p->offset : rows;
    int64_t len = rows - off < p->count ? rows - off : p->count;
    gf_frame *s = NULL;
    st = gf_frame_slice(res, off, len, &s, x->err);
    gf_frame_release(res);
    res = st == GF_OK ? s : NULL;
    if (st == GF_OK) prof_add(x, p, depth, "offset", rows, gf_frame_num_rows(s), t0, NULL);
  }
  gf_pipeline_free(pl);
  gf_frame_release(base);
  if (rights) {
    for (int i = 0; i < n; i++) gf_frame_release(rights[i]);
    gfi_mfree(NULL, rights, sizeof *rights * (size_t)n);
  }
  if (chain) gfi_mfree(NULL, (void *)chain, sizeof *chain * (size_t)n);
  if (st != GF_OK) {
    gf_frame_release(res);
    return st;
  }
  *out = res;
  return GF_OK;
}

/* A frame with the same arrays under `schema` (which differs only in
 * nullability). */
static gf_status reschema(const gf_frame *f, const gf_schema *schema, const gf_allocator *a,
                          gf_frame **out, gf_error *err) {
  int nb = gf_frame_num_batches(f), nc = gf_frame_num_columns(f);
  size_t n = (size_t)(nb > 0 ? nb : 1) * (size_t)(nc > 0 ? nc : 1);
  gf_array **cols = gfi_malloc(NULL, sizeof *cols * n);
  if (!cols) return GF_OOM(err, "union");
  for (int b = 0; b < nb; b++)
    for (int c = 0; c < nc; c++) cols[(size_t)b * (size_t)nc + (size_t)c] = gf_frame_column(f, b, c);
  gf_status st = gf_frame_new((gf_schema *)schema, cols, nb, a, out, err);
  gfi_mfree(NULL, cols, sizeof *cols * n);
  return st;
}

/* One input of a union brought to the union's schema: its columns cast to
 * the union's types where they differ, the columns it lacks added as
 * typed nulls, all in the union's order (f is borrowed). */
static gf_status union_side(const gf_frame *f, const gf_schema *u, const gf_parallel_options *o,
                            gf_frame **out, gf_error *err) {
  int n = gf_schema_num_fields(u), k = 0;
  const gf_schema *fs = gf_frame_schema(f);
  size_t cap = (size_t)(n > 0 ? n : 1);
  const char **names = gfi_calloc(NULL, sizeof *names * cap);
  const char **wn = gfi_calloc(NULL, sizeof *wn * cap);
  gf_expr **we = gfi_calloc(NULL, sizeof *we * cap);
  gf_status st = names && wn && we ? GF_OK : GF_OOM(err, "union");
  for (int i = 0; i < n && st == GF_OK; i++) {
    const gf_field *fu = gf_schema_field(u, i);
    names[i] = fu->name;
    int c = gf_schema_find(fs, fu->name);
    if (c >= 0 && gf_type_equals(gf_schema_field(fs, c)->type, fu->type)) continue;
    gf_expr *base = c >= 0 ? gf_col(fu->name) : gf_lit_null();
    we[k] = base ? gf_cast(base, fu->type) : NULL; /* consumes base */
    wn[k] = fu->name;
    if (!we[k++]) st = GF_OOM(err, "union");
  }
  gf_frame *w = NULL;
  if (st == GF_OK && k > 0) st = gf_with_columns(f, wn, we, k, o, &w, err);
  else if (st == GF_OK) w = gf_frame_retain((gf_frame *)f);
  gf_frame *sel = NULL;
  if (st == GF_OK) st = gf_select(w, names, n, &sel, err);
  gf_frame_release(w);
  if (st == GF_OK && !gf_schema_equals(gf_frame_schema(sel), u)) {
    gf_frame *r = NULL;
    st = reschema(sel, u, o->allocator, &r, err);
    gf_frame_release(sel);
    sel = st == GF_OK ? r : NULL;
  }
  for (int i = 0; i < k; i++) gf_expr_release(we[i]);
  if (names) gfi_mfree(NULL, (void *)names, sizeof *names * cap);
  if (wn) gfi_mfree(NULL, (void *)wn, sizeof *wn * cap);
  if (we) gfi_mfree(NULL, we, sizeof *we * cap);
  if (st == GF_OK) *out = sel;
  return st;
}

/* Union by name: each input brought to the union's schema, then the
 * concatenation. */
static gf_status run_union(xrun *x, const gf_plan *p, int depth, gf_frame **out) {
  gf_frame *fr[2] = {NULL, NULL}, *fx[2] = {NULL, NULL};
  gf_status st = run_node(x, p->in[0], depth + 1, &fr[0]);
  if (st == GF_OK) st = run_node(x, p->in[1], depth + 1, &fr[1]);
  int64_t t0 = gfi_now_ns();
  gf_parallel_options o;
  if (st == GF_OK) st = op_options(x, &o);
  o.stats = NULL;
  for (int i = 0; i < 2 && st == GF_OK; i++) st = union_side(fr[i], p->schema, &o, &fx[i], x->err);
  if (st == GF_OK) st = gf_frame_concat(fx, 2, o.allocator, out, x->err);
  if (st == GF_OK)
    prof_add(x, p, depth, "union", gf_frame_num_rows(fr[0]) + gf_frame_num_rows(fr[1]),
             gf_frame_num_rows(*out), t0, NULL);
  for (int i = 0; i < 2; i++) {
    gf_frame_release(fr[i]);
    gf_frame_release(fx[i]);
  }
  return st;
}

static gf_status run_node(xrun *x, const gf_plan *p, int depth, gf_frame **out) {
  if (chainable(p, true)) return run_chain(x, p, depth, out);
  if (p->kind == GF_PLAN_UNION) return run_union(x, p, depth, out);
  gf_parallel_options o;
  if (p->kind == GF_PLAN_DISTINCT) {
    gf_frame *in = NULL, *r = NULL;
    GF_RETURN_NOT_OK(run_node(x, p->in[0], depth + 1, &in));
    int64_t t0 = gfi_now_ns();
    gf_status st = op_options(x, &o);
    if (st == GF_OK) st = gf_distinct(in, (const char *const *)p->names, p->nnames, &o, &r, x->err);
    if (st == GF_OK) prof_add(x, p, depth, "distinct", gf_frame_num_rows(in), gf_frame_num_rows(r), t0, x->stats);
    gf_frame_release(in);
    if (st == GF_OK) *out = r;
    return st;
  }
  /* A frame source (after phase 1), with its pushed predicate. */
  if (p->kind != GF_PLAN_FRAME)
    return gf_error_set(x->err, GF_EINVAL, "internal: unread %s source", gf_plan_kind_name(p->kind));
  if (!p->pred) {
    *out = gf_frame_retain(p->frame);
    return GF_OK;
  }
  int64_t t0 = gfi_now_ns();
  GF_RETURN_NOT_OK(op_options(x, &o));
  gf_frame *r = NULL;
  GF_RETURN_NOT_OK(gf_filter(p->frame, p->pred, &o, &r, x->err));
  prof_add(x, p, depth, "filter (pushed into the source)", gf_frame_num_rows(p->frame),
           gf_frame_num_rows(r), t0, x->stats);
  *out = r;
  return GF_OK;
}

/* ---- streamed sub-plans --------------------------------------------------- */

/* p with every group-by whose subtree streams (plan_stream.c) replaced by a
 * frame source over its streamed result, or p itself (retained) when none
 * does: a sort, select, limit or having above a group-by then runs on the
 * small result while the file below streams. */
static gf_status stream_groupbys(xrun *x, const gf_plan *p, gf_plan **out) {
  if (p->kind == GF_PLAN_GROUP_BY) {
    gf_frame *f = NULL;
    bool handled = false;
    GF_RETURN_NOT_OK(gfi_plan_stream(p, &x->o, 0, false, NULL, &f, &handled, x->err));
    if (handled) {
      gf_plan *n = gfi_plan_alloc(GF_PLAN_FRAME);
      if (!n) {
        gf_frame_release(f);
        return GF_OOM(x->err, "plan node");
      }
      n->frame = f;
      n->src_schema = gf_schema_retain(gf_frame_schema(f));
      gf_status st = gfi_plan_finish(n, out, x->err);
      if (st == GF_OK) (*out)->step = p->step;
      return st;
    }
  }
  /* A having checks that a group-by is its input: left as it is. */
  if (p->nin == 0 || p->kind == GF_PLAN_HAVING) {
    *out = gf_plan_retain((gf_plan *)p);
    return GF_OK;
  }
  gf_plan *in[2] = {NULL, NULL};
  bool changed = false;
  gf_status st = GF_OK;
  for (int i = 0; i < p->nin && st == GF_OK; i++) {
    st = stream_groupbys(x, p->in[i], &in[i]);
    if (st == GF_OK && in[i] != p->in[i]) changed = true;
  }
  if (st == GF_OK && !changed) {
    *out = gf_plan_retain((gf_plan *)p);
  } else if (st == GF_OK) {
    gf_plan *c = gfi_plan_clone(p);
    if (!c) st = GF_OOM(x->err, "plan node");
    for (int i = 0; st == GF_OK && i < p->nin; i++) gfi_plan_set_input(c, i, in[i]);
    if (st == GF_OK) st = gfi_plan_finish(c, out, x->err);
    if (st == GF_OK) (*out)->step = p->step;
  }
  for (int i = 0; i < 2; i++) gf_plan_release(in[i]);
  return st;
}

/* ---- entry points ------------------------------------------------------- */

void gf_plan_options_init(gf_plan_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
}

/* Loads the caller's plan options (NULL or a shorter struct = defaults). */
static void load_options(const gf_plan_options *in, gf_plan_options *o) {
  gf_plan_options_init(o);
  if (in) memcpy(o, in, in->size && in->size < sizeof *o ? in->size : sizeof *o);
  o->size = sizeof *o;
}

gf_status gf_plan_collect(const gf_plan *p, const gf_plan_options *opts, gf_frame **out,
                          gf_error *err) {
  if (!p || !out) return gf_error_set(err, GF_EINVAL, "gf_plan_collect: NULL argument");
  gf_plan_options po;
  load_options(opts, &po);
  xrun x;
  memset(&x, 0, sizeof x);
  x.t0 = gfi_now_ns();
  x.err = err;
  if (po.parallel) {
    x.o = *po.parallel;
    if (po.parallel->size && po.parallel->size < sizeof x.o) {
      gf_parallel_options_init(&x.o);
      memcpy(&x.o, po.parallel, po.parallel->size);
    }
  } else {
    gf_parallel_options_init(&x.o);
  }
  x.o.size = sizeof x.o;
  gf_exec_stats *user_stats = x.o.stats;
  x.o.stats = NULL;
  if (po.profile || user_stats) {
    x.stats = gfi_calloc(NULL, sizeof *x.stats);
    if (!x.stats) return GF_OOM(err, "plan statistics");
  }
  if (po.profile) {
    x.prof = gfi_calloc(NULL, sizeof *x.prof);
    gf_status ts = x.prof ? gfi_call_alloc_new(x.o.allocator, 0, &x.tracker, err) : GF_ENOMEM;
    if (ts != GF_OK) {
      if (x.prof) gfi_mfree(NULL, x.prof, sizeof *x.prof);
      gfi_mfree(NULL, x.stats, sizeof *x.stats);
      return ts == GF_ENOMEM ? GF_OOM(err, "plan profile") : ts;
    }
    x.o.allocator = gfi_call_alloc_get(x.tracker);
  }
  gf_plan *opt = NULL, *bound = NULL;
  gf_frame *res = NULL;
  gf_status st = gf_plan_optimize(p, GF_PLAN_RULES_ALL & ~po.disabled_rules, &opt, err);
  /* A plan over a CSV file whose shape streams runs window by window
   * (plan_stream.c); a profiled run keeps the materialising path, whose
   * profile has one entry per operator. */
  bool streamed = false;
  if (st == GF_OK && !po.profile) {
    st = gfi_plan_stream(opt, &x.o, 0, false, NULL, &res, &streamed, err);
    if (st == GF_OK && !streamed)
      st = gfi_plan_stream_join(opt, &x.o, 0, false, NULL, &res, &streamed, err);
    if (st == GF_OK && streamed) {
      gf_plan_release(opt);
      opt = NULL;
    }
  }
  if (st == GF_OK && !streamed && !po.profile) {
    gf_plan *s2 = NULL;
    st = stream_groupbys(&x, opt, &s2);
    if (st == GF_OK) {
      gf_plan_release(opt);
      opt = s2;
    }
  }
  if (st == GF_OK && !streamed) st = bind_sources(&x, opt, 0, &bound);
  if (st != GF_OK && x.recheck_failed) {
    /* Report the failed check in the user's own steps. */
    gf_plan *chk = NULL;
    gf_error e2;
    gf_status st2 = recheck_user_plan(&x, p, &chk, &e2);
    if (st2 != GF_OK && st2 != GF_ENOMEM) {
      st = st2;
      if (err) *err = e2;
    }
    gf_plan_release(chk);
  }
  for (int i = 0; i < x.nread; i++) gf_schema_release(x.read_schema[i]);
  if (x.read_src) {
    gfi_mfree(NULL, (void *)x.read_src, sizeof *x.read_src * (size_t)x.read_cap);
    gfi_mfree(NULL, x.read_schema, sizeof *x.read_schema * (size_t)x.read_cap);
  }
  if (st == GF_OK && !streamed) st = run_node(&x, bound, 0, &res);
  gf_plan_release(opt);
  gf_plan_release(bound);
  /* The result's blocks keep the tracker alive until they are freed. */
  gfi_call_alloc_release(x.tracker);
  if (x.stats) gfi_mfree(NULL, x.stats, sizeof *x.stats);
  if (x.prof) {
    x.prof->wall_ns = gfi_now_ns() - x.t0;
    if (st == GF_OK) *po.profile = x.prof;
    else gf_plan_profile_free(x.prof);
  }
  if (st != GF_OK) return st;
  if (user_stats) {
    memset(user_stats, 0, sizeof *user_stats);
    user_stats->size = sizeof *user_stats;
    user_stats->workers_used = x.o.num_workers > 0 ? x.o.num_workers : gf_default_num_workers();
    user_stats->wall_ns = gfi_now_ns() - x.t0;
    user_stats->rows = gf_frame_num_rows(res);
  }
  *out = res;
  return GF_OK;
}

/* The parallel options of a sink's write: the run's (allocator, memory
 * limit, cancel token, workers) with what is left of its timeout, counted
 * from `t0`, the start of the sink; GF_ECANCELED / GF_ETIMEDOUT when the
 * run must stop before writing. */
static gf_status sink_options(const gf_plan_options *opts, int64_t t0, gf_parallel_options *po,
                              gf_error *err) {
  gf_plan_options o;
  load_options(opts, &o);
  gf_parallel_options_init(po);
  if (o.parallel)
    memcpy(po, o.parallel,
           o.parallel->size && o.parallel->size < sizeof *po ? o.parallel->size : sizeof *po);
  po->size = sizeof *po;
  po->stats = NULL;
  if (po->cancel && gf_cancel_requested(po->cancel))
    return gf_error_set(err, GF_ECANCELED, "plan run cancelled before writing its output");
  if (po->timeout_ms > 0) {
    int64_t used = (gfi_now_ns() - t0) / 1000000;
    if (used >= po->timeout_ms)
      return gf_error_set(err, GF_ETIMEDOUT, "plan run timed out after %lld ms, before writing its output",
                          (long long)po->timeout_ms);
    po->timeout_ms -= used;
  }
  return GF_OK;
}

/* The kinds of output a sink writes. */
typedef enum sink_kind { SINK_CSV, SINK_IPC_FILE, SINK_IPC_STREAM, SINK_IPC_FD, SINK_PARQUET } sink_kind;

/* Runs the plan and writes its result; the write takes the run's options
 * (see sink_options) in place of the writer options' own `parallel`. */
static gf_status sink(const gf_plan *p, sink_kind kind, const char *path, int fd, const void *w,
                      const gf_plan_options *o, gf_error *err) {
  int64_t t0 = gfi_now_ns();
  gf_frame *f = NULL;
  gf_plan_options lo;
  load_options(o, &lo);
  if (!lo.profile) {
    /* A plan that streams writes its rows as they come, or as its sort
     * hands them out (plan_stream.c); a group-by's result comes back here
     * to be written. */
    gf_parallel_options po;
    gf_parallel_options_init(&po);
    if (lo.parallel)
      memcpy(&po, lo.parallel,
             lo.parallel->size && lo.parallel->size < sizeof po ? lo.parallel->size : sizeof po);
    po.size = sizeof po;
    po.stats = NULL;
    gfi_out_spec dest;
    memset(&dest, 0, sizeof dest);
    dest.kind = kind == SINK_CSV          ? GFI_OUT_CSV
                : kind == SINK_IPC_FILE   ? GFI_OUT_IPC_FILE
                : kind == SINK_PARQUET    ? GFI_OUT_PARQUET
                                          : GFI_OUT_IPC_STREAM;
    dest.path = kind == SINK_IPC_FD ? NULL : path;
    dest.fd = fd;
    if (kind == SINK_CSV) dest.csv = w;
    else if (kind == SINK_PARQUET) dest.parquet = w;
    else dest.ipc = w;
    gf_plan *opt = NULL;
    bool streamed = false;
    gf_status st = gf_plan_optimize(p, GF_PLAN_RULES_ALL & ~lo.disabled_rules, &opt, err);
    if (st == GF_OK) st = gfi_plan_stream(opt, &po, 0, false, &dest, &f, &streamed, err);
    if (st == GF_OK && !streamed)
      st = gfi_plan_stream_join(opt, &po, 0, false, &dest, &f, &streamed, err);
    gf_plan_release(opt);
    if (st != GF_OK) return st;
    if (streamed && !f) return GF_OK;
  }
  if (!f) GF_RETURN_NOT_OK(gf_plan_collect(p, o, &f, err));
  gf_parallel_options po;
  gf_status st = sink_options(o, t0, &po, err);
  if (st == GF_OK && kind == SINK_CSV) {
    gf_csv_write_options cw;
    gf_csv_write_options_init(&cw);
    const gf_csv_write_options *u = w;
    if (u) memcpy(&cw, u, u->size && u->size < sizeof cw ? u->size : sizeof cw);
    cw.size = sizeof cw;
    cw.parallel = &po;
    st = gf_write_csv(f, path, &cw, err);
  } else if (st == GF_OK && kind == SINK_PARQUET) {
    gf_parquet_write_options pw;
    gf_parquet_write_options_init(&pw);
    const gf_parquet_write_options *u = w;
    if (u) memcpy(&pw, u, u->size && u->size < sizeof pw ? u->size : sizeof pw);
    pw.size = sizeof pw;
    pw.parallel = &po;
    st = gf_write_parquet(f, path, &pw, err);
  } else if (st == GF_OK) {
    gf_ipc_write_options iw;
    gf_ipc_write_options_init(&iw);
    const gf_ipc_write_options *u = w;
    if (u) memcpy(&iw, u, u->size && u->size < sizeof iw ? u->size : sizeof iw);
    iw.size = sizeof iw;
    iw.parallel = &po;
    if (kind == SINK_IPC_FILE) st = gf_write_ipc_file(f, path, &iw, err);
    else if (kind == SINK_IPC_STREAM) st = gf_write_ipc_stream(f, path, &iw, err);
    else st = gf_write_ipc_stream_fd(f, fd, &iw, err);
  }
  gf_frame_release(f);
  return st;
}

gf_status gf_plan_sink_csv(const gf_plan *p, const char *path, const gf_csv_write_options *w,
                           const gf_plan_options *o, gf_error *err) {
  if (!path) return gf_error_set(err, GF_EINVAL, "gf_plan_sink_csv: path is NULL");
  return sink(p, SINK_CSV, path, -1, w, o, err);
}

gf_status gf_plan_sink_ipc(const gf_plan *p, const char *path, const gf_ipc_write_options *w,
                           const gf_plan_options *o, gf_error *err) {
  if (!path) return gf_error_set(err, GF_EINVAL, "gf_plan_sink_ipc: path is NULL");
  return sink(p, SINK_IPC_FILE, path, -1, w, o, err);
}

gf_status gf_plan_sink_ipc_stream(const gf_plan *p, const char *path, const gf_ipc_write_options *w,
                                  const gf_plan_options *o, gf_error *err) {
  if (!path) return gf_error_set(err, GF_EINVAL, "gf_plan_sink_ipc_stream: path is NULL");
  return sink(p, SINK_IPC_STREAM, path, -1, w, o, err);
}

gf_status gf_plan_sink_ipc_stream_fd(const gf_plan *p, int fd, const gf_ipc_write_options *w,
                                     const gf_plan_options *o, gf_error *err) {
  if (fd < 0) return gf_error_set(err, GF_EINVAL, "gf_plan_sink_ipc_stream_fd: invalid descriptor %d", fd);
  return sink(p, SINK_IPC_FD, NULL, fd, w, o, err);
}

gf_status gf_plan_sink_parquet(const gf_plan *p, const char *path, const gf_parquet_write_options *w,
                               const gf_plan_options *o, gf_error *err) {
  if (!path) return gf_error_set(err, GF_EINVAL, "gf_plan_sink_parquet: path is NULL");
  return sink(p, SINK_PARQUET, path, -1, w, o, err);
}

gf_status gf_plan_to_stream(const gf_plan *p, const gf_plan_options *o, struct ArrowArrayStream *out,
                            gf_error *err) {
  if (!out) return gf_error_set(err, GF_EINVAL, "gf_plan_to_stream: out is NULL");
  gf_frame *f = NULL;
  GF_RETURN_NOT_OK(gf_plan_collect(p, o, &f, err));
  gf_status st = gf_frame_export_stream(f, out, err);
  gf_frame_release(f);
  return st;
}
