/*
 * gf_describe (include/gopherframe/describe.h): summary statistics per
 * column, as a frame shaped like Polars' describe(). Moved here from the gf
 * tool so that any program gets the same numbers.
 *
 * Numbers: mean by a compensated sum and std (sample, n-1) by Welford, both
 * in row order; quartiles by linear interpolation between order statistics
 * (quickselect over order-preserving 64-bit keys, no sort). Strings: min/max
 * in byte order and the number of distinct values. Dates, times and
 * timestamps: min, quartiles (the lower order statistic) and max as text.
 * One task per column, each summarised sequentially, so results do not
 * depend on the worker count.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exec/exec_internal.h"
#include "ops/ops_internal.h"

enum { ST_COUNT, ST_NULLS, ST_UNIQUE, ST_MEAN, ST_STD, ST_MIN, ST_Q25, ST_Q50, ST_Q75, ST_MAX, ST_N };
static const char *const stat_names[ST_N] = {"count", "null_count", "n_unique", "mean", "std",
                                             "min",   "25%",        "50%",      "75%",  "max"};

typedef enum kind { K_SIGNED, K_UNSIGNED, K_FLOAT, K_BOOL, K_TEMPORAL, K_STRING, K_OTHER } kind;

/* A text cell of the result, allocated from the call's outer allocator. */
typedef struct cell {
  char *text; /* NUL-terminated; NULL = not applicable */
  size_t size;
} cell;

/* Numeric columns (integers, floats) are summarised as float64 values,
 * others as text, as Polars does. */
typedef struct column_summary {
  bool numeric;
  bool has[ST_N]; /* numeric: num[i] applies */
  double num[ST_N];
  cell cells[ST_N];
} column_summary;

typedef struct describe_job {
  const gf_frame *frame;
  const gf_allocator *alloc; /* for the cells, which outlive the tasks */
  column_summary *out;
  const gf_parallel_options *o; /* loaded: token and deadline to check */
} describe_job;

/* How a column of type t is summarised (dictionaries by their values). */
static kind kind_of(gf_datatype t) {
  bool dict = t.id == GF_TYPE_DICTIONARY;
  gf_type_id id = dict ? t.value_id : t.id;
  switch (id) {
    case GF_TYPE_INT8: case GF_TYPE_INT16: case GF_TYPE_INT32: case GF_TYPE_INT64:
      return dict ? K_OTHER : K_SIGNED;
    case GF_TYPE_UINT8: case GF_TYPE_UINT16: case GF_TYPE_UINT32: case GF_TYPE_UINT64:
      return dict ? K_OTHER : K_UNSIGNED;
    case GF_TYPE_FLOAT32: case GF_TYPE_FLOAT64:
    case GF_TYPE_DECIMAL128: /* as its correctly rounded doubles, like Polars */
      return dict ? K_OTHER : K_FLOAT;
    case GF_TYPE_BOOL: return K_BOOL;
    case GF_TYPE_DATE32: case GF_TYPE_DATE64: case GF_TYPE_TIME32: case GF_TYPE_TIME64:
    case GF_TYPE_TIMESTAMP: case GF_TYPE_DURATION:
      return dict ? K_OTHER : K_TEMPORAL;
    case GF_TYPE_UTF8: case GF_TYPE_LARGE_UTF8: return K_STRING;
    default: return K_OTHER;
  }
}

/* ---- order-preserving 64-bit keys --------------------------------------- */

static uint64_t key_of_signed(int64_t v) { return (uint64_t)v ^ (1ull << 63); }
static int64_t signed_of_key(uint64_t k) { return (int64_t)(k ^ (1ull << 63)); }
/* IEEE totalOrder: negatives reversed, positives above them. */
static uint64_t key_of_double(double v) {
  uint64_t b;
  memcpy(&b, &v, sizeof b);
  return (b >> 63) ? ~b : b | (1ull << 63);
}
/* Inverse of key_of_double. */
static double double_of_key(uint64_t k) {
  uint64_t b = (k >> 63) ? k & ~(1ull << 63) : ~k;
  double v;
  memcpy(&v, &b, sizeof v);
  return v;
}

static void swap_keys(uint64_t *k, size_t a, size_t b) {
  uint64_t t = k[a];
  k[a] = k[b];
  k[b] = t;
}

