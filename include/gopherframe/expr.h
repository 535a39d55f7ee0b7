/*
 * gopherframe/expr.h - expressions: constructors, parser, binding and
 * vectorised evaluation (gf_filter, gf_select, gf_with_columns: query.h).
 * Part of <gopherframe.h>; include that instead.
 */
#ifndef GOPHERFRAME_EXPR_H
#define GOPHERFRAME_EXPR_H

#include "data.h"
#include "exec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Expression trees                                                    */
/* ------------------------------------------------------------------ */

/**
 * An expression tree. Immutable and refcounted once built: retain/release
 * are thread-safe and a tree may be bound and evaluated from any number of
 * threads at once.
 *
 * Ownership: every constructor that takes gf_expr arguments *consumes* one
 * reference to each of them, also when it fails, so nested construction
 * never leaks:
 *
 *     gf_expr *e = gf_and(gf_gt(gf_col("v1"), gf_lit_int64(3)),
 *                         gf_eq(gf_col("id1"), gf_lit_string("id001")));
 *     if (!e) ... out of memory ...
 *     gf_expr_release(e);
 *
 * Constructors return NULL when memory runs out, an argument is NULL, or
 * the tree would be more than 10,000,000 levels high (a flat chain
 * a + b + ... is one level per operator). No pass over a tree (binding,
 * evaluation, printing, equality, release) recurses once per level, so a
 * chain of 100,000 terms, left- or right-deep, works on a 256 KiB thread
 * stack. A failure anywhere inside a nested construction yields NULL at
 * the top. gf_expr_parse refuses taller text with GF_EPARSE ("expression
 * too deep") at the offending operator, and parentheses nested more than
 * 512 deep with GF_EPARSE ("expression nested too deeply"; the parser
 * recurses per parenthesis, ~1 KiB of stack each).
 * They check only the shape; names, types and arities are checked when the
 * expression is bound (gf_expr_bind), with a message naming the expression.
 * Trees are allocated with the default allocator.
 */
typedef struct gf_expr gf_expr;

/** Operators of gf_binary / gf_unary. */
typedef enum gf_op {
  GF_OP_ADD = 0, /**< a + b */
  GF_OP_SUB,     /**< a - b */
  GF_OP_MUL,     /**< a * b */
  GF_OP_DIV,     /**< a / b: integer division (truncating) for integers */
  GF_OP_MOD,     /**< a % b: sign of a (C fmod for floats) */
  GF_OP_EQ,      /**< a = b (also written ==) */
  GF_OP_NE,      /**< a != b (also written <>) */
  GF_OP_LT,
  GF_OP_LE,
  GF_OP_GT,
  GF_OP_GE,
  GF_OP_AND,     /**< Kleene: false and null = false */
  GF_OP_OR,      /**< Kleene: true or null = true */
  GF_OP_NOT,     /**< unary */
  GF_OP_NEG      /**< unary minus */
} gf_op;

/** Kind of a node, for code that walks trees. */
typedef enum gf_expr_kind {
  GF_EXPR_COLUMN = 0,
  GF_EXPR_LITERAL,
  GF_EXPR_UNARY,
  GF_EXPR_BINARY,
  GF_EXPR_CALL,    /**< named function, e.g. abs(x), if(c, a, b), is_null(x) */
  GF_EXPR_CAST,
  GF_EXPR_BETWEEN, /**< x between lo and hi (inclusive) */
  GF_EXPR_IN       /**< x in (v1, v2, ...) */
} gf_expr_kind;

GF_API gf_expr *gf_expr_retain(gf_expr *e);
/** Drops one reference; NULL allowed. */
GF_API void gf_expr_release(gf_expr *e);
GF_API gf_expr_kind gf_expr_get_kind(const gf_expr *e);

