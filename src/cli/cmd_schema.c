/*
 * cmd_schema.c - `gf schema FILE`: the file's columns (name, type,
 * nullability, null count) and its row count, one column per line; for an
 * Arrow IPC file also the schema's custom metadata.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: gf schema [OPTIONS] FILE...\n\n"
    "Reads FILE (CSV, TSV, JSON, Arrow IPC or Parquet, recognised by content;\n"
    "several FILEs, a glob or a directory are one table) and prints its row\n"
    "count and, for each column, the name, the type (inferred for CSV and JSON,\n"
    "as stored for IPC and Parquet), whether it is nullable and how many nulls\n"
    "it holds; an Arrow IPC file is described from its metadata alone (null\n"
    "counts as its writer recorded them), with the schema's custom metadata,\n"
    "one 'key: value' line each; a Parquet file from its footer alone (null\n"
    "counts shown as -).\n\n"
    "Options:\n" CLI_FORMAT_USAGE
    "                      (table: the text above; the others: one row per\n"
    "                      column with name, type, nullable, nulls)\n" CLI_READ_USAGE;

/* Prints the table of columns with aligned names and types; nulls[i] is
 * column i's null count, "-" for every column when nulls is NULL (a
 * Parquet footer-only read). */
static void print_schema(const char *path, const gf_schema *s, int64_t rows,
                         const int64_t *nulls) {
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
    gf_type_format(fl->type, type, sizeof type);
    char nb[32];
    if (nulls) snprintf(nb, sizeof nb, "%lld", (long long)nulls[i]);
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

/* An Arrow IPC file or stream: only its metadata is read
 * (gf_ipc_read_schema), so the time and memory do not grow with the data;
 * the null counts are those the writer recorded. */
static int run_ipc(const char *path, const cli_read_args *ra) {
  gf_parallel_options par;
  cli_parallel_options(ra->threads, &par);
  gf_ipc_metadata *meta = NULL;
  gf_ipc_read_options o;
  gf_ipc_read_options_init(&o);
  o.parallel = &par;
  o.input_mode = ra->read ? GF_INPUT_READ : GF_INPUT_MMAP;
  o.metadata = &meta;
  gf_ipc_file_info info;
  gf_ipc_file_info_init(&info);
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_ipc_read_schema(path, &o, &info, &err);
  if (st != GF_OK) {
    if (err.message[0] && !strstr(err.message, path) && st != GF_ECANCELED) {
      cli_error("schema: %s: %s", path, err.message);
      return CLI_EXIT_FAILURE;
    }
    return cli_fail("schema", st, &err);
  }
  print_schema(path, info.schema, info.num_rows, info.null_counts);
  print_metadata(meta);
  gf_ipc_metadata_free(meta);
  gf_ipc_file_info_release(&info);
  return CLI_EXIT_OK;
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

/* A Parquet file: only its footer is read (null counts would need the
 * data). `name` is what the user gave, `path` what to open. */
static int run_parquet(const char *name, const char *path) {
  gf_parquet_read_options po;
  gf_parquet_read_options_init(&po);
  gf_schema *s = NULL;
  int64_t rows = 0;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_parquet_read_schema(path, &po, &s, &rows, &err);
  if (st != GF_OK) return cli_fail("schema", st, &err);
  print_schema(name, s, rows, NULL);
  gf_schema_release(s);
  return CLI_EXIT_OK;
}

/* Parses options, reads FILE and prints its schema. */
static int run(int argc, char **argv) {
  enum { OPT_FORMAT = CLI_OPT_FIRST_FREE };
  static const struct option longopts[] = {
      CLI_READ_LONG_OPTIONS, {"format", required_argument, NULL, OPT_FORMAT}, {NULL, 0, NULL, 0}};
  cli_read_args ra = {0, 0, false, false, NULL, 0, GF_FORMAT_UNKNOWN, NULL, 0};
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
  if (optind == argc) return cli_usage_error("schema", "missing FILE");
  const char *const *inputs = (const char *const *)argv + optind;
  int ninputs = argc - optind;
  gf_frame *f = NULL;
  gf_ipc_metadata *meta = NULL; /* an IPC stream's custom metadata */
  if (cli_is_multi_input(inputs, ninputs)) {
    rc = cli_read_multi("schema", inputs, ninputs, &ra, 0, &f);
  } else {
    /* An IPC file (by content) prints from its metadata alone. */
    gf_parallel_options par;
    cli_parallel_options(ra.threads, &par);
    cli_input in;
    rc = cli_open_input("schema", argv[optind], &ra, &par, &in);
    if (rc) return rc;
    if (fmt == CLI_FORMAT_TABLE && in.format == GF_FORMAT_IPC_FILE && in.path && !in.spool &&
        !in.memfd_path[0]) {
      rc = run_ipc(in.path, &ra);
      cli_input_free(&in);
      return rc;
    }
    if (fmt == CLI_FORMAT_TABLE && in.format == GF_FORMAT_PARQUET && in.path) {
      rc = run_parquet(argv[optind], in.path);
      cli_input_free(&in);
      return rc;
    }
    rc = cli_read_input("schema", &in, &ra, 0, NULL, 0, &par, &f, &meta);
    cli_input_free(&in);
  }
  if (rc) return rc;
  if (fmt != CLI_FORMAT_TABLE) {
    gf_error err;
    gf_error_clear(&err);
    gf_status st = print_schema_as(f, fmt, ra.threads, &err);
    gf_ipc_metadata_free(meta);
    gf_frame_release(f);
    return st == GF_OK ? CLI_EXIT_OK : cli_fail("schema", st, &err);
  }
  const gf_schema *s = gf_frame_schema(f);
  int n = gf_schema_num_fields(s);
  int64_t *nulls = calloc((size_t)(n ? n : 1), sizeof *nulls);
  if (!nulls) {
    gf_frame_release(f);
    cli_error("schema: out of memory");
    return CLI_EXIT_FAILURE;
  }
  for (int i = 0; i < n; i++)
    for (int b = 0; b < gf_frame_num_batches(f); b++)
      nulls[i] += gf_array_null_count(gf_frame_column(f, b, i));
  print_schema(ninputs > 1 ? "(several files)" : argv[optind], s, gf_frame_num_rows(f), nulls);
  free(nulls);
  print_metadata(meta);
  gf_ipc_metadata_free(meta);
  gf_frame_release(f);
  return CLI_EXIT_OK;
}

const cli_command cli_cmd_schema = {"schema", usage, run};
