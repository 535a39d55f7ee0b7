/*
 * gf_read_json / gf_read_ndjson: the JSON reader's driver (see
 * json_internal.h for the shape).
 *
 * Determinism: the frame does not depend on the worker count or the chunk
 * size. NDJSON ranges start at line starts, and a record may not span
 * lines, so every range holds whole records; columns are merged in range
 * order (first appearance in the file); every column's kind is the join of
 * all its values' kinds; dictionaries are merged in batch order; the
 * reported error is the first one in file order.
 *
 * Chunk size: options->parallel->chunk_rows is records; a range is
 * chunk_rows x (mean bytes per line of the first 256 lines). With 0 a
 * range is total/(4 x workers) bytes, clamped to [1 MiB, 64 MiB]; at most
 * GFI_JSON_MAX_CHUNKS ranges. A JSON array is parsed as one range.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data/array_internal.h"
#include "exec/exec_internal.h"
#include "io/io_internal.h"
#include "io/json_internal.h"

#define GFI_JSON_MAX_CHUNKS 4096
#define GFI_JSON_SAMPLE_LINES 256

/* Fills the defaults. */
void gf_json_read_options_init(gf_json_read_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->dictionary_max_ratio = 0.5;
}

/* Loads options of any older (smaller) size and checks them. */
static gf_status load_options(const gf_json_read_options *in, gf_json_read_options *o,
                              gf_error *err) {
  gf_json_read_options_init(o);
  if (in) {
    if (in->size < offsetof(gf_json_read_options, format) + sizeof in->format)
      return gf_error_set(err, GF_EINVAL,
                          "gf_json_read_options.size is %zu; call gf_json_read_options_init",
                          in->size);
    memcpy(o, in, in->size < sizeof *o ? in->size : sizeof *o);
    o->size = sizeof *o;
  }
  if (o->format != GF_JSON_AUTO && o->format != GF_JSON_NDJSON && o->format != GF_JSON_ARRAY)
    return gf_error_set(err, GF_EINVAL, "gf_json_read_options.format %d is not a gf_json_format",
                        (int)o->format);
  if (o->num_columns < 0 || (o->num_columns > 0 && !o->columns) || o->num_column_types < 0 ||
      (o->num_column_types > 0 && !o->column_types))
    return gf_error_set(err, GF_EINVAL, "JSON read options: a count is negative or its list NULL");
  if (!(o->dictionary_max_ratio >= 0 && o->dictionary_max_ratio <= 1))
    return gf_error_set(err, GF_EINVAL, "dictionary_max_ratio must be in [0, 1]");
  if (o->dictionary_max_ratio == 0) o->dictionary_max_ratio = 0.5;
  if (o->max_rows < 0) return gf_error_set(err, GF_EINVAL, "max_rows is negative");
  return GF_OK;
}

/* Kind for a forced type (dictionary<utf8> is STR with *dict). */
static gf_status forced_kind(gf_datatype t, const char *name, uint8_t *kind, bool *dict,
                             gf_error *err) {
  *dict = false;
  if (t.id == GF_TYPE_DICTIONARY && t.value_id == GF_TYPE_UTF8) {
    *dict = true;
    *kind = GFI_CSV_STR;
    return GF_OK;
  }
  switch (t.id) {
    case GF_TYPE_BOOL: *kind = GFI_CSV_BOOL; return GF_OK;
    case GF_TYPE_INT64: *kind = GFI_CSV_I64; return GF_OK;
    case GF_TYPE_FLOAT64: *kind = GFI_CSV_F64; return GF_OK;
    case GF_TYPE_UTF8: *kind = GFI_CSV_STR; return GF_OK;
    case GF_TYPE_DATE32: *kind = GFI_CSV_DATE; return GF_OK;
    case GF_TYPE_TIMESTAMP:
      if (t.unit == GF_UNIT_MICRO) {
        gf_datatype utc = gf_type_timestamp(GF_UNIT_MICRO, true, 0);
        gf_datatype naive = gf_type_timestamp(GF_UNIT_MICRO, false, 0);
        if (gf_type_equals(t, naive)) { *kind = GFI_CSV_TS; return GF_OK; }
        if (gf_type_equals(t, utc)) { *kind = GFI_CSV_TSTZ; return GF_OK; }
      }
      break;
    default: break;
  }
  char buf[64];
  return gf_error_set(err, GF_ENOTSUP,
                      "column_types: '%s' as %s is not supported by the JSON reader (use bool, "
                      "int64, float64, utf8, dictionary<utf8>, date32, timestamp[us] or "
                      "timestamp[us, UTC], then cast)",
                      name, gf_type_format(t, buf, sizeof buf));
}

