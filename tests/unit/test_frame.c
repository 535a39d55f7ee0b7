/* Frames: construction and its errors, zero-copy slices across batch
 * boundaries, concat with dictionary unification, combine_batches, equality,
 * and allocation-failure sweeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "data/array_internal.h"
#include "gopherframe/testing.h"

/* ---- helpers ---------------------------------------------------------- */

/* int64 array of v[0..n); entries equal to INT64_MIN become nulls. */
static gf_array *make_i64(const gf_allocator *a, const int64_t *v, int n) {
  gf_builder *b;
  gf_array *out;
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_INT64), a, &b, NULL), GF_OK);
  for (int i = 0; i < n; i++) {
    if (v[i] == INT64_MIN)
      assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
    else
      assert_int_equal(gf_builder_append_int64(b, v[i], NULL), GF_OK);
  }
  assert_int_equal(gf_builder_finish(b, &out, NULL), GF_OK);
  gf_builder_free(b);
  return out;
}

/* Array of type t from strings (NULL entries become nulls). */
static gf_array *make_strs(const gf_allocator *a, gf_datatype t, const char *const *v, int n) {
  gf_builder *b;
  gf_array *out;
  assert_int_equal(gf_builder_new(t, a, &b, NULL), GF_OK);
  for (int i = 0; i < n; i++) {
    if (!v[i])
      assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
    else
      assert_int_equal(gf_builder_append_string(b, v[i], NULL), GF_OK);
  }
  assert_int_equal(gf_builder_finish(b, &out, NULL), GF_OK);
  gf_builder_free(b);
  return out;
}

/* bool array: 0 false, 1 true, 2 null. */
static gf_array *make_bool(const gf_allocator *a, const int *v, int n) {
  gf_builder *b;
  gf_array *out;
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_BOOL), a, &b, NULL), GF_OK);
  for (int i = 0; i < n; i++) {
    if (v[i] == 2)
      assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
    else
      assert_int_equal(gf_builder_append_bool(b, v[i] == 1, NULL), GF_OK);
  }
  assert_int_equal(gf_builder_finish(b, &out, NULL), GF_OK);
  gf_builder_free(b);
  return out;
}

static gf_datatype dict_utf8(void) { return gf_type_dictionary(gf_type(GF_TYPE_UTF8)); }

static gf_schema *make_schema(const gf_field *fields, int n) {
  gf_schema *s;
  assert_int_equal(gf_schema_new(fields, n, &s, NULL), GF_OK);
  return s;
}

/* String value of a cell ("" for null) for comparisons. */
static const char *str_at(const gf_array *a, int64_t i, char *buf, size_t n) {
  if (gf_array_is_null(a, i)) return "<null>";
  int64_t len = 0;
  const char *p = gf_array_get_bytes(a, i, &len);
  snprintf(buf, n, "%.*s", (int)len, p);
  return buf;
}

/* A frame with columns (x int64, flag bool, s dict<utf8>) in batches of 5,
 * 3 and 7 rows: x = row number with nulls where row % 4 == 3, flag =
 * row % 3 == 0 with nulls where row % 5 == 4, s = "v<row % 4>". Each batch
 * builds its own dictionary, so gf_frame_new has to unify them. */
static const int batch_sizes[3] = {5, 3, 7};

static gf_frame *make_multi(const gf_allocator *a) {
  gf_field fields[3] = {{"x", gf_type(GF_TYPE_INT64), true},
                        {"flag", gf_type(GF_TYPE_BOOL), true},
                        {"s", dict_utf8(), true}};
  gf_schema *schema = make_schema(fields, 3);
  gf_array *cols[9];
  int row = 0;
  for (int b = 0; b < 3; b++) {
    int64_t xs[8];
    int flags[8];
    const char *ss[8];
    static const char *const names[4] = {"v0", "v1", "v2", "v3"};
    for (int i = 0; i < batch_sizes[b]; i++, row++) {
      xs[i] = row % 4 == 3 ? INT64_MIN : row;
      flags[i] = row % 5 == 4 ? 2 : row % 3 == 0;
      ss[i] = names[(row * 7 + b) % 4];
    }
    cols[b * 3] = make_i64(a, xs, batch_sizes[b]);
    cols[b * 3 + 1] = make_bool(a, flags, batch_sizes[b]);
    cols[b * 3 + 2] = make_strs(a, dict_utf8(), ss, batch_sizes[b]);
  }
  gf_frame *f;
  gf_error err;
  gf_status st = gf_frame_new(schema, cols, 3, a, &f, &err);
  if (st != GF_OK) fail_msg("gf_frame_new: %s", err.message);
  for (int k = 0; k < 9; k++) gf_array_release(cols[k]);
  gf_schema_release(schema);
  return f;
}

