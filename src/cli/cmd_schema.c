/*
 * cmd_schema.c - `gf schema FILE`: the file's columns (name, type,
 * nullability, null count) and its row count, one column per line; for an
 * Arrow IPC file also the schema's custom metadata.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: gf schema [OPTIONS] FILE\n\n"
    "Reads FILE (CSV, Arrow IPC for .arrow .feather .ipc .arrows, Parquet\n"
    "for .parquet: its footer only, null counts shown as -) and\n"
    "prints its row count and, for each column, the name, the type (inferred\n"
    "for CSV, as stored for IPC), whether it is nullable and how many nulls it\n"
    "holds; for IPC also the schema's custom metadata, one 'key: value' line\n"
    "each.\n\n"
    "Options:\n" CLI_READ_USAGE;

/* Prints the table of columns with aligned names and types; null counts
 * from `f`, or "-" when it is NULL (a Parquet footer-only read). */
static void print_schema(const char *path, const gf_schema *s, int64_t rows, const gf_frame *f) {
  int n = gf_schema_num_fields(s);
  int name_w = 4, type_w = 4;
  char type[128];
  for (int i = 0; i < n; i++) {
    const gf_field *fl = gf_schema_field(s, i);
    int w = (int)strlen(fl->name);
    if (w > name_w) name_w = w;
    gf_type_format(fl->type, type, sizeof type);
    w = (int)strlen(type);
    if (w > type_w) type_w = w;
  }
  printf("file: %s\nrows: %lld\ncolumns: %d\n", path, (long long)rows, n);
  if (n == 0) return;
  printf("\n%-*s  %-*s  %-8s  %s\n", name_w, "name", type_w, "type", "nullable", "nulls");
  for (int i = 0; i < n; i++) {
    const gf_field *fl = gf_schema_field(s, i);
    int64_t nulls = 0;
    for (int b = 0; f && b < gf_frame_num_batches(f); b++)
      nulls += gf_array_null_count(gf_frame_column(f, b, i));
    gf_type_format(fl->type, type, sizeof type);
    char nb[32];
    if (f) snprintf(nb, sizeof nb, "%lld", (long long)nulls);
    else snprintf(nb, sizeof nb, "-");
    printf("%-*s  %-*s  %-8s  %s\n", name_w, fl->name, type_w, type,
           fl->nullable ? "true" : "false", nb);
  }
}

/* Prints "metadata:" and one indented "key: value" line per entry, line
 * breaks inside keys or values shown as \n so each entry stays one line. */
static void print_metadata(const gf_ipc_metadata *m) {
  if (!m || m->n == 0) return;
  printf("\nmetadata:\n");
  for (int i = 0; i < m->n; i++) {
    const char *parts[2] = {m->entries[i].key, m->entries[i].value};
    fputs("  ", stdout);
    for (int k = 0; k < 2; k++) {
      for (const char *c = parts[k]; c && *c; c++) {
        if (*c == '\n')
          fputs("\\n", stdout);
        else if (*c == '\r')
          fputs("\\r", stdout);
        else
          putchar(*c);
      }
      if (k == 0) fputs(": ", stdout);
    }
    putchar('\n');
  }
}

/* Parses options, reads FILE and prints its schema. */
static int run(int argc, char **argv) {
  static const struct option longopts[] = {CLI_READ_LONG_OPTIONS, {NULL, 0, NULL, 0}};
  cli_read_args ra = {0, 0, false, false};
  int opt, rc;
  while ((opt = getopt_long(argc, argv, "d:", longopts, NULL)) != -1) {
    if (cli_read_option("schema", opt, optarg, &ra, &rc)) {
      if (rc) return rc;
      continue;
    }
    return cli_usage_error("schema", "unknown option '%s'", argv[optind - 1]);
  }
  if (optind + 1 != argc)
    return cli_usage_error("schema", optind == argc ? "missing FILE" : "expects one FILE");
  if (cli_is_parquet_path(argv[optind])) {
    /* Only the footer is read: null counts would need the data. */
    gf_parquet_read_options po;
    gf_parquet_read_options_init(&po);
    gf_schema *s = NULL;
    int64_t rows = 0;
    gf_error err;
    gf_error_clear(&err);
    gf_status st = gf_parquet_read_schema(argv[optind], &po, &s, &rows, &err);
    if (st != GF_OK) return cli_fail("schema", st, &err);
    print_schema(argv[optind], s, rows, NULL);
    gf_schema_release(s);
    return CLI_EXIT_OK;
  }
  gf_frame *f = NULL;
  gf_ipc_metadata *meta = NULL;
  rc = cli_read_frame_meta("schema", argv[optind], &ra, &f, &meta);
  if (rc) return rc;
  print_schema(argv[optind], gf_frame_schema(f), gf_frame_num_rows(f), f);
  print_metadata(meta);
  gf_ipc_metadata_free(meta);
  gf_frame_release(f);
  return CLI_EXIT_OK;
}

const cli_command cli_cmd_schema = {"schema", usage, run};
