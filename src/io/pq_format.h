/*
 * Parquet file-format structures (not installed): the parts of
 * parquet.thrift that the reader and the writer use, as plain C structs
 * and enums. Decoded structs come from src/io/pq_meta.c (Thrift compact
 * protocol, src/io/thrift_read.c). Each struct starts with `isset`: bit k
 * set when Thrift field id k was present (see tr_isset).
 */
#ifndef GF_IO_PQ_FORMAT_H
#define GF_IO_PQ_FORMAT_H

#include "io/thrift_read.h"

/* Physical types. */
typedef enum gfi_pq_type {
  GFI_PQ_BOOLEAN = 0, GFI_PQ_INT32 = 1, GFI_PQ_INT64 = 2, GFI_PQ_INT96 = 3,
  GFI_PQ_FLOAT = 4, GFI_PQ_DOUBLE = 5, GFI_PQ_BYTE_ARRAY = 6,
  GFI_PQ_FIXED_LEN_BYTE_ARRAY = 7
} gfi_pq_type;

/* Legacy converted types (ConvertedType). */
typedef enum gfi_pq_converted {
  GFI_PQ_CT_UTF8 = 0, GFI_PQ_CT_MAP = 1, GFI_PQ_CT_MAP_KEY_VALUE = 2,
  GFI_PQ_CT_LIST = 3, GFI_PQ_CT_ENUM = 4, GFI_PQ_CT_DECIMAL = 5,
  GFI_PQ_CT_DATE = 6, GFI_PQ_CT_TIME_MILLIS = 7, GFI_PQ_CT_TIME_MICROS = 8,
  GFI_PQ_CT_TIMESTAMP_MILLIS = 9, GFI_PQ_CT_TIMESTAMP_MICROS = 10,
  GFI_PQ_CT_UINT_8 = 11, GFI_PQ_CT_UINT_16 = 12, GFI_PQ_CT_UINT_32 = 13,
  GFI_PQ_CT_UINT_64 = 14, GFI_PQ_CT_INT_8 = 15, GFI_PQ_CT_INT_16 = 16,
  GFI_PQ_CT_INT_32 = 17, GFI_PQ_CT_INT_64 = 18, GFI_PQ_CT_JSON = 19,
  GFI_PQ_CT_BSON = 20, GFI_PQ_CT_INTERVAL = 21
} gfi_pq_converted;

typedef enum gfi_pq_repetition {
  GFI_PQ_REQUIRED = 0, GFI_PQ_OPTIONAL = 1, GFI_PQ_REPEATED = 2
} gfi_pq_repetition;

typedef enum gfi_pq_encoding {
  GFI_PQ_PLAIN = 0, GFI_PQ_PLAIN_DICTIONARY = 2, GFI_PQ_RLE = 3,
  GFI_PQ_BIT_PACKED = 4, GFI_PQ_DELTA_BINARY_PACKED = 5,
  GFI_PQ_DELTA_LENGTH_BYTE_ARRAY = 6, GFI_PQ_DELTA_BYTE_ARRAY = 7,
  GFI_PQ_RLE_DICTIONARY = 8, GFI_PQ_BYTE_STREAM_SPLIT = 9
} gfi_pq_encoding;

typedef enum gfi_pq_codec {
  GFI_PQ_UNCOMPRESSED = 0, GFI_PQ_SNAPPY = 1, GFI_PQ_GZIP = 2,
  GFI_PQ_LZO = 3, GFI_PQ_BROTLI = 4, GFI_PQ_LZ4 = 5, GFI_PQ_ZSTD = 6,
  GFI_PQ_LZ4_RAW = 7
} gfi_pq_codec;

typedef enum gfi_pq_page_type {
  GFI_PQ_DATA_PAGE = 0, GFI_PQ_INDEX_PAGE = 1, GFI_PQ_DICTIONARY_PAGE = 2,
  GFI_PQ_DATA_PAGE_V2 = 3
} gfi_pq_page_type;

