/* Arrow C Data import validation: each malformed input is rejected with
 * GF_EINVAL, a message naming the check and where, and the producer's
 * ArrowArray left untouched (still owned by the caller, not released). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "data/cdata_internal.h"

/* A hand-made producer: buffers in 8-byte aligned storage, a release that
 * counts its calls. */
typedef struct producer {
  int releases;
  int dict_releases;
  int64_t validity[2];
  int64_t values[8];
  int64_t data[8];
  const void *bufs[3];
  int64_t dvalues[8];
  int64_t ddata[8];
  const void *dbufs[3];
  struct ArrowArray dict;
  struct ArrowArray arr;
} producer;

static void dict_release(struct ArrowArray *a) {
  producer *p = a->private_data;
  p->dict_releases++;
  a->release = NULL;
}

static void producer_release(struct ArrowArray *a) {
  producer *p = a->private_data;
  p->releases++;
  if (a->dictionary != NULL && a->dictionary->release != NULL)
    a->dictionary->release(a->dictionary);
  a->release = NULL;
}

/* An int32 array of 4 values [1, 2, 3, 4], no nulls. */
static void make_int32(producer *p) {
  memset(p, 0, sizeof *p);
  int32_t v[4] = {1, 2, 3, 4};
  memcpy(p->values, v, sizeof v);
  p->bufs[1] = p->values;
  p->arr = (struct ArrowArray){.length = 4, .null_count = 0, .offset = 0, .n_buffers = 2,
                               .buffers = p->bufs, .release = producer_release,
                               .private_data = p};
}

/* A utf8 array ["ab", "", "cde", "f"], no nulls. */
static void make_utf8(producer *p) {
  memset(p, 0, sizeof *p);
  int32_t offs[5] = {0, 2, 2, 5, 6};
  memcpy(p->values, offs, sizeof offs);
  memcpy(p->data, "abcdef", 6);
  p->bufs[1] = p->values;
  p->bufs[2] = p->data;
  p->arr = (struct ArrowArray){.length = 4, .null_count = 0, .offset = 0, .n_buffers = 3,
                               .buffers = p->bufs, .release = producer_release,
                               .private_data = p};
}

/* A dictionary<utf8> array with codes [0, 1, 2, 1] over ["x", "yy", "z"]. */
static void make_dict(producer *p) {
  memset(p, 0, sizeof *p);
  int32_t codes[4] = {0, 1, 2, 1};
  memcpy(p->values, codes, sizeof codes);
  p->bufs[1] = p->values;
  int32_t offs[4] = {0, 1, 3, 4};
  memcpy(p->dvalues, offs, sizeof offs);
  memcpy(p->ddata, "xyyz", 4);
  p->dbufs[1] = p->dvalues;
  p->dbufs[2] = p->ddata;
  p->dict = (struct ArrowArray){.length = 3, .null_count = 0, .n_buffers = 3,
                                .buffers = p->dbufs, .release = dict_release,
                                .private_data = p};
  p->arr = (struct ArrowArray){.length = 4, .null_count = 0, .offset = 0, .n_buffers = 2,
                               .buffers = p->bufs, .dictionary = &p->dict,
                               .release = producer_release, .private_data = p};
}

static void noop_schema_release(struct ArrowSchema *s) { s->release = NULL; }

/* Schema of format `fmt` named "col"; "dict" gives dictionary<utf8>. */
typedef struct schema_pair {
  struct ArrowSchema s, d;
} schema_pair;

static void make_schema(schema_pair *sp, const char *fmt) {
  memset(sp, 0, sizeof *sp);
  sp->s.format = fmt;
  sp->s.name = "col";
  sp->s.flags = ARROW_FLAG_NULLABLE;
  sp->s.release = noop_schema_release;
  if (strcmp(fmt, "dict") == 0) {
    sp->s.format = "i";
    sp->d.format = "u";
    sp->d.release = noop_schema_release;
    sp->s.dictionary = &sp->d;
  }
}

