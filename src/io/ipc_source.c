/* Arrow IPC files as lazy sources of record batches (ipc_source.h), the
 * eager file reader on top of them (batches decoded in parallel), and
 * gf_ipc_read_schema (the metadata alone).
 *
 * Why lazy: validating every buffer and computing statistics at open made
 * `gf schema` of a 400 MB file read all of it (250 ms, 394 MB RSS). Open
 * now reads the footer, the schema and each block's message metadata;
 * bodies are read, validated and measured per batch, when asked for. */
#include <pthread.h>
#include <string.h>

#include "data/cdata_internal.h"
#include "data/view_internal.h"
#include "exec/exec_internal.h"
#include "io/io_internal.h"
#include "io/ipc_reader.h"
#include "io/ipc_source.h"

enum { DICT_NOT_LOADED = 0, DICT_LOADED = 1, DICT_FAILED = 2 };

struct gfi_ipc_source {
  gfi_ipc_reader r;       /* shared decoder state; r.a is the source's allocator */
  const gf_allocator *a;  /* the source's allocator (resolved) */
  const gf_allocator *user_alloc; /* as given at open (NULL = default) */
  int nbatches;
  gfi_ipc_msg *batches;   /* message of each record batch block */
  int64_t *offsets;       /* nbatches + 1 row offsets */
  size_t ndblocks;
  gfi_ipc_msg *dblocks;   /* dictionary batch blocks, footer order */
  int *dblock_dict;       /* index into r.dicts of each */
  pthread_mutex_t lock;   /* guards dictionary loading (dstate, derr, r.dicts[].dict) */
  uint8_t *dstate;        /* per dictionary: DICT_* */
  gf_error *derr;         /* per dictionary: its error when DICT_FAILED */
  size_t ndict_alloc;     /* entries of dstate/derr */
};

/* True for errors that describe the input (kept, reported again), as
 * opposed to a cancellation, a deadline or memory (which a retry may not
 * meet). */
static bool is_data_error(gf_status st) {
  return st != GF_ECANCELED && st != GF_ETIMEDOUT && st != GF_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Open                                                                  */
/* ------------------------------------------------------------------ */

/* Parses the message of footer block i of vector `slot`, expecting `type`
 * (the texts of the eager reader's checks). */
static gf_status parse_block(gfi_ipc_reader *r, const fb_table *footer, int slot, size_t i,
                             size_t limit, int type, gfi_ipc_msg *m) {
  const uint8_t *p = gfi_fb_vec_data(footer, slot) + GFI_BLOCK_SIZE * i;
  int64_t off = gfi_fb_load_i64(p);
  if (off < 8 || (uint64_t)off >= limit)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC footer block %zu points to byte %lld, outside the "
                        "file's data",
                        i, (long long)off);
  size_t next;
  bool eos;
  GF_RETURN_NOT_OK(gfi_ipc_read_message(r, (size_t)off, limit, m, &next, &eos));
  if (eos || m->type != type)
    return gf_error_set(r->err, GF_EINVAL, "IPC file: block at byte %lld is not a %s",
                        (long long)off,
                        type == MSG_RECORD_BATCH ? "record batch" : "dictionary batch");
  return GF_OK;
}

