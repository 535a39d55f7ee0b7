/*
 * Binding: resolves column names against a schema, type-checks every node
 * by the rules written in expr.h, inserts the casts the kernels need and
 * chooses each node's kernel. Errors name the sub-expression and the types.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/decimal.h"
#include "expr/decimal_rules.h"
#include "expr/expr_internal.h"
#include "expr/kernels.h"

typedef struct bctx {
  const gf_schema *schema;
  const gf_allocator *a;
  gf_error *err;
} bctx;

static bool is_int(gf_type_id id) { return id >= GF_TYPE_INT8 && id <= GF_TYPE_UINT64; }
static bool is_float(gf_type_id id) { return id == GF_TYPE_FLOAT32 || id == GF_TYPE_FLOAT64; }
static bool is_num(gf_type_id id) { return is_int(id) || is_float(id); }
static bool is_str(gf_type_id id) { return id == GF_TYPE_UTF8 || id == GF_TYPE_LARGE_UTF8; }
static bool is_bin(gf_type_id id) { return id == GF_TYPE_BINARY || id == GF_TYPE_LARGE_BINARY; }
static bool is_time(gf_type_id id) {
  return id == GF_TYPE_DATE32 || id == GF_TYPE_DATE64 || id == GF_TYPE_TIMESTAMP;
}

/* Frees a bound subtree without recursion (a chain of 100,000 terms is as
 * deep as it is long): nodes still to free form a list threaded through
 * their `link` field, so freeing never allocates and never fails. NULL kids
 * (a partly built clone) are skipped. */
static void node_free(const gf_allocator *a, gfi_bnode *n) {
  if (!n) return;
  n->link = NULL;
  while (n) {
    gfi_bnode *next = n->link;
    for (int i = 0; i < n->nkids; i++)
      if (n->kids[i]) {
        n->kids[i]->link = next;
        next = n->kids[i];
      }
    if (n->lit.s) gfi_mfree(a, n->lit.s, (size_t)n->lit.len + 1);
    gfi_inset_release(n->set);
    gfi_mfree(a, n, sizeof *n);
    n = next;
  }
}

static gf_status node_new(bctx *c, gfi_bkind kind, gf_datatype type,
                          gfi_bnode **out) {
  gfi_bnode *n = gfi_calloc(c->a, sizeof *n);
  if (!n) return GF_OOM(c->err, "bound expression");
  n->kind = kind;
  n->type = type;
  *out = n;
  return GF_OK;
}

/* Formats a type for messages. */
static const char *tname(gf_datatype t, char *buf, size_t n) {
  return gf_type_format(t, buf, n);
}

/* Sets a type error "...in '<text of e>'". */
static gf_status type_error(bctx *c, gf_status code, const gf_expr *e,
                            const char *what) {
  char *text = gfi_expr_text(e);
  gf_status st = gf_error_set(c->err, code, "%s in '%s'", what,
                              text ? text : "?");
  gf_mem_free(text);
  return st;
}

static gf_status op_error(bctx *c, const gf_expr *e, const char *op,
                          gf_datatype l, gf_datatype r, bool unary) {
  char a[64], b[64], msg[300];
  if (unary)
    snprintf(msg, sizeof msg, "cannot apply '%s' to %s", op, tname(l, a, sizeof a));
  else
    snprintf(msg, sizeof msg, "cannot apply '%s' to %s and %s", op,
             tname(l, a, sizeof a), tname(r, b, sizeof b));
  return type_error(c, GF_ETYPE, e, msg);
}

/* Copies a literal (the string through c->a). */
static gf_status lit_copy(bctx *c, const gfi_lit *src, gfi_lit *dst) {
  *dst = *src;
  dst->s = NULL;
  if (src->type.id == GF_TYPE_UTF8 || src->s) {
    dst->s = gfi_malloc(c->a, (size_t)src->len + 1);
    if (!dst->s) return GF_OOM(c->err, "literal");
    if (src->len) memcpy(dst->s, src->s, (size_t)src->len);
    dst->s[src->len] = 0;
  }
  return GF_OK;
}

static bool is_null_scalar(const gfi_bnode *n) {
  return n->kind == GFI_B_SCALAR && (n->lit.null || n->lit.type.id == GF_TYPE_NULL);
}

/* Makes `n` (a null scalar) a typed null of `t`. */
static void retype_null(gfi_bnode *n, gf_datatype t) {
  n->type = t;
  n->lit.type = t;
  n->lit.null = true;
}

/* Value of days in the representation of temporal type t. */
static int64_t days_to(gf_datatype t, int64_t days) {
  if (t.id == GF_TYPE_DATE32) return days;
  if (t.id == GF_TYPE_DATE64) return days * 86400000LL;
  return days * 86400 * gfi_unit_per_second(t.unit);
}

/* Wraps `*n` in a cast to `t` unless already of that type; scalars of the
 * common conversions are converted in place. */
static gf_status coerce(bctx *c, gfi_bnode **n, gf_datatype t) {
  gfi_bnode *k = *n;
  if (gf_type_equals(k->type, t)) return GF_OK;
  if (is_null_scalar(k)) {
    retype_null(k, t);
    return GF_OK;
  }
  if (k->kind == GFI_B_SCALAR) {
    gf_type_id from = k->lit.type.id;
    if (t.id == GF_TYPE_FLOAT64 && (is_int(from) || is_float(from))) {
      if (is_int(from)) k->lit.f = from == GF_TYPE_UINT64 ? (double)(uint64_t)k->lit.i : (double)k->lit.i;
      k->lit.type = k->type = t;
      return GF_OK;
    }
    if (t.id == GF_TYPE_INT64 && (is_int(from) || from == GF_TYPE_BOOL) &&
        from != GF_TYPE_UINT64) {
      k->lit.type = k->type = t;
      return GF_OK;
    }
    if (is_time(t.id) && from == GF_TYPE_DATE32) {
      k->lit.i = days_to(t, k->lit.i);
      k->lit.type = k->type = t;
      return GF_OK;
    }
  }
  gfi_bnode *cast = NULL;
  GF_RETURN_NOT_OK(node_new(c, GFI_B_CAST, t, &cast));
  cast->nkids = 1;
  cast->kids[0] = k;
  *n = cast;
  return GF_OK;
}

/* Decodes a dictionary-typed node to its value type. */
static gf_status undict(bctx *c, gfi_bnode **n) {
  if ((*n)->type.id != GF_TYPE_DICTIONARY) return GF_OK;
  return coerce(c, n, gf_type_value((*n)->type));
}

/* Creates node `kind` of `type` over n kids (taking them; freed on failure). */
static gf_status make(bctx *c, gfi_bkind kind, gf_datatype type,
                      gfi_bnode **kids, int n, gfi_bnode **out) {
  gfi_bnode *nd = NULL;
  gf_status st = node_new(c, kind, type, &nd);
  if (st != GF_OK) {
    for (int i = 0; i < n; i++) node_free(c->a, kids[i]);
    return st;
  }
  nd->nkids = n;
  for (int i = 0; i < n; i++) nd->kids[i] = kids[i];
  *out = nd;
  return GF_OK;
}

static void free_kids(bctx *c, gfi_bnode **kids, int n) {
  for (int i = 0; i < n; i++) node_free(c->a, kids[i]);
}

/* Numeric promotion of two operand types: int64 or float64; false when
 * either is not a number (null counts as the other's type). */
