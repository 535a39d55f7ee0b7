/*
 * decompress_stream.c - gf_input (include/gopherframe/format.h): a file,
 * pipe or standard input read once, front to back, with its whole-file
 * compression (gzip via zlib, zstd, lz4 frame, bzip2) detected from the
 * first bytes and undone as it is read. Each codec is optional at build
 * time (GF_HAVE_ZLIB, GF_HAVE_ZSTD, GF_HAVE_LZ4, GF_HAVE_BZIP2); a
 * compression this build lacks is refused with GF_ENOTSUP at open.
 *
 * The raw input passes through one buffer; `consumed` counts the
 * compressed bytes handed to the codec, so an error can say at which byte
 * of the compressed stream it happened. Concatenated gzip members, zstd
 * frames, lz4 frames and bzip2 streams are read as one stream (what the
 * command-line tools do); bytes after the last that do not start another
 * are an error, as is input that ends inside one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
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

enum { RAW_CAP = 1 << 16, HEAD_CAP = 1 << 16 };

struct gf_input {
  const gf_allocator *a;
  const gf_cancel *cancel;
  int64_t deadline_ns; /* 0 = none */
  gf_read_fn fn;
  void *user;
  int fd; /* -1 for a callback input */
  bool own_fd, regular;
  char *name;
  size_t name_size;
  gf_compression c;
  /* Raw (compressed) bytes: ibuf[ipos, ilen) not yet given to the codec. */
  unsigned char *ibuf;
  size_t ipos, ilen;
  bool ieof;
  uint64_t consumed; /* compressed bytes given to the codec so far */
  /* Codec state. `boundary` is true between members/frames: at the start
   * and after one ended, where the input may end cleanly. */
  bool codec_ready, boundary, done;
#ifdef GF_HAVE_ZLIB
  z_stream z;
#endif
#ifdef GF_HAVE_ZSTD
  ZSTD_DStream *zs;
#endif
#ifdef GF_HAVE_LZ4
  LZ4F_dctx *lz;
#endif
#ifdef GF_HAVE_BZIP2
  bz_stream bz;
#endif
  /* The first decompressed bytes, returned again by gf_input_read. */
  unsigned char *head;
  size_t head_len, head_pos;
};


/* See format.h. */
bool gf_compression_available(gf_compression c) {
  switch (c) {
    case GF_COMPRESSION_NONE: return true;
#ifdef GF_HAVE_ZLIB
    case GF_COMPRESSION_GZIP: return true;
#endif
#ifdef GF_HAVE_ZSTD
    case GF_COMPRESSION_ZSTD: return true;
#endif
#ifdef GF_HAVE_LZ4
    case GF_COMPRESSION_LZ4_FRAME: return true;
#endif
#ifdef GF_HAVE_BZIP2
    case GF_COMPRESSION_BZIP2: return true;
#endif
    default: return false;
  }
}

/* ---- raw input ---------------------------------------------------------- */

static gf_status check_stop(const gf_input *in, gf_error *err);

/* gf_read_fn over a descriptor: read(2), retrying EINTR. A pipe or FIFO
 * is polled 100 ms at a time so that a cancel request or the deadline
 * stops a read that no data arrives for (a writer that never writes). */
static gf_status fd_read(void *user, void *buf, size_t cap, size_t *got, gf_error *err) {
  gf_input *in = user;
  for (;;) {
    if (!in->regular) {
      struct pollfd pfd = {.fd = in->fd, .events = POLLIN};
      int pr = poll(&pfd, 1, 100);
      if (pr == 0 || (pr < 0 && errno == EINTR)) {
        GF_RETURN_NOT_OK(check_stop(in, err));
        continue;
      }
    }
    ssize_t r = read(in->fd, buf, cap);
    if (r >= 0) {
      *got = (size_t)r;
      return GF_OK;
    }
    if (errno != EINTR) return gf_error_set(err, GF_EIO, "%s: %s", in->name, strerror(errno));
  }
}

/* Stops a read that was cancelled or ran past its deadline. */
static gf_status check_stop(const gf_input *in, gf_error *err) {
  if (in->cancel && gf_cancel_requested(in->cancel))
    return gf_error_set(err, GF_ECANCELED, "%s: reading cancelled", in->name);
  if (in->deadline_ns && gfi_now_ns() > in->deadline_ns)
    return gf_error_set(err, GF_ETIMEDOUT, "%s: reading timed out", in->name);
  return GF_OK;
}

/* Moves the unread raw bytes to the front and reads more after them (one
 * call of the read function); sets ieof when it reports the end. */
