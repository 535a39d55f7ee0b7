/* The Parquet reader beyond the golden comparison (test_parquet_read_golden):
 * results identical at 1/2/3/8 workers; projection; row-group pruning
 * checked against filtering the whole file (an independent reference: the
 * evaluator over every row); schema-only reads; buffer and read-mode
 * inputs; clean errors on missing, truncated and corrupted files;
 * allocation-failure sweeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gf_test_sweep.h"
#include "gopherframe.h"

static char *gen_path(const char *name) {
  static char buf[8][1024];
  static int k;
  const char *data = getenv("GF_TEST_DATA");
  if (!data) data = "tests/data";
  char *b = buf[k++ & 7];
  snprintf(b, 1024, "%s/parquet/gen/%s", data, name);
  return b;
}

static gf_frame *read_with(const char *path, int workers, const gf_parquet_read_options *base) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.min_parallel_rows = 1;
  gf_parquet_read_options o;
  if (base)
    o = *base;
  else
    gf_parquet_read_options_init(&o);
  o.parallel = &po;
  gf_frame *f = NULL;
  gf_error err;
  gf_status st = gf_read_parquet(path, &o, &f, &err);
  if (st != GF_OK) fail_msg("%s: %s %s", path, gf_status_name(st), err.message);
  return f;
}

static void same_at_any_worker_count(void **state) {
  (void)state;
  const char *files[] = {"many_row_groups.parquet", "codec_zstd_v2.parquet", "codec_gzip_v1.parquet",
                         "types.parquet", "encodings_delta.parquet", "tiny.parquet"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    const char *p = gen_path(files[i]);
    gf_frame *ref = read_with(p, 1, NULL);
    int workers[] = {2, 3, 8};
    for (int w = 0; w < 3; w++) {
      gf_frame *f = read_with(p, workers[w], NULL);
      assert_true(gf_frame_equals(ref, f));
      assert_int_equal(gf_frame_num_batches(ref), gf_frame_num_batches(f));
      assert_true(gf_schema_equals(gf_frame_schema(ref), gf_frame_schema(f)));
      gf_frame_release(f);
    }
    gf_frame_release(ref);
  }
}

static void projection_reads_the_named_columns_in_order(void **state) {
  (void)state;
  const char *p = gen_path("many_row_groups.parquet");
  gf_frame *all = read_with(p, 2, NULL);
  const char *names[] = {"name", "key"};
  gf_parquet_read_options o;
  gf_parquet_read_options_init(&o);
  o.columns = names;
  o.num_columns = 2;
  gf_frame *f = read_with(p, 2, &o);
  gf_frame *ref;
  assert_int_equal(gf_select(all, names, 2, &ref, NULL), GF_OK);
  assert_true(gf_frame_equals(ref, f));
  assert_string_equal(gf_schema_field(gf_frame_schema(f), 0)->name, "name");
  gf_frame_release(ref);
  gf_frame_release(f);
  gf_frame_release(all);
  /* An unknown name is GF_EINVAL naming it. */
  const char *bad[] = {"key", "nope"};
  o.columns = bad;
  gf_frame *g = NULL;
  gf_error err;
  assert_int_equal(gf_read_parquet(p, &o, &g, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "'nope'"));
  assert_null(g);
}

/* Pruned read then filter == whole read then filter; and the expected
 * number of row groups (of 20, 500 rows each) was skipped. */
static void check_prune(const char *text, int64_t want_skipped) {
  const char *p = gen_path("many_row_groups.parquet");
  gf_expr *e;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("%s: %s", text, err.message);
  gf_frame *all = read_with(p, 2, NULL), *want, *got, *pruned;
  assert_int_equal(gf_filter(all, e, NULL, &want, &err), GF_OK);
  gf_parquet_read_options o;
  gf_parquet_read_options_init(&o);
  int64_t skipped = -1;
  o.predicate = e;
  o.row_groups_skipped = &skipped;
  pruned = read_with(p, 3, &o);
  if (gf_filter(pruned, e, NULL, &got, &err) != GF_OK) fail_msg("%s: %s", text, err.message);
  if (!gf_frame_equals(want, got))
    fail_msg("%s: pruned read gives %lld rows, the whole file %lld", text,
             (long long)gf_frame_num_rows(got), (long long)gf_frame_num_rows(want));
  if (skipped != want_skipped)
    fail_msg("%s: %lld row groups skipped, expected %lld", text, (long long)skipped,
             (long long)want_skipped);
  gf_frame_release(got);
  gf_frame_release(pruned);
  gf_frame_release(want);
  gf_frame_release(all);
  gf_expr_release(e);
}