static bool promote(gf_datatype l, gf_datatype r, gf_datatype *out) {
  gf_type_id a = l.id, b = r.id;
  if (a == GF_TYPE_NULL) a = b == GF_TYPE_NULL ? GF_TYPE_INT64 : b;
  if (b == GF_TYPE_NULL) b = a;
  if (!is_num(a) || !is_num(b)) return false;
  bool f = is_float(a) || is_float(b) || a == GF_TYPE_UINT64 || b == GF_TYPE_UINT64;
  *out = gf_type(f ? GF_TYPE_FLOAT64 : GF_TYPE_INT64);
  return true;
}

static const char *const op_names[] = {"+", "-", "*", "/", "%", "=", "!=", "<",
                                       "<=", ">", ">=", "and", "or", "not", "-"};

/* Decimal operands (decimal_rules.h): converts both kids to what the rule
 * says (float64, or a decimal type each) and reports the domain. */
static gf_status dec_sides(bctx *c, const gf_expr *e, gfi_bnode **k, bool *as_float) {
  char why[160], msg[300], a[64], b[64];
  int how = gfi_dec_operands(k[0]->type, k[1]->type, why, sizeof why);
  if (how == GFI_DECOP_NONE) {
    snprintf(msg, sizeof msg, "cannot apply '%s' to %s and %s: %s", op_names[e->op],
             tname(k[0]->type, a, sizeof a), tname(k[1]->type, b, sizeof b), why);
    return type_error(c, how == GFI_DECOP_NONE && strstr(why, "decimal256") ? GF_ENOTSUP : GF_ETYPE,
                      e, msg);
  }
  *as_float = how == GFI_DECOP_FLOAT;
  gf_datatype other[2] = {k[1]->type, k[0]->type};
  for (int i = 0; i < 2; i++) {
    gfi_bnode *n = k[i];
    gf_datatype t = n->type.id == GF_TYPE_NULL ? other[i] : n->type;
    bool lit = n->kind == GFI_B_SCALAR && !n->lit.null && t.id == GF_TYPE_INT64;
    t = *as_float ? gf_type(GF_TYPE_FLOAT64) : gfi_dec_operand_type(t, lit, n->lit.i);
    if (lit && !*as_float) { /* scale 0: the int64 is the unscaled value */
      n->lit.type = n->type = t;
      continue;
    }
    GF_RETURN_NOT_OK(coerce(c, &k[i], t));
  }
  return GF_OK;
}

/* Arithmetic with a decimal side: decimal_rules.h gives the result type. */
static gf_status bind_dec_arith(bctx *c, const gf_expr *e, gfi_bnode **k, gfi_bnode **out) {
  bool as_float = false;
  gf_datatype t = gf_type(GF_TYPE_FLOAT64);
  char why[160], msg[300];
  gf_status st = dec_sides(c, e, k, &as_float);
  if (st == GF_OK && !as_float &&
      !gfi_dec_arith_type(e->op, k[0]->type, k[1]->type, &t, why, sizeof why)) {
    snprintf(msg, sizeof msg, "cannot apply '%s': %s", op_names[e->op], why);
    st = type_error(c, GF_ETYPE, e, msg);
  }
  if (st != GF_OK) {
    free_kids(c, k, 2);
    return st;
  }
  GF_RETURN_NOT_OK(make(c, GFI_B_ARITH, t, k, 2, out));
  (*out)->op = e->op;
  return GF_OK;
}

static gf_status bind_arith(bctx *c, const gf_expr *e, gfi_bnode **k,
                            gfi_bnode **out) {
  if (gfi_is_decimal(k[0]->type.id) || gfi_is_decimal(k[1]->type.id))
    return bind_dec_arith(c, e, k, out);
  gf_datatype t;
  if (!promote(k[0]->type, k[1]->type, &t)) {
    gf_status st = op_error(c, e, op_names[e->op], k[0]->type, k[1]->type, false);
    free_kids(c, k, 2);
    return st;
  }
  for (int i = 0; i < 2; i++) {
    gf_status st = coerce(c, &k[i], t);
    if (st != GF_OK) {
      free_kids(c, k, 2);
      return st;
    }
  }
  GF_RETURN_NOT_OK(make(c, GFI_B_ARITH, t, k, 2, out));
  (*out)->op = e->op;
  return GF_OK;
}

static gf_op flip(gf_op op) {
  switch (op) {
    case GF_OP_LT: return GF_OP_GT;
    case GF_OP_LE: return GF_OP_GE;
    case GF_OP_GT: return GF_OP_LT;
    case GF_OP_GE: return GF_OP_LE;
    default: return op;
  }
}

/* Parses a string scalar into temporal type t; false when it is no date. */
static bool str_to_time(const gfi_lit *l, gf_datatype t, int64_t *v) {
  if (t.id == GF_TYPE_DATE32) return gfi_parse_date(l->s, l->len, v);
  int64_t us;
  if (!gfi_parse_timestamp_us(l->s, l->len, &us)) return false;
  if (t.id == GF_TYPE_DATE64) {
    *v = us / 1000;
    return true;
  }
  switch (t.unit) {
    case GF_UNIT_SECOND: *v = us / 1000000; break;
    case GF_UNIT_MILLI: *v = us / 1000; break;
    case GF_UNIT_MICRO: *v = us; break;
    default: *v = us * 1000; break;
  }
  return true;
}

/* Comparison of an integer side with a non-integral float literal made exact
 * by moving the literal to the neighbouring integer. k[1] is the scalar.
 * Returns false when not applicable. */
static bool exact_int_float(gfi_bnode **k, gf_op *op) {
  gfi_bnode *s = k[1];
  if (!is_int(k[0]->type.id) || k[0]->type.id == GF_TYPE_UINT64 ||
      s->kind != GFI_B_SCALAR || s->lit.null || !is_float(s->lit.type.id))
    return false;
  double f = s->lit.f;
  if (isnan(f) || f < -9.2e18 || f > 9.2e18) return false;
  double fl = floor(f);
  if (fl == f) {
    s->lit.i = (int64_t)f;
  } else if (*op == GF_OP_LT || *op == GF_OP_GE) {
    s->lit.i = (int64_t)ceil(f); /* x < 2.5 <=> x < 3 */
  } else if (*op == GF_OP_LE || *op == GF_OP_GT) {
    s->lit.i = (int64_t)fl; /* x <= 2.5 <=> x <= 2 */
  } else {
    return false;
  }
  s->lit.type = s->type = gf_type(GF_TYPE_INT64);
  return true;
}

