/*
 * The parts of parquet.thrift the writer needs (not installed): enum
 * values and struct field ids, from the Apache Parquet format
 * specification. Named gfi_pqw_* / PQW_* so they do not clash with the
 * reader's src/io/pq_format.h; the two describe the same spec.
 */
#ifndef GF_IO_PQ_WRITE_FORMAT_H
#define GF_IO_PQ_WRITE_FORMAT_H

/* Type (physical). */
enum { PQW_BOOLEAN = 0, PQW_INT32 = 1, PQW_INT64 = 2, PQW_INT96 = 3,
       PQW_FLOAT = 4, PQW_DOUBLE = 5, PQW_BYTE_ARRAY = 6, PQW_FLBA = 7 };
/* FieldRepetitionType. */
enum { PQW_REQUIRED = 0, PQW_OPTIONAL = 1, PQW_REPEATED = 2 };
/* ConvertedType (legacy annotations, written beside LogicalType for old
 * readers). -1 here means none. */
enum { PQW_CT_NONE = -1, PQW_CT_UTF8 = 0, PQW_CT_DECIMAL = 5, PQW_CT_DATE = 6,
       PQW_CT_TIME_MILLIS = 7, PQW_CT_TIME_MICROS = 8,
       PQW_CT_TIMESTAMP_MILLIS = 9, PQW_CT_TIMESTAMP_MICROS = 10,
       PQW_CT_UINT_8 = 11, PQW_CT_UINT_16 = 12, PQW_CT_UINT_32 = 13,
       PQW_CT_UINT_64 = 14, PQW_CT_INT_8 = 15, PQW_CT_INT_16 = 16,
       PQW_CT_INT_32 = 17, PQW_CT_INT_64 = 18 };
/* LogicalType union members (field ids). 0 here means none. */
enum { PQW_LT_NONE = 0, PQW_LT_STRING = 1, PQW_LT_DECIMAL = 5, PQW_LT_DATE = 6,
       PQW_LT_TIME = 7, PQW_LT_TIMESTAMP = 8, PQW_LT_INTEGER = 10,
       PQW_LT_UNKNOWN = 11 };
/* TimeUnit union members. */
enum { PQW_UNIT_MILLIS = 1, PQW_UNIT_MICROS = 2, PQW_UNIT_NANOS = 3 };
/* Encoding. */
enum { PQW_ENC_PLAIN = 0, PQW_ENC_PLAIN_DICTIONARY = 2, PQW_ENC_RLE = 3,
       PQW_ENC_BIT_PACKED = 4, PQW_ENC_RLE_DICTIONARY = 8 };
/* CompressionCodec. */
enum { PQW_CODEC_UNCOMPRESSED = 0, PQW_CODEC_SNAPPY = 1, PQW_CODEC_GZIP = 2,
       PQW_CODEC_ZSTD = 6, PQW_CODEC_LZ4_RAW = 7 };
/* PageType. */
enum { PQW_PAGE_DATA = 0, PQW_PAGE_DICTIONARY = 2, PQW_PAGE_DATA_V2 = 3 };
/* BoundaryOrder. */
enum { PQW_UNORDERED = 0, PQW_ASCENDING = 1, PQW_DESCENDING = 2 };

/* Field ids. */
enum { FMD_VERSION = 1, FMD_SCHEMA = 2, FMD_NUM_ROWS = 3, FMD_ROW_GROUPS = 4,
       FMD_KV = 5, FMD_CREATED_BY = 6, FMD_COLUMN_ORDERS = 7 };
enum { SE_TYPE = 1, SE_TYPE_LENGTH = 2, SE_REPETITION = 3, SE_NAME = 4,
       SE_NUM_CHILDREN = 5, SE_CONVERTED = 6, SE_SCALE = 7, SE_PRECISION = 8,
       SE_FIELD_ID = 9, SE_LOGICAL = 10 };
enum { RG_COLUMNS = 1, RG_TOTAL_BYTE_SIZE = 2, RG_NUM_ROWS = 3,
       RG_FILE_OFFSET = 5, RG_TOTAL_COMPRESSED = 6, RG_ORDINAL = 7 };
enum { CC_FILE_OFFSET = 2, CC_META = 3, CC_OI_OFFSET = 4, CC_OI_LENGTH = 5,
       CC_CI_OFFSET = 6, CC_CI_LENGTH = 7 };
enum { CM_TYPE = 1, CM_ENCODINGS = 2, CM_PATH = 3, CM_CODEC = 4,
       CM_NUM_VALUES = 5, CM_UNCOMPRESSED = 6, CM_COMPRESSED = 7,
       CM_DATA_PAGE_OFFSET = 9, CM_DICT_PAGE_OFFSET = 11, CM_STATISTICS = 12 };
enum { ST_NULL_COUNT = 3, ST_MAX_VALUE = 5, ST_MIN_VALUE = 6 };
enum { PH_TYPE = 1, PH_UNCOMPRESSED = 2, PH_COMPRESSED = 3, PH_DATA = 5,
       PH_DICT = 7 };
enum { DPH_NUM_VALUES = 1, DPH_ENCODING = 2, DPH_DEF_ENCODING = 3,
       DPH_REP_ENCODING = 4, DPH_STATISTICS = 5 };
enum { DICT_NUM_VALUES = 1, DICT_ENCODING = 2 };
enum { KV_KEY_ = 1, KV_VALUE_ = 2 };
enum { DEC_SCALE_ = 1, DEC_PRECISION_ = 2 };
enum { TS_ADJUSTED = 1, TS_UNIT_ = 2 };
enum { INT_BITWIDTH = 1, INT_ISSIGNED = 2 };
enum { CO_TYPE_ORDER = 1 };
enum { OI_PAGE_LOCATIONS = 1 };
enum { PL_OFFSET = 1, PL_COMPRESSED = 2, PL_FIRST_ROW = 3 };
enum { CI_NULL_PAGES = 1, CI_MIN_VALUES = 2, CI_MAX_VALUES = 3,
       CI_BOUNDARY_ORDER = 4, CI_NULL_COUNTS = 5 };

#endif /* GF_IO_PQ_WRITE_FORMAT_H */
