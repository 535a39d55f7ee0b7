/*
 * Aggregate expressions: "sum(v1),mean(v3) as m,max(v1) - min(v2)".
 *
 * Each comma-separated item is parsed by the expression parser; every
 * aggregate call in it is replaced by a reference to an internal column
 * ("__gf_agg_<i>") that the group-by computes, and the rewritten item is
 * then evaluated over the aggregated frame with gf_with_columns. Identical
 * aggregates used by several items are computed once.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "exec/exec_internal.h"
#include "exec/stream_internal.h"
#include "ops/groupby_internal.h"

struct gf_agg_list {
  int nitems, icap;  /* items, and entries allocated in names, exprs, items */
  char **names;     /* output names */
  gf_expr **exprs;  /* rewritten items over keys + internal columns */
  gf_expr **items;  /* the items as written (icap entries), for matching */
  int nspecs, cap;
  gf_agg_spec *specs; /* column/column2 owned (default allocator, as all of the list) */
  char **inames;    /* internal column names */
};

gf_status gfi_group_by_named(const gf_frame *f, const char *const *keys, int nkeys,
                             const gf_agg_spec *specs, int nspecs, const char *const *names,
                             const gf_groupby_options *opts, gf_frame **out, gf_error *err);

/* Frees a string from dupn (NULL allowed): its block is strlen + 1 bytes. */
static void free_str(const char *s) {
  if (s) gfi_mfree(NULL, (char *)s, strlen(s) + 1);
}

/* Grows two parallel arrays (a of asize-byte and b of bsize-byte entries,
 * `used` of them live) from `cap` to `ncap` entries together into *a_out
 * and *b_out (the old ones freed): both grow or, when out of memory,
 * neither changes, so one capacity describes both when they are freed. */
static bool grow_pair(void *a, size_t asize, void *b, size_t bsize, int used, int cap,
                      int ncap, void **a_out, void **b_out) {
  void *na = gfi_malloc(NULL, asize * (size_t)ncap);
  void *nb = gfi_malloc(NULL, bsize * (size_t)ncap);
  if (!na || !nb) {
    gfi_mfree(NULL, na, asize * (size_t)ncap);
    gfi_mfree(NULL, nb, bsize * (size_t)ncap);
    return false;
  }
  if (used) {
    memcpy(na, a, asize * (size_t)used);
    memcpy(nb, b, bsize * (size_t)used);
  }
  gfi_mfree(NULL, a, asize * (size_t)cap);
  gfi_mfree(NULL, b, bsize * (size_t)cap);
  *a_out = na;
  *b_out = nb;
  return true;
}

void gf_agg_list_free(gf_agg_list *l) {
  if (!l) return;
  for (int i = 0; i < l->nitems; i++) {
    free_str(l->names[i]);
    gf_expr_release(l->exprs[i]);
    gf_expr_release(l->items[i]);
  }
  for (int i = 0; i < l->nspecs; i++) {
    free_str(l->specs[i].column);
    free_str(l->specs[i].column2);
    free_str(l->inames[i]);
  }
  gfi_mfree(NULL, l->names, sizeof *l->names * (size_t)l->icap);
  gfi_mfree(NULL, l->exprs, sizeof *l->exprs * (size_t)l->icap);
  gfi_mfree(NULL, l->items, sizeof *l->items * (size_t)l->icap);
  gfi_mfree(NULL, l->specs, sizeof *l->specs * (size_t)l->cap);
  gfi_mfree(NULL, l->inames, sizeof *l->inames * (size_t)l->cap);
  gfi_mfree(NULL, l, sizeof *l);
}

int gf_agg_list_count(const gf_agg_list *l) { return l ? l->nitems : 0; }

bool gfi_agg_list_reads(const gf_agg_list *l, const char *name) {
  for (int i = 0; l && i < l->nspecs; i++) {
    const gf_agg_spec *sp = &l->specs[i];
    if ((sp->column && strcmp(sp->column, name) == 0) ||
        (sp->column2 && strcmp(sp->column2, name) == 0))
      return true;
  }
  return false;
}
const gf_expr *gfi_agg_list_item(const gf_agg_list *l, int i) {
  return l && i >= 0 && i < l->nitems ? l->items[i] : NULL;
}

