/* Many files as one frame (files.h): glob expansion against a naive
 * reference matcher written here over a generated tree (`**`, classes,
 * hidden and underscore entries, sort order), directory scans, Hive
 * parsing (URL escapes, the default partition, type inference), the union
 * of files with widening against frames built by hand at 1/2/3/8 workers
 * read concurrently and one by one, partition pruning counted by the
 * files the dispatch opens, the error messages, and allocation failures. */
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
#include <unistd.h>

#include "gf_test_sweep.h"
#include "gopherframe.h"
#include "io/multi_internal.h"

#define OKE(call)                                            \
  do {                                                       \
    gf_status s_ = (call);                                   \
    if (s_ != GF_OK) fail_msg("%s: %s", #call, err.message); \
  } while (0)

static char root[512];

static void mkdirs(const char *rel) {
  char p[2048];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  for (char *s = p + strlen(root) + 1; *s; s++)
    if (*s == '/') {
      *s = '\0';
      mkdir(p, 0755);
      *s = '/';
    }
  mkdir(p, 0755);
}

static void put(const char *rel, const char *text) {
  char p[2048];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  char *slash = strrchr(p, '/');
  if ((size_t)(slash - p) > strlen(root)) {
    *slash = '\0';
    mkdirs(p + strlen(root) + 1);
    *slash = '/';
  }
  FILE *f = fopen(p, "w");
  if (!f) fail_msg("cannot create %s", p);
  fputs(text, f);
  fclose(f);
}

static void rm_tree(const char *path) {
  DIR *d = opendir(path);
  if (!d) {
    unlink(path);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", path, e->d_name);
    rm_tree(p);
  }
  closedir(d);
  rmdir(path);
}

static int setup(void **state) {
  (void)state;
  const char *t = getenv("TMPDIR");
  snprintf(root, sizeof root, "%s/gf_multi_%d", t ? t : "/tmp", (int)getpid());
  rm_tree(root);
  mkdir(root, 0755);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  rm_tree(root);
  return 0;
}

/* ---- the reference matcher ------------------------------------------------ */

/* Character-by-character recursion over the whole relative path: `*`
 * any run without '/', `?` one byte but '/', `[...]` a class (a literal
 * '[' when unterminated within the segment), a `**` segment zero or more
 * whole segments; at a segment start a '.' is matched only by a literal
 * '.' in the pattern. Exponential in the worst case: fine for tests. */
static bool ref(const char *p, const char *s, bool seg_start) {
  if (!*p) return !*s;
  if (seg_start && p[0] == '*' && p[1] == '*' && p[2] == '/') {
    if (ref(p + 3, s, true)) return true;
    const char *q = strchr(s, '/');
    return q && *s != '.' && ref(p, q + 1, true);
  }
  if (seg_start && *s == '.' && *p != '.') return false;
  if (*p == '/') return *s == '/' && ref(p + 1, s + 1, true);
  if (*p == '*') {
    for (const char *q = s;; q++) {
      if (ref(p + 1, q, false)) return true;
      if (!*q || *q == '/') return false;
    }
  }
  if (*p == '?') return *s && *s != '/' && ref(p + 1, s + 1, false);
  if (*p == '[') {
    const char *q = p + 1;
    bool neg = *q == '!' || *q == '^';
    if (neg) q++;
    const char *start = q;
    while (*q && *q != '/' && (*q != ']' || q == start)) q++;
    if (*q == ']') {
      bool in = false;
      for (const char *c = start; c < q; c++) {
        if (c + 2 < q && c[1] == '-') {
          if ((unsigned char)*s >= (unsigned char)c[0] && (unsigned char)*s <= (unsigned char)c[2]) in = true;
          c += 2;
        } else if (*c == *s) {
          in = true;
        }
      }
      return *s && *s != '/' && in != neg && ref(q + 1, s + 1, false);
    }
  }
  return *p == *s && ref(p + 1, s + 1, false);
}

/* Every regular file under root (relative paths), sorted. */
typedef struct list {
  int n;
  char *v[512];
} list;

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void walk(const char *rel, list *out) {
  char p[2048];
  snprintf(p, sizeof p, "%s%s%s", root, rel[0] ? "/" : "", rel);
  DIR *d = opendir(p);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char r[1024], full[2048];
    snprintf(r, sizeof r, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
    snprintf(full, sizeof full, "%s/%s", root, r);
    struct stat sb;
    lstat(full, &sb);
    if (S_ISDIR(sb.st_mode)) walk(r, out);
    else if (S_ISREG(sb.st_mode)) out->v[out->n++] = strdup(r);
  }
  closedir(d);
}

static void make_tree(void) {
  static const char *const files[] = {
      "p1.csv", "p2.tsv", ".hid.csv", "_SUCCESS", "q[1].csv", "r.txt", "Z.csv", "a.arrow",
      "a/p1.csv", "a/b/x.csv", "a/b/c/y.csv", "a/b/c/.h.csv", "a/.hd/z.csv", "a/_t/u.csv",
      "a/b/c/d/e/deep.csv", "b/k=1/p.csv", "b/k=2/p.csv", "b/k=2/p.csv.crc", "b/x-y.csv",
      "B/up.csv", "a/dir.csv/in.csv", "é/ü.csv", "c/[x].csv", "c/x.csv"};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) put(files[i], "a\n1\n");
}

