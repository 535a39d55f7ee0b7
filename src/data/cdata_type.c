/*
 * Arrow C Data Interface: data types and schemas <-> ArrowSchema (format
 * strings, field names, nullability, dictionaries).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "data/cdata_internal.h"

/* Private data of every ArrowSchema we export; the name is stored after the
 * struct in the same block. */
typedef struct cdata_schema_priv {
  const gf_allocator *alloc;
  size_t block_size;
  int64_t n_children;   /* child structs allocated */
  int64_t children_cap; /* entries of `children` */
  struct ArrowSchema **children;
  struct ArrowSchema *dictionary;
  char format[GFI_CDATA_FORMAT_MAX];
  char name[]; /* flexible: NUL-terminated, empty when NULL was given */
} cdata_schema_priv;

/* Release callback (Arrow spec): releases children and dictionary that are
 * not released yet, frees our memory, marks the struct released. */
static void cdata_schema_release(struct ArrowSchema *s) {
  if (s == NULL || s->release == NULL) return;
  cdata_schema_priv *p = s->private_data;
  const gf_allocator *a = p->alloc;
  for (int64_t i = 0; i < p->n_children; i++) {
    struct ArrowSchema *c = p->children[i];
    if (c->release != NULL) c->release(c);
    gfi_mfree(a, c, sizeof *c);
  }
  if (p->children != NULL)
    gfi_mfree(a, p->children, sizeof *p->children * (size_t)p->children_cap);
  if (p->dictionary != NULL) {
    if (p->dictionary->release != NULL) p->dictionary->release(p->dictionary);
    gfi_mfree(a, p->dictionary, sizeof *p->dictionary);
  }
  gfi_mfree(a, p, p->block_size);
  s->release = NULL;
  s->private_data = NULL;
}

gf_status gfi_cdata_schema_init(const gf_allocator *a, const char *format,
                                const char *name, int64_t flags,
                                int64_t n_children, bool with_dictionary,
                                struct ArrowSchema *out, gf_error *err) {
  a = gfi_alloc_or_default(a);
  size_t flen = strlen(format);
  if (flen >= GFI_CDATA_FORMAT_MAX)
    return gf_error_set(err, GF_EINTERNAL, "Arrow format '%s' too long", format);
  size_t nlen = name ? strlen(name) : 0;
  size_t block = sizeof(cdata_schema_priv) + nlen + 1;
  cdata_schema_priv *p = gfi_calloc(a, block);
  if (p == NULL) return GF_OOM(err, "an exported ArrowSchema");
  p->alloc = a;
  p->block_size = block;
  memcpy(p->format, format, flen + 1);
  if (nlen) memcpy(p->name, name, nlen);
  p->name[nlen] = '\0';

  struct ArrowSchema tmp = {0};
  tmp.format = p->format;
  tmp.name = name ? p->name : NULL;
  tmp.metadata = NULL;
  tmp.flags = flags;
  tmp.release = cdata_schema_release;
  tmp.private_data = p;

  if (n_children > 0) {
    p->children = gfi_calloc(a, sizeof *p->children * (size_t)n_children);
    if (p->children == NULL) {
      cdata_schema_release(&tmp);
      return GF_OOM(err, "exported ArrowSchema children");
    }
    p->children_cap = n_children;
    for (int64_t i = 0; i < n_children; i++) {
      p->children[i] = gfi_calloc(a, sizeof(struct ArrowSchema));
      if (p->children[i] == NULL) {
        cdata_schema_release(&tmp);
        return GF_OOM(err, "an exported ArrowSchema child");
      }
      p->n_children = i + 1; /* so release frees exactly what exists */
    }
  }
  if (with_dictionary) {
    p->dictionary = gfi_calloc(a, sizeof *p->dictionary);
    if (p->dictionary == NULL) {
      cdata_schema_release(&tmp);
      return GF_OOM(err, "an exported ArrowSchema dictionary");
    }
  }
  tmp.n_children = n_children;
  tmp.children = p->children;
  tmp.dictionary = p->dictionary;
  *out = tmp;
  return GF_OK;
}

/* The format letter of a time unit. */
static char cdata_unit_char(gf_time_unit u) {
  switch (u) {
    case GF_UNIT_SECOND: return 's';
    case GF_UNIT_MILLI: return 'm';
    case GF_UNIT_MICRO: return 'u';
    case GF_UNIT_NANO: return 'n';
  }
  return '?';
}