/* Reads magic, footer, schema and every block's metadata into s. */
static gf_status open_layout(gfi_ipc_source *s) {
  gfi_ipc_reader *r = &s->r;
  size_t len = r->len;
  if (len < 18 || memcmp(r->data, gfi_ipc_magic, 6) != 0 ||
      memcmp(r->data + len - 6, gfi_ipc_magic, 6) != 0)
    return gf_error_set(r->err, GF_EINVAL,
                        len < 18 ? "not an Arrow IPC file: %zu bytes is too short"
                                 : "not an Arrow IPC file (no ARROW1 magic at "
                                   "both ends of its %zu bytes)",
                        len);
  int32_t flen = gfi_fb_load_i32(r->data + len - 10);
  if (flen <= 0 || (size_t)flen > len - 18)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC file: footer length %d at byte %zu is out of range", (int)flen,
                        len - 10);
  size_t fpos = len - 10 - (size_t)flen;
  GF_RETURN_NOT_OK(gfi_fb_verify(r->data + fpos, (size_t)flen, &gfi_fb_footer, fpos, r->err));
  fb_table footer = gfi_fb_root(r->data + fpos, (size_t)flen, &gfi_fb_footer);
  fb_table schema;
  if (!gfi_fb_get_table(&footer, FOOTER_SCHEMA, &schema))
    return gf_error_set(r->err, GF_EINVAL, "IPC file: footer at byte %zu has no schema", fpos);
  GF_RETURN_NOT_OK(gfi_ipc_decode_schema(r, &schema));
  size_t nd = gfi_fb_vec_len(&footer, FOOTER_DICTIONARIES);
  size_t nb = gfi_fb_vec_len(&footer, FOOTER_BATCHES);
  if (nb > (size_t)INT32_MAX - 1)
    return gf_error_set(r->err, GF_EINVAL, "IPC file: footer at byte %zu lists %zu batches",
                        fpos, nb);
  s->ndict_alloc = (size_t)(r->ndicts ? r->ndicts : 1);
  s->dstate = gfi_calloc(s->a, s->ndict_alloc);
  s->derr = gfi_calloc(s->a, s->ndict_alloc * sizeof *s->derr);
  s->dblocks = gfi_calloc(s->a, (nd ? nd : 1) * sizeof *s->dblocks);
  s->dblock_dict = gfi_calloc(s->a, (nd ? nd : 1) * sizeof *s->dblock_dict);
  s->batches = gfi_calloc(s->a, (nb ? nb : 1) * sizeof *s->batches);
  s->offsets = gfi_calloc(s->a, (nb + 1) * sizeof *s->offsets);
  s->ndblocks = nd;
  s->nbatches = (int)nb;
  if (!s->dstate || !s->derr || !s->dblocks || !s->dblock_dict || !s->batches || !s->offsets)
    return GF_OOM(r->err, "an IPC file's block list");
  for (size_t i = 0; i < nd; i++) {
    gfi_ipc_msg *m = &s->dblocks[i];
    GF_RETURN_NOT_OK(parse_block(r, &footer, FOOTER_DICTIONARIES, i, fpos,
                                 MSG_DICTIONARY_BATCH, m));
    int64_t id = gfi_fb_get_int(&m->header, DB_ID, 0);
    int d = gfi_ipc_find_dict(r, id);
    if (d < 0)
      return gf_error_set(r->err, GF_EINVAL,
                          "IPC message at byte %zu: dictionary id %lld is not in "
                          "the schema",
                          m->pos, (long long)id);
    s->dblock_dict[i] = d;
  }
  for (size_t i = 0; i < nb; i++) {
    gfi_ipc_msg *m = &s->batches[i];
    GF_RETURN_NOT_OK(parse_block(r, &footer, FOOTER_BATCHES, i, fpos, MSG_RECORD_BATCH, m));
    int64_t rows = gfi_fb_get_int(&m->header, RB_LENGTH, 0);
    if (rows < 0 || rows > GF_MAX_ROWS || s->offsets[i] > GF_MAX_ROWS - rows)
      return gf_error_set(r->err, rows < 0 ? GF_EINVAL : GF_ENOTSUP,
                          "IPC message at byte %zu: record batch of %lld rows %s", m->pos,
                          (long long)rows,
                          rows < 0 ? "(a negative length)" : "makes more than GF_MAX_ROWS");
    s->offsets[i + 1] = s->offsets[i] + rows;
  }
  return GF_OK;
}

gf_status gfi_ipc_source_open_buffer(gf_buffer *whole, const gf_ipc_read_options *o,
                                     gfi_ipc_source **out, gf_error *err) {
  gf_ipc_read_options opts;
  gf_ipc_read_options_init(&opts);
  if (o) memcpy(&opts, o, o->size < sizeof opts ? o->size : sizeof opts);
  if (!out) {
    gf_buffer_release(whole);
    return gf_error_set(err, GF_EINVAL, "IPC source: out is NULL");
  }
  *out = NULL;
  gfi_ctx call; /* the open's deadline and token */
  gf_parallel_options par;
  gf_status st = gfi_ctx_load(&call, opts.parallel, &par, err);
  if (st != GF_OK) {
    gf_buffer_release(whole);
    return st;
  }
  const gf_allocator *user = opts.parallel && opts.parallel->size ? opts.parallel->allocator : NULL;
  /* Loaded options of an enclosing call (gf_read_ipc_file) carry its
   * tracked allocator: the source then lives inside that call. */
  const gf_allocator *a = gfi_alloc_or_default(par.allocator);
  gfi_ipc_source *s = gfi_calloc(a, sizeof *s);
  if (!s) {
    gf_buffer_release(whole);
    return gfi_ctx_end(&call, GF_OOM(err, "an IPC source"), err);
  }
  s->a = a;
  s->user_alloc = user;
  pthread_mutex_init(&s->lock, NULL);
  gfi_ipc_reader *r = &s->r;
  r->whole = whole;
  r->data = gf_buffer_data(whole);
  r->len = gf_buffer_size(whole);
  r->validation = opts.validation;
  r->a = a;
  r->err = err;
  r->par = par;
  r->start_ns = gfi_now_ns();
  r->meta_out = opts.metadata;
  if (r->meta_out) *r->meta_out = NULL;
  gfi_vec_init(&r->columns, a);
  st = gfi_check_stop(&par, r->start_ns, NULL, err);
  if (st == GF_OK) st = open_layout(s);
  r->err = NULL;
  r->meta_out = NULL;
  /* The open's loaded options die with its context: forget them. */
  gf_parallel_options_init(&r->par);
  if (st != GF_OK) {
    if (opts.metadata && *opts.metadata) {
      gf_ipc_metadata_free(*opts.metadata);
      *opts.metadata = NULL;
    }
    gfi_ipc_source_close(s);
    return gfi_ctx_end(&call, st, err);
  }
  *out = s;
  return gfi_ctx_end(&call, GF_OK, err);
}

