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
    "Usage: gf convert [OPTIONS] IN... OUT\n\n"
    "Converts IN to OUT. IN's format is recognised by its content (CSV, TSV,\n"
    "NDJSON/JSON, Arrow IPC file or stream, Parquet; gzip, zstd, lz4 and bzip2\n"
    "compression are undone); '-' is standard input; several INs, a quoted\n"
    "glob or a directory are read as one table (docs/FILES.md). OUT's format\n"
    "comes from its extension: .csv (or none) CSV, .tsv TSV, .arrow .feather\n"
    ".ipc Arrow IPC files (Feather v2), .arrows Arrow IPC streams, .parquet\n"
    "Parquet, .ndjson .jsonl .json JSON; .csv.gz .tsv.zst .csv.lz4\n"
    ".csv.bz2... are written compressed; '-' is standard output (CSV, or\n"
    "--output-format). Types are kept exactly from IPC to IPC, with the\n"
    "schema's custom metadata. OUT is replaced only when the whole conversion\n"
    "succeeded (standard output is written as it goes).\n\n"
    "Options:\n"
    "      --output-format F   csv, tsv, arrow, arrows, parquet, ndjson, json;\n"
    "                          text ones optionally with a compression\n"
    "                          (csv.gz, ndjson.zst...): overrides\n"
    "                          OUT's extension\n"
    "      --compression C     body compression of an IPC OUT: none (default),\n"
    "                          lz4 (LZ4_FRAME) or zstd; page compression of a\n"
    "                          Parquet OUT: snappy (default when built in),\n"
    "                          zstd, gzip, lz4 (LZ4_RAW) or none\n"
    "      --compression-level N  codec level (default: the codec's default)\n"
    "      --row-group-size N  rows per row group of a Parquet OUT (default 1048576)\n"
    "      --page-rows N       most rows per data page of a Parquet OUT (default 20000)\n"
    "      --dictionary-limit BYTES  a Parquet column chunk whose dictionary would\n"
    "                          exceed this is written PLAIN (default 1048576)\n"
    "      --no-dictionary     no dictionary encoding in a Parquet OUT\n"
    "      --metadata KEY=VALUE   add (or replace) a custom metadata entry of an\n"
    "                          IPC OUT's schema (repeatable)\n"
    "      --out-delimiter C   delimiter of a CSV OUT (default ',')\n"
    "      --null TEXT         how nulls are written in a CSV OUT (default empty)\n" CLI_READ_USAGE;

enum {
  OPT_OUT_DELIM = CLI_OPT_FIRST_FREE,
  OPT_NULL,
  OPT_COMPRESSION,
  OPT_LEVEL,
  OPT_METADATA,
  OPT_OUTPUT_FORMAT,
  OPT_RG_ROWS,
  OPT_PAGE_ROWS,
  OPT_DICT_LIMIT,
  OPT_NO_DICT
};

/* Maps a --compression value for a Parquet OUT; false when unknown. */
static bool parse_parquet_compression(const char *text, gf_parquet_compression *out) {
  static const struct {
    const char *name;
    gf_parquet_compression c;
  } codecs[] = {{"none", GF_PARQUET_NONE},       {"snappy", GF_PARQUET_SNAPPY},
                {"gzip", GF_PARQUET_GZIP},       {"zstd", GF_PARQUET_ZSTD},
                {"lz4", GF_PARQUET_LZ4_RAW},     {"lz4_raw", GF_PARQUET_LZ4_RAW}};
  for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
    if (strcmp(text, codecs[i].name) == 0) {
      *out = codecs[i].c;
      return true;
    }
  }
  return false;
}

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

