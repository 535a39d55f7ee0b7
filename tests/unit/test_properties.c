/* Determinism properties: random frames of every type (nulls, odd batch
 * sizes) through random pipelines of filter, with_columns, group-by, sort and
 * join give bit-identical results for every worker count {1, 2, 3, 8},
 * chunk size {1, 7, 1024, default} and strategy, both through the
 * gf_pipeline API and through the eager operators, and the two agree; and
 * random programs of a smaller grammar give what a naive row-by-row
 * interpreter in plain C gives (an independent reference, not the
 * library's own 1-worker run).
 *
 * Every case is reproducible from its seed (printed on failure). The number
 * of cases comes from GF_PROPERTY_CASES (default 16; 4 in sanitizer builds,
 * whose runtime is ~10x); GF_PROPERTY_FIRST=k starts at case k and
 * GF_PROPERTY_VERBOSE=1 prints each case's seed before running it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_test_data.h"
#include "gopherframe.h"
#include "gopherframe/query.h"
#include "gopherframe/testing.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GF_PROP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GF_PROP_SANITIZED 1
#endif
#endif
#ifdef GF_PROP_SANITIZED
#define DEFAULT_CASES 4
#else
#define DEFAULT_CASES 16
#endif

/* Column names of gft_random_frame over gft_all_types (see
 * tests/support/gf_test_data.c for the order). */
#define C_BOOL "c1"
#define C_I8 "c2"
#define C_I32 "c4"
#define C_I64 "c5"
#define C_U64 "c9"
#define C_F32 "c10"
#define C_F64 "c11"
#define C_STR "c12"
#define C_BIN "c14"
#define C_DATE "c17"
#define C_TS "c24"
#define C_DSTR "c29"
#define C_DI32 "c30"

/* ---- random programs ---------------------------------------------------- */

enum { MAX_STEPS = 6 };

typedef enum step_kind { S_FILTER, S_WITH, S_GROUP, S_SORT, S_JOIN, S_LIMIT } step_kind;

typedef struct step {
  step_kind kind;
  const char *text;    /* filter predicate / with expression / aggregates */
  const char *name;    /* with: output column */
  const char *keys[3]; /* group-by / join keys */
  int nkeys;
  bool sort_keys;
  gf_sort_key sort[3];
  int nsort;
  gf_join_kind how;
  int64_t limit;
} step;

typedef struct program {
  step steps[MAX_STEPS];
  int n;
  gf_frame *right; /* join input, NULL when there is no join */
} program;

static const char *const FILTERS[] = {
    C_I64 " > 0",
    C_F64 " < 250000.5 and " C_BOOL,
    "is_null(" C_STR ") or length(" C_STR ") > 4",
    C_DATE " >= date '1990-01-01'",
    C_DSTR " < 'm'",
    "not (" C_I8 " between -20 and 40)",
    C_I32 " % 3 = 1 or " C_F32 " > 0",
    C_I8 " in (1, 2, 3, 5, 8, 13, 21, 34, 55, 89, null)",
    C_TS " < '2015-06-01 00:00:00'",
    "starts_with(" C_STR ", 'a') or " C_U64 " > 1000000000",
};
static const char *const WITHS[] = {
    C_I64 " * 3 + " C_I32,
    C_F64 " * 1.5 - " C_I64,
    "if(" C_BOOL ", " C_F64 ", -" C_F32 ")",
    "upper(" C_STR ")",
    "round(" C_F64 " / 7, 2)",
    "sqrt(abs(" C_F64 ")) + " C_I8,
    "cast(" C_I32 " as float64) / 3",
    "substr(" C_STR ", 2, 3)",
};
static const char *const AGGS[] = {
    "sum(" C_F64 ") as sf, count(*) as n, mean(" C_I64 ") as mi, min(" C_STR
    ") as ms, max(" C_F32 ") as mf",
    "var(" C_F64 ") as v, std(" C_F32 ") as s, n_unique(" C_I32 ") as u, first(" C_STR
    ") as fs, last(" C_DATE ") as ld",
    "median(" C_F64 ") as med, quantile(" C_I64 ", 0.9) as q9, count(" C_STR
    ") as cs, corr(" C_F64 ", " C_F32 ") as r",
    "sum(" C_I32 ") as si, max(" C_TS ") as mt, min(" C_DSTR ") as md",
};
static const char *const GROUP_KEYS[] = {C_BOOL, C_DSTR, C_I8, C_DI32, C_DATE};

static uint64_t rnd(uint64_t *s, uint64_t n) { return gft_rand_next(s) % n; }

/* Adds a sort over a few columns that exist in every program's output
 * (group keys are re-sorted by themselves). */
static void random_sort(uint64_t *s, step *st, const char *const *cols, int ncols) {
  st->kind = S_SORT;
  st->nsort = 1 + (int)rnd(s, 2);
  for (int k = 0; k < st->nsort; k++) {
    st->sort[k].column = cols[rnd(s, (uint64_t)ncols)];
    st->sort[k].descending = rnd(s, 2);
    st->sort[k].nulls_first = rnd(s, 2);
  }
  if (st->nsort == 2 && strcmp(st->sort[0].column, st->sort[1].column) == 0) st->nsort = 1;
}

/* Builds a random program: streaming steps, then at most one blocking
 * step (group-by, sort or join), possibly followed by a sort and a limit. */
