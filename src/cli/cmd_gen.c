/*
 * cmd_gen.c - `gf gen groupby`: the db-benchmark group-by data
 * G1_N_K_NA_SORT (docs/DESIGN.md, "Benchmarks") written straight to CSV.
 *
 * Columns: id1, id2 "id001".. (K levels); id3 "id0000000001".. (N/K levels);
 * id4, id5 ints 1..K; id6 int 1..N/K; v1 int 1..5; v2 int 1..15; v3 double
 * uniform in [0, 100) with 6 decimals. With --na-pct P, P% of the levels of
 * each id column are missing (whole groups) and exactly floor(N*P/100) rows
 * of each v column; --sort orders rows by id1..id6 (missing first, strings
 * in byte order, as data.table's setkey).
 *
 * Determinism: row r's values come from a splitmix64 stream seeded by
 * (seed, r), and the missing v values of each 65,536-row block from a
 * stream seeded by (seed, column, block) with a fixed quota per block, so
 * the file depends on the seed alone, never on threads or chunking.
 * Rows are formatted in parallel chunks and written in order to a
 * temporary file renamed over the target at the end.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_random.h"

#define GEN_BLOCK 65536
#define ROW_ROOM 128 /* bytes one row may need */

static const char usage[] =
    "Usage: gf gen groupby --rows N [OPTIONS] [-o FILE]\n"
    "       gf gen join --rows N [--na-pct P] [--seed S] [-o DIR|PREFIX]\n"
    "       gf gen strings|floats --rows N [--seed S] [-o FILE]\n"
    "         (10 columns of 5-40-byte strings / of float64 text, default S1_N.csv / F1_N.csv)\n\n"
    "Writes the db-benchmark group-by data set G1_N_K_NA_SORT as CSV:\n"
    "id1,id2 (K string levels), id3 (N/K string levels), id4,id5 (ints 1..K),\n"
    "id6 (int 1..N/K), v1 (1..5), v2 (1..15), v3 (uniform [0,100), 6 decimals).\n\n"
    "Options:\n"
    "  -n, --rows N        rows (N, may be written 1e7)\n"
    "  -k, --k K           levels of id1, id2, id4, id5 (default 100)\n"
    "      --na-pct P      percent of id levels and of v values missing (0..100, default 0)\n"
    "      --sort          sort rows by id1..id6\n"
    "      --seed S        random seed (default 108); the same seed gives the same file\n"
    "  -o, --output FILE   output (default G1_<N>_<K>_<P>_<0|1>.csv, e.g. G1_1e7_1e2_0_0.csv)\n"
    "      --threads N     worker threads (default: all usable CPUs)\n";

/* ---- random numbers ----------------------------------------------------- */

/* cli_mix64, cli_next64 and cli_below: cli_random.h. */

/* ---- the generator ------------------------------------------------------ */

typedef struct gen {
  int64_t rows, k, nk; /* nk = levels of id3/id6 = rows / k */
  int na_pct;
  bool sort;
  uint64_t seed;
  int64_t v_missing;  /* missing values per v column */
  uint8_t *missing[6]; /* per id column: level -> missing (index 1..levels), or NULL */
  /* sort mode */
  struct gen_row *sorted;
  uint32_t *rank_to_level; /* id1/id2 byte order when K > 999, else NULL */
  uint32_t *level_to_rank;
  int bits_k, bits_nk;
} gen;

/* One row's values; 0 marks a missing id or v1/v2, -1 a missing v3. */
typedef struct row_vals {
  uint32_t id[6];
  uint8_t v1, v2;
  int32_t v3; /* micro-units: v3 * 1e6 */
} row_vals;

/* Sort-mode record: id1..id6 packed (rank order) into two words. */
typedef struct gen_row {
  uint64_t hi, lo;
  int32_t v3;
  uint8_t v1, v2;
} gen_row;

/* Where a generating pass is: the row, and the per-block stream deciding
 * which v values are missing. */
