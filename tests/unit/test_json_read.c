/* JSON reader against an independent reference: tests/data/json holds
 * inputs (escapes, surrogate pairs, big integers, exponent floats, nulls,
 * missing keys, blank lines, CRLF, a BOM, empty files, a JSON array) and
 * the expected frames Python's json module produced for them
 * (make_expected.py). Every input is read at 1, 2, 3 and 8 workers and
 * several chunk sizes. Then: bit-identical frames for any worker count and
 * chunk size on generated NDJSON whose columns widen late; bad input gives
 * GF_EPARSE/GF_ENOTSUP with line, column and byte offset; options
 * (columns, column_types, dictionaries, format); allocation failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_test_env.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"

static const char *const inputs[] = {
    "escapes.ndjson", "numbers.ndjson",  "bigints.ndjson",   "nulls_missing.ndjson",
    "mixed_crlf.ndjson", "temporal.ndjson", "empty.ndjson",   "blank.ndjson",
    "array.json",     "array_empty.json", "bom_noeol.ndjson"};

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = 0;
  fclose(f);
  if (len) *len = (size_t)n;
  return buf;
}

static void data_path(char *buf, size_t cap, const char *name) {
  const char *dir = getenv("GF_TEST_DATA");
  snprintf(buf, cap, "%s/json/%s", dir ? dir : "tests/data", name);
}

/* The array and row within it of frame row r of column c. */
static const gf_array *locate(const gf_frame *f, int c, int64_t r, int64_t *i) {
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t n = gf_frame_batch_rows(f, b);
    if (r < n) {
      *i = r;
      return gf_frame_column(f, b, c);
    }
    r -= n;
  }
  fail_msg("row out of range");
  return NULL;
}

static gf_datatype type_named(const char *s) {
  if (strcmp(s, "bool") == 0) return gf_type(GF_TYPE_BOOL);
  if (strcmp(s, "int64") == 0) return gf_type(GF_TYPE_INT64);
  if (strcmp(s, "float64") == 0) return gf_type(GF_TYPE_FLOAT64);
  if (strcmp(s, "date32") == 0) return gf_type(GF_TYPE_DATE32);
  if (strcmp(s, "timestamp[us]") == 0) return gf_type_timestamp(GF_UNIT_MICRO, false, 0);
  if (strcmp(s, "timestamp[us,UTC]") == 0) return gf_type_timestamp(GF_UNIT_MICRO, true, 0);
  if (strcmp(s, "utf8") == 0) return gf_type(GF_TYPE_UTF8);
  fail_msg("unknown type %s", s);
  return gf_type(GF_TYPE_NULL);
}

static int unhex(const char *h, char *out) {
  int n = 0;
  for (; h[0] && h[1]; h += 2) {
    unsigned v;
    sscanf(h, "%2x", &v);
    out[n++] = (char)v;
  }
  return n;
}

