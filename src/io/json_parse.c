/*
 * The JSON reader's scanner (json_internal.h): one pass over a byte range
 * that checks the JSON grammar (RFC 8259) and stores every value straight
 * into its column's typed buffer. Keys are found through the previous
 * record's key order first (records of one file almost always repeat it),
 * then a hash table. Strings are validated as UTF-8 and their escapes
 * (\uXXXX surrogate pairs included) decoded; a lone surrogate is an error,
 * as UTF-8 cannot hold it.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "data/array_internal.h"
#include "io/json_internal.h"

/* ---- errors ----------------------------------------------------------- */

/* Records an error at `at` (message without location) and returns it. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static gf_status fail(gfi_json_chunk *ch, const char *at, gf_status code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ch->err.message, sizeof ch->err.message, fmt, ap);
  va_end(ap);
  ch->err.code = code;
  ch->err_at = at;
  ch->status = code;
  return code;
}

/* A short printable excerpt of a key for messages. */
static const char *key_text(const gfi_json_col *c) { return c->name; }

/* ---- buffers ------------------------------------------------------------ */

/* Room for `extra` more bytes in b. */
static gf_status jbuf_grow(gfi_json_chunk *ch, gfi_jbuf *b, size_t extra) {
  size_t need = b->len + extra;
  if (need < b->len) return fail(ch, NULL, GF_ENOMEM, "out of memory: JSON column too large");
  if (!b->b) {
    size_t cap = need < 256 ? 256 : need;
    if (gfi_buffer_alloc(ch->alloc, cap, &b->b) != GF_OK)
      return fail(ch, NULL, GF_ENOMEM, "out of memory allocating a JSON column (%zu bytes)", cap);
  } else {
    size_t cap = b->cap * 2 > need ? b->cap * 2 : need;
    if (gfi_buffer_resize(b->b, cap) != GF_OK)
      return fail(ch, NULL, GF_ENOMEM, "out of memory allocating a JSON column (%zu bytes)", cap);
  }
  b->cap = gfi_buffer_capacity(b->b);
  gfi_buffer_set_size(b->b, b->cap);
  b->p = gf_buffer_mutable_data(b->b);
  return GF_OK;
}

static inline gf_status jbuf_reserve(gfi_json_chunk *ch, gfi_jbuf *b, size_t extra) {
  return b->cap - b->len >= extra ? GF_OK : jbuf_grow(ch, b, extra);
}

static void jbuf_free(gfi_jbuf *b) {
  gf_buffer_release(b->b);
  memset(b, 0, sizeof *b);
}

/* Frees a column's buffers; it holds nothing afterwards. */
void gfi_json_col_reset(gfi_json_chunk *ch, gfi_json_col *c) {
  (void)ch;
  jbuf_free(&c->vals);
  jbuf_free(&c->bytes);
  jbuf_free(&c->valid);
  c->has_valid = false;
  c->n = 0;
  c->nulls = 0;
  c->kind = GFI_CSV_NULL;
  c->dead = false;
  c->pend = GFI_CSV_NULL;
}

/* Frees everything the range owns. */
void gfi_json_chunk_clear(gfi_json_chunk *ch) {
  const gf_allocator *a = ch->alloc;
  for (int i = 0; i < ch->ncols; i++) {
    gfi_json_col_reset(ch, &ch->cols[i]);
    gfi_mfree(a, ch->cols[i].name, ch->cols[i].name_len + 1);
  }
  gfi_mfree(a, ch->cols, sizeof *ch->cols * (size_t)ch->capcols);
  gfi_mfree(a, ch->slots, sizeof *ch->slots * ch->nslots);
  gfi_mfree(a, ch->pred, sizeof *ch->pred * (size_t)ch->cappred);
  gfi_mfree(a, ch->scratch, ch->scap);
  ch->cols = NULL;
  ch->slots = NULL;
  ch->pred = NULL;
  ch->scratch = NULL;
  ch->ncols = ch->capcols = ch->npred = ch->cappred = 0;
  ch->nslots = ch->scap = 0;
}

/* ---- values into columns ------------------------------------------------ */

/* A scanned value. */
typedef struct jval {
  uint8_t kind;     /* NULL, BOOL, I64, F64, or STR (before date detection) */
  bool bigint;
  bool b;
  int64_t i;
  double d;
  const char *raw;  /* the JSON text of the value (numbers, literals) */
  size_t rawlen;
  const char *s;    /* decoded string content */
  size_t slen;
} jval;

/* Turns a column of kind NULL holding n nulls into kind k's layout. */
static gf_status materialize(gfi_json_chunk *ch, gfi_json_col *c, uint8_t k) {
  c->kind = k;
  if (k == GFI_CSV_STR) {
    GF_RETURN_NOT_OK(jbuf_reserve(ch, &c->vals, (size_t)(c->n + 1) * 4));
    memset(c->vals.p, 0, (size_t)(c->n + 1) * 4);
    c->vals.len = (size_t)(c->n + 1) * 4;
  } else if (c->n > 0) {
    GF_RETURN_NOT_OK(jbuf_reserve(ch, &c->vals, (size_t)c->n * 8));
    memset(c->vals.p, 0, (size_t)c->n * 8);
    c->vals.len = (size_t)c->n * 8;
  }
  if (c->n > 0) {
    GF_RETURN_NOT_OK(jbuf_reserve(ch, &c->valid, (size_t)c->n));
    memset(c->valid.p, 0, (size_t)c->n);
    c->valid.len = (size_t)c->n;
    c->has_valid = true;
  }
  return GF_OK;
}

