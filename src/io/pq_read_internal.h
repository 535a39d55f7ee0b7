/*
 * Internals of the Parquet reader (not installed): the value encodings
 * (src/io/pq_read_enc.c) and the column-chunk decoder (pq_read_col.c)
 * used by the file-level reader (pq_read.c).
 */
#ifndef GF_IO_PQ_READ_INTERNAL_H
#define GF_IO_PQ_READ_INTERNAL_H

#include "data/array_internal.h"
#include "io/pq_format.h"

/* A byte-array value: bytes inside a page, a dictionary or a scratch. */
typedef struct pq_bytes {
  const uint8_t *p;
  uint32_t len;
} pq_bytes;

/* A read cursor over one page's bytes; `where` names the page. */
typedef struct pq_in {
  const uint8_t *p, *end;
  const char *where;
  gf_error *err;
} pq_in;

/* Fails with GF_EINVAL "<where>: <what>". */
gf_status gfi_pq_bad(const pq_in *in, const char *what);

/* Unsigned LEB128 varint. */
gf_status gfi_pq_uleb(pq_in *in, uint64_t *out);

/* RLE / bit-packed hybrid: decodes exactly `count` values of `bit_width`
 * (0..32) bits from in (the run headers and data, no length prefix) into
 * out. Values >= `limit` (when limit > 0) are refused (dictionary indices
 * past the dictionary, levels past the maximum). */
gf_status gfi_pq_rle_decode(pq_in *in, int bit_width, int64_t count, uint32_t limit,
                        uint32_t *out);

/* Counts, without decoding, how many values (at most `max`) the
 * RLE / bit-packed runs of in hold, into *n; in is not advanced. Sizes
 * scratch from what the data holds rather than from a declared count (a
 * header may declare 2^31 values in a few bytes: fuzzer finding 11). */
gf_status gfi_pq_rle_count(const pq_in *in, int bit_width, int64_t max, int64_t *n);

/* True when the first `count` values of in are RLE runs (not bit-packed)
 * of `value` only: a page's definition levels when it has no null, known
 * without decoding them. */
bool gfi_pq_rle_all(const pq_in *in, int bit_width, int64_t count, uint32_t value);

/* DELTA_BINARY_PACKED: decodes exactly `count` values into out (int64,
 * wrapping arithmetic; INT32 columns truncate). Advances in past the last
 * miniblock holding a value. `count` < 0 = the header's total (then
 * *total receives it and out must hold it: call once with out NULL to
 * learn the total). */
gf_status gfi_pq_delta_decode(pq_in *in, int64_t *out, int64_t count,
                          int64_t *total);

/* Number of bits needed for values 0..max. */
static inline int pq_bit_width(uint32_t max) {
  int w = 0;
  while (max) {
    w++;
    max >>= 1;
  }
  return w;
}

#endif /* GF_IO_PQ_READ_INTERNAL_H */

/* How a physical value becomes the output type's value. */
typedef enum pq_conv {
  PQ_CV_BOOL,   /* BOOLEAN -> bool */
  PQ_CV_INT,    /* INT32/INT64 -> integer/temporal of the output width, times mul */
  PQ_CV_F32,    /* FLOAT -> float32 */
  PQ_CV_F64,    /* DOUBLE -> float64 */
  PQ_CV_F16,    /* FIXED_LEN_BYTE_ARRAY(2) half float -> float32 */
  PQ_CV_INT96,  /* INT96 (Impala/Spark) -> timestamp ns */
  PQ_CV_DEC,    /* INT32/INT64/FLBA/BYTE_ARRAY -> decimal128/256 */
  PQ_CV_BYTES,  /* BYTE_ARRAY -> utf8/binary (large when over 2^31-1 bytes) */
  PQ_CV_FLBA    /* FIXED_LEN_BYTE_ARRAY -> fixed_size_binary */
} pq_conv;

/* One flat column of the file as the reader maps it. */
typedef struct pq_column {
  char *name;        /* owned, NUL-terminated */
  int leaf;          /* index of its chunk within each row group */
  int phys;          /* gfi_pq_type */
  int type_length;   /* FIXED_LEN_BYTE_ARRAY width */
  int max_def;       /* 0 (required) or 1 (optional) */
  gf_datatype type;  /* output type (a dictionary type for dict output) */
  pq_conv conv;
  int64_t mul;       /* PQ_CV_INT scale factor (1 normally) */
  bool sort_signed;  /* statistics min/max (deprecated) are usable */
  const gfi_pq_schema_element *el;
} pq_column;

/* Decodes column chunk `cc` (flat column `col`, `rows` rows) of the file
 * data[0, len) into *out. `where` prefixes messages ("f.parquet: column
 * 'x', row group 3"). With `pick` (npick ascending row numbers within the
 * row group) only those rows are output, and pages holding none of them
 * are skipped undecoded (late materialisation). */
gf_status gfi_pq_read_chunk(const uint8_t *data, size_t len, const pq_column *col,
                        const gfi_pq_column_chunk *cc, int64_t rows,
                        const int64_t *pick, int64_t npick,
                        const gf_allocator *a, const char *where,
                        gf_array **out, gf_error *err);

/* A column chunk as dictionary codes: int32 codes[rows] into `dict` (the
 * chunk's dictionary page values, of the column's output type), valid
 * (NULL when no null). */
typedef struct gfi_pq_codes {
  gf_buffer *codes, *valid;
  gf_array *dict;
  int64_t rows;
} gfi_pq_codes;

/* Decodes a chunk as codes when every data page is dictionary-encoded;
 * GF_ENOTSUP (err not set) when one is not, or when the column is
 * output as a dictionary type already. Other failures as
 * gfi_pq_read_chunk. For evaluating a predicate once per distinct value.
 * pick / npick as for gfi_pq_read_chunk (rows = npick then). */
gf_status gfi_pq_read_chunk_codes(const uint8_t *data, size_t len, const pq_column *col,
                                  const gfi_pq_column_chunk *cc, int64_t rows,
                                  const int64_t *pick, int64_t npick,
                                  const gf_allocator *a, const char *where, gfi_pq_codes *out,
                                  gf_error *err);
void gfi_pq_codes_free(gfi_pq_codes *c);
