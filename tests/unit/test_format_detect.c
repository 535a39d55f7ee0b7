/* include/gopherframe/format.h: format and compression detection from
 * first bytes (real Arrow C++ files from arrow-testing among them), and
 * gf_input's decompressors against fixtures made by the system gzip /
 * zstd / lz4 / bzip2 tools (tests/data/doors/make_fixtures.sh), read
 * whole, one byte at a time, truncated, with concatenated members and
 * trailing garbage, under allocation failures; gf_text_output round trips
 * through the readers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gf_test_sweep.h"
#include "gopherframe.h"

/* ---- helpers ---------------------------------------------------------- */

/* The fixtures' plain text, rebuilt with a naive loop. */
static char *fixture_text(size_t *len) {
  size_t cap = 6000 * 24, n = 0;
  char *t = malloc(cap);
  assert_non_null(t);
  for (uint64_t i = 0; i < 6000; i++)
    n += (size_t)sprintf(t + n, "%llu,%08llx\n", (unsigned long long)i,
                         (unsigned long long)((i * 2654435761ull) % (1ull << 32)));
  *len = n;
  return t;
}

static char *data_path(const char *name) {
  const char *dir = getenv("GF_TEST_DATA");
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "tests/data", name);
  return buf;
}

/* A whole file into malloc'ed memory. */
static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *p = malloc((size_t)n + 1);
  assert_non_null(p);
  assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return p;
}

/* A memory source delivering at most `step` bytes per call. */
typedef struct memsrc {
  const unsigned char *p;
  size_t len, pos, step;
} memsrc;

static gf_status mem_read(void *user, void *buf, size_t cap, size_t *got, gf_error *err) {
  (void)err;
  memsrc *m = user;
  size_t k = m->len - m->pos;
  if (k > cap) k = cap;
  if (k > m->step) k = m->step;
  memcpy(buf, m->p + m->pos, k);
  m->pos += k;
  *got = k;
  return GF_OK;
}

/* Decodes `len` bytes read `step` at a time, reading the output `rstep`
 * at a time; returns the status, the bytes in *out (malloc'ed). */
static gf_status decode_mem(const unsigned char *p, size_t len, size_t step, size_t rstep,
                            const gf_allocator *a, char **out, size_t *out_len, gf_error *err) {
  memsrc m = {p, len, 0, step};
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.allocator = a;
  gf_input *in = NULL;
  *out = NULL;
  *out_len = 0;
  gf_status st = gf_input_open_reader(mem_read, &m, "mem.z", &o, &in, err);
  if (st != GF_OK) return st;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + rstep);
  assert_non_null(buf);
  for (;;) {
    if (n + rstep > cap) {
      cap *= 2;
      buf = realloc(buf, cap + rstep);
      assert_non_null(buf);
    }
    size_t got;
    st = gf_input_read(in, buf + n, rstep, &got, err);
    if (st != GF_OK || got == 0) break;
    n += got;
  }
  gf_input_close(in);
  if (st != GF_OK) {
    free(buf);
    return st;
  }
  *out = buf;
  *out_len = n;
  return GF_OK;
}

static const char *const fixtures[] = {"doors/text.csv.gz", "doors/text.csv.zst",
                                       "doors/text.csv.lz4", "doors/text.csv.bz2"};
static const gf_compression fixture_codec[] = {GF_COMPRESSION_GZIP, GF_COMPRESSION_ZSTD,
                                               GF_COMPRESSION_LZ4_FRAME, GF_COMPRESSION_BZIP2};

/* True when this build has fixture k's codec; otherwise checks that the
 * input is refused cleanly (GF_ENOTSUP naming the codec) and says so. */
static bool codec_built(size_t k, const unsigned char *z, size_t len) {
  if (gf_compression_available(fixture_codec[k])) return true;
  char *got;
  size_t got_len;
  gf_error err;
  assert_int_equal(decode_mem(z, len, 1 << 20, 1 << 16, NULL, &got, &got_len, &err), GF_ENOTSUP);
  assert_non_null(strstr(err.message, gf_compression_name(fixture_codec[k])));
  print_message("%s: codec not built, refusal checked\n", fixtures[k]);
  return false;
}