static gf_status random_program(uint64_t seed, program *p) {
  uint64_t s = seed;
  memset(p, 0, sizeof *p);
  static const char *const with_names[] = {"w0", "w1", "w2"};
  int nstream = (int)rnd(&s, 3);
  for (int i = 0; i < nstream; i++) {
    step *st = &p->steps[p->n++];
    if (rnd(&s, 2)) {
      st->kind = S_FILTER;
      st->text = FILTERS[rnd(&s, sizeof FILTERS / sizeof *FILTERS)];
    } else {
      st->kind = S_WITH;
      size_t w = rnd(&s, sizeof WITHS / sizeof *WITHS);
      st->text = WITHS[w];
      /* Float-valued expressions sometimes replace the float64 column that
       * later steps read (the type stays float64). */
      bool is_float = w == 1 || w == 2 || w == 4 || w == 5 || w == 6;
      st->name = is_float && rnd(&s, 3) == 0 ? C_F64 : with_names[i];
    }
  }
  static const char *const sortable[] = {C_F64, C_STR, C_I8, C_BOOL, C_DSTR, C_TS, C_BIN, C_F32};
  switch (rnd(&s, 4)) {
    case 0: { /* group-by, then maybe a sort by its keys */
      step *st = &p->steps[p->n++];
      st->kind = S_GROUP;
      st->nkeys = (int)rnd(&s, 3);
      for (int k = 0; k < st->nkeys; k++)
        st->keys[k] = GROUP_KEYS[rnd(&s, sizeof GROUP_KEYS / sizeof *GROUP_KEYS)];
      if (st->nkeys == 2 && strcmp(st->keys[0], st->keys[1]) == 0) st->nkeys = 1;
      st->text = AGGS[rnd(&s, sizeof AGGS / sizeof *AGGS)];
      st->sort_keys = rnd(&s, 2);
      break;
    }
    case 1:
      random_sort(&s, &p->steps[p->n++], sortable, 8);
      break;
    case 2: { /* join on int8 (full range, so keys repeat) or dictionary strings */
      step *st = &p->steps[p->n++];
      st->kind = S_JOIN;
      static const char *const kinds[] = {"inner", "left", "right", "full", "semi", "anti"};
      gf_error err;
      if (gf_join_kind_parse(kinds[rnd(&s, 6)], &st->how, &err) != GF_OK) return err.code;
      gf_datatype rt[3] = {gf_type(GF_TYPE_INT8), gf_type(GF_TYPE_FLOAT64),
                           gf_type_dictionary(gf_type(GF_TYPE_UTF8))};
      int64_t rrows = 1 + (int64_t)rnd(&s, 300);
      gf_status stt = gft_random_frame(rt, 3, rrows, 1 + (int)rnd(&s, 3), 0.1,
                                       gft_rand_next(&s), NULL, &p->right);
      if (stt != GF_OK) return stt;
      st->nkeys = 1;
      st->keys[0] = C_I8; /* right "c0" is int8 */
      /* Then a sort over left columns keeps the test about the join. */
      if (rnd(&s, 2)) random_sort(&s, &p->steps[p->n++], sortable, 8);
      break;
    }
    default:
      break;
  }
  if (rnd(&s, 3) == 0 && p->n < MAX_STEPS) {
    step *st = &p->steps[p->n++];
    st->kind = S_LIMIT;
    st->limit = (int64_t)rnd(&s, 200);
  }
  return GF_OK;
}

/* ---- execution ---------------------------------------------------------- */

static gf_expr *parse_or_fail(const char *text) {
  gf_expr *e = NULL;
  gf_error err;
  if (gf_expr_parse(text, &e, &err) != GF_OK) fail_msg("parse '%s': %s", text, err.message);
  return e;
}

/* Runs the program step by step with the eager operators. */
static gf_status run_eager(const program *p, const gf_frame *in,
                           const gf_parallel_options *o, gf_frame **out,
                           gf_error *err) {
  gf_frame *cur = gf_frame_retain((gf_frame *)in);
  for (int i = 0; i < p->n; i++) {
    const step *st = &p->steps[i];
    gf_frame *next = NULL;
    gf_status s = GF_OK;
    switch (st->kind) {
      case S_FILTER: {
        gf_expr *e = parse_or_fail(st->text);
        s = gf_filter(cur, e, o, &next, err);
        gf_expr_release(e);
        break;
      }
      case S_WITH: {
        gf_expr *e = parse_or_fail(st->text);
        s = gf_with_columns(cur, &st->name, &e, 1, o, &next, err);
        gf_expr_release(e);
        break;
      }
      case S_GROUP: {
        gf_groupby_options g;
        gf_groupby_options_init(&g);
        g.sort_keys = st->sort_keys;
        g.parallel = o;
        s = gf_group_by_text(cur, st->keys, st->nkeys, st->text, &g, &next, err);
        break;
      }
      case S_SORT:
        s = gf_sort(cur, st->sort, st->nsort, 0, o, &next, err);
        break;
      case S_JOIN: {
        gf_join_options j;
        gf_join_options_init(&j);
        j.parallel = o;
        const char *right_on[1] = {"c0"};
        s = gf_join(cur, p->right, st->keys, right_on, st->nkeys, st->how, &j, &next, err);
        break;
      }
      case S_LIMIT: {
        int64_t n = gf_frame_num_rows(cur);
        s = gf_frame_slice(cur, 0, st->limit < n ? st->limit : n, &next, err);
        break;
      }
    }
    gf_frame_release(cur);
    if (s != GF_OK) return s;
    cur = next;
  }
  *out = cur;
  return GF_OK;
}

/* Builds the program as a gf_pipeline. */
static gf_pipeline *build_pipeline(const program *p) {
  gf_pipeline *pl = NULL;
  gf_error err;
  assert_int_equal(gf_pipeline_new(&pl, &err), GF_OK);
  for (int i = 0; i < p->n; i++) {
    const step *st = &p->steps[i];
    gf_status s = GF_OK;
    switch (st->kind) {
      case S_FILTER: {
        gf_expr *e = parse_or_fail(st->text);
        s = gf_pipeline_add_filter(pl, e, &err);
        gf_expr_release(e);
        break;
      }
      case S_WITH: {
        gf_expr *e = parse_or_fail(st->text);
        s = gf_pipeline_add_with(pl, &st->name, &e, 1, &err);
        gf_expr_release(e);
        break;
      }
      case S_GROUP:
        s = gf_pipeline_add_group_by(pl, st->keys, st->nkeys, st->text, st->sort_keys, &err);
        break;
      case S_SORT:
        s = gf_pipeline_add_sort(pl, st->sort, st->nsort, &err);
        break;
      case S_JOIN: {
        const char *right_on[1] = {"c0"};
        s = gf_pipeline_add_join(pl, p->right, st->keys, right_on, st->nkeys, st->how, NULL, &err);
        break;
      }
      case S_LIMIT:
        s = gf_pipeline_add_limit(pl, st->limit, &err);
        break;
    }
    if (s != GF_OK) fail_msg("building pipeline step %d: %s", i, err.message);
  }
  return pl;
}

/* Bitwise equality of float columns on top of gf_frame_equals (which also
 * compares floats bitwise; this states the property independently of it). */
