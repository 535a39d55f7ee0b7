/*
 * cli_read.c - what the gf commands that read a file share: the common
 * options (--threads, --delimiter, --no-header), Ctrl-C cancellation, the
 * progress bar, and reading a file, a pipe or standard input into a frame
 * with one error line on failure: the format is chosen by content
 * (cli_open_input; docs/FORMATS.md) and read by ONE dispatch
 * (cli_read_input).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Parses --types "NAME:TYPE,NAME:TYPE..." into static storage (a command
 * parses its options once); false after printing the usage error. A name
 * may itself hold ':' (the type is after the last one); decimal(P,S)'s
 * comma is inside parentheses. */
static bool parse_types(const char *command, const char *arg, cli_read_args *a) {
  static char text[4096];
  static gf_csv_column_type types[256];
  if (strlen(arg) >= sizeof text) {
    cli_usage_error(command, "--types is longer than %zu bytes", sizeof text - 1);
    return false;
  }
  memcpy(text, arg, strlen(arg) + 1);
  int n = 0;
  char *p = text;
  while (*p) {
    /* One item: up to a comma outside parentheses. */
    char *end = p;
    int depth = 0;
    while (*end && (*end != ',' || depth > 0)) {
      if (*end == '(') depth++;
      if (*end == ')' && depth > 0) depth--;
      end++;
    }
    bool last = *end == '\0';
    *end = '\0';
    char *colon = strrchr(p, ':');
    if (colon && colon[1] == '\0') colon = NULL;
    if (!colon || colon == p) {
      cli_usage_error(command, "--types expects NAME:TYPE items separated by commas, got '%s'", p);
      return false;
    }
    *colon = '\0';
    if (n == (int)(sizeof types / sizeof types[0])) {
      cli_usage_error(command, "--types names more than %zu columns",
                      sizeof types / sizeof types[0]);
      return false;
    }
    if (!gf_type_from_name(colon + 1, &types[n].type)) {
      cli_usage_error(command,
                      "--types: '%s' (for column '%s') is not a type name: use int8..int64, "
                      "uint8..uint64, float32, float64, utf8, large_utf8, bool, date32, date64, "
                      "timestamp, decimal(P,S)",
                      colon + 1, p);
      return false;
    }
    types[n++].name = p;
    if (last) break;
    p = end + 1;
  }
  a->types = types;
  a->ntypes = n;
  return true;
}

/* Handles the common options (see cli.h). */
bool cli_read_option(const char *command, int opt, const char *arg, cli_read_args *a,
                     int *rc) {
  int64_t v;
  *rc = CLI_EXIT_OK;
  switch (opt) {
    case CLI_OPT_THREADS:
      if (!cli_parse_int64(command, "--threads", arg, 1, 4096, &v))
        *rc = CLI_EXIT_USAGE;
      else
        a->threads = (int)v;
      return true;
    case 'd':
      if (!cli_parse_delimiter(command, "--delimiter", arg, &a->delimiter)) *rc = CLI_EXIT_USAGE;
      return true;
    case CLI_OPT_NO_HEADER:
      a->no_header = true;
      return true;
    case CLI_OPT_INPUT_MODE:
      if (strcmp(arg, "read") == 0 || strcmp(arg, "mmap") == 0) {
        a->read = arg[0] == 'r';
      } else {
        cli_usage_error(command, "--input-mode expects 'read' or 'mmap', got '%s'", arg);
        *rc = CLI_EXIT_USAGE;
      }
      return true;
    case CLI_OPT_TYPES:
      if (!parse_types(command, arg, a)) *rc = CLI_EXIT_USAGE;
      return true;
    case CLI_OPT_INPUT_FORMAT:
      if (!gf_file_format_parse(arg, &a->input_format)) {
        cli_usage_error(command,
                        "--input-format expects csv, tsv, ndjson, json, arrow, arrows or "
                        "parquet, got '%s'",
                        arg);
        *rc = CLI_EXIT_USAGE;
      }
      return true;
    default:
      return cli_multi_option(command, opt, arg, a, rc);
  }
}

