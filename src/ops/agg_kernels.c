/*
 * Group-by phase 2: aggregate states, their per-row updates, the block-order
 * combine (Welford/Chan co-moments for var/std/corr), the block path and the
 * partition path with the holistic aggregates.
 *
 * Determinism: in the block path every reduction block (65,536 rows at
 * absolute offsets) accumulates its own partial states and partials are
 * combined in block order; in the partition path every group's rows are
 * visited in row order by one task. Neither depends on the worker count,
 * the strategy or the chunk size.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "data/builder_internal.h"
#include "data/decimal.h"
#include "exec/arena.h"
#include "ops/groupby_internal.h"

#define SUB GB_SUB

typedef struct st_sumi { int64_t n, s; } st_sumi;
typedef struct st_sumf { int64_t n; double s; } st_sumf;
/* Decimal sum: the 128-bit unscaled sum split in halves (no alignment
 * demands on the state arrays). */
typedef struct st_sumd { int64_t n; uint64_t lo; int64_t hi; } st_sumd;

static inline gfi_i128 sumd_get(const st_sumd *t) {
  gf_decimal128 d = {t->lo, t->hi};
  return gfi_dec_from_pub(d);
}
static inline void sumd_set(st_sumd *t, gfi_i128 v) {
  gf_decimal128 d = gfi_dec_to_pub(v);
  t->lo = d.lo;
  t->hi = d.hi;
}
typedef struct st_mm { int64_t row, key; } st_mm;
typedef struct st_var { int64_t n; double mean, m2; } st_var;
typedef struct st_corr { int64_t n; double mx, my, m2x, m2y, cxy; } st_corr;

bool gfi_gb_agg_decomposable(gf_agg_kind kind, int vc) {
  (void)vc;
  switch (kind) {
    case GF_AGG_MEDIAN:
    case GF_AGG_QUANTILE:
    case GF_AGG_N_UNIQUE:
    case GF_AGG_TOP_K: return false;
    default: return true;
  }
}

static bool sum_is_int(const gb_agg *ag) { return ag->vc == GB_VC_INT || ag->vc == GB_VC_U64; }
static bool sum_is_dec(const gb_agg *ag) { return ag->vc == GB_VC_DEC; }

static gf_status dec_overflow(const gb_agg *ag, gf_error *err) {
  return gf_error_set(err, GF_ERANGE,
                      "decimal overflow in %s: the sum does not fit in decimal128(38, %d)",
                      ag->name, (int)ag->type.scale);
}

/* Adds x to a decimal sum state; false when the sum leaves 38 digits. */
static inline bool sumd_add(st_sumd *t, gfi_i128 x) {
  gfi_i128 r;
  /* Imported values may exceed their precision: check the add itself too. */
  bool ovf = __builtin_add_overflow(sumd_get(t), x, &r);
  sumd_set(t, r);
  return !ovf && gfi_dec_fits(r, GFI_DEC128_MAX_PRECISION);
}

/* Bytes of one group's state (0: none, the row count serves). */
static size_t state_size(const gb_agg *ag) {
  switch (ag->kind) {
    case GF_AGG_COUNT: return sizeof(int64_t);
    case GF_AGG_SUM:
      return sum_is_dec(ag) ? sizeof(st_sumd) : sum_is_int(ag) ? sizeof(st_sumi) : sizeof(st_sumf);
    case GF_AGG_MEAN: return sum_is_dec(ag) ? sizeof(st_sumd) : sizeof(st_sumf);
    case GF_AGG_MIN:
    case GF_AGG_MAX: return sizeof(st_mm);
    case GF_AGG_FIRST:
    case GF_AGG_LAST: return sizeof(int64_t);
    case GF_AGG_VAR:
    case GF_AGG_STD: return sizeof(st_var);
    case GF_AGG_CORR: return sizeof(st_corr);
    default: return 0;
  }
}

static void state_init(const gb_agg *ag, void *p, int64_t count) {
  size_t ss = state_size(ag);
  if (!ss) return;
  memset(p, 0, ss * (size_t)count);
  if (ag->kind == GF_AGG_MIN || ag->kind == GF_AGG_MAX) {
    st_mm *m = p;
    for (int64_t i = 0; i < count; i++) m[i].row = -1;
  } else if (ag->kind == GF_AGG_FIRST || ag->kind == GF_AGG_LAST) {
    int64_t *r = p;
    for (int64_t i = 0; i < count; i++) r[i] = -1;
  }
}

/* One run of elements of a batch: [start, start+len) or rows[0..len)
 * (global rows, row_base = first row of the batch); idx[j] = handle. */
typedef struct gb_run {
  const gb_view *v;
  const gf_array *arr, *arr2;
  int64_t start, len, row0, row_base;
  const int32_t *rows;
  const uint32_t *idx;
} gb_run;

#define ROW(u, j) ((u)->rows ? (int64_t)(u)->rows[j] : (u)->row0 + (j))
#define ELEM(u, j) ((u)->rows ? (int64_t)(u)->rows[j] - (u)->row_base : (u)->start + (j))

static gf_status overflow(const gb_agg *ag, gf_error *err) {
  return gf_error_set(err, GF_ERANGE, "integer overflow in %s: the sum does not fit in int64",
                      ag->name);
}

/* Orders string element (arr, i) against the value at global row r. */
static int cmp_elem_row(const gb_view *v, int col, const gf_array *arr, int64_t i, int64_t r) {
  int b = gb_batch_of(v, r);
  return gfi_gb_cmp_elems(arr, i, gb_col(v, b, col), r - v->boff[b]);
}

/* Welford step. */
static inline void var_add(st_var *s, double x) {
  s->n++;
  double d = x - s->mean;
  s->mean += d / (double)s->n;
  s->m2 += d * (x - s->mean);
}

