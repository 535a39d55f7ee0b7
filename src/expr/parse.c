/*
 * The expression parser: a hand-written lexer and recursive-descent parser
 * for the syntax of `gf query` (grammar and precedence in expr.h). Errors
 * carry the 1-based byte column of the offending token.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "expr/expr_internal.h"

typedef enum tok_kind {
  T_END = 0, T_INT, T_FLOAT, T_STRING, T_IDENT, T_QIDENT, T_LPAREN, T_RPAREN,
  T_COMMA, T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT, T_EQ, T_NE, T_LT,
  T_LE, T_GT, T_GE
} tok_kind;

typedef struct token {
  tok_kind kind;
  size_t pos;  /* byte offset of the first character */
  size_t len;  /* bytes of source text */
  uint64_t u;  /* T_INT magnitude */
  bool int_overflow;
  double f;    /* T_FLOAT */
  char *text;  /* T_STRING / T_QIDENT unescaped (default allocator) */
  size_t text_len;
  size_t text_cap; /* bytes allocated for text, to free it */
} token;

#define MAX_DEPTH 512

/* The message helpers and the identifier path keep their buffers out of
 * the frames of the recursive descent: inlined, they made each level of
 * parentheses cost ~5 KiB of stack, so 512 levels did not fit a 256 KiB
 * thread stack. */
#define GFI_COLD __attribute__((noinline, cold))
#define GFI_NOINLINE __attribute__((noinline))

typedef struct parser {
  const char *src;
  size_t n;
  token tok;    /* current token */
  gf_error *err;
  gf_status st; /* first error */
  int depth;
  size_t cur;   /* scan position */
} parser;

GFI_COLD static gf_status fail_at(parser *p, size_t pos, const char *fmt, const char *what) {
  if (p->st == GF_OK) {
    char msg[600];
    snprintf(msg, sizeof msg, fmt, what);
    p->st = gf_error_set(p->err, GF_EPARSE, "at column %zu: %s", pos + 1, msg);
  }
  return p->st;
}

static gf_status oom(parser *p) {
  if (p->st == GF_OK) p->st = GF_OOM(p->err, "expression");
  return p->st;
}

/* Height of a subtree (0 for NULL). */
static int h_of(const gf_expr *e) { return e ? gfi_expr_height(e) : 0; }

/* True (and the parse failed at `pos`) when a node over children of
 * heights up to `h` would be deeper than the tree constructors allow: a
 * flat chain of thousands of terms is refused here with a message instead
 * of overflowing the stack in every pass that walks the tree. */
static bool too_deep_fail(parser *p, size_t pos);

static bool too_deep(parser *p, size_t pos, int h) {
  if (h + 1 <= GFI_EXPR_MAX_HEIGHT) return false;
  return too_deep_fail(p, pos);
}

GFI_COLD static bool too_deep_fail(parser *p, size_t pos) {
  char what[200];
  snprintf(what, sizeof what,
           "expression too deep (more than %d levels of operators or calls; "
           "split a long chain into several steps, or write a = 1 or a = 2 ... as a in (1, 2, ...))",
           GFI_EXPR_MAX_HEIGHT);
  fail_at(p, pos, "%s", what);
  return true;
}

/* Reads a quoted run starting at p->src[pos] == q, the quote doubled
 * inside. Fills tok->text. */
static gf_status lex_quoted(parser *p, size_t pos, char q, token *t) {
  size_t i = pos + 1;
  size_t cap = p->n - pos + 1;
  char *buf = gfi_malloc(NULL, cap);
  if (!buf) return oom(p);
  size_t k = 0;
  for (;;) {
    if (i >= p->n) {
      gfi_mfree(NULL, buf, cap);
      return fail_at(p, pos, "%s", q == '\'' ? "unterminated string literal"
                                             : "unterminated quoted name");
    }
    if (p->src[i] == q) {
      if (i + 1 < p->n && p->src[i + 1] == q) {
        buf[k++] = q;
        i += 2;
        continue;
      }
      i++;
      break;
    }
    buf[k++] = p->src[i++];
  }
  buf[k] = 0;
  t->text = buf;
  t->text_len = k;
  t->text_cap = cap;
  t->len = i - pos;
  return GF_OK;
}

