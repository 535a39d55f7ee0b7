/*
 * The streaming CSV source (exec/stream_internal.h, docs/STREAMING.md).
 *
 * Open: the file is mapped; a sample made of up to five pieces (the start,
 * a quarter, half, three quarters, the end; SAMPLE_PIECE bytes each, cut
 * at row ends) is read by the ordinary reader, which detects the dialect
 * and header and infers the types exactly as a whole read of that text
 * would. A file no larger than the sample is read whole as its sample, so
 * a small file streams with the very schema gf_read_csv gives it.
 *
 * Windows: from the first data row, each window is `window` bytes extended
 * to the next row end (a newline with an even number of quotes before it,
 * counted from the window's start, which is itself a row start), parsed in
 * parallel by the ordinary reader with every column's type forced to the
 * schema's and the file's own line numbers in its messages. Windows are
 * handed out in file order, so a window's absolute row offset is the sum
 * of the rows of the windows before it. Pages of consumed windows are
 * dropped from the mapping (MADV_DONTNEED): resident memory stays at a few
 * windows, not the file.
 *
 * Dictionaries: a dictionary column of a window comes with the window's own
 * dictionary; its values are interned into the column's global dictionary
 * (append-only: a value keeps its first code forever) and the codes
 * rewritten, so every batch's dictionary is a prefix of the final one and
 * codes compare across batches.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/hash.h"
#include "data/array_internal.h"
#include "data/builder_internal.h"
#include "exec/exec_internal.h"
#include "exec/stream_internal.h"
#include "io/csv_internal.h"
#include "io/io_internal.h"

#define SAMPLE_PIECE ((int64_t)256 << 10)
#define DEFAULT_WINDOW ((int64_t)16 << 20)

/* ---- the source ----------------------------------------------------------- */

typedef struct csvsrc {
  const gf_allocator *a;
  const gf_parallel_options *po;
  gfi_mapped_file *m;
  const char *data;
  int64_t size;
  char *path;
  gf_csv_read_options wo;     /* a window's read */
  gf_csv_column_type *ctypes; /* nsel forced types */
  const char **sel;           /* nsel names (borrowed from fnames) */
  int nsel;
  char **fnames;              /* every field's name */
  int nf;
  char quote;
  bool quoting;
  int64_t window, pos, line, row0, dropped;
  gfi_csv_gdict *dicts;               /* nsel; used for dictionary columns */
  bool *is_dict;
} csvsrc;

static void csvsrc_free(gfi_source *s) {
  if (!s) return;
  csvsrc *c = s->state;
  if (c) {
    const gf_allocator *a = c->a;
    for (int i = 0; c->dicts && i < c->nsel; i++) gfi_csv_gdict_free(a, &c->dicts[i]);
    if (c->dicts) gfi_mfree(a, c->dicts, sizeof *c->dicts * (size_t)(c->nsel ? c->nsel : 1));
    if (c->is_dict) gfi_mfree(a, c->is_dict, (size_t)(c->nsel ? c->nsel : 1));
    if (c->ctypes) gfi_mfree(a, c->ctypes, sizeof *c->ctypes * (size_t)(c->nsel ? c->nsel : 1));
    if (c->sel) gfi_mfree(a, (void *)c->sel, sizeof *c->sel * (size_t)(c->nsel ? c->nsel : 1));
    for (int i = 0; c->fnames && i < c->nf; i++)
      if (c->fnames[i]) gfi_mfree(a, c->fnames[i], strlen(c->fnames[i]) + 1);
    if (c->fnames) gfi_mfree(a, c->fnames, sizeof *c->fnames * (size_t)(c->nf ? c->nf : 1));
    if (c->path) gfi_mfree(a, c->path, strlen(c->path) + 1);
    gfi_mapped_file_release(c->m);
    gfi_mfree(a, c, sizeof *c);
  }
  gf_schema_release(s->schema);
  gfi_mfree(NULL, s, sizeof *s);
}

/* End of the row that contains byte `at` or starts after it, scanning from
 * the row start `from` with an even quote count: the first byte after a
 * newline outside quotes at or after `at`, or `end`. */
static int64_t row_end_after(const csvsrc *c, int64_t from, int64_t at, int64_t end) {
  int64_t q = 0, nl = 0;
  if (at > from) gfi_csv_count_bytes(c->data + from, (size_t)(at - from), c->quote, c->quoting, &q, &nl);
  bool in_q = (q & 1) != 0;
  if (at > from && c->data[at - 1] == '\n' && !in_q) return at;
  for (int64_t i = at; i < end; i++) {
    char ch = c->data[i];
    if (c->quoting && ch == c->quote) in_q = !in_q;
    else if (ch == '\n' && !in_q) return i + 1;
  }
  return end;
}

