/*
 * Data types: constructors, equality, validation, names and the layout
 * facts (buffer counts, widths) the rest of src/data relies on.
 */
#include <stdio.h>
#include <string.h>

#include "data/array_internal.h"
#include "data/timezone.h"

/* A type with every parameter zeroed except the id. */
gf_datatype gf_type(gf_type_id id) {
  gf_datatype t;
  memset(&t, 0, sizeof t);
  t.id = id;
  t.value_id = GF_TYPE_NULL;
  t.unit = GF_UNIT_SECOND;
  return t;
}

/* Timestamp in `unit`; with has_tz, at a fixed offset east of UTC (0 = UTC). */
gf_datatype gf_type_timestamp(gf_time_unit unit, bool has_tz,
                              int32_t tz_offset_minutes) {
  gf_datatype t = gf_type(GF_TYPE_TIMESTAMP);
  t.unit = unit;
  t.has_timezone = has_tz;
  t.tz_offset_minutes = has_tz ? tz_offset_minutes : 0;
  return t;
}

/* time32 (s, ms) or time64 (us, ns); other ids are kept and later refused
 * by gf_type_validate. */
gf_datatype gf_type_time(gf_type_id id, gf_time_unit unit) {
  gf_datatype t = gf_type(id);
  t.unit = unit;
  return t;
}

gf_datatype gf_type_duration(gf_time_unit unit) {
  gf_datatype t = gf_type(GF_TYPE_DURATION);
  t.unit = unit;
  return t;
}

gf_datatype gf_type_fixed_size_binary(int32_t byte_width) {
  gf_datatype t = gf_type(GF_TYPE_FIXED_SIZE_BINARY);
  t.byte_width = byte_width;
  return t;
}

/* decimal128(p, s): parameters checked by gf_type_validate. */
gf_datatype gf_type_decimal128(int32_t precision, int32_t scale) {
  gf_datatype t = gf_type(GF_TYPE_DECIMAL128);
  t.precision = precision;
  t.scale = scale;
  return t;
}

/* decimal256(p, s): parameters checked by gf_type_validate. */
gf_datatype gf_type_decimal256(int32_t precision, int32_t scale) {
  gf_datatype t = gf_type(GF_TYPE_DECIMAL256);
  t.precision = precision;
  t.scale = scale;
  return t;
}

/* Dictionary over `value`: the value's parameters are kept in the same
 * struct, the id becomes GF_TYPE_DICTIONARY and value_id the value's id. */
gf_datatype gf_type_dictionary(gf_datatype value) {
  gf_datatype t = value;
  t.value_id = value.id;
  t.id = GF_TYPE_DICTIONARY;
  return t;
}

/* Value type of a dictionary; any other type is returned as is. */
gf_datatype gf_type_value(gf_datatype t) {
  if (t.id != GF_TYPE_DICTIONARY) return t;
  gf_datatype v = t;
  v.id = t.value_id;
  v.value_id = GF_TYPE_NULL;
  return v;
}

/* Equality of the parameters that matter for a (non-dictionary) id. */
static bool value_type_equals(gf_datatype a, gf_datatype b) {
  if (a.id != b.id) return false;
  switch (a.id) {
    case GF_TYPE_TIME32:
    case GF_TYPE_TIME64:
    case GF_TYPE_DURATION:
      return a.unit == b.unit;
    case GF_TYPE_TIMESTAMP:
      if (a.unit != b.unit || a.has_timezone != b.has_timezone) return false;
      return !a.has_timezone ||
             (a.tz_id == b.tz_id && (a.tz_id != 0 || a.tz_offset_minutes == b.tz_offset_minutes));
    case GF_TYPE_FIXED_SIZE_BINARY:
      return a.byte_width == b.byte_width;
    case GF_TYPE_DECIMAL128:
    case GF_TYPE_DECIMAL256:
      return a.precision == b.precision && a.scale == b.scale;
    default:
      return true;
  }
}

/* Two types are equal when their ids and the parameters relevant to those
 * ids agree (unused fields are ignored). */
bool gf_type_equals(gf_datatype a, gf_datatype b) {
  if (a.id != b.id) return false;
  if (a.id == GF_TYPE_DICTIONARY)
    return value_type_equals(gf_type_value(a), gf_type_value(b));
  return value_type_equals(a, b);
}

