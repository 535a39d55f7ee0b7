/* CSV reader at the edges of what files look like: a header alone (what gf
 * writes for an empty result), unnamed header fields (a,,b and a trailing
 * delimiter), classic-Mac CR-only line ends, thousands of equal or distinct
 * header names (linear time), and the schema's name index behind them.
 * Expected values come from naive loops here, not from the library. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gopherframe.h"

static gf_frame *read_text(const char *text, const gf_csv_read_options *o) {
  gf_error err;
  gf_error_clear(&err);
  gf_frame *f = NULL;
  gf_status st = gf_read_csv_buffer(text, strlen(text), "t.csv", o, &f, &err);
  if (st != GF_OK) fail_msg("read failed: %s: %s", gf_status_name(st), err.message);
  return f;
}

static const char *name_of(const gf_frame *f, int i) {
  return gf_schema_field(gf_frame_schema(f), i)->name;
}

static void expect_names(const gf_frame *f, const char *const *want, int n) {
  assert_int_equal(gf_frame_num_columns(f), n);
  for (int i = 0; i < n; i++)
    if (strcmp(name_of(f, i), want[i]) != 0)
      fail_msg("column %d is \"%s\", want \"%s\"", i, name_of(f, i), want[i]);
}

/* The string at row `r` of column `c` (any batch). */
static const char *cell(const gf_frame *f, int c, int64_t r, char *buf, size_t cap) {
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t n = gf_frame_batch_rows(f, b);
    if (r < n) {
      int64_t len = 0;
      const char *p = gf_array_get_bytes(gf_frame_column(f, b, c), r, &len);
      snprintf(buf, cap, "%.*s", (int)len, p ? p : "");
      return buf;
    }
    r -= n;
  }
  fail_msg("row out of range");
  return NULL;
}

static void header_alone_is_zero_rows(void **state) {
  (void)state;
  const char *texts[] = {"a,b\n", "a,b", "a,b\r\n\r\n", "a,b\n\n\n"};
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
    gf_frame *f = read_text(texts[i], NULL);
    assert_int_equal(gf_frame_num_rows(f), 0);
    expect_names(f, (const char *[]){"a", "b"}, 2);
    for (int c = 0; c < 2; c++)
      assert_int_equal(gf_schema_field(gf_frame_schema(f), c)->type.id, GF_TYPE_UTF8);
    gf_frame_release(f);
  }
  /* Types given by the caller are kept. */
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  gf_csv_column_type ct[] = {{.name = "b", .type = gf_type(GF_TYPE_INT64)}};
  o.column_types = ct;
  o.num_column_types = 1;
  gf_frame *f = read_text("a,b\n", &o);
  assert_int_equal(gf_frame_num_rows(f), 0);
  assert_int_equal(gf_schema_field(gf_frame_schema(f), 1)->type.id, GF_TYPE_INT64);
  gf_frame_release(f);
  /* header = 1 forced on a one-line file of numbers: still 0 rows. */
  gf_csv_read_options_init(&o);
  o.header = 1;
  f = read_text("1,2\n", &o);
  assert_int_equal(gf_frame_num_rows(f), 0);
  expect_names(f, (const char *[]){"1", "2"}, 2);
  gf_frame_release(f);
}

static void unnamed_header_fields(void **state) {
  (void)state;
  gf_frame *f = read_text("a,b,\n1,2,3\n4,5,6\n", NULL);
  expect_names(f, (const char *[]){"a", "b", "column_3"}, 3);
  assert_int_equal(gf_frame_num_rows(f), 2);
  assert_int_equal(gf_schema_field(gf_frame_schema(f), 2)->type.id, GF_TYPE_INT32);
  gf_frame_release(f);
  f = read_text("a,,b\n1,2,3\n", NULL);
  expect_names(f, (const char *[]){"a", "column_2", "b"}, 3);
  assert_int_equal(gf_frame_num_rows(f), 1);
  gf_frame_release(f);
  /* A row with nothing but empty fields is data, not a header. */
  f = read_text(",\n1,2\n", NULL);
  expect_names(f, (const char *[]){"column_1", "column_2"}, 2);
  assert_int_equal(gf_frame_num_rows(f), 2);
  gf_frame_release(f);
  /* An unnamed column that collides with a real "column_2" is deduped. */
  f = read_text("column_2,\nx,y\n", NULL);
  expect_names(f, (const char *[]){"column_2", "column_2_1"}, 2);
  gf_frame_release(f);
}

static void cr_only_line_ends(void **state) {
  (void)state;
  char buf[64];
  gf_frame *f = read_text("x,y\r1,a\r2,b\r3,\"c\"\r", NULL);
  expect_names(f, (const char *[]){"x", "y"}, 2);
  assert_int_equal(gf_frame_num_rows(f), 3);
  assert_string_equal(cell(f, 1, 2, buf, sizeof buf), "c");
  gf_frame_release(f);
  /* No final line end, and a ragged row is reported on its CR line. */
  f = read_text("x,y\r1,a\r2,b", NULL);
  assert_int_equal(gf_frame_num_rows(f), 2);
  gf_frame_release(f);
  gf_error err;
  gf_error_clear(&err);
  gf_frame *g = NULL;
  const char *bad = "x,y\r1,a\r2\r";
  assert_int_equal(gf_read_csv_buffer(bad, strlen(bad), "t.csv", NULL, &g, &err), GF_EPARSE);
  assert_non_null(strstr(err.message, "t.csv:3:"));
  /* CRLF files are unaffected: the CR is not part of the value. */
  f = read_text("x,y\r\n1,a\r\n", NULL);
  assert_string_equal(cell(f, 1, 0, buf, sizeof buf), "a");
  gf_frame_release(f);
}

