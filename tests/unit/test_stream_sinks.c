/* Streaming sinks (src/exec/sink_ipc.c, sink_sort.c, the output side of
 * src/plan/plan_stream.c):
 * - the Arrow IPC file / stream sinks write the bytes gf_write_ipc_file /
 *   gf_write_ipc_stream write for the collected result (dictionary columns,
 *   empty batches, an empty result, compression), and a result whose
 *   dictionaries grow batch by batch reads back as the right frame;
 * - the sort sink, in memory and spilled (forced: everything spills), at
 *   1/2/3/8 workers and several windows, against a naive stable insertion
 *   sort written here (nulls with garbage under them, NaN, strings,
 *   dictionary keys, ties), collected and written to a file through
 *   finish_into;
 * - cancellation and a passed deadline leave no output and no spill file;
 *   an allocation-failure sweep; a full output (RLIMIT_FSIZE: EFBIG) is
 *   GF_EIO with no file left. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/array_internal.h"
#include "exec/stream_internal.h"
#include "gf_test_data.h"
#include "gf_test_garbage.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"
#include "ops/sort_join_internal.h"
#include "plan/plan_internal.h"

#define OKE(x)                                                              \
  do {                                                                      \
    gf_status s_ = (x);                                                     \
    if (s_ != GF_OK) fail_msg("%s -> %d: %s", #x, (int)s_, err.message);    \
  } while (0)

static char tmpdir[256];

/* A fresh directory for this process's outputs and spill files. */
static void make_tmpdir(void) {
  if (tmpdir[0]) return;
  const char *d = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/gf_ssinks_%d", d ? d : "/tmp", (int)getpid());
  mkdir(tmpdir, 0700);
}

static void tmp_path(char *p, size_t n, const char *name) {
  make_tmpdir();
  snprintf(p, n, "%s/%s", tmpdir, name);
}

/* Entries of tmpdir other than `keep` (NULL: none kept). */
static int stray_files(const char *keep) {
  DIR *d = opendir(tmpdir);
  if (!d) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' && (!keep || strcmp(e->d_name, keep) != 0)) n++;
  closedir(d);
  return n;
}

static void remove_all(void) {
  DIR *d = opendir(tmpdir);
  if (!d) return;
  struct dirent *e;
  char p[600];
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') {
      snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
      unlink(p);
    }
  closedir(d);
}

static uint8_t *slurp(const char *path, size_t *n) {
  FILE *fp = fopen(path, "rb");
  if (!fp) fail_msg("cannot open %s", path);
  fseek(fp, 0, SEEK_END);
  long len = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)len + 1);
  if (fread(b, 1, (size_t)len, fp) != (size_t)len) fail_msg("short read %s", path);
  fclose(fp);
  *n = (size_t)len;
  return b;
}

static void assert_same_file(const char *a, const char *b) {
  size_t na, nb;
  uint8_t *x = slurp(a, &na), *y = slurp(b, &nb);
  if (na != nb || memcmp(x, y, na) != 0)
    fail_msg("%s (%zu bytes) differs from %s (%zu bytes)", a, na, b, nb);
  free(x);
  free(y);
}

/* ---- data ------------------------------------------------------------------ */

/* The values of the test frame, kept here for the naive reference. */
typedef struct rows {
  int64_t n;
  int64_t *k;  bool *kv; /* int32 key, few values (ties) */
  double *x;   bool *xv; /* float64 with NaN */
  const char **s;        /* utf8, NULL = null */
  int64_t *d;  bool *dv; /* dictionary codes into dvals */
  int64_t *id;           /* row number */
} rows;

static const char *const svals[] = {"b", "a", "", "zz", "é", "ab", "a\xc3\xa9"};
static const char *const dvals[] = {"m", "c", "x", "a", "cc"};

/* A frame of n rows (k, x, s, d, id) in nb batches with garbage under its
 * nulls; r receives the values. */
