/* Random plans: random chains of steps (filter, with_columns, select,
 * group_by + having, sort, limit with offset, distinct, joins of every
 * kind, union) over a random frame with nulls holding garbage, sliced
 * arrays and several batches, collected at 1/2/3/8 workers and several
 * chunk sizes with and without the optimizer, against the eager operators
 * applied step by step in this test (the independent reference). A few
 * plans are also checked against plain C loops over the input values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gf_test_data.h"
#include "gf_test_garbage.h"
#include "gopherframe.h"

static gf_expr *parse(const char *text) {
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse '%s': %s", text, err.message);
  return e;
}

/* Columns: k int64 0..9, g utf8 (5 values), v float64 (with -0.0, NaN),
 * w int32, d dictionary<utf8>; ~10% nulls each. `with_garbage` makes the
 * twin whose null slots hold random bytes and arrays start at offsets. */
static gf_frame *make_frame(int64_t rows, int nb, uint64_t seed, bool with_garbage) {
  static const char *const gs[] = {"a", "b", "c", "dd", "é"};
  static const char *const ds[] = {"x", "y", "zz"};
  enum { NC = 5 };
  gf_array **cols = calloc((size_t)nb * NC, sizeof *cols);
  uint64_t s = seed;
  for (int b = 0; b < nb; b++) {
    int64_t n = rows / nb + (b < rows % nb ? 1 : 0);
    int64_t *k = calloc((size_t)n + 1, sizeof *k), *w = calloc((size_t)n + 1, sizeof *w);
    double *v = calloc((size_t)n + 1, sizeof *v);
    bool *kv = calloc((size_t)n + 1, 1), *vv = calloc((size_t)n + 1, 1), *wv = calloc((size_t)n + 1, 1);
    const char **g = calloc((size_t)n + 1, sizeof *g), **d = calloc((size_t)n + 1, sizeof *d);
    for (int64_t i = 0; i < n; i++) {
      uint64_t r = gft_rand_next(&s);
      k[i] = (int64_t)(r % 10);
      kv[i] = (r >> 8) % 10 != 0;
      w[i] = (int64_t)((r >> 16) % 2001) - 1000;
      wv[i] = (r >> 28) % 11 != 0;
      uint64_t r2 = gft_rand_next(&s);
      v[i] = (double)(int64_t)(r2 % 20001 - 10000) / 8.0;
      if (r2 % 97 == 0) v[i] = -0.0;
      if (r2 % 89 == 0) v[i] = NAN;
      vv[i] = (r2 >> 20) % 9 != 0;
      g[i] = (r2 >> 30) % 12 == 0 ? NULL : gs[(r2 >> 34) % 5];
      d[i] = (r2 >> 40) % 13 == 0 ? NULL : ds[(r2 >> 44) % 3];
    }
    cols[b * NC + 0] = gft_int64_array(gf_type(GF_TYPE_INT64), k, kv, n);
    cols[b * NC + 1] = gft_string_array(gf_type(GF_TYPE_UTF8), g, n);
    cols[b * NC + 2] = gft_double_array(gf_type(GF_TYPE_FLOAT64), v, vv, n);
    cols[b * NC + 3] = gft_int64_array(gf_type(GF_TYPE_INT32), w, wv, n);
    cols[b * NC + 4] = gft_string_array(gf_type_dictionary(gf_type(GF_TYPE_UTF8)), d, n);
    free(k);
    free(w);
    free(v);
    free(kv);
    free(vv);
    free(wv);
    free(g);
    free(d);
  }
  gf_field fields[NC] = {{"k", gf_type(GF_TYPE_INT64), true},
                         {"g", gf_type(GF_TYPE_UTF8), true},
                         {"v", gf_type(GF_TYPE_FLOAT64), true},
                         {"w", gf_type(GF_TYPE_INT32), true},
                         {"d", gf_type_dictionary(gf_type(GF_TYPE_UTF8)), true}};
  gf_schema *sc = NULL;
  assert_int_equal(gf_schema_new(fields, NC, &sc, NULL), GF_OK);
  gf_frame *clean = NULL;
  gf_error err;
  if (gf_frame_new(sc, cols, nb, NULL, &clean, &err) != GF_OK) fail_msg("%s", err.message);
  gf_schema_release(sc);
  for (int i = 0; i < nb * NC; i++) gf_array_release(cols[i]);
  free(cols);
  if (!with_garbage) return clean;
  gf_frame *g = gft_garbage_frame(clean, seed ^ 0x5eed);
  gf_frame_release(clean);
  return g;
}

