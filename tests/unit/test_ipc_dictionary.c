/* Dictionary batches in IPC streams, built by hand with the internal
 * flatbuffer builder: delta batches extend the dictionary, a later
 * non-delta batch replaces it for the batches that follow, and the legacy
 * framing without the 0xFFFFFFFF continuation marker is accepted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gopherframe.h"
#include "io/flatbuf.h"
#include "io/ipc_internal.h"

typedef struct bytes {
  uint8_t *d;
  size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
  if (b->cap - b->n < n) {
    b->cap = (b->cap + n) * 2;
    b->d = realloc(b->d, b->cap);
  }
  if (n) memcpy(b->d + b->n, p, n);
  b->n += n;
}

static void put_u32(bytes *b, uint32_t v) { put(b, &v, 4); }
static void pad8(bytes *b) {
  static const uint8_t z[8];
  put(b, z, (8 - b->n % 8) % 8);
}

/* Appends one body buffer (padded to 8) and records its (offset, length). */
static void body_buf(bytes *body, int64_t *descr, int *nd, const void *p, size_t n) {
  descr[2 * *nd] = (int64_t)body->n;
  descr[2 * *nd + 1] = (int64_t)n;
  (*nd)++;
  put(body, p, n);
  pad8(body);
}

/* RecordBatch of one non-null column: utf8 strings or int32 codes. */
static fbb_node *batch(fbb *b, bytes *body, const char *const *strs,
                       const int32_t *codes, int n) {
  int64_t descr[6], node[2] = {n, 0};
  int nd = 0;
  body_buf(body, descr, &nd, NULL, 0); /* no validity */
  if (strs) {
    int32_t offs[16] = {0};
    bytes data = {0};
    for (int i = 0; i < n; i++) {
      put(&data, strs[i], strlen(strs[i]));
      offs[i + 1] = (int32_t)data.n;
    }
    body_buf(body, descr, &nd, offs, (size_t)(n + 1) * 4);
    body_buf(body, descr, &nd, data.d, data.n);
    free(data.d);
  } else {
    body_buf(body, descr, &nd, codes, (size_t)n * 4);
  }
  fbb_node *rb = gfi_fbb_table(b, &gfi_fb_record_batch);
  gfi_fbb_set_int(rb, RB_LENGTH, n);
  gfi_fbb_set_child(rb, RB_NODES, gfi_fbb_vec_raw(b, node, 1, 16, 8));
  gfi_fbb_set_child(rb, RB_BUFFERS, gfi_fbb_vec_raw(b, descr, (size_t)nd, 16, 8));
  return rb;
}

/* Frames one message (with or without the continuation marker). */
static void message(bytes *out, int type, fbb *b, fbb_node *header,
                    const bytes *body, bool legacy) {
  fbb_node *m = gfi_fbb_table(b, &gfi_fb_message);
  gfi_fbb_set_int(m, MSG_VERSION, GFI_IPC_METADATA_V5);
  gfi_fbb_set_int(m, MSG_HEADER_TYPE, type);
  gfi_fbb_set_child(m, MSG_HEADER, header);
  gfi_fbb_set_int(m, MSG_BODY_LENGTH, body ? (int64_t)body->n : 0);
  uint8_t *meta;
  size_t len, cap;
  assert_int_equal(gfi_fbb_finish(b, m, &meta, &len, &cap, NULL), GF_OK);
  if (!legacy) put_u32(out, 0xFFFFFFFFu);
  put_u32(out, (uint32_t)len);
  put(out, meta, len);
  gf_free(NULL, meta, cap, 8);
  if (body) put(out, body->d, body->n);
  gfi_fbb_free(b);
}

static void dict_msg(bytes *out, const char *const *strs, int n, bool delta,
                     bool legacy) {
  fbb *b = gfi_fbb_new(NULL);
  bytes body = {0};
  fbb_node *db = gfi_fbb_table(b, &gfi_fb_dictionary_batch);
  gfi_fbb_set_int(db, DB_ID, 7);
  gfi_fbb_set_child(db, DB_DATA, batch(b, &body, strs, NULL, n));
  gfi_fbb_set_int(db, DB_IS_DELTA, delta);
  message(out, MSG_DICTIONARY_BATCH, b, db, &body, legacy);
  free(body.d);
}

static void codes_msg(bytes *out, const int32_t *codes, int n, bool legacy) {
  fbb *b = gfi_fbb_new(NULL);
  bytes body = {0};
  fbb_node *rb = batch(b, &body, NULL, codes, n);
  message(out, MSG_RECORD_BATCH, b, rb, &body, legacy);
  free(body.d);
}