static gf_frame *make_frame(int64_t n, int nb, uint64_t seed, rows *r) {
  r->n = n;
  r->k = calloc((size_t)n + 1, 8); r->kv = calloc((size_t)n + 1, 1);
  r->x = calloc((size_t)n + 1, 8); r->xv = calloc((size_t)n + 1, 1);
  r->s = calloc((size_t)n + 1, sizeof *r->s);
  r->d = calloc((size_t)n + 1, 8); r->dv = calloc((size_t)n + 1, 1);
  r->id = calloc((size_t)n + 1, 8);
  uint64_t st = seed;
  for (int64_t i = 0; i < n; i++) {
    uint64_t a = gft_rand_next(&st), b = gft_rand_next(&st);
    r->k[i] = (int64_t)(a % 7) - 3;
    r->kv[i] = (a >> 20) % 9 != 0;
    r->x[i] = (b % 23 == 0) ? NAN : (double)((int64_t)(b >> 40) % 50) / 4.0;
    r->xv[i] = (b >> 8) % 11 != 0;
    r->s[i] = (a >> 30) % 13 == 0 ? NULL : svals[(a >> 33) % 7];
    r->d[i] = (int64_t)((b >> 16) % 5);
    r->dv[i] = (b >> 24) % 10 != 0;
    r->id[i] = i;
  }
  gf_array *dict = gft_string_array(gf_type(GF_TYPE_UTF8), dvals, 5);
  gf_array **cols = calloc((size_t)nb * 5, sizeof *cols);
  int64_t at = 0;
  for (int b = 0; b < nb; b++) {
    int64_t m = n / nb + (b < n % nb ? 1 : 0);
    cols[b * 5 + 0] = gft_int64_array(gf_type(GF_TYPE_INT32), r->k + at, r->kv + at, m);
    cols[b * 5 + 1] = gft_double_array(gf_type(GF_TYPE_FLOAT64), r->x + at, r->xv + at, m);
    cols[b * 5 + 2] = gft_string_array(gf_type(GF_TYPE_UTF8), r->s + at, m);
    gf_array *codes = gft_int64_array(gf_type(GF_TYPE_INT32), r->d + at, r->dv + at, m);
    gf_buffer *bufs[3] = {gf_buffer_retain(codes->buffers[0]), gf_buffer_retain(codes->buffers[1]),
                          NULL};
    gf_error e0;
    if (gfi_array_make(NULL, gf_type_dictionary(gf_type(GF_TYPE_UTF8)), m, codes->offset,
                       codes->null_count, bufs, dict, &cols[b * 5 + 3], &e0) != GF_OK)
      fail_msg("dictionary array: %s", e0.message);
    gf_array_release(codes);
    cols[b * 5 + 4] = gft_int64_array(gf_type(GF_TYPE_INT64), r->id + at, NULL, m);
    at += m;
  }
  gf_array_release(dict);
  gf_field fields[5] = {{"k", gf_type(GF_TYPE_INT32), true},
                        {"x", gf_type(GF_TYPE_FLOAT64), true},
                        {"s", gf_type(GF_TYPE_UTF8), true},
                        {"d", gf_type_dictionary(gf_type(GF_TYPE_UTF8)), true},
                        {"id", gf_type(GF_TYPE_INT64), false}};
  gf_schema *sc = NULL;
  gf_error err;
  OKE(gf_schema_new(fields, 5, &sc, &err));
  gf_frame *f = NULL;
  OKE(gf_frame_new(sc, cols, nb, NULL, &f, &err));
  gf_schema_release(sc);
  for (int i = 0; i < nb * 5; i++) gf_array_release(cols[i]);
  free(cols);
  gf_frame *g = gft_garbage_frame(f, seed ^ 0x77);
  gf_frame_release(f);
  return g;
}

static void rows_free(rows *r) {
  free(r->k); free(r->kv); free(r->x); free(r->xv); free(r->s); free(r->d); free(r->dv);
  free(r->id);
}

/* ---- the naive reference ----------------------------------------------------- */

/* -1/0/1 comparing rows i and j by one key (nulls last unless
 * nulls_first, whatever the direction; NaN above every number). */
static int cmp_key(const rows *r, const gf_sort_key *k, int64_t i, int64_t j) {
  bool ni, nj;
  int c = 0;
  if (strcmp(k->column, "k") == 0) {
    ni = !r->kv[i]; nj = !r->kv[j];
    if (!ni && !nj) c = (r->k[i] > r->k[j]) - (r->k[i] < r->k[j]);
  } else if (strcmp(k->column, "x") == 0) {
    ni = !r->xv[i]; nj = !r->xv[j];
    if (!ni && !nj) {
      bool ai = isnan(r->x[i]), aj = isnan(r->x[j]);
      c = ai || aj ? (int)ai - (int)aj : (r->x[i] > r->x[j]) - (r->x[i] < r->x[j]);
    }
  } else if (strcmp(k->column, "s") == 0) {
    ni = !r->s[i]; nj = !r->s[j];
    if (!ni && !nj) c = strcmp(r->s[i], r->s[j]);
  } else {
    ni = !r->dv[i]; nj = !r->dv[j];
    if (!ni && !nj) c = strcmp(dvals[r->d[i]], dvals[r->d[j]]);
  }
  if (ni || nj) {
    if (ni && nj) return 0;
    return (ni ? 1 : -1) * (k->nulls_first ? -1 : 1);
  }
  c = (c > 0) - (c < 0);
  return k->descending ? -c : c;
}

/* The stable sorted order of the rows kept by `keep` (NULL: all), by
 * insertion: *m rows. */