/** Column reference by name (copied). */
GF_API gf_expr *gf_col(const char *name);
GF_API gf_expr *gf_lit_int64(int64_t v);
GF_API gf_expr *gf_lit_double(double v);
/** utf8 literal; the NUL-terminated text is copied. */
GF_API gf_expr *gf_lit_string(const char *s);
/** utf8 literal of `len` bytes (may contain NUL bytes). */
GF_API gf_expr *gf_lit_bytes(const char *s, int64_t len);
GF_API gf_expr *gf_lit_bool(bool v);
/** The null literal (type null; it takes the type its context needs). */
GF_API gf_expr *gf_lit_null(void);
/** date32 literal: days since 1970-01-01. */
GF_API gf_expr *gf_lit_date(int32_t days_since_epoch);

/** `op` must be a binary operator (GF_OP_ADD .. GF_OP_OR); else NULL. */
GF_API gf_expr *gf_binary(gf_op op, gf_expr *a, gf_expr *b);
/** `op` must be GF_OP_NOT or GF_OP_NEG; else NULL. */
GF_API gf_expr *gf_unary(gf_op op, gf_expr *a);
/**
 * Function call by (case-insensitive) name: if, coalesce (1+ args: the first
 * non-null), is_null, is_not_null, abs,
 * round (1 or 2 args: digits), floor, ceil, sqrt, log (natural), exp, pow,
 * length (UTF-8 characters; bytes of binary), lower, upper (ASCII letters), contains,
 * starts_with, ends_with, substr(s, start[, len]) (1-based, in characters),
 * year, month, day, hour, minute, second, weekday, date_trunc(unit, ts).
 * Consumes the `n` argument references (the array
 * itself is not kept). NULL on failure or a NULL argument.
 */
GF_API gf_expr *gf_call(const char *fn, gf_expr *const *args, int n);
/** cast(x as type). Dictionary and parameterised types other than
 * timestamp and decimal128/decimal256 are refused at bind time. */
GF_API gf_expr *gf_cast(gf_expr *x, gf_datatype type);
/** x between lo and hi, i.e. lo <= x and x <= hi. */
GF_API gf_expr *gf_between(gf_expr *x, gf_expr *lo, gf_expr *hi);
/** x in (list[0], ..., list[n-1]), n >= 1; SQL null semantics: the OR of
 * x = item, so null when x is null, true when x equals an item by the
 * rules of `=` (-0.0 equals 0.0; NaN equals nothing), else null when an
 * item is null, else false. A list of more than 8 literals of one type
 * is evaluated as one hash-set probe per row (x, any expression, once). */
GF_API gf_expr *gf_in(gf_expr *x, gf_expr *const *list, int n);

/* Shorthands for gf_binary / gf_unary / gf_call. */
GF_API gf_expr *gf_add(gf_expr *a, gf_expr *b);
GF_API gf_expr *gf_sub(gf_expr *a, gf_expr *b);
GF_API gf_expr *gf_mul(gf_expr *a, gf_expr *b);
GF_API gf_expr *gf_div(gf_expr *a, gf_expr *b);
GF_API gf_expr *gf_mod(gf_expr *a, gf_expr *b);
GF_API gf_expr *gf_eq(gf_expr *a, gf_expr *b);
GF_API gf_expr *gf_ne(gf_expr *a, gf_expr *b);
GF_API gf_expr *gf_lt(gf_expr *a, gf_expr *b);
GF_API gf_expr *gf_le(gf_expr *a, gf_expr *b);
GF_API gf_expr *gf_gt(gf_expr *a, gf_expr *b);
GF_API gf_expr *gf_ge(gf_expr *a, gf_expr *b);
GF_API gf_expr *gf_and(gf_expr *a, gf_expr *b);
GF_API gf_expr *gf_or(gf_expr *a, gf_expr *b);
GF_API gf_expr *gf_not(gf_expr *a);
GF_API gf_expr *gf_neg(gf_expr *a);
GF_API gf_expr *gf_is_null(gf_expr *a);
GF_API gf_expr *gf_is_not_null(gf_expr *a);
GF_API gf_expr *gf_if(gf_expr *cond, gf_expr *then_, gf_expr *else_);

