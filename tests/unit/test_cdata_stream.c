/* Arrow C Stream Interface: frame export as a stream of record batches,
 * stream import into a frame, producer errors, ownership, allocation
 * failure sweeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "data/array_internal.h"
#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe/testing.h"

static gf_frame *random_frame(int64_t rows, int batches, uint64_t seed,
                              const gf_allocator *a) {
  gf_datatype types[GFT_MAX_TYPES];
  int n = gft_all_types(types, GFT_MAX_TYPES);
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(types, n, rows, batches, 0.2, seed, a, &f), GF_OK);
  return f;
}

static void multi_batch_frame_round_trips_through_a_stream(void **state) {
  (void)state;
  gf_frame *f = random_frame(1000, 4, 3, NULL);
  struct ArrowArrayStream s;
  assert_int_equal(gf_frame_export_stream(f, &s, NULL), GF_OK);
  gf_frame *back = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_frame_import_stream(&s, GF_IMPORT_CHECK_FULL, &back, &err);
  if (st != GF_OK) fail_msg("%s", err.message);
  assert_null(s.release); /* the import released the stream */
  assert_int_equal(gf_frame_num_batches(back), 4);
  for (int b = 0; b < 4; b++)
    assert_int_equal(gf_frame_batch_rows(back, b), gf_frame_batch_rows(f, b));
  assert_true(gf_schema_equals(gf_frame_schema(back), gf_frame_schema(f)));
  assert_true(gf_frame_equals(back, f));
  /* One dictionary per dictionary column for the whole frame. */
  for (int c = 0; c < gf_frame_num_columns(back); c++) {
    if (gf_array_type(gf_frame_column(back, 0, c)).id != GF_TYPE_DICTIONARY) continue;
    for (int b = 1; b < 4; b++)
      assert_ptr_equal(gf_array_dictionary(gf_frame_column(back, b, c)),
                       gf_array_dictionary(gf_frame_column(back, 0, c)));
  }
  gf_frame_release(back);
  gf_frame_release(f);
}

static void stream_outlives_the_frame_and_ends_with_released_arrays(void **state) {
  (void)state;
  gf_frame *f = random_frame(90, 3, 8, NULL);
  gf_frame *twin = random_frame(90, 3, 8, NULL);
  struct ArrowArrayStream s;
  assert_int_equal(gf_frame_export_stream(f, &s, NULL), GF_OK);
  gf_frame_release(f);
  struct ArrowSchema sch;
  assert_int_equal(s.get_schema(&s, &sch), 0);
  assert_string_equal(sch.format, "+s");
  assert_int_equal(sch.n_children, gf_frame_num_columns(twin));
  assert_string_equal(sch.children[0]->name, "c0");
  gf_schema *schema = NULL;
  assert_int_equal(gf_schema_import(&sch, &schema, NULL), GF_OK);
  assert_true(gf_schema_equals(schema, gf_frame_schema(twin)));
  gf_schema_release(schema);
  sch.release(&sch);
  assert_null(s.get_last_error(&s));
  for (int b = 0; b < 3; b++) {
    struct ArrowArray arr;
    assert_int_equal(s.get_next(&s, &arr), 0);
    assert_non_null(arr.release);
    assert_int_equal(arr.length, gf_frame_batch_rows(twin, b));
    assert_int_equal(arr.n_children, gf_frame_num_columns(twin));
    /* Batches stay valid after the stream is gone. */
    if (b == 2) s.release(&s);
    struct ArrowSchema csch;
    gf_array *col = NULL;
    assert_int_equal(gf_type_export(gf_array_type(gf_frame_column(twin, b, 5)), "c5", true,
                                    &csch, NULL),
                     GF_OK);
    assert_int_equal(gf_array_import(arr.children[5], &csch, GF_IMPORT_CHECK_FULL, &col, NULL),
                     GF_OK);
    assert_true(gf_array_equals(col, gf_frame_column(twin, b, 5)));
    gf_array_release(col);
    csch.release(&csch);
    arr.release(&arr);
  }
  gf_frame_release(twin);
}