/* Expected values of make_multi's row r. */
static void check_multi_row(const gf_frame *f, int batch, int64_t i, int r) {
  const gf_array *x = gf_frame_column(f, batch, 0);
  const gf_array *flag = gf_frame_column(f, batch, 1);
  const gf_array *s = gf_frame_column(f, batch, 2);
  if (r % 4 == 3) {
    assert_true(gf_array_is_null(x, i));
  } else {
    assert_false(gf_array_is_null(x, i));
    assert_int_equal(gf_array_get_int64(x, i), r);
  }
  if (r % 5 == 4) {
    assert_true(gf_array_is_null(flag, i));
  } else {
    assert_false(gf_array_is_null(flag, i));
    assert_int_equal(gf_array_get_bool(flag, i), r % 3 == 0);
  }
  int orig_batch = r < 5 ? 0 : r < 8 ? 1 : 2;
  char want[8], buf[16];
  snprintf(want, sizeof want, "v%d", (r * 7 + orig_batch) % 4);
  assert_string_equal(str_at(s, i, buf, sizeof buf), want);
}

/* ---- construction ----------------------------------------------------- */

static void frame_new_records_batches_and_offsets(void **state) {
  (void)state;
  gf_frame *f = make_multi(NULL);
  assert_int_equal(gf_frame_num_rows(f), 15);
  assert_int_equal(gf_frame_num_columns(f), 3);
  assert_int_equal(gf_frame_num_batches(f), 3);
  assert_int_equal(gf_frame_batch_rows(f, 0), 5);
  assert_int_equal(gf_frame_batch_rows(f, 1), 3);
  assert_int_equal(gf_frame_batch_rows(f, 2), 7);
  assert_int_equal(gf_frame_batch_offset(f, 0), 0);
  assert_int_equal(gf_frame_batch_offset(f, 1), 5);
  assert_int_equal(gf_frame_batch_offset(f, 2), 8);
  assert_int_equal(gf_frame_batch_offset(f, 3), 15);
  assert_null(gf_frame_column(f, 3, 0));
  assert_null(gf_frame_column(f, 0, 3));
  assert_int_equal(gf_frame_batch_rows(f, 5), 0);
  assert_int_equal(gf_schema_find(gf_frame_schema(f), "flag"), 1);
  int r = 0;
  for (int b = 0; b < 3; b++)
    for (int64_t i = 0; i < gf_frame_batch_rows(f, b); i++, r++) check_multi_row(f, b, i, r);
  gf_frame_release(f);
}

static void frame_new_gives_one_dictionary_per_column(void **state) {
  (void)state;
  gf_frame *f = make_multi(NULL);
  const gf_array *d0 = gf_array_dictionary(gf_frame_column(f, 0, 2));
  assert_non_null(d0);
  for (int b = 1; b < 3; b++) assert_ptr_equal(gf_array_dictionary(gf_frame_column(f, b, 2)), d0);
  assert_int_equal(gf_array_length(d0), 4);
  gf_frame_release(f);
}

static void frame_retain_release_share_the_frame(void **state) {
  (void)state;
  gf_frame *f = make_multi(NULL);
  assert_ptr_equal(gf_frame_retain(f), f);
  gf_frame_release(f);
  assert_int_equal(gf_frame_num_rows(f), 15);
  gf_frame_release(f);
  gf_frame_release(NULL);
  assert_null(gf_frame_retain(NULL));
}