/* n copies of `name` joined by commas, then one data row of 1s. */
static char *wide_text(int n, const char *name, bool distinct) {
  size_t cap = (size_t)n * (strlen(name) + 12) + (size_t)n * 2 + 16;
  char *t = malloc(cap), *p = t;
  for (int i = 0; i < n; i++)
    p += distinct ? sprintf(p, "%s%s%d", i ? "," : "", name, i) : sprintf(p, "%s%s", i ? "," : "", name);
  *p++ = '\n';
  for (int i = 0; i < n; i++) p += sprintf(p, "%s1", i ? "," : "");
  *p++ = '\n';
  *p = 0;
  return t;
}

static void many_equal_names_dedupe_like_a_naive_loop(void **state) {
  (void)state;
  enum { N = 3000 };
  char *t = wide_text(N, "a", false);
  gf_frame *f = read_text(t, NULL);
  free(t);
  assert_int_equal(gf_frame_num_columns(f), N);
  /* Naive reference: a, then a_1 .. a_{N-1} (first free suffix). */
  char want[32];
  for (int i = 0; i < N; i++) {
    if (i == 0) snprintf(want, sizeof want, "a");
    else snprintf(want, sizeof want, "a_%d", i);
    if (strcmp(name_of(f, i), want) != 0) fail_msg("column %d: %s, want %s", i, name_of(f, i), want);
  }
  gf_frame_release(f);
  /* Suffixes already taken are skipped, in order: naive O(n^2) reference. */
  const char *names[] = {"a", "a_1", "a", "a", "a_2_1", "a_2", "b", "a_1"};
  int n = (int)(sizeof names / sizeof *names);
  char text[256] = "", expect[8][32];
  for (int i = 0; i < n; i++) {
    strcat(text, i ? "," : "");
    strcat(text, names[i]);
  }
  strcat(text, "\n1,1,1,1,1,1,1,1\n");
  for (int i = 0; i < n; i++) {
    snprintf(expect[i], 32, "%s", names[i]);
    for (int k = 1;; k++) {
      bool taken = false;
      for (int j = 0; j < i; j++) taken |= strcmp(expect[j], expect[i]) == 0;
      if (!taken) break;
      snprintf(expect[i], 32, "%s_%d", names[i], k);
    }
  }
  f = read_text(text, NULL);
  for (int i = 0; i < n; i++)
    if (strcmp(name_of(f, i), expect[i]) != 0)
      fail_msg("column %d: %s, want %s", i, name_of(f, i), expect[i]);
  gf_frame_release(f);
}

static void wide_header_and_schema_index(void **state) {
  (void)state;
  enum { N = 60000 };
  char *t = wide_text(N, "c", true);
  gf_frame *f = read_text(t, NULL);
  free(t);
  assert_int_equal(gf_frame_num_columns(f), N);
  const gf_schema *s = gf_frame_schema(f);
  char nm[32];
  for (int i = 0; i < N; i += 7) {
    snprintf(nm, sizeof nm, "c%d", i);
    assert_int_equal(gf_schema_find(s, nm), i);
  }
  assert_int_equal(gf_schema_find(s, "c60000"), -1);
  assert_int_equal(gf_schema_find(s, "c"), -1);
  gf_frame_release(f);
}

static void schema_rejects_duplicates_small_and_large(void **state) {
  (void)state;
  for (int n = 2; n <= 40; n += 19) {
    gf_field *fl = calloc((size_t)n, sizeof *fl);
    char (*names)[16] = calloc((size_t)n, 16);
    for (int i = 0; i < n; i++) {
      snprintf(names[i], 16, "f%d", i);
      fl[i].name = names[i];
      fl[i].type = gf_type(GF_TYPE_INT32);
      fl[i].nullable = true;
    }
    gf_schema *s = NULL;
    gf_error err;
    assert_int_equal(gf_schema_new(fl, n, &s, &err), GF_OK);
    for (int i = 0; i < n; i++) assert_int_equal(gf_schema_find(s, names[i]), i);
    gf_schema_release(s);
    snprintf(names[n - 1], 16, "f0");
    assert_int_equal(gf_schema_new(fl, n, &s, &err), GF_EINVAL);
    char want[64];
    snprintf(want, sizeof want, "duplicate field name \"f0\" (fields 0 and %d)", n - 1);
    assert_string_equal(err.message, want);
    free(names);
    free(fl);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(header_alone_is_zero_rows),
      cmocka_unit_test(unnamed_header_fields),
      cmocka_unit_test(cr_only_line_ends),
      cmocka_unit_test(many_equal_names_dedupe_like_a_naive_loop),
      cmocka_unit_test(wide_header_and_schema_index),
      cmocka_unit_test(schema_rejects_duplicates_small_and_large),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