static gf_status refill(gf_input *in, gf_error *err) {
  GF_RETURN_NOT_OK(check_stop(in, err));
  if (in->ipos > 0) {
    memmove(in->ibuf, in->ibuf + in->ipos, in->ilen - in->ipos);
    in->ilen -= in->ipos;
    in->ipos = 0;
  }
  if (in->ilen == RAW_CAP || in->ieof) return GF_OK;
  size_t got = 0;
  GF_RETURN_NOT_OK(in->fn(in->user, in->ibuf + in->ilen, RAW_CAP - in->ilen, &got, err));
  if (got == 0) in->ieof = true;
  in->ilen += got;
  return GF_OK;
}

/* ---- codecs --------------------------------------------------------------- */

static gf_status unavailable(const gf_input *in, gf_error *err) {
  return gf_error_set(err, GF_ENOTSUP,
                      "%s: %s-compressed input, but this build has no %s support "
                      "(rebuild with the codec, or decompress it first)",
                      in->name, gf_compression_name(in->c), gf_compression_name(in->c));
}

/* Sets up the decompressor of in->c. */
static gf_status codec_init(gf_input *in, gf_error *err) {
  switch (in->c) {
#ifdef GF_HAVE_ZLIB
    case GF_COMPRESSION_GZIP:
      memset(&in->z, 0, sizeof in->z);
      in->z.zalloc = gfi_zlib_alloc;
      in->z.zfree = gfi_zlib_free;
      in->z.opaque = (void *)in->a;
      /* 16 + 15: gzip wrapper only, largest window. */
      if (inflateInit2(&in->z, 16 + 15) != Z_OK) return GF_OOM(err, "a gzip decoder");
      break;
#endif
#ifdef GF_HAVE_ZSTD
    case GF_COMPRESSION_ZSTD:
      in->zs = ZSTD_createDStream();
      if (!in->zs) return GF_OOM(err, "a zstd decoder");
      ZSTD_initDStream(in->zs);
      break;
#endif
#ifdef GF_HAVE_LZ4
    case GF_COMPRESSION_LZ4_FRAME:
      if (LZ4F_isError(LZ4F_createDecompressionContext(&in->lz, LZ4F_VERSION)))
        return GF_OOM(err, "an lz4 decoder");
      break;
#endif
#ifdef GF_HAVE_BZIP2
    case GF_COMPRESSION_BZIP2:
      memset(&in->bz, 0, sizeof in->bz);
      in->bz.bzalloc = gfi_bz_alloc;
      in->bz.bzfree = gfi_bz_free;
      in->bz.opaque = (void *)in->a;
      if (BZ2_bzDecompressInit(&in->bz, 0, 0) != BZ_OK) return GF_OOM(err, "a bzip2 decoder");
      break;
#endif
    case GF_COMPRESSION_NONE:
      return GF_OK;
    default:
      return unavailable(in, err);
  }
  in->codec_ready = true;
  return GF_OK;
}

static void codec_end(gf_input *in) {
  if (!in->codec_ready) return;
  in->codec_ready = false;
  switch (in->c) {
#ifdef GF_HAVE_ZLIB
    case GF_COMPRESSION_GZIP: inflateEnd(&in->z); break;
#endif
#ifdef GF_HAVE_ZSTD
    case GF_COMPRESSION_ZSTD: ZSTD_freeDStream(in->zs); break;
#endif
#ifdef GF_HAVE_LZ4
    case GF_COMPRESSION_LZ4_FRAME: LZ4F_freeDecompressionContext(in->lz); break;
#endif
#ifdef GF_HAVE_BZIP2
    case GF_COMPRESSION_BZIP2: BZ2_bzDecompressEnd(&in->bz); break;
#endif
    default: break;
  }
}

static gf_status corrupt(const gf_input *in, const char *detail, gf_error *err) {
  return gf_error_set(err, GF_EPARSE, "%s: corrupt %s stream near compressed byte %llu (%s)",
                      in->name, gf_compression_name(in->c), (unsigned long long)in->consumed,
                      detail);
}

/* One decoding step: consumes some of src[0, n) (*used) and produces some
 * of dst[0, cap) (*made); *end says a member/frame/stream just ended. A
 * step at a boundary with input starts the next member. */
