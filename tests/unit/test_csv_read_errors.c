/* CSV reader, bad input: every case fails with GF_EPARSE and
 * "FILE:LINE:COLUMN: what" (physical lines, 1-based), or becomes null when
 * the caller asked for that; never a crash, never silent loss. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gopherframe.h"

/* Reads text (explicit length) expecting failure `code`; returns the message. */
static const char *fails(const char *text, size_t len, const gf_csv_read_options *o,
                         gf_status code) {
  static gf_error err;
  gf_error_clear(&err);
  gf_frame *f = NULL;
  gf_status st = gf_read_csv_buffer(text, len, "t.csv", o, &f, &err);
  if (st != code) fail_msg("status %s, want %s: %s", gf_status_name(st), gf_status_name(code),
                           err.message);
  assert_null(f);
  return err.message;
}

static void expect_message(const char *text, const char *want) {
  const char *m = fails(text, strlen(text), NULL, GF_EPARSE);
  if (strcmp(m, want) != 0) fail_msg("message \"%s\", want \"%s\"", m, want);
}

static void empty_and_header_only_files(void **state) {
  (void)state;
  expect_message("", "t.csv:1:1: file is empty");
  expect_message("\xEF\xBB\xBF", "t.csv:1:1: file is empty");
  expect_message("\n\n", "t.csv:3:1: file is empty");
  /* A header alone is a 0-row frame (test_csv_edges.c); blank lines and
   * comments alone say nothing about columns. */
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.header = 0;
  o.comment = '#';
  const char *m = fails("#x\n#y\n", 6, &o, GF_EPARSE);
  if (strstr(m, "no data rows") == NULL && strstr(m, "file is empty") == NULL)
    fail_msg("message \"%s\"", m);
}

static void ragged_rows_name_line_and_column(void **state) {
  (void)state;
  expect_message("a,b\n1,2\n3,4,5\n", "t.csv:3:5: expected 2 fields, found 3");
  expect_message("a,b\n1,2\n3\n", "t.csv:3:2: expected 2 fields, found 1");
  expect_message("a,b\r\n1,2\r\n3\r\n", "t.csv:3:2: expected 2 fields, found 1");
  /* Lines are physical: a quoted newline counts. */
  expect_message("a,b\n\"x\ny\",1\n2\n", "t.csv:4:2: expected 2 fields, found 1");
  /* Columns count characters, not bytes. */
  expect_message("a,b\n\xC3\xA9\xC3\xA9,1,2\n", "t.csv:2:6: expected 2 fields, found 3");
}

static void unterminated_quote_points_at_the_opening_quote(void **state) {
  (void)state;
  expect_message("a,b\n1,\"abc\n2,3\n",
                 "t.csv:2:3: unterminated quoted field (the quote opened here is never closed)");
}

static void invalid_utf8_in_string_column(void **state) {
  (void)state;
  expect_message("a,b\n1,ok\n2,x\xff\xfe\n", "t.csv:3:3: invalid UTF-8 in column \"b\"");
  /* Overlong encoding and a lone continuation byte. */
  expect_message("a\n\xC0\xAF\n", "t.csv:2:1: invalid UTF-8 in column \"a\"");
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.bad_value = GF_CSV_BAD_VALUE_NULL;
  gf_frame *f = NULL;
  const char *text = "a,b\n1,ok\n2,x\xff\n";
  assert_int_equal(gf_read_csv_buffer(text, strlen(text), "t.csv", &o, &f, NULL), GF_OK);
  assert_true(gf_array_is_null(gf_frame_column(f, 0, 1), 1));
  assert_false(gf_array_is_null(gf_frame_column(f, 0, 1), 0));
  gf_frame_release(f);
}

