/* Input modes of the file readers (issue 14 item 3): GF_INPUT_READ reads a
 * CSV or Arrow IPC file into an owned buffer and gives the frame a naive
 * reference expects, like GF_INPUT_MMAP; a file truncated while it is read
 * gives GF_EIO or a full correct frame, never a fault; a frame read that way
 * survives the truncation of its file; a mapped IPC frame does not (SIGBUS,
 * the documented behaviour, seen in a child process); the file observer
 * reports mappings and temporary output files (what gf's handler uses). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gopherframe.h"
#include "gf_test_env.h"
#include "gf_test_sweep.h"
#include "gopherframe/testing.h"

#define ROWS 5000

/* ---- the reference ------------------------------------------------------ */

/* Row i of the test file: id = i; x = i/4 (exact in binary), null every 5th
 * row; s = "k" followed by i % 7. */
static bool ref_x_null(int64_t i) { return i % 5 == 3; }
static double ref_x(int64_t i) { return (double)i / 4.0; }

/* Writes the test file as CSV to a fresh temporary path. */
static void write_csv(char *path) {
  strcpy(path, "/tmp/gf_input_mode_XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *fp = fdopen(fd, "w");
  assert_non_null(fp);
  fprintf(fp, "id,x,s\n");
  for (int64_t i = 0; i < ROWS; i++) {
    if (ref_x_null(i))
      fprintf(fp, "%lld,,k%lld\n", (long long)i, (long long)(i % 7));
    else
      fprintf(fp, "%lld,%.2f,k%lld\n", (long long)i, ref_x(i), (long long)(i % 7));
  }
  assert_int_equal(fclose(fp), 0);
}

/* Checks every cell of `f` against the reference, batch by batch, with
 * the row number counted across batches. */
static void check_frame(const gf_frame *f) {
  assert_non_null(f);
  assert_int_equal(gf_frame_num_rows(f), ROWS);
  assert_int_equal(gf_schema_num_fields(gf_frame_schema(f)), 3);
  int64_t r = 0;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *id = gf_frame_column(f, b, 0), *x = gf_frame_column(f, b, 1),
                   *s = gf_frame_column(f, b, 2);
    for (int64_t i = 0; i < gf_frame_batch_rows(f, b); i++, r++) {
      assert_false(gf_array_is_null(id, i));
      assert_int_equal(gf_array_get_int64(id, i), r);
      assert_int_equal(gf_array_is_null(x, i), ref_x_null(r));
      if (!ref_x_null(r)) assert_true(gf_array_get_double(x, i) == ref_x(r));
      int64_t len;
      const char *p = gf_array_get_bytes(s, i, &len);
      char want[8];
      snprintf(want, sizeof want, "k%lld", (long long)(r % 7));
      assert_int_equal(len, (int64_t)strlen(want));
      assert_memory_equal(p, want, (size_t)len);
    }
  }
  assert_int_equal(r, ROWS);
}

/* ---- reading in either mode --------------------------------------------- */

static gf_status read_csv_mode(const char *path, gf_input_mode mode,
                               const gf_parallel_options *par, gf_frame **out, gf_error *err) {
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.input_mode = mode;
  o.parallel = par;
  return gf_read_csv(path, &o, out, err);
}

static gf_status read_ipc_mode(const char *path, gf_input_mode mode,
                               const gf_parallel_options *par, gf_frame **out, gf_error *err) {
  gf_ipc_read_options o;
  gf_ipc_read_options_init(&o);
  o.input_mode = mode;
  o.parallel = par;
  return gf_read_ipc(path, &o, out, err);
}

