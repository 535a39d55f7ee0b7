/*
 * gf_read_csv: the CSV reader's driver (see csv_internal.h for the shape).
 *
 * Determinism: the frame does not depend on the worker count or the chunk
 * size. Chunk boundaries are exact row boundaries; every column's type is
 * the least upper bound of the kinds of all its values (the sampled start
 * kind is itself such a bound), so chunks that saw narrower values are
 * re-parsed at the final kind; dictionaries are merged in chunk order, which
 * is first-appearance order in the file; the string columns never tried as
 * dictionaries are chosen from rows at byte offsets of the data, not of
 * the chunks (dict_sample); the reported parse error is the first one in
 * file order.
 *
 * Chunk size: options->parallel->chunk_rows is rows; for CSV the morsel is a
 * byte range of chunk_rows x (average bytes per row of the first 1000 data
 * rows). With chunk_rows 0 a chunk is total/(4 x workers) bytes, clamped to
 * [4 MiB, 64 MiB]. At most GFI_CSV_MAX_CHUNKS chunks are made (larger chunks
 * beyond that). min_parallel_rows is compared with the bytes of the data.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/name_index.h"
#include "data/array_internal.h"
#include "exec/exec_internal.h"
#include "io/csv_internal.h"
#include "io/csv_scan.h"
#include "io/io_internal.h"
#include "exec/stream_internal.h"

#define GFI_CSV_MAX_CHUNKS 4096
#define GFI_CSV_SAMPLE_ROWS 1000
#define GFI_CSV_SNIFF_BYTES (64 * 1024)

/* Fills the defaults. */
void gf_csv_read_options_init(gf_csv_read_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->header = -1;
  o->dictionary_max_ratio = 0.5;
}

static const char *const default_nulls[] = {"", "NA", "null", "NULL"};

/* The whole state of one read. */
typedef struct reader {
  gfi_csv_ctx ctx;
  gf_csv_read_options o;
  gfi_ctx call;            /* the read's context: loaded options, deadline */
  gf_parallel_options par; /* loaded by gfi_ctx_load */
  const gf_allocator *a;
  const char *dstart, *dend; /* data rows */
  int64_t data_line;
  int64_t total_bytes;
  /* names of all fields of a row */
  char **names;
  int nnames;
  /* chunks */
  gfi_csv_chunk *chunks;
  int64_t nchunks, chunks_cap;
  /* pass 1 ranges */
  int64_t range_bytes, nranges;
  int64_t *qcount, *ncount;
  /* final kinds per selected column */
  uint8_t *final;
  /* pass 3 masks, ncols per chunk */
  uint8_t *masks;
  /* batches */
  int64_t *batch_of; /* chunk -> batch or -1 */
  int nbatches;
  gf_array **arrays;   /* nbatches x ncols */
  gf_array **dicts;    /* nbatches x ncols, dictionary candidates */
  atomic_uchar *dict_want; /* per column: try dictionary; cleared when too many */
  int64_t *dict_max;   /* per column: max distinct */
  gf_array **merged;   /* per column: merged dictionary (merge_kernel) or NULL */
  int32_t **maps;      /* nbatches x ncols: batch code -> merged code */
  int64_t *maplen;     /* nbatches x ncols: entries of maps[] */
  atomic_llong done_bytes;
  int64_t reported;
  char *cr_copy;    /* CR-only input translated to LF line ends, or NULL */
  size_t cr_len;
  int64_t line0;    /* physical line of the input's first byte (a window of
                       a streamed file), 0 = 1 */
  gfi_csv_layout *layout; /* filled when not NULL (streaming source) */
  const char *const *field_names; /* names of a window's fields (no header) */
  int nfield_names;
} reader;

/* Copies user options honouring their size and checks them. */
static gf_status load_options(const gf_csv_read_options *o,
                              gf_csv_read_options *out, gf_error *err) {
  gf_csv_read_options_init(out);
  if (!o) return GF_OK;
  if (o->size < offsetof(gf_csv_read_options, quote))
    return gf_error_set(err, GF_EINVAL,
                        "gf_csv_read_options.size is %zu: call "
                        "gf_csv_read_options_init first",
                        o->size);
  memcpy(out, o, o->size < sizeof *out ? o->size : sizeof *out);
  out->size = sizeof *out;
  if (out->delimiter == '\n' || out->delimiter == '\r')
    return gf_error_set(err, GF_EINVAL, "the delimiter cannot be a line break");
  if (!out->no_quoting && (out->quote == '\n' || out->quote == '\r'))
    return gf_error_set(err, GF_EINVAL, "the quote cannot be a line break");
  char q = out->quote ? out->quote : '"';
  if (!out->no_quoting && out->delimiter && out->delimiter == q)
    return gf_error_set(err, GF_EINVAL, "the delimiter and the quote are both '%c'", q);
  if (out->escape && (out->escape == out->delimiter || out->escape == '\n'))
    return gf_error_set(err, GF_EINVAL, "invalid escape character");
  if (out->comment && (out->comment == out->delimiter || out->comment == '\n'))
    return gf_error_set(err, GF_EINVAL, "invalid comment character");
  if (out->num_null_values < 0 || out->num_column_types < 0 || out->num_columns < 0 ||
      (out->num_column_types > 0 && !out->column_types) ||
      (out->num_null_values > 0 && !out->null_values))
    return gf_error_set(err, GF_EINVAL, "invalid CSV option counts");
  if (out->skip_rows < 0 || out->max_rows < 0)
    return gf_error_set(err, GF_EINVAL, "skip_rows and max_rows must not be negative");
  if (out->header < -1 || out->header > 1)
    return gf_error_set(err, GF_EINVAL, "header must be -1, 0 or 1");
  if (!(out->dictionary_max_ratio >= 0 && out->dictionary_max_ratio <= 1))
    return gf_error_set(err, GF_EINVAL, "dictionary_max_ratio must be in [0, 1]");
  if (out->dictionary_max_ratio == 0) out->dictionary_max_ratio = 0.5;
  if (out->bad_value != GF_CSV_BAD_VALUE_ERROR && out->bad_value != GF_CSV_BAD_VALUE_NULL)
    return gf_error_set(err, GF_EINVAL, "invalid bad_value");
  return GF_OK;
}

/* Kind for a user-forced type, or GF_ENOTSUP. */
static gf_status forced_kind(gf_datatype t, uint8_t *kind, bool *dict) {
  *dict = false;
  switch (t.id) {
  case GF_TYPE_BOOL: *kind = GFI_CSV_BOOL; return GF_OK;
  case GF_TYPE_INT8: case GF_TYPE_INT16: case GF_TYPE_INT32: case GF_TYPE_INT64:
  case GF_TYPE_UINT8: case GF_TYPE_UINT16: case GF_TYPE_UINT32: case GF_TYPE_UINT64:
    *kind = GFI_CSV_INT;
    return GF_OK;
  case GF_TYPE_FLOAT32: *kind = GFI_CSV_F32; return GF_OK;
  case GF_TYPE_FLOAT64: *kind = GFI_CSV_F64; return GF_OK;
  case GF_TYPE_UTF8:
  case GF_TYPE_LARGE_UTF8: *kind = GFI_CSV_STR; return GF_OK;
  case GF_TYPE_DATE32: *kind = GFI_CSV_DATE; return GF_OK;
  case GF_TYPE_TIMESTAMP: *kind = GFI_CSV_TSUNIT; return GF_OK;
  case GF_TYPE_DECIMAL128: *kind = GFI_CSV_DEC; return GF_OK;
  case GF_TYPE_DICTIONARY:
    if (t.value_id == GF_TYPE_UTF8 || t.value_id == GF_TYPE_LARGE_UTF8) {
      *kind = GFI_CSV_STR;
      *dict = true;
      return GF_OK;
    }
    return GF_ENOTSUP;
  default:
    return GF_ENOTSUP;
  }
}

/* True when column c was forced to large_utf8 or dictionary<large_utf8>:
 * it is read as utf8 and widened at the end (widen_large). */
static bool column_large(const reader *r, int c) {
  const gfi_csv_colspec *cs = &r->ctx.cols[c];
  return cs->forced && (cs->type.id == GF_TYPE_LARGE_UTF8 ||
                        (cs->type.id == GF_TYPE_DICTIONARY &&
                         cs->type.value_id == GF_TYPE_LARGE_UTF8));
}

