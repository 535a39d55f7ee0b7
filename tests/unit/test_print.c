/* The frame printer (exact Polars-like tables: shape, dtype row, nulls,
 * truncation of rows, columns and cells, UTF-8 widths, ASCII borders) and
 * value formatting of every type, independent of LC_NUMERIC. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/array_internal.h"
#include "data/value_format.h"
#include "gf_test_locale.h"
#include "gopherframe/testing.h"

/* ---- helpers ---------------------------------------------------------- */

static gf_builder *builder(gf_datatype t, const gf_allocator *a) {
  gf_builder *b;
  gf_error err;
  if (gf_builder_new(t, a, &b, &err) != GF_OK) fail_msg("gf_builder_new: %s", err.message);
  return b;
}

static gf_array *finish(gf_builder *b) {
  gf_array *out;
  assert_int_equal(gf_builder_finish(b, &out, NULL), GF_OK);
  gf_builder_free(b);
  return out;
}

/* Array of type t from int64 values (INT64_MIN = null). */
static gf_array *ints(gf_datatype t, const gf_allocator *a, const int64_t *v, int n) {
  gf_builder *b = builder(t, a);
  for (int i = 0; i < n; i++) {
    if (v[i] == INT64_MIN)
      assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
    else
      assert_int_equal(gf_builder_append_int64(b, v[i], NULL), GF_OK);
  }
  return finish(b);
}

static gf_array *one_int(gf_datatype t, int64_t v) { return ints(t, NULL, &v, 1); }

static gf_array *one_double(gf_datatype t, double v) {
  gf_builder *b = builder(t, NULL);
  assert_int_equal(gf_builder_append_double(b, v, NULL), GF_OK);
  return finish(b);
}

static gf_array *one_bytes(gf_datatype t, const void *p, int64_t n) {
  gf_builder *b = builder(t, NULL);
  assert_int_equal(gf_builder_append_bytes(b, p, n, NULL), GF_OK);
  return finish(b);
}

/* Array of type t from strings (NULL = null). */
static gf_array *strs(gf_datatype t, const gf_allocator *a, const char *const *v, int n) {
  gf_builder *b = builder(t, a);
  for (int i = 0; i < n; i++) {
    if (!v[i])
      assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
    else
      assert_int_equal(gf_builder_append_string(b, v[i], NULL), GF_OK);
  }
  return finish(b);
}

static gf_array *doubles(const gf_allocator *a, const double *v, int n) {
  gf_builder *b = builder(gf_type(GF_TYPE_FLOAT64), a);
  for (int i = 0; i < n; i++) {
    if (isnan(v[i]))
      assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
    else
      assert_int_equal(gf_builder_append_double(b, v[i], NULL), GF_OK);
  }
  return finish(b);
}

/* One-batch frame from columns (released here). */
static gf_frame *frame_of(const char *const *names, gf_array **cols, int n) {
  gf_frame *f;
  gf_error err;
  if (gf_frame_from_columns(names, cols, n, &f, &err) != GF_OK)
    fail_msg("gf_frame_from_columns: %s", err.message);
  for (int c = 0; c < n; c++) gf_array_release(cols[c]);
  return f;
}

static char *format(const gf_frame *f, const gf_print_options *o) {
  char *out = NULL;
  gf_error err;
  if (gf_frame_format(f, o, &out, &err) != GF_OK) fail_msg("gf_frame_format: %s", err.message);
  return out;
}

static void assert_format(const gf_frame *f, const gf_print_options *o, const char *want) {
  char *got = format(f, o);
  if (strcmp(got, want) != 0) print_error("got:\n%s\nwant:\n%s\n", got, want);
  assert_string_equal(got, want);
  gf_mem_free(got);
}

