/*
 * Parquet writer internals shared by pq_write.c (file layout, footer) and
 * pq_write_column.c (encoding one column chunk), not installed.
 */
#ifndef GF_IO_PQ_WRITE_COLUMN_H
#define GF_IO_PQ_WRITE_COLUMN_H

#include "data/array_internal.h"
#include "io/pq_write_format.h"
#include "io/pq_write_internal.h"

/* Sort orders of statistics (the Parquet ColumnOrder of each type). */
enum { ORD_SIGNED32, ORD_UNSIGNED32, ORD_SIGNED64, ORD_UNSIGNED64, ORD_FLOAT,
       ORD_DOUBLE, ORD_BOOL, ORD_BYTES, ORD_DECIMAL_BE };

/* How one frame column is written: its Parquet schema element and how its
 * values map to the physical type. */
typedef struct pqw_colspec {
  int col;            /* frame column */
  const char *name;
  gf_datatype type;   /* the field's type */
  gf_datatype vt;     /* its value type (of the dictionary for dictionaries) */
  int phys;           /* PQW_BOOLEAN ... PQW_FLBA */
  int32_t type_length; /* FLBA width */
  int converted;      /* PQW_CT_* or PQW_CT_NONE */
  int logical;        /* PQW_LT_* or PQW_LT_NONE */
  int unit;           /* PQW_UNIT_* of TIME/TIMESTAMP */
  bool adjusted;      /* isAdjustedToUTC of TIME/TIMESTAMP */
  int int_bits;       /* INTEGER bit width */
  bool int_signed;
  int32_t precision, scale; /* DECIMAL */
  int order;          /* ORD_* */
  int64_t mult;       /* seconds written as milliseconds: 1000, else 1 */
  bool optional;      /* OPTIONAL (definition levels) or REQUIRED */
  /* Dictionary columns with statistics: the sort rank of each value of the
   * frame's dictionary (-1 for null or NaN), computed once for all chunks;
   * gfi_at_least_1(dict_len) entries. NULL otherwise. */
  int32_t *dict_rank;
  size_t dict_len;
} pqw_colspec;

/* Statistics of a page or a chunk: min/max in the physical (PLAIN, without
 * length prefix) representation. Short values are copied into the struct,
 * longer ones point into the frame's data or the chunk's dictionary, which
 * outlive the statistics. */
typedef struct pqw_stats {
  bool has; /* min/max set (false: no values, or only NaN) */
  int64_t nulls;
  const uint8_t *min, *max;
  int32_t min_n, max_n;
  uint8_t min_buf[16], max_buf[16];
} pqw_stats;

/* Where one page went and what the page index says about it. */
typedef struct pqw_page {
  int64_t offset;     /* from the chunk's start */
  int32_t size;       /* header + compressed data */
  int64_t first_row;  /* within the row group */
} pqw_page;

/* One encoded column chunk and its metadata. */
typedef struct pqw_chunk {
  gfi_vec bytes;          /* dictionary page, data pages */
  int64_t rows;
  int64_t dict_offset;    /* -1 without a dictionary page */
  int64_t data_offset;    /* first data page, from the chunk's start */
  int64_t uncompressed;   /* page headers + uncompressed page data */
  bool dictionary;        /* RLE_DICTIONARY data pages */
  int64_t nulls;
  bool has_minmax;
  gfi_vec min, max;       /* chunk statistics (stat encoding) */
  pqw_page *pages;
  size_t npages, cap_pages;
  gfi_vec column_index;   /* serialized ColumnIndex; empty when none */
  int64_t file_offset;    /* where `bytes` went in the file */
  int64_t compressed;     /* bytes.len, kept once `bytes` is freed */
} pqw_chunk;

/* Options the chunk encoder needs. */
typedef struct pqw_params {
  const gf_allocator *a;
  int codec, level;
  int64_t page_bytes, page_rows, dict_bytes;
  bool dictionary, statistics;
} pqw_params;

/* Encodes rows [row0, row0 + rows) of column cs->col of `f` into `out`
 * (zeroed by the caller; released with pqw_chunk_free even on failure). */
gf_status gfi_pqw_encode_chunk(const pqw_params *p, const gf_frame *f,
                               const pqw_colspec *cs, int64_t row0,
                               int64_t rows, pqw_chunk *out, gf_error *err);
/* Ranks the values of `dict` (the dictionary of column `cs`) in the
 * column's sort order: *out (allocated from p->a, gfi_at_least_1(length)
 * int32) holds each value's rank, -1 for nulls and NaN. */
gf_status gfi_pqw_rank_dictionary(const pqw_params *p, const pqw_colspec *cs,
                                  const gf_array *dict, int32_t **out, gf_error *err);
void gfi_pqw_chunk_free(const gf_allocator *a, pqw_chunk *c);
/* Appends statistics bytes in the Statistics/ColumnIndex form: floats get
 * -0.0 as a zero minimum and +0.0 as a zero maximum (PARQUET-1222). */
gf_status gfi_pqw_stat_bytes(gfi_vec *out, int order, const uint8_t *p,
                             int32_t n, bool is_max, gf_error *err);

#endif /* GF_IO_PQ_WRITE_COLUMN_H */
