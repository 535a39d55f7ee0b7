/*
 * JSON writers: gf_write_ndjson, gf_write_json and their stream variants.
 *
 * Rows are cut into chunks by the runtime's planner and formatted in
 * parallel; the text is emitted in row order (csv_write_text.c), so the
 * bytes never depend on the worker count or chunk size. Each column's key
 * is escaped once ("{\"name\":" / ",\"name\":"). Floats use the shortest
 * round-trip form, always with a '.' or an exponent so that they read back
 * as floats; NaN and infinities have no JSON spelling and are written as
 * null. Temporal values are ISO 8601 strings, as the CSV writer writes them.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "data/array_internal.h"
#include "data/value_format.h"
#include "exec/exec_internal.h"
#include "io/csv_write_internal.h"

/* Room every non-string value may need (numbers, dates, timestamps). */
#define VALUE_ROOM 128

typedef struct json_writer {
  const gf_frame *frame;
  const gf_allocator *alloc;
  int ncols;
  bool array;          /* JSON array: rows after the first start with ",\n" */
  gfi_textbuf keys;    /* the rendered keys, key c at keys.data[koff[c]..koff[c+1]) */
  size_t *koff;
} json_writer;

/* Defaults. */
void gf_json_write_options_init(gf_json_write_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
}

/* Loads options of any older (smaller) size; fields beyond it default. */
static gf_status load_options(const gf_json_write_options *in, gf_json_write_options *o,
                              gf_error *err) {
  gf_json_write_options_init(o);
  if (!in) return GF_OK;
  if (in->size < sizeof(size_t))
    return gf_error_set(err, GF_EINVAL,
                        "gf_json_write_options.size is %zu; call gf_json_write_options_init",
                        in->size);
  memcpy(o, in, in->size < sizeof *o ? in->size : sizeof *o);
  o->size = sizeof *o;
  return GF_OK;
}

/* Appends s[0, n) as a JSON string (quotes included), escaping '"', '\\'
 * and control characters; other bytes are copied (UTF-8 as it is). */
static gf_status put_string(gfi_textbuf *b, const char *s, size_t n, gf_error *err) {
  static const char hex[] = "0123456789abcdef";
  if (n > (SIZE_MAX - 2) / 6) return gf_error_set(err, GF_ENOMEM, "JSON string too large");
  GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, n * 6 + 2, err));
  char *o = b->data + b->len;
  *o++ = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      *o++ = (char)c;
      continue;
    }
    *o++ = '\\';
    switch (c) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '\n': *o++ = 'n'; break;
      case '\r': *o++ = 'r'; break;
      case '\t': *o++ = 't'; break;
      case '\b': *o++ = 'b'; break;
      case '\f': *o++ = 'f'; break;
      default:
        *o++ = 'u';
        *o++ = '0';
        *o++ = '0';
        *o++ = hex[c >> 4];
        *o++ = hex[c & 15];
    }
  }
  *o++ = '"';
  b->len = (size_t)(o - b->data);
  return GF_OK;
}

/* Appends raw text. */
static gf_status put_raw(gfi_textbuf *b, const char *p, size_t n, gf_error *err) {
  GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, n, err));
  gfi_textbuf_put(b, p, n);
  return GF_OK;
}

/* Appends a float (null when not finite). */
static gf_status put_float(gfi_textbuf *b, double v, bool single, gf_error *err) {
  if (!isfinite(v)) return put_raw(b, "null", 4, err);
  GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, 40, err));
  char *o = b->data + b->len;
  int n;
  if (single) {
    n = gfi_format_float(o, 40, (float)v);
    bool frac = false;
    for (int i = 0; i < n; i++) frac |= o[i] == '.' || o[i] == 'e' || o[i] == 'E';
    if (!frac) {
      o[n++] = '.';
      o[n++] = '0';
    }
  } else {
    n = gfi_put_double(o, v); /* always has '.' or an exponent */
  }
  b->len += (size_t)n;
  return GF_OK;
}

