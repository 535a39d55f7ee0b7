/* The Parquet writer: identical bytes for any worker count and batch
 * split; clean refusals (unsupported type, unknown codec, cancelled,
 * unwritable directory) that leave no file; allocation-failure sweeps.
 * What the files contain is checked against pyarrow, Polars and DuckDB by
 * python/tests/test_parquet_interop.py (an independent reader). The
 * dictionary fallback rule (docs/PARQUET.md) against a naive replay of the
 * rule: where the dictionary pages end, read from the page headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"
#include "io/pq_format.h"
#include "io/thrift_read.h"

static char tmpdir[] = "/tmp/gf_pqw_XXXXXX";

static const char *temp_path(const char *name) {
  static char buf[8][256];
  static int k;
  char *p = buf[k++ % 8];
  snprintf(p, 256, "%s/%s", tmpdir, name);
  return p;
}

static uint8_t *read_all(const char *path, size_t *n) {
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  fseek(fp, 0, SEEK_END);
  long len = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)len + 1);
  assert_non_null(b);
  assert_int_equal(fread(b, 1, (size_t)len, fp), (size_t)len);
  fclose(fp);
  *n = (size_t)len;
  return b;
}

/* Every type the writer supports (gft_all_types minus decimal256). */
static int writable_types(gf_datatype *out) {
  gf_datatype all[GFT_MAX_TYPES];
  int n = gft_all_types(all, GFT_MAX_TYPES), k = 0;
  for (int i = 0; i < n; i++)
    if (all[i].id != GF_TYPE_DECIMAL256) out[k++] = all[i];
  return k;
}

static gf_frame *frame_of(int64_t rows, int batches, double nulls, uint64_t seed) {
  gf_datatype t[GFT_MAX_TYPES];
  int n = writable_types(t);
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, n, rows, batches, nulls, seed, NULL, &f), GF_OK);
  return f;
}

/* Checks the framing: PAR1 at both ends, a footer length inside the file. */
static void check_framing(const uint8_t *b, size_t n) {
  assert_true(n >= 12);
  assert_memory_equal(b, "PAR1", 4);
  assert_memory_equal(b + n - 4, "PAR1", 4);
  uint32_t flen = (uint32_t)b[n - 8] | (uint32_t)b[n - 7] << 8 | (uint32_t)b[n - 6] << 16 |
                  (uint32_t)b[n - 5] << 24;
  assert_true(flen > 0 && flen + 12 <= n);
}

/* The bytes at 1/2/3/8 workers, with one batch or seven, and for each
 * codec, equal those of one worker and one batch. */
static void bytes_identical_for_any_worker_count(void **state) {
  (void)state;
  gf_frame *one = frame_of(2000, 1, 0.2, 11);
  /* The same rows as 7 slices (array offsets not multiples of 8). */
  gf_frame *parts[7];
  int64_t at = 0;
  for (int k = 0; k < 7; k++) {
    int64_t len = k < 6 ? 283 : 2000 - at;
    assert_int_equal(gf_frame_slice(one, at, len, &parts[k], NULL), GF_OK);
    at += len;
  }
  gf_frame *seven = NULL;
  assert_int_equal(gf_frame_concat(parts, 7, NULL, &seven, NULL), GF_OK);
  for (int k = 0; k < 7; k++) gf_frame_release(parts[k]);
  assert_int_equal(gf_frame_num_batches(seven), 7);
  assert_true(gf_frame_equals(one, seven));
  const gf_parquet_compression codecs[] = {GF_PARQUET_NONE, GF_PARQUET_SNAPPY, GF_PARQUET_GZIP,
                                           GF_PARQUET_ZSTD, GF_PARQUET_LZ4_RAW};
  for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++) {
    if (!gf_parquet_compression_available(codecs[c])) continue;
    uint8_t *ref = NULL;
    size_t ref_n = 0;
    const int workers[] = {1, 2, 3, 8};
    /* Every worker count for two codecs, 1 and 8 for the others (time). */
    bool all = codecs[c] == GF_PARQUET_NONE || codecs[c] == GF_PARQUET_ZSTD;
    for (int fi = 0; fi < 2; fi++) {
      for (size_t wi = 0; wi < 4; wi++) {
        if (!all && workers[wi] != 1 && workers[wi] != 8) continue;
        gf_parallel_options po;
        gf_parallel_options_init(&po);
        po.num_workers = workers[wi];
        gf_parquet_write_options o;
        gf_parquet_write_options_init(&o);
        o.compression = codecs[c];
        o.row_group_rows = 700; /* several row groups, a short last one */
        o.data_page_rows = 300; /* several pages per chunk */
        o.dictionary_page_bytes = 1000; /* some chunks fall back to PLAIN */
        o.parallel = &po;
        const char *path = temp_path("det.parquet");
        gf_error err;
        gf_status st = gf_write_parquet(fi ? seven : one, path, &o, &err);
        if (st != GF_OK) fail_msg("%s", err.message);
        size_t n;
        uint8_t *b = read_all(path, &n);
        check_framing(b, n);
        if (!ref) {
          ref = b;
          ref_n = n;
          continue;
        }
        if (n != ref_n || memcmp(b, ref, n) != 0)
          fail_msg("codec %d, %d workers, %d batches: bytes differ from 1 worker", (int)codecs[c],
                   workers[wi], fi ? 7 : 1);
        free(b);
      }
    }
    free(ref);
  }
  unlink(temp_path("det.parquet"));
  gf_frame_release(one);
  gf_frame_release(seven);
}

