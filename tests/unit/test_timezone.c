/* Named time zones (issue 16 item 3): the zone table and its name checks,
 * the TZif and POSIX TZ readers, type equality and names, C Data / IPC /
 * CSV / printer wiring, and the date kernels against an independent
 * reference: tests/data/timezones/tz_reference.tsv, made by Python's
 * zoneinfo with gen_tz_reference.py next to it. Kernels run at 1, 2, 3 and
 * 8 workers with small morsels over arrays whose null slots hold garbage. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/timezone.h"
#include "gf_test_data.h"
#include "gf_test_garbage.h"
#include "gopherframe.h"
#include "gopherframe/testing.h"

/* ---- zone table and names ------------------------------------------- */

static gf_datatype zone_type(gf_time_unit u, const char *zone) {
  gf_datatype t;
  gf_error err;
  gf_error_clear(&err);
  if (gf_type_timestamp_zone(u, zone, &t, &err) != GF_OK)
    fail_msg("gf_type_timestamp_zone(%s): %s", zone, err.message);
  return t;
}

static void named_zone_types_intern_compare_and_print(void **state) {
  (void)state;
  gf_datatype a = zone_type(GF_UNIT_MICRO, "US/Eastern");
  gf_datatype b = zone_type(GF_UNIT_MICRO, "US/Eastern");
  gf_datatype c = zone_type(GF_UNIT_MICRO, "Europe/Paris");
  assert_true(a.has_timezone);
  assert_true(a.tz_id > 0);
  assert_int_equal(a.tz_offset_minutes, 0);
  assert_int_equal(a.tz_id, b.tz_id); /* interned once */
  assert_true(gf_type_equals(a, b));
  assert_false(gf_type_equals(a, c));
  assert_false(gf_type_equals(a, gf_type_timestamp(GF_UNIT_MICRO, true, 0)));
  assert_false(gf_type_equals(a, gf_type_timestamp(GF_UNIT_MICRO, false, 0)));
  assert_false(gf_type_equals(a, zone_type(GF_UNIT_MILLI, "US/Eastern")));
  assert_string_equal(gf_type_timezone_name(a), "US/Eastern");
  assert_string_equal(gf_type_timezone_name(gf_type_dictionary(c)), "Europe/Paris");
  assert_null(gf_type_timezone_name(gf_type_timestamp(GF_UNIT_MICRO, true, 0)));
  assert_null(gf_type_timezone_name(gf_type(GF_TYPE_INT64)));
  char buf[128];
  assert_string_equal(gf_type_format(a, buf, sizeof buf), "timestamp[us, US/Eastern]");
  assert_int_equal(gf_type_validate(a, NULL), GF_OK);
  /* UTC and fixed offsets stay fixed-offset types. */
  gf_datatype u = zone_type(GF_UNIT_SECOND, "UTC");
  assert_int_equal(u.tz_id, 0);
  assert_true(gf_type_equals(u, gf_type_timestamp(GF_UNIT_SECOND, true, 0)));
  gf_datatype f = zone_type(GF_UNIT_SECOND, "+05:30");
  assert_int_equal(f.tz_offset_minutes, 330);
  assert_string_equal(gf_type_format(f, buf, sizeof buf), "timestamp[s, +05:30]");
  /* An invented id is refused by validation. */
  gf_datatype bad = a;
  bad.tz_id = 100000;
  assert_int_equal(gf_type_validate(bad, NULL), GF_EINVAL);
}