/* Type of the arrays built for column c (large_utf8 columns are built as
 * utf8, dictionaries as utf8 then encoded). */
static gf_datatype column_type(const reader *r, int c) {
  const gfi_csv_colspec *cs = &r->ctx.cols[c];
  if (cs->forced)
    return cs->force_dict || column_large(r, c) ? gf_type(GF_TYPE_UTF8) : cs->type;
  return gfi_csv_kind_type(r->final[c]);
}

/* Widens the arrays of large_utf8 / dictionary<large_utf8> columns (read as
 * utf8): offsets to int64, string bytes shared; a dictionary is widened
 * once and every batch rebuilt over it. */
static gf_status widen_large(reader *r, gf_error *err) {
  int ncols = r->ctx.ncols;
  for (int c = 0; c < ncols; c++) {
    if (!column_large(r, c)) continue;
    gf_array *dict = NULL;
    gf_status st = GF_OK;
    for (int b = 0; b < r->nbatches && st == GF_OK; b++) {
      gf_array **slot = &r->arrays[(size_t)b * (size_t)ncols + (size_t)c];
      if (r->dict_want[c] && dict == NULL)
        st = gfi_array_widen(r->a, gf_array_dictionary(*slot), NULL, &dict, err);
      gf_array *w = NULL;
      if (st == GF_OK) st = gfi_array_widen(r->a, *slot, dict, &w, err);
      if (st == GF_OK) {
        gf_array_release(*slot);
        *slot = w;
      }
    }
    gf_array_release(dict);
    if (st != GF_OK) return st;
  }
  return GF_OK;
}

/* Frees everything the reader owns (the frame's arrays are retained by
 * it). */
static void reader_free(reader *r) {
  const gf_allocator *a = r->a;
  int ncols = r->ctx.ncols;
  if (r->chunks) {
    for (int64_t i = 0; i < r->nchunks; i++) {
      gfi_csv_chunk_clear(&r->chunks[i], ncols);
      gfi_mfree(a, r->chunks[i].cols, sizeof(gfi_csv_colbuf) * (size_t)ncols);
    }
    gfi_mfree(a, r->chunks, sizeof(gfi_csv_chunk) * (size_t)r->chunks_cap);
  }
  size_t nb = (size_t)r->nbatches * (size_t)ncols;
  if (r->arrays) {
    for (size_t i = 0; i < nb; i++) gf_array_release(r->arrays[i]);
    gfi_mfree(a, r->arrays, nb * sizeof *r->arrays);
  }
  if (r->dicts) {
    for (size_t i = 0; i < nb; i++) gf_array_release(r->dicts[i]);
    gfi_mfree(a, r->dicts, nb * sizeof *r->dicts);
  }
  if (r->merged) {
    for (int c = 0; c < ncols; c++) gf_array_release(r->merged[c]);
    gfi_mfree(a, r->merged, sizeof *r->merged * (size_t)ncols);
  }
  if (r->maps) {
    /* Maps come from the kernels' allocator: the read's (limited) one. */
    const gf_allocator *wa = gfi_alloc_or_default(r->par.allocator);
    for (size_t i = 0; i < nb; i++)
      if (r->maps[i])
        gfi_mfree(wa, r->maps[i], sizeof(int32_t) * (size_t)(r->maplen[i] ? r->maplen[i] : 1));
    gfi_mfree(a, r->maps, sizeof *r->maps * (nb ? nb : 1));
  }
  gfi_mfree(a, r->maplen, sizeof *r->maplen * (nb ? nb : 1));
  if (r->names) {
    for (int i = 0; i < r->nnames; i++)
      if (r->names[i]) gfi_mfree(a, r->names[i], strlen(r->names[i]) + 1);
    gfi_mfree(a, r->names, sizeof(char *) * (size_t)r->nnames);
  }
  gfi_mfree(a, r->ctx.cols, sizeof(gfi_csv_colspec) * (size_t)(ncols ? ncols : 1));
  gfi_mfree(a, r->ctx.nulls.len, sizeof(int64_t) * (size_t)(r->ctx.nulls.n + 1));
  gfi_mfree(a, r->qcount, sizeof(int64_t) * (size_t)(r->nranges + 1));
  gfi_mfree(a, r->ncount, sizeof(int64_t) * (size_t)(r->nranges + 1));
  gfi_mfree(a, r->final, (size_t)ncols + 1);
  gfi_mfree(a, r->masks, (size_t)ncols * (size_t)(r->nchunks ? r->nchunks : 1) + 1);
  gfi_mfree(a, r->batch_of, sizeof(int64_t) * (size_t)(r->nchunks + 1));
  gfi_mfree(a, (void *)r->dict_want, (size_t)ncols + 1);
  gfi_mfree(a, r->dict_max, sizeof(int64_t) * (size_t)(ncols + 1));
  if (r->cr_copy) gfi_mfree(a, r->cr_copy, r->cr_len);
}

/* Duplicates [p, p+n) as a NUL-terminated string from a. */
static char *dup_n(const gf_allocator *a, const char *p, size_t n) {
  char *s = gfi_malloc(a, n + 1);
  if (!s) return NULL;
  if (n) memcpy(s, p, n);
  s[n] = 0;
  return s;
}

/* Makes r->names unique in order: a repeated name gets the first free
 * suffix _1, _2, ... (a,a,a_1 -> a, a_1, a_1_1). Each name's entry keeps
 * the suffix to try next, so n equal names cost O(n) probes and a header
 * of 60,000 fields reads at once. */
static gf_status dedupe_names(reader *r, gf_error *err) {
  const gf_allocator *a = r->a;
  int n = r->nnames;
  gfi_name_index x;
  GF_RETURN_NOT_OK(gfi_name_index_init(&x, n, a, err));
  gf_status st = GF_OK;
  bool added;
  for (int i = 0; i < n && st == GF_OK; i++) {
    gfi_name_slot *e = gfi_name_index_put(&x, r->names[i], 1, &added);
    if (added) continue;
    size_t len = strlen(r->names[i]);
    char *s = gfi_malloc(a, len + 16);
    if (!s) {
      st = GF_OOM(err, "CSV column names");
      break;
    }
    int64_t k = e->value;
    for (;; k++) {
      snprintf(s, len + 16, "%s_%lld", r->names[i], (long long)k);
      if (gfi_name_index_find(&x, s) < 0) break;
    }
    e->value = k + 1; /* the index never grows, so `e` is still valid */
    char *u = dup_n(a, s, strlen(s));
    gfi_mfree(a, s, len + 16);
    if (!u) {
      st = GF_OOM(err, "CSV column names");
      break;
    }
    gfi_mfree(a, r->names[i], len + 1);
    r->names[i] = u;
    gfi_name_index_put(&x, u, 1, &added);
  }
  gfi_name_index_free(&x);
  return st;
}

/* Reads the header row or invents names (an empty header field becomes
 * column_<i>, 1-based, as when there is no header); dedupes them. */
static gf_status make_names(reader *r, const gfi_csv_field *f, int n,
                            bool header, const char *row_start,
                            int64_t row_line, gf_error *err) {
  const gf_allocator *a = r->a;
  r->names = gfi_calloc(a, sizeof(char *) * (size_t)n);
  if (!r->names) return GF_OOM(err, "CSV column names");
  r->nnames = n;
  for (int i = 0; i < n; i++) {
    char buf[48];
    const char *p = buf;
    size_t len;
    if (header && f[i].len > 0) {
      if (!gfi_utf8_valid(f[i].p, f[i].len)) {
        gfi_csv_error_at(&r->ctx, row_start, row_line, f[i].raw, err, GF_EPARSE,
                         "invalid UTF-8 in the header");
        return GF_EPARSE;
      }
      p = f[i].p;
      len = (size_t)f[i].len;
      if (memchr(p, 0, len)) {
        gfi_csv_error_at(&r->ctx, row_start, row_line, f[i].raw, err, GF_EPARSE,
                         "NUL byte in a column name");
        return GF_EPARSE;
      }
    } else if (!header && i < r->nfield_names) {
      p = r->field_names[i];
      len = strlen(p);
    } else {
      len = (size_t)snprintf(buf, sizeof buf, "column_%d", i + 1);
    }
    r->names[i] = dup_n(a, p, len);
    if (!r->names[i]) return GF_OOM(err, "CSV column names");
  }
  return dedupe_names(r, err);
}

