/* Streaming join (src/exec/join_stream.c, src/plan/plan_stream_join.c):
 * random tables with int64 and utf8 keys (duplicates, nulls with garbage
 * under them, keys without a partner on either side, empty batches), every
 * join kind, at 1/2/3/8 workers and several probe windows (tiny ones, ones
 * that do not divide the input), checked row by row against a naive
 * nested-loop join written here and value for value against the eager
 * gf_join; the CSV path (left file streamed window by window, output to
 * the CSV file sink) byte for byte against gf_join's output written by
 * gf_write_csv; cancellation and a memory limit the build side does not
 * fit (clean error, no output file left); allocation-failure sweeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "exec/join_stream.h"
#include "exec/spill_file.h"
#include "gf_test_data.h"
#include "gf_test_garbage.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"
#include "plan/plan_stream_internal.h"

#define OKE(x)                                                              \
  do {                                                                      \
    gf_status s_ = (x);                                                     \
    if (s_ != GF_OK) fail_msg("%s -> %d: %s", #x, (int)s_, err.message);    \
  } while (0)

static const gf_join_kind KINDS[] = {GF_JOIN_INNER, GF_JOIN_LEFT, GF_JOIN_RIGHT,
                                     GF_JOIN_FULL,  GF_JOIN_SEMI, GF_JOIN_ANTI};

static void tmp_path(char *p, size_t n, const char *name) {
  const char *dir = getenv("TMPDIR");
  snprintf(p, n, "%s/gf_jstream_%d_%s", dir ? dir : "/tmp", (int)getpid(), name);
}

/* ---- data ------------------------------------------------------------------ */

/* One side: k int64 key in [0, nkeys) (~10% null), s utf8 key of "s<k % 5>"
 * (~5% null), and a row id column `id` (left: 1000 + row, right: 500000 +
 * row; never null) by which the checks find each output row's inputs; in
 * `nb` batches (batch 1 empty when nb > 2), then its garbage twin. The
 * keys of arrays km/sm (valid flags kv/sv) are returned for the naive
 * join. */
typedef struct side {
  int64_t n;
  int64_t *k;
  bool *kv;
  int *s;
  bool *sv;
  gf_frame *f;
} side;

static void side_make(side *d, int64_t n, int nb, int64_t nkeys, int64_t id0, const char *idname,
                      uint64_t seed) {
  d->n = n;
  d->k = calloc((size_t)n + 1, sizeof *d->k);
  d->kv = calloc((size_t)n + 1, sizeof *d->kv);
  d->s = calloc((size_t)n + 1, sizeof *d->s);
  d->sv = calloc((size_t)n + 1, sizeof *d->sv);
  uint64_t st = seed;
  for (int64_t i = 0; i < n; i++) {
    d->k[i] = (int64_t)(gft_rand_next(&st) % (uint64_t)nkeys);
    d->kv[i] = gft_rand_next(&st) % 10 != 0;
    d->s[i] = (int)(gft_rand_next(&st) % 5);
    d->sv[i] = gft_rand_next(&st) % 20 != 0;
  }
  gf_array **cols = calloc((size_t)nb * 3, sizeof *cols);
  static const char *const names[] = {"s0", "s1", "s2", "s3", "s4"};
  int64_t at = 0;
  for (int b = 0; b < nb; b++) {
    int64_t m = b == nb - 1 ? n - at : (nb > 2 && b == 1) ? 0 : n / nb;
    if (at + m > n) m = n - at;
    int64_t *ids = calloc((size_t)m + 1, sizeof *ids);
    const char **sp = calloc((size_t)m + 1, sizeof *sp);
    for (int64_t i = 0; i < m; i++) {
      ids[i] = id0 + at + i;
      sp[i] = d->sv[at + i] ? names[d->s[at + i]] : NULL;
    }
    cols[b * 3 + 0] = gft_int64_array(gf_type(GF_TYPE_INT64), d->k + at, d->kv + at, m);
    cols[b * 3 + 1] = gft_string_array(gf_type(GF_TYPE_UTF8), sp, m);
    cols[b * 3 + 2] = gft_int64_array(gf_type(GF_TYPE_INT64), ids, NULL, m);
    free(ids);
    free(sp);
    at += m;
  }
  gf_field fields[3] = {{"k", gf_type(GF_TYPE_INT64), true},
                        {"s", gf_type(GF_TYPE_UTF8), true},
                        {idname, gf_type(GF_TYPE_INT64), false}};
  gf_schema *sc = NULL;
  gf_error err;
  OKE(gf_schema_new(fields, 3, &sc, &err));
  gf_frame *f = NULL;
  OKE(gf_frame_new(sc, cols, nb, NULL, &f, &err));
  gf_schema_release(sc);
  for (int i = 0; i < nb * 3; i++) gf_array_release(cols[i]);
  free(cols);
  d->f = gft_garbage_frame(f, seed ^ 0xfeed);
  gf_frame_release(f);
}

