/*
 * Text-output plumbing of the CSV writer (csv_write_internal.h): growable
 * buffers, fast locale-independent number formatting, and rows formatted in
 * parallel and emitted in order. Files replaced atomically: atomic_file.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec_internal.h"
#include "io/csv_write_internal.h"

#define TEXTBUF_ALIGN 16
#define TEXTBUF_MIN 4096

/* ---- text buffers ------------------------------------------------------ */

/* Grows to at least len + extra bytes (at least TEXTBUF_MIN). The growth
 * itself is gfi_vec's: the text buffer is a vector whose fields csv_write.c
 * fills inline on its hot path. */
gf_status gfi_textbuf_grow(gfi_textbuf *b, size_t extra, gf_error *err) {
  gfi_vec v = {gfi_alloc_or_default(b->alloc), (uint8_t *)b->data, b->len, b->cap,
               TEXTBUF_ALIGN, 0};
  if (!v.cap && extra < TEXTBUF_MIN) extra = TEXTBUF_MIN;
  gf_status st = gfi_vec_reserve(&v, extra, err);
  b->data = (char *)v.data;
  b->cap = v.cap;
  b->alloc = v.a;
  return st;
}

/* Releases the memory; the buffer is empty afterwards. */
void gfi_textbuf_free(gfi_textbuf *b) {
  if (b->data) gf_free(gfi_alloc_or_default(b->alloc), b->data, b->cap, TEXTBUF_ALIGN);
  b->data = NULL;
  b->len = b->cap = 0;
}

/* ---- numbers --------------------------------------------------------- */

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Writes v in decimal, two digits per step from the right. */
int gfi_put_u64(char *p, uint64_t v) {
  char tmp[24];
  int i = 24;
  while (v >= 100) {
    unsigned r = (unsigned)(v % 100);
    v /= 100;
    tmp[--i] = digit_pairs[2 * r + 1];
    tmp[--i] = digit_pairs[2 * r];
  }
  if (v >= 10) {
    tmp[--i] = digit_pairs[2 * v + 1];
    tmp[--i] = digit_pairs[2 * v];
  } else {
    tmp[--i] = (char)('0' + v);
  }
  memcpy(p, tmp + i, (size_t)(24 - i));
  return 24 - i;
}

/* Signed variant; INT64_MIN works through the unsigned magnitude. */
int gfi_put_i64(char *p, int64_t v) {
  if (v >= 0) return gfi_put_u64(p, (uint64_t)v);
  *p = '-';
  return 1 + gfi_put_u64(p + 1, (uint64_t)0 - (uint64_t)v);
}

static const double pow10_d[8] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7};
static const uint64_t pow10_u[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};

/*
 * Shortest round-trip text, identical to gfi_format_double. Fast path: the
 * smallest k <= 7 for which round(|v| * 10^k) / 10^k == |v| gives the
 * decimal with the fewest digits that reads back as v. Keeping that integer
 * below 2^50 makes the double's spacing under a quarter of 10^-k, so no
 * other k-decimal number reads back as v and no shorter one was missed; and
 * |v| in [1e-5, 1e15) is where gfi_format_double prints plain decimals.
 * Everything else (NaN, inf, tiny, huge, many digits) takes the slow path.
 */
int gfi_put_double(char *p, double v) {
  if (v == 0) {
    if (signbit(v)) {
      memcpy(p, "-0.0", 4);
      return 4;
    }
    memcpy(p, "0.0", 3);
    return 3;
  }
  double a = fabs(v);
  if (a >= 1e-5 && a < 1e15) {
    for (int k = 0; k < 8; k++) {
      double x = floor(a * pow10_d[k] + 0.5);
      if (x >= 1125899906842624.0) break; /* 2^50 */
      if (x / pow10_d[k] != a) continue;
      uint64_t u = (uint64_t)x;
      char *q = p;
      if (v < 0) *q++ = '-';
      q += gfi_put_u64(q, u / pow10_u[k]);
      *q++ = '.';
      if (k == 0) {
        *q++ = '0';
      } else {
        uint64_t frac = u % pow10_u[k];
        for (int d = k - 1; d >= 0; d--) {
          q[d] = (char)('0' + frac % 10);
          frac /= 10;
        }
        q += k;
      }
      return (int)(q - p);
    }
  }
  return gfi_format_double(p, 32, v);
}