static bool floats_bitwise_equal(const gf_frame *a, const gf_frame *b) {
  gf_frame *ca = NULL, *cb = NULL;
  if (gf_frame_combine_batches(a, NULL, &ca, NULL) != GF_OK) return false;
  if (gf_frame_combine_batches(b, NULL, &cb, NULL) != GF_OK) {
    gf_frame_release(ca);
    return false;
  }
  bool same = gf_frame_num_rows(ca) == gf_frame_num_rows(cb) &&
              gf_frame_num_columns(ca) == gf_frame_num_columns(cb);
  for (int c = 0; same && c < gf_frame_num_columns(ca) && gf_frame_num_batches(ca) > 0; c++) {
    const gf_array *x = gf_frame_column(ca, 0, c);
    const gf_array *y = gf_frame_column(cb, 0, c);
    gf_type_id id = gf_array_type(x).id;
    if (id != GF_TYPE_FLOAT32 && id != GF_TYPE_FLOAT64) continue;
    for (int64_t i = 0; same && i < gf_array_length(x); i++) {
      if (gf_array_is_null(x, i) != gf_array_is_null(y, i)) same = false;
      if (gf_array_is_null(x, i)) continue;
      double dx = gf_array_get_double(x, i), dy = gf_array_get_double(y, i);
      if (memcmp(&dx, &dy, sizeof dx) != 0) same = false;
    }
  }
  gf_frame_release(ca);
  gf_frame_release(cb);
  return same;
}

/* Prints a program (GF_PROPERTY_VERBOSE), to make a failing seed readable. */
static void print_program(const program *p, int64_t rows, int batches) {
  static const char *const kinds[] = {"filter", "with", "group-by", "sort", "join", "limit"};
  printf("  %lld rows in %d batches\n", (long long)rows, batches);
  for (int i = 0; i < p->n; i++) {
    const step *st = &p->steps[i];
    printf("  %s", kinds[st->kind]);
    if (st->text) printf(" %s", st->text);
    if (st->name) printf(" as %s", st->name);
    for (int k = 0; k < st->nkeys; k++) printf(" key %s", st->keys[k]);
    for (int k = 0; k < st->nsort; k++)
      printf(" by %s%s%s", st->sort[k].column, st->sort[k].descending ? " desc" : "",
             st->sort[k].nulls_first ? " nulls first" : "");
    if (st->kind == S_JOIN) printf(" how %s (%lld right rows)", gf_join_kind_name(st->how),
                                   (long long)gf_frame_num_rows(p->right));
    if (st->kind == S_LIMIT) printf(" %lld", (long long)st->limit);
    printf("\n");
  }
}

static int num_cases(void) {
  const char *env = getenv("GF_PROPERTY_CASES");
  if (env && *env) {
    int n = atoi(env);
    if (n > 0) return n;
  }
  return DEFAULT_CASES;
}

static const int WORKERS[] = {1, 2, 3, 8};
static const int64_t CHUNKS[] = {1, 7, 1024, 0};
static const gf_strategy STRATEGIES[] = {GF_STRATEGY_AUTO, GF_STRATEGY_FIXED_CHUNKS,
                                         GF_STRATEGY_CACHE_FRIENDLY,
                                         GF_STRATEGY_MEMORY_BOUND};

static long g_runs; /* executions compared, reported at the end */

/* One property case: frame and program from `seed`; the reference is the
 * eager run at 1 worker with default options; every configuration must
 * reproduce it exactly, through both the pipeline and the eager path. */
static void run_case(uint64_t seed) {
  uint64_t s = seed;
  gf_datatype types[GFT_MAX_TYPES];
  int ntypes = gft_all_types(types, GFT_MAX_TYPES);
  int64_t rows = (int64_t)rnd(&s, 1500);
  if (rnd(&s, 8) == 0) rows = (int64_t)rnd(&s, 3); /* tiny and empty frames */
  int batches = 1 + (int)rnd(&s, 7);
  double null_prob = rnd(&s, 3) == 0 ? 0.0 : 0.15;
  gf_frame *in = NULL;
  assert_int_equal(gft_random_frame(types, ntypes, rows, batches, null_prob,
                                    gft_rand_next(&s), NULL, &in),
                   GF_OK);
  program p;
  assert_int_equal(random_program(gft_rand_next(&s), &p), GF_OK);
  if (getenv("GF_PROPERTY_VERBOSE")) print_program(&p, rows, batches);

  gf_parallel_options ref_o;
  gf_parallel_options_init(&ref_o);
  ref_o.num_workers = 1;
  gf_frame *ref = NULL;
  gf_error err;
  gf_status ref_st = run_eager(&p, in, &ref_o, &ref, &err);
  if (ref_st != GF_OK) fail_msg("seed %llu: reference run failed: %s", (unsigned long long)seed, err.message);

  gf_pipeline *pl = build_pipeline(&p);
  for (size_t w = 0; w < 4; w++)
    for (size_t c = 0; c < 4; c++)
      for (size_t k = 0; k < 4; k++) {
        gf_parallel_options o;
        gf_parallel_options_init(&o);
        o.num_workers = WORKERS[w];
        o.chunk_rows = CHUNKS[c];
        o.strategy = STRATEGIES[k];
        o.min_parallel_rows = 0;
        for (int path = 0; path < 2; path++) {
          gf_frame *got = NULL;
          gf_status st = path == 0 ? gf_pipeline_run(pl, in, &o, &got, &err)
                                   : run_eager(&p, in, &o, &got, &err);
          if (st != GF_OK)
            fail_msg("seed %llu workers %d chunk %lld strategy %d %s: %s",
                     (unsigned long long)seed, WORKERS[w], (long long)CHUNKS[c],
                     (int)STRATEGIES[k], path ? "eager" : "pipeline", err.message);
          if (!gf_frame_equals(ref, got) || !floats_bitwise_equal(ref, got))
            fail_msg("seed %llu workers %d chunk %lld strategy %d %s: result differs "
                     "from the 1-worker reference (%lld vs %lld rows)",
                     (unsigned long long)seed, WORKERS[w], (long long)CHUNKS[c],
                     (int)STRATEGIES[k], path ? "eager" : "pipeline",
                     (long long)gf_frame_num_rows(ref), (long long)gf_frame_num_rows(got));
          gf_frame_release(got);
          g_runs++;
        }
      }
  gf_pipeline_free(pl);
  gf_frame_release(ref);
  gf_frame_release(in);
  gf_frame_release(p.right);
}

static void test_random_pipelines_are_identical_for_every_configuration(void **state) {
  (void)state;
  int n = num_cases();
  /* GF_PROPERTY_FIRST=k starts at case k (to replay one failing case). */
  const char *first_env = getenv("GF_PROPERTY_FIRST");
  int first = first_env ? atoi(first_env) : 0;
  bool verbose = getenv("GF_PROPERTY_VERBOSE") != NULL;
  g_runs = 0;
  for (int i = first; i < first + n; i++) {
    if (verbose) {
      printf("case %d seed %llu\n", i, (unsigned long long)(0x9e3779b97f4a7c15ull * (uint64_t)(i + 1)));
      fflush(stdout);
    }
    run_case(0x9e3779b97f4a7c15ull * (uint64_t)(i + 1));
  }
  printf("determinism properties: %d cases, %ld runs compared\n", n, g_runs);
}