static gf_status bind_cmp(bctx *c, const gf_expr *e, gfi_bnode **k,
                          gfi_bnode **out) {
  gf_op op = e->op;
  gf_status st = GF_OK;
  /* Keep a scalar on the right so kernels see array-op-scalar. */
  if (k[0]->kind == GFI_B_SCALAR && k[1]->kind != GFI_B_SCALAR) {
    gfi_bnode *t = k[0];
    k[0] = k[1];
    k[1] = t;
    op = flip(op);
  }
  /* dictionary column = / != literal: compare codes. */
  if (k[0]->kind == GFI_B_COLUMN && k[0]->type.id == GF_TYPE_DICTIONARY &&
      k[1]->kind == GFI_B_SCALAR && !is_null_scalar(k[1]) &&
      (op == GF_OP_EQ || op == GF_OP_NE)) {
    gf_datatype vt = gf_type_value(k[0]->type);
    if (is_str(vt.id) && is_str(k[1]->type.id)) {
      GF_RETURN_NOT_OK(make(c, GFI_B_CMP_DICT, gf_type(GF_TYPE_BOOL), k, 2, out));
      (*out)->op = op;
      (*out)->col = k[0]->col;
      return GF_OK;
    }
  }
  for (int i = 0; i < 2 && st == GF_OK; i++) st = undict(c, &k[i]);
  if (st != GF_OK) goto fail;
  gf_datatype l = k[0]->type, r = k[1]->type;
  int dom = -1;
  bool lnull = l.id == GF_TYPE_NULL, rnull = r.id == GF_TYPE_NULL;
  if (lnull && rnull) {
    retype_null(k[0], gf_type(GF_TYPE_INT64));
    retype_null(k[1], gf_type(GF_TYPE_INT64));
    dom = GFI_DOM_I64;
  } else if (lnull || rnull) {
    /* The null side adopts the other side's type; the result is all null. */
    gfi_bnode *nn = lnull ? k[0] : k[1];
    gf_datatype t = lnull ? r : l;
    retype_null(nn, t);
    dom = is_float(t.id) ? GFI_DOM_F64 : is_str(t.id) || is_bin(t.id) ? GFI_DOM_STR : GFI_DOM_I64;
  } else if (gfi_is_decimal(l.id) || gfi_is_decimal(r.id)) {
    bool as_float = false;
    gf_expr fake = *e;
    fake.op = op;
    st = dec_sides(c, &fake, k, &as_float);
    dom = as_float ? GFI_DOM_F64 : GFI_DOM_DEC;
  } else if (is_num(l.id) && is_num(r.id)) {
    if (exact_int_float(k, &op) || (is_int(l.id) && is_int(r.id) &&
                                    l.id != GF_TYPE_UINT64 && r.id != GF_TYPE_UINT64)) {
      dom = GFI_DOM_I64;
    } else if (l.id == GF_TYPE_UINT64 && r.id == GF_TYPE_UINT64) {
      dom = GFI_DOM_U64;
    } else {
      dom = GFI_DOM_F64;
    }
    if (dom == GFI_DOM_I64 && k[1]->kind == GFI_B_SCALAR)
      k[1]->lit.type = k[1]->type = gf_type(GF_TYPE_INT64);
    if (dom == GFI_DOM_F64 && k[1]->kind == GFI_B_SCALAR)
      st = coerce(c, &k[1], gf_type(GF_TYPE_FLOAT64));
  } else if (is_str(l.id) && is_str(r.id)) {
    dom = GFI_DOM_STR;
  } else if (is_bin(l.id) && (is_bin(r.id) || (is_str(r.id) && k[1]->kind == GFI_B_SCALAR))) {
    /* Binary: byte-wise (memcmp, then length), as strings; a string
     * literal stands for its bytes. A utf8 column against a binary one
     * wants a cast. */
    dom = GFI_DOM_STR;
  } else if (l.id == GF_TYPE_BOOL && r.id == GF_TYPE_BOOL) {
    dom = GFI_DOM_I64;
  } else if (is_time(l.id) && (is_time(r.id) || is_str(r.id))) {
    dom = GFI_DOM_I64;
    if (is_str(r.id)) {
      int64_t v;
      if (k[1]->kind != GFI_B_SCALAR || !str_to_time(&k[1]->lit, l, &v)) {
        char a[64], b[64], msg[300];
        snprintf(msg, sizeof msg, "cannot compare %s with %s%s",
                 tname(l, a, sizeof a), tname(r, b, sizeof b),
                 k[1]->kind == GFI_B_SCALAR ? " (not a valid date/time)" : "");
        st = type_error(c, GF_ETYPE, e, msg);
        goto fail;
      }
      gfi_mfree(c->a, k[1]->lit.s, (size_t)k[1]->lit.len + 1);
      k[1]->lit.s = NULL;
      k[1]->lit.len = 0;
      k[1]->lit.i = v;
      k[1]->lit.type = k[1]->type = l;
    } else if (!gf_type_equals(l, r)) {
      /* The coarser side moves to the finer one: date32 < date64 < timestamp. */
      int side = (l.id == GF_TYPE_DATE32 || (l.id == GF_TYPE_DATE64 && r.id == GF_TYPE_TIMESTAMP) ||
                  (l.id == GF_TYPE_TIMESTAMP && r.id == GF_TYPE_TIMESTAMP && l.unit < r.unit))
                     ? 0 : 1;
      st = coerce(c, &k[side], side == 0 ? r : l);
    }
  } else if (is_str(l.id) && is_time(r.id)) {
    /* Only reachable with two arrays (scalars were moved right). */
    dom = -1;
  }
  if (st != GF_OK) goto fail;
  if (dom < 0) {
    st = op_error(c, e, op_names[e->op], l, r, false);
    goto fail;
  }
  GF_RETURN_NOT_OK(make(c, GFI_B_CMP, gf_type(GF_TYPE_BOOL), k, 2, out));
  (*out)->op = op;
  (*out)->domain = dom;
  return GF_OK;
fail:
  free_kids(c, k, 2);
  return st;
}

/* Requires bool (or null, retyped) operands. */
static gf_status want_bool(bctx *c, const gf_expr *e, gfi_bnode **k, int n,
                           const char *op) {
  for (int i = 0; i < n; i++) {
    if (is_null_scalar(k[i])) retype_null(k[i], gf_type(GF_TYPE_BOOL));
    if (k[i]->type.id != GF_TYPE_BOOL) {
      gf_status st = op_error(c, e, op, k[0]->type, n > 1 ? k[1]->type : k[0]->type, n == 1);
      free_kids(c, k, n);
      return st;
    }
  }
  return GF_OK;
}

/* Common type of the branches of if(): equal types, or numeric promotion. */
static bool common_type(gf_datatype a, gf_datatype b, gf_datatype *out) {
  if (a.id == GF_TYPE_NULL) { *out = b; return true; }
  if (b.id == GF_TYPE_NULL) { *out = a; return true; }
  if (gf_type_equals(a, b)) { *out = a; return true; }
  if (is_str(a.id) && is_str(b.id)) { *out = gf_type(GF_TYPE_LARGE_UTF8); return true; }
  return promote(a, b, out);
}

static bool cast_allowed(gf_datatype from, gf_datatype to) {
  gf_type_id f = from.id, t = to.id;
  if (t == GF_TYPE_DICTIONARY || t == GF_TYPE_NULL) return false;
  if (f == GF_TYPE_NULL) return true;
  if (gf_type_equals(from, to)) return true;
  if (gfi_is_decimal(f) || gfi_is_decimal(t)) /* numbers, strings, decimals */
    return (gfi_is_decimal(f) || is_num(f) || is_str(f)) &&
           (gfi_is_decimal(t) || is_num(t) || is_str(t));
  bool fnum = is_num(f) || f == GF_TYPE_BOOL, tnum = is_num(t) || t == GF_TYPE_BOOL;
  if (fnum && tnum) return true;
  if (is_str(t)) return fnum || is_time(f) || is_str(f);
  if (is_str(f)) return tnum || is_time(t);
  if (is_time(f) && is_time(t)) return true;
  if (is_time(f) && is_int(t)) return true;
  if (is_int(f) && is_time(t)) return true;
  return false;
}

typedef struct fn_info {
  const char *name;
  int min_args, max_args;
} fn_info;

static gf_status arity_error(bctx *c, const gf_expr *e, int lo, int hi) {
  char msg[200];
  if (lo == hi)
    snprintf(msg, sizeof msg, "function '%s' takes %d argument%s, got %d",
             e->name, lo, lo == 1 ? "" : "s", e->nargs);
  else
    snprintf(msg, sizeof msg, "function '%s' takes %d to %d arguments, got %d",
             e->name, lo, hi, e->nargs);
  return type_error(c, GF_EINVAL, e, msg);
}

