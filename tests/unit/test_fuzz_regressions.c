/* Fuzz regressions: every input in tests/fuzz/regressions/ (a crash, leak
 * or property violation found by a fuzz target, file name prefixed with the
 * target: csv-, expr-, cdata-, ipc_file-, ipc_stream-) and every seed of
 * tests/fuzz/corpus/ is replayed through the same target code the fuzzers
 * run (the fuzz_*.c sources are compiled in here), so a fixed bug that comes
 * back fails the ordinary test suite (leaks show in the sanitizer builds;
 * property violations abort). The inputs whose fix changed behaviour also
 * get explicit assertions below. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gopherframe.h"

/* The fuzz targets, each under its own entry point name. */
#define LLVMFuzzerTestOneInput fuzz_csv_one
#include "../fuzz/fuzz_csv.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_expr_one
#include "../fuzz/fuzz_expr.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_cdata_one
#include "../fuzz/fuzz_cdata_import.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_ipc_file_one
#include "../fuzz/fuzz_ipc_file.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_ipc_stream_one
#include "../fuzz/fuzz_ipc_stream.c"
#undef LLVMFuzzerTestOneInput

typedef int (*fuzz_fn)(const uint8_t *, size_t);

/* tests/fuzz/<sub>, found from GF_TEST_DATA (tests/data, set by ctest) or
 * from the working directory for manual runs. */
static void fuzz_path(const char *sub, char *out, size_t n) {
  const char *data = getenv("GF_TEST_DATA");
  if (data && *data)
    snprintf(out, n, "%s/../fuzz/%s", data, sub);
  else
    snprintf(out, n, "tests/fuzz/%s", sub);
}

static uint8_t *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* Feeds every file of `dir` whose name starts with `prefix` to `fn`;
 * returns how many were replayed. */
static int replay_dir(const char *dir, const char *prefix, fuzz_fn fn) {
  DIR *d = opendir(dir);
  if (!d) fail_msg("cannot open directory %s", dir);
  int count = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t len;
    uint8_t *buf = read_all(path, &len);
    fn(buf, len);
    free(buf);
    count++;
  }
  closedir(d);
  return count;
}

static void test_regression_inputs_replay_cleanly(void **state) {
  (void)state;
  char dir[512];
  fuzz_path("regressions", dir, sizeof dir);
  int n = replay_dir(dir, "csv-", fuzz_csv_one) + replay_dir(dir, "expr-", fuzz_expr_one) +
          replay_dir(dir, "cdata-", fuzz_cdata_one) +
          replay_dir(dir, "ipc_file-", fuzz_ipc_file_one) +
          replay_dir(dir, "ipc_stream-", fuzz_ipc_stream_one);
  assert_true(n >= 3);
}

static void test_seed_corpora_replay_cleanly(void **state) {
  (void)state;
  char dir[512];
  fuzz_path("corpus/csv", dir, sizeof dir);
  assert_true(replay_dir(dir, "", fuzz_csv_one) > 0);
  fuzz_path("corpus/expr", dir, sizeof dir);
  assert_true(replay_dir(dir, "", fuzz_expr_one) > 0);
  fuzz_path("corpus/cdata", dir, sizeof dir);
  assert_true(replay_dir(dir, "", fuzz_cdata_one) > 0);
  fuzz_path("corpus/ipc", dir, sizeof dir);
  assert_true(replay_dir(dir, "", fuzz_ipc_file_one) > 0);
  assert_true(replay_dir(dir, "", fuzz_ipc_stream_one) > 0);
}

/* expr-leak-*: a literal followed by an invalid token leaked the literal;
 * the parse must fail with GF_EPARSE (leak checked by the ASan build). */
static void test_parse_error_after_literal_is_reported_without_leak(void **state) {
  (void)state;
  static const char *const texts[] = {"pow(f, 2\x16) + 1", "-92233720368\xe1 + 1", "1.5\x01",
                                      "'s'\x02", "true\x7f", "date '2024-01-01'\x03",
                                      "-2.5e3\x04"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    gf_expr *e = NULL;
    gf_error err;
    assert_int_equal(gf_expr_parse(texts[i], &e, &err), GF_EPARSE);
    assert_null(e);
  }
}

/* expr-roundtrip-*: a float literal overflowing to infinity printed as a
 * cast and did not parse back to an equal tree; it is now refused. */
static void test_overflowing_float_literal_is_refused(void **state) {
  (void)state;
  gf_expr *e = NULL;
  gf_error err;
  assert_int_equal(gf_expr_parse("-9077E1873 - 1", &e, &err), GF_EPARSE);
  assert_non_null(strstr(err.message, "out of range"));
  assert_int_equal(gf_expr_parse("1e400", &e, &err), GF_EPARSE);
  /* Large finite and underflowing literals still parse and round-trip. */
  assert_int_equal(gf_expr_parse("1.7976931348623157e308 + 1e-400", &e, &err), GF_OK);
  char *text = NULL;
  assert_int_equal(gf_expr_to_string(e, &text, &err), GF_OK);
  gf_expr *back = NULL;
  assert_int_equal(gf_expr_parse(text, &back, &err), GF_OK);
  assert_true(gf_expr_equals(e, back));
  gf_mem_free(text);
  gf_expr_release(back);
  gf_expr_release(e);
}

/* cdata-dictionary-of-null-values: a dictionary whose values have format
 * "n" imported as dictionary<null>, a type gf_type_validate refuses, so the
 * imported array failed validation; it is now GF_ENOTSUP. */
static void test_dictionary_of_null_values_is_refused(void **state) {
  (void)state;
  struct ArrowSchema dict = {0}, schema = {0};
  dict.format = "n";
  dict.name = "";
  dict.release = release_schema;
  schema.format = "i";
  schema.name = "x";
  schema.dictionary = &dict;
  schema.release = release_schema;
  gf_datatype t;
  gf_error err;
  assert_int_equal(gf_type_import(&schema, &t, &err), GF_ENOTSUP);
  assert_non_null(strstr(err.message, "null"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_regression_inputs_replay_cleanly),
      cmocka_unit_test(test_seed_corpora_replay_cleanly),
      cmocka_unit_test(test_parse_error_after_literal_is_reported_without_leak),
      cmocka_unit_test(test_overflowing_float_literal_is_refused),
      cmocka_unit_test(test_dictionary_of_null_values_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
