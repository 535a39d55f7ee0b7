/* Hostile IPC input: truncation at every byte, random byte flips, absurd
 * lengths in the metadata. The reader must return an error naming the
 * byte offset, never crash, hang or allocate without bound (ASan/UBSan
 * builds run this too). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gf_test_data.h"
#include "gopherframe.h"
#include "io/flatbuf.h"
#include "io/ipc_internal.h"

/* A small frame of a few types (dictionary and strings included). */
static gf_frame *small_frame(void) {
  gf_datatype t[4] = {gf_type(GF_TYPE_INT32), gf_type(GF_TYPE_UTF8),
                      gf_type_dictionary(gf_type(GF_TYPE_UTF8)),
                      gf_type(GF_TYPE_BOOL)};
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, 4, 20, 2, 0.2, 77, NULL, &f), GF_OK);
  return f;
}

static void *encode(gf_frame *f, bool as_file, gf_ipc_compression c, size_t *len) {
  gf_ipc_write_options wo;
  gf_ipc_write_options_init(&wo);
  wo.compression = c;
  void *d = NULL;
  assert_int_equal(gf_write_ipc_memory(f, as_file, &wo, &d, len, NULL), GF_OK);
  return d;
}

static gf_status decode(const void *d, size_t n, bool as_file, gf_error *err) {
  gf_frame *g = NULL;
  gf_status st = as_file ? gf_read_ipc_file_buffer(d, n, NULL, &g, err)
                         : gf_read_ipc_stream_buffer(d, n, NULL, &g, err);
  if (st == GF_OK) {
    assert_non_null(g);
    gf_frame_release(g);
  } else {
    assert_null(g);
  }
  return st;
}

static void truncation_at_every_byte_fails_with_an_offset(void **state) {
  (void)state;
  gf_frame *f = small_frame();
  for (int as_file = 0; as_file < 2; as_file++) {
    size_t len;
    uint8_t *d = encode(f, as_file, GF_IPC_COMPRESSION_NONE, &len);
    int ok = 0;
    for (size_t n = 0; n < len; n++) {
      gf_error err;
      gf_error_clear(&err);
      gf_status st = decode(d, n, as_file, &err);
      if (st == GF_OK) {
        /* Only a stream cut exactly between two messages is still valid. */
        assert_false(as_file);
        ok++;
        continue;
      }
      if (st != GF_EINVAL) fail_msg("cut at %zu: %s: %s", n, gf_status_name(st), err.message);
      if (!strstr(err.message, "byte")) fail_msg("cut at %zu: no offset in '%s'", n, err.message);
    }
    if (!as_file) assert_true(ok > 0 && ok < 8);
    assert_int_equal(decode(d, len, as_file, NULL), GF_OK);
    gf_mem_free(d);
  }
  gf_frame_release(f);
}

static void random_byte_flips_never_crash(void **state) {
  (void)state;
  gf_frame *f = small_frame();
  uint64_t rng = 12345;
  for (int form = 0; form < 4; form++) {
    bool as_file = form & 1;
    gf_ipc_compression c = GF_IPC_COMPRESSION_NONE;
    if (form >= 2) {
      c = GF_IPC_COMPRESSION_LZ4_FRAME;
      if (!gf_ipc_compression_available(c)) continue;
    }
    size_t len;
    uint8_t *d = encode(f, as_file, c, &len);
    uint8_t *copy = malloc(len);
    int errors = 0;
    for (int iter = 0; iter < 3000; iter++) {
      memcpy(copy, d, len);
      int flips = 1 + (int)(gft_rand_next(&rng) % 4);
      for (int k = 0; k < flips; k++) {
        size_t at = (size_t)(gft_rand_next(&rng) % len);
        copy[at] ^= (uint8_t)(1u << (gft_rand_next(&rng) % 8));
      }
      gf_error err;
      gf_error_clear(&err);
      gf_status st = decode(copy, len, as_file, &err);
      if (st == GF_OK) continue;
      errors++;
      if (st != GF_EINVAL && st != GF_ENOTSUP)
        fail_msg("iteration %d: %s: %s", iter, gf_status_name(st), err.message);
      if (st == GF_EINVAL && !strstr(err.message, "byte"))
        fail_msg("iteration %d: no offset in '%s'", iter, err.message);
    }
    assert_true(errors > 100);
    free(copy);
    gf_mem_free(d);
  }
  gf_frame_release(f);
}