/* Reports a bad argument type for function calls. */
static gf_status arg_error(bctx *c, const gf_expr *e, gfi_bnode **k, int n,
                           int bad, const char *want) {
  char a[64], msg[300];
  snprintf(msg, sizeof msg, "function '%s' expects %s as argument %d, got %s",
           e->name, want, bad + 1, tname(k[bad]->type, a, sizeof a));
  free_kids(c, k, n);
  return type_error(c, GF_ETYPE, e, msg);
}

/* The function e (a CALL) names, checked before its arguments are bound
 * (so an unknown function or a wrong argument count is the error reported,
 * whatever the arguments hold). */
static gf_status call_info(bctx *c, const gf_expr *e, const fn_info **out) {
  static const fn_info fns[] = {
      {"if", 3, 3}, {"is_null", 1, 1}, {"is_not_null", 1, 1}, {"abs", 1, 1},
      {"round", 1, 2}, {"floor", 1, 1}, {"ceil", 1, 1}, {"sqrt", 1, 1},
      {"log", 1, 1}, {"exp", 1, 1}, {"pow", 2, 2}, {"length", 1, 1},
      {"lower", 1, 1}, {"upper", 1, 1}, {"contains", 2, 2},
      {"starts_with", 2, 2}, {"ends_with", 2, 2}, {"substr", 2, 3},
      {"year", 1, 1}, {"month", 1, 1}, {"day", 1, 1}, {"hour", 1, 1},
      {"minute", 1, 1}, {"second", 1, 1}, {"weekday", 1, 1}, {"date_trunc", 2, 2},
      {"coalesce", 1, 1000}};
  const fn_info *fi = NULL;
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
    if (strcmp(fns[i].name, e->name) == 0) fi = &fns[i];
  if (!fi) {
    char msg[300];
    snprintf(msg, sizeof msg, "unknown function '%.200s'", e->name);
    return type_error(c, GF_EINVAL, e, msg);
  }
  if (e->nargs < fi->min_args || e->nargs > fi->max_args)
    return arity_error(c, e, fi->min_args, fi->max_args);
  *out = fi;
  return GF_OK;
}

static gf_status clone(bctx *c, const gfi_bnode *n, gfi_bnode **out);

/* coalesce(x1, .., xn): the first non-null argument, as nested
 * if(is_not_null(xi), xi, rest) over one type: decimals (with integers)
 * unify as if() does, a float beside a decimal gives float64, the rest
 * promote as if() branches do. Takes k[0..n) (freed on failure). */
static gf_status bind_coalesce(bctx *c, const gf_expr *e, gfi_bnode **k, int n,
                               gfi_bnode **out) {
  bool any_dec = false, any_float = false, only_num = true;
  gf_datatype t = gf_type(GF_TYPE_NULL), d = gf_type(GF_TYPE_NULL);
  gf_status st = GF_OK;
  for (int i = 0; i < n; i++) {
    gf_type_id id = k[i]->type.id;
    any_dec = any_dec || id == GF_TYPE_DECIMAL128;
    any_float = any_float || is_float(id);
    only_num = only_num && (id == GF_TYPE_NULL || id == GF_TYPE_DECIMAL128 || is_num(id));
  }
  for (int i = 0; i < n; i++) {
    gfi_bnode *b = k[i];
    if (b->type.id == GF_TYPE_NULL) continue;
    if (any_dec && only_num && !any_float) {
      bool lit = b->kind == GFI_B_SCALAR && !b->lit.null && b->type.id == GF_TYPE_INT64;
      gf_datatype bi = gfi_dec_operand_type(b->type, lit, b->lit.i);
      d = d.id == GF_TYPE_NULL ? bi : gfi_dec_common_type(d, bi);
      t = d;
    } else if (any_dec && only_num) {
      t = gf_type(GF_TYPE_FLOAT64);
    } else if (!common_type(t, b->type, &t)) {
      char a[64], bt[64], msg[300];
      snprintf(msg, sizeof msg, "coalesce() arguments have incompatible types %s and %s",
               tname(t, a, sizeof a), tname(b->type, bt, sizeof bt));
      free_kids(c, k, n);
      return type_error(c, GF_ETYPE, e, msg);
    }
  }
  if (t.id == GF_TYPE_NULL) t = gf_type(GF_TYPE_INT64);
  for (int i = 0; i < n && st == GF_OK; i++) st = coerce(c, &k[i], t);
  if (st != GF_OK) {
    free_kids(c, k, n);
    return st;
  }
  /* Right to left: the last argument is the innermost else. */
  gfi_bnode *acc = k[n - 1];
  k[n - 1] = NULL;
  for (int i = n - 2; i >= 0 && st == GF_OK; i--) {
    gfi_bnode *copy = NULL, *cond = NULL, *node = NULL;
    st = clone(c, k[i], &copy);
    if (st == GF_OK) st = make(c, GFI_B_IS_NOT_NULL, gf_type(GF_TYPE_BOOL), &copy, 1, &cond);
    if (st == GF_OK) {
      gfi_bnode *three[3] = {cond, k[i], acc};
      k[i] = NULL;
      acc = NULL;
      st = make(c, GFI_B_IF, t, three, 3, &node);
      acc = node;
    }
  }
  if (st != GF_OK) {
    node_free(c->a, acc);
    free_kids(c, k, n);
    return st;
  }
  *out = acc;
  return GF_OK;
}

/* Binds call e over its bound arguments k[0..e->nargs) (taken: freed on
 * failure). */
