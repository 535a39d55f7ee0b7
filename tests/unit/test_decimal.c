/* decimal128 / decimal256 (issue 16 item 1): types, exact text (printing
 * and CSV), C Data and IPC round trips (slices, garbage under nulls),
 * arithmetic, comparisons and casts against naive __int128 loops written
 * here, sort / group-by / join keys and the sum/min/max/mean aggregates at
 * 1, 2, 3 and 8 workers against naive references, and the CSV reader's
 * decimal type override. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_test_data.h"
#include "gf_test_garbage.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"

typedef __int128 i128;

static const int k_workers[] = {1, 2, 3, 8};

/* ---- independent helpers ------------------------------------------------ */

static i128 p10(int n) {
  i128 v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

static i128 from_pub(gf_decimal128 d) {
  return (i128)(((unsigned __int128)(uint64_t)d.hi << 64) | d.lo);
}

static gf_decimal128 to_pub(i128 v) {
  gf_decimal128 d = {(uint64_t)v, (int64_t)(v >> 64)};
  return d;
}

/* Text of v / 10^s, written the schoolbook way. */
static void text_of(i128 v, int s, char *out) {
  char digits[64];
  int n = 0;
  bool neg = v < 0;
  unsigned __int128 m = neg ? -(unsigned __int128)v : (unsigned __int128)v;
  do {
    digits[n++] = (char)('0' + (int)(m % 10));
    m /= 10;
  } while (m);
  while (n <= s) digits[n++] = '0';
  int o = 0;
  if (neg) out[o++] = '-';
  for (int i = n - 1; i >= 0; i--) {
    out[o++] = digits[i];
    if (i == s && s > 0) out[o++] = '.';
  }
  out[o] = 0;
}

static uint64_t rng = 42;

/* Random value with at most `p` digits (mixing small and large). */
static i128 rand_dec(int p) {
  int digits = 1 + (int)(gft_rand_next(&rng) % (uint64_t)p);
  i128 v = 0;
  for (int i = 0; i < digits; i++) v = v * 10 + (i128)(gft_rand_next(&rng) % 10);
  return (gft_rand_next(&rng) & 1) ? -v : v;
}

static gf_array *dec_array(gf_datatype t, const i128 *v, const bool *valid, int64_t n) {
  gf_builder *b;
  assert_int_equal(gf_builder_new(t, NULL, &b, NULL), GF_OK);
  for (int64_t i = 0; i < n; i++) {
    gf_error err;
    gf_status st = valid && !valid[i] ? gf_builder_append_null(b, &err)
                                      : gf_builder_append_decimal128(b, to_pub(v[i]), &err);
    if (st != GF_OK) fail_msg("append: %s", err.message);
  }
  gf_array *a;
  assert_int_equal(gf_builder_finish(b, &a, NULL), GF_OK);
  gf_builder_free(b);
  return a;
}

static i128 dec_at(const gf_array *a, int64_t i) { return from_pub(gf_array_get_decimal128(a, i)); }

/* One-batch frame of named columns. */
static gf_frame *frame_of(const char *const *names, gf_array **cols, int n) {
  gf_frame *f;
  assert_int_equal(gf_frame_from_columns(names, cols, n, &f, NULL), GF_OK);
  for (int i = 0; i < n; i++) gf_array_release(cols[i]);
  return f;
}

static void popts(gf_parallel_options *o, int workers) {
  gf_parallel_options_init(o);
  o->num_workers = workers;
  o->chunk_rows = 97;
  o->min_parallel_rows = 1;
}

/* Element `row` of column c (across batches). */
static const gf_array *cell(const gf_frame *f, int c, int64_t row, int64_t *i) {
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t off = gf_frame_batch_offset(f, b), len = gf_frame_batch_rows(f, b);
    if (row < off + len) {
      *i = row - off;
      return gf_frame_column(f, b, c);
    }
  }
  fail_msg("row %lld out of range", (long long)row);
  return NULL;
}

/* ---- types and text ------------------------------------------------------ */

static void types_validate_name_and_compare(void **state) {
  (void)state;
  gf_error err;
  char buf[64];
  assert_int_equal(gf_type_validate(gf_type_decimal128(10, 2), &err), GF_OK);
  assert_int_equal(gf_type_validate(gf_type_decimal128(38, 38), &err), GF_OK);
  assert_int_equal(gf_type_validate(gf_type_decimal256(76, 0), &err), GF_OK);
  assert_int_equal(gf_type_validate(gf_type_decimal128(0, 0), &err), GF_EINVAL);
  assert_int_equal(gf_type_validate(gf_type_decimal128(39, 0), &err), GF_EINVAL);
  assert_int_equal(gf_type_validate(gf_type_decimal256(77, 0), &err), GF_EINVAL);
  assert_int_equal(gf_type_validate(gf_type_decimal128(5, 6), &err), GF_EINVAL);
  assert_int_equal(gf_type_validate(gf_type_decimal128(5, -1), &err), GF_ENOTSUP);
  assert_non_null(strstr(err.message, "negative scale"));
  assert_string_equal(gf_type_format(gf_type_decimal128(10, 2), buf, sizeof buf), "decimal128(10, 2)");
  assert_string_equal(gf_type_format(gf_type_decimal256(40, 5), buf, sizeof buf), "decimal256(40, 5)");
  assert_true(gf_type_equals(gf_type_decimal128(10, 2), gf_type_decimal128(10, 2)));
  assert_false(gf_type_equals(gf_type_decimal128(10, 2), gf_type_decimal128(10, 3)));
  assert_false(gf_type_equals(gf_type_decimal128(10, 2), gf_type_decimal256(10, 2)));
  assert_int_equal(gf_type_bit_width(gf_type_decimal128(10, 2)), 128);
  assert_int_equal(gf_type_bit_width(gf_type_decimal256(10, 2)), 256);
  /* Builder range: 3 digits do not fit decimal(2, 0). */
  gf_builder *b;
  assert_int_equal(gf_builder_new(gf_type_decimal128(2, 0), NULL, &b, NULL), GF_OK);
  assert_int_equal(gf_builder_append_decimal128(b, to_pub(99), &err), GF_OK);
  assert_int_equal(gf_builder_append_decimal128(b, to_pub(-100), &err), GF_ERANGE);
  assert_non_null(strstr(err.message, "-100"));
  assert_int_equal(gf_builder_append_int64(b, 5, &err), GF_ETYPE);
  gf_builder_free(b);
}

static void text_is_exact_in_values_printing_and_csv(void **state) {
  (void)state;
  struct { i128 v; int p, s; const char *text; } cases[] = {
      {-12340, 10, 3, "-12.340"}, {5, 5, 2, "0.05"},   {-5, 5, 2, "-0.05"},
      {0, 5, 2, "0.00"},          {123, 3, 0, "123"},  {-1, 1, 0, "-1"},
      {p10(38) - 1, 38, 38, "0.99999999999999999999999999999999999999"},
      {-(p10(38) - 1), 38, 0, "-99999999999999999999999999999999999999"},
      {p10(20) + 7, 38, 19, "10.0000000000000000007"}};
  int n = (int)(sizeof cases / sizeof cases[0]);
  for (int k = 0; k < n; k++) {
    gf_array *a = dec_array(gf_type_decimal128(cases[k].p, cases[k].s), &cases[k].v, NULL, 1);
    char buf[80], ref[80];
    gf_array_format_value(a, 0, buf, sizeof buf);
    assert_string_equal(buf, cases[k].text);
    text_of(cases[k].v, cases[k].s, ref);
    assert_string_equal(ref, cases[k].text);
    gf_array_release(a);
  }
  /* decimal256: 2^200 and -(2^200) at scale 10. */
  uint8_t raw[2][32];
  memset(raw, 0, sizeof raw);
  raw[0][25] = 1; /* 2^200 = byte 25, bit 0 */
  for (int i = 0; i < 32; i++) raw[1][i] = (uint8_t)~raw[0][i];
  for (int i = 0; i < 32; i++) if (++raw[1][i] != 0) break; /* two's complement */
  gf_builder *b;
  assert_int_equal(gf_builder_new(gf_type_decimal256(70, 10), NULL, &b, NULL), GF_OK);
  assert_int_equal(gf_builder_append_bytes(b, raw[0], 32, NULL), GF_OK);
  assert_int_equal(gf_builder_append_bytes(b, raw[1], 32, NULL), GF_OK);
  assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
  gf_array *big;
  assert_int_equal(gf_builder_finish(b, &big, NULL), GF_OK);
  gf_builder_free(b);
  char buf[100];
  gf_array_format_value(big, 0, buf, sizeof buf);
  assert_string_equal(buf, "160693804425899027554196209234116260252220299378279.2835301376");
  gf_array_format_value(big, 1, buf, sizeof buf);
  assert_string_equal(buf, "-160693804425899027554196209234116260252220299378279.2835301376");
  /* Frame printing and CSV. */
  i128 v[3] = {-12340, 5, 0};
  bool valid[3] = {true, true, false};
  gf_array *cols[2] = {dec_array(gf_type_decimal128(10, 3), v, valid, 3), big};
  const char *names[2] = {"price", "huge"};
  gf_frame *f = frame_of(names, cols, 2);
  char *text = NULL;
  assert_int_equal(gf_frame_format(f, NULL, &text, NULL), GF_OK);
  assert_non_null(strstr(text, "decimal[10,3]"));
  assert_non_null(strstr(text, "decimal256[70,10]"));
  assert_non_null(strstr(text, "-12.340"));
  gf_mem_free(text);
  char *csv = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&csv, &len);
  assert_int_equal(gf_write_csv_stream(f, m, NULL, NULL), GF_OK);
  fclose(m);
  assert_string_equal(csv,
                      "price,huge\n"
                      "-12.340,160693804425899027554196209234116260252220299378279.2835301376\n"
                      "0.005,-160693804425899027554196209234116260252220299378279.2835301376\n"
                      ",\n");
  free(csv);
  /* describe reads decimal128 as doubles: mean of -12.340 and 0.005. */
  gf_frame *d;
  assert_int_equal(gf_describe(f, NULL, &d, NULL), GF_OK);
  const gf_array *mean = gf_frame_column(d, 0, 1);
  assert_int_equal(gf_array_type(mean).id, GF_TYPE_FLOAT64);
  assert_true(fabs(gf_array_get_double(mean, 3) - (-12.34 + 0.005) / 2) < 1e-12);
  gf_frame_release(d);
  gf_frame_release(f);
}

