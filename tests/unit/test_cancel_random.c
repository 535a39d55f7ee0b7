/* Cancellation and deadlines at random moments, for every public operation
 * that takes parallel options (CSV and IPC readers and writers, filter,
 * evaluate, with_columns, group-by, sort, join, pipelines), at 1, 2 and 3
 * workers, on frames of several reduction blocks.
 *
 * Each iteration starts the call and, from another thread, requests
 * cancellation after a delay drawn uniformly from [0, d) where d is the
 * call's measured uncancelled duration (or sets timeout_ms to a random
 * 1..d ms). The outcome must be GF_OK with exactly the uncancelled result
 * (the request came too late) or GF_ECANCELED / GF_ETIMEDOUT with a
 * message, the output untouched, nothing live in the allocator, no partial
 * output file (an existing target byte-identical), and a normal call must
 * succeed afterwards. Latency from request to return is printed per
 * operation (never asserted: the machine is shared).
 *
 * Iterations per operation and worker count: as many as fit in a small time
 * budget (so fast operations get more moments than slow ones), within fixed
 * bounds; GF_TEST_SANITIZED (or a sanitizer build) uses a smaller budget.
 * Environment: GF_CANCEL_ITERS (fixed cancel iterations per operation and
 * worker count; deadlines run half as many), GF_CANCEL_SEED (replay),
 * GF_CANCEL_OPS (only operations whose name contains it). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gf_test_data.h"
#include "gf_test_env.h"
#include "gopherframe/testing.h"

/* Frames of several reduction blocks (4; 2 in sanitizer runs), so that
 * every operation has many morsels, and cancellation points, at any worker
 * count. */
#define BLOCKS 4
#define SANITIZED_BLOCKS 2
#define RIGHT_ROWS 65536

static const char OLD_CONTENT[] = "the file that was here before\n";

/* ---- small helpers ------------------------------------------------------ */

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Uniform in [0, 1) from a splitmix64 stream. */
static double unit(uint64_t *s) { return (double)(gft_rand_next(s) >> 11) * 0x1p-53; }

/* Reads a whole file into *len bytes (caller frees); NULL when missing. */
static char *slurp(const char *path, size_t *len) {
  FILE *in = fopen(path, "rb");
  if (!in) return NULL;
  char *buf = NULL;
  size_t n = 0;
  FILE *m = open_memstream(&buf, &n);
  assert_non_null(m);
  char tmp[65536];
  size_t got;
  while ((got = fread(tmp, 1, sizeof tmp, in)) > 0) fwrite(tmp, 1, got, m);
  fclose(in);
  fclose(m);
  *len = n;
  return buf;
}

static void put_file(const char *path, const char *text) {
  FILE *out = fopen(path, "wb");
  assert_non_null(out);
  fputs(text, out);
  assert_int_equal(fclose(out), 0);
}

/* Entries of a directory other than . and .. (temporary files show here). */
static int dir_entries(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

static void remove_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char path[512];
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) remove_tree(path);
    else unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

static gf_expr *parse(const char *text) {
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse '%s': %s", text, err.message);
  return e;
}

/* Latency samples (ns) of one operation. */
typedef struct samples {
  int64_t *v;
  size_t n, cap;
} samples;

static void add_sample(samples *s, int64_t ns) {
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 64;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    assert_non_null(s->v);
  }
  s->v[s->n++] = ns;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static void sort_samples(samples *s) {
  if (s->n) qsort(s->v, s->n, sizeof *s->v, cmp_i64);
}

/* Nearest-rank percentile in milliseconds of sorted samples (-1 when none). */
static double pct_ms(const samples *s, double q) {
  if (s->n == 0) return -1;
  size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);
  return (double)s->v[i] / 1e6;
}

/* ---- the operations ------------------------------------------------------ */

typedef struct op op;
/* One call of the operation with `po`: frame results into *out; writers
 * write self->path instead. */
typedef gf_status (*op_fn)(op *self, const gf_parallel_options *po, gf_frame **out,
                           gf_error *err);

