/* The CSV writer: RFC 4180 quoting, the null token, the text of every type,
 * shortest round-trip floats independent of LC_NUMERIC, identical bytes for
 * any worker count and chunk size, and no partial file after any failure. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/array_internal.h"
#include "gf_test_data.h"
#include "gf_test_env.h"
#include "gf_test_locale.h"
#include "gf_test_sweep.h"
#include "io/csv_write_internal.h"
#include "gopherframe/testing.h"

/* ---- helpers ---------------------------------------------------------- */

/* One-batch frame from columns (references stolen). */
static gf_frame *frame_of(const char *const *names, gf_array **cols, int n) {
  gf_frame *f = NULL;
  gf_error err;
  if (gf_frame_from_columns(names, cols, n, &f, &err) != GF_OK)
    fail_msg("gf_frame_from_columns: %s", err.message);
  for (int i = 0; i < n; i++) gf_array_release(cols[i]);
  return f;
}

static gf_frame *one_column(const char *name, gf_array *col) {
  const char *names[1] = {name};
  return frame_of(names, &col, 1);
}

/* The text gf_write_csv_stream produces (caller frees), asserting success. */
static char *write_to_string(const gf_frame *f, const gf_csv_write_options *o) {
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  assert_non_null(m);
  gf_error err;
  gf_status st = gf_write_csv_stream(f, m, o, &err);
  fclose(m);
  if (st != GF_OK) fail_msg("gf_write_csv_stream: %s", err.message);
  return text;
}

static void assert_csv(const gf_frame *f, const gf_csv_write_options *o, const char *expected) {
  char *text = write_to_string(f, o);
  assert_string_equal(text, expected);
  free(text);
}

/* Reads a whole file (caller frees), NULL when it does not exist. */
static char *slurp(const char *path) {
  FILE *in = fopen(path, "rb");
  if (!in) return NULL;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  char tmp[4096];
  size_t n;
  while ((n = fread(tmp, 1, sizeof tmp, in)) > 0) fwrite(tmp, 1, n, m);
  fclose(m);
  fclose(in);
  return buf;
}

/* A private scratch directory (removed by remove_dir). */
static char *make_dir(void) {
  char tmpl[] = "/tmp/gf-csvw-XXXXXX";
  char *d = mkdtemp(tmpl);
  assert_non_null(d);
  return strdup(d);
}

/* Number of entries in dir other than . and .. (readdir, not ls: the
 * allocation sweep counts after every one of its runs). */