static int find_name(const reader *r, const char *name) {
  for (int i = 0; i < r->nnames; i++)
    if (strcmp(r->names[i], name) == 0) return i;
  return -1;
}

/* Chooses the parsed columns and their forced types. */
static gf_status select_columns(reader *r, gf_error *err) {
  const gf_allocator *a = r->a;
  const gf_csv_read_options *o = &r->o;
  int n = r->nnames;
  uint8_t *sel = gfi_calloc(a, (size_t)n);
  if (!sel) return GF_OOM(err, "CSV column selection");
  gf_status st = GF_OK;
  if (o->columns && o->num_columns > 0) {
    for (int i = 0; i < o->num_columns; i++) {
      int k = o->columns[i] ? find_name(r, o->columns[i]) : -1;
      if (k < 0) {
        st = gf_error_set(err, GF_EINVAL, "%s: column \"%s\" not found", r->ctx.name,
                          o->columns[i] ? o->columns[i] : "(null)");
        goto out;
      }
      sel[k] = 1;
    }
  } else {
    memset(sel, 1, (size_t)n);
  }
  int ncols = 0;
  for (int i = 0; i < n; i++) ncols += sel[i];
  r->ctx.cols = gfi_calloc(a, sizeof(gfi_csv_colspec) * (size_t)(ncols ? ncols : 1));
  if (!r->ctx.cols) {
    st = GF_OOM(err, "CSV columns");
    goto out;
  }
  r->ctx.ncols = ncols;
  for (int i = 0, c = 0; i < n; i++) {
    if (!sel[i]) continue;
    r->ctx.cols[c].field = i;
    r->ctx.cols[c].name = r->names[i];
    r->ctx.cols[c].kind = GFI_CSV_NULL;
    c++;
  }
  for (int t = 0; t < o->num_column_types; t++) {
    const gf_csv_column_type *ct = &o->column_types[t];
    int k = ct->name ? find_name(r, ct->name) : -1;
    if (k < 0) {
      st = gf_error_set(err, GF_EINVAL, "%s: column \"%s\" of a type override not found",
                        r->ctx.name, ct->name ? ct->name : "(null)");
      goto out;
    }
    if (!sel[k]) continue;
    gfi_csv_colspec *cs = NULL;
    for (int c = 0; c < ncols; c++)
      if (r->ctx.cols[c].field == k) cs = &r->ctx.cols[c];
    uint8_t kind;
    bool dict;
    char tn[64];
    if (forced_kind(ct->type, &kind, &dict) != GF_OK ||
        gf_type_validate(ct->type, NULL) != GF_OK) {
      gf_type_format(ct->type, tn, sizeof tn);
      st = gf_error_set(err, GF_ENOTSUP, "%s: the CSV reader cannot read column \"%s\" as %s",
                        r->ctx.name, ct->name, tn);
      goto out;
    }
    cs->forced = true;
    cs->force_dict = dict;
    cs->type = ct->type;
    cs->kind = kind;
  }
out:
  gfi_mfree(a, sel, (size_t)n);
  return st;
}

/* gf_run_chunks with the read's loaded options, so every pass shares the
 * read's one deadline (counted from the start of the read, not of this
 * pass). */
static gf_status run_chunks(reader *r, const gf_chunk_spec *specs, int64_t n, gf_chunk_fn fn,
                            gf_error *err) {
  gf_status st = gfi_check_stop(&r->par, 0, NULL, err);
  if (st == GF_ETIMEDOUT)
    return gf_error_set(err, st, "reading %s timed out: deadline of %lld ms passed", r->ctx.name,
                        (long long)r->par.timeout_ms);
  GF_RETURN_NOT_OK(st);
  return gf_run_chunks(specs, n, fn, r, &r->par, err);
}

/* ---- pass 1: quote and newline counts per byte range ---------------- */

static gf_status count_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *tc) {
  reader *r = user;
  const char *p = r->dstart + ch->start_row;
  gfi_csv_count_masks(gfi_csv_simd_level(), p, (size_t)(ch->end_row - ch->start_row),
                      r->ctx.d.quote, r->ctx.d.quoting, &r->qcount[ch->chunk_id],
                      &r->ncount[ch->chunk_id]);
  (void)tc;
  return GF_OK;
}

/* Splits [dstart, dend) into chunks that start on row boundaries. */
static gf_status make_chunks(reader *r, gf_error *err) {
  const gf_allocator *a = r->a;
  const int64_t total = r->dend - r->dstart;
  int64_t rb = r->range_bytes;
  int64_t nr = (total + rb - 1) / rb;
  if (nr < 1) nr = 1;
  r->nranges = nr;
  int64_t *starts = gfi_malloc(a, sizeof(int64_t) * (size_t)(nr + 1));
  int64_t *lines = gfi_malloc(a, sizeof(int64_t) * (size_t)(nr + 1));
  r->qcount = gfi_calloc(a, sizeof(int64_t) * (size_t)(nr + 1));
  r->ncount = gfi_calloc(a, sizeof(int64_t) * (size_t)(nr + 1));
  gf_status st = GF_OK;
  if (!starts || !lines || !r->qcount || !r->ncount) {
    st = GF_OOM(err, "CSV chunk boundaries");
    goto out;
  }
  const gfi_csv_dialect *d = &r->ctx.d;
  starts[0] = 0;
  lines[0] = r->data_line;
  if (!d->escape && !d->comment) {
    /* Parity mode: count quotes per range in parallel, then find each
     * range's first row start knowing the quote state at its start. */
    if (nr > 1) {
      gf_chunk_spec *specs = gfi_malloc(a, sizeof *specs * (size_t)nr);
      if (!specs) {
        st = GF_OOM(err, "CSV chunk boundaries");
        goto out;
      }
      for (int64_t i = 0; i < nr; i++) {
        specs[i].start_row = i * rb;
        specs[i].end_row = (i + 1) * rb < total ? (i + 1) * rb : total;
        specs[i].chunk_id = i;
      }
      st = run_chunks(r, specs, nr, count_kernel, err);
      gfi_mfree(a, specs, sizeof *specs * (size_t)nr);
      if (st != GF_OK) goto out;
    }
    int64_t q = 0, nl = 0;
    for (int64_t i = 1; i < nr; i++) {
      q += r->qcount[i - 1];
      nl += r->ncount[i - 1];
      const char *rs = r->dstart + i * rb;
      bool in_q = (q & 1) != 0;
      int64_t extra = 0;
      const char *s = r->dend;
      if (rs[-1] == '\n' && !in_q) {
        s = rs;
      } else {
        for (const char *x = rs; x < r->dend; x++) {
          char c = *x;
          if (d->quoting && c == d->quote) {
            in_q = !in_q;
          } else if (c == '\n') {
            extra++;
            if (!in_q) {
              s = x + 1;
              break;
            }
          }
        }
      }
      starts[i] = s - r->dstart;
      lines[i] = r->data_line + nl + extra;
    }
  } else {
    /* Escapes or comments: one sequential pass of the tokenizer. */
    gfi_csv_tokenizer t;
    gfi_csv_tokenizer_init(&t, d, a);
    const char *p = r->dstart;
    int64_t line = r->data_line;
    int64_t i = 1;
    while (p < r->dend && i < nr) {
      while (i < nr && p - r->dstart >= i * rb) {
        starts[i] = p - r->dstart;
        lines[i] = line;
        i++;
      }
      gfi_csv_row row;
      gf_status ts = gfi_csv_next_row(&t, p, r->dend, NULL, 0, &row);
      if (ts == GF_ENOMEM) {
        gfi_csv_tokenizer_reset(&t);
        st = GF_OOM(err, "CSV tokenizer");
        goto out;
      }
      if (ts != GF_OK) break; /* unterminated quote: the parser reports it */
      line += row.newlines;
      p = row.next;
    }
    for (; i < nr; i++) {
      starts[i] = total;
      lines[i] = line;
    }
    gfi_csv_tokenizer_reset(&t);
  }
  starts[nr] = total;
  /* Chunks = non-empty [starts[i], starts[i+1]). */
  int64_t nc = 0;
  for (int64_t i = 0; i < nr; i++) nc += starts[i + 1] > starts[i];
  r->chunks = gfi_calloc(a, sizeof(gfi_csv_chunk) * (size_t)(nc ? nc : 1));
  r->chunks_cap = nc ? nc : 1;
  if (!r->chunks) {
    st = GF_OOM(err, "CSV chunks");
    goto out;
  }
  r->nchunks = nc;
  for (int64_t i = 0, k = 0; i < nr; i++) {
    if (starts[i + 1] <= starts[i]) continue;
    gfi_csv_chunk *ch = &r->chunks[k++];
    ch->start = r->dstart + starts[i];
    ch->end = r->dstart + starts[i + 1];
    ch->first_line = lines[i];
    ch->cols = gfi_calloc(a, sizeof(gfi_csv_colbuf) * (size_t)(r->ctx.ncols ? r->ctx.ncols : 1));
    if (!ch->cols) {
      r->nchunks = k;
      st = GF_OOM(err, "CSV chunks");
      goto out;
    }
  }
out:
  gfi_mfree(a, starts, sizeof(int64_t) * (size_t)(nr + 1));
  gfi_mfree(a, lines, sizeof(int64_t) * (size_t)(nr + 1));
  return st;
}