static void side_free(side *d) {
  free(d->k);
  free(d->kv);
  free(d->s);
  free(d->sv);
  gf_frame_release(d->f);
}

/* ---- the naive join ------------------------------------------------------- */

/* Whether left row i and right row j match on keys k (and s when two). */
static bool match(const side *l, const side *r, int64_t i, int64_t j, int nk) {
  if (!l->kv[i] || !r->kv[j] || l->k[i] != r->k[j]) return false;
  if (nk == 2 && (!l->sv[i] || !r->sv[j] || l->s[i] != r->s[j])) return false;
  return true;
}

/* gf_join's documented order by nested loops: pairs by left row, each
 * left row's matches by right row (left/full: (l, -1) without a match),
 * then right/full: right rows without a match. Pairs in *pl / *pr. */
static int64_t naive(const side *l, const side *r, int nk, gf_join_kind how, int64_t **pl,
                     int64_t **pr) {
  int64_t cap = l->n * r->n + l->n + r->n + 1, m = 0;
  int64_t *a = malloc(sizeof *a * (size_t)cap), *b = malloc(sizeof *b * (size_t)cap);
  bool *rm = calloc((size_t)r->n + 1, 1);
  for (int64_t i = 0; i < l->n; i++) {
    int64_t c = 0;
    for (int64_t j = 0; j < r->n; j++)
      if (match(l, r, i, j, nk)) {
        c++;
        rm[j] = true;
        if (how != GF_JOIN_SEMI && how != GF_JOIN_ANTI) {
          a[m] = i;
          b[m++] = j;
        }
      }
    if ((how == GF_JOIN_SEMI && c > 0) || (how == GF_JOIN_ANTI && c == 0) ||
        ((how == GF_JOIN_LEFT || how == GF_JOIN_FULL) && c == 0)) {
      a[m] = i;
      b[m++] = -1;
    }
  }
  if (how == GF_JOIN_RIGHT || how == GF_JOIN_FULL)
    for (int64_t j = 0; j < r->n; j++)
      if (!rm[j]) {
        a[m] = -1;
        b[m++] = j;
      }
  free(rm);
  *pl = a;
  *pr = b;
  return m;
}

/* Checks `got` row by row against the naive pairs via the id columns. */
static void check_naive(const gf_frame *got, const side *l, const side *r, int nk, gf_join_kind how,
                        const char *what) {
  int64_t *pl, *pr;
  int64_t m = naive(l, r, nk, how, &pl, &pr);
  if (gf_frame_num_rows(got) != m)
    fail_msg("%s: %lld rows, the naive join %lld", what, (long long)gf_frame_num_rows(got),
             (long long)m);
  gf_error err;
  gf_frame *one = NULL;
  OKE(gf_frame_combine_batches(got, NULL, &one, &err));
  const gf_schema *sc = gf_frame_schema(one);
  int lc = gf_schema_find(sc, "lid"), rc = gf_schema_find(sc, "rid");
  assert_true(lc >= 0);
  bool with_right = how != GF_JOIN_SEMI && how != GF_JOIN_ANTI;
  assert_true(with_right ? rc >= 0 : rc < 0);
  const gf_array *la = m ? gf_frame_column(one, 0, lc) : NULL;
  const gf_array *ra = m && with_right ? gf_frame_column(one, 0, rc) : NULL;
  for (int64_t i = 0; i < m; i++) {
    bool lvalid = !gf_array_is_null(la, i);
    int64_t lv = lvalid ? gf_array_get_int64(la, i) - 1000 : -1;
    if (lv != pl[i]) fail_msg("%s: row %lld: left row %lld, naive %lld", what, (long long)i,
                              (long long)lv, (long long)pl[i]);
    if (ra) {
      int64_t rv = !gf_array_is_null(ra, i) ? gf_array_get_int64(ra, i) - 500000 : -1;
      if (rv != pr[i]) fail_msg("%s: row %lld: right row %lld, naive %lld", what, (long long)i,
                                (long long)rv, (long long)pr[i]);
    }
  }
  gf_frame_release(one);
  free(pl);
  free(pr);
}

