/*
 * The Arrow IPC file source (exec/stream_internal.h): io/ipc_source.h
 * opens the file in O(metadata) (footer, schema, every block's metadata);
 * each record batch is decoded, validated and given statistics when the
 * driver reaches it (source_batches.c reads a few ahead in parallel).
 * Dictionaries are loaded once and shared by every batch, so the batches
 * carry one frame-wide dictionary per column, as gf_read_ipc_file's do.
 */
#include <string.h>

#include "exec/stream_internal.h"
#include "io/ipc_source.h"

typedef struct ipcsrc {
  gfi_ipc_source *src;
  char *path;
  int *cols, ncols;
} ipcsrc;

static void ipc_close(void *user) {
  ipcsrc *x = user;
  if (!x) return;
  gfi_ipc_source_close(x->src);
  if (x->path) gfi_mfree(NULL, x->path, strlen(x->path) + 1);
  if (x->cols) gfi_mfree(NULL, x->cols, sizeof *x->cols * (size_t)(x->ncols ? x->ncols : 1));
  gfi_mfree(NULL, x, sizeof *x);
}

/* Batch i; input errors are prefixed with the file's path (the reader
 * names the batch and the byte offset). */
static gf_status ipc_read(void *user, int i, const gf_parallel_options *po, gf_frame **out,
                          gf_error *err) {
  ipcsrc *x = user;
  gf_error e;
  gf_error_clear(&e);
  gf_status st = gfi_ipc_source_read_batch(x->src, i, x->cols, x->ncols, po, out, &e);
  if (st == GF_OK) return GF_OK;
  if (st == GF_ENOMEM || st == GF_ECANCELED || st == GF_ETIMEDOUT ||
      strncmp(e.message, x->path, strlen(x->path)) == 0)
    return gf_error_set(err, st, "%s", e.message);
  return gf_error_set(err, st, "%.300s: %s", x->path, e.message);
}

static int64_t ipc_row0(void *user, int i) {
  return gfi_ipc_source_batch_offset(((ipcsrc *)user)->src, i);
}

static int64_t ipc_rows(void *user, int i) {
  return gfi_ipc_source_batch_rows(((ipcsrc *)user)->src, i);
}

gf_status gfi_source_ipc(const char *path, const gf_ipc_read_options *o,
                         const char *const *cols, int ncols, const gf_parallel_options *po,
                         int ahead, gfi_source **out, gf_error *err) {
  ipcsrc *x = gfi_calloc(NULL, sizeof *x);
  size_t pn = strlen(path) + 1;
  if (x) x->path = gfi_malloc(NULL, pn);
  if (!x || !x->path) {
    ipc_close(x);
    return GF_OOM(err, "an IPC source");
  }
  memcpy(x->path, path, pn);
  gf_ipc_read_options ro;
  gf_ipc_read_options_init(&ro);
  if (o) memcpy(&ro, o, o->size && o->size < sizeof ro ? o->size : sizeof ro);
  ro.size = sizeof ro;
  ro.parallel = po;
  ro.metadata = NULL;
  gf_status st = gfi_ipc_source_open(path, &ro, &x->src, err);
  const gf_schema *fs = st == GF_OK ? gfi_ipc_source_schema(x->src) : NULL;
  int nf = fs ? gf_schema_num_fields(fs) : 0;
  x->ncols = cols ? ncols : nf;
  gf_field *fields = NULL;
  if (st == GF_OK) {
    size_t n1 = (size_t)(x->ncols ? x->ncols : 1);
    x->cols = gfi_calloc(NULL, sizeof *x->cols * n1);
    fields = gfi_calloc(NULL, sizeof *fields * n1);
    if (!x->cols || !fields) st = GF_OOM(err, "an IPC source");
  }
  for (int k = 0; k < x->ncols && st == GF_OK; k++) {
    int c = cols ? gf_schema_find(fs, cols[k]) : k;
    if (c < 0) {
      st = gf_error_set(err, GF_EINVAL, "%s: no column '%.300s' in the file", path, cols[k]);
      break;
    }
    x->cols[k] = c;
    fields[k] = *gf_schema_field(fs, c);
  }
  gf_schema *schema = NULL;
  if (st == GF_OK) st = gf_schema_new(fields, x->ncols, &schema, err);
  if (fields) gfi_mfree(NULL, fields, sizeof *fields * (size_t)(x->ncols ? x->ncols : 1));
  if (st != GF_OK) {
    ipc_close(x);
    return st;
  }
  gfi_batch_reader r = {ipc_read, ipc_row0, ipc_rows, ipc_close, x};
  return gfi_source_batches(schema, gfi_ipc_source_num_batches(x->src), &r, po, ahead, out, err);
}
