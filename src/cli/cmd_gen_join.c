/*
 * cmd_gen_join.c - `gf gen join`: the db-benchmark join data J1_N_NA_P_0
 * (issue 8) written straight to CSV: the left table and its small, medium
 * and big right-hand tables.
 *
 * For each key size n (n1 = N/1e6, n2 = N/1e3, n3 = N, each at least 1) the
 * numbers 1..n+n/10 are shuffled into a pool and split: the first n - n/10
 * are common to both sides, the next n/10 appear only on the left, the last
 * n/10 only on the right. A column drawing keys of size n over `rows` rows
 * uses every value of its side's set once and fills the remaining rows with
 * values drawn at random from that set, in shuffled order ("sample_all");
 * with rows == n that is a permutation (left id3, small id1, medium id2,
 * big id3). String keys are "id" + the number.
 *
 *   left   J1_<N>_NA_<P>_0.csv       id1,id2,id3 (sizes n1,n2,n3), id4,id5,id6
 *                                    ("id"+id1..id3), v1    N rows
 *   small  J1_<N>_<n1>_<P>_0.csv     id1,id4,v2             n1 rows
 *   medium J1_<N>_<n2>_<P>_0.csv     id1,id2,id4,id5,v2     n2 rows
 *   big    J1_<N>_<n3>_<P>_0.csv     id1,id2,id3,id4,id5,id6,v2   N rows
 *
 * v1, v2: uniform in [0, 100) with 6 decimals. With --na-pct P > 0 each key
 * and each v value of every row is missing (empty field) with probability
 * P/100; a missing integer key makes its string twin missing too.
 *
 * Determinism: every column is drawn from its own splitmix64 stream seeded
 * by (seed, table, column), so the files depend on --rows and --seed only.
 * Each file is written through a temporary file renamed at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_random.h"

#define OUT_BUF (1u << 20)

static const char usage_text[] =
    "Usage: gf gen join --rows N [--na-pct P] [--seed S] [-o DIR|PREFIX]\n\n"
    "Writes the db-benchmark join data: the left table J1_<N>_NA_<P>_0.csv\n"
    "(id1,id2,id3 ints, id4,id5,id6 strings \"id\"+number, v1) and the right\n"
    "tables small (N/1e6 rows: id1,id4,v2), medium (N/1e3 rows:\n"
    "id1,id2,id4,id5,v2) and big (N rows: id1..id6,v2), named\n"
    "J1_<N>_<rows>_<P>_0.csv. Keys of size n: 90% common to both sides, 10%\n"
    "left-only, 10% right-only.\n\n"
    "Options:\n"
    "  -n, --rows N        rows of the left table (10000..2e9, may be written 1e7)\n"
    "      --na-pct P      percent of missing keys and values (0..100, default 0)\n"
    "      --seed S        random seed (default 108); the same seed gives the same files\n"
    "  -o, --output D|P    directory (existing, or ending in '/') for the files, or a\n"
    "                      prefix put before their names (default: current directory)\n";

/* ---- random numbers ----------------------------------------------------- */

/* cli_next64 and cli_below (splitmix64): cli_random.h. */

/* The stream of column `col` of table `table`. */
static uint64_t jstream(uint64_t seed, int table, int col) {
  uint64_t s = seed * 0x100000001B3ull + (uint64_t)table * 1000003u + (uint64_t)col * 7919u + 1;
  cli_next64(&s);
  return s;
}

/* Fisher-Yates shuffle of v[0..n). */
static void shuffle(uint32_t *v, int64_t n, uint64_t *s) {
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)cli_below(s, (uint64_t)i + 1);
    uint32_t t = v[i];
    v[i] = v[j];
    v[j] = t;
  }
}

/* One key size: the shuffled pool 1..n+n/10 and the two sides' sets. */
typedef struct keyset {
  int64_t n;       /* values per side */
  uint32_t *left;  /* common then left-only (n values) */
  uint32_t *right; /* common then right-only (n values) */
} keyset;

