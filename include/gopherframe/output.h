/*
 * gopherframe/output.h - writing text files the way the library's writers
 * do: replaced atomically, with rows formatted in parallel and emitted in
 * order. For programs that produce their own text formats (the gf tool's
 * data generators). Part of <gopherframe.h>; include that instead.
 */
#ifndef GOPHERFRAME_OUTPUT_H
#define GOPHERFRAME_OUTPUT_H

#include "core.h"
#include "exec.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A file being written under a temporary name in its target's directory and
 * renamed over the target by gf_output_file_commit, so readers never see a
 * half-written file and a failed write leaves an existing file as it was.
 * Targets that are not regular files (a FIFO, /dev/stdout, a terminal) are
 * written directly. Owned by one thread at a time.
 */
typedef struct gf_output_file gf_output_file;

/** Creates the temporary file next to `path` (GF_EIO "PATH: reason" when
 * that directory is not writable; GF_ENOMEM). `a` NULL = default. */
GF_API gf_status gf_output_file_open(const char *path, const gf_allocator *a,
                                     gf_output_file **out, gf_error *err);
/** Writes all `len` bytes (GF_EIO with the path and the reason otherwise:
 * disk full, I/O error). */
GF_API gf_status gf_output_file_write(gf_output_file *f, const void *data,
                                      size_t len, gf_error *err);
/** Gives the file its final mode (the replaced file's, else 0666 & ~umask)
 * and renames it over the target; on failure the temporary file is
 * removed. Always frees `f`. */
GF_API gf_status gf_output_file_commit(gf_output_file *f, gf_error *err);
/** Removes the temporary file and frees `f` (the target is untouched).
 * Accepts NULL. */
GF_API void gf_output_file_abort(gf_output_file *f);

/** Text being produced by one chunk kernel of gf_format_rows_ordered. */
typedef struct gf_text_buffer gf_text_buffer;

/** Room for at least `n` more bytes: returns where to write them, or NULL
 * (with GF_ENOMEM in `err`) when memory runs out. The pointer is valid
 * until the next reserve. */
GF_API char *gf_text_buffer_reserve(gf_text_buffer *b, size_t n, gf_error *err);
/** Marks `n` bytes written at the last reserved position as text
 * (n <= the reserved room). */
GF_API void gf_text_buffer_advance(gf_text_buffer *b, size_t n);

/** Formats rows [start_row, end_row) into `out`. Runs on runtime workers,
 * several chunks at once: it must only read shared state. */
typedef gf_status (*gf_rows_text_fn)(void *user, int64_t start_row,
                                     int64_t end_row, gf_text_buffer *out,
                                     gf_task_ctx *ctx);
/** Receives finished text in row order, on the calling thread. */
typedef gf_status (*gf_text_sink_fn)(void *sink, const char *data, size_t len,
                                     gf_error *err);

/**
 * Cuts rows [0, total_rows) into chunks with the runtime's planner
 * (`bytes_per_row` is a typical row's size), formats them in parallel in
 * waves of a few chunks per worker, and hands each wave's text to `sink` in
 * row order. The output is identical for any worker count, strategy and
 * chunk size (as long as `fn` depends only on its rows), and memory stays
 * bounded by one wave. Returns the first error of a kernel or the sink, or
 * GF_ECANCELED, GF_ETIMEDOUT, GF_ENOMEM.
 */
GF_API gf_status gf_format_rows_ordered(int64_t total_rows, int64_t bytes_per_row,
                                        gf_rows_text_fn fn, void *user,
                                        gf_text_sink_fn sink, void *sink_user,
                                        const gf_parallel_options *opts,
                                        gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_OUTPUT_H */