static void par(gf_parallel_options *o, int workers, int64_t chunk) {
  gf_parallel_options_init(o);
  o->num_workers = workers;
  o->chunk_rows = chunk;
  o->min_parallel_rows = 0;
}

/* Collects p at 1/2/3/8 workers, two chunk sizes, with every rule and
 * with none, and checks each result equals `want` (values bitwise, row
 * order included). */
static void expect_plan(const gf_plan *p, const gf_frame *want, uint64_t seed) {
  static const int workers[] = {1, 2, 3, 8};
  static const int64_t chunks[] = {0, 97};
  for (int w = 0; w < 4; w++)
    for (int c = 0; c < 2; c++)
      for (int opt = 0; opt < 2; opt++) {
        gf_parallel_options po;
        par(&po, workers[w], chunks[c]);
        if (w == 3 && c == 1) po.strategy = GF_STRATEGY_CACHE_FRIENDLY;
        gf_plan_options o;
        gf_plan_options_init(&o);
        o.parallel = &po;
        o.disabled_rules = opt ? 0 : GF_PLAN_RULES_ALL;
        gf_frame *got = NULL;
        gf_error err;
        if (gf_plan_collect(p, &o, &got, &err) != GF_OK)
          fail_msg("seed %llu: collect: %s", (unsigned long long)seed, err.message);
        if (!gf_frame_equals(got, want)) {
          char *text = NULL;
          gf_plan_explain(p, GF_PLAN_EXPLAIN_OPTIMIZED, 0, &text, NULL);
          fprintf(stderr, "%s", text ? text : "");
          gf_mem_free(text);
          gf_frame_print(got, NULL, stderr, NULL);
          gf_frame_print(want, NULL, stderr, NULL);
          fail_msg("seed %llu: plan differs from the eager chain (workers %d, chunk %lld, optimizer %d)",
                   (unsigned long long)seed, workers[w], (long long)chunks[c], opt);
        }
        gf_frame_release(got);
      }
}

static const char *const preds[] = {
    "k > 4", "v < 100 or g = 'a'", "w % 3 = 0", "is_null(v)", "k between 2 and 6 and g != 'b'",
    "d = 'x'", "x > 0", "length(g) = 1", "v >= 0.0 and k < 8", "not (w < 0)", "y != 'hi'",
    "k > 1 + 2 and true", "n > 3", "sw > 0 or k = 1", "k = 3 or k = 5", "d != 'y' and w > -500"};
static const char *const withs[] = {"x=w * 2 + k", "v=v * 2", "y=if(k > 5, 'hi', g)", "k=k + 1",
                                    "z=abs(v) + 1.5", "x=length(g) * 10", "c=2 * 3 + 1"};
static const char *const aggs[] = {"count() as n", "sum(w) as sw", "mean(v) as mv", "min(g) as mg",
                                   "max(v) as xv", "n_unique(d) as nd", "sum(x) as sx"};
static const char *const havings[] = {"n > 3", "k > 2", "sw > 0", "mv < 0 or n = 1", "g != 'a'"};

/* A random column name of the plan's current output. */
static const char *pick_col(const gf_plan *p, uint64_t *s) {
  const gf_schema *sc = gf_plan_schema(p);
  return gf_schema_field(sc, (int)(gft_rand_next(s) % (uint64_t)gf_schema_num_fields(sc)))->name;
}