static int64_t *naive_sort(const rows *r, const gf_sort_key *keys, int nk, const bool *keep,
                           int64_t *m) {
  int64_t *p = malloc(sizeof *p * (size_t)(r->n + 1)), n = 0;
  for (int64_t i = 0; i < r->n; i++) {
    if (keep && !keep[i]) continue;
    int64_t at = n;
    while (at > 0) {
      int c = 0;
      for (int q = 0; q < nk && c == 0; q++) c = cmp_key(r, &keys[q], p[at - 1], i);
      if (c <= 0) break; /* equal keys keep input order */
      p[at] = p[at - 1];
      at--;
    }
    p[at] = i;
    n++;
  }
  *m = n;
  return p;
}

/* Checks that `got` holds rows order[0..m) of r, every column. */
static void check_rows(const gf_frame *got, const rows *r, const int64_t *order, int64_t m,
                       const char *what) {
  if (gf_frame_num_rows(got) != m)
    fail_msg("%s: %lld rows, want %lld", what, (long long)gf_frame_num_rows(got), (long long)m);
  int64_t at = 0;
  for (int b = 0; b < gf_frame_num_batches(got); b++) {
    const gf_array *k = gf_frame_column(got, b, 0), *x = gf_frame_column(got, b, 1),
                   *s = gf_frame_column(got, b, 2), *d = gf_frame_column(got, b, 3),
                   *id = gf_frame_column(got, b, 4);
    for (int64_t i = 0; i < gf_frame_batch_rows(got, b); i++, at++) {
      int64_t w = order[at];
      if (gf_array_get_int64(id, i) != w)
        fail_msg("%s: row %lld is input row %lld, want %lld", what, (long long)at,
                 (long long)gf_array_get_int64(id, i), (long long)w);
      bool ok = gf_array_is_null(k, i) == !r->kv[w] &&
                (!r->kv[w] || gf_array_get_int64(k, i) == r->k[w]);
      double xv = gf_array_get_double(x, i);
      ok = ok && gf_array_is_null(x, i) == !r->xv[w] &&
           (!r->xv[w] || (isnan(r->x[w]) ? isnan(xv) : xv == r->x[w]));
      int64_t len = 0;
      const char *sv = gf_array_is_null(s, i) ? NULL : gf_array_get_bytes(s, i, &len);
      ok = ok && (sv == NULL) == (r->s[w] == NULL) &&
           (!sv || (len == (int64_t)strlen(r->s[w]) && memcmp(sv, r->s[w], (size_t)len) == 0));
      ok = ok && gf_array_is_null(d, i) == !r->dv[w];
      if (ok && r->dv[w]) {
        int64_t code = gf_array_get_int64(d, i);
        const char *dv = gf_array_get_bytes(d->dictionary, code, &len);
        ok = len == (int64_t)strlen(dvals[r->d[w]]) && memcmp(dv, dvals[r->d[w]], (size_t)len) == 0;
      }
      if (!ok) fail_msg("%s: row %lld (input row %lld): a value differs", what, (long long)at,
                        (long long)w);
    }
  }
}

/* ---- running plans ------------------------------------------------------------- */

static gf_plan *sort_plan(gf_frame *f, const char *pred, const gf_sort_key *keys, int nk) {
  gf_error err;
  gf_plan *src = NULL, *fl = NULL, *s = NULL;
  OKE(gf_plan_from_frame(f, &src, &err));
  if (pred) {
    gf_expr *e = NULL;
    OKE(gf_expr_parse(pred, &e, &err));
    OKE(gf_plan_filter(src, e, &fl, &err));
    gf_expr_release(e);
    gf_plan_release(src);
    src = fl;
  }
  if (!keys) return src;
  OKE(gf_plan_sort(src, keys, nk, &s, &err));
  gf_plan_release(src);
  return s;
}

/* Streams p (frame source forced) into `dest` or a collected frame. */
static gf_status stream(const gf_plan *p, int workers, int64_t window,
                        const gf_parallel_options *base, const gfi_out_spec *dest,
                        gf_frame **out, gf_error *err) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  if (base) o = *base;
  o.num_workers = workers;
  o.temp_directory = tmpdir;
  gf_plan *opt = NULL;
  gf_status st = gf_plan_optimize(p, GF_PLAN_RULES_ALL, &opt, err);
  if (st != GF_OK) return st;
  bool handled = false;
  gf_frame *res = NULL;
  st = gfi_plan_stream(opt, &o, window, true, dest, &res, &handled, err);
  gf_plan_release(opt);
  if (st == GF_OK && !handled) fail_msg("the plan did not stream");
  if (out) *out = res;
  else gf_frame_release(res);
  return st;
}

/* ---- IPC sinks ----------------------------------------------------------------- */

/* Pass-through and sorted results written by the IPC sinks have the bytes
 * of gf_write_ipc_file / _stream of the eager result. */
