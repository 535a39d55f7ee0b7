/*
 * Many input files as one table for the commands that read (query, head,
 * describe, schema, convert): several paths, quoted globs and directories
 * become one scan_files plan source (include/gopherframe/files.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

bool cli_multi_option(const char *command, int opt, const char *arg, cli_read_args *a, int *rc) {
  (void)command;
  *rc = CLI_EXIT_OK;
  switch (opt) {
    case CLI_OPT_FILENAME_COLUMN:
      if (!arg[0]) {
        cli_usage_error(command, "--filename-column expects a column name");
        *rc = CLI_EXIT_USAGE;
      }
      a->filename_column = arg;
      return true;
    case CLI_OPT_HIVE:
      a->hive = GF_HIVE_ON;
      return true;
    case CLI_OPT_NO_HIVE:
      a->hive = GF_HIVE_OFF;
      return true;
    default:
      return false;
  }
}

bool cli_is_multi_input(const char *const *paths, int n) {
  if (n > 1) return true;
  if (n < 1 || strcmp(paths[0], "-") == 0) return false;
  struct stat sb;
  if (stat(paths[0], &sb) == 0) return S_ISDIR(sb.st_mode);
  return strpbrk(paths[0], "*?[") != NULL;
}

int cli_multi_plan(const char *command, const char *const *paths, int n, const cli_read_args *a,
                   int64_t max_rows, const gf_parallel_options *build, gf_plan **out) {
  gf_csv_read_options co;
  gf_csv_read_options_init(&co);
  co.delimiter = a->delimiter;
  if (a->no_header) co.header = 0;
  co.column_types = a->types;
  co.num_column_types = a->ntypes;
  co.input_mode = a->read ? GF_INPUT_READ : GF_INPUT_MMAP;
  gf_ipc_read_options io;
  gf_ipc_read_options_init(&io);
  io.input_mode = co.input_mode;
  gf_scan_files_options fo;
  gf_scan_files_options_init(&fo);
  fo.csv = &co;
  fo.ipc = &io;
  fo.filename_column = a->filename_column;
  fo.hive = (gf_hive_mode)a->hive;
  fo.max_rows = max_rows;
  /* Tuning knob for measurements (bench/multi_files.sh): the mean file
   * size up to which files are read concurrently, -1 = never. */
  const char *sfb = getenv("GF_SMALL_FILE_BYTES");
  if (sfb && *sfb) fo.small_file_bytes = strtoll(sfb, NULL, 10);
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_plan_scan_files(paths, n, &fo, build, out, &err);
  if (st == GF_OK) return CLI_EXIT_OK;
  cli_error("%s: %s", command, err.message[0] ? err.message : gf_status_string(st));
  return CLI_EXIT_FAILURE;
}

int cli_read_multi(const char *command, const char *const *paths, int n, const cli_read_args *a,
                   int64_t max_rows, gf_frame **out) {
  gf_parallel_options par;
  cli_parallel_options(a->threads, &par);
  gf_plan *src = NULL, *lim = NULL;
  int rc = cli_multi_plan(command, paths, n, a, max_rows, &par, &src);
  if (rc) return rc;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = GF_OK;
  if (max_rows > 0) st = gf_plan_limit(src, 0, max_rows, &lim, &err);
  else lim = gf_plan_retain(src);
  gf_plan_options po;
  gf_plan_options_init(&po);
  po.parallel = &par;
  if (st == GF_OK) st = gf_plan_collect(lim, &po, out, &err);
  gf_plan_release(lim);
  gf_plan_release(src);
  if (st == GF_OK) return CLI_EXIT_OK;
  cli_error("%s: %s", command, err.message[0] ? err.message : gf_status_string(st));
  return CLI_EXIT_FAILURE;
}
