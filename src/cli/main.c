/*
 * main.c - the gf tool's entry point: global options (--help, --version),
 * the command table and dispatch, and the error-reporting helpers of cli.h.
 * Each command lives in its own cmd_NAME.c; this file knows them only
 * through the table below.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* One row per command (docs/DESIGN.md, "The gf tool"). Only built commands
 * are listed: the benchmark suite runs from bench/run.sh, not from gf. */
typedef struct command_slot {
  const char *name;
  const char *summary;
  const cli_command *impl;
} command_slot;

static const command_slot commands[] = {
    {"schema", "column names, types, nullability and row count of a file", &cli_cmd_schema},
    {"head", "the first rows of a file as a table", &cli_cmd_head},
    {"describe", "count, nulls, min, max, mean, std and quartiles per column", &cli_cmd_describe},
    {"query", "filter, compute, group, sort and join a file in parallel", &cli_cmd_query},
    {"convert", "convert between CSV and Arrow IPC files", &cli_cmd_convert},
    {"gen", "generate benchmark data (db-benchmark group-by and join)", &cli_cmd_gen},
};

#define NUM_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

/* Prints "gf: <message>\n" to stderr (inputs held in memory files named
 * by the names the user gave, cli_unalias). */
void cli_error(const char *fmt, ...) {
  char line[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  cli_unalias(line, sizeof line);
  fprintf(stderr, "gf: %s\n", line);
}

/* Prints "gf: [COMMAND: ]<message> (try 'gf help [COMMAND]')" on one line and
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...) {
  va_list ap;
  fputs("gf: ", stderr);
  if (command) fprintf(stderr, "%s: ", command);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, " (try 'gf help%s%s')\n", command ? " " : "",
          command ? command : "");
  return CLI_EXIT_USAGE;
}

/* Reports a failed library call on one line and returns CLI_EXIT_FAILURE.
 * Library messages may span lines in theory; newlines are flattened so the
 * one-line promise holds. */
int cli_fail(const char *what, gf_status st, const gf_error *err) {
  char msg[GF_ERROR_MESSAGE_SIZE + 256];
  snprintf(msg, sizeof msg, "%s",
           (err && err->code != GF_OK && err->message[0]) ? err->message : gf_status_string(st));
  cli_unalias(msg, sizeof msg);
  fputs("gf: ", stderr);
  if (what) fprintf(stderr, "%s: ", what);
  for (const char *p = msg; *p; p++) fputc(*p == '\n' ? ' ' : *p, stderr);
  fputc('\n', stderr);
  return CLI_EXIT_FAILURE;
}

/* Parses a whole decimal integer in [min, max]; digits are read by hand so
 * no locale can change the meaning. Reports the problem and returns false. */
bool cli_parse_int64(const char *command, const char *option, const char *text,
                     int64_t min, int64_t max, int64_t *out) {
  const char *p = text ? text : "";
  bool negative = false;
  uint64_t magnitude = 0;
  /* The largest magnitude a value of this sign may reach. */
  uint64_t limit;

  if (*p == '+' || *p == '-') negative = (*p++ == '-');
  limit = negative ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
  if (*p == '\0') goto bad;
  for (; *p; p++) {
    unsigned digit;
    if (*p < '0' || *p > '9') goto bad;
    digit = (unsigned)(*p - '0');
    if (magnitude > (limit - digit) / 10u) goto range;
    magnitude = magnitude * 10u + digit;
  }
  {
    int64_t v = negative ? (magnitude == (uint64_t)INT64_MAX + 1u
                                ? INT64_MIN
                                : -(int64_t)magnitude)
                         : (int64_t)magnitude;
    if (v < min || v > max) goto range;
    *out = v;
    return true;
  }
bad:
  cli_usage_error(command, "%s expects an integer, got '%s'", option,
                  text ? text : "");
  return false;
range:
  cli_usage_error(command, "%s must be between %lld and %lld, got '%s'",
                  option, (long long)min, (long long)max, text);
  return false;
}

/* The row of `name`, or NULL. */
static const command_slot *find_command(const char *name) {
  for (int i = 0; i < NUM_COMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

/* `gf help` / `gf --help`: the overview, on stdout. */
static void print_overview(void) {
  printf("gf - columnar, Arrow-compatible data frames from the command line\n"
         "     (GopherFrame %s)\n\n"
         "Usage: gf COMMAND [ARGS...]\n"
         "       gf help [COMMAND]\n"
         "       gf --version\n\n"
         "Commands:\n",
         gf_version());
  for (int i = 0; i < NUM_COMMANDS; i++) {
    printf("  %-9s %s\n", commands[i].name, commands[i].summary);
  }
  printf("  %-9s %s\n\n", "help", "this overview, or the help of one command");
  printf("Options:\n"
         "  -h, --help     show this help\n"
         "  -V, --version  show the version and the CPU features in use\n\n"
         "Exit status: 0 success, 1 the command failed, 2 bad command line.\n");
}

/* `gf --version`: tool and library versions, then the detected CPU features
 * that the run-time SIMD dispatch may use. */
static int print_version(void) {
  const char *cpu = gf_cpu_features_string();
  printf("gf %s (gopherframe %s)\n", GF_VERSION_STRING, gf_version());
  printf("cpu features: %s\n", (cpu && cpu[0]) ? cpu : "none");
  return CLI_EXIT_OK;
}

/* `gf help [COMMAND]`. */
static int run_help(int argc, char **argv) {
  const command_slot *c;
  if (argc == 0) {
    print_overview();
    return CLI_EXIT_OK;
  }
  if (argc > 1) return cli_usage_error("help", "expects at most one command");
  if (strcmp(argv[0], "help") == 0) {
    printf("Usage: gf help [COMMAND]\n\n"
           "Without COMMAND, lists the commands; with it, shows that "
           "command's help.\n");
    return CLI_EXIT_OK;
  }
  c = find_command(argv[0]);
  if (!c) return cli_usage_error(NULL, "unknown command '%s'", argv[0]);
  fputs(c->impl->usage, stdout);
  return CLI_EXIT_OK;
}

/* Runs a command found in the table with its own arguments (argv[0] is its
 * name). `--help` anywhere before a `--` shows its help instead. */
static int run_command(const command_slot *c, int argc, char **argv) {
  for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "--help") == 0) {
      fputs(c->impl->usage, stdout);
      return CLI_EXIT_OK;
    }
  }
  /* glibc's getopt re-initialises fully when optind is 0. */
  optind = 0;
  opterr = 0;
  return c->impl->run(argc, argv);
}