static void test_ipc_sink_bytes(void **state) {
  (void)state;
  rows r;
  gf_frame *f = make_frame(20000, 3, 11, &r);
  gf_error err;
  char got[300], want[300];
  tmp_path(got, sizeof got, "got.arrow");
  tmp_path(want, sizeof want, "want.arrow");
  gf_sort_key keys[2] = {{"s", true, true}, {"x", false, false}};
  const char *preds[] = {NULL, "k > 0", "k > 100" /* empty result */};
  gf_ipc_compression comps[] = {GF_IPC_COMPRESSION_NONE, GF_IPC_COMPRESSION_LZ4_FRAME,
                                GF_IPC_COMPRESSION_ZSTD};
  for (int ci = 0; ci < 3; ci++) {
    if (!gf_ipc_compression_available(comps[ci])) continue;
    gf_ipc_write_options wo;
    gf_ipc_write_options_init(&wo);
    wo.compression = comps[ci];
    for (int pi = 0; pi < 3; pi++)
      for (int sorted = 0; sorted < 2; sorted++)
        for (int file = 0; file < 2; file++) {
          gf_plan *p = sort_plan(f, preds[pi], sorted ? keys : NULL, 2);
          gfi_out_spec dest = {file ? GFI_OUT_IPC_FILE : GFI_OUT_IPC_STREAM, got, -1, NULL, &wo,
                               NULL};
          int64_t windows[] = {0, 777, 65536};
          for (int wi = 0; wi < 3; wi++) {
            unlink(got);
            OKE(stream(p, 1 + wi, windows[wi], NULL, &dest, NULL, &err));
            /* The same run collected (its batches are the windows'). */
            gf_frame *c = NULL, *e = NULL, *back = NULL;
            OKE(stream(p, 1 + wi, windows[wi], NULL, NULL, &c, &err));
            if (file) OKE(gf_write_ipc_file(c, want, &wo, &err));
            else OKE(gf_write_ipc_stream(c, want, &wo, &err));
            assert_same_file(got, want);
            /* And the rows are the eager run's. */
            OKE(gf_plan_collect(p, NULL, &e, &err));
            OKE(gf_read_ipc(got, NULL, &back, &err));
            assert_true(gf_frame_equals(back, e));
            gf_frame_release(back);
            gf_frame_release(c);
            gf_frame_release(e);
          }
          gf_plan_release(p);
        }
  }
  /* A stream to a descriptor. */
  gf_plan *p = sort_plan(f, "x > 2", keys, 2);
  gf_frame *e = NULL;
  OKE(stream(p, 2, 1000, NULL, NULL, &e, &err));
  OKE(gf_write_ipc_stream(e, want, NULL, &err));
  FILE *fp = fopen(got, "wb");
  gfi_out_spec dest = {GFI_OUT_IPC_STREAM, NULL, fileno(fp), NULL, NULL, NULL};
  OKE(stream(p, 2, 1000, NULL, &dest, NULL, &err));
  fclose(fp);
  assert_same_file(got, want);
  gf_frame_release(e);
  gf_plan_release(p);
  unlink(got);
  unlink(want);
  assert_int_equal(stray_files(NULL), 0);
  gf_frame_release(f);
  rows_free(&r);
}

/* The sink API directly: empty batches are dropped; dictionaries that grow
 * from batch to batch (each a prefix of the next, as the CSV source hands
 * them out) are written after the batches (file) or as deltas (stream),
 * and read back as the whole frame. */
