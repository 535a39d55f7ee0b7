/* I/O fault injection: writes that fail part-way (file size limit -> EFBIG,
 * /dev/full -> ENOSPC, a missing directory, a directory removed before the
 * write) give GF_EIO with a message, and leave neither a partial output nor
 * a stray temporary file, and an existing file at the target untouched; an
 * IPC stream read from a pipe fed in tiny pieces by a thread, with signals
 * interrupting the reads (EINTR), gives the same frame as from memory. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gf_test_data.h"
#include "gf_test_tmpdir.h"
#include "gopherframe.h"

/* ---- helpers ------------------------------------------------------------ */

/* A frame of several types whose CSV and IPC forms are tens of KiB. */
static gf_frame *sample_frame(void) {
  gf_datatype t[5] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_FLOAT64), gf_type(GF_TYPE_UTF8),
                      gf_type(GF_TYPE_DATE32), gf_type_dictionary(gf_type(GF_TYPE_UTF8))};
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, 5, 5000, 3, 0.1, 7, NULL, &f), GF_OK);
  return f;
}

static char g_dir[256];

static int make_dir(void **state) {
  (void)state;
  snprintf(g_dir, sizeof g_dir, "%s/gf-io-faults-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  return mkdtemp(g_dir) ? 0 : -1;
}

static int remove_dir(void **state) {
  (void)state;
  DIR *d = opendir(g_dir);
  if (d) {
    struct dirent *e;
    char p[600];
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(g_dir);
  return 0;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void assert_file_is(const char *path, const char *text) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char buf[256] = {0};
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  assert_string_equal(buf, text);
}

typedef enum writer { W_CSV, W_IPC_FILE, W_IPC_STREAM } writer;

static gf_status write_with(writer w, const gf_frame *f, const char *path, gf_error *err) {
  switch (w) {
    case W_CSV: return gf_write_csv(f, path, NULL, err);
    case W_IPC_FILE: return gf_write_ipc_file(f, path, NULL, err);
    default: return gf_write_ipc_stream(f, path, NULL, err);
  }
}

/* Runs `w` under a 4 KiB file size limit with SIGXFSZ ignored, so the
 * write(2) that crosses the limit fails with EFBIG, then restores both. */
static void check_write_past_size_limit(writer w) {
  gf_frame *f = sample_frame();
  char path[512];
  snprintf(path, sizeof path, "%s/out.data", g_dir);
  write_text(path, "previous contents\n");

  struct rlimit old;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct sigaction ign = {0}, old_sa;
  ign.sa_handler = SIG_IGN;
  assert_int_equal(sigaction(SIGXFSZ, &ign, &old_sa), 0);
  struct rlimit lim = old;
  lim.rlim_cur = 4096;
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

  gf_error err;
  gf_status st = write_with(w, f, path, &err);

  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
  assert_int_equal(sigaction(SIGXFSZ, &old_sa, NULL), 0);

  assert_int_equal(st, GF_EIO);
  assert_int_equal(err.code, GF_EIO);
  assert_true(strlen(err.message) > 0);
  /* The old file is intact and no temporary file is left behind. */
  assert_file_is(path, "previous contents\n");
  assert_int_equal(gft_dir_entries(g_dir), 1);

  /* Without the limit the same write succeeds and reads back equal. */
  assert_int_equal(write_with(w, f, path, &err), GF_OK);
  gf_frame *back = NULL;
  if (w == W_IPC_FILE)
    assert_int_equal(gf_read_ipc_file(path, NULL, &back, &err), GF_OK);
  else if (w == W_IPC_STREAM)
    assert_int_equal(gf_read_ipc_stream(path, NULL, &back, &err), GF_OK);
  if (back) {
    assert_true(gf_frame_equals(f, back));
    gf_frame_release(back);
  }
  assert_int_equal(gft_dir_entries(g_dir), 1);
  unlink(path);
  gf_frame_release(f);
}

/* ---- write failures ----------------------------------------------------- */

static void test_csv_write_past_file_size_limit_fails_cleanly(void **state) {
  (void)state;
  check_write_past_size_limit(W_CSV);
}

static void test_ipc_file_write_past_file_size_limit_fails_cleanly(void **state) {
  (void)state;
  check_write_past_size_limit(W_IPC_FILE);
}

static void test_ipc_stream_write_past_file_size_limit_fails_cleanly(void **state) {
  (void)state;
  check_write_past_size_limit(W_IPC_STREAM);
}

/* A write into a directory that does not exist (or was removed after the
 * caller created it) fails with GF_EIO naming the path, creating nothing. */
static void test_write_into_missing_directory_fails_with_eio(void **state) {
  (void)state;
  gf_frame *f = sample_frame();
  char sub[512], path[600];
  snprintf(sub, sizeof sub, "%s/vanished", g_dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  assert_int_equal(rmdir(sub), 0);
  snprintf(path, sizeof path, "%s/out.csv", sub);
  for (int w = W_CSV; w <= W_IPC_STREAM; w++) {
    gf_error err;
    assert_int_equal(write_with((writer)w, f, path, &err), GF_EIO);
    assert_non_null(strstr(err.message, "vanished"));
    assert_int_equal(gft_dir_entries(g_dir), 0);
  }
  gf_frame_release(f);
}

/* /dev/full accepts opens and fails every write with ENOSPC. */
static void test_write_to_full_device_fails_with_eio(void **state) {
  (void)state;
  FILE *full = fopen("/dev/full", "w");
  if (!full) skip();
  gf_frame *f = sample_frame();
  gf_error err;
  assert_int_equal(gf_write_csv_stream(f, full, NULL, &err), GF_EIO);
  assert_true(strlen(err.message) > 0);
  fclose(full);

  int fd = open("/dev/full", O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(gf_write_ipc_stream_fd(f, fd, NULL, &err), GF_EIO);
  assert_true(strlen(err.message) > 0);
  close(fd);
  gf_frame_release(f);
}

/* ---- short reads and EINTR ---------------------------------------------- */

typedef struct feeder {
  int fd;
  const uint8_t *data;
  size_t len;
  pthread_t reader;
  int signals_sent;
} feeder;

static void on_signal(int sig) { (void)sig; }

/* Writes the stream into the pipe in pieces of 1..13 bytes, signalling the
 * reading thread between pieces so its blocked read(2) returns EINTR. */
static void *feed(void *arg) {
  feeder *fd = arg;
  uint64_t s = 99;
  size_t pos = 0;
  while (pos < fd->len) {
    size_t n = 1 + (size_t)(gft_rand_next(&s) % 13);
    if (n > fd->len - pos) n = fd->len - pos;
    ssize_t w = write(fd->fd, fd->data + pos, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      break;
    }
    pos += (size_t)w;
    if (gft_rand_next(&s) % 4 == 0) {
      pthread_kill(fd->reader, SIGUSR1);
      fd->signals_sent++;
    }
    if (gft_rand_next(&s) % 8 == 0) sched_yield();
  }
  close(fd->fd);
  return NULL;
}

static void check_stream_from_trickling_pipe(const gf_frame *f, gf_ipc_compression c) {
  gf_ipc_write_options wo;
  gf_ipc_write_options_init(&wo);
  wo.compression = c;
  void *bytes = NULL;
  size_t len = 0;
  gf_error err;
  assert_int_equal(gf_write_ipc_memory(f, false, &wo, &bytes, &len, &err), GF_OK);

  gf_frame *from_mem = NULL;
  assert_int_equal(gf_read_ipc_stream_buffer(bytes, len, NULL, &from_mem, &err), GF_OK);

  /* A handler without SA_RESTART: interrupted reads really fail with EINTR. */
  struct sigaction sa = {0}, old;
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);

  int p[2];
  assert_int_equal(pipe(p), 0);
  feeder fd = {p[1], bytes, len, pthread_self(), 0};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, feed, &fd), 0);
  gf_frame *from_pipe = NULL;
  gf_status st = gf_read_ipc_stream_fd(p[0], NULL, &from_pipe, &err);
  close(p[0]); /* a reader that stopped early unblocks the feeder (EPIPE) */
  pthread_join(th, NULL);
  assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);

  if (st != GF_OK) fail_msg("read from pipe: %s", err.message);
  assert_true(fd.signals_sent > 0);
  assert_true(gf_frame_equals(from_mem, from_pipe));
  assert_true(gf_frame_equals(f, from_pipe));
  gf_frame_release(from_pipe);
  gf_frame_release(from_mem);
  gf_mem_free(bytes);
}