static void missing_and_hostile_zone_names_are_refused(void **state) {
  (void)state;
  gf_datatype t;
  gf_error err;
  gf_error_clear(&err);
  assert_int_equal(gf_type_timestamp_zone(GF_UNIT_MICRO, "Mars/Olympus_Mons", &t, &err),
                   GF_EINVAL);
  assert_non_null(strstr(err.message, "Mars/Olympus_Mons"));
  assert_non_null(strstr(err.message, "tzdata"));
  char longname[300];
  memset(longname, 'A', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  const char *bad[] = {"../../../../etc/passwd", "/etc/passwd", "US/../US/Eastern",
                       "US//Eastern", "US/Eastern/", "zone.tab", "tzdata.zi",
                       "", "US/Eastern\n", "a b", longname, "right/../../x", "."};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    gf_error_clear(&err);
    if (gf_type_timestamp_zone(GF_UNIT_MICRO, bad[i], &t, &err) == GF_OK)
      fail_msg("zone name '%s' was accepted", bad[i]);
    assert_int_equal(err.code, GF_EINVAL);
  }
  /* A directory of the database is not a zone. */
  gf_error_clear(&err);
  assert_int_equal(gf_type_timestamp_zone(GF_UNIT_MICRO, "America", &t, &err), GF_EINVAL);
  /* Every name that failed left no entry behind. */
  assert_null(gfi_tz_name(0));
  assert_null(gfi_tz_name(-3));
}

/* TZDIR is honoured: a private database with one zone under a new name. */
static void tzdir_points_at_another_database(void **state) {
  (void)state;
  char dir[] = "/tmp/gf_tzdir_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char sub[256], path[300];
  snprintf(sub, sizeof sub, "%s/Test", dir);
  assert_int_equal(mkdir(sub, 0755), 0);
  snprintf(path, sizeof path, "%s/Test/Zone", dir);
  FILE *in = fopen("/usr/share/zoneinfo/America/New_York", "rb");
  assert_non_null(in);
  FILE *out = fopen(path, "wb");
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
  fclose(in);
  fclose(out);
  const char *old = getenv("TZDIR");
  char *saved = old ? strdup(old) : NULL;
  setenv("TZDIR", dir, 1);
  gf_datatype t;
  gf_error err;
  gf_error_clear(&err);
  assert_int_equal(gf_type_timestamp_zone(GF_UNIT_SECOND, "Test/Zone", &t, &err), GF_OK);
  /* 2021-07-01T00:00:00Z is 20:00 the day before, EDT. */
  assert_int_equal(gfi_type_utc_offset(t, 1625097600), -4 * 3600);
  gf_error_clear(&err);
  assert_int_equal(gf_type_timestamp_zone(GF_UNIT_SECOND, "Test/Other", &t, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, dir));
  if (saved) {
    setenv("TZDIR", saved, 1);
    free(saved);
  } else {
    unsetenv("TZDIR");
  }
  unlink(path);
  rmdir(sub);
  rmdir(dir);
}

/* Threads racing to intern the same new zones agree on every id. */
static const char *const RACE_ZONES[] = {
    "Asia/Singapore", "Africa/Nairobi", "America/Denver", "Europe/Berlin", "Asia/Dubai",
    "America/Chicago", "Europe/Madrid", "Asia/Shanghai", "America/Phoenix", "Pacific/Auckland",
    "Atlantic/Azores", "Asia/Kabul", "America/Caracas", "Europe/Helsinki", "Indian/Maldives"};
#define NRACE ((int)(sizeof RACE_ZONES / sizeof RACE_ZONES[0]))

typedef struct race_arg {
  int start;
  int32_t ids[NRACE];
  const char *names[NRACE];
  gf_status st;
} race_arg;

static void *race(void *p) {
  race_arg *r = p;
  for (int k = 0; k < NRACE; k++) {
    int z = (r->start + k * 7) % NRACE;
    gf_datatype t;
    gf_status st = gf_type_timestamp_zone(GF_UNIT_NANO, RACE_ZONES[z], &t, NULL);
    if (st != GF_OK) r->st = st;
    r->ids[z] = t.tz_id;
    r->names[z] = gf_type_timezone_name(t);
    (void)gfi_type_utc_offset(t, 1700000000);
  }
  return NULL;
}

static void concurrent_interning_agrees(void **state) {
  (void)state;
  pthread_t th[8];
  race_arg args[8];
  memset(args, 0, sizeof args);
  for (int i = 0; i < 8; i++) {
    args[i].start = i * 3;
    assert_int_equal(pthread_create(&th[i], NULL, race, &args[i]), 0);
  }
  for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
  for (int z = 0; z < NRACE; z++) {
    for (int i = 0; i < 8; i++) {
      assert_int_equal(args[i].st, GF_OK);
      assert_int_equal(args[i].ids[z], args[0].ids[z]);
      assert_ptr_equal(args[i].names[z], args[0].names[z]);
    }
    assert_string_equal(args[0].names[z], RACE_ZONES[z]);
    for (int y = 0; y < z; y++) assert_int_not_equal(args[0].ids[y], args[0].ids[z]);
  }
}

