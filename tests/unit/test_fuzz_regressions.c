/* Fuzz regressions: every input in tests/fuzz/regressions/ (a crash, leak
 * or property violation found by a fuzz target, file name prefixed with the
 * target: csv-, expr-, cdata-, ipc_file-, ipc_stream-, parquet-) and every seed of
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
#define LLVMFuzzerTestOneInput fuzz_parquet_one
#include "../fuzz/fuzz_parquet.c"
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
          replay_dir(dir, "ipc_stream-", fuzz_ipc_stream_one) +
          replay_dir(dir, "parquet-", fuzz_parquet_one);
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
  fuzz_path("corpus/parquet", dir, sizeof dir);
  assert_true(replay_dir(dir, "testing_", fuzz_parquet_one) + replay_dir(dir, "gen_", fuzz_parquet_one) > 0);
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

/* Counts the non-overlapping occurrences of `needle` in text[0..n). */
static size_t count_of(const char *text, size_t n, const char *needle) {
  size_t k = strlen(needle), c = 0;
  for (size_t i = 0; i + k <= n;) {
    if (memcmp(text + i, needle, k) == 0) {
      c++;
      i += k;
    } else {
      i++;
    }
  }
  return c;
}

/* The expression shape mutator: output within max_size; over many seeds it
 * makes each promised shape (counted here by naive scans of the text), and
 * the target survives every output. max_size is 64 KiB to keep the
 * sanitizer build quick (in lists are then cut at ~7,000 items). */
static void test_expr_shape_mutator_makes_stress_shapes(void **state) {
  (void)state;
  enum { MAX = 65536 };
  uint8_t *buf = malloc(MAX);
  assert_non_null(buf);
  int chains = 0, unary = 0, parens = 0, lists = 0, made = 0;
  for (unsigned seed = 1; made < 40 && seed < 10000; seed++) {
    memcpy(buf, "i + 1", 5);
    size_t n = expr_shape_mutate(buf, 5, MAX, seed);
    if (n == 0) continue;
    made++;
    assert_true(n <= MAX);
    const char *t = (const char *)buf;
    size_t ops = count_of(t, n, " + ") + count_of(t, n, " * ") + count_of(t, n, " and ") +
                 count_of(t, n, " or ") + count_of(t, n, " - ") + count_of(t, n, " / ");
    if (count_of(t, n, " in (") == 1 && count_of(t, n, ", ") + 1 >= 1000) lists++;
    else if (count_of(t, n, "not ") >= 500 || count_of(t, n, "- - ") >= 250) unary++;
    else if (count_of(t, n, "(") >= 500) parens++;
    else if (ops >= 499) chains++;
    fuzz_expr_one(buf, n);
  }
  assert_int_equal(made, 40);
  assert_true(chains > 0 && unary > 0 && parens > 0 && lists > 0);
  /* A small max_size cuts an `in` list short but keeps it closed. */
  int closed = 0;
  for (unsigned seed = 1; seed < 10000 && !closed; seed++) {
    memcpy(buf, "x", 1);
    size_t n = expr_shape_mutate(buf, 1, 200, seed);
    assert_true(n <= 200);
    if (n > 0 && count_of((const char *)buf, n, " in (") == 1 && buf[0] != '(' &&
        buf[0] != 'x') {
      assert_int_equal(buf[n - 1], ')');
      closed = 1;
    }
  }
  assert_true(closed);
  free(buf);
}

/* The IPC length mutator on every seed file: when it mutates, exactly one
 * 8-aligned word changed, it held a plausible length (1..2^20), the new
 * value is one of the hostile ones; both targets survive the result. */
static void test_ipc_length_mutator_overwrites_one_length(void **state) {
  (void)state;
  char dir[512];
  fuzz_path("corpus/ipc", dir, sizeof dir);
  DIR *d = opendir(dir);
  assert_non_null(d);
  int mutated = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t len;
    uint8_t *orig = read_all(path, &len);
    uint8_t *buf = malloc(len + 1);
    assert_non_null(buf);
    for (unsigned seed = 1; seed <= 24; seed++) {
      memcpy(buf, orig, len);
      if (ipc_length_mutate(buf, len, seed) == 0) {
        assert_memory_equal(buf, orig, len);
        continue;
      }
      size_t at = SIZE_MAX, diffs = 0;
      for (size_t i = 0; i < len; i++)
        if (buf[i] != orig[i]) {
          if (at == SIZE_MAX) at = i - i % 8;
          assert_true(i - at < 8);
          diffs++;
        }
      assert_true(diffs > 0); /* every hostile value differs from 1..2^20 */
      int64_t was = 0, now = 0;
      for (int k = 7; k >= 0; k--) {
        was = (int64_t)((uint64_t)was << 8 | orig[at + (size_t)k]);
        now = (int64_t)((uint64_t)now << 8 | buf[at + (size_t)k]);
      }
      assert_true(was >= 1 && was <= ((int64_t)1 << 20));
      assert_true(now == 0 || now == -1 || now == INT64_MAX || now == INT64_MIN ||
                  now == ((int64_t)1 << 40) || now == ((int64_t)1 << 40) + 1 ||
                  now == ((int64_t)1 << 62) || now == ((int64_t)1 << 31) ||
                  now == ((int64_t)1 << 32) - 1 || now == was + 1 || now == was - 1 ||
                  now == was * 2);
      mutated++;
      fuzz_ipc_file_one(buf, len);
      fuzz_ipc_stream_one(buf, len);
    }
    free(buf);
    free(orig);
  }
  closedir(d);
  assert_true(mutated >= 10);
}

/* The IPC zone mutator on the golden datetime seeds: when it mutates, the
 * bytes that changed lie inside one zone name and keep its length; both
 * targets survive the result (hostile names are refused, not opened). */
static void test_ipc_zone_mutator_swaps_zone_names(void **state) {
  (void)state;
  const char *seeds[] = {"corpus/ipc/golden_generated_datetime.stream",
                         "corpus/ipc/golden_generated_datetime.arrow_file"};
  int mutated = 0;
  for (int f = 0; f < 2; f++) {
    char path[512];
    fuzz_path(seeds[f], path, sizeof path);
    size_t len;
    uint8_t *orig = read_all(path, &len);
    uint8_t *buf = malloc(len + 1);
    assert_non_null(buf);
    for (unsigned seed = 1; seed <= 300; seed++) {
      memcpy(buf, orig, len);
      if (ipc_zone_mutate(buf, len, seed) == 0) {
        assert_memory_equal(buf, orig, len);
        continue;
      }
      size_t first = SIZE_MAX, last = 0;
      for (size_t i = 0; i < len; i++)
        if (buf[i] != orig[i]) {
          if (first == SIZE_MAX) first = i;
          last = i;
        }
      if (first != SIZE_MAX) assert_true(last - first < 12);
      mutated++;
      fuzz_ipc_file_one(buf, len);
      fuzz_ipc_stream_one(buf, len);
    }
    free(buf);
    free(orig);
  }
  assert_true(mutated >= 40);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_regression_inputs_replay_cleanly),
      cmocka_unit_test(test_seed_corpora_replay_cleanly),
      cmocka_unit_test(test_parse_error_after_literal_is_reported_without_leak),
      cmocka_unit_test(test_overflowing_float_literal_is_refused),
      cmocka_unit_test(test_dictionary_of_null_values_is_refused),
      cmocka_unit_test(test_expr_shape_mutator_makes_stress_shapes),
      cmocka_unit_test(test_ipc_length_mutator_overwrites_one_length),
      cmocka_unit_test(test_ipc_zone_mutator_swaps_zone_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
