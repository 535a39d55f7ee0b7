/* large_utf8 / large_binary everywhere utf8 / binary is accepted (issue 16,
 * item 4). One frame is built twice with the same values: once with utf8,
 * binary and dictionary<utf8> columns, once with large_utf8, large_binary
 * and dictionary<large_utf8>. Every operation runs on both (and on garbage
 * twins: nulls over random bytes, offsets) at several worker counts and
 * chunk sizes; the results must be the same values: their CSV text is
 * compared, and their column types must match once large_* is read as the
 * small type. The reference is the small frame at one worker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gf_test_data.h"
#include "gf_test_garbage.h"
#include "gopherframe.h"

#define ROWS 3000

/* Values with repeats (group keys), empties, long ones, multi-byte UTF-8
 * and nulls. */
static const char *value_at(uint64_t *rng, int *len) {
  static const char *const pool[] = {
      "",          "a",         "apple",    "Banana",   "cherry pie with cream",
      "d\xc3\xa9j\xc3\xa0 vu", "\xe6\x97\xa5\xe6\x9c\xac", "zeta", "Zeta", "mango",
      "a much longer string that lives out of line in any layout", "kiwi", "12", "-3",
      "4.5", "2024-01-02"};
  uint64_t r = gft_rand_next(rng);
  if (r % 13 == 0) return NULL;
  const char *s = pool[(r >> 8) % (sizeof pool / sizeof pool[0])];
  *len = (int)strlen(s);
  return s;
}

/* The frame: s (string), b (binary), d (dictionary of strings), v (int64),
 * g (int64, few values), in `nb` batches; `large` picks the large types. */
static gf_frame *make_frame(bool large, int nb) {
  gf_datatype ts = gf_type(large ? GF_TYPE_LARGE_UTF8 : GF_TYPE_UTF8);
  gf_datatype tb = gf_type(large ? GF_TYPE_LARGE_BINARY : GF_TYPE_BINARY);
  gf_datatype td = gf_type_dictionary(ts);
  gf_datatype types[5] = {ts, tb, td, gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_INT64)};
  const char *names[5] = {"s", "b", "d", "v", "g"};
  gf_array **cols = calloc((size_t)nb * 5, sizeof *cols);
  uint64_t rng = 42;
  int64_t per = ROWS / nb;
  for (int bi = 0; bi < nb; bi++) {
    gf_builder *bs[5];
    for (int c = 0; c < 5; c++) assert_int_equal(gf_builder_new(types[c], NULL, &bs[c], NULL), GF_OK);
    int64_t n = bi == nb - 1 ? ROWS - per * (nb - 1) : per;
    for (int64_t i = 0; i < n; i++) {
      for (int c = 0; c < 3; c++) {
        int len = 0;
        const char *s = value_at(&rng, &len);
        if (s == NULL)
          assert_int_equal(gf_builder_append_null(bs[c], NULL), GF_OK);
        else
          assert_int_equal(gf_builder_append_bytes(bs[c], s, len, NULL), GF_OK);
      }
      uint64_t r = gft_rand_next(&rng);
      assert_int_equal(gf_builder_append_int64(bs[3], (int64_t)(r % 1000) - 500, NULL), GF_OK);
      assert_int_equal(gf_builder_append_int64(bs[4], (int64_t)((r >> 20) % 5), NULL), GF_OK);
    }
    for (int c = 0; c < 5; c++) {
      assert_int_equal(gf_builder_finish(bs[c], &cols[(size_t)bi * 5 + (size_t)c], NULL), GF_OK);
      gf_builder_free(bs[c]);
    }
  }
  gf_field fields[5];
  for (int c = 0; c < 5; c++) fields[c] = (gf_field){names[c], types[c], true};
  gf_schema *s = NULL;
  assert_int_equal(gf_schema_new(fields, 5, &s, NULL), GF_OK);
  gf_frame *f = NULL;
  gf_error err;
  if (gf_frame_new(s, cols, nb, NULL, &f, &err) != GF_OK) fail_msg("%s", err.message);
  gf_schema_release(s);
  for (int i = 0; i < nb * 5; i++) gf_array_release(cols[i]);
  free(cols);
  return f;
}

/* The frame as CSV text (malloc'd). */
static char *csv_text(const gf_frame *f) {
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  assert_non_null(m);
  gf_error err;
  if (gf_write_csv_stream(f, m, NULL, &err) != GF_OK) fail_msg("csv: %s", err.message);
  fclose(m);
  return buf;
}

