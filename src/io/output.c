/*
 * The public face (include/gopherframe/output.h) of the text-output
 * plumbing the CSV writer uses: atomic files (atomic_file.c) and ordered
 * parallel formatting (csv_write_text.c). Thin wrappers, so the gf tool and
 * the library write files the same way.
 */
#include "io/csv_write_internal.h"

struct gf_output_file {
  gfi_atomic_file file;
  const gf_allocator *alloc;
};

/* gf_text_buffer is never defined: a gf_text_buffer * is the kernel's
 * gfi_textbuf * under a public name, converted back here. */
static gfi_textbuf *textbuf(gf_text_buffer *b) { return (gfi_textbuf *)(void *)b; }

/* See output.h. */
gf_status gf_output_file_open(const char *path, const gf_allocator *a,
                              gf_output_file **out, gf_error *err) {
  if (!path || !out) return gf_error_set(err, GF_EINVAL, "gf_output_file_open: invalid argument");
  a = gfi_alloc_or_default(a);
  gf_output_file *f = gfi_malloc(a, sizeof *f);
  if (!f) return GF_OOM(err, "an output file");
  f->alloc = a;
  gf_status st = gfi_atomic_file_open(path, a, &f->file, err);
  if (st != GF_OK) {
    gfi_mfree(a, f, sizeof *f);
    return st;
  }
  *out = f;
  return GF_OK;
}

/* See output.h. */
gf_status gf_output_file_write(gf_output_file *f, const void *data, size_t len,
                               gf_error *err) {
  return gfi_atomic_file_write(&f->file, data, len, err);
}

/* See output.h. */
gf_status gf_output_file_commit(gf_output_file *f, gf_error *err) {
  gf_status st = gfi_atomic_file_commit(&f->file, err);
  gfi_mfree(f->alloc, f, sizeof *f);
  return st;
}

/* See output.h. */
void gf_output_file_abort(gf_output_file *f) {
  if (!f) return;
  gfi_atomic_file_abort(&f->file);
  gfi_mfree(f->alloc, f, sizeof *f);
}

/* See output.h. */
char *gf_text_buffer_reserve(gf_text_buffer *b, size_t n, gf_error *err) {
  gfi_textbuf *t = textbuf(b);
  if (gfi_textbuf_reserve(t, n, err) != GF_OK) return NULL;
  return t->data + t->len;
}

/* See output.h. */
void gf_text_buffer_advance(gf_text_buffer *b, size_t n) { textbuf(b)->len += n; }

/* The user's kernel and its argument, for the adapter below. */
typedef struct rows_job {
  gf_rows_text_fn fn;
  void *user;
} rows_job;

/* gfi_text_chunk_fn calling the public kernel. */
static gf_status rows_adapter(void *user, int64_t start, int64_t end, gfi_textbuf *out,
                              gf_task_ctx *ctx) {
  const rows_job *j = user;
  return j->fn(j->user, start, end, (gf_text_buffer *)(void *)out, ctx);
}

/* See output.h. */
gf_status gf_format_rows_ordered(int64_t total_rows, int64_t bytes_per_row,
                                 gf_rows_text_fn fn, void *user, gf_text_sink_fn sink,
                                 void *sink_user, const gf_parallel_options *opts,
                                 gf_error *err) {
  if (!fn || !sink || total_rows < 0 || bytes_per_row < 0)
    return gf_error_set(err, GF_EINVAL, "gf_format_rows_ordered: invalid argument");
  rows_job j = {fn, user};
  return gfi_format_rows_ordered(total_rows, bytes_per_row, rows_adapter, &j, sink, sink_user,
                                 opts, err);
}
