/*
 * A source over a file's numbered batches (exec/stream_internal.h): the
 * Arrow IPC file and Parquet sources are this plus their format's reader.
 *
 * Read-ahead: when its queue is empty, next() decodes the following
 * `ahead` batches at once, one per pool task (gf_run_chunks, each batch
 * into its own slot), and then hands them out one at a time in file
 * order. The driver's steps and sink therefore see exactly the batches of
 * a one-at-a-time read, in the same order; only the decoding overlaps.
 * At most `ahead` decoded batches are held by the source at any time.
 *
 * Errors: a batch that fails ends the source after the batches before it
 * were handed out (the lowest failing batch of a group is the one
 * reported, whatever the worker count); the batches after it are dropped
 * unread or released, so nothing after the failure reaches the sink.
 */
#include <string.h>

#include "exec/exec_internal.h"
#include "exec/stream_internal.h"

typedef struct bsrc {
  gfi_batch_reader r;
  const gf_parallel_options *po;
  int n, ahead;
  int next;            /* first batch not yet decoded */
  gf_frame **q;        /* ahead slots */
  gf_status *qst;      /* per slot */
  gf_error *qerr;      /* per slot */
  int qlo, qhi;        /* slots [qlo, qhi) hold batches next - (qhi - qlo) ... */
  int qbase;           /* batch index of slot 0 */
  gf_status failed;    /* sticky error once reported */
  gf_error ferr;
} bsrc;

static void drop_queue(bsrc *b) {
  for (int k = b->qlo; k < b->qhi; k++) {
    gf_frame_release(b->q[k]);
    b->q[k] = NULL;
  }
  b->qlo = b->qhi = 0;
}

static void bsrc_free(gfi_source *s) {
  if (!s) return;
  bsrc *b = s->state;
  if (b) {
    drop_queue(b);
    if (b->q) gfi_mfree(NULL, b->q, sizeof *b->q * (size_t)b->ahead);
    if (b->qst) gfi_mfree(NULL, b->qst, sizeof *b->qst * (size_t)b->ahead);
    if (b->qerr) gfi_mfree(NULL, b->qerr, sizeof *b->qerr * (size_t)b->ahead);
    if (b->r.close) b->r.close(b->r.user);
    gfi_mfree(NULL, b, sizeof *b);
  }
  gf_schema_release(s->schema);
  gfi_mfree(NULL, s, sizeof *s);
}

/* Task c of a group: decodes batch qbase + c into slot c. Never fails the
 * run: the status stays in its slot so the lowest failing batch is the
 * one reported. */
static gf_status read_slot(void *user, const gf_chunk_spec *ch, gf_task_ctx *tc) {
  (void)tc;
  bsrc *b = user;
  int c = (int)ch->chunk_id;
  gf_error_clear(&b->qerr[c]);
  b->qst[c] = b->r.read(b->r.user, b->qbase + c, b->po, &b->q[c], &b->qerr[c]);
  return GF_OK;
}

/* Decodes the next group of batches into the queue; GF_OK with an empty
 * queue only at the end. */
