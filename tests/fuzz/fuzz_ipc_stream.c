/* libFuzzer target: arbitrary bytes read as an Arrow IPC stream. Any result
 * is fine except a crash, a hang, a leak or a sanitizer report. Seed
 * corpus: tests/fuzz/corpus/ipc/. The custom mutator (ipc_mutator.h)
 * overwrites row counts and buffer lengths with hostile values. */
#include <stddef.h>
#include <stdint.h>

#include "gopherframe.h"
#include "ipc_mutator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gf_frame *f = NULL;
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = 1;
  gf_ipc_read_options o;
  gf_ipc_read_options_init(&o);
  o.parallel = &po;
  if (gf_read_ipc_stream_buffer(data, size, &o, &f, NULL) == GF_OK) {
    /* Touch the values so invalid layouts that slipped through show: all
     * of them, or the first and last 4,096 of an array that claims more
     * (a buffer-less null column may validly claim 2^62 rows). */
    char buf[64];
    for (int b = 0; b < gf_frame_num_batches(f); b++)
      for (int c = 0; c < gf_frame_num_columns(f); c++) {
        const gf_array *a = gf_frame_column(f, b, c);
        int64_t n = gf_array_length(a);
        for (int64_t i = 0; i < n; i++) {
          if (i == 4096 && n > 8192) i = n - 4096;
          gf_array_format_value(a, i, buf, sizeof buf);
        }
      }
    gf_frame_release(f);
  }
  return 0;
}