static gf_status codec_step(gf_input *in, const unsigned char *src, size_t n, size_t *used,
                            unsigned char *dst, size_t cap, size_t *made, bool *end,
                            gf_error *err) {
  *used = *made = 0;
  *end = false;
  (void)src;
  (void)dst;
  (void)cap;
  switch (in->c) {
#ifdef GF_HAVE_ZLIB
    case GF_COMPRESSION_GZIP: {
      if (in->boundary && n > 0) {
        /* A member follows only if its magic does (gzip -c a b > ab). */
        if (in->consumed > 0) {
          if (n < 2 && !in->ieof) return GF_OK; /* need the magic */
          if (n < 2 || src[0] != 0x1f || src[1] != 0x8b)
            return gf_error_set(err, GF_EPARSE,
                                "%s: trailing data after the gzip stream at compressed byte %llu",
                                in->name, (unsigned long long)in->consumed);
          inflateReset(&in->z);
        }
        in->boundary = false;
      }
      in->z.next_in = (Bytef *)src;
      in->z.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
      in->z.next_out = dst;
      in->z.avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
      int r = inflate(&in->z, Z_NO_FLUSH);
      *used = (size_t)(in->z.next_in - (const Bytef *)src);
      *made = (size_t)(in->z.next_out - dst);
      if (r == Z_STREAM_END) {
        *end = true;
        return GF_OK;
      }
      if (r == Z_MEM_ERROR) return GF_OOM(err, "gzip decoder memory");
      if (r == Z_OK || (r == Z_BUF_ERROR && *used == 0 && *made == 0)) return GF_OK;
      in->consumed += *used;
      *used = 0;
      return corrupt(in, in->z.msg ? in->z.msg : "invalid data", err);
    }
#endif
#ifdef GF_HAVE_ZSTD
    case GF_COMPRESSION_ZSTD: {
      ZSTD_inBuffer ib = {src, n, 0};
      ZSTD_outBuffer ob = {dst, cap, 0};
      size_t r = ZSTD_decompressStream(in->zs, &ob, &ib);
      *used = ib.pos;
      *made = ob.pos;
      if (ZSTD_isError(r)) {
        in->consumed += *used;
        *used = 0;
        return corrupt(in, ZSTD_getErrorName(r), err);
      }
      /* 0: a frame is complete and flushed; the next bytes start another. */
      if (r == 0) *end = true;
      else if (*used > 0) in->boundary = false;
      return GF_OK;
    }
#endif
#ifdef GF_HAVE_LZ4
    case GF_COMPRESSION_LZ4_FRAME: {
      size_t in_sz = n, out_sz = cap;
      size_t r = LZ4F_decompress(in->lz, dst, &out_sz, src, &in_sz, NULL);
      if (LZ4F_isError(r)) {
        in->consumed += in_sz;
        return corrupt(in, LZ4F_getErrorName(r), err);
      }
      *used = in_sz;
      *made = out_sz;
      if (r == 0) *end = true;
      else if (*used > 0) in->boundary = false;
      return GF_OK;
    }
#endif
#ifdef GF_HAVE_BZIP2
    case GF_COMPRESSION_BZIP2: {
      if (in->boundary && n > 0) {
        if (in->consumed > 0) {
          /* Another stream (bzip2 -c a b > ab), or trailing data. */
          if (n < 3 && !in->ieof) return GF_OK;
          if (n < 3 || memcmp(src, "BZh", 3) != 0)
            return gf_error_set(err, GF_EPARSE,
                                "%s: trailing data after the bzip2 stream at compressed byte %llu",
                                in->name, (unsigned long long)in->consumed);
          BZ2_bzDecompressEnd(&in->bz);
          in->codec_ready = false;
          memset(&in->bz, 0, sizeof in->bz);
          in->bz.bzalloc = gfi_bz_alloc;
          in->bz.bzfree = gfi_bz_free;
          in->bz.opaque = (void *)in->a;
          if (BZ2_bzDecompressInit(&in->bz, 0, 0) != BZ_OK) return GF_OOM(err, "a bzip2 decoder");
          in->codec_ready = true;
        }
        in->boundary = false;
      }
      in->bz.next_in = (char *)src;
      in->bz.avail_in = (unsigned)(n > UINT32_MAX ? UINT32_MAX : n);
      in->bz.next_out = (char *)dst;
      in->bz.avail_out = (unsigned)(cap > UINT32_MAX ? UINT32_MAX : cap);
      int r = BZ2_bzDecompress(&in->bz);
      *used = (size_t)((const unsigned char *)in->bz.next_in - src);
      *made = (size_t)((unsigned char *)in->bz.next_out - dst);
      if (r == BZ_STREAM_END) {
        *end = true;
        return GF_OK;
      }
      if (r == BZ_OK) return GF_OK;
      if (r == BZ_MEM_ERROR) return GF_OOM(err, "bzip2 decoder memory");
      in->consumed += *used;
      *used = 0;
      return corrupt(in, r == BZ_DATA_ERROR_MAGIC ? "bad magic" : "invalid data", err);
    }
#endif
    default:
      return unavailable(in, err);
  }
}