/**
 * Parses the expression language of `gf query`. Precedence, lowest first:
 *   or < and < not < comparisons (= == != <> < <= > >=), [not] between,
 *   [not] in (...), is [not] null < + - < * / % < unary minus.
 * Comparisons do not chain. Literals: 42, 3.5, 1e-3, 'it''s' (quote doubled),
 * true, false, null, date '2024-01-31'. Column names: bare identifiers
 * ([A-Za-z_][A-Za-z0-9_]*, not a keyword) or "quoted" / `quoted` names (the
 * quote doubled inside). Calls: name(args); cast(x as type) with type one of
 * int8..int64, uint8..uint64, float32, float64 (float, double), utf8
 * (string, text), large_utf8, bool (boolean), date (date32), date64,
 * timestamp (microseconds), int (int64), decimal(p[, s]) (numeric,
 * decimal128; default scale 0, no list = decimal(38, 0)), decimal256(p[, s]).
 * A literal with a fraction (1.50) is float64; cast it for a decimal.
 * Keywords are case-insensitive.
 * On a syntax error returns GF_EPARSE with a message like
 * "at column 12: expected ')'" (1-based byte column into `text`).
 */
GF_API gf_status gf_expr_parse(const char *text, gf_expr **out, gf_error *err);

/**
 * The type a name gives, as in cast(x AS NAME): "int8".."int64",
 * "uint8".."uint64", "float32", "float64" ("float", "double"), "utf8"
 * ("string", "str", "text", "varchar"), "large_utf8", "bool", "date32"
 * ("date"), "date64", "timestamp" (microseconds, no zone), "decimal"
 * (decimal128(38, 0)) and "decimal(P, S)"; case-insensitive. False (and
 * *out untouched) when the name is none of them.
 */
GF_API bool gf_type_from_name(const char *name, gf_datatype *out);

/**
 * Text of the expression in the syntax gf_expr_parse reads (parentheses only
 * where precedence needs them; gf_expr_parse of it gives an equal tree).
 * `*out` is a NUL-terminated string the caller frees with gf_mem_free.
 */
GF_API gf_status gf_expr_to_string(const gf_expr *e, char **out, gf_error *err);
/** Structural equality of two trees (floats compared bitwise). */
GF_API bool gf_expr_equals(const gf_expr *a, const gf_expr *b);

/* ------------------------------------------------------------------ */
/* Binding (type checking)                                             */
/* ------------------------------------------------------------------ */

