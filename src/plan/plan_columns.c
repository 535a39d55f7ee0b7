/*
 * Walks over expression trees for the planner: the columns an expression
 * reads and the aggregate calls it holds. Both walks keep an explicit
 * stack on the heap, so a flat chain a + a + ... + a of any length costs
 * no recursion (the binder may accept far taller trees than C stacks do).
 */
#include <string.h>
#include <strings.h>

#include "expr/expr_internal.h"
#include "plan/plan_internal.h"

void gfi_nameset_free(gfi_nameset *s) {
  if (s->v) gfi_mfree(NULL, (void *)s->v, sizeof *s->v * (size_t)s->cap);
  memset(s, 0, sizeof *s);
}

bool gfi_nameset_has(const gfi_nameset *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->v[i], name) == 0) return true;
  return false;
}

gf_status gfi_nameset_add(gfi_nameset *s, const char *name, gf_error *err) {
  if (gfi_nameset_has(s, name)) return GF_OK;
  if (s->n == s->cap) {
    int cap = s->cap ? s->cap * 2 : 8;
    const char **v = gfi_malloc(NULL, sizeof *v * (size_t)cap);
    if (!v) return GF_OOM(err, "column list");
    if (s->v) {
      memcpy(v, s->v, sizeof *v * (size_t)s->n);
      gfi_mfree(NULL, (void *)s->v, sizeof *s->v * (size_t)s->cap);
    }
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = name;
  return GF_OK;
}

/* An explicit stack of nodes still to visit. */
typedef struct nstack {
  const gf_expr **v;
  size_t n, cap;
} nstack;

static bool push(nstack *st, const gf_expr *e) {
  if (st->n == st->cap) {
    size_t cap = st->cap ? st->cap * 2 : 32;
    const gf_expr **v = gfi_malloc(NULL, sizeof *v * cap);
    if (!v) return false;
    if (st->v) {
      memcpy(v, st->v, sizeof *v * st->n);
      gfi_mfree(NULL, (void *)st->v, sizeof *v * st->cap);
    }
    st->v = v;
    st->cap = cap;
  }
  st->v[st->n++] = e;
  return true;
}

static void stack_free(nstack *st) {
  if (st->v) gfi_mfree(NULL, (void *)st->v, sizeof *st->v * st->cap);
}

gf_status gfi_expr_columns(const gf_expr *e, gfi_nameset *s, gf_error *err) {
  nstack st = {0};
  gf_status rc = GF_OK;
  if (!push(&st, e)) return GF_OOM(err, "expression walk");
  while (st.n > 0 && rc == GF_OK) {
    const gf_expr *x = st.v[--st.n];
    if (x->kind == GF_EXPR_COLUMN) {
      rc = gfi_nameset_add(s, x->name, err);
      continue;
    }
    for (int i = x->nargs - 1; i >= 0 && rc == GF_OK; i--)
      if (!push(&st, x->args[i])) rc = GF_OOM(err, "expression walk");
  }
  stack_free(&st);
  return rc;
}

/* True when `fn` (lowercase) names an aggregate function of gf_agg_parse. */
static bool is_aggregate_name(const char *fn) {
  static const char *const names[] = {"count", "sum", "mean", "avg", "min", "max", "first", "last",
                                      "var", "std", "stddev", "sd", "median", "quantile",
                                      "n_unique", "corr", "top_k"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(fn, names[i]) == 0) return true;
  return false;
}

bool gfi_is_aggregate_call(const gf_expr *x) {
  return x->kind == GF_EXPR_CALL && x->name && is_aggregate_name(x->name);
}

const gf_expr *gfi_expr_find_aggregate(const gf_expr *e) {
  nstack st = {0};
  const gf_expr *found = NULL;
  if (!push(&st, e)) return NULL;
  while (st.n > 0 && !found) {
    const gf_expr *x = st.v[--st.n];
    if (x->kind == GF_EXPR_CALL && x->name && is_aggregate_name(x->name)) {
      found = x;
      break;
    }
    for (int i = x->nargs - 1; i >= 0; i--)
      if (!push(&st, x->args[i])) {
        st.n = 0;
        break;
      }
  }
  stack_free(&st);
  return found;
}

gf_status gf_expr_columns(const gf_expr *e, char ***names, int *n, gf_error *err) {
  if (!e || !names || !n) return gf_error_set(err, GF_EINVAL, "gf_expr_columns: NULL argument");
  gfi_nameset s = {0};
  GF_RETURN_NOT_OK(gfi_expr_columns(e, &s, err));
  size_t bytes = sizeof(char *) * (size_t)(s.n > 0 ? s.n : 1);
  for (int i = 0; i < s.n; i++) bytes += strlen(s.v[i]) + 1;
  char **block = gfi_owned_alloc(NULL, bytes);
  if (!block) {
    gfi_nameset_free(&s);
    return GF_OOM(err, "column names");
  }
  char *text = (char *)(block + (s.n > 0 ? s.n : 1));
  for (int i = 0; i < s.n; i++) {
    size_t len = strlen(s.v[i]) + 1;
    memcpy(text, s.v[i], len);
    block[i] = text;
    text += len;
  }
  *names = block;
  *n = s.n;
  gfi_nameset_free(&s);
  return GF_OK;
}
