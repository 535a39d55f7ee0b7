/* Expressions: constructors, the parser (every operator, precedence,
 * quoting, literals, errors with positions) and printing back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_internal.h"

/* Parses `text` and returns its canonical printed form (static buffer). */
static const char *canon(const char *text) {
  static char buf[1200];
  gf_expr *e = NULL;
  gf_error err;
  gf_status st = gf_expr_parse(text, &e, &err);
  if (st != GF_OK) {
    snprintf(buf, sizeof buf, "ERROR %s", err.message);
    return buf;
  }
  char *s = NULL;
  assert_int_equal(gf_expr_to_string(e, &s, NULL), GF_OK);
  snprintf(buf, sizeof buf, "%s", s);
  /* Printing is a fixed point: parsing the text gives an equal tree. */
  gf_expr *again = NULL;
  assert_int_equal(gf_expr_parse(s, &again, NULL), GF_OK);
  assert_true(gf_expr_equals(e, again));
  gf_mem_free(s);
  gf_expr_release(again);
  gf_expr_release(e);
  return buf;
}

static const char *parse_error(const char *text, gf_status *code) {
  static char buf[1200];
  gf_expr *e = NULL;
  gf_error err;
  gf_status st = gf_expr_parse(text, &e, &err);
  assert_int_not_equal(st, GF_OK);
  assert_null(e);
  if (code) *code = st;
  snprintf(buf, sizeof buf, "%s", err.message);
  return buf;
}

static void parser_reads_every_operator(void **state) {
  (void)state;
  assert_string_equal(canon("a + b"), "a + b");
  assert_string_equal(canon("a - b"), "a - b");
  assert_string_equal(canon("a * b"), "a * b");
  assert_string_equal(canon("a / b"), "a / b");
  assert_string_equal(canon("a % b"), "a % b");
  assert_string_equal(canon("a = b"), "a = b");
  assert_string_equal(canon("a == b"), "a = b");
  assert_string_equal(canon("a != b"), "a != b");
  assert_string_equal(canon("a <> b"), "a != b");
  assert_string_equal(canon("a < b"), "a < b");
  assert_string_equal(canon("a <= b"), "a <= b");
  assert_string_equal(canon("a > b"), "a > b");
  assert_string_equal(canon("a >= b"), "a >= b");
  assert_string_equal(canon("a AND b"), "a and b");
  assert_string_equal(canon("a or b"), "a or b");
  assert_string_equal(canon("NOT a"), "not a");
  assert_string_equal(canon("-a"), "-a");
  assert_string_equal(canon("a is null"), "a is null");
  assert_string_equal(canon("a IS NOT NULL"), "a is not null");
  assert_string_equal(canon("is_null(a)"), "a is null");
  assert_string_equal(canon("is_not_null(a)"), "a is not null");
  assert_string_equal(canon("a between 1 and 5"), "a between 1 and 5");
  assert_string_equal(canon("a not between 1 and 5"), "not a between 1 and 5");
  assert_string_equal(canon("a in (1, 2, 3)"), "a in (1, 2, 3)");
  assert_string_equal(canon("a not in ('x')"), "not a in ('x')");
  assert_string_equal(canon("if(a > 1, 'big', 'small')"), "if(a > 1, 'big', 'small')");
  assert_string_equal(canon("CAST(a AS int32)"), "cast(a as int32)");
  assert_string_equal(canon("cast(a as string)"), "cast(a as utf8)");
  assert_string_equal(canon("cast(a as date)"), "cast(a as date)");
  assert_string_equal(canon("ABS(x)"), "abs(x)");
  assert_string_equal(canon("substr(s, 2, 3)"), "substr(s, 2, 3)");
  assert_string_equal(canon("pow(a, 2)"), "pow(a, 2)");
}