/* ---- runs ----------------------------------------------------------------- */

static const char *const KEYS[] = {"k", "s"};

/* The plan left JOIN right over frame sources. */
static gf_plan *join_plan(const gf_frame *l, const gf_frame *r, int nk, gf_join_kind how) {
  gf_error err;
  gf_plan *lp = NULL, *rp = NULL, *jp = NULL;
  OKE(gf_plan_from_frame((gf_frame *)l, &lp, &err));
  OKE(gf_plan_from_frame((gf_frame *)r, &rp, &err));
  OKE(gf_plan_join(lp, rp, KEYS, KEYS, nk, how, NULL, &jp, &err));
  gf_plan_release(lp);
  gf_plan_release(rp);
  return jp;
}

/* Streams optimized `p` (frame sources in slices of `window` rows). */
static gf_status stream(const gf_plan *p, const gf_parallel_options *o, int64_t window,
                        const char *csv_path, gf_frame **out, gf_error *err) {
  gf_plan *opt = NULL;
  gf_status st = gf_plan_optimize(p, GF_PLAN_RULES_ALL, &opt, err);
  if (st != GF_OK) return st;
  bool handled = false;
  *out = NULL;
  gfi_out_spec dest = {.kind = GFI_OUT_CSV, .path = csv_path, .fd = -1};
  st = gfi_plan_stream_join(opt, o, window, true, csv_path ? &dest : NULL, out, &handled, err);
  gf_plan_release(opt);
  if (st == GF_OK && !handled) fail_msg("the join did not stream");
  return st;
}

/* Every kind, 1 and 2 keys, 1/2/3/8 workers, several windows: the naive
 * join row by row and gf_join value for value. */
static void test_kinds_workers_windows(void **state) {
  (void)state;
  side l, r;
  side_make(&l, 700, 5, 60, 1000, "lid", 11);
  side_make(&r, 300, 4, 80, 500000, "rid", 12);
  static const int workers[] = {1, 2, 3, 8};
  static const int64_t windows[] = {1, 7, 333, 0};
  static const int spills[] = {0, 1, 16};
  gf_error err;
  for (int sp = 0; sp < 3; sp++)
  for (int nk = 1; nk <= 2; nk++)
    for (size_t h = 0; h < sizeof KINDS / sizeof *KINDS; h++) {
      gf_join_kind how = KINDS[h];
      gf_frame *want = NULL;
      OKE(gf_join(l.f, r.f, KEYS, KEYS, nk, how, NULL, &want, &err));
      char what[128];
      snprintf(what, sizeof what, "gf_join %s nk=%d", gf_join_kind_name(how), nk);
      check_naive(want, &l, &r, nk, how, what);
      gf_plan *p = join_plan(l.f, r.f, nk, how);
      for (size_t w = 0; w < 4; w++)
        for (size_t win = 0; win < sizeof windows / sizeof *windows; win++) {
          gf_parallel_options o;
          gf_parallel_options_init(&o);
          o.num_workers = workers[w];
          gf_frame *got = NULL;
          gfi_join_stream_test_spill(spills[sp]);
          int64_t opened = gfi_spill_files_opened();
          OKE(stream(p, &o, windows[win], NULL, &got, &err));
          /* The hook partitions once the first right batch is in. */
          if (spills[sp] > 0) assert_true(gfi_spill_files_opened() > opened);
          gfi_join_stream_test_spill(0);
          snprintf(what, sizeof what, "%s nk=%d workers=%d window=%lld spill=%d",
                   gf_join_kind_name(how), nk, workers[w], (long long)windows[win], spills[sp]);
          check_naive(got, &l, &r, nk, how, what);
          if (!gf_frame_equals(got, want)) fail_msg("%s: not gf_join's output", what);
          gf_frame_release(got);
        }
      gf_plan_release(p);
      gf_frame_release(want);
    }
  side_free(&l);
  side_free(&r);
  assert_true(gft_garbage_arrays_made() > 0);
}