static void test_glob_vs_reference(void **state) {
  (void)state;
  make_tree();
  list all = {0};
  walk("", &all);
  qsort(all.v, (size_t)all.n, sizeof *all.v, cmp);
  static const char *const pats[] = {
      "*.csv", "*", "*/*.csv", "**/*.csv", "a/**/*.csv", "a/b/?.csv", "[a-c]/**/*", "**/[!p]*",
      "**/.*", ".*", "a/.*/*", "**/*[0-9]*", "?/*", "**/c/*.csv", "**/*.[ct]sv", "a/**/c/**/*",
      "[]a]*", "**/k=*/*.csv", "q[1].csv", "c/[[]x].csv", "*/[^a-b]*", "**/ü.csv", "[B]/*",
      "a/*/c/y.csv", "**/d/**/*.csv", "**/dir.csv/*", "**/**/*.csv", "a/**/**/c/**/**/*.csv"};
  gf_error err;
  for (size_t i = 0; i < sizeof pats / sizeof *pats; i++) {
    list want = {0};
    for (int k = 0; k < all.n; k++)
      if (ref(pats[i], all.v[k], true)) want.v[want.n++] = all.v[k];
    char full[1024];
    snprintf(full, sizeof full, "%s/%s", root, pats[i]);
    const char *one = full;
    char **got = NULL;
    int n = 0;
    gf_status st = gf_expand_paths(&one, 1, &got, &n, &err);
    struct stat lit;
    if (stat(full, &lit) == 0) {
      /* A pattern naming an existing file is that file, as is. */
      if (st != GF_OK) fail_msg("%s: %s", pats[i], err.message);
      assert_int_equal(n, 1);
      assert_string_equal(got[0], full);
      gf_mem_free(got);
      continue;
    }
    if (want.n == 0) {
      if (st == GF_OK) fail_msg("pattern %s: %d files, reference none", pats[i], n);
      assert_non_null(strstr(err.message, "no file matches"));
      continue;
    }
    if (st != GF_OK) fail_msg("%s: %s", pats[i], err.message);
    if (n != want.n) {
      for (int k = 0; k < n; k++) fprintf(stderr, "got  %s\n", got[k]);
      for (int k = 0; k < want.n; k++) fprintf(stderr, "want %s\n", want.v[k]);
      fail_msg("pattern %s: %d files, reference %d", pats[i], n, want.n);
    }
    size_t rl = strlen(root) + 1;
    for (int k = 0; k < n; k++) {
      if (strcmp(got[k] + rl, want.v[k]) != 0)
        fail_msg("pattern %s: file %d is %s, reference %s", pats[i], k, got[k] + rl, want.v[k]);
      /* The public whole-path matcher agrees too. */
      if (!gf_glob_match(full, got[k])) fail_msg("gf_glob_match(%s, %s) is false", full, got[k]);
    }
    gf_mem_free(got);
  }
  /* The whole-path matcher over every file and pattern. */
  for (size_t i = 0; i < sizeof pats / sizeof *pats; i++)
    for (int k = 0; k < all.n; k++)
      if (ref(pats[i], all.v[k], true) != gf_glob_match(pats[i], all.v[k]))
        fail_msg("gf_glob_match(%s, %s) differs from the reference", pats[i], all.v[k]);

  /* A directory: data files only, hidden and underscore entries skipped,
   * sorted by bytes (expected list written out by hand). */
  static const char *const dir_want[] = {
      "B/up.csv", "Z.csv", "a.arrow", "a/b/c/d/e/deep.csv", "a/b/c/y.csv", "a/b/x.csv",
      "a/dir.csv/in.csv", "a/p1.csv", "b/k=1/p.csv", "b/k=2/p.csv", "b/x-y.csv", "c/[x].csv",
      "c/x.csv", "p1.csv", "p2.tsv", "q[1].csv", "r.txt", "\xc3\xa9/\xc3\xbc.csv"};
  const char *r = root;
  char **got = NULL;
  int n = 0;
  OKE(gf_expand_paths(&r, 1, &got, &n, &err));
  assert_int_equal(n, (int)(sizeof dir_want / sizeof *dir_want));
  for (int k = 0; k < n; k++) assert_string_equal(got[k] + strlen(root) + 1, dir_want[k]);
  gf_mem_free(got);

  /* Several arguments keep their order; a file named again is dropped. */
  char a1[1024], a2[1024], a3[1024];
  snprintf(a1, sizeof a1, "%s/p1.csv", root);
  snprintf(a2, sizeof a2, "%s/a/**/*.csv", root);
  snprintf(a3, sizeof a3, "%s/*.csv", root);
  const char *three[] = {a1, a2, a3};
  OKE(gf_expand_paths(three, 3, &got, &n, &err));
  /* p1; the a/ glob: 6 (a glob takes _t/ too: only directory scans skip '_');
   * *.csv: Z.csv q[1].csv (p1.csv again dropped). */
  assert_int_equal(n, 1 + 6 + 2);
  assert_string_equal(got[0], a1);
  assert_string_equal(got[1] + strlen(root) + 1, "a/_t/u.csv");
  assert_string_equal(got[7] + strlen(root) + 1, "Z.csv");
  assert_string_equal(got[8] + strlen(root) + 1, "q[1].csv");
  gf_mem_free(got);

  /* Errors: no match, a directory without data files. */
  char bad[1024];
  snprintf(bad, sizeof bad, "%s/nothing/*.csv", root);
  const char *b = bad;
  assert_int_equal(gf_expand_paths(&b, 1, &got, &n, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "no file matches"));
  mkdirs("empty/_x");
  put("empty/_SUCCESS", "");
  put("empty/.a.csv", "a\n");
  put("empty/notes.md", "x");
  snprintf(bad, sizeof bad, "%s/empty", root);
  assert_int_equal(gf_expand_paths(&b, 1, &got, &n, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "no data files"));
  for (int k = 0; k < all.n; k++) free(all.v[k]);
  rm_tree(root);
  mkdir(root, 0755);
}