/* a i64, b str, c f64 with nulls, a wide-character string and -0.0. */
static gf_frame *small_frame(const gf_allocator *a) {
  int64_t iv[3] = {1, 2, 300};
  const char *sv[3] = {"x", NULL, "\xE6\x97\xA5\xE6\x9C\xAC"}; /* 日本 */
  double dv[3] = {1.5, NAN, -0.0};
  gf_array *cols[3] = {ints(gf_type(GF_TYPE_INT64), a, iv, 3),
                       strs(gf_type(GF_TYPE_UTF8), a, sv, 3), doubles(a, dv, 3)};
  const char *names[3] = {"a", "b", "c"};
  return frame_of(names, cols, 3);
}

/* ---- tables ----------------------------------------------------------- */

static void print_small_frame_like_polars(void **state) {
  (void)state;
  gf_frame *f = small_frame(NULL);
  assert_format(f, NULL,
                "shape: (3, 3)\n"
                "┌─────┬────────┬──────┐\n"
                "│ a   ┆ b      ┆ c    │\n"
                "│ --- ┆ ---    ┆ ---  │\n"
                "│ i64 ┆ str    ┆ f64  │\n"
                "╞═════╪════════╪══════╡\n"
                "│ 1   ┆ \"x\"    ┆ 1.5  │\n"
                "│ 2   ┆ null   ┆ null │\n"
                "│ 300 ┆ \"日本\" ┆ -0.0 │\n"
                "└─────┴────────┴──────┘");
  gf_frame_release(f);
}

static void print_ascii_borders(void **state) {
  (void)state;
  gf_frame *f = small_frame(NULL);
  gf_print_options o;
  gf_print_options_init(&o);
  o.ascii = true;
  assert_format(f, &o,
                "shape: (3, 3)\n"
                "+-----+--------+------+\n"
                "| a   | b      | c    |\n"
                "| --- | ---    | ---  |\n"
                "| i64 | str    | f64  |\n"
                "+=====+========+======+\n"
                "| 1   | \"x\"    | 1.5  |\n"
                "| 2   | null   | null |\n"
                "| 300 | \"日本\" | -0.0 |\n"
                "+-----+--------+------+");
  gf_frame_release(f);
}

static void print_options_init_sets_defaults(void **state) {
  (void)state;
  gf_print_options o;
  memset(&o, 0x5a, sizeof o);
  gf_print_options_init(&o);
  assert_int_equal(o.size, sizeof o);
  assert_int_equal(o.max_rows, 10);
  assert_int_equal(o.max_columns, 12);
  assert_int_equal(o.max_width, 32);
  assert_false(o.ascii);
}

/* 25 rows 0..24 in batches of 10, 10 and 5. */
static gf_frame *counting_frame(void) {
  gf_field fld = {"n", gf_type(GF_TYPE_INT64), true};
  gf_schema *schema;
  assert_int_equal(gf_schema_new(&fld, 1, &schema, NULL), GF_OK);
  gf_array *cols[3];
  for (int b = 0; b < 3; b++) {
    int64_t v[10];
    int n = b < 2 ? 10 : 5;
    for (int i = 0; i < n; i++) v[i] = b * 10 + i;
    cols[b] = ints(gf_type(GF_TYPE_INT64), NULL, v, n);
  }
  gf_frame *f;
  assert_int_equal(gf_frame_new(schema, cols, 3, NULL, &f, NULL), GF_OK);
  for (int b = 0; b < 3; b++) gf_array_release(cols[b]);
  gf_schema_release(schema);
  return f;
}

