/*
 * Checking a plan node: its output schema from its inputs' schemas.
 *
 * Operators are checked by running the very eager operator the executor
 * will run over a frame of the input schema with no batches: the type
 * rules, name resolution and output naming of the plan are then those of
 * the operators by construction, never a second copy that could drift.
 * No operator touches rows before checking its arguments, and over zero
 * batches the check is all they do.
 */
#include <string.h>

#include "expr/expr_internal.h"
#include "plan/plan_internal.h"

gf_status gfi_plan_empty_frame(const gf_schema *schema, gf_frame **out, gf_error *err) {
  return gf_frame_new((gf_schema *)schema, NULL, 0, NULL, out, err);
}

/* The schema of `f` (retained) into *out, then releases f. */
static gf_status take_schema(gf_status st, gf_frame *f, gf_schema **out) {
  if (st == GF_OK) *out = gf_schema_retain(gf_frame_schema(f));
  gf_frame_release(f);
  return st;
}

/* A predicate: no aggregate call (unless `having`), bool type. */
static gf_status check_predicate(const gf_expr *e, const gf_schema *in, bool having,
                                 gf_error *err) {
  if (having) {
    const gf_expr *agg = gfi_expr_find_aggregate(e);
    if (agg) {
      char *text = gfi_expr_text(agg);
      gf_status st = gf_error_set(err, GF_EINVAL,
                                  "aggregate '%s' is not computed by the group-by: add it to "
                                  "its aggregates (having reads their output columns)",
                                  text ? text : agg->name);
      gf_mem_free(text);
      return st;
    }
  } else {
    const gf_expr *agg = gfi_expr_find_aggregate(e);
    if (agg) {
      char *text = gfi_expr_text(agg);
      gf_status st = gf_error_set(err, GF_EINVAL,
                                  "aggregate '%s' in a filter: aggregates are computed by a "
                                  "group-by; filter on them with having after it",
                                  text ? text : agg->name);
      gf_mem_free(text);
      return st;
    }
  }
  gf_frame *e0 = NULL;
  GF_RETURN_NOT_OK(gfi_plan_empty_frame(in, &e0, err));
  gf_frame *r = NULL;
  gf_status st = gf_filter(e0, e, NULL, &r, err);
  gf_frame_release(r);
  gf_frame_release(e0);
  return st;
}

/* The schema a source delivers: its full schema narrowed to `proj`. */
static gf_status source_schema(const gf_plan *p, gf_schema **out, gf_error *err) {
  gf_frame *e0 = NULL;
  GF_RETURN_NOT_OK(gfi_plan_empty_frame(p->src_schema, &e0, err));
  gf_frame *f = gf_frame_retain(e0);
  gf_status st = GF_OK;
  if (p->nproj >= 0) {
    gf_frame *s = NULL;
    st = gf_select(e0, (const char *const *)p->proj, p->nproj, &s, err);
    gf_frame_release(f);
    f = s;
  }
  gf_frame_release(e0);
  if (st == GF_OK && p->pred) st = check_predicate(p->pred, gf_frame_schema(f), false, err);
  return take_schema(st, f, out);
}

static bool is_sint(gf_type_id t) {
  return t == GF_TYPE_INT8 || t == GF_TYPE_INT16 || t == GF_TYPE_INT32 || t == GF_TYPE_INT64;
}
static bool is_float(gf_type_id t) { return t == GF_TYPE_FLOAT32 || t == GF_TYPE_FLOAT64; }

bool gfi_union_type(gf_datatype a, gf_datatype b, gf_datatype *out) {
  if (gf_type_equals(a, b)) {
    *out = a;
    return true;
  }
  /* Widening as the CSV reader's inference does for numbers: integers of
   * different widths to int64, an integer and a float (or two floats) to
   * float64. Nothing widens to text: a number's text is not unique. */
  if (is_sint(a.id) && is_sint(b.id)) {
    *out = gf_type(GF_TYPE_INT64);
    return true;
  }
  if ((is_sint(a.id) || is_float(a.id)) && (is_sint(b.id) || is_float(b.id))) {
    *out = gf_type(GF_TYPE_FLOAT64);
    return true;
  }
  return false;
}

/* Union by name: a's columns in a's order, then b's columns a lacks in
 * b's order; a column one side lacks is null there (nullable); types
 * unify by gfi_union_type, else GF_ETYPE naming the column and both
 * types. */