/* ---- Hive ------------------------------------------------------------------- */

static void test_hive_parse(void **state) {
  (void)state;
  gfi_hive_kv *kv = NULL;
  int n = 0;
  gf_error err;
  OKE(gfi_hive_parse("r/year=2024/m%3D1=x%2Fy/plain/k=__HIVE_DEFAULT_PARTITION__/e=/z=%zz%00%41/"
                     "f=1.csv",
                     &kv, &n, &err));
  assert_int_equal(n, 5);
  assert_string_equal(kv[0].key, "year");
  assert_string_equal(kv[0].value, "2024");
  assert_string_equal(kv[1].key, "m=1");
  assert_string_equal(kv[1].value, "x/y");
  assert_string_equal(kv[2].key, "k");
  assert_null(kv[2].value);
  assert_string_equal(kv[3].key, "e");
  assert_null(kv[3].value);
  assert_string_equal(kv[4].key, "z");
  assert_string_equal(kv[4].value, "%zz%00A"); /* invalid and NUL escapes kept */
  gfi_hive_kv_free(kv, n);
  OKE(gfi_hive_parse("f=1.csv", &kv, &n, &err)); /* the file name is not a partition */
  assert_int_equal(n, 0);
  OKE(gfi_hive_parse("/=x/a=1/f.csv", &kv, &n, &err)); /* an empty key is not one */
  assert_int_equal(n, 1);
  gfi_hive_kv_free(kv, n);

  struct {
    const char *v[4];
    gf_type_id want;
  } cases[] = {
      {{"1", "-2", NULL, "+3"}, GF_TYPE_INT64},
      {{"1", "2.5", NULL, NULL}, GF_TYPE_FLOAT64},
      {{"1e3", "-2", NULL, NULL}, GF_TYPE_FLOAT64},
      {{"9223372036854775808", "1", NULL, NULL}, GF_TYPE_FLOAT64},
      {{"2024-01-02", "2024-02-29", NULL, NULL}, GF_TYPE_DATE32},
      {{"2024-01-02", "2023-02-29", NULL, NULL}, GF_TYPE_UTF8},
      {{"nan", NULL, NULL, NULL}, GF_TYPE_UTF8},
      {{"1", "x", NULL, NULL}, GF_TYPE_UTF8},
      {{NULL, NULL, NULL, NULL}, GF_TYPE_UTF8},
      {{"", NULL, NULL, NULL}, GF_TYPE_UTF8},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    assert_int_equal(gfi_hive_infer(cases[i].v, 4).id, cases[i].want);
}

/* ---- union and widening ---------------------------------------------------- */

static gf_array *ints(const int64_t *v, const bool *valid, int n) {
  gf_builder *b = NULL;
  gf_array *a = NULL;
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_INT64), NULL, &b, NULL), GF_OK);
  for (int i = 0; i < n; i++)
    assert_int_equal(valid[i] ? gf_builder_append_int64(b, v[i], NULL) : gf_builder_append_null(b, NULL), GF_OK);
  assert_int_equal(gf_builder_finish(b, &a, NULL), GF_OK);
  gf_builder_free(b);
  return a;
}

static gf_array *dbls(const double *v, const bool *valid, int n) {
  gf_builder *b = NULL;
  gf_array *a = NULL;
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_FLOAT64), NULL, &b, NULL), GF_OK);
  for (int i = 0; i < n; i++)
    assert_int_equal(valid[i] ? gf_builder_append_double(b, v[i], NULL) : gf_builder_append_null(b, NULL), GF_OK);
  assert_int_equal(gf_builder_finish(b, &a, NULL), GF_OK);
  gf_builder_free(b);
  return a;
}

static gf_array *strs(const char *const *v, int n) {
  gf_builder *b = NULL;
  gf_array *a = NULL;
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_UTF8), NULL, &b, NULL), GF_OK);
  for (int i = 0; i < n; i++)
    assert_int_equal(v[i] ? gf_builder_append_string(b, v[i], NULL) : gf_builder_append_null(b, NULL), GF_OK);
  assert_int_equal(gf_builder_finish(b, &a, NULL), GF_OK);
  gf_builder_free(b);
  return a;
}

static void expect_equal(const gf_frame *got, const gf_frame *want, const char *what) {
  if (gf_frame_equals(got, want)) return;
  gf_print_options po;
  gf_print_options_init(&po);
  fprintf(stderr, "got:\n");
  gf_frame_print(got, &po, stderr, NULL);
  fprintf(stderr, "want:\n");
  gf_frame_print(want, &po, stderr, NULL);
  fail_msg("%s: frames differ", what);
}

