/*
 * Query pipelines (include/gopherframe/query.h): a list of steps, run as
 * fused push-based passes separated by blocking operators.
 *
 * A fused pass covers consecutive filter / with / select steps (and a
 * final limit). It is compiled against the input schema first: every
 * expression is bound (type errors before any row is read), the schema
 * each step sees is tracked as a list of entries, each either an input
 * column ("base") or a computed "slot", and a backward pass marks which
 * computed slots anything downstream reads (the others are never
 * evaluated). Then two parallel phases run:
 *  1. per morsel, the steps in order over (batch, selection): a filter
 *     narrows the selection vector, a with evaluates its expressions over
 *     the selected rows only. Base columns are never copied here: they are
 *     addressed through the selection; computed columns are dense (one
 *     value per selected row) and are compacted when a later filter
 *     narrows the selection. An expression reading both kinds sees dense
 *     copies of the base columns it reads.
 *  2. the morsel results are grouped, in morsel order, into output batches
 *     of at least GFI_COALESCE_ROWS rows (a batch kept whole keeps its base
 *     columns zero-copy), and each output batch gathers only the output
 *     columns, so each selected value is read and written once.
 * When the pass feeds a group-by, only the columns it reads leave the pass
 * and phase 1 compacts them per morsel itself (compact mode): phase 2 then
 * only assembles one batch per morsel, since a group-by reads batches of
 * any size and coalescing would copy every kept row a second time.
 * Row order is the input order; batch boundaries never change values, so
 * results do not depend on the worker count, strategy or chunk size.
 * With a limit, phase 1 runs in waves of morsels (in order) and stops once
 * the rows found reach the limit.
 */
#include <stdlib.h>
#include <string.h>

#include "data/builder_internal.h"
#include "exec/exec_internal.h"
#include "gopherframe/query.h"
#include "ops/ops_internal.h"

enum { ST_FILTER, ST_WITH, ST_SELECT, ST_LIMIT, ST_JOIN, ST_GROUP, ST_SORT };

/* One step as added by the user. */
typedef struct pstage {
  int kind;
  int n;             /* with: expressions; select, group, join, sort: names/keys */
  char **names;      /* with: outputs; select: names; group: keys; join: left keys */
  char **names2;     /* join: right keys */
  gf_expr **exprs;   /* filter: [0]; with: n */
  int64_t limit;
  gf_frame *right;
  gf_join_kind how;
  char *suffix;
  gf_agg_list *aggs;
  bool sort_keys;
  gf_sort_key *keys;
} pstage;

struct gf_pipeline {
  int n, cap;
  pstage *st;
  gf_pipeline_observer obs;
  void *obs_user;
};

/* ---- building ----------------------------------------------------------- */

/* Copy of a NUL-terminated string through the default allocator. */
static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = gfi_malloc(NULL, n);
  if (d) memcpy(d, s, n);
  return d;
}

static void free_str(char *s) {
  if (s) gfi_mfree(NULL, s, strlen(s) + 1);
}

/* Frees n strings and the array holding them. */
static void free_names(char **names, int n) {
  if (!names) return;
  for (int i = 0; i < n; i++) free_str(names[i]);
  gfi_mfree(NULL, names, sizeof *names * (size_t)(n > 0 ? n : 1));
}

/* Copies n names (none NULL) into a new array; NULL when out of memory. */
static char **copy_names(const char *const *names, int n) {
  char **d = gfi_calloc(NULL, sizeof *d * (size_t)(n > 0 ? n : 1));
  if (!d) return NULL;
  for (int i = 0; i < n; i++) {
    d[i] = dup_str(names[i]);
    if (!d[i]) {
      free_names(d, n);
      return NULL;
    }
  }
  return d;
}

static void stage_free(pstage *s) {
  free_names(s->names, s->n);
  free_names(s->names2, s->n);
  if (s->exprs) {
    int ne = s->kind == ST_FILTER ? 1 : s->n;
    for (int i = 0; i < ne; i++) gf_expr_release(s->exprs[i]);
    gfi_mfree(NULL, s->exprs, sizeof *s->exprs * (size_t)(ne > 0 ? ne : 1));
  }
  gf_frame_release(s->right);
  free_str(s->suffix);
  gf_agg_list_free(s->aggs);
  if (s->keys) {
    for (int i = 0; i < s->n; i++) free_str((char *)s->keys[i].column);
    gfi_mfree(NULL, s->keys, sizeof *s->keys * (size_t)(s->n > 0 ? s->n : 1));
  }
}

gf_status gf_pipeline_new(gf_pipeline **out, gf_error *err) {
  if (!out) return gf_error_set(err, GF_EINVAL, "gf_pipeline_new: out is NULL");
  gf_pipeline *p = gfi_calloc(NULL, sizeof *p);
  if (!p) return GF_OOM(err, "pipeline");
  *out = p;
  return GF_OK;
}

void gf_pipeline_free(gf_pipeline *p) {
  if (!p) return;
  for (int i = 0; i < p->n; i++) stage_free(&p->st[i]);
  if (p->st) gfi_mfree(NULL, p->st, sizeof *p->st * (size_t)p->cap);
  gfi_mfree(NULL, p, sizeof *p);
}

void gf_pipeline_set_observer(gf_pipeline *p, gf_pipeline_observer fn, void *user) {
  if (!p) return;
  p->obs = fn;
  p->obs_user = user;
}

/* Appends `s` (taken over: freed on failure too). */
static gf_status push_stage(gf_pipeline *p, pstage *s, gf_error *err) {
  if (p->n == p->cap) {
    int cap = p->cap ? p->cap * 2 : 8;
    pstage *st = gfi_calloc(NULL, sizeof *st * (size_t)cap);
    if (!st) {
      stage_free(s);
      return GF_OOM(err, "pipeline step");
    }
    if (p->st) {
      memcpy(st, p->st, sizeof *st * (size_t)p->n);
      gfi_mfree(NULL, p->st, sizeof *st * (size_t)p->cap);
    }
    p->st = st;
    p->cap = cap;
  }
  p->st[p->n++] = *s;
  return GF_OK;
}

/* True when names[0..n) has no NULL entry; else sets err. */
static bool names_ok(const char *what, const char *const *names, int n, gf_error *err) {
  if (n < 0 || (n > 0 && !names)) {
    gf_error_set(err, GF_EINVAL, "%s: invalid name list", what);
    return false;
  }
  for (int i = 0; i < n; i++)
    if (!names[i]) {
      gf_error_set(err, GF_EINVAL, "%s: name %d is NULL", what, i);
      return false;
    }
  return true;
}

gf_status gf_pipeline_add_filter(gf_pipeline *p, const gf_expr *predicate, gf_error *err) {
  if (!p || !predicate) return gf_error_set(err, GF_EINVAL, "gf_pipeline_add_filter: NULL argument");
  pstage s;
  memset(&s, 0, sizeof s);
  s.kind = ST_FILTER;
  s.exprs = gfi_malloc(NULL, sizeof *s.exprs);
  if (!s.exprs) return GF_OOM(err, "pipeline filter");
  s.exprs[0] = gf_expr_retain((gf_expr *)predicate);
  return push_stage(p, &s, err);
}