/* Appends a validity byte when the column tracks them. */
static inline gf_status put_valid(gfi_json_chunk *ch, gfi_json_col *c, uint8_t v) {
  if (!c->has_valid) {
    if (v) return GF_OK;
    GF_RETURN_NOT_OK(jbuf_reserve(ch, &c->valid, (size_t)c->n + 1));
    memset(c->valid.p, 1, (size_t)c->n);
    c->valid.len = (size_t)c->n;
    c->has_valid = true;
  }
  GF_RETURN_NOT_OK(jbuf_reserve(ch, &c->valid, 1));
  c->valid.p[c->valid.len++] = v;
  return GF_OK;
}

/* Appends a null to a stored column. */
static gf_status put_null(gfi_json_chunk *ch, gfi_json_col *c) {
  if (c->kind != GFI_CSV_NULL) {
    GF_RETURN_NOT_OK(put_valid(ch, c, 0));
    if (c->kind == GFI_CSV_STR) {
      GF_RETURN_NOT_OK(jbuf_reserve(ch, &c->vals, 4));
      memcpy(c->vals.p + c->vals.len, c->vals.p + c->vals.len - 4, 4);
      c->vals.len += 4;
    } else {
      GF_RETURN_NOT_OK(jbuf_reserve(ch, &c->vals, 8));
      memset(c->vals.p + c->vals.len, 0, 8);
      c->vals.len += 8;
    }
  }
  c->n++;
  c->nulls++;
  return GF_OK;
}

/* Appends an 8-byte slot. */
static inline gf_status put_slot(gfi_json_chunk *ch, gfi_json_col *c, const void *v) {
  GF_RETURN_NOT_OK(jbuf_reserve(ch, &c->vals, 8));
  memcpy(c->vals.p + c->vals.len, v, 8);
  c->vals.len += 8;
  GF_RETURN_NOT_OK(put_valid(ch, c, 1));
  c->n++;
  return GF_OK;
}

/* Appends a string to a STR column. */
static gf_status put_str(gfi_json_chunk *ch, gfi_json_col *c, const char *s, size_t n) {
  if (c->bytes.len + n > (size_t)INT32_MAX)
    return fail(ch, NULL, GF_ENOMEM, "key '%s': more than 2 GiB of strings in one chunk",
                key_text(c));
  GF_RETURN_NOT_OK(jbuf_reserve(ch, &c->bytes, n));
  if (n) memcpy(c->bytes.p + c->bytes.len, s, n);
  c->bytes.len += n;
  GF_RETURN_NOT_OK(jbuf_reserve(ch, &c->vals, 4));
  int32_t off = (int32_t)c->bytes.len;
  memcpy(c->vals.p + c->vals.len, &off, 4);
  c->vals.len += 4;
  GF_RETURN_NOT_OK(put_valid(ch, c, 1));
  c->n++;
  return GF_OK;
}

/* Kind of a string value: DATE, TS or TSTZ for ISO 8601 text, else STR;
 * the parsed value goes to *v (days or microseconds). */
static uint8_t string_kind(const char *s, size_t n, int64_t *v) {
  if (n < 10 || n > 40 || s[0] < '0' || s[0] > '9') return GFI_CSV_STR;
  if (n == 10) {
    int32_t day;
    if (gfi_csv_parse_date(s, (int64_t)n, &day)) {
      *v = day;
      return GFI_CSV_DATE;
    }
    return GFI_CSV_STR;
  }
  int64_t secs;
  int32_t ns;
  bool tz;
  if (!gfi_csv_parse_timestamp(s, (int64_t)n, &secs, &ns, &tz)) return GFI_CSV_STR;
  if (!gfi_csv_ts_to_unit(secs, ns, GF_UNIT_MICRO, v)) return GFI_CSV_STR;
  return tz ? GFI_CSV_TSTZ : GFI_CSV_TS;
}

/* The type name of a kind, for messages. */
static const char *kind_name(uint8_t k) {
  switch (k) {
    case GFI_CSV_BOOL: return "bool";
    case GFI_CSV_I64: return "int64";
    case GFI_CSV_F64: return "float64";
    case GFI_CSV_DATE: return "date32";
    case GFI_CSV_TS: return "timestamp[us]";
    case GFI_CSV_TSTZ: return "timestamp[us, UTC]";
    case GFI_CSV_STR: return "utf8";
    default: return "null";
  }
}

/* Stores v converted to the column's forced kind; a value that does not
 * convert is an error at `at` (only possible for user-forced columns). */
