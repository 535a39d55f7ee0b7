/* The streaming Parquet sink (exec/sink_parquet.c): its file equals
 * gf_write_parquet's of the collected frame, byte for byte, whatever the
 * batch split (empty batches, slices at odd offsets, batches with their
 * own dictionaries) and the worker count (1/2/3/8); an allocation-failure
 * sweep; cancellation and the refusal of nulls under a non-nullable
 * field leave no file (nor temporary file) behind. gf_write_parquet's own output is checked against pyarrow,
 * Polars and DuckDB by python/tests/test_parquet_interop.py. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "data/array_internal.h"
#include "exec/exec_internal.h"
#include "exec/stream_internal.h"
#include "gf_test_data.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"

static char tmpdir[] = "/tmp/gf_pqsink_XXXXXX";

static const char *temp_path(const char *name) {
  static char buf[4][256];
  static int k;
  char *p = buf[k++ % 4];
  snprintf(p, 256, "%s/%s", tmpdir, name);
  return p;
}

/* Entries of tmpdir (a failed sink must leave none). */
static int dir_entries(void) {
  DIR *d = opendir(tmpdir);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

static uint8_t *read_all(const char *path, size_t *n) {
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  fseek(fp, 0, SEEK_END);
  long len = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)len + 1);
  assert_non_null(b);
  assert_int_equal(fread(b, 1, (size_t)len, fp), (size_t)len);
  fclose(fp);
  *n = (size_t)len;
  return b;
}

/* gf_write_parquet's bytes for f (written to a file outside tmpdir). */
static uint8_t *eager_bytes(const gf_frame *f, const gf_parquet_write_options *o, size_t *n) {
  char path[] = "/tmp/gf_pqsink_ref_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  gf_parquet_write_options w = *o;
  w.parallel = NULL;
  gf_error err;
  if (gf_write_parquet(f, path, &w, &err) != GF_OK) fail_msg("%s", err.message);
  uint8_t *b = read_all(path, n);
  unlink(path);
  return b;
}

/* Runs the sink over `parts` (pushed in order at their positions) with
 * `po` (loaded here), writing `path`. */
static gf_status run_sink(gf_frame *const *parts, int nparts, const char *path,
                          const gf_parquet_write_options *o, const gf_parallel_options *po,
                          gf_cancel *cancel_after_first, gf_error *err) {
  gfi_ctx ctx;
  gf_parallel_options lo;
  gf_status st = gfi_ctx_load(&ctx, po, &lo, err);
  if (st != GF_OK) return st;
  gfi_sink *k = NULL;
  st = gfi_sink_parquet_file(gf_frame_schema(parts[0]), path, o, &lo, &k, err);
  if (st == GF_OK) assert_null(k->finish_into);
  int64_t pos = 0;
  for (int i = 0; i < nparts && st == GF_OK; i++) {
    st = k->push(k, parts[i], pos, err);
    pos += gf_frame_num_rows(parts[i]);
    if (i == 0 && cancel_after_first) gf_cancel_request(cancel_after_first);
  }
  gf_frame *res = NULL;
  if (st == GF_OK) st = k->finish(k, &res, err);
  if (st == GF_OK) assert_null(res);
  if (k) k->free(k);
  return gfi_ctx_end(&ctx, st, err);
}

/* Every type the writer supports (gft_all_types minus decimal256). */
static int writable_types(gf_datatype *out) {
  gf_datatype all[GFT_MAX_TYPES];
  int n = gft_all_types(all, GFT_MAX_TYPES), k = 0;
  for (int i = 0; i < n; i++)
    if (all[i].id != GF_TYPE_DECIMAL256) out[k++] = all[i];
  return k;
}

/* Slices f into batches of the given sizes (0 = an empty batch); the last
 * takes the rest. */
static int split(const gf_frame *f, const int64_t *sizes, int n, gf_frame **parts) {
  int64_t at = 0, rows = gf_frame_num_rows(f);
  for (int k = 0; k < n; k++) {
    int64_t len = k < n - 1 ? sizes[k] : rows - at;
    if (at + len > rows) len = rows - at;
    assert_int_equal(gf_frame_slice(f, at, len, &parts[k], NULL), GF_OK);
    at += len;
  }
  return n;
}