/* Imports p->arr as `fmt`, expecting GF_EINVAL with every needle in the
 * message, the struct unchanged and nothing released; then releases it. */
static void expect_rejected(producer *p, const char *fmt, gf_import_check check,
                            const char *needle1, const char *needle2) {
  schema_pair sp;
  make_schema(&sp, fmt);
  struct ArrowArray saved = p->arr;
  struct ArrowArray saved_dict = p->dict;
  gf_array *out = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_array_import(&p->arr, &sp.s, check, &out, &err);
  if (st != GF_EINVAL) fail_msg("expected GF_EINVAL, got %d: %s", (int)st, err.message);
  assert_null(out);
  if (needle1 && !strstr(err.message, needle1))
    fail_msg("message '%s' lacks '%s'", err.message, needle1);
  if (needle2 && !strstr(err.message, needle2))
    fail_msg("message '%s' lacks '%s'", err.message, needle2);
  assert_non_null(strstr(err.message, "'col'")); /* names the field */
  assert_memory_equal(&p->arr, &saved, sizeof saved);
  assert_memory_equal(&p->dict, &saved_dict, sizeof saved_dict);
  assert_int_equal(p->releases, 0);
  assert_int_equal(p->dict_releases, 0);
  if (p->arr.release) p->arr.release(&p->arr);
}

/* Imports p->arr as `fmt` expecting success; releases the result and checks
 * the producer was released exactly once. */
static void expect_accepted(producer *p, const char *fmt, gf_import_check check) {
  schema_pair sp;
  make_schema(&sp, fmt);
  gf_array *out = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_array_import(&p->arr, &sp.s, check, &out, &err);
  if (st != GF_OK) fail_msg("import failed: %s", err.message);
  assert_null(p->arr.release);
  assert_int_equal(gf_array_validate(out, check == GF_IMPORT_CHECK_FULL, NULL), GF_OK);
  gf_array_release(out);
  assert_int_equal(p->releases, 1);
}

static void valid_inputs_are_accepted(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  expect_accepted(&p, "i", GF_IMPORT_CHECK_FULL);
  make_utf8(&p);
  expect_accepted(&p, "u", GF_IMPORT_CHECK_FULL);
  make_dict(&p);
  expect_accepted(&p, "dict", GF_IMPORT_CHECK_FULL);
  assert_int_equal(p.dict_releases, 1);
}

static void released_array_is_rejected(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  p.arr.release = NULL;
  schema_pair sp;
  make_schema(&sp, "i");
  gf_array *out = NULL;
  gf_error err;
  assert_int_equal(gf_array_import(&p.arr, &sp.s, GF_IMPORT_CHECK_FULL, &out, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "released"));
  assert_null(out);
}

static void negative_length_is_rejected(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  p.arr.length = -1;
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "length -1 is negative", NULL);
}

static void negative_offset_is_rejected(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  p.arr.offset = -2;
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "offset -2 is negative", NULL);
}

static void offset_plus_length_overflow_is_rejected(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  p.arr.offset = INT64_MAX - 1;
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "overflows", "offset");
}

static void values_size_overflow_is_rejected(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  p.arr.length = INT64_MAX / 2; /* times 4 bytes does not fit */
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "values buffer size overflows", NULL);
}

static void offsets_size_overflow_is_rejected(void **state) {
  (void)state;
  producer p;
  make_utf8(&p);
  p.arr.length = INT64_MAX / 3;
  expect_rejected(&p, "u", GF_IMPORT_CHECK_LAYOUT, "offsets buffer size overflows", NULL);
}

static void wrong_buffer_count_is_rejected(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  p.arr.n_buffers = 3;
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "n_buffers is 3", "needs 2");
  make_utf8(&p);
  p.arr.n_buffers = 2;
  expect_rejected(&p, "u", GF_IMPORT_CHECK_LAYOUT, "n_buffers is 2", "needs 3");
  make_int32(&p);
  expect_rejected(&p, "n", GF_IMPORT_CHECK_LAYOUT, "n_buffers is 2", "needs 0");
}