/* ---- the readers ---------------------------------------------------- */

static void posix_tz_rules_parse_and_apply(void **state) {
  (void)state;
  gfi_tz_rule r;
  assert_true(gfi_tz_parse_rule("EST5EDT,M3.2.0,M11.1.0", 22, &r));
  assert_true(r.has_dst);
  assert_int_equal(r.std_off, -5 * 3600);
  assert_int_equal(r.dst_off, -4 * 3600);
  assert_true(gfi_tz_parse_rule("<+0330>-3:30", 12, &r));
  assert_false(r.has_dst);
  assert_int_equal(r.std_off, 3 * 3600 + 1800);
  assert_true(gfi_tz_parse_rule("IST-1GMT0,M10.5.0,M3.5.0/1", 26, &r)); /* negative DST */
  assert_int_equal(r.std_off, 3600);
  assert_int_equal(r.dst_off, 0);
  assert_true(gfi_tz_parse_rule("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 32, &r)); /* v3 times */
  assert_int_equal(r.start.time, -7200);
  assert_true(gfi_tz_parse_rule("EST5EDT4,0/0,J365/25", 20, &r)); /* all-year DST */
  assert_true(gfi_tz_parse_rule("AAA3BBB,J60/2,300/167", 21, &r));
  const char *bad[] = {"", "E5", "EST", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0",
                       "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,J0,J10", "EST5EDT,366,1",
                       "EST5EDT,M3.2.0", "EST5EDT,M3.2.0,M11.1.0x", "EST25", "<AB>5",
                       "EST5EDT,M3.2.0/168,M11.1.0", "EST5:60"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (gfi_tz_parse_rule(bad[i], strlen(bad[i]), &r))
      fail_msg("TZ string '%s' was accepted", bad[i]);
}

/* Reads a file of the system database into memory. */
static uint8_t *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s: is tzdata installed?", path);
  uint8_t *buf = malloc(1 << 20);
  *n = fread(buf, 1, 1 << 20, f);
  fclose(f);
  return buf;
}

/* Truncated and corrupted TZif files fail cleanly (or parse: a flipped byte
 * may still make a valid file); lookups on what parses stay in range. */
static void corrupt_tzif_files_fail_cleanly(void **state) {
  (void)state;
  size_t n;
  uint8_t *bytes = slurp("/usr/share/zoneinfo/Europe/Paris", &n);
  const gf_allocator *a = gf_default_allocator();
  gfi_tz z;
  gf_error err;
  assert_int_equal(gfi_tz_parse(a, bytes, n, "Europe/Paris", &z, &err), GF_OK);
  assert_true(z.has_rule);
  assert_int_equal(gfi_tz_offset(&z, 1625097600), 7200);
  gfi_tz_release(a, &z);
  for (size_t len = 0; len < n; len += (len < 200 ? 1 : 37)) {
    uint8_t *copy = malloc(len + 1);
    memcpy(copy, bytes, len);
    gf_status st = gfi_tz_parse(a, copy, len, "cut", &z, &err);
    if (st == GF_OK) gfi_tz_release(a, &z);
    free(copy);
  }
  uint64_t seed = 7;
  for (int round = 0; round < 3000; round++) {
    uint8_t *copy = malloc(n);
    memcpy(copy, bytes, n);
    for (int k = 0; k < 3; k++) {
      size_t at = gft_rand_next(&seed) % n;
      copy[at] = (uint8_t)gft_rand_next(&seed);
    }
    if (gfi_tz_parse(a, copy, n, "flipped", &z, &err) == GF_OK) {
      for (int64_t t = -5000000000LL; t < 5000000000LL; t += 123456789)
        (void)gfi_tz_local_to_utc(&z, gfi_tz_offset(&z, t) + t);
      (void)gfi_tz_offset(&z, INT64_MAX);
      (void)gfi_tz_offset(&z, INT64_MIN);
      (void)gfi_tz_local_to_utc(&z, INT64_MIN);
      (void)gfi_tz_local_to_utc(&z, INT64_MAX);
      gfi_tz_release(a, &z);
    }
    free(copy);
  }
  /* Leap-second zones are refused by name, not misread. */
  size_t rn;
  FILE *probe = fopen("/usr/share/zoneinfo/right/UTC", "rb");
  if (probe) {
    fclose(probe);
    uint8_t *right = slurp("/usr/share/zoneinfo/right/UTC", &rn);
    gf_error_clear(&err);
    assert_int_equal(gfi_tz_parse(a, right, rn, "right/UTC", &z, &err), GF_ENOTSUP);
    assert_non_null(strstr(err.message, "leap"));
    free(right);
  }
  free(bytes);
}

/* The footer rule unrolled into a table (for speed) gives the offsets the
 * rule gives, at and around every unrolled transition and on a sweep up
 * to past the table's end. */
static void unrolled_rule_matches_the_rule(void **state) {
  (void)state;
  const char *zones[] = {"America/New_York", "Europe/Dublin", "Australia/Sydney",
                         "America/Santiago", "Pacific/Chatham", "Antarctica/Troll",
                         "America/Godthab", "Asia/Jerusalem"};
  const gf_allocator *a = gf_default_allocator();
  for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
    char path[256];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zones[i]);
    size_t n;
    uint8_t *bytes = slurp(path, &n);
    gfi_tz z;
    assert_int_equal(gfi_tz_parse(a, bytes, n, zones[i], &z, NULL), GF_OK);
    if (!z.has_rule || !z.rule.has_dst) fail_msg("%s: expected a DST footer rule", zones[i]);
    assert_true(z.n_ext > 100);
    gfi_tz plain = z;
    plain.n_ext = 0;
    for (int32_t k = 0; k < z.n_ext; k++)
      for (int64_t d = -1; d <= 1; d++)
        if (gfi_tz_offset(&z, z.ext_t[k] + d) != gfi_tz_offset(&plain, z.ext_t[k] + d))
          fail_msg("%s: offsets differ at %lld", zones[i], (long long)(z.ext_t[k] + d));
    for (int64_t t = z.trans[z.n_trans - 1] - 86400; t < z.ext_end + 40 * 86400; t += 7 * 3599)
      if (gfi_tz_offset(&z, t) != gfi_tz_offset(&plain, t))
        fail_msg("%s: offsets differ at %lld", zones[i], (long long)t);
    gfi_tz_release(a, &z);
    free(bytes);
  }
}

