/*
 * cmd_query.c - `gf query FILE ...`: reads a file and runs a query pipeline
 * (include/gopherframe/query.h) over it: join, then the --filter/--with
 * steps in the order given (fused with --select when nothing blocks in
 * between), group-by/aggregates, sort, select, limit. Prints a table on a
 * terminal and CSV otherwise, or writes -o FILE.
 *
 * The command line is checked completely (expressions parsed, aggregate
 * and sort specs parsed) before the file is read, so a typo costs nothing.
 * --timeout-ms is one deadline for the whole command, reading and writing
 * included: every library call gets the time left. --memory-limit puts one
 * tracking allocator under every call, so the limit covers the command's
 * total, not each call's.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "gopherframe/query.h"

static const char usage[] =
    "Usage: gf query FILE [OPTIONS]\n\n"
    "Runs a query over FILE (CSV, or Arrow IPC for .arrow .feather .ipc\n"
    ".arrows) in parallel and prints the result.\n"
    "Steps run in this order: --join, then every --filter and --with in the\n"
    "order given (a --with may use the columns of earlier --with options,\n"
    "and a later --filter may test them), --group-by/--agg, --sort,\n"
    "--select, --distinct, --limit. Filters, computed columns and the selection run\n"
    "fused in one parallel pass over the rows.\n\n"
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
    "      --sort KEYS       e.g. 'v3 desc, id1' ('nulls first|last' may follow)\n"
    "      --distinct[=COLS] keep the first row of every distinct COLS (default:\n"
    "                        all output columns), whole rows, in order\n"
    "                        (-0.0 = 0.0, NaN = NaN, nulls equal)\n"
    "      --limit N         keep the first N rows (after --sort: the top N)\n\n"
    "Output:\n"
    "  -o, --output FILE     write FILE: Arrow IPC for .arrow .feather .ipc\n"
    "                        (.arrows: stream), CSV otherwise; nothing is\n"
    "                        written when the query fails\n"
    "      --format F        table or csv for standard output (default: table\n"
    "                        when standard output is a terminal, else csv)\n"
    "      --rows N          rows a table shows (default 10)\n"
    "      --ascii           ASCII table borders\n\n"
    "Execution:\n"
    "      --chunk-rows N    rows per morsel (default: chosen by --strategy)\n"
    "      --strategy S      auto (default), fixed, cache or memory\n"
    "      --timeout-ms N    fail (exit 1) when the whole command, reading\n"
    "                        included, takes longer than N ms\n"
    "      --memory-limit B  fail (exit 1) when the command's memory would\n"
    "                        exceed B bytes (suffixes K, M, G, T: 512M, 2G)\n"
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
  OPT_SORT,
  OPT_LIMIT,
  OPT_FORMAT,
  OPT_ROWS,
  OPT_ASCII,
  OPT_CHUNK_ROWS,
  OPT_STRATEGY,
  OPT_TIMEOUT,
  OPT_MEMORY,
  OPT_STATS,
  OPT_DISTINCT
};

#define MAX_STEPS 256

/* One --filter or --with, in command-line order. */
typedef struct qstep {
  bool is_with;
  const char *text; /* the whole argument */
} qstep;

