/* Structural indexing of CSV (src/io/csv_scan.c) at every kernel level this
 * CPU has (AVX2, SSE4.2, SWAR; prefix-XOR by PCLMUL and by shift-xor):
 * block masks against a byte loop, the row splitter against the scalar
 * tokenizer AND a naive byte-at-a-time reader written here, over random
 * bytes full of quotes, doubled quotes, delimiters inside quotes and CR, LF,
 * CRLF; then whole reads of generated files at 1/2/3/8 workers and several
 * chunk sizes, cell by cell against the values the generator wrote. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gopherframe.h"
#include "io/csv_scan.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}
static int rndn(int n) { return (int)(rnd() % (uint64_t)n); }

/* Highest level and clmul of this machine; on x86-64 with AVX2 the AVX2
 * path must be the one chosen, so that it is the one tested. */
static int max_level(bool *clmul) {
  int lv = gfi_csv_simd_choose(gf_cpu_features(), NULL, clmul);
#if defined(__x86_64__)
  if (gf_cpu_features() & GF_CPU_AVX2) assert_int_equal(lv, GFI_CSV_SIMD_AVX2);
  if (gf_cpu_features() & GF_CPU_PCLMUL) assert_true(*clmul);
#endif
  return lv;
}

static void env_caps_the_level(void **state) {
  (void)state;
  unsigned all = GF_CPU_SSE42 | GF_CPU_AVX | GF_CPU_AVX2 | GF_CPU_PCLMUL;
  bool cl;
  assert_int_equal(gfi_csv_simd_choose(all, "off", &cl), GFI_CSV_SIMD_SWAR);
  assert_false(cl);
  assert_int_equal(gfi_csv_simd_choose(all, "swar", &cl), GFI_CSV_SIMD_SWAR);
  assert_int_equal(gfi_csv_simd_choose(all, "sse42", &cl), GFI_CSV_SIMD_SSE42);
  assert_int_equal(gfi_csv_simd_choose(all, "noclmul", &cl), GFI_CSV_SIMD_AVX2);
  assert_false(cl);
  assert_int_equal(gfi_csv_simd_choose(GF_CPU_SSE42, NULL, &cl), GFI_CSV_SIMD_SSE42);
  assert_int_equal(gfi_csv_simd_choose(0, "avx2", &cl), GFI_CSV_SIMD_SWAR);
  assert_false(cl);
}

static const char SPECIAL[] = ",;\t|\"'\n\r";

static void block_masks_match_byte_loop(void **state) {
  (void)state;
  bool cl;
  int top = max_level(&cl);
  const char delims[] = ",;\t|";
  const char quotes[] = "\"'";
  char buf[64 + 7];
  for (int it = 0; it < 20000; it++) {
    char *p = buf + rndn(8); /* unaligned too */
    for (int i = 0; i < 64; i++)
      p[i] = rndn(3) ? SPECIAL[rndn((int)sizeof SPECIAL - 1)] : (char)rndn(256);
    char d = delims[rndn(4)], q = quotes[rndn(2)];
    uint64_t wd = 0, wn = 0, wq = 0;
    for (int i = 0; i < 64; i++) {
      wd |= (uint64_t)(p[i] == d) << i;
      wn |= (uint64_t)(p[i] == '\n') << i;
      wq |= (uint64_t)(p[i] == q) << i;
    }
    for (int lv = 0; lv <= top; lv++) {
      gfi_csv_masks m;
      gfi_csv_block_masks(lv, p, d, q, &m);
      if (m.delim != wd || m.nl != wn || m.quote != wq)
        fail_msg("level %d: masks differ from the byte loop at iteration %d", lv, it);
    }
  }
}

static void prefix_xor_both_ways(void **state) {
  (void)state;
  bool cl;
  max_level(&cl);
  for (int it = 0; it < 100000; it++) {
    uint64_t x = rnd();
    if (it % 3 == 0) x &= rnd() & rnd(); /* sparse, as quotes are */
    uint64_t want = 0, acc = 0;
    for (int i = 0; i < 64; i++) {
      acc ^= (x >> i) & 1;
      want |= acc << i;
    }
    assert_true(gfi_csv_prefix_xor(x, false) == want);
    if (cl) assert_true(gfi_csv_prefix_xor(x, true) == want);
  }
}