typedef struct jreader {
  gf_json_read_options o;
  const gf_allocator *a;
  gfi_ctx call;
  gf_parallel_options par;
  gfi_json_ctx ctx;
  const char *base;      /* first byte of the input (offsets are from here) */
  gfi_json_want *want;
  bool *want_dict;
  int nwant;
  gfi_json_chunk *chunks;
  int64_t nchunks;
  int64_t nchunks_alloc; /* entries of `chunks` when more than nchunks */
  /* the frame's columns */
  int ncols, capcols;
  gfi_json_col **first;  /* the column's first occurrence (name, hash) */
  uint8_t *final;
  bool *bigint;
  bool *forced;
  bool *dict;            /* force dictionary<utf8> */
  int32_t *slots;
  size_t nslots;
  int *maps;             /* nchunks x ncols: local column or -1 */
  int64_t *batch_chunk;
  int nbatches;
  gf_array **arrays;     /* nbatches x ncols */
  int64_t *col_nulls;
  int64_t rows;
} jreader;

/* Releases everything the reader holds. */
static void reader_free(jreader *r) {
  const gf_allocator *a = r->a;
  if (r->chunks) {
    for (int64_t i = 0; i < r->nchunks; i++) gfi_json_chunk_clear(&r->chunks[i]);
    int64_t n = r->nchunks_alloc > r->nchunks ? r->nchunks_alloc : r->nchunks;
    gfi_mfree(a, r->chunks, sizeof *r->chunks * (size_t)n);
  }
  if (r->arrays) {
    size_t n = (size_t)r->nbatches * (size_t)r->ncols;
    for (size_t i = 0; i < n; i++) gf_array_release(r->arrays[i]);
    gfi_mfree(a, r->arrays, sizeof *r->arrays * (n ? n : 1));
  }
  size_t cc = (size_t)r->capcols;
  gfi_mfree(a, r->first, sizeof *r->first * cc);
  gfi_mfree(a, r->final, cc);
  gfi_mfree(a, r->bigint, cc);
  gfi_mfree(a, r->forced, cc);
  gfi_mfree(a, r->dict, cc);
  gfi_mfree(a, r->col_nulls, sizeof *r->col_nulls * cc);
  gfi_mfree(a, r->slots, sizeof *r->slots * r->nslots);
  gfi_mfree(a, r->maps, sizeof *r->maps * (size_t)r->nchunks * cc);
  gfi_mfree(a, r->batch_chunk, sizeof *r->batch_chunk * (size_t)(r->nchunks + 1));
  gfi_mfree(a, r->want, sizeof *r->want * (size_t)(r->nwant + 1));
  gfi_mfree(a, r->want_dict, (size_t)r->nwant + 1);
}

/* Resolves `columns` and `column_types` into r->want. */
static gf_status resolve_wants(jreader *r, gf_error *err) {
  int n = r->o.num_columns + r->o.num_column_types;
  r->want = gfi_calloc(r->a, sizeof *r->want * (size_t)(n + 1));
  r->want_dict = gfi_calloc(r->a, (size_t)n + 1);
  if (!r->want || !r->want_dict) return GF_OOM(err, "JSON read options");
  r->nwant = n;
  for (int i = 0; i < r->o.num_columns; i++) {
    const char *name = r->o.columns[i];
    if (!name) return gf_error_set(err, GF_EINVAL, "columns[%d] is NULL", i);
    r->want[i].name = name;
    r->want[i].len = strlen(name);
    r->want[i].selected = true;
  }
  for (int i = 0; i < r->o.num_column_types; i++) {
    const gf_json_column_type *ct = &r->o.column_types[i];
    gfi_json_want *w = &r->want[r->o.num_columns + i];
    if (!ct->name) return gf_error_set(err, GF_EINVAL, "column_types[%d].name is NULL", i);
    w->name = ct->name;
    w->len = strlen(ct->name);
    GF_RETURN_NOT_OK(forced_kind(ct->type, ct->name, &w->kind,
                                 &r->want_dict[r->o.num_columns + i], err));
  }
  r->ctx.want = r->want;
  r->ctx.nwant = n;
  r->ctx.select_all = r->o.num_columns == 0;
  return GF_OK;
}

static inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* The first '{' at or after g (and after lo) that follows "}" "," with
 * only whitespace around the comma: a likely object start in a JSON array
 * (it may be inside a string; the driver checks). NULL when none. */
