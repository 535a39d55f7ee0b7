/*
 * Rules: projection pushdown and dead-column elimination, one walk from
 * the root down carrying the set of columns the parent needs (NULL = all
 * of them: the root, a union's or a whole-row distinct's inputs).
 *  - projection pushdown: each source reads only the columns needed above
 *    it (its `columns` list: the CSV reader parses only those, IPC and
 *    frames select them); at least one column stays, so the row count
 *    survives a plan that reads no column (count()).
 *  - dead columns: with_columns entries nothing above reads are dropped (a
 *    step left empty goes), and selects keep only the needed columns.
 * Needs per node: filter/having add the predicate's columns; sort its
 * keys; group-by its keys and the columns its aggregates read (whatever
 * is needed of its output); with_columns what its kept expressions read
 * plus the needed columns it does not compute; join its keys on each side
 * plus the needed columns of that side (and, on the left, any column whose
 * name a kept right column also has, so the suffixing of clashing names
 * does not change); union the same columns of both inputs.
 * A rebuilt join whose output names differ from the original's (a corner
 * of suffix clashes) falls back to its inputs unpruned.
 */
#include <string.h>

#include "expr/expr_internal.h"
#include "ops/ops_internal.h"
#include "plan/plan_internal.h"

enum { PRUNE_SOURCES = 1, PRUNE_DEAD = 2 };

static gf_status prune(const gf_plan *p, const gfi_nameset *req, unsigned flags, gf_plan **out,
                       gf_error *err);

/* Adds what e reads to s. */
static gf_status add_expr(gfi_nameset *s, const gf_expr *e, gf_error *err) {
  return gfi_expr_columns(e, s, err);
}

/* s = copy of req (req not NULL). */
static gf_status copy_set(gfi_nameset *s, const gfi_nameset *req, gf_error *err) {
  for (int i = 0; i < req->n; i++) GF_RETURN_NOT_OK(gfi_nameset_add(s, req->v[i], err));
  return GF_OK;
}

/* A source narrowed to the needed columns. */
static gf_status prune_source(const gf_plan *p, const gfi_nameset *req, unsigned flags, gf_plan **out,
                              gf_error *err) {
  if (!req || !(flags & PRUNE_SOURCES)) {
    *out = gf_plan_retain((gf_plan *)p);
    return GF_OK;
  }
  gfi_nameset need = {0};
  gf_status st = copy_set(&need, req, err);
  if (st == GF_OK && p->pred) st = add_expr(&need, p->pred, err);
  /* The output columns (in source order) that are needed. */
  int n = gf_schema_num_fields(p->schema), k = 0;
  const char **keep = NULL;
  if (st == GF_OK) {
    keep = gfi_calloc(NULL, sizeof *keep * (size_t)(n > 0 ? n : 1));
    if (!keep) st = GF_OOM(err, "projection");
  }
  for (int i = 0; st == GF_OK && i < n; i++) {
    const char *name = gf_schema_field(p->schema, i)->name;
    if (gfi_nameset_has(&need, name)) keep[k++] = name;
  }
  if (st == GF_OK && k == 0 && n > 0) {
    /* Nothing is read: keep the narrowest column for the row count. */
    int best = 0, bw = 1 << 30;
    for (int i = 0; i < n; i++) {
      int w = gf_type_bit_width(gf_schema_field(p->schema, i)->type);
      if (w > 0 && w < bw) {
        bw = w;
        best = i;
      }
    }
    keep[k++] = gf_schema_field(p->schema, best)->name;
  }
  gf_plan *c = NULL;
  if (st == GF_OK && k < n) {
    c = gfi_plan_clone(p);
    char **proj = c ? gfi_plan_names_copy(keep, k) : NULL;
    if (!proj) {
      st = GF_OOM(err, "projection");
    } else {
      if (c->nproj >= 0) gfi_plan_names_free(c->proj, c->nproj);
      c->proj = proj;
      c->nproj = k;
    }
  }
  if (keep) gfi_mfree(NULL, (void *)keep, sizeof *keep * (size_t)(n > 0 ? n : 1));
  gfi_nameset_free(&need);
  if (st != GF_OK) {
    gf_plan_release(c);
    return st;
  }
  if (!c) {
    *out = gf_plan_retain((gf_plan *)p);
    return GF_OK;
  }
  return gfi_plan_finish(c, out, err);
}

/* Rebuilds p over one input pruned with `need` (NULL = all). */
static gf_status over_one(const gf_plan *p, const gfi_nameset *need, unsigned flags, gf_plan **out,
                          gf_error *err) {
  gf_plan *in = NULL;
  GF_RETURN_NOT_OK(prune(p->in[0], need, flags, &in, err));
  gf_status st = gfi_plan_with_inputs(p, &in, out, err);
  gf_plan_release(in);
  return st;
}