/* Float sums are the classic source of thread-count dependence: a frame of
 * values whose sum depends on the association order, grouped on few keys,
 * must still give bit-identical sums and means everywhere, within rounding
 * of a long double reference (bounded by the sum of magnitudes). */
static void test_float_aggregates_are_bit_identical(void **state) {
  (void)state;
  enum { N = 5000 };
  double *v = malloc(sizeof(double) * N);
  int64_t *k = malloc(sizeof(int64_t) * N);
  assert_non_null(v);
  assert_non_null(k);
  uint64_t s = 42;
  for (int i = 0; i < N; i++) {
    /* Magnitudes from 1e-8 to 1e8: addition is far from associative. */
    int e = (int)rnd(&s, 17) - 8;
    double m = (double)(int64_t)rnd(&s, 1000000) / 1000.0;
    double x = m;
    for (int j = 0; j < (e < 0 ? -e : e); j++) x = e < 0 ? x / 10 : x * 10;
    v[i] = rnd(&s, 2) ? x : -x;
    k[i] = (int64_t)rnd(&s, 3);
  }
  gf_array *va = gft_double_array(gf_type(GF_TYPE_FLOAT64), v, NULL, N);
  gf_array *ka = gft_int64_array(gf_type(GF_TYPE_INT64), k, NULL, N);
  const char *names[2] = {"k", "v"};
  gf_array *cols[2] = {ka, va};
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_from_columns(names, cols, 2, &f, NULL), GF_OK);
  gf_array_release(va);
  gf_array_release(ka);
  /* The reference: sums in long double per key (and of |v|, which bounds
   * the rounding error of any summation order). */
  long double want[4] = {0}, mag[4] = {0};
  int64_t cnt[3] = {0};
  for (int i = 0; i < N; i++) {
    want[k[i]] += v[i], want[3] += v[i];
    mag[k[i]] += fabsl((long double)v[i]), mag[3] += fabsl((long double)v[i]);
    cnt[k[i]]++;
  }
  free(v);
  free(k);
  const char *keys[1] = {"k"};
  gf_frame *ref = NULL, *ref_total = NULL;
  for (size_t w = 0; w < 4; w++)
    for (size_t c = 0; c < 4; c++)
      for (size_t st = 0; st < 4; st++) {
        gf_parallel_options o;
        gf_parallel_options_init(&o);
        o.num_workers = WORKERS[w];
        o.chunk_rows = CHUNKS[c];
        o.strategy = STRATEGIES[st];
        o.min_parallel_rows = 0;
        gf_groupby_options g;
        gf_groupby_options_init(&g);
        g.parallel = &o;
        gf_frame *got = NULL;
        gf_error err;
        if (gf_group_by_text(f, keys, 1, "sum(v) as s, mean(v) as m, var(v) as var", &g, &got, &err) != GF_OK)
          fail_msg("group-by: %s", err.message);
        gf_frame *total = NULL;
        if (gf_group_by_text(f, NULL, 0, "sum(v) as s", &g, &total, &err) != GF_OK)
          fail_msg("group-by: %s", err.message);
        if (!ref) {
          ref = got;
          ref_total = total;
        } else {
          assert_true(gf_frame_equals(ref, got));
          assert_true(floats_bitwise_equal(ref, got));
          assert_true(floats_bitwise_equal(ref_total, total));
          gf_frame_release(got);
          gf_frame_release(total);
        }
      }
  /* Identical everywhere, and right: groups come in first-appearance order. */
  gf_frame *one;
  assert_int_equal(gf_frame_combine_batches(ref, NULL, &one, NULL), GF_OK);
  gf_schema *sc = gf_frame_schema(one);
  for (int64_t r = 0; r < gf_frame_num_rows(one); r++) {
    int64_t key = gf_array_get_int64(gf_frame_column(one, 0, gf_schema_find(sc, "k")), r);
    double sum = gf_array_get_double(gf_frame_column(one, 0, gf_schema_find(sc, "s")), r);
    double mean = gf_array_get_double(gf_frame_column(one, 0, gf_schema_find(sc, "m")), r);
    double tol = 1e-13 * (double)mag[key];
    if (!(fabs(sum - (double)want[key]) <= tol))
      fail_msg("sum of key %lld: %.17g, reference %.17Lg", (long long)key, sum, want[key]);
    if (!(fabs(mean - (double)(want[key] / cnt[key])) <= tol / (double)cnt[key] + 1e-300))
      fail_msg("mean of key %lld: %.17g, reference %.17Lg", (long long)key, mean,
               want[key] / cnt[key]);
  }
  gf_frame_release(one);
  assert_int_equal(gf_frame_num_rows(ref_total), 1);
  double total = gf_array_get_double(gf_frame_column(ref_total, 0, 0), 0);
  if (!(fabs(total - (double)want[3]) <= 1e-13 * (double)mag[3]))
    fail_msg("total: %.17g, reference %.17Lg", total, want[3]);
  gf_frame_release(ref);
  gf_frame_release(ref_total);
  gf_frame_release(f);
}

/* Allocation failures inside random pipelines, in both modes of the failing
 * allocator: only the Nth allocation fails (one-off) or the Nth and every
 * later one (persistent). For N = 1, 2, ... until the run succeeds: the run
 * fails with GF_ENOMEM, leaves no live block, and the successful run equals
 * the reference, so the library stays usable after every failure. Small
 * frames keep the number of allocation sites (and runs) modest. */
