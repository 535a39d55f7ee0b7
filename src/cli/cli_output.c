/*
 * cli_output.c - where gf writes a result: the format from --output-format
 * or the output's extension (an extension gf cannot write is an error that
 * lists what it can), compression from .gz .zst .lz4 .bz2 (CSV and TSV),
 * and "-" for standard output (docs/FORMATS.md). Files are written to a
 * temporary name and renamed, so a failure leaves no partial file; what
 * reached standard output cannot be taken back.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

const char cli_writable_formats[] =
    "csv (.csv, or no extension), tsv (.tsv .tab), arrow (Arrow IPC file: .arrow .feather "
    ".ipc), arrows (Arrow IPC stream: .arrows), parquet (.parquet), ndjson (.ndjson "
    ".jsonl), json (a JSON array: .json); csv, tsv, ndjson and json also compressed (.gz "
    ".zst .lz4 .bz2, e.g. out.csv.gz)";

/* The extension of the last path component ("" when none): after its last
 * dot, when that holds a letter (so "data.2024" has none). */
static const char *extension(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  if (!dot || dot == base) return "";
  for (const char *p = dot + 1; *p; p++)
    if (isalpha((unsigned char)*p)) return dot;
  return "";
}

/* True for the formats this build writes. */
static bool writable(gf_file_format f) {
  return f == GF_FORMAT_CSV || f == GF_FORMAT_TSV || f == GF_FORMAT_IPC_FILE ||
         f == GF_FORMAT_IPC_STREAM || f == GF_FORMAT_PARQUET || f == GF_FORMAT_NDJSON ||
         f == GF_FORMAT_JSON;
}

/* The format and compression a name ("csv.gz", "out.tsv", "x.arrows")
 * gives; false when it names nothing gf knows. Plain text extensions that
 * are no format (.txt .dat) and none at all are CSV. */
static bool from_name(const char *name, bool bare, gf_file_format *f, gf_compression *c) {
  char buf[64];
  if (bare) {
    /* --output-format csv.gz: reuse the extension rules on "x.csv.gz". */
    if (strlen(name) + 3 > sizeof buf) return false;
    snprintf(buf, sizeof buf, "x.%s", name);
    name = buf;
  }
  gf_format_from_path(name, f, c);
  if (*f != GF_FORMAT_UNKNOWN) return true;
  /* Names that are not extensions: "ipc-stream"... */
  if (bare) return *c == GF_COMPRESSION_NONE && gf_file_format_parse(name + 2, f);
  /* What is left of the name once a compression suffix is taken off. */
  size_t n = strlen(name) - strlen(gf_compression_extension(*c));
  if (n >= sizeof buf) n = sizeof buf - 1;
  memcpy(buf, name, n);
  buf[n] = '\0';
  const char *ext = extension(buf);
  if (!*ext || strcasecmp(ext, ".txt") == 0 || strcasecmp(ext, ".dat") == 0) {
    *f = GF_FORMAT_CSV;
    return true;
  }
  return false;
}

/* See cli.h. */
int cli_resolve_output(const char *command, const char *path, const char *format_option,
                       cli_output *out) {
  memset(out, 0, sizeof *out);
  out->path = path ? path : "-";
  out->to_stdout = !path || strcmp(path, "-") == 0;
  gf_file_format f = GF_FORMAT_CSV;
  gf_compression c = GF_COMPRESSION_NONE;
  if (format_option) {
    if (!from_name(format_option, true, &f, &c)) {
      cli_error("%s: --output-format '%s' is not a format gf writes; it writes %s", command,
                format_option, cli_writable_formats);
      return CLI_EXIT_FAILURE;
    }
  } else if (!out->to_stdout && !from_name(out->path, false, &f, &c)) {
    cli_error("%s: %s: gf cannot write '%s' files; it writes %s (or give --output-format)",
              command, out->path, extension(out->path), cli_writable_formats);
    return CLI_EXIT_FAILURE;
  }
  if (!writable(f)) {
    cli_error("%s: %s: gf cannot write %s; it writes %s", command,
              out->to_stdout ? "standard output" : out->path, gf_file_format_name(f),
              cli_writable_formats);
    return CLI_EXIT_FAILURE;
  }
  if (c != GF_COMPRESSION_NONE && f != GF_FORMAT_CSV && f != GF_FORMAT_TSV &&
      f != GF_FORMAT_NDJSON && f != GF_FORMAT_JSON) {
    cli_error("%s: %s: %s compression applies to csv, tsv and json output; Arrow IPC has its own "
              "(convert --compression lz4|zstd)",
              command, out->path, gf_compression_name(c));
    return CLI_EXIT_FAILURE;
  }
  if (c != GF_COMPRESSION_NONE && !gf_compression_available(c)) {
    cli_error("%s: %s: %s output is not available in this build (built without it)", command,
              out->path, gf_compression_name(c));
    return CLI_EXIT_FAILURE;
  }
  if (out->to_stdout && f == GF_FORMAT_PARQUET) {
    cli_error("%s: Parquet is written to a file only (it is written to a temporary name and "
              "renamed when complete); give an output file, or --output-format arrows for a "
              "stream",
              command);
    return CLI_EXIT_FAILURE;
  }
  if (out->to_stdout && f == GF_FORMAT_IPC_FILE) {
    cli_error("%s: the Arrow IPC file format cannot be written to standard output (its footer "
              "points back into the file); use --output-format arrows (the IPC stream format) "
              "or an output file",
              command);
    return CLI_EXIT_FAILURE;
  }
  out->format = f;
  out->compression = c;
  return CLI_EXIT_OK;
}

