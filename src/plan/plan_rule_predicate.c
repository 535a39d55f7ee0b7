/*
 * Rule: predicate pushdown. Filters are split into their `and` operands
 * (conjuncts), and each conjunct travels down the tree as far as it keeps
 * the answer identical:
 *  - through select; through with_columns when it reads no column that
 *    step computes; through a sort without a pushed top-k (a stable sort
 *    of fewer rows keeps their order); through another filter (merged);
 *  - into both inputs of a union when it reads only columns both have
 *    with the union's own type (not a null-filled or widened column);
 *  - through a group-by (and a having) when it reads only key columns of
 *    non-float types: every row of a group then has the same values in
 *    them, so whole groups go and the others keep their rows, first row
 *    and order. Float keys stay: -0.0 and +0.0 (or NaNs) share a group but
 *    an expression may tell them apart. Other conjuncts (on aggregates)
 *    stay after it;
 *  - through distinct likewise when it reads only key columns of
 *    non-float types;
 *  - joins: into the left input for inner, left, semi and anti joins
 *    when it reads only left columns; into the right input for inner and
 *    right joins when it reads only right columns (a column the join
 *    renamed, "age_right", is read there by its own name, "age"). Never into the null-supplying side (the right of a left join,
 *    the left of a right join) and never through a full join;
 *  - into sources, where the reader applies it after the read (gf_filter
 *    skips batches whose statistics rule it out).
 * Not through a limit (nor a sort with a top-k). Conjuncts that stop are
 * applied right there, by one filter of their conjunction.
 */
#include <string.h>

#include "expr/expr_internal.h"
#include "plan/plan_internal.h"

static gf_status push(const gf_plan *p, const gfi_exprvec *preds, gf_plan **out, gf_error *err);

/* True when type t (or a dictionary's value type) is a float. */
static bool is_floaty(gf_datatype t) {
  if (t.id == GF_TYPE_DICTIONARY) t = gf_type_value(t);
  return t.id == GF_TYPE_FLOAT32 || t.id == GF_TYPE_FLOAT64;
}

/* Applies `preds` on top of `node` (consumed): node itself when empty. */
static gf_status wrap(gf_plan *node, const gfi_exprvec *preds, gf_plan_kind kind, gf_plan **out,
                      gf_error *err) {
  if (preds->n == 0) {
    *out = node;
    return GF_OK;
  }
  gf_status st = gfi_plan_wrap_filter(node, preds->v, preds->n, kind, out, err);
  gf_plan_release(node);
  return st;
}

/* Pushes `down` into input 0 of p (others: nothing), rebuilds p and
 * wraps it in `stay`. */
static gf_status through(const gf_plan *p, const gfi_exprvec *down, const gfi_exprvec *down2,
                         const gfi_exprvec *stay, gf_plan_kind stay_kind, gf_plan **out,
                         gf_error *err) {
  gf_plan *in[2] = {NULL, NULL};
  gfi_exprvec none = {0};
  gf_status st = GF_OK;
  for (int i = 0; i < p->nin && st == GF_OK; i++)
    st = push(p->in[i], i == 0 ? down : (down2 ? down2 : &none), &in[i], err);
  gf_plan *node = NULL;
  if (st == GF_OK) st = gfi_plan_with_inputs(p, in, &node, err);
  for (int i = 0; i < 2; i++) gf_plan_release(in[i]);
  if (st != GF_OK) return st;
  return wrap(node, stay, stay_kind, out, err);
}

/* A set of p's input-0 column names satisfying `ok` (borrowed names). */
static gf_status key_set(const gf_plan *p, int nkeys, char *const *keys, gfi_nameset *s, gf_error *err) {
  const gf_schema *in = p->in[0]->schema;
  bool all = nkeys == 0;
  int n = all ? gf_schema_num_fields(in) : nkeys;
  for (int i = 0; i < n; i++) {
    const char *name = all ? gf_schema_field(in, i)->name : keys[i];
    int c = gf_schema_find(in, name);
    if (c < 0 || is_floaty(gf_schema_field(in, c)->type)) continue;
    GF_RETURN_NOT_OK(gfi_nameset_add(s, name, err));
  }
  return GF_OK;
}

/* Splits preds into those reading only `allowed` (down) and the rest. */
static gf_status split(const gfi_exprvec *preds, const gfi_nameset *allowed, gfi_exprvec *down,
                       gfi_exprvec *stay, gf_error *err) {
  for (int i = 0; i < preds->n; i++) {
    bool yes = false;
    GF_RETURN_NOT_OK(gfi_expr_reads_only(preds->v[i], allowed, &yes, err));
    GF_RETURN_NOT_OK(gfi_exprvec_push(yes ? down : stay, preds->v[i], err));
  }
  return GF_OK;
}

