/* Arrow C Data Interface: type/schema format strings, zero-copy array
 * export and import round trips, ownership and lifetime, allocation-failure
 * sweeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/array_internal.h"
#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe/testing.h"

/* ---- formats ------------------------------------------------------------ */

typedef struct fmt_case {
  gf_datatype t;
  const char *format;
} fmt_case;

static void every_type_exports_its_arrow_format_and_imports_back(void **state) {
  (void)state;
  fmt_case cases[] = {
      {gf_type(GF_TYPE_NULL), "n"},
      {gf_type(GF_TYPE_BOOL), "b"},
      {gf_type(GF_TYPE_INT8), "c"},
      {gf_type(GF_TYPE_INT16), "s"},
      {gf_type(GF_TYPE_INT32), "i"},
      {gf_type(GF_TYPE_INT64), "l"},
      {gf_type(GF_TYPE_UINT8), "C"},
      {gf_type(GF_TYPE_UINT16), "S"},
      {gf_type(GF_TYPE_UINT32), "I"},
      {gf_type(GF_TYPE_UINT64), "L"},
      {gf_type(GF_TYPE_FLOAT32), "f"},
      {gf_type(GF_TYPE_FLOAT64), "g"},
      {gf_type(GF_TYPE_UTF8), "u"},
      {gf_type(GF_TYPE_LARGE_UTF8), "U"},
      {gf_type(GF_TYPE_BINARY), "z"},
      {gf_type(GF_TYPE_LARGE_BINARY), "Z"},
      {gf_type_fixed_size_binary(16), "w:16"},
      {gf_type_decimal128(10, 2), "d:10,2"},
      {gf_type_decimal128(38, 0), "d:38,0"},
      {gf_type_decimal256(76, 76), "d:76,76,256"},
      {gf_type(GF_TYPE_DATE32), "tdD"},
      {gf_type(GF_TYPE_DATE64), "tdm"},
      {gf_type_time(GF_TYPE_TIME32, GF_UNIT_SECOND), "tts"},
      {gf_type_time(GF_TYPE_TIME32, GF_UNIT_MILLI), "ttm"},
      {gf_type_time(GF_TYPE_TIME64, GF_UNIT_MICRO), "ttu"},
      {gf_type_time(GF_TYPE_TIME64, GF_UNIT_NANO), "ttn"},
      {gf_type_timestamp(GF_UNIT_SECOND, false, 0), "tss:"},
      {gf_type_timestamp(GF_UNIT_MILLI, true, 0), "tsm:UTC"},
      {gf_type_timestamp(GF_UNIT_MICRO, true, 330), "tsu:+05:30"},
      {gf_type_timestamp(GF_UNIT_NANO, true, -480), "tsn:-08:00"},
      {gf_type_duration(GF_UNIT_SECOND), "tDs"},
      {gf_type_duration(GF_UNIT_MILLI), "tDm"},
      {gf_type_duration(GF_UNIT_MICRO), "tDu"},
      {gf_type_duration(GF_UNIT_NANO), "tDn"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct ArrowSchema s;
    gf_error err;
    assert_int_equal(gf_type_export(cases[i].t, "x", true, &s, &err), GF_OK);
    assert_string_equal(s.format, cases[i].format);
    assert_string_equal(s.name, "x");
    assert_int_equal(s.flags, ARROW_FLAG_NULLABLE);
    assert_int_equal(s.n_children, 0);
    assert_null(s.dictionary);
    assert_null(s.metadata);
    gf_datatype back;
    assert_int_equal(gf_type_import(&s, &back, &err), GF_OK);
    assert_true(gf_type_equals(back, cases[i].t));
    s.release(&s);
    assert_null(s.release);
  }
}

static void dictionary_type_exports_int32_index_with_value_dictionary(void **state) {
  (void)state;
  struct ArrowSchema s;
  gf_datatype t = gf_type_dictionary(gf_type(GF_TYPE_UTF8));
  assert_int_equal(gf_type_export(t, NULL, false, &s, NULL), GF_OK);
  assert_string_equal(s.format, "i");
  assert_null(s.name);
  assert_int_equal(s.flags, 0);
  assert_non_null(s.dictionary);
  assert_string_equal(s.dictionary->format, "u");
  gf_datatype back;
  assert_int_equal(gf_type_import(&s, &back, NULL), GF_OK);
  assert_true(gf_type_equals(back, t));
  s.release(&s);
  assert_null(s.release);
}

static void timezone_spellings_import_as_fixed_offsets(void **state) {
  (void)state;
  struct {
    const char *f;
    bool has_tz;
    int minutes;
  } cases[] = {{"tsu:UTC", true, 0},       {"tsu:Z", true, 0},
               {"tsu:+00:00", true, 0},    {"tsu:+0530", true, 330},
               {"tsu:-03", true, -180},    {"tsn:-09:30", true, -570},
               {"tss:", false, 0},         {"tsm:Etc/UTC", true, 0}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct ArrowSchema s;
    assert_int_equal(gf_type_export(gf_type(GF_TYPE_INT8), NULL, true, &s, NULL), GF_OK);
    const char *saved = s.format;
    s.format = cases[i].f;
    gf_datatype t;
    assert_int_equal(gf_type_import(&s, &t, NULL), GF_OK);
    assert_int_equal(t.id, GF_TYPE_TIMESTAMP);
    assert_int_equal(t.has_timezone, cases[i].has_tz);
    if (cases[i].has_tz) assert_int_equal(t.tz_offset_minutes, cases[i].minutes);
    s.format = saved;
    s.release(&s);
  }
}

/* A schema struct that only points at a format (and optional dictionary). */
static int g_dummy_schema_releases;
static void dummy_schema_release(struct ArrowSchema *s) {
  g_dummy_schema_releases++;
  s->release = NULL;
}
static struct ArrowSchema fake_schema(const char *format, const char *name) {
  struct ArrowSchema s;
  memset(&s, 0, sizeof s);
  s.format = format;
  s.name = name;
  s.flags = ARROW_FLAG_NULLABLE;
  s.release = dummy_schema_release;
  return s;
}

static void unsupported_formats_fail_with_enotsup_naming_the_format(void **state) {
  (void)state;
  const char *formats[] = {"d:10,-2",  "d:38,10,64",  "+l",  "+L",  "+s",
                           "+m",       "+ud:0,1",     "+w:3", "tiM", "tiD",
                           "tin",      "+r",          "+vl", "e",   "q"};
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
    struct ArrowSchema s = fake_schema(formats[i], "f");
    gf_datatype t;
    gf_error err;
    gf_error_clear(&err);
    assert_int_equal(gf_type_import(&s, &t, &err), GF_ENOTSUP);
    assert_non_null(strstr(err.message, formats[i]));
  }
  /* A dictionary whose index type is not int32. */
  struct ArrowSchema dict = fake_schema("u", NULL);
  struct ArrowSchema idx = fake_schema("l", "f");
  idx.dictionary = &dict;
  gf_datatype t;
  gf_error err;
  assert_int_equal(gf_type_import(&idx, &t, &err), GF_ENOTSUP);
  assert_non_null(strstr(err.message, "'l'"));
  /* Unsupported formats also make array import fail, leaving it untouched. */
  gf_array *a = gft_int64_array(gf_type(GF_TYPE_INT64), (int64_t[]){1, 2}, NULL, 2);
  struct ArrowArray arr;
  assert_int_equal(gf_array_export(a, &arr, NULL, NULL), GF_OK);
  struct ArrowSchema dec = fake_schema("+l", "price");
  gf_array *out = NULL;
  assert_int_equal(gf_array_import(&arr, &dec, GF_IMPORT_CHECK_FULL, &out, &err), GF_ENOTSUP);
  assert_non_null(strstr(err.message, "+l"));
  assert_null(out);
  assert_non_null(arr.release);
  arr.release(&arr);
  gf_array_release(a);
}

