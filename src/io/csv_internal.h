/*
 * Internal interface of the CSV reader (not installed).
 *
 * Pipeline (csv_read.c): map the file, detect the dialect (csv_dialect.c),
 * read the header, cut the data into byte ranges that start on row
 * boundaries, infer column types from samples spread over the file
 * (csv_infer.c), parse the chunks in parallel straight into per-chunk column
 * buffers (csv_parse.c), widen columns whose later values do not fit, then
 * build one record batch per chunk and dictionary-encode low-cardinality
 * strings with one frame-wide dictionary.
 *
 * Quoting model. A field may contain quoted sections anywhere; every quote
 * character toggles the quoted state, and inside quotes a doubled quote is a
 * literal quote (RFC 4180). With this model a newline ends a row exactly when
 * the number of quote characters before it (from the start of the data) is
 * even, which is what lets the chunk boundaries be found in parallel by
 * counting quotes. With an escape character or a comment prefix that simple
 * parity no longer holds, and boundaries are found by one sequential pass of
 * the same tokenizer the parser uses.
 */
#ifndef GF_IO_CSV_INTERNAL_H
#define GF_IO_CSV_INTERNAL_H

#include <stdatomic.h>
#include <string.h>

#include "core/core_internal.h"
#include "core/utf8.h"

/* ------------------------------------------------------------------ */
/* Column kinds                                                        */
/* ------------------------------------------------------------------ */

/* How a column is parsed. The first group forms the inference lattice
 * (NULL < BOOL | I32 < I64 < F64 | DATE < TS, TSTZ; everything < STR);
 * the second group only appears for columns whose type the user forced. */
enum {
  GFI_CSV_NULL = 0, /* only nulls seen so far */
  GFI_CSV_BOOL,
  GFI_CSV_I32,
  GFI_CSV_I64,
  GFI_CSV_F64,
  GFI_CSV_DATE,     /* date32 */
  GFI_CSV_TS,       /* timestamp[us], no time zone */
  GFI_CSV_TSTZ,     /* timestamp[us, UTC]: every value had Z or an offset */
  GFI_CSV_STR,      /* utf8 */
  GFI_CSV_INT,      /* forced integer of any width/signedness */
  GFI_CSV_F32,      /* forced float32 */
  GFI_CSV_TSUNIT,   /* forced timestamp of any unit/zone */
  GFI_CSV_DEC       /* forced decimal128(p, s): exact text, rounded to s */
};

/* Largest integer magnitude exactly representable in a float64. */
#define GFI_CSV_EXACT_INT ((int64_t)1 << 53)

/* Least upper bound of two inferred kinds. */
uint8_t gfi_csv_kind_join(uint8_t a, uint8_t b);
/* Applies the exactness rule: a float64 column that also holds an integer
 * beyond 2^53 cannot keep every value exactly, so it becomes a string. */
static inline uint8_t gfi_csv_kind_fix(uint8_t k, bool bigint) {
  return (k == GFI_CSV_F64 && bigint) ? GFI_CSV_STR : k;
}
/* The type of an inferred kind (NULL maps to utf8). */
gf_datatype gfi_csv_kind_type(uint8_t kind);

/* ------------------------------------------------------------------ */
/* Value parsers (csv_infer.c): strict, locale-independent             */
/* ------------------------------------------------------------------ */

enum { GFI_INT_OK = 0, GFI_INT_SYNTAX = 1, GFI_INT_OVERFLOW = 2 };
/* [+-]?[0-9]+ into int64. */
int gfi_csv_parse_int64(const char *p, int64_t n, int64_t *out);
/* [+]?[0-9]+ into uint64. */
int gfi_csv_parse_uint64(const char *p, int64_t n, uint64_t *out);
/* Decimal float ([+-]? digits [. digits] [e [+-] digits]), inf, infinity,
 * nan (any case). Correctly rounded. False on bad syntax or on a finite
 * literal that overflows. */
bool gfi_csv_parse_double(const char *p, int64_t n, double *out);
/* A field of a float64 column: plain integer text ([+-]?[0-9]+) follows
 * the integer rules (beyond +-2^53, or beyond int64, a misfit unless the
 * column's type was forced; "-0" is +0.0), other text gfi_csv_parse_double.
 * GFI_F64_OK with *out set, or GFI_F64_MISFIT. */