/* A type id with large_* read as the small type (dictionaries: value). */
static gf_type_id small_id(gf_datatype t) {
  gf_type_id id = t.id == GF_TYPE_DICTIONARY ? t.value_id : t.id;
  if (id == GF_TYPE_LARGE_UTF8) return GF_TYPE_UTF8;
  if (id == GF_TYPE_LARGE_BINARY) return GF_TYPE_BINARY;
  return id;
}

/* Requires `got` (from the large frame) to hold what `want` (from the small
 * frame) holds. */
static void same_result(const char *what, const gf_frame *want, const gf_frame *got) {
  const gf_schema *a = gf_frame_schema(want), *b = gf_frame_schema(got);
  assert_int_equal(gf_schema_num_fields(a), gf_schema_num_fields(b));
  for (int i = 0; i < gf_schema_num_fields(a); i++)
    if (small_id(gf_schema_field(a, i)->type) != small_id(gf_schema_field(b, i)->type))
      fail_msg("%s: column %d has type %d, expected %d", what, i,
               (int)gf_schema_field(b, i)->type.id, (int)gf_schema_field(a, i)->type.id);
  char *x = csv_text(want), *y = csv_text(got);
  if (strcmp(x, y) != 0) {
    size_t k = 0;
    while (x[k] && x[k] == y[k]) k++;
    fail_msg("%s: results differ at byte %zu:\nsmall: %.80s\nlarge: %.80s", what, k,
             x + (k > 20 ? k - 20 : 0), y + (k > 20 ? k - 20 : 0));
  }
  free(x);
  free(y);
}

/* One operation: runs on `f` with `par` (NULL = defaults), returns a frame. */
typedef gf_frame *(*op_fn)(const gf_frame *f, const gf_parallel_options *par, int which);

static gf_frame *must(gf_status st, gf_frame *out, const gf_error *err, const char *what) {
  if (st != GF_OK) fail_msg("%s: %s", what, err->message);
  return out;
}

static const char *const filters[] = {
    "s == 'apple'", "s != 'kiwi'", "s < 'm'", "s >= 'Zeta'", "s > d", "s == d",
    "contains(s, 'an')", "starts_with(s, 'a')", "ends_with(s, 'e')", "is_null(s)",
    "s in ('kiwi', 'zeta', '')", "s between 'b' and 'n'", "length(s) > 4",
    "lower(s) == 'zeta'", "d == 'mango'", "d < 'c'", "s is not null and d is null"};
#define NFILTERS ((int)(sizeof filters / sizeof filters[0]))

static gf_frame *op_filter(const gf_frame *f, const gf_parallel_options *par, int which) {
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(filters[which], &e, &err) != GF_OK) fail_msg("%s", err.message);
  gf_frame *out = NULL;
  gf_status st = gf_filter(f, e, par, &out, &err);
  gf_expr_release(e);
  return must(st, out, &err, filters[which]);
}

static const char *const withs[] = {
    "length(s)", "lower(s)", "upper(d)", "substr(s, 2, 3)", "if(s is null, 'none', s)",
    "cast(s as int64)", "cast(v as utf8)", "s == 'apple'", "cast(s as utf8)",
    "cast(d as utf8)", "if(v > 0, s, d)", "cast(s as large_utf8)", "cast(v as large_utf8)",
    "cast(d as large_utf8)", "lower(cast(s as large_utf8)) == lower(s)"};
#define NWITHS ((int)(sizeof withs / sizeof withs[0]))

static gf_frame *op_with(const gf_frame *f, const gf_parallel_options *par, int which) {
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(withs[which], &e, &err) != GF_OK) fail_msg("%s", err.message);
  const char *name = "x";
  gf_frame *out = NULL;
  gf_status st = gf_with_columns(f, &name, &e, 1, par, &out, &err);
  gf_expr_release(e);
  return must(st, out, &err, withs[which]);
}

static const struct {
  const char *keys[2];
  int nkeys;
  const char *aggs;
} groups[] = {{{"s"}, 1, "count(),sum(v),min(s),max(s),first(s),last(d),n_unique(b)"},
              {{"s", "d"}, 2, "count(),mean(v)"},
              {{"b"}, 1, "count(),max(v),n_unique(s)"},
              {{"d"}, 1, "count(),min(d),max(s)"},
              {{"g"}, 1, "min(s),max(s),first(b),last(s),n_unique(d),count(s)"}};
#define NGROUPS ((int)(sizeof groups / sizeof groups[0]))