/* Output -> input names of a join's right columns (borrowed). */
typedef struct rename_map {
  int n;
  const char **out, **in;
} rename_map;

/* A column renamed by the join (e.g. "age_right") becomes the right
 * input's own column ("age"). */
static gf_expr *to_input_name(void *user, const gf_expr *x) {
  const rename_map *m = user;
  if (x->kind != GF_EXPR_COLUMN) return NULL;
  for (int i = 0; i < m->n; i++)
    if (strcmp(m->out[i], x->name) == 0)
      return strcmp(m->in[i], x->name) == 0 ? NULL : gf_col(m->in[i]);
  return NULL;
}

/* Join: conjuncts to the left, to the right (their columns renamed back
 * to the right input's names: a clashing right column is read as
 * "<name><suffix>" above the join), and staying above. */
static gf_status push_join(const gf_plan *p, const gfi_exprvec *preds, gf_plan **out, gf_error *err) {
  gfi_nameset lset = {0}, rset = {0};
  gfi_exprvec l = {0}, r = {0}, rin = {0}, stay = {0}, rest = {0};
  bool to_left = p->how == GF_JOIN_INNER || p->how == GF_JOIN_LEFT || p->how == GF_JOIN_SEMI ||
                 p->how == GF_JOIN_ANTI;
  bool to_right = p->how == GF_JOIN_INNER || p->how == GF_JOIN_RIGHT;
  gf_status st = GF_OK;
  const gf_schema *rs = p->in[1]->schema;
  int nf = gf_schema_num_fields(p->schema);
  rename_map m = {0, gfi_calloc(NULL, sizeof(char *) * (size_t)(nf > 0 ? nf : 1)),
                  gfi_calloc(NULL, sizeof(char *) * (size_t)(nf > 0 ? nf : 1))};
  if (!m.out || !m.in) st = GF_OOM(err, "predicate pushdown");
  for (int i = 0; i < nf && st == GF_OK; i++) {
    int side, col;
    gfi_join_origin(p, i, &side, &col);
    const char *name = gf_schema_field(p->schema, i)->name;
    if (side == 0 && to_left) st = gfi_nameset_add(&lset, name, err);
    if (side == 1 && to_right && col >= 0) {
      st = gfi_nameset_add(&rset, name, err);
      m.out[m.n] = name;
      m.in[m.n++] = gf_schema_field(rs, col)->name;
    }
  }
  if (st == GF_OK) st = split(preds, &lset, &l, &rest, err);
  if (st == GF_OK) st = split(&rest, &rset, &r, &stay, err);
  for (int i = 0; i < r.n && st == GF_OK; i++) {
    gf_expr *e = NULL;
    st = gfi_expr_replace(r.v[i], to_input_name, &m, &e, err);
    if (st == GF_OK) st = gfi_exprvec_push(&rin, e, err);
    gf_expr_release(e);
  }
  if (st == GF_OK) st = through(p, &l, &rin, &stay, GF_PLAN_FILTER, out, err);
  gfi_mfree(NULL, (void *)m.out, sizeof(char *) * (size_t)(nf > 0 ? nf : 1));
  gfi_mfree(NULL, (void *)m.in, sizeof(char *) * (size_t)(nf > 0 ? nf : 1));
  gfi_nameset_free(&lset);
  gfi_nameset_free(&rset);
  gfi_exprvec_free(&l);
  gfi_exprvec_free(&r);
  gfi_exprvec_free(&rin);
  gfi_exprvec_free(&stay);
  gfi_exprvec_free(&rest);
  return st;
}

/* A source with the conjunction of its predicate and preds. */
static gf_status push_source(const gf_plan *p, const gfi_exprvec *preds, gf_plan **out, gf_error *err) {
  if (preds->n == 0) {
    *out = gf_plan_retain((gf_plan *)p);
    return GF_OK;
  }
  gfi_exprvec all = {0};
  gf_status st = GF_OK;
  if (p->pred) st = gfi_conjuncts(p->pred, &all, err);
  for (int i = 0; i < preds->n && st == GF_OK; i++) st = gfi_exprvec_push(&all, preds->v[i], err);
  gf_plan *c = NULL;
  if (st == GF_OK) {
    c = gfi_plan_clone(p);
    if (!c) st = GF_OOM(err, "plan node");
  }
  if (st == GF_OK) {
    gf_expr *e = gfi_and_all(all.v, all.n);
    if (!e) st = GF_OOM(err, "predicate");
    gf_expr_release(c->pred);
    c->pred = e;
  }
  gfi_exprvec_free(&all);
  if (st != GF_OK) {
    gf_plan_release(c);
    return st;
  }
  return gfi_plan_finish(c, out, err);
}

