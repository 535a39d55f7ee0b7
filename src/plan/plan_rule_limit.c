/*
 * Rule: limit pushdown. A limit (offset o, count n) moves
 *  - below a select or with_columns (they work row by row, so computing
 *    them over the first o + n rows gives the same rows);
 *  - into a sort as a top-k of o + n rows (the limit stays on top to cut
 *    the offset; the executor runs sort + limit as gf_sort with a limit);
 *  - into both inputs of a union as a limit of o + n rows (the limit stays
 *    on top);
 *  - into a limit below it (the two merge into one);
 *  - into a CSV scan without a pushed predicate as the rows it needs
 *    (scan_rows; the limit stays on top). The read is cut only when every
 *    column it reads has a pinned type (gfi_csv_scan_cap): the reader's
 *    inference over fewer rows could choose other types (an int column
 *    whose first float is past the cut, a dictionary over fewer values),
 *    and a plan's answer must not depend on the optimizer.
 * Never through filters, group-bys, joins or distinct, which change which
 * rows come first.
 */
#include "plan/plan_internal.h"

static gf_status lim(const gf_plan *p, gf_plan **out, gf_error *err);

/* o + n without overflow. */
static int64_t end_of(int64_t o, int64_t n) { return n > INT64_MAX - o ? INT64_MAX : o + n; }

/* A limit (o, n) over `in` (consumed), pushed down as far as it goes. */
static gf_status place(gf_plan *in, int64_t o, int64_t n, gf_plan **out, gf_error *err) {
  gf_status st = GF_OK;
  if (in->kind == GF_PLAN_SELECT || in->kind == GF_PLAN_WITH) {
    gf_plan *below = NULL;
    st = place(gf_plan_retain(in->in[0]), o, n, &below, err);
    if (st == GF_OK) st = gfi_plan_with_inputs(in, &below, out, err);
    gf_plan_release(below);
    gf_plan_release(in);
    return st;
  }
  if (in->kind == GF_PLAN_LIMIT) {
    /* Rows [o2, o2 + n2) of rows [o1, o1 + n1): one limit. */
    int64_t o1 = in->offset, n1 = in->count;
    int64_t no = end_of(o1, o), nn = n1 - o < 0 ? 0 : (n1 - o < n ? n1 - o : n);
    gf_plan *base = gf_plan_retain(in->in[0]);
    gf_plan_release(in);
    return place(base, no, nn, out, err);
  }
  gf_plan *mid = in;
  if (in->kind == GF_PLAN_SORT && (in->topk == 0 || in->topk > end_of(o, n)) && end_of(o, n) > 0) {
    gf_plan *c = gfi_plan_clone(in);
    if (!c) {
      gf_plan_release(in);
      return GF_OOM(err, "plan node");
    }
    c->topk = end_of(o, n);
    gf_plan_release(in);
    mid = NULL;
    GF_RETURN_NOT_OK(gfi_plan_finish(c, &mid, err));
  } else if (in->kind == GF_PLAN_CSV && !in->pred && end_of(o, n) > 0 &&
             (in->scan_rows == 0 || in->scan_rows > end_of(o, n))) {
    gf_plan *c = gfi_plan_clone(in);
    if (!c) {
      gf_plan_release(in);
      return GF_OOM(err, "plan node");
    }
    c->scan_rows = end_of(o, n);
    gf_plan_release(in);
    mid = NULL;
    GF_RETURN_NOT_OK(gfi_plan_finish(c, &mid, err));
  } else if (in->kind == GF_PLAN_UNION) {
    gf_plan *kids[2] = {NULL, NULL};
    for (int i = 0; i < 2 && st == GF_OK; i++) {
      const gf_plan *k = in->in[i];
      if (k->kind == GF_PLAN_LIMIT && k->offset == 0 && k->count <= end_of(o, n))
        kids[i] = gf_plan_retain((gf_plan *)k);
      else
        st = gf_plan_limit(k, 0, end_of(o, n), &kids[i], err);
    }
    if (st == GF_OK) st = gfi_plan_with_inputs(in, kids, &mid, err);
    for (int i = 0; i < 2; i++) gf_plan_release(kids[i]);
    gf_plan_release(in);
    if (st != GF_OK) return st;
  }
  st = gf_plan_limit(mid, o, n, out, err);
  gf_plan_release(mid);
  return st;
}

/* The plan under p with limits pushed. */
static gf_status lim(const gf_plan *p, gf_plan **out, gf_error *err) {
  gf_plan *in[2] = {NULL, NULL};
  gf_status st = GF_OK;
  for (int i = 0; i < p->nin && st == GF_OK; i++) st = lim(p->in[i], &in[i], err);
  if (st == GF_OK && p->kind == GF_PLAN_LIMIT) {
    st = place(in[0], p->offset, p->count, out, err);
    return st;
  }
  if (st == GF_OK) st = gfi_plan_with_inputs(p, in, out, err);
  for (int i = 0; i < 2; i++) gf_plan_release(in[i]);
  return st;
}

gf_status gfi_rule_limit_pushdown(const gf_plan *p, gf_plan **out, gf_error *err) {
  return lim(p, out, err);
}