/* Writes `f` as CSV/TSV (with `wo`) or JSON/NDJSON to a stream. */
static gf_status write_stream(const gf_frame *f, const cli_output *o,
                              const gf_csv_write_options *wo, const gf_parallel_options *p,
                              FILE *out, gf_error *err) {
  if (o->format == GF_FORMAT_NDJSON || o->format == GF_FORMAT_JSON) {
    gf_json_write_options jo;
    gf_json_write_options_init(&jo);
    jo.parallel = p;
    return o->format == GF_FORMAT_NDJSON ? gf_write_ndjson_stream(f, out, &jo, err)
                                         : gf_write_json_stream(f, out, &jo, err);
  }
  return gf_write_csv_stream(f, out, wo, err);
}

/* CSV, TSV or JSON through a compressing (or plain, for standard output)
 * text output. */
static gf_status write_text(const gf_frame *f, const cli_output *o,
                            const gf_csv_write_options *wo, const gf_parallel_options *p,
                            gf_error *err) {
  gf_text_output *t = NULL;
  gf_status st = gf_text_output_open(o->path, o->compression, 0, p ? p->allocator : NULL, &t, err);
  if (st != GF_OK) return st;
  st = write_stream(f, o, wo, p, gf_text_output_stream(t), err);
  if (st != GF_OK) {
    gf_error own;
    gf_error_clear(&own);
    /* The output's own failure (disk full) says more than the writer's. */
    if (gf_text_output_close(t, false, &own) != GF_OK && err) *err = own;
    return st;
  }
  return gf_text_output_close(t, true, err);
}

/* gf's Parquet output options when none are given: snappy, as pyarrow;
 * none in a build without libsnappy. */
static void parquet_defaults(gf_parquet_write_options *po) {
  gf_parquet_write_options_init(po);
  po->compression = gf_parquet_compression_available(GF_PARQUET_SNAPPY) ? GF_PARQUET_SNAPPY
                                                                       : GF_PARQUET_NONE;
}

/* See cli.h. */
gf_status cli_write_frame(const gf_frame *f, const cli_output *o, const cli_write_options *w,
                          const gf_parallel_options *p, gf_error *err) {
  if (o->format == GF_FORMAT_IPC_FILE || o->format == GF_FORMAT_IPC_STREAM) {
    gf_ipc_write_options io;
    if (w && w->ipc) {
      io = *w->ipc;
    } else {
      gf_ipc_write_options_init(&io);
    }
    io.parallel = p;
    if (o->to_stdout) {
      /* What stdio holds goes first; then the stream, straight to fd 1. */
      fflush(stdout);
      return gf_write_ipc_stream_fd(f, STDOUT_FILENO, &io, err);
    }
    return o->format == GF_FORMAT_IPC_STREAM ? gf_write_ipc_stream(f, o->path, &io, err)
                                             : gf_write_ipc_file(f, o->path, &io, err);
  }
  if (o->format == GF_FORMAT_PARQUET) {
    gf_parquet_write_options po;
    if (w && w->parquet) po = *w->parquet;
    else parquet_defaults(&po);
    po.parallel = p;
    return gf_write_parquet(f, o->path, &po, err);
  }
  gf_csv_write_options wo;
  gf_csv_write_options_init(&wo);
  wo.delimiter = w && w->delimiter ? w->delimiter : o->format == GF_FORMAT_TSV ? '\t' : ',';
  wo.null_value = w ? w->null_text : NULL;
  wo.parallel = p;
  if (o->compression != GF_COMPRESSION_NONE) return write_text(f, o, &wo, p, err);
  if (o->to_stdout) {
    gf_status st = write_stream(f, o, &wo, p, stdout, err);
    if (st == GF_OK && fflush(stdout) != 0)
      st = gf_error_set(err, GF_EIO, "cannot write standard output");
    return st;
  }
  if (o->format == GF_FORMAT_NDJSON || o->format == GF_FORMAT_JSON) {
    gf_json_write_options jo;
    gf_json_write_options_init(&jo);
    jo.parallel = p;
    return o->format == GF_FORMAT_NDJSON ? gf_write_ndjson(f, o->path, &jo, err)
                                         : gf_write_json(f, o->path, &jo, err);
  }
  return gf_write_csv(f, o->path, &wo, err);
}

/* See cli.h. */
gf_status cli_write_plan(const gf_plan *plan, const cli_output *o, const gf_plan_options *po,
                         bool *handled, gf_error *err) {
  *handled = false;
  if (o->format == GF_FORMAT_IPC_FILE || o->format == GF_FORMAT_IPC_STREAM) {
    gf_ipc_write_options io;
    gf_ipc_write_options_init(&io);
    *handled = true;
    if (o->to_stdout) {
      /* What stdio holds goes first; then the stream, straight to fd 1. */
      fflush(stdout);
      return gf_plan_sink_ipc_stream_fd(plan, STDOUT_FILENO, &io, po, err);
    }
    return o->format == GF_FORMAT_IPC_STREAM ? gf_plan_sink_ipc_stream(plan, o->path, &io, po, err)
                                             : gf_plan_sink_ipc(plan, o->path, &io, po, err);
  }
  if (o->format == GF_FORMAT_PARQUET && !o->to_stdout) {
    /* the same bytes as cli_write_frame's of the collected result */
    gf_parquet_write_options pw;
    parquet_defaults(&pw);
    *handled = true;
    return gf_plan_sink_parquet(plan, o->path, &pw, po, err);
  }
  if ((o->format == GF_FORMAT_CSV || o->format == GF_FORMAT_TSV) &&
      o->compression == GF_COMPRESSION_NONE && !o->to_stdout) {
    gf_csv_write_options wo;
    gf_csv_write_options_init(&wo);
    wo.delimiter = o->format == GF_FORMAT_TSV ? '\t' : ',';
    *handled = true;
    return gf_plan_sink_csv(plan, o->path, &wo, po, err);
  }
  return GF_OK;
}