static void malformed_format_parameters_fail_with_einval(void **state) {
  (void)state;
  const char *formats[] = {"w:", "w:0", "w:-3", "w:12x", "tdx", "ttx", "tsx:", "tDq", "ts",
                           "d:", "d:10", "d:x,2", "d:10,2,", "d:0,0", "d:39,2",
                           "d:77,2,256", "d:10,11", "d:10,2x", "d:1234567,1"};
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
    struct ArrowSchema s = fake_schema(formats[i], "f");
    gf_datatype t;
    gf_error err;
    assert_int_equal(gf_type_import(&s, &t, &err), GF_EINVAL);
    assert_non_null(strstr(err.message, formats[i]));
  }
}

static void schema_round_trips_names_types_and_nullability(void **state) {
  (void)state;
  gf_field fields[] = {
      {"id", gf_type(GF_TYPE_INT64), false},
      {"name", gf_type(GF_TYPE_UTF8), true},
      {"tag", gf_type_dictionary(gf_type(GF_TYPE_UTF8)), true},
      {"at", gf_type_timestamp(GF_UNIT_MICRO, true, 330), false},
  };
  gf_schema *s = NULL;
  assert_int_equal(gf_schema_new(fields, 4, &s, NULL), GF_OK);
  struct ArrowSchema out;
  assert_int_equal(gf_schema_export(s, &out, NULL), GF_OK);
  assert_string_equal(out.format, "+s");
  assert_int_equal(out.n_children, 4);
  assert_string_equal(out.children[0]->name, "id");
  assert_int_equal(out.children[0]->flags & ARROW_FLAG_NULLABLE, 0);
  assert_int_equal(out.children[1]->flags & ARROW_FLAG_NULLABLE, ARROW_FLAG_NULLABLE);
  assert_string_equal(out.children[2]->format, "i");
  assert_string_equal(out.children[2]->dictionary->format, "u");
  assert_string_equal(out.children[3]->format, "tsu:+05:30");
  gf_schema *back = NULL;
  assert_int_equal(gf_schema_import(&out, &back, NULL), GF_OK);
  assert_true(gf_schema_equals(s, back));
  for (int i = 0; i < 4; i++)
    assert_int_equal(gf_schema_field(back, i)->nullable, fields[i].nullable);
  /* A consumer may move a child out and release it on its own. */
  struct ArrowSchema moved = *out.children[1];
  out.children[1]->release = NULL;
  out.release(&out);
  assert_null(out.release);
  assert_string_equal(moved.name, "name");
  moved.release(&moved);
  gf_schema_release(back);
  gf_schema_release(s);
}

