/* CSV dictionary decision from the inference sample
 * (docs/CSV_DICTIONARIES.md, src/io/csv_dict_sample.c): which string
 * columns become dictionary<utf8>, checked against the generator's own
 * knowledge of each column (never against the library), every value
 * against the generated text (a naive reference), at 1/2/3/8 workers x
 * several chunk sizes for gf_read_csv_buffer and 1/2/3/8 workers x several
 * window sizes for the streaming source; the forcing options; files small
 * enough to be sampled whole keep the exact rule; allocation failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gopherframe.h"
#include "gopherframe/testing.h"
#include "gf_test_sweep.h"
#include "exec/exec_internal.h"
#include "exec/stream_internal.h"

/* ---- generated files with a naive reference ------------------------- */

enum { C_LO, C_HI, C_MID, C_SEMI, C_TRICK, NC };
static const char *const NAMES[NC] = {"lo", "hi", "mid", "semi", "trick"};

/* The CSV text and, per column, every row's value (NULL = null). */
typedef struct gen {
  char *text;
  size_t len, cap;
  int64_t rows;
  int ncols;
  char **val; /* ncols x rows */
} gen;

static uint64_t rng_state;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void put(gen *g, const char *s, size_t n) {
  if (g->len + n + 1 > g->cap) {
    g->cap = (g->len + n + 1) * 2;
    g->text = realloc(g->text, g->cap);
    assert_non_null(g->text);
  }
  memcpy(g->text + g->len, s, n);
  g->len += n;
  g->text[g->len] = '\0';
}

/* Column values of row i:
 *   lo    50 values "kNN", ~2% null ("NA")          -> dictionary
 *   hi    unique 5-40-byte strings, every 97th one quoted with a comma in
 *         it (so the file has quotes)                -> utf8
 *   mid   2,000 values "mNNNN"                       -> dictionary
 *   semi  drawn from 0.8 x rows values (~57% distinct) -> utf8 (both rules)
 *   trick unique in the first tenth of every quarter of the rows, one
 *         value elsewhere: 10% distinct, so the exact rule alone would make
 *         it a dictionary, but the sample (taken at the quarters) sees only
 *         unique values                              -> utf8 (the new rule)
 * With `trick` false the file has the first four columns only. */
static void generate(gen *g, int64_t rows, bool trick, uint64_t seed) {
  memset(g, 0, sizeof *g);
  rng_state = seed;
  g->rows = rows;
  g->ncols = trick ? NC : NC - 1;
  g->val = calloc((size_t)g->ncols * (size_t)rows, sizeof(char *));
  assert_non_null(g->val);
  for (int c = 0; c < g->ncols; c++) {
    put(g, NAMES[c], strlen(NAMES[c]));
    put(g, c + 1 < g->ncols ? "," : "\n", 1);
  }
  char v[64], field[80];
  for (int64_t i = 0; i < rows; i++) {
    for (int c = 0; c < g->ncols; c++) {
      bool quoted = false;
      switch (c) {
      case C_LO:
        if (rnd() % 50 == 0)
          v[0] = '\0';
        else
          snprintf(v, sizeof v, "k%02d", (int)(rnd() % 50));
        break;
      case C_HI: {
        int n = snprintf(v, sizeof v, "h%lld", (long long)i);
        int len = 5 + (int)(rnd() % 36);
        for (; n < len; n++) v[n] = "abcdefghijklmnopqrstuvwxyz0123456789"[rnd() % 36];
        v[n] = '\0';
        if (i % 97 == 0) {
          v[1] = ',';
          quoted = true;
        }
        break;
      }
      case C_MID: snprintf(v, sizeof v, "m%04d", (int)(rnd() % 2000)); break;
      case C_SEMI: snprintf(v, sizeof v, "s%d", (int)(rnd() % (uint64_t)(rows * 8 / 10))); break;
      default: {
        int64_t q = rows / 4, in = i % q;
        if (in < q / 10)
          snprintf(v, sizeof v, "t%lld", (long long)i);
        else
          snprintf(v, sizeof v, "same");
      }
      }
      char **slot = &g->val[(size_t)c * (size_t)rows + (size_t)i];
      if (c == C_LO && v[0] == '\0') {
        put(g, "NA", 2);
        *slot = NULL;
      } else {
        *slot = strdup(v);
        assert_non_null(*slot);
        int n = quoted ? snprintf(field, sizeof field, "\"%s\"", v)
                       : snprintf(field, sizeof field, "%s", v);
        put(g, field, (size_t)n);
      }
      put(g, c + 1 < g->ncols ? "," : "\n", 1);
    }
  }
}