static gf_status store_forced(gfi_json_chunk *ch, gfi_json_col *c, const jval *v, const char *at) {
  if (v->kind == GFI_CSV_NULL) return put_null(ch, c);
  uint8_t k = c->forced;
  if (c->kind == GFI_CSV_NULL && k != GFI_CSV_NULL) GF_RETURN_NOT_OK(materialize(ch, c, k));
  switch (k) {
    case GFI_CSV_STR:
      if (v->kind == GFI_CSV_STR) return put_str(ch, c, v->s, v->slen);
      return put_str(ch, c, v->raw, v->rawlen); /* numbers, booleans: their JSON text */
    case GFI_CSV_BOOL:
      if (v->kind == GFI_CSV_BOOL) {
        int64_t x = v->b;
        return put_slot(ch, c, &x);
      }
      break;
    case GFI_CSV_I64:
      if (v->kind == GFI_CSV_I64) return put_slot(ch, c, &v->i);
      break;
    case GFI_CSV_F64:
      if (v->kind == GFI_CSV_I64) {
        double d = (double)v->i;
        return put_slot(ch, c, &d);
      }
      if (v->kind == GFI_CSV_F64) return put_slot(ch, c, &v->d);
      break;
    case GFI_CSV_DATE:
    case GFI_CSV_TS:
    case GFI_CSV_TSTZ:
      if (v->kind == GFI_CSV_STR) {
        int64_t x = 0;
        uint8_t sk = string_kind(v->s, v->slen, &x);
        if (sk == k) return put_slot(ch, c, &x);
        if (sk == GFI_CSV_DATE && k == GFI_CSV_TS) {
          x *= INT64_C(86400000000);
          return put_slot(ch, c, &x);
        }
      }
      break;
    default: break;
  }
  return fail(ch, at, GF_EPARSE, "key '%s': value %.*s is not a %s%s", key_text(c),
              (int)(v->rawlen > 40 ? 40 : v->rawlen), v->raw, kind_name(k),
              c->user_forced ? " (the type column_types gives)" : "");
}

/* Stores v in an inferring column, widening it when the value needs. */
static gf_status store(gfi_json_chunk *ch, gfi_json_col *c, const jval *v, const char *at) {
  if (c->forced) return store_forced(ch, c, v, at);
  if (v->kind == GFI_CSV_NULL) {
    if (c->dead) {
      c->n++;
      c->nulls++;
      return GF_OK;
    }
    return put_null(ch, c);
  }
  if (v->bigint) c->bigint = true;
  uint8_t vk = v->kind;
  int64_t sv = 0;
  if (vk == GFI_CSV_STR && c->kind != GFI_CSV_STR) vk = string_kind(v->s, v->slen, &sv);
  if (c->dead) {
    c->pend = gfi_csv_kind_join(c->pend, vk);
    c->n++;
    return GF_OK;
  }
  if (c->kind == GFI_CSV_NULL) GF_RETURN_NOT_OK(materialize(ch, c, vk));
  if (c->kind == vk) {
    switch (vk) {
      case GFI_CSV_STR: return put_str(ch, c, v->s, v->slen);
      case GFI_CSV_I64: return put_slot(ch, c, &v->i);
      case GFI_CSV_F64: return put_slot(ch, c, &v->d);
      case GFI_CSV_BOOL: {
        int64_t x = v->b;
        return put_slot(ch, c, &x);
      }
      default: return put_slot(ch, c, &sv); /* DATE, TS, TSTZ */
    }
  }
  if (c->kind == GFI_CSV_F64 && vk == GFI_CSV_I64) {
    double d = (double)v->i;
    return put_slot(ch, c, &d);
  }
  if (c->kind == GFI_CSV_I64 && vk == GFI_CSV_F64) {
    /* Exact for |v| <= 2^53; larger ones set bigint, which turns a
     * float64 column into utf8 (re-parsed from the text). */
    int64_t *p = (int64_t *)(void *)c->vals.p;
    int64_t n = (int64_t)(c->vals.len / 8);
    for (int64_t i = 0; i < n; i++) {
      double d = (double)p[i];
      memcpy(&p[i], &d, 8);
    }
    c->kind = GFI_CSV_F64;
    return put_slot(ch, c, &v->d);
  }
  /* Anything else needs the values' text again: stop storing. */
  uint8_t pend = gfi_csv_kind_join(c->kind, vk);
  int64_t n = c->n, nulls = c->nulls;
  gfi_json_col_reset(ch, c);
  c->dead = true;
  c->pend = pend;
  c->n = n + 1;
  c->nulls = nulls;
  return GF_OK;
}

/* ---- keys --------------------------------------------------------------- */

static inline uint32_t hash_bytes(const char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
  return h;
}

/* Inserts column index ci into the hash table (grown as needed). */
static gf_status slot_insert(gfi_json_chunk *ch, int ci) {
  if ((size_t)(ch->ncols + 1) * 2 > ch->nslots) {
    size_t ns = ch->nslots ? ch->nslots * 2 : 64;
    while ((size_t)(ch->ncols + 1) * 2 > ns) ns *= 2;
    int32_t *s = gfi_calloc(ch->alloc, sizeof *s * ns);
    if (!s) return fail(ch, NULL, GF_ENOMEM, "out of memory allocating JSON keys");
    gfi_mfree(ch->alloc, ch->slots, sizeof *ch->slots * ch->nslots);
    ch->slots = s;
    ch->nslots = ns;
    for (int i = 0; i < ch->ncols; i++) {
      if (i == ci) continue;
      size_t j = ch->cols[i].hash & (ns - 1);
      while (s[j]) j = (j + 1) & (ns - 1);
      s[j] = i + 1;
    }
  }
  size_t j = ch->cols[ci].hash & (ch->nslots - 1);
  while (ch->slots[j]) j = (j + 1) & (ch->nslots - 1);
  ch->slots[j] = ci + 1;
  return GF_OK;
}

/* The column for key k[0, n) (decoded; `at` is the key in the input, for
 * messages): an existing one, or a new one (first pass only); -1 with an
 * error recorded on failure. */