static void pruning_skips_only_row_groups_that_cannot_match(void **state) {
  (void)state;
  /* key = 3 * row, 500 rows per group; grp = row / 1000; fl = row - 5000
   * with NaN at rows 2500..2549 and -0.0 at row 5000; name = n%06d of
   * row / 10; allnull all null; x random with nulls. */
  check_prune("key < 1500", 19);
  check_prune("key <= 1500", 18);
  check_prune("key > 28499", 19);
  check_prune("key >= 28497", 18); /* group 18 ends at 28497 */
  check_prune("key >= 28498", 19);
  check_prune("key = 4500", 19);
  check_prune("key = 4501", 19);
  check_prune("key = -1", 20);
  check_prune("key != 4500", 0);
  check_prune("key between 1500 and 2999", 19);
  check_prune("key in (0, 29997)", 18);
  check_prune("key < 1500 or key > 28499", 18);
  check_prune("key < 1500 and grp = 0", 19);
  check_prune("not (key >= 1500)", 19);
  check_prune("not (key < 1500 or key >= 3000)", 19);
  check_prune("grp = 3", 18);
  check_prune("grp > 2.5", 6);
  check_prune("grp < 0.5", 18);
  check_prune("name = 'n000123'", 19);
  check_prune("name < 'n000050'", 19);
  check_prune("name >= 'n000950'", 19);
  check_prune("fl > 4000", 18);
  check_prune("fl < -4501", 19);
  check_prune("fl = 0", 19);
  check_prune("fl = -0.0", 19);
  check_prune("fl != 1", 0);     /* NaN != 1 is true: never pruned */
  check_prune("not (fl < 0)", 0); /* NaN is neither: floats are not negated */
  check_prune("is_null(allnull)", 0);
  check_prune("is_not_null(allnull)", 20);
  check_prune("allnull = 1", 20);
  check_prune("is_null(key)", 20);
  check_prune("x > 1e300", 20);
  check_prune("key + 1 < 10", 0); /* not a column-literal comparison */
  check_prune("false", 20);
}

static void schema_only_read_matches_the_frame(void **state) {
  (void)state;
  const char *files[] = {"types.parquet", "tiny.parquet", "empty.parquet"};
  for (int i = 0; i < 3; i++) {
    const char *p = gen_path(files[i]);
    gf_schema *s = NULL;
    int64_t rows = -1;
    gf_error err;
    assert_int_equal(gf_parquet_read_schema(p, NULL, &s, &rows, &err), GF_OK);
    gf_frame *f = read_with(p, 1, NULL);
    assert_true(gf_schema_equals(s, gf_frame_schema(f)));
    assert_int_equal(rows, gf_frame_num_rows(f));
    gf_frame_release(f);
    gf_schema_release(s);
  }
  /* The dictionary column of tiny.parquet comes back as a dictionary
   * (ARROW:schema), the named zone of types.parquet as that zone. */
  gf_frame *t = read_with(gen_path("tiny.parquet"), 1, NULL);
  assert_int_equal(gf_schema_field(gf_frame_schema(t), 1)->type.id, GF_TYPE_DICTIONARY);
  gf_frame_release(t);
  /* Pages that fell back from the dictionary to PLAIN: still one
   * dictionary column, validated (codes in range, no duplicates needed). */
  t = read_with(gen_path("dict_fallback.parquet"), 2, NULL);
  assert_int_equal(gf_schema_field(gf_frame_schema(t), 0)->type.id, GF_TYPE_DICTIONARY);
  for (int b = 0; b < gf_frame_num_batches(t); b++)
    assert_int_equal(gf_array_validate(gf_frame_column(t, b, 0), true, NULL), GF_OK);
  gf_frame_release(t);
  gf_frame *ty = read_with(gen_path("types.parquet"), 1, NULL);
  int k = gf_schema_find(gf_frame_schema(ty), "ts_ns_ny");
  assert_string_equal(gf_type_timezone_name(gf_schema_field(gf_frame_schema(ty), k)->type),
                      "America/New_York");
  gf_frame_release(ty);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return s;
}

