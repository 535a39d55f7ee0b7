/* Concatenation: every type, odd-offset slices, dictionaries with
 * different dictionaries, zeroed null slots, allocation failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "data/builder_internal.h"
#include "gf_test_data.h"
#include "gopherframe/testing.h"

/* The expected concatenation, built element by element. */
static gf_array *concat_by_builder(gf_array *const *in, int n) {
  gf_builder *b = NULL;
  gf_array *out = NULL;
  assert_int_equal(gf_builder_new(in[0]->type, NULL, &b, NULL), GF_OK);
  for (int k = 0; k < n; k++) {
    const gf_array *a = in[k];
    for (int64_t i = 0; i < a->length; i++) {
      gf_status st;
      if (a->type.id == GF_TYPE_NULL || gf_array_is_null(a, i))
        st = gf_builder_append_null(b, NULL);
      else if (a->type.id == GF_TYPE_DICTIONARY)
        st = gfi_builder_append_from(b, a->dictionary, gf_array_get_int64(a, i),
                                     NULL, NULL);
      else
        st = gfi_builder_append_from(b, a, i, NULL, NULL);
      assert_int_equal(st, GF_OK);
    }
  }
  assert_int_equal(gf_builder_finish(b, &out, NULL), GF_OK);
  gf_builder_free(b);
  return out;
}

/* Five pieces of type t: fresh arrays of several lengths and slices at odd
 * offsets, with and without nulls. */
static void make_pieces(gf_datatype t, uint64_t seed, gf_array *p[5]) {
  gf_array *big = NULL;
  assert_int_equal(gft_random_array(t, 0, 0.0, seed, NULL, &p[0]), GF_OK);
  assert_int_equal(gft_random_array(t, 13, 0.3, seed + 1, NULL, &p[1]), GF_OK);
  assert_int_equal(gft_random_array(t, 100, 0.2, seed + 2, NULL, &big), GF_OK);
  assert_int_equal(gf_array_slice(big, 7, 45, &p[2], NULL), GF_OK);
  assert_int_equal(gft_random_array(t, 9, 0.0, seed + 3, NULL, &p[3]), GF_OK);
  assert_int_equal(gf_array_slice(big, 3, 1, &p[4], NULL), GF_OK);
  gf_array_release(big);
}

static void concat_every_type_matches_element_copy(void **state) {
  (void)state;
  gf_datatype all[GFT_MAX_TYPES];
  int n = gft_all_types(all, GFT_MAX_TYPES);
  for (int k = 0; k < n; k++) {
    gf_array *p[5];
    make_pieces(all[k], 300 + k, p);
    for (int cnt = 1; cnt <= 5; cnt++) {
      gf_array *got = NULL, *expect = concat_by_builder(p, cnt);
      gf_error err;
      if (gf_array_concat((const gf_array *const *)p, cnt, NULL, &got, &err) != GF_OK)
        fail_msg("type %d: %s", k, err.message);
      assert_int_equal(gf_array_offset(got), 0);
      if (gf_array_validate(got, true, &err) != GF_OK)
        fail_msg("type %d: %s", k, err.message);
      assert_true(gf_array_equals(got, expect));
      if (all[k].id != GF_TYPE_DICTIONARY) {
        const gf_stats *a = gf_array_stats(got), *b = gf_array_stats(expect);
        assert_int_equal(a->has_min_max, b->has_min_max);
        if (a->has_min_max) {
          assert_memory_equal(&a->min, &b->min, sizeof a->min);
          assert_memory_equal(&a->max, &b->max, sizeof a->max);
        }
      }
      if (gf_array_null_count(got) == 0) assert_null(gf_array_buffer(got, 0));
      gf_array_release(got);
      gf_array_release(expect);
    }
    for (int i = 0; i < 5; i++) gf_array_release(p[i]);
  }
}

