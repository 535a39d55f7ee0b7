/* Arrow IPC write -> read round trips: every supported type, files and
 * streams, uncompressed and compressed, paths, fds and memory; custom
 * metadata; slices; zero-copy mmap reads; allocation-failure sweeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/array_internal.h"
#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"
#include "gopherframe/testing.h"

static gf_frame *all_types_frame(int64_t rows, int batches, double nulls,
                                 uint64_t seed) {
  gf_datatype types[GFT_MAX_TYPES];
  int n = gft_all_types(types, GFT_MAX_TYPES);
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(types, n, rows, batches, nulls, seed, NULL, &f), GF_OK);
  return f;
}

static char *temp_path(const char *name) {
  static char buf[4][256];
  static int k;
  char *p = buf[k++ & 3];
  const char *dir = getenv("TMPDIR");
  snprintf(p, 256, "%s/gf_ipc_%d_%s", dir ? dir : "/tmp", (int)getpid(), name);
  return p;
}

/* Writes f to memory in the given form, reads it back, compares. */
static void roundtrip_memory(gf_frame *f, bool as_file, gf_ipc_compression c,
                             gf_ipc_validation v) {
  gf_ipc_write_options wo;
  gf_ipc_write_options_init(&wo);
  wo.compression = c;
  void *data = NULL;
  size_t len = 0;
  gf_error err;
  gf_status st = gf_write_ipc_memory(f, as_file, &wo, &data, &len, &err);
  if (st != GF_OK) fail_msg("write: %s", err.message);
  /* Streams are 8-byte framed; files add the 10-byte trailer. */
  assert_int_equal(len % 8, as_file ? 2 : 0);
  gf_ipc_read_options ro;
  gf_ipc_read_options_init(&ro);
  ro.validation = v;
  gf_frame *g = NULL;
  st = as_file ? gf_read_ipc_file_buffer(data, len, &ro, &g, &err)
               : gf_read_ipc_stream_buffer(data, len, &ro, &g, &err);
  if (st != GF_OK) fail_msg("read: %s", err.message);
  gf_mem_free(data);
  assert_true(gf_schema_equals(gf_frame_schema(f), gf_frame_schema(g)));
  assert_int_equal(gf_frame_num_batches(g), gf_frame_num_batches(f));
  assert_int_equal(gf_frame_num_rows(g), gf_frame_num_rows(f));
  assert_true(gf_frame_equals(f, g));
  gf_frame_release(g);
}

static void every_type_roundtrips_uncompressed(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 3; seed++) {
    gf_frame *f = all_types_frame(300, 3, seed == 1 ? 0.0 : 0.2, seed);
    for (int as_file = 0; as_file < 2; as_file++)
      for (int v = 0; v < 3; v++)
        roundtrip_memory(f, as_file, GF_IPC_COMPRESSION_NONE, (gf_ipc_validation)v);
    gf_frame_release(f);
  }
}

static void every_type_roundtrips_compressed(void **state) {
  (void)state;
  gf_frame *f = all_types_frame(5000, 2, 0.1, 42);
  for (int c = 1; c <= 2; c++) {
    if (!gf_ipc_compression_available((gf_ipc_compression)c)) {
      gf_ipc_write_options wo;
      gf_ipc_write_options_init(&wo);
      wo.compression = (gf_ipc_compression)c;
      void *d = NULL;
      size_t n = 0;
      gf_error err;
      assert_int_equal(gf_write_ipc_memory(f, true, &wo, &d, &n, &err), GF_ENOTSUP);
      assert_non_null(strstr(err.message, "built without"));
      continue;
    }
    for (int as_file = 0; as_file < 2; as_file++)
      roundtrip_memory(f, as_file, (gf_ipc_compression)c, GF_IPC_VALIDATE_FULL);
  }
  gf_frame_release(f);
}

static void empty_frames_roundtrip(void **state) {
  (void)state;
  gf_frame *f = all_types_frame(0, 1, 0.0, 7);
  roundtrip_memory(f, true, GF_IPC_COMPRESSION_NONE, GF_IPC_VALIDATE_FULL);
  roundtrip_memory(f, false, GF_IPC_COMPRESSION_NONE, GF_IPC_VALIDATE_FULL);
  gf_frame_release(f);
  /* A frame with no batches at all (dictionary columns included). */
  gf_frame *g = all_types_frame(10, 1, 0.0, 7);
  gf_frame *none = NULL;
  assert_int_equal(gf_frame_new(gf_frame_schema(g), NULL, 0, NULL, &none, NULL), GF_OK);
  roundtrip_memory(none, true, GF_IPC_COMPRESSION_NONE, GF_IPC_VALIDATE_FULL);
  roundtrip_memory(none, false, GF_IPC_COMPRESSION_NONE, GF_IPC_VALIDATE_FULL);
  gf_frame_release(none);
  gf_frame_release(g);
}