/* Schema: one field "s", utf8 values dictionary-encoded (id 7, int32). */
static void schema_msg(bytes *out, bool legacy) {
  fbb *b = gfi_fbb_new(NULL);
  fbb_node *f = gfi_fbb_table(b, &gfi_fb_field);
  gfi_fbb_set_child(f, FIELD_NAME, gfi_fbb_string(b, "s", 1));
  gfi_fbb_set_int(f, FIELD_NULLABLE, 1);
  gfi_ipc_encode_type(b, f, gf_type(GF_TYPE_UTF8));
  fbb_node *de = gfi_fbb_table(b, &gfi_fb_dictionary_encoding);
  gfi_fbb_set_int(de, DICTENC_ID, 7);
  gfi_fbb_set_child(f, FIELD_DICTIONARY, de);
  fbb_node *s = gfi_fbb_table(b, &gfi_fb_schema);
  gfi_fbb_set_child(s, SCHEMA_FIELDS, gfi_fbb_vec_tables(b, &f, 1));
  message(out, MSG_SCHEMA, b, s, NULL, legacy);
}

static void check_values(gf_frame *f, const char *const *want, int n) {
  assert_int_equal(gf_frame_num_rows(f), n);
  int row = 0;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *a = gf_frame_column(f, b, 0);
    for (int64_t i = 0; i < gf_array_length(a); i++, row++) {
      int64_t len;
      const char *p = gf_array_get_bytes(a, i, &len);
      if ((size_t)len != strlen(want[row]) || memcmp(p, want[row], (size_t)len))
        fail_msg("row %d: '%.*s' != '%s'", row, (int)len, p, want[row]);
    }
  }
}

static void build_stream(bytes *out, bool legacy) {
  const char *d1[] = {"a", "b"}, *d2[] = {"c"}, *d3[] = {"x", "y"};
  const int32_t c1[] = {0, 1, 1}, c2[] = {2, 0}, c3[] = {1, 0};
  schema_msg(out, legacy);
  dict_msg(out, d1, 2, false, legacy);
  codes_msg(out, c1, 3, legacy);
  dict_msg(out, d2, 1, true, legacy); /* delta: dictionary is a, b, c */
  codes_msg(out, c2, 2, legacy);
  dict_msg(out, d3, 2, false, legacy); /* replacement: x, y */
  codes_msg(out, c3, 2, legacy);
  if (!legacy) put_u32(out, 0xFFFFFFFFu);
  put_u32(out, 0);
}

static void delta_and_replacement_dictionaries(void **state) {
  (void)state;
  const char *want[] = {"a", "b", "b", "c", "a", "y", "x"};
  for (int legacy = 0; legacy < 2; legacy++) {
    bytes s = {0};
    build_stream(&s, legacy);
    gf_frame *f = NULL;
    gf_error err;
    gf_status st = gf_read_ipc_stream_buffer(s.d, s.n, NULL, &f, &err);
    if (st != GF_OK) fail_msg("legacy=%d: %s", legacy, err.message);
    assert_int_equal(gf_frame_num_batches(f), 3);
    assert_int_equal(gf_schema_field(gf_frame_schema(f), 0)->type.id, GF_TYPE_DICTIONARY);
    check_values(f, want, 7);
    /* The frame has one dictionary for all batches and round-trips. */
    void *mem;
    size_t len;
    assert_int_equal(gf_write_ipc_memory(f, true, NULL, &mem, &len, NULL), GF_OK);
    gf_frame *g = NULL;
    assert_int_equal(gf_read_ipc_file_buffer(mem, len, NULL, &g, NULL), GF_OK);
    assert_true(gf_frame_equals(f, g));
    gf_frame_release(g);
    gf_mem_free(mem);
    gf_frame_release(f);
    free(s.d);
  }
}

static void record_batch_before_its_dictionary_fails(void **state) {
  (void)state;
  bytes s = {0};
  const int32_t c1[] = {0};
  schema_msg(&s, false);
  codes_msg(&s, c1, 1, false);
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(gf_read_ipc_stream_buffer(s.d, s.n, NULL, &f, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "never sent"));
  free(s.d);
}

static void code_outside_the_dictionary_fails(void **state) {
  (void)state;
  bytes s = {0};
  const char *d1[] = {"a"};
  const int32_t c1[] = {0, 5};
  schema_msg(&s, false);
  dict_msg(&s, d1, 1, false, false);
  codes_msg(&s, c1, 2, false);
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(gf_read_ipc_stream_buffer(s.d, s.n, NULL, &f, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "byte"));
  free(s.d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(delta_and_replacement_dictionaries),
      cmocka_unit_test(record_batch_before_its_dictionary_fails),
      cmocka_unit_test(code_outside_the_dictionary_fails),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