/* ---- which string columns may become dictionaries -------------------- */

/* First row start at or after byte x of the data, in parity mode: the
 * quote parity at x is the per-range counts of pass 1 up to x's range plus
 * a count from that range's start, so the answer depends on the file
 * alone, not on the range size. */
static const char *row_start_at(const reader *r, int64_t x) {
  if (x <= 0) return r->dstart;
  const gfi_csv_dialect *d = &r->ctx.d;
  int64_t q = 0;
  if (d->quoting) {
    int64_t all = 0;
    for (int64_t k = 0; r->nranges > 1 && k < r->nranges; k++) all += r->qcount[k];
    if (r->nranges <= 1 || all > 0) {
      int64_t i = r->nranges > 1 ? x / r->range_bytes : 0;
      for (int64_t k = 0; k < i; k++) q += r->qcount[k];
      int64_t qq = 0, nl = 0;
      int64_t from = i * r->range_bytes;
      gfi_csv_count_masks(gfi_csv_simd_level(), r->dstart + from, (size_t)(x - from), d->quote,
                          true, &qq, &nl);
      q += qq;
    }
  }
  bool in_q = (q & 1) != 0;
  const char *p = r->dstart + x;
  if (p[-1] == '\n' && !in_q) return p;
  for (; p < r->dend; p++) {
    if (d->quoting && *p == d->quote)
      in_q = !in_q;
    else if (*p == '\n' && !in_q)
      return p + 1;
  }
  return r->dend;
}

/* Decides before the parse which string columns are never tried as
 * dictionaries (csv_dict_sample.c): the sample is read at the data's
 * start, quarter, half and three quarters (row starts of those byte
 * offsets; only the start when escapes or comments rule out the quote
 * parity). A vetoed column is parsed straight to utf8. */
static gf_status dict_sample(reader *r, gf_error *err) {
  gfi_csv_ctx *ctx = &r->ctx;
  const int64_t total = r->dend - r->dstart;
  if (total <= 0 || ctx->ncols == 0) return GF_OK;
  const char *spot[4], *spot_end[4];
  int ns = 0;
  bool parity = !ctx->d.escape && !ctx->d.comment;
  for (int s = 0; s < (parity ? 4 : 1); s++) {
    const char *p = row_start_at(r, s * (total / 4));
    if (p >= r->dend || (ns > 0 && p <= spot[ns - 1])) continue;
    spot[ns++] = p;
  }
  for (int s = 0; s < ns; s++) spot_end[s] = s + 1 < ns ? spot[s + 1] : r->dend;
  /* The read's allocator (under its memory limit), not the reader's own. */
  const gf_allocator *wa = gfi_alloc_or_default(r->par.allocator);
  bool *veto = gfi_calloc(wa, (size_t)ctx->ncols);
  if (!veto) return GF_OOM(err, "the CSV dictionary sample");
  gf_status st = gfi_csv_dict_veto(ctx, spot, spot_end, ns, total, r->o.dictionary_max_ratio,
                                   veto, wa, err);
  for (int c = 0; st == GF_OK && c < ctx->ncols; c++)
    if (veto[c]) ctx->cols[c].dict = false;
  gfi_mfree(wa, veto, (size_t)ctx->ncols);
  return st;
}

/* ---- type inference from samples spread over the file ---------------- */

static gf_status sample_kinds(reader *r, gf_error *err) {
  gfi_csv_ctx *ctx = &r->ctx;
  int ncols = ctx->ncols;
  if (r->nchunks == 0 || ncols == 0) return GF_OK;
  size_t fb = sizeof(gfi_csv_field) * (size_t)(ctx->nfields + 1);
  gfi_csv_field *f = gfi_malloc(r->a, fb);
  bool *big = gfi_calloc(r->a, (size_t)ncols);
  int64_t *lensum = gfi_calloc(r->a, sizeof(int64_t) * 2 * (size_t)ncols);
  int64_t *lencnt = lensum ? lensum + ncols : NULL;
  if (!f || !big || !lensum) {
    gfi_mfree(r->a, f, fb);
    gfi_mfree(r->a, big, (size_t)ncols);
    gfi_mfree(r->a, lensum, sizeof(int64_t) * 2 * (size_t)ncols);
    return GF_OOM(err, "CSV type inference");
  }
  gfi_csv_tokenizer t;
  gfi_csv_tokenizer_init(&t, &ctx->d, r->a);
  int64_t n = r->nchunks;
  int64_t picks[5] = {0, n / 4, n / 2, (3 * n) / 4, n - 1};
  gf_status st = GF_OK;
  for (int s = 0; s < 5 && st == GF_OK; s++) {
    if (s > 0 && picks[s] == picks[s - 1]) continue;
    const gfi_csv_chunk *ch = &r->chunks[picks[s]];
    const char *p = ch->start;
    for (int rows = 0; p < ch->end && rows < GFI_CSV_SAMPLE_ROWS;) {
      gfi_csv_row row;
      gf_status ts = gfi_csv_next_row(&t, p, ch->end, f, ctx->nfields + 1, &row);
      if (ts == GF_ENOMEM) {
        st = GF_OOM(err, "CSV type inference");
        break;
      }
      if (ts != GF_OK) break;
      p = row.next;
      if (row.kind == GFI_CSV_COMMENT || (row.kind == GFI_CSV_BLANK && ctx->nfields > 1))
        continue;
      rows++;
      if (row.nfields != ctx->nfields) continue;
      for (int c = 0; c < ncols; c++) {
        gfi_csv_colspec *cs = &ctx->cols[c];
        const gfi_csv_field *x = &f[cs->field];
        if (cs->forced) {
          lensum[c] += x->len;
          lencnt[c]++;
          continue;
        }
        lensum[c] += x->len;
        lencnt[c]++;
        if (gfi_csv_is_null(&ctx->nulls, x->p, x->len)) continue;
        uint8_t k = gfi_csv_classify(x->p, x->len, &big[c]);
        cs->kind = gfi_csv_kind_fix(gfi_csv_kind_join(cs->kind, k), big[c]);
      }
    }
  }
  gfi_csv_tokenizer_reset(&t);
  for (int c = 0; c < ncols; c++)
    ctx->cols[c].avg_len = lencnt[c] ? lensum[c] / lencnt[c] + 1 : 16;
  gfi_mfree(r->a, f, fb);
  gfi_mfree(r->a, big, (size_t)ncols);
  gfi_mfree(r->a, lensum, sizeof(int64_t) * 2 * (size_t)ncols);
  return st;
}

/* ---- pass 2: parse ---------------------------------------------------- */

/* Reports progress from the calling thread; false = cancel. */
static void report_progress(reader *r, int64_t done) {
  if (!r->o.progress || done <= r->reported) return;
  r->reported = done;
  if (!r->o.progress(r->o.progress_user, done, r->total_bytes))
    atomic_store(&r->ctx.stop, true);
}