static gf_frame *op_group(const gf_frame *f, const gf_parallel_options *par, int which) {
  gf_groupby_options o;
  gf_groupby_options_init(&o);
  o.parallel = par;
  o.sort_keys = which % 2 == 1;
  gf_frame *out = NULL;
  gf_error err;
  gf_status st = gf_group_by_text(f, groups[which].keys, groups[which].nkeys,
                                  groups[which].aggs, &o, &out, &err);
  return must(st, out, &err, groups[which].aggs);
}

static const char *const sorts[] = {"s", "s desc nulls first", "b, v", "d desc, s", "d, g desc, s"};
#define NSORTS ((int)(sizeof sorts / sizeof sorts[0]))

static gf_frame *op_sort(const gf_frame *f, const gf_parallel_options *par, int which) {
  gf_sort_key *keys = NULL;
  int nk = 0;
  gf_error err;
  if (gf_sort_keys_parse(sorts[which], &keys, &nk, &err) != GF_OK) fail_msg("%s", err.message);
  gf_frame *out = NULL;
  /* v as a last key: a total order, so equal keys cannot tie differently. */
  gf_status st = gf_sort(f, keys, nk, which == 1 ? 100 : 0, par, &out, &err);
  gf_sort_keys_free(keys);
  return must(st, out, &err, sorts[which]);
}

static const char *const distincts[][2] = {{"s", NULL}, {"b", NULL}, {"s", "d"}};

static gf_frame *op_distinct(const gf_frame *f, const gf_parallel_options *par, int which) {
  gf_frame *out = NULL;
  gf_error err;
  int nk = distincts[which][1] ? 2 : 1;
  gf_status st = gf_distinct(f, distincts[which], nk, par, &out, &err);
  return must(st, out, &err, "distinct");
}

static gf_frame *op_concat(const gf_frame *f, const gf_parallel_options *par, int which) {
  (void)par;
  (void)which;
  gf_frame *two[2] = {(gf_frame *)f, (gf_frame *)f};
  gf_frame *out = NULL;
  gf_error err;
  gf_status st = gf_frame_concat(two, 2, NULL, &out, &err);
  return must(st, out, &err, "concat");
}

static gf_frame *op_describe(const gf_frame *f, const gf_parallel_options *par, int which) {
  (void)which;
  gf_frame *out = NULL;
  gf_error err;
  gf_status st = gf_describe(f, par, &out, &err);
  return must(st, out, &err, "describe");
}

static gf_frame *op_ipc(const gf_frame *f, const gf_parallel_options *par, int which) {
  (void)par;
  void *mem = NULL;
  size_t len = 0;
  gf_error err;
  if (gf_write_ipc_memory(f, which == 0, NULL, &mem, &len, &err) != GF_OK)
    fail_msg("ipc write: %s", err.message);
  gf_frame *out = NULL;
  gf_status st = which == 0 ? gf_read_ipc_file_buffer(mem, len, NULL, &out, &err)
                            : gf_read_ipc_stream_buffer(mem, len, NULL, &out, &err);
  gf_mem_free(mem);
  out = must(st, out, &err, "ipc read");
  /* The types survive the round trip exactly. */
  for (int i = 0; i < gf_frame_num_columns(f); i++)
    assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(f), i)->type,
                               gf_schema_field(gf_frame_schema(out), i)->type));
  return out;
}

static gf_frame *op_cdata(const gf_frame *f, const gf_parallel_options *par, int which) {
  (void)par;
  gf_cdata_export_options o;
  gf_cdata_export_options_init(&o);
  o.flags = which ? GF_EXPORT_STRING_VIEWS : 0;
  struct ArrowArrayStream st;
  gf_error err;
  assert_int_equal(gf_frame_export_stream_with((gf_frame *)f, &o, &st, NULL), GF_OK);
  gf_frame *out = NULL;
  gf_status rc = gf_frame_import_stream(&st, GF_IMPORT_CHECK_FULL, &out, &err);
  return must(rc, out, &err, "C Data round trip");
}

/* Joins: the frame with itself on s, on (s, d), on b, and the large frame
 * with the small one (mixed widths) when `which` says so. */