/* ---- exchange -------------------------------------------------------------- */

static void cdata_and_ipc_round_trip_with_slices_and_garbage(void **state) {
  (void)state;
  enum { N = 500 };
  i128 v[N];
  bool valid[N];
  for (int i = 0; i < N; i++) {
    v[i] = rand_dec(38);
    valid[i] = gft_rand_next(&rng) % 5 != 0;
  }
  gf_array *a = dec_array(gf_type_decimal128(38, 7), v, valid, N);
  /* decimal256 column: the 128-bit values sign-extended. */
  gf_builder *b;
  assert_int_equal(gf_builder_new(gf_type_decimal256(76, 7), NULL, &b, NULL), GF_OK);
  for (int i = 0; i < N; i++) {
    uint8_t raw[32];
    memcpy(raw, &v[i], 16);
    memset(raw + 16, v[i] < 0 ? 0xff : 0, 16);
    if (valid[i]) assert_int_equal(gf_builder_append_bytes(b, raw, 32, NULL), GF_OK);
    else assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
  }
  gf_array *w;
  assert_int_equal(gf_builder_finish(b, &w, NULL), GF_OK);
  gf_builder_free(b);
  gf_array *arrs[2] = {a, w};
  for (int k = 0; k < 2; k++) {
    gf_array *sl;
    assert_int_equal(gf_array_slice(arrs[k], 37, 400, &sl, NULL), GF_OK);
    const gf_array *srcs[2] = {arrs[k], sl};
    for (int s = 0; s < 2; s++) {
      struct ArrowArray ca;
      struct ArrowSchema cs;
      assert_int_equal(gf_array_export(srcs[s], &ca, &cs, NULL), GF_OK);
      assert_string_equal(cs.format, k == 0 ? "d:38,7" : "d:76,7,256");
      gf_array *back = NULL;
      gf_error err;
      if (gf_array_import(&ca, &cs, GF_IMPORT_CHECK_FULL, &back, &err) != GF_OK)
        fail_msg("import: %s", err.message);
      assert_true(gf_array_equals(srcs[s], back));
      gf_array_release(back);
      cs.release(&cs);
    }
    gf_array *g = gft_garbage_array(sl, 13, 99 + (uint64_t)k);
    assert_true(gf_array_equals(sl, g));
    for (int64_t i = 0; i < 400; i++) {
      char x[100], y[100];
      gf_array_format_value(sl, i, x, sizeof x);
      gf_array_format_value(g, i, y, sizeof y);
      assert_string_equal(x, y);
      if (k == 0 && valid[37 + i]) assert_true(dec_at(g, i) == v[37 + i]);
    }
    gf_array_release(g);
    gf_array_release(sl);
  }
  /* IPC file and stream, three batches. */
  gf_field fields[2] = {{"d", gf_type_decimal128(38, 7), true}, {"w", gf_type_decimal256(76, 7), true}};
  gf_schema *sch;
  assert_int_equal(gf_schema_new(fields, 2, &sch, NULL), GF_OK);
  gf_array *cols[6];
  int64_t cuts[4] = {0, 100, 100, N};
  for (int bi = 0; bi < 3; bi++)
    for (int c = 0; c < 2; c++)
      assert_int_equal(gf_array_slice(arrs[c], cuts[bi], cuts[bi + 1] - cuts[bi], &cols[bi * 2 + c], NULL),
                       GF_OK);
  gf_frame *f;
  assert_int_equal(gf_frame_new(sch, cols, 3, NULL, &f, NULL), GF_OK);
  for (int as_file = 0; as_file < 2; as_file++) {
    void *mem;
    size_t len;
    assert_int_equal(gf_write_ipc_memory(f, as_file, NULL, &mem, &len, NULL), GF_OK);
    gf_frame *g = NULL;
    gf_error err;
    gf_status st = as_file ? gf_read_ipc_file_buffer(mem, len, NULL, &g, &err)
                           : gf_read_ipc_stream_buffer(mem, len, NULL, &g, &err);
    if (st != GF_OK) fail_msg("read back: %s", err.message);
    assert_true(gf_frame_equals(f, g));
    assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(g), 1)->type, gf_type_decimal256(76, 7)));
    gf_frame_release(g);
    gf_mem_free(mem);
  }
  for (int i = 0; i < 6; i++) gf_array_release(cols[i]);
  gf_frame_release(f);
  gf_schema_release(sch);
  gf_array_release(a);
  gf_array_release(w);
}

/* ---- expressions ----------------------------------------------------------- */

/* Evaluates `text` over f at `workers`; *out the result column frame. */
static gf_status eval_text(const gf_frame *f, const char *text, int workers, gf_frame **out,
                           gf_error *err) {
  gf_expr *e;
  if (gf_expr_parse(text, &e, err) != GF_OK) fail_msg("parse %s: %s", text, err->message);
  gf_parallel_options o;
  popts(&o, workers);
  gf_status st = gf_evaluate(f, e, "r", &o, out, err);
  gf_expr_release(e);
  return st;
}

/* The a, b test frame: a decimal(12, 2), b decimal(10, 4), nulls, three
 * batches, and its garbage twin. */
enum { EN = 600 };
static i128 ea[EN], eb[EN];
static bool eva[EN], evb[EN];

static gf_frame *expr_frame(void) {
  for (int i = 0; i < EN; i++) {
    ea[i] = rand_dec(12);
    eb[i] = rand_dec(10);
    if (i % 7 == 0) eb[i] = 0;                     /* zero divisors */
    if (i % 11 == 0) eb[i] = ea[i] * 100;          /* equal across scales */
    if (!(eb[i] < p10(10) && eb[i] > -p10(10))) eb[i] = 1;
    eva[i] = i % 13 != 0;
    evb[i] = i % 17 != 0;
  }
  gf_array *cols[2] = {dec_array(gf_type_decimal128(12, 2), ea, eva, EN),
                       dec_array(gf_type_decimal128(10, 4), eb, evb, EN)};
  const char *names[2] = {"a", "b"};
  gf_frame *f = frame_of(names, cols, 2);
  gf_frame *parts[3];
  assert_int_equal(gf_frame_slice(f, 0, 100, &parts[0], NULL), GF_OK);
  assert_int_equal(gf_frame_slice(f, 100, 0, &parts[1], NULL), GF_OK);
  assert_int_equal(gf_frame_slice(f, 100, EN - 100, &parts[2], NULL), GF_OK);
  gf_frame *g;
  assert_int_equal(gf_frame_concat(parts, 3, NULL, &g, NULL), GF_OK);
  for (int i = 0; i < 3; i++) gf_frame_release(parts[i]);
  gf_frame_release(f);
  return g;
}