enum { GFI_F64_OK = 0, GFI_F64_MISFIT = 1 };
int gfi_csv_parse_f64(const char *p, int64_t n, bool forced, double *out);
/* true/false in any case. */
bool gfi_csv_parse_bool(const char *p, int64_t n, bool *out);
/* YYYY-MM-DD into days since 1970-01-01. */
bool gfi_csv_parse_date(const char *p, int64_t n, int32_t *out);
/* YYYY-MM-DD[T ]HH:MM[:SS[.fffffffff]][Z|+HH[:MM]|-HH[:MM]] into UTC
 * seconds since the epoch plus nanoseconds; *has_tz when an offset was
 * given. A bare date is not a timestamp here. */
bool gfi_csv_parse_timestamp(const char *p, int64_t n, int64_t *secs,
                             int32_t *nanos, bool *has_tz);
/* Converts seconds+nanos to `unit`; false when precision would be lost or
 * the value overflows. */
bool gfi_csv_ts_to_unit(int64_t secs, int32_t nanos, gf_time_unit unit,
                        int64_t *out);
/* Narrowest inferred kind holding the (non-null) text; sets *bigint when
 * it is an integer beyond 2^53 in magnitude. */
uint8_t gfi_csv_classify(const char *p, int64_t n, bool *bigint);

/* ------------------------------------------------------------------ */
/* Null tokens                                                         */
/* ------------------------------------------------------------------ */

typedef struct gfi_csv_nulls {
  const char *const *tok;
  int64_t *len;  /* lengths of tok[] */
  int n;
  bool empty;    /* "" is one of them */
} gfi_csv_nulls;

/* True when the text is one of the null tokens. */
static inline bool gfi_csv_is_null(const gfi_csv_nulls *nl, const char *p,
                                   int64_t n) {
  if (n == 0) return nl->empty;
  /* First byte before memcmp: most values of a token's length (2-digit
   * numbers against "NA") differ there, and the libc call costs more. */
  for (int i = 0; i < nl->n; i++)
    if (nl->len[i] == n && nl->tok[i][0] == p[0] &&
        memcmp(nl->tok[i], p, (size_t)n) == 0)
      return true;
  return false;
}

/* ------------------------------------------------------------------ */
/* Tokenizer (csv_parse.c)                                             */
/* ------------------------------------------------------------------ */

typedef struct gfi_csv_dialect {
  char delim;
  char quote;    /* meaningful when quoting */
  char escape;   /* 0 = none */
  char comment;  /* 0 = none */
  bool quoting;
} gfi_csv_dialect;

/* One field of a row: its content (after removing quotes and escapes),
 * pointing into the input or into the tokenizer's scratch. */
typedef struct gfi_csv_field {
  const char *p;
  int64_t len;
  const char *raw;  /* first byte of the field in the input */
  size_t soff;      /* scratch offset while the row is being read */
  bool quoted;      /* had quotes or escapes: never a null token for strings */
} gfi_csv_field;

enum { GFI_CSV_ROW = 0, GFI_CSV_BLANK = 1, GFI_CSV_COMMENT = 2 };

/* Result of reading one row. */
typedef struct gfi_csv_row {
  int nfields;        /* fields in the row (may exceed the stored ones) */
  int kind;           /* GFI_CSV_ROW, _BLANK (empty line), _COMMENT */
  const char *next;   /* first byte after the row */
  int64_t newlines;   /* '\n' bytes consumed, including the terminator */
  const char *bad;    /* unterminated quote: the opening quote */
} gfi_csv_row;

typedef struct gfi_csv_tokenizer {
  gfi_csv_dialect d;
  uint8_t special[256]; /* bytes that end the fast scan of a field */
  const gf_allocator *alloc;
  char *scratch;
  size_t scap, slen;
} gfi_csv_tokenizer;

void gfi_csv_tokenizer_init(gfi_csv_tokenizer *t, const gfi_csv_dialect *d,
                            const gf_allocator *a);
void gfi_csv_tokenizer_reset(gfi_csv_tokenizer *t);
/* Reads the row starting at pos (< end). Stores up to max_fields fields
 * (fields may be NULL to only find the row's end). GF_EPARSE when a quote is
 * not closed before the end (row->bad set), GF_ENOMEM. */
gf_status gfi_csv_next_row(gfi_csv_tokenizer *t, const char *pos,
                           const char *end, gfi_csv_field *fields,
                           int max_fields, gfi_csv_row *row);

/* True when [p, end) holds only line breaks: trailing blank lines, which a
 * one-column file does not read as null rows. */
static inline bool gfi_csv_blank_tail(const char *p, const char *end) {
  for (; p < end; p++)
    if (*p != '\n' && *p != '\r') return false;
  return true;
}