/* First byte after the first newline at or after `at` (a guess at a row
 * start inside the file: quoted newlines can fool it, which only changes
 * what the sample sees). */
static int64_t next_line(const csvsrc *c, int64_t at) {
  const char *nl = memchr(c->data + at, '\n', (size_t)(c->size - at));
  return nl ? (int64_t)(nl - c->data) + 1 : c->size;
}

/* Builds the sample text: the start of the file, then pieces at a quarter,
 * half, three quarters and the end; the whole file when it is small. */
static gf_status make_sample(csvsrc *c, char **out, int64_t *len, int64_t *cap, gf_error *err) {
  int64_t total = c->size <= 5 * SAMPLE_PIECE ? c->size : 5 * SAMPLE_PIECE;
  char *b = gfi_malloc(c->a, (size_t)total + 1);
  if (!b) return GF_OOM(err, "a CSV sample");
  *cap = total + 1;
  if (c->size <= 5 * SAMPLE_PIECE) {
    memcpy(b, c->data, (size_t)c->size);
    *out = b;
    *len = c->size;
    return GF_OK;
  }
  int64_t n = 0;
  int64_t e0 = row_end_after(c, 0, SAMPLE_PIECE, c->size);
  if (e0 > SAMPLE_PIECE * 2) e0 = SAMPLE_PIECE; /* one huge row: cut raw */
  memcpy(b, c->data, (size_t)e0);
  n = e0;
  int64_t at[4] = {c->size / 4, c->size / 2, (3 * c->size) / 4, c->size - SAMPLE_PIECE};
  for (int k = 0; k < 4; k++) {
    int64_t s = next_line(c, at[k] > e0 ? at[k] : e0);
    int64_t lim = s + SAMPLE_PIECE < c->size ? s + SAMPLE_PIECE : c->size;
    if (lim > s + (total - n)) lim = s + (total - n);
    /* Cut at the last row end inside [s, lim). */
    int64_t e = lim;
    if (lim < c->size) {
      e = s;
      for (int64_t i = lim; i > s; i--)
        if (c->data[i - 1] == '\n') {
          e = i;
          break;
        }
    }
    if (e <= s) continue;
    if (n > 0 && b[n - 1] != '\n') b[n++] = '\n';
    if (n + (e - s) > total) break;
    memcpy(b + n, c->data + s, (size_t)(e - s));
    n += e - s;
  }
  *out = b;
  *len = n;
  return GF_OK;
}

static char *dup_str(const gf_allocator *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *d = gfi_malloc(a, n);
  if (d) memcpy(d, s, n);
  return d;
}

/* The window's columns (nb x nsel) with dictionary columns recoded into
 * the global dictionaries. */
static gf_status window_columns(csvsrc *c, const gf_frame *w, gf_array **cols, gf_error *err) {
  int nb = gf_frame_num_batches(w), nc = c->nsel;
  gf_status st = GF_OK;
  for (int k = 0; k < nc && st == GF_OK; k++) {
    if (!c->is_dict[k]) {
      for (int b = 0; b < nb; b++)
        cols[(size_t)b * (size_t)nc + (size_t)k] = gf_array_retain(gf_frame_column(w, b, k));
      continue;
    }
    if (nb == 0) continue;
    /* The reader gives every batch of the window one dictionary. */
    const gf_array *wd = gf_frame_column(w, 0, k)->dictionary;
    int64_t nd = wd ? wd->length : 0;
    int32_t *map = gfi_malloc(c->a, sizeof *map * (size_t)(nd ? nd : 1));
    if (!map) return GF_OOM(err, "a CSV dictionary");
    gf_array *snap = NULL;
    st = gfi_csv_gdict_intern_all(c->a, &c->dicts[k], wd, map, err);
    if (st == GF_OK) st = gfi_csv_gdict_snapshot(c->a, &c->dicts[k], &snap, err);
    for (int b = 0; b < nb && st == GF_OK; b++) {
      const gf_array *x = gf_frame_column(w, b, k);
      if (x->dictionary != wd) {
        st = gf_error_set(err, GF_EINTERNAL, "CSV window: batches with different dictionaries");
        break;
      }
      st = gfi_csv_recode(c->a, x, map, nd, snap, &cols[(size_t)b * (size_t)nc + (size_t)k], err);
    }
    gf_array_release(snap);
    gfi_mfree(c->a, map, sizeof *map * (size_t)(nd ? nd : 1));
  }
  return st;
}