gf_status gfi_ipc_source_open(const char *path, const gf_ipc_read_options *o,
                              gfi_ipc_source **out, gf_error *err) {
  if (out) *out = NULL;
  gf_buffer *b;
  GF_RETURN_NOT_OK(gfi_ipc_map_path(path, o, &b, err));
  return gfi_ipc_source_open_buffer(b, o, out, err);
}

void gfi_ipc_source_close(gfi_ipc_source *s) {
  if (!s) return;
  const gf_allocator *a = s->a;
  gfi_ipc_reader_free(&s->r);
  size_t nb = (size_t)(s->nbatches ? s->nbatches : 1);
  if (s->dstate) gfi_mfree(a, s->dstate, s->ndict_alloc);
  if (s->derr) gfi_mfree(a, s->derr, s->ndict_alloc * sizeof *s->derr);
  size_t nd = s->ndblocks ? s->ndblocks : 1;
  if (s->dblocks) gfi_mfree(a, s->dblocks, nd * sizeof *s->dblocks);
  if (s->dblock_dict) gfi_mfree(a, s->dblock_dict, nd * sizeof *s->dblock_dict);
  if (s->batches) gfi_mfree(a, s->batches, nb * sizeof *s->batches);
  if (s->offsets) gfi_mfree(a, s->offsets, ((size_t)s->nbatches + 1) * sizeof *s->offsets);
  pthread_mutex_destroy(&s->lock);
  gfi_mfree(a, s, sizeof *s);
}

const gf_schema *gfi_ipc_source_schema(const gfi_ipc_source *s) { return s->r.schema; }
int gfi_ipc_source_num_batches(const gfi_ipc_source *s) { return s->nbatches; }
int64_t gfi_ipc_source_batch_rows(const gfi_ipc_source *s, int i) {
  return i >= 0 && i < s->nbatches ? s->offsets[i + 1] - s->offsets[i] : 0;
}
int64_t gfi_ipc_source_batch_offset(const gfi_ipc_source *s, int i) {
  return i >= 0 && i <= s->nbatches ? s->offsets[i] : 0;
}
int64_t gfi_ipc_source_num_rows(const gfi_ipc_source *s) { return s->offsets[s->nbatches]; }

/* ------------------------------------------------------------------ */
/* Dictionaries and batches                                              */
/* ------------------------------------------------------------------ */

/* A reader for one call over the source's shared state. */
static void fork_reader(const gfi_ipc_source *s, gfi_ipc_reader *r, const gf_parallel_options *par,
                        gf_error *err) {
  *r = s->r;
  r->a = gfi_alloc_or_default(par->allocator);
  r->err = err;
  r->par = *par;
  r->start_ns = gfi_now_ns();
  r->meta_out = NULL;
  memset(&r->columns, 0, sizeof r->columns);
  r->nbatches = 0;
}

/* Loads the dictionaries flagged in `want` (NULL = all) that are not yet
 * loaded, applying their blocks in footer order (deltas and replacements
 * as the eager reader did). Input errors stick to their dictionary and are
 * reported again by later calls; a cancellation, deadline or memory error
 * leaves the dictionary unloaded for a later call to retry. */
