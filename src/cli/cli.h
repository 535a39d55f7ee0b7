/*
 * cli.h - shared definitions of the gf tool: the command descriptor every
 * cmd_*.c file provides, exit codes, and the helpers commands use to report
 * errors the same way (one line on stderr starting with "gf: ").
 *
 * Adding a command: write src/cli/cmd_NAME.c defining
 *   const cli_command cli_cmd_NAME = { "NAME", "usage...", run };
 * declare it below, and point its row of the table in main.c at it.
 */
#ifndef GF_CLI_H
#define GF_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <gopherframe.h>

/* Exit codes: 0 success, 1 the command ran and failed (bad file, out of
 * memory, cancelled...), 2 the command line itself was wrong. A signal never
 * ends gf: SIGPIPE and SIGXFSZ are ignored and write errors become exit code
 * 1; SIGINT, SIGTERM and SIGHUP cancel the running call (exit 1, temporary
 * files removed); only a second SIGTERM/SIGHUP takes its default action. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_FAILURE = 1,
  CLI_EXIT_USAGE = 2
};

/*
 * A command's entry point. argv[0] is the command name ("schema"), the rest
 * are its arguments; getopt_long may be used (main resets optind and sets
 * opterr to 0, so getopt prints nothing: report '?' with cli_usage_error).
 * `--help` is answered by main from `usage` before run is called. Returns
 * one of the CLI_EXIT_* codes; it must have printed exactly one "gf: ..."
 * line to stderr when it returns non-zero.
 */
typedef int (*cli_run_fn)(int argc, char **argv);

/* What a command file provides. */
typedef struct cli_command {
  const char *name;  /* as typed: "schema" */
  const char *usage; /* full text for `gf help NAME` / `gf NAME --help` */
  cli_run_fn run;
} cli_command;

/* Commands present in this build (one cmd_*.c each); `bench` is not built
 * yet (main.c's table says so). */
extern const cli_command cli_cmd_schema;
extern const cli_command cli_cmd_head;
extern const cli_command cli_cmd_describe;
extern const cli_command cli_cmd_convert;
extern const cli_command cli_cmd_gen;
extern const cli_command cli_cmd_query;

/* `gf gen join` (cmd_gen_join.c); argv[0] is "join". */
int cli_gen_join(int argc, char **argv);
/* `gf gen strings` / `gf gen floats` (cmd_gen_heavy.c); argv[0] is the name. */
int cli_gen_heavy(int argc, char **argv);

/* ---- reading files (cli_read.c) ---------------------------------------- */

/* Options every command that reads a file accepts. */
typedef struct cli_read_args {
  int threads;    /* --threads N; 0 = all usable CPUs */
  char delimiter; /* --delimiter C; 0 = detect */
  bool no_header; /* --no-header */
  bool read;      /* --input-mode read: copy regular files instead of mapping them */
  const char *filename_column; /* --filename-column NAME (many files) */
  int hive;       /* --hive 1 / --no-hive 2 / 0 auto (gf_hive_mode) */
  gf_file_format input_format; /* --input-format; UNKNOWN = detect from the content */
  const gf_csv_column_type *types; /* --types NAME:TYPE,... for CSV/TSV (static storage) */
  int ntypes;
} cli_read_args;

/* getopt_long entries of the common options, to splice into a command's
 * table, and the text describing them for its usage. */
#define CLI_READ_LONG_OPTIONS                          \
  {"threads", required_argument, NULL, CLI_OPT_THREADS}, \
  {"delimiter", required_argument, NULL, 'd'},         \
  {"no-header", no_argument, NULL, CLI_OPT_NO_HEADER},  \
  {"input-mode", required_argument, NULL, CLI_OPT_INPUT_MODE}, \
  {"filename-column", required_argument, NULL, CLI_OPT_FILENAME_COLUMN}, \
  {"hive", no_argument, NULL, CLI_OPT_HIVE}, \
  {"no-hive", no_argument, NULL, CLI_OPT_NO_HIVE}, \
  {"input-format", required_argument, NULL, CLI_OPT_INPUT_FORMAT}, \
  {"types", required_argument, NULL, CLI_OPT_TYPES}