/* Makes the pool for size n; false when out of memory. */
static bool keyset_make(keyset *k, int64_t n, uint64_t seed, int which) {
  int64_t extra = n / 10, pool = n + extra, common = n - extra;
  k->n = n;
  k->left = malloc((size_t)n * sizeof(uint32_t));
  k->right = malloc((size_t)n * sizeof(uint32_t));
  uint32_t *p = malloc((size_t)pool * sizeof(uint32_t));
  if (!k->left || !k->right || !p) {
    free(p);
    return false;
  }
  for (int64_t i = 0; i < pool; i++) p[i] = (uint32_t)(i + 1);
  uint64_t s = jstream(seed, 100 + which, 0);
  shuffle(p, pool, &s);
  memcpy(k->left, p, (size_t)n * sizeof(uint32_t));
  memcpy(k->right, p, (size_t)common * sizeof(uint32_t));
  memcpy(k->right + common, p + n, (size_t)extra * sizeof(uint32_t));
  free(p);
  return true;
}

static void keyset_free(keyset *k) {
  free(k->left);
  free(k->right);
  k->left = k->right = NULL;
}

/* `rows` keys using every value of set[0..n) once, the rest drawn from the
 * set, shuffled (db-benchmark's sample_all). NULL when out of memory. */
static uint32_t *sample_all(const uint32_t *set, int64_t n, int64_t rows, uint64_t *s) {
  uint32_t *v = malloc((size_t)rows * sizeof(uint32_t));
  if (!v) return NULL;
  int64_t k = n < rows ? n : rows;
  memcpy(v, set, (size_t)k * sizeof(uint32_t));
  for (int64_t i = k; i < rows; i++) v[i] = set[cli_below(s, (uint64_t)n)];
  shuffle(v, rows, s);
  return v;
}

/* ---- writing ------------------------------------------------------------ */

typedef struct writer {
  gf_output_file *file;
  char *buf;
  size_t len;
  gf_status st;
  gf_error err;
} writer;

static void w_flush(writer *w) {
  if (w->st == GF_OK && w->len)
    w->st = gf_output_file_write(w->file, w->buf, w->len, &w->err);
  w->len = 0;
}

/* A value in [0, 100) with 6 decimals, trailing zeros dropped (one kept). */
static char *put_value(char *p, uint32_t micro) {
  p = cli_put_u64(p, micro / 1000000u);
  *p++ = '.';
  uint32_t f = micro % 1000000u;
  char d[6];
  for (int i = 5; i >= 0; i--, f /= 10) d[i] = (char)('0' + f % 10);
  int last = 0;
  for (int i = 0; i < 6; i++)
    if (d[i] != '0') last = i;
  for (int i = 0; i <= last; i++) *p++ = d[i];
  return p;
}

/* The columns of one table: up to three int keys (with string twins). */
typedef struct table_spec {
  const char *header;
  int nkeys;
  const uint32_t *keys[3];
  int64_t rows;
  int vtable; /* stream id of the v column and the missing flags */
} table_spec;