struct op {
  const char *name;
  op_fn run;
  bool writer;
  const char *file; /* writers: the target's name in the op's directory */
  /* filled by the test */
  char dir[256], path[512];
  gf_frame *ref;           /* the uncancelled result */
  char *ref_bytes;         /* writers: the uncancelled output */
  size_t ref_len;
  /* what happened */
  long cancel_runs, cancelled, ok_after_request; /* the rest: OK before any request */
  long deadline_runs, timed_out, ok_in_time, ok_late;
  samples cancel_latency, ok_late_latency, overrun, ok_overrun;
  int64_t dur_ns[4]; /* uncancelled duration per worker count */
};

/* Everything the operations read, built once by the group set-up. */
static struct {
  gf_frame *big;   /* rows: v int64, f float64, s utf8, k = |v| % 16, kmany = |v| % 65536 */
  gf_frame *right; /* RIGHT_ROWS rows: kmany 0.., w float64, t utf8 */
  char dir[160];
  char csv[192], ipc_file[192], ipc_stream[192];
  char *csv_text;
  size_t csv_len;
  gf_expr *pred, *eval, *with[2];
  gf_pipeline *fwg, *js;
  gf_failing_allocator *fa; /* never armed: counts live blocks and bytes; one
                               per operation, so a failure does not cascade */
  gf_cancel *token;
  uint64_t seed;
  int64_t rows;
  int timing_runs;                  /* uncancelled runs to measure a duration */
  int fixed_iters;                  /* GF_CANCEL_ITERS, 0 = by budget */
  int64_t budget_ns;                /* cancel iterations' share per operation and workers */
  int min_iters, max_iters;
  bool lz4;
} fx;

/* Cancel iterations for a call of `dur` ns: GF_CANCEL_ITERS, or what fits
 * in the budget (a cancelled call lasts half a duration on average). */
static int cancel_iters(int64_t dur) {
  if (fx.fixed_iters > 0) return fx.fixed_iters;
  int64_t n = fx.budget_ns / (dur / 2 + 1);
  return n < fx.min_iters ? fx.min_iters : n > fx.max_iters ? fx.max_iters : (int)n;
}

static gf_status op_read_csv(op *self, const gf_parallel_options *po, gf_frame **out,
                             gf_error *err) {
  (void)self;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.parallel = po;
  return gf_read_csv(fx.csv, &o, out, err);
}

static gf_status op_read_csv_buffer(op *self, const gf_parallel_options *po, gf_frame **out,
                                    gf_error *err) {
  (void)self;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.parallel = po;
  return gf_read_csv_buffer(fx.csv_text, fx.csv_len, "mem.csv", &o, out, err);
}

static gf_status op_write_csv(op *self, const gf_parallel_options *po, gf_frame **out,
                              gf_error *err) {
  (void)out;
  gf_csv_write_options o;
  gf_csv_write_options_init(&o);
  o.parallel = po;
  return gf_write_csv(fx.big, self->path, &o, err);
}

static gf_status op_write_ipc(op *self, const gf_parallel_options *po, gf_frame **out,
                              gf_error *err) {
  (void)out;
  gf_ipc_write_options o;
  gf_ipc_write_options_init(&o);
  o.parallel = po;
  bool stream = strstr(self->name, "stream") != NULL;
  /* The compressed variant goes through the parallel compressor; the
   * plain one is the sequential message writer. */
  if (strstr(self->name, "lz4")) o.compression = GF_IPC_COMPRESSION_LZ4_FRAME;
  return stream ? gf_write_ipc_stream(fx.big, self->path, &o, err)
                : gf_write_ipc_file(fx.big, self->path, &o, err);
}

static gf_status op_read_ipc(op *self, const gf_parallel_options *po, gf_frame **out,
                             gf_error *err) {
  gf_ipc_read_options o;
  gf_ipc_read_options_init(&o);
  o.parallel = po;
  return strstr(self->name, "stream") ? gf_read_ipc_stream(fx.ipc_stream, &o, out, err)
                                      : gf_read_ipc_file(fx.ipc_file, &o, out, err);
}

static gf_status op_filter(op *self, const gf_parallel_options *po, gf_frame **out,
                           gf_error *err) {
  (void)self;
  return gf_filter(fx.big, fx.pred, po, out, err);
}

static gf_status op_evaluate(op *self, const gf_parallel_options *po, gf_frame **out,
                             gf_error *err) {
  (void)self;
  return gf_evaluate(fx.big, fx.eval, "e", po, out, err);
}

static gf_status op_with_columns(op *self, const gf_parallel_options *po, gf_frame **out,
                                 gf_error *err) {
  (void)self;
  const char *names[2] = {"u", "f"};
  return gf_with_columns(fx.big, names, fx.with, 2, po, out, err);
}