static void test_random_pipelines_survive_allocation_failures(void **state) {
  (void)state;
  int cases = num_cases() / 4 + 1;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  long sites = 0;
  for (int i = 0; i < cases; i++) {
    uint64_t seed = 0x51ed270b27d5a3ffull * (uint64_t)(i + 3);
    uint64_t s = seed;
    gf_datatype types[GFT_MAX_TYPES];
    int ntypes = gft_all_types(types, GFT_MAX_TYPES);
    gf_frame *in = NULL;
    assert_int_equal(gft_random_frame(types, ntypes, 50 + (int64_t)rnd(&s, 150),
                                      1 + (int)rnd(&s, 3), 0.15, gft_rand_next(&s), NULL, &in),
                     GF_OK);
    program p;
    assert_int_equal(random_program(gft_rand_next(&s), &p), GF_OK);
    gf_parallel_options ref_o;
    gf_parallel_options_init(&ref_o);
    ref_o.num_workers = 1;
    gf_frame *ref = NULL;
    gf_error err;
    assert_int_equal(run_eager(&p, in, &ref_o, &ref, &err), GF_OK);
    gf_pipeline *pl = build_pipeline(&p);
    for (int persistent = 0; persistent < 2; persistent++) {
      for (int64_t n = 1;; n++) {
        gf_parallel_options o;
        gf_parallel_options_init(&o);
        o.num_workers = 2;
        o.chunk_rows = 7;
        o.min_parallel_rows = 0;
        o.allocator = gf_failing_allocator_get(fa);
        gf_failing_allocator_arm(fa, n, persistent);
        gf_frame *got = NULL;
        gf_status st = gf_pipeline_run(pl, in, &o, &got, &err);
        if (st == GF_OK) {
          assert_true(gf_frame_equals(ref, got));
          gf_frame_release(got);
          assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
          break;
        }
        if (st != GF_ENOMEM)
          fail_msg("seed %llu allocation %lld (%s): status %d: %s", (unsigned long long)seed,
                   (long long)n, persistent ? "persistent" : "one-off", (int)st, err.message);
        assert_null(got);
        if (gf_failing_allocator_live_blocks(fa) != 0)
          fail_msg("seed %llu allocation %lld (%s): %lld blocks leaked",
                   (unsigned long long)seed, (long long)n, persistent ? "persistent" : "one-off",
                   (long long)gf_failing_allocator_live_blocks(fa));
        sites++;
        if (n > 100000) fail_msg("seed %llu: no success after %lld failures", (unsigned long long)seed, (long long)n);
      }
    }
    gf_pipeline_free(pl);
    gf_frame_release(ref);
    gf_frame_release(in);
    gf_frame_release(p.right);
  }
  gf_failing_allocator_free(fa);
  printf("allocation sweeps over random pipelines: %d cases, %ld failing runs\n", cases, sites);
}

/* Regression (property case 30): a filter of an empty frame has no batches;
 * a full join with it as the left side gave dictionary columns without a
 * dictionary (invalid), and sorting by one of them crashed. */
static void test_full_join_of_batchless_frame_gives_valid_dictionaries(void **state) {
  (void)state;
  gf_datatype lt[3] = {gf_type(GF_TYPE_INT8), gf_type_dictionary(gf_type(GF_TYPE_UTF8)),
                       gf_type_dictionary(gf_type(GF_TYPE_INT32))};
  gf_datatype rt[1] = {gf_type(GF_TYPE_INT8)};
  gf_frame *l = NULL, *r = NULL, *empty = NULL, *joined = NULL, *sorted = NULL;
  gf_error err;
  assert_int_equal(gft_random_frame(lt, 3, 0, 3, 0.1, 1, NULL, &l), GF_OK);
  assert_int_equal(gft_random_frame(rt, 1, 20, 2, 0.1, 2, NULL, &r), GF_OK);
  gf_expr *p = parse_or_fail("c0 > 0");
  assert_int_equal(gf_filter(l, p, NULL, &empty, &err), GF_OK);
  gf_expr_release(p);
  const char *lk[1] = {"c0"}, *rk[1] = {"c0"};
  assert_int_equal(gf_join(empty, r, lk, rk, 1, GF_JOIN_FULL, NULL, &joined, &err), GF_OK);
  assert_int_equal(gf_frame_num_rows(joined), 20);
  for (int b = 0; b < gf_frame_num_batches(joined); b++)
    for (int c = 0; c < gf_frame_num_columns(joined); c++) {
      gf_status st = gf_array_validate(gf_frame_column(joined, b, c), true, &err);
      if (st != GF_OK) fail_msg("batch %d column %d: %s", b, c, err.message);
    }
  gf_sort_key key = {"c1", false, false};
  assert_int_equal(gf_sort(joined, &key, 1, 0, NULL, &sorted, &err), GF_OK);
  assert_int_equal(gf_frame_num_rows(sorted), 20);
  gf_frame_release(sorted);
  gf_frame_release(joined);
  gf_frame_release(empty);
  gf_frame_release(r);
  gf_frame_release(l);
}

/* ---- an independent reference: random programs, naively interpreted ---- */

/* The tests above compare configurations with each other; this one checks
 * the answers. Programs come from a smaller grammar that plain C can
 * evaluate row by row: over columns a (int64), b (float64, multiples of
 * 1/8 so every sum is exact in any order), g (int32 in 0..5), t (bool),
 * s (utf8 from a pool), every one with nulls:
 *   0-2 filters   ATOM [and|or ATOM], SQL three-valued logic
 *   0-1 with      y = a * K + g
 *   then one of   nothing | sort (1-2 keys, either direction, nulls
 *                 first or last) [limit] | group-by g (sorted keys) with
 *                 count, count/sum(a), min/max/sum(b), min(s) [sum(y)]. */
enum { NV_A, NV_B, NV_G, NV_T, NV_S, NV_Y, NV_COLS };
static const char *const NV_NAMES[NV_COLS] = {"a", "b", "g", "t", "s", "y"};
static const char *const NV_POOL[6] = {"p0", "p1", "q", "", "zz", "é"};

typedef struct nv_row {
  int64_t v[NV_COLS]; /* a, g, t (0/1), s (pool index), y */
  double b;
  bool ok[NV_COLS];
  int64_t id; /* input row, for stable sorts */
} nv_row;

/* One comparison: ops 0 '>', 1 '<=', 2 '=', 3 '!=', 4 'is null',
 * 5 'is not null', 6 bare t, 7 'not t'. */
typedef struct nv_atom {
  int col, op;
  int64_t lit;
  double dlit;
} nv_atom;

typedef struct nv_filter {
  nv_atom x[2];
  int n;
  bool is_or;
} nv_filter;

typedef struct nv_program {
  nv_filter f[2];
  int nf;
  bool with;
  int64_t k;
  int tail; /* 0 nothing, 1 sort, 2 group-by */
  gf_sort_key sort[2];
  int nsort;
  int64_t limit; /* 0 = none */
  char text[4][160];
  program prog; /* the same, for build_pipeline / run_eager */
} nv_program;

enum { NV_F = 0, NV_T_ = 1, NV_N = 2 }; /* Kleene values */