/* Parsing survives every allocation failure without leaking. */
static void tzif_parse_survives_allocation_failures(void **state) {
  (void)state;
  size_t n;
  uint8_t *bytes = slurp("/usr/share/zoneinfo/US/Pacific", &n);
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  const gf_allocator *a = gf_failing_allocator_get(fa);
  int fails = 0;
  for (int64_t at = 1; at < 12; at++) {
    gf_failing_allocator_arm(fa, at, false);
    gfi_tz z;
    gf_status st = gfi_tz_parse(a, bytes, n, "US/Pacific", &z, NULL);
    if (st == GF_OK)
      gfi_tz_release(a, &z);
    else {
      assert_int_equal(st, GF_ENOMEM);
      fails++;
    }
    assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  }
  assert_true(fails >= 3); /* arrays, then the unrolled footer rule */
  gf_failing_allocator_free(fa);
  free(bytes);
}

/* ---- the reference table -------------------------------------------- */

enum { C_ZONE, C_UNIT, C_VALUE, C_ISO, C_YEAR, C_MONTH, C_DAY, C_HOUR, C_MINUTE,
       C_SECOND, C_WEEKDAY, C_DATE32, C_TY, C_TM, C_TD, C_TH, C_NCOLS };

typedef struct ref_row {
  char zone[64];
  gf_time_unit unit;
  int64_t v[C_NCOLS]; /* numeric columns by index */
  char iso[64];
} ref_row;

static ref_row *g_rows;
static size_t g_nrows;