static gf_status group(const char *key, const char *aggs, const gf_parallel_options *po,
                       gf_frame **out, gf_error *err) {
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = po;
  const char *keys[1] = {key};
  return gf_group_by_text(fx.big, keys, 1, aggs, &go, out, err);
}

static gf_status op_group_by_sums(op *self, const gf_parallel_options *po, gf_frame **out,
                                  gf_error *err) {
  (void)self;
  return group("k", "sum(v),mean(f),min(s),count()", po, out, err);
}

static gf_status op_group_by_median(op *self, const gf_parallel_options *po, gf_frame **out,
                                    gf_error *err) {
  (void)self;
  return group("k", "median(f),var(f),n_unique(s)", po, out, err);
}

static gf_status op_group_by_many(op *self, const gf_parallel_options *po, gf_frame **out,
                                  gf_error *err) {
  (void)self;
  return group("kmany", "sum(v),median(f),count(),max(s)", po, out, err);
}

static gf_status op_sort_strings(op *self, const gf_parallel_options *po, gf_frame **out,
                                 gf_error *err) {
  (void)self;
  gf_sort_key keys[2] = {{"s", false, false}, {"f", true, false}};
  return gf_sort(fx.big, keys, 2, 0, po, out, err);
}

static gf_status op_sort_ints(op *self, const gf_parallel_options *po, gf_frame **out,
                              gf_error *err) {
  (void)self;
  gf_sort_key keys[2] = {{"k", false, true}, {"v", true, false}};
  return gf_sort(fx.big, keys, 2, 0, po, out, err);
}

static gf_status op_sort_top_k(op *self, const gf_parallel_options *po, gf_frame **out,
                               gf_error *err) {
  (void)self;
  gf_sort_key keys[1] = {{"f", true, false}};
  return gf_sort(fx.big, keys, 1, 1000, po, out, err);
}

static gf_status op_join(op *self, const gf_parallel_options *po, gf_frame **out,
                         gf_error *err) {
  gf_join_options jo;
  gf_join_options_init(&jo);
  jo.parallel = po;
  const char *on[1] = {"kmany"};
  gf_join_kind how = strstr(self->name, "left") ? GF_JOIN_LEFT : GF_JOIN_INNER;
  return gf_join(fx.big, fx.right, on, on, 1, how, &jo, out, err);
}

static gf_status op_pipeline(op *self, const gf_parallel_options *po, gf_frame **out,
                             gf_error *err) {
  return gf_pipeline_run(strstr(self->name, "join") ? fx.js : fx.fwg, fx.big, po, out, err);
}

static op ops[] = {
    {.name = "read_csv", .run = op_read_csv},
    {.name = "read_csv_buffer", .run = op_read_csv_buffer},
    {.name = "write_csv", .run = op_write_csv, .writer = true, .file = "out.csv"},
    {.name = "write_ipc_file", .run = op_write_ipc, .writer = true, .file = "out.arrow"},
    {.name = "write_ipc_stream", .run = op_write_ipc, .writer = true, .file = "out.arrows"},
    {.name = "write_ipc_file_lz4", .run = op_write_ipc, .writer = true, .file = "out.arrow"},
    {.name = "read_ipc_file", .run = op_read_ipc},
    {.name = "read_ipc_stream", .run = op_read_ipc},
    {.name = "filter", .run = op_filter},
    {.name = "evaluate", .run = op_evaluate},
    {.name = "with_columns", .run = op_with_columns},
    {.name = "group_by_sums", .run = op_group_by_sums},
    {.name = "group_by_median", .run = op_group_by_median},
    {.name = "group_by_many_groups", .run = op_group_by_many},
    {.name = "sort_strings", .run = op_sort_strings},
    {.name = "sort_ints", .run = op_sort_ints},
    {.name = "sort_top_k", .run = op_sort_top_k},
    {.name = "join_inner", .run = op_join},
    {.name = "join_left", .run = op_join},
    {.name = "pipeline_filter_with_group_by", .run = op_pipeline},
    {.name = "pipeline_join_sort", .run = op_pipeline},
};
#define NOPS ((int)(sizeof ops / sizeof ops[0]))

/* ---- one call and its checks --------------------------------------------- */