static inline void corr_add(st_corr *s, double x, double y) {
  s->n++;
  double n = (double)s->n;
  double dx = x - s->mx;
  s->mx += dx / n;
  double dy = y - s->my;
  s->my += dy / n;
  s->m2x += dx * (x - s->mx);
  s->m2y += dy * (y - s->my);
  s->cxy += dx * (y - s->my);
}

/* Applies one run to the states (indexed by u->idx). */
static gf_status update(const gb_agg *ag, void *states, const gb_run *u, gf_error *err) {
  int64_t len = u->len;
  const uint32_t *idx = u->idx;
  uint8_t valid[SUB];
  bool nulls = ag->kind != GF_AGG_COUNT_ALL &&
               gfi_gb_load_valid(u->arr, u->start, len, u->rows, u->row_base, valid);
  switch (ag->kind) {
    case GF_AGG_COUNT_ALL: return GF_OK;
    case GF_AGG_COUNT: {
      int64_t *s = states;
      if (nulls) for (int64_t j = 0; j < len; j++) s[idx[j]] += valid[j];
      else for (int64_t j = 0; j < len; j++) s[idx[j]]++;
      return GF_OK;
    }
    case GF_AGG_SUM:
    case GF_AGG_MEAN:
      if (sum_is_dec(ag)) {
        st_sumd *s = states;
        bool ok = true;
        for (int64_t j = 0; j < len; j++) {
          if (nulls && !valid[j]) continue;
          int64_t l;
          st_sumd *t = &s[idx[j]];
          t->n++;
          ok &= sumd_add(t, gfi_dec_load(gfi_value_bytes(u->arr, ELEM(u, j), &l)));
        }
        return ok ? GF_OK : dec_overflow(ag, err);
      }
      if (ag->kind == GF_AGG_SUM && sum_is_int(ag)) {
        int64_t x[SUB];
        gfi_gb_load_i64(u->arr, u->start, len, u->rows, u->row_base, x);
        st_sumi *s = states;
        bool ovf = false;
        if (ag->vc == GB_VC_U64)
          for (int64_t j = 0; j < len; j++) ovf |= (!nulls || valid[j]) && x[j] < 0;
        if (nulls) {
          /* Branch-free: a null adds 0 (its slot may hold anything). */
          for (int64_t j = 0; j < len; j++) {
            st_sumi *t = &s[idx[j]];
            t->n += valid[j];
            ovf |= __builtin_add_overflow(t->s, x[j] & -(int64_t)valid[j], &t->s);
          }
        } else {
          for (int64_t j = 0; j < len; j++) {
            st_sumi *t = &s[idx[j]];
            t->n++;
            ovf |= __builtin_add_overflow(t->s, x[j], &t->s);
          }
        }
        return ovf ? overflow(ag, err) : GF_OK;
      } else {
        double x[SUB];
        gfi_gb_load_f64(u->arr, u->start, len, u->rows, u->row_base, x);
        st_sumf *s = states;
        if (nulls) {
          /* Branch-free: a null adds -0.0, the exact identity of IEEE
           * addition (s + -0.0 == s bit for bit, +0.0 included), so the
           * sum is the one skipping the null would give. */
          for (int64_t j = 0; j < len; j++) {
            s[idx[j]].n += valid[j];
            s[idx[j]].s += valid[j] ? x[j] : -0.0;
          }
        } else {
          for (int64_t j = 0; j < len; j++) {
            s[idx[j]].n++;
            s[idx[j]].s += x[j];
          }
        }
        return GF_OK;
      }
    case GF_AGG_MIN:
    case GF_AGG_MAX: {
      st_mm *s = states;
      bool mx = ag->kind == GF_AGG_MAX;
      if (ag->vc == GB_VC_STR || ag->vc == GB_VC_DEC) {
        for (int64_t j = 0; j < len; j++) {
          if (nulls && !valid[j]) continue;
          st_mm *t = &s[idx[j]];
          if (t->row < 0) {
            t->row = ROW(u, j);
            continue;
          }
          int c = cmp_elem_row(u->v, ag->col, u->arr, ELEM(u, j), t->row);
          if (mx ? c > 0 : c < 0) t->row = ROW(u, j);
        }
        return GF_OK;
      }
      int64_t x[SUB];
      gfi_gb_load_key(u->arr, u->start, len, u->rows, u->row_base, ag->rank, x);
      for (int64_t j = 0; j < len; j++) {
        if (nulls && !valid[j]) continue;
        st_mm *t = &s[idx[j]];
        if (t->row < 0 || (mx ? x[j] > t->key : x[j] < t->key)) {
          t->row = ROW(u, j);
          t->key = x[j];
        }
      }
      return GF_OK;
    }
    case GF_AGG_FIRST:
    case GF_AGG_LAST: {
      int64_t *s = states;
      bool last = ag->kind == GF_AGG_LAST;
      for (int64_t j = 0; j < len; j++) {
        if (nulls && !valid[j]) continue;
        if (last || s[idx[j]] < 0) s[idx[j]] = ROW(u, j);
      }
      return GF_OK;
    }
    case GF_AGG_VAR:
    case GF_AGG_STD: {
      double x[SUB];
      gfi_gb_load_f64(u->arr, u->start, len, u->rows, u->row_base, x);
      st_var *s = states;
      for (int64_t j = 0; j < len; j++)
        if (!nulls || valid[j]) var_add(&s[idx[j]], x[j]);
      return GF_OK;
    }
    case GF_AGG_CORR: {
      double x[SUB], y[SUB];
      uint8_t valid2[SUB];
      bool nulls2 = gfi_gb_load_valid(u->arr2, u->start, len, u->rows, u->row_base, valid2);
      gfi_gb_load_f64(u->arr, u->start, len, u->rows, u->row_base, x);
      gfi_gb_load_f64(u->arr2, u->start, len, u->rows, u->row_base, y);
      st_corr *s = states;
      for (int64_t j = 0; j < len; j++) {
        if ((nulls && !valid[j]) || (nulls2 && !valid2[j])) continue;
        corr_add(&s[idx[j]], x[j], y[j]);
      }
      return GF_OK;
    }
    default: return GF_OK;
  }
}