/* ---- ordered parallel formatting -------------------------------------- */

typedef struct wave {
  gfi_text_chunk_fn fn;
  void *user;
  gfi_textbuf *bufs;
  const gfi_waves *waves; /* bufs[0] is chunk waves->first */
  gfi_text_sink_fn sink;
  void *sink_user;
} wave;

/* Runtime kernel: formats one chunk into its own buffer of the wave. The
 * buffer moves to the call's allocator so a memory limit covers it. */
static gf_status wave_kernel(void *user, const gf_chunk_spec *chunk, gf_task_ctx *ctx) {
  wave *w = user;
  gfi_textbuf *b = &w->bufs[chunk->chunk_id - w->waves->first];
  const gf_allocator *a = gfi_alloc_or_default(ctx->allocator);
  if (b->alloc != a) {
    gfi_textbuf_free(b);
    b->alloc = a;
  }
  b->len = 0;
  return w->fn(w->user, chunk->start_row, chunk->end_row, b, ctx);
}

/* After each wave, on the calling thread: its text to the sink in order. */
static gf_status wave_emit(void *user, int64_t first, int64_t n, bool *stop, gf_error *err) {
  (void)first;
  (void)stop;
  wave *w = user;
  for (int64_t i = 0; i < n; i++)
    if (w->bufs[i].len)
      GF_RETURN_NOT_OK(w->sink(w->sink_user, w->bufs[i].data, w->bufs[i].len, err));
  return GF_OK;
}

/* Plans, then formats and emits wave after wave (see the header). */
/* gfi_format_rows_ordered once its call context is loaded: every return of it goes
 * through gfi_ctx_end in gfi_format_rows_ordered. */
static gf_status gfi_format_rows_ordered_loaded(int64_t total_rows, int64_t bytes_per_row,
                                                gfi_text_chunk_fn fn, void *user,
                                                gfi_text_sink_fn sink, void *sink_user,
                                                const gf_parallel_options *opts, gf_error *err, gf_parallel_options o) {
  if (total_rows <= 0) return GF_OK;
  gf_chunk_spec *chunks = NULL;
  int64_t count = 0;
  GF_RETURN_NOT_OK(gf_plan_chunks(total_rows, bytes_per_row, &o, &chunks, &count, err));
  for (int64_t i = 0; i < count; i++) chunks[i].chunk_id = i;

  const gf_allocator *base = gfi_alloc_or_default(o.allocator);
  int64_t per_wave = (int64_t)gf_effective_workers(&o) * 4;
  if (per_wave > count) per_wave = count;
  gfi_textbuf *bufs = gfi_calloc(base, (size_t)per_wave * sizeof *bufs);
  if (!bufs) {
    gf_mem_free(chunks);
    return GF_OOM(err, "CSV chunk buffers");
  }
  for (int64_t i = 0; i < per_wave; i++) bufs[i].alloc = base;

  gfi_waves ws = {wave_kernel, NULL, wave_emit, NULL, per_wave, false, 0, 0};
  wave w = {fn, user, bufs, &ws, sink, sink_user};
  ws.user = ws.done_user = &w;
  gf_status st = gfi_run_waves(&ws, chunks, count, &o, err);
  for (int64_t i = 0; i < per_wave; i++) gfi_textbuf_free(&bufs[i]);
  gfi_mfree(base, bufs, (size_t)per_wave * sizeof *bufs);
  gf_mem_free(chunks);
  return st;
}

gf_status gfi_format_rows_ordered(int64_t total_rows, int64_t bytes_per_row,
                                  gfi_text_chunk_fn fn, void *user,
                                  gfi_text_sink_fn sink, void *sink_user,
                                  const gf_parallel_options *opts, gf_error *err) {
  /* Loaded once: every wave shares the write's one deadline. */
  gfi_ctx call;
  gf_parallel_options o;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, opts, &o, err));
  return gfi_ctx_end(&call, gfi_format_rows_ordered_loaded(total_rows, bytes_per_row, fn, user, sink, sink_user, opts, err, o), err);
}