/* Where the current iteration is, for failure messages; with the seed and
 * the operation's name the same delays can be replayed. */
static char where[256];
static const char *current_op = "";
#define CHECK(cond, ...)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      char what_[1400];                                                             \
      snprintf(what_, sizeof what_, __VA_ARGS__);                                   \
      fail_msg("%s: %s (replay: GF_CANCEL_SEED=%llu GF_CANCEL_OPS=%s)", where, what_, \
               (unsigned long long)fx.seed, current_op);                            \
    }                                                                               \
  } while (0)

/* An address no operation can produce: "output untouched" means this. */
static char sentinel_byte;
#define SENTINEL ((gf_frame *)(void *)&sentinel_byte)

static void expect_nothing_live(void) {
  int64_t blocks = gf_failing_allocator_live_blocks(fx.fa);
  int64_t bytes = gf_failing_allocator_live_bytes(fx.fa);
  CHECK(blocks == 0 && bytes == 0, "%lld blocks / %lld bytes still live", (long long)blocks,
        (long long)bytes);
}

/* Checks one outcome: GF_OK with the reference result, or `stopped` (the
 * status a cancel or deadline gives) with a message, the output untouched
 * and, for writers, the old file intact and nothing else in its directory. */
static void check_outcome(op *o, gf_status st, gf_status stopped, gf_frame *out,
                          const gf_error *err) {
  if (st == GF_OK) {
    if (o->writer) {
      size_t len = 0;
      char *got = slurp(o->path, &len);
      CHECK(got && len == o->ref_len && memcmp(got, o->ref_bytes, len) == 0,
            "the file written differs from the uncancelled one (%zu vs %zu bytes)", len,
            o->ref_len);
      free(got);
      CHECK(dir_entries(o->dir) == 1, "%d files in the output directory", dir_entries(o->dir));
      put_file(o->path, OLD_CONTENT);
    } else {
      CHECK(out && out != SENTINEL, "GF_OK without a result");
      CHECK(gf_frame_equals(out, o->ref), "result differs from the uncancelled one");
      gf_frame_release(out);
    }
  } else {
    CHECK(st == stopped, "status %s (%s), want %s or GF_OK", gf_status_name(st), err->message,
          gf_status_name(stopped));
    CHECK(err->code == st && err->message[0], "no error message for %s", gf_status_name(st));
    if (o->writer) {
      size_t len = 0;
      char *got = slurp(o->path, &len);
      CHECK(got && len == strlen(OLD_CONTENT) && memcmp(got, OLD_CONTENT, len) == 0,
            "the existing target was changed by a stopped write");
      free(got);
      CHECK(dir_entries(o->dir) == 1, "a stopped write left %d files in its directory",
            dir_entries(o->dir));
    } else {
      CHECK(out == SENTINEL || out == NULL, "output written on failure");
    }
  }
  expect_nothing_live();
}

/* An uncancelled call: must succeed with the reference result (this is
 * also how "the pool is usable afterwards" is checked). Returns its time. */
static int64_t normal_call(op *o, const gf_parallel_options *po) {
  gf_parallel_options p = *po;
  p.cancel = NULL;
  p.timeout_ms = 0;
  gf_frame *out = SENTINEL;
  gf_error err;
  gf_error_clear(&err);
  int64_t t0 = now_ns();
  gf_status st = o->run(o, &p, &out, &err);
  int64_t t = now_ns() - t0;
  CHECK(st == GF_OK, "uncancelled call failed: %s: %s", gf_status_name(st), err.message);
  check_outcome(o, st, GF_OK, out, &err);
  return t;
}

/* The thread that requests cancellation at an absolute time (req_ns is
 * read after pthread_join). Static: a failing check longjmps out of the
 * test while it may still run. */
static struct {
  int64_t at_ns, req_ns;
} canceller;

