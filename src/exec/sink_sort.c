/*
 * The sort sink (exec/stream_internal.h): a sort at the top of a streamed
 * chain. Its output cannot start before its last input row is in, so the
 * input is gathered; what bounds the memory is where it is gathered:
 *
 * - in memory (zero-copy batches, as the collect sink keeps them) while
 *   the in-memory sort of what is gathered (the input, its key working set,
 *   one output batch and as much again for the next sink's buffers) would
 *   stay under 90% of the memory limit (no limit: always);
 * - past that, every batch gathered so far and every later one is
 *   appended, uncompressed, to an Arrow IPC file in the spill directory
 *   (the incremental IPC writer), and dropped from memory.
 *
 * At the end the spilled input is mapped back (the mapping is page cache,
 * not heap: the kernel evicts it under pressure) and the file's name is
 * removed at once. The sort itself is the eager one's: gfi_sort_batches
 * (ops/sort.c) over the gathered frame, which under the limit spills its
 * key working set as sorted runs and k-way merges them (ops/sort_spill.c;
 * stable: ties keep input order) and gathers the output GFI_TAKE_BATCH_ROWS
 * rows at a time. So finish gives gf_sort's frame and finish_into hands
 * gf_sort's batches to the next sink one by one - bit for bit the eager
 * result whatever the worker count, window or whether anything spilled -
 * without the sorted result ever being whole in memory.
 *
 * Why not sorted runs of whole rows: the eager sort's permutation is
 * defined over one frame (ties by row number); gathering the input as one
 * (mapped) frame lets the same code, with its tests, decide the order, and
 * the rows are read once more by the gather instead of being written and
 * read once per merge level.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/exec_internal.h"
#include "exec/spill_file.h"
#include "exec/stream_internal.h"
#include "io/ipc_write_internal.h"
#include "ops/sort_join_internal.h"

/* Bytes per row of the in-memory sort's working set besides the keys'
 * encodings (9 bytes per key): the permutation (8), the radix pass's
 * scratch (keys and rows copies, 24) and string pointers (16). */
#define WORK_PER_ROW 48

static atomic_int test_force_spill;
static atomic_llong spills_started;

/* See stream_internal.h (tests). */
int64_t gfi_sink_sort_spills(void) { return atomic_load(&spills_started); }

/* See stream_internal.h (test hook). */
void gfi_sink_sort_test_spill(bool on) { atomic_store(&test_force_spill, on ? 1 : 0); }

typedef struct sortsink {
  const gf_allocator *a;
  const gf_parallel_options *po;
  gf_schema *schema;
  gf_sort_key *keys;
  int nkeys;
  gfi_sink *mem;       /* the in-memory gathering (a collect sink) */
  gf_array **dicts;    /* ncols: final dictionaries */
  int ncols;
  gfi_ipc_writer *w;   /* spilling: the IPC writer of the gathered input */
  char *path;          /* its name while it has one */
  size_t path_size;
  int64_t rows;        /* gathered */
} sortsink;

static void sortsink_free(gfi_sink *k) {
  if (!k) return;
  sortsink *s = k->state;
  if (s) {
    if (s->mem) s->mem->free(s->mem);
    gfi_ipc_writer_free(s->w);
    if (s->path) {
      unlink(s->path);
      gfi_mfree(s->a, s->path, s->path_size);
    }
    for (int c = 0; s->dicts && c < s->ncols; c++) gf_array_release(s->dicts[c]);
    if (s->dicts) gfi_mfree(s->a, s->dicts, sizeof *s->dicts * (size_t)(s->ncols ? s->ncols : 1));
    for (int i = 0; s->keys && i < s->nkeys; i++)
      if (s->keys[i].column) gfi_mfree(s->a, (void *)s->keys[i].column, strlen(s->keys[i].column) + 1);
    if (s->keys) gfi_mfree(s->a, s->keys, sizeof *s->keys * (size_t)(s->nkeys ? s->nkeys : 1));
    gf_schema_release(s->schema);
    gfi_mfree(s->a, s, sizeof *s);
  }
  gfi_mfree(NULL, k, sizeof *k);
}

/* Bytes the run's tracked allocator holds now (0 when untracked). */
static int64_t held(const gf_parallel_options *o) {
  const gfi_ctx *c = gfi_ctx_of(o);
  return c && c->limiter ? gfi_call_alloc_current(c->limiter) : 0;
}