static void schema_import_rejects_non_struct_and_unnamed_fields(void **state) {
  (void)state;
  struct ArrowSchema s = fake_schema("i", "x");
  gf_schema *out = NULL;
  gf_error err;
  assert_int_equal(gf_schema_import(&s, &out, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "'+s'"));
  struct ArrowSchema child = fake_schema("i", NULL);
  struct ArrowSchema *children[] = {&child};
  struct ArrowSchema st = fake_schema("+s", "");
  st.n_children = 1;
  st.children = children;
  assert_int_equal(gf_schema_import(&st, &out, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "no name"));
  child.name = "v";
  child.format = "+l";
  assert_int_equal(gf_schema_import(&st, &out, &err), GF_ENOTSUP);
  assert_non_null(strstr(err.message, "'v'"));
  assert_non_null(strstr(err.message, "+l"));
  assert_null(out);
}

/* ---- array round trips ------------------------------------------------------ */

/* Exports `a`, imports the result and checks equality and the schema. */
static void check_round_trip(const gf_array *a, gf_import_check check) {
  struct ArrowArray arr;
  struct ArrowSchema sch;
  gf_error err;
  gf_error_clear(&err);
  assert_int_equal(gf_array_export(a, &arr, &sch, &err), GF_OK);
  assert_int_equal(arr.length, gf_array_length(a));
  assert_int_equal(arr.offset, gf_array_offset(a));
  gf_array *back = NULL;
  gf_status st = gf_array_import(&arr, &sch, check, &back, &err);
  if (st != GF_OK) fail_msg("import failed: %s", err.message);
  assert_null(arr.release); /* moved */
  assert_true(gf_type_equals(gf_array_type(back), gf_array_type(a)));
  assert_int_equal(gf_array_null_count(back), gf_array_null_count(a));
  assert_true(gf_array_equals(back, a));
  assert_int_equal(gf_array_validate(back, true, &err), GF_OK);
  gf_array_release(back);
  sch.release(&sch);
}

static void every_type_round_trips_builder_frame_export_import(void **state) {
  (void)state;
  gf_datatype types[GFT_MAX_TYPES];
  int n = gft_all_types(types, GFT_MAX_TYPES);
  const double null_probs[] = {0.0, 0.25};
  for (int p = 0; p < 2; p++) {
    gf_frame *f = NULL;
    assert_int_equal(gft_random_frame(types, n, 300, 1, null_probs[p], 42 + (uint64_t)p,
                                      NULL, &f),
                     GF_OK);
    for (int c = 0; c < n; c++) {
      check_round_trip(gf_frame_column(f, 0, c), GF_IMPORT_CHECK_FULL);
      check_round_trip(gf_frame_column(f, 0, c), GF_IMPORT_CHECK_LAYOUT);
    }
    gf_frame_release(f);
  }
}

