/* Declarative descriptions of the parquet.thrift structs the reader uses
 * (field ids from the format's parquet.thrift), and the footer / page
 * header decoders built on them. */
#include <stddef.h>

#include "io/pq_format.h"

#define F(id, kind, type, member, sub) \
  {id, kind, offsetof(type, member), sub, #member}
#define DEF(name, type, fields) \
  const tr_struct_def name = {#type, sizeof(type), \
                              (int)(sizeof fields / sizeof fields[0]), fields}

static const tr_field_def empty_f[1] = {{-1, TR_BOOL, 0, NULL, "none"}};
static const tr_struct_def empty_def = {"empty", sizeof(gfi_pq_empty), 0, empty_f};

static const tr_field_def unit_f[] = {
    F(1, TR_STRUCT, gfi_pq_time_unit, millis, &empty_def),
    F(2, TR_STRUCT, gfi_pq_time_unit, micros, &empty_def),
    F(3, TR_STRUCT, gfi_pq_time_unit, nanos, &empty_def)};
static DEF(unit_def, gfi_pq_time_unit, unit_f);

static const tr_field_def decimal_f[] = {
    F(1, TR_I32, gfi_pq_decimal_type, scale, NULL),
    F(2, TR_I32, gfi_pq_decimal_type, precision, NULL)};
static DEF(decimal_def, gfi_pq_decimal_type, decimal_f);

static const tr_field_def time_f[] = {
    F(1, TR_BOOL, gfi_pq_time_type, adjusted_to_utc, NULL),
    F(2, TR_STRUCT, gfi_pq_time_type, unit, &unit_def)};
static DEF(time_def, gfi_pq_time_type, time_f);

static const tr_field_def int_f[] = {
    F(1, TR_I32, gfi_pq_int_type, bit_width, NULL),
    F(2, TR_BOOL, gfi_pq_int_type, is_signed, NULL)};
static DEF(int_def, gfi_pq_int_type, int_f);

/* The empty members all land on `other`: only their isset bit matters. */
static const tr_field_def logical_f[] = {
    F(GFI_PQ_LT_STRING, TR_STRUCT, gfi_pq_logical_type, other, &empty_def),
    F(GFI_PQ_LT_MAP, TR_STRUCT, gfi_pq_logical_type, other, &empty_def),
    F(GFI_PQ_LT_LIST, TR_STRUCT, gfi_pq_logical_type, other, &empty_def),
    F(GFI_PQ_LT_ENUM, TR_STRUCT, gfi_pq_logical_type, other, &empty_def),
    F(GFI_PQ_LT_DECIMAL, TR_STRUCT, gfi_pq_logical_type, decimal, &decimal_def),
    F(GFI_PQ_LT_DATE, TR_STRUCT, gfi_pq_logical_type, other, &empty_def),
    F(GFI_PQ_LT_TIME, TR_STRUCT, gfi_pq_logical_type, time, &time_def),
    F(GFI_PQ_LT_TIMESTAMP, TR_STRUCT, gfi_pq_logical_type, timestamp, &time_def),
    F(GFI_PQ_LT_INTEGER, TR_STRUCT, gfi_pq_logical_type, integer, &int_def),
    F(GFI_PQ_LT_UNKNOWN, TR_STRUCT, gfi_pq_logical_type, other, &empty_def),
    F(GFI_PQ_LT_JSON, TR_STRUCT, gfi_pq_logical_type, other, &empty_def),
    F(GFI_PQ_LT_BSON, TR_STRUCT, gfi_pq_logical_type, other, &empty_def),
    F(GFI_PQ_LT_UUID, TR_STRUCT, gfi_pq_logical_type, other, &empty_def),
    F(GFI_PQ_LT_FLOAT16, TR_STRUCT, gfi_pq_logical_type, other, &empty_def)};
static DEF(logical_def, gfi_pq_logical_type, logical_f);

static const tr_field_def schema_f[] = {
    F(1, TR_I32, gfi_pq_schema_element, type, NULL),
    F(2, TR_I32, gfi_pq_schema_element, type_length, NULL),
    F(3, TR_I32, gfi_pq_schema_element, repetition_type, NULL),
    F(4, TR_BINARY, gfi_pq_schema_element, name, NULL),
    F(5, TR_I32, gfi_pq_schema_element, num_children, NULL),
    F(6, TR_I32, gfi_pq_schema_element, converted_type, NULL),
    F(7, TR_I32, gfi_pq_schema_element, scale, NULL),
    F(8, TR_I32, gfi_pq_schema_element, precision, NULL),
    F(9, TR_I32, gfi_pq_schema_element, field_id, NULL),
    F(10, TR_STRUCT, gfi_pq_schema_element, logical, &logical_def)};
static DEF(schema_def, gfi_pq_schema_element, schema_f);

static const tr_field_def stats_f[] = {
    F(1, TR_BINARY, gfi_pq_statistics, max, NULL),
    F(2, TR_BINARY, gfi_pq_statistics, min, NULL),
    F(3, TR_I64, gfi_pq_statistics, null_count, NULL),
    F(4, TR_I64, gfi_pq_statistics, distinct_count, NULL),
    F(5, TR_BINARY, gfi_pq_statistics, max_value, NULL),
    F(6, TR_BINARY, gfi_pq_statistics, min_value, NULL),
    F(7, TR_BOOL, gfi_pq_statistics, is_max_value_exact, NULL),
    F(8, TR_BOOL, gfi_pq_statistics, is_min_value_exact, NULL)};
static DEF(stats_def, gfi_pq_statistics, stats_f);

static const tr_field_def kv_f[] = {
    F(1, TR_BINARY, gfi_pq_key_value, key, NULL),
    F(2, TR_BINARY, gfi_pq_key_value, value, NULL)};
static DEF(kv_def, gfi_pq_key_value, kv_f);

static const tr_field_def colmeta_f[] = {
    F(1, TR_I32, gfi_pq_column_meta, type, NULL),
    F(2, TR_LIST_I32, gfi_pq_column_meta, encodings, NULL),
    F(3, TR_LIST_BINARY, gfi_pq_column_meta, path_in_schema, NULL),
    F(4, TR_I32, gfi_pq_column_meta, codec, NULL),
    F(5, TR_I64, gfi_pq_column_meta, num_values, NULL),
    F(6, TR_I64, gfi_pq_column_meta, total_uncompressed_size, NULL),
    F(7, TR_I64, gfi_pq_column_meta, total_compressed_size, NULL),
    F(8, TR_LIST_STRUCT, gfi_pq_column_meta, key_value_metadata, &kv_def),
    F(9, TR_I64, gfi_pq_column_meta, data_page_offset, NULL),
    F(10, TR_I64, gfi_pq_column_meta, index_page_offset, NULL),
    F(11, TR_I64, gfi_pq_column_meta, dictionary_page_offset, NULL),
    F(12, TR_STRUCT, gfi_pq_column_meta, statistics, &stats_def)};
static DEF(colmeta_def, gfi_pq_column_meta, colmeta_f);

static const tr_field_def chunk_f[] = {
    F(1, TR_BINARY, gfi_pq_column_chunk, file_path, NULL),
    F(2, TR_I64, gfi_pq_column_chunk, file_offset, NULL),
    F(3, TR_STRUCT, gfi_pq_column_chunk, meta, &colmeta_def),
    F(4, TR_I64, gfi_pq_column_chunk, offset_index_offset, NULL),
    F(5, TR_I32, gfi_pq_column_chunk, offset_index_length, NULL),
    F(6, TR_I64, gfi_pq_column_chunk, column_index_offset, NULL),
    F(7, TR_I32, gfi_pq_column_chunk, column_index_length, NULL),
    F(8, TR_STRUCT, gfi_pq_column_chunk, crypto_metadata, &empty_def),
    F(9, TR_BINARY, gfi_pq_column_chunk, encrypted_column_metadata, NULL)};
static DEF(chunk_def, gfi_pq_column_chunk, chunk_f);

static const tr_field_def rg_f[] = {
    F(1, TR_LIST_STRUCT, gfi_pq_row_group, columns, &chunk_def),
    F(2, TR_I64, gfi_pq_row_group, total_byte_size, NULL),
    F(3, TR_I64, gfi_pq_row_group, num_rows, NULL)};
static DEF(rg_def, gfi_pq_row_group, rg_f);

static const tr_field_def order_f[] = {
    F(1, TR_STRUCT, gfi_pq_column_order, type_order, &empty_def)};
static DEF(order_def, gfi_pq_column_order, order_f);

static const tr_field_def file_f[] = {
    F(1, TR_I32, gfi_pq_file_meta, version, NULL),
    F(2, TR_LIST_STRUCT, gfi_pq_file_meta, schema, &schema_def),
    F(3, TR_I64, gfi_pq_file_meta, num_rows, NULL),
    F(4, TR_LIST_STRUCT, gfi_pq_file_meta, row_groups, &rg_def),
    F(5, TR_LIST_STRUCT, gfi_pq_file_meta, key_value_metadata, &kv_def),
    F(6, TR_BINARY, gfi_pq_file_meta, created_by, NULL),
    F(7, TR_LIST_STRUCT, gfi_pq_file_meta, column_orders, &order_def),
    F(8, TR_STRUCT, gfi_pq_file_meta, encryption_algorithm, &empty_def)};
static DEF(file_def, gfi_pq_file_meta, file_f);

static const tr_field_def dph_f[] = {
    F(1, TR_I32, gfi_pq_data_page_header, num_values, NULL),
    F(2, TR_I32, gfi_pq_data_page_header, encoding, NULL),
    F(3, TR_I32, gfi_pq_data_page_header, definition_level_encoding, NULL),
    F(4, TR_I32, gfi_pq_data_page_header, repetition_level_encoding, NULL)};
static DEF(dph_def, gfi_pq_data_page_header, dph_f);

static const tr_field_def dict_f[] = {
    F(1, TR_I32, gfi_pq_dict_page_header, num_values, NULL),
    F(2, TR_I32, gfi_pq_dict_page_header, encoding, NULL),
    F(3, TR_BOOL, gfi_pq_dict_page_header, is_sorted, NULL)};
static DEF(dict_def, gfi_pq_dict_page_header, dict_f);

static const tr_field_def dph2_f[] = {
    F(1, TR_I32, gfi_pq_data_page_header_v2, num_values, NULL),
    F(2, TR_I32, gfi_pq_data_page_header_v2, num_nulls, NULL),
    F(3, TR_I32, gfi_pq_data_page_header_v2, num_rows, NULL),
    F(4, TR_I32, gfi_pq_data_page_header_v2, encoding, NULL),
    F(5, TR_I32, gfi_pq_data_page_header_v2, definition_levels_byte_length, NULL),
    F(6, TR_I32, gfi_pq_data_page_header_v2, repetition_levels_byte_length, NULL),
    F(7, TR_BOOL, gfi_pq_data_page_header_v2, is_compressed, NULL)};
static DEF(dph2_def, gfi_pq_data_page_header_v2, dph2_f);

static const tr_field_def ph_f[] = {
    F(1, TR_I32, gfi_pq_page_header, type, NULL),
    F(2, TR_I32, gfi_pq_page_header, uncompressed_page_size, NULL),
    F(3, TR_I32, gfi_pq_page_header, compressed_page_size, NULL),
    F(4, TR_I32, gfi_pq_page_header, crc, NULL),
    F(5, TR_STRUCT, gfi_pq_page_header, data_page_header, &dph_def),
    F(7, TR_STRUCT, gfi_pq_page_header, dictionary_page_header, &dict_def),
    F(8, TR_STRUCT, gfi_pq_page_header, data_page_header_v2, &dph2_def)};
static DEF(ph_def, gfi_pq_page_header, ph_f);

static const tr_field_def colidx_f[] = {
    F(1, TR_LIST_BOOL, gfi_pq_column_index, null_pages, NULL),
    F(2, TR_LIST_BINARY, gfi_pq_column_index, min_values, NULL),
    F(3, TR_LIST_BINARY, gfi_pq_column_index, max_values, NULL),
    F(4, TR_I32, gfi_pq_column_index, boundary_order, NULL),
    F(5, TR_LIST_I64, gfi_pq_column_index, null_counts, NULL)};
static DEF(colidx_def, gfi_pq_column_index, colidx_f);

static const tr_field_def pageloc_f[] = {
    F(1, TR_I64, gfi_pq_page_location, offset, NULL),
    F(2, TR_I32, gfi_pq_page_location, compressed_page_size, NULL),
    F(3, TR_I64, gfi_pq_page_location, first_row_index, NULL)};
static DEF(pageloc_def, gfi_pq_page_location, pageloc_f);

static const tr_field_def offidx_f[] = {
    F(1, TR_LIST_STRUCT, gfi_pq_offset_index, page_locations, &pageloc_def)};
static DEF(offidx_def, gfi_pq_offset_index, offidx_f);

gf_status gfi_pq_decode_column_index(const uint8_t *buf, size_t len, size_t base,
                                     gfi_pq_column_index *out, tr_arena *ar, gf_error *err) {
  return gfi_tr_decode(buf, len, base, &colidx_def, out, ar, NULL, err);
}

gf_status gfi_pq_decode_offset_index(const uint8_t *buf, size_t len, size_t base,
                                     gfi_pq_offset_index *out, tr_arena *ar, gf_error *err) {
  return gfi_tr_decode(buf, len, base, &offidx_def, out, ar, NULL, err);
}

gf_status gfi_pq_decode_file_meta(const uint8_t *buf, size_t len, size_t base,
                                  gfi_pq_file_meta *out, tr_arena *ar,
                                  gf_error *err) {
  return gfi_tr_decode(buf, len, base, &file_def, out, ar, NULL, err);
}

gf_status gfi_pq_decode_page_header(const uint8_t *buf, size_t len,
                                    size_t base, gfi_pq_page_header *out,
                                    tr_arena *ar, size_t *used, gf_error *err) {
  return gfi_tr_decode(buf, len, base, &ph_def, out, ar, used, err);
}

const char *gfi_pq_codec_name(int codec) {
  static const char *const n[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                  "BROTLI", "LZ4 (Hadoop framing)", "ZSTD",
                                  "LZ4_RAW"};
  return codec >= 0 && codec < 8 ? n[codec] : "unknown codec";
}

const char *gfi_pq_encoding_name(int enc) {
  static const char *const n[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY",
                                  "RLE", "BIT_PACKED", "DELTA_BINARY_PACKED",
                                  "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                                  "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
  return enc >= 0 && enc < 10 ? n[enc] : "unknown encoding";
}

const char *gfi_pq_type_name(int type) {
  static const char *const n[] = {"BOOLEAN", "INT32", "INT64", "INT96",
                                  "FLOAT", "DOUBLE", "BYTE_ARRAY",
                                  "FIXED_LEN_BYTE_ARRAY"};
  return type >= 0 && type < 8 ? n[type] : "unknown type";
}