static void test_ipc_sink_growing_dictionaries(void **state) {
  (void)state;
  gf_error err;
  const char *all[] = {"p", "q", "r", "s", "t", "u"};
  gf_field fld[2] = {{"d", gf_type_dictionary(gf_type(GF_TYPE_UTF8)), true},
                     {"v", gf_type(GF_TYPE_INT64), true}};
  gf_schema *sc = NULL;
  OKE(gf_schema_new(fld, 2, &sc, &err));
  /* Batch b uses dictionary all[0..2+2b) and codes up to its end. */
  gf_frame *batches[4];
  int64_t codes[4][3] = {{0, 1, 0}, {0, 0, 0}, {3, 2, 1}, {5, 4, 0}};
  int64_t ns[4] = {3, 0, 3, 3};
  for (int b = 0; b < 4; b++) {
    int64_t dn[4] = {2, 2, 4, 6};
    gf_array *dict = gft_string_array(gf_type(GF_TYPE_UTF8), all, dn[b]);
    gf_array *c = gft_int64_array(gf_type(GF_TYPE_INT32), codes[b], NULL, ns[b]);
    gf_buffer *bufs[3] = {NULL, gf_buffer_retain(c->buffers[1]), NULL};
    gf_array *cols[2] = {NULL, NULL};
    OKE(gfi_array_make(NULL, fld[0].type, ns[b], c->offset, 0, bufs, dict, &cols[0], &err));
    int64_t v[3] = {b * 10, b * 10 + 1, b * 10 + 2};
    cols[1] = gft_int64_array(gf_type(GF_TYPE_INT64), v, NULL, ns[b]);
    OKE(gf_frame_new(sc, cols, 1, NULL, &batches[b], &err));
    gf_array_release(cols[0]);
    gf_array_release(cols[1]);
    gf_array_release(c);
    gf_array_release(dict);
  }
  char path[300];
  tmp_path(path, sizeof path, "grow.arrow");
  for (int file = 0; file < 2; file++) {
    gf_parallel_options po;
    gf_parallel_options_init(&po);
    gfi_sink *k = NULL;
    if (file) OKE(gfi_sink_ipc_file(sc, path, NULL, &po, &k, &err));
    else OKE(gfi_sink_ipc_stream(sc, path, -1, NULL, &po, &k, &err));
    int64_t pos = 0;
    for (int b = 0; b < 4; b++) {
      OKE(k->push(k, batches[b], pos, &err));
      pos += ns[b];
    }
    gf_frame *none = NULL;
    OKE(k->finish(k, &none, &err));
    assert_null(none);
    k->free(k);
    gf_frame *back = NULL;
    OKE(gf_read_ipc(path, NULL, &back, &err));
    assert_int_equal(gf_frame_num_rows(back), 9);
    assert_int_equal(gf_frame_num_batches(back), 3); /* the empty one dropped */
    const char *want_d[9] = {"p", "q", "p", "s", "r", "q", "u", "t", "p"};
    int64_t want_v[9] = {0, 1, 2, 20, 21, 22, 30, 31, 32};
    int64_t at = 0;
    for (int b = 0; b < 3; b++)
      for (int64_t i = 0; i < 3; i++, at++) {
        const gf_array *d = gf_frame_column(back, b, 0);
        int64_t len;
        const char *s = gf_array_get_bytes(d->dictionary, gf_array_get_int64(d, i), &len);
        if (len != 1 || s[0] != want_d[at][0]) fail_msg("file=%d row %lld: wrong value", file,
                                                        (long long)at);
        assert_int_equal(gf_array_get_int64(gf_frame_column(back, b, 1), i), want_v[at]);
      }
    gf_frame_release(back);
  }
  /* free before finish removes the file being written. */
  unlink(path);
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  gfi_sink *k = NULL;
  OKE(gfi_sink_ipc_file(sc, path, NULL, &po, &k, &err));
  OKE(k->push(k, batches[0], 0, &err));
  k->free(k);
  assert_int_equal(access(path, F_OK), -1);
  assert_int_equal(stray_files(NULL), 0);
  for (int b = 0; b < 4; b++) gf_frame_release(batches[b]);
  gf_schema_release(sc);
}

/* ---- the sort sink ----------------------------------------------------------------- */

static void test_sort_sink_naive(void **state) {
  (void)state;
  rows r;
  int64_t n = 6000;
  gf_frame *f = make_frame(n, 4, 23, &r);
  gf_sort_key ks[][2] = {
      {{"x", false, false}, {NULL, false, false}},
      {{"s", true, true}, {"k", false, false}},
      {{"d", false, false}, {"x", true, false}},
      {{"k", false, true}, {NULL, false, false}},
  };
  int nks[] = {1, 2, 2, 1};
  bool *keep = malloc((size_t)n);
  for (int64_t i = 0; i < n; i++) keep[i] = r.kv[i] && r.k[i] != 0;
  int workers[] = {1, 2, 3, 8};
  int64_t windows[] = {0, 1, 333, 4096};
  gf_error err;
  for (int q = 0; q < 4; q++)
    for (int filt = 0; filt < 2; filt++) {
      int64_t m = 0;
      int64_t *order = naive_sort(&r, ks[q], nks[q], filt ? keep : NULL, &m);
      gf_plan *p = sort_plan(f, filt ? "k != 0" : NULL, ks[q], nks[q]);
      for (int spill = 0; spill < 3; spill++) {
        /* 0: in memory; 1: the input spilled; 2: and the external sort's
         * runs forced tiny (its merge runs). */
        gfi_sink_sort_test_spill(spill > 0);
        gfi_sort_test_spill(spill == 2 ? 700 : 0, spill == 2 ? 128 : 0);
        for (int wi = 0; wi < 4; wi++) {
          int64_t window = windows[(wi + q + spill) % 4];
          if (window == 1 && spill) window = 97; /* a 1-row window of 6000 rows is slow */
          gf_frame *got = NULL;
          OKE(stream(p, workers[wi], window, NULL, NULL, &got, &err));
          char what[160];
          snprintf(what, sizeof what, "keys %d filter %d spill %d workers %d window %lld", q, filt,
                   spill, workers[wi], (long long)window);
          check_rows(got, &r, order, m, what);
          gf_frame_release(got);
        }
      }
      gfi_sink_sort_test_spill(false);
      gfi_sort_test_spill(0, 0);
      free(order);
      gf_plan_release(p);
    }
  assert_int_equal(stray_files(NULL), 0);
  free(keep);
  gf_frame_release(f);
  rows_free(&r);
}

