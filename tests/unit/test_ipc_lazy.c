/* The lazy IPC file source (src/io/ipc_source.h) and gf_ipc_read_schema:
 * - every batch read alone (all columns, and column subsets in any order)
 *   equals the frame that was written and the eager reader's batch, with
 *   statistics equal to a naive min/max/null loop, also when batches are
 *   read concurrently, at 1/2/3/8 workers;
 * - a corrupt body in batch k of n: open succeeds, reading batch k fails
 *   with exactly the eager reader's error text (which names the batch and
 *   the byte offset), the other batches read fine; with two corrupt
 *   batches the eager reader reports the lower one at every worker count;
 * - a corrupt dictionary fails the batches that use it, again and again,
 *   while columns without it read; a cancelled read is retried cleanly;
 * - gf_ipc_read_schema reads the row and null counts of the metadata
 *   without touching bodies (a corrupt body does not matter);
 * - allocation failures at every allocation of open + read_batch. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"
#include "io/flatbuf.h"
#include "io/ipc_internal.h"
#include "io/ipc_source.h"

static const int worker_counts[] = {1, 2, 3, 8};

/* A fresh temporary path (the file exists, empty). */
static void temp_path(char *buf, size_t n) {
  snprintf(buf, n, "/tmp/gf_test_ipc_lazy_XXXXXX");
  int fd = mkstemp(buf);
  assert_true(fd >= 0);
  close(fd);
}

static void write_bytes(const char *path, const void *d, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(d, 1, n, f), n);
  fclose(f);
}

static void *encode_file(const gf_frame *f, size_t *len) {
  gf_ipc_write_options wo;
  gf_ipc_write_options_init(&wo);
  void *d = NULL;
  assert_int_equal(gf_write_ipc_memory(f, true, &wo, &d, len, NULL), GF_OK);
  return d;
}

static void par_init(gf_parallel_options *p, int workers) {
  gf_parallel_options_init(p);
  p->num_workers = workers;
  p->min_parallel_rows = 1; /* parallel even for the small test files */
}

/* Naive statistics of an integer or float column: min, max (as doubles)
 * and null count over the valid values. */
static void naive_stats(const gf_array *a, int64_t *nulls, double *mn, double *mx, bool *any) {
  *nulls = 0;
  *any = false;
  for (int64_t i = 0; i < gf_array_length(a); i++) {
    if (gf_array_is_null(a, i)) {
      (*nulls)++;
      continue;
    }
    double x = gf_array_get_double(a, i);
    if (!*any || x < *mn) *mn = x;
    if (!*any || x > *mx) *mx = x;
    *any = true;
  }
}

/* Checks a column's statistics against the naive loop (integer and float
 * columns without NaN; others: the null count). */
static bool stats_ok(const gf_array *a) {
  const gf_stats *s = gf_array_stats(a);
  int64_t nulls;
  double mn = 0, mx = 0;
  bool any;
  naive_stats(a, &nulls, &mn, &mx, &any);
  if (s->null_count != nulls || gf_array_null_count(a) != nulls) return false;
  gf_type_id id = gf_array_type(a).id;
  bool numeric = (id >= GF_TYPE_INT8 && id <= GF_TYPE_UINT64) || id == GF_TYPE_FLOAT64 ||
                 id == GF_TYPE_FLOAT32;
  if (!numeric) return true;
  if (!any) return !s->has_min_max;
  if (!s->has_min_max) return false;
  double smn = s->is_float ? s->min.f : s->is_unsigned ? (double)s->min.u : (double)s->min.i;
  double smx = s->is_float ? s->max.f : s->is_unsigned ? (double)s->max.u : (double)s->max.i;
  return smn == mn && smx == mx;
}

/* A frame of several types with nulls, batches of uneven sizes and an
 * empty batch, written from a slice (so the writer starts at an offset). */
