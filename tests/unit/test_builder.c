/* Builders: every type, range and kind checks, statistics, zeroed null
 * slots and padding, dictionary encoding, reuse, allocation failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <string.h>

#include "data/array_internal.h"
#include "gf_test_data.h"
#include "gopherframe/testing.h"

static gf_builder *new_builder(gf_datatype t) {
  gf_builder *b = NULL;
  assert_int_equal(gf_builder_new(t, NULL, &b, NULL), GF_OK);
  return b;
}

static gf_array *finish(gf_builder *b) {
  gf_array *a = NULL;
  gf_error err;
  gf_status st = gf_builder_finish(b, &a, &err);
  if (st != GF_OK) fail_msg("finish: %s", err.message);
  return a;
}

static void every_type_round_trips_through_builder(void **state) {
  (void)state;
  gf_datatype all[GFT_MAX_TYPES];
  int n = gft_all_types(all, GFT_MAX_TYPES);
  for (int k = 0; k < n; k++) {
    char name[96];
    gf_type_format(all[k], name, sizeof name);
    for (int np = 0; np < 2; np++) {
      gf_array *a = NULL, *b = NULL;
      double p = np ? 0.25 : 0.0;
      assert_int_equal(gft_random_array(all[k], 300, p, 42 + k, NULL, &a), GF_OK);
      assert_int_equal(gft_random_array(all[k], 300, p, 42 + k, NULL, &b), GF_OK);
      gf_error err;
      if (gf_array_validate(a, true, &err) != GF_OK)
        fail_msg("%s: %s", name, err.message);
      assert_true(gf_type_equals(gf_array_type(a), all[k]));
      assert_int_equal(gf_array_length(a), 300);
      assert_true(gf_array_equals(a, b));
      int64_t nulls = 0;
      for (int64_t i = 0; i < 300; i++) nulls += gf_array_is_null(a, i);
      assert_int_equal(nulls, gf_array_null_count(a));
      assert_int_equal(gf_array_stats(a)->null_count, nulls);
      if (all[k].id == GF_TYPE_NULL) {
        assert_int_equal(nulls, 300);
      } else if (np == 0) {
        assert_int_equal(nulls, 0);
        assert_null(gf_array_buffer(a, 0));
      } else {
        assert_true(nulls > 30 && nulls < 130);
        assert_non_null(gf_array_buffer(a, 0));
      }
      /* A different seed gives a different array (except the null type). */
      gf_array *c = NULL;
      assert_int_equal(gft_random_array(all[k], 300, p, 1000 + k, NULL, &c), GF_OK);
      if (all[k].id != GF_TYPE_NULL) assert_false(gf_array_equals(a, c));
      gf_array_release(a);
      gf_array_release(b);
      gf_array_release(c);
    }
  }
}

static void integer_builder_reads_back_values_and_stats(void **state) {
  (void)state;
  gf_builder *b = new_builder(gf_type(GF_TYPE_INT32));
  assert_int_equal(gf_builder_append_int64(b, 5, NULL), GF_OK);
  assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
  assert_int_equal(gf_builder_append_int64(b, -3, NULL), GF_OK);
  assert_int_equal(gf_builder_append_uint64(b, 7, NULL), GF_OK);
  assert_int_equal(gf_builder_length(b), 4);
  gf_array *a = finish(b);
  assert_int_equal(gf_array_length(a), 4);
  assert_int_equal(gf_array_null_count(a), 1);
  assert_int_equal(gf_array_get_int64(a, 0), 5);
  assert_true(gf_array_is_null(a, 1));
  assert_int_equal(gf_array_get_int64(a, 1), 0); /* null slot zeroed */
  assert_int_equal(gf_array_get_int64(a, 2), -3);
  assert_int_equal(gf_array_get_uint64(a, 3), 7);
  assert_true(gf_array_get_double(a, 2) == -3.0);
  assert_true(gf_array_get_bool(a, 0));
  const gf_stats *s = gf_array_stats(a);
  assert_true(s->has_min_max);
  assert_false(s->is_float);
  assert_int_equal(s->min.i, -3);
  assert_int_equal(s->max.i, 7);
  assert_int_equal(s->null_count, 1);
  const int32_t *raw = gf_array_buffer(a, 1);
  assert_int_equal(raw[1], 0);
  assert_int_equal(gf_array_offset(a), 0);
  assert_null(gf_array_dictionary(a));
  gf_array_release(a);
  gf_builder_free(b);
}

