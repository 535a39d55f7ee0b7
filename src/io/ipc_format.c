/* The one declarative description of the Arrow IPC flatbuffer tables
 * (Schema.fbs, Message.fbs, File.fbs) used by the verifier, the reader and
 * the writer, and the mapping between Arrow's Type union and gf_datatype. */
#include <stdio.h>
#include <string.h>

#include "data/timezone.h"
#include "io/ipc_internal.h"

#define NF(arr) ((int)(sizeof(arr) / sizeof((arr)[0])))
#define SCALAR(slot, kind, name) {slot, kind, 0, NULL, NULL, 0, name}
#define TABLE(slot, def, name) {slot, FB_TABLE, 0, &def, NULL, 0, name}
#define VEC_TABLES(slot, def, name) {slot, FB_VEC_TABLE, 0, &def, NULL, 0, name}
#define VEC_STRUCTS(slot, size, name) {slot, FB_VEC_STRUCT, size, NULL, NULL, 0, name}
#define STRING(slot, name) {slot, FB_STRING, 0, NULL, NULL, 0, name}
#define UNION(slot, tables, name) {slot, FB_UNION, 0, NULL, tables, NF(tables), name}

/* Type tables with no fields we read (empty, or parameters of types we
 * refuse): the verifier still checks their vtable and size. */
#define EMPTY_DEF(var, name) static const fb_table_def var = {name, 0, NULL}
EMPTY_DEF(def_null, "Null");
EMPTY_DEF(def_binary, "Binary");
EMPTY_DEF(def_utf8, "Utf8");
EMPTY_DEF(def_bool, "Bool");
EMPTY_DEF(def_large_binary, "LargeBinary");
EMPTY_DEF(def_large_utf8, "LargeUtf8");
EMPTY_DEF(def_binary_view, "BinaryView");
EMPTY_DEF(def_utf8_view, "Utf8View");
EMPTY_DEF(def_other, "(unsupported type)");
EMPTY_DEF(def_tensor, "Tensor");

static const fb_field_def int_fields[] = {
    SCALAR(INT_BIT_WIDTH, FB_I32, "bitWidth"),
    SCALAR(INT_SIGNED, FB_BOOL, "is_signed")};
const fb_table_def gfi_fb_int = {"Int", NF(int_fields), int_fields};

static const fb_field_def fp_fields[] = {
    SCALAR(FP_PRECISION, FB_I16, "precision")};
static const fb_table_def def_float = {"FloatingPoint", NF(fp_fields), fp_fields};

static const fb_field_def date_fields[] = {SCALAR(DATE_UNIT, FB_I16, "unit")};
static const fb_table_def def_date = {"Date", NF(date_fields), date_fields};

static const fb_field_def time_fields[] = {
    SCALAR(TIME_UNIT, FB_I16, "unit"),
    SCALAR(TIME_BIT_WIDTH, FB_I32, "bitWidth")};
static const fb_table_def def_time = {"Time", NF(time_fields), time_fields};

static const fb_field_def ts_fields[] = {SCALAR(TS_UNIT, FB_I16, "unit"),
                                         STRING(TS_TIMEZONE, "timezone")};
static const fb_table_def def_timestamp = {"Timestamp", NF(ts_fields), ts_fields};

static const fb_field_def dur_fields[] = {SCALAR(DURATION_UNIT, FB_I16, "unit")};
static const fb_table_def def_duration = {"Duration", NF(dur_fields), dur_fields};

static const fb_field_def fsb_fields[] = {
    SCALAR(FSB_BYTE_WIDTH, FB_I32, "byteWidth")};
static const fb_table_def def_fsb = {"FixedSizeBinary", NF(fsb_fields), fsb_fields};

static const fb_field_def dec_fields[] = {
    SCALAR(DEC_PRECISION, FB_I32, "precision"),
    SCALAR(DEC_SCALE, FB_I32, "scale"),
    SCALAR(DEC_BIT_WIDTH, FB_I32, "bitWidth")};
