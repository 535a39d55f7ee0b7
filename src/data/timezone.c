/*
 * The process-wide zone table: names are checked, their TZif files loaded
 * from $TZDIR (default /usr/share/zoneinfo) on first use, and each loaded
 * zone gets an id that a gf_datatype carries in tz_id. The table only
 * grows: a zone, once interned, lives until the process ends, so ids and
 * the pointers handed out stay valid without reference counts. Loading
 * takes a mutex; lookups by id are lock-free (entries are published with a
 * release store of the count).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/timezone.h"

typedef struct tz_entry {
  gfi_tz zone;
  char name[GFI_TZ_NAME_MAX + 1];
} tz_entry;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static tz_entry *g_entries[GFI_TZ_MAX_ZONES]; /* id k lives in g_entries[k - 1] */
static atomic_int g_count;

gf_status gfi_tz_check_name(const char *name, size_t len, gf_error *err) {
  if (len == 0 || len > GFI_TZ_NAME_MAX)
    return gf_error_set(err, GF_EINVAL,
                        "time zone name of %zu bytes: expected 1 to %d", len,
                        GFI_TZ_NAME_MAX);
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '+' || c == '/';
    if (!ok || (c == '/' && (i == 0 || i + 1 == len || name[i - 1] == '/')))
      return gf_error_set(err, GF_EINVAL,
                          "time zone name '%.*s' is not valid (byte %zu): names are "
                          "letters, digits, '_', '-', '+' and '/' between parts, "
                          "like 'America/New_York'",
                          (int)(len > 64 ? 64 : len), name, i);
  }
  return GF_OK;
}

/* Reads the whole file at `path` (at most GFI_TZ_FILE_MAX bytes) into a
 * block from the default allocator. */
static gf_status read_file(const char *path, const char *name, uint8_t **out,
                           size_t *out_len, gf_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    return gf_error_set(err, GF_EINVAL,
                        "time zone '%s' not found: cannot open %s (%s); named "
                        "zones need the IANA tz database (Debian package tzdata) "
                        "or TZDIR pointing at one",
                        name, path, strerror(e));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 44 ||
      st.st_size > GFI_TZ_FILE_MAX) {
    close(fd);
    return gf_error_set(err, GF_EINVAL,
                        "time zone '%s': %s is not a TZif file of a plausible size",
                        name, path);
  }
  size_t n = (size_t)st.st_size;
  const gf_allocator *a = gf_default_allocator();
  uint8_t *buf = gfi_malloc(a, n);
  if (!buf) {
    close(fd);
    return gf_error_set(err, GF_ENOMEM, "time zone '%s': out of memory", name);
  }
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  if (got != n) {
    gfi_mfree(a, buf, n);
    return gf_error_set(err, GF_EIO, "time zone '%s': short read of %s", name, path);
  }
  *out = buf;
  *out_len = n;
  return GF_OK;
}

/* Loads zone `name` (already checked) into a new entry. */
static gf_status load(const char *name, tz_entry **out, gf_error *err) {
  const char *dir = getenv("TZDIR");
  if (!dir || !*dir) dir = "/usr/share/zoneinfo";
  char path[4096 + GFI_TZ_NAME_MAX + 2];
  if (strlen(dir) > 4096)
    return gf_error_set(err, GF_EINVAL, "TZDIR is longer than 4096 bytes");
  snprintf(path, sizeof path, "%s/%s", dir, name);
  uint8_t *bytes = NULL;
  size_t n = 0;
  GF_RETURN_NOT_OK(read_file(path, name, &bytes, &n, err));
  const gf_allocator *a = gf_default_allocator();
  tz_entry *e = gfi_calloc(a, sizeof *e);
  gf_status st = e ? gfi_tz_parse(a, bytes, n, name, &e->zone, err)
                   : gf_error_set(err, GF_ENOMEM, "time zone '%s': out of memory", name);
  gfi_mfree(a, bytes, n);
  if (st != GF_OK) {
    gfi_mfree(a, e, sizeof *e);
    return st;
  }
  snprintf(e->name, sizeof e->name, "%s", name);
  *out = e;
  return GF_OK;
}

gf_status gfi_tz_intern(const char *name, size_t len, int32_t *id, gf_error *err) {
  GF_RETURN_NOT_OK(gfi_tz_check_name(name, len, err));
  char key[GFI_TZ_NAME_MAX + 1];
  memcpy(key, name, len);
  key[len] = '\0';
  pthread_mutex_lock(&g_lock);
  int n = atomic_load_explicit(&g_count, memory_order_relaxed);
  for (int k = 0; k < n; k++) {
    if (strcmp(g_entries[k]->name, key) == 0) {
      pthread_mutex_unlock(&g_lock);
      *id = k + 1;
      return GF_OK;
    }
  }
  gf_status st;
  tz_entry *e = NULL;
  if (n >= GFI_TZ_MAX_ZONES)
    st = gf_error_set(err, GF_ENOTSUP, "time zone '%s': more than %d distinct zones "
                      "in one process", key, GFI_TZ_MAX_ZONES);
  else
    st = load(key, &e, err);
  if (st == GF_OK) {
    g_entries[n] = e;
    atomic_store_explicit(&g_count, n + 1, memory_order_release);
    *id = n + 1;
  }
  pthread_mutex_unlock(&g_lock);
  return st;
}

