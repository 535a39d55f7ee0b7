/* Spilled frames as Arrow IPC streams (ipc_spill.h). */
#include "io/ipc_spill.h"

#include "io/ipc_internal.h"

gf_status gfi_spill_write_frame(gfi_spill_file *file, const gf_frame *f,
                                const gf_parallel_options *o, gfi_spill_block *out,
                                gf_error *err) {
  gf_ipc_write_options w;
  gf_ipc_write_options_init(&w);
  /* LZ4 is cheap enough to pay for itself against disk bandwidth; without
   * it the body is written as it is. */
  if (gfi_ipc_codec_available(CODEC_LZ4_FRAME)) w.compression = GF_IPC_COMPRESSION_LZ4_FRAME;
  w.parallel = o;
  void *bytes = NULL;
  size_t len = 0;
  GF_RETURN_NOT_OK(gf_write_ipc_memory(f, false, &w, &bytes, &len, err));
  int64_t off = 0;
  gf_status st = gfi_spill_file_append(file, bytes, len, &off, err);
  gf_mem_free(bytes);
  if (st != GF_OK) return st;
  *out = (gfi_spill_block){off, (int64_t)len, gf_frame_num_rows(f)};
  return GF_OK;
}

gf_status gfi_spill_read_frame(gfi_spill_file *file, const gfi_spill_block *b,
                               const gf_parallel_options *o, gf_frame **out, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  size_t n = (size_t)b->bytes;
  void *p = gfi_malloc(a, n ? n : 1);
  if (!p) return GF_OOM(err, "a spilled block");
  gf_status st = gfi_spill_file_read(file, b->offset, p, n, err);
  if (st == GF_OK) {
    gf_ipc_read_options r;
    gf_ipc_read_options_init(&r);
    /* Our own bytes, just written: sizes are still checked, bodies not. */
    r.validation = GF_IPC_VALIDATE_METADATA_ONLY;
    r.parallel = o;
    st = gf_read_ipc_stream_buffer(p, n, &r, out, err);
  }
  gfi_mfree(a, p, n ? n : 1);
  return st;
}