const char *gf_agg_list_name(const gf_agg_list *l, int i) {
  return l && i >= 0 && i < l->nitems ? l->names[i] : NULL;
}

static const struct {
  const char *name;
  gf_agg_kind kind;
} AGG_NAMES[] = {
    {"count", GF_AGG_COUNT},   {"sum", GF_AGG_SUM},         {"mean", GF_AGG_MEAN},
    {"avg", GF_AGG_MEAN},      {"min", GF_AGG_MIN},         {"max", GF_AGG_MAX},
    {"first", GF_AGG_FIRST},   {"last", GF_AGG_LAST},       {"var", GF_AGG_VAR},
    {"std", GF_AGG_STD},       {"stddev", GF_AGG_STD},      {"sd", GF_AGG_STD},
    {"median", GF_AGG_MEDIAN}, {"quantile", GF_AGG_QUANTILE}, {"n_unique", GF_AGG_N_UNIQUE},
    {"corr", GF_AGG_CORR},     {"top_k", GF_AGG_TOP_K},
};

static int agg_kind_of(const char *name) {
  for (size_t i = 0; i < sizeof AGG_NAMES / sizeof *AGG_NAMES; i++)
    if (strcmp(AGG_NAMES[i].name, name) == 0) return (int)AGG_NAMES[i].kind;
  return -1;
}

static char *dupn(const char *s, size_t n) {
  char *d = gfi_malloc(NULL, n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = 0;
  }
  return d;
}

static bool same_spec(const gf_agg_spec *a, const gf_agg_spec *b) {
  if (a->kind != b->kind) return false;
  if ((a->column == NULL) != (b->column == NULL) || (a->column && strcmp(a->column, b->column))) return false;
  if ((a->column2 == NULL) != (b->column2 == NULL) || (a->column2 && strcmp(a->column2, b->column2)))
    return false;
  if (a->kind == GF_AGG_QUANTILE && a->q != b->q) return false;
  if (a->kind == GF_AGG_TOP_K && a->k != b->k) return false;
  return true;
}

/* Adds (or finds) a spec; *idx receives its index. Takes column strings. */
static gf_status add_spec(gf_agg_list *l, gf_agg_spec sp, int *idx, gf_error *err) {
  for (int i = 0; i < l->nspecs; i++)
    if (same_spec(&l->specs[i], &sp)) {
      free_str(sp.column);
      free_str(sp.column2);
      *idx = i;
      return GF_OK;
    }
  if (l->nspecs == l->cap) {
    int nc = l->cap ? l->cap * 2 : 8;
    void *ns, *ni;
    if (!grow_pair(l->specs, sizeof *l->specs, l->inames, sizeof *l->inames, l->nspecs, l->cap,
                   nc, &ns, &ni)) {
      free_str(sp.column);
      free_str(sp.column2);
      return GF_OOM(err, "aggregate list");
    }
    l->specs = ns;
    l->inames = ni;
    l->cap = nc;
  }
  char buf[32];
  snprintf(buf, sizeof buf, "__gf_agg_%d", l->nspecs);
  l->inames[l->nspecs] = dupn(buf, strlen(buf));
  if (!l->inames[l->nspecs]) {
    free_str(sp.column);
    free_str(sp.column2);
    return GF_OOM(err, "aggregate list");
  }
  sp.name = l->inames[l->nspecs];
  l->specs[l->nspecs] = sp;
  *idx = l->nspecs++;
  return GF_OK;
}

/* A number literal under any run of negations (iterative: a run of
 * 100,000 '-' is that deep). */