/* A CSV file sorted under a real memory limit small enough that the sort
 * sink spills its input (no test hook; 4 MiB): the row order of a naive stable
 * sort at 1/2/3/8 workers and several windows, nothing left behind. */
static void test_sort_csv_limit(void **state) {
  (void)state;
  static const char *const cs[] = {"b", "a", "zz", "ab", "q", "é"};
  rows r;
  memset(&r, 0, sizeof r);
  int64_t n = 30000;
  r.n = n;
  r.k = calloc((size_t)n, 8); r.kv = calloc((size_t)n, 1);
  r.x = calloc((size_t)n, 8); r.xv = calloc((size_t)n, 1);
  r.s = calloc((size_t)n, sizeof *r.s);
  char path[300];
  tmp_path(path, sizeof path, "lim.csv");
  FILE *fp = fopen(path, "w");
  fprintf(fp, "k,x,s,id\n");
  uint64_t st = 97;
  for (int64_t i = 0; i < n; i++) {
    uint64_t a = gft_rand_next(&st);
    r.k[i] = (int64_t)(a % 9) - 4;
    r.kv[i] = (a >> 20) % 8 != 0;
    r.x[i] = (double)((int64_t)(a >> 30) % 400) / 8.0;
    r.xv[i] = (a >> 12) % 10 != 0;
    r.s[i] = (a >> 40) % 11 == 0 ? NULL : cs[(a >> 44) % 6];
    char kb[32] = "", xb[40] = "";
    if (r.kv[i]) snprintf(kb, sizeof kb, "%lld", (long long)r.k[i]);
    if (r.xv[i]) snprintf(xb, sizeof xb, "%.17g", r.x[i]);
    fprintf(fp, "%s,%s,%s,%lld\n", kb, xb, r.s[i] ? r.s[i] : "", (long long)i);
  }
  fclose(fp);
  gf_error err;
  gf_plan *src = NULL, *p = NULL;
  OKE(gf_plan_scan_csv(path, NULL, &src, &err));
  gf_sort_key keys[2] = {{"s", false, true}, {"x", true, false}};
  OKE(gf_plan_sort(src, keys, 2, &p, &err));
  int64_t m = 0;
  int64_t *order = naive_sort(&r, keys, 2, NULL, &m);
  int workers[] = {1, 2, 3, 8};
  int64_t windows[] = {64 << 10, 100000, 250000, 64 << 10};
  int64_t before = gfi_sink_sort_spills();
  for (int wi = 0; wi < 4; wi++) {
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    o.memory_limit = (int64_t)4 << 20;
    gf_frame *got = NULL;
    OKE(stream(p, workers[wi], windows[wi], &o, NULL, &got, &err));
    int64_t at = 0;
    for (int b = 0; b < gf_frame_num_batches(got); b++) {
      const gf_array *id = gf_frame_column(got, b, 3);
      for (int64_t i = 0; i < gf_frame_batch_rows(got, b); i++, at++)
        if (gf_array_get_int64(id, i) != order[at])
          fail_msg("workers %d: row %lld is input row %lld, want %lld", workers[wi],
                   (long long)at, (long long)gf_array_get_int64(id, i), (long long)order[at]);
    }
    assert_int_equal(at, m);
    gf_frame_release(got);
  }
  assert_int_equal(gfi_sink_sort_spills() - before, 4);
  unlink(path);
  assert_int_equal(stray_files(NULL), 0);
  free(order);
  gf_plan_release(p);
  gf_plan_release(src);
  free(r.k); free(r.kv); free(r.x); free(r.xv); free(r.s);
}

/* finish_into a file: the bytes of gf_write_ipc_file of gf_sort's result,
 * spilled or not, and an independent check of the rows read back. */