static gf_status bind_call(bctx *c, const gf_expr *e, gfi_bnode **k,
                           gfi_bnode **out) {
  const fn_info *fi = NULL;
  int n = e->nargs;
  gf_status cst = call_info(c, e, &fi);
  if (cst != GF_OK) {
    free_kids(c, k, n);
    return cst;
  }
  const char *nm = fi->name;
  gf_status st = GF_OK;
  gf_datatype t0 = k[0]->type;
  if (strcmp(nm, "is_null") == 0 || strcmp(nm, "is_not_null") == 0)
    return make(c, strcmp(nm, "is_null") == 0 ? GFI_B_IS_NULL : GFI_B_IS_NOT_NULL,
                gf_type(GF_TYPE_BOOL), k, 1, out);
  for (int i = 0; i < n && st == GF_OK; i++) st = undict(c, &k[i]);
  if (st != GF_OK) {
    free_kids(c, k, n);
    return st;
  }
  t0 = k[0]->type;
  if (strcmp(nm, "if") == 0) {
    if (is_null_scalar(k[0])) retype_null(k[0], gf_type(GF_TYPE_BOOL));
    if (k[0]->type.id != GF_TYPE_BOOL) return arg_error(c, e, k, n, 0, "bool");
    gf_datatype t;
    gf_type_id i1 = k[1]->type.id, i2 = k[2]->type.id;
    if ((i1 == GF_TYPE_DECIMAL128 || i2 == GF_TYPE_DECIMAL128) && i1 != GF_TYPE_NULL &&
        i2 != GF_TYPE_NULL && !gf_type_equals(k[1]->type, k[2]->type)) {
      /* Decimal branches of different (p, s), or a decimal and an integer,
       * unify (decimal_rules.h); a float branch makes both float64. */
      char why[160];
      int how = gfi_dec_operands(k[1]->type, k[2]->type, why, sizeof why);
      if (how == GFI_DECOP_FLOAT) {
        t = gf_type(GF_TYPE_FLOAT64);
      } else if (how == GFI_DECOP_DECIMAL) {
        gf_datatype d[2];
        for (int i = 0; i < 2; i++) {
          const gfi_bnode *b = k[1 + i];
          bool lit = b->kind == GFI_B_SCALAR && !b->lit.null && b->type.id == GF_TYPE_INT64;
          d[i] = gfi_dec_operand_type(b->type, lit, b->lit.i);
        }
        t = gfi_dec_common_type(d[0], d[1]);
      } else {
        char a[64], b[64], msg[400];
        snprintf(msg, sizeof msg, "if() branches have incompatible types %s and %s: %s",
                 tname(k[1]->type, a, sizeof a), tname(k[2]->type, b, sizeof b), why);
        free_kids(c, k, n);
        return type_error(c, GF_ETYPE, e, msg);
      }
    } else if (!common_type(k[1]->type, k[2]->type, &t)) {
      char a[64], b[64], msg[300];
      snprintf(msg, sizeof msg, "if() branches have incompatible types %s and %s",
               tname(k[1]->type, a, sizeof a), tname(k[2]->type, b, sizeof b));
      free_kids(c, k, n);
      return type_error(c, GF_ETYPE, e, msg);
    }
    if (t.id == GF_TYPE_NULL) t = gf_type(GF_TYPE_INT64);
    for (int i = 1; i < 3 && st == GF_OK; i++) st = coerce(c, &k[i], t);
    if (st != GF_OK) {
      free_kids(c, k, n);
      return st;
    }
    return make(c, GFI_B_IF, t, k, 3, out);
  }
  if (strcmp(nm, "coalesce") == 0) return bind_coalesce(c, e, k, n, out);
  static const struct { const char *name; int fn; } math[] = {
      {"abs", GFI_FN_ABS}, {"floor", GFI_FN_FLOOR}, {"ceil", GFI_FN_CEIL},
      {"round", GFI_FN_ROUND}, {"sqrt", GFI_FN_SQRT}, {"log", GFI_FN_LOG},
      {"exp", GFI_FN_EXP}};
  for (size_t m = 0; m < sizeof math / sizeof math[0]; m++) {
    if (strcmp(nm, math[m].name) != 0) continue;
    if (is_null_scalar(k[0])) retype_null(k[0], gf_type(GF_TYPE_FLOAT64));
    int fn = math[m].fn;
    if (n == 2) {
      if (k[1]->kind != GFI_B_SCALAR || k[1]->lit.null || !is_int(k[1]->type.id))
        return arg_error(c, e, k, n, 1, "an integer literal");
    }
    if (t0.id == GF_TYPE_DECIMAL128 &&
        (fn == GFI_FN_ABS || fn == GFI_FN_FLOOR || fn == GFI_FN_CEIL || fn == GFI_FN_ROUND)) {
      /* Exact on the unscaled values; types in decimal_rules.h. */
      gf_datatype t = fn == GFI_FN_ABS ? t0 : gfi_dec_round_type(t0, n == 2 ? k[1]->lit.i : 0);
      GF_RETURN_NOT_OK(make(c, GFI_B_MATH, t, k, n, out));
      (*out)->fn = fn;
      return GF_OK;
    }
    if (t0.id == GF_TYPE_DECIMAL256)
      return arg_error(c, e, k, n, 0, "a number (decimal256 has no compute kernels: cast it)");
    if (t0.id == GF_TYPE_DECIMAL128) t0 = gf_type(GF_TYPE_FLOAT64); /* sqrt, log, exp */
    else if (!is_num(k[0]->type.id)) return arg_error(c, e, k, n, 0, "a number");
    bool to_float = fn == GFI_FN_SQRT || fn == GFI_FN_LOG || fn == GFI_FN_EXP ||
                    is_float(t0.id) || t0.id == GF_TYPE_UINT64;
    gf_datatype t = gf_type(to_float ? GF_TYPE_FLOAT64 : GF_TYPE_INT64);
    st = coerce(c, &k[0], t);
    if (st != GF_OK) {
      free_kids(c, k, n);
      return st;
    }
    GF_RETURN_NOT_OK(make(c, GFI_B_MATH, t, k, n, out));
    (*out)->fn = fn;
    return GF_OK;
  }
  if (strcmp(nm, "pow") == 0) {
    for (int i = 0; i < 2; i++) {
      if (is_null_scalar(k[i])) retype_null(k[i], gf_type(GF_TYPE_FLOAT64));
      if (!is_num(k[i]->type.id)) return arg_error(c, e, k, n, i, "a number");
    }
    for (int i = 0; i < 2 && st == GF_OK; i++)
      st = coerce(c, &k[i], gf_type(GF_TYPE_FLOAT64));
    if (st != GF_OK) {
      free_kids(c, k, n);
      return st;
    }
    return make(c, GFI_B_POW, gf_type(GF_TYPE_FLOAT64), k, 2, out);
  }
  if (strcmp(nm, "length") == 0 || strcmp(nm, "lower") == 0 ||
      strcmp(nm, "upper") == 0 || strcmp(nm, "contains") == 0 ||
      strcmp(nm, "starts_with") == 0 || strcmp(nm, "ends_with") == 0 ||
      strcmp(nm, "substr") == 0) {
    bool sub = strcmp(nm, "substr") == 0;
    for (int i = 0; i < n; i++) {
      bool want_int = sub && i > 0;
      /* length() counts the bytes of a binary value (characters of text). */
      bool bin_ok = nm[0] == 'l' && nm[1] == 'e' && is_bin(k[i]->type.id);
      if (is_null_scalar(k[i]))
        retype_null(k[i], gf_type(want_int ? GF_TYPE_INT64 : GF_TYPE_UTF8));
      if (want_int ? !is_int(k[i]->type.id) || k[i]->type.id == GF_TYPE_UINT64
                   : !is_str(k[i]->type.id) && !bin_ok)
        return arg_error(c, e, k, n, i, want_int ? "an integer" : "a string");
      if (want_int) st = coerce(c, &k[i], gf_type(GF_TYPE_INT64));
      if (st != GF_OK) {
        free_kids(c, k, n);
        return st;
      }
    }
    gf_datatype st_t = k[0]->type;
    if (nm[0] == 'l' && nm[1] == 'e')
      return make(c, GFI_B_LENGTH, gf_type(GF_TYPE_INT64), k, 1, out);
    if (strcmp(nm, "lower") == 0) return make(c, GFI_B_LOWER, st_t, k, 1, out);
    if (strcmp(nm, "upper") == 0) return make(c, GFI_B_UPPER, st_t, k, 1, out);
    if (sub) return make(c, GFI_B_SUBSTR, st_t, k, n, out);
    GF_RETURN_NOT_OK(make(c, GFI_B_STRPRED, gf_type(GF_TYPE_BOOL), k, 2, out));
    (*out)->fn = nm[0] == 'c' ? GFI_FN_CONTAINS : nm[0] == 's' ? GFI_FN_STARTS : GFI_FN_ENDS;
    return GF_OK;
  }
  if (strcmp(nm, "date_trunc") == 0) { /* date_trunc('unit', timestamp) */
    int fn = k[0]->kind == GFI_B_SCALAR && !k[0]->lit.null && is_str(k[0]->lit.type.id)
                 ? gfi_trunc_unit(k[0]->lit.s, k[0]->lit.len) : -1;
    if (fn < 0) return arg_error(c, e, k, n, 0, "'year', 'month', 'day', 'hour' or 'minute'");
    if (is_null_scalar(k[1])) retype_null(k[1], gf_type_timestamp(GF_UNIT_MICRO, false, 0));
    if (k[1]->type.id != GF_TYPE_TIMESTAMP) return arg_error(c, e, k, n, 1, "a timestamp");
    node_free(c->a, k[0]);
    GF_RETURN_NOT_OK(make(c, GFI_B_DATEPART, k[1]->type, &k[1], 1, out));
    (*out)->fn = fn;
    return GF_OK;
  }
  /* year / month / day / hour / minute / second / weekday */
  if (is_null_scalar(k[0])) retype_null(k[0], gf_type(GF_TYPE_DATE32));
  if (!is_time(k[0]->type.id)) return arg_error(c, e, k, n, 0, "a date or timestamp");
  GF_RETURN_NOT_OK(make(c, GFI_B_DATEPART, gf_type(GF_TYPE_INT64), k, 1, out));
  (*out)->fn = gfi_datepart_fn(nm);
  return GF_OK;
}