/* dst = dst (earlier rows) combined with src (later rows). */
static gf_status combine(const gb_agg *ag, const gb_view *v, void *dst, const void *src,
                         gf_error *err) {
  switch (ag->kind) {
    case GF_AGG_COUNT: *(int64_t *)dst += *(const int64_t *)src; return GF_OK;
    case GF_AGG_SUM:
    case GF_AGG_MEAN:
      if (sum_is_dec(ag)) {
        st_sumd *d = dst;
        const st_sumd *s = src;
        d->n += s->n;
        return sumd_add(d, sumd_get(s)) ? GF_OK : dec_overflow(ag, err);
      }
      if (ag->kind == GF_AGG_SUM && sum_is_int(ag)) {
        st_sumi *d = dst;
        const st_sumi *s = src;
        d->n += s->n;
        if (__builtin_add_overflow(d->s, s->s, &d->s)) return overflow(ag, err);
      } else {
        st_sumf *d = dst;
        const st_sumf *s = src;
        if (s->n) {
          d->s = d->n ? d->s + s->s : s->s;
          d->n += s->n;
        }
      }
      return GF_OK;
    case GF_AGG_MIN:
    case GF_AGG_MAX: {
      st_mm *d = dst;
      const st_mm *s = src;
      if (s->row < 0) return GF_OK;
      if (d->row < 0) {
        *d = *s;
        return GF_OK;
      }
      bool mx = ag->kind == GF_AGG_MAX;
      int c;
      if (ag->vc == GB_VC_STR || ag->vc == GB_VC_DEC) {
        int b = gb_batch_of(v, s->row);
        c = cmp_elem_row(v, ag->col, gb_col(v, b, ag->col), s->row - v->boff[b], d->row);
      } else {
        c = s->key < d->key ? -1 : s->key > d->key;
      }
      if (mx ? c > 0 : c < 0) *d = *s;
      return GF_OK;
    }
    case GF_AGG_FIRST:
      if (*(int64_t *)dst < 0) *(int64_t *)dst = *(const int64_t *)src;
      return GF_OK;
    case GF_AGG_LAST:
      if (*(const int64_t *)src >= 0) *(int64_t *)dst = *(const int64_t *)src;
      return GF_OK;
    case GF_AGG_VAR:
    case GF_AGG_STD: {
      st_var *d = dst;
      const st_var *s = src;
      if (!s->n) return GF_OK;
      if (!d->n) {
        *d = *s;
        return GF_OK;
      }
      double na = (double)d->n, nb = (double)s->n, n = na + nb, delta = s->mean - d->mean;
      d->mean += delta * nb / n;
      d->m2 += s->m2 + delta * delta * na * nb / n;
      d->n += s->n;
      return GF_OK;
    }
    case GF_AGG_CORR: {
      st_corr *d = dst;
      const st_corr *s = src;
      if (!s->n) return GF_OK;
      if (!d->n) {
        *d = *s;
        return GF_OK;
      }
      double na = (double)d->n, nb = (double)s->n, n = na + nb;
      double dx = s->mx - d->mx, dy = s->my - d->my, f = na * nb / n;
      d->mx += dx * nb / n;
      d->my += dy * nb / n;
      d->m2x += s->m2x + dx * dx * f;
      d->m2y += s->m2y + dy * dy * f;
      d->cxy += s->cxy + dx * dy * f;
      d->n += s->n;
      return GF_OK;
    }
    default: return GF_OK;
  }
}

/* Writes the result of handle h from its final state; `rows` is the
 * group's row count. */
static void finalize(gb_agg *ag, int64_t h, const void *state, int64_t rows) {
  switch (ag->kind) {
    case GF_AGG_COUNT_ALL: ag->ri[h] = rows; ag->valid[h] = 1; break;
    case GF_AGG_COUNT: ag->ri[h] = *(const int64_t *)state; ag->valid[h] = 1; break;
    case GF_AGG_SUM:
      if (sum_is_dec(ag)) {
        const st_sumd *s = state;
        ag->rd[h] = (gf_decimal128){s->lo, s->hi};
        ag->valid[h] = s->n > 0;
      } else if (sum_is_int(ag)) {
        const st_sumi *s = state;
        ag->ri[h] = s->s;
        ag->valid[h] = s->n > 0;
      } else {
        const st_sumf *s = state;
        ag->rf[h] = s->s;
        ag->valid[h] = s->n > 0;
      }
      break;
    case GF_AGG_MEAN: {
      if (sum_is_dec(ag)) {
        /* The exact sum, rounded once to double, then divided (DuckDB's
         * avg(decimal) -> DOUBLE). */
        const st_sumd *d = state;
        ag->rf[h] = d->n ? gfi_dec_to_double(sumd_get(d), ag->type.scale) / (double)d->n : 0.0;
        ag->valid[h] = d->n > 0;
        break;
      }
      const st_sumf *s = state;
      ag->rf[h] = s->n ? s->s / (double)s->n : 0.0;
      ag->valid[h] = s->n > 0;
      break;
    }
    case GF_AGG_MIN:
    case GF_AGG_MAX: ag->rrow[h] = ((const st_mm *)state)->row; break;
    case GF_AGG_FIRST:
    case GF_AGG_LAST: ag->rrow[h] = *(const int64_t *)state; break;
    case GF_AGG_VAR:
    case GF_AGG_STD: {
      const st_var *s = state;
      double var = s->n > 1 ? s->m2 / (double)(s->n - 1) : 0.0;
      ag->rf[h] = ag->kind == GF_AGG_STD ? sqrt(var) : var;
      ag->valid[h] = s->n > 1;
      break;
    }
    case GF_AGG_CORR: {
      const st_corr *s = state;
      ag->rf[h] = s->n > 1 ? s->cxy / sqrt(s->m2x * s->m2y) : 0.0;
      ag->valid[h] = s->n > 1;
      break;
    }
    default: break;
  }
}

