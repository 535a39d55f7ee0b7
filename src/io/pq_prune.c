/* Row-group pruning by column statistics. A row group is skipped only when
 * its statistics prove that no row satisfies the predicate, under the
 * evaluator's semantics (a null never satisfies a comparison; NaN compares
 * false with <, <=, =, >=, > and true with !=). The format's rules:
 * min_value/max_value are used when present (truncated string bounds are
 * still bounds); the deprecated min/max only for signed-sorted physical
 * types (signed integers, floats), never for byte arrays or unsigned
 * integers; INT96 and decimals are not pruned; a NaN bound prunes nothing;
 * -0.0 and +0.0 bounds compare equal to either zero (PARQUET-1222), which
 * a numeric comparison gives. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_internal.h"
#include "io/pq_read_internal.h"

gf_status gfi_pq_prune(const pq_column *cols, int ncols, const gfi_pq_file_meta *meta,
                       const gf_expr *pred, bool *keep, gf_error *err);
gf_status gfi_pq_prune_pages(const uint8_t *data, size_t len, const pq_column *cols, int ncols,
                             const int *pc, int npc, const gfi_pq_row_group *rg,
                             const gf_expr *pred, const gf_allocator *a, int64_t **cand,
                             int64_t *ncand, gf_error *err);

typedef enum { MAYBE = 0, NEVER = 1 } verdict;

/* A bound or literal: a number (exact in long double for 64-bit ints) or
 * bytes. */
typedef struct pval {
  bool bytes;
  long double n;
  bool is_float; /* the number came from a float or double */
  const uint8_t *p;
  size_t len;
} pval;

typedef struct pctx {
  const pq_column *cols;
  int ncols;
  const gfi_pq_row_group *rg;
} pctx;

static const pq_column *find_col(const pctx *c, const char *name) {
  for (int i = 0; i < c->ncols; i++)
    if (c->cols[i].name && c->cols[i].el && !strcmp(c->cols[i].name, name) && c->cols[i].phys >= 0 &&
        (c->cols[i].type.id != GF_TYPE_NULL))
      return &c->cols[i];
  return NULL;
}

static bool is_unsigned(gf_type_id id) {
  return id == GF_TYPE_UINT8 || id == GF_TYPE_UINT16 || id == GF_TYPE_UINT32 || id == GF_TYPE_UINT64;
}

/* Decodes a statistics value of column `c` into *v; false when unusable. */
static bool decode_stat(const pq_column *c, const tr_bytes *b, pval *v) {
  memset(v, 0, sizeof *v);
  gf_type_id id = gf_type_value(c->type).id;
  switch (c->phys) {
  case GFI_PQ_INT32: {
    if (b->len != 4) return false;
    uint32_t u = (uint32_t)b->p[0] | (uint32_t)b->p[1] << 8 | (uint32_t)b->p[2] << 16 |
                 (uint32_t)b->p[3] << 24;
    v->n = is_unsigned(id) ? (long double)u : (long double)(int32_t)u;
    return true;
  }
  case GFI_PQ_INT64: {
    if (b->len != 8) return false;
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--) u = u << 8 | b->p[i];
    v->n = is_unsigned(id) ? (long double)u : (long double)(int64_t)u;
    return true;
  }
  case GFI_PQ_FLOAT: {
    if (b->len != 4) return false;
    float f;
    memcpy(&f, b->p, 4);
    if (isnan(f)) return false;
    v->n = f;
    v->is_float = true;
    return true;
  }
  case GFI_PQ_DOUBLE: {
    if (b->len != 8) return false;
    double d;
    memcpy(&d, b->p, 8);
    if (isnan(d)) return false;
    v->n = d;
    v->is_float = true;
    return true;
  }
  case GFI_PQ_BYTE_ARRAY:
    v->bytes = true;
    v->p = b->p;
    v->len = b->len;
    return true;
  default:
    return false;
  }
}