/* Scans the next token into p->tok (freeing the previous one's text). */
GFI_NOINLINE static gf_status next(parser *p) {
  gfi_mfree(NULL, p->tok.text, p->tok.text_cap);
  memset(&p->tok, 0, sizeof p->tok);
  const char *s = p->src;
  size_t i = p->cur;
  while (i < p->n && isspace((unsigned char)s[i])) i++;
  token *t = &p->tok;
  t->pos = i;
  if (i >= p->n) {
    t->kind = T_END;
    p->cur = i;
    return GF_OK;
  }
  char c = s[i];
  size_t len = 1;
  if (isdigit((unsigned char)c) ||
      (c == '.' && i + 1 < p->n && isdigit((unsigned char)s[i + 1]))) {
    size_t j = i;
    bool is_float = false;
    while (j < p->n && isdigit((unsigned char)s[j])) j++;
    if (j < p->n && s[j] == '.') {
      is_float = true;
      j++;
      while (j < p->n && isdigit((unsigned char)s[j])) j++;
    }
    if (j < p->n && (s[j] == 'e' || s[j] == 'E')) {
      size_t k = j + 1;
      if (k < p->n && (s[k] == '+' || s[k] == '-')) k++;
      if (k < p->n && isdigit((unsigned char)s[k])) {
        is_float = true;
        j = k;
        while (j < p->n && isdigit((unsigned char)s[j])) j++;
      }
    }
    if (j < p->n && (isalpha((unsigned char)s[j]) || s[j] == '_'))
      return fail_at(p, j, "%s", "malformed number");
    len = j - i;
    if (is_float) {
      char tmp[128];
      if (len >= sizeof tmp) return fail_at(p, i, "%s", "number too long");
      memcpy(tmp, s + i, len);
      tmp[len] = 0;
      t->kind = T_FLOAT;
      t->f = gfi_strtod(tmp, NULL);
      /* A literal that overflows to infinity has no text gf_expr_to_string
       * could print back as a literal, so it is refused like an integer
       * literal out of range (found by fuzz_expr). */
      if (isinf(t->f)) return fail_at(p, i, "%s", "float literal out of range");
    } else {
      t->kind = T_INT;
      uint64_t v = 0;
      for (size_t k = i; k < j; k++) {
        unsigned d = (unsigned)(s[k] - '0');
        if (v > (UINT64_MAX - d) / 10) t->int_overflow = true;
        v = v * 10 + d;
      }
      t->u = v;
    }
  } else if (isalpha((unsigned char)c) || c == '_') {
    size_t j = i;
    while (j < p->n && (isalnum((unsigned char)s[j]) || s[j] == '_')) j++;
    t->kind = T_IDENT;
    len = j - i;
  } else if (c == '\'' || c == '"' || c == '`') {
    t->kind = c == '\'' ? T_STRING : T_QIDENT;
    GF_RETURN_NOT_OK(lex_quoted(p, i, c, t));
    len = t->len;
  } else {
    char d = i + 1 < p->n ? s[i + 1] : 0;
    switch (c) {
      case '(': t->kind = T_LPAREN; break;
      case ')': t->kind = T_RPAREN; break;
      case ',': t->kind = T_COMMA; break;
      case '+': t->kind = T_PLUS; break;
      case '-': t->kind = T_MINUS; break;
      case '*': t->kind = T_STAR; break;
      case '/': t->kind = T_SLASH; break;
      case '%': t->kind = T_PERCENT; break;
      case '=':
        t->kind = T_EQ;
        if (d == '=') len = 2;
        break;
      case '!':
        if (d != '=') return fail_at(p, i, "%s", "unexpected character '!'");
        t->kind = T_NE;
        len = 2;
        break;
      case '<':
        t->kind = d == '=' ? T_LE : d == '>' ? T_NE : T_LT;
        if (d == '=' || d == '>') len = 2;
        break;
      case '>':
        t->kind = d == '=' ? T_GE : T_GT;
        if (d == '=') len = 2;
        break;
      default: {
        char what[40];
        if (isprint((unsigned char)c))
          snprintf(what, sizeof what, "unexpected character '%c'", c);
        else
          snprintf(what, sizeof what, "unexpected byte 0x%02x", (unsigned char)c);
        return fail_at(p, i, "%s", what);
      }
    }
  }
  t->len = len;
  p->cur = i + len;
  return GF_OK;
}