gf_status gfi_gb_agg_alloc_results(gb_agg *ag, int64_t nh, const gf_allocator *a, gf_error *err) {
  size_t n = (size_t)(nh ? nh : 1);
  ag->nres = nh;
  switch (ag->kind) {
    case GF_AGG_MIN:
    case GF_AGG_MAX:
    case GF_AGG_FIRST:
    case GF_AGG_LAST:
      ag->res = GB_RES_ROW;
      ag->rrow = gfi_scratch_alloc(a, sizeof *ag->rrow * n);
      if (!ag->rrow) return GF_OOM(err, "aggregate results");
      for (size_t i = 0; i < n; i++) ag->rrow[i] = -1;
      return GF_OK;
    case GF_AGG_TOP_K:
      ag->res = GB_RES_TOPK;
      ag->rrow = gfi_scratch_alloc(a, sizeof *ag->rrow * n * (size_t)ag->k);
      ag->rcnt = gfi_scratch_calloc(a, sizeof *ag->rcnt * n);
      ag->rnull = gfi_scratch_alloc(a, sizeof *ag->rnull * n);
      if (!ag->rrow || !ag->rcnt || !ag->rnull) return GF_OOM(err, "aggregate results");
      return GF_OK;
    case GF_AGG_COUNT_ALL:
    case GF_AGG_COUNT:
    case GF_AGG_N_UNIQUE: ag->res = GB_RES_I64; break;
    case GF_AGG_SUM:
      ag->res = sum_is_dec(ag) ? GB_RES_DEC : sum_is_int(ag) ? GB_RES_I64 : GB_RES_F64;
      break;
    default: ag->res = GB_RES_F64; break;
  }
  /* Per-group results are scratch (exec/arena.h): the output columns are
   * built from them. */
  if (ag->res == GB_RES_I64) ag->ri = gfi_scratch_alloc(a, sizeof *ag->ri * n);
  else if (ag->res == GB_RES_DEC) ag->rd = gfi_scratch_alloc(a, sizeof *ag->rd * n);
  else ag->rf = gfi_scratch_alloc(a, sizeof *ag->rf * n);
  ag->valid = gfi_scratch_calloc(a, n);
  bool have = ag->res == GB_RES_I64 ? ag->ri != NULL : ag->res == GB_RES_DEC ? ag->rd != NULL : ag->rf != NULL;
  if (!have || !ag->valid) return GF_OOM(err, "aggregate results");
  return GF_OK;
}

void gfi_gb_agg_free_results(gb_agg *ag, const gf_allocator *a) {
  size_t n = (size_t)(ag->nres ? ag->nres : 1);
  if (ag->ri) gfi_scratch_free(a, ag->ri, sizeof *ag->ri * n);
  if (ag->rf) gfi_scratch_free(a, ag->rf, sizeof *ag->rf * n);
  if (ag->rd) gfi_scratch_free(a, ag->rd, sizeof *ag->rd * n);
  ag->rd = NULL;
  if (ag->valid) gfi_scratch_free(a, ag->valid, n);
  if (ag->rrow)
    gfi_scratch_free(a, ag->rrow, sizeof *ag->rrow * n * (size_t)(ag->kind == GF_AGG_TOP_K ? ag->k : 1));
  if (ag->rcnt) gfi_scratch_free(a, ag->rcnt, sizeof *ag->rcnt * n);
  if (ag->rnull) gfi_scratch_free(a, ag->rnull, sizeof *ag->rnull * n);
  ag->ri = NULL;
  ag->rf = NULL;
  ag->valid = NULL;
  ag->rrow = NULL;
  ag->rcnt = NULL;
  ag->rnull = NULL;
}

/* ---- block path ------------------------------------------------------------ */

typedef struct blk_job {
  gb_ctx *c;
  gb_groups *g;
  gb_agg *aggs;
  int naggs;
  int64_t H, nblocks;
  int64_t *cnt;    /* nblocks * H */
  int32_t *first;  /* nblocks * H: offset in the block of the first row */
  char **st;       /* per agg: nblocks * H states */
  size_t *ss;
  int64_t *tot;    /* per handle: rows */
  int64_t *hfirst; /* per handle: first row or -1 */
} blk_job;

static gf_status blk_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  blk_job *J = user;
  gb_ctx *c = J->c;
  int64_t blk = ch->chunk_id, s0 = ch->start_row, H = J->H;
  int64_t *cnt = J->cnt + blk * H;
  int32_t *first = J->first + blk * H;
  memset(cnt, 0, sizeof *cnt * (size_t)H);
  for (int64_t h = 0; h < H; h++) first[h] = -1;
  for (int i = 0; i < J->naggs; i++)
    if (J->ss[i]) state_init(&J->aggs[i], J->st[i] + (size_t)blk * (size_t)H * J->ss[i], H);
  gf_status st = GF_OK;
  GB_FOR_PIECES(&c->v, ch->start_row, ch->end_row, {
    if (st != GF_OK) break;
    uint32_t idx[SUB];
    if (J->g->direct) {
      int64_t tmp[SUB];
      gfi_gb_keys_slots(c, b, lo, len, idx, tmp);
    } else {
      const int32_t *rg = J->g->rowgid + r0;
      for (int64_t j = 0; j < len; j++) idx[j] = (uint32_t)rg[j];
    }
    for (int64_t j = 0; j < len; j++)
      if (cnt[idx[j]]++ == 0) first[idx[j]] = (int32_t)(r0 + j - s0);
    for (int i = 0; i < J->naggs && st == GF_OK; i++) {
      gb_agg *ag = &J->aggs[i];
      if (!J->ss[i]) continue;
      gb_run u = {&c->v, gb_col(&c->v, b, ag->col), ag->col2 >= 0 ? gb_col(&c->v, b, ag->col2) : NULL,
                  lo, len, r0, 0, NULL, idx};
      st = update(ag, J->st[i] + (size_t)blk * (size_t)H * J->ss[i], &u, ctx->err);
    }
  });
  return st;
}