static gf_frame *test_frame(void) {
  gf_datatype t[6] = {gf_type(GF_TYPE_INT32),   gf_type(GF_TYPE_UTF8),
                      gf_type_dictionary(gf_type(GF_TYPE_UTF8)),
                      gf_type(GF_TYPE_FLOAT64), gf_type(GF_TYPE_BOOL),
                      gf_type(GF_TYPE_INT64)};
  gf_frame *a = NULL, *b = NULL, *e = NULL, *all = NULL, *cut = NULL;
  assert_int_equal(gft_random_frame(t, 6, 3001, 3, 0.2, 11, NULL, &a), GF_OK);
  assert_int_equal(gft_random_frame(t, 6, 0, 1, 0.2, 12, NULL, &e), GF_OK);
  assert_int_equal(gft_random_frame(t, 6, 777, 2, 0.0, 13, NULL, &b), GF_OK);
  gf_frame *parts[3] = {a, e, b};
  assert_int_equal(gf_frame_concat(parts, 3, NULL, &all, NULL), GF_OK);
  assert_int_equal(gf_frame_slice(all, 5, gf_frame_num_rows(all) - 9, &cut, NULL), GF_OK);
  /* Concatenation drops empty batches: insert one by hand after batch 1. */
  int nb = gf_frame_num_batches(cut), nc = gf_frame_num_columns(cut);
  gf_array **cols = calloc((size_t)(nb + 1) * (size_t)nc, sizeof *cols);
  assert_non_null(cols);
  for (int bi = 0, bo = 0; bi < nb; bi++, bo++) {
    for (int c = 0; c < nc; c++) cols[bo * nc + c] = gf_array_retain(gf_frame_column(cut, bi, c));
    if (bi == 1) {
      bo++;
      for (int c = 0; c < nc; c++)
        assert_int_equal(gf_array_slice(gf_frame_column(cut, bi, c), 3, 0, &cols[bo * nc + c], NULL),
                         GF_OK);
    }
  }
  gf_frame *out = NULL;
  assert_int_equal(gf_frame_new(gf_frame_schema(cut), cols, nb + 1, NULL, &out, NULL), GF_OK);
  for (int k = 0; k < (nb + 1) * nc; k++) gf_array_release(cols[k]);
  free(cols);
  gf_frame_release(a);
  gf_frame_release(b);
  gf_frame_release(e);
  gf_frame_release(all);
  gf_frame_release(cut);
  return out;
}

/* Concurrent reads of every batch through the runtime (thread safety). */
typedef struct conc {
  gfi_ipc_source *src;
  const gf_frame *eager;
  atomic_int bad;
} conc;

static gf_status conc_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *tc) {
  conc *x = user;
  (void)tc;
  for (int64_t rep = 0; rep < 2; rep++) {
    int i = (int)(c->chunk_id % gfi_ipc_source_num_batches(x->src));
    gf_frame *f = NULL;
    gf_error err;
    if (gfi_ipc_source_read_batch(x->src, i, NULL, 0, NULL, &f, &err) != GF_OK) {
      atomic_fetch_add(&x->bad, 1);
      continue;
    }
    for (int col = 0; col < gf_frame_num_columns(f); col++)
      if (!gf_array_equals(gf_frame_column(f, 0, col), gf_frame_column(x->eager, i, col)))
        atomic_fetch_add(&x->bad, 1);
    gf_frame_release(f);
  }
  return GF_OK;
}