/* Naive a op b in the result scale rs; false = null (zero divisor). */
static bool naive_arith(char op, i128 a, int sa, i128 b, int sb, int rs, i128 *r) {
  switch (op) {
    case '+': *r = a * p10(rs - sa) + b * p10(rs - sb); return true;
    case '-': *r = a * p10(rs - sa) - b * p10(rs - sb); return true;
    case '*': *r = a * b; return true;
    case '%':
      if (b == 0) return false;
      *r = (a * p10(rs - sa)) % (b * p10(rs - sb));
      return true;
    default: {
      if (b == 0) return false;
      *r = a * p10(rs - sa + sb) / b; /* truncated, like pyarrow */
      return true;
    }
  }
}

static void arithmetic_matches_naive_int128_at_every_worker_count(void **state) {
  (void)state;
  gf_frame *clean = expr_frame();
  gf_frame *garbage = gft_garbage_frame(clean, 7);
  struct { const char *text; char op; int p, s; } cases[] = {
      {"a + b", '+', 15, 4}, {"a - b", '-', 15, 4}, {"a * b", '*', 23, 6},
      {"a / b", '/', 23, 9}, {"a % b", '%', 10, 4}};
  for (int src = 0; src < 2; src++) {
    const gf_frame *f = src ? garbage : clean;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
      for (int w = 0; w < 4; w++) {
        gf_frame *r;
        gf_error err;
        if (eval_text(f, cases[c].text, k_workers[w], &r, &err) != GF_OK)
          fail_msg("%s: %s", cases[c].text, err.message);
        gf_datatype t = gf_schema_field(gf_frame_schema(r), 0)->type;
        if (!gf_type_equals(t, gf_type_decimal128(cases[c].p, cases[c].s))) {
          char tn[64];
          fail_msg("%s: type %s", cases[c].text, gf_type_format(t, tn, sizeof tn));
        }
        for (int64_t row = 0; row < EN; row++) {
          int64_t i;
          const gf_array *col = cell(r, 0, row, &i);
          i128 want = 0;
          bool ok = eva[row] && evb[row] && naive_arith(cases[c].op, ea[row], 2, eb[row], 4, cases[c].s, &want);
          if (gf_array_is_null(col, i) != !ok)
            fail_msg("%s row %lld: null %d", cases[c].text, (long long)row, gf_array_is_null(col, i));
          if (ok && dec_at(col, i) != want) {
            char x[64], y[64];
            text_of(dec_at(col, i), cases[c].s, x);
            text_of(want, cases[c].s, y);
            fail_msg("%s row %lld: %s != %s", cases[c].text, (long long)row, x, y);
          }
        }
        gf_frame_release(r);
      }
    }
  }
  /* Negation and integer literals (decimal(digits, 0)). */
  gf_frame *r;
  assert_int_equal(eval_text(clean, "-a * 3", 2, &r, NULL), GF_OK);
  assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(r), 0)->type, gf_type_decimal128(14, 2)));
  for (int64_t row = 0; row < EN; row++) {
    int64_t i;
    const gf_array *col = cell(r, 0, row, &i);
    assert_int_equal(gf_array_is_null(col, i), !eva[row]);
    if (eva[row]) assert_true(dec_at(col, i) == -ea[row] * 3);
  }
  gf_frame_release(r);
  /* A float side makes the operation float64. */
  assert_int_equal(eval_text(clean, "a + 0.5", 1, &r, NULL), GF_OK);
  assert_int_equal(gf_schema_field(gf_frame_schema(r), 0)->type.id, GF_TYPE_FLOAT64);
  gf_frame_release(r);
  gf_frame_release(garbage);
  gf_frame_release(clean);
}

static void overflow_is_an_error_naming_the_row(void **state) {
  (void)state;
  i128 v[4] = {1, 2, p10(38) - 1, 4};
  gf_array *cols[1] = {dec_array(gf_type_decimal128(38, 0), v, NULL, 4)};
  const char *names[1] = {"x"};
  gf_frame *f = frame_of(names, cols, 1);
  const char *exprs[] = {"x + x", "x * 2", "x - -x", "cast(x as decimal(10, 0))",
                         "cast(x as int64)", "cast(x as decimal(38, 1))"};
  for (size_t k = 0; k < sizeof exprs / sizeof exprs[0]; k++) {
    gf_frame *r = NULL;
    gf_error err;
    assert_int_equal(eval_text(f, exprs[k], 1, &r, &err), GF_ERANGE);
    if (!strstr(err.message, "row 2")) fail_msg("%s: %s", exprs[k], err.message);
    assert_null(r);
  }
  /* Scale beyond 38 is refused when binding. */
  gf_frame *r = NULL;
  gf_error err;
  i128 one = 1;
  gf_array *c2[1] = {dec_array(gf_type_decimal128(38, 30), &one, NULL, 1)};
  gf_frame *g = frame_of(names, c2, 1);
  assert_int_equal(eval_text(g, "x * x", 1, &r, &err), GF_ETYPE);
  assert_non_null(strstr(err.message, "scale 60"));
  /* A constant beyond the column's range at its scale: every row is on one
   * side of it (no overflow, no wrap). */
  const char *sides[] = {"x < 1000000000000000000", "x > -1000000000000000000",
                         "x > 1000000000000000000", "x = 1000000000000000000"};
  bool expect[] = {true, true, false, false};
  for (int k = 0; k < 4; k++) {
    assert_int_equal(eval_text(g, sides[k], 1, &r, &err), GF_OK);
    assert_int_equal(gf_array_get_bool(gf_frame_column(r, 0, 0), 0), expect[k]);
    gf_frame_release(r);
  }
  gf_frame_release(g);
  gf_frame_release(f);
}

static void comparisons_across_scales_integers_and_floats(void **state) {
  (void)state;
  gf_frame *clean = expr_frame();
  gf_frame *garbage = gft_garbage_frame(clean, 11);
  const char *ops[] = {"=", "!=", "<", "<=", ">", ">="};
  for (int src = 0; src < 2; src++) {
    for (int o = 0; o < 6; o++) {
      char text[64];
      snprintf(text, sizeof text, "a %s b", ops[o]);
      for (int w = 0; w < 4; w++) {
        gf_frame *r;
        assert_int_equal(eval_text(src ? garbage : clean, text, k_workers[w], &r, NULL), GF_OK);
        for (int64_t row = 0; row < EN; row++) {
          int64_t i;
          const gf_array *col = cell(r, 0, row, &i);
          bool ok = eva[row] && evb[row];
          assert_int_equal(gf_array_is_null(col, i), !ok);
          if (!ok) continue;
          i128 x = ea[row] * 100, y = eb[row];
          bool want = o == 0 ? x == y : o == 1 ? x != y : o == 2 ? x < y : o == 3 ? x <= y
                    : o == 4 ? x > y : x >= y;
          if (gf_array_get_bool(col, i) != want) fail_msg("%s row %lld", text, (long long)row);
        }
        gf_frame_release(r);
      }
    }
  }
  /* Integer literal (exact) and float literal (compared as float64). */
  gf_frame *r;
  assert_int_equal(eval_text(clean, "a >= 3", 3, &r, NULL), GF_OK);
  for (int64_t row = 0; row < EN; row++) {
    int64_t i;
    const gf_array *col = cell(r, 0, row, &i);
    if (eva[row]) assert_int_equal(gf_array_get_bool(col, i), ea[row] >= 300);
  }
  gf_frame_release(r);
  assert_int_equal(eval_text(clean, "a < 12.5", 2, &r, NULL), GF_OK);
  for (int64_t row = 0; row < EN; row++) {
    int64_t i;
    const gf_array *col = cell(r, 0, row, &i);
    if (eva[row]) assert_int_equal(gf_array_get_bool(col, i), ea[row] < 1250);
  }
  gf_frame_release(r);
  /* Filters take the same path. */
  gf_expr *e;
  assert_int_equal(gf_expr_parse("a > b and b != 0", &e, NULL), GF_OK);
  gf_frame *flt;
  gf_parallel_options po;
  popts(&po, 3);
  assert_int_equal(gf_filter(clean, e, &po, &flt, NULL), GF_OK);
  int64_t want = 0;
  for (int i = 0; i < EN; i++) want += eva[i] && evb[i] && ea[i] * 100 > eb[i] && eb[i] != 0;
  assert_int_equal(gf_frame_num_rows(flt), want);
  gf_frame_release(flt);
  gf_expr_release(e);
  gf_frame_release(garbage);
  gf_frame_release(clean);
}