/* Writes one table to `path`; returns the exit code. */
static int write_table(const table_spec *t, const char *path, uint64_t seed, int na_pct) {
  writer w;
  memset(&w, 0, sizeof w);
  gf_error_clear(&w.err);
  w.buf = malloc(OUT_BUF);
  if (!w.buf) {
    cli_error("gen: out of memory");
    return CLI_EXIT_FAILURE;
  }
  w.st = gf_output_file_open(path, NULL, &w.file, &w.err);
  if (w.st != GF_OK) {
    free(w.buf);
    return cli_fail("gen", w.st, &w.err);
  }
  size_t hl = strlen(t->header);
  memcpy(w.buf, t->header, hl);
  w.len = hl;
  uint64_t vs = jstream(seed, t->vtable, 9), ns = jstream(seed, t->vtable, 10);
  /* Missing-value threshold on 32 random bits. */
  uint64_t na_cut = (uint64_t)na_pct * 0x100000000ull / 100u;
  for (int64_t r = 0; r < t->rows && w.st == GF_OK; r++) {
    if (w.len + 128 > OUT_BUF) w_flush(&w);
    char *p = w.buf + w.len;
    bool miss[4] = {false, false, false, false};
    if (na_pct > 0)
      for (int j = 0; j <= t->nkeys; j++) miss[j] = (cli_next64(&ns) >> 32) < na_cut;
    for (int j = 0; j < t->nkeys; j++) {
      if (!miss[j]) p = cli_put_u64(p, t->keys[j][r]);
      *p++ = ',';
    }
    for (int j = 0; j < t->nkeys; j++) {
      if (!miss[j]) {
        *p++ = 'i';
        *p++ = 'd';
        p = cli_put_u64(p, t->keys[j][r]);
      }
      *p++ = ',';
    }
    uint32_t micro = (uint32_t)cli_below(&vs, 100000000u);
    if (!miss[t->nkeys]) p = put_value(p, micro);
    *p++ = '\n';
    w.len = (size_t)(p - w.buf);
  }
  w_flush(&w);
  free(w.buf);
  if (w.st == GF_OK) {
    w.st = gf_output_file_commit(w.file, &w.err); /* frees the file either way */
  } else {
    gf_output_file_abort(w.file);
  }
  if (w.st != GF_OK) return cli_fail("gen", w.st, &w.err);
  return CLI_EXIT_OK;
}

/* db-benchmark's pretty_sci: 10000000 -> "1e7", 1 -> "1e0", 12345 -> "12345"
 * (the peers find the right tables by these names). */
static void sci_label(int64_t v, char *buf, size_t size) {
  int e = 0;
  int64_t m = v;
  while (m >= 10 && m % 10 == 0) {
    m /= 10;
    e++;
  }
  if (m == 1 || (m < 10 && e > 0))
    snprintf(buf, size, "%llde%d", (long long)m, e);
  else
    snprintf(buf, size, "%lld", (long long)v);
}

/* Parses --rows: digits, or a mantissa with an e exponent ("1e7", "2.5e6"). */
static bool parse_rows(const char *text, int64_t *out) {
  char *end = NULL;
  errno = 0;
  /* Only digits, one '.', and 'e' with digits: strtod is locale-dependent
   * for '.', so parse by hand. */
  int64_t mant = 0;
  int frac = 0, exp10 = 0;
  bool dot = false, any = false;
  const char *p = text;
  for (; *p && *p != 'e' && *p != 'E'; p++) {
    if (*p == '.' && !dot) {
      dot = true;
      continue;
    }
    if (*p < '0' || *p > '9' || mant > 100000000000ll) return false;
    mant = mant * 10 + (*p - '0');
    any = true;
    if (dot) frac++;
  }
  if (!any) return false;
  if (*p) {
    p++;
    if (!*p) return false;
    long e = strtol(p, &end, 10);
    if (*end || e < 0 || e > 12) return false;
    exp10 = (int)e;
  }
  if (exp10 < frac) return false;
  for (int i = frac; i < exp10; i++) {
    if (mant > 100000000000ll) return false;
    mant *= 10;
  }
  *out = mant;
  return true;
}