gf_status gf_pipeline_add_with(gf_pipeline *p, const char *const *names,
                               gf_expr *const *exprs, int n, gf_error *err) {
  if (!p || n < 1 || !exprs) return gf_error_set(err, GF_EINVAL, "gf_pipeline_add_with: invalid argument");
  if (!names_ok("gf_pipeline_add_with", names, n, err)) return err ? err->code : GF_EINVAL;
  for (int i = 0; i < n; i++) {
    if (!exprs[i]) return gf_error_set(err, GF_EINVAL, "gf_pipeline_add_with: expression %d is NULL", i);
    if (!names[i][0]) return gf_error_set(err, GF_EINVAL, "computed column %d has an empty name", i);
    for (int k = 0; k < i; k++)
      if (strcmp(names[k], names[i]) == 0)
        return gf_error_set(err, GF_EINVAL, "column '%.300s' given twice", names[i]);
  }
  pstage s;
  memset(&s, 0, sizeof s);
  s.kind = ST_WITH;
  s.n = n;
  s.names = copy_names(names, n);
  s.exprs = gfi_calloc(NULL, sizeof *s.exprs * (size_t)n);
  if (!s.names || !s.exprs) {
    stage_free(&s);
    return GF_OOM(err, "pipeline with");
  }
  for (int i = 0; i < n; i++) s.exprs[i] = gf_expr_retain(exprs[i]);
  return push_stage(p, &s, err);
}

gf_status gf_pipeline_add_select(gf_pipeline *p, const char *const *names, int n, gf_error *err) {
  if (!p) return gf_error_set(err, GF_EINVAL, "gf_pipeline_add_select: NULL pipeline");
  if (!names_ok("gf_pipeline_add_select", names, n, err)) return err ? err->code : GF_EINVAL;
  pstage s;
  memset(&s, 0, sizeof s);
  s.kind = ST_SELECT;
  s.n = n;
  s.names = copy_names(names, n);
  if (!s.names) return GF_OOM(err, "pipeline select");
  return push_stage(p, &s, err);
}

gf_status gf_pipeline_add_limit(gf_pipeline *p, int64_t n, gf_error *err) {
  if (!p || n < 0) return gf_error_set(err, GF_EINVAL, "gf_pipeline_add_limit: invalid argument");
  pstage s;
  memset(&s, 0, sizeof s);
  s.kind = ST_LIMIT;
  s.limit = n;
  return push_stage(p, &s, err);
}

gf_status gf_pipeline_add_join(gf_pipeline *p, gf_frame *right, const char *const *left_on,
                               const char *const *right_on, int nkeys, gf_join_kind how,
                               const char *suffix, gf_error *err) {
  if (!p || !right || nkeys < 1 || (int)how < GF_JOIN_INNER || (int)how > GF_JOIN_ANTI)
    return gf_error_set(err, GF_EINVAL, "gf_pipeline_add_join: invalid argument");
  if (!names_ok("gf_pipeline_add_join", left_on, nkeys, err) ||
      !names_ok("gf_pipeline_add_join", right_on, nkeys, err))
    return err ? err->code : GF_EINVAL;
  pstage s;
  memset(&s, 0, sizeof s);
  s.kind = ST_JOIN;
  s.n = nkeys;
  s.how = how;
  s.names = copy_names(left_on, nkeys);
  s.names2 = copy_names(right_on, nkeys);
  s.suffix = suffix ? dup_str(suffix) : NULL;
  if (!s.names || !s.names2 || (suffix && !s.suffix)) {
    stage_free(&s);
    return GF_OOM(err, "pipeline join");
  }
  s.right = gf_frame_retain(right);
  return push_stage(p, &s, err);
}

gf_status gf_pipeline_add_group_by(gf_pipeline *p, const char *const *keys, int nkeys,
                                   const char *aggs, bool sort_keys, gf_error *err) {
  if (!p) return gf_error_set(err, GF_EINVAL, "gf_pipeline_add_group_by: NULL pipeline");
  if (!names_ok("gf_pipeline_add_group_by", keys, nkeys, err)) return err ? err->code : GF_EINVAL;
  pstage s;
  memset(&s, 0, sizeof s);
  s.kind = ST_GROUP;
  s.n = nkeys;
  s.sort_keys = sort_keys;
  s.names = copy_names(keys, nkeys);
  if (!s.names) return GF_OOM(err, "pipeline group-by");
  if (aggs && aggs[0]) {
    gf_status st = gf_agg_parse(aggs, &s.aggs, err);
    if (st != GF_OK) {
      stage_free(&s);
      return st;
    }
  }
  return push_stage(p, &s, err);
}

gf_status gf_pipeline_add_sort(gf_pipeline *p, const gf_sort_key *keys, int nkeys, gf_error *err) {
  if (!p || nkeys < 1 || !keys) return gf_error_set(err, GF_EINVAL, "gf_pipeline_add_sort: invalid argument");
  for (int i = 0; i < nkeys; i++)
    if (!keys[i].column) return gf_error_set(err, GF_EINVAL, "gf_pipeline_add_sort: key %d has no column", i);
  pstage s;
  memset(&s, 0, sizeof s);
  s.kind = ST_SORT;
  s.n = nkeys;
  s.keys = gfi_calloc(NULL, sizeof *s.keys * (size_t)nkeys);
  if (!s.keys) return GF_OOM(err, "pipeline sort");
  for (int i = 0; i < nkeys; i++) {
    s.keys[i] = keys[i];
    s.keys[i].column = dup_str(keys[i].column);
    if (!s.keys[i].column) {
      stage_free(&s);
      return GF_OOM(err, "pipeline sort");
    }
  }
  return push_stage(p, &s, err);
}

/* ---- compiling a fused pass --------------------------------------------- */

/* A column of the schema one step sees: input column `base`, or computed
 * slot `slot` (exactly one is >= 0). The name is borrowed. */
typedef struct ent {
  const char *name;
  gf_datatype type;
  bool nullable;
  int base, slot;
} ent;

typedef struct cexpr {
  gf_bound_expr *b;
  int slot;    /* with: the slot it fills; filter: -1 */
  bool live;   /* evaluated at all */
  bool dense;  /* reads a computed slot: evaluate over dense columns */
  int nrefs;
  int *refs;   /* positions in the step's entries that it reads */
} cexpr;

typedef struct cstep {
  int kind;    /* ST_FILTER or ST_WITH */
  int nent;
  ent *ents;   /* the schema the step sees */
  int nex;
  cexpr *ex;
} cstep;

typedef struct cseg {
  const gf_allocator *a;
  int nin;          /* input columns */
  int nsteps;
  cstep *steps;
  int maxent;
  int nslots;
  int nout;
  ent *out;
  gf_schema *out_schema;
  bool has_filter;
} cseg;

