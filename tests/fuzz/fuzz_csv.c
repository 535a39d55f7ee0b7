/* libFuzzer target: the CSV reader. The first two input bytes choose reader
 * options (delimiter, header, quoting, escape, comment, bad-value handling,
 * dictionary, row limit); the rest is the CSV text. Each input is read at 1
 * worker with default chunking and at 2 workers cut into tiny chunks (a few
 * rows each), and the two results must agree exactly: same status, and on
 * success equal frames. Any disagreement aborts (a determinism bug), as does
 * a crash or sanitizer report. Seed corpus: tests/fuzz/corpus/csv/. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gopherframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fills `o` from the two option bytes `b0`, `b1`. Kept total (every byte
 * value maps to valid options) so the fuzzer spends no time on rejects. */
static void options_from_bytes(uint8_t b0, uint8_t b1, gf_csv_read_options *o) {
  static const char delims[] = {0, ',', ';', '\t', '|', 0, ',', ' '};
  static const char *const nulls[] = {"", "NA", "-"};
  gf_csv_read_options_init(o);
  o->delimiter = delims[b0 & 7];
  o->header = (int)((b0 >> 3) % 3) - 1; /* -1 detect, 0 none, 1 header */
  o->no_quoting = (b0 & 0x20) != 0;
  if (b0 & 0x40) o->escape = '\\';
  if (b0 & 0x80) o->comment = '#';
  o->bad_value = (b1 & 1) ? GF_CSV_BAD_VALUE_NULL : GF_CSV_BAD_VALUE_ERROR;
  o->no_dictionary = (b1 & 2) != 0;
  if (b1 & 4) o->max_rows = 1 + ((b1 >> 5) & 3);
  if (b1 & 8) {
    o->null_values = nulls;
    o->num_null_values = 3;
  }
  if (b1 & 16) o->skip_rows = 1;
  if ((b1 & 0x80) && !(b1 & 0x40)) o->quote = '\'';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  gf_csv_read_options o;
  options_from_bytes(data[0], data[1], &o);
  const char *text = (const char *)data + 2;
  size_t len = size - 2;

  gf_parallel_options p1;
  gf_parallel_options_init(&p1);
  p1.num_workers = 1;
  o.parallel = &p1;
  gf_frame *f1 = NULL;
  gf_error e1;
  gf_status s1 = gf_read_csv_buffer(text, len, "fuzz.csv", &o, &f1, &e1);

  gf_parallel_options p2;
  gf_parallel_options_init(&p2);
  p2.num_workers = 2;
  p2.chunk_rows = 1 + (data[1] >> 6);
  p2.min_parallel_rows = 1;
  p2.strategy = GF_STRATEGY_FIXED_CHUNKS;
  o.parallel = &p2;
  gf_frame *f2 = NULL;
  gf_error e2;
  gf_status s2 = gf_read_csv_buffer(text, len, "fuzz.csv", &o, &f2, &e2);

  if (s1 != s2) {
    fprintf(stderr, "status differs: 1 worker %d (%s), 2 workers %d (%s)\n",
            (int)s1, s1 ? e1.message : "", (int)s2, s2 ? e2.message : "");
    abort();
  }
  if (s1 == GF_OK) {
    if (!gf_frame_equals(f1, f2)) {
      fprintf(stderr, "frames differ between 1 and 2 workers\n");
      abort();
    }
    /* Every value must be readable and the layout valid. */
    char buf[64];
    for (int b = 0; b < gf_frame_num_batches(f1); b++)
      for (int c = 0; c < gf_frame_num_columns(f1); c++) {
        const gf_array *a = gf_frame_column(f1, b, c);
        if (gf_array_validate(a, true, NULL) != GF_OK) abort();
        for (int64_t i = 0; i < gf_array_length(a); i++)
          gf_array_format_value(a, i, buf, sizeof buf);
      }
  }
  gf_frame_release(f1);
  gf_frame_release(f2);
  return 0;
}