/* Steps accepted per kind, and plans with a non-empty answer: the test
 * fails when a kind never got into a plan. */
static int accepted[10];
static int nonempty;

/* One random plan of up to `nsteps` steps over source `src` (NULL = the
 * frame f itself), f being what that source reads; the eager chain
 * alongside. */
static void random_plan(uint64_t seed, gf_frame *f, gf_frame *right, int nsteps, const gf_plan *src) {
  uint64_t s = seed;
  gf_error err;
  gf_plan *p = NULL;
  if (src) p = gf_plan_retain((gf_plan *)src);
  else assert_int_equal(gf_plan_from_frame(f, &p, &err), GF_OK);
  gf_frame *cur = gf_frame_retain(f);
  for (int i = 0; i < nsteps; i++) {
    int kind = (int)(gft_rand_next(&s) % 10);
    gf_plan *np = NULL;
    gf_frame *nf = NULL;
    gf_status st = GF_OK;
    if (kind <= 1) {
      gf_expr *e = parse(preds[gft_rand_next(&s) % (sizeof preds / sizeof *preds)]);
      st = gf_plan_filter(p, e, &np, &err);
      if (st == GF_OK) assert_int_equal(gf_filter(cur, e, NULL, &nf, &err), GF_OK);
      gf_expr_release(e);
    } else if (kind == 2) {
      int n = 1 + (int)(gft_rand_next(&s) % 2);
      char names[2][16];
      const char *np_[2];
      gf_expr *ex[2];
      for (int j = 0; j < n; j++) {
        const char *t = withs[gft_rand_next(&s) % (sizeof withs / sizeof *withs)];
        const char *eq = strchr(t, '=');
        memcpy(names[j], t, (size_t)(eq - t));
        names[j][eq - t] = '\0';
        np_[j] = names[j];
        ex[j] = parse(eq + 1);
      }
      int made = n;
      if (n == 2 && strcmp(names[0], names[1]) == 0) n = 1;
      st = gf_plan_with_columns(p, np_, ex, n, &np, &err);
      if (st == GF_OK) assert_int_equal(gf_with_columns(cur, np_, ex, n, NULL, &nf, &err), GF_OK);
      for (int j = 0; j < made; j++) gf_expr_release(ex[j]);
    } else if (kind == 3) {
      int nf_ = gf_schema_num_fields(gf_plan_schema(p));
      const char *names[8];
      int n = 0;
      for (int c = 0; c < nf_ && n < 8; c++)
        if (gft_rand_next(&s) % 3 != 0) names[n++] = gf_schema_field(gf_plan_schema(p), c)->name;
      if (n == 0) names[n++] = pick_col(p, &s);
      if (n > 1 && gft_rand_next(&s) % 2) {
        const char *t = names[0];
        names[0] = names[n - 1];
        names[n - 1] = t;
      }
      st = gf_plan_select(p, names, n, &np, &err);
      if (st == GF_OK) assert_int_equal(gf_select(cur, names, n, &nf, &err), GF_OK);
    } else if (kind == 4) {
      static const char *const keyc[] = {"k", "g", "d", "y"};
      const char *keys[2];
      int nk = (int)(gft_rand_next(&s) % 3);
      for (int j = 0; j < nk; j++) keys[j] = keyc[gft_rand_next(&s) % 4];
      if (nk == 2 && strcmp(keys[0], keys[1]) == 0) nk = 1;
      char text[256] = "";
      int na = (int)(gft_rand_next(&s) % 3) + 1;
      for (int j = 0; j < na; j++) {
        const char *a = aggs[gft_rand_next(&s) % (sizeof aggs / sizeof *aggs)];
        if (strstr(text, a)) continue;
        if (text[0]) strcat(text, ", ");
        strcat(text, a);
      }
      bool sorted = gft_rand_next(&s) % 2;
      st = gf_plan_group_by(p, keys, nk, text, sorted, &np, &err);
      if (st == GF_OK) {
        gf_groupby_options go;
        gf_groupby_options_init(&go);
        go.sort_keys = sorted;
        assert_int_equal(gf_group_by_text(cur, keys, nk, text, &go, &nf, &err), GF_OK);
        if (gft_rand_next(&s) % 2) {
          gf_expr *h = parse(havings[gft_rand_next(&s) % (sizeof havings / sizeof *havings)]);
          gf_plan *hp = NULL;
          if (gf_plan_having(np, h, &hp, &err) == GF_OK) {
            gf_frame *hf = NULL;
            assert_int_equal(gf_filter(nf, h, NULL, &hf, &err), GF_OK);
            gf_plan_release(np);
            gf_frame_release(nf);
            np = hp;
            nf = hf;
          }
          gf_expr_release(h);
        }
      }
    } else if (kind == 5) {
      gf_sort_key keys[2];
      int nk = 1 + (int)(gft_rand_next(&s) % 2);
      for (int j = 0; j < nk; j++) {
        keys[j].column = pick_col(p, &s);
        keys[j].descending = gft_rand_next(&s) % 2;
        keys[j].nulls_first = gft_rand_next(&s) % 2;
      }
      if (nk == 2 && strcmp(keys[0].column, keys[1].column) == 0) nk = 1;
      st = gf_plan_sort(p, keys, nk, &np, &err);
      if (st == GF_OK) assert_int_equal(gf_sort(cur, keys, nk, 0, NULL, &nf, &err), GF_OK);
    } else if (kind == 6) {
      int64_t off = (int64_t)(gft_rand_next(&s) % 4) * (int64_t)(gft_rand_next(&s) % 3);
      int64_t n = (int64_t)(gft_rand_next(&s) % 300);
      st = gf_plan_limit(p, off, n, &np, &err);
      if (st == GF_OK) {
        int64_t rows = gf_frame_num_rows(cur);
        int64_t o = off < rows ? off : rows;
        assert_int_equal(gf_frame_slice(cur, o, rows - o < n ? rows - o : n, &nf, &err), GF_OK);
      }
    } else if (kind == 7) {
      const char *keys[2];
      int nk = (int)(gft_rand_next(&s) % 3);
      for (int j = 0; j < nk; j++) keys[j] = pick_col(p, &s);
      if (nk == 2 && strcmp(keys[0], keys[1]) == 0) nk = 1;
      st = gf_plan_distinct(p, keys, nk, &np, &err);
      if (st == GF_OK) assert_int_equal(gf_distinct(cur, keys, nk, NULL, &nf, &err), GF_OK);
    } else if (kind == 8) {
      /* A join with a filtered second source on k (and maybe g). */
      gf_plan *rp = NULL, *rf = NULL;
      assert_int_equal(gf_plan_from_frame(right, &rp, &err), GF_OK);
      gf_expr *e = parse(gft_rand_next(&s) % 2 ? "w > 0" : "v < 500 or d = 'y'");
      assert_int_equal(gf_plan_filter(rp, e, &rf, &err), GF_OK);
      gf_frame *rfr = NULL;
      assert_int_equal(gf_filter(right, e, NULL, &rfr, &err), GF_OK);
      const char *on[2] = {"k", "g"};
      int nk = 1 + (int)(gft_rand_next(&s) % 2);
      gf_join_kind how = (gf_join_kind)(gft_rand_next(&s) % 6);
      st = gf_plan_join(p, rf, on, on, nk, how, "_r", &np, &err);
      if (st == GF_OK) {
        gf_join_options jo;
        gf_join_options_init(&jo);
        jo.suffix = "_r";
        assert_int_equal(gf_join(cur, rfr, on, on, nk, how, &jo, &nf, &err), GF_OK);
      }
      gf_expr_release(e);
      gf_frame_release(rfr);
      gf_plan_release(rp);
      gf_plan_release(rf);
    } else {
      /* Union with a filtered copy of itself, columns in reverse order. */
      gf_expr *e = parse("k > 5");
      gf_plan *fp = NULL, *sp = NULL;
      gf_status fs = gf_plan_filter(p, e, &fp, &err);
      int n = gf_schema_num_fields(gf_plan_schema(p));
      const char *names[16];
      for (int c = 0; c < n && c < 16; c++) names[c] = gf_schema_field(gf_plan_schema(p), n - 1 - c)->name;
      if (fs == GF_OK && n <= 16) {
        assert_int_equal(gf_plan_select(fp, names, n, &sp, &err), GF_OK);
        st = gf_plan_union(p, sp, &np, &err);
        if (st == GF_OK) {
          gf_frame *a = NULL, *b = NULL;
          assert_int_equal(gf_filter(cur, e, NULL, &a, &err), GF_OK);
          gf_frame *parts[2] = {cur, a};
          assert_int_equal(gf_frame_concat(parts, 2, NULL, &nf, &err), GF_OK);
          gf_frame_release(a);
          gf_frame_release(b);
        }
      } else {
        st = GF_EINVAL;
      }
      gf_expr_release(e);
      gf_plan_release(fp);
      gf_plan_release(sp);
    }
    if (st != GF_OK) continue; /* not valid here: the builder refused it */
    accepted[kind]++;
    gf_plan_release(p);
    gf_frame_release(cur);
    p = np;
    cur = nf;
  }
  expect_plan(p, cur, seed);
  if (gf_frame_num_rows(cur) > 0) nonempty++;
  gf_plan_release(p);
  gf_frame_release(cur);
}