static void buffer_and_read_mode_give_the_same_frame(void **state) {
  (void)state;
  const char *p = gen_path("codec_snappy_v2.parquet");
  gf_frame *ref = read_with(p, 2, NULL);
  size_t len;
  char *bytes = slurp(p, &len);
  gf_frame *f = NULL;
  assert_int_equal(gf_read_parquet_buffer(bytes, len, NULL, &f, NULL), GF_OK);
  free(bytes); /* the frame does not point into the input */
  assert_true(gf_frame_equals(ref, f));
  gf_frame_release(f);
  gf_parquet_read_options o;
  gf_parquet_read_options_init(&o);
  o.input_mode = GF_INPUT_READ;
  f = read_with(p, 2, &o);
  assert_true(gf_frame_equals(ref, f));
  gf_frame_release(f);
  gf_frame_release(ref);
}

static void bad_inputs_fail_cleanly(void **state) {
  (void)state;
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(gf_read_parquet("/nonexistent/x.parquet", NULL, &f, &err), GF_EIO);
  assert_null(f);
  assert_int_equal(gf_read_parquet_buffer("PAR1", 4, NULL, &f, &err), GF_EINVAL);
  assert_int_equal(gf_read_parquet_buffer("hello,world\n1,2\n", 16, NULL, &f, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "not a Parquet file"));
  assert_int_equal(gf_read_parquet(NULL, NULL, &f, &err), GF_EINVAL);
  assert_int_equal(gf_read_parquet(gen_path("tiny.parquet"), NULL, NULL, &err), GF_EINVAL);
  gf_parquet_read_options o;
  gf_parquet_read_options_init(&o);
  o.size = 0;
  assert_int_equal(gf_read_parquet(gen_path("tiny.parquet"), &o, &f, &err), GF_EINVAL);
  /* Every truncation and many single-byte corruptions of a small file:
   * an error or a frame, never a crash (run under ASan/UBSan in CI). */
  size_t len;
  char *bytes = slurp(gen_path("tiny.parquet"), &len);
  int errors = 0;
  for (size_t n = 0; n < len; n++) {
    gf_status st = gf_read_parquet_buffer(bytes, n, NULL, &f, &err);
    if (st == GF_OK) gf_frame_release(f);
    else errors++;
  }
  assert_true(errors >= (int)len - 1);
  char *copy = malloc(len);
  uint32_t seed = 12345;
  for (int k = 0; k < 4000; k++) {
    memcpy(copy, bytes, len);
    for (int j = 0; j < 1 + k % 3; j++) {
      seed = seed * 1103515245u + 12345u;
      size_t at = (seed >> 8) % len;
      seed = seed * 1103515245u + 12345u;
      copy[at] = (char)(k & 1 ? (int)(seed >> 16) : copy[at] ^ (1 << (seed % 8)));
    }
    gf_status st = gf_read_parquet_buffer(copy, len, NULL, &f, &err);
    if (st == GF_OK) {
      assert_int_equal(gf_frame_num_columns(f), 4);
      gf_frame_release(f);
    } else {
      assert_true(st == GF_EINVAL || st == GF_ENOTSUP || st == GF_ERANGE || st == GF_ENOMEM);
      assert_true(strlen(err.message) > 0);
    }
  }
  free(copy);
  free(bytes);
}

/* ---- allocation-failure sweep ---- */

static gf_frame *sweep_ref;

static gf_status read_once(void *user, const gf_allocator *a) {
  const char *p = user;
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = 2;
  po.min_parallel_rows = 1;
  po.allocator = a;
  gf_parquet_read_options o;
  gf_parquet_read_options_init(&o);
  o.parallel = &po;
  gf_frame *f = (gf_frame *)0x1;
  gf_error err;
  gf_status st = gf_read_parquet(p, &o, &f, &err);
  if (st == GF_OK) {
    assert_true(gf_frame_equals(sweep_ref, f));
    gf_frame_release(f);
  } else {
    assert_null(f);
  }
  return st;
}

static void read_survives_every_allocation_failure(void **state) {
  (void)state;
  const char *p = gen_path("tiny.parquet");
  sweep_ref = read_with(p, 1, NULL);
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts c = {0};
  gft_alloc_sweep("Parquet read", fa, read_once, (void *)p, &c);
  gft_sweep_print("Parquet read", &c);
  assert_true(c.sites > 20);
  gf_failing_allocator_free(fa);
  gf_frame_release(sweep_ref);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(same_at_any_worker_count),
      cmocka_unit_test(projection_reads_the_named_columns_in_order),
      cmocka_unit_test(pruning_skips_only_row_groups_that_cannot_match),
      cmocka_unit_test(schema_only_read_matches_the_frame),
      cmocka_unit_test(buffer_and_read_mode_give_the_same_frame),
      cmocka_unit_test(bad_inputs_fail_cleanly),
      cmocka_unit_test(read_survives_every_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