static int find_col(gfi_json_chunk *ch, const gfi_json_ctx *ctx, const char *k, size_t n,
                    bool create, const char *at) {
  uint32_t h = hash_bytes(k, n);
  if (ch->nslots) {
    size_t j = h & (ch->nslots - 1);
    while (ch->slots[j]) {
      const gfi_json_col *c = &ch->cols[ch->slots[j] - 1];
      if (c->hash == h && c->name_len == n && memcmp(c->name, k, n) == 0) return ch->slots[j] - 1;
      j = (j + 1) & (ch->nslots - 1);
    }
  }
  if (!create) {
    fail(ch, at, GF_EINTERNAL, "JSON re-parse met a new key");
    return -1;
  }
  if (n == 0 || memchr(k, 0, n)) {
    fail(ch, at, GF_EPARSE, n ? "a key holding \\u0000 cannot name a column"
                              : "an empty key cannot name a column");
    return -1;
  }
  if (ch->ncols == ch->capcols) {
    int nc = ch->capcols ? ch->capcols * 2 : 16;
    gfi_json_col *cols = gfi_calloc(ch->alloc, sizeof *cols * (size_t)nc);
    if (!cols) {
      fail(ch, NULL, GF_ENOMEM, "out of memory allocating JSON keys");
      return -1;
    }
    if (ch->ncols) memcpy(cols, ch->cols, sizeof *cols * (size_t)ch->ncols);
    gfi_mfree(ch->alloc, ch->cols, sizeof *ch->cols * (size_t)ch->capcols);
    ch->cols = cols;
    ch->capcols = nc;
  }
  gfi_json_col *c = &ch->cols[ch->ncols];
  memset(c, 0, sizeof *c);
  c->name = gfi_malloc(ch->alloc, n + 1);
  if (!c->name) {
    fail(ch, NULL, GF_ENOMEM, "out of memory allocating JSON keys");
    return -1;
  }
  memcpy(c->name, k, n);
  c->name[n] = 0;
  c->name_len = n;
  c->hash = h;
  c->plain = true;
  for (size_t i = 0; i < n; i++)
    if ((uint8_t)k[i] < 0x20 || k[i] == '"' || k[i] == '\\') c->plain = false;
  c->global = -1;
  c->last_row = -1;
  c->active = ctx->select_all;
  for (int w = 0; w < ctx->nwant; w++) {
    const gfi_json_want *wt = &ctx->want[w];
    if (wt->len != n || memcmp(wt->name, k, n) != 0) continue;
    if (wt->selected) c->active = true;
    if (wt->kind) {
      c->forced = wt->kind;
      c->user_forced = true;
    }
  }
  ch->ncols++;
  if (slot_insert(ch, ch->ncols - 1) != GF_OK) {
    ch->ncols--;
    gfi_mfree(ch->alloc, c->name, n + 1);
    return -1;
  }
  return ch->ncols - 1;
}

/* ---- the scanner -------------------------------------------------------- */

/* 1 for the bytes that end the fast scan of a string: '"', '\\', control
 * characters (below 0x20) and non-ASCII bytes (>= 0x80). */
static const uint8_t string_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* True when one of the 8 bytes at p may end a string's fast scan ('"',
 * '\\', a control byte, non-ASCII). May say true for a harmless byte that
 * follows a special one (borrows), never false for a special byte. */
static inline bool swar_special(const char *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
  uint64_t zero_q = (q - ones) & ~q, zero_b = (b - ones) & ~b;
  uint64_t ctl = x - ones * 0x20; /* high bit set for bytes < 0x20 (or >= 0xa0 wrap) */
  return ((zero_q | zero_b | ctl | x) & high) != 0;
}

/* Byte equality of short keys without a libc call. */
static inline bool key_eq(const char *a, const char *b, size_t n) {
  while (n >= 8) {
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    if (x != y) return false;
    a += 8;
    b += 8;
    n -= 8;
  }
  while (n--)
    if (*a++ != *b++) return false;
  return true;
}

typedef struct scan {
  const gfi_json_ctx *ctx;
  gfi_json_chunk *ch;
  const char *end;
  bool nl_ok;   /* newlines allowed inside a record (JSON array) */
} scan;

/* Skips whitespace inside a record; returns the next byte's position. */
static inline const char *skip_ws(const scan *s, const char *p) {
  while (p < s->end) {
    char c = *p;
    if (c == ' ' || c == '\t' || c == '\r' || (c == '\n' && s->nl_ok))
      p++;
    else
      break;
  }
  return p;
}

/* Value of hex digit c, or -1. */
static inline int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Reads 4 hex digits at p (p + 4 <= end checked by the caller). */
static inline int hex4(const char *p) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/* Scans the string whose opening quote is at p: validates it and sets
 * *close to its closing quote and *esc when it has escapes. */