typedef struct qargs {
  cli_read_args ra;
  qstep steps[MAX_STEPS];
  int nsteps;
  const char *select, *join, *on, *how, *group_by, *agg, *sort, *output, *format;
  const char *distinct; /* "" = every output column, NULL = no --distinct */
  int64_t limit; /* -1 = none */
  int64_t rows;
  bool ascii, stats;
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

/* Parses BYTES with an optional K/M/G/T suffix (powers of 1024, an
 * optional trailing B or iB). */
static bool parse_bytes(const char *text, int64_t *out) {
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
  cli_usage_error("query", "--memory-limit expects a positive size like 512M or 2G, got '%s'",
                  text);
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
      {"sort", required_argument, NULL, OPT_SORT},
      {"limit", required_argument, NULL, OPT_LIMIT},
      {"output", required_argument, NULL, 'o'},
      {"format", required_argument, NULL, OPT_FORMAT},
      {"rows", required_argument, NULL, OPT_ROWS},
      {"ascii", no_argument, NULL, OPT_ASCII},
      {"chunk-rows", required_argument, NULL, OPT_CHUNK_ROWS},
      {"strategy", required_argument, NULL, OPT_STRATEGY},
      {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
      {"memory-limit", required_argument, NULL, OPT_MEMORY},
      {"stats", no_argument, NULL, OPT_STATS},
      {"distinct", optional_argument, NULL, OPT_DISTINCT},
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
      case OPT_SELECT: q->select = optarg; break;
      case OPT_JOIN: q->join = optarg; break;
      case OPT_ON: q->on = optarg; break;
      case OPT_HOW: q->how = optarg; break;
      case OPT_GROUP_BY: q->group_by = optarg; break;
      case OPT_AGG: q->agg = optarg; break;
      case OPT_SORT: q->sort = optarg; break;
      case 'o': q->output = optarg; break;
      case OPT_FORMAT:
        if (strcmp(optarg, "table") != 0 && strcmp(optarg, "csv") != 0)
          return cli_usage_error("query", "--format expects table or csv, got '%s'", optarg);
        q->format = optarg;
        break;
      case OPT_LIMIT:
        if (!cli_parse_int64("query", "--limit", optarg, 0, INT64_MAX, &q->limit))
          return CLI_EXIT_USAGE;
        break;
      case OPT_ROWS:
        if (!cli_parse_int64("query", "--rows", optarg, 0, INT64_MAX / 2, &q->rows))
          return CLI_EXIT_USAGE;
        break;
      case OPT_ASCII: q->ascii = true; break;
      case OPT_STATS: q->stats = true; break;
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
        if (!parse_bytes(optarg, &q->memory_limit)) return CLI_EXIT_USAGE;
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
  if (optind + 1 != argc) return cli_usage_error("query", "expects one FILE, got also '%s'", argv[optind + 1]);
  if (q->join && !q->on) return cli_usage_error("query", "--join needs --on KEYS");
  if (!q->join && (q->on || q->how)) return cli_usage_error("query", "--on and --how need --join FILE2");
  if (q->output && q->format && strcmp(q->format, "table") == 0)
    return cli_usage_error("query", "--format table is for standard output; -o writes CSV or Arrow IPC");
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

/* The one error line for a failed library call; returns the exit code:
 * 2 for errors in the query itself (types, unknown names), 1 otherwise. */
static int report_failure(const qrun *r, const char *what, gf_status st, const gf_error *err) {
  if (st == GF_ETIMEDOUT) {
    cli_error("query: %stimed out after %lld ms (--timeout-ms)", what ? what : "",
              (long long)r->q->timeout_ms);
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
  cli_fail("query", st, err);
  return (st == GF_EINVAL || st == GF_ETYPE || st == GF_EPARSE) ? CLI_EXIT_USAGE
                                                                 : CLI_EXIT_FAILURE;
}

/* --stats: one header line per step, then the runtime table. */
static void print_step(const char *name, int64_t rows_in, int64_t rows_out, int64_t wall_ns,
                       const gf_exec_stats *s) {
  char ms[32];
  fmt_ms(ms, sizeof ms, wall_ns);
  if (rows_in >= 0)
    fprintf(stderr, "stats: %s: %lld -> %lld rows in %s ms\n", name, (long long)rows_in,
            (long long)rows_out, ms);
  else
    fprintf(stderr, "stats: %s: %lld rows in %s ms\n", name, (long long)rows_out, ms);
  if (s) gf_exec_stats_print(s, stderr);
}

static void on_step(void *user, const gf_pipeline_step_info *info) {
  (void)user;
  print_step(info->name, info->rows_in, info->rows_out, info->wall_ns, info->stats);
}

/* Reads `path` (only `columns` when not NULL) within the deadline. */
static int read_input(const qrun *r, const char *path, int64_t max_rows,
                      const name_list *columns, bool quiet, gf_frame **out) {
  gf_exec_stats stats;
  memset(&stats, 0, sizeof stats);
  gf_parallel_options o;
  if (!call_options(r, r->q->stats ? &stats : NULL, &o)) return CLI_EXIT_FAILURE;
  /* Reading has its own chunking. */
  o.chunk_rows = 0;
  o.strategy = GF_STRATEGY_AUTO;
  int64_t t0 = now_ns();
  int rc = cli_read_frame_opts("query", path, &r->q->ra, max_rows,
                               columns ? (const char *const *)columns->names : NULL,
                               columns ? columns->n : 0, &o, out);
  if (rc == CLI_EXIT_OK && r->q->stats && !quiet) {
    char name[300];
    if (columns)
      snprintf(name, sizeof name, "read %.250s (%d columns)", path, columns->n);
    else
      snprintf(name, sizeof name, "read %.280s", path);
    print_step(name, -1, gf_frame_num_rows(*out), now_ns() - t0, stats.size ? &stats : NULL);
  }
  return rc;
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

/* Builds the pipeline from the command line (everything but the join,
 * which needs the second file). Returns 0 or the exit code. */
static int build_pipeline(const qargs *q, gf_pipeline *p, name_list *select) {
  gf_error err;
  gf_error_clear(&err);
  gf_status st = GF_OK;
  int rc = CLI_EXIT_OK;
  for (int i = 0; i < q->nsteps && rc == CLI_EXIT_OK; i++) {
    const qstep *s = &q->steps[i];
    gf_expr *e = NULL;
    if (!s->is_with) {
      rc = parse_expr("--filter", s->text, &e);
      if (rc == CLI_EXIT_OK) st = gf_pipeline_add_filter(p, e, &err);
    } else {
      const char *eq = strchr(s->text, '=');
      if (!eq || eq == s->text)
        return cli_usage_error("query", "--with expects NAME=EXPR, got '%s'", s->text);
      char *name = strndup(s->text, (size_t)(eq - s->text));
      if (!name) return cli_fail("query", GF_ENOMEM, NULL);
      /* Trim spaces around the name: 'x = a + 1' reads naturally. */
      size_t n = strlen(name);
      while (n > 0 && name[n - 1] == ' ') name[--n] = '\0';
      const char *nm = name;
      while (*nm == ' ') nm++;
      if (!*nm) {
        free(name);
        return cli_usage_error("query", "--with expects NAME=EXPR, got '%s'", s->text);
      }
      rc = parse_expr("--with", eq + 1, &e);
      if (rc == CLI_EXIT_OK) st = gf_pipeline_add_with(p, &nm, &e, 1, &err);
      free(name);
    }
    gf_expr_release(e);
    if (rc == CLI_EXIT_OK && st != GF_OK) return cli_fail("query", st, &err);
  }
  if (rc) return rc;
  if (q->group_by || q->agg) {
    name_list keys = {0, NULL};
    if (q->group_by && !parse_names("--group-by", q->group_by, &keys)) return CLI_EXIT_USAGE;
    st = gf_pipeline_add_group_by(p, (const char *const *)keys.names, keys.n, q->agg, false, &err);
    names_free(&keys);
    if (st != GF_OK) {
      if (st == GF_ENOMEM) return cli_fail("query", st, &err);
      cli_error("query: --agg '%s': %s", q->agg ? q->agg : "", err.message);
      return CLI_EXIT_USAGE;
    }
  }
  if (q->sort) {
    gf_sort_key *keys = NULL;
    int nkeys = 0;
    st = gf_sort_keys_parse(q->sort, &keys, &nkeys, &err);
    if (st == GF_OK) st = gf_pipeline_add_sort(p, keys, nkeys, &err);
    gf_sort_keys_free(keys);
    if (st != GF_OK) {
      if (st == GF_ENOMEM) return cli_fail("query", st, &err);
      cli_error("query: --sort '%s': %s", q->sort, err.message);
      return CLI_EXIT_USAGE;
    }
  }
  if (select->n > 0) {
    st = gf_pipeline_add_select(p, (const char *const *)select->names, select->n, &err);
    if (st != GF_OK) return cli_fail("query", st, &err);
  }
  if (q->limit >= 0 && !q->distinct) { /* with --distinct: after it (run) */
    st = gf_pipeline_add_limit(p, q->limit, &err);
    if (st != GF_OK) return cli_fail("query", st, &err);
  }
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

/* Writes the result: -o FILE by extension, else a table or CSV on stdout. */
static int write_output(const qrun *r, const gf_frame *f) {
  const qargs *q = r->q;
  gf_exec_stats stats;
  memset(&stats, 0, sizeof stats);
  gf_parallel_options o;
  if (!call_options(r, q->stats ? &stats : NULL, &o)) return CLI_EXIT_FAILURE;
  gf_error err;
  gf_error_clear(&err);
  gf_status st;
  int64_t t0 = now_ns();
  const char *what = "write";
  if (q->output) {
    bool stream = cli_is_ipc_stream_path(q->output);
    if (cli_is_ipc_path(q->output)) {
      gf_ipc_write_options io;
      gf_ipc_write_options_init(&io);
      io.parallel = &o;
      st = stream ? gf_write_ipc_stream(f, q->output, &io, &err)
                  : gf_write_ipc_file(f, q->output, &io, &err);
    } else {
      gf_csv_write_options wo;
      gf_csv_write_options_init(&wo);
      wo.parallel = &o;
      st = gf_write_csv(f, q->output, &wo, &err);
    }
  } else {
    bool table = q->format ? strcmp(q->format, "table") == 0 : isatty(STDOUT_FILENO);
    if (table) {
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
    if (st == GF_ETIMEDOUT || st == GF_ECANCELED ||
        (st == GF_ENOMEM && r->tracker))
      return report_failure(r, NULL, st, &err);
    return cli_fail(q->output ? q->output : "query", st, &err);
  }
  if (q->stats) print_step(what, -1, gf_frame_num_rows(f), now_ns() - t0, stats.size ? &stats : NULL);
  return CLI_EXIT_OK;
}

/* True when the steps before the limit never drop or reorder rows, so
 * reading only the first rows gives the same answer. */
static bool limit_can_cut_read(const qargs *q) {
  if (q->limit < 0 || q->join || q->group_by || q->agg || q->sort || q->distinct) return false;
  for (int i = 0; i < q->nsteps; i++)
    if (!q->steps[i].is_with) return false;
  return true;
}

/* Adds `name` to the list unless present. False when out of memory. */
static bool add_unique(name_list *l, const char *name, size_t len, size_t *cap) {
  for (int i = 0; i < l->n; i++)
    if (strlen(l->names[i]) == len && memcmp(l->names[i], name, len) == 0) return true;
  if ((size_t)l->n == *cap) {
    size_t nc = *cap ? *cap * 2 : 16;
    char **nn = realloc(l->names, nc * sizeof *nn);
    if (!nn) return false;
    l->names = nn;
    *cap = nc;
  }
  l->names[l->n] = strndup(name, len);
  if (!l->names[l->n]) return false;
  l->n++;
  return true;
}

/* Every identifier of `text` (bare, "quoted" or `quoted`; string literals
 * skipped) into `l`: a superset of the column names the text can refer
 * to (function names and keywords come along, and are harmless). */
static bool collect_idents(const char *text, name_list *l, size_t *cap) {
  const char *p = text;
  while (p && *p) {
    char c = *p;
    if (c == '\'') {
      for (p++; *p; p++)
        if (*p == '\'' && *++p != '\'') break;
    } else if (c == '"' || c == '`') {
      /* Unescaped into a buffer as long as the text (names of any length). */
      size_t cap0 = strlen(p) + 1, n = 0;
      char *buf = malloc(cap0);
      if (!buf) return false;
      for (p++; *p; p++) {
        if (*p == c && p[1] != c) {
          p++;
          break;
        }
        if (*p == c) p++;
        buf[n++] = *p;
      }
      buf[n] = '\0'; /* n < cap0: a C string for strndup's checks */
      bool ok = add_unique(l, buf, n, cap);
      free(buf);
      if (!ok) return false;
    } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_') {
      const char *b = p;
      while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
             *p == '_')
        p++;
      if (!add_unique(l, b, (size_t)(p - b), cap)) return false;
    } else if (c >= '0' && c <= '9') {
      /* 1e5, 0x1f: digits glue to the letters that follow. */
      while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
             *p == '.' || *p == '_')
        p++;
    } else {
      p++;
    }
  }
  return true;
}

/* Columns of FILE the query can read: the identifiers of every option
 * that names columns, kept in file order when the file has them. Sets
 * *all when everything must be read (no --select and no aggregation: the
 * output is every column). Returns 0 or the exit code. */
static int needed_columns(const qrun *r, const char *path, const name_list *on_left,
                          name_list *out, bool *all) {
  const qargs *q = r->q;
  memset(out, 0, sizeof *out);
  /* A join names its clashing right columns after the left ones, so the
   * left side is read whole to keep those names what the user sees. */
  *all = (!q->select && !q->group_by && !q->agg) || q->join;
  /* Reading the header first would consume a pipe or a terminal: only a
   * regular file (or stdin redirected from one) is opened twice. */
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) *all = true;
  if (*all) return CLI_EXIT_OK;
  name_list ids = {0, NULL};
  size_t cap = 0;
  bool ok = true;
  for (int i = 0; i < q->nsteps && ok; i++) {
    const char *t = q->steps[i].text;
    if (q->steps[i].is_with) t = strchr(t, '=') ? strchr(t, '=') + 1 : t;
    ok = collect_idents(t, &ids, &cap);
  }
  /* Expressions (agg) by their identifiers; name lists (select, group-by)
   * and sort specs by the names they list, exactly: "my col", x.y, é. */
  if (q->agg && ok) ok = collect_idents(q->agg, &ids, &cap);
  const char *lists[] = {q->select, q->group_by};
  const char *opt[] = {"--select", "--group-by"};
  for (size_t i = 0; i < 2 && ok; i++) {
    name_list nl = {0, NULL};
    if (!lists[i]) continue;
    if (!parse_names(opt[i], lists[i], &nl)) {
      names_free(&ids);
      return CLI_EXIT_USAGE;
    }
    for (int k = 0; k < nl.n && ok; k++) ok = add_unique(&ids, nl.names[k], strlen(nl.names[k]), &cap);
    names_free(&nl);
  }
  if (q->sort && ok) {
    gf_sort_key *keys = NULL;
    int nkeys = 0;
    gf_error err;
    if (gf_sort_keys_parse(q->sort, &keys, &nkeys, &err) == GF_OK) {
      for (int k = 0; k < nkeys && ok; k++)
        ok = add_unique(&ids, keys[k].column, strlen(keys[k].column), &cap);
      gf_sort_keys_free(keys);
    }
  }
  for (int i = 0; on_left && i < on_left->n && ok; i++)
    ok = add_unique(&ids, on_left->names[i], strlen(on_left->names[i]), &cap);
  if (!ok) {
    names_free(&ids);
    cli_error("query: out of memory");
    return CLI_EXIT_FAILURE;
  }
  /* The header: one row read with the same options. */
  gf_frame *head = NULL;
  int rc = read_input(r, path, 1, NULL, true, &head);
  if (rc) {
    names_free(&ids);
    return rc;
  }
  const gf_schema *sc = gf_frame_schema(head);
  int nf = gf_schema_num_fields(sc);
  out->names = calloc((size_t)nf + 1, sizeof *out->names);
  for (int c = 0; out->names && c < nf && ok; c++) {
    const char *name = gf_schema_field(sc, c)->name;
    for (int i = 0; i < ids.n; i++)
      if (strcmp(ids.names[i], name) == 0) {
        out->names[out->n] = strdup(name);
        ok = out->names[out->n++] != NULL;
        break;
      }
  }
  /* At least one column, so the row count survives (e.g. --agg 'count()'). */
  if (out->names && ok && out->n == 0 && nf > 0) {
    out->names[0] = strdup(gf_schema_field(sc, 0)->name);
    ok = out->names[out->n++] != NULL;
  }
  if (out->n == nf) *all = true;
  gf_frame_release(head);
  names_free(&ids);
  if (!out->names || !ok) {
    names_free(out);
    cli_error("query: out of memory");
    return CLI_EXIT_FAILURE;
  }
  return CLI_EXIT_OK;
}

/* --distinct (then --limit) on the pipeline's result, replacing *result. */
static int apply_distinct(const qrun *r, gf_frame **result) {
  name_list keys = {0, NULL};
  if (*r->q->distinct && !parse_names("--distinct", r->q->distinct, &keys)) return CLI_EXIT_USAGE;
  gf_error err;
  gf_error_clear(&err);
  gf_parallel_options o;
  if (!call_options(r, NULL, &o)) {
    names_free(&keys);
    return CLI_EXIT_FAILURE;
  }
  gf_frame *d = NULL;
  gf_status st = gf_distinct(*result, (const char *const *)keys.names, keys.n, &o, &d, &err);
  names_free(&keys);
  if (st == GF_EINVAL) {
    cli_error("query: --distinct '%s': %s", r->q->distinct, err.message);
    return CLI_EXIT_USAGE;
  }
  if (st != GF_OK) return report_failure(r, NULL, st, &err);
  gf_frame_release(*result);
  *result = d;
  if (r->q->limit >= 0 && r->q->limit < gf_frame_num_rows(d)) {
    st = gf_frame_slice(d, 0, r->q->limit, result, &err);
    gf_frame_release(d);
    if (st != GF_OK) {
      *result = NULL;
      return cli_fail("query", st, &err);
    }
  }
  return CLI_EXIT_OK;
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
  const char *path = argv[argc - 1];

  name_list select = {0, NULL}, on_left = {0, NULL}, on_right = {0, NULL};
  gf_join_kind how = GF_JOIN_INNER;
  gf_pipeline *p = NULL;
  gf_frame *f = NULL, *right = NULL, *result = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st;

  /* Everything the command line says is checked before reading. */
  if (q.select && !parse_names("--select", q.select, &select)) return CLI_EXIT_USAGE;
  if (q.join && !parse_on(q.on, &on_left, &on_right)) {
    rc = CLI_EXIT_USAGE;
    goto done;
  }
  if (q.how && gf_join_kind_parse(q.how, &how, &err) != GF_OK) {
    rc = cli_usage_error("query", "--how expects inner, left, right, full, semi or anti, got '%s'",
                         q.how);
    goto done;
  }
  st = gf_pipeline_new(&p, &err);
  if (st != GF_OK) {
    rc = cli_fail("query", st, &err);
    goto done;
  }
  rc = build_pipeline(&q, p, &select);
  if (rc) goto done;

  cli_parallel_options(q.ra.threads, &r.par);
  r.par.chunk_rows = q.chunk_rows;
  r.par.strategy = q.strategy;
  if (q.memory_limit > 0) {
    st = gf_tracking_allocator_new(NULL, q.memory_limit, &r.tracker, &err);
    if (st != GF_OK) {
      rc = cli_fail("query", st, &err);
      goto done;
    }
    r.par.allocator = gf_tracking_allocator_get(r.tracker);
    /* Also per call, so the runtime eases off before the limit. */
    r.par.memory_limit = q.memory_limit;
  }

  int64_t max_rows = 0;
  if (limit_can_cut_read(&q)) max_rows = q.limit > 0 ? q.limit : 1;
  {
    /* Parse only the columns the query can touch. */
    name_list cols = {0, NULL};
    bool all = true;
    rc = needed_columns(&r, path, q.join ? &on_left : NULL, &cols, &all);
    if (rc == CLI_EXIT_OK) rc = read_input(&r, path, max_rows, all ? NULL : &cols, false, &f);
    names_free(&cols);
  }
  if (rc) goto done;
  if (q.join) {
    rc = read_input(&r, q.join, 0, NULL, false, &right);
    if (rc) goto done;
    /* The join goes first: rebuild the pipeline with it in front. */
    gf_pipeline *pj = NULL;
    st = gf_pipeline_new(&pj, &err);
    if (st == GF_OK)
      st = gf_pipeline_add_join(pj, right, (const char *const *)on_left.names,
                                (const char *const *)on_right.names, on_left.n, how, NULL, &err);
    if (st != GF_OK) {
      gf_pipeline_free(pj);
      rc = cli_fail("query", st, &err);
      goto done;
    }
    rc = build_pipeline(&q, pj, &select);
    gf_pipeline_free(p);
    p = pj;
    if (rc) goto done;
  }
  if (q.stats) gf_pipeline_set_observer(p, on_step, NULL);
  {
    gf_parallel_options o;
    if (!call_options(&r, NULL, &o)) {
      rc = CLI_EXIT_FAILURE;
      goto done;
    }
    st = gf_pipeline_run(p, f, &o, &result, &err);
    if (st != GF_OK) {
      rc = report_failure(&r, NULL, st, &err);
      goto done;
    }
  }
  gf_frame_release(f);
  f = NULL;
  if (q.distinct) {
    rc = apply_distinct(&r, &result);
    if (rc) goto done;
  }
  rc = write_output(&r, result);
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
  gf_frame_release(result);
  gf_frame_release(f);
  gf_frame_release(right);
  gf_pipeline_free(p);
  names_free(&select);
  names_free(&on_left);
  names_free(&on_right);
  /* Every frame is gone: the tracker may go too. */
  gf_tracking_allocator_free(r.tracker);
  return rc;
}

const cli_command cli_cmd_query = {"query", usage, run};