#define CLI_READ_USAGE                                                        \
  "  -d, --delimiter C   field delimiter (default: detected; 'tab' or '\\t'\n" \
  "                      for tab)\n"                                           \
  "      --no-header     the first line is data, columns are column_1...\n"   \
  "      --input-mode M  mmap (default: regular files are mapped, no copy; one\n" \
  "                      truncated during the run stops gf with an error) or\n"  \
  "                      read (copied first; a truncation after the copy is\n"  \
  "                      harmless)\n"                                            \
  "      --threads N     worker threads (default: all usable CPUs)\n"         \
  "  Several FILEs, a quoted glob ('data/*.csv', 'data/**/*.csv') or a\n"  \
  "  directory are read as one table (docs/FILES.md):\n"                      \
  "      --filename-column NAME  add each row's file path as column NAME\n"   \
  "      --hive / --no-hive      key=value directories as columns (default:\n" \
  "                      when every file has the same keys)\n" \
  "      --types SPEC    CSV/TSV column types instead of inferred ones, e.g.\n" \
  "                      'id:int64,price:float64,code:utf8' (type names as\n"  \
  "                      in cast(x as TYPE); decimal(P,S) too)\n"            \
  "      --input-format F  csv, tsv, ndjson, json, arrow, arrows or parquet\n"  \
  "                      (default: detected from the content; FILE '-' is\n"   \
  "                      standard input; .gz .zst .lz4 .bz2 are undone)\n"

enum {
  CLI_OPT_THREADS = 1000,
  CLI_OPT_NO_HEADER,
  CLI_OPT_INPUT_MODE,
  CLI_OPT_FILENAME_COLUMN,
  CLI_OPT_HIVE,
  CLI_OPT_NO_HIVE,
  CLI_OPT_INPUT_FORMAT,
  CLI_OPT_TYPES,
  CLI_OPT_FIRST_FREE
};

/* Handles one common option returned by getopt_long. Returns true when
 * `opt` was one of them; then *rc is 0, or CLI_EXIT_USAGE after reporting
 * a bad value. */
bool cli_read_option(const char *command, int opt, const char *arg,
                     cli_read_args *a, int *rc);

/* Parses a delimiter argument: one character, or "tab" / "\t". */
bool cli_parse_delimiter(const char *command, const char *option,
                         const char *text, char *out);

/* True when `path` names an Arrow IPC file or stream by its extension
 * (.arrow .feather .ipc .arrows). */
bool cli_is_ipc_path(const char *path);
/* True when `path` ends in .parquet (any case): read with gf_read_parquet. */
bool cli_is_parquet_path(const char *path);

/* Parallel options for `threads` workers, cancelled by Ctrl-C (SIGINT
 * requests cancellation through a process-wide token). The first call also
 * installs gf's SIGBUS handler for mapped inputs truncated during the run. */
void cli_parallel_options(int threads, gf_parallel_options *p);

/* Reads `path` with the common options and at most `max_rows` rows (0 =
 * all): Arrow IPC (file or stream, told apart by the magic) when
 * cli_is_ipc_path says so, where --delimiter/--no-header do not apply; CSV
 * otherwise, drawing a progress bar on stderr when it is a terminal and the
 * read takes over a second. Returns CLI_EXIT_OK
 * with *out set, or the exit code after printing the one error line. */
int cli_read_frame(const char *command, const char *path,
                   const cli_read_args *a, int64_t max_rows, gf_frame **out);

/* cli_read_frame with caller-made parallel options (workers, deadline,
 * allocator, statistics; `parallel->cancel` should be the Ctrl-C token of
 * cli_parallel_options), parsing only `columns` (in file order; NULL or
 * num_columns 0 = all). */
int cli_read_frame_opts(const char *command, const char *path,
                        const cli_read_args *a, int64_t max_rows,
                        const char *const *columns, int num_columns,
                        const gf_parallel_options *parallel, gf_frame **out);

