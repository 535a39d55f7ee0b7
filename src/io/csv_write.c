/*
 * CSV writer: gf_write_csv, gf_write_csv_stream.
 *
 * Rows are cut into chunks by the runtime's planner and formatted in
 * parallel into one text buffer per chunk; the buffers are written in row
 * order (csv_write_text.c), so the bytes never depend on the worker count
 * or chunk size. Fields follow RFC 4180: a field is quoted when it holds the
 * delimiter, the quote, CR or LF, starts or ends with a space or tab, is
 * empty while nulls are written as empty fields, or equals the null token
 * or a common default one (NA, null, NULL); quotes inside are doubled. Numbers never go through the C locale.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "data/array_internal.h"
#include "data/value_format.h"
#include "exec/exec_internal.h"
#include "io/csv_write_internal.h"

/* Room every non-string field may need (numbers, dates, timestamps). */
#define FIELD_ROOM 128

/* A dictionary column's values, each rendered once as its CSV field:
 * field k is text[offsets[k] .. offsets[k+1]). */
typedef struct dict_text {
  gfi_textbuf text;
  int64_t *offsets;
  int64_t count;
} dict_text;

typedef struct csv_writer {
  const gf_frame *frame;
  const gf_allocator *alloc;
  dict_text *dicts; /* per column; count 0 when not rendered */
  int ncols;
  char delim, quote;
  const char *null_value;
  size_t null_len;
  const char *eol;
  size_t eol_len;
  /* special[c]: byte c forces quoting when it appears anywhere. */
  bool special[256];
  /* The delimiter could appear inside numbers or dates ('-', '.', ':',
   * digits, letters), so every field is checked. */
  bool check_all;
} csv_writer;

/* Defaults: comma, double quote, header, nulls as empty fields, LF. */
void gf_csv_write_options_init(gf_csv_write_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
}

/* Loads options of any older (smaller) size; fields beyond it default. */
static gf_status load_options(const gf_csv_write_options *in, gf_csv_write_options *o,
                              gf_error *err) {
  gf_csv_write_options_init(o);
  if (!in) return GF_OK;
  if (in->size < offsetof(gf_csv_write_options, delimiter) + 1)
    return gf_error_set(err, GF_EINVAL,
                        "gf_csv_write_options.size is %zu; call gf_csv_write_options_init",
                        in->size);
  memcpy(o, in, in->size < sizeof *o ? in->size : sizeof *o);
  o->size = sizeof *o;
  return GF_OK;
}

/* Checks the dialect and fills the writer's lookup tables. */
static gf_status writer_init(csv_writer *w, const gf_frame *f, const gf_csv_write_options *o,
                             gf_error *err) {
  memset(w, 0, sizeof *w);
  w->frame = f;
  w->ncols = f->schema->n;
  w->delim = o->delimiter ? o->delimiter : ',';
  w->quote = o->quote ? o->quote : '"';
  w->null_value = o->null_value ? o->null_value : "";
  w->null_len = strlen(w->null_value);
  w->eol = o->line_end ? o->line_end : "\n";
  w->eol_len = strlen(w->eol);
  if (w->delim == '\n' || w->delim == '\r')
    return gf_error_set(err, GF_EINVAL, "CSV delimiter may not be a line break");
  if (w->quote == '\n' || w->quote == '\r')
    return gf_error_set(err, GF_EINVAL, "CSV quote may not be a line break");
  if (w->delim == w->quote)
    return gf_error_set(err, GF_EINVAL, "CSV delimiter and quote are both '%c'", w->delim);
  if (w->eol_len == 0) return gf_error_set(err, GF_EINVAL, "CSV line end is empty");
  for (size_t i = 0; i < w->eol_len; i++)
    if (w->eol[i] != '\n' && w->eol[i] != '\r')
      return gf_error_set(err, GF_EINVAL, "CSV line end must be made of CR and LF");
  for (size_t i = 0; i < w->null_len; i++) {
    char c = w->null_value[i];
    if (c == w->delim || c == w->quote || c == '\n' || c == '\r')
      return gf_error_set(err, GF_EINVAL,
                          "CSV null token '%s' contains the delimiter, quote or a line break",
                          w->null_value);
  }
  w->special[(unsigned char)w->delim] = true;
  w->special[(unsigned char)w->quote] = true;
  w->special['\n'] = true;
  w->special['\r'] = true;
  unsigned char d = (unsigned char)w->delim;
  w->check_all = (d >= '0' && d <= '9') || (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') ||
                 d == '-' || d == '+' || d == '.' || d == ':' || d == ' ' || d >= 0x80;
  for (int c = 0; c < w->ncols; c++) {
    gf_type_id id = f->schema->fields[c].type.id;
    gf_type_id vid = id == GF_TYPE_DICTIONARY ? f->schema->fields[c].type.value_id : id;
    if (vid >= GF_TYPE_COUNT_ || vid == GF_TYPE_DICTIONARY)
      return gf_error_set(err, GF_ENOTSUP, "CSV writer: column '%s' has an unsupported type",
                          f->schema->fields[c].name);
  }
  return GF_OK;
}

/* Whether text p[0..n) must be quoted to read back as itself. */
static bool needs_quote(const csv_writer *w, const char *p, size_t n) {
  if (n == 0) return w->null_len == 0;
  if (p[0] == ' ' || p[0] == '\t' || p[n - 1] == ' ' || p[n - 1] == '\t') return true;
  for (size_t i = 0; i < n; i++)
    if (w->special[(unsigned char)p[i]]) return true;
  if (w->null_len == n && memcmp(p, w->null_value, n) == 0) return true;
  /* Text a reader takes for null by default (gf_read_csv, pandas, Polars)
   * is quoted too, so it reads back as text. */
  return (n == 2 && memcmp(p, "NA", 2) == 0) ||
         (n == 4 && (memcmp(p, "null", 4) == 0 || memcmp(p, "NULL", 4) == 0));
}

/* Appends text as one field, quoted when needed. */
static gf_status put_text(const csv_writer *w, gfi_textbuf *b, const char *p, size_t n,
                          gf_error *err) {
  if (!needs_quote(w, p, n)) {
    GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, n, err));
    if (n) gfi_textbuf_put(b, p, n);
    return GF_OK;
  }
  if (n > (SIZE_MAX - 2) / 2) return gf_error_set(err, GF_ENOMEM, "CSV field too large");
  GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, 2 * n + 2, err));
  char *o = b->data + b->len;
  *o++ = w->quote;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == w->quote) *o++ = w->quote;
    *o++ = p[i];
  }
  *o++ = w->quote;
  b->len = (size_t)(o - b->data);
  return GF_OK;
}