static const fb_table_def def_decimal = {"Decimal", NF(dec_fields), dec_fields};

/* Indexed by Arrow Type tag. */
static const fb_table_def *const type_tables[ATYPE_COUNT_] = {
    [ATYPE_NULL] = &def_null,          [ATYPE_INT] = &gfi_fb_int,
    [ATYPE_FLOAT] = &def_float,        [ATYPE_BINARY] = &def_binary,
    [ATYPE_UTF8] = &def_utf8,          [ATYPE_BOOL] = &def_bool,
    [ATYPE_DECIMAL] = &def_decimal,     [ATYPE_DATE] = &def_date,
    [ATYPE_TIME] = &def_time,          [ATYPE_TIMESTAMP] = &def_timestamp,
    [ATYPE_INTERVAL] = &def_other,     [ATYPE_LIST] = &def_other,
    [ATYPE_STRUCT] = &def_other,       [ATYPE_UNION] = &def_other,
    [ATYPE_FSB] = &def_fsb,            [ATYPE_FIXED_SIZE_LIST] = &def_other,
    [ATYPE_MAP] = &def_other,          [ATYPE_DURATION] = &def_duration,
    [ATYPE_LARGE_BINARY] = &def_large_binary,
    [ATYPE_LARGE_UTF8] = &def_large_utf8,
    [ATYPE_LARGE_LIST] = &def_other,   [ATYPE_RUN_END_ENCODED] = &def_other,
    [ATYPE_BINARY_VIEW] = &def_binary_view, [ATYPE_UTF8_VIEW] = &def_utf8_view,
    [ATYPE_LIST_VIEW] = &def_other,    [ATYPE_LARGE_LIST_VIEW] = &def_other};

static const fb_field_def kv_fields[] = {STRING(KV_KEY, "key"),
                                         STRING(KV_VALUE, "value")};
const fb_table_def gfi_fb_key_value = {"KeyValue", NF(kv_fields), kv_fields};

static const fb_field_def dictenc_fields[] = {
    SCALAR(DICTENC_ID, FB_I64, "id"),
    TABLE(DICTENC_INDEX_TYPE, gfi_fb_int, "indexType"),
    SCALAR(DICTENC_ORDERED, FB_BOOL, "isOrdered"),
    SCALAR(DICTENC_KIND, FB_I16, "dictionaryKind")};
const fb_table_def gfi_fb_dictionary_encoding = {
    "DictionaryEncoding", NF(dictenc_fields), dictenc_fields};

static const fb_field_def field_fields[] = {
    STRING(FIELD_NAME, "name"),
    SCALAR(FIELD_NULLABLE, FB_BOOL, "nullable"),
    SCALAR(FIELD_TYPE_TYPE, FB_U8, "type_type"),
    UNION(FIELD_TYPE, type_tables, "type"),
    TABLE(FIELD_DICTIONARY, gfi_fb_dictionary_encoding, "dictionary"),
    VEC_TABLES(FIELD_CHILDREN, gfi_fb_field, "children"),
    VEC_TABLES(FIELD_METADATA, gfi_fb_key_value, "custom_metadata")};
const fb_table_def gfi_fb_field = {"Field", NF(field_fields), field_fields};

static const fb_field_def schema_fields[] = {
    SCALAR(SCHEMA_ENDIANNESS, FB_I16, "endianness"),
    VEC_TABLES(SCHEMA_FIELDS, gfi_fb_field, "fields"),
    VEC_TABLES(SCHEMA_METADATA, gfi_fb_key_value, "custom_metadata"),
    {SCHEMA_FEATURES, FB_VEC_I64, 0, NULL, NULL, 0, "features"}};
const fb_table_def gfi_fb_schema = {"Schema", NF(schema_fields), schema_fields};

static const fb_field_def comp_fields[] = {
    SCALAR(COMP_CODEC, FB_U8, "codec"), SCALAR(COMP_METHOD, FB_U8, "method")};
