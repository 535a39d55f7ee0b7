/* libFuzzer target: arbitrary bytes read as an Arrow IPC file. Any result
 * is fine except a crash, a hang, a leak or a sanitizer report. Seed
 * corpus: tests/fuzz/corpus/ipc/. */
#include <stddef.h>
#include <stdint.h>

#include "gopherframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gf_frame *f = NULL;
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = 1;
  gf_ipc_read_options o;
  gf_ipc_read_options_init(&o);
  o.parallel = &po;
  if (gf_read_ipc_file_buffer(data, size, &o, &f, NULL) == GF_OK) {
    /* Touch every value so invalid layouts that slipped through show. */
    char buf[64];
    for (int b = 0; b < gf_frame_num_batches(f); b++)
      for (int c = 0; c < gf_frame_num_columns(f); c++) {
        const gf_array *a = gf_frame_column(f, b, c);
        for (int64_t i = 0; i < gf_array_length(a); i++)
          gf_array_format_value(a, i, buf, sizeof buf);
      }
    gf_frame_release(f);
  }
  return 0;
}