static void print_cuts_rows_into_head_and_tail(void **state) {
  (void)state;
  gf_frame *f = counting_frame();
  gf_print_options o;
  gf_print_options_init(&o);
  o.max_rows = 4;
  assert_format(f, &o,
                "shape: (25, 1)\n"
                "┌─────┐\n"
                "│ n   │\n"
                "│ --- │\n"
                "│ i64 │\n"
                "╞═════╡\n"
                "│ 0   │\n"
                "│ 1   │\n"
                "│ …   │\n"
                "│ 23  │\n"
                "│ 24  │\n"
                "└─────┘");
  /* An odd limit shows one more head row than tail rows; ASCII uses "...". */
  o.max_rows = 3;
  o.ascii = true;
  assert_format(f, &o,
                "shape: (25, 1)\n"
                "+-----+\n"
                "| n   |\n"
                "| --- |\n"
                "| i64 |\n"
                "+=====+\n"
                "| 0   |\n"
                "| 1   |\n"
                "| ... |\n"
                "| 24  |\n"
                "+-----+");
  /* The default shows 10 of 25; a negative limit shows every row. */
  char *all = format(f, NULL);
  assert_non_null(strstr(all, "│ 4   │\n│ …   │\n│ 20  │\n"));
  gf_mem_free(all);
  o.max_rows = -1;
  o.ascii = false;
  all = format(f, &o);
  assert_null(strstr(all, "…"));
  assert_non_null(strstr(all, "│ 9   │\n│ 10  │\n"));
  assert_non_null(strstr(all, "│ 24  │\n└"));
  gf_mem_free(all);
  gf_frame_release(f);
}

static void print_cuts_columns_with_ellipsis_column(void **state) {
  (void)state;
  gf_array *cols[5];
  const char *names[5] = {"c0", "c1", "c2", "c3", "c4"};
  for (int c = 0; c < 5; c++) cols[c] = one_int(gf_type(GF_TYPE_INT64), c);
  gf_frame *f = frame_of(names, cols, 5);
  gf_print_options o;
  gf_print_options_init(&o);
  o.max_columns = 3;
  assert_format(f, &o,
                "shape: (1, 5)\n"
                "┌─────┬─────┬───┬─────┐\n"
                "│ c0  ┆ c1  ┆ … ┆ c4  │\n"
                "│ --- ┆ --- ┆   ┆ --- │\n"
                "│ i64 ┆ i64 ┆   ┆ i64 │\n"
                "╞═════╪═════╪═══╪═════╡\n"
                "│ 0   ┆ 1   ┆ … ┆ 4   │\n"
                "└─────┴─────┴───┴─────┘");
  gf_frame_release(f);
  /* Rows and columns cut together: the crossing cell is an ellipsis too. */
  for (int c = 0; c < 5; c++) {
    int64_t v[3] = {c, 10 + c, 20 + c};
    cols[c] = ints(gf_type(GF_TYPE_INT64), NULL, v, 3);
  }
  f = frame_of(names, cols, 5);
  o.max_columns = 2;
  o.max_rows = 2;
  assert_format(f, &o,
                "shape: (3, 5)\n"
                "┌─────┬───┬─────┐\n"
                "│ c0  ┆ … ┆ c4  │\n"
                "│ --- ┆   ┆ --- │\n"
                "│ i64 ┆   ┆ i64 │\n"
                "╞═════╪═══╪═════╡\n"
                "│ 0   ┆ … ┆ 4   │\n"
                "│ …   ┆ … ┆ …   │\n"
                "│ 20  ┆ … ┆ 24  │\n"
                "└─────┴───┴─────┘");
  gf_frame_release(f);
}

static void print_cuts_long_cells_by_display_width(void **state) {
  (void)state;
  const char *sv[3] = {"abcdefghijkl", "short",
                       "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x83\x86\xE3\x82\xAD"}; /* 日本語テキ */
  gf_array *cols[1] = {strs(gf_type(GF_TYPE_UTF8), NULL, sv, 3)};
  const char *names[1] = {"a_long_column_name"};
  gf_frame *f = frame_of(names, cols, 1);
  gf_print_options o;
  gf_print_options_init(&o);
  o.max_width = 8;
  assert_format(f, &o,
                "shape: (3, 1)\n"
                "┌──────────┐\n"
                "│ a_long_… │\n"
                "│ ---      │\n"
                "│ str      │\n"
                "╞══════════╡\n"
                "│ \"abcdef… │\n"
                "│ \"short\"  │\n"
                "│ \"日本語… │\n"
                "└──────────┘");
  /* max_width <= 0 never cuts. */
  o.max_width = 0;
  char *all = format(f, &o);
  assert_non_null(strstr(all, "│ \"abcdefghijkl\"     │"));
  gf_mem_free(all);
  gf_frame_release(f);
}