static void casts_to_and_from_numbers_and_strings(void **state) {
  (void)state;
  gf_frame *f = expr_frame();
  gf_frame *r;
  /* decimal -> float64: the correctly rounded double of the text. */
  assert_int_equal(eval_text(f, "cast(a as float64)", 2, &r, NULL), GF_OK);
  for (int64_t row = 0; row < EN; row++) {
    int64_t i;
    const gf_array *col = cell(r, 0, row, &i);
    if (!eva[row]) continue;
    char t[64];
    text_of(ea[row], 2, t);
    assert_true(gf_array_get_double(col, i) == strtod(t, NULL));
  }
  gf_frame_release(r);
  /* decimal -> int64 truncates toward zero; -> utf8 is the exact text. */
  assert_int_equal(eval_text(f, "cast(a as int64)", 3, &r, NULL), GF_OK);
  for (int64_t row = 0; row < EN; row++) {
    int64_t i;
    const gf_array *col = cell(r, 0, row, &i);
    if (eva[row]) assert_true(gf_array_get_int64(col, i) == (int64_t)(ea[row] / 100));
  }
  gf_frame_release(r);
  assert_int_equal(eval_text(f, "cast(b as utf8)", 1, &r, NULL), GF_OK);
  for (int64_t row = 0; row < EN; row++) {
    int64_t i, len;
    const gf_array *col = cell(r, 0, row, &i);
    if (!evb[row]) continue;
    char t[64];
    text_of(eb[row], 4, t);
    const char *s = gf_array_get_bytes(col, i, &len);
    assert_int_equal(len, strlen(t));
    assert_memory_equal(s, t, (size_t)len);
  }
  gf_frame_release(r);
  /* decimal -> decimal: scale down rounds half away from zero. */
  assert_int_equal(eval_text(f, "cast(b as decimal(12, 1))", 8, &r, NULL), GF_OK);
  for (int64_t row = 0; row < EN; row++) {
    int64_t i;
    const gf_array *col = cell(r, 0, row, &i);
    if (!evb[row]) continue;
    i128 q = eb[row] / 1000, rem = eb[row] % 1000;
    if (rem >= 500) q++;
    if (rem <= -500) q--;
    assert_true(dec_at(col, i) == q);
  }
  gf_frame_release(r);
  gf_frame_release(f);
  /* float64 and strings -> decimal. */
  double d[6] = {1.005, -2.5, 0.125, 1e6, NAN, -0.0};
  gf_array *fc = gft_double_array(gf_type(GF_TYPE_FLOAT64), d, NULL, 6);
  const char *strs[6] = {"1.005", "-2.5", "abc", "1e2", NULL, "-.5"};
  gf_array *sc = gft_string_array(gf_type(GF_TYPE_UTF8), strs, 6);
  gf_array *cols[2] = {fc, sc};
  const char *names[2] = {"f", "s"};
  gf_frame *g = frame_of(names, cols, 2);
  assert_int_equal(eval_text(g, "cast(f as decimal(9, 2))", 1, &r, NULL), GF_OK);
  const gf_array *c0 = gf_frame_column(r, 0, 0);
  /* 1.005 is 1.00499999999999989... in binary64; scaled by 100 in binary64
   * it rounds to 100.49999999999999, so 1.00. */
  i128 wantf[6] = {100, -250, 13, 100000000, 0, 0};
  for (int i = 0; i < 6; i++) {
    assert_int_equal(gf_array_is_null(c0, i), i == 4);
    if (i != 4) assert_true(dec_at(c0, i) == wantf[i]);
  }
  gf_frame_release(r);
  assert_int_equal(eval_text(g, "cast(s as decimal(9, 2))", 1, &r, NULL), GF_OK);
  c0 = gf_frame_column(r, 0, 0);
  i128 wants[6] = {101, -250, 0, 10000, 0, -50};
  for (int i = 0; i < 6; i++) {
    assert_int_equal(gf_array_is_null(c0, i), i == 2 || i == 4);
    if (i != 2 && i != 4) assert_true(dec_at(c0, i) == wants[i]);
  }
  gf_frame_release(r);
  gf_error err;
  assert_int_equal(eval_text(g, "cast(f as decimal(5, 2))", 1, &r, &err), GF_ERANGE);
  assert_non_null(strstr(err.message, "1000000"));
  assert_non_null(strstr(err.message, "row 3"));
  gf_frame_release(g);
}

static void parser_syntax_and_literals(void **state) {
  (void)state;
  gf_expr *e;
  gf_error err;
  assert_int_equal(gf_expr_parse("cast(x as decimal(10, 2)) + cast(y as NUMERIC(5))", &e, &err), GF_OK);
  char *s;
  assert_int_equal(gf_expr_to_string(e, &s, NULL), GF_OK);
  assert_string_equal(s, "cast(x as decimal128(10, 2)) + cast(y as decimal128(5, 0))");
  gf_expr *e2;
  assert_int_equal(gf_expr_parse(s, &e2, NULL), GF_OK);
  assert_true(gf_expr_equals(e, e2));
  gf_mem_free(s);
  gf_expr_release(e2);
  gf_expr_release(e);
  assert_int_equal(gf_expr_parse("cast(x as decimal(10,", &e, &err), GF_EPARSE);
  /* A literal with a fraction stays float64. */
  gf_field fl = {"x", gf_type_decimal128(10, 2), true};
  gf_schema *sch;
  assert_int_equal(gf_schema_new(&fl, 1, &sch, NULL), GF_OK);
  gf_datatype t;
  assert_int_equal(gf_expr_parse("1.50", &e, NULL), GF_OK);
  assert_int_equal(gf_expr_result_type(e, sch, &t, NULL), GF_OK);
  assert_int_equal(t.id, GF_TYPE_FLOAT64);
  gf_expr_release(e);
  assert_int_equal(gf_expr_parse("cast(1.50 as decimal(3, 2))", &e, NULL), GF_OK);
  assert_int_equal(gf_expr_result_type(e, sch, &t, NULL), GF_OK);
  assert_true(gf_type_equals(t, gf_type_decimal128(3, 2)));
  gf_expr_release(e);
  /* Out-of-range parameters are refused when binding. */
  assert_int_equal(gf_expr_parse("cast(x as decimal(40, 2))", &e, NULL), GF_OK);
  assert_int_equal(gf_expr_result_type(e, sch, &t, &err), GF_EINVAL);
  gf_expr_release(e);
  /* decimal with strings: refused. */
  assert_int_equal(gf_expr_parse("x + 'a'", &e, NULL), GF_OK);
  assert_int_equal(gf_expr_result_type(e, sch, &t, &err), GF_ETYPE);
  gf_expr_release(e);
  gf_schema_release(sch);
}

/* ---- keys ------------------------------------------------------------------ */

enum { KN = 3000 };
static i128 kv[KN], vv[KN];
static bool kvalid[KN], vvalid[KN];

/* k decimal(8, 2) with few distinct values (and values equal in 64 low
 * bits but not in the high half), v decimal(30, 3). */
static gf_frame *key_frame(void) {
  i128 pool[40];
  for (int i = 0; i < 40; i++) pool[i] = rand_dec(8);
  pool[0] = 0;
  pool[1] = -1;
  pool[2] = 1;
  for (int i = 0; i < KN; i++) {
    kv[i] = pool[gft_rand_next(&rng) % 40];
    vv[i] = rand_dec(30);
    kvalid[i] = i % 19 != 0;
    vvalid[i] = i % 23 != 0;
  }
  gf_array *cols[2] = {dec_array(gf_type_decimal128(8, 2), kv, kvalid, KN),
                       dec_array(gf_type_decimal128(30, 3), vv, vvalid, KN)};
  const char *names[2] = {"k", "v"};
  gf_frame *f = frame_of(names, cols, 2);
  gf_frame *g = gft_garbage_frame(f, 5);
  gf_frame_release(f);
  return g;
}

static int64_t ref_perm[KN];
static bool ref_desc;

/* Naive order: nulls last, by value, stable. */
static int ref_cmp(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  if (kvalid[a] != kvalid[b]) return kvalid[a] ? -1 : 1;
  if (kvalid[a] && kv[a] != kv[b]) return (kv[a] < kv[b]) != ref_desc ? -1 : 1;
  return a < b ? -1 : 1;
}

