/*
 * cmd_convert.c - `gf convert IN OUT`: reads IN and writes OUT, the formats
 * chosen by extension: Arrow IPC files (.arrow .feather .ipc) and streams
 * (.arrows), CSV for anything else. Types read from IPC are kept exactly
 * when writing IPC (and the schema's custom metadata is carried over);
 * CSV-to-CSV re-delimits and normalises quoting and number text. OUT is
 * written to a temporary file and renamed by the writers, so a failed
 * conversion leaves no partial file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: gf convert [OPTIONS] IN OUT\n\n"
    "Converts IN to OUT, formats chosen by extension: .arrow .feather .ipc are\n"
    "Arrow IPC files (Feather v2), .arrows Arrow IPC streams, .ndjson .jsonl\n"
    "JSON objects one per line, .json a JSON array of objects (read: array or\n"
    "NDJSON by the first byte; docs/JSON.md), anything else CSV. Any\n"
    "direction works (CSV<->IPC, IPC<->IPC, CSV<->CSV); IPC input is\n"
    "recognised by its content, so a stream named .arrow reads too. Types\n"
    "are kept exactly from IPC to IPC, with the schema's custom metadata.\n"
    "OUT is replaced only when the whole conversion succeeded.\n\n"
    "Options:\n"
    "      --compression C     body compression of an IPC OUT: none (default),\n"
    "                          lz4 (LZ4_FRAME) or zstd\n"
    "      --compression-level N  codec level (default: the codec's default)\n"
    "      --metadata KEY=VALUE   add (or replace) a custom metadata entry of an\n"
    "                          IPC OUT's schema (repeatable)\n"
    "      --out-delimiter C   delimiter of a CSV OUT (default ',')\n"
    "      --null TEXT         how nulls are written in a CSV OUT (default empty)\n" CLI_READ_USAGE;

enum { OPT_OUT_DELIM = CLI_OPT_FIRST_FREE, OPT_NULL, OPT_COMPRESSION, OPT_LEVEL, OPT_METADATA };

/* Maps a --compression value; false when it is none of the names. */
static bool parse_compression(const char *text, gf_ipc_compression *out, const char **name) {
  static const struct {
    const char *name;
    gf_ipc_compression c;
  } codecs[] = {{"none", GF_IPC_COMPRESSION_NONE},
                {"lz4", GF_IPC_COMPRESSION_LZ4_FRAME},
                {"lz4_frame", GF_IPC_COMPRESSION_LZ4_FRAME},
                {"zstd", GF_IPC_COMPRESSION_ZSTD}};
  for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
    if (strcmp(text, codecs[i].name) == 0) {
      *out = codecs[i].c;
      *name = codecs[i].name;
      return true;
    }
  }
  return false;
}

/* The metadata to write: the input's entries whose keys `extra` does not
 * replace, then the `n` entries of `extra` (each "KEY\0VALUE", split in
 * place by parse_args; of a key given twice, the last). *out is malloc'ed
 * (NULL when empty) and points into `in` and `extra`; false when out of
 * memory. */
static bool merge_metadata(const gf_ipc_metadata *in, char **extra, int n, gf_ipc_key_value **out,
                           int *nout) {
  int nin = in ? in->n : 0;
  *out = NULL;
  *nout = 0;
  if (nin + n == 0) return true;
  gf_ipc_key_value *kv = malloc(sizeof *kv * (size_t)(nin + n));
  if (!kv) return false;
  int k = 0;
  for (int i = 0; i < nin; i++) {
    bool replaced = false;
    for (int j = 0; j < n && !replaced; j++) replaced = strcmp(in->entries[i].key, extra[j]) == 0;
    if (!replaced) kv[k++] = in->entries[i];
  }
  for (int j = 0; j < n; j++) {
    /* A key given twice: the last value wins. */
    bool later = false;
    for (int l = j + 1; l < n && !later; l++) later = strcmp(extra[j], extra[l]) == 0;
    if (later) continue;
    kv[k].key = extra[j];
    kv[k].value = extra[j] + strlen(extra[j]) + 1;
    k++;
  }
  *out = kv;
  *nout = k;
  return true;
}

/* Writes `f` to `out` as IPC (file or stream by extension) or CSV. */
static gf_status write_frame(const gf_frame *f, const char *out, gf_ipc_compression codec,
                             int level, const gf_ipc_key_value *meta, int nmeta, char out_delim,
                             const char *null_text, const gf_parallel_options *p,
                             gf_error *err) {
  if (cli_is_ipc_path(out)) {
    gf_ipc_write_options io;
    gf_ipc_write_options_init(&io);
    io.compression = codec;
    io.compression_level = level;
    io.parallel = p;
    io.metadata = meta;
    io.num_metadata = nmeta;
    return cli_is_ipc_stream_path(out) ? gf_write_ipc_stream(f, out, &io, err)
                                       : gf_write_ipc_file(f, out, &io, err);
  }
  if (cli_is_json_path(out)) return cli_write_json_file(f, out, p, err);
  gf_csv_write_options o;
  gf_csv_write_options_init(&o);
  o.delimiter = out_delim;
  o.null_value = null_text;
  o.parallel = p;
  return gf_write_csv(f, out, &o, err);
}

/* Options of one conversion. */
typedef struct convert_args {
  cli_read_args ra;
  char out_delim;
  const char *null_text;
  bool csv_option, ipc_option;
  gf_ipc_compression codec;
  const char *codec_name;
  int64_t level;
  char **extra; /* --metadata texts, split into KEY NUL VALUE */
  int nextra;
} convert_args;