/* True when the current token is the (case-insensitive) keyword `kw`. */
static bool is_kw(const parser *p, const char *kw) {
  if (p->tok.kind != T_IDENT) return false;
  size_t n = strlen(kw);
  if (p->tok.len != n) return false;
  for (size_t i = 0; i < n; i++)
    if (tolower((unsigned char)p->src[p->tok.pos + i]) != kw[i]) return false;
  return true;
}

static gf_status expect(parser *p, tok_kind k, const char *what) {
  if (p->tok.kind != k) return fail_at(p, p->tok.pos, "expected %s", what);
  return next(p);
}

static gf_status parse_or(parser *p, gf_expr **out);

/* Parses a comma-separated list of expressions up to ')' (consumed) into
 * `items` (a gfi_vec of gf_expr *, initialised here). On failure the
 * expressions are released and the vector is empty. */
static gf_status parse_list(parser *p, gfi_vec *items) {
  gfi_vec_init(items, NULL);
  for (;;) {
    gf_expr *e = NULL;
    if (parse_or(p, &e) != GF_OK) goto fail;
    if (gfi_vec_append(items, &e, sizeof e, NULL) != GF_OK) {
      gf_expr_release(e);
      oom(p);
      goto fail;
    }
    if (p->tok.kind == T_COMMA) {
      if (next(p) != GF_OK) goto fail;
      continue;
    }
    if (p->tok.kind == T_RPAREN) {
      if (next(p) != GF_OK) goto fail;
      break;
    }
    fail_at(p, p->tok.pos, "expected %s", "',' or ')'");
    goto fail;
  }
  return GF_OK;
fail:;
  gf_expr **v = (gf_expr **)items->data;
  for (size_t i = 0; i < items->len / sizeof *v; i++) gf_expr_release(v[i]);
  gfi_vec_reset(items);
  return p->st;
}

/* Type name of cast(x as NAME). */
static bool type_from_name(const char *s, size_t n, gf_datatype *t) {
  static const struct { const char *name; gf_type_id id; } names[] = {
      {"int8", GF_TYPE_INT8}, {"int16", GF_TYPE_INT16},
      {"int32", GF_TYPE_INT32}, {"int64", GF_TYPE_INT64},
      {"int", GF_TYPE_INT64}, {"integer", GF_TYPE_INT64},
      {"bigint", GF_TYPE_INT64}, {"uint8", GF_TYPE_UINT8},
      {"uint16", GF_TYPE_UINT16}, {"uint32", GF_TYPE_UINT32},
      {"uint64", GF_TYPE_UINT64}, {"float32", GF_TYPE_FLOAT32},
      {"float64", GF_TYPE_FLOAT64}, {"float", GF_TYPE_FLOAT64},
      {"double", GF_TYPE_FLOAT64}, {"utf8", GF_TYPE_UTF8},
      {"string", GF_TYPE_UTF8}, {"str", GF_TYPE_UTF8},
      {"text", GF_TYPE_UTF8}, {"varchar", GF_TYPE_UTF8},
      {"large_utf8", GF_TYPE_LARGE_UTF8}, {"bool", GF_TYPE_BOOL},
      {"boolean", GF_TYPE_BOOL}, {"date", GF_TYPE_DATE32},
      {"date32", GF_TYPE_DATE32}, {"date64", GF_TYPE_DATE64},
      {"timestamp", GF_TYPE_TIMESTAMP}, {"decimal", GF_TYPE_DECIMAL128},
      {"numeric", GF_TYPE_DECIMAL128}, {"decimal128", GF_TYPE_DECIMAL128},
      {"decimal256", GF_TYPE_DECIMAL256}};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    if (strlen(names[k].name) != n) continue;
    bool same = true;
    for (size_t i = 0; i < n; i++)
      if (tolower((unsigned char)s[i]) != names[k].name[i]) same = false;
    if (!same) continue;
    *t = names[k].id == GF_TYPE_TIMESTAMP
             ? gf_type_timestamp(GF_UNIT_MICRO, false, 0)
             : gf_type(names[k].id);
    return true;
  }
  return false;
}