static void batches_match_the_written_frame_and_the_eager_reader(void **state) {
  (void)state;
  gf_frame *orig = test_frame();
  char path[64];
  temp_path(path, sizeof path);
  assert_int_equal(gf_write_ipc_file(orig, path, NULL, NULL), GF_OK);
  int nb = gf_frame_num_batches(orig), nc = gf_frame_num_columns(orig);
  bool saw_empty = false;
  for (int b = 0; b < nb; b++) saw_empty |= gf_frame_batch_rows(orig, b) == 0;
  assert_true(saw_empty);
  for (size_t w = 0; w < sizeof worker_counts / sizeof *worker_counts; w++) {
    gf_parallel_options par;
    par_init(&par, worker_counts[w]);
    gf_ipc_read_options o;
    gf_ipc_read_options_init(&o);
    o.parallel = &par;
    gf_error err;
    gf_frame *eager = NULL;
    assert_int_equal(gf_read_ipc_file(path, &o, &eager, &err), GF_OK);
    assert_true(gf_frame_equals(eager, orig));
    /* max_rows: the first rows only, for a file (the batches holding
     * them) and a stream (cut after reading). */
    for (int64_t m = 1; m < gf_frame_num_rows(orig); m += 997) {
      gf_ipc_read_options mo = o;
      mo.max_rows = m;
      gf_frame *head = NULL, *want = NULL;
      assert_int_equal(gf_read_ipc_file(path, &mo, &head, &err), GF_OK);
      assert_int_equal(gf_frame_slice(orig, 0, m, &want, NULL), GF_OK);
      assert_true(gf_frame_equals(head, want));
      gf_frame_release(head);
      gf_frame_release(want);
    }
    gfi_ipc_source *src = NULL;
    assert_int_equal(gfi_ipc_source_open(path, &o, &src, &err), GF_OK);
    assert_int_equal(gfi_ipc_source_num_batches(src), nb);
    assert_int_equal(gfi_ipc_source_num_rows(src), gf_frame_num_rows(orig));
    assert_true(gf_schema_equals(gfi_ipc_source_schema(src), gf_frame_schema(orig)));
    for (int b = 0; b < nb; b++) {
      assert_int_equal(gfi_ipc_source_batch_rows(src, b), gf_frame_batch_rows(orig, b));
      assert_int_equal(gfi_ipc_source_batch_offset(src, b), gf_frame_batch_offset(orig, b));
      gf_frame *f = NULL;
      assert_int_equal(gfi_ipc_source_read_batch(src, b, NULL, 0, &par, &f, &err), GF_OK);
      assert_int_equal(gf_frame_num_batches(f), 1);
      for (int c = 0; c < nc; c++) {
        const gf_array *x = gf_frame_column(f, 0, c);
        assert_true(gf_array_equals(x, gf_frame_column(orig, b, c)));
        assert_true(gf_array_equals(x, gf_frame_column(eager, b, c)));
        assert_true(stats_ok(x));
        assert_true(stats_ok(gf_frame_column(eager, b, c)));
        assert_memory_equal(gf_array_stats(x), gf_array_stats(gf_frame_column(eager, b, c)),
                            sizeof(gf_stats));
      }
      gf_frame_release(f);
      /* A subset in another order: columns 5, 2, 0. */
      const int sel[3] = {5, 2, 0};
      assert_int_equal(gfi_ipc_source_read_batch(src, b, sel, 3, NULL, &f, &err), GF_OK);
      assert_int_equal(gf_frame_num_columns(f), 3);
      for (int k = 0; k < 3; k++) {
        assert_string_equal(gf_schema_field(gf_frame_schema(f), k)->name,
                            gf_schema_field(gf_frame_schema(orig), sel[k])->name);
        assert_true(gf_array_equals(gf_frame_column(f, 0, k), gf_frame_column(orig, b, sel[k])));
      }
      gf_frame_release(f);
    }
    /* Bad arguments. */
    gf_frame *f = NULL;
    const int dup[2] = {1, 1}, out_of_range[1] = {nc};
    assert_int_equal(gfi_ipc_source_read_batch(src, nb, NULL, 0, NULL, &f, &err), GF_EINVAL);
    assert_int_equal(gfi_ipc_source_read_batch(src, 0, dup, 2, NULL, &f, &err), GF_EINVAL);
    assert_int_equal(gfi_ipc_source_read_batch(src, 0, out_of_range, 1, NULL, &f, &err),
                     GF_EINVAL);
    assert_null(f);
    /* Every batch read concurrently (twice each) from the runtime's workers. */
    conc x = {src, eager, 0};
    gf_chunk_spec specs[64];
    for (int i = 0; i < 64; i++) specs[i] = (gf_chunk_spec){i, i + 1, i};
    assert_int_equal(gf_run_chunks(specs, 64, conc_kernel, &x, &par, &err), GF_OK);
    assert_int_equal(atomic_load(&x.bad), 0);
    gfi_ipc_source_close(src);
    /* The source as an ArrowArrayStream, imported back. */
    assert_int_equal(gfi_ipc_source_open(path, &o, &src, &err), GF_OK);
    struct ArrowArrayStream stream;
    assert_int_equal(gfi_ipc_source_export_stream(src, &stream, &err), GF_OK);
    gf_frame *back = NULL;
    assert_int_equal(gf_frame_import_stream(&stream, GF_IMPORT_CHECK_FULL, &back, &err), GF_OK);
    assert_true(gf_frame_equals(back, orig));
    gf_frame_release(back);
    gf_frame_release(eager);
  }
  unlink(path);
  gf_frame_release(orig);
}

