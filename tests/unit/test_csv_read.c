/* CSV reader: dialect, header, type inference and widening, quoting,
 * options, dictionary columns, determinism across workers and chunk sizes,
 * progress, files, allocation failures. (Bad input: test_csv_read_errors.c) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gopherframe.h"
#include "gf_test_locale.h"
#include "gf_test_sweep.h"
#include "io/io_internal.h"
#include "gopherframe/testing.h"

/* ---- helpers --------------------------------------------------------- */

static gf_frame *read_with(const char *text, const gf_csv_read_options *o) {
  gf_frame *f = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_read_csv_buffer(text, strlen(text), "t.csv", o, &f, &err);
  if (st != GF_OK) fprintf(stderr, "read failed: %s\n", err.message);
  assert_int_equal(st, GF_OK);
  assert_non_null(f);
  return f;
}

static gf_frame *read_text(const char *text) { return read_with(text, NULL); }

/* Array and index of a frame cell. */
static const gf_array *cell(const gf_frame *f, int col, int64_t row, int64_t *i) {
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t off = gf_frame_batch_offset(f, b), n = gf_frame_batch_rows(f, b);
    if (row >= off && row < off + n) {
      *i = row - off;
      return gf_frame_column(f, b, col);
    }
  }
  fail_msg("row %lld out of range", (long long)row);
  return NULL;
}

static int64_t get_i64(const gf_frame *f, int col, int64_t row) {
  int64_t i;
  const gf_array *a = cell(f, col, row, &i);
  assert_false(gf_array_is_null(a, i));
  return gf_array_get_int64(a, i);
}

static double get_f64(const gf_frame *f, int col, int64_t row) {
  int64_t i;
  const gf_array *a = cell(f, col, row, &i);
  assert_false(gf_array_is_null(a, i));
  return gf_array_get_double(a, i);
}

static bool is_null(const gf_frame *f, int col, int64_t row) {
  int64_t i;
  const gf_array *a = cell(f, col, row, &i);
  return gf_array_is_null(a, i);
}

static void assert_str(const gf_frame *f, int col, int64_t row, const char *want) {
  int64_t i, len;
  const gf_array *a = cell(f, col, row, &i);
  assert_false(gf_array_is_null(a, i));
  const char *s = gf_array_get_bytes(a, i, &len);
  if ((size_t)len != strlen(want) || memcmp(s, want, (size_t)len) != 0)
    fail_msg("row %lld col %d: got \"%.*s\", want \"%s\"", (long long)row, col, (int)len, s,
             want);
}

static gf_type_id col_type(const gf_frame *f, int col) {
  return gf_schema_field(gf_frame_schema(f), col)->type.id;
}

static const char *col_name(const gf_frame *f, int col) {
  return gf_schema_field(gf_frame_schema(f), col)->name;
}

/* Options with workers and chunk rows set (parallel struct in *p). */
static void opts_par(gf_csv_read_options *o, gf_parallel_options *p, int workers,
                     int64_t chunk_rows) {
  gf_csv_read_options_init(o);
  gf_parallel_options_init(p);
  p->num_workers = workers;
  p->chunk_rows = chunk_rows;
  p->min_parallel_rows = 0;
  o->parallel = p;
}

/* Growable text buffer. */
typedef struct text {
  char *s;
  size_t n, cap;
} text;

static void tput(text *t, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
    va_end(ap);
    if (t->s && (size_t)k < t->cap - t->n) {
      t->n += (size_t)k;
      return;
    }
    t->cap = (t->cap + (size_t)k + 1) * 2;
    t->s = realloc(t->s, t->cap);
    assert_non_null(t->s);
  }
}

/* ---- dialect and header ------------------------------------------------ */

static void reads_simple_file_with_header_and_types(void **state) {
  (void)state;
  gf_frame *f = read_text("a,b,c,d\n1,2.5,x,true\n3,-4,y,False\n");
  assert_int_equal(gf_frame_num_rows(f), 2);
  assert_int_equal(gf_frame_num_columns(f), 4);
  assert_string_equal(col_name(f, 0), "a");
  assert_string_equal(col_name(f, 3), "d");
  assert_int_equal(col_type(f, 0), GF_TYPE_INT32);
  assert_int_equal(col_type(f, 1), GF_TYPE_FLOAT64);
  assert_int_equal(col_type(f, 2), GF_TYPE_UTF8);
  assert_int_equal(col_type(f, 3), GF_TYPE_BOOL);
  assert_int_equal(get_i64(f, 0, 1), 3);
  assert_true(get_f64(f, 1, 0) == 2.5);
  assert_true(get_f64(f, 1, 1) == -4.0);
  assert_str(f, 2, 1, "y");
  assert_int_equal(get_i64(f, 3, 0), 1);
  assert_int_equal(get_i64(f, 3, 1), 0);
  gf_frame_release(f);
}