/* Rearranges k[lo..hi) so that k[n] holds the value of rank n, with no
 * larger key before it and no smaller one after it (Hoare quickselect). */
static void select_nth(uint64_t *k, size_t lo, size_t hi, size_t n) {
  while (hi - lo > 1) {
    /* The lower middle holds the median of three, so the pivot is never
     * the last element and every round shrinks the range. */
    size_t last = hi - 1, mid = lo + (last - lo) / 2;
    if (k[mid] < k[lo]) swap_keys(k, mid, lo);
    if (k[last] < k[lo]) swap_keys(k, last, lo);
    if (k[last] < k[mid]) swap_keys(k, last, mid);
    uint64_t pivot = k[mid];
    size_t i = lo, j = last;
    for (;;) {
      while (k[i] < pivot) i++;
      while (k[j] > pivot) j--;
      if (i >= j) break;
      swap_keys(k, i, j);
      i++;
      j--;
    }
    /* [lo, j] <= pivot <= [j+1, hi) */
    if (n <= j)
      hi = j + 1;
    else
      lo = j + 1;
  }
}

/* Smallest key in k[lo..hi). */
static uint64_t min_key(const uint64_t *k, size_t lo, size_t hi) {
  uint64_t m = k[lo];
  for (size_t i = lo + 1; i < hi; i++)
    if (k[i] < m) m = k[i];
  return m;
}

/* The numeric value of a key of an integer or float column. */
static double key_value(kind k, uint64_t key) {
  if (k == K_SIGNED) return (double)signed_of_key(key);
  if (k == K_UNSIGNED) return (double)key;
  return double_of_key(key);
}

/* ---- text cells -------------------------------------------------------- */

/* Sets *c to a copy of s[0, n); false when out of memory. */
static bool set_cell(const gf_allocator *a, cell *c, const char *s, size_t n) {
  c->text = gfi_malloc(a, n + 1);
  if (!c->text) return false;
  memcpy(c->text, s, n);
  c->text[n] = '\0';
  c->size = n + 1;
  return true;
}

static bool set_cell_i64(const gf_allocator *a, cell *c, int64_t v) {
  char b[24]; /* integers print the same in every C locale */
  int n = snprintf(b, sizeof b, "%lld", (long long)v);
  return set_cell(a, c, b, (size_t)n);
}

static bool set_cell_double(const gf_allocator *a, cell *c, double v) {
  char b[64];
  int n = gfi_format_double(b, sizeof b, v);
  return set_cell(a, c, b, (size_t)n);
}

/* The value of a key of a temporal column, as the table printer writes it
 * (through a one-element array of the column's type). */