static void cseg_free(cseg *c) {
  const gf_allocator *a = c->a;
  for (int s = 0; s < c->nsteps; s++) {
    cstep *st = &c->steps[s];
    for (int e = 0; st->ex && e < st->nex; e++) {
      gf_bound_expr_free(st->ex[e].b);
      if (st->ex[e].refs) gfi_mfree(a, st->ex[e].refs, sizeof(int) * (size_t)(st->ex[e].nrefs > 0 ? st->ex[e].nrefs : 1));
    }
    if (st->ex) gfi_mfree(a, st->ex, sizeof *st->ex * (size_t)st->nex);
    if (st->ents) gfi_mfree(a, st->ents, sizeof *st->ents * (size_t)(st->nent > 0 ? st->nent : 1));
  }
  if (c->steps) gfi_mfree(a, c->steps, sizeof *c->steps * (size_t)c->nsteps);
  if (c->out) gfi_mfree(a, c->out, sizeof *c->out * (size_t)(c->maxent > 0 ? c->maxent : 1));
  gf_schema_release(c->out_schema);
  memset(c, 0, sizeof *c);
}

/* Schema of entries (a temporary for binding). */
static gf_status ents_schema(const ent *e, int n, const gf_allocator *a, gf_schema **out,
                             gf_error *err) {
  gf_field *fl = gfi_malloc(a, sizeof *fl * (size_t)(n > 0 ? n : 1));
  if (!fl) return GF_OOM(err, "pipeline schema");
  for (int i = 0; i < n; i++) fl[i] = (gf_field){e[i].name, e[i].type, e[i].nullable};
  gf_status st = gf_schema_new(fl, n, out, err);
  gfi_mfree(a, fl, sizeof *fl * (size_t)(n > 0 ? n : 1));
  return st;
}

/* Marks the schema positions the bound tree reads. Iterative (a chain of
 * 100,000 terms is that deep): pending nodes sit on a heap stack. */
static gf_status mark_refs(const gfi_bnode *root, bool *used, const gf_allocator *a,
                           gf_error *err) {
  gfi_vec stk;
  gfi_vec_init(&stk, a);
  gf_status st = gfi_vec_append(&stk, &root, sizeof root, err);
  while (st == GF_OK && stk.len > 0) {
    const gfi_bnode *b;
    stk.len -= sizeof b;
    memcpy(&b, stk.data + stk.len, sizeof b);
    if (b->kind == GFI_B_COLUMN || b->kind == GFI_B_CMP_DICT) used[b->col] = true;
    for (int k = 0; k < b->nkids && st == GF_OK; k++)
      st = gfi_vec_append(&stk, &b->kids[k], sizeof b->kids[k], err);
  }
  gfi_vec_reset(&stk);
  return st;
}

/* Binds e against the step's entries and fills x (refs, dense). */
static gf_status compile_expr(const gf_expr *e, cstep *st, const gf_allocator *a, cexpr *x,
                              gf_error *err) {
  gf_schema *sc;
  GF_RETURN_NOT_OK(ents_schema(st->ents, st->nent, a, &sc, err));
  gf_status s = gfi_expr_bind(e, sc, a, &x->b, err);
  gf_schema_release(sc);
  if (s != GF_OK) return s;
  size_t ub = sizeof(bool) * (size_t)(st->nent > 0 ? st->nent : 1);
  bool *used = gfi_calloc(a, ub);
  if (!used) return GF_OOM(err, "pipeline references");
  gf_status ms = mark_refs(x->b->root, used, a, err);
  if (ms != GF_OK) {
    gfi_mfree(a, used, ub);
    return ms;
  }
  int n = 0;
  for (int i = 0; i < st->nent; i++) n += used[i];
  x->refs = gfi_malloc(a, sizeof(int) * (size_t)(n > 0 ? n : 1));
  if (!x->refs) {
    gfi_mfree(a, used, ub);
    return GF_OOM(err, "pipeline references");
  }
  n = 0;
  for (int i = 0; i < st->nent; i++)
    if (used[i]) {
      x->refs[n++] = i;
      if (st->ents[i].slot >= 0) x->dense = true;
    }
  x->nrefs = n;
  gfi_mfree(a, used, ub);
  return GF_OK;
}

/* True when `name` is a key of group-by step g. */
static bool group_key(const pstage *g, const char *name) {
  for (int k = 0; k < g->n; k++)
    if (strcmp(g->names[k], name) == 0) return true;
  return false;
}

/* True when group-by step g reads column `name` (as a key or an aggregate
 * input). */
static bool group_reads(const pstage *g, const char *name) {
  return group_key(g, name) || gfi_agg_list_reads(g->aggs, name);
}

/* Compiles steps [first, last) (filter/with/select only) against `in`.
 * `next` is the step that consumes the pass's output (NULL = the caller):
 * before a group-by only the columns it reads leave the pass, so the
 * others are neither evaluated nor gathered. */
