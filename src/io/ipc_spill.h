/*
 * Spilled runs as Arrow IPC: a frame appended to a spill file as one IPC
 * stream (record batches LZ4_FRAME-compressed when the build has liblz4),
 * and read back. The existing writer and reader do the work (through
 * memory); the frame read back equals the frame written. Not installed.
 */
#ifndef GF_IO_IPC_SPILL_H
#define GF_IO_IPC_SPILL_H

#include "exec/spill_file.h"

/* Where one spilled frame lies in its file. */
typedef struct gfi_spill_block {
  int64_t offset;
  int64_t bytes;
  int64_t rows;
} gfi_spill_block;

/* Appends `f` to `file` as an IPC stream; *out tells where. `o` are the
 * call's loaded options (allocator, limit). */
gf_status gfi_spill_write_frame(gfi_spill_file *file, const gf_frame *f,
                                const gf_parallel_options *o, gfi_spill_block *out,
                                gf_error *err);
/* Reads the frame of block `b` back (its memory through o->allocator). */
gf_status gfi_spill_read_frame(gfi_spill_file *file, const gfi_spill_block *b,
                               const gf_parallel_options *o, gf_frame **out, gf_error *err);

#endif /* GF_IO_IPC_SPILL_H */