/* Where buffer `bi` of record batch `k` lies in an IPC file image. */
static void batch_buffer(const uint8_t *d, size_t len, size_t k, size_t bi, size_t *at,
                         size_t *n) {
  int32_t flen = gfi_fb_load_i32(d + len - 10);
  size_t fpos = len - 10 - (size_t)flen;
  assert_int_equal(gfi_fb_verify(d + fpos, (size_t)flen, &gfi_fb_footer, fpos, NULL), GF_OK);
  fb_table footer = gfi_fb_root(d + fpos, (size_t)flen, &gfi_fb_footer);
  assert_true(k < gfi_fb_vec_len(&footer, FOOTER_BATCHES));
  const uint8_t *blk = gfi_fb_vec_data(&footer, FOOTER_BATCHES) + GFI_BLOCK_SIZE * k;
  size_t off = (size_t)gfi_fb_load_i64(blk);
  size_t meta_len = (size_t)gfi_fb_load_i32(blk + 8);
  assert_int_equal(gfi_fb_load_u32(d + off), 0xFFFFFFFFu);
  size_t mlen = (size_t)gfi_fb_load_i32(d + off + 4);
  fb_table m = gfi_fb_root(d + off + 8, mlen, &gfi_fb_message);
  fb_table rb;
  assert_true(gfi_fb_get_table(&m, MSG_HEADER, &rb));
  assert_true(bi < gfi_fb_vec_len(&rb, RB_BUFFERS));
  const uint8_t *bp = gfi_fb_vec_data(&rb, RB_BUFFERS) + GFI_BUFFER_SIZE * bi;
  *at = off + meta_len + (size_t)gfi_fb_load_i64(bp);
  *n = (size_t)gfi_fb_load_i64(bp + 8);
}

/* Columns: int32, dictionary<utf8>, utf8, no nulls (so the buffers are:
 * 0/1 int32 validity/data, 2/3 codes validity/codes, 4/5/6 utf8). */
static gf_frame *plain_frame(int batches) {
  gf_datatype t[3] = {gf_type(GF_TYPE_INT32), gf_type_dictionary(gf_type(GF_TYPE_UTF8)),
                      gf_type(GF_TYPE_UTF8)};
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, 3, 500 * batches, batches, 0.0, 5, NULL, &f), GF_OK);
  return f;
}

/* Reads `path` eagerly at every worker count: all must fail with one text,
 * returned in `msg`. */
static void eager_error(const char *path, char *msg, size_t n) {
  msg[0] = 0;
  for (size_t w = 0; w < sizeof worker_counts / sizeof *worker_counts; w++) {
    gf_parallel_options par;
    par_init(&par, worker_counts[w]);
    gf_ipc_read_options o;
    gf_ipc_read_options_init(&o);
    o.parallel = &par;
    gf_error err;
    gf_frame *f = NULL;
    assert_int_equal(gf_read_ipc_file(path, &o, &f, &err), GF_EINVAL);
    assert_null(f);
    if (w == 0) snprintf(msg, n, "%s", err.message);
    else assert_string_equal(err.message, msg);
  }
}