static gf_status compile(const gf_pipeline *p, int first, int last, const gf_schema *in,
                         const pstage *next, const gf_allocator *a, cseg *c, gf_error *err) {
  memset(c, 0, sizeof *c);
  c->a = a;
  c->nin = in->n;
  int maxent = in->n, nsteps = 0;
  for (int i = first; i < last; i++) {
    if (p->st[i].kind == ST_WITH) maxent += p->st[i].n;
    if (p->st[i].kind != ST_SELECT) nsteps++;
  }
  c->maxent = maxent;
  c->steps = nsteps ? gfi_calloc(a, sizeof *c->steps * (size_t)nsteps) : NULL;
  c->out = gfi_malloc(a, sizeof *c->out * (size_t)(maxent > 0 ? maxent : 1));
  ent *tmp = gfi_malloc(a, sizeof *tmp * (size_t)(maxent > 0 ? maxent : 1));
  if ((nsteps && !c->steps) || !c->out || !tmp) {
    if (tmp) gfi_mfree(a, tmp, sizeof *tmp * (size_t)(maxent > 0 ? maxent : 1));
    c->nsteps = c->steps ? nsteps : 0;
    cseg_free(c);
    return GF_OOM(err, "pipeline plan");
  }
  c->nsteps = nsteps;
  /* c->out holds the current entries while compiling. */
  int ncur = in->n;
  for (int i = 0; i < in->n; i++)
    c->out[i] = (ent){in->fields[i].name, in->fields[i].type, in->fields[i].nullable, i, -1};
  gf_status st = GF_OK;
  int k = 0;
  for (int i = first; i < last && st == GF_OK; i++) {
    const pstage *ps = &p->st[i];
    if (ps->kind == ST_SELECT) {
      for (int j = 0; j < ps->n && st == GF_OK; j++) {
        int found = -1;
        for (int q = 0; q < ncur; q++)
          if (strcmp(c->out[q].name, ps->names[j]) == 0) found = q;
        if (found < 0) {
          st = gf_error_set(err, GF_EINVAL, "select: unknown column '%.300s'", ps->names[j]);
          break;
        }
        for (int q = 0; q < j; q++)
          if (strcmp(ps->names[q], ps->names[j]) == 0)
            st = gf_error_set(err, GF_EINVAL, "select: column '%.300s' selected twice", ps->names[j]);
        tmp[j] = c->out[found];
      }
      if (st == GF_OK) {
        memcpy(c->out, tmp, sizeof *tmp * (size_t)ps->n);
        ncur = ps->n;
      }
      continue;
    }
    cstep *cs = &c->steps[k++];
    cs->kind = ps->kind;
    cs->nent = ncur;
    cs->ents = gfi_malloc(a, sizeof *cs->ents * (size_t)(ncur > 0 ? ncur : 1));
    cs->nex = ps->kind == ST_FILTER ? 1 : ps->n;
    cs->ex = gfi_calloc(a, sizeof *cs->ex * (size_t)cs->nex);
    if (!cs->ents || !cs->ex) {
      if (!cs->ex) cs->nex = 0;
      st = GF_OOM(err, "pipeline step");
      break;
    }
    memcpy(cs->ents, c->out, sizeof *cs->ents * (size_t)ncur);
    for (int e = 0; e < cs->nex && st == GF_OK; e++) {
      cs->ex[e].slot = -1;
      st = compile_expr(ps->exprs[e], cs, a, &cs->ex[e], err);
    }
    if (st != GF_OK) break;
    if (ps->kind == ST_FILTER) {
      c->has_filter = true;
      st = gfi_check_predicate(cs->ex[0].b, err);
      continue;
    }
    for (int e = 0; e < cs->nex; e++) {
      int slot = c->nslots++;
      cs->ex[e].slot = slot;
      ent ne = {ps->names[e], gf_bound_expr_type(cs->ex[e].b), true, -1, slot};
      int found = -1;
      for (int q = 0; q < ncur; q++)
        if (strcmp(c->out[q].name, ps->names[e]) == 0) found = q;
      if (found >= 0)
        c->out[found] = ne;
      else
        c->out[ncur++] = ne;
    }
  }
  gfi_mfree(a, tmp, sizeof *tmp * (size_t)(maxent > 0 ? maxent : 1));
  if (st == GF_OK && next && next->kind == ST_GROUP && ncur > 0) {
    int kept = 0;
    for (int q = 0; q < ncur; q++)
      if (group_reads(next, c->out[q].name)) c->out[kept++] = c->out[q];
    /* count() alone reads no column but needs the row count: keep one. */
    ncur = kept > 0 ? kept : 1;
  }
  c->nout = ncur;
  if (st == GF_OK) st = ents_schema(c->out, ncur, a, &c->out_schema, err);
  if (st == GF_OK) {
    /* Liveness: slots read by the output or by a live expression. */
    size_t nb = sizeof(bool) * (size_t)(c->nslots > 0 ? c->nslots : 1);
    bool *need = gfi_calloc(a, nb);
    if (!need) {
      st = GF_OOM(err, "pipeline plan");
    } else {
      for (int i = 0; i < ncur; i++)
        if (c->out[i].slot >= 0) need[c->out[i].slot] = true;
      for (int s = c->nsteps - 1; s >= 0; s--) {
        cstep *cs = &c->steps[s];
        for (int e = 0; e < cs->nex; e++) {
          cexpr *x = &cs->ex[e];
          x->live = cs->kind == ST_FILTER || need[x->slot];
          if (!x->live) continue;
          for (int r = 0; r < x->nrefs; r++)
            if (cs->ents[x->refs[r]].slot >= 0) need[cs->ents[x->refs[r]].slot] = true;
        }
      }
      gfi_mfree(a, need, nb);
    }
  }
  if (st != GF_OK) cseg_free(c);
  return st;
}

/* ---- phase 1: per-morsel execution -------------------------------------- */

/* What one morsel produced: n rows, addressed through sel (batch-relative,
 * NULL = the whole morsel) for base columns and dense arrays per slot. */
typedef struct mres {
  int64_t n;
  int32_t *sel;
  size_t sel_bytes;
  gf_array **comp; /* nslots entries (only output slots kept) */
  const gf_allocator *a;
} mres;

typedef struct pjob {
  const gf_frame *f;
  const cseg *c;
  const gfi_morsel *m;
  mres *res;
  bool *out_slot;  /* slots that leave the pass */
  /* compact mode (group set: the group-by the pass feeds): each morsel
   * gathers its own output columns (mout, nout per morsel) and phase 2 only
   * assembles them, one batch per morsel */
  const pstage *group;
  gf_array **mout;
  /* phase 2 */
  const struct piece *pieces;
  const struct group *groups;
  gf_array **out;
} pjob;

/* Working state of one morsel. */
typedef struct mstate {
  const gf_allocator *a;
  gf_error *err;
  gf_array *const *base;
  int64_t start, len, n;
  int32_t *sel, *pos;
  gf_array **comp, **dbase, **view;
  size_t ptr_bytes;
  gf_array **ptrs;
} mstate;

static void mstate_drop_dense(mstate *s, int nin) {
  for (int i = 0; i < nin; i++) {
    gf_array_release(s->dbase[i]);
    s->dbase[i] = NULL;
  }
}

/* Dense copy (one value per current row) of base column i. */
static gf_status densify(mstate *s, int i, gf_array **out) {
  if (!s->dbase[i]) {
    if (!s->sel) {
      GF_RETURN_NOT_OK(gf_array_slice(s->base[i], s->start, s->n, &s->dbase[i], s->err));
    } else {
      gfi_piece pc = {s->base[i], s->sel, 0, s->n};
      GF_RETURN_NOT_OK(gfi_gather(&pc, 1, s->a, false, &s->dbase[i], s->err));
    }
  }
  *out = s->dbase[i];
  return GF_OK;
}

/* Fills s->view with the columns x reads, in the form its mode needs. */
static gf_status build_view(mstate *s, const cstep *cs, const cexpr *x) {
  for (int j = 0; j < cs->nent; j++) {
    const ent *e = &cs->ents[j];
    s->view[j] = e->slot >= 0 ? s->comp[e->slot] : s->base[e->base];
  }
  if (!x->dense) return GF_OK;
  for (int r = 0; r < x->nrefs; r++) {
    const ent *e = &cs->ents[x->refs[r]];
    if (e->base >= 0) GF_RETURN_NOT_OK(densify(s, e->base, &s->view[x->refs[r]]));
  }
  return GF_OK;
}

/* Evaluates x over the current rows into a dense array. */
static gf_status eval_dense(mstate *s, const cexpr *x, gf_array **out) {
  if (x->dense) return gfi_eval_batch(x->b, s->view, 0, s->n, NULL, 0, s->a, out, s->err);
  if (s->sel) return gfi_eval_batch(x->b, s->view, 0, 0, s->sel, s->n, s->a, out, s->err);
  return gfi_eval_batch(x->b, s->view, s->start, s->n, NULL, 0, s->a, out, s->err);
}

/* Positions (0..n) of the true values of a bool array of n values. */
static int64_t bool_positions(const gf_array *r, int32_t *pos) {
  if (r->type.id != GF_TYPE_BOOL) return 0;
  const uint8_t *bits = gf_array_buffer(r, 1);
  const uint8_t *valid = r->null_count > 0 ? gf_array_buffer(r, 0) : NULL;
  int64_t cnt = 0;
  for (int64_t i = 0; i < r->length; i++) {
    int64_t k = r->offset + i;
    if (gfi_bit_get(bits, k) && (!valid || gfi_bit_get(valid, k))) pos[cnt++] = (int32_t)i;
  }
  return cnt;
}

