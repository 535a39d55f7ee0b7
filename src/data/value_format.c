/* Formatting one array value as text, independently of the C locale:
 * integers by hand, floats through gfi_format_double/float, dates and times
 * by proleptic Gregorian arithmetic (no gmtime, whose range and time zone
 * handling depend on the platform). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/calendar.h"
#include "data/timezone.h"
#include "data/builder_internal.h"
#include "data/decimal.h"
#include "data/value_format.h"

/* snprintf-like sink: counts every byte, stores what fits. */
typedef struct sink {
  char *buf;
  size_t cap;
  size_t len;
} sink;

static void put(sink *s, const char *p, size_t n) {
  if (s->cap > 0 && s->len + 1 < s->cap) {
    size_t room = s->cap - 1 - s->len;
    memcpy(s->buf + s->len, p, n < room ? n : room);
  }
  s->len += n;
}

static void puts_(sink *s, const char *p) { put(s, p, strlen(p)); }

/* Writes an unsigned decimal with at least `min_digits` digits. */
static void put_u64(sink *s, uint64_t v, int min_digits) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n < min_digits && n < (int)sizeof tmp) tmp[n++] = '0';
  char out[24];
  for (int k = 0; k < n; k++) out[k] = tmp[n - 1 - k];
  put(s, out, (size_t)n);
}

/* Magnitude of v as unsigned, valid for INT64_MIN too. */
static uint64_t mag(int64_t v) { return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v; }

static void put_i64(sink *s, int64_t v, int min_digits) {
  if (v < 0) put(s, "-", 1);
  put_u64(s, mag(v), min_digits);
}

static void put_date(sink *s, int64_t days) {
  int64_t y;
  unsigned m, d;
  gfi_civil_from_days(days, &y, &m, &d);
  put_i64(s, y, 4);
  put(s, "-", 1);
  put_u64(s, (uint64_t)m, 2);
  put(s, "-", 1);
  put_u64(s, (uint64_t)d, 2);
}

static int fraction_digits(gf_time_unit u) {
  switch (u) {
    case GF_UNIT_SECOND: return 0;
    case GF_UNIT_MILLI: return 3;
    case GF_UNIT_MICRO: return 6;
    default: return 9;
  }
}

/* HH:MM:SS of a second-of-day count, then ".fff" with the unit's digits. */
static void put_clock(sink *s, int64_t secs, int64_t frac, gf_time_unit unit) {
  put_i64(s, secs / 3600, 2);
  put(s, ":", 1);
  put_u64(s, (uint64_t)(secs / 60 % 60), 2);
  put(s, ":", 1);
  put_u64(s, (uint64_t)(secs % 60), 2);
  int digits = fraction_digits(unit);
  if (digits) {
    put(s, ".", 1);
    put_u64(s, (uint64_t)frac, digits);
  }
}

static void put_time_of_day(sink *s, int64_t v, gf_time_unit unit) {
  int64_t secs, frac;
  gfi_floor_divmod(v, gfi_unit_per_second(unit), &secs, &frac);
  if (secs < 0) { /* not a valid time of day; show the raw count rather than garbage */
    put_i64(s, v, 1);
    return;
  }
  put_clock(s, secs, frac, unit);
}

/* +HH:MM, or +HH:MM:SS when the offset has seconds (local mean time). */
static void put_offset(sink *s, int32_t seconds) {
  put(s, seconds < 0 ? "-" : "+", 1);
  uint64_t m = mag(seconds);
  put_u64(s, m / 3600, 2);
  put(s, ":", 1);
  put_u64(s, m / 60 % 60, 2);
  if (m % 60) {
    put(s, ":", 1);
    put_u64(s, m % 60, 2);
  }
}

/* The instant is stored in UTC; with a zone it is shown as the local time
 * there plus the offset in force, as ISO 8601 reads it. UTC itself is "Z"
 * (ISO) or " UTC" (display); a named zone always shows its offset, even
 * +00:00, since its offset changes. */