static void slices_at_odd_offsets_round_trip(void **state) {
  (void)state;
  gf_datatype types[GFT_MAX_TYPES];
  int n = gft_all_types(types, GFT_MAX_TYPES);
  const int64_t offs[][2] = {{1, 77}, {3, 5}, {13, 200}, {7, 0}, {64, 65}, {299, 1}};
  for (int c = 0; c < n; c++) {
    gf_array *a = NULL;
    assert_int_equal(gft_random_array(types[c], 300, 0.3, 7 + (uint64_t)c, NULL, &a), GF_OK);
    for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
      gf_array *s = NULL;
      assert_int_equal(gf_array_slice(a, offs[k][0], offs[k][1], &s, NULL), GF_OK);
      check_round_trip(s, GF_IMPORT_CHECK_FULL);
      gf_array_release(s);
    }
    gf_array_release(a);
  }
}

static void exported_data_outlives_the_released_frame(void **state) {
  (void)state;
  gf_datatype types[GFT_MAX_TYPES];
  int n = gft_all_types(types, GFT_MAX_TYPES);
  gf_frame *f = NULL, *twin = NULL;
  assert_int_equal(gft_random_frame(types, n, 150, 2, 0.2, 99, NULL, &f), GF_OK);
  assert_int_equal(gft_random_frame(types, n, 150, 2, 0.2, 99, NULL, &twin), GF_OK);
  struct ArrowArray arrs[GFT_MAX_TYPES];
  struct ArrowSchema schs[GFT_MAX_TYPES];
  for (int c = 0; c < n; c++)
    assert_int_equal(gf_array_export(gf_frame_column(f, 1, c), &arrs[c], &schs[c], NULL), GF_OK);
  struct ArrowArray batch;
  struct ArrowSchema bsch;
  assert_int_equal(gf_frame_export_batch(f, 0, &batch, &bsch, NULL), GF_OK);
  gf_frame_release(f); /* everything exported must stay valid */
  for (int c = 0; c < n; c++) {
    gf_array *back = NULL;
    assert_int_equal(gf_array_import(&arrs[c], &schs[c], GF_IMPORT_CHECK_FULL, &back, NULL),
                     GF_OK);
    assert_true(gf_array_equals(back, gf_frame_column(twin, 1, c)));
    gf_array_release(back);
    schs[c].release(&schs[c]);
  }
  assert_string_equal(bsch.format, "+s");
  assert_int_equal(bsch.n_children, n);
  assert_int_equal(batch.n_children, n);
  assert_int_equal(batch.n_buffers, 1);
  assert_null(batch.buffers[0]);
  assert_int_equal(batch.length, gf_frame_batch_rows(twin, 0));
  for (int c = 0; c < n; c++) {
    gf_array *back = NULL;
    assert_int_equal(gf_array_import(batch.children[c], bsch.children[c],
                                     GF_IMPORT_CHECK_FULL, &back, NULL),
                     GF_OK);
    assert_null(batch.children[c]->release); /* moved out of the batch */
    assert_true(gf_array_equals(back, gf_frame_column(twin, 0, c)));
    gf_array_release(back);
  }
  batch.release(&batch);
  assert_null(batch.release);
  bsch.release(&bsch);
  gf_frame_release(twin);
}

static void exported_array_layout_follows_the_spec(void **state) {
  (void)state;
  const char *vals[] = {"ab", NULL, "cde"};
  gf_array *a = gft_string_array(gf_type(GF_TYPE_UTF8), vals, 3);
  struct ArrowArray arr;
  assert_int_equal(gf_array_export(a, &arr, NULL, NULL), GF_OK);
  gf_array_release(a);
  assert_int_equal(arr.length, 3);
  assert_int_equal(arr.null_count, 1);
  assert_int_equal(arr.n_buffers, 3);
  assert_int_equal(arr.n_children, 0);
  const uint8_t *validity = arr.buffers[0];
  assert_int_equal(validity[0] & 7, 5);
  const int32_t *offsets = arr.buffers[1];
  assert_int_equal(offsets[arr.offset + 3] - offsets[arr.offset], 5);
  assert_memory_equal((const char *)arr.buffers[2] + offsets[arr.offset], "ab", 2);
  /* Move semantics: a moved struct releases fine, the source is marked. */
  struct ArrowArray moved = arr;
  arr.release = NULL;
  moved.release(&moved);
  assert_null(moved.release);

  /* No nulls: no validity buffer. Null type: no buffers. */
  gf_array *b = gft_int64_array(gf_type(GF_TYPE_INT32), (int64_t[]){1, 2, 3}, NULL, 3);
  assert_int_equal(gf_array_export(b, &arr, NULL, NULL), GF_OK);
  assert_null(arr.buffers[0]);
  assert_int_equal(arr.null_count, 0);
  assert_int_equal(((const int32_t *)arr.buffers[1])[arr.offset + 2], 3);
  arr.release(&arr);
  gf_array_release(b);
  gf_array *nul = NULL;
  assert_int_equal(gft_random_array(gf_type(GF_TYPE_NULL), 4, 0, 1, NULL, &nul), GF_OK);
  assert_int_equal(gf_array_export(nul, &arr, NULL, NULL), GF_OK);
  assert_int_equal(arr.n_buffers, 0);
  assert_int_equal(arr.null_count, 4);
  arr.release(&arr);
  gf_array_release(nul);
}

