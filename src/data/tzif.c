/*
 * The TZif reader (RFC 8536) and the POSIX TZ rules of its footer: pure
 * functions over bytes, no file access (src/data/timezone.c loads files).
 * Offsets are seconds east of UTC throughout.
 */
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "data/timezone.h"

/* Seconds in 400 Gregorian years: calendars and weekdays repeat after it. */
#define GFI_TZ_CYCLE (INT64_C(146097) * 86400)

/* ---- POSIX TZ strings ------------------------------------------------ */

typedef struct rd {
  const char *s;
  size_t n, i;
} rd;

static int peek(const rd *r) { return r->i < r->n ? (unsigned char)r->s[r->i] : -1; }

static bool is_alpha(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }

/* A zone abbreviation: 3+ letters, or <...> with letters, digits, + and -. */
static bool rule_name(rd *r) {
  size_t start = r->i;
  if (peek(r) == '<') {
    r->i++;
    while (is_alpha(peek(r)) || is_digit(peek(r)) || peek(r) == '+' || peek(r) == '-') r->i++;
    if (peek(r) != '>' || r->i - start - 1 < 3) return false;
    r->i++;
    return true;
  }
  while (is_alpha(peek(r))) r->i++;
  return r->i - start >= 3;
}

/* Unsigned decimal of at most `maxd` digits, at most `max`. */
static bool rule_num(rd *r, int maxd, int max, int *v) {
  int x = 0, k = 0;
  while (is_digit(peek(r)) && k < maxd) {
    x = x * 10 + (peek(r) - '0');
    r->i++;
    k++;
  }
  if (k == 0 || x > max) return false;
  *v = x;
  return true;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h; seconds, sign as written. */
static bool rule_hms(rd *r, int max_h, int32_t *secs) {
  int sign = 1, h, m = 0, s = 0;
  if (peek(r) == '+' || peek(r) == '-') {
    if (peek(r) == '-') sign = -1;
    r->i++;
  }
  if (!rule_num(r, 3, max_h, &h)) return false;
  if (peek(r) == ':') {
    r->i++;
    if (!rule_num(r, 2, 59, &m)) return false;
    if (peek(r) == ':') {
      r->i++;
      if (!rule_num(r, 2, 59, &s)) return false;
    }
  }
  *secs = sign * (h * 3600 + m * 60 + s);
  return true;
}

/* ",date[/time]" of a DST rule; the time defaults to 02:00. */
static bool rule_date(rd *r, gfi_tz_date *d) {
  int a, b, c;
  memset(d, 0, sizeof *d);
  if (peek(r) == 'J') {
    r->i++;
    if (!rule_num(r, 3, 365, &a) || a < 1) return false;
    d->kind = 'J';
    d->n = (int16_t)a;
  } else if (peek(r) == 'M') {
    r->i++;
    if (!rule_num(r, 2, 12, &a) || a < 1 || peek(r) != '.') return false;
    r->i++;
    if (!rule_num(r, 1, 5, &b) || b < 1 || peek(r) != '.') return false;
    r->i++;
    if (!rule_num(r, 1, 6, &c)) return false;
    d->kind = 'M';
    d->m = (int16_t)a;
    d->w = (int16_t)b;
    d->d = (int16_t)c;
  } else {
    if (!rule_num(r, 3, 365, &a)) return false;
    d->kind = 'N';
    d->n = (int16_t)a;
  }
  d->time = 2 * 3600;
  if (peek(r) == '/') {
    r->i++;
    if (!rule_hms(r, 167, &d->time)) return false; /* v3: -167..167 hours */
  }
  return true;
}

bool gfi_tz_parse_rule(const char *s, size_t len, gfi_tz_rule *out) {
  rd r = {s, len, 0};
  int32_t off;
  memset(out, 0, sizeof *out);
  if (!rule_name(&r) || !rule_hms(&r, 24, &off)) return false;
  out->std_off = -off;
  if (r.i == r.n) return true;
  if (!rule_name(&r)) return false;
  out->has_dst = true;
  out->dst_off = out->std_off + 3600;
  if (peek(&r) != ',' && r.i < r.n) {
    if (!rule_hms(&r, 24, &off)) return false;
    out->dst_off = -off;
  }
  if (r.i == r.n) { /* no dates: POSIX leaves them to the system; use the US rule */
    out->start = (gfi_tz_date){'M', 0, 3, 2, 0, 7200};
    out->end = (gfi_tz_date){'M', 0, 11, 1, 0, 7200};
    return true;
  }
  if (peek(&r) != ',') return false;
  r.i++;
  if (!rule_date(&r, &out->start) || peek(&r) != ',') return false;
  r.i++;
  if (!rule_date(&r, &out->end)) return false;
  return r.i == r.n;
}

/* Day (since 1970-01-01) on which date `d` falls in year y. */
static int64_t rule_day(const gfi_tz_date *d, int64_t y) {
  int64_t jan1 = gfi_days_from_civil(y, 1, 1);
  switch (d->kind) {
    case 'J':
      return jan1 + d->n - 1 + (gfi_is_leap_year(y) && d->n >= 60 ? 1 : 0);
    case 'N':
      return jan1 + d->n;
    default: {
      int64_t first = gfi_days_from_civil(y, (unsigned)d->m, 1), q, wd;
      gfi_floor_divmod(first + 4, 7, &q, &wd); /* 1970-01-01 was a Thursday (4) */
      int64_t day = first + (d->d - wd + 7) % 7 + 7 * (d->w - 1);
      int dim = gfi_days_in_month(y, (unsigned)d->m);
      while (day - first >= dim) day -= 7; /* w = 5: the last such weekday */
      return day;
    }
  }
}

/* UTC instants at which DST starts and ends in year y (|y| < 2^40). */
static void rule_bounds(const gfi_tz_rule *r, int64_t y, int64_t *start, int64_t *end) {
  *start = rule_day(&r->start, y) * 86400 + r->start.time - r->std_off;
  *end = rule_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
}

/* Offset under a rule at UTC second t. */
static int32_t rule_offset(const gfi_tz_rule *r, int64_t t) {
  if (!r->has_dst) return r->std_off;
  int64_t q, tt;
  gfi_floor_divmod(t, GFI_TZ_CYCLE, &q, &tt); /* same answer, no overflow */
  int64_t days, sod, y, start, end;
  unsigned m, d;
  gfi_floor_divmod(tt + r->std_off, 86400, &days, &sod);
  gfi_civil_from_days(days, &y, &m, &d);
  rule_bounds(r, y, &start, &end);
  bool dst = start < end ? (tt >= start && tt < end) : !(tt >= end && tt < start);
  return dst ? r->dst_off : r->std_off;
}

/* Last year the footer rule is unrolled to (gfi_tz.ext_t). */
#define GFI_TZ_EXT_LAST_YEAR 2200

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Unrolls the footer rule after the last transition (see gfi_tz.ext_t).
 * The rule's offset can only change at the start/end instants of a year,
 * so evaluating it at every such candidate, in order, gives the exact
 * table; candidates of the year after the last one (which may reach about
 * a week back, v3 times go to 167 h) bound where the table is complete. */
static gf_status unroll_rule(const gf_allocator *a, gfi_tz *z) {
  if (!z->has_rule || !z->rule.has_dst || z->n_trans == 0) return GF_OK;
  int64_t first = z->trans[z->n_trans - 1], days, sod, y0;
  unsigned m, d;
  gfi_floor_divmod(first, 86400, &days, &sod);
  gfi_civil_from_days(days, &y0, &m, &d);
  if (y0 >= GFI_TZ_EXT_LAST_YEAR || y0 < 1800) return GF_OK; /* odd zones: the rule itself */
  size_t nc = (size_t)(GFI_TZ_EXT_LAST_YEAR - y0 + 2) * 2;
  int64_t *cand = gfi_malloc(a, nc * sizeof *cand);
  z->ext_alloc = (int32_t)nc + 1; /* before allocating: release frees by it */
  z->ext_t = gfi_malloc(a, (nc + 1) * sizeof *z->ext_t);
  z->ext_off = gfi_malloc(a, (nc + 1) * sizeof *z->ext_off);
  if (!cand || !z->ext_t || !z->ext_off) {
    gfi_mfree(a, cand, nc * sizeof *cand);
    return GF_ENOMEM;
  }
  for (int64_t y = y0 - 1; y <= GFI_TZ_EXT_LAST_YEAR; y++)
    rule_bounds(&z->rule, y, &cand[2 * (y - y0 + 1)], &cand[2 * (y - y0 + 1) + 1]);
  qsort(cand, nc, sizeof *cand, cmp_i64);
  int32_t n = 0;
  z->ext_t[n] = first;
  z->ext_off[n++] = rule_offset(&z->rule, first);
  for (size_t k = 0; k < nc; k++) {
    if (cand[k] <= z->ext_t[n - 1]) continue;
    int32_t off = rule_offset(&z->rule, cand[k]);
    if (off == z->ext_off[n - 1]) continue;
    z->ext_t[n] = cand[k];
    z->ext_off[n++] = off;
  }
  gfi_mfree(a, cand, nc * sizeof *cand);
  z->n_ext = n;
  z->ext_end = gfi_days_from_civil(GFI_TZ_EXT_LAST_YEAR + 1, 1, 1) * 86400 - 10 * 86400;
  return GF_OK;
}

/* ---- TZif ------------------------------------------------------------ */

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p) {
  return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_header {
  uint32_t isut, isstd, leap, time, type, chars;
} tzif_header;

/* Reads a 44-byte header at p[0..n); false when short or not TZif. */
static bool read_header(const uint8_t *p, size_t n, tzif_header *h, int *version) {
  if (n < 44 || memcmp(p, "TZif", 4) != 0) return false;
  *version = p[4] == 0 ? 1 : p[4] - '0';
  h->isut = be32(p + 20);
  h->isstd = be32(p + 24);
  h->leap = be32(p + 28);
  h->time = be32(p + 32);
  h->type = be32(p + 36);
  h->chars = be32(p + 40);
  return true;
}

/* Bytes of the data block after a header with `tsize`-byte times. */
static uint64_t block_size(const tzif_header *h, int tsize) {
  return (uint64_t)h->time * (uint64_t)(tsize + 1) + (uint64_t)h->type * 6 + h->chars +
         (uint64_t)h->leap * (uint64_t)(tsize + 4) + h->isstd + h->isut;
}

void gfi_tz_release(const gf_allocator *a, gfi_tz *z) {
  if (!z) return;
  gfi_mfree(a, z->ext_t, (size_t)z->ext_alloc * sizeof *z->ext_t);
  gfi_mfree(a, z->ext_off, (size_t)z->ext_alloc * sizeof *z->ext_off);
  gfi_mfree(a, z->trans, (size_t)z->n_trans * sizeof *z->trans);
  gfi_mfree(a, z->trans_type, (size_t)z->n_trans);
  gfi_mfree(a, z->type_off, (size_t)z->n_types * sizeof *z->type_off);
  memset(z, 0, sizeof *z);
}

gf_status gfi_tz_parse(const gf_allocator *a, const uint8_t *p, size_t n,
                       const char *what, gfi_tz *out, gf_error *err) {
  tzif_header h;
  int version;
  memset(out, 0, sizeof *out);
  if (!read_header(p, n, &h, &version) || version < 1 || version > 9)
    return gf_error_set(err, GF_EINVAL,
                        "time zone '%s': not a TZif file (RFC 8536); is the "
                        "tzdata package installed?", what);
  int tsize = 4;
  size_t pos = 44;
  if (version >= 2) { /* skip the 32-bit block: the 64-bit one follows */
    uint64_t skip = block_size(&h, 4);
    if (skip > n - pos || !read_header(p + pos + skip, n - pos - (size_t)skip, &h, &version))
      return gf_error_set(err, GF_EINVAL,
                          "time zone '%s': truncated TZif file (no second header)", what);
    pos += (size_t)skip + 44;
    tsize = 8;
  }
  if (h.leap > 0)
    return gf_error_set(err, GF_ENOTSUP,
                        "time zone '%s' counts leap seconds (a \"right/\" zone); "
                        "use the zone without leap seconds", what);
  if (h.type == 0 || h.type > 256 || h.chars == 0 || (h.isstd && h.isstd != h.type) ||
      (h.isut && h.isut != h.type) || h.time > (1u << 20))
    return gf_error_set(err, GF_EINVAL, "time zone '%s': malformed TZif header", what);
  uint64_t need = block_size(&h, tsize);
  if (need > n - pos)
    return gf_error_set(err, GF_EINVAL, "time zone '%s': truncated TZif data", what);
  const uint8_t *tp = p + pos, *ip = tp + (size_t)h.time * tsize,
                *ty = ip + h.time;
  out->n_trans = (int32_t)h.time;
  out->n_types = (int32_t)h.type;
  out->trans = h.time ? gfi_malloc(a, h.time * sizeof *out->trans) : NULL;
  out->trans_type = h.time ? gfi_malloc(a, h.time) : NULL;
  out->type_off = gfi_malloc(a, h.type * sizeof *out->type_off);
  if ((h.time && (!out->trans || !out->trans_type)) || !out->type_off) {
    gfi_tz_release(a, out);
    return gf_error_set(err, GF_ENOMEM, "time zone '%s': out of memory", what);
  }
  for (uint32_t k = 0; k < h.type; k++) {
    int32_t off = (int32_t)be32(ty + 6 * k);
    if (off < -89999 || off > 93599 || ty[6 * k + 4] > 1 || ty[6 * k + 5] >= h.chars) {
      gfi_tz_release(a, out);
      return gf_error_set(err, GF_EINVAL,
                          "time zone '%s': local time type %u is malformed", what, k);
    }
    out->type_off[k] = off;
  }
  for (uint32_t k = 0; k < h.time; k++) {
    int64_t t = tsize == 8 ? be64(tp + 8 * k) : (int64_t)(int32_t)be32(tp + 4 * k);
    if ((k > 0 && t <= out->trans[k - 1]) || ip[k] >= h.type) {
      gfi_tz_release(a, out);
      return gf_error_set(err, GF_EINVAL,
                          "time zone '%s': transition %u is out of order or names "
                          "a missing type", what, k);
    }
    out->trans[k] = t;
    out->trans_type[k] = ip[k];
  }
  pos += (size_t)need;
  if (version >= 2 && pos < n) { /* footer: "\n" TZ "\n" */
    const char *f = (const char *)p + pos;
    const char *nl = n - pos > 1 ? memchr(f + 1, '\n', n - pos - 1) : NULL;
    if (f[0] != '\n' || !nl) {
      gfi_tz_release(a, out);
      return gf_error_set(err, GF_EINVAL, "time zone '%s': malformed TZif footer", what);
    }
    size_t flen = (size_t)(nl - f - 1);
    if (flen > 0) {
      if (!gfi_tz_parse_rule(f + 1, flen, &out->rule)) {
        gfi_tz_release(a, out);
        return gf_error_set(err, GF_EINVAL,
                            "time zone '%s': footer TZ string '%.*s' is malformed",
                            what, (int)(flen > 80 ? 80 : flen), f + 1);
      }
      out->has_rule = true;
    }
  }
  if (unroll_rule(a, out) != GF_OK) {
    gfi_tz_release(a, out);
    return gf_error_set(err, GF_ENOMEM, "time zone '%s': out of memory", what);
  }
  return GF_OK;
}

int32_t gfi_tz_offset(const gfi_tz *z, int64_t t) {
  int32_t n = z->n_trans;
  if (n == 0 || t >= z->trans[n - 1]) {
    if (z->n_ext > 0 && t < z->ext_end) { /* last k with ext_t[k] <= t */
      int32_t lo = 0, hi = z->n_ext - 1;
      while (lo < hi) {
        int32_t mid = lo + (hi - lo + 1) / 2;
        if (z->ext_t[mid] <= t)
          lo = mid;
        else
          hi = mid - 1;
      }
      return z->ext_off[lo];
    }
    if (z->has_rule) return rule_offset(&z->rule, t);
    return z->type_off[n == 0 ? 0 : z->trans_type[n - 1]];
  }
  if (t < z->trans[0]) return z->type_off[0]; /* RFC 8536: type 0 before the first */
  int32_t lo = 0, hi = n - 1; /* last k with trans[k] <= t */
  while (lo < hi) {
    int32_t mid = lo + (hi - lo + 1) / 2;
    if (z->trans[mid] <= t)
      lo = mid;
    else
      hi = mid - 1;
  }
  return z->type_off[z->trans_type[lo]];
}

/* a - b saturated to int64. */
static int64_t sat_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return b > 0 ? INT64_MIN : INT64_MAX;
  return r;
}

int64_t gfi_tz_local_to_utc(const gfi_tz *z, int64_t local) {
  /* Offsets a day either side bracket any single transition near `local`. */
  int32_t before = gfi_tz_offset(z, sat_sub(local, 86400));
  int32_t after = gfi_tz_offset(z, sat_sub(local, -86400));
  int64_t u1 = sat_sub(local, before), u2 = sat_sub(local, after);
  bool ok1 = gfi_tz_offset(z, u1) == before, ok2 = gfi_tz_offset(z, u2) == after;
  if (ok1 && ok2) return u1 < u2 ? u1 : u2; /* ambiguous: the earlier instant */
  if (ok2 && !ok1) return u2;
  return u1; /* valid only before, or a gap: the offset before the gap */
}