/* One character, or a spelled-out tab. Line breaks and NUL are refused. */
bool cli_parse_delimiter(const char *command, const char *option, const char *text,
                         char *out) {
  if (text && (strcmp(text, "tab") == 0 || strcmp(text, "\\t") == 0)) {
    *out = '\t';
    return true;
  }
  if (!text || strlen(text) != 1 || text[0] == '\n' || text[0] == '\r' || text[0] == '"') {
    cli_usage_error(command, "%s expects one character (or 'tab'), got '%s'", option,
                    text ? text : "");
    return false;
  }
  *out = text[0];
  return true;
}

/* Extension check, case-insensitive. */
bool cli_is_ipc_path(const char *path) {
  static const char *const ext[] = {".arrow", ".feather", ".ipc", ".arrows"};
  size_t n = strlen(path);
  for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
    size_t m = strlen(ext[i]);
    if (n > m && strncasecmp(path + n - m, ext[i], m) == 0) return true;
  }
  return false;
}

/* The Parquet extension, case-insensitive. */
bool cli_is_parquet_path(const char *path) {
  size_t n = strlen(path);
  return n > 8 && strncasecmp(path + n - 8, ".parquet", 8) == 0;
}

/* The stream extension, case-insensitive. */
bool cli_is_ipc_stream_path(const char *path) {
  size_t n = strlen(path);
  return n > 7 && strcasecmp(path + n - 7, ".arrows") == 0;
}

/* ---- Ctrl-C ----------------------------------------------------------- */

static gf_cancel *interrupt_token;

/* SIGINT, SIGTERM, SIGHUP: ask the running call to stop (async-signal-safe);
 * the call returns GF_ECANCELED, its temporary output file is removed and gf
 * exits 1. A second Ctrl-C while it winds down is ignored rather than
 * killing the process mid-rename; a second SIGTERM or SIGHUP is obeyed at
 * once (default action), for a caller who must not wait. */
static volatile sig_atomic_t term_seen;

static void on_interrupt(int sig) {
  if (sig != SIGINT) {
    if (term_seen) {
      signal(sig, SIG_DFL);
      raise(sig);
      return;
    }
    term_seen = 1;
  }
  if (interrupt_token) gf_cancel_request(interrupt_token);
}

/* ---- inputs truncated under a mapping: SIGBUS -------------------------- */

/* The library reports (gf_set_file_observer) the ranges of the inputs it
 * maps and the temporary output files it creates; gf keeps them in fixed
 * tables the SIGBUS handler can read without locks or allocation. A slot is
 * filled while FREE is not visible to the handler (state BUSY), then
 * published LIVE; clearing goes LIVE -> FREE first. */
enum { SLOT_FREE, SLOT_BUSY, SLOT_LIVE, MAX_MAPS = 16, MAX_TEMPS = 8 };

typedef struct map_slot {
  atomic_int state;
  const char *lo;
  size_t len;
  char path[PATH_MAX];
} map_slot;

typedef struct temp_slot {
  atomic_int state;
  char path[PATH_MAX];
} temp_slot;

static map_slot maps[MAX_MAPS];
static temp_slot temps[MAX_TEMPS];

/* Claims a free slot of a table of `n` states spaced `stride` bytes apart;
 * returns its index or -1 when all are taken (the range then goes
 * unwatched, and a fault in it takes the default action). */
static int claim_slot(atomic_int *first, size_t stride, int n) {
  for (int i = 0; i < n; i++) {
    atomic_int *st = (atomic_int *)((char *)first + (size_t)i * stride);
    int expect = SLOT_FREE;
    if (atomic_compare_exchange_strong(st, &expect, SLOT_BUSY)) return i;
  }
  return -1;
}

static void copy_path(char *dst, const char *src) {
  snprintf(dst, PATH_MAX, "%s", src);
}

/* Observer: a mapped input. */
static void on_mapped(void *user, const char *path, const void *addr, size_t len) {
  (void)user;
  int i = claim_slot(&maps[0].state, sizeof maps[0], MAX_MAPS);
  if (i < 0) return;
  maps[i].lo = addr;
  maps[i].len = len;
  copy_path(maps[i].path, path);
  atomic_store(&maps[i].state, SLOT_LIVE);
}