/* Compares f with the expected file of `name`. */
static void compare_expected(const gf_frame *f, const char *name) {
  char path[1024], exp_name[256];
  snprintf(exp_name, sizeof exp_name, "%s.expected", name);
  data_path(path, sizeof path, exp_name);
  char *text = slurp(path, NULL);
  char *save = NULL;
  int ncols = -1;
  gf_datatype types[64];
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char a[256], b[256], c[4096];
    if (sscanf(line, "columns %d", &ncols) == 1) {
      if (gf_frame_num_columns(f) != ncols)
        fail_msg("%s: %d columns, want %d", name, gf_frame_num_columns(f), ncols);
      continue;
    }
    if (strncmp(line, "col ", 4) == 0) {
      /* "col HEX TYPE" where TYPE may hold a space ("timestamp[us, UTC]") */
      char t1[64] = "", t2[64] = "";
      int k = sscanf(line, "col %255s %63s %63s", a, t1, t2);
      char tname[128];
      snprintf(tname, sizeof tname, "%s%s", t1, k == 3 ? t2 : "");
      char nm[256];
      int nl = unhex(a, nm);
      nm[nl] = 0;
      const gf_schema *s = gf_frame_schema(f);
      int found = gf_schema_find(s, nm);
      if (found < 0) fail_msg("%s: no column '%s'", name, nm);
      gf_datatype want = type_named(tname);
      gf_datatype got = gf_schema_field(s, found)->type;
      if (got.id == GF_TYPE_DICTIONARY) got = gf_type_value(got);
      char gb[64], wb[64];
      if (!gf_type_equals(got, want))
        fail_msg("%s: column '%s' is %s, want %s", name, nm, gf_type_format(got, gb, sizeof gb),
                 gf_type_format(want, wb, sizeof wb));
      types[found] = want;
      continue;
    }
    long long rows;
    if (sscanf(line, "rows %lld", &rows) == 1) {
      if (gf_frame_num_rows(f) != rows)
        fail_msg("%s: %lld rows, want %lld", name, (long long)gf_frame_num_rows(f), rows);
      continue;
    }
    long long r;
    int cc;
    c[0] = 0; /* an empty string's hex is empty */
    if (sscanf(line, "cell %lld %d %4095s", &r, &cc, c) < 2) fail_msg("bad line %s", line);
    (void)b;
    int64_t i = 0;
    const gf_array *arr = locate(f, cc, r, &i);
    bool isnull = strcmp(c, "null") == 0;
    if (gf_array_is_null(arr, i) != isnull)
      fail_msg("%s: row %lld column %d: null is %d, want %s", name, r, cc,
               gf_array_is_null(arr, i), c);
    if (isnull) continue;
    gf_datatype t = types[cc];
    if (t.id == GF_TYPE_UTF8) {
      char want[4096];
      int wl = unhex(c, want);
      int64_t len = 0;
      const char *got = gf_array_get_bytes(arr, i, &len);
      if (len != wl || memcmp(got, want, (size_t)wl) != 0)
        fail_msg("%s: row %lld column %d: '%.*s', want '%.*s'", name, r, cc, (int)len, got, wl,
                 want);
    } else if (t.id == GF_TYPE_FLOAT64) {
      double want = strtod(c, NULL), got = gf_array_get_double(arr, i);
      if (memcmp(&want, &got, 8) != 0)
        fail_msg("%s: row %lld column %d: %.17g, want %.17g", name, r, cc, got, want);
    } else if (t.id == GF_TYPE_BOOL) {
      if (gf_array_get_bool(arr, i) != (c[0] == '1'))
        fail_msg("%s: row %lld column %d: bool differs", name, r, cc);
    } else {
      long long want = strtoll(c, NULL, 10);
      if (gf_array_get_int64(arr, i) != want)
        fail_msg("%s: row %lld column %d: %lld, want %lld", name, r, cc,
                 (long long)gf_array_get_int64(arr, i), want);
    }
  }
  free(text);
}

static gf_frame *read_file(const char *name, int workers, int64_t chunk_rows, bool no_dict) {
  char path[1024];
  data_path(path, sizeof path, name);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.chunk_rows = chunk_rows;
  po.min_parallel_rows = 0;
  gf_json_read_options o;
  gf_json_read_options_init(&o);
  o.parallel = &po;
  o.no_dictionary = no_dict;
  gf_error err;
  gf_error_clear(&err);
  gf_frame *f = NULL;
  gf_status st = gf_read_json(path, &o, &f, &err);
  if (st != GF_OK) fail_msg("%s: %s: %s", name, gf_status_name(st), err.message);
  return f;
}

static void inputs_match_python(void **state) {
  (void)state;
  const int workers[] = {1, 2, 3, 8};
  const int64_t chunks[] = {0, 1, 2, 5};
  for (size_t k = 0; k < sizeof inputs / sizeof *inputs; k++)
    for (int w = 0; w < 4; w++)
      for (int c = 0; c < 4; c++)
        for (int d = 0; d < 2; d++) {
          gf_frame *f = read_file(inputs[k], workers[w], chunks[c], d == 0);
          compare_expected(f, inputs[k]);
          gf_frame_release(f);
        }
}

/* ---- determinism on generated data ------------------------------------- */

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* NDJSON with keys in varying order, missing keys, nulls, escapes, and
 * columns whose kind changes late (int then float, dates then a string,
 * ints then a big int). */