static void corrupt_batch_fails_alone_with_the_eager_text(void **state) {
  (void)state;
  const int nb = 5;
  gf_frame *orig = plain_frame(nb);
  assert_int_equal(gf_frame_num_batches(orig), nb);
  size_t len;
  uint8_t *clean = encode_file(orig, &len);
  char path[64];
  temp_path(path, sizeof path);
  for (int k = 0; k < nb; k++) {
    uint8_t *d = malloc(len);
    memcpy(d, clean, len);
    size_t at, n;
    batch_buffer(d, len, (size_t)k, 3, &at, &n); /* the dictionary codes */
    assert_true(n >= 8);
    const int32_t bad_code = 1 << 30;
    memcpy(d + at + 4, &bad_code, 4); /* row 1's code */
    write_bytes(path, d, len);
    char eager[GF_ERROR_MESSAGE_SIZE];
    eager_error(path, eager, sizeof eager);
    char want[64];
    snprintf(want, sizeof want, "record batch %d (of %d", k, nb);
    if (!strstr(eager, want) || !strstr(eager, "byte"))
      fail_msg("batch %d: '%s' names no batch or offset", k, eager);
    gfi_ipc_source *src = NULL;
    gf_error err;
    assert_int_equal(gfi_ipc_source_open(path, NULL, &src, &err), GF_OK);
    for (int w = 0; w < 4; w++) {
      gf_parallel_options par;
      par_init(&par, worker_counts[w]);
      for (int b = 0; b < nb; b++) {
        gf_frame *f = NULL;
        gf_status st = gfi_ipc_source_read_batch(src, b, NULL, 0, &par, &f, &err);
        if (b == k) {
          assert_int_equal(st, GF_EINVAL);
          assert_null(f);
          assert_string_equal(err.message, eager);
          /* Columns other than the corrupt one read. */
          const int sel[2] = {2, 0};
          assert_int_equal(gfi_ipc_source_read_batch(src, b, sel, 2, &par, &f, &err), GF_OK);
          assert_true(gf_array_equals(gf_frame_column(f, 0, 0), gf_frame_column(orig, b, 2)));
          gf_frame_release(f);
        } else {
          assert_int_equal(st, GF_OK);
          for (int c = 0; c < 3; c++)
            assert_true(gf_array_equals(gf_frame_column(f, 0, c), gf_frame_column(orig, b, c)));
          gf_frame_release(f);
        }
      }
    }
    gfi_ipc_source_close(src);
    /* Through the stream: batches before k, then k's error, again. */
    assert_int_equal(gfi_ipc_source_open(path, NULL, &src, &err), GF_OK);
    struct ArrowArrayStream stream;
    assert_int_equal(gfi_ipc_source_export_stream(src, &stream, &err), GF_OK);
    for (int b = 0; b <= k; b++) {
      struct ArrowArray arr;
      int rc = stream.get_next(&stream, &arr);
      if (b < k) {
        assert_int_equal(rc, 0);
        assert_non_null(arr.release);
        assert_int_equal(arr.length, gf_frame_batch_rows(orig, b));
        arr.release(&arr);
      } else {
        assert_int_not_equal(rc, 0);
        assert_string_equal(stream.get_last_error(&stream), eager);
        assert_int_not_equal(stream.get_next(&stream, &arr), 0);
      }
    }
    stream.release(&stream);
    /* A second corrupt batch after k: the eager error stays batch k's. */
    if (k + 2 < nb) {
      batch_buffer(d, len, (size_t)k + 2, 6, &at, &n); /* utf8 bytes */
      assert_true(n >= 1);
      memset(d + at, 0xFF, n); /* invalid UTF-8 */
      write_bytes(path, d, len);
      char again[GF_ERROR_MESSAGE_SIZE];
      eager_error(path, again, sizeof again);
      assert_string_equal(again, eager);
    }
    free(d);
  }
  unlink(path);
  gf_mem_free(clean);
  gf_frame_release(orig);
}

/* Finds the first occurrence of `s` in d[0..n). */
static size_t find_bytes(const uint8_t *d, size_t n, const char *s) {
  size_t k = strlen(s);
  for (size_t i = 0; i + k <= n; i++)
    if (!memcmp(d + i, s, k)) return i;
  fail_msg("'%s' not found", s);
  return 0;
}