/* No key in common, an empty right side, an empty left side. */
static void test_edges(void **state) {
  (void)state;
  side l, r, none;
  side_make(&l, 200, 3, 50, 1000, "lid", 21);
  side_make(&r, 100, 2, 50, 500000, "rid", 22);
  side_make(&none, 0, 1, 50, 500000, "rid", 23);
  /* Keys 50.. on the right: nothing matches. */
  gf_error err;
  side far;
  side_make(&far, 100, 2, 50, 500000, "rid", 24);
  for (int64_t i = 0; i < far.n; i++) far.k[i] += 50;
  gf_frame_release(far.f);
  {
    gf_array *cols[3];
    cols[0] = gft_int64_array(gf_type(GF_TYPE_INT64), far.k, far.kv, far.n);
    const char **sp = calloc((size_t)far.n, sizeof *sp);
    static const char *const names[] = {"s0", "s1", "s2", "s3", "s4"};
    int64_t *ids = calloc((size_t)far.n, sizeof *ids);
    for (int64_t i = 0; i < far.n; i++) {
      sp[i] = far.sv[i] ? names[far.s[i]] : NULL;
      ids[i] = 500000 + i;
    }
    cols[1] = gft_string_array(gf_type(GF_TYPE_UTF8), sp, far.n);
    cols[2] = gft_int64_array(gf_type(GF_TYPE_INT64), ids, NULL, far.n);
    gf_field fields[3] = {{"k", gf_type(GF_TYPE_INT64), true},
                          {"s", gf_type(GF_TYPE_UTF8), true},
                          {"rid", gf_type(GF_TYPE_INT64), false}};
    gf_schema *sc = NULL;
    OKE(gf_schema_new(fields, 3, &sc, &err));
    OKE(gf_frame_new(sc, cols, 1, NULL, &far.f, &err));
    gf_schema_release(sc);
    for (int i = 0; i < 3; i++) gf_array_release(cols[i]);
    free(sp);
    free(ids);
  }
  side lnone;
  side_make(&lnone, 0, 1, 50, 1000, "lid", 25);
  const side *pairs[][2] = {{&l, &far}, {&l, &none}, {&lnone, &r}};
  for (int sp = 0; sp <= 4; sp += 4)
  for (int c = 0; c < 3; c++)
    for (size_t h = 0; h < sizeof KINDS / sizeof *KINDS; h++) {
      const side *a = pairs[c][0], *b = pairs[c][1];
      gf_plan *p = join_plan(a->f, b->f, 1, KINDS[h]);
      gf_frame *want = NULL, *got = NULL;
      OKE(gf_join(a->f, b->f, KEYS, KEYS, 1, KINDS[h], NULL, &want, &err));
      gf_parallel_options o;
      gf_parallel_options_init(&o);
      o.num_workers = 3;
      gfi_join_stream_test_spill(sp);
      OKE(stream(p, &o, 13, NULL, &got, &err));
      gfi_join_stream_test_spill(0);
      char what[96];
      snprintf(what, sizeof what, "edge case %d %s spill=%d", c, gf_join_kind_name(KINDS[h]), sp);
      check_naive(got, a, b, 1, KINDS[h], what);
      if (!gf_frame_equals(got, want)) fail_msg("%s: not gf_join's output", what);
      gf_frame_release(got);
      gf_frame_release(want);
      gf_plan_release(p);
    }
  side_free(&l);
  side_free(&r);
  side_free(&none);
  side_free(&far);
  side_free(&lnone);
}

/* The bytes of file `path` (malloc'd), *n its size. */
static char *slurp(const char *path, size_t *n) {
  FILE *fp = fopen(path, "rb");
  if (!fp) fail_msg("cannot open %s", path);
  fseek(fp, 0, SEEK_END);
  long sz = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  char *b = malloc((size_t)sz + 1);
  if (fread(b, 1, (size_t)sz, fp) != (size_t)sz) fail_msg("cannot read %s", path);
  fclose(fp);
  *n = (size_t)sz;
  return b;
}