static char *generate(int rows, size_t *len) {
  size_t cap = (size_t)rows * 400 + 64;
  char *s = malloc(cap), *o = s;
  assert_non_null(s);
  for (int r = 0; r < rows; r++) {
    o += sprintf(o, "{");
    bool first = true;
#define SEP() (first ? (first = false, "") : ",")
    if (rnd() % 10) o += sprintf(o, "%s\"id\":%d", SEP(), r);
    if (rnd() % 4) o += sprintf(o, "%s\"grp\":\"g%02d\"", SEP(), (int)(rnd() % 7));
    if (rnd() % 3 == 0) o += sprintf(o, "%s\"n\":null", SEP());
    if (r == rows - 3)
      o += sprintf(o, "%s\"late\":%d.5", SEP(), r);
    else if (rnd() % 2)
      o += sprintf(o, "%s\"late\":%d", SEP(), (int)(rnd() % 1000) - 500);
    if (r == rows / 2)
      o += sprintf(o, "%s\"when\":\"soon\"", SEP());
    else
      o += sprintf(o, "%s\"when\":\"2024-%02d-%02d\"", SEP(), (int)(rnd() % 12) + 1,
                   (int)(rnd() % 28) + 1);
    if (rnd() % 5 == 0) o += sprintf(o, "%s\"esc\":\"a\\\"b\\u00e9\\n%d\"", SEP(), r);
    if (r == rows - 1) o += sprintf(o, "%s\"big\":12345678901234567890", SEP());
    else if (rnd() % 2) o += sprintf(o, "%s\"big\":%d", SEP(), (int)(rnd() % 100));
    if (rnd() % 50 == 0) o += sprintf(o, "%s\"rare%d\":true", SEP(), (int)(rnd() % 3));
    o += sprintf(o, "}%s", rnd() % 4 ? "\n" : "\r\n");
    if (rnd() % 20 == 0) o += sprintf(o, "\n");
#undef SEP
  }
  *len = (size_t)(o - s);
  return s;
}

static gf_frame *read_buf_opts(const char *data, size_t len, int workers, int64_t chunk_rows,
                               const gf_json_read_options *base) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.chunk_rows = chunk_rows;
  po.min_parallel_rows = 0;
  gf_json_read_options o = *base;
  o.parallel = &po;
  gf_error err;
  gf_error_clear(&err);
  gf_frame *f = NULL;
  gf_status st = gf_read_json_buffer(data, len, "a.json", &o, &f, &err);
  if (st != GF_OK) fail_msg("%s: %s", gf_status_name(st), err.message);
  return f;
}

static gf_frame *read_buf(const char *data, size_t len, int workers, int64_t chunk_rows,
                          const gf_json_read_options *base) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.chunk_rows = chunk_rows;
  po.min_parallel_rows = 0;
  gf_json_read_options o;
  if (base)
    o = *base;
  else
    gf_json_read_options_init(&o);
  o.parallel = &po;
  gf_error err;
  gf_error_clear(&err);
  gf_frame *f = NULL;
  gf_status st = gf_read_ndjson_buffer(data, len, "gen.ndjson", &o, &f, &err);
  if (st != GF_OK) fail_msg("%s: %s", gf_status_name(st), err.message);
  return f;
}

static void same_at_any_workers_and_chunks(void **state) {
  (void)state;
  int rows = gft_sanitized() ? 600 : 3000;
  size_t len;
  char *data = generate(rows, &len);
  gf_frame *ref = read_buf(data, len, 1, 0, NULL);
  assert_int_equal(gf_frame_num_rows(ref), rows);
  const gf_schema *s = gf_frame_schema(ref);
  /* The late widenings happened: float64, utf8 with the dates, big ints
   * as their text, a dictionary for grp. */
  assert_int_equal(gf_schema_field(s, gf_schema_find(s, "late"))->type.id, GF_TYPE_FLOAT64);
  assert_int_equal(gf_schema_field(s, gf_schema_find(s, "when"))->type.id, GF_TYPE_DICTIONARY);
  assert_true(gf_schema_find(s, "big") >= 0);
  assert_int_equal(gf_schema_field(s, gf_schema_find(s, "grp"))->type.id, GF_TYPE_DICTIONARY);
  const int workers[] = {1, 2, 3, 8};
  const int64_t chunks[] = {1, 2, 7, 64, 1000, 0};
  for (int w = 0; w < 4; w++)
    for (int c = 0; c < 6; c++) {
      gf_frame *f = read_buf(data, len, workers[w], chunks[c], NULL);
      if (!gf_schema_equals(gf_frame_schema(f), s) || !gf_frame_equals(f, ref))
        fail_msg("frame differs at %d workers, chunk_rows %lld", workers[w],
                 (long long)chunks[c]);
      gf_frame_release(f);
    }
  gf_frame_release(ref);
  free(data);
}