/* Observer: a mapping about to go. */
static void on_unmapped(void *user, const void *addr, size_t len) {
  (void)user;
  (void)len;
  for (int i = 0; i < MAX_MAPS; i++)
    if (atomic_load(&maps[i].state) == SLOT_LIVE && maps[i].lo == addr) {
      atomic_store(&maps[i].state, SLOT_FREE);
      return;
    }
}

/* Observer: a temporary output file created or gone. */
static void on_temp_file(void *user, const char *tmp_path, bool created) {
  (void)user;
  if (created) {
    int i = claim_slot(&temps[0].state, sizeof temps[0], MAX_TEMPS);
    if (i < 0) return;
    copy_path(temps[i].path, tmp_path);
    atomic_store(&temps[i].state, SLOT_LIVE);
    return;
  }
  for (int i = 0; i < MAX_TEMPS; i++)
    if (atomic_load(&temps[i].state) == SLOT_LIVE && strcmp(temps[i].path, tmp_path) == 0) {
      atomic_store(&temps[i].state, SLOT_FREE);
      return;
    }
}

/* Appends the string s to the line being built at *end (bounded by limit). */
static char *append_str(char *end, const char *limit, const char *s) {
  while (*s && end < limit) *end++ = *s++;
  return end;
}

/* SIGBUS: a fault inside a mapped input means another process truncated
 * it. Only async-signal-safe calls from here: remove the temporary output
 * files, write the one error line (in one write), _exit(1). Workers that
 * fault at the same time wait in pause() for that exit, so the line is
 * written once. A fault anywhere else is not ours to explain: the default
 * action is restored and the faulting access runs again, killing gf as
 * before. */
static void on_sigbus(int sig, siginfo_t *si, void *uctx) {
  static atomic_flag reporting = ATOMIC_FLAG_INIT;
  static char line[PATH_MAX + 128];
  (void)uctx;
  const char *addr = si ? (const char *)si->si_addr : NULL;
  for (int i = 0; addr && i < MAX_MAPS; i++) {
    if (atomic_load(&maps[i].state) != SLOT_LIVE) continue;
    if (addr < maps[i].lo || (size_t)(addr - maps[i].lo) >= maps[i].len) continue;
    if (atomic_flag_test_and_set(&reporting))
      for (;;) pause();
    for (int t = 0; t < MAX_TEMPS; t++)
      if (atomic_load(&temps[t].state) == SLOT_LIVE) unlink(temps[t].path);
    const char *limit = line + sizeof line - 1;
    char *end = append_str(line, limit, "gf: ");
    end = append_str(end, limit, maps[i].path);
    end = append_str(end, limit, " changed while being read (truncated by another process)");
    *end++ = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)(end - line));
    (void)w;
    _exit(CLI_EXIT_FAILURE);
  }
  signal(sig, SIG_DFL);
}

/* Watches mapped inputs (once per process): the observer and the handler. */
static void watch_mapped_inputs(void) {
  static bool installed;
  if (installed) return;
  installed = true;
  gf_file_observer o = {on_mapped, on_unmapped, on_temp_file, NULL};
  gf_set_file_observer(&o);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, NULL);
}

/* Defaults for `threads` workers plus the Ctrl-C token (installed once). */
void cli_parallel_options(int threads, gf_parallel_options *p) {
  gf_parallel_options_init(p);
  p->num_workers = threads;
  if (!interrupt_token && gf_cancel_new(&interrupt_token, NULL) == GF_OK) {
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  }
  p->cancel = interrupt_token;
  watch_mapped_inputs();
}

/* ---- progress bar ------------------------------------------------------- */

typedef struct progress {
  const char *path;
  struct timespec start;
  bool drawn;
  int last_permille;
} progress;

/* Seconds elapsed since t0 (monotonic clock). */
static double seconds_since(const struct timespec *t0) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Progress callback: draws "\rreading FILE [=====     ]  52%" once the read
 * has taken a second, redrawing only when the shown value changes. */