static void *cancel_at(void *arg) {
  (void)arg;
  struct timespec ts = {(time_t)(canceller.at_ns / 1000000000),
                        (long)(canceller.at_ns % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
  canceller.req_ns = now_ns();
  gf_cancel_request(fx.token);
  return NULL;
}

/* The stream of random numbers of one (operation, workers, mode,
 * iteration), independent of which other operations run. */
static uint64_t iteration_seed(int opi, int workers, int mode, int it) {
  uint64_t s = fx.seed ^ ((uint64_t)opi << 40) ^ ((uint64_t)workers << 32) ^
               ((uint64_t)mode << 24) ^ (uint64_t)it;
  gft_rand_next(&s);
  return s;
}

/* Cancel mode: a token requested before the call, then `iters` calls
 * cancelled after a random delay. */
static void cancel_iterations(op *o, int opi, gf_parallel_options po, int64_t dur, int iters) {
  po.cancel = fx.token;
  /* Already cancelled: every operation must notice before it finishes,
   * at any worker count (the sequential path checks the token too). */
  snprintf(where, sizeof where, "%s workers=%d pre-cancelled", o->name, po.num_workers);
  gf_cancel_reset(fx.token);
  gf_cancel_request(fx.token);
  gf_frame *out = SENTINEL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = o->run(o, &po, &out, &err);
  CHECK(st == GF_ECANCELED, "a call with an already cancelled token returned %s",
        gf_status_name(st));
  check_outcome(o, st, GF_ECANCELED, out, &err);

  for (int it = 0; it < iters; it++) {
    uint64_t s = iteration_seed(opi, po.num_workers, 0, it);
    int64_t delay = (int64_t)(unit(&s) * (double)dur);
    snprintf(where, sizeof where, "%s workers=%d cancel iteration=%d delay=%lldus", o->name,
             po.num_workers, it, (long long)(delay / 1000));
    gf_cancel_reset(fx.token);
    out = SENTINEL;
    gf_error_clear(&err);
    int64_t t0 = now_ns();
    canceller.at_ns = t0 + delay;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, cancel_at, NULL) == 0, "pthread_create");
    st = o->run(o, &po, &out, &err);
    int64_t t1 = now_ns();
    pthread_join(t, NULL);
    o->cancel_runs++;
    if (st == GF_ECANCELED) {
      CHECK(canceller.req_ns <= t1, "GF_ECANCELED before cancellation was requested");
      o->cancelled++;
      add_sample(&o->cancel_latency, t1 - canceller.req_ns);
    } else if (st == GF_OK && canceller.req_ns < t1) {
      o->ok_after_request++;
      add_sample(&o->ok_late_latency, t1 - canceller.req_ns);
    }
    check_outcome(o, st, GF_ECANCELED, out, &err);
  }
}

/* Deadline mode: `iters` calls with timeout_ms random in 1..duration. */
static void deadline_iterations(op *o, int opi, gf_parallel_options po, int64_t dur, int iters) {
  po.cancel = NULL;
  int64_t dur_ms = dur / 1000000 > 1 ? dur / 1000000 : 1;
  for (int it = 0; it < iters; it++) {
    uint64_t s = iteration_seed(opi, po.num_workers, 1, it);
    po.timeout_ms = 1 + (int64_t)(unit(&s) * (double)dur_ms);
    snprintf(where, sizeof where, "%s workers=%d deadline iteration=%d timeout_ms=%lld", o->name,
             po.num_workers, it, (long long)po.timeout_ms);
    gf_frame *out = SENTINEL;
    gf_error err;
    gf_error_clear(&err);
    int64_t t0 = now_ns();
    gf_status st = o->run(o, &po, &out, &err);
    int64_t t1 = now_ns(), deadline = t0 + po.timeout_ms * 1000000;
    o->deadline_runs++;
    if (st == GF_ETIMEDOUT) {
      /* Causality, not speed: the deadline cannot have passed early. */
      CHECK(t1 >= deadline, "GF_ETIMEDOUT %lld us before the deadline",
            (long long)((deadline - t1) / 1000));
      o->timed_out++;
      add_sample(&o->overrun, t1 - deadline);
    } else if (st == GF_OK && t1 > deadline) {
      o->ok_late++;
      add_sample(&o->ok_overrun, t1 - deadline);
    } else if (st == GF_OK) {
      o->ok_in_time++;
    }
    check_outcome(o, st, GF_ETIMEDOUT, out, &err);
  }
}

/* The reference result (1 worker, default allocator, nothing to stop it),
 * and for writers the reference bytes and the old target in place. */
