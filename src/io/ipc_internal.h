/*
 * Arrow IPC internals shared by the reader and the writer (not installed):
 * the declarative flatbuffer table descriptions of Schema.fbs, Message.fbs
 * and File.fbs, the mapping between gf_datatype and Arrow's Type union, and
 * the body compression codecs.
 */
#ifndef GF_IO_IPC_INTERNAL_H
#define GF_IO_IPC_INTERNAL_H

#include "data/array_internal.h"
#include "io/flatbuf.h"

/* Field slots (the flatbuffers field ids of the Arrow .fbs files). */
enum { SCHEMA_ENDIANNESS = 0, SCHEMA_FIELDS = 1, SCHEMA_METADATA = 2,
       SCHEMA_FEATURES = 3 };
enum { FIELD_NAME = 0, FIELD_NULLABLE = 1, FIELD_TYPE_TYPE = 2, FIELD_TYPE = 3,
       FIELD_DICTIONARY = 4, FIELD_CHILDREN = 5, FIELD_METADATA = 6 };
enum { KV_KEY = 0, KV_VALUE = 1 };
enum { DICTENC_ID = 0, DICTENC_INDEX_TYPE = 1, DICTENC_ORDERED = 2,
       DICTENC_KIND = 3 };
enum { INT_BIT_WIDTH = 0, INT_SIGNED = 1 };
enum { FP_PRECISION = 0 };
enum { DATE_UNIT = 0 };
enum { TIME_UNIT = 0, TIME_BIT_WIDTH = 1 };
enum { TS_UNIT = 0, TS_TIMEZONE = 1 };
enum { DURATION_UNIT = 0 };
enum { FSB_BYTE_WIDTH = 0 };
enum { DEC_PRECISION = 0, DEC_SCALE = 1, DEC_BIT_WIDTH = 2 };
enum { MSG_VERSION = 0, MSG_HEADER_TYPE = 1, MSG_HEADER = 2,
       MSG_BODY_LENGTH = 3, MSG_METADATA = 4 };
enum { RB_LENGTH = 0, RB_NODES = 1, RB_BUFFERS = 2, RB_COMPRESSION = 3,
       RB_VARIADIC = 4 };
enum { COMP_CODEC = 0, COMP_METHOD = 1 };
enum { DB_ID = 0, DB_DATA = 1, DB_IS_DELTA = 2 };
enum { FOOTER_VERSION = 0, FOOTER_SCHEMA = 1, FOOTER_DICTIONARIES = 2,
       FOOTER_BATCHES = 3, FOOTER_METADATA = 4 };

/* Arrow's Type union tags. */
enum {
  ATYPE_NONE = 0, ATYPE_NULL, ATYPE_INT, ATYPE_FLOAT, ATYPE_BINARY, ATYPE_UTF8,
  ATYPE_BOOL, ATYPE_DECIMAL, ATYPE_DATE, ATYPE_TIME, ATYPE_TIMESTAMP,
  ATYPE_INTERVAL, ATYPE_LIST, ATYPE_STRUCT, ATYPE_UNION, ATYPE_FSB,
  ATYPE_FIXED_SIZE_LIST, ATYPE_MAP, ATYPE_DURATION, ATYPE_LARGE_BINARY,
  ATYPE_LARGE_UTF8, ATYPE_LARGE_LIST, ATYPE_RUN_END_ENCODED,
  ATYPE_BINARY_VIEW, ATYPE_UTF8_VIEW, ATYPE_LIST_VIEW, ATYPE_LARGE_LIST_VIEW,
  ATYPE_COUNT_
};
/* MessageHeader union tags. */
enum { MSG_SCHEMA = 1, MSG_DICTIONARY_BATCH = 2, MSG_RECORD_BATCH = 3,
       MSG_TENSOR = 4, MSG_SPARSE_TENSOR = 5 };
/* MetadataVersion V5, the current one. */
#define GFI_IPC_METADATA_V5 4
/* CompressionType. */
enum { CODEC_LZ4_FRAME = 0, CODEC_ZSTD = 1 };

extern const fb_table_def gfi_fb_schema, gfi_fb_field, gfi_fb_key_value,
    gfi_fb_dictionary_encoding, gfi_fb_int, gfi_fb_message,
    gfi_fb_record_batch, gfi_fb_dictionary_batch, gfi_fb_body_compression,
    gfi_fb_footer;

/* Byte sizes of the structs FieldNode, Buffer and Block. */
#define GFI_FIELD_NODE_SIZE 16
#define GFI_BUFFER_SIZE 16
#define GFI_BLOCK_SIZE 24

/* Name of an Arrow Type union tag ("decimal", "list", ...). */
const char *gfi_ipc_type_name(int tag);

/* Converts a verified Field's type to a gf_datatype (the value type of a
 * dictionary-encoded field; the caller handles the encoding). Unsupported
 * types fail with GF_ENOTSUP naming the type and the field. Utf8View and
 * BinaryView give utf8/binary with *is_view set: their body buffers are
 * views, converted as they are read. */
gf_status gfi_ipc_decode_type(const fb_table *field, const char *fname,
                              gf_datatype *out, bool *is_view, gf_error *err);
/* Builds the Type union of `t` (a non-dictionary type): sets the type tag
 * and type table of Field node `field`. */
void gfi_ipc_encode_type(fbb *b, fbb_node *field, gf_datatype t);
/* Sets the type of Field node `field` to Utf8View (`utf8`) or BinaryView. */
void gfi_ipc_encode_view_type(fbb *b, fbb_node *field, bool utf8);

/* Body compression. `codec` is CODEC_LZ4_FRAME or CODEC_ZSTD. */
bool gfi_ipc_codec_available(int codec);
const char *gfi_ipc_codec_name(int codec);
/* Upper bound of the compressed size of n bytes. */
size_t gfi_ipc_compress_bound(int codec, size_t n);
/* Compresses src into dst (capacity dst_cap); *written receives the size. */
gf_status gfi_ipc_compress(int codec, int level, const void *src, size_t n,
                           void *dst, size_t dst_cap, size_t *written,
                           gf_error *err);
/* Decompresses src into exactly dst_len bytes at dst; any other size or a
 * corrupt frame fails with GF_EINVAL. */
gf_status gfi_ipc_decompress(int codec, const void *src, size_t n, void *dst,
                             size_t dst_len, gf_error *err);

/* The encapsulated IPC Schema message of frame `f` (continuation marker,
 * length, flatbuffer, padding), as the IPC writers write it; used by the
 * Parquet writer for its ARROW:schema key. *out is freed with gf_mem_free. */
gf_status gfi_ipc_schema_message(const gf_frame *f, const gf_allocator *a,
                                 void **out, size_t *out_len, gf_error *err);

#endif /* GF_IO_IPC_INTERNAL_H */