static void dictionary_child_may_be_moved_out_before_parent_release(void **state) {
  (void)state;
  const char *vals[] = {"x", "y", "x", NULL, "z"};
  gf_array *a = gft_string_array(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), vals, 5);
  struct ArrowArray arr;
  assert_int_equal(gf_array_export(a, &arr, NULL, NULL), GF_OK);
  gf_array_release(a);
  assert_non_null(arr.dictionary);
  assert_int_equal(arr.dictionary->length, 3);
  struct ArrowArray dict = *arr.dictionary;
  arr.dictionary->release = NULL;
  arr.release(&arr);
  const int32_t *offs = dict.buffers[1];
  assert_memory_equal((const char *)dict.buffers[2] + offs[dict.offset + 2], "z", 1);
  dict.release(&dict);
}

/* ---- ownership of imported arrays ------------------------------------------ */

typedef struct producer {
  int releases;
  int64_t values[6];
  const void *bufs[2];
} producer;

static void producer_release(struct ArrowArray *a) {
  producer *p = a->private_data;
  p->releases++;
  a->release = NULL;
}

static void import_takes_ownership_and_releases_once_at_the_last_reference(void **state) {
  (void)state;
  producer p = {0, {10, 20, 30, 40, 50, 60}, {NULL, NULL}};
  p.bufs[1] = p.values;
  struct ArrowArray arr = {.length = 5, .null_count = 0, .offset = 1, .n_buffers = 2,
                           .n_children = 0, .buffers = p.bufs, .children = NULL,
                           .dictionary = NULL, .release = producer_release,
                           .private_data = &p};
  struct ArrowSchema sch = fake_schema("l", "v");
  gf_array *a = NULL;
  assert_int_equal(gf_array_import(&arr, &sch, GF_IMPORT_CHECK_FULL, &a, NULL), GF_OK);
  assert_null(arr.release);
  assert_int_equal(p.releases, 0);
  assert_int_equal(gf_array_length(a), 5);
  assert_int_equal(gf_array_get_int64(a, 0), 20);
  assert_int_equal(gf_array_get_int64(a, 4), 60);
  /* Zero-copy: our buffer points at the producer's memory. */
  assert_ptr_equal(gf_array_buffer(a, 1), p.values);
  gf_array *s = NULL;
  assert_int_equal(gf_array_slice(a, 2, 2, &s, NULL), GF_OK);
  gf_array_release(a);
  assert_int_equal(p.releases, 0);
  assert_int_equal(gf_array_get_int64(s, 1), 50);
  /* Re-export of imported data keeps it alive too. */
  struct ArrowArray again;
  assert_int_equal(gf_array_export(s, &again, NULL, NULL), GF_OK);
  gf_array_release(s);
  assert_int_equal(p.releases, 0);
  again.release(&again);
  assert_int_equal(p.releases, 1);
}

