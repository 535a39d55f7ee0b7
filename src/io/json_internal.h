/*
 * Internal interface of the JSON reader (not installed).
 *
 * Pipeline (json_read.c): map the file, cut NDJSON into byte ranges that
 * start at line starts (a JSON array is one range), parse every range in
 * parallel (json_parse.c) straight into per-range typed column buffers,
 * keyed by the range's own key table; then merge the key tables in range
 * order (which is first-appearance order in the file), join the kinds of
 * every range into each column's final kind, re-parse the few ranges whose
 * buffers do not hold that kind, build one batch per range and
 * dictionary-encode low-cardinality strings (one dictionary per column,
 * merged in batch order).
 *
 * Kinds are the CSV reader's lattice (csv_internal.h): NULL < BOOL | I64 <
 * F64, DATE < TS, TSTZ; anything else joins to STR. JSON strings are STR,
 * or DATE/TS/TSTZ when they are ISO 8601 dates/timestamps; JSON numbers
 * I64 or F64; a STR column keeps numbers and booleans as their JSON text.
 */
#ifndef GF_IO_JSON_INTERNAL_H
#define GF_IO_JSON_INTERNAL_H

#include <stdatomic.h>

#include "core/core_internal.h"
#include "io/csv_internal.h"

/* A growable unshared gf_buffer with a cached write pointer. */
typedef struct gfi_jbuf {
  gf_buffer *b; /* NULL until the first reserve */
  uint8_t *p;
  size_t len, cap;
} gfi_jbuf;

/* One key of a range: where its values go while parsing. */
typedef struct gfi_json_col {
  char *name;       /* the decoded key, NUL-terminated, owned */
  size_t name_len;
  uint32_t hash;
  bool plain;       /* no '"', '\\' or control bytes: the raw key equals the name */
  int global;       /* column of the frame (set by the merge), -1 = dropped */
  bool active;      /* store values (selected) */
  bool redo;        /* re-parse: store again with `forced` */
  uint8_t forced;   /* 0 = infer, else the kind every value converts to */
  bool user_forced; /* forced by column_types: a misfit is an error */
  uint8_t kind;     /* kind of the stored values */
  bool dead;        /* a value did not fit: nothing stored, see pend */
  uint8_t pend;     /* join of all value kinds while dead */
  bool bigint;      /* an integer beyond 2^53 in magnitude was seen */
  int64_t last_row; /* last record holding this key (duplicate check) */
  int64_t n;        /* rows stored (values or nulls) */
  int64_t nulls;
  gfi_jbuf vals;    /* 8-byte slots, or int32 offsets (n + 1) for STR */
  gfi_jbuf bytes;   /* string bytes of STR */
  gfi_jbuf valid;   /* one byte per row; empty until the first null */
  bool has_valid;
} gfi_json_col;

/* One byte range of the input and what parsing it produced. */
typedef struct gfi_json_chunk {
  const char *start, *end;
  /* JSON array ranges: `first` holds the '[', `last` the ']'. A range
   * other than the last starts at a '{' that looks like the start of an
   * object and ends where the next range starts; it stops at the first
   * object boundary at or past `end` (actual_end), which the driver checks
   * is exactly the next range's start (else the guess was inside a string
   * and the array is parsed again as one range). */
  bool first, last;
  bool closed;            /* the ']' was met */
  const char *actual_end;
  int64_t rows;
  gfi_json_col *cols;
  int ncols, capcols;
  int32_t *slots;   /* open-addressing table of column index + 1 */
  size_t nslots;
  int *pred;        /* column of the k-th key of the previous record */
  int npred, cappred;
  char *scratch;    /* decoded strings with escapes */
  size_t scap;
  const gf_allocator *alloc;
  gf_status status; /* GF_OK, or the error at err_at with message err */
  const char *err_at;
  gf_error err;
} gfi_json_chunk;

/* A key the caller named (selection or type override). */
typedef struct gfi_json_want {
  const char *name;
  size_t len;
  bool selected;
  uint8_t kind;     /* 0 = infer */
} gfi_json_want;

/* What every range parse shares (read-only while parsing, but err_chunk). */
typedef struct gfi_json_ctx {
  const char *name;
  const char *data, *end;
  bool array;               /* the input is one JSON array */
  bool select_all;          /* no `columns` option */
  const gfi_json_want *want;
  int nwant;
  atomic_llong err_chunk;   /* lowest range index that failed */
} gfi_json_ctx;

/* Parses the range's records. First pass (`reparse` false): creates the
 * range's keys and stores every active column. Re-parse: stores only the
 * columns marked redo (reset by the caller, with forced = their final
 * kind). Errors go to ch->status/err/err_at (the message without its
 * location); the return value is ch->status. */
gf_status gfi_json_parse_chunk(const gfi_json_ctx *ctx, gfi_json_chunk *ch,
                               bool reparse);
/* Frees the buffers of one column (the name is kept). */
void gfi_json_col_reset(gfi_json_chunk *ch, gfi_json_col *c);
/* Frees everything a range owns. */
void gfi_json_chunk_clear(gfi_json_chunk *ch);
/* Builds the array of a parsed column holding `rows` rows with its final
 * kind `kind` (c may be NULL: an all-null array). The buffers move into it. */
gf_status gfi_json_col_array(gfi_json_chunk *ch, gfi_json_col *c, int64_t rows,
                             uint8_t kind, const gf_allocator *a, gf_array **out,
                             gf_error *err);

#endif /* GF_IO_JSON_INTERNAL_H */
