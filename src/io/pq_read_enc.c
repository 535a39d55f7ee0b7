/* Parquet value encodings shared by the page decoder: LEB128, the
 * RLE/bit-packed hybrid (levels, dictionary indices, booleans) and
 * DELTA_BINARY_PACKED (also the length streams of the DELTA byte-array
 * encodings). Every read is checked against the page's end. */
#include <string.h>

#include "io/pq_read_internal.h"

gf_status gfi_pq_bad(const pq_in *in, const char *what) {
  return gf_error_set(in->err, GF_EINVAL, "%s: %s", in->where, what);
}

gf_status gfi_pq_uleb(pq_in *in, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in->p >= in->end) return gfi_pq_bad(in, "truncated varint");
    uint8_t b = *in->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return GF_OK;
    }
  }
  return gfi_pq_bad(in, "varint longer than 10 bytes");
}

/* Reads `bw` bits (<= 64) at bit position `bit` of p (LSB first). The
 * caller guarantees the bytes exist. */
static inline uint64_t get_bits(const uint8_t *p, uint64_t bit, int bw) {
  if (bw == 0) return 0;
  const uint8_t *q = p + (bit >> 3);
  int shift = (int)(bit & 7);
  int nbytes = (shift + bw + 7) >> 3;
  uint64_t lo = 0;
  int first = nbytes > 8 ? 8 : nbytes;
  for (int i = 0; i < first; i++) lo |= (uint64_t)q[i] << (8 * i);
  uint64_t v = lo >> shift;
  if (nbytes > 8) v |= (uint64_t)q[8] << (64 - shift);
  return bw == 64 ? v : v & (((uint64_t)1 << bw) - 1);
}

/* Unpacks 8 values of bw (1..8) bits from the 8 bytes at p (of which bw
 * are theirs) into o; returns the OR of the values (a cheap upper bound
 * check's input). */
static inline uint32_t unpack8_small(const uint8_t *p, int bw, uint32_t *o) {
  uint64_t w;
  memcpy(&w, p, 8);
  uint64_t mask = ((uint64_t)1 << bw) - 1;
  uint32_t acc = 0;
  for (int j = 0; j < 8; j++) {
    uint32_t v = (uint32_t)((w >> (j * bw)) & mask);
    o[j] = v;
    acc |= v;
  }
  return acc;
}

/* Largest of n values (n > 0). */
static uint32_t max_of(const uint32_t *v, uint64_t n) {
  uint32_t m = 0;
  for (uint64_t i = 0; i < n; i++) m = v[i] > m ? v[i] : m;
  return m;
}

gf_status gfi_pq_rle_count(const pq_in *in0, int bit_width, int64_t max, int64_t *n) {
  if (bit_width < 0 || bit_width > 32) return gfi_pq_bad(in0, "RLE bit width over 32");
  pq_in in = *in0;
  int64_t got = 0;
  int vbytes = (bit_width + 7) / 8;
  while (got < max && in.p < in.end) {
    uint64_t h = 0;
    GF_RETURN_NOT_OK(gfi_pq_uleb(&in, &h));
    uint64_t k, bytes;
    if (h & 1) {
      uint64_t groups = h >> 1;
      if (groups > (uint64_t)INT64_MAX / 8) return gfi_pq_bad(in0, "RLE run too long");
      k = groups * 8;
      bytes = groups * (uint64_t)bit_width;
      /* A cut last run holds what its bytes hold. */
      uint64_t left = (uint64_t)(in.end - in.p);
      if (bytes > left) {
        k = bit_width ? left * 8 / (uint64_t)bit_width : k;
        bytes = left;
      }
    } else {
      k = h >> 1;
      bytes = (uint64_t)vbytes;
      if (bytes > (uint64_t)(in.end - in.p)) break;
    }
    in.p += bytes;
    got = k > (uint64_t)(max - got) ? max : got + (int64_t)k;
  }
  *n = got;
  return GF_OK;
}

bool gfi_pq_rle_all(const pq_in *in0, int bit_width, int64_t count, uint32_t value) {
  if (bit_width < 1 || bit_width > 32) return false;
  pq_in in = *in0;
  int vbytes = (bit_width + 7) / 8;
  int64_t got = 0;
  while (got < count) {
    uint64_t h = 0;
    if (gfi_pq_uleb(&in, &h) != GF_OK || (h & 1) || in.end - in.p < vbytes) return false;
    uint32_t v = 0;
    for (int i = 0; i < vbytes; i++) v |= (uint32_t)in.p[i] << (8 * i);
    in.p += vbytes;
    if (v != value) return false;
    uint64_t n = h >> 1;
    got = n >= (uint64_t)(count - got) ? count : got + (int64_t)n;
  }
  return true;
}