/**
 * An expression checked against a schema, with columns resolved and every
 * operator's kernel chosen. Immutable: it may be evaluated from any number
 * of threads at once. Owned once (gf_bound_expr_free).
 *
 * Typing rules:
 * - Arithmetic (+ - * / %): integers of any width (uint64 excepted) give
 *   int64 (wrapping on overflow); if either side is float32/float64 or
 *   uint64 the result is float64. Integer / and % by zero give null (so does
 *   INT64_MIN / -1, which would overflow); float division follows IEEE.
 *   Unary minus keeps int64/float64 likewise. bool, strings and temporal
 *   types are refused ("cannot apply '+' to utf8 and int64 in 'name + 1'").
 * - Comparisons: numbers compare with numbers (integers exactly as int64;
 *   int vs float as float64, except that an integer column against a float
 *   literal is compared exactly); strings with strings (bytewise);
 *   binary/large_binary with either binary width or a string literal (its
 *   bytes; byte-wise, a prefix first; a utf8 column wants a cast);
 *   bool with bool; dates/timestamps with the same kind of temporal value,
 *   with date literals, or with string literals parsed at bind time
 *   ('2024-01-31', '2024-01-31 12:00:00'). date32 vs date64/timestamp
 *   compares the instants. A dictionary column compares as its value type;
 *   `dict = 'lit'` / `!=` / `in` look the literal up once per batch and
 *   compare the int32 codes.
 * - and/or/not take bool (or null) and follow Kleene logic.
 * - if(c, a, b): c bool; a and b of one type after the promotion above
 *   (null adopts the other's type); a null c selects b. coalesce(x1, ..)
 *   is if(is_not_null(x1), x1, coalesce(x2, ..)) over one type for all.
 * - is_null / is_not_null take anything and never return null.
 * - Math: abs keeps int64/float64; floor, ceil, round keep integers and give
 *   float64 for floats (round(x, d) rounds half away from zero to d digits);
 *   on decimal128 abs, floor, ceil, round are exact (types in docs/DESIGN.md,
 *   "Decimals"), and if() unifies decimal branches of different (p, s);
 *   sqrt, log, exp, pow give float64 (IEEE: sqrt(-1) is NaN).
 * - Strings: length -> int64; lower, upper, substr -> utf8; contains,
 *   starts_with, ends_with -> bool. large_utf8 is accepted everywhere utf8 is.
 *   length of binary/large_binary counts bytes.
 * - Dates: year, month, day, hour, minute, second, weekday (ISO: Monday 1
 *   .. Sunday 7) of date32, date64 or timestamp -> int64; timestamps with a
 *   zone (fixed offset or named, docs/TIMEZONES.md) use local time there.
 *   date_trunc('year'|'month'|'day'|'hour'|'minute', ts) -> the timestamp's
 *   type: the start of the local period, as an instant (a local start that
 *   is ambiguous takes the earlier instant, one in a DST gap the offset
 *   before the gap). Casting a zoned timestamp to date32/date64 gives the
 *   local date, to utf8 local ISO text with the offset; casting between
 *   zones changes only the type (the instants stay).
 * - cast: numbers <-> numbers (float -> int truncates; out of range or NaN
 *   gives null), numbers/bool/dates -> utf8, utf8 -> numbers/bool/dates
 *   (unparsable gives null), bool <-> numbers, date32 <-> date64/timestamp,
 *   dictionary -> its value type or anything that type casts to.
 * - Decimals (docs/DESIGN.md, "Decimals"): + - * / % and comparisons with
 *   decimals and integers are exact (Arrow's precision/scale rules, capped
 *   at 38; a result beyond its precision fails with GF_ERANGE naming the
 *   row; x / 0 and x % 0 give null; quotients truncate); with a float side
 *   both sides become float64. Casts between decimals, numbers and strings
 *   round half away from zero when dropping digits; a value that does not
 *   fit the target fails with GF_ERANGE naming value and row (unlike the
 *   other casts), an unparsable string or NaN gives null. decimal256 is
 *   only cast (to decimal128, float64, utf8; from decimal128, numbers,
 *   strings); other operations on it fail with GF_ENOTSUP.
 * - The null literal takes the type its context asks for; alone it is null.
 */
typedef struct gf_bound_expr gf_bound_expr;

/**
 * Binds `e` against `schema`. Fails with GF_EINVAL (unknown column or
 * function, wrong number of arguments) or GF_ETYPE (types), the message
 * naming the offending sub-expression and the types. `*out` is freed with
 * gf_bound_expr_free. The bound expression keeps a reference to `e`.
 */
GF_API gf_status gf_expr_bind(const gf_expr *e, const gf_schema *schema,
                              gf_bound_expr **out, gf_error *err);
GF_API void gf_bound_expr_free(gf_bound_expr *b);
/** Result type of a bound expression. */
GF_API gf_datatype gf_bound_expr_type(const gf_bound_expr *b);
/** Binds and returns only the result type. */
GF_API gf_status gf_expr_result_type(const gf_expr *e, const gf_schema *schema,
                                     gf_datatype *out, gf_error *err);

/* ------------------------------------------------------------------ */
/* Evaluation (filter and projection: query.h)                         */
/* ------------------------------------------------------------------ */

/**
 * Evaluates `e` over every row of `f`, in parallel over morsels. The result
 * is a one-column frame (column named `name`, or the expression text when
 * `name` is NULL) with the same batch boundaries as `f`, so it lines up with
 * `f` row for row. Results are identical for any worker count, strategy and
 * chunk size. `opts` NULL = defaults; all memory goes through
 * opts->allocator. Type errors are reported before any row is touched.
 */
GF_API gf_status gf_evaluate(const gf_frame *f, const gf_expr *e,
                             const char *name, const gf_parallel_options *opts,
                             gf_frame **out, gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_EXPR_H */