static void counts_match_scalar_and_loop(void **state) {
  (void)state;
  bool cl;
  int top = max_level(&cl);
  static char buf[1100];
  for (int it = 0; it < 3000; it++) {
    size_t off = (size_t)rndn(9), n = (size_t)rndn(1000);
    for (size_t i = 0; i < n; i++) buf[off + i] = SPECIAL[rndn((int)sizeof SPECIAL - 1)];
    int64_t wq = 0, wn = 0;
    for (size_t i = 0; i < n; i++) {
      wq += buf[off + i] == '"';
      wn += buf[off + i] == '\n';
    }
    int64_t q0, n0;
    gfi_csv_count_bytes(buf + off, n, '"', true, &q0, &n0);
    assert_true(q0 == wq && n0 == wn);
    for (int lv = 0; lv <= top; lv++) {
      int64_t q1, n1;
      gfi_csv_count_masks(lv, buf + off, n, '"', true, &q1, &n1);
      assert_true(q1 == wq && n1 == wn);
      gfi_csv_count_masks(lv, buf + off, n, '"', false, &q1, &n1);
      assert_true(q1 == 0 && n1 == wn);
    }
  }
}

/* ---- naive reader: one byte at a time, the model of csv_internal.h ---- */

#define MAXF 4096
typedef struct nrow {
  int nf, kind, st;
  size_t next, bad;
  int64_t newlines;
  char *content[MAXF];
  int64_t len[MAXF];
  bool quoted[MAXF];
  size_t raw[MAXF];
} nrow;

static char nbuf[1 << 16];

static void naive_row(const char *p, size_t pos, size_t end, char delim, char quote, nrow *r) {
  size_t used = 0;
  bool inq = false;
  r->nf = 0;
  r->newlines = 0;
  r->st = GF_OK;
  r->kind = GFI_CSV_ROW;
  size_t fstart = pos;
  char *cur = nbuf;
  bool fq = false;
  size_t open = 0;
  for (size_t i = pos;; i++) {
    bool at_end = i == end;
    if (!at_end && inq) {
      char c = p[i];
      if (c == quote) {
        if (i + 1 < end && p[i + 1] == quote) {
          nbuf[used++] = quote;
          i++;
        } else {
          inq = false;
        }
      } else {
        if (c == '\n') r->newlines++;
        nbuf[used++] = c;
      }
      continue;
    }
    if (at_end && inq) {
      r->st = GF_EPARSE;
      r->bad = open;
      r->next = end;
      return;
    }
    char c = at_end ? 0 : p[i];
    if (!at_end && c == quote) {
      inq = true;
      fq = true;
      open = i;
      continue;
    }
    if (at_end || c == delim || c == '\n') {
      int64_t len = (int64_t)(nbuf + used - cur);
      bool last = at_end || c == '\n';
      if (last && len > 0 && i > pos && p[i - 1] == '\r' && cur[len - 1] == '\r') len--;
      r->content[r->nf] = cur;
      r->len[r->nf] = len;
      r->quoted[r->nf] = fq;
      r->raw[r->nf] = fstart;
      r->nf++;
      cur = nbuf + used;
      fq = false;
      fstart = i + 1;
      if (last) {
        if (!at_end) r->newlines++;
        r->next = at_end ? end : i + 1;
        if (r->nf == 1 && !r->quoted[0] && r->len[0] == 0) r->kind = GFI_CSV_BLANK;
        return;
      }
      continue;
    }
    nbuf[used++] = c;
  }
}

static gfi_csv_field fa[MAXF], fb[MAXF];

/* Random bytes over a small alphabet, so quotes, doubled quotes, empty
 * fields and CR/LF mixes are frequent; fields cross 64-byte blocks. */
static size_t random_text(char *buf, size_t cap, char delim, char quote) {
  size_t n = (size_t)rndn((int)cap);
  int style = rndn(3);
  for (size_t i = 0; i < n; i++) {
    int k = rndn(style == 0 ? 12 : 40);
    char c;
    if (k == 0) c = quote;
    else if (k == 1) c = delim;
    else if (k == 2) c = '\n';
    else if (k == 3) c = '\r';
    else c = (char)('a' + k % 26);
    buf[i] = c;
  }
  return n;
}

