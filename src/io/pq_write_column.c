/* Encoding of one Parquet column chunk: an optional dictionary page (PLAIN
 * values) and data pages v1 (RLE definition levels for OPTIONAL columns,
 * then PLAIN values or RLE_DICTIONARY indices), each compressed, with
 * statistics per page and per chunk and the chunk's ColumnIndex. Runs on a
 * runtime worker; everything it makes depends only on the rows it is
 * given, so the file's bytes do not depend on the worker count. */
#include <math.h>
#include <string.h>

#include "data/builder_internal.h"
#include "io/pq_write_column.h"
#include "io/thrift_write.h"

static void put_le(uint8_t *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n == 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
  }
  if (n == 4) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
  }
#endif
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* ------------------------------------------------------------------ */
/* Values                                                               */
/* ------------------------------------------------------------------ */

enum { V_OK = 0, V_NULL = 1, V_RANGE = -1, V_TOO_LONG = -2 };

/* Floor division (dates from milliseconds). */
static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Value i (relative to the array's offset) of the non-dictionary array `a`
 * in the column's physical PLAIN representation, without the length
 * prefix of BYTE_ARRAY: *p and *n (maybe pointing into tmp, 16 bytes). Returns
 * V_OK, V_NULL, V_RANGE (does not fit the physical type: seconds times
 * 1000 overflowing) or V_TOO_LONG (a byte array over 2^31-1 bytes). */
static int get_value(const pqw_colspec *cs, const gf_array *a, int64_t i,
                     uint8_t *tmp, const uint8_t **p, int32_t *n) {
  gf_type_id id = a->type.id;
  if (id == GF_TYPE_NULL) return V_NULL;
  int64_t j = a->offset + i;
  const uint8_t *v = gfi_buf(a, 0);
  if (v && a->null_count > 0 && !gfi_bit_get(v, j)) return V_NULL;
  const uint8_t *d = gfi_buf(a, 1);
  int64_t x = 0;
  switch (cs->phys) {
    case PQW_BOOLEAN:
      tmp[0] = gfi_bit_get(d, j) ? 1 : 0;
      *p = tmp;
      *n = 1;
      return V_OK;
    case PQW_FLOAT:
    case PQW_DOUBLE: {
      int w = cs->phys == PQW_FLOAT ? 4 : 8;
      *p = d + j * w;
      *n = w;
      return V_OK;
    }
    case PQW_INT32:
    case PQW_INT64:
      switch (id) {
        case GF_TYPE_INT8: x = ((const int8_t *)d)[j]; break;
        case GF_TYPE_INT16: x = ((const int16_t *)d)[j]; break;
        case GF_TYPE_INT32:
        case GF_TYPE_DATE32:
        case GF_TYPE_TIME32: x = ((const int32_t *)d)[j]; break;
        case GF_TYPE_UINT8: x = ((const uint8_t *)d)[j]; break;
        case GF_TYPE_UINT16: x = ((const uint16_t *)d)[j]; break;
        /* Unsigned 32/64-bit values keep their bit pattern (the INTEGER
         * annotation says unsigned). */
        case GF_TYPE_UINT32: x = (int32_t)((const uint32_t *)d)[j]; break;
        case GF_TYPE_DATE64: x = floor_div(((const int64_t *)d)[j], 86400000); break;
        case GF_TYPE_DECIMAL128: x = (int64_t)get_le(d + 16 * j, 8); break;
        default: memcpy(&x, d + 8 * j, 8); break; /* int64, uint64, time64, timestamp, duration */
      }
      if (cs->mult != 1 && __builtin_mul_overflow(x, cs->mult, &x)) return V_RANGE;
      if (cs->phys == PQW_INT32) {
        if (id != GF_TYPE_UINT32 && (x < INT32_MIN || x > INT32_MAX)) return V_RANGE;
        put_le(tmp, (uint64_t)x, 4);
        *n = 4;
      } else {
        put_le(tmp, (uint64_t)x, 8);
        *n = 8;
      }
      *p = tmp;
      return V_OK;
    case PQW_BYTE_ARRAY: {
      int64_t s, e;
      if (gfi_type_is_large(id)) {
        s = ((const int64_t *)d)[j];
        e = ((const int64_t *)d)[j + 1];
      } else {
        s = ((const int32_t *)d)[j];
        e = ((const int32_t *)d)[j + 1];
      }
      if (e - s > INT32_MAX) return V_TOO_LONG;
      const uint8_t *data = gfi_buf(a, 2);
      *p = data ? data + s : tmp;
      *n = (int32_t)(e - s);
      return V_OK;
    }
    case PQW_FLBA:
      if (id == GF_TYPE_DECIMAL128) {
        /* Big-endian two's complement, the low type_length bytes (the
         * precision guarantees the dropped ones are sign copies). */
        const uint8_t *src = d + 16 * j;
        int32_t L = cs->type_length;
        for (int32_t k = 0; k < L; k++) tmp[k] = src[L - 1 - k];
        *p = tmp;
        *n = L;
        return V_OK;
      }
      *p = d + j * (int64_t)cs->type_length;
      *n = cs->type_length;
      return V_OK;
    default:
      return V_NULL;
  }
}

/* get_value for any array of the column: a dictionary array's row is its
 * dictionary's value at the code (a null code or a null value is null). */
static int get_row(const pqw_colspec *cs, const gf_array *a, int64_t i, uint8_t *tmp,
                   const uint8_t **p, int32_t *n) {
  if (a->type.id != GF_TYPE_DICTIONARY) return get_value(cs, a, i, tmp, p, n);
  const uint8_t *v = gfi_buf(a, 0);
  if (v && a->null_count > 0 && !gfi_bit_get(v, a->offset + i)) return V_NULL;
  int32_t c = ((const int32_t *)gfi_buf(a, 1))[a->offset + i];
  return get_value(cs, a->dictionary, c, tmp, p, n);
}

/* Compares two values in the column's sort order: <0, 0, >0. */
static int cmp_values(int order, const uint8_t *a, int32_t an, const uint8_t *b, int32_t bn) {
  switch (order) {
    case ORD_SIGNED32: {
      int32_t x = (int32_t)get_le(a, 4), y = (int32_t)get_le(b, 4);
      return (x > y) - (x < y);
    }
    case ORD_UNSIGNED32: {
      uint32_t x = (uint32_t)get_le(a, 4), y = (uint32_t)get_le(b, 4);
      return (x > y) - (x < y);
    }
    case ORD_SIGNED64: {
      int64_t x = (int64_t)get_le(a, 8), y = (int64_t)get_le(b, 8);
      return (x > y) - (x < y);
    }
    case ORD_UNSIGNED64: {
      uint64_t x = get_le(a, 8), y = get_le(b, 8);
      return (x > y) - (x < y);
    }
    case ORD_FLOAT: {
      float x, y;
      memcpy(&x, a, 4);
      memcpy(&y, b, 4);
      return (x > y) - (x < y);
    }
    case ORD_DOUBLE: {
      double x, y;
      memcpy(&x, a, 8);
      memcpy(&y, b, 8);
      return (x > y) - (x < y);
    }
    case ORD_BOOL: return (a[0] > b[0]) - (a[0] < b[0]);
    case ORD_DECIMAL_BE: {
      /* Equal widths: the sign byte signed, the rest unsigned. */
      int8_t x = (int8_t)a[0], y = (int8_t)b[0];
      if (x != y) return (x > y) - (x < y);
      int c = an > 1 ? memcmp(a + 1, b + 1, (size_t)an - 1) : 0;
      return (c > 0) - (c < 0);
    }
    default: { /* unsigned bytes, then length */
      int32_t m = an < bn ? an : bn;
      int c = m ? memcmp(a, b, (size_t)m) : 0;
      if (c) return (c > 0) - (c < 0);
      return (an > bn) - (an < bn);
    }
  }
}

static bool is_nan(int order, const uint8_t *p) {
  if (order == ORD_FLOAT) {
    float x;
    memcpy(&x, p, 4);
    return isnan(x);
  }
  if (order == ORD_DOUBLE) {
    double x;
    memcpy(&x, p, 8);
    return isnan(x);
  }
  return false;
}

/* Sets one bound of `s` to the value p/n (copied when short). */
static void set_bound(pqw_stats *s, bool is_max, const uint8_t *p, int32_t n) {
  uint8_t *buf = is_max ? s->max_buf : s->min_buf;
  if (n <= 16) {
    memcpy(buf, p, (size_t)n);
    p = buf;
  }
  if (is_max) {
    s->max = p;
    s->max_n = n;
  } else {
    s->min = p;
    s->min_n = n;
  }
}

/* Adds a value to statistics (NaN is never a bound). */
static void stats_add(pqw_stats *s, int order, const uint8_t *p, int32_t n) {
  if (is_nan(order, p)) return;
  if (!s->has) {
    s->has = true;
    set_bound(s, false, p, n);
    set_bound(s, true, p, n);
    return;
  }
  if (cmp_values(order, p, n, s->min, s->min_n) < 0) set_bound(s, false, p, n);
  if (cmp_values(order, p, n, s->max, s->max_n) > 0) set_bound(s, true, p, n);
}

gf_status gfi_pqw_stat_bytes(gfi_vec *out, int order, const uint8_t *p, int32_t n,
                             bool is_max, gf_error *err) {
  if (order == ORD_FLOAT || order == ORD_DOUBLE) {
    uint8_t b[8];
    memcpy(b, p, (size_t)n);
    if (order == ORD_FLOAT) {
      float x;
      memcpy(&x, b, 4);
      if (x == 0.0f) x = is_max ? 0.0f : -0.0f;
      memcpy(b, &x, 4);
    } else {
      double x;
      memcpy(&x, b, 8);
      if (x == 0.0) x = is_max ? 0.0 : -0.0;
      memcpy(b, &x, 8);
    }
    return gfi_vec_append(out, b, (size_t)n, err);
  }
  return gfi_vec_append(out, p, (size_t)n, err);
}

/* ------------------------------------------------------------------ */
/* RLE / bit-packed hybrid                                               */
/* ------------------------------------------------------------------ */

static gf_status put_uleb(gfi_vec *o, uint64_t v, gf_error *err) {
  uint8_t b[10];
  int n = 0;
  while (v >= 0x80) {
    b[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  b[n++] = (uint8_t)v;
  return gfi_vec_append(o, b, (size_t)n, err);
}

/* A bit-packed run of v[0..count) (count a multiple of 8 after padding
 * with zeros), `bw` bits each, LSB first. */
static gf_status put_literal(gfi_vec *o, const uint32_t *v, size_t count, int bw,
                             gf_error *err) {
  size_t groups = (count + 7) / 8;
  GF_RETURN_NOT_OK(put_uleb(o, (uint64_t)groups << 1 | 1, err));
  size_t nbytes = groups * (size_t)bw;
  size_t at = o->len;
  GF_RETURN_NOT_OK(gfi_vec_append_n(o, 0, nbytes, err));
  uint8_t *dst = o->data + at;
  uint64_t acc = 0;
  int bits = 0;
  size_t k = 0;
  for (size_t i = 0; i < groups * 8; i++) {
    uint64_t x = i < count ? v[i] : 0;
    acc |= x << bits;
    bits += bw;
    while (bits >= 8) {
      dst[k++] = (uint8_t)acc;
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) dst[k++] = (uint8_t)acc;
  return GF_OK;
}

static gf_status put_run(gfi_vec *o, uint32_t value, size_t count, int bw, gf_error *err) {
  GF_RETURN_NOT_OK(put_uleb(o, (uint64_t)count << 1, err));
  uint8_t b[4];
  int nb = (bw + 7) / 8;
  put_le(b, value, nb);
  return gfi_vec_append(o, b, (size_t)nb, err);
}

/* Appends v[0..n) in the RLE/bit-packed hybrid encoding with bit width
 * `bw` (1..32): runs of 8 or more equal values become RLE runs, the rest
 * bit-packed groups of 8 (the last one zero-padded). */
static gf_status rle_encode(gfi_vec *o, const uint32_t *v, size_t n, int bw, gf_error *err) {
  size_t i = 0, ls = 0; /* pending literals: [ls, i) */
  while (i < n) {
    size_t r = 1;
    while (i + r < n && v[i + r] == v[i]) r++;
    if (r < 8) {
      i += r;
      continue;
    }
    size_t pending = i - ls, pad = (8 - pending % 8) % 8;
    if (pending > 0) {
      if (r - pad < 8) { /* not enough left for a run: literals */
        i += r;
        continue;
      }
      GF_RETURN_NOT_OK(put_literal(o, v + ls, pending + pad, bw, err));
      i += pad;
      r -= pad;
    }
    GF_RETURN_NOT_OK(put_run(o, v[i], r, bw, err));
    i += r;
    ls = i;
  }
  if (i > ls) GF_RETURN_NOT_OK(put_literal(o, v + ls, i - ls, bw, err));
  return GF_OK;
}

/* ------------------------------------------------------------------ */
/* The chunk                                                            */
/* ------------------------------------------------------------------ */

/* Iterates the frame rows [row0, row0+rows) of one column as
 * (array, first index, count) segments. */
typedef struct seg_iter {
  const gf_frame *f;
  int col, batch;
  int64_t row, end; /* frame rows */
} seg_iter;

static bool seg_next(seg_iter *it, const gf_array **a, int64_t *i0, int64_t *cnt) {
  int nb = gf_frame_num_batches(it->f);
  while (it->row < it->end && it->batch < nb) {
    int64_t bo = gf_frame_batch_offset(it->f, it->batch);
    int64_t bn = gf_frame_batch_rows(it->f, it->batch);
    if (it->row >= bo + bn) {
      it->batch++;
      continue;
    }
    *a = gf_frame_column(it->f, it->batch, it->col);
    *i0 = it->row - bo;
    int64_t take = bo + bn - it->row;
    if (take > it->end - it->row) take = it->end - it->row;
    *cnt = take;
    it->row += take;
    return true;
  }
  return false;
}

/* Finds the first batch holding frame row `row`. */
static void seg_start(seg_iter *it, const gf_frame *f, int col, int64_t row, int64_t end) {
  it->f = f;
  it->col = col;
  it->row = row;
  it->end = end;
  int lo = 0, hi = gf_frame_num_batches(f);
  while (hi - lo > 1) { /* last batch starting at or before row */
    int mid = (lo + hi) / 2;
    if (gf_frame_batch_offset(f, mid) <= row) lo = mid;
    else hi = mid;
  }
  it->batch = lo;
}

/* A slot of the dictionary hash table. */
typedef struct pqw_slot {
  uint64_t key;  /* fixed-width values: the value itself, compared whole */
  int32_t entry; /* entry index, -1 empty */
  uint32_t hash;
} pqw_slot;

/* Per-chunk encoder state. */
typedef struct enc {
  const pqw_params *p;
  const pqw_colspec *cs;
  pqw_chunk *out;
  gf_error *err;
  /* dictionary */
  gfi_vec dict;        /* PLAIN dictionary page body */
  int64_t *entry_off;  /* start of entry k's value in dict (after a length prefix) */
  int32_t *entry_len;
  size_t nentries, cap_entries;
  pqw_slot *slots;     /* hash table (one cache line access a probe) */
  size_t nslots;
  int32_t *idx;        /* per row: entry index, -1 null (dictionary path) */
  int32_t *rank;       /* per entry: a key in the sort order, -1 for NaN/null */
  size_t rank_cap;     /* entries rank has room for */
  int32_t *order;      /* entries by rank (rank_entries) */
  size_t nranked;
  /* the page being built */
  gfi_vec levels, values, body, comp, hdr;
  uint32_t *tmp32;
  size_t cap_tmp32;
} enc;

static gf_status range_error(enc *e, int r, int64_t row) {
  if (r == V_TOO_LONG)
    return gf_error_set(e->err, GF_ENOTSUP,
                        "Parquet writer: column '%s', row %lld: a value over 2147483647 bytes "
                        "does not fit a Parquet BYTE_ARRAY", e->cs->name, (long long)row);
  return gf_error_set(e->err, GF_ERANGE,
                      "Parquet writer: column '%s', row %lld: the value does not fit the "
                      "column's Parquet type (seconds are written as milliseconds, times "
                      "1000; a decimal must have at most its precision's digits)",
                      e->cs->name, (long long)row);
}

static uint32_t hash_bytes(const uint8_t *p, int32_t n) {
  uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)n;
  for (int32_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  h ^= h >> 29;
  return (uint32_t)h;
}

static const uint8_t *entry_ptr(const enc *e, size_t k) { return e->dict.data + e->entry_off[k]; }

static gf_status grow_table(enc *e) {
  size_t ns = e->nslots ? e->nslots * 2 : 1024;
  pqw_slot *slots = gfi_malloc(e->p->a, ns * sizeof *slots);
  if (!slots) return GF_OOM(e->err, "a Parquet dictionary hash table");
  for (size_t t = 0; t < ns; t++) slots[t].entry = -1;
  for (size_t s = 0; s < e->nslots; s++) {
    if (e->slots[s].entry < 0) continue;
    size_t t = e->slots[s].hash & (ns - 1);
    while (slots[t].entry >= 0) t = (t + 1) & (ns - 1);
    slots[t] = e->slots[s];
  }
  gfi_mfree(e->p->a, e->slots, e->nslots * sizeof *e->slots);
  e->slots = slots;
  e->nslots = ns;
  return GF_OK;
}

/* Appends a new dictionary entry holding p/n; *k receives its index. */
static gf_status add_entry(enc *e, const uint8_t *p, int32_t n, int32_t *k) {
  if (e->nentries == e->cap_entries) {
    size_t nc = e->cap_entries ? e->cap_entries * 2 : 256;
    int64_t *off = gfi_malloc(e->p->a, nc * sizeof *off);
    int32_t *len = gfi_malloc(e->p->a, nc * sizeof *len);
    if (!off || !len) {
      gfi_mfree(e->p->a, off, nc * sizeof *off);
      gfi_mfree(e->p->a, len, nc * sizeof *len);
      return GF_OOM(e->err, "Parquet dictionary entries");
    }
    if (e->nentries) {
      memcpy(off, e->entry_off, e->nentries * sizeof *off);
      memcpy(len, e->entry_len, e->nentries * sizeof *len);
    }
    gfi_mfree(e->p->a, e->entry_off, e->cap_entries * sizeof *off);
    gfi_mfree(e->p->a, e->entry_len, e->cap_entries * sizeof *len);
    e->entry_off = off;
    e->entry_len = len;
    e->cap_entries = nc;
  }
  if (e->cs->phys == PQW_BYTE_ARRAY) {
    uint8_t pre[4];
    put_le(pre, (uint32_t)n, 4);
    GF_RETURN_NOT_OK(gfi_vec_append(&e->dict, pre, 4, e->err));
  }
  e->entry_off[e->nentries] = (int64_t)e->dict.len;
  e->entry_len[e->nentries] = n;
  GF_RETURN_NOT_OK(gfi_vec_append(&e->dict, p, (size_t)n, e->err));
  *k = (int32_t)e->nentries++;
  return GF_OK;
}

/* Width of the values of an array of type `id` when they are already the
 * column's PLAIN bytes (4 or 8: copied as they are), else 0. */
static int raw_width(const pqw_colspec *cs, gf_type_id id) {
  if (cs->mult != 1) return 0;
  switch (cs->phys) {
    case PQW_FLOAT: return 4;
    case PQW_DOUBLE: return 8;
    case PQW_INT32: return id == GF_TYPE_INT32 || id == GF_TYPE_DATE32 ? 4 : 0;
    case PQW_INT64:
      return id == GF_TYPE_INT64 || id == GF_TYPE_UINT64 || id == GF_TYPE_TIME64 ||
                     id == GF_TYPE_TIMESTAMP || id == GF_TYPE_DURATION
                 ? 8
                 : 0;
    default: return 0;
  }
}

/* The hash of a number's bits (multiplicative: the high bits of the
 * product). */
static inline uint32_t num_hash(uint64_t key) {
  return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32);
}

/* intern for numbers: `key` is the value's n little-endian bytes at p. */
static gf_status intern_key(enc *e, uint64_t key, const uint8_t *p, int32_t n, int32_t *k) {
  if (2 * (e->nentries + 1) > e->nslots) GF_RETURN_NOT_OK(grow_table(e));
  uint32_t h = num_hash(key);
  size_t s = h & (e->nslots - 1);
  while (e->slots[s].entry >= 0) {
    if (e->slots[s].key == key) {
      *k = e->slots[s].entry;
      return GF_OK;
    }
    s = (s + 1) & (e->nslots - 1);
  }
  GF_RETURN_NOT_OK(add_entry(e, p, n, k));
  e->slots[s].entry = *k;
  e->slots[s].hash = h;
  e->slots[s].key = key;
  return GF_OK;
}

/* Looks p/n up in the dictionary, adding it when new. */
static gf_status intern(enc *e, const uint8_t *p, int32_t n, int32_t *k) {
  int phys = e->cs->phys;
  if (phys == PQW_INT32 || phys == PQW_INT64 || phys == PQW_FLOAT || phys == PQW_DOUBLE)
    return intern_key(e, get_le(p, n), p, n, k);
  if (2 * (e->nentries + 1) > e->nslots) GF_RETURN_NOT_OK(grow_table(e));
  uint32_t h = hash_bytes(p, n);
  size_t s = h & (e->nslots - 1);
  while (e->slots[s].entry >= 0) {
    int32_t c = e->slots[s].entry;
    if (e->slots[s].hash == h && e->entry_len[c] == n &&
        (n == 0 || memcmp(entry_ptr(e, (size_t)c), p, (size_t)n) == 0)) {
      *k = c;
      return GF_OK;
    }
    s = (s + 1) & (e->nslots - 1);
  }
  GF_RETURN_NOT_OK(add_entry(e, p, n, k));
  e->slots[s].entry = *k;
  e->slots[s].hash = h;
  e->slots[s].key = 0;
  return GF_OK;
}

/* The dictionary page limit of a chunk of a dictionary-typed column
 * (docs/PARQUET.md, "Dictionary fallback"): the input's dictionary is
 * known, so what dictionary encoding costs is known before encoding: the
 * page of the entries the chunk uses plus their indices at their bit
 * width, against the PLAIN bytes of the chunk's values. When that page
 * fits p->dict_bytes, or when the dictionary encoding is smaller than
 * PLAIN (and the page fits Parquet's 2 GiB page size), the whole chunk is
 * dictionary-encoded: *limit = INT32_MAX. Otherwise *limit = p->dict_bytes
 * and the chunk falls back mid-chunk like any other. `use` (dict_len
 * entries, zeroed) is scratch. Values that cannot be written are left to
 * the encoding loop, which reports them at their row. */
static void dictionary_input_limit(enc *e, const gf_frame *f, const gf_array *dict,
                                   int32_t *use, int64_t row0, int64_t rows, int64_t *limit) {
  const pqw_colspec *cs = e->cs;
  size_t dict_len = (size_t)dict->length;
  *limit = e->p->dict_bytes;
  seg_iter it;
  seg_start(&it, f, cs->col, row0, row0 + rows);
  const gf_array *a;
  int64_t i0, cnt;
  while (seg_next(&it, &a, &i0, &cnt)) {
    const uint8_t *valid = a->null_count > 0 ? gfi_buf(a, 0) : NULL;
    const int32_t *codes = (const int32_t *)gfi_buf(a, 1) + a->offset;
    for (int64_t i = i0; i < i0 + cnt; i++)
      if (!valid || gfi_bit_get(valid, a->offset + i)) use[codes[i]]++;
  }
  int64_t prefix = cs->phys == PQW_BYTE_ARRAY ? 4 : 0;
  int64_t page = 0, plain = 0, values = 0, used = 0;
  uint8_t tmp[16];
  for (size_t k = 0; k < dict_len; k++) {
    if (!use[k]) continue;
    const uint8_t *p;
    int32_t n;
    int g = get_value(cs, dict, (int64_t)k, tmp, &p, &n);
    if (g == V_OK) {
      used++;
      values += use[k];
      page += prefix + n;
      plain += (int64_t)use[k] * (prefix + n);
    }
  }
  int bw = 1;
  while (((uint64_t)1 << bw) < (uint64_t)used) bw++;
  int64_t encoded = page + (values * bw + 7) / 8;
  if (page > e->p->dict_bytes && encoded < plain && page <= INT32_MAX) *limit = INT32_MAX;
}

/* Dictionary-encodes the chunk's rows as far as the dictionary page stays
 * within the limit: fills e->idx and the dictionary for rows [0,
 * *dict_rows); the rows from the one whose new value would overflow the
 * page on are written PLAIN (the fallback of Parquet writers: the dictionary
 * pages first, then PLAIN pages; pyarrow's default limit is 1 MiB too).
 * Dictionary-typed columns are remapped from their codes (the used
 * entries, in order of first use) without hashing, under the limit of
 * dictionary_input_limit. */
static gf_status build_dictionary(enc *e, const gf_frame *f, int64_t row0, int64_t rows,
                                  int64_t *dict_rows) {
  const pqw_colspec *cs = e->cs;
  *dict_rows = 0;
  e->idx = gfi_malloc(e->p->a, (size_t)gfi_at_least_1((size_t)rows) * sizeof *e->idx);
  if (!e->idx) return GF_OOM(e->err, "Parquet dictionary indices");
  int32_t *remap = NULL;
  size_t dict_len = 0;
  const gf_array *dict = NULL;
  int64_t limit = e->p->dict_bytes;
  if (cs->type.id == GF_TYPE_DICTIONARY && gf_frame_num_batches(f) > 0) {
    dict = gf_frame_column(f, 0, cs->col)->dictionary;
    dict_len = (size_t)dict->length;
    remap = gfi_malloc(e->p->a, gfi_at_least_1(dict_len) * sizeof *remap);
    if (!remap) return GF_OOM(e->err, "a Parquet dictionary remap");
    if (cs->dict_rank) { /* entry ranks from the column's ranked dictionary */
      e->rank = gfi_malloc(e->p->a, gfi_at_least_1(dict_len) * sizeof *e->rank);
      if (!e->rank) {
        gfi_mfree(e->p->a, remap, gfi_at_least_1(dict_len) * sizeof *remap);
        return GF_OOM(e->err, "Parquet dictionary ranks");
      }
      e->rank_cap = dict_len;
    }
    memset(remap, 0, gfi_at_least_1(dict_len) * sizeof *remap);
    dictionary_input_limit(e, f, dict, remap, row0, rows, &limit);
    memset(remap, 0xff, gfi_at_least_1(dict_len) * sizeof *remap); /* -1 = not seen */
  }
  seg_iter it;
  seg_start(&it, f, cs->col, row0, row0 + rows);
  const gf_array *a;
  int64_t i0, cnt, r = 0;
  uint8_t tmp[16];
  gf_status st = GF_OK;
  while (st == GF_OK && seg_next(&it, &a, &i0, &cnt)) {
    const uint8_t *valid = a->null_count > 0 ? gfi_buf(a, 0) : NULL;
    const int32_t *codes = dict ? (const int32_t *)gfi_buf(a, 1) : NULL;
    int rw = dict ? 0 : raw_width(cs, a->type.id);
    const uint8_t *raw = rw ? gfi_buf(a, 1) : NULL;
    for (int64_t i = i0; i < i0 + cnt && st == GF_OK; i++, r++) {
      if (valid && !gfi_bit_get(valid, a->offset + i)) {
        e->idx[r] = -1;
        continue;
      }
      const uint8_t *p;
      int32_t n;
      int g;
      if (dict) {
        int32_t c = codes[a->offset + i];
        if (remap[c] == -1) {
          g = get_value(cs, dict, c, tmp, &p, &n);
          if (g == V_NULL) remap[c] = -2;
          else if (g == V_OK) st = add_entry(e, p, n, &remap[c]);
          else st = range_error(e, g, row0 + r);
          if (st == GF_OK && remap[c] >= 0 && e->rank) e->rank[remap[c]] = cs->dict_rank[c];
        }
        e->idx[r] = remap[c] >= 0 ? remap[c] : -1;
      } else if (rw) {
        /* the array's values are the PLAIN bytes: no conversion. The slot
         * of the value 8 rows ahead is fetched now (a large table misses
         * the cache on nearly every probe; the order of the probes, and so
         * the dictionary, is unchanged). */
        if (i + 8 < i0 + cnt && e->nslots) {
          uint64_t ahead = get_le(raw + (a->offset + i + 8) * rw, rw);
          __builtin_prefetch(&e->slots[num_hash(ahead) & (e->nslots - 1)]);
        }
        const uint8_t *vp = raw + (a->offset + i) * rw;
        st = intern_key(e, get_le(vp, rw), vp, rw, &e->idx[r]);
      } else {
        g = get_value(cs, a, i, tmp, &p, &n);
        if (g == V_NULL) {
          e->idx[r] = -1;
          continue;
        }
        if (g != V_OK) st = range_error(e, g, row0 + r);
        else st = intern(e, p, n, &e->idx[r]);
      }
      if (st == GF_OK && (int64_t)e->dict.len > limit) break;
    }
    if (st == GF_OK && (int64_t)e->dict.len > limit) break;
  }
  if (remap) gfi_mfree(e->p->a, remap, gfi_at_least_1(dict_len) * sizeof *remap);
  GF_RETURN_NOT_OK(st);
  if ((int64_t)e->dict.len > limit) {
    /* Row r brought the entry that overflowed: drop it, stop before r. */
    size_t k = e->nentries - 1;
    e->dict.len = (size_t)e->entry_off[k] - (cs->phys == PQW_BYTE_ARRAY ? 4 : 0);
    e->nentries = k;
  }
  *dict_rows = r;
  return GF_OK;
}

/* Bytes of the unsigned sort key of a fixed-width order (0: none, the
 * order compares byte strings). */
static int sort_key_width(int order) {
  switch (order) {
    case ORD_SIGNED32: case ORD_UNSIGNED32: case ORD_FLOAT: return 4;
    case ORD_SIGNED64: case ORD_UNSIGNED64: case ORD_DOUBLE: return 8;
    case ORD_BOOL: return 1;
    default: return 0;
  }
}

/* The value p as an unsigned key whose order is the column's: signed
 * integers with the sign bit flipped, floats with the sign bit flipped
 * when positive and every bit when negative (NaN never gets here). -0.0
 * sorts just below +0.0, which cmp_values calls equal: ranks may order the
 * two differently from a comparison sort, but the bounds they pick are
 * written as zeros with the sign PARQUET-1222 asks for either way. */
static uint64_t sort_key(int order, const uint8_t *p) {
  switch (order) {
    case ORD_SIGNED32: return get_le(p, 4) ^ 0x80000000u;
    case ORD_UNSIGNED32: return get_le(p, 4);
    case ORD_SIGNED64: return get_le(p, 8) ^ 0x8000000000000000ull;
    case ORD_UNSIGNED64: return get_le(p, 8);
    case ORD_FLOAT: {
      uint64_t b = get_le(p, 4);
      return b & 0x80000000u ? ~b & 0xffffffffu : b | 0x80000000u;
    }
    case ORD_DOUBLE: {
      uint64_t b = get_le(p, 8);
      return b & 0x8000000000000000ull ? ~b : b | 0x8000000000000000ull;
    }
    default: return p[0];
  }
}

/* Ranks e->order[0..m) (entry indexes) by their sort keys with a stable
 * LSD radix sort, 8 bits a pass, skipping passes where every key has the
 * same byte; `tmp` has room for m indexes. Equal keys keep index order, as
 * the merge sort does. */
static gf_status radix_rank(enc *e, size_t m, int32_t *tmp) {
  const gf_allocator *a = e->p->a;
  int order = e->cs->order, width = sort_key_width(order);
  uint64_t *key = gfi_malloc(a, gfi_at_least_1(m) * 2 * sizeof *key);
  if (!key) return GF_OOM(e->err, "Parquet dictionary sort keys");
  uint64_t *key2 = key + gfi_at_least_1(m);
  for (size_t i = 0; i < m; i++) key[i] = sort_key(order, entry_ptr(e, (size_t)e->order[i]));
  int32_t *src = e->order, *dst = tmp;
  uint64_t *ks = key, *kd = key2;
  for (int shift = 0; shift < 8 * width; shift += 8) {
    size_t count[257] = {0};
    for (size_t i = 0; i < m; i++) count[(ks[i] >> shift & 0xff) + 1]++;
    bool one = false;
    for (int b = 1; b <= 256; b++) one = one || count[b] == m;
    if (one) continue; /* every key has this byte */
    for (int b = 1; b <= 256; b++) count[b] += count[b - 1];
    for (size_t i = 0; i < m; i++) {
      size_t at = count[ks[i] >> shift & 0xff]++;
      dst[at] = src[i];
      kd[at] = ks[i];
    }
    int32_t *t = src;
    src = dst;
    dst = t;
    uint64_t *tk = ks;
    ks = kd;
    kd = tk;
  }
  if (src != e->order) memcpy(e->order, src, m * sizeof *src);
  for (size_t k = 0; k < m; k++) e->rank[e->order[k]] = (int32_t)k;
  e->nranked = m;
  gfi_mfree(a, key, gfi_at_least_1(m) * 2 * sizeof *key);
  return GF_OK;
}

/* Ranks the dictionary entries in the column's sort order (a stable merge
 * sort, or a radix sort of fixed-width keys), so page statistics are integer comparisons of ranks instead of
 * value comparisons per row. NaN entries get no rank: never a bound. */
static gf_status rank_entries(enc *e) {
  size_t n = e->nentries;
  const gf_allocator *a = e->p->a;
  e->rank = gfi_malloc(a, gfi_at_least_1(n) * sizeof *e->rank);
  e->rank_cap = n;
  e->order = gfi_malloc(a, gfi_at_least_1(n) * sizeof *e->order);
  int32_t *tmp = gfi_malloc(a, gfi_at_least_1(n) * sizeof *tmp);
  if (!e->rank || !e->order || !tmp) {
    gfi_mfree(a, tmp, gfi_at_least_1(n) * sizeof *tmp);
    return GF_OOM(e->err, "Parquet dictionary ranks");
  }
  size_t m = 0;
  for (size_t k = 0; k < n; k++) {
    e->rank[k] = -1;
    if (!is_nan(e->cs->order, entry_ptr(e, k))) e->order[m++] = (int32_t)k;
  }
  if (sort_key_width(e->cs->order) > 0) {
    gf_status st = radix_rank(e, m, tmp);
    gfi_mfree(a, tmp, gfi_at_least_1(n) * sizeof *tmp);
    return st;
  }
  int32_t *src = e->order, *dst = tmp;
  for (size_t width = 1; width < m; width *= 2) {
    for (size_t lo = 0; lo < m; lo += 2 * width) {
      size_t mid = lo + width < m ? lo + width : m, hi = lo + 2 * width < m ? lo + 2 * width : m;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        int32_t x = src[i], y = src[j];
        if (cmp_values(e->cs->order, entry_ptr(e, (size_t)y), e->entry_len[y],
                       entry_ptr(e, (size_t)x), e->entry_len[x]) < 0)
          dst[k++] = src[j++];
        else
          dst[k++] = src[i++];
      }
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    int32_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != e->order) memcpy(e->order, src, m * sizeof *src);
  for (size_t k = 0; k < m; k++) e->rank[e->order[k]] = (int32_t)k;
  e->nranked = m;
  gfi_mfree(a, tmp, gfi_at_least_1(n) * sizeof *tmp);
  return GF_OK;
}

static gf_status add_page_loc(enc *e, int64_t offset, int64_t size, int64_t first_row) {
  pqw_chunk *c = e->out;
  if (c->npages == c->cap_pages) {
    size_t nc = c->cap_pages ? c->cap_pages * 2 : 16;
    pqw_page *pg = gfi_malloc(e->p->a, nc * sizeof *pg);
    if (!pg) return GF_OOM(e->err, "the Parquet page list");
    if (c->npages) memcpy(pg, c->pages, c->npages * sizeof *pg);
    gfi_mfree(e->p->a, c->pages, c->cap_pages * sizeof *pg);
    c->pages = pg;
    c->cap_pages = nc;
  }
  c->pages[c->npages].offset = offset;
  c->pages[c->npages].size = (int32_t)size;
  c->pages[c->npages].first_row = first_row;
  c->npages++;
  return GF_OK;
}

/* Writes a Statistics struct as field `fid` of the open struct. */
static void put_statistics(tw *w, int16_t fid, const pqw_colspec *cs, const pqw_stats *s,
                           gfi_vec *scratch) {
  gfi_tw_struct_begin(w, fid);
  gfi_tw_i64(w, ST_NULL_COUNT, s->nulls);
  if (s->has) {
    scratch->len = 0;
    if (w->st == GF_OK) w->st = gfi_pqw_stat_bytes(scratch, cs->order, s->max, s->max_n, true, w->err);
    size_t maxn = scratch->len;
    if (w->st == GF_OK) w->st = gfi_pqw_stat_bytes(scratch, cs->order, s->min, s->min_n, false, w->err);
    if (w->st == GF_OK) {
      gfi_tw_binary(w, ST_MAX_VALUE, scratch->data, maxn);
      gfi_tw_binary(w, ST_MIN_VALUE, scratch->data + maxn, scratch->len - maxn);
    }
  }
  gfi_tw_struct_end(w);
}

/* Compresses e->body and appends header + data to the chunk. `kind` is
 * PQW_PAGE_DATA or PQW_PAGE_DICTIONARY; `count` its values; `encoding`
 * the values' encoding; `s` the page statistics (data pages). */
static gf_status emit_page(enc *e, int kind, int64_t count, int encoding, const pqw_stats *s) {
  size_t raw = e->body.len;
  if (raw > INT32_MAX)
    return gf_error_set(e->err, GF_ENOTSUP,
                        "Parquet writer: column '%s': a page of %zu bytes exceeds Parquet's "
                        "2 GiB page limit", e->cs->name, raw);
  size_t bound = gfi_pq_compress_bound(e->p->codec, raw);
  e->comp.len = 0;
  GF_RETURN_NOT_OK(gfi_vec_reserve(&e->comp, bound + 1, e->err));
  size_t clen;
  GF_RETURN_NOT_OK(gfi_pq_compress(e->p->codec, e->p->level, e->body.data, raw, e->comp.data,
                                   bound + 1, &clen, e->err));
  if (clen > INT32_MAX)
    return gf_error_set(e->err, GF_ENOTSUP, "Parquet writer: column '%s': a compressed page "
                        "exceeds 2 GiB", e->cs->name);
  e->hdr.len = 0;
  tw w;
  gfi_tw_init(&w, &e->hdr, e->err);
  gfi_tw_i32(&w, PH_TYPE, kind);
  gfi_tw_i32(&w, PH_UNCOMPRESSED, (int32_t)raw);
  gfi_tw_i32(&w, PH_COMPRESSED, (int32_t)clen);
  gfi_vec scratch;
  gfi_vec_init(&scratch, e->p->a);
  if (kind == PQW_PAGE_DATA) {
    gfi_tw_struct_begin(&w, PH_DATA);
    gfi_tw_i32(&w, DPH_NUM_VALUES, (int32_t)count);
    gfi_tw_i32(&w, DPH_ENCODING, encoding);
    gfi_tw_i32(&w, DPH_DEF_ENCODING, PQW_ENC_RLE);
    gfi_tw_i32(&w, DPH_REP_ENCODING, PQW_ENC_RLE);
    if (s) put_statistics(&w, DPH_STATISTICS, e->cs, s, &scratch);
    gfi_tw_struct_end(&w);
  } else {
    gfi_tw_struct_begin(&w, PH_DICT);
    gfi_tw_i32(&w, DICT_NUM_VALUES, (int32_t)count);
    gfi_tw_i32(&w, DICT_ENCODING, PQW_ENC_PLAIN);
    gfi_tw_struct_end(&w);
  }
  gfi_tw_struct_end(&w);
  gfi_vec_reset(&scratch);
  GF_RETURN_NOT_OK(gfi_tw_status(&w));
  pqw_chunk *c = e->out;
  GF_RETURN_NOT_OK(gfi_vec_append(&c->bytes, e->hdr.data, e->hdr.len, e->err));
  GF_RETURN_NOT_OK(gfi_vec_append(&c->bytes, e->comp.data, clen, e->err));
  c->uncompressed += (int64_t)(e->hdr.len + raw);
  return GF_OK;
}

static gf_status need_tmp32(enc *e, size_t n) {
  if (n <= e->cap_tmp32) return GF_OK;
  size_t nc = n < 1024 ? 1024 : n;
  uint32_t *t = gfi_malloc(e->p->a, nc * sizeof *t);
  if (!t) return GF_OOM(e->err, "Parquet level buffer");
  gfi_mfree(e->p->a, e->tmp32, e->cap_tmp32 * sizeof *t);
  e->tmp32 = t;
  e->cap_tmp32 = nc;
  return GF_OK;
}

/* Column-index entries of the chunk's pages, filled as pages are made. */
typedef struct ci_acc {
  bool usable; /* false once a non-null page has no bounds (all NaN) */
  gfi_vec null_pages; /* one byte per page */
  gfi_vec mins, maxs; /* concatenated stat bytes */
  gfi_vec min_len, max_len; /* int32 per page */
  gfi_vec null_counts; /* int64 per page */
} ci_acc;

static gf_status ci_add(enc *e, ci_acc *ci, const pqw_stats *s, int64_t rows) {
  uint8_t np = s->nulls == rows;
  if (!np && !s->has) ci->usable = false;
  GF_RETURN_NOT_OK(gfi_vec_append(&ci->null_pages, &np, 1, e->err));
  int32_t ln = 0, lx = 0;
  if (s->has && !np) {
    size_t m0 = ci->mins.len, x0 = ci->maxs.len;
    GF_RETURN_NOT_OK(gfi_pqw_stat_bytes(&ci->mins, e->cs->order, s->min, s->min_n, false, e->err));
    GF_RETURN_NOT_OK(gfi_pqw_stat_bytes(&ci->maxs, e->cs->order, s->max, s->max_n, true, e->err));
    ln = (int32_t)(ci->mins.len - m0);
    lx = (int32_t)(ci->maxs.len - x0);
  }
  GF_RETURN_NOT_OK(gfi_vec_append(&ci->min_len, &ln, sizeof ln, e->err));
  GF_RETURN_NOT_OK(gfi_vec_append(&ci->max_len, &lx, sizeof lx, e->err));
  return gfi_vec_append(&ci->null_counts, &s->nulls, sizeof s->nulls, e->err);
}

/* Serializes the ColumnIndex of the chunk (when every page has bounds or
 * holds only nulls); boundary_order from the pages' bounds. */
static gf_status ci_finish(enc *e, ci_acc *ci) {
  size_t np = e->out->npages;
  if (!ci->usable || np == 0) return GF_OK;
  const int32_t *ln = (const int32_t *)ci->min_len.data, *lx = (const int32_t *)ci->max_len.data;
  bool asc = true, desc = true;
  const uint8_t *pm = NULL, *px = NULL;
  int32_t pmn = 0, pxn = 0;
  size_t mo = 0, xo = 0;
  for (size_t k = 0; k < np; k++) {
    size_t m0 = mo, x0 = xo;
    mo += (size_t)ln[k];
    xo += (size_t)lx[k];
    if (ci->null_pages.data[k]) continue;
    /* (no data at all when every bound is an empty string) */
    const uint8_t *m = ci->mins.data ? ci->mins.data + m0 : (const uint8_t *)"";
    const uint8_t *x = ci->maxs.data ? ci->maxs.data + x0 : (const uint8_t *)"";
    if (pm) {
      int cm = cmp_values(e->cs->order, pm, pmn, m, ln[k]);
      int cx = cmp_values(e->cs->order, px, pxn, x, lx[k]);
      if (cm > 0 || cx > 0) asc = false;
      if (cm < 0 || cx < 0) desc = false;
    }
    pm = m;
    px = x;
    pmn = ln[k];
    pxn = lx[k];
  }
  tw w;
  gfi_tw_init(&w, &e->out->column_index, e->err);
  gfi_tw_list(&w, CI_NULL_PAGES, TW_BOOL_TRUE, np);
  for (size_t k = 0; k < np; k++) gfi_tw_elem_bool(&w, ci->null_pages.data[k] != 0);
  for (int pass = 0; pass < 2; pass++) {
    gfi_tw_list(&w, pass ? CI_MAX_VALUES : CI_MIN_VALUES, TW_BINARY, np);
    const uint8_t *base = pass ? ci->maxs.data : ci->mins.data;
    const int32_t *lens = pass ? lx : ln;
    size_t o = 0;
    for (size_t k = 0; k < np; k++) {
      gfi_tw_elem_binary(&w, base ? base + o : (const uint8_t *)"", (size_t)lens[k]);
      o += (size_t)lens[k];
    }
  }
  gfi_tw_i32(&w, CI_BOUNDARY_ORDER, asc ? PQW_ASCENDING : desc ? PQW_DESCENDING : PQW_UNORDERED);
  gfi_tw_list(&w, CI_NULL_COUNTS, TW_I64, np);
  for (size_t k = 0; k < np; k++) {
    int64_t v;
    memcpy(&v, ci->null_counts.data + 8 * k, 8);
    gfi_tw_elem_i64(&w, v);
  }
  gfi_tw_struct_end(&w);
  return gfi_tw_status(&w);
}

/* Merges page statistics into the chunk's. */
static gf_status chunk_stats_add(enc *e, pqw_stats *cs_, const pqw_stats *s) {
  cs_->nulls += s->nulls;
  if (!s->has) return GF_OK;
  int order = e->cs->order;
  pqw_chunk *c = e->out;
  bool set_min = !cs_->has || cmp_values(order, s->min, s->min_n, c->min.data, (int32_t)c->min.len) < 0;
  bool set_max = !cs_->has || cmp_values(order, s->max, s->max_n, c->max.data, (int32_t)c->max.len) > 0;
  cs_->has = true;
  if (set_min) {
    c->min.len = 0;
    GF_RETURN_NOT_OK(gfi_vec_append(&c->min, s->min, (size_t)s->min_n, e->err));
  }
  if (set_max) {
    c->max.len = 0;
    GF_RETURN_NOT_OK(gfi_vec_append(&c->max, s->max, (size_t)s->max_n, e->err));
  }
  return GF_OK;
}

/* Writes the data pages. With the dictionary (e->idx set), values are
 * entry indexes; otherwise PLAIN values read again from the frame. */
static gf_status encode_pages(enc *e, const gf_frame *f, int64_t row0, int64_t rows,
                              int64_t dict_rows, ci_acc *ci) {
  const pqw_colspec *cs = e->cs;
  const pqw_params *p = e->p;
  int bw = 1;
  while (dict_rows > 0 && ((uint64_t)1 << bw) < e->nentries) bw++;
  if (dict_rows > 0 && p->statistics && !e->rank) GF_RETURN_NOT_OK(rank_entries(e));
  pqw_stats chunk_st;
  memset(&chunk_st, 0, sizeof chunk_st);
  seg_iter it;
  seg_start(&it, f, cs->col, row0, row0 + rows);
  const gf_array *a = NULL;
  int64_t i0 = 0, cnt = 0, pos = 0; /* current segment, position in it */
  uint8_t tmp[16];
  int64_t r = 0;
  GF_RETURN_NOT_OK(need_tmp32(e, (size_t)(p->page_rows < rows ? p->page_rows : rows) + 1));
  while (r < rows) {
    int64_t first = r;
    int32_t kmin = INT32_MAX, kmax = -1, xmin = -1, xmax = -1; /* the page's bounds */
    int32_t cmin = -1, cmax = -1; /* the same by dictionary code (PLAIN) */
    const gf_array *dict = NULL;
    int32_t imax = 0; /* the page's largest dictionary index */
    /* bounds of PLAIN raw numbers (see fw below) */
    bool fhas = false;
    uint64_t fkmin = 0, fkmax = 0;
    const uint8_t *fpmin = NULL, *fpmax = NULL;
    int fwidth = 0;
    pqw_stats s;
    memset(&s, 0, sizeof s);
    e->values.len = 0;
    size_t nlev = 0, nidx = 0;
    uint32_t *lev = e->tmp32; /* levels; indices go after the levels */
    int64_t limit = p->page_rows;
    /* Pages before dict_rows hold indices, the others PLAIN values. */
    bool use_dict = r < dict_rows;
    if (use_dict && first + limit > dict_rows) limit = dict_rows - first;
    /* Bit-packed bool values of the page. */
    uint8_t boolacc = 0;
    int boolbits = 0;
    /* Room for a page of indices or fixed-width values, written without
     * a capacity check per value. */
    size_t page_max = (size_t)(limit < rows - r ? limit : rows - r);
    if (cs->phys != PQW_BYTE_ARRAY && cs->phys != PQW_BOOLEAN) {
      size_t w = use_dict ? 4 : cs->phys == PQW_FLBA ? (size_t)cs->type_length : 8;
      GF_RETURN_NOT_OK(gfi_vec_reserve(&e->values, page_max * w + 1, e->err));
    } else if (use_dict) {
      GF_RETURN_NOT_OK(gfi_vec_reserve(&e->values, page_max * 4 + 1, e->err));
    }
    while (r < rows && r - first < limit) {
      if (pos == cnt) {
        if (!seg_next(&it, &a, &i0, &cnt)) break;
        pos = 0;
      }
      int64_t take = cnt - pos;
      int fw = !use_dict && a->type.id != GF_TYPE_DICTIONARY ? raw_width(cs, a->type.id) : 0;
      if (fw) {
        /* PLAIN numbers already in their PLAIN bytes: copied, and the
         * bounds kept as order-preserving keys (NaN never a bound). */
        const uint8_t *valid = a->null_count > 0 ? gfi_buf(a, 0) : NULL;
        const uint8_t *raw = gfi_buf(a, 1);
        bool fl = cs->order == ORD_FLOAT || cs->order == ORD_DOUBLE;
        for (int64_t k = 0; k < take && r < rows && r - first < limit; k++, pos++, r++) {
          int64_t j = a->offset + i0 + pos;
          bool ok = !valid || gfi_bit_get(valid, j);
          if (ok) {
            const uint8_t *vp = raw + j * fw;
            uint8_t *dst = e->values.data + e->values.len; /* reserved below */
            if (fw == 4) memcpy(dst, vp, 4);
            else memcpy(dst, vp, 8);
            e->values.len += (size_t)fw;
            if (p->statistics && !(fl && is_nan(cs->order, vp))) {
              uint64_t key = sort_key(cs->order, vp);
              if (!fhas || key < fkmin) {
                fkmin = key;
                fpmin = vp;
              }
              if (!fhas || key > fkmax) {
                fkmax = key;
                fpmax = vp;
              }
              fhas = true;
            }
          } else {
            s.nulls++;
          }
          if (cs->optional) lev[nlev++] = ok;
          if ((int64_t)e->values.len >= p->page_bytes) limit = r + 1 - first;
        }
        fwidth = fw;
        continue;
      }
      for (int64_t k = 0; k < take && r < rows && r - first < limit; k++, pos++, r++) {
        const uint8_t *vp;
        int32_t vn;
        int g;
        if (use_dict) {
          int32_t x = e->idx[r];
          if (e->rank && r + 16 < dict_rows && e->idx[r + 16] >= 0)
            __builtin_prefetch(&e->rank[e->idx[r + 16]]); /* a cache miss ahead */
          g = x < 0 ? V_NULL : V_OK;
          if (g == V_OK) {
            if (e->rank) {
              int32_t rk = e->rank[x];
              if (rk >= 0 && rk < kmin) {
                kmin = rk;
                xmin = x;
              }
              if (rk > kmax) {
                kmax = rk;
                xmax = x;
              }
            }
            memcpy(e->values.data + e->values.len, &x, 4); /* reserved below */
            e->values.len += 4;
            if (x > imax) imax = x;
            nidx++;
          }
        } else {
          g = get_row(cs, a, i0 + pos, tmp, &vp, &vn);
          if (g < 0) return range_error(e, g, row0 + r);
          if (g == V_OK) {
            if (p->statistics && cs->dict_rank) {
              /* A dictionary column written PLAIN: compare the ranks of
               * its codes, fetch the two bounds at the end of the page. */
              int32_t code = ((const int32_t *)gfi_buf(a, 1))[a->offset + i0 + pos];
              int32_t rk = cs->dict_rank[code];
              if (rk >= 0 && rk < kmin) {
                kmin = rk;
                cmin = code;
              }
              if (rk > kmax) {
                kmax = rk;
                cmax = code;
              }
              dict = a->dictionary;
            } else if (p->statistics) {
              stats_add(&s, cs->order, vp, vn);
            }
            if (cs->phys == PQW_BOOLEAN) {
              boolacc |= (uint8_t)(vp[0] << boolbits);
              if (++boolbits == 8) {
                GF_RETURN_NOT_OK(gfi_vec_append(&e->values, &boolacc, 1, e->err));
                boolacc = 0;
                boolbits = 0;
              }
            } else {
              if (cs->phys == PQW_BYTE_ARRAY) {
                uint8_t pre[4];
                put_le(pre, (uint32_t)vn, 4);
                GF_RETURN_NOT_OK(gfi_vec_append(&e->values, pre, 4, e->err));
              }
              if (cs->phys == PQW_BYTE_ARRAY) {
                if (vn) GF_RETURN_NOT_OK(gfi_vec_append(&e->values, vp, (size_t)vn, e->err));
              } else { /* fixed width: room reserved below */
                memcpy(e->values.data + e->values.len, vp, (size_t)vn);
                e->values.len += (size_t)vn;
              }
            }
          }
        }
        if (g == V_NULL) s.nulls++;
        if (cs->optional) lev[nlev++] = g == V_OK;
        /* Page size: the values' bytes (indices counted at bw bits). */
        int64_t est = use_dict ? (int64_t)(nidx * (size_t)bw / 8) : (int64_t)e->values.len;
        if (est >= p->page_bytes) limit = r + 1 - first;
      }
    }
    if (boolbits) GF_RETURN_NOT_OK(gfi_vec_append(&e->values, &boolacc, 1, e->err));
    if (fhas) {
      s.has = true;
      set_bound(&s, false, fpmin, fwidth);
      set_bound(&s, true, fpmax, fwidth);
    }
    if (cmax >= 0) {
      const uint8_t *bp;
      int32_t bn;
      s.has = true;
      if (get_value(cs, dict, cmin, tmp, &bp, &bn) == V_OK) set_bound(&s, false, bp, bn);
      if (get_value(cs, dict, cmax, tmp, &bp, &bn) == V_OK) set_bound(&s, true, bp, bn);
    }
    if (xmax >= 0) {
      s.has = true;
      set_bound(&s, false, entry_ptr(e, (size_t)xmin), e->entry_len[xmin]);
      set_bound(&s, true, entry_ptr(e, (size_t)xmax), e->entry_len[xmax]);
    }
    int64_t prow = r - first;
    if (prow == 0)
      return gf_error_set(e->err, GF_EINTERNAL, "Parquet writer: column '%s': rows ran out at %lld",
                          cs->name, (long long)(row0 + r));
    /* Page body: levels, then values. */
    e->body.len = 0;
    if (cs->optional) {
      e->levels.len = 0;
      GF_RETURN_NOT_OK(rle_encode(&e->levels, lev, nlev, 1, e->err));
      uint8_t pre[4];
      put_le(pre, (uint32_t)e->levels.len, 4);
      GF_RETURN_NOT_OK(gfi_vec_append(&e->body, pre, 4, e->err));
      GF_RETURN_NOT_OK(gfi_vec_append(&e->body, e->levels.data, e->levels.len, e->err));
    }
    if (use_dict) {
      /* Each page has its own bit width: that of its largest index (the
       * entries come in order of first use, so early pages need fewer
       * bits, as in Arrow's writer, which encodes with the dictionary's
       * size so far). */
      int pbw = 1;
      while (((int64_t)1 << pbw) <= (int64_t)imax) pbw++;
      uint8_t b = (uint8_t)pbw;
      GF_RETURN_NOT_OK(gfi_vec_append(&e->body, &b, 1, e->err));
      GF_RETURN_NOT_OK(rle_encode(&e->body, (const uint32_t *)e->values.data, nidx, pbw, e->err));
    } else {
      GF_RETURN_NOT_OK(gfi_vec_append(&e->body, e->values.data, e->values.len, e->err));
    }
    int64_t at = (int64_t)e->out->bytes.len;
    GF_RETURN_NOT_OK(emit_page(e, PQW_PAGE_DATA, prow,
                               use_dict ? PQW_ENC_RLE_DICTIONARY : PQW_ENC_PLAIN,
                               p->statistics ? &s : NULL));
    GF_RETURN_NOT_OK(add_page_loc(e, at, (int64_t)e->out->bytes.len - at, first));
    if (p->statistics) {
      GF_RETURN_NOT_OK(ci_add(e, ci, &s, prow));
      GF_RETURN_NOT_OK(chunk_stats_add(e, &chunk_st, &s));
    } else {
      chunk_st.nulls += s.nulls;
    }
  }
  e->out->nulls = chunk_st.nulls;
  e->out->has_minmax = chunk_st.has;
  return GF_OK;
}

void gfi_pqw_chunk_free(const gf_allocator *a, pqw_chunk *c) {
  if (!c->bytes.a) return; /* never initialised */
  gfi_vec_reset(&c->bytes);
  gfi_vec_reset(&c->min);
  gfi_vec_reset(&c->max);
  gfi_vec_reset(&c->column_index);
  gfi_mfree(a, c->pages, c->cap_pages * sizeof *c->pages);
  c->pages = NULL;
  c->npages = c->cap_pages = 0;
}

/* See pq_write_column.h. */
gf_status gfi_pqw_encode_chunk(const pqw_params *p, const gf_frame *f, const pqw_colspec *cs,
                               int64_t row0, int64_t rows, pqw_chunk *out, gf_error *err) {
  const gf_allocator *a = p->a;
  gfi_vec_init(&out->bytes, a);
  gfi_vec_init(&out->min, a);
  gfi_vec_init(&out->max, a);
  gfi_vec_init(&out->column_index, a);
  out->rows = rows;
  out->dict_offset = -1;
  enc e;
  memset(&e, 0, sizeof e);
  e.p = p;
  e.cs = cs;
  e.out = out;
  e.err = err;
  gfi_vec_init(&e.dict, a);
  gfi_vec_init(&e.levels, a);
  gfi_vec_init(&e.values, a);
  gfi_vec_init(&e.body, a);
  gfi_vec_init(&e.comp, a);
  gfi_vec_init(&e.hdr, a);
  ci_acc ci;
  memset(&ci, 0, sizeof ci);
  ci.usable = true;
  gfi_vec_init(&ci.null_pages, a);
  gfi_vec_init(&ci.mins, a);
  gfi_vec_init(&ci.maxs, a);
  gfi_vec_init(&ci.min_len, a);
  gfi_vec_init(&ci.max_len, a);
  gfi_vec_init(&ci.null_counts, a);
  gf_status st = GF_OK;
  int64_t dict_rows = 0;
  if (p->dictionary && cs->phys != PQW_BOOLEAN && cs->vt.id != GF_TYPE_NULL && rows > 0) {
    st = build_dictionary(&e, f, row0, rows, &dict_rows);
    if (st == GF_OK && dict_rows > 0 && e.nentries > 0) {
      /* The dictionary page comes first. */
      gfi_vec tmpv = e.body;
      e.body = e.dict;
      out->dict_offset = 0;
      st = emit_page(&e, PQW_PAGE_DICTIONARY, (int64_t)e.nentries, PQW_ENC_PLAIN, NULL);
      e.dict = e.body;
      e.body = tmpv;
    } else {
      dict_rows = 0; /* only nulls, or the first value overflows: PLAIN */
    }
  }
  out->dictionary = dict_rows > 0;
  out->data_offset = (int64_t)out->bytes.len;
  if (st == GF_OK) st = encode_pages(&e, f, row0, rows, dict_rows, &ci);
  if (st == GF_OK && p->statistics) st = ci_finish(&e, &ci);
  /* Chunk min/max pointed into the dictionary: they were copied into
   * out->min/max by chunk_stats_add, so the dictionary may go now. */
  gfi_vec_reset(&e.dict);
  gfi_vec_reset(&e.levels);
  gfi_vec_reset(&e.values);
  gfi_vec_reset(&e.body);
  gfi_vec_reset(&e.comp);
  gfi_vec_reset(&e.hdr);
  gfi_vec_reset(&ci.null_pages);
  gfi_vec_reset(&ci.mins);
  gfi_vec_reset(&ci.maxs);
  gfi_vec_reset(&ci.min_len);
  gfi_vec_reset(&ci.max_len);
  gfi_vec_reset(&ci.null_counts);
  gfi_mfree(a, e.entry_off, e.cap_entries * sizeof *e.entry_off);
  gfi_mfree(a, e.entry_len, e.cap_entries * sizeof *e.entry_len);
  gfi_mfree(a, e.slots, e.nslots * sizeof *e.slots);
  if (e.idx) gfi_mfree(a, e.idx, (size_t)gfi_at_least_1((size_t)rows) * sizeof *e.idx);
  gfi_mfree(a, e.tmp32, e.cap_tmp32 * sizeof *e.tmp32);
  if (e.rank) gfi_mfree(a, e.rank, gfi_at_least_1(e.rank_cap) * sizeof *e.rank);
  if (e.order) gfi_mfree(a, e.order, gfi_at_least_1(e.nentries) * sizeof *e.order);
  return st;
}

/* See pq_write_column.h. */
gf_status gfi_pqw_rank_dictionary(const pqw_params *p, const pqw_colspec *cs,
                                  const gf_array *dict, int32_t **out, gf_error *err) {
  enc e;
  memset(&e, 0, sizeof e);
  e.p = p;
  e.cs = cs;
  e.err = err;
  gfi_vec_init(&e.dict, p->a);
  size_t n = (size_t)dict->length;
  uint8_t *isnull = gfi_calloc(p->a, gfi_at_least_1(n));
  gf_status st = isnull ? GF_OK : GF_OOM(err, "Parquet dictionary ranks");
  static const uint8_t zeros[16];
  /* Null (or unwritable) values hold a place of the value's width, so
   * the float NaN check reads real bytes; their rank is -1. */
  int32_t width = cs->phys == PQW_FLOAT ? 4 : cs->phys == PQW_DOUBLE ? 8 : 0;
  uint8_t tmp[16];
  for (size_t k = 0; k < n && st == GF_OK; k++) {
    const uint8_t *v;
    int32_t vn, got;
    int g = get_value(cs, dict, (int64_t)k, tmp, &v, &vn);
    if (g != V_OK) {
      isnull[k] = 1;
      v = zeros;
      vn = width;
    }
    st = add_entry(&e, v, vn, &got);
  }
  if (st == GF_OK) st = rank_entries(&e);
  if (st == GF_OK) {
    for (size_t k = 0; k < n; k++)
      if (isnull[k]) e.rank[k] = -1;
    *out = e.rank; /* gfi_at_least_1(n) entries */
    e.rank = NULL;
  }
  if (isnull) gfi_mfree(p->a, isnull, gfi_at_least_1(n));
  gfi_vec_reset(&e.dict);
  gfi_mfree(p->a, e.entry_off, e.cap_entries * sizeof *e.entry_off);
  gfi_mfree(p->a, e.entry_len, e.cap_entries * sizeof *e.entry_len);
  if (e.rank) gfi_mfree(p->a, e.rank, gfi_at_least_1(e.rank_cap) * sizeof *e.rank);
  if (e.order) gfi_mfree(p->a, e.order, gfi_at_least_1(e.nentries) * sizeof *e.order);
  return st;
}
