/*
 * Rule: constant folding. In every expression of the plan (filters,
 * having, computed columns, predicates pushed into sources):
 *  - a sub-expression reading no column is evaluated once (by the
 *    expression engine itself, over a one-row frame) and replaced by its
 *    literal, when the value is a bool, int64, utf8 or date32 that is not
 *    null. Floats are left alone: the binder compares an integer column
 *    with a float LITERAL exactly but with a float expression as float64,
 *    so folding one could change an answer;
 *  - in a predicate (filter, having, source predicate), top-level `and`
 *    operands that fold to true are dropped, and a filter or having left
 *    with none is removed (a row passes a filter when the predicate is
 *    true, so `x and true` keeps exactly the rows x keeps). Inside
 *    expressions and/or are not simplified: `null and true` has a type
 *    that `null` alone has not.
 * Trees are rebuilt bottom-up with an explicit stack (no recursion per
 * level, so a flat chain of any length is fine).
 */
#include <string.h>

#include "expr/expr_internal.h"
#include "plan/plan_internal.h"

/* The value of a constant expression as a literal, or NULL (not foldable
 * or out of memory: folding is then skipped, never an error). */
static gf_expr *evaluate_constant(const gf_expr *e) {
  gf_builder *b = NULL;
  gf_array *one = NULL;
  gf_frame *f = NULL, *r = NULL;
  gf_expr *lit = NULL;
  if (gf_builder_new(gf_type(GF_TYPE_INT64), NULL, &b, NULL) != GF_OK) return NULL;
  const char *name = "one";
  if (gf_builder_append_int64(b, 0, NULL) == GF_OK && gf_builder_finish(b, &one, NULL) == GF_OK &&
      gf_frame_from_columns(&name, &one, 1, &f, NULL) == GF_OK &&
      gf_evaluate(f, e, "c", NULL, &r, NULL) == GF_OK && gf_frame_num_rows(r) == 1) {
    gf_array *a = gf_frame_column(r, 0, 0);
    gf_type_id id = gf_array_type(a).id;
    if (id == GF_TYPE_NULL) {
      lit = gf_lit_null();
    } else if (!gf_array_is_null(a, 0)) {
      if (id == GF_TYPE_BOOL) lit = gf_lit_bool(gf_array_get_bool(a, 0));
      else if (id == GF_TYPE_INT64) lit = gf_lit_int64(gf_array_get_int64(a, 0));
      else if (id == GF_TYPE_DATE32) lit = gf_lit_date((int32_t)gf_array_get_int64(a, 0));
      else if (id == GF_TYPE_UTF8) {
        int64_t len = 0;
        const char *s = gf_array_get_bytes(a, 0, &len);
        lit = gf_lit_bytes(s, len);
      }
    }
  }
  gf_builder_free(b);
  gf_array_release(one);
  gf_frame_release(f);
  gf_frame_release(r);
  return lit;
}

static bool is_bool_lit(const gf_expr *e, bool v) {
  return e->kind == GF_EXPR_LITERAL && e->lit.type.id == GF_TYPE_BOOL && !e->lit.null &&
         (e->lit.i != 0) == v;
}

/* The folded node of e, given its folded children (consumed). */
static gf_expr *fold_node(const gf_expr *e, gf_expr **kids, const bool *kconst, bool *is_const) {
  bool all = e->kind != GF_EXPR_COLUMN, changed = false;
  for (int i = 0; i < e->nargs; i++) {
    if (!kconst[i]) all = false;
    if (kids[i] != e->args[i]) changed = true;
  }
  *is_const = all;
  gf_expr *n = changed ? gfi_expr_rebuild(e, kids) : gf_expr_retain((gf_expr *)e);
  if (!changed)
    for (int i = 0; i < e->nargs; i++) gf_expr_release(kids[i]);
  if (n && all && e->kind != GF_EXPR_LITERAL) {
    gf_expr *lit = evaluate_constant(n);
    if (lit) {
      gf_expr_release(n);
      return lit;
    }
  }
  return n;
}

/* One frame of the explicit post-order walk. */
typedef struct fframe {
  const gf_expr *e;
  int next;        /* children done */
  gf_expr **kids;  /* folded children */
  bool *kconst;
} fframe;