static void frame_new_rejects_type_mismatch(void **state) {
  (void)state;
  gf_field fields[2] = {{"id", gf_type(GF_TYPE_INT64), true},
                        {"name", gf_type(GF_TYPE_UTF8), true}};
  gf_schema *schema = make_schema(fields, 2);
  int64_t v[2] = {1, 2};
  const char *s[2] = {"a", "b"};
  gf_array *cols[2] = {make_strs(NULL, gf_type(GF_TYPE_UTF8), s, 2), make_i64(NULL, v, 2)};
  gf_frame *f = (gf_frame *)0x1;
  gf_error err;
  assert_int_equal(gf_frame_new(schema, cols, 1, NULL, &f, &err), GF_ETYPE);
  assert_int_equal(err.code, GF_ETYPE);
  assert_non_null(strstr(err.message, "column 'id' of batch 0 has type utf8"));
  assert_non_null(strstr(err.message, "the schema says int64"));
  assert_ptr_equal(f, (gf_frame *)0x1);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  gf_schema_release(schema);
}

static void frame_new_rejects_unequal_lengths(void **state) {
  (void)state;
  gf_field fields[2] = {{"a", gf_type(GF_TYPE_INT64), true}, {"b", gf_type(GF_TYPE_INT64), true}};
  gf_schema *schema = make_schema(fields, 2);
  int64_t v[3] = {1, 2, 3};
  gf_array *cols[4] = {make_i64(NULL, v, 3), make_i64(NULL, v, 3), make_i64(NULL, v, 3),
                       make_i64(NULL, v, 2)};
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(gf_frame_new(schema, cols, 2, NULL, &f, &err), GF_EINVAL);
  assert_null(f);
  assert_string_equal(err.message,
                      "gf_frame_new: batch 1 has columns of unequal length: 'a' has 3 rows, "
                      "'b' has 2");
  for (int k = 0; k < 4; k++) gf_array_release(cols[k]);
  gf_schema_release(schema);
}

static void frame_new_rejects_null_arguments(void **state) {
  (void)state;
  gf_field fields[1] = {{"a", gf_type(GF_TYPE_INT64), true}};
  gf_schema *schema = make_schema(fields, 1);
  int64_t v[1] = {1};
  gf_array *col = make_i64(NULL, v, 1);
  gf_array *cols[2] = {col, NULL};
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(gf_frame_new(NULL, cols, 1, NULL, &f, &err), GF_EINVAL);
  assert_string_equal(err.message, "gf_frame_new: schema is NULL");
  assert_int_equal(gf_frame_new(schema, cols, 1, NULL, NULL, &err), GF_EINVAL);
  assert_string_equal(err.message, "gf_frame_new: out is NULL");
  assert_int_equal(gf_frame_new(schema, NULL, 1, NULL, &f, &err), GF_EINVAL);
  assert_int_equal(gf_frame_new(schema, cols, -1, NULL, &f, &err), GF_EINVAL);
  assert_int_equal(gf_frame_new(schema, cols, 2, NULL, &f, &err), GF_EINVAL);
  assert_string_equal(err.message, "gf_frame_new: column 'a' of batch 1 is NULL");
  assert_null(f);
  /* Zero batches is a valid empty frame. */
  assert_int_equal(gf_frame_new(schema, NULL, 0, NULL, &f, NULL), GF_OK);
  assert_int_equal(gf_frame_num_rows(f), 0);
  assert_int_equal(gf_frame_num_batches(f), 0);
  gf_frame_release(f);
  gf_array_release(col);
  gf_schema_release(schema);
}

static void frame_new_rejects_nulls_in_non_nullable_field(void **state) {
  (void)state;
  gf_field fields[1] = {{"a", gf_type(GF_TYPE_INT64), false}};
  gf_schema *schema = make_schema(fields, 1);
  int64_t v[3] = {1, INT64_MIN, 3};
  gf_array *col = make_i64(NULL, v, 3);
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(gf_frame_new(schema, &col, 1, NULL, &f, &err), GF_EINVAL);
  assert_string_equal(err.message, "gf_frame_new: column 'a' is not nullable but batch 0 has 1 nulls");
  gf_array_release(col);
  gf_schema_release(schema);
}