static void corrupt_dictionary_and_cancelled_reads(void **state) {
  (void)state;
  gf_datatype t[2] = {gf_type(GF_TYPE_INT32), gf_type_dictionary(gf_type(GF_TYPE_UTF8))};
  const char *vals[6] = {"alpha", "beta", "alpha", "gamma", NULL, "beta"};
  gf_array *cols[2] = {gft_int64_array(t[0], (const int64_t[]){1, 2, 3, 4, 5, 6}, NULL, 6),
                       gft_string_array(t[1], vals, 6)};
  const char *names[2] = {"i", "d"};
  gf_frame *orig = NULL;
  assert_int_equal(gf_frame_from_columns(names, cols, 2, &orig, NULL), GF_OK);
  gf_array_release(cols[0]);
  gf_array_release(cols[1]);
  size_t len;
  uint8_t *d = encode_file(orig, &len);
  char path[64];
  temp_path(path, sizeof path);
  /* A clean file: a cancelled read fails, and then reads normally (the
   * dictionary load is retried, not remembered as failed). */
  write_bytes(path, d, len);
  gfi_ipc_source *src = NULL;
  gf_error err;
  assert_int_equal(gfi_ipc_source_open(path, NULL, &src, &err), GF_OK);
  gf_cancel *tok = NULL;
  assert_int_equal(gf_cancel_new(&tok, NULL), GF_OK);
  gf_cancel_request(tok);
  gf_parallel_options par;
  par_init(&par, 2);
  par.cancel = tok;
  gf_frame *f = NULL;
  assert_int_equal(gfi_ipc_source_read_batch(src, 0, NULL, 0, &par, &f, &err), GF_ECANCELED);
  assert_null(f);
  assert_int_equal(gfi_ipc_source_read_batch(src, 0, NULL, 0, NULL, &f, &err), GF_OK);
  assert_true(gf_frame_equals(f, orig));
  gf_frame_release(f);
  gfi_ipc_source_close(src);
  gf_cancel_free(tok);
  /* Invalid UTF-8 in the dictionary's values. */
  size_t at = find_bytes(d, len, "gamma");
  d[at] = 0xC3;
  d[at + 1] = 0x28;
  write_bytes(path, d, len);
  char eager[GF_ERROR_MESSAGE_SIZE];
  eager_error(path, eager, sizeof eager);
  assert_int_equal(gfi_ipc_source_open(path, NULL, &src, &err), GF_OK);
  for (int rep = 0; rep < 2; rep++) {
    assert_int_equal(gfi_ipc_source_read_batch(src, 0, NULL, 0, NULL, &f, &err), GF_EINVAL);
    assert_string_equal(err.message, eager);
  }
  const int sel[1] = {0};
  assert_int_equal(gfi_ipc_source_read_batch(src, 0, sel, 1, NULL, &f, &err), GF_OK);
  assert_true(gf_array_equals(gf_frame_column(f, 0, 0), gf_frame_column(orig, 0, 0)));
  gf_frame_release(f);
  gfi_ipc_source_close(src);
  /* The metadata alone is still fine. */
  gf_ipc_file_info info;
  gf_ipc_file_info_init(&info);
  assert_int_equal(gf_ipc_read_schema(path, NULL, &info, &err), GF_OK);
  assert_int_equal(info.num_rows, 6);
  assert_int_equal(info.null_counts[1], 1);
  gf_ipc_file_info_release(&info);
  unlink(path);
  gf_mem_free(d);
  gf_frame_release(orig);
}