/* Combines handles [start_row, end_row) over the blocks in block order. */
static gf_status blk_combine_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  blk_job *J = user;
  int64_t H = J->H;
  for (int64_t h = ch->start_row; h < ch->end_row; h++) {
    int64_t tot = 0, fr = -1;
    for (int64_t blk = 0; blk < J->nblocks; blk++) {
      int64_t k = J->cnt[blk * H + h];
      if (k && fr < 0) fr = blk * GF_REDUCTION_BLOCK_ROWS + J->first[blk * H + h];
      tot += k;
    }
    J->tot[h] = tot;
    J->hfirst[h] = fr;
    for (int i = 0; i < J->naggs; i++) {
      gb_agg *ag = &J->aggs[i];
      size_t ss = J->ss[i];
      _Alignas(16) char acc[sizeof(st_corr)];
      state_init(ag, acc, 1);
      for (int64_t blk = 0; blk < J->nblocks && ss; blk++) {
        if (!J->cnt[blk * H + h]) continue;
        GF_RETURN_NOT_OK(combine(ag, &J->c->v, acc, J->st[i] + ((size_t)blk * (size_t)H + (size_t)h) * ss,
                                 ctx->err));
      }
      finalize(ag, h, acc, tot);
    }
  }
  return GF_OK;
}

gf_status gfi_gb_agg_blocks(gb_ctx *c, gb_groups *g, gb_agg *aggs, int naggs, int64_t **order,
                        gf_error *err) {
  const gf_allocator *a = c->a;
  blk_job J;
  memset(&J, 0, sizeof J);
  J.c = c;
  J.g = g;
  J.aggs = aggs;
  J.naggs = naggs;
  J.H = g->direct ? g->nslots : g->ngroups;
  J.nblocks = gf_reduction_blocks(c->v.n);
  int64_t H = J.H, nb = J.nblocks;
  size_t cells = (size_t)(H ? H : 1) * (size_t)(nb ? nb : 1);
  int nst = naggs ? naggs : 1;
  /* Per-block partial states: arena scratch (exec/arena.h). */
  J.cnt = gfi_scratch_alloc(a, sizeof *J.cnt * cells);
  J.first = gfi_scratch_alloc(a, sizeof *J.first * cells);
  J.st = gfi_calloc(a, sizeof *J.st * (size_t)nst);
  J.ss = gfi_calloc(a, sizeof *J.ss * (size_t)nst);
  J.tot = gfi_malloc(a, sizeof *J.tot * (size_t)(H ? H : 1));
  J.hfirst = gfi_malloc(a, sizeof *J.hfirst * (size_t)(H ? H : 1));
  gf_chunk_spec *ranges = NULL;
  int64_t nranges = 0;
  uint64_t *pairs = NULL;
  int64_t G = 0;
  gf_status st = GF_OK;
  if (!J.cnt || !J.first || !J.st || !J.ss || !J.tot || !J.hfirst) st = GF_OOM(err, "group-by partial states");
  for (int i = 0; i < naggs && st == GF_OK; i++) {
    J.ss[i] = state_size(&aggs[i]);
    if (J.ss[i]) {
      J.st[i] = gfi_scratch_alloc(a, J.ss[i] * cells);
      if (!J.st[i]) st = GF_OOM(err, "group-by partial states");
    }
    if (st == GF_OK) st = gfi_gb_agg_alloc_results(&aggs[i], H, a, err);
  }
  if (st == GF_OK) st = gf_parallel_for(c->v.n, 16, true, blk_kernel, &J, c->po, err);
  if (st == GF_OK) {
    nranges = H / 4096 + 1;
    ranges = gfi_malloc(a, sizeof *ranges * (size_t)nranges);
    if (!ranges) st = GF_OOM(err, "group-by combine ranges");
  }
  if (st == GF_OK) {
    for (int64_t i = 0; i < nranges; i++) {
      ranges[i].start_row = H * i / nranges;
      ranges[i].end_row = H * (i + 1) / nranges;
      ranges[i].chunk_id = i;
    }
    st = gf_run_chunks(ranges, nranges, blk_combine_kernel, &J, c->po, err);
  }
  if (st == GF_OK && g->direct) {
    /* Groups = slots with rows, ordered by first row. */
    for (int64_t h = 0; h < H; h++) G += J.tot[h] > 0;
    bool whole = c->nkeys == 0 && G == 0;
    if (whole) G = 1;
    /* ngroups first: the caller frees order and first_row with that size
     * (arena scratch must be given back with the size it was taken with). */
    g->ngroups = G;
    pairs = gfi_malloc(a, sizeof *pairs * (size_t)(G ? G : 1));
    *order = gfi_scratch_alloc(a, sizeof **order * (size_t)(G ? G : 1));
    g->first_row = gfi_scratch_alloc(a, sizeof *g->first_row * (size_t)(G ? G : 1));
    if (!pairs || !*order || !g->first_row) {
      st = GF_OOM(err, "group-by groups");
    } else {
      int64_t i = 0;
      for (int64_t h = 0; h < H; h++)
        if (J.tot[h] > 0) pairs[i++] = ((uint64_t)J.hfirst[h] << 32) | (uint64_t)h;
      if (whole) pairs[i++] = 0;
      g->ngroups = G;
      st = gfi_gb_radix_sort_hi32(pairs, G, a, err);
      for (int64_t k = 0; k < G && st == GF_OK; k++) {
        (*order)[k] = (int64_t)(uint32_t)pairs[k];
        g->first_row[k] = whole ? -1 : (int64_t)(pairs[k] >> 32);
      }
    }
  } else if (st == GF_OK) {
    G = g->ngroups;
    *order = gfi_scratch_alloc(a, sizeof **order * (size_t)(G ? G : 1));
    if (!*order) st = GF_OOM(err, "group-by order");
    else for (int64_t k = 0; k < G; k++) (*order)[k] = k;
  }
  if (st != GF_OK && *order) {
    gfi_scratch_free(a, *order, sizeof **order * (size_t)(G ? G : 1));
    *order = NULL;
  }
  for (int i = 0; i < naggs && J.st; i++)
    if (J.st[i]) gfi_scratch_free(a, J.st[i], J.ss[i] * cells);
  if (J.cnt) gfi_scratch_free(a, J.cnt, sizeof *J.cnt * cells);
  if (J.first) gfi_scratch_free(a, J.first, sizeof *J.first * cells);
  if (J.st) gfi_mfree(a, J.st, sizeof *J.st * (size_t)nst);
  if (J.ss) gfi_mfree(a, J.ss, sizeof *J.ss * (size_t)nst);
  if (J.tot) gfi_mfree(a, J.tot, sizeof *J.tot * (size_t)(H ? H : 1));
  if (J.hfirst) gfi_mfree(a, J.hfirst, sizeof *J.hfirst * (size_t)(H ? H : 1));
  if (ranges) gfi_mfree(a, ranges, sizeof *ranges * (size_t)nranges);
  if (pairs) gfi_mfree(a, pairs, sizeof *pairs * (size_t)(G ? G : 1));
  return st;
}