static gf_time_unit unit_of(const char *s) {
  if (!strcmp(s, "s")) return GF_UNIT_SECOND;
  if (!strcmp(s, "ms")) return GF_UNIT_MILLI;
  if (!strcmp(s, "us")) return GF_UNIT_MICRO;
  return GF_UNIT_NANO;
}

static void load_reference(void) {
  if (g_rows) return;
  const char *base = getenv("GF_TEST_DATA");
  char path[1024];
  snprintf(path, sizeof path, "%s/timezones/tz_reference.tsv", base ? base : "tests/data");
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("cannot open %s", path);
  size_t cap = 8192;
  g_rows = calloc(cap, sizeof *g_rows);
  char line[1024];
  bool header = true;
  while (fgets(line, sizeof line, f)) {
    if (header) {
      header = false;
      continue;
    }
    if (g_nrows == cap) {
      cap *= 2;
      g_rows = realloc(g_rows, cap * sizeof *g_rows);
    }
    ref_row *r = &g_rows[g_nrows];
    memset(r, 0, sizeof *r);
    char *save = NULL, *tok = strtok_r(line, "\t\n", &save);
    for (int c = 0; c < C_NCOLS; c++, tok = strtok_r(NULL, "\t\n", &save)) {
      if (!tok) fail_msg("%s: short line %zu", path, g_nrows + 2);
      if (c == C_ZONE) snprintf(r->zone, sizeof r->zone, "%s", tok);
      else if (c == C_UNIT) r->unit = unit_of(tok);
      else if (c == C_ISO) snprintf(r->iso, sizeof r->iso, "%s", tok);
      else r->v[c] = strtoll(tok, NULL, 10);
    }
    g_nrows++;
  }
  fclose(f);
  if (g_nrows < 5000) fail_msg("%s: only %zu rows", path, g_nrows);
}

/* One (zone, unit) group of reference rows, with a null row (garbage
 * underneath) after every second valid row. */
typedef struct group {
  gf_datatype type;
  size_t first, count; /* reference rows: idx[0..count), idx[0] == first */
  size_t *idx;
  int64_t n;           /* array rows */
  int64_t *ref;        /* array row -> reference row, -1 = null */
} group;

static gf_frame *group_frame(group *g, uint64_t seed) {
  g->n = (int64_t)(g->count + g->count / 2);
  g->ref = malloc(sizeof *g->ref * (size_t)g->n);
  int64_t *vals = calloc((size_t)g->n, sizeof *vals);
  bool *valid = calloc((size_t)g->n, sizeof *valid);
  int64_t k = 0;
  for (size_t i = 0; i < g->count; i++) {
    vals[k] = g_rows[g->idx[i]].v[C_VALUE];
    valid[k] = true;
    g->ref[k++] = (int64_t)g->idx[i];
    if (i % 2 == 1) g->ref[k++] = -1;
  }
  g->n = k;
  gf_array *clean = gft_int64_array(g->type, vals, valid, g->n);
  gf_array *dirty = gft_garbage_array(clean, (int64_t)(seed % 50), seed);
  const char *name = "t";
  gf_frame *f;
  assert_int_equal(gf_frame_from_columns(&name, &dirty, 1, &f, NULL), GF_OK);
  gf_array_release(clean);
  gf_array_release(dirty);
  free(vals);
  free(valid);
  return f;
}

static gf_expr *call1(const char *fn) {
  gf_expr *arg = gf_col("t");
  return gf_call(fn, &arg, 1);
}

static gf_expr *trunc_of(const char *unit) {
  gf_expr *args[2] = {gf_lit_string(unit), gf_col("t")};
  return gf_call("date_trunc", args, 2);
}

#define NOUT 14