static void null_buffers_pointer_is_rejected(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  p.arr.buffers = NULL;
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "buffers pointer is NULL", NULL);
}

static void children_on_a_flat_type_are_rejected(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  p.arr.n_children = 1;
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "n_children is 1", NULL);
}

static void missing_dictionary_is_rejected(void **state) {
  (void)state;
  producer p;
  make_dict(&p);
  p.arr.dictionary = NULL;
  expect_rejected(&p, "dict", GF_IMPORT_CHECK_LAYOUT, "dictionary is NULL", NULL);
}

static void unexpected_dictionary_is_rejected(void **state) {
  (void)state;
  producer p;
  make_dict(&p);
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "a dictionary is set", NULL);
}

static void null_count_out_of_range_is_rejected(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  p.arr.null_count = -2;
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "null_count -2 is outside", NULL);
  make_int32(&p);
  p.arr.null_count = 5;
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "null_count 5 is outside", NULL);
}

static void nulls_without_validity_buffer_are_rejected(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  p.arr.null_count = 1;
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "null_count is 1",
                  "validity buffer is NULL");
}

static void null_count_disagreeing_with_bitmap_is_rejected(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  p.validity[0] = 0x0B; /* 1011: one null at index 2 */
  p.bufs[0] = p.validity;
  p.arr.null_count = 2;
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "null_count is 2",
                  "bitmap has 1 nulls");
  /* With the right count (or -1) it is accepted. */
  make_int32(&p);
  p.validity[0] = 0x0B;
  p.bufs[0] = p.validity;
  p.arr.null_count = -1;
  expect_accepted(&p, "i", GF_IMPORT_CHECK_FULL);
}

static void missing_values_buffer_is_rejected(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  p.bufs[1] = NULL;
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "buffer 1 (values) is NULL", NULL);
  make_int32(&p);
  p.bufs[1] = NULL;
  expect_rejected(&p, "b", GF_IMPORT_CHECK_LAYOUT, "buffer 1 (values) is NULL", NULL);
}

static void misaligned_values_buffer_is_rejected(void **state) {
  (void)state;
  producer p;
  make_int32(&p);
  p.bufs[1] = (const char *)p.values + 2;
  expect_rejected(&p, "i", GF_IMPORT_CHECK_LAYOUT, "not aligned to 4 bytes", NULL);
  /* Byte-sized values need no alignment. */
  make_int32(&p);
  p.bufs[1] = (const char *)p.values + 1;
  expect_accepted(&p, "c", GF_IMPORT_CHECK_FULL);
}

static void missing_offsets_buffer_is_rejected(void **state) {
  (void)state;
  producer p;
  make_utf8(&p);
  p.bufs[1] = NULL;
  expect_rejected(&p, "u", GF_IMPORT_CHECK_LAYOUT, "buffer 1 (offsets) is NULL", NULL);
}

static void misaligned_offsets_buffer_is_rejected(void **state) {
  (void)state;
  producer p;
  make_utf8(&p);
  p.bufs[1] = (const char *)p.values + 1;
  expect_rejected(&p, "u", GF_IMPORT_CHECK_LAYOUT, "offsets) is not aligned to 4", NULL);
}

static void negative_first_offset_is_rejected(void **state) {
  (void)state;
  producer p;
  make_utf8(&p);
  int32_t bad[5] = {-1, 2, 2, 5, 6};
  memcpy(p.values, bad, sizeof bad);
  expect_rejected(&p, "u", GF_IMPORT_CHECK_LAYOUT, "offsets: first offset -1", "negative");
}