static void test_random_plans(void **state) {
  (void)state;
  gf_frame *f = make_frame(3000, 3, 11, true), *r = make_frame(300, 2, 12, true);
  int64_t made = gft_garbage_arrays_made();
  assert_true(made > 0);
  for (uint64_t seed = 1; seed <= 120; seed++) random_plan(seed * 7919, f, r, 2 + (int)(seed % 6), NULL);
  for (int k = 0; k < 10; k++) {
    printf("step kind %d: %d accepted\n", k, accepted[k]);
    assert_true(accepted[k] >= 3);
  }
  printf("%d plans with rows\n", nonempty);
  assert_true(nonempty >= 60);
  gf_frame_release(f);
  gf_frame_release(r);
}

/* Against plain loops: filter k >= 5 and g = 'a' then count and sum(w)
 * for each d, groups sorted by d. */
static void test_against_loops(void **state) {
  (void)state;
  gf_frame *f = make_frame(4000, 4, 21, false);
  gf_frame *gf_ = gft_garbage_frame(f, 99);
  gf_error err;
  gf_plan *s, *fl, *g;
  assert_int_equal(gf_plan_from_frame(gf_, &s, &err), GF_OK);
  gf_expr *e = parse("k >= 5 and g = 'a'");
  assert_int_equal(gf_plan_filter(s, e, &fl, &err), GF_OK);
  const char *keys[1] = {"d"};
  assert_int_equal(gf_plan_group_by(fl, keys, 1, "count() as n, sum(w) as sw", true, &g, &err), GF_OK);
  /* Loops: d codes x, y, zz and null (last in sorted order). */
  int64_t n[4] = {0}, sw[4] = {0};
  bool any_w[4] = {false};
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    gf_array *k = gf_frame_column(f, b, 0), *gc = gf_frame_column(f, b, 1), *w = gf_frame_column(f, b, 3),
             *d = gf_frame_column(f, b, 4);
    for (int64_t i = 0; i < gf_array_length(k); i++) {
      if (gf_array_is_null(k, i) || gf_array_get_int64(k, i) < 5 || gf_array_is_null(gc, i)) continue;
      int64_t len;
      const char *gv = gf_array_get_bytes(gc, i, &len);
      if (len != 1 || gv[0] != 'a') continue;
      int slot = 3;
      if (!gf_array_is_null(d, i)) {
        char buf[8];
        gf_array_format_value(d, i, buf, sizeof buf);
        slot = strcmp(buf, "x") == 0 ? 0 : strcmp(buf, "y") == 0 ? 1 : 2;
      }
      n[slot]++;
      if (!gf_array_is_null(w, i)) {
        sw[slot] += gf_array_get_int64(w, i);
        any_w[slot] = true;
      }
    }
  }
  for (int workers = 1; workers <= 8; workers *= 2) {
    gf_parallel_options po;
    par(&po, workers, 50);
    gf_plan_options o;
    gf_plan_options_init(&o);
    o.parallel = &po;
    gf_frame *got = NULL;
    assert_int_equal(gf_plan_collect(g, &o, &got, &err), GF_OK);
    int row = 0;
    for (int slot = 0; slot < 4; slot++) {
      if (n[slot] == 0) continue;
      int64_t at = row++;
      int b = 0;
      while (at >= gf_frame_batch_rows(got, b)) at -= gf_frame_batch_rows(got, b++);
      assert_int_equal(gf_array_get_int64(gf_frame_column(got, b, 1), at), n[slot]);
      if (any_w[slot]) assert_int_equal(gf_array_get_int64(gf_frame_column(got, b, 2), at), sw[slot]);
      else assert_true(gf_array_is_null(gf_frame_column(got, b, 2), at));
    }
    assert_int_equal(gf_frame_num_rows(got), row);
    gf_frame_release(got);
  }
  gf_expr_release(e);
  gf_plan_release(s);
  gf_plan_release(fl);
  gf_plan_release(g);
  gf_frame_release(f);
  gf_frame_release(gf_);
}