/* Appends short generated text (a number, a date...), quoting only when
 * the delimiter could occur in such text. */
static gf_status put_short(const csv_writer *w, gfi_textbuf *b, const char *p, size_t n,
                           gf_error *err) {
  if (w->check_all) return put_text(w, b, p, n, err);
  GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, n, err));
  gfi_textbuf_put(b, p, n);
  return GF_OK;
}

/* Appends lowercase hex of binary bytes (as gf_array_format_value does). */
static gf_status put_hex(const csv_writer *w, gfi_textbuf *b, const char *p, int64_t n,
                         gf_error *err) {
  static const char hex[] = "0123456789abcdef";
  if (n < 0 || (uint64_t)n > SIZE_MAX / 4) return gf_error_set(err, GF_ENOMEM, "CSV field too large");
  if (w->check_all) {
    /* Rare: hex digits may collide with the delimiter; go through text. */
    gfi_textbuf tmp = {NULL, 0, 0, b->alloc};
    gf_status st = gfi_textbuf_reserve(&tmp, (size_t)n * 2 + 1, err);
    for (int64_t i = 0; st == GF_OK && i < n; i++) {
      unsigned char c = (unsigned char)p[i];
      tmp.data[tmp.len++] = hex[c >> 4];
      tmp.data[tmp.len++] = hex[c & 15];
    }
    if (st == GF_OK) st = put_text(w, b, tmp.data ? tmp.data : "", tmp.len, err);
    gfi_textbuf_free(&tmp);
    return st;
  }
  GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, (size_t)n * 2, err));
  for (int64_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    b->data[b->len++] = hex[c >> 4];
    b->data[b->len++] = hex[c & 15];
  }
  return GF_OK;
}