static void check_splitter(const char *buf, size_t n, char delim, char quote, int lv, bool cl,
                           int maxf, int it) {
  gfi_csv_dialect d = {delim, quote, 0, 0, true};
  gfi_csv_tokenizer ta, tb;
  gfi_csv_tokenizer_init(&ta, &d, NULL);
  gfi_csv_tokenizer_init(&tb, &d, NULL);
  gfi_csv_splitter sp;
  assert_int_equal(gfi_csv_splitter_init(&sp, &d, buf, buf + n, &ta, lv, cl, NULL), GF_OK);
  static nrow nr;
  size_t pos = 0;
  while (pos < n) {
    gfi_csv_row ra, rb;
    gf_status sa = gfi_csv_splitter_next(&sp, fa, maxf, &ra);
    gf_status sb = gfi_csv_next_row(&tb, buf + pos, buf + n, fb, maxf, &rb);
    naive_row(buf, pos, n, delim, quote, &nr);
    if (sa != sb || (int)sa != nr.st)
      fail_msg("it %d level %d clmul %d at %zu: status %d, scalar %d, naive %d", it, lv, cl,
               pos, sa, sb, nr.st);
    if (sa == GF_EPARSE) {
      assert_ptr_equal(ra.bad, rb.bad);
      assert_ptr_equal(ra.bad, buf + nr.bad);
      break;
    }
    assert_int_equal(sa, GF_OK);
    if (ra.nfields != rb.nfields || ra.nfields != nr.nf || ra.kind != rb.kind ||
        ra.kind != nr.kind || ra.next != rb.next || ra.next != buf + nr.next ||
        ra.newlines != rb.newlines || ra.newlines != nr.newlines)
      fail_msg("it %d level %d clmul %d at %zu: row shape differs (nf %d/%d/%d, next %td/%td/%zu)",
               it, lv, cl, pos, ra.nfields, rb.nfields, nr.nf, ra.next - buf, rb.next - buf,
               nr.next);
    int m = ra.nfields < maxf ? ra.nfields : maxf;
    for (int f = 0; f < m; f++) {
      if (fa[f].len != fb[f].len || fa[f].len != nr.len[f] || fa[f].quoted != fb[f].quoted ||
          fa[f].quoted != nr.quoted[f] || fa[f].raw != fb[f].raw ||
          fa[f].raw != buf + nr.raw[f] ||
          memcmp(fa[f].p, fb[f].p, (size_t)fa[f].len) != 0 ||
          memcmp(fa[f].p, nr.content[f], (size_t)fa[f].len) != 0)
        fail_msg("it %d level %d clmul %d at %zu: field %d differs", it, lv, cl, pos, f);
    }
    pos = (size_t)(ra.next - buf);
  }
  gfi_csv_splitter_free(&sp);
  gfi_csv_tokenizer_reset(&ta);
  gfi_csv_tokenizer_reset(&tb);
}

static void splitter_matches_tokenizer_and_naive(void **state) {
  (void)state;
  bool cl;
  int top = max_level(&cl);
  static char buf[3000];
  int combos = 0;
  for (int it = 0; it < 1500; it++) {
    char delim = ",;\t|"[rndn(4)], quote = rndn(4) ? '"' : '\'';
    size_t n = random_text(buf, it < 50 ? 80 : sizeof buf, delim, quote);
    int maxf = rndn(4) ? MAXF : 1 + rndn(4); /* also rows with more fields than stored */
    for (int lv = 0; lv <= top; lv++)
      for (int c = 0; c <= (cl ? 1 : 0); c++, combos++)
        check_splitter(buf, n, delim, quote, lv, c != 0, maxf, it);
  }
  print_message("splitter: %d texts x levels 0..%d x clmul%s\n", 1500, top, cl ? " on/off" : " off");
  assert_true(combos >= 1500);
}

/* A buffer that ends exactly at a mapping's end: the splitter must not read
 * a byte past it (ASan checks: the tail block is copied). */
static void tail_is_never_overread(void **state) {
  (void)state;
  bool cl;
  int top = max_level(&cl);
  for (size_t n = 0; n < 200; n++) {
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) p[i] = "a,\"\n"[i % 4];
    for (int lv = 0; lv <= top; lv++) check_splitter(p, n, ',', '"', lv, cl, MAXF, (int)n);
    free(p);
  }
}