static gf_status load_dicts(gfi_ipc_source *s, const bool *want, const gf_parallel_options *par,
                            gf_error *err) {
  int nd = s->r.ndicts;
  if (nd == 0) return GF_OK;
  pthread_mutex_lock(&s->lock);
  gf_status st = GF_OK;
  /* Already failed: the first such (in dictionary order) is the answer. */
  for (int d = 0; d < nd; d++)
    if ((!want || want[d]) && s->dstate[d] == DICT_FAILED) {
      gf_error_set(err, s->derr[d].code, "%s", s->derr[d].message);
      pthread_mutex_unlock(&s->lock);
      return s->derr[d].code;
    }
  bool todo_any = false;
  for (int d = 0; d < nd; d++)
    if ((!want || want[d]) && s->dstate[d] == DICT_NOT_LOADED) todo_any = true;
  if (!todo_any) {
    pthread_mutex_unlock(&s->lock);
    return GF_OK;
  }
  gfi_ipc_reader r;
  gf_error sub;
  gf_error_clear(&sub);
  fork_reader(s, &r, par, &sub);
  /* The dictionaries outlive this call: they are the source's. */
  r.a = s->a;
  int failed = -1;
  for (size_t b = 0; b < s->ndblocks && st == GF_OK; b++) {
    int d = s->dblock_dict[b];
    if ((want && !want[d]) || s->dstate[d] != DICT_NOT_LOADED) continue;
    st = gfi_ipc_read_dictionary(&r, &s->dblocks[b]);
    if (st != GF_OK) failed = d;
  }
  if (st == GF_OK) {
    for (int d = 0; d < nd; d++)
      if ((!want || want[d]) && s->dstate[d] == DICT_NOT_LOADED) s->dstate[d] = DICT_LOADED;
  } else {
    gf_error_set(err, st, "%s", sub.message);
    /* Undo the partial loads of this call (their blocks run again). */
    for (int d = 0; d < nd; d++)
      if ((!want || want[d]) && s->dstate[d] == DICT_NOT_LOADED) {
        gf_array_release(s->r.dicts[d].dict);
        s->r.dicts[d].dict = NULL;
      }
    if (is_data_error(st)) {
      s->dstate[failed] = DICT_FAILED;
      s->derr[failed] = sub;
    }
  }
  pthread_mutex_unlock(&s->lock);
  return st;
}

/* Decodes batch i's selected columns into out with reader r (its error
 * slot is replaced): input errors get the batch prefix. */
static gf_status decode_one(const gfi_ipc_source *s, gfi_ipc_reader *r, int i, const int *sel,
                            int nsel, gf_array **out, gf_error *err) {
  gf_error sub;
  gf_error_clear(&sub);
  r->err = &sub;
  r->start_ns = gfi_now_ns();
  gf_status st = gfi_ipc_decode_batch(r, &s->batches[i], sel, nsel, out);
  r->err = err;
  if (st == GF_OK) return GF_OK;
  if (is_data_error(st))
    return gf_error_set(err, st, "IPC file: record batch %d (of %d, counted from 0): %s", i,
                        s->nbatches, sub.message);
  return gf_error_set(err, st, "%s", sub.message);
}

