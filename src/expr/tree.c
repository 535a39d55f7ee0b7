/*
 * Expression trees: constructors, reference counting, structural equality
 * and printing back to the parser's syntax.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_internal.h"

/* Allocates a node of `kind` with room for `nargs` children. */
static gf_expr *node_new(gf_expr_kind kind, int nargs) {
  const gf_allocator *a = gf_default_allocator();
  gf_expr *e = gfi_calloc(a, sizeof *e);
  if (!e) return NULL;
  gfi_ref_init(&e->ref);
  e->kind = kind;
  e->nargs = nargs;
  e->height = 1;
  if (nargs > 0) {
    e->args = gfi_calloc(a, sizeof(gf_expr *) * (size_t)nargs);
    if (!e->args) {
      gfi_mfree(a, e, sizeof *e);
      return NULL;
    }
  }
  return e;
}

gf_expr *gf_expr_retain(gf_expr *e) {
  if (e) gfi_ref_inc(&e->ref);
  return e;
}

/* Frees the node's own storage once the last reference goes, children
 * released too. No recursion (a chain of 100,000 terms is that deep): the
 * nodes whose count reached zero form a list threaded through their `dead`
 * field (nobody else can see them any more), so release never allocates. */
void gf_expr_release(gf_expr *e) {
  if (!e || !gfi_ref_dec(&e->ref)) return;
  const gf_allocator *a = gf_default_allocator();
  e->dead = NULL;
  while (e) {
    gf_expr *next = e->dead;
    for (int i = 0; i < e->nargs; i++) {
      gf_expr *k = e->args[i];
      if (k && gfi_ref_dec(&k->ref)) {
        k->dead = next;
        next = k;
      }
    }
    if (e->args) gfi_mfree(a, e->args, sizeof(gf_expr *) * (size_t)e->nargs);
    if (e->name) gfi_mfree(a, e->name, strlen(e->name) + 1);
    if (e->lit.s) gfi_mfree(a, e->lit.s, (size_t)e->lit.len + 1);
    gfi_mfree(a, e, sizeof *e);
    e = next;
  }
}

gf_expr_kind gf_expr_get_kind(const gf_expr *e) { return e->kind; }

/* Copies `n` bytes plus a NUL through the default allocator. */
static char *dup_bytes(const char *s, size_t n) {
  char *d = gfi_malloc(gf_default_allocator(), n + 1);
  if (!d) return NULL;
  if (n) memcpy(d, s, n);
  d[n] = 0;
  return d;
}

gf_expr *gf_col(const char *name) {
  if (!name) return NULL;
  gf_expr *e = node_new(GF_EXPR_COLUMN, 0);
  if (!e) return NULL;
  e->name = dup_bytes(name, strlen(name));
  if (!e->name) {
    gf_expr_release(e);
    return NULL;
  }
  return e;
}

/* A literal node of type `id`. */
static gf_expr *lit_new(gf_type_id id) {
  gf_expr *e = node_new(GF_EXPR_LITERAL, 0);
  if (e) e->lit.type = gf_type(id);
  return e;
}

gf_expr *gf_lit_int64(int64_t v) {
  gf_expr *e = lit_new(GF_TYPE_INT64);
  if (e) e->lit.i = v;
  return e;
}

gf_expr *gf_lit_double(double v) {
  gf_expr *e = lit_new(GF_TYPE_FLOAT64);
  if (e) e->lit.f = v;
  return e;
}

gf_expr *gf_lit_bytes(const char *s, int64_t len) {
  if (!s || len < 0) return NULL;
  gf_expr *e = lit_new(GF_TYPE_UTF8);
  if (!e) return NULL;
  e->lit.s = dup_bytes(s, (size_t)len);
  e->lit.len = len;
  if (!e->lit.s) {
    e->lit.len = 0;
    gf_expr_release(e);
    return NULL;
  }
  return e;
}

gf_expr *gf_lit_string(const char *s) {
  return s ? gf_lit_bytes(s, (int64_t)strlen(s)) : NULL;
}