/* Duplicates a bound subtree (IN / BETWEEN reuse their operand), without
 * recursion: pending (source, destination slot) pairs sit on a gfi_vec
 * stack. A failure frees the partial copy (its unfilled kids are NULL). */
static gf_status clone(bctx *c, const gfi_bnode *n, gfi_bnode **out) {
  typedef struct pend { const gfi_bnode *src; gfi_bnode **slot; } pend;
  gfi_bnode *root = NULL;
  gfi_vec stk;
  gfi_vec_init(&stk, c->a);
  pend first = {n, &root};
  gf_status st = gfi_vec_append(&stk, &first, sizeof first, c->err);
  while (st == GF_OK && stk.len > 0) {
    stk.len -= sizeof(pend);
    pend p;
    memcpy(&p, stk.data + stk.len, sizeof p);
    gfi_bnode *d = NULL;
    st = node_new(c, p.src->kind, p.src->type, &d);
    if (st != GF_OK) break;
    *d = *p.src;
    d->lit.s = NULL;
    for (int i = 0; i < 3; i++) d->kids[i] = NULL;
    gfi_inset_retain(d->set);
    *p.slot = d;
    st = lit_copy(c, &p.src->lit, &d->lit);
    for (int i = 0; i < p.src->nkids && st == GF_OK; i++) {
      pend k = {p.src->kids[i], &d->kids[i]};
      st = gfi_vec_append(&stk, &k, sizeof k, c->err);
    }
  }
  gfi_vec_reset(&stk);
  if (st != GF_OK) {
    node_free(c->a, root);
    return st;
  }
  *out = root;
  return GF_OK;
}

/* Builds a synthetic comparison node over two bound kids as if from e. */
static gf_status cmp_of(bctx *c, const gf_expr *e, gf_op op, gfi_bnode *a,
                        gfi_bnode *b, gfi_bnode **out) {
  gf_expr fake = *e;
  fake.kind = GF_EXPR_BINARY;
  fake.op = op;
  gfi_bnode *k[2] = {a, b};
  (void)fake;
  gf_status st = bind_cmp(c, &fake, k, out);
  return st;
}

/* True when the bound subtrees a and b are the same computation (each
 * item's equality got its own clone of the operand, maybe coerced). An
 * iterative walk over pairs; no memory for it means "not known equal"
 * (the caller then keeps the OR tree). */
static bool same_operand(bctx *c, const gfi_bnode *a, const gfi_bnode *b) {
  typedef struct pair { const gfi_bnode *a, *b; } pair;
  gfi_vec stk;
  gfi_vec_init(&stk, c->a);
  pair first = {a, b};
  bool same = gfi_vec_append(&stk, &first, sizeof first, NULL) == GF_OK;
  while (same && stk.len > 0) {
    pair p;
    stk.len -= sizeof p;
    memcpy(&p, stk.data + stk.len, sizeof p);
    const gfi_bnode *x = p.a, *y = p.b;
    same = x->kind == y->kind && gf_type_equals(x->type, y->type) && x->op == y->op &&
           x->fn == y->fn && x->col == y->col && x->domain == y->domain &&
           x->nkids == y->nkids && x->set == y->set && x->lit.null == y->lit.null &&
           gf_type_equals(x->lit.type, y->lit.type) && x->lit.i == y->lit.i &&
           memcmp(&x->lit.f, &y->lit.f, sizeof x->lit.f) == 0 && x->lit.len == y->lit.len &&
           (!x->lit.s) == (!y->lit.s) &&
           (!x->lit.s || memcmp(x->lit.s, y->lit.s, (size_t)x->lit.len) == 0);
    for (int i = 0; same && i < x->nkids; i++) {
      pair k = {x->kids[i], y->kids[i]};
      same = gfi_vec_append(&stk, &k, sizeof k, NULL) == GF_OK;
    }
  }
  gfi_vec_reset(&stk);
  return same;
}

/* The literal item of equality q (kids[1]): a scalar, or a cast of a
 * scalar (cast('nan' as float64)) evaluated here with the cast kernel over
 * one row, so the item means what the equality would compare with.
 * False when it is neither (or the cast fails: the OR tree then reports
 * it at evaluation). */
static bool item_lit(bctx *c, const gfi_bnode *q, gfi_lit *out) {
  const gfi_bnode *v = q->kids[1];
  if (v->kind == GFI_B_SCALAR) {
    *out = v->lit;
    return true;
  }
  if (v->kind != GFI_B_CAST || v->kids[0]->kind != GFI_B_SCALAR ||
      (v->type.id != GF_TYPE_FLOAT64 && v->type.id != GF_TYPE_INT64))
    return false;
  gf_error scratch;
  gfi_kctx k = {c->a, &scratch, 1};
  gfi_val in = {true, &v->kids[0]->lit, NULL, 0, 1};
  gf_array *r = NULL;
  if (gfi_k_cast(&k, v->type, &in, &r) != GF_OK) return false;
  memset(out, 0, sizeof *out);
  out->type = v->type;
  out->null = gf_array_is_null(r, 0);
  if (!out->null) {
    if (v->type.id == GF_TYPE_FLOAT64) out->f = gf_array_get_double(r, 0);
    else out->i = gf_array_get_int64(r, 0);
  }
  gf_array_release(r);
  return true;
}

/* Turns the equalities eqs[0..n) of an in-list into one GFI_B_IN_SET node
 * when they all compare one operand (any expression, the same in each)
 * with a literal in one domain (or all compare a string dictionary column,
 * CMP_DICT); *out NULL (GF_OK) when they do not, and the caller keeps the
 * OR tree. The operand is detached from the equality that had it, so it is
 * evaluated once per row instead of once per item. */
