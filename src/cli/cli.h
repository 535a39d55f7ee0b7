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

/* ---- reading files (cli_read.c) ---------------------------------------- */

/* Options every command that reads a file accepts. */
typedef struct cli_read_args {
  int threads;    /* --threads N; 0 = all usable CPUs */
  char delimiter; /* --delimiter C; 0 = detect */
  bool no_header; /* --no-header */
  bool read;      /* --input-mode read: copy regular files instead of mapping them */
} cli_read_args;

/* getopt_long entries of the common options, to splice into a command's
 * table, and the text describing them for its usage. */
#define CLI_READ_LONG_OPTIONS                          \
  {"threads", required_argument, NULL, CLI_OPT_THREADS}, \
  {"delimiter", required_argument, NULL, 'd'},         \
  {"no-header", no_argument, NULL, CLI_OPT_NO_HEADER},  \
  {"input-mode", required_argument, NULL, CLI_OPT_INPUT_MODE}
#define CLI_READ_USAGE                                                        \
  "  -d, --delimiter C   field delimiter (default: detected; 'tab' or '\\t'\n" \
  "                      for tab)\n"                                           \
  "      --no-header     the first line is data, columns are column_1...\n"   \
  "      --input-mode M  mmap (default: regular files are mapped, no copy; one\n" \
  "                      truncated during the run stops gf with an error) or\n"  \
  "                      read (copied first; a truncation after the copy is\n"  \
  "                      harmless)\n"                                            \
  "      --threads N     worker threads (default: all usable CPUs)\n"

enum { CLI_OPT_THREADS = 1000, CLI_OPT_NO_HEADER, CLI_OPT_INPUT_MODE, CLI_OPT_FIRST_FREE };

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

#endif /* GF_CLI_H */
