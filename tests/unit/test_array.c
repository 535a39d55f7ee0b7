/* Arrays: slicing at odd offsets, statistics over slices, equality,
 * validation of every corruption, dictionary unification. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "data/builder_internal.h"
#include "gf_test_data.h"
#include "gopherframe/testing.h"

/* A compact copy of a[off, off+len) built element by element. */
static gf_array *copy_range(const gf_array *a, int64_t off, int64_t len) {
  gf_builder *b = NULL;
  gf_array *out = NULL;
  gf_error err;
  assert_int_equal(gf_builder_new(a->type, NULL, &b, NULL), GF_OK);
  for (int64_t i = off; i < off + len; i++) {
    gf_status st;
    if (a->type.id == GF_TYPE_NULL || gf_array_is_null(a, i))
      st = gf_builder_append_null(b, &err);
    else if (a->type.id == GF_TYPE_DICTIONARY)
      st = gfi_builder_append_from(b, a->dictionary, gf_array_get_int64(a, i),
                                   NULL, &err);
    else
      st = gfi_builder_append_from(b, a, i, NULL, &err);
    if (st != GF_OK) fail_msg("copy: %s", err.message);
  }
  assert_int_equal(gf_builder_finish(b, &out, NULL), GF_OK);
  gf_builder_free(b);
  return out;
}

static void assert_same_stats(const gf_stats *x, const gf_stats *y) {
  assert_int_equal(x->null_count, y->null_count);
  assert_int_equal(x->has_min_max, y->has_min_max);
  if (!x->has_min_max) return;
  assert_memory_equal(&x->min, &y->min, sizeof x->min);
  assert_memory_equal(&x->max, &y->max, sizeof x->max);
}

static void slices_at_odd_offsets_match_copies(void **state) {
  (void)state;
  gf_datatype all[GFT_MAX_TYPES];
  int n = gft_all_types(all, GFT_MAX_TYPES);
  static const int64_t offs[] = {0, 1, 3, 7, 8, 9, 13, 63, 64, 65};
  static const int64_t lens[] = {0, 1, 5, 8, 17, 33};
  for (int k = 0; k < n; k++) {
    gf_array *a = NULL;
    assert_int_equal(gft_random_array(all[k], 130, 0.3, 99 + k, NULL, &a), GF_OK);
    for (size_t o = 0; o < sizeof offs / sizeof offs[0]; o++) {
      for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        gf_array *s = NULL, *c = copy_range(a, offs[o], lens[l]);
        gf_error err;
        assert_int_equal(gf_array_slice(a, offs[o], lens[l], &s, NULL), GF_OK);
        assert_int_equal(gf_array_offset(s), offs[o]);
        if (gf_array_validate(s, true, &err) != GF_OK)
          fail_msg("type %d slice %lld+%lld: %s", k, (long long)offs[o],
                   (long long)lens[l], err.message);
        assert_true(gf_array_equals(s, c));
        assert_true(gf_array_equals(c, s));
        assert_int_equal(gf_array_null_count(s), gf_array_null_count(c));
        if (gf_array_null_count(s) == 0) assert_null(gf_array_buffer(s, 0));
        if (all[k].id != GF_TYPE_DICTIONARY)
          assert_same_stats(gf_array_stats(s), gf_array_stats(c));
        /* A slice of a slice at another odd offset. */
        if (lens[l] > 3) {
          gf_array *ss = NULL, *cc = copy_range(a, offs[o] + 3, lens[l] - 3);
          assert_int_equal(gf_array_slice(s, 3, lens[l] - 3, &ss, NULL), GF_OK);
          assert_true(gf_array_equals(ss, cc));
          assert_int_equal(gf_array_validate(ss, true, NULL), GF_OK);
          gf_array_release(ss);
          gf_array_release(cc);
        }
        gf_array_release(s);
        gf_array_release(c);
      }
    }
    gf_array_release(a);
  }
}