static void non_monotonic_offsets_are_rejected(void **state) {
  (void)state;
  producer p;
  make_utf8(&p);
  int32_t bad[5] = {0, 2, 1, 5, 6};
  memcpy(p.values, bad, sizeof bad);
  expect_rejected(&p, "u", GF_IMPORT_CHECK_LAYOUT, "offsets: not monotonic at index 2",
                  "1 after 2");
  /* The index is relative to the array's offset. */
  make_utf8(&p);
  int32_t bad2[5] = {0, 2, 2, 5, 4};
  memcpy(p.values, bad2, sizeof bad2);
  p.arr.offset = 1;
  p.arr.length = 3;
  expect_rejected(&p, "u", GF_IMPORT_CHECK_LAYOUT, "not monotonic at index 3", NULL);
  /* Large offsets are checked the same way. */
  make_utf8(&p);
  int64_t bad3[5] = {0, 2, 7, 5, 6};
  memcpy(p.values, bad3, sizeof bad3);
  expect_rejected(&p, "U", GF_IMPORT_CHECK_LAYOUT, "not monotonic at index 3", "5 after 7");
}

static void missing_data_buffer_is_rejected(void **state) {
  (void)state;
  producer p;
  make_utf8(&p);
  p.bufs[2] = NULL;
  expect_rejected(&p, "u", GF_IMPORT_CHECK_LAYOUT, "buffer 2 (data) is NULL",
                  "last offset is 6");
  /* All-empty strings need no data buffer. */
  make_utf8(&p);
  memset(p.values, 0, sizeof p.values);
  p.bufs[2] = NULL;
  expect_accepted(&p, "u", GF_IMPORT_CHECK_FULL);
}

static void dictionary_codes_out_of_range_are_rejected(void **state) {
  (void)state;
  producer p;
  make_dict(&p);
  ((int32_t *)p.values)[2] = 3;
  expect_rejected(&p, "dict", GF_IMPORT_CHECK_LAYOUT, "dictionary code 3 at index 2",
                  "[0, 3)");
  assert_int_equal(p.dict_releases, 1); /* by our own cleanup release above */
  make_dict(&p);
  ((int32_t *)p.values)[1] = -1;
  expect_rejected(&p, "dict", GF_IMPORT_CHECK_LAYOUT, "dictionary code -1 at index 1", NULL);
  /* A null slot's code is not looked at. */
  make_dict(&p);
  ((int32_t *)p.values)[3] = 99;
  p.validity[0] = 0x07;
  p.bufs[0] = p.validity;
  p.arr.null_count = 1;
  expect_accepted(&p, "dict", GF_IMPORT_CHECK_FULL);
}

static void malformed_dictionary_values_are_rejected(void **state) {
  (void)state;
  producer p;
  make_dict(&p);
  int32_t bad[4] = {0, 3, 1, 4};
  memcpy(p.dvalues, bad, sizeof bad);
  expect_rejected(&p, "dict", GF_IMPORT_CHECK_LAYOUT, "(dictionary)",
                  "not monotonic at index 2");
  make_dict(&p);
  p.dict.n_buffers = 2;
  expect_rejected(&p, "dict", GF_IMPORT_CHECK_LAYOUT, "(dictionary)", "n_buffers is 2");
  make_dict(&p);
  memcpy(p.ddata, "x\xffyz", 4);
  expect_rejected(&p, "dict", GF_IMPORT_CHECK_FULL, "(dictionary)", "utf8");
}

