/*
 * The Arrow IPC file and stream sinks (exec/stream_internal.h): each batch
 * is appended as it comes, in input order, through the incremental IPC
 * writer (io/ipc_write_internal.h), so a result never has to be held whole
 * to be written. A file (or a stream to a path) goes to a temporary name
 * beside the target, renamed over it by finish; a failed or cancelled run
 * frees the sink before finish, which removes the temporary file: no
 * partial output is ever left. A stream to a descriptor (a pipe) is
 * written as it goes; a failure leaves the reader a stream without its
 * end marker, which readers report as truncated.
 */
#include <string.h>

#include "exec/stream_internal.h"
#include "io/ipc_write_internal.h"

typedef struct ipcsink {
  const gf_allocator *a;
  gfi_ipc_writer *w;
} ipcsink;

static void ipcsink_free(gfi_sink *k) {
  if (!k) return;
  ipcsink *c = k->state;
  if (c) {
    gfi_ipc_writer_free(c->w);
    gfi_mfree(c->a, c, sizeof *c);
  }
  gfi_mfree(NULL, k, sizeof *k);
}

static gf_status ipcsink_push(gfi_sink *k, const gf_frame *f, int64_t pos, gf_error *err) {
  (void)pos; /* batches come in order */
  ipcsink *c = k->state;
  return gfi_ipc_writer_write(c->w, f, err);
}

static gf_status ipcsink_finish(gfi_sink *k, gf_frame **out, gf_error *err) {
  ipcsink *c = k->state;
  *out = NULL;
  return gfi_ipc_writer_finish(c->w, err);
}

void gfi_sink_ipc_set_dictionary(gfi_sink *k, int col, gf_array *dict) {
  ipcsink *c = k->state;
  gfi_ipc_writer_set_dictionary(c->w, col, dict);
}

/* The sink over a writer opened on path (or fd). */
static gf_status make(const gf_schema *schema, const char *path, int fd, bool file,
                      const gf_ipc_write_options *w, const gf_parallel_options *po,
                      gfi_sink **out, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(po->allocator);
  gfi_sink *k = gfi_calloc(NULL, sizeof *k);
  ipcsink *c = gfi_calloc(a, sizeof *c);
  if (!k || !c) {
    if (k) gfi_mfree(NULL, k, sizeof *k);
    if (c) gfi_mfree(a, c, sizeof *c);
    return GF_OOM(err, "an IPC sink");
  }
  c->a = a;
  k->state = c;
  k->push = ipcsink_push;
  k->finish = ipcsink_finish;
  k->free = ipcsink_free;
  k->finish_into = NULL; /* a file sink is the end of the line */
  gf_status st = gfi_ipc_writer_open(schema, path, fd, file, w, po, &c->w, err);
  if (st != GF_OK) {
    ipcsink_free(k);
    return st;
  }
  *out = k;
  return GF_OK;
}

gf_status gfi_sink_ipc_file(const gf_schema *schema, const char *path,
                            const gf_ipc_write_options *w, const gf_parallel_options *po,
                            gfi_sink **out, gf_error *err) {
  if (!path) return gf_error_set(err, GF_EINVAL, "IPC file sink: path is NULL");
  return make(schema, path, -1, true, w, po, out, err);
}

gf_status gfi_sink_ipc_stream(const gf_schema *schema, const char *path, int fd,
                              const gf_ipc_write_options *w, const gf_parallel_options *po,
                              gfi_sink **out, gf_error *err) {
  return make(schema, path, path ? -1 : fd, false, w, po, out, err);
}