static void detects_delimiters(void **state) {
  (void)state;
  const char *texts[] = {"x;y;z\n1;2;3\n4;5;6\n", "x\ty\tz\n1\t2\t3\n4\t5\t6\n",
                         "x|y|z\n1|2|3\n4|5|6\n", "x,y,z\n\"1;2\",2,3\n4,5,6\n"};
  for (int i = 0; i < 4; i++) {
    gf_frame *f = read_text(texts[i]);
    assert_int_equal(gf_frame_num_columns(f), 3);
    assert_int_equal(gf_frame_num_rows(f), 2);
    assert_string_equal(col_name(f, 2), "z");
    if (i < 3) assert_int_equal(get_i64(f, 2, 1), 6);
    gf_frame_release(f);
  }
}

static void detects_missing_header(void **state) {
  (void)state;
  gf_frame *f = read_text("1,abc,2.5\n2,def,3.5\n");
  assert_int_equal(gf_frame_num_rows(f), 2);
  assert_string_equal(col_name(f, 0), "column_1");
  assert_string_equal(col_name(f, 2), "column_3");
  assert_int_equal(get_i64(f, 0, 0), 1);
  assert_str(f, 1, 1, "def");
  gf_frame_release(f);
}

static void header_option_forces_either_way(void **state) {
  (void)state;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.header = 0;
  gf_frame *f = read_with("a,b\nc,d\n", &o);
  assert_int_equal(gf_frame_num_rows(f), 2);
  assert_string_equal(col_name(f, 1), "column_2");
  assert_str(f, 0, 0, "a");
  gf_frame_release(f);
  o.header = 1;
  f = read_with("1,2\n3,4\n", &o);
  assert_int_equal(gf_frame_num_rows(f), 1);
  assert_string_equal(col_name(f, 0), "1");
  assert_int_equal(get_i64(f, 1, 0), 4);
  gf_frame_release(f);
}

static void dedupes_and_fills_header_names(void **state) {
  (void)state;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.header = 1;
  gf_frame *f = read_with("a,a,,b\n1,2,3,4\n", &o);
  assert_string_equal(col_name(f, 0), "a");
  assert_string_equal(col_name(f, 1), "a_1");
  assert_string_equal(col_name(f, 2), "column_3");
  assert_string_equal(col_name(f, 3), "b");
  gf_frame_release(f);
}

/* ---- inference and widening -------------------------------------------- */

static void late_float_widens_int_column_to_float64_exactly(void **state) {
  (void)state;
  text t = {0};
  tput(&t, "id,v\n");
  for (int i = 0; i < 100000; i++) tput(&t, "%d,%d\n", i, i * 7 - 300000);
  tput(&t, "100000,2.5\n");
  int workers[] = {1, 2, 3, 8};
  int64_t chunks[] = {0, 999, 40000};
  for (int w = 0; w < 4; w++) {
    for (int c = 0; c < 3; c++) {
      gf_csv_read_options o;
      gf_parallel_options p;
      opts_par(&o, &p, workers[w], chunks[c]);
      gf_frame *f = read_with(t.s, &o);
      assert_int_equal(gf_frame_num_rows(f), 100001);
      assert_int_equal(col_type(f, 0), GF_TYPE_INT32);
      assert_int_equal(col_type(f, 1), GF_TYPE_FLOAT64);
      for (int64_t i = 0; i < 100000; i += 997) assert_true(get_f64(f, 1, i) == i * 7.0 - 300000);
      assert_true(get_f64(f, 1, 99999) == 99999 * 7.0 - 300000);
      assert_true(get_f64(f, 1, 100000) == 2.5);
      gf_frame_release(f);
    }
  }
  free(t.s);
}

static void int64_beyond_2_53_then_float_becomes_string_without_loss(void **state) {
  (void)state;
  text t = {0};
  tput(&t, "v\n");
  for (int i = 0; i < 3000; i++) tput(&t, "%d\n", i);
  tput(&t, "9007199254740993\n");
  for (int i = 0; i < 3000; i++) tput(&t, "%d\n", i);
  tput(&t, "0.5\n");
  for (int w = 1; w <= 3; w++) {
    gf_csv_read_options o;
    gf_parallel_options p;
    opts_par(&o, &p, w, w == 1 ? 0 : 500);
    gf_frame *f = read_with(t.s, &o);
    assert_int_equal(col_type(f, 0), GF_TYPE_UTF8);
    assert_int_equal(gf_frame_num_rows(f), 6002);
    assert_str(f, 0, 0, "0");
    assert_str(f, 0, 2999, "2999");
    assert_str(f, 0, 3000, "9007199254740993");
    assert_str(f, 0, 6001, "0.5");
    gf_frame_release(f);
  }
  free(t.s);
  /* The other order: floats first, then an integer beyond 2^53. */
  gf_frame *f = read_text("v\n0.5\n1\n-9007199254740993\n");
  assert_int_equal(col_type(f, 0), GF_TYPE_UTF8);
  assert_str(f, 0, 2, "-9007199254740993");
  gf_frame_release(f);
  /* 2^53 itself is exact: float64. */
  f = read_text("v\n0.5\n9007199254740992\n");
  assert_int_equal(col_type(f, 0), GF_TYPE_FLOAT64);
  assert_true(get_f64(f, 0, 1) == 9007199254740992.0);
  gf_frame_release(f);
}