gf_expr *gf_lit_bool(bool v) {
  gf_expr *e = lit_new(GF_TYPE_BOOL);
  if (e) e->lit.i = v ? 1 : 0;
  return e;
}

gf_expr *gf_lit_null(void) { return lit_new(GF_TYPE_NULL); }

gf_expr *gf_lit_date(int32_t days) {
  gf_expr *e = lit_new(GF_TYPE_DATE32);
  if (e) e->lit.i = days;
  return e;
}

/* Builds a node over `n` consumed children; on any failure every child is
 * released and NULL returned. */
static gf_expr *with_children(gf_expr_kind kind, gf_expr *const *kids, int n) {
  bool ok = true;
  int h = 0;
  for (int i = 0; i < n; i++) {
    if (!kids[i]) ok = false;
    else if (kids[i]->height > h) h = kids[i]->height;
  }
  /* Refuse trees deeper than GFI_EXPR_MAX_HEIGHT (expr_internal.h). */
  if (h + 1 > GFI_EXPR_MAX_HEIGHT) ok = false;
  gf_expr *e = ok ? node_new(kind, n) : NULL;
  if (!e) {
    for (int i = 0; i < n; i++) gf_expr_release(kids[i]);
    return NULL;
  }
  for (int i = 0; i < n; i++) e->args[i] = kids[i];
  e->height = h + 1;
  return e;
}

gf_expr *gf_binary(gf_op op, gf_expr *a, gf_expr *b) {
  gf_expr *kids[2] = {a, b};
  if (op < GF_OP_ADD || op > GF_OP_OR) {
    gf_expr_release(a);
    gf_expr_release(b);
    return NULL;
  }
  gf_expr *e = with_children(GF_EXPR_BINARY, kids, 2);
  if (e) e->op = op;
  return e;
}

gf_expr *gf_unary(gf_op op, gf_expr *a) {
  if (op != GF_OP_NOT && op != GF_OP_NEG) {
    gf_expr_release(a);
    return NULL;
  }
  gf_expr *e = with_children(GF_EXPR_UNARY, &a, 1);
  if (e) e->op = op;
  return e;
}

gf_expr *gf_call(const char *fn, gf_expr *const *args, int n) {
  if (!fn || n < 0 || (n > 0 && !args)) {
    for (int i = 0; i < n && args; i++) gf_expr_release(args[i]);
    return NULL;
  }
  gf_expr *e = with_children(GF_EXPR_CALL, args, n);
  if (!e) return NULL;
  size_t len = strlen(fn);
  e->name = dup_bytes(fn, len);
  if (!e->name) {
    gf_expr_release(e);
    return NULL;
  }
  for (size_t i = 0; i < len; i++)
    e->name[i] = (char)tolower((unsigned char)e->name[i]);
  return e;
}

gf_expr *gf_cast(gf_expr *x, gf_datatype type) {
  gf_expr *e = with_children(GF_EXPR_CAST, &x, 1);
  if (e) e->cast_to = type;
  return e;
}

gf_expr *gf_between(gf_expr *x, gf_expr *lo, gf_expr *hi) {
  gf_expr *kids[3] = {x, lo, hi};
  return with_children(GF_EXPR_BETWEEN, kids, 3);
}

gf_expr *gf_in(gf_expr *x, gf_expr *const *list, int n) {
  if (n < 1 || !list || n > 1000000) {
    gf_expr_release(x);
    for (int i = 0; list && i < n; i++) gf_expr_release(list[i]);
    return NULL;
  }
  gf_expr *e = node_new(GF_EXPR_IN, n + 1);
  bool ok = e && x;
  int h = x ? x->height : 0;
  for (int i = 0; i < n; i++) {
    if (!list[i]) ok = false;
    else if (list[i]->height > h) h = list[i]->height;
  }
  if (h + 1 > GFI_EXPR_MAX_HEIGHT) ok = false; /* see with_children */
  if (!ok) {
    gf_expr_release(e); /* its argument slots are still NULL */
    gf_expr_release(x);
    for (int i = 0; i < n; i++) gf_expr_release(list[i]);
    return NULL;
  }
  e->args[0] = x;
  for (int i = 0; i < n; i++) e->args[i + 1] = list[i];
  e->height = h + 1;
  return e;
}