/* Appends value i of array a (any supported type, nulls as the token). */
static gf_status put_value(const csv_writer *w, gfi_textbuf *b, const gf_array *a, int64_t i,
                           gf_error *err) {
  if (a->type.id == GF_TYPE_NULL ||
      (a->null_count > 0 && a->buffers[0] &&
       !gfi_bit_get(gf_buffer_data(a->buffers[0]), a->offset + i))) {
    GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, w->null_len, err));
    if (w->null_len) gfi_textbuf_put(b, w->null_value, w->null_len);
    return GF_OK;
  }
  char num[FIELD_ROOM];
  int n;
  int64_t len = 0;
  const char *bytes;
  if (!w->check_all) {
    /* Hot numeric types straight into the buffer. */
    const void *data = a->buffers[1] ? gf_buffer_data(a->buffers[1]) : NULL;
    char *o;
    switch (a->type.id) {
      case GF_TYPE_INT32:
        GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, 24, err));
        o = b->data + b->len;
        b->len += (size_t)gfi_put_i64(o, ((const int32_t *)data)[a->offset + i]);
        return GF_OK;
      case GF_TYPE_INT64:
        GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, 24, err));
        o = b->data + b->len;
        b->len += (size_t)gfi_put_i64(o, ((const int64_t *)data)[a->offset + i]);
        return GF_OK;
      case GF_TYPE_FLOAT64:
        GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, 32, err));
        o = b->data + b->len;
        b->len += (size_t)gfi_put_double(o, ((const double *)data)[a->offset + i]);
        return GF_OK;
      default: break;
    }
  }
  switch (a->type.id) {
    case GF_TYPE_BOOL:
      return gf_array_get_bool(a, i) ? put_short(w, b, "true", 4, err)
                                     : put_short(w, b, "false", 5, err);
    case GF_TYPE_INT8:
      n = gfi_put_i64(num, ((const int8_t *)gf_buffer_data(a->buffers[1]))[a->offset + i]);
      return put_short(w, b, num, (size_t)n, err);
    case GF_TYPE_INT16:
      n = gfi_put_i64(num, ((const int16_t *)gf_buffer_data(a->buffers[1]))[a->offset + i]);
      return put_short(w, b, num, (size_t)n, err);
    case GF_TYPE_INT32:
      n = gfi_put_i64(num, ((const int32_t *)gf_buffer_data(a->buffers[1]))[a->offset + i]);
      return put_short(w, b, num, (size_t)n, err);
    case GF_TYPE_INT64:
      n = gfi_put_i64(num, ((const int64_t *)gf_buffer_data(a->buffers[1]))[a->offset + i]);
      return put_short(w, b, num, (size_t)n, err);
    case GF_TYPE_UINT8:
    case GF_TYPE_UINT16:
    case GF_TYPE_UINT32:
    case GF_TYPE_UINT64:
      n = gfi_put_u64(num, gf_array_get_uint64(a, i));
      return put_short(w, b, num, (size_t)n, err);
    case GF_TYPE_FLOAT64:
      n = gfi_put_double(num, ((const double *)gf_buffer_data(a->buffers[1]))[a->offset + i]);
      return put_short(w, b, num, (size_t)n, err);
    case GF_TYPE_FLOAT32:
      n = gfi_format_float(num, sizeof num,
                           ((const float *)gf_buffer_data(a->buffers[1]))[a->offset + i]);
      return put_short(w, b, num, (size_t)n, err);
    case GF_TYPE_UTF8:
    case GF_TYPE_LARGE_UTF8:
      bytes = gf_array_get_bytes(a, i, &len);
      return put_text(w, b, bytes ? bytes : "", (size_t)len, err);
    case GF_TYPE_BINARY:
    case GF_TYPE_LARGE_BINARY:
    case GF_TYPE_FIXED_SIZE_BINARY:
      bytes = gf_array_get_bytes(a, i, &len);
      return put_hex(w, b, bytes ? bytes : "", len, err);
    case GF_TYPE_DECIMAL128:
    case GF_TYPE_DECIMAL256:
      /* Exact text: digits, '-' and '.', never quoted. */
      n = gfi_format_value(a, i, GFI_STYLE_ISO, num, sizeof num);
      return put_short(w, b, num, (size_t)n, err);
    case GF_TYPE_DICTIONARY: {
      int64_t code = ((const int32_t *)gf_buffer_data(a->buffers[1]))[a->offset + i];
      if (!a->dictionary || code < 0 || code >= a->dictionary->length)
        return gf_error_set(err, GF_EINVAL, "CSV writer: dictionary code %lld out of range",
                            (long long)code);
      return put_value(w, b, a->dictionary, code, err);
    }
    default:
      /* Temporal types: ISO 8601 text, which may hold ':' or '+'. */
      n = gfi_format_value(a, i, GFI_STYLE_ISO, num, sizeof num);
      if (n < 0 || (size_t)n >= sizeof num)
        return gf_error_set(err, GF_EINTERNAL, "CSV writer: value too long to format");
      return put_text(w, b, num, (size_t)n, err);
  }
}

/* Renders every dictionary's values once, so rows copy a field instead
 * of formatting and quote-checking it again (ids repeat millions of times). */