static void slice_keeps_parent_alive_and_checks_bounds(void **state) {
  (void)state;
  int64_t v[] = {10, 20, 30, 40, 50};
  gf_array *a = gft_int64_array(gf_type(GF_TYPE_INT64), v, NULL, 5);
  gf_array *s = NULL;
  gf_error err;
  assert_int_equal(gf_array_slice(a, 4, 2, &s, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "out of bounds"));
  assert_int_equal(gf_array_slice(a, -1, 1, &s, NULL), GF_EINVAL);
  assert_int_equal(gf_array_slice(a, 5, 0, &s, NULL), GF_OK);
  assert_int_equal(gf_array_length(s), 0);
  gf_array_release(s);
  assert_int_equal(gf_array_slice(a, 1, 3, &s, NULL), GF_OK);
  gf_array_release(a);
  assert_int_equal(gf_array_get_int64(s, 0), 20);
  assert_int_equal(gf_array_stats(s)->min.i, 20);
  assert_int_equal(gf_array_stats(s)->max.i, 40);
  const int64_t *raw = gf_array_buffer(s, 1);
  assert_int_equal(raw[gf_array_offset(s)], 20);
  gf_array_release(s);
}

static void slice_stats_recomputed_over_bits(void **state) {
  (void)state;
  /* bools: slice at bit 3 sees only "true" values. */
  gf_builder *b = NULL;
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_BOOL), NULL, &b, NULL), GF_OK);
  for (int i = 0; i < 20; i++) {
    if (i == 5)
      assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
    else
      assert_int_equal(gf_builder_append_bool(b, i >= 3, NULL), GF_OK);
  }
  gf_array *a = NULL, *s = NULL;
  assert_int_equal(gf_builder_finish(b, &a, NULL), GF_OK);
  assert_int_equal(gf_array_stats(a)->min.i, 0);
  assert_int_equal(gf_array_slice(a, 3, 9, &s, NULL), GF_OK);
  assert_int_equal(gf_array_stats(s)->min.i, 1);
  assert_int_equal(gf_array_null_count(s), 1);
  assert_true(gf_array_is_null(s, 2));
  gf_array_release(s);
  assert_int_equal(gf_array_slice(a, 6, 9, &s, NULL), GF_OK);
  assert_int_equal(gf_array_null_count(s), 0);
  assert_null(gf_array_buffer(s, 0));
  gf_array_release(s);
  gf_array_release(a);
  gf_builder_free(b);
}

static void equals_compares_values_nulls_and_float_bits(void **state) {
  (void)state;
  int64_t v1[] = {1, 2, 3}, v2[] = {1, 2, 4};
  bool n1[] = {true, false, true}, n2[] = {true, true, false};
  gf_array *a = gft_int64_array(gf_type(GF_TYPE_INT64), v1, NULL, 3);
  gf_array *b = gft_int64_array(gf_type(GF_TYPE_INT64), v2, NULL, 3);
  gf_array *c = gft_int64_array(gf_type(GF_TYPE_INT32), v1, NULL, 3);
  gf_array *d = gft_int64_array(gf_type(GF_TYPE_INT64), v1, n1, 3);
  gf_array *e = gft_int64_array(gf_type(GF_TYPE_INT64), v2, n1, 3);
  gf_array *f = gft_int64_array(gf_type(GF_TYPE_INT64), v1, n2, 3);
  assert_true(gf_array_equals(a, a));
  assert_false(gf_array_equals(a, b));
  assert_false(gf_array_equals(a, c));
  assert_false(gf_array_equals(a, d));
  assert_false(gf_array_equals(d, e)); /* 3 vs 4 at a valid slot */
  assert_false(gf_array_equals(d, f));
  gf_array *s = NULL;
  assert_int_equal(gf_array_slice(a, 0, 2, &s, NULL), GF_OK);
  assert_false(gf_array_equals(a, s));
  gf_array_release(s);
  gf_array *arr[] = {a, b, c, d, e, f};
  for (int i = 0; i < 6; i++) gf_array_release(arr[i]);

  double x[] = {NAN, 0.0}, y[] = {NAN, -0.0};
  a = gft_double_array(gf_type(GF_TYPE_FLOAT64), x, NULL, 2);
  b = gft_double_array(gf_type(GF_TYPE_FLOAT64), x, NULL, 2);
  c = gft_double_array(gf_type(GF_TYPE_FLOAT64), y, NULL, 2);
  assert_true(gf_array_equals(a, b));
  assert_false(gf_array_equals(a, c));
  gf_array_release(a);
  gf_array_release(b);
  gf_array_release(c);

  /* Dictionary arrays compare by value, whatever the dictionaries. */
  const char *s1[] = {"x", "y", NULL, "x"}, *s2[] = {"y", "x"};
  gf_datatype dt = gf_type_dictionary(gf_type(GF_TYPE_UTF8));
  a = gft_string_array(dt, s1, 4);
  gf_builder *bb = NULL;
  assert_int_equal(gf_builder_new(dt, NULL, &bb, NULL), GF_OK);
  for (int i = 0; i < 2; i++) gf_builder_append_string(bb, s2[i], NULL);
  for (int i = 0; i < 4; i++)
    s1[i] ? gf_builder_append_string(bb, s1[i], NULL)
          : gf_builder_append_null(bb, NULL);
  gf_array *full = NULL;
  assert_int_equal(gf_builder_finish(bb, &full, NULL), GF_OK);
  assert_int_equal(gf_array_slice(full, 2, 4, &b, NULL), GF_OK);
  assert_int_equal(gf_array_get_int64(b, 0), 1); /* different codes */
  assert_true(gf_array_equals(a, b));
  c = gft_string_array(gf_type(GF_TYPE_UTF8), s1, 4);
  assert_false(gf_array_equals(a, c));
  gf_array_release(a);
  gf_array_release(b);
  gf_array_release(c);
  gf_array_release(full);
  gf_builder_free(bb);
}

