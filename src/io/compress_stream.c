/*
 * compress_stream.c - gf_text_output (include/gopherframe/format.h): a
 * stdio stream (fopencookie) whose bytes are compressed (gzip via zlib,
 * zstd, lz4 frame, bzip2; each optional at build time) and written to a
 * file replaced atomically (gf_output_file) or to standard output. Any
 * writer that takes a FILE * can so write compressed output, and a failed
 * write leaves no partial file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/core_internal.h"
#include "io/codec_alloc.h"

#ifdef GF_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef GF_HAVE_ZSTD
#include <zstd.h>
#endif
#ifdef GF_HAVE_LZ4
#include <lz4frame.h>
#endif
#ifdef GF_HAVE_BZIP2
#include <bzlib.h>
#endif

enum { OUT_CAP = 1 << 17, LZ4_CHUNK = 1 << 16 };

struct gf_text_output {
  const gf_allocator *a;
  gf_output_file *file; /* NULL when writing standard output */
  FILE *fp;
  gf_compression c;
  bool codec_ready, failed;
  gf_error error; /* the first failure of the sink or codec */
  unsigned char *obuf; /* compressed bytes waiting for the sink */
  size_t olen, ocap;
#ifdef GF_HAVE_ZLIB
  z_stream z;
#endif
#ifdef GF_HAVE_ZSTD
  ZSTD_CStream *zs;
#endif
#ifdef GF_HAVE_LZ4
  LZ4F_cctx *lz;
  LZ4F_preferences_t lz_prefs;
#endif
#ifdef GF_HAVE_BZIP2
  bz_stream bz;
#endif
};

/* Writes bytes to the target (all of them, retrying short writes). */
static gf_status sink(gf_text_output *o, const void *data, size_t len) {
  if (len == 0) return GF_OK;
  if (o->file) return gf_output_file_write(o->file, data, len, &o->error);
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(STDOUT_FILENO, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return gf_error_set(&o->error, GF_EIO, "cannot write standard output: %s", strerror(errno));
    }
    p += w;
    len -= (size_t)w;
  }
  return GF_OK;
}

/* Hands the pending compressed bytes to the sink. */
static gf_status drain(gf_text_output *o) {
  gf_status st = sink(o, o->obuf, o->olen);
  o->olen = 0;
  return st;
}


static gf_status codec_failed(gf_text_output *o, const char *what) {
  return gf_error_set(&o->error, GF_EINTERNAL, "%s compression failed: %s",
                      gf_compression_name(o->c), what);
}

/* Sets up the compressor (level 0 = the codec's default). */
static gf_status codec_init(gf_text_output *o, int level) {
  (void)level;
  switch (o->c) {
    case GF_COMPRESSION_NONE:
      return GF_OK;
#ifdef GF_HAVE_ZLIB
    case GF_COMPRESSION_GZIP:
      memset(&o->z, 0, sizeof o->z);
      o->z.zalloc = gfi_zlib_alloc;
      o->z.zfree = gfi_zlib_free;
      o->z.opaque = (void *)o->a;
      if (deflateInit2(&o->z, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + 15, 8,
                       Z_DEFAULT_STRATEGY) != Z_OK)
        return GF_OOM(&o->error, "a gzip encoder");
      break;
#endif
#ifdef GF_HAVE_ZSTD
    case GF_COMPRESSION_ZSTD:
      o->zs = ZSTD_createCStream();
      if (!o->zs) return GF_OOM(&o->error, "a zstd encoder");
      if (ZSTD_isError(ZSTD_initCStream(o->zs, level ? level : 3))) {
        ZSTD_freeCStream(o->zs);
        return codec_failed(o, "bad level");
      }
      break;
#endif
#ifdef GF_HAVE_LZ4
    case GF_COMPRESSION_LZ4_FRAME: {
      if (LZ4F_isError(LZ4F_createCompressionContext(&o->lz, LZ4F_VERSION)))
        return GF_OOM(&o->error, "an lz4 encoder");
      memset(&o->lz_prefs, 0, sizeof o->lz_prefs);
      o->lz_prefs.compressionLevel = level;
      size_t r = LZ4F_compressBegin(o->lz, o->obuf, o->ocap, &o->lz_prefs);
      if (LZ4F_isError(r)) {
        LZ4F_freeCompressionContext(o->lz);
        return codec_failed(o, LZ4F_getErrorName(r));
      }
      o->olen = r;
      break;
    }
#endif
#ifdef GF_HAVE_BZIP2
    case GF_COMPRESSION_BZIP2:
      memset(&o->bz, 0, sizeof o->bz);
      o->bz.bzalloc = gfi_bz_alloc;
      o->bz.bzfree = gfi_bz_free;
      o->bz.opaque = (void *)o->a;
      if (BZ2_bzCompressInit(&o->bz, level > 0 && level <= 9 ? level : 9, 0, 0) != BZ_OK)
        return GF_OOM(&o->error, "a bzip2 encoder");
      break;
#endif
    default:
      return gf_error_set(&o->error, GF_ENOTSUP,
                          "%s output: this build has no %s support", gf_compression_name(o->c),
                          gf_compression_name(o->c));
  }
  o->codec_ready = true;
  return GF_OK;
}