/* Whether the column's statistics may be pruned on at all. */
static bool prunable(const pq_column *c) {
  if (c->conv == PQ_CV_DEC || c->conv == PQ_CV_INT96 || c->conv == PQ_CV_BOOL ||
      c->conv == PQ_CV_F16 || c->conv == PQ_CV_FLBA)
    return false;
  gf_type_id id = gf_type_value(c->type).id;
  if (c->conv == PQ_CV_BYTES) return id == GF_TYPE_UTF8 || id == GF_TYPE_LARGE_UTF8;
  /* Integers, floats, date32; timestamps and times compare with literals
   * of other units in the binder, so they are left alone. */
  return id != GF_TYPE_TIMESTAMP && id != GF_TYPE_TIME32 && id != GF_TYPE_TIME64 &&
         id != GF_TYPE_DURATION && id != GF_TYPE_DATE64;
}

/* min/max of column c in the row group; false when unknown. */
static bool bounds(const pctx *x, const pq_column *c, pval *lo, pval *hi) {
  const gfi_pq_column_chunk *cc = (const gfi_pq_column_chunk *)x->rg->columns.items + c->leaf;
  const gfi_pq_column_meta *m = &cc->meta;
  if (!tr_isset(m, 12)) return false;
  const gfi_pq_statistics *s = &m->statistics;
  if (tr_isset(s, 5) && tr_isset(s, 6))
    return decode_stat(c, &s->min_value, lo) && decode_stat(c, &s->max_value, hi);
  /* Deprecated fields: written with signed comparison. */
  if (tr_isset(s, 1) && tr_isset(s, 2) && c->sort_signed &&
      (c->phys == GFI_PQ_INT32 || c->phys == GFI_PQ_INT64 || c->phys == GFI_PQ_FLOAT ||
       c->phys == GFI_PQ_DOUBLE))
    return decode_stat(c, &s->min, lo) && decode_stat(c, &s->max, hi);
  return false;
}

/* True when every row of the chunk is null (null_count known). */
static bool all_null(const pctx *x, const pq_column *c) {
  const gfi_pq_column_chunk *cc = (const gfi_pq_column_chunk *)x->rg->columns.items + c->leaf;
  const gfi_pq_column_meta *m = &cc->meta;
  return tr_isset(m, 12) && tr_isset(&m->statistics, 3) &&
         m->statistics.null_count == x->rg->num_rows && x->rg->num_rows > 0;
}

static bool no_null(const pctx *x, const pq_column *c) {
  const gfi_pq_column_chunk *cc = (const gfi_pq_column_chunk *)x->rg->columns.items + c->leaf;
  const gfi_pq_column_meta *m = &cc->meta;
  return c->max_def == 0 ||
         (tr_isset(m, 12) && tr_isset(&m->statistics, 3) && m->statistics.null_count == 0);
}

/* Three-way comparison of a bound and a literal of the same kind. When a
 * number is compared in two precisions (an integer column against a
 * float literal, which the evaluator compares as doubles), *unsure is set
 * if they disagree. */
static int cmp(const pval *a, const pval *b, bool *unsure) {
  if (a->bytes) {
    size_t n = a->len < b->len ? a->len : b->len;
    int r = n ? memcmp(a->p, b->p, n) : 0;
    if (r) return r < 0 ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len;
  }
  int exact = a->n < b->n ? -1 : a->n > b->n;
  double da = (double)a->n, db = (double)b->n;
  int dbl = da < db ? -1 : da > db;
  if (exact != dbl) *unsure = true;
  return exact;
}