static int dir_entries(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

static void remove_dir(char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  free(dir);
}

/* ---- quoting and nulls -------------------------------------------------- */

static void strings_are_quoted_exactly_when_needed(void **state) {
  (void)state;
  const char *v[] = {"plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere", " lead",
                     "trail ", "\ttab", "", NULL, "x;y", "é日"};
  gf_frame *f = one_column("s", gft_string_array(gf_type(GF_TYPE_UTF8), v, 12));
  assert_csv(f, NULL,
             "s\nplain\n\"a,b\"\n\"say \"\"hi\"\"\"\n\"two\nlines\"\n\"cr\rhere\"\n"
             "\" lead\"\n\"trail \"\n\"\ttab\"\n\"\"\n\nx;y\né日\n");
  gf_frame_release(f);
}

static void header_names_are_quoted_too(void **state) {
  (void)state;
  const char *names[2] = {"a,b", "say \"x\""};
  gf_array *cols[2] = {gft_int64_array(gf_type(GF_TYPE_INT32), (int64_t[]){1}, NULL, 1),
                       gft_int64_array(gf_type(GF_TYPE_INT32), (int64_t[]){2}, NULL, 1)};
  gf_frame *f = frame_of(names, cols, 2);
  assert_csv(f, NULL, "\"a,b\",\"say \"\"x\"\"\"\n1,2\n");
  gf_csv_write_options o;
  gf_csv_write_options_init(&o);
  o.no_header = true;
  assert_csv(f, &o, "1,2\n");
  gf_frame_release(f);
}

static void null_token_is_written_and_strings_equal_to_it_are_quoted(void **state) {
  (void)state;
  const char *v[] = {"NA", NULL, "", "x", "null", "NULL", "none"};
  const char *names[2] = {"s", "i"};
  gf_array *cols[2] = {gft_string_array(gf_type(GF_TYPE_UTF8), v, 7),
                       gft_int64_array(gf_type(GF_TYPE_INT64), (int64_t[]){1, 2, 3, 4, 5, 6, 7},
                                       (bool[]){true, false, true, true, true, true, true}, 7)};
  gf_frame *f = frame_of(names, cols, 2);
  gf_csv_write_options o;
  gf_csv_write_options_init(&o);
  o.null_value = "NA";
  /* With a non-empty token the empty string needs no quotes; text that
   * readers take for null by default is always quoted. */
  assert_csv(f, &o, "s,i\n\"NA\",1\nNA,NA\n,3\nx,4\n\"null\",5\n\"NULL\",6\nnone,7\n");
  o.null_value = NULL;
  assert_csv(f, &o, "s,i\n\"NA\",1\n,\n\"\",3\nx,4\n\"null\",5\n\"NULL\",6\nnone,7\n");
  gf_frame_release(f);
}

static void other_delimiter_quote_and_line_end(void **state) {
  (void)state;
  const char *v[] = {"a;b", "it's", "c,d", NULL};
  const char *names[2] = {"s", "d"};
  gf_array *cols[2] = {gft_string_array(gf_type(GF_TYPE_UTF8), v, 4),
                       gft_double_array(gf_type(GF_TYPE_FLOAT64), (double[]){-1.5, 2, 3, 4},
                                        NULL, 4)};
  gf_frame *f = frame_of(names, cols, 2);
  gf_csv_write_options o;
  gf_csv_write_options_init(&o);
  o.delimiter = ';';
  o.quote = '\'';
  o.line_end = "\r\n";
  assert_csv(f, &o, "s;d\r\n'a;b';-1.5\r\n'it''s';2.0\r\nc,d;3.0\r\n;4.0\r\n");
  /* A delimiter that can occur inside numbers forces checks on them. */
  o.delimiter = '-';
  o.quote = 0;
  o.line_end = NULL;
  assert_csv(f, &o, "s-d\na;b-\"-1.5\"\nit's-2.0\nc,d-3.0\n-4.0\n");
  gf_frame_release(f);
}

static void bad_dialects_are_rejected(void **state) {
  (void)state;
  gf_frame *f = one_column("x", gft_int64_array(gf_type(GF_TYPE_INT32), (int64_t[]){1}, NULL, 1));
  gf_csv_write_options o;
  gf_error err;
  FILE *m = fopen("/dev/null", "w");
  gf_csv_write_options_init(&o);
  o.delimiter = '\n';
  assert_int_equal(gf_write_csv_stream(f, m, &o, &err), GF_EINVAL);
  gf_csv_write_options_init(&o);
  o.delimiter = '"';
  assert_int_equal(gf_write_csv_stream(f, m, &o, &err), GF_EINVAL);
  gf_csv_write_options_init(&o);
  o.null_value = "a,b";
  assert_int_equal(gf_write_csv_stream(f, m, &o, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "null token"));
  gf_csv_write_options_init(&o);
  o.line_end = "x";
  assert_int_equal(gf_write_csv_stream(f, m, &o, &err), GF_EINVAL);
  gf_csv_write_options_init(&o);
  o.size = 0;
  assert_int_equal(gf_write_csv_stream(f, m, &o, &err), GF_EINVAL);
  assert_int_equal(gf_write_csv_stream(NULL, m, NULL, &err), GF_EINVAL);
  assert_int_equal(gf_write_csv(f, NULL, NULL, &err), GF_EINVAL);
  fclose(m);
  gf_frame_release(f);
}

/* ---- every type ------------------------------------------------------- */

static void every_type_has_its_text(void **state) {
  (void)state;
  const char *names[] = {"b", "i8", "i16", "i32", "i64", "u8", "u64", "f32", "f64",
                         "s", "bin", "d32", "d64", "ts", "tsz", "t32", "dur", "dict", "nul"};
  enum { N = 19 };
  gf_array *cols[N];
  cols[0] = gft_int64_array(gf_type(GF_TYPE_BOOL), (int64_t[]){1, 0, 0}, (bool[]){1, 1, 0}, 3);
  cols[1] = gft_int64_array(gf_type(GF_TYPE_INT8), (int64_t[]){-128, 127, 0}, NULL, 3);
  cols[2] = gft_int64_array(gf_type(GF_TYPE_INT16), (int64_t[]){-32768, 32767, 5}, NULL, 3);
  cols[3] = gft_int64_array(gf_type(GF_TYPE_INT32), (int64_t[]){INT32_MIN, INT32_MAX, -7}, NULL, 3);
  cols[4] = gft_int64_array(gf_type(GF_TYPE_INT64), (int64_t[]){INT64_MIN, INT64_MAX, 0}, NULL, 3);
  cols[5] = gft_int64_array(gf_type(GF_TYPE_UINT8), (int64_t[]){0, 255, 9}, NULL, 3);
  {
    gf_builder *b;
    assert_int_equal(gf_builder_new(gf_type(GF_TYPE_UINT64), NULL, &b, NULL), GF_OK);
    assert_int_equal(gf_builder_append_uint64(b, UINT64_MAX, NULL), GF_OK);
    assert_int_equal(gf_builder_append_uint64(b, 0, NULL), GF_OK);
    assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
    assert_int_equal(gf_builder_finish(b, &cols[6], NULL), GF_OK);
    gf_builder_free(b);
  }
  cols[7] = gft_double_array(gf_type(GF_TYPE_FLOAT32), (double[]){0.1, -2.5, 1e30}, NULL, 3);
  cols[8] = gft_double_array(gf_type(GF_TYPE_FLOAT64), (double[]){0.1, -0.0, 1e300}, NULL, 3);
  cols[9] = gft_string_array(gf_type(GF_TYPE_UTF8), (const char *[]){"x", "", NULL}, 3);
  cols[10] = gft_string_array(gf_type(GF_TYPE_BINARY), (const char *[]){"\x01\xff", "", "AB"}, 3);
  cols[11] = gft_int64_array(gf_type(GF_TYPE_DATE32), (int64_t[]){0, 19723, -1}, NULL, 3);
  cols[12] = gft_int64_array(gf_type(GF_TYPE_DATE64), (int64_t[]){86400000, 0, 0}, NULL, 3);
  cols[13] = gft_int64_array(gf_type_timestamp(GF_UNIT_MILLI, false, 0),
                             (int64_t[]){1704164645250, 0, -1}, NULL, 3);
  cols[14] = gft_int64_array(gf_type_timestamp(GF_UNIT_SECOND, true, 330),
                             (int64_t[]){0, 60, 3600}, NULL, 3);
  cols[15] = gft_int64_array(gf_type_time(GF_TYPE_TIME32, GF_UNIT_SECOND),
                             (int64_t[]){3661, 0, 86399}, NULL, 3);
  cols[16] = gft_int64_array(gf_type_duration(GF_UNIT_MILLI), (int64_t[]){1500, -3, 0}, NULL, 3);
  cols[17] = gft_string_array(gf_type_dictionary(gf_type(GF_TYPE_UTF8)),
                              (const char *[]){"red", "a,b", "red"}, 3);
  cols[18] = gft_int64_array(gf_type(GF_TYPE_NULL), (int64_t[]){0, 0, 0}, (bool[]){0, 0, 0}, 3);
  gf_frame *f = frame_of(names, cols, N);

  char *text = write_to_string(f, NULL);
  /* Each value's text must be what gf_array_format_value gives (ISO style),
   * except nulls (empty), strings (quoted as needed) and floats (checked
   * below against round-trip). */
  const char *expected =
      "b,i8,i16,i32,i64,u8,u64,f32,f64,s,bin,d32,d64,ts,tsz,t32,dur,dict,nul\n"
      "true,-128,-32768,-2147483648,-9223372036854775808,0,18446744073709551615,0.1,0.1,x,"
      "01ff,1970-01-01,1970-01-02,2024-01-02T03:04:05.250,1970-01-01T05:30:00+05:30,"
      "01:01:01,1500ms,red,\n"
      "false,127,32767,2147483647,9223372036854775807,255,0,-2.5,-0.0,\"\",,2024-01-01,"
      "1970-01-01,1970-01-01T00:00:00.000,1970-01-01T05:31:00+05:30,00:00:00,-3ms,\"a,b\",\n"
      ",0,5,-7,0,9,,1e+30,1e+300,,4142,1969-12-31,1970-01-01,1969-12-31T23:59:59.999,"
      "1970-01-01T06:30:00+05:30,23:59:59,0ms,red,\n";
  /* Compare the parts the formatter owns against the formatter itself. */
  char buf[128];
  gf_array_format_value(cols[13], 0, buf, sizeof buf);
  assert_non_null(strstr(text, buf));
  gf_array_format_value(cols[14], 1, buf, sizeof buf);
  assert_non_null(strstr(text, buf));
  gf_array_format_value(cols[16], 0, buf, sizeof buf);
  assert_non_null(strstr(text, buf));
  if (strcmp(text, expected) != 0)
    print_message("got:\n%s\nexpected:\n%s\n", text, expected);
  assert_string_equal(text, expected);
  free(text);
  gf_frame_release(f);
}

static void float_text_is_shortest_round_trip(void **state) {
  (void)state;
  const double fixed[] = {0.1,     0.2 + 0.1, 1.0 / 3,  2.0 / 3, 100.0,   123456.789, 5e-324,
                          1e-5,    9.99e-6,   1e15,     1e16,    1e17,    1e21,       -42.125,
                          0.30000000000000004,  1125899906842623.5, 123456789012.0, DBL_MAX,
                          -DBL_MIN, 12.5e-5,  99.999999, 42.5};
  char fast[64], slow[64];
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    int n = gfi_put_double(fast, fixed[i]);
    fast[n] = '\0';
    gfi_format_double(slow, sizeof slow, fixed[i]);
    assert_string_equal(fast, slow);
    assert_true(gfi_strtod(fast, NULL) == fixed[i]);
  }
  uint64_t s = 42;
  for (int i = 0; i < (GFT_SANITIZED ? 20000 : 200000); i++) {
    uint64_t r = gft_rand_next(&s);
    double v;
    switch (i % 4) {
      case 0: v = (double)(int64_t)(r % 100000000) / 1e6; break; /* 6 decimals */
      case 1: v = (double)(int64_t)(r % 2000001 - 1000000) / 1e3; break;
      case 2: v = (double)(r >> 11) * 0x1.0p-53 * 1e6; break;     /* full precision */
      default: memcpy(&v, &r, sizeof v); if (!isfinite(v)) v = 1.5; break;
    }
    int n = gfi_put_double(fast, v);
    fast[n] = '\0';
    gfi_format_double(slow, sizeof slow, v);
    if (strcmp(fast, slow) != 0) fail_msg("%.17g: fast '%s' slow '%s'", v, fast, slow);
    assert_true(gfi_strtod(fast, NULL) == v);
  }
}