static gf_status fill(bsrc *b, gf_error *err) {
  int k = b->n - b->next < b->ahead ? b->n - b->next : b->ahead;
  if (k <= 0) return GF_OK;
  GF_RETURN_NOT_OK(gfi_check_stop(b->po, 0, NULL, err));
  b->qbase = b->next;
  for (int c = 0; c < k; c++) {
    b->q[c] = NULL;
    b->qst[c] = GF_OK;
  }
  if (k == 1) {
    /* One batch: read it on this thread, so its own columns can use
     * every worker (a pool task's nested calls run inline). */
    gf_error_clear(&b->qerr[0]);
    b->qst[0] = b->r.read(b->r.user, b->qbase, b->po, &b->q[0], &b->qerr[0]);
  } else {
    gf_chunk_spec chunks[GFI_SOURCE_MAX_AHEAD];
    for (int c = 0; c < k; c++) {
      chunks[c].start_row = 0;
      /* Weighted by rows so the runtime's threshold sees the work; at
       * least the threshold, so a group of small batches still spreads. */
      int64_t rows = b->r.rows ? b->r.rows(b->r.user, b->qbase + c) : 0;
      chunks[c].end_row = rows > GF_DEFAULT_MIN_PARALLEL_ROWS ? rows : GF_DEFAULT_MIN_PARALLEL_ROWS;
      chunks[c].chunk_id = c;
    }
    gf_parallel_options o = *b->po;
    o.min_parallel_rows = 1;
    gf_status st = gf_run_chunks(chunks, k, read_slot, b, &o, err);
    if (st != GF_OK) {
      for (int c = 0; c < k; c++) {
        gf_frame_release(b->q[c]);
        b->q[c] = NULL;
      }
      return st;
    }
  }
  for (int c = 0; c < k; c++)
    if (b->qst[c] == GF_OK && !b->q[c]) {
      /* A task the runtime did not run (it stopped early): not a batch. */
      b->qst[c] = GF_EINTERNAL;
      gf_error_set(&b->qerr[c], GF_EINTERNAL, "batch source: batch %d was not read", b->qbase + c);
    }
  b->next += k;
  b->qlo = 0;
  b->qhi = k;
  /* The first failure ends the group: later slots are dropped. */
  for (int c = 0; c < k; c++)
    if (b->qst[c] != GF_OK) {
      b->failed = b->qst[c];
      b->ferr = b->qerr[c];
      for (int d = c; d < k; d++) {
        gf_frame_release(b->q[d]);
        b->q[d] = NULL;
      }
      b->qhi = c;
      b->next = b->n;
      break;
    }
  return GF_OK;
}

static gf_status bsrc_next(gfi_source *s, gf_frame **out, int64_t *row0, gf_error *err) {
  bsrc *b = s->state;
  *out = NULL;
  *row0 = 0;
  if (b->qlo == b->qhi && !b->failed) {
    b->qlo = b->qhi = 0;
    GF_RETURN_NOT_OK(fill(b, err));
  }
  if (b->qlo < b->qhi) {
    int i = b->qbase + b->qlo;
    *row0 = b->r.row0(b->r.user, i);
    *out = b->q[b->qlo];
    b->q[b->qlo++] = NULL;
    return GF_OK;
  }
  if (b->failed) {
    if (err) *err = b->ferr;
    return b->failed;
  }
  return GF_OK; /* the end */
}

gf_status gfi_source_batches(gf_schema *schema, int nbatches, const gfi_batch_reader *r,
                             const gf_parallel_options *po, int ahead, gfi_source **out,
                             gf_error *err) {
  if (ahead < 1) ahead = 1;
  if (ahead > GFI_SOURCE_MAX_AHEAD) ahead = GFI_SOURCE_MAX_AHEAD;
  gfi_source *s = gfi_calloc(NULL, sizeof *s);
  bsrc *b = gfi_calloc(NULL, sizeof *b);
  gf_frame **q = gfi_calloc(NULL, sizeof *q * (size_t)ahead);
  gf_status *qst = gfi_calloc(NULL, sizeof *qst * (size_t)ahead);
  gf_error *qerr = gfi_calloc(NULL, sizeof *qerr * (size_t)ahead);
  if (!s || !b || !q || !qst || !qerr) {
    if (s) gfi_mfree(NULL, s, sizeof *s);
    if (b) gfi_mfree(NULL, b, sizeof *b);
    if (q) gfi_mfree(NULL, q, sizeof *q * (size_t)ahead);
    if (qst) gfi_mfree(NULL, qst, sizeof *qst * (size_t)ahead);
    if (qerr) gfi_mfree(NULL, qerr, sizeof *qerr * (size_t)ahead);
    if (r->close) r->close(r->user);
    gf_schema_release(schema);
    return GF_OOM(err, "a batch source");
  }
  b->r = *r;
  b->po = po;
  b->n = nbatches;
  b->ahead = ahead;
  b->q = q;
  b->qst = qst;
  b->qerr = qerr;
  s->state = b;
  s->schema = schema;
  s->next = bsrc_next;
  s->free = bsrc_free;
  *out = s;
  return GF_OK;
}