static gf_status parse_kernel(void *user, const gf_chunk_spec *spec, gf_task_ctx *tc) {
  reader *r = user;
  int64_t idx = spec->chunk_id;
  gfi_csv_chunk *ch = &r->chunks[idx];
  if (gfi_first_error_before(&r->ctx.err_chunk, idx)) return GF_OK;
  if (atomic_load(&r->ctx.stop)) return GF_ECANCELED;
  gf_status st = gfi_csv_parse_chunk(&r->ctx, ch, idx, NULL, tc->allocator);
  ch->status = st;
  if (st == GF_EPARSE) {
    gfi_first_error_note(&r->ctx.err_chunk, idx); /* the file-order candidate */
    return GF_OK;
  }
  if (st != GF_OK) {
    gf_error_set(tc->err, st, "%s", ch->err.message);
    return st;
  }
  int64_t done = atomic_fetch_add(&r->done_bytes, ch->end - ch->start) + (ch->end - ch->start);
  if (tc->worker == 0) report_progress(r, done);
  if (atomic_load(&r->ctx.stop)) {
    gf_error_set(tc->err, GF_ECANCELED, "reading %s was cancelled by the progress callback",
                 r->ctx.name);
    return GF_ECANCELED;
  }
  return GF_OK;
}

/* Runs `fn` over the chunks listed in ids (all when ids is NULL). */
static gf_status run_over(reader *r, const int64_t *ids, int64_t n, gf_chunk_fn fn,
                          gf_error *err) {
  if (n == 0) return GF_OK;
  gf_chunk_spec *specs = gfi_malloc(r->a, sizeof *specs * (size_t)n);
  if (!specs) return GF_OOM(err, "CSV chunk list");
  for (int64_t i = 0; i < n; i++) {
    int64_t id = ids ? ids[i] : i;
    specs[i].start_row = r->chunks[id].start - r->dstart;
    specs[i].end_row = r->chunks[id].end - r->dstart;
    specs[i].chunk_id = id;
  }
  gf_status st = run_chunks(r, specs, n, fn, err);
  gfi_mfree(r->a, specs, sizeof *specs * (size_t)n);
  return st;
}

/* ---- pass 3: re-parse columns whose chunk kind is narrower than final -- */

static gf_status reparse_kernel(void *user, const gf_chunk_spec *spec, gf_task_ctx *tc) {
  reader *r = user;
  int64_t idx = spec->chunk_id;
  gfi_csv_chunk *ch = &r->chunks[idx];
  const uint8_t *mask = r->masks + (size_t)idx * (size_t)r->ctx.ncols;
  gf_status st = gfi_csv_parse_chunk(&r->ctx, ch, idx, mask, tc->allocator);
  if (st != GF_OK) gf_error_set(tc->err, st, "%s", ch->err.message);
  return st;
}

/* ---- arrays and dictionaries ----------------------------------------- */

/* Builds a batch's arrays; a string column parsed as codes (dictionary
 * mode) goes to r->dicts, its utf8 slot staying NULL until the column's
 * dictionary is decided. */
static gf_status finish_kernel(void *user, const gf_chunk_spec *spec, gf_task_ctx *tc) {
  reader *r = user;
  int64_t idx = spec->chunk_id;
  gfi_csv_chunk *ch = &r->chunks[idx];
  int64_t b = r->batch_of[idx];
  int ncols = r->ctx.ncols;
  for (int c = 0; c < ncols; c++) {
    gf_array *arr = NULL;
    GF_RETURN_NOT_OK(gfi_csv_chunk_array(ch, c, r->final[c], column_type(r, c), tc->allocator,
                                         &arr, tc->err));
    if (gf_array_type(arr).id == GF_TYPE_DICTIONARY && column_type(r, c).id == GF_TYPE_UTF8)
      r->dicts[b * ncols + c] = arr;
    else
      r->arrays[b * ncols + c] = arr;
  }
  return GF_OK;
}

/* Decodes the batch's columns still held as codes whose column did not
 * become a dictionary. */
static gf_status decode_kernel(void *user, const gf_chunk_spec *spec, gf_task_ctx *tc) {
  reader *r = user;
  int64_t b = r->batch_of[spec->chunk_id];
  int ncols = r->ctx.ncols;
  for (int c = 0; c < ncols; c++) {
    size_t k = (size_t)b * (size_t)ncols + (size_t)c;
    if (r->arrays[k] || !r->dicts[k]) continue;
    GF_RETURN_NOT_OK(gfi_csv_dict_decode(r->dicts[k], tc->allocator, &r->arrays[k], tc->err));
    gf_array_release(r->dicts[k]);
    r->dicts[k] = NULL;
  }
  return GF_OK;
}

static gf_status dict_kernel(void *user, const gf_chunk_spec *spec, gf_task_ctx *tc) {
  reader *r = user;
  int64_t b = r->batch_of[spec->chunk_id];
  int ncols = r->ctx.ncols;
  for (int c = 0; c < ncols; c++) {
    if (!atomic_load_explicit(&r->dict_want[c], memory_order_relaxed)) continue;
    if (r->dicts[b * ncols + c]) { /* parsed as codes: too many distinct values? */
      if (gf_array_length(gf_array_dictionary(r->dicts[b * ncols + c])) > r->dict_max[c])
        atomic_store(&r->dict_want[c], 0);
      continue;
    }
    gf_array *d = NULL;
    GF_RETURN_NOT_OK(gfi_csv_dict_encode(r->arrays[b * ncols + c], r->dict_max[c],
                                         tc->allocator, &d, tc->err));
    if (!d) {
      atomic_store(&r->dict_want[c], 0);
      continue;
    }
    r->dicts[b * ncols + c] = d;
  }
  return GF_OK;
}

/* Merges column spec->chunk_id's batch dictionaries in batch order into
 * one (r->merged[c]), recording each batch's code map (r->maps), and drops
 * the column's dictionary attempt once it has more distinct values than
 * its limit. Only the dictionaries' values are visited here (the codes
 * are rewritten per batch, in parallel, by remap_kernel), so the serial
 * part of a column is the size of its dictionaries, not of its rows. */
static gf_status merge_kernel(void *user, const gf_chunk_spec *spec, gf_task_ctx *tc) {
  reader *r = user;
  const int c = (int)spec->chunk_id, ncols = r->ctx.ncols, nb = r->nbatches;
  if (!atomic_load(&r->dict_want[c])) return GF_OK;
  const gf_allocator *a = tc->allocator;
  const gf_allocator *wa = gfi_alloc_or_default(r->par.allocator);
  const int64_t max = r->ctx.cols[c].force_dict ? -1 : r->dict_max[c];
  gfi_csv_gdict gd;
  memset(&gd, 0, sizeof gd);
  gf_status st = GF_OK;
  bool over = false;
  for (int b = 0; b < nb && st == GF_OK && !over; b++) {
    size_t k = (size_t)b * (size_t)ncols + (size_t)c;
    if (!r->dicts[k]) {
      st = gf_error_set(tc->err, GF_EINTERNAL, "CSV column %d: batch %d has no dictionary", c, b);
      break;
    }
    const gf_array *d = gf_array_dictionary(r->dicts[k]);
    int64_t nd = d ? gf_array_length(d) : 0;
    /* The maps outlive this call (remap_kernel, another call, frees them):
     * the reader's allocator, not the call's tracked one. */
    r->maps[k] = gfi_malloc(wa, sizeof(int32_t) * (size_t)(nd ? nd : 1));
    if (!r->maps[k]) {
      st = GF_OOM(tc->err, "CSV dictionaries");
      break;
    }
    r->maplen[k] = nd;
    st = gfi_csv_gdict_intern_all(a, &gd, d, r->maps[k], tc->err);
    over = max >= 0 && gd.n > max;
  }
  if (st == GF_OK && !over) st = gfi_csv_gdict_snapshot(a, &gd, &r->merged[c], tc->err);
  gfi_csv_gdict_free(a, &gd);
  if (st == GF_OK && over) {
    for (int b = 0; b < nb; b++) {
      size_t k = (size_t)b * (size_t)ncols + (size_t)c;
      if (r->maps[k]) gfi_mfree(wa, r->maps[k], sizeof(int32_t) * (size_t)(r->maplen[k] ? r->maplen[k] : 1));
      r->maps[k] = NULL;
      if (!r->arrays[k]) continue; /* parsed as codes: decoded later */
      gf_array_release(r->dicts[k]);
      r->dicts[k] = NULL;
    }
    atomic_store(&r->dict_want[c], 0);
  }
  return st;
}