/* A fresh buffer holding a copy of `size` bytes of `src` (zero-extended). */
static gf_buffer *copy_buf(const void *src, size_t copy, size_t size) {
  gf_buffer *b = NULL;
  assert_int_equal(gfi_buffer_alloc(NULL, size, &b), GF_OK);
  if (src && copy) memcpy(gf_buffer_mutable_data(b), src, copy < size ? copy : size);
  return b;
}

/* Makes an array like `a` from copies of its buffers (buffer i cut to
 * sizes[i] bytes when sizes[i] >= 0, dropped when -2) with null_count nc. */
static gf_array *remake(const gf_array *a, const int64_t sizes[3], int64_t nc,
                        gf_array *dict) {
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  for (int k = 0; k < 3; k++) {
    if (sizes[k] == -2 || (!a->buffers[k] && sizes[k] < 0)) continue;
    size_t have = a->buffers[k] ? gf_buffer_size(a->buffers[k]) : 0;
    size_t sz = sizes[k] >= 0 ? (size_t)sizes[k] : have;
    bufs[k] = copy_buf(a->buffers[k] ? gf_buffer_data(a->buffers[k]) : NULL,
                       have, sz);
  }
  gf_array *out = NULL;
  assert_int_equal(gfi_array_make(NULL, a->type, a->length, a->offset, nc, bufs,
                                  dict, &out, NULL),
                   GF_OK);
  return out;
}

static void expect_invalid(gf_array *bad, bool utf8, const char *needle) {
  gf_error err;
  gf_error_clear(&err);
  assert_int_equal(gf_array_validate(bad, utf8, &err), GF_EINVAL);
  if (!strstr(err.message, needle))
    fail_msg("message \"%s\" lacks \"%s\"", err.message, needle);
  gf_array_release(bad);
}