/* with_columns: dead entries dropped, input needs computed. */
static gf_status prune_with(const gf_plan *p, const gfi_nameset *req, unsigned flags, gf_plan **out,
                            gf_error *err) {
  if (!req) return over_one(p, NULL, flags, out, err);
  bool *keep = gfi_calloc(NULL, sizeof *keep * (size_t)p->nnames);
  if (!keep) return GF_OOM(err, "projection");
  int nk = 0;
  for (int i = 0; i < p->nnames; i++) {
    keep[i] = !(flags & PRUNE_DEAD) || gfi_nameset_has(req, p->names[i]);
    nk += keep[i];
  }
  gfi_nameset need = {0};
  gf_status st = GF_OK;
  for (int i = 0; i < req->n && st == GF_OK; i++) {
    bool computed = false;
    for (int k = 0; k < p->nnames; k++)
      if (strcmp(p->names[k], req->v[i]) == 0) computed = true;
    if (!computed) st = gfi_nameset_add(&need, req->v[i], err);
  }
  for (int i = 0; i < p->nnames && st == GF_OK; i++)
    if (keep[i]) st = add_expr(&need, p->exprs[i], err);
  gf_plan *in = NULL;
  if (st == GF_OK) st = prune(p->in[0], &need, flags, &in, err);
  if (st == GF_OK && nk == 0) {
    *out = in;
    in = NULL;
  } else if (st == GF_OK && nk == p->nnames) {
    st = gfi_plan_with_inputs(p, &in, out, err);
  } else if (st == GF_OK) {
    const char **names = gfi_calloc(NULL, sizeof *names * (size_t)nk);
    gf_expr **exprs = gfi_calloc(NULL, sizeof *exprs * (size_t)nk);
    if (!names || !exprs) {
      st = GF_OOM(err, "projection");
    } else {
      int j = 0;
      for (int i = 0; i < p->nnames; i++)
        if (keep[i]) {
          names[j] = p->names[i];
          exprs[j++] = p->exprs[i];
        }
      st = gf_plan_with_columns(in, names, exprs, nk, out, err);
    }
    if (names) gfi_mfree(NULL, (void *)names, sizeof *names * (size_t)nk);
    if (exprs) gfi_mfree(NULL, exprs, sizeof *exprs * (size_t)nk);
  }
  gf_plan_release(in);
  gfi_nameset_free(&need);
  gfi_mfree(NULL, keep, sizeof *keep * (size_t)p->nnames);
  return st;
}

/* select: only the needed names (dead columns), input needs them. */
static gf_status prune_select(const gf_plan *p, const gfi_nameset *req, unsigned flags, gf_plan **out,
                              gf_error *err) {
  gfi_nameset need = {0};
  gf_status st = GF_OK;
  int nk = 0;
  for (int i = 0; i < p->nnames && st == GF_OK; i++) {
    bool k = !req || !(flags & PRUNE_DEAD) || gfi_nameset_has(req, p->names[i]);
    if (k) {
      st = gfi_nameset_add(&need, p->names[i], err);
      nk++;
    }
  }
  if (nk == 0) {
    /* Nothing above reads it (a count): keep the select as it is. */
    gfi_nameset_free(&need);
    for (int i = 0; i < p->nnames && st == GF_OK; i++) st = gfi_nameset_add(&need, p->names[i], err);
    nk = p->nnames;
  }
  gf_plan *in = NULL;
  if (st == GF_OK) st = prune(p->in[0], &need, flags, &in, err);
  if (st == GF_OK && nk == p->nnames) {
    st = gfi_plan_with_inputs(p, &in, out, err);
  } else if (st == GF_OK) {
    const char **names = gfi_calloc(NULL, sizeof *names * (size_t)nk);
    if (!names) {
      st = GF_OOM(err, "projection");
    } else {
      int j = 0;
      for (int i = 0; i < p->nnames; i++)
        if (gfi_nameset_has(&need, p->names[i]) && j < nk) names[j++] = p->names[i];
      st = gf_plan_select(in, names, nk, out, err);
      gfi_mfree(NULL, (void *)names, sizeof *names * (size_t)nk);
    }
  }
  gf_plan_release(in);
  gfi_nameset_free(&need);
  return st;
}

/* True when the joins j and o give the same column (side and input name)
 * for every needed output name. */
static bool same_origins(const gf_plan *j, const gf_plan *o, const gfi_nameset *req) {
  for (int i = 0; i < req->n; i++) {
    int a = gf_schema_find(j->schema, req->v[i]), b = gf_schema_find(o->schema, req->v[i]);
    if (a < 0 || b < 0) return false;
    int sa, ca, sb, cb;
    gfi_join_origin(j, a, &sa, &ca);
    gfi_join_origin(o, b, &sb, &cb);
    if (sa != sb || ca < 0 || cb < 0) return false;
    const char *na = gf_schema_field(j->in[sa]->schema, ca)->name;
    const char *nb = gf_schema_field(o->in[sb]->schema, cb)->name;
    if (strcmp(na, nb) != 0) return false;
  }
  return true;
}