/* Appends value i of array a as a JSON value. */
static gf_status put_value(gfi_textbuf *b, const gf_array *a, int64_t i, gf_error *err) {
  if (a->type.id == GF_TYPE_NULL ||
      (a->null_count > 0 && a->buffers[0] &&
       !gfi_bit_get(gf_buffer_data(a->buffers[0]), a->offset + i)))
    return put_raw(b, "null", 4, err);
  const void *data = a->buffers[1] ? gf_buffer_data(a->buffers[1]) : NULL;
  int64_t len = 0;
  const char *bytes;
  char num[VALUE_ROOM];
  int n;
  switch (a->type.id) {
    case GF_TYPE_BOOL:
      return gf_array_get_bool(a, i) ? put_raw(b, "true", 4, err) : put_raw(b, "false", 5, err);
    case GF_TYPE_INT64:
      GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, 24, err));
      b->len += (size_t)gfi_put_i64(b->data + b->len, ((const int64_t *)data)[a->offset + i]);
      return GF_OK;
    case GF_TYPE_INT8:
    case GF_TYPE_INT16:
    case GF_TYPE_INT32:
      GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, 24, err));
      b->len += (size_t)gfi_put_i64(b->data + b->len, gf_array_get_int64(a, i));
      return GF_OK;
    case GF_TYPE_UINT8:
    case GF_TYPE_UINT16:
    case GF_TYPE_UINT32:
    case GF_TYPE_UINT64:
      GF_RETURN_NOT_OK(gfi_textbuf_reserve(b, 24, err));
      b->len += (size_t)gfi_put_u64(b->data + b->len, gf_array_get_uint64(a, i));
      return GF_OK;
    case GF_TYPE_FLOAT64:
      return put_float(b, ((const double *)data)[a->offset + i], false, err);
    case GF_TYPE_FLOAT32:
      return put_float(b, ((const float *)data)[a->offset + i], true, err);
    case GF_TYPE_UTF8:
    case GF_TYPE_LARGE_UTF8:
      bytes = gf_array_get_bytes(a, i, &len);
      return put_string(b, bytes ? bytes : "", (size_t)len, err);
    case GF_TYPE_DECIMAL128:
    case GF_TYPE_DECIMAL256:
      /* Exact digits: a JSON number. */
      n = gfi_format_value(a, i, GFI_STYLE_ISO, num, sizeof num);
      if (n < 0 || (size_t)n >= sizeof num)
        return gf_error_set(err, GF_EINTERNAL, "JSON writer: decimal too long to format");
      return put_raw(b, num, (size_t)n, err);
    case GF_TYPE_DICTIONARY: {
      int64_t code = ((const int32_t *)data)[a->offset + i];
      if (!a->dictionary || code < 0 || code >= a->dictionary->length)
        return gf_error_set(err, GF_EINVAL, "JSON writer: dictionary code %lld out of range",
                            (long long)code);
      return put_value(b, a->dictionary, code, err);
    }
    default: {
      /* Binary as hex, temporal types as ISO 8601: strings. */
      int need = gfi_format_value(a, i, GFI_STYLE_ISO, num, sizeof num);
      if (need < 0) return gf_error_set(err, GF_EINTERNAL, "JSON writer: value not formattable");
      if ((size_t)need < sizeof num) return put_string(b, num, (size_t)need, err);
      gfi_textbuf tmp = {NULL, 0, 0, b->alloc};
      gf_status st = gfi_textbuf_reserve(&tmp, (size_t)need + 1, err);
      if (st == GF_OK) {
        gfi_format_value(a, i, GFI_STYLE_ISO, tmp.data, (size_t)need + 1);
        st = put_string(b, tmp.data, (size_t)need, err);
      }
      gfi_textbuf_free(&tmp);
      return st;
    }
  }
}

/* Renders every column's key prefix once. */
static gf_status render_keys(json_writer *w, gf_error *err) {
  w->koff = gfi_malloc(w->alloc, sizeof *w->koff * (size_t)(w->ncols + 1));
  if (!w->koff) return GF_OOM(err, "JSON keys");
  w->keys.alloc = w->alloc;
  w->koff[0] = 0;
  for (int c = 0; c < w->ncols; c++) {
    const char *name = w->frame->schema->fields[c].name;
    GF_RETURN_NOT_OK(put_raw(&w->keys, c == 0 ? "{" : ",", 1, err));
    GF_RETURN_NOT_OK(put_string(&w->keys, name, strlen(name), err));
    GF_RETURN_NOT_OK(put_raw(&w->keys, ":", 1, err));
    w->koff[c + 1] = w->keys.len;
  }
  return GF_OK;
}

/* Chunk kernel: rows [start, end) of the frame, one object each. */
static gf_status format_rows(void *user, int64_t start, int64_t end, gfi_textbuf *out,
                             gf_task_ctx *ctx) {
  const json_writer *w = user;
  const gf_frame *f = w->frame;
  int batch = gfi_frame_batch_of_row(f, start);
  for (int64_t row = start; row < end; row++) {
    while (row >= f->batch_offsets[batch + 1]) batch++;
    int64_t i = row - f->batch_offsets[batch];
    gf_array *const *cols = f->columns + (size_t)batch * (size_t)w->ncols;
    if (w->array && row > 0) GF_RETURN_NOT_OK(put_raw(out, ",\n", 2, ctx->err));
    for (int c = 0; c < w->ncols; c++) {
      GF_RETURN_NOT_OK(put_raw(out, w->keys.data + w->koff[c], w->koff[c + 1] - w->koff[c],
                               ctx->err));
      GF_RETURN_NOT_OK(put_value(out, cols[c], i, ctx->err));
    }
    if (w->array)
      GF_RETURN_NOT_OK(put_raw(out, "}", 1, ctx->err));
    else
      GF_RETURN_NOT_OK(put_raw(out, "}\n", 2, ctx->err));
  }
  return GF_OK;
}