static const char *const k_type_names[GF_TYPE_COUNT_] = {
    "null",   "bool",         "int8",          "int16",
    "int32",  "int64",        "uint8",         "uint16",
    "uint32", "uint64",       "float32",       "float64",
    "utf8",   "large_utf8",   "binary",        "large_binary",
    "fixed_size_binary",      "date32",        "date64",
    "time32", "time64",       "timestamp",     "duration",
    "dictionary", "decimal128", "decimal256"};

/* Short name of an id; "invalid" for values outside the enum. */
const char *gf_type_id_name(gf_type_id id) {
  if ((int)id < 0 || id >= GF_TYPE_COUNT_) return "invalid";
  return k_type_names[id];
}

static const char *unit_name(gf_time_unit u) {
  switch (u) {
    case GF_UNIT_SECOND: return "s";
    case GF_UNIT_MILLI: return "ms";
    case GF_UNIT_MICRO: return "us";
    case GF_UNIT_NANO: return "ns";
  }
  return "?";
}

/* Checks a non-dictionary type's parameters. */
static gf_status validate_value_type(gf_datatype t, gf_error *err) {
  if ((int)t.id < 0 || t.id >= GF_TYPE_COUNT_)
    return gf_error_set(err, GF_EINVAL, "invalid type id %d", (int)t.id);
  switch (t.id) {
    case GF_TYPE_TIME32:
      if (t.unit != GF_UNIT_SECOND && t.unit != GF_UNIT_MILLI)
        return gf_error_set(err, GF_EINVAL,
                            "time32 takes unit s or ms, not %s",
                            unit_name(t.unit));
      break;
    case GF_TYPE_TIME64:
      if (t.unit != GF_UNIT_MICRO && t.unit != GF_UNIT_NANO)
        return gf_error_set(err, GF_EINVAL,
                            "time64 takes unit us or ns, not %s",
                            unit_name(t.unit));
      break;
    case GF_TYPE_TIMESTAMP:
    case GF_TYPE_DURATION:
      if ((int)t.unit < GF_UNIT_SECOND || t.unit > GF_UNIT_NANO)
        return gf_error_set(err, GF_EINVAL, "invalid time unit %d for %s",
                            (int)t.unit, gf_type_id_name(t.id));
      if (t.id == GF_TYPE_TIMESTAMP && t.has_timezone &&
          (t.tz_offset_minutes <= -24 * 60 || t.tz_offset_minutes >= 24 * 60))
        return gf_error_set(err, GF_EINVAL,
                            "timestamp time zone offset %d minutes is not "
                            "within +/-23:59",
                            (int)t.tz_offset_minutes);
      if (t.id == GF_TYPE_TIMESTAMP && t.tz_id != 0 &&
          (!t.has_timezone || gfi_tz_get(t.tz_id) == NULL))
        return gf_error_set(err, GF_EINVAL,
                            "timestamp time zone id %d is not a zone of this "
                            "process (use gf_type_timestamp_zone)", (int)t.tz_id);
      break;
    case GF_TYPE_FIXED_SIZE_BINARY:
      if (t.byte_width <= 0)
        return gf_error_set(err, GF_EINVAL,
                            "fixed_size_binary byte width must be > 0, got %d",
                            (int)t.byte_width);
      break;
    case GF_TYPE_DECIMAL128:
    case GF_TYPE_DECIMAL256: {
      int maxp = t.id == GF_TYPE_DECIMAL128 ? 38 : 76;
      if (t.precision < 1 || t.precision > maxp)
        return gf_error_set(err, GF_EINVAL,
                            "%s precision must be 1..%d, got %d",
                            gf_type_id_name(t.id), maxp, (int)t.precision);
      if (t.scale < 0)
        return gf_error_set(err, GF_ENOTSUP,
                            "%s(%d, %d): negative scales are not supported",
                            gf_type_id_name(t.id), (int)t.precision,
                            (int)t.scale);
      if (t.scale > t.precision)
        return gf_error_set(err, GF_EINVAL,
                            "%s scale %d exceeds its precision %d",
                            gf_type_id_name(t.id), (int)t.scale,
                            (int)t.precision);
      break;
    }
    default:
      break;
  }
  return GF_OK;
}

