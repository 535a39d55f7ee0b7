/*
 * Helpers shared by the optimizer rules: conjunct lists, rebuilding a node
 * over new inputs, wrapping a node in a filter, and where a join's output
 * columns come from.
 */
#include <string.h>

#include "expr/expr_internal.h"
#include "plan/plan_internal.h"

void gfi_exprvec_free(gfi_exprvec *v) {
  for (int i = 0; i < v->n; i++) gf_expr_release(v->v[i]);
  if (v->v) gfi_mfree(NULL, v->v, sizeof *v->v * (size_t)v->cap);
  memset(v, 0, sizeof *v);
}

gf_status gfi_exprvec_push(gfi_exprvec *v, const gf_expr *e, gf_error *err) {
  if (v->n == v->cap) {
    int cap = v->cap ? v->cap * 2 : 8;
    gf_expr **n = gfi_malloc(NULL, sizeof *n * (size_t)cap);
    if (!n) return GF_OOM(err, "predicate list");
    if (v->v) {
      memcpy(n, v->v, sizeof *n * (size_t)v->n);
      gfi_mfree(NULL, v->v, sizeof *n * (size_t)v->cap);
    }
    v->v = n;
    v->cap = cap;
  }
  v->v[v->n++] = gf_expr_retain((gf_expr *)e);
  return GF_OK;
}

gf_status gfi_conjuncts(const gf_expr *e, gfi_exprvec *out, gf_error *err) {
  /* An `and` chain is left-deep when parsed (a and b and c = (a and b) and
   * c): walk down the left spine, collecting right operands, then emit
   * them in source order. Right operands that are `and`s themselves are
   * split the same way through the work list. */
  gfi_exprvec work = {0};
  gf_status st = gfi_exprvec_push(&work, e, err);
  while (st == GF_OK && work.n > 0) {
    gf_expr *x = work.v[--work.n];
    if (x->kind == GF_EXPR_BINARY && x->op == GF_OP_AND) {
      /* Right first onto the stack so the left is emitted first. */
      st = gfi_exprvec_push(&work, x->args[1], err);
      if (st == GF_OK) st = gfi_exprvec_push(&work, x->args[0], err);
    } else {
      st = gfi_exprvec_push(out, x, err);
    }
    gf_expr_release(x);
  }
  gfi_exprvec_free(&work);
  return st;
}

gf_expr *gfi_and_all(gf_expr *const *v, int n) {
  if (n <= 0) return NULL;
  gf_expr *acc = gf_expr_retain(v[0]);
  for (int i = 1; i < n && acc; i++) acc = gf_and(acc, gf_expr_retain(v[i]));
  return acc;
}

gf_status gfi_plan_with_inputs(const gf_plan *p, gf_plan *const *in, gf_plan **out, gf_error *err) {
  bool same = true;
  for (int i = 0; i < p->nin; i++)
    if (in[i] != p->in[i]) same = false;
  if (same) {
    *out = gf_plan_retain((gf_plan *)p);
    return GF_OK;
  }
  gf_plan *c = gfi_plan_clone(p);
  if (!c) return GF_OOM(err, "plan node");
  for (int i = 0; i < p->nin; i++) gfi_plan_set_input(c, i, in[i]);
  return gfi_plan_finish(c, out, err);
}

gf_status gfi_plan_wrap_filter(const gf_plan *in, gf_expr *const *preds, int n, gf_plan_kind kind,
                               gf_plan **out, gf_error *err) {
  gf_expr *e = gfi_and_all(preds, n);
  if (!e) return GF_OOM(err, "predicate");
  gf_status st = kind == GF_PLAN_HAVING ? gf_plan_having(in, e, out, err) : gf_plan_filter(in, e, out, err);
  gf_expr_release(e);
  return st;
}

gf_status gfi_expr_reads_only(const gf_expr *e, const gfi_nameset *allowed, bool *yes, gf_error *err) {
  *yes = true;
  if (!allowed) return GF_OK;
  gfi_nameset cols = {0};
  gf_status st = gfi_expr_columns(e, &cols, err);
  for (int i = 0; st == GF_OK && i < cols.n; i++)
    if (!gfi_nameset_has(allowed, cols.v[i])) *yes = false;
  gfi_nameset_free(&cols);
  return st;
}

/* True when right column `name` is one of the join's right keys. */
static bool is_right_key(const gf_plan *j, const char *name) {
  for (int k = 0; k < j->nnames; k++)
    if (strcmp(j->names2[k], name) == 0) return true;
  return false;
}

void gfi_join_origin(const gf_plan *j, int i, int *side, int *col) {
  /* gf_join's output: every left column, then (inner, left) the right
   * columns that are not right keys or (right, full) every right column;
   * semi and anti output the left columns only. */
  int nl = gf_schema_num_fields(j->in[0]->schema);
  if (i < nl) {
    *side = 0;
    *col = i;
    return;
  }
  *side = 1;
  int want = i - nl, seen = 0;
  const gf_schema *rs = j->in[1]->schema;
  bool drop_keys = j->how == GF_JOIN_INNER || j->how == GF_JOIN_LEFT;
  for (int c = 0; c < gf_schema_num_fields(rs); c++) {
    if (drop_keys && is_right_key(j, gf_schema_field(rs, c)->name)) continue;
    if (seen++ == want) {
      *col = c;
      return;
    }
  }
  *col = -1;
}