/* Locates the first RecordBatch message of a stream and its metadata. */
static fb_table first_record_batch(uint8_t *d, size_t len, size_t *meta_at) {
  size_t pos = 0;
  for (;;) {
    assert_true(pos + 8 <= len);
    uint32_t mlen = gfi_fb_load_u32(d + pos + 4);
    assert_int_equal(gfi_fb_verify(d + pos + 8, mlen, &gfi_fb_message, pos + 8, NULL), GF_OK);
    fb_table m = gfi_fb_root(d + pos + 8, mlen, &gfi_fb_message);
    fb_table h;
    assert_true(gfi_fb_get_table(&m, MSG_HEADER, &h));
    if (gfi_fb_get_int(&m, MSG_HEADER_TYPE, 0) == MSG_RECORD_BATCH) {
      *meta_at = pos + 8;
      return h;
    }
    pos += 8 + mlen + (size_t)gfi_fb_get_int(&m, MSG_BODY_LENGTH, 0);
  }
}

static void put_i64(uint8_t *p, int64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

static void expect_einval(uint8_t *d, size_t len, const char *what) {
  gf_error err;
  gf_error_clear(&err);
  gf_status st = decode(d, len, false, &err);
  if (st != GF_EINVAL || !strstr(err.message, "byte"))
    fail_msg("%s: %s: %s", what, gf_status_name(st), err.message);
}

static void absurd_lengths_are_rejected(void **state) {
  (void)state;
  gf_frame *f = small_frame();
  size_t len, meta;
  uint8_t *d = encode(f, false, GF_IPC_COMPRESSION_NONE, &len);
  uint8_t *c = malloc(len);
  fb_table rb = first_record_batch(d, len, &meta);
  uint8_t *bufs = (uint8_t *)gfi_fb_vec_data(&rb, RB_BUFFERS);
  uint8_t *nodes = (uint8_t *)gfi_fb_vec_data(&rb, RB_NODES);
  size_t boff = (size_t)(bufs - d), noff = (size_t)(nodes - d);
  const int64_t huge[] = {INT64_MAX, INT64_MAX / 2, (int64_t)1 << 40, -1, -5};
  for (size_t k = 0; k < sizeof huge / sizeof huge[0]; k++) {
    /* A buffer's length, a buffer's offset. */
    for (int field = 0; field < 2; field++) {
      memcpy(c, d, len);
      put_i64(c + boff + 16 + 8 * field, huge[k]);
      expect_einval(c, len, "buffer");
    }
    /* A node's length and null count. */
    for (int field = 0; field < 2; field++) {
      memcpy(c, d, len);
      put_i64(c + noff + 8 * field, huge[k]);
      gf_error err;
      gf_status st = decode(c, len, false, &err);
      assert_int_equal(st, GF_EINVAL);
    }
  }
  /* A metadata length beyond the input, a negative one. */
  memcpy(c, d, len);
  c[4] = 0xFF, c[5] = 0xFF, c[6] = 0xFF, c[7] = 0x7F;
  expect_einval(c, len, "metadata length");
  memcpy(c, d, len);
  c[7] = 0x80;
  expect_einval(c, len, "negative metadata length");
  /* The vector of buffers claiming 2^31 entries. */
  memcpy(c, d, len);
  c[boff - 4] = 0, c[boff - 3] = 0, c[boff - 2] = 0, c[boff - 1] = 0x80;
  expect_einval(c, len, "vector length");
  free(c);
  gf_mem_free(d);
  gf_frame_release(f);
}

static void compressed_buffer_claiming_huge_size_is_rejected(void **state) {
  (void)state;
  if (!gf_ipc_compression_available(GF_IPC_COMPRESSION_ZSTD)) {
    /* Without the codec the reader says so instead. */
    gf_frame *f = small_frame();
    gf_ipc_write_options wo;
    gf_ipc_write_options_init(&wo);
    wo.compression = GF_IPC_COMPRESSION_ZSTD;
    void *d;
    size_t n;
    assert_int_equal(gf_write_ipc_memory(f, false, &wo, &d, &n, NULL), GF_ENOTSUP);
    gf_frame_release(f);
    return;
  }
  gf_datatype t[1] = {gf_type(GF_TYPE_INT64)};
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, 1, 4096, 1, 0.0, 3, NULL, &f), GF_OK);
  size_t len, meta;
  uint8_t *d = encode(f, false, GF_IPC_COMPRESSION_ZSTD, &len);
  fb_table rb = first_record_batch(d, len, &meta);
  const uint8_t *bufs = gfi_fb_vec_data(&rb, RB_BUFFERS);
  /* Buffer 1 is the int64 data: patch its uncompressed-length prefix. */
  size_t body = 0;
  {
    size_t pos = meta - 8;
    uint32_t mlen = gfi_fb_load_u32(d + pos + 4);
    body = pos + 8 + mlen;
  }
  size_t at = body + (size_t)gfi_fb_load_i64(bufs + 16);
  put_i64(d + at, (int64_t)1 << 50);
  expect_einval(d, len, "huge uncompressed size");
  put_i64(d + at, 4096 * 8 - 1);
  expect_einval(d, len, "wrong uncompressed size");
  gf_mem_free(d);
  gf_frame_release(f);
}