/* See expr.h. */
bool gf_type_from_name(const char *name, gf_datatype *out) {
  if (!name || !out) return false;
  size_t n = strcspn(name, "(");
  while (n > 0 && name[n - 1] == ' ') n--;
  gf_datatype t;
  if (!type_from_name(name, n, &t)) return false;
  const char *rest = name + n;
  while (*rest == ' ') rest++;
  if (*rest == '\0') {
    /* A bare decimal is the widest with scale 0, as in a cast. */
    if (t.id == GF_TYPE_DECIMAL128) t = gf_type_decimal128(38, 0);
    if (t.id == GF_TYPE_DECIMAL256) t = gf_type_decimal256(76, 0);
    *out = t;
    return true;
  }
  /* "decimal(P, S)" / "decimal(P)": the precision and scale checked here,
   * as the binder checks a cast's. */
  if (t.id != GF_TYPE_DECIMAL128 && t.id != GF_TYPE_DECIMAL256) return false;
  int prec = 0, scale = 0, used = 0;
  if (sscanf(rest, "( %d , %d ) %n", &prec, &scale, &used) != 2 || rest[used] != '\0') {
    scale = 0;
    used = 0;
    if (sscanf(rest, "( %d ) %n", &prec, &used) != 1 || rest[used] != '\0') return false;
  }
  int maxp = t.id == GF_TYPE_DECIMAL128 ? 38 : 76;
  if (prec < 1 || prec > maxp || scale < 0 || scale > prec) return false;
  *out = t.id == GF_TYPE_DECIMAL128 ? gf_type_decimal128(prec, scale)
                                    : gf_type_decimal256(prec, scale);
  return true;
}

static bool gfi_is_decimal_id(gf_type_id id) {
  return id == GF_TYPE_DECIMAL128 || id == GF_TYPE_DECIMAL256;
}

/* The "(precision[, scale])" after decimal in a cast (the current token
 * is the one after the type name): a missing scale is 0, a missing list
 * is decimal(38, 0) (decimal256: 76). Ranges are checked by the binder. */
static gf_status decimal_params(parser *p, gf_datatype *t) {
  int32_t prec = t->id == GF_TYPE_DECIMAL128 ? 38 : 76, scale = 0;
  if (p->tok.kind == T_LPAREN) {
    GF_RETURN_NOT_OK(next(p));
    if (p->tok.kind != T_INT || p->tok.u > 1000)
      return fail_at(p, p->tok.pos, "expected %s", "a decimal precision (1 to 76)");
    prec = (int32_t)p->tok.u;
    GF_RETURN_NOT_OK(next(p));
    if (p->tok.kind == T_COMMA) {
      GF_RETURN_NOT_OK(next(p));
      if (p->tok.kind != T_INT || p->tok.u > 1000)
        return fail_at(p, p->tok.pos, "expected %s", "a decimal scale (0 to the precision)");
      scale = (int32_t)p->tok.u;
      GF_RETURN_NOT_OK(next(p));
    }
    GF_RETURN_NOT_OK(expect(p, T_RPAREN, "')'"));
  }
  *t = t->id == GF_TYPE_DECIMAL128 ? gf_type_decimal128(prec, scale)
                                   : gf_type_decimal256(prec, scale);
  return GF_OK;
}

/* Makes `e` a new node or reports out of memory. */
static gf_status got(parser *p, gf_expr *e, gf_expr **out) {
  if (!e) return oom(p);
  *out = e;
  return GF_OK;
}

/* Stores node `e` in *out after reading the token that follows it; on any
 * failure (no node, bad next token) *out is untouched and `e` released. */
static gf_status got_then_next(parser *p, gf_expr *e, gf_expr **out) {
  if (!e) return oom(p);
  gf_status st = next(p);
  if (st != GF_OK) {
    gf_expr_release(e);
    return st;
  }
  *out = e;
  return GF_OK;
}

/* parse_primary without cleanup: it may store a new node in *out and then
 * fail while reading the following token; parse_primary drops that node. */
static gf_status parse_ident(parser *p, gf_expr **out);

