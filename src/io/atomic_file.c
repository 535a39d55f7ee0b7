/*
 * Files replaced atomically (atomic_file.h): written under a temporary name
 * in the target's directory, then renamed over the target, so a reader never
 * sees a half-written file and a failed write leaves the old one in place.
 * Used by the CSV and IPC writers and the gf tool.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "io/io_internal.h"

/* The process umask, read without changing it (umask(2) would race with
 * other threads creating files); 022 when /proc is unavailable. */
static mode_t current_umask(void) {
  mode_t mask = 022;
  FILE *f = fopen("/proc/self/status", "re");
  if (!f) return mask;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "Umask:", 6) == 0) {
      unsigned v = 0;
      const char *p = line + 6;
      while (*p == ' ' || *p == '\t') p++;
      for (; *p >= '0' && *p <= '7'; p++) v = v * 8 + (unsigned)(*p - '0');
      mask = (mode_t)(v & 0777);
      break;
    }
  }
  fclose(f);
  return mask;
}

/* Copies s into memory from a. */
static char *dup_string(const gf_allocator *a, const char *s, size_t *size) {
  *size = strlen(s) + 1;
  char *d = gfi_malloc(a, *size);
  if (d) memcpy(d, s, *size);
  return d;
}

/* Opens the temporary file next to `path` (or `path` itself when it is not
 * a regular file). */
gf_status gfi_atomic_file_open(const char *path, const gf_allocator *a, gfi_atomic_file *f,
                               gf_error *err) {
  memset(f, 0, sizeof *f);
  f->fd = -1;
  if (!path || !*path) return gf_error_set(err, GF_EINVAL, "output path is empty");
  f->alloc = gfi_alloc_or_default(a);
  f->path = dup_string(f->alloc, path, &f->path_size);
  if (!f->path) return GF_OOM(err, "an output path");

  struct stat sb;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    gfi_atomic_file_abort(f);
    return gf_error_set(err, GF_EIO, "%s: %s", path, strerror(EISDIR));
  }
  if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
    /* A device or FIFO: renaming over it would replace it, so write it. */
    f->fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (f->fd < 0) {
      int e = errno;
      gfi_atomic_file_abort(f);
      return gf_error_set(err, GF_EIO, "%s: %s", path, strerror(e));
    }
    return GF_OK;
  }

  /* "DIR/.NAME.gf-tmp-XXXXXX": hidden, and on the same file system as the
   * target so that rename() replaces it atomically. */
  const char *slash = strrchr(path, '/');
  size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
  const char *base = path + dir_len;
  static const char suffix[] = ".gf-tmp-XXXXXX";
  /* A long NAME is shortened in the temporary name (never past a UTF-8
   * character) so that "." NAME suffix fits NAME_MAX: any valid output name
   * can be written, up to 255 bytes. */
  size_t base_len = strlen(base), keep = base_len;
  size_t room = NAME_MAX - 1 - (sizeof suffix - 1);
  if (keep > room) {
    keep = room;
    while (keep > 0 && ((unsigned char)base[keep] & 0xC0) == 0x80) keep--;
  }
  f->tmp_size = dir_len + 1 + keep + sizeof suffix;
  f->tmp_path = gfi_malloc(f->alloc, f->tmp_size);
  if (!f->tmp_path) {
    gfi_atomic_file_abort(f);
    return GF_OOM(err, "a temporary file name");
  }
  snprintf(f->tmp_path, f->tmp_size, "%.*s.%.*s%s", (int)dir_len, path, (int)keep, base, suffix);
  f->fd = mkostemp(f->tmp_path, O_CLOEXEC);
  if (f->fd < 0) {
    int e = errno;
    char dir[512];
    snprintf(dir, sizeof dir, "%.*s", dir_len ? (int)dir_len : 1, dir_len ? path : ".");
    gfi_atomic_file_abort(f);
    return gf_error_set(err, GF_EIO, "%s: cannot create a temporary file in '%s': %s", path,
                        dir, strerror(e));
  }
  f->discard_on_abort = true;
  gfi_observe_temp_file(f->tmp_path, true);
  return GF_OK;
}

/* write(2) until everything is out. */
gf_status gfi_atomic_file_write(gfi_atomic_file *f, const void *data, size_t len,
                                gf_error *err) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(f->fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return gf_error_set(err, GF_EIO, "%s: write failed: %s", f->path, strerror(errno));
    }
    p += n;
    len -= (size_t)n;
  }
  return GF_OK;
}

/* Sink adapter: `file` is a gfi_atomic_file. */
gf_status gfi_atomic_file_sink(void *file, const char *data, size_t len, gf_error *err) {
  return gfi_atomic_file_write(file, data, len, err);
}

/* Releases the names. */
static void release_names(gfi_atomic_file *f) {
  if (f->path) gfi_mfree(f->alloc, f->path, f->path_size);
  if (f->tmp_path) gfi_mfree(f->alloc, f->tmp_path, f->tmp_size);
  f->path = f->tmp_path = NULL;
}

/* Final mode, close, rename. */
gf_status gfi_atomic_file_commit(gfi_atomic_file *f, gf_error *err) {
  gf_status st = GF_OK;
  if (!f->tmp_path) {
    if (close(f->fd) != 0 && errno != EINTR)
      st = gf_error_set(err, GF_EIO, "%s: %s", f->path, strerror(errno));
    f->fd = -1;
    release_names(f);
    return st;
  }
  struct stat sb;
  mode_t mode = stat(f->path, &sb) == 0 ? (sb.st_mode & 07777) : (0666 & ~current_umask());
  if (fchmod(f->fd, mode) != 0)
    st = gf_error_set(err, GF_EIO, "%s: cannot set permissions: %s", f->path, strerror(errno));
  int fd = f->fd;
  f->fd = -1;
  if (close(fd) != 0 && st == GF_OK)
    st = gf_error_set(err, GF_EIO, "%s: write failed: %s", f->path, strerror(errno));
  if (st == GF_OK && rename(f->tmp_path, f->path) != 0)
    st = gf_error_set(err, GF_EIO, "%s: cannot replace the file: %s", f->path, strerror(errno));
  if (st == GF_OK) f->discard_on_abort = false;
  gfi_atomic_file_abort(f);
  return st;
}

/* Closes, removes the temporary file, releases the names. */
void gfi_atomic_file_abort(gfi_atomic_file *f) {
  if (f->fd >= 0) close(f->fd);
  f->fd = -1;
  if (f->tmp_path && f->discard_on_abort) unlink(f->tmp_path);
  gfi_observe_temp_file(f->tmp_path, false);
  f->discard_on_abort = false;
  release_names(f);
}