static void frame_from_columns_names_columns(void **state) {
  (void)state;
  int64_t v[3] = {7, 8, 9};
  const char *s[3] = {"x", NULL, "z"};
  gf_array *cols[2] = {make_i64(NULL, v, 3), make_strs(NULL, gf_type(GF_TYPE_UTF8), s, 3)};
  const char *names[2] = {"num", "txt"};
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_from_columns(names, cols, 2, &f, NULL), GF_OK);
  assert_int_equal(gf_frame_num_rows(f), 3);
  assert_int_equal(gf_frame_num_batches(f), 1);
  const gf_field *fld = gf_schema_field(gf_frame_schema(f), 1);
  assert_string_equal(fld->name, "txt");
  assert_true(fld->nullable);
  assert_int_equal(fld->type.id, GF_TYPE_UTF8);
  assert_ptr_equal(gf_frame_column(f, 0, 0), cols[0]);
  gf_frame_release(f);

  gf_error err;
  const char *bad_names[2] = {"num", NULL};
  f = NULL;
  assert_int_equal(gf_frame_from_columns(bad_names, cols, 2, &f, &err), GF_EINVAL);
  assert_string_equal(err.message, "gf_frame_from_columns: name 1 is NULL");
  const char *dup[2] = {"num", "num"};
  assert_int_equal(gf_frame_from_columns(dup, cols, 2, &f, &err), GF_EINVAL);
  gf_array *short_cols[2] = {cols[0], NULL};
  assert_int_equal(gf_frame_from_columns(names, short_cols, 2, &f, &err), GF_EINVAL);
  assert_string_equal(err.message, "gf_frame_from_columns: column 1 is NULL");
  assert_null(f);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
}

/* ---- slices ----------------------------------------------------------- */

static void frame_slice_every_range_keeps_values_and_boundaries(void **state) {
  (void)state;
  gf_frame *f = make_multi(NULL);
  for (int64_t off = 0; off <= 15; off++) {
    for (int64_t len = 0; off + len <= 15; len++) {
      gf_frame *s = NULL;
      assert_int_equal(gf_frame_slice(f, off, len, &s, NULL), GF_OK);
      assert_int_equal(gf_frame_num_rows(s), len);
      assert_int_equal(gf_frame_num_columns(s), 3);
      /* One batch per source batch the range touches (one empty batch for
       * an empty slice), boundaries where the source had them. */
      int want_batches = 0;
      int64_t lo = 0;
      for (int b = 0; b < 3; b++) {
        int64_t hi = lo + batch_sizes[b];
        if (hi > off && lo < off + len) want_batches++;
        lo = hi;
      }
      if (len == 0) want_batches = 1;
      assert_int_equal(gf_frame_num_batches(s), want_batches);
      int r = (int)off;
      for (int b = 0; b < gf_frame_num_batches(s); b++) {
        int64_t n = gf_frame_batch_rows(s, b);
        assert_int_equal(gf_frame_batch_offset(s, b), r - off);
        for (int c = 0; c < 3; c++) assert_int_equal(gf_array_length(gf_frame_column(s, b, c)), n);
        for (int64_t i = 0; i < n; i++, r++) check_multi_row(s, b, i, r);
        if (b + 1 < gf_frame_num_batches(s)) assert_true(r == 5 || r == 8);
      }
      assert_int_equal(r, off + len);
      gf_frame_release(s);
    }
  }
  gf_frame_release(f);
}

