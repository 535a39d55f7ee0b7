/*
 * Arrow C Stream Interface: a frame exported as an ArrowArrayStream (one
 * struct array per batch) and a stream imported into a frame.
 */
#include <stddef.h>
#include <string.h>

#include "data/cdata_internal.h"
#include "data/view_internal.h"

/* Private data of an exported stream: the frame it reads (retained). */
typedef struct cdata_stream_priv {
  gf_frame *frame;
  const gf_allocator *alloc;
  unsigned flags; /* gf_cdata_export_options flags */
  int next;
  char last_error[GF_ERROR_MESSAGE_SIZE];
} cdata_stream_priv;

/* Records a failure for get_last_error and returns its errno. */
static int cdata_stream_fail(cdata_stream_priv *p, gf_status st,
                             const gf_error *e) {
  snprintf(p->last_error, sizeof p->last_error, "%s",
           e->message[0] ? e->message : gf_status_string(st));
  return gfi_cdata_status_to_errno(st);
}

/* get_schema callback: the frame's schema as "+s". */
static int cdata_stream_get_schema(struct ArrowArrayStream *s,
                                   struct ArrowSchema *out) {
  cdata_stream_priv *p = s->private_data;
  gf_error e;
  gf_error_clear(&e);
  gf_status st = gfi_cdata_schema_export(p->alloc, p->frame->schema, p->flags, out,
                                         &e);
  return st == GF_OK ? 0 : cdata_stream_fail(p, st, &e);
}

/* get_next callback: the next batch, or a released array at the end. */
static int cdata_stream_get_next(struct ArrowArrayStream *s,
                                 struct ArrowArray *out) {
  cdata_stream_priv *p = s->private_data;
  if (p->next >= p->frame->num_batches) {
    memset(out, 0, sizeof *out);
    out->release = NULL;
    return 0;
  }
  gf_error e;
  gf_error_clear(&e);
  gf_status st = gfi_cdata_export_batch(p->alloc, p->frame, p->next, p->flags, out,
                                        &e);
  if (st != GF_OK) return cdata_stream_fail(p, st, &e);
  p->next++;
  return 0;
}

/* get_last_error callback: the message of the last failed call, or NULL. */
static const char *cdata_stream_get_last_error(struct ArrowArrayStream *s) {
  cdata_stream_priv *p = s->private_data;
  return p->last_error[0] ? p->last_error : NULL;
}

/* release callback: drops the frame and marks the stream released. */
static void cdata_stream_release(struct ArrowArrayStream *s) {
  if (s == NULL || s->release == NULL) return;
  cdata_stream_priv *p = s->private_data;
  const gf_allocator *a = p->alloc;
  gf_frame_release(p->frame);
  gfi_mfree(a, p, sizeof *p);
  s->release = NULL;
  s->private_data = NULL;
}

/* Exports a frame as an ArrowArrayStream with options; see cdata.h. */
GF_API gf_status gf_frame_export_stream_with(gf_frame *f,
                                             const gf_cdata_export_options *o,
                                             struct ArrowArrayStream *out,
                                             gf_error *err) {
  if (f == NULL || out == NULL)
    return gf_error_set(err, GF_EINVAL, "frame and out must not be NULL");
  const gf_allocator *a = gfi_alloc_or_default(f->allocator);
  cdata_stream_priv *p = gfi_calloc(a, sizeof *p);
  if (p == NULL) return GF_OOM(err, "an exported ArrowArrayStream");
  p->frame = gf_frame_retain(f);
  p->alloc = a;
  if (o != NULL &&
      o->size >= offsetof(gf_cdata_export_options, flags) + sizeof o->flags)
    p->flags = o->flags;
  out->get_schema = cdata_stream_get_schema;
  out->get_next = cdata_stream_get_next;
  out->get_last_error = cdata_stream_get_last_error;
  out->release = cdata_stream_release;
  out->private_data = p;
  return GF_OK;
}

/* Exports a frame as an ArrowArrayStream; see cdata.h. */
GF_API gf_status gf_frame_export_stream(gf_frame *f, struct ArrowArrayStream *out,
                                        gf_error *err) {
  return gf_frame_export_stream_with(f, NULL, out, err);
}