static void output_ignores_comma_decimal_locale(void **state) {
  (void)state;
  gf_frame *f = one_column("x", gft_double_array(gf_type(GF_TYPE_FLOAT64),
                                                 (double[]){1.5, 0.123456789012, 1e-9}, NULL, 3));
  bool changed = gft_set_comma_locale();
  char *text = write_to_string(f, NULL);
  gft_reset_locale();
  if (!changed) print_message("note: no comma-decimal locale available\n");
  assert_string_equal(text, "x\n1.5\n0.123456789012\n1e-09\n");
  free(text);
  gf_frame_release(f);
}

/* ---- parallel determinism -------------------------------------------- */

static void output_is_identical_for_any_workers_and_chunk_size(void **state) {
  (void)state;
  gf_datatype types[GFT_MAX_TYPES];
  int nt = gft_all_types(types, GFT_MAX_TYPES);
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(types, nt, 20000, 7, 0.1, 1234, NULL, &f), GF_OK);
  gf_parallel_options p;
  gf_csv_write_options o;
  gf_csv_write_options_init(&o);
  gf_parallel_options_init(&p);
  p.num_workers = 1;
  o.parallel = &p;
  char *reference = write_to_string(f, &o);
  assert_true(strlen(reference) > 20000);
  const int workers[] = {1, 2, 3, 8};
  const int64_t chunks[] = {0, 1, 7, 1000, 4096, 65536};
  for (size_t wi = 0; wi < 4; wi++) {
    for (size_t ci = 0; ci < 6; ci++) {
      gf_parallel_options_init(&p);
      p.num_workers = workers[wi];
      p.chunk_rows = chunks[ci];
      p.min_parallel_rows = 0;
      char *text = write_to_string(f, &o);
      if (strcmp(text, reference) != 0)
        fail_msg("output differs at %d workers, chunk_rows %lld", workers[wi],
                 (long long)chunks[ci]);
      free(text);
    }
  }
  /* Strategies change chunking only. */
  for (int s = GF_STRATEGY_AUTO; s <= GF_STRATEGY_MEMORY_BOUND; s++) {
    gf_parallel_options_init(&p);
    p.strategy = (gf_strategy)s;
    p.num_workers = 3;
    p.min_parallel_rows = 0;
    char *text = write_to_string(f, &o);
    assert_string_equal(text, reference);
    free(text);
  }
  free(reference);
  gf_frame_release(f);
}