static void gen_free(gen *g) {
  for (size_t k = 0; k < (size_t)g->ncols * (size_t)g->rows; k++) free(g->val[k]);
  free(g->val);
  free(g->text);
}

/* What each column must be. */
static bool want_dict(int c) { return c == C_LO || c == C_MID; }

/* Checks the types and every value of frame column c against the
 * reference, rows [row0, row0 + gf_frame rows). */
static void check_frame(const gf_frame *f, const gen *g, int64_t row0, const char *what) {
  const gf_schema *s = gf_frame_schema(f);
  assert_int_equal(gf_schema_num_fields(s), g->ncols);
  for (int c = 0; c < g->ncols; c++) {
    gf_type_id t = gf_schema_field(s, c)->type.id;
    if (t != (want_dict(c) ? GF_TYPE_DICTIONARY : GF_TYPE_UTF8))
      fail_msg("%s: column %s has type %d", what, NAMES[c], (int)t);
  }
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t off = row0 + gf_frame_batch_offset(f, b), n = gf_frame_batch_rows(f, b);
    for (int c = 0; c < g->ncols; c++) {
      const gf_array *a = gf_frame_column(f, b, c);
      for (int64_t i = 0; i < n; i++) {
        const char *want = g->val[(size_t)c * (size_t)g->rows + (size_t)(off + i)];
        if (!want) {
          if (!gf_array_is_null(a, i))
            fail_msg("%s: %s row %lld not null", what, NAMES[c], (long long)(off + i));
          continue;
        }
        int64_t len;
        if (gf_array_is_null(a, i))
          fail_msg("%s: %s row %lld null", what, NAMES[c], (long long)(off + i));
        const char *p = gf_array_get_bytes(a, i, &len);
        if ((size_t)len != strlen(want) || memcmp(p, want, (size_t)len) != 0)
          fail_msg("%s: %s row %lld is \"%.*s\", want \"%s\"", what, NAMES[c],
                   (long long)(off + i), (int)len, p, want);
      }
    }
  }
}

static const int WORKERS[] = {1, 2, 3, 8};

/* ---- the whole-file reader ---------------------------------------- */

static void read_buf(const gen *g, int workers, int64_t chunk_rows, gf_csv_read_options *o,
                     gf_frame **out) {
  gf_parallel_options p;
  gf_parallel_options_init(&p);
  p.num_workers = workers;
  p.chunk_rows = chunk_rows;
  p.min_parallel_rows = 0;
  o->parallel = &p;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_read_csv_buffer(g->text, g->len, "d.csv", o, out, &err);
  if (st != GF_OK) fail_msg("read: %s", err.message);
}

/* Every worker count and chunk size gives the same types and values. */
static void test_reader_rule(void **state) {
  (void)state;
  gen g;
  generate(&g, 40000, true, 0x9e3779b97f4a7c15u);
  const int64_t chunks[] = {0, 997, 6000, 65536};
  gf_frame *ref = NULL;
  for (size_t w = 0; w < sizeof WORKERS / sizeof *WORKERS; w++)
    for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++) {
      gf_csv_read_options o;
      gf_csv_read_options_init(&o);
      gf_frame *f = NULL;
      read_buf(&g, WORKERS[w], chunks[k], &o, &f);
      char what[64];
      snprintf(what, sizeof what, "%d workers, chunk_rows %lld", WORKERS[w], (long long)chunks[k]);
      if (!ref) {
        check_frame(f, &g, 0, what);
        ref = f;
        continue;
      }
      if (!gf_frame_equals(ref, f)) {
        check_frame(f, &g, 0, what);
        fail_msg("%s: frame differs from 1 worker", what);
      }
      gf_frame_release(f);
    }
  gf_frame_release(ref);
  gen_free(&g);
}