static void frame_slice_is_zero_copy(void **state) {
  (void)state;
  gf_frame *f = make_multi(NULL);
  gf_frame *s;
  assert_int_equal(gf_frame_slice(f, 3, 9, &s, NULL), GF_OK);
  /* Partly covered batches share buffers at an offset; whole ones are the same arrays. */
  assert_ptr_equal(gf_array_buffer(gf_frame_column(s, 0, 0), 1),
                   gf_array_buffer(gf_frame_column(f, 0, 0), 1));
  assert_int_equal(gf_array_offset(gf_frame_column(s, 0, 0)), 3);
  assert_ptr_equal(gf_frame_column(s, 1, 1), gf_frame_column(f, 1, 1));
  assert_ptr_equal(gf_array_dictionary(gf_frame_column(s, 2, 2)),
                   gf_array_dictionary(gf_frame_column(f, 0, 2)));
  /* Slicing a slice: offsets compose (odd bit offsets in the bool column). */
  gf_frame *s2;
  assert_int_equal(gf_frame_slice(s, 1, 7, &s2, NULL), GF_OK);
  int r = 4;
  for (int b = 0; b < gf_frame_num_batches(s2); b++)
    for (int64_t i = 0; i < gf_frame_batch_rows(s2, b); i++, r++) check_multi_row(s2, b, i, r);
  assert_int_equal(r, 11);
  /* The slice outlives its parent. */
  gf_frame_release(f);
  gf_frame_release(s);
  r = 4;
  for (int b = 0; b < gf_frame_num_batches(s2); b++)
    for (int64_t i = 0; i < gf_frame_batch_rows(s2, b); i++, r++) check_multi_row(s2, b, i, r);
  gf_frame_release(s2);
}

static void frame_slice_rejects_out_of_range(void **state) {
  (void)state;
  gf_frame *f = make_multi(NULL);
  gf_frame *s = NULL;
  gf_error err;
  assert_int_equal(gf_frame_slice(f, 10, 6, &s, &err), GF_EINVAL);
  assert_string_equal(err.message,
                      "gf_frame_slice: rows [10, 10 + 6) are outside the frame's 15 rows");
  assert_int_equal(gf_frame_slice(f, -1, 2, &s, &err), GF_EINVAL);
  assert_int_equal(gf_frame_slice(f, 16, 0, &s, &err), GF_EINVAL);
  assert_int_equal(gf_frame_slice(f, 0, -1, &s, &err), GF_EINVAL);
  assert_int_equal(gf_frame_slice(f, 0, INT64_MAX, &s, &err), GF_EINVAL);
  assert_int_equal(gf_frame_slice(NULL, 0, 1, &s, &err), GF_EINVAL);
  assert_null(s);
  assert_int_equal(gf_frame_slice(f, 15, 0, &s, &err), GF_OK);
  assert_int_equal(gf_frame_num_rows(s), 0);
  gf_frame_release(s);
  gf_frame_release(f);
}

/* ---- concat, combine, equals ----------------------------------------- */

/* One-batch frame (k int64, s dict<utf8>) from parallel arrays. */
static gf_frame *make_dict_frame(const gf_allocator *a, const int64_t *k, const char *const *s,
                                 int n) {
  gf_field fields[2] = {{"k", gf_type(GF_TYPE_INT64), true}, {"s", dict_utf8(), true}};
  gf_schema *schema = make_schema(fields, 2);
  gf_array *cols[2] = {make_i64(a, k, n), make_strs(a, dict_utf8(), s, n)};
  gf_frame *f;
  assert_int_equal(gf_frame_new(schema, cols, 1, a, &f, NULL), GF_OK);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  gf_schema_release(schema);
  return f;
}