static int nv_atom_eval(const nv_atom *x, const nv_row *r) {
  if (x->op == 4) return !r->ok[x->col];
  if (x->op == 5) return r->ok[x->col];
  if (!r->ok[x->col]) return NV_N;
  if (x->op == 6) return r->v[NV_T] != 0;
  if (x->op == 7) return r->v[NV_T] == 0;
  if (x->col == NV_B) return x->op == 0 ? r->b > x->dlit : r->b <= x->dlit;
  if (x->col == NV_S) return (r->v[NV_S] == x->lit) == (x->op == 2);
  int64_t v = r->v[x->col];
  switch (x->op) {
    case 0: return v > x->lit;
    case 1: return v <= x->lit;
    case 2: return v == x->lit;
    default: return v != x->lit;
  }
}

static bool nv_keep(const nv_filter *f, const nv_row *r) {
  int v = nv_atom_eval(&f->x[0], r);
  if (f->n == 2) {
    int w = nv_atom_eval(&f->x[1], r);
    if (f->is_or) v = (v == NV_T_ || w == NV_T_) ? NV_T_ : (v == NV_F && w == NV_F) ? NV_F : NV_N;
    else v = (v == NV_F || w == NV_F) ? NV_F : (v == NV_T_ && w == NV_T_) ? NV_T_ : NV_N;
  }
  return v == NV_T_;
}

/* Random atom and its text. */
static void nv_random_atom(uint64_t *s, nv_atom *x, char *buf, size_t cap) {
  static const int cols[] = {NV_A, NV_B, NV_G, NV_T, NV_S};
  x->col = cols[rnd(s, 5)];
  x->op = (int)rnd(s, 4);
  if (rnd(s, 6) == 0) x->op = 4 + (int)rnd(s, 2);
  const char *nm = NV_NAMES[x->col];
  if (x->op >= 4) {
    snprintf(buf, cap, "%s is %snull", nm, x->op == 5 ? "not " : "");
    return;
  }
  switch (x->col) {
    case NV_T:
      x->op = 6 + (int)rnd(s, 2);
      snprintf(buf, cap, x->op == 6 ? "t" : "not t");
      break;
    case NV_B:
      x->op = (int)rnd(s, 2);
      x->dlit = (double)((int64_t)rnd(s, 161) - 80) + 0.5;
      snprintf(buf, cap, "b %s %.1f", x->op == 0 ? ">" : "<=", x->dlit);
      break;
    case NV_S:
      x->op = 2 + (int)rnd(s, 2);
      x->lit = (int64_t)rnd(s, 6);
      snprintf(buf, cap, "s %s '%s'", x->op == 2 ? "=" : "!=", NV_POOL[x->lit]);
      break;
    default: {
      static const char *const ops[] = {">", "<=", "=", "!="};
      x->lit = x->col == NV_G ? (int64_t)rnd(s, 6) : (int64_t)rnd(s, 101) - 50;
      snprintf(buf, cap, "%s %s %lld", nm, ops[x->op], (long long)x->lit);
    }
  }
}

static void nv_random_program(uint64_t seed, nv_program *P) {
  uint64_t s = seed;
  memset(P, 0, sizeof *P);
  program *p = &P->prog;
  P->nf = (int)rnd(&s, 3);
  int t = 0;
  for (int i = 0; i < P->nf; i++) {
    nv_filter *f = &P->f[i];
    char a[64], b[64];
    f->n = 1 + (int)rnd(&s, 2);
    nv_random_atom(&s, &f->x[0], a, sizeof a);
    if (f->n == 2) {
      nv_random_atom(&s, &f->x[1], b, sizeof b);
      f->is_or = rnd(&s, 2);
      snprintf(P->text[t], sizeof P->text[t], "(%s) %s (%s)", a, f->is_or ? "or" : "and", b);
    } else {
      snprintf(P->text[t], sizeof P->text[t], "%s", a);
    }
    p->steps[p->n].kind = S_FILTER;
    p->steps[p->n++].text = P->text[t++];
  }
  P->with = rnd(&s, 2);
  if (P->with) {
    P->k = (int64_t)rnd(&s, 7) - 3;
    snprintf(P->text[t], sizeof P->text[t], "a * %lld + g", (long long)P->k);
    p->steps[p->n].kind = S_WITH;
    p->steps[p->n].name = "y";
    p->steps[p->n++].text = P->text[t++];
  }
  P->tail = (int)rnd(&s, 3);
  if (P->tail == 1) {
    static const char *const keys[] = {"a", "b", "g", "t", "s"};
    P->nsort = 1 + (int)rnd(&s, 2);
    for (int k = 0; k < P->nsort; k++) {
      P->sort[k].column = keys[rnd(&s, 5)];
      P->sort[k].descending = rnd(&s, 2);
      P->sort[k].nulls_first = rnd(&s, 2);
    }
    step *st = &p->steps[p->n++];
    st->kind = S_SORT;
    st->nsort = P->nsort;
    memcpy(st->sort, P->sort, sizeof P->sort);
    if (rnd(&s, 2)) {
      P->limit = 1 + (int64_t)rnd(&s, 200);
      p->steps[p->n].kind = S_LIMIT;
      p->steps[p->n++].limit = P->limit;
    }
  } else if (P->tail == 2) {
    snprintf(P->text[t], sizeof P->text[t],
             "count() as n, count(a) as ca, sum(a) as sa, min(b) as mn, max(b) as mx, "
             "sum(b) as sb, min(s) as ms%s",
             P->with ? ", sum(y) as sy" : "");
    step *st = &p->steps[p->n++];
    st->kind = S_GROUP;
    st->keys[0] = "g";
    st->nkeys = 1;
    st->sort_keys = true;
    st->text = P->text[t++];
  }
}

static const nv_program *g_nv_sort;

/* Compares two rows by the program's sort keys (nulls placed by
 * nulls_first whatever the direction), then by input row: a stable sort. */
static int nv_cmp(const void *pa, const void *pb) {
  const nv_row *x = pa, *y = pb;
  for (int k = 0; k < g_nv_sort->nsort; k++) {
    const gf_sort_key *key = &g_nv_sort->sort[k];
    int c = 0;
    for (int i = 0; i < NV_COLS; i++)
      if (strcmp(key->column, NV_NAMES[i]) == 0) c = i;
    if (x->ok[c] != y->ok[c]) return (x->ok[c] ? 1 : -1) * (key->nulls_first ? 1 : -1);
    if (!x->ok[c]) continue;
    int r;
    if (c == NV_B) r = (x->b > y->b) - (x->b < y->b);
    else if (c == NV_S) r = strcmp(NV_POOL[x->v[c]], NV_POOL[y->v[c]]);
    else r = (x->v[c] > y->v[c]) - (x->v[c] < y->v[c]);
    if (r != 0) return key->descending ? -r : r;
  }
  return (x->id > y->id) - (x->id < y->id);
}

