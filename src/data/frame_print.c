/* The frame printer, after Polars' print: a shape line, a box with the
 * column names, "---" and a dtype row, then values; head and tail rows with
 * a "…" row between when rows are cut, a "…" column when columns are cut,
 * long cells cut with "…". Widths count terminal columns of UTF-8 text (wide
 * East Asian characters take two, combining marks none), without wcwidth,
 * which depends on the locale. All memory, the returned string included,
 * comes from the frame's allocator. */
#include <string.h>

#include "data/array_internal.h"
#include "data/timezone.h"
#include "data/value_format.h"

/* Defaults for every option; the caller's struct may be older (smaller). */
void gf_print_options_init(gf_print_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->max_rows = 10;
  o->max_columns = 12;
  o->max_width = 32;
  o->ascii = false;
}

/* ---------------------------------------------------------------- */
/* A growable string in the frame's allocator.                       */

typedef gfi_vec strbuf;

/* Appends n bytes; errors are reported once, by gf_frame_format. */
static gf_status sb_put(strbuf *sb, const char *s, size_t n) {
  return gfi_vec_append(sb, s, n, NULL);
}

static gf_status sb_puts(strbuf *sb, const char *s) { return sb_put(sb, s, strlen(s)); }

static gf_status sb_repeat(strbuf *sb, const char *s, int times) {
  size_t n = strlen(s);
  GF_RETURN_NOT_OK(gfi_vec_reserve(sb, n * (size_t)(times > 0 ? times : 0), NULL));
  for (int k = 0; k < times; k++) GF_RETURN_NOT_OK(sb_put(sb, s, n));
  return GF_OK;
}


/* ---------------------------------------------------------------- */
/* UTF-8 and display width.                                          */

/* Decodes one code point of p[0..n); returns its byte length, or 0 when
 * the bytes there are not valid UTF-8 (overlong, surrogate, truncated). */
