/* Read-only memory-mapped files, refcounted so that buffers viewing the
 * mapping keep it alive. Files that cannot be mapped (pipes, terminals), and
 * every file opened in GF_INPUT_READ mode, are read into memory instead, so
 * callers see one interface either way. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec_internal.h"
#include "io/io_internal.h"

struct gfi_mapped_file {
  gfi_refcount ref;
  const gf_allocator *alloc;
  char *data;      /* mapping, heap copy, or a static empty string */
  size_t size;
  gfi_vec copy;    /* the heap copy of a file read into memory */
  bool mapped;
};

static char gfi_empty_file[1] = {0};

/* The observer of gf_set_file_observer. A plain copy: the setter's contract
 * (set before any file call runs) is what keeps readers from tearing it. */
static gf_file_observer observer;

/* Installs a copy of the observer (see io.h). */
void gf_set_file_observer(const gf_file_observer *o) {
  if (o)
    observer = *o;
  else
    memset(&observer, 0, sizeof observer);
}

/* Reports a temporary output file created or gone (see io_internal.h). */
void gfi_observe_temp_file(const char *tmp_path, bool created) {
  if (observer.temp_file && tmp_path) observer.temp_file(observer.user, tmp_path, created);
}

/* Reads all of fd into m->copy (for files mmap refuses). Waits for data at
 * most 100 ms at a time so that a cancel request or the deadline of `o`
 * (loaded options, or NULL) ends the read even when nothing arrives; an
 * endless input (/dev/zero) ends at the deadline or the memory limit. */
static gf_status read_all(int fd, const char *path, gfi_mapped_file *m,
                          const gf_parallel_options *o, gf_error *err) {
  int64_t start_ns = gfi_now_ns();
  gfi_vec *v = &m->copy;
  for (;;) {
    if (o) GF_RETURN_NOT_OK(gfi_check_stop(o, start_ns, NULL, err));
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int pr = poll(&pfd, 1, 100);
    if (pr == 0 || (pr < 0 && errno == EINTR)) continue;
    if (v->cap - v->len < (1u << 16))
      GF_RETURN_NOT_OK(gfi_vec_reserve(v, v->cap > (1u << 16) ? v->cap : (1u << 16), err));
    ssize_t n = read(fd, v->data + v->len, v->cap - v->len);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return gf_error_set(err, GF_EIO, "%s: %s", path, strerror(errno));
    }
    if (n == 0) break;
    v->len += (size_t)n;
  }
  if (v->len > 0) {
    m->data = (char *)v->data;
    m->size = v->len;
  }
  return GF_OK;
}

/* Reads the regular file fd of `size` bytes (its size at open) into m->copy
 * with pread, in slices so that the token and deadline of `o` are checked
 * between them. The copy is what the reader uses: a file truncated by
 * another process while this runs ends early and is GF_EIO, never a fault;
 * bytes appended after the open are not read. */
static gf_status read_regular(int fd, const char *path, size_t size, gfi_mapped_file *m,
                              const gf_parallel_options *o, gf_error *err) {
  enum { SLICE = 16u << 20 };
  int64_t start_ns = gfi_now_ns();
  gfi_vec *v = &m->copy;
  GF_RETURN_NOT_OK(gfi_vec_reserve(v, size, err));
  while (v->len < size) {
    if (o) GF_RETURN_NOT_OK(gfi_check_stop(o, start_ns, NULL, err));
    size_t want = size - v->len < SLICE ? size - v->len : SLICE;
    ssize_t n = pread(fd, v->data + v->len, want, (off_t)v->len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return gf_error_set(err, GF_EIO, "%s: %s", path, strerror(errno));
    }
    if (n == 0)
      return gf_error_set(err, GF_EIO,
                          "%s: file changed size while being read (%zu of %zu bytes)", path,
                          v->len, size);
    v->len += (size_t)n;
  }
  m->data = (char *)v->data;
  m->size = v->len;
  return GF_OK;
}

/* Opens and maps a file (see io_internal.h). */
gf_status gfi_mapped_file_open(const char *path, const gf_allocator *a,
                               gfi_mapped_file **out, gf_error *err) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.allocator = a;
  o.cancel = NULL;
  return gfi_mapped_file_open_with(path, &o, GF_INPUT_MMAP, out, err);
}

/* Opens and maps a file under loaded options (see io_internal.h). */
gf_status gfi_mapped_file_open_with(const char *path, const gf_parallel_options *opts,
                                    gf_input_mode mode, gfi_mapped_file **out,
                                    gf_error *err) {
  if (!path || !out)
    return gf_error_set(err, GF_EINVAL, "gfi_mapped_file_open: %s is NULL",
                        path ? "out" : "path");
  if (mode != GF_INPUT_MMAP && mode != GF_INPUT_READ)
    return gf_error_set(err, GF_EINVAL, "invalid input_mode %d", (int)mode);
  const gf_allocator *a = gfi_alloc_or_default(opts ? opts->allocator : NULL);
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
  gfi_vec_init(&m->copy, a);
  gf_status st_ = GF_OK;
  if (S_ISREG(st.st_mode) && st.st_size > 0 && mode == GF_INPUT_READ) {
    if ((uintmax_t)st.st_size > SIZE_MAX)
      st_ = gf_error_set(err, GF_ENOMEM, "%s: %jd bytes do not fit in memory", path,
                         (intmax_t)st.st_size);
    else
      st_ = read_regular(fd, path, (size_t)st.st_size, m, opts, err);
  } else if (S_ISREG(st.st_mode) && st.st_size > 0) {
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      st_ = gf_error_set(err, GF_EIO, "%s: mmap: %s", path, strerror(errno));
    } else {
      m->data = p;
      m->size = (size_t)st.st_size;
      m->mapped = true;
      if (observer.mapped) observer.mapped(observer.user, path, p, m->size);
    }
  } else if (!S_ISREG(st.st_mode)) {
    st_ = read_all(fd, path, m, opts, err);
  }
  close(fd);
  if (st_ != GF_OK) {
    gfi_vec_reset(&m->copy);
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
  if (m->mapped) {
    if (observer.unmapped) observer.unmapped(observer.user, m->data, m->size);
    munmap(m->data, m->size);
  }
  gfi_vec_reset(&m->copy);
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