/* Checks that `t` is a type this library can hold. */
gf_status gf_type_validate(gf_datatype t, gf_error *err) {
  if (t.id == GF_TYPE_DICTIONARY) {
    if (t.value_id == GF_TYPE_DICTIONARY || t.value_id == GF_TYPE_NULL ||
        (int)t.value_id < 0 || t.value_id >= GF_TYPE_COUNT_)
      return gf_error_set(err, GF_EINVAL,
                          "dictionary value type %s is not allowed",
                          gf_type_id_name(t.value_id));
    return validate_value_type(gf_type_value(t), err);
  }
  return validate_value_type(t, err);
}

/* Formats a non-dictionary type; returns the snprintf length. */
static int format_value_type(gf_datatype t, char *buf, size_t n) {
  const char *name = gf_type_id_name(t.id);
  switch (t.id) {
    case GF_TYPE_TIME32:
    case GF_TYPE_TIME64:
    case GF_TYPE_DURATION:
      return snprintf(buf, n, "%s[%s]", name, unit_name(t.unit));
    case GF_TYPE_TIMESTAMP: {
      if (!t.has_timezone)
        return snprintf(buf, n, "%s[%s]", name, unit_name(t.unit));
      char zone[GFI_TZ_NAME_MAX + 1];
      gfi_tz_format(t, zone, sizeof zone);
      return snprintf(buf, n, "%s[%s, %s]", name, unit_name(t.unit), zone);
    }
    case GF_TYPE_FIXED_SIZE_BINARY:
      return snprintf(buf, n, "%s[%d]", name, (int)t.byte_width);
    case GF_TYPE_DECIMAL128:
    case GF_TYPE_DECIMAL256:
      return snprintf(buf, n, "%s(%d, %d)", name, (int)t.precision,
                      (int)t.scale);
    default:
      return snprintf(buf, n, "%s", name);
  }
}

/* Full name, e.g. "timestamp[us, +05:30]", "timestamp[us, US/Eastern]" or "dictionary<utf8>"; truncated
 * to buf_size - 1 characters. */
char *gf_type_format(gf_datatype t, char *buf, size_t buf_size) {
  if (!buf || buf_size == 0) return buf;
  buf[0] = '\0';
  if (t.id == GF_TYPE_DICTIONARY) {
    char inner[GFI_TZ_NAME_MAX + 64];
    format_value_type(gf_type_value(t), inner, sizeof inner);
    snprintf(buf, buf_size, "dictionary<%s>", inner);
  } else {
    format_value_type(t, buf, buf_size);
  }
  return buf;
}

/* Bits per value in the main data buffer. */
int gf_type_bit_width(gf_datatype t) {
  if (t.id == GF_TYPE_BOOL) return 1;
  return gfi_type_byte_width(t) * 8;
}

int gfi_type_num_buffers(gf_datatype t) {
  if (t.id == GF_TYPE_NULL) return 1;
  if (gfi_type_is_var_width(t.id)) return 3;
  return 2;
}

bool gfi_type_is_var_width(gf_type_id id) {
  return id == GF_TYPE_UTF8 || id == GF_TYPE_LARGE_UTF8 ||
         id == GF_TYPE_BINARY || id == GF_TYPE_LARGE_BINARY;
}

bool gfi_type_is_large(gf_type_id id) {
  return id == GF_TYPE_LARGE_UTF8 || id == GF_TYPE_LARGE_BINARY;
}

/* Bytes per value in buffer 1: dictionary arrays report their int32 codes
 * (4); bool, null and variable-width types report 0. */
int gfi_type_byte_width(gf_datatype t) {
  switch (t.id) {
    case GF_TYPE_INT8:
    case GF_TYPE_UINT8:
      return 1;
    case GF_TYPE_INT16:
    case GF_TYPE_UINT16:
      return 2;
    case GF_TYPE_INT32:
    case GF_TYPE_UINT32:
    case GF_TYPE_FLOAT32:
    case GF_TYPE_DATE32:
    case GF_TYPE_TIME32:
    case GF_TYPE_DICTIONARY:
      return 4;
    case GF_TYPE_INT64:
    case GF_TYPE_UINT64:
    case GF_TYPE_FLOAT64:
    case GF_TYPE_DATE64:
    case GF_TYPE_TIME64:
    case GF_TYPE_TIMESTAMP:
    case GF_TYPE_DURATION:
      return 8;
    case GF_TYPE_FIXED_SIZE_BINARY:
      return t.byte_width > 0 ? t.byte_width : 0;
    case GF_TYPE_DECIMAL128:
      return 16;
    case GF_TYPE_DECIMAL256:
      return 32;
    default:
      return 0;
  }
}