static gf_status union_schema(const gf_schema *a, const gf_schema *b, gf_schema **out,
                              gf_error *err) {
  int na = gf_schema_num_fields(a), nb = gf_schema_num_fields(b), n = na;
  for (int j = 0; j < nb; j++)
    if (gf_schema_find(a, gf_schema_field(b, j)->name) < 0) n++;
  gf_field *fields = gfi_calloc(NULL, sizeof *fields * (size_t)(n > 0 ? n : 1));
  if (!fields) return GF_OOM(err, "union schema");
  gf_status st = GF_OK;
  int k = 0;
  for (int i = 0; i < na && st == GF_OK; i++) {
    const gf_field *fa = gf_schema_field(a, i);
    int j = gf_schema_find(b, fa->name);
    fields[k] = *fa;
    if (j < 0) {
      fields[k++].nullable = true;
      continue;
    }
    const gf_field *fb = gf_schema_field(b, j);
    if (!gfi_union_type(fa->type, fb->type, &fields[k].type)) {
      char ta[64], tb[64];
      st = gf_error_set(err, GF_ETYPE,
                        "union: column '%.300s' is %s in the first input and %s in the second, "
                        "with no common type (integers and floats widen to int64 / float64; "
                        "cast one side with with_columns)",
                        fa->name, gf_type_format(fa->type, ta, sizeof ta),
                        gf_type_format(fb->type, tb, sizeof tb));
      break;
    }
    fields[k++].nullable = fa->nullable || fb->nullable;
  }
  for (int j = 0; j < nb && st == GF_OK; j++) {
    const gf_field *fb = gf_schema_field(b, j);
    if (gf_schema_find(a, fb->name) >= 0) continue;
    fields[k] = *fb;
    fields[k++].nullable = true;
  }
  if (st == GF_OK) st = gf_schema_new(fields, n, out, err);
  gfi_mfree(NULL, fields, sizeof *fields * (size_t)(n > 0 ? n : 1));
  return st;
}

gf_status gfi_plan_derive_schema(const gf_plan *p, gf_schema **out, gf_error *err) {
  switch (p->kind) {
  case GF_PLAN_FRAME:
  case GF_PLAN_CSV:
  case GF_PLAN_IPC:
  case GF_PLAN_STREAM:
  case GF_PLAN_FILES:
  case GF_PLAN_PARQUET:
    return source_schema(p, out, err);
  case GF_PLAN_UNION:
    return union_schema(p->in[0]->schema, p->in[1]->schema, out, err);
  case GF_PLAN_LIMIT:
    *out = gf_schema_retain(p->in[0]->schema);
    return GF_OK;
  default:
    break;
  }
  const gf_schema *in = p->in[0]->schema;
  if (p->kind == GF_PLAN_HAVING) {
    const gf_plan *g = p->in[0];
    while (g->kind == GF_PLAN_HAVING) g = g->in[0];
    if (g->kind != GF_PLAN_GROUP_BY)
      return gf_error_set(err, GF_EINVAL, "having must follow a group_by (its input is %s)",
                          gf_plan_kind_name(g->kind));
  }
  gf_frame *e0 = NULL, *r = NULL, *e1 = NULL;
  GF_RETURN_NOT_OK(gfi_plan_empty_frame(in, &e0, err));
  gf_status st = GF_OK;
  switch (p->kind) {
  case GF_PLAN_FILTER:
  case GF_PLAN_HAVING:
    st = check_predicate(p->exprs[0], in, p->kind == GF_PLAN_HAVING, err);
    if (st == GF_OK) r = gf_frame_retain(e0);
    break;
  case GF_PLAN_WITH:
    for (int i = 0; i < p->nexprs && st == GF_OK; i++) {
      const gf_expr *agg = gfi_expr_find_aggregate(p->exprs[i]);
      if (agg) {
        char *text = gfi_expr_text(agg);
        st = gf_error_set(err, GF_EINVAL,
                          "aggregate '%s' in computed column '%.200s': aggregates are computed "
                          "by a group-by",
                          text ? text : agg->name, p->names[i]);
        gf_mem_free(text);
      }
    }
    if (st == GF_OK)
      st = gf_with_columns(e0, (const char *const *)p->names, p->exprs, p->nnames, NULL, &r, err);
    break;
  case GF_PLAN_SELECT:
    st = gf_select(e0, (const char *const *)p->names, p->nnames, &r, err);
    break;
  case GF_PLAN_GROUP_BY: {
    gf_groupby_options go;
    gf_groupby_options_init(&go);
    go.sort_keys = p->sort_keys;
    if (p->aggs)
      st = gf_group_by_list(e0, (const char *const *)p->names, p->nnames, p->aggs, &go, &r, err);
    else
      st = gf_group_by(e0, (const char *const *)p->names, p->nnames, NULL, 0, &go, &r, err);
    break;
  }
  case GF_PLAN_JOIN: {
    st = gfi_plan_empty_frame(p->in[1]->schema, &e1, err);
    gf_join_options jo;
    gf_join_options_init(&jo);
    jo.suffix = p->suffix;
    if (st == GF_OK)
      st = gf_join(e0, e1, (const char *const *)p->names, (const char *const *)p->names2,
                   p->nnames, p->how, &jo, &r, err);
    break;
  }
  case GF_PLAN_SORT:
    if (p->topk < 0) st = gf_error_set(err, GF_EINVAL, "negative top-k");
    else st = gf_sort(e0, p->keys, p->nkeys, 0, NULL, &r, err);
    break;
  case GF_PLAN_DISTINCT:
    st = gf_distinct(e0, (const char *const *)p->names, p->nnames, NULL, &r, err);
    break;
  default:
    st = gf_error_set(err, GF_EINVAL, "unknown plan node kind %d", (int)p->kind);
    break;
  }
  gf_frame_release(e0);
  gf_frame_release(e1);
  return take_schema(st, r, out);
}