/* Files in directory `dir` (for "nothing left behind"). */
static int files_in(const char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
  FILE *fp = popen(cmd, "r");
  int n = -1;
  if (fp) {
    if (fscanf(fp, "%d", &n) != 1) n = -1;
    pclose(fp);
  }
  return n;
}

/* CSV files: the left one streamed window by window (windows of a few
 * hundred bytes), the output written by the CSV file sink, byte for byte
 * gf_join's output of the files read whole written by gf_write_csv; a
 * cancelled run and one whose build side is over the memory limit fail
 * cleanly and leave no file behind. */
static void test_csv_files(void **state) {
  (void)state;
  char dir[256];
  tmp_path(dir, sizeof dir, "csv");
  char cmd[1400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
  assert_int_equal(system(cmd), 0);
  /* Spill files of the materialising fallback go to a directory of the
   * test's own, checked empty at the end. */
  char tmpd[320];
  snprintf(tmpd, sizeof tmpd, "%s.tmp", dir);
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", tmpd, tmpd);
  assert_int_equal(system(cmd), 0);
  setenv("GF_TMPDIR", tmpd, 1);
  side l, r;
  side_make(&l, 3000, 4, 200, 1000, "lid", 31);
  side_make(&r, 500, 3, 250, 500000, "rid", 32);
  char lp[320], rp[320], outp[320], refp[320];
  snprintf(lp, sizeof lp, "%s/l.csv", dir);
  snprintf(rp, sizeof rp, "%s/r.csv", dir);
  snprintf(outp, sizeof outp, "%s/out.csv", dir);
  snprintf(refp, sizeof refp, "%s/ref.csv", dir);
  gf_error err;
  OKE(gf_write_csv(l.f, lp, NULL, &err));
  OKE(gf_write_csv(r.f, rp, NULL, &err));
  gf_frame *lr = NULL, *rr = NULL;
  OKE(gf_read_csv(lp, NULL, &lr, &err));
  OKE(gf_read_csv(rp, NULL, &rr, &err));
  for (size_t h = 0; h < sizeof KINDS / sizeof *KINDS; h++)
    for (int nk = 1; nk <= 2; nk++) {
      gf_frame *want = NULL;
      OKE(gf_join(lr, rr, KEYS, KEYS, nk, KINDS[h], NULL, &want, &err));
      OKE(gf_write_csv(want, refp, NULL, &err));
      size_t nref;
      char *ref = slurp(refp, &nref);
      gf_plan *ls = NULL, *rs = NULL, *jp = NULL;
      OKE(gf_plan_scan_csv(lp, NULL, &ls, &err));
      OKE(gf_plan_scan_csv(rp, NULL, &rs, &err));
      OKE(gf_plan_join(ls, rs, KEYS, KEYS, nk, KINDS[h], NULL, &jp, &err));
      static const int64_t windows[] = {300, 4096, 0};
      for (int sp = 0; sp <= 5; sp += 5)
      for (int w = 0; w < 3; w++)
        for (int wk = 1; wk <= 3; wk++) {
          gf_parallel_options o;
          gf_parallel_options_init(&o);
          o.num_workers = wk;
          gf_frame *none = NULL;
          gfi_join_stream_test_spill(sp);
          OKE(stream(jp, &o, windows[w], outp, &none, &err));
          gfi_join_stream_test_spill(0);
          assert_null(none);
          size_t ngot;
          char *got = slurp(outp, &ngot);
          if (ngot != nref || memcmp(got, ref, nref) != 0)
            fail_msg("%s nk=%d window=%lld workers=%d spill=%d: CSV output differs from "
                     "gf_join's", gf_join_kind_name(KINDS[h]), nk, (long long)windows[w], wk, sp);
          free(got);
          unlink(outp);
        }
      /* Collected (dictionary columns from the CSV source), in memory and
       * spilled. */
      for (int sp = 0; sp <= 5; sp += 5) {
        gf_parallel_options o;
        gf_parallel_options_init(&o);
        o.num_workers = 2;
        gf_frame *got = NULL;
        gfi_join_stream_test_spill(sp);
        OKE(stream(jp, &o, 500, NULL, &got, &err));
        gfi_join_stream_test_spill(0);
        if (!gf_frame_equals(got, want))
          fail_msg("%s nk=%d spill=%d: collected output is not gf_join's",
                   gf_join_kind_name(KINDS[h]), nk, sp);
        gf_frame_release(got);
      }
      gf_frame_release(want);
      /* Through the public sink, default window. */
      OKE(gf_plan_sink_csv(jp, outp, NULL, NULL, &err));
      size_t ngot;
      char *got = slurp(outp, &ngot);
      assert_true(ngot == nref && memcmp(got, ref, nref) == 0);
      free(got);
      unlink(outp);
      /* Cancelled before it starts, a full disk, and a build side over
       * the limit. */
      gf_cancel *tok = NULL;
      OKE(gf_cancel_new(&tok, &err));
      gf_cancel_request(tok);
      gf_parallel_options o;
      gf_parallel_options_init(&o);
      o.cancel = tok;
      gf_frame *none = NULL;
      gf_status st = stream(jp, &o, 300, outp, &none, &err);
      assert_int_equal(st, GF_ECANCELED);
      gf_cancel_free(tok);
      /* A full disk after every number of spill writes: GF_EIO naming the
       * directory, or the right output once the writes suffice; never a
       * partial output file. */
      gfi_join_stream_test_spill(3);
      for (int64_t wr = 0; KINDS[h] == GF_JOIN_FULL && nk == 2; wr++) {
        gfi_spill_test_fault(wr, ENOSPC, 0);
        gf_parallel_options_init(&o);
        o.num_workers = 2;
        st = stream(jp, &o, 700, outp, &none, &err);
        gfi_spill_test_fault(-1, 0, 0);
        if (st == GF_OK) {
          size_t ng;
          char *g = slurp(outp, &ng);
          assert_true(ng == nref && memcmp(g, ref, nref) == 0);
          free(g);
          unlink(outp);
          break;
        }
        if (st != GF_EIO) fail_msg("full disk after %lld writes: %d %s", (long long)wr, (int)st,
                                   err.message);
        assert_non_null(strstr(err.message, tmpd));
        assert_int_equal(access(outp, F_OK), -1);
        assert_true(wr < 100000);
      }
      gfi_join_stream_test_spill(0);
      /* Over the limit the streamed build gives way to the materialising
       * run, which fails too at 4 KiB: no file either way. */
      gf_parallel_options_init(&o);
      o.memory_limit = 4096;
      gf_plan *opt = NULL;
      OKE(gf_plan_optimize(jp, GF_PLAN_RULES_ALL, &opt, &err));
      bool handled = true;
      gfi_out_spec dest = {.kind = GFI_OUT_CSV, .path = outp, .fd = -1};
      OKE(gfi_plan_stream_join(opt, &o, 300, true, &dest, &none, &handled, &err));
      assert_false(handled);
      gf_plan_release(opt);
      gf_plan_options po;
      gf_plan_options_init(&po);
      po.parallel = &o;
      st = gf_plan_sink_csv(jp, outp, NULL, &po, &err);
      assert_int_equal(st, GF_ENOMEM);
      assert_non_null(strstr(err.message, "memory limit"));
      assert_int_equal(access(outp, F_OK), -1);
      assert_int_equal(files_in(dir), 3); /* l.csv, r.csv, ref.csv */
      free(ref);
      unlink(refp);
      gf_plan_release(jp);
      gf_plan_release(ls);
      gf_plan_release(rs);
    }
  gf_frame_release(lr);
  gf_frame_release(rr);
  side_free(&l);
  side_free(&r);
  assert_int_equal(files_in(tmpd), 0);
  unsetenv("GF_TMPDIR");
  snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, tmpd);
  assert_int_equal(system(cmd), 0);
}