static gf_status scan_string(const scan *s, const char *p, const char **close, bool *esc) {
  const char *q = p + 1;
  *esc = false;
  for (;;) {
    while (s->end - q >= 8 && !swar_special(q)) q += 8;
    while (q < s->end && !string_stop[(uint8_t)*q]) q++;
    if (q >= s->end)
      return fail(s->ch, p, GF_EPARSE, "string not closed before the end of the %s",
                  s->nl_ok ? "input" : "chunk");
    uint8_t c = (uint8_t)*q;
    if (c == '"') break;
    if (c == '\\') {
      *esc = true;
      if (q + 1 >= s->end) return fail(s->ch, q, GF_EPARSE, "unfinished escape in a string");
      char e = q[1];
      if (e == 'u') {
        if (q + 6 > s->end) return fail(s->ch, q, GF_EPARSE, "unfinished \\u escape");
        int u = hex4(q + 2);
        if (u < 0) return fail(s->ch, q, GF_EPARSE, "\\u needs 4 hex digits");
        if (u >= 0xDC00 && u <= 0xDFFF)
          return fail(s->ch, q, GF_EPARSE, "lone low surrogate \\u%04X (not valid in UTF-8)", u);
        if (u >= 0xD800 && u <= 0xDBFF) {
          int l = (q + 12 <= s->end && q[6] == '\\' && q[7] == 'u') ? hex4(q + 8) : -1;
          if (l < 0xDC00 || l > 0xDFFF)
            return fail(s->ch, q, GF_EPARSE,
                        "high surrogate \\u%04X not followed by a low surrogate \\uDC00-\\uDFFF",
                        u);
          q += 12;
        } else {
          q += 6;
        }
        continue;
      }
      if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
          e != 't')
        return fail(s->ch, q, GF_EPARSE, "invalid escape \\%c in a string",
                    (e >= 0x20 && e < 0x7f) ? e : '?');
      q += 2;
      continue;
    }
    if (c < 0x20)
      return fail(s->ch, q, GF_EPARSE,
                  c == '\n' ? "line break inside a string (write it as \\n)"
                            : "control character 0x%02X inside a string (escape it as \\u00XX)",
                  c);
    /* Non-ASCII: one UTF-8 sequence. */
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (q + len > s->end || gfi_utf8_error_at((const uint8_t *)q, len) >= 0)
      return fail(s->ch, q, GF_EPARSE, "invalid UTF-8 (byte 0x%02X)", c);
    q += len;
  }
  *close = q;
  return GF_OK;
}

/* Appends a code point as UTF-8 at o; returns the new end. */
static char *put_utf8(char *o, uint32_t u) {
  if (u < 0x80) {
    *o++ = (char)u;
  } else if (u < 0x800) {
    *o++ = (char)(0xC0 | (u >> 6));
    *o++ = (char)(0x80 | (u & 0x3F));
  } else if (u < 0x10000) {
    *o++ = (char)(0xE0 | (u >> 12));
    *o++ = (char)(0x80 | ((u >> 6) & 0x3F));
    *o++ = (char)(0x80 | (u & 0x3F));
  } else {
    *o++ = (char)(0xF0 | (u >> 18));
    *o++ = (char)(0x80 | ((u >> 12) & 0x3F));
    *o++ = (char)(0x80 | ((u >> 6) & 0x3F));
    *o++ = (char)(0x80 | (u & 0x3F));
  }
  return o;
}

/* Decodes the validated string body [p, q) (with escapes) into the
 * range's scratch; *out and *n receive the text. */
static gf_status decode_string(gfi_json_chunk *ch, const char *p, const char *q,
                               const char **out, size_t *n) {
  size_t need = (size_t)(q - p) + 1; /* decoding never grows the text */
  if (need > ch->scap) {
    size_t cap = need < 256 ? 256 : need * 2;
    char *s = gfi_malloc(ch->alloc, cap);
    if (!s) return fail(ch, NULL, GF_ENOMEM, "out of memory decoding a JSON string");
    gfi_mfree(ch->alloc, ch->scratch, ch->scap);
    ch->scratch = s;
    ch->scap = cap;
  }
  char *o = ch->scratch;
  while (p < q) {
    if (*p != '\\') {
      *o++ = *p++;
      continue;
    }
    char e = p[1];
    p += 2;
    switch (e) {
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        uint32_t u = (uint32_t)hex4(p);
        p += 4;
        if (u >= 0xD800 && u <= 0xDBFF) {
          uint32_t l = (uint32_t)hex4(p + 2);
          p += 6;
          u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
        }
        o = put_utf8(o, u);
        break;
      }
      default: *o++ = e; break; /* " \ / */
    }
  }
  *out = ch->scratch;
  *n = (size_t)(o - ch->scratch);
  return GF_OK;
}

/* Scans a number at p (JSON grammar) into v; *next after it. */
static gf_status scan_number(const scan *s, const char *p, jval *v, const char **next) {
  const char *q = p, *e = s->end;
  if (q < e && *q == '-') q++;
  if (q >= e || *q < '0' || *q > '9') return fail(s->ch, p, GF_EPARSE, "invalid number");
  if (*q == '0') {
    q++;
    if (q < e && *q >= '0' && *q <= '9')
      return fail(s->ch, p, GF_EPARSE, "number with a leading zero");
  } else {
    while (q < e && *q >= '0' && *q <= '9') q++;
  }
  bool is_int = true;
  if (q < e && *q == '.') {
    is_int = false;
    q++;
    if (q >= e || *q < '0' || *q > '9')
      return fail(s->ch, p, GF_EPARSE, "number needs a digit after '.'");
    while (q < e && *q >= '0' && *q <= '9') q++;
  }
  if (q < e && (*q == 'e' || *q == 'E')) {
    is_int = false;
    q++;
    if (q < e && (*q == '+' || *q == '-')) q++;
    if (q >= e || *q < '0' || *q > '9')
      return fail(s->ch, p, GF_EPARSE, "number needs digits in its exponent");
    while (q < e && *q >= '0' && *q <= '9') q++;
  }
  v->raw = p;
  v->rawlen = (size_t)(q - p);
  v->bigint = false;
  *next = q;
  if (is_int) {
    const char *d = p + (*p == '-');
    size_t nd = (size_t)(q - d);
    if (nd <= 18) {
      int64_t x = 0;
      for (size_t i = 0; i < nd; i++) x = x * 10 + (d[i] - '0');
      v->i = *p == '-' ? -x : x;
      v->kind = GFI_CSV_I64;
      v->bigint = x > GFI_CSV_EXACT_INT;
      return GF_OK;
    }
    if (gfi_csv_parse_int64(p, (int64_t)v->rawlen, &v->i) == GFI_INT_OK) {
      v->kind = GFI_CSV_I64;
      v->bigint = v->i > GFI_CSV_EXACT_INT || v->i < -GFI_CSV_EXACT_INT;
      return GF_OK;
    }
    v->bigint = true; /* beyond int64: a float64 that cannot hold it exactly */
  }
  if (!gfi_csv_parse_double(p, (int64_t)v->rawlen, &v->d) || !isfinite(v->d))
    return fail(s->ch, p, GF_EPARSE, "number %.*s is out of the float64 range",
                (int)(v->rawlen > 40 ? 40 : v->rawlen), p);
  v->kind = GFI_CSV_F64;
  return GF_OK;
}