/* A JSON array cut into ranges at guessed object starts: strings that
 * look like object boundaries ("}, {") must not fool it. */
static void array_ranges_any_workers_and_chunks(void **state) {
  (void)state;
  int rows = gft_sanitized() ? 300 : 1500;
  size_t cap = (size_t)rows * 200 + 16;
  char *s = malloc(cap), *o = s;
  assert_non_null(s);
  o += sprintf(o, "[\n");
  for (int r = 0; r < rows; r++) {
    o += sprintf(o, "%s  {\"id\": %d, ", r ? ",\n" : "", r);
    if (rnd() % 3 == 0)
      o += sprintf(o, "\"trap\": \"x\\\"}, {\\\"id\\\": 1}, {\", ");
    else if (rnd() % 2)
      o += sprintf(o, "\"trap\": \"}  ,\\n {\", ");
    o += sprintf(o, "\"v\": %s}", rnd() % 2 ? "1.5" : "null");
  }
  o += sprintf(o, "\n]\n");
  size_t len = (size_t)(o - s);
  gf_json_read_options jo;
  gf_json_read_options_init(&jo);
  jo.format = GF_JSON_ARRAY;
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = 1;
  jo.parallel = &po;
  gf_error err;
  gf_frame *ref = NULL;
  if (gf_read_json_buffer(s, len, "a.json", &jo, &ref, &err) != GF_OK) fail_msg("%s", err.message);
  assert_int_equal(gf_frame_num_rows(ref), rows);
  const int workers[] = {1, 2, 3, 8};
  const int64_t chunks[] = {1, 2, 7, 64, 0};
  for (int w = 0; w < 4; w++)
    for (int c = 0; c < 5; c++) {
      gf_frame *f = read_buf_opts(s, len, workers[w], chunks[c], &jo);
      if (!gf_frame_equals(f, ref))
        fail_msg("array frame differs at %d workers, chunk_rows %lld", workers[w], (long long)chunks[c]);
      gf_frame_release(f);
    }
  /* An error after a trap is still reported at its place. */
  memcpy(s + len - 4, "x]\n", 3);
  for (int c = 0; c < 3; c++) {
    po.num_workers = 3;
    po.chunk_rows = c * 5;
    po.min_parallel_rows = 0;
    gf_frame *f = NULL;
    assert_int_equal(gf_read_json_buffer(s, len - 1, "a.json", &jo, &f, &err), GF_EPARSE);
    assert_null(f);
  }
  gf_frame_release(ref);
  free(s);
}

/* ---- errors --------------------------------------------------------------- */

static void expect_error(const char *text, gf_status code, const char *want) {
  const int workers[] = {1, 3};
  const int64_t chunks[] = {0, 1};
  for (int w = 0; w < 2; w++)
    for (int c = 0; c < 2; c++) {
      gf_parallel_options po;
      gf_parallel_options_init(&po);
      po.num_workers = workers[w];
      po.chunk_rows = chunks[c];
      po.min_parallel_rows = 0;
      gf_json_read_options o;
      gf_json_read_options_init(&o);
      o.parallel = &po;
      gf_error err;
      gf_error_clear(&err);
      gf_frame *f = NULL;
      gf_status st = gf_read_json_buffer(text, strlen(text), "bad.json", &o, &f, &err);
      if (st != code || !strstr(err.message, want))
        fail_msg("input %s: got %s '%s', want %s containing '%s'", text, gf_status_name(st),
                 err.message, gf_status_name(code), want);
      assert_null(f);
    }
}