/* Checks every output column of one evaluation against the reference. */
static void check_group(const group *g, const gf_frame *out, int workers) {
  static const int cols[] = {C_YEAR, C_MONTH, C_DAY, C_HOUR, C_MINUTE, C_SECOND,
                             C_WEEKDAY, C_DATE32, C_TY, C_TM, C_TD, C_TH};
  int64_t row0 = 0;
  for (int b = 0; b < gf_frame_num_batches(out); b++) {
    int64_t rows = gf_frame_batch_rows(out, b);
    for (int64_t i = 0; i < rows; i++) {
      int64_t ref = g->ref[row0 + i];
      for (int c = 0; c < NOUT; c++) {
        const gf_array *a = gf_frame_column(out, b, c + 1);
        if (ref < 0) {
          if (!gf_array_is_null(a, i))
            fail_msg("%s: row %lld should be null (output %d)", g_rows[g->first].zone,
                     (long long)(row0 + i), c);
          continue;
        }
        const ref_row *r = &g_rows[ref];
        char where[256];
        snprintf(where, sizeof where, "%s value %lld (%s), %d workers, output %d", r->zone,
                 (long long)r->v[C_VALUE], r->iso, workers, c);
        if (gf_array_is_null(a, i)) fail_msg("%s: null", where);
        if (c < 12) {
          int64_t got = gf_array_get_int64(a, i);
          if (got != r->v[cols[c]])
            fail_msg("%s: got %lld, expected %lld", where, (long long)got,
                     (long long)r->v[cols[c]]);
        } else if (c == 12) { /* cast to utf8: ISO text in local time */
          int64_t n;
          const char *s = gf_array_get_bytes(a, i, &n);
          if ((size_t)n != strlen(r->iso) || memcmp(s, r->iso, (size_t)n) != 0)
            fail_msg("%s: text '%.*s'", where, (int)n, s);
        } else { /* cast to another zone: same instant */
          if (gf_array_get_int64(a, i) != r->v[C_VALUE]) fail_msg("%s: instant moved", where);
        }
      }
    }
    row0 += rows;
  }
  assert_int_equal(row0, g->n);
}

static void kernels_match_python_zoneinfo(void **state) {
  (void)state;
  load_reference();
  size_t groups = 0;
  int64_t checked = 0;
  bool *done = calloc(g_nrows, sizeof *done);
  size_t *idx = malloc(g_nrows * sizeof *idx);
  for (size_t start = 0; start < g_nrows; start++) {
    if (done[start]) continue;
    size_t cnt = 0; /* every row of this zone and unit, in file order */
    for (size_t j = start; j < g_nrows; j++)
      if (!done[j] && g_rows[j].unit == g_rows[start].unit &&
          !strcmp(g_rows[j].zone, g_rows[start].zone)) {
        done[j] = true;
        idx[cnt++] = j;
      }
    group g = {zone_type(g_rows[start].unit, g_rows[start].zone), start, cnt, idx, 0, NULL};
    gf_frame *f = group_frame(&g, 1000 + groups);
    gf_datatype other = zone_type(g.type.unit, "Asia/Tokyo");
    for (int c = 0; c < gf_frame_num_batches(f); c++) {
      /* Formatting one value (the printer and CSV share it). */
      const gf_array *col = gf_frame_column(f, c, 0);
      for (int64_t i = 0; i < gf_array_length(col); i++) {
        if (g.ref[i] < 0) continue;
        char buf[80];
        gf_array_format_value(col, i, buf, sizeof buf);
        if (strcmp(buf, g_rows[g.ref[i]].iso) != 0)
          fail_msg("%s: formatted '%s', expected '%s'", g_rows[g.ref[i]].zone, buf,
                   g_rows[g.ref[i]].iso);
      }
    }
    static const int workers[] = {1, 2, 3, 8};
    for (size_t w = 0; w < 4; w++) {
      const char *names[NOUT] = {"year", "month", "day", "hour", "minute", "second",
                                 "weekday", "date", "ty", "tm", "td", "th", "text", "tokyo"};
      gf_expr *ex[NOUT] = {call1("year"), call1("month"), call1("day"), call1("hour"),
                           call1("minute"), call1("second"), call1("weekday"),
                           gf_cast(gf_col("t"), gf_type(GF_TYPE_DATE32)),
                           trunc_of("year"), trunc_of("Month"), trunc_of("day"), trunc_of("hour"),
                           gf_cast(gf_col("t"), gf_type(GF_TYPE_UTF8)),
                           gf_cast(gf_col("t"), other)};
      gf_parallel_options o;
      gf_parallel_options_init(&o);
      o.num_workers = workers[w];
      o.chunk_rows = 7 + (int64_t)w * 5;
      o.min_parallel_rows = 0;
      gf_frame *out = NULL;
      gf_error err;
      gf_error_clear(&err);
      if (gf_with_columns(f, names, ex, NOUT, &o, &out, &err) != GF_OK)
        fail_msg("%s: %s", g_rows[start].zone, err.message);
      assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(out), 9)->type, g.type));
      assert_true(gf_type_equals(gf_schema_field(gf_frame_schema(out), 14)->type, other));
      check_group(&g, out, workers[w]);
      checked += (int64_t)g.count * NOUT;
      gf_frame_release(out);
      for (int k = 0; k < NOUT; k++) gf_expr_release(ex[k]);
    }
    gf_frame_release(f);
    free(g.ref);
    groups++;
  }
  free(done);
  free(idx);
  print_message("%zu zone/unit groups, %lld values checked\n", groups, (long long)checked);
  assert_true(groups >= 60);
  assert_true(gft_garbage_arrays_made() >= 60);
}

