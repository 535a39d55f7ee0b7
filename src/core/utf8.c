/*
 * UTF-8 validation (RFC 3629). Text columns are mostly ASCII, so runs of
 * ASCII are skipped eight bytes per load; multi-byte sequences are checked
 * with the per-lead-byte ranges of the second byte (Unicode Table 3-7),
 * which rules out overlongs, surrogates and code points past U+10FFFF
 * without decoding.
 */
#include <string.h>

#include "core/utf8.h"

#define ASCII_HIGH_BITS UINT64_C(0x8080808080808080)

/* See utf8.h. */
int64_t gfi_utf8_error_at(const uint8_t *s, int64_t n) {
  int64_t i = 0;
  while (i < n) {
    /* memcpy: s has no alignment guarantee and may be imported memory. */
    while (n - i >= 8) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if (w & ASCII_HIGH_BITS) break;
      i += 8;
    }
    if (i >= n) break;
    uint8_t c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    int tail;           /* continuation bytes after the lead byte */
    uint8_t lo = 0x80;  /* allowed range of the second byte */
    uint8_t hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      tail = 1; /* 0xC0, 0xC1 would only start overlongs */
    } else if (c >= 0xE0 && c <= 0xEF) {
      tail = 2;
      if (c == 0xE0) lo = 0xA0; /* below: overlong */
      if (c == 0xED) hi = 0x9F; /* above: surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
      tail = 3;
      if (c == 0xF0) lo = 0x90; /* below: overlong */
      if (c == 0xF4) hi = 0x8F; /* above: past U+10FFFF */
    } else {
      return i; /* a continuation byte, or 0xC0, 0xC1, 0xF5..0xFF */
    }
    if (n - i <= tail) return i;
    if (s[i + 1] < lo || s[i + 1] > hi) return i;
    for (int k = 2; k <= tail; k++)
      if ((s[i + k] & 0xC0) != 0x80) return i;
    i += tail + 1;
  }
  return -1;
}