typedef struct cursor {
  int64_t row, block_end;
  uint64_t stream[3];
  int64_t need[3], left;
} cursor;

/* Starts the block holding `row`, then skips to `row`. */
static void cursor_seek(const gen *g, cursor *c, int64_t row) {
  int64_t block = row / GEN_BLOCK, start = block * GEN_BLOCK;
  int64_t end = start + GEN_BLOCK < g->rows ? start + GEN_BLOCK : g->rows;
  c->block_end = end;
  c->left = end - start;
  for (int j = 0; j < 3; j++) {
    /* This block's share of the column's missing values, so that the
     * shares add up to exactly v_missing. */
    int64_t before = (int64_t)((__int128)g->v_missing * start / g->rows);
    int64_t upto = (int64_t)((__int128)g->v_missing * end / g->rows);
    c->need[j] = upto - before;
    c->stream[j] = cli_mix64(g->seed ^ cli_mix64(0x5EED0000ull + (uint64_t)j) ^ cli_mix64((uint64_t)block + 1));
  }
  c->row = start;
  while (c->row < row) {
    for (int j = 0; j < 3; j++)
      if (c->need[j] > 0 && (int64_t)cli_below(&c->stream[j], (uint64_t)c->left) < c->need[j])
        c->need[j]--;
    c->left--;
    c->row++;
  }
}

/* Generates the cursor's row and moves to the next. */
static void cursor_next(const gen *g, cursor *c, row_vals *v) {
  if (c->row >= c->block_end) cursor_seek(g, c, c->row);
  uint64_t s = cli_mix64(g->seed * 0xD1B54A32D192ED03ull ^ cli_mix64((uint64_t)c->row));
  const uint64_t levels[6] = {(uint64_t)g->k, (uint64_t)g->k, (uint64_t)g->nk,
                              (uint64_t)g->k, (uint64_t)g->k, (uint64_t)g->nk};
  for (int j = 0; j < 6; j++) {
    uint32_t level = (uint32_t)(1 + cli_below(&s, levels[j]));
    v->id[j] = g->missing[j] && g->missing[j][level] ? 0 : level;
  }
  v->v1 = (uint8_t)(1 + cli_below(&s, 5));
  v->v2 = (uint8_t)(1 + cli_below(&s, 15));
  v->v3 = (int32_t)cli_below(&s, 100000000);
  bool miss[3];
  for (int j = 0; j < 3; j++) {
    miss[j] = c->need[j] > 0 && (int64_t)cli_below(&c->stream[j], (uint64_t)c->left) < c->need[j];
    if (miss[j]) c->need[j]--;
  }
  if (miss[0]) v->v1 = 0;
  if (miss[1]) v->v2 = 0;
  if (miss[2]) v->v3 = -1;
  c->left--;
  c->row++;
}

/* Marks floor(levels * pct / 100) random levels of each id column missing
 * (partial Fisher-Yates over the levels). */
static bool choose_missing_levels(gen *g) {
  for (int j = 0; j < 6; j++) {
    int64_t levels = (j == 2 || j == 5) ? g->nk : g->k;
    int64_t nna = levels * g->na_pct / 100;
    if (nna == 0) continue;
    uint32_t *perm = malloc((size_t)levels * sizeof *perm);
    g->missing[j] = calloc((size_t)levels + 1, 1);
    if (!perm || !g->missing[j]) {
      free(perm);
      return false;
    }
    for (int64_t i = 0; i < levels; i++) perm[i] = (uint32_t)(i + 1);
    uint64_t s = cli_mix64(g->seed ^ cli_mix64(0xA11CE000ull + (uint64_t)j));
    for (int64_t i = 0; i < nna; i++) {
      int64_t r = i + (int64_t)cli_below(&s, (uint64_t)(levels - i));
      uint32_t t = perm[i];
      perm[i] = perm[r];
      perm[r] = t;
      g->missing[j][perm[i]] = 1;
    }
    free(perm);
  }
  return true;
}