static void parser_follows_sql_precedence(void **state) {
  (void)state;
  assert_string_equal(canon("a + b * c"), "a + b * c");
  assert_string_equal(canon("(a + b) * c"), "(a + b) * c");
  assert_string_equal(canon("a - b - c"), "a - b - c");
  assert_string_equal(canon("a - (b - c)"), "a - (b - c)");
  assert_string_equal(canon("a or b and c"), "a or b and c");
  assert_string_equal(canon("(a or b) and c"), "(a or b) and c");
  assert_string_equal(canon("not a = b"), "not a = b");
  assert_string_equal(canon("(not a) = b"), "(not a) = b");
  assert_string_equal(canon("a * -b"), "a * -b");
  assert_string_equal(canon("-(a + b)"), "-(a + b)");
  assert_string_equal(canon("a + b > c * 2 and d"), "a + b > c * 2 and d");
  assert_string_equal(canon("x between 1 + 1 and 5 and y"), "x between 1 + 1 and 5 and y");
  /* Structure, not just text: a + b * c is a + (b * c). */
  gf_expr *e;
  assert_int_equal(gf_expr_parse("a + b * c", &e, NULL), GF_OK);
  gf_expr *want = gf_add(gf_col("a"), gf_mul(gf_col("b"), gf_col("c")));
  assert_true(gf_expr_equals(e, want));
  gf_expr_release(want);
  gf_expr_release(e);
  assert_int_equal(gf_expr_parse("not a and b or c", &e, NULL), GF_OK);
  want = gf_or(gf_and(gf_not(gf_col("a")), gf_col("b")), gf_col("c"));
  assert_true(gf_expr_equals(e, want));
  gf_expr_release(want);
  gf_expr_release(e);
}

static void parser_reads_literals(void **state) {
  (void)state;
  assert_string_equal(canon("42"), "42");
  assert_string_equal(canon("-7"), "-7");
  assert_string_equal(canon("-9223372036854775808"), "-9223372036854775808");
  assert_string_equal(canon("3.5"), "3.5");
  assert_string_equal(canon("1e3"), "1000.0");
  assert_string_equal(canon(".25"), "0.25");
  assert_string_equal(canon("'it''s'"), "'it''s'");
  assert_string_equal(canon("TRUE"), "true");
  assert_string_equal(canon("false"), "false");
  assert_string_equal(canon("NULL"), "null");
  assert_string_equal(canon("date '2024-01-31'"), "date '2024-01-31'");
  gf_expr *e;
  assert_int_equal(gf_expr_parse("date '2024-01-31'", &e, NULL), GF_OK);
  assert_int_equal(e->lit.type.id, GF_TYPE_DATE32);
  assert_int_equal(e->lit.i, 19753);
  gf_expr_release(e);
  assert_int_equal(gf_expr_parse("'a''b'", &e, NULL), GF_OK);
  assert_int_equal(e->lit.len, 3);
  assert_memory_equal(e->lit.s, "a'b", 3);
  gf_expr_release(e);
}

static void parser_reads_quoted_names(void **state) {
  (void)state;
  assert_string_equal(canon("\"my col\" + 1"), "\"my col\" + 1");
  assert_string_equal(canon("`my col` + 1"), "\"my col\" + 1");
  assert_string_equal(canon("\"a\"\"b\""), "\"a\"\"b\"");
  assert_string_equal(canon("\"and\""), "\"and\"");
  assert_string_equal(canon("\"x\""), "x");
  assert_string_equal(canon("_v1"), "_v1");
  gf_expr *e;
  assert_int_equal(gf_expr_parse("`we``ird`", &e, NULL), GF_OK);
  assert_int_equal(e->kind, GF_EXPR_COLUMN);
  assert_string_equal(e->name, "we`ird");
  gf_expr_release(e);
}