/* Steps above the join (a filter, then a select) run on each output
 * batch: the eager gf_join, gf_filter and gf_select of the same steps. */
static void test_steps_above(void **state) {
  (void)state;
  side l, r;
  side_make(&l, 500, 4, 40, 1000, "lid", 51);
  side_make(&r, 200, 3, 40, 500000, "rid", 52);
  gf_error err;
  gf_expr *pred = NULL;
  OKE(gf_expr_parse("lid > 1200", &pred, &err));
  for (size_t h = 0; h < sizeof KINDS / sizeof *KINDS; h++) {
    bool with_right = KINDS[h] != GF_JOIN_SEMI && KINDS[h] != GF_JOIN_ANTI;
    const char *cols[] = {"lid", "k", "rid"};
    int ncols = with_right ? 3 : 2;
    gf_frame *j = NULL, *f = NULL, *want = NULL;
    OKE(gf_join(l.f, r.f, KEYS, KEYS, 1, KINDS[h], NULL, &j, &err));
    OKE(gf_filter(j, pred, NULL, &f, &err));
    OKE(gf_select(f, cols, ncols, &want, &err));
    gf_plan *jp = join_plan(l.f, r.f, 1, KINDS[h]), *fp = NULL, *sp = NULL;
    OKE(gf_plan_filter(jp, pred, &fp, &err));
    OKE(gf_plan_select(fp, cols, ncols, &sp, &err));
    for (int w = 1; w <= 3; w++) {
      gf_parallel_options o;
      gf_parallel_options_init(&o);
      o.num_workers = w;
      gf_frame *got = NULL;
      OKE(stream(sp, &o, 9, NULL, &got, &err));
      if (!gf_frame_equals(got, want))
        fail_msg("%s with steps above, %d workers: not the eager output",
                 gf_join_kind_name(KINDS[h]), w);
      gf_frame_release(got);
    }
    gf_plan_release(sp);
    gf_plan_release(fp);
    gf_plan_release(jp);
    gf_frame_release(want);
    gf_frame_release(f);
    gf_frame_release(j);
  }
  gf_expr_release(pred);
  side_free(&l);
  side_free(&r);
}