static const char *array_boundary(const char *lo, const char *g, const char *end) {
  for (const char *q = g; q < end; q++) {
    q = memchr(q, '{', (size_t)(end - q));
    if (!q) return NULL;
    const char *b = q;
    while (b > lo && is_ws(b[-1])) b--;
    if (b <= lo || b[-1] != ',') continue;
    b--;
    while (b > lo && is_ws(b[-1])) b--;
    if (b > lo && b[-1] == '}') return q;
  }
  return NULL;
}

/* Cuts [p, end) into ranges: NDJSON at line starts, a JSON array at likely
 * object starts (array_boundary). */
static gf_status make_chunks(jreader *r, const char *p, const char *end, bool array,
                             gf_error *err) {
  size_t len = (size_t)(end - p);
  int64_t target;
  if (r->par.chunk_rows > 0) {
    /* Mean line length of the first lines. */
    const char *q = p;
    int64_t lines = 0;
    while (q < end && lines < GFI_JSON_SAMPLE_LINES) {
      const char *nl = memchr(q, '\n', (size_t)(end - q));
      q = nl ? nl + 1 : end;
      lines++;
    }
    int64_t per = lines ? (int64_t)(q - p) / lines : 1;
    if (per < 1) per = 1;
    target = r->par.chunk_rows > INT64_MAX / per ? INT64_MAX : r->par.chunk_rows * per;
  } else {
    int w = gf_effective_workers(&r->par);
    target = (int64_t)(len / (size_t)(4 * w));
    if (target < (1 << 20)) target = 1 << 20;
    if (target > (64 << 20)) target = 64 << 20;
  }
  if ((int64_t)(len / GFI_JSON_MAX_CHUNKS) >= target) target = (int64_t)(len / GFI_JSON_MAX_CHUNKS) + 1;
  int64_t cap = (int64_t)(len / (size_t)target) + 2;
  r->chunks = gfi_calloc(r->a, sizeof *r->chunks * (size_t)cap);
  if (!r->chunks) return GF_OOM(err, "JSON chunks");
  r->nchunks_alloc = cap;
  int64_t n = 0;
  const char *s = p;
  while (s < end && n < cap) {
    const char *e = (size_t)(end - s) > (size_t)target ? s + target : end;
    if (e < end) {
      if (array) {
        e = array_boundary(s, e, end);
        if (!e) e = end;
      } else {
        const char *nl = memchr(e, '\n', (size_t)(end - e));
        e = nl ? nl + 1 : end;
      }
    }
    if (n == cap - 1) e = end;
    r->chunks[n].start = s;
    r->chunks[n].end = e;
    r->chunks[n].alloc = r->a;
    r->chunks[n].first = n == 0;
    r->chunks[n].last = e == end;
    n++;
    s = e;
  }
  if (n == 0) { /* empty input: one empty range, so an array still needs its '[' */
    r->chunks[0].start = r->chunks[0].end = end;
    r->chunks[0].alloc = r->a;
    r->chunks[0].first = r->chunks[0].last = true;
    n = 1;
  }
  r->nchunks = n;
  return GF_OK;
}

/* gf_run_chunks over the ranges listed in ids (weights = bytes). */
static gf_status run_over(jreader *r, const int64_t *ids, int64_t n, gf_chunk_fn fn,
                          gf_error *err) {
  if (n == 0) return GF_OK;
  gf_chunk_spec *specs = gfi_malloc(r->a, sizeof *specs * (size_t)n);
  if (!specs) return GF_OOM(err, "JSON chunk list");
  int64_t at = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t bytes = (int64_t)(r->chunks[ids[i]].end - r->chunks[ids[i]].start) + 1;
    specs[i].start_row = at;
    specs[i].end_row = at + bytes;
    specs[i].chunk_id = ids[i];
    at += bytes;
  }
  gf_parallel_options po = r->par;
  po.chunk_rows = 0;
  po.min_parallel_rows = 0;
  gf_status st = gf_run_chunks(specs, n, fn, r, &po, err);
  gfi_mfree(r->a, specs, sizeof *specs * (size_t)n);
  return st;
}

/* First pass over one range; an error is kept on the range (the first in
 * file order is reported), so the kernel itself succeeds. */
static gf_status parse_kernel(void *user, const gf_chunk_spec *spec, gf_task_ctx *tc) {
  jreader *r = user;
  (void)tc;
  int64_t i = spec->chunk_id;
  if (i > atomic_load(&r->ctx.err_chunk)) return GF_OK;
  if (gfi_json_parse_chunk(&r->ctx, &r->chunks[i], false) != GF_OK) {
    long long cur = atomic_load(&r->ctx.err_chunk);
    while (i < cur && !atomic_compare_exchange_weak(&r->ctx.err_chunk, &cur, i)) {
    }
  }
  return GF_OK;
}