/* ---- text ----------------------------------------------------------------- */

/* "id" and the number zero-padded to `width` digits. */
static char *put_id(char *p, uint64_t level, int width) {
  char digits[24];
  int n = (int)(cli_put_u64(digits, level) - digits);
  *p++ = 'i';
  *p++ = 'd';
  for (int i = n; i < width; i++) *p++ = '0';
  memcpy(p, digits, (size_t)n);
  return p + n;
}

/* v3 from micro-units, shortest form: "42", "42.5", "0.000125". */
static char *put_v3(char *p, int32_t micro) {
  p = cli_put_u64(p, (uint64_t)(micro / 1000000));
  int frac = micro % 1000000;
  if (frac == 0) return p;
  *p++ = '.';
  int width = 6;
  while (frac % 10 == 0) {
    frac /= 10;
    width--;
  }
  for (int d = width - 1; d >= 0; d--) {
    p[d] = (char)('0' + frac % 10);
    frac /= 10;
  }
  return p + width;
}

/* One CSV row; missing values are empty fields (as fwrite writes NA). */
static char *put_row(char *p, const row_vals *v) {
  for (int j = 0; j < 6; j++) {
    if (v->id[j]) {
      if (j < 2)
        p = put_id(p, v->id[j], 3);
      else if (j == 2)
        p = put_id(p, v->id[j], 10);
      else
        p = cli_put_u64(p, v->id[j]);
    }
    *p++ = ',';
  }
  if (v->v1) p = cli_put_u64(p, v->v1);
  *p++ = ',';
  if (v->v2) p = cli_put_u64(p, v->v2);
  *p++ = ',';
  if (v->v3 >= 0) p = put_v3(p, v->v3);
  *p++ = '\n';
  return p;
}

/* ---- sort mode ------------------------------------------------------------ */

static int bits_for(int64_t n) {
  int b = 0;
  while (n > 0) {
    b++;
    n >>= 1;
  }
  return b;
}

/* Packs ids (id1/id2 by byte-order rank; 0 = missing sorts first). */
static gen_row pack(const gen *g, const row_vals *v) {
  gen_row r;
  uint64_t r1 = g->level_to_rank && v->id[0] ? g->level_to_rank[v->id[0]] : v->id[0];
  uint64_t r2 = g->level_to_rank && v->id[1] ? g->level_to_rank[v->id[1]] : v->id[1];
  r.hi = (r1 << (g->bits_k + g->bits_nk)) | (r2 << g->bits_nk) | v->id[2];
  r.lo = ((uint64_t)v->id[3] << (g->bits_k + g->bits_nk)) | ((uint64_t)v->id[4] << g->bits_nk) |
         v->id[5];
  r.v1 = v->v1;
  r.v2 = v->v2;
  r.v3 = v->v3;
  return r;
}

/* Inverse of pack. */
static void unpack(const gen *g, const gen_row *r, row_vals *v) {
  uint64_t mk = ((uint64_t)1 << g->bits_k) - 1, mnk = ((uint64_t)1 << g->bits_nk) - 1;
  uint64_t r1 = (r->hi >> (g->bits_k + g->bits_nk)) & mk, r2 = (r->hi >> g->bits_nk) & mk;
  v->id[0] = (uint32_t)(g->rank_to_level && r1 ? g->rank_to_level[r1] : r1);
  v->id[1] = (uint32_t)(g->rank_to_level && r2 ? g->rank_to_level[r2] : r2);
  v->id[2] = (uint32_t)(r->hi & mnk);
  v->id[3] = (uint32_t)((r->lo >> (g->bits_k + g->bits_nk)) & mk);
  v->id[4] = (uint32_t)((r->lo >> g->bits_nk) & mk);
  v->id[5] = (uint32_t)(r->lo & mnk);
  v->v1 = r->v1;
  v->v2 = r->v2;
  v->v3 = r->v3;
}