static void temporal_bool_and_uint64_values(void **state) {
  (void)state;
  gf_builder *b = new_builder(gf_type_timestamp(GF_UNIT_MILLI, true, 0));
  assert_int_equal(gf_builder_append_int64(b, 1700000000123, NULL), GF_OK);
  assert_int_equal(gf_builder_append_int64(b, -5, NULL), GF_OK);
  gf_array *a = finish(b);
  assert_int_equal(gf_array_get_int64(a, 0), 1700000000123);
  assert_int_equal(gf_array_stats(a)->min.i, -5);
  assert_int_equal(gf_array_stats(a)->max.i, 1700000000123);
  gf_array_release(a);
  gf_builder_free(b);

  b = new_builder(gf_type(GF_TYPE_BOOL));
  assert_int_equal(gf_builder_append_bool(b, true, NULL), GF_OK);
  assert_int_equal(gf_builder_append_bool(b, false, NULL), GF_OK);
  assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
  assert_int_equal(gf_builder_append_int64(b, 1, NULL), GF_OK);
  a = finish(b);
  assert_true(gf_array_get_bool(a, 0));
  assert_false(gf_array_get_bool(a, 1));
  assert_true(gf_array_is_null(a, 2));
  assert_int_equal(gf_array_get_int64(a, 3), 1);
  assert_int_equal(*(const uint8_t *)gf_array_buffer(a, 1), 0x9);
  assert_int_equal(gf_array_stats(a)->min.i, 0);
  assert_int_equal(gf_array_stats(a)->max.i, 1);
  gf_array_release(a);
  gf_builder_free(b);

  b = new_builder(gf_type(GF_TYPE_UINT64));
  assert_int_equal(gf_builder_append_uint64(b, UINT64_MAX, NULL), GF_OK);
  assert_int_equal(gf_builder_append_int64(b, 3, NULL), GF_OK);
  a = finish(b);
  const gf_stats *s = gf_array_stats(a);
  assert_true(s->is_unsigned);
  assert_true(s->min.u == 3);
  assert_true(s->max.u == UINT64_MAX);
  assert_true(gf_array_get_uint64(a, 0) == UINT64_MAX);
  gf_array_release(a);
  gf_builder_free(b);
}

static void out_of_range_values_fail_with_erange(void **state) {
  (void)state;
  gf_error err;
  struct {
    gf_datatype t;
    int64_t v;
  } bad[] = {
      {gf_type(GF_TYPE_INT8), 300},        {gf_type(GF_TYPE_INT8), -129},
      {gf_type(GF_TYPE_INT16), 40000},     {gf_type(GF_TYPE_INT32), INT64_C(1) << 31},
      {gf_type(GF_TYPE_UINT8), -1},        {gf_type(GF_TYPE_UINT8), 256},
      {gf_type(GF_TYPE_UINT64), -1},       {gf_type(GF_TYPE_UINT32), INT64_C(1) << 32},
      {gf_type(GF_TYPE_DATE32), INT64_C(1) << 40}, {gf_type(GF_TYPE_BOOL), 2},
      {gf_type_time(GF_TYPE_TIME32, GF_UNIT_SECOND), -(INT64_C(1) << 33)},
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    gf_builder *b = new_builder(bad[k].t);
    assert_int_equal(gf_builder_append_int64(b, bad[k].v, &err), GF_ERANGE);
    assert_non_null(strstr(err.message, "out of range"));
    assert_int_equal(gf_builder_length(b), 0);
    gf_builder_free(b);
  }
  gf_builder *b = new_builder(gf_type(GF_TYPE_INT8));
  assert_int_equal(gf_builder_append_int64(b, 127, NULL), GF_OK);
  assert_int_equal(gf_builder_append_int64(b, -128, NULL), GF_OK);
  assert_int_equal(gf_builder_append_int64(b, 300, &err), GF_ERANGE);
  assert_string_equal(err.message, "value 300 out of range for int8");
  gf_array *a = finish(b);
  assert_int_equal(gf_array_length(a), 2);
  assert_int_equal(gf_array_get_int64(a, 1), -128);
  gf_array_release(a);
  gf_builder_free(b);

  b = new_builder(gf_type(GF_TYPE_INT64));
  assert_int_equal(gf_builder_append_uint64(b, UINT64_MAX, NULL), GF_ERANGE);
  assert_int_equal(gf_builder_append_int64(b, INT64_MIN, NULL), GF_OK);
  assert_int_equal(gf_builder_append_uint64(b, INT64_MAX, NULL), GF_OK);
  gf_builder_free(b);

  b = new_builder(gf_type(GF_TYPE_FLOAT32));
  assert_int_equal(gf_builder_append_double(b, 1e300, NULL), GF_ERANGE);
  assert_int_equal(gf_builder_append_double(b, INFINITY, NULL), GF_OK);
  assert_int_equal(gf_builder_append_double(b, 0.1, NULL), GF_OK);
  a = finish(b);
  assert_true(isinf(gf_array_get_double(a, 0)));
  assert_true(gf_array_get_double(a, 1) == (double)0.1f);
  gf_array_release(a);
  gf_builder_free(b);
}