/* Runs a filter step: narrows the selection and compacts dense columns. */
static gf_status run_filter(mstate *s, const cseg *c, const cstep *cs) {
  const cexpr *x = &cs->ex[0];
  GF_RETURN_NOT_OK(build_view(s, cs, x));
  if (gfi_predicate_skips(x->b, s->view)) {
    s->n = 0;
    return GF_OK;
  }
  size_t pbytes = sizeof(int32_t) * (size_t)s->len;
  if (!s->pos) {
    s->pos = gfi_malloc(s->a, pbytes);
    if (!s->pos) return GF_OOM(s->err, "selection vector");
  }
  int64_t cnt = 0;
  if (x->dense) {
    GF_RETURN_NOT_OK(gfi_eval_predicate(x->b, s->view, 0, s->n, s->pos, &cnt, s->a, s->err));
  } else if (!s->sel) {
    GF_RETURN_NOT_OK(gfi_eval_predicate(x->b, s->view, s->start, s->n, s->pos, &cnt, s->a, s->err));
    for (int64_t i = 0; i < cnt; i++) s->pos[i] -= (int32_t)s->start;
  } else {
    gf_array *r;
    GF_RETURN_NOT_OK(gfi_eval_batch(x->b, s->view, 0, 0, s->sel, s->n, s->a, &r, s->err));
    cnt = bool_positions(r, s->pos);
    gf_array_release(r);
  }
  if (cnt == s->n) return GF_OK;
  if (!s->sel) {
    s->sel = gfi_malloc(s->a, pbytes);
    if (!s->sel) return GF_OOM(s->err, "selection vector");
    for (int64_t i = 0; i < cnt; i++) s->sel[i] = (int32_t)s->start + s->pos[i];
  } else {
    for (int64_t i = 0; i < cnt; i++) s->sel[i] = s->sel[s->pos[i]];
  }
  for (int k = 0; k < c->nslots; k++) {
    if (!s->comp[k]) continue;
    gf_array *narrow = NULL;
    if (cnt > 0) {
      gfi_piece pc = {s->comp[k], s->pos, 0, cnt};
      GF_RETURN_NOT_OK(gfi_gather(&pc, 1, s->a, false, &narrow, s->err));
    }
    gf_array_release(s->comp[k]);
    s->comp[k] = narrow;
  }
  mstate_drop_dense(s, c->nin);
  s->n = cnt;
  return GF_OK;
}

/* Output columns of one morsel, gathered while its selection is at hand:
 * base columns through the selection (a whole unfiltered batch is kept
 * zero-copy), computed columns as they are. Key columns get exact
 * statistics, so what the group-by derives from them (direct key ranges)
 * does not depend on how the rows were split; the group-by reads no other
 * column's statistics, so the others are not computed. */
static gf_status compact_morsel(const pjob *j, const gfi_morsel *m, const mstate *s,
                                gf_array **dst, gf_task_ctx *ctx) {
  const cseg *c = j->c;
  for (int col = 0; col < c->nout; col++) {
    const ent *e = &c->out[col];
    bool key = group_key(j->group, e->name);
    if (e->slot >= 0) {
      gf_array *d = s->comp[e->slot];
      if (key && !d->stats.has_min_max && gfi_type_has_min_max(d->type.id) && d->null_count < d->length &&
          atomic_load(&d->ref.n) == 1)
        gfi_array_compute_stats(d);
      dst[col] = gf_array_retain(d);
      continue;
    }
    const gf_array *src = j->f->columns[(size_t)m->batch * (size_t)c->nin + (size_t)e->base];
    if (!s->sel && m->start == 0 && m->len == src->length) {
      dst[col] = gf_array_retain((gf_array *)src);
      continue;
    }
    gfi_piece pc = {src, s->sel, s->sel ? 0 : m->start, s->n};
    GF_RETURN_NOT_OK(gfi_gather(&pc, 1, ctx->allocator, key, &dst[col], ctx->err));
  }
  return GF_OK;
}

static gf_status morsel_chunk(void *user, const gf_chunk_spec *chunk, gf_task_ctx *ctx) {
  pjob *j = user;
  const cseg *c = j->c;
  const gfi_morsel *m = &j->m[chunk->chunk_id];
  mres *r = &j->res[chunk->chunk_id];
  mstate s;
  memset(&s, 0, sizeof s);
  s.a = ctx->allocator;
  s.err = ctx->err;
  s.base = j->f->columns + (size_t)m->batch * (size_t)c->nin;
  s.start = m->start;
  s.len = s.n = m->len;
  size_t np = (size_t)c->nslots + (size_t)c->nin + (size_t)c->maxent + 1;
  s.ptr_bytes = sizeof(gf_array *) * np;
  s.ptrs = gfi_calloc(s.a, s.ptr_bytes);
  if (!s.ptrs) return GF_OOM(ctx->err, "pipeline morsel state");
  s.comp = s.ptrs;
  s.dbase = s.ptrs + c->nslots;
  s.view = s.dbase + c->nin;
  gf_status st = GF_OK;
  for (int k = 0; k < c->nsteps && st == GF_OK && s.n > 0; k++) {
    const cstep *cs = &c->steps[k];
    if (cs->kind == ST_FILTER) {
      st = run_filter(&s, c, cs);
      continue;
    }
    /* All of a with's expressions see the columns before it: evaluate
     * into a side list, then publish. */
    gf_array *made[8];
    gf_array **mk = made;
    size_t mb = sizeof(gf_array *) * (size_t)cs->nex;
    if (cs->nex > 8) {
      mk = gfi_calloc(s.a, mb);
      if (!mk) {
        st = GF_OOM(ctx->err, "computed columns");
        break;
      }
    } else {
      memset(made, 0, sizeof made);
    }
    for (int e = 0; e < cs->nex && st == GF_OK; e++) {
      const cexpr *x = &cs->ex[e];
      if (!x->live) continue;
      st = build_view(&s, cs, x);
      if (st == GF_OK) st = eval_dense(&s, x, &mk[e]);
    }
    for (int e = 0; e < cs->nex; e++) {
      if (st == GF_OK && mk[e]) {
        gf_array_release(s.comp[cs->ex[e].slot]);
        s.comp[cs->ex[e].slot] = mk[e];
      } else {
        gf_array_release(mk[e]);
      }
    }
    if (mk != made) gfi_mfree(s.a, mk, mb);
  }
  if (s.pos) gfi_mfree(s.a, s.pos, sizeof(int32_t) * (size_t)s.len);
  mstate_drop_dense(&s, c->nin);
  if (st == GF_OK && s.n > 0 && j->group) {
    gf_array **dst = j->mout + (size_t)chunk->chunk_id * (size_t)c->nout;
    st = compact_morsel(j, m, &s, dst, ctx);
    if (st == GF_OK) r->n = s.n;
    if (s.sel) gfi_mfree(s.a, s.sel, sizeof(int32_t) * (size_t)s.len);
    for (int k = 0; k < c->nslots; k++) gf_array_release(s.comp[k]);
  } else if (st == GF_OK && s.n > 0) {
    r->n = s.n;
    r->sel = s.sel;
    r->sel_bytes = s.sel ? sizeof(int32_t) * (size_t)s.len : 0;
    r->a = s.a;
    bool any = false;
    for (int k = 0; k < c->nslots; k++) {
      if (j->out_slot[k]) any = true;
      else {
        gf_array_release(s.comp[k]);
        s.comp[k] = NULL;
      }
    }
    if (any) {
      r->comp = s.comp; /* keeps s.ptrs alive: comp is its start */
      return GF_OK;
    }
  } else {
    if (s.sel) gfi_mfree(s.a, s.sel, sizeof(int32_t) * (size_t)s.len);
    for (int k = 0; k < c->nslots; k++) gf_array_release(s.comp[k]);
  }
  gfi_mfree(s.a, s.ptrs, s.ptr_bytes);
  return st;
}