/* Rewrites the batch's codes of every merged column into the column's
 * merged dictionary. */
static gf_status remap_kernel(void *user, const gf_chunk_spec *spec, gf_task_ctx *tc) {
  reader *r = user;
  int64_t b = r->batch_of[spec->chunk_id];
  int ncols = r->ctx.ncols;
  for (int c = 0; c < ncols; c++) {
    if (!r->merged[c]) continue;
    size_t k = (size_t)b * (size_t)ncols + (size_t)c;
    gf_array *x = NULL;
    gf_status st = gfi_csv_recode(tc->allocator, r->dicts[k], r->maps[k], r->maplen[k],
                                  r->merged[c], &x, tc->err);
    gfi_mfree(gfi_alloc_or_default(r->par.allocator), r->maps[k],
              sizeof(int32_t) * (size_t)(r->maplen[k] ? r->maplen[k] : 1));
    r->maps[k] = NULL;
    GF_RETURN_NOT_OK(st);
    gf_array_release(r->arrays[k]);
    r->arrays[k] = x;
    gf_array_release(r->dicts[k]);
    r->dicts[k] = NULL;
  }
  return GF_OK;
}

/* Turns low-cardinality string columns into dictionary columns sharing
 * one dictionary (merged in batch order). */
static gf_status dictionaries(reader *r, const int64_t *ids, int64_t *nulls, int64_t rows,
                              gf_error *err) {
  int ncols = r->ctx.ncols;
  bool any = false;
  for (int c = 0; c < ncols; c++) {
    const gfi_csv_colspec *cs = &r->ctx.cols[c];
    /* cs->dict is false for no_dictionary and for columns the sample
     * vetoed (dict_sample). */
    bool want = r->final[c] == GFI_CSV_STR && (cs->force_dict || (!cs->forced && cs->dict));
    int64_t nonnull = rows - nulls[c];
    int64_t maxd = cs->force_dict ? INT32_MAX
                                  : (int64_t)floor(r->o.dictionary_max_ratio * (double)nonnull);
    if (!cs->force_dict && (nonnull == 0 || maxd < 1)) want = false;
    r->dict_want[c] = want;
    r->dict_max[c] = maxd;
    any |= want;
  }
  if (!any) return GF_OK;
  GF_RETURN_NOT_OK(run_over(r, ids, r->nbatches, dict_kernel, err));
  /* One dictionary per column: the columns are merged in parallel (each
   * merge keeps batch order, so the result does not depend on workers). */
  gf_chunk_spec *specs = gfi_malloc(r->a, sizeof *specs * (size_t)ncols);
  if (!specs) return GF_OOM(err, "CSV dictionaries");
  int64_t ns = 0;
  for (int c = 0; c < ncols; c++) {
    if (!r->dict_want[c]) continue;
    specs[ns].start_row = ns * rows; /* weight: every column has `rows` codes */
    specs[ns].end_row = (ns + 1) * rows;
    specs[ns].chunk_id = c;
    ns++;
  }
  gf_status st = GF_OK;
  size_t nk = (size_t)r->nbatches * (size_t)ncols;
  r->merged = gfi_calloc(r->a, sizeof *r->merged * (size_t)ncols);
  r->maps = gfi_calloc(r->a, sizeof *r->maps * (nk ? nk : 1));
  r->maplen = gfi_calloc(r->a, sizeof *r->maplen * (nk ? nk : 1));
  if (!r->merged || !r->maps || !r->maplen) st = GF_OOM(err, "CSV dictionaries");
  if (st == GF_OK && ns) st = run_chunks(r, specs, ns, merge_kernel, err);
  gfi_mfree(r->a, specs, sizeof *specs * (size_t)ncols);
  bool anym = false;
  for (int c = 0; st == GF_OK && c < ncols; c++) anym |= r->merged[c] != NULL;
  if (st == GF_OK && anym) st = run_over(r, ids, r->nbatches, remap_kernel, err);
  return st;
}

/* ---- the driver --------------------------------------------------------- */

/* Skips BOM, skip_rows lines, blank and comment lines; reads the first row
 * into *fields (grown as needed). */
static gf_status first_row(reader *r, const char **pos, int64_t *line, gfi_csv_field **fields,
                           int *fcap, gfi_csv_row *row, gfi_csv_tokenizer *t, bool *found,
                           gf_error *err) {
  const char *p = *pos, *end = r->ctx.end;
  *found = false;
  for (;;) {
    if (p >= end) {
      *pos = p;
      return GF_OK;
    }
    gf_status ts = gfi_csv_next_row(t, p, end, *fields, *fcap, row);
    if (ts == GF_ENOMEM) return GF_OOM(err, "CSV tokenizer");
    if (ts == GF_EPARSE) {
      gfi_csv_error_at(&r->ctx, p, *line, row->bad, err, GF_EPARSE,
                       "unterminated quoted field (the quote opened here is never closed)");
      return GF_EPARSE;
    }
    if (row->kind != GFI_CSV_ROW) {
      *line += row->newlines;
      p = row->next;
      continue;
    }
    if (row->nfields > *fcap) {
      int ncap = row->nfields + 1;
      gfi_csv_field *nf = gfi_malloc(r->a, sizeof *nf * (size_t)ncap);
      if (!nf) return GF_OOM(err, "CSV fields");
      gfi_mfree(r->a, *fields, sizeof **fields * (size_t)*fcap);
      *fields = nf;
      *fcap = ncap;
      continue; /* read the row again, now storing every field */
    }
    *pos = p;
    *found = true;
    return GF_OK;
  }
}

/* Average bytes per data row over the first rows (>= 1). */
static int64_t estimate_row_bytes(reader *r, gfi_csv_tokenizer *t) {
  const char *p = r->dstart;
  int64_t rows = 0;
  while (p < r->dend && rows < GFI_CSV_SAMPLE_ROWS) {
    gfi_csv_row row;
    if (gfi_csv_next_row(t, p, r->dend, NULL, 0, &row) != GF_OK) break;
    p = row.next;
    rows++;
  }
  if (rows == 0) return 64;
  int64_t b = (p - r->dstart) / rows;
  return b > 0 ? b : 1;
}

/* End of the first max_rows data rows. */
static const char *limit_rows(reader *r, gfi_csv_tokenizer *t, int64_t max_rows) {
  const char *p = r->dstart;
  int64_t rows = 0;
  while (p < r->dend && rows < max_rows) {
    gfi_csv_row row;
    if (gfi_csv_next_row(t, p, r->dend, NULL, 0, &row) != GF_OK) return r->dend;
    p = row.next;
    if (row.kind == GFI_CSV_ROW ||
        (row.kind == GFI_CSV_BLANK && r->ctx.nfields == 1 && !gfi_csv_blank_tail(p, r->dend)))
      rows++;
  }
  return p;
}