/* ---- wiring: C Data, IPC, CSV, printer ------------------------------ */

static gf_frame *small_frame(void) {
  /* 2021-03-14T07:30:00Z = 03:30 EDT (just after spring forward); a null
   * with garbage; 2021-11-07T05:30:00Z = 01:30 EDT, 06:30Z = 01:30 EST. */
  int64_t v[] = {1615707000000, 123456789, 1636263000000, 1636266600000};
  bool valid[] = {true, false, true, true};
  gf_array *clean = gft_int64_array(zone_type(GF_UNIT_MILLI, "US/Eastern"), v, valid, 4);
  gf_array *dirty = gft_garbage_array(clean, 3, 42);
  const char *name = "t";
  gf_frame *f;
  assert_int_equal(gf_frame_from_columns(&name, &dirty, 1, &f, NULL), GF_OK);
  gf_array_release(clean);
  gf_array_release(dirty);
  return f;
}

static void c_data_carries_zone_names(void **state) {
  (void)state;
  gf_datatype t = zone_type(GF_UNIT_MICRO, "US/Eastern");
  struct ArrowSchema s;
  assert_int_equal(gf_type_export(t, "t", true, &s, NULL), GF_OK);
  assert_string_equal(s.format, "tsu:US/Eastern");
  gf_datatype back;
  assert_int_equal(gf_type_import(&s, &back, NULL), GF_OK);
  assert_true(gf_type_equals(t, back));
  const char *saved = s.format;
  s.format = "tsn:Europe/Paris";
  assert_int_equal(gf_type_import(&s, &back, NULL), GF_OK);
  assert_string_equal(gf_type_timezone_name(back), "Europe/Paris");
  assert_int_equal(back.unit, GF_UNIT_NANO);
  gf_error err;
  const char *refused[] = {"tsu:Nowhere/City", "tsu:../../etc/passwd", "tss:+25:00",
                           "tsu:/etc/localtime"};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    s.format = refused[i];
    gf_error_clear(&err);
    assert_int_equal(gf_type_import(&s, &back, &err), GF_EINVAL);
    assert_non_null(strstr(err.message, refused[i] + 4));
  }
  s.format = saved;
  s.release(&s);
  /* A whole frame through the C stream interface. */
  gf_frame *f = small_frame();
  struct ArrowArrayStream st;
  assert_int_equal(gf_frame_export_stream(f, &st, NULL), GF_OK);
  gf_frame *g = NULL;
  assert_int_equal(gf_frame_import_stream(&st, GF_IMPORT_CHECK_FULL, &g, NULL), GF_OK);
  assert_true(gf_frame_equals(f, g));
  assert_string_equal(gf_type_timezone_name(gf_schema_field(gf_frame_schema(g), 0)->type),
                      "US/Eastern");
  gf_frame_release(g);
  gf_frame_release(f);
}