static void garbage_and_empty_inputs_fail(void **state) {
  (void)state;
  gf_error err;
  assert_int_equal(decode("", 0, true, &err), GF_EINVAL);
  assert_int_equal(decode("", 0, false, &err), GF_EINVAL);
  assert_int_equal(decode("ARROW1\0\0ARROW1", 14, true, &err), GF_EINVAL);
  const uint8_t junk[16] = {0xFF, 0xFF, 0xFF, 0xFF, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
  assert_int_equal(decode(junk, sizeof junk, false, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "byte"));
  gf_frame *g = NULL;
  assert_int_equal(gf_read_ipc_file("/nonexistent/file.arrow", NULL, &g, &err), GF_EIO);
}

/* A flatbuffer whose root table's vtable points at itself in a loop of
 * nested tables must stop at the depth limit, not recurse forever. */
static void self_referencing_schema_is_bounded(void **state) {
  (void)state;
  gf_frame *f = small_frame();
  size_t len;
  uint8_t *d = encode(f, false, GF_IPC_COMPRESSION_NONE, &len);
  /* Point every uoffset-looking field of the schema message at offset 4
   * candidates: any result is fine as long as it returns. */
  uint32_t mlen = gfi_fb_load_u32(d + 4);
  for (uint32_t k = 8; k + 4 <= 8 + mlen; k += 4) {
    uint8_t *c = malloc(len);
    memcpy(c, d, len);
    c[k] = 0, c[k + 1] = 0, c[k + 2] = 0, c[k + 3] = 0;
    gf_error err;
    gf_status st = decode(c, len, false, &err);
    assert_true(st == GF_OK || st == GF_EINVAL || st == GF_ENOTSUP);
    free(c);
  }
  gf_mem_free(d);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(truncation_at_every_byte_fails_with_an_offset),
      cmocka_unit_test(random_byte_flips_never_crash),
      cmocka_unit_test(absurd_lengths_are_rejected),
      cmocka_unit_test(compressed_buffer_claiming_huge_size_is_rejected),
      cmocka_unit_test(garbage_and_empty_inputs_fail),
      cmocka_unit_test(self_referencing_schema_is_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
