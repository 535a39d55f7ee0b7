/* JSON writers: the exact text of a hand-built frame against text written
 * by hand here (escapes, NaN/Inf as null, -0.0, timestamps, dictionaries,
 * nulls with garbage under them, a slice); the same bytes at 1/2/3/8
 * workers and several chunk sizes; round trips frame -> NDJSON/JSON ->
 * gf_read_json -> equal values on random frames; failures leave no file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gf_test_data.h"
#include "gf_test_env.h"
#include "gf_test_garbage.h"
#include "gopherframe.h"

/* Writes f as NDJSON (or an array) into a malloc'd string. */
static char *write_text(const gf_frame *f, bool array, int workers, int64_t chunk_rows) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.chunk_rows = chunk_rows;
  po.min_parallel_rows = 0;
  gf_json_write_options o;
  gf_json_write_options_init(&o);
  o.parallel = &po;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  assert_non_null(m);
  gf_error err;
  gf_error_clear(&err);
  gf_status st = array ? gf_write_json_stream(f, m, &o, &err) : gf_write_ndjson_stream(f, m, &o, &err);
  if (st != GF_OK) fail_msg("write: %s", err.message);
  fclose(m);
  return buf;
}

static gf_frame *hand_frame(void) {
  const int64_t iv[] = {1, 999, -9223372036854775807 - 1, 42};
  const bool ivv[] = {true, false, true, true};
  const double dv[] = {0.1, NAN, -0.0, 1e300};
  const bool dvv[] = {true, true, true, true};
  const double dv2[] = {INFINITY, 3.0, 2.5e-8, -INFINITY};
  const char *sv[] = {"a\"b\\c", NULL, "\xc3\xa9\n\x01\t/", ""};
  const char *kv[] = {"k1", "k2", NULL, "k1"};
  const int64_t bv[] = {1, 0, 0, 1};
  const bool bvv[] = {true, true, false, true};
  const int64_t dates[] = {0, -1, 19782, 0};
  const bool datev[] = {true, true, true, false};
  const int64_t ts[] = {1704164645123456, 0, -1, 5};
  gf_array *cols[8] = {
      gft_int64_array(gf_type(GF_TYPE_INT64), iv, ivv, 4),
      gft_double_array(gf_type(GF_TYPE_FLOAT64), dv, dvv, 4),
      gft_double_array(gf_type(GF_TYPE_FLOAT64), dv2, NULL, 4),
      gft_string_array(gf_type(GF_TYPE_UTF8), sv, 4),
      gft_string_array(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), kv, 4),
      gft_int64_array(gf_type(GF_TYPE_BOOL), bv, bvv, 4),
      gft_int64_array(gf_type(GF_TYPE_DATE32), dates, datev, 4),
      gft_int64_array(gf_type_timestamp(GF_UNIT_MICRO, true, 0), ts, NULL, 4)};
  const char *names[8] = {"i", "d", "inf", "s\"q", "k", "b", "day", "ts"};
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(gf_frame_from_columns(names, cols, 8, &f, &err), GF_OK);
  for (int i = 0; i < 8; i++) gf_array_release(cols[i]);
  return f;
}

static const char hand_ndjson[] =
    "{\"i\":1,\"d\":0.1,\"inf\":null,\"s\\\"q\":\"a\\\"b\\\\c\",\"k\":\"k1\",\"b\":true,"
    "\"day\":\"1970-01-01\",\"ts\":\"2024-01-02T03:04:05.123456Z\"}\n"
    "{\"i\":null,\"d\":null,\"inf\":3.0,\"s\\\"q\":null,\"k\":\"k2\",\"b\":false,"
    "\"day\":\"1969-12-31\",\"ts\":\"1970-01-01T00:00:00.000000Z\"}\n"
    "{\"i\":-9223372036854775808,\"d\":-0.0,\"inf\":2.5e-08,\"s\\\"q\":\"\xc3\xa9\\n\\u0001\\t/\","
    "\"k\":null,\"b\":null,\"day\":\"2024-02-29\",\"ts\":\"1969-12-31T23:59:59.999999Z\"}\n"
    "{\"i\":42,\"d\":1e+300,\"inf\":null,\"s\\\"q\":\"\",\"k\":\"k1\",\"b\":true,\"day\":null,"
    "\"ts\":\"1970-01-01T00:00:00.000005Z\"}\n";

