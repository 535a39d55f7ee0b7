/*
 * bench_views: what importing a Utf8View column costs (issue 16, item 2).
 * GopherFrame holds no view type: a Utf8View array handed over through the
 * C Data interface is validated and its string bytes copied once into a
 * utf8 array. This driver measures that import against the floor it cannot
 * beat (a memcpy of the same string bytes) and against the zero-copy import
 * of the same values as plain utf8.
 *
 * Data (built in memory, deterministic), N rows (default 1e7), 3% null
 * (null slots hold garbage views), in one array:
 *   short  every string 5..12 bytes: all inline in the views (ids, codes)
 *   long   every string 13..44 bytes: all out of line, in 4 data buffers
 *   mixed  half and half
 *
 * Cases, per data set (R runs each, interleaved):
 *   view_import_<set>      gf_array_import of the Utf8View array (validation:
 *                          lengths, buffer bounds, prefixes, UTF-8; copy into
 *                          offsets + bytes), GF_IMPORT_CHECK_LAYOUT
 *   bytes_copy_<set>       memcpy of the string bytes alone into a fresh
 *                          (not pre-faulted) block: the copy's floor
 *   utf8_import_<set>      gf_array_import of the same values as utf8, zero
 *                          copy, GF_IMPORT_CHECK_FULL (UTF-8 checked too, so
 *                          the validation work is comparable)
 *   view_export_<set>      gf_array_export_with GF_EXPORT_STRING_VIEWS of the
 *                          imported utf8 array (the views are built)
 *
 * Output: one JSON line per case (bench_common.h) and a summary on stderr.
 * Usage: bench_views [--rows N] [--runs R]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

#define NDATA 4

static uint64_t next_rand(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ULL;
}

/* One data set in both layouts. */
typedef struct dataset {
  const char *name;
  int64_t n;
  uint8_t *validity;
  uint8_t *views;            /* n * 16 */
  uint8_t *data[NDATA];      /* out-of-line strings */
  int64_t sizes[NDATA];
  int32_t *offsets;          /* the same values as utf8 */
  uint8_t *bytes;
  int64_t total;             /* string bytes of non-null rows */
} dataset;

/* Fills one string of length len from the generator (ASCII, with a 2-byte
 * UTF-8 character now and then). */
static void fill_string(uint8_t *p, int len, uint64_t *s) {
  for (int i = 0; i < len; i++) p[i] = (uint8_t)('a' + next_rand(s) % 26);
  if (len >= 6 && next_rand(s) % 8 == 0) {
    p[3] = 0xC3;
    p[4] = 0xA9;
  }
}

static void build(dataset *d, const char *name, int64_t n, int mode) {
  memset(d, 0, sizeof *d);
  d->name = name;
  d->n = n;
  d->validity = calloc((size_t)(n / 8 + 1), 1);
  d->views = calloc((size_t)n, 16);
  d->offsets = calloc((size_t)n + 1, 4);
  int64_t cap = n * 45 / NDATA + 64;
  for (int k = 0; k < NDATA; k++) d->data[k] = malloc((size_t)cap);
  d->bytes = malloc((size_t)(n * 45 + 64));
  if (!d->validity || !d->views || !d->offsets || !d->bytes) {
    fprintf(stderr, "bench_views: out of memory\n");
    exit(1);
  }
  uint64_t s = 0x9E3779B97F4A7C15ULL ^ (uint64_t)mode;
  int64_t pos = 0;
  for (int64_t i = 0; i < n; i++) {
    uint8_t *v = d->views + i * 16;
    if (next_rand(&s) % 100 < 3) {
      memset(v, 0xAB, 16); /* garbage under a null */
      d->offsets[i + 1] = (int32_t)pos;
      continue;
    }
    d->validity[i / 8] |= (uint8_t)(1u << (i % 8));
    bool lng = mode == 1 || (mode == 2 && (next_rand(&s) & 1));
    int32_t len = lng ? 13 + (int32_t)(next_rand(&s) % 32) : 5 + (int32_t)(next_rand(&s) % 8);
    uint8_t *dst = d->bytes + pos;
    fill_string(dst, len, &s);
    memcpy(v, &len, 4);
    if (len <= 12) {
      memcpy(v + 4, dst, (size_t)len);
    } else {
      int32_t k = (int32_t)(i % NDATA), off = (int32_t)d->sizes[k];
      memcpy(d->data[k] + off, dst, (size_t)len);
      d->sizes[k] += len;
      memcpy(v + 4, dst, 4);
      memcpy(v + 8, &k, 4);
      memcpy(v + 12, &off, 4);
    }
    pos += len;
    d->offsets[i + 1] = (int32_t)pos;
  }
  d->total = pos;
}

static void no_release(struct ArrowArray *a) { a->release = NULL; }
static void no_release_schema(struct ArrowSchema *s) { s->release = NULL; }

/* A fresh ArrowArray over the dataset's view buffers (not owned). */
static void view_array(const dataset *d, struct ArrowArray *a, const void **ptrs) {
  memset(a, 0, sizeof *a);
  ptrs[0] = d->validity;
  ptrs[1] = d->views;
  for (int k = 0; k < NDATA; k++) ptrs[2 + k] = d->data[k];
  ptrs[2 + NDATA] = d->sizes;
  a->length = d->n;
  a->null_count = -1;
  a->n_buffers = 3 + NDATA;
  a->buffers = ptrs;
  a->release = no_release;
}