static void path_of(char *p, size_t n, const char *rel) { snprintf(p, n, "%s/%s", root, rel); }

static void test_union_widening(void **state) {
  (void)state;
  gf_error err;
  /* Files in path order: u/1.csv, u/2.csv, u/3.arrow, u/4.csv. */
  put("u/1.csv", "id,v,t\n1,10,007\n2,,008\n");
  put("u/2.csv", "id,v,t,extra\n3,2.5,abc,e1\n");
  put("u/4.csv", "t,id\na,5\na,6\na,7\na,8\na,9\n"); /* t: a dictionary */
  {
    /* The IPC file: id int32 via the CSV reader's pinned type, no v. */
    put("u/tmp.csv", "id,extra\n4,e2\n");
    char p[1024], q[1024];
    path_of(p, sizeof p, "u/tmp.csv");
    path_of(q, sizeof q, "u/3.arrow");
    gf_csv_read_options co;
    gf_csv_read_options_init(&co);
    gf_csv_column_type ct = {"id", gf_type(GF_TYPE_INT16)};
    co.column_types = &ct;
    co.num_column_types = 1;
    gf_frame *f = NULL;
    OKE(gf_read_csv(p, &co, &f, &err));
    OKE(gf_write_ipc_file(f, q, NULL, &err));
    gf_frame_release(f);
    unlink(p);
  }
  /* Expected, by hand. */
  int64_t id[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  bool all[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  double v[] = {10, 0, 2.5, 0, 0, 0, 0, 0, 0};
  bool vv[] = {1, 0, 1, 0, 0, 0, 0, 0, 0};
  const char *t[] = {"007", "008", "abc", NULL, "a", "a", "a", "a", "a"};
  const char *extra[] = {NULL, NULL, "e1", "e2", NULL, NULL, NULL, NULL, NULL};
  char f1[1024], f2[1024], f3[1024], f4[1024];
  path_of(f1, sizeof f1, "u/1.csv");
  path_of(f2, sizeof f2, "u/2.csv");
  path_of(f3, sizeof f3, "u/3.arrow");
  path_of(f4, sizeof f4, "u/4.csv");
  const char *fn[] = {f1, f1, f2, f3, f4, f4, f4, f4, f4};
  gf_array *cols[5] = {ints(id, all, 9), dbls(v, vv, 9), strs(t, 9), strs(extra, 9), strs(fn, 9)};
  gf_field fields[5] = {{"id", gf_type(GF_TYPE_INT64), true},
                        {"v", gf_type(GF_TYPE_FLOAT64), true},
                        {"t", gf_type(GF_TYPE_UTF8), true},
                        {"extra", gf_type(GF_TYPE_UTF8), true},
                        {"file", gf_type(GF_TYPE_UTF8), true}};
  gf_schema *sc = NULL;
  OKE(gf_schema_new(fields, 5, &sc, &err));
  gf_frame *want = NULL;
  OKE(gf_frame_new(sc, cols, 1, NULL, &want, &err));
  gf_schema_release(sc);
  for (int i = 0; i < 5; i++) gf_array_release(cols[i]);

  char pat[1024];
  path_of(pat, sizeof pat, "u");
  const char *p = pat;
  static const int workers[] = {1, 2, 3, 8};
  for (int w = 0; w < 4; w++)
    for (int mode = 0; mode < 2; mode++) {
      gf_scan_files_options fo;
      gf_scan_files_options_init(&fo);
      fo.filename_column = "file";
      fo.small_file_bytes = mode ? -1 : 0; /* one by one / concurrently */
      gf_parallel_options po;
      gf_parallel_options_init(&po);
      po.num_workers = workers[w];
      gf_frame *got = NULL;
      OKE(gf_read_files(&p, 1, &fo, &po, &got, &err));
      char what[64];
      snprintf(what, sizeof what, "%d workers, mode %d", workers[w], mode);
      expect_equal(got, want, what);
      gf_frame_release(got);
    }
  /* Projection: only v (and the row count of the files without v). */
  gf_plan *src = NULL, *sel = NULL;
  OKE(gf_plan_scan_files(&p, 1, NULL, NULL, &src, &err));
  const char *vn = "v";
  OKE(gf_plan_select(src, &vn, 1, &sel, &err));
  gf_frame *got = NULL;
  OKE(gf_plan_collect(sel, NULL, &got, &err));
  assert_int_equal(gf_frame_num_rows(got), 9);
  assert_int_equal(gf_frame_num_columns(got), 1);
  assert_true(gf_array_is_null(gf_frame_column(got, 3, 0), 0));
  gf_frame_release(got);
  gf_plan_release(sel);
  gf_plan_release(src);
  gf_frame_release(want);

  /* No common type: the message names the column and both files. */
  put("u/5.csv", "id,t\n2024-01-01,x\n");
  gf_frame *f = (gf_frame *)(uintptr_t)1;
  assert_int_equal(gf_read_files(&p, 1, NULL, NULL, &f, &err), GF_ETYPE);
  assert_true(f == (gf_frame *)(uintptr_t)1);
  assert_non_null(strstr(err.message, "column 'id'"));
  assert_non_null(strstr(err.message, "u/5.csv"));
  assert_non_null(strstr(err.message, "date32"));
  /* A file found to be Parquet by its content goes to the Parquet
   * reader (a truncated one fails naming it, not parsed as CSV);
   * compressed files are refused, named. */
  unlink(pat);
  rm_tree(pat);
  put("u/a.csv", "x\n1\n");
  put("u/b.csv", "PAR1");
  assert_int_not_equal(gf_read_files(&p, 1, NULL, NULL, &f, &err), GF_OK);
  if (!strstr(err.message, "b.csv")) fail_msg("%s", err.message);
  rm_tree(pat);
  put("u/a.csv", "x\n1\n");
  put("u/b.csv.gz", "\x1f\x8b\x08rest");
  assert_int_equal(gf_read_files(&p, 1, NULL, NULL, &f, &err), GF_ENOTSUP);
  assert_non_null(strstr(err.message, "b.csv.gz"));
  assert_non_null(strstr(err.message, "gzip"));
  rm_tree(pat);
}

/* ---- pruning -------------------------------------------------------------------- */

static int64_t run_count(const char *pat, const char *filter, gf_hive_mode hive, int64_t *rows,
                         char **explain) {
  gf_error err;
  gf_scan_files_options fo;
  gf_scan_files_options_init(&fo);
  fo.hive = hive;
  fo.filename_column = "fname";
  gf_plan *src = NULL, *f = NULL;
  OKE(gf_plan_scan_files(&pat, 1, &fo, NULL, &src, &err));
  gf_expr *e = NULL;
  OKE(gf_expr_parse(filter, &e, &err));
  OKE(gf_plan_filter(src, e, &f, &err));
  int64_t before = gfi_files_opened();
  gf_frame *r = NULL;
  OKE(gf_plan_collect(f, NULL, &r, &err));
  int64_t opened = gfi_files_opened() - before;
  *rows = gf_frame_num_rows(r);
  if (explain) OKE(gf_plan_explain(f, GF_PLAN_EXPLAIN_OPTIMIZED, 0, explain, &err));
  gf_frame_release(r);
  gf_expr_release(e);
  gf_plan_release(f);
  gf_plan_release(src);
  return opened;
}

/* Writes `csv` (text) as the Parquet file `rel`, through a CSV read. */
static void put_parquet(const char *rel, const char *csv) {
  gf_error err;
  put("tmp_pq.csv", csv);
  char src[2048], dst[2048];
  snprintf(src, sizeof src, "%s/tmp_pq.csv", root);
  gf_frame *f = NULL;
  OKE(gf_read_csv(src, NULL, &f, &err));
  unlink(src);
  put(rel, ""); /* makes the directories */
  snprintf(dst, sizeof dst, "%s/%s", root, rel);
  unlink(dst);
  OKE(gf_write_parquet(f, dst, NULL, &err));
  gf_frame_release(f);
}

/* Sum of the non-null int64 values of column `name` (a naive loop). */
static int64_t sum_of(const gf_frame *f, const char *name) {
  int c = gf_schema_find(gf_frame_schema(f), name);
  assert_true(c >= 0);
  int64_t s = 0;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *a = gf_frame_column(f, b, c);
    for (int64_t r = 0; r < gf_array_length(a); r++)
      if (!gf_array_is_null(a, r)) s += gf_array_get_int64(a, r);
  }
  return s;
}

/* Directories of Parquet files (Hive partitioned, one without an
 * .csv extension: found by content) and of NDJSON/JSON files, and a directory
 * mixing CSV, Parquet and NDJSON: rows and sums against the values
 * written; partition pruning still counted by the files opened. */
static void test_other_formats(void **state) {
  (void)state;
  gf_error err;
  put_parquet("pq/year=2023/p.parquet", "a,b\n1,x\n2,y\n");
  put_parquet("pq/year=2024/p.parquet", "a,b\n3,z\n");
  put_parquet("pq/year=2024/q.parquet", "a,b\n4,x\n5,\n");
  put_parquet("pq/year=2025/d.csv", "a,b\n7,w\n");
  char pat[1024];
  path_of(pat, sizeof pat, "pq");
  int64_t rows = 0;
  char *ex = NULL;
  assert_int_equal(run_count(pat, "year = 2024", GF_HIVE_AUTO, &rows, &ex), 2);
  assert_int_equal(rows, 3);
  if (!strstr(ex, "files=4 pruned=2")) fail_msg("%s", ex);
  gf_mem_free(ex);
  assert_int_equal(run_count(pat, "a > 1", GF_HIVE_AUTO, &rows, NULL), 4);
  assert_int_equal(rows, 5);
  for (int w = 1; w <= 8; w *= 2) {
    gf_parallel_options po;
    gf_parallel_options_init(&po);
    po.num_workers = w == 4 ? 3 : w;
    const char *p = pat;
    gf_frame *f = NULL;
    OKE(gf_read_files(&p, 1, NULL, &po, &f, &err));
    assert_int_equal(gf_frame_num_rows(f), 6);
    assert_int_equal(sum_of(f, "a"), 1 + 2 + 3 + 4 + 5 + 7);
    assert_int_equal(sum_of(f, "year"), 2023 * 2 + 2024 * 3 + 2025);
    gf_frame_release(f);
  }

  put("nd/k=x/a.ndjson", "{\"a\":1,\"b\":\"u\"}\n{\"a\":2,\"b\":null}\n");
  put("nd/k=y/b.jsonl", "{\"a\":3,\"b\":\"w\"}\n");
  put("nd/k=y/c.json", "[{\"a\":4,\"b\":\"z\"}]");
  path_of(pat, sizeof pat, "nd");
  assert_int_equal(run_count(pat, "k = 'y'", GF_HIVE_AUTO, &rows, &ex), 2);
  assert_int_equal(rows, 2);
  assert_non_null(strstr(ex, "files=3 pruned=1"));
  gf_mem_free(ex);
  assert_int_equal(run_count(pat, "a > 1", GF_HIVE_AUTO, &rows, NULL), 3);
  assert_int_equal(rows, 3);
  {
    const char *p = pat;
    gf_frame *f = NULL;
    OKE(gf_read_files(&p, 1, NULL, NULL, &f, &err));
    assert_int_equal(gf_frame_num_rows(f), 4);
    assert_int_equal(sum_of(f, "a"), 10);
    gf_frame_release(f);
  }

  put("mix/a.csv", "a\n1\n");
  put_parquet("mix/b.parquet", "a\n2\n");
  put("mix/c.ndjson", "{\"a\":3}\n");
  path_of(pat, sizeof pat, "mix");
  {
    const char *p = pat;
    gf_frame *f = NULL;
    OKE(gf_read_files(&p, 1, NULL, NULL, &f, &err));
    assert_int_equal(gf_frame_num_rows(f), 3);
    assert_int_equal(sum_of(f, "a"), 6);
    gf_frame_release(f);
  }
  path_of(pat, sizeof pat, "pq");
  rm_tree(pat);
  path_of(pat, sizeof pat, "nd");
  rm_tree(pat);
  path_of(pat, sizeof pat, "mix");
  rm_tree(pat);
}

static void test_pruning(void **state) {
  (void)state;
  put("h/year=2023/m=1/p.csv", "a\n1\n2\n");
  put("h/year=2024/m=1/p.csv", "a\n3\n");
  put("h/year=2024/m=2/p.csv", "a\n4\n5\n");
  put("h/year=__HIVE_DEFAULT_PARTITION__/m=1/p.csv", "a\n6\n");
  char pat[1024];
  path_of(pat, sizeof pat, "h");
  int64_t rows = 0;
  char *ex = NULL;
  assert_int_equal(run_count(pat, "year = 2024", GF_HIVE_AUTO, &rows, &ex), 2);
  assert_int_equal(rows, 3);
  assert_non_null(strstr(ex, "files=4 pruned=2"));
  gf_mem_free(ex);
  {
    /* gf_plan_files_pruned on the optimized source. */
    gf_error err;
    gf_plan *src = NULL, *f = NULL, *opt = NULL;
    const char *p = pat;
    OKE(gf_plan_scan_files(&p, 1, NULL, NULL, &src, &err));
    gf_expr *e = NULL;
    OKE(gf_expr_parse("year >= 2024 and a > 0", &e, &err));
    OKE(gf_plan_filter(src, e, &f, &err));
    OKE(gf_plan_optimize(f, GF_PLAN_RULES_ALL, &opt, &err));
    const gf_plan *leaf = opt;
    while (gf_plan_num_inputs(leaf) > 0) leaf = gf_plan_input(leaf, 0);
    int nfiles = 0, npruned = 0;
    OKE(gf_plan_files_pruned(leaf, &nfiles, &npruned, &err));
    assert_int_equal(nfiles, 4);
    assert_int_equal(npruned, 2); /* 2023 and the null partition */
    assert_int_equal(gf_plan_files_pruned(f, &nfiles, &npruned, &err), GF_EINVAL);
    gf_plan_release(opt);
    gf_plan_release(f);
    gf_plan_release(src);
    gf_expr_release(e);
  }
  assert_int_equal(run_count(pat, "year is null", GF_HIVE_AUTO, &rows, NULL), 1);
  assert_int_equal(rows, 1);
  assert_int_equal(run_count(pat, "year > 2023 and m = 2 and a > 4", GF_HIVE_AUTO, &rows, NULL), 1);
  assert_int_equal(rows, 1);
  /* A conjunct on file columns prunes nothing; an `or` with one does not
   * prune on the other side either. */
  assert_int_equal(run_count(pat, "a > 1", GF_HIVE_AUTO, &rows, NULL), 4);
  assert_int_equal(rows, 5);
  assert_int_equal(run_count(pat, "year = 2023 or a = 6", GF_HIVE_AUTO, &rows, NULL), 4);
  assert_int_equal(rows, 3);
  /* The filename column prunes too. */
  assert_int_equal(run_count(pat, "contains(fname, 'm=2')", GF_HIVE_AUTO, &rows, NULL), 1);
  assert_int_equal(rows, 2);
  {
    /* max_rows: files are opened in order only until enough rows. */
    gf_error err;
    gf_scan_files_options fo;
    gf_scan_files_options_init(&fo);
    fo.max_rows = 3; /* 2 rows in the first file (2023), 1 in the second */
    const char *p = pat;
    int64_t before = gfi_files_opened();
    gf_frame *r = NULL;
    OKE(gf_read_files(&p, 1, &fo, NULL, &r, &err));
    assert_int_equal(gfi_files_opened() - before, 2);
    assert_int_equal(gf_frame_num_rows(r), 3);
    gf_frame_release(r);
  }
  /* All pruned: an empty frame of the planned schema. */
  assert_int_equal(run_count(pat, "year = 1999", GF_HIVE_AUTO, &rows, NULL), 0);
  assert_int_equal(rows, 0);
  /* Hive off: no columns, so the filter cannot name year. */
  gf_error err;
  gf_scan_files_options fo;
  gf_scan_files_options_init(&fo);
  fo.hive = GF_HIVE_OFF;
  gf_plan *src = NULL;
  const char *p = pat;
  OKE(gf_plan_scan_files(&p, 1, &fo, NULL, &src, &err));
  assert_int_equal(gf_schema_num_fields(gf_plan_schema(src)), 1);
  gf_plan_release(src);
  /* Hive on with files whose keys differ: an error naming one. */
  put("h/other/p.csv", "a\n7\n");
  fo.hive = GF_HIVE_ON;
  assert_int_equal(gf_plan_scan_files(&p, 1, &fo, NULL, &src, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "other/p.csv"));
  fo.hive = GF_HIVE_AUTO; /* auto: then no partition columns */
  OKE(gf_plan_scan_files(&p, 1, &fo, NULL, &src, &err));
  assert_int_equal(gf_schema_num_fields(gf_plan_schema(src)), 1);
  gf_plan_release(src);
  /* A partition key that is also a file column. */
  put("k/a=1/p.csv", "a\n1\n");
  char kp[1024];
  path_of(kp, sizeof kp, "k");
  p = kp;
  assert_int_equal(gf_plan_scan_files(&p, 1, NULL, NULL, &src, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "'a'"));
  rm_tree(pat);
  rm_tree(kp);
}

/* ---- many files, any worker count ----------------------------------------------- */

/* 13 files of 0..~900 rows under part=K directories (one file empty but
 * for its header, one with a column more): the result, built here from
 * the generator's own values, is the same at 1/2/3/8 workers, read
 * concurrently or one by one, at several chunk sizes. */
static void test_many_files(void **state) {
  (void)state;
  enum { NF = 13 };
  uint64_t seed = 42;
  int64_t total = 0;
  static int64_t idv[20000];
  static double xv[20000];
  static bool xok[20000];
  static int64_t part[20000];
  static const char *sv[20000];
  static const char *const words[] = {"alpha", "beta", "", "delta, quoted", "é"};
  static char name[64];
  for (int f = 0; f < NF; f++) {
    int rows = f == 4 ? 0 : (int)((seed = seed * 6364136223846793005ULL + 1442695040888963407ULL) >> 33) % 900;
    size_t cap = 64 + (size_t)rows * 64;
    char *text = malloc(cap), *o = text;
    o += sprintf(o, f == 7 ? "id,x,s,more\n" : "id,x,s\n");
    for (int r = 0; r < rows; r++) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      uint64_t z = seed >> 20;
      idv[total] = total * 3 - 1000;
      xok[total] = z % 7 != 0;
      xv[total] = (double)(int64_t)(z % 100000) / 16.0;
      const char *w = words[(z >> 20) % 5];
      sv[total] = w[0] ? w : NULL; /* an empty field reads as null */
      part[total] = f % 5;
      o += sprintf(o, "%lld,", (long long)idv[total]);
      if (xok[total]) o += sprintf(o, "%.4f", xv[total]);
      o += sprintf(o, strchr(w, ',') ? ",\"%s\"" : ",%s", w);
      if (f == 7) o += sprintf(o, ",m");
      o += sprintf(o, "\n");
      total++;
    }
    snprintf(name, sizeof name, "many/part=%d/f%02d.csv", f % 5, f);
    put(name, text);
    free(text);
  }
  const char *more[20000];
  int64_t k = 0;
  /* Row order: paths sorted: part=0/f00 f05 f10, part=1/f01 f06 f11, ... */
  int order[NF], no = 0;
  for (int pp = 0; pp < 5; pp++)
    for (int f = 0; f < NF; f++)
      if (f % 5 == pp) order[no++] = f;
  /* Rows of file f start at the sum of the rows of files before it. */
  int64_t start[NF + 1];
  start[0] = 0;
  {
    uint64_t s2 = 42;
    for (int f = 0; f < NF; f++) {
      int rows = f == 4 ? 0 : (int)((s2 = s2 * 6364136223846793005ULL + 1442695040888963407ULL) >> 33) % 900;
      for (int r = 0; r < rows; r++) s2 = s2 * 6364136223846793005ULL + 1442695040888963407ULL;
      start[f + 1] = start[f] + rows;
    }
  }
  int64_t *id2 = malloc(sizeof *id2 * (size_t)(total + 1)), *p2 = malloc(sizeof *p2 * (size_t)(total + 1));
  double *x2 = malloc(sizeof *x2 * (size_t)(total + 1));
  bool *xo2 = malloc((size_t)total + 1), *ok = malloc((size_t)total + 1);
  const char **s2v = malloc(sizeof *s2v * (size_t)(total + 1));
  for (int q = 0; q < NF; q++) {
    int f = order[q];
    for (int64_t r = start[f]; r < start[f + 1]; r++) {
      id2[k] = idv[r];
      x2[k] = xv[r];
      xo2[k] = xok[r];
      s2v[k] = sv[r];
      p2[k] = part[r];
      more[k] = f == 7 ? "m" : NULL;
      ok[k] = true;
      k++;
    }
  }
  gf_error err;
  gf_array *cols[5] = {ints(id2, ok, (int)total), dbls(x2, xo2, (int)total), strs(s2v, (int)total),
                       strs(more, (int)total), ints(p2, ok, (int)total)};
  gf_field fields[5] = {{"id", gf_type(GF_TYPE_INT64), true},
                        {"x", gf_type(GF_TYPE_FLOAT64), true},
                        {"s", gf_type(GF_TYPE_UTF8), true},
                        {"more", gf_type(GF_TYPE_UTF8), true},
                        {"part", gf_type(GF_TYPE_INT64), true}};
  gf_schema *sc = NULL;
  OKE(gf_schema_new(fields, 5, &sc, &err));
  gf_frame *want = NULL;
  OKE(gf_frame_new(sc, cols, 1, NULL, &want, &err));
  gf_schema_release(sc);
  for (int i = 0; i < 5; i++) gf_array_release(cols[i]);
  char pat[1024];
  path_of(pat, sizeof pat, "many/part=*/*.csv");
  const char *p = pat;
  gf_csv_read_options co;
  gf_csv_read_options_init(&co);
  co.no_dictionary = true; /* s compared as plain utf8 */
  gf_csv_column_type ct[2] = {{"id", gf_type(GF_TYPE_INT64)}, {"x", gf_type(GF_TYPE_FLOAT64)}};
  co.column_types = ct;
  co.num_column_types = 2;
  static const int workers[] = {1, 2, 3, 8};
  static const int64_t chunks[] = {0, 64, 1000};
  for (int w = 0; w < 4; w++)
    for (int mode = 0; mode < 2; mode++)
      for (int c = 0; c < 3; c++) {
        gf_scan_files_options fo;
        gf_scan_files_options_init(&fo);
        fo.csv = &co;
        fo.small_file_bytes = mode ? -1 : 0;
        gf_parallel_options po;
        gf_parallel_options_init(&po);
        po.num_workers = workers[w];
        po.chunk_rows = chunks[c];
        gf_frame *got = NULL;
        OKE(gf_read_files(&p, 1, &fo, &po, &got, &err));
        char what[96];
        snprintf(what, sizeof what, "%d workers, mode %d, chunk_rows %lld", workers[w], mode,
                 (long long)chunks[c]);
        expect_equal(got, want, what);
        gf_frame_release(got);
      }
  gf_frame_release(want);
  free(id2);
  free(p2);
  free(x2);
  free(xo2);
  free(ok);
  free(s2v);
  char dir[1024];
  path_of(dir, sizeof dir, "many");
  rm_tree(dir);
}