static bool lit_number(const gf_expr *e, double *v) {
  bool neg = false;
  while (e->kind == GF_EXPR_UNARY && e->op == GF_OP_NEG) {
    neg = !neg;
    e = e->args[0];
  }
  if (e->kind != GF_EXPR_LITERAL) return false;
  if (e->lit.type.id == GF_TYPE_INT64) *v = (double)e->lit.i;
  else if (e->lit.type.id == GF_TYPE_FLOAT64) *v = e->lit.f;
  else return false;
  if (neg) *v = -*v;
  return true;
}

/* Rewrites the aggregate call e (kind) into a reference to its internal
 * column. *out NULL on failure (err set). */
static gf_status rewrite_agg(gf_agg_list *l, const gf_expr *e, int kind, const char *item,
                             gf_expr **out, gf_error *err) {
  *out = NULL;
  gf_agg_spec sp;
  memset(&sp, 0, sizeof sp);
  sp.kind = (gf_agg_kind)kind;
  int want = kind == GF_AGG_QUANTILE || kind == GF_AGG_CORR || kind == GF_AGG_TOP_K ? 2 : 1;
  if (kind == GF_AGG_COUNT && e->nargs == 0) {
    sp.kind = GF_AGG_COUNT_ALL;
    want = 0;
  }
  if (e->nargs != want)
    return gf_error_set(err, GF_EINVAL, "in '%.300s': %s takes %d argument%s", item, e->name, want,
                        want == 1 ? "" : "s");
  for (int i = 0; i < want; i++) {
    bool col_arg = i == 0 || kind == GF_AGG_CORR;
    if (col_arg && e->args[i]->kind != GF_EXPR_COLUMN)
      return gf_error_set(err, GF_EINVAL, "in '%.300s': the argument of %s must be a column name", item,
                          e->name);
  }
  if (want >= 1) sp.column = dupn(e->args[0]->name, strlen(e->args[0]->name));
  if (kind == GF_AGG_CORR) sp.column2 = dupn(e->args[1]->name, strlen(e->args[1]->name));
  if ((want >= 1 && !sp.column) || (kind == GF_AGG_CORR && !sp.column2)) {
    free_str(sp.column);
    free_str(sp.column2);
    return GF_OOM(err, "aggregate list");
  }
  double num = 0;
  if (kind == GF_AGG_QUANTILE || kind == GF_AGG_TOP_K) {
    if (!lit_number(e->args[1], &num) ||
        (kind == GF_AGG_TOP_K && (num != (double)(int)num || num < 1))) {
      free_str(sp.column);
      return gf_error_set(err, GF_EINVAL, "in '%.300s': the second argument of %s must be %s", item,
                          e->name, kind == GF_AGG_TOP_K ? "a positive integer" : "a number in [0, 1]");
    }
    if (kind == GF_AGG_QUANTILE) sp.q = num;
    else sp.k = (int)num;
  }
  int idx = 0;
  GF_RETURN_NOT_OK(add_spec(l, sp, &idx, err));
  *out = gf_col(l->inames[idx]);
  return *out ? GF_OK : GF_OOM(err, "aggregate expression");
}

/* Rebuilds node e over its rewritten arguments kids[0..nargs) (taken). */
static gf_status rewrite_node(const gf_expr *e, gf_expr **kids, gf_expr **out, gf_error *err) {
  gf_expr *r = NULL;
  switch (e->kind) {
    case GF_EXPR_UNARY: r = gf_unary(e->op, kids[0]); break;
    case GF_EXPR_BINARY: r = gf_binary(e->op, kids[0], kids[1]); break;
    case GF_EXPR_CALL: r = gf_call(e->name, kids, e->nargs); break;
    case GF_EXPR_CAST: r = gf_cast(kids[0], e->cast_to); break;
    case GF_EXPR_BETWEEN: r = gf_between(kids[0], kids[1], kids[2]); break;
    case GF_EXPR_IN: r = gf_in(kids[0], kids + 1, e->nargs - 1); break;
    default:
      for (int i = 0; i < e->nargs; i++) gf_expr_release(kids[i]);
      return gf_error_set(err, GF_EINTERNAL, "aggregate expression: unknown node");
  }
  *out = r;
  return r ? GF_OK : GF_OOM(err, "aggregate expression");
}