static bool draw_progress(void *user, int64_t done, int64_t total) {
  progress *p = user;
  if (total <= 0) return true;
  if (!p->drawn && seconds_since(&p->start) < 1.0) return true;
  int permille = (int)(done * 1000 / total);
  if (permille > 1000) permille = 1000;
  if (p->drawn && permille / 10 == p->last_permille / 10) return true;
  p->drawn = true;
  p->last_permille = permille;
  char bar[31];
  int fill = permille * 30 / 1000;
  for (int i = 0; i < 30; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
  bar[30] = '\0';
  const char *name = strrchr(p->path, '/');
  name = name ? name + 1 : p->path;
  fprintf(stderr, "\rreading %.40s [%s] %3d%%", name, bar, permille / 10);
  fflush(stderr);
  return true;
}

/* Removes the bar so the next stderr line starts clean. */
static void clear_progress(progress *p) {
  if (!p->drawn) return;
  fprintf(stderr, "\r%*s\r", 80, "");
  fflush(stderr);
}

/* The bar of the CSV reads a plan runs (one command = one plan). */
static progress plan_progress;

void cli_csv_progress(const char *path, gf_csv_read_options *o) {
  if (!isatty(STDERR_FILENO)) return;
  memset(&plan_progress, 0, sizeof plan_progress);
  plan_progress.path = path;
  clock_gettime(CLOCK_MONOTONIC, &plan_progress.start);
  o->progress = draw_progress;
  o->progress_user = &plan_progress;
}

void cli_progress_clear(void) {
  clear_progress(&plan_progress);
  plan_progress.drawn = false;
}

/* ---- reading ---------------------------------------------------------- */

int cli_read_frame(const char *command, const char *path, const cli_read_args *a,
                   int64_t max_rows, gf_frame **out) {
  gf_parallel_options par;
  cli_parallel_options(a->threads, &par);
  return cli_read_frame_opts(command, path, a, max_rows, NULL, 0, &par, out);
}

/* The one error line for a failed read: Ctrl-C and --memory-limit get their
 * own wording, everything else the library's message. */
static int read_failure(const char *command, const gf_parallel_options *par, gf_status st,
                        const gf_error *err) {
  if (st == GF_ECANCELED && gf_cancel_requested(par->cancel)) {
    cli_error("%s: interrupted", command);
    return CLI_EXIT_FAILURE;
  }
  if (st == GF_ENOMEM && par->memory_limit > 0) {
    cli_error("%s: memory limit of %lld bytes exceeded (--memory-limit)", command,
              (long long)par->memory_limit);
    return CLI_EXIT_FAILURE;
  }
  return cli_fail(command, st, err);
}

/* gf maps regular files unless --input-mode read: copying costs about half
 * a second of system time per 500 MB on a query of about a second of CPU
 * (README), and on_sigbus turns a truncation under the mapping into one
 * error line. The copy is for a run that should finish despite it. */
static gf_input_mode input_mode(const cli_read_args *a) {
  return a->read ? GF_INPUT_READ : GF_INPUT_MMAP;
}

/* The projection and row limit the CSV reader would have applied while
 * parsing, applied to a frame read whole (IPC): the buffers are shared, so
 * neither step copies data. Consumes *f (replaced by the result). */
static gf_status narrow_frame(gf_frame **f, int64_t max_rows, const char *const *columns,
                              int num_columns, gf_error *err) {
  gf_status st;
  if (columns && num_columns > 0) {
    gf_frame *sel = NULL;
    st = gf_select(*f, columns, num_columns, &sel, err);
    gf_frame_release(*f);
    *f = NULL;
    if (st != GF_OK) return st;
    *f = sel;
  }
  if (max_rows > 0 && gf_frame_num_rows(*f) > max_rows) {
    gf_frame *cut = NULL;
    st = gf_frame_slice(*f, 0, max_rows, &cut, err);
    gf_frame_release(*f);
    *f = NULL;
    if (st != GF_OK) return st;
    *f = cut;
  }
  return GF_OK;
}

/* The one error line of a failed read of `name`: the library's message,
 * prefixed with the input's name unless it already says it. */
static int input_failure(const char *command, const char *name,
                         const gf_parallel_options *parallel, gf_status st,
                         const gf_error *given) {
  gf_error copy = *given, *err = &copy;
  cli_unalias(copy.message, sizeof copy.message);
  if (err->code != GF_OK && err->message[0] && !strstr(err->message, name) &&
      !(st == GF_ECANCELED || st == GF_ENOMEM)) {
    cli_error("%s: %s: %s", command, name, err->message);
    return CLI_EXIT_FAILURE;
  }
  return read_failure(command, parallel, st, err);
}

/* Reads an Arrow IPC file or stream: by path (mapped unless --input-mode
 * read; gf_read_ipc tells file and stream apart by the magic) or from the
 * content in memory, then narrows it like the CSV reader would. */
static int read_ipc(const char *command, const cli_input *in, const cli_read_args *a,
                    int64_t max_rows, const char *const *columns, int num_columns,
                    const gf_parallel_options *parallel, gf_frame **out,
                    gf_ipc_metadata **metadata) {
  gf_ipc_read_options o;
  gf_ipc_read_options_init(&o);
  o.parallel = parallel;
  o.input_mode = input_mode(a);
  o.metadata = metadata;
  o.max_rows = max_rows; /* a file then reads only the batches needed */
  gf_error err;
  gf_error_clear(&err);
  gf_frame *f = NULL;
  gf_status st;
  if (in->path)
    st = gf_read_ipc(in->path, &o, &f, &err);
  else if (in->format == GF_FORMAT_IPC_FILE)
    st = gf_read_ipc_file_buffer(in->data, in->len, &o, &f, &err);
  else
    st = gf_read_ipc_stream_buffer(in->data, in->len, &o, &f, &err);
  if (st == GF_OK) st = narrow_frame(&f, max_rows, columns, num_columns, &err);
  if (st != GF_OK) {
    if (metadata && *metadata) {
      gf_ipc_metadata_free(*metadata);
      *metadata = NULL;
    }
    return input_failure(command, in->name, parallel, st, &err);
  }
  *out = f;
  return CLI_EXIT_OK;
}

/* Reads CSV or TSV: by path (mapped, parsed in parallel, with the progress
 * bar) or from the content in memory. TSV means a tab delimiter unless
 * --delimiter says otherwise. */
static int read_csv(const char *command, const cli_input *in, const cli_read_args *a,
                    int64_t max_rows, const char *const *columns, int num_columns,
                    const gf_parallel_options *parallel, gf_frame **out) {
  gf_parallel_options par = *parallel;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.delimiter = a->delimiter ? a->delimiter : in->format == GF_FORMAT_TSV ? '\t' : 0;
  if (a->no_header) o.header = 0;
  o.column_types = a->types;
  o.num_column_types = a->ntypes;
  o.max_rows = max_rows;
  o.columns = columns;
  o.num_columns = num_columns;
  o.parallel = &par;
  o.input_mode = input_mode(a);
  progress p;
  memset(&p, 0, sizeof p);
  p.path = in->name;
  clock_gettime(CLOCK_MONOTONIC, &p.start);
  if (isatty(STDERR_FILENO)) {
    o.progress = draw_progress;
    o.progress_user = &p;
  }
  gf_error err;
  gf_error_clear(&err);
  gf_status st = in->path ? gf_read_csv(in->path, &o, out, &err)
                          : gf_read_csv_buffer(in->data, in->len, in->name, &o, out, &err);
  clear_progress(&p);
  if (st != GF_OK) return input_failure(command, in->name, &par, st, &err);
  return CLI_EXIT_OK;
}

/* Reads a Parquet file, only the `columns` asked for (all when NULL),
 * then cuts it to `max_rows` (0 = all). */
static int read_parquet(const char *command, const cli_input *in, const cli_read_args *a,
                        int64_t max_rows, const char *const *columns, int num_columns,
                        const gf_parallel_options *parallel, gf_frame **out) {
  gf_parquet_read_options o;
  gf_parquet_read_options_init(&o);
  o.parallel = parallel;
  o.input_mode = input_mode(a);
  if (columns && num_columns > 0) {
    o.columns = columns;
    o.num_columns = num_columns;
  }
  gf_error err;
  gf_error_clear(&err);
  gf_frame *f = NULL;
  gf_status st = gf_read_parquet(in->path, &o, &f, &err);
  if (st == GF_OK && max_rows > 0 && gf_frame_num_rows(f) > max_rows) {
    gf_frame *cut = NULL;
    st = gf_frame_slice(f, 0, max_rows, &cut, &err);
    gf_frame_release(f);
    f = cut;
  }
  if (st != GF_OK) return input_failure(command, in->name, parallel, st, &err);
  *out = f;
  return CLI_EXIT_OK;
}

/* Reads NDJSON or a JSON array (docs/JSON.md): by path, or from the
 * content in memory. */
static int read_json(const char *command, const cli_input *in, const cli_read_args *a,
                     int64_t max_rows, const char *const *columns, int num_columns,
                     const gf_parallel_options *parallel, gf_frame **out) {
  gf_json_read_options o;
  gf_json_read_options_init(&o);
  o.max_rows = max_rows;
  o.format = in->format == GF_FORMAT_NDJSON ? GF_JSON_NDJSON : GF_JSON_AUTO;
  o.columns = columns;
  o.num_columns = num_columns;
  o.parallel = parallel;
  o.input_mode = input_mode(a);
  gf_error err;
  gf_error_clear(&err);
  gf_status st = in->path ? gf_read_json(in->path, &o, out, &err)
                          : gf_read_json_buffer(in->data, in->len, in->name, &o, out, &err);
  if (st != GF_OK) return input_failure(command, in->name, parallel, st, &err);
  return CLI_EXIT_OK;
}

/* See cli.h. New readers are wired here, one case per format. */
int cli_read_input(const char *command, const cli_input *in, const cli_read_args *a,
                   int64_t max_rows, const char *const *columns, int num_columns,
                   const gf_parallel_options *parallel, gf_frame **out,
                   gf_ipc_metadata **metadata) {
  if (metadata) *metadata = NULL;
  switch (in->format) {
    case GF_FORMAT_CSV:
    case GF_FORMAT_TSV:
      return read_csv(command, in, a, max_rows, columns, num_columns, parallel, out);
    case GF_FORMAT_IPC_FILE:
    case GF_FORMAT_IPC_STREAM:
      return read_ipc(command, in, a, max_rows, columns, num_columns, parallel, out, metadata);
    case GF_FORMAT_NDJSON:
    case GF_FORMAT_JSON:
      return read_json(command, in, a, max_rows, columns, num_columns, parallel, out);
    case GF_FORMAT_PARQUET:
      /* By path: a piped or compressed Parquet input has been copied to a
       * file (cli_open_input). */
      return read_parquet(command, in, a, max_rows, columns, num_columns, parallel, out);
    default:
      cli_error("%s: %s: unknown format", command, in->name);
      return CLI_EXIT_FAILURE;
  }
}

/* Formats whose readers need a file they can seek in (a piped or
 * compressed input is copied to a temporary file for them). */
static bool needs_file(gf_file_format f) { return f == GF_FORMAT_PARQUET; }

/* Copies the content to a temporary file in $TMPDIR (default /tmp) that
 * cli_input_free removes; the content itself is then freed. */
static int spool(const char *command, cli_input *in) {
  const char *dir = getenv("TMPDIR");
  if (!dir || !*dir) dir = "/tmp";
  size_t n = strlen(dir) + 32;
  in->spool = malloc(n);
  if (!in->spool) {
    cli_error("%s: out of memory", command);
    return CLI_EXIT_FAILURE;
  }
  snprintf(in->spool, n, "%s/gf-spool-XXXXXX", dir);
  int fd = mkstemp(in->spool);
  if (fd < 0) {
    cli_error("%s: %s: cannot create a temporary copy in %s: %s", command, in->name, dir,
              strerror(errno));
    free(in->spool);
    in->spool = NULL;
    return CLI_EXIT_FAILURE;
  }
  const char *p = in->data;
  size_t left = in->len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      cli_error("%s: %s: cannot write a temporary copy in %s: %s", command, in->name, dir,
                strerror(errno));
      close(fd);
      return CLI_EXIT_FAILURE; /* cli_input_free removes it */
    }
    p += w;
    left -= (size_t)w;
  }
  if (close(fd) != 0) {
    cli_error("%s: %s: cannot write a temporary copy in %s: %s", command, in->name, dir,
              strerror(errno));
    return CLI_EXIT_FAILURE;
  }
  gf_mem_free(in->data);
  in->data = NULL;
  in->len = 0;
  in->path = in->spool;
  return CLI_EXIT_OK;
}

