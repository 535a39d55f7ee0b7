/* libFuzzer target: the expression language. The input is expression text.
 * When it parses: gf_expr_to_string of the tree must parse back to an equal
 * tree (and print identically); when the tree binds against a fixed schema
 * of common types, it is evaluated over a tiny frame (with nulls, NaN,
 * extremes) at 1 worker and at 2 workers with one-row chunks, and the
 * results must be identical (inputs over HUGE_INPUT bytes are evaluated
 * once, at 1 worker, for speed). Anything else aborts. Seed corpus:
 * tests/fuzz/corpus/expr/. A custom mutator (expr_shape_mutate) sometimes
 * rewrites the input into, or splices in, shapes random byte edits never
 * reach: flat chains of 500-3,000 terms, deep unary and parenthesis chains,
 * `in` lists of 1,000-40,000 items (scripts/fuzz raises -max_len so they
 * fit). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gopherframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A text buffer bounded by the mutator's max_size: appends that do not fit
 * are dropped and set `full`, so a shape is cut short rather than overrun. */
typedef struct {
  uint8_t *p;
  size_t len, cap;
  int full;
} shape_buf;

static void put(shape_buf *b, const char *s) {
  size_t n = strlen(s);
  if (b->full || b->len > b->cap || n > b->cap - b->len) {
    b->full = 1;
    return;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

/* splitmix64: a small generator seeded by libFuzzer's seed, so a mutation
 * is reproducible from the seed alone. */
static uint64_t shape_rand(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

/* Uniform-ish integer in [lo, hi]. */
static size_t shape_between(uint64_t *s, size_t lo, size_t hi) {
  return lo + (size_t)(shape_rand(s) % (hi - lo + 1));
}

/* Writes one stress shape into `b`, choosing kind and size from `rng`;
 * terms are columns of the fixture's schema so most shapes also bind and
 * evaluate. Returns the number of terms, operators or items written (what
 * was asked for, even if the buffer cut it short). */
static size_t write_shape(shape_buf *b, uint64_t *rng) {
  static const char *const ops[] = {" + ", " * ", " and ", " or ", " - ", " / "};
  static const char *const num_terms[] = {"i", "f", "1", "g", "u", "2.5", "m"};
  static const char *const bool_terms[] = {"b", "true", "i > 0", "s = 'x'"};
  char item[32];
  size_t n;
  switch (shape_rand(rng) % 5) {
  case 0: { /* long flat chain of one operator */
    size_t op = shape_rand(rng) % 6;
    int logical = op == 2 || op == 3;
    n = shape_between(rng, 500, 3000);
    for (size_t k = 0; k < n; k++) {
      if (k) put(b, ops[op]);
      put(b, logical ? bool_terms[shape_rand(rng) % 4] : num_terms[shape_rand(rng) % 7]);
    }
    return n;
  }
  case 1: { /* deep unary chain, on both sides of the 1,000-level cap */
    int neg = (int)(shape_rand(rng) & 1);
    n = shape_between(rng, 500, 3000);
    for (size_t k = 0; k < n; k++) put(b, neg ? "- " : "not ");
    put(b, neg ? "i" : "b");
    return n;
  }
  case 2: { /* deep parentheses */
    n = shape_between(rng, 500, 3000);
    for (size_t k = 0; k < n; k++) put(b, "(");
    put(b, "i + 1");
    for (size_t k = 0; k < n; k++) put(b, ")");
    return n;
  }
  default: { /* huge `in` list, integers or strings */
    int str = (int)(shape_rand(rng) & 1);
    n = shape_between(rng, 1000, 40000);
    put(b, str ? "s in (" : "i in (");
    /* Keep room for the closing parenthesis so the list stays well formed
     * when max_size cuts it short. */
    size_t cap = b->cap;
    b->cap = cap > 0 ? cap - 1 : 0;
    for (size_t k = 0; k < n && !b->full; k++) {
      if (str)
        snprintf(item, sizeof item, "%s'v%u'", k ? ", " : "", (unsigned)(shape_rand(rng) % 100000));
      else
        snprintf(item, sizeof item, "%s%lld", k ? ", " : "",
                 (long long)(shape_rand(rng) % 2000001) - 1000000);
      put(b, item);
    }
    b->cap = cap;
    b->full = 0;
    put(b, ")");
    return n;
  }
  }
}

/* The mutator's contract (libFuzzer's LLVMFuzzerCustomMutator): rewrite
 * data[0..size) in place into at most max_size bytes and return the new
 * size. One call in eight produces a stress shape (alone, or spliced into
 * the input at a random point); otherwise returns 0 so the caller uses the
 * default byte-level mutation. */
static size_t expr_shape_mutate(uint8_t *data, size_t size, size_t max_size, unsigned seed) {
  uint64_t rng = seed;
  if (shape_rand(&rng) % 8 != 0 || max_size == 0) return 0;
  uint8_t *out = malloc(max_size);
  if (!out) return 0;
  shape_buf b = {out, 0, max_size, 0};
  size_t cut = size ? (size_t)(shape_rand(&rng) % (size + 1)) : 0;
  int splice = size > 0 && (shape_rand(&rng) & 1);
  if (splice) {
    /* Input up to `cut`, a parenthesised shape, then the rest. */
    if (cut > b.cap) cut = b.cap;
    memcpy(out, data, cut);
    b.len = cut;
    put(&b, "(");
    write_shape(&b, &rng);
    b.full = 0;
    put(&b, ")");
    size_t rest = size - cut;
    if (rest > b.cap - b.len) rest = b.cap - b.len;
    memcpy(out + b.len, data + cut, rest);
    b.len += rest;
  } else {
    write_shape(&b, &rng);
  }
  memcpy(data, out, b.len);
  free(out);
  return b.len;
}

/* Only in the libFuzzer build: test_fuzz_regressions.c compiles this file
 * with LLVMFuzzerTestOneInput defined as a macro and has no libFuzzer to
 * provide LLVMFuzzerMutate. */
#ifndef LLVMFuzzerTestOneInput
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed) {
  size_t n = expr_shape_mutate(data, size, max_size, seed);
  return n ? n : LLVMFuzzerMutate(data, size, max_size);
}
#endif

/* The frame expressions are evaluated over: columns i int64, u uint64,
 * f float64, s utf8, b bool, d date32, ts timestamp[us], ds dictionary<utf8>,
 * g int8, tz timestamp[us, US/Eastern] (needs the tz database),
 * m decimal128(10, 2), ls large_utf8 (the values of s), dls
 * dictionary<large_utf8>. Built once through the CSV reader with forced types. */
static gf_frame *fixture(void) {
  static gf_frame *frame;
  if (frame) return frame;
  static const char csv[] =
      "i,u,f,s,b,d,ts,ds,g,tz,m,ls,dls\n"
      "1,0,1.5,abc,true,2024-01-31,2024-01-31 12:00:00,x,-128,2021-03-14 02:30:00,1.50,abc,x\n"
      ",18446744073709551615,,,,,,,127,,,,\n"
      "-9223372036854775808,7,nan,\xc3\xa9t\xc3\xa9,false,1970-01-01,1999-12-31 23:59:59,y,0,2021-11-07T01:30:00-05:00,-99999999.99,"
      "\xc3\xa9t\xc3\xa9,y\n"
      "9223372036854775807,3,-0.0,'q',true,2000-02-29,1970-01-01 00:00:00,x,5,1883-11-18 12:00:00,0.01,'q',x\n"
      "0,1,inf,,false,1969-12-31,2038-01-19 03:14:08,,,2400-07-01 00:00:00,0,,\n";
  gf_datatype eastern;
  if (gf_type_timestamp_zone(GF_UNIT_MICRO, "US/Eastern", &eastern, NULL) != GF_OK) {
    fprintf(stderr, "fixture: no US/Eastern: install tzdata\n");
    abort();
  }
  gf_csv_column_type types[13] = {
      {"i", gf_type(GF_TYPE_INT64)},   {"u", gf_type(GF_TYPE_UINT64)},
      {"f", gf_type(GF_TYPE_FLOAT64)}, {"s", gf_type(GF_TYPE_UTF8)},
      {"b", gf_type(GF_TYPE_BOOL)},    {"d", gf_type(GF_TYPE_DATE32)},
      {"ts", gf_type_timestamp(GF_UNIT_MICRO, false, 0)},
      {"ds", gf_type_dictionary(gf_type(GF_TYPE_UTF8))},
      {"g", gf_type(GF_TYPE_INT8)},    {"tz", eastern},
      {"m", gf_type_decimal128(10, 2)}, {"ls", gf_type(GF_TYPE_LARGE_UTF8)},
      {"dls", gf_type_dictionary(gf_type(GF_TYPE_LARGE_UTF8))}};
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.column_types = types;
  o.num_column_types = 13;
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

/* Inputs longer than this (only the shape mutator makes them) get the
 * cheaper evaluation check in LLVMFuzzerTestOneInput. */
#define HUGE_INPUT 16384

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
    if (size > HUGE_INPUT) {
      /* Evaluation costs per list item and per chunk (a 40,000-item `in`
       * list takes ~12 s under ASan through the six-chunk comparison
       * below), so huge inputs are evaluated once, at 1 worker: still no
       * crash, no leak, a valid result. */
      gf_parallel_options p1;
      gf_parallel_options_init(&p1);
      p1.num_workers = 1;
      gf_frame *r1 = NULL;
      if (gf_evaluate(f, e, "r", &p1, &r1, NULL) == GF_OK &&
          gf_array_validate(gf_frame_column(r1, 0, 0), false, NULL) != GF_OK)
        abort();
      gf_frame_release(r1);
      gf_expr_release(e);
      return 0;
    }
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
