/* Decoding of one Parquet column chunk into one gf_array: walks its pages
 * (dictionary, data v1, data v2), decompresses them, decodes definition
 * levels and values (every encoding of the format for flat columns) and
 * converts the physical values to the output type. Work item of the
 * parallel reader: it touches only its own chunk and scratch memory. */
#include <string.h>

#include "core/hash.h"
#include "io/pq_read_internal.h"

/* Per-chunk decoder state and scratch (all freed by dec_free). */
typedef struct dec {
  const pq_column *col;
  const gf_allocator *a;
  gf_error *err;
  char where[700];
  int psize;            /* bytes per physical value in `vals` */
  gfi_vec page;         /* decompressed page */
  gfi_vec levels;       /* uint32 definition levels */
  gfi_vec idx;          /* uint32 dictionary indices */
  gfi_vec vals;         /* decoded physical values of the page */
  gfi_vec deltas;       /* int64 */
  gfi_vec scratch;      /* DELTA_BYTE_ARRAY rebuilt values */
  gfi_vec dict;         /* physical dictionary values */
  gfi_vec dict_bytes;   /* copy of dictionary bytes (page buffer is reused) */
  int64_t ndict;
  bool have_dict;
  /* Codes output of a chunk whose later pages left the dictionary: their
   * distinct values extend it (entries ndict.. are extra[i - ndict]). */
  gfi_vec xbytes;       /* bytes of the extra entries */
  gfi_vec xents;        /* uint64 (offset << 32 | length) per extra entry */
  gfi_vec ht;           /* uint32 slots: entry + 1, 0 = empty */
  int64_t nx;           /* extra entries */
  /* output: `rows` declared, `cap` rows allocated so far (grown as the
   * pages deliver values, never trusting the declared count alone) */
  int64_t rows, cap, pos, nulls;
  /* Late materialisation: only rows pick[0, npick) (ascending, within the
   * row group) are output; pages holding none are not even decompressed.
   * inrow counts the row group's rows consumed, pk the next pick. */
  const int64_t *pick;
  int64_t npick, pk, inrow;
  bool picked; /* the page's picked rows were output directly */
  bool strict;  /* codes only from dictionary pages (else GF_ENOTSUP) */
  gf_buffer *valid, *data;
  gfi_vec offs;         /* int64 offsets (var width) */
  gfi_vec bytes;        /* var-width bytes */
  int width;            /* output bytes per value (fixed) */
  bool codes;           /* writing dictionary codes */
} dec;

/* Sets "<where>: <what>" with status st. */
static gf_status fail(dec *d, gf_status st, const char *what) {
  return gf_error_set(d->err, st, "%s: %s", d->where, what);
}

/* Bytes per decoded physical value (pq_bytes for BYTE_ARRAY). */
static int phys_size(const pq_column *c) {
  switch (c->phys) {
  case GFI_PQ_BOOLEAN: return 1;
  case GFI_PQ_INT32:
  case GFI_PQ_FLOAT: return 4;
  case GFI_PQ_INT64:
  case GFI_PQ_DOUBLE: return 8;
  case GFI_PQ_INT96: return 12;
  case GFI_PQ_FIXED_LEN_BYTE_ARRAY: return c->type_length;
  default: return (int)sizeof(pq_bytes);
  }
}

/* Makes v hold exactly n bytes (at least 1), contents undefined. */
static gf_status vec_size(dec *d, gfi_vec *v, size_t n) {
  v->len = 0;
  return gfi_vec_resize(v, n ? n : 1, d->err);
}

/* ---- physical value decoding ------------------------------------- */

/* PLAIN: n values of the column's physical type into out. */
static gf_status plain_decode(dec *d, pq_in *in, int64_t n, uint8_t *out) {
  const pq_column *c = d->col;
  if (c->phys == GFI_PQ_BOOLEAN) {
    if ((uint64_t)(in->end - in->p) < ((uint64_t)n + 7) / 8)
      return gfi_pq_bad(in, "PLAIN booleans past the end of the page");
    for (int64_t i = 0; i < n; i++) out[i] = (in->p[i >> 3] >> (i & 7)) & 1;
    in->p += (n + 7) / 8;
    return GF_OK;
  }
  if (c->phys == GFI_PQ_BYTE_ARRAY) {
    pq_bytes *o = (pq_bytes *)out;
    for (int64_t i = 0; i < n; i++) {
      if (in->end - in->p < 4) return gfi_pq_bad(in, "PLAIN byte array length past the end of the page");
      uint32_t len = (uint32_t)in->p[0] | (uint32_t)in->p[1] << 8 |
                     (uint32_t)in->p[2] << 16 | (uint32_t)in->p[3] << 24;
      in->p += 4;
      if (len > (uint64_t)(in->end - in->p)) return gfi_pq_bad(in, "PLAIN byte array past the end of the page");
      o[i].p = in->p;
      o[i].len = len;
      in->p += len;
    }
    return GF_OK;
  }
  uint64_t need = (uint64_t)n * (uint64_t)d->psize;
  if (need > (uint64_t)(in->end - in->p)) return gfi_pq_bad(in, "PLAIN values past the end of the page");
  if (need) memcpy(out, in->p, need);
  in->p += need;
  return GF_OK;
}

/* DELTA_LENGTH_BYTE_ARRAY: lengths (delta-packed), then the bytes. */
static gf_status dlba_decode(dec *d, pq_in *in, int64_t n, pq_bytes *o) {
  pq_in h = *in;
  int64_t total;
  GF_RETURN_NOT_OK(gfi_pq_delta_decode(&h, NULL, 0, &total));
  if (total < n) return gfi_pq_bad(in, "DELTA_LENGTH_BYTE_ARRAY has fewer lengths than values");
  GF_RETURN_NOT_OK(vec_size(d, &d->deltas, (size_t)total * 8));
  int64_t *len = (int64_t *)d->deltas.data;
  GF_RETURN_NOT_OK(gfi_pq_delta_decode(in, len, total, NULL));
  for (int64_t i = 0; i < n; i++) {
    if (len[i] < 0 || (uint64_t)len[i] > (uint64_t)(in->end - in->p))
      return gfi_pq_bad(in, "DELTA_LENGTH_BYTE_ARRAY value past the end of the page");
    o[i].p = in->p;
    o[i].len = (uint32_t)len[i];
    in->p += len[i];
  }
  return GF_OK;
}

/* DELTA_BYTE_ARRAY: prefix lengths, then suffixes (DELTA_LENGTH_BYTE_ARRAY);
 * values are rebuilt into d->scratch. */
static gf_status dba_decode(dec *d, pq_in *in, int64_t n, pq_bytes *o) {
  pq_in h = *in;
  int64_t total;
  GF_RETURN_NOT_OK(gfi_pq_delta_decode(&h, NULL, 0, &total));
  if (total < n) return gfi_pq_bad(in, "DELTA_BYTE_ARRAY has fewer prefixes than values");
  gfi_vec prefixes;
  gfi_vec_init(&prefixes, d->a);
  gf_status st = gfi_vec_resize(&prefixes, (size_t)(total ? total : 1) * 8, d->err);
  int64_t *pre = (int64_t *)prefixes.data;
  if (st == GF_OK) st = gfi_pq_delta_decode(in, pre, total, NULL);
  if (st == GF_OK) st = dlba_decode(d, in, n, o);
  uint64_t need = 0;
  for (int64_t i = 0; st == GF_OK && i < n; i++) {
    if (pre[i] < 0 || (i == 0 && pre[i] != 0) ||
        (i > 0 && (uint64_t)pre[i] > (uint64_t)pre[i - 1] + o[i - 1].len))
      st = gfi_pq_bad(in, "DELTA_BYTE_ARRAY prefix longer than the previous value");
    else
      need += (uint64_t)pre[i] + o[i].len;
  }
  if (st == GF_OK && need > ((uint64_t)1 << 40))
    st = gfi_pq_bad(in, "DELTA_BYTE_ARRAY values too large");
  if (st == GF_OK) st = vec_size(d, &d->scratch, (size_t)need);
  if (st == GF_OK) {
    uint8_t *w = d->scratch.data;
    const uint8_t *prev = NULL;
    for (int64_t i = 0; i < n; i++) {
      uint32_t len = (uint32_t)pre[i] + o[i].len;
      if (pre[i]) memcpy(w, prev, (size_t)pre[i]);
      if (o[i].len) memcpy(w + pre[i], o[i].p, o[i].len);
      o[i].p = w;
      o[i].len = len;
      prev = w;
      w += len;
    }
  }
  gfi_vec_reset(&prefixes);
  return st;
}