static void int32_widens_to_int64_and_big_ints_without_floats_stay_int64(void **state) {
  (void)state;
  text t = {0};
  tput(&t, "v,w\n");
  for (int i = 0; i < 5000; i++) tput(&t, "%d,%d\n", i, -i);
  tput(&t, "9007199254740993,-9223372036854775808\n");
  gf_csv_read_options o;
  gf_parallel_options p;
  opts_par(&o, &p, 2, 100);
  gf_frame *f = read_with(t.s, &o);
  assert_int_equal(col_type(f, 0), GF_TYPE_INT64);
  assert_int_equal(col_type(f, 1), GF_TYPE_INT64);
  assert_int_equal(get_i64(f, 0, 5000), 9007199254740993LL);
  assert_true(get_i64(f, 1, 5000) == INT64_MIN);
  assert_int_equal(get_i64(f, 0, 4999), 4999);
  gf_frame_release(f);
  free(t.s);
}

static void integer_overflowing_int64_becomes_string(void **state) {
  (void)state;
  gf_frame *f = read_text("v\n1\n99999999999999999999\n");
  assert_int_equal(col_type(f, 0), GF_TYPE_UTF8);
  assert_str(f, 0, 1, "99999999999999999999");
  gf_frame_release(f);
}

static void infers_dates_and_timestamps(void **state) {
  (void)state;
  gf_frame *f = read_text(
      "d,ts,tz,mix\n"
      "2024-02-29,2024-01-02T03:04:05,2024-01-02T03:04:05Z,2024-01-01\n"
      "1969-12-31,2024-01-02 03:04:05.123456,2024-01-02T05:04:05+02:00,2024-01-01 00:00:01\n");
  assert_int_equal(col_type(f, 0), GF_TYPE_DATE32);
  assert_int_equal(get_i64(f, 0, 0), 19782);
  assert_int_equal(get_i64(f, 0, 1), -1);
  gf_datatype ts = gf_schema_field(gf_frame_schema(f), 1)->type;
  assert_int_equal(ts.id, GF_TYPE_TIMESTAMP);
  assert_int_equal(ts.unit, GF_UNIT_MICRO);
  assert_false(ts.has_timezone);
  assert_int_equal(get_i64(f, 1, 0), 1704164645000000LL);
  assert_int_equal(get_i64(f, 1, 1), 1704164645123456LL);
  gf_datatype tz = gf_schema_field(gf_frame_schema(f), 2)->type;
  assert_int_equal(tz.id, GF_TYPE_TIMESTAMP);
  assert_true(tz.has_timezone);
  assert_int_equal(tz.tz_offset_minutes, 0);
  assert_int_equal(get_i64(f, 2, 0), 1704164645000000LL);
  assert_int_equal(get_i64(f, 2, 1), 1704164645000000LL);
  assert_int_equal(col_type(f, 3), GF_TYPE_TIMESTAMP);
  assert_int_equal(get_i64(f, 3, 0), 1704067200000000LL);
  assert_int_equal(get_i64(f, 3, 1), 1704067201000000LL);
  gf_frame_release(f);
}

static void invalid_dates_and_mixed_zones_are_strings(void **state) {
  (void)state;
  gf_frame *f = read_text("a,b\n2023-02-29,2024-01-02T03:04:05Z\n2023-01-01,2024-01-02T03:04:05\n");
  assert_int_equal(col_type(f, 0), GF_TYPE_UTF8);
  assert_int_equal(col_type(f, 1), GF_TYPE_UTF8);
  assert_str(f, 1, 1, "2024-01-02T03:04:05");
  gf_frame_release(f);
}

static void floats_parse_exactly_and_locale_independently(void **state) {
  (void)state;
  bool comma = gft_set_comma_locale();
  gf_frame *f = read_text("v\n0.1\n-1e-310\n1.7976931348623157e308\n123456789012345678901234.0\n"
                          "3.141592653589793238462643383279\nnan\n-inf\n.5\n5.\n2.2250738585072014e-308\n");
  if (comma) gft_reset_locale();
  assert_int_equal(col_type(f, 0), GF_TYPE_FLOAT64);
  assert_true(get_f64(f, 0, 0) == 0.1);
  assert_true(get_f64(f, 0, 1) == -1e-310);
  assert_true(get_f64(f, 0, 2) == 1.7976931348623157e308);
  assert_true(get_f64(f, 0, 3) == 123456789012345678901234.0);
  assert_true(get_f64(f, 0, 4) == 3.141592653589793);
  assert_true(isnan(get_f64(f, 0, 5)));
  assert_true(isinf(get_f64(f, 0, 6)) && get_f64(f, 0, 6) < 0);
  assert_true(get_f64(f, 0, 7) == 0.5);
  assert_true(get_f64(f, 0, 8) == 5.0);
  assert_true(get_f64(f, 0, 9) == 2.2250738585072014e-308);
  gf_frame_release(f);
}