gf_status gfi_ipc_source_read_batch(gfi_ipc_source *s, int i, const int *cols, int ncols,
                                    const gf_parallel_options *par, gf_frame **out,
                                    gf_error *err) {
  if (!s || !out) return gf_error_set(err, GF_EINVAL, "IPC source: NULL argument");
  *out = NULL;
  if (i < 0 || i >= s->nbatches)
    return gf_error_set(err, GF_EINVAL, "IPC source: batch %d of %d does not exist", i,
                        s->nbatches);
  int nc = s->r.ncols;
  if (!cols) ncols = nc;
  if (ncols < 0 || ncols > nc)
    return gf_error_set(err, GF_EINVAL, "IPC source: %d columns selected of %d", ncols, nc);
  gf_parallel_options base;
  if (par) base = *par;
  else gf_parallel_options_init(&base);
  if (!base.allocator) base.allocator = s->user_alloc;
  gfi_ctx call;
  gf_parallel_options lp;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, &base, &lp, err));
  const gf_allocator *a = gfi_alloc_or_default(lp.allocator);
  size_t nca = (size_t)(nc ? nc : 1), nsa = (size_t)(ncols ? ncols : 1);
  bool *want = gfi_calloc(a, (size_t)(s->r.ndicts ? s->r.ndicts : 1) + nca);
  gf_array **arr = gfi_calloc(a, nsa * sizeof *arr);
  gf_field *fields = gfi_calloc(a, nsa * sizeof *fields);
  gf_status st = GF_OK;
  if (!want || !arr || !fields) st = GF_OOM(err, "an IPC batch read");
  bool *seen = want ? want + (s->r.ndicts ? s->r.ndicts : 1) : NULL;
  for (int k = 0; st == GF_OK && k < ncols; k++) {
    int c = cols ? cols[k] : k;
    if (c < 0 || c >= nc || seen[c]) {
      st = gf_error_set(err, GF_EINVAL,
                        "IPC source: column index %d at position %d is %s", c, k,
                        c < 0 || c >= nc ? "out of range" : "listed twice");
      break;
    }
    seen[c] = true;
    if (s->r.cols[c].dict >= 0) want[s->r.cols[c].dict] = true;
    fields[k] = *gf_schema_field(s->r.schema, c);
  }
  if (st == GF_OK) st = load_dicts(s, want, &lp, err);
  gfi_ipc_reader r;
  if (st == GF_OK) {
    fork_reader(s, &r, &lp, err);
    st = decode_one(s, &r, i, cols, ncols, arr, err);
  }
  for (int k = 0; st == GF_OK && k < ncols; k++)
    if (arr[k]->type.id != fields[k].type.id)
      st = gf_error_set(err, GF_ENOTSUP,
                        "IPC file: record batch %d (of %d, counted from 0): column '%.60s': "
                        "its views hold more than 2^31-1 bytes of strings; read the whole "
                        "file with gf_read_ipc_file (which widens the column) instead",
                        i, s->nbatches, fields[k].name);
  gf_schema *schema = NULL;
  if (st == GF_OK) {
    if (!cols) schema = gf_schema_retain(s->r.schema);
    else st = gf_schema_new(fields, ncols, &schema, err);
  }
  if (st == GF_OK) st = gf_frame_new(schema, arr, 1, a, out, err);
  gf_schema_release(schema);
  for (int k = 0; arr && k < ncols; k++) gf_array_release(arr[k]);
  if (want) gfi_mfree(a, want, (size_t)(s->r.ndicts ? s->r.ndicts : 1) + nca);
  if (arr) gfi_mfree(a, arr, nsa * sizeof *arr);
  if (fields) gfi_mfree(a, fields, nsa * sizeof *fields);
  return gfi_ctx_end(&call, st, err);
}

/* ------------------------------------------------------------------ */
/* The whole file, batches in parallel                                   */
/* ------------------------------------------------------------------ */

typedef struct read_all_job {
  gfi_ipc_source *s;
  const gf_parallel_options *par; /* the loaded options of the read */
  gf_array **cols;                /* nbatches * ncols, batch-major */
  atomic_llong first_bad;         /* lowest batch with an input error */
  pthread_mutex_t lock;           /* guards bad_err */
  int64_t bad_batch;              /* the batch bad_err belongs to */
  gf_error bad_err;
} read_all_job;

/* Chunk kernel: decodes batch chunk_id. Input errors are recorded (the
 * lowest batch's text kept) and do not stop the run, so the error
 * reported is the first in file order at any worker count; a batch after
 * a recorded failure is skipped. */
static gf_status read_all_kernel(void *user, const gf_chunk_spec *chunk, gf_task_ctx *tc) {
  read_all_job *j = user;
  int i = (int)chunk->chunk_id;
  if (gfi_first_error_before(&j->first_bad, i)) return GF_OK;
  gfi_ipc_reader r;
  gf_error e;
  gf_error_clear(&e);
  gf_parallel_options po = *j->par;
  po.allocator = tc->allocator;
  fork_reader(j->s, &r, &po, &e);
  gf_status st = decode_one(j->s, &r, i, NULL, j->s->r.ncols,
                            j->cols + (size_t)i * (size_t)j->s->r.ncols, &e);
  if (st == GF_OK) return GF_OK;
  if (!is_data_error(st)) {
    gf_error_set(tc->err, st, "%s", e.message);
    return st;
  }
  gfi_first_error_note(&j->first_bad, i);
  pthread_mutex_lock(&j->lock);
  if (j->bad_batch < 0 || i < j->bad_batch) {
    j->bad_batch = i;
    j->bad_err = e;
  }
  pthread_mutex_unlock(&j->lock);
  return GF_OK;
}

gf_status gfi_ipc_source_read_all(gfi_ipc_source *s, const gf_parallel_options *par,
                                  gf_frame **out, gf_error *err) {
  return gfi_ipc_source_read_first(s, 0, par, out, err);
}