static void options(gf_parquet_write_options *o) {
  gf_parquet_write_options_init(o);
  o->row_group_rows = 700; /* several row groups, a short last one */
  o->data_page_rows = 300;
  o->dictionary_page_bytes = 1000; /* some chunks fall back to PLAIN */
  if (gf_parquet_compression_available(GF_PARQUET_ZSTD)) o->compression = GF_PARQUET_ZSTD;
}

/* The sink's bytes equal gf_write_parquet's of the whole frame, for
 * batch splits with empty batches and odd offsets, at 1/2/3/8 workers. */
static void sink_bytes_equal_the_eager_writer(void **state) {
  (void)state;
  gf_datatype t[GFT_MAX_TYPES];
  int nt = writable_types(t);
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, nt, 2500, 3, 0.2, 21, NULL, &f), GF_OK);
  gf_parquet_write_options o;
  options(&o);
  size_t want_n;
  uint8_t *want = eager_bytes(f, &o, &want_n);
  const int64_t splits[3][8] = {{2500},
                                {1, 0, 137, 700, 283, 0, 1000, 0},
                                {699, 1, 700, 1400, 0, 0, 0, 0}};
  const int nsplits[3] = {1, 8, 5};
  const int workers[] = {1, 2, 3, 8};
  for (int s = 0; s < 3; s++) {
    gf_frame *parts[8];
    split(f, splits[s], nsplits[s], parts);
    for (size_t w = 0; w < 4; w++) {
      gf_parallel_options po;
      gf_parallel_options_init(&po);
      po.num_workers = workers[w];
      const char *path = temp_path("sink.parquet");
      gf_error err;
      if (run_sink(parts, nsplits[s], path, &o, &po, NULL, &err) != GF_OK)
        fail_msg("%s", err.message);
      size_t n;
      uint8_t *b = read_all(path, &n);
      if (n != want_n || memcmp(b, want, n) != 0)
        fail_msg("split %d, %d workers: the sink's file differs from gf_write_parquet's", s,
                 workers[w]);
      free(b);
      unlink(path);
      assert_int_equal(dir_entries(), 0);
    }
    for (int k = 0; k < nsplits[s]; k++) gf_frame_release(parts[k]);
  }
  free(want);
  gf_frame_release(f);
}

/* Batches with dictionaries of their own (different entries, different
 * codes for one value): the same bytes as gf_write_parquet of their
 * concatenation (one unified dictionary). */
static void sink_batches_with_their_own_dictionaries(void **state) {
  (void)state;
  enum { N = 900 };
  static char buf[2][N][24];
  const char *v[2][N];
  gf_frame *parts[2];
  for (int b = 0; b < 2; b++) {
    for (int i = 0; i < N; i++) {
      /* batch 0 uses values 0..149, batch 1 values 100..399 */
      int x = b == 0 ? (i * 7) % 150 : 100 + (i * 11) % 300;
      snprintf(buf[b][i], sizeof buf[b][i], "name-%06d", x);
      v[b][i] = i % 9 == 4 ? NULL : buf[b][i];
    }
    gf_array *a = gft_string_array(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), v[b], N);
    const char *names[1] = {"d"};
    assert_int_equal(gf_frame_from_columns(names, &a, 1, &parts[b], NULL), GF_OK);
    gf_array_release(a);
  }
  gf_frame *all = NULL;
  assert_int_equal(gf_frame_concat(parts, 2, NULL, &all, NULL), GF_OK);
  gf_parquet_write_options o;
  options(&o);
  o.row_group_rows = 600; /* a row group across the two batches */
  for (int stats = 0; stats < 2; stats++) {
    o.no_statistics = stats == 1;
    size_t want_n;
    uint8_t *want = eager_bytes(all, &o, &want_n);
    gf_parallel_options po;
    gf_parallel_options_init(&po);
    po.num_workers = 3;
    const char *path = temp_path("dict.parquet");
    gf_error err;
    if (run_sink(parts, 2, path, &o, &po, NULL, &err) != GF_OK) fail_msg("%s", err.message);
    size_t n;
    uint8_t *b = read_all(path, &n);
    assert_true(n == want_n && memcmp(b, want, n) == 0);
    free(b);
    free(want);
    unlink(path);
  }
  gf_frame_release(all);
  gf_frame_release(parts[0]);
  gf_frame_release(parts[1]);
}