static bool set_cell_temporal(const gf_allocator *a, cell *c, gf_datatype type, uint64_t key) {
  gf_builder *b = NULL;
  gf_array *arr = NULL;
  bool ok = false;
  if (gf_builder_new(type, a, &b, NULL) == GF_OK &&
      gf_builder_append_int64(b, signed_of_key(key), NULL) == GF_OK &&
      gf_builder_finish(b, &arr, NULL) == GF_OK) {
    char buf[128];
    int n = gf_array_format_value(arr, 0, buf, sizeof buf);
    ok = set_cell(a, c, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
  }
  gf_array_release(arr);
  gf_builder_free(b);
  return ok;
}

/* ---- distinct strings --------------------------------------------------- */

typedef struct str_slot {
  const char *p;
  int64_t len;
  uint64_t hash; /* 0 = empty slot */
} str_slot;

typedef struct str_set {
  const gf_allocator *a;
  str_slot *slots;
  size_t cap, count;
} str_set;

/* 64-bit hash of a byte string, never 0 (0 marks an empty slot). */
static uint64_t hash_bytes(const char *p, int64_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
  for (int64_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001B3ull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  return h ? h : 1;
}

/* Adds (p, n) unless present; false on out of memory. */
static bool str_set_add(str_set *s, const char *p, int64_t n) {
  if (2 * (s->count + 1) > s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    str_slot *ns = gfi_calloc(s->a, ncap * sizeof *ns);
    if (!ns) return false;
    for (size_t i = 0; i < s->cap; i++) {
      if (!s->slots[i].hash) continue;
      size_t j = s->slots[i].hash & (ncap - 1);
      while (ns[j].hash) j = (j + 1) & (ncap - 1);
      ns[j] = s->slots[i];
    }
    if (s->slots) gfi_mfree(s->a, s->slots, s->cap * sizeof *s->slots);
    s->slots = ns;
    s->cap = ncap;
  }
  uint64_t h = hash_bytes(p, n);
  size_t j = h & (s->cap - 1);
  while (s->slots[j].hash) {
    if (s->slots[j].hash == h && s->slots[j].len == n && memcmp(s->slots[j].p, p, (size_t)n) == 0)
      return true;
    j = (j + 1) & (s->cap - 1);
  }
  s->slots[j] = (str_slot){p, n, h};
  s->count++;
  return true;
}

/* Byte-order comparison of two strings. */
static int cmp_bytes(const char *a, int64_t an, const char *b, int64_t bn) {
  int c = memcmp(a, b, (size_t)(an < bn ? an : bn));
  return c ? c : (an < bn ? -1 : an > bn);
}

/* ---- one column ---------------------------------------------------------- */

/* Fills the summary of column c: temporaries from `tmp` (the task's
 * allocator), cells from `out_alloc`. GF_ENOMEM when memory runs out (cells
 * already made are freed by the caller). */
static gf_status summarise(const gf_frame *f, int c, const gf_allocator *tmp,
                           const gf_allocator *out_alloc, const gf_parallel_options *o,
                           column_summary *s, gf_error *err) {
  gf_datatype type = gf_schema_field(gf_frame_schema(f), c)->type;
  kind k = kind_of(type);
  int64_t rows = gf_frame_num_rows(f), nulls = 0, n = 0;
  uint64_t *keys = NULL;
  size_t keys_size = (size_t)(rows > 0 ? rows : 1) * sizeof *keys;
  if (k == K_SIGNED || k == K_UNSIGNED || k == K_FLOAT || k == K_TEMPORAL) {
    keys = gfi_malloc(tmp, keys_size);
    if (!keys) return GF_OOM(err, "the values of a column to describe");
  }
  double mean = 0, m2 = 0, sum = 0, comp = 0;
  int64_t trues = 0;
  const char *smin = NULL, *smax = NULL;
  int64_t smin_len = 0, smax_len = 0;
  str_set set = {tmp, NULL, 0, 0};
  bool ok = true;

  gf_status stop = GF_OK;
  for (int b = 0; b < gf_frame_num_batches(f) && ok && stop == GF_OK; b++) {
    const gf_array *a = gf_frame_column(f, b, c);
    int64_t len = gf_array_length(a);
    /* An all-null batch (a null-typed column may claim 2^40 rows without
     * any buffer) is counted, not walked. */
    if (gf_array_null_count(a) == len) {
      nulls += len;
      continue;
    }
    for (int64_t i = 0; i < len; i++) {
      /* The column is one task: it checks the token and the deadline. */
      if ((i & 0xFFFF) == 0xFFFF && (stop = gfi_check_stop(o, 0, NULL, err)) != GF_OK) break;
      if (gf_array_is_null(a, i)) {
        nulls++;
        continue;
      }
      if (k == K_STRING) {
        int64_t bl = 0;
        const char *p = gf_array_get_bytes(a, i, &bl);
        if (!p) { /* a null dictionary value */
          nulls++;
          continue;
        }
        if (!smin || cmp_bytes(p, bl, smin, smin_len) < 0) smin = p, smin_len = bl;
        if (!smax || cmp_bytes(p, bl, smax, smax_len) > 0) smax = p, smax_len = bl;
        if (!str_set_add(&set, p, bl)) {
          ok = false;
          break;
        }
      } else if (k == K_BOOL) {
        trues += gf_array_get_bool(a, i);
      } else if (keys) {
        double x;
        if (k == K_SIGNED || k == K_TEMPORAL) {
          int64_t v = gf_array_get_int64(a, i);
          keys[n] = key_of_signed(v);
          x = (double)v;
        } else if (k == K_UNSIGNED) {
          uint64_t v = gf_array_get_uint64(a, i);
          keys[n] = v;
          x = (double)v;
        } else {
          x = gf_array_get_double(a, i);
          keys[n] = key_of_double(x);
        }
        /* Neumaier-compensated sum for the mean (3.5, not 3.4999...),
         * Welford for the variance. */
        double t = sum + x;
        comp += fabs(sum) >= fabs(x) ? (sum - t) + x : (x - t) + sum;
        sum = t;
        double d = x - mean;
        mean += d / (double)(n + 1);
        m2 += d * (x - mean);
      }
      n++;
    }
  }

  const gf_allocator *oa = out_alloc;
  if (ok && (k == K_SIGNED || k == K_UNSIGNED || k == K_FLOAT)) {
    s->numeric = true;
    s->num[ST_COUNT] = (double)n;
    s->num[ST_NULLS] = (double)nulls;
    s->has[ST_COUNT] = s->has[ST_NULLS] = true;
  } else if (ok) {
    ok = set_cell_i64(oa, &s->cells[ST_COUNT], n) && set_cell_i64(oa, &s->cells[ST_NULLS], nulls);
  }
  if (!ok) {
    /* nothing more */
  } else if (k == K_STRING) {
    ok = set_cell_i64(oa, &s->cells[ST_UNIQUE], (int64_t)set.count) &&
         (!smin || set_cell(oa, &s->cells[ST_MIN], smin, (size_t)smin_len)) &&
         (!smax || set_cell(oa, &s->cells[ST_MAX], smax, (size_t)smax_len));
  } else if (k == K_BOOL && n > 0) {
    ok = set_cell_double(oa, &s->cells[ST_MEAN], (double)trues / (double)n) &&
         set_cell(oa, &s->cells[ST_MIN], trues == n ? "true" : "false", trues == n ? 4 : 5) &&
         set_cell(oa, &s->cells[ST_MAX], trues > 0 ? "true" : "false", trues > 0 ? 4 : 5);
  } else if (keys && n > 0) {
    size_t un = (size_t)n;
    bool numeric = k != K_TEMPORAL;
    if (numeric) {
      s->num[ST_MEAN] = (sum + comp) / (double)n;
      s->has[ST_MEAN] = true;
      if (n > 1) {
        s->num[ST_STD] = sqrt(m2 / (double)(n - 1));
        s->has[ST_STD] = true;
      }
    }
    uint64_t lo_key = keys[0], hi_key = keys[0];
    for (size_t i = 1; i < un; i++) {
      if (keys[i] < lo_key) lo_key = keys[i];
      if (keys[i] > hi_key) hi_key = keys[i];
    }
    if (numeric) {
      s->num[ST_MIN] = key_value(k, lo_key);
      s->num[ST_MAX] = key_value(k, hi_key);
      s->has[ST_MIN] = s->has[ST_MAX] = true;
    } else {
      ok = set_cell_temporal(oa, &s->cells[ST_MIN], type, lo_key) &&
           set_cell_temporal(oa, &s->cells[ST_MAX], type, hi_key);
    }
    const double q[3] = {0.25, 0.5, 0.75};
    size_t from = 0;
    for (int qi = 0; qi < 3 && ok; qi++) {
      double h = q[qi] * (double)(un - 1);
      size_t lo = (size_t)floor(h);
      /* Ranks only grow, and select_nth leaves no smaller key after lo. */
      select_nth(keys, from, un, lo);
      from = lo;
      uint64_t a = keys[lo];
      if (!numeric) {
        ok = set_cell_temporal(oa, &s->cells[ST_Q25 + qi], type, a);
        continue;
      }
      double va = key_value(k, a);
      double frac = h - (double)lo;
      if (frac > 0 && lo + 1 < un) {
        double vb = key_value(k, min_key(keys, lo + 1, un));
        va = va + frac * (vb - va);
      }
      s->num[ST_Q25 + qi] = va;
      s->has[ST_Q25 + qi] = true;
    }
  }
  if (set.slots) gfi_mfree(tmp, set.slots, set.cap * sizeof *set.slots);
  if (keys) gfi_mfree(tmp, keys, keys_size);
  if (stop != GF_OK) return stop;
  return ok ? GF_OK : GF_OOM(err, "the statistics of a column");
}

/* Runtime kernel: chunk "rows" are column indices. */
static gf_status describe_kernel(void *user, const gf_chunk_spec *chunk, gf_task_ctx *ctx) {
  describe_job *job = user;
  for (int64_t c = chunk->start_row; c < chunk->end_row; c++)
    GF_RETURN_NOT_OK(
        summarise(job->frame, (int)c, ctx->allocator, job->alloc, job->o, &job->out[c], ctx->err));
  return GF_OK;
}

/* The result frame: "statistic" then one column per input column. */
static gf_status build_frame(const gf_frame *f, const column_summary *sum,
                             const gf_allocator *a, gf_frame **out, gf_error *err) {
  int nc = gf_frame_num_columns(f);
  const char **names = gfi_calloc(a, ((size_t)nc + 1) * sizeof *names);
  gf_array **cols = gfi_calloc(a, ((size_t)nc + 1) * sizeof *cols);
  gf_status st = (names && cols) ? GF_OK : GF_OOM(err, "the describe frame");
  for (int c = 0; st == GF_OK && c <= nc; c++) {
    gf_builder *b = NULL;
    names[c] = c == 0 ? "statistic" : gf_schema_field(gf_frame_schema(f), c - 1)->name;
    bool numeric = c > 0 && sum[c - 1].numeric;
    st = gf_builder_new(gf_type(numeric ? GF_TYPE_FLOAT64 : GF_TYPE_UTF8), a, &b, err);
    for (int r = 0; st == GF_OK && r < ST_N; r++) {
      if (numeric) {
        st = sum[c - 1].has[r] ? gf_builder_append_double(b, sum[c - 1].num[r], err)
                               : gf_builder_append_null(b, err);
        continue;
      }
      const char *text = c == 0 ? stat_names[r] : sum[c - 1].cells[r].text;
      st = text ? gf_builder_append_string(b, text, err) : gf_builder_append_null(b, err);
    }
    if (st == GF_OK) st = gf_builder_finish(b, &cols[c], err);
    gf_builder_free(b);
  }
  if (st == GF_OK) st = gf_frame_from_columns(names, cols, nc + 1, out, err);
  for (int c = 0; cols && c <= nc; c++) gf_array_release(cols[c]);
  if (cols) gfi_mfree(a, cols, ((size_t)nc + 1) * sizeof *cols);
  if (names) gfi_mfree(a, names, ((size_t)nc + 1) * sizeof *names);
  return st;
}

/* gf_describe once its call context is loaded: every return of it goes
 * through gfi_ctx_end in gf_describe. */
static gf_status gf_describe_loaded(const gf_frame *f, const gf_parallel_options *opts, gf_frame **out,
                                    gf_error *err, gf_parallel_options o) {
  /* Tasks are whole columns: even a few are worth spreading. */
  o.min_parallel_rows = 0;
  const gf_allocator *a = gfi_alloc_or_default(o.allocator);
  int nc = gf_frame_num_columns(f);
  size_t nsum = (size_t)(nc > 0 ? nc : 1);
  column_summary *sum = gfi_calloc(a, nsum * sizeof *sum);
  gf_chunk_spec *chunks = gfi_calloc(a, nsum * sizeof *chunks);
  gf_status st = (sum && chunks) ? GF_OK : GF_OOM(err, "the describe state");
  if (st == GF_OK && nc > 0) {
    for (int c = 0; c < nc; c++) chunks[c] = (gf_chunk_spec){c, c + 1, c};
    describe_job job = {f, a, sum, &o};
    st = gf_run_chunks(chunks, nc, describe_kernel, &job, &o, err);
  }
  gf_frame *table = NULL;
  if (st == GF_OK) st = build_frame(f, sum, a, &table, err);
  for (int c = 0; sum && c < nc; c++)
    for (int r = 0; r < ST_N; r++)
      if (sum[c].cells[r].text) gfi_mfree(a, sum[c].cells[r].text, sum[c].cells[r].size);
  if (sum) gfi_mfree(a, sum, nsum * sizeof *sum);
  if (chunks) gfi_mfree(a, chunks, nsum * sizeof *chunks);
  if (st == GF_OK) *out = table;
  return st;
}

/* See describe.h. */
gf_status gf_describe(const gf_frame *f, const gf_parallel_options *opts, gf_frame **out,
                      gf_error *err) {
  if (!f || !out) return gf_error_set(err, GF_EINVAL, "gf_describe: invalid argument");
  gfi_ctx call;
  gf_parallel_options o;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, opts, &o, err));
  return gfi_ctx_end(&call, gf_describe_loaded(f, opts, out, err, o), err);
}
