/*
 * Internal pieces of the CSV writer shared with other text producers (the
 * gf tool's data generator): growable text buffers, fast locale-independent
 * number formatting, rows formatted in parallel chunks and emitted in order,
 * and files written to a temporary name and renamed on success.
 * Not installed.
 */
#ifndef GF_IO_CSV_WRITE_INTERNAL_H
#define GF_IO_CSV_WRITE_INTERNAL_H

#include <string.h>

#include "core/core_internal.h"

/* ---- text buffers ------------------------------------------------------ */

/* A growable byte buffer owned by one thread at a time. `alloc` is where
 * `data` lives (NULL before the first allocation). */
typedef struct gfi_textbuf {
  char *data;
  size_t len, cap;
  const gf_allocator *alloc;
} gfi_textbuf;

/* Makes room for `extra` more bytes, allocating from b->alloc (the default
 * allocator when NULL). GF_ENOMEM (with a message) when that fails; the
 * buffer is then unchanged. */
gf_status gfi_textbuf_grow(gfi_textbuf *b, size_t extra, gf_error *err);

/* Fast path of gfi_textbuf_grow. */
static inline gf_status gfi_textbuf_reserve(gfi_textbuf *b, size_t extra,
                                            gf_error *err) {
  return b->cap - b->len >= extra ? GF_OK : gfi_textbuf_grow(b, extra, err);
}

/* Appends bytes; room must have been reserved. */
static inline void gfi_textbuf_put(gfi_textbuf *b, const char *p, size_t n) {
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

/* Frees the memory and resets the buffer to empty (alloc kept). */
void gfi_textbuf_free(gfi_textbuf *b);

/* ---- numbers --------------------------------------------------------- */

/* Decimal digits of v written at p (at most 20 bytes); returns the count. */
int gfi_put_u64(char *p, uint64_t v);
/* Same with a leading '-' for negatives (at most 20 bytes). */
int gfi_put_i64(char *p, int64_t v);
/* Shortest round-trip text of v, the same text gfi_format_double gives, but
 * through a fast exact path for values with few decimals. `p` must have
 * room for 32 bytes; returns the length. */
int gfi_put_double(char *p, double v);

/* ---- ordered parallel formatting -------------------------------------- */

/* Formats rows [start_row, end_row) as text appended to `out`. Called on
 * runtime workers, several chunks at once; must only read shared state. */
typedef gf_status (*gfi_text_chunk_fn)(void *user, int64_t start_row,
                                       int64_t end_row, gfi_textbuf *out,
                                       gf_task_ctx *ctx);
/* Receives finished text in row order, on the calling thread. */
typedef gf_status (*gfi_text_sink_fn)(void *sink, const char *data, size_t len,
                                      gf_error *err);

/* Cuts [0, total_rows) into chunks with the runtime's planner (opts),
 * formats them in parallel waves of a few chunks per worker through
 * gf_run_chunks, and hands each wave's text to `sink` in row order, so the
 * output is identical for any worker count, strategy and chunk size while
 * memory stays bounded by one wave. Returns the first error (kernel, sink,
 * GF_ECANCELED, GF_ETIMEDOUT, GF_ENOMEM). */
gf_status gfi_format_rows_ordered(int64_t total_rows, int64_t bytes_per_row,
                                  gfi_text_chunk_fn fn, void *user,
                                  gfi_text_sink_fn sink, void *sink_user,
                                  const gf_parallel_options *opts,
                                  gf_error *err);

/* ---- files replaced atomically ---------------------------------------- */

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

/* gfi_text_sink_fn writing to a gfi_atomic_file. */
gf_status gfi_atomic_file_sink(void *file, const char *data, size_t len,
                               gf_error *err);

#endif /* GF_IO_CSV_WRITE_INTERNAL_H */
