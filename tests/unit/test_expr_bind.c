/* Expressions: binding (type checking, promotion rules, error messages). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "expr/expr_internal.h"

static gf_schema *test_schema(void) {
  gf_field f[] = {{"name", gf_type(GF_TYPE_UTF8), true},
                  {"i32", gf_type(GF_TYPE_INT32), true},
                  {"i64", gf_type(GF_TYPE_INT64), true},
                  {"f32", gf_type(GF_TYPE_FLOAT32), true},
                  {"u64", gf_type(GF_TYPE_UINT64), true},
                  {"flag", gf_type(GF_TYPE_BOOL), true},
                  {"day", gf_type(GF_TYPE_DATE32), true},
                  {"ts", gf_type_timestamp(GF_UNIT_MICRO, false, 0), true},
                  {"cat", gf_type_dictionary(gf_type(GF_TYPE_UTF8)), true},
                  {"my col", gf_type(GF_TYPE_INT16), true}};
  gf_schema *s;
  assert_int_equal(gf_schema_new(f, 10, &s, NULL), GF_OK);
  return s;
}

/* Type of `text` bound against the test schema; fails the test on error. */
static gf_type_id type_of(const char *text) {
  gf_schema *s = test_schema();
  gf_expr *e;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse %s: %s", text, err.message);
  gf_datatype t;
  if (gf_expr_result_type(e, s, &t, &err) != GF_OK) fail_msg("bind %s: %s", text, err.message);
  gf_expr_release(e);
  gf_schema_release(s);
  return t.id;
}

/* Message of binding `text`, which must fail with `code`. */
static const char *bind_error(const char *text, gf_status code) {
  static char msg[GF_ERROR_MESSAGE_SIZE];
  gf_schema *s = test_schema();
  gf_expr *e;
  assert_int_equal(gf_expr_parse(text, &e, NULL), GF_OK);
  gf_bound_expr *b = NULL;
  gf_error err;
  assert_int_equal(gf_expr_bind(e, s, &b, &err), code);
  assert_null(b);
  memcpy(msg, err.message, sizeof msg);
  gf_expr_release(e);
  gf_schema_release(s);
  return msg;
}

static void numeric_promotion_follows_the_written_rules(void **state) {
  (void)state;
  assert_int_equal(type_of("i32 + i32"), GF_TYPE_INT64);
  assert_int_equal(type_of("i32 + i64"), GF_TYPE_INT64);
  assert_int_equal(type_of("i32 * 2"), GF_TYPE_INT64);
  assert_int_equal(type_of("i64 + 1.5"), GF_TYPE_FLOAT64);
  assert_int_equal(type_of("f32 + i32"), GF_TYPE_FLOAT64);
  assert_int_equal(type_of("u64 + 1"), GF_TYPE_FLOAT64);
  assert_int_equal(type_of("i64 / 2"), GF_TYPE_INT64);
  assert_int_equal(type_of("-\"my col\""), GF_TYPE_INT64);
  assert_int_equal(type_of("i64 + null"), GF_TYPE_INT64);
  assert_int_equal(type_of("i32 < f32"), GF_TYPE_BOOL);
  assert_int_equal(type_of("day < '2024-01-01'"), GF_TYPE_BOOL);
  assert_int_equal(type_of("ts >= date '2024-01-01'"), GF_TYPE_BOOL);
  assert_int_equal(type_of("cat = 'x'"), GF_TYPE_BOOL);
  assert_int_equal(type_of("cat"), GF_TYPE_DICTIONARY);
  assert_int_equal(type_of("lower(cat)"), GF_TYPE_UTF8);
  assert_int_equal(type_of("if(flag, i32, f32)"), GF_TYPE_FLOAT64);
  assert_int_equal(type_of("if(flag, name, null)"), GF_TYPE_UTF8);
  assert_int_equal(type_of("if(flag, day, day)"), GF_TYPE_DATE32);
  assert_int_equal(type_of("abs(i32)"), GF_TYPE_INT64);
  assert_int_equal(type_of("round(f32)"), GF_TYPE_FLOAT64);
  assert_int_equal(type_of("sqrt(i64)"), GF_TYPE_FLOAT64);
  assert_int_equal(type_of("length(name)"), GF_TYPE_INT64);
  assert_int_equal(type_of("year(ts)"), GF_TYPE_INT64);
  assert_int_equal(type_of("cast(i64 as int8)"), GF_TYPE_INT8);
  assert_int_equal(type_of("cast(name as date)"), GF_TYPE_DATE32);
  assert_int_equal(type_of("cast(null as utf8)"), GF_TYPE_UTF8);
  assert_int_equal(type_of("i64 is null and flag"), GF_TYPE_BOOL);
  assert_int_equal(type_of("null"), GF_TYPE_NULL);
}