/* Unsupported types, codecs and options fail before anything is written;
 * the message names the column. */
static void refusals_leave_no_file(void **state) {
  (void)state;
  const char *path = temp_path("refused.parquet");
  unlink(path);
  gf_datatype t[2] = {gf_type(GF_TYPE_INT32), gf_type_decimal256(40, 5)};
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, 2, 10, 1, 0.1, 3, NULL, &f), GF_OK);
  gf_error err;
  assert_int_equal(gf_write_parquet(f, path, NULL, &err), GF_ENOTSUP);
  assert_non_null(strstr(err.message, "'c1'"));
  struct stat sb;
  assert_int_not_equal(stat(path, &sb), 0);
  gf_frame_release(f);

  f = frame_of(10, 1, 0.1, 4);
  gf_parquet_write_options o;
  gf_parquet_write_options_init(&o);
  o.compression = (gf_parquet_compression)42;
  assert_int_equal(gf_write_parquet(f, path, &o, &err), GF_EINVAL);
  assert_int_not_equal(stat(path, &sb), 0);
  /* A directory that does not exist. */
  assert_int_equal(gf_write_parquet(f, "/nonexistent-dir/x.parquet", NULL, &err), GF_EIO);
  /* Cancelled before it starts: no file, and an old file is kept. */
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  fputs("old", fp);
  fclose(fp);
  gf_cancel *c;
  assert_int_equal(gf_cancel_new(&c, NULL), GF_OK);
  gf_cancel_request(c);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.cancel = c;
  gf_parquet_write_options_init(&o);
  o.parallel = &po;
  assert_int_equal(gf_write_parquet(f, path, &o, &err), GF_ECANCELED);
  size_t n;
  uint8_t *b = read_all(path, &n);
  assert_int_equal(n, 3);
  free(b);
  gf_cancel_free(c);
  unlink(path);
  gf_frame_release(f);
}

/* A value that cannot be written (seconds * 1000 overflowing int64) is
 * GF_ERANGE naming the column and the row; no file. */
static void overflow_is_an_error(void **state) {
  (void)state;
  const char *path = temp_path("overflow.parquet");
  unlink(path);
  int64_t v[3] = {0, 1, INT64_MAX / 10};
  gf_array *a = gft_int64_array(gf_type_timestamp(GF_UNIT_SECOND, false, 0), v, NULL, 3);
  const char *names[1] = {"ts"};
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_from_columns(names, &a, 1, &f, NULL), GF_OK);
  gf_array_release(a);
  gf_error err;
  assert_int_equal(gf_write_parquet(f, path, NULL, &err), GF_ERANGE);
  assert_non_null(strstr(err.message, "'ts'"));
  assert_non_null(strstr(err.message, "row 2"));
  struct stat sb;
  assert_int_not_equal(stat(path, &sb), 0);
  gf_frame_release(f);
}

typedef struct write_sweep {
  const gf_frame *f;
  const char *path;
  gf_parquet_write_options wo;
  gf_parallel_options po;
  const uint8_t *want;
  size_t want_n;
} write_sweep;

static gf_status write_once(void *user, const gf_allocator *a) {
  write_sweep *s = user;
  s->po.allocator = a;
  s->wo.parallel = &s->po;
  gf_error err;
  gf_status st = gf_write_parquet(s->f, s->path, &s->wo, &err);
  struct stat sb;
  if (st == GF_OK) {
    size_t n;
    uint8_t *b = read_all(s->path, &n);
    if (n != s->want_n || memcmp(b, s->want, n) != 0)
      fail_msg("%s: a different file", gft_sweep_at());
    free(b);
    unlink(s->path);
  } else if (stat(s->path, &sb) == 0) {
    fail_msg("%s: a failed write left %s", gft_sweep_at(), s->path);
  }
  return st;
}

/* Every allocation failing, one-off and persistent: GF_ENOMEM, no file,
 * no leak, and the same bytes once it runs clean. */