/* Counts quote characters and newlines in [p, p+n) (SWAR). */
void gfi_csv_count_bytes(const char *p, size_t n, char quote, bool quoting,
                         int64_t *quotes, int64_t *newlines);

/* ------------------------------------------------------------------ */
/* Dialect (csv_dialect.c)                                             */
/* ------------------------------------------------------------------ */

/* Picks the delimiter among , ; \t | that splits the sample [p, end) into
 * the most rows with the same number (> 1) of fields; ',' when none does. */
char gfi_csv_detect_delimiter(const char *p, const char *end,
                              const gfi_csv_dialect *d, const gf_allocator *a);
/* True when the first row looks like a header: at least one field is
 * non-empty, and no non-empty field is a null token, a number, bool, date
 * or timestamp (empty fields are unnamed columns). */
bool gfi_csv_looks_like_header(const gfi_csv_field *f, int n,
                               const gfi_csv_nulls *nl);

/* ------------------------------------------------------------------ */
/* Chunk parsing (csv_parse.c)                                         */
/* ------------------------------------------------------------------ */

/* A selected column. */
typedef struct gfi_csv_colspec {
  int field;          /* index of the field in a row */
  const char *name;
  bool forced;        /* type given by the user: never widened */
  bool force_dict;    /* forced dictionary<utf8> */
  gf_datatype type;   /* forced type */
  uint8_t kind;       /* kind to start every chunk with */
  int64_t avg_len;    /* mean bytes of the sampled values (sizing hint) */
  bool dict;          /* may become dictionary<utf8>: strings are stored as
                         codes into a chunk dictionary while parsing */
} gfi_csv_colspec;

/* Column data of one chunk, filled while parsing. */
typedef struct gfi_csv_colbuf {
  uint8_t kind;
  uint8_t pend;       /* dead: kind discovered for the re-parse */
  bool dead;          /* a value did not fit: stop storing, re-parse later */
  bool bigint;        /* an integer beyond 2^53 was seen */
  bool qnull;         /* a quoted null token was stored as null only because
                         the kind was not yet STR: if the column ends up a
                         string, the chunk must be re-parsed as STR so the
                         field reads as a value, whatever the chunking */
  gf_buffer *values;  /* fixed-width values, bits, or int32 offsets */
  gf_buffer *bytes;   /* string bytes */
  gf_buffer *valid;   /* NULL until the first null */
  uint8_t *vp;        /* cached data of `values` */
  size_t vcap;        /* capacity of `values` in bytes */
  char *bp;
  size_t bcap, blen;
  uint8_t *np;        /* cached data of `valid` */
  size_t ncap;
  int64_t nulls;
  /* Statistics gathered while storing (kinds I32, I64, DATE, TS, TSTZ:
   * min/max value; F64: min/max order key and the first value with it), so
   * the chunk's array needs no second pass over its values. */
  bool sany;
  int64_t smin, smax;
  double fmin, fmax;
  /* String storage mode once the kind is STR: 0 undecided, 1 codes into a
   * chunk dictionary (values = int32 codes, bytes = the distinct values,
   * doffs their offsets, slots a hash table), 2 plain utf8 (values = int32
   * offsets). A chunk leaves mode 1 for 2 when most of its values are
   * distinct. */
  uint8_t smode;
  gf_buffer *doffs;
  uint8_t *dop;
  size_t docap;
  struct gfi_csv_dslot *slots;
  size_t scap;
  int64_t ndistinct;
  const gf_allocator *salloc; /* of `slots` */
} gfi_csv_colbuf;

/* One chunk: whole rows [start, end). */
typedef struct gfi_csv_chunk {
  const char *start, *end;
  int64_t first_line;  /* physical line of `start`, 1-based */
  int64_t rows;
  gfi_csv_colbuf *cols;
  gf_error err;        /* set when status is not GF_OK */
  gf_status status;
} gfi_csv_chunk;

/* What every chunk parse shares (read-only while parsing, except the
 * atomics). */
typedef struct gfi_csv_ctx {
  const char *name;
  const char *data, *end;
  gfi_csv_dialect d;
  gfi_csv_nulls nulls;
  int nfields;
  int ncols;
  gfi_csv_colspec *cols;
  bool bad_to_null;
  int64_t est_row_bytes;
  const gf_cancel *cancel;
  atomic_llong err_chunk;  /* lowest chunk index that failed to parse */
  atomic_bool stop;        /* progress callback asked to cancel */
} gfi_csv_ctx;

