/*
 * The Arrow IPC stream-format source (exec/stream_internal.h): a file in
 * the stream format (no footer, so no index of its batches) read message
 * by message with the shared decoder (io/ipc_reader.h), as gf_read_ipc
 * reads it, but one record batch per next(): dictionary batches met on the
 * way are applied (new, replacement or delta) before the record batches
 * after them, which keep the dictionary they were decoded with, exactly as
 * in the whole read. Each record batch is decoded and validated (the
 * scan's validation level) for the projected columns only.
 */
#include <string.h>

#include "exec/exec_internal.h"
#include "exec/stream_internal.h"
#include "io/ipc_reader.h"

typedef struct ipcs {
  gfi_ipc_reader r;
  bool opened;       /* the reader holds a schema */
  char *path;
  int *cols, ncols;
  size_t next;       /* byte offset of the next message */
  bool ended;
  int batch;
  int64_t row0;
  const gf_parallel_options *po;
} ipcs;

static void ipcs_free(gfi_source *s) {
  if (!s) return;
  ipcs *x = s->state;
  if (x) {
    gfi_ipc_reader_free(&x->r);
    if (x->path) gfi_mfree(NULL, x->path, strlen(x->path) + 1);
    if (x->cols) gfi_mfree(NULL, x->cols, sizeof *x->cols * (size_t)(x->ncols ? x->ncols : 1));
    gfi_mfree(NULL, x, sizeof *x);
  }
  gf_schema_release(s->schema);
  gfi_mfree(NULL, s, sizeof *s);
}

/* Prefixes an input error with the file and the batch. */
static gf_status named(ipcs *x, gf_status st, const gf_error *e, gf_error *err) {
  if (st == GF_ENOMEM || st == GF_ECANCELED || st == GF_ETIMEDOUT)
    return gf_error_set(err, st, "%s", e->message);
  return gf_error_set(err, st, "%.300s: IPC stream, record batch %d (counted from 0): %s", x->path,
                      x->batch, e->message);
}

static gf_status ipcs_next(gfi_source *s, gf_frame **out, int64_t *row0, gf_error *err) {
  ipcs *x = s->state;
  *out = NULL;
  *row0 = x->row0;
  if (x->ended) return GF_OK;
  GF_RETURN_NOT_OK(gfi_check_stop(x->po, 0, NULL, err));
  gf_error e;
  gf_error_clear(&e);
  x->r.err = &e;
  x->r.par = *x->po;
  x->r.start_ns = gfi_now_ns();
  const gf_allocator *a = gfi_alloc_or_default(x->po->allocator);
  x->r.a = a;
  for (;;) {
    gfi_ipc_msg m;
    size_t after = x->next;
    bool eos = false;
    gf_status st = gfi_ipc_read_message(&x->r, x->next, x->r.len, &m, &after, &eos);
    if (st != GF_OK) return named(x, st, &e, err);
    if (eos) {
      x->ended = true;
      return GF_OK;
    }
    x->next = after;
    if (m.type == MSG_DICTIONARY_BATCH) {
      st = gfi_ipc_read_dictionary(&x->r, &m);
      if (st != GF_OK) return named(x, st, &e, err);
      continue;
    }
    if (m.type != MSG_RECORD_BATCH)
      return gf_error_set(err, GF_EINVAL, "%.300s: IPC stream: second schema at byte %zu", x->path,
                          m.pos);
    size_t n1 = (size_t)(x->ncols ? x->ncols : 1);
    gf_array **arr = gfi_calloc(a, sizeof *arr * n1);
    if (!arr) return GF_OOM(err, "an IPC stream batch");
    st = gfi_ipc_decode_batch(&x->r, &m, x->cols, x->ncols, arr);
    if (st != GF_OK) {
      gfi_mfree(a, arr, sizeof *arr * n1);
      return named(x, st, &e, err);
    }
    for (int k = 0; k < x->ncols && st == GF_OK; k++)
      if (arr[k]->type.id != gf_schema_field(s->schema, k)->type.id)
        st = gf_error_set(err, GF_ENOTSUP,
                          "%.300s: IPC stream, record batch %d: column '%.200s': its views hold "
                          "more than 2^31-1 bytes of strings; a streamed run cannot widen a "
                          "column it already handed out (read the file whole: gf_read_ipc)",
                          x->path, x->batch, gf_schema_field(s->schema, k)->name);
    if (st == GF_OK) st = gf_frame_new(s->schema, arr, 1, a, out, err);
    for (int k = 0; k < x->ncols; k++) gf_array_release(arr[k]);
    gfi_mfree(a, arr, sizeof *arr * n1);
    if (st != GF_OK) return st;
    x->batch++;
    x->row0 += gf_frame_num_rows(*out);
    return GF_OK;
  }
}