gf_status gfi_cdata_value_format(gf_datatype t, char *buf, size_t size,
                                 gf_error *err) {
  const char *simple = NULL;
  switch (t.id) {
    case GF_TYPE_NULL: simple = "n"; break;
    case GF_TYPE_BOOL: simple = "b"; break;
    case GF_TYPE_INT8: simple = "c"; break;
    case GF_TYPE_INT16: simple = "s"; break;
    case GF_TYPE_INT32: simple = "i"; break;
    case GF_TYPE_INT64: simple = "l"; break;
    case GF_TYPE_UINT8: simple = "C"; break;
    case GF_TYPE_UINT16: simple = "S"; break;
    case GF_TYPE_UINT32: simple = "I"; break;
    case GF_TYPE_UINT64: simple = "L"; break;
    case GF_TYPE_FLOAT32: simple = "f"; break;
    case GF_TYPE_FLOAT64: simple = "g"; break;
    case GF_TYPE_UTF8: simple = "u"; break;
    case GF_TYPE_LARGE_UTF8: simple = "U"; break;
    case GF_TYPE_BINARY: simple = "z"; break;
    case GF_TYPE_LARGE_BINARY: simple = "Z"; break;
    case GF_TYPE_DATE32: simple = "tdD"; break;
    case GF_TYPE_DATE64: simple = "tdm"; break;
    case GF_TYPE_FIXED_SIZE_BINARY:
      if (t.byte_width <= 0)
        return gf_error_set(err, GF_EINVAL,
                            "fixed_size_binary byte width %d is not positive",
                            (int)t.byte_width);
      snprintf(buf, size, "w:%d", (int)t.byte_width);
      return GF_OK;
    case GF_TYPE_TIME32:
      if (t.unit != GF_UNIT_SECOND && t.unit != GF_UNIT_MILLI)
        return gf_error_set(err, GF_EINVAL, "time32 needs unit s or ms");
      snprintf(buf, size, "tt%c", cdata_unit_char(t.unit));
      return GF_OK;
    case GF_TYPE_TIME64:
      if (t.unit != GF_UNIT_MICRO && t.unit != GF_UNIT_NANO)
        return gf_error_set(err, GF_EINVAL, "time64 needs unit us or ns");
      snprintf(buf, size, "tt%c", cdata_unit_char(t.unit));
      return GF_OK;
    case GF_TYPE_DURATION:
    case GF_TYPE_TIMESTAMP: {
      if ((unsigned)t.unit > (unsigned)GF_UNIT_NANO)
        return gf_error_set(err, GF_EINVAL, "invalid time unit %d", (int)t.unit);
      if (t.id == GF_TYPE_DURATION) {
        snprintf(buf, size, "tD%c", cdata_unit_char(t.unit));
        return GF_OK;
      }
      char u = cdata_unit_char(t.unit);
      int m = t.tz_offset_minutes;
      if (t.has_timezone && t.tz_id == 0 && (m <= -24 * 60 || m >= 24 * 60))
        return gf_error_set(err, GF_EINVAL,
                            "time zone offset %d minutes out of range", m);
      if (t.tz_id != 0 && gf_type_timezone_name(t) == NULL)
        return gf_error_set(err, GF_EINVAL, "unknown time zone id %d", (int)t.tz_id);
      char zone[GFI_TZ_NAME_MAX + 1];
      gfi_tz_format(t, zone, sizeof zone);
      snprintf(buf, size, "ts%c:%s", u, zone);
      return GF_OK;
    }
    case GF_TYPE_DECIMAL128:
    case GF_TYPE_DECIMAL256: {
      GF_RETURN_NOT_OK(gf_type_validate(t, err));
      if (t.id == GF_TYPE_DECIMAL128)
        snprintf(buf, size, "d:%d,%d", (int)t.precision, (int)t.scale);
      else
        snprintf(buf, size, "d:%d,%d,256", (int)t.precision, (int)t.scale);
      return GF_OK;
    }
    case GF_TYPE_DICTIONARY:
    case GF_TYPE_COUNT_:
      break;
  }
  if (simple == NULL)
    return gf_error_set(err, GF_EINVAL, "type id %d has no Arrow format here",
                        (int)t.id);
  snprintf(buf, size, "%s", simple);
  return GF_OK;
}