static void prepare(op *o) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = 1;
  gf_error err;
  gf_status st;
  if (o->writer) {
    snprintf(o->dir, sizeof o->dir, "%s/%s", fx.dir, o->name);
    assert_int_equal(mkdir(o->dir, 0700), 0);
    snprintf(o->path, sizeof o->path, "%s/%s", o->dir, o->file);
    st = o->run(o, &po, NULL, &err);
    if (st != GF_OK) fail_msg("%s: reference run: %s", o->name, err.message);
    o->ref_bytes = slurp(o->path, &o->ref_len);
    assert_non_null(o->ref_bytes);
    put_file(o->path, OLD_CONTENT);
  } else {
    st = o->run(o, &po, &o->ref, &err);
    if (st != GF_OK) fail_msg("%s: reference run: %s", o->name, err.message);
  }
}

/* One operation at 1, 2 and 3 workers, cancel and deadline modes. */
static void test_operation(void **state) {
  op *o = *state;
  int opi = (int)(o - ops);
  const char *only = getenv("GF_CANCEL_OPS");
  if (only && !strstr(o->name, only)) skip();
  if (strstr(o->name, "lz4") && !fx.lz4) skip();
  current_op = o->name;
  prepare(o);
  assert_int_equal(gf_failing_allocator_new(NULL, &fx.fa, NULL), GF_OK);
  gf_failing_allocator_arm(fx.fa, 0, false);
  for (int w = 1; w <= 3; w++) {
    gf_parallel_options po;
    gf_parallel_options_init(&po);
    po.num_workers = w;
    po.allocator = gf_failing_allocator_get(fx.fa);
    snprintf(where, sizeof where, "%s workers=%d uncancelled", o->name, w);
    /* The uncancelled duration at this worker count: the fastest run. */
    int64_t dur = INT64_MAX;
    for (int i = 0; i < fx.timing_runs; i++) {
      int64_t t = normal_call(o, &po);
      if (t < dur) dur = t;
    }
    o->dur_ns[w] = dur;
    int n = cancel_iters(dur);
    cancel_iterations(o, opi, po, dur, n);
    deadline_iterations(o, opi, po, dur, (n + 1) / 2);
    /* The pool (and the operation) still work after all that: the next
     * worker count's timing runs are normal calls, so only the last
     * worker count needs one of its own. */
    if (w == 3) {
      snprintf(where, sizeof where, "%s workers=%d after the iterations", o->name, w);
      normal_call(o, &po);
    }
  }
  gf_failing_allocator_free(fx.fa);
  fx.fa = NULL;
}

/* ---- fixture ------------------------------------------------------------- */

/* A one-batch column of n values: what 0 = 0, 1, 2..; 1 = i / 4 as
 * float64; 2 = distinct strings in scrambled order. */
static gf_array *column(gf_datatype t, int64_t n, int what) {
  gf_builder *b = NULL;
  gf_array *a = NULL;
  assert_int_equal(gf_builder_new(t, NULL, &b, NULL), GF_OK);
  char s[32];
  for (int64_t i = 0; i < n; i++) {
    if (what == 0) assert_int_equal(gf_builder_append_int64(b, i, NULL), GF_OK);
    if (what == 1) assert_int_equal(gf_builder_append_double(b, (double)i * 0.25, NULL), GF_OK);
    if (what == 2) {
      snprintf(s, sizeof s, "r%lld", (long long)(i * 7919 % n));
      assert_int_equal(gf_builder_append_string(b, s, NULL), GF_OK);
    }
  }
  assert_int_equal(gf_builder_finish(b, &a, NULL), GF_OK);
  gf_builder_free(b);
  return a;
}

static int env_int(const char *name, int dflt) {
  const char *v = getenv(name);
  return v && *v ? atoi(v) : dflt;
}