static void bad_input_is_located(void **state) {
  (void)state;
  expect_error("{\"a\":1}\n{\"a\":2,}\n", GF_EPARSE, "bad.json:2:8 (byte 15): expected a key");
  expect_error("{\"a\":1}\n{\"a\":{\"b\":1}}\n", GF_ENOTSUP,
               "bad.json:2:6 (byte 13): key 'a' holds a nested object");
  expect_error("{\"a\":1}\n{\"xs\":[1,2]}\n", GF_ENOTSUP, "key 'xs' holds a nested array");
  expect_error("{\"a\":\"\\ud800x\"}\n", GF_EPARSE, "bad.json:1:7 (byte 6): high surrogate");
  expect_error("{\"a\":\"\\udc00\"}\n", GF_EPARSE, "lone low surrogate");
  expect_error("{\"a\":\"\\q\"}\n", GF_EPARSE, "invalid escape \\q");
  expect_error("{\"a\":\"\\u12\"}\n", GF_EPARSE, "\\u needs 4 hex digits");
  expect_error("{\"a\":\"x\xc3\x28\"}\n", GF_EPARSE, "bad.json:1:8 (byte 7): invalid UTF-8");
  expect_error("{\"a\":\"\xe2\x82\"}\n", GF_EPARSE, "invalid UTF-8");
  expect_error("{\"a\":\"\xed\xa0\x80\"}\n", GF_EPARSE, "invalid UTF-8");  /* surrogate */
  expect_error("{\"a\":\"x\ty\"}\n", GF_EPARSE, "control character 0x09");
  expect_error("{\"a\":1}{\"a\":2}\n", GF_EPARSE, "bad.json:1:8 (byte 7): expected the end of the line");
  expect_error("{\"a\":1,\n\"b\":2}\n", GF_EPARSE, "NDJSON needs one object per line");
  expect_error("{\"a\":1}\n{\"a\":1,\"a\":2}\n", GF_EPARSE, "key \"a\" appears twice");
  expect_error("{\"a\":01}\n", GF_EPARSE, "leading zero");
  expect_error("{\"a\":1}\n{\"b\":2,\"\":3}\n", GF_EPARSE, "bad.json:2:8 (byte 15): an empty key");
  expect_error("{\"a\\u0000\":1}\n", GF_EPARSE, "bad.json:1:2 (byte 1): a key holding \\u0000");
  expect_error("{\"a\":1.}\n", GF_EPARSE, "digit after '.'");
  expect_error("{\"a\":1e}\n", GF_EPARSE, "exponent");
  expect_error("{\"a\":-}\n", GF_EPARSE, "invalid number");
  expect_error("{\"a\":1e999}\n", GF_EPARSE, "out of the float64 range");
  expect_error("{\"a\":NaN}\n", GF_EPARSE, "invalid value");
  expect_error("{\"a\":tru}\n", GF_EPARSE, "invalid value");
  expect_error("{\"a\":1}\n[1]\n", GF_EPARSE, "bad.json:2:1 (byte 8): expected '{'");
  expect_error("{\"a\":1}\n\"x\"\n", GF_EPARSE, "expected '{'");
  expect_error("{\"a\":\"abc", GF_EPARSE, "bad.json:1:6 (byte 5): string not closed");
  expect_error("{\"a\":1", GF_EPARSE, "expected ',' or '}'");
  expect_error("{\"a\" 1}\n", GF_EPARSE, "expected ':'");
  expect_error("[{\"a\":1},]", GF_EPARSE, "bad.json:1:10 (byte 9): expected '{'");
  expect_error("[{\"a\":1}", GF_EPARSE, "expected ',' or ']'");
  expect_error("[{\"a\":1}] x", GF_EPARSE, "unexpected text after the closing ']'");
  expect_error("[1, 2]", GF_EPARSE, "the array must hold objects");
  expect_error("[\n{\"a\":1},\n{\"a\":\n[]}]", GF_ENOTSUP, "bad.json:4:1 (byte 17): key 'a'");
  /* The first error in file order wins whatever the chunking. */
  expect_error("{\"a\":1}\n{\"a\":x}\n{\"a\":1}\n{\"a\":y}\n", GF_EPARSE, "bad.json:2:6");
}