static void codec_end(gf_text_output *o) {
  if (!o->codec_ready) return;
  o->codec_ready = false;
  switch (o->c) {
#ifdef GF_HAVE_ZLIB
    case GF_COMPRESSION_GZIP: deflateEnd(&o->z); break;
#endif
#ifdef GF_HAVE_ZSTD
    case GF_COMPRESSION_ZSTD: ZSTD_freeCStream(o->zs); break;
#endif
#ifdef GF_HAVE_LZ4
    case GF_COMPRESSION_LZ4_FRAME: LZ4F_freeCompressionContext(o->lz); break;
#endif
#ifdef GF_HAVE_BZIP2
    case GF_COMPRESSION_BZIP2: BZ2_bzCompressEnd(&o->bz); break;
#endif
    default: break;
  }
}

/* Compresses `len` bytes (finish: and ends the stream), draining the
 * output buffer to the sink whenever it fills. */
static gf_status encode(gf_text_output *o, const unsigned char *src, size_t len, bool finish) {
  (void)src;
  switch (o->c) {
    case GF_COMPRESSION_NONE:
      return sink(o, src, len);
#ifdef GF_HAVE_ZLIB
    case GF_COMPRESSION_GZIP: {
      o->z.next_in = (Bytef *)src;
      o->z.avail_in = (uInt)len; /* len <= OUT_CAP-sized stdio buffers */
      for (;;) {
        o->z.next_out = o->obuf + o->olen;
        o->z.avail_out = (uInt)(o->ocap - o->olen);
        int r = deflate(&o->z, finish ? Z_FINISH : Z_NO_FLUSH);
        o->olen = o->ocap - o->z.avail_out;
        if (r == Z_STREAM_ERROR) return codec_failed(o, "stream error");
        if (o->olen == o->ocap) GF_RETURN_NOT_OK(drain(o));
        if (finish ? r == Z_STREAM_END : o->z.avail_in == 0 && o->z.avail_out > 0) break;
      }
      return GF_OK;
    }
#endif
#ifdef GF_HAVE_ZSTD
    case GF_COMPRESSION_ZSTD: {
      ZSTD_inBuffer ib = {src, len, 0};
      for (;;) {
        ZSTD_outBuffer ob = {o->obuf, o->ocap, o->olen};
        size_t r = ZSTD_compressStream2(o->zs, &ob, &ib, finish ? ZSTD_e_end : ZSTD_e_continue);
        o->olen = ob.pos;
        if (ZSTD_isError(r)) return codec_failed(o, ZSTD_getErrorName(r));
        if (o->olen == o->ocap) GF_RETURN_NOT_OK(drain(o));
        if (finish ? r == 0 : ib.pos == ib.size) break;
      }
      return GF_OK;
    }
#endif
#ifdef GF_HAVE_LZ4
    case GF_COMPRESSION_LZ4_FRAME: {
      /* In chunks whose worst case fits the buffer. */
      while (len > 0) {
        size_t k = len < LZ4_CHUNK ? len : LZ4_CHUNK;
        if (o->ocap - o->olen < LZ4F_compressBound(k, &o->lz_prefs)) GF_RETURN_NOT_OK(drain(o));
        size_t r = LZ4F_compressUpdate(o->lz, o->obuf + o->olen, o->ocap - o->olen, src, k, NULL);
        if (LZ4F_isError(r)) return codec_failed(o, LZ4F_getErrorName(r));
        o->olen += r;
        src += k;
        len -= k;
      }
      if (finish) {
        if (o->ocap - o->olen < LZ4F_compressBound(0, &o->lz_prefs)) GF_RETURN_NOT_OK(drain(o));
        size_t r = LZ4F_compressEnd(o->lz, o->obuf + o->olen, o->ocap - o->olen, NULL);
        if (LZ4F_isError(r)) return codec_failed(o, LZ4F_getErrorName(r));
        o->olen += r;
      }
      return GF_OK;
    }
#endif
#ifdef GF_HAVE_BZIP2
    case GF_COMPRESSION_BZIP2: {
      o->bz.next_in = (char *)src;
      o->bz.avail_in = (unsigned)len;
      for (;;) {
        o->bz.next_out = (char *)o->obuf + o->olen;
        o->bz.avail_out = (unsigned)(o->ocap - o->olen);
        int r = BZ2_bzCompress(&o->bz, finish ? BZ_FINISH : BZ_RUN);
        o->olen = o->ocap - o->bz.avail_out;
        if (r < 0) return codec_failed(o, "sequence error");
        if (o->olen == o->ocap) GF_RETURN_NOT_OK(drain(o));
        if (finish ? r == BZ_STREAM_END : o->bz.avail_in == 0) break;
      }
      return GF_OK;
    }
#endif
    default:
      return codec_failed(o, "codec not built");
  }
}