static gf_frame *join_with(const gf_frame *l, const gf_frame *r, const gf_parallel_options *par,
                           int which) {
  static const char *const on[][2] = {{"s", NULL}, {"s", "d"}, {"b", NULL}, {"d", NULL}};
  static const gf_join_kind kinds[] = {GF_JOIN_INNER, GF_JOIN_LEFT, GF_JOIN_SEMI, GF_JOIN_ANTI};
  gf_join_options o;
  gf_join_options_init(&o);
  o.parallel = par;
  gf_frame *out = NULL;
  gf_error err;
  int nk = on[which % 4][1] ? 2 : 1;
  /* Keep the joined frames small: the right side is its first 40 rows. */
  gf_frame *rs = NULL;
  assert_int_equal(gf_frame_slice(r, 0, 40, &rs, NULL), GF_OK);
  gf_status st = gf_join(l, rs, on[which % 4], on[which % 4], nk, kinds[which % 4], &o, &out,
                         &err);
  gf_frame_release(rs);
  return must(st, out, &err, "join");
}

static gf_frame *op_join(const gf_frame *f, const gf_parallel_options *par, int which) {
  return join_with(f, f, par, which);
}

typedef struct op {
  const char *name;
  op_fn fn;
  int variants;
} op;

/* Printing: the text of both, with the dtype names read the same way. */
static void same_print(const gf_frame *small, const gf_frame *large) {
  gf_print_options o;
  gf_print_options_init(&o);
  o.max_rows = 30;
  char *a = NULL, *b = NULL;
  assert_int_equal(gf_frame_format(small, &o, &a, NULL), GF_OK);
  assert_int_equal(gf_frame_format(large, &o, &b, NULL), GF_OK);
  /* Column widths may differ by the longer dtype name; compare cells. */
  size_t na = strlen(a), nb = strlen(b);
  char *x = malloc(na + 1), *y = malloc(nb + 1);
  size_t k = 0;
  for (size_t i = 0; i < na; i++)
    if (a[i] != ' ' && (unsigned char)a[i] < 0x80 && a[i] != '-' && a[i] != '|') x[k++] = a[i];
  x[k] = 0;
  k = 0;
  for (size_t i = 0; i < nb; i++)
    if (b[i] != ' ' && (unsigned char)b[i] < 0x80 && b[i] != '-' && b[i] != '|') y[k++] = b[i];
  y[k] = 0;
  /* Read large_ dtype names as the small ones. */
  char *p;
  while ((p = strstr(y, "large_")) != NULL) memmove(p, p + 6, strlen(p + 6) + 1);
  if (strcmp(x, y) != 0) fail_msg("print differs:\n%s\n---\n%s", a, b);
  free(x);
  free(y);
  gf_mem_free(a);
  gf_mem_free(b);
}

static void every_operation_gives_equal_results_on_large_strings(void **state) {
  (void)state;
  const op ops[] = {{"filter", op_filter, NFILTERS}, {"with", op_with, NWITHS},
                    {"group_by", op_group, NGROUPS}, {"sort", op_sort, NSORTS},
                    {"distinct", op_distinct, 3},    {"concat", op_concat, 1},
                    {"describe", op_describe, 1},    {"ipc", op_ipc, 2},
                    {"cdata", op_cdata, 2},          {"join", op_join, 4}};
  gf_frame *small = make_frame(false, 3), *large = make_frame(true, 3);
  gf_frame *gsmall = gft_garbage_frame(small, 7), *glarge = gft_garbage_frame(large, 7);
  assert_true(gft_garbage_arrays_made() > 0);
  same_print(small, large);
  const int workers[] = {1, 2, 3, 8};
  const int64_t chunks[] = {0, 257};
  for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
    for (int v = 0; v < ops[o].variants; v++) {
      gf_parallel_options p1;
      gf_parallel_options_init(&p1);
      p1.num_workers = 1;
      gf_frame *ref = ops[o].fn(small, &p1, v);
      /* Not vacuous: every reference result has rows (the filters were
       * chosen to match some and not all). */
      if (gf_frame_num_rows(ref) == 0) fail_msg("%s #%d: empty reference", ops[o].name, v);
      if (o == 0 && gf_frame_num_rows(ref) == ROWS) fail_msg("filter #%d keeps every row", v);
      char what[96];
      for (int w = 0; w < 4; w++)
        for (int c = 0; c < 2; c++) {
          gf_parallel_options par;
          gf_parallel_options_init(&par);
          par.num_workers = workers[w];
          par.chunk_rows = chunks[c];
          par.min_parallel_rows = 1;
          const gf_frame *ins[3] = {large, glarge, gsmall};
          for (int k = 0; k < 3; k++) {
            gf_frame *got = ops[o].fn(ins[k], &par, v);
            snprintf(what, sizeof what, "%s #%d (%s, %d workers, chunk %lld)", ops[o].name, v,
                     k == 0 ? "large" : k == 1 ? "large garbage" : "small garbage", workers[w],
                     (long long)chunks[c]);
            same_result(what, ref, got);
            if (k == 0 && w == 0 && c == 0) same_print(ref, got);
            gf_frame_release(got);
          }
        }
      gf_frame_release(ref);
    }
  /* Mixed widths: large joined with small equals small with small. */
  for (int v = 0; v < 4; v++) {
    gf_frame *ref = join_with(small, small, NULL, v);
    gf_frame *got = join_with(large, small, NULL, v);
    gf_frame *got2 = join_with(small, large, NULL, v);
    same_result("join large with small", ref, got);
    same_result("join small with large", ref, got2);
    gf_frame_release(ref);
    gf_frame_release(got);
    gf_frame_release(got2);
  }
  gf_frame_release(gsmall);
  gf_frame_release(glarge);
  gf_frame_release(small);
  gf_frame_release(large);
}