static void test_sort_into_file(void **state) {
  (void)state;
  rows r;
  gf_frame *f = make_frame(5000, 2, 31, &r);
  gf_sort_key keys[2] = {{"d", true, false}, {"x", false, true}};
  int64_t m = 0;
  int64_t *order = naive_sort(&r, keys, 2, NULL, &m);
  gf_plan *p = sort_plan(f, NULL, keys, 2);
  gf_error err;
  char got[300], want[300];
  tmp_path(got, sizeof got, "sorted.arrow");
  tmp_path(want, sizeof want, "sorted_want.arrow");
  gf_frame *e = NULL;
  OKE(gf_sort(f, keys, 2, 0, NULL, &e, &err));
  OKE(gf_write_ipc_file(e, want, NULL, &err));
  gf_frame_release(e);
  for (int spill = 0; spill < 2; spill++) {
    gfi_sink_sort_test_spill(spill);
    gfi_out_spec dest = {GFI_OUT_IPC_FILE, got, -1, NULL, NULL, NULL};
    OKE(stream(p, 1 + spill * 2, 1000, NULL, &dest, NULL, &err));
    assert_same_file(got, want);
    gf_frame *back = NULL;
    OKE(gf_read_ipc_file(got, NULL, &back, &err));
    check_rows(back, &r, order, m, "read back");
    gf_frame_release(back);
    assert_int_equal(stray_files("sorted_want.arrow") <= 1, 1);
    unlink(got);
  }
  gfi_sink_sort_test_spill(false);
  /* The public plan sinks take the streamed path too. */
  gf_plan_options po;
  gf_plan_options_init(&po);
  OKE(gf_plan_sink_ipc(p, got, NULL, &po, &err));
  assert_same_file(got, want);
  unlink(got);
  unlink(want);
  assert_int_equal(stray_files(NULL), 0);
  free(order);
  gf_plan_release(p);
  gf_frame_release(f);
  rows_free(&r);
}

/* ---- failures ------------------------------------------------------------------------ */

/* An allocator that requests cancellation at its Nth allocation: a cancel
 * arriving mid-run, at a deterministic point. */
typedef struct cancel_alloc {
  gf_allocator self;
  gf_cancel *tok;
  atomic_llong n, at;
} cancel_alloc;

static void *ca_alloc(void *ctx, size_t size, size_t align) {
  cancel_alloc *c = ctx;
  if (atomic_fetch_add(&c->n, 1) + 1 == atomic_load(&c->at)) gf_cancel_request(c->tok);
  const gf_allocator *d = gf_default_allocator();
  return d->allocate(d->ctx, size, align);
}
static void *ca_realloc(void *ctx, void *p, size_t os, size_t ns, size_t align) {
  (void)ctx;
  const gf_allocator *d = gf_default_allocator();
  return d->reallocate(d->ctx, p, os, ns, align);
}
static void ca_free(void *ctx, void *p, size_t size, size_t align) {
  (void)ctx;
  const gf_allocator *d = gf_default_allocator();
  d->deallocate(d->ctx, p, size, align);
}

/* A cancelled run and a passed deadline leave no output and no spill
 * file, spilled or not. */
static void test_stop_leaves_nothing(void **state) {
  (void)state;
  rows r;
  gf_frame *f = make_frame(30000, 3, 41, &r);
  gf_sort_key keys[1] = {{"x", false, false}};
  gf_plan *p = sort_plan(f, "k != 1", keys, 1);
  gf_error err;
  char got[300];
  tmp_path(got, sizeof got, "stopped.arrow");
  gfi_out_spec dest = {GFI_OUT_IPC_FILE, got, -1, NULL, NULL, NULL};
  int cancelled = 0;
  for (int spill = 0; spill < 2; spill++) {
    gfi_sink_sort_test_spill(spill);
    /* Count the allocations of a whole run, then cancel at points through
     * it: GF_ECANCELED (or done, past the last check), nothing left. */
    cancel_alloc ca = {{ca_alloc, ca_realloc, ca_free, NULL}, NULL, 0, 0};
    ca.self.ctx = &ca;
    gf_parallel_options co;
    gf_parallel_options_init(&co);
    co.allocator = &ca.self;
    OKE(gf_cancel_new(&ca.tok, &err));
    co.cancel = ca.tok;
    OKE(stream(p, 2, 1500, &co, &dest, NULL, &err));
    unlink(got);
    int64_t total = atomic_load(&ca.n);
    assert_true(total > 100);
    for (int i = 1; i <= 9; i++) {
      gf_cancel_free(ca.tok);
      OKE(gf_cancel_new(&ca.tok, &err));
      co.cancel = ca.tok;
      atomic_store(&ca.n, 0);
      atomic_store(&ca.at, total * i / 10);
      gf_status st = stream(p, 2, 1500, &co, &dest, NULL, &err);
      if (st == GF_OK) {
        unlink(got);
        continue;
      }
      assert_int_equal(st, GF_ECANCELED);
      cancelled++;
      assert_int_equal(access(got, F_OK), -1);
      assert_int_equal(stray_files(NULL), 0);
    }
    gf_cancel_free(ca.tok);
    gf_parallel_options o;
    gf_parallel_options_init(&o);
    o.timeout_ms = 1;
    usleep(3000);
    assert_int_equal(stream(p, 2, 1500, &o, &dest, NULL, &err), GF_ETIMEDOUT);
    assert_int_equal(access(got, F_OK), -1);
    assert_int_equal(stray_files(NULL), 0);
  }
  gfi_sink_sort_test_spill(false);
  assert_true(cancelled >= 6);
  gf_plan_release(p);
  gf_frame_release(f);
  rows_free(&r);
}