/* An int-like column of the expected result from n values and flags. */
static gf_array *nv_ints(gf_type_id id, const int64_t *v, const bool *ok, int64_t n) {
  gf_builder *b;
  gf_array *a;
  assert_int_equal(gf_builder_new(gf_type(id), NULL, &b, NULL), GF_OK);
  for (int64_t i = 0; i < n; i++) {
    gf_status st = !ok[i] ? gf_builder_append_null(b, NULL)
                   : id == GF_TYPE_BOOL ? gf_builder_append_bool(b, v[i] != 0, NULL)
                                        : gf_builder_append_int64(b, v[i], NULL);
    assert_int_equal(st, GF_OK);
  }
  assert_int_equal(gf_builder_finish(b, &a, NULL), GF_OK);
  gf_builder_free(b);
  return a;
}

/* Column `name` of `got` equals `want` (released here). */
static void nv_expect(const gf_frame *got, const char *name, gf_array *want, const char *what,
                      uint64_t seed) {
  gf_frame *one;
  assert_int_equal(gf_frame_combine_batches(got, NULL, &one, NULL), GF_OK);
  int c = gf_schema_find(gf_frame_schema(one), name);
  if (c < 0) fail_msg("seed %llu %s: no column %s", (unsigned long long)seed, what, name);
  bool same = gf_frame_num_batches(one) == 0 ? gf_array_length(want) == 0
                                             : gf_array_equals(gf_frame_column(one, 0, c), want);
  if (!same)
    fail_msg("seed %llu %s: column %s differs from the naive interpreter (%lld rows, want %lld)",
             (unsigned long long)seed, what, name, (long long)gf_frame_num_rows(one),
             (long long)gf_array_length(want));
  gf_frame_release(one);
  gf_array_release(want);
}

static void nv_check(const nv_program *P, const nv_row *rows, int64_t n, const gf_frame *got,
                     const char *what, uint64_t seed) {
  int64_t *iv = calloc((size_t)n + 1, sizeof *iv);
  bool *ok = calloc((size_t)n + 1, sizeof *ok);
  double *dv = calloc((size_t)n + 1, sizeof *dv);
  const char **sv = calloc((size_t)n + 1, sizeof *sv);
  assert_true(iv && ok && dv && sv);
  if (P->tail != 2) {
    if (gf_frame_num_rows(got) != n)
      fail_msg("seed %llu %s: %lld rows, the naive interpreter keeps %lld", (unsigned long long)seed,
               what, (long long)gf_frame_num_rows(got), (long long)n);
    for (int c = 0; c < NV_COLS; c++) {
      if (c == NV_Y && !P->with) continue;
      for (int64_t i = 0; i < n; i++) {
        iv[i] = rows[i].v[c], ok[i] = rows[i].ok[c], dv[i] = rows[i].b;
        sv[i] = rows[i].ok[c] ? NV_POOL[rows[i].v[NV_S]] : NULL;
      }
      gf_array *want = c == NV_B   ? gft_double_array(gf_type(GF_TYPE_FLOAT64), dv, ok, n)
                       : c == NV_S ? gft_string_array(gf_type(GF_TYPE_UTF8), sv, n)
                       : nv_ints(c == NV_G ? GF_TYPE_INT32 : c == NV_T ? GF_TYPE_BOOL : GF_TYPE_INT64,
                                 iv, ok, n);
      nv_expect(got, NV_NAMES[c], want, what, seed);
    }
  } else {
    /* Groups g = 0..5 then the null group (6), those that have rows. */
    int64_t cnt[7] = {0}, ca[7] = {0}, sa[7] = {0}, nb[7] = {0}, sy[7] = {0}, ny[7] = {0};
    int64_t ms[7];
    double mn[7] = {0}, mx[7] = {0}, sb[7] = {0};
    bool has_s[7] = {0};
    for (int64_t i = 0; i < n; i++) {
      const nv_row *r = &rows[i];
      int G = r->ok[NV_G] ? (int)r->v[NV_G] : 6;
      cnt[G]++;
      if (r->ok[NV_A]) ca[G]++, sa[G] += r->v[NV_A];
      if (r->ok[NV_B]) {
        if (nb[G] == 0 || r->b < mn[G]) mn[G] = r->b;
        if (nb[G] == 0 || r->b > mx[G]) mx[G] = r->b;
        sb[G] += r->b;
        nb[G]++;
      }
      if (r->ok[NV_S] && (!has_s[G] || strcmp(NV_POOL[r->v[NV_S]], NV_POOL[ms[G]]) < 0))
        ms[G] = r->v[NV_S], has_s[G] = true;
      if (P->with && r->ok[NV_Y]) sy[G] += r->v[NV_Y], ny[G]++;
    }
    int64_t m = 0, gk[7], n_[7], ca_[7], sa_[7], sy_[7];
    double mn_[7], mx_[7], sb_[7];
    bool gok[7], one[7], aok[7], bok[7], yok[7];
    const char *ms_[7];
    for (int G = 0; G < 7; G++) {
      if (cnt[G] == 0) continue;
      gk[m] = G, gok[m] = G < 6, n_[m] = cnt[G], ca_[m] = ca[G], one[m] = true;
      sa_[m] = sa[G], aok[m] = ca[G] > 0;
      mn_[m] = mn[G], mx_[m] = mx[G], sb_[m] = sb[G], bok[m] = nb[G] > 0;
      ms_[m] = has_s[G] ? NV_POOL[ms[G]] : NULL;
      sy_[m] = sy[G], yok[m] = ny[G] > 0;
      m++;
    }
    if (gf_frame_num_rows(got) != m)
      fail_msg("seed %llu %s: %lld groups, want %lld", (unsigned long long)seed, what,
               (long long)gf_frame_num_rows(got), (long long)m);
    nv_expect(got, "g", nv_ints(GF_TYPE_INT32, gk, gok, m), what, seed);
    nv_expect(got, "n", nv_ints(GF_TYPE_INT64, n_, one, m), what, seed);
    nv_expect(got, "ca", nv_ints(GF_TYPE_INT64, ca_, one, m), what, seed);
    nv_expect(got, "sa", nv_ints(GF_TYPE_INT64, sa_, aok, m), what, seed);
    nv_expect(got, "mn", gft_double_array(gf_type(GF_TYPE_FLOAT64), mn_, bok, m), what, seed);
    nv_expect(got, "mx", gft_double_array(gf_type(GF_TYPE_FLOAT64), mx_, bok, m), what, seed);
    nv_expect(got, "sb", gft_double_array(gf_type(GF_TYPE_FLOAT64), sb_, bok, m), what, seed);
    nv_expect(got, "ms", gft_string_array(gf_type(GF_TYPE_UTF8), ms_, m), what, seed);
    if (P->with) nv_expect(got, "sy", nv_ints(GF_TYPE_INT64, sy_, yok, m), what, seed);
  }
  free(iv), free(ok), free(dv), free(sv);
}