static void validate_catches_each_corruption(void **state) {
  (void)state;
  const int64_t keep[3] = {-1, -1, -1};
  int64_t v[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  bool valid[] = {true, false, true, true, true, true, false, true, true, true};
  gf_array *ints = gft_int64_array(gf_type(GF_TYPE_INT32), v, valid, 10);
  gf_array *good = remake(ints, keep, 2, NULL);
  assert_int_equal(gf_array_validate(good, true, NULL), GF_OK);
  assert_true(gf_array_equals(good, ints));
  gf_array_release(good);
  expect_invalid(remake(ints, (int64_t[3]){-1, 36, -1}, 2, NULL), false,
                 "data buffer has 36 bytes, needs 40");
  expect_invalid(remake(ints, keep, 3, NULL), false,
                 "null count is 3 but the bitmap has 2 nulls");
  expect_invalid(remake(ints, (int64_t[3]){-2, -1, -1}, 2, NULL), false,
                 "no validity bitmap");
  expect_invalid(remake(ints, (int64_t[3]){1, -1, -1}, 2, NULL), false,
                 "validity buffer has 1 bytes, needs 2");
  expect_invalid(remake(ints, (int64_t[3]){-1, -1, 8}, 2, NULL), false,
                 "unexpected buffer 2");
  expect_invalid(remake(ints, (int64_t[3]){-1, -2, -1}, 2, NULL), false,
                 "no data buffer");
  gf_array *dict0 = gft_int64_array(gf_type(GF_TYPE_INT32), v, NULL, 2);
  expect_invalid(remake(ints, keep, 2, dict0), false, "has a dictionary");
  gf_array_release(ints);

  /* Strings. */
  const char *s[] = {"ab", "c", "\xc3\xa9t\xc3", "", NULL, "zz"};
  gf_array *str = gft_string_array(gf_type(GF_TYPE_UTF8), s, 6);
  assert_int_equal(gf_array_validate(str, false, NULL), GF_OK);
  gf_error err;
  assert_int_equal(gf_array_validate(str, true, &err), GF_EINVAL);
  assert_string_equal(err.message, "invalid UTF-8 in element 2 at byte 3");
  gf_array *bad = remake(str, keep, 1, NULL);
  int32_t *o = gf_buffer_mutable_data(bad->buffers[1]);
  o[2] = 1; /* element 1 ends before it starts */
  expect_invalid(bad, false, "offsets not monotonic at element 1 (1 < 2)");
  bad = remake(str, keep, 1, NULL);
  o = gf_buffer_mutable_data(bad->buffers[1]);
  o[6] = 1000;
  expect_invalid(bad, false, "element 5 ends at byte 1000, past the 9-byte");
  bad = remake(str, keep, 1, NULL);
  o = gf_buffer_mutable_data(bad->buffers[1]);
  o[0] = -4;
  expect_invalid(bad, false, "negative");
  expect_invalid(remake(str, (int64_t[3]){-1, 20, -1}, 1, NULL), false,
                 "offsets buffer has 20 bytes, needs 28");
  expect_invalid(remake(str, (int64_t[3]){-1, -2, -1}, 1, NULL), false,
                 "no offsets buffer");
  /* Overlong encodings and surrogates are refused too. */
  const char *ov[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok\xe6\x97"};
  for (int i = 0; i < 4; i++) {
    gf_array *x = gft_string_array(gf_type(GF_TYPE_LARGE_UTF8), &ov[i], 1);
    expect_invalid(x, true, "invalid UTF-8 in element 0");
  }
  const char *ok[] = {"\xf0\x9f\x98\x80 \xe6\x97\xa5 \xc3\xa9 plain"};
  gf_array *x = gft_string_array(gf_type(GF_TYPE_UTF8), ok, 1);
  assert_int_equal(gf_array_validate(x, true, NULL), GF_OK);
  gf_array_release(x);
  gf_array_release(str);

  /* Bools. */
  gf_array *bools = NULL;
  assert_int_equal(gft_random_array(gf_type(GF_TYPE_BOOL), 20, 0.0, 1, NULL, &bools), GF_OK);
  expect_invalid(remake(bools, (int64_t[3]){-1, 2, -1}, 0, NULL), false,
                 "data buffer has 2 bytes, needs 3");
  gf_array_release(bools);

  /* Dictionaries. */
  const char *ds[] = {"a", "b", NULL, "a"};
  gf_datatype dt = gf_type_dictionary(gf_type(GF_TYPE_UTF8));
  gf_array *dict = gft_string_array(dt, ds, 4);
  bad = remake(dict, keep, 1, dict->dictionary);
  assert_int_equal(gf_array_validate(bad, true, NULL), GF_OK);
  ((int32_t *)gf_buffer_mutable_data(bad->buffers[1]))[3] = 99;
  expect_invalid(bad, false, "dictionary code 99 at element 3 is outside [0, 2)");
  bad = remake(dict, keep, 1, dict->dictionary);
  ((int32_t *)gf_buffer_mutable_data(bad->buffers[1]))[0] = -1;
  expect_invalid(bad, false, "dictionary code -1 at element 0");
  /* A code in a null slot is not checked. */
  bad = remake(dict, keep, 1, dict->dictionary);
  ((int32_t *)gf_buffer_mutable_data(bad->buffers[1]))[2] = 99;
  assert_int_equal(gf_array_validate(bad, false, NULL), GF_OK);
  gf_array_release(bad);
  expect_invalid(remake(dict, keep, 1, NULL), false, "has no dictionary");
  expect_invalid(remake(dict, keep, 1, dict0), false,
                 "dictionary of type int32 does not match dictionary<utf8>");
  /* The dictionary itself is validated. */
  const char *bad_utf8[] = {"\xff"};
  gf_array *bd = gft_string_array(gf_type(GF_TYPE_UTF8), bad_utf8, 1);
  gf_buffer *cb[3] = {NULL, copy_buf(NULL, 0, 4), NULL};
  gf_array *da = NULL;
  assert_int_equal(gfi_array_make(NULL, dt, 1, 0, 0, cb, bd, &da, NULL), GF_OK);
  expect_invalid(da, true, "dictionary: invalid UTF-8 in element 0");
  gf_array_release(bd);
  gf_array_release(dict);
  gf_array_release(dict0);
}

static void array_make_counts_nulls_and_drops_empty_bitmaps(void **state) {
  (void)state;
  gf_buffer *bufs[3] = {copy_buf("\x05", 1, 1), copy_buf(NULL, 0, 24), NULL};
  gf_array *a = NULL;
  assert_int_equal(gfi_array_make(NULL, gf_type(GF_TYPE_INT64), 3, 0, -1, bufs,
                                  NULL, &a, NULL),
                   GF_OK);
  assert_null(bufs[1]); /* ownership taken */
  assert_int_equal(gf_array_null_count(a), 1);
  assert_true(gf_array_is_null(a, 1));
  gf_array_release(a);
  gf_buffer *b2[3] = {copy_buf("\x07", 1, 1), copy_buf(NULL, 0, 24), NULL};
  assert_int_equal(gfi_array_make(NULL, gf_type(GF_TYPE_INT64), 3, 0, -1, b2,
                                  NULL, &a, NULL),
                   GF_OK);
  assert_int_equal(gf_array_null_count(a), 0);
  assert_null(gf_array_buffer(a, 0));
  /* Stats are computed from the data. */
  assert_true(gf_array_stats(a)->has_min_max);
  assert_int_equal(gf_array_stats(a)->max.i, 0);
  gf_array_release(a);
  /* Too-small buffers: no statistics, no crash. */
  gf_buffer *b3[3] = {NULL, copy_buf(NULL, 0, 8), NULL};
  assert_int_equal(gfi_array_make(NULL, gf_type(GF_TYPE_INT64), 3, 0, 0, b3,
                                  NULL, &a, NULL),
                   GF_OK);
  assert_false(gf_array_stats(a)->has_min_max);
  gf_array_release(a);
}

static void unify_merges_dictionaries_in_order(void **state) {
  (void)state;
  gf_datatype dt = gf_type_dictionary(gf_type(GF_TYPE_UTF8));
  const char *s1[] = {"a", "b", "a", NULL}, *s2[] = {"c", "b", "d"},
             *s3[] = {"b", "a"};
  gf_array *in[3] = {gft_string_array(dt, s1, 4), gft_string_array(dt, s2, 3),
                     gft_string_array(dt, s3, 2)};
  gf_array *out[3] = {NULL, NULL, NULL};
  assert_int_equal(gfi_dictionary_unify(in, 3, NULL, out, NULL), GF_OK);
  const gf_array *d = gf_array_dictionary(out[0]);
  assert_ptr_equal(gf_array_dictionary(out[1]), d);
  assert_ptr_equal(gf_array_dictionary(out[2]), d);
  assert_int_equal(gf_array_length(d), 4);
  const char *expect[] = {"a", "b", "c", "d"};
  for (int i = 0; i < 4; i++) {
    int64_t len;
    assert_memory_equal(gf_array_get_bytes(d, i, &len), expect[i], 1);
  }
  for (int i = 0; i < 3; i++) {
    assert_true(gf_array_equals(out[i], in[i]));
    assert_int_equal(gf_array_validate(out[i], true, NULL), GF_OK);
  }
  assert_int_equal(gf_array_get_int64(out[1], 0), 2);
  assert_int_equal(gf_array_get_int64(out[1], 2), 3);
  /* Already unified: the outputs are the inputs. */
  gf_array *again[3];
  assert_int_equal(gfi_dictionary_unify(out, 3, NULL, again, NULL), GF_OK);
  for (int i = 0; i < 3; i++) {
    assert_ptr_equal(again[i], out[i]);
    gf_array_release(again[i]);
  }
  /* A slice of a unified array at an odd offset unifies with a fresh one. */
  gf_array *sl = NULL, *pair[2], *res[2];
  assert_int_equal(gf_array_slice(out[1], 1, 2, &sl, NULL), GF_OK);
  pair[0] = sl;
  pair[1] = in[0];
  assert_int_equal(gfi_dictionary_unify(pair, 2, NULL, res, NULL), GF_OK);
  assert_true(gf_array_equals(res[0], sl));
  assert_true(gf_array_equals(res[1], in[0]));
  assert_ptr_equal(gf_array_dictionary(res[0]), gf_array_dictionary(res[1]));
  gf_array_release(res[0]);
  gf_array_release(res[1]);
  gf_array_release(sl);
  /* Type mismatch. */
  gf_array *other = NULL;
  assert_int_equal(gft_random_array(gf_type_dictionary(gf_type(GF_TYPE_INT32)),
                                    5, 0, 1, NULL, &other),
                   GF_OK);
  pair[0] = in[0];
  pair[1] = other;
  gf_error err;
  assert_int_equal(gfi_dictionary_unify(pair, 2, NULL, res, &err), GF_ETYPE);
  assert_non_null(strstr(err.message, "dictionary<int32>"));
  pair[1] = in[0]->dictionary;
  assert_int_equal(gfi_dictionary_unify(pair, 2, NULL, res, NULL), GF_ETYPE);
  gf_array_release(other);
  for (int i = 0; i < 3; i++) {
    gf_array_release(in[i]);
    gf_array_release(out[i]);
  }
}

/* The limited merge: over the limit every output is NULL (nothing leaks);
 * at or under it the result is the unlimited merge's. The inputs hold
 * {a,b}, {c,b,d}, {b,a}: 2, 4, 4 distinct values after each. */
static void unify_max_stops_over_the_limit(void **state) {
  (void)state;
  gf_datatype dt = gf_type_dictionary(gf_type(GF_TYPE_UTF8));
  const char *s1[] = {"a", "b", "a", NULL}, *s2[] = {"c", "b", "d"},
             *s3[] = {"b", "a"};
  gf_array *in[3] = {gft_string_array(dt, s1, 4), gft_string_array(dt, s2, 3),
                     gft_string_array(dt, s3, 2)};
  for (int64_t max = 0; max <= 5; max++) {
    gf_array *out[3] = {NULL, NULL, NULL};
    assert_int_equal(gfi_dictionary_unify_max(in, 3, max, NULL, out, NULL), GF_OK);
    if (max < 4) {
      for (int i = 0; i < 3; i++) assert_null(out[i]);
      continue;
    }
    const gf_array *d = gf_array_dictionary(out[0]);
    assert_int_equal(gf_array_length(d), 4);
    for (int i = 0; i < 3; i++) {
      assert_true(gf_array_equals(out[i], in[i]));
      assert_ptr_equal(gf_array_dictionary(out[i]), d);
    }
    for (int i = 0; i < 3; i++) gf_array_release(out[i]);
  }
  /* Inputs already sharing one dictionary of 4 values. */
  gf_array *u[3], *again[3];
  assert_int_equal(gfi_dictionary_unify(in, 3, NULL, u, NULL), GF_OK);
  assert_int_equal(gfi_dictionary_unify_max(u, 3, 3, NULL, again, NULL), GF_OK);
  for (int i = 0; i < 3; i++) assert_null(again[i]);
  assert_int_equal(gfi_dictionary_unify_max(u, 3, 4, NULL, again, NULL), GF_OK);
  for (int i = 0; i < 3; i++) {
    assert_ptr_equal(again[i], u[i]);
    gf_array_release(again[i]);
    gf_array_release(u[i]);
    gf_array_release(in[i]);
  }
}

static void unify_maps_null_dictionary_values_to_null(void **state) {
  (void)state;
  /* A foreign dictionary holding a null value: codes pointing at it become
   * null slots. */
  const char *vals[] = {"p", NULL, "q"};
  gf_array *dv = gft_string_array(gf_type(GF_TYPE_UTF8), vals, 3);
  gf_datatype dt = gf_type_dictionary(gf_type(GF_TYPE_UTF8));
  int32_t codes[] = {0, 1, 2, 1};
  gf_buffer *b[3] = {NULL, copy_buf(codes, sizeof codes, sizeof codes), NULL};
  gf_array *a = NULL;
  assert_int_equal(gfi_array_make(NULL, dt, 4, 0, 0, b, dv, &a, NULL), GF_OK);
  const char *other[] = {"q"};
  gf_array *c = gft_string_array(dt, other, 1);
  gf_array *in[2] = {c, a}, *out[2];
  assert_int_equal(gfi_dictionary_unify(in, 2, NULL, out, NULL), GF_OK);
  assert_int_equal(gf_array_null_count(out[1]), 2);
  assert_true(gf_array_is_null(out[1], 1));
  assert_true(gf_array_is_null(out[1], 3));
  assert_int_equal(gf_array_get_int64(out[1], 2), 0);
  assert_int_equal(gf_array_validate(out[1], true, NULL), GF_OK);
  for (int i = 0; i < 2; i++) gf_array_release(out[i]);
  gf_array_release(a);
  gf_array_release(c);
  gf_array_release(dv);
}

static void unify_allocation_failures_leak_nothing(void **state) {
  (void)state;
  gf_datatype dt = gf_type_dictionary(gf_type(GF_TYPE_UTF8));
  gf_array *in[3];
  for (int i = 0; i < 3; i++)
    assert_int_equal(gft_random_array(dt, 200, 0.1, 5 + i, NULL, &in[i]), GF_OK);
  gf_failing_allocator *f = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &f, NULL), GF_OK);
  for (int64_t at = 1;; at++) {
    gf_failing_allocator_arm(f, at, false);
    gf_array *out[3] = {NULL, NULL, NULL};
    gf_status st = gfi_dictionary_unify(in, 3, gf_failing_allocator_get(f), out, NULL);
    bool failed = gf_failing_allocator_failures(f) > 0;
    if (st == GF_OK) {
      for (int i = 0; i < 3; i++) {
        assert_true(gf_array_equals(out[i], in[i]));
        gf_array_release(out[i]);
      }
    } else {
      assert_int_equal(st, GF_ENOMEM);
      for (int i = 0; i < 3; i++) assert_null(out[i]);
    }
    assert_int_equal(gf_failing_allocator_live_blocks(f), 0);
    if (!failed) break;
    assert_true(at < 10000);
  }
  gf_failing_allocator_free(f);
  for (int i = 0; i < 3; i++) gf_array_release(in[i]);
}