static void concat_merges_different_dictionaries(void **state) {
  (void)state;
  gf_datatype dt = gf_type_dictionary(gf_type(GF_TYPE_UTF8));
  const char *s1[] = {"red", "green", NULL, "red"};
  const char *s2[] = {"blue", "red", "blue"};
  const char *s3[] = {NULL, "green", "violet", "green", "blue", "x"};
  gf_array *in[3] = {gft_string_array(dt, s1, 4), gft_string_array(dt, s2, 3),
                     NULL};
  gf_array *t3 = gft_string_array(dt, s3, 6);
  assert_int_equal(gf_array_slice(t3, 1, 3, &in[2], NULL), GF_OK); /* green violet green */
  gf_array *out = NULL;
  assert_int_equal(gf_array_concat((const gf_array *const *)in, 3, NULL, &out, NULL), GF_OK);
  const gf_array *d = gf_array_dictionary(out);
  assert_non_null(d);
  /* Values in order of first appearance across the inputs' dictionaries. */
  const char *dv[] = {"red", "green", "blue", "violet", "x"};
  assert_int_equal(gf_array_length(d), 5);
  for (int i = 0; i < 5; i++) {
    int64_t len;
    const char *p = gf_array_get_bytes(d, i, &len);
    assert_int_equal(len, (int64_t)strlen(dv[i]));
    assert_memory_equal(p, dv[i], (size_t)len);
  }
  const int32_t expect_codes[] = {0, 1, 0, 0, 2, 0, 2, 1, 3, 1};
  const int32_t *codes = gf_array_buffer(out, 1);
  for (int i = 0; i < 10; i++) assert_int_equal(codes[i], expect_codes[i]);
  assert_true(gf_array_is_null(out, 2));
  assert_int_equal(gf_array_null_count(out), 1);
  assert_int_equal(gf_array_stats(out)->max.i, 3);
  assert_int_equal(gf_array_validate(out, true, NULL), GF_OK);
  gf_array_release(out);
  /* Inputs sharing one dictionary keep it. */
  gf_array *same[2] = {in[2], t3};
  assert_int_equal(gf_array_concat((const gf_array *const *)same, 2, NULL, &out, NULL), GF_OK);
  assert_ptr_equal(gf_array_dictionary(out), gf_array_dictionary(t3));
  assert_int_equal(gf_array_length(out), 9);
  gf_array_release(out);
  for (int i = 0; i < 3; i++) gf_array_release(in[i]);
  gf_array_release(t3);
}

static void concat_zeroes_garbage_in_null_slots(void **state) {
  (void)state;
  /* An imported-style array whose null slots hold garbage. */
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  assert_int_equal(gfi_buffer_alloc(NULL, 1, &bufs[0]), GF_OK);
  assert_int_equal(gfi_buffer_alloc(NULL, 4 * 8, &bufs[1]), GF_OK);
  *(uint8_t *)gf_buffer_mutable_data(bufs[0]) = 0x5; /* 0 and 2 valid */
  int64_t *d = gf_buffer_mutable_data(bufs[1]);
  d[0] = 1;
  d[1] = 0x7777;
  d[2] = 3;
  d[3] = 0x8888;
  gf_array *a = NULL, *out = NULL;
  assert_int_equal(gfi_array_make(NULL, gf_type(GF_TYPE_INT64), 4, 0, -1, bufs,
                                  NULL, &a, NULL),
                   GF_OK);
  assert_int_equal(gf_array_null_count(a), 2);
  const gf_array *one[1] = {a};
  assert_int_equal(gf_array_concat(one, 1, NULL, &out, NULL), GF_OK);
  const int64_t *o = gf_array_buffer(out, 1);
  assert_int_equal(o[0], 1);
  assert_int_equal(o[1], 0);
  assert_int_equal(o[2], 3);
  assert_int_equal(o[3], 0);
  gf_array_release(out);
  gf_array_release(a);

  /* Bool values under nulls are cleared too. */
  gf_buffer *bb[3] = {NULL, NULL, NULL};
  assert_int_equal(gfi_buffer_alloc(NULL, 1, &bb[0]), GF_OK);
  assert_int_equal(gfi_buffer_alloc(NULL, 1, &bb[1]), GF_OK);
  *(uint8_t *)gf_buffer_mutable_data(bb[0]) = 0x3;
  *(uint8_t *)gf_buffer_mutable_data(bb[1]) = 0xff;
  assert_int_equal(gfi_array_make(NULL, gf_type(GF_TYPE_BOOL), 5, 0, -1, bb,
                                  NULL, &a, NULL),
                   GF_OK);
  one[0] = a;
  assert_int_equal(gf_array_concat(one, 1, NULL, &out, NULL), GF_OK);
  assert_int_equal(*(const uint8_t *)gf_array_buffer(out, 1), 0x3);
  gf_array_release(out);
  gf_array_release(a);
}