/* Error of a failed stream callback: its errno as a status, and the
 * producer's message when it has one. */
static gf_status cdata_stream_callback_error(struct ArrowArrayStream *s,
                                             const char *what, int rc,
                                             gf_error *err) {
  const char *msg = s->get_last_error ? s->get_last_error(s) : NULL;
  gf_status st = gfi_cdata_errno_to_status(rc);
  return gf_error_set(err, st, "Arrow stream %s failed (errno %d): %s", what,
                      rc, msg ? msg : "no message");
}

/* Imports a stream into a frame through `alloc`; releases the stream on
 * every path; see cdata.h. */
GF_API gf_status gf_frame_import_stream_with(struct ArrowArrayStream *stream,
                                             gf_import_check check,
                                             const gf_allocator *alloc,
                                             gf_frame **out, gf_error *err) {
  if (stream == NULL)
    return gf_error_set(err, GF_EINVAL, "stream must not be NULL");
  if (stream->release == NULL)
    return gf_error_set(err, GF_EINVAL, "the ArrowArrayStream is released");
  const gf_allocator *a = gfi_alloc_or_default(alloc);
  gf_status st = GF_OK;
  gf_schema *schema = NULL;
  /* The producer's schema is kept until the end: its formats tell which
   * columns are views to convert. */
  struct ArrowSchema sch;
  memset(&sch, 0, sizeof sch);
  gfi_vec colvec; /* the batches' columns, batch-major */
  gfi_vec_init(&colvec, a);
  gf_array **cols = NULL;
  int nbatches = 0;
  int n = 0;
  if (out == NULL) {
    st = gf_error_set(err, GF_EINVAL, "out must not be NULL");
    goto done;
  }

  int rc = stream->get_schema(stream, &sch);
  if (rc != 0) {
    st = cdata_stream_callback_error(stream, "get_schema", rc, err);
    goto done;
  }
  st = gf_schema_import(&sch, &schema, err);
  if (st != GF_OK) goto done;
  n = schema->n;

  for (;;) {
    struct ArrowArray arr;
    memset(&arr, 0, sizeof arr);
    rc = stream->get_next(stream, &arr);
    if (rc != 0) {
      st = cdata_stream_callback_error(stream, "get_next", rc, err);
      goto done;
    }
    if (arr.release == NULL) break; /* end of stream */
    if (nbatches == INT32_MAX) {
      arr.release(&arr);
      st = gf_error_set(err, GF_ERANGE, "Arrow stream has too many batches");
      goto done;
    }
    if (n > 0) {
      if (gfi_vec_reserve(&colvec, (size_t)n * sizeof *cols, NULL) != GF_OK) {
        arr.release(&arr);
        st = GF_OOM(err, "imported stream batches");
        goto done;
      }
      cols = (gf_array **)colvec.data;
    }
    gf_error sub;
    gf_error_clear(&sub);
    gf_array *none[1];
    st = gfi_cdata_import_batch(&arr, schema, &sch, check, a,
                                n > 0 ? cols + (size_t)nbatches * (size_t)n : none,
                                &sub);
    if (st != GF_OK) {
      arr.release(&arr); /* the import left it untouched: still ours */
      gf_error_set(err, st, "Arrow stream batch %d: %s", nbatches, sub.message);
      goto done;
    }
    nbatches++;
    colvec.len += (size_t)n * sizeof *cols;
  }
  /* View columns of which a batch came out large_*: all batches large. */
  if (n > 0 && nbatches > 0)
    st = gfi_view_unify_columns(a, &schema, cols, nbatches, n, err);
  if (st == GF_OK) st = gf_frame_new(schema, cols, nbatches, a, out, err);

done:
  if (sch.release != NULL) sch.release(&sch);
  for (size_t i = 0; i < (size_t)nbatches * (size_t)n; i++)
    gf_array_release(cols[i]);
  gfi_vec_reset(&colvec);
  gf_schema_release(schema);
  stream->release(stream);
  return st;
}

/* Imports a stream into a frame with the default allocator; see cdata.h. */
GF_API gf_status gf_frame_import_stream(struct ArrowArrayStream *stream,
                                        gf_import_check check, gf_frame **out,
                                        gf_error *err) {
  return gf_frame_import_stream_with(stream, check, NULL, out, err);
}