/* The folded tree of e (new reference), or NULL when out of memory. */
static gf_expr *fold_expr(const gf_expr *e) {
  fframe *st = NULL;
  size_t n = 0, cap = 0;
  gf_expr *result = NULL;
  bool result_const = false, ok = true;
  /* push root */
#define PUSH(x)                                                                       \
  do {                                                                                \
    if (n == cap) {                                                                   \
      size_t nc = cap ? cap * 2 : 32;                                                 \
      fframe *ns = gfi_malloc(NULL, sizeof *ns * nc);                                 \
      if (!ns) { ok = false; break; }                                                 \
      if (st) { memcpy(ns, st, sizeof *ns * n); gfi_mfree(NULL, st, sizeof *st * cap); } \
      st = ns;                                                                        \
      cap = nc;                                                                       \
    }                                                                                 \
    fframe *f_ = &st[n];                                                              \
    f_->e = (x);                                                                      \
    f_->next = 0;                                                                     \
    size_t k_ = (size_t)((x)->nargs > 0 ? (x)->nargs : 1);                             \
    f_->kids = gfi_calloc(NULL, sizeof *f_->kids * k_);                               \
    f_->kconst = gfi_calloc(NULL, sizeof *f_->kconst * k_);                           \
    if (!f_->kids || !f_->kconst) {                                                   \
      if (f_->kids) gfi_mfree(NULL, f_->kids, sizeof *f_->kids * k_);                 \
      if (f_->kconst) gfi_mfree(NULL, f_->kconst, sizeof *f_->kconst * k_);           \
      ok = false;                                                                     \
      break;                                                                          \
    }                                                                                 \
    n++;                                                                              \
  } while (0)
  PUSH(e);
  while (ok && n > 0) {
    fframe *top = &st[n - 1];
    if (top->next < top->e->nargs) {
      /* Read the child before PUSH: growing the stack frees what `top`
       * points into. */
      const gf_expr *child = top->e->args[top->next];
      PUSH(child);
      continue;
    }
    bool c = false;
    gf_expr *r = fold_node(top->e, top->kids, top->kconst, &c);
    size_t k = (size_t)(top->e->nargs > 0 ? top->e->nargs : 1);
    gfi_mfree(NULL, top->kids, sizeof *top->kids * k);
    gfi_mfree(NULL, top->kconst, sizeof *top->kconst * k);
    n--;
    if (!r) {
      ok = false;
      break;
    }
    if (n == 0) {
      result = r;
      result_const = c;
    } else {
      fframe *parent = &st[n - 1];
      parent->kids[parent->next] = r;
      parent->kconst[parent->next] = c;
      parent->next++;
    }
  }
#undef PUSH
  /* On failure, drop what the unfinished frames hold. */
  while (n > 0) {
    fframe *f = &st[--n];
    size_t k = (size_t)(f->e->nargs > 0 ? f->e->nargs : 1);
    for (int i = 0; i < f->next; i++) gf_expr_release(f->kids[i]);
    gfi_mfree(NULL, f->kids, sizeof *f->kids * k);
    gfi_mfree(NULL, f->kconst, sizeof *f->kconst * k);
  }
  if (st) gfi_mfree(NULL, st, sizeof *st * cap);
  (void)result_const;
  if (!ok) {
    gf_expr_release(result);
    return NULL;
  }
  return result;
}

/* A predicate folded conjunct by conjunct, true conjuncts dropped; *out
 * NULL when none is left (the predicate is true). */
static gf_status fold_predicate(const gf_expr *e, gf_expr **out, gf_error *err) {
  gfi_exprvec cj = {0}, kept = {0};
  gf_status st = gfi_conjuncts(e, &cj, err);
  for (int i = 0; i < cj.n && st == GF_OK; i++) {
    gf_expr *f = fold_expr(cj.v[i]);
    if (!f) {
      st = GF_OOM(err, "folded expression");
      break;
    }
    if (!is_bool_lit(f, true)) st = gfi_exprvec_push(&kept, f, err);
    gf_expr_release(f);
  }
  *out = NULL;
  if (st == GF_OK && kept.n > 0) {
    *out = gfi_and_all(kept.v, kept.n);
    if (!*out) st = GF_OOM(err, "folded expression");
  }
  gfi_exprvec_free(&cj);
  gfi_exprvec_free(&kept);
  return st;
}

/* The plan under p with every expression folded. */
static gf_status fold_plan(const gf_plan *p, gf_plan **out, gf_error *err) {
  gf_plan *in[2] = {NULL, NULL};
  gf_status st = GF_OK;
  for (int i = 0; i < p->nin && st == GF_OK; i++) st = fold_plan(p->in[i], &in[i], err);
  gf_plan *mid = NULL;
  if (st == GF_OK) st = gfi_plan_with_inputs(p, in, &mid, err);
  for (int i = 0; i < 2; i++) gf_plan_release(in[i]);
  if (st != GF_OK) return st;
  bool any = p->pred != NULL;
  if (p->kind == GF_PLAN_FILTER || p->kind == GF_PLAN_HAVING || p->kind == GF_PLAN_WITH) any = true;
  if (!any) {
    *out = mid;
    return GF_OK;
  }
  gf_plan *c = gfi_plan_clone(mid);
  if (!c) {
    gf_plan_release(mid);
    return GF_OOM(err, "plan node");
  }
  bool drop = false;
  if (c->pred) {
    gf_expr *f = NULL;
    st = fold_predicate(c->pred, &f, err);
    if (st == GF_OK) {
      gf_expr_release(c->pred);
      c->pred = f;
    }
  }
  bool is_filter = c->kind == GF_PLAN_FILTER || c->kind == GF_PLAN_HAVING;
  for (int i = 0; i < c->nexprs && st == GF_OK; i++) {
    gf_expr *f = NULL;
    if (is_filter) {
      st = fold_predicate(c->exprs[i], &f, err);
      if (st == GF_OK && !f) {
        drop = true;
        break;
      }
    } else {
      f = fold_expr(c->exprs[i]);
      if (!f) st = GF_OOM(err, "folded expression");
    }
    if (st != GF_OK) break;
    gf_expr_release(c->exprs[i]);
    c->exprs[i] = f;
  }
  if (st == GF_OK && drop) {
    /* A filter that keeps every row. */
    gf_plan_release(c);
    *out = gf_plan_retain(mid->in[0]);
    gf_plan_release(mid);
    return GF_OK;
  }
  gf_plan_release(mid);
  if (st != GF_OK) {
    gf_plan_release(c);
    return st;
  }
  return gfi_plan_finish(c, out, err);
}

gf_status gfi_rule_constant_folding(const gf_plan *p, gf_plan **out, gf_error *err) {
  return fold_plan(p, out, err);
}