static gf_status parse_primary_node(parser *p, gf_expr **out) {
  token *t = &p->tok;
  size_t pos = t->pos;
  switch (t->kind) {
    case T_INT:
      if (t->int_overflow || t->u > (uint64_t)INT64_MAX)
        return fail_at(p, pos, "%s", "integer literal out of range");
      GF_RETURN_NOT_OK(got(p, gf_lit_int64((int64_t)t->u), out));
      return next(p);
    case T_FLOAT:
      GF_RETURN_NOT_OK(got(p, gf_lit_double(t->f), out));
      return next(p);
    case T_STRING:
      GF_RETURN_NOT_OK(got(p, gf_lit_bytes(t->text, (int64_t)t->text_len), out));
      return next(p);
    case T_QIDENT:
      if (t->text_len == 0) return fail_at(p, pos, "%s", "empty column name");
      if (memchr(t->text, 0, t->text_len))
        return fail_at(p, pos, "%s", "NUL byte in a column name");
      GF_RETURN_NOT_OK(got(p, gf_col(t->text), out));
      return next(p);
    case T_LPAREN: {
      GF_RETURN_NOT_OK(next(p));
      gf_expr *e = NULL;
      GF_RETURN_NOT_OK(parse_or(p, &e));
      if (expect(p, T_RPAREN, "')'") != GF_OK) {
        gf_expr_release(e);
        return p->st;
      }
      *out = e;
      return GF_OK;
    }
    case T_IDENT: return parse_ident(p, out);
    default: return fail_at(p, pos, "expected %s", "an expression");
  }
}

/* A keyword literal, column name, call or cast starting at identifier
 * p->tok (out of parse_primary_node so that its name buffer is not in the
 * frame of every level of parentheses). */
GFI_NOINLINE static gf_status parse_ident(parser *p, gf_expr **out) {
  token *t = &p->tok;
  size_t pos = t->pos;
  if (is_kw(p, "true") || is_kw(p, "false")) {
    GF_RETURN_NOT_OK(got(p, gf_lit_bool(is_kw(p, "true")), out));
    return next(p);
  }
  if (is_kw(p, "null")) {
    GF_RETURN_NOT_OK(got(p, gf_lit_null(), out));
    return next(p);
  }
  static const char *const reserved[] = {"and", "or", "not", "is", "between",
                                         "in", "as", NULL};
  for (int k = 0; reserved[k]; k++)
    if (is_kw(p, reserved[k])) return fail_at(p, pos, "expected %s", "an expression");
  char name[256];
  size_t nlen = t->len < sizeof name ? t->len : sizeof name - 1;
  memcpy(name, p->src + pos, nlen);
  name[nlen] = 0;
  bool is_date = is_kw(p, "date"), is_cast = is_kw(p, "cast");
  GF_RETURN_NOT_OK(next(p));
  if (is_date && t->kind == T_STRING) {
    int64_t days;
    if (!gfi_parse_date(t->text, (int64_t)t->text_len, &days) ||
        days < INT32_MIN || days > INT32_MAX)
      return fail_at(p, t->pos, "%s", "invalid date literal (expected 'YYYY-MM-DD')");
    GF_RETURN_NOT_OK(got(p, gf_lit_date((int32_t)days), out));
    return next(p);
  }
  if (t->kind != T_LPAREN) {
    if (t->len >= sizeof name) return fail_at(p, pos, "%s", "identifier too long");
    return got(p, gf_col(name), out);
  }
  GF_RETURN_NOT_OK(next(p));
  if (is_cast) {
    gf_expr *x = NULL;
    GF_RETURN_NOT_OK(parse_or(p, &x));
    gf_datatype ty;
    if (!is_kw(p, "as")) {
      gf_expr_release(x);
      return fail_at(p, t->pos, "expected %s", "'as'");
    }
    if (next(p) != GF_OK || t->kind != T_IDENT) {
      gf_expr_release(x);
      return fail_at(p, t->pos, "expected %s", "a type name");
    }
    if (!type_from_name(p->src + t->pos, t->len, &ty)) {
      char tn[64];
      size_t l = t->len < sizeof tn ? t->len : sizeof tn - 1;
      memcpy(tn, p->src + t->pos, l);
      tn[l] = 0;
      gf_expr_release(x);
      return fail_at(p, t->pos, "unknown type '%s'", tn);
    }
    if (next(p) != GF_OK || (gfi_is_decimal_id(ty.id) && decimal_params(p, &ty) != GF_OK) ||
        expect(p, T_RPAREN, "')'") != GF_OK || too_deep(p, pos, h_of(x))) {
      gf_expr_release(x);
      return p->st;
    }
    return got(p, gf_cast(x, ty), out);
  }
  gfi_vec list;
  gfi_vec_init(&list, NULL);
  if (t->kind == T_RPAREN) {
    GF_RETURN_NOT_OK(next(p));
  } else {
    GF_RETURN_NOT_OK(parse_list(p, &list));
  }
  gf_expr **args = (gf_expr **)list.data;
  int n = (int)(list.len / sizeof *args);
  int h = 0;
  for (int i = 0; i < n; i++) h = h_of(args[i]) > h ? h_of(args[i]) : h;
  if (t->len >= sizeof name || too_deep(p, pos, h)) {
    for (int i = 0; i < n; i++) gf_expr_release(args[i]);
    gfi_vec_reset(&list);
    return p->st != GF_OK ? p->st : fail_at(p, pos, "%s", "identifier too long");
  }
  gf_expr *e = gf_call(name, args, n);
  gfi_vec_reset(&list);
  return got(p, e, out);
}