static void accessors_convert_between_kinds(void **state) {
  (void)state;
  double d[] = {-2.75, 1e19, NAN};
  gf_array *a = gft_double_array(gf_type(GF_TYPE_FLOAT64), d, NULL, 3);
  assert_int_equal(gf_array_get_int64(a, 0), -2);
  assert_int_equal(gf_array_get_int64(a, 1), 0); /* out of range */
  assert_int_equal(gf_array_get_int64(a, 2), 0);
  assert_true(gf_array_get_uint64(a, 1) == (uint64_t)1e19);
  assert_true(gf_array_get_uint64(a, 0) == 0);
  assert_true(gf_array_get_bool(a, 0));
  gf_array_release(a);
  const char *fsb[] = {"abcd", "wxyz"};
  a = gft_string_array(gf_type_fixed_size_binary(4), fsb, 2);
  int64_t len;
  assert_memory_equal(gf_array_get_bytes(a, 1, &len), "wxyz", 4);
  assert_int_equal(len, 4);
  assert_null(gf_array_buffer(a, 2));
  assert_null(gf_array_buffer(a, 7));
  gf_array_release(a);
  int64_t u[] = {200};
  a = gft_int64_array(gf_type(GF_TYPE_UINT8), u, NULL, 1);
  assert_int_equal(gf_array_get_int64(a, 0), 200);
  assert_true(gf_array_get_double(a, 0) == 200.0);
  assert_ptr_equal(gf_array_retain(a), a);
  gf_array_release(a);
  gf_array_release(a);
  gf_array_release(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(slices_at_odd_offsets_match_copies),
      cmocka_unit_test(slice_keeps_parent_alive_and_checks_bounds),
      cmocka_unit_test(slice_stats_recomputed_over_bits),
      cmocka_unit_test(equals_compares_values_nulls_and_float_bits),
      cmocka_unit_test(validate_catches_each_corruption),
      cmocka_unit_test(array_make_counts_nulls_and_drops_empty_bitmaps),
      cmocka_unit_test(unify_merges_dictionaries_in_order),
      cmocka_unit_test(unify_maps_null_dictionary_values_to_null),
      cmocka_unit_test(unify_max_stops_over_the_limit),
      cmocka_unit_test(unify_allocation_failures_leak_nothing),
      cmocka_unit_test(accessors_convert_between_kinds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