static void sort_by_decimal_key_matches_naive(void **state) {
  (void)state;
  gf_frame *f = key_frame();
  for (int desc = 0; desc < 2; desc++) {
    ref_desc = desc;
    for (int i = 0; i < KN; i++) ref_perm[i] = i;
    qsort(ref_perm, KN, sizeof ref_perm[0], ref_cmp);
    for (int w = 0; w < 4; w++) {
      gf_parallel_options o;
      popts(&o, k_workers[w]);
      gf_sort_key key = {"k", desc != 0, false};
      int64_t *perm;
      assert_int_equal(gf_sort_indices(f, &key, 1, &o, &perm, NULL), GF_OK);
      for (int i = 0; i < KN; i++)
        if (perm[i] != ref_perm[i]) fail_msg("desc %d workers %d: position %d", desc, k_workers[w], i);
      gf_sort_indices_free(perm, KN, &o);
    }
  }
  gf_frame_release(f);
}

/* decimal256 keys: the same order and groups as the decimal128 ones. */
static void decimal256_sorts_and_groups_by_value(void **state) {
  (void)state;
  gf_frame *f = key_frame();
  gf_builder *b;
  assert_int_equal(gf_builder_new(gf_type_decimal256(40, 2), NULL, &b, NULL), GF_OK);
  for (int i = 0; i < KN; i++) {
    uint8_t raw[32];
    memcpy(raw, &kv[i], 16);
    memset(raw + 16, kv[i] < 0 ? 0xff : 0, 16);
    if (kvalid[i]) assert_int_equal(gf_builder_append_bytes(b, raw, 32, NULL), GF_OK);
    else assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
  }
  gf_array *cols[1];
  assert_int_equal(gf_builder_finish(b, &cols[0], NULL), GF_OK);
  gf_builder_free(b);
  const char *names[1] = {"w"};
  gf_frame *g = frame_of(names, cols, 1);
  ref_desc = false;
  for (int i = 0; i < KN; i++) ref_perm[i] = i;
  qsort(ref_perm, KN, sizeof ref_perm[0], ref_cmp);
  for (int w = 0; w < 4; w++) {
    gf_parallel_options o;
    popts(&o, k_workers[w]);
    gf_sort_key key = {"w", false, false};
    int64_t *perm;
    assert_int_equal(gf_sort_indices(g, &key, 1, &o, &perm, NULL), GF_OK);
    for (int i = 0; i < KN; i++) assert_int_equal(perm[i], ref_perm[i]);
    gf_sort_indices_free(perm, KN, &o);
    /* Groups and min/max: as many groups as distinct decimal128 keys. */
    gf_groupby_options go;
    gf_groupby_options_init(&go);
    go.parallel = &o;
    go.sort_keys = true;
    const char *k1[1] = {"w"}, *k2[1] = {"k"};
    gf_frame *r1, *r2;
    assert_int_equal(gf_group_by_text(g, k1, 1, "min(w) as lo, max(w) as hi, count(w) as n", &go, &r1, NULL), GF_OK);
    assert_int_equal(gf_group_by_text(f, k2, 1, "count(k) as n", &go, &r2, NULL), GF_OK);
    assert_int_equal(gf_frame_num_rows(r1), gf_frame_num_rows(r2));
    for (int64_t row = 0; row < gf_frame_num_rows(r1); row++) {
      int64_t i, j;
      const gf_array *x = cell(r1, 0, row, &i), *y = cell(r2, 0, row, &j);
      char tx[100], ty[100], tlo[100], thi[100];
      gf_array_format_value(x, i, tx, sizeof tx);
      gf_array_format_value(y, j, ty, sizeof ty);
      assert_string_equal(tx, ty);
      gf_array_format_value(cell(r1, 1, row, &i), i, tlo, sizeof tlo);
      gf_array_format_value(cell(r1, 2, row, &i), i, thi, sizeof thi);
      assert_string_equal(tlo, tx);
      assert_string_equal(thi, tx);
    }
    gf_frame_release(r1);
    gf_frame_release(r2);
  }
  gf_error err;
  gf_frame *r = NULL;
  const char *k1[1] = {"w"};
  assert_int_equal(gf_group_by_text(g, k1, 1, "sum(w)", NULL, &r, &err), GF_ENOTSUP);
  assert_non_null(strstr(err.message, "decimal256"));
  assert_int_equal(eval_text(g, "w + 1", 1, &r, &err), GF_ENOTSUP);
  assert_int_equal(eval_text(g, "cast(w as decimal(20, 2)) + 1", 2, &r, &err), GF_OK);
  gf_frame_release(r);
  gf_frame_release(g);
  gf_frame_release(f);
}

static void group_by_sum_min_max_mean_match_naive(void **state) {
  (void)state;
  gf_frame *f = key_frame();
  gf_agg_spec specs[5] = {{GF_AGG_SUM, "v", NULL, 0, 0, "s"}, {GF_AGG_MIN, "v", NULL, 0, 0, "lo"},
                          {GF_AGG_MAX, "v", NULL, 0, 0, "hi"}, {GF_AGG_MEAN, "v", NULL, 0, 0, "m"},
                          {GF_AGG_COUNT, "v", NULL, 0, 0, "n"}};
  const char *keys[1] = {"k"};
  gf_frame *first = NULL;
  for (int w = 0; w < 4; w++) {
    gf_parallel_options o;
    popts(&o, k_workers[w]);
    gf_groupby_options go;
    gf_groupby_options_init(&go);
    go.parallel = &o;
    go.sort_keys = true;
    gf_frame *r;
    gf_error err;
    if (gf_group_by(f, keys, 1, specs, 5, &go, &r, &err) != GF_OK) fail_msg("group_by: %s", err.message);
    assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(r), 1)->type, gf_type_decimal128(38, 3)));
    assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(r), 2)->type, gf_type_decimal128(30, 3)));
    assert_int_equal(gf_schema_field(gf_frame_schema(r), 4)->type.id, GF_TYPE_FLOAT64);
    if (!first) {
      first = gf_frame_retain(r);
      /* Check every group against a naive scan. */
      i128 prev = 0;
      for (int64_t g = 0; g < gf_frame_num_rows(r); g++) {
        int64_t i;
        const gf_array *kc = cell(r, 0, g, &i);
        bool knull = gf_array_is_null(kc, i);
        i128 key = knull ? 0 : dec_at(kc, i);
        if (g > 0 && !knull) assert_true(key > prev);
        prev = key;
        i128 sum = 0, lo = 0, hi = 0;
        int64_t n = 0;
        for (int row = 0; row < KN; row++) {
          if (kvalid[row] == knull || (!knull && kv[row] != key) || !vvalid[row]) continue;
          if (n == 0 || vv[row] < lo) lo = vv[row];
          if (n == 0 || vv[row] > hi) hi = vv[row];
          sum += vv[row];
          n++;
        }
        int64_t j;
        const gf_array *sc = cell(r, 1, g, &j);
        assert_int_equal(gf_array_is_null(sc, j), n == 0);
        if (n == 0) continue;
        assert_true(dec_at(sc, j) == sum);
        assert_true(dec_at(cell(r, 2, g, &j), j) == lo);
        assert_true(dec_at(cell(r, 3, g, &j), j) == hi);
        char t[64];
        text_of(sum, 3, t);
        double mean = strtod(t, NULL) / (double)n;
        assert_true(gf_array_get_double(cell(r, 4, g, &j), j) == mean);
        assert_int_equal(gf_array_get_int64(cell(r, 5, g, &j), j), n);
      }
    } else {
      assert_true(gf_frame_equals(first, r));
    }
    gf_frame_release(r);
  }
  gf_frame_release(first);
  /* distinct on the key: one row per value (and one for null). */
  gf_frame *d;
  assert_int_equal(gf_distinct(f, keys, 1, NULL, &d, NULL), GF_OK);
  int64_t nd = 0;
  for (int i = 0; i < KN; i++) {
    bool seen = false;
    for (int j = 0; j < i && !seen; j++)
      seen = kvalid[i] == kvalid[j] && (!kvalid[i] || kv[i] == kv[j]);
    nd += !seen;
  }
  assert_int_equal(gf_frame_num_rows(d), nd);
  gf_frame_release(d);
  gf_frame_release(f);
  /* A sum beyond 38 digits is an error, not a wraparound. */
  i128 big[20];
  for (int i = 0; i < 20; i++) big[i] = p10(38) - 1;
  gf_array *cols[1] = {dec_array(gf_type_decimal128(38, 0), big, NULL, 20)};
  const char *names[1] = {"x"};
  gf_frame *g = frame_of(names, cols, 1);
  gf_agg_spec sum = {GF_AGG_SUM, "x", NULL, 0, 0, NULL};
  gf_frame *r = NULL;
  gf_error err;
  assert_int_equal(gf_group_by(g, NULL, 0, &sum, 1, NULL, &r, &err), GF_ERANGE);
  assert_non_null(strstr(err.message, "decimal"));
  gf_agg_spec var = {GF_AGG_VAR, "x", NULL, 0, 0, NULL};
  assert_int_equal(gf_group_by(g, NULL, 0, &var, 1, NULL, &r, &err), GF_ETYPE);
  gf_frame_release(g);
}