/* Scans one value at p into v (nested values refused); *next after it. */
static gf_status scan_value(const scan *s, const char *p, const char *key, jval *v,
                            const char **next) {
  if (p >= s->end) return fail(s->ch, p, GF_EPARSE, "value expected after \"%s\":", key);
  char c = *p;
  if (c == '"') {
    const char *close;
    bool esc;
    GF_RETURN_NOT_OK(scan_string(s, p, &close, &esc));
    v->kind = GFI_CSV_STR;
    v->bigint = false;
    v->raw = p;
    v->rawlen = (size_t)(close + 1 - p);
    if (esc) {
      GF_RETURN_NOT_OK(decode_string(s->ch, p + 1, close, &v->s, &v->slen));
    } else {
      v->s = p + 1;
      v->slen = (size_t)(close - p - 1);
    }
    *next = close + 1;
    return GF_OK;
  }
  if (c == '-' || (c >= '0' && c <= '9')) return scan_number(s, p, v, next);
  size_t room = (size_t)(s->end - p);
  v->raw = p;
  v->bigint = false;
  if (c == 't' && room >= 4 && memcmp(p, "true", 4) == 0) {
    v->kind = GFI_CSV_BOOL;
    v->b = true;
    v->rawlen = 4;
  } else if (c == 'f' && room >= 5 && memcmp(p, "false", 5) == 0) {
    v->kind = GFI_CSV_BOOL;
    v->b = false;
    v->rawlen = 5;
  } else if (c == 'n' && room >= 4 && memcmp(p, "null", 4) == 0) {
    v->kind = GFI_CSV_NULL;
    v->rawlen = 4;
  } else if (c == '{' || c == '[') {
    return fail(s->ch, p, GF_ENOTSUP,
                "key '%s' holds a nested %s, which is not supported: only flat objects "
                "of strings, numbers, booleans and nulls can be read (flatten it first, "
                "e.g. with jq)",
                key, c == '{' ? "object" : "array");
  } else {
    return fail(s->ch, p, GF_EPARSE, "invalid value after \"%s\": (expected a string, number, "
                "true, false or null)", key);
  }
  *next = p + v->rawlen;
  return GF_OK;
}

/* Ensures room for k + 1 entries in the key-order prediction. */
static gf_status pred_room(gfi_json_chunk *ch, int k) {
  if (k < ch->cappred) return GF_OK;
  int nc = ch->cappred ? ch->cappred * 2 : 16;
  while (nc <= k) nc *= 2;
  int *p = gfi_malloc(ch->alloc, sizeof *p * (size_t)nc);
  if (!p) return fail(ch, NULL, GF_ENOMEM, "out of memory allocating JSON keys");
  for (int i = 0; i < nc; i++) p[i] = i < ch->cappred ? ch->pred[i] : -1;
  gfi_mfree(ch->alloc, ch->pred, sizeof *ch->pred * (size_t)ch->cappred);
  ch->pred = p;
  ch->cappred = nc;
  return GF_OK;
}