static int setup(void **state) {
  (void)state;
  memset(&fx, 0, sizeof fx);
  const char *seed = getenv("GF_CANCEL_SEED");
  fx.seed = seed && *seed ? strtoull(seed, NULL, 0) : 0x9e3779b97f4a7c15ull;
  /* Moments per operation and worker count: what fits in a budget, so the
   * whole test stays near 45 s on a loaded 2-core machine. Sanitizer builds
   * run 5-20x slower: half the rows, one timing run and a few moments. */
  fx.fixed_iters = env_int("GF_CANCEL_ITERS", 0);
  bool san = gft_sanitized();
  fx.rows = (int64_t)(san ? SANITIZED_BLOCKS : BLOCKS) * GF_REDUCTION_BLOCK_ROWS;
  fx.timing_runs = san ? 1 : 2;
  fx.budget_ns = san ? 50000000 : 100000000;
  fx.min_iters = san ? 2 : 4;
  fx.max_iters = san ? 4 : 24;
  fx.lz4 = gf_ipc_compression_available(GF_IPC_COMPRESSION_LZ4_FRAME);
  printf("test_cancel_random: seed %llu, %lld rows, cancel iterations per operation and worker "
         "count: %s (deadline iterations: half)\n",
         (unsigned long long)fx.seed, (long long)fx.rows,
         fx.fixed_iters ? "GF_CANCEL_ITERS" : san ? "2..4 by time (sanitized)" : "4..24 by time");

  /* The big frame: random v, f, s with 5% nulls, one batch per block, plus keys. */
  gf_datatype types[3] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_FLOAT64), gf_type(GF_TYPE_UTF8)};
  gf_frame *raw = NULL, *keyed = NULL;
  int batches = (int)(fx.rows / GF_REDUCTION_BLOCK_ROWS);
  assert_int_equal(gft_random_frame(types, 3, fx.rows, batches, 0.05, fx.seed, NULL, &raw), GF_OK);
  gf_expr *k[5] = {parse("c0"), parse("c1"), parse("c2"), parse("abs(c0) % 16"),
                   parse("abs(c0) % 65536")};
  const char *knames[5] = {"v", "f", "s", "k", "kmany"};
  assert_int_equal(gf_with_columns(raw, knames, k, 5, NULL, &keyed, NULL), GF_OK);
  for (int i = 0; i < 5; i++) gf_expr_release(k[i]);
  assert_int_equal(gf_select(keyed, knames, 5, &fx.big, NULL), GF_OK);
  gf_frame_release(raw);
  gf_frame_release(keyed);

  /* The right side of the joins: every kmany key once. */
  gf_array *rc[3] = {column(gf_type(GF_TYPE_INT64), RIGHT_ROWS, 0),
                     column(gf_type(GF_TYPE_FLOAT64), RIGHT_ROWS, 1),
                     column(gf_type(GF_TYPE_UTF8), RIGHT_ROWS, 2)};
  const char *rnames[3] = {"kmany", "w", "t"};
  assert_int_equal(gf_frame_from_columns(rnames, rc, 3, &fx.right, NULL), GF_OK);
  for (int i = 0; i < 3; i++) gf_array_release(rc[i]);

  fx.pred = parse("f > -500000.0 and length(s) > 3");
  fx.eval = parse("sqrt(abs(f)) * 3.0 + v / 7 - k");
  fx.with[0] = parse("upper(s)");
  fx.with[1] = parse("f * 2.0 + kmany");

  /* filter + with + group-by, and join + sort, as pipelines. */
  assert_int_equal(gf_pipeline_new(&fx.fwg, NULL), GF_OK);
  gf_expr *g = parse("v % 1000 + k");
  const char *gname[1] = {"g"}, *gkey[1] = {"k"};
  assert_int_equal(gf_pipeline_add_filter(fx.fwg, fx.pred, NULL), GF_OK);
  assert_int_equal(gf_pipeline_add_with(fx.fwg, gname, &g, 1, NULL), GF_OK);
  assert_int_equal(
      gf_pipeline_add_group_by(fx.fwg, gkey, 1, "sum(g),median(f),count()", false, NULL), GF_OK);
  gf_expr_release(g);
  assert_int_equal(gf_pipeline_new(&fx.js, NULL), GF_OK);
  const char *on[1] = {"kmany"};
  gf_sort_key sk[2] = {{"t", false, false}, {"v", true, false}};
  assert_int_equal(gf_pipeline_add_join(fx.js, fx.right, on, on, 1, GF_JOIN_INNER, NULL, NULL),
                   GF_OK);
  assert_int_equal(gf_pipeline_add_sort(fx.js, sk, 2, NULL), GF_OK);

  /* Reader inputs, written once, in a scratch directory. */
  const char *tmp = getenv("TMPDIR");
  snprintf(fx.dir, sizeof fx.dir, "%s/gf-cancel-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  assert_non_null(mkdtemp(fx.dir));
  snprintf(fx.csv, sizeof fx.csv, "%s/in.csv", fx.dir);
  snprintf(fx.ipc_file, sizeof fx.ipc_file, "%s/in.arrow", fx.dir);
  snprintf(fx.ipc_stream, sizeof fx.ipc_stream, "%s/in.arrows", fx.dir);
  assert_int_equal(gf_write_csv(fx.big, fx.csv, NULL, NULL), GF_OK);
  fx.csv_text = slurp(fx.csv, &fx.csv_len);
  assert_non_null(fx.csv_text);
  assert_int_equal(gf_write_ipc_file(fx.big, fx.ipc_file, NULL, NULL), GF_OK);
  assert_int_equal(gf_write_ipc_stream(fx.big, fx.ipc_stream, NULL, NULL), GF_OK);

  assert_int_equal(gf_cancel_new(&fx.token, NULL), GF_OK);
  return 0;
}

