/* Expressions on binary and large_binary columns: ==, !=, <, <=, >, >=
 * (byte-wise: the first differing byte as unsigned, then the shorter
 * first) between binary columns of either width and against a string
 * literal (its bytes), and length() in bytes. Checked against naive loops
 * at 1, 2, 3 and 8 workers and two chunk sizes, on clean arrays, on their
 * garbage twins (random bytes under nulls, non-zero offsets) and on a
 * sliced frame of several batches. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_test_data.h"
#include "gf_test_garbage.h"
#include "gopherframe.h"

#define N 700
#define MAXLEN 12

static const int k_workers[] = {1, 2, 3, 8};
static const int64_t k_chunks[] = {0, 97};

/* Values: a (binary), b (large_binary), each row len + bytes; null flags. */
static uint8_t va[N][MAXLEN], vb[N][MAXLEN];
static int la[N], lb[N];
static bool na[N], nb[N];

/* Byte-wise order, written out the long way. */
static int naive_cmp(const uint8_t *x, int lx, const uint8_t *y, int ly) {
  for (int i = 0; i < lx && i < ly; i++)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return lx < ly ? -1 : lx > ly ? 1 : 0;
}

static bool holds(const char *op, int c) {
  if (strcmp(op, "=") == 0) return c == 0;
  if (strcmp(op, "!=") == 0) return c != 0;
  if (strcmp(op, "<") == 0) return c < 0;
  if (strcmp(op, "<=") == 0) return c <= 0;
  if (strcmp(op, ">") == 0) return c > 0;
  return c >= 0;
}

static gf_array *bin_array(gf_type_id t, uint8_t (*v)[MAXLEN], const int *len, const bool *null) {
  gf_builder *bl;
  gf_error err;
  assert_int_equal(gf_builder_new(gf_type(t), NULL, &bl, &err), GF_OK);
  for (int i = 0; i < N; i++) {
    gf_status st = null[i] ? gf_builder_append_null(bl, &err)
                           : gf_builder_append_bytes(bl, (const char *)v[i], len[i], &err);
    if (st != GF_OK) fail_msg("append: %s", err.message);
  }
  gf_array *a;
  assert_int_equal(gf_builder_finish(bl, &a, &err), GF_OK);
  gf_builder_free(bl);
  return a;
}

/* Random rows: short values over a small alphabet with 0x00 and 0xff, so
 * equal values, prefixes and high bytes are common. */
static gf_frame *make_frame(void) {
  uint64_t s = 1234;
  const uint8_t alpha[] = {0x00, 'a', 'b', 'm', 0x80, 0xff};
  for (int i = 0; i < N; i++) {
    la[i] = (int)(gft_rand_next(&s) % 5);
    lb[i] = (int)(gft_rand_next(&s) % 5);
    for (int j = 0; j < MAXLEN; j++) {
      va[i][j] = alpha[gft_rand_next(&s) % sizeof alpha];
      vb[i][j] = alpha[gft_rand_next(&s) % sizeof alpha];
    }
    if (i % 9 == 0) { /* equal values */
      lb[i] = la[i];
      memcpy(vb[i], va[i], MAXLEN);
    }
    na[i] = i % 7 == 3;
    nb[i] = i % 11 == 5;
  }
  gf_array *cols[2] = {bin_array(GF_TYPE_BINARY, va, la, na),
                       bin_array(GF_TYPE_LARGE_BINARY, vb, lb, nb)};
  const char *names[2] = {"a", "b"};
  gf_frame *f;
  assert_int_equal(gf_frame_from_columns(names, cols, 2, &f, NULL), GF_OK);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  /* Three batches, the middle one empty, each a slice (non-zero offsets). */
  gf_frame *parts[3], *g;
  assert_int_equal(gf_frame_slice(f, 0, 250, &parts[0], NULL), GF_OK);
  assert_int_equal(gf_frame_slice(f, 250, 0, &parts[1], NULL), GF_OK);
  assert_int_equal(gf_frame_slice(f, 250, N - 250, &parts[2], NULL), GF_OK);
  assert_int_equal(gf_frame_concat(parts, 3, NULL, &g, NULL), GF_OK);
  for (int i = 0; i < 3; i++) gf_frame_release(parts[i]);
  gf_frame_release(f);
  return g;
}

/* Value of the result's row `row` (all batches) as 0/1, -1 for null, or
 * the int64. */
static int64_t result_at(const gf_frame *r, int64_t row, bool *null) {
  for (int b = 0; b < gf_frame_num_batches(r); b++) {
    int64_t off = gf_frame_batch_offset(r, b), len = gf_frame_batch_rows(r, b);
    if (row < off + len) {
      const gf_array *a = gf_frame_column(r, b, 0);
      *null = gf_array_is_null(a, row - off);
      if (*null) return 0;
      gf_datatype t = gf_schema_field(gf_frame_schema(r), 0)->type;
      return t.id == GF_TYPE_BOOL ? gf_array_get_bool(a, row - off)
                                  : gf_array_get_int64(a, row - off);
    }
  }
  fail_msg("row %lld missing", (long long)row);
  return 0;
}