/* ---- detection ---------------------------------------------------------- */

static void detects_signatures(void **state) {
  (void)state;
  static const unsigned char gz[] = {0x1f, 0x8b, 8, 0};
  static const unsigned char zs[] = {0x28, 0xb5, 0x2f, 0xfd};
  static const unsigned char l4[] = {0x04, 0x22, 0x4d, 0x18};
  assert_int_equal(gf_detect_compression(gz, 4), GF_COMPRESSION_GZIP);
  assert_int_equal(gf_detect_compression(zs, 4), GF_COMPRESSION_ZSTD);
  assert_int_equal(gf_detect_compression(l4, 4), GF_COMPRESSION_LZ4_FRAME);
  assert_int_equal(gf_detect_compression("BZh9", 4), GF_COMPRESSION_BZIP2);
  assert_int_equal(gf_detect_compression("BZh0", 4), GF_COMPRESSION_NONE);
  assert_int_equal(gf_detect_compression("a,b\n", 4), GF_COMPRESSION_NONE);
  assert_int_equal(gf_detect_compression(gz, 1), GF_COMPRESSION_NONE);
  assert_int_equal(gf_detect_format("ARROW1\0\0", 8, GF_FORMAT_CSV), GF_FORMAT_IPC_FILE);
  assert_int_equal(gf_detect_format("PAR1\x15\x04", 6, GF_FORMAT_CSV), GF_FORMAT_PARQUET);
  /* Compressed data handed to format detection is binary. */
  assert_int_equal(gf_detect_format(gz, 4, GF_FORMAT_UNKNOWN), GF_FORMAT_BINARY);
  assert_string_equal(gf_describe_binary(gz, 4), "a gzip stream");
  assert_non_null(strstr(gf_describe_binary("PK\x03\x04xx", 6), "zip"));
  assert_null(gf_describe_binary("\x01\x02\x03\x04", 4));
}

static void detects_text_formats(void **state) {
  (void)state;
#define DETECT(s, hint) gf_detect_format(s, strlen(s), hint)
  assert_int_equal(DETECT("a,b\n1,2\n", GF_FORMAT_UNKNOWN), GF_FORMAT_CSV);
  assert_int_equal(DETECT("a\tb\n1\t2\n", GF_FORMAT_TSV), GF_FORMAT_TSV);
  assert_int_equal(DETECT("[{\"a\": 1}]", GF_FORMAT_UNKNOWN), GF_FORMAT_JSON);
  assert_int_equal(DETECT("  \n [\n", GF_FORMAT_UNKNOWN), GF_FORMAT_JSON);
  assert_int_equal(DETECT("\xef\xbb\xbf[1]", GF_FORMAT_UNKNOWN), GF_FORMAT_JSON);
  assert_int_equal(DETECT("{\"a\": 1}\n{\"a\": 2}\n", GF_FORMAT_UNKNOWN), GF_FORMAT_NDJSON);
  assert_int_equal(DETECT("{\"a\": \"}\\\"{\"}\n", GF_FORMAT_UNKNOWN), GF_FORMAT_NDJSON);
  assert_int_equal(DETECT("{\n  \"a\": 1\n}\n", GF_FORMAT_UNKNOWN), GF_FORMAT_JSON);
  /* NDJSON named .json reads as NDJSON; a pretty document as JSON. */
  assert_int_equal(DETECT("{\"a\": 1}\n", GF_FORMAT_JSON), GF_FORMAT_NDJSON);
  assert_int_equal(DETECT("[1, 2]", GF_FORMAT_JSON), GF_FORMAT_JSON);
  /* A CSV header may start with a bracket. */
  assert_int_equal(DETECT("[x],y\n1,2\n", GF_FORMAT_UNKNOWN), GF_FORMAT_CSV);
  assert_int_equal(DETECT("{x},y\n", GF_FORMAT_UNKNOWN), GF_FORMAT_CSV);
  /* The extension decides between text formats. */
  assert_int_equal(DETECT("{\"a\": 1}\n", GF_FORMAT_CSV), GF_FORMAT_CSV);
  /* UTF-8 text is text; a NUL or mostly invalid bytes are not. */
  assert_int_equal(DETECT("name\nZo\xc3\xab\n\xe6\x9d\xb1\xe4\xba\xac\n", GF_FORMAT_UNKNOWN),
                   GF_FORMAT_CSV);
  assert_int_equal(gf_detect_format("a,b\n\0\n", 6, GF_FORMAT_CSV), GF_FORMAT_BINARY);
  assert_int_equal(DETECT("\x80\x81\x82\x83\x84\xfe\xff", GF_FORMAT_UNKNOWN), GF_FORMAT_BINARY);
  /* A UTF-8 sequence cut at the end of the head is fine. */
  assert_int_equal(DETECT("a,b\n\xc3", GF_FORMAT_UNKNOWN), GF_FORMAT_CSV);
  assert_int_equal(gf_detect_format("", 0, GF_FORMAT_UNKNOWN), GF_FORMAT_CSV);
  assert_int_equal(gf_detect_format("", 0, GF_FORMAT_NDJSON), GF_FORMAT_NDJSON);
#undef DETECT
}

