/* Data types and schemas: names, equality, validation, layout facts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "data/array_internal.h"
#include "gf_test_data.h"

static const char *fmt(gf_datatype t) {
  static char buf[128];
  return gf_type_format(t, buf, sizeof buf);
}

static void type_format_names_every_kind(void **state) {
  (void)state;
  assert_string_equal(fmt(gf_type(GF_TYPE_INT64)), "int64");
  assert_string_equal(fmt(gf_type(GF_TYPE_UINT8)), "uint8");
  assert_string_equal(fmt(gf_type(GF_TYPE_FLOAT32)), "float32");
  assert_string_equal(fmt(gf_type(GF_TYPE_LARGE_UTF8)), "large_utf8");
  assert_string_equal(fmt(gf_type(GF_TYPE_NULL)), "null");
  assert_string_equal(fmt(gf_type(GF_TYPE_BOOL)), "bool");
  assert_string_equal(fmt(gf_type(GF_TYPE_DATE32)), "date32");
  assert_string_equal(fmt(gf_type_timestamp(GF_UNIT_MILLI, true, 0)),
                      "timestamp[ms, UTC]");
  assert_string_equal(fmt(gf_type_timestamp(GF_UNIT_MICRO, true, 330)),
                      "timestamp[us, +05:30]");
  assert_string_equal(fmt(gf_type_timestamp(GF_UNIT_NANO, true, -480)),
                      "timestamp[ns, -08:00]");
  assert_string_equal(fmt(gf_type_timestamp(GF_UNIT_SECOND, false, 0)),
                      "timestamp[s]");
  assert_string_equal(fmt(gf_type_time(GF_TYPE_TIME32, GF_UNIT_MILLI)),
                      "time32[ms]");
  assert_string_equal(fmt(gf_type_time(GF_TYPE_TIME64, GF_UNIT_NANO)),
                      "time64[ns]");
  assert_string_equal(fmt(gf_type_duration(GF_UNIT_MICRO)), "duration[us]");
  assert_string_equal(fmt(gf_type_fixed_size_binary(16)),
                      "fixed_size_binary[16]");
  assert_string_equal(fmt(gf_type_dictionary(gf_type(GF_TYPE_UTF8))),
                      "dictionary<utf8>");
  assert_string_equal(
      fmt(gf_type_dictionary(gf_type_timestamp(GF_UNIT_MILLI, true, 0))),
      "dictionary<timestamp[ms, UTC]>");
  assert_string_equal(gf_type_id_name(GF_TYPE_DICTIONARY), "dictionary");
  assert_string_equal(gf_type_id_name((gf_type_id)999), "invalid");
}

static void type_format_truncates_to_buffer(void **state) {
  (void)state;
  char small[8];
  gf_type_format(gf_type_timestamp(GF_UNIT_MILLI, true, 0), small,
                 sizeof small);
  assert_string_equal(small, "timesta");
}

static void type_equals_compares_relevant_parameters(void **state) {
  (void)state;
  assert_true(gf_type_equals(gf_type(GF_TYPE_INT32), gf_type(GF_TYPE_INT32)));
  assert_false(gf_type_equals(gf_type(GF_TYPE_INT32), gf_type(GF_TYPE_INT64)));
  assert_false(gf_type_equals(gf_type_timestamp(GF_UNIT_MILLI, false, 0),
                              gf_type_timestamp(GF_UNIT_MICRO, false, 0)));
  assert_false(gf_type_equals(gf_type_timestamp(GF_UNIT_MILLI, false, 0),
                              gf_type_timestamp(GF_UNIT_MILLI, true, 0)));
  assert_false(gf_type_equals(gf_type_timestamp(GF_UNIT_MILLI, true, 60),
                              gf_type_timestamp(GF_UNIT_MILLI, true, 0)));
  /* The offset is ignored without a time zone. */
  gf_datatype a = gf_type_timestamp(GF_UNIT_MILLI, false, 0);
  gf_datatype b = a;
  b.tz_offset_minutes = 99;
  assert_true(gf_type_equals(a, b));
  assert_false(gf_type_equals(gf_type_fixed_size_binary(4),
                              gf_type_fixed_size_binary(8)));
  assert_true(gf_type_equals(gf_type_dictionary(gf_type(GF_TYPE_UTF8)),
                             gf_type_dictionary(gf_type(GF_TYPE_UTF8))));
  assert_false(gf_type_equals(gf_type_dictionary(gf_type(GF_TYPE_UTF8)),
                              gf_type_dictionary(gf_type(GF_TYPE_BINARY))));
  assert_false(gf_type_equals(gf_type_dictionary(gf_type(GF_TYPE_UTF8)),
                              gf_type(GF_TYPE_UTF8)));
  /* Unused units do not matter for parameterless types. */
  gf_datatype i = gf_type(GF_TYPE_INT8);
  i.unit = GF_UNIT_NANO;
  assert_true(gf_type_equals(i, gf_type(GF_TYPE_INT8)));
}