static void all_null_column_is_utf8_nulls(void **state) {
  (void)state;
  gf_frame *f = read_text("a,b\n1,\n2,NA\n");
  assert_int_equal(col_type(f, 1), GF_TYPE_UTF8);
  assert_true(is_null(f, 1, 0));
  assert_true(is_null(f, 1, 1));
  assert_int_equal(gf_array_null_count(gf_frame_column(f, 0, 1)), 2);
  gf_frame_release(f);
}

static void one_column_blank_lines_are_nulls_except_at_the_end(void **state) {
  (void)state;
  gf_frame *f = read_text("v\n1\n\n3\n\n\r\n");
  assert_int_equal(gf_frame_num_rows(f), 3);
  assert_int_equal(get_i64(f, 0, 0), 1);
  assert_true(is_null(f, 0, 1));
  assert_int_equal(get_i64(f, 0, 2), 3);
  gf_frame_release(f);
  /* With several columns blank lines are skipped. */
  f = read_text("a,b\n1,2\n\n3,4\n");
  assert_int_equal(gf_frame_num_rows(f), 2);
  assert_int_equal(get_i64(f, 1, 1), 4);
  gf_frame_release(f);
}

static void per_batch_statistics_are_filled(void **state) {
  (void)state;
  gf_frame *f = read_text("a,b\n5,1.5\n-3,\n9,0.25\n");
  const gf_stats *s = gf_array_stats(gf_frame_column(f, 0, 0));
  assert_true(s->has_min_max);
  assert_int_equal(s->min.i, -3);
  assert_int_equal(s->max.i, 9);
  assert_int_equal(s->null_count, 0);
  s = gf_array_stats(gf_frame_column(f, 0, 1));
  assert_int_equal(s->null_count, 1);
  assert_true(s->min.f == 0.25 && s->max.f == 1.5);
  gf_frame_release(f);
}

/* ---- quoting ------------------------------------------------------------ */

static void rfc4180_quoting_crlf_and_bom(void **state) {
  (void)state;
  const char *csv = "\xEF\xBB\xBFname,note\r\n"
                    "\"Smith, J\",\"said \"\"hi\"\"\"\r\n"
                    "\"multi\r\nline\",plain\r\n"
                    "x,\"\"\r\n";
  gf_frame *f = read_text(csv);
  assert_string_equal(col_name(f, 0), "name");
  assert_int_equal(gf_frame_num_rows(f), 3);
  assert_str(f, 0, 0, "Smith, J");
  assert_str(f, 1, 0, "said \"hi\"");
  assert_str(f, 0, 1, "multi\r\nline");
  assert_str(f, 1, 1, "plain");
  /* A quoted empty field in a string column is an empty string, not null. */
  assert_str(f, 1, 2, "");
  gf_frame_release(f);
}

static void quoted_newlines_across_chunk_boundaries(void **state) {
  (void)state;
  text t = {0};
  tput(&t, "id,txt,n\n");
  for (int i = 0; i < 400; i++) {
    if (i % 3 == 0)
      tput(&t, "%d,\"line one\nline \"\"two\"\"\n, three %d\",%d\n", i, i, i);
    else
      tput(&t, "%d,plain %d,%d\n", i, i, i);
  }
  gf_frame *ref = NULL;
  int workers[] = {1, 2, 3, 8};
  int64_t chunks[] = {1, 2, 3, 7, 64, 0};
  for (int w = 0; w < 4; w++) {
    for (int c = 0; c < 6; c++) {
      gf_csv_read_options o;
      gf_parallel_options p;
      opts_par(&o, &p, workers[w], chunks[c]);
      o.no_dictionary = true;
      gf_frame *f = read_with(t.s, &o);
      assert_int_equal(gf_frame_num_rows(f), 400);
      for (int i = 0; i < 400; i++) {
        assert_int_equal(get_i64(f, 0, i), i);
        assert_int_equal(get_i64(f, 2, i), i);
      }
      char want[64];
      snprintf(want, sizeof want, "line one\nline \"two\"\n, three %d", 399);
      assert_str(f, 1, 399, want);
      assert_str(f, 1, 1, "plain 1");
      if (!ref) ref = f;
      else {
        assert_true(gf_frame_equals(ref, f));
        gf_frame_release(f);
      }
    }
  }
  gf_frame_release(ref);
  free(t.s);
}

static void escape_character_option(void **state) {
  (void)state;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.escape = '\\';
  gf_frame *f = read_with("a,b\n\"x\\\"y\",p\\,q\n\"z\\\\\",r\n", &o);
  assert_int_equal(gf_frame_num_rows(f), 2);
  assert_str(f, 0, 0, "x\"y");
  assert_str(f, 1, 0, "p,q");
  assert_str(f, 0, 1, "z\\");
  gf_frame_release(f);
}

/* ---- options -------------------------------------------------------------- */