/* Releases what a morsel result holds. */
static void mres_free(mres *r, const cseg *c) {
  if (r->sel) gfi_mfree(r->a, r->sel, r->sel_bytes);
  if (r->comp) {
    for (int k = 0; k < c->nslots; k++) gf_array_release(r->comp[k]);
    size_t np = (size_t)c->nslots + (size_t)c->nin + (size_t)c->maxent + 1;
    gfi_mfree(r->a, r->comp, sizeof(gf_array *) * np);
  }
  memset(r, 0, sizeof *r);
}

/* ---- phase 2: coalesce and gather --------------------------------------- */

typedef struct piece {
  int64_t morsel;
  int64_t n; /* rows taken (may be cut by the limit) */
} piece;

typedef struct group {
  int64_t first, count; /* pieces */
  int64_t rows;
  bool whole_batch;     /* the pieces are all rows of one input batch */
} group;

static gf_status gather_chunk(void *user, const gf_chunk_spec *chunk, gf_task_ctx *ctx) {
  pjob *j = user;
  const cseg *c = j->c;
  const group *g = &j->groups[chunk->chunk_id];
  gf_array **out = j->out + (size_t)chunk->chunk_id * (size_t)c->nout;
  size_t pbytes = sizeof(gfi_piece) * (size_t)g->count;
  gfi_piece *pc = gfi_malloc(ctx->allocator, pbytes);
  if (!pc) return GF_OOM(ctx->err, "gather pieces");
  gf_status st = GF_OK;
  for (int col = 0; col < c->nout && st == GF_OK; col++) {
    const ent *e = &c->out[col];
    const piece *p0 = &j->pieces[g->first];
    const gfi_morsel *m0 = &j->m[p0->morsel];
    if (e->base >= 0 && g->whole_batch) {
      out[col] = gf_array_retain(j->f->columns[(size_t)m0->batch * (size_t)c->nin + (size_t)e->base]);
      continue;
    }
    if (e->slot >= 0 && g->count == 1) {
      gf_array *d = j->res[p0->morsel].comp[e->slot];
      if (d->length == p0->n) {
        out[col] = gf_array_retain(d);
        continue;
      }
    }
    for (int64_t q = 0; q < g->count; q++) {
      const piece *p = &j->pieces[g->first + q];
      const gfi_morsel *m = &j->m[p->morsel];
      const mres *r = &j->res[p->morsel];
      if (e->slot >= 0)
        pc[q] = (gfi_piece){r->comp[e->slot], NULL, 0, p->n};
      else
        pc[q] = (gfi_piece){j->f->columns[(size_t)m->batch * (size_t)c->nin + (size_t)e->base],
                            r->sel, r->sel ? 0 : m->start, p->n};
    }
    st = gfi_gather(pc, (int)g->count, ctx->allocator, true, &out[col], ctx->err);
  }
  gfi_mfree(ctx->allocator, pc, pbytes);
  return st;
}

/* ---- running ------------------------------------------------------------ */

typedef struct runctx {
  gf_parallel_options o; /* loaded user options */
  const gf_allocator *a;
  int64_t t0;
  gf_error *err;
} runctx;

/* Options for the next runtime call, with the run's deadline; fails when
 * it has already passed or the run was cancelled. */
static gf_status step_options(const runctx *r, gf_exec_stats *stats, gf_parallel_options *o) {
  /* r->o is loaded: it carries the run's absolute deadline to every step. */
  GF_RETURN_NOT_OK(gfi_check_stop(&r->o, r->t0, o, r->err));
  o->stats = stats;
  return GF_OK;
}

/* Adds the statistics of one runtime call to an accumulator (replacing it
 * when `first`). */
static void stats_add(gf_exec_stats *d, const gf_exec_stats *s, bool first) {
  if (first) memset(d, 0, sizeof *d);
  gfi_exec_stats_add(d, s);
}

/* One runtime call with the run's options, its statistics added to acc. */
static gf_status run_phase(const runctx *r, const gf_chunk_spec *specs, int64_t n, gf_chunk_fn fn,
                           void *user, gf_exec_stats *acc, bool *have) {
  gf_exec_stats one;
  gf_parallel_options o;
  GF_RETURN_NOT_OK(step_options(r, acc ? &one : NULL, &o));
  if (acc) memset(&one, 0, sizeof one);
  gf_status st = gf_run_chunks(specs, n, fn, user, &o, r->err);
  if (st == GF_OK && acc) {
    stats_add(acc, &one, !*have);
    *have = true;
  }
  return st;
}

/* Phase 1 of a fused pass after each wave: the wave's statistics, the rows
 * found so far, and the stop once they reach the limit. */
typedef struct fused_waves {
  const gf_exec_stats *one; /* the wave's statistics */
  gf_exec_stats *acc;
  bool *have;
  const mres *res;
  int64_t limit, found;
} fused_waves;

static gf_status fused_wave_done(void *user, int64_t first, int64_t n, bool *stop,
                                 gf_error *err) {
  (void)err;
  fused_waves *fw = user;
  if (fw->acc) {
    stats_add(fw->acc, fw->one, !*fw->have);
    *fw->have = true;
  }
  for (int64_t i = first; i < first + n; i++) fw->found += fw->res[i].n;
  *stop = fw->limit > 0 && fw->found >= fw->limit;
  return GF_OK;
}

/* Frame of the morsels' compacted outputs (compact mode): one batch per
 * morsel that kept rows, in morsel order. */
static gf_status assemble_compacted(const runctx *r, const cseg *c, const mres *res, int64_t nm,
                                    gf_array **mout, gf_frame **out) {
  int64_t nb = 0;
  for (int64_t i = 0; i < nm; i++) nb += res[i].n > 0;
  if (nb > INT32_MAX) return gf_error_set(r->err, GF_ENOTSUP, "pipeline: too many batches");
  size_t bytes = sizeof(gf_array *) * (size_t)(nb > 0 ? nb : 1) * (size_t)(c->nout > 0 ? c->nout : 1);
  gf_array **cols = gfi_malloc(r->a, bytes);
  if (!cols) return GF_OOM(r->err, "pipeline output");
  int64_t b = 0;
  for (int64_t i = 0; i < nm; i++) {
    if (res[i].n == 0) continue;
    memcpy(cols + (size_t)b * (size_t)c->nout, mout + (size_t)i * (size_t)c->nout,
           sizeof(gf_array *) * (size_t)c->nout);
    b++;
  }
  gf_schema *sc = gf_schema_retain(c->out_schema);
  gf_status st = gf_frame_new(sc, cols, (int)nb, r->a, out, r->err);
  gf_schema_release(sc);
  gfi_mfree(r->a, cols, bytes);
  return st;
}