/* cli_read_frame of a whole file that also returns, for an IPC file, its
 * schema's custom metadata in *metadata (free with gf_ipc_metadata_free;
 * NULL for CSV). `metadata` may be NULL. */
int cli_read_frame_meta(const char *command, const char *path, const cli_read_args *a,
                        gf_frame **out, gf_ipc_metadata **metadata);

/* Sets o's progress callback to gf's bar for reading `path` when stderr is
 * a terminal (for CSV reads a plan runs later); cli_progress_clear removes
 * the bar once the run is over. One bar per process at a time. */
void cli_csv_progress(const char *path, gf_csv_read_options *o);
void cli_progress_clear(void);

/* True when `path` names an Arrow IPC stream (.arrows) rather than a file. */
bool cli_is_ipc_stream_path(const char *path);

/* ---- many files (cli_multi.c) ------------------------------------------ */

/* Handles --filename-column, --hive, --no-hive (called by cli_read_option). */
bool cli_multi_option(const char *command, int opt, const char *arg, cli_read_args *a, int *rc);

/* True when the inputs are read as many files: several paths, a
 * directory, or a glob (a path with * ? [ that does not exist as is). */
bool cli_is_multi_input(const char *const *paths, int n);

/* A scan_files plan source over `paths` with the common options, its
 * schemas read under `build`, reading files in order only until
 * `max_rows` rows (0 = all). Returns 0 or the exit code after printing
 * the one error line. */
int cli_multi_plan(const char *command, const char *const *paths, int n, const cli_read_args *a,
                   int64_t max_rows, const gf_parallel_options *build, gf_plan **out);

/* The files as one frame (at most max_rows rows, 0 = all). */
int cli_read_multi(const char *command, const char *const *paths, int n, const cli_read_args *a,
                   int64_t max_rows, gf_frame **out);

/* ---- inputs by content, outputs by name (cli_read.c, cli_output.c) ---- */

/* An input opened by cli_open_input: its format and compression decided
 * (docs/FORMATS.md), and either a path the path readers may open (a
 * regular uncompressed file; or a temporary copy of a piped/compressed
 * input for readers that need a file) or its whole decompressed content. */
typedef struct cli_input {
  const char *name;       /* for messages: the path, or "standard input" */
  const char *path;       /* non-NULL when readers open it by path */
  gf_file_format format;
  gf_compression compression;
  void *data;             /* else: the content (gf_mem_free) */
  size_t len;
  char *spool;            /* temporary copy to remove (malloc'ed path) */
  char memfd_path[32];    /* "/proc/self/fd/N": the content in a memory file */
} cli_input;

/* Opens `path` ("-" = standard input): reads its first bytes, decides the
 * format (a->input_format overrides) and undoes its compression. Binary
 * data that is no format we read is refused with what it looks like.
 * Returns CLI_EXIT_OK or the exit code after printing the one error line. */
int cli_open_input(const char *command, const char *path, const cli_read_args *a,
                   const gf_parallel_options *parallel, cli_input *in);
/* Reads an opened input into a frame: the ONE dispatch by format (wire new
 * readers here). `columns`/`max_rows` as for cli_read_frame_opts;
 * `metadata` (may be NULL) receives an IPC schema's custom metadata. */
int cli_read_input(const char *command, const cli_input *in, const cli_read_args *a,
                   int64_t max_rows, const char *const *columns, int num_columns,
                   const gf_parallel_options *parallel, gf_frame **out,
                   gf_ipc_metadata **metadata);
/* Frees the content and removes a temporary copy. A memory file stays
 * until gf exits (a plan reads it after the source was made). */
void cli_input_free(cli_input *in);

/* Replaces, in the message `msg` (of `cap` bytes), the names of memory
 * files holding piped or decompressed inputs ("/proc/self/fd/N") with the
 * names the user gave ("standard input", "x.csv.gz"). */
void cli_unalias(char *msg, size_t cap);

/* Where and how a command writes its result. */
typedef struct cli_output {
  const char *path;  /* "-" = standard output */
  bool to_stdout;
  gf_file_format format;       /* CSV, TSV, IPC_FILE or IPC_STREAM */
  gf_compression compression;  /* for CSV/TSV */
} cli_output;