/* Memory files standing for inputs, and the names to show for them. */
enum { MAX_ALIASES = 8 };
static struct {
  char path[32];
  char name[PATH_MAX];
} aliases[MAX_ALIASES];
static int num_aliases;

/* See cli.h. */
void cli_unalias(char *msg, size_t cap) {
  for (int i = 0; i < num_aliases; i++) {
    size_t plen = strlen(aliases[i].path), nlen = strlen(aliases[i].name);
    char *at;
    while ((at = strstr(msg, aliases[i].path)) != NULL) {
      /* "/proc/self/fd/1" must not match the start of "/proc/self/fd/12". */
      if (at[plen] >= '0' && at[plen] <= '9') break;
      size_t tail = strlen(at + plen);
      if ((size_t)(at - msg) + nlen + tail + 1 > cap) break;
      memmove(at + nlen, at + plen, tail + 1);
      memcpy(at, aliases[i].name, nlen);
    }
  }
}

/* Writes the rest of `gi` (decompressed) into a memory file (memfd) that
 * the path readers then open as "/proc/self/fd/N": mapped, parsed in
 * parallel, with the projection pushed into query scans, and seekable for
 * readers that need it (Parquet, IPC files). Returns CLI_EXIT_OK, or -1
 * when memory files are unavailable (the caller reads into memory), or the
 * exit code after printing the error. */