/* Runs a compiled fused pass over f; `limit` < 0 = none. With `feeds`
 * (the group-by the pass feeds) and no limit, every morsel gathers its own
 * output and phase 2 only assembles the batches: a group-by reads batches
 * of any size at no extra cost, so coalescing would copy the rows twice. */
static gf_status run_fused(const runctx *r, const cseg *c, const gf_frame *f, int64_t limit,
                           const pstage *feeds, gf_exec_stats *acc, bool *have, gf_frame **out) {
  bool compact = feeds != NULL && limit < 0;
  const gf_allocator *a = r->a;
  gf_error *err = r->err;
  int64_t bpr = 8 * (int64_t)(c->nin > 0 ? c->nin : 1);
  gfi_morsel *m = NULL;
  gf_chunk_spec *specs = NULL;
  int64_t nm = 0;
  mres *res = NULL;
  piece *pieces = NULL;
  group *groups = NULL;
  gf_chunk_spec *gspecs = NULL;
  gf_array **cols = NULL;
  bool *out_slot = NULL;
  size_t osb = sizeof(bool) * (size_t)(c->nslots > 0 ? c->nslots : 1);
  int64_t np = 0, ng = 0, done = 0;
  size_t ncols_alloc = 0;
  gf_status st = GF_OK;
  if (limit != 0) st = gfi_plan_morsels(f, bpr, &r->o, a, &m, &specs, &nm, err);
  out_slot = gfi_calloc(a, osb);
  if (st == GF_OK && !out_slot) st = GF_OOM(err, "pipeline state");
  if (st == GF_OK) {
    for (int i = 0; i < c->nout; i++)
      if (c->out[i].slot >= 0) out_slot[c->out[i].slot] = true;
  }
  if (st == GF_OK && nm > 0) {
    res = gfi_calloc(a, sizeof *res * (size_t)nm);
    pieces = gfi_malloc(a, sizeof *pieces * (size_t)nm);
    groups = gfi_malloc(a, sizeof *groups * (size_t)nm);
    gspecs = gfi_malloc(a, sizeof *gspecs * (size_t)nm);
    if (!res || !pieces || !groups || !gspecs) st = GF_OOM(err, "pipeline state");
  }
  gf_array **mout = NULL;
  size_t mout_bytes = sizeof *mout * (size_t)(nm > 0 ? nm : 1) * (size_t)(c->nout > 0 ? c->nout : 1);
  if (st == GF_OK && compact) {
    mout = gfi_calloc(a, mout_bytes);
    if (!mout) st = GF_OOM(err, "pipeline output");
  }
  pjob j = {f, c, m, res, out_slot, compact ? feeds : NULL, mout, NULL, NULL, NULL};
  /* Phase 1, in waves of morsels when a limit may stop it early. */
  int64_t wave = nm;
  if (limit > 0) {
    wave = 2 * (int64_t)gf_effective_workers(&r->o);
    if (wave < 4) wave = 4;
  }
  if (st == GF_OK && nm > 0) {
    gf_exec_stats one;
    gf_parallel_options po;
    fused_waves fw = {&one, acc, have, res, limit, 0};
    gfi_waves w = {morsel_chunk, &j, fused_wave_done, &fw, wave, true, 0, 0};
    st = step_options(r, acc ? &one : NULL, &po);
    if (st == GF_OK) st = gfi_run_waves(&w, specs, nm, &po, err);
    done = w.ran;
  }
  if (st == GF_OK && compact) {
    st = assemble_compacted(r, c, res, nm, mout, out);
  } else if (st == GF_OK) {
    /* Pieces in morsel order, cut at the limit. */
    int64_t left = limit >= 0 ? limit : INT64_MAX;
    for (int64_t i = 0; i < done && left > 0; i++) {
      if (res[i].n == 0) continue;
      int64_t take = res[i].n < left ? res[i].n : left;
      pieces[np++] = (piece){i, take};
      left -= take;
    }
    /* Groups: all rows of a batch stay one (zero-copy) group; the rest
     * coalesce to >= GFI_COALESCE_ROWS rows. */
    for (int64_t i = 0; i < np;) {
      const gfi_morsel *mi = &m[pieces[i].morsel];
      int64_t k = i, rows = 0;
      bool whole = mi->start == 0;
      while (whole && k < np) {
        const piece *p = &pieces[k];
        const gfi_morsel *mk = &m[p->morsel];
        if (mk->batch != mi->batch || mk->start != rows || res[p->morsel].sel || p->n != mk->len)
          break;
        rows += p->n;
        k++;
      }
      whole = whole && k > i && rows == gf_frame_batch_rows(f, mi->batch) &&
              rows >= GFI_COALESCE_ROWS / 4;
      if (whole) {
        groups[ng++] = (group){i, k - i, rows, true};
        i = k;
        continue;
      }
      bool open = ng > 0 && !groups[ng - 1].whole_batch && groups[ng - 1].rows < GFI_COALESCE_ROWS;
      if (open) {
        groups[ng - 1].count++;
        groups[ng - 1].rows += pieces[i].n;
      } else {
        groups[ng++] = (group){i, 1, pieces[i].n, false};
      }
      i++;
    }
    if (ng > 0 && c->nout > 0) {
      ncols_alloc = sizeof *cols * (size_t)ng * (size_t)c->nout;
      cols = gfi_calloc(a, ncols_alloc);
      if (!cols) st = GF_OOM(err, "pipeline output");
    }
  }
  if (st == GF_OK && cols) {
    int64_t row = 0;
    for (int64_t g = 0; g < ng; g++) {
      gspecs[g] = (gf_chunk_spec){row, row + groups[g].rows, g};
      row += groups[g].rows;
    }
    j.pieces = pieces;
    j.groups = groups;
    j.out = cols;
    st = run_phase(r, gspecs, ng, gather_chunk, &j, acc, have);
  }
  if (st == GF_OK && !compact) {
    gf_schema *sc = gf_schema_retain(c->out_schema);
    st = gf_frame_new(sc, cols, cols ? (int)ng : 0, a, out, err);
    gf_schema_release(sc);
  }
  if (mout) {
    for (size_t i = 0; i < (size_t)nm * (size_t)c->nout; i++) gf_array_release(mout[i]);
    gfi_mfree(a, mout, mout_bytes);
  }
  if (cols) {
    for (size_t i = 0; i < (size_t)ng * (size_t)c->nout; i++) gf_array_release(cols[i]);
    gfi_mfree(a, cols, ncols_alloc);
  }
  for (int64_t i = 0; res && i < nm; i++) mres_free(&res[i], c);
  if (res) gfi_mfree(a, res, sizeof *res * (size_t)nm);
  if (pieces) gfi_mfree(a, pieces, sizeof *pieces * (size_t)nm);
  if (groups) gfi_mfree(a, groups, sizeof *groups * (size_t)nm);
  if (gspecs) gfi_mfree(a, gspecs, sizeof *gspecs * (size_t)nm);
  if (out_slot) gfi_mfree(a, out_slot, osb);
  gfi_morsels_free(a, m, specs, nm);
  if (st == GF_OK && acc && *have) acc->rows = f->num_rows;
  return st;
}

