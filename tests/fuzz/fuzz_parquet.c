/* libFuzzer target: arbitrary bytes read as a Parquet file (footer decoder,
 * page headers, every encoding and codec the build has). Any result is
 * fine except a crash, a hang, a leak or a sanitizer report; a file that
 * reads must give the same frame at 1 and 2 workers, and its values are
 * all touched. A memory limit of 256 MiB holds every read, as it should for
 * untrusted input: a few hundred bytes can legitimately declare (and
 * RLE-encode) hundreds of millions of rows, which must fail with GF_ENOMEM
 * rather than reach malloc (libFuzzer stops at 2 GiB requests; found by
 * the CPU-hour run). Seed corpus: tests/fuzz/corpus/parquet/ (small files from
 * parquet-testing and tests/data/parquet/gen). */
#include <stddef.h>
#include <stdint.h>

#include "gopherframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gf_status read_at(const uint8_t *data, size_t size, int workers, gf_frame **f) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = workers;
  po.min_parallel_rows = 1;
  po.memory_limit = (int64_t)256 << 20;
  gf_parquet_read_options o;
  gf_parquet_read_options_init(&o);
  o.parallel = &po;
  return gf_read_parquet_buffer(data, size, &o, f, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gf_frame *f = NULL;
  if (read_at(data, size, 1, &f) != GF_OK) return 0;
  char buf[64];
  for (int b = 0; b < gf_frame_num_batches(f); b++)
    for (int c = 0; c < gf_frame_num_columns(f); c++) {
      const gf_array *a = gf_frame_column(f, b, c);
      if (gf_array_validate(a, false, NULL) != GF_OK) __builtin_trap();
      int64_t n = gf_array_length(a);
      for (int64_t i = 0; i < n; i++) {
        if (i == 4096 && n > 8192) i = n - 4096;
        gf_array_format_value(a, i, buf, sizeof buf);
      }
    }
  gf_frame *g = NULL;
  if (read_at(data, size, 2, &g) == GF_OK) {
    if (!gf_frame_equals(f, g)) __builtin_trap();
    gf_frame_release(g);
  }
  gf_frame_release(f);
  return 0;
}
