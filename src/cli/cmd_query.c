/*
 * cmd_query.c - `gf query FILE ...`: builds a lazy plan
 * (include/gopherframe/plan.h) from the command line - FILE (and --join's
 * FILE2) as CSV / Arrow IPC scans, then join, the --filter/--with steps in
 * the order given, group-by/aggregates, --having, sort, select, distinct,
 * offset/limit - and runs it: the plan's optimizer decides the order of
 * work (filters pushed into the scans and below joins, only the columns
 * the query reads parsed, sort + limit as a top-k). Prints a table on a
 * terminal and CSV otherwise, or writes -o FILE; --explain prints the plan
 * instead of running it, --profile what each operator did.
 *
 * The command line is checked completely (expressions parsed, every step
 * checked against the sources' schemas) before any data is read beyond the
 * schema, so a typo costs nothing. A FILE that is not a regular file (a
 * pipe, /dev/stdin, a FIFO) is read once, whole, by its scan when the plan
 * is built (gf_plan_scan_csv_with), and the run starts from that frame.
 * --timeout-ms is one deadline for the whole command, reading and writing
 * included. --memory-limit puts one tracking allocator under every call,
 * so the limit covers the command's total, not each call's.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "gopherframe/plan.h"

static const char usage[] =
    "Usage: gf query FILE... [OPTIONS]\n\n"
    "Runs a query over FILE (CSV, TSV, NDJSON/JSON, Arrow IPC or Parquet,\n"
    "recognised by content; compressed .gz .zst .lz4 .bz2 too; '-' is standard\n"
    "input; several FILEs, a quoted glob or a directory are one table) in\n"
    "parallel and prints the result.\n"
    "The steps form a plan in this order: --join, then every --filter and\n"
    "--with in the order given (a --with may use the columns of earlier --with\n"
    "options, and a later --filter may test them), --group-by/--agg, --having,\n"
    "--sort, --select, --distinct, --offset/--limit. The plan's optimizer then\n"
    "decides the order of work: only the columns the query uses are parsed,\n"
    "filters move into the scan and below joins where the answer stays the\n"
    "same, filters, computed columns and the selection run fused in one\n"
    "parallel pass, and a sort followed by --limit keeps only the top rows.\n\n"
    "Query:\n"
    "      --filter EXPR     keep rows where EXPR is true, e.g.\n"
    "                        \"v1 > 3 and id1 = 'id016'\" (repeatable)\n"
    "      --with NAME=EXPR  add (or replace) column NAME, e.g. 'v4=v1 * 2 + v2'\n"
    "                        (repeatable)\n"
    "      --select COLS     output columns, comma-separated (\"quoted\" names\n"
    "                        allowed)\n"
    "      --join FILE2      join FILE2 (CSV/IPC) on --on KEYS ('k1,k2', or\n"
    "      --on KEYS         'left=right' when the names differ) with\n"
    "      --how KIND        inner (default), left, right, full, semi or anti\n"
    "      --group-by COLS   group by these columns ...\n"
    "      --agg SPECS       ... computing e.g. 'sum(v1),mean(v3) as m,count()';\n"
    "                        --agg alone aggregates the whole file\n"
    "      --having EXPR     keep the groups where EXPR is true; it names keys,\n"
    "                        aggregate names or the aggregates themselves,\n"
    "                        e.g. 'sum(v1) > 100' or 'n >= 2' (repeatable)\n"
    "      --sort KEYS       e.g. 'v3 desc, id1' ('nulls first|last' may follow)\n"
    "      --distinct[=COLS] keep the first row of every distinct COLS (default:\n"
    "                        all output columns), whole rows, in order\n"
    "                        (-0.0 = 0.0, NaN = NaN, nulls equal)\n"
    "      --offset N        skip the first N rows of the result\n"
    "      --limit N         keep the first N rows (after --sort: the top N)\n\n"
    "Output:\n"
    "  -o, --output FILE     write FILE, format by extension: .csv (or none)\n"
    "                        .tsv, .arrow .feather .ipc (Arrow IPC file),\n"
    "                        .arrows (IPC stream), .parquet (snappy), .ndjson\n"
    "                        .json, compressed .csv.gz .csv.zst\n"
    "                        .csv.lz4 .csv.bz2 (tsv too); nothing is written\n"
    "                        when the query fails; '-' is standard output\n"
    "      --output-format F csv, tsv, arrow, arrows, parquet, ndjson, json\n"
    "                        (csv.gz, ndjson.zst...: compressed):\n"
    "                        overrides the extension; alone, writes standard\n"
    "                        output in that format (arrows: an IPC stream)\n"
    "      --format F        table, csv, tsv, json, ndjson or markdown for\n"
    "                        standard output (default: table when standard\n"
    "                        output is a terminal, else csv)\n"
    "      --rows N          rows a table shows (default 10)\n"
    "      --ascii           ASCII table borders\n"
    "      --explain         print the plan as given and as optimized (sources\n"
    "                        with the columns and filters pushed into them) to\n"
    "                        standard output, and stop without running it\n"
    "      --profile         after running, print each operator's rows in/out,\n"
    "                        time, peak memory and workers to standard error\n"
    "                        (the data on standard output stays clean)\n\n"
    "Execution:\n"
    "      --chunk-rows N    rows per morsel (default: chosen by --strategy)\n"
    "      --strategy S      auto (default), fixed, cache or memory\n"
    "      --timeout-ms N    fail (exit 1) when the whole command, reading\n"
    "                        included, takes longer than N ms\n"
    "      --memory-limit B  fail (exit 1) when the command's memory would\n"
    "                        exceed B bytes (suffixes K, M, G, T: 512M, 2G);\n"
    "                        a sort, group-by or join whose state would cross\n"
    "                        it spills (docs/SPILLING.md)\n"
    "      --temp-dir DIR    where spilling puts its (nameless) temporary\n"
    "                        files (default: $GF_TMPDIR, else $TMPDIR, else /tmp)\n"
    "      --max-temp B      fail (exit 1) when spilled files would hold more\n"
    "                        than B bytes at once (suffixes as --memory-limit)\n"
    "      --stats           print what each step did to standard error\n" CLI_READ_USAGE
    "\nExpressions: + - * / %, = != < <= > >=, and or not, between, in (...),\n"
    "is null, if(c, a, b), cast(x as type), abs round floor ceil sqrt log exp\n"
    "pow, length lower upper contains starts_with ends_with substr, year month\n"
    "day hour minute second weekday, date_trunc('day', ts); strings in\n"
    "'single quotes', column names bare or \"quoted\".\n\n"
    "Exit status: 0 success, 1 the query failed (bad file, timeout, memory\n"
    "limit, Ctrl-C), 2 bad command line (options, expressions, unknown\n"
    "columns, types).\n";

enum {
  OPT_FILTER = CLI_OPT_FIRST_FREE,
  OPT_WITH,
  OPT_SELECT,
  OPT_JOIN,
  OPT_ON,
  OPT_HOW,
  OPT_GROUP_BY,
  OPT_AGG,
  OPT_HAVING,
  OPT_SORT,
  OPT_OFFSET,
  OPT_LIMIT,
  OPT_FORMAT,
  OPT_OUTPUT_FORMAT,
  OPT_ROWS,
  OPT_ASCII,
  OPT_CHUNK_ROWS,
  OPT_STRATEGY,
  OPT_TIMEOUT,
  OPT_MEMORY,
  OPT_STATS,
  OPT_DISTINCT,
  OPT_EXPLAIN,
  OPT_PROFILE,
  OPT_TEMP_DIR,
  OPT_MAX_TEMP
};

#define MAX_STEPS 256

/* One --filter or --with, in command-line order. */
typedef struct qstep {
  bool is_with;
  const char *text; /* the whole argument */
} qstep;

