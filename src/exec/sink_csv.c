/*
 * The CSV file sink (exec/stream_internal.h): each batch is formatted (in
 * parallel, by gf_write_csv_stream) and appended as it comes, in input
 * order, to a temporary file beside the target, renamed over it when the
 * run succeeded; a failed or cancelled run removes the temporary file, so
 * no partial file is ever left. The bytes equal gf_write_csv of the whole
 * result: the header once, then the rows, each formatted on its own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exec/stream_internal.h"
#include "io/atomic_file.h"

typedef struct csvsink {
  const gf_allocator *a;
  gf_schema *schema;
  gf_csv_write_options o;
  const gf_parallel_options *po;
  gfi_atomic_file file;
  bool open;
  FILE *fp;         /* a stdio stream over a duplicate of file.fd */
  bool header_done;
} csvsink;

static void csvsink_free(gfi_sink *k) {
  if (!k) return;
  csvsink *c = k->state;
  if (c) {
    if (c->fp) fclose(c->fp);
    if (c->open) gfi_atomic_file_abort(&c->file);
    gf_schema_release(c->schema);
    gfi_mfree(c->a, c, sizeof *c);
  }
  gfi_mfree(NULL, k, sizeof *k);
}

/* Appends f's rows (the header before the first rows). */
static gf_status write_frame(csvsink *c, const gf_frame *f, gf_error *err) {
  gf_csv_write_options o = c->o;
  o.no_header = c->o.no_header || c->header_done;
  o.parallel = c->po;
  GF_RETURN_NOT_OK(gf_write_csv_stream(f, c->fp, &o, err));
  c->header_done = true;
  return GF_OK;
}

static gf_status csvsink_push(gfi_sink *k, const gf_frame *f, int64_t pos, gf_error *err) {
  (void)pos; /* batches come in order */
  return write_frame(k->state, f, err);
}

static gf_status csvsink_finish(gfi_sink *k, gf_frame **out, gf_error *err) {
  csvsink *c = k->state;
  *out = NULL;
  if (!c->header_done) {
    /* No rows: the header alone, as gf_write_csv of an empty result. */
    gf_frame *e = NULL;
    GF_RETURN_NOT_OK(gf_frame_new(c->schema, NULL, 0, c->a, &e, err));
    gf_status st = write_frame(c, e, err);
    gf_frame_release(e);
    GF_RETURN_NOT_OK(st);
  }
  errno = 0;
  int rc = fclose(c->fp);
  c->fp = NULL;
  if (rc != 0) return gf_error_set(err, GF_EIO, "%s: %s", c->file.path, strerror(errno ? errno : EIO));
  c->open = false;
  return gfi_atomic_file_commit(&c->file, err);
}

gf_status gfi_sink_csv_file(const gf_schema *schema, const char *path, const gf_csv_write_options *w,
                            const gf_parallel_options *po, gfi_sink **out, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(po->allocator);
  gfi_sink *k = gfi_calloc(NULL, sizeof *k);
  csvsink *c = gfi_calloc(a, sizeof *c);
  if (!k || !c) {
    if (k) gfi_mfree(NULL, k, sizeof *k);
    if (c) gfi_mfree(a, c, sizeof *c);
    return GF_OOM(err, "a CSV sink");
  }
  k->state = c;
  k->push = csvsink_push;
  k->finish = csvsink_finish;
  k->free = csvsink_free;
  k->finish_into = NULL;
  c->a = a;
  c->po = po;
  c->schema = gf_schema_retain((gf_schema *)schema);
  gf_csv_write_options_init(&c->o);
  if (w) memcpy(&c->o, w, w->size && w->size < sizeof c->o ? w->size : sizeof c->o);
  c->o.size = sizeof c->o;
  gf_status st = gfi_atomic_file_open(path, a, &c->file, err);
  if (st == GF_OK) {
    c->open = true;
    int fd = dup(c->file.fd);
    c->fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!c->fp) {
      if (fd >= 0) close(fd);
      st = gf_error_set(err, GF_EIO, "%s: %s", path, strerror(errno));
    }
  }
  if (st != GF_OK) {
    csvsink_free(k);
    return st;
  }
  *out = k;
  return GF_OK;
}
