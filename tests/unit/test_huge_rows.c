/* Row counts near the int64 limit (valid Arrow: a null-typed column without
 * buffers may claim any length): arrays and frames hold at most GF_MAX_ROWS
 * rows, so nothing derived from a row count overflows. A claim past it is
 * GF_ENOTSUP; a frame at the limit goes through sort, describe, filter and
 * group-by ending in an error or a result, never a crash or a hang. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "gopherframe.h"

static void release_array(struct ArrowArray *a) { a->release = NULL; }
static void release_schema(struct ArrowSchema *s) { s->release = NULL; }

/* A null-typed array of `len` rows with no buffers, imported. */
static gf_status null_array(int64_t len, gf_array **out, gf_error *err) {
  struct ArrowSchema s;
  memset(&s, 0, sizeof s);
  s.format = "n";
  s.name = "x";
  s.flags = ARROW_FLAG_NULLABLE;
  s.release = release_schema;
  struct ArrowArray a;
  memset(&a, 0, sizeof a);
  a.length = len;
  a.null_count = len;
  a.n_buffers = 0;
  a.release = release_array;
  gf_status st = gf_array_import(&a, &s, GF_IMPORT_CHECK_FULL, out, err);
  if (a.release) a.release(&a);
  s.release(&s);
  return st;
}

static void claims_past_the_limit_are_refused(void **state) {
  (void)state;
  int64_t lens[] = {INT64_MAX, (int64_t)1 << 62, GF_MAX_ROWS + 1};
  for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
    gf_array *a = NULL;
    gf_error err;
    assert_int_equal(null_array(lens[i], &a, &err), GF_ENOTSUP);
    assert_null(a);
    assert_non_null(strstr(err.message, "GF_MAX_ROWS"));
  }
}

static void batches_summing_past_the_limit_are_refused(void **state) {
  (void)state;
  gf_array *a = NULL;
  gf_error err;
  assert_int_equal(null_array(GF_MAX_ROWS / 2 + 1, &a, &err), GF_OK);
  gf_field fl = {"x", gf_type(GF_TYPE_NULL), true};
  gf_schema *s = NULL;
  assert_int_equal(gf_schema_new(&fl, 1, &s, &err), GF_OK);
  gf_array *cols[2] = {a, a};
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_new(s, cols, 2, NULL, &f, &err), GF_ENOTSUP);
  assert_null(f);
  assert_int_equal(gf_frame_new(s, cols, 1, NULL, &f, &err), GF_OK);
  assert_int_equal(gf_frame_num_rows(f), GF_MAX_ROWS / 2 + 1);
  gf_frame *g = NULL;
  gf_frame *two[2] = {f, f};
  assert_int_equal(gf_frame_concat(two, 2, NULL, &g, &err), GF_ENOTSUP);
  assert_null(g);
  gf_frame_release(f);
  gf_schema_release(s);
  gf_array_release(a);
}

/* Operations on a frame of exactly GF_MAX_ROWS null rows, under a 3 s
 * deadline: each returns (a result or an error), none crashes. */
static void operations_at_the_limit_end(void **state) {
  (void)state;
  gf_array *a = NULL;
  gf_error err;
  assert_int_equal(null_array(GF_MAX_ROWS, &a, &err), GF_OK);
  const char *names[] = {"x"};
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_from_columns(names, &a, 1, &f, &err), GF_OK);
  gf_array_release(a);
  assert_int_equal(gf_frame_num_rows(f), GF_MAX_ROWS);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = 2;
  po.timeout_ms = 3000;
  /* Huge requests are refused by the limit before any allocator sees
   * them (sanitizer allocators abort on sizes over 1 TiB instead of
   * returning NULL). */
  po.memory_limit = (int64_t)1 << 30;
  gf_sort_key key = {"x", false, false};
  gf_frame *out = NULL;
  gf_status st = gf_sort(f, &key, 1, 0, &po, &out, &err);
  assert_int_equal(st, GF_ENOMEM); /* 8 TiB of permutation: refused */
  assert_null(out);
  st = gf_describe(f, &po, &out, &err);
  if (st == GF_OK) gf_frame_release(out);
  out = NULL;
  gf_expr *e = NULL;
  assert_int_equal(gf_expr_parse("x is null", &e, &err), GF_OK);
  st = gf_filter(f, e, &po, &out, &err);
  if (st == GF_OK) {
    assert_int_equal(gf_frame_num_rows(out), GF_MAX_ROWS);
    gf_frame_release(out);
  }
  gf_expr_release(e);
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = &po;
  const char *keys[] = {"x"};
  out = NULL;
  st = gf_group_by_text(f, keys, 1, "count() as n", &go, &out, &err);
  if (st == GF_OK) gf_frame_release(out);
  gf_frame_release(f);
}

/* gf_sort's own allocations (permutation, output) count against the
 * memory limit, not only what its runtime tasks allocate. */
static void sort_honours_the_memory_limit(void **state) {
  (void)state;
  enum { N = 200000 };
  gf_builder *b = NULL;
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_INT64), NULL, &b, NULL), GF_OK);
  for (int64_t i = 0; i < N; i++)
    assert_int_equal(gf_builder_append_int64(b, (i * 7919) % N, NULL), GF_OK);
  gf_array *a = NULL;
  assert_int_equal(gf_builder_finish(b, &a, NULL), GF_OK);
  gf_builder_free(b);
  const char *names[] = {"v"};
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_from_columns(names, &a, 1, &f, NULL), GF_OK);
  gf_array_release(a);
  gf_sort_key key = {"v", false, false};
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.memory_limit = 1 << 20; /* the 1.6 MB permutation alone does not fit */
  gf_frame *out = NULL;
  gf_error err;
  assert_int_equal(gf_sort(f, &key, 1, 0, &po, &out, &err), GF_ENOMEM);
  assert_null(out);
  po.memory_limit = 64 << 20;
  assert_int_equal(gf_sort(f, &key, 1, 0, &po, &out, &err), GF_OK);
  assert_int_equal(gf_frame_num_rows(out), N);
  for (int64_t i = 0; i < N; i++) assert_int_equal(gf_array_get_int64(gf_frame_column(out, 0, 0), i), i);
  gf_frame_release(out); /* its blocks came from the call's tracked allocator */
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(claims_past_the_limit_are_refused),
      cmocka_unit_test(batches_summing_past_the_limit_are_refused),
      cmocka_unit_test(operations_at_the_limit_end),
      cmocka_unit_test(sort_honours_the_memory_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