static void null_count_minus_one_is_computed_from_the_bitmap(void **state) {
  (void)state;
  producer p = {0, {1, 2, 3, 4, 5, 6}, {NULL, NULL}};
  uint8_t validity[1] = {0x2D}; /* 101101: indices 1 and 4 null */
  p.bufs[0] = validity;
  p.bufs[1] = p.values;
  struct ArrowArray arr = {.length = 6, .null_count = -1, .offset = 0, .n_buffers = 2,
                           .buffers = p.bufs, .release = producer_release,
                           .private_data = &p};
  struct ArrowSchema sch = fake_schema("l", "v");
  gf_array *a = NULL;
  assert_int_equal(gf_array_import(&arr, &sch, GF_IMPORT_CHECK_LAYOUT, &a, NULL), GF_OK);
  assert_int_equal(gf_array_null_count(a), 2);
  assert_true(gf_array_is_null(a, 1));
  assert_true(gf_array_is_null(a, 4));
  assert_false(gf_array_is_null(a, 5));
  gf_array_release(a);
  assert_int_equal(p.releases, 1);

  /* A validity buffer with null_count 0 is simply not used. */
  producer q = {0, {1, 2, 3, 4, 5, 6}, {NULL, NULL}};
  q.bufs[0] = validity;
  struct ArrowArray arr2 = {.length = 6, .null_count = 0, .n_buffers = 2, .buffers = q.bufs,
                            .release = producer_release, .private_data = &q};
  q.bufs[1] = q.values;
  assert_int_equal(gf_array_import(&arr2, &sch, GF_IMPORT_CHECK_LAYOUT, &a, NULL), GF_OK);
  assert_int_equal(gf_array_null_count(a), 0);
  assert_null(gf_array_buffer(a, 0));
  gf_array_release(a);
  assert_int_equal(q.releases, 1);
}

static void empty_arrays_with_null_buffers_import(void **state) {
  (void)state;
  const char *formats[] = {"u", "Z", "l", "b", "w:3", "n"};
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
    producer p = {0, {0}, {NULL, NULL}};
    const void *bufs[3] = {NULL, NULL, NULL};
    int64_t nb = formats[i][0] == 'n' ? 0 : (formats[i][0] == 'u' || formats[i][0] == 'Z') ? 3 : 2;
    struct ArrowArray arr = {.length = 0, .null_count = 0, .n_buffers = nb, .buffers = bufs,
                             .release = producer_release, .private_data = &p};
    struct ArrowSchema sch = fake_schema(formats[i], "e");
    gf_array *a = NULL;
    gf_error err;
    gf_status st = gf_array_import(&arr, &sch, GF_IMPORT_CHECK_FULL, &a, &err);
    if (st != GF_OK) fail_msg("%s: %s", formats[i], err.message);
    assert_int_equal(gf_array_length(a), 0);
    assert_int_equal(gf_array_validate(a, true, NULL), GF_OK);
    gf_array_release(a);
    assert_int_equal(p.releases, 1);
  }
}


/* ---- threads and unpadded memory -------------------------------------------- */

typedef struct counted_producer {
  atomic_int releases;
  int64_t values[64];
  const void *bufs[2];
} counted_producer;

static void counted_release(struct ArrowArray *a) {
  counted_producer *p = a->private_data;
  atomic_fetch_add(&p->releases, 1);
  a->release = NULL;
}

static void *release_in_thread(void *arg) {
  gf_array_release(arg);
  return NULL;
}

static void last_reference_dropped_on_any_thread_releases_once(void **state) {
  (void)state;
  for (int round = 0; round < 20; round++) {
    counted_producer p;
    atomic_init(&p.releases, 0);
    for (int i = 0; i < 64; i++) p.values[i] = i;
    p.bufs[0] = NULL;
    p.bufs[1] = p.values;
    struct ArrowArray arr = {.length = 64, .n_buffers = 2, .buffers = p.bufs,
                             .release = counted_release, .private_data = &p};
    struct ArrowSchema sch = fake_schema("l", "v");
    gf_array *a = NULL;
    assert_int_equal(gf_array_import(&arr, &sch, GF_IMPORT_CHECK_FULL, &a, NULL), GF_OK);
    enum { N = 8 };
    gf_array *slices[N];
    for (int i = 0; i < N; i++)
      assert_int_equal(gf_array_slice(a, i * 8, 8, &slices[i], NULL), GF_OK);
    gf_array_release(a);
    pthread_t th[N];
    for (int i = 0; i < N; i++)
      assert_int_equal(pthread_create(&th[i], NULL, release_in_thread, slices[i]), 0);
    for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&p.releases), 1);
  }
}

typedef struct heap_producer {
  int releases;
  void *mem[3];
  const void *bufs[3];
} heap_producer;

static void heap_release(struct ArrowArray *a) {
  heap_producer *p = a->private_data;
  for (int i = 0; i < 3; i++) free(p->mem[i]);
  p->releases++;
  a->release = NULL;
}

/* Buffers of exactly their logical size (no padding): under ASan any read
 * past them by validation, statistics or equality is caught. */