static void wrong_append_kind_fails_with_etype(void **state) {
  (void)state;
  gf_error err;
  gf_builder *b = new_builder(gf_type(GF_TYPE_INT64));
  assert_int_equal(gf_builder_append_string(b, "x", &err), GF_ETYPE);
  assert_string_equal(err.message, "cannot append bytes to a int64 builder");
  assert_int_equal(gf_builder_append_double(b, 1.5, NULL), GF_ETYPE);
  assert_int_equal(gf_builder_append_bool(b, true, NULL), GF_ETYPE);
  gf_builder_free(b);
  b = new_builder(gf_type(GF_TYPE_UTF8));
  assert_int_equal(gf_builder_append_int64(b, 1, NULL), GF_ETYPE);
  assert_int_equal(gf_builder_append_double(b, 1, NULL), GF_ETYPE);
  gf_builder_free(b);
  b = new_builder(gf_type(GF_TYPE_FLOAT64));
  assert_int_equal(gf_builder_append_int64(b, 1, NULL), GF_ETYPE);
  assert_int_equal(gf_builder_append_bytes(b, "abcdefgh", 8, NULL), GF_ETYPE);
  gf_builder_free(b);
  b = new_builder(gf_type(GF_TYPE_NULL));
  assert_int_equal(gf_builder_append_int64(b, 1, NULL), GF_ETYPE);
  assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
  gf_array *a = finish(b);
  assert_int_equal(gf_array_null_count(a), 1);
  assert_true(gf_array_is_null(a, 0));
  gf_array_release(a);
  gf_builder_free(b);
  b = new_builder(gf_type_fixed_size_binary(4));
  assert_int_equal(gf_builder_append_bytes(b, "abc", 3, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "4 bytes"));
  assert_int_equal(gf_builder_append_bytes(b, "abcd", 4, NULL), GF_OK);
  gf_builder_free(b);
  /* Invalid type refused at creation. */
  assert_int_equal(gf_builder_new(gf_type_fixed_size_binary(0), NULL, &b, NULL), GF_EINVAL);
}

static void float_stats_follow_total_order_with_nan_last(void **state) {
  (void)state;
  double v[] = {1.0, -0.0, 0.0, NAN, -INFINITY};
  gf_array *a = gft_double_array(gf_type(GF_TYPE_FLOAT64), v, NULL, 5);
  const gf_stats *s = gf_array_stats(a);
  assert_true(s->is_float && s->has_min_max);
  assert_true(isinf(s->min.f) && s->min.f < 0);
  assert_true(isnan(s->max.f));
  gf_array_release(a);

  double z[] = {0.0, -0.0, 0.0};
  a = gft_double_array(gf_type(GF_TYPE_FLOAT32), z, NULL, 3);
  s = gf_array_stats(a);
  assert_true(s->min.f == 0.0 && signbit(s->min.f));
  assert_true(s->max.f == 0.0 && !signbit(s->max.f));
  gf_array_release(a);

  bool valid[] = {false, false};
  a = gft_double_array(gf_type(GF_TYPE_FLOAT64), z, valid, 2);
  assert_false(gf_array_stats(a)->has_min_max);
  assert_int_equal(gf_array_stats(a)->null_count, 2);
  gf_array_release(a);

  double nn[] = {NAN, 2.0};
  bool v2[] = {true, false};
  a = gft_double_array(gf_type(GF_TYPE_FLOAT64), nn, v2, 2);
  assert_true(isnan(gf_array_stats(a)->min.f));
  assert_true(isnan(gf_array_stats(a)->max.f));
  gf_array_release(a);
}

/* Bytes [from, to) of p are all zero. */
static void assert_zero_bytes(const void *p, size_t from, size_t to) {
  const uint8_t *b = p;
  for (size_t i = from; i < to; i++)
    if (b[i] != 0) fail_msg("byte %zu is 0x%02x, expected 0", i, b[i]);
}