/* ---- options ---------------------------------------------------------------- */

static void options_columns_types_format(void **state) {
  (void)state;
  const char *text = "{\"a\":1,\"b\":\"x\",\"c\":2}\n{\"c\":3,\"b\":\"2024-01-01\",\"a\":null}\n";
  gf_json_read_options o;
  gf_json_read_options_init(&o);
  const char *cols[] = {"c", "a"};
  o.columns = cols;
  o.num_columns = 2;
  gf_json_column_type ct[] = {{"c", {0}}, {"b", {0}}};
  ct[0].type = gf_type(GF_TYPE_FLOAT64);
  ct[1].type = gf_type(GF_TYPE_UTF8);
  o.column_types = ct;
  o.num_column_types = 2;
  gf_frame *f = read_buf(text, strlen(text), 2, 1, &o);
  const gf_schema *s = gf_frame_schema(f);
  assert_int_equal(gf_schema_num_fields(s), 2);
  assert_string_equal(gf_schema_field(s, 0)->name, "a"); /* file order */
  assert_string_equal(gf_schema_field(s, 1)->name, "c");
  assert_int_equal(gf_schema_field(s, 1)->type.id, GF_TYPE_FLOAT64);
  assert_int_equal(gf_schema_field(s, 0)->type.id, GF_TYPE_INT64);
  gf_frame_release(f);

  /* A forced type that a value does not fit is an error at the value. */
  ct[0].type = gf_type(GF_TYPE_BOOL);
  o.columns = NULL;
  o.num_columns = 0;
  gf_error err;
  gf_error_clear(&err);
  f = NULL;
  assert_int_equal(gf_read_ndjson_buffer(text, strlen(text), "t.ndjson", &o, &f, &err),
                   GF_EPARSE);
  assert_non_null(strstr(err.message, "t.ndjson:1:20 (byte 19): key 'c': value 2 is not a bool"));
  /* Unsupported override type; a missing selected column. */
  ct[0].type = gf_type(GF_TYPE_INT16);
  assert_int_equal(gf_read_ndjson_buffer(text, strlen(text), "t", &o, &f, &err), GF_ENOTSUP);
  o.num_column_types = 0;
  const char *missing[] = {"zz"};
  o.columns = missing;
  o.num_columns = 1;
  assert_int_equal(gf_read_ndjson_buffer(text, strlen(text), "t", &o, &f, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "column 'zz' not found"));
  /* gf_read_ndjson refuses an array; AUTO reads it. */
  gf_json_read_options_init(&o);
  const char *arr = "[{\"a\":1}]";
  assert_int_equal(gf_read_ndjson_buffer(arr, strlen(arr), "t", &o, &f, &err), GF_EPARSE);
  assert_int_equal(gf_read_json_buffer(arr, strlen(arr), "t", &o, &f, &err), GF_OK);
  assert_int_equal(gf_frame_num_rows(f), 1);
  gf_frame_release(f);
  o.format = GF_JSON_ARRAY;
  assert_int_equal(gf_read_json_buffer(text, strlen(text), "t", &o, &f, &err), GF_EPARSE);
  o.format = (gf_json_format)7;
  assert_int_equal(gf_read_json_buffer(arr, strlen(arr), "t", &o, &f, &err), GF_EINVAL);
  /* max_rows: NDJSON stops after that many objects (the bad third line is
   * never parsed, the types come from the rows read); an array is cut. */
  gf_json_read_options_init(&o);
  o.max_rows = 2;
  const char *three = "{\"a\":1}\n\n{\"a\":2}\n{\"a\":\"x\",\"b\":oops}\n";
  f = read_buf(three, strlen(three), 2, 1, &o);
  assert_int_equal(gf_frame_num_rows(f), 2);
  assert_int_equal(gf_frame_num_columns(f), 1);
  assert_int_equal(gf_schema_field(gf_frame_schema(f), 0)->type.id, GF_TYPE_INT64);
  gf_frame_release(f);
  const char *arr3 = "[{\"a\":1},{\"a\":2},{\"a\":3.5}]";
  assert_int_equal(gf_read_json_buffer(arr3, strlen(arr3), "t", &o, &f, &err), GF_OK);
  assert_int_equal(gf_frame_num_rows(f), 2);
  gf_frame_release(f);
  o.max_rows = -1;
  assert_int_equal(gf_read_json_buffer(arr3, strlen(arr3), "t", &o, &f, &err), GF_EINVAL);
  /* Forced dictionary. */
  gf_json_read_options_init(&o);
  gf_json_column_type dt = {"b", gf_type_dictionary(gf_type(GF_TYPE_UTF8))};
  o.column_types = &dt;
  o.num_column_types = 1;
  o.no_dictionary = true;
  f = read_buf(text, strlen(text), 1, 0, &o);
  s = gf_frame_schema(f);
  assert_int_equal(gf_schema_field(s, gf_schema_find(s, "b"))->type.id, GF_TYPE_DICTIONARY);
  gf_frame_release(f);
}