static void utf8_array(const dataset *d, struct ArrowArray *a, const void **ptrs) {
  memset(a, 0, sizeof *a);
  ptrs[0] = d->validity;
  ptrs[1] = d->offsets;
  ptrs[2] = d->bytes;
  a->length = d->n;
  a->null_count = -1;
  a->n_buffers = 3;
  a->buffers = ptrs;
  a->release = no_release;
}

static struct ArrowSchema schema_of(const char *format) {
  struct ArrowSchema s;
  memset(&s, 0, sizeof s);
  s.format = format;
  s.name = "s";
  s.flags = ARROW_FLAG_NULLABLE;
  s.release = no_release_schema;
  return s;
}

enum { C_VIEW, C_COPY, C_UTF8, C_EXPORT, NCASES };
static const char *const CASE[NCASES] = {"view_import", "bytes_copy", "utf8_import",
                                         "view_export"};

/* Runs case c once on d; returns seconds; *check receives a checksum (the
 * string bytes seen). */
static double run_case(int c, const dataset *d, double *check) {
  gf_error err;
  const void *ptrs[3 + NDATA];
  struct ArrowArray a;
  struct ArrowSchema s;
  gf_array *out = NULL;
  int64_t t0 = 0, t1 = 0;
  *check = 0;
  switch (c) {
    case C_VIEW:
      view_array(d, &a, ptrs);
      s = schema_of("vu");
      t0 = bench_now_ns();
      bench_check(gf_array_import(&a, &s, GF_IMPORT_CHECK_LAYOUT, &out, &err), &err,
                  "view import");
      t1 = bench_now_ns();
      *check = (double)(((const int32_t *)gf_array_buffer(out, 1))[d->n]);
      gf_array_release(out);
      break;
    case C_COPY: {
      t0 = bench_now_ns();
      uint8_t *dst = malloc((size_t)d->total + 1);
      if (!dst) exit(1);
      memcpy(dst, d->bytes, (size_t)d->total);
      t1 = bench_now_ns();
      /* Read the copy back (untimed) so the compiler keeps it. */
      uint64_t sum = 0;
      for (int64_t k = 0; k < d->total; k += 4096) sum += dst[k];
      *check = (double)d->total + (double)(sum & 1) * 0.0;
      volatile uint64_t sink = sum;
      (void)sink;
      free(dst);
      break;
    }
    case C_UTF8:
      utf8_array(d, &a, ptrs);
      s = schema_of("u");
      t0 = bench_now_ns();
      bench_check(gf_array_import(&a, &s, GF_IMPORT_CHECK_FULL, &out, &err), &err,
                  "utf8 import");
      t1 = bench_now_ns();
      *check = (double)d->offsets[d->n];
      gf_array_release(out);
      break;
    case C_EXPORT: {
      utf8_array(d, &a, ptrs);
      s = schema_of("u");
      bench_check(gf_array_import(&a, &s, GF_IMPORT_CHECK_LAYOUT, &out, &err), &err,
                  "utf8 import");
      gf_cdata_export_options o;
      gf_cdata_export_options_init(&o);
      o.flags = GF_EXPORT_STRING_VIEWS;
      struct ArrowArray ea;
      struct ArrowSchema es;
      t0 = bench_now_ns();
      bench_check(gf_array_export_with(out, &o, &ea, &es, &err), &err, "view export");
      t1 = bench_now_ns();
      *check = (double)d->total;
      ea.release(&ea);
      es.release(&es);
      gf_array_release(out);
      break;
    }
  }
  return (double)(t1 - t0) / 1e9;
}

int main(int argc, char **argv) {
  int64_t rows = 10000000;
  int runs = 5;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--rows") && i + 1 < argc) rows = bench_parse_count("--rows", argv[++i]);
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = (int)bench_parse_count("--runs", argv[++i]);
    else {
      fprintf(stderr, "usage: bench_views [--rows N] [--runs R]\n");
      return 2;
    }
  }
  if (runs < 1 || runs > BENCH_MAX_RUNS) runs = 5;
  static const char *const SETS[3] = {"short", "long", "mixed"};
  fprintf(stderr, "%-20s %10s %10s %10s %12s\n", "case", "median_s", "min_s", "MB", "MB/s");
  for (int si = 0; si < 3; si++) {
    dataset d;
    build(&d, SETS[si], rows, si);
    double secs[NCASES][BENCH_MAX_RUNS], cpu[NCASES][BENCH_MAX_RUNS], check[NCASES];
    for (int r = 0; r < runs; r++)
      for (int c = 0; c < NCASES; c++) {
        double c0 = bench_cpu_s();
        secs[c][r] = run_case(c, &d, &check[c]);
        cpu[c][r] = bench_cpu_s() - c0;
        if (r == 0 && c == 0) bench_mark_first_run();
      }
    for (int c = 0; c < NCASES; c++) {
      char name[64], data[64];
      snprintf(name, sizeof name, "%s_%s", CASE[c], SETS[si]);
      snprintf(data, sizeof data, "views_%s", SETS[si]);
      bench_result res;
      bench_result_init(&res, name, data, rows, 1);
      bench_result_times(&res, secs[c], cpu[c], runs);
      res.rows = rows;
      res.checksum[res.nchecksum++] = check[c];
      double mb = (double)d.total / 1e6;
      bench_result_extra(&res, "string_mb", mb);
      bench_result_extra(&res, "mb_s", mb / res.median_s);
      bench_result_print(&res);
      fprintf(stderr, "%-20s %10.4f %10.4f %10.1f %12.1f\n", name, res.median_s, res.min_s, mb,
              mb / res.median_s);
    }
    free(d.validity);
    free(d.views);
    free(d.offsets);
    free(d.bytes);
    for (int k = 0; k < NDATA; k++) free(d.data[k]);
  }
  return 0;
}