/* ---- files and failures ------------------------------------------------ */

static void file_is_written_with_normal_permissions(void **state) {
  (void)state;
  char *dir = make_dir();
  char path[512];
  snprintf(path, sizeof path, "%s/out.csv", dir);
  gf_frame *f = one_column("x", gft_int64_array(gf_type(GF_TYPE_INT32), (int64_t[]){1, 2}, NULL, 2));
  gf_error err;
  assert_int_equal(gf_write_csv(f, path, NULL, &err), GF_OK);
  char *text = slurp(path);
  assert_string_equal(text, "x\n1\n2\n");
  free(text);
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  mode_t mask = umask(022);
  umask(mask);
  assert_int_equal(sb.st_mode & 0777, 0666 & ~mask);
  /* Overwriting keeps the existing file's mode. */
  assert_int_equal(chmod(path, 0640), 0);
  assert_int_equal(gf_write_csv(f, path, NULL, &err), GF_OK);
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0640);
  assert_int_equal(dir_entries(dir), 1);
  gf_frame_release(f);
  remove_dir(dir);
}

static void unwritable_targets_fail_with_the_path(void **state) {
  (void)state;
  gf_frame *f = one_column("x", gft_int64_array(gf_type(GF_TYPE_INT32), (int64_t[]){1}, NULL, 1));
  gf_error err;
  assert_int_equal(gf_write_csv(f, "/nonexistent-gf-dir/out.csv", NULL, &err), GF_EIO);
  assert_non_null(strstr(err.message, "/nonexistent-gf-dir/out.csv"));
  assert_non_null(strstr(err.message, strerror(ENOENT)));
  char *dir = make_dir();
  assert_int_equal(gf_write_csv(f, dir, NULL, &err), GF_EIO);
  assert_non_null(strstr(err.message, strerror(EISDIR)));
  assert_int_equal(dir_entries(dir), 0);
  remove_dir(dir);
  gf_frame_release(f);
}