static void slices_at_odd_offsets_roundtrip(void **state) {
  (void)state;
  gf_frame *f = all_types_frame(200, 1, 0.3, 11);
  gf_frame *s = NULL;
  assert_int_equal(gf_frame_slice(f, 13, 101, &s, NULL), GF_OK);
  roundtrip_memory(s, true, GF_IPC_COMPRESSION_NONE, GF_IPC_VALIDATE_FULL);
  if (gf_ipc_compression_available(GF_IPC_COMPRESSION_ZSTD))
    roundtrip_memory(s, false, GF_IPC_COMPRESSION_ZSTD, GF_IPC_VALIDATE_FULL);
  gf_frame_release(s);
  gf_frame_release(f);
}

static void file_on_disk_is_mapped_zero_copy(void **state) {
  (void)state;
  gf_datatype t[2] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_UTF8)};
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, 2, 1000, 2, 0.1, 5, NULL, &f), GF_OK);
  const char *path = temp_path("zc.arrow");
  gf_error err;
  assert_int_equal(gf_write_ipc_file(f, path, NULL, &err), GF_OK);
  gf_frame *g = NULL;
  assert_int_equal(gf_read_ipc_file(path, NULL, &g, &err), GF_OK);
  assert_true(gf_frame_equals(f, g));
  /* The int64 data lies in the file's mapping, not in a heap copy: its
   * bytes sit 64-byte aligned like every body buffer we write, and the
   * frame keeps working after the file is deleted. */
  const gf_array *c = gf_frame_column(g, 0, 0);
  assert_int_equal((uintptr_t)gf_array_buffer(c, 1) % 64, 0);
  unlink(path);
  assert_true(gf_frame_equals(f, g));
  gf_frame_release(g);
  gf_frame_release(f);
}

static void metadata_only_open_does_not_read_the_body(void **state) {
  (void)state;
  gf_datatype t[1] = {gf_type(GF_TYPE_UTF8)};
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, 1, 64, 1, 0.0, 9, NULL, &f), GF_OK);
  void *data;
  size_t len;
  assert_int_equal(gf_write_ipc_memory(f, true, NULL, &data, &len, NULL), GF_OK);
  /* Scribble invalid UTF-8 over the string bytes: only a reader that
   * looks at the body can notice. The utf8 data buffer is the last body
   * buffer of the only batch; find a byte of it by value. */
  const gf_array *col = gf_frame_column(f, 0, 0);
  int64_t n0;
  const char *v0 = gf_array_get_bytes(col, 5, &n0);
  assert_true(n0 > 0);
  uint8_t *p = memmem(data, len, v0, (size_t)n0);
  assert_non_null(p);
  p[0] = 0xFF;
  gf_ipc_read_options ro;
  gf_ipc_read_options_init(&ro);
  gf_frame *g = NULL;
  gf_error err;
  assert_int_equal(gf_read_ipc_file_buffer(data, len, &ro, &g, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "UTF-8"));
  ro.validation = GF_IPC_VALIDATE_METADATA_ONLY;
  assert_int_equal(gf_read_ipc_file_buffer(data, len, &ro, &g, &err), GF_OK);
  assert_int_equal(gf_frame_num_rows(g), 64);
  gf_frame_release(g);
  gf_mem_free(data);
  gf_frame_release(f);
}