static void parse_errors_say_what_and_where(void **state) {
  (void)state;
  gf_status code;
  assert_string_equal(parse_error("abs(a + 1", &code), "at column 10: expected ',' or ')'");
  assert_int_equal(code, GF_EPARSE);
  assert_string_equal(parse_error("(a + 1", NULL), "at column 7: expected ')'");
  assert_string_equal(parse_error("a +", NULL), "at column 4: expected an expression");
  assert_string_equal(parse_error("a b", NULL), "at column 3: expected end of input");
  assert_string_equal(parse_error("'abc", NULL), "at column 1: unterminated string literal");
  assert_string_equal(parse_error("\"abc", NULL), "at column 1: unterminated quoted name");
  assert_string_equal(parse_error("a # b", NULL), "at column 3: unexpected character '#'");
  assert_string_equal(parse_error("a is 3", NULL), "at column 6: expected 'null' or 'not null'");
  assert_string_equal(parse_error("a between 1 or 2", NULL), "at column 13: expected 'and'");
  assert_string_equal(parse_error("cast(a int)", NULL), "at column 8: expected 'as'");
  assert_string_equal(parse_error("cast(a as blob)", NULL), "at column 11: unknown type 'blob'");
  assert_string_equal(parse_error("a in 1", NULL), "at column 6: expected '('");
  assert_string_equal(parse_error("99999999999999999999", NULL),
                      "at column 1: integer literal out of range");
  assert_string_equal(parse_error("date '2024-02-30'", NULL),
                      "at column 6: invalid date literal (expected 'YYYY-MM-DD')");
  assert_string_equal(parse_error("", NULL), "at column 1: expected an expression");
  assert_string_equal(parse_error("a < b < c", NULL), "at column 7: expected end of input");
  assert_string_equal(parse_error("12ab", NULL), "at column 3: malformed number");
  assert_string_equal(parse_error("a !b", NULL), "at column 3: unexpected character '!'");
  /* Deep nesting is refused, not a stack overflow. */
  char deep[5000];
  memset(deep, '(', 4000);
  deep[4000] = 'a';
  deep[4001] = 0;
  const char *m = parse_error(deep, &code);
  assert_int_equal(code, GF_EPARSE);
  assert_non_null(strstr(m, "nested too deeply"));
}

static void constructors_consume_arguments_and_propagate_null(void **state) {
  (void)state;
  gf_expr *e = gf_and(gf_gt(gf_col("v1"), gf_lit_int64(3)),
                      gf_eq(gf_col("id1"), gf_lit_string("id001")));
  assert_non_null(e);
  char *s;
  assert_int_equal(gf_expr_to_string(e, &s, NULL), GF_OK);
  assert_string_equal(s, "v1 > 3 and id1 = 'id001'");
  gf_mem_free(s);
  gf_expr_release(e);
  /* A NULL anywhere gives NULL at the top, releasing the rest. */
  assert_null(gf_add(gf_col("a"), NULL));
  assert_null(gf_binary(GF_OP_NOT, gf_col("a"), gf_col("b")));
  assert_null(gf_unary(GF_OP_ADD, gf_col("a")));
  gf_expr *list[2] = {gf_lit_int64(1), NULL};
  assert_null(gf_in(gf_col("a"), list, 2));
  assert_null(gf_col(NULL));
  gf_expr *args[3] = {gf_col("c"), gf_lit_double(1.5), gf_lit_null()};
  e = gf_call("IF", args, 3);
  assert_int_equal(gf_expr_to_string(e, &s, NULL), GF_OK);
  assert_string_equal(s, "if(c, 1.5, null)");
  gf_mem_free(s);
  gf_expr_release(e);
  e = gf_cast(gf_lit_date(0), gf_type(GF_TYPE_UTF8));
  assert_int_equal(gf_expr_to_string(e, &s, NULL), GF_OK);
  assert_string_equal(s, "cast(date '1970-01-01' as utf8)");
  gf_mem_free(s);
  assert_int_equal(gf_expr_get_kind(e), GF_EXPR_CAST);
  gf_expr_retain(e);
  gf_expr_release(e);
  gf_expr_release(e);
  gf_expr_release(NULL);
  /* Negated literals keep their tree when printed. */
  e = gf_neg(gf_lit_int64(3));
  assert_int_equal(gf_expr_to_string(e, &s, NULL), GF_OK);
  assert_string_equal(s, "-(3)");
  gf_expr *back;
  assert_int_equal(gf_expr_parse(s, &back, NULL), GF_OK);
  assert_true(gf_expr_equals(e, back));
  gf_mem_free(s);
  gf_expr_release(back);
  gf_expr_release(e);
}

