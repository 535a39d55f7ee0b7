/* Page compression of the Parquet writer: SNAPPY (libsnappy's C API), GZIP
 * (zlib, gzip wrapper), ZSTD (libzstd), LZ4_RAW (liblz4's block format, no
 * frame), each optional at build time (GF_HAVE_SNAPPY / GF_HAVE_ZLIB /
 * GF_HAVE_ZSTD / GF_HAVE_LZ4); a missing one is GF_ENOTSUP. */
#include <limits.h>
#include <string.h>

#include "io/pq_write_format.h"
#include "io/pq_write_internal.h"

#ifdef GF_HAVE_SNAPPY
#include <snappy-c.h>
#endif
#ifdef GF_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef GF_HAVE_ZSTD
#include <zstd.h>
#endif
#ifdef GF_HAVE_LZ4
#include <lz4.h>
#endif

bool gfi_pqw_codec_available(int codec) {
  switch (codec) {
    case PQW_CODEC_UNCOMPRESSED: return true;
#ifdef GF_HAVE_SNAPPY
    case PQW_CODEC_SNAPPY: return true;
#endif
#ifdef GF_HAVE_ZLIB
    case PQW_CODEC_GZIP: return true;
#endif
#ifdef GF_HAVE_ZSTD
    case PQW_CODEC_ZSTD: return true;
#endif
#ifdef GF_HAVE_LZ4
    case PQW_CODEC_LZ4_RAW: return true;
#endif
    default: return false;
  }
}

const char *gfi_pqw_codec_name(int codec) {
  switch (codec) {
    case PQW_CODEC_UNCOMPRESSED: return "none";
    case PQW_CODEC_SNAPPY: return "snappy";
    case PQW_CODEC_GZIP: return "gzip";
    case PQW_CODEC_ZSTD: return "zstd";
    case PQW_CODEC_LZ4_RAW: return "lz4_raw";
    default: return "unknown";
  }
}

size_t gfi_pq_compress_bound(int codec, size_t n) {
  switch (codec) {
#ifdef GF_HAVE_SNAPPY
    case PQW_CODEC_SNAPPY: return snappy_max_compressed_length(n);
#endif
#ifdef GF_HAVE_ZLIB
    /* deflateBound does not count the gzip wrapper's 18 bytes. */
    case PQW_CODEC_GZIP: return n + n / 1000 + 64 + 18 + (n >> 12) + (n >> 14) + (n >> 25);
#endif
#ifdef GF_HAVE_ZSTD
    case PQW_CODEC_ZSTD: return ZSTD_compressBound(n);
#endif
#ifdef GF_HAVE_LZ4
    case PQW_CODEC_LZ4_RAW: return (size_t)LZ4_compressBound(n > (size_t)LZ4_MAX_INPUT_SIZE ? 0 : (int)n);
#endif
    default: return n;
  }
}

/* See pq_write_internal.h. */
gf_status gfi_pq_compress(int codec, int level, const void *src, size_t n,
                          void *dst, size_t dst_cap, size_t *written,
                          gf_error *err) {
  (void)level;
  switch (codec) {
    case PQW_CODEC_UNCOMPRESSED:
      if (dst_cap < n) break;
      if (n) memcpy(dst, src, n);
      *written = n;
      return GF_OK;
#ifdef GF_HAVE_SNAPPY
    case PQW_CODEC_SNAPPY: {
      size_t out = dst_cap;
      if (snappy_compress(src, n, dst, &out) != SNAPPY_OK) break;
      *written = out;
      return GF_OK;
    }
#endif
#ifdef GF_HAVE_ZLIB
    case PQW_CODEC_GZIP: {
      if (n > UINT_MAX || dst_cap > UINT_MAX)
        return gf_error_set(err, GF_ENOTSUP, "Parquet GZIP: a page of %zu bytes is too large", n);
      z_stream z;
      memset(&z, 0, sizeof z);
      /* 15 + 16: a gzip wrapper, as the Parquet spec asks for GZIP pages. */
      if (deflateInit2(&z, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                       Z_DEFAULT_STRATEGY) != Z_OK)
        return gf_error_set(err, GF_EINVAL, "Parquet GZIP: zlib refused level %d (use 1..9) "
                            "or ran out of memory", level);
      z.next_in = (Bytef *)(uintptr_t)src;
      z.avail_in = (uInt)n;
      z.next_out = dst;
      z.avail_out = (uInt)dst_cap;
      int r = deflate(&z, Z_FINISH);
      size_t out = z.total_out;
      deflateEnd(&z);
      if (r != Z_STREAM_END) break;
      *written = out;
      return GF_OK;
    }
#endif
#ifdef GF_HAVE_ZSTD
    case PQW_CODEC_ZSTD: {
      /* Level 1 by default, as Arrow's writers use. */
      size_t r = ZSTD_compress(dst, dst_cap, src, n, level ? level : 1);
      if (ZSTD_isError(r))
        return gf_error_set(err, GF_EINVAL, "Parquet ZSTD compression failed: %s",
                            ZSTD_getErrorName(r));
      *written = r;
      return GF_OK;
    }
#endif
#ifdef GF_HAVE_LZ4
    case PQW_CODEC_LZ4_RAW: {
      if (n > (size_t)LZ4_MAX_INPUT_SIZE)
        return gf_error_set(err, GF_ENOTSUP, "Parquet LZ4_RAW: a page of %zu bytes is too large", n);
      int cap = dst_cap > INT_MAX ? INT_MAX : (int)dst_cap;
      int r = LZ4_compress_default(src, dst, (int)n, cap);
      if (r <= 0) break;
      *written = (size_t)r;
      return GF_OK;
    }
#endif
    default:
      return gf_error_set(err, GF_ENOTSUP, "Parquet writer: built without %s compression",
                          gfi_pqw_codec_name(codec));
  }
  return gf_error_set(err, GF_EINTERNAL, "Parquet %s compression of %zu bytes failed",
                      gfi_pqw_codec_name(codec), n);
}