/* Forcing: dictionary<utf8> through column_types makes `hi` a dictionary
 * despite the sample; no_dictionary keeps `lo` and `mid` utf8. */
static void test_forcing(void **state) {
  (void)state;
  gen g;
  generate(&g, 40000, false, 7);
  gf_csv_column_type ct[] = {{"hi", gf_type_dictionary(gf_type(GF_TYPE_UTF8))}};
  for (size_t w = 0; w < sizeof WORKERS / sizeof *WORKERS; w++) {
    gf_csv_read_options o;
    gf_csv_read_options_init(&o);
    o.column_types = ct;
    o.num_column_types = 1;
    gf_frame *f = NULL;
    read_buf(&g, WORKERS[w], 3000, &o, &f);
    assert_int_equal(gf_schema_field(gf_frame_schema(f), C_HI)->type.id, GF_TYPE_DICTIONARY);
    int64_t len;
    const gf_array *a = gf_frame_column(f, gf_frame_num_batches(f) - 1, C_HI);
    const char *p = gf_array_get_bytes(a, gf_array_length(a) - 1, &len);
    const char *want = g.val[(size_t)C_HI * (size_t)g.rows + (size_t)g.rows - 1];
    assert_int_equal(len, (int64_t)strlen(want));
    assert_memory_equal(p, want, (size_t)len);
    gf_frame_release(f);
    gf_csv_read_options_init(&o);
    o.no_dictionary = true;
    read_buf(&g, WORKERS[w], 3000, &o, &f);
    for (int c = 0; c < g.ncols; c++)
      assert_int_equal(gf_schema_field(gf_frame_schema(f), c)->type.id, GF_TYPE_UTF8);
    gf_frame_release(f);
  }
  gen_free(&g);
}

/* A file the sample covers whole keeps the exact rule: 1,000 rows, a
 * column of 400 distinct values (40%: dictionary) and one of 600 (60%:
 * utf8), each value's first rows unique. */
static void test_small_exact(void **state) {
  (void)state;
  char *t = malloc(64 * 1000 + 16);
  assert_non_null(t);
  size_t n = (size_t)sprintf(t, "a,b\n");
  for (int i = 0; i < 1000; i++) n += (size_t)sprintf(t + n, "a%d,b%d\n", i % 400, i % 600);
  for (size_t w = 0; w < sizeof WORKERS / sizeof *WORKERS; w++) {
    gf_csv_read_options o;
    gf_csv_read_options_init(&o);
    gf_parallel_options p;
    gf_parallel_options_init(&p);
    p.num_workers = WORKERS[w];
    p.chunk_rows = 77;
    p.min_parallel_rows = 0;
    o.parallel = &p;
    gf_frame *f = NULL;
    gf_error err;
    gf_error_clear(&err);
    assert_int_equal(gf_read_csv_buffer(t, n, "s.csv", &o, &f, &err), GF_OK);
    assert_int_equal(gf_schema_field(gf_frame_schema(f), 0)->type.id, GF_TYPE_DICTIONARY);
    assert_int_equal(gf_schema_field(gf_frame_schema(f), 1)->type.id, GF_TYPE_UTF8);
    for (int b = 0; b < gf_frame_num_batches(f); b++)
      for (int64_t i = 0; i < gf_frame_batch_rows(f, b); i++) {
        int64_t row = gf_frame_batch_offset(f, b) + i, len;
        char want[16];
        for (int c = 0; c < 2; c++) {
          int wn = snprintf(want, sizeof want, "%c%d", 'a' + c, (int)(row % (c ? 600 : 400)));
          const char *got = gf_array_get_bytes(gf_frame_column(f, b, c), i, &len);
          assert_int_equal(len, wn);
          assert_memory_equal(got, want, (size_t)wn);
        }
      }
    gf_frame_release(f);
  }
  free(t);
}