static void options_subset_skip_comment_max_rows(void **state) {
  (void)state;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  const char *cols[] = {"c", "a"};
  o.columns = cols;
  o.num_columns = 2;
  o.skip_rows = 2;
  o.comment = '#';
  o.max_rows = 3;
  gf_frame *f = read_with("junk line\nmore \"junk\n# comment\na,b,c\n1,x,10\n# another, \"one\n"
                          "2,y,20\n\n3,z,30\n4,w,40\n",
                          &o);
  assert_int_equal(gf_frame_num_columns(f), 2);
  assert_string_equal(col_name(f, 0), "a");
  assert_string_equal(col_name(f, 1), "c");
  assert_int_equal(gf_frame_num_rows(f), 3);
  assert_int_equal(get_i64(f, 0, 2), 3);
  assert_int_equal(get_i64(f, 1, 2), 30);
  gf_frame_release(f);
}

static void options_null_tokens_and_type_overrides(void **state) {
  (void)state;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  const char *nulls[] = {"-", "n/a"};
  o.null_values = nulls;
  o.num_null_values = 2;
  gf_csv_column_type ct[] = {{"a", gf_type(GF_TYPE_INT16)},
                             {"b", gf_type(GF_TYPE_UTF8)},
                             {"c", gf_type(GF_TYPE_FLOAT32)},
                             {"d", gf_type_timestamp(GF_UNIT_MILLI, false, 0)},
                             {"e", gf_type_dictionary(gf_type(GF_TYPE_UTF8))},
                             {"f", gf_type(GF_TYPE_UINT8)}};
  o.column_types = ct;
  o.num_column_types = 6;
  gf_frame *f = read_with("a,b,c,d,e,f\n1,007,1.5,2024-01-01T00:00:00.123,u,255\n-,,n/a,2024-01-01,v,-\n", &o);
  assert_int_equal(col_type(f, 0), GF_TYPE_INT16);
  assert_int_equal(col_type(f, 1), GF_TYPE_UTF8);
  assert_int_equal(col_type(f, 2), GF_TYPE_FLOAT32);
  assert_int_equal(col_type(f, 3), GF_TYPE_TIMESTAMP);
  assert_int_equal(col_type(f, 4), GF_TYPE_DICTIONARY);
  assert_int_equal(col_type(f, 5), GF_TYPE_UINT8);
  assert_int_equal(get_i64(f, 0, 0), 1);
  assert_true(is_null(f, 0, 1));
  assert_str(f, 1, 0, "007");
  /* "" is not a null token here. */
  assert_str(f, 1, 1, "");
  assert_true(get_f64(f, 2, 0) == 1.5);
  assert_true(is_null(f, 2, 1));
  assert_int_equal(get_i64(f, 3, 0), 1704067200123LL);
  assert_int_equal(get_i64(f, 3, 1), 1704067200000LL);
  assert_str(f, 4, 1, "v");
  assert_int_equal(get_i64(f, 5, 0), 255);
  gf_frame_release(f);
}

static void unsupported_override_and_unknown_columns_fail(void **state) {
  (void)state;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  gf_frame *f = NULL;
  gf_error err;
  gf_csv_column_type ct[] = {{"a", gf_type(GF_TYPE_BINARY)}};
  o.column_types = ct;
  o.num_column_types = 1;
  assert_int_equal(gf_read_csv_buffer("a\n1\n", 4, "t.csv", &o, &f, &err), GF_ENOTSUP);
  assert_non_null(strstr(err.message, "\"a\""));
  ct[0].name = "zz";
  ct[0].type = gf_type(GF_TYPE_INT32);
  assert_int_equal(gf_read_csv_buffer("a\n1\n", 4, "t.csv", &o, &f, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "zz"));
  gf_csv_read_options_init(&o);
  const char *cols[] = {"nope"};
  o.columns = cols;
  o.num_columns = 1;
  assert_int_equal(gf_read_csv_buffer("a\n1\n", 4, "t.csv", &o, &f, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "nope"));
  assert_null(f);
}

/* ---- dictionaries ---------------------------------------------------------- */

static void low_cardinality_strings_become_one_frame_dictionary(void **state) {
  (void)state;
  text t = {0};
  tput(&t, "k,u\n");
  for (int i = 0; i < 3000; i++) tput(&t, "id%03d,u%d\n", (i * 7) % 13, i);
  gf_csv_read_options o;
  gf_parallel_options p;
  opts_par(&o, &p, 3, 100);
  gf_frame *f = read_with(t.s, &o);
  assert_true(gf_frame_num_batches(f) > 1);
  gf_datatype k = gf_schema_field(gf_frame_schema(f), 0)->type;
  assert_int_equal(k.id, GF_TYPE_DICTIONARY);
  assert_int_equal(k.value_id, GF_TYPE_UTF8);
  assert_int_equal(col_type(f, 1), GF_TYPE_UTF8);
  const gf_array *d0 = gf_array_dictionary(gf_frame_column(f, 0, 0));
  assert_int_equal(gf_array_length(d0), 13);
  for (int b = 1; b < gf_frame_num_batches(f); b++)
    assert_ptr_equal(gf_array_dictionary(gf_frame_column(f, b, 0)), d0);
  /* First-appearance order, independent of chunking. */
  int64_t len;
  const char *s = gf_array_get_bytes(d0, 1, &len);
  assert_memory_equal(s, "id007", 5);
  for (int i = 0; i < 3000; i += 37) {
    char want[16];
    snprintf(want, sizeof want, "id%03d", (i * 7) % 13);
    assert_str(f, 0, i, want);
  }
  gf_frame_release(f);
  o.no_dictionary = true;
  f = read_with(t.s, &o);
  assert_int_equal(col_type(f, 0), GF_TYPE_UTF8);
  gf_frame_release(f);
  free(t.s);
}