/* Random plans over file sources: an IPC file (projection: only the
 * columns used are validated) and a CSV file (the reader parses only the
 * columns used), against the eager chain over the frame the reader gives. */
static void test_random_plans_files(void **state) {
  (void)state;
  gf_frame *f = make_frame(2500, 3, 31, true), *r = make_frame(250, 2, 32, true);
  gf_error err;
  char ipc[256], csv[256];
  const char *dir = getenv("TMPDIR");
  snprintf(ipc, sizeof ipc, "%s/gf_plan_random_%d.arrow", dir ? dir : "/tmp", (int)getpid());
  snprintf(csv, sizeof csv, "%s/gf_plan_random_%d.csv", dir ? dir : "/tmp", (int)getpid());
  assert_int_equal(gf_write_ipc_file(f, ipc, NULL, &err), GF_OK);
  assert_int_equal(gf_write_csv(f, csv, NULL, &err), GF_OK);
  gf_plan *pi = NULL, *pc = NULL;
  gf_frame *fi = NULL, *fc = NULL;
  assert_int_equal(gf_plan_scan_ipc(ipc, NULL, &pi, &err), GF_OK);
  assert_int_equal(gf_read_ipc(ipc, NULL, &fi, &err), GF_OK);
  assert_int_equal(gf_plan_scan_csv(csv, NULL, &pc, &err), GF_OK);
  assert_int_equal(gf_read_csv(csv, NULL, &fc, &err), GF_OK);
  for (uint64_t seed = 1; seed <= 30; seed++) {
    random_plan(seed * 104729, fi, r, 2 + (int)(seed % 5), pi);
    random_plan(seed * 15485863, fc, r, 2 + (int)(seed % 5), pc);
  }
  gf_plan_release(pi);
  gf_plan_release(pc);
  gf_frame_release(fi);
  gf_frame_release(fc);
  gf_frame_release(f);
  gf_frame_release(r);
  unlink(ipc);
  unlink(csv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_plans),
      cmocka_unit_test(test_random_plans_files),
      cmocka_unit_test(test_against_loops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