/* fopencookie write: compress; a failure is kept in o->error and turned
 * into a stdio error (the writer then fails; close reports o->error). */
static ssize_t cookie_write(void *cookie, const char *buf, size_t size) {
  gf_text_output *o = cookie;
  if (o->failed) return -1;
  /* zlib and bzip2 take 32-bit lengths. */
  size_t done = 0;
  while (done < size) {
    size_t k = size - done < (1u << 30) ? size - done : (1u << 30);
    if (encode(o, (const unsigned char *)buf + done, k, false) != GF_OK) {
      o->failed = true;
      errno = EIO;
      return -1;
    }
    done += k;
  }
  return (ssize_t)size;
}

static int cookie_close(void *cookie) {
  (void)cookie;
  return 0;
}

/* Frees the parts (not the file: the caller commits or aborts it). */
static void free_output(gf_text_output *o) {
  /* Whatever stdio still buffers is dropped, not written. */
  o->failed = true;
  codec_end(o);
  if (o->fp) fclose(o->fp);
  gfi_mfree(o->a, o->obuf, o->ocap);
  gfi_mfree(o->a, o, sizeof *o);
}

/* See format.h. */
gf_status gf_text_output_open(const char *path, gf_compression c, int level,
                              const gf_allocator *a, gf_text_output **out, gf_error *err) {
  if (!path || !out) return gf_error_set(err, GF_EINVAL, "gf_text_output_open: invalid argument");
  if (!gf_compression_available(c))
    return gf_error_set(err, GF_ENOTSUP,
                        "%s: %s output, but this build has no %s support", path,
                        gf_compression_name(c), gf_compression_name(c));
  a = gfi_alloc_or_default(a);
  gf_text_output *o = gfi_calloc(a, sizeof *o);
  if (!o) return GF_OOM(err, "an output");
  o->a = a;
  o->c = c;
  o->ocap = OUT_CAP;
  o->obuf = gfi_malloc(a, o->ocap);
  gf_status st;
  if (!o->obuf) {
    st = GF_OOM(err, "output buffers");
    goto fail;
  }
  if ((st = codec_init(o, level)) != GF_OK) {
    if (err) *err = o->error;
    goto fail;
  }
  if (strcmp(path, "-") == 0) {
    /* What stdio holds for standard output goes first. */
    fflush(stdout);
  } else if ((st = gf_output_file_open(path, a, &o->file, err)) != GF_OK) {
    goto fail;
  }
  static const cookie_io_functions_t fns = {NULL, cookie_write, NULL, cookie_close};
  o->fp = fopencookie(o, "w", fns);
  if (!o->fp) {
    st = GF_OOM(err, "an output stream");
    gf_output_file_abort(o->file);
    o->file = NULL;
    goto fail;
  }
  *out = o;
  return GF_OK;
fail:
  free_output(o);
  return st;
}

FILE *gf_text_output_stream(gf_text_output *o) { return o->fp; }

/* See format.h. */
gf_status gf_text_output_close(gf_text_output *o, bool commit, gf_error *err) {
  if (!o) return GF_OK;
  gf_status st = GF_OK;
  if (commit) {
    if (fflush(o->fp) != 0 || o->failed) {
      st = o->error.code != GF_OK ? o->error.code
                                  : gf_error_set(&o->error, GF_EIO, "write failed: %s",
                                                 strerror(errno));
    } else if ((st = encode(o, NULL, 0, true)) == GF_OK) {
      st = drain(o);
    }
    if (st == GF_OK && o->file) {
      gf_output_file *f = o->file;
      o->file = NULL;
      st = gf_output_file_commit(f, err);
    } else if (st != GF_OK && err) {
      *err = o->error;
    }
  } else if (o->error.code != GF_OK) {
    st = o->error.code;
    if (err) *err = o->error;
  }
  gf_output_file_abort(o->file);
  o->file = NULL;
  free_output(o);
  return st;
}
