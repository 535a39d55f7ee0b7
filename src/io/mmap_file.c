/* Read-only memory-mapped files, refcounted so that buffers viewing the
 * mapping keep it alive. Files that cannot be mapped (pipes, terminals) are
 * read into memory instead, so callers see one interface either way. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io_internal.h"

struct gfi_mapped_file {
  gfi_refcount ref;
  const gf_allocator *alloc;
  char *data;      /* mapping, heap copy, or a static empty string */
  size_t size;
  size_t heap_cap; /* bytes allocated when read into memory, else 0 */
  bool mapped;
};

static char gfi_empty_file[1] = {0};

/* Reads all of fd into memory from `a` (for files mmap refuses). */
static gf_status read_all(int fd, const char *path, gfi_mapped_file *m,
                          gf_error *err) {
  size_t cap = 1 << 16, len = 0;
  char *buf = gf_alloc(m->alloc, cap, 64);
  if (!buf) return GF_OOM(err, "a file read buffer");
  for (;;) {
    if (len == cap) {
      size_t ncap = cap * 2;
      char *nb = gf_realloc(m->alloc, buf, cap, ncap, 64);
      if (!nb) {
        gf_free(m->alloc, buf, cap, 64);
        return GF_OOM(err, "a file read buffer");
      }
      buf = nb;
      cap = ncap;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      gf_free(m->alloc, buf, cap, 64);
      return gf_error_set(err, GF_EIO, "%s: %s", path, strerror(e));
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  if (len == 0) {
    gf_free(m->alloc, buf, cap, 64);
    m->data = gfi_empty_file;
    return GF_OK;
  }
  m->data = buf;
  m->size = len;
  m->heap_cap = cap;
  return GF_OK;
}

/* Opens and maps a file (see io_internal.h). */
gf_status gfi_mapped_file_open(const char *path, const gf_allocator *a,
                               gfi_mapped_file **out, gf_error *err) {
  if (!path || !out)
    return gf_error_set(err, GF_EINVAL, "gfi_mapped_file_open: %s is NULL",
                        path ? "out" : "path");
  a = gfi_alloc_or_default(a);
  int fd;
  do fd = open(path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return gf_error_set(err, GF_EIO, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return gf_error_set(err, GF_EIO, "%s: %s", path, strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return gf_error_set(err, GF_EIO, "%s: %s", path, strerror(EISDIR));
  }
  gfi_mapped_file *m = gfi_calloc(a, sizeof *m);
  if (!m) {
    close(fd);
    return GF_OOM(err, "a mapped file");
  }
  gfi_ref_init(&m->ref);
  m->alloc = a;
  m->data = gfi_empty_file;
  gf_status st_ = GF_OK;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      st_ = gf_error_set(err, GF_EIO, "%s: mmap: %s", path, strerror(errno));
    } else {
      m->data = p;
      m->size = (size_t)st.st_size;
      m->mapped = true;
    }
  } else if (!S_ISREG(st.st_mode)) {
    st_ = read_all(fd, path, m, err);
  }
  close(fd);
  if (st_ != GF_OK) {
    gfi_mfree(a, m, sizeof *m);
    return st_;
  }
  *out = m;
  return GF_OK;
}

const char *gfi_mapped_file_data(const gfi_mapped_file *m) { return m->data; }
size_t gfi_mapped_file_size(const gfi_mapped_file *m) { return m->size; }

gfi_mapped_file *gfi_mapped_file_retain(gfi_mapped_file *m) {
  if (m) gfi_ref_inc(&m->ref);
  return m;
}

/* Drops a reference; the last one unmaps or frees the copy. */
void gfi_mapped_file_release(gfi_mapped_file *m) {
  if (!m || !gfi_ref_dec(&m->ref)) return;
  if (m->mapped)
    munmap(m->data, m->size);
  else if (m->heap_cap)
    gf_free(m->alloc, m->data, m->heap_cap, 64);
  gfi_mfree(m->alloc, m, sizeof *m);
}

static void release_owner(void *owner) { gfi_mapped_file_release(owner); }

/* Zero-copy buffer over part of the file, holding a reference on it. */
gf_status gfi_mapped_file_buffer(gfi_mapped_file *m, size_t offset,
                                 size_t len, gf_buffer **out, gf_error *err) {
  if (!m || !out || offset > m->size || len > m->size - offset)
    return gf_error_set(err, GF_EINVAL,
                        "mapped file buffer [%zu, +%zu) out of range", offset,
                        len);
  gfi_mapped_file_retain(m);
  if (gfi_buffer_wrap_with(m->alloc, m->data + offset, len, release_owner, m,
                           out) != GF_OK) {
    gfi_mapped_file_release(m);
    return GF_OOM(err, "a buffer wrapper");
  }
  return GF_OK;
}