static void stream_write_errors_are_reported(void **state) {
  (void)state;
  FILE *full = fopen("/dev/full", "w");
  if (!full) skip();
  gf_datatype t = gf_type(GF_TYPE_INT64);
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(&t, 1, 50000, 1, 0, 5, NULL, &f), GF_OK);
  gf_error err;
  assert_int_equal(gf_write_csv_stream(f, full, NULL, &err), GF_EIO);
  assert_non_null(strstr(err.message, strerror(ENOSPC)));
  fclose(full);
  gf_frame_release(f);
}

static void cancelled_write_leaves_no_file_and_keeps_the_old_one(void **state) {
  (void)state;
  char *dir = make_dir();
  char path[512];
  snprintf(path, sizeof path, "%s/out.csv", dir);
  FILE *old = fopen(path, "w");
  fputs("old contents\n", old);
  fclose(old);
  gf_datatype t = gf_type(GF_TYPE_FLOAT64);
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(&t, 1, 100000, 2, 0, 5, NULL, &f), GF_OK);
  gf_cancel *c;
  assert_int_equal(gf_cancel_new(&c, NULL), GF_OK);
  gf_cancel_request(c);
  gf_parallel_options p;
  gf_parallel_options_init(&p);
  p.cancel = c;
  gf_csv_write_options o;
  gf_csv_write_options_init(&o);
  o.parallel = &p;
  gf_error err;
  assert_int_equal(gf_write_csv(f, path, &o, &err), GF_ECANCELED);
  char *text = slurp(path);
  assert_string_equal(text, "old contents\n");
  free(text);
  assert_int_equal(dir_entries(dir), 1);
  gf_cancel_free(c);
  gf_frame_release(f);
  remove_dir(dir);
}