static gf_status prune_join(const gf_plan *p, const gfi_nameset *req, unsigned flags, gf_plan **out,
                            gf_error *err) {
  if (!req) {
    gf_plan *in[2] = {NULL, NULL};
    gf_status st = prune(p->in[0], NULL, flags, &in[0], err);
    if (st == GF_OK) st = prune(p->in[1], NULL, flags, &in[1], err);
    if (st == GF_OK) st = gfi_plan_with_inputs(p, in, out, err);
    gf_plan_release(in[0]);
    gf_plan_release(in[1]);
    return st;
  }
  gfi_nameset ln = {0}, rn = {0};
  gf_status st = GF_OK;
  for (int k = 0; k < p->nnames && st == GF_OK; k++) {
    st = gfi_nameset_add(&ln, p->names[k], err);
    if (st == GF_OK) st = gfi_nameset_add(&rn, p->names2[k], err);
  }
  const gf_schema *ls = p->in[0]->schema, *rs = p->in[1]->schema;
  for (int i = 0; i < req->n && st == GF_OK; i++) {
    int c = gf_schema_find(p->schema, req->v[i]);
    if (c < 0) continue;
    int side, col;
    gfi_join_origin(p, c, &side, &col);
    if (col < 0) continue;
    st = gfi_nameset_add(side ? &rn : &ln, gf_schema_field(side ? rs : ls, col)->name, err);
  }
  /* Left columns sharing a name with a kept right column stay, so that
   * column keeps its suffixed name. */
  for (int i = 0; i < rn.n && st == GF_OK; i++)
    if (gf_schema_find(ls, rn.v[i]) >= 0) st = gfi_nameset_add(&ln, rn.v[i], err);
  gf_plan *in[2] = {NULL, NULL}, *j = NULL;
  if (st == GF_OK) st = prune(p->in[0], &ln, flags, &in[0], err);
  if (st == GF_OK) st = prune(p->in[1], &rn, flags, &in[1], err);
  if (st == GF_OK) st = gfi_plan_with_inputs(p, in, &j, err);
  gf_plan_release(in[0]);
  gf_plan_release(in[1]);
  gfi_nameset_free(&ln);
  gfi_nameset_free(&rn);
  if (st != GF_OK) return st;
  if (!same_origins(p, j, req)) {
    gf_plan_release(j);
    return prune_join(p, NULL, flags, out, err);
  }
  *out = j;
  return GF_OK;
}

/* union: both inputs narrowed to the needed names, in the first input's
 * order (a select on each side keeps the two alike). */
static gf_status prune_union(const gf_plan *p, const gfi_nameset *req, unsigned flags, gf_plan **out,
                             gf_error *err) {
  gf_plan *in[2] = {NULL, NULL};
  gf_status st = GF_OK;
  if (!req) {
    for (int i = 0; i < 2 && st == GF_OK; i++) st = prune(p->in[i], NULL, flags, &in[i], err);
    if (st == GF_OK) st = gfi_plan_with_inputs(p, in, out, err);
    gf_plan_release(in[0]);
    gf_plan_release(in[1]);
    return st;
  }
  int n = gf_schema_num_fields(p->schema), k = 0;
  const char **names = gfi_calloc(NULL, sizeof *names * (size_t)(n > 0 ? n : 1));
  if (!names) return GF_OOM(err, "projection");
  for (int i = 0; i < n; i++)
    if (gfi_nameset_has(req, gf_schema_field(p->schema, i)->name)) names[k++] = gf_schema_field(p->schema, i)->name;
  if (k == 0 && n > 0) names[k++] = gf_schema_field(p->schema, 0)->name;
  gfi_nameset need = {0};
  for (int i = 0; i < k && st == GF_OK; i++) st = gfi_nameset_add(&need, names[i], err);
  /* Each input keeps the needed columns it has (a column it lacks is
   * null-filled by the union), at least one so its rows stay. */
  const char **mine = gfi_calloc(NULL, sizeof *mine * (size_t)(k > 0 ? k : 1));
  if (!mine) st = GF_OOM(err, "projection");
  for (int i = 0; i < 2 && st == GF_OK; i++) {
    int m = 0;
    for (int c = 0; c < k; c++)
      if (gf_schema_find(p->in[i]->schema, names[c]) >= 0) mine[m++] = names[c];
    gf_plan *pr = NULL;
    gfi_nameset side = {0};
    for (int c = 0; c < m && st == GF_OK; c++) st = gfi_nameset_add(&side, mine[c], err);
    if (st == GF_OK && m == 0 && gf_schema_num_fields(p->in[i]->schema) > 0) {
      mine[m++] = gf_schema_field(p->in[i]->schema, 0)->name;
      st = gfi_nameset_add(&side, mine[0], err);
    }
    if (st == GF_OK) st = prune(p->in[i], &side, flags, &pr, err);
    if (st == GF_OK) st = gf_plan_select(pr, mine, m, &in[i], err);
    gf_plan_release(pr);
    gfi_nameset_free(&side);
  }
  if (mine) gfi_mfree(NULL, (void *)mine, sizeof *mine * (size_t)(k > 0 ? k : 1));
  gf_plan *u = NULL;
  if (st == GF_OK) st = gf_plan_union(in[0], in[1], &u, err);
  /* The needed columns in the union's order (an input may have brought
   * one the other lacks first, or a stand-in column). */
  if (st == GF_OK) st = gf_plan_select(u, names, k, out, err);
  gf_plan_release(u);
  gf_plan_release(in[0]);
  gf_plan_release(in[1]);
  gfi_nameset_free(&need);
  gfi_mfree(NULL, (void *)names, sizeof *names * (size_t)(n > 0 ? n : 1));
  return st;
}