/* ---- whole reads: generated file, expected cells known ---------------- */

#define NCOL 4
typedef struct cellv {
  char *s; /* NULL = null */
  size_t len;
} cellv;

static size_t gen_field(char *out, cellv *cv, char *store, size_t *sused) {
  int k = rndn(10);
  size_t o = 0;
  char *v = store + *sused;
  size_t vl = 0;
  if (k == 0) { /* empty, unquoted: null */
    cv->s = NULL;
    cv->len = 0;
    return 0;
  }
  if (k <= 5) { /* plain word, sometimes long enough to span blocks */
    size_t len = 1 + (size_t)rndn(rndn(5) ? 12 : 150);
    v[vl++] = 'w';
    for (size_t i = 1; i < len; i++) v[vl++] = (char)('a' + rndn(26));
    memcpy(out, v, vl);
    o = vl;
  } else { /* quoted: delimiters, newlines, CR, doubled quotes inside */
    out[o++] = '"';
    size_t len = (size_t)rndn(rndn(4) ? 20 : 200);
    for (size_t i = 0; i < len; i++) {
      int c = rndn(12);
      char ch = c == 0 ? ',' : c == 1 ? '\n' : c == 2 ? '\r' : c == 3 ? '"' : (char)('A' + rndn(26));
      v[vl++] = ch;
      out[o++] = ch;
      if (ch == '"') out[o++] = '"';
    }
    out[o++] = '"';
  }
  cv->s = v;
  cv->len = vl;
  *sused += vl;
  return o;
}

static void check_frame(const gf_frame *f, cellv *cells, int64_t rows, const char *what) {
  assert_int_equal(gf_frame_num_columns(f), NCOL);
  if (gf_frame_num_rows(f) != rows)
    fail_msg("%s: %lld rows, want %lld", what, (long long)gf_frame_num_rows(f), (long long)rows);
  int64_t r0 = 0;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t n = gf_frame_batch_rows(f, b);
    for (int c = 0; c < NCOL; c++) {
      const gf_array *a = gf_frame_column(f, b, c);
      for (int64_t i = 0; i < n; i++) {
        const cellv *cv = &cells[(r0 + i) * NCOL + c];
        bool isnull = gf_array_is_null(a, i);
        if (isnull != (cv->s == NULL))
          fail_msg("%s: row %lld col %d null %d", what, (long long)(r0 + i), c, isnull);
        if (isnull) continue;
        int64_t len = 0;
        const char *p = gf_array_get_bytes(a, i, &len);
        if ((size_t)len != cv->len || memcmp(p, cv->s, cv->len) != 0)
          fail_msg("%s: row %lld col %d differs", what, (long long)(r0 + i), c);
      }
    }
    r0 += n;
  }
}