/* Maps a unit letter; false when it is not one of s, m, u, n. */
static bool cdata_unit_from_char(char c, gf_time_unit *u) {
  switch (c) {
    case 's': *u = GF_UNIT_SECOND; return true;
    case 'm': *u = GF_UNIT_MILLI; return true;
    case 'u': *u = GF_UNIT_MICRO; return true;
    case 'n': *u = GF_UNIT_NANO; return true;
    default: return false;
  }
}

/* Reads a decimal number of at most 6 digits at *p, advancing it; -1 when
 * there is none. */
static int32_t cdata_small_int(const char **p) {
  const char *q = *p;
  int32_t v = 0;
  int n = 0;
  if (*q == '-') return -2; /* negative scales are refused by the caller */
  while (*q >= '0' && *q <= '9' && n < 7) v = v * 10 + (*q++ - '0'), n++;
  if (n == 0 || n == 7) return -1;
  *p = q;
  return v;
}

/* "d:precision,scale[,bitwidth]" (bit width 128 or 256; 32 and 64 are
 * refused as unsupported). */
static gf_status cdata_parse_decimal(const char *f, gf_datatype *out,
                                     gf_error *err) {
  const char *p = f + 2;
  int32_t prec = cdata_small_int(&p);
  if (prec < 0 || *p != ',') goto malformed;
  p++;
  if (*p == '-')
    return gf_error_set(err, GF_ENOTSUP,
                        "Arrow format '%s': decimals with a negative scale "
                        "are not supported",
                        f);
  int32_t scale = cdata_small_int(&p);
  if (scale < 0) goto malformed;
  int32_t bits = 128;
  if (*p == ',') {
    p++;
    bits = cdata_small_int(&p);
    if (bits < 0) goto malformed;
  }
  if (*p != '\0') goto malformed;
  if (bits != 128 && bits != 256)
    return gf_error_set(err, GF_ENOTSUP,
                        "Arrow format '%s': decimal bit width %d is not "
                        "supported (128 or 256)",
                        f, (int)bits);
  gf_datatype t = bits == 128 ? gf_type_decimal128(prec, scale)
                              : gf_type_decimal256(prec, scale);
  gf_error sub;
  gf_error_clear(&sub);
  gf_status st = gf_type_validate(t, &sub);
  if (st != GF_OK)
    return gf_error_set(err, st, "Arrow format '%s': %s", f, sub.message);
  *out = t;
  return GF_OK;
malformed:
  return gf_error_set(err, GF_EINVAL, "malformed Arrow format string '%s'", f);
}