static void unpadded_producer_buffers_are_never_read_past_their_end(void **state) {
  (void)state;
  const char *vals[] = {"a\xc3\xa9", NULL, "xyz", "", "0123456789", "k", NULL, "q", "w", "e", "r"};
  gf_array *ref = gft_string_array(gf_type(GF_TYPE_UTF8), vals, 11);
  struct {
    const char *format;
    gf_array *ref;
  } cases[3];
  cases[0].format = "u";
  cases[0].ref = ref;
  const int64_t ints[] = {5, -1, 7, 1000000, 3, 9, 11, 13, 15, 17, 19};
  const bool valid[] = {true, false, true, true, true, true, false, true, true, true, true};
  cases[1].format = "l";
  cases[1].ref = gft_int64_array(gf_type(GF_TYPE_INT64), ints, valid, 11);
  cases[2].format = "b";
  cases[2].ref = gft_int64_array(gf_type(GF_TYPE_BOOL), (int64_t[]){1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1},
                                 valid, 11);
  for (int c = 0; c < 3; c++) {
    const gf_array *r = cases[c].ref;
    heap_producer p = {0, {NULL, NULL, NULL}, {NULL, NULL, NULL}};
    int64_t n = gf_array_length(r), off = gf_array_offset(r);
    size_t sizes[3] = {0, 0, 0};
    sizes[0] = (size_t)((off + n + 7) / 8);
    if (cases[c].format[0] == 'u') {
      sizes[1] = (size_t)(off + n + 1) * 4;
      const int32_t *o = gf_array_buffer(r, 1);
      sizes[2] = (size_t)o[off + n];
    } else if (cases[c].format[0] == 'l') {
      sizes[1] = (size_t)(off + n) * 8;
    } else {
      sizes[1] = (size_t)((off + n + 7) / 8);
    }
    int nb = cases[c].format[0] == 'u' ? 3 : 2;
    for (int i = 0; i < nb; i++) {
      p.mem[i] = malloc(sizes[i] ? sizes[i] : 1);
      assert_non_null(p.mem[i]);
      memcpy(p.mem[i], gf_array_buffer(r, i), sizes[i]);
      p.bufs[i] = p.mem[i];
    }
    struct ArrowArray arr = {.length = n, .offset = off, .null_count = -1, .n_buffers = nb,
                             .buffers = p.bufs, .release = heap_release, .private_data = &p};
    struct ArrowSchema sch = fake_schema(cases[c].format, "v");
    gf_array *a = NULL;
    gf_error err;
    gf_status st = gf_array_import(&arr, &sch, GF_IMPORT_CHECK_FULL, &a, &err);
    if (st != GF_OK) fail_msg("%s", err.message);
    assert_int_equal(gf_array_null_count(a), 2);
    assert_true(gf_array_equals(a, r));
    assert_int_equal(gf_array_validate(a, true, NULL), GF_OK);
    gf_array *s = NULL;
    assert_int_equal(gf_array_slice(a, 3, 7, &s, NULL), GF_OK);
    (void)gf_array_stats(s);
    gf_array_release(s);
    gf_array_release(a);
    assert_int_equal(p.releases, 1);
    gf_array_release(cases[c].ref);
  }
}

/* ---- allocation-failure sweeps ----------------------------------------------- */

/* One gf_array_export (user: the array) or gf_frame_export_batch (user:
 * the frame, batch 0) under a failing allocator (gft_alloc_sweep
 * callbacks): on failure nothing may be written to the output structs. */
static gf_status export_checked(const gf_array *col, const gf_frame *f) {
  struct ArrowArray arr;
  struct ArrowSchema sch;
  memset(&arr, 0xAB, sizeof arr);
  memset(&sch, 0xAB, sizeof sch);
  struct ArrowArray arr0 = arr;
  struct ArrowSchema sch0 = sch;
  gf_error err;
  gf_status st = col ? gf_array_export(col, &arr, &sch, &err)
                     : gf_frame_export_batch(f, 0, &arr, &sch, &err);
  if (st == GF_OK) {
    arr.release(&arr);
    sch.release(&sch);
  } else {
    assert_memory_equal(&arr, &arr0, sizeof arr); /* nothing written */
    assert_memory_equal(&sch, &sch0, sizeof sch);
  }
  return st;
}

static gf_status export_array_once(void *user, const gf_allocator *a) {
  (void)a; /* the export allocates through the array's own allocator */
  return export_checked(user, NULL);
}

static gf_status export_batch_once(void *user, const gf_allocator *a) {
  (void)a;
  return export_checked(NULL, user);
}

/* Every allocation of exporting each type's array and a whole batch
 * failed, one-off and persistent: GF_ENOMEM, outputs untouched, nothing
 * leaked (the frame's own blocks stay live). */