static gf_status prune(const gf_plan *p, const gfi_nameset *req, unsigned flags, gf_plan **out,
                       gf_error *err) {
  gfi_nameset need = {0};
  gf_status st = GF_OK;
  const gfi_nameset *pass = NULL; /* what the (single) input must give */
  if (!req && p->kind != GF_PLAN_UNION && p->kind != GF_PLAN_JOIN) {
    /* Every output column is needed: as an explicit set, so that a
     * with_columns under it still drops what a later step replaces. */
    gfi_nameset all = {0};
    for (int i = 0; i < gf_schema_num_fields(p->schema) && st == GF_OK; i++)
      st = gfi_nameset_add(&all, gf_schema_field(p->schema, i)->name, err);
    if (st == GF_OK) st = prune(p, &all, flags, out, err);
    gfi_nameset_free(&all);
    return st;
  }
  switch (p->kind) {
  case GF_PLAN_FRAME:
  case GF_PLAN_CSV:
  case GF_PLAN_IPC:
  case GF_PLAN_STREAM:
  case GF_PLAN_FILES:
  case GF_PLAN_PARQUET:
    return prune_source(p, req, flags, out, err);
  case GF_PLAN_WITH:
    return prune_with(p, req, flags, out, err);
  case GF_PLAN_SELECT:
    return prune_select(p, req, flags, out, err);
  case GF_PLAN_JOIN:
    return prune_join(p, req, flags, out, err);
  case GF_PLAN_UNION:
    return prune_union(p, req, flags, out, err);
  case GF_PLAN_FILTER:
  case GF_PLAN_HAVING:
    if (req) {
      st = copy_set(&need, req, err);
      if (st == GF_OK) st = add_expr(&need, p->exprs[0], err);
      pass = &need;
    }
    break;
  case GF_PLAN_SORT:
    if (req) {
      st = copy_set(&need, req, err);
      for (int i = 0; i < p->nkeys && st == GF_OK; i++) st = gfi_nameset_add(&need, p->keys[i].column, err);
      pass = &need;
    }
    break;
  case GF_PLAN_LIMIT:
    pass = req;
    break;
  case GF_PLAN_DISTINCT:
    if (req && p->nnames > 0) {
      st = copy_set(&need, req, err);
      for (int i = 0; i < p->nnames && st == GF_OK; i++) st = gfi_nameset_add(&need, p->names[i], err);
      pass = &need;
    }
    break;
  case GF_PLAN_GROUP_BY: {
    /* Keys and what the aggregates read, whatever is needed above. */
    const gf_schema *in = p->in[0]->schema;
    for (int i = 0; i < p->nnames && st == GF_OK; i++) st = gfi_nameset_add(&need, p->names[i], err);
    for (int i = 0; i < gf_schema_num_fields(in) && st == GF_OK; i++) {
      const char *name = gf_schema_field(in, i)->name;
      if (p->aggs && gfi_agg_list_reads(p->aggs, name)) st = gfi_nameset_add(&need, name, err);
    }
    pass = &need;
    break;
  }
  default:
    break;
  }
  if (st == GF_OK) st = over_one(p, pass, flags, out, err);
  gfi_nameset_free(&need);
  return st;
}

gf_status gfi_rule_projection_pushdown(const gf_plan *p, gf_plan **out, gf_error *err) {
  return prune(p, NULL, PRUNE_SOURCES, out, err);
}

gf_status gfi_rule_dead_columns(const gf_plan *p, gf_plan **out, gf_error *err) {
  return prune(p, NULL, PRUNE_DEAD, out, err);
}