/* Decompresses into buf (at most cap > 0 bytes); *got = 0 only at the end. */
static gf_status decode(gf_input *in, unsigned char *buf, size_t cap, size_t *got,
                        gf_error *err) {
  *got = 0;
  if (in->done) return GF_OK;
  for (;;) {
    if (in->ipos == in->ilen && !in->ieof) GF_RETURN_NOT_OK(refill(in, err));
    size_t avail = in->ilen - in->ipos;
    if (avail == 0 && in->ieof && in->boundary) {
      in->done = true;
      return GF_OK;
    }
    size_t used, made;
    bool end;
    GF_RETURN_NOT_OK(codec_step(in, in->ibuf + in->ipos, avail, &used, buf, cap, &made, &end, err));
    in->ipos += used;
    in->consumed += used;
    if (end) in->boundary = true;
    if (made > 0) {
      *got = made;
      return GF_OK;
    }
    if (end) continue;
    if (used == 0) {
      if (in->ieof && in->ipos == in->ilen)
        return gf_error_set(err, GF_EPARSE,
                            "%s: truncated %s stream (the input ended at compressed byte %llu, "
                            "inside a compressed block: the file was cut short)",
                            in->name, gf_compression_name(in->c),
                            (unsigned long long)in->consumed);
      /* The codec wants more bytes than it has (a magic split across
       * reads): read more after them. */
      if (in->ieof || in->ilen - in->ipos == RAW_CAP)
        return corrupt(in, "decoder made no progress", err);
      GF_RETURN_NOT_OK(refill(in, err));
    }
  }
}

/* Raw (uncompressed) bytes: what is buffered first, then the source. */
static gf_status raw_read(gf_input *in, unsigned char *buf, size_t cap, size_t *got,
                          gf_error *err) {
  if (in->ipos < in->ilen) {
    size_t k = in->ilen - in->ipos < cap ? in->ilen - in->ipos : cap;
    memcpy(buf, in->ibuf + in->ipos, k);
    in->ipos += k;
    *got = k;
    return GF_OK;
  }
  *got = 0;
  if (in->ieof) return GF_OK;
  GF_RETURN_NOT_OK(check_stop(in, err));
  GF_RETURN_NOT_OK(in->fn(in->user, buf, cap, got, err));
  if (*got == 0) in->ieof = true;
  return GF_OK;
}

/* Next bytes after the head. */
static gf_status read_body(gf_input *in, unsigned char *buf, size_t cap, size_t *got,
                           gf_error *err) {
  return in->c == GF_COMPRESSION_NONE ? raw_read(in, buf, cap, got, err)
                                      : decode(in, buf, cap, got, err);
}

/* ---- public ----------------------------------------------------------- */

/* See format.h. */
gf_status gf_input_read(gf_input *in, void *buf, size_t cap, size_t *got, gf_error *err) {
  *got = 0;
  if (cap == 0) return GF_OK;
  if (in->head_pos < in->head_len) {
    size_t k = in->head_len - in->head_pos < cap ? in->head_len - in->head_pos : cap;
    memcpy(buf, in->head + in->head_pos, k);
    in->head_pos += k;
    *got = k;
    return GF_OK;
  }
  return read_body(in, buf, cap, got, err);
}

/* Frees everything (the descriptor is closed when owned). */
void gf_input_close(gf_input *in) {
  if (!in) return;
  codec_end(in);
  if (in->own_fd && in->fd >= 0) close(in->fd);
  gfi_mfree(in->a, in->ibuf, RAW_CAP);
  gfi_mfree(in->a, in->head, HEAD_CAP);
  gfi_mfree(in->a, in->name, in->name_size);
  gfi_mfree(in->a, in, sizeof *in);
}

/* The common part of the two opens: buffers, the compression from the
 * first raw bytes, the codec, and the decompressed head. Frees `in` on
 * failure. */