static void type_errors_name_expression_and_types(void **state) {
  (void)state;
  assert_string_equal(bind_error("name + 1", GF_ETYPE),
                      "cannot apply '+' to utf8 and int64 in 'name + 1'");
  assert_string_equal(bind_error("i64 > 2 and (flag or name * 2 > 1)", GF_ETYPE),
                      "cannot apply '*' to utf8 and int64 in 'name * 2'");
  assert_string_equal(bind_error("name = 3", GF_ETYPE),
                      "cannot apply '=' to utf8 and int64 in 'name = 3'");
  assert_string_equal(bind_error("i64 and flag", GF_ETYPE),
                      "cannot apply 'and' to int64 and bool in 'i64 and flag'");
  assert_string_equal(bind_error("not name", GF_ETYPE), "cannot apply 'not' to utf8 in 'not name'");
  assert_string_equal(bind_error("-flag", GF_ETYPE), "cannot apply '-' to bool in '-flag'");
  assert_string_equal(bind_error("day < 'soon'", GF_ETYPE),
                      "cannot compare date32 with utf8 (not a valid date/time) in 'day < 'soon''");
  assert_string_equal(bind_error("abs(name)", GF_ETYPE),
                      "function 'abs' expects a number as argument 1, got utf8 in 'abs(name)'");
  assert_string_equal(bind_error("contains(name, 1)", GF_ETYPE),
                      "function 'contains' expects a string as argument 2, got int64 in 'contains(name, 1)'");
  assert_string_equal(bind_error("year(i64)", GF_ETYPE),
                      "function 'year' expects a date or timestamp as argument 1, got int64 in 'year(i64)'");
  assert_string_equal(bind_error("if(i64, 1, 2)", GF_ETYPE),
                      "function 'if' expects bool as argument 1, got int64 in 'if(i64, 1, 2)'");
  assert_string_equal(bind_error("if(flag, name, 2)", GF_ETYPE),
                      "if() branches have incompatible types utf8 and int64 in 'if(flag, name, 2)'");
  assert_string_equal(bind_error("cast(flag as date)", GF_ETYPE),
                      "cannot cast bool to date32 in 'cast(flag as date)'");
  assert_string_equal(bind_error("round(f32, i64)", GF_ETYPE),
                      "function 'round' expects an integer literal as argument 2, got int64 in 'round(f32, i64)'");
}

static void unknown_names_and_arity_are_reported(void **state) {
  (void)state;
  assert_string_equal(bind_error("nope + 1", GF_EINVAL), "unknown column 'nope' in 'nope'");
  assert_string_equal(bind_error("frobnicate(i64)", GF_EINVAL),
                      "unknown function 'frobnicate' in 'frobnicate(i64)'");
  assert_string_equal(bind_error("abs(i64, i32)", GF_EINVAL),
                      "function 'abs' takes 1 argument, got 2 in 'abs(i64, i32)'");
  assert_string_equal(bind_error("substr(name)", GF_EINVAL),
                      "function 'substr' takes 2 to 3 arguments, got 1 in 'substr(name)'");
  assert_int_equal(type_of("\"my col\" + 1"), GF_TYPE_INT64);
}

static void bound_expressions_keep_the_tree_alive(void **state) {
  (void)state;
  gf_schema *s = test_schema();
  gf_expr *e = gf_add(gf_col("i64"), gf_lit_int64(1));
  gf_bound_expr *b;
  assert_int_equal(gf_expr_bind(e, s, &b, NULL), GF_OK);
  gf_expr_release(e);
  gf_schema_release(s);
  assert_int_equal(gf_bound_expr_type(b).id, GF_TYPE_INT64);
  gf_bound_expr_free(b);
  gf_bound_expr_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(numeric_promotion_follows_the_written_rules),
      cmocka_unit_test(type_errors_name_expression_and_types),
      cmocka_unit_test(unknown_names_and_arity_are_reported),
      cmocka_unit_test(bound_expressions_keep_the_tree_alive),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