/* Parses the options into *c; returns 0 or the exit code. */
static int parse_args(int argc, char **argv, convert_args *c) {
  static const struct option longopts[] = {
      CLI_READ_LONG_OPTIONS,
      {"out-delimiter", required_argument, NULL, OPT_OUT_DELIM},
      {"null", required_argument, NULL, OPT_NULL},
      {"compression", required_argument, NULL, OPT_COMPRESSION},
      {"compression-level", required_argument, NULL, OPT_LEVEL},
      {"metadata", required_argument, NULL, OPT_METADATA},
      {NULL, 0, NULL, 0}};
  int opt, rc;
  while ((opt = getopt_long(argc, argv, "d:", longopts, NULL)) != -1) {
    if (cli_read_option("convert", opt, optarg, &c->ra, &rc)) {
      if (rc) return rc;
      continue;
    }
    if (opt == OPT_OUT_DELIM) {
      if (!cli_parse_delimiter("convert", "--out-delimiter", optarg, &c->out_delim))
        return CLI_EXIT_USAGE;
      c->csv_option = true;
    } else if (opt == OPT_NULL) {
      c->null_text = optarg;
      c->csv_option = true;
    } else if (opt == OPT_COMPRESSION) {
      if (!parse_compression(optarg, &c->codec, &c->codec_name))
        return cli_usage_error("convert", "--compression expects none, lz4 or zstd, got '%s'",
                               optarg);
      c->ipc_option = true;
    } else if (opt == OPT_LEVEL) {
      if (!cli_parse_int64("convert", "--compression-level", optarg, -131072, 22, &c->level))
        return CLI_EXIT_USAGE;
      c->ipc_option = true;
    } else if (opt == OPT_METADATA) {
      char *eq = strchr(optarg, '=');
      if (!eq || eq == optarg)
        return cli_usage_error("convert", "--metadata expects KEY=VALUE, got '%s'", optarg);
      *eq = '\0';
      c->extra[c->nextra++] = optarg;
      c->ipc_option = true;
    } else {
      return cli_usage_error("convert", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (argc - optind != 2)
    return cli_usage_error("convert", argc - optind < 2 ? "expects IN and OUT" : "expects only IN and OUT");
  const char *out = argv[optind + 1];
  bool ipc_out = cli_is_ipc_path(out);
  if (c->ipc_option && !ipc_out)
    return cli_usage_error("convert",
                           "--compression and --metadata apply to an Arrow IPC OUT "
                           "(.arrow .feather .ipc .arrows), not '%s'",
                           out);
  if (c->csv_option && ipc_out)
    return cli_usage_error("convert", "--out-delimiter and --null apply to a CSV OUT, not '%s'", out);
  return CLI_EXIT_OK;
}

/* Reads IN and writes OUT with the parsed options; returns the exit code. */
static int convert(const convert_args *c, const char *in, const char *out) {
  bool ipc_out = cli_is_ipc_path(out);
  /* Refused before reading: a long read would otherwise end in this. */
  if (c->codec != GF_IPC_COMPRESSION_NONE && !gf_ipc_compression_available(c->codec)) {
    cli_error("convert: %s compression is not available in this build (built without lib%s)",
              c->codec_name, c->codec == GF_IPC_COMPRESSION_ZSTD ? "zstd" : "lz4");
    return CLI_EXIT_FAILURE;
  }
  gf_frame *f = NULL;
  gf_ipc_metadata *meta = NULL;
  int rc = cli_read_frame_meta("convert", in, &c->ra, &f, ipc_out ? &meta : NULL);
  if (rc) return rc;
  gf_ipc_key_value *kv = NULL;
  int nkv = 0;
  if (!merge_metadata(meta, c->extra, c->nextra, &kv, &nkv)) {
    gf_ipc_metadata_free(meta);
    gf_frame_release(f);
    cli_error("convert: out of memory");
    return CLI_EXIT_FAILURE;
  }

  gf_parallel_options p;
  cli_parallel_options(c->ra.threads, &p);
  gf_error err;
  gf_error_clear(&err);
  gf_status st = write_frame(f, out, c->codec, (int)c->level, kv, nkv, c->out_delim,
                             c->null_text, &p, &err);
  free(kv);
  gf_ipc_metadata_free(meta);
  gf_frame_release(f);
  if (st == GF_ECANCELED && gf_cancel_requested(p.cancel)) {
    cli_error("convert: interrupted; %s was not written", out);
    return CLI_EXIT_FAILURE;
  }
  if (st != GF_OK && err.code != GF_OK && err.message[0] && !strstr(err.message, out)) {
    cli_error("convert: %s: %s", out, err.message);
    return CLI_EXIT_FAILURE;
  }
  return st == GF_OK ? CLI_EXIT_OK : cli_fail("convert", st, &err);
}

/* Parses options, reads IN, writes OUT atomically; returns the exit code. */
static int run(int argc, char **argv) {
  convert_args c;
  memset(&c, 0, sizeof c);
  c.out_delim = ',';
  c.codec = GF_IPC_COMPRESSION_NONE;
  c.codec_name = "none";
  /* At most one --metadata per argument. */
  c.extra = calloc((size_t)argc + 1, sizeof *c.extra);
  if (!c.extra) {
    cli_error("convert: out of memory");
    return CLI_EXIT_FAILURE;
  }
  int rc = parse_args(argc, argv, &c);
  if (rc == CLI_EXIT_OK) rc = convert(&c, argv[optind], argv[optind + 1]);
  free(c.extra);
  return rc;
}

const cli_command cli_cmd_convert = {"convert", usage, run};
