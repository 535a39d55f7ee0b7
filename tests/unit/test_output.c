/* include/gopherframe/output.h: ordered parallel text against a naive
 * sequential loop at several worker counts and chunk sizes; output files
 * replaced only on commit. */
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

/* Row r's text: "r,<r*r mod 1000>\n", growing with r so chunks differ. */
static int row_text(int64_t r, char *p) {
  return sprintf(p, "%lld,%lld\n", (long long)r, (long long)(r * r % 1000));
}

static gf_status rows_kernel(void *user, int64_t start, int64_t end, gf_text_buffer *out,
                             gf_task_ctx *ctx) {
  (void)user;
  for (int64_t r = start; r < end; r++) {
    char *p = gf_text_buffer_reserve(out, 48, ctx->err);
    if (!p) return GF_ENOMEM;
    gf_text_buffer_advance(out, (size_t)row_text(r, p));
  }
  return GF_OK;
}

typedef struct text {
  char *data;
  size_t len, cap;
} text;

static gf_status collect(void *sink, const char *data, size_t len, gf_error *err) {
  (void)err;
  text *t = sink;
  if (t->len + len > t->cap) {
    t->cap = (t->len + len) * 2;
    t->data = realloc(t->data, t->cap);
    assert_non_null(t->data);
  }
  memcpy(t->data + t->len, data, len);
  t->len += len;
  return GF_OK;
}

static void rows_arrive_in_order_at_any_worker_count(void **state) {
  (void)state;
  const int64_t rows = 250001;
  text want = {NULL, 0, 0};
  char line[48];
  for (int64_t r = 0; r < rows; r++) collect(&want, line, (size_t)row_text(r, line), NULL);
  static const int64_t chunk_rows[] = {0, 1000, 65536, 1 << 20};
  for (int w = 1; w <= 4; w++)
    for (size_t k = 0; k < sizeof chunk_rows / sizeof chunk_rows[0]; k++) {
      gf_parallel_options o;
      gf_parallel_options_init(&o);
      o.num_workers = w;
      o.chunk_rows = chunk_rows[k];
      o.min_parallel_rows = 0;
      text got = {NULL, 0, 0};
      gf_error err;
      assert_int_equal(gf_format_rows_ordered(rows, 12, rows_kernel, NULL, collect, &got, &o, &err),
                       GF_OK);
      assert_int_equal(got.len, want.len);
      assert_memory_equal(got.data, want.data, want.len);
      free(got.data);
    }
  free(want.data);
  assert_int_equal(gf_format_rows_ordered(0, 12, rows_kernel, NULL, collect, &want, NULL, NULL),
                   GF_OK);
  assert_int_equal(gf_format_rows_ordered(10, 12, NULL, NULL, collect, &want, NULL, NULL),
                   GF_EINVAL);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  static char buf[256];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static void output_file_replaces_only_on_commit(void **state) {
  (void)state;
  char dir[] = "/tmp/gf-test-output.XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof path, "%s/out.txt", dir);
  gf_output_file *f = NULL;
  assert_int_equal(gf_output_file_open(path, NULL, &f, NULL), GF_OK);
  assert_int_equal(gf_output_file_write(f, "first\n", 6, NULL), GF_OK);
  assert_null(slurp(path)); /* nothing under the target name yet */
  assert_int_equal(gf_output_file_commit(f, NULL), GF_OK);
  assert_string_equal(slurp(path), "first\n");

  assert_int_equal(gf_output_file_open(path, NULL, &f, NULL), GF_OK);
  assert_int_equal(gf_output_file_write(f, "second\n", 7, NULL), GF_OK);
  gf_output_file_abort(f);
  assert_string_equal(slurp(path), "first\n");
  gf_output_file_abort(NULL);

  gf_error err;
  char bad[160];
  snprintf(bad, sizeof bad, "%s/no/such/dir/x.txt", dir);
  f = NULL;
  assert_int_equal(gf_output_file_open(bad, NULL, &f, &err), GF_EIO);
  assert_null(f);
  assert_non_null(strstr(err.message, "no/such/dir"));
  unlink(path);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rows_arrive_in_order_at_any_worker_count),
      cmocka_unit_test(output_file_replaces_only_on_commit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