gf_status gfi_ipc_source_read_first(gfi_ipc_source *s, int64_t max_rows,
                                    const gf_parallel_options *par, gf_frame **out,
                                    gf_error *err) {
  *out = NULL;
  gfi_ctx call;
  gf_parallel_options lp;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, par, &lp, err));
  const gf_allocator *a = gfi_alloc_or_default(lp.allocator);
  int nb = s->nbatches, nc = s->r.ncols;
  if (max_rows > 0) /* the batches before the one that reaches max_rows, and it */
    for (int i = 0; i < s->nbatches; i++)
      if (s->offsets[i + 1] >= max_rows) {
        nb = i + 1;
        break;
      }
  size_t ncells = (size_t)nb * (size_t)nc;
  gf_status st = load_dicts(s, NULL, &lp, err);
  gf_array **cols = NULL;
  gf_chunk_spec *specs = NULL;
  if (st == GF_OK) {
    cols = gfi_calloc(a, (ncells ? ncells : 1) * sizeof *cols);
    specs = gfi_calloc(a, (size_t)(nb ? nb : 1) * sizeof *specs);
    if (!cols || !specs) st = GF_OOM(err, "the IPC batch list");
  }
  read_all_job j;
  memset(&j, 0, sizeof j);
  j.s = s;
  j.par = &lp;
  j.cols = cols;
  j.bad_batch = -1;
  gfi_first_error_init(&j.first_bad);
  pthread_mutex_init(&j.lock, NULL);
  if (st == GF_OK && nb > 0) {
    for (int i = 0; i < nb; i++) {
      specs[i].start_row = s->offsets[i];
      specs[i].end_row = s->offsets[i + 1];
      specs[i].chunk_id = i;
    }
    st = gf_run_chunks(specs, nb, read_all_kernel, &j, &lp, err);
    if (st == GF_OK && j.bad_batch >= 0) st = gf_error_set(err, j.bad_err.code, "%s", j.bad_err.message);
  }
  pthread_mutex_destroy(&j.lock);
  gf_schema *schema = gf_schema_retain(s->r.schema);
  /* View columns of which a batch came out large_*: all batches large. */
  if (st == GF_OK && nb > 0 && nc > 0)
    st = gfi_view_unify_columns(a, &schema, cols, nb, nc, err);
  if (st == GF_OK) st = gf_frame_new(schema, cols, nb, a, out, err);
  gf_schema_release(schema);
  for (size_t k = 0; cols && k < ncells; k++) gf_array_release(cols[k]);
  if (cols) gfi_mfree(a, cols, (ncells ? ncells : 1) * sizeof *cols);
  if (specs) gfi_mfree(a, specs, (size_t)(nb ? nb : 1) * sizeof *specs);
  return gfi_ctx_end(&call, st, err);
}

/* ------------------------------------------------------------------ */
/* gf_ipc_read_schema                                                    */
/* ------------------------------------------------------------------ */

void gf_ipc_file_info_init(gf_ipc_file_info *info) {
  if (!info) return;
  memset(info, 0, sizeof *info);
  info->size = sizeof *info;
}

void gf_ipc_file_info_release(gf_ipc_file_info *info) {
  if (!info) return;
  gf_schema_release(info->schema);
  if (info->null_counts)
    gfi_mfree(gf_default_allocator(), info->null_counts,
              sizeof *info->null_counts * (size_t)(info->num_columns ? info->num_columns : 1));
  gf_ipc_file_info_init(info);
}

/* Adds the null counts recorded in RecordBatch `m`'s field nodes (one per
 * column: the library reads flat types only) to nulls[]. */
static gf_status add_node_nulls(gfi_ipc_reader *r, const gfi_ipc_msg *m, int64_t *nulls) {
  const uint8_t *nodes = gfi_fb_vec_data(&m->header, RB_NODES);
  size_t nn = gfi_fb_vec_len(&m->header, RB_NODES);
  if (nn < (size_t)r->ncols)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu: fewer field nodes (%zu) than columns",
                        m->pos, nn);
  for (int c = 0; c < r->ncols; c++) {
    int64_t len = gfi_fb_load_i64(nodes + GFI_FIELD_NODE_SIZE * (size_t)c);
    int64_t n = gfi_fb_load_i64(nodes + GFI_FIELD_NODE_SIZE * (size_t)c + 8);
    if (len < 0 || n < 0 || n > len)
      return gf_error_set(r->err, GF_EINVAL,
                          "IPC message at byte %zu: field node %d has length %lld and null "
                          "count %lld",
                          m->pos, c, (long long)len, (long long)n);
    nulls[c] += n;
  }
  return GF_OK;
}