static void put_timestamp(sink *s, int64_t v, gf_datatype t, gfi_value_style style) {
  int64_t frac, days, sod;
  gfi_time_split(v, t.unit, &days, &sod, &frac);
  int32_t off = 0;
  if (t.has_timezone) {
    int64_t secs, rem, shift; /* the offset may move the local time to a neighbouring day */
    gfi_floor_divmod(v, gfi_unit_per_second(t.unit), &secs, &rem);
    off = gfi_type_utc_offset(t, secs);
    gfi_floor_divmod(sod + off, GFI_SECONDS_PER_DAY, &shift, &sod);
    days += shift;
  }
  put_date(s, days);
  put(s, style == GFI_STYLE_DISPLAY ? " " : "T", 1);
  put_clock(s, sod, frac, t.unit);
  if (!t.has_timezone) return;
  bool utc = t.tz_id == 0 && off == 0;
  if (style == GFI_STYLE_DISPLAY) {
    put(s, " ", 1);
    if (utc)
      puts_(s, "UTC");
    else
      put_offset(s, off);
  } else if (utc) {
    put(s, "Z", 1);
  } else {
    put_offset(s, off);
  }
}

static const char *unit_suffix(gf_time_unit u, bool display) {
  switch (u) {
    case GF_UNIT_SECOND: return "s";
    case GF_UNIT_MILLI: return "ms";
    case GF_UNIT_MICRO: return display ? "\xC2\xB5s" : "us";
    default: return "ns";
  }
}

/* ISO style: the count and its unit ("1500ms"), exact and easy to parse.
 * Display style: Polars' "1d 2h 3m 4s 500ms" with zero parts left out. */
static void put_duration(sink *s, int64_t v, gf_time_unit unit, gfi_value_style style) {
  if (style != GFI_STYLE_DISPLAY) {
    put_i64(s, v, 1);
    puts_(s, unit_suffix(unit, false));
    return;
  }
  uint64_t m = mag(v);
  uint64_t per = (uint64_t)gfi_unit_per_second(unit);
  uint64_t secs = m / per, frac = m % per;
  uint64_t parts[7] = {secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60, 0, 0, 0};
  static const char *const names[7] = {"d", "h", "m", "s", "ms", "\xC2\xB5s", "ns"};
  switch (unit) {
    case GF_UNIT_MILLI: parts[4] = frac; break;
    case GF_UNIT_MICRO:
      parts[4] = frac / 1000;
      parts[5] = frac % 1000;
      break;
    case GF_UNIT_NANO:
      parts[4] = frac / 1000000;
      parts[5] = frac / 1000 % 1000;
      parts[6] = frac % 1000;
      break;
    default: break;
  }
  if (v < 0) put(s, "-", 1);
  bool any = false;
  for (int k = 0; k < 7; k++) {
    if (!parts[k]) continue;
    if (any) put(s, " ", 1);
    put_u64(s, parts[k], 1);
    puts_(s, names[k]);
    any = true;
  }
  if (!any) {
    put(s, "0", 1);
    puts_(s, unit_suffix(unit, true));
  }
}

static void put_hex(sink *s, const char *p, int64_t len) {
  static const char digits[] = "0123456789abcdef";
  for (int64_t k = 0; k < len; k++) {
    unsigned char c = (unsigned char)p[k];
    char two[2] = {digits[c >> 4], digits[c & 15]};
    put(s, two, 2);
  }
}