/* ---- determinism ----------------------------------------------------------- */

static void build_mixed(text *t, int rows) {
  tput(t, "id,grp,x,y,when,flag,note\n");
  unsigned s = 12345;
  for (int i = 0; i < rows; i++) {
    s = s * 1103515245u + 12345u;
    unsigned r = s >> 8;
    tput(t, "%d,g%u,", i, r % 17);
    if (r % 11 == 0) tput(t, ",");
    else tput(t, "%d,", (int)(r % 100000) - 50000);
    if (i == rows - 5) tput(t, "1e300,");
    else if (r % 13 == 0) tput(t, "NA,");
    else tput(t, "%u.%03u,", r % 1000, r % 997);
    tput(t, "2024-%02u-%02u,%s,", 1 + r % 12, 1 + r % 28, (r & 1) ? "true" : "false");
    if (r % 5 == 0) tput(t, "\"multi\nline, %u\"\n", r % 100);
    else tput(t, "n%u\n", r % 3000);
  }
}

static void identical_results_for_any_workers_and_chunk_size(void **state) {
  (void)state;
  text t = {0};
  build_mixed(&t, 20000);
  gf_frame *ref = NULL;
  int workers[] = {1, 2, 3, 8};
  int64_t chunks[] = {0, 1, 13, 500, 4096};
  for (int w = 0; w < 4; w++) {
    for (int c = 0; c < 5; c++) {
      gf_csv_read_options o;
      gf_parallel_options p;
      opts_par(&o, &p, workers[w], chunks[c]);
      gf_frame *f = read_with(t.s, &o);
      if (!ref) {
        ref = f;
        assert_int_equal(gf_frame_num_rows(f), 20000);
        assert_int_equal(col_type(f, 0), GF_TYPE_INT32);
        assert_int_equal(col_type(f, 1), GF_TYPE_DICTIONARY);
        assert_int_equal(col_type(f, 2), GF_TYPE_INT32);
        assert_int_equal(col_type(f, 3), GF_TYPE_FLOAT64);
        assert_int_equal(col_type(f, 4), GF_TYPE_DATE32);
        assert_int_equal(col_type(f, 5), GF_TYPE_BOOL);
        assert_true(get_f64(f, 3, 19995) == 1e300);
        continue;
      }
      assert_true(gf_schema_equals(gf_frame_schema(ref), gf_frame_schema(f)));
      assert_true(gf_frame_equals(ref, f));
      gf_frame_release(f);
    }
  }
  gf_frame_release(ref);
  free(t.s);
}

/* Reads `csv` at 1, 2, 3 workers x chunk_rows 1, 2, 3, 1000 (header row,
 * no dictionaries), asserts every result equals the first, returns it. */
static gf_frame *read_all_chunkings(const char *csv, char escape) {
  gf_frame *ref = NULL;
  int workers[] = {1, 2, 3};
  int64_t chunks[] = {1000, 1, 2, 3};
  for (int w = 0; w < 3; w++) {
    for (int c = 0; c < 4; c++) {
      gf_csv_read_options o;
      gf_parallel_options p;
      opts_par(&o, &p, workers[w], chunks[c]);
      p.min_parallel_rows = 1;
      p.strategy = GF_STRATEGY_FIXED_CHUNKS;
      o.header = 1;
      o.no_dictionary = true;
      o.escape = escape;
      gf_frame *f = read_with(csv, &o);
      if (!ref) {
        ref = f;
        continue;
      }
      if (!gf_frame_equals(ref, f))
        fail_msg("%d workers, chunk_rows %lld differ from 1 worker", workers[w],
                 (long long)chunks[c]);
      gf_frame_release(f);
    }
  }
  return ref;
}

