/*
 * The ArrowArrayStream source (exec/stream_internal.h): a stream imported
 * batch by batch, each checked in full (GF_IMPORT_CHECK_FULL, as
 * gf_plan_collect's materialising import) when the driver reaches it.
 *
 * The stream is consumed once. Opening reads its schema only (get_schema
 * may be called any number of times), so a run that turns out not to
 * stream after opening leaves the stream to the materialising path; the
 * first next() marks it consumed and from then on the source releases it
 * when freed. Batches are pulled on the caller's thread only (the driver
 * does not prefetch a stream source: producers may be bound to a thread,
 * e.g. one holding an interpreter lock).
 */
#include <string.h>

#include "data/cdata_internal.h"
#include "exec/exec_internal.h"
#include "exec/stream_internal.h"

typedef struct strsrc {
  struct ArrowArrayStream *st;
  atomic_bool *consumed;
  bool started;
  struct ArrowSchema sch;  /* the producer's schema (its formats name views) */
  gf_schema *full;         /* every column */
  int *cols, ncols;        /* the projection, indexes into full */
  const gf_parallel_options *po;
  int64_t row0;
  int batch;
} strsrc;

static void str_free(gfi_source *s) {
  if (!s) return;
  strsrc *x = s->state;
  if (x) {
    if (x->sch.release) x->sch.release(&x->sch);
    if (x->started && x->st->release) x->st->release(x->st);
    gf_schema_release(x->full);
    if (x->cols) gfi_mfree(NULL, x->cols, sizeof *x->cols * (size_t)(x->ncols ? x->ncols : 1));
    gfi_mfree(NULL, x, sizeof *x);
  }
  gf_schema_release(s->schema);
  gfi_mfree(NULL, s, sizeof *s);
}

static gf_status str_next(gfi_source *s, gf_frame **out, int64_t *row0, gf_error *err) {
  strsrc *x = s->state;
  *out = NULL;
  *row0 = x->row0;
  if (!x->started) {
    if (atomic_exchange(x->consumed, true))
      return gf_error_set(err, GF_EINVAL, "stream source already consumed by an earlier run");
    x->started = true;
  }
  if (!x->st->release) return GF_OK; /* ended */
  GF_RETURN_NOT_OK(gfi_check_stop(x->po, 0, NULL, err));
  struct ArrowArray arr;
  memset(&arr, 0, sizeof arr);
  int rc = x->st->get_next(x->st, &arr);
  if (rc != 0) {
    const char *m = x->st->get_last_error ? x->st->get_last_error(x->st) : NULL;
    return gf_error_set(err, gfi_cdata_errno_to_status(rc),
                        "Arrow stream get_next failed at batch %d (errno %d): %s", x->batch, rc,
                        m ? m : "no message");
  }
  if (!arr.release) {
    x->st->release(x->st); /* the end: nothing more to ask */
    return GF_OK;
  }
  const gf_allocator *a = gfi_alloc_or_default(x->po->allocator);
  int n = gf_schema_num_fields(x->full);
  size_t n1 = (size_t)(n ? n : 1);
  gf_array **all = gfi_calloc(a, sizeof *all * n1);
  gf_array **sel = gfi_calloc(a, sizeof *sel * (size_t)(x->ncols ? x->ncols : 1));
  gf_status st = GF_OK;
  if (!all || !sel) {
    arr.release(&arr);
    st = GF_OOM(err, "an imported stream batch");
  }
  gf_error sub;
  gf_error_clear(&sub);
  if (st == GF_OK) {
    st = gfi_cdata_import_batch(&arr, x->full, &x->sch, GF_IMPORT_CHECK_FULL, a, all, &sub);
    if (st != GF_OK) {
      arr.release(&arr); /* the import left it untouched */
      gf_error_set(err, st, "Arrow stream batch %d: %s", x->batch, sub.message);
    }
  }
  for (int k = 0; k < x->ncols && st == GF_OK; k++) {
    sel[k] = all[x->cols[k]];
    if (sel[k]->type.id != gf_schema_field(s->schema, k)->type.id)
      st = gf_error_set(err, GF_ENOTSUP,
                        "Arrow stream batch %d: column '%.200s': its views hold more than "
                        "2^31-1 bytes of strings; a streamed run cannot widen a column it "
                        "already handed out (import the stream whole first: "
                        "gf_frame_import_stream, gf_plan_from_frame)",
                        x->batch, gf_schema_field(s->schema, k)->name);
  }
  if (st == GF_OK) st = gf_frame_new(s->schema, sel, 1, a, out, err);
  for (int k = 0; all && k < n; k++) gf_array_release(all[k]);
  if (all) gfi_mfree(a, all, sizeof *all * n1);
  if (sel) gfi_mfree(a, sel, sizeof *sel * (size_t)(x->ncols ? x->ncols : 1));
  if (st != GF_OK) return st;
  x->batch++;
  x->row0 += gf_frame_num_rows(*out);
  return GF_OK;
}

gf_status gfi_source_arrow_stream(struct ArrowArrayStream *stream, atomic_bool *consumed,
                                  const char *const *cols, int ncols,
                                  const gf_parallel_options *po, gfi_source **out,
                                  gf_error *err) {
  if (!stream->release || atomic_load(consumed))
    return gf_error_set(err, GF_ENOTSUP, "the stream was consumed: not streamed");
  gfi_source *s = gfi_calloc(NULL, sizeof *s);
  strsrc *x = gfi_calloc(NULL, sizeof *x);
  if (!s || !x) {
    if (s) gfi_mfree(NULL, s, sizeof *s);
    if (x) gfi_mfree(NULL, x, sizeof *x);
    return GF_OOM(err, "a stream source");
  }
  s->state = x;
  s->next = str_next;
  s->free = str_free;
  x->st = stream;
  x->consumed = consumed;
  x->po = po;
  gf_status st = GF_OK;
  int rc = stream->get_schema(stream, &x->sch);
  if (rc != 0) {
    const char *m = stream->get_last_error ? stream->get_last_error(stream) : NULL;
    st = gf_error_set(err, gfi_cdata_errno_to_status(rc), "Arrow stream get_schema failed (errno %d): %s",
                      rc, m ? m : "no message");
  }
  if (st == GF_OK) st = gf_schema_import(&x->sch, &x->full, err);
  int nf = st == GF_OK ? gf_schema_num_fields(x->full) : 0;
  x->ncols = cols ? ncols : nf;
  gf_field *fields = NULL;
  if (st == GF_OK) {
    size_t n1 = (size_t)(x->ncols ? x->ncols : 1);
    x->cols = gfi_calloc(NULL, sizeof *x->cols * n1);
    fields = gfi_calloc(NULL, sizeof *fields * n1);
    if (!x->cols || !fields) st = GF_OOM(err, "a stream source");
  }
  for (int k = 0; k < x->ncols && st == GF_OK; k++) {
    int c = cols ? gf_schema_find(x->full, cols[k]) : k;
    if (c < 0) {
      st = gf_error_set(err, GF_EINVAL, "Arrow stream: no column '%.300s'", cols[k]);
      break;
    }
    x->cols[k] = c;
    fields[k] = *gf_schema_field(x->full, c);
  }
  if (st == GF_OK) st = gf_schema_new(fields, x->ncols, &s->schema, err);
  if (fields) gfi_mfree(NULL, fields, sizeof *fields * (size_t)(x->ncols ? x->ncols : 1));
  if (st != GF_OK) {
    str_free(s);
    return st;
  }
  *out = s;
  return GF_OK;
}