static gf_frame *eval(const gf_frame *f, const char *text, int workers, int64_t chunk) {
  gf_expr *e;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse %s: %s", text, err.message);
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  o.chunk_rows = chunk;
  o.min_parallel_rows = 0;
  gf_frame *r = NULL;
  if (gf_evaluate(f, e, "r", &o, &r, &err) != GF_OK) fail_msg("%s: %s", text, err.message);
  gf_expr_release(e);
  assert_int_equal(gf_frame_num_rows(r), N);
  return r;
}

static void check_all(const gf_frame *f) {
  static const char *ops[] = {"=", "!=", "<", "<=", ">", ">="};
  static const uint8_t lit[] = {'a', 'm'};
  for (int w = 0; w < 4; w++) {
    for (int c = 0; c < 2; c++) {
      for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        char text[64];
        /* column against column (binary vs large_binary) */
        snprintf(text, sizeof text, "a %s b", ops[o]);
        gf_frame *r = eval(f, text, k_workers[w], k_chunks[c]);
        for (int i = 0; i < N; i++) {
          bool null;
          int64_t v = result_at(r, i, &null);
          if (null != (na[i] || nb[i])) fail_msg("%s row %d: null %d", text, i, null);
          if (!null && v != holds(ops[o], naive_cmp(va[i], la[i], vb[i], lb[i])))
            fail_msg("%s row %d: %lld", text, i, (long long)v);
        }
        gf_frame_release(r);
        /* against a string literal, on either side */
        for (int side = 0; side < 2; side++) {
          if (side == 0) snprintf(text, sizeof text, "b %s 'am'", ops[o]);
          else snprintf(text, sizeof text, "'am' %s b", ops[o]);
          r = eval(f, text, k_workers[w], k_chunks[c]);
          for (int i = 0; i < N; i++) {
            bool null;
            int64_t v = result_at(r, i, &null);
            if (null != nb[i]) fail_msg("%s row %d: null", text, i);
            int cmp = naive_cmp(vb[i], lb[i], lit, 2);
            if (side) cmp = -cmp;
            if (!null && v != holds(ops[o], cmp)) fail_msg("%s row %d: %lld", text, i, (long long)v);
          }
          gf_frame_release(r);
        }
      }
      /* length() in bytes (0x80 / 0xff are not UTF-8: bytes still count). */
      const char *lens[2] = {"length(a)", "length(b)"};
      for (int q = 0; q < 2; q++) {
        gf_frame *r = eval(f, lens[q], k_workers[w], k_chunks[c]);
        assert_int_equal(gf_schema_field(gf_frame_schema(r), 0)->type.id, GF_TYPE_INT64);
        for (int i = 0; i < N; i++) {
          bool null;
          int64_t v = result_at(r, i, &null);
          bool want_null = q ? nb[i] : na[i];
          if (null != want_null) fail_msg("%s row %d: null", lens[q], i);
          if (!null && v != (q ? lb[i] : la[i])) fail_msg("%s row %d: %lld", lens[q], i, (long long)v);
        }
        gf_frame_release(r);
      }
    }
  }
}

static void compare_and_length_match_naive(void **state) {
  (void)state;
  gf_frame *f = make_frame();
  check_all(f);
  int64_t before = gft_garbage_arrays_made();
  gf_frame *g = gft_garbage_frame(f, 77);
  assert_true(gft_garbage_arrays_made() > before);
  check_all(g);
  gf_frame_release(g);
  gf_frame_release(f);
}

/* A utf8 column against a binary column wants a cast: a type error that
 * names both types. */
static void utf8_column_against_binary_is_a_type_error(void **state) {
  (void)state;
  gf_builder *bl;
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_UTF8), NULL, &bl, NULL), GF_OK);
  assert_int_equal(gf_builder_append_bytes(bl, "x", 1, NULL), GF_OK);
  gf_array *s;
  assert_int_equal(gf_builder_finish(bl, &s, NULL), GF_OK);
  gf_builder_free(bl);
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_BINARY), NULL, &bl, NULL), GF_OK);
  assert_int_equal(gf_builder_append_bytes(bl, "x", 1, NULL), GF_OK);
  gf_array *b;
  assert_int_equal(gf_builder_finish(bl, &b, NULL), GF_OK);
  gf_builder_free(bl);
  gf_array *cols[2] = {s, b};
  const char *names[2] = {"s", "b"};
  gf_frame *f;
  assert_int_equal(gf_frame_from_columns(names, cols, 2, &f, NULL), GF_OK);
  gf_array_release(s);
  gf_array_release(b);
  gf_expr *e;
  gf_error err;
  assert_int_equal(gf_expr_parse("s = b", &e, &err), GF_OK);
  gf_frame *r = NULL;
  assert_int_equal(gf_evaluate(f, e, "r", NULL, &r, &err), GF_ETYPE);
  assert_non_null(strstr(err.message, "binary"));
  assert_null(r);
  gf_expr_release(e);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(compare_and_length_match_naive),
      cmocka_unit_test(utf8_column_against_binary_is_a_type_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