/* Field ids of LogicalType (a union: exactly one is set). */
enum { GFI_PQ_LT_STRING = 1, GFI_PQ_LT_MAP = 2, GFI_PQ_LT_LIST = 3,
       GFI_PQ_LT_ENUM = 4, GFI_PQ_LT_DECIMAL = 5, GFI_PQ_LT_DATE = 6,
       GFI_PQ_LT_TIME = 7, GFI_PQ_LT_TIMESTAMP = 8, GFI_PQ_LT_INTEGER = 10,
       GFI_PQ_LT_UNKNOWN = 11, GFI_PQ_LT_JSON = 12, GFI_PQ_LT_BSON = 13,
       GFI_PQ_LT_UUID = 14, GFI_PQ_LT_FLOAT16 = 15, GFI_PQ_LT_VARIANT = 16,
       GFI_PQ_LT_GEOMETRY = 17, GFI_PQ_LT_GEOGRAPHY = 18 };
/* Field ids of TimeUnit (a union). */
enum { GFI_PQ_UNIT_MILLIS = 1, GFI_PQ_UNIT_MICROS = 2, GFI_PQ_UNIT_NANOS = 3 };

typedef struct gfi_pq_empty { uint64_t isset; } gfi_pq_empty;

typedef struct gfi_pq_time_unit {
  uint64_t isset;
  gfi_pq_empty millis, micros, nanos;
} gfi_pq_time_unit;

typedef struct gfi_pq_decimal_type {
  uint64_t isset;
  int32_t scale, precision;
} gfi_pq_decimal_type;

typedef struct gfi_pq_time_type { /* also TimestampType */
  uint64_t isset;
  bool adjusted_to_utc;
  gfi_pq_time_unit unit;
} gfi_pq_time_type;

typedef struct gfi_pq_int_type {
  uint64_t isset;
  int32_t bit_width;
  bool is_signed;
} gfi_pq_int_type;

typedef struct gfi_pq_logical_type {
  uint64_t isset; /* which GFI_PQ_LT_* member is present */
  gfi_pq_decimal_type decimal;
  gfi_pq_time_type time, timestamp;
  gfi_pq_int_type integer;
  gfi_pq_empty other; /* the empty members are not stored */
} gfi_pq_logical_type;

typedef struct gfi_pq_schema_element {
  uint64_t isset;
  int32_t type, type_length, repetition_type;
  tr_bytes name;
  int32_t num_children, converted_type, scale, precision, field_id;
  gfi_pq_logical_type logical;
} gfi_pq_schema_element;

typedef struct gfi_pq_statistics {
  uint64_t isset;
  tr_bytes max, min; /* deprecated (signed order) */
  int64_t null_count, distinct_count;
  tr_bytes max_value, min_value;
  bool is_max_value_exact, is_min_value_exact;
} gfi_pq_statistics;

typedef struct gfi_pq_key_value {
  uint64_t isset;
  tr_bytes key, value;
} gfi_pq_key_value;

typedef struct gfi_pq_column_meta {
  uint64_t isset;
  int32_t type;
  tr_list encodings;      /* int32_t */
  tr_list path_in_schema; /* tr_bytes */
  int32_t codec;
  int64_t num_values, total_uncompressed_size, total_compressed_size;
  tr_list key_value_metadata; /* gfi_pq_key_value */
  int64_t data_page_offset, index_page_offset, dictionary_page_offset;
  gfi_pq_statistics statistics;
} gfi_pq_column_meta;

typedef struct gfi_pq_column_chunk {
  uint64_t isset;
  tr_bytes file_path;
  int64_t file_offset;
  gfi_pq_column_meta meta;
  int64_t offset_index_offset;
  int32_t offset_index_length;
  int64_t column_index_offset;
  int32_t column_index_length;
  gfi_pq_empty crypto_metadata;
  tr_bytes encrypted_column_metadata;
} gfi_pq_column_chunk;

typedef struct gfi_pq_row_group {
  uint64_t isset;
  tr_list columns; /* gfi_pq_column_chunk */
  int64_t total_byte_size, num_rows;
} gfi_pq_row_group;

/* ColumnOrder: a union whose only member so far is TYPE_ORDER (id 1). */
typedef struct gfi_pq_column_order {
  uint64_t isset;
  gfi_pq_empty type_order;
} gfi_pq_column_order;