/* A dictionary column with more distinct values per chunk than the parse
 * keeps as codes (16,384: those chunks are encoded after the parse) and
 * nulls: every value, and the frame-wide dictionary in first-appearance
 * order, against a naive walk of the generated values, at 1/2/3/8 workers
 * x chunk sizes giving one, three and twenty batches. */
static void test_large_dictionary(void **state) {
  (void)state;
  const int64_t rows = 100000;
  char **val = calloc((size_t)rows, sizeof *val);
  char *t = malloc((size_t)rows * 12 + 8);
  assert_true(val && t);
  size_t n = (size_t)sprintf(t, "x\n");
  rng_state = 99;
  for (int64_t i = 0; i < rows; i++) {
    if (rnd() % 64 == 0) {
      n += (size_t)sprintf(t + n, "NA\n");
      continue;
    }
    char v[16];
    snprintf(v, sizeof v, "v%05d", (int)(rnd() % 30000));
    val[i] = strdup(v);
    n += (size_t)sprintf(t + n, "%s\n", v);
  }
  /* Naive first-appearance order. */
  char **order = calloc((size_t)rows, sizeof *order);
  assert_non_null(order);
  int64_t nd = 0;
  {
    char *seen = calloc(30000, 1);
    assert_non_null(seen);
    for (int64_t i = 0; i < rows; i++) {
      if (!val[i]) continue;
      int k = atoi(val[i] + 1);
      if (!seen[k]) {
        seen[k] = 1;
        order[nd++] = val[i];
      }
    }
    free(seen);
  }
  const int64_t chunks[] = {5000, 40000, 0};
  for (size_t w = 0; w < sizeof WORKERS / sizeof *WORKERS; w++)
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
      gf_csv_read_options o;
      gf_csv_read_options_init(&o);
      gf_parallel_options p;
      gf_parallel_options_init(&p);
      p.num_workers = WORKERS[w];
      p.chunk_rows = chunks[c];
      p.min_parallel_rows = 0;
      o.parallel = &p;
      gf_frame *f = NULL;
      gf_error err;
      gf_error_clear(&err);
      assert_int_equal(gf_read_csv_buffer(t, n, "x.csv", &o, &f, &err), GF_OK);
      assert_int_equal(gf_schema_field(gf_frame_schema(f), 0)->type.id, GF_TYPE_DICTIONARY);
      const gf_array *d = gf_array_dictionary(gf_frame_column(f, 0, 0));
      assert_int_equal(gf_array_length(d), nd);
      for (int64_t i = 0; i < nd; i++) {
        int64_t len;
        const char *p0 = gf_array_get_bytes(d, i, &len);
        if ((size_t)len != strlen(order[i]) || memcmp(p0, order[i], (size_t)len) != 0)
          fail_msg("%d workers, chunk_rows %lld: dictionary value %lld", WORKERS[w],
                   (long long)chunks[c], (long long)i);
      }
      for (int b = 0; b < gf_frame_num_batches(f); b++) {
        const gf_array *a = gf_frame_column(f, b, 0);
        assert_ptr_equal(gf_array_dictionary(a), d);
        for (int64_t i = 0; i < gf_frame_batch_rows(f, b); i++) {
          int64_t row = gf_frame_batch_offset(f, b) + i, len;
          if (!val[row]) {
            assert_true(gf_array_is_null(a, i));
            continue;
          }
          assert_false(gf_array_is_null(a, i));
          const char *p0 = gf_array_get_bytes(a, i, &len);
          if ((size_t)len != strlen(val[row]) || memcmp(p0, val[row], (size_t)len) != 0)
            fail_msg("%d workers, chunk_rows %lld: row %lld", WORKERS[w], (long long)chunks[c],
                     (long long)row);
        }
      }
      gf_frame_release(f);
    }
  for (int64_t i = 0; i < rows; i++) free(val[i]);
  free(val);
  free(order);
  free(t);
}

