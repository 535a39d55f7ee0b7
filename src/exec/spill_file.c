/* Nameless temporary files for spilling operators (spill_file.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_TMPFILE */
#endif
#include "exec/spill_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct gfi_spill_space {
  const gf_allocator *a;
  char *dir;
  size_t dir_bytes;
  int64_t cap; /* max_temp_bytes, 0 = none */
  atomic_llong used, peak, files;
};

struct gfi_spill_file {
  gfi_spill_space *s;
  int fd;
  int64_t size;
};

/* Test faults: appends left before failing (-1 = off) and the errno. */
static atomic_llong fault_writes = -1;
static atomic_int fault_errno, fault_open_errno, no_tmpfile;
static atomic_llong files_opened;

int64_t gfi_spill_files_opened(void) { return atomic_load(&files_opened); }

void gfi_spill_test_fault(int64_t writes, int errnum, int open_errnum) {
  atomic_store(&fault_errno, errnum);
  atomic_store(&fault_open_errno, open_errnum);
  atomic_store(&fault_writes, writes < 0 ? -1 : writes);
}

void gfi_spill_test_no_tmpfile(bool on) { atomic_store(&no_tmpfile, on ? 1 : 0); }

/* The directory: the option, else $GF_TMPDIR, else $TMPDIR, else /tmp
 * (empty values are skipped, as unset). */
static const char *pick_dir(const gf_parallel_options *o) {
  if (o->temp_directory && *o->temp_directory) return o->temp_directory;
  const char *e = getenv("GF_TMPDIR");
  if (e && *e) return e;
  e = getenv("TMPDIR");
  if (e && *e) return e;
  return "/tmp";
}

gf_status gfi_spill_space_new(const gf_parallel_options *o, gfi_spill_space **out,
                              gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  const char *dir = pick_dir(o);
  gfi_spill_space *s = gfi_calloc(a, sizeof *s);
  if (!s) return GF_OOM(err, "spill space");
  s->a = a;
  s->dir_bytes = strlen(dir) + 1;
  s->dir = gfi_malloc(a, s->dir_bytes);
  if (!s->dir) {
    gfi_mfree(a, s, sizeof *s);
    return GF_OOM(err, "spill directory name");
  }
  memcpy(s->dir, dir, s->dir_bytes);
  s->cap = o->max_temp_bytes;
  atomic_init(&s->used, 0);
  atomic_init(&s->peak, 0);
  atomic_init(&s->files, 0);
  *out = s;
  return GF_OK;
}

void gfi_spill_space_free(gfi_spill_space *s) {
  if (!s) return;
  gfi_mfree(s->a, s->dir, s->dir_bytes);
  gfi_mfree(s->a, s, sizeof *s);
}

const char *gfi_spill_space_dir(const gfi_spill_space *s) { return s->dir; }
int64_t gfi_spill_space_used(const gfi_spill_space *s) { return atomic_load(&s->used); }
int64_t gfi_spill_space_peak(const gfi_spill_space *s) { return atomic_load(&s->peak); }
int64_t gfi_spill_space_files(const gfi_spill_space *s) { return atomic_load(&s->files); }

/* GF_EIO for a failed open in the directory, with the remedy. */
static gf_status open_error(const gfi_spill_space *s, int e, gf_error *err) {
  return gf_error_set(err, GF_EIO,
                      "cannot create a temporary file in '%s' for spilling: %s; set "
                      "temp_directory (gf --temp-dir) or GF_TMPDIR to a writable directory",
                      s->dir, strerror(e));
}

/* mkstemp in the directory, then unlink at once: the name lives only
 * between the two calls. Returns the descriptor or -1 with errno set. */