static void parse_survives_allocation_failures(void **state) {
  (void)state;
  /* The parser allocates through the default allocator; this only checks
   * that odd inputs never crash or leak under ASan. */
  const char *texts[] = {"f(", "f(a,", "a in (", "cast(", "cast(a as", "-", "not",
                         "a between", "a between 1", "a is not", "\"", "`", "'"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    gf_expr *e = NULL;
    assert_int_equal(gf_expr_parse(texts[i], &e, NULL), GF_EPARSE);
    assert_null(e);
  }
}

/* gf_type_from_name against a table written by hand: every accepted
 * spelling with the type it must give, and refusals that leave *out alone. */
static void type_names_give_types(void **state) {
  (void)state;
  static const struct {
    const char *name;
    gf_type_id id;
    int32_t precision, scale; /* decimals only */
  } ok[] = {{"int8", GF_TYPE_INT8, 0, 0},          {"INT64", GF_TYPE_INT64, 0, 0},
            {"bigint", GF_TYPE_INT64, 0, 0},       {"uint16", GF_TYPE_UINT16, 0, 0},
            {"Float", GF_TYPE_FLOAT64, 0, 0},      {"float32", GF_TYPE_FLOAT32, 0, 0},
            {"string", GF_TYPE_UTF8, 0, 0},        {"large_utf8", GF_TYPE_LARGE_UTF8, 0, 0},
            {"bool", GF_TYPE_BOOL, 0, 0},          {"date", GF_TYPE_DATE32, 0, 0},
            {"date64", GF_TYPE_DATE64, 0, 0},      {"timestamp", GF_TYPE_TIMESTAMP, 0, 0},
            {"decimal", GF_TYPE_DECIMAL128, 38, 0}, {"decimal(10, 2)", GF_TYPE_DECIMAL128, 10, 2},
            {"numeric(5)", GF_TYPE_DECIMAL128, 5, 0}, {"decimal256(60,3)", GF_TYPE_DECIMAL256, 60, 3}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    gf_datatype t;
    assert_true(gf_type_from_name(ok[i].name, &t));
    assert_int_equal(t.id, ok[i].id);
    if (ok[i].id == GF_TYPE_DECIMAL128 || ok[i].id == GF_TYPE_DECIMAL256) {
      assert_int_equal(t.precision, ok[i].precision);
      assert_int_equal(t.scale, ok[i].scale);
    }
  }
  static const char *const bad[] = {"floaty", "", "int64(3)", "decimal(0,0)", "decimal(39,1)",
                                    "decimal(10,11)", "decimal(10,-1)", "decimal(10,2",
                                    "decimal(10,2) x", "utf8 utf8", "decimal256(77)"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    gf_datatype t = gf_type(GF_TYPE_NULL);
    assert_false(gf_type_from_name(bad[i], &t));
    assert_int_equal(t.id, GF_TYPE_NULL);
  }
  gf_datatype t;
  assert_false(gf_type_from_name(NULL, &t));
  assert_false(gf_type_from_name("int64", NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parser_reads_every_operator),
      cmocka_unit_test(parser_follows_sql_precedence),
      cmocka_unit_test(parser_reads_literals),
      cmocka_unit_test(parser_reads_quoted_names),
      cmocka_unit_test(parse_errors_say_what_and_where),
      cmocka_unit_test(constructors_consume_arguments_and_propagate_null),
      cmocka_unit_test(parse_survives_allocation_failures),
      cmocka_unit_test(type_names_give_types),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