static int fill_memfd(const char *command, gf_input *gi, const gf_parallel_options *parallel,
                      cli_input *in) {
  if (num_aliases == MAX_ALIASES) return -1;
  int fd = memfd_create("gf-input", MFD_CLOEXEC);
  if (fd < 0) return -1;
  enum { CHUNK = 1 << 20 };
  char *buf = malloc(CHUNK);
  if (!buf) {
    close(fd);
    cli_error("%s: out of memory", command);
    return CLI_EXIT_FAILURE;
  }
  gf_error err;
  gf_error_clear(&err);
  uint64_t total = 0;
  for (;;) {
    size_t got;
    gf_status st = gf_input_read(gi, buf, CHUNK, &got, &err);
    if (st != GF_OK) {
      free(buf);
      close(fd);
      return input_failure(command, in->name, parallel, st, &err);
    }
    if (got == 0) break;
    /* The memory file is outside the allocator's count: --memory-limit
     * bounds it here (an endless input would otherwise fill memory). */
    total += got;
    if (parallel->memory_limit > 0 && total > (uint64_t)parallel->memory_limit) {
      free(buf);
      close(fd);
      cli_error("%s: memory limit of %lld bytes exceeded (--memory-limit) holding the %s "
                "input %s",
                command, (long long)parallel->memory_limit,
                in->compression != GF_COMPRESSION_NONE ? "decompressed" : "piped", in->name);
      return CLI_EXIT_FAILURE;
    }
    for (size_t off = 0; off < got;) {
      ssize_t w = write(fd, buf + off, got - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        cli_error("%s: %s: cannot hold the %s input in memory: %s", command, in->name,
                  in->compression != GF_COMPRESSION_NONE ? "decompressed" : "piped",
                  strerror(errno));
        free(buf);
        close(fd);
        return CLI_EXIT_FAILURE;
      }
      off += (size_t)w;
    }
  }
  free(buf);
  /* Kept open until gf exits: a query's plan reads it after its source
   * was made. */
  snprintf(in->memfd_path, sizeof in->memfd_path, "/proc/self/fd/%d", fd);
  snprintf(aliases[num_aliases].path, sizeof aliases[num_aliases].path, "%s", in->memfd_path);
  snprintf(aliases[num_aliases].name, sizeof aliases[num_aliases].name, "%s", in->name);
  num_aliases++;
  in->path = in->memfd_path;
  return CLI_EXIT_OK;
}