/* One gf_write_csv under a failing allocator (gft_alloc_sweep callback). */
typedef struct write_sweep {
  const gf_frame *f;
  const char *dir, *path, *expect;
  gf_parallel_options p;
} write_sweep;

static gf_status write_once(void *user, const gf_allocator *a) {
  write_sweep *s = user;
  s->p.allocator = a;
  gf_csv_write_options o;
  gf_csv_write_options_init(&o);
  o.parallel = &s->p;
  gf_error err;
  gf_status st = gf_write_csv(s->f, s->path, &o, &err);
  if (st == GF_OK) {
    char *got = slurp(s->path);
    if (!got || strcmp(got, s->expect) != 0) fail_msg("%s: wrong file", gft_sweep_at());
    free(got);
    unlink(s->path); /* every run starts from an empty directory */
  } else if (dir_entries(s->dir) != 0) {
    fail_msg("%s: a failed write left a file", gft_sweep_at());
  }
  return st;
}

/* Every allocation of a CSV write failed, one-off and persistent, at 1 and
 * 2 workers: GF_ENOMEM, no output or temporary file, nothing leaked, and
 * the right bytes once it runs clean. */
static void failed_allocations_leave_no_file_and_no_leak(void **state) {
  (void)state;
  char *dir = make_dir();
  char path[512];
  snprintf(path, sizeof path, "%s/out.csv", dir);
  gf_datatype types[GFT_MAX_TYPES];
  int nt = gft_all_types(types, GFT_MAX_TYPES);
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(types, nt, 3000, 3, 0.2, 99, NULL, &f), GF_OK);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  char *expect = write_to_string(f, NULL);
  gft_sweep_counts counts = {0};
  for (int w = 1; w <= 2; w++) {
    write_sweep s = {f, dir, path, expect, {0}};
    gf_parallel_options_init(&s.p);
    s.p.num_workers = w;
    s.p.chunk_rows = 500;
    s.p.min_parallel_rows = 0;
    gft_alloc_sweep("CSV write", fa, write_once, &s, &counts);
  }
  assert_true(counts.sites > 4);
  gft_sweep_print("CSV write", &counts);
  free(expect);
  gf_failing_allocator_free(fa);
  gf_frame_release(f);
  remove_dir(dir);
}

/* ---- round trip through the reader ----------------------------------------- */

/* Text of row `row` of column `col` ("<null>" for nulls) into buf. */
static void cell_text(const gf_frame *f, int col, int64_t row, char *buf, size_t size) {
  int b = 0;
  while (row >= gf_frame_batch_offset(f, b) + gf_frame_batch_rows(f, b)) b++;
  const gf_array *a = gf_frame_column(f, b, col);
  int64_t i = row - gf_frame_batch_offset(f, b);
  if (gf_array_is_null(a, i))
    snprintf(buf, size, "<null>");
  else
    gf_array_format_value(a, i, buf, size);
}