static void print_escapes_control_bytes_and_binary(void **state) {
  (void)state;
  const char *sv[3] = {"a\nb", "t\tx", "\xff"};
  gf_array *cols[2] = {strs(gf_type(GF_TYPE_UTF8), NULL, sv, 3), NULL};
  gf_builder *b = builder(gf_type(GF_TYPE_BINARY), NULL);
  assert_int_equal(gf_builder_append_bytes(b, "\0ab", 3, NULL), GF_OK);
  assert_int_equal(gf_builder_append_bytes(b, "\x7f", 1, NULL), GF_OK);
  assert_int_equal(gf_builder_append_bytes(b, "", 0, NULL), GF_OK);
  cols[1] = finish(b);
  const char *names[2] = {"s", "bin"};
  gf_frame *f = frame_of(names, cols, 2);
  assert_format(f, NULL,
                "shape: (3, 2)\n"
                "┌────────┬───────────┐\n"
                "│ s      ┆ bin       │\n"
                "│ ---    ┆ ---       │\n"
                "│ str    ┆ binary    │\n"
                "╞════════╪═══════════╡\n"
                "│ \"a\\nb\" ┆ b\"\\x00ab\" │\n"
                "│ \"t\\tx\" ┆ b\"\\x7f\"   │\n"
                "│ \"\\xff\" ┆ b\"\"       │\n"
                "└────────┴───────────┘");
  gf_frame_release(f);
}

static void print_empty_frames(void **state) {
  (void)state;
  gf_frame *f = small_frame(NULL);
  gf_frame *none;
  assert_int_equal(gf_frame_slice(f, 1, 0, &none, NULL), GF_OK);
  assert_format(none, NULL,
                "shape: (0, 3)\n"
                "┌─────┬─────┬─────┐\n"
                "│ a   ┆ b   ┆ c   │\n"
                "│ --- ┆ --- ┆ --- │\n"
                "│ i64 ┆ str ┆ f64 │\n"
                "╞═════╪═════╪═════╡\n"
                "└─────┴─────┴─────┘");
  gf_frame_release(none);
  gf_frame_release(f);
  gf_frame *empty;
  assert_int_equal(gf_frame_from_columns(NULL, NULL, 0, &empty, NULL), GF_OK);
  assert_format(empty, NULL, "shape: (0, 0)\n┌┐\n╞╡\n└┘");
  gf_frame_release(empty);
}