static void join_on_decimal_keys_matches_naive(void **state) {
  (void)state;
  gf_frame *l = key_frame();
  i128 rk[50];
  bool rvalid[50];
  for (int i = 0; i < 50; i++) {
    rk[i] = kv[(i * 37) % KN];
    rvalid[i] = i % 9 != 0;
  }
  gf_array *rc[1] = {dec_array(gf_type_decimal128(12, 2), rk, rvalid, 50)};
  const char *rn[1] = {"rk"};
  gf_frame *r = frame_of(rn, rc, 1);
  int64_t want = 0;
  for (int i = 0; i < KN; i++)
    for (int j = 0; j < 50; j++) want += kvalid[i] && rvalid[j] && kv[i] == rk[j];
  const char *lon[1] = {"k"}, *ron[1] = {"rk"};
  for (int w = 0; w < 4; w++) {
    gf_parallel_options o;
    popts(&o, k_workers[w]);
    gf_join_options jo;
    gf_join_options_init(&jo);
    jo.parallel = &o;
    gf_frame *out;
    gf_error err;
    if (gf_join(l, r, lon, ron, 1, GF_JOIN_INNER, &jo, &out, &err) != GF_OK) fail_msg("join: %s", err.message);
    assert_int_equal(gf_frame_num_rows(out), want);
    gf_frame_release(out);
  }
  /* Different scales do not join. */
  gf_array *sc[1] = {dec_array(gf_type_decimal128(12, 3), rk, rvalid, 50)};
  gf_frame *r3 = frame_of(rn, sc, 1);
  gf_frame *out = NULL;
  gf_error err;
  assert_int_equal(gf_join(l, r3, lon, ron, 1, GF_JOIN_INNER, NULL, &out, &err), GF_ETYPE);
  gf_frame_release(r3);
  gf_frame_release(r);
  gf_frame_release(l);
}

/* ---- CSV reading ------------------------------------------------------------ */

static void csv_type_override_reads_exact_decimals(void **state) {
  (void)state;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  gf_csv_column_type ct[1] = {{"p", gf_type_decimal128(10, 2)}};
  o.column_types = ct;
  o.num_column_types = 1;
  const char *text = "p,q\n1.5,a\n-0.125,b\n,c\n12345678.99,d\n1e-2,e\n";
  gf_frame *f;
  gf_error err;
  if (gf_read_csv_buffer(text, strlen(text), "t.csv", &o, &f, &err) != GF_OK) fail_msg("%s", err.message);
  const gf_array *a = gf_frame_column(f, 0, 0);
  assert_true(gf_type_equals(gf_array_type(a), gf_type_decimal128(10, 2)));
  i128 want[5] = {150, -13, 0, 1234567899, 1};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(gf_array_is_null(a, i), i == 2);
    if (i != 2) assert_true(dec_at(a, i) == want[i]);
  }
  gf_frame_release(f);
  /* Long texts: 100 fraction digits round; 100 integral digits with an
   * exponent bringing them back into range still read. */
  char longtxt[400];
  int L = snprintf(longtxt, sizeof longtxt, "p\n1.");
  for (int i = 0; i < 99; i++) longtxt[L++] = '0';
  L += snprintf(longtxt + L, sizeof longtxt - (size_t)L, "6\n1");
  for (int i = 0; i < 99; i++) longtxt[L++] = '0';
  L += snprintf(longtxt + L, sizeof longtxt - (size_t)L, "e-97\n");
  if (gf_read_csv_buffer(longtxt, (size_t)L, "t.csv", &o, &f, &err) != GF_OK) fail_msg("%s", err.message);
  a = gf_frame_column(f, 0, 0);
  assert_true(dec_at(a, 0) == 100);
  assert_true(dec_at(a, 1) == 10000);
  gf_frame_release(f);
  const char *bad = "p\n1.5\n123456789.5\n";
  assert_int_equal(gf_read_csv_buffer(bad, strlen(bad), "t.csv", &o, &f, &err), GF_EPARSE);
  assert_non_null(strstr(err.message, "t.csv:3"));
}

/* ---- other engines as the reference ------------------------------------------ */

static gf_frame *read_data(const char *name) {
  const char *base = getenv("GF_TEST_DATA");
  if (!base) base = "../tests/data";
  char path[1024];
  snprintf(path, sizeof path, "%s/decimal/%s", base, name);
  gf_frame *f = NULL;
  gf_error err;
  if (gf_read_ipc_file(path, NULL, &f, &err) != GF_OK) fail_msg("%s: %s", path, err.message);
  return f;
}

/* Column `name` of f as one array. */
static gf_array *column_named(const gf_frame *f, const char *name) {
  gf_frame *one;
  assert_int_equal(gf_frame_combine_batches(f, NULL, &one, NULL), GF_OK);
  int c = gf_schema_find(gf_frame_schema(one), name);
  assert_true(c >= 0);
  gf_array *a = gf_array_retain(gf_frame_column(one, 0, c));
  gf_frame_release(one);
  return a;
}

static void pyarrow_compute_results_match(void **state) {
  (void)state;
  gf_frame *f = read_data("arith.arrow"); /* made by make_expected.py */
  struct { const char *text, *col; } cases[] = {
      {"a + b", "add"}, {"a - b", "sub"}, {"a * b", "mul"}, {"if(b = 0, null, a / b)", "div"},
      {"a < b", "lt"}, {"a = b", "eq"}, {"cast(a as float64)", "f"}};
  /* pyarrow's decimal -> float64 is not always correctly rounded (-525.81
   * becomes -525.8100000000001); ours is (see the casts test), so that
   * column is compared to within 2 ulp. */
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    for (int w = 0; w < 4; w++) {
      gf_frame *r;
      gf_error err;
      if (eval_text(f, cases[k].text, k_workers[w], &r, &err) != GF_OK)
        fail_msg("%s: %s", cases[k].text, err.message);
      gf_array *got = column_named(r, "r"), *want = column_named(f, cases[k].col);
      if (!strcmp(cases[k].col, "f")) {
        for (int64_t i = 0; i < gf_array_length(want); i++) {
          assert_int_equal(gf_array_is_null(got, i), gf_array_is_null(want, i));
          double x = gf_array_get_double(got, i), y = gf_array_get_double(want, i);
          if (fabs(x - y) > 2 * (nextafter(fabs(y), INFINITY) - fabs(y)))
            fail_msg("cast row %lld: %.17g vs pyarrow %.17g", (long long)i, x, y);
        }
      } else if (!gf_array_equals(got, want)) {
        for (int64_t i = 0; i < gf_array_length(want); i++) {
          char x[80], y[80];
          gf_array_format_value(got, i, x, sizeof x);
          gf_array_format_value(want, i, y, sizeof y);
          if (strcmp(x, y) != 0) fail_msg("%s row %lld: %s, pyarrow %s", cases[k].text, (long long)i, x, y);
        }
        fail_msg("%s: arrays differ (type?)", cases[k].text);
      }
      gf_array_release(got);
      gf_array_release(want);
      gf_frame_release(r);
    }
  }
  gf_frame_release(f);
}