/* Walks an IPC stream's messages (metadata only, bodies skipped). */
static gf_status stream_info(gfi_ipc_reader *r, gf_ipc_file_info *info) {
  gfi_ipc_msg m;
  size_t pos = 0, next = 0;
  bool eos;
  GF_RETURN_NOT_OK(gfi_ipc_read_message(r, pos, r->len, &m, &next, &eos));
  if (eos)
    return gf_error_set(r->err, GF_EINVAL, "IPC stream ends at byte %zu before its schema", pos);
  if (m.type != MSG_SCHEMA)
    return gf_error_set(r->err, GF_EINVAL, "IPC stream: message at byte %zu is not a schema",
                        pos);
  GF_RETURN_NOT_OK(gfi_ipc_decode_schema(r, &m.header));
  int nc = r->ncols;
  info->null_counts = gfi_calloc(gf_default_allocator(), sizeof(int64_t) * (size_t)(nc ? nc : 1));
  if (!info->null_counts) return GF_OOM(r->err, "IPC null counts");
  info->num_columns = nc;
  for (;;) {
    pos = next;
    GF_RETURN_NOT_OK(gfi_ipc_read_message(r, pos, r->len, &m, &next, &eos));
    if (eos) return GF_OK;
    if (m.type == MSG_SCHEMA)
      return gf_error_set(r->err, GF_EINVAL, "IPC stream: second schema at byte %zu", pos);
    if (m.type != MSG_RECORD_BATCH) continue;
    int64_t rows = gfi_fb_get_int(&m.header, RB_LENGTH, 0);
    if (rows < 0 || rows > GF_MAX_ROWS || info->num_rows > GF_MAX_ROWS - rows)
      return gf_error_set(r->err, rows < 0 ? GF_EINVAL : GF_ENOTSUP,
                          "IPC message at byte %zu: record batch of %lld rows %s", m.pos,
                          (long long)rows,
                          rows < 0 ? "(a negative length)" : "makes more than GF_MAX_ROWS");
    if (info->num_batches == INT32_MAX)
      return gf_error_set(r->err, GF_ENOTSUP, "IPC stream: more than 2^31-1 batches");
    GF_RETURN_NOT_OK(add_node_nulls(r, &m, info->null_counts));
    info->num_rows += rows;
    info->num_batches++;
    GF_RETURN_NOT_OK(gfi_check_stop(&r->par, r->start_ns, NULL, r->err));
  }
}

/* The file or stream in `whole` (consumed) into info. */
static gf_status read_info(gf_buffer *whole, const gf_ipc_read_options *o,
                           gf_ipc_file_info *info, gf_error *err) {
  /* o->parallel: the loaded options of gf_ipc_read_schema's call. */
  bool is_file = gf_buffer_size(whole) >= 6 && !memcmp(gf_buffer_data(whole), gfi_ipc_magic, 6);
  if (is_file) {
    gfi_ipc_source *s;
    GF_RETURN_NOT_OK(gfi_ipc_source_open_buffer(whole, o, &s, err));
    int nc = s->r.ncols;
    gf_status st = GF_OK;
    info->null_counts = gfi_calloc(gf_default_allocator(), sizeof(int64_t) * (size_t)(nc ? nc : 1));
    if (!info->null_counts) st = GF_OOM(err, "IPC null counts");
    else info->num_columns = nc;
    gfi_ipc_reader r;
    fork_reader(s, &r, o->parallel, err);
    for (int i = 0; st == GF_OK && i < s->nbatches; i++)
      st = add_node_nulls(&r, &s->batches[i], info->null_counts);
    if (st == GF_OK) {
      info->schema = gf_schema_retain(s->r.schema);
      info->num_batches = s->nbatches;
      info->num_rows = gfi_ipc_source_num_rows(s);
      info->is_stream = false;
    }
    gfi_ipc_source_close(s);
    return st;
  }
  gf_ipc_read_options opts;
  gf_ipc_read_options_init(&opts);
  if (o) memcpy(&opts, o, o->size < sizeof opts ? o->size : sizeof opts);
  gfi_ipc_reader r;
  memset(&r, 0, sizeof r);
  r.whole = whole;
  r.data = gf_buffer_data(whole);
  r.len = gf_buffer_size(whole);
  r.validation = opts.validation;
  r.par = *opts.parallel;
  r.a = gfi_alloc_or_default(r.par.allocator);
  r.err = err;
  r.start_ns = gfi_now_ns();
  r.meta_out = opts.metadata;
  gfi_vec_init(&r.columns, r.a);
  gf_status st = stream_info(&r, info);
  if (st == GF_OK) {
    info->schema = gf_schema_retain(r.schema);
    info->is_stream = true;
  } else if (opts.metadata && *opts.metadata) {
    gf_ipc_metadata_free(*opts.metadata);
    *opts.metadata = NULL;
  }
  gfi_ipc_reader_free(&r);
  return st;
}