static void extension_hints(void **state) {
  (void)state;
  gf_file_format f;
  gf_compression c;
  gf_format_from_path("x/a.CSV.GZ", &f, &c);
  assert_int_equal(f, GF_FORMAT_CSV);
  assert_int_equal(c, GF_COMPRESSION_GZIP);
  gf_format_from_path("b.arrows", &f, &c);
  assert_int_equal(f, GF_FORMAT_IPC_STREAM);
  assert_int_equal(c, GF_COMPRESSION_NONE);
  gf_format_from_path("b.ndjson.zst", &f, &c);
  assert_int_equal(f, GF_FORMAT_NDJSON);
  assert_int_equal(c, GF_COMPRESSION_ZSTD);
  gf_format_from_path("t.tsv.bz2", &f, &c);
  assert_int_equal(f, GF_FORMAT_TSV);
  assert_int_equal(c, GF_COMPRESSION_BZIP2);
  gf_format_from_path("p.parquet", &f, NULL);
  assert_int_equal(f, GF_FORMAT_PARQUET);
  gf_format_from_path("noext", &f, &c);
  assert_int_equal(f, GF_FORMAT_UNKNOWN);
  assert_int_equal(c, GF_COMPRESSION_NONE);
  gf_format_from_path(".gz", &f, &c); /* nothing before the extension */
  assert_int_equal(c, GF_COMPRESSION_NONE);
  assert_true(gf_file_format_parse("JSONL", &f));
  assert_int_equal(f, GF_FORMAT_NDJSON);
  assert_true(gf_file_format_parse("arrows", &f));
  assert_int_equal(f, GF_FORMAT_IPC_STREAM);
  assert_false(gf_file_format_parse("xlsx", &f));
  assert_string_equal(gf_file_format_name(GF_FORMAT_IPC_FILE), "arrow");
  assert_string_equal(gf_compression_extension(GF_COMPRESSION_ZSTD), ".zst");
}

/* Arrow C++'s own files (arrow-testing): every .arrow_file is an IPC file
 * and every .stream an IPC stream (continuation marker); stripping the
 * marker gives the legacy framing, still a stream; the same bytes named
 * .csv are still IPC (content beats extension). */