static void frame_concat_unifies_dictionaries_and_keeps_batches(void **state) {
  (void)state;
  int64_t k1[3] = {1, 2, 3}, k2[4] = {4, 5, INT64_MIN, 7};
  const char *s1[3] = {"a", "b", "a"};
  const char *s2[4] = {"c", "a", NULL, "d"};
  gf_frame *f1 = make_dict_frame(NULL, k1, s1, 3);
  gf_frame *f2 = make_dict_frame(NULL, k2, s2, 4);
  assert_ptr_not_equal(gf_array_dictionary(gf_frame_column(f1, 0, 1)),
                       gf_array_dictionary(gf_frame_column(f2, 0, 1)));
  gf_frame *frames[3] = {f1, f2, f1};
  gf_frame *c = NULL;
  assert_int_equal(gf_frame_concat(frames, 3, NULL, &c, NULL), GF_OK);
  assert_int_equal(gf_frame_num_rows(c), 10);
  assert_int_equal(gf_frame_num_batches(c), 3);
  assert_int_equal(gf_frame_batch_offset(c, 1), 3);
  assert_int_equal(gf_frame_batch_offset(c, 2), 7);
  const gf_array *dict = gf_array_dictionary(gf_frame_column(c, 0, 1));
  for (int b = 1; b < 3; b++) assert_ptr_equal(gf_array_dictionary(gf_frame_column(c, b, 1)), dict);
  assert_int_equal(gf_array_length(dict), 4); /* a b c d */
  const char *want[10] = {"a", "b", "a", "c", "a", "<null>", "d", "a", "b", "a"};
  int64_t want_k[10] = {1, 2, 3, 4, 5, INT64_MIN, 7, 1, 2, 3};
  int r = 0;
  char buf[16];
  for (int b = 0; b < 3; b++) {
    for (int64_t i = 0; i < gf_frame_batch_rows(c, b); i++, r++) {
      assert_string_equal(str_at(gf_frame_column(c, b, 1), i, buf, sizeof buf), want[r]);
      const gf_array *kc = gf_frame_column(c, b, 0);
      if (want_k[r] == INT64_MIN)
        assert_true(gf_array_is_null(kc, i));
      else
        assert_int_equal(gf_array_get_int64(kc, i), want_k[r]);
    }
  }
  /* The int64 column is shared, not copied. */
  assert_ptr_equal(gf_frame_column(c, 1, 0), gf_frame_column(f2, 0, 0));
  gf_frame_release(c);
  gf_frame_release(f1);
  gf_frame_release(f2);
}

static void frame_concat_rejects_different_schemas(void **state) {
  (void)state;
  int64_t k[1] = {1};
  const char *s[1] = {"a"};
  gf_frame *f1 = make_dict_frame(NULL, k, s, 1);
  gf_array *col = make_i64(NULL, k, 1);
  const char *names[1] = {"k"};
  gf_frame *f2;
  assert_int_equal(gf_frame_from_columns(names, &col, 1, &f2, NULL), GF_OK);
  gf_frame *frames[2] = {f1, f2};
  gf_frame *c = NULL;
  gf_error err;
  assert_int_equal(gf_frame_concat(frames, 2, NULL, &c, &err), GF_ETYPE);
  assert_string_equal(err.message,
                      "gf_frame_concat: the schema of frame 1 differs from that of frame 0");
  assert_int_equal(gf_frame_concat(frames, 0, NULL, &c, &err), GF_EINVAL);
  frames[1] = NULL;
  assert_int_equal(gf_frame_concat(frames, 2, NULL, &c, &err), GF_EINVAL);
  assert_null(c);
  gf_array_release(col);
  gf_frame_release(f1);
  gf_frame_release(f2);
}

static void frame_combine_batches_copies_into_one_batch(void **state) {
  (void)state;
  gf_frame *f = make_multi(NULL);
  gf_frame *s, *c;
  assert_int_equal(gf_frame_slice(f, 2, 11, &s, NULL), GF_OK);
  assert_int_equal(gf_frame_combine_batches(s, NULL, &c, NULL), GF_OK);
  assert_int_equal(gf_frame_num_batches(c), 1);
  assert_int_equal(gf_frame_num_rows(c), 11);
  assert_int_equal(gf_array_offset(gf_frame_column(c, 0, 0)), 0);
  for (int64_t i = 0; i < 11; i++) check_multi_row(c, 0, i, (int)i + 2);
  assert_true(gf_frame_equals(c, s));
  gf_frame_release(c);
  gf_frame_release(s);
  gf_frame_release(f);
}