static void ipc_round_trips_zone_names(void **state) {
  (void)state;
  gf_frame *f = small_frame();
  for (int as_file = 0; as_file < 2; as_file++) {
    void *mem;
    size_t len;
    assert_int_equal(gf_write_ipc_memory(f, as_file, NULL, &mem, &len, NULL), GF_OK);
    gf_frame *g = NULL;
    gf_error err;
    gf_error_clear(&err);
    gf_status st = as_file ? gf_read_ipc_file_buffer(mem, len, NULL, &g, &err)
                           : gf_read_ipc_stream_buffer(mem, len, NULL, &g, &err);
    if (st != GF_OK) fail_msg("%s", err.message);
    assert_true(gf_frame_equals(f, g));
    gf_frame_release(g);
    /* The zone name is in the bytes as written. */
    assert_non_null(memmem(mem, len, "US/Eastern", 10));
    gf_mem_free(mem);
  }
  gf_frame_release(f);
}

static void csv_and_printer_show_local_time_with_offset(void **state) {
  (void)state;
  gf_frame *f = small_frame();
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  assert_int_equal(gf_write_csv_stream(f, mem, NULL, NULL), GF_OK);
  fclose(mem);
  assert_string_equal(text, "t\n2021-03-14T03:30:00.000-04:00\n\n"
                            "2021-11-07T01:30:00.000-04:00\n2021-11-07T01:30:00.000-05:00\n");
  free(text);
  char *shown = NULL;
  gf_print_options po;
  gf_print_options_init(&po);
  po.ascii = true;
  assert_int_equal(gf_frame_format(f, &po, &shown, NULL), GF_OK);
  assert_non_null(strstr(shown, "datetime[ms, US/Eastern]"));
  assert_non_null(strstr(shown, "2021-03-14 03:30:00.000 -04:00"));
  assert_non_null(strstr(shown, "2021-11-07 01:30:00.000 -05:00"));
  gf_mem_free(shown);
  gf_frame_release(f);
}

/* A CSV column forced to a named zone: text with an offset is that
 * instant; text without one is wall time in the zone (fold=0). */
static void csv_reads_a_column_forced_to_a_zone(void **state) {
  (void)state;
  const char *csv = "t\n2021-03-14T03:30:00-04:00\n2021-03-14 02:30:00\n"
                    "2021-11-07 01:30:00\n2021-07-01T00:00:00Z\nnull\n";
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  gf_csv_column_type ct[] = {{"t", zone_type(GF_UNIT_SECOND, "America/New_York")}};
  o.column_types = ct;
  o.num_column_types = 1;
  gf_frame *f = NULL;
  gf_error err;
  gf_error_clear(&err);
  if (gf_read_csv_buffer(csv, strlen(csv), "mem", &o, &f, &err) != GF_OK)
    fail_msg("%s", err.message);
  const gf_array *a = gf_frame_column(f, 0, 0);
  assert_true(gf_type_equals(gf_array_type(a), ct[0].type));
  assert_int_equal(gf_array_length(a), 5);
  assert_int_equal(gf_array_get_int64(a, 0), 1615707000);
  assert_int_equal(gf_array_get_int64(a, 1), 1615707000); /* in the gap: as 03:30 EDT */
  assert_int_equal(gf_array_get_int64(a, 2), 1636263000); /* ambiguous: the first, EDT */
  assert_int_equal(gf_array_get_int64(a, 3), 1625097600);
  assert_true(gf_array_is_null(a, 4));
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(named_zone_types_intern_compare_and_print),
      cmocka_unit_test(missing_and_hostile_zone_names_are_refused),
      cmocka_unit_test(tzdir_points_at_another_database),
      cmocka_unit_test(concurrent_interning_agrees),
      cmocka_unit_test(posix_tz_rules_parse_and_apply),
      cmocka_unit_test(corrupt_tzif_files_fail_cleanly),
      cmocka_unit_test(tzif_parse_survives_allocation_failures),
      cmocka_unit_test(unrolled_rule_matches_the_rule),
      cmocka_unit_test(kernels_match_python_zoneinfo),
      cmocka_unit_test(c_data_carries_zone_names),
      cmocka_unit_test(ipc_round_trips_zone_names),
      cmocka_unit_test(csv_and_printer_show_local_time_with_offset),
      cmocka_unit_test(csv_reads_a_column_forced_to_a_zone),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  free(g_rows);
  return rc;
}