static void reads_agree_at_every_level_worker_and_chunk(void **state) {
  (void)state;
  bool cl;
  int top = max_level(&cl);
  const int64_t rows = 2500;
  char *text = malloc((size_t)rows * NCOL * 420 + 64);
  char *store = malloc((size_t)rows * NCOL * 210 + 64);
  cellv *cells = calloc((size_t)rows * NCOL, sizeof *cells);
  assert_true(text && store && cells);
  size_t n = 0, sused = 0;
  for (int64_t r = 0; r < rows; r++) {
    if (r > 0 && rndn(50) == 0) n += (size_t)sprintf(text + n, rndn(2) ? "\n" : "\r\n");
    for (int c = 0; c < NCOL; c++) {
      if (c) text[n++] = ',';
      n += gen_field(text + n, &cells[r * NCOL + c], store, &sused);
    }
    if (r + 1 < rows || rndn(2)) n += (size_t)sprintf(text + n, rndn(3) ? "\n" : "\r\n");
  }
  gf_csv_column_type types[NCOL];
  const char *names[NCOL] = {"column_1", "column_2", "column_3", "column_4"};
  for (int c = 0; c < NCOL; c++) {
    types[c].name = names[c];
    types[c].type = gf_type(GF_TYPE_UTF8);
  }
  const int workers[] = {1, 2, 3, 8};
  const int64_t chunks[] = {0, 1, 7, 300};
  int reads = 0;
  for (int lv = 0; lv <= top; lv++) {
    for (int c = 0; c <= (cl ? 1 : 0); c++) {
      gfi_csv_simd_force(lv, c != 0);
      for (int w = 0; w < 4; w++) {
        for (int k = 0; k < 4; k++) {
          gf_parallel_options po;
          gf_parallel_options_init(&po);
          po.num_workers = workers[w];
          po.chunk_rows = chunks[k];
          po.min_parallel_rows = 1;
          gf_csv_read_options o;
          gf_csv_read_options_init(&o);
          o.delimiter = ',';
          o.header = 0;
          o.column_types = types;
          o.num_column_types = NCOL;
          o.parallel = &po;
          gf_frame *f = NULL;
          gf_error err;
          gf_status st = gf_read_csv_buffer(text, n, "gen.csv", &o, &f, &err);
          if (st != GF_OK) fail_msg("level %d: %s", lv, err.message);
          char what[96];
          snprintf(what, sizeof what, "level %d clmul %d workers %d chunk_rows %lld", lv, c,
                   workers[w], (long long)chunks[k]);
          check_frame(f, cells, rows, what);
          gf_frame_release(f);
          reads++;
        }
      }
    }
  }
  gfi_csv_simd_force(-1, false);
  print_message("reads: %d (levels 0..%d, 4 worker counts, 4 chunk sizes)\n", reads, top);
  free(text);
  free(store);
  free(cells);
}

/* An unterminated quote is reported at the same place on every path. */
static void unterminated_quote_same_message_everywhere(void **state) {
  (void)state;
  bool cl;
  int top = max_level(&cl);
  const char *csv = "a,b\n1,2\n3,\"x\ny\n5,6\n";
  char first[GF_ERROR_MESSAGE_SIZE] = {0};
  for (int lv = 0; lv <= top; lv++) {
    gfi_csv_simd_force(lv, cl);
    gf_frame *f = NULL;
    gf_error err;
    assert_int_equal(gf_read_csv_buffer(csv, strlen(csv), "u.csv", NULL, &f, &err), GF_EPARSE);
    assert_null(f);
    if (!first[0]) snprintf(first, sizeof first, "%s", err.message);
    assert_string_equal(err.message, first);
  }
  gfi_csv_simd_force(-1, false);
  assert_non_null(strstr(first, "u.csv:3:3"));
}

/* Statistics gathered during the parse equal a naive pass over each
 * batch's values (totalOrder for floats: -0 < +0, NaN after +inf, the first
 * NaN kept), at every worker count and chunk size, for int32, int64 (also a
 * column widened mid-file), float64, date32 and timestamps. */
static int64_t fkey(double x) {
  if (isnan(x)) return INT64_MAX;
  int64_t b;
  memcpy(&b, &x, 8);
  return b < 0 ? (int64_t)((uint64_t)b ^ 0x7FFFFFFFFFFFFFFFull) : b;
}

