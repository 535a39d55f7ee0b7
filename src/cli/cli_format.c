/*
 * cli_format.c - output formats for the gf tool: printing a result as a
 * table, CSV, TSV, JSON, NDJSON or a Markdown table (--format). JSON files
 * are read by cli_read_input and written by cli_write_frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

bool cli_parse_output_format(const char *command, const char *text, cli_output_format *out) {
  static const char *const names[] = {"table", "csv", "tsv", "json", "ndjson", "markdown"};
  for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
    if (strcmp(text, names[i]) == 0) {
      *out = (cli_output_format)i;
      return true;
    }
  if (strcmp(text, "jsonl") == 0) {
    *out = CLI_FORMAT_NDJSON;
    return true;
  }
  if (strcmp(text, "md") == 0) {
    *out = CLI_FORMAT_MARKDOWN;
    return true;
  }
  cli_usage_error(command, "--format expects table, csv, tsv, json, ndjson or markdown, got '%s'",
                  text);
  return false;
}

/* True for columns a Markdown table right-aligns. */
static bool is_numeric(gf_datatype t) {
  switch (t.id) {
    case GF_TYPE_INT8: case GF_TYPE_INT16: case GF_TYPE_INT32: case GF_TYPE_INT64:
    case GF_TYPE_UINT8: case GF_TYPE_UINT16: case GF_TYPE_UINT32: case GF_TYPE_UINT64:
    case GF_TYPE_FLOAT32: case GF_TYPE_FLOAT64: case GF_TYPE_DECIMAL128:
    case GF_TYPE_DECIMAL256:
      return true;
    default:
      return false;
  }
}

/* One Markdown cell: '|' escaped, line breaks as spaces. */
static void md_cell(FILE *out, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '|')
      fputs("\\|", out);
    else if (s[i] == '\n' || s[i] == '\r')
      fputc(' ', out);
    else
      fputc(s[i], out);
  }
}

/* A GitHub-flavoured Markdown table of every row (nulls as empty cells). */
static gf_status print_markdown(const gf_frame *f, FILE *out, gf_error *err) {
  const gf_schema *s = gf_frame_schema(f);
  int nc = gf_schema_num_fields(s);
  if (nc == 0) return GF_OK;
  fputc('|', out);
  for (int c = 0; c < nc; c++) {
    fputc(' ', out);
    const char *name = gf_schema_field(s, c)->name;
    md_cell(out, name, strlen(name));
    fputs(" |", out);
  }
  fputs("\n|", out);
  for (int c = 0; c < nc; c++) fputs(is_numeric(gf_schema_field(s, c)->type) ? " ---: |" : " --- |", out);
  fputc('\n', out);
  char small[256];
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t rows = gf_frame_batch_rows(f, b);
    for (int64_t i = 0; i < rows; i++) {
      fputc('|', out);
      for (int c = 0; c < nc; c++) {
        const gf_array *a = gf_frame_column(f, b, c);
        fputc(' ', out);
        if (!gf_array_is_null(a, i)) {
          int n = gf_array_format_value(a, i, small, sizeof small);
          if (n >= (int)sizeof small) {
            char *big = malloc((size_t)n + 1);
            if (!big) return gf_error_set(err, GF_ENOMEM, "out of memory formatting a cell");
            gf_array_format_value(a, i, big, (size_t)n + 1);
            md_cell(out, big, (size_t)n);
            free(big);
          } else if (n > 0) {
            md_cell(out, small, (size_t)n);
          }
        }
        fputs(" |", out);
      }
      fputc('\n', out);
    }
  }
  if (fflush(out) != 0 || ferror(out))
    return gf_error_set(err, GF_EIO, "writing standard output failed");
  return GF_OK;
}

gf_status cli_print_frame(const gf_frame *f, cli_output_format fmt, const gf_print_options *table,
                          const gf_parallel_options *parallel, FILE *out, gf_error *err) {
  switch (fmt) {
    case CLI_FORMAT_TABLE:
      return gf_frame_print(f, table, out, err);
    case CLI_FORMAT_CSV:
    case CLI_FORMAT_TSV: {
      gf_csv_write_options o;
      gf_csv_write_options_init(&o);
      o.delimiter = fmt == CLI_FORMAT_TSV ? '\t' : ',';
      o.parallel = parallel;
      return gf_write_csv_stream(f, out, &o, err);
    }
    case CLI_FORMAT_JSON:
    case CLI_FORMAT_NDJSON: {
      gf_json_write_options o;
      gf_json_write_options_init(&o);
      o.parallel = parallel;
      return fmt == CLI_FORMAT_JSON ? gf_write_json_stream(f, out, &o, err)
                                    : gf_write_ndjson_stream(f, out, &o, err);
    }
    case CLI_FORMAT_MARKDOWN:
      return print_markdown(f, out, err);
  }
  return gf_error_set(err, GF_EINVAL, "unknown output format %d", (int)fmt);
}