/* A primary expression (literal, column, call, cast, parenthesised). On
 * failure *out is untouched and nothing leaks, also when the node was built
 * and the token after it is invalid (found by fuzz_expr). */
static gf_status parse_primary(parser *p, gf_expr **out) {
  gf_expr *e = NULL;
  gf_status st = parse_primary_node(p, &e);
  if (st != GF_OK) {
    gf_expr_release(e);
    return st;
  }
  *out = e;
  return GF_OK;
}

/* A run of signs, then a primary. Iterative (a run of 100,000 '-' reads on
 * a small stack): the signs are counted, the primary parsed, then the
 * negations applied innermost first. A '-' right before a number makes a
 * negative literal, so INT64_MIN is writable. */
static gf_status parse_unary(parser *p, gf_expr **out) {
  if (p->tok.kind != T_MINUS && p->tok.kind != T_PLUS) return parse_primary(p, out);
  gfi_vec signs; /* one byte per sign: 1 for '-', 0 for '+'; positions too */
  gfi_vec_init(&signs, NULL);
  gfi_vec at;
  gfi_vec_init(&at, NULL);
  gf_expr *x = NULL;
  while (p->tok.kind == T_MINUS || p->tok.kind == T_PLUS) {
    uint8_t neg = p->tok.kind == T_MINUS;
    size_t pos = p->tok.pos;
    if (gfi_vec_append(&signs, &neg, 1, NULL) != GF_OK ||
        gfi_vec_append(&at, &pos, sizeof pos, NULL) != GF_OK) {
      oom(p);
      goto done;
    }
    if (next(p) != GF_OK) goto done;
  }
  size_t n = signs.len;
  if (signs.data[n - 1] && p->tok.kind == T_INT) {
    if (p->tok.int_overflow || p->tok.u > (uint64_t)INT64_MAX + 1) {
      fail_at(p, p->tok.pos, "%s", "integer literal out of range");
      goto done;
    }
    int64_t v = p->tok.u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)p->tok.u;
    if (got_then_next(p, gf_lit_int64(v), &x) != GF_OK) goto done;
    n--;
  } else if (signs.data[n - 1] && p->tok.kind == T_FLOAT) {
    if (got_then_next(p, gf_lit_double(-p->tok.f), &x) != GF_OK) goto done;
    n--;
  } else if (parse_primary(p, &x) != GF_OK) {
    goto done;
  }
  while (n > 0) {
    n--;
    if (!signs.data[n]) continue;
    size_t pos;
    memcpy(&pos, at.data + n * sizeof pos, sizeof pos);
    if (too_deep(p, pos, h_of(x))) break;
    gf_expr *y = NULL;
    if (got(p, gf_neg(x), &y) != GF_OK) {
      x = NULL; /* gf_neg released it */
      break;
    }
    x = y;
  }
done:
  gfi_vec_reset(&signs);
  gfi_vec_reset(&at);
  if (p->st != GF_OK) {
    gf_expr_release(x);
    return p->st;
  }
  *out = x;
  return GF_OK;
}

/* Left-associative binary level: operand parser `sub`, operators from
 * `toks`/`ops` (n of them). */