/* One column per type, checked through the dtype and value rows. */
static void print_shows_dtypes_and_values_of_every_type(void **state) {
  (void)state;
  struct {
    const char *name;
    gf_array *col;
    const char *dtype, *value;
  } cases[] = {
      {"bool", NULL, "bool", "true"},
      {"i8", one_int(gf_type(GF_TYPE_INT8), -128), "i8", "-128"},
      {"i16", one_int(gf_type(GF_TYPE_INT16), 32767), "i16", "32767"},
      {"i32", one_int(gf_type(GF_TYPE_INT32), -7), "i32", "-7"},
      {"u8", one_int(gf_type(GF_TYPE_UINT8), 255), "u8", "255"},
      {"u16", one_int(gf_type(GF_TYPE_UINT16), 65535), "u16", "65535"},
      {"u32", one_int(gf_type(GF_TYPE_UINT32), 7), "u32", "7"},
      {"f32", one_double(gf_type(GF_TYPE_FLOAT32), 0.1), "f32", "0.1"},
      {"f64", one_double(gf_type(GF_TYPE_FLOAT64), 2.0), "f64", "2.0"},
      {"ls", NULL, "str", "\"big\""},
      {"lb", one_bytes(gf_type(GF_TYPE_LARGE_BINARY), "\x01", 1), "binary", "b\"\\x01\""},
      {"fsb", one_bytes(gf_type_fixed_size_binary(2), "hi", 2), "binary[2]", "b\"hi\""},
      {"d32", one_int(gf_type(GF_TYPE_DATE32), 19000), "date", "2022-01-08"},
      {"d64", one_int(gf_type(GF_TYPE_DATE64), 1700000000123), "date", "2023-11-14"},
      {"t32", one_int(gf_type_time(GF_TYPE_TIME32, GF_UNIT_MILLI), 45296789), "time",
       "12:34:56.789"},
      {"t64", one_int(gf_type_time(GF_TYPE_TIME64, GF_UNIT_NANO), 1), "time",
       "00:00:00.000000001"},
      {"ts", one_int(gf_type_timestamp(GF_UNIT_SECOND, false, 0), 1709214330), "datetime[s]",
       "2024-02-29 13:45:30"},
      {"tsu", one_int(gf_type_timestamp(GF_UNIT_MILLI, true, 0), 1700000000123),
       "datetime[ms, UTC]", "2023-11-14 22:13:20.123 UTC"},
      {"tso", one_int(gf_type_timestamp(GF_UNIT_MICRO, true, 330), 0),
       "datetime[\xCE\xBCs, +05:30]", "1970-01-01 05:30:00.000000 +05:30"},
      {"dur", one_int(gf_type_duration(GF_UNIT_MILLI), 90061500), "duration[ms]",
       "1d 1h 1m 1s 500ms"},
      {"durn", one_int(gf_type_duration(GF_UNIT_NANO), -1001), "duration[ns]",
       "-1\xC2\xB5s 1ns"},
      {"duz", one_int(gf_type_duration(GF_UNIT_MICRO), 0), "duration[\xCE\xBCs]", "0\xC2\xB5s"},
      {"cat", NULL, "cat", "\"blue\""},
      {"nul", NULL, "null", "null"},
  };
  int n = (int)(sizeof cases / sizeof cases[0]);
  gf_builder *b = builder(gf_type(GF_TYPE_BOOL), NULL);
  assert_int_equal(gf_builder_append_bool(b, true, NULL), GF_OK);
  cases[0].col = finish(b);
  const char *big[1] = {"big"}, *blue[1] = {"blue"};
  cases[9].col = strs(gf_type(GF_TYPE_LARGE_UTF8), NULL, big, 1);
  cases[n - 2].col = strs(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), NULL, blue, 1);
  b = builder(gf_type(GF_TYPE_NULL), NULL);
  assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
  cases[n - 1].col = finish(b);
  gf_print_options o;
  gf_print_options_init(&o);
  o.max_columns = -1;
  o.max_width = 0;
  for (int k = 0; k < n; k++) {
    const char *names[1] = {cases[k].name};
    gf_array *cols[1] = {cases[k].col};
    gf_frame *f = frame_of(names, cols, 1);
    char *out = format(f, &o);
    char want[128];
    snprintf(want, sizeof want, "│ %s ", cases[k].dtype);
    if (!strstr(out, want)) fail_msg("%s: no dtype '%s' in\n%s", cases[k].name, cases[k].dtype, out);
    snprintf(want, sizeof want, "╡\n│ %s ", cases[k].value);
    if (!strstr(out, want)) fail_msg("%s: no value '%s' in\n%s", cases[k].name, cases[k].value, out);
    gf_mem_free(out);
    gf_frame_release(f);
  }
}