typedef struct sweep_ctx {
  const gf_plan *p;
  const char *got, *want;
} sweep_ctx;

static gf_status sweep_run(void *user, const gf_allocator *a) {
  sweep_ctx *s = user;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.allocator = a;
  gf_error err;
  gfi_out_spec dest = {GFI_OUT_IPC_FILE, s->got, -1, NULL, NULL, NULL};
  unlink(s->got);
  gf_status st = stream(s->p, 2, 400, &o, &dest, NULL, &err);
  if (st != GF_OK) {
    if (access(s->got, F_OK) == 0) fail_msg("%s: a failed run left its output", gft_sweep_at());
    if (stray_files("sweep_want.arrow") != 0) fail_msg("%s: a failed run left a file", gft_sweep_at());
    return st;
  }
  assert_same_file(s->got, s->want);
  return GF_OK;
}

static void test_alloc_sweep(void **state) {
  (void)state;
  rows r;
  gf_frame *f = make_frame(1500, 2, 53, &r);
  gf_sort_key keys[2] = {{"s", false, false}, {"k", true, false}};
  gf_plan *p = sort_plan(f, "x > 1", keys, 2);
  gf_error err;
  char got[300], want[300];
  tmp_path(got, sizeof got, "sweep.arrow");
  tmp_path(want, sizeof want, "sweep_want.arrow");
  gf_frame *e = NULL;
  OKE(gf_plan_collect(p, NULL, &e, &err));
  OKE(gf_write_ipc_file(e, want, NULL, &err));
  gf_frame_release(e);
  sweep_ctx s = {p, got, want};
  gf_failing_allocator *fa = NULL;
  OKE(gf_failing_allocator_new(NULL, &fa, &err));
  gft_sweep_counts acc;
  for (int spill = 0; spill < 2; spill++) {
    memset(&acc, 0, sizeof acc);
    gfi_sink_sort_test_spill(spill);
    gft_alloc_sweep(spill ? "sort sink (spilled) into an IPC file" : "sort sink into an IPC file",
                    fa, sweep_run, &s, &acc);
    gft_sweep_print(spill ? "sort sink (spilled) into an IPC file" : "sort sink into an IPC file",
                    &acc);
  }
  gfi_sink_sort_test_spill(false);
  gf_failing_allocator_free(fa);
  unlink(got);
  unlink(want);
  assert_int_equal(stray_files(NULL), 0);
  gf_plan_release(p);
  gf_frame_release(f);
  rows_free(&r);
}

/* A full output: writes past RLIMIT_FSIZE fail (EFBIG, SIGXFSZ ignored) as
 * on a full disk: GF_EIO naming the file, nothing left. */
static void test_output_full(void **state) {
  (void)state;
  rows r;
  gf_frame *f = make_frame(40000, 2, 61, &r);
  gf_sort_key keys[1] = {{"k", false, false}};
  gf_plan *p = sort_plan(f, NULL, keys, 1);
  gf_error err;
  char got[300];
  tmp_path(got, sizeof got, "full.arrow");
  struct rlimit old;
  getrlimit(RLIMIT_FSIZE, &old);
  void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
  for (int kind = 0; kind < 2; kind++) {
    gfi_out_spec dest = {kind ? GFI_OUT_IPC_STREAM : GFI_OUT_IPC_FILE, got, -1, NULL, NULL, NULL};
    struct rlimit lim = old;
    lim.rlim_cur = 100000;
    setrlimit(RLIMIT_FSIZE, &lim);
    gf_status st = stream(p, 2, 5000, NULL, &dest, NULL, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    assert_int_equal(st, GF_EIO);
    assert_non_null(strstr(err.message, "full.arrow"));
    assert_int_equal(access(got, F_OK), -1);
    assert_int_equal(stray_files(NULL), 0);
  }
  signal(SIGXFSZ, prev);
  gf_plan_release(p);
  gf_frame_release(f);
  rows_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ipc_sink_bytes),
      cmocka_unit_test(test_ipc_sink_growing_dictionaries),
      cmocka_unit_test(test_sort_sink_naive),
      cmocka_unit_test(test_sort_csv_limit),
      cmocka_unit_test(test_sort_into_file),
      cmocka_unit_test(test_stop_leaves_nothing),
      cmocka_unit_test(test_alloc_sweep),
      cmocka_unit_test(test_output_full),
  };
  make_tmpdir();
  if (getenv("GF_SINKS_TEST")) cmocka_set_test_filter(getenv("GF_SINKS_TEST"));
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  remove_all();
  rmdir(tmpdir);
  return rc;
}