/* A cancelled token, a passed deadline and a memory limit stop a read with
 * their status and no frame. */
static void cancel_and_limits(void **state) {
  (void)state;
  size_t len;
  char *data = generate(2000, &len);
  gf_cancel *c = NULL;
  gf_error err;
  assert_int_equal(gf_cancel_new(&c, &err), GF_OK);
  gf_cancel_request(c);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.cancel = c;
  po.chunk_rows = 10;
  po.min_parallel_rows = 0;
  gf_json_read_options o;
  gf_json_read_options_init(&o);
  o.parallel = &po;
  gf_frame *f = NULL;
  assert_int_equal(gf_read_ndjson_buffer(data, len, "g", &o, &f, &err), GF_ECANCELED);
  assert_null(f);
  po.cancel = NULL;
  po.memory_limit = 4096;
  assert_int_equal(gf_read_ndjson_buffer(data, len, "g", &o, &f, &err), GF_ENOMEM);
  assert_null(f);
  po.memory_limit = 0;
  assert_int_equal(gf_read_ndjson_buffer(data, len, "g", &o, &f, &err), GF_OK);
  gf_frame_release(f);
  gf_cancel_free(c);
  free(data);
}

/* ---- allocation failures ------------------------------------------------- */

static const char sweep_text[] =
    "{\"a\":1,\"b\":\"x\",\"c\":\"2024-01-01\"}\n{\"a\":2.5,\"b\":\"y\\n\",\"d\":true}\n"
    "{\"c\":\"later\",\"b\":\"x\",\"a\":null}\n{\"a\":3,\"b\":\"x\"}\n";

static gf_status sweep_read(void *user, const gf_allocator *a) {
  int workers = *(int *)user;
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.chunk_rows = 1;
  po.min_parallel_rows = 0;
  po.allocator = a;
  gf_json_read_options o;
  gf_json_read_options_init(&o);
  o.parallel = &po;
  gf_error err;
  gf_error_clear(&err);
  gf_frame *f = NULL;
  gf_status st = gf_read_ndjson_buffer(sweep_text, sizeof sweep_text - 1, "s", &o, &f, &err);
  if (st == GF_OK) {
    assert_int_equal(gf_frame_num_rows(f), 4);
    assert_int_equal(gf_frame_num_columns(f), 4);
    gf_frame_release(f);
  } else {
    assert_null(f);
  }
  return st;
}

static void allocation_failures(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  gf_error err;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, &err), GF_OK);
  gft_sweep_counts counts;
  memset(&counts, 0, sizeof counts);
  int workers[] = {1, 2};
  for (int i = 0; i < 2; i++) gft_alloc_sweep("gf_read_ndjson_buffer", fa, sweep_read, &workers[i], &counts);
  assert_true(counts.failing[0] > 10);
  gf_failing_allocator_free(fa);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(inputs_match_python),
      cmocka_unit_test(same_at_any_workers_and_chunks),
      cmocka_unit_test(array_ranges_any_workers_and_chunks),
      cmocka_unit_test(bad_input_is_located),
      cmocka_unit_test(options_columns_types_format),
      cmocka_unit_test(cancel_and_limits),
      cmocka_unit_test(allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