static void exact_text(void **state) {
  (void)state;
  gf_frame *f = hand_frame();
  char *t = write_text(f, false, 1, 0);
  if (strcmp(t, hand_ndjson) != 0) fail_msg("got\n%s\nwant\n%s", t, hand_ndjson);
  free(t);
  /* Garbage under the nulls changes nothing. */
  gf_frame *g = gft_garbage_frame(f, 7);
  t = write_text(g, false, 2, 1);
  assert_string_equal(t, hand_ndjson);
  free(t);
  gf_frame_release(g);
  /* A slice: rows 1..2 only. */
  gf_frame *s = NULL;
  gf_error err;
  assert_int_equal(gf_frame_slice(f, 1, 2, &s, &err), GF_OK);
  t = write_text(s, false, 3, 1);
  const char *second = strchr(hand_ndjson, '\n') + 1;
  const char *fourth = strchr(strchr(second, '\n') + 1, '\n') + 1;
  assert_int_equal(strlen(t), (size_t)(fourth - second));
  assert_memory_equal(t, second, (size_t)(fourth - second));
  free(t);
  /* The array form. */
  t = write_text(s, true, 1, 0);
  assert_int_equal(strncmp(t, "[\n{\"i\":null", 11), 0);
  assert_non_null(strstr(t, "\"ts\":\"1970-01-01T00:00:00.000000Z\"},\n{\"i\":-9223372036854775808"));
  assert_string_equal(t + strlen(t) - 4, "}\n]\n");
  free(t);
  gf_frame_release(s);
  /* No rows. */
  gf_frame *z = NULL;
  assert_int_equal(gf_frame_slice(f, 0, 0, &z, &err), GF_OK);
  t = write_text(z, true, 1, 0);
  assert_string_equal(t, "[]\n");
  free(t);
  t = write_text(z, false, 1, 0);
  assert_string_equal(t, "");
  free(t);
  gf_frame_release(z);
  gf_frame_release(f);
}

static gf_frame *random_frame(uint64_t seed, int64_t rows) {
  gf_datatype types[] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_FLOAT64), gf_type(GF_TYPE_UTF8),
                         gf_type(GF_TYPE_BOOL), gf_type(GF_TYPE_DATE32),
                         gf_type_timestamp(GF_UNIT_MICRO, false, 0),
                         gf_type_dictionary(gf_type(GF_TYPE_UTF8))};
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(types, 7, rows, 3, 0.2, seed, NULL, &f), GF_OK);
  return f;
}

static void same_bytes_any_workers(void **state) {
  (void)state;
  gf_frame *f = random_frame(11, gft_sanitized() ? 500 : 3000);
  for (int arr = 0; arr < 2; arr++) {
    char *ref = write_text(f, arr, 1, 0);
    const int workers[] = {1, 2, 3, 8};
    const int64_t chunks[] = {1, 7, 100, 0};
    for (int w = 0; w < 4; w++)
      for (int c = 0; c < 4; c++) {
        char *t = write_text(f, arr, workers[w], chunks[c]);
        if (strcmp(t, ref) != 0) fail_msg("bytes differ at %d workers, chunk %lld", workers[w], (long long)chunks[c]);
        free(t);
      }
    free(ref);
  }
  gf_frame_release(f);
}