/* ---- the streaming source ----------------------------------------- */

/* The source's batches at every worker count and window size carry the
 * same types and every value of the reference. */
static void test_stream_rule(void **state) {
  (void)state;
  gen g;
  generate(&g, 40000, false, 42);
  char path[] = "/tmp/gf_csv_dict_sampleXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, g.text, g.len), (ssize_t)g.len);
  close(fd);
  const int64_t windows[] = {4096, 300000, 0};
  for (size_t w = 0; w < sizeof WORKERS / sizeof *WORKERS; w++)
    for (size_t k = 0; k < sizeof windows / sizeof *windows; k++) {
      gf_parallel_options p, lo;
      gf_parallel_options_init(&p);
      p.num_workers = WORKERS[w];
      p.min_parallel_rows = 0;
      gf_error err;
      gf_error_clear(&err);
      assert_int_equal(gfi_options_load(&p, &lo, &err), GF_OK);
      gfi_source *s = NULL;
      gf_status st = gfi_source_csv(path, NULL, &lo, windows[k], &s, &err);
      if (st != GF_OK) fail_msg("source: %s", err.message);
      char what[64];
      snprintf(what, sizeof what, "stream, %d workers, window %lld", WORKERS[w],
               (long long)windows[k]);
      int64_t seen = 0;
      for (;;) {
        gf_frame *b = NULL;
        int64_t row0 = -1;
        st = s->next(s, &b, &row0, &err);
        if (st != GF_OK) fail_msg("%s: %s", what, err.message);
        if (!b) break;
        assert_int_equal(row0, seen);
        check_frame(b, &g, row0, what);
        seen += gf_frame_num_rows(b);
        gf_frame_release(b);
      }
      assert_int_equal(seen, g.rows);
      s->free(s);
    }
  unlink(path);
  gen_free(&g);
}

/* ---- allocation failures ------------------------------------------ */

typedef struct sweep_in {
  const gen *g;
  int workers;
} sweep_in;

static gf_status sweep_read(void *user, const gf_allocator *a) {
  sweep_in *in = user;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  gf_parallel_options p;
  gf_parallel_options_init(&p);
  p.num_workers = in->workers;
  p.chunk_rows = 4000;
  p.min_parallel_rows = 0;
  p.allocator = a;
  o.parallel = &p;
  gf_frame *f = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_read_csv_buffer(in->g->text, in->g->len, "d.csv", &o, &f, &err);
  if (st == GF_OK) {
    if (gf_schema_field(gf_frame_schema(f), C_HI)->type.id != GF_TYPE_UTF8)
      fail_msg("%s: hi is not utf8", gft_sweep_at());
    gf_frame_release(f);
  }
  return st;
}

/* The sample's allocations fail cleanly (the read returns GF_ENOMEM and
 * frees everything) at every site. */
static void test_alloc_sweep(void **state) {
  (void)state;
  gen g;
  generate(&g, 9000, false, 5);
  gft_sweep_counts acc;
  memset(&acc, 0, sizeof acc);
  for (int w = 1; w <= 2; w++) {
    gf_failing_allocator *fa = NULL;
    assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
    sweep_in in = {&g, w};
    gft_alloc_sweep("csv dictionary sample", fa, sweep_read, &in, &acc);
    gf_failing_allocator_free(fa);
  }
  gft_sweep_print("csv dictionary sample", &acc);
  gen_free(&g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reader_rule),
      cmocka_unit_test(test_forcing),
      cmocka_unit_test(test_small_exact),
      cmocka_unit_test(test_large_dictionary),
      cmocka_unit_test(test_stream_rule),
      cmocka_unit_test(test_alloc_sweep),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
