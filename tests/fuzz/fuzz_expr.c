/* libFuzzer target: the expression language. The input is expression text.
 * When it parses: gf_expr_to_string of the tree must parse back to an equal
 * tree (and print identically); when the tree binds against a fixed schema
 * of common types, it is evaluated over a tiny frame (with nulls, NaN,
 * extremes) at 1 worker and at 2 workers with one-row chunks, and the
 * results must be identical. Anything else aborts. Seed corpus:
 * tests/fuzz/corpus/expr/. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gopherframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The frame expressions are evaluated over: columns i int64, u uint64,
 * f float64, s utf8, b bool, d date32, ts timestamp[us], ds dictionary<utf8>,
 * g int8. Built once through the CSV reader with forced types. */
static gf_frame *fixture(void) {
  static gf_frame *frame;
  if (frame) return frame;
  static const char csv[] =
      "i,u,f,s,b,d,ts,ds,g\n"
      "1,0,1.5,abc,true,2024-01-31,2024-01-31 12:00:00,x,-128\n"
      ",18446744073709551615,,,,,,,127\n"
      "-9223372036854775808,7,nan,\xc3\xa9t\xc3\xa9,false,1970-01-01,1999-12-31 23:59:59,y,0\n"
      "9223372036854775807,3,-0.0,'q',true,2000-02-29,1970-01-01 00:00:00,x,5\n"
      "0,1,inf,,false,1969-12-31,2038-01-19 03:14:08,,\n";
  gf_csv_column_type types[9] = {
      {"i", gf_type(GF_TYPE_INT64)},   {"u", gf_type(GF_TYPE_UINT64)},
      {"f", gf_type(GF_TYPE_FLOAT64)}, {"s", gf_type(GF_TYPE_UTF8)},
      {"b", gf_type(GF_TYPE_BOOL)},    {"d", gf_type(GF_TYPE_DATE32)},
      {"ts", gf_type_timestamp(GF_UNIT_MICRO, false, 0)},
      {"ds", gf_type_dictionary(gf_type(GF_TYPE_UTF8))},
      {"g", gf_type(GF_TYPE_INT8)}};
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.column_types = types;
  o.num_column_types = 9;
  o.header = 1;
  static const char *const nulls[] = {""};
  o.null_values = nulls;
  o.num_null_values = 1;
  gf_error err;
  if (gf_read_csv_buffer(csv, sizeof csv - 1, "fixture.csv", &o, &frame, &err) !=
      GF_OK) {
    fprintf(stderr, "fixture: %s\n", err.message);
    abort();
  }
  return frame;
}

/* Checks that printing `e` and parsing the text gives an equal tree that
 * prints the same. */
static void check_round_trip(const gf_expr *e) {
  char *text = NULL;
  if (gf_expr_to_string(e, &text, NULL) != GF_OK) return; /* only ENOMEM */
  gf_expr *back = NULL;
  gf_error err;
  if (gf_expr_parse(text, &back, &err) != GF_OK) {
    fprintf(stderr, "to_string output does not parse: '%s': %s\n", text,
            err.message);
    abort();
  }
  if (!gf_expr_equals(e, back)) {
    fprintf(stderr, "round trip changed the tree: '%s'\n", text);
    abort();
  }
  char *text2 = NULL;
  if (gf_expr_to_string(back, &text2, NULL) == GF_OK) {
    if (strcmp(text, text2) != 0) {
      fprintf(stderr, "printing not stable: '%s' vs '%s'\n", text, text2);
      abort();
    }
    gf_mem_free(text2);
  }
  gf_expr_release(back);
  gf_mem_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  gf_expr *e = NULL;
  gf_status st = gf_expr_parse(text, &e, NULL);
  free(text);
  if (st != GF_OK) return 0;
  check_round_trip(e);

  gf_frame *f = fixture();
  gf_bound_expr *b = NULL;
  if (gf_expr_bind(e, gf_frame_schema(f), &b, NULL) == GF_OK) {
    gf_bound_expr_free(b);
    gf_parallel_options p1, p2;
    gf_parallel_options_init(&p1);
    p1.num_workers = 1;
    gf_parallel_options_init(&p2);
    p2.num_workers = 2;
    p2.chunk_rows = 1;
    p2.min_parallel_rows = 1;
    p2.strategy = GF_STRATEGY_FIXED_CHUNKS;
    gf_frame *r1 = NULL, *r2 = NULL;
    gf_error e1, e2;
    gf_status s1 = gf_evaluate(f, e, "r", &p1, &r1, &e1);
    gf_status s2 = gf_evaluate(f, e, "r", &p2, &r2, &e2);
    if (s1 != s2 || (s1 == GF_OK && !gf_frame_equals(r1, r2))) {
      fprintf(stderr, "evaluation differs between 1 and 2 workers (%d, %d)\n",
              (int)s1, (int)s2);
      abort();
    }
    if (s1 == GF_OK) {
      char buf[64];
      const gf_array *a = gf_frame_column(r1, 0, 0);
      /* Layout only: string literals carry the caller's bytes as they are
       * (the parser does not require UTF-8), so results may too. */
      if (gf_array_validate(a, false, NULL) != GF_OK) abort();
      for (int64_t i = 0; i < gf_array_length(a); i++)
        gf_array_format_value(a, i, buf, sizeof buf);
      /* A bool result also drives the filter path. */
      if (gf_array_type(a).id == GF_TYPE_BOOL) {
        gf_frame *k1 = NULL, *k2 = NULL;
        s1 = gf_filter(f, e, &p1, &k1, NULL);
        s2 = gf_filter(f, e, &p2, &k2, NULL);
        if (s1 != s2 || (s1 == GF_OK && !gf_frame_equals(k1, k2))) abort();
        gf_frame_release(k1);
        gf_frame_release(k2);
      }
    }
    gf_frame_release(r1);
    gf_frame_release(r2);
  }
  gf_expr_release(e);
  return 0;
}
