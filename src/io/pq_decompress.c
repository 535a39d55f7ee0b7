/* Page decompression for the Parquet reader. Each codec is optional at
 * build time (GF_HAVE_SNAPPY / ZLIB / BROTLI / LZ4 / ZSTD, from the CMake
 * options GF_WITH_*); a page needing a codec this build lacks is
 * GF_ENOTSUP naming the codec and the option. */
#include <string.h>

#include "io/pq_format.h"

#ifdef GF_HAVE_SNAPPY
#include <snappy-c.h>
#endif
#ifdef GF_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef GF_HAVE_BROTLI
#include <brotli/decode.h>
#endif
#ifdef GF_HAVE_LZ4
#include <lz4.h>
#endif
#ifdef GF_HAVE_ZSTD
#include <zstd.h>
#endif

bool gfi_pq_codec_available(int codec) {
  switch (codec) {
  case GFI_PQ_UNCOMPRESSED: return true;
#ifdef GF_HAVE_SNAPPY
  case GFI_PQ_SNAPPY: return true;
#endif
#ifdef GF_HAVE_ZLIB
  case GFI_PQ_GZIP: return true;
#endif
#ifdef GF_HAVE_BROTLI
  case GFI_PQ_BROTLI: return true;
#endif
#ifdef GF_HAVE_LZ4
  case GFI_PQ_LZ4:
  case GFI_PQ_LZ4_RAW: return true;
#endif
#ifdef GF_HAVE_ZSTD
  case GFI_PQ_ZSTD: return true;
#endif
  default: return false;
  }
}

static const char *codec_option(int codec) {
  switch (codec) {
  case GFI_PQ_SNAPPY: return "GF_WITH_SNAPPY";
  case GFI_PQ_GZIP: return "GF_WITH_ZLIB";
  case GFI_PQ_BROTLI: return "GF_WITH_BROTLI";
  case GFI_PQ_LZ4:
  case GFI_PQ_LZ4_RAW: return "GF_WITH_LZ4";
  case GFI_PQ_ZSTD: return "GF_WITH_ZSTD";
  default: return NULL;
  }
}

static gf_status corrupt(int codec, const char *where, gf_error *err) {
  return gf_error_set(err, GF_EINVAL,
                      "%s: %s data is corrupt or does not decompress to the "
                      "page's uncompressed size",
                      where, gfi_pq_codec_name(codec));
}

#ifdef GF_HAVE_ZLIB
/* GZIP pages: one or more concatenated gzip members (some writers emit
 * several), or a zlib stream, into exactly dst_len bytes. */
static bool gunzip(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len) {
  size_t in_off = 0, out_off = 0;
  while (in_off < n) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) return false; /* gzip or zlib */
    z.next_in = (Bytef *)(uintptr_t)(src + in_off);
    z.avail_in = (uInt)(n - in_off > UINT32_MAX ? UINT32_MAX : n - in_off);
    z.next_out = dst + out_off;
    z.avail_out = (uInt)(dst_len - out_off);
    int r = inflate(&z, Z_FINISH);
    size_t consumed = z.total_in, produced = z.total_out;
    inflateEnd(&z);
    if (r != Z_STREAM_END) return false;
    in_off += consumed;
    out_off += produced;
    if (consumed == 0) return false;
    /* Trailing zero padding after the last member is tolerated. */
    while (in_off < n && src[in_off] == 0) in_off++;
  }
  return out_off == dst_len;
}
#endif

#ifdef GF_HAVE_LZ4
/* Hadoop's LZ4 framing: blocks of [be32 raw size][be32 compressed size]
 * [lz4 block]. Returns false when the data is not in that framing. */
static bool hadoop_lz4(const uint8_t *src, size_t n, uint8_t *dst,
                       size_t dst_len) {
  size_t in = 0, out = 0;
  while (in < n) {
    if (n - in < 8) return false;
    uint32_t raw = (uint32_t)src[in] << 24 | (uint32_t)src[in + 1] << 16 |
                   (uint32_t)src[in + 2] << 8 | src[in + 3];
    uint32_t comp = (uint32_t)src[in + 4] << 24 | (uint32_t)src[in + 5] << 16 |
                    (uint32_t)src[in + 6] << 8 | src[in + 7];
    in += 8;
    if (comp > n - in || raw > dst_len - out || comp > INT32_MAX) return false;
    int got = LZ4_decompress_safe((const char *)src + in, (char *)dst + out,
                                  (int)comp, (int)raw);
    if (got < 0 || (uint32_t)got != raw) return false;
    in += comp;
    out += raw;
  }
  return out == dst_len;
}
#endif

gf_status gfi_pq_decompress(int codec, const uint8_t *src, size_t n,
                            uint8_t *dst, size_t dst_len, const char *where,
                            gf_error *err) {
  if (codec == GFI_PQ_UNCOMPRESSED) {
    if (n != dst_len) return corrupt(codec, where, err);
    if (n) memcpy(dst, src, n);
    return GF_OK;
  }
  if (!gfi_pq_codec_available(codec)) {
    const char *opt = codec_option(codec);
    if (opt)
      return gf_error_set(err, GF_ENOTSUP,
                          "%s: compression codec %s is not available in this "
                          "build (configure with -D%s=ON)",
                          where, gfi_pq_codec_name(codec), opt);
    return gf_error_set(err, GF_ENOTSUP,
                        "%s: compression codec %s (%d) is not supported", where,
                        gfi_pq_codec_name(codec), codec);
  }
  switch (codec) {
#ifdef GF_HAVE_SNAPPY
  case GFI_PQ_SNAPPY: {
    size_t len;
    if (snappy_uncompressed_length((const char *)src, n, &len) != SNAPPY_OK ||
        len != dst_len)
      return corrupt(codec, where, err);
    size_t out_len = dst_len;
    if (snappy_uncompress((const char *)src, n, (char *)dst, &out_len) != SNAPPY_OK ||
        out_len != dst_len)
      return corrupt(codec, where, err);
    return GF_OK;
  }
#endif
#ifdef GF_HAVE_ZLIB
  case GFI_PQ_GZIP:
    return gunzip(src, n, dst, dst_len) ? GF_OK : corrupt(codec, where, err);
#endif
#ifdef GF_HAVE_BROTLI
  case GFI_PQ_BROTLI: {
    size_t out_len = dst_len;
    if (BrotliDecoderDecompress(n, src, &out_len, dst) != BROTLI_DECODER_RESULT_SUCCESS ||
        out_len != dst_len)
      return corrupt(codec, where, err);
    return GF_OK;
  }
#endif
#ifdef GF_HAVE_LZ4
  case GFI_PQ_LZ4:
    /* The deprecated LZ4 codec: Hadoop framing, or (older parquet-cpp)
     * a bare block; tried in that order, as other readers do. */
    if (hadoop_lz4(src, n, dst, dst_len)) return GF_OK;
    /* fall through */
  case GFI_PQ_LZ4_RAW: {
    if (n > INT32_MAX || dst_len > INT32_MAX) return corrupt(codec, where, err);
    int got = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n,
                                  (int)dst_len);
    if (got < 0 || (size_t)got != dst_len) return corrupt(codec, where, err);
    return GF_OK;
  }
#endif
#ifdef GF_HAVE_ZSTD
  case GFI_PQ_ZSTD: {
    size_t got = ZSTD_decompress(dst, dst_len, src, n);
    if (ZSTD_isError(got) || got != dst_len) return corrupt(codec, where, err);
    return GF_OK;
  }
#endif
  default:
    return corrupt(codec, where, err);
  }
}
