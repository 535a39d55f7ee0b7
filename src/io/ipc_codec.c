/* Body compression codecs of Arrow IPC: LZ4 frame (liblz4) and ZSTD
 * (libzstd), both optional at build time (GF_HAVE_LZ4 / GF_HAVE_ZSTD);
 * without them compressed files are refused with GF_ENOTSUP. */
#include <string.h>

#include "io/ipc_internal.h"

#ifdef GF_HAVE_LZ4
#include <lz4frame.h>
#endif
#ifdef GF_HAVE_ZSTD
#include <zstd.h>
#endif

bool gfi_ipc_codec_available(int codec) {
#ifdef GF_HAVE_LZ4
  if (codec == CODEC_LZ4_FRAME) return true;
#endif
#ifdef GF_HAVE_ZSTD
  if (codec == CODEC_ZSTD) return true;
#endif
  (void)codec;
  return false;
}

const char *gfi_ipc_codec_name(int codec) {
  return codec == CODEC_LZ4_FRAME ? "lz4" : codec == CODEC_ZSTD ? "zstd"
                                                                : "unknown";
}

static gf_status unavailable(int codec, gf_error *err) {
  return gf_error_set(err, GF_ENOTSUP,
                      "IPC body compression: built without %s",
                      gfi_ipc_codec_name(codec));
}

size_t gfi_ipc_compress_bound(int codec, size_t n) {
#ifdef GF_HAVE_LZ4
  if (codec == CODEC_LZ4_FRAME) return LZ4F_compressFrameBound(n, NULL);
#endif
#ifdef GF_HAVE_ZSTD
  if (codec == CODEC_ZSTD) return ZSTD_compressBound(n);
#endif
  (void)codec;
  return n;
}

/* See ipc_internal.h. */
gf_status gfi_ipc_compress(int codec, int level, const void *src, size_t n,
                           void *dst, size_t dst_cap, size_t *written,
                           gf_error *err) {
  (void)level;
  (void)src;
  (void)n;
  (void)dst;
  (void)dst_cap;
  (void)written;
#ifdef GF_HAVE_LZ4
  if (codec == CODEC_LZ4_FRAME) {
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    prefs.compressionLevel = level;
    prefs.frameInfo.contentSize = n;
    size_t r = LZ4F_compressFrame(dst, dst_cap, src, n, &prefs);
    if (LZ4F_isError(r))
      return gf_error_set(err, GF_EINTERNAL, "lz4 compression failed: %s",
                          LZ4F_getErrorName(r));
    *written = r;
    return GF_OK;
  }
#endif
#ifdef GF_HAVE_ZSTD
  if (codec == CODEC_ZSTD) {
    size_t r = ZSTD_compress(dst, dst_cap, src, n, level ? level : 1);
    if (ZSTD_isError(r))
      return gf_error_set(err, GF_EINTERNAL, "zstd compression failed: %s",
                          ZSTD_getErrorName(r));
    *written = r;
    return GF_OK;
  }
#endif
  return unavailable(codec, err);
}

/* See ipc_internal.h. */
gf_status gfi_ipc_decompress(int codec, const void *src, size_t n, void *dst,
                             size_t dst_len, gf_error *err) {
  (void)src;
  (void)n;
  (void)dst;
  (void)dst_len;
#ifdef GF_HAVE_LZ4
  if (codec == CODEC_LZ4_FRAME) {
    LZ4F_dctx *ctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
      return GF_OOM(err, "an lz4 context");
    const uint8_t *in = src;
    uint8_t *out = dst;
    size_t in_left = n, out_done = 0;
    gf_status st = GF_OK;
    for (;;) {
      size_t in_sz = in_left, out_sz = dst_len - out_done;
      size_t r = LZ4F_decompress(ctx, out + out_done, &out_sz, in, &in_sz, NULL);
      if (LZ4F_isError(r)) {
        st = gf_error_set(err, GF_EINVAL, "corrupt lz4 buffer: %s",
                          LZ4F_getErrorName(r));
        break;
      }
      in += in_sz;
      in_left -= in_sz;
      out_done += out_sz;
      if (r == 0) {
        /* End of a frame; more frames may follow (concatenated). */
        if (in_left == 0) break;
        continue;
      }
      if (in_sz == 0 && out_sz == 0) {
        st = gf_error_set(err, GF_EINVAL,
                          in_left ? "lz4 buffer decompresses past %zu bytes"
                                  : "truncated lz4 buffer (%zu bytes expected)",
                          dst_len);
        break;
      }
    }
    LZ4F_freeDecompressionContext(ctx);
    if (st == GF_OK && out_done != dst_len)
      st = gf_error_set(err, GF_EINVAL,
                        "lz4 buffer decompressed to %zu bytes, expected %zu",
                        out_done, dst_len);
    return st;
  }
#endif
#ifdef GF_HAVE_ZSTD
  if (codec == CODEC_ZSTD) {
    size_t r = ZSTD_decompress(dst, dst_len, src, n);
    if (ZSTD_isError(r))
      return gf_error_set(err, GF_EINVAL, "corrupt zstd buffer: %s",
                          ZSTD_getErrorName(r));
    if (r != dst_len)
      return gf_error_set(err, GF_EINVAL,
                          "zstd buffer decompressed to %zu bytes, expected %zu",
                          r, dst_len);
    return GF_OK;
  }
#endif
  return unavailable(codec, err);
}