/* The literal as a pval for column c; false when not comparable. */
static bool lit_value(const pq_column *c, const gfi_lit *l, pval *v) {
  memset(v, 0, sizeof *v);
  if (l->null || l->type.id == GF_TYPE_NULL) return false;
  gf_type_id id = gf_type_value(c->type).id;
  if (c->conv == PQ_CV_BYTES) {
    if (l->type.id != GF_TYPE_UTF8) return false;
    v->bytes = true;
    v->p = (const uint8_t *)l->s;
    v->len = (size_t)l->len;
    return true;
  }
  if (id == GF_TYPE_DATE32) {
    if (l->type.id != GF_TYPE_DATE32) return false;
    v->n = (long double)l->i;
    return true;
  }
  if (l->type.id == GF_TYPE_INT64) {
    v->n = (long double)l->i;
    return true;
  }
  if (l->type.id == GF_TYPE_FLOAT64) {
    if (isnan(l->f)) return false;
    v->n = l->f;
    v->is_float = true;
    return true;
  }
  return false;
}

static gf_op flip(gf_op op) {
  switch (op) {
  case GF_OP_LT: return GF_OP_GT;
  case GF_OP_LE: return GF_OP_GE;
  case GF_OP_GT: return GF_OP_LT;
  case GF_OP_GE: return GF_OP_LE;
  default: return op;
  }
}

static gf_op negate(gf_op op) {
  switch (op) {
  case GF_OP_LT: return GF_OP_GE;
  case GF_OP_LE: return GF_OP_GT;
  case GF_OP_GT: return GF_OP_LE;
  case GF_OP_GE: return GF_OP_LT;
  case GF_OP_EQ: return GF_OP_NE;
  default: return GF_OP_EQ;
  }
}

static bool is_cmp(gf_op op) {
  return op == GF_OP_EQ || op == GF_OP_NE || op == GF_OP_LT || op == GF_OP_LE ||
         op == GF_OP_GT || op == GF_OP_GE;
}

/* col op lit. */
static verdict compare(const pctx *x, const pq_column *c, gf_op op, const gfi_lit *l) {
  if (all_null(x, c)) return NEVER; /* a null satisfies no comparison */
  if (!prunable(c)) return MAYBE;
  pval v, lo, hi;
  if (!lit_value(c, l, &v) || !bounds(x, c, &lo, &hi)) return MAYBE;
  bool unsure = false;
  int cl = cmp(&lo, &v, &unsure), ch = cmp(&hi, &v, &unsure);
  if (unsure) return MAYBE;
  bool is_float = lo.is_float;
  switch (op) {
  case GF_OP_EQ: return cl > 0 || ch < 0 ? NEVER : MAYBE;
  case GF_OP_LT: return cl >= 0 ? NEVER : MAYBE;
  case GF_OP_LE: return cl > 0 ? NEVER : MAYBE;
  case GF_OP_GT: return ch <= 0 ? NEVER : MAYBE;
  case GF_OP_GE: return ch < 0 ? NEVER : MAYBE;
  case GF_OP_NE:
    /* NaN != v is true and NaNs are not in the bounds; byte-array bounds
     * may be truncated: only exact integer bounds prove all rows equal. */
    return !is_float && !lo.bytes && cl == 0 && ch == 0 ? NEVER : MAYBE;
  default: return MAYBE;
  }
}

static verdict eval(const pctx *x, const gf_expr *e, bool negated, int depth);

/* A comparison node (either side may be the column). */
static verdict eval_cmp(const pctx *x, gf_op op, const gf_expr *a, const gf_expr *b, bool negated) {
  if (a->kind == GF_EXPR_LITERAL && b->kind == GF_EXPR_COLUMN) {
    const gf_expr *t = a;
    a = b;
    b = t;
    op = flip(op);
  }
  if (a->kind != GF_EXPR_COLUMN || b->kind != GF_EXPR_LITERAL) return MAYBE;
  const pq_column *c = find_col(x, a->name);
  if (!c) return MAYBE;
  if (negated) {
    /* not (x < v) is x >= v except for NaN, which satisfies the former. */
    if (c->conv == PQ_CV_F32 || c->conv == PQ_CV_F64) return MAYBE;
    op = negate(op);
  }
  return compare(x, c, op, &b->lit);
}