gf_status gf_ipc_read_schema(const char *path, const gf_ipc_read_options *o,
                             gf_ipc_file_info *info, gf_error *err) {
  if (!info || info->size < sizeof *info)
    return gf_error_set(err, GF_EINVAL,
                        "gf_ipc_read_schema: info is NULL or not initialised "
                        "(gf_ipc_file_info_init)");
  gf_ipc_file_info_init(info);
  gf_ipc_read_options lo;
  gf_ipc_read_options_init(&lo);
  if (o) memcpy(&lo, o, o->size < sizeof lo ? o->size : sizeof lo);
  if (lo.metadata) *lo.metadata = NULL;
  gfi_ctx call;
  gf_parallel_options par;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, lo.parallel, &par, err));
  lo.parallel = &par;
  gf_buffer *b;
  gf_status st = gfi_ipc_map_path(path, &lo, &b, err);
  if (st == GF_OK) st = read_info(b, &lo, info, err);
  if (st != GF_OK) gf_ipc_file_info_release(info);
  return gfi_ctx_end(&call, st, err);
}

/* ------------------------------------------------------------------ */
/* The source as an ArrowArrayStream                                     */
/* ------------------------------------------------------------------ */

/* Private data of an exported source: the source (owned) and the next
 * batch. */
typedef struct source_stream {
  gfi_ipc_source *s;
  int next;
  char last_error[GF_ERROR_MESSAGE_SIZE];
} source_stream;

/* Records a failure for get_last_error and returns its errno. */
static int source_stream_fail(source_stream *p, gf_status st, const gf_error *e) {
  snprintf(p->last_error, sizeof p->last_error, "%s",
           e->message[0] ? e->message : gf_status_string(st));
  return gfi_cdata_status_to_errno(st);
}

/* get_schema callback: the source's schema as "+s". */
static int source_stream_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out) {
  source_stream *p = st->private_data;
  gf_error e;
  gf_error_clear(&e);
  gf_status rc = gf_schema_export(p->s->r.schema, out, &e);
  return rc == GF_OK ? 0 : source_stream_fail(p, rc, &e);
}

/* get_next callback: reads (decodes, validates) the next batch and exports
 * it; a released array at the end. A batch that fails stays next: the
 * consumer sees the same error again if it asks again. */
static int source_stream_get_next(struct ArrowArrayStream *st, struct ArrowArray *out) {
  source_stream *p = st->private_data;
  memset(out, 0, sizeof *out);
  if (p->next >= p->s->nbatches) return 0;
  gf_error e;
  gf_error_clear(&e);
  gf_frame *f = NULL;
  gf_status rc = gfi_ipc_source_read_batch(p->s, p->next, NULL, 0, NULL, &f, &e);
  if (rc == GF_OK) rc = gf_frame_export_batch(f, 0, out, NULL, &e);
  gf_frame_release(f);
  if (rc != GF_OK) return source_stream_fail(p, rc, &e);
  p->next++;
  return 0;
}

static const char *source_stream_get_last_error(struct ArrowArrayStream *st) {
  source_stream *p = st->private_data;
  return p->last_error[0] ? p->last_error : NULL;
}

/* release callback: closes the source. */
static void source_stream_release(struct ArrowArrayStream *st) {
  if (!st || !st->release) return;
  source_stream *p = st->private_data;
  const gf_allocator *a = p->s->a;
  gfi_ipc_source_close(p->s);
  gfi_mfree(a, p, sizeof *p);
  st->release = NULL;
  st->private_data = NULL;
}

gf_status gfi_ipc_source_export_stream(gfi_ipc_source *s, struct ArrowArrayStream *out,
                                       gf_error *err) {
  if (!s || !out) {
    gfi_ipc_source_close(s);
    return gf_error_set(err, GF_EINVAL, "IPC source stream: NULL argument");
  }
  source_stream *p = gfi_calloc(s->a, sizeof *p);
  if (!p) {
    gfi_ipc_source_close(s);
    return GF_OOM(err, "an IPC source stream");
  }
  p->s = s;
  out->get_schema = source_stream_get_schema;
  out->get_next = source_stream_get_next;
  out->get_last_error = source_stream_get_last_error;
  out->release = source_stream_release;
  out->private_data = p;
  return GF_OK;
}