/* The CSV reader reads a column as large_utf8 or dictionary<large_utf8>
 * when told to: the same values as utf8 / dictionary<utf8>, the large
 * types in the schema and in every batch, at several worker counts and
 * chunk sizes, and an empty file gives the large types too. */
static void csv_reads_large_utf8_columns(void **state) {
  (void)state;
  gf_frame *src = make_frame(false, 3);
  gf_frame *only_strings = NULL;
  const char *keep[2] = {"s", "d"};
  assert_int_equal(gf_select(src, keep, 2, &only_strings, NULL), GF_OK);
  char *text = csv_text(only_strings);
  const gf_datatype smalls[2] = {gf_type(GF_TYPE_UTF8), gf_type_dictionary(gf_type(GF_TYPE_UTF8))};
  const gf_datatype larges[2] = {gf_type(GF_TYPE_LARGE_UTF8),
                                 gf_type_dictionary(gf_type(GF_TYPE_LARGE_UTF8))};
  gf_frame *ref = NULL;
  for (int pass = 0; pass < 9; pass++) {
    bool large = pass > 0;
    gf_csv_column_type types[2] = {{"s", large ? larges[0] : smalls[0]},
                                   {"d", large ? larges[1] : smalls[1]}};
    gf_parallel_options par;
    gf_parallel_options_init(&par);
    par.num_workers = pass == 0 ? 1 : (int[]){1, 2, 3, 8}[(pass - 1) % 4];
    par.chunk_rows = pass > 4 ? 100 : 0;
    gf_csv_read_options o;
    gf_csv_read_options_init(&o);
    o.column_types = types;
    o.num_column_types = 2;
    o.header = 1;
    o.parallel = &par;
    static const char *const nulls[] = {""};
    o.null_values = nulls;
    o.num_null_values = 1;
    gf_frame *f = NULL;
    gf_error err;
    if (gf_read_csv_buffer(text, strlen(text), "t.csv", &o, &f, &err) != GF_OK)
      fail_msg("%s", err.message);
    for (int c = 0; c < 2; c++) {
      gf_datatype want = large ? larges[c] : smalls[c];
      assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(f), c)->type, want));
      for (int b = 0; b < gf_frame_num_batches(f); b++) {
        assert_true(gf_type_equals(gf_array_type(gf_frame_column(f, b, c)), want));
        assert_int_equal(gf_array_validate(gf_frame_column(f, b, c), true, NULL), GF_OK);
      }
    }
    if (pass == 0) {
      ref = f;
      continue;
    }
    same_result("CSV read as large_utf8", ref, f);
    gf_frame_release(f);
  }
  /* Header only: 0 rows, the large types all the same. */
  gf_csv_column_type types[2] = {{"s", larges[0]}, {"d", larges[1]}};
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.column_types = types;
  o.num_column_types = 2;
  o.header = 1;
  gf_frame *f = NULL;
  assert_int_equal(gf_read_csv_buffer("s,d\n", 4, "e.csv", &o, &f, NULL), GF_OK);
  assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(f), 0)->type, larges[0]));
  assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(f), 1)->type, larges[1]));
  gf_frame_release(f);
  gf_frame_release(ref);
  free(text);
  gf_frame_release(only_strings);
  gf_frame_release(src);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_operation_gives_equal_results_on_large_strings),
      cmocka_unit_test(csv_reads_large_utf8_columns),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