/* Re-parse of one range for its columns marked redo. */
static gf_status reparse_kernel(void *user, const gf_chunk_spec *spec, gf_task_ctx *tc) {
  jreader *r = user;
  gfi_json_chunk *ch = &r->chunks[spec->chunk_id];
  if (gfi_json_parse_chunk(&r->ctx, ch, true) != GF_OK) {
    *tc->err = ch->err;
    return ch->status;
  }
  for (int c = 0; c < ch->ncols; c++) ch->cols[c].redo = false;
  return GF_OK;
}

/* Formats the error of range i with its location in the input. */
static gf_status report_error(jreader *r, int64_t i, gf_error *err) {
  const gfi_json_chunk *ch = &r->chunks[i];
  if (!ch->err_at) return gf_error_set(err, ch->status, "%s: %s", r->ctx.name, ch->err.message);
  const char *at = ch->err_at;
  int64_t line = 1;
  const char *ls = r->base;
  for (const char *q = r->base; q < at; q++)
    if (*q == '\n') {
      line++;
      ls = q + 1;
    }
  int64_t col = 1;
  for (const char *q = ls; q < at; q++)
    if (((uint8_t)*q & 0xC0) != 0x80) col++;
  return gf_error_set(err, ch->status, "%s:%lld:%lld (byte %lld): %s", r->ctx.name,
                      (long long)line, (long long)col, (long long)(at - r->base),
                      ch->err.message);
}

/* Adds room for one more frame column. */
static gf_status grow_cols(jreader *r, gf_error *err) {
  if (r->ncols < r->capcols) return GF_OK;
  int nc = r->capcols ? r->capcols * 2 : 16;
  size_t o = (size_t)r->capcols, n = (size_t)nc;
  gfi_json_col **first = gfi_calloc(r->a, sizeof *first * n);
  uint8_t *final = gfi_calloc(r->a, n);
  bool *bigint = gfi_calloc(r->a, n), *forced = gfi_calloc(r->a, n), *dict = gfi_calloc(r->a, n);
  if (!first || !final || !bigint || !forced || !dict) {
    gfi_mfree(r->a, first, sizeof *first * n);
    gfi_mfree(r->a, final, n);
    gfi_mfree(r->a, bigint, n);
    gfi_mfree(r->a, forced, n);
    gfi_mfree(r->a, dict, n);
    return GF_OOM(err, "JSON columns");
  }
  if (o) {
    memcpy(first, r->first, sizeof *first * o);
    memcpy(final, r->final, o);
    memcpy(bigint, r->bigint, o);
    memcpy(forced, r->forced, o);
    memcpy(dict, r->dict, o);
  }
  gfi_mfree(r->a, r->first, sizeof *r->first * o);
  gfi_mfree(r->a, r->final, o);
  gfi_mfree(r->a, r->bigint, o);
  gfi_mfree(r->a, r->forced, o);
  gfi_mfree(r->a, r->dict, o);
  r->first = first;
  r->final = final;
  r->bigint = bigint;
  r->forced = forced;
  r->dict = dict;
  r->capcols = nc;
  return GF_OK;
}

/* The frame column of a range's column (adding it when new). */
static gf_status global_of(jreader *r, gfi_json_col *c, int *out, gf_error *err) {
  if (r->nslots) {
    size_t j = c->hash & (r->nslots - 1);
    while (r->slots[j]) {
      const gfi_json_col *g = r->first[r->slots[j] - 1];
      if (g->hash == c->hash && g->name_len == c->name_len &&
          memcmp(g->name, c->name, c->name_len) == 0) {
        *out = r->slots[j] - 1;
        return GF_OK;
      }
      j = (j + 1) & (r->nslots - 1);
    }
  }
  GF_RETURN_NOT_OK(grow_cols(r, err));
  int g = r->ncols++;
  r->first[g] = c;
  r->final[g] = c->forced;
  r->forced[g] = c->forced != 0;
  for (int w = 0; w < r->nwant; w++)
    if (r->want_dict[w] && r->want[w].len == c->name_len &&
        memcmp(r->want[w].name, c->name, c->name_len) == 0)
      r->dict[g] = true;
  if ((size_t)r->ncols * 2 > r->nslots) {
    size_t ns = r->nslots ? r->nslots * 2 : 64;
    int32_t *s = gfi_calloc(r->a, sizeof *s * ns);
    if (!s) return GF_OOM(err, "JSON columns");
    for (int i = 0; i < r->ncols; i++) {
      size_t j = r->first[i]->hash & (ns - 1);
      while (s[j]) j = (j + 1) & (ns - 1);
      s[j] = i + 1;
    }
    gfi_mfree(r->a, r->slots, sizeof *r->slots * r->nslots);
    r->slots = s;
    r->nslots = ns;
  } else {
    size_t j = c->hash & (r->nslots - 1);
    while (r->slots[j]) j = (j + 1) & (r->nslots - 1);
    r->slots[j] = g + 1;
  }
  *out = g;
  return GF_OK;
}