static int utf8_decode(const unsigned char *p, size_t n, uint32_t *cp) {
  unsigned char c = p[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  int len;
  uint32_t v, min;
  if ((c & 0xE0) == 0xC0) {
    len = 2, v = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, v = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if ((size_t)len > n) return 0;
  for (int k = 1; k < len; k++) {
    if ((p[k] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (p[k] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

/* Terminal columns of a printable code point. */
static int cp_width(uint32_t c) {
  if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
      (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x200B && c <= 0x200F) ||
      (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE00 && c <= 0xFE0F) ||
      (c >= 0xFE20 && c <= 0xFE2F) || c == 0xFEFF)
    return 0;
  if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
      (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
      (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
      (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
      (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
      (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
      (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD))
    return 2;
  return 1;
}

/* Width of valid UTF-8 text. */
static int text_width(const char *s, size_t n) {
  int w = 0;
  size_t k = 0;
  while (k < n) {
    uint32_t cp;
    int len = utf8_decode((const unsigned char *)s + k, n - k, &cp);
    if (len == 0) len = 1, cp = '?';
    w += cp_width(cp);
    k += (size_t)len;
  }
  return w;
}

/* Appends p[0..n) so it prints on one line: control characters become
 * \n, \t, \r, \xHH or \uHHHH, bytes that are not valid UTF-8 (for binary:
 * anything but printable ASCII) become \xHH. Stops once the text is wider
 * than `limit` (< 0: never), since the cell will be cut anyway, and then sets
 * *stopped. Adds the width written to *width. */
static gf_status put_escaped(strbuf *sb, const char *p, int64_t n, bool binary,
                             int limit, int *width, bool *stopped) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)p;
  int64_t k = 0;
  *stopped = false;
  while (k < n) {
    if (limit >= 0 && *width > limit) {
      *stopped = true;
      return GF_OK;
    }
    uint32_t cp = s[k];
    int len = 1;
    bool escape;
    if (binary) {
      escape = cp < 0x20 || cp >= 0x7F;
    } else {
      len = utf8_decode(s + k, (size_t)(n - k), &cp);
      escape = len == 0 || cp < 0x20 || (cp >= 0x7F && cp < 0xA0);
      if (len == 0) cp = s[k], len = 1;
    }
    if (!escape) {
      GF_RETURN_NOT_OK(sb_put(sb, p + k, (size_t)len));
      *width += cp_width(cp);
      k += len;
      continue;
    }
    char esc[8];
    size_t elen;
    if (cp == '\n' || cp == '\t' || cp == '\r') {
      esc[0] = '\\';
      esc[1] = cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r';
      elen = 2;
    } else if (len == 1) {
      esc[0] = '\\', esc[1] = 'x', esc[2] = hex[cp >> 4], esc[3] = hex[cp & 15];
      elen = 4;
    } else { /* C1 control, U+0080..U+009F */
      esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0';
      esc[4] = hex[cp >> 4], esc[5] = hex[cp & 15];
      elen = 6;
    }
    GF_RETURN_NOT_OK(sb_put(sb, esc, elen));
    *width += (int)elen;
    k += len;
  }
  return GF_OK;
}

/* ---------------------------------------------------------------- */
/* Cells.                                                            */

typedef struct cell {
  size_t off, len; /* in the pool */
  int width;
} cell;

typedef struct printer {
  const gf_frame *f;
  gf_print_options o;
  const char *ellipsis;
  int ellipsis_width;
  strbuf pool;
} printer;

/* Cuts the text of the cell starting at `off` in the pool to at most
 * max_width columns, ending it with the ellipsis. */
static gf_status fit_cell(printer *pr, size_t off, int *width) {
  int max = pr->o.max_width;
  if (max <= 0 || *width <= max) return GF_OK;
  int room = max - pr->ellipsis_width;
  if (room < 0) room = 0;
  const char *s = (const char *)pr->pool.data + off;
  size_t n = pr->pool.len - off, k = 0;
  int w = 0;
  while (k < n) {
    uint32_t cp;
    int len = utf8_decode((const unsigned char *)s + k, n - k, &cp);
    if (len == 0) len = 1, cp = '?';
    int cw = cp_width(cp);
    if (w + cw > room) break;
    w += cw;
    k += (size_t)len;
  }
  pr->pool.len = off + k;
  *width = w + pr->ellipsis_width;
  return sb_puts(&pr->pool, pr->ellipsis);
}

/* Text that is not data (names, dtypes, "---", ellipses). */
static gf_status label_cell(printer *pr, const char *s, cell *c) {
  c->off = pr->pool.len;
  c->width = 0;
  bool stopped;
  int limit = pr->o.max_width > 0 ? pr->o.max_width + 1 : -1;
  GF_RETURN_NOT_OK(put_escaped(&pr->pool, s, (int64_t)strlen(s), false, limit, &c->width,
                               &stopped));
  GF_RETURN_NOT_OK(fit_cell(pr, c->off, &c->width));
  c->len = pr->pool.len - c->off;
  return GF_OK;
}

/* Value i of a: strings quoted, binary as b"…", the rest as
 * gfi_format_value writes them for display. */
static gf_status value_cell(printer *pr, const gf_array *a, int64_t i, cell *c) {
  c->off = pr->pool.len;
  c->width = 0;
  if (a->type.id == GF_TYPE_DICTIONARY && !gf_array_is_null(a, i)) {
    int64_t code = gf_array_get_int64(a, i);
    if (a->dictionary && code >= 0 && code < a->dictionary->length) {
      a = a->dictionary;
      i = code;
    }
  }
  gf_type_id id = a->type.id;
  bool is_text = id == GF_TYPE_UTF8 || id == GF_TYPE_LARGE_UTF8;
  bool is_bin = id == GF_TYPE_BINARY || id == GF_TYPE_LARGE_BINARY ||
                id == GF_TYPE_FIXED_SIZE_BINARY;
  if ((is_text || is_bin) && !gf_array_is_null(a, i)) {
    int64_t len = 0;
    const char *bytes = gf_array_get_bytes(a, i, &len);
    int limit = pr->o.max_width > 0 ? pr->o.max_width + 1 : -1;
    bool stopped = false;
    GF_RETURN_NOT_OK(sb_puts(&pr->pool, is_bin ? "b\"" : "\""));
    c->width = is_bin ? 2 : 1;
    GF_RETURN_NOT_OK(put_escaped(&pr->pool, bytes ? bytes : "", bytes ? len : 0, is_bin,
                                 limit, &c->width, &stopped));
    if (!stopped) {
      GF_RETURN_NOT_OK(sb_puts(&pr->pool, "\""));
      c->width += 1;
    }
  } else {
    char buf[160];
    int n = gfi_format_value(a, i, GFI_STYLE_DISPLAY, buf, sizeof buf);
    if (n >= (int)sizeof buf) n = (int)sizeof buf - 1;
    GF_RETURN_NOT_OK(sb_put(&pr->pool, buf, (size_t)n));
    c->width = text_width(buf, (size_t)n);
  }
  GF_RETURN_NOT_OK(fit_cell(pr, c->off, &c->width));
  c->len = pr->pool.len - c->off;
  return GF_OK;
}

/* Short dtype names as Polars prints them. */
static void dtype_name(gf_datatype t, bool ascii, char *buf, size_t n) {
  static const char *const units[4] = {"s", "ms", "\xCE\xBCs", "ns"};
  const char *unit = t.unit >= 0 && t.unit <= 3 ? units[t.unit] : "?";
  if (ascii && t.unit == GF_UNIT_MICRO) unit = "us";
  const char *name = NULL;
  switch (t.id) {
    case GF_TYPE_NULL: name = "null"; break;
    case GF_TYPE_BOOL: name = "bool"; break;
    case GF_TYPE_INT8: name = "i8"; break;
    case GF_TYPE_INT16: name = "i16"; break;
    case GF_TYPE_INT32: name = "i32"; break;
    case GF_TYPE_INT64: name = "i64"; break;
    case GF_TYPE_UINT8: name = "u8"; break;
    case GF_TYPE_UINT16: name = "u16"; break;
    case GF_TYPE_UINT32: name = "u32"; break;
    case GF_TYPE_UINT64: name = "u64"; break;
    case GF_TYPE_FLOAT32: name = "f32"; break;
    case GF_TYPE_FLOAT64: name = "f64"; break;
    case GF_TYPE_UTF8:
    case GF_TYPE_LARGE_UTF8: name = "str"; break;
    case GF_TYPE_BINARY:
    case GF_TYPE_LARGE_BINARY: name = "binary"; break;
    case GF_TYPE_DATE32:
    case GF_TYPE_DATE64: name = "date"; break;
    case GF_TYPE_TIME32:
    case GF_TYPE_TIME64: name = "time"; break;
    case GF_TYPE_DICTIONARY: name = "cat"; break;
    case GF_TYPE_FIXED_SIZE_BINARY:
      snprintf(buf, n, "binary[%d]", (int)t.byte_width);
      return;
    case GF_TYPE_DECIMAL128:
    case GF_TYPE_DECIMAL256: /* Polars' dtype name; 256 marked */
      snprintf(buf, n, "decimal%s[%d,%d]",
               t.id == GF_TYPE_DECIMAL256 ? "256" : "", (int)t.precision,
               (int)t.scale);
      return;
    case GF_TYPE_DURATION:
      snprintf(buf, n, "duration[%s]", unit);
      return;
    case GF_TYPE_TIMESTAMP:
      if (!t.has_timezone) {
        snprintf(buf, n, "datetime[%s]", unit);
      } else {
        char zone[GFI_TZ_NAME_MAX + 1];
        gfi_tz_format(t, zone, sizeof zone);
        snprintf(buf, n, "datetime[%s, %s]", unit, zone);
      }
      return;
    default: name = "?"; break;
  }
  snprintf(buf, n, "%s", name);
}

/* Batch and row within it of frame row `row`. */
static void locate(const gf_frame *f, int64_t row, int *batch, int64_t *local) {
  *batch = gfi_frame_batch_of_row(f, row);
  *local = row - f->batch_offsets[*batch];
}

/* ---------------------------------------------------------------- */
/* Layout.                                                           */

typedef struct borders {
  const char *top[4], *sep[4], *bottom[4]; /* left, fill, junction, right */
  const char *outer, *inner;
} borders;

static const borders utf8_borders = {
    {"\xE2\x94\x8C", "\xE2\x94\x80", "\xE2\x94\xAC", "\xE2\x94\x90"},
    {"\xE2\x95\x9E", "\xE2\x95\x90", "\xE2\x95\xAA", "\xE2\x95\xA1"},
    {"\xE2\x94\x94", "\xE2\x94\x80", "\xE2\x94\xB4", "\xE2\x94\x98"},
    "\xE2\x94\x82",
    "\xE2\x94\x86"};

static const borders ascii_borders = {
    {"+", "-", "+", "+"}, {"+", "=", "+", "+"}, {"+", "-", "+", "+"}, "|", "|"};

static gf_status put_rule(strbuf *out, const char *const parts[4], const int *widths,
                          int ncols) {
  GF_RETURN_NOT_OK(sb_puts(out, parts[0]));
  for (int c = 0; c < ncols; c++) {
    if (c > 0) GF_RETURN_NOT_OK(sb_puts(out, parts[2]));
    GF_RETURN_NOT_OK(sb_repeat(out, parts[1], widths[c] + 2));
  }
  GF_RETURN_NOT_OK(sb_puts(out, parts[3]));
  return sb_puts(out, "\n");
}

static gf_status put_row(strbuf *out, const printer *pr, const borders *bd,
                         const cell *cells, const int *widths, int ncols) {
  GF_RETURN_NOT_OK(sb_puts(out, bd->outer));
  for (int c = 0; c < ncols; c++) {
    if (c > 0) GF_RETURN_NOT_OK(sb_puts(out, bd->inner));
    GF_RETURN_NOT_OK(sb_puts(out, " "));
    GF_RETURN_NOT_OK(sb_put(out, (const char *)pr->pool.data + cells[c].off, cells[c].len));
    GF_RETURN_NOT_OK(sb_repeat(out, " ", widths[c] - cells[c].width + 1));
  }
  GF_RETURN_NOT_OK(sb_puts(out, bd->outer));
  return sb_puts(out, "\n");
}

/* Which items of `n` to show under limit `max` (< 0: all): head and tail
 * with -1 marking the ellipsis between. Returns the count written to idx. */
static int64_t pick(int64_t n, int64_t max, int64_t *idx) {
  int64_t k = 0;
  if (max < 0 || n <= max) {
    for (int64_t r = 0; r < n; r++) idx[k++] = r;
    return k;
  }
  int64_t head = (max + 1) / 2, tail = max / 2;
  for (int64_t r = 0; r < head; r++) idx[k++] = r;
  idx[k++] = -1;
  for (int64_t r = n - tail; r < n; r++) idx[k++] = r;
  return k;
}

static int64_t pick_count(int64_t n, int64_t max) {
  return (max < 0 || n <= max) ? n : max + 1;
}

/* Builds the whole table into `out` (frame allocator memory). */
static gf_status render(printer *pr, strbuf *out, gf_error *err) {
  const gf_frame *f = pr->f;
  const gf_allocator *a = pr->pool.a;
  const borders *bd = pr->o.ascii ? &ascii_borders : &utf8_borders;
  int ncols = f->schema->n;
  char line[96];
  snprintf(line, sizeof line, "shape: (%lld, %d)\n", (long long)f->num_rows, ncols);
  gf_status st = sb_puts(out, line);
  if (st != GF_OK) return st;
  if (ncols == 0) {
    const char *const t[3] = {bd->top[0], bd->sep[0], bd->bottom[0]};
    const char *const e[3] = {bd->top[3], bd->sep[3], bd->bottom[3]};
    for (int k = 0; k < 3 && st == GF_OK; k++) {
      st = sb_puts(out, t[k]);
      if (st == GF_OK) st = sb_puts(out, e[k]);
      if (st == GF_OK && k < 2) st = sb_puts(out, "\n");
    }
    return st;
  }

  int64_t nshow_c = pick_count(ncols, pr->o.max_columns);
  int64_t nshow_r = pick_count(f->num_rows, pr->o.max_rows);
  size_t nrows_total = 3 + (size_t)nshow_r;
  size_t col_bytes = sizeof(int64_t) * (size_t)nshow_c;
  size_t row_bytes = sizeof(int64_t) * ((size_t)nshow_r + 1);
  size_t width_bytes = sizeof(int) * (size_t)nshow_c;
  size_t cell_bytes = sizeof(cell) * nrows_total * (size_t)nshow_c;
  int64_t *cols = gfi_malloc(a, col_bytes);
  int64_t *rows = gfi_malloc(a, row_bytes);
  int *widths = gfi_calloc(a, width_bytes);
  cell *cells = gfi_malloc(a, cell_bytes);
  if (!cols || !rows || !widths || !cells) {
    st = GF_ENOMEM;
    goto done;
  }
  pick(ncols, pr->o.max_columns, cols);
  pick(f->num_rows, pr->o.max_rows, rows);

  /* Header rows: name, "---", dtype; the ellipsis column is blank below its name. */
  for (int64_t j = 0; j < nshow_c && st == GF_OK; j++) {
    cell *hc = &cells[j];
    if (cols[j] < 0) {
      st = label_cell(pr, pr->ellipsis, &hc[0]);
      if (st == GF_OK) st = label_cell(pr, "", &hc[nshow_c]);
      if (st == GF_OK) st = label_cell(pr, "", &hc[2 * nshow_c]);
      continue;
    }
    const gf_field *fld = &f->schema->fields[cols[j]];
    char dt[GFI_TZ_NAME_MAX + 32];
    dtype_name(fld->type, pr->o.ascii, dt, sizeof dt);
    st = label_cell(pr, fld->name, &hc[0]);
    if (st == GF_OK) st = label_cell(pr, "---", &hc[nshow_c]);
    if (st == GF_OK) st = label_cell(pr, dt, &hc[2 * nshow_c]);
  }
  for (int64_t r = 0; r < nshow_r && st == GF_OK; r++) {
    int batch = 0;
    int64_t local = 0;
    if (rows[r] >= 0) locate(f, rows[r], &batch, &local);
    for (int64_t j = 0; j < nshow_c && st == GF_OK; j++) {
      cell *c = &cells[(size_t)(3 + r) * (size_t)nshow_c + (size_t)j];
      if (rows[r] < 0 || cols[j] < 0)
        st = label_cell(pr, pr->ellipsis, c);
      else
        st = value_cell(pr, f->columns[(size_t)batch * ncols + (size_t)cols[j]], local, c);
    }
  }
  if (st != GF_OK) goto done;
  for (size_t r = 0; r < nrows_total; r++)
    for (int64_t j = 0; j < nshow_c; j++) {
      int w = cells[r * (size_t)nshow_c + (size_t)j].width;
      if (w > widths[j]) widths[j] = w;
    }

  int nc = (int)nshow_c;
  st = put_rule(out, bd->top, widths, nc);
  for (size_t r = 0; r < 3 && st == GF_OK; r++)
    st = put_row(out, pr, bd, &cells[r * (size_t)nc], widths, nc);
  if (st == GF_OK) st = put_rule(out, bd->sep, widths, nc);
  for (size_t r = 3; r < nrows_total && st == GF_OK; r++)
    st = put_row(out, pr, bd, &cells[r * (size_t)nc], widths, nc);
  if (st == GF_OK) st = put_rule(out, bd->bottom, widths, nc);
  if (st == GF_OK) out->len--; /* no final newline, as Polars' str() */

done:
  gfi_mfree(a, cols, col_bytes);
  gfi_mfree(a, rows, row_bytes);
  gfi_mfree(a, widths, width_bytes);
  gfi_mfree(a, cells, cell_bytes);
  (void)err;
  return st;
}

/* Formats f as a table (see data.h); *out (freed with gf_mem_free, allocated
 * through the frame's allocator) is NUL-terminated and
 * has no trailing newline. NULL options mean the defaults; max_rows or
 * max_columns < 0 show everything, max_width <= 0 never cuts cells. */
gf_status gf_frame_format(const gf_frame *f, const gf_print_options *o, char **out,
                          gf_error *err) {
  if (!f || !out)
    return gf_error_set(err, GF_EINVAL, "gf_frame_format: %s is NULL", f ? "out" : "frame");
  printer pr;
  memset(&pr, 0, sizeof pr);
  pr.f = f;
  gf_print_options_init(&pr.o);
  if (o) {
    size_t n = o->size < sizeof pr.o ? o->size : sizeof pr.o;
    memcpy(&pr.o, o, n);
    pr.o.size = sizeof pr.o;
  }
  pr.ellipsis = pr.o.ascii ? "..." : "\xE2\x80\xA6";
  pr.ellipsis_width = pr.o.ascii ? 3 : 1;
  if (pr.o.max_width > 0 && pr.o.max_width < pr.ellipsis_width + 1)
    pr.o.max_width = pr.ellipsis_width + 1;
  gfi_vec_init(&pr.pool, f->allocator);
  strbuf text;
  gfi_vec_init_owned(&text, f->allocator);
  gf_status st = render(&pr, &text, err);
  if (st == GF_OK) st = gfi_vec_terminate(&text, NULL);
  gfi_vec_reset(&pr.pool);
  if (st != GF_OK) {
    gfi_vec_reset(&text);
    return GF_OOM(err, "the printed frame");
  }
  *out = gfi_vec_take(&text);
  return GF_OK;
}

/* gf_frame_format followed by a newline, written to `stream`. */
gf_status gf_frame_print(const gf_frame *f, const gf_print_options *o, FILE *stream,
                         gf_error *err) {
  if (!stream) return gf_error_set(err, GF_EINVAL, "gf_frame_print: stream is NULL");
  char *text = NULL;
  GF_RETURN_NOT_OK(gf_frame_format(f, o, &text, err));
  size_t n = strlen(text);
  bool ok = fwrite(text, 1, n, stream) == n && fputc('\n', stream) != EOF;
  gf_mem_free(text);
  if (!ok) return gf_error_set(err, GF_EIO, "gf_frame_print: writing the table failed");
  return GF_OK;
}
