/*
 * An Arrow IPC file as a source of record batches (not installed).
 *
 * Opening costs the metadata only: the magic, the footer and the schema
 * (verified in full), and the metadata flatbuffer of every block (verified,
 * body range checked, row count recorded); no body byte is read. A batch
 * is decoded, fully validated (as the open options' validation level says:
 * every buffer checked before anything sees it) and given statistics when
 * it is read; a dictionary when the first batch using it is read. Errors
 * of a batch are those of gf_read_ipc_file on the same file, prefixed with
 * "IPC file record batch K of N: " (they name the byte offset of the
 * message too); gf_read_ipc_file is this source read whole, batches in
 * parallel.
 *
 * Thread safety: after open, every function may be called from several
 * threads at once; read_batch concurrently for the same or different
 * batches (dictionaries are loaded once, under a lock). Close only when no
 * other call is running.
 */
#ifndef GF_IO_IPC_SOURCE_H
#define GF_IO_IPC_SOURCE_H

#include "core/core_internal.h"

typedef struct gfi_ipc_source gfi_ipc_source;

/* Opens `path` (mapped, or read whole with o->input_mode GF_INPUT_READ).
 * `o` may be NULL; its validation level applies to every batch read, its
 * metadata pointer (when set) receives the schema's custom metadata, and
 * its parallel options' allocator (NULL = default) holds the source, its
 * dictionaries and the arrays of batches read without options of their
 * own; their token and deadline bound the open only. Malformed metadata
 * fails here with GF_EINVAL and the byte offset, unsupported types with
 * GF_ENOTSUP, as gf_read_ipc_file. */
gf_status gfi_ipc_source_open(const char *path, const gf_ipc_read_options *o,
                              gfi_ipc_source **out, gf_error *err);
/* The same over an input buffer (consumed, also on failure). */
gf_status gfi_ipc_source_open_buffer(gf_buffer *whole, const gf_ipc_read_options *o,
                                     gfi_ipc_source **out, gf_error *err);

/* The file's schema (borrowed, valid until close). Utf8View/BinaryView
 * columns are utf8/binary here. */
const gf_schema *gfi_ipc_source_schema(const gfi_ipc_source *s);
int gfi_ipc_source_num_batches(const gfi_ipc_source *s);
/* Rows of batch i as its metadata records them (a batch whose columns
 * disagree fails when read), and the row offset of its first row. */
int64_t gfi_ipc_source_batch_rows(const gfi_ipc_source *s, int i);
int64_t gfi_ipc_source_batch_offset(const gfi_ipc_source *s, int i);
/* Sum of all batches' recorded rows. */
int64_t gfi_ipc_source_num_rows(const gfi_ipc_source *s);

/* Reads batch i as a one-batch frame of the columns `cols[0..ncols)`
 * (distinct indexes into the schema, in that order; NULL = all columns):
 * only those columns' buffers are touched, decoded and validated, with
 * statistics. `par` (NULL = none) gives the read's allocator (NULL = the
 * source's), token, deadline and memory limit; loaded options of an
 * enclosing call keep that call's. A view column (Utf8View/BinaryView in
 * the file) whose strings in this batch exceed 2^31-1 bytes fails with
 * GF_ENOTSUP (gf_read_ipc_file widens the whole column instead). The
 * same batch may be read any number of times (each read validates anew). */
gf_status gfi_ipc_source_read_batch(gfi_ipc_source *s, int i, const int *cols,
                                    int ncols, const gf_parallel_options *par,
                                    gf_frame **out, gf_error *err);

/* Reads every batch, all columns, into one frame exactly as
 * gf_read_ipc_file does: dictionaries first in footer order, then the
 * batches decoded in parallel on the runtime (`par`, loaded or not); the
 * error reported is that of the lowest failing batch whatever the worker
 * count. View columns of which a batch came out large are widened. */
gf_status gfi_ipc_source_read_all(gfi_ipc_source *s, const gf_parallel_options *par,
                                  gf_frame **out, gf_error *err);
/* The same over the first batches only: those holding the first
 * `max_rows` rows (all when max_rows <= 0); the frame is not cut. */
gf_status gfi_ipc_source_read_first(gfi_ipc_source *s, int64_t max_rows,
                                    const gf_parallel_options *par, gf_frame **out,
                                    gf_error *err);

/* Hands the source (owned from then on, also on failure) to an
 * ArrowArrayStream: get_next reads batch 0, 1, ... with all columns
 * (decoded and validated as read_batch does; a failed batch reports
 * read_batch's error text through get_last_error and stays next); the
 * stream's release closes the source. Not thread-safe (one consumer). */
struct ArrowArrayStream;
gf_status gfi_ipc_source_export_stream(gfi_ipc_source *s, struct ArrowArrayStream *out,
                                       gf_error *err);

/* Releases the source (arrays read from it stay valid). NULL allowed. */
void gfi_ipc_source_close(gfi_ipc_source *s);

#endif /* GF_IO_IPC_SOURCE_H */
