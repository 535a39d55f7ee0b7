/*
 * EXPLAIN: a plan as an indented text tree (format in docs/PLANS.md), and
 * the text table of a run's profile.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "expr/expr_internal.h"
#include "plan/plan_internal.h"

/* Text being built; the first error sticks. */
typedef struct tbuf {
  gfi_vec v;
  gf_status st;
  gf_error *err;
} tbuf;

static void put(tbuf *b, const char *s, size_t n) {
  if (b->st == GF_OK) b->st = gfi_vec_append(&b->v, s, n, b->err);
}
static void puts_(tbuf *b, const char *s) { put(b, s, strlen(s)); }

static void putf(tbuf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void put_expr(tbuf *b, const gf_expr *e) {
  char *t = gfi_expr_text(e);
  if (!t) {
    if (b->st == GF_OK) b->st = GF_OOM(b->err, "explain text");
    return;
  }
  puts_(b, t);
  gf_mem_free(t);
}

static void put_names(tbuf *b, char *const *names, int n) {
  puts_(b, "[");
  for (int i = 0; i < n; i++) {
    if (i) puts_(b, ", ");
    puts_(b, names[i]);
  }
  puts_(b, "]");
}

/* One node's line (without the newline). */
static void node_line(tbuf *b, const gf_plan *p) {
  putf(b, "%d. %s", p->step, gf_plan_kind_name(p->kind));
  switch (p->kind) {
  case GF_PLAN_FRAME:
    putf(b, " rows=%" PRId64, p->frame ? gf_frame_num_rows(p->frame) : (int64_t)0);
    break;
  case GF_PLAN_CSV:
    for (int i = 0; i < p->csv->npaths; i++) {
      puts_(b, i ? ", \"" : " \"");
      puts_(b, p->csv->paths[i]);
      puts_(b, "\"");
    }
    if (gfi_csv_scan_cap(p) > 0) putf(b, " max_rows=%" PRId64, gfi_csv_scan_cap(p));
    break;
  case GF_PLAN_IPC:
    puts_(b, " \"");
    puts_(b, p->ipc->path);
    puts_(b, "\"");
    break;
  case GF_PLAN_PARQUET: {
    puts_(b, " \"");
    puts_(b, p->pq->path);
    puts_(b, "\"");
    int64_t sk = atomic_load(&p->pq->skipped);
    if (sk >= 0) putf(b, " row_groups_skipped=%" PRId64, sk);
    break;
  }
  case GF_PLAN_FILES: {
    char *t = gfi_files_explain(p);
    puts_(b, t ? t : " ?");
    gf_mem_free(t);
    break;
  }
  case GF_PLAN_FILTER:
  case GF_PLAN_HAVING:
    puts_(b, " ");
    put_expr(b, p->exprs[0]);
    break;
  case GF_PLAN_WITH:
    for (int i = 0; i < p->nnames; i++) {
      puts_(b, i ? ", " : " ");
      puts_(b, p->names[i]);
      puts_(b, " = ");
      put_expr(b, p->exprs[i]);
    }
    break;
  case GF_PLAN_SELECT:
    puts_(b, " ");
    put_names(b, p->names, p->nnames);
    break;
  case GF_PLAN_GROUP_BY:
    puts_(b, " keys=");
    put_names(b, p->names, p->nnames);
    if (p->aggs_text) {
      puts_(b, " aggs=[");
      puts_(b, p->aggs_text);
      puts_(b, "]");
    }
    if (p->sort_keys) puts_(b, " sorted");
    break;
  case GF_PLAN_JOIN:
    putf(b, " %s on ", gf_join_kind_name(p->how));
    for (int i = 0; i < p->nnames; i++) {
      if (i) puts_(b, ", ");
      puts_(b, p->names[i]);
      puts_(b, " = ");
      puts_(b, p->names2[i]);
    }
    if (p->suffix) {
      puts_(b, " suffix=");
      puts_(b, p->suffix);
    }
    break;
  case GF_PLAN_SORT:
    for (int i = 0; i < p->nkeys; i++) {
      puts_(b, i ? ", " : " ");
      puts_(b, p->keys[i].column);
      if (p->keys[i].descending) puts_(b, " desc");
      if (p->keys[i].nulls_first) puts_(b, " nulls first");
    }
    if (p->topk > 0) putf(b, " top_k=%" PRId64, p->topk);
    break;
  case GF_PLAN_LIMIT:
    putf(b, " %" PRId64, p->count);
    if (p->offset) putf(b, " offset=%" PRId64, p->offset);
    break;
  case GF_PLAN_DISTINCT:
    if (p->nnames) {
      puts_(b, " ");
      put_names(b, p->names, p->nnames);
    }
    break;
  default:
    break;
  }
  if (p->nin == 0) {
    if (p->nproj >= 0) {
      puts_(b, " columns=");
      put_names(b, p->proj, p->nproj);
    }
    if (p->pred) {
      puts_(b, " predicate=(");
      put_expr(b, p->pred);
      puts_(b, ")");
    }
  }
}

static void put_schema(tbuf *b, const gf_schema *s, int indent) {
  for (int i = 0; i < indent + 3; i++) puts_(b, " ");
  puts_(b, "schema: ");
  for (int i = 0; i < gf_schema_num_fields(s); i++) {
    const gf_field *f = gf_schema_field(s, i);
    char t[64];
    if (i) puts_(b, ", ");
    puts_(b, f->name);
    puts_(b, ": ");
    puts_(b, gf_type_format(f->type, t, sizeof t));
  }
  puts_(b, "\n");
}

/* The tree under p, one line per node, inputs indented two more spaces. */
static void put_tree(tbuf *b, const gf_plan *p, int indent, unsigned flags) {
  for (int i = 0; i < indent; i++) puts_(b, " ");
  node_line(b, p);
  puts_(b, "\n");
  if (flags & GF_PLAN_EXPLAIN_SCHEMA) put_schema(b, p->schema, indent);
  for (int i = 0; i < p->nin; i++) put_tree(b, p->in[i], indent + 2, flags);
}

gf_status gf_plan_explain(const gf_plan *p, unsigned flags, unsigned disabled_rules, char **out,
                          gf_error *err) {
  if (!p || !out) return gf_error_set(err, GF_EINVAL, "gf_plan_explain: NULL argument");
  tbuf b;
  gfi_vec_init_owned(&b.v, NULL);
  b.st = GF_OK;
  b.err = err;
  if (flags & GF_PLAN_EXPLAIN_OPTIMIZED) {
    gf_plan *o = NULL;
    b.st = gf_plan_optimize(p, GF_PLAN_RULES_ALL & ~disabled_rules, &o, err);
    puts_(&b, "== logical plan ==\n");
    put_tree(&b, p, 0, flags);
    puts_(&b, "== optimized plan ==\n");
    if (o) put_tree(&b, o, 0, flags);
    gf_plan_release(o);
  } else {
    put_tree(&b, p, 0, flags);
  }
  if (b.st == GF_OK) b.st = gfi_vec_terminate(&b.v, err);
  if (b.st != GF_OK) {
    gfi_vec_reset(&b.v);
    return b.st;
  }
  *out = gfi_vec_take(&b.v);
  return GF_OK;
}

gf_status gf_plan_profile_format(const gf_plan_profile *p, char **out, gf_error *err) {
  if (!p || !out) return gf_error_set(err, GF_EINVAL, "gf_plan_profile_format: NULL argument");
  tbuf b;
  gfi_vec_init_owned(&b.v, NULL);
  b.st = GF_OK;
  b.err = err;
  putf(&b, "%-4s %-40s %12s %12s %10s %12s %7s\n", "step", "operator", "rows in", "rows out",
       "ms", "peak bytes", "workers");
  for (int i = 0; i < p->nops; i++) {
    const gf_plan_profile_op *op = &p->ops[i];
    if (!op->name) continue;
    char name[41];
    int d = op->depth < 10 ? op->depth : 10;
    snprintf(name, sizeof name, "%*s%s", 2 * d, "", op->name);
    putf(&b, "%-4d %-40s %12" PRId64 " %12" PRId64 " %10.3f %12" PRId64 " %7d\n", op->step, name,
         op->rows_in, op->rows_out, (double)op->wall_ns / 1e6, op->peak_memory, op->workers);
  }
  putf(&b, "total %.3f ms, peak %" PRId64 " bytes\n", (double)p->wall_ns / 1e6, p->peak_memory);
  if (b.st == GF_OK) b.st = gfi_vec_terminate(&b.v, err);
  if (b.st != GF_OK) {
    gfi_vec_reset(&b.v);
    return b.st;
  }
  *out = gfi_vec_take(&b.v);
  return GF_OK;
}