/* NaN has no JSON spelling: compare with it turned into a null. */
static bool same_value(const gf_array *a, int64_t i, const gf_array *b, int64_t j) {
  bool an = gf_array_is_null(a, i), bn = gf_array_is_null(b, j);
  gf_datatype t = gf_array_type(a);
  if (!an && t.id == GF_TYPE_FLOAT64 && !isfinite(gf_array_get_double(a, i))) an = true;
  if (an || bn) return an == bn;
  char x[256], y[256];
  int n = gf_array_format_value(a, i, x, sizeof x), m = gf_array_format_value(b, j, y, sizeof y);
  if (t.id == GF_TYPE_FLOAT64) {
    double p = gf_array_get_double(a, i), q = gf_array_get_double(b, j);
    return memcmp(&p, &q, 8) == 0;
  }
  return n == m && memcmp(x, y, (size_t)n) == 0;
}

static void round_trip(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 4; seed++) {
    gf_frame *f = random_frame(seed, 700);
    const gf_schema *s = gf_frame_schema(f);
    gf_json_column_type ct[7];
    for (int c = 0; c < 7; c++) {
      ct[c].name = gf_schema_field(s, c)->name;
      ct[c].type = gf_schema_field(s, c)->type;
      if (ct[c].type.id == GF_TYPE_DICTIONARY) ct[c].type = gf_type_value(ct[c].type);
    }
    for (int arr = 0; arr < 2; arr++) {
      char *t = write_text(f, arr, 2, 50);
      gf_json_read_options o;
      gf_json_read_options_init(&o);
      o.column_types = ct; /* all-null columns would read as utf8 */
      o.num_column_types = 7;
      gf_error err;
      gf_error_clear(&err);
      gf_frame *back = NULL;
      gf_status st = gf_read_json_buffer(t, strlen(t), "rt", &o, &back, &err);
      if (st != GF_OK) fail_msg("read back: %s", err.message);
      assert_int_equal(gf_frame_num_rows(back), gf_frame_num_rows(f));
      assert_int_equal(gf_frame_num_columns(back), 7);
      for (int c = 0; c < 7; c++) {
        int64_t r = 0;
        for (int b = 0; b < gf_frame_num_batches(f); b++) {
          const gf_array *a = gf_frame_column(f, b, c);
          for (int64_t i = 0; i < gf_array_length(a); i++, r++) {
            int64_t rr = r;
            int bb = 0;
            while (rr >= gf_frame_batch_rows(back, bb)) rr -= gf_frame_batch_rows(back, bb++);
            if (!same_value(a, i, gf_frame_column(back, bb, c), rr))
              fail_msg("seed %llu column %d row %lld differs", (unsigned long long)seed, c,
                       (long long)r);
          }
        }
      }
      gf_frame_release(back);
      free(t);
    }
    gf_frame_release(f);
  }
}

static void failures_leave_no_file(void **state) {
  (void)state;
  gf_frame *f = random_frame(3, 2000);
  char dir[] = "/tmp/gf_json_writeXXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/out.ndjson", dir);
  gf_cancel *c = NULL;
  gf_error err;
  assert_int_equal(gf_cancel_new(&c, &err), GF_OK);
  gf_cancel_request(c);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.cancel = c;
  gf_json_write_options o;
  gf_json_write_options_init(&o);
  o.parallel = &po;
  assert_int_equal(gf_write_ndjson(f, path, &o, &err), GF_ECANCELED);
  assert_int_equal(gf_write_json(f, path, &o, &err), GF_ECANCELED);
  assert_int_equal(rmdir(dir), 0); /* empty: no partial or temporary file */
  assert_int_equal(gf_write_ndjson(f, path, NULL, &err), GF_EIO);
  gf_cancel_free(c);
  /* A successful write replaces the file. */
  memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/out.json", dir);
  assert_int_equal(gf_write_json(f, path, NULL, &err), GF_OK);
  gf_frame *back = NULL;
  assert_int_equal(gf_read_json(path, NULL, &back, &err), GF_OK);
  assert_int_equal(gf_frame_num_rows(back), 2000);
  gf_frame_release(back);
  unlink(path);
  rmdir(dir);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(exact_text),
      cmocka_unit_test(same_bytes_any_workers),
      cmocka_unit_test(round_trip),
      cmocka_unit_test(failures_leave_no_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