/* Starts spilling: a named file in the spill directory (mkstemp; the IPC
 * writer replaces it through a temporary name of its own), then whatever
 * the in-memory gathering holds, which is dropped. */
static gf_status start_spill(sortsink *s, gf_error *err) {
  atomic_fetch_add(&spills_started, 1);
  gfi_spill_space *sp = NULL;
  GF_RETURN_NOT_OK(gfi_spill_space_new(s->po, &sp, err));
  const char *dir = gfi_spill_space_dir(sp);
  size_t n = strlen(dir) + 32;
  s->path = gfi_malloc(s->a, n);
  if (!s->path) {
    gfi_spill_space_free(sp);
    return GF_OOM(err, "a sort spill file name");
  }
  s->path_size = n;
  snprintf(s->path, n, "%s/gf-sort-XXXXXX", dir);
  int fd = mkstemp(s->path);
  if (fd < 0) {
    int e = errno;
    gf_status st = gf_error_set(err, GF_EIO,
                                "sort: cannot create a spill file in %s: %s (set temp_directory, "
                                "--temp-dir or GF_TMPDIR to a writable directory with room)",
                                dir, strerror(e));
    gfi_spill_space_free(sp);
    gfi_mfree(s->a, s->path, s->path_size);
    s->path = NULL;
    return st;
  }
  gfi_spill_space_free(sp);
  close(fd);
  gf_status st = gfi_ipc_writer_open(s->schema, s->path, -1, true, NULL, s->po, &s->w, err);
  if (st != GF_OK) return st;
  /* What was gathered in memory goes first, in order. */
  gf_frame *f = NULL;
  st = s->mem->finish(s->mem, &f, err);
  if (st == GF_OK) st = gfi_ipc_writer_write(s->w, f, err);
  gf_frame_release(f);
  s->mem->free(s->mem);
  s->mem = NULL;
  return st;
}

static gf_status sortsink_push(gfi_sink *k, const gf_frame *f, int64_t pos, gf_error *err) {
  sortsink *s = k->state;
  s->rows += gf_frame_num_rows(f);
  if (s->w) return gfi_ipc_writer_write(s->w, f, err);
  GF_RETURN_NOT_OK(s->mem->push(s->mem, f, pos, err));
  int64_t lim = gfi_memory_limit(s->po);
  if (atomic_load(&test_force_spill)) return start_spill(s, err);
  if (lim <= 0 || s->rows == 0) return GF_OK;
  /* The in-memory sort at the end holds the gathered input, its key
   * working set (permutation, encodings, radix scratch) and one gathered
   * output batch of up to GFI_TAKE_BATCH_ROWS rows, which the next sink
   * turns into about as many bytes again (CSV text, compressed IPC
   * buffers); the run's tracked bytes per gathered row stand for a row's
   * size (an upper bound: they include the source's window). */
  int64_t cur = held(s->po);
  int64_t per_row = cur / s->rows + 1;
  int64_t out_rows = s->rows < GFI_TAKE_BATCH_ROWS ? s->rows : GFI_TAKE_BATCH_ROWS;
  int64_t need = cur + 2 * per_row * out_rows + s->rows * (WORK_PER_ROW + 9 * (int64_t)s->nkeys);
  if (need > lim - lim / 10) return start_spill(s, err);
  return GF_OK;
}

/* The gathered input as one frame: the collected batches over the final
 * dictionaries, or the spill file mapped back (its name removed). */
static gf_status gathered(sortsink *s, gf_frame **out, gf_error *err) {
  if (!s->w) {
    for (int c = 0; c < s->ncols; c++)
      if (s->dicts[c]) gfi_sink_collect_set_dictionary(s->mem, c, s->dicts[c]);
    return s->mem->finish(s->mem, out, err);
  }
  for (int c = 0; c < s->ncols; c++)
    if (s->dicts[c]) gfi_ipc_writer_set_dictionary(s->w, c, s->dicts[c]);
  gf_status st = gfi_ipc_writer_finish(s->w, err);
  gfi_ipc_writer_free(s->w);
  s->w = NULL;
  if (st != GF_OK) return st;
  gf_ipc_read_options ro;
  gf_ipc_read_options_init(&ro);
  /* This run wrote the file a moment ago: no need to re-validate it. */
  ro.validation = GF_IPC_VALIDATE_METADATA_ONLY;
  ro.parallel = s->po;
  ro.input_mode = GF_INPUT_MMAP;
  st = gf_read_ipc_file(s->path, &ro, out, err);
  unlink(s->path); /* the mapping keeps the data */
  gfi_mfree(s->a, s->path, s->path_size);
  s->path = NULL;
  return st;
}