typedef struct qargs {
  cli_read_args ra;
  const char *const *inputs; /* FILE... (several, a glob or a directory: one table) */
  int ninputs;
  qstep steps[MAX_STEPS];
  int nsteps;
  const char *having[MAX_STEPS];
  int nhaving;
  const char *temp_dir; /* --temp-dir, NULL = default */
  int64_t max_temp;     /* --max-temp, 0 = none */
  const char *select, *join, *on, *how, *group_by, *agg, *sort, *output, *format;
  const char *output_format; /* --output-format */
  cli_output out;            /* resolved -o / --output-format (use_out) */
  bool use_out;              /* false: a table or CSV on standard output (--format) */
  cli_output_format out_format; /* parsed --format */
  const char *distinct; /* "" = every output column, NULL = no --distinct */
  int64_t limit;  /* -1 = none */
  int64_t offset; /* 0 = none */
  int64_t rows;
  bool ascii, stats, explain, profile;
  int64_t chunk_rows, timeout_ms, memory_limit;
  gf_strategy strategy;
} qargs;

/* A list of names parsed from "a, b,\"c d\"". */
typedef struct name_list {
  int n;
  char **names;
} name_list;

static void names_free(name_list *l) {
  for (int i = 0; i < l->n; i++) free(l->names[i]);
  free(l->names);
  l->n = 0;
  l->names = NULL;
}

/* Parses a comma-separated list of column names: bare names are trimmed,
 * "quoted" ones keep everything inside ("" is a quote). False (after a
 * usage message naming `option`) on an empty name or a bad quote. */
static bool parse_names(const char *option, const char *text, name_list *out) {
  memset(out, 0, sizeof *out);
  size_t cap = strlen(text) + 2;
  out->names = calloc(cap, sizeof *out->names);
  char *buf = malloc(strlen(text) + 1);
  if (!out->names || !buf) {
    free(buf);
    names_free(out);
    cli_error("query: out of memory");
    return false;
  }
  const char *p = text;
  for (;;) {
    size_t len = 0;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '"') {
      p++;
      for (;;) {
        if (!*p) {
          cli_usage_error("query", "%s: unterminated quoted name in '%s'", option, text);
          goto fail;
        }
        if (*p == '"' && p[1] == '"') {
          buf[len++] = '"';
          p += 2;
        } else if (*p == '"') {
          p++;
          break;
        } else {
          buf[len++] = *p++;
        }
      }
      while (*p == ' ' || *p == '\t') p++;
      if (*p && *p != ',') {
        cli_usage_error("query", "%s: expected ',' after a quoted name in '%s'", option, text);
        goto fail;
      }
    } else {
      while (*p && *p != ',') buf[len++] = *p++;
      while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t')) len--;
    }
    if (len == 0) {
      cli_usage_error("query", "%s: empty column name in '%s'", option, text);
      goto fail;
    }
    buf[len] = '\0';
    out->names[out->n] = strdup(buf);
    if (!out->names[out->n]) {
      cli_error("query: out of memory");
      goto fail;
    }
    out->n++;
    if (*p != ',') break;
    p++;
  }
  free(buf);
  return true;
fail:
  free(buf);
  names_free(out);
  return false;
}

/* Parses BYTES (the argument of option `opt`, named in the error) with an
 * optional K/M/G/T suffix (powers of 1024, an optional trailing B or iB). */