/* Cancelled after the first batch: GF_ECANCELED, no file, no temporary
 * file. A non-nullable field streams as REQUIRED, as the eager writer
 * writes it. */
static void sink_failures_leave_no_file(void **state) {
  (void)state;
  gf_datatype t[GFT_MAX_TYPES];
  int nt = writable_types(t);
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, nt, 3000, 1, 0.1, 5, NULL, &f), GF_OK);
  gf_frame *parts[3];
  const int64_t sizes[3] = {1000, 1000, 1000};
  split(f, sizes, 3, parts);
  gf_parquet_write_options o;
  options(&o);
  gf_cancel *c = NULL;
  assert_int_equal(gf_cancel_new(&c, NULL), GF_OK);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = 2;
  po.cancel = c;
  const char *path = temp_path("cancel.parquet");
  gf_error err;
  assert_int_equal(run_sink(parts, 3, path, &o, &po, c, &err), GF_ECANCELED);
  assert_int_equal(dir_entries(), 0);
  gf_cancel_free(c);
  for (int k = 0; k < 3; k++) gf_frame_release(parts[k]);
  gf_frame_release(f);

  /* A non-nullable field (REQUIRED, no definition levels), two batches:
   * the eager writer's bytes. (Nulls under such a field cannot reach the
   * sink through gf_frame_new, which refuses them; only a dictionary whose
   * values hold nulls could, and the sink refuses that batch.) */
  int64_t vals[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  gf_array *a = gft_int64_array(gf_type(GF_TYPE_INT64), vals, NULL, 10);
  gf_field fd = {.name = "r", .type = gf_type(GF_TYPE_INT64), .nullable = false};
  gf_schema *sc = NULL;
  assert_int_equal(gf_schema_new(&fd, 1, &sc, NULL), GF_OK);
  gf_frame *g = NULL;
  assert_int_equal(gf_frame_new(sc, &a, 1, NULL, &g, NULL), GF_OK);
  gf_array_release(a);
  gf_schema_release(sc);
  gf_frame *gp[2];
  const int64_t gs[2] = {5, 5};
  split(g, gs, 2, gp);
  size_t want_n;
  uint8_t *want = eager_bytes(g, &o, &want_n);
  gf_parallel_options_init(&po);
  path = temp_path("required.parquet");
  if (run_sink(gp, 2, path, &o, &po, NULL, &err) != GF_OK) fail_msg("%s", err.message);
  size_t n;
  uint8_t *b = read_all(path, &n);
  assert_true(n == want_n && memcmp(b, want, n) == 0);
  free(b);
  free(want);
  unlink(path);
  gf_frame_release(gp[0]);
  gf_frame_release(gp[1]);
  gf_frame_release(g);
}

/* A frame of one non-nullable dictionary<utf8> column "k" whose codes
 * point at `vals` (a NULL string is a null dictionary value; the codes
 * themselves are never null, so gf_frame_new accepts the frame). */
static gf_frame *required_dict_frame(const char *const *vals, int nvals, const int32_t *codes,
                                     int n) {
  gf_array *dv = gft_string_array(gf_type(GF_TYPE_UTF8), vals, nvals);
  gf_buffer *b = NULL;
  assert_int_equal(gfi_buffer_alloc(NULL, (size_t)n * 4, &b), GF_OK);
  memcpy(gf_buffer_mutable_data(b), codes, (size_t)n * 4);
  gf_buffer *bufs[3] = {NULL, b, NULL};
  gf_datatype dt = gf_type_dictionary(gf_type(GF_TYPE_UTF8));
  gf_array *da = NULL;
  assert_int_equal(gfi_array_make(NULL, dt, n, 0, 0, bufs, dv, &da, NULL), GF_OK);
  gf_array_release(dv);
  gf_field fd = {.name = "k", .type = dt, .nullable = false};
  gf_schema *sc = NULL;
  assert_int_equal(gf_schema_new(&fd, 1, &sc, NULL), GF_OK);
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_new(sc, &da, 1, NULL, &f, NULL), GF_OK);
  gf_array_release(da);
  gf_schema_release(sc);
  return f;
}