gf_status gfi_cdata_parse_format(const char *f, gf_datatype *out,
                                 gf_error *err) {
  if (f == NULL)
    return gf_error_set(err, GF_EINVAL, "ArrowSchema has a NULL format string");
  if (f[0] != '\0' && f[1] == '\0') {
    gf_type_id id;
    switch (f[0]) {
      case 'n': id = GF_TYPE_NULL; break;
      case 'b': id = GF_TYPE_BOOL; break;
      case 'c': id = GF_TYPE_INT8; break;
      case 's': id = GF_TYPE_INT16; break;
      case 'i': id = GF_TYPE_INT32; break;
      case 'l': id = GF_TYPE_INT64; break;
      case 'C': id = GF_TYPE_UINT8; break;
      case 'S': id = GF_TYPE_UINT16; break;
      case 'I': id = GF_TYPE_UINT32; break;
      case 'L': id = GF_TYPE_UINT64; break;
      case 'f': id = GF_TYPE_FLOAT32; break;
      case 'g': id = GF_TYPE_FLOAT64; break;
      case 'u': id = GF_TYPE_UTF8; break;
      case 'U': id = GF_TYPE_LARGE_UTF8; break;
      case 'z': id = GF_TYPE_BINARY; break;
      case 'Z': id = GF_TYPE_LARGE_BINARY; break;
      default: goto unsupported;
    }
    *out = gf_type(id);
    return GF_OK;
  }
  if (gfi_cdata_format_is_view(f)) {
    /* Utf8View/BinaryView hold no type of their own: their values are
     * converted on import (view_internal.h). */
    *out = gf_type(f[1] == 'u' ? GF_TYPE_UTF8 : GF_TYPE_BINARY);
    return GF_OK;
  }
  if (f[0] == 'w' && f[1] == ':') {
    const char *p = f + 2;
    int64_t w = 0;
    if (*p == '\0') goto malformed;
    for (; *p; p++) {
      if (*p < '0' || *p > '9') goto malformed;
      w = w * 10 + (*p - '0');
      if (w > INT32_MAX) goto malformed;
    }
    if (w <= 0) goto malformed;
    *out = gf_type_fixed_size_binary((int32_t)w);
    return GF_OK;
  }
  if (f[0] == 'd' && f[1] == ':') return cdata_parse_decimal(f, out, err);
  if (f[0] == 't' && f[1] != '\0') {
    gf_time_unit u;
    switch (f[1]) {
      case 'd':
        if (strcmp(f, "tdD") == 0) { *out = gf_type(GF_TYPE_DATE32); return GF_OK; }
        if (strcmp(f, "tdm") == 0) { *out = gf_type(GF_TYPE_DATE64); return GF_OK; }
        goto malformed;
      case 't':
        if (f[2] == '\0' || f[3] != '\0' || !cdata_unit_from_char(f[2], &u))
          goto malformed;
        *out = gf_type_time(u <= GF_UNIT_MILLI ? GF_TYPE_TIME32 : GF_TYPE_TIME64, u);
        return GF_OK;
      case 'D':
        if (f[2] == '\0' || f[3] != '\0' || !cdata_unit_from_char(f[2], &u))
          goto malformed;
        *out = gf_type_duration(u);
        return GF_OK;
      case 's': {
        if (f[2] == '\0' || f[3] != ':' || !cdata_unit_from_char(f[2], &u))
          goto malformed;
        const char *tz = f + 4;
        if (*tz == '\0') {
          *out = gf_type_timestamp(u, false, 0);
          return GF_OK;
        }
        return gfi_timestamp_with_zone(u, tz, strlen(tz), out, err);
      }
      default:
        goto unsupported; /* intervals ("ti..") and future temporal types */
    }
  }
unsupported:
  return gf_error_set(err, GF_ENOTSUP, "Arrow format '%s' is not supported", f);
malformed:
  return gf_error_set(err, GF_EINVAL, "malformed Arrow format string '%s'", f);
}

bool gfi_cdata_format_is_view(const char *f) {
  return f != NULL && f[0] == 'v' && (f[1] == 'u' || f[1] == 'z') && f[2] == '\0';
}

/* The Arrow name of a nested format ("+l" list, "+s" struct, ...). */
static const char *cdata_nested_name(const char *f) {
  static const struct { const char *prefix; const char *name; } names[] = {
      {"+l", "list"},          {"+L", "large_list"},
      {"+vl", "list_view"},    {"+vL", "large_list_view"},
      {"+w:", "fixed_size_list"}, {"+s", "struct"},
      {"+m", "map"},           {"+ud:", "dense union"},
      {"+us:", "sparse union"}, {"+r", "run_end_encoded"}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    size_t n = strlen(names[i].prefix);
    if (strncmp(f, names[i].prefix, n) == 0 &&
        (names[i].prefix[n - 1] == ':' || f[n] == '\0'))
      return names[i].name;
  }
  return "unknown nested type";
}

/* GF_ENOTSUP for a nested format, naming the type (the caller names the
 * field). */
static gf_status cdata_refuse_nested(const char *f, const char *extra,
                                     gf_error *err) {
  return gf_error_set(err, GF_ENOTSUP,
                      "Arrow format '%s' (%s, a nested type) is not "
                      "supported%s",
                      f, cdata_nested_name(f), extra);
}

/* The export format of a non-dictionary type: the view formats for
 * strings and binaries when GF_EXPORT_STRING_VIEWS is set. */
static gf_status cdata_export_format(gf_datatype t, unsigned xflags, char *fmt,
                                     size_t size, gf_error *err) {
  if ((xflags & GF_EXPORT_STRING_VIEWS) && gfi_type_is_var_width(t.id)) {
    bool str = t.id == GF_TYPE_UTF8 || t.id == GF_TYPE_LARGE_UTF8;
    snprintf(fmt, size, "%s", str ? "vu" : "vz");
    return GF_OK;
  }
  return gfi_cdata_value_format(t, fmt, size, err);
}