/* Adds the hint of a streamed read to a parse error of a window. */
static gf_status with_hint(gf_status st, gf_error *err) {
  if (st != GF_EPARSE || !err || !strstr(err->message, "is not a valid")) return st;
  static const char hint[] =
      " (the schema of a streamed CSV file is inferred from samples before its first row is "
      "read: give the column's type (gf: --types NAME:TYPE; the library: column_types), or read "
      "the whole file first (gf: --input-mode read; the library: gf_read_csv))";
  char msg[GF_ERROR_MESSAGE_SIZE];
  size_t n = strlen(err->message), h = sizeof hint - 1;
  if (n + h >= sizeof msg) n = sizeof msg - 1 - h;
  memcpy(msg, err->message, n);
  memcpy(msg + n, hint, h + 1);
  return gf_error_set(err, GF_EPARSE, "%s", msg);
}

/* The next window as a frame of the schema's columns. */
static gf_status csv_next(gfi_source *s, gf_frame **out, int64_t *row0, gf_error *err) {
  csvsrc *c = s->state;
  *out = NULL;
  *row0 = c->row0;
  /* Skip trailing line breaks (the whole read ignores them too). */
  if (c->pos >= c->size || gfi_csv_blank_tail(c->data + c->pos, c->data + c->size)) return GF_OK;
  GF_RETURN_NOT_OK(gfi_check_stop(c->po, 0, NULL, err));
  int64_t target = c->pos + c->window;
  int64_t end = target >= c->size ? c->size : row_end_after(c, c->pos, target, c->size);
  int64_t q = 0, nl = 0;
  gfi_csv_count_bytes(c->data + c->pos, (size_t)(end - c->pos), c->quote, c->quoting, &q, &nl);
  gf_frame *w = NULL;
  gf_status st = gfi_read_csv_window(c->data + c->pos, (size_t)(end - c->pos), c->path, &c->wo,
                                     c->line, NULL, (const char *const *)c->fnames, c->nf, &w, err);
  if (st != GF_OK) return with_hint(st, err);
  /* A window of blank lines only has no data rows: that ends nothing. */
  int nb = gf_frame_num_batches(w), nc = c->nsel;
  size_t ncell = (size_t)(nb ? nb : 1) * (size_t)(nc ? nc : 1);
  gf_array **cols = gfi_calloc(c->a, sizeof *cols * ncell);
  if (!cols) st = GF_OOM(err, "a CSV window");
  if (st == GF_OK) st = window_columns(c, w, cols, err);
  gf_frame *f = NULL;
  if (st == GF_OK) st = gf_frame_new(s->schema, cols, nb, c->a, &f, err);
  for (size_t i = 0; cols && i < ncell; i++) gf_array_release(cols[i]);
  if (cols) gfi_mfree(c->a, cols, sizeof *cols * ncell);
  int64_t rows = gf_frame_num_rows(w);
  gf_frame_release(w);
  if (st != GF_OK) return st;
  /* The window's values are copies: its pages can leave the process. */
  long pg = sysconf(_SC_PAGESIZE);
  if (pg > 0) {
    int64_t upto = (end / pg) * pg;
    if (upto > c->dropped) {
      (void)madvise((void *)(c->data + c->dropped), (size_t)(upto - c->dropped), MADV_DONTNEED);
      c->dropped = upto;
    }
  }
  c->pos = end;
  c->line += nl;
  c->row0 += rows;
  *out = f;
  return GF_OK;
}

gf_array *gfi_source_csv_dictionary(gfi_source *s, int col) {
  csvsrc *c = s->state;
  if (col < 0 || col >= c->nsel || !c->is_dict[col]) return NULL;
  gf_array *d = NULL;
  gf_error e;
  if (gfi_csv_gdict_snapshot(c->a, &c->dicts[col], &d, &e) != GF_OK) return NULL;
  return d;
}