static void read_schema_counts_rows_and_nulls(void **state) {
  (void)state;
  gf_frame *orig = test_frame();
  int nc = gf_frame_num_columns(orig);
  for (int as_stream = 0; as_stream < 2; as_stream++) {
    char path[64];
    temp_path(path, sizeof path);
    gf_ipc_key_value kv = {"origin", "test"};
    gf_ipc_write_options wo;
    gf_ipc_write_options_init(&wo);
    wo.metadata = &kv;
    wo.num_metadata = 1;
    assert_int_equal(as_stream ? gf_write_ipc_stream(orig, path, &wo, NULL)
                               : gf_write_ipc_file(orig, path, &wo, NULL),
                     GF_OK);
    gf_ipc_metadata *meta = NULL;
    gf_ipc_read_options o;
    gf_ipc_read_options_init(&o);
    o.metadata = &meta;
    gf_ipc_file_info info;
    gf_ipc_file_info_init(&info);
    gf_error err;
    assert_int_equal(gf_ipc_read_schema(path, &o, &info, &err), GF_OK);
    assert_int_equal(info.is_stream, as_stream);
    assert_int_equal(info.num_rows, gf_frame_num_rows(orig));
    assert_int_equal(info.num_batches, gf_frame_num_batches(orig));
    assert_int_equal(info.num_columns, nc);
    assert_true(gf_schema_equals(info.schema, gf_frame_schema(orig)));
    for (int c = 0; c < nc; c++) {
      int64_t nulls = 0; /* naive count */
      for (int b = 0; b < gf_frame_num_batches(orig); b++) {
        const gf_array *a = gf_frame_column(orig, b, c);
        for (int64_t i = 0; i < gf_array_length(a); i++) nulls += gf_array_is_null(a, i);
      }
      assert_int_equal(info.null_counts[c], nulls);
    }
    assert_non_null(meta);
    assert_int_equal(meta->n, 1);
    assert_string_equal(meta->entries[0].value, "test");
    gf_ipc_metadata_free(meta);
    gf_ipc_file_info_release(&info);
    assert_null(info.schema);
    /* Not IPC at all, and a missing file. */
    write_bytes(path, "hello, world, this is not arrow", 31);
    assert_int_not_equal(gf_ipc_read_schema(path, NULL, &info, &err), GF_OK);
    assert_non_null(strstr(err.message, "byte"));
    assert_null(info.schema);
    unlink(path);
    assert_int_equal(gf_ipc_read_schema(path, NULL, &info, &err), GF_EIO);
  }
  gf_frame_release(orig);
}

/* Allocation failures in open + read of every batch + close. */
typedef struct sweep_ctx {
  const char *path;
  const gf_frame *orig;
} sweep_ctx;

static gf_status sweep_once(void *user, const gf_allocator *a) {
  sweep_ctx *s = user;
  gf_parallel_options par;
  par_init(&par, 2);
  par.allocator = a;
  gf_ipc_read_options o;
  gf_ipc_read_options_init(&o);
  o.parallel = &par;
  gfi_ipc_source *src = NULL;
  gf_error err;
  gf_status st = gfi_ipc_source_open(s->path, &o, &src, &err);
  if (st != GF_OK) {
    assert_null(src);
    return st;
  }
  for (int b = 0; b < gfi_ipc_source_num_batches(src) && st == GF_OK; b++) {
    gf_frame *f = NULL;
    st = gfi_ipc_source_read_batch(src, b, NULL, 0, NULL, &f, &err);
    if (st == GF_OK) {
      for (int c = 0; c < gf_frame_num_columns(f); c++)
        assert_true(gf_array_equals(gf_frame_column(f, 0, c), gf_frame_column(s->orig, b, c)));
      gf_frame_release(f);
    } else {
      assert_null(f);
    }
  }
  gfi_ipc_source_close(src);
  return st;
}

static void allocation_failures_leak_nothing(void **state) {
  (void)state;
  gf_frame *orig = test_frame();
  char path[64];
  temp_path(path, sizeof path);
  assert_int_equal(gf_write_ipc_file(orig, path, NULL, NULL), GF_OK);
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  sweep_ctx s = {path, orig};
  gft_sweep_counts counts;
  memset(&counts, 0, sizeof counts);
  gft_alloc_sweep("IPC source open + read_batch", fa, sweep_once, &s, &counts);
  gft_sweep_print("IPC source open + read_batch", &counts);
  gf_failing_allocator_free(fa);
  unlink(path);
  gf_frame_release(orig);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(batches_match_the_written_frame_and_the_eager_reader),
      cmocka_unit_test(corrupt_batch_fails_alone_with_the_eager_text),
      cmocka_unit_test(corrupt_dictionary_and_cancelled_reads),
      cmocka_unit_test(read_schema_counts_rows_and_nulls),
      cmocka_unit_test(allocation_failures_leak_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