static void frame_equals_ignores_batch_boundaries(void **state) {
  (void)state;
  gf_frame *f = make_multi(NULL);
  gf_frame *one, *a, *b, *ab;
  assert_int_equal(gf_frame_combine_batches(f, NULL, &one, NULL), GF_OK);
  assert_true(gf_frame_equals(f, one));
  assert_true(gf_frame_equals(one, f));
  assert_true(gf_frame_equals(f, f));
  /* Re-split at other boundaries: 0..6 and 6..15. */
  assert_int_equal(gf_frame_slice(one, 0, 6, &a, NULL), GF_OK);
  assert_int_equal(gf_frame_slice(one, 6, 9, &b, NULL), GF_OK);
  gf_frame *parts[2] = {a, b};
  assert_int_equal(gf_frame_concat(parts, 2, NULL, &ab, NULL), GF_OK);
  assert_int_equal(gf_frame_num_batches(ab), 2);
  assert_true(gf_frame_equals(ab, f));
  /* Different rows, different lengths. */
  assert_false(gf_frame_equals(a, b));
  gf_frame *a2;
  assert_int_equal(gf_frame_slice(f, 0, 6, &a2, NULL), GF_OK);
  assert_true(gf_frame_equals(a, a2));
  gf_frame *a3;
  assert_int_equal(gf_frame_slice(f, 1, 6, &a3, NULL), GF_OK);
  assert_false(gf_frame_equals(a, a3));
  assert_false(gf_frame_equals(f, a2));
  assert_false(gf_frame_equals(f, NULL));
  gf_frame_release(a);
  gf_frame_release(a2);
  gf_frame_release(a3);
  gf_frame_release(b);
  gf_frame_release(ab);
  gf_frame_release(one);
  gf_frame_release(f);
}

static void frame_equals_sees_nulls_values_and_schema(void **state) {
  (void)state;
  int64_t k[3] = {1, 2, 3}, k_null[3] = {1, INT64_MIN, 3}, k_other[3] = {1, 2, 4};
  const char *s[3] = {"a", "b", "c"}, *s_other[3] = {"a", "b", "x"};
  gf_frame *base = make_dict_frame(NULL, k, s, 3);
  gf_frame *same = make_dict_frame(NULL, k, s, 3);
  gf_frame *with_null = make_dict_frame(NULL, k_null, s, 3);
  gf_frame *other_k = make_dict_frame(NULL, k_other, s, 3);
  gf_frame *other_s = make_dict_frame(NULL, k, s_other, 3);
  assert_true(gf_frame_equals(base, same));
  assert_false(gf_frame_equals(base, with_null));
  assert_false(gf_frame_equals(with_null, base));
  assert_false(gf_frame_equals(base, other_k));
  assert_false(gf_frame_equals(base, other_s));
  gf_array *col = make_i64(NULL, k, 3);
  const char *names[1] = {"k"};
  gf_frame *narrow;
  assert_int_equal(gf_frame_from_columns(names, &col, 1, &narrow, NULL), GF_OK);
  assert_false(gf_frame_equals(base, narrow));
  gf_array_release(col);
  gf_frame_release(narrow);
  gf_frame_release(base);
  gf_frame_release(same);
  gf_frame_release(with_null);
  gf_frame_release(other_k);
  gf_frame_release(other_s);
}

/* ---- allocation failures ---------------------------------------------- */

/* Runs `op` failing allocation 1, 2, ... until it succeeds; every failure
 * must be GF_ENOMEM with the live blocks back where they were. */
typedef gf_status (*op_fn)(void *ctx, const gf_allocator *a, gf_frame **out, gf_error *err);

static void sweep(gf_failing_allocator *fa, op_fn op, void *ctx) {
  const gf_allocator *a = gf_failing_allocator_get(fa);
  int64_t baseline = gf_failing_allocator_live_blocks(fa);
  for (int64_t n = 1; n < 10000; n++) {
    gf_failing_allocator_arm(fa, n, false);
    gf_frame *out = NULL;
    gf_error err;
    gf_status st = op(ctx, a, &out, &err);
    if (st == GF_OK) {
      gf_failing_allocator_arm(fa, 0, false);
      assert_non_null(out);
      gf_frame_release(out);
      assert_int_equal(gf_failing_allocator_live_blocks(fa), baseline);
      assert_true(n > 1); /* the operation allocates at least once */
      return;
    }
    if (st != GF_ENOMEM) fail_msg("allocation %lld: status %d (%s)", (long long)n, st, err.message);
    assert_null(out);
    assert_int_equal(gf_failing_allocator_live_blocks(fa), baseline);
  }
  fail_msg("operation never succeeded");
}

typedef struct frame_new_ctx {
  gf_schema *schema;
  gf_array **cols;
  int nb;
} frame_new_ctx;

