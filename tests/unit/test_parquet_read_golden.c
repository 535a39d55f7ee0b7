/* Golden files: every Parquet file of parquet-testing's data/ and
 * bad_data/ and every generated file of tests/data/parquet/gen/ is listed
 * in tests/data/parquet/expected.txt with what pyarrow reads from it (made
 * by tests/data/parquet/make_expected.py). Files pyarrow reads are compared
 * with ours value by value (a digest of every value, plus every value of
 * small files); files we refuse by design must fail with GF_ENOTSUP and the
 * expected keyword; files pyarrow cannot read must fail cleanly here too.
 * A file of the directories missing from the list fails the test.
 * GF_PARQUET_TESTING points at the parquet-testing checkout (ctest sets it
 * to ../shared/parquet-testing); without it the testing files are skipped
 * with a message and only the generated ones run. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gopherframe.h"

static long long values_checked, files_read, files_refused, files_failed, failures;

/* Reports a mismatch and lets the run go on, so that one run lists every
 * file that differs; the test fails at the end. */
#define BAD(...)                 \
  do {                           \
    print_message(__VA_ARGS__);  \
    print_message("\n");         \
    failures++;                  \
  } while (0)

static uint64_t fnv_add(uint64_t h, const char *s) {
  for (; *s; s++) {
    h ^= (uint8_t)*s;
    h *= 0x100000001B3ull;
  }
  h ^= '\n';
  return h * 0x100000001B3ull;
}

static void hex(const uint8_t *p, int64_t n, char *out) {
  static const char d[] = "0123456789abcdef";
  for (int64_t i = 0; i < n; i++) {
    out[2 * i] = d[p[i] >> 4];
    out[2 * i + 1] = d[p[i] & 15];
  }
  out[2 * n] = 0;
}