gf_status gfi_cdata_type_export(const gf_allocator *a, gf_datatype t,
                                const char *name, bool nullable,
                                unsigned xflags, struct ArrowSchema *out,
                                gf_error *err) {
  char fmt[GFI_CDATA_FORMAT_MAX];
  int64_t flags = nullable ? ARROW_FLAG_NULLABLE : 0;
  if (t.id != GF_TYPE_DICTIONARY) {
    GF_RETURN_NOT_OK(cdata_export_format(t, xflags, fmt, sizeof fmt, err));
    return gfi_cdata_schema_init(a, fmt, name, flags, 0, false, out, err);
  }
  gf_datatype v = gf_type_value(t);
  if (v.id == GF_TYPE_DICTIONARY)
    return gf_error_set(err, GF_EINVAL, "dictionary of dictionary");
  GF_RETURN_NOT_OK(cdata_export_format(v, xflags, fmt, sizeof fmt, err));
  struct ArrowSchema tmp;
  GF_RETURN_NOT_OK(gfi_cdata_schema_init(a, "i", name, flags, 0, true, &tmp, err));
  gf_status st = gfi_cdata_schema_init(a, fmt, NULL, ARROW_FLAG_NULLABLE, 0,
                                       false, tmp.dictionary, err);
  if (st != GF_OK) {
    tmp.release(&tmp);
    return st;
  }
  *out = tmp;
  return GF_OK;
}

/* Exports a data type as an ArrowSchema; see cdata.h. */
GF_API gf_status gf_type_export(gf_datatype t, const char *name, bool nullable,
                                struct ArrowSchema *out, gf_error *err) {
  if (out == NULL) return gf_error_set(err, GF_EINVAL, "out is NULL");
  return gfi_cdata_type_export(NULL, t, name, nullable, 0, out, err);
}

/* Imports a data type from an ArrowSchema (not released); see cdata.h. */
GF_API gf_status gf_type_import(const struct ArrowSchema *schema,
                                gf_datatype *out, gf_error *err) {
  if (schema == NULL || out == NULL)
    return gf_error_set(err, GF_EINVAL, "schema and out must not be NULL");
  if (schema->release == NULL)
    return gf_error_set(err, GF_EINVAL, "ArrowSchema is released");
  if (schema->format == NULL)
    return gf_error_set(err, GF_EINVAL, "ArrowSchema has a NULL format string");
  if (schema->dictionary == NULL) {
    if (schema->format[0] == '+')
      return cdata_refuse_nested(schema->format,
                                 strcmp(schema->format, "+s") == 0
                                     ? " as a column (structs only as a schema)"
                                     : "",
                                 err);
    return gfi_cdata_parse_format(schema->format, out, err);
  }
  if (strcmp(schema->format, "i") != 0)
    return gf_error_set(err, GF_ENOTSUP,
                        "Arrow format '%s': dictionary index type must be "
                        "int32 ('i')",
                        schema->format);
  const struct ArrowSchema *d = schema->dictionary;
  if (d->release == NULL)
    return gf_error_set(err, GF_EINVAL, "ArrowSchema dictionary is released");
  if (d->dictionary != NULL)
    return gf_error_set(err, GF_ENOTSUP,
                        "Arrow dictionary of dictionary is not supported");
  if (d->format != NULL && d->format[0] == '+')
    return cdata_refuse_nested(d->format, " as dictionary values", err);
  gf_datatype v;
  GF_RETURN_NOT_OK(gfi_cdata_parse_format(d->format, &v, err));
  /* gf_type_validate refuses dictionary<null>, so importing one would give
   * an array that fails validation (found by fuzz_cdata_import). */
  if (v.id == GF_TYPE_NULL)
    return gf_error_set(err, GF_ENOTSUP,
                        "Arrow dictionary of null values ('n') is not supported");
  *out = gf_type_dictionary(v);
  return GF_OK;
}

