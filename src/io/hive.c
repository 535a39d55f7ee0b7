/*
 * Hive-style partition directories (`year=2024/month=01/part.csv`) for
 * multi-file scans: parsing the key=value segments of a path, decoding
 * their %XX escapes, and inferring one type per key across every file.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "io/multi_internal.h"

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char *gfi_url_decode(const char *s, size_t n) {
  char *out = gfi_malloc(NULL, n + 1);
  if (!out) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int hi, lo;
    /* %00 stays as written: a NUL would cut the string. */
    if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0 &&
        hi * 16 + lo != 0) {
      out[k++] = (char)(hi * 16 + lo);
      i += 2;
    } else {
      out[k++] = s[i];
    }
  }
  out[k] = '\0';
  /* The decoded string may be shorter: keep the block's size findable by
   * strlen + 1 for the free, so shrink it by copying. */
  if (k == n) return out;
  char *fit = gfi_malloc(NULL, k + 1);
  if (!fit) {
    gfi_mfree(NULL, out, n + 1);
    return NULL;
  }
  memcpy(fit, out, k + 1);
  gfi_mfree(NULL, out, n + 1);
  return fit;
}

static void str_free(char *s) {
  if (s) gfi_mfree(NULL, s, strlen(s) + 1);
}

void gfi_hive_kv_free(gfi_hive_kv *kv, int n) {
  if (!kv) return;
  for (int i = 0; i < n; i++) {
    str_free(kv[i].key);
    str_free(kv[i].value);
  }
  gfi_mfree(NULL, kv, sizeof *kv * (size_t)(n > 0 ? n : 1));
}

gf_status gfi_hive_parse(const char *path, gfi_hive_kv **kv, int *n, gf_error *err) {
  *kv = NULL;
  *n = 0;
  const char *end = strrchr(path, '/');
  if (!end) return GF_OK; /* no directory */
  int count = 0;
  for (const char *s = path; s < end;) {
    const char *e = memchr(s, '/', (size_t)(end - s) + 1);
    const char *eq = memchr(s, '=', (size_t)(e - s));
    if (eq && eq > s) count++;
    s = e + 1;
  }
  if (count == 0) return GF_OK;
  gfi_hive_kv *v = gfi_calloc(NULL, sizeof *v * (size_t)count);
  if (!v) return GF_OOM(err, "partition values");
  int k = 0;
  gf_status st = GF_OK;
  for (const char *s = path; s < end && st == GF_OK;) {
    const char *e = memchr(s, '/', (size_t)(end - s) + 1);
    const char *eq = memchr(s, '=', (size_t)(e - s));
    if (eq && eq > s) {
      v[k].key = gfi_url_decode(s, (size_t)(eq - s));
      char *val = gfi_url_decode(eq + 1, (size_t)(e - eq - 1));
      if (!v[k].key || !val) {
        str_free(val);
        st = GF_OOM(err, "partition values");
      } else if (!val[0] || strcmp(val, "__HIVE_DEFAULT_PARTITION__") == 0) {
        str_free(val); /* null */
      } else {
        v[k].value = val;
      }
      k++;
    }
    s = e + 1;
  }
  if (st != GF_OK) {
    gfi_hive_kv_free(v, count);
    return st;
  }
  *kv = v;
  *n = count;
  return GF_OK;
}

/* A decimal integer in int64 range: optional sign, digits only. */
static bool parse_int(const char *s, int64_t *v) {
  const char *p = s;
  if (*p == '+' || *p == '-') p++;
  if (!*p) return false;
  for (const char *q = p; *q; q++)
    if (*q < '0' || *q > '9') return false;
  errno = 0;
  char *end = NULL;
  long long x = strtoll(s, &end, 10);
  if (errno || *end) return false;
  *v = (int64_t)x;
  return true;
}

/* A decimal number: sign, digits with one optional '.', optional
 * exponent; no inf/nan/hex (a partition named "nan" stays text). */
static bool parse_float(const char *s, double *v) {
  const char *p = s;
  if (*p == '+' || *p == '-') p++;
  bool digits = false;
  while (*p >= '0' && *p <= '9') p++, digits = true;
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9') p++, digits = true;
  }
  if (!digits) return false;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (*p < '0' || *p > '9') return false;
    while (*p >= '0' && *p <= '9') p++;
  }
  if (*p) return false;
  char *end = NULL;
  double d = gfi_strtod(s, &end);
  if (!end || *end || !isfinite(d)) return false;
  *v = d;
  return true;
}

/* YYYY-MM-DD, a valid calendar date (days since 1970-01-01). */
static bool parse_date(const char *s, int32_t *days) {
  if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
  unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
  if (m < 1 || m > 12 || d < 1 || (int)d > gfi_days_in_month(y, m)) return false;
  *days = (int32_t)gfi_days_from_civil(y, m, d);
  return true;
}

gf_datatype gfi_hive_infer(const char *const *values, int n) {
  bool all_int = true, all_num = true, all_date = true, any = false;
  for (int i = 0; i < n; i++) {
    if (!values[i]) continue;
    any = true;
    int64_t iv;
    double dv;
    int32_t days;
    if (all_int && !parse_int(values[i], &iv)) all_int = false;
    if (all_num && !parse_float(values[i], &dv)) all_num = false;
    if (all_date && !parse_date(values[i], &days)) all_date = false;
  }
  if (!any) return gf_type(GF_TYPE_UTF8);
  if (all_int) return gf_type(GF_TYPE_INT64);
  if (all_num) return gf_type(GF_TYPE_FLOAT64);
  if (all_date) return gf_type(GF_TYPE_DATE32);
  return gf_type(GF_TYPE_UTF8);
}

gf_expr *gfi_hive_literal(const char *value, gf_datatype type) {
  if (!value) {
    gf_expr *nul = gf_lit_null();
    return nul ? gf_cast(nul, type) : NULL;
  }
  int64_t iv;
  double dv;
  int32_t days;
  switch (type.id) {
  case GF_TYPE_INT64:
    return parse_int(value, &iv) ? gf_lit_int64(iv) : NULL;
  case GF_TYPE_FLOAT64:
    return parse_float(value, &dv) ? gf_lit_double(dv) : NULL;
  case GF_TYPE_DATE32:
    return parse_date(value, &days) ? gf_lit_date(days) : NULL;
  default:
    return gf_lit_string(value);
  }
}
