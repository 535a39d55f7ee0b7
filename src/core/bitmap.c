/* Validity/boolean bitmaps in Arrow's LSB bit order, at any bit offset. */
#include <string.h>

#include "core/core_internal.h"

/* Set bits in [offset, offset+length): per-bit at the unaligned ends,
 * 64 bits at a time in between. */
int64_t gfi_bitmap_count(const uint8_t *bits, int64_t offset, int64_t length) {
  int64_t count = 0, i = offset, end = offset + length;
  while (i < end && (i & 7)) count += gfi_bit_get(bits, i++);
  while (i + 64 <= end) {
    uint64_t w;
    memcpy(&w, bits + (i >> 3), 8);
    count += __builtin_popcountll(w);
    i += 64;
  }
  while (i + 8 <= end) {
    count += __builtin_popcount(bits[i >> 3]);
    i += 8;
  }
  while (i < end) count += gfi_bit_get(bits, i++);
  return count;
}

/* Copies bits; byte-wise memcpy when both offsets are byte-aligned. */
void gfi_bitmap_copy(uint8_t *dst, int64_t dst_offset, const uint8_t *src,
                     int64_t src_offset, int64_t length) {
  if (length <= 0) return;
  if (((dst_offset | src_offset) & 7) == 0) {
    int64_t whole = length >> 3;
    memcpy(dst + (dst_offset >> 3), src + (src_offset >> 3), (size_t)whole);
    for (int64_t i = whole * 8; i < length; i++)
      gfi_bit_put(dst, dst_offset + i, gfi_bit_get(src, src_offset + i));
    return;
  }
  for (int64_t i = 0; i < length; i++)
    gfi_bit_put(dst, dst_offset + i, gfi_bit_get(src, src_offset + i));
}

/* Sets bits [offset, offset+length) to 1: per-bit at the unaligned ends,
 * whole bytes with memset in between. */
void gfi_bitmap_set_range(uint8_t *bits, int64_t offset, int64_t length) {
  int64_t i = offset, end = offset + length;
  while (i < end && (i & 7)) gfi_bit_set(bits, i++);
  if (end - i >= 8) {
    int64_t nbytes = (end - i) >> 3;
    memset(bits + (i >> 3), 0xff, (size_t)nbytes);
    i += nbytes * 8;
  }
  while (i < end) gfi_bit_set(bits, i++);
}