static void duckdb_group_by_results_match(void **state) {
  (void)state;
  gf_frame *in = read_data("groupby_input.arrow"), *want = read_data("groupby_duckdb.arrow");
  const char *keys[1] = {"k"};
  for (int w = 0; w < 4; w++) {
    gf_parallel_options o;
    popts(&o, k_workers[w]);
    gf_groupby_options go;
    gf_groupby_options_init(&go);
    go.parallel = &o;
    go.sort_keys = true;
    gf_frame *r;
    gf_error err;
    if (gf_group_by_text(in, keys, 1, "sum(v) as s, min(v) as lo, max(v) as hi, mean(v) as m, count(v) as n",
                         &go, &r, &err) != GF_OK)
      fail_msg("group_by: %s", err.message);
    const char *exact[] = {"k", "s", "lo", "hi", "n"};
    for (int c = 0; c < 5; c++) {
      gf_array *x = column_named(r, exact[c]), *y = column_named(want, exact[c]);
      if (!gf_array_equals(x, y)) fail_msg("column %s differs from DuckDB", exact[c]);
      gf_array_release(x);
      gf_array_release(y);
    }
    gf_array *x = column_named(r, "m"), *y = column_named(want, "m");
    assert_int_equal(gf_array_length(x), gf_array_length(y));
    for (int64_t i = 0; i < gf_array_length(x); i++) {
      assert_int_equal(gf_array_is_null(x, i), gf_array_is_null(y, i));
      double a = gf_array_get_double(x, i), b = gf_array_get_double(y, i);
      if (fabs(a - b) > 1e-12 * fabs(b)) fail_msg("mean row %lld: %.17g vs DuckDB %.17g", (long long)i, a, b);
    }
    gf_array_release(x);
    gf_array_release(y);
    gf_frame_release(r);
  }
  gf_frame_release(in);
  gf_frame_release(want);
}

/* ---- allocation failures ------------------------------------------------------ */

typedef struct dec_sweep {
  const gf_frame *f, *want;
  const char *what; /* expression, or "group" / "sort" */
  int workers;
} dec_sweep;

static gf_status dec_once(void *user, const gf_allocator *a) {
  dec_sweep *s = user;
  gf_parallel_options o;
  popts(&o, s->workers);
  o.allocator = a;
  gf_frame *r = NULL;
  gf_status st;
  if (!strcmp(s->what, "group")) {
    gf_groupby_options go;
    gf_groupby_options_init(&go);
    go.parallel = &o;
    const char *keys[1] = {"k"};
    st = gf_group_by_text(s->f, keys, 1, "sum(v), min(v), mean(v)", &go, &r, NULL);
  } else if (!strcmp(s->what, "sort")) {
    gf_sort_key key = {"k", true, false};
    st = gf_sort(s->f, &key, 1, 0, &o, &r, NULL);
  } else {
    gf_expr *e;
    assert_int_equal(gf_expr_parse(s->what, &e, NULL), GF_OK);
    st = gf_evaluate(s->f, e, "r", &o, &r, NULL);
    gf_expr_release(e);
  }
  if (st == GF_OK) {
    if (!gf_frame_equals(r, s->want)) fail_msg("%s: %s: wrong result", s->what, gft_sweep_at());
    gf_frame_release(r);
  } else {
    assert_null(r);
  }
  return st;
}

/* The reference result of one sweep case (default allocator). */
static gf_status dec_once_clean(dec_sweep *s, gf_frame **out) {
  gf_parallel_options o;
  popts(&o, s->workers);
  gf_status st;
  if (!strcmp(s->what, "group")) {
    gf_groupby_options go;
    gf_groupby_options_init(&go);
    go.parallel = &o;
    const char *keys[1] = {"k"};
    st = gf_group_by_text(s->f, keys, 1, "sum(v), min(v), mean(v)", &go, out, NULL);
  } else if (!strcmp(s->what, "sort")) {
    gf_sort_key key = {"k", true, false};
    st = gf_sort(s->f, &key, 1, 0, &o, out, NULL);
  } else {
    gf_expr *e;
    assert_int_equal(gf_expr_parse(s->what, &e, NULL), GF_OK);
    st = gf_evaluate(s->f, e, "r", &o, out, NULL);
    gf_expr_release(e);
  }
  return st;
}

/* Every allocation of the decimal paths failed, one-off and persistent:
 * GF_ENOMEM, nothing leaked, the clean result once it runs clean. */
static void survives_allocation_failures(void **state) {
  (void)state;
  gf_frame *ef = expr_frame(), *kf = key_frame();
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  const char *what[] = {"a / b + cast(b as decimal(12, 1))", "a < b", "group", "sort"};
  gft_sweep_counts counts = {0};
  for (int k = 0; k < 4; k++) {
    for (int w = 1; w <= 2; w++) {
      dec_sweep s = {k < 2 ? ef : kf, NULL, what[k], w};
      gf_frame *want = NULL;
      assert_int_equal(dec_once_clean(&s, &want), GF_OK);
      s.want = want;
      gft_alloc_sweep(what[k], fa, dec_once, &s, &counts);
      gf_frame_release(want);
    }
  }
  gft_sweep_print("decimal", &counts);
  gf_failing_allocator_free(fa);
  gf_frame_release(ef);
  gf_frame_release(kf);
}

/* ---- abs / floor / ceil / round and if() ------------------------------------ */

/* Naive rounding of v (scale s) to scale `to` (< s), half away from zero,
 * then times 10^up: the schoolbook way on the magnitude. */
static i128 naive_round(i128 v, int s, int to, int up) {
  int d = s - to + up;
  if (d > 38) return 0;
  i128 m = v < 0 ? -v : v, p = p10(d);
  i128 q = (m + p / 2) / p;
  return (v < 0 ? -q : q) * p10(up);
}

static i128 naive_floor(i128 v, int s) {
  i128 p = p10(s), q = v / p;
  if (q * p > v) q -= 1; /* C division truncates toward zero */
  return q;
}

static i128 naive_ceil(i128 v, int s) {
  i128 p = p10(s), q = v / p;
  if (q * p < v) q += 1;
  return q;
}

static i128 naive_abs(i128 v) { return v < 0 ? -v : v; }

/* Checks one rounding case over the a/b frame (a (12,2), b (10,4)). */
static void check_rounding(const gf_frame *f, const char *text, bool on_b, int p, int s,
                           i128 (*want_of)(i128 v, int s_in), int w) {
  gf_frame *r;
  gf_error err;
  if (eval_text(f, text, w, &r, &err) != GF_OK) fail_msg("%s: %s", text, err.message);
  gf_datatype t = gf_schema_field(gf_frame_schema(r), 0)->type;
  if (!gf_type_equals(t, gf_type_decimal128(p, s))) {
    char tn[64];
    fail_msg("%s: type %s, want decimal(%d, %d)", text, gf_type_format(t, tn, sizeof tn), p, s);
  }
  for (int64_t row = 0; row < EN; row++) {
    int64_t i;
    const gf_array *col = cell(r, 0, row, &i);
    bool valid = on_b ? evb[row] : eva[row];
    if (gf_array_is_null(col, i) != !valid) fail_msg("%s row %lld: null", text, (long long)row);
    if (!valid) continue;
    i128 want = want_of(on_b ? eb[row] : ea[row], on_b ? 4 : 2);
    if (dec_at(col, i) != want) {
      char x[64], y[64];
      text_of(dec_at(col, i), s, x);
      text_of(want, s, y);
      fail_msg("%s row %lld: %s != %s", text, (long long)row, x, y);
    }
  }
  gf_frame_release(r);
}

static i128 w_abs(i128 v, int s) { (void)s; return naive_abs(v); }
static i128 w_floor(i128 v, int s) { return naive_floor(v, s); }
static i128 w_ceil(i128 v, int s) { return naive_ceil(v, s); }
static i128 w_round0(i128 v, int s) { return naive_round(v, s, 0, 0); }
static i128 w_round2(i128 v, int s) { return naive_round(v, s, 2, 0); }
static i128 w_same(i128 v, int s) { (void)s; return v; }
static i128 w_round_m1(i128 v, int s) { return naive_round(v, s, 0, 1); }
static i128 w_round_m3(i128 v, int s) { return naive_round(v, s, 0, 3); }
static i128 w_round_m40(i128 v, int s) { (void)v; (void)s; return 0; }