/* ---- allocation failures ------------------------------------------------------- */

typedef struct sweep {
  const char *pat;
  const gf_frame *want;
  int workers;
} sweep;

static gf_status read_once(void *user, const gf_allocator *a) {
  sweep *s = user;
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = s->workers;
  po.allocator = a;
  gf_scan_files_options fo;
  gf_scan_files_options_init(&fo);
  fo.filename_column = "f";
  gf_frame *r = (gf_frame *)(uintptr_t)1;
  gf_error err;
  gf_status st = gf_read_files(&s->pat, 1, &fo, &po, &r, &err);
  if (st != GF_OK) {
    if (r != (gf_frame *)(uintptr_t)1) fail_msg("%s: output written on failure", gft_sweep_at());
    return st;
  }
  if (!gf_frame_equals(r, s->want)) fail_msg("%s: wrong result", gft_sweep_at());
  gf_frame_release(r);
  return GF_OK;
}

static void test_allocation_failures(void **state) {
  (void)state;
  put("s/x=1/a.csv", "a,b\n1,p\n2,q\n");
  put("s/x=2/b.csv", "b,a\nr,2.5\n");
  char pat[1024];
  path_of(pat, sizeof pat, "s");
  gf_error err;
  gf_scan_files_options fo;
  gf_scan_files_options_init(&fo);
  fo.filename_column = "f";
  const char *p = pat;
  gf_frame *want = NULL;
  OKE(gf_read_files(&p, 1, &fo, NULL, &want, &err));
  assert_int_equal(gf_frame_num_rows(want), 3);
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts c = {0};
  for (int w = 1; w <= 2; w++) {
    sweep s = {pat, want, w};
    gft_alloc_sweep("read_files", fa, read_once, &s, &c);
  }
  gft_sweep_print("gf_read_files (2 files, hive, filename, widening)", &c);
  assert_true(c.failing[0] > 5);
  gf_failing_allocator_free(fa);
  gf_frame_release(want);
  rm_tree(pat);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_glob_vs_reference),
      cmocka_unit_test(test_hive_parse),
      cmocka_unit_test(test_union_widening),
      cmocka_unit_test(test_pruning),
      cmocka_unit_test(test_other_formats),
      cmocka_unit_test(test_many_files),
      cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