/* Parses the chunk's rows. With `mask` NULL every column is stored from
 * scratch with the kinds of ctx->cols; otherwise only the columns with
 * mask[c] set are reset and stored again with their current colbuf kind.
 * Parse errors (file:line:column) go to ch->err and return GF_EPARSE. */
gf_status gfi_csv_parse_chunk(gfi_csv_ctx *ctx, gfi_csv_chunk *ch,
                              int64_t chunk_index, const uint8_t *mask,
                              const gf_allocator *a);
/* Releases a chunk's buffers. */
void gfi_csv_chunk_clear(gfi_csv_chunk *ch, int ncols);
/* Builds the array of column c of a parsed chunk with type `type` (the
 * chunk's buffers move into it). A chunk column of kind NULL becomes an
 * all-null array of that type. A STR column stored as codes (smode 1)
 * becomes a dictionary<utf8> array over the chunk's dictionary instead. */
gf_status gfi_csv_chunk_array(gfi_csv_chunk *ch, int c, uint8_t kind,
                              gf_datatype type, const gf_allocator *a,
                              gf_array **out, gf_error *err);
/* Dictionary-encodes a utf8 array: codes in order of first appearance and
 * the distinct values. *out stays NULL (GF_OK) when more than max_distinct
 * distinct values are found. */
gf_status gfi_csv_dict_encode(const gf_array *s, int64_t max_distinct,
                              const gf_allocator *a, gf_array **out,
                              gf_error *err);
/* Turns a dictionary<utf8> array back into utf8 (a column that did not
 * stay a dictionary). */
gf_status gfi_csv_dict_decode(const gf_array *d, const gf_allocator *a, gf_array **out,
                              gf_error *err);
/* Dictionary decision from a sample (csv_dict_sample.c, rule in
 * docs/CSV_DICTIONARIES.md): reads rows from each [spot[i], spot_end[i])
 * (row starts that do not depend on the chunking) and sets veto[c] for the
 * columns with cols[c].dict (not forced) whose estimated distinct count
 * (Chao1 over the sampled values' hashes) exceeds ratio x the estimated
 * non-null rows in data_bytes; nothing is vetoed when the sample holds
 * every row. veto[] has ncols entries. GF_ENOMEM only. */
gf_status gfi_csv_dict_veto(const gfi_csv_ctx *ctx, const char *const *spot,
                            const char *const *spot_end, int nspots, int64_t data_bytes,
                            double ratio, bool *veto, const gf_allocator *a, gf_error *err);
/* One column's append-only dictionary of utf8 values (csv_gdict.c):
 * values interned in order keep their first code forever. Zero-initialised
 * is empty. */
typedef struct gfi_csv_gdict {
  int32_t n;          /* values */
  int32_t *off;       /* n + 1 offsets */
  int64_t off_cap;
  char *bytes;
  int64_t blen, bcap;
  uint64_t *slots;    /* open addressing: hash tag << 32 | (code + 1), 0 empty */
  int64_t nslots;     /* power of two */
  gf_array *snap;     /* utf8 array of the n values, or NULL (stale) */
} gfi_csv_gdict;
void gfi_csv_gdict_free(const gf_allocator *a, gfi_csv_gdict *d);
gf_status gfi_csv_gdict_intern(const gf_allocator *a, gfi_csv_gdict *d, const char *p,
                               int64_t n, int32_t *code, gf_error *err);
/* map[i] = code of value i of the utf8 array `dict` (NULL: nothing). */
gf_status gfi_csv_gdict_intern_all(const gf_allocator *a, gfi_csv_gdict *d, const gf_array *dict,
                                   int32_t *map, gf_error *err);
/* The values so far as a utf8 array (retained; cached until it grows). */
gf_status gfi_csv_gdict_snapshot(const gf_allocator *a, gfi_csv_gdict *d, gf_array **out,
                                 gf_error *err);
/* Dictionary array w (codes below nd) recoded through map[] over `dict`. */
gf_status gfi_csv_recode(const gf_allocator *a, const gf_array *w, const int32_t *map, int64_t nd,
                         gf_array *dict, gf_array **out, gf_error *err);
/* Formats "NAME:LINE:COL: " for a position inside a chunk: line counted
 * from (row_start, row_line), column in characters from the line start. */
void gfi_csv_error_at(const gfi_csv_ctx *ctx, const char *row_start,
                      int64_t row_line, const char *at, gf_error *err,
                      gf_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;

#endif /* GF_IO_CSV_INTERNAL_H */