static void quoted_empty_and_escaped_cr_same_for_any_chunking(void **state) {
  (void)state;
  /* Quoted "": empty string in string columns (also in a chunk that saw
   * nothing but "" and empties, and in a column holding only ""), null in
   * an int column. */
  gf_frame *f = read_all_chunkings("s,n,e\n"
                                   "\"\",1,\"\"\n"
                                   ",2,\"\"\n"
                                   "x,\"\",\"\"\n"
                                   "\"\",3,\"\"\n"
                                   "\"\",,\"\"\n"
                                   "y,4,\"\"\n",
                                   0);
  assert_int_equal(gf_frame_num_rows(f), 6);
  assert_int_equal(col_type(f, 0), GF_TYPE_UTF8);
  assert_int_equal(col_type(f, 1), GF_TYPE_INT32);
  assert_int_equal(col_type(f, 2), GF_TYPE_UTF8);
  assert_str(f, 0, 0, "");
  assert_true(is_null(f, 0, 1));
  assert_str(f, 0, 2, "x");
  assert_str(f, 0, 3, "");
  assert_str(f, 0, 4, "");
  assert_str(f, 0, 5, "y");
  assert_int_equal(get_i64(f, 1, 0), 1);
  assert_true(is_null(f, 1, 2));
  assert_true(is_null(f, 1, 4));
  assert_int_equal(get_i64(f, 1, 5), 4);
  for (int64_t r = 0; r < 6; r++) assert_str(f, 2, r, "");
  gf_frame_release(f);

  /* An escaped CR right before CRLF/LF is dropped with the line end: the
   * field is an escaped (quoted) empty one, so the same rule applies. */
  f = read_all_chunkings("n,s\n1,\\\r\n2,b\n3,\\\r\n", '\\');
  assert_int_equal(col_type(f, 1), GF_TYPE_UTF8);
  assert_str(f, 1, 0, "");
  assert_str(f, 1, 1, "b");
  assert_str(f, 1, 2, "");
  gf_frame_release(f);
  f = read_all_chunkings("s,n\na,1\nb,\\\r\nc,2\n", '\\');
  assert_int_equal(col_type(f, 1), GF_TYPE_INT32);
  assert_int_equal(get_i64(f, 1, 0), 1);
  assert_true(is_null(f, 1, 1));
  assert_int_equal(get_i64(f, 1, 2), 2);
  gf_frame_release(f);
}

/* ---- progress, files ---------------------------------------------------------- */

typedef struct prog {
  int calls;
  int64_t last, total;
  bool monotonic;
  int cancel_after;
} prog;

static bool on_progress(void *user, int64_t done, int64_t total) {
  prog *p = user;
  if (done < p->last) p->monotonic = false;
  p->last = done;
  p->total = total;
  p->calls++;
  return p->cancel_after == 0 || p->calls < p->cancel_after;
}

static void progress_reports_bytes_and_can_cancel(void **state) {
  (void)state;
  text t = {0};
  build_mixed(&t, 5000);
  gf_csv_read_options o;
  gf_parallel_options p;
  opts_par(&o, &p, 2, 100);
  prog pr = {0, 0, 0, true, 0};
  o.progress = on_progress;
  o.progress_user = &pr;
  gf_frame *f = read_with(t.s, &o);
  assert_true(pr.calls >= 1);
  assert_true(pr.monotonic);
  assert_int_equal(pr.last, (int64_t)t.n);
  assert_int_equal(pr.total, (int64_t)t.n);
  gf_frame_release(f);
  prog pc = {0, 0, 0, true, 1};
  o.progress_user = &pc;
  gf_error err;
  f = NULL;
  assert_int_equal(gf_read_csv_buffer(t.s, t.n, "t.csv", &o, &f, &err), GF_ECANCELED);
  assert_null(f);
  free(t.s);
}

static void cancel_token_stops_the_read(void **state) {
  (void)state;
  text t = {0};
  build_mixed(&t, 2000);
  gf_csv_read_options o;
  gf_parallel_options p;
  opts_par(&o, &p, 2, 50);
  gf_cancel *c = NULL;
  assert_int_equal(gf_cancel_new(&c, NULL), GF_OK);
  gf_cancel_request(c);
  p.cancel = c;
  gf_frame *f = NULL;
  assert_int_equal(gf_read_csv_buffer(t.s, t.n, "t.csv", &o, &f, NULL), GF_ECANCELED);
  assert_null(f);
  gf_cancel_free(c);
  free(t.s);
}

static void reads_files_and_reports_missing_ones(void **state) {
  (void)state;
  char path[] = "/tmp/gf_csv_test_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *csv = "a,b\n1,hello\n2,world\n";
  assert_int_equal(write(fd, csv, strlen(csv)), (ssize_t)strlen(csv));
  close(fd);
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(gf_read_csv(path, NULL, &f, &err), GF_OK);
  assert_int_equal(gf_frame_num_rows(f), 2);
  assert_str(f, 1, 1, "world");
  gf_frame_release(f);
  unlink(path);
  f = NULL;
  assert_int_equal(gf_read_csv(path, NULL, &f, &err), GF_EIO);
  assert_non_null(strstr(err.message, path));
  assert_non_null(strstr(err.message, "No such file"));
  assert_null(f);
}