static void rounding_matches_naive_int128(void **state) {
  (void)state;
  gf_frame *clean = expr_frame();
  gf_frame *garbage = gft_garbage_frame(clean, 19);
  for (int src = 0; src < 2; src++) {
    const gf_frame *f = src ? garbage : clean;
    for (int w = 0; w < 4; w++) {
      int k = k_workers[w];
      check_rounding(f, "abs(a)", false, 12, 2, w_abs, k);
      check_rounding(f, "abs(b)", true, 10, 4, w_abs, k);
      check_rounding(f, "floor(a)", false, 12, 0, w_floor, k);
      check_rounding(f, "ceil(a)", false, 12, 0, w_ceil, k);
      check_rounding(f, "floor(b)", true, 10, 0, w_floor, k);
      check_rounding(f, "ceil(b)", true, 10, 0, w_ceil, k);
      check_rounding(f, "round(a)", false, 12, 0, w_round0, k);
      check_rounding(f, "round(b, 2)", true, 10, 2, w_round2, k);
      check_rounding(f, "round(b, 4)", true, 10, 4, w_same, k);
      check_rounding(f, "round(b, 9)", true, 10, 4, w_same, k);
      check_rounding(f, "round(a, -1)", false, 12, 0, w_round_m1, k);
      check_rounding(f, "round(b, -3)", true, 10, 0, w_round_m3, k);
      check_rounding(f, "round(b, -40)", true, 10, 0, w_round_m40, k);
    }
  }
  /* Hand-checked values (DuckDB gives the same): halves away from zero. */
  i128 v[6] = {-125, 125, -150, 9995, 99999, -1};
  gf_array *col = dec_array(gf_type_decimal128(5, 2), v, NULL, 6);
  const char *nm[1] = {"x"};
  gf_frame *f = frame_of(nm, &col, 1);
  struct { const char *text; int p, s; i128 want[6]; } hc[] = {
      {"round(x)", 5, 0, {-1, 1, -2, 100, 1000, 0}},
      {"round(x, 1)", 5, 1, {-13, 13, -15, 1000, 10000, 0}},
      {"floor(x)", 5, 0, {-2, 1, -2, 99, 999, -1}},
      {"ceil(x)", 5, 0, {-1, 2, -1, 100, 1000, 0}},
      {"round(x, -3)", 5, 0, {0, 0, 0, 0, 1000, 0}},
      {"abs(x)", 5, 2, {125, 125, 150, 9995, 99999, 1}}};
  for (size_t c = 0; c < sizeof hc / sizeof hc[0]; c++) {
    gf_frame *r;
    gf_error err;
    if (eval_text(f, hc[c].text, 1, &r, &err) != GF_OK) fail_msg("%s: %s", hc[c].text, err.message);
    assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(r), 0)->type,
                               gf_type_decimal128(hc[c].p, hc[c].s)));
    for (int i = 0; i < 6; i++)
      if (dec_at(gf_frame_column(r, 0, 0), i) != hc[c].want[i])
        fail_msg("%s row %d: %lld", hc[c].text, i, (long long)dec_at(gf_frame_column(r, 0, 0), i));
    gf_frame_release(r);
  }
  /* A result beyond the precision is an error naming the row. */
  i128 big[2] = {1, 999};
  gf_array *bc = dec_array(gf_type_decimal128(3, 0), big, NULL, 2);
  gf_frame *bf = frame_of(nm, &bc, 1);
  gf_frame *r = NULL;
  gf_error err;
  assert_int_equal(eval_text(bf, "round(x, -1)", 1, &r, &err), GF_ERANGE);
  assert_non_null(strstr(err.message, "row 1"));
  assert_null(r);
  /* sqrt / log / exp of a decimal compute in float64. */
  assert_int_equal(eval_text(f, "sqrt(abs(x))", 1, &r, &err), GF_OK);
  assert_int_equal(gf_schema_field(gf_frame_schema(r), 0)->type.id, GF_TYPE_FLOAT64);
  gf_frame_release(r);
  gf_frame_release(bf);
  gf_frame_release(f);
  gf_frame_release(garbage);
  gf_frame_release(clean);
}

/* if() and coalesce() with decimal branches of different (p, s), or a
 * decimal and an integer: all become the unified type (DuckDB's), values
 * exact. */
static void if_unifies_decimal_branches(void **state) {
  (void)state;
  gf_frame *clean = expr_frame();
  gf_frame *garbage = gft_garbage_frame(clean, 23);
  for (int src = 0; src < 2; src++) {
    const gf_frame *f = src ? garbage : clean;
    for (int w = 0; w < 4; w++) {
      gf_frame *r;
      gf_error err;
      /* (12,2) and (10,4): integer digits max(10, 6), scale 4 -> (14,4). */
      if (eval_text(f, "if(a > b, a, b)", k_workers[w], &r, &err) != GF_OK)
        fail_msg("if: %s", err.message);
      assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(r), 0)->type,
                                 gf_type_decimal128(14, 4)));
      for (int64_t row = 0; row < EN; row++) {
        int64_t i;
        const gf_array *col = cell(r, 0, row, &i);
        /* a null condition takes the else branch (b) */
        bool cond = eva[row] && evb[row] && ea[row] * 100 > eb[row];
        bool valid = cond ? eva[row] : evb[row];
        if (gf_array_is_null(col, i) != !valid) fail_msg("if row %lld: null", (long long)row);
        if (valid && dec_at(col, i) != (cond ? ea[row] * 100 : eb[row]))
          fail_msg("if row %lld: value", (long long)row);
      }
      gf_frame_release(r);
      /* coalesce: the first non-null, over the same unified type. */
      if (eval_text(f, "coalesce(a, b)", k_workers[w], &r, &err) != GF_OK)
        fail_msg("coalesce: %s", err.message);
      assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(r), 0)->type,
                                 gf_type_decimal128(14, 4)));
      for (int64_t row = 0; row < EN; row++) {
        int64_t i;
        const gf_array *col = cell(r, 0, row, &i);
        bool valid = eva[row] || evb[row];
        if (gf_array_is_null(col, i) != !valid) fail_msg("coalesce row %lld: null", (long long)row);
        if (valid && dec_at(col, i) != (eva[row] ? ea[row] * 100 : eb[row]))
          fail_msg("coalesce row %lld: value", (long long)row);
      }
      gf_frame_release(r);
      if (eval_text(f, "coalesce(null, b, a, 7)", k_workers[w], &r, &err) != GF_OK)
        fail_msg("coalesce 4: %s", err.message);
      assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(r), 0)->type,
                                 gf_type_decimal128(14, 4)));
      for (int64_t row = 0; row < EN; row++) {
        int64_t i;
        const gf_array *col = cell(r, 0, row, &i);
        i128 want = evb[row] ? eb[row] : eva[row] ? ea[row] * 100 : 70000;
        assert_false(gf_array_is_null(col, i));
        if (dec_at(col, i) != want) fail_msg("coalesce 4 row %lld: value", (long long)row);
      }
      gf_frame_release(r);
      /* A decimal and an integer literal: 7 is decimal(1, 0) -> (12, 2). */
      if (eval_text(f, "if(a > 0, a, 7)", k_workers[w], &r, &err) != GF_OK)
        fail_msg("if literal: %s", err.message);
      assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(r), 0)->type,
                                 gf_type_decimal128(12, 2)));
      for (int64_t row = 0; row < EN; row++) {
        int64_t i;
        const gf_array *col = cell(r, 0, row, &i);
        bool cond = eva[row] && ea[row] > 0;
        assert_false(gf_array_is_null(col, i));
        if (dec_at(col, i) != (cond ? ea[row] : 700)) fail_msg("if literal row %lld", (long long)row);
      }
      gf_frame_release(r);
    }
  }
  gf_frame_release(garbage);
  gf_frame_release(clean);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(types_validate_name_and_compare),
      cmocka_unit_test(text_is_exact_in_values_printing_and_csv),
      cmocka_unit_test(cdata_and_ipc_round_trip_with_slices_and_garbage),
      cmocka_unit_test(arithmetic_matches_naive_int128_at_every_worker_count),
      cmocka_unit_test(overflow_is_an_error_naming_the_row),
      cmocka_unit_test(comparisons_across_scales_integers_and_floats),
      cmocka_unit_test(casts_to_and_from_numbers_and_strings),
      cmocka_unit_test(parser_syntax_and_literals),
      cmocka_unit_test(sort_by_decimal_key_matches_naive),
      cmocka_unit_test(group_by_sum_min_max_mean_match_naive),
      cmocka_unit_test(decimal256_sorts_and_groups_by_value),
      cmocka_unit_test(join_on_decimal_keys_matches_naive),
      cmocka_unit_test(csv_type_override_reads_exact_decimals),
      cmocka_unit_test(pyarrow_compute_results_match),
      cmocka_unit_test(duckdb_group_by_results_match),
      cmocka_unit_test(survives_allocation_failures),
      cmocka_unit_test(rounding_matches_naive_int128),
      cmocka_unit_test(if_unifies_decimal_branches),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