/* Resolves the output of `path` (NULL = standard output) from
 * `format_option` (--output-format, may be NULL: "csv", "tsv.gz",
 * "arrows"...) or else the extension (none, .csv, .txt, .dat: CSV). A
 * format or extension gf cannot write, or the IPC file format to standard
 * output, prints one error line listing what it can write and returns
 * CLI_EXIT_FAILURE. */
int cli_resolve_output(const char *command, const char *path, const char *format_option,
                       cli_output *out);

/* CSV/TSV writing options of cli_write_frame; IPC options for IPC. */
typedef struct cli_write_options {
  char delimiter;          /* 0 = ',' for CSV, '\t' for TSV */
  const char *null_text;   /* NULL = empty */
  const gf_ipc_write_options *ipc; /* NULL = defaults */
  const gf_parquet_write_options *parquet; /* NULL = defaults */
} cli_write_options;

/* Writes `f` to `o`: files atomically (no partial file on failure),
 * standard output as it goes. Returns the status with `err` set. */
gf_status cli_write_frame(const gf_frame *f, const cli_output *o, const cli_write_options *w,
                          const gf_parallel_options *p, gf_error *err);

/* Runs `plan` and writes its result to `o` through the plan sinks
 * (gf_plan_sink_ipc / _ipc_stream / _ipc_stream_fd / _csv / _parquet), which write a
 * streamed plan's rows batch by batch - a sort's too - instead of
 * collecting the result first: Arrow IPC (file, stream, stream to
 * standard output), Parquet files (gf's default options: snappy) and
 * uncompressed CSV/TSV files. *handled = false (and
 * nothing run) for the other outputs: collect, then cli_write_frame. */
gf_status cli_write_plan(const gf_plan *plan, const cli_output *o, const gf_plan_options *po,
                         bool *handled, gf_error *err);

/* The text of the formats gf can write, for usage and error messages. */
extern const char cli_writable_formats[];

/* Prints "gf: <message>\n" to stderr (printf-style). */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Prints a usage error for `command` (NULL for gf itself), adding a pointer
 * to the help, and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Reports a failed library call: "gf: <what>: <err message or status text>",
 * and returns CLI_EXIT_FAILURE. `what` may be NULL (then only the message). */
int cli_fail(const char *what, gf_status st, const gf_error *err);

/*
 * Parses a whole decimal integer option value in [min, max] without the C
 * locale. On error prints "gf: COMMAND: OPTION expects ..." and returns false.
 */
bool cli_parse_int64(const char *command, const char *option, const char *text,
                     int64_t min, int64_t max, int64_t *out);

/* Decimal digits of v at p (at most 20 bytes, no NUL); returns the end.
 * The data generators' inner loop: no snprintf, no locale. */
static inline char *cli_put_u64(char *p, uint64_t v) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = tmp[--n];
  return p;
}

/* ---- JSON files and output formats (cli_format.c) ----------------------- */

/* What --format prints. */
typedef enum cli_output_format {
  CLI_FORMAT_TABLE = 0,
  CLI_FORMAT_CSV,
  CLI_FORMAT_TSV,
  CLI_FORMAT_JSON,
  CLI_FORMAT_NDJSON,
  CLI_FORMAT_MARKDOWN
} cli_output_format;
#define CLI_FORMAT_USAGE \
  "      --format F      table, csv, tsv, json (an array of objects), ndjson\n" \
  "                      (one object per line) or markdown\n"
/* Parses a --format value; prints the usage error and returns false when
 * it names no format. */
bool cli_parse_output_format(const char *command, const char *text, cli_output_format *out);
/* Prints f in `fmt` (`table` options for CLI_FORMAT_TABLE). */
gf_status cli_print_frame(const gf_frame *f, cli_output_format fmt, const gf_print_options *table,
                          const gf_parallel_options *parallel, FILE *out, gf_error *err);

#endif /* GF_CLI_H */