/* The token of value i of `a` (see make_expected.py); `buf` is large. */
static void token(const gf_array *a, int64_t i, char *buf) {
  if (gf_array_is_null(a, i)) {
    strcpy(buf, "N");
    return;
  }
  gf_datatype t = gf_array_type(a);
  gf_type_id id = t.id == GF_TYPE_DICTIONARY ? t.value_id : t.id;
  const uint8_t *data = gf_array_buffer(a, 1);
  int64_t off = gf_array_offset(a);
  switch (id) {
  case GF_TYPE_BOOL:
    strcpy(buf, gf_array_get_bool(a, i) ? "1" : "0");
    return;
  case GF_TYPE_UINT64:
    sprintf(buf, "%llu", (unsigned long long)gf_array_get_uint64(a, i));
    return;
  case GF_TYPE_FLOAT32: {
    uint32_t u;
    memcpy(&u, data + (off + i) * 4, 4);
    sprintf(buf, "%08x", u);
    return;
  }
  case GF_TYPE_FLOAT64: {
    uint64_t u;
    memcpy(&u, data + (off + i) * 8, 8);
    sprintf(buf, "%016llx", (unsigned long long)u);
    return;
  }
  case GF_TYPE_DECIMAL128:
  case GF_TYPE_DECIMAL256: {
    int w = id == GF_TYPE_DECIMAL128 ? 16 : 32;
    hex(data + (off + i) * w, w, buf);
    return;
  }
  case GF_TYPE_UTF8:
  case GF_TYPE_LARGE_UTF8:
  case GF_TYPE_BINARY:
  case GF_TYPE_LARGE_BINARY:
  case GF_TYPE_FIXED_SIZE_BINARY: {
    int64_t n;
    const char *p = gf_array_get_bytes(a, i, &n);
    buf[0] = 'x';
    hex((const uint8_t *)p, n, buf + 1);
    return;
  }
  default:
    sprintf(buf, "%lld", (long long)gf_array_get_int64(a, i));
    return;
  }
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  if (fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
  s[n] = 0;
  fclose(f);
  *len = (size_t)n;
  return s;
}

/* Splits the text into lines in place. */
static char **lines_of(char *s, int *n) {
  int cap = 1024, k = 0;
  char **v = malloc((size_t)cap * sizeof *v);
  for (char *p = s; *p;) {
    char *e = strchr(p, '\n');
    if (e) *e = 0;
    if (k == cap) v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
    v[k++] = p;
    if (!e) break;
    p = e + 1;
  }
  *n = k;
  return v;
}

static void path_of(const char *rel, const char *testing, const char *gen, char *out, size_t n) {
  if (!strncmp(rel, "testing/", 8))
    snprintf(out, n, "%s/%s", testing, rel + 8);
  else
    snprintf(out, n, "%s/%s", gen, rel + 4);
}

/* Checks one "ok" entry: lines[*i] is the first "col" line. */
static bool check_ok(const char *path, const gf_frame *f, char **lines, int *i, int nlines,
                     long long rows, int ncols) {
  char *buf = NULL;
  if (gf_frame_num_rows(f) != rows || gf_frame_num_columns(f) != ncols)
    { BAD("%s: %lld rows x %d columns, expected %lld x %d", path,
             (long long)gf_frame_num_rows(f), gf_frame_num_columns(f), rows, ncols); free(buf); return false; }
  buf = malloc(1 << 20);
  for (int c = 0; c < ncols; c++, (*i)++) {
    char namehex[512], type[256], digest[32];
    long long nulls;
    if (*i >= nlines || sscanf(lines[*i], "col %511s %255s %lld %31s", namehex, type, &nulls, digest) != 4)
      { BAD("%s: expected.txt is malformed at column %d", path, c); free(buf); return false; }
    const gf_field *fld = gf_schema_field(gf_frame_schema(f), c);
    char got_hex[512];
    hex((const uint8_t *)fld->name, (int64_t)strlen(fld->name) < 200 ? (int64_t)strlen(fld->name) : 200, got_hex);
    if (strcmp(got_hex, namehex)) { BAD("%s: column %d is named '%s'", path, c, fld->name); free(buf); return false; }
    char tname[256];
    gf_type_format(fld->type, tname, sizeof tname);
    for (char *p = tname; *p; p++)
      if (*p == ' ') *p = '_';
    if (strcmp(tname, type)) { BAD("%s: column '%s' has type %s, pyarrow %s", path, fld->name, tname, type); free(buf); return false; }
    const char *vals = NULL;
    if (*i + 1 < nlines && !strncmp(lines[*i + 1], "vals", 4)) vals = lines[*i + 1] + 4;
    uint64_t h = 0xCBF29CE484222325ull;
    long long got_nulls = 0, row = 0;
    for (int b = 0; b < gf_frame_num_batches(f); b++) {
      const gf_array *a = gf_frame_column(f, b, c);
      got_nulls += gf_array_null_count(a);
      for (int64_t r = 0; r < gf_array_length(a); r++, row++) {
        token(a, r, buf);
        h = fnv_add(h, buf);
        values_checked++;
        if (vals) {
          while (*vals == ' ') vals++;
          size_t n = strcspn(vals, " ");
          if (n != strlen(buf) || strncmp(vals, buf, n))
            { BAD("%s: column '%s' row %lld: got %s, pyarrow %.*s", path, fld->name, row, buf,
                     (int)(n < 200 ? n : 200), vals); free(buf); return false; }
          vals += n;
        }
      }
    }
    if (got_nulls != nulls) { BAD("%s: column '%s' has %lld nulls, pyarrow %lld", path, fld->name, got_nulls, nulls); free(buf); return false; }
    char hx[32];
    snprintf(hx, sizeof hx, "%016llx", (unsigned long long)h);
    if (strcmp(hx, digest)) { BAD("%s: column '%s': values differ from pyarrow's (digest)", path, fld->name); free(buf); return false; }
    if (vals) (*i)++;
  }
  free(buf);
  return true;
}

static void every_file_reads_or_fails_cleanly(void **state) {
  (void)state;
  const char *data = getenv("GF_TEST_DATA");
  if (!data) data = "tests/data";
  const char *testing = getenv("GF_PARQUET_TESTING");
  if (!testing) testing = "../shared/parquet-testing";
  struct stat sb;
  bool have_testing = stat(testing, &sb) == 0;
  if (!have_testing) print_message("note: %s not found: parquet-testing files skipped\n", testing);
  char exp[1024], gen[1024];
  snprintf(exp, sizeof exp, "%s/parquet/expected.txt", data);
  snprintf(gen, sizeof gen, "%s/parquet/gen", data);
  size_t len;
  char *text = slurp(exp, &len);
  if (!text) fail_msg("cannot read %s", exp);
  int n;
  char **lines = lines_of(text, &n);
  int listed = 0;
  for (int i = 0; i < n; i++) {
    if (strncmp(lines[i], "file ", 5)) continue;
    const char *rel = lines[i] + 5;
    listed++;
    if (!strncmp(rel, "testing/", 8) && !have_testing) continue;
    char path[2048];
    path_of(rel, testing, gen, path, sizeof path);
    const char *what = lines[++i];
    gf_frame *f = NULL;
    gf_error err;
    gf_status st = gf_read_parquet(path, NULL, &f, &err);
    if (!strncmp(what, "ok ", 3)) {
      long long rows;
      int ncols;
      sscanf(what, "ok %lld %d", &rows, &ncols);
      if (st == GF_ENOTSUP && strstr(err.message, "is not available in this build")) {
        /* A build without one of the optional codecs: refused cleanly. */
        print_message("%s: skipped: %s\n", path, err.message);
        while (i + 1 < n && strncmp(lines[i + 1], "end", 3)) i++;
        continue;
      }
      if (st != GF_OK) { BAD("%s: %s %s", path, gf_status_name(st), err.message); continue; }
      i++;
      if (!check_ok(path, f, lines, &i, n, rows, ncols))
        while (i + 1 < n && strncmp(lines[i + 1], "end", 3)) i++;
      gf_frame_release(f);
      files_read++;
    } else if (!strncmp(what, "refused ", 8)) {
      if (st != GF_ENOTSUP)
        { BAD("%s: expected GF_ENOTSUP (%s), got %s %s", path, what + 8, gf_status_name(st),
                 st ? err.message : ""); continue; }
      if (!strstr(err.message, what + 8)) { BAD("%s: message does not name '%s': %s", path, what + 8, err.message); continue; }
      files_refused++;
    } else {
      if (st == GF_OK) {
        gf_frame_release(f);
        {BAD("%s: pyarrow cannot read it but we did", path); continue; }
      }
      if (st != GF_EINVAL && st != GF_ENOTSUP && st != GF_ERANGE)
        { BAD("%s: unexpected status %s: %s", path, gf_status_name(st), err.message); continue; }
      if (!strstr(err.message, path)) { BAD("%s: error does not name the file: %s", path, err.message); continue; }
      files_failed++;
    }
  }
  /* Every file of the directories must be listed. */
  const char *dirs[3] = {NULL, NULL, gen};
  char d0[1100], d1[1100];
  snprintf(d0, sizeof d0, "%s/data", testing);
  snprintf(d1, sizeof d1, "%s/bad_data", testing);
  dirs[0] = have_testing ? d0 : NULL;
  dirs[1] = have_testing ? d1 : NULL;
  for (int k = 0; k < 3; k++) {
    if (!dirs[k]) continue;
    DIR *dd = opendir(dirs[k]);
    if (!dd) fail_msg("cannot open %s", dirs[k]);
    struct dirent *e;
    while ((e = readdir(dd))) {
      size_t l = strlen(e->d_name);
      bool pq = (l > 8 && !strcmp(e->d_name + l - 8, ".parquet")) ||
                (l > 18 && !strcmp(e->d_name + l - 18, ".parquet.encrypted"));
      if (!pq) continue;
      char key[600];
      snprintf(key, sizeof key, k == 2 ? "file gen/%s" : k == 0 ? "file testing/data/%s" : "file testing/bad_data/%s",
               e->d_name);
      bool found = false;
      for (int j = 0; j < n && !found; j++) found = !strcmp(lines[j], key);
      if (!found) fail_msg("%s/%s is not in expected.txt: rerun make_expected.py", dirs[k], e->d_name);
    }
    closedir(dd);
  }
  print_message("%d files listed: %lld read (%lld values compared), %lld refused, %lld failed as pyarrow does\n",
                listed, files_read, values_checked, files_refused, files_failed);
  assert_true(files_read > 10);
  assert_int_equal(failures, 0);
  free(lines);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_file_reads_or_fails_cleanly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