static bool parse_bytes(const char *opt, const char *text, int64_t *out) {
  const char *p = text;
  uint64_t v = 0;
  if (*p < '0' || *p > '9') goto bad;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (v > (UINT64_MAX - 9) / 10) goto bad;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  int shift = 0;
  switch (*p) {
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    case 't': case 'T': shift = 40; p++; break;
    default: break;
  }
  if (shift && *p == 'i') p++;
  if (*p == 'b' || *p == 'B') p++;
  if (*p) goto bad;
  if (v == 0 || v > ((uint64_t)INT64_MAX >> shift)) goto bad;
  *out = (int64_t)(v << shift);
  return true;
bad:
  cli_usage_error("query", "%s expects a positive size like 512M or 2G, got '%s'", opt, text);
  return false;
}

/* Parses the command line into q; returns 0 or the exit code. */
static int parse_args(int argc, char **argv, qargs *q) {
  static const struct option longopts[] = {
      CLI_READ_LONG_OPTIONS,
      {"filter", required_argument, NULL, OPT_FILTER},
      {"with", required_argument, NULL, OPT_WITH},
      {"select", required_argument, NULL, OPT_SELECT},
      {"join", required_argument, NULL, OPT_JOIN},
      {"on", required_argument, NULL, OPT_ON},
      {"how", required_argument, NULL, OPT_HOW},
      {"group-by", required_argument, NULL, OPT_GROUP_BY},
      {"agg", required_argument, NULL, OPT_AGG},
      {"having", required_argument, NULL, OPT_HAVING},
      {"sort", required_argument, NULL, OPT_SORT},
      {"offset", required_argument, NULL, OPT_OFFSET},
      {"limit", required_argument, NULL, OPT_LIMIT},
      {"output", required_argument, NULL, 'o'},
      {"format", required_argument, NULL, OPT_FORMAT},
      {"output-format", required_argument, NULL, OPT_OUTPUT_FORMAT},
      {"rows", required_argument, NULL, OPT_ROWS},
      {"ascii", no_argument, NULL, OPT_ASCII},
      {"chunk-rows", required_argument, NULL, OPT_CHUNK_ROWS},
      {"strategy", required_argument, NULL, OPT_STRATEGY},
      {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
      {"memory-limit", required_argument, NULL, OPT_MEMORY},
      {"stats", no_argument, NULL, OPT_STATS},
      {"distinct", optional_argument, NULL, OPT_DISTINCT},
      {"explain", no_argument, NULL, OPT_EXPLAIN},
      {"profile", no_argument, NULL, OPT_PROFILE},
      {"temp-dir", required_argument, NULL, OPT_TEMP_DIR},
      {"max-temp", required_argument, NULL, OPT_MAX_TEMP},
      {NULL, 0, NULL, 0}};
  int opt, rc;
  while ((opt = getopt_long(argc, argv, ":d:o:", longopts, NULL)) != -1) {
    if (cli_read_option("query", opt, optarg, &q->ra, &rc)) {
      if (rc) return rc;
      continue;
    }
    switch (opt) {
      case OPT_FILTER:
      case OPT_WITH:
        if (q->nsteps == MAX_STEPS)
          return cli_usage_error("query", "at most %d --filter/--with options", MAX_STEPS);
        q->steps[q->nsteps++] = (qstep){opt == OPT_WITH, optarg};
        break;
      case OPT_HAVING:
        if (q->nhaving == MAX_STEPS)
          return cli_usage_error("query", "at most %d --having options", MAX_STEPS);
        q->having[q->nhaving++] = optarg;
        break;
      case OPT_SELECT: q->select = optarg; break;
      case OPT_JOIN: q->join = optarg; break;
      case OPT_ON: q->on = optarg; break;
      case OPT_HOW: q->how = optarg; break;
      case OPT_GROUP_BY: q->group_by = optarg; break;
      case OPT_AGG: q->agg = optarg; break;
      case OPT_SORT: q->sort = optarg; break;
      case 'o': q->output = optarg; break;
      case OPT_OUTPUT_FORMAT: q->output_format = optarg; break;
      case OPT_FORMAT:
        if (!cli_parse_output_format("query", optarg, &q->out_format)) return CLI_EXIT_USAGE;
        q->format = optarg;
        break;
      case OPT_LIMIT:
        if (!cli_parse_int64("query", "--limit", optarg, 0, INT64_MAX, &q->limit))
          return CLI_EXIT_USAGE;
        break;
      case OPT_OFFSET:
        if (!cli_parse_int64("query", "--offset", optarg, 0, INT64_MAX, &q->offset))
          return CLI_EXIT_USAGE;
        break;
      case OPT_ROWS:
        if (!cli_parse_int64("query", "--rows", optarg, 0, INT64_MAX / 2, &q->rows))
          return CLI_EXIT_USAGE;
        break;
      case OPT_ASCII: q->ascii = true; break;
      case OPT_STATS: q->stats = true; break;
      case OPT_EXPLAIN: q->explain = true; break;
      case OPT_PROFILE: q->profile = true; break;
      case OPT_DISTINCT: q->distinct = optarg ? optarg : ""; break;
      case OPT_CHUNK_ROWS:
        if (!cli_parse_int64("query", "--chunk-rows", optarg, 1, INT32_MAX, &q->chunk_rows))
          return CLI_EXIT_USAGE;
        break;
      case OPT_TIMEOUT:
        if (!cli_parse_int64("query", "--timeout-ms", optarg, 1, INT64_MAX / 1000000,
                             &q->timeout_ms))
          return CLI_EXIT_USAGE;
        break;
      case OPT_MEMORY:
        if (!parse_bytes("--memory-limit", optarg, &q->memory_limit)) return CLI_EXIT_USAGE;
        break;
      case OPT_TEMP_DIR:
        if (!*optarg) return cli_usage_error("query", "--temp-dir expects a directory");
        q->temp_dir = optarg;
        break;
      case OPT_MAX_TEMP:
        if (!parse_bytes("--max-temp", optarg, &q->max_temp)) return CLI_EXIT_USAGE;
        break;
      case OPT_STRATEGY: {
        static const char *const names[] = {"auto", "fixed", "cache", "memory"};
        int k = -1;
        for (int i = 0; i < 4; i++)
          if (strcmp(optarg, names[i]) == 0) k = i;
        if (k < 0)
          return cli_usage_error("query", "--strategy expects auto, fixed, cache or memory, got '%s'",
                                 optarg);
        q->strategy = (gf_strategy)k;
        break;
      }
      case ':':
        return cli_usage_error("query", "option '%s' needs a value", argv[optind - 1]);
      default:
        return cli_usage_error("query", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind == argc) return cli_usage_error("query", "missing FILE");
  q->inputs = (const char *const *)argv + optind;
  q->ninputs = argc - optind;
  if (q->join && !q->on) return cli_usage_error("query", "--join needs --on KEYS");
  if (!q->join && (q->on || q->how)) return cli_usage_error("query", "--on and --how need --join FILE2");
  if (q->nhaving > 0 && !q->group_by && !q->agg)
    return cli_usage_error("query", "--having needs --group-by or --agg (use --filter for rows)");
  /* "-o -" is standard output. */
  if (q->output && strcmp(q->output, "-") == 0) q->output = NULL;
  if (q->output && q->format && q->out_format != CLI_FORMAT_CSV)
    return cli_usage_error("query", "--format is for standard output; -o picks the format by "
                           "the extension or --output-format");
  if (q->explain && (q->output || q->profile || q->stats))
    return cli_usage_error("query", "--explain prints the plan without running it: drop -o, --profile and --stats");
  if (q->output_format && q->format)
    return cli_usage_error("query", "give --format (standard output) or --output-format, not both");
  if (q->output || q->output_format) {
    /* Refused before running: a long query would otherwise end in this. */
    q->use_out = true;
    return cli_resolve_output("query", q->output, q->output_format, &q->out);
  }
  return CLI_EXIT_OK;
}

/* ---- running ------------------------------------------------------------ */

/* State of one command run. */
typedef struct qrun {
  const qargs *q;
  int64_t t0;             /* command start (monotonic ns) */
  gf_parallel_options par;/* threads, chunking, allocator, Ctrl-C token */
  gf_tracking_allocator *tracker;
} qrun;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Formats ns as milliseconds with three decimals, locale-independently. */
static void fmt_ms(char *buf, size_t n, int64_t ns) {
  if (ns < 0) ns = 0;
  int64_t us = ns / 1000;
  snprintf(buf, n, "%lld.%03lld", (long long)(us / 1000), (long long)(us % 1000));
}

/* Options for the next library call: the command's deadline becomes the
 * time left. False (after the one error line) when it already passed. */
static bool call_options(const qrun *r, gf_exec_stats *stats, gf_parallel_options *o) {
  *o = r->par;
  o->stats = stats;
  if (r->q->timeout_ms > 0) {
    int64_t left = r->q->timeout_ms - (now_ns() - r->t0) / 1000000;
    if (left <= 0) {
      cli_error("query: timed out after %lld ms (--timeout-ms)", (long long)r->q->timeout_ms);
      return false;
    }
    o->timeout_ms = left;
  }
  return true;
}

/* The one error line for a failed library call; returns the exit code.
 * `in_query` says whether GF_EINVAL/GF_ETYPE/GF_EPARSE are errors in the
 * query itself (exit 2) rather than in the data read (exit 1). */
static int report_failure(const qrun *r, const char *what, gf_status st, const gf_error *err,
                          bool in_query) {
  if (st == GF_ETIMEDOUT) {
    cli_error("query: timed out after %lld ms (--timeout-ms)", (long long)r->q->timeout_ms);
    return CLI_EXIT_FAILURE;
  }
  if (st == GF_ECANCELED && r->par.cancel && gf_cancel_requested(r->par.cancel)) {
    cli_error("query: interrupted");
    return CLI_EXIT_FAILURE;
  }
  if (st == GF_ENOMEM && r->tracker) {
    cli_error("query: memory limit of %lld bytes exceeded (--memory-limit)",
              (long long)r->q->memory_limit);
    return CLI_EXIT_FAILURE;
  }
  const char *msg = err && err->message[0] ? err->message : gf_status_string(st);
  if (what)
    cli_error("query: %s: %s", what, msg);
  else
    cli_error("query: %s", msg);
  return in_query && (st == GF_EINVAL || st == GF_ETYPE || st == GF_EPARSE) ? CLI_EXIT_USAGE
                                                                          : CLI_EXIT_FAILURE;
}

/* --stats: one line per step. */
static void print_step(const char *name, int64_t rows_in, int64_t rows_out, int64_t wall_ns) {
  char ms[32];
  fmt_ms(ms, sizeof ms, wall_ns);
  if (rows_in >= 0)
    fprintf(stderr, "stats: %s: %lld -> %lld rows in %s ms\n", name, (long long)rows_in,
            (long long)rows_out, ms);
  else
    fprintf(stderr, "stats: %s: %lld rows in %s ms\n", name, (long long)rows_out, ms);
}

/* The plan's source for `path`: a CSV or IPC scan (the optimizer narrows
 * what it reads). The scan reads its schema now, under the command's
 * deadline and memory limit; a path that is not a regular file (a pipe,
 * /dev/stdin, a FIFO) is read whole by the scan now, once, and the run
 * starts from that frame. `max_rows` (CSV, 0 = all) cuts the read when
 * the rows after it cannot matter. Returns 0 or the exit code. */
static int make_source(const qrun *r, const char *path, int64_t max_rows, gf_plan **out) {
  gf_error err;
  gf_error_clear(&err);
  gf_status st;
  gf_parallel_options bo;
  if (!call_options(r, NULL, &bo)) return CLI_EXIT_FAILURE;
  /* Reading has its own chunking. */
  bo.chunk_rows = 0;
  bo.strategy = GF_STRATEGY_AUTO;
  gf_input_mode mode = r->q->ra.read ? GF_INPUT_READ : GF_INPUT_MMAP;
  if (path == r->q->inputs[0] && cli_is_multi_input(r->q->inputs, r->q->ninputs)) {
    /* Many files: a scan_files source (a --filter on a partition column
     * prunes files; --explain shows how many). */
    return cli_multi_plan("query", r->q->inputs, r->q->ninputs, &r->q->ra, max_rows, &bo, out);
  }
  if (cli_is_multi_input(&path, 1)) /* --join over a glob or a directory */
    return cli_multi_plan("query", &path, 1, &r->q->ra, max_rows, &bo, out);
  /* The format by content; a regular uncompressed file is scanned by
   * path (mapped, projection pushed into the scan), anything else (a
   * pipe, compressed data) is read whole now and the plan starts from
   * that frame. */
  cli_input in;
  int rc = cli_open_input("query", path, &r->q->ra, &bo, &in);
  if (rc) return rc;
  bool csv = in.format == GF_FORMAT_CSV || in.format == GF_FORMAT_TSV;
  bool ipc = in.format == GF_FORMAT_IPC_FILE || in.format == GF_FORMAT_IPC_STREAM;
  if (in.path && in.format == GF_FORMAT_PARQUET) {
    /* Projection and the filters pushed into the scan reach the reader
     * (column chunks not read, row groups pruned by statistics). */
    gf_parquet_read_options po;
    gf_parquet_read_options_init(&po);
    po.input_mode = mode;
    st = gf_plan_scan_parquet_with(in.path, &po, &bo, out, &err);
  } else if (in.path && ipc) {
    gf_ipc_read_options io;
    gf_ipc_read_options_init(&io);
    io.input_mode = mode;
    st = gf_plan_scan_ipc_with(in.path, &io, &bo, out, &err);
  } else if (in.path && csv) {
    gf_csv_read_options co;
    gf_csv_read_options_init(&co);
    co.delimiter = r->q->ra.delimiter ? r->q->ra.delimiter
                                      : in.format == GF_FORMAT_TSV ? '\t' : 0;
    if (r->q->ra.no_header) co.header = 0;
    co.column_types = r->q->ra.types;
    co.num_column_types = r->q->ra.ntypes;
    co.input_mode = mode;
    co.max_rows = max_rows;
    cli_csv_progress(path, &co);
    st = gf_plan_scan_csv_with(in.path, &co, &bo, out, &err);
  } else {
    gf_frame *f = NULL;
    rc = cli_read_input("query", &in, &r->q->ra, max_rows, NULL, 0, &bo, &f, NULL);
    if (rc) {
      cli_input_free(&in);
      return rc;
    }
    st = gf_plan_from_frame(f, out, &err);
    gf_frame_release(f);
  }
  path = in.name;
  cli_input_free(&in);
  cli_unalias(err.message, sizeof err.message);
  if (st == GF_OK) return CLI_EXIT_OK;
  /* A file that cannot be read: exit 1, with its name. */
  if (err.message[0] && !strstr(err.message, path) && st != GF_ENOMEM && st != GF_ETIMEDOUT &&
      st != GF_ECANCELED) {
    cli_error("query: %s: %s", path, err.message);
    return CLI_EXIT_FAILURE;
  }
  return report_failure(r, NULL, st, &err, false);
}

/* Parses one expression option; on error prints the position. */
static int parse_expr(const char *option, const char *text, gf_expr **out) {
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_expr_parse(text, out, &err);
  if (st == GF_OK) return CLI_EXIT_OK;
  if (st == GF_ENOMEM) return cli_fail("query", st, &err);
  cli_error("query: %s '%s': %s", option, text, err.message[0] ? err.message : gf_status_string(st));
  return CLI_EXIT_USAGE;
}

/* Replaces *p with the node a builder made from it (consumes *p). A failed
 * builder is reported against the option that asked for the step (exit 2
 * for an error in the query, 1 for running out of memory). */
static int step_done(gf_plan **p, gf_plan *next, gf_status st, const gf_error *err,
                     const char *option, const char *text) {
  if (st != GF_OK) {
    if (st == GF_ENOMEM) return cli_fail("query", st, err);
    cli_error("query: %s%s%s%s: %s", option, text ? " '" : "", text ? text : "", text ? "'" : "",
              err->message[0] ? err->message : gf_status_string(st));
    return CLI_EXIT_USAGE;
  }
  gf_plan_release(*p);
  *p = next;
  return CLI_EXIT_OK;
}

/* Splits --on into left and right key lists ("k" or "left=right"). */
static bool parse_on(const char *text, name_list *left, name_list *right) {
  if (!parse_names("--on", text, left)) return false;
  right->n = left->n;
  right->names = calloc((size_t)left->n + 1, sizeof *right->names);
  if (!right->names) {
    names_free(left);
    cli_error("query: out of memory");
    return false;
  }
  for (int i = 0; i < left->n; i++) {
    char *eq = strchr(left->names[i], '=');
    right->names[i] = strdup(eq ? eq + 1 : left->names[i]);
    if (eq) *eq = '\0';
    if (!right->names[i] || !left->names[i][0] || !right->names[i][0]) {
      names_free(left);
      names_free(right);
      cli_usage_error("query", "--on expects KEY or LEFT=RIGHT items, got '%s'", text);
      return false;
    }
  }
  return true;
}

/* One --with NAME=EXPR as a with_columns node over *p. */
static int add_with(gf_plan **p, const char *text) {
  const char *eq = strchr(text, '=');
  if (!eq || eq == text) return cli_usage_error("query", "--with expects NAME=EXPR, got '%s'", text);
  char *name = strndup(text, (size_t)(eq - text));
  if (!name) return cli_fail("query", GF_ENOMEM, NULL);
  /* Trim spaces around the name: 'x = a + 1' reads naturally. */
  size_t n = strlen(name);
  while (n > 0 && name[n - 1] == ' ') name[--n] = '\0';
  const char *nm = name;
  while (*nm == ' ') nm++;
  if (!*nm) {
    free(name);
    return cli_usage_error("query", "--with expects NAME=EXPR, got '%s'", text);
  }
  gf_expr *e = NULL;
  int rc = parse_expr("--with", eq + 1, &e);
  if (rc == CLI_EXIT_OK) {
    gf_error err;
    gf_error_clear(&err);
    gf_plan *next = NULL;
    gf_status st = gf_plan_with_columns(*p, &nm, &e, 1, &next, &err);
    rc = step_done(p, next, st, &err, "--with", text);
  }
  gf_expr_release(e);
  free(name);
  return rc;
}

/* A --filter (or --having) EXPR node over *p. */
static int add_predicate(gf_plan **p, const char *option, const char *text, bool having) {
  gf_expr *e = NULL;
  int rc = parse_expr(option, text, &e);
  if (rc) return rc;
  gf_error err;
  gf_error_clear(&err);
  gf_plan *next = NULL;
  gf_status st = having ? gf_plan_having(*p, e, &next, &err) : gf_plan_filter(*p, e, &next, &err);
  gf_expr_release(e);
  return step_done(p, next, st, &err, option, text);
}

/* The steps after the sources: join, filters and computed columns in the
 * order given, group-by, having, sort, select, distinct, offset/limit. */
static int build_steps(const qargs *q, gf_plan **p, const gf_plan *right) {
  gf_error err;
  gf_error_clear(&err);
  gf_plan *next = NULL;
  gf_status st;
  int rc = CLI_EXIT_OK;
  if (right) {
    name_list l = {0, NULL}, r = {0, NULL};
    gf_join_kind how = GF_JOIN_INNER;
    if (!parse_on(q->on, &l, &r)) return CLI_EXIT_USAGE;
    if (q->how && gf_join_kind_parse(q->how, &how, &err) != GF_OK) {
      names_free(&l);
      names_free(&r);
      return cli_usage_error("query", "--how expects inner, left, right, full, semi or anti, got '%s'",
                             q->how);
    }
    st = gf_plan_join(*p, right, (const char *const *)l.names, (const char *const *)r.names, l.n,
                      how, NULL, &next, &err);
    names_free(&l);
    names_free(&r);
    rc = step_done(p, next, st, &err, "--join", q->join);
  }
  for (int i = 0; i < q->nsteps && rc == CLI_EXIT_OK; i++)
    rc = q->steps[i].is_with ? add_with(p, q->steps[i].text)
                             : add_predicate(p, "--filter", q->steps[i].text, false);
  if (rc) return rc;
  if (q->group_by || q->agg) {
    name_list keys = {0, NULL};
    if (q->group_by && !parse_names("--group-by", q->group_by, &keys)) return CLI_EXIT_USAGE;
    st = gf_plan_group_by(*p, (const char *const *)keys.names, keys.n, q->agg, false, &next, &err);
    names_free(&keys);
    rc = q->agg ? step_done(p, next, st, &err, "--agg", q->agg)
                : step_done(p, next, st, &err, "--group-by", q->group_by);
  }
  for (int i = 0; i < q->nhaving && rc == CLI_EXIT_OK; i++)
    rc = add_predicate(p, "--having", q->having[i], true);
  if (rc) return rc;
  if (q->sort) {
    gf_sort_key *keys = NULL;
    int nkeys = 0;
    st = gf_sort_keys_parse(q->sort, &keys, &nkeys, &err);
    if (st == GF_OK) st = gf_plan_sort(*p, keys, nkeys, &next, &err);
    gf_sort_keys_free(keys);
    if ((rc = step_done(p, next, st, &err, "--sort", q->sort))) return rc;
  }
  if (q->select) {
    name_list cols = {0, NULL};
    if (!parse_names("--select", q->select, &cols)) return CLI_EXIT_USAGE;
    st = gf_plan_select(*p, (const char *const *)cols.names, cols.n, &next, &err);
    names_free(&cols);
    if ((rc = step_done(p, next, st, &err, "--select", q->select))) return rc;
  }
  if (q->distinct) {
    name_list keys = {0, NULL};
    if (*q->distinct && !parse_names("--distinct", q->distinct, &keys)) return CLI_EXIT_USAGE;
    st = gf_plan_distinct(*p, (const char *const *)keys.names, keys.n, &next, &err);
    names_free(&keys);
    if ((rc = step_done(p, next, st, &err, "--distinct", q->distinct))) return rc;
  }
  if (q->limit >= 0 || q->offset > 0) {
    st = gf_plan_limit(*p, q->offset, q->limit >= 0 ? q->limit : INT64_MAX, &next, &err);
    rc = step_done(p, next, st, &err, q->limit >= 0 ? "--limit" : "--offset", NULL);
  }
  return rc;
}

/* Writes the result: -o FILE by extension, else a table or CSV on stdout. */
static int write_output(const qrun *r, const gf_frame *f) {
  const qargs *q = r->q;
  gf_parallel_options o;
  if (!call_options(r, NULL, &o)) return CLI_EXIT_FAILURE;
  gf_error err;
  gf_error_clear(&err);
  gf_status st;
  int64_t t0 = now_ns();
  const char *what = "write";
  if (q->use_out) {
    st = cli_write_frame(f, &q->out, NULL, &o, &err);
  } else {
    bool table = q->format ? q->out_format == CLI_FORMAT_TABLE : isatty(STDOUT_FILENO);
    if (q->format && !table) {
      st = cli_print_frame(f, q->out_format, NULL, &o, stdout, &err);
    } else if (table) {
      gf_print_options po;
      gf_print_options_init(&po);
      if (q->rows >= 0) po.max_rows = q->rows;
      po.ascii = q->ascii;
      st = gf_frame_print(f, &po, stdout, &err);
      what = "print";
    } else {
      gf_csv_write_options wo;
      gf_csv_write_options_init(&wo);
      wo.parallel = &o;
      st = gf_write_csv_stream(f, stdout, &wo, &err);
    }
  }
  if (st != GF_OK) {
    if (st == GF_ETIMEDOUT || st == GF_ECANCELED || (st == GF_ENOMEM && r->tracker))
      return report_failure(r, NULL, st, &err, false);
    return cli_fail(q->output ? q->output : "query", st, &err);
  }
  if (q->stats) print_step(what, -1, gf_frame_num_rows(f), now_ns() - t0);
  return CLI_EXIT_OK;
}

/* True when the steps before the limit never drop or reorder rows, so
 * reading only the first offset + limit rows gives the same answer (the
 * plan's limit pushdown stops at its sources; the CLI cuts the read). */
static bool limit_can_cut_read(const qargs *q) {
  if (q->limit < 0 || q->join || q->group_by || q->agg || q->sort || q->distinct) return false;
  if (q->offset > INT64_MAX - q->limit - 1) return false;
  for (int i = 0; i < q->nsteps; i++)
    if (!q->steps[i].is_with) return false;
  return true;
}

/* True for the kinds EXPLAIN and profiles name sources by. */
static bool is_source_name(const char *name) {
  return strcmp(name, "scan_csv") == 0 || strcmp(name, "scan_ipc") == 0 ||
         strcmp(name, "scan_files") == 0 || strcmp(name, "scan_parquet") == 0 ||
         strcmp(name, "frame") == 0 || strcmp(name, "stream") == 0;
}

/* --stats from the run's profile: a line per operator, then the run's totals. */
static void print_stats(const gf_plan_profile *prof, const gf_exec_stats *run) {
  for (int i = 0; prof && i < prof->nops; i++) {
    const gf_plan_profile_op *op = &prof->ops[i];
    char name[160];
    if (is_source_name(op->name)) {
      snprintf(name, sizeof name, "read (step %d, %s)", op->step, op->name);
      print_step(name, -1, op->rows_out, op->wall_ns);
    } else {
      print_step(op->name, op->rows_in, op->rows_out, op->wall_ns);
    }
  }
  /* The run as a whole (the per-worker table of a single call does not
   * apply: a plan is many calls). */
  if (run && run->size) {
    char ms[32];
    fmt_ms(ms, sizeof ms, run->wall_ns);
    fprintf(stderr, "workers used: %d  rows: %lld  wall: %s ms", run->workers_used,
            (long long)run->rows, ms);
    if (prof) fprintf(stderr, "  peak memory: %lld bytes", (long long)prof->peak_memory);
    fputc('\n', stderr);
  }
}

static int run(int argc, char **argv) {
  qrun r;
  memset(&r, 0, sizeof r);
  r.t0 = now_ns();
  qargs q;
  memset(&q, 0, sizeof q);
  q.limit = -1;
  q.rows = -1;
  int rc = parse_args(argc, argv, &q);
  if (rc) return rc;
  r.q = &q;
  const char *path = q.inputs[0];

  gf_plan *plan = NULL, *right = NULL;
  gf_frame *result = NULL;
  gf_plan_profile *prof = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st;

  cli_parallel_options(q.ra.threads, &r.par);
  r.par.chunk_rows = q.chunk_rows;
  r.par.strategy = q.strategy;
  r.par.temp_directory = q.temp_dir;
  r.par.max_temp_bytes = q.max_temp;
  if (q.memory_limit > 0) {
    st = gf_tracking_allocator_new(NULL, q.memory_limit, &r.tracker, &err);
    if (st != GF_OK) return cli_fail("query", st, &err);
    r.par.allocator = gf_tracking_allocator_get(r.tracker);
    /* Also per call, so the runtime eases off before the limit. */
    r.par.memory_limit = q.memory_limit;
  }

  /* Expressions are parsed before any file is opened, so a typo costs
   * nothing; the steps are then checked against the sources' schemas. */
  for (int i = 0; i < q.nsteps; i++) {
    const char *t = q.steps[i].text;
    const char *eq = q.steps[i].is_with ? strchr(t, '=') : NULL;
    if (q.steps[i].is_with && (!eq || eq == t)) {
      rc = cli_usage_error("query", "--with expects NAME=EXPR, got '%s'", t);
      goto done;
    }
    gf_expr *e = NULL;
    rc = parse_expr(q.steps[i].is_with ? "--with" : "--filter", eq ? eq + 1 : t, &e);
    gf_expr_release(e);
    if (rc) goto done;
  }
  if (q.join) {
    name_list l = {0, NULL}, rr = {0, NULL};
    if (!parse_on(q.on, &l, &rr)) {
      rc = CLI_EXIT_USAGE;
      goto done;
    }
    names_free(&l);
    names_free(&rr);
    gf_join_kind how;
    if (q.how && gf_join_kind_parse(q.how, &how, &err) != GF_OK) {
      rc = cli_usage_error("query", "--how expects inner, left, right, full, semi or anti, got '%s'",
                           q.how);
      goto done;
    }
  }
  if (q.sort) {
    gf_sort_key *keys = NULL;
    int nkeys = 0;
    st = gf_sort_keys_parse(q.sort, &keys, &nkeys, &err);
    gf_sort_keys_free(keys);
    if (st != GF_OK) {
      rc = st == GF_ENOMEM ? cli_fail("query", st, &err)
                           : (cli_error("query: --sort '%s': %s", q.sort, err.message), CLI_EXIT_USAGE);
      goto done;
    }
  }
  if (q.agg) {
    gf_agg_list *aggs = NULL;
    st = gf_agg_parse(q.agg, &aggs, &err);
    gf_agg_list_free(aggs);
    if (st != GF_OK) {
      rc = st == GF_ENOMEM ? cli_fail("query", st, &err)
                           : (cli_error("query: --agg '%s': %s", q.agg, err.message), CLI_EXIT_USAGE);
      goto done;
    }
  }
  for (int i = 0; i < q.nhaving; i++) {
    gf_expr *e = NULL;
    rc = parse_expr("--having", q.having[i], &e);
    gf_expr_release(e);
    if (rc) goto done;
  }
  {
    name_list nl = {0, NULL};
    const char *lists[] = {q.select, q.group_by, q.distinct && *q.distinct ? q.distinct : NULL};
    const char *opts[] = {"--select", "--group-by", "--distinct"};
    for (int i = 0; i < 3; i++) {
      if (!lists[i]) continue;
      if (!parse_names(opts[i], lists[i], &nl)) {
        rc = CLI_EXIT_USAGE;
        goto done;
      }
      names_free(&nl);
    }
  }

  rc = make_source(&r, path, limit_can_cut_read(&q) ? (q.limit > 0 ? q.offset + q.limit : 1) : 0,
                   &plan);
  if (rc == CLI_EXIT_OK && q.join) rc = make_source(&r, q.join, 0, &right);
  if (rc == CLI_EXIT_OK) rc = build_steps(&q, &plan, right);
  if (rc) goto done;

  if (q.explain) {
    char *text = NULL;
    st = gf_plan_explain(plan, GF_PLAN_EXPLAIN_OPTIMIZED, 0, &text, &err);
    if (st != GF_OK) {
      rc = cli_fail("query", st, &err);
      goto done;
    }
    fputs(text, stdout);
    gf_mem_free(text);
    if (fflush(stdout) != 0 || ferror(stdout)) {
      cli_error("query: cannot write standard output");
      rc = CLI_EXIT_FAILURE;
    }
    goto done;
  }

  {
    gf_exec_stats run_stats;
    memset(&run_stats, 0, sizeof run_stats);
    gf_parallel_options o;
    if (!call_options(&r, q.stats ? &run_stats : NULL, &o)) {
      rc = CLI_EXIT_FAILURE;
      goto done;
    }
    gf_plan_options po;
    gf_plan_options_init(&po);
    po.parallel = &o;
    if (q.profile || q.stats) po.profile = &prof;
    /* A result for a file (Arrow IPC, plain CSV/TSV) or an IPC stream on
     * standard output is written by the plan itself: a streamed plan -
     * a sorted one too - writes it batch by batch, never whole in memory
     * (docs/STREAMING.md). --profile and --stats keep the collected run,
     * whose profile has one entry per operator. */
    bool written = false;
    if (q.use_out && !q.profile && !q.stats)
      st = cli_write_plan(plan, &q.out, &po, &written, &err);
    if (!written) st = gf_plan_collect(plan, &po, &result, &err);
    cli_progress_clear();
    if (st != GF_OK) {
      /* A check failing on the schema actually read names the user's step
       * ("step N (kind): ..."): an error in the query; anything else comes
       * from the data. */
      bool in_query = strncmp(err.message, "step ", 5) == 0;
      rc = report_failure(&r, NULL, st, &err, in_query);
      goto done;
    }
    if (q.stats) print_stats(prof, &run_stats);
    if (written) goto written_out;
  }
  rc = write_output(&r, result);
written_out:
  if (rc == CLI_EXIT_OK && q.profile) {
    char *text = NULL;
    st = gf_plan_profile_format(prof, &text, &err);
    if (st == GF_OK) {
      fputs(text, stderr);
      gf_mem_free(text);
      int64_t skipped = gf_plan_parquet_row_groups_skipped(plan);
      if (skipped >= 0)
        fprintf(stderr, "scan_parquet: %lld row group(s) skipped by statistics\n", (long long)skipped);
    } else {
      rc = cli_fail("query", st, &err);
    }
  }
  if (rc == CLI_EXIT_OK && q.stats) {
    char ms[32];
    fmt_ms(ms, sizeof ms, now_ns() - r.t0);
    fprintf(stderr, "stats: total: %s ms", ms);
    if (r.tracker)
      fprintf(stderr, ", peak memory %lld bytes",
              (long long)gf_tracking_allocator_peak(r.tracker));
    fputc('\n', stderr);
  }

done:
  gf_plan_profile_free(prof);
  gf_frame_release(result);
  gf_plan_release(plan);
  gf_plan_release(right);
  /* Every frame and plan is gone: the tracker may go too. */
  gf_tracking_allocator_free(r.tracker);
  return rc;
}

const cli_command cli_cmd_query = {"query", usage, run};