static void invalid_utf8_is_rejected_by_the_full_check(void **state) {
  (void)state;
  const char *bad[] = {"\xc0\xaf",          /* overlong '/' */
                       "\xed\xa0\x80",      /* surrogate */
                       "\xf4\x90\x80\x80",  /* past U+10FFFF */
                       "\xe6\x97",          /* truncated */
                       "\x80",              /* lone continuation */
                       "\xe0\x80\x80",      /* overlong 3-byte */
                       "\xf0\x80\x80\x80",  /* overlong 4-byte */
                       "\xff"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    producer p;
    make_utf8(&p);
    size_t n = strlen(bad[i]);
    /* Element 2 becomes the bad bytes, element 3 stays "f". */
    memcpy(p.data, "ab", 2);
    memcpy((char *)p.data + 2, bad[i], n);
    ((char *)p.data)[2 + n] = 'f';
    int32_t offs[5] = {0, 2, 2, 2 + (int32_t)n, 3 + (int32_t)n};
    memcpy(p.values, offs, sizeof offs);
    expect_rejected(&p, "u", GF_IMPORT_CHECK_FULL, "utf8: invalid UTF-8",
                    "at index 2");
    /* The layout check alone does not look at the bytes. */
    make_utf8(&p);
    memcpy((char *)p.data + 2, bad[i], n);
    ((char *)p.data)[2 + n] = 'f';
    memcpy(p.values, offs, sizeof offs);
    expect_accepted(&p, "u", GF_IMPORT_CHECK_LAYOUT);
  }
  /* Valid multi-byte text passes, also when longer than 8 bytes. */
  producer p;
  make_utf8(&p);
  const char *good = "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80plain ascii";
  size_t n = strlen(good);
  int32_t offs[5] = {0, 0, 0, (int32_t)n, (int32_t)n};
  memcpy(p.values, offs, sizeof offs);
  memcpy(p.data, good, n);
  expect_accepted(&p, "u", GF_IMPORT_CHECK_FULL);
  /* Invalid bytes in a null slot are not looked at. */
  make_utf8(&p);
  memcpy(p.data, "\xff\xff", 2);
  p.validity[0] = 0x0E;
  p.bufs[0] = p.validity;
  p.arr.null_count = 1;
  expect_accepted(&p, "u", GF_IMPORT_CHECK_FULL);
}

/* ---- record batches (the struct arrays of a stream) ------------------------ */

typedef struct batch_fixture {
  producer col;
  int releases;
  const void *bufs[1];
  struct ArrowArray *children[1];
  struct ArrowArray batch;
  gf_schema *schema;
} batch_fixture;

static void batch_release(struct ArrowArray *a) {
  batch_fixture *b = a->private_data;
  b->releases++;
  if (b->children[0]->release) b->children[0]->release(b->children[0]);
  a->release = NULL;
}

static void make_batch(batch_fixture *b) {
  memset(b, 0, sizeof *b);
  make_int32(&b->col);
  b->children[0] = &b->col.arr;
  b->batch = (struct ArrowArray){.length = 4, .null_count = 0, .n_buffers = 1,
                                 .n_children = 1, .buffers = b->bufs,
                                 .children = b->children, .release = batch_release,
                                 .private_data = b};
  gf_field f = {"v", gf_type(GF_TYPE_INT32), true};
  assert_int_equal(gf_schema_new(&f, 1, &b->schema, NULL), GF_OK);
}

static void expect_batch_rejected(batch_fixture *b, const char *needle1, const char *needle2) {
  struct ArrowArray saved = b->batch;
  gf_array *cols[1] = {NULL};
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gfi_cdata_import_batch(&b->batch, b->schema, NULL, GF_IMPORT_CHECK_FULL, NULL,
                                        cols, &err);
  if (st != GF_EINVAL) fail_msg("expected GF_EINVAL, got %d: %s", (int)st, err.message);
  if (!strstr(err.message, needle1)) fail_msg("'%s' lacks '%s'", err.message, needle1);
  if (needle2 && !strstr(err.message, needle2))
    fail_msg("'%s' lacks '%s'", err.message, needle2);
  assert_memory_equal(&b->batch, &saved, sizeof saved);
  assert_int_equal(b->releases, 0);
  assert_int_equal(b->col.releases, 0);
  assert_null(cols[0]);
  b->batch.release(&b->batch);
  assert_int_equal(b->col.releases, 1);
  gf_schema_release(b->schema);
}

static void batch_with_wrong_child_count_is_rejected(void **state) {
  (void)state;
  batch_fixture b;
  make_batch(&b);
  b.batch.n_children = 2;
  expect_batch_rejected(&b, "n_children is 2", "schema has 1 fields");
}