const fb_table_def gfi_fb_body_compression = {"BodyCompression",
                                              NF(comp_fields), comp_fields};

static const fb_field_def rb_fields[] = {
    SCALAR(RB_LENGTH, FB_I64, "length"),
    VEC_STRUCTS(RB_NODES, GFI_FIELD_NODE_SIZE, "nodes"),
    VEC_STRUCTS(RB_BUFFERS, GFI_BUFFER_SIZE, "buffers"),
    TABLE(RB_COMPRESSION, gfi_fb_body_compression, "compression"),
    {RB_VARIADIC, FB_VEC_I64, 0, NULL, NULL, 0, "variadicBufferCounts"}};
const fb_table_def gfi_fb_record_batch = {"RecordBatch", NF(rb_fields), rb_fields};

static const fb_field_def db_fields[] = {
    SCALAR(DB_ID, FB_I64, "id"), TABLE(DB_DATA, gfi_fb_record_batch, "data"),
    SCALAR(DB_IS_DELTA, FB_BOOL, "isDelta")};
const fb_table_def gfi_fb_dictionary_batch = {"DictionaryBatch", NF(db_fields),
                                              db_fields};

static const fb_table_def *const header_tables[] = {
    NULL, &gfi_fb_schema, &gfi_fb_dictionary_batch, &gfi_fb_record_batch,
    &def_tensor, &def_tensor};

static const fb_field_def msg_fields[] = {
    SCALAR(MSG_VERSION, FB_I16, "version"),
    SCALAR(MSG_HEADER_TYPE, FB_U8, "header_type"),
    UNION(MSG_HEADER, header_tables, "header"),
    SCALAR(MSG_BODY_LENGTH, FB_I64, "bodyLength"),
    VEC_TABLES(MSG_METADATA, gfi_fb_key_value, "custom_metadata")};
const fb_table_def gfi_fb_message = {"Message", NF(msg_fields), msg_fields};

static const fb_field_def footer_fields[] = {
    SCALAR(FOOTER_VERSION, FB_I16, "version"),
    TABLE(FOOTER_SCHEMA, gfi_fb_schema, "schema"),
    VEC_STRUCTS(FOOTER_DICTIONARIES, GFI_BLOCK_SIZE, "dictionaries"),
    VEC_STRUCTS(FOOTER_BATCHES, GFI_BLOCK_SIZE, "recordBatches"),
    VEC_TABLES(FOOTER_METADATA, gfi_fb_key_value, "custom_metadata")};
const fb_table_def gfi_fb_footer = {"Footer", NF(footer_fields), footer_fields};

static const char *const type_names[ATYPE_COUNT_] = {
    "none", "null", "int", "floating point", "binary", "utf8", "bool",
    "decimal", "date", "time", "timestamp", "interval", "list", "struct",
    "union", "fixed_size_binary", "fixed_size_list", "map", "duration",
    "large_binary", "large_utf8", "large_list", "run_end_encoded",
    "binary_view", "utf8_view", "list_view", "large_list_view"};

const char *gfi_ipc_type_name(int tag) {
  return tag >= 0 && tag < ATYPE_COUNT_ ? type_names[tag] : "unknown type";
}

/* Maps Arrow TimeUnit (SECOND=0 .. NANOSECOND=3) to gf_time_unit. */
static bool unit_ok(int64_t u) { return u >= 0 && u <= 3; }