static void mapped_file_buffers_keep_the_mapping_alive(void **state) {
  (void)state;
  char path[] = "/tmp/gf_csv_map_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "hello world", 11), 11);
  close(fd);
  gfi_mapped_file *m = NULL;
  gf_error err;
  assert_int_equal(gfi_mapped_file_open(path, NULL, &m, &err), GF_OK);
  assert_int_equal(gfi_mapped_file_size(m), 11);
  gf_buffer *b = NULL;
  assert_int_equal(gfi_mapped_file_buffer(m, 6, 5, &b, &err), GF_OK);
  assert_int_equal(gfi_mapped_file_buffer(m, 6, 6, &b, &err), GF_EINVAL);
  gfi_mapped_file_release(m);
  unlink(path);
  assert_int_equal(gf_buffer_size(b), 5);
  assert_memory_equal(gf_buffer_data(b), "world", 5);
  gf_buffer_release(b);
  /* Empty files map to size 0 with a valid pointer. */
  strcpy(path, "/tmp/gf_csv_map_XXXXXX");
  fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(gfi_mapped_file_open(path, NULL, &m, &err), GF_OK);
  assert_int_equal(gfi_mapped_file_size(m), 0);
  assert_non_null(gfi_mapped_file_data(m));
  gfi_mapped_file_release(m);
  unlink(path);
  assert_int_equal(gfi_mapped_file_open(path, NULL, &m, &err), GF_EIO);
  assert_non_null(strstr(err.message, path));
}

/* One gf_read_csv_buffer under a failing allocator (gft_alloc_sweep
 * callback). */
typedef struct read_sweep {
  const char *csv;
  const gf_frame *want;
  gf_csv_read_options o;
  gf_parallel_options p;
} read_sweep;

static gf_status read_once(void *user, const gf_allocator *a) {
  read_sweep *s = user;
  s->p.allocator = a;
  s->o.parallel = &s->p;
  gf_frame *f = NULL;
  gf_error err;
  gf_status st = gf_read_csv_buffer(s->csv, strlen(s->csv), "t.csv", &s->o, &f, &err);
  if (st == GF_OK) {
    if (!gf_frame_equals(f, s->want)) fail_msg("%s: wrong frame", gft_sweep_at());
    gf_frame_release(f);
  } else {
    assert_null(f);
  }
  return st;
}

/* Every allocation of a CSV read (quotes, an embedded newline, nulls,
 * dates; 1-row chunks at 1 and 2 workers) failed, one-off and persistent:
 * GF_ENOMEM, no frame, nothing leaked, the same frame once it runs clean. */
static void allocation_failures_fail_cleanly(void **state) {
  (void)state;
  const char *csv = "k,v,s,d\na,1,\"x,y\",2024-01-01\nb,2.5,z,2024-01-02\na,,\"q\nr\",\nb,4,w,2024-01-04\n";
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts counts = {0};
  for (int w = 1; w <= 2; w++) {
    read_sweep s = {csv, NULL, {0}, {0}};
    opts_par(&s.o, &s.p, w, 1);
    gf_frame *want = NULL;
    assert_int_equal(gf_read_csv_buffer(csv, strlen(csv), "t.csv", &s.o, &want, NULL), GF_OK);
    assert_int_equal(gf_frame_num_rows(want), 4);
    s.want = want;
    gft_alloc_sweep("CSV read", fa, read_once, &s, &counts);
    gf_frame_release(want);
  }
  assert_true(counts.sites > 5);
  gft_sweep_print("CSV read", &counts);
  gf_failing_allocator_free(fa);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reads_simple_file_with_header_and_types),
      cmocka_unit_test(detects_delimiters),
      cmocka_unit_test(detects_missing_header),
      cmocka_unit_test(header_option_forces_either_way),
      cmocka_unit_test(dedupes_and_fills_header_names),
      cmocka_unit_test(late_float_widens_int_column_to_float64_exactly),
      cmocka_unit_test(int64_beyond_2_53_then_float_becomes_string_without_loss),
      cmocka_unit_test(int32_widens_to_int64_and_big_ints_without_floats_stay_int64),
      cmocka_unit_test(integer_overflowing_int64_becomes_string),
      cmocka_unit_test(infers_dates_and_timestamps),
      cmocka_unit_test(invalid_dates_and_mixed_zones_are_strings),
      cmocka_unit_test(floats_parse_exactly_and_locale_independently),
      cmocka_unit_test(all_null_column_is_utf8_nulls),
      cmocka_unit_test(one_column_blank_lines_are_nulls_except_at_the_end),
      cmocka_unit_test(per_batch_statistics_are_filled),
      cmocka_unit_test(rfc4180_quoting_crlf_and_bom),
      cmocka_unit_test(quoted_newlines_across_chunk_boundaries),
      cmocka_unit_test(escape_character_option),
      cmocka_unit_test(options_subset_skip_comment_max_rows),
      cmocka_unit_test(options_null_tokens_and_type_overrides),
      cmocka_unit_test(unsupported_override_and_unknown_columns_fail),
      cmocka_unit_test(low_cardinality_strings_become_one_frame_dictionary),
      cmocka_unit_test(identical_results_for_any_workers_and_chunk_size),
      cmocka_unit_test(quoted_empty_and_escaped_cr_same_for_any_chunking),
      cmocka_unit_test(progress_reports_bytes_and_can_cancel),
      cmocka_unit_test(cancel_token_stops_the_read),
      cmocka_unit_test(reads_files_and_reports_missing_ones),
      cmocka_unit_test(mapped_file_buffers_keep_the_mapping_alive),
      cmocka_unit_test(allocation_failures_fail_cleanly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