/* Everything after the options are loaded and the input is in memory. */
static gf_status read_impl(reader *r, const char *data, size_t len, gf_frame **out,
                           gf_error *err) {
  const gf_allocator *a = r->a;
  gfi_csv_ctx *ctx = &r->ctx;
  const gf_csv_read_options *o = &r->o;
  r->total_bytes = (int64_t)len;
  if (len >= 3 && (uint8_t)data[0] == 0xEF && (uint8_t)data[1] == 0xBB &&
      (uint8_t)data[2] == 0xBF) {
    data += 3;
    len -= 3;
  }
  /* Classic Mac files end lines with CR alone: read a private copy with LF
   * line ends (same length, so byte offsets and line numbers in messages
   * stay true; a CR inside a quoted field becomes LF too). */
  if (len > 0 && !memchr(data, '\n', len) && memchr(data, '\r', len)) {
    r->cr_copy = gfi_malloc(a, len);
    if (!r->cr_copy) return GF_OOM(err, "a copy of a CR-only CSV file");
    r->cr_len = len;
    for (size_t i = 0; i < len; i++) r->cr_copy[i] = data[i] == '\r' ? '\n' : data[i];
    data = r->cr_copy;
  }
  ctx->data = data;
  ctx->end = data + len;
  gfi_first_error_init(&ctx->err_chunk);
  atomic_init(&ctx->stop, false);
  atomic_init(&r->done_bytes, 0);
  ctx->cancel = r->par.cancel;
  ctx->bad_to_null = o->bad_value == GF_CSV_BAD_VALUE_NULL;
  if (len == 0) return gf_error_set(err, GF_EPARSE, "%s:1:1: file is empty", ctx->name);

  /* Null tokens. */
  const char *const *toks = o->null_values ? o->null_values : default_nulls;
  int ntok = o->null_values ? o->num_null_values : 4;
  ctx->nulls.len = gfi_calloc(a, sizeof(int64_t) * (size_t)(ntok + 1));
  if (!ctx->nulls.len) return GF_OOM(err, "CSV null tokens");
  ctx->nulls.n = ntok;
  ctx->nulls.tok = toks;
  for (int i = 0; i < ntok; i++) {
    if (!toks[i]) return gf_error_set(err, GF_EINVAL, "null_values[%d] is NULL", i);
    ctx->nulls.len[i] = (int64_t)strlen(toks[i]);
    if (ctx->nulls.len[i] == 0) ctx->nulls.empty = true;
  }
  ctx->nulls.n = ntok;

  /* skip_rows physical lines. */
  const char *p = data, *end = data + len;
  int64_t line = r->line0 > 0 ? r->line0 : 1;
  for (int64_t i = 0; i < o->skip_rows && p < end; i++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    p = nl ? nl + 1 : end;
    line++;
  }

  /* Dialect. */
  ctx->d.quote = o->quote ? o->quote : '"';
  ctx->d.quoting = !o->no_quoting;
  ctx->d.escape = (o->escape && !(ctx->d.quoting && o->escape == ctx->d.quote)) ? o->escape : 0;
  ctx->d.comment = o->comment;
  if (o->delimiter) {
    ctx->d.delim = o->delimiter;
  } else {
    const char *se = end - p > GFI_CSV_SNIFF_BYTES ? p + GFI_CSV_SNIFF_BYTES : end;
    ctx->d.delim = gfi_csv_detect_delimiter(p, se, &ctx->d, a);
  }

  /* The first row: header or data. */
  gfi_csv_tokenizer t;
  gfi_csv_tokenizer_init(&t, &ctx->d, a);
  int fcap = 64;
  gfi_csv_field *fields = gfi_malloc(a, sizeof *fields * (size_t)fcap);
  if (!fields) return GF_OOM(err, "CSV fields");
  gfi_csv_row row;
  bool found;
  gf_status st = first_row(r, &p, &line, &fields, &fcap, &row, &t, &found, err);
  if (st == GF_OK && !found)
    st = gf_error_set(err, GF_EPARSE, "%s:%lld:1: file is empty%s", ctx->name, (long long)line,
                      o->skip_rows ? " (after skip_rows)" : "");
  bool header = false;
  if (st == GF_OK) {
    header = o->header == 1 ||
             (o->header == -1 && gfi_csv_looks_like_header(fields, row.nfields, &ctx->nulls));
    ctx->nfields = row.nfields;
    st = make_names(r, fields, row.nfields, header, p, line, err);
  }
  gfi_mfree(a, fields, sizeof *fields * (size_t)fcap);
  if (st != GF_OK) {
    gfi_csv_tokenizer_reset(&t);
    return st;
  }
  r->dstart = header ? row.next : p;
  r->data_line = header ? line + row.newlines : line;
  r->dend = end;
  if (r->layout) {
    gfi_csv_layout *ly = r->layout;
    ly->data_offset = (int64_t)(r->dstart - data) + (r->total_bytes - (int64_t)len);
    ly->data_line = r->data_line;
    ly->delimiter = ctx->d.delim;
    ly->header = header;
    ly->nfields = ctx->nfields;
    ly->plain = !ctx->d.escape && !ctx->d.comment && r->cr_copy == NULL;
  }
  st = select_columns(r, err);
  if (st != GF_OK) {
    gfi_csv_tokenizer_reset(&t);
    return st;
  }
  /* Columns that may become dictionaries keep their strings as codes while
   * parsing (decoded afterwards if the column stays utf8). */
  for (int c = 0; c < ctx->ncols; c++)
    ctx->cols[c].dict = ctx->cols[c].forced ? ctx->cols[c].force_dict : !o->no_dictionary;
  if (o->max_rows > 0) r->dend = limit_rows(r, &t, o->max_rows);
  ctx->est_row_bytes = estimate_row_bytes(r, &t);
  gfi_csv_tokenizer_reset(&t);

  /* Chunk size in bytes. */
  int64_t total = r->dend - r->dstart;
  int64_t rb;
  int64_t chunk_rows = r->par.chunk_rows;
  if (chunk_rows > 0) {
    rb = chunk_rows > INT64_MAX / ctx->est_row_bytes ? INT64_MAX
                                                     : chunk_rows * ctx->est_row_bytes;
  } else {
    int workers = gf_effective_workers(&r->par);
    rb = total / (4 * (int64_t)workers);
    if (rb < ((int64_t)4 << 20)) rb = (int64_t)4 << 20;
    if (rb > ((int64_t)64 << 20)) rb = (int64_t)64 << 20;
  }
  if (rb < 1) rb = 1;
  if (total > 0 && (total + rb - 1) / rb > GFI_CSV_MAX_CHUNKS)
    rb = (total + GFI_CSV_MAX_CHUNKS - 1) / GFI_CSV_MAX_CHUNKS;
  r->range_bytes = rb;

  if (total > 0) GF_RETURN_NOT_OK(make_chunks(r, err));
  GF_RETURN_NOT_OK(dict_sample(r, err));
  GF_RETURN_NOT_OK(sample_kinds(r, err));

  /* Pass 2. */
  st = run_over(r, NULL, r->nchunks, parse_kernel, err);
  int64_t ec = gfi_first_error_chunk(&ctx->err_chunk);
  if (st == GF_OK && ec >= 0) {
    gf_error_set(err, GF_EPARSE, "%s", r->chunks[ec].err.message);
    return GF_EPARSE;
  }
  if (st != GF_OK) return st;
  report_progress(r, r->total_bytes);
  if (atomic_load(&ctx->stop))
    return gf_error_set(err, GF_ECANCELED, "reading %s was cancelled by the progress callback",
                        ctx->name);

  /* Final kinds: least upper bound over the chunks. */
  int ncols = ctx->ncols;
  r->final = gfi_calloc(a, (size_t)ncols + 1);
  r->masks = gfi_calloc(a, (size_t)ncols * (size_t)(r->nchunks ? r->nchunks : 1) + 1);
  r->batch_of = gfi_malloc(a, sizeof(int64_t) * (size_t)(r->nchunks + 1));
  r->dict_want = gfi_calloc(a, (size_t)ncols + 1);
  r->dict_max = gfi_calloc(a, sizeof(int64_t) * (size_t)(ncols + 1));
  int64_t *ids = gfi_malloc(a, sizeof(int64_t) * (size_t)(r->nchunks + 1));
  int64_t *nulls = gfi_calloc(a, sizeof(int64_t) * (size_t)(ncols + 1));
  if (!r->final || !r->masks || !r->batch_of || !r->dict_want || !r->dict_max || !ids ||
      !nulls) {
    st = GF_OOM(err, "CSV reader state");
    goto out;
  }
  for (int c = 0; c < ncols; c++) {
    const gfi_csv_colspec *cs = &ctx->cols[c];
    if (cs->forced) {
      r->final[c] = cs->kind;
      continue;
    }
    uint8_t k = GFI_CSV_NULL;
    bool big = false;
    for (int64_t i = 0; i < r->nchunks; i++) {
      if (r->chunks[i].rows == 0) continue;
      k = gfi_csv_kind_join(k, r->chunks[i].cols[c].kind);
      big |= r->chunks[i].cols[c].bigint;
    }
    k = gfi_csv_kind_fix(k, big);
    r->final[c] = k == GFI_CSV_NULL ? GFI_CSV_STR : k;
  }
  /* Pass 3: chunks holding a column at a narrower kind parse it again. */
  int64_t nre = 0;
  for (int64_t i = 0; i < r->nchunks; i++) {
    gfi_csv_chunk *ch = &r->chunks[i];
    if (ch->rows == 0) continue;
    uint8_t *m = r->masks + (size_t)i * (size_t)ncols;
    bool any = false;
    for (int c = 0; c < ncols; c++) {
      uint8_t k = ch->cols[c].kind;
      /* Quoted null tokens read while the chunk's kind was narrower than
       * STR were stored as null; a string column needs them as values. */
      bool qfix = ch->cols[c].qnull && r->final[c] == GFI_CSV_STR;
      if ((k != GFI_CSV_NULL && k != r->final[c]) || qfix) {
        m[c] = 1;
        ch->cols[c].kind = r->final[c];
        any = true;
      }
    }
    if (any) ids[nre++] = i;
  }
  st = run_over(r, ids, nre, reparse_kernel, err);
  if (st != GF_OK) goto out;

  /* Batches: the non-empty chunks in file order. */
  int64_t rows = 0;
  r->nbatches = 0;
  for (int64_t i = 0; i < r->nchunks; i++) {
    gfi_csv_chunk *ch = &r->chunks[i];
    r->batch_of[i] = -1;
    if (ch->rows == 0) continue;
    if (r->nbatches == INT_MAX) {
      st = gf_error_set(err, GF_ENOTSUP, "too many CSV batches");
      goto out;
    }
    r->batch_of[i] = r->nbatches;
    ids[r->nbatches++] = i;
    rows += ch->rows;
    for (int c = 0; c < ncols; c++) nulls[c] += ch->cols[c].nulls;
  }
  if (rows == 0 && !header) {
    /* Only blank lines or comments: nothing says what the columns are. */
    st = gf_error_set(err, GF_EPARSE, "%s:%lld:1: file has no data rows", ctx->name,
                      (long long)r->data_line);
    goto out;
  }
  /* A header alone (what gf writes for an empty result) is a 0-row frame:
   * columns typed by column_types where given, else utf8; no batches. */
  {
    size_t nb = (size_t)r->nbatches * (size_t)ncols;
    r->arrays = gfi_calloc(a, (nb ? nb : 1) * sizeof *r->arrays);
    r->dicts = gfi_calloc(a, (nb ? nb : 1) * sizeof *r->dicts);
    if (!r->arrays || !r->dicts) {
      st = GF_OOM(err, "CSV batches");
      goto out;
    }
  }
  /* All-null chunk columns have nulls == rows; count them now. */
  for (int c = 0; c < ncols; c++) {
    nulls[c] = 0;
    for (int64_t i = 0; i < r->nchunks; i++) {
      const gfi_csv_colbuf *cb = &r->chunks[i].cols[c];
      nulls[c] += cb->kind == GFI_CSV_NULL ? r->chunks[i].rows : cb->nulls;
    }
  }
  st = run_over(r, ids, r->nbatches, finish_kernel, err);
  if (st != GF_OK) goto out;
  if (rows > 0) {
    st = dictionaries(r, ids, nulls, rows, err);
    if (st == GF_OK) st = run_over(r, ids, r->nbatches, decode_kernel, err);
    if (st != GF_OK) goto out;
  } else {
    for (int c = 0; c < ncols; c++) r->dict_want[c] = r->ctx.cols[c].force_dict;
  }

  st = widen_large(r, err);
  if (st != GF_OK) goto out;

  /* Schema and frame. */
  {
    gf_field *fl = gfi_calloc(a, sizeof(gf_field) * (size_t)(ncols ? ncols : 1));
    if (!fl) {
      st = GF_OOM(err, "CSV schema");
      goto out;
    }
    for (int c = 0; c < ncols; c++) {
      fl[c].name = ctx->cols[c].name;
      fl[c].type = column_type(r, c);
      if (r->dict_want[c]) fl[c].type = gf_type_dictionary(gf_type(GF_TYPE_UTF8));
      if (column_large(r, c))
        fl[c].type = r->dict_want[c] ? gf_type_dictionary(gf_type(GF_TYPE_LARGE_UTF8))
                                     : gf_type(GF_TYPE_LARGE_UTF8);
      fl[c].nullable = true;
    }
    gf_schema *schema = NULL;
    st = gf_schema_new(fl, ncols, &schema, err);
    gfi_mfree(a, fl, sizeof(gf_field) * (size_t)(ncols ? ncols : 1));
    if (st != GF_OK) goto out;
    st = gf_frame_new(schema, r->arrays, r->nbatches, a, out, err);
    gf_schema_release(schema);
  }
out:
  gfi_mfree(a, ids, sizeof(int64_t) * (size_t)(r->nchunks + 1));
  gfi_mfree(a, nulls, sizeof(int64_t) * (size_t)(ncols + 1));
  return st;
}