/* Prints the latency tables, then frees everything. Columns: d1/2/3 the
 * uncancelled duration (ms) at 1/2/3 workers; canc the GF_ECANCELED runs and
 * their request-to-return latency; ok>req the runs that returned GF_OK
 * although the request came before they returned (the largest such gap at
 * the end); for deadlines, tmout the GF_ETIMEDOUT runs and how far past the
 * deadline they returned, ok>dl the GF_OK runs that returned after it. */
static int teardown(void **state) {
  (void)state;
  printf("\ncancellation: request -> return latency of cancelled calls (ms), all worker counts\n");
  printf("%-30s %11s %5s %5s %6s %7s %7s %7s | %10s\n", "operation", "d1/2/3", "runs", "canc",
         "ok>req", "p50", "p99", "max", "ok>req max");
  for (int i = 0; i < NOPS; i++) {
    op *o = &ops[i];
    if (!o->cancel_runs) continue;
    sort_samples(&o->cancel_latency);
    sort_samples(&o->ok_late_latency);
    char d[32];
    snprintf(d, sizeof d, "%.0f/%.0f/%.0f", o->dur_ns[1] / 1e6, o->dur_ns[2] / 1e6,
             o->dur_ns[3] / 1e6);
    printf("%-30s %11s %5ld %5ld %6ld %7.2f %7.2f %7.2f | %10.2f\n", o->name, d, o->cancel_runs,
           o->cancelled, o->ok_after_request, pct_ms(&o->cancel_latency, 0.5),
           pct_ms(&o->cancel_latency, 0.99), pct_ms(&o->cancel_latency, 1.0),
           pct_ms(&o->ok_late_latency, 1.0));
  }
  printf("\ndeadlines: overrun past the deadline of timed-out calls (ms)\n");
  printf("%-30s %5s %5s %5s %5s %7s %7s %7s | %9s\n", "operation", "runs", "tmout", "ok",
         "ok>dl", "p50", "p99", "max", "ok>dl max");
  for (int i = 0; i < NOPS; i++) {
    op *o = &ops[i];
    if (!o->deadline_runs) continue;
    sort_samples(&o->overrun);
    sort_samples(&o->ok_overrun);
    printf("%-30s %5ld %5ld %5ld %5ld %7.2f %7.2f %7.2f | %9.2f\n", o->name, o->deadline_runs,
           o->timed_out, o->ok_in_time, o->ok_late, pct_ms(&o->overrun, 0.5),
           pct_ms(&o->overrun, 0.99), pct_ms(&o->overrun, 1.0), pct_ms(&o->ok_overrun, 1.0));
  }
  for (int i = 0; i < NOPS; i++) {
    op *o = &ops[i];
    gf_frame_release(o->ref);
    free(o->ref_bytes);
    free(o->cancel_latency.v);
    free(o->ok_late_latency.v);
    free(o->overrun.v);
    free(o->ok_overrun.v);
  }
  gf_pipeline_free(fx.fwg);
  gf_pipeline_free(fx.js);
  gf_expr_release(fx.pred);
  gf_expr_release(fx.eval);
  gf_expr_release(fx.with[0]);
  gf_expr_release(fx.with[1]);
  gf_frame_release(fx.big);
  gf_frame_release(fx.right);
  free(fx.csv_text);
  gf_cancel_free(fx.token);
  remove_tree(fx.dir);
  return 0;
}

int main(void) {
  struct CMUnitTest tests[NOPS];
  for (int i = 0; i < NOPS; i++)
    tests[i] = (struct CMUnitTest){ops[i].name, test_operation, NULL, NULL, &ops[i]};
  return cmocka_run_group_tests(tests, setup, teardown);
}
