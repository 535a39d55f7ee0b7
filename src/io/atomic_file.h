/*
 * Files replaced atomically: written to a temporary name next to the target
 * and renamed over it on success (not installed).
 */
#ifndef GF_IO_ATOMIC_FILE_H
#define GF_IO_ATOMIC_FILE_H

#include "core/core_internal.h"

/* A file being written: to a temporary name in the target's directory when
 * the target is (or will be) a regular file, directly otherwise (a FIFO,
 * /dev/stdout, a terminal). */
typedef struct gfi_atomic_file {
  int fd;
  char *path;     /* the target */
  char *tmp_path; /* NULL when writing directly */
  size_t path_size, tmp_size;
  const gf_allocator *alloc;
  bool discard_on_abort;
} gfi_atomic_file;

/* Creates the temporary file (mkstemp) next to `path`. GF_EIO with
 * "PATH: strerror" when the directory is not writable, GF_ENOMEM. */
gf_status gfi_atomic_file_open(const char *path, const gf_allocator *a,
                               gfi_atomic_file *f, gf_error *err);
/* Writes all bytes (retrying short writes and EINTR); GF_EIO with the path
 * and strerror (ENOSPC, EIO...) otherwise. */
gf_status gfi_atomic_file_write(gfi_atomic_file *f, const void *data,
                                size_t len, gf_error *err);
/* Gives the file its final mode (the old file's, else 0666 & ~umask),
 * closes it and renames it over the target. On failure the temporary file
 * is removed. Always releases `f`. */
gf_status gfi_atomic_file_commit(gfi_atomic_file *f, gf_error *err);
/* Closes and removes the temporary file; releases `f`. Safe to call again,
 * after commit, and after a failed open. */
void gfi_atomic_file_abort(gfi_atomic_file *f);

/* Same as gfi_atomic_file_write with the text-sink signature (`file` is a
 * gfi_atomic_file), for gfi_format_rows_ordered and similar producers. */
gf_status gfi_atomic_file_sink(void *file, const char *data, size_t len,
                               gf_error *err);

#endif /* GF_IO_ATOMIC_FILE_H */