/* Step names for the observer. */
static const char *kind_name(int k) {
  static const char *const names[] = {"filter", "with", "select", "limit", "join", "group-by", "sort"};
  return names[k];
}

/* Reports one executed step to the observer and the user's stats. */
static void report(const gf_pipeline *p, const char *name, int64_t in, const gf_frame *out,
                   int64_t t0, const gf_exec_stats *stats, bool have, gf_exec_stats *total,
                   bool *have_total) {
  if (have && total) {
    stats_add(total, stats, !*have_total);
    *have_total = true;
  }
  if (!p->obs) return;
  gf_pipeline_step_info info = {name, in, gf_frame_num_rows(out), gfi_now_ns() - t0,
                                have ? stats : NULL};
  p->obs(p->obs_user, &info);
}

/* Runs steps [i, e) (filter/with/select, then maybe one limit) over cur. */
static gf_status run_segment(const gf_pipeline *p, const runctx *r, int i, int e,
                             const gf_frame *cur, gf_exec_stats *stats, bool *have,
                             gf_frame **out) {
  int64_t limit = -1;
  int last = e;
  if (e > i && p->st[e - 1].kind == ST_LIMIT) {
    limit = p->st[e - 1].limit;
    last = e - 1;
  }
  bool fuse = false;
  for (int k = i; k < last; k++)
    if (p->st[k].kind != ST_SELECT) fuse = true;
  if (!fuse) {
    /* Only selects and a limit: zero-copy. */
    gf_frame *f = gf_frame_retain((gf_frame *)cur);
    gf_status st = GF_OK;
    for (int k = i; k < last && st == GF_OK; k++) {
      gf_frame *n = NULL;
      st = gf_select(f, (const char *const *)p->st[k].names, p->st[k].n, &n, r->err);
      if (st == GF_OK) {
        gf_frame_release(f);
        f = n;
      }
    }
    if (st == GF_OK && limit >= 0 && limit < gf_frame_num_rows(f)) {
      gf_frame *n = NULL;
      st = gf_frame_slice(f, 0, limit, &n, r->err);
      if (st == GF_OK) {
        gf_frame_release(f);
        f = n;
      }
    }
    if (st != GF_OK) {
      gf_frame_release(f);
      return st;
    }
    *out = f;
    return GF_OK;
  }
  cseg c;
  const pstage *next = e < p->n ? &p->st[e] : NULL;
  GF_RETURN_NOT_OK(compile(p, i, last, cur->schema, next, r->a, &c, r->err));
  gf_status st = run_fused(r, &c, cur, limit, next && next->kind == ST_GROUP ? next : NULL, stats, have, out);
  cseg_free(&c);
  return st;
}

gf_status gf_pipeline_run(const gf_pipeline *p, const gf_frame *f, const gf_parallel_options *opts,
                          gf_frame **out, gf_error *err) {
  if (!p || !f || !out) return gf_error_set(err, GF_EINVAL, "gf_pipeline_run: NULL argument");
  runctx r;
  r.t0 = gfi_now_ns();
  r.err = err;
  gfi_ctx call;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, opts, &r.o, err));
  r.a = gfi_alloc_or_default(r.o.allocator);
  gf_exec_stats *user_stats = r.o.stats;
  r.o.stats = NULL;
  bool have_total = false;
  gf_frame *cur = gf_frame_retain((gf_frame *)f);
  gf_status st = GF_OK;
  /* One accumulator per step (large: keep it off small stacks). */
  gf_exec_stats *stats = gfi_malloc(r.a, sizeof *stats);
  if (!stats) st = GF_OOM(err, "pipeline statistics");
  bool want = user_stats || p->obs;
  for (int i = 0; i < p->n && st == GF_OK;) {
    const pstage *ps = &p->st[i];
    int64_t t0 = gfi_now_ns(), in = gf_frame_num_rows(cur);
    bool have = false;
    gf_frame *next = NULL;
    char name[96];
    memset(stats, 0, sizeof *stats);
    if (ps->kind <= ST_LIMIT) {
      int e = i;
      while (e < p->n && p->st[e].kind <= ST_SELECT) e++;
      if (e < p->n && p->st[e].kind == ST_LIMIT) e++;
      name[0] = '\0';
      for (int k = i; k < e; k++) {
        const char *kn = kind_name(p->st[k].kind);
        if (strstr(name, kn)) continue;
        if (name[0]) strcat(name, "+");
        strcat(name, kn);
      }
      if (e - i > 1) strcat(name, " (fused)");
      st = run_segment(p, &r, i, e, cur, want ? stats : NULL, &have, &next);
      if (st == GF_OK) report(p, name, in, next, t0, stats, have, user_stats, &have_total);
      i = e;
    } else {
      gf_parallel_options o;
      st = step_options(&r, want ? stats : NULL, &o);
      if (st == GF_OK && ps->kind == ST_JOIN) {
        gf_join_options jo;
        gf_join_options_init(&jo);
        jo.suffix = ps->suffix;
        jo.parallel = &o;
        st = gf_join(cur, ps->right, (const char *const *)ps->names,
                     (const char *const *)ps->names2, ps->n, ps->how, &jo, &next, err);
      } else if (st == GF_OK && ps->kind == ST_GROUP) {
        gf_groupby_options go;
        gf_groupby_options_init(&go);
        go.sort_keys = ps->sort_keys;
        go.parallel = &o;
        if (ps->aggs)
          st = gf_group_by_list(cur, (const char *const *)ps->names, ps->n, ps->aggs, &go, &next, err);
        else
          st = gf_group_by(cur, (const char *const *)ps->names, ps->n, NULL, 0, &go, &next, err);
      } else if (st == GF_OK) {
        /* A limit after the sort (selects in between) makes it a top-k. */
        int k = i + 1;
        while (k < p->n && p->st[k].kind == ST_SELECT) k++;
        int64_t lim = (k < p->n && p->st[k].kind == ST_LIMIT) ? p->st[k].limit : 0;
        st = gf_sort(cur, ps->keys, ps->n, lim, &o, &next, err);
      }
      have = want && st == GF_OK && stats->size != 0;
      if (st == GF_OK) report(p, kind_name(ps->kind), in, next, t0, stats, have, user_stats, &have_total);
      i++;
    }
    if (st == GF_OK) {
      gf_frame_release(cur);
      cur = next;
    }
  }
  if (stats) gfi_mfree(r.a, stats, sizeof *stats);
  if (st != GF_OK) {
    gf_frame_release(cur);
    return gfi_ctx_end(&call, st, err);
  }
  if (user_stats && !have_total) {
    memset(user_stats, 0, sizeof *user_stats);
    user_stats->size = sizeof *user_stats;
    user_stats->workers_used = 1;
  }
  *out = cur;
  return gfi_ctx_end(&call, GF_OK, err);
}