static void streams_through_paths_and_fds(void **state) {
  (void)state;
  gf_frame *f = all_types_frame(500, 4, 0.1, 3);
  const char *path = temp_path("s.arrows");
  gf_error err;
  assert_int_equal(gf_write_ipc_stream(f, path, NULL, &err), GF_OK);
  gf_frame *g = NULL;
  assert_int_equal(gf_read_ipc_stream(path, NULL, &g, &err), GF_OK);
  assert_true(gf_frame_equals(f, g));
  gf_frame_release(g);
  assert_int_equal(gf_read_ipc(path, NULL, &g, &err), GF_OK);
  assert_true(gf_frame_equals(f, g));
  gf_frame_release(g);
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(gf_read_ipc_stream_fd(fd, NULL, &g, &err), GF_OK);
  close(fd);
  assert_true(gf_frame_equals(f, g));
  gf_frame_release(g);
  /* Written to an fd. */
  fd = open(path, O_WRONLY | O_TRUNC);
  assert_true(fd >= 0);
  assert_int_equal(gf_write_ipc_stream_fd(f, fd, NULL, &err), GF_OK);
  close(fd);
  assert_int_equal(gf_read_ipc_stream(path, NULL, &g, &err), GF_OK);
  assert_true(gf_frame_equals(f, g));
  gf_frame_release(g);
  /* A file read through the auto-detecting reader. */
  assert_int_equal(gf_write_ipc_file(f, path, NULL, &err), GF_OK);
  assert_int_equal(gf_read_ipc(path, NULL, &g, &err), GF_OK);
  assert_true(gf_frame_equals(f, g));
  gf_frame_release(g);
  unlink(path);
  gf_frame_release(f);
}

static void custom_metadata_roundtrips(void **state) {
  (void)state;
  gf_frame *f = all_types_frame(10, 1, 0.0, 1);
  gf_ipc_key_value kv[2] = {{"origin", "gopherframe"}, {"empty", ""}};
  gf_ipc_write_options wo;
  gf_ipc_write_options_init(&wo);
  wo.metadata = kv;
  wo.num_metadata = 2;
  for (int as_file = 0; as_file < 2; as_file++) {
    void *data;
    size_t len;
    assert_int_equal(gf_write_ipc_memory(f, as_file, &wo, &data, &len, NULL), GF_OK);
    gf_ipc_metadata *m = NULL;
    gf_ipc_read_options ro;
    gf_ipc_read_options_init(&ro);
    ro.metadata = &m;
    gf_frame *g = NULL;
    gf_status st = as_file ? gf_read_ipc_file_buffer(data, len, &ro, &g, NULL)
                           : gf_read_ipc_stream_buffer(data, len, &ro, &g, NULL);
    assert_int_equal(st, GF_OK);
    assert_non_null(m);
    assert_int_equal(m->n, 2);
    assert_string_equal(m->entries[0].key, "origin");
    assert_string_equal(m->entries[0].value, "gopherframe");
    assert_string_equal(m->entries[1].key, "empty");
    assert_string_equal(m->entries[1].value, "");
    gf_ipc_metadata_free(m);
    gf_frame_release(g);
    gf_mem_free(data);
  }
  gf_frame_release(f);
}

static void failed_write_leaves_no_file(void **state) {
  (void)state;
  gf_frame *f = all_types_frame(10, 1, 0.0, 1);
  gf_error err;
  assert_int_not_equal(gf_write_ipc_file(f, "/nonexistent-dir/x.arrow", NULL, &err), GF_OK);
  /* Unsupported compression value: nothing is created. */
  const char *path = temp_path("nofile.arrow");
  unlink(path);
  gf_ipc_write_options wo;
  gf_ipc_write_options_init(&wo);
  wo.compression = (gf_ipc_compression)99;
  assert_int_equal(gf_write_ipc_file(f, path, &wo, &err), GF_EINVAL);
  struct stat sb;
  assert_int_not_equal(stat(path, &sb), 0);
  gf_frame_release(f);
}

/* One IPC file or stream write to `path` under a failing allocator
 * (gft_alloc_sweep callback). */
typedef struct write_sweep {
  const gf_frame *f;
  const char *path;
  bool stream;
  gf_ipc_write_options wo;
  gf_parallel_options po;
} write_sweep;

static gf_status write_once(void *user, const gf_allocator *a) {
  write_sweep *s = user;
  s->po.allocator = a;
  s->wo.parallel = &s->po;
  gf_error err;
  gf_status st = s->stream ? gf_write_ipc_stream(s->f, s->path, &s->wo, &err)
                           : gf_write_ipc_file(s->f, s->path, &s->wo, &err);
  struct stat sb;
  if (st == GF_OK) {
    gf_frame *g = NULL;
    assert_int_equal(s->stream ? gf_read_ipc_stream(s->path, NULL, &g, NULL)
                               : gf_read_ipc_file(s->path, NULL, &g, NULL),
                     GF_OK);
    if (!gf_frame_equals(s->f, g)) fail_msg("%s: wrong file", gft_sweep_at());
    gf_frame_release(g);
    unlink(s->path); /* every run starts without the file */
  } else if (stat(s->path, &sb) == 0) {
    fail_msg("%s: a failed write left %s", gft_sweep_at(), s->path);
  }
  return st;
}