/* One node waiting for its rewritten arguments on rewrite's stack. */
typedef struct rframe {
  const gf_expr *e;
  int next;
  gf_expr **kids; /* e->nargs slots (heap) */
} rframe;

static void rframe_drop(rframe *f) {
  for (int i = 0; i < f->next; i++) gf_expr_release(f->kids[i]);
  if (f->kids) gfi_mfree(NULL, f->kids, sizeof *f->kids * (size_t)f->e->nargs);
}

/* Rewrites `e`: aggregate calls become internal column references; the
 * rest is rebuilt around them. A post-order walk over a heap stack (no
 * recursion: a sum of 8,000 aggregates is 8,000 levels deep). *out NULL on
 * failure (err set). */
static gf_status rewrite(gf_agg_list *l, const gf_expr *root, const char *item, gf_expr **out,
                         gf_error *err) {
  *out = NULL;
  gfi_vec stk;
  gfi_vec_init(&stk, NULL);
  const gf_expr *e = root; /* the node to enter next, or NULL */
  gf_status st = GF_OK;
  gf_expr *done = NULL;    /* the result of the node just finished */
  for (;;) {
    if (e) {
      int kind = e->kind == GF_EXPR_CALL ? agg_kind_of(e->name) : -1;
      if (kind >= 0) st = rewrite_agg(l, e, kind, item, &done, err);
      else if (e->nargs == 0) done = gf_expr_retain((gf_expr *)e);
      else {
        rframe f = {e, 0, gfi_calloc(NULL, sizeof(gf_expr *) * (size_t)e->nargs)};
        if (!f.kids) st = GF_OOM(err, "aggregate expression");
        else if ((st = gfi_vec_append(&stk, &f, sizeof f, err)) != GF_OK)
          gfi_mfree(NULL, f.kids, sizeof(gf_expr *) * (size_t)e->nargs);
      }
      e = NULL;
      if (st != GF_OK) break;
    } else {
      if (stk.len == 0) break;
      rframe *f = (rframe *)(void *)(stk.data + stk.len - sizeof(rframe));
      if (done) {
        f->kids[f->next++] = done;
        done = NULL;
      }
      if (f->next < f->e->nargs) {
        e = f->e->args[f->next];
        continue;
      }
      rframe fin = *f;
      stk.len -= sizeof(rframe);
      st = rewrite_node(fin.e, fin.kids, &done, err);
      gfi_mfree(NULL, fin.kids, sizeof(gf_expr *) * (size_t)fin.e->nargs);
      if (st != GF_OK) break;
      continue;
    }
    if (stk.len == 0) break; /* a leaf at the root */
  }
  while (stk.len > 0) {
    rframe *f = (rframe *)(void *)(stk.data + stk.len - sizeof(rframe));
    rframe_drop(f);
    stk.len -= sizeof(rframe);
  }
  gfi_vec_reset(&stk);
  if (st != GF_OK) {
    gf_expr_release(done);
    return st;
  }
  *out = done;
  return GF_OK;
}