static void end_of_stream_is_a_released_array_every_time(void **state) {
  (void)state;
  gf_frame *f = random_frame(10, 1, 1, NULL);
  struct ArrowArrayStream s;
  assert_int_equal(gf_frame_export_stream(f, &s, NULL), GF_OK);
  gf_frame_release(f);
  struct ArrowArray arr;
  assert_int_equal(s.get_next(&s, &arr), 0);
  arr.release(&arr);
  for (int i = 0; i < 3; i++) {
    memset(&arr, 0x5A, sizeof arr);
    assert_int_equal(s.get_next(&s, &arr), 0);
    assert_null(arr.release);
  }
  s.release(&s);
  assert_null(s.release);
}

static void empty_frame_streams_as_zero_batches(void **state) {
  (void)state;
  gf_field fl = {"x", gf_type(GF_TYPE_INT64), true};
  gf_schema *schema = NULL;
  assert_int_equal(gf_schema_new(&fl, 1, &schema, NULL), GF_OK);
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_new(schema, NULL, 0, NULL, &f, NULL), GF_OK);
  struct ArrowArrayStream s;
  assert_int_equal(gf_frame_export_stream(f, &s, NULL), GF_OK);
  gf_frame *back = NULL;
  assert_int_equal(gf_frame_import_stream(&s, GF_IMPORT_CHECK_FULL, &back, NULL), GF_OK);
  assert_int_equal(gf_frame_num_rows(back), 0);
  assert_int_equal(gf_frame_num_batches(back), 0);
  assert_true(gf_schema_equals(gf_frame_schema(back), schema));
  gf_frame_release(back);
  gf_frame_release(f);
  gf_schema_release(schema);
}

/* ---- a hand-written producer ------------------------------------------------ */

/* A stream of int32 batches [0..3] that can fail or hand out a bad batch. */
typedef struct fake_stream {
  int stream_releases;
  int batch_releases;
  int batches_given;
  int total_batches;
  int fail_schema_errno;
  int fail_next_at;   /* get_next call index (0-based) that fails, -1 none */
  int bad_batch_at;   /* batch index whose column lies about nulls, -1 none */
  int32_t values[4];
  const void *bufs[2];
  const void *sbufs[1];
  struct ArrowArray cols[8];
  struct ArrowArray *children[8][1];
  struct ArrowSchema child_schema;
  struct ArrowSchema *child_ptrs[1];
} fake_stream;

static void fs_schema_release(struct ArrowSchema *s) { s->release = NULL; }

static int fs_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out) {
  fake_stream *fs = st->private_data;
  if (fs->fail_schema_errno) return fs->fail_schema_errno;
  memset(out, 0, sizeof *out);
  memset(&fs->child_schema, 0, sizeof fs->child_schema);
  fs->child_schema.format = "i";
  fs->child_schema.name = "v";
  fs->child_schema.flags = ARROW_FLAG_NULLABLE;
  fs->child_schema.release = fs_schema_release;
  fs->child_ptrs[0] = &fs->child_schema;
  out->format = "+s";
  out->name = "";
  out->n_children = 1;
  out->children = fs->child_ptrs;
  out->release = fs_schema_release;
  return 0;
}

static void fs_col_release(struct ArrowArray *a) { a->release = NULL; }

static void fs_batch_release(struct ArrowArray *a) {
  fake_stream *fs = a->private_data;
  fs->batch_releases++;
  if (a->children[0]->release) a->children[0]->release(a->children[0]);
  a->release = NULL;
}

static int fs_get_next(struct ArrowArrayStream *st, struct ArrowArray *out) {
  fake_stream *fs = st->private_data;
  int i = fs->batches_given;
  if (i == fs->fail_next_at) return EIO;
  if (i >= fs->total_batches) {
    out->release = NULL;
    return 0;
  }
  fs->batches_given++;
  fs->cols[i] = (struct ArrowArray){.length = 4, .null_count = i == fs->bad_batch_at ? 2 : 0,
                                    .n_buffers = 2, .buffers = fs->bufs,
                                    .release = fs_col_release};
  fs->children[i][0] = &fs->cols[i];
  *out = (struct ArrowArray){.length = 4, .n_buffers = 1, .n_children = 1,
                             .buffers = fs->sbufs, .children = fs->children[i],
                             .release = fs_batch_release, .private_data = fs};
  return 0;
}