static void null_slots_and_padding_are_zeroed(void **state) {
  (void)state;
  int64_t vals[37];
  bool valid[37];
  for (int i = 0; i < 37; i++) {
    vals[i] = -1; /* all bits set, so a leak would show */
    valid[i] = i % 3 != 0;
  }
  gf_array *a = gft_int64_array(gf_type(GF_TYPE_INT64), vals, valid, 37);
  const int64_t *d = gf_array_buffer(a, 1);
  for (int i = 0; i < 37; i++) assert_int_equal(d[i], valid[i] ? -1 : 0);
  assert_zero_bytes(d, 37 * 8, 64 * 5); /* padding up to 64 bytes */
  const uint8_t *v = gf_array_buffer(a, 0);
  assert_int_equal(v[4] & ~0x1f, 0); /* bits past length */
  assert_zero_bytes(v, 5, 64);
  gf_array_release(a);

  const char *s[] = {"hello", NULL, "w", NULL, "xyz"};
  a = gft_string_array(gf_type(GF_TYPE_UTF8), s, 5);
  const int32_t *o = gf_array_buffer(a, 1);
  assert_int_equal(o[1], 5);
  assert_int_equal(o[2], 5); /* null: empty */
  assert_int_equal(o[5], 9);
  assert_zero_bytes(o, 6 * 4, 64);
  const char *bytes = gf_array_buffer(a, 2);
  assert_memory_equal(bytes, "hellowxyz", 9);
  assert_zero_bytes(bytes, 9, 64);
  int64_t len;
  const char *p = gf_array_get_bytes(a, 4, &len);
  assert_int_equal(len, 3);
  assert_memory_equal(p, "xyz", 3);
  gf_array_release(a);

  /* A builder that grew and shrank (dictionary pops) keeps bytes zero. */
  const char *ds[] = {"aaaa", "bbbb", "aaaa", "bbbb", NULL};
  a = gft_string_array(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), ds, 5);
  const gf_array *dict = gf_array_dictionary(a);
  assert_int_equal(gf_array_length(dict), 2);
  assert_zero_bytes(gf_array_buffer(dict, 2), 8, 64);
  assert_zero_bytes(gf_array_buffer(a, 1), 4 * 4, 64);
  gf_array_release(a);
}

static void builder_is_reusable_after_finish(void **state) {
  (void)state;
  gf_builder *b = new_builder(gf_type(GF_TYPE_INT16));
  assert_int_equal(gf_builder_append_int64(b, 1, NULL), GF_OK);
  assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
  gf_array *a1 = finish(b);
  assert_int_equal(gf_builder_length(b), 0);
  assert_int_equal(gf_builder_append_int64(b, 3, NULL), GF_OK);
  gf_array *a2 = finish(b);
  assert_int_equal(gf_array_length(a1), 2);
  assert_int_equal(gf_array_length(a2), 1);
  assert_int_equal(gf_array_null_count(a2), 0);
  assert_int_equal(gf_array_get_int64(a1, 0), 1);
  assert_int_equal(gf_array_get_int64(a2, 0), 3);
  assert_int_equal(gf_array_stats(a2)->min.i, 3);
  gf_array *a3 = finish(b); /* empty */
  assert_int_equal(gf_array_length(a3), 0);
  assert_int_equal(gf_array_validate(a3, true, NULL), GF_OK);
  gf_array_release(a1);
  gf_array_release(a2);
  gf_array_release(a3);
  gf_builder_free(b);

  b = new_builder(gf_type_dictionary(gf_type(GF_TYPE_UTF8)));
  assert_int_equal(gf_builder_append_string(b, "x", NULL), GF_OK);
  a1 = finish(b);
  assert_int_equal(gf_builder_append_string(b, "y", NULL), GF_OK);
  assert_int_equal(gf_builder_append_string(b, "x", NULL), GF_OK);
  a2 = finish(b);
  assert_int_equal(gf_array_length(gf_array_dictionary(a1)), 1);
  assert_int_equal(gf_array_length(gf_array_dictionary(a2)), 2);
  int64_t len;
  assert_memory_equal(gf_array_get_bytes(a2, 0, &len), "y", 1);
  assert_int_equal(gf_array_get_int64(a2, 1), 1);
  gf_array_release(a1);
  gf_array_release(a2);
  gf_builder_free(b);

  /* Empty arrays of every type are valid. */
  gf_datatype all[GFT_MAX_TYPES];
  int n = gft_all_types(all, GFT_MAX_TYPES);
  for (int k = 0; k < n; k++) {
    b = new_builder(all[k]);
    a1 = finish(b);
    assert_int_equal(gf_array_length(a1), 0);
    assert_int_equal(gf_array_validate(a1, true, NULL), GF_OK);
    gf_array_release(a1);
    gf_builder_free(b);
  }
}