static gf_status in_set_of(bctx *c, gfi_bnode **eqs, int n, gfi_bnode **out) {
  *out = NULL;
  int first = -1;
  bool dict = false;
  int dom = -1;
  for (int i = 0; i < n; i++) {
    const gfi_bnode *q = eqs[i];
    if (q->op != GF_OP_EQ || (q->kind != GFI_B_CMP && q->kind != GFI_B_CMP_DICT)) return GF_OK;
    gfi_lit lit;
    if (!item_lit(c, q, &lit)) return GF_OK;
    const gfi_bnode *opnd = q->kids[0];
    if (opnd->kind == GFI_B_SCALAR) return GF_OK; /* a literal operand: nothing to gain */
    if (q->kind == GFI_B_CMP && (lit.null || lit.type.id == GF_TYPE_NULL)) continue; /* a null item */
    bool qd = q->kind == GFI_B_CMP_DICT;
    if (first < 0) {
      first = i;
      dict = qd;
      dom = qd ? GFI_DOM_STR : q->domain;
    } else if (qd != dict || (!qd && q->domain != dom) ||
               !same_operand(c, opnd, eqs[first]->kids[0])) {
      return GF_OK;
    }
  }
  if (first < 0) return GF_OK; /* only null items: the OR tree is as good */
  /* Null items must read the same operand too (through undict for a
   * dictionary: a cast of the column). */
  for (int i = 0; i < n; i++) {
    const gfi_bnode *q = eqs[i];
    gfi_lit lit;
    if (!item_lit(c, q, &lit)) return GF_OK;
    if (q->kind != GFI_B_CMP || !(lit.null || lit.type.id == GF_TYPE_NULL)) continue;
    const gfi_bnode *o0 = q->kids[0], *f0 = eqs[first]->kids[0];
    bool ok = dict ? o0->kind == GFI_B_CAST && same_operand(c, o0->kids[0], f0)
                   : same_operand(c, o0, f0);
    if (!ok) return GF_OK;
  }
  gfi_inset *set = NULL;
  GF_RETURN_NOT_OK(gfi_inset_new(c->a, dom, dict, &set, c->err));
  gf_status st = GF_OK;
  for (int i = 0; i < n && st == GF_OK; i++) {
    gfi_lit lit;
    if (!item_lit(c, eqs[i], &lit)) st = gf_error_set(c->err, GF_EINTERNAL, "in-list item changed");
    else st = gfi_inset_add(set, &lit, c->err);
  }
  gfi_bnode *node = NULL;
  if (st == GF_OK) st = node_new(c, GFI_B_IN_SET, gf_type(GF_TYPE_BOOL), &node);
  if (st != GF_OK) {
    gfi_inset_release(set);
    return st;
  }
  node->set = set;
  node->domain = dom;
  node->nkids = 1;
  node->kids[0] = eqs[first]->kids[0];
  eqs[first]->kids[0] = NULL; /* detached: node_free skips NULL kids */
  *out = node;
  return GF_OK;
}

/* Binds the IN node e over its bound operand kk[0] and items kk[1..n]
 * (taken). x = v1 or x = v2 or ...: Kleene OR gives SQL's null semantics.
 * The ORs form a balanced tree, log2(n) levels deep; a list of more than
 * GFI_IN_SET_MIN_ITEMS literals of one domain becomes one hash-set probe
 * (GFI_B_IN_SET) with the same semantics. */
static gf_status bind_in(bctx *c, const gf_expr *e, gfi_bnode **kk,
                         gfi_bnode **out) {
  int n = e->nargs - 1;
  gfi_bnode *x = kk[0];
  gfi_bnode **eqs = gfi_calloc(c->a, sizeof *eqs * (size_t)n);
  if (!eqs) {
    free_kids(c, kk, n + 1);
    return GF_OOM(c->err, "an in-list");
  }
  gf_status st = GF_OK;
  int i = 0;
  for (; i < n && st == GF_OK; i++) {
    gfi_bnode *xi = NULL, *v = kk[i + 1];
    kk[i + 1] = NULL;
    st = clone(c, x, &xi);
    if (st != GF_OK) node_free(c->a, v);
    else st = cmp_of(c, e, GF_OP_EQ, xi, v, &eqs[i]);
  }
  for (; i < n; i++) node_free(c->a, kk[i + 1]);
  if (st == GF_OK && n > GFI_IN_SET_MIN_ITEMS) {
    gfi_bnode *set = NULL;
    st = in_set_of(c, eqs, n, &set);
    if (st == GF_OK && set) {
      for (int j = 0; j < n; j++) node_free(c->a, eqs[j]);
      gfi_mfree(c->a, eqs, sizeof *eqs * (size_t)n);
      node_free(c->a, x);
      *out = set;
      return GF_OK;
    }
  }
  /* Pairwise rounds: [a b c d e] -> [a|b c|d e] -> [(a|b)|(c|d) e] ... */
  for (int m = n; st == GF_OK && m > 1; m = (m + 1) / 2) {
    for (int j = 0; j < m / 2 && st == GF_OK; j++) {
      gfi_bnode *two[2] = {eqs[2 * j], eqs[2 * j + 1]};
      eqs[2 * j] = eqs[2 * j + 1] = NULL;
      st = make(c, GFI_B_OR, gf_type(GF_TYPE_BOOL), two, 2, &eqs[j]);
    }
    if (st == GF_OK && m % 2) {
      eqs[m / 2] = eqs[m - 1];
      if (m / 2 != m - 1) eqs[m - 1] = NULL;
    }
  }
  if (st == GF_OK) *out = eqs[0];
  else
    for (int j = 0; j < n; j++) node_free(c->a, eqs[j]);
  gfi_mfree(c->a, eqs, sizeof *eqs * (size_t)n);
  node_free(c->a, x);
  return st;
}

/* Binds the single node e over its already bound arguments k[0..nargs)
 * (taken: on failure they are freed). The per-kind type rules live here
 * and in the bind_* helpers it calls; none of them recurses, the walk is
 * bind_tree's. */