static verdict eval(const pctx *x, const gf_expr *e, bool negated, int depth) {
  if (depth > 64) return MAYBE;
  switch (e->kind) {
  case GF_EXPR_BINARY: {
    if (e->op == GF_OP_AND || e->op == GF_OP_OR) {
      /* De Morgan holds in Kleene logic: not(a and b) = not a or not b. */
      bool conj = (e->op == GF_OP_AND) != negated;
      verdict va = eval(x, e->args[0], negated, depth + 1);
      if (conj && va == NEVER) return NEVER;
      verdict vb = eval(x, e->args[1], negated, depth + 1);
      if (conj) return vb;
      return va == NEVER && vb == NEVER ? NEVER : MAYBE;
    }
    if (is_cmp(e->op)) return eval_cmp(x, e->op, e->args[0], e->args[1], negated);
    return MAYBE;
  }
  case GF_EXPR_UNARY:
    if (e->op == GF_OP_NOT) return eval(x, e->args[0], !negated, depth + 1);
    return MAYBE;
  case GF_EXPR_BETWEEN: {
    if (negated || e->args[0]->kind != GF_EXPR_COLUMN) return MAYBE;
    if (eval_cmp(x, GF_OP_GE, e->args[0], e->args[1], false) == NEVER) return NEVER;
    return eval_cmp(x, GF_OP_LE, e->args[0], e->args[2], false);
  }
  case GF_EXPR_IN: {
    if (negated || e->args[0]->kind != GF_EXPR_COLUMN || e->nargs > 65) return MAYBE;
    for (int i = 1; i < e->nargs; i++)
      if (eval_cmp(x, GF_OP_EQ, e->args[0], e->args[i], false) != NEVER) return MAYBE;
    return NEVER;
  }
  case GF_EXPR_CALL: {
    if (e->nargs != 1 || e->args[0]->kind != GF_EXPR_COLUMN) return MAYBE;
    const pq_column *c = find_col(x, e->args[0]->name);
    if (!c) return MAYBE;
    bool isnull = !strcmp(e->name, "is_null");
    if (!isnull && strcmp(e->name, "is_not_null")) return MAYBE;
    if (negated) isnull = !isnull;
    if (isnull) return no_null(x, c) ? NEVER : MAYBE;
    return all_null(x, c) ? NEVER : MAYBE;
  }
  case GF_EXPR_LITERAL:
    /* where false / where null */
    if (!negated && (e->lit.null || e->lit.type.id == GF_TYPE_NULL)) return NEVER;
    if (e->lit.type.id == GF_TYPE_BOOL && !e->lit.null) return (e->lit.i != 0) == negated ? NEVER : MAYBE;
    return MAYBE;
  default:
    return MAYBE;
  }
}

gf_status gfi_pq_prune(const pq_column *cols, int ncols, const gfi_pq_file_meta *meta,
                       const gf_expr *pred, bool *keep, gf_error *err) {
  (void)err;
  const gfi_pq_row_group *rg = meta->row_groups.items;
  for (int r = 0; r < meta->row_groups.n; r++) {
    pctx x = {cols, ncols, &rg[r]};
    keep[r] = eval(&x, pred, false, 0) != NEVER;
  }
  return GF_OK;
}

/* ---- page-level pruning (the page index) ------------------------------ */

/* One predicate column's page index in a row group, when usable. */
typedef struct pidx {
  const pq_column *c;
  int npages;
  const bool *null_page;
  const tr_bytes *mins, *maxs;
  const int64_t *nulls; /* NULL when not written */
  const gfi_pq_page_location *loc;
} pidx;

/* Decodes and checks column c's page index in row group rg; false (no
 * pruning by it, not an error: the index is optional) when missing or
 * inconsistent. */