static void detects_arrow_cpp_files(void **state) {
  (void)state;
  static const char *const names[] = {"generated_primitive", "generated_null",
                                      "generated_decimal256",
                                      "generated_primitive_large_offsets"};
  int checked = 0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char rel[512];
    size_t len;
    snprintf(rel, sizeof rel,
             "arrow-testing/data/arrow-ipc-stream/integration/1.0.0-littleendian/%s.arrow_file",
             names[i]);
    if (access(data_path(rel), R_OK) != 0) continue;
    unsigned char *p = slurp(data_path(rel), &len);
    assert_int_equal(gf_detect_format(p, len < 4096 ? len : 4096, GF_FORMAT_CSV),
                     GF_FORMAT_IPC_FILE);
    free(p);
    snprintf(rel, sizeof rel,
             "arrow-testing/data/arrow-ipc-stream/integration/1.0.0-littleendian/%s.stream",
             names[i]);
    p = slurp(data_path(rel), &len);
    assert_true(len > 8);
    assert_int_equal(gf_detect_format(p, len < 4096 ? len : 4096, GF_FORMAT_CSV),
                     GF_FORMAT_IPC_STREAM);
    /* Only 64 bytes of head: judged on what it holds. */
    assert_int_equal(gf_detect_format(p, 64, GF_FORMAT_UNKNOWN), GF_FORMAT_IPC_STREAM);
    assert_int_equal(gf_detect_format(p + 4, len - 4, GF_FORMAT_UNKNOWN), GF_FORMAT_IPC_STREAM);
    free(p);
    checked++;
  }
  assert_true(checked >= 2);
  /* A continuation marker followed by nonsense is not a stream. */
  static const unsigned char bogus[] = {0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0,
                                        0xff, 0xff, 0xff, 0x7f, 0,    0, 0, 0};
  assert_int_equal(gf_detect_format(bogus, sizeof bogus, GF_FORMAT_UNKNOWN), GF_FORMAT_BINARY);
}

/* ---- decompression ------------------------------------------------------ */

/* Each fixture decodes to the naive text read whole, one byte at a time
 * (input and output), and with odd step sizes; the head is its prefix. */
static void decompresses_fixtures(void **state) {
  (void)state;
  size_t want_len;
  char *want = fixture_text(&want_len);
  static const size_t steps[][2] = {{1 << 20, 1 << 20}, {1, 1}, {1, 4096}, {7, 13}, {65537, 3}};
  for (size_t k = 0; k < sizeof fixtures / sizeof fixtures[0]; k++) {
    size_t len;
    unsigned char *z = slurp(data_path(fixtures[k]), &len);
    if (!codec_built(k, z, len)) {
      free(z);
      continue;
    }
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
      /* One byte at a time through the 85 KB text is slow only for output. */
      if (steps[s][1] == 1 && k > 0) continue;
      char *got;
      size_t got_len;
      gf_error err;
      gf_error_clear(&err);
      gf_status st = decode_mem(z, len, steps[s][0], steps[s][1], NULL, &got, &got_len, &err);
      if (st != GF_OK) fail_msg("%s step %zu: %s", fixtures[k], steps[s][0], err.message);
      assert_int_equal(got_len, want_len);
      assert_memory_equal(got, want, want_len);
      free(got);
    }
    /* Through a file descriptor, and the head. */
    gf_input *in = NULL;
    gf_error err;
    assert_int_equal(gf_input_open(data_path(fixtures[k]), NULL, &in, &err), GF_OK);
    assert_int_equal(gf_input_compression(in), fixture_codec[k]);
    assert_true(gf_input_is_regular_file(in));
    size_t hl;
    const char *h = gf_input_head(in, &hl);
    assert_int_equal(hl, 1 << 16);
    assert_memory_equal(h, want, hl);
    assert_int_equal(gf_detect_format(h, hl, GF_FORMAT_UNKNOWN), GF_FORMAT_CSV);
    void *all;
    size_t all_len;
    assert_int_equal(gf_input_read_all(in, &all, &all_len, &err), GF_OK);
    assert_int_equal(all_len, want_len);
    assert_memory_equal(all, want, want_len);
    gf_mem_free(all);
    gf_input_close(in);
    free(z);
  }
  free(want);
}

/* Two gzip members one after the other read as one text. */
static void reads_concatenated_gzip_members(void **state) {
  (void)state;
  size_t want_len, len;
  char *want = fixture_text(&want_len);
  unsigned char *z = slurp(data_path("doors/members.csv.gz"), &len);
  if (!codec_built(0, z, len)) {
    free(z);
    free(want);
    return;
  }
  for (size_t step = 1; step <= 1 << 20; step *= 1024) {
    char *got;
    size_t got_len;
    gf_error err;
    assert_int_equal(decode_mem(z, len, step, 1 << 16, NULL, &got, &got_len, &err), GF_OK);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
  }
  free(z);
  free(want);
}

/* Cut anywhere inside a stream: GF_EPARSE naming the input and the
 * compressed byte where it ended (the cut), never a short success. */