static const char *fs_get_last_error(struct ArrowArrayStream *st) {
  (void)st;
  return "the disk caught fire";
}

static void fs_release(struct ArrowArrayStream *st) {
  fake_stream *fs = st->private_data;
  fs->stream_releases++;
  st->release = NULL;
}

static struct ArrowArrayStream fake(fake_stream *fs, int total) {
  memset(fs, 0, sizeof *fs);
  for (int i = 0; i < 4; i++) fs->values[i] = i;
  fs->bufs[1] = fs->values;
  fs->total_batches = total;
  fs->fail_next_at = -1;
  fs->bad_batch_at = -1;
  return (struct ArrowArrayStream){fs_get_schema, fs_get_next, fs_get_last_error, fs_release,
                                   fs};
}

static void foreign_stream_imports_and_every_batch_is_released_once(void **state) {
  (void)state;
  fake_stream fs;
  struct ArrowArrayStream s = fake(&fs, 3);
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_import_stream(&s, GF_IMPORT_CHECK_FULL, &f, NULL), GF_OK);
  assert_int_equal(fs.stream_releases, 1);
  assert_int_equal(gf_frame_num_batches(f), 3);
  assert_int_equal(gf_frame_num_rows(f), 12);
  assert_int_equal(gf_array_get_int64(gf_frame_column(f, 2, 0), 3), 3);
  assert_int_equal(fs.batch_releases, 0); /* the frame still uses them */
  gf_frame_release(f);
  assert_int_equal(fs.batch_releases, 3);
}

static void producer_errors_fail_the_import_and_release_the_stream(void **state) {
  (void)state;
  fake_stream fs;
  struct ArrowArrayStream s = fake(&fs, 3);
  fs.fail_next_at = 2;
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(gf_frame_import_stream(&s, GF_IMPORT_CHECK_FULL, &f, &err), GF_EIO);
  assert_non_null(strstr(err.message, "get_next"));
  assert_non_null(strstr(err.message, "the disk caught fire"));
  assert_null(f);
  assert_int_equal(fs.stream_releases, 1);
  assert_int_equal(fs.batch_releases, 2); /* the two batches already read */

  s = fake(&fs, 3);
  fs.fail_schema_errno = ENOMEM;
  assert_int_equal(gf_frame_import_stream(&s, GF_IMPORT_CHECK_FULL, &f, &err), GF_ENOMEM);
  assert_non_null(strstr(err.message, "get_schema"));
  assert_int_equal(fs.stream_releases, 1);
}

static void malformed_batch_fails_the_import_naming_the_batch(void **state) {
  (void)state;
  fake_stream fs;
  struct ArrowArrayStream s = fake(&fs, 3);
  fs.bad_batch_at = 1;
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(gf_frame_import_stream(&s, GF_IMPORT_CHECK_FULL, &f, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "batch 1"));
  assert_non_null(strstr(err.message, "column 0 'v'"));
  assert_non_null(strstr(err.message, "validity buffer is NULL"));
  assert_null(f);
  assert_int_equal(fs.stream_releases, 1);
  assert_int_equal(fs.batch_releases, 2);
}

static void released_or_null_stream_is_rejected(void **state) {
  (void)state;
  fake_stream fs;
  struct ArrowArrayStream s = fake(&fs, 1);
  s.release = NULL;
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_import_stream(&s, GF_IMPORT_CHECK_FULL, &f, NULL), GF_EINVAL);
  assert_int_equal(gf_frame_import_stream(NULL, GF_IMPORT_CHECK_FULL, &f, NULL), GF_EINVAL);
  s = fake(&fs, 1);
  assert_int_equal(gf_frame_import_stream(&s, GF_IMPORT_CHECK_FULL, NULL, NULL), GF_EINVAL);
  assert_int_equal(fs.stream_releases, 1); /* released on every path */
}

/* ---- allocation failures ------------------------------------------------------ */

/* Exporting a frame as a stream and draining it (get_schema, every
 * get_next, release) under a failing allocator, for gft_alloc_sweep: the
 * stream's own structures go through the frame's allocator, which is the
 * armed one, so creation and every callback are swept in one sequence. A
 * failing callback must return ENOMEM with an "out of memory" message;
 * that maps to GF_ENOMEM. */