static void print_takes_head_and_tail_from_their_batches(void **state) {
  (void)state;
  gf_frame *f = counting_frame();
  gf_frame *s;
  assert_int_equal(gf_frame_slice(f, 7, 15, &s, NULL), GF_OK); /* rows 7..21 over 3 batches */
  gf_print_options o;
  gf_print_options_init(&o);
  o.max_rows = 6;
  assert_format(s, &o,
                "shape: (15, 1)\n"
                "┌─────┐\n"
                "│ n   │\n"
                "│ --- │\n"
                "│ i64 │\n"
                "╞═════╡\n"
                "│ 7   │\n"
                "│ 8   │\n"
                "│ 9   │\n"
                "│ …   │\n"
                "│ 19  │\n"
                "│ 20  │\n"
                "│ 21  │\n"
                "└─────┘");
  gf_frame_release(s);
  gf_frame_release(f);
}

static void print_writes_table_and_newline_to_stream(void **state) {
  (void)state;
  gf_frame *f = small_frame(NULL);
  FILE *tmp = tmpfile();
  assert_non_null(tmp);
  assert_int_equal(gf_frame_print(f, NULL, tmp, NULL), GF_OK);
  long size = ftell(tmp);
  rewind(tmp);
  char *got = calloc(1, (size_t)size + 1);
  assert_int_equal(fread(got, 1, (size_t)size, tmp), (size_t)size);
  char *want = format(f, NULL);
  assert_int_equal(strlen(got), strlen(want) + 1);
  assert_memory_equal(got, want, strlen(want));
  assert_int_equal(got[size - 1], '\n');
  gf_mem_free(want);
  free(got);
  fclose(tmp);
  gf_error err;
  assert_int_equal(gf_frame_print(f, NULL, NULL, &err), GF_EINVAL);
  char *out = NULL;
  assert_int_equal(gf_frame_format(NULL, NULL, &out, &err), GF_EINVAL);
  assert_string_equal(err.message, "gf_frame_format: frame is NULL");
  assert_null(out);
  gf_frame_release(f);
}

/* ---- gf_array_format_value ------------------------------------------- */

/* Formats the single value of `a` (released here) and compares. */
static void check_value(gf_array *a, const char *want) {
  char buf[128];
  int n = gf_array_format_value(a, 0, buf, sizeof buf);
  if (strcmp(buf, want) != 0) fail_msg("got '%s', want '%s'", buf, want);
  assert_int_equal(n, (int)strlen(want));
  gf_array_release(a);
}