/* Shared entry: options, reader setup and teardown; `line0` and `layout`
 * as in gfi_read_csv_window. */
static gf_status read_common(const char *data, size_t len, const char *name,
                             const gf_csv_read_options *o, int64_t line0, gfi_csv_layout *layout,
                             const char *const *field_names, int nfield_names, gf_frame **out,
                             gf_error *err) {
  reader *r;
  gf_csv_read_options lo;
  GF_RETURN_NOT_OK(load_options(o, &lo, err));
  gf_parallel_options par;
  GF_RETURN_NOT_OK(gfi_options_load(lo.parallel, &par, err));
  const gf_allocator *a = gfi_alloc_or_default(par.allocator);
  r = gfi_calloc(a, sizeof *r);
  if (!r) return GF_OOM(err, "a CSV reader");
  r->o = lo;
  r->a = a;
  r->ctx.name = name;
  r->line0 = line0;
  r->layout = layout;
  r->field_names = field_names;
  r->nfield_names = nfield_names;
  /* In place: the context must not move once loaded (its token points at
   * it); the read's deadline starts here. */
  gf_status st = gfi_ctx_load(&r->call, lo.parallel, &r->par, err);
  if (st != GF_OK) {
    gfi_mfree(a, r, sizeof *r);
    return st;
  }
  gf_frame *f = NULL;
  st = read_impl(r, data, len, &f, err);
  reader_free(r);
  st = gfi_ctx_end(&r->call, st, err);
  gfi_mfree(a, r, sizeof *r);
  if (st == GF_OK) *out = f;
  return st;
}

/* Reads a CSV file (see io.h). */
gf_status gf_read_csv(const char *path, const gf_csv_read_options *o, gf_frame **out,
                      gf_error *err) {
  if (!path || !out)
    return gf_error_set(err, GF_EINVAL, "gf_read_csv: %s is NULL", path ? "out" : "path");
  gf_csv_read_options lo;
  GF_RETURN_NOT_OK(load_options(o, &lo, err));
  /* One call context from here on: its deadline and token also bound the
   * reading of a pipe or FIFO (which cannot be mapped), and the parse
   * below keeps them (it loads these loaded options again). */
  gfi_ctx call;
  gf_parallel_options par;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, lo.parallel, &par, err));
  gfi_mapped_file *m = NULL;
  gf_status st = gfi_mapped_file_open_with(path, &par, lo.input_mode, &m, err);
  if (st == GF_OK) {
    lo.parallel = &par;
    st = read_common(gfi_mapped_file_data(m), gfi_mapped_file_size(m), path, &lo, 0, NULL, NULL, 0, out, err);
    gfi_mapped_file_release(m);
  }
  return gfi_ctx_end(&call, st, err);
}

/* Reads CSV text from memory (see io.h). */
gf_status gf_read_csv_buffer(const char *data, size_t len, const char *name,
                             const gf_csv_read_options *o, gf_frame **out, gf_error *err) {
  if (!out || (!data && len > 0))
    return gf_error_set(err, GF_EINVAL, "gf_read_csv_buffer: %s is NULL", out ? "data" : "out");
  return read_common(data ? data : "", len, name ? name : "<buffer>", o, 0, NULL, NULL, 0, out, err);
}

/* One window of a streamed CSV file (exec/stream_internal.h). */
gf_status gfi_read_csv_window(const char *data, size_t len, const char *name,
                              const gf_csv_read_options *o, int64_t first_line,
                              gfi_csv_layout *layout, const char *const *field_names,
                              int nfield_names, gf_frame **out, gf_error *err) {
  if (!out || (!data && len > 0))
    return gf_error_set(err, GF_EINVAL, "gfi_read_csv_window: NULL argument");
  if (layout) memset(layout, 0, sizeof *layout);
  return read_common(data ? data : "", len, name ? name : "<buffer>", o, first_line, layout,
                     field_names, nfield_names, out, err);
}