/* Merges the ranges' keys into the frame's columns and final kinds. */
static gf_status merge(jreader *r, gf_error *err) {
  for (int64_t i = 0; i < r->nchunks; i++) {
    gfi_json_chunk *ch = &r->chunks[i];
    r->rows += ch->rows;
    for (int k = 0; k < ch->ncols; k++) {
      gfi_json_col *c = &ch->cols[k];
      if (!c->active) continue;
      GF_RETURN_NOT_OK(global_of(r, c, &c->global, err));
      int g = c->global;
      if (r->forced[g]) continue;
      r->final[g] = gfi_csv_kind_join(r->final[g], c->dead ? c->pend : c->kind);
      r->bigint[g] |= c->bigint;
    }
  }
  for (int w = 0; w < r->nwant; w++) {
    if (!r->want[w].selected) continue;
    bool found = false;
    for (int g = 0; g < r->ncols && !found; g++)
      found = r->first[g]->name_len == r->want[w].len &&
              memcmp(r->first[g]->name, r->want[w].name, r->want[w].len) == 0;
    if (!found)
      return gf_error_set(err, GF_EINVAL, "%s: column '%s' not found: no object has that key",
                          r->ctx.name, r->want[w].name);
  }
  for (int g = 0; g < r->ncols; g++)
    if (!r->forced[g]) r->final[g] = gfi_csv_kind_fix(r->final[g], r->bigint[g]);
  size_t cc = (size_t)r->capcols;
  r->maps = gfi_malloc(r->a, sizeof *r->maps * (size_t)r->nchunks * cc);
  r->col_nulls = gfi_calloc(r->a, sizeof *r->col_nulls * cc);
  if ((!r->maps && r->nchunks && cc) || !r->col_nulls) return GF_OOM(err, "JSON columns");
  for (int64_t i = 0; i < r->nchunks; i++) {
    int *m = r->maps + (size_t)i * cc;
    for (size_t g = 0; g < cc; g++) m[g] = -1;
    gfi_json_chunk *ch = &r->chunks[i];
    for (int k = 0; k < ch->ncols; k++)
      if (ch->cols[k].active) m[ch->cols[k].global] = k;
  }
  return GF_OK;
}

/* Marks the columns whose stored kind is not their final kind for a
 * re-parse; fills ids with the ranges to re-parse. */
static int64_t plan_reparse(jreader *r, int64_t *ids) {
  int64_t n = 0;
  for (int64_t i = 0; i < r->nchunks; i++) {
    gfi_json_chunk *ch = &r->chunks[i];
    bool any = false;
    for (int k = 0; k < ch->ncols; k++) {
      gfi_json_col *c = &ch->cols[k];
      if (!c->active || c->forced) continue;
      uint8_t want = r->final[c->global];
      bool ok = !c->dead && (c->kind == want || c->kind == GFI_CSV_NULL ||
                             (c->kind == GFI_CSV_I64 && want == GFI_CSV_F64));
      if (ok) continue;
      gfi_json_col_reset(ch, c);
      c->forced = want;
      c->redo = true;
      any = true;
    }
    if (any) ids[n++] = i;
  }
  return n;
}

/* Builds the arrays of one range's batch. */
static gf_status build_kernel(void *user, const gf_chunk_spec *spec, gf_task_ctx *tc) {
  jreader *r = user;
  int b = (int)spec->chunk_id;
  int64_t i = r->batch_chunk[b];
  gfi_json_chunk *ch = &r->chunks[i];
  const int *m = r->maps + (size_t)i * (size_t)r->capcols;
  for (int g = 0; g < r->ncols; g++) {
    gfi_json_col *c = m[g] >= 0 ? &ch->cols[m[g]] : NULL;
    GF_RETURN_NOT_OK(gfi_json_col_array(ch, c, ch->rows, r->final[g], r->a,
                                        &r->arrays[(size_t)b * (size_t)r->ncols + (size_t)g],
                                        tc->err));
  }
  return GF_OK;
}

/* Dictionary-encodes column spec->chunk_id when its distinct values are
 * few enough (one dictionary, merged in batch order). */