static void stats_come_from_the_parse(void **state) {
  (void)state;
  const int64_t rows = 3000;
  char *t2 = malloc((size_t)rows * 140 + 64);
  assert_non_null(t2);
  size_t m = (size_t)sprintf(t2, "i,l,f,d,t\n");
  const char *fl[] = {"-0", "0", "1.5", "-2.25e3", "nan", "inf", "-inf", "7", "", "NA"};
  for (int64_t r = 0; r < rows; r++) {
    char iv[24] = "";
    if (rndn(10)) snprintf(iv, sizeof iv, "%lld", (long long)(rnd() % 2000001) - 1000000);
    long long l = r == rows / 2 ? 5000000000LL : (long long)(rnd() % 1000);
    m += (size_t)sprintf(t2 + m, "%s,%lld,%s,2024-%02d-%02d,2024-01-01T00:00:%02d\n", iv, l,
                         fl[rndn(10)], 1 + rndn(12), 1 + rndn(28), rndn(60));
  }
  const int workers[] = {1, 2, 3, 8};
  const int64_t chunks[] = {0, 1, 50, 700};
  for (int w = 0; w < 4; w++) {
    for (int k = 0; k < 4; k++) {
      gf_parallel_options po;
      gf_parallel_options_init(&po);
      po.num_workers = workers[w];
      po.chunk_rows = chunks[k];
      po.min_parallel_rows = 1;
      gf_csv_read_options o;
      gf_csv_read_options_init(&o);
      o.parallel = &po;
      gf_frame *f = NULL;
      gf_error err;
      if (gf_read_csv_buffer(t2, m, "s.csv", &o, &f, &err) != GF_OK) fail_msg("%s", err.message);
      const gf_type_id want[] = {GF_TYPE_INT32, GF_TYPE_INT64, GF_TYPE_FLOAT64, GF_TYPE_DATE32,
                                 GF_TYPE_TIMESTAMP};
      for (int c = 0; c < 5; c++)
        assert_int_equal(gf_schema_field(gf_frame_schema(f), c)->type.id, want[c]);
      for (int b = 0; b < gf_frame_num_batches(f); b++) {
        for (int c = 0; c < 5; c++) {
          const gf_array *a = gf_frame_column(f, b, c);
          const gf_stats *s = gf_array_stats(a);
          bool any = false;
          int64_t mn = 0, mx = 0;
          double fmn = 0, fmx = 0;
          for (int64_t i = 0; i < gf_array_length(a); i++) {
            if (gf_array_is_null(a, i)) continue;
            if (c == 2) {
              double v = gf_array_get_double(a, i);
              if (!any || fkey(v) < fkey(fmn)) fmn = v;
              if (!any || fkey(v) > fkey(fmx)) fmx = v;
            } else {
              int64_t v = gf_array_get_int64(a, i);
              if (!any || v < mn) mn = v;
              if (!any || v > mx) mx = v;
            }
            any = true;
          }
          assert_int_equal(s->null_count, gf_array_null_count(a));
          assert_int_equal(s->has_min_max, any);
          if (!any) continue;
          if (c == 2) {
            assert_true(s->is_float);
            assert_memory_equal(&s->min.f, &fmn, 8);
            assert_memory_equal(&s->max.f, &fmx, 8);
          } else {
            assert_int_equal(s->min.i, mn);
            assert_int_equal(s->max.i, mx);
          }
        }
      }
      gf_frame_release(f);
    }
  }
  free(t2);
}

/* Dictionary codes made while parsing: a low-cardinality column with
 * nulls, a column of 30000 values drawn at random (a large chunk holds more
 * distinct values than the parse keeps as codes and leaves code mode; the
 * column is a dictionary for the frame; before the sample rule of
 * docs/CSV_DICTIONARIES.md this column was unique in its first 60000 rows,
 * which the sample now reads as high-cardinality: utf8), an
 * all-distinct column (stays utf8: codes decoded), quoted values; the
 * dictionary is in order of first appearance in the file, shared by every
 * batch, at every worker count and chunk size, and equal cells with
 * no_dictionary. Expected values are the generator's. */
#define DROWS 140000
static char dval[4][DROWS][24];
static bool dnull[4][DROWS];

static const char *cell_str(const gf_array *a, int64_t i, int64_t *len) {
  if (gf_array_type(a).id == GF_TYPE_DICTIONARY)
    return gf_array_get_bytes(gf_array_dictionary(a), gf_array_get_int64(a, i), len);
  return gf_array_get_bytes(a, i, len);
}