static void concat_rejects_mismatched_types_and_empty_input(void **state) {
  (void)state;
  int64_t v[] = {1};
  gf_array *a = gft_int64_array(gf_type(GF_TYPE_INT64), v, NULL, 1);
  gf_array *b = gft_int64_array(gf_type(GF_TYPE_INT32), v, NULL, 1);
  gf_array *c = gft_int64_array(gf_type_timestamp(GF_UNIT_MILLI, true, 0), v, NULL, 1);
  gf_array *d = gft_int64_array(gf_type_timestamp(GF_UNIT_MILLI, false, 0), v, NULL, 1);
  const gf_array *ab[2] = {a, b}, *cd[2] = {c, d};
  gf_array *out = NULL;
  gf_error err;
  assert_int_equal(gf_array_concat(ab, 2, NULL, &out, &err), GF_ETYPE);
  assert_string_equal(err.message, "cannot concatenate int64 with int32 (array 1)");
  assert_int_equal(gf_array_concat(cd, 2, NULL, &out, &err), GF_ETYPE);
  assert_non_null(strstr(err.message, "timestamp[ms, UTC]"));
  assert_int_equal(gf_array_concat(ab, 0, NULL, &out, NULL), GF_EINVAL);
  assert_null(out);
  gf_array_release(a);
  gf_array_release(b);
  gf_array_release(c);
  gf_array_release(d);
}

static void concat_allocation_failures_leak_nothing(void **state) {
  (void)state;
  gf_datatype all[GFT_MAX_TYPES];
  int n = gft_all_types(all, GFT_MAX_TYPES);
  gf_failing_allocator *f = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &f, NULL), GF_OK);
  for (int k = 0; k < n; k++) {
    gf_array *p[5];
    make_pieces(all[k], 700 + k, p);
    gf_array *expect = concat_by_builder(p, 5);
    for (int persistent = 0; persistent < 2; persistent++) {
      for (int64_t at = 1;; at++) {
        gf_failing_allocator_arm(f, at, persistent);
        gf_array *got = NULL;
        gf_status st = gf_array_concat((const gf_array *const *)p, 5,
                                       gf_failing_allocator_get(f), &got, NULL);
        bool failed = gf_failing_allocator_failures(f) > 0;
        if (st == GF_OK) {
          assert_true(gf_array_equals(got, expect));
          gf_array_release(got);
        } else {
          assert_int_equal(st, GF_ENOMEM);
          assert_null(got);
        }
        assert_int_equal(gf_failing_allocator_live_blocks(f), 0);
        if (!failed) break;
        assert_true(at < 1000);
      }
    }
    gf_array_release(expect);
    for (int i = 0; i < 5; i++) gf_array_release(p[i]);
  }
  gf_failing_allocator_free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(concat_every_type_matches_element_copy),
      cmocka_unit_test(concat_merges_different_dictionaries),
      cmocka_unit_test(concat_zeroes_garbage_in_null_slots),
      cmocka_unit_test(concat_rejects_mismatched_types_and_empty_input),
      cmocka_unit_test(concat_allocation_failures_leak_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
