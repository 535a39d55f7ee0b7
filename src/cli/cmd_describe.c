/*
 * cmd_describe.c - `gf describe FILE`: summary statistics per column
 * (gf_describe: count, null_count, n_unique, mean, std, min, quartiles,
 * max), printed as a table like Polars' describe().
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

static const char usage[] =
    "Usage: gf describe [OPTIONS] FILE...\n\n"
    "Prints count, null_count, n_unique (strings), mean, std, min, quartiles\n"
    "and max of every column of FILE (CSV, TSV, JSON, Arrow IPC or Parquet, by\n"
    "content; several FILEs, a glob or a directory are one table) as a table.\n\n"
    "Options:\n"
    "      --ascii         ASCII borders instead of box drawing\n" CLI_FORMAT_USAGE
    CLI_READ_USAGE;

/* Parses options, reads FILE, summarises its columns in parallel and
 * prints the table; returns the exit code. */
static int run(int argc, char **argv) {
  enum { OPT_ASCII = CLI_OPT_FIRST_FREE, OPT_FORMAT };
  static const struct option longopts[] = {
      CLI_READ_LONG_OPTIONS, {"ascii", no_argument, NULL, OPT_ASCII},
      {"format", required_argument, NULL, OPT_FORMAT}, {NULL, 0, NULL, 0}};
  cli_output_format fmt = CLI_FORMAT_TABLE;
  cli_read_args ra = {0, 0, false, false, NULL, 0, GF_FORMAT_UNKNOWN, NULL, 0};
  bool ascii = false;
  int opt, rc;
  while ((opt = getopt_long(argc, argv, "d:", longopts, NULL)) != -1) {
    if (cli_read_option("describe", opt, optarg, &ra, &rc)) {
      if (rc) return rc;
      continue;
    }
    if (opt == OPT_ASCII) {
      ascii = true;
      continue;
    }
    if (opt == OPT_FORMAT) {
      if (!cli_parse_output_format("describe", optarg, &fmt)) return CLI_EXIT_USAGE;
      continue;
    }
    return cli_usage_error("describe", "unknown option '%s'", argv[optind - 1]);
  }
  if (optind == argc) return cli_usage_error("describe", "missing FILE");
  const char *const *inputs = (const char *const *)argv + optind;
  int ninputs = argc - optind;
  gf_frame *f = NULL;
  if (cli_is_multi_input(inputs, ninputs))
    rc = cli_read_multi("describe", inputs, ninputs, &ra, 0, &f);
  else
    rc = cli_read_frame("describe", argv[optind], &ra, 0, &f);
  if (rc) return rc;

  gf_error err;
  gf_error_clear(&err);
  gf_parallel_options p;
  cli_parallel_options(ra.threads, &p);
  gf_frame *table = NULL;
  gf_status st = gf_describe(f, &p, &table, &err);
  if (st == GF_OK) {
    gf_print_options po;
    gf_print_options_init(&po);
    po.max_rows = gf_frame_num_rows(table); /* every statistic */
    po.max_columns = -1;
    po.ascii = ascii;
    st = cli_print_frame(table, fmt, &po, &p, stdout, &err);
  }
  gf_frame_release(table);
  gf_frame_release(f);
  return st == GF_OK ? CLI_EXIT_OK : cli_fail("describe", st, &err);
}

const cli_command cli_cmd_describe = {"describe", usage, run};