static void batch_with_short_column_is_rejected(void **state) {
  (void)state;
  batch_fixture b;
  make_batch(&b);
  b.batch.offset = 1; /* offset 1 + length 4 needs 5 rows in the child */
  expect_batch_rejected(&b, "column 0 'v'", "shorter than the record batch");
}

static void batch_with_struct_level_nulls_is_rejected(void **state) {
  (void)state;
  batch_fixture b;
  make_batch(&b);
  static const uint8_t validity[1] = {0x07};
  b.bufs[0] = validity;
  b.batch.null_count = 1;
  expect_batch_rejected(&b, "struct-level nulls", NULL);
}

static void batch_with_malformed_column_is_rejected(void **state) {
  (void)state;
  batch_fixture b;
  make_batch(&b);
  b.col.arr.null_count = 3;
  expect_batch_rejected(&b, "column 0 'v'", "validity buffer is NULL");
}

static void batch_offset_applies_to_its_columns(void **state) {
  (void)state;
  batch_fixture b;
  make_batch(&b);
  b.batch.offset = 1;
  b.batch.length = 2;
  gf_array *cols[1] = {NULL};
  assert_int_equal(gfi_cdata_import_batch(&b.batch, b.schema, NULL, GF_IMPORT_CHECK_FULL, NULL,
                                          cols, NULL),
                   GF_OK);
  assert_null(b.batch.release);
  assert_int_equal(gf_array_length(cols[0]), 2);
  assert_int_equal(gf_array_get_int64(cols[0], 0), 2);
  assert_int_equal(gf_array_get_int64(cols[0], 1), 3);
  assert_int_equal(b.releases, 0);
  gf_array_release(cols[0]);
  assert_int_equal(b.releases, 1);
  assert_int_equal(b.col.releases, 1);
  gf_schema_release(b.schema);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(valid_inputs_are_accepted),
      cmocka_unit_test(released_array_is_rejected),
      cmocka_unit_test(negative_length_is_rejected),
      cmocka_unit_test(negative_offset_is_rejected),
      cmocka_unit_test(offset_plus_length_overflow_is_rejected),
      cmocka_unit_test(values_size_overflow_is_rejected),
      cmocka_unit_test(offsets_size_overflow_is_rejected),
      cmocka_unit_test(wrong_buffer_count_is_rejected),
      cmocka_unit_test(null_buffers_pointer_is_rejected),
      cmocka_unit_test(children_on_a_flat_type_are_rejected),
      cmocka_unit_test(missing_dictionary_is_rejected),
      cmocka_unit_test(unexpected_dictionary_is_rejected),
      cmocka_unit_test(null_count_out_of_range_is_rejected),
      cmocka_unit_test(nulls_without_validity_buffer_are_rejected),
      cmocka_unit_test(null_count_disagreeing_with_bitmap_is_rejected),
      cmocka_unit_test(missing_values_buffer_is_rejected),
      cmocka_unit_test(misaligned_values_buffer_is_rejected),
      cmocka_unit_test(missing_offsets_buffer_is_rejected),
      cmocka_unit_test(misaligned_offsets_buffer_is_rejected),
      cmocka_unit_test(negative_first_offset_is_rejected),
      cmocka_unit_test(non_monotonic_offsets_are_rejected),
      cmocka_unit_test(missing_data_buffer_is_rejected),
      cmocka_unit_test(dictionary_codes_out_of_range_are_rejected),
      cmocka_unit_test(malformed_dictionary_values_are_rejected),
      cmocka_unit_test(invalid_utf8_is_rejected_by_the_full_check),
      cmocka_unit_test(batch_with_wrong_child_count_is_rejected),
      cmocka_unit_test(batch_with_short_column_is_rejected),
      cmocka_unit_test(batch_with_struct_level_nulls_is_rejected),
      cmocka_unit_test(batch_with_malformed_column_is_rejected),
      cmocka_unit_test(batch_offset_applies_to_its_columns),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