/* The one case the sink refuses instead of following gf_write_parquet: a
 * non-nullable dictionary field whose second batch's dictionary holds a
 * null value (gf_write_parquet, seeing the whole frame, writes the column
 * OPTIONAL; the sink decides REQUIRED from the schema, since its row groups
 * go out before the end). GF_EINVAL
 * naming the column and the batch's first row; no file left. */
static void sink_refuses_nulls_under_a_required_field(void **state) {
  (void)state;
  const char *clean[2] = {"a", "b"}, *holey[3] = {"a", NULL, "b"};
  const int32_t codes[4] = {0, 1, 0, 1}, codes2[4] = {0, 2, 0, 2};
  gf_frame *parts[2] = {required_dict_frame(clean, 2, codes, 4),
                        required_dict_frame(holey, 3, codes2, 4)};
  gf_parquet_write_options o;
  options(&o);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  gf_error err;
  assert_int_equal(run_sink(parts, 2, temp_path("req.parquet"), &o, &po, NULL, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "'k'"));
  assert_non_null(strstr(err.message, "row 4"));
  assert_int_equal(dir_entries(), 0);
  gf_frame_release(parts[0]);
  gf_frame_release(parts[1]);
}

typedef struct sink_sweep {
  gf_frame *parts[3];
  const char *path;
  gf_parquet_write_options wo;
  const uint8_t *want;
  size_t want_n;
} sink_sweep;

static gf_status sink_once(void *user, const gf_allocator *a) {
  sink_sweep *s = user;
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = 1;
  po.allocator = a;
  gf_error err;
  gf_status st = run_sink(s->parts, 3, s->path, &s->wo, &po, NULL, &err);
  if (st == GF_OK) {
    size_t n;
    uint8_t *b = read_all(s->path, &n);
    if (n != s->want_n || memcmp(b, s->want, n) != 0)
      fail_msg("%s: a different file", gft_sweep_at());
    free(b);
    unlink(s->path);
  } else if (dir_entries() != 0) {
    fail_msg("%s: a failed sink left a file in %s", gft_sweep_at(), tmpdir);
  }
  return st;
}

/* Every allocation failing, one-off and persistent: GF_ENOMEM, no file,
 * no leak, and the same bytes once it runs clean. */
static void sink_survives_every_allocation_failure(void **state) {
  (void)state;
  gf_datatype all[GFT_MAX_TYPES], t[16];
  int n = writable_types(all), k = 0;
  const gf_type_id ids[] = {GF_TYPE_BOOL, GF_TYPE_UINT32, GF_TYPE_FLOAT64, GF_TYPE_UTF8,
                            GF_TYPE_DECIMAL128, GF_TYPE_DICTIONARY};
  for (size_t w = 0; w < sizeof ids / sizeof ids[0]; w++)
    for (int i = 0; i < n; i++)
      if (all[i].id == ids[w]) {
        t[k++] = all[i];
        break;
      }
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, k, 50, 1, 0.2, 8, NULL, &f), GF_OK);
  sink_sweep s;
  memset(&s, 0, sizeof s);
  const int64_t sizes[3] = {13, 22, 15};
  split(f, sizes, 3, s.parts);
  s.path = temp_path("oom.parquet");
  gf_parquet_write_options_init(&s.wo);
  s.wo.row_group_rows = 20;
  s.wo.data_page_rows = 8;
  s.wo.dictionary_page_bytes = 40;
  if (gf_parquet_compression_available(GF_PARQUET_ZSTD)) s.wo.compression = GF_PARQUET_ZSTD;
  uint8_t *want = eager_bytes(f, &s.wo, &s.want_n);
  s.want = want;
  gf_failing_allocator *fa;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts counts = {0};
  gft_alloc_sweep("Parquet sink", fa, sink_once, &s, &counts);
  gft_sweep_print("Parquet sink", &counts);
  free(want);
  gf_failing_allocator_free(fa);
  for (int i = 0; i < 3; i++) gf_frame_release(s.parts[i]);
  gf_frame_release(f);
}

static int setup(void **state) {
  (void)state;
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return rmdir(tmpdir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sink_bytes_equal_the_eager_writer),
      cmocka_unit_test(sink_batches_with_their_own_dictionaries),
      cmocka_unit_test(sink_failures_leave_no_file),
      cmocka_unit_test(sink_refuses_nulls_under_a_required_field),
      cmocka_unit_test(sink_survives_every_allocation_failure),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
