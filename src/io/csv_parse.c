/* CSV tokenizer and chunk parser: reads rows of one chunk straight into
 * per-column buffers (no allocation per field), widening a column whose
 * value does not fit its kind by finishing the chunk in "discovery" mode for
 * that column and re-parsing only it; builds the chunk's arrays and
 * dictionary-encodes string columns. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/hash.h"
#include "data/array_internal.h"
#include "data/timezone.h"
#include "data/decimal.h"
#include "data/builder_internal.h"
#include "io/csv_internal.h"
#include "io/csv_scan.h"

/* ------------------------------------------------------------------ */
/* Tokenizer                                                           */
/* ------------------------------------------------------------------ */

/* Sets up a tokenizer for dialect d; scratch memory comes from a. */
void gfi_csv_tokenizer_init(gfi_csv_tokenizer *t, const gfi_csv_dialect *d,
                            const gf_allocator *a) {
  memset(t, 0, sizeof *t);
  t->d = *d;
  t->alloc = gfi_alloc_or_default(a);
  t->special[(uint8_t)d->delim] = 1;
  t->special['\n'] = 1;
  if (d->quoting) t->special[(uint8_t)d->quote] = 1;
  if (d->escape) t->special[(uint8_t)d->escape] = 1;
}

/* Frees the scratch. */
void gfi_csv_tokenizer_reset(gfi_csv_tokenizer *t) {
  if (t->scratch) gf_free(t->alloc, t->scratch, t->scap, 16);
  t->scratch = NULL;
  t->scap = t->slen = 0;
}

/* Appends n bytes to the scratch; gfi_vec grows it (the tokenizer's
 * fields, declared in csv_internal.h, are the vector's). */
static gf_status scratch_put(gfi_csv_tokenizer *t, const char *p, size_t n) {
  if (n == 0) return GF_OK;
  if (t->slen + n <= t->scap) {
    memcpy(t->scratch + t->slen, p, n);
    t->slen += n;
    return GF_OK;
  }
  gfi_vec v = {t->alloc, (uint8_t *)t->scratch, t->slen, t->scap, 16, 0};
  gf_status st = gfi_vec_append(&v, p, n, NULL);
  t->scratch = (char *)v.data;
  t->slen = v.len;
  t->scap = v.cap;
  return st;
}

#define PUT(ptr, n)                                          \
  do {                                                       \
    if (store && scratch_put(t, (ptr), (size_t)(n)) != GF_OK) \
      return GF_ENOMEM;                                      \
  } while (0)

/* Reads one row (see csv_internal.h for the quoting model). */
gf_status gfi_csv_next_row(gfi_csv_tokenizer *t, const char *pos,
                           const char *end, gfi_csv_field *fields,
                           int max_fields, gfi_csv_row *row) {
  const gfi_csv_dialect *d = &t->d;
  const char delim = d->delim, quote = d->quote, esc = d->escape;
  row->bad = NULL;
  row->newlines = 0;
  row->kind = GFI_CSV_ROW;
  t->slen = 0;
  const char *p = pos;
  if (d->comment && *p == d->comment) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    row->next = nl ? nl + 1 : end;
    row->newlines = nl ? 1 : 0;
    row->nfields = 0;
    row->kind = GFI_CSV_COMMENT;
    return GF_OK;
  }
  int nf = 0;
  bool any_scratch = false, last_empty = false;
  for (;;) {
    const char *s = p;
    while (s < end && !t->special[(uint8_t)*s]) s++;
    if (s == end || *s == delim || *s == '\n') {
      /* Plain field: a view into the input. */
      int64_t len = s - p;
      bool nl = s < end && *s == '\n';
      if (!(s < end && *s == delim) && len > 0 && s[-1] == '\r') len--;
      if (fields && nf < max_fields) {
        gfi_csv_field *f = &fields[nf];
        f->p = p;
        f->len = len;
        f->raw = p;
        f->quoted = false;
      }
      nf++;
      last_empty = len == 0;
      if (s == end) {
        row->next = end;
        break;
      }
      if (nl) {
        row->newlines++;
        row->next = s + 1;
        break;
      }
      p = s + 1;
      continue;
    }
    /* Field with quotes or escapes: its content goes to the scratch. */
    bool store = fields && nf < max_fields;
    size_t off = t->slen;
    PUT(p, s - p);
    const char *q = s, *open = NULL;
    bool in_q = false;
    int ended = 0; /* 0 end of input, 1 delimiter, 2 newline */
    for (;;) {
      if (q == end) {
        if (in_q) {
          row->bad = open;
          row->nfields = nf;
          row->next = end;
          return GF_EPARSE;
        }
        break;
      }
      char c = *q;
      if (esc && c == esc) {
        if (q + 1 < end) {
          if (q[1] == '\n') row->newlines++;
          PUT(q + 1, 1);
          q += 2;
        } else {
          PUT(q, 1);
          q++;
        }
        continue;
      }
      if (in_q) {
        if (c == quote) {
          if (q + 1 < end && q[1] == quote) {
            PUT(q, 1);
            q += 2;
          } else {
            in_q = false;
            q++;
          }
          continue;
        }
        const char *r = q;
        while (r < end && *r != quote && !(esc && *r == esc)) {
          if (*r == '\n') row->newlines++;
          r++;
        }
        PUT(q, r - q);
        q = r;
        continue;
      }
      if (d->quoting && c == quote) {
        in_q = true;
        open = q;
        q++;
        continue;
      }
      if (c == delim) {
        ended = 1;
        break;
      }
      if (c == '\n') {
        ended = 2;
        break;
      }
      const char *r = q + 1;
      while (r < end && !t->special[(uint8_t)*r]) r++;
      PUT(q, r - q);
      q = r;
    }
    if (store) {
      size_t flen = t->slen - off;
      if (ended != 1 && flen > 0 && q[-1] == '\r' &&
          t->scratch[t->slen - 1] == '\r') {
        t->slen--;
        flen--;
      }
      gfi_csv_field *f = &fields[nf];
      f->p = NULL;
      f->soff = off;
      f->len = (int64_t)flen;
      f->raw = p;
      f->quoted = true;
      any_scratch = true;
    }
    nf++;
    last_empty = false;
    if (ended == 0) {
      row->next = end;
      break;
    }
    if (ended == 2) {
      row->newlines++;
      row->next = q + 1;
      break;
    }
    p = q + 1;
  }
  if (any_scratch) {
    int m = nf < max_fields ? nf : max_fields;
    for (int i = 0; i < m; i++)
      if (fields[i].quoted)
        fields[i].p = t->scratch ? t->scratch + fields[i].soff : "";
  }
  row->nfields = nf;
  if (nf == 1 && last_empty) row->kind = GFI_CSV_BLANK;
  return GF_OK;
}
#undef PUT