static void bad_value_in_forced_numeric_column(void **state) {
  (void)state;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  gf_csv_column_type ct[] = {{"n", gf_type(GF_TYPE_INT32)}};
  o.column_types = ct;
  o.num_column_types = 1;
  const char *text = "s,n\nx,1\ny,abc\nz,3000000000\n";
  const char *m = fails(text, strlen(text), &o, GF_EPARSE);
  assert_string_equal(m, "t.csv:3:3: value \"abc\" in column \"n\" is not a valid int32");
  o.bad_value = GF_CSV_BAD_VALUE_NULL;
  gf_frame *f = NULL;
  assert_int_equal(gf_read_csv_buffer(text, strlen(text), "t.csv", &o, &f, NULL), GF_OK);
  const gf_array *n = gf_frame_column(f, 0, 1);
  assert_int_equal(gf_array_get_int64(n, 0), 1);
  assert_true(gf_array_is_null(n, 1));
  assert_true(gf_array_is_null(n, 2));
  assert_int_equal(gf_array_null_count(n), 2);
  gf_frame_release(f);
}

/* The first error in file order is reported whatever the chunking. */
static void first_error_in_file_order_at_any_parallelism(void **state) {
  (void)state;
  size_t cap = 1 << 20, n = 0;
  char *t = malloc(cap);
  assert_non_null(t);
  n += (size_t)snprintf(t + n, cap - n, "a,b\r\n");
  for (int i = 0; i < 30000; i++) {
    if (i == 20000 || i == 25000)
      n += (size_t)snprintf(t + n, cap - n, "%d\r\n", i);
    else if (i % 100 == 0)
      n += (size_t)snprintf(t + n, cap - n, "%d,\"q\r\nq\"\r\n", i);
    else
      n += (size_t)snprintf(t + n, cap - n, "%d,%d\r\n", i, i);
  }
  /* Row i is on line 2 + i + (quoted newlines before it: one per 100 rows). */
  char want[128];
  snprintf(want, sizeof want, "t.csv:%d:6: expected 2 fields, found 1", 2 + 20000 + 200);
  int workers[] = {1, 2, 3, 8};
  int64_t chunks[] = {0, 1, 77, 3000};
  for (int w = 0; w < 4; w++) {
    for (int c = 0; c < 4; c++) {
      gf_csv_read_options o;
      gf_parallel_options p;
      gf_csv_read_options_init(&o);
      gf_parallel_options_init(&p);
      p.num_workers = workers[w];
      p.chunk_rows = chunks[c];
      p.min_parallel_rows = 0;
      o.parallel = &p;
      const char *m = fails(t, n, &o, GF_EPARSE);
      if (strcmp(m, want) != 0) fail_msg("w=%d c=%d: \"%s\", want \"%s\"", workers[w],
                                         (int)chunks[c], m, want);
    }
  }
  free(t);
}

static void file_errors_name_the_path(void **state) {
  (void)state;
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(gf_read_csv("/tmp", NULL, &f, &err), GF_EIO);
  assert_non_null(strstr(err.message, "/tmp"));
  char path[] = "/tmp/gf_csv_err_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(gf_read_csv(path, NULL, &f, &err), GF_EPARSE);
  char want[128];
  snprintf(want, sizeof want, "%s:1:1: file is empty", path);
  assert_string_equal(err.message, want);
  remove(path);
  assert_int_equal(gf_read_csv(NULL, NULL, &f, &err), GF_EINVAL);
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.size = 0;
  assert_int_equal(gf_read_csv_buffer("a\n1\n", 4, "t", &o, &f, &err), GF_EINVAL);
  assert_null(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(empty_and_header_only_files),
      cmocka_unit_test(ragged_rows_name_line_and_column),
      cmocka_unit_test(unterminated_quote_points_at_the_opening_quote),
      cmocka_unit_test(invalid_utf8_in_string_column),
      cmocka_unit_test(bad_value_in_forced_numeric_column),
      cmocka_unit_test(first_error_in_file_order_at_any_parallelism),
      cmocka_unit_test(file_errors_name_the_path),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