static void survives_every_allocation_failure(void **state) {
  (void)state;
  /* One type of each path of the encoder (the sweep's time grows with
   * the columns): BOOLEAN, INT32 (+ unsigned), INT64 (seconds * 1000),
   * DOUBLE, BYTE_ARRAY, FLBA (decimal), dictionary, null. */
  gf_datatype all[GFT_MAX_TYPES], t[16];
  int n = writable_types(all), k = 0;
  const gf_type_id ids[] = {GF_TYPE_NULL, GF_TYPE_BOOL, GF_TYPE_UINT32, GF_TYPE_TIMESTAMP,
                             GF_TYPE_FLOAT64, GF_TYPE_UTF8, GF_TYPE_DECIMAL128,
                             GF_TYPE_DICTIONARY};
  for (size_t w = 0; w < sizeof ids / sizeof ids[0]; w++)
    for (int i = 0; i < n; i++)
      if (all[i].id == ids[w]) {
        t[k++] = all[i];
        break;
      }
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, k, 30, 2, 0.2, 8, NULL, &f), GF_OK);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  write_sweep s;
  memset(&s, 0, sizeof s);
  s.f = f;
  s.path = temp_path("oom.parquet");
  gf_parquet_write_options_init(&s.wo);
  gf_parallel_options_init(&s.po);
  s.po.num_workers = 1;
  s.wo.row_group_rows = 20;
  s.wo.data_page_rows = 8;
  s.wo.dictionary_page_bytes = 40; /* both the dictionary and the fallback path */
  if (gf_parquet_compression_available(GF_PARQUET_ZSTD)) s.wo.compression = GF_PARQUET_ZSTD;
  s.wo.parallel = &s.po;
  assert_int_equal(gf_write_parquet(f, s.path, &s.wo, NULL), GF_OK);
  uint8_t *want = read_all(s.path, &s.want_n);
  s.want = want;
  unlink(s.path);
  gft_sweep_counts counts = {0};
  gft_alloc_sweep("Parquet write", fa, write_once, &s, &counts);
  gft_sweep_print("Parquet write", &counts);
  free(want);
  gf_failing_allocator_free(fa);
  gf_frame_release(f);
}

/* Frames without rows or columns still make valid files. */
static void empty_frames(void **state) {
  (void)state;
  gf_frame *f = frame_of(0, 1, 0.0, 1);
  const char *path = temp_path("empty.parquet");
  gf_error err;
  assert_int_equal(gf_write_parquet(f, path, NULL, &err), GF_OK);
  size_t n;
  uint8_t *b = read_all(path, &n);
  check_framing(b, n);
  free(b);
  gf_frame_release(f);
  unlink(path);
}

/* The pages of the only column chunk of a one-column, one-row-group,
 * uncompressed file of `rows` rows, from the page headers: kinds[k] is
 * 'D' (dictionary), 'R' (RLE_DICTIONARY data) or 'P' (PLAIN data), vals[k]
 * its num_values. Returns the page count. */
static int page_kinds(const uint8_t *b, size_t n, int64_t rows, char *kinds, int64_t *vals,
                      int max) {
  size_t at = 4;
  int64_t seen = 0;
  int k = 0;
  tr_arena ar;
  gfi_tr_arena_init(&ar, NULL);
  while (seen < rows) {
    assert_true(k < max);
    gfi_pq_page_header h;
    size_t used = 0;
    gf_error err;
    if (gfi_pq_decode_page_header(b + at, n - at, at, &h, &ar, &used, &err) != GF_OK)
      fail_msg("%s", err.message);
    if (h.type == 2) {
      kinds[k] = 'D';
      vals[k] = h.dictionary_page_header.num_values;
    } else {
      assert_int_equal(h.type, 0);
      assert_true(h.data_page_header.encoding == 8 || h.data_page_header.encoding == 0);
      kinds[k] = h.data_page_header.encoding == 8 ? 'R' : 'P';
      vals[k] = h.data_page_header.num_values;
      seen += vals[k];
    }
    at += used + (size_t)h.compressed_page_size;
    k++;
  }
  gfi_tr_arena_free(&ar);
  assert_int_equal(seen, rows);
  return k;
}

/* Writes `col` (one column "x") uncompressed as one row group with a
 * dictionary page limit of 1000 bytes and pages of 500 rows; checks that
 * the pages are: a dictionary page of `entries` values, RLE_DICTIONARY
 * pages for rows [0, dict_rows), PLAIN pages for the rest; reads the file
 * back and compares it with `want` (NULL = null). */