/* qsort order of packed rows: id1..id6 as packed. */
static int cmp_rows(const void *a, const void *b) {
  const gen_row *x = a, *y = b;
  if (x->hi != y->hi) return x->hi < y->hi ? -1 : 1;
  if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
  return 0;
}

/* Byte order of "id%03d" strings, for K > 999 where it differs from
 * numeric order ("id1000" < "id101"). */
static int cmp_levels(const void *a, const void *b) {
  char x[32], y[32];
  snprintf(x, sizeof x, "%03u", *(const uint32_t *)a);
  snprintf(y, sizeof y, "%03u", *(const uint32_t *)b);
  return strcmp(x, y);
}

/* Level <-> byte-order rank tables of id1/id2 when K > 999; false when
 * out of memory. */
static bool make_rank_tables(gen *g) {
  if (g->k <= 999) return true;
  g->rank_to_level = malloc(((size_t)g->k + 1) * sizeof(uint32_t));
  g->level_to_rank = malloc(((size_t)g->k + 1) * sizeof(uint32_t));
  if (!g->rank_to_level || !g->level_to_rank) return false;
  for (int64_t i = 1; i <= g->k; i++) g->rank_to_level[i] = (uint32_t)i;
  qsort(g->rank_to_level + 1, (size_t)g->k, sizeof(uint32_t), cmp_levels);
  for (int64_t r = 1; r <= g->k; r++) g->level_to_rank[g->rank_to_level[r]] = (uint32_t)r;
  return true;
}

/* Sort-mode records, in parallel chunks of whole blocks. */
static gf_status fill_kernel(void *user, const gf_chunk_spec *chunk, gf_task_ctx *ctx) {
  const gen *g = user;
  cursor c;
  cursor_seek(g, &c, chunk->start_row);
  for (int64_t r = chunk->start_row; r < chunk->end_row; r++) {
    row_vals v;
    cursor_next(g, &c, &v);
    g->sorted[r] = pack(g, &v);
  }
  return GF_OK;
}

/* ---- formatting ---------------------------------------------------------- */

/* Formats rows [start, end) (gf_rows_text_fn). */
static gf_status format_kernel(void *user, int64_t start, int64_t end, gf_text_buffer *out,
                               gf_task_ctx *ctx) {
  const gen *g = user;
  cursor c;
  if (!g->sorted) cursor_seek(g, &c, start);
  for (int64_t r = start; r < end; r++) {
    row_vals v;
    if (g->sorted)
      unpack(g, &g->sorted[r], &v);
    else
      cursor_next(g, &c, &v);
    char *p = gf_text_buffer_reserve(out, ROW_ROOM, ctx->err);
    if (!p) return GF_ENOMEM;
    gf_text_buffer_advance(out, (size_t)(put_row(p, &v) - p));
  }
  return GF_OK;
}

/* gf_text_sink_fn appending to the output file. */
static gf_status file_sink(void *file, const char *data, size_t len, gf_error *err) {
  return gf_output_file_write(file, data, len, err);
}

/* ---- command line ------------------------------------------------------- */

/* "10000000", "1e7" or "2.5e6" style counts: an integer, optionally times a
 * power of ten; false when it is not a whole number in [min, max]. */