gf_status gfi_source_csv(const char *path, const gf_csv_read_options *o,
                         const gf_parallel_options *po, int64_t window_bytes, gfi_source **out,
                         gf_error *err) {
  gf_csv_read_options uo;
  gf_csv_read_options_init(&uo);
  if (o) memcpy(&uo, o, o->size && o->size < sizeof uo ? o->size : sizeof uo);
  uo.size = sizeof uo;
  if (uo.escape || uo.comment || uo.skip_rows || uo.max_rows || uo.progress ||
      uo.input_mode != GF_INPUT_MMAP)
    return gf_error_set(err, GF_ENOTSUP, "%s: escape, comment, skip_rows, max_rows, progress "
                        "and input modes other than mmap are read whole, not streamed", path);
  const gf_allocator *a = gfi_alloc_or_default(po->allocator);
  gfi_source *s = gfi_calloc(NULL, sizeof *s);
  csvsrc *c = gfi_calloc(a, sizeof *c);
  if (!s || !c) {
    gfi_mfree(NULL, s, sizeof *s);
    if (c) gfi_mfree(a, c, sizeof *c);
    return GF_OOM(err, "a CSV source");
  }
  s->state = c;
  s->next = csv_next;
  s->free = csvsrc_free;
  c->a = a;
  c->po = po;
  c->window = window_bytes > 0 ? window_bytes : DEFAULT_WINDOW;
  c->path = dup_str(a, path);
  gf_status st = c->path ? GF_OK : GF_OOM(err, "a CSV source");
  if (st == GF_OK) st = gfi_mapped_file_open_with(path, po, GF_INPUT_MMAP, &c->m, err);
  if (st == GF_OK) {
    c->data = gfi_mapped_file_data(c->m);
    c->size = (int64_t)gfi_mapped_file_size(c->m);
    c->quote = uo.quote ? uo.quote : '"';
    c->quoting = !uo.no_quoting;
  }
  /* The sample: header, dialect, types. */
  char *sample = NULL;
  int64_t slen = 0, scap = 0;
  gf_frame *sf = NULL;
  gfi_csv_layout ly;
  memset(&ly, 0, sizeof ly);
  if (st == GF_OK) st = make_sample(c, &sample, &slen, &scap, err);
  if (st == GF_OK) {
    gf_csv_read_options so = uo;
    so.columns = NULL;
    so.num_columns = 0;
    so.parallel = po;
    st = gfi_read_csv_window(sample, (size_t)slen, path, &so, 1, &ly, NULL, 0, &sf, err);
  }
  if (sample) gfi_mfree(a, sample, (size_t)scap);
  if (st == GF_OK && !ly.plain)
    st = gf_error_set(err, GF_ENOTSUP, "%s: CR-only line ends are read whole, not streamed", path);
  const gf_schema *fs = st == GF_OK ? gf_frame_schema(sf) : NULL;
  if (st == GF_OK) {
    c->nf = gf_schema_num_fields(fs);
    c->fnames = gfi_calloc(a, sizeof *c->fnames * (size_t)(c->nf ? c->nf : 1));
    if (!c->fnames) st = GF_OOM(err, "a CSV source");
    for (int i = 0; i < c->nf && st == GF_OK; i++)
      if (!(c->fnames[i] = dup_str(a, gf_schema_field(fs, i)->name))) st = GF_OOM(err, "a CSV source");
  }
  if (st == GF_OK) {
    c->nsel = uo.columns ? uo.num_columns : c->nf;
    size_t n1 = (size_t)(c->nsel ? c->nsel : 1);
    c->sel = gfi_calloc(a, sizeof *c->sel * n1);
    c->ctypes = gfi_calloc(a, sizeof *c->ctypes * n1);
    c->dicts = gfi_calloc(a, sizeof *c->dicts * n1);
    c->is_dict = gfi_calloc(a, n1);
    if (!c->sel || !c->ctypes || !c->dicts || !c->is_dict) st = GF_OOM(err, "a CSV source");
  }
  gf_field *fields = NULL;
  if (st == GF_OK) {
    fields = gfi_calloc(a, sizeof *fields * (size_t)(c->nsel ? c->nsel : 1));
    if (!fields) st = GF_OOM(err, "a CSV source");
  }
  for (int k = 0; k < c->nsel && st == GF_OK; k++) {
    /* Selected columns in file order, as the reader gives them. */
    int i = k;
    if (uo.columns) {
      i = -1;
      int seen = 0;
      for (int f = 0; f < c->nf && i < 0; f++)
        for (int j = 0; j < uo.num_columns; j++)
          if (uo.columns[j] && strcmp(uo.columns[j], c->fnames[f]) == 0) {
            if (seen++ == k) i = f;
            break;
          }
      if (i < 0) {
        st = gf_error_set(err, GF_EINVAL, "%s: no column '%.300s' in the header", path,
                          uo.columns[k] ? uo.columns[k] : "(null)");
        break;
      }
    }
    const gf_field *f = gf_schema_field(fs, i);
    c->sel[k] = c->fnames[i];
    c->ctypes[k].name = c->fnames[i];
    c->ctypes[k].type = f->type;
    c->is_dict[k] = f->type.id == GF_TYPE_DICTIONARY;
    fields[k] = *f;
  }
  if (st == GF_OK) st = gf_schema_new(fields, c->nsel, &s->schema, err);
  if (fields) gfi_mfree(a, fields, sizeof *fields * (size_t)(c->nsel ? c->nsel : 1));
  gf_frame_release(sf);
  if (st == GF_OK) {
    c->wo = uo;
    c->wo.header = 0;
    c->wo.delimiter = ly.delimiter;
    c->wo.columns = c->sel;
    c->wo.num_columns = c->nsel;
    c->wo.column_types = c->ctypes;
    c->wo.num_column_types = c->nsel;
    c->wo.parallel = po;
    c->wo.input_mode = GF_INPUT_MMAP;
    c->pos = ly.data_offset;
    c->line = ly.data_line;
  }
  if (st != GF_OK) {
    csvsrc_free(s);
    return st;
  }
  *out = s;
  return GF_OK;
}