static gf_status parse_left(parser *p, gf_expr **out,
                            gf_status (*sub)(parser *, gf_expr **),
                            const tok_kind *toks, const gf_op *ops, int n) {
  gf_expr *lhs = NULL;
  GF_RETURN_NOT_OK(sub(p, &lhs));
  for (;;) {
    int k = 0;
    while (k < n && p->tok.kind != toks[k]) k++;
    if (k == n) break;
    gf_expr *rhs = NULL;
    size_t at = p->tok.pos;
    if (next(p) != GF_OK || sub(p, &rhs) != GF_OK ||
        too_deep(p, at, h_of(lhs) > h_of(rhs) ? h_of(lhs) : h_of(rhs))) {
      gf_expr_release(lhs);
      gf_expr_release(rhs);
      return p->st;
    }
    lhs = gf_binary(ops[k], lhs, rhs);
    if (!lhs) return oom(p);
  }
  *out = lhs;
  return GF_OK;
}

static gf_status parse_mul(parser *p, gf_expr **out) {
  static const tok_kind toks[] = {T_STAR, T_SLASH, T_PERCENT};
  static const gf_op ops[] = {GF_OP_MUL, GF_OP_DIV, GF_OP_MOD};
  return parse_left(p, out, parse_unary, toks, ops, 3);
}

static gf_status parse_add(parser *p, gf_expr **out) {
  static const tok_kind toks[] = {T_PLUS, T_MINUS};
  static const gf_op ops[] = {GF_OP_ADD, GF_OP_SUB};
  return parse_left(p, out, parse_mul, toks, ops, 2);
}

static gf_status parse_cmp(parser *p, gf_expr **out) {
  gf_expr *x = NULL;
  GF_RETURN_NOT_OK(parse_add(p, &x));
  static const tok_kind toks[] = {T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE};
  static const gf_op ops[] = {GF_OP_EQ, GF_OP_NE, GF_OP_LT,
                              GF_OP_LE, GF_OP_GT, GF_OP_GE};
  for (int k = 0; k < 6; k++) {
    if (p->tok.kind != toks[k]) continue;
    gf_expr *y = NULL;
    size_t at = p->tok.pos;
    if (next(p) != GF_OK || parse_add(p, &y) != GF_OK ||
        too_deep(p, at, h_of(x) > h_of(y) ? h_of(x) : h_of(y))) {
      gf_expr_release(x);
      gf_expr_release(y);
      return p->st;
    }
    return got(p, gf_binary(ops[k], x, y), out);
  }
  if (is_kw(p, "is")) {
    if (next(p) != GF_OK) goto fail;
    bool negated = false;
    if (is_kw(p, "not")) {
      negated = true;
      if (next(p) != GF_OK) goto fail;
    }
    if (!is_kw(p, "null")) {
      fail_at(p, p->tok.pos, "expected %s", negated ? "'null'" : "'null' or 'not null'");
      goto fail;
    }
    if (next(p) != GF_OK || too_deep(p, p->tok.pos, h_of(x))) goto fail;
    return got(p, negated ? gf_is_not_null(x) : gf_is_null(x), out);
  }
  bool negated = false;
  if (is_kw(p, "not")) {
    negated = true;
    if (next(p) != GF_OK) goto fail;
    if (!is_kw(p, "between") && !is_kw(p, "in")) {
      fail_at(p, p->tok.pos, "expected %s", "'between' or 'in'");
      goto fail;
    }
  }
  if (is_kw(p, "between")) {
    gf_expr *lo = NULL, *hi = NULL;
    if (next(p) != GF_OK || parse_add(p, &lo) != GF_OK) goto fail;
    if (!is_kw(p, "and")) {
      gf_expr_release(lo);
      fail_at(p, p->tok.pos, "expected %s", "'and'");
      goto fail;
    }
    if (next(p) != GF_OK || parse_add(p, &hi) != GF_OK) {
      gf_expr_release(lo);
      goto fail;
    }
    int h = h_of(x);
    h = h_of(lo) > h ? h_of(lo) : h;
    h = h_of(hi) > h ? h_of(hi) : h;
    if (too_deep(p, p->tok.pos, h + negated)) {
      gf_expr_release(lo);
      gf_expr_release(hi);
      goto fail;
    }
    gf_expr *e = gf_between(x, lo, hi);
    if (negated) e = gf_not(e);
    return got(p, e, out);
  }
  if (is_kw(p, "in")) {
    gfi_vec list;
    if (next(p) != GF_OK) goto fail;
    if (p->tok.kind != T_LPAREN) {
      fail_at(p, p->tok.pos, "expected %s", "'('");
      goto fail;
    }
    if (next(p) != GF_OK || parse_list(p, &list) != GF_OK) goto fail;
    gf_expr **items = (gf_expr **)list.data;
    int n = (int)(list.len / sizeof(gf_expr *));
    int h = h_of(x);
    for (int i = 0; i < n; i++) h = h_of(items[i]) > h ? h_of(items[i]) : h;
    if (too_deep(p, p->tok.pos, h + negated)) {
      for (int i = 0; i < n; i++) gf_expr_release(items[i]);
      gfi_vec_reset(&list);
      goto fail;
    }
    gf_expr *e = gf_in(x, items, n);
    gfi_vec_reset(&list);
    if (negated) e = gf_not(e);
    return got(p, e, out);
  }
  *out = x;
  return GF_OK;
fail:
  gf_expr_release(x);
  return p->st;
}

