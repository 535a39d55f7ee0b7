/*
 * Date-part functions (year .. weekday) and date_trunc. Timestamps with a
 * zone are taken apart in the local time of that zone (a fixed offset or a
 * named zone from the tz database, src/data/timezone.h); date_trunc
 * truncates the local time and maps it back to an instant with the zone's
 * rule for ambiguous and skipped local times (earlier instant; the offset
 * before a gap), the rule Python's zoneinfo applies with fold=0.
 */
#include <string.h>

#include "data/timezone.h"
#include "expr/kernels.h"

int gfi_datepart_fn(const char *name) {
  static const struct { const char *name; int fn; } parts[] = {
      {"year", GFI_FN_YEAR},     {"month", GFI_FN_MONTH},   {"day", GFI_FN_DAY},
      {"hour", GFI_FN_HOUR},     {"minute", GFI_FN_MINUTE}, {"second", GFI_FN_SECOND},
      {"weekday", GFI_FN_WEEKDAY}};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    if (strcmp(parts[i].name, name) == 0) return parts[i].fn;
  return GFI_FN_YEAR;
}

int gfi_trunc_unit(const char *s, int64_t len) {
  static const struct { const char *name; int fn; } units[] = {
      {"year", GFI_FN_TRUNC_YEAR}, {"month", GFI_FN_TRUNC_MONTH}, {"day", GFI_FN_TRUNC_DAY},
      {"hour", GFI_FN_TRUNC_HOUR}, {"minute", GFI_FN_TRUNC_MINUTE}};
  if (!s) return -1;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    size_t n = strlen(units[i].name);
    if ((size_t)len != n) continue;
    size_t j = 0;
    while (j < n && (s[j] | 0x20) == units[i].name[j]) j++;
    if (j == n) return units[i].fn;
  }
  return -1;
}

/* How the kernel reads a zone: a loaded named zone, or a fixed offset. */
typedef struct zone_view {
  const gfi_tz *z;
  int32_t fixed; /* seconds east when z is NULL */
} zone_view;

static zone_view zone_of(gf_datatype t) {
  zone_view zv = {NULL, 0};
  if (t.id != GF_TYPE_TIMESTAMP || !t.has_timezone) return zv;
  zv.z = t.tz_id > 0 ? gfi_tz_get(t.tz_id) : NULL;
  if (!zv.z) zv.fixed = t.tz_offset_minutes * 60;
  return zv;
}

/* Local day and second of day of UTC second s in the zone. */
static void local_split(const zone_view *zv, int64_t s, int64_t *days, int64_t *sod) {
  int32_t off = zv->z ? gfi_tz_offset(zv->z, s) : zv->fixed;
  int64_t shift;
  gfi_floor_divmod(s, 86400, days, sod);
  gfi_floor_divmod(*sod + off, 86400, &shift, sod);
  *days += shift;
}

/* UTC second of the local wall time `back` seconds before the local time
 * of UTC second s (so no intermediate leaves the int64 range for any s). */
static bool local_back_to_utc(const zone_view *zv, int64_t s, int64_t back, int64_t *out) {
  int32_t off = zv->z ? gfi_tz_offset(zv->z, s) : zv->fixed;
  int64_t local;
  if (__builtin_add_overflow(s, (int64_t)off, &local) ||
      __builtin_sub_overflow(local, back, &local))
    return false;
  if (!zv->z) return !__builtin_sub_overflow(local, (int64_t)zv->fixed, out);
  *out = gfi_tz_local_to_utc(zv->z, local);
  return true;
}

gf_status gfi_k_datepart(gfi_kctx *k, const gfi_bnode *b, gfi_val *x, gf_array **out) {
  if (gfi_val_is_null_scalar(x)) return gfi_all_null(k, b->type, out);
  const gfi_val *ins[1] = {x};
  gf_buffer *valid = NULL, *data = NULL;
  GF_RETURN_NOT_OK(gfi_and_validity(k, ins, 1, &valid));
  gf_status st = gfi_kbuf(k, (size_t)k->n * 8, &data);
  if (st != GF_OK) {
    gf_buffer_release(valid);
    return st;
  }
  gf_datatype t = x->scalar ? x->lit->type : x->arr->type;
  int64_t *o = gf_buffer_mutable_data(data);
  const uint8_t *vb = valid ? gf_buffer_data(valid) : NULL;
  int64_t ps = t.id == GF_TYPE_DATE32 ? 1 : t.id == GF_TYPE_DATE64 ? 1000 : gfi_unit_per_second(t.unit);
  zone_view zv = zone_of(t);
  bool trunc = b->fn >= GFI_FN_TRUNC_YEAR;
  int64_t bad = -1; /* first row whose truncation leaves the int64 range */
  for (int64_t i = 0; i < k->n; i++) {
    if (vb && !gfi_bit_get(vb, i)) continue;
    int64_t v = gfi_val_i64(x, i), days, sod = 0, secs = 0, frac;
    if (t.id == GF_TYPE_DATE32) {
      days = v;
    } else {
      gfi_floor_divmod(v, ps, &secs, &frac);
      local_split(&zv, secs, &days, &sod);
    }
    int64_t y;
    unsigned m, d;
    gfi_civil_from_days(days, &y, &m, &d);
    int64_t back = 0; /* trunc: local seconds to go back */
    switch (b->fn) {
      case GFI_FN_YEAR: o[i] = y; break;
      case GFI_FN_MONTH: o[i] = m; break;
      case GFI_FN_DAY: o[i] = d; break;
      case GFI_FN_HOUR: o[i] = sod / 3600; break;
      case GFI_FN_MINUTE: o[i] = sod / 60 % 60; break;
      case GFI_FN_SECOND: o[i] = sod % 60; break;
      case GFI_FN_WEEKDAY: { /* ISO: Monday 1 .. Sunday 7; 1970-01-01 was a Thursday */
        int64_t q, r;
        gfi_floor_divmod(days + 3, 7, &q, &r);
        o[i] = r + 1;
        break;
      }
      case GFI_FN_TRUNC_YEAR: back = (days - gfi_days_from_civil(y, 1, 1)) * 86400 + sod; break;
      case GFI_FN_TRUNC_MONTH: back = (days - gfi_days_from_civil(y, m, 1)) * 86400 + sod; break;
      case GFI_FN_TRUNC_DAY: back = sod; break;
      case GFI_FN_TRUNC_HOUR: back = sod % 3600; break;
      default: back = sod % 60; break;
    }
    if (!trunc) continue;
    int64_t u, r;
    if (!local_back_to_utc(&zv, secs, back, &u) || __builtin_mul_overflow(u, ps, &r)) {
      if (bad < 0) bad = i;
      continue;
    }
    o[i] = r;
  }
  if (bad >= 0) { /* rare: only near the ends of the int64 range */
    char tn[GFI_TZ_NAME_MAX + 32];
    gf_buffer_release(valid);
    gf_buffer_release(data);
    return gf_error_set(k->err, GF_ERANGE,
                        "date_trunc: row %lld (value %lld of %s) truncates to an "
                        "instant outside the range of its type",
                        (long long)bad, (long long)gfi_val_i64(x, bad),
                        gf_type_format(t, tn, sizeof tn));
  }
  return gfi_kfinish(k, b->type, valid, data, NULL, NULL, -1, out);
}
