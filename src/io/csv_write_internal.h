/*
 * Internal pieces of the CSV writer shared with other text producers (the
 * IPC writer; output.c makes them public for the gf tool): growable text
 * buffers, fast locale-independent number formatting, rows formatted in
 * parallel chunks and emitted in order (files written to a temporary name
 * and renamed on success: atomic_file.h). Not installed.
 */
#ifndef GF_IO_CSV_WRITE_INTERNAL_H
#define GF_IO_CSV_WRITE_INTERNAL_H

#include <string.h>

#include "core/core_internal.h"
#include "io/atomic_file.h"

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

#endif /* GF_IO_CSV_WRITE_INTERNAL_H */