/* Index just past the closing quote starting at s[i]. */
static size_t skip_quoted(const char *s, size_t i) {
  char q = s[i++];
  while (s[i]) {
    if (s[i] == q) {
      if (s[i + 1] == q) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return i;
}

static bool is_ident_char(char ch) { return isalnum((unsigned char)ch) || ch == '_'; }

/* Parses one item text [s, s+n). */
static gf_status parse_item(gf_agg_list *l, const char *s, size_t n, gf_error *err) {
  while (n && isspace((unsigned char)*s)) s++, n--;
  while (n && isspace((unsigned char)s[n - 1])) n--;
  if (!n) return gf_error_set(err, GF_EPARSE, "empty aggregate item");
  char *text = dupn(s, n);
  if (!text) return GF_OOM(err, "aggregate list");
  /* count(*) -> count(); find a top-level trailing "as name". */
  size_t as_pos = 0;
  int depth = 0;
  for (size_t i = 0; i < n;) {
    char ch = text[i];
    if (ch == '\'' || ch == '"' || ch == '`') {
      i = skip_quoted(text, i);
      continue;
    }
    if (ch == '(') {
      size_t j = i + 1;
      while (isspace((unsigned char)text[j])) j++;
      if (text[j] == '*') {
        size_t k = j + 1;
        while (isspace((unsigned char)text[k])) k++;
        if (text[k] == ')') {
          text[j] = ' ';
        }
      }
      depth++;
    } else if (ch == ')') {
      depth--;
    } else if (depth == 0 && (ch == 'a' || ch == 'A') && (text[i + 1] == 's' || text[i + 1] == 'S') &&
               i > 0 && isspace((unsigned char)text[i - 1]) && isspace((unsigned char)text[i + 2])) {
      as_pos = i;
    }
    i++;
  }
  char *name = NULL;
  size_t expr_len = n;
  if (as_pos) {
    const char *p = text + as_pos + 2;
    while (isspace((unsigned char)*p)) p++;
    size_t nl = strlen(p);
    if (nl >= 2 && (p[0] == '"' || p[0] == '`') && p[nl - 1] == p[0]) {
      name = dupn(p + 1, nl - 2);
    } else {
      bool ok = nl > 0;
      for (size_t i = 0; i < nl; i++) ok = ok && is_ident_char(p[i]);
      if (!ok) {
        gfi_mfree(NULL, text, n + 1);
        return gf_error_set(err, GF_EPARSE, "in '%.300s': expected a name after 'as'", s);
      }
      name = dupn(p, nl);
    }
    expr_len = as_pos;
    while (expr_len && isspace((unsigned char)text[expr_len - 1])) expr_len--;
  } else {
    name = dupn(s, n);
  }
  if (!name) {
    gfi_mfree(NULL, text, n + 1);
    return GF_OOM(err, "aggregate list");
  }
  text[expr_len] = 0;
  gf_expr *parsed = NULL, *rw = NULL;
  gf_error perr;
  gf_status st = gf_expr_parse(text, &parsed, &perr);
  if (st != GF_OK) gf_error_set(err, st, "in aggregate '%.300s': %s", name, perr.message);
  if (st == GF_OK) st = rewrite(l, parsed, name, &rw, err);
  gfi_mfree(NULL, text, n + 1);
  if (st == GF_OK) {
    if (l->nitems == l->icap) {
      int nc = l->icap ? l->icap * 2 : 8;
      void *ne, *nn;
      gf_expr **ni = gfi_malloc(NULL, sizeof *ni * (size_t)nc);
      if (!ni || !grow_pair(l->exprs, sizeof *l->exprs, l->names, sizeof *l->names, l->nitems,
                            l->icap, nc, &ne, &nn)) {
        gfi_mfree(NULL, ni, sizeof *ni * (size_t)nc);
        st = GF_OOM(err, "aggregate list");
      } else {
        if (l->nitems) memcpy(ni, l->items, sizeof *ni * (size_t)l->nitems);
        gfi_mfree(NULL, l->items, sizeof *l->items * (size_t)l->icap);
        l->items = ni;
        l->exprs = ne;
        l->names = nn;
        l->icap = nc;
      }
    }
  }
  if (st != GF_OK) {
    free_str(name);
    gf_expr_release(rw);
    gf_expr_release(parsed);
    return st;
  }
  l->names[l->nitems] = name;
  l->exprs[l->nitems] = rw;
  l->items[l->nitems] = parsed;
  l->nitems++;
  return GF_OK;
}

gf_status gf_agg_parse(const char *text, gf_agg_list **out, gf_error *err) {
  if (!text || !out) return gf_error_set(err, GF_EINVAL, "gf_agg_parse: invalid argument");
  gf_agg_list *l = gfi_calloc(NULL, sizeof *l);
  if (!l) return GF_OOM(err, "aggregate list");
  size_t start = 0, i = 0;
  int depth = 0;
  gf_status st = GF_OK;
  for (;; ) {
    char ch = text[i];
    if (ch == '\'' || ch == '"' || ch == '`') {
      i = skip_quoted(text, i);
      continue;
    }
    if (ch == '(') depth++;
    else if (ch == ')') depth--;
    if (ch == 0 || (ch == ',' && depth == 0)) {
      st = parse_item(l, text + start, i - start, err);
      if (st != GF_OK || ch == 0) break;
      start = i + 1;
    }
    i++;
  }
  if (st == GF_OK) {
    for (int a = 0; a < l->nitems && st == GF_OK; a++)
      for (int b = 0; b < a; b++)
        if (strcmp(l->names[a], l->names[b]) == 0) {
          st = gf_error_set(err, GF_EINVAL, "aggregate output name '%.300s' given twice", l->names[a]);
          break;
        }
  }
  if (st != GF_OK) {
    gf_agg_list_free(l);
    return st;
  }
  *out = l;
  return GF_OK;
}

/* True when item expression `e` is just a reference to an aggregate's
 * internal column: its output is that column, renamed. */
static bool is_bare_aggregate(const gf_expr *e) {
  return e->kind == GF_EXPR_COLUMN && strncmp(e->name, "__gf_agg_", 9) == 0;
}

gf_status gf_group_by_list(const gf_frame *f, const char *const *keys, int nkeys,
                           const gf_agg_list *l, const gf_groupby_options *opts, gf_frame **out,
                           gf_error *err) {
  if (!f || !l || !out || nkeys < 0 || (nkeys > 0 && !keys))
    return gf_error_set(err, GF_EINVAL, "gf_group_by_list: invalid argument");
  /* (Duplicate item names are refused by gf_agg_parse.) */
  for (int i = 0; i < l->nitems; i++)
    for (int k = 0; k < nkeys; k++)
      if (keys[k] && strcmp(keys[k], l->names[i]) == 0)
        return gf_error_set(err, GF_EINVAL, "aggregate output name '%.300s' is also a group key",
                            l->names[i]);
  /* One call context for the group-by and the expressions over its
   * result: one deadline and one memory limit (the group-by's output is
   * still held while they run). */
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  if (opts) {
    size_t sz = opts->size && opts->size < sizeof go ? opts->size : sizeof go;
    memcpy(&go, opts, sz);
  }
  gfi_ctx call;
  gf_parallel_options lo;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, go.parallel, &lo, err));
  go.parallel = &lo;
  gf_frame *agg = NULL;
  gf_status gst = gfi_group_by_named(f, keys, nkeys, l->specs, l->nspecs,
                                     (const char *const *)l->inames, &go, &agg, err);
  if (gst != GF_OK) return gfi_ctx_end(&call, gst, err);
  gst = gfi_group_by_list_post(agg, keys, nkeys, l, &lo, out, err);
  gf_frame_release(agg);
  return gfi_ctx_end(&call, gst, err);
}