/* See cli.h. */
int cli_open_input(const char *command, const char *path, const cli_read_args *a,
                   const gf_parallel_options *parallel, cli_input *in) {
  memset(in, 0, sizeof *in);
  bool is_stdin = strcmp(path, "-") == 0;
  in->name = is_stdin ? "standard input" : path;
  /* Standard input redirected from a regular file, unread: opened again
   * by name so that an uncompressed one is mapped, not copied. */
  struct stat sb;
  if (is_stdin && fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode) &&
      lseek(STDIN_FILENO, 0, SEEK_CUR) == 0 && num_aliases < MAX_ALIASES &&
      access("/proc/self/fd/0", R_OK) == 0) {
    path = "/proc/self/fd/0";
    snprintf(aliases[num_aliases].path, sizeof aliases[num_aliases].path, "%s", path);
    snprintf(aliases[num_aliases].name, sizeof aliases[num_aliases].name, "%s", in->name);
    num_aliases++;
  }
  gf_input *gi = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_input_open(path, parallel, &gi, &err);
  if (st != GF_OK) return input_failure(command, in->name, parallel, st, &err);
  size_t hlen;
  const void *head = gf_input_head(gi, &hlen);
  gf_file_format hint;
  gf_format_from_path(is_stdin ? "" : path, &hint, NULL);
  in->compression = gf_input_compression(gi);
  in->format = a->input_format != GF_FORMAT_UNKNOWN ? a->input_format
                                                     : gf_detect_format(head, hlen, hint);
  if (in->format == GF_FORMAT_BINARY) {
    const char *what = gf_describe_binary(head, hlen);
    if (in->compression != GF_COMPRESSION_NONE)
      cli_error("%s: %s: decompressed %s data is not a format gf reads (%s); give "
                "--input-format to read it anyway",
                command, in->name, gf_compression_name(in->compression),
                what ? what : "binary data");
    else
      cli_error("%s: %s: not CSV or another format gf reads: it looks like %s; give "
                "--input-format csv to read it as CSV anyway",
                command, in->name, what ? what : "binary data (NUL or non-text bytes near the start)");
    gf_input_close(gi);
    return CLI_EXIT_FAILURE;
  }
  if (in->compression == GF_COMPRESSION_NONE && gf_input_is_regular_file(gi)) {
    /* The path readers map it (zero copy) and read it in parallel. */
    gf_input_close(gi);
    in->path = path;
    return CLI_EXIT_OK;
  }
  int rc = fill_memfd(command, gi, parallel, in);
  if (rc >= 0) {
    gf_input_close(gi);
    return rc;
  }
  /* No memory files: the content in memory (readers that need a file get
   * a temporary copy). */
  st = gf_input_read_all(gi, &in->data, &in->len, &err);
  gf_input_close(gi);
  if (st != GF_OK) return input_failure(command, in->name, parallel, st, &err);
  if (needs_file(in->format)) return spool(command, in);
  return CLI_EXIT_OK;
}

/* See cli.h. */
void cli_input_free(cli_input *in) {
  gf_mem_free(in->data);
  in->data = NULL;
  if (in->spool) {
    unlink(in->spool);
    free(in->spool);
    in->spool = NULL;
  }
}

int cli_read_frame_meta(const char *command, const char *path, const cli_read_args *a,
                        gf_frame **out, gf_ipc_metadata **metadata) {
  gf_parallel_options par;
  cli_parallel_options(a->threads, &par);
  if (metadata) *metadata = NULL;
  cli_input in;
  int rc = cli_open_input(command, path, a, &par, &in);
  if (rc) return rc;
  rc = cli_read_input(command, &in, a, 0, NULL, 0, &par, out, metadata);
  cli_input_free(&in);
  return rc;
}

int cli_read_frame_opts(const char *command, const char *path, const cli_read_args *a,
                        int64_t max_rows, const char *const *columns, int num_columns,
                        const gf_parallel_options *parallel, gf_frame **out) {
  cli_input in;
  int rc = cli_open_input(command, path, a, parallel, &in);
  if (rc) return rc;
  rc = cli_read_input(command, &in, a, max_rows, columns, num_columns, parallel, out, NULL);
  cli_input_free(&in);
  return rc;
}