/* A run of 'not', then a comparison; iterative like parse_unary. */
static gf_status parse_not(parser *p, gf_expr **out) {
  if (!is_kw(p, "not")) return parse_cmp(p, out);
  gfi_vec at;
  gfi_vec_init(&at, NULL);
  gf_expr *x = NULL;
  while (is_kw(p, "not")) {
    if (next(p) != GF_OK) goto done; /* the position: of the operand */
    size_t pos = p->tok.pos;
    if (gfi_vec_append(&at, &pos, sizeof pos, NULL) != GF_OK) {
      oom(p);
      goto done;
    }
  }
  if (parse_cmp(p, &x) != GF_OK) goto done;
  for (size_t n = at.len / sizeof(size_t); n > 0; n--) {
    size_t pos;
    memcpy(&pos, at.data + (n - 1) * sizeof pos, sizeof pos);
    if (too_deep(p, pos, h_of(x))) break;
    gf_expr *y = NULL;
    if (got(p, gf_not(x), &y) != GF_OK) {
      x = NULL;
      break;
    }
    x = y;
  }
done:
  gfi_vec_reset(&at);
  if (p->st != GF_OK) {
    gf_expr_release(x);
    return p->st;
  }
  *out = x;
  return GF_OK;
}

/* AND / OR levels: keyword operators. */
static gf_status parse_kw_level(parser *p, gf_expr **out, const char *kw,
                                gf_op op, gf_status (*sub)(parser *, gf_expr **)) {
  gf_expr *lhs = NULL;
  GF_RETURN_NOT_OK(sub(p, &lhs));
  while (is_kw(p, kw)) {
    gf_expr *rhs = NULL;
    size_t at = p->tok.pos;
    if (next(p) != GF_OK || sub(p, &rhs) != GF_OK ||
        too_deep(p, at, h_of(lhs) > h_of(rhs) ? h_of(lhs) : h_of(rhs))) {
      gf_expr_release(lhs);
      gf_expr_release(rhs);
      return p->st;
    }
    lhs = gf_binary(op, lhs, rhs);
    if (!lhs) return oom(p);
  }
  *out = lhs;
  return GF_OK;
}

static gf_status parse_and(parser *p, gf_expr **out) {
  return parse_kw_level(p, out, "and", GF_OP_AND, parse_not);
}

static gf_status parse_or(parser *p, gf_expr **out) {
  if (++p->depth > MAX_DEPTH)
    return fail_at(p, p->tok.pos, "%s", "expression nested too deeply");
  gf_status st = parse_kw_level(p, out, "or", GF_OP_OR, parse_and);
  p->depth--;
  return st;
}

gf_status gf_expr_parse(const char *text, gf_expr **out, gf_error *err) {
  if (!text || !out)
    return gf_error_set(err, GF_EINVAL, "gf_expr_parse: NULL argument");
  parser p;
  memset(&p, 0, sizeof p);
  p.src = text;
  p.n = strlen(text);
  p.err = err;
  gf_expr *e = NULL;
  if (next(&p) == GF_OK && parse_or(&p, &e) == GF_OK && p.tok.kind != T_END) {
    gf_expr_release(e);
    e = NULL;
    fail_at(&p, p.tok.pos, "expected %s", "end of input");
  }
  gfi_mfree(NULL, p.tok.text, p.tok.text_cap);
  if (p.st != GF_OK) return p.st;
  *out = e;
  return GF_OK;
}