static bool load_pidx(const uint8_t *data, size_t len, const pq_column *c,
                      const gfi_pq_row_group *rg, tr_arena *ar, pidx *out) {
  const gfi_pq_column_chunk *cc = (const gfi_pq_column_chunk *)rg->columns.items + c->leaf;
  if (!tr_isset(cc, 4) || !tr_isset(cc, 5) || !tr_isset(cc, 6) || !tr_isset(cc, 7)) return false;
  if (cc->offset_index_offset < 0 || cc->offset_index_length <= 0 || cc->column_index_offset < 0 ||
      cc->column_index_length <= 0 || (uint64_t)cc->offset_index_offset > len ||
      (uint64_t)cc->offset_index_length > len - (uint64_t)cc->offset_index_offset ||
      (uint64_t)cc->column_index_offset > len ||
      (uint64_t)cc->column_index_length > len - (uint64_t)cc->column_index_offset)
    return false;
  gfi_pq_column_index ci;
  gfi_pq_offset_index oi;
  gf_error e;
  if (gfi_pq_decode_column_index(data + cc->column_index_offset, (size_t)cc->column_index_length,
                                 (size_t)cc->column_index_offset, &ci, ar, &e) != GF_OK ||
      gfi_pq_decode_offset_index(data + cc->offset_index_offset, (size_t)cc->offset_index_length,
                                 (size_t)cc->offset_index_offset, &oi, ar, &e) != GF_OK)
    return false;
  int n = oi.page_locations.n;
  if (n < 1 || ci.null_pages.n != n || ci.min_values.n != n || ci.max_values.n != n ||
      (tr_isset(&ci, 5) && ci.null_counts.n != n))
    return false;
  const gfi_pq_page_location *loc = oi.page_locations.items;
  for (int i = 0; i < n; i++)
    if (!tr_isset(&loc[i], 3) || (i == 0 ? loc[i].first_row_index != 0
                                          : loc[i].first_row_index <= loc[i - 1].first_row_index) ||
        loc[i].first_row_index >= rg->num_rows)
      return false;
  out->c = c;
  out->npages = n;
  out->null_page = ci.null_pages.items;
  out->mins = ci.min_values.items;
  out->maxs = ci.max_values.items;
  out->nulls = tr_isset(&ci, 5) ? ci.null_counts.items : NULL;
  out->loc = loc;
  return true;
}

/* Ascending int64 comparison for qsort. */
static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