static void export_survives_every_allocation_failure(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  const gf_allocator *a = gf_failing_allocator_get(fa);
  gf_datatype types[GFT_MAX_TYPES];
  int n = gft_all_types(types, GFT_MAX_TYPES);
  gf_failing_allocator_arm(fa, 0, false);
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(types, n, 40, 2, 0.2, 5, a, &f), GF_OK);
  /* Single arrays (with schema), dictionary ones included. */
  gft_sweep_counts arrays = {0}, batches = {0};
  for (int c = 0; c < n; c++)
    gft_alloc_sweep("C Data array export", fa, export_array_once, gf_frame_column(f, 1, c),
                    &arrays);
  /* Whole batches. */
  gft_alloc_sweep("C Data batch export", fa, export_batch_once, f, &batches);
  gft_sweep_print("C Data array export", &arrays);
  gft_sweep_print("C Data batch export", &batches);
  gf_frame_release(f);
  assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  gf_failing_allocator_free(fa);
}

/* One gf_array_import_with of a fresh export of `src` under a failing
 * allocator (gft_alloc_sweep callback): on failure the array must be left
 * untouched and still ours to release. */
static gf_status import_once(void *user, const gf_allocator *a) {
  const gf_array *src = user;
  struct ArrowArray arr;
  struct ArrowSchema sch;
  assert_int_equal(gf_array_export(src, &arr, &sch, NULL), GF_OK); /* default allocator */
  struct ArrowArray saved = arr;
  gf_array *out = NULL;
  gf_error err;
  gf_status st = gf_array_import_with(&arr, &sch, GF_IMPORT_CHECK_FULL, a, &out, &err);
  if (st == GF_OK) {
    assert_null(arr.release);
    if (!gf_array_equals(out, src)) fail_msg("%s: imported array differs", gft_sweep_at());
    gf_array_release(out);
  } else {
    assert_null(out);
    assert_memory_equal(&arr, &saved, sizeof arr); /* untouched: still ours */
    arr.release(&arr);
  }
  sch.release(&sch);
  return st;
}

/* Every allocation of importing each type's array failed, one-off and
 * persistent: GF_ENOMEM, input untouched, nothing leaked, an equal array
 * once it runs clean. */
static void import_survives_every_allocation_failure(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gf_datatype types[GFT_MAX_TYPES];
  int n = gft_all_types(types, GFT_MAX_TYPES);
  gft_sweep_counts counts = {0};
  for (int c = 0; c < n; c++) {
    gf_array *src = NULL;
    assert_int_equal(gft_random_array(types[c], 50, 0.2, 11 + (uint64_t)c, NULL, &src), GF_OK);
    int64_t failing = counts.failing[0];
    gft_alloc_sweep("C Data import", fa, import_once, src, &counts);
    assert_true(counts.failing[0] > failing); /* the sweep really failed something */
    gf_array_release(src);
  }
  gft_sweep_print("C Data array import", &counts);
  gf_failing_allocator_free(fa);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_type_exports_its_arrow_format_and_imports_back),
      cmocka_unit_test(dictionary_type_exports_int32_index_with_value_dictionary),
      cmocka_unit_test(timezone_spellings_import_as_fixed_offsets),
      cmocka_unit_test(unsupported_formats_fail_with_enotsup_naming_the_format),
      cmocka_unit_test(malformed_format_parameters_fail_with_einval),
      cmocka_unit_test(schema_round_trips_names_types_and_nullability),
      cmocka_unit_test(schema_import_rejects_non_struct_and_unnamed_fields),
      cmocka_unit_test(every_type_round_trips_builder_frame_export_import),
      cmocka_unit_test(slices_at_odd_offsets_round_trip),
      cmocka_unit_test(exported_data_outlives_the_released_frame),
      cmocka_unit_test(exported_array_layout_follows_the_spec),
      cmocka_unit_test(dictionary_child_may_be_moved_out_before_parent_release),
      cmocka_unit_test(import_takes_ownership_and_releases_once_at_the_last_reference),
      cmocka_unit_test(null_count_minus_one_is_computed_from_the_bitmap),
      cmocka_unit_test(empty_arrays_with_null_buffers_import),
      cmocka_unit_test(last_reference_dropped_on_any_thread_releases_once),
      cmocka_unit_test(unpadded_producer_buffers_are_never_read_past_their_end),
      cmocka_unit_test(export_survives_every_allocation_failure),
      cmocka_unit_test(import_survives_every_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