void gfi_agg_list_specs(const gf_agg_list *l, const gf_agg_spec **specs, int *nspecs,
                        const char *const **inames) {
  *specs = l->specs;
  *nspecs = l->nspecs;
  *inames = (const char *const *)l->inames;
}

/* gf_group_by_list's items over the group-by `agg` (exec/stream_internal.h;
 * also used by the streaming group-by). */
gf_status gfi_group_by_list_post(const gf_frame *agg, const char *const *keys, int nkeys,
                                 const gf_agg_list *l, const gf_parallel_options *lo,
                                 gf_frame **out, gf_error *err) {
  gf_frame *with = NULL;
  /* Only items that compute something over the aggregates are evaluated;
   * a bare aggregate is its internal column under the item's name (no
   * copy of what may be millions of rows). */
  const gf_parallel_options *po = lo;
  int n = nkeys + l->nitems, nexpr = 0;
  const gf_allocator *ta = po->allocator;
  size_t names_bytes = sizeof(char *) * gfi_at_least_1((size_t)l->nitems);
  size_t exprs_bytes = sizeof(gf_expr *) * gfi_at_least_1((size_t)l->nitems);
  size_t fields_bytes = sizeof(gf_field) * gfi_at_least_1((size_t)n);
  size_t src_bytes = sizeof(int) * gfi_at_least_1((size_t)n);
  const char **enames = gfi_malloc(ta, names_bytes);
  gf_expr **eexprs = gfi_malloc(ta, exprs_bytes);
  gf_field *fields = gfi_malloc(ta, fields_bytes);
  int *src = gfi_malloc(ta, src_bytes);
  gf_status st = GF_OK;
  if (!enames || !eexprs || !fields || !src) st = GF_OOM(err, "aggregate output");
  for (int i = 0; st == GF_OK && i < l->nitems; i++)
    if (!is_bare_aggregate(l->exprs[i])) {
      enames[nexpr] = l->names[i];
      eexprs[nexpr++] = l->exprs[i];
    }
  gfi_ctx wcall;
  gf_parallel_options wo;
  if (st == GF_OK && nexpr > 0) st = gfi_ctx_load(&wcall, po, &wo, err);
  if (st == GF_OK && nexpr > 0) {
    /* Its runtime statistics add to the group-by's (same rows count). */
    int64_t rows = wo.stats ? wo.stats->rows : 0;
    wcall.stats_accumulate = true;
    st = gf_with_columns(agg, enames, eexprs, nexpr, &wo, &with, err);
    if (wo.stats) wo.stats->rows = rows;
  }
  else if (st == GF_OK)
    with = gf_frame_retain((gf_frame *)agg);
  gf_schema *ws = st == GF_OK ? gf_frame_schema(with) : NULL;
  for (int j = 0; st == GF_OK && j < n; j++) {
    int i = j - nkeys;
    const char *from = i < 0 ? keys[j] : is_bare_aggregate(l->exprs[i]) ? l->exprs[i]->name : l->names[i];
    src[j] = gf_schema_find(ws, from);
    if (src[j] < 0) {
      st = gf_error_set(err, GF_EINTERNAL, "group-by output column '%.300s' is missing", from);
      break;
    }
    fields[j] = ws->fields[src[j]];
    if (i >= 0) fields[j].name = l->names[i];
  }
  int nb = st == GF_OK ? gf_frame_num_batches(with) : 0;
  size_t cols_bytes =
      sizeof(gf_array *) * gfi_at_least_1((size_t)nb) * gfi_at_least_1((size_t)n);
  gf_array **cols = st == GF_OK ? gfi_malloc(ta, cols_bytes) : NULL;
  if (st == GF_OK && !cols) st = GF_OOM(err, "aggregate output");
  gf_schema *schema = NULL;
  if (st == GF_OK) st = gf_schema_new(fields, n, &schema, err);
  if (st == GF_OK) {
    for (int b = 0; b < nb; b++)
      for (int j = 0; j < n; j++) cols[(size_t)b * (size_t)n + (size_t)j] = gf_frame_column(with, b, src[j]);
    st = gf_frame_new(schema, cols, nb, ta, out, err);
  }
  gf_schema_release(schema);
  gfi_mfree(ta, cols, cols_bytes);
  gfi_mfree(ta, src, src_bytes);
  gfi_mfree(ta, fields, fields_bytes);
  gfi_mfree(ta, eexprs, exprs_bytes);
  gfi_mfree(ta, enames, names_bytes);
  gf_frame_release(with);
  return st;
}

gf_status gf_group_by_text(const gf_frame *f, const char *const *keys, int nkeys,
                           const char *aggs_text, const gf_groupby_options *opts, gf_frame **out,
                           gf_error *err) {
  gf_agg_list *l;
  GF_RETURN_NOT_OK(gf_agg_parse(aggs_text, &l, err));
  gf_status st = gf_group_by_list(f, keys, nkeys, l, opts, out, err);
  gf_agg_list_free(l);
  return st;
}