/* The entry of id, or NULL. */
static const tz_entry *entry(int32_t id) {
  if (id <= 0 || id > atomic_load_explicit(&g_count, memory_order_acquire)) return NULL;
  return g_entries[id - 1];
}

const gfi_tz *gfi_tz_get(int32_t id) {
  const tz_entry *e = entry(id);
  return e ? &e->zone : NULL;
}

const char *gfi_tz_name(int32_t id) {
  const tz_entry *e = entry(id);
  return e ? e->name : NULL;
}

int32_t gfi_type_utc_offset(gf_datatype t, int64_t s) {
  if (!t.has_timezone) return 0;
  const gfi_tz *z = t.tz_id > 0 ? gfi_tz_get(t.tz_id) : NULL;
  return z ? gfi_tz_offset(z, s) : t.tz_offset_minutes * 60;
}

bool gfi_tz_parse_fixed(const char *s, size_t n, int32_t *minutes) {
  if ((n == 3 && (!memcmp(s, "UTC", 3) || !memcmp(s, "utc", 3))) ||
      (n == 1 && s[0] == 'Z') || (n == 7 && !memcmp(s, "Etc/UTC", 7))) {
    *minutes = 0;
    return true;
  }
  if (n < 3 || (s[0] != '+' && s[0] != '-')) return false;
  int d[4], nd = 0;
  for (size_t i = 1; i < n; i++) {
    if (s[i] == ':' && i == 3 && n == 6) continue;
    if (s[i] < '0' || s[i] > '9' || nd == 4) return false;
    d[nd++] = s[i] - '0';
  }
  if (nd != 2 && nd != 4) return false;
  int h = d[0] * 10 + d[1], m = nd == 4 ? d[2] * 10 + d[3] : 0;
  if (h > 23 || m > 59) return false;
  *minutes = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
  return true;
}

gf_status gfi_timestamp_with_zone(gf_time_unit unit, const char *zone, size_t len,
                                  gf_datatype *out, gf_error *err) {
  int32_t minutes;
  if (gfi_tz_parse_fixed(zone, len, &minutes)) {
    *out = gf_type_timestamp(unit, true, minutes);
    return GF_OK;
  }
  int32_t id;
  GF_RETURN_NOT_OK(gfi_tz_intern(zone, len, &id, err));
  gf_datatype t = gf_type_timestamp(unit, true, 0);
  t.tz_id = id;
  *out = t;
  return GF_OK;
}

int gfi_tz_format(gf_datatype t, char *buf, size_t n) {
  const char *name = gfi_tz_name(t.tz_id);
  if (!t.has_timezone) return snprintf(buf, n, "%s", "");
  if (name) return snprintf(buf, n, "%s", name);
  int m = t.tz_offset_minutes;
  if (m == 0) return snprintf(buf, n, "UTC");
  int am = m < 0 ? -m : m;
  return snprintf(buf, n, "%c%02d:%02d", m < 0 ? '-' : '+', am / 60 % 100, am % 60);
}

int64_t gfi_type_local_to_utc(gf_datatype t, int64_t local) {
  if (!t.has_timezone) return local;
  const gfi_tz *z = t.tz_id > 0 ? gfi_tz_get(t.tz_id) : NULL;
  if (z) return gfi_tz_local_to_utc(z, local);
  int64_t r;
  if (__builtin_sub_overflow(local, (int64_t)t.tz_offset_minutes * 60, &r))
    return local < 0 ? INT64_MIN : INT64_MAX;
  return r;
}

/* ---- public API --------------------------------------------------- */

/* Timestamp type in `unit` with zone `zone`: "UTC" and fixed offsets
 * ("+05:30") become fixed-offset types (tz_id 0), anything else a named
 * zone loaded from the tz database. */
gf_status gf_type_timestamp_zone(gf_time_unit unit, const char *zone,
                                 gf_datatype *out, gf_error *err) {
  if (!zone || !out)
    return gf_error_set(err, GF_EINVAL, "gf_type_timestamp_zone: NULL argument");
  if ((unsigned)unit > (unsigned)GF_UNIT_NANO)
    return gf_error_set(err, GF_EINVAL, "invalid time unit %d", (int)unit);
  return gfi_timestamp_with_zone(unit, zone, strlen(zone), out, err);
}

/* The zone name of a timestamp type with a named zone; NULL otherwise. */
const char *gf_type_timezone_name(gf_datatype t) {
  gf_datatype v = gf_type_value(t);
  if (v.id != GF_TYPE_TIMESTAMP || !v.has_timezone) return NULL;
  return gfi_tz_name(v.tz_id);
}