static void truncated_streams_fail_with_offset(void **state) {
  (void)state;
  for (size_t k = 0; k < sizeof fixtures / sizeof fixtures[0]; k++) {
    size_t len;
    unsigned char *z = slurp(data_path(fixtures[k]), &len);
    if (!codec_built(k, z, len)) {
      free(z);
      continue;
    }
    const size_t cuts[] = {5, 11, 100, len / 3, len / 2, len - 9, len - 1};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
      for (size_t step = 1; step <= 1 << 20; step <<= 20) {
        char *got;
        size_t got_len;
        gf_error err;
        gf_error_clear(&err);
        gf_status st = decode_mem(z, cuts[c], step, 1 << 16, NULL, &got, &got_len, &err);
        if (st != GF_EPARSE)
          fail_msg("%s cut at %zu: status %d (%s)", fixtures[k], cuts[c], st, err.message);
        assert_non_null(strstr(err.message, "mem.z"));
        char at[64];
        snprintf(at, sizeof at, "compressed byte %zu", cuts[c]);
        if (!strstr(err.message, "truncated") || !strstr(err.message, at))
          fail_msg("%s cut at %zu: %s", fixtures[k], cuts[c], err.message);
      }
    }
    free(z);
  }
}

/* Bytes after the last member that start no other, and a corrupted body. */
static void garbage_is_an_error(void **state) {
  (void)state;
  size_t len;
  unsigned char *z = slurp(data_path("doors/text.csv.gz"), &len);
  if (!codec_built(0, z, len)) {
    free(z);
    return;
  }
  unsigned char *g = malloc(len + 4);
  memcpy(g, z, len);
  memcpy(g + len, "junk", 4);
  char *got;
  size_t got_len;
  gf_error err;
  assert_int_equal(decode_mem(g, len + 4, 1 << 20, 1 << 16, NULL, &got, &got_len, &err),
                   GF_EPARSE);
  assert_non_null(strstr(err.message, "trailing data"));
  char at[64];
  snprintf(at, sizeof at, "byte %zu", len);
  assert_non_null(strstr(err.message, at));
  memcpy(g, z, len);
  for (size_t i = 200; i < 260; i++) g[i] ^= 0x5a;
  assert_int_equal(decode_mem(g, len, 1 << 20, 1 << 16, NULL, &got, &got_len, &err), GF_EPARSE);
  assert_non_null(strstr(err.message, "corrupt gzip"));
  free(g);
  free(z);
  for (size_t k = 1; k < sizeof fixtures / sizeof fixtures[0]; k++) {
    z = slurp(data_path(fixtures[k]), &len);
    if (!codec_built(k, z, len)) {
      free(z);
      continue;
    }
    g = malloc(len + 7);
    memcpy(g, z, len);
    memcpy(g + len, "garbage", 7);
    gf_status st = decode_mem(g, len + 7, 1 << 20, 1 << 16, NULL, &got, &got_len, &err);
    if (st != GF_EPARSE) fail_msg("%s + garbage: status %d", fixtures[k], st);
    free(g);
    free(z);
  }
}

/* Uncompressed input passes through untouched, also one byte at a time. */
static void plain_input_passes_through(void **state) {
  (void)state;
  size_t want_len;
  char *want = fixture_text(&want_len);
  for (size_t step = 1; step <= 1 << 20; step <<= 10) {
    char *got;
    size_t got_len;
    gf_error err;
    assert_int_equal(
        decode_mem((const unsigned char *)want, want_len, step, 333, NULL, &got, &got_len, &err),
        GF_OK);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
  }
  char *got;
  size_t got_len;
  gf_error err;
  assert_int_equal(decode_mem((const unsigned char *)"", 0, 1, 1, NULL, &got, &got_len, &err),
                   GF_OK);
  assert_int_equal(got_len, 0);
  free(got);
  free(want);
}

/* One decode of the gzip (or bz2...) fixture under a failing allocator. */
typedef struct sweep_case {
  const unsigned char *z;
  size_t len;
  const char *want;
  size_t want_len;
} sweep_case;