/* ---- partition path -------------------------------------------------------- */

/* Every task owns a contiguous range of group ids and scans all rows in row
 * order, keeping the rows of its groups: each group sees its values in row
 * order whatever the number of tasks, so the result never depends on it.
 * Scan 1 updates the decomposable states and the top_k slots; only median,
 * quantile and n_unique need scan 2 (per-group value lists).
 * Reads are sequential; the states of a task's groups stay cache-resident
 * for up to ~1e5 groups per task. */
typedef struct part_job {
  gb_ctx *c;
  gb_groups *g;
  gb_agg *aggs;
  int naggs;
  int64_t P;
  int64_t *gstart; /* P + 1 */
} part_job;

/* k-th smallest (0-based) of keys[lo..hi) by quickselect (Hoare, median of
 * three); reorders keys. */
static int64_t select_kth(int64_t *keys, int64_t n, int64_t k) {
  int64_t lo = 0, hi = n - 1;
  while (hi > lo) {
    int64_t mid = lo + (hi - lo) / 2;
    int64_t a = keys[lo], b = keys[mid], c = keys[hi];
    int64_t pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (keys[i] < pivot) i++;
      while (keys[j] > pivot) j--;
      if (i <= j) {
        int64_t t = keys[i];
        keys[i] = keys[j];
        keys[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return keys[k];
  }
  return keys[k];
}

static double key_to_double(int64_t k, int vc) {
  switch (vc) {
    case GB_VC_FLOAT: return gfi_f64_from_total_key(k);
    case GB_VC_U64: return (double)((uint64_t)k ^ UINT64_C(0x8000000000000000));
    default: return (double)k;
  }
}

/* numpy 'linear' quantile of m keys (reordered). */
static double quantile_keys(int64_t *keys, int64_t m, double q, int vc) {
  double pos = q * (double)(m - 1);
  int64_t lo = (int64_t)floor(pos);
  if (lo < 0) lo = 0;
  if (lo > m - 1) lo = m - 1;
  double t = pos - (double)lo;
  double a = key_to_double(select_kth(keys, m, lo), vc);
  if (t <= 0.0 || lo + 1 >= m) return a;
  int64_t hk = keys[lo + 1];
  for (int64_t i = lo + 2; i < m; i++)
    if (keys[i] < hk) hk = keys[i];
  double b = key_to_double(hk, vc), d = b - a;
  return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

static int cmp_i64(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return a < b ? -1 : a > b;
}

/* Keys (order keys, or XXH3 of bytes for strings) and validity of column
 * `col` at rows[0..m) of batch array `arr` (rows global, base = first row
 * of the batch). */
static void load_keys(const gb_agg *ag, const gf_array *arr, const int32_t *rows, int64_t m,
                      int64_t base, int64_t *key, uint8_t *valid) {
  if (!gfi_gb_load_valid(arr, 0, m, rows, base, valid)) memset(valid, 1, (size_t)m);
  if (ag->vc == GB_VC_STR || ag->vc == GB_VC_DEC) {
    for (int64_t q = 0; q < m; q++) {
      int64_t l = 0;
      const uint8_t *p = valid[q] ? gfi_value_bytes(arr, rows[q] - base, &l) : NULL;
      key[q] = p ? (int64_t)gfi_hash_bytes(p, (size_t)l) : 0;
    }
  } else {
    gfi_gb_load_key(arr, 0, m, rows, base, ag->rank, key);
  }
}

/* Rows of [r0, r0+len) whose group is in [g0, g0+ng): rows[] (global) and
 * local group ids; returns their count. */
static int64_t select_rows(const int32_t *rowgid, int64_t r0, int64_t len, int64_t g0, int64_t ng,
                           int32_t *rows, uint32_t *lidx) {
  int64_t m = 0;
  const int32_t *rg = rowgid + r0;
  for (int64_t j = 0; j < len; j++) {
    uint32_t d = (uint32_t)((int64_t)rg[j] - g0);
    rows[m] = (int32_t)(r0 + j);
    lidx[m] = d;
    m += d < (uint64_t)ng;
  }
  return m;
}

/* True for the holistic aggregates that need per-group value lists; top_k
 * instead keeps k fixed slots per group, filled while streaming the rows. */
static bool needs_lists(const gb_agg *ag) {
  return !gfi_gb_agg_decomposable(ag->kind, ag->vc) && ag->kind != GF_AGG_TOP_K;
}

/* Offers value x of global row r to one group's top-k slots (keys tk, rows
 * sr, *n filled): largest first, ties keep row order, as long as each group
 * sees its rows in increasing row order. */
static inline void topk_offer(int64_t *tk, int64_t *sr, int32_t *n, int64_t kk, int64_t x, int64_t r) {
  int64_t n_ = *n;
  if (n_ == kk && x <= tk[kk - 1]) return;
  int64_t at = n_ < kk ? n_ : kk - 1;
  while (at > 0 && tk[at - 1] < x) {
    tk[at] = tk[at - 1];
    sr[at] = sr[at - 1];
    at--;
  }
  tk[at] = x;
  sr[at] = r;
  if (n_ < kk) *n = (int32_t)(n_ + 1);
}

static gf_status part_kernel(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  part_job *J = user;
  gb_ctx *c = J->c;
  const gb_view *v = &c->v;
  const gf_allocator *a = ctx->allocator;
  int64_t p = ch->chunk_id, g0 = J->gstart[p], ng = J->gstart[p + 1] - g0;
  int na = J->naggs;
  if (ng <= 0) return GF_OK;
  bool holistic = false;
  char **st = gfi_calloc(a, sizeof *st * (size_t)(na ? na : 1));
  int64_t **tkey = gfi_calloc(a, sizeof *tkey * (size_t)(na ? na : 1)); /* top_k slot keys */
  int64_t **hkey = gfi_calloc(a, sizeof *hkey * (size_t)(na ? na : 1));
  int64_t **hcur = gfi_calloc(a, sizeof *hcur * (size_t)(na ? na : 1)); /* list ends per group */
  /* Per-partition state is worker scratch (exec/arena.h): a worker's
   * next partition, or the next call, reuses the faulted-in blocks. */
  int64_t *cnt = gfi_scratch_calloc(a, sizeof *cnt * (size_t)(ng + 1));
  int64_t *off = NULL, M = 0;
  gf_status s = GF_OK;
  if (!st || !tkey || !hkey || !hcur || !cnt) s = GF_OOM(ctx->err, "group-by partition state");
  for (int i = 0; i < na && s == GF_OK; i++) {
    gb_agg *ag = &J->aggs[i];
    if (ag->kind == GF_AGG_TOP_K) {
      tkey[i] = gfi_malloc(a, sizeof **tkey * (size_t)ng * (size_t)ag->k);
      if (!tkey[i]) s = GF_OOM(ctx->err, "group-by top_k slots");
      for (int64_t k = 0; k < ng; k++) {
        ag->rcnt[g0 + k] = 0;
        ag->rnull[g0 + k] = -1;
      }
      continue;
    }
    if (needs_lists(ag)) {
      holistic = true;
      continue;
    }
    size_t ss = state_size(ag);
    if (!ss) continue;
    st[i] = gfi_scratch_alloc(a, ss * (size_t)ng);
    if (!st[i]) s = GF_OOM(ctx->err, "group-by partition state");
    else state_init(ag, st[i], ng);
  }
  /* Scan 1: row counts and decomposable aggregates. */
  if (s == GF_OK) {
    GB_FOR_PIECES(v, 0, v->n, {
      if (s == GF_OK) s = gfi_gb_poll(c->po, r0, len, ctx->err);
      if (s != GF_OK) break;
      int32_t rows[SUB];
      uint32_t lidx[SUB];
      int64_t m = select_rows(J->g->rowgid, r0, len, g0, ng, rows, lidx);
      if (!m) continue;
      for (int64_t k = 0; k < m; k++) cnt[lidx[k]]++;
      for (int i = 0; i < na && s == GF_OK; i++) {
        if (!st[i]) continue;
        gb_agg *ag = &J->aggs[i];
        gb_run u = {v, gb_col(v, b, ag->col), ag->col2 >= 0 ? gb_col(v, b, ag->col2) : NULL,
                    0, m, 0, v->boff[b], rows, lidx};
        if (m == len) { /* every row is ours: contiguous loads */
          u.rows = NULL;
          u.start = lo;
          u.row0 = r0;
        }
        s = update(ag, st[i], &u, ctx->err);
      }
      for (int i = 0; i < na && s == GF_OK; i++) {
        if (!tkey[i]) continue;
        gb_agg *ag = &J->aggs[i];
        int64_t key[SUB], kk = ag->k;
        uint8_t valid[SUB];
        load_keys(ag, gb_col(v, b, ag->col), rows, m, v->boff[b], key, valid);
        for (int64_t q = 0; q < m; q++) {
          int64_t h = g0 + lidx[q];
          if (!valid[q]) {
            if (ag->rnull[h] < 0) ag->rnull[h] = rows[q];
            continue;
          }
          topk_offer(tkey[i] + (int64_t)lidx[q] * kk, ag->rrow + h * kk, &ag->rcnt[h], kk, key[q], rows[q]);
        }
      }
    });
  }
  for (int i = 0; i < na && s == GF_OK; i++) {
    gb_agg *ag = &J->aggs[i];
    if (!gfi_gb_agg_decomposable(ag->kind, ag->vc)) continue;
    size_t ss = state_size(ag);
    for (int64_t k = 0; k < ng; k++) finalize(ag, g0 + k, ss ? st[i] + (size_t)k * ss : NULL, cnt[k]);
  }
  if (s == GF_OK && holistic) {
    off = gfi_malloc(a, sizeof *off * (size_t)(ng + 1));
    if (!off) s = GF_OOM(ctx->err, "group-by partition state");
  }
  if (s == GF_OK && holistic) {
    for (int64_t k = 0; k < ng; k++) {
      off[k] = M;
      M += cnt[k];
    }
    off[ng] = M;
    size_t mm = (size_t)(M ? M : 1);
    for (int i = 0; i < na && s == GF_OK; i++) {
      if (!needs_lists(&J->aggs[i])) continue;
      hkey[i] = gfi_malloc(a, sizeof **hkey * mm);
      hcur[i] = gfi_malloc(a, sizeof **hcur * (size_t)ng);
      if (!hkey[i] || !hcur[i]) s = GF_OOM(ctx->err, "group-by value lists");
      else memcpy(hcur[i], off, sizeof **hcur * (size_t)ng);
    }
  }
  /* Scan 2: per-group lists of the non-null value keys, in row order;
   * group k's list is hkey[i][off[k] .. hcur[i][k]). Nulls are dropped
   * here, so every list is used in place (no copy, no validity array). */
  if (s == GF_OK && holistic) {
    GB_FOR_PIECES(v, 0, v->n, {
      if (s == GF_OK) s = gfi_gb_poll(c->po, r0, len, ctx->err);
      if (s != GF_OK) break;
      int32_t rows[SUB];
      uint32_t lidx[SUB];
      int64_t key[SUB];
      uint8_t valid[SUB];
      int64_t m = select_rows(J->g->rowgid, r0, len, g0, ng, rows, lidx);
      if (!m) continue;
      for (int i = 0; i < na; i++) {
        if (!hkey[i]) continue;
        gb_agg *ag = &J->aggs[i];
        int64_t *restrict hk = hkey[i], *restrict cur = hcur[i];
        load_keys(ag, gb_col(v, b, ag->col), rows, m, v->boff[b], key, valid);
        for (int64_t k = 0; k < m; k++)
          if (valid[k]) hk[cur[lidx[k]]++] = key[k];
      }
    });
  }
  for (int i = 0; i < na && s == GF_OK && holistic; i++) {
    gb_agg *ag = &J->aggs[i];
    if (!hkey[i]) continue;
    int64_t done = 0; /* values sorted or selected since the last poll */
    for (int64_t k = 0; k < ng && s == GF_OK; k++) {
      int64_t h = g0 + k, n_ = hcur[i][k] - off[k];
      if ((done += n_ + 1) >= 65536) {
        done = 0;
        s = gfi_gb_poll(c->po, 0, 65536, ctx->err);
        if (s != GF_OK) break;
      }
      int64_t *scratch = hkey[i] + off[k];
      switch (ag->kind) {
        case GF_AGG_MEDIAN:
        case GF_AGG_QUANTILE:
          ag->valid[h] = n_ > 0;
          ag->rf[h] = n_ ? quantile_keys(scratch, n_, ag->kind == GF_AGG_MEDIAN ? 0.5 : ag->q, ag->vc) : 0.0;
          break;
        case GF_AGG_N_UNIQUE: {
          qsort(scratch, (size_t)n_, sizeof *scratch, cmp_i64);
          int64_t d = 0;
          for (int64_t q = 0; q < n_; q++) d += q == 0 || scratch[q] != scratch[q - 1];
          ag->ri[h] = d;
          ag->valid[h] = 1;
          break;
        }
        default: break;
      }
    }
  }
  size_t mm = (size_t)(M ? M : 1);
  for (int i = 0; i < na; i++) {
    if (st && st[i]) gfi_scratch_free(a, st[i], state_size(&J->aggs[i]) * (size_t)ng);
    if (hkey && hkey[i]) gfi_mfree(a, hkey[i], sizeof **hkey * mm);
    if (hcur && hcur[i]) gfi_mfree(a, hcur[i], sizeof **hcur * (size_t)ng);
    if (tkey && tkey[i]) gfi_mfree(a, tkey[i], sizeof **tkey * (size_t)ng * (size_t)J->aggs[i].k);
  }
  if (tkey) gfi_mfree(a, tkey, sizeof *tkey * (size_t)(na ? na : 1));
  if (st) gfi_mfree(a, st, sizeof *st * (size_t)(na ? na : 1));
  if (hkey) gfi_mfree(a, hkey, sizeof *hkey * (size_t)(na ? na : 1));
  if (hcur) gfi_mfree(a, hcur, sizeof *hcur * (size_t)(na ? na : 1));
  if (cnt) gfi_scratch_free(a, cnt, sizeof *cnt * (size_t)(ng + 1));
  if (off) gfi_mfree(a, off, sizeof *off * (size_t)(ng + 1));
  return s;
}

gf_status gfi_gb_agg_partitions(gb_ctx *c, gb_groups *g, gb_agg *aggs, int naggs, gf_error *err) {
  const gf_allocator *a = c->a;
  int64_t G = g->ngroups;
  part_job J;
  memset(&J, 0, sizeof J);
  J.c = c;
  J.g = g;
  J.aggs = aggs;
  J.naggs = naggs;
  J.P = c->workers > 1 ? c->workers : 1;
  if (J.P > G) J.P = G > 0 ? G : 1;
  J.gstart = gfi_malloc(a, sizeof *J.gstart * (size_t)(J.P + 1));
  gf_chunk_spec *tasks = gfi_malloc(a, sizeof *tasks * (size_t)J.P);
  gf_status st = GF_OK;
  if (!J.gstart || !tasks) st = GF_OOM(err, "group-by partitions");
  for (int i = 0; i < naggs && st == GF_OK; i++) st = gfi_gb_agg_alloc_results(&aggs[i], G, a, err);
  if (st == GF_OK) {
    for (int64_t p = 0; p <= J.P; p++) J.gstart[p] = G * p / J.P;
    for (int64_t p = 0; p < J.P; p++) {
      /* Each task reads every row: equal weights. */
      tasks[p].start_row = 0;
      tasks[p].end_row = c->v.n > 0 ? c->v.n : 1;
      tasks[p].chunk_id = p;
    }
    st = gf_run_chunks(tasks, J.P, part_kernel, &J, c->po, err);
  }
  if (J.gstart) gfi_mfree(a, J.gstart, sizeof *J.gstart * (size_t)(J.P + 1));
  if (tasks) gfi_mfree(a, tasks, sizeof *tasks * (size_t)J.P);
  return st;
}