gf_status gfi_pq_rle_decode(pq_in *in, int bit_width, int64_t count, uint32_t limit,
                        uint32_t *out) {
  if (bit_width < 0 || bit_width > 32) return gfi_pq_bad(in, "RLE bit width over 32");
  int64_t got = 0;
  int vbytes = (bit_width + 7) / 8;
  while (got < count) {
    uint64_t h = 0;
    GF_RETURN_NOT_OK(gfi_pq_uleb(in, &h));
    if (h & 1) {
      uint64_t groups = h >> 1;
      if (groups == 0) continue;
      if (groups > (uint64_t)INT64_MAX / 8) return gfi_pq_bad(in, "RLE run too long");
      uint64_t nvals = groups * 8;
      uint64_t take = nvals < (uint64_t)(count - got) ? nvals : (uint64_t)(count - got);
      uint64_t need_bytes = (take * (uint64_t)bit_width + 7) / 8;
      uint64_t run_bytes = groups * (uint64_t)bit_width;
      if (need_bytes > (uint64_t)(in->end - in->p))
        return gfi_pq_bad(in, "bit-packed run past the end of the data");
      /* Whole 8-byte loads while they stay inside the data. */
      uint64_t avail = (uint64_t)(in->end - in->p), mask = ((uint64_t)1 << bit_width) - 1;
      uint64_t i = 0, bit = 0;
      uint32_t bad_v = 0;
      if (bit_width > 0 && bit_width <= 8) {
        /* Groups of 8 values fill bit_width bytes: one load each. */
        uint32_t mx = 0;
        uint32_t *o = out + got;
        for (; i + 8 <= take && (bit >> 3) + 8 <= avail; i += 8, bit += 8 * (uint64_t)bit_width)
          mx |= unpack8_small(in->p + (bit >> 3), bit_width, o + i);
        if (limit && i && mx >= limit) bad_v |= max_of(o, i) >= limit;
      }
      for (; i < take && (bit >> 3) + 8 <= avail; i++, bit += (uint64_t)bit_width) {
        uint64_t w;
        memcpy(&w, in->p + (bit >> 3), 8);
        uint32_t v = (uint32_t)((w >> (bit & 7)) & mask);
        bad_v |= limit && v >= limit;
        out[got + (int64_t)i] = v;
      }
      for (; i < take; i++, bit += (uint64_t)bit_width) {
        uint32_t v = (uint32_t)get_bits(in->p, bit, bit_width);
        bad_v |= limit && v >= limit;
        out[got + (int64_t)i] = v;
      }
      if (bad_v) return gfi_pq_bad(in, "value out of range (index or level)");
      got += (int64_t)take;
      /* Writers may cut the padding of the last run: clamp. */
      in->p += run_bytes < (uint64_t)(in->end - in->p) ? run_bytes
                                                       : (uint64_t)(in->end - in->p);
    } else {
      uint64_t n = h >> 1;
      if (in->end - in->p < vbytes) return gfi_pq_bad(in, "truncated RLE run value");
      uint32_t v = 0;
      for (int i = 0; i < vbytes; i++) v |= (uint32_t)in->p[i] << (8 * i);
      in->p += vbytes;
      if (bit_width < 32 && v >> bit_width) return gfi_pq_bad(in, "RLE run value wider than the bit width");
      if (limit && v >= limit && n) return gfi_pq_bad(in, "value out of range (index or level)");
      uint64_t take = n < (uint64_t)(count - got) ? n : (uint64_t)(count - got);
      for (uint64_t i = 0; i < take; i++) out[got + (int64_t)i] = v;
      got += (int64_t)take;
    }
  }
  return GF_OK;
}

/* Zigzag-encoded signed varint. */
static gf_status zigzag(pq_in *in, int64_t *out) {
  uint64_t u = 0;
  GF_RETURN_NOT_OK(gfi_pq_uleb(in, &u));
  *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
  return GF_OK;
}

gf_status gfi_pq_delta_decode(pq_in *in, int64_t *out, int64_t count,
                          int64_t *total) {
  uint64_t block = 0, nmini = 0, tot = 0; /* set by gfi_pq_uleb on GF_OK */
  int64_t first;
  GF_RETURN_NOT_OK(gfi_pq_uleb(in, &block));
  GF_RETURN_NOT_OK(gfi_pq_uleb(in, &nmini));
  GF_RETURN_NOT_OK(gfi_pq_uleb(in, &tot));
  GF_RETURN_NOT_OK(zigzag(in, &first));
  if (block == 0 || block % 128 || nmini == 0 || block % nmini ||
      (block / nmini) % 32 || block > (1u << 20))
    return gfi_pq_bad(in, "DELTA_BINARY_PACKED header has an invalid block size");
  if (tot > (uint64_t)INT32_MAX) return gfi_pq_bad(in, "DELTA_BINARY_PACKED count too large");
  if (total) *total = (int64_t)tot;
  if (count < 0) count = (int64_t)tot;
  if ((uint64_t)count > tot) return gfi_pq_bad(in, "DELTA_BINARY_PACKED has fewer values than the page");
  if (!out) {
    /* Only the header was wanted: rewinding is the caller's business. */
    return GF_OK;
  }
  if (count == 0) return GF_OK;
  uint64_t per_mini = block / nmini;
  uint64_t prev = (uint64_t)first;
  out[0] = first;
  int64_t got = 1;
  while (got < count) {
    int64_t min_delta;
    GF_RETURN_NOT_OK(zigzag(in, &min_delta));
    if ((uint64_t)(in->end - in->p) < nmini) return gfi_pq_bad(in, "truncated DELTA_BINARY_PACKED block");
    const uint8_t *widths = in->p;
    in->p += nmini;
    for (uint64_t m = 0; m < nmini && got < count; m++) {
      int bw = widths[m];
      if (bw > 64) return gfi_pq_bad(in, "DELTA_BINARY_PACKED bit width over 64");
      uint64_t bytes = per_mini * (uint64_t)bw / 8;
      if (bytes > (uint64_t)(in->end - in->p)) {
        /* The last miniblock may be cut to the values it holds. */
        uint64_t left = (uint64_t)(count - got);
        if (left > per_mini || (left * (uint64_t)bw + 7) / 8 > (uint64_t)(in->end - in->p))
          return gfi_pq_bad(in, "truncated DELTA_BINARY_PACKED miniblock");
        bytes = (uint64_t)(in->end - in->p);
      }
      uint64_t take = per_mini < (uint64_t)(count - got) ? per_mini : (uint64_t)(count - got);
      for (uint64_t i = 0; i < take; i++) {
        prev += (uint64_t)min_delta + get_bits(in->p, i * (uint64_t)bw, bw);
        out[got++] = (int64_t)prev;
      }
      in->p += bytes;
    }
  }
  return GF_OK;
}