static gf_status dict_kernel(void *user, const gf_chunk_spec *spec, gf_task_ctx *tc) {
  jreader *r = user;
  int g = (int)spec->chunk_id, nb = r->nbatches, nc = r->ncols;
  int64_t nonnull = r->rows - r->col_nulls[g];
  int64_t maxd = r->dict[g] ? INT32_MAX
                            : (int64_t)floor(r->o.dictionary_max_ratio * (double)nonnull);
  if (!r->dict[g] && maxd < 1) return GF_OK;
  gf_array **enc = gfi_calloc(r->a, sizeof *enc * (size_t)nb * 2);
  if (!enc) return GF_OOM(tc->err, "JSON dictionaries");
  gf_array **outs = enc + nb;
  gf_status st = GF_OK;
  bool keep = true;
  for (int b = 0; b < nb && st == GF_OK && keep; b++) {
    st = gfi_csv_dict_encode(r->arrays[(size_t)b * nc + g], maxd, r->a, &enc[b], tc->err);
    if (st == GF_OK && !enc[b]) keep = false;
  }
  if (st == GF_OK && keep) {
    st = gfi_dictionary_unify(enc, nb, r->a, outs, tc->err);
    if (st == GF_OK) {
      keep = gf_array_length(gf_array_dictionary(outs[0])) <= maxd;
      for (int b = 0; b < nb; b++) {
        if (keep) {
          gf_array_release(r->arrays[(size_t)b * nc + g]);
          r->arrays[(size_t)b * nc + g] = outs[b];
        } else {
          gf_array_release(outs[b]);
        }
      }
      if (keep) r->dict[g] = true;
    }
  }
  if (st == GF_OK && !keep) r->dict[g] = false;
  for (int b = 0; b < nb; b++) gf_array_release(enc[b]);
  gfi_mfree(r->a, enc, sizeof *enc * (size_t)nb * 2);
  return st;
}

/* True when the JSON array's ranges started at real object starts: each
 * range before the first failed one (`bad`) ended exactly where the next
 * begins, without meeting the ']', and the last one met it. Then every
 * range parsed what a single pass would have, and a failed range's error
 * is genuine. */
static bool array_ranges_hold(const jreader *r, int64_t bad) {
  for (int64_t i = 0; i < r->nchunks; i++) {
    const gfi_json_chunk *ch = &r->chunks[i];
    if (i == bad) return true;
    if (ch->status != GF_OK) return false;
    if (i + 1 < r->nchunks) {
      if (ch->closed || ch->actual_end != r->chunks[i + 1].start) return false;
    } else if (!ch->closed) {
      return false;
    }
  }
  return true;
}