typedef struct gfi_pq_file_meta {
  uint64_t isset;
  int32_t version;
  tr_list schema; /* gfi_pq_schema_element */
  int64_t num_rows;
  tr_list row_groups; /* gfi_pq_row_group */
  tr_list key_value_metadata; /* gfi_pq_key_value */
  tr_bytes created_by;
  tr_list column_orders; /* gfi_pq_column_order */
  gfi_pq_empty encryption_algorithm;
} gfi_pq_file_meta;

typedef struct gfi_pq_data_page_header {
  uint64_t isset;
  int32_t num_values, encoding, definition_level_encoding,
      repetition_level_encoding;
} gfi_pq_data_page_header;

typedef struct gfi_pq_dict_page_header {
  uint64_t isset;
  int32_t num_values, encoding;
  bool is_sorted;
} gfi_pq_dict_page_header;

typedef struct gfi_pq_data_page_header_v2 {
  uint64_t isset;
  int32_t num_values, num_nulls, num_rows, encoding,
      definition_levels_byte_length, repetition_levels_byte_length;
  bool is_compressed; /* default true: check isset bit 7 */
} gfi_pq_data_page_header_v2;

typedef struct gfi_pq_page_header {
  uint64_t isset;
  int32_t type, uncompressed_page_size, compressed_page_size, crc;
  gfi_pq_data_page_header data_page_header;
  gfi_pq_dict_page_header dictionary_page_header;
  gfi_pq_data_page_header_v2 data_page_header_v2;
} gfi_pq_page_header;

/* Decodes the footer FileMetaData from buf[0, len) (`base` its file
 * offset, for messages). Strings point into buf. */
gf_status gfi_pq_decode_file_meta(const uint8_t *buf, size_t len, size_t base,
                                  gfi_pq_file_meta *out, tr_arena *ar,
                                  gf_error *err);
/* The page index of a column chunk (parquet.thrift ColumnIndex and
 * OffsetIndex): per data page, its bounds / null flags and its first row. */
typedef struct gfi_pq_column_index {
  uint64_t isset;
  tr_list null_pages;             /* bool */
  tr_list min_values, max_values; /* tr_bytes */
  int32_t boundary_order;
  tr_list null_counts;            /* int64_t */
} gfi_pq_column_index;

typedef struct gfi_pq_page_location {
  uint64_t isset;
  int64_t offset;
  int32_t compressed_page_size;
  int64_t first_row_index;
} gfi_pq_page_location;

typedef struct gfi_pq_offset_index {
  uint64_t isset;
  tr_list page_locations; /* gfi_pq_page_location */
} gfi_pq_offset_index;

gf_status gfi_pq_decode_column_index(const uint8_t *buf, size_t len, size_t base,
                                     gfi_pq_column_index *out, tr_arena *ar, gf_error *err);
gf_status gfi_pq_decode_offset_index(const uint8_t *buf, size_t len, size_t base,
                                     gfi_pq_offset_index *out, tr_arena *ar, gf_error *err);

/* Decodes one PageHeader at buf[0, len); `*used` its size in bytes. */
gf_status gfi_pq_decode_page_header(const uint8_t *buf, size_t len,
                                    size_t base, gfi_pq_page_header *out,
                                    tr_arena *ar, size_t *used, gf_error *err);

/* Names for messages ("SNAPPY", "DELTA_BYTE_ARRAY", "INT96"). */
const char *gfi_pq_codec_name(int codec);
const char *gfi_pq_encoding_name(int enc);
const char *gfi_pq_type_name(int type);

/* Decompression (src/io/pq_decompress.c). */
bool gfi_pq_codec_available(int codec);
/* Decompresses src[0, n) into exactly dst_len bytes at dst. A codec not in
 * this build is GF_ENOTSUP naming it and its CMake option; corrupt data or
 * another size is GF_EINVAL. `where` names the page for messages. */
gf_status gfi_pq_decompress(int codec, const uint8_t *src, size_t n,
                            uint8_t *dst, size_t dst_len, const char *where,
                            gf_error *err);

#endif /* GF_IO_PQ_FORMAT_H */