/* See ipc_internal.h. */
gf_status gfi_ipc_decode_type(const fb_table *field, const char *fname,
                              gf_datatype *out, bool *is_view,
                              gf_error *err) {
  *is_view = false;
  int tag = (int)gfi_fb_get_int(field, FIELD_TYPE_TYPE, 0);
  fb_table t;
  bool have = gfi_fb_get_table(field, FIELD_TYPE, &t);
  if (tag <= 0 || tag >= ATYPE_COUNT_ || !have)
    return gf_error_set(err, tag >= ATYPE_COUNT_ ? GF_ENOTSUP : GF_EINVAL,
                        "IPC field '%s': %s type (tag %d)", fname,
                        tag >= ATYPE_COUNT_ ? "unsupported" : "missing", tag);
  gf_datatype r = gf_type(GF_TYPE_NULL);
  switch (tag) {
    case ATYPE_NULL: break;
    case ATYPE_BOOL: r = gf_type(GF_TYPE_BOOL); break;
    case ATYPE_BINARY: r = gf_type(GF_TYPE_BINARY); break;
    case ATYPE_UTF8: r = gf_type(GF_TYPE_UTF8); break;
    case ATYPE_LARGE_BINARY: r = gf_type(GF_TYPE_LARGE_BINARY); break;
    case ATYPE_LARGE_UTF8: r = gf_type(GF_TYPE_LARGE_UTF8); break;
    case ATYPE_BINARY_VIEW:
    case ATYPE_UTF8_VIEW:
      /* Read as views, held as binary/utf8 (view_internal.h). */
      *is_view = true;
      r = gf_type(tag == ATYPE_UTF8_VIEW ? GF_TYPE_UTF8 : GF_TYPE_BINARY);
      break;
    case ATYPE_INT: {
      int64_t w = gfi_fb_get_int(&t, INT_BIT_WIDTH, 0);
      bool s = gfi_fb_get_int(&t, INT_SIGNED, 0) != 0;
      int k = w == 8 ? 0 : w == 16 ? 1 : w == 32 ? 2 : w == 64 ? 3 : -1;
      if (k < 0)
        return gf_error_set(err, GF_EINVAL, "IPC field '%s': int of %lld bits",
                            fname, (long long)w);
      r = gf_type((gf_type_id)((s ? GF_TYPE_INT8 : GF_TYPE_UINT8) + k));
      break;
    }
    case ATYPE_FLOAT: {
      int64_t p = gfi_fb_get_int(&t, FP_PRECISION, 0);
      if (p == 0)
        return gf_error_set(err, GF_ENOTSUP,
                            "IPC field '%s': type float16 is not supported",
                            fname);
      if (p != 1 && p != 2)
        return gf_error_set(err, GF_EINVAL,
                            "IPC field '%s': bad float precision %lld", fname,
                            (long long)p);
      r = gf_type(p == 1 ? GF_TYPE_FLOAT32 : GF_TYPE_FLOAT64);
      break;
    }
    case ATYPE_DATE: {
      int64_t u = gfi_fb_get_int(&t, DATE_UNIT, 1);
      if (u != 0 && u != 1)
        return gf_error_set(err, GF_EINVAL, "IPC field '%s': bad date unit %lld",
                            fname, (long long)u);
      r = gf_type(u == 0 ? GF_TYPE_DATE32 : GF_TYPE_DATE64);
      break;
    }
    case ATYPE_TIME: {
      int64_t u = gfi_fb_get_int(&t, TIME_UNIT, 1);
      int64_t w = gfi_fb_get_int(&t, TIME_BIT_WIDTH, 32);
      bool ok32 = w == 32 && (u == 0 || u == 1);
      bool ok64 = w == 64 && (u == 2 || u == 3);
      if (!ok32 && !ok64)
        return gf_error_set(err, GF_EINVAL,
                            "IPC field '%s': time of %lld bits with unit %lld",
                            fname, (long long)w, (long long)u);
      r = gf_type_time(ok32 ? GF_TYPE_TIME32 : GF_TYPE_TIME64, (gf_time_unit)u);
      break;
    }
    case ATYPE_TIMESTAMP: {
      int64_t u = gfi_fb_get_int(&t, TS_UNIT, 0);
      if (!unit_ok(u))
        return gf_error_set(err, GF_EINVAL,
                            "IPC field '%s': bad timestamp unit %lld", fname,
                            (long long)u);
      const char *tz;
      size_t tzn;
      bool has_tz = gfi_fb_get_string(&t, TS_TIMEZONE, &tz, &tzn) && tzn > 0;
      r = gf_type_timestamp((gf_time_unit)u, false, 0);
      if (has_tz) {
        gf_error e2;
        gf_error_clear(&e2);
        gf_status st = gfi_timestamp_with_zone((gf_time_unit)u, tz, tzn, &r, &e2);
        if (st != GF_OK)
          return gf_error_set(err, st, "IPC field '%s': %s", fname, e2.message);
      }
      break;
    }
    case ATYPE_DURATION: {
      int64_t u = gfi_fb_get_int(&t, DURATION_UNIT, 1);
      if (!unit_ok(u))
        return gf_error_set(err, GF_EINVAL,
                            "IPC field '%s': bad duration unit %lld", fname,
                            (long long)u);
      r = gf_type_duration((gf_time_unit)u);
      break;
    }
    case ATYPE_FSB: {
      int64_t w = gfi_fb_get_int(&t, FSB_BYTE_WIDTH, 0);
      if (w <= 0 || w > INT32_MAX)
        return gf_error_set(err, GF_EINVAL,
                            "IPC field '%s': fixed_size_binary width %lld",
                            fname, (long long)w);
      r = gf_type_fixed_size_binary((int32_t)w);
      break;
    }
    case ATYPE_DECIMAL: {
      int64_t p = gfi_fb_get_int(&t, DEC_PRECISION, 0);
      int64_t s = gfi_fb_get_int(&t, DEC_SCALE, 0);
      int64_t w = gfi_fb_get_int(&t, DEC_BIT_WIDTH, 128);
      if (w != 128 && w != 256)
        return gf_error_set(err, GF_ENOTSUP,
                            "IPC field '%s': decimal of %lld bits is not "
                            "supported (128 or 256)",
                            fname, (long long)w);
      if (p < INT32_MIN || p > INT32_MAX || s < INT32_MIN || s > INT32_MAX)
        return gf_error_set(err, GF_EINVAL,
                            "IPC field '%s': decimal precision %lld / scale "
                            "%lld out of range",
                            fname, (long long)p, (long long)s);
      r = w == 128 ? gf_type_decimal128((int32_t)p, (int32_t)s)
                   : gf_type_decimal256((int32_t)p, (int32_t)s);
      gf_error sub;
      gf_error_clear(&sub);
      gf_status st = gf_type_validate(r, &sub);
      if (st != GF_OK)
        return gf_error_set(err, st, "IPC field '%s': %s", fname, sub.message);
      break;
    }
    default:
      return gf_error_set(err, GF_ENOTSUP,
                          "IPC field '%s': type %s is not supported", fname,
                          gfi_ipc_type_name(tag));
  }
  *out = r;
  return GF_OK;
}

