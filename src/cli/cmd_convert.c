/*
 * cmd_convert.c - `gf convert IN OUT`: reads IN and writes OUT, the formats
 * chosen by extension. CSV to CSV works now (re-delimiting, normalising
 * quoting and number text); Arrow IPC (.arrow .feather .ipc .arrows) comes
 * with issue 7 and is refused with a clear message. OUT is written to a
 * temporary file and renamed, so a failed conversion leaves no partial file.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: gf convert [OPTIONS] IN OUT\n\n"
    "Converts IN to OUT, formats chosen by extension: .csv (or anything else)\n"
    "is CSV; .arrow .feather .ipc (files) and .arrows (streams) are Arrow IPC,\n"
    "which this build cannot read or write yet (see issue 7).\n"
    "OUT is replaced only when the whole conversion succeeded.\n\n"
    "Options:\n"
    "      --out-delimiter C   delimiter of a CSV OUT (default ',')\n"
    "      --null TEXT         how nulls are written in a CSV OUT (default empty)\n" CLI_READ_USAGE;

enum { OPT_OUT_DELIM = CLI_OPT_FIRST_FREE, OPT_NULL };

/* Parses options, reads IN, writes OUT atomically; returns the exit code. */
static int run(int argc, char **argv) {
  static const struct option longopts[] = {
      CLI_READ_LONG_OPTIONS,
      {"out-delimiter", required_argument, NULL, OPT_OUT_DELIM},
      {"null", required_argument, NULL, OPT_NULL},
      {NULL, 0, NULL, 0}};
  cli_read_args ra = {0, 0, false};
  char out_delim = ',';
  const char *null_text = NULL;
  int opt, rc;
  while ((opt = getopt_long(argc, argv, "d:", longopts, NULL)) != -1) {
    if (cli_read_option("convert", opt, optarg, &ra, &rc)) {
      if (rc) return rc;
      continue;
    }
    if (opt == OPT_OUT_DELIM) {
      if (!cli_parse_delimiter("convert", "--out-delimiter", optarg, &out_delim))
        return CLI_EXIT_USAGE;
    } else if (opt == OPT_NULL) {
      null_text = optarg;
    } else {
      return cli_usage_error("convert", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (argc - optind != 2)
    return cli_usage_error("convert", argc - optind < 2 ? "expects IN and OUT" : "expects only IN and OUT");
  const char *in = argv[optind], *out = argv[optind + 1];
  if (cli_is_ipc_path(out)) {
    cli_error("convert: %s: writing Arrow IPC files is not supported yet in this build (see issue 7)",
              out);
    return CLI_EXIT_FAILURE;
  }
  gf_frame *f = NULL;
  rc = cli_read_frame("convert", in, &ra, 0, &f);
  if (rc) return rc;

  gf_parallel_options p;
  cli_parallel_options(ra.threads, &p);
  gf_csv_write_options o;
  gf_csv_write_options_init(&o);
  o.delimiter = out_delim;
  o.null_value = null_text;
  o.parallel = &p;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_write_csv(f, out, &o, &err);
  gf_frame_release(f);
  if (st == GF_ECANCELED && gf_cancel_requested(p.cancel)) {
    cli_error("convert: interrupted; %s was not written", out);
    return CLI_EXIT_FAILURE;
  }
  return st == GF_OK ? CLI_EXIT_OK : cli_fail("convert", st, &err);
}

const cli_command cli_cmd_convert = {"convert", usage, run};