static int open_named_unlinked(const gfi_spill_space *s) {
  size_t pb = s->dir_bytes + 32;
  char *path = gfi_malloc(s->a, pb);
  if (!path) {
    errno = ENOMEM;
    return -1;
  }
  snprintf(path, pb, "%s/gf-spill-XXXXXX", s->dir);
  int fd = mkstemp(path);
  if (fd >= 0) {
    if (unlink(path) != 0) {
      int e = errno;
      close(fd);
      unlink(path);
      errno = e;
      fd = -1;
    } else {
      (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
  }
  int e = errno;
  gfi_mfree(s->a, path, pb);
  errno = e;
  return fd;
}

gf_status gfi_spill_file_open(gfi_spill_space *s, gfi_spill_file **out, gf_error *err) {
  int fe = atomic_load(&fault_open_errno);
  if (fe) return open_error(s, fe, err);
  int fd = -1;
#ifdef O_TMPFILE
  if (!atomic_load(&no_tmpfile)) {
    do {
      fd = open(s->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    } while (fd < 0 && errno == EINTR);
    /* File systems without O_TMPFILE say EOPNOTSUPP (or EISDIR/EINVAL on
     * old kernels): fall back. Other errors are the directory's. */
    if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
      return open_error(s, errno, err);
  }
#endif
  if (fd < 0) {
    fd = open_named_unlinked(s);
    if (fd < 0) {
      if (errno == ENOMEM) return GF_OOM(err, "spill file name");
      return open_error(s, errno, err);
    }
  }
  gfi_spill_file *f = gfi_malloc(s->a, sizeof *f);
  if (!f) {
    close(fd);
    return GF_OOM(err, "spill file");
  }
  *f = (gfi_spill_file){s, fd, 0};
  atomic_fetch_add(&s->files, 1);
  atomic_fetch_add(&files_opened, 1);
  *out = f;
  return GF_OK;
}

/* GF_EIO for a failed append: a full disk gets the remedy. */
static gf_status write_error(const gfi_spill_file *f, int e, size_t n, gf_error *err) {
  if (e == ENOSPC || e == EDQUOT || e == EFBIG)
    return gf_error_set(err, GF_EIO,
                        "no space left for temporary files in '%s' (%s) after spilling %lld "
                        "bytes: free space there, point temp_directory (gf --temp-dir) or "
                        "GF_TMPDIR at a larger disk, or raise memory_limit",
                        f->s->dir, strerror(e), (long long)gfi_spill_space_used(f->s));
  return gf_error_set(err, GF_EIO, "writing %zu bytes to a temporary file in '%s' failed: %s",
                      n, f->s->dir, strerror(e));
}

gf_status gfi_spill_file_append(gfi_spill_file *f, const void *p, size_t n, int64_t *offset,
                                gf_error *err) {
  gfi_spill_space *s = f->s;
  /* Reserve the bytes against the cap first, so concurrent writers of
   * one call never exceed it together. */
  int64_t now = atomic_fetch_add(&s->used, (long long)n) + (int64_t)n;
  if (s->cap > 0 && now > s->cap) {
    atomic_fetch_sub(&s->used, (long long)n);
    return gf_error_set(err, GF_EIO,
                        "temporary space limit of %lld bytes (max_temp_bytes) reached while "
                        "spilling to '%s': raise max_temp_bytes (gf --max-temp) or memory_limit",
                        (long long)s->cap, s->dir);
  }
  long long pk = atomic_load(&s->peak);
  while (now > pk && !atomic_compare_exchange_weak(&s->peak, &pk, now)) {
  }
  long long left = atomic_load(&fault_writes);
  bool fail = false;
  while (left >= 0) {
    if (left == 0) {
      fail = true;
      break;
    }
    if (atomic_compare_exchange_weak(&fault_writes, &left, left - 1)) break;
  }
  if (fail) {
    atomic_fetch_sub(&s->used, (long long)n);
    return write_error(f, atomic_load(&fault_errno), n, err);
  }
  const uint8_t *q = p;
  size_t done = 0;
  while (done < n) {
    ssize_t w = pwrite(f->fd, q + done, n - done, (off_t)(f->size + (int64_t)done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = w < 0 ? errno : ENOSPC;
      /* Drop the partial tail: the file keeps what it held. */
      if (ftruncate(f->fd, (off_t)f->size) != 0) {
        /* nothing more to do: the bytes past size are never read */
      }
      atomic_fetch_sub(&s->used, (long long)n);
      return write_error(f, e, n, err);
    }
    done += (size_t)w;
  }
  if (offset) *offset = f->size;
  f->size += (int64_t)n;
  return GF_OK;
}

gf_status gfi_spill_file_read(gfi_spill_file *f, int64_t offset, void *p, size_t n,
                              gf_error *err) {
  if (offset < 0 || offset + (int64_t)n > f->size)
    return gf_error_set(err, GF_EINTERNAL,
                        "spill file: read of %zu bytes at %lld past its %lld bytes", n,
                        (long long)offset, (long long)f->size);
  uint8_t *q = p;
  size_t done = 0;
  while (done < n) {
    ssize_t r = pread(f->fd, q + done, n - done, (off_t)(offset + (int64_t)done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0)
      return gf_error_set(err, GF_EIO,
                          "reading %zu bytes at %lld from a temporary file in '%s' failed: %s",
                          n, (long long)offset, f->s->dir,
                          r < 0 ? strerror(errno) : "unexpected end of file");
    done += (size_t)r;
  }
  return GF_OK;
}

int64_t gfi_spill_file_size(const gfi_spill_file *f) { return f->size; }

void gfi_spill_file_close(gfi_spill_file *f) {
  if (!f) return;
  gfi_spill_space *s = f->s;
  close(f->fd);
  atomic_fetch_sub(&s->used, (long long)f->size);
  gfi_mfree(s->a, f, sizeof *f);
}