static void every_type_reads_back_as_written(void **state) {
  (void)state;
  const gf_datatype types[] = {
      gf_type(GF_TYPE_BOOL),    gf_type(GF_TYPE_INT8),    gf_type(GF_TYPE_INT16),
      gf_type(GF_TYPE_INT32),   gf_type(GF_TYPE_INT64),   gf_type(GF_TYPE_UINT8),
      gf_type(GF_TYPE_UINT16),  gf_type(GF_TYPE_UINT32),  gf_type(GF_TYPE_UINT64),
      gf_type(GF_TYPE_FLOAT32), gf_type(GF_TYPE_FLOAT64), gf_type(GF_TYPE_UTF8),
      gf_type(GF_TYPE_LARGE_UTF8), gf_type(GF_TYPE_DATE32), gf_type(GF_TYPE_DATE64),
      gf_type_timestamp(GF_UNIT_MILLI, false, 0), gf_type_timestamp(GF_UNIT_MICRO, true, 0),
      gf_type_timestamp(GF_UNIT_SECOND, true, 330), gf_type_time(GF_TYPE_TIME32, GF_UNIT_SECOND),
      gf_type_time(GF_TYPE_TIME64, GF_UNIT_NANO), gf_type_duration(GF_UNIT_MILLI),
      gf_type_dictionary(gf_type(GF_TYPE_UTF8))};
  const int nt = (int)(sizeof types / sizeof types[0]);
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(types, nt, 5000, 3, 0.1, 77, NULL, &f), GF_OK);
  char *dir = make_dir();
  char path[512];
  snprintf(path, sizeof path, "%s/rt.csv", dir);
  gf_error err;
  if (gf_write_csv(f, path, NULL, &err) != GF_OK) fail_msg("write: %s", err.message);

  /* Ask the reader for each written type; types it cannot be told to
   * produce (yet) are read as it infers them, which must give the same
   * text for every value. */
  gf_csv_column_type overrides[32];
  bool forced[32];
  int nforced = 0;
  gf_csv_read_options ro;
  gf_frame *back = NULL;
  for (int c = 0; c < nt; c++) {
    const char *name = gf_schema_field(gf_frame_schema(f), c)->name;
    gf_csv_column_type one = {name, types[c]};
    gf_csv_read_options_init(&ro);
    ro.header = 1;
    ro.column_types = &one;
    ro.num_column_types = 1;
    ro.columns = &name;
    ro.num_columns = 1;
    gf_status st = gf_read_csv(path, &ro, &back, &err);
    forced[c] = st == GF_OK;
    if (st == GF_OK)
      overrides[nforced++] = one;
    else if (st == GF_ENOTSUP)
      print_message("note: the reader cannot be asked for %s: %s\n", name, err.message);
    else
      fail_msg("read of %s: %s", name, err.message);
    gf_frame_release(back);
    back = NULL;
  }
  gf_csv_read_options_init(&ro);
  ro.header = 1;
  ro.column_types = overrides;
  ro.num_column_types = nforced;
  if (gf_read_csv(path, &ro, &back, &err) != GF_OK) fail_msg("read: %s", err.message);
  assert_int_equal(gf_frame_num_rows(back), 5000);
  assert_int_equal(gf_frame_num_columns(back), nt);
  int bad_columns = 0;
  for (int c = 0; c < nt; c++) {
    char tname[64], got_t[64], want[256], got[256];
    gf_type_format(types[c], tname, sizeof tname);
    gf_type_format(gf_schema_field(gf_frame_schema(back), c)->type, got_t, sizeof got_t);
    if (forced[c] && !gf_type_equals(gf_type_value(types[c]),
                        gf_type_value(gf_schema_field(gf_frame_schema(back), c)->type))) {
      print_message("column %d (%s) read back as %s\n", c, tname, got_t);
      bad_columns++;
      continue;
    }
    for (int64_t r = 0; r < 5000; r++) {
      cell_text(f, c, r, want, sizeof want);
      cell_text(back, c, r, got, sizeof got);
      if (strcmp(want, got) != 0) {
        print_message("column %d (%s) row %lld: wrote '%s', read '%s'\n", c, tname,
                      (long long)r, want, got);
        bad_columns++;
        break;
      }
    }
  }
  assert_int_equal(bad_columns, 0);
  gf_frame_release(back);
  gf_frame_release(f);
  remove_dir(dir);
}

static void empty_frames_write_just_the_header(void **state) {
  (void)state;
  gf_frame *f = one_column("x", gft_int64_array(gf_type(GF_TYPE_INT32), NULL, NULL, 0));
  assert_csv(f, NULL, "x\n");
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(strings_are_quoted_exactly_when_needed),
      cmocka_unit_test(header_names_are_quoted_too),
      cmocka_unit_test(null_token_is_written_and_strings_equal_to_it_are_quoted),
      cmocka_unit_test(other_delimiter_quote_and_line_end),
      cmocka_unit_test(bad_dialects_are_rejected),
      cmocka_unit_test(every_type_has_its_text),
      cmocka_unit_test(float_text_is_shortest_round_trip),
      cmocka_unit_test(output_ignores_comma_decimal_locale),
      cmocka_unit_test(output_is_identical_for_any_workers_and_chunk_size),
      cmocka_unit_test(file_is_written_with_normal_permissions),
      cmocka_unit_test(unwritable_targets_fail_with_the_path),
      cmocka_unit_test(stream_write_errors_are_reported),
      cmocka_unit_test(cancelled_write_leaves_no_file_and_keeps_the_old_one),
      cmocka_unit_test(failed_allocations_leave_no_file_and_no_leak),
      cmocka_unit_test(every_type_reads_back_as_written),
      cmocka_unit_test(empty_frames_write_just_the_header),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