/* The plan under p with `preds` applied on top and pushed as far down as
 * they go. */
static gf_status push(const gf_plan *p, const gfi_exprvec *preds, gf_plan **out, gf_error *err) {
  gfi_exprvec down = {0}, stay = {0}, both = {0};
  gfi_nameset allowed = {0};
  gf_status st = GF_OK;
  switch (p->kind) {
  case GF_PLAN_FILTER:
  case GF_PLAN_HAVING:
    /* Merge: this filter's conjuncts travel with the ones from above. */
    for (int i = 0; i < preds->n && st == GF_OK; i++) st = gfi_exprvec_push(&both, preds->v[i], err);
    if (st == GF_OK) st = gfi_conjuncts(p->exprs[0], &both, err);
    if (st == GF_OK) st = push(p->in[0], &both, out, err);
    break;
  case GF_PLAN_SELECT:
    st = through(p, preds, NULL, &stay, GF_PLAN_FILTER, out, err);
    break;
  case GF_PLAN_WITH: {
    /* Allowed: every input column this step does not compute. */
    const gf_schema *in = p->in[0]->schema;
    for (int i = 0; i < gf_schema_num_fields(in) && st == GF_OK; i++) {
      const char *name = gf_schema_field(in, i)->name;
      bool computed = false;
      for (int k = 0; k < p->nnames; k++)
        if (strcmp(p->names[k], name) == 0) computed = true;
      if (!computed) st = gfi_nameset_add(&allowed, name, err);
    }
    if (st == GF_OK) st = split(preds, &allowed, &down, &stay, err);
    if (st == GF_OK) st = through(p, &down, NULL, &stay, GF_PLAN_FILTER, out, err);
    break;
  }
  case GF_PLAN_SORT:
    if (p->topk > 0) st = through(p, &down, NULL, preds, GF_PLAN_FILTER, out, err);
    else st = through(p, preds, NULL, &stay, GF_PLAN_FILTER, out, err);
    break;
  case GF_PLAN_GROUP_BY:
    st = key_set(p, p->nnames, p->names, &allowed, err);
    if (st == GF_OK && p->nnames == 0) allowed.n = 0; /* no keys: nothing moves */
    if (st == GF_OK) st = split(preds, &allowed, &down, &stay, err);
    if (st == GF_OK) st = through(p, &down, NULL, &stay, GF_PLAN_HAVING, out, err);
    break;
  case GF_PLAN_DISTINCT:
    st = key_set(p, p->nnames, p->names, &allowed, err);
    if (st == GF_OK) st = split(preds, &allowed, &down, &stay, err);
    if (st == GF_OK) st = through(p, &down, NULL, &stay, GF_PLAN_FILTER, out, err);
    break;
  case GF_PLAN_UNION: {
    /* Only conjuncts reading columns both inputs have, with the union's
     * type: a column one side lacks is null there, and one that is
     * widened (int to float64) could compare otherwise. */
    for (int i = 0; i < gf_schema_num_fields(p->schema) && st == GF_OK; i++) {
      const gf_field *fu = gf_schema_field(p->schema, i);
      bool same = true;
      for (int k = 0; k < 2; k++) {
        int c = gf_schema_find(p->in[k]->schema, fu->name);
        if (c < 0 || !gf_type_equals(gf_schema_field(p->in[k]->schema, c)->type, fu->type)) same = false;
      }
      if (same) st = gfi_nameset_add(&allowed, fu->name, err);
    }
    if (st == GF_OK) st = split(preds, &allowed, &down, &stay, err);
    if (st == GF_OK) st = through(p, &down, &down, &stay, GF_PLAN_FILTER, out, err);
    break;
  }
  case GF_PLAN_JOIN:
    st = push_join(p, preds, out, err);
    break;
  case GF_PLAN_LIMIT:
    st = through(p, &down, NULL, preds, GF_PLAN_FILTER, out, err);
    break;
  default: /* sources */
    st = push_source(p, preds, out, err);
    break;
  }
  gfi_exprvec_free(&down);
  gfi_exprvec_free(&stay);
  gfi_exprvec_free(&both);
  gfi_nameset_free(&allowed);
  return st;
}

gf_status gfi_rule_predicate_pushdown(const gf_plan *p, gf_plan **out, gf_error *err) {
  gfi_exprvec none = {0};
  return push(p, &none, out, err);
}