/* Decodes n dictionary indices (bit width byte, then RLE/bit-packed runs)
 * into d->idx, checked against the dictionary's size. The runs are
 * counted before the scratch is sized, so a page declaring more values
 * than its bytes hold fails without allocating for them. */
static gf_status dict_indices(dec *d, pq_in *in, int64_t n) {
  if (!d->have_dict) return gfi_pq_bad(in, "dictionary-encoded page without a dictionary page");
  if (n == 0) return GF_OK;
  if (in->p >= in->end) return gfi_pq_bad(in, "dictionary indices missing");
  int bw = *in->p++;
  if (d->ndict == 0) return gfi_pq_bad(in, "dictionary index into an empty dictionary");
  int64_t held;
  GF_RETURN_NOT_OK(gfi_pq_rle_count(in, bw, n, &held));
  if (held < n) return gfi_pq_bad(in, "dictionary indices hold fewer values than the page");
  GF_RETURN_NOT_OK(vec_size(d, &d->idx, (size_t)n * 4));
  return gfi_pq_rle_decode(in, bw, n, (uint32_t)d->ndict, (uint32_t *)d->idx.data);
}

/* Decodes n non-null values of encoding `enc` into d->vals (or, when
 * writing dictionary codes, n indices into d->idx). */
static gf_status decode_values(dec *d, pq_in *in, int enc, int64_t n) {
  const pq_column *c = d->col;
  if (enc == GFI_PQ_PLAIN) {
    /* Checked before the scratch is sized (a declared count is not). */
    uint64_t min = c->phys == GFI_PQ_BOOLEAN ? ((uint64_t)n + 7) / 8
                   : c->phys == GFI_PQ_BYTE_ARRAY ? (uint64_t)n * 4
                                                 : (uint64_t)n * (uint64_t)d->psize;
    if (min > (uint64_t)(in->end - in->p)) return gfi_pq_bad(in, "PLAIN values past the end of the page");
  }
  if (enc == GFI_PQ_PLAIN_DICTIONARY || enc == GFI_PQ_RLE_DICTIONARY) {
    GF_RETURN_NOT_OK(dict_indices(d, in, n));
    /* Strings are copied from the dictionary by the caller itself. */
    if (d->codes || n == 0 || c->conv == PQ_CV_BYTES) return GF_OK;
  }
  GF_RETURN_NOT_OK(vec_size(d, &d->vals, (size_t)n * (size_t)d->psize));
  uint8_t *out = d->vals.data;
  switch (enc) {
  case GFI_PQ_PLAIN:
    return plain_decode(d, in, n, out);
  case GFI_PQ_PLAIN_DICTIONARY:
  case GFI_PQ_RLE_DICTIONARY: {
    const uint32_t *ix = (const uint32_t *)d->idx.data;
    const uint8_t *dv = d->dict.data;
    size_t ps = (size_t)d->psize;
    if (c->phys == GFI_PQ_BYTE_ARRAY) {
      const pq_bytes *db = (const pq_bytes *)dv;
      pq_bytes *ob = (pq_bytes *)out;
      for (int64_t i = 0; i < n; i++) ob[i] = db[ix[i]];
    } else if (ps == 8) {
      for (int64_t i = 0; i < n; i++) memcpy(out + (size_t)i * 8, dv + (size_t)ix[i] * 8, 8);
    } else if (ps == 4) {
      for (int64_t i = 0; i < n; i++) memcpy(out + (size_t)i * 4, dv + (size_t)ix[i] * 4, 4);
    } else {
      for (int64_t i = 0; i < n; i++) memcpy(out + (size_t)i * ps, dv + (size_t)ix[i] * ps, ps);
    }
    return GF_OK;
  }
  case GFI_PQ_RLE: {
    if (c->phys != GFI_PQ_BOOLEAN) return fail(d, GF_ENOTSUP, "RLE encoding of a non-boolean column");
    if (in->end - in->p < 4) return gfi_pq_bad(in, "RLE booleans without a length");
    uint32_t len = (uint32_t)in->p[0] | (uint32_t)in->p[1] << 8 |
                   (uint32_t)in->p[2] << 16 | (uint32_t)in->p[3] << 24;
    in->p += 4;
    if (len > (uint64_t)(in->end - in->p)) return gfi_pq_bad(in, "RLE booleans past the end of the page");
    pq_in sub = {in->p, in->p + len, in->where, in->err};
    GF_RETURN_NOT_OK(vec_size(d, &d->idx, (size_t)n * 4));
    uint32_t *ix = (uint32_t *)d->idx.data;
    GF_RETURN_NOT_OK(gfi_pq_rle_decode(&sub, 1, n, 0, ix));
    for (int64_t i = 0; i < n; i++) out[i] = (uint8_t)ix[i];
    in->p += len;
    return GF_OK;
  }
  case GFI_PQ_DELTA_BINARY_PACKED: {
    if (c->phys != GFI_PQ_INT32 && c->phys != GFI_PQ_INT64)
      return fail(d, GF_EINVAL, "DELTA_BINARY_PACKED on a column that is not INT32/INT64");
    GF_RETURN_NOT_OK(vec_size(d, &d->deltas, (size_t)n * 8));
    int64_t *v = (int64_t *)d->deltas.data;
    GF_RETURN_NOT_OK(gfi_pq_delta_decode(in, v, n, NULL));
    if (c->phys == GFI_PQ_INT32)
      for (int64_t i = 0; i < n; i++) ((int32_t *)out)[i] = (int32_t)(uint32_t)(uint64_t)v[i];
    else
      memcpy(out, v, (size_t)n * 8);
    return GF_OK;
  }
  case GFI_PQ_DELTA_LENGTH_BYTE_ARRAY:
    if (c->phys != GFI_PQ_BYTE_ARRAY)
      return fail(d, GF_EINVAL, "DELTA_LENGTH_BYTE_ARRAY on a column that is not BYTE_ARRAY");
    return dlba_decode(d, in, n, (pq_bytes *)out);
  case GFI_PQ_DELTA_BYTE_ARRAY: {
    if (c->phys != GFI_PQ_BYTE_ARRAY && c->phys != GFI_PQ_FIXED_LEN_BYTE_ARRAY)
      return fail(d, GF_EINVAL, "DELTA_BYTE_ARRAY on a column that is not a byte array");
    if (c->phys == GFI_PQ_BYTE_ARRAY) return dba_decode(d, in, n, (pq_bytes *)out);
    gfi_vec tmp;
    gfi_vec_init(&tmp, d->a);
    gf_status st = gfi_vec_resize(&tmp, (size_t)(n ? n : 1) * sizeof(pq_bytes), d->err);
    if (st == GF_OK) st = dba_decode(d, in, n, (pq_bytes *)tmp.data);
    for (int64_t i = 0; st == GF_OK && i < n; i++) {
      const pq_bytes *b = (const pq_bytes *)tmp.data + i;
      if (b->len != (uint32_t)c->type_length)
        st = gfi_pq_bad(in, "DELTA_BYTE_ARRAY value of the wrong fixed length");
      else
        memcpy(out + (size_t)i * (size_t)d->psize, b->p, b->len);
    }
    gfi_vec_reset(&tmp);
    return st;
  }
  case GFI_PQ_BYTE_STREAM_SPLIT: {
    if (c->phys == GFI_PQ_BOOLEAN || c->phys == GFI_PQ_BYTE_ARRAY || c->phys == GFI_PQ_INT96)
      return fail(d, GF_EINVAL, "BYTE_STREAM_SPLIT on a column of the wrong type");
    size_t w = (size_t)d->psize;
    if ((uint64_t)n * w > (uint64_t)(in->end - in->p))
      return gfi_pq_bad(in, "BYTE_STREAM_SPLIT values past the end of the page");
    for (size_t j = 0; j < w; j++)
      for (int64_t i = 0; i < n; i++) out[(size_t)i * w + j] = in->p[j * (size_t)n + (size_t)i];
    in->p += (size_t)n * w;
    return GF_OK;
  }
  default: {
    char msg[128];
    snprintf(msg, sizeof msg, "encoding %s (%d) is not supported for %s",
             gfi_pq_encoding_name(enc), enc, gfi_pq_type_name(c->phys));
    return fail(d, GF_ENOTSUP, msg);
  }
  }
}