static void dictionary_builder_assigns_codes_in_first_appearance_order(void **state) {
  (void)state;
  const char *s[] = {"b", "a", "b", NULL, "c", "a", ""};
  gf_array *a = gft_string_array(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), s, 7);
  int32_t expect[] = {0, 1, 0, 0, 2, 1, 3};
  const int32_t *codes = gf_array_buffer(a, 1);
  for (int i = 0; i < 7; i++) assert_int_equal(codes[i], expect[i]);
  assert_true(gf_array_is_null(a, 3));
  const gf_array *d = gf_array_dictionary(a);
  assert_int_equal(gf_array_length(d), 4);
  int64_t len;
  assert_memory_equal(gf_array_get_bytes(d, 2, &len), "c", 1);
  assert_memory_equal(gf_array_get_bytes(a, 5, &len), "a", 1);
  assert_int_equal(len, 1);
  assert_null(gf_array_get_bytes(a, 3, &len));
  gf_array_get_bytes(a, 6, &len);
  assert_int_equal(len, 0);
  const gf_stats *st = gf_array_stats(a);
  assert_true(st->has_min_max);
  assert_int_equal(st->min.i, 0);
  assert_int_equal(st->max.i, 3);
  assert_int_equal(gf_array_validate(a, true, NULL), GF_OK);
  gf_array_release(a);

  /* Numeric dictionary values: range checks go through the value type. */
  gf_builder *b = new_builder(gf_type_dictionary(gf_type(GF_TYPE_INT8)));
  assert_int_equal(gf_builder_append_int64(b, 7, NULL), GF_OK);
  assert_int_equal(gf_builder_append_int64(b, 300, NULL), GF_ERANGE);
  assert_int_equal(gf_builder_append_string(b, "7", NULL), GF_ETYPE);
  assert_int_equal(gf_builder_append_int64(b, -7, NULL), GF_OK);
  assert_int_equal(gf_builder_append_int64(b, 7, NULL), GF_OK);
  a = finish(b);
  assert_int_equal(gf_array_length(a), 3);
  assert_int_equal(gf_array_length(gf_array_dictionary(a)), 2);
  assert_int_equal(gf_array_get_int64(gf_array_dictionary(a), 1), -7);
  assert_int_equal(gf_array_get_int64(a, 2), 0);
  gf_array_release(a);
  gf_builder_free(b);

  /* Many distinct values: the hash map grows, codes stay stable. */
  b = new_builder(gf_type_dictionary(gf_type(GF_TYPE_LARGE_UTF8)));
  char buf[32];
  for (int i = 0; i < 20000; i++) {
    snprintf(buf, sizeof buf, "key%05d", (i * 7919) % 5000);
    assert_int_equal(gf_builder_append_string(b, buf, NULL), GF_OK);
  }
  a = finish(b);
  d = gf_array_dictionary(a);
  assert_int_equal(gf_array_length(d), 5000);
  for (int i = 0; i < 20000; i++) {
    snprintf(buf, sizeof buf, "key%05d", (i * 7919) % 5000);
    const char *p = gf_array_get_bytes(a, i, &len);
    assert_int_equal(len, 8);
    assert_memory_equal(p, buf, 8);
  }
  assert_int_equal(gf_array_stats(a)->max.i, 4999);
  gf_array_release(a);
  gf_builder_free(b);

  /* Bool and float dictionaries hash by value bits. */
  b = new_builder(gf_type_dictionary(gf_type(GF_TYPE_FLOAT64)));
  assert_int_equal(gf_builder_append_double(b, 0.0, NULL), GF_OK);
  assert_int_equal(gf_builder_append_double(b, -0.0, NULL), GF_OK);
  assert_int_equal(gf_builder_append_double(b, NAN, NULL), GF_OK);
  assert_int_equal(gf_builder_append_double(b, NAN, NULL), GF_OK);
  a = finish(b);
  assert_int_equal(gf_array_length(gf_array_dictionary(a)), 3);
  gf_array_release(a);
  gf_builder_free(b);
  b = new_builder(gf_type_dictionary(gf_type(GF_TYPE_BOOL)));
  for (int i = 0; i < 10; i++)
    assert_int_equal(gf_builder_append_bool(b, i % 3 == 0, NULL), GF_OK);
  a = finish(b);
  assert_int_equal(gf_array_length(gf_array_dictionary(a)), 2);
  assert_true(gf_array_get_bool(gf_array_dictionary(a), 0));
  gf_array_release(a);
  gf_builder_free(b);
}

