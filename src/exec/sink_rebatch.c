/*
 * The rebatching sink (exec/stream_internal.h): forwards its input to the
 * sink it wraps in batches of exactly `rows` rows (the last one shorter).
 * A blocking sink's output batches follow its own internals - windows, the
 * 65,536-group batches of a spilled group-by, a spilled join's merge - so
 * a file written straight from them would have batch boundaries (and
 * Arrow IPC bytes) that depend on the memory limit and the window; through
 * this sink they depend on nothing but the result.
 */
#include <string.h>

#include "exec/stream_internal.h"

typedef struct rebatch {
  gfi_sink *next; /* owned */
  int64_t rows;   /* batch size handed on */
  const gf_allocator *a;
  gf_frame **held; /* pieces not yet handed on, in order */
  int nheld, cap;
  int64_t held_rows;
  int64_t out_pos; /* position of the next batch handed on */
} rebatch;

static void drop_held(rebatch *r) {
  for (int i = 0; i < r->nheld; i++) gf_frame_release(r->held[i]);
  r->nheld = 0;
  r->held_rows = 0;
}

static void rebatch_free(gfi_sink *k) {
  if (!k) return;
  rebatch *r = k->state;
  if (r) {
    drop_held(r);
    if (r->held) gfi_mfree(r->a, r->held, sizeof *r->held * (size_t)r->cap);
    if (r->next) r->next->free(r->next);
    gfi_mfree(r->a, r, sizeof *r);
  }
  gfi_mfree(NULL, k, sizeof *k);
}

/* Hands on the first `n` held rows as one batch (n <= held_rows): a
 * zero-copy slice when they lie in one batch of one piece, else copied
 * into one batch. */
static gf_status emit(rebatch *r, int64_t n, gf_error *err) {
  gf_frame *first = r->held[0];
  gf_frame *out = NULL;
  gf_status st = GF_OK;
  int64_t used = 0; /* rows of held pieces taken whole */
  int whole = 0;
  if (gf_frame_num_batches(first) <= 1 && gf_frame_num_rows(first) >= n) {
    st = gf_frame_slice(first, 0, n, &out, err);
  } else {
    while (whole < r->nheld && used + gf_frame_num_rows(r->held[whole]) <= n)
      used += gf_frame_num_rows(r->held[whole++]);
    gf_frame *tail = NULL;
    if (used < n) st = gf_frame_slice(r->held[whole], 0, n - used, &tail, err);
    gf_frame *cat = NULL;
    if (st == GF_OK) {
      /* held[0..whole) then the tail: concat takes an array of frames. */
      gf_frame *last = whole < r->nheld ? r->held[whole] : NULL;
      if (tail) r->held[whole] = tail;
      st = gf_frame_concat(r->held, whole + (tail ? 1 : 0), r->a, &cat, err);
      if (tail) r->held[whole] = last;
    }
    if (st == GF_OK) st = gf_frame_combine_batches(cat, r->a, &out, err);
    gf_frame_release(cat);
    gf_frame_release(tail);
  }
  if (st == GF_OK) st = r->next->push(r->next, out, r->out_pos, err);
  gf_frame_release(out);
  if (st != GF_OK) return st;
  r->out_pos += n;
  /* Drop what was handed on: whole pieces, then the front of the next. */
  int64_t left = n;
  int k = 0;
  while (k < r->nheld && gf_frame_num_rows(r->held[k]) <= left) {
    left -= gf_frame_num_rows(r->held[k]);
    gf_frame_release(r->held[k++]);
  }
  memmove(r->held, r->held + k, sizeof *r->held * (size_t)(r->nheld - k));
  r->nheld -= k;
  if (left > 0) {
    gf_frame *rest = NULL;
    int64_t rows = gf_frame_num_rows(r->held[0]);
    st = gf_frame_slice(r->held[0], left, rows - left, &rest, err);
    if (st != GF_OK) return st;
    gf_frame_release(r->held[0]);
    r->held[0] = rest;
  }
  r->held_rows -= n;
  return GF_OK;
}

static gf_status rebatch_push(gfi_sink *k, const gf_frame *f, int64_t pos, gf_error *err) {
  (void)pos; /* batches come in order; positions are recounted */
  rebatch *r = k->state;
  if (gf_frame_num_rows(f) == 0) return GF_OK;
  if (r->nheld == r->cap) {
    int nc = r->cap ? r->cap * 2 : 8;
    gf_frame **h = gfi_malloc(r->a, sizeof *h * (size_t)nc);
    if (!h) return GF_OOM(err, "the rebatching sink's pieces");
    if (r->nheld) memcpy(h, r->held, sizeof *h * (size_t)r->nheld);
    if (r->held) gfi_mfree(r->a, r->held, sizeof *h * (size_t)r->cap);
    r->held = h;
    r->cap = nc;
  }
  r->held[r->nheld++] = gf_frame_retain((gf_frame *)f);
  r->held_rows += gf_frame_num_rows(f);
  while (r->held_rows >= r->rows) GF_RETURN_NOT_OK(emit(r, r->rows, err));
  return GF_OK;
}

static gf_status rebatch_finish(gfi_sink *k, gf_frame **out, gf_error *err) {
  rebatch *r = k->state;
  if (r->held_rows > 0) GF_RETURN_NOT_OK(emit(r, r->held_rows, err));
  return r->next->finish(r->next, out, err);
}

gf_status gfi_sink_rebatch(gfi_sink **k, int64_t rows, const gf_allocator *a, gf_error *err) {
  a = gfi_alloc_or_default(a);
  gfi_sink *w = gfi_calloc(NULL, sizeof *w);
  rebatch *r = gfi_calloc(a, sizeof *r);
  if (!w || !r) {
    gfi_mfree(NULL, w, sizeof *w);
    gfi_mfree(a, r, sizeof *r);
    return GF_OOM(err, "a rebatching sink");
  }
  r->next = *k;
  r->rows = rows > 0 ? rows : 65536;
  r->a = a;
  w->state = r;
  w->push = rebatch_push;
  w->finish = rebatch_finish;
  w->free = rebatch_free;
  *k = w;
  return GF_OK;
}