static gf_status export_and_drain(void *user, const gf_allocator *a) {
  (void)a;
  gf_frame *f = user;
  struct ArrowArrayStream s;
  gf_status st = gf_frame_export_stream(f, &s, NULL);
  if (st != GF_OK) return st;
  struct ArrowSchema sch;
  int rc = s.get_schema(&s, &sch);
  bool have_schema = rc == 0;
  int got = 0;
  while (rc == 0) {
    struct ArrowArray arr;
    rc = s.get_next(&s, &arr);
    if (rc != 0 || arr.release == NULL) break;
    arr.release(&arr);
    got++;
  }
  if (have_schema) sch.release(&sch);
  if (rc == 0) {
    assert_int_equal(got, 2);
  } else {
    if (rc != ENOMEM) fail_msg("%s: callback returned errno %d", gft_sweep_at(), rc);
    assert_non_null(s.get_last_error(&s));
    assert_non_null(strstr(s.get_last_error(&s), "out of memory"));
  }
  s.release(&s);
  return rc == 0 ? GF_OK : GF_ENOMEM;
}

/* Every allocation of exporting a stream and draining it failed, one-off
 * and persistent: GF_ENOMEM from the export, ENOMEM from the callbacks,
 * nothing leaked (the frame's own blocks stay live). */
static void stream_export_reports_allocation_failures_as_errno(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gf_failing_allocator_arm(fa, 0, false);
  gf_frame *f = random_frame(60, 2, 4, gf_failing_allocator_get(fa));
  gft_sweep_counts counts = {0};
  gft_alloc_sweep("C stream export", fa, export_and_drain, f, &counts);
  gft_sweep_print("C stream export (create + callbacks)", &counts);
  gf_frame_release(f);
  assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  gf_failing_allocator_free(fa);
}

/* One gf_frame_import_stream_with of a fresh export (default allocator)
 * under a failing allocator (gft_alloc_sweep callback): the stream is
 * released on every path. */
static gf_status import_stream_once(void *user, const gf_allocator *a) {
  gf_frame *f = user;
  struct ArrowArrayStream s;
  assert_int_equal(gf_frame_export_stream(f, &s, NULL), GF_OK);
  gf_frame *back = NULL;
  gf_error err;
  gf_status st = gf_frame_import_stream_with(&s, GF_IMPORT_CHECK_FULL, a, &back, &err);
  assert_null(s.release); /* released on every path */
  if (st == GF_OK) {
    if (!gf_frame_equals(back, f)) fail_msg("%s: imported frame differs", gft_sweep_at());
    gf_frame_release(back);
  } else {
    if (st != GF_ENOMEM) fail_msg("%s: %s", gft_sweep_at(), err.message);
    assert_null(back);
  }
  return st;
}

/* Every allocation of importing a 3-batch stream failed, one-off and
 * persistent: GF_ENOMEM, stream released, nothing leaked, an equal frame
 * once it runs clean. */
static void stream_import_survives_every_allocation_failure(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gf_frame *f = random_frame(120, 3, 6, NULL);
  gft_sweep_counts counts = {0};
  gft_alloc_sweep("C stream import", fa, import_stream_once, f, &counts);
  assert_true(counts.sites > 10);
  gft_sweep_print("C stream import", &counts);
  gf_frame_release(f);
  gf_failing_allocator_free(fa);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(multi_batch_frame_round_trips_through_a_stream),
      cmocka_unit_test(stream_outlives_the_frame_and_ends_with_released_arrays),
      cmocka_unit_test(end_of_stream_is_a_released_array_every_time),
      cmocka_unit_test(empty_frame_streams_as_zero_batches),
      cmocka_unit_test(foreign_stream_imports_and_every_batch_is_released_once),
      cmocka_unit_test(producer_errors_fail_the_import_and_release_the_stream),
      cmocka_unit_test(malformed_batch_fails_the_import_naming_the_batch),
      cmocka_unit_test(released_or_null_stream_is_rejected),
      cmocka_unit_test(stream_export_reports_allocation_failures_as_errno),
      cmocka_unit_test(stream_import_survives_every_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
