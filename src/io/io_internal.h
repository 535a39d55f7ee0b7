/*
 * Internal I/O helpers shared by the file readers and writers (not
 * installed): read-only memory-mapped (or read) files, and the file
 * observer's report of temporary output files.
 */
#ifndef GF_IO_INTERNAL_H
#define GF_IO_INTERNAL_H

#include "core/core_internal.h"

/* A read-only view of a whole file: memory-mapped when the file is a
 * regular non-empty file, read into memory otherwise (pipes, character
 * devices). Refcounted: buffers made by gfi_mapped_file_buffer hold a
 * reference, so the mapping lives as long as the last of them. */
typedef struct gfi_mapped_file gfi_mapped_file;

/* Opens and maps `path`. The struct (and the copy of unmappable files) is
 * allocated from `a` (NULL = default). An empty file succeeds with size 0
 * and a non-NULL data pointer. Failures are GF_EIO with "PATH: strerror",
 * or GF_ENOMEM. */
gf_status gfi_mapped_file_open(const char *path, const gf_allocator *a,
                               gfi_mapped_file **out, gf_error *err);
/* The same under loaded parallel options `o` (gfi_ctx_load): allocation
 * through o->allocator, and reading a file that cannot be mapped (a pipe,
 * a FIFO, /dev/zero) stops with GF_ECANCELED / GF_ETIMEDOUT within ~100 ms
 * of the token being requested or the call's deadline passing, also while
 * no data arrives. With `mode` GF_INPUT_READ a regular file is not mapped
 * but read with pread into a copy allocated from o->allocator (checking
 * the token and deadline every 16 MiB), so that another process truncating
 * it cannot fault the reader: a file that shrinks while being read is
 * GF_EIO "file changed size while being read". Another mode is GF_EINVAL. */
gf_status gfi_mapped_file_open_with(const char *path, const gf_parallel_options *o,
                                    gf_input_mode mode, gfi_mapped_file **out,
                                    gf_error *err);
/* First byte of the file (never NULL). */
const char *gfi_mapped_file_data(const gfi_mapped_file *m);
/* Size of the file in bytes. */
size_t gfi_mapped_file_size(const gfi_mapped_file *m);
/* Adds a reference; returns m. NULL allowed. */
gfi_mapped_file *gfi_mapped_file_retain(gfi_mapped_file *m);
/* Drops a reference; the last one unmaps and frees. NULL allowed. */
void gfi_mapped_file_release(gfi_mapped_file *m);
/* A buffer viewing [offset, offset+len) of the file without copying; it
 * keeps the mapping alive until released. GF_EINVAL when out of range. */
gf_status gfi_mapped_file_buffer(gfi_mapped_file *m, size_t offset,
                                 size_t len, gf_buffer **out, gf_error *err);

/* Tells the file observer (gf_set_file_observer) that the temporary
 * output file `tmp_path` was created (true) or is gone (false). */
void gfi_observe_temp_file(const char *tmp_path, bool created);

#endif /* GF_IO_INTERNAL_H */