static gf_status op_frame_new(void *ctx, const gf_allocator *a, gf_frame **out, gf_error *err) {
  frame_new_ctx *c = ctx;
  return gf_frame_new(c->schema, c->cols, c->nb, a, out, err);
}

static gf_status op_concat(void *ctx, const gf_allocator *a, gf_frame **out, gf_error *err) {
  gf_frame **frames = ctx;
  return gf_frame_concat(frames, 2, a, out, err);
}

static gf_status op_slice(void *ctx, const gf_allocator *a, gf_frame **out, gf_error *err) {
  (void)a;
  return gf_frame_slice(ctx, 3, 9, out, err);
}

static gf_status op_combine(void *ctx, const gf_allocator *a, gf_frame **out, gf_error *err) {
  return gf_frame_combine_batches(ctx, a, out, err);
}

static gf_status op_from_columns(void *ctx, const gf_allocator *a, gf_frame **out, gf_error *err) {
  (void)a;
  static const char *const names[2] = {"k", "s"};
  return gf_frame_from_columns(names, ctx, 2, out, err);
}

static void frame_operations_survive_every_allocation_failure(void **state) {
  (void)state;
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  const gf_allocator *a = gf_failing_allocator_get(fa);
  gf_failing_allocator_arm(fa, 0, false);

  /* gf_frame_new with two dictionaries to unify. */
  gf_field fields[2] = {{"k", gf_type(GF_TYPE_INT64), true}, {"s", dict_utf8(), true}};
  gf_schema *schema = make_schema(fields, 2);
  int64_t k[3] = {1, INT64_MIN, 3};
  const char *s1[3] = {"a", "b", NULL}, *s2[3] = {"c", "a", "e"};
  gf_array *cols[4] = {make_i64(a, k, 3), make_strs(a, dict_utf8(), s1, 3), make_i64(a, k, 3),
                       make_strs(a, dict_utf8(), s2, 3)};
  frame_new_ctx nc = {schema, cols, 2};
  sweep(fa, op_frame_new, &nc);

  gf_frame *f1 = make_dict_frame(a, k, s1, 3), *f2 = make_dict_frame(a, k, s2, 3);
  gf_frame *pair[2] = {f1, f2};
  sweep(fa, op_concat, pair);
  sweep(fa, op_from_columns, cols);

  gf_failing_allocator_arm(fa, 0, false);
  gf_frame *multi = make_multi(a);
  sweep(fa, op_slice, multi);
  sweep(fa, op_combine, multi);

  gf_failing_allocator_arm(fa, 0, false);
  gf_frame_release(multi);
  gf_frame_release(f1);
  gf_frame_release(f2);
  for (int j = 0; j < 4; j++) gf_array_release(cols[j]);
  gf_schema_release(schema);
  assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  gf_failing_allocator_free(fa);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(frame_new_records_batches_and_offsets),
      cmocka_unit_test(frame_new_gives_one_dictionary_per_column),
      cmocka_unit_test(frame_retain_release_share_the_frame),
      cmocka_unit_test(frame_new_rejects_type_mismatch),
      cmocka_unit_test(frame_new_rejects_unequal_lengths),
      cmocka_unit_test(frame_new_rejects_null_arguments),
      cmocka_unit_test(frame_new_rejects_nulls_in_non_nullable_field),
      cmocka_unit_test(frame_from_columns_names_columns),
      cmocka_unit_test(frame_slice_every_range_keeps_values_and_boundaries),
      cmocka_unit_test(frame_slice_is_zero_copy),
      cmocka_unit_test(frame_slice_rejects_out_of_range),
      cmocka_unit_test(frame_concat_unifies_dictionaries_and_keeps_batches),
      cmocka_unit_test(frame_concat_rejects_different_schemas),
      cmocka_unit_test(frame_combine_batches_copies_into_one_batch),
      cmocka_unit_test(frame_equals_ignores_batch_boundaries),
      cmocka_unit_test(frame_equals_sees_nulls_values_and_schema),
      cmocka_unit_test(frame_operations_survive_every_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