static gf_status finish_open(gf_input *in, gf_input **out, gf_error *err) {
  gf_status st = GF_OK;
  in->ibuf = gfi_malloc(in->a, RAW_CAP);
  in->head = gfi_malloc(in->a, HEAD_CAP);
  if (!in->ibuf || !in->head) {
    st = GF_OOM(err, "input buffers");
    goto fail;
  }
  /* Enough raw bytes for any signature (a 1-byte reader needs several calls). */
  while (in->ilen < 4 && !in->ieof)
    if ((st = refill(in, err)) != GF_OK) goto fail;
  in->c = gf_detect_compression(in->ibuf, in->ilen);
  in->boundary = true;
  if ((st = codec_init(in, err)) != GF_OK) goto fail;
  while (in->head_len < HEAD_CAP) {
    size_t got;
    st = read_body(in, in->head + in->head_len, HEAD_CAP - in->head_len, &got, err);
    if (st != GF_OK) goto fail;
    if (got == 0) break;
    in->head_len += got;
  }
  *out = in;
  return GF_OK;
fail:
  gf_input_close(in);
  return st;
}

/* Allocates an input with its name and the options' allocator/token. */
static gf_status new_input(const char *name, const gf_parallel_options *o, gf_input **out,
                           gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o ? o->allocator : NULL);
  gf_input *in = gfi_calloc(a, sizeof *in);
  if (!in) return GF_OOM(err, "an input");
  in->a = a;
  in->fd = -1;
  in->cancel = o ? o->cancel : NULL;
  if (o && o->timeout_ms > 0) in->deadline_ns = gfi_now_ns() + o->timeout_ms * 1000000;
  in->name_size = strlen(name) + 1;
  in->name = gfi_malloc(a, in->name_size);
  if (!in->name) {
    gfi_mfree(a, in, sizeof *in);
    return GF_OOM(err, "an input");
  }
  memcpy(in->name, name, in->name_size);
  *out = in;
  return GF_OK;
}

/* See format.h. */
gf_status gf_input_open_reader(gf_read_fn fn, void *user, const char *name,
                               const gf_parallel_options *o, gf_input **out, gf_error *err) {
  if (!fn || !out) return gf_error_set(err, GF_EINVAL, "gf_input_open_reader: invalid argument");
  gf_input *in = NULL; /* set by new_input on GF_OK (Release gcc cannot tell) */
  GF_RETURN_NOT_OK(new_input(name ? name : "input", o, &in, err));
  in->fn = fn;
  in->user = user;
  return finish_open(in, out, err);
}

/* See format.h. */
gf_status gf_input_open(const char *path, const gf_parallel_options *o, gf_input **out,
                        gf_error *err) {
  if (!path || !out) return gf_error_set(err, GF_EINVAL, "gf_input_open: invalid argument");
  bool is_stdin = strcmp(path, "-") == 0;
  gf_input *in = NULL; /* set by new_input on GF_OK (Release gcc cannot tell) */
  GF_RETURN_NOT_OK(new_input(is_stdin ? "standard input" : path, o, &in, err));
  if (is_stdin) {
    in->fd = STDIN_FILENO;
  } else {
    in->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0) {
      gf_status st = gf_error_set(err, GF_EIO, "%s: %s", path, strerror(errno));
      gf_input_close(in);
      return st;
    }
    in->own_fd = true;
  }
  struct stat sb;
  if (fstat(in->fd, &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) {
      gf_status st = gf_error_set(err, GF_EIO, "%s: is a directory", in->name);
      gf_input_close(in);
      return st;
    }
    in->regular = S_ISREG(sb.st_mode) && !is_stdin;
  }
  in->fn = fd_read;
  in->user = in;
  return finish_open(in, out, err);
}

gf_compression gf_input_compression(const gf_input *in) { return in->c; }

bool gf_input_is_regular_file(const gf_input *in) { return in->regular; }

const void *gf_input_head(const gf_input *in, size_t *len) {
  *len = in->head_len;
  return in->head;
}

/* See format.h. Grows by doubling, reading straight into the block. */
gf_status gf_input_read_all(gf_input *in, void **data, size_t *len, gf_error *err) {
  gfi_vec v;
  gfi_vec_init_owned(&v, in->a);
  gf_status st = GF_OK;
  for (;;) {
    if ((st = gfi_vec_reserve(&v, RAW_CAP, err)) != GF_OK) break;
    size_t got;
    st = gf_input_read(in, v.data + v.len, v.cap - v.len, &got, err);
    if (st != GF_OK || got == 0) break;
    v.len += got;
  }
  if (st != GF_OK) {
    gfi_vec_reset(&v);
    return st;
  }
  *len = v.len;
  *data = gfi_vec_take(&v);
  return GF_OK;
}