/* Dispatches argv; returns the exit code. */
static int dispatch(int argc, char **argv) {
  const char *first;
  const command_slot *c;

  if (argc < 2) return cli_usage_error(NULL, "missing command");
  first = argv[1];
  if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0) {
    if (argc > 2) return cli_usage_error(NULL, "unexpected argument '%s' after %s", argv[2], first);
    print_overview();
    return CLI_EXIT_OK;
  }
  if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
    if (argc > 2) return cli_usage_error(NULL, "unexpected argument '%s' after %s", argv[2], first);
    return print_version();
  }
  if (first[0] == '-') return cli_usage_error(NULL, "unknown option '%s'", first);
  if (strcmp(first, "help") == 0) return run_help(argc - 2, argv + 2);
  c = find_command(first);
  if (!c) return cli_usage_error(NULL, "unknown command '%s'", first);
  return run_command(c, argc - 1, argv + 1);
}

int main(int argc, char **argv) {
  int rc;
  /* A closed pipe (gf head | head -1) must not kill us with SIGPIPE: writes
   * fail with EPIPE instead and are handled below. */
  signal(SIGPIPE, SIG_IGN);
  /* Likewise a file-size limit (ulimit -f) must not kill us mid-write with
   * the temporary file left behind: the write fails with EFBIG, the
   * command reports it and removes its temporary file. */
  signal(SIGXFSZ, SIG_IGN);

  rc = dispatch(argc, argv);

  /* errno still holds the cause of the first failed write when the stream's
   * error flag is already set; otherwise the final flush may set it. */
  {
    int failed = ferror(stdout), cause = errno;
    if (!failed && fflush(stdout) != 0) {
      failed = 1;
      cause = errno;
    }
    if (failed) {
      /* A reader that went away is not worth a message; anything else is,
       * unless the command already failed and said why (one error line). */
      if (cause != EPIPE && rc == CLI_EXIT_OK)
        cli_error("error writing output: %s", strerror(cause ? cause : EIO));
      if (rc == CLI_EXIT_OK) rc = CLI_EXIT_FAILURE;
    }
  }
  return rc;
}