static void put_value(sink *s, const gf_array *a, int64_t i, gfi_value_style style) {
  gf_datatype t = a->type;
  if (t.id == GF_TYPE_NULL || gf_array_is_null(a, i)) {
    puts_(s, "null");
    return;
  }
  char num[64];
  int64_t len = 0;
  const char *bytes;
  switch (t.id) {
    case GF_TYPE_BOOL: puts_(s, gf_array_get_bool(a, i) ? "true" : "false"); break;
    case GF_TYPE_INT8:
    case GF_TYPE_INT16:
    case GF_TYPE_INT32:
    case GF_TYPE_INT64: put_i64(s, gf_array_get_int64(a, i), 1); break;
    case GF_TYPE_UINT8:
    case GF_TYPE_UINT16:
    case GF_TYPE_UINT32:
    case GF_TYPE_UINT64: put_u64(s, gf_array_get_uint64(a, i), 1); break;
    case GF_TYPE_FLOAT32:
      gfi_format_float(num, sizeof num, (float)gf_array_get_double(a, i));
      puts_(s, num);
      break;
    case GF_TYPE_FLOAT64:
      gfi_format_double(num, sizeof num, gf_array_get_double(a, i));
      puts_(s, num);
      break;
    case GF_TYPE_UTF8:
    case GF_TYPE_LARGE_UTF8:
      bytes = gf_array_get_bytes(a, i, &len);
      if (bytes && len > 0) put(s, bytes, (size_t)len);
      break;
    case GF_TYPE_BINARY:
    case GF_TYPE_LARGE_BINARY:
    case GF_TYPE_FIXED_SIZE_BINARY:
      bytes = gf_array_get_bytes(a, i, &len);
      if (bytes) put_hex(s, bytes, len);
      break;
    case GF_TYPE_DECIMAL128:
    case GF_TYPE_DECIMAL256: {
      char dec[GFI_DEC256_TEXT_MAX];
      bytes = (const char *)gfi_value_bytes(a, i, &len);
      if (!bytes) break;
      if (t.id == GF_TYPE_DECIMAL128)
        gfi_dec128_format(gfi_dec_load(bytes), t.scale, dec);
      else
        gfi_dec256_format((const uint8_t *)bytes, t.scale, dec);
      puts_(s, dec);
      break;
    }
    case GF_TYPE_DATE32: put_date(s, gf_array_get_int64(a, i)); break;
    case GF_TYPE_DATE64: {
      int64_t days, sod, ms;
      gfi_time_split(gf_array_get_int64(a, i), GF_UNIT_MILLI, &days, &sod, &ms);
      put_date(s, days);
      break;
    }
    case GF_TYPE_TIME32:
    case GF_TYPE_TIME64: put_time_of_day(s, gf_array_get_int64(a, i), t.unit); break;
    case GF_TYPE_TIMESTAMP: put_timestamp(s, gf_array_get_int64(a, i), t, style); break;
    case GF_TYPE_DURATION: put_duration(s, gf_array_get_int64(a, i), t.unit, style); break;
    case GF_TYPE_DICTIONARY: {
      int64_t code = gf_array_get_int64(a, i);
      const gf_array *dict = gf_array_dictionary(a);
      if (!dict || code < 0 || code >= dict->length) {
        puts_(s, "<invalid code ");
        put_i64(s, code, 1);
        puts_(s, ">");
      } else {
        put_value(s, dict, code, style);
      }
      break;
    }
    default: puts_(s, "<unsupported>"); break;
  }
}

/* Internal entry point with a choice of style (see value_format.h). */
int gfi_format_value(const gf_array *a, int64_t i, gfi_value_style style,
                     char *buf, size_t buf_size) {
  sink s = {buf, buf ? buf_size : 0, 0};
  if (a && i >= 0 && i < a->length) put_value(&s, a, i, style);
  if (s.cap) s.buf[s.len < s.cap ? s.len : s.cap - 1] = '\0';
  return s.len > (size_t)INT32_MAX ? INT32_MAX : (int)s.len;
}

/* Formats value i in the ISO style: nulls as "null", floats shortest
 * round-trip, dates YYYY-MM-DD, timestamps ISO 8601 with the unit's fraction
 * and zone, binary as hex, dictionary values through their dictionary. An
 * out-of-range index writes "" and returns 0. */
int gf_array_format_value(const gf_array *a, int64_t i, char *buf, size_t buf_size) {
  return gfi_format_value(a, i, GFI_STYLE_ISO, buf, buf_size);
}
