/*
 * The Arrow IPC writer used incrementally (ipc_write.c): a schema, then
 * record batches as they come, then the end (and a file's footer). The
 * whole-frame writers (gf_write_ipc_file/stream) run through the same code,
 * so a result written batch by batch has the bytes of the collected result
 * written at once, given the same batches and dictionaries. Not installed.
 *
 * Dictionaries (one per column for the whole output, as a collected frame
 * has): when every dictionary column's final dictionary is set before the
 * first batch, they are written before it, in full (the bytes of
 * gf_write_ipc_*). Otherwise each batch's dictionary must extend the
 * previous batch's (codes stable: what the streaming CSV source hands
 * out): a file writes the last (or set) dictionary of each column once,
 * after the last batch, where its footer locates it; a stream writes the
 * first batch's dictionary and then, before a batch that needs them, only
 * the entries added since, as delta DictionaryBatch messages.
 */
#ifndef GF_IO_IPC_WRITE_INTERNAL_H
#define GF_IO_IPC_WRITE_INTERNAL_H

#include "core/core_internal.h"
#include "gopherframe/ipc.h"

typedef struct gfi_ipc_writer gfi_ipc_writer;

/* Opens a writer of `schema`: to `path` through a temporary file in its
 * directory renamed over it by finish (free before finish removes it), or
 * when path is NULL to descriptor `fd` (streams only; not closed). `o`:
 * compression, level, flags, metadata (its `parallel` is ignored); `po`:
 * loaded options of the caller's call (allocator, token, deadline, pool).
 * Nothing is written before the first write or finish. */
gf_status gfi_ipc_writer_open(const gf_schema *schema, const char *path, int fd, bool file,
                              const gf_ipc_write_options *o, const gf_parallel_options *po,
                              gfi_ipc_writer **out, gf_error *err);
/* The frame-wide dictionary of column `col` (retained): before the first
 * write, or for a file whose dictionaries are deferred (see above) before
 * finish (each batch's codes must index it). */
void gfi_ipc_writer_set_dictionary(gfi_ipc_writer *w, int col, gf_array *dict);
/* Appends f's non-empty record batches. */
gf_status gfi_ipc_writer_write(gfi_ipc_writer *w, const gf_frame *f, gf_error *err);
/* Writes what remains (dictionaries, end marker, footer), flushes and,
 * for a path, renames the file into place. */
gf_status gfi_ipc_writer_finish(gfi_ipc_writer *w, gf_error *err);
/* Bytes emitted so far. */
int64_t gfi_ipc_writer_bytes(const gfi_ipc_writer *w);
/* Frees the writer; before a successful finish the temporary file is
 * removed. NULL allowed. */
void gfi_ipc_writer_free(gfi_ipc_writer *w);

#endif /* GF_IO_IPC_WRITE_INTERNAL_H */