static void check_fallback(gf_array *col, const char *const *want, int64_t rows,
                           int64_t dict_rows, int64_t entries) {
  const char *names[1] = {"x"};
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_from_columns(names, &col, 1, &f, NULL), GF_OK);
  gf_array_release(col);
  gf_parquet_write_options o;
  gf_parquet_write_options_init(&o);
  o.row_group_rows = rows;
  o.data_page_rows = 500;
  o.dictionary_page_bytes = 1000;
  const char *path = temp_path("fallback.parquet");
  gf_error err;
  if (gf_write_parquet(f, path, &o, &err) != GF_OK) fail_msg("%s", err.message);
  size_t n;
  uint8_t *b = read_all(path, &n);
  char kinds[64];
  int64_t vals[64];
  int np = page_kinds(b, n, rows, kinds, vals, 64);
  int64_t in_dict = 0, in_plain = 0;
  int k = 0;
  if (dict_rows > 0) {
    assert_int_equal(kinds[0], 'D');
    assert_int_equal(vals[0], entries);
    k = 1;
  }
  for (; k < np && kinds[k] == 'R'; k++) in_dict += vals[k];
  for (; k < np && kinds[k] == 'P'; k++) in_plain += vals[k];
  assert_int_equal(k, np); /* no dictionary page after a PLAIN one */
  assert_int_equal(in_dict, dict_rows);
  assert_int_equal(in_plain, rows - dict_rows);
  free(b);
  gf_frame *back = NULL;
  if (gf_read_parquet(path, NULL, &back, &err) != GF_OK) fail_msg("%s", err.message);
  assert_int_equal(gf_frame_num_rows(back), rows);
  for (int bi = 0; bi < gf_frame_num_batches(back); bi++) {
    const gf_array *a = gf_frame_column(back, bi, 0);
    int64_t off = gf_frame_batch_offset(back, bi);
    for (int64_t i = 0; i < gf_array_length(a); i++) {
      const char *w = want[off + i];
      if (!w) {
        assert_true(gf_array_is_null(a, i));
        continue;
      }
      int64_t len;
      const char *g = gf_array_get_bytes(a, i, &len);
      if (len != (int64_t)strlen(w) || memcmp(g, w, (size_t)len) != 0)
        fail_msg("row %lld: got '%.*s', want '%s'", (long long)(off + i), (int)len, g, w);
    }
  }
  gf_frame_release(back);
  gf_frame_release(f);
  unlink(path);
}

/* The fallback rule, replayed naively: a utf8 column falls back at the
 * row whose new value would take the dictionary page (4-byte length +
 * bytes per entry) over the limit; a dictionary column whose entries
 * repeat keeps every row dictionary-encoded however large its page; one
 * whose values are all distinct (the dictionary does not pay) falls back
 * like a utf8 column. Nulls (every 13th / 17th row) add no entry. */
static void dictionary_fallback_rule(void **state) {
  (void)state;
  enum { N = 3000 };
  static char buf[N][32];
  const char *v[N];
  /* utf8, 600 distinct values of 5 bytes, used in a scrambled order */
  for (int i = 0; i < N; i++) {
    snprintf(buf[i], sizeof buf[i], "v%04d", (int)(((int64_t)i * 7919) % 600));
    v[i] = i % 13 == 5 ? NULL : buf[i];
  }
  bool seen[600] = {false};
  int64_t bytes = 0, fall = N, entries = 0;
  for (int i = 0; i < N && fall == N; i++) {
    if (!v[i]) continue;
    int k = atoi(v[i] + 1);
    if (seen[k]) continue;
    if (bytes + 4 + 5 > 1000) fall = i;
    else {
      seen[k] = true;
      bytes += 9;
      entries++;
    }
  }
  assert_true(fall > 0 && fall < N);
  check_fallback(gft_string_array(gf_type(GF_TYPE_UTF8), v, N), v, N, fall, entries);
  /* dictionary<utf8>: 400 entries of 20 bytes (a 9600-byte page), each
   * used about 7 times: dictionary pages throughout */
  for (int i = 0; i < N; i++) {
    snprintf(buf[i], sizeof buf[i], "entry-%014d", (i * 31) % 400);
    v[i] = i % 17 == 3 ? NULL : buf[i];
  }
  check_fallback(gft_string_array(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), v, N), v, N, N, 400);
  /* dictionary<utf8>, every value once: 41 entries of 24 bytes fit */
  for (int i = 0; i < N; i++) {
    snprintf(buf[i], sizeof buf[i], "u%019d", i);
    v[i] = buf[i];
  }
  check_fallback(gft_string_array(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), v, N), v, N, 41, 41);
}

static int setup(void **state) {
  (void)state;
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return rmdir(tmpdir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bytes_identical_for_any_worker_count),
      cmocka_unit_test(refusals_leave_no_file),
      cmocka_unit_test(overflow_is_an_error),
      cmocka_unit_test(survives_every_allocation_failure),
      cmocka_unit_test(empty_frames),
      cmocka_unit_test(dictionary_fallback_rule),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