static void format_value_writes_every_type(void **state) {
  (void)state;
  gf_builder *b = builder(gf_type(GF_TYPE_BOOL), NULL);
  assert_int_equal(gf_builder_append_bool(b, false, NULL), GF_OK);
  check_value(finish(b), "false");
  check_value(one_int(gf_type(GF_TYPE_INT8), -128), "-128");
  check_value(one_int(gf_type(GF_TYPE_INT64), INT64_MAX), "9223372036854775807");
  b = builder(gf_type(GF_TYPE_UINT64), NULL);
  assert_int_equal(gf_builder_append_uint64(b, UINT64_MAX, NULL), GF_OK);
  check_value(finish(b), "18446744073709551615");
  b = builder(gf_type(GF_TYPE_INT64), NULL);
  assert_int_equal(gf_builder_append_int64(b, INT64_MIN, NULL), GF_OK);
  check_value(finish(b), "-9223372036854775808");
  check_value(one_double(gf_type(GF_TYPE_FLOAT32), 0.1), "0.1");
  check_value(one_double(gf_type(GF_TYPE_FLOAT32), 16777216.0), "16777216.0");
  check_value(one_double(gf_type(GF_TYPE_FLOAT64), 1.0 / 3.0), "0.3333333333333333");
  check_value(one_double(gf_type(GF_TYPE_FLOAT64), 1.0), "1.0");
  check_value(one_double(gf_type(GF_TYPE_FLOAT64), -0.0), "-0.0");
  check_value(one_double(gf_type(GF_TYPE_FLOAT64), 1e300), "1e+300");
  check_value(one_double(gf_type(GF_TYPE_FLOAT64), NAN), "NaN");
  check_value(one_double(gf_type(GF_TYPE_FLOAT64), -INFINITY), "-inf");
  check_value(one_bytes(gf_type(GF_TYPE_UTF8), "h\xC3\xA9llo", 6), "h\xC3\xA9llo");
  check_value(one_bytes(gf_type(GF_TYPE_BINARY), "\xde\xad\x00", 3), "dead00");
  check_value(one_bytes(gf_type_fixed_size_binary(2), "\x01\xff", 2), "01ff");
  check_value(one_int(gf_type(GF_TYPE_DATE32), 19000), "2022-01-08");
  check_value(one_int(gf_type(GF_TYPE_DATE32), -1), "1969-12-31");
  check_value(one_int(gf_type(GF_TYPE_DATE32), -719162), "0001-01-01");
  check_value(one_int(gf_type(GF_TYPE_DATE32), 11016), "2000-02-29");
  check_value(one_int(gf_type(GF_TYPE_DATE64), 1700000000123), "2023-11-14");
  check_value(one_int(gf_type(GF_TYPE_DATE64), -1), "1969-12-31");
  check_value(one_int(gf_type_time(GF_TYPE_TIME32, GF_UNIT_SECOND), 45296), "12:34:56");
  check_value(one_int(gf_type_time(GF_TYPE_TIME32, GF_UNIT_MILLI), 45296789), "12:34:56.789");
  check_value(one_int(gf_type_time(GF_TYPE_TIME64, GF_UNIT_MICRO), 1), "00:00:00.000001");
  check_value(one_int(gf_type_time(GF_TYPE_TIME64, GF_UNIT_NANO), 86399999999999),
              "23:59:59.999999999");
  check_value(one_int(gf_type_timestamp(GF_UNIT_SECOND, false, 0), 1709214330),
              "2024-02-29T13:45:30");
  check_value(one_int(gf_type_timestamp(GF_UNIT_MILLI, true, 0), 1700000000123),
              "2023-11-14T22:13:20.123Z");
  check_value(one_int(gf_type_timestamp(GF_UNIT_MICRO, false, 0), -1),
              "1969-12-31T23:59:59.999999");
  check_value(one_int(gf_type_timestamp(GF_UNIT_NANO, true, 330), 0),
              "1970-01-01T05:30:00.000000000+05:30");
  check_value(one_int(gf_type_timestamp(GF_UNIT_MILLI, true, -480), 0),
              "1969-12-31T16:00:00.000-08:00");
  check_value(one_int(gf_type_duration(GF_UNIT_MILLI), 1500), "1500ms");
  check_value(one_int(gf_type_duration(GF_UNIT_NANO), -5), "-5ns");
  check_value(one_int(gf_type_duration(GF_UNIT_MICRO), 42), "42us");
  check_value(one_int(gf_type_duration(GF_UNIT_SECOND), 7), "7s");
  const char *dv[3] = {"red", NULL, "green"};
  gf_array *dict = strs(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), NULL, dv, 3);
  char buf[32];
  assert_int_equal(gf_array_format_value(dict, 2, buf, sizeof buf), 5);
  assert_string_equal(buf, "green");
  assert_int_equal(gf_array_format_value(dict, 1, buf, sizeof buf), 4);
  assert_string_equal(buf, "null");
  gf_array_release(dict);
  b = builder(gf_type(GF_TYPE_NULL), NULL);
  assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
  check_value(finish(b), "null");
}

static void format_value_truncates_like_snprintf(void **state) {
  (void)state;
  gf_array *a = one_int(gf_type(GF_TYPE_INT64), 12345);
  char buf[4] = "zzz";
  assert_int_equal(gf_array_format_value(a, 0, buf, sizeof buf), 5);
  assert_string_equal(buf, "123");
  assert_int_equal(gf_array_format_value(a, 0, NULL, 0), 5);
  buf[0] = 'z';
  assert_int_equal(gf_array_format_value(a, 0, buf, 1), 5);
  assert_string_equal(buf, "");
  assert_int_equal(gf_array_format_value(a, 1, buf, sizeof buf), 0);
  assert_string_equal(buf, "");
  assert_int_equal(gf_array_format_value(a, -1, buf, sizeof buf), 0);
  gf_array_release(a);
}