/* See ipc_internal.h. */
void gfi_ipc_encode_type(fbb *b, fbb_node *field, gf_datatype t) {
  int tag = ATYPE_NULL;
  fbb_node *n = NULL;
  switch (t.id) {
    case GF_TYPE_NULL: n = gfi_fbb_table(b, &def_null); break;
    case GF_TYPE_BOOL: tag = ATYPE_BOOL; n = gfi_fbb_table(b, &def_bool); break;
    case GF_TYPE_INT8: case GF_TYPE_INT16: case GF_TYPE_INT32:
    case GF_TYPE_INT64: case GF_TYPE_UINT8: case GF_TYPE_UINT16:
    case GF_TYPE_UINT32: case GF_TYPE_UINT64: {
      bool s = t.id <= GF_TYPE_INT64;
      int k = (int)t.id - (s ? GF_TYPE_INT8 : GF_TYPE_UINT8);
      tag = ATYPE_INT;
      n = gfi_fbb_table(b, &gfi_fb_int);
      gfi_fbb_set_int(n, INT_BIT_WIDTH, 8 << k);
      gfi_fbb_set_int(n, INT_SIGNED, s);
      break;
    }
    case GF_TYPE_FLOAT32: case GF_TYPE_FLOAT64:
      tag = ATYPE_FLOAT;
      n = gfi_fbb_table(b, &def_float);
      gfi_fbb_set_int(n, FP_PRECISION, t.id == GF_TYPE_FLOAT32 ? 1 : 2);
      break;
    case GF_TYPE_UTF8: tag = ATYPE_UTF8; n = gfi_fbb_table(b, &def_utf8); break;
    case GF_TYPE_LARGE_UTF8:
      tag = ATYPE_LARGE_UTF8;
      n = gfi_fbb_table(b, &def_large_utf8);
      break;
    case GF_TYPE_BINARY: tag = ATYPE_BINARY; n = gfi_fbb_table(b, &def_binary); break;
    case GF_TYPE_LARGE_BINARY:
      tag = ATYPE_LARGE_BINARY;
      n = gfi_fbb_table(b, &def_large_binary);
      break;
    case GF_TYPE_FIXED_SIZE_BINARY:
      tag = ATYPE_FSB;
      n = gfi_fbb_table(b, &def_fsb);
      gfi_fbb_set_int(n, FSB_BYTE_WIDTH, t.byte_width);
      break;
    case GF_TYPE_DECIMAL128: case GF_TYPE_DECIMAL256:
      tag = ATYPE_DECIMAL;
      n = gfi_fbb_table(b, &def_decimal);
      gfi_fbb_set_int(n, DEC_PRECISION, t.precision);
      gfi_fbb_set_int(n, DEC_SCALE, t.scale);
      gfi_fbb_set_int(n, DEC_BIT_WIDTH, t.id == GF_TYPE_DECIMAL128 ? 128 : 256);
      break;
    case GF_TYPE_DATE32: case GF_TYPE_DATE64:
      tag = ATYPE_DATE;
      n = gfi_fbb_table(b, &def_date);
      gfi_fbb_set_int(n, DATE_UNIT, t.id == GF_TYPE_DATE32 ? 0 : 1);
      break;
    case GF_TYPE_TIME32: case GF_TYPE_TIME64:
      tag = ATYPE_TIME;
      n = gfi_fbb_table(b, &def_time);
      gfi_fbb_set_int(n, TIME_UNIT, t.unit);
      gfi_fbb_set_int(n, TIME_BIT_WIDTH, t.id == GF_TYPE_TIME32 ? 32 : 64);
      break;
    case GF_TYPE_TIMESTAMP:
      tag = ATYPE_TIMESTAMP;
      n = gfi_fbb_table(b, &def_timestamp);
      gfi_fbb_set_int(n, TS_UNIT, t.unit);
      if (t.has_timezone) {
        char tz[GFI_TZ_NAME_MAX + 1];
        gfi_tz_format(t, tz, sizeof tz);
        gfi_fbb_set_child(n, TS_TIMEZONE, gfi_fbb_string(b, tz, strlen(tz)));
      }
      break;
    case GF_TYPE_DURATION:
      tag = ATYPE_DURATION;
      n = gfi_fbb_table(b, &def_duration);
      gfi_fbb_set_int(n, DURATION_UNIT, t.unit);
      break;
    default: n = gfi_fbb_table(b, &def_null); break;
  }
  gfi_fbb_set_int(field, FIELD_TYPE_TYPE, tag);
  gfi_fbb_set_child(field, FIELD_TYPE, n);
}

/* See ipc_internal.h. */
void gfi_ipc_encode_view_type(fbb *b, fbb_node *field, bool utf8) {
  gfi_fbb_set_int(field, FIELD_TYPE_TYPE, utf8 ? ATYPE_UTF8_VIEW : ATYPE_BINARY_VIEW);
  gfi_fbb_set_child(field, FIELD_TYPE,
                    gfi_fbb_table(b, utf8 ? &def_utf8_view : &def_binary_view));
}
