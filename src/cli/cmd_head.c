/*
 * cmd_head.c - `gf head [-n N] FILE`: the first N rows as a table printed
 * like Polars (gf_frame_print). Only those rows are parsed.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

static const char usage[] =
    "Usage: gf head [OPTIONS] FILE...\n\n"
    "Prints the first rows of FILE (CSV, TSV, JSON, Arrow IPC or Parquet, by\n"
    "content; several FILEs, a glob or a directory are one table) as a table.\n\n"
    "Options:\n"
    "  -n, --rows N        rows to show (default 10)\n"
    "      --ascii         ASCII borders instead of box drawing\n" CLI_FORMAT_USAGE
    CLI_READ_USAGE;

enum { OPT_ASCII = CLI_OPT_FIRST_FREE, OPT_FORMAT };

/* Parses options, reads the first N rows and prints them. */
static int run(int argc, char **argv) {
  static const struct option longopts[] = {
      CLI_READ_LONG_OPTIONS, {"rows", required_argument, NULL, 'n'},
      {"ascii", no_argument, NULL, OPT_ASCII}, {"format", required_argument, NULL, OPT_FORMAT},
      {NULL, 0, NULL, 0}};
  cli_output_format fmt = CLI_FORMAT_TABLE;
  cli_read_args ra = {0, 0, false, false, NULL, 0, GF_FORMAT_UNKNOWN, NULL, 0};
  int64_t rows = 10;
  bool ascii = false;
  int opt, rc;
  while ((opt = getopt_long(argc, argv, "d:n:", longopts, NULL)) != -1) {
    if (cli_read_option("head", opt, optarg, &ra, &rc)) {
      if (rc) return rc;
      continue;
    }
    if (opt == 'n') {
      if (!cli_parse_int64("head", "-n", optarg, 0, INT64_MAX / 2, &rows)) return CLI_EXIT_USAGE;
    } else if (opt == OPT_ASCII) {
      ascii = true;
    } else if (opt == OPT_FORMAT) {
      if (!cli_parse_output_format("head", optarg, &fmt)) return CLI_EXIT_USAGE;
    } else {
      return cli_usage_error("head", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind == argc) return cli_usage_error("head", "missing FILE");
  const char *const *inputs = (const char *const *)argv + optind;
  int ninputs = argc - optind;
  gf_frame *f = NULL;
  /* max_rows 0 means "all" to the reader; asking for none still reads one
   * row so the types are those of the file, then shows none. */
  if (cli_is_multi_input(inputs, ninputs))
    rc = cli_read_multi("head", inputs, ninputs, &ra, rows > 0 ? rows : 1, &f);
  else
    rc = cli_read_frame("head", argv[optind], &ra, rows > 0 ? rows : 1, &f);
  if (rc) return rc;
  gf_frame *shown = f;
  gf_error err;
  gf_status st = GF_OK;
  if (gf_frame_num_rows(f) > rows) st = gf_frame_slice(f, 0, rows, &shown, &err);
  if (st == GF_OK) {
    gf_print_options po;
    gf_print_options_init(&po);
    po.max_rows = rows;
    po.ascii = ascii;
    gf_parallel_options par;
    cli_parallel_options(ra.threads, &par);
    st = cli_print_frame(shown, fmt, &po, &par, stdout, &err);
    if (shown != f) gf_frame_release(shown);
  }
  gf_frame_release(f);
  return st == GF_OK ? CLI_EXIT_OK : cli_fail("head", st, &err);
}

const cli_command cli_cmd_head = {"head", usage, run};