gf_status gfi_cdata_schema_export(const gf_allocator *a, const gf_schema *s,
                                  unsigned xflags, struct ArrowSchema *out,
                                  gf_error *err) {
  int n = gf_schema_num_fields(s);
  struct ArrowSchema tmp;
  GF_RETURN_NOT_OK(gfi_cdata_schema_init(a, "+s", "", 0, n, false, &tmp, err));
  for (int i = 0; i < n; i++) {
    const gf_field *fl = gf_schema_field(s, i);
    gf_status st = gfi_cdata_type_export(a, fl->type, fl->name, fl->nullable,
                                         xflags, tmp.children[i], err);
    if (st != GF_OK) {
      tmp.release(&tmp);
      return st;
    }
  }
  *out = tmp;
  return GF_OK;
}

/* Exports a schema as a "+s" ArrowSchema; see cdata.h. */
GF_API gf_status gf_schema_export(const gf_schema *s, struct ArrowSchema *out,
                                  gf_error *err) {
  if (s == NULL || out == NULL)
    return gf_error_set(err, GF_EINVAL, "schema and out must not be NULL");
  return gfi_cdata_schema_export(NULL, s, 0, out, err);
}

/* Imports a "+s" ArrowSchema as a schema (not released); see cdata.h. */
GF_API gf_status gf_schema_import(const struct ArrowSchema *schema,
                                  gf_schema **out, gf_error *err) {
  if (schema == NULL || out == NULL)
    return gf_error_set(err, GF_EINVAL, "schema and out must not be NULL");
  if (schema->release == NULL)
    return gf_error_set(err, GF_EINVAL, "ArrowSchema is released");
  if (schema->format == NULL || strcmp(schema->format, "+s") != 0)
    return gf_error_set(err, GF_EINVAL,
                        "a schema must have Arrow format '+s', got '%s'",
                        schema->format ? schema->format : "(null)");
  if (schema->n_children < 0 || schema->n_children > INT32_MAX ||
      (schema->n_children > 0 && schema->children == NULL))
    return gf_error_set(err, GF_EINVAL, "ArrowSchema has invalid children (n=%lld)",
                        (long long)schema->n_children);
  int n = (int)schema->n_children;
  gf_field *fields = NULL;
  if (n > 0) {
    fields = gfi_calloc(gf_default_allocator(), sizeof *fields * (size_t)n);
    if (fields == NULL) return GF_OOM(err, "schema fields");
  }
  gf_status st = GF_OK;
  for (int i = 0; i < n && st == GF_OK; i++) {
    const struct ArrowSchema *c = schema->children[i];
    if (c == NULL) {
      st = gf_error_set(err, GF_EINVAL, "ArrowSchema child %d is NULL", i);
      break;
    }
    if (c->name == NULL || c->name[0] == '\0') {
      st = gf_error_set(err, GF_EINVAL, "ArrowSchema field %d has no name", i);
      break;
    }
    gf_error sub;
    gf_error_clear(&sub);
    st = gf_type_import(c, &fields[i].type, &sub);
    if (st != GF_OK) {
      gf_error_set(err, st, "field %d '%s': %s", i, c->name, sub.message);
      break;
    }
    fields[i].name = c->name;
    fields[i].nullable = (c->flags & ARROW_FLAG_NULLABLE) != 0;
  }
  if (st == GF_OK) st = gf_schema_new(fields, n, out, err);
  if (fields) gfi_mfree(gf_default_allocator(), fields, sizeof *fields * (size_t)n);
  return st;
}

int gfi_cdata_status_to_errno(gf_status st) {
  switch (st) {
    case GF_OK: return 0;
    case GF_ENOMEM: return ENOMEM;
    case GF_EINVAL:
    case GF_ETYPE:
    case GF_EPARSE:
    case GF_ERANGE: return EINVAL;
    case GF_ENOTSUP: return ENOTSUP;
    case GF_ECANCELED: return ECANCELED;
    case GF_ETIMEDOUT: return ETIMEDOUT;
    default: return EIO;
  }
}

gf_status gfi_cdata_errno_to_status(int e) {
  switch (e) {
    case 0: return GF_OK;
    case ENOMEM: return GF_ENOMEM;
    case EINVAL: return GF_EINVAL;
    case ENOTSUP:
#if defined(EOPNOTSUPP) && EOPNOTSUPP != ENOTSUP
    case EOPNOTSUPP:
#endif
    case ENOSYS: return GF_ENOTSUP;
    case ECANCELED: return GF_ECANCELED;
    case ETIMEDOUT: return GF_ETIMEDOUT;
    default: return GF_EIO;
  }
}