/* Every allocation of an IPC file and an IPC stream write (zstd bodies
 * when available) failed, one-off and persistent: GF_ENOMEM, no file,
 * nothing leaked, and a file that reads back equal once it runs clean. */
static void writer_survives_every_allocation_failure(void **state) {
  (void)state;
  gf_frame *f = all_types_frame(100, 2, 0.2, 8);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts counts[2] = {{0}, {0}};
  for (int stream = 0; stream < 2; stream++) {
    write_sweep s = {f, temp_path(stream ? "oom.arrows" : "oom.arrow"), stream, {0}, {0}};
    gf_ipc_write_options_init(&s.wo);
    gf_parallel_options_init(&s.po);
    s.po.num_workers = 1;
    if (gf_ipc_compression_available(GF_IPC_COMPRESSION_ZSTD))
      s.wo.compression = GF_IPC_COMPRESSION_ZSTD;
    unlink(s.path);
    gft_alloc_sweep(stream ? "IPC stream write" : "IPC file write", fa, write_once, &s,
                    &counts[stream]);
  }
  gft_sweep_print("IPC file write", &counts[0]);
  gft_sweep_print("IPC stream write", &counts[1]);
  gf_failing_allocator_free(fa);
  gf_frame_release(f);
}

/* One IPC read from memory under a failing allocator (gft_alloc_sweep
 * callback). */
typedef struct read_sweep {
  const gf_frame *want;
  const void *data;
  size_t len;
  bool as_file;
  gf_parallel_options po;
} read_sweep;

static gf_status read_once(void *user, const gf_allocator *a) {
  read_sweep *s = user;
  s->po.allocator = a;
  gf_ipc_read_options ro;
  gf_ipc_read_options_init(&ro);
  ro.parallel = &s->po;
  gf_frame *g = NULL;
  gf_error err;
  gf_status st = s->as_file ? gf_read_ipc_file_buffer(s->data, s->len, &ro, &g, &err)
                            : gf_read_ipc_stream_buffer(s->data, s->len, &ro, &g, &err);
  if (st == GF_OK) {
    if (!gf_frame_equals(s->want, g)) fail_msg("%s: wrong frame", gft_sweep_at());
    gf_frame_release(g);
  } else {
    assert_null(g);
  }
  return st;
}

/* Every allocation of reading an IPC file and an IPC stream (lz4 bodies
 * when available) failed, one-off and persistent: GF_ENOMEM, no frame,
 * nothing leaked, and the written frame once it runs clean. */
static void reader_survives_every_allocation_failure(void **state) {
  (void)state;
  gf_frame *f = all_types_frame(100, 2, 0.2, 8);
  gf_ipc_write_options wo;
  gf_ipc_write_options_init(&wo);
  if (gf_ipc_compression_available(GF_IPC_COMPRESSION_LZ4_FRAME))
    wo.compression = GF_IPC_COMPRESSION_LZ4_FRAME;
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts counts[2] = {{0}, {0}};
  for (int as_file = 0; as_file < 2; as_file++) {
    void *data;
    size_t len;
    assert_int_equal(gf_write_ipc_memory(f, as_file, &wo, &data, &len, NULL), GF_OK);
    read_sweep s = {f, data, len, as_file, {0}};
    gf_parallel_options_init(&s.po);
    gft_alloc_sweep(as_file ? "IPC file read" : "IPC stream read", fa, read_once, &s,
                    &counts[as_file]);
    gf_mem_free(data);
  }
  gft_sweep_print("IPC stream read", &counts[0]);
  gft_sweep_print("IPC file read", &counts[1]);
  gf_failing_allocator_free(fa);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_type_roundtrips_uncompressed),
      cmocka_unit_test(every_type_roundtrips_compressed),
      cmocka_unit_test(empty_frames_roundtrip),
      cmocka_unit_test(slices_at_odd_offsets_roundtrip),
      cmocka_unit_test(file_on_disk_is_mapped_zero_copy),
      cmocka_unit_test(metadata_only_open_does_not_read_the_body),
      cmocka_unit_test(streams_through_paths_and_fds),
      cmocka_unit_test(custom_metadata_roundtrips),
      cmocka_unit_test(failed_write_leaves_no_file),
      cmocka_unit_test(writer_survives_every_allocation_failure),
      cmocka_unit_test(reader_survives_every_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