/* `gf gen join ...`; argv[0] is "join". Returns the exit code. */
int cli_gen_join(int argc, char **argv) {
  static const struct option longopts[] = {{"rows", required_argument, NULL, 'n'},
                                           {"na-pct", required_argument, NULL, 'p'},
                                           {"seed", required_argument, NULL, 's'},
                                           {"output", required_argument, NULL, 'o'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int64_t rows = -1, na = 0, seed = 108;
  const char *out = NULL;
  optind = 1;
  opterr = 0;
  int opt;
  while ((opt = getopt_long(argc, argv, ":n:o:h", longopts, NULL)) != -1) {
    switch (opt) {
      case 'n':
        if (!parse_rows(optarg, &rows) || rows < 10000 || rows > 2000000000ll)
          return cli_usage_error("gen", "--rows expects a whole number in 10000..2e9 such as 1e7, "
                                        "got '%s'",
                                 optarg);
        break;
      case 'p':
        if (!cli_parse_int64("gen", "--na-pct", optarg, 0, 100, &na)) return CLI_EXIT_USAGE;
        break;
      case 's':
        if (!cli_parse_int64("gen", "--seed", optarg, 0, INT64_MAX, &seed)) return CLI_EXIT_USAGE;
        break;
      case 'o': out = optarg; break;
      case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
      case ':': return cli_usage_error("gen", "option '%s' needs a value", argv[optind - 1]);
      default: return cli_usage_error("gen", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind != argc) return cli_usage_error("gen", "unexpected argument '%s'", argv[optind]);
  if (rows < 0) return cli_usage_error("gen", "join needs --rows N");

  /* Output names: DIR/J1_... or PREFIXJ1_... */
  char prefix[4096] = "";
  if (out && *out) {
    struct stat sb;
    size_t ol = strlen(out);
    bool is_dir = out[ol - 1] == '/' || (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode));
    if (ol > 4000) return cli_usage_error("gen", "--output is too long");
    snprintf(prefix, sizeof prefix, "%s%s", out, is_dir && out[ol - 1] != '/' ? "/" : "");
  }
  int64_t sizes[3] = {rows / 1000000, rows / 1000, rows};
  for (int i = 0; i < 3; i++)
    if (sizes[i] < 1) sizes[i] = 1;
  char nlab[32], lab[3][32], paths[4][4200];
  sci_label(rows, nlab, sizeof nlab);
  for (int i = 0; i < 3; i++) sci_label(sizes[i], lab[i], sizeof lab[i]);
  snprintf(paths[0], sizeof paths[0], "%sJ1_%s_NA_%d_0.csv", prefix, nlab, (int)na);
  for (int i = 0; i < 3; i++)
    snprintf(paths[i + 1], sizeof paths[i + 1], "%sJ1_%s_%s_%d_0.csv", prefix, nlab, lab[i],
             (int)na);

  keyset ks[3];
  memset(ks, 0, sizeof ks);
  uint32_t *cols[3] = {NULL, NULL, NULL};
  int rc = CLI_EXIT_OK;
  for (int i = 0; i < 3; i++)
    if (!keyset_make(&ks[i], sizes[i], (uint64_t)seed, i)) goto oom;

  /* One table at a time, keeping at most three key columns in memory. */
  for (int t = 0; t < 4 && rc == CLI_EXIT_OK; t++) {
    static const char *const headers[4] = {
        "id1,id2,id3,id4,id5,id6,v1\n", "id1,id4,v2\n", "id1,id2,id4,id5,v2\n",
        "id1,id2,id3,id4,id5,id6,v2\n"};
    static const int nkeys[4] = {3, 1, 2, 3};
    int64_t trows = t == 0 ? rows : sizes[t - 1];
    table_spec spec = {headers[t], nkeys[t], {NULL, NULL, NULL}, trows, t};
    for (int j = 0; j < nkeys[t]; j++) {
      uint64_t s = jstream((uint64_t)seed, t, j);
      const keyset *k = &ks[j];
      cols[j] = sample_all(t == 0 ? k->left : k->right, k->n, trows, &s);
      if (!cols[j]) goto oom;
      spec.keys[j] = cols[j];
    }
    rc = write_table(&spec, paths[t], (uint64_t)seed, (int)na);
    for (int j = 0; j < 3; j++) {
      free(cols[j]);
      cols[j] = NULL;
    }
  }
  for (int i = 0; i < 3; i++) keyset_free(&ks[i]);
  if (rc == CLI_EXIT_OK)
    for (int t = 0; t < 4; t++) printf("%s\n", paths[t]);
  return rc;
oom:
  for (int j = 0; j < 3; j++) free(cols[j]);
  for (int i = 0; i < 3; i++) keyset_free(&ks[i]);
  cli_error("gen: out of memory for join data of %lld rows", (long long)rows);
  return CLI_EXIT_FAILURE;
}