static void nv_run_case(uint64_t seed) {
  uint64_t s = seed;
  int64_t n = (int64_t)rnd(&s, 2500);
  if (rnd(&s, 8) == 0) n = (int64_t)rnd(&s, 3);
  nv_row *rows = calloc((size_t)n + 1, sizeof *rows);
  assert_non_null(rows);
  for (int64_t i = 0; i < n; i++) {
    nv_row *r = &rows[i];
    r->id = i;
    r->v[NV_A] = (int64_t)rnd(&s, 101) - 50;
    r->b = (double)((int64_t)rnd(&s, 1601) - 800) / 8.0;
    r->v[NV_G] = (int64_t)rnd(&s, 6);
    r->v[NV_T] = (int64_t)rnd(&s, 2);
    r->v[NV_S] = (int64_t)rnd(&s, 6);
    for (int c = 0; c < NV_Y; c++) r->ok[c] = rnd(&s, 6) != 0;
  }
  /* The input frame: the five columns, cut into 1-5 batches. */
  gf_frame *in;
  {
    int64_t *iv = calloc((size_t)n + 1, sizeof *iv);
    bool *ok = calloc((size_t)n + 1, sizeof *ok);
    double *dv = calloc((size_t)n + 1, sizeof *dv);
    const char **sv = calloc((size_t)n + 1, sizeof *sv);
    assert_true(iv && ok && dv && sv);
    gf_array *cols[NV_Y];
    for (int c = 0; c < NV_Y; c++) {
      for (int64_t i = 0; i < n; i++) {
        iv[i] = rows[i].v[c], ok[i] = rows[i].ok[c], dv[i] = rows[i].b;
        sv[i] = ok[i] ? NV_POOL[rows[i].v[NV_S]] : NULL;
      }
      cols[c] = c == NV_B   ? gft_double_array(gf_type(GF_TYPE_FLOAT64), dv, ok, n)
                : c == NV_S ? gft_string_array(gf_type(GF_TYPE_UTF8), sv, n)
                : nv_ints(c == NV_G ? GF_TYPE_INT32 : c == NV_T ? GF_TYPE_BOOL : GF_TYPE_INT64,
                          iv, ok, n);
    }
    free(iv), free(ok), free(dv), free(sv);
    gf_frame *whole;
    assert_int_equal(gf_frame_from_columns(NV_NAMES, cols, NV_Y, &whole, NULL), GF_OK);
    for (int c = 0; c < NV_Y; c++) gf_array_release(cols[c]);
    int nb = 1 + (int)rnd(&s, 5);
    gf_frame *parts[5];
    for (int b = 0; b < nb; b++) {
      int64_t lo = n * b / nb, hi = n * (b + 1) / nb;
      assert_int_equal(gf_frame_slice(whole, lo, hi - lo, &parts[b], NULL), GF_OK);
    }
    assert_int_equal(gf_frame_concat(parts, nb, NULL, &in, NULL), GF_OK);
    for (int b = 0; b < nb; b++) gf_frame_release(parts[b]);
    gf_frame_release(whole);
  }
  nv_program P;
  nv_random_program(gft_rand_next(&s), &P);
  if (getenv("GF_PROPERTY_VERBOSE")) print_program(&P.prog, n, 0);
  /* The naive run: filters, with, then sort and limit (group-by in nv_check). */
  int64_t m = 0;
  for (int64_t i = 0; i < n; i++) {
    bool keep = true;
    for (int f = 0; f < P.nf && keep; f++) keep = nv_keep(&P.f[f], &rows[i]);
    if (!keep) continue;
    nv_row r = rows[i];
    r.ok[NV_Y] = P.with && r.ok[NV_A] && r.ok[NV_G];
    r.v[NV_Y] = r.ok[NV_Y] ? r.v[NV_A] * P.k + r.v[NV_G] : 0;
    rows[m++] = r;
  }
  if (P.tail == 1) {
    g_nv_sort = &P;
    qsort(rows, (size_t)m, sizeof *rows, nv_cmp);
    if (P.limit > 0 && P.limit < m) m = P.limit;
  }
  gf_pipeline *pl = build_pipeline(&P.prog);
  static const int workers[] = {1, 3};
  static const int64_t chunks[] = {7, 0};
  for (int w = 0; w < 2; w++)
    for (int c = 0; c < 2; c++)
      for (int path = 0; path < 2; path++) {
        gf_parallel_options o;
        gf_parallel_options_init(&o);
        o.num_workers = workers[w];
        o.chunk_rows = chunks[c];
        o.min_parallel_rows = 0;
        gf_frame *got = NULL;
        gf_error err;
        gf_status st = path == 0 ? gf_pipeline_run(pl, in, &o, &got, &err)
                                 : run_eager(&P.prog, in, &o, &got, &err);
        if (st != GF_OK) fail_msg("seed %llu: %s", (unsigned long long)seed, err.message);
        char what[64];
        snprintf(what, sizeof what, "%s, workers %d, chunk %lld", path ? "eager" : "pipeline",
                 workers[w], (long long)chunks[c]);
        nv_check(&P, rows, m, got, what, seed);
        gf_frame_release(got);
      }
  gf_pipeline_free(pl);
  gf_frame_release(in);
  free(rows);
}

static void test_random_programs_match_a_naive_interpreter(void **state) {
  (void)state;
  int n = num_cases() * 4;
  for (int i = 0; i < n; i++) {
    uint64_t seed = 0x5851f42d4c957f2dull * (uint64_t)(i + 1);
    if (getenv("GF_PROPERTY_VERBOSE")) printf("naive case %d seed %llu\n", i, (unsigned long long)seed);
    nv_run_case(seed);
  }
  printf("naive interpreter: %d random programs, each at 8 configurations\n", n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_pipelines_are_identical_for_every_configuration),
      cmocka_unit_test(test_float_aggregates_are_bit_identical),
      cmocka_unit_test(test_random_pipelines_survive_allocation_failures),
      cmocka_unit_test(test_full_join_of_batchless_frame_gives_valid_dictionaries),
      cmocka_unit_test(test_random_programs_match_a_naive_interpreter),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
