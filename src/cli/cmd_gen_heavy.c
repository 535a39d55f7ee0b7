/*
 * cmd_gen_heavy.c - `gf gen strings` and `gf gen floats`: the string-heavy
 * and float-heavy CSV files of issue 18 item 4, for the CSV reader's
 * benchmarks (bench/csv_heavy.sh).
 *
 * strings: columns s0..s9, each value 5..40 bytes (uniform) of [a-z0-9]
 *   (no quoting needed), all distinct in practice (no dictionary wins).
 * floats: columns f0..f9 of float64 text in three styles, because the
 *   parser's paths differ: f0..f3 fixed with 6 decimals in [0, 1e6)
 *   ("%.6f", db-benchmark's v3 style, short mantissas); f4..f7 the 17
 *   significant digits that round-trip any double ("%.17g") of values
 *   spread over 1e-10..1e10; f8..f9 scientific "%.15e" with exponents over
 *   the whole double range (1e-300..1e300), signs mixed.
 *
 * Row r's values come from a splitmix64 stream seeded by (seed, r): the
 * file depends on the seed and the row count alone. Written sequentially
 * to a temporary file renamed over the target when complete (a failed run
 * leaves no partial file). The C locale is the process's (gf never calls
 * setlocale), so the decimal point is '.'.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_random.h"

#define HEAVY_COLS 10

static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";

/* Uniform double in [0, 1) from 53 random bits. */
static double unit(uint64_t *s) { return (double)(cli_next64(s) >> 11) * 0x1.0p-53; }

/* Appends row r of the strings file to p; returns the new end. */
static char *string_row(char *p, uint64_t seed, int64_t r) {
  uint64_t s = cli_mix64(seed ^ cli_mix64((uint64_t)r + 1));
  for (int c = 0; c < HEAVY_COLS; c++) {
    if (c) *p++ = ',';
    int len = 5 + (int)cli_below(&s, 36);
    uint64_t bits = 0;
    for (int i = 0; i < len; i++) {
      if (i % 10 == 0) bits = cli_next64(&s);
      *p++ = alnum[(bits & 63) % 36];
      bits >>= 6;
    }
  }
  *p++ = '\n';
  return p;
}

/* Appends row r of the floats file to p; returns the new end. */
static char *float_row(char *p, uint64_t seed, int64_t r) {
  uint64_t s = cli_mix64(seed ^ cli_mix64((uint64_t)r + 1));
  for (int c = 0; c < HEAVY_COLS; c++) {
    if (c) *p++ = ',';
    double u = unit(&s);
    int n;
    if (c < 4) {
      n = sprintf(p, "%.6f", u * 1e6);
    } else if (c < 8) {
      n = sprintf(p, "%.17g", u * pow(10.0, (double)((int)cli_below(&s, 21) - 10)));
    } else {
      double x = (0.5 + u) * pow(10.0, (double)((int)cli_below(&s, 601) - 300));
      if (cli_next64(&s) & 1) x = -x;
      n = sprintf(p, "%.15e", x);
    }
    p += n;
  }
  *p++ = '\n';
  return p;
}

/* Writes the file; returns a CLI exit code. */
static int generate(bool strings, int64_t rows, uint64_t seed, const char *path) {
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  char *buf = malloc((size_t)1 << 20);
  if (!tmp || !buf) {
    free(tmp);
    free(buf);
    cli_error("gen: out of memory");
    return CLI_EXIT_FAILURE;
  }
  snprintf(tmp, plen + 16, "%s.tmp%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    cli_error("gen: %s: %s", tmp, strerror(errno));
    free(tmp);
    free(buf);
    return CLI_EXIT_FAILURE;
  }
  bool ok = true;
  char *p = buf;
  for (int c = 0; c < HEAVY_COLS; c++)
    p += sprintf(p, "%s%c%d", c ? "," : "", strings ? 's' : 'f', c);
  *p++ = '\n';
  for (int64_t r = 0; r < rows && ok; r++) {
    p = strings ? string_row(p, seed, r) : float_row(p, seed, r);
    if ((size_t)(p - buf) > ((size_t)1 << 20) - 1024) {
      ok = fwrite(buf, 1, (size_t)(p - buf), f) == (size_t)(p - buf);
      p = buf;
    }
  }
  if (ok && p > buf) ok = fwrite(buf, 1, (size_t)(p - buf), f) == (size_t)(p - buf);
  int e = ok ? 0 : errno;
  if (fclose(f) != 0 && ok) {
    ok = false;
    e = errno;
  }
  if (ok && rename(tmp, path) != 0) {
    ok = false;
    e = errno;
  }
  if (!ok) {
    cli_error("gen: writing %s: %s", path, strerror(e));
    unlink(tmp);
  }
  free(tmp);
  free(buf);
  return ok ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

/* `gf gen strings|floats --rows N [--seed S] [-o FILE]`; argv[0] is the
 * data set name. */
int cli_gen_heavy(int argc, char **argv) {
  bool strings = strcmp(argv[0], "strings") == 0;
  static const struct option longopts[] = {{"rows", required_argument, NULL, 'n'},
                                           {"seed", required_argument, NULL, 'S'},
                                           {"output", required_argument, NULL, 'o'},
                                           {NULL, 0, NULL, 0}};
  int64_t rows = -1, seed = 108;
  const char *path = NULL;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "n:o:", longopts, NULL)) != -1) {
    switch (opt) {
      case 'n': {
        /* N or MeE (1e7): the mantissa and exponent as integers. */
        char mant[32];
        const char *e = strchr(optarg, 'e');
        size_t ml = e ? (size_t)(e - optarg) : strlen(optarg);
        if (ml == 0 || ml >= sizeof mant)
          return cli_usage_error("gen", "--rows: '%s' is not a row count", optarg);
        memcpy(mant, optarg, ml);
        mant[ml] = 0;
        int64_t m, x = 0;
        if (!cli_parse_int64("gen", "--rows", mant, 0, INT32_MAX, &m) ||
            (e && !cli_parse_int64("gen", "--rows", e + 1, 0, 9, &x)))
          return CLI_EXIT_USAGE;
        rows = m;
        while (x-- > 0) rows *= 10;
        break;
      }
      case 'S':
        if (!cli_parse_int64("gen", "--seed", optarg, 0, INT64_MAX, &seed)) return CLI_EXIT_USAGE;
        break;
      case 'o': path = optarg; break;
      default: return cli_usage_error("gen", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind != argc) return cli_usage_error("gen", "unexpected argument '%s'", argv[optind]);
  if (rows < 0) return cli_usage_error("gen", "%s: --rows N is required", argv[0]);
  char name[64];
  if (!path) {
    snprintf(name, sizeof name, "%s_%lld.csv", strings ? "S1" : "F1", (long long)rows);
    path = name;
  }
  return generate(strings, rows, (uint64_t)seed, path);
}
