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

/* Conjunctions up to this many operands are one left-deep chain (the
 * text reads `a and b and c`); longer ones are balanced, so thousands of
 * merged filters stay far below the expression height limit. */
#define GFI_AND_CHAIN_MAX 64

gf_expr *gfi_and_all(gf_expr *const *v, int n) {
  if (n <= 0) return NULL;
  if (n > GFI_AND_CHAIN_MAX) {
    /* Depth log2(n): recursion is bounded by ~31 levels. */
    int h = n / 2;
    gf_expr *l = gfi_and_all(v, h), *r = gfi_and_all(v + h, n - h);
    if (!l || !r) {
      gf_expr_release(l);
      gf_expr_release(r);
      return NULL;
    }
    return gf_and(l, r);
  }
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

gf_expr *gfi_expr_rebuild(const gf_expr *e, gf_expr **kids) {
  switch (e->kind) {
  case GF_EXPR_UNARY: return gf_unary(e->op, kids[0]);
  case GF_EXPR_BINARY: return gf_binary(e->op, kids[0], kids[1]);
  case GF_EXPR_CALL: return gf_call(e->name, kids, e->nargs);
  case GF_EXPR_CAST: return gf_cast(kids[0], e->cast_to);
  case GF_EXPR_BETWEEN: return gf_between(kids[0], kids[1], kids[2]);
  case GF_EXPR_IN: return gf_in(kids[0], kids + 1, e->nargs - 1);
  default:
    for (int i = 0; i < e->nargs; i++) gf_expr_release(kids[i]);
    return gf_expr_retain((gf_expr *)e);
  }
}

/* One node of gfi_expr_replace's walk. */
typedef struct rframe {
  const gf_expr *e;
  int next;
  gf_expr **kids;
} rframe;

static size_t nkids(const gf_expr *e) { return (size_t)(e->nargs > 0 ? e->nargs : 1); }

gf_status gfi_expr_replace(const gf_expr *e, gf_expr *(*pre)(void *user, const gf_expr *x),
                           void *user, gf_expr **out, gf_error *err) {
  rframe *st = NULL;
  size_t n = 0, cap = 0;
  gf_expr *result = NULL, *pending = NULL;
  gf_status rc = GF_OK;
  const gf_expr *visit = e;
  for (;;) {
    if (visit) {
      /* Enter a node: replaced outright, or pushed to rebuild later. */
      pending = pre(user, visit);
      if (!pending) {
        if (n == cap) {
          size_t nc = cap ? cap * 2 : 32;
          rframe *ns = gfi_malloc(NULL, sizeof *ns * nc);
          if (!ns) {
            rc = GF_OOM(err, "expression rewrite");
            break;
          }
          if (st) {
            memcpy(ns, st, sizeof *ns * n);
            gfi_mfree(NULL, st, sizeof *st * cap);
          }
          st = ns;
          cap = nc;
        }
        st[n].e = visit;
        st[n].next = 0;
        st[n].kids = gfi_calloc(NULL, sizeof *st[n].kids * nkids(visit));
        if (!st[n].kids) {
          rc = GF_OOM(err, "expression rewrite");
          break;
        }
        n++;
      }
      visit = NULL;
    }
    if (pending) {
      /* A finished subtree: hand it to its parent (or it is the result). */
      if (n == 0) {
        result = pending;
        pending = NULL;
        break;
      }
      rframe *par = &st[n - 1];
      par->kids[par->next++] = pending;
      pending = NULL;
    }
    rframe *top = &st[n - 1];
    if (top->next < top->e->nargs) {
      visit = top->e->args[top->next];
      continue;
    }
    bool changed = false;
    for (int i = 0; i < top->e->nargs; i++)
      if (top->kids[i] != top->e->args[i]) changed = true;
    gf_expr *r;
    if (changed) {
      r = gfi_expr_rebuild(top->e, top->kids);
    } else {
      for (int i = 0; i < top->e->nargs; i++) gf_expr_release(top->kids[i]);
      r = gf_expr_retain((gf_expr *)top->e);
    }
    gfi_mfree(NULL, top->kids, sizeof *top->kids * nkids(top->e));
    n--;
    if (!r) {
      rc = GF_OOM(err, "expression rewrite");
      break;
    }
    pending = r;
  }
  gf_expr_release(pending);
  while (n > 0) {
    rframe *f = &st[--n];
    for (int i = 0; i < f->next; i++) gf_expr_release(f->kids[i]);
    gfi_mfree(NULL, f->kids, sizeof *f->kids * nkids(f->e));
  }
  if (st) gfi_mfree(NULL, st, sizeof *st * cap);
  if (rc != GF_OK) {
    gf_expr_release(result);
    return rc;
  }
  *out = result;
  return GF_OK;
}