/* Everything between the options and the frame. */
static gf_status read_impl(jreader *r, const char *data, size_t len, gf_frame **out,
                           gf_error *err) {
  r->base = data;
  const char *p = data, *end = data + len;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; /* UTF-8 byte-order mark */
  const char *q = p;
  while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) q++;
  bool array = r->o.format == GF_JSON_ARRAY ||
               (r->o.format == GF_JSON_AUTO && q < end && *q == '[');
  r->ctx.name = r->ctx.name ? r->ctx.name : "<buffer>";
  r->ctx.data = p;
  r->ctx.end = end;
  r->ctx.array = array;
  atomic_init(&r->ctx.err_chunk, INT64_MAX);
  GF_RETURN_NOT_OK(resolve_wants(r, err));
  if (!array && r->o.max_rows > 0) {
    /* Only the first max_rows non-blank lines are read. */
    int64_t n = 0;
    const char *q2 = p;
    while (q2 < end && n < r->o.max_rows) {
      const char *nl = memchr(q2, '\n', (size_t)(end - q2));
      const char *le = nl ? nl : end;
      for (const char *c = q2; c < le; c++)
        if (!is_ws(*c)) {
          n++;
          break;
        }
      q2 = nl ? nl + 1 : end;
    }
    end = q2;
    r->ctx.end = end;
  }
  GF_RETURN_NOT_OK(make_chunks(r, p, end, array, err));
  size_t nids = (size_t)r->nchunks + 1;
  int64_t *ids = gfi_malloc(r->a, sizeof *ids * nids);
  if (!ids) return GF_OOM(err, "JSON chunk list");
  for (int64_t i = 0; i < r->nchunks; i++) ids[i] = i;
  gf_status st = run_over(r, ids, r->nchunks, parse_kernel, err);
  int64_t bad = atomic_load(&r->ctx.err_chunk);
  if (st == GF_OK && array && r->nchunks > 1 && !array_ranges_hold(r, bad)) {
    /* A range started inside a string: parse the array as one range. */
    for (int64_t i = 0; i < r->nchunks; i++) gfi_json_chunk_clear(&r->chunks[i]);
    memset(r->chunks, 0, sizeof *r->chunks);
    r->chunks[0].start = p;
    r->chunks[0].end = end;
    r->chunks[0].alloc = r->a;
    r->chunks[0].first = r->chunks[0].last = true;
    for (int64_t i = 1; i < r->nchunks; i++) memset(&r->chunks[i], 0, sizeof r->chunks[i]);
    r->nchunks = 1;
    atomic_store(&r->ctx.err_chunk, INT64_MAX);
    st = run_over(r, ids, 1, parse_kernel, err);
    bad = atomic_load(&r->ctx.err_chunk);
  }
  if (st == GF_OK && bad != INT64_MAX) st = report_error(r, bad, err);
  if (st == GF_OK) st = merge(r, err);
  if (st == GF_OK) {
    int64_t n = plan_reparse(r, ids);
    st = run_over(r, ids, n, reparse_kernel, err);
  }
  gfi_mfree(r->a, ids, sizeof *ids * nids);
  GF_RETURN_NOT_OK(st);

  /* One batch per range with rows (none without columns). */
  r->batch_chunk = gfi_malloc(r->a, sizeof *r->batch_chunk * (size_t)(r->nchunks + 1));
  if (!r->batch_chunk) return GF_OOM(err, "JSON batches");
  for (int64_t i = 0; i < r->nchunks; i++)
    if (r->chunks[i].rows > 0 && r->ncols > 0) r->batch_chunk[r->nbatches++] = i;
  size_t na = (size_t)r->nbatches * (size_t)r->ncols;
  r->arrays = gfi_calloc(r->a, sizeof *r->arrays * (na ? na : 1));
  if (!r->arrays) return GF_OOM(err, "JSON batches");
  if (r->nbatches > 0) {
    gf_chunk_spec *specs = gfi_malloc(r->a, sizeof *specs * (size_t)r->nbatches);
    if (!specs) return GF_OOM(err, "JSON batches");
    int64_t at = 0;
    for (int b = 0; b < r->nbatches; b++) {
      specs[b].start_row = at;
      at += r->chunks[r->batch_chunk[b]].rows;
      specs[b].end_row = at;
      specs[b].chunk_id = b;
    }
    gf_parallel_options po = r->par;
    po.chunk_rows = 0;
    po.min_parallel_rows = 0;
    st = gf_run_chunks(specs, r->nbatches, build_kernel, r, &po, err);
    gfi_mfree(r->a, specs, sizeof *specs * (size_t)r->nbatches);
    GF_RETURN_NOT_OK(st);
    /* Null counts per column, for the dictionary threshold. */
    for (int g = 0; g < r->ncols; g++)
      for (int b = 0; b < r->nbatches; b++)
        r->col_nulls[g] += gf_array_null_count(r->arrays[(size_t)b * r->ncols + g]);
    specs = gfi_malloc(r->a, sizeof *specs * (size_t)(r->ncols ? r->ncols : 1));
    if (!specs) return GF_OOM(err, "JSON dictionaries");
    int64_t ns = 0;
    for (int g = 0; g < r->ncols; g++) {
      if (r->final[g] != GFI_CSV_STR || (!r->dict[g] && (r->forced[g] || r->o.no_dictionary))) {
        r->dict[g] = false;
        continue;
      }
      specs[ns].start_row = ns * r->rows;
      specs[ns].end_row = (ns + 1) * r->rows;
      specs[ns].chunk_id = g;
      ns++;
    }
    st = ns ? gf_run_chunks(specs, ns, dict_kernel, r, &po, err) : GF_OK;
    gfi_mfree(r->a, specs, sizeof *specs * (size_t)(r->ncols ? r->ncols : 1));
    GF_RETURN_NOT_OK(st);
  }
  gf_field *fl = gfi_calloc(r->a, sizeof *fl * (size_t)(r->ncols ? r->ncols : 1));
  if (!fl) return GF_OOM(err, "JSON schema");
  for (int g = 0; g < r->ncols; g++) {
    fl[g].name = r->first[g]->name;
    fl[g].type = gfi_csv_kind_type(r->final[g]);
    if (r->dict[g]) fl[g].type = gf_type_dictionary(gf_type(GF_TYPE_UTF8));
    fl[g].nullable = true;
  }
  gf_schema *schema = NULL;
  st = gf_schema_new(fl, r->ncols, &schema, err);
  gfi_mfree(r->a, fl, sizeof *fl * (size_t)(r->ncols ? r->ncols : 1));
  if (st != GF_OK) return st;
  st = gf_frame_new(schema, r->arrays, r->nbatches, r->a, out, err);
  gf_schema_release(schema);
  if (st == GF_OK && r->o.max_rows > 0 && gf_frame_num_rows(*out) > r->o.max_rows) {
    gf_frame *cut = NULL;
    st = gf_frame_slice(*out, 0, r->o.max_rows, &cut, err);
    gf_frame_release(*out);
    *out = st == GF_OK ? cut : NULL;
  }
  return st;
}