/* ---- allocation failures ---------------------------------------------------- */

typedef struct sweep_ctx {
  const gf_plan *p;
  const gf_frame *want;
  int workers;
} sweep_ctx;

static gf_status sweep_run(void *user, const gf_allocator *a) {
  sweep_ctx *s = user;
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = s->workers;
  o.allocator = a;
  gf_error err;
  gf_frame *got = NULL;
  gf_status st = stream(s->p, &o, 37, NULL, &got, &err);
  if (st == GF_OK) {
    if (!gf_frame_equals(got, s->want)) fail_msg("%s: wrong result", gft_sweep_at());
    gf_frame_release(got);
  } else if (got) {
    fail_msg("%s: output set on failure", gft_sweep_at());
  }
  return st;
}

static void test_alloc_sweep(void **state) {
  (void)state;
  side l, r;
  side_make(&l, 150, 3, 30, 1000, "lid", 41);
  side_make(&r, 60, 2, 30, 500000, "rid", 42);
  gf_error err;
  gf_failing_allocator *fa = NULL;
  OKE(gf_failing_allocator_new(NULL, &fa, &err));
  gft_sweep_counts acc;
  memset(&acc, 0, sizeof acc);
  gf_join_kind kinds[] = {GF_JOIN_FULL, GF_JOIN_SEMI};
  for (int sp = 0; sp <= 3; sp += 3)
  for (int h = 0; h < 2; h++)
    for (int w = 1; w <= 2 - (sp > 0); w++) {
      gfi_join_stream_test_spill(sp);
      gf_frame *want = NULL;
      OKE(gf_join(l.f, r.f, KEYS, KEYS, 2, kinds[h], NULL, &want, &err));
      gf_plan *p = join_plan(l.f, r.f, 2, kinds[h]);
      sweep_ctx s = {p, want, w};
      gft_alloc_sweep("streamed join", fa, sweep_run, &s, &acc);
      gfi_join_stream_test_spill(0);
      gf_plan_release(p);
      gf_frame_release(want);
    }
  gft_sweep_print("streamed join", &acc);
  gf_failing_allocator_free(fa);
  side_free(&l);
  side_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kinds_workers_windows),
      cmocka_unit_test(test_edges),
      cmocka_unit_test(test_csv_files),
      cmocka_unit_test(test_steps_above),
      cmocka_unit_test(test_alloc_sweep),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