/* Writes the test file as an Arrow IPC file (or stream) at a fresh path. */
static void write_ipc(char *path, bool as_file) {
  char csv[64];
  write_csv(csv);
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(read_csv_mode(csv, GF_INPUT_READ, NULL, &f, &err), GF_OK);
  unlink(csv);
  strcpy(path, "/tmp/gf_input_mode_XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  gf_status st = as_file ? gf_write_ipc_file(f, path, NULL, &err)
                         : gf_write_ipc_stream(f, path, NULL, &err);
  assert_int_equal(st, GF_OK);
  gf_frame_release(f);
}

/* Both modes give the reference frame, at any worker count and chunk size. */
static void csv_both_modes_match_the_reference(void **state) {
  (void)state;
  char path[64];
  write_csv(path);
  static const int workers[] = {1, 3};
  static const int64_t chunks[] = {0, 333};
  for (int m = 0; m < 2; m++)
    for (int w = 0; w < 2; w++)
      for (int c = 0; c < 2; c++) {
        gf_parallel_options par;
        gf_parallel_options_init(&par);
        par.num_workers = workers[w];
        par.chunk_rows = chunks[c];
        par.min_parallel_rows = 1;
        gf_frame *f = NULL;
        gf_error err;
        gf_error_clear(&err);
        gf_status st = read_csv_mode(path, m ? GF_INPUT_READ : GF_INPUT_MMAP, &par, &f, &err);
        if (st != GF_OK) fail_msg("%s", err.message);
        check_frame(f);
        gf_frame_release(f);
      }
  unlink(path);
}

/* IPC files and streams, through all three path readers, in both modes. */
static void ipc_both_modes_match_the_reference(void **state) {
  (void)state;
  for (int as_file = 0; as_file < 2; as_file++) {
    char path[64];
    write_ipc(path, as_file);
    for (int m = 0; m < 2; m++) {
      gf_input_mode mode = m ? GF_INPUT_READ : GF_INPUT_MMAP;
      gf_ipc_read_options o;
      gf_ipc_read_options_init(&o);
      o.input_mode = mode;
      gf_frame *f = NULL;
      gf_error err;
      gf_status st = as_file ? gf_read_ipc_file(path, &o, &f, &err)
                             : gf_read_ipc_stream(path, &o, &f, &err);
      if (st != GF_OK) fail_msg("%s", err.message);
      check_frame(f);
      gf_frame_release(f);
      f = NULL;
      assert_int_equal(read_ipc_mode(path, mode, NULL, &f, &err), GF_OK);
      check_frame(f);
      gf_frame_release(f);
    }
    unlink(path);
  }
}

/* A frame read in GF_INPUT_READ mode views memory of its own: truncating
 * and removing its file afterwards changes nothing. */
static void read_mode_frames_survive_truncation(void **state) {
  (void)state;
  char path[64];
  write_ipc(path, true);
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(read_ipc_mode(path, GF_INPUT_READ, NULL, &f, &err), GF_OK);
  assert_int_equal(truncate(path, 0), 0);
  unlink(path);
  check_frame(f);
  gf_frame_release(f);
}

/* A mapped IPC frame is a view of the file's pages: truncating the file and
 * touching the frame raises SIGBUS (what io.h documents). Checked in a
 * child with the default action; a sanitizer's own SIGBUS handler may turn the signal into an exit
 * status, which is accepted there. */
static void mapped_frames_fault_after_truncation(void **state) {
  (void)state;
  char path[64];
  write_ipc(path, true);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    signal(SIGBUS, SIG_DFL); /* cmocka catches it to report a failed test */
    gf_frame *f = NULL;
    if (read_ipc_mode(path, GF_INPUT_MMAP, NULL, &f, NULL) != GF_OK) _exit(2);
    if (truncate(path, 0) != 0) _exit(3);
    volatile int64_t sum = 0;
    for (int b = 0; b < gf_frame_num_batches(f); b++) {
      const gf_array *a = gf_frame_column(f, b, 0);
      for (int64_t i = 0; i < gf_array_length(a); i++) sum += gf_array_get_int64(a, i);
    }
    _exit(sum == -1 ? 4 : 0); /* sum is read, so the loop is kept */
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  unlink(path);
  if (gft_sanitized() && WIFEXITED(status))
    assert_true(WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 2 &&
                WEXITSTATUS(status) != 3);
  else
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
}

/* ---- truncation while reading -------------------------------------------- */

/* The default allocator, except that the Nth allocation first truncates
 * `path` to `keep` bytes: a deterministic stand-in for another process
 * truncating the file at some moment of the read. */
typedef struct truncating {
  gf_allocator iface;
  const char *path;
  off_t keep;
  int64_t count, at;
  bool done;
} truncating;

static void maybe_truncate(truncating *t) {
  if (++t->count == t->at) {
    assert_int_equal(truncate(t->path, t->keep), 0);
    t->done = true;
  }
}

static void *tr_allocate(void *ctx, size_t size, size_t alignment) {
  truncating *t = ctx;
  maybe_truncate(t);
  return gf_default_allocator()->allocate(gf_default_allocator()->ctx, size, alignment);
}

static void *tr_reallocate(void *ctx, void *ptr, size_t old_size, size_t new_size,
                           size_t alignment) {
  truncating *t = ctx;
  maybe_truncate(t);
  return gf_default_allocator()->reallocate(gf_default_allocator()->ctx, ptr, old_size,
                                            new_size, alignment);
}

static void tr_deallocate(void *ctx, void *ptr, size_t size, size_t alignment) {
  (void)ctx;
  gf_default_allocator()->deallocate(gf_default_allocator()->ctx, ptr, size, alignment);
}

typedef gf_status (*read_fn)(const char *, gf_input_mode, const gf_parallel_options *,
                             gf_frame **, gf_error *);

/* Truncates the file at the 1st, 2nd, ... allocation of a GF_INPUT_READ
 * read (recreating it each time) until a read ends before that allocation:
 * each read is GF_EIO "changed size" or the full reference frame. The
 * first allocations precede the pread loop, so the GF_EIO path is taken. */
static void sweep_truncation(read_fn rd, bool ipc) {
  int eio = 0, full = 0;
  for (int64_t at = 1;; at++) {
    char path[64];
    if (ipc)
      write_ipc(path, true);
    else
      write_csv(path);
    truncating t = {{tr_allocate, tr_reallocate, tr_deallocate, NULL}, path, 100, 0, at, false};
    t.iface.ctx = &t;
    gf_parallel_options par;
    gf_parallel_options_init(&par);
    par.allocator = &t.iface;
    par.num_workers = 1; /* the allocation count is the sweep's clock */
    gf_frame *f = NULL;
    gf_error err;
    gf_error_clear(&err);
    gf_status st = rd(path, GF_INPUT_READ, &par, &f, &err);
    bool done = t.done;
    unlink(path);
    if (st == GF_OK) {
      check_frame(f);
      gf_frame_release(f);
      full++;
    } else {
      assert_null(f);
      assert_int_equal(st, GF_EIO);
      assert_non_null(strstr(err.message, "file changed size while being read"));
      assert_non_null(strstr(err.message, path));
      eio++;
    }
    if (!done) break;
  }
  assert_true(eio >= 1);
  assert_true(full >= 1);
}

static void csv_truncated_while_read(void **state) {
  (void)state;
  sweep_truncation(read_csv_mode, false);
}

static void ipc_truncated_while_read(void **state) {
  (void)state;
  sweep_truncation(read_ipc_mode, true);
}

/* ---- allocation failures -------------------------------------------------- */

/* One GF_INPUT_READ read under a failing allocator (gft_alloc_sweep). */
typedef struct read_sweep {
  const char *path;
  read_fn rd;
} read_sweep;

static gf_status read_once(void *user, const gf_allocator *a) {
  read_sweep *s = user;
  gf_parallel_options par;
  gf_parallel_options_init(&par);
  par.allocator = a;
  par.num_workers = 1;
  gf_frame *f = NULL;
  gf_status st = s->rd(s->path, GF_INPUT_READ, &par, &f, NULL);
  if (st == GF_OK) {
    check_frame(f);
    gf_frame_release(f);
  } else {
    assert_null(f);
  }
  return st;
}

/* Every allocation of a GF_INPUT_READ read of a CSV and an IPC file (the
 * copy among them) failed, one-off and persistent: GF_ENOMEM, no frame,
 * nothing leaked, the reference frame once it runs clean. */
static void read_mode_allocation_failures_fail_cleanly(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts counts = {0};
  char path[64];
  write_csv(path);
  read_sweep s = {path, read_csv_mode};
  gft_alloc_sweep("CSV read, GF_INPUT_READ", fa, read_once, &s, &counts);
  unlink(path);
  write_ipc(path, true);
  s.rd = read_ipc_mode;
  gft_alloc_sweep("IPC read, GF_INPUT_READ", fa, read_once, &s, &counts);
  unlink(path);
  assert_true(counts.sites > 5);
  gft_sweep_print("GF_INPUT_READ reads", &counts);
  gf_failing_allocator_free(fa);
}

/* ---- the file observer ----------------------------------------------------- */

/* What the observer saw, in order. */
typedef struct seen {
  int mapped, unmapped, created, gone;
  char map_path[64], tmp_path[256];
  const void *addr;
  size_t len;
  bool unmap_matched;
} seen;

static void saw_mapped(void *user, const char *path, const void *addr, size_t len) {
  seen *s = user;
  s->mapped++;
  snprintf(s->map_path, sizeof s->map_path, "%s", path);
  s->addr = addr;
  s->len = len;
}

static void saw_unmapped(void *user, const void *addr, size_t len) {
  seen *s = user;
  s->unmapped++;
  s->unmap_matched = addr == s->addr && len == s->len;
}

static void saw_temp(void *user, const char *tmp_path, bool created) {
  seen *s = user;
  if (created) {
    s->created++;
    snprintf(s->tmp_path, sizeof s->tmp_path, "%s", tmp_path);
    assert_int_equal(access(tmp_path, F_OK), 0); /* reported once it exists */
  } else {
    s->gone++;
    assert_string_equal(tmp_path, s->tmp_path);
  }
}

/* The observer sees a mapped IPC input from the read to the release of the
 * last frame viewing it (its range is the file's size), nothing for a
 * GF_INPUT_READ read, and a writer's temporary file from creation to
 * rename, under "DIR/.NAME.gf-tmp-". */
static void observer_sees_mappings_and_temp_files(void **state) {
  (void)state;
  char path[64];
  write_ipc(path, true);
  seen s;
  memset(&s, 0, sizeof s);
  gf_file_observer o = {saw_mapped, saw_unmapped, saw_temp, &s};
  gf_set_file_observer(&o);
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(read_ipc_mode(path, GF_INPUT_READ, NULL, &f, &err), GF_OK);
  gf_frame_release(f);
  assert_int_equal(s.mapped + s.unmapped, 0);
  assert_int_equal(read_ipc_mode(path, GF_INPUT_MMAP, NULL, &f, &err), GF_OK);
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  assert_int_equal(fseek(fp, 0, SEEK_END), 0);
  long file_size = ftell(fp);
  fclose(fp);
  assert_int_equal(s.mapped, 1);
  assert_string_equal(s.map_path, path);
  assert_int_equal(s.len, (size_t)file_size);
  assert_int_equal(s.unmapped, 0); /* the frame still views it */
  gf_frame_release(f);
  assert_int_equal(s.unmapped, 1);
  assert_true(s.unmap_matched);

  char out[96];
  snprintf(out, sizeof out, "%s.out.csv", path);
  assert_int_equal(read_ipc_mode(path, GF_INPUT_READ, NULL, &f, &err), GF_OK);
  assert_int_equal(gf_write_csv(f, out, NULL, &err), GF_OK);
  gf_frame_release(f);
  gf_set_file_observer(NULL);
  assert_int_equal(s.created, 1);
  assert_int_equal(s.gone, 1);
  char prefix[112];
  snprintf(prefix, sizeof prefix, "/tmp/.%s.out.csv.gf-tmp-", path + 5);
  assert_memory_equal(s.tmp_path, prefix, strlen(prefix));
  assert_int_equal(access(s.tmp_path, F_OK), -1);
  /* Removed: nothing is reported any more. */
  assert_int_equal(read_ipc_mode(path, GF_INPUT_MMAP, NULL, &f, &err), GF_OK);
  gf_frame_release(f);
  assert_int_equal(s.mapped, 1);
  unlink(out);
  unlink(path);
}

/* ---- options ------------------------------------------------------------- */

/* An unknown mode is GF_EINVAL; options from before input_mode existed (a
 * smaller size) read mapped, as before. */
static void mode_option_checks(void **state) {
  (void)state;
  char path[64];
  write_csv(path);
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.input_mode = (gf_input_mode)7;
  gf_frame *f = NULL;
  gf_error err;
  assert_int_equal(gf_read_csv(path, &o, &f, &err), GF_EINVAL);
  assert_null(f);
  assert_non_null(strstr(err.message, "input_mode"));
  o.size = offsetof(gf_csv_read_options, input_mode);
  assert_int_equal(gf_read_csv(path, &o, &f, &err), GF_OK);
  check_frame(f);
  gf_frame_release(f);
  unlink(path);

  write_ipc(path, true);
  gf_ipc_read_options io;
  gf_ipc_read_options_init(&io);
  io.input_mode = (gf_input_mode)7;
  f = NULL;
  assert_int_equal(gf_read_ipc_file(path, &io, &f, &err), GF_EINVAL);
  assert_null(f);
  io.size = offsetof(gf_ipc_read_options, input_mode);
  assert_int_equal(gf_read_ipc_file(path, &io, &f, &err), GF_OK);
  check_frame(f);
  gf_frame_release(f);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(csv_both_modes_match_the_reference),
      cmocka_unit_test(ipc_both_modes_match_the_reference),
      cmocka_unit_test(read_mode_frames_survive_truncation),
      cmocka_unit_test(mapped_frames_fault_after_truncation),
      cmocka_unit_test(csv_truncated_while_read),
      cmocka_unit_test(ipc_truncated_while_read),
      cmocka_unit_test(mode_option_checks),
      cmocka_unit_test(observer_sees_mappings_and_temp_files),
      cmocka_unit_test(read_mode_allocation_failures_fail_cleanly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