static void formatting_ignores_comma_decimal_locale(void **state) {
  (void)state;
  bool active = gft_set_comma_locale();
  if (active) {
    char probe[16];
    snprintf(probe, sizeof probe, "%.2f", 0.25);
    assert_string_equal(probe, "0,25");
  } else {
    print_message("note: no comma-decimal locale available; checking under the current one\n");
  }
  check_value(one_double(gf_type(GF_TYPE_FLOAT64), 1.5), "1.5");
  check_value(one_double(gf_type(GF_TYPE_FLOAT32), 0.25), "0.25");
  check_value(one_double(gf_type(GF_TYPE_FLOAT64), 1234567.875), "1234567.875");
  double dv[2] = {0.25, 1e-7};
  gf_array *cols[1] = {doubles(NULL, dv, 2)};
  const char *names[1] = {"x"};
  gf_frame *f = frame_of(names, cols, 1);
  assert_format(f, NULL,
                "shape: (2, 1)\n"
                "┌───────┐\n"
                "│ x     │\n"
                "│ ---   │\n"
                "│ f64   │\n"
                "╞═══════╡\n"
                "│ 0.25  │\n"
                "│ 1e-07 │\n"
                "└───────┘");
  gf_frame_release(f);
  gft_reset_locale();
}

/* ---- allocation failures ---------------------------------------------- */

static void format_survives_every_allocation_failure(void **state) {
  (void)state;
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gf_failing_allocator_arm(fa, 0, false);
  gf_frame *f = small_frame(gf_failing_allocator_get(fa));
  char *want = format(f, NULL); /* the result is one live block of fa */
  int64_t baseline = gf_failing_allocator_live_blocks(fa);
  gf_print_options o;
  gf_print_options_init(&o);
  o.max_rows = 2; /* exercise the ellipsis path too */
  for (int pass = 0; pass < 2; pass++) {
    int64_t n;
    for (n = 1; n < 1000; n++) {
      gf_failing_allocator_arm(fa, n, false);
      char *out = NULL;
      gf_error err;
      gf_status st = gf_frame_format(f, pass ? &o : NULL, &out, &err);
      if (st == GF_OK) {
        if (!pass) assert_string_equal(out, want);
        gf_mem_free(out);
        break;
      }
      assert_int_equal(st, GF_ENOMEM);
      assert_null(out);
      assert_int_equal(gf_failing_allocator_live_blocks(fa), baseline);
    }
    assert_true(n > 1);
    assert_int_equal(gf_failing_allocator_live_blocks(fa), baseline);
  }
  gf_mem_free(want);
  gf_failing_allocator_arm(fa, 0, false);
  gf_frame_release(f);
  assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  gf_failing_allocator_free(fa);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(print_small_frame_like_polars),
      cmocka_unit_test(print_ascii_borders),
      cmocka_unit_test(print_options_init_sets_defaults),
      cmocka_unit_test(print_cuts_rows_into_head_and_tail),
      cmocka_unit_test(print_cuts_columns_with_ellipsis_column),
      cmocka_unit_test(print_cuts_long_cells_by_display_width),
      cmocka_unit_test(print_escapes_control_bytes_and_binary),
      cmocka_unit_test(print_empty_frames),
      cmocka_unit_test(print_shows_dtypes_and_values_of_every_type),
      cmocka_unit_test(print_takes_head_and_tail_from_their_batches),
      cmocka_unit_test(print_writes_table_and_newline_to_stream),
      cmocka_unit_test(format_value_writes_every_type),
      cmocka_unit_test(format_value_truncates_like_snprintf),
      cmocka_unit_test(formatting_ignores_comma_decimal_locale),
      cmocka_unit_test(format_survives_every_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