static void type_value_unwraps_dictionaries(void **state) {
  (void)state;
  gf_datatype ts = gf_type_timestamp(GF_UNIT_MICRO, true, 330);
  gf_datatype d = gf_type_dictionary(ts);
  assert_int_equal(d.id, GF_TYPE_DICTIONARY);
  assert_int_equal(d.value_id, GF_TYPE_TIMESTAMP);
  assert_true(gf_type_equals(gf_type_value(d), ts));
  assert_true(gf_type_equals(gf_type_value(ts), ts));
}

static void type_validate_rejects_bad_parameters(void **state) {
  (void)state;
  gf_error err;
  assert_int_equal(gf_type_validate(gf_type_time(GF_TYPE_TIME32, GF_UNIT_NANO), &err),
                   GF_EINVAL);
  assert_non_null(strstr(err.message, "time32"));
  assert_int_equal(gf_type_validate(gf_type_time(GF_TYPE_TIME64, GF_UNIT_SECOND), &err),
                   GF_EINVAL);
  assert_int_equal(gf_type_validate(gf_type_fixed_size_binary(0), &err), GF_EINVAL);
  assert_int_equal(gf_type_validate(gf_type_timestamp(GF_UNIT_MILLI, true, 24 * 60), &err),
                   GF_EINVAL);
  assert_int_equal(gf_type_validate(gf_type((gf_type_id)77), &err), GF_EINVAL);
  assert_int_equal(gf_type_validate(gf_type_dictionary(gf_type_dictionary(gf_type(GF_TYPE_UTF8))), &err),
                   GF_EINVAL);
  assert_int_equal(gf_type_validate(gf_type(GF_TYPE_DICTIONARY), &err), GF_EINVAL);
  gf_datatype all[GFT_MAX_TYPES];
  int n = gft_all_types(all, GFT_MAX_TYPES);
  assert_true(n >= 30);
  for (int i = 0; i < n; i++)
    assert_int_equal(gf_type_validate(all[i], NULL), GF_OK);
}

static void layout_facts_match_arrow(void **state) {
  (void)state;
  assert_int_equal(gf_type_bit_width(gf_type(GF_TYPE_BOOL)), 1);
  assert_int_equal(gf_type_bit_width(gf_type(GF_TYPE_INT16)), 16);
  assert_int_equal(gf_type_bit_width(gf_type(GF_TYPE_UTF8)), 0);
  assert_int_equal(gf_type_bit_width(gf_type_dictionary(gf_type(GF_TYPE_UTF8))), 32);
  assert_int_equal(gf_type_bit_width(gf_type_fixed_size_binary(3)), 24);
  assert_int_equal(gf_type_bit_width(gf_type_timestamp(GF_UNIT_NANO, false, 0)), 64);
  assert_int_equal(gfi_type_num_buffers(gf_type(GF_TYPE_NULL)), 1);
  assert_int_equal(gfi_type_num_buffers(gf_type(GF_TYPE_BOOL)), 2);
  assert_int_equal(gfi_type_num_buffers(gf_type(GF_TYPE_LARGE_BINARY)), 3);
  assert_int_equal(gfi_type_num_buffers(gf_type_dictionary(gf_type(GF_TYPE_UTF8))), 2);
  assert_true(gfi_type_is_var_width(GF_TYPE_BINARY));
  assert_false(gfi_type_is_var_width(GF_TYPE_FIXED_SIZE_BINARY));
  assert_true(gfi_type_is_large(GF_TYPE_LARGE_UTF8));
  assert_false(gfi_type_is_large(GF_TYPE_UTF8));
  assert_int_equal(gfi_type_byte_width(gf_type(GF_TYPE_DATE64)), 8);
  assert_int_equal(gfi_type_byte_width(gf_type_time(GF_TYPE_TIME32, GF_UNIT_SECOND)), 4);
  assert_int_equal(gfi_type_byte_width(gf_type(GF_TYPE_BOOL)), 0);
}