gf_expr *gf_add(gf_expr *a, gf_expr *b) { return gf_binary(GF_OP_ADD, a, b); }
gf_expr *gf_sub(gf_expr *a, gf_expr *b) { return gf_binary(GF_OP_SUB, a, b); }
gf_expr *gf_mul(gf_expr *a, gf_expr *b) { return gf_binary(GF_OP_MUL, a, b); }
gf_expr *gf_div(gf_expr *a, gf_expr *b) { return gf_binary(GF_OP_DIV, a, b); }
gf_expr *gf_mod(gf_expr *a, gf_expr *b) { return gf_binary(GF_OP_MOD, a, b); }
gf_expr *gf_eq(gf_expr *a, gf_expr *b) { return gf_binary(GF_OP_EQ, a, b); }
gf_expr *gf_ne(gf_expr *a, gf_expr *b) { return gf_binary(GF_OP_NE, a, b); }
gf_expr *gf_lt(gf_expr *a, gf_expr *b) { return gf_binary(GF_OP_LT, a, b); }
gf_expr *gf_le(gf_expr *a, gf_expr *b) { return gf_binary(GF_OP_LE, a, b); }
gf_expr *gf_gt(gf_expr *a, gf_expr *b) { return gf_binary(GF_OP_GT, a, b); }
gf_expr *gf_ge(gf_expr *a, gf_expr *b) { return gf_binary(GF_OP_GE, a, b); }
gf_expr *gf_and(gf_expr *a, gf_expr *b) { return gf_binary(GF_OP_AND, a, b); }
gf_expr *gf_or(gf_expr *a, gf_expr *b) { return gf_binary(GF_OP_OR, a, b); }
gf_expr *gf_not(gf_expr *a) { return gf_unary(GF_OP_NOT, a); }
gf_expr *gf_neg(gf_expr *a) { return gf_unary(GF_OP_NEG, a); }
gf_expr *gf_is_null(gf_expr *a) { return gf_call("is_null", &a, 1); }
gf_expr *gf_is_not_null(gf_expr *a) { return gf_call("is_not_null", &a, 1); }
gf_expr *gf_if(gf_expr *c, gf_expr *t, gf_expr *f) {
  gf_expr *kids[3] = {c, t, f};
  return gf_call("if", kids, 3);
}

/* Literal equality; floats bitwise so NaN literals compare equal. */
static bool lit_equals(const gfi_lit *a, const gfi_lit *b) {
  if (!gf_type_equals(a->type, b->type)) return false;
  switch (a->type.id) {
    case GF_TYPE_NULL: return true;
    case GF_TYPE_FLOAT64: return memcmp(&a->f, &b->f, sizeof a->f) == 0;
    case GF_TYPE_UTF8:
      return a->len == b->len && memcmp(a->s, b->s, (size_t)a->len) == 0;
    default: return a->i == b->i;
  }
}

/* True when the nodes a and b themselves match (not their arguments). */
static bool node_equals(const gf_expr *a, const gf_expr *b) {
  if (!a || !b || a->kind != b->kind || a->nargs != b->nargs) return false;
  switch (a->kind) {
    case GF_EXPR_COLUMN:
    case GF_EXPR_CALL: return strcmp(a->name, b->name) == 0;
    case GF_EXPR_LITERAL: return lit_equals(&a->lit, &b->lit);
    case GF_EXPR_UNARY:
    case GF_EXPR_BINARY: return a->op == b->op;
    case GF_EXPR_CAST: return gf_type_equals(a->cast_to, b->cast_to);
    default: return true;
  }
}

/* Structural equality without allocation (it cannot fail) and without
 * recursion along the tallest argument: the loop descends into the tallest
 * child of `a` and recurses only into the others. Every chain shape (left-
 * or right-deep, unary runs, long in-lists) then recurses at most one
 * level per step; forcing recursion depth d takes ~d*d/2 nodes, so a
 * million-node tree recurses at most ~1,400 levels. */