static bool parse_count(const char *opt, const char *text, int64_t min, int64_t max,
                        int64_t *out) {
  const char *e = strpbrk(text, "eE");
  if (!e) return cli_parse_int64("gen", opt, text, min, max, out);
  char mant[32];
  size_t ml = (size_t)(e - text);
  if (ml == 0 || ml >= sizeof mant) goto bad;
  memcpy(mant, text, ml);
  mant[ml] = '\0';
  int64_t exp10 = 0, whole = 0, frac = 0;
  int frac_digits = 0;
  char *dot = strchr(mant, '.');
  if (dot) {
    *dot = '\0';
    for (const char *p = dot + 1; *p; p++, frac_digits++) {
      if (*p < '0' || *p > '9' || frac_digits > 9) goto bad;
      frac = frac * 10 + (*p - '0');
    }
  }
  for (const char *p = mant; *p; p++) {
    if (*p < '0' || *p > '9' || whole > 1000000000) goto bad;
    whole = whole * 10 + (*p - '0');
  }
  {
    const char *p = e + 1;
    if (*p == '+') p++;
    if (!*p) goto bad;
    for (; *p; p++) {
      if (*p < '0' || *p > '9' || exp10 > 18) goto bad;
      exp10 = exp10 * 10 + (*p - '0');
    }
  }
  if (exp10 < frac_digits || exp10 > 18) goto bad;
  {
    __int128 v = whole;
    for (int i = 0; i < frac_digits; i++) v *= 10;
    v += frac;
    for (int64_t i = frac_digits; i < exp10; i++) v *= 10;
    if (v < min || v > max) {
      cli_usage_error("gen", "%s must be between %lld and %lld, got '%s'", opt, (long long)min,
                      (long long)max, text);
      return false;
    }
    *out = (int64_t)v;
    return true;
  }
bad:
  cli_usage_error("gen", "%s expects a whole number such as 1000000 or 1e6, got '%s'", opt, text);
  return false;
}

/* db-benchmark's pretty_sci: 10000000 -> "1e7", 2000 -> "2e3", 12345 -> "12345". */
static void pretty_sci(int64_t v, char *buf, size_t size) {
  int e = 0;
  int64_t m = v;
  while (m >= 10 && m % 10 == 0) {
    m /= 10;
    e++;
  }
  if (m < 10 && e > 0)
    snprintf(buf, size, "%llde%d", (long long)m, e);
  else
    snprintf(buf, size, "%lld", (long long)v);
}

/* Frees everything the generator allocated. */
static void gen_free(gen *g) {
  for (int j = 0; j < 6; j++) free(g->missing[j]);
  free(g->sorted);
  free(g->rank_to_level);
  free(g->level_to_rank);
}

/* Generates and writes; returns the exit code. */
static int generate(gen *g, const char *path, int threads) {
  gf_error err;
  gf_error_clear(&err);
  gf_parallel_options p;
  cli_parallel_options(threads, &p);
  p.chunk_rows = GEN_BLOCK;
  p.min_parallel_rows = 0;
  g->bits_k = bits_for(g->k);
  g->bits_nk = bits_for(g->nk);
  g->v_missing = g->rows * g->na_pct / 100;
  if (!choose_missing_levels(g) || (g->sort && !make_rank_tables(g))) {
    cli_error("gen: out of memory");
    return CLI_EXIT_FAILURE;
  }
  gf_status st = GF_OK;
  if (g->sort) {
    g->sorted = malloc((size_t)g->rows * sizeof *g->sorted);
    if (!g->sorted) {
      cli_error("gen: out of memory for %lld sorted rows", (long long)g->rows);
      return CLI_EXIT_FAILURE;
    }
    st = gf_parallel_for(g->rows, sizeof(gen_row), false, fill_kernel, g, &p, &err);
    if (st == GF_OK) qsort(g->sorted, (size_t)g->rows, sizeof *g->sorted, cmp_rows);
  }
  gf_output_file *file = NULL;
  if (st == GF_OK) st = gf_output_file_open(path, NULL, &file, &err);
  if (st != GF_OK) goto done;
  static const char header[] = "id1,id2,id3,id4,id5,id6,v1,v2,v3\n";
  st = gf_output_file_write(file, header, sizeof header - 1, &err);
  if (st == GF_OK)
    st = gf_format_rows_ordered(g->rows, 48, format_kernel, g, file_sink, file, &p, &err);
  if (st == GF_OK)
    st = gf_output_file_commit(file, &err);
  else
    gf_output_file_abort(file);
done:
  if (st == GF_ECANCELED && gf_cancel_requested(p.cancel)) {
    cli_error("gen: interrupted; %s was not written", path);
    return CLI_EXIT_FAILURE;
  }
  return st == GF_OK ? CLI_EXIT_OK : cli_fail("gen", st, &err);
}