/* ---- conversion to the output type -------------------------------- */

/* IEEE half -> float, exact (subnormals normalised, NaN payload kept). */
static float half_to_float(uint16_t h) {
  uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
  if (e == 0) {
    if (m == 0) {
      bits = s;
    } else { /* subnormal: normalise */
      int k = -1;
      do {
        k++;
        m <<= 1;
      } while (!(m & 0x400));
      bits = s | (uint32_t)(127 - 15 - k) << 23 | (m & 0x3ff) << 13;
    }
  } else if (e == 31) {
    bits = s | 0x7f800000u | m << 13;
  } else {
    bits = s | (e + 127 - 15) << 23 | m << 13;
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* Big-endian two's complement bytes -> little-endian `w`-byte integer. */
static bool be_to_le(const uint8_t *p, uint32_t n, uint8_t *dst, int w) {
  uint8_t fill = n && (p[0] & 0x80) ? 0xff : 0;
  /* Leading sign bytes beyond the width must be pure sign extension. */
  while (n > (uint32_t)w) {
    if (p[0] != fill) return false;
    p++;
    n--;
  }
  if (n && ((p[0] & 0x80) ? 0xff : 0) != fill) return false;
  for (int i = 0; i < w; i++) dst[i] = (uint32_t)i < n ? p[n - 1 - (uint32_t)i] : fill;
  return true;
}

/* Stores physical value k of `src` into output slot `pos`. */
static gf_status store(dec *d, const uint8_t *src, int64_t pos) {
  const pq_column *c = d->col;
  uint8_t *o = d->data ? (uint8_t *)gf_buffer_mutable_data(d->data) : NULL;
  switch (c->conv) {
  case PQ_CV_BOOL:
    if (*src) gfi_bit_set(o, pos);
    return GF_OK;
  case PQ_CV_INT: {
    int64_t v;
    if (c->phys == GFI_PQ_INT32) {
      int32_t x;
      memcpy(&x, src, 4);
      /* unsigned annotations zero-extend */
      v = (c->type.id == GF_TYPE_UINT32 || c->type.id == GF_TYPE_UINT64) ? (int64_t)(uint32_t)x : x;
    } else {
      memcpy(&v, src, 8);
    }
    v = (int64_t)((uint64_t)v * (uint64_t)c->mul);
    memcpy(o + pos * d->width, &v, (size_t)d->width); /* little-endian truncation */
    return GF_OK;
  }
  case PQ_CV_F32:
  case PQ_CV_F64:
    memcpy(o + pos * d->width, src, (size_t)d->width);
    return GF_OK;
  case PQ_CV_F16: {
    float f = half_to_float((uint16_t)(src[0] | src[1] << 8));
    memcpy(o + pos * 4, &f, 4);
    return GF_OK;
  }
  case PQ_CV_INT96: {
    uint64_t nanos;
    uint32_t jd;
    memcpy(&nanos, src, 8);
    memcpy(&jd, src + 8, 4);
    int64_t v = (int64_t)(((uint64_t)(int64_t)((int64_t)jd - 2440588) * 86400000000000ull) + nanos);
    memcpy(o + pos * 8, &v, 8);
    return GF_OK;
  }
  case PQ_CV_DEC: {
    uint8_t *dst = o + pos * d->width;
    if (c->phys == GFI_PQ_INT32 || c->phys == GFI_PQ_INT64) {
      int64_t v;
      if (c->phys == GFI_PQ_INT32) {
        int32_t x;
        memcpy(&x, src, 4);
        v = x;
      } else {
        memcpy(&v, src, 8);
      }
      memcpy(dst, &v, 8);
      memset(dst + 8, v < 0 ? 0xff : 0, (size_t)d->width - 8);
      return GF_OK;
    }
    const uint8_t *p;
    uint32_t n;
    if (c->phys == GFI_PQ_BYTE_ARRAY) {
      const pq_bytes *b = (const pq_bytes *)src;
      p = b->p;
      n = b->len;
    } else {
      p = src;
      n = (uint32_t)c->type_length;
    }
    if (!be_to_le(p, n, dst, d->width))
      return fail(d, GF_ERANGE, "decimal value wider than its precision allows");
    return GF_OK;
  }
  case PQ_CV_FLBA:
    memcpy(o + pos * d->width, src, (size_t)d->width);
    return GF_OK;
  case PQ_CV_BYTES: {
    const pq_bytes *b = (const pq_bytes *)src;
    GF_RETURN_NOT_OK(gfi_vec_append(&d->bytes, b->p, b->len, d->err));
    int64_t end = (int64_t)d->bytes.len;
    memcpy(d->offs.data + (size_t)(pos + 1) * 8, &end, 8);
    return GF_OK;
  }
  }
  return fail(d, GF_EINTERNAL, "unknown conversion");
}

/* A null at `pos`: only var-width outputs need their offset carried. */
static void store_null(dec *d, int64_t pos) {
  if (d->col->conv == PQ_CV_BYTES && !d->codes) {
    int64_t end = (int64_t)d->bytes.len;
    memcpy(d->offs.data + (size_t)(pos + 1) * 8, &end, 8);
  }
  d->nulls++;
}

/* Bytes of the data buffer for n rows (0 for var-width outputs). */
static size_t data_bytes(const dec *d, int64_t n) {
  if (!d->codes && d->col->conv == PQ_CV_BYTES) return 0;
  if (!d->codes && d->col->conv == PQ_CV_BOOL) return (size_t)gfi_bitmap_bytes(n);
  return (size_t)n * (size_t)d->width;
}

/* Sets up the output for `rows` values (the declared count), allocating
 * room for `cap0` of them (<= rows; out_reserve grows it as pages
 * deliver values, so a row count that the pages do not back costs no
 * memory: fuzzer finding 11). */
static gf_status out_init(dec *d, int64_t rows, int64_t cap0) {
  d->rows = rows;
  d->cap = cap0 < rows ? cap0 : rows;
  const pq_column *c = d->col;
  if (c->max_def > 0) {
    if (gfi_buffer_alloc(d->a, (size_t)gfi_bitmap_bytes(d->cap), &d->valid) != GF_OK)
      return GF_OOM(d->err, "a Parquet validity bitmap");
  }
  if (d->codes) {
    d->width = 4;
  } else if (c->conv == PQ_CV_BYTES) {
    GF_RETURN_NOT_OK(gfi_vec_resize(&d->offs, (size_t)(d->cap + 1) * 8, d->err));
    memset(d->offs.data, 0, 8);
    return GF_OK;
  } else if (c->conv != PQ_CV_BOOL) {
    d->width = gfi_type_byte_width(gf_type_value(c->type));
  }
  if (gfi_buffer_alloc(d->a, data_bytes(d, d->cap), &d->data) != GF_OK)
    return GF_OOM(d->err, "a Parquet column");
  return GF_OK;
}

/* Makes room for `need` (<= rows) output values: doubling, capped at
 * the declared rows, so an honest chunk grows O(log) times at most. */
static gf_status out_reserve(dec *d, int64_t need) {
  if (need <= d->cap) return GF_OK;
  int64_t cap = d->cap > d->rows / 2 ? d->rows : d->cap * 2;
  if (cap < need) cap = need;
  if (d->valid && gfi_buffer_resize(d->valid, (size_t)gfi_bitmap_bytes(cap)) != GF_OK)
    return GF_OOM(d->err, "a Parquet validity bitmap");
  if (!d->codes && d->col->conv == PQ_CV_BYTES) {
    GF_RETURN_NOT_OK(gfi_vec_resize(&d->offs, (size_t)(cap + 1) * 8, d->err));
  } else if (gfi_buffer_resize(d->data, data_bytes(d, cap)) != GF_OK) {
    return GF_OOM(d->err, "a Parquet column");
  }
  d->cap = cap;
  return GF_OK;
}

/* Builds the output array (values type `t`, dictionary `dict` for codes). */
static gf_status out_finish(dec *d, gf_datatype t, gf_array *dict, gf_array **out) {
  gf_buffer *b[3] = {NULL, NULL, NULL};
  if (d->valid && d->nulls > 0) {
    b[0] = d->valid;
    d->valid = NULL;
  }
  gf_datatype vt = gf_type_value(t);
  if (!d->codes && d->col->conv == PQ_CV_BYTES) {
    bool large = d->bytes.len > (size_t)INT32_MAX || gfi_type_is_large(vt.id);
    if (large) t.id = vt.id == GF_TYPE_UTF8 || vt.id == GF_TYPE_LARGE_UTF8 ? GF_TYPE_LARGE_UTF8
                                                                          : GF_TYPE_LARGE_BINARY;
    size_t osz = large ? 8 : 4;
    /* The bytes are handed over, not copied (an owned block freed by
     * gf_mem_free). */
    size_t nbytes = d->bytes.len;
    uint8_t *bytes = d->bytes.data ? gfi_vec_take(&d->bytes) : NULL;
    bool ok = gfi_buffer_alloc(d->a, (size_t)(d->pos + 1) * osz, &b[1]) == GF_OK;
    if (ok && bytes) {
      ok = gfi_buffer_wrap_with(d->a, bytes, nbytes, gf_mem_free, bytes, &b[2]) == GF_OK;
      if (!ok) gf_mem_free(bytes);
    } else if (ok) {
      ok = gfi_buffer_alloc(d->a, 0, &b[2]) == GF_OK;
    } else {
      gf_mem_free(bytes);
    }
    if (!ok) {
      gf_buffer_release(b[0]);
      gf_buffer_release(b[1]);
      return GF_OOM(d->err, "a Parquet string column");
    }
    uint8_t *ob = gf_buffer_mutable_data(b[1]);
    const int64_t *src = (const int64_t *)d->offs.data;
    if (large) {
      memcpy(ob, src, (size_t)(d->pos + 1) * 8);
    } else {
      for (int64_t i = 0; i <= d->pos; i++) ((int32_t *)ob)[i] = (int32_t)src[i];
    }
  } else {
    b[1] = d->data;
    d->data = NULL;
  }
  /* d->pos rows were output: all declared rows, or the picked ones. */
  return gfi_array_make(d->a, t, d->pos, 0, d->nulls, b, dict, out, d->err);
}

/* ---- pages ---------------------------------------------------------- */

/* Decodes the dictionary page body into d->dict (physical values). */
static gf_status read_dict_page(dec *d, const gfi_pq_dict_page_header *h,
                                const uint8_t *body, size_t n) {
  if (d->have_dict) return fail(d, GF_EINVAL, "second dictionary page in a column chunk");
  /* Entries were already added by hashing: the caller's slow path. */
  if (d->nx) return GF_ENOTSUP;
  if (h->num_values < 0) return fail(d, GF_EINVAL, "negative dictionary size");
  if (h->encoding != GFI_PQ_PLAIN && h->encoding != GFI_PQ_PLAIN_DICTIONARY)
    return fail(d, GF_ENOTSUP, "dictionary page encoding is not PLAIN");
  /* The page buffer is reused: keep a copy of the bytes the values view. */
  GF_RETURN_NOT_OK(vec_size(d, &d->dict_bytes, n + 16)); /* +16: see the copy in read_data_page */
  if (n) memcpy(d->dict_bytes.data, body, n);
  pq_in in = {d->dict_bytes.data, d->dict_bytes.data + n, d->where, d->err};
  if ((uint64_t)h->num_values > n * 8 + 8 && d->col->phys != GFI_PQ_BOOLEAN)
    return fail(d, GF_EINVAL, "dictionary page holds more values than bytes");
  d->vals.len = 0;
  GF_RETURN_NOT_OK(vec_size(d, &d->dict, (size_t)h->num_values * (size_t)d->psize));
  GF_RETURN_NOT_OK(plain_decode(d, &in, h->num_values, d->dict.data));
  d->ndict = h->num_values;
  d->have_dict = true;
  return GF_OK;
}

/* Bytes of dictionary entry i (the page's or an extra one). */
static pq_bytes entry(const dec *d, uint64_t i) {
  if (i < (uint64_t)d->ndict) return ((const pq_bytes *)d->dict.data)[i];
  uint64_t e = ((const uint64_t *)d->xents.data)[i - (uint64_t)d->ndict];
  return (pq_bytes){d->xbytes.data + (e >> 32), (uint32_t)e};
}

/* (Re)builds the entry hash table with room for `n` entries. Entries
 * already equal keep the first index (dictionary pages may repeat). */
static gf_status ht_build(dec *d, uint64_t n) {
  size_t slots = 64;
  while (slots < 2 * n) slots *= 2;
  GF_RETURN_NOT_OK(vec_size(d, &d->ht, slots * 4));
  uint32_t *t = (uint32_t *)d->ht.data;
  memset(t, 0, slots * 4);
  d->ht.len = slots * 4;
  for (uint64_t i = 0; i < (uint64_t)d->ndict + (uint64_t)d->nx; i++) {
    pq_bytes b = entry(d, i);
    size_t h = (size_t)gfi_hash_bytes(b.p, b.len) & (slots - 1);
    while (t[h]) {
      pq_bytes o = entry(d, t[h] - 1);
      if (o.len == b.len && !memcmp(o.p, b.p, b.len)) break;
      h = (h + 1) & (slots - 1);
    }
    if (!t[h]) t[h] = (uint32_t)i + 1;
  }
  return GF_OK;
}

/* The entry index of value b, adding it as an extra entry if new. */
static gf_status intern(dec *d, pq_bytes b, uint32_t *code) {
  size_t slots = d->ht.len / 4;
  uint64_t total = (uint64_t)d->ndict + (uint64_t)d->nx;
  if (slots == 0 || 2 * (total + 1) > slots) {
    if (total >= INT32_MAX - 1) return fail(d, GF_ERANGE, "more than 2^31 distinct values in one column chunk");
    GF_RETURN_NOT_OK(ht_build(d, 2 * (total + 1)));
    slots = d->ht.len / 4;
  }
  uint32_t *t = (uint32_t *)d->ht.data;
  size_t h = (size_t)gfi_hash_bytes(b.p, b.len) & (slots - 1);
  while (t[h]) {
    pq_bytes o = entry(d, t[h] - 1);
    if (o.len == b.len && !memcmp(o.p, b.p, b.len)) {
      *code = t[h] - 1;
      return GF_OK;
    }
    h = (h + 1) & (slots - 1);
  }
  if (d->xbytes.len > UINT32_MAX - (uint64_t)b.len)
    return fail(d, GF_ERANGE, "distinct values of one column chunk over 4 GiB");
  uint64_t e = (uint64_t)d->xbytes.len << 32 | b.len;
  GF_RETURN_NOT_OK(gfi_vec_append(&d->xbytes, b.p, b.len, d->err));
  GF_RETURN_NOT_OK(gfi_vec_append(&d->xents, &e, 8, d->err));
  t[h] = (uint32_t)total + 1;
  *code = (uint32_t)total;
  d->nx++;
  return GF_OK;
}

/* Codes output for a page that is not dictionary-encoded (a writer's
 * fallback when the dictionary grew too large): its values are looked up
 * in (and added to) the chunk's dictionary by hashing, so the chunk stays
 * one dictionary array without decoding the rows twice. */
static gf_status codes_from_values(dec *d, pq_in *in, int enc, int64_t nvals,
                                   int64_t nonnull, const uint32_t *lv) {
  GF_RETURN_NOT_OK(decode_values(d, in, enc, nonnull));
  GF_RETURN_NOT_OK(out_reserve(d, d->pos + nvals));
  uint8_t *valid = d->valid ? gf_buffer_mutable_data(d->valid) : NULL;
  int32_t *codes = (int32_t *)gf_buffer_mutable_data(d->data);
  const pq_bytes *b = (const pq_bytes *)d->vals.data;
  int64_t k = 0;
  for (int64_t i = 0; i < nvals; i++, d->pos++) {
    if (lv && lv[i] != (uint32_t)d->col->max_def) {
      d->nulls++;
      continue;
    }
    if (valid) gfi_bit_set(valid, d->pos);
    uint32_t code = 0;
    GF_RETURN_NOT_OK(intern(d, b[k++], &code));
    codes[d->pos] = (int32_t)code;
  }
  return GF_OK;
}

/* Appends the extra entries to d->dict (after the last page, when
 * d->xbytes no longer moves). */
static gf_status merge_extras(dec *d) {
  if (!d->nx) return GF_OK;
  size_t old = (size_t)d->ndict * sizeof(pq_bytes);
  GF_RETURN_NOT_OK(gfi_vec_resize(&d->dict, old + (size_t)d->nx * sizeof(pq_bytes), d->err));
  pq_bytes *o = (pq_bytes *)(d->dict.data + old);
  for (int64_t i = 0; i < d->nx; i++) o[i] = entry(d, (uint64_t)(d->ndict + i));
  d->ndict += d->nx;
  d->nx = 0;
  d->have_dict = true;
  return GF_OK;
}

/* Decodes one data page's levels and values into the output. */
static gf_status read_data_page(dec *d, int64_t nvals, int enc,
                                const uint8_t *levels, size_t nlev, bool v1,
                                const uint8_t *vals, size_t nv) {
  const pq_column *c = d->col;
  if (nvals < 0 || nvals > d->rows - d->inrow)
    return fail(d, GF_EINVAL, "data pages hold more values than the row group's rows");
  int64_t nonnull = nvals;
  uint32_t *lv = NULL;
  if (c->max_def > 0) {
    pq_in in = {levels, levels + nlev, d->where, d->err};
    if (v1) {
      if (in.end - in.p < 4) return gfi_pq_bad(&in, "definition levels without a length");
      uint32_t len = (uint32_t)in.p[0] | (uint32_t)in.p[1] << 8 |
                     (uint32_t)in.p[2] << 16 | (uint32_t)in.p[3] << 24;
      in.p += 4;
      if (len > (uint64_t)(in.end - in.p)) return gfi_pq_bad(&in, "definition levels past the end of the page");
      in.end = in.p + len;
      vals = in.end;
      nv = (size_t)(levels + nlev - vals);
    }
    /* The levels' runs are counted before anything is sized for the
     * header's count. */
    int64_t held;
    GF_RETURN_NOT_OK(gfi_pq_rle_count(&in, pq_bit_width((uint32_t)c->max_def), nvals, &held));
    if (held < nvals) return gfi_pq_bad(&in, "definition levels hold fewer values than the page header declares");
    bool none_null = gfi_pq_rle_all(&in, pq_bit_width((uint32_t)c->max_def), nvals,
                                    (uint32_t)c->max_def);
    if (!none_null) {
      GF_RETURN_NOT_OK(vec_size(d, &d->levels, (size_t)nvals * 4));
      lv = (uint32_t *)d->levels.data;
      GF_RETURN_NOT_OK(gfi_pq_rle_decode(&in, pq_bit_width((uint32_t)c->max_def), nvals,
                                     (uint32_t)c->max_def + 1, lv));
      nonnull = 0;
      for (int64_t i = 0; i < nvals; i++) nonnull += lv[i] == (uint32_t)c->max_def;
      /* No null in the page: the level-free paths below apply. */
      if (nonnull == nvals) lv = NULL;
    }
  }
  pq_in in = {vals, vals + nv, d->where, d->err};
  bool dict_enc = enc == GFI_PQ_PLAIN_DICTIONARY || enc == GFI_PQ_RLE_DICTIONARY;
  if (d->codes && !dict_enc) {
    if (d->strict) return GF_ENOTSUP;
    return codes_from_values(d, &in, enc, nvals, nonnull, lv);
  }
  bool ident = !d->codes && (c->conv == PQ_CV_F32 || c->conv == PQ_CV_F64 ||
                             (c->conv == PQ_CV_INT && c->mul == 1 && d->width == d->psize));
  if (ident && !lv && (enc == GFI_PQ_PLAIN || dict_enc)) {
    /* Values whose output bytes are their physical bytes, no null:
     * straight from the page (or the dictionary) into the output. */
    size_t w = (size_t)d->width;
    if (enc == GFI_PQ_PLAIN && (uint64_t)nvals * w > (uint64_t)(in.end - in.p))
      return gfi_pq_bad(&in, "PLAIN values past the end of the page");
    if (dict_enc) GF_RETURN_NOT_OK(dict_indices(d, &in, nvals));
    GF_RETURN_NOT_OK(out_reserve(d, d->pos + nvals));
    uint8_t *o = gf_buffer_mutable_data(d->data) + (size_t)d->pos * w;
    if (d->pick) {
      /* Late materialisation: only the picked rows, gathered. */
      const uint32_t *ix = (const uint32_t *)d->idx.data;
      const uint8_t *src = dict_enc ? d->dict.data : in.p;
      int64_t k = 0;
      for (; d->pk < d->npick && d->pick[d->pk] < d->inrow + nvals; d->pk++, k++) {
        int64_t r = d->pick[d->pk] - d->inrow;
        size_t at = dict_enc ? ix[r] : (size_t)r;
        memcpy(o + (size_t)k * w, src + at * w, w);
      }
      if (d->valid) gfi_bitmap_set_range(gf_buffer_mutable_data(d->valid), d->pos, k);
      d->pos += k;
      d->picked = true;
      return GF_OK;
    }
    if (enc == GFI_PQ_PLAIN) {
      if (nvals) memcpy(o, in.p, (size_t)nvals * w);
    } else if (nvals) {
      const uint32_t *ix = (const uint32_t *)d->idx.data;
      if (w == 8) {
        const uint64_t *dv = (const uint64_t *)d->dict.data;
        uint64_t *o8 = (uint64_t *)o;
        for (int64_t i = 0; i < nvals; i++) o8[i] = dv[ix[i]];
      } else {
        const uint32_t *dv = (const uint32_t *)d->dict.data;
        uint32_t *o4 = (uint32_t *)o;
        for (int64_t i = 0; i < nvals; i++) o4[i] = dv[ix[i]];
      }
    }
    if (d->valid) gfi_bitmap_set_range(gf_buffer_mutable_data(d->valid), d->pos, nvals);
    d->pos += nvals;
    return GF_OK;
  }
  GF_RETURN_NOT_OK(decode_values(d, &in, enc, nonnull));
  GF_RETURN_NOT_OK(out_reserve(d, d->pos + nvals));
  uint8_t *valid = d->valid ? gf_buffer_mutable_data(d->valid) : NULL;
  const uint8_t *src = d->vals.data;
  const uint32_t *ix = (const uint32_t *)d->idx.data;
  int32_t *codes = d->codes ? (int32_t *)gf_buffer_mutable_data(d->data) : NULL;
  int64_t k = 0;
  /* Fast path: values whose output bytes are their physical bytes
   * (floats, and integers of the same width unscaled). */
  if (!codes && (c->conv == PQ_CV_F32 || c->conv == PQ_CV_F64 ||
                 (c->conv == PQ_CV_INT && c->mul == 1 && d->width == d->psize))) {
    size_t w = (size_t)d->width;
    uint8_t *o = gf_buffer_mutable_data(d->data);
    if (!lv) {
      if (nvals) memcpy(o + (size_t)d->pos * w, src, (size_t)nvals * w);
      if (valid) gfi_bitmap_set_range(valid, d->pos, nvals);
      d->pos += nvals;
      return GF_OK;
    }
    for (int64_t i = 0; i < nvals; i++, d->pos++) {
      if (lv[i] != (uint32_t)c->max_def) {
        d->nulls++;
        continue;
      }
      gfi_bit_set(valid, d->pos);
      if (w == 8) memcpy(o + (size_t)d->pos * 8, src + (size_t)k * 8, 8);
      else memcpy(o + (size_t)d->pos * 4, src + (size_t)k * 4, 4);
      k++;
    }
    return GF_OK;
  }
  /* Byte arrays: room for the page's bytes once, then plain copies. */
  if (!codes && c->conv == PQ_CV_BYTES) {
    /* Dictionary pages: each value straight from the dictionary. */
    const pq_bytes *b = dict_enc ? (const pq_bytes *)d->dict.data : (const pq_bytes *)src;
    const uint32_t *bi = dict_enc ? ix : NULL;
#define PQ_VAL(j) (bi ? b[bi[j]] : b[j])
    size_t total = 0;
    for (int64_t j = 0; j < nonnull; j++) total += PQ_VAL(j).len;
    if (d->bytes.cap == 0 && nvals > 0) {
      /* First page: room for the rows allocated so far at this page's
       * mean length (one block, not a chain of doublings). */
      uint64_t rows = (uint64_t)(d->pick ? d->npick : d->cap);
      uint64_t est = (uint64_t)total / (uint64_t)nvals * rows + total / 8;
      if (est > total) GF_RETURN_NOT_OK(gfi_vec_reserve(&d->bytes, (size_t)est + 16, d->err));
    }
    GF_RETURN_NOT_OK(gfi_vec_reserve(&d->bytes, total + 16, d->err));
    int64_t *offs = (int64_t *)d->offs.data;
    uint8_t *dst = d->bytes.data;
    size_t used = d->bytes.len;
    /* Values of a dictionary page lie in d->dict_bytes, padded by 16
     * bytes: short ones are copied as one fixed 16-byte move. */
    bool padded = enc == GFI_PQ_PLAIN_DICTIONARY || enc == GFI_PQ_RLE_DICTIONARY;
    if (valid && !lv) {
      gfi_bitmap_set_range(valid, d->pos, nvals);
      valid = NULL;
    }
    for (int64_t i = 0; i < nvals; i++, d->pos++) {
      if (lv && lv[i] != (uint32_t)c->max_def) {
        d->nulls++;
      } else {
        if (valid) gfi_bit_set(valid, d->pos);
        pq_bytes v = PQ_VAL(k);
        if (padded && v.len <= 16) memcpy(dst + used, v.p, 16);
        else if (v.len) memcpy(dst + used, v.p, v.len);
        used += v.len;
        k++;
      }
      offs[d->pos + 1] = (int64_t)used;
    }
    d->bytes.len = used;
    return GF_OK;
#undef PQ_VAL
  }
  for (int64_t i = 0; i < nvals; i++, d->pos++) {
    if (lv && lv[i] != (uint32_t)c->max_def) {
      store_null(d, d->pos);
      continue;
    }
    if (valid) gfi_bit_set(valid, d->pos);
    if (codes)
      codes[d->pos] = (int32_t)ix[k];
    else
      GF_RETURN_NOT_OK(store(d, src + (size_t)k * (size_t)d->psize, d->pos));
    k++;
  }
  return GF_OK;
}

/* Frees the decoder's scratch and unfinished output. */
static void dec_free(dec *d) {
  gfi_vec_reset(&d->page);
  gfi_vec_reset(&d->levels);
  gfi_vec_reset(&d->idx);
  gfi_vec_reset(&d->vals);
  gfi_vec_reset(&d->deltas);
  gfi_vec_reset(&d->scratch);
  gfi_vec_reset(&d->dict);
  gfi_vec_reset(&d->dict_bytes);
  gfi_vec_reset(&d->offs);
  gfi_vec_reset(&d->bytes);
  gfi_vec_reset(&d->xbytes);
  gfi_vec_reset(&d->xents);
  gfi_vec_reset(&d->ht);
  gf_buffer_release(d->valid);
  gf_buffer_release(d->data);
  d->valid = d->data = NULL;
}

/* Builds the dictionary values array from d->dict (values type vt). */
static gf_status dict_array(dec *d, gf_datatype vt, gf_array **out) {
  dec v;
  memset(&v, 0, sizeof v);
  pq_column vc = *d->col;
  vc.max_def = 0;
  vc.type = vt;
  v.col = &vc;
  v.a = d->a;
  v.err = d->err;
  memcpy(v.where, d->where, sizeof v.where);
  v.psize = d->psize;
  gfi_vec_init(&v.offs, d->a);
  gfi_vec_init_owned(&v.bytes, d->a);
  gf_status st = out_init(&v, d->ndict, d->ndict);
  for (int64_t i = 0; st == GF_OK && i < d->ndict; i++)
    st = store(&v, d->dict.data + (size_t)i * (size_t)d->psize, i);
  v.pos = d->ndict;
  if (st == GF_OK) st = out_finish(&v, vt, NULL, out);
  dec_free(&v);
  return st;
}

/* True when late materialisation skips a data page of n values: none of
 * its rows is picked (then its rows are counted as consumed). */
static bool skip_page(dec *d, int64_t n) {
  if (!d->pick || n < 0 || n > d->rows - d->inrow) return false; /* checked when decoded */
  if (d->pk < d->npick && d->pick[d->pk] < d->inrow + n) return false;
  d->inrow += n;
  return true;
}

/* Keeps, of the page just output at rows [pos0, d->pos) (input rows from
 * inrow0), only the picked rows, moved down in order. */
static void compact(dec *d, int64_t pos0, int64_t inrow0, int64_t nulls0) {
  int64_t n = d->pos - pos0, w = pos0;
  uint8_t *valid = d->valid ? gf_buffer_mutable_data(d->valid) : NULL;
  bool bytes = !d->codes && d->col->conv == PQ_CV_BYTES;
  bool bits = !d->codes && d->col->conv == PQ_CV_BOOL;
  uint8_t *data = d->data ? gf_buffer_mutable_data(d->data) : NULL;
  int64_t *offs = bytes ? (int64_t *)d->offs.data : NULL;
  size_t wb = bytes ? (size_t)offs[pos0] : 0, width = (size_t)d->width;
  int64_t nulls = nulls0;
  for (; d->pk < d->npick && d->pick[d->pk] < inrow0 + n; d->pk++, w++) {
    int64_t r = pos0 + (d->pick[d->pk] - inrow0);
    bool ok = !valid || gfi_bit_get(valid, r);
    if (valid) gfi_bit_put(valid, w, ok);
    nulls += !ok;
    if (bytes) {
      /* w <= r: the moves go down and never clobber an unread value. */
      size_t from = (size_t)offs[r], len = (size_t)(offs[r + 1] - offs[r]);
      if (len) memmove(d->bytes.data + wb, d->bytes.data + from, len);
      wb += len;
      offs[w + 1] = (int64_t)wb;
    } else if (bits) {
      gfi_bit_put(data, w, gfi_bit_get(data, r));
    } else if (w != r) {
      memmove(data + (size_t)w * width, data + (size_t)r * width, width);
    }
  }
  if (bytes) d->bytes.len = wb;
  /* The writers of later pages set only the bits that are 1 (validity,
   * booleans): the bits freed here must be 0 again. */
  for (int64_t i = w; i < pos0 + n; i++) {
    if (valid) gfi_bit_clear(valid, i);
    if (bits) gfi_bit_clear(data, i);
  }
  d->pos = w;
  d->nulls = nulls;
}

/* One data page into the output, then (late materialisation) only its
 * picked rows kept. */
static gf_status page_data(dec *d, int64_t nvals, int enc, const uint8_t *levels,
                           size_t nlev, bool v1, const uint8_t *vals, size_t nv) {
  int64_t pos0 = d->pos, inrow0 = d->inrow, nulls0 = d->nulls;
  d->picked = false;
  GF_RETURN_NOT_OK(read_data_page(d, nvals, enc, levels, nlev, v1, vals, nv));
  if (d->pick && !d->picked) compact(d, pos0, inrow0, nulls0);
  d->inrow = inrow0 + nvals; /* read_data_page checked nvals */
  return GF_OK;
}

/* Walks the chunk's pages into the output (codes or values). */
static gf_status walk_pages(dec *d, const uint8_t *data, size_t len,
                            const gfi_pq_column_chunk *cc, int codec) {
  const gfi_pq_column_meta *m = &cc->meta;
  int64_t start = m->data_page_offset;
  if (tr_isset(m, 11) && m->dictionary_page_offset > 0 &&
      m->dictionary_page_offset < start)
    start = m->dictionary_page_offset;
  if (start < 4 || (uint64_t)start >= len || m->total_compressed_size < 0 ||
      (uint64_t)m->total_compressed_size > len - (uint64_t)start)
    return fail(d, GF_EINVAL, "column chunk byte range lies outside the file");
  size_t pos = (size_t)start, end = pos + (size_t)m->total_compressed_size;
  /* Old parquet-mr versions (PARQUET-816) under-report the chunk size by
   * up to a page header: tolerate 100 bytes past it, inside the file. */
  end = len - end > 100 ? end + 100 : len;
  while (d->inrow < d->rows) {
    if (pos >= end) {
      char msg[160];
      snprintf(msg, sizeof msg, "column chunk ends after %lld of %lld values",
               (long long)d->inrow, (long long)d->rows);
      return fail(d, GF_EINVAL, msg);
    }
    tr_arena ar;
    gfi_tr_arena_init(&ar, d->a);
    gfi_pq_page_header h;
    size_t used;
    gf_error sub;
    gf_status st = gfi_pq_decode_page_header(data + pos, end - pos, pos, &h, &ar, &used, &sub);
    gfi_tr_arena_free(&ar);
    if (st != GF_OK) return gf_error_set(d->err, st, "%s: page header: %s", d->where, sub.message);
    size_t at = pos + used;
    if (h.compressed_page_size < 0 || h.uncompressed_page_size < 0 ||
        (size_t)h.compressed_page_size > end - at) {
      char msg[160];
      snprintf(msg, sizeof msg, "page at byte %zu: size %d lies outside the column chunk",
               pos, (int)h.compressed_page_size);
      return fail(d, GF_EINVAL, msg);
    }
    const uint8_t *body = data + at;
    size_t clen = (size_t)h.compressed_page_size, ulen = (size_t)h.uncompressed_page_size;
    char where[760];
    snprintf(where, sizeof where, "%s, page at byte %zu", d->where, pos);
    pos = at + clen;
    if (h.type == GFI_PQ_DATA_PAGE_V2) {
      const gfi_pq_data_page_header_v2 *v = &h.data_page_header_v2;
      if (!tr_isset(&h, 8)) return fail(d, GF_EINVAL, "DATA_PAGE_V2 without its header");
      if (skip_page(d, v->num_values)) continue;
      /* A flat column has no repetition levels; some writers still
       * reserve bytes for them, which are skipped. */
      size_t rep = (size_t)(unsigned)v->repetition_levels_byte_length;
      size_t lev = rep + (size_t)(unsigned)v->definition_levels_byte_length;
      if (v->definition_levels_byte_length < 0 || v->repetition_levels_byte_length < 0 ||
          lev > clen || lev > ulen)
        return fail(d, GF_EINVAL, "DATA_PAGE_V2 level lengths exceed the page");
      bool comp = !tr_isset(v, 7) || v->is_compressed;
      const uint8_t *vals = body + lev;
      size_t nv = clen - lev, unv = ulen - lev;
      if (comp && codec != GFI_PQ_UNCOMPRESSED && unv > 0) {
        GF_RETURN_NOT_OK(vec_size(d, &d->page, unv));
        d->page.len = unv;
        GF_RETURN_NOT_OK(gfi_pq_decompress(codec, vals, nv, d->page.data, unv, where, d->err));
        vals = d->page.data;
        nv = unv;
      } else if (unv == 0) {
        nv = 0;
      }
      st = page_data(d, v->num_values, v->encoding, body + rep, lev - rep, false, vals, nv);
      if (st != GF_OK) return st;
      continue;
    }
    if (h.type != GFI_PQ_DATA_PAGE && h.type != GFI_PQ_DICTIONARY_PAGE) continue;
    if (h.type == GFI_PQ_DATA_PAGE && tr_isset(&h, 5) && skip_page(d, h.data_page_header.num_values))
      continue;
    const uint8_t *page = body;
    if (codec != GFI_PQ_UNCOMPRESSED) {
      GF_RETURN_NOT_OK(vec_size(d, &d->page, ulen));
      GF_RETURN_NOT_OK(gfi_pq_decompress(codec, body, clen, d->page.data, ulen, where, d->err));
      page = d->page.data;
    } else if (clen != ulen) {
      return fail(d, GF_EINVAL, "uncompressed page whose two sizes differ");
    }
    if (h.type == GFI_PQ_DICTIONARY_PAGE) {
      if (!tr_isset(&h, 7)) return fail(d, GF_EINVAL, "DICTIONARY_PAGE without its header");
      GF_RETURN_NOT_OK(read_dict_page(d, &h.dictionary_page_header, page, ulen));
      continue;
    }
    if (!tr_isset(&h, 5)) return fail(d, GF_EINVAL, "DATA_PAGE without its header");
    const gfi_pq_data_page_header *v = &h.data_page_header;
    if (d->col->max_def > 0 && v->definition_level_encoding != GFI_PQ_RLE)
      return fail(d, GF_ENOTSUP, "definition levels not RLE-encoded (BIT_PACKED levels)");
    GF_RETURN_NOT_OK(page_data(d, v->num_values, v->encoding, page, ulen, true, page, ulen));
  }
  return GF_OK;
}

/* Decodes the chunk into *out (dictionary codes when d->codes). */
static gf_status decode(dec *d, const uint8_t *data, size_t len,
                        const gfi_pq_column_chunk *cc, int64_t rows,
                        gf_array **out) {
  const gfi_pq_column_meta *m = &cc->meta;
  if (m->type != d->col->phys)
    return fail(d, GF_EINVAL, "column chunk's physical type differs from the schema's");
  /* Room for what the chunk's bytes plausibly hold (16 values a byte;
   * more only as pages deliver them). */
  int64_t cap0 = m->total_compressed_size > (int64_t)1 << 40 ? rows : 16 * m->total_compressed_size;
  GF_RETURN_NOT_OK(out_init(d, rows, cap0 > 65536 ? cap0 : 65536));
  gf_status st = walk_pages(d, data, len, cc, m->codec);
  if (st != GF_OK) return st;
  if (!d->codes) return out_finish(d, d->col->type, NULL, out);
  GF_RETURN_NOT_OK(merge_extras(d));
  gf_array *dict;
  if (!d->have_dict) {
    dict = NULL;
    GF_RETURN_NOT_OK(gfi_array_make(d->a, gf_type_value(d->col->type), 0, 0, 0,
                                    (gf_buffer *[3]){NULL, NULL, NULL}, NULL, &dict, d->err));
  } else {
    GF_RETURN_NOT_OK(dict_array(d, gf_type_value(d->col->type), &dict));
  }
  st = out_finish(d, d->col->type, dict, out);
  gf_array_release(dict);
  return st;
}

/* A decoder of column col (scratch from a). */
static void dec_init(dec *d, const pq_column *col, const gf_allocator *a,
                     const char *where, gf_error *err) {
  memset(d, 0, sizeof *d);
  d->col = col;
  d->a = a;
  d->err = err;
  snprintf(d->where, sizeof d->where, "%s", where);
  d->psize = phys_size(col);
  gfi_vec *v[] = {&d->page, &d->levels, &d->idx, &d->vals, &d->deltas,
                  &d->scratch, &d->dict, &d->dict_bytes, &d->offs,
                  &d->xbytes, &d->xents, &d->ht};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) gfi_vec_init(v[i], a);
  gfi_vec_init_owned(&d->bytes, a); /* handed to the output array */
}

/* Re-encodes a plain values array as a dictionary array (the fallback for
 * a dictionary column whose chunk has non-dictionary pages). */
static gf_status to_dictionary(const gf_array *vals, gf_datatype t,
                               const gf_allocator *a, gf_array **out,
                               gf_error *err) {
  gf_builder *b;
  GF_RETURN_NOT_OK(gf_builder_new(t, a, &b, err));
  gf_status st = gf_builder_reserve(b, vals->length, 0, err);
  for (int64_t i = 0; st == GF_OK && i < vals->length; i++) {
    if (gf_array_is_null(vals, i)) {
      st = gf_builder_append_null(b, err);
    } else {
      int64_t n;
      const char *p = gf_array_get_bytes(vals, i, &n);
      st = gf_builder_append_bytes(b, p, n, err);
    }
  }
  if (st == GF_OK) st = gf_builder_finish(b, out, err);
  gf_builder_free(b);
  return st;
}

gf_status gfi_pq_read_chunk(const uint8_t *data, size_t len, const pq_column *col,
                        const gfi_pq_column_chunk *cc, int64_t rows,
                        const int64_t *pick, int64_t npick,
                        const gf_allocator *a, const char *where,
                        gf_array **out, gf_error *err) {
  dec d;
  dec_init(&d, col, a, where, err);
  d.pick = pick;
  d.npick = npick;
  d.codes = col->type.id == GF_TYPE_DICTIONARY;
  gf_status st = decode(&d, data, len, cc, rows, out);
  dec_free(&d);
  if (st == GF_ENOTSUP && col->type.id == GF_TYPE_DICTIONARY &&
      gfi_type_is_var_width(col->type.value_id)) {
    /* A page fell back to a non-dictionary encoding: decode values, then
     * encode them into one dictionary. */
    pq_column vc = *col;
    vc.type = gf_type_value(col->type);
    gf_array *vals;
    dec_init(&d, &vc, a, where, err);
    d.pick = pick;
    d.npick = npick;
    st = decode(&d, data, len, cc, rows, &vals);
    dec_free(&d);
    if (st != GF_OK) return st;
    st = to_dictionary(vals, col->type, a, out, err);
    gf_array_release(vals);
  }
  return st;
}

gf_status gfi_pq_read_chunk_codes(const uint8_t *data, size_t len, const pq_column *col,
                                  const gfi_pq_column_chunk *cc, int64_t rows,
                                  const int64_t *pick, int64_t npick,
                                  const gf_allocator *a, const char *where, gfi_pq_codes *out,
                                  gf_error *err) {
  memset(out, 0, sizeof *out);
  if (col->type.id == GF_TYPE_DICTIONARY) return GF_ENOTSUP;
  dec d;
  dec_init(&d, col, a, where, err);
  d.pick = pick;
  d.npick = npick;
  d.codes = true;
  d.strict = true;
  const gfi_pq_column_meta *m = &cc->meta;
  gf_status st = GF_OK;
  if (m->type != col->phys)
    st = fail(&d, GF_EINVAL, "column chunk's physical type differs from the schema's");
  int64_t cap0 = m->total_compressed_size > (int64_t)1 << 40 ? rows : 16 * m->total_compressed_size;
  if (st == GF_OK) st = out_init(&d, rows, cap0 > 65536 ? cap0 : 65536);
  if (st == GF_OK) st = walk_pages(&d, data, len, cc, m->codec);
  if (st == GF_OK && !d.have_dict) st = GF_ENOTSUP; /* no dictionary page */
  if (st == GF_OK) st = dict_array(&d, col->type, &out->dict);
  if (st == GF_OK) {
    out->codes = d.data;
    out->valid = d.nulls ? d.valid : NULL;
    if (out->valid) d.valid = NULL;
    out->rows = d.pos;
    d.data = NULL;
  }
  dec_free(&d);
  return st;
}

void gfi_pq_codes_free(gfi_pq_codes *c) {
  gf_buffer_release(c->codes);
  gf_buffer_release(c->valid);
  gf_array_release(c->dict);
  memset(c, 0, sizeof *c);
}