bool gf_expr_equals(const gf_expr *a, const gf_expr *b) {
  for (;;) {
    if (a == b) return true;
    if (!node_equals(a, b)) return false;
    if (a->nargs == 0) return true;
    int tall = 0;
    for (int i = 1; i < a->nargs; i++)
      if (a->args[i]->height > a->args[tall]->height) tall = i;
    for (int i = 0; i < a->nargs; i++)
      if (i != tall && !gf_expr_equals(a->args[i], b->args[i])) return false;
    a = a->args[tall];
    b = b->args[tall];
  }
}

/* ---- printing ----------------------------------------------------------- */

/* The text under construction; the first failed append sticks in `oom`
 * so that the printer need not check every call. */
typedef struct sbuf {
  gfi_vec v;
  bool oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (!b->oom && gfi_vec_append(&b->v, s, n, NULL) != GF_OK) b->oom = true;
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* Precedence levels, lowest first (what a node needs around it). */
enum { P_OR = 1, P_AND, P_NOT, P_CMP, P_ADD, P_MUL, P_NEG, P_ATOM };
/* A printer step that is not a precedence: print a cast's target type. */
enum { P_CAST_TYPE = -1 };

static int binary_prec(gf_op op) {
  switch (op) {
    case GF_OP_OR: return P_OR;
    case GF_OP_AND: return P_AND;
    case GF_OP_ADD:
    case GF_OP_SUB: return P_ADD;
    case GF_OP_MUL:
    case GF_OP_DIV:
    case GF_OP_MOD: return P_MUL;
    default: return P_CMP;
  }
}

static bool is_unary_call(const gf_expr *e, const char *fn) {
  return e->kind == GF_EXPR_CALL && e->nargs == 1 && strcmp(e->name, fn) == 0;
}

static int expr_prec(const gf_expr *e) {
  switch (e->kind) {
    case GF_EXPR_BINARY: return binary_prec(e->op);
    case GF_EXPR_UNARY: return e->op == GF_OP_NOT ? P_NOT : P_NEG;
    case GF_EXPR_BETWEEN:
    case GF_EXPR_IN: return P_CMP;
    case GF_EXPR_CALL:
      if (is_unary_call(e, "is_null") || is_unary_call(e, "is_not_null"))
        return P_CMP;
      return P_ATOM;
    case GF_EXPR_LITERAL:
      /* A negative number prints with its sign, like unary minus. */
      if ((e->lit.type.id == GF_TYPE_INT64 && e->lit.i < 0) ||
          (e->lit.type.id == GF_TYPE_FLOAT64 && signbit(e->lit.f)))
        return P_NEG;
      return P_ATOM;
    default: return P_ATOM;
  }
}

static const char *const keywords[] = {"and", "or", "not", "is", "null",
                                       "true", "false", "between", "in",
                                       "date", "cast", "as", NULL};

/* True for an identifier the parser reads back as this column name. */
static bool is_bare_name(const char *s) {
  if (!(isalpha((unsigned char)s[0]) || s[0] == '_')) return false;
  for (const char *p = s; *p; p++)
    if (!(isalnum((unsigned char)*p) || *p == '_')) return false;
  for (int k = 0; keywords[k]; k++) {
    const char *kw = keywords[k];
    size_t n = strlen(kw);
    if (strlen(s) != n) continue;
    bool same = true;
    for (size_t i = 0; i < n; i++)
      if (tolower((unsigned char)s[i]) != kw[i]) same = false;
    if (same) return false;
  }
  return true;
}

static void print_quoted(sbuf *b, const char *s, size_t n, char q) {
  sb_put(b, &q, 1);
  for (size_t i = 0; i < n; i++) {
    if (s[i] == q) sb_put(b, &q, 1);
    sb_put(b, s + i, 1);
  }
  sb_put(b, &q, 1);
}

static const char *cast_type_name(gf_datatype t) {
  if (t.id == GF_TYPE_DATE32) return "date";
  if (t.id == GF_TYPE_TIMESTAMP) return "timestamp";
  return gf_type_id_name(t.id);
}

static void print_lit(sbuf *b, const gfi_lit *l) {
  char tmp[64];
  switch (l->type.id) {
    case GF_TYPE_NULL: sb_str(b, "null"); return;
    case GF_TYPE_BOOL: sb_str(b, l->i ? "true" : "false"); return;
    case GF_TYPE_INT64:
      snprintf(tmp, sizeof tmp, "%lld", (long long)l->i);
      sb_str(b, tmp);
      return;
    case GF_TYPE_FLOAT64:
      if (isnan(l->f) || isinf(l->f)) {
        sb_str(b, "cast('");
        sb_str(b, isnan(l->f) ? "nan" : l->f > 0 ? "inf" : "-inf");
        sb_str(b, "' as float64)");
        return;
      }
      gfi_format_double(tmp, sizeof tmp, l->f);
      sb_str(b, tmp);
      if (!strpbrk(tmp, ".eE")) sb_str(b, ".0");
      return;
    case GF_TYPE_UTF8: print_quoted(b, l->s, (size_t)l->len, '\''); return;
    case GF_TYPE_DATE32: {
      int64_t y;
      unsigned m, d;
      gfi_civil_from_days(l->i, &y, &m, &d);
      snprintf(tmp, sizeof tmp, "date '%04lld-%02u-%02u'", (long long)y, m, d);
      sb_str(b, tmp);
      return;
    }
    default: sb_str(b, "?"); return;
  }
}

/* One pending step of the printer: print node `e` needing precedence
 * `need`, or (e NULL) append the static text `text`, or (need
 * P_CAST_TYPE) print the target type of the cast node `e`. */
typedef struct pstep {
  const gf_expr *e;
  int need;
  const char *text;
} pstep;

/* The target type of a cast as the parser reads it: "int64",
 * "decimal128(10, 2)". */
static void print_cast_type(sbuf *b, gf_datatype t) {
  sb_str(b, cast_type_name(t));
  if (t.id == GF_TYPE_DECIMAL128 || t.id == GF_TYPE_DECIMAL256) {
    char ps[48];
    snprintf(ps, sizeof ps, "(%d, %d)", (int)t.precision, (int)t.scale);
    sb_str(b, ps);
  }
}

/* Pushes a step on the printer's stack (an allocation failure sticks in
 * b->oom like a failed append). */
static void push_step(sbuf *b, gfi_vec *stk, const gf_expr *e, int need,
                      const char *text) {
  pstep s = {e, need, text};
  if (!b->oom && gfi_vec_append(stk, &s, sizeof s, NULL) != GF_OK) b->oom = true;
}

/* Prints node `e` (in parentheses when its precedence is below `need`):
 * its own text now, its arguments and the text between them as steps on
 * `stk`, pushed in reverse so they pop in reading order. */
static void print_node(sbuf *b, gfi_vec *stk, const gf_expr *e, int need) {
  int p = expr_prec(e);
  bool paren = p < need;
  if (paren) {
    sb_str(b, "(");
    push_step(b, stk, NULL, 0, ")");
  }
  switch (e->kind) {
    case GF_EXPR_COLUMN:
      if (is_bare_name(e->name)) sb_str(b, e->name);
      else print_quoted(b, e->name, strlen(e->name), '"');
      break;
    case GF_EXPR_LITERAL: print_lit(b, &e->lit); break;
    case GF_EXPR_UNARY:
      if (e->op == GF_OP_NOT) {
        sb_str(b, "not ");
        push_step(b, stk, e->args[0], P_NOT, NULL);
      } else {
        /* "-(3)" keeps the tree ("-3" would parse as a literal); a negated
         * negation prints as "- -x" without parentheses, so a chain of n
         * negations reads back as a run of signs, not n nested parentheses
         * (the parser caps nesting). */
        const gf_expr *k = e->args[0];
        int kp = expr_prec(k);
        bool lit_nonneg = k->kind == GF_EXPR_LITERAL && kp != P_NEG;
        if (kp == P_NEG) {
          sb_str(b, "- ");
          push_step(b, stk, k, P_NEG, NULL);
        } else {
          sb_str(b, "-");
          push_step(b, stk, k, lit_nonneg ? P_ATOM + 1 : P_NEG, NULL);
        }
      }
      break;
    case GF_EXPR_BINARY: {
      static const char *const names[] = {" + ", " - ", " * ", " / ", " % ",
                                          " = ", " != ", " < ", " <= ", " > ",
                                          " >= ", " and ", " or "};
      int bp = binary_prec(e->op);
      push_step(b, stk, e->args[1], bp + 1, NULL);
      push_step(b, stk, NULL, 0, names[e->op]);
      push_step(b, stk, e->args[0], bp == P_CMP ? P_CMP + 1 : bp, NULL);
      break;
    }
    case GF_EXPR_BETWEEN:
      push_step(b, stk, e->args[2], P_ADD, NULL);
      push_step(b, stk, NULL, 0, " and ");
      push_step(b, stk, e->args[1], P_ADD, NULL);
      push_step(b, stk, NULL, 0, " between ");
      push_step(b, stk, e->args[0], P_ADD, NULL);
      break;
    case GF_EXPR_IN:
      push_step(b, stk, NULL, 0, ")");
      for (int i = e->nargs - 1; i >= 1; i--) {
        push_step(b, stk, e->args[i], 0, NULL);
        if (i > 1) push_step(b, stk, NULL, 0, ", ");
      }
      push_step(b, stk, NULL, 0, " in (");
      push_step(b, stk, e->args[0], P_ADD, NULL);
      break;
    case GF_EXPR_CAST:
      sb_str(b, "cast(");
      push_step(b, stk, NULL, 0, ")");
      push_step(b, stk, e, P_CAST_TYPE, NULL); /* the type, decimal (p, s) included */
      push_step(b, stk, NULL, 0, " as ");
      push_step(b, stk, e->args[0], 0, NULL);
      break;
    case GF_EXPR_CALL:
      if (p == P_CMP) {
        push_step(b, stk, NULL, 0,
                  strcmp(e->name, "is_null") == 0 ? " is null" : " is not null");
        push_step(b, stk, e->args[0], P_ADD, NULL);
        break;
      }
      if (is_bare_name(e->name)) sb_str(b, e->name);
      else print_quoted(b, e->name, strlen(e->name), '"');
      sb_str(b, "(");
      push_step(b, stk, NULL, 0, ")");
      for (int i = e->nargs - 1; i >= 0; i--) {
        push_step(b, stk, e->args[i], 0, NULL);
        if (i) push_step(b, stk, NULL, 0, ", ");
      }
      break;
  }
}

/* Prints e into b without recursion (a chain of 100,000 terms prints on a
 * small thread stack): the steps still to print sit on a heap stack. */
static void print_expr(sbuf *b, const gf_expr *e, int need) {
  gfi_vec stk;
  gfi_vec_init(&stk, gf_default_allocator());
  push_step(b, &stk, e, need, NULL);
  while (!b->oom && stk.len > 0) {
    stk.len -= sizeof(pstep);
    pstep s;
    memcpy(&s, stk.data + stk.len, sizeof s);
    if (s.e && s.need == P_CAST_TYPE) print_cast_type(b, s.e->cast_to);
    else if (s.e) print_node(b, &stk, s.e, s.need);
    else sb_str(b, s.text);
  }
  gfi_vec_reset(&stk);
}

/* The text of e as a block freed with gf_mem_free (default allocator);
 * NULL when out of memory. */
char *gfi_expr_text(const gf_expr *e) {
  sbuf b = {.oom = false};
  gfi_vec_init_owned(&b.v, gf_default_allocator());
  print_expr(&b, e, 0);
  if (b.oom || gfi_vec_terminate(&b.v, NULL) != GF_OK) {
    gfi_vec_reset(&b.v);
    return NULL;
  }
  return gfi_vec_take(&b.v);
}

gf_status gf_expr_to_string(const gf_expr *e, char **out, gf_error *err) {
  if (!e || !out)
    return gf_error_set(err, GF_EINVAL, "gf_expr_to_string: NULL argument");
  char *s = gfi_expr_text(e);
  if (!s) return GF_OOM(err, "expression text");
  *out = s;
  return GF_OK;
}