gf_status gfi_pq_prune_pages(const uint8_t *data, size_t len, const pq_column *cols, int ncols,
                             const int *pc, int npc, const gfi_pq_row_group *rg,
                             const gf_expr *pred, const gf_allocator *a, int64_t **cand,
                             int64_t *ncand, gf_error *err) {
  *cand = NULL;
  *ncand = rg->num_rows;
  tr_arena ar;
  gfi_tr_arena_init(&ar, a);
  pidx *px = gfi_calloc(a, gfi_at_least_1((size_t)npc) * sizeof *px);
  gf_status st = px ? GF_OK : GF_OOM(err, "the page index");
  int nx = 0;
  int64_t nb = 0;
  for (int j = 0; st == GF_OK && j < npc; j++)
    if (load_pidx(data, len, &cols[pc[j]], rg, &ar, &px[nx])) nb += px[nx++].npages;
  int64_t *starts = NULL;
  bool *excl = NULL;
  gfi_pq_column_chunk *cc2 = NULL;
  size_t ncc = (size_t)rg->columns.n;
  int64_t nseg = 0;
  if (st == GF_OK && nx > 0) {
    starts = gfi_malloc(a, (size_t)nb * sizeof *starts);
    excl = gfi_calloc(a, (size_t)nb * sizeof *excl);
    cc2 = gfi_malloc(a, gfi_at_least_1(ncc) * sizeof *cc2);
    if (!starts || !excl || !cc2) st = GF_OOM(err, "the page index");
  }
  if (st == GF_OK && nx > 0) {
    /* Segments: the rows between consecutive page starts of any of the
     * predicate's columns, so each column has one page over each. */
    for (int j = 0; j < nx; j++)
      for (int i = 0; i < px[j].npages; i++) starts[nseg++] = px[j].loc[i].first_row_index;
    qsort(starts, (size_t)nseg, sizeof *starts, cmp_i64);
    int64_t u = 0;
    for (int64_t i = 0; i < nseg; i++)
      if (!u || starts[i] != starts[u - 1]) starts[u++] = starts[i];
    nseg = u;
    memcpy(cc2, rg->columns.items, ncc * sizeof *cc2);
    gfi_pq_row_group rg2 = *rg;
    rg2.columns.items = cc2;
    int *page = gfi_calloc(a, (size_t)nx * sizeof *page);
    if (!page) st = GF_OOM(err, "the page index");
    for (int64_t sgi = 0; st == GF_OK && sgi < nseg; sgi++) {
      int64_t s0 = starts[sgi], s1 = sgi + 1 < nseg ? starts[sgi + 1] : rg->num_rows;
      rg2.num_rows = s1 - s0;
      /* Each column's statistics over the segment. A null count is kept
       * only when it is exact for any part of its range: 0, or a null
       * page (all null); bounds of a page or chunk bound any part. */
      for (int k = 0; k < ncols; k++) {
        const pq_column *c = &cols[k];
        if (c->leaf < 0 || (size_t)c->leaf >= ncc) continue;
        gfi_pq_column_meta *m = &cc2[c->leaf].meta;
        const gfi_pq_column_meta *om = &((const gfi_pq_column_chunk *)rg->columns.items)[c->leaf].meta;
        gfi_pq_statistics *t = &m->statistics;
        *t = om->statistics;
        if (tr_isset(t, 3) && t->null_count != 0) t->isset &= ~((uint64_t)1 << 3);
        int j = 0;
        while (j < nx && px[j].c != c) j++;
        if (j == nx) continue;
        while (page[j] + 1 < px[j].npages && px[j].loc[page[j] + 1].first_row_index <= s0) page[j]++;
        int p = page[j];
        memset(t, 0, sizeof *t);
        m->isset |= (uint64_t)1 << 12;
        if (px[j].null_page[p]) {
          t->null_count = rg2.num_rows;
          t->isset |= (uint64_t)1 << 3;
        } else {
          t->min_value = px[j].mins[p];
          t->max_value = px[j].maxs[p];
          t->isset |= (uint64_t)1 << 5 | (uint64_t)1 << 6;
          if (px[j].nulls && px[j].nulls[p] == 0) t->isset |= (uint64_t)1 << 3;
        }
      }
      pctx x = {cols, ncols, &rg2};
      excl[sgi] = eval(&x, pred, false, 0) == NEVER;
    }
    if (page) gfi_mfree(a, page, (size_t)nx * sizeof *page);
  }
  /* The candidate rows, when some segment was excluded. */
  int64_t keep = 0;
  bool any = false;
  for (int64_t i = 0; st == GF_OK && i < nseg; i++) {
    int64_t s1 = i + 1 < nseg ? starts[i + 1] : rg->num_rows;
    if (excl[i]) any = true;
    else keep += s1 - starts[i];
  }
  if (st == GF_OK && any) {
    *cand = gfi_malloc(a, gfi_at_least_1((size_t)keep) * sizeof **cand);
    if (!*cand) st = GF_OOM(err, "the rows the page index keeps");
  }
  if (st == GF_OK && any) {
    int64_t w = 0;
    for (int64_t i = 0; i < nseg; i++) {
      int64_t s1 = i + 1 < nseg ? starts[i + 1] : rg->num_rows;
      if (!excl[i])
        for (int64_t r = starts[i]; r < s1; r++) (*cand)[w++] = r;
    }
    *ncand = keep;
  }
  if (starts) gfi_mfree(a, starts, (size_t)nb * sizeof *starts);
  if (excl) gfi_mfree(a, excl, (size_t)nb * sizeof *excl);
  if (cc2) gfi_mfree(a, cc2, gfi_at_least_1(ncc) * sizeof *cc2);
  if (px) gfi_mfree(a, px, gfi_at_least_1((size_t)npc) * sizeof *px);
  gfi_tr_arena_free(&ar);
  return st;
}