/* Estimated text bytes per row, for chunk planning. */
static int64_t row_width_guess(const json_writer *w) {
  int64_t bytes = 2 + (int64_t)w->keys.len;
  for (int c = 0; c < w->ncols; c++) {
    gf_datatype t = w->frame->schema->fields[c].type;
    bytes += t.id == GF_TYPE_BOOL ? 6 : (gfi_type_is_var_width(t.id) ? 18 : 12);
  }
  return bytes;
}

/* The whole document through `sink` with loaded parallel options. */
static gf_status write_loaded(const gf_frame *f, bool array, gf_parallel_options po,
                              gfi_text_sink_fn sink, void *sink_user, gf_error *err) {
  json_writer w;
  memset(&w, 0, sizeof w);
  w.frame = f;
  w.ncols = f->schema->n;
  w.array = array;
  w.alloc = gfi_alloc_or_default(po.allocator);
  for (int c = 0; c < w.ncols; c++) {
    gf_type_id id = f->schema->fields[c].type.id;
    gf_type_id vid = id == GF_TYPE_DICTIONARY ? f->schema->fields[c].type.value_id : id;
    if (vid >= GF_TYPE_COUNT_ || vid == GF_TYPE_DICTIONARY)
      return gf_error_set(err, GF_ENOTSUP, "JSON writer: column '%s' has an unsupported type",
                          f->schema->fields[c].name);
  }
  gf_status st = GF_OK;
  int64_t rows = w.ncols > 0 ? f->num_rows : 0;
  if (array) st = sink(sink_user, rows ? "[\n" : "[]\n", rows ? 2 : 3, err);
  if (st == GF_OK && rows > 0) st = render_keys(&w, err);
  if (st == GF_OK && rows > 0)
    st = gfi_format_rows_ordered(rows, row_width_guess(&w), format_rows, &w, sink, sink_user,
                                 &po, err);
  if (st == GF_OK && array && rows > 0) st = sink(sink_user, "\n]\n", 3, err);
  gfi_textbuf_free(&w.keys);
  if (w.koff) gfi_mfree(w.alloc, w.koff, sizeof *w.koff * (size_t)(w.ncols + 1));
  return st;
}

/* Loads the options and the call context, then writes. */
static gf_status write_all(const gf_frame *f, bool array, const gf_json_write_options *opts,
                           gfi_text_sink_fn sink, void *sink_user, gf_error *err) {
  gf_json_write_options o;
  GF_RETURN_NOT_OK(load_options(opts, &o, err));
  gfi_ctx call;
  gf_parallel_options po;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, o.parallel, &po, err));
  return gfi_ctx_end(&call, write_loaded(f, array, po, sink, sink_user, err), err);
}

/* Writes to a temporary file beside `path`, renamed over it on success. */
static gf_status write_path(const gf_frame *f, const char *path, bool array,
                            const gf_json_write_options *o, gf_error *err) {
  if (!f || !path)
    return gf_error_set(err, GF_EINVAL, "gf_write_%s: %s is NULL", array ? "json" : "ndjson",
                        f ? "path" : "frame");
  const gf_allocator *a = gfi_alloc_or_default(
      o && o->size >= sizeof *o && o->parallel ? o->parallel->allocator : NULL);
  gfi_atomic_file file;
  GF_RETURN_NOT_OK(gfi_atomic_file_open(path, a, &file, err));
  gf_status st = write_all(f, array, o, gfi_atomic_file_sink, &file, err);
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
  if (len && fwrite(data, 1, len, out) != len)
    return gf_error_set(err, GF_EIO, "writing JSON: %s", strerror(errno ? errno : EIO));
  return GF_OK;
}

/* Writes to an open stream, flushing at the end so errors surface here. */
static gf_status write_stream(const gf_frame *f, FILE *out, bool array,
                              const gf_json_write_options *o, gf_error *err) {
  if (!f || !out)
    return gf_error_set(err, GF_EINVAL, "gf_write_%s_stream: %s is NULL",
                        array ? "json" : "ndjson", f ? "stream" : "frame");
  GF_RETURN_NOT_OK(write_all(f, array, o, stream_sink, out, err));
  errno = 0;
  if (fflush(out) != 0 || ferror(out))
    return gf_error_set(err, GF_EIO, "writing JSON: %s", strerror(errno ? errno : EIO));
  return GF_OK;
}

/* See json.h. */
gf_status gf_write_ndjson(const gf_frame *f, const char *path, const gf_json_write_options *o,
                          gf_error *err) {
  return write_path(f, path, false, o, err);
}

/* See json.h. */
gf_status gf_write_ndjson_stream(const gf_frame *f, FILE *out, const gf_json_write_options *o,
                                 gf_error *err) {
  return write_stream(f, out, false, o, err);
}

/* See json.h. */
gf_status gf_write_json(const gf_frame *f, const char *path, const gf_json_write_options *o,
                        gf_error *err) {
  return write_path(f, path, true, o, err);
}

/* See json.h. */
gf_status gf_write_json_stream(const gf_frame *f, FILE *out, const gf_json_write_options *o,
                               gf_error *err) {
  return write_stream(f, out, true, o, err);
}