static gf_status render_dictionaries(csv_writer *w, gf_error *err) {
  const gf_frame *f = w->frame;
  if (f->num_batches == 0) return GF_OK;
  for (int c = 0; c < w->ncols; c++) {
    const gf_array *dict = f->columns[c]->dictionary;
    if (f->schema->fields[c].type.id != GF_TYPE_DICTIONARY || !dict) continue;
    if (!w->dicts) {
      w->dicts = gfi_calloc(w->alloc, (size_t)w->ncols * sizeof *w->dicts);
      if (!w->dicts) return GF_OOM(err, "CSV dictionary text");
    }
    dict_text *d = &w->dicts[c];
    d->text.alloc = w->alloc;
    d->offsets = gf_alloc(w->alloc, (size_t)(dict->length + 1) * sizeof *d->offsets, 64);
    if (!d->offsets) return GF_OOM(err, "CSV dictionary text");
    d->count = dict->length + 1; /* allocated entries, for freeing */
    d->offsets[0] = 0;
    for (int64_t k = 0; k < dict->length; k++) {
      GF_RETURN_NOT_OK(put_value(w, &d->text, dict, k, err));
      d->offsets[k + 1] = (int64_t)d->text.len;
    }
    /* Slack for the fixed 16-byte copies of format_rows. */
    GF_RETURN_NOT_OK(gfi_textbuf_reserve(&d->text, 16, err));
  }
  return GF_OK;
}

/* Releases what render_dictionaries made (also after it failed). */
static void free_dictionaries(csv_writer *w) {
  if (!w->dicts) return;
  for (int c = 0; c < w->ncols; c++) {
    dict_text *d = &w->dicts[c];
    gfi_textbuf_free(&d->text);
    if (d->offsets) gf_free(w->alloc, d->offsets, (size_t)d->count * sizeof *d->offsets, 64);
  }
  gfi_mfree(w->alloc, w->dicts, (size_t)w->ncols * sizeof *w->dicts);
  w->dicts = NULL;
}

/* Appends the delimiter or the line end. */
static gf_status put_sep(const csv_writer *w, gfi_textbuf *b, bool last, gf_error *err) {
  if (last) {
    GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, w->eol_len, err));
    gfi_textbuf_put(b, w->eol, w->eol_len);
    return GF_OK;
  }
  GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, 1, err));
  b->data[b->len++] = w->delim;
  return GF_OK;
}

/* Chunk kernel: rows [start, end) of the frame, batch by batch. */
static gf_status format_rows(void *user, int64_t start, int64_t end, gfi_textbuf *out,
                             gf_task_ctx *ctx) {
  const csv_writer *w = user;
  const gf_frame *f = w->frame;
  int batch = gfi_frame_batch_of_row(f, start);
  /* Typical row width guess so the buffer rarely regrows. */
  GF_RETURN_NOT_OK(gfi_textbuf_reserve(out, (size_t)(end - start) * (size_t)w->ncols * 8,
                                       ctx->err));
  for (int64_t row = start; row < end; row++) {
    while (row >= f->batch_offsets[batch + 1]) batch++;
    int64_t i = row - f->batch_offsets[batch];
    gf_array *const *cols = f->columns + (size_t)batch * (size_t)w->ncols;
    for (int c = 0; c < w->ncols; c++) {
      const gf_array *a = cols[c];
      if (w->dicts && w->dicts[c].offsets &&
          !(a->null_count > 0 && a->buffers[0] &&
            !gfi_bit_get(gf_buffer_data(a->buffers[0]), a->offset + i))) {
        const dict_text *d = &w->dicts[c];
        int32_t code = ((const int32_t *)gf_buffer_data(a->buffers[1]))[a->offset + i];
        if (code < 0 || code >= d->count - 1)
          return gf_error_set(ctx->err, GF_EINVAL, "CSV writer: dictionary code %d out of range",
                              (int)code);
        size_t n = (size_t)(d->offsets[code + 1] - d->offsets[code]);
        GF_RETURN_NOT_OK(gfi_textbuf_reserve(out, n + 16, ctx->err));
        if (n <= 16) {
          /* Fixed-size copy (both sides have 16 bytes of room): no libc
           * call for the short ids that dominate such columns. */
          memcpy(out->data + out->len, d->text.data + d->offsets[code], 16);
          out->len += n;
        } else {
          gfi_textbuf_put(out, d->text.data + d->offsets[code], n);
        }
      } else {
        GF_RETURN_NOT_OK(put_value(w, out, a, i, ctx->err));
      }
      GF_RETURN_NOT_OK(put_sep(w, out, c + 1 == w->ncols, ctx->err));
    }
  }
  return GF_OK;
}