static void reserve_preallocates(void **state) {
  (void)state;
  gf_builder *b = new_builder(gf_type(GF_TYPE_BINARY));
  assert_int_equal(gf_builder_reserve(b, 1000, 10000, NULL), GF_OK);
  assert_int_equal(gf_builder_reserve(b, -1, 0, NULL), GF_EINVAL);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(gf_builder_append_bytes(b, "\0\1\2", 3, NULL), GF_OK);
  gf_array *a = finish(b);
  int64_t len;
  assert_memory_equal(gf_array_get_bytes(a, 999, &len), "\0\1\2", 3);
  gf_array_release(a);
  gf_builder_free(b);
}

/* Builds `t` with nulls through a failing allocator armed at 1, 2, ...
 * until a run succeeds; every failure is GF_ENOMEM and leaks nothing. */
static void sweep_type(gf_datatype t, bool persistent) {
  gf_failing_allocator *f = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &f, NULL), GF_OK);
  const gf_allocator *fa = gf_failing_allocator_get(f);
  gf_array *expect = NULL;
  assert_int_equal(gft_random_array(t, 400, 0.2, 7, NULL, &expect), GF_OK);
  for (int64_t at = 1;; at++) {
    gf_failing_allocator_arm(f, at, persistent);
    gf_array *got = NULL;
    gf_status st = gft_random_array(t, 400, 0.2, 7, fa, &got);
    bool failed = gf_failing_allocator_failures(f) > 0;
    if (st == GF_OK) {
      assert_true(gf_array_equals(got, expect));
      gf_array_release(got);
    } else {
      assert_int_equal(st, GF_ENOMEM);
      assert_null(got);
    }
    assert_int_equal(gf_failing_allocator_live_blocks(f), 0);
    if (!failed) {
      assert_int_equal(st, GF_OK);
      break;
    }
    assert_true(at < 10000);
  }
  gf_array_release(expect);
  gf_failing_allocator_free(f);
}

static void allocation_failures_in_builders_leak_nothing(void **state) {
  (void)state;
  gf_datatype all[GFT_MAX_TYPES];
  int n = gft_all_types(all, GFT_MAX_TYPES);
  for (int k = 0; k < n; k++) {
    sweep_type(all[k], false);
    sweep_type(all[k], true);
  }
}

static void random_frame_helper_covers_every_type(void **state) {
  (void)state;
  gf_datatype all[GFT_MAX_TYPES];
  int n = gft_all_types(all, GFT_MAX_TYPES);
  gf_frame *f = NULL, *g = NULL;
  assert_int_equal(gft_random_frame(all, n, 1000, 3, 0.1, 11, NULL, &f), GF_OK);
  assert_int_equal(gft_random_frame(all, n, 1000, 3, 0.1, 11, NULL, &g), GF_OK);
  assert_int_equal(gf_frame_num_rows(f), 1000);
  assert_int_equal(gf_frame_num_columns(f), n);
  assert_int_equal(gf_frame_num_batches(f), 3);
  assert_true(gf_frame_equals(f, g));
  for (int c = 0; c < n; c++)
    assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(f), c)->type, all[c]));
  gf_frame_release(f);
  gf_frame_release(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_type_round_trips_through_builder),
      cmocka_unit_test(integer_builder_reads_back_values_and_stats),
      cmocka_unit_test(temporal_bool_and_uint64_values),
      cmocka_unit_test(out_of_range_values_fail_with_erange),
      cmocka_unit_test(wrong_append_kind_fails_with_etype),
      cmocka_unit_test(float_stats_follow_total_order_with_nan_last),
      cmocka_unit_test(null_slots_and_padding_are_zeroed),
      cmocka_unit_test(builder_is_reusable_after_finish),
      cmocka_unit_test(dictionary_builder_assigns_codes_in_first_appearance_order),
      cmocka_unit_test(reserve_preallocates),
      cmocka_unit_test(allocation_failures_in_builders_leak_nothing),
      cmocka_unit_test(random_frame_helper_covers_every_type),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