/* Shared entry: options, reader setup and teardown. */
static gf_status read_common(const char *data, size_t len, const char *name,
                             const gf_json_read_options *o, gf_frame **out, gf_error *err) {
  gf_json_read_options lo;
  GF_RETURN_NOT_OK(load_options(o, &lo, err));
  gf_parallel_options par;
  GF_RETURN_NOT_OK(gfi_options_load(lo.parallel, &par, err));
  const gf_allocator *a = gfi_alloc_or_default(par.allocator);
  jreader *r = gfi_calloc(a, sizeof *r);
  if (!r) return GF_OOM(err, "a JSON reader");
  r->o = lo;
  r->ctx.name = name;
  /* In place: the context must not move once loaded (its token points at
   * it); the read's deadline starts here. */
  gf_status st = gfi_ctx_load(&r->call, lo.parallel, &r->par, err);
  if (st != GF_OK) {
    gfi_mfree(a, r, sizeof *r);
    return st;
  }
  r->a = gfi_alloc_or_default(r->par.allocator);
  gf_frame *f = NULL;
  st = read_impl(r, data, len, &f, err);
  reader_free(r);
  st = gfi_ctx_end(&r->call, st, err);
  gfi_mfree(a, r, sizeof *r);
  if (st == GF_OK)
    *out = f;
  else
    gf_frame_release(f);
  return st;
}

/* Maps the file and reads it. */
static gf_status read_path(const char *path, const gf_json_read_options *o,
                           gf_json_format deflt, gf_frame **out, gf_error *err) {
  if (!path || !out)
    return gf_error_set(err, GF_EINVAL, "gf_read_json: %s is NULL", path ? "out" : "path");
  gf_json_read_options lo;
  GF_RETURN_NOT_OK(load_options(o, &lo, err));
  if (lo.format == GF_JSON_AUTO) lo.format = deflt;
  gfi_ctx call;
  gf_parallel_options par;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, lo.parallel, &par, err));
  gfi_mapped_file *m = NULL;
  gf_status st = gfi_mapped_file_open_with(path, &par, lo.input_mode, &m, err);
  if (st == GF_OK) {
    lo.parallel = &par;
    st = read_common(gfi_mapped_file_data(m), gfi_mapped_file_size(m), path, &lo, out, err);
    gfi_mapped_file_release(m);
  }
  return gfi_ctx_end(&call, st, err);
}

/* See json.h. */
gf_status gf_read_json(const char *path, const gf_json_read_options *o, gf_frame **out,
                       gf_error *err) {
  return read_path(path, o, GF_JSON_AUTO, out, err);
}

/* See json.h. */
gf_status gf_read_ndjson(const char *path, const gf_json_read_options *o, gf_frame **out,
                         gf_error *err) {
  return read_path(path, o, GF_JSON_NDJSON, out, err);
}

/* Reads from memory with `deflt` as the format when the options say AUTO. */
static gf_status read_buffer(const char *data, size_t len, const char *name,
                             const gf_json_read_options *o, gf_json_format deflt,
                             gf_frame **out, gf_error *err) {
  if (!out || (!data && len > 0))
    return gf_error_set(err, GF_EINVAL, "gf_read_json_buffer: %s is NULL", out ? "data" : "out");
  gf_json_read_options lo;
  GF_RETURN_NOT_OK(load_options(o, &lo, err));
  if (lo.format == GF_JSON_AUTO) lo.format = deflt;
  return read_common(data ? data : "", len, name ? name : "<buffer>", &lo, out, err);
}

/* See json.h. */
gf_status gf_read_json_buffer(const char *data, size_t len, const char *name,
                              const gf_json_read_options *o, gf_frame **out, gf_error *err) {
  return read_buffer(data, len, name, o, GF_JSON_AUTO, out, err);
}

/* See json.h. */
gf_status gf_read_ndjson_buffer(const char *data, size_t len, const char *name,
                                const gf_json_read_options *o, gf_frame **out, gf_error *err) {
  return read_buffer(data, len, name, o, GF_JSON_NDJSON, out, err);
}