/* The header line (column names, quoted when needed) into b. */
static gf_status format_header(const csv_writer *w, gfi_textbuf *b, gf_error *err) {
  for (int c = 0; c < w->ncols; c++) {
    const char *name = w->frame->schema->fields[c].name;
    GF_RETURN_NOT_OK(put_text(w, b, name, strlen(name), err));
    GF_RETURN_NOT_OK(put_sep(w, b, c + 1 == w->ncols, err));
  }
  return GF_OK;
}

/* Estimated text bytes per row, for chunk planning. */
static int64_t row_width_guess(const csv_writer *w) {
  int64_t bytes = 0;
  for (int c = 0; c < w->ncols; c++) {
    gf_datatype t = w->frame->schema->fields[c].type;
    bytes += t.id == GF_TYPE_BOOL ? 6 : (gfi_type_is_var_width(t.id) ? 16 : 12);
  }
  return bytes > 0 ? bytes : 1;
}

/* Header and rows through `sink` with loaded options `po`: the common body
 * of both entry points. */
static gf_status write_loaded(const gf_frame *f, const gf_csv_write_options *opts,
                              gf_parallel_options po, gfi_text_sink_fn sink, void *sink_user,
                              gf_error *err) {
  gf_csv_write_options o = *opts;
  csv_writer w;
  o.parallel = &po;
  GF_RETURN_NOT_OK(writer_init(&w, f, &o, err));
  if (w.ncols == 0) return GF_OK;
  const gf_allocator *a = gfi_alloc_or_default(po.allocator);
  w.alloc = a;
  gf_status st = GF_OK;
  if (!o.no_header) {
    gfi_textbuf h = {NULL, 0, 0, a};
    st = format_header(&w, &h, err);
    if (st == GF_OK) st = sink(sink_user, h.data, h.len, err);
    gfi_textbuf_free(&h);
  }
  if (st == GF_OK) st = render_dictionaries(&w, err);
  if (st == GF_OK)
    st = gfi_format_rows_ordered(f->num_rows, row_width_guess(&w), format_rows, &w, sink,
                                 sink_user, &po, err);
  free_dictionaries(&w);
  return st;
}

/* Loads the options and the call context (deadline, token, memory limit),
 * then writes (write_loaded); every return after the load goes through
 * gfi_ctx_end. */
static gf_status write_all(const gf_frame *f, const gf_csv_write_options *opts,
                           gfi_text_sink_fn sink, void *sink_user, gf_error *err) {
  gf_csv_write_options o;
  GF_RETURN_NOT_OK(load_options(opts, &o, err));
  /* The parallel options are checked (and the call's deadline fixed)
   * before anything reaches the sink: a bad flag must not leave a header
   * on a stream. */
  gfi_ctx call;
  gf_parallel_options po;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, o.parallel, &po, err));
  return gfi_ctx_end(&call, write_loaded(f, &o, po, sink, sink_user, err), err);
}

/* Writes to a temporary file beside `path` and renames it over `path`. */
gf_status gf_write_csv(const gf_frame *f, const char *path, const gf_csv_write_options *o,
                       gf_error *err) {
  if (!f || !path) return gf_error_set(err, GF_EINVAL, "gf_write_csv: %s is NULL", f ? "path" : "frame");
  const gf_allocator *a =
      gfi_alloc_or_default(o && o->size >= sizeof *o && o->parallel ? o->parallel->allocator : NULL);
  gfi_atomic_file file;
  GF_RETURN_NOT_OK(gfi_atomic_file_open(path, a, &file, err));
  gf_status st = write_all(f, o, gfi_atomic_file_sink, &file, err);
  if (st != GF_OK) {
    gfi_atomic_file_abort(&file);
    return st;
  }
  return gfi_atomic_file_commit(&file, err);
}

/* stdio sink: GF_EIO with strerror on a short write. */
static gf_status stream_sink(void *user, const char *data, size_t len, gf_error *err) {
  FILE *out = user;
  errno = 0;
  if (fwrite(data, 1, len, out) != len)
    return gf_error_set(err, GF_EIO, "writing CSV: %s", strerror(errno ? errno : EIO));
  return GF_OK;
}

/* Writes to an open stream, flushing at the end so errors surface here. */
gf_status gf_write_csv_stream(const gf_frame *f, FILE *out, const gf_csv_write_options *o,
                              gf_error *err) {
  if (!f || !out)
    return gf_error_set(err, GF_EINVAL, "gf_write_csv_stream: %s is NULL", f ? "stream" : "frame");
  GF_RETURN_NOT_OK(write_all(f, o, stream_sink, out, err));
  errno = 0;
  if (fflush(out) != 0 || ferror(out))
    return gf_error_set(err, GF_EIO, "writing CSV: %s", strerror(errno ? errno : EIO));
  return GF_OK;
}