static gf_status sortsink_finish(gfi_sink *k, gf_frame **out, gf_error *err) {
  sortsink *s = k->state;
  gf_frame *f = NULL;
  GF_RETURN_NOT_OK(gathered(s, &f, err));
  gf_status st = gf_sort(f, s->keys, s->nkeys, 0, s->po, out, err);
  gf_frame_release(f);
  return st;
}

/* Hands one sorted batch to the next sink at its position. */
typedef struct into_job {
  gfi_sink *next;
  int64_t pos;
} into_job;

static gf_status into_emit(void *user, gf_frame *batch, gf_error *err) {
  into_job *j = user;
  int64_t n = gf_frame_num_rows(batch);
  gf_status st = j->next->push(j->next, batch, j->pos, err);
  j->pos += n;
  return st;
}

static gf_status sortsink_finish_into(gfi_sink *k, gfi_sink *next, gf_error *err) {
  sortsink *s = k->state;
  gf_frame *f = NULL;
  GF_RETURN_NOT_OK(gathered(s, &f, err));
  into_job j = {next, 0};
  gf_status st = gfi_sort_batches(f, s->keys, s->nkeys, s->po, into_emit, &j, err);
  gf_frame_release(f);
  return st;
}

void gfi_sink_sort_set_dictionary(gfi_sink *k, int col, gf_array *dict) {
  sortsink *s = k->state;
  if (col < 0 || col >= s->ncols || !dict) return;
  gf_array_release(s->dicts[col]);
  s->dicts[col] = gf_array_retain(dict);
}

gf_status gfi_sink_sort(const gf_schema *schema, const gf_sort_key *keys, int nkeys,
                        const gf_parallel_options *po, gfi_sink **out, gf_error *err) {
  if (nkeys < 1 || !keys) return gf_error_set(err, GF_ENOTSUP, "sort sink: no keys");
  for (int i = 0; i < nkeys; i++)
    if (!keys[i].column || gf_schema_find(schema, keys[i].column) < 0)
      return gf_error_set(err, GF_ENOTSUP, "sort sink: key '%s' is not a column",
                          keys[i].column ? keys[i].column : "(null)");
  const gf_allocator *a = gfi_alloc_or_default(po->allocator);
  gfi_sink *k = gfi_calloc(NULL, sizeof *k);
  sortsink *s = gfi_calloc(a, sizeof *s);
  if (!k || !s) {
    if (k) gfi_mfree(NULL, k, sizeof *k);
    if (s) gfi_mfree(a, s, sizeof *s);
    return GF_OOM(err, "a sort sink");
  }
  k->state = s;
  k->push = sortsink_push;
  k->finish = sortsink_finish;
  k->free = sortsink_free;
  k->finish_into = sortsink_finish_into;
  s->a = a;
  s->po = po;
  s->schema = gf_schema_retain((gf_schema *)schema);
  s->ncols = gf_schema_num_fields(schema);
  s->dicts = gfi_calloc(a, sizeof *s->dicts * (size_t)(s->ncols ? s->ncols : 1));
  s->keys = gfi_calloc(a, sizeof *s->keys * (size_t)nkeys);
  gf_status st = s->dicts && s->keys ? GF_OK : GF_OOM(err, "a sort sink");
  if (st == GF_OK) {
    s->nkeys = nkeys;
    for (int i = 0; i < nkeys && st == GF_OK; i++) {
      s->keys[i] = keys[i];
      size_t n = strlen(keys[i].column) + 1;
      char *c = gfi_malloc(a, n);
      if (!c) {
        s->keys[i].column = NULL;
        st = GF_OOM(err, "sort sink keys");
        break;
      }
      memcpy(c, keys[i].column, n);
      s->keys[i].column = c;
    }
  }
  if (st == GF_OK) st = gfi_sink_collect(schema, a, &s->mem, err);
  if (st != GF_OK) {
    sortsink_free(k);
    return st;
  }
  *out = k;
  return GF_OK;
}