/* `gf gen groupby ...`: options, then generate(); returns the exit code. */
static int run_groupby(int argc, char **argv) {
  enum { OPT_NA = CLI_OPT_FIRST_FREE, OPT_SORT, OPT_SEED, OPT_THREADS };
  static const struct option longopts[] = {{"rows", required_argument, NULL, 'n'},
                                           {"k", required_argument, NULL, 'k'},
                                           {"na-pct", required_argument, NULL, OPT_NA},
                                           {"sort", no_argument, NULL, OPT_SORT},
                                           {"seed", required_argument, NULL, OPT_SEED},
                                           {"output", required_argument, NULL, 'o'},
                                           {"threads", required_argument, NULL, OPT_THREADS},
                                           {NULL, 0, NULL, 0}};
  gen g;
  memset(&g, 0, sizeof g);
  g.k = 100;
  g.seed = 108;
  g.rows = -1;
  int64_t v, threads = 0;
  const char *path = NULL;
  int opt;
  while ((opt = getopt_long(argc, argv, "n:k:o:", longopts, NULL)) != -1) {
    switch (opt) {
      case 'n':
        if (!parse_count("--rows", optarg, 1, INT32_MAX, &g.rows)) return CLI_EXIT_USAGE;
        break;
      case 'k':
        if (!parse_count("--k", optarg, 1, INT32_MAX, &g.k)) return CLI_EXIT_USAGE;
        break;
      case OPT_NA:
        if (!cli_parse_int64("gen", "--na-pct", optarg, 0, 100, &v)) return CLI_EXIT_USAGE;
        g.na_pct = (int)v;
        break;
      case OPT_SORT: g.sort = true; break;
      case OPT_SEED:
        if (!cli_parse_int64("gen", "--seed", optarg, 0, INT64_MAX, &v)) return CLI_EXIT_USAGE;
        g.seed = (uint64_t)v;
        break;
      case 'o': path = optarg; break;
      case OPT_THREADS:
        if (!cli_parse_int64("gen", "--threads", optarg, 1, 4096, &threads)) return CLI_EXIT_USAGE;
        break;
      default: return cli_usage_error("gen", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind != argc) return cli_usage_error("gen", "unexpected argument '%s'", argv[optind]);
  if (g.rows < 0) return cli_usage_error("gen", "groupby needs --rows N");
  if (g.k > g.rows)
    return cli_usage_error("gen", "--k (%lld) may not exceed --rows (%lld)", (long long)g.k,
                           (long long)g.rows);
  g.nk = g.rows / g.k;
  char name[96];
  if (!path) {
    char n[32], k[32];
    pretty_sci(g.rows, n, sizeof n);
    pretty_sci(g.k, k, sizeof k);
    snprintf(name, sizeof name, "G1_%s_%s_%d_%d.csv", n, k, g.na_pct, g.sort ? 1 : 0);
    path = name;
  }
  int rc = generate(&g, path, (int)threads);
  gen_free(&g);
  return rc;
}

/* Dispatches on the data set name (argv[1]). */
static int run(int argc, char **argv) {
  if (argc < 2) return cli_usage_error("gen", "missing data set name: groupby (or join)");
  if (strcmp(argv[1], "groupby") == 0) return run_groupby(argc - 1, argv + 1);
  if (strcmp(argv[1], "join") == 0) return cli_gen_join(argc - 1, argv + 1);
  if (strcmp(argv[1], "strings") == 0 || strcmp(argv[1], "floats") == 0)
    return cli_gen_heavy(argc - 1, argv + 1);
  if (argv[1][0] == '-')
    return cli_usage_error("gen", "expects the data set name (groupby) before options, got '%s'",
                           argv[1]);
  return cli_usage_error("gen", "unknown data set '%s' (expected groupby or join)", argv[1]);
}

const cli_command cli_cmd_gen = {"gen", usage, run};