static void test_ipc_stream_from_trickling_interrupted_pipe_equals_memory(void **state) {
  (void)state;
  gf_frame *f = sample_frame();
  check_stream_from_trickling_pipe(f, GF_IPC_COMPRESSION_NONE);
  if (gf_ipc_compression_available(GF_IPC_COMPRESSION_ZSTD))
    check_stream_from_trickling_pipe(f, GF_IPC_COMPRESSION_ZSTD);
  gf_frame_release(f);
}

/* A pipe closed in the middle of the stream is a clean error, not a hang or
 * a partial frame. */
static void test_ipc_stream_truncated_pipe_fails_cleanly(void **state) {
  (void)state;
  gf_frame *f = sample_frame();
  void *bytes = NULL;
  size_t len = 0;
  gf_error err;
  assert_int_equal(gf_write_ipc_memory(f, false, NULL, &bytes, &len, &err), GF_OK);
  size_t cuts[] = {3, 8, len / 3, len / 2, len - 9};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    feeder fd = {p[1], bytes, cuts[i], pthread_self(), 0};
    /* No signals here: the handler is not installed. */
    pthread_t th;
    struct sigaction ign = {0}, old;
    ign.sa_handler = SIG_IGN;
    sigaction(SIGUSR1, &ign, &old);
    assert_int_equal(pthread_create(&th, NULL, feed, &fd), 0);
    gf_frame *out = NULL;
    gf_status st = gf_read_ipc_stream_fd(p[0], NULL, &out, &err);
    close(p[0]);
    pthread_join(th, NULL);
    sigaction(SIGUSR1, &old, NULL);
    assert_int_not_equal(st, GF_OK);
    assert_null(out);
    assert_true(strlen(err.message) > 0);
  }
  gf_mem_free(bytes);
  gf_frame_release(f);
}

int main(void) {
  /* Feeders write into pipes whose reader may have given up. */
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_csv_write_past_file_size_limit_fails_cleanly,
                                      make_dir, remove_dir),
      cmocka_unit_test_setup_teardown(test_ipc_file_write_past_file_size_limit_fails_cleanly,
                                      make_dir, remove_dir),
      cmocka_unit_test_setup_teardown(test_ipc_stream_write_past_file_size_limit_fails_cleanly,
                                      make_dir, remove_dir),
      cmocka_unit_test_setup_teardown(test_write_into_missing_directory_fails_with_eio, make_dir,
                                      remove_dir),
      cmocka_unit_test(test_write_to_full_device_fails_with_eio),
      cmocka_unit_test(test_ipc_stream_from_trickling_interrupted_pipe_equals_memory),
      cmocka_unit_test(test_ipc_stream_truncated_pipe_fails_cleanly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
