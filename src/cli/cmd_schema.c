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
    "Reads FILE (CSV, Arrow IPC for .arrow .feather .ipc .arrows, JSON for\n"
    ".json .ndjson .jsonl) and prints its row count and, for each column, the\n"
    "name, the type (inferred for CSV and JSON, as stored for IPC), whether\n"
    "it is nullable and how many nulls it holds; for IPC also the schema's\n"
    "custom metadata, one 'key: value' line each.\n\n"
    "Options:\n" CLI_FORMAT_USAGE
    "                      (table: the text above; the others: one row per\n"
    "                      column with name, type, nullable, nulls)\n" CLI_READ_USAGE;

/* Prints the table of columns with aligned names and types. */
static void print_schema(const char *path, const gf_frame *f) {
  const gf_schema *s = gf_frame_schema(f);
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
  printf("file: %s\nrows: %lld\ncolumns: %d\n", path, (long long)gf_frame_num_rows(f), n);
  if (n == 0) return;
  printf("\n%-*s  %-*s  %-8s  %s\n", name_w, "name", type_w, "type", "nullable", "nulls");
  for (int i = 0; i < n; i++) {
    const gf_field *fl = gf_schema_field(s, i);
    int64_t nulls = 0;
    for (int b = 0; b < gf_frame_num_batches(f); b++)
      nulls += gf_array_null_count(gf_frame_column(f, b, i));
    gf_type_format(fl->type, type, sizeof type);
    printf("%-*s  %-*s  %-8s  %lld\n", name_w, fl->name, type_w, type,
           fl->nullable ? "true" : "false", (long long)nulls);
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

/* The schema as a frame (name, type, nullable, nulls: one row per
 * column) printed in `fmt`, for --format other than table. */
static gf_status print_schema_as(const gf_frame *f, cli_output_format fmt, int threads,
                                 gf_error *err) {
  const gf_schema *s = gf_frame_schema(f);
  int n = gf_schema_num_fields(s);
  gf_builder *b[4] = {NULL, NULL, NULL, NULL};
  const gf_datatype types[4] = {gf_type(GF_TYPE_UTF8), gf_type(GF_TYPE_UTF8),
                                gf_type(GF_TYPE_BOOL), gf_type(GF_TYPE_INT64)};
  gf_array *cols[4] = {NULL, NULL, NULL, NULL};
  gf_frame *out = NULL;
  gf_status st = GF_OK;
  for (int k = 0; k < 4 && st == GF_OK; k++) st = gf_builder_new(types[k], NULL, &b[k], err);
  char type[128];
  for (int i = 0; i < n && st == GF_OK; i++) {
    const gf_field *fl = gf_schema_field(s, i);
    int64_t nulls = 0;
    for (int bt = 0; bt < gf_frame_num_batches(f); bt++)
      nulls += gf_array_null_count(gf_frame_column(f, bt, i));
    gf_type_format(fl->type, type, sizeof type);
    st = gf_builder_append_string(b[0], fl->name, err);
    if (st == GF_OK) st = gf_builder_append_string(b[1], type, err);
    if (st == GF_OK) st = gf_builder_append_bool(b[2], fl->nullable, err);
    if (st == GF_OK) st = gf_builder_append_int64(b[3], nulls, err);
  }
  for (int k = 0; k < 4 && st == GF_OK; k++) st = gf_builder_finish(b[k], &cols[k], err);
  const char *names[4] = {"name", "type", "nullable", "nulls"};
  if (st == GF_OK) st = gf_frame_from_columns(names, cols, 4, &out, err);
  if (st == GF_OK) {
    gf_parallel_options par;
    cli_parallel_options(threads, &par);
    st = cli_print_frame(out, fmt, NULL, &par, stdout, err);
  }
  gf_frame_release(out);
  for (int k = 0; k < 4; k++) {
    gf_builder_free(b[k]);
    gf_array_release(cols[k]);
  }
  return st;
}

/* Parses options, reads FILE and prints its schema. */
static int run(int argc, char **argv) {
  enum { OPT_FORMAT = CLI_OPT_FIRST_FREE };
  static const struct option longopts[] = {
      CLI_READ_LONG_OPTIONS, {"format", required_argument, NULL, OPT_FORMAT}, {NULL, 0, NULL, 0}};
  cli_read_args ra = {0, 0, false, false};
  cli_output_format fmt = CLI_FORMAT_TABLE;
  int opt, rc;
  while ((opt = getopt_long(argc, argv, "d:", longopts, NULL)) != -1) {
    if (cli_read_option("schema", opt, optarg, &ra, &rc)) {
      if (rc) return rc;
      continue;
    }
    if (opt == OPT_FORMAT) {
      if (!cli_parse_output_format("schema", optarg, &fmt)) return CLI_EXIT_USAGE;
      continue;
    }
    return cli_usage_error("schema", "unknown option '%s'", argv[optind - 1]);
  }
  if (optind + 1 != argc)
    return cli_usage_error("schema", optind == argc ? "missing FILE" : "expects one FILE");
  gf_frame *f = NULL;
  gf_ipc_metadata *meta = NULL;
  rc = cli_read_frame_meta("schema", argv[optind], &ra, &f, &meta);
  if (rc) return rc;
  if (fmt != CLI_FORMAT_TABLE) {
    gf_error err;
    gf_error_clear(&err);
    gf_status st = print_schema_as(f, fmt, ra.threads, &err);
    gf_ipc_metadata_free(meta);
    gf_frame_release(f);
    return st == GF_OK ? CLI_EXIT_OK : cli_fail("schema", st, &err);
  }
  print_schema(argv[optind], f);
  print_metadata(meta);
  gf_ipc_metadata_free(meta);
  gf_frame_release(f);
  return CLI_EXIT_OK;
}

const cli_command cli_cmd_schema = {"schema", usage, run};