static gf_status decode_once(void *user, const gf_allocator *a) {
  sweep_case *c = user;
  memsrc m = {c->z, c->len, 0, 1 << 20};
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.allocator = a;
  gf_input *in = NULL;
  gf_error err;
  gf_status st = gf_input_open_reader(mem_read, &m, "mem.z", &o, &in, &err);
  if (st != GF_OK) return st;
  void *all;
  size_t n;
  st = gf_input_read_all(in, &all, &n, &err);
  gf_input_close(in);
  if (st != GF_OK) return st;
  assert_int_equal(n, c->want_len);
  assert_memory_equal(all, c->want, n);
  gf_mem_free(all);
  return GF_OK;
}

static void survives_allocation_failures(void **state) {
  (void)state;
  size_t want_len;
  char *want = fixture_text(&want_len);
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts acc = {0};
  for (size_t k = 0; k < sizeof fixtures / sizeof fixtures[0]; k++) {
    size_t len;
    unsigned char *z = slurp(data_path(fixtures[k]), &len);
    if (!gf_compression_available(fixture_codec[k])) {
      free(z);
      continue;
    }
    sweep_case c = {z, len, want, want_len};
    gft_alloc_sweep(fixtures[k], fa, decode_once, &c, &acc);
    free(z);
  }
  gft_sweep_print("decompression", &acc);
  gf_failing_allocator_free(fa);
  free(want);
}

/* ---- compression -------------------------------------------------------- */

/* gf_text_output of each codec, written in odd pieces, reads back the same
 * (the CLI test checks the same files with the system tools). Aborting
 * leaves no file. */
static void text_output_round_trips(void **state) {
  (void)state;
  size_t want_len;
  char *want = fixture_text(&want_len);
  char dir[] = "/tmp/gf_doors_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[512];
  static const gf_compression cs[] = {GF_COMPRESSION_NONE, GF_COMPRESSION_GZIP,
                                      GF_COMPRESSION_ZSTD, GF_COMPRESSION_LZ4_FRAME,
                                      GF_COMPRESSION_BZIP2};
  for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
    if (!gf_compression_available(cs[k])) continue;
    snprintf(path, sizeof path, "%s/out.csv%s", dir, gf_compression_extension(cs[k]));
    gf_text_output *o = NULL;
    gf_error err;
    assert_int_equal(gf_text_output_open(path, cs[k], 0, NULL, &o, &err), GF_OK);
    FILE *fp = gf_text_output_stream(o);
    for (size_t i = 0, step = 1; i < want_len; step = step * 3 + 1) {
      size_t n = want_len - i < step ? want_len - i : step;
      assert_int_equal(fwrite(want + i, 1, n, fp), n);
      i += n;
    }
    assert_int_equal(access(path, F_OK), -1); /* not there before commit */
    assert_int_equal(gf_text_output_close(o, true, &err), GF_OK);
    gf_input *in = NULL;
    assert_int_equal(gf_input_open(path, NULL, &in, &err), GF_OK);
    assert_int_equal(gf_input_compression(in), cs[k]);
    void *all;
    size_t n;
    assert_int_equal(gf_input_read_all(in, &all, &n, &err), GF_OK);
    assert_int_equal(n, want_len);
    assert_memory_equal(all, want, n);
    gf_mem_free(all);
    gf_input_close(in);
    unlink(path);
    /* Abort: nothing left behind. */
    assert_int_equal(gf_text_output_open(path, cs[k], 0, NULL, &o, &err), GF_OK);
    fputs("partial", gf_text_output_stream(o));
    assert_int_equal(gf_text_output_close(o, false, &err), GF_OK);
    assert_int_equal(access(path, F_OK), -1);
  }
  rmdir(dir);
  free(want);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(detects_signatures),
      cmocka_unit_test(detects_text_formats),
      cmocka_unit_test(extension_hints),
      cmocka_unit_test(detects_arrow_cpp_files),
      cmocka_unit_test(decompresses_fixtures),
      cmocka_unit_test(reads_concatenated_gzip_members),
      cmocka_unit_test(truncated_streams_fail_with_offset),
      cmocka_unit_test(garbage_is_an_error),
      cmocka_unit_test(plain_input_passes_through),
      cmocka_unit_test(survives_allocation_failures),
      cmocka_unit_test(text_output_round_trips),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
