/*
 * Named time zones (not installed): the TZif reader (RFC 8536, versions 1-4,
 * 64-bit section plus the POSIX TZ footer), the process-wide intern table
 * that gives each zone name a stable id for gf_datatype.tz_id, and the
 * UTC <-> local conversions the printer, casts and date kernels use.
 * docs/TIMEZONES.md describes the behaviour.
 */
#ifndef GF_DATA_TIMEZONE_H
#define GF_DATA_TIMEZONE_H

#include "core/core_internal.h"

/* Longest zone name accepted (real ones are under 40 bytes). */
#define GFI_TZ_NAME_MAX 128
/* Most distinct zones one process interns (the tz database has ~600). */
#define GFI_TZ_MAX_ZONES 4096
/* Largest TZif file read (real ones are under 4 KiB). */
#define GFI_TZ_FILE_MAX (1 << 20)

/* One date of a POSIX TZ rule: "Jn" (1-365, Feb 29 never counted), "n"
 * (0-365, zero-based, Feb 29 counted) or "Mm.w.d", and the local time of
 * the change in seconds (may be negative or over 24 h, RFC 8536 v3). */
typedef struct gfi_tz_date {
  char kind; /* 'J', 'N' or 'M' */
  int16_t n, m, w, d;
  int32_t time;
} gfi_tz_date;

/* The POSIX TZ string of a TZif footer, e.g. "EST5EDT,M3.2.0,M11.1.0".
 * Offsets are seconds east of UTC (the opposite sign of the text). */
typedef struct gfi_tz_rule {
  int32_t std_off, dst_off;
  bool has_dst;
  gfi_tz_date start, end;
} gfi_tz_rule;

/* A loaded zone: immutable after loading, shared by all threads. */
typedef struct gfi_tz {
  int64_t *trans;       /* n_trans transition instants, UTC seconds, ascending */
  uint8_t *trans_type;  /* local time type after each transition */
  int32_t *type_off;    /* n_types UTC offsets, seconds east */
  int32_t n_trans, n_types;
  bool has_rule;        /* footer rule for times after the last transition */
  gfi_tz_rule rule;
  /* The footer rule unrolled into transitions from the last one up to
   * about 2200, so common instants need a binary search, not calendar
   * arithmetic: offset ext_off[k] from ext_t[k] (ext_t[0] is the last
   * transition), valid for t < ext_end; the rule itself beyond. */
  int64_t *ext_t;
  int32_t *ext_off;
  int32_t n_ext, ext_alloc;
  int64_t ext_end;
} gfi_tz;

/* Parses a POSIX TZ string (the whole string). False when malformed. */
bool gfi_tz_parse_rule(const char *s, size_t len, gfi_tz_rule *out);

/* Parses TZif bytes into *out (arrays allocated through `a`). `what` names
 * the zone in messages. Zones with leap seconds ("right/...") are refused
 * with GF_ENOTSUP; anything malformed with GF_EINVAL. */
gf_status gfi_tz_parse(const gf_allocator *a, const uint8_t *p, size_t n,
                       const char *what, gfi_tz *out, gf_error *err);
/* Frees the arrays of a parsed zone (the struct itself is the caller's). */
void gfi_tz_release(const gf_allocator *a, gfi_tz *z);

/* UTC offset in seconds east at UTC instant `t` (seconds since the epoch,
 * any int64). */
int32_t gfi_tz_offset(const gfi_tz *z, int64_t t);

/* The UTC instant of local wall time `local` (seconds since the epoch as if
 * the wall clock were UTC). Ambiguous times (fall back) take the earlier
 * instant; times in a gap (spring forward) use the offset in force before
 * the gap, so 02:30 in a 02:00->03:00 gap becomes 03:30. This is Python's
 * fold=0. */
int64_t gfi_tz_local_to_utc(const gfi_tz *z, int64_t local);

/* Checks a zone name before it becomes part of a path: 1..GFI_TZ_NAME_MAX
 * bytes of [A-Za-z0-9_+-/], no leading or trailing '/', no empty
 * component, no '.' at all (so neither ".." nor "zone.tab"). */
gf_status gfi_tz_check_name(const char *name, size_t len, gf_error *err);

/* Interns a named zone: loads $TZDIR/<name> (default /usr/share/zoneinfo)
 * on first use and returns its id (> 0). Thread-safe; ids never change or
 * get reused; a failed load interns nothing. */
gf_status gfi_tz_intern(const char *name, size_t len, int32_t *id, gf_error *err);
/* The zone of an interned id; NULL for 0 or an unknown id. Lock-free. */
const gfi_tz *gfi_tz_get(int32_t id);
/* The name of an interned id; NULL for 0 or an unknown id. Lock-free. */
const char *gfi_tz_name(int32_t id);

/* "UTC", "utc", "Z", "Etc/UTC" (0) or +HH, +HHMM, +HH:MM (either sign,
 * HH <= 23): true with the offset in minutes east; false otherwise. */
bool gfi_tz_parse_fixed(const char *s, size_t n, int32_t *minutes);

/* Timestamp type in `unit` with zone text zone[0..len): fixed offsets and
 * UTC as gfi_tz_parse_fixed reads them, anything else interned as a named
 * zone (an error naming it when it cannot be loaded). */
gf_status gfi_timestamp_with_zone(gf_time_unit unit, const char *zone, size_t len,
                                  gf_datatype *out, gf_error *err);

/* Writes the zone of timestamp type `t` as Arrow spells it: "" without a
 * zone, "UTC", "+05:30" or the zone name. Returns the snprintf length. */
int gfi_tz_format(gf_datatype t, char *buf, size_t n);

/* The UTC offset (seconds east) of timestamp type `t` at UTC second `s`:
 * 0 without a zone, the fixed offset, or the named zone's offset then. */
int32_t gfi_type_utc_offset(gf_datatype t, int64_t s);

/* The UTC second of local wall time `local` (seconds as if the wall clock
 * were UTC) in the zone of timestamp type `t` (gfi_tz_local_to_utc's rule
 * for named zones; saturating for fixed offsets; `local` without a zone). */
int64_t gfi_type_local_to_utc(gf_datatype t, int64_t local);

#endif /* GF_DATA_TIMEZONE_H */