static void schema_copies_fields_and_finds_names(void **state) {
  (void)state;
  char name0[] = "id";
  gf_field f[3] = {{name0, gf_type(GF_TYPE_INT64), false},
                   {"name", gf_type(GF_TYPE_UTF8), true},
                   {"ts", gf_type_timestamp(GF_UNIT_MILLI, true, 0), true}};
  gf_schema *s = NULL;
  assert_int_equal(gf_schema_new(f, 3, &s, NULL), GF_OK);
  name0[0] = 'X'; /* the schema holds its own copy */
  assert_int_equal(gf_schema_num_fields(s), 3);
  assert_string_equal(gf_schema_field(s, 0)->name, "id");
  assert_false(gf_schema_field(s, 0)->nullable);
  assert_int_equal(gf_schema_find(s, "ts"), 2);
  assert_int_equal(gf_schema_find(s, "nope"), -1);
  assert_null(gf_schema_field(s, 3));
  gf_schema *t = NULL;
  f[0].name = "id";
  assert_int_equal(gf_schema_new(f, 3, &t, NULL), GF_OK);
  assert_true(gf_schema_equals(s, t));
  gf_schema_release(t);
  f[2].nullable = false;
  assert_int_equal(gf_schema_new(f, 3, &t, NULL), GF_OK);
  assert_false(gf_schema_equals(s, t));
  gf_schema_release(t);
  assert_ptr_equal(gf_schema_retain(s), s);
  gf_schema_release(s);
  gf_schema_release(s);
  gf_schema_release(NULL);
  /* Empty schema is fine. */
  assert_int_equal(gf_schema_new(NULL, 0, &t, NULL), GF_OK);
  assert_int_equal(gf_schema_num_fields(t), 0);
  gf_schema_release(t);
}

static void schema_rejects_duplicate_and_empty_names(void **state) {
  (void)state;
  gf_error err;
  gf_schema *s = NULL;
  gf_field dup[2] = {{"a", gf_type(GF_TYPE_INT64), true},
                     {"a", gf_type(GF_TYPE_UTF8), true}};
  assert_int_equal(gf_schema_new(dup, 2, &s, &err), GF_EINVAL);
  assert_null(s);
  assert_non_null(strstr(err.message, "duplicate"));
  gf_field empty[1] = {{"", gf_type(GF_TYPE_INT64), true}};
  assert_int_equal(gf_schema_new(empty, 1, &s, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "empty"));
  gf_field nul[1] = {{NULL, gf_type(GF_TYPE_INT64), true}};
  assert_int_equal(gf_schema_new(nul, 1, &s, &err), GF_EINVAL);
  gf_field bad[1] = {{"x", gf_type_fixed_size_binary(-1), true}};
  assert_int_equal(gf_schema_new(bad, 1, &s, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "\"x\""));
  assert_null(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(type_format_names_every_kind),
      cmocka_unit_test(type_format_truncates_to_buffer),
      cmocka_unit_test(type_equals_compares_relevant_parameters),
      cmocka_unit_test(type_value_unwraps_dictionaries),
      cmocka_unit_test(type_validate_rejects_bad_parameters),
      cmocka_unit_test(layout_facts_match_arrow),
      cmocka_unit_test(schema_copies_fields_and_finds_names),
      cmocka_unit_test(schema_rejects_duplicate_and_empty_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