/* Options of one conversion. */
typedef struct convert_args {
  cli_read_args ra;
  char out_delim;
  const char *null_text;
  bool csv_option, ipc_option;
  const char *output_format; /* --output-format, NULL = by OUT's extension */
  cli_output out;
  gf_ipc_compression codec;
  const char *codec_name;
  const char *codec_text; /* --compression as given (its meaning depends on OUT) */
  int64_t level;
  bool parquet_option;    /* a Parquet-only option was given */
  gf_parquet_compression parquet_codec;
  int64_t rg_rows, page_rows, dict_limit;
  bool no_dictionary;
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
      {"output-format", required_argument, NULL, OPT_OUTPUT_FORMAT},
      {"row-group-size", required_argument, NULL, OPT_RG_ROWS},
      {"page-rows", required_argument, NULL, OPT_PAGE_ROWS},
      {"dictionary-limit", required_argument, NULL, OPT_DICT_LIMIT},
      {"no-dictionary", no_argument, NULL, OPT_NO_DICT},
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
      c->codec_text = optarg; /* parsed once OUT's format is known */
    } else if (opt == OPT_LEVEL) {
      if (!cli_parse_int64("convert", "--compression-level", optarg, -131072, 22, &c->level))
        return CLI_EXIT_USAGE;
      c->ipc_option = true;
    } else if (opt == OPT_RG_ROWS || opt == OPT_PAGE_ROWS || opt == OPT_DICT_LIMIT) {
      int64_t *dst = opt == OPT_RG_ROWS ? &c->rg_rows : opt == OPT_PAGE_ROWS ? &c->page_rows
                                                                          : &c->dict_limit;
      if (!cli_parse_int64("convert", argv[optind - 1], optarg, 1, INT32_MAX, dst))
        return CLI_EXIT_USAGE;
      c->parquet_option = true;
    } else if (opt == OPT_NO_DICT) {
      c->no_dictionary = true;
      c->parquet_option = true;
    } else if (opt == OPT_OUTPUT_FORMAT) {
      c->output_format = optarg;
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
  if (argc - optind < 2) return cli_usage_error("convert", "expects IN and OUT");
  /* Several INs (or a glob / directory IN) are read as one table. */
  const char *out = argv[argc - 1];
  int rc2 = cli_resolve_output("convert", out, c->output_format, &c->out);
  if (rc2) return rc2;
  if (c->out.format == GF_FORMAT_PARQUET) {
    /* snappy by default, as pyarrow; none in a build without libsnappy */
    c->parquet_codec = gf_parquet_compression_available(GF_PARQUET_SNAPPY) ? GF_PARQUET_SNAPPY
                                                                          : GF_PARQUET_NONE;
    if (c->codec_text && !parse_parquet_compression(c->codec_text, &c->parquet_codec))
      return cli_usage_error("convert",
                             "--compression of a Parquet OUT expects snappy, zstd, gzip, lz4 or "
                             "none, got '%s'", c->codec_text);
    if (c->nextra > 0 || c->csv_option)
      return cli_usage_error("convert", "--metadata, --out-delimiter and --null do not apply to "
                             "a Parquet OUT ('%s')", out);
    return CLI_EXIT_OK;
  }
  if (c->parquet_option)
    return cli_usage_error("convert", "--row-group-size, --page-rows, --dictionary-limit and "
                           "--no-dictionary apply to a Parquet OUT, not '%s'", out);
  if (c->codec_text) {
    if (!parse_compression(c->codec_text, &c->codec, &c->codec_name))
      return cli_usage_error("convert", "--compression expects none, lz4 or zstd, got '%s'",
                             c->codec_text);
    c->ipc_option = true;
  }
  bool ipc_out = c->out.format == GF_FORMAT_IPC_FILE || c->out.format == GF_FORMAT_IPC_STREAM;
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
static int convert(const convert_args *c, const char *const *ins, int nin, const char *out) {
  bool ipc_out = c->out.format == GF_FORMAT_IPC_FILE || c->out.format == GF_FORMAT_IPC_STREAM;
  /* Refused before reading: a long read would otherwise end in this. */
  if (c->out.format == GF_FORMAT_PARQUET && !gf_parquet_compression_available(c->parquet_codec)) {
    cli_error("convert: %s compression is not available in this build",
              c->codec_text ? c->codec_text : "snappy");
    return CLI_EXIT_FAILURE;
  }
  if (c->codec != GF_IPC_COMPRESSION_NONE && !gf_ipc_compression_available(c->codec)) {
    cli_error("convert: %s compression is not available in this build (built without lib%s)",
              c->codec_name, c->codec == GF_IPC_COMPRESSION_ZSTD ? "zstd" : "lz4");
    return CLI_EXIT_FAILURE;
  }
  gf_frame *f = NULL;
  gf_ipc_metadata *meta = NULL;
  int rc = cli_is_multi_input(ins, nin)
               ? cli_read_multi("convert", ins, nin, &c->ra, 0, &f)
               : cli_read_frame_meta("convert", ins[0], &c->ra, &f, ipc_out ? &meta : NULL);
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
  gf_ipc_write_options io;
  gf_ipc_write_options_init(&io);
  io.compression = c->codec;
  io.compression_level = (int)c->level;
  io.metadata = kv;
  io.num_metadata = nkv;
  gf_parquet_write_options po;
  gf_parquet_write_options_init(&po);
  po.compression = c->parquet_codec;
  po.compression_level = (int)c->level;
  po.row_group_rows = c->rg_rows;
  po.data_page_rows = c->page_rows;
  po.dictionary_page_bytes = c->dict_limit;
  po.no_dictionary = c->no_dictionary;
  cli_write_options wo = {c->csv_option ? c->out_delim : 0, c->null_text, &io, &po};
  gf_status st = cli_write_frame(f, &c->out, &wo, &p, &err);
  free(kv);
  gf_ipc_metadata_free(meta);
  gf_frame_release(f);
  if (st == GF_ECANCELED && gf_cancel_requested(p.cancel)) {
    cli_error("convert: interrupted; %s was not written", out);
    return CLI_EXIT_FAILURE;
  }
  if (c->out.to_stdout) out = "standard output";
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
  c.out_delim = 0; /* ',' for CSV, tab for TSV */
  c.codec = GF_IPC_COMPRESSION_NONE;
  c.codec_name = "none";
  /* At most one --metadata per argument. */
  c.extra = calloc((size_t)argc + 1, sizeof *c.extra);
  if (!c.extra) {
    cli_error("convert: out of memory");
    return CLI_EXIT_FAILURE;
  }
  int rc = parse_args(argc, argv, &c);
  if (rc == CLI_EXIT_OK)
    rc = convert(&c, (const char *const *)argv + optind, argc - optind - 1, argv[argc - 1]);
  free(c.extra);
  return rc;
}

const cli_command cli_cmd_convert = {"convert", usage, run};