static gf_status bind_one(bctx *c, const gf_expr *e, gfi_bnode **k,
                          gfi_bnode **out) {
  switch (e->kind) {
    case GF_EXPR_COLUMN: {
      int col = gf_schema_find(c->schema, e->name);
      if (col < 0) {
        char msg[400];
        snprintf(msg, sizeof msg, "unknown column '%.300s'", e->name);
        return type_error(c, GF_EINVAL, e, msg);
      }
      gfi_bnode *n = NULL;
      GF_RETURN_NOT_OK(node_new(c, GFI_B_COLUMN, gf_schema_field(c->schema, col)->type, &n));
      n->col = col;
      *out = n;
      return GF_OK;
    }
    case GF_EXPR_LITERAL: {
      gfi_bnode *n = NULL;
      GF_RETURN_NOT_OK(node_new(c, GFI_B_SCALAR, e->lit.type, &n));
      gf_status st = lit_copy(c, &e->lit, &n->lit);
      if (st != GF_OK) {
        gfi_mfree(c->a, n, sizeof *n);
        return st;
      }
      n->lit.null = e->lit.type.id == GF_TYPE_NULL;
      *out = n;
      return GF_OK;
    }
    case GF_EXPR_UNARY: {
      gf_status st = undict(c, &k[0]);
      if (st != GF_OK) {
        free_kids(c, k, 1);
        return st;
      }
      if (e->op == GF_OP_NOT) {
        GF_RETURN_NOT_OK(want_bool(c, e, k, 1, "not"));
        return make(c, GFI_B_NOT, gf_type(GF_TYPE_BOOL), k, 1, out);
      }
      gf_datatype t;
      if (k[0]->type.id == GF_TYPE_DECIMAL128) /* same type: |min| == max */
        return make(c, GFI_B_NEG, k[0]->type, k, 1, out);
      if (!promote(k[0]->type, k[0]->type, &t)) {
        st = op_error(c, e, "-", k[0]->type, k[0]->type, true);
        free_kids(c, k, 1);
        return st;
      }
      st = coerce(c, &k[0], t);
      if (st != GF_OK) {
        free_kids(c, k, 1);
        return st;
      }
      return make(c, GFI_B_NEG, t, k, 1, out);
    }
    case GF_EXPR_BINARY: {
      if (e->op == GF_OP_AND || e->op == GF_OP_OR) {
        for (int i = 0; i < 2; i++) {
          gf_status st = undict(c, &k[i]);
          if (st != GF_OK) {
            free_kids(c, k, 2);
            return st;
          }
        }
        GF_RETURN_NOT_OK(want_bool(c, e, k, 2, op_names[e->op]));
        return make(c, e->op == GF_OP_AND ? GFI_B_AND : GFI_B_OR,
                    gf_type(GF_TYPE_BOOL), k, 2, out);
      }
      if (e->op <= GF_OP_MOD) {
        for (int i = 0; i < 2; i++) {
          gf_status st = undict(c, &k[i]);
          if (st != GF_OK) {
            free_kids(c, k, 2);
            return st;
          }
        }
        return bind_arith(c, e, k, out);
      }
      return bind_cmp(c, e, k, out);
    }
    case GF_EXPR_CALL: return bind_call(c, e, k, out);
    case GF_EXPR_CAST: {
      gf_status st = undict(c, &k[0]);
      if (st == GF_OK && !cast_allowed(k[0]->type, e->cast_to)) {
        char a[64], b[64], msg[300];
        snprintf(msg, sizeof msg, "cannot cast %s to %s", tname(k[0]->type, a, sizeof a),
                 tname(e->cast_to, b, sizeof b));
        st = type_error(c, GF_ETYPE, e, msg);
      }
      if (st == GF_OK) st = gf_type_validate(e->cast_to, c->err);
      if (st != GF_OK) {
        free_kids(c, k, 1);
        return st;
      }
      if (gf_type_equals(k[0]->type, e->cast_to)) {
        *out = k[0];
        return GF_OK;
      }
      if (is_null_scalar(k[0])) {
        retype_null(k[0], e->cast_to);
        *out = k[0];
        return GF_OK;
      }
      return make(c, GFI_B_CAST, e->cast_to, k, 1, out);
    }
    case GF_EXPR_BETWEEN: {
      /* lo <= x and x <= hi */
      gfi_bnode *x2 = NULL, *ge = NULL, *le = NULL;
      gf_status st = clone(c, k[0], &x2);
      if (st != GF_OK) {
        free_kids(c, k, 3);
        return st;
      }
      st = cmp_of(c, e, GF_OP_GE, k[0], k[1], &ge);
      if (st != GF_OK) {
        node_free(c->a, x2);
        node_free(c->a, k[2]);
        return st;
      }
      st = cmp_of(c, e, GF_OP_LE, x2, k[2], &le);
      if (st != GF_OK) {
        node_free(c->a, ge);
        return st;
      }
      gfi_bnode *kk[2] = {ge, le};
      return make(c, GFI_B_AND, gf_type(GF_TYPE_BOOL), kk, 2, out);
    }
    case GF_EXPR_IN: return bind_in(c, e, k, out);
  }
  free_kids(c, k, e->nargs);
  return gf_error_set(c->err, GF_EINTERNAL, "unknown expression kind");
}

/* One expression node waiting for its arguments on bind_tree's stack. */
typedef struct bframe {
  const gf_expr *e;
  int next;          /* arguments bound so far */
  gfi_bnode **heap;  /* argument slots when more than 3 (IN), else NULL */
  gfi_bnode *small[3];
} bframe;

static gfi_bnode **frame_kids(bframe *f) { return f->heap ? f->heap : f->small; }

/* Pushes a frame for e (checking a call's name and arity first). */
static gf_status push_frame(bctx *c, gfi_vec *stk, const gf_expr *e) {
  bframe f;
  memset(&f, 0, sizeof f);
  f.e = e;
  if (e->kind == GF_EXPR_CALL) {
    const fn_info *fi;
    GF_RETURN_NOT_OK(call_info(c, e, &fi));
  }
  if (e->nargs > 3) {
    f.heap = gfi_calloc(c->a, sizeof *f.heap * (size_t)e->nargs);
    if (!f.heap) return GF_OOM(c->err, "an in-list");
  }
  gf_status st = gfi_vec_append(stk, &f, sizeof f, c->err);
  if (st != GF_OK && f.heap) gfi_mfree(c->a, f.heap, sizeof *f.heap * (size_t)e->nargs);
  return st;
}

/* Binds the tree under e without recursion: a post-order walk over an
 * explicit stack of bframes (one per level of the current path, on the
 * heap), so a flat chain of any length binds on a small thread stack.
 * Arguments bind left to right, so the first error in text order wins. */
static gf_status bind_tree(bctx *c, const gf_expr *e, gfi_bnode **out) {
  gfi_vec stk;
  gfi_vec_init(&stk, c->a);
  gfi_bnode *result = NULL;
  gf_status st = push_frame(c, &stk, e);
  while (st == GF_OK && stk.len > 0) {
    bframe *f = (bframe *)(void *)(stk.data + stk.len - sizeof(bframe));
    if (f->next < f->e->nargs) {
      st = push_frame(c, &stk, f->e->args[f->next]);
      continue;
    }
    gfi_bnode *r = NULL;
    const gf_expr *fe = f->e;
    gfi_bnode **kids = frame_kids(f);
    st = bind_one(c, fe, kids, &r);
    if (f->heap) gfi_mfree(c->a, f->heap, sizeof *f->heap * (size_t)fe->nargs);
    stk.len -= sizeof(bframe);
    if (st != GF_OK) break;
    if (stk.len == 0) {
      result = r;
      break;
    }
    bframe *parent = (bframe *)(void *)(stk.data + stk.len - sizeof(bframe));
    frame_kids(parent)[parent->next++] = r;
  }
  /* On failure: free what the pending frames hold. */
  while (stk.len > 0) {
    bframe *f = (bframe *)(void *)(stk.data + stk.len - sizeof(bframe));
    free_kids(c, frame_kids(f), f->next);
    if (f->heap) gfi_mfree(c->a, f->heap, sizeof *f->heap * (size_t)f->e->nargs);
    stk.len -= sizeof(bframe);
  }
  gfi_vec_reset(&stk);
  if (st != GF_OK) return st;
  *out = result;
  return GF_OK;
}

gf_status gfi_expr_bind(const gf_expr *e, const gf_schema *schema,
                        const gf_allocator *a, gf_bound_expr **out,
                        gf_error *err) {
  if (!e || !schema || !out)
    return gf_error_set(err, GF_EINVAL, "gf_expr_bind: NULL argument");
  bctx c = {schema, gfi_alloc_or_default(a), err};
  gf_bound_expr *b = gfi_calloc(c.a, sizeof *b);
  if (!b) return GF_OOM(err, "bound expression");
  gf_status st = bind_tree(&c, e, &b->root);
  if (st != GF_OK) {
    gfi_mfree(c.a, b, sizeof *b);
    return st;
  }
  b->expr = gf_expr_retain((gf_expr *)e);
  b->alloc = c.a;
  b->ncols = gf_schema_num_fields(schema);
  *out = b;
  return GF_OK;
}

gf_status gf_expr_bind(const gf_expr *e, const gf_schema *schema,
                       gf_bound_expr **out, gf_error *err) {
  return gfi_expr_bind(e, schema, NULL, out, err);
}

void gf_bound_expr_free(gf_bound_expr *b) {
  if (!b) return;
  node_free(b->alloc, b->root);
  gf_expr_release(b->expr);
  gfi_mfree(b->alloc, b, sizeof *b);
}

gf_datatype gf_bound_expr_type(const gf_bound_expr *b) { return b->root->type; }

gf_status gf_expr_result_type(const gf_expr *e, const gf_schema *schema,
                              gf_datatype *out, gf_error *err) {
  gf_bound_expr *b;
  GF_RETURN_NOT_OK(gf_expr_bind(e, schema, &b, err));
  if (out) *out = gf_bound_expr_type(b);
  gf_bound_expr_free(b);
  return GF_OK;
}
