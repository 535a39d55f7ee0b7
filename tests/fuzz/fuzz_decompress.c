/* libFuzzer target: format detection and the whole-file decompressors
 * (include/gopherframe/format.h). The first input byte is the read size of
 * the source (1..256 bytes per call, so signatures and blocks split across
 * reads); the rest is the input. Detection must classify any bytes; the
 * decompressors must end every input with GF_OK or a clean error (never a
 * crash, hang or leak), decoding at most 16 MiB of output per input so
 * decompression bombs stay cheap. Seed corpus: tests/fuzz/corpus/decompress/
 * (small gzip, zstd, lz4 and bzip2 files made by the command-line tools). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gopherframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct src {
  const uint8_t *p;
  size_t len, pos, step;
} src;

static gf_status src_read(void *user, void *buf, size_t cap, size_t *got, gf_error *err) {
  (void)err;
  src *s = user;
  size_t k = s->len - s->pos;
  if (k > cap) k = cap;
  if (k > s->step) k = s->step;
  memcpy(buf, s->p + s->pos, k);
  s->pos += k;
  *got = k;
  return GF_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  src s = {data + 1, size - 1, 0, (size_t)data[0] + 1};
  (void)gf_detect_compression(s.p, s.len);
  (void)gf_describe_binary(s.p, s.len);
  for (int hint = GF_FORMAT_UNKNOWN; hint <= GF_FORMAT_BINARY; hint++)
    (void)gf_detect_format(s.p, s.len, (gf_file_format)hint);
  gf_input *in = NULL;
  gf_error err;
  if (gf_input_open_reader(src_read, &s, "fuzz", NULL, &in, &err) != GF_OK) return 0;
  size_t hl;
  const void *head = gf_input_head(in, &hl);
  (void)gf_detect_format(head, hl, GF_FORMAT_UNKNOWN);
  static uint8_t buf[1 << 16];
  size_t total = 0, got;
  while (total < (16u << 20) && gf_input_read(in, buf, sizeof buf, &got, &err) == GF_OK && got)
    total += got;
  gf_input_close(in);
  return 0;
}