static void dictionaries_come_from_the_parse(void **state) {
  (void)state;
  char *text = malloc((size_t)DROWS * 100 + 64);
  assert_non_null(text);
  size_t n = (size_t)sprintf(text, "a,b,c,d\n");
  for (int r = 0; r < DROWS; r++) {
    dnull[0][r] = rndn(20) == 0;
    snprintf(dval[0][r], 24, "k%d", rndn(50));
    snprintf(dval[1][r], 24, "u%d", rndn(30000));
    snprintf(dval[2][r], 24, "v%d", r);
    int q = rndn(8);
    if (q == 0) dval[3][r][0] = 0; /* "" quoted: a value */
    else snprintf(dval[3][r], 24, "x,%d", q);
    n += (size_t)sprintf(text + n, "%s,%s,%s,\"%s\"\n", dnull[0][r] ? "" : dval[0][r], dval[1][r],
                         dval[2][r], dval[3][r]);
  }
  /* Expected codes: order of first appearance, by a linear search over the
   * distinct values seen so far. */
  static int dcode[4][DROWS];
  int ndist[4] = {0, 0, 0, 0};
  static int firstrow[DROWS];
  static int ucode[DROWS]; /* column b: "u<k>" -> code, by k */
  for (int k = 0; k < DROWS; k++) ucode[k] = -1;
  for (int c = 0; c < 4; c++) {
    if (c == 2) continue;
    for (int r = 0; r < DROWS; r++) {
      if (c == 0 && dnull[0][r]) continue;
      if (c == 1) {
        int k = atoi(dval[1][r] + 1);
        if (ucode[k] < 0) ucode[k] = ndist[1]++;
        dcode[1][r] = ucode[k];
        continue;
      }
      int code = -1;
      for (int d = 0; d < ndist[c] && code < 0; d++)
        if (!strcmp(dval[c][firstrow[d]], dval[c][r])) code = d;
      if (code < 0) {
        code = ndist[c]++;
        firstrow[code] = r;
      }
      dcode[c][r] = code;
    }
  }
  const int workers[] = {1, 2, 3, 8};
  const int64_t chunks[] = {0, 50, 3000, 100000};
  for (int nd = 0; nd < 2; nd++) {
    for (int w = 0; w < 4; w++) {
      for (int k = 0; k < 4; k++) {
        gf_parallel_options po;
        gf_parallel_options_init(&po);
        po.num_workers = workers[w];
        po.chunk_rows = chunks[k];
        po.min_parallel_rows = 1;
        gf_csv_read_options o;
        gf_csv_read_options_init(&o);
        o.parallel = &po;
        o.no_dictionary = nd != 0;
        gf_frame *f = NULL;
        gf_error err;
        if (gf_read_csv_buffer(text, n, "d.csv", &o, &f, &err) != GF_OK) fail_msg("%s", err.message);
        assert_int_equal(gf_frame_num_rows(f), DROWS);
        for (int c = 0; c < 4; c++) {
          bool want_dict = !nd && c != 2;
          gf_type_id id = gf_schema_field(gf_frame_schema(f), c)->type.id;
          if (id != (want_dict ? GF_TYPE_DICTIONARY : GF_TYPE_UTF8))
            fail_msg("nd %d workers %d chunk %lld: column %d has type %d", nd, workers[w],
                     (long long)chunks[k], c, id);
          const gf_array *dict0 = NULL;
          int64_t r0 = 0;
          for (int b = 0; b < gf_frame_num_batches(f); b++) {
            const gf_array *a = gf_frame_column(f, b, c);
            if (want_dict) {
              if (!dict0) dict0 = gf_array_dictionary(a);
              assert_true(gf_array_equals(gf_array_dictionary(a), dict0));
            }
            for (int64_t i = 0; i < gf_array_length(a); i++) {
              int64_t r = r0 + i;
              bool isnull = gf_array_is_null(a, i);
              assert_int_equal(isnull, c == 0 && dnull[0][r]);
              if (isnull) continue;
              int64_t len = 0;
              const char *p = cell_str(a, i, &len);
              if ((size_t)len != strlen(dval[c][r]) || memcmp(p, dval[c][r], (size_t)len) != 0)
                fail_msg("nd %d workers %d chunk %lld: row %lld col %d differs", nd, workers[w],
                         (long long)chunks[k], (long long)r, c);
              if (want_dict) assert_int_equal(gf_array_get_int64(a, i), dcode[c][r]);
            }
            r0 += gf_array_length(a);
          }
          if (want_dict) assert_int_equal(gf_array_length(dict0), ndist[c]);
        }
        gf_frame_release(f);
      }
    }
  }
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(env_caps_the_level),
      cmocka_unit_test(block_masks_match_byte_loop),
      cmocka_unit_test(prefix_xor_both_ways),
      cmocka_unit_test(counts_match_scalar_and_loop),
      cmocka_unit_test(splitter_matches_tokenizer_and_naive),
      cmocka_unit_test(tail_is_never_overread),
      cmocka_unit_test(reads_agree_at_every_level_worker_and_chunk),
      cmocka_unit_test(unterminated_quote_same_message_everywhere),
      cmocka_unit_test(stats_come_from_the_parse),
      cmocka_unit_test(dictionaries_come_from_the_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