/* Parses the object at p ('{'), record number `row` of the range. */
static gf_status parse_object(const scan *s, const char *p, int64_t row, bool reparse,
                              const char **next) {
  gfi_json_chunk *ch = s->ch;
  p = skip_ws(s, p + 1);
  if (p < s->end && *p == '}') {
    *next = p + 1;
    return GF_OK;
  }
  for (int k = 0;; k++) {
    if (p >= s->end || *p != '"') {
      if (p < s->end && *p == '\n' && !s->nl_ok)
        return fail(ch, p, GF_EPARSE, "line ends inside an object: NDJSON needs one object "
                    "per line (read a pretty-printed file as a JSON array)");
      return fail(ch, p, GF_EPARSE, "expected a key (a string in double quotes)");
    }
    const char *close = NULL, *key_at = p;
    GF_RETURN_NOT_OK(pred_room(ch, k));
    int ci = ch->pred[k];
    if (ci >= 0) {
      /* Fast path: the key the previous record had here, compared raw
       * (its name has nothing an escape or the closing quote could hide). */
      const gfi_json_col *pc = &ch->cols[ci];
      size_t n = pc->name_len;
      if (pc->plain && (size_t)(s->end - p) > n + 1 && p[n + 1] == '"' &&
          key_eq(p + 1, pc->name, n))
        close = p + n + 1;
    }
    if (!close) {
      bool esc;
      GF_RETURN_NOT_OK(scan_string(s, p, &close, &esc));
      const char *kp = p + 1;
      size_t kn = (size_t)(close - kp);
      if (esc) GF_RETURN_NOT_OK(decode_string(ch, kp, close, &kp, &kn));
      if (ci < 0 || ch->cols[ci].name_len != kn || !key_eq(ch->cols[ci].name, kp, kn)) {
        ci = find_col(ch, s->ctx, kp, kn, !reparse, key_at);
        if (ci < 0) return ch->status;
        ch->pred[k] = ci;
      }
    }
    gfi_json_col *c = &ch->cols[ci];
    p = skip_ws(s, close + 1);
    if (p >= s->end || *p != ':') return fail(ch, p, GF_EPARSE, "expected ':' after key \"%s\"", c->name);
    p = skip_ws(s, p + 1);
    jval v;
    const char *vp = p;
    GF_RETURN_NOT_OK(scan_value(s, p, c->name, &v, &p));
    if (!reparse) {
      if (c->last_row == row)
        return fail(ch, key_at, GF_EPARSE, "key \"%s\" appears twice in one object",
                    c->name);
      c->last_row = row;
    }
    bool keep = reparse ? c->redo : c->active;
    if (keep) {
      while (c->n < row) {
        if (c->dead) {
          c->n++;
          c->nulls++;
        } else {
          GF_RETURN_NOT_OK(put_null(ch, c));
        }
      }
      GF_RETURN_NOT_OK(store(ch, c, &v, vp));
    }
    p = skip_ws(s, p);
    if (p < s->end && *p == ',') {
      p = skip_ws(s, p + 1);
      continue;
    }
    if (p < s->end && *p == '}') {
      *next = p + 1;
      return GF_OK;
    }
    if (p < s->end && *p == '\n' && !s->nl_ok)
      return fail(ch, p, GF_EPARSE, "line ends inside an object: NDJSON needs one object per "
                  "line (read a pretty-printed file as a JSON array)");
    return fail(ch, p, GF_EPARSE, "expected ',' or '}' after the value of \"%s\"", c->name);
  }
}

/* Pads every stored column to the range's row count. */
static gf_status finish_columns(gfi_json_chunk *ch, bool reparse) {
  for (int i = 0; i < ch->ncols; i++) {
    gfi_json_col *c = &ch->cols[i];
    if (!(reparse ? c->redo : c->active)) continue;
    while (c->n < ch->rows) {
      if (c->dead) {
        c->n++;
        c->nulls++;
      } else {
        GF_RETURN_NOT_OK(put_null(ch, c));
      }
    }
  }
  return GF_OK;
}

/* NDJSON: objects, one per line, blank lines skipped. */
static gf_status parse_lines(const scan *s, bool reparse) {
  gfi_json_chunk *ch = s->ch;
  const char *p = ch->start;
  int64_t row = 0;
  while (p < s->end) {
    char c = *p;
    if (c == '\n' || c == ' ' || c == '\t' || c == '\r') {
      p++;
      continue;
    }
    if (c != '{')
      return fail(ch, p, GF_EPARSE, "expected '{': every non-blank NDJSON line must be one "
                  "JSON object");
    GF_RETURN_NOT_OK(parse_object(s, p, row, reparse, &p));
    row++;
    while (p < s->end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
    if (p < s->end && *p != '\n')
      return fail(ch, p, GF_EPARSE, "expected the end of the line after the object "
                  "(NDJSON has one object per line)");
  }
  ch->rows = row;
  return finish_columns(ch, reparse);
}

/* JSON array, or a range of one (see gfi_json_chunk): '[' objects
 * separated by ',' ']'. */
static gf_status parse_array(const scan *s, bool reparse) {
  gfi_json_chunk *ch = s->ch;
  const char *p = ch->start;
  int64_t row = 0;
  bool closed = false;
  ch->actual_end = NULL;
  if (ch->first) {
    p = skip_ws(s, p);
    if (p >= s->end || *p != '[') return fail(ch, p, GF_EPARSE, "expected '[' (a JSON array)");
    p = skip_ws(s, p + 1);
    if (p < s->end && *p == ']') {
      p++;
      closed = true;
    }
  }
  while (!closed) {
    if (p >= s->end || *p != '{')
      return fail(ch, p, GF_EPARSE, "expected '{': the array must hold objects");
    GF_RETURN_NOT_OK(parse_object(s, p, row, reparse, &p));
    row++;
    p = skip_ws(s, p);
    if (p < s->end && *p == ',') {
      p = skip_ws(s, p + 1);
      if (!ch->last && p >= ch->end) {
        ch->actual_end = p;
        break;
      }
      continue;
    }
    if (p < s->end && *p == ']') {
      p++;
      closed = true;
      break;
    }
    return fail(ch, p, GF_EPARSE, "expected ',' or ']' after an object of the array");
  }
  ch->closed = closed;
  if (closed) {
    p = skip_ws(s, p);
    if (p < s->end) return fail(ch, p, GF_EPARSE, "unexpected text after the closing ']'");
  }
  ch->rows = row;
  return finish_columns(ch, reparse);
}

/* See json_internal.h. */
gf_status gfi_json_parse_chunk(const gfi_json_ctx *ctx, gfi_json_chunk *ch, bool reparse) {
  /* An array range may finish its last object past its end. */
  scan s = {ctx, ch, ctx->array ? ctx->end : ch->end, ctx->array};
  ch->status = GF_OK;
  if (!reparse)
    for (int i = 0; i < ch->ncols; i++) ch->cols[i].last_row = -1;
  for (int i = 0; i < ch->cappred; i++) ch->pred[i] = -1;
  return ctx->array ? parse_array(&s, reparse) : parse_lines(&s, reparse);
}

/* ---- arrays ------------------------------------------------------------- */

/* Validity bitmap from one byte per row; NULL buffer when no nulls. */
static gf_status make_bitmap(const gfi_json_col *c, int64_t rows, const gf_allocator *a,
                             gf_buffer **out, gf_error *err) {
  *out = NULL;
  if (!c || c->nulls == 0) return GF_OK;
  gf_buffer *b;
  if (gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(rows), &b) != GF_OK)
    return GF_OOM(err, "a JSON validity bitmap");
  uint8_t *bits = gf_buffer_mutable_data(b);
  if (c->has_valid)
    for (int64_t i = 0; i < rows; i++)
      if (c->valid.p[i]) gfi_bit_set(bits, i);
  *out = b;
  return GF_OK;
}