/* High bit of every byte of w equal to the byte repeated in pat. */
static inline uint64_t byte_eq(uint64_t w, uint64_t pat) {
  uint64_t x = w ^ pat;
  uint64_t t = ((x & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full) | x;
  return ~t & 0x8080808080808080ull;
}

/* Sum of the 8 byte lanes of acc. */
static inline int64_t lane_sum(uint64_t acc) {
  uint64_t s = (acc & 0x00ff00ff00ff00ffull) + ((acc >> 8) & 0x00ff00ff00ff00ffull);
  return (int64_t)((s * 0x0001000100010001ull) >> 48);
}

/* Counts quotes and newlines, 8 bytes at a time with per-lane counters
 * flushed every 255 words. */
void gfi_csv_count_bytes(const char *p, size_t n, char quote, bool quoting,
                         int64_t *quotes, int64_t *newlines) {
  const uint64_t ones = 0x0101010101010101ull;
  const uint64_t qpat = ones * (uint8_t)quote, npat = ones * (uint8_t)'\n';
  int64_t q = 0, nl = 0;
  size_t i = 0;
  while (i + 8 <= n) {
    uint64_t qa = 0, na = 0;
    size_t stop = i + 8 * 255;
    if (stop > n) stop = n;
    for (; i + 8 <= stop; i += 8) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      na += byte_eq(w, npat) >> 7;
      qa += byte_eq(w, qpat) >> 7;
    }
    nl += lane_sum(na);
    q += lane_sum(qa);
  }
  for (; i < n; i++) {
    nl += p[i] == '\n';
    q += p[i] == quote;
  }
  *quotes = quoting ? q : 0;
  *newlines = nl;
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* "NAME:LINE:COL: message" for a position inside the input. */
void gfi_csv_error_at(const gfi_csv_ctx *ctx, const char *row_start,
                      int64_t row_line, const char *at, gf_error *err,
                      gf_status code, const char *fmt, ...) {
  int64_t line = row_line;
  for (const char *p = row_start; p < at; p++) line += *p == '\n';
  const char *ls = at;
  while (ls > ctx->data && ls[-1] != '\n') ls--;
  int64_t col = 1;
  for (const char *p = ls; p < at; p++) col += ((uint8_t)*p & 0xC0) != 0x80;
  char msg[GF_ERROR_MESSAGE_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  gf_error_set(err, code, "%s:%lld:%lld: %s", ctx->name, (long long)line,
               (long long)col, msg);
}

/* ------------------------------------------------------------------ */
/* Column buffers                                                      */
/* ------------------------------------------------------------------ */

/* Equality of two short byte strings of length n without a libc call for
 * the common short case. */
static inline bool same_bytes(const uint8_t *a, const uint8_t *b, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t x, y, u, v;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    memcpy(&u, a + n - 8, 8);
    memcpy(&v, b + n - 8, 8);
    return x == y && u == v;
  }
  if (n < 8) {
    for (size_t i = 0; i < n; i++)
      if (a[i] != b[i]) return false;
    return true;
  }
  return memcmp(a, b, n) == 0;
}


/* One slot of the open-addressing tables of dictionaries: the hash, the
 * code + 1 (0 = empty) and the length, so most probes touch one cache line. */
typedef struct gfi_csv_dslot {
  uint64_t hash;
  uint32_t code1;
  uint32_t len;
} dict_slot;

/* Bytes per value of a kind (0 = bits or nothing; strings store int32
 * offsets). */
static int kind_width(const gfi_csv_colspec *cs, uint8_t kind) {
  switch (kind) {
  case GFI_CSV_I32: case GFI_CSV_DATE: case GFI_CSV_F32: case GFI_CSV_STR:
    return 4;
  case GFI_CSV_I64: case GFI_CSV_F64: case GFI_CSV_TS: case GFI_CSV_TSTZ:
  case GFI_CSV_TSUNIT:
    return 8;
  case GFI_CSV_DEC:
    return 16;
  case GFI_CSV_INT: {
    gf_type_id id = cs->type.id;
    if (id == GF_TYPE_INT8 || id == GF_TYPE_UINT8) return 1;
    if (id == GF_TYPE_INT16 || id == GF_TYPE_UINT16) return 2;
    if (id == GF_TYPE_INT32 || id == GF_TYPE_UINT32) return 4;
    return 8;
  }
  default:
    return 0;
  }
}

/* Releases a column's buffers and empties it (kind kept). */
static void colbuf_clear(gfi_csv_colbuf *cb) {
  gf_buffer_release(cb->values);
  gf_buffer_release(cb->bytes);
  gf_buffer_release(cb->valid);
  gf_buffer_release(cb->doffs);
  if (cb->slots) gf_free(cb->salloc, cb->slots, cb->scap * sizeof *cb->slots, 64);
  uint8_t kind = cb->kind;
  memset(cb, 0, sizeof *cb);
  cb->kind = kind;
}

void gfi_csv_chunk_clear(gfi_csv_chunk *ch, int ncols) {
  if (!ch->cols) return;
  for (int c = 0; c < ncols; c++) colbuf_clear(&ch->cols[c]);
}

/* Grows *b (allocating it first) to hold at least `need` bytes. */
static gf_status grow(const gf_allocator *a, gf_buffer **b, uint8_t **ptr,
                      size_t *cap, size_t need, size_t hint) {
  if (need <= *cap) return GF_OK;
  size_t ncap = *cap + *cap / 2;
  if (ncap < need) ncap = need;
  if (ncap < hint) ncap = hint;
  if (ncap < 256) ncap = 256;
  if (!*b) {
    GF_RETURN_NOT_OK(gfi_buffer_alloc(a, ncap, b));
  } else {
    GF_RETURN_NOT_OK(gfi_buffer_resize(*b, ncap));
  }
  *ptr = gf_buffer_mutable_data(*b);
  *cap = gfi_buffer_capacity(*b);
  return GF_OK;
}

/* State of one run over a chunk's rows. */
typedef struct parse_run {
  gfi_csv_ctx *ctx;
  gfi_csv_chunk *ch;
  const gf_allocator *a;
  int64_t est_rows;
  const char *row_start;
  int64_t row_line;
  int64_t avg_len; /* of the column being stored (put_string) */
} parse_run;

/* Ensures the validity bitmap exists (rows before `row` valid unless the
 * column had only nulls) and has room for bit `row`. */
static gf_status need_valid(parse_run *r, gfi_csv_colbuf *cb, int64_t row,
                            bool all_null_before) {
  size_t need = (size_t)(row >> 3) + 1;
  if (!cb->valid) {
    GF_RETURN_NOT_OK(grow(r->a, &cb->valid, &cb->np, &cb->ncap, need,
                          (size_t)(r->est_rows >> 3) + 8));
    if (!all_null_before) {
      memset(cb->np, 0xff, (size_t)(row >> 3));
      for (int64_t i = row & ~(int64_t)7; i < row; i++) gfi_bit_set(cb->np, i);
    }
    return GF_OK;
  }
  return grow(r->a, &cb->valid, &cb->np, &cb->ncap, need, 0);
}

/* Appends a null at `row`. */
static gf_status put_null(parse_run *r, const gfi_csv_colspec *cs,
                          gfi_csv_colbuf *cb, int64_t row) {
  cb->nulls++;
  if (cb->kind == GFI_CSV_NULL) return GF_OK; /* bitmap made on first value */
  GF_RETURN_NOT_OK(need_valid(r, cb, row, false));
  if (cb->kind == GFI_CSV_STR) {
    if (!cb->smode) cb->smode = cs->dict ? 1 : 2;
    if (cb->smode == 1) { /* code 0 under a null slot */
      GF_RETURN_NOT_OK(grow(r->a, &cb->values, &cb->vp, &cb->vcap, (size_t)(row + 1) * 4,
                            (size_t)(r->est_rows + 1) * 4));
      ((int32_t *)cb->vp)[row] = 0;
      return GF_OK;
    }
    GF_RETURN_NOT_OK(grow(r->a, &cb->values, &cb->vp, &cb->vcap,
                          (size_t)(row + 2) * 4, (size_t)(r->est_rows + 2) * 4));
    int32_t *o = (int32_t *)cb->vp;
    o[row + 1] = o[row];
  }
  return GF_OK;
}

/* Stores a fixed-width value at `row`. */
static gf_status put_fixed(parse_run *r, gfi_csv_colbuf *cb, int64_t row,
                           const void *v, int w) {
  if (cb->valid) {
    GF_RETURN_NOT_OK(need_valid(r, cb, row, false));
    gfi_bit_set(cb->np, row);
  }
  size_t need = (size_t)(row + 1) * (size_t)w;
  if (need > cb->vcap)
    GF_RETURN_NOT_OK(grow(r->a, &cb->values, &cb->vp, &cb->vcap, need,
                          (size_t)(r->est_rows + 1) * (size_t)w));
  memcpy(cb->vp + (size_t)row * (size_t)w, v, (size_t)w);
  return GF_OK;
}

/* Statistics while parsing: integer-like kinds by value. */
static inline void stat_int(gfi_csv_colbuf *cb, int64_t v) {
  if (!cb->sany) {
    cb->sany = true;
    cb->smin = cb->smax = v;
    return;
  }
  if (v < cb->smin) cb->smin = v;
  if (v > cb->smax) cb->smax = v;
}

/* Order key of a double as gfi_array_compute_stats uses it (totalOrder,
 * every NaN last): the first value with the least and greatest key win. */
static inline int64_t float_key(double x) {
  if (isnan(x)) return INT64_MAX;
  int64_t b;
  memcpy(&b, &x, sizeof b);
  return b ^ (int64_t)((uint64_t)(b >> 63) >> 1);
}

static inline void stat_float(gfi_csv_colbuf *cb, double v) {
  int64_t k = float_key(v);
  if (!cb->sany) {
    cb->sany = true;
    cb->smin = cb->smax = k;
    cb->fmin = cb->fmax = v;
    return;
  }
  if (k < cb->smin) cb->smin = k, cb->fmin = v;
  if (k > cb->smax) cb->smax = k, cb->fmax = v;
}

enum { PUT_OK = 0, PUT_MISFIT = 1, PUT_FAIL = 2 };

/* Stores a valid value of kind STR. */
static int put_string(parse_run *r, gfi_csv_colbuf *cb, int64_t row,
                      const gfi_csv_field *f, gf_status *st) {
  if (cb->valid) {
    if ((*st = need_valid(r, cb, row, false)) != GF_OK) return PUT_FAIL;
    gfi_bit_set(cb->np, row);
  }
  size_t need = (size_t)(row + 2) * 4;
  if (need > cb->vcap &&
      (*st = grow(r->a, &cb->values, &cb->vp, &cb->vcap, need,
                  (size_t)(r->est_rows + 2) * 4)) != GF_OK)
    return PUT_FAIL;
  if (f->len > (int64_t)INT32_MAX - (int64_t)cb->blen) {
    gfi_csv_error_at(r->ctx, r->row_start, r->row_line, f->raw, &r->ch->err,
                     GF_ENOTSUP,
                     "string data of one chunk exceeds 2 GiB (utf8 offsets)");
    *st = GF_ENOTSUP;
    return PUT_FAIL;
  }
  size_t bneed = cb->blen + (size_t)f->len;
  if (bneed > cb->bcap) {
    uint8_t *bp = (uint8_t *)cb->bp;
    /* First allocation sized from the sampled mean length (+1/8 slack):
     * buffers are zero-filled, so over-reserving costs resident memory. */
    size_t hint = (size_t)r->est_rows * (size_t)(r->avg_len + 1);
    hint += hint / 8 + 64;
    if ((*st = grow(r->a, &cb->bytes, &bp, &cb->bcap, bneed,
                    cb->bytes ? 0 : hint)) != GF_OK)
      return PUT_FAIL;
    cb->bp = (char *)bp;
  }
  if (f->len) memcpy(cb->bp + cb->blen, f->p, (size_t)f->len);
  cb->blen = bneed;
  ((int32_t *)cb->vp)[row + 1] = (int32_t)bneed;
  return PUT_OK;
}

/* Distinct values a chunk keeps as codes while parsing (a 32K-slot table,
 * 512 KiB). */
#define GFI_CSV_PARSE_DICT_MAX 16384

/* Leaves dictionary mode: rewrites rows [0, row) as utf8 offsets and bytes
 * (a chunk whose values are mostly distinct gains nothing from codes; the
 * driver encodes its array after the parse if the column still wants a
 * dictionary), then stores the field at `row` as a string. */
static int to_plain(parse_run *r, gfi_csv_colbuf *cb, int64_t row, const gfi_csv_field *f,
                    gf_status *st) {
  const int32_t *codes = (const int32_t *)cb->vp, *dofs = (const int32_t *)cb->dop;
  size_t total = 0;
  for (int64_t i = 0; i < row; i++)
    if (!cb->valid || gfi_bit_get(cb->np, i)) total += (size_t)(dofs[codes[i] + 1] - dofs[codes[i]]);
  gf_buffer *nv = NULL, *nb = NULL;
  uint8_t *nvp = NULL, *nbp = NULL;
  size_t nvcap = 0, nbcap = 0;
  size_t hint = (size_t)r->est_rows * (size_t)(r->avg_len + 1);
  hint += hint / 8 + 64;
  if ((*st = grow(r->a, &nv, &nvp, &nvcap, (size_t)(row + 2) * 4,
                  (size_t)(r->est_rows + 2) * 4)) != GF_OK ||
      (*st = grow(r->a, &nb, &nbp, &nbcap, total + 1, hint)) != GF_OK) {
    gf_buffer_release(nv);
    return PUT_FAIL;
  }
  int32_t *o = (int32_t *)nvp;
  size_t pos = 0;
  o[0] = 0;
  for (int64_t i = 0; i < row; i++) {
    if (!cb->valid || gfi_bit_get(cb->np, i)) {
      size_t len = (size_t)(dofs[codes[i] + 1] - dofs[codes[i]]);
      if (len) memcpy(nbp + pos, cb->bp + dofs[codes[i]], len);
      pos += len;
    }
    o[i + 1] = (int32_t)pos;
  }
  gf_buffer_release(cb->values);
  gf_buffer_release(cb->bytes);
  gf_buffer_release(cb->doffs);
  gf_free(cb->salloc, cb->slots, cb->scap * sizeof *cb->slots, 64);
  cb->slots = NULL;
  cb->scap = 0;
  cb->doffs = NULL;
  cb->dop = NULL;
  cb->docap = 0;
  cb->ndistinct = 0;
  cb->values = nv;
  cb->vp = nvp;
  cb->vcap = nvcap;
  cb->bytes = nb;
  cb->bp = (char *)nbp;
  cb->bcap = nbcap;
  cb->blen = pos;
  cb->smode = 2;
  return put_string(r, cb, row, f, st);
}

/* Stores a valid string as its code in the chunk's dictionary (adding it
 * when new). */
static int put_code(parse_run *r, gfi_csv_colbuf *cb, int64_t row, const gfi_csv_field *f,
                    gf_status *st) {
  if (cb->valid) {
    if ((*st = need_valid(r, cb, row, false)) != GF_OK) return PUT_FAIL;
    gfi_bit_set(cb->np, row);
  }
  size_t need = (size_t)(row + 1) * 4;
  if (need > cb->vcap && (*st = grow(r->a, &cb->values, &cb->vp, &cb->vcap, need,
                                     (size_t)(r->est_rows + 1) * 4)) != GF_OK)
    return PUT_FAIL;
  if (!cb->slots) {
    cb->slots = gf_alloc(r->a, 1024 * sizeof *cb->slots, 64);
    if (!cb->slots) {
      *st = GF_ENOMEM;
      return PUT_FAIL;
    }
    memset(cb->slots, 0, 1024 * sizeof *cb->slots);
    cb->scap = 1024;
    cb->salloc = r->a;
    if ((*st = grow(r->a, &cb->doffs, &cb->dop, &cb->docap, 4 * 1024, 0)) != GF_OK)
      return PUT_FAIL;
  }
  const size_t len = (size_t)f->len;
  const uint64_t h = gfi_hash_bytes(f->p, len);
  size_t mask = cb->scap - 1, j = (size_t)h & mask;
  const int32_t *dofs = (const int32_t *)cb->dop;
  dict_slot *sl = cb->slots;
  int64_t code = -1;
  while (sl[j].code1) {
    if (sl[j].hash == h && sl[j].len == len) {
      int64_t k = sl[j].code1 - 1;
      if (same_bytes((const uint8_t *)cb->bp + dofs[k], (const uint8_t *)f->p, len)) {
        code = k;
        break;
      }
    }
    j = (j + 1) & mask;
  }
  if (code < 0) {
    /* A value equal to one in the dictionary was valid UTF-8 already. A
     * misfit leaves the row's validity bit clear (it was set above), so
     * a bad value read as null is null. */
    if (!gfi_utf8_valid(f->p, f->len)) {
      if (cb->valid) gfi_bit_clear(cb->np, row);
      return PUT_MISFIT;
    }
    /* Codes pay while the table stays in cache; a larger dictionary is
     * left to gfi_csv_dict_encode after the parse, which hashes ahead and
     * prefetches (a probe per row into a table beyond L2 waits on memory;
     * measured: 1e5 distinct values per chunk ran 1.6x slower here). */
    if (cb->ndistinct >= GFI_CSV_PARSE_DICT_MAX) return to_plain(r, cb, row, f, st);
    if (f->len > (int64_t)INT32_MAX - (int64_t)cb->blen) {
      gfi_csv_error_at(r->ctx, r->row_start, r->row_line, f->raw, &r->ch->err, GF_ENOTSUP,
                       "string data of one chunk exceeds 2 GiB (utf8 offsets)");
      *st = GF_ENOTSUP;
      return PUT_FAIL;
    }
    code = cb->ndistinct++;
    uint8_t *bp = (uint8_t *)cb->bp;
    if ((*st = grow(r->a, &cb->doffs, &cb->dop, &cb->docap, (size_t)(code + 2) * 4, 0)) !=
            GF_OK ||
        (*st = grow(r->a, &cb->bytes, &bp, &cb->bcap, cb->blen + len + 16, 64 * 1024)) != GF_OK) {
      cb->ndistinct--;
      return PUT_FAIL;
    }
    cb->bp = (char *)bp;
    if (len) memcpy(cb->bp + cb->blen, f->p, len);
    cb->blen += len;
    ((int32_t *)cb->dop)[code + 1] = (int32_t)cb->blen;
    sl[j].hash = h;
    sl[j].code1 = (uint32_t)(code + 1);
    sl[j].len = (uint32_t)len;
    if ((size_t)cb->ndistinct * 2 > cb->scap) {
      size_t ncap = cb->scap * 2;
      dict_slot *ns = gf_alloc(r->a, ncap * sizeof *ns, 64);
      if (!ns) {
        *st = GF_ENOMEM;
        return PUT_FAIL;
      }
      memset(ns, 0, ncap * sizeof *ns);
      for (size_t q = 0; q < cb->scap; q++) {
        if (!sl[q].code1) continue;
        size_t t = (size_t)sl[q].hash & (ncap - 1);
        while (ns[t].code1) t = (t + 1) & (ncap - 1);
        ns[t] = sl[q];
      }
      gf_free(cb->salloc, sl, cb->scap * sizeof *sl, 64);
      cb->slots = ns;
      cb->scap = ncap;
    }
  }
  ((int32_t *)cb->vp)[row] = (int32_t)code;
  return PUT_OK;
}

/* Range of a forced integer type. */
static bool int_in_range(gf_type_id id, int64_t v) {
  switch (id) {
  case GF_TYPE_INT8: return v >= INT8_MIN && v <= INT8_MAX;
  case GF_TYPE_INT16: return v >= INT16_MIN && v <= INT16_MAX;
  case GF_TYPE_INT32: return v >= INT32_MIN && v <= INT32_MAX;
  default: return true;
  }
}

/* Parses and stores a non-null value of the column's kind; PUT_MISFIT when
 * the text does not fit it. */
static int put_value(parse_run *r, const gfi_csv_colspec *cs,
                     gfi_csv_colbuf *cb, int64_t row, const gfi_csv_field *f,
                     gf_status *st) {
  const char *p = f->p;
  int64_t n = f->len;
  int64_t iv;
  double dv;
  switch (cb->kind) {
  case GFI_CSV_STR:
    if (!cb->smode) cb->smode = cs->dict ? 1 : 2;
    if (cb->smode == 1) return put_code(r, cb, row, f, st); /* validates new values only */
    if (!gfi_utf8_valid(p, n)) return PUT_MISFIT;
    return put_string(r, cb, row, f, st);
  case GFI_CSV_I32: {
    if (gfi_csv_parse_int64(p, n, &iv) != GFI_INT_OK || iv < INT32_MIN ||
        iv > INT32_MAX)
      return PUT_MISFIT;
    int32_t v = (int32_t)iv;
    stat_int(cb, iv);
    *st = put_fixed(r, cb, row, &v, 4);
    break;
  }
  case GFI_CSV_I64:
    if (gfi_csv_parse_int64(p, n, &iv) != GFI_INT_OK) return PUT_MISFIT;
    if (iv > GFI_CSV_EXACT_INT || iv < -GFI_CSV_EXACT_INT) cb->bigint = true;
    stat_int(cb, iv);
    *st = put_fixed(r, cb, row, &iv, 8);
    break;
  case GFI_CSV_F64: {
    if (gfi_csv_parse_f64(p, n, cs->forced, &dv) != GFI_F64_OK) return PUT_MISFIT;
    stat_float(cb, dv);
    *st = put_fixed(r, cb, row, &dv, 8);
    break;
  }
  case GFI_CSV_F32: {
    if (!gfi_csv_parse_double(p, n, &dv)) return PUT_MISFIT;
    float fv = (float)dv;
    if (isinf(fv) && !isinf(dv)) return PUT_MISFIT;
    *st = put_fixed(r, cb, row, &fv, 4);
    break;
  }
  case GFI_CSV_BOOL: {
    bool b;
    if (!gfi_csv_parse_bool(p, n, &b)) return PUT_MISFIT;
    if (cb->valid) {
      if ((*st = need_valid(r, cb, row, false)) != GF_OK) return PUT_FAIL;
      gfi_bit_set(cb->np, row);
    }
    size_t need = (size_t)(row >> 3) + 1;
    if (need > cb->vcap &&
        (*st = grow(r->a, &cb->values, &cb->vp, &cb->vcap, need,
                    (size_t)(r->est_rows >> 3) + 8)) != GF_OK)
      return PUT_FAIL;
    if (b) gfi_bit_set(cb->vp, row);
    break;
  }
  case GFI_CSV_DATE: {
    int32_t d;
    if (!gfi_csv_parse_date(p, n, &d)) return PUT_MISFIT;
    stat_int(cb, d);
    *st = put_fixed(r, cb, row, &d, 4);
    break;
  }
  case GFI_CSV_TS:
  case GFI_CSV_TSTZ:
  case GFI_CSV_TSUNIT: {
    int64_t secs;
    int32_t ns;
    bool tz;
    if (!gfi_csv_parse_timestamp(p, n, &secs, &ns, &tz)) {
      int32_t d;
      if (cb->kind == GFI_CSV_TSTZ || !gfi_csv_parse_date(p, n, &d))
        return PUT_MISFIT;
      secs = (int64_t)d * 86400;
      ns = 0;
      tz = false;
    }
    if ((cb->kind == GFI_CSV_TS && tz) || (cb->kind == GFI_CSV_TSTZ && !tz))
      return PUT_MISFIT;
    /* Text without an offset in a column forced to a zone is wall time there. */
    if (cb->kind == GFI_CSV_TSUNIT && !tz && cs->type.has_timezone)
      secs = gfi_type_local_to_utc(cs->type, secs);
    gf_time_unit u = cb->kind == GFI_CSV_TSUNIT ? cs->type.unit : GF_UNIT_MICRO;
    if (!gfi_csv_ts_to_unit(secs, ns, u, &iv)) return PUT_MISFIT;
    stat_int(cb, iv);
    *st = put_fixed(r, cb, row, &iv, 8);
    break;
  }
  case GFI_CSV_DEC: {
    /* Plain decimal text ("-12.5", "3e2"); more fraction digits than the
     * scale round half away from zero, too many digits misfit. */
    gfi_i128 dv128;
    if (gfi_dec_parse(p, n, cs->type.precision, cs->type.scale, &dv128)) return PUT_MISFIT;
    *st = put_fixed(r, cb, row, &dv128, 16);
    break;
  }
  case GFI_CSV_INT: {
    gf_type_id id = cs->type.id;
    int w = kind_width(cs, cb->kind);
    if (id >= GF_TYPE_UINT8 && id <= GF_TYPE_UINT64) {
      uint64_t u;
      if (gfi_csv_parse_uint64(p, n, &u) != GFI_INT_OK) return PUT_MISFIT;
      if (w < 8 && u >> (8 * w)) return PUT_MISFIT;
      uint8_t tmp[8];
      if (w == 1) tmp[0] = (uint8_t)u;
      else if (w == 2) { uint16_t x = (uint16_t)u; memcpy(tmp, &x, 2); }
      else if (w == 4) { uint32_t x = (uint32_t)u; memcpy(tmp, &x, 4); }
      else memcpy(tmp, &u, 8);
      *st = put_fixed(r, cb, row, tmp, w);
    } else {
      if (gfi_csv_parse_int64(p, n, &iv) != GFI_INT_OK || !int_in_range(id, iv))
        return PUT_MISFIT;
      uint8_t tmp[8];
      if (w == 1) { int8_t x = (int8_t)iv; memcpy(tmp, &x, 1); }
      else if (w == 2) { int16_t x = (int16_t)iv; memcpy(tmp, &x, 2); }
      else if (w == 4) { int32_t x = (int32_t)iv; memcpy(tmp, &x, 4); }
      else memcpy(tmp, &iv, 8);
      *st = put_fixed(r, cb, row, tmp, w);
    }
    break;
  }
  default:
    return PUT_MISFIT;
  }
  return *st == GF_OK ? PUT_OK : PUT_FAIL;
}

/* Short printable excerpt of a value for messages. */
static int excerpt_len(const gfi_csv_field *f) {
  return f->len > 40 ? 40 : (int)f->len;
}

/* Handles one field of a column: null, store, widen, or report. */
static gf_status handle_field(parse_run *r, int c, int64_t row,
                              const gfi_csv_field *f) {
  gfi_csv_ctx *ctx = r->ctx;
  const gfi_csv_colspec *cs = &ctx->cols[c];
  gfi_csv_colbuf *cb = &r->ch->cols[c];
  /* A quoted null token is a value only in a string column; the chunk's
   * kind may still be narrower than the final one, so remember such fields
   * and let the driver re-parse the chunk if the column ends up STR. */
  bool is_null = gfi_csv_is_null(&ctx->nulls, f->p, f->len) &&
                 (!f->quoted || (cb->dead ? cb->pend : cb->kind) != GFI_CSV_STR);
  if (is_null && f->quoted) cb->qnull = true;
  if (cb->dead) {
    if (!is_null)
      cb->pend = gfi_csv_kind_fix(
          gfi_csv_kind_join(cb->pend, gfi_csv_classify(f->p, f->len, &cb->bigint)),
          cb->bigint);
    return GF_OK;
  }
  if (is_null) return put_null(r, cs, cb, row);
  r->avg_len = cs->avg_len;
  if (cb->kind == GFI_CSV_NULL) {
    /* First value of a column that had only nulls: it sets the kind. */
    uint8_t k = gfi_csv_classify(f->p, f->len, &cb->bigint);
    cb->kind = k;
    if (cb->nulls > 0) GF_RETURN_NOT_OK(need_valid(r, cb, row, true));
  }
  gf_status st = GF_OK;
  int res = put_value(r, cs, cb, row, f, &st);
  if (res == PUT_OK) return GF_OK;
  if (res == PUT_FAIL) return st == GF_OK ? GF_ENOMEM : st;
  /* Misfit. */
  bool bad_utf8 = cb->kind == GFI_CSV_STR;
  if (!cs->forced && !bad_utf8) {
    cb->dead = true;
    cb->pend = gfi_csv_kind_fix(
        gfi_csv_kind_join(cb->kind, gfi_csv_classify(f->p, f->len, &cb->bigint)),
        cb->bigint);
    return GF_OK;
  }
  if (ctx->bad_to_null) return put_null(r, cs, cb, row);
  if (bad_utf8) {
    gfi_csv_error_at(ctx, r->row_start, r->row_line, f->raw, &r->ch->err,
                     GF_EPARSE, "invalid UTF-8 in column \"%s\"", cs->name);
  } else {
    char tn[64];
    gf_type_format(cs->type, tn, sizeof tn);
    gfi_csv_error_at(ctx, r->row_start, r->row_line, f->raw, &r->ch->err,
                     GF_EPARSE, "value \"%.*s\" in column \"%s\" is not a valid %s",
                     excerpt_len(f), f->p, cs->name, tn);
  }
  return GF_EPARSE;
}

/* One pass over the chunk's rows, storing the columns selected by mask. */
static gf_status run_rows(parse_run *r, int64_t idx, const uint8_t *mask,
                          gfi_csv_field *fields) {
  gfi_csv_ctx *ctx = r->ctx;
  gfi_csv_chunk *ch = r->ch;
  gfi_csv_tokenizer tok;
  gfi_csv_tokenizer_init(&tok, &ctx->d, r->a);
  const int nfields = ctx->nfields, ncols = ctx->ncols;
  int64_t row = 0, line = ch->first_line;
  const char *pos = ch->start;
  gf_status st = GF_OK;
  /* Without escapes or comments rows are split from structural bitmasks
   * (csv_scan.h); the scalar tokenizer reads the rows that hold quotes. */
  gfi_csv_splitter sp;
  const bool fast = gfi_csv_splitter_usable(&ctx->d);
  if (fast && gfi_csv_splitter_init(&sp, &ctx->d, ch->start, ch->end, &tok, -1, false, r->a) !=
                  GF_OK) {
    gfi_csv_tokenizer_reset(&tok);
    GF_OOM(&ch->err, "CSV structural index");
    return GF_ENOMEM;
  }
  while (pos < ch->end) {
    if ((row & 8191) == 8191) {
      if (atomic_load_explicit(&ctx->err_chunk, memory_order_relaxed) < idx)
        break; /* an earlier chunk failed: this one's result is unused */
      if (atomic_load_explicit(&ctx->stop, memory_order_relaxed) ||
          (ctx->cancel && gf_cancel_requested(ctx->cancel))) {
        st = GF_ECANCELED;
        break;
      }
    }
    gfi_csv_row rw;
    st = fast ? gfi_csv_splitter_next(&sp, fields, nfields + 1, &rw)
              : gfi_csv_next_row(&tok, pos, ch->end, fields, nfields + 1, &rw);
    r->row_start = pos;
    r->row_line = line;
    if (st == GF_EPARSE) {
      gfi_csv_error_at(ctx, pos, line, rw.bad, &ch->err, GF_EPARSE,
                       "unterminated quoted field (the quote opened here is "
                       "never closed)");
      break;
    }
    if (st != GF_OK) break;
    if (rw.kind == GFI_CSV_COMMENT ||
        (rw.kind == GFI_CSV_BLANK &&
         (nfields > 1 || gfi_csv_blank_tail(rw.next, ctx->end)))) {
      line += rw.newlines;
      pos = rw.next;
      continue;
    }
    if (rw.nfields != nfields) {
      const char *at;
      if (rw.nfields > nfields) {
        at = fields[nfields].raw;
      } else {
        at = rw.next;
        if (rw.newlines && at > pos && at[-1] == '\n') at--;
        if (at > pos && at[-1] == '\r') at--;
      }
      gfi_csv_error_at(ctx, pos, line, at, &ch->err, GF_EPARSE,
                       "expected %d fields, found %d", nfields, rw.nfields);
      st = GF_EPARSE;
      break;
    }
    for (int c = 0; c < ncols; c++) {
      if (mask && !mask[c]) continue;
      st = handle_field(r, c, row, &fields[ctx->cols[c].field]);
      if (st != GF_OK) break;
    }
    if (st != GF_OK) break;
    row++;
    line += rw.newlines;
    pos = rw.next;
  }
  if (fast) gfi_csv_splitter_free(&sp);
  gfi_csv_tokenizer_reset(&tok);
  if (st == GF_EINTERNAL)
    gfi_csv_error_at(ctx, pos, line, pos, &ch->err, GF_EINTERNAL,
                     "the structural index and the tokenizer disagree on where this row ends");
  if (st == GF_OK && !mask) ch->rows = row;
  if (st == GF_OK && mask && row != ch->rows && pos >= ch->end) {
    gf_error_set(&ch->err, GF_EINTERNAL, "CSV chunk re-parse saw %lld rows, "
                 "first pass %lld", (long long)row, (long long)ch->rows);
    st = GF_EINTERNAL;
  }
  if (st == GF_ENOMEM) GF_OOM(&ch->err, "CSV column buffers");
  if (st == GF_ECANCELED)
    gf_error_set(&ch->err, GF_ECANCELED, "reading %s was cancelled", ctx->name);
  return st;
}

/* Parses a chunk (see csv_internal.h). */
gf_status gfi_csv_parse_chunk(gfi_csv_ctx *ctx, gfi_csv_chunk *ch,
                              int64_t chunk_index, const uint8_t *mask,
                              const gf_allocator *a) {
  a = gfi_alloc_or_default(a);
  const int ncols = ctx->ncols;
  parse_run r = {ctx, ch, a, 0, NULL, 0, 0};
  r.est_rows = (ch->end - ch->start) / (ctx->est_row_bytes > 0 ? ctx->est_row_bytes : 1) + 16;
  size_t fbytes = sizeof(gfi_csv_field) * (size_t)(ctx->nfields + 1);
  gfi_csv_field *fields = gfi_malloc(a, fbytes);
  uint8_t *dmask = gfi_calloc(a, (size_t)ncols + 1);
  if (!fields || !dmask) {
    gfi_mfree(a, fields, fbytes);
    gfi_mfree(a, dmask, (size_t)ncols + 1);
    return GF_OOM(&ch->err, "CSV row fields");
  }
  for (int c = 0; c < ncols; c++) {
    if (mask && !mask[c]) continue;
    gfi_csv_colbuf *cb = &ch->cols[c];
    uint8_t k = mask ? cb->kind : ctx->cols[c].kind;
    colbuf_clear(cb);
    cb->kind = k;
  }
  gf_status st = GF_OK;
  for (int pass = 0;; pass++) {
    st = run_rows(&r, chunk_index, mask, fields);
    if (st != GF_OK) break;
    bool any = false;
    for (int c = 0; c < ncols; c++) {
      gfi_csv_colbuf *cb = &ch->cols[c];
      dmask[c] = cb->dead;
      if (!cb->dead) continue;
      any = true;
      uint8_t k = cb->pend;
      bool big = cb->bigint;
      colbuf_clear(cb);
      cb->kind = k;
      cb->bigint = big;
    }
    if (!any) break;
    if (pass >= 4) {
      st = gf_error_set(&ch->err, GF_EINTERNAL, "CSV column widening did not settle");
      break;
    }
    mask = dmask;
  }
  gfi_mfree(a, fields, fbytes);
  gfi_mfree(a, dmask, (size_t)ncols + 1);
  return st;
}

/* ------------------------------------------------------------------ */
/* Arrays                                                              */
/* ------------------------------------------------------------------ */

/* Makes sure *b exists with at least `size` bytes and sets its size. */
static gf_status fit(const gf_allocator *a, gf_buffer **b, size_t size) {
  if (!*b) return gfi_buffer_alloc(a, size, b);
  if (size > gfi_buffer_capacity(*b)) return gfi_buffer_resize(*b, size);
  gfi_buffer_set_size(*b, size);
  return GF_OK;
}

/* Builds the array of column c of a parsed chunk (see csv_internal.h). */
gf_status gfi_csv_chunk_array(gfi_csv_chunk *ch, int c, uint8_t kind,
                              gf_datatype type, const gf_allocator *a,
                              gf_array **out, gf_error *err) {
  gfi_csv_colbuf *cb = &ch->cols[c];
  const int64_t rows = ch->rows;
  gfi_csv_colspec dummy = {0};
  dummy.type = type;
  if (cb->kind == GFI_CSV_NULL) {
    /* All null: zeroed data of the target type. */
    colbuf_clear(cb);
    cb->nulls = rows;
  } else if (cb->kind != kind) {
    return gf_error_set(err, GF_EINTERNAL, "CSV chunk column kind %d, expected %d",
                        cb->kind, kind);
  }
  if (kind == GFI_CSV_STR && cb->kind == kind && cb->smode == 1) {
    /* Codes into the chunk's dictionary. */
    gf_array *dict = NULL;
    int64_t nd = cb->ndistinct;
    gf_status st = fit(a, &cb->doffs, (size_t)(nd + 1) * 4);
    if (st == GF_OK) st = fit(a, &cb->bytes, cb->blen);
    if (st == GF_OK) st = fit(a, &cb->values, (size_t)rows * 4);
    if (st == GF_OK && cb->nulls > 0) st = fit(a, &cb->valid, (size_t)gfi_bitmap_bytes(rows));
    if (st != GF_OK) return GF_OOM(err, "CSV column buffers");
    gf_buffer *db[3] = {NULL, cb->doffs, cb->bytes};
    cb->doffs = cb->bytes = NULL;
    st = gfi_array_make(a, gf_type(GF_TYPE_UTF8), nd, 0, 0, db, NULL, &dict, err);
    if (st != GF_OK) return st;
    gf_buffer *bufs[3] = {NULL, cb->values, NULL};
    if (cb->nulls > 0) bufs[0] = cb->valid;
    else gf_buffer_release(cb->valid);
    int64_t nulls = cb->nulls;
    cb->values = cb->valid = NULL;
    colbuf_clear(cb);
    st = gfi_array_make(a, gf_type_dictionary(gf_type(GF_TYPE_UTF8)), rows, 0, nulls, bufs, dict,
                        out, err);
    gf_array_release(dict);
    return st;
  }
  size_t vsize;
  if (kind == GFI_CSV_BOOL) vsize = (size_t)gfi_bitmap_bytes(rows);
  else if (kind == GFI_CSV_STR) vsize = (size_t)(rows + 1) * 4;
  else vsize = (size_t)rows * (size_t)kind_width(&dummy, kind);
  gf_status st = fit(a, &cb->values, vsize);
  if (st == GF_OK && kind == GFI_CSV_STR) st = fit(a, &cb->bytes, cb->blen);
  if (st == GF_OK && cb->nulls > 0)
    st = fit(a, &cb->valid, (size_t)gfi_bitmap_bytes(rows));
  if (st != GF_OK) return GF_OOM(err, "CSV column buffers");
  gf_buffer *bufs[3] = {NULL, cb->values, NULL};
  if (cb->nulls > 0) bufs[0] = cb->valid;
  else gf_buffer_release(cb->valid);
  if (kind == GFI_CSV_STR) bufs[2] = cb->bytes;
  else gf_buffer_release(cb->bytes);
  int64_t nulls = cb->nulls;
  /* Kinds whose statistics were gathered while parsing (colbuf_clear
   * resets them with the values, so they cover exactly these rows). */
  bool tracked = cb->kind == kind &&
                 (kind == GFI_CSV_I32 || kind == GFI_CSV_I64 || kind == GFI_CSV_F64 ||
                  kind == GFI_CSV_DATE || kind == GFI_CSV_TS || kind == GFI_CSV_TSTZ);
  gf_stats stats;
  gfi_stats_reset(&stats, type);
  if (tracked && cb->sany && rows > 0) {
    if (kind == GFI_CSV_F64) {
      gfi_stats_add_f(&stats, cb->fmin);
      gfi_stats_add_f(&stats, cb->fmax);
    } else {
      gfi_stats_add_i(&stats, cb->smin);
      gfi_stats_add_i(&stats, cb->smax);
    }
  }
  cb->values = cb->bytes = cb->valid = NULL;
  colbuf_clear(cb);
  if (tracked)
    return gfi_array_make_with_stats(a, type, rows, nulls, bufs, NULL, &stats, out, err);
  return gfi_array_make(a, type, rows, 0, nulls, bufs, NULL, out, err);
}

/* ------------------------------------------------------------------ */
/* Dictionary encoding                                                 */
/* ------------------------------------------------------------------ */


/* Dictionary-encodes a utf8 array (see csv_internal.h). The distinct values
 * are appended to compact dictionary buffers as they are found, so
 * comparisons read cache-friendly memory. */
gf_status gfi_csv_dict_encode(const gf_array *s, int64_t max_distinct,
                              const gf_allocator *a, gf_array **out,
                              gf_error *err) {
  *out = NULL;
  a = gfi_alloc_or_default(a);
  const int64_t n = gf_array_length(s), off = gf_array_offset(s);
  const uint8_t *valid = gf_array_buffer(s, 0);
  const int32_t *offs = (const int32_t *)gf_array_buffer(s, 1) + off;
  const uint8_t *data = gf_array_buffer(s, 2);
  size_t cap = 1024;
  dict_slot *slots = NULL;
  gf_buffer *codes = NULL, *doffs = NULL, *dbytes = NULL;
  uint8_t *dop = NULL, *dbp = NULL;
  size_t docap = 0, dbcap = 0, dblen = 0;
  gf_array *dict = NULL;
  gf_status st = GF_ENOMEM;
  int64_t nd = 0;
  slots = gf_alloc(a, cap * sizeof *slots, 64);
  if (!slots || gfi_buffer_alloc(a, (size_t)n * 4, &codes) != GF_OK ||
      grow(a, &doffs, &dop, &docap, 4 * 1024, 0) != GF_OK)
    goto done;
  memset(slots, 0, cap * sizeof *slots);
  int32_t *cp = gf_buffer_mutable_data(codes);
  enum { BATCH = 16 };
  uint64_t hb[BATCH];
  for (int64_t i = 0; i < n; i++) {
    /* Hash a batch ahead and prefetch its slots: with many distinct
     * values the table is larger than the caches and each probe would
     * otherwise wait for memory in turn. */
    if ((i & (BATCH - 1)) == 0) {
      int64_t m = n - i < BATCH ? n - i : BATCH;
      for (int64_t k = 0; k < m; k++) {
        const uint8_t *w = data + offs[i + k];
        hb[k] = gfi_hash_bytes(w, (size_t)(offs[i + k + 1] - offs[i + k]));
        __builtin_prefetch(&slots[(size_t)hb[k] & (cap - 1)]);
      }
    }
    if (valid && !gfi_bit_get(valid, off + i)) continue;
    const uint8_t *v = data + offs[i];
    size_t len = (size_t)(offs[i + 1] - offs[i]);
    uint64_t h = hb[i & (BATCH - 1)];
    size_t mask = cap - 1, j = (size_t)h & mask;
    int64_t code = -1;
    const int32_t *dofs = (const int32_t *)dop;
    while (slots[j].code1) {
      if (slots[j].hash == h && slots[j].len == len) {
        int64_t k = slots[j].code1 - 1;
        if (same_bytes(dbp + dofs[k], v, len)) {
          code = k;
          break;
        }
      }
      j = (j + 1) & mask;
    }
    if (code < 0) {
      if (nd >= max_distinct) {
        st = GF_OK; /* too many distinct values: stays utf8 */
        goto done;
      }
      code = nd++;
      if (grow(a, &doffs, &dop, &docap, (size_t)(nd + 1) * 4, 0) != GF_OK ||
          grow(a, &dbytes, &dbp, &dbcap, dblen + len + 16, 64 * 1024) != GF_OK)
        goto done;
      memcpy(dbp + dblen, v, len);
      dblen += len;
      ((int32_t *)dop)[nd] = (int32_t)dblen;
      slots[j].hash = h;
      slots[j].code1 = (uint32_t)(code + 1);
      slots[j].len = (uint32_t)len;
      if ((size_t)nd * 2 > cap) {
        size_t ncap = cap * 2;
        dict_slot *ns = gf_alloc(a, ncap * sizeof *ns, 64);
        if (!ns) goto done;
        memset(ns, 0, ncap * sizeof *ns);
        for (size_t q = 0; q < cap; q++) {
          if (!slots[q].code1) continue;
          size_t t = (size_t)slots[q].hash & (ncap - 1);
          while (ns[t].code1) t = (t + 1) & (ncap - 1);
          ns[t] = slots[q];
        }
        gf_free(a, slots, cap * sizeof *slots, 64);
        slots = ns;
        cap = ncap;
      }
    }
    cp[i] = (int32_t)code;
  }
  if (!dbytes && gfi_buffer_alloc(a, 0, &dbytes) != GF_OK) goto done;
  gfi_buffer_set_size(doffs, (size_t)(nd + 1) * 4);
  gfi_buffer_set_size(dbytes, dblen);
  {
    gf_buffer *db[3] = {NULL, doffs, dbytes};
    doffs = dbytes = NULL;
    st = gfi_array_make(a, gf_type(GF_TYPE_UTF8), nd, 0, 0, db, NULL, &dict, err);
    if (st != GF_OK) goto done;
  }
  {
    gf_buffer *cb[3] = {NULL, codes, NULL};
    int64_t nulls = gf_array_null_count(s);
    if (nulls > 0) {
      /* Our arrays have offset 0, so the bitmap can be shared. */
      cb[0] = gf_buffer_retain(((const gf_array *)s)->buffers[0]);
    }
    codes = NULL;
    st = gfi_array_make(a, gf_type_dictionary(gf_type(GF_TYPE_UTF8)), n, 0,
                        nulls, cb, dict, out, err);
  }
done:
  if (st == GF_ENOMEM && !*out) GF_OOM(err, "a CSV dictionary");
  gf_array_release(dict);
  gf_buffer_release(codes);
  gf_buffer_release(doffs);
  gf_buffer_release(dbytes);
  gf_free(a, slots, cap * sizeof *slots, 64);
  return st;
}

/* Turns a dictionary<utf8> array back into utf8 (see csv_internal.h). */
gf_status gfi_csv_dict_decode(const gf_array *d, const gf_allocator *a, gf_array **out,
                              gf_error *err) {
  a = gfi_alloc_or_default(a);
  const int64_t n = gf_array_length(d), off = gf_array_offset(d);
  const gf_array *dict = gf_array_dictionary(d);
  const int32_t *codes = (const int32_t *)gf_array_buffer(d, 1) + off;
  const uint8_t *valid = gf_array_buffer(d, 0);
  const int32_t *dofs = (const int32_t *)gf_array_buffer(dict, 1) + gf_array_offset(dict);
  const uint8_t *dbytes = gf_array_buffer(dict, 2);
  int64_t total = 0;
  for (int64_t i = 0; i < n; i++)
    if (!valid || gfi_bit_get(valid, off + i)) total += dofs[codes[i] + 1] - dofs[codes[i]];
  if (total > INT32_MAX)
    return gf_error_set(err, GF_ENOTSUP, "string data of one CSV chunk exceeds 2 GiB (utf8 offsets)");
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  if (gfi_buffer_alloc(a, (size_t)(n + 1) * 4, &bufs[1]) != GF_OK ||
      gfi_buffer_alloc(a, (size_t)total, &bufs[2]) != GF_OK) {
    gf_buffer_release(bufs[1]);
    return GF_OOM(err, "CSV strings");
  }
  int32_t *o = gf_buffer_mutable_data(bufs[1]);
  uint8_t *b = gf_buffer_mutable_data(bufs[2]);
  int32_t pos = 0;
  o[0] = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!valid || gfi_bit_get(valid, off + i)) {
      int32_t len = dofs[codes[i] + 1] - dofs[codes[i]];
      if (len) memcpy(b + pos, dbytes + dofs[codes[i]], (size_t)len);
      pos += len;
    }
    o[i + 1] = pos;
  }
  int64_t nulls = gf_array_null_count(d);
  if (nulls > 0) bufs[0] = gf_buffer_retain(((const gf_array *)d)->buffers[0]); /* offset 0 */
  return gfi_array_make(a, gf_type(GF_TYPE_UTF8), n, 0, nulls, bufs, NULL, out, err);
}