gf_status gfi_source_ipc_stream(const char *path, const gf_ipc_read_options *o,
                                const char *const *cols, int ncols,
                                const gf_parallel_options *po, gfi_source **out, gf_error *err) {
  gfi_source *s = gfi_calloc(NULL, sizeof *s);
  ipcs *x = gfi_calloc(NULL, sizeof *x);
  size_t pn = strlen(path) + 1;
  char *pc = gfi_malloc(NULL, pn);
  if (!s || !x || !pc) {
    if (s) gfi_mfree(NULL, s, sizeof *s);
    if (x) gfi_mfree(NULL, x, sizeof *x);
    if (pc) gfi_mfree(NULL, pc, pn);
    return GF_OOM(err, "an IPC stream source");
  }
  memcpy(pc, path, pn);
  x->path = pc;
  x->po = po;
  s->state = x;
  s->next = ipcs_next;
  s->free = ipcs_free;
  gf_ipc_read_options ro;
  gf_ipc_read_options_init(&ro);
  if (o) memcpy(&ro, o, o->size && o->size < sizeof ro ? o->size : sizeof ro);
  ro.size = sizeof ro;
  ro.parallel = po;
  ro.metadata = NULL;
  const gf_allocator *a = gfi_alloc_or_default(po->allocator);
  gfi_vec_init(&x->r.columns, a);
  x->r.a = a;
  x->r.par = *po;
  x->r.start_ns = gfi_now_ns();
  x->r.validation = ro.validation;
  gf_buffer *whole = NULL;
  gf_status st = gfi_ipc_map_path(path, &ro, &whole, err);
  gf_error e;
  gf_error_clear(&e);
  x->r.err = &e;
  if (st == GF_OK) {
    x->r.whole = whole;
    x->r.data = gf_buffer_data(whole);
    x->r.len = gf_buffer_size(whole);
    gfi_ipc_msg m;
    bool eos = false;
    st = gfi_ipc_read_message(&x->r, 0, x->r.len, &m, &x->next, &eos);
    if (st == GF_OK && eos)
      st = gf_error_set(&e, GF_EINVAL, "IPC stream ends at byte 0 before its schema");
    else if (st == GF_OK && m.type != MSG_SCHEMA)
      st = gf_error_set(&e, GF_EINVAL, "IPC stream: message at byte 0 is not a schema");
    if (st == GF_OK) st = gfi_ipc_decode_schema(&x->r, &m.header);
    if (st != GF_OK) st = gf_error_set(err, st, "%.300s: %s", path, e.message);
  }
  const gf_schema *fs = st == GF_OK ? x->r.schema : NULL;
  x->ncols = st == GF_OK ? (cols ? ncols : gf_schema_num_fields(fs)) : 0;
  gf_field *fields = NULL;
  if (st == GF_OK) {
    size_t n1 = (size_t)(x->ncols ? x->ncols : 1);
    x->cols = gfi_calloc(NULL, sizeof *x->cols * n1);
    fields = gfi_calloc(NULL, sizeof *fields * n1);
    if (!x->cols || !fields) st = GF_OOM(err, "an IPC stream source");
  }
  for (int k = 0; k < x->ncols && st == GF_OK; k++) {
    int c = cols ? gf_schema_find(fs, cols[k]) : k;
    if (c < 0) {
      st = gf_error_set(err, GF_EINVAL, "%s: no column '%.300s' in the stream", path, cols[k]);
      break;
    }
    x->cols[k] = c;
    fields[k] = *gf_schema_field(fs, c);
  }
  if (st == GF_OK) st = gf_schema_new(fields, x->ncols, &s->schema, err);
  if (fields) gfi_mfree(NULL, fields, sizeof *fields * (size_t)(x->ncols ? x->ncols : 1));
  if (st != GF_OK) {
    ipcs_free(s);
    return st;
  }
  *out = s;
  return GF_OK;
}