/* See json_internal.h. */
gf_status gfi_json_col_array(gfi_json_chunk *ch, gfi_json_col *c, int64_t rows, uint8_t kind,
                             const gf_allocator *a, gf_array **out, gf_error *err) {
  gf_datatype t = gfi_csv_kind_type(kind);
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  bool all_null = !c || c->kind == GFI_CSV_NULL;
  int64_t nulls = all_null ? rows : c->nulls;
  if (all_null) {
    size_t vb = kind == GFI_CSV_STR ? (size_t)(rows + 1) * 4
                : kind == GFI_CSV_BOOL ? (size_t)gfi_bitmap_bytes(rows)
                : kind == GFI_CSV_DATE ? (size_t)rows * 4 : (size_t)rows * 8;
    if (gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(rows), &bufs[0]) != GF_OK ||
        gfi_buffer_alloc(a, vb, &bufs[1]) != GF_OK ||
        (kind == GFI_CSV_STR && gfi_buffer_alloc(a, 0, &bufs[2]) != GF_OK)) {
      for (int i = 0; i < 3; i++) gf_buffer_release(bufs[i]);
      return GF_OOM(err, "a JSON column");
    }
    if (rows == 0) {
      gf_buffer_release(bufs[0]);
      bufs[0] = NULL;
    }
    return gfi_array_make(a, t, rows, 0, nulls, bufs, NULL, out, err);
  }
  if (c->n != rows) return gf_error_set(err, GF_EINTERNAL, "JSON column has %lld of %lld rows",
                                        (long long)c->n, (long long)rows);
  GF_RETURN_NOT_OK(make_bitmap(c, rows, a, &bufs[0], err));
  gf_status st = GF_OK;
  if (c->kind == GFI_CSV_I64 && kind == GFI_CSV_F64) {
    int64_t *p = (int64_t *)(void *)c->vals.p;
    for (int64_t i = 0; i < rows; i++) {
      double d = (double)p[i];
      memcpy(&p[i], &d, 8);
    }
  } else if (c->kind != kind) {
    gf_buffer_release(bufs[0]);
    return gf_error_set(err, GF_EINTERNAL, "JSON column '%s' stored as %s, wanted %s", c->name,
                        kind_name(c->kind), kind_name(kind));
  }
  switch (kind) {
    case GFI_CSV_BOOL:
    case GFI_CSV_DATE: {
      size_t nb = kind == GFI_CSV_BOOL ? (size_t)gfi_bitmap_bytes(rows) : (size_t)rows * 4;
      if (gfi_buffer_alloc(a, nb, &bufs[1]) != GF_OK) {
        st = GF_OOM(err, "a JSON column");
        break;
      }
      uint8_t *o = gf_buffer_mutable_data(bufs[1]);
      const int64_t *p = (const int64_t *)(const void *)c->vals.p;
      for (int64_t i = 0; i < rows; i++) {
        if (kind == GFI_CSV_BOOL) {
          if (p[i]) gfi_bit_set(o, i);
        } else {
          ((int32_t *)(void *)o)[i] = (int32_t)p[i];
        }
      }
      jbuf_free(&c->vals);
      break;
    }
    case GFI_CSV_STR:
      gfi_buffer_set_size(c->vals.b, (size_t)(rows + 1) * 4);
      bufs[1] = c->vals.b;
      if (!c->bytes.b && gfi_buffer_alloc(a, 0, &c->bytes.b) != GF_OK) {
        st = GF_OOM(err, "a JSON column");
        break;
      }
      gfi_buffer_set_size(c->bytes.b, c->bytes.len);
      bufs[2] = c->bytes.b;
      memset(&c->vals, 0, sizeof c->vals);
      memset(&c->bytes, 0, sizeof c->bytes);
      break;
    default:
      if (!c->vals.b && gfi_buffer_alloc(a, 0, &c->vals.b) != GF_OK) {
        st = GF_OOM(err, "a JSON column");
        break;
      }
      gfi_buffer_set_size(c->vals.b, (size_t)rows * 8);
      bufs[1] = c->vals.b;
      memset(&c->vals, 0, sizeof c->vals);
      break;
  }
  if (st != GF_OK) {
    for (int i = 0; i < 3; i++) gf_buffer_release(bufs[i]);
    return st;
  }
  jbuf_free(&c->valid);
  (void)ch;
  return gfi_array_make(a, t, rows, 0, nulls, bufs, NULL, out, err);
}
